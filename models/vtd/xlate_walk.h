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

#include "models/vtd/regs.h"
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

/* The part of ims_xctx_resolve after the cache lookups: ims_vtd_lookup_ctx on
 * memory, charging the reads of the structures the caches did not cover
 * (charge_ctx: root and context entry; charge_pasid: PASID directory and
 * entry), and the fills. */
uint8_t ims_xctx_resolve_mem(ims_xctx *o, const ims_vtd_hw *hw, ims_vtd_caches *c, const ims_vtd_req *req,
                             ims_vtd_ctx *ctx, bool *qualified, ims_vtd_access_log *log, bool charge_ctx,
                             bool charge_pasid);

/* The request-dependent conditions of ctx_lookup.c lookup_legacy: requests
 * with PASID are blocked (RTA.2); only TT=01b admits ATS requests (LCT.5). */
static inline bool ims_xctx_legacy_hit_ok(const ims_ctxc_entry *e, const ims_vtd_req *req)
{
    return !req->has_pasid && (req->type == IMS_VTD_REQ_UNTRANSLATED || e->ctx.dte);
}

/* Those of ctx_lookup.c check_smce (SCT.5, SCT.6, SGN.10, SCT.7, SCT.9). A
 * request with PASID and ER also needs the PASID entry's ERE, which no cache
 * holds: it takes the full lookup. */
static inline bool ims_xctx_sm_hit_ok(uint64_t ecap, const ims_ctxc_entry *e, const ims_vtd_req *req)
{
    if (req->type != IMS_VTD_REQ_UNTRANSLATED && !e->ctx.dte)
        return false;
    if (!req->has_pasid)
        return true;
    unsigned pss = ims_vtd_ecap_pss(ecap) > 19 ? 19 : ims_vtd_ecap_pss(ecap);
    return e->paside && (req->pasid >> (pss + 1)) == 0 && req->pasid < e->pasid_limit &&
           req->pasid != e->ctx.pasid && !req->exec;
}

/* Resolve the context of req: from the caches, else by ims_vtd_lookup_ctx on
 * memory (its accesses in *log). Returns 0 and *ctx, or a fault reason with
 * *qualified and ctx->fpd as the lookup left them. Inline: the cache-hit path
 * runs for every request. */
static inline uint8_t ims_xctx_resolve(ims_xctx *o, const ims_vtd_hw *hw, ims_vtd_caches *c,
                                       const ims_vtd_req *req, ims_vtd_ctx *ctx, bool *qualified,
                                       ims_vtd_access_log *log)
{
    o->ctxc_lookups = 1;
    o->pasidc_lookups = 0;
    o->reads = 0;
    o->fill_ctxc = o->fill_pasidc = false;
    *qualified = false;

    unsigned ttm = ims_vtd_rtaddr_ttm(hw->rtaddr);
    /* Which reads the caches did not cover: those are charged. A cached entry
     * that decides a fault needs no read, but the lookup still runs on memory
     * to produce the exact fault reason. */
    bool charge_ctx = true, charge_pasid = true;
    const ims_ctxc_entry *ce = ims_ctxc_lookup(c->ctxc, req->sid);
    if (ce && ttm == IMS_VTD_TTM_LEGACY && !ce->ctx.scalable) {
        if (ims_xctx_legacy_hit_ok(ce, req)) {
            *ctx = ce->ctx;
            return 0;
        }
        charge_ctx = false;
    } else if (ce && ttm == IMS_VTD_TTM_SCALABLE && ce->ctx.scalable) {
        charge_ctx = false;
        if (ims_xctx_sm_hit_ok(hw->ecap, ce, req)) {
            uint32_t pasid = req->has_pasid ? req->pasid : ce->ctx.pasid;
            bool priv = req->has_pasid ? req->priv : ce->ctx.rid_priv;
            o->pasidc_lookups = 1;
            const ims_pasidc_entry *pe = ims_pasidc_lookup(c->pasidc, req->sid, pasid);
            if (pe) {
                if (!priv || pe->ctx.sre) {
                    *ctx = pe->ctx;
                    return 0;
                }
                charge_pasid = false; /* SPT.6 is decided by the cached entry */
            }
        }
    }
    return ims_xctx_resolve_mem(o, hw, c, req, ctx, qualified, log, charge_ctx, charge_pasid);
}
/* Insert the pending context/PASID-cache entries. */
void ims_xctx_fill(const ims_xctx *o, ims_vtd_caches *c);

/* ---- leaf use ------------------------------------------------------------ */

/* Serve req from a cached (or just walked) translation e: 0 = not usable (the
 * request must walk), 1 = res filled (pa, page_size, r/w/x, no fault).
 * Inline: every IOTLB hit runs it. */
static inline bool ims_xlate_use_entry(const ims_iotlb_entry *e, const ims_vtd_ctx *ctx, const ims_vtd_req *req,
                                       ims_vtd_result *res)
{
    uint64_t ps = UINT64_C(1) << ims_iotlb_psize_shift((ims_iotlb_psize)e->psize);
    uint64_t pa = e->hpa | (req->addr & (ps - 1u));
    ims_vtd_perm perm = {.r = e->r, .w = e->w, .x = e->x, .us_denied = false};
    uint8_t fr;
    if (req->type == IMS_VTD_REQ_TRANSLATION) {
        /* W=0 may mean "D still clear" rather than read-only, and an ATS
         * completion must carry the true W: walk instead. */
        if (!e->w)
            return false;
        ims_vtd_req probe = *req;
        probe.read = probe.write = probe.exec = false;
        fr = ims_vtd_check_access(ctx, &probe, &perm, pa, ps);
    } else {
        fr = ims_vtd_check_access(ctx, req, &perm, pa, ps);
    }
    if (fr)
        return false;
    res->fault = 0;
    res->fault_qualified = res->fault_suppressed = false;
    res->pa = pa;
    res->page_size = ps;
    res->r = e->r;
    res->w = e->w;
    res->x = e->x;
    return true;
}

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
