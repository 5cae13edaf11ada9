/* Second-stage page walk (vtd-facts §2.8, §2.9, §3.3). */
#include "models/vtd/walk_ss.h"

#include <assert.h>
#include <string.h>

#include "models/vtd/fault_reason.h"
#include "models/vtd/regs.h"

unsigned ims_vtd_ss_input_width(const ims_vtd_hw *hw, unsigned ss_levels)
{
    unsigned agaw = ims_pt_width(ss_levels);
    unsigned mgaw = ims_vtd_cap_mgaw_bits(hw->cap);
    return agaw < mgaw ? agaw : mgaw;
}

bool ims_vtd_ss_ad_enabled(const ims_vtd_hw *hw, const ims_vtd_ctx *ctx)
{
    /* Legacy mode has no hardware A/D. */
    return ctx->scalable && ctx->ssade && ims_vtd_ecap_ssads(hw->ecap);
}

static uint8_t ss_fault(const ims_vtd_ctx *ctx, uint8_t legacy, uint8_t scalable)
{
    return ctx->scalable ? scalable : legacy;
}

static uint8_t ss_fail(ims_vtd_ss_walk *w, uint8_t fr)
{
    w->fault = fr;
    w->r = w->w = w->x = false;
    return fr;
}

uint8_t ims_vtd_ss_walk_run(const ims_vtd_hw *hw, const ims_vtd_ctx *ctx, uint64_t addr, bool read,
                            bool write, const ims_vtd_ss_start *start, unsigned nested_fs_level,
                            ims_vtd_ss_walk *w, ims_vtd_access_log *log)
{
    /* Not a memset of the whole walk (the steps are most of it, and a nested
     * translation runs several walks): steps are valid only where read. */
    w->fault = 0;
    w->start_level = w->level = 0;
    w->out = w->page_size = w->leaf = 0;
    w->r = w->w = w->x = false;
    w->levels = ctx->ss_levels;
    if (w->levels < 3 || w->levels > IMS_PT_MAX_LEVELS)
        return ss_fail(w, ss_fault(ctx, IMS_VTD_FR_LCT_4, IMS_VTD_FR_SPT_4));

    unsigned width = ims_vtd_ss_input_width(hw, w->levels);
    if (width < 64 && (addr >> width) != 0)
        return ss_fail(w, ss_fault(ctx, IMS_VTD_FR_LGN_1, IMS_VTD_FR_SGN_4));

    ims_pte_fmt fmt = ims_pte_fmt_from_cap(hw->cap, hw->ecap);
    /* X is honoured only with SSEE and ECAP.ERS (vtd-facts §2.8, JG); otherwise
     * execute permission follows read permission. */
    bool x_on = ctx->scalable && ctx->ssee && ims_vtd_ecap_ers(hw->ecap);

    unsigned level;
    uint64_t table;
    bool r = true, wr = true, x = true;
    if (start) {
        assert(start->level >= 1 && start->level <= w->levels);
        level = start->level;
        table = start->table;
        r = start->r;
        wr = start->w;
        x = start->x;
    } else {
        level = w->levels;
        table = ctx->ssptptr & IMS_PTE_ADDR_MASK;
        if (fmt.haw < 64 && (ctx->ssptptr >> fmt.haw) != 0)
            return ss_fail(w, ss_fault(ctx, IMS_VTD_FR_LSS_1, IMS_VTD_FR_SSS_4));
    }
    w->start_level = level;

    for (;;) {
        uint64_t pte_pa = table + (uint64_t)ims_pt_index(addr, level) * IMS_PTE_SIZE;
        uint64_t pte = ims_physmem_r64(hw->mem, pte_pa);
        ims_vtd_log_access(log, pte_pa, IMS_VTD_ACC_SS_PTE, level, IMS_PTE_SIZE, nested_fs_level);
        w->level = level;
        w->step[level].table = table;
        w->step[level].pte_pa = pte_pa;
        w->step[level].pte = pte;

        if (!ims_ss_pte_present(pte)) {
            uint8_t legacy = (write && !read) ? IMS_VTD_FR_LGN_2 : IMS_VTD_FR_LGN_3;
            return ss_fail(w, ss_fault(ctx, legacy, IMS_VTD_FR_SSS_2));
        }
        bool leaf = level == 1 || (ims_ss_pte_ps(pte) && ims_ss_large_ok(&fmt, level));
        if (pte & ims_ss_rsvd_mask(&fmt, level, leaf))
            return ss_fail(w, ss_fault(ctx, IMS_VTD_FR_LSS_2, IMS_VTD_FR_SSS_3));

        r = r && ims_ss_pte_r(pte);
        wr = wr && ims_ss_pte_w(pte);
        x = x && (x_on ? ims_ss_pte_x(pte) : ims_ss_pte_r(pte));
        w->step[level].r = r;
        w->step[level].w = wr;
        w->step[level].x = x;

        if (leaf) {
            w->out = ims_pte_leaf_addr(pte, level, addr);
            w->page_size = ims_pt_level_size(level);
            w->leaf = pte;
            w->r = r;
            w->w = wr;
            w->x = x;
            return 0;
        }
        table = ims_ss_pte_addr(pte);
        level--;
    }
}

uint8_t ims_vtd_ss_walk_set_ad(const ims_vtd_hw *hw, const ims_vtd_ctx *ctx, const ims_vtd_ss_walk *w,
                               bool dirty, unsigned flags, unsigned nested_fs_level,
                               ims_vtd_access_log *log)
{
    assert(w->fault == 0);
    if (!ims_vtd_ss_ad_enabled(hw, ctx) || (flags & IMS_VTD_WALK_NO_AD))
        return 0;
    for (unsigned level = w->start_level; level >= w->level && level >= 1; level--) {
        const ims_vtd_ss_step *s = &w->step[level];
        uint64_t set = IMS_SS_PTE_A;
        if (level == w->level && dirty)
            set |= IMS_SS_PTE_D;
        if ((s->pte & set) == set)
            continue;
        uint64_t old = 0;
        if (ims_physmem_or64(hw->mem, s->pte_pa, set, &old))
            return ss_fault(ctx, IMS_VTD_FR_LSS_1, IMS_VTD_FR_SSS_1);
        /* An earlier walk in the same request (nested) may already have set it. */
        if ((old & set) != set)
            ims_vtd_log_access(log, s->pte_pa, IMS_VTD_ACC_SS_AD_WRITE, level, IMS_PTE_SIZE,
                               nested_fs_level);
    }
    return 0;
}
