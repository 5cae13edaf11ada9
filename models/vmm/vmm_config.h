/* Configuration keys of the VMM model (models/vmm). */
#ifndef IMS_VMM_CONFIG_H
#define IMS_VMM_CONFIG_H

#include "sim/config.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const ims_cfg_key ims_vmm_cfg_keys[];

#ifdef __cplusplus
}
#endif
#endif
