/* Functional steps of the timed pipeline: context resolution through the
 * context/PASID caches, PSC-started walks, cache fills (see xlate_walk.h for
 * the exactness rules). */
#include "models/vtd/xlate_walk.h"

#include <string.h>

#include "models/mem/physmem.h"
#include "models/vtd/entries.h"
#include "models/vtd/fault_reason.h"
#include "models/vtd/regs.h"

/* ---- context stage ----------------------------------------------------- */

/* The context-cache entry of a scalable-mode context entry in memory (the
 * lookup succeeded, so its fields are valid). */
static void sm_ctxc_entry(const ims_vtd_hw *hw, uint16_t sid, uint64_t ce_pa, ims_ctxc_entry *e)
{
    uint64_t ce[IMS_VTD_SMCTX_ENTRY_SIZE / 8];
    for (unsigned i = 0; i < IMS_VTD_SMCTX_ENTRY_SIZE / 8; i++)
        ce[i] = ims_physmem_r64(hw->mem, ce_pa + 8u * i);
    memset(e, 0, sizeof *e);
    e->sid = sid;
    e->ctx.scalable = true;
    e->ctx.fpd = ims_vtd_smce_fpd(ce);
    e->ctx.dte = ims_vtd_smce_dte(ce);
    e->ctx.pre = ims_vtd_smce_pre(ce);
    e->ctx.pasid = ims_vtd_smce_rid_pasid(ce);
    e->ctx.rid_priv = ims_vtd_smce_rid_priv(ce);
    e->pasid_dir = ims_vtd_smce_pasiddirptr(ce);
    e->pasid_limit = ims_vtd_smce_pasid_limit(ce);
    e->paside = ims_vtd_smce_paside(ce);
}

uint8_t ims_xctx_resolve_mem(ims_xctx *o, const ims_vtd_hw *hw, ims_vtd_caches *c, const ims_vtd_req *req,
                             ims_vtd_ctx *ctx, bool *qualified, ims_vtd_access_log *log, bool charge_ctx,
                             bool charge_pasid)
{
    bool sm = ims_vtd_rtaddr_ttm(hw->rtaddr) == IMS_VTD_TTM_SCALABLE;
    log->n = log->reads = log->writes = 0;
    log->count_only = false; /* the context entry's address is taken from the log */
    uint8_t fr = ims_vtd_lookup_ctx(hw, req, ctx, qualified, log);
    if (fr == 0 && sm && charge_ctx) {
        /* Context-cache miss: the PASID cache may still hold the PASID entry. */
        o->pasidc_lookups = 1;
        if (ims_pasidc_lookup(c->pasidc, req->sid, ctx->pasid))
            charge_pasid = false;
    }
    uint64_t ce_pa = 0;
    for (unsigned i = 0; i < log->n; i++) {
        unsigned k = log->a[i].kind;
        if (k == IMS_VTD_ACC_CONTEXT)
            ce_pa = log->a[i].pa;
        if (k == IMS_VTD_ACC_ROOT || k == IMS_VTD_ACC_CONTEXT)
            o->reads += charge_ctx;
        else if (k == IMS_VTD_ACC_PASID_DIR || k == IMS_VTD_ACC_PASID_ENTRY)
            o->reads += charge_pasid;
    }
    if (fr)
        return fr;

    if (charge_ctx) {
        o->fill_ctxc = true;
        if (sm) {
            sm_ctxc_entry(hw, req->sid, ce_pa, &o->ctxc_e);
        } else {
            memset(&o->ctxc_e, 0, sizeof o->ctxc_e);
            o->ctxc_e.sid = req->sid;
            o->ctxc_e.ctx = *ctx;
        }
    }
    if (sm && charge_pasid) {
        o->fill_pasidc = true;
        memset(&o->pasidc_e, 0, sizeof o->pasidc_e);
        o->pasidc_e.sid = req->sid;
        o->pasidc_e.pasid = ctx->pasid;
        o->pasidc_e.ctx = *ctx;
    }
    return 0;
}

void ims_xctx_fill(const ims_xctx *o, ims_vtd_caches *c)
{
    if (o->fill_ctxc)
        ims_ctxc_insert(c->ctxc, &o->ctxc_e);
    if (o->fill_pasidc)
        ims_pasidc_insert(c->pasidc, &o->pasidc_e);
}

/* ---- walks --------------------------------------------------------------- */

/* Helpers with one or two callers on every walk: inlined, so a nested walk
 * runs in few frames (each costs a dozen register saves and restores). */
#define WALK_INLINE static inline __attribute__((always_inline))

#define XW_RETRY 0x100 /* not a fault reason (those are 8-bit): walk again without the FS PSC */

static void fail(ims_vtd_result *res, uint8_t fr, bool fpd)
{
    res->fault = fr;
    res->fault_qualified = ims_vtd_fault_is_qualified(fr);
    res->fault_suppressed = res->fault_qualified && fpd;
    res->pa = 0;
    res->page_size = 0;
    res->r = res->w = res->x = false;
}

WALK_INLINE uint8_t ss_walk(ims_xwalk *w, const ims_vtd_hw *hw, ims_vtd_caches *c, const ims_vtd_ctx *ctx,
                       uint64_t addr, bool read, bool write, unsigned tag, ims_vtd_ss_walk *out)
{
    ims_vtd_ss_start st;
    const ims_vtd_ss_start *sp = NULL;
    w->psc_probes++;
    unsigned top = ctx->ss_levels > IMS_PSC_MAX_LEVEL ? IMS_PSC_MAX_LEVEL : ctx->ss_levels;
    const ims_psc_entry *e = ims_psc_lookup_deepest(c->psc, IMS_PSC_SS, ctx->did, 0, addr, top);
    if (e) {
        st.level = e->level - 1u;
        st.table = e->next_table;
        st.r = (e->perm & IMS_PSC_R) != 0;
        st.w = (e->perm & IMS_PSC_W) != 0;
        st.x = (e->perm & IMS_PSC_X) != 0;
        sp = &st;
    }
    return ims_vtd_ss_walk_run(hw, ctx, addr, read, write, sp, tag, out, &w->log);
}

WALK_INLINE uint8_t fs_walk(ims_xwalk *w, const ims_vtd_hw *hw, ims_vtd_caches *c, const ims_vtd_ctx *ctx,
                       uint64_t addr, bool priv, bool use_psc, ims_vtd_fs_table_fn fn, void *opaque,
                       ims_vtd_fs_walk *out)
{
    ims_vtd_fs_start st;
    const ims_vtd_fs_start *sp = NULL;
    w->fs_from_psc = false;
    if (use_psc) {
        w->psc_probes++;
        unsigned top = ctx->fs_levels > IMS_PSC_MAX_LEVEL ? IMS_PSC_MAX_LEVEL : ctx->fs_levels;
        const ims_psc_entry *e = ims_psc_lookup_deepest(c->psc, IMS_PSC_FS, ctx->did, ctx->pasid, addr, top);
        if (e) {
            st.level = e->level - 1u;
            st.table = e->next_table;
            st.writable = true; /* exact for PGTT=FS; nested: settled by nested_prepare_ad */
            st.rw = (e->perm & IMS_PSC_W) != 0;
            st.us = (e->perm & IMS_PSC_U) != 0;
            sp = &st;
            w->fs_from_psc = true;
        }
    }
    return ims_vtd_fs_walk_run(hw, ctx, addr, priv, sp, fn, opaque, out, &w->log);
}

/* ---- nested ---------------------------------------------------------------- */

typedef struct nest_cb {
    ims_xwalk *w;
    const ims_vtd_hw *hw;
    ims_vtd_caches *c;
    const ims_vtd_ctx *ctx;
} nest_cb;

/* How a failed SS walk of an FS table is reported: the mapping of
 * walk_nested.c (vtd-facts §3.2), repeated because the table may also be
 * located through the IOTLB here. */
static uint8_t table_fault(uint8_t fr, bool root, const ims_vtd_ss_walk *ss)
{
    uint8_t no_read = root ? IMS_VTD_FR_SFS_6 : IMS_VTD_FR_SFS_7;
    if (fr == IMS_VTD_FR_SGN_4)
        return IMS_VTD_FR_SFS_5;
    if (fr == IMS_VTD_FR_SSS_2)
        return no_read;
    if (fr)
        return fr;
    return ss->r ? 0 : no_read;
}

/* SS walk of the level-L FS table's GPA (from the SS PSC). */
static uint8_t locate_table(nest_cb *n, unsigned level)
{
    ims_vtd_nested_walk *nw = &n->w->u.nested;
    ims_vtd_ss_walk *ss = &nw->table_ss[level];
    uint8_t fr = ss_walk(n->w, n->hw, n->c, n->ctx, n->w->table_gpa[level], true, false, level, ss);
    nw->table_ss_done[level] = fr == 0;
    return table_fault(fr, level == n->ctx->fs_levels, ss);
}

/* ims_vtd_fs_table_fn: the SS translation of an FS table address, from an SS
 * IOTLB entry when iotlb.cache_nested_ss, else by an SS walk. */
static uint8_t nest_table(void *opaque, uint64_t table_addr, unsigned level, uint64_t *hpa, bool *writable,
                          ims_vtd_access_log *log)
{
    (void)log; /* the same log as n->w->log */
    nest_cb *n = opaque;
    ims_xwalk *w = n->w;
    uint64_t gpa = table_addr & IMS_PTE_ADDR_MASK;
    w->table_gpa[level] = gpa;
    w->table_cached[level] = false;
    if (n->c->cache_nested_ss) {
        w->iotlb_probes++;
        const ims_iotlb_entry *e = ims_iotlb_lookup(n->c->iotlb, n->ctx->did, IMS_VTD_PGTT_SS, 0, gpa);
        if (e && e->r) {
            uint64_t ps = UINT64_C(1) << ims_iotlb_psize_shift((ims_iotlb_psize)e->psize);
            *hpa = e->hpa | (gpa & (ps - 1u));
            *writable = true; /* provisional: nested_prepare_ad re-locates the table if it is written */
            w->table_cached[level] = true;
            return 0;
        }
    }
    uint8_t fr = locate_table(n, level);
    if (fr)
        return fr;
    *hpa = w->u.nested.table_ss[level].out;
    *writable = w->u.nested.table_ss[level].w;
    return 0;
}

static uint8_t nested_walk(ims_xwalk *w, nest_cb *n, const ims_vtd_req *req, bool priv, bool use_fs_psc)
{
    ims_vtd_nested_walk *nw = &w->u.nested;
    /* Not the whole struct (kilobytes, per walk): the stage walks reset
     * themselves and table_ss[L] is read only where table_ss_done[L]. */
    memset(nw->table_ss_done, 0, sizeof nw->table_ss_done);
    memset(w->table_cached, 0, sizeof w->table_cached);
    memset(w->fs_ad, 0, sizeof w->fs_ad);
    uint8_t fr = fs_walk(w, n->hw, n->c, n->ctx, req->addr, priv, use_fs_psc, nest_table, n, &nw->fs);
    if (fr)
        return fr;
    fr = ss_walk(w, n->hw, n->c, n->ctx, nw->fs.out, req->read, req->write, IMS_VTD_NESTED_FINAL,
                 &nw->final_ss);
    if (fr)
        return fr;
    nw->pa = nw->final_ss.out;
    nw->page_size = nw->fs.page_size < nw->final_ss.page_size ? nw->fs.page_size : nw->final_ss.page_size;
    nw->perm.us_denied = nw->fs.perm.us_denied;
    nw->perm.r = nw->fs.perm.r && nw->final_ss.r;
    nw->perm.w = nw->fs.perm.w && nw->final_ss.w;
    nw->perm.x = nw->fs.perm.x && nw->final_ss.x;
    return 0;
}

/* Before the nested A/D updates: an FS entry that will be written must sit
 * in a table whose SS translation was walked (SS W decides SFS.8, and its SS
 * A/D get set). Tables located by an SS IOTLB entry are walked now; the table
 * a PSC hit started in has no known GPA, so the whole walk is repeated. */
static int nested_prepare_ad(ims_xwalk *w, nest_cb *n, bool dirty)
{
    ims_vtd_fs_walk *fs = &w->u.nested.fs;
    for (unsigned level = fs->start_level; level >= fs->level && level >= 1; level--) {
        w->fs_ad[level] = ims_vtd_fs_ad_bits(n->ctx, fs->step[level].pte, level == fs->level, dirty) != 0;
        if (!w->fs_ad[level])
            continue;
        if (level == fs->start_level && w->fs_from_psc)
            return XW_RETRY;
        if (w->table_cached[level]) {
            w->relocates++;
            uint8_t fr = locate_table(n, level);
            if (fr)
                return fr;
            w->table_cached[level] = false;
            fs->step[level].writable = w->u.nested.table_ss[level].w;
        }
    }
    return 0;
}

/* Whether the entries an SS walk read already hold every A/D bit
 * ims_vtd_ss_walk_set_ad would set (A everywhere, D on the leaf if dirty). */
WALK_INLINE bool ss_ad_done(const ims_vtd_ss_walk *s, bool dirty)
{
    for (unsigned level = s->start_level; level >= s->level && level >= 1; level--)
        if (!(s->step[level].pte & IMS_SS_PTE_A))
            return false;
    return !dirty || (s->leaf & IMS_SS_PTE_D);
}

/* The same for a nested walk whose FS decisions nested_prepare_ad made. Once
 * a page has been touched this is the usual case, and it skips the calls. */
WALK_INLINE bool nested_ad_done(const ims_xwalk *w, const ims_vtd_hw *hw, const ims_vtd_ctx *ctx, bool dirty)
{
    const ims_vtd_nested_walk *nw = &w->u.nested;
    for (unsigned level = nw->fs.start_level; level >= nw->fs.level && level >= 1; level--)
        if (w->fs_ad[level])
            return false;
    if (!ims_vtd_ss_ad_enabled(hw, ctx))
        return true;
    for (unsigned level = nw->fs.start_level; level >= nw->fs.level && level >= 1; level--)
        if (nw->table_ss_done[level] && !ss_ad_done(&nw->table_ss[level], false))
            return false;
    return ss_ad_done(&nw->final_ss, dirty);
}

static int set_ad(ims_xwalk *w, nest_cb *n, bool dirty)
{
    switch (w->pgtt) {
    case IMS_VTD_PGTT_SS:
        return ims_vtd_ss_walk_set_ad(n->hw, n->ctx, &w->u.ss, dirty, 0, 0, &w->log);
    case IMS_VTD_PGTT_FS:
        return ims_vtd_fs_walk_set_ad(n->hw, n->ctx, &w->u.fs, dirty, 0, &w->log);
    case IMS_VTD_PGTT_NESTED: {
        int rc = nested_prepare_ad(w, n, dirty);
        if (rc)
            return rc;
        if (nested_ad_done(w, n->hw, n->ctx, dirty))
            return 0;
        return ims_vtd_nested_walk_set_ad(n->hw, n->ctx, &w->u.nested, dirty, 0, &w->log);
    }
    default:
        return 0;
    }
}

/* The first-stage walk of an FS or nested translation, else NULL. */
static const ims_vtd_fs_walk *fs_of(const ims_xwalk *w)
{
    if (w->pgtt == IMS_VTD_PGTT_FS)
        return &w->u.fs;
    if (w->pgtt == IMS_VTD_PGTT_NESTED)
        return &w->u.nested.fs;
    return NULL;
}

/* Whether user and supervisor requests see the same permissions, or only
 * user requests can reach the translation (SRE=0): the IOTLB has no U/S. */
static bool priv_independent(const ims_xwalk *w, const ims_vtd_ctx *ctx)
{
    const ims_vtd_fs_walk *fs = fs_of(w);
    return !fs || !ctx->sre || (fs->us && (fs->rw || ctx->wpe));
}

/* Whether the leaf needs no more D update for writes. The PTE's D bit is
 * tested before the (out-of-line) SS A/D enable: usually it decides. */
static bool leaf_dirty(const ims_xwalk *w, const ims_vtd_hw *hw, const ims_vtd_ctx *ctx, bool dirtied)
{
    if (dirtied)
        return true;
    switch (w->pgtt) {
    case IMS_VTD_PGTT_SS:
        return ims_ss_pte_d(w->u.ss.leaf) || !ims_vtd_ss_ad_enabled(hw, ctx);
    case IMS_VTD_PGTT_FS:
        return ims_fs_pte_d(w->u.fs.leaf);
    case IMS_VTD_PGTT_NESTED:
        return ims_fs_pte_d(w->u.nested.fs.leaf) &&
               (ims_ss_pte_d(w->u.nested.final_ss.leaf) || !ims_vtd_ss_ad_enabled(hw, ctx));
    default:
        return true;
    }
}

static bool psize_of(uint64_t bytes, uint8_t *psize)
{
    for (unsigned s = 0; s < IMS_IOTLB_NSIZES; s++) {
        if (bytes == UINT64_C(1) << ims_iotlb_psize_shift((ims_iotlb_psize)s)) {
            *psize = (uint8_t)s;
            return true;
        }
    }
    return false;
}

WALK_INLINE int translate_once(ims_xwalk *w, nest_cb *n, const ims_vtd_req *req, bool priv, bool use_fs_psc,
                          ims_vtd_result *res)
{
    const ims_vtd_ctx *ctx = n->ctx;
    ims_vtd_perm perm = {0};
    uint64_t pa = 0, ps = 0, leaf = 0;
    uint8_t fr;
    switch (ctx->pgtt) {
    case IMS_VTD_PGTT_PT:
        fr = 0;
        pa = req->addr;
        ps = IMS_PAGE_SIZE;
        perm = (ims_vtd_perm){.r = true, .w = true, .x = true};
        break;
    case IMS_VTD_PGTT_SS:
        fr = ss_walk(w, n->hw, n->c, ctx, req->addr, req->read, req->write, 0, &w->u.ss);
        if (!fr) {
            pa = w->u.ss.out;
            ps = w->u.ss.page_size;
            perm = (ims_vtd_perm){.r = w->u.ss.r, .w = w->u.ss.w, .x = w->u.ss.x};
            leaf = w->u.ss.leaf;
        }
        break;
    case IMS_VTD_PGTT_FS:
        fr = fs_walk(w, n->hw, n->c, ctx, req->addr, priv, use_fs_psc, ims_vtd_fs_table_identity,
                     (void *)n->hw, &w->u.fs);
        if (!fr) {
            pa = w->u.fs.out;
            ps = w->u.fs.page_size;
            perm = w->u.fs.perm;
        }
        break;
    case IMS_VTD_PGTT_NESTED:
        fr = nested_walk(w, n, req, priv, use_fs_psc);
        if (!fr) {
            pa = w->u.nested.pa;
            ps = w->u.nested.page_size;
            perm = w->u.nested.perm;
            leaf = w->u.nested.final_ss.leaf;
        }
        break;
    default:
        fr = ctx->scalable ? IMS_VTD_FR_SPT_4 : IMS_VTD_FR_LCT_4;
        break;
    }
    if (fr) {
        fail(res, fr, ctx->fpd);
        return 0;
    }

    /* The final checks and A/D updates, in ims_vtd_translate's order. */
    if (req->type == IMS_VTD_REQ_TRANSLATION) {
        if (perm.us_denied)
            perm.r = perm.w = perm.x = false;
        perm.us_denied = false;
        ims_vtd_req probe = *req;
        probe.read = probe.write = probe.exec = false;
        fr = ims_vtd_check_access(ctx, &probe, &perm, pa, ps);
    } else {
        fr = ims_vtd_check_access(ctx, req, &perm, pa, ps);
    }
    if (fr) {
        fail(res, fr, ctx->fpd);
        return 0;
    }
    bool dirty = false;
    if (perm.r || perm.w) {
        dirty = req->write && perm.w;
        int rc = set_ad(w, n, dirty);
        if (rc == XW_RETRY)
            return XW_RETRY;
        if (rc) {
            fail(res, (uint8_t)rc, ctx->fpd);
            return 0;
        }
    }
    res->fault = 0;
    res->fault_qualified = res->fault_suppressed = false;
    res->pa = pa;
    res->page_size = ps;
    res->r = perm.r;
    res->w = perm.w;
    res->x = perm.x;
    w->ok = true;

    ims_iotlb_entry *e = &w->leaf;
    memset(e, 0, sizeof *e);
    w->cacheable = (perm.r || perm.w) && priv_independent(w, ctx) && psize_of(ps, &e->psize);
    if (w->cacheable) {
        e->iova = req->addr & ~(ps - 1u);
        e->hpa = pa & ~(ps - 1u);
        e->pasid = ims_iotlb_tag_pasid(ctx->pgtt, ctx->pasid);
        e->did = ctx->did;
        e->pgtt = (uint8_t)ctx->pgtt;
        e->r = perm.r;
        e->w = perm.w && leaf_dirty(w, n->hw, ctx, dirty);
        e->x = perm.x;
        e->snp = leaf && ims_ss_pte_snp(leaf);
        e->pgsnp = ctx->pgsnp;
    }
    return 0;
}

/* The rare repeat without the FS PSC, out of line. */
static __attribute__((noinline)) int translate_again(ims_xwalk *w, nest_cb *n, const ims_vtd_req *req, bool priv,
                                                     ims_vtd_result *res)
{
    return translate_once(w, n, req, priv, false, res);
}

void ims_xwalk_run(ims_xwalk *w, const ims_vtd_hw *hw, ims_vtd_caches *c, const ims_vtd_ctx *ctx,
                   const ims_vtd_req *req, ims_vtd_result *res)
{
    w->log.n = w->log.reads = w->log.writes = 0;
    w->log.count_only = true; /* only the counts are charged */
    w->psc_probes = w->iotlb_probes = w->relocates = w->rewalks = 0;
    w->ok = w->cacheable = false;
    w->pgtt = ctx->pgtt;
    w->addr = req->addr;
    w->fs_from_psc = false;
    /* A request without PASID takes its privilege from RID_PRIV (translate.c). */
    bool priv = req->has_pasid ? req->priv : ctx->rid_priv;
    nest_cb n = {w, hw, c, ctx};
    if (translate_once(w, &n, req, priv, true, res) == XW_RETRY) {
        w->rewalks++;
        int rc = translate_again(w, &n, req, priv, res);
        (void)rc; /* without the FS PSC there is nothing to retry */
    }
}

/* ---- fills ------------------------------------------------------------------ */

/* Non-leaf entries read by an SS walk of `addr` (levels start .. leaf+1). */
WALK_INLINE void psc_fill_ss(ims_psc *psc, uint16_t did, uint64_t addr, const ims_vtd_ss_walk *s)
{
    for (unsigned level = s->start_level; level > s->level; level--) {
        if (level < IMS_PSC_MIN_LEVEL || level > IMS_PSC_MAX_LEVEL)
            continue;
        uint8_t perm = (uint8_t)((s->step[level].r ? IMS_PSC_R : 0) | (s->step[level].w ? IMS_PSC_W : 0) |
                                 (s->step[level].x ? IMS_PSC_X : 0));
        ims_psc_fill(psc, IMS_PSC_SS, level, did, 0, addr, s->step[level - 1].table, perm);
    }
}

/* Non-leaf FS entries; nested: next_table is the SS-translated HPA. XD is
 * ignored by the walk (execute follows read), so X is always granted. */
WALK_INLINE void psc_fill_fs(ims_psc *psc, const ims_vtd_ctx *ctx, uint64_t addr, const ims_vtd_fs_walk *f)
{
    for (unsigned level = f->start_level; level > f->level; level--) {
        if (level < IMS_PSC_MIN_LEVEL || level > IMS_PSC_MAX_LEVEL)
            continue;
        uint8_t perm = (uint8_t)(IMS_PSC_R | IMS_PSC_X | (f->step[level].rw ? IMS_PSC_W : 0) |
                                 (f->step[level].us ? IMS_PSC_U : 0));
        ims_psc_fill(psc, IMS_PSC_FS, level, ctx->did, ctx->pasid, addr, f->step[level - 1].table, perm);
    }
}

/* The SS translation of a nested FS table's page as an SS-only IOTLB entry. */
static void iotlb_fill_table(ims_iotlb *t, const ims_vtd_hw *hw, const ims_vtd_ctx *ctx, uint64_t gpa,
                             const ims_vtd_ss_walk *s, bool dirtied)
{
    ims_iotlb_entry e;
    memset(&e, 0, sizeof e);
    if (!psize_of(s->page_size, &e.psize))
        return;
    e.iova = gpa & ~(s->page_size - 1u);
    e.hpa = s->out & ~(s->page_size - 1u);
    e.pasid = IMS_IOTLB_NO_PASID;
    e.did = ctx->did;
    e.pgtt = IMS_VTD_PGTT_SS;
    e.r = s->r;
    e.w = s->w && (dirtied || ims_ss_pte_d(s->leaf) || !ims_vtd_ss_ad_enabled(hw, ctx));
    e.x = s->x;
    e.snp = ims_ss_pte_snp(s->leaf);
    ims_iotlb_insert(t, &e);
}

void ims_xwalk_fill(const ims_xwalk *w, const ims_vtd_hw *hw, ims_vtd_caches *c, const ims_vtd_ctx *ctx)
{
    if (!w->ok)
        return;
    switch (w->pgtt) {
    case IMS_VTD_PGTT_SS:
        psc_fill_ss(c->psc, ctx->did, w->addr, &w->u.ss);
        break;
    case IMS_VTD_PGTT_FS:
        psc_fill_fs(c->psc, ctx, w->addr, &w->u.fs);
        break;
    case IMS_VTD_PGTT_NESTED: {
        const ims_vtd_nested_walk *nw = &w->u.nested;
        psc_fill_fs(c->psc, ctx, w->addr, &nw->fs);
        for (unsigned level = nw->fs.start_level; level >= nw->fs.level && level >= 1; level--) {
            if (!nw->table_ss_done[level])
                continue;
            psc_fill_ss(c->psc, ctx->did, w->table_gpa[level], &nw->table_ss[level]);
            if (c->cache_nested_ss)
                iotlb_fill_table(c->iotlb, hw, ctx, w->table_gpa[level], &nw->table_ss[level], w->fs_ad[level]);
        }
        psc_fill_ss(c->psc, ctx->did, nw->fs.out, &nw->final_ss);
        break;
    }
    default:
        break;
    }
    if (w->cacheable)
        ims_iotlb_insert(c->iotlb, &w->leaf);
}
