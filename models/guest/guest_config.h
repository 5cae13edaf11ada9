/* Configuration keys of the guest OS model (models/guest). */
#ifndef IMS_GUEST_CONFIG_H
#define IMS_GUEST_CONFIG_H

#include "sim/config.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const ims_cfg_key ims_guest_cfg_keys[];

#ifdef __cplusplus
}
#endif
#endif
