/* Configuration keys of the VT-d hardware model (defined in vtd_config.c). */
#ifndef IMS_VTD_CONFIG_H
#define IMS_VTD_CONFIG_H

#include "sim/config.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const ims_cfg_key ims_vtd_cfg_keys[];

#ifdef __cplusplus
}
#endif
#endif
