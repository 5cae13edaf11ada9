/* ims_vtd_translate(): the functional, uncached translation of one request
 * (the golden reference). Lookup, then the walk chosen by PGTT, then the final
 * permission and interrupt-range checks, then the A/D updates. Nothing is
 * written to memory unless the request succeeds. */
#include <string.h>

#include "models/vtd/fault_reason.h"
#include "models/vtd/translate.h"
#include "models/vtd/walk_fs.h"
#include "models/vtd/walk_nested.h"
#include "models/vtd/walk_ss.h"

#define INTR_FIRST 0xFEE00000ULL
#define INTR_LAST  0xFEEFFFFFULL

bool ims_vtd_is_interrupt_range(uint64_t pa, uint64_t size)
{
    uint64_t last = size ? pa + (size - 1u) : pa;
    if (last < pa)
        last = ~0ULL;
    return pa <= INTR_LAST && last >= INTR_FIRST;
}

uint8_t ims_vtd_check_access(const ims_vtd_ctx *ctx, const ims_vtd_req *req, const ims_vtd_perm *perm,
                             uint64_t pa, uint64_t page_size)
{
    bool sm = ctx->scalable;
    if (perm->us_denied)
        return IMS_VTD_FR_SGN_2;
    if (req->read && !perm->r)
        return sm ? IMS_VTD_FR_SGN_7 : IMS_VTD_FR_LGN_3;
    if (req->write && !perm->w)
        return sm ? IMS_VTD_FR_SGN_6 : IMS_VTD_FR_LGN_2;
    if (req->exec && !perm->x)
        return sm ? IMS_VTD_FR_SGN_3 : IMS_VTD_FR_LGN_3;
    /* Checked on the whole page, so a cached translation never depends on the offset. */
    uint64_t base = pa & ~(page_size - 1u);
    if (ims_vtd_is_interrupt_range(base, page_size))
        return sm ? IMS_VTD_FR_SGN_8 : IMS_VTD_FR_LGN_4;
    return 0;
}

static void set_fault(ims_vtd_result *res, uint8_t fr, bool fpd)
{
    res->fault = fr;
    res->fault_qualified = ims_vtd_fault_is_qualified(fr);
    res->fault_suppressed = res->fault_qualified && fpd;
    res->pa = 0;
    res->page_size = 0;
    res->r = res->w = res->x = false;
}

/* The walk of one request, whatever the PGTT; walk state for the A/D phase. */
typedef struct xlate {
    ims_vtd_pgtt pgtt;
    ims_vtd_perm perm;
    uint64_t pa, page_size;
    union {
        ims_vtd_ss_walk ss;
        ims_vtd_fs_walk fs;
        ims_vtd_nested_walk nested;
    } u;
} xlate;

static uint8_t walk(const ims_vtd_hw *hw, const ims_vtd_ctx *ctx, const ims_vtd_req *req, bool priv, xlate *x,
                    ims_vtd_access_log *log)
{
    uint8_t fr;
    x->pgtt = ctx->pgtt;
    switch (ctx->pgtt) {
    case IMS_VTD_PGTT_PT:
        x->pa = req->addr;
        x->page_size = IMS_PAGE_SIZE;
        x->perm = (ims_vtd_perm){ .r = true, .w = true, .x = true };
        return 0;
    case IMS_VTD_PGTT_SS:
        fr = ims_vtd_ss_walk_run(hw, ctx, req->addr, req->read, req->write, NULL, 0, &x->u.ss, log);
        if (fr)
            return fr;
        x->pa = x->u.ss.out;
        x->page_size = x->u.ss.page_size;
        x->perm = (ims_vtd_perm){ .r = x->u.ss.r, .w = x->u.ss.w, .x = x->u.ss.x };
        return 0;
    case IMS_VTD_PGTT_FS:
        fr = ims_vtd_fs_walk_run(hw, ctx, req->addr, priv, NULL, ims_vtd_fs_table_identity, (void *)hw,
                                 &x->u.fs, log);
        if (fr)
            return fr;
        x->pa = x->u.fs.out;
        x->page_size = x->u.fs.page_size;
        x->perm = x->u.fs.perm;
        return 0;
    case IMS_VTD_PGTT_NESTED: {
        ims_vtd_req r = *req;
        r.priv = priv;
        fr = ims_vtd_nested_walk_run(hw, ctx, &r, NULL, NULL, NULL, &x->u.nested, log);
        if (fr)
            return fr;
        x->pa = x->u.nested.pa;
        x->page_size = x->u.nested.page_size;
        x->perm = x->u.nested.perm;
        return 0;
    }
    }
    return ctx->scalable ? IMS_VTD_FR_SPT_4 : IMS_VTD_FR_LCT_4;
}

static uint8_t set_ad(const ims_vtd_hw *hw, const ims_vtd_ctx *ctx, const xlate *x, bool dirty, unsigned flags,
                      ims_vtd_access_log *log)
{
    switch (x->pgtt) {
    case IMS_VTD_PGTT_SS:
        return ims_vtd_ss_walk_set_ad(hw, ctx, &x->u.ss, dirty, flags, 0, log);
    case IMS_VTD_PGTT_FS:
        return ims_vtd_fs_walk_set_ad(hw, ctx, &x->u.fs, dirty, flags, log);
    case IMS_VTD_PGTT_NESTED:
        return ims_vtd_nested_walk_set_ad(hw, ctx, &x->u.nested, dirty, flags, log);
    default:
        return 0;
    }
}

void ims_vtd_translate(const ims_vtd_hw *hw, const ims_vtd_req *req, unsigned flags, ims_vtd_result *res,
                       ims_vtd_access_log *log)
{
    memset(res, 0, sizeof *res);
    if (!hw->te) {
        res->untranslated = true;
        res->pa = req->addr;
        res->page_size = IMS_PAGE_SIZE;
        res->r = res->w = res->x = true;
        return;
    }

    ims_vtd_ctx ctx;
    bool qualified = false;
    uint8_t fr = ims_vtd_lookup_ctx(hw, req, &ctx, &qualified, log);
    if (fr) {
        set_fault(res, fr, ctx.fpd);
        res->fault_qualified = qualified;
        res->fault_suppressed = qualified && ctx.fpd;
        return;
    }
    res->ctx = ctx;
    res->ctx_valid = true;

    /* ATS-translated requests carry an HPA already; the lookup admitted them (DTE). */
    if (req->type == IMS_VTD_REQ_TRANSLATED) {
        res->pa = req->addr;
        res->page_size = IMS_PAGE_SIZE;
        res->r = res->w = res->x = true;
        return;
    }

    /* A request without PASID takes its privilege from the context's RID_PRIV
     * (spec rev 5.10 §9.4; always user in legacy mode). */
    bool priv = req->has_pasid ? req->priv : ctx.rid_priv;
    xlate x;
    fr = walk(hw, &ctx, req, priv, &x, log);
    if (fr) {
        set_fault(res, fr, ctx.fpd);
        return;
    }

    ims_vtd_perm perm = x.perm;
    if (req->type == IMS_VTD_REQ_TRANSLATION) {
        /* ATS: permission problems are answered with R/W=0, not faulted. */
        if (perm.us_denied)
            perm.r = perm.w = perm.x = false;
        perm.us_denied = false;
        ims_vtd_req probe = *req;
        probe.read = probe.write = probe.exec = false;
        fr = ims_vtd_check_access(&ctx, &probe, &perm, x.pa, x.page_size);
    } else {
        fr = ims_vtd_check_access(&ctx, req, &perm, x.pa, x.page_size);
    }
    if (fr) {
        set_fault(res, fr, ctx.fpd);
        return;
    }

    /* A translation that grants nothing is not "used": no A/D update. */
    if (perm.r || perm.w) {
        fr = set_ad(hw, &ctx, &x, req->write && perm.w, flags, log);
        if (fr) {
            set_fault(res, fr, ctx.fpd);
            return;
        }
    }
    res->pa = x.pa;
    res->page_size = x.page_size;
    res->r = perm.r;
    res->w = perm.w;
    res->x = perm.x;
}
