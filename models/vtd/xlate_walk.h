/* The functional half of the timed translation pipeline (xlate.c): context
 * resolution through the context/PASID caches, the walk started from the
 * paging-structure caches, and cache fills. No notion of time here: each step
 * reports what it used (lookups, memory accesses in its access log) and the
 * pipeline charges it.
 *
 * Contract: with any cache contents that match memory, a result equals
 * ims_vtd_translate()'s on the same memory. Cached state that cannot decide a
 * request exactly falls back to reading memory:
 *  - context/PASID-cache hits re-check the request-dependent conditions of
 *    ctx_lookup.c (DTE, PASID enable/range/RID_PASID, SRE); requests with PASID
 *    and ER always do the full lookup (ERE is not in ims_vtd_ctx);
 *  - an IOTLB entry (or a merged walk) serves a request only if the final
 *    checks pass on it; otherwise the request walks (which yields the exact
 *    fault, or sets A/D);
 *  - IOTLB entries hold the permissions without a pending D update: a
 *    writable translation whose leaf D (FS, or SS with SSADE) is still clear is
 *    cached with W=0, so the first write walks and sets D. An ATS translation
 *    request is served only by entries with W=1 (it must report the true W);
 *  - first-stage translations whose permissions differ between user and
 *    supervisor requests (U/S=0, or R/W=0 with WPE=0) are cached only when the
 *    PASID entry has SRE=0 (no supervisor request can reach them): the IOTLB
 *    entry has no U/S bit;
 *  - nested: a first-stage table located through a cached translation (PSC or
 *    SS IOTLB entry) whose entry needs an A/EA/D update is re-located by an SS
 *    walk, so the SS write permission (SFS.8) and SS A/D are exact. */
#ifndef IMS_VTD_XLATE_WALK_H
#define IMS_VTD_XLATE_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "models/vtd/translate.h"
#include "models/vtd/vtd_caches.h"
#include "models/vtd/walk_fs.h"
#include "models/vtd/walk_nested.h"
#include "models/vtd/walk_ss.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- context stage ------------------------------------------------------- */

typedef struct ims_xctx {
    unsigned ctxc_lookups, pasidc_lookups; /* cache lookups made (0 or 1 each) */
    unsigned reads;                        /* memory reads to charge (those the caches did not cover) */
    bool fill_ctxc, fill_pasidc;           /* entries to insert once the reads are done */
    ims_ctxc_entry ctxc_e;
    ims_pasidc_entry pasidc_e;
} ims_xctx;

/* Resolve the context of req: from the caches, else by ims_vtd_lookup_ctx on
 * memory (its accesses in *log). Returns 0 and *ctx, or a fault reason with
 * *qualified and ctx->fpd as the lookup left them. */
uint8_t ims_xctx_resolve(ims_xctx *o, const ims_vtd_hw *hw, ims_vtd_caches *c, const ims_vtd_req *req,
                         ims_vtd_ctx *ctx, bool *qualified, ims_vtd_access_log *log);
/* Insert the pending context/PASID-cache entries. */
void ims_xctx_fill(const ims_xctx *o, ims_vtd_caches *c);

/* ---- leaf use ------------------------------------------------------------ */

/* Serve req from a cached (or just walked) translation e: 0 = not usable (the
 * request must walk), 1 = res filled (pa, page_size, r/w/x, no fault). */
bool ims_xlate_use_entry(const ims_iotlb_entry *e, const ims_vtd_ctx *ctx, const ims_vtd_req *req,
                         ims_vtd_result *res);

/* ---- walk ---------------------------------------------------------------- */

typedef struct ims_xwalk {
    ims_vtd_access_log log;  /* memory accesses of the walk (reads, A/D writes) */
    unsigned psc_probes;     /* paging-structure-cache probes (deepest-first over one stage) */
    unsigned iotlb_probes;   /* IOTLB lookups of nested first-stage table GPAs */
    unsigned relocates;      /* nested FS tables re-located by an SS walk for an A/D update */
    unsigned rewalks;        /* whole walks repeated without the FS PSC (nested A/D at the start level) */
    bool ok;                 /* the translation succeeded */
    bool cacheable;          /* leaf may be cached and may serve merged requests */
    ims_iotlb_entry leaf;    /* the translation as an IOTLB entry (valid when cacheable) */
    /* walk state, for fills */
    ims_vtd_pgtt pgtt;
    uint64_t addr;
    bool fs_from_psc;
    union {
        ims_vtd_ss_walk ss;
        ims_vtd_fs_walk fs;
        ims_vtd_nested_walk nested;
    } u;
    uint64_t table_gpa[IMS_PT_MAX_LEVELS + 1];  /* nested: GPA of the level-L FS table */
    bool table_cached[IMS_PT_MAX_LEVELS + 1];   /* nested: located by an SS IOTLB entry */
    bool fs_ad[IMS_PT_MAX_LEVELS + 1];          /* nested: the FS entry at level L got an A/EA/D update */
} ims_xwalk;

/* Walk req with context ctx (PGTT SS, FS, nested or PT) starting from the
 * paging-structure caches, with the final checks and A/D updates of
 * ims_vtd_translate. Sets res->fault/fault_qualified/fault_suppressed, pa,
 * page_size, r/w/x (res->ctx is not touched). */
void ims_xwalk_run(ims_xwalk *w, const ims_vtd_hw *hw, ims_vtd_caches *c, const ims_vtd_ctx *ctx,
                   const ims_vtd_req *req, ims_vtd_result *res);

/* Fill the PSCs and the IOTLB from a successful walk (nested: also the SS
 * translations of FS-table GPAs when c->cache_nested_ss). */
void ims_xwalk_fill(const ims_xwalk *w, const ims_vtd_hw *hw, ims_vtd_caches *c, const ims_vtd_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
