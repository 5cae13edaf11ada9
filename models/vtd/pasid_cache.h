/* The PASID cache: decoded scalable-mode PASID-table entries tagged by
 * (SID, PASID), each carrying the entry's DID (in ctx.did), vtd-facts §5.1.
 * The payload is the complete ims_vtd_ctx the lookup step produced for that
 * (SID, PASID): PGTT, stage roots and levels, SRE/WPE/EAFE, snoop controls.
 *
 * Indexing: set = (PASID xor SID) modulo the number of sets, so the PASIDs of
 * one device and the RID_PASID of many devices both spread over the sets.
 *
 * Invalidation (type 7, vtd-facts §4.8):
 *   G=00 domain-selective          every entry whose DID matches;
 *   G=01 PASID-selective in domain entries whose DID and PASID match;
 *   G=11 global                    everything.
 * Statistics: pasidc.{lookups,hits,misses,inserts,evictions,invalidated}. */
#ifndef IMS_VTD_PASID_CACHE_H
#define IMS_VTD_PASID_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/vtd/iotlb.h" /* IMS_VTD_PASID_MASK */
#include "models/vtd/translate.h"
#include "sim/config.h"
#include "sim/sacache.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ims_pasidc_entry {
    uint16_t sid;
    uint32_t pasid;   /* 20 bits */
    ims_vtd_ctx ctx;  /* ctx.did is the carried DID */
} ims_pasidc_entry;

typedef struct ims_pasidc ims_pasidc;

int ims_pasidc_create(const ims_sac_geom *g, ims_rng *rng, ims_stats *stats, ims_pasidc **out, ims_error *err);
/* From pasidc.entries / .ways / .policy. */
int ims_pasidc_create_cfg(const ims_config *cfg, ims_rng *rng, ims_stats *stats, ims_pasidc **out,
                          ims_error *err);
void ims_pasidc_destroy(ims_pasidc *c);

/* Internal, visible so that the lookup inlines (every scalable-mode
 * translation makes one): the cache engine; key SID << 32 | PASID in one
 * word, set from PASID ^ SID. */
struct ims_pasidc {
    ims_sacache *c;
};

static inline uint64_t ims_pasidc_key(uint16_t sid, uint32_t pasid)
{
    return ((uint64_t)sid << 32) | (pasid & IMS_VTD_PASID_MASK);
}

static inline uint32_t ims_pasidc_set(const ims_pasidc *c, uint16_t sid, uint32_t pasid)
{
    return ims_sac_set_of(c->c, (uint64_t)((pasid & IMS_VTD_PASID_MASK) ^ sid));
}

static inline const ims_pasidc_entry *ims_pasidc_lookup(ims_pasidc *c, uint16_t sid, uint32_t pasid)
{
    return (const ims_pasidc_entry *)ims_sac_lookup1(c->c, ims_pasidc_set(c, sid, pasid),
                                                      ims_pasidc_key(sid, pasid));
}
const ims_pasidc_entry *ims_pasidc_peek(const ims_pasidc *c, uint16_t sid, uint32_t pasid);
/* Returns an IMS_SAC_* insert outcome. */
int ims_pasidc_insert(ims_pasidc *c, const ims_pasidc_entry *e);

size_t ims_pasidc_inv_global(ims_pasidc *c);
size_t ims_pasidc_inv_domain(ims_pasidc *c, uint16_t did);
size_t ims_pasidc_inv_pasid(ims_pasidc *c, uint16_t did, uint32_t pasid);

uint32_t ims_pasidc_count(const ims_pasidc *c);
void ims_pasidc_foreach(const ims_pasidc *c, void (*fn)(const ims_pasidc_entry *e, void *arg), void *arg);
const ims_sacache *ims_pasidc_cache(const ims_pasidc *c);

#ifdef __cplusplus
}
#endif
#endif
