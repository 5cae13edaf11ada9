/* The context cache: decoded context entries tagged by source ID
 * (bus:devfn), vtd-facts §5.1. Legacy-mode entries also carry the context
 * entry's DID (in ctx.did), which domain-selective invalidation matches.
 *
 * Payload: the ims_vtd_ctx the lookup step derives from the root and context
 * entries. Legacy mode: complete (DID, PGTT SS or PT, SS root and levels,
 * DTE, FPD). Scalable mode: the context-entry part (FPD, DTE, PRE, RID_PASID
 * in ctx.pasid) plus the fields needed to continue into the PASID table.
 *
 * Indexing: set = SID modulo the number of sets.
 *
 * Invalidation (type 1, vtd-facts §4.2; register CCMD §1.6):
 *   global          everything;
 *   domain (DID)    legacy entries whose DID matches, and EVERY scalable-mode
 *                   entry: scalable context entries have no DID, and hardware
 *                   ignores DID in scalable mode (vtd-facts §4.2, §7.12 ⚠:
 *                   treated as global for those entries, as QEMU does);
 *   device (SID,FM) entries whose SID equals the given SID outside the
 *                   function bits FM masks (FM 0: none, 1: bit 2, 2: bits
 *                   2:1, 3: bits 2:0), whatever their DID.
 * Statistics: ctxc.{lookups,hits,misses,inserts,evictions,invalidated}. */
#ifndef IMS_VTD_CTX_CACHE_H
#define IMS_VTD_CTX_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/vtd/translate.h"
#include "sim/config.h"
#include "sim/sacache.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ims_ctxc_entry {
    uint16_t sid;
    ims_vtd_ctx ctx;       /* ctx.scalable tells the mode; ctx.did is the legacy DID */
    /* scalable mode only */
    uint64_t pasid_dir;    /* PASIDDIRPTR (HPA) */
    uint32_t pasid_limit;  /* PASIDs below this fit the directory (PDTS) */
    bool paside;           /* requests with PASID allowed */
} ims_ctxc_entry;

typedef struct ims_ctxc ims_ctxc;

/* SID bits that CCMD/descriptor FM excludes from the match (vtd-facts §1.6). */
static inline uint16_t ims_ctxc_fm_mask(unsigned fm)
{
    static const uint16_t m[4] = {0x0, 0x4, 0x6, 0x7};
    return m[fm & 3];
}

int ims_ctxc_create(const ims_sac_geom *g, ims_rng *rng, ims_stats *stats, ims_ctxc **out, ims_error *err);
/* From ctxc.entries / .ways / .policy. */
int ims_ctxc_create_cfg(const ims_config *cfg, ims_rng *rng, ims_stats *stats, ims_ctxc **out, ims_error *err);
void ims_ctxc_destroy(ims_ctxc *c);

/* Internal, visible so that the lookup inlines (every translation makes one):
 * the cache engine, key = SID in one word. */
struct ims_ctxc {
    ims_sacache *c;
};

static inline const ims_ctxc_entry *ims_ctxc_lookup(ims_ctxc *c, uint16_t sid)
{
    return (const ims_ctxc_entry *)ims_sac_lookup1(c->c, ims_sac_set_of(c->c, sid), sid);
}
const ims_ctxc_entry *ims_ctxc_peek(const ims_ctxc *c, uint16_t sid);
/* Returns an IMS_SAC_* insert outcome. */
int ims_ctxc_insert(ims_ctxc *c, const ims_ctxc_entry *e);

size_t ims_ctxc_inv_global(ims_ctxc *c);
size_t ims_ctxc_inv_domain(ims_ctxc *c, uint16_t did);
size_t ims_ctxc_inv_device(ims_ctxc *c, uint16_t sid, unsigned fm);

uint32_t ims_ctxc_count(const ims_ctxc *c);
void ims_ctxc_foreach(const ims_ctxc *c, void (*fn)(const ims_ctxc_entry *e, void *arg), void *arg);
const ims_sacache *ims_ctxc_cache(const ims_ctxc *c);

#ifdef __cplusplus
}
#endif
#endif
