/* Configuration keys of the VT-d translation caches (defined in cache_config.c):
 * entries / ways / policy for iotlb, ctxc, pasidc, psc.fs.l{2..5} and
 * psc.ss.l{2..5}, plus iotlb.cache_nested_ss. Lookup latencies and ports are
 * the timing pipeline's keys, not these. See docs/caches.md. */
#ifndef IMS_VTD_CACHE_CONFIG_H
#define IMS_VTD_CACHE_CONFIG_H

#include <stdbool.h>

#include "sim/config.h"
#include "sim/sacache.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const ims_cfg_key ims_vtd_cache_cfg_keys[];

/* Read "<prefix>.entries", "<prefix>.ways", "<prefix>.policy" (prefix "iotlb",
 * "ctxc", "pasidc", "psc.fs.l2" ...) and check the geometry (ways must divide
 * entries): 0 or -EINVAL with a message naming the keys. */
int ims_vtd_cache_geom(const ims_config *cfg, const char *prefix, ims_sac_geom *g, ims_error *err);

/* iotlb.cache_nested_ss: whether the SS translations made to locate nested
 * first-stage tables are cached in the IOTLB as SS-only entries. */
bool ims_vtd_cache_nested_ss(const ims_config *cfg);

#ifdef __cplusplus
}
#endif
#endif
