/* Builder of root / context / PASID structures in simulated memory. Reads the
 * current entries back from memory on every call, so it holds no state beyond
 * the root-table address. */
#include "models/vtd/ctx_builder.h"

#include <string.h>

#include "models/vtd/entries.h"

#define PAGE_MASK (IMS_PAGE_SIZE - 1)
#define PASID_MAX ((UINT32_C(1) << 20) - 1)

static void load(ims_physmem *m, uint64_t pa, uint64_t *qw, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        qw[i] = ims_physmem_r64(m, pa + 8 * i);
}

static int store(ims_physmem *m, uint64_t pa, const uint64_t *qw, unsigned n, ims_error *err)
{
    for (unsigned i = 0; i < n; i++) {
        int rc = ims_physmem_w64(m, pa + 8 * i, qw[i]);
        if (rc)
            return ims_errorf(err, rc, "vtd ctx builder: cannot write entry at 0x%llx",
                              (unsigned long long)pa);
    }
    return 0;
}

static int alloc_pages(ims_vtd_ctx_builder *b, uint64_t pages, const char *what, uint64_t *pa, ims_error *err)
{
    *pa = ims_pa_alloc_pages(b->alloc, pages, 0);
    if (!*pa)
        return ims_errorf(err, ENOMEM, "vtd ctx builder: out of pages for %s", what);
    return 0;
}

int ims_vtd_ctxb_init(ims_vtd_ctx_builder *b, ims_pa_alloc *alloc, bool scalable, ims_error *err)
{
    memset(b, 0, sizeof *b);
    if (!alloc || !alloc->mem)
        return ims_errorf(err, EINVAL, "vtd ctx builder: no allocator");
    b->alloc = alloc;
    b->scalable = scalable;
    return alloc_pages(b, 1, "the root table", &b->root, err);
}

uint64_t ims_vtd_ctxb_rtaddr(const ims_vtd_ctx_builder *b)
{
    return b->root | ((b->scalable ? UINT64_C(1) : UINT64_C(0)) << 10);
}

/* ---- context tables ------------------------------------------------------- */

static uint64_t root_entry_pa(const ims_vtd_ctx_builder *b, uint16_t sid)
{
    return b->root + (uint64_t)(sid >> 8) * IMS_VTD_ROOT_ENTRY_SIZE;
}

static unsigned ctx_entry_size(const ims_vtd_ctx_builder *b)
{
    return b->scalable ? IMS_VTD_SMCTX_ENTRY_SIZE : IMS_VTD_CTX_ENTRY_SIZE;
}

/* Context-table base for sid from the root entry; 0 when not present. */
static uint64_t ctx_table(const ims_vtd_ctx_builder *b, uint16_t sid)
{
    uint64_t re[2];
    load(b->alloc->mem, root_entry_pa(b, sid), re, 2);
    if (!b->scalable)
        return ims_vtd_re_p(re) ? ims_vtd_re_ctp(re) : 0;
    if (sid & 0x80)
        return ims_vtd_smre_up(re) ? ims_vtd_smre_uctp(re) : 0;
    return ims_vtd_smre_lp(re) ? ims_vtd_smre_lctp(re) : 0;
}

static uint64_t ctx_index_offset(const ims_vtd_ctx_builder *b, uint16_t sid)
{
    unsigned devfn = sid & 0xFF;
    return b->scalable ? (devfn & 0x7Fu) * IMS_VTD_SMCTX_ENTRY_SIZE : devfn * IMS_VTD_CTX_ENTRY_SIZE;
}

/* Context-entry address for sid, allocating the context table if needed. */
static int ctx_entry_alloc(ims_vtd_ctx_builder *b, uint16_t sid, uint64_t *pa, ims_error *err)
{
    uint64_t table = ctx_table(b, sid);
    if (!table) {
        int rc = alloc_pages(b, 1, "a context table", &table, err);
        if (rc)
            return rc;
        uint64_t re[2], re_pa = root_entry_pa(b, sid);
        load(b->alloc->mem, re_pa, re, 2);
        if (!b->scalable) {
            ims_vtd_re_set_ctp(re, table);
            ims_vtd_re_set_p(re, true);
        } else if (sid & 0x80) {
            ims_vtd_smre_set_uctp(re, table);
            ims_vtd_smre_set_up(re, true);
        } else {
            ims_vtd_smre_set_lctp(re, table);
            ims_vtd_smre_set_lp(re, true);
        }
        rc = store(b->alloc->mem, re_pa, re, 2, err);
        if (rc)
            return rc;
    }
    *pa = table + ctx_index_offset(b, sid);
    return 0;
}

int ims_vtd_ctxb_ctx_entry_pa(const ims_vtd_ctx_builder *b, uint16_t sid, uint64_t *pa, ims_error *err)
{
    uint64_t table = ctx_table(b, sid);
    if (!table)
        return ims_errorf(err, ENOENT, "vtd ctx builder: no context table for sid 0x%04x", sid);
    *pa = table + ctx_index_offset(b, sid);
    return 0;
}

/* ---- legacy context entries ----------------------------------------------- */

int ims_vtd_ctxb_set_legacy_ctx(ims_vtd_ctx_builder *b, uint16_t sid, const ims_vtd_legacy_ctx_cfg *cfg,
                                ims_error *err)
{
    if (b->scalable)
        return ims_errorf(err, EINVAL, "vtd ctx builder: legacy context entry in a scalable-mode table");
    if (cfg->tt > 3 || cfg->aw > 7 || (cfg->ssptptr & PAGE_MASK))
        return ims_errorf(err, EINVAL, "vtd ctx builder: bad legacy context (tt %u, aw %u, ssptptr 0x%llx)",
                          cfg->tt, cfg->aw, (unsigned long long)cfg->ssptptr);
    uint64_t pa = 0;
    int rc = ctx_entry_alloc(b, sid, &pa, err);
    if (rc)
        return rc;
    uint64_t ce[2] = {0, 0};
    ims_vtd_ce_set_p(ce, true);
    ims_vtd_ce_set_fpd(ce, cfg->fpd);
    ims_vtd_ce_set_tt(ce, cfg->tt);
    ims_vtd_ce_set_ssptptr(ce, cfg->ssptptr);
    ims_vtd_ce_set_aw(ce, cfg->aw);
    ims_vtd_ce_set_did(ce, cfg->did);
    return store(b->alloc->mem, pa, ce, 2, err);
}

/* ---- scalable-mode context entries ---------------------------------------- */

/* Pages for a directory of 2^(pdts+7) 8-byte entries. */
static uint64_t dir_pages(unsigned pdts)
{
    uint64_t bytes = (UINT64_C(1) << (pdts + 7)) * IMS_VTD_PASID_DIR_ENTRY_SIZE;
    return bytes <= IMS_PAGE_SIZE ? 1 : bytes / IMS_PAGE_SIZE;
}

int ims_vtd_ctxb_set_sm_ctx(ims_vtd_ctx_builder *b, uint16_t sid, const ims_vtd_sm_ctx_cfg *cfg, ims_error *err)
{
    if (!b->scalable)
        return ims_errorf(err, EINVAL, "vtd ctx builder: scalable-mode context entry in a legacy table");
    if (cfg->pdts > 7 || cfg->rid_pasid > PASID_MAX || (cfg->pasid_dir & PAGE_MASK))
        return ims_errorf(err, EINVAL, "vtd ctx builder: bad scalable context (pdts %u, rid_pasid 0x%x, dir 0x%llx)",
                          cfg->pdts, cfg->rid_pasid, (unsigned long long)cfg->pasid_dir);
    uint64_t pa = 0;
    int rc = ctx_entry_alloc(b, sid, &pa, err);
    if (rc)
        return rc;
    uint64_t ce[4];
    load(b->alloc->mem, pa, ce, 4);
    uint64_t dir = cfg->pasid_dir;
    if (!dir) {
        /* Keep an existing directory that is large enough, so PASID entries
         * already built survive a context update. */
        if (ims_vtd_smce_p(ce) && ims_vtd_smce_pasiddirptr(ce) && ims_vtd_smce_pdts(ce) >= cfg->pdts)
            dir = ims_vtd_smce_pasiddirptr(ce);
        else if ((rc = alloc_pages(b, dir_pages(cfg->pdts), "a PASID directory", &dir, err)))
            return rc;
    }
    memset(ce, 0, sizeof ce);
    ims_vtd_smce_set_p(ce, true);
    ims_vtd_smce_set_fpd(ce, cfg->fpd);
    ims_vtd_smce_set_dte(ce, cfg->dte);
    ims_vtd_smce_set_paside(ce, cfg->paside);
    ims_vtd_smce_set_pre(ce, cfg->pre);
    ims_vtd_smce_set_pdts(ce, cfg->pdts);
    ims_vtd_smce_set_pasiddirptr(ce, dir);
    ims_vtd_smce_set_rid_pasid(ce, cfg->rid_pasid);
    ims_vtd_smce_set_rid_priv(ce, cfg->rid_priv);
    return store(b->alloc->mem, pa, ce, 4, err);
}

/* Directory-entry address for (sid, pasid) from a present context entry. */
int ims_vtd_ctxb_pasid_dir_entry_pa(const ims_vtd_ctx_builder *b, uint16_t sid, uint32_t pasid, uint64_t *pa,
                                    ims_error *err)
{
    if (!b->scalable)
        return ims_errorf(err, EINVAL, "vtd ctx builder: PASID structures need a scalable-mode table");
    uint64_t ce_pa = 0;
    int rc = ims_vtd_ctxb_ctx_entry_pa(b, sid, &ce_pa, err);
    if (rc)
        return rc;
    uint64_t ce[4];
    load(b->alloc->mem, ce_pa, ce, 4);
    if (!ims_vtd_smce_p(ce) || !ims_vtd_smce_pasiddirptr(ce))
        return ims_errorf(err, ENOENT, "vtd ctx builder: sid 0x%04x has no PASID directory", sid);
    if (pasid > PASID_MAX || pasid >= ims_vtd_smce_pasid_limit(ce))
        return ims_errorf(err, ERANGE, "vtd ctx builder: PASID 0x%x beyond the directory of sid 0x%04x (PDTS %u)",
                          pasid, sid, ims_vtd_smce_pdts(ce));
    *pa = ims_vtd_smce_pasiddirptr(ce) + (uint64_t)ims_vtd_pasid_dir_index(pasid) * IMS_VTD_PASID_DIR_ENTRY_SIZE;
    return 0;
}

int ims_vtd_ctxb_pasid_entry_pa(const ims_vtd_ctx_builder *b, uint16_t sid, uint32_t pasid, uint64_t *pa,
                                ims_error *err)
{
    uint64_t de_pa, de[1];
    int rc = ims_vtd_ctxb_pasid_dir_entry_pa(b, sid, pasid, &de_pa, err);
    if (rc)
        return rc;
    load(b->alloc->mem, de_pa, de, 1);
    if (!ims_vtd_pdire_p(de))
        return ims_errorf(err, ENOENT, "vtd ctx builder: no PASID table for sid 0x%04x PASID 0x%x", sid, pasid);
    *pa = ims_vtd_pdire_smptblptr(de) + (uint64_t)ims_vtd_pasid_table_index(pasid) * IMS_VTD_PASID_ENTRY_SIZE;
    return 0;
}

int ims_vtd_ctxb_set_pasid_dir_fpd(ims_vtd_ctx_builder *b, uint16_t sid, uint32_t pasid, bool fpd,
                                   ims_error *err)
{
    uint64_t de_pa, de[1];
    int rc = ims_vtd_ctxb_pasid_dir_entry_pa(b, sid, pasid, &de_pa, err);
    if (rc)
        return rc;
    load(b->alloc->mem, de_pa, de, 1);
    ims_vtd_pdire_set_fpd(de, fpd);
    return store(b->alloc->mem, de_pa, de, 1, err);
}

int ims_vtd_ctxb_set_pasid(ims_vtd_ctx_builder *b, uint16_t sid, uint32_t pasid, const ims_vtd_pasid_cfg *cfg,
                           ims_error *err)
{
    if (cfg->pgtt > 7 || cfg->aw > 7 || cfg->fspm > 3 || (cfg->ssptptr & PAGE_MASK) || (cfg->fsptptr & PAGE_MASK))
        return ims_errorf(err, EINVAL, "vtd ctx builder: bad PASID entry (pgtt %u, aw %u, fspm %u, ssptptr 0x%llx, "
                          "fsptptr 0x%llx)", cfg->pgtt, cfg->aw, cfg->fspm, (unsigned long long)cfg->ssptptr,
                          (unsigned long long)cfg->fsptptr);
    uint64_t de_pa, de[1];
    int rc = ims_vtd_ctxb_pasid_dir_entry_pa(b, sid, pasid, &de_pa, err);
    if (rc)
        return rc;
    load(b->alloc->mem, de_pa, de, 1);
    if (!ims_vtd_pdire_p(de)) {
        uint64_t table;
        if ((rc = alloc_pages(b, 1, "a PASID table", &table, err)))
            return rc;
        ims_vtd_pdire_set_smptblptr(de, table);
        ims_vtd_pdire_set_p(de, true);
        if ((rc = store(b->alloc->mem, de_pa, de, 1, err)))
            return rc;
    }
    uint64_t pe[8] = {0};
    ims_vtd_pasidte_set_p(pe, true);
    ims_vtd_pasidte_set_fpd(pe, cfg->fpd);
    ims_vtd_pasidte_set_aw(pe, cfg->aw);
    ims_vtd_pasidte_set_ssee(pe, cfg->ssee);
    ims_vtd_pasidte_set_pgtt(pe, cfg->pgtt);
    ims_vtd_pasidte_set_ssade(pe, cfg->ssade);
    ims_vtd_pasidte_set_ssptptr(pe, cfg->ssptptr);
    ims_vtd_pasidte_set_did(pe, cfg->did);
    ims_vtd_pasidte_set_pwsnp(pe, cfg->pwsnp);
    ims_vtd_pasidte_set_pgsnp(pe, cfg->pgsnp);
    ims_vtd_pasidte_set_cd(pe, cfg->cd);
    ims_vtd_pasidte_set_emte(pe, cfg->emte);
    ims_vtd_pasidte_set_pat(pe, cfg->pat);
    ims_vtd_pasidte_set_sre(pe, cfg->sre);
    ims_vtd_pasidte_set_ere(pe, cfg->ere);
    ims_vtd_pasidte_set_fspm(pe, cfg->fspm);
    ims_vtd_pasidte_set_wpe(pe, cfg->wpe);
    ims_vtd_pasidte_set_eafe(pe, cfg->eafe);
    ims_vtd_pasidte_set_fsptptr(pe, cfg->fsptptr);
    return store(b->alloc->mem, ims_vtd_pdire_smptblptr(de) +
                 (uint64_t)ims_vtd_pasid_table_index(pasid) * IMS_VTD_PASID_ENTRY_SIZE, pe, 8, err);
}

/* ---- clearing ------------------------------------------------------------- */

static int zero_entry(ims_vtd_ctx_builder *b, uint64_t pa, unsigned size, ims_error *err)
{
    uint64_t z[IMS_VTD_ENTRY_MAX_QW] = {0};
    return store(b->alloc->mem, pa, z, size / 8, err);
}

int ims_vtd_ctxb_clear_ctx(ims_vtd_ctx_builder *b, uint16_t sid, ims_error *err)
{
    uint64_t pa = 0;
    if (ims_vtd_ctxb_ctx_entry_pa(b, sid, &pa, NULL))
        return 0;
    return zero_entry(b, pa, ctx_entry_size(b), err);
}

int ims_vtd_ctxb_clear_pasid(ims_vtd_ctx_builder *b, uint16_t sid, uint32_t pasid, ims_error *err)
{
    if (!b->scalable)
        return ims_errorf(err, EINVAL, "vtd ctx builder: PASID structures need a scalable-mode table");
    uint64_t pa = 0;
    if (ims_vtd_ctxb_pasid_entry_pa(b, sid, pasid, &pa, NULL))
        return 0;
    return zero_entry(b, pa, IMS_VTD_PASID_ENTRY_SIZE, err);
}
