/* The complete configuration schema: every model's key table, collected at the
 * top of the dependency stack (the run driver) so models never know each other. */
#ifndef IMS_RUN_SCHEMA_H
#define IMS_RUN_SCHEMA_H

#include <stddef.h>

#include "sim/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The tables, in the order sections appear in dumps and docs. */
const ims_cfg_key *const *ims_schema_tables(size_t *count);

/* A configuration with every key at its default (NULL and err set on failure). */
ims_config *ims_schema_config_create(ims_error *err);

#ifdef __cplusplus
}
#endif
#endif
