/* First-stage page walk (vtd-facts §2.7, §3.3). */
#include "models/vtd/walk_fs.h"

#include <assert.h>
#include <string.h>

#include "models/vtd/fault_reason.h"
#include "models/vtd/regs.h"

uint8_t ims_vtd_fs_table_identity(void *opaque, uint64_t table_addr, unsigned fs_level, uint64_t *hpa,
                                  bool *writable, ims_vtd_access_log *log)
{
    const ims_vtd_hw *hw = opaque;
    (void)fs_level;
    (void)log;
    /* Entries cannot name a table beyond HAW (reserved bits), so only FSPTPTR can get here. */
    unsigned haw = ims_vtd_cap_mgaw_bits(hw->cap);
    if (haw < 64 && (table_addr >> haw) != 0)
        return IMS_VTD_FR_SFS_4;
    *hpa = table_addr & IMS_PTE_ADDR_MASK;
    *writable = true;
    return 0;
}

static bool canonical(uint64_t addr, unsigned width)
{
    /* Bits 63..width-1 must all equal bit width-1. */
    uint64_t top = addr >> (width - 1u);
    return top == 0 || top == (~0ULL >> (width - 1u));
}

static uint8_t fs_fail(ims_vtd_fs_walk *w, uint8_t fr)
{
    w->fault = fr;
    memset(&w->perm, 0, sizeof w->perm);
    return fr;
}

uint8_t ims_vtd_fs_walk_run(const ims_vtd_hw *hw, const ims_vtd_ctx *ctx, uint64_t addr, bool priv,
                            const ims_vtd_fs_start *start, ims_vtd_fs_table_fn table_fn, void *opaque,
                            ims_vtd_fs_walk *w, ims_vtd_access_log *log)
{
    /* Not a memset of the whole walk (the steps are most of it, and a nested
     * translation runs several walks): steps are valid only where read. */
    w->fault = 0;
    w->start_level = w->level = 0;
    w->out = w->page_size = w->leaf = 0;
    w->rw = w->us = false;
    memset(&w->perm, 0, sizeof w->perm);
    w->levels = ctx->fs_levels;
    if (w->levels != 4 && w->levels != 5)
        return fs_fail(w, IMS_VTD_FR_SPT_4);
    if (priv && !ctx->sre)
        return fs_fail(w, IMS_VTD_FR_SPT_6);
    if (!canonical(addr, ims_pt_width(w->levels)))
        return fs_fail(w, IMS_VTD_FR_SGN_1);

    ims_pte_fmt fmt = ims_pte_fmt_from_cap(hw->cap, hw->ecap);
    unsigned level;
    uint64_t table_addr, table;
    bool writable, rw = true, us = true;
    if (start) {
        assert(start->level >= 1 && start->level <= w->levels);
        level = start->level;
        table_addr = table = start->table;
        writable = start->writable;
        rw = start->rw;
        us = start->us;
    } else {
        level = w->levels;
        table_addr = ctx->fsptptr;
        uint8_t fr = table_fn(opaque, table_addr, level, &table, &writable, log);
        if (fr)
            return fs_fail(w, fr);
    }
    w->start_level = level;

    for (;;) {
        uint64_t pte_pa = table + (uint64_t)ims_pt_index(addr, level) * IMS_PTE_SIZE;
        uint64_t pte = ims_physmem_r64(hw->mem, pte_pa);
        ims_vtd_log_access(log, pte_pa, IMS_VTD_ACC_FS_PTE, level, IMS_PTE_SIZE, 0);
        ims_vtd_fs_step *s = &w->step[level];
        w->level = level;
        s->table_addr = table_addr;
        s->table = table;
        s->writable = writable;
        s->pte_pa = pte_pa;
        s->pte = pte;

        if (!ims_fs_pte_p(pte))
            return fs_fail(w, IMS_VTD_FR_SFS_2);
        bool leaf = level == 1 || (ims_fs_pte_ps(pte) && ims_fs_large_ok(&fmt, level));
        if (pte & ims_fs_rsvd_mask(&fmt, level, leaf))
            return fs_fail(w, IMS_VTD_FR_SFS_3);
        rw = rw && ims_fs_pte_rw(pte);
        us = us && ims_fs_pte_us(pte);
        s->rw = rw;
        s->us = us;

        if (leaf) {
            w->out = ims_pte_leaf_addr(pte, level, addr);
            w->page_size = ims_pt_level_size(level);
            w->leaf = pte;
            break;
        }
        table_addr = ims_fs_pte_addr(pte);
        level--;
        uint8_t fr = table_fn(opaque, table_addr, level, &table, &writable, log);
        if (fr)
            return fs_fail(w, fr);
    }

    w->rw = rw;
    w->us = us;
    if (priv) {
        /* Supervisor: U/S does not matter (SMEP is gone); R/W only with WPE. */
        w->perm.r = true;
        w->perm.w = ctx->wpe ? rw : true;
    } else {
        w->perm.us_denied = !us;
        w->perm.r = us;
        w->perm.w = us && rw;
    }
    w->perm.x = w->perm.r; /* XD is ignored: execute requests were removed (vtd-facts §7.4) */
    return 0;
}

uint8_t ims_vtd_fs_walk_set_ad_level(const ims_vtd_hw *hw, const ims_vtd_ctx *ctx, const ims_vtd_fs_walk *w,
                                     unsigned level, bool dirty, unsigned flags, ims_vtd_access_log *log)
{
    assert(w->fault == 0 && level <= w->start_level && level >= w->level);
    const ims_vtd_fs_step *s = &w->step[level];
    uint64_t set = ims_vtd_fs_ad_bits(ctx, s->pte, level == w->level, dirty);
    if (!set || (flags & IMS_VTD_WALK_NO_AD))
        return 0;
    uint64_t old = 0;
    if (ims_physmem_or64(hw->mem, s->pte_pa, set, &old))
        return IMS_VTD_FR_SFS_10;
    if ((old & set) != set)
        ims_vtd_log_access(log, s->pte_pa, IMS_VTD_ACC_FS_AD_WRITE, level, IMS_PTE_SIZE, 0);
    return 0;
}

uint8_t ims_vtd_fs_walk_set_ad(const ims_vtd_hw *hw, const ims_vtd_ctx *ctx, const ims_vtd_fs_walk *w,
                               bool dirty, unsigned flags, ims_vtd_access_log *log)
{
    for (unsigned level = w->start_level; level >= w->level && level >= 1; level--) {
        uint8_t fr = ims_vtd_fs_walk_set_ad_level(hw, ctx, w, level, dirty, flags, log);
        if (fr)
            return fr;
    }
    return 0;
}
