/* Nested (two-dimensional) walk: FS tables in guest-physical space, every FS
 * table address and the final GPA translated by an SS walk (vtd-facts §3.2). */
#include "models/vtd/walk_nested.h"

#include <string.h>

#include "models/vtd/fault_reason.h"

typedef struct nested_cb {
    const ims_vtd_hw *hw;
    const ims_vtd_ctx *ctx;
    ims_vtd_nested_walk *w;
    ims_vtd_ss_start_fn ss_start;
    void *ss_start_opaque;
} nested_cb;

static uint8_t ss_walk_from(nested_cb *cb, uint64_t gpa, bool read, bool write, unsigned tag,
                            ims_vtd_ss_walk *out, ims_vtd_access_log *log)
{
    ims_vtd_ss_start start;
    const ims_vtd_ss_start *sp = NULL;
    if (cb->ss_start && cb->ss_start(cb->ss_start_opaque, gpa, tag, &start))
        sp = &start;
    return ims_vtd_ss_walk_run(cb->hw, cb->ctx, gpa, read, write, sp, tag, out, log);
}

/* ims_vtd_fs_table_fn for nested: an SS read of the FS table's page. */
static uint8_t nested_table(void *opaque, uint64_t gpa, unsigned fs_level, uint64_t *hpa, bool *writable,
                            ims_vtd_access_log *log)
{
    nested_cb *cb = opaque;
    ims_vtd_ss_walk *ss = &cb->w->table_ss[fs_level];
    /* Only FSPTPTR names the top-level table (a cache hit starts below it). */
    bool root = fs_level == cb->ctx->fs_levels;
    uint8_t no_read = root ? IMS_VTD_FR_SFS_6 : IMS_VTD_FR_SFS_7;

    uint8_t fr = ss_walk_from(cb, gpa & IMS_PTE_ADDR_MASK, true, false, fs_level, ss, log);
    cb->w->table_ss_done[fs_level] = fr == 0;
    if (fr == IMS_VTD_FR_SGN_4)
        return IMS_VTD_FR_SFS_5;
    if (fr == IMS_VTD_FR_SSS_2)
        return no_read;
    if (fr)
        return fr;
    if (!ss->r)
        return no_read;
    *hpa = ss->out;
    *writable = ss->w;
    return 0;
}

static uint8_t nested_fail(ims_vtd_nested_walk *w, uint8_t fr)
{
    w->fault = fr;
    memset(&w->perm, 0, sizeof w->perm);
    return fr;
}

uint8_t ims_vtd_nested_walk_run(const ims_vtd_hw *hw, const ims_vtd_ctx *ctx, const ims_vtd_req *req,
                                const ims_vtd_fs_start *fs_start, ims_vtd_ss_start_fn ss_start,
                                void *ss_start_opaque, ims_vtd_nested_walk *w, ims_vtd_access_log *log)
{
    memset(w, 0, sizeof *w);
    nested_cb cb = { hw, ctx, w, ss_start, ss_start_opaque };
    uint8_t fr = ims_vtd_fs_walk_run(hw, ctx, req->addr, req->priv, fs_start, nested_table, &cb, &w->fs, log);
    if (fr)
        return nested_fail(w, fr);

    fr = ss_walk_from(&cb, w->fs.out, req->read, req->write, IMS_VTD_NESTED_FINAL, &w->final_ss, log);
    if (fr)
        return nested_fail(w, fr);

    w->pa = w->final_ss.out;
    w->page_size = w->fs.page_size < w->final_ss.page_size ? w->fs.page_size : w->final_ss.page_size;
    w->perm.us_denied = w->fs.perm.us_denied;
    w->perm.r = w->fs.perm.r && w->final_ss.r;
    w->perm.w = w->fs.perm.w && w->final_ss.w;
    w->perm.x = w->fs.perm.x && w->final_ss.x;
    return 0;
}

uint8_t ims_vtd_nested_walk_set_ad(const ims_vtd_hw *hw, const ims_vtd_ctx *ctx, const ims_vtd_nested_walk *w,
                                   bool dirty, unsigned flags, ims_vtd_access_log *log)
{
    const ims_vtd_fs_walk *fs = &w->fs;
    bool fs_dirty[IMS_PT_MAX_LEVELS + 1] = { false };

    /* Decide before writing anything: an FS A/EA/D update is a write through
     * the SS walk that located that table (V2 §3.8.2). */
    for (unsigned level = fs->start_level; level >= fs->level && level >= 1; level--) {
        const ims_vtd_fs_step *s = &fs->step[level];
        fs_dirty[level] = ims_vtd_fs_ad_bits(ctx, s->pte, level == fs->level, dirty) != 0;
        if (fs_dirty[level] && !s->writable)
            return IMS_VTD_FR_SFS_8;
    }

    for (unsigned level = fs->start_level; level >= fs->level && level >= 1; level--) {
        uint8_t fr;
        if (w->table_ss_done[level]) {
            fr = ims_vtd_ss_walk_set_ad(hw, ctx, &w->table_ss[level], fs_dirty[level], flags, level, log);
            if (fr)
                return fr;
        }
        fr = ims_vtd_fs_walk_set_ad_level(hw, ctx, fs, level, dirty, flags, log);
        if (fr)
            return fr;
    }
    return ims_vtd_ss_walk_set_ad(hw, ctx, &w->final_ss, dirty, flags, IMS_VTD_NESTED_FINAL, log);
}
