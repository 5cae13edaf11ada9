/* The set of translation caches of one VT-d unit, shared by the translation
 * pipeline (lookups, fills) and the invalidation engine (removals).
 *
 * inv_epoch counts invalidations applied to any of them. A walk remembers the
 * epoch at its start and fills caches only if it is unchanged when the walk
 * ends: a walk that overlapped an invalidation may complete with what it read
 * (it was in flight; the wait descriptor drains it) but must not leave that
 * possibly stale result behind in a cache. */
#ifndef IMS_VTD_CACHES_H
#define IMS_VTD_CACHES_H

#include <stdint.h>

#include "models/vtd/ctx_cache.h"
#include "models/vtd/iotlb.h"
#include "models/vtd/pasid_cache.h"
#include "models/vtd/psc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ims_vtd_caches {
    ims_ctxc *ctxc;
    ims_pasidc *pasidc;
    ims_iotlb *iotlb;
    ims_psc *psc;
    uint64_t inv_epoch;
    bool cache_nested_ss; /* iotlb.cache_nested_ss */
} ims_vtd_caches;

#ifdef __cplusplus
}
#endif
#endif
