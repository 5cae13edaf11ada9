/* Step 1 of a translation: RTADDR -> root entry -> context entry, and in
 * scalable mode -> PASID-directory entry -> PASID-table entry.
 *
 * Pure function of memory, CAP/ECAP and RTADDR; every structure read is
 * appended to the access log before it is checked, so a faulting lookup still
 * reports the reads it made. Check order within an entry: present, reserved
 * bits, programming, then request-dependent conditions (vtd-facts §3.1, §3.5;
 * VT-d spec rev 5.10 Table 30). FPD is evaluated whatever the present bit
 * says (§9.3-§9.6), so each entry's FPD is ORed in as soon as it is read. */
#include <string.h>

#include "models/vtd/entries.h"
#include "models/vtd/fault_reason.h"
#include "models/vtd/regs.h" /* the one decoder of CAP, ECAP and RTADDR fields */
#include "models/vtd/translate.h"

/* AW 1..3 (39/48/57-bit) must have its SAGAW bit (CAP bit 8+AW) set. AW=0
 * (30-bit, 2-level) is reserved since rev 3 and never accepted. */
static bool aw_supported(uint64_t cap, unsigned aw)
{
    return aw >= 1 && aw <= 3 && ims_vtd_cap_aw_supported(cap, aw);
}

/* DID bits above the CAP.ND width (4 + 2*ND bits) are reserved. */
static void add_did_rsvd(uint64_t *mask, uint64_t cap, unsigned w, unsigned hi, unsigned lo)
{
    unsigned width = ims_vtd_cap_did_bits(cap);
    if (width < hi - lo + 1)
        ims_vtd_mask_add(mask, w, hi, lo + width);
}

/* Read one entry of `size` bytes (a multiple of 8) as little-endian qwords.
 * Returns false on a memory error (the x.1 "error accessing" faults). */
static bool read_entry(const ims_vtd_hw *hw, uint64_t pa, unsigned size, ims_vtd_access_kind kind,
                       uint64_t *qw, ims_vtd_access_log *log)
{
    uint8_t buf[IMS_VTD_ENTRY_MAX_QW * 8];
    ims_vtd_log_access(log, pa, kind, 0, size, 0);
    if (ims_physmem_read(hw->mem, pa, buf, size) != 0)
        return false;
    for (unsigned i = 0; i < size / 8; i++) {
        uint64_t v = 0;
        for (unsigned b = 0; b < 8; b++)
            v |= (uint64_t)buf[i * 8 + b] << (8 * b);
        qw[i] = v;
    }
    return true;
}

/* ---- legacy mode (TTM=00b) ------------------------------------------- */

static uint8_t lookup_legacy(const ims_vtd_hw *hw, const ims_vtd_req *req, ims_vtd_ctx *ctx,
                             ims_vtd_access_log *log)
{
    /* Legacy mode blocks every request with PASID before the root table. */
    if (req->has_pasid)
        return IMS_VTD_FR_RTA_2;

    unsigned bus = req->sid >> 8, devfn = req->sid & 0xFF;
    uint64_t re[2];
    uint64_t re_pa = ims_vtd_rtaddr_rta(hw->rtaddr) + bus * IMS_VTD_ROOT_ENTRY_SIZE;
    if (!read_entry(hw, re_pa, IMS_VTD_ROOT_ENTRY_SIZE, IMS_VTD_ACC_ROOT, re, log))
        return IMS_VTD_FR_LRT_1;
    if (!ims_vtd_re_p(re))
        return IMS_VTD_FR_LRT_2;
    if ((re[0] & IMS_VTD_RE_RSVD0) || (re[1] & IMS_VTD_RE_RSVD1))
        return IMS_VTD_FR_LRT_3;

    uint64_t ce[2];
    if (!read_entry(hw, ims_vtd_re_ctp(re) + devfn * IMS_VTD_CTX_ENTRY_SIZE, IMS_VTD_CTX_ENTRY_SIZE,
                    IMS_VTD_ACC_CONTEXT, ce, log))
        return IMS_VTD_FR_LCT_1;
    ctx->fpd = ims_vtd_ce_fpd(ce);
    if (!ims_vtd_ce_p(ce))
        return IMS_VTD_FR_LCT_2;
    uint64_t rsvd[2] = {IMS_VTD_CE_RSVD0, IMS_VTD_CE_RSVD1};
    add_did_rsvd(rsvd, hw->cap, IMS_VTD_F_CE_DID);
    if (ims_vtd_entry_any(ce, rsvd, 2))
        return IMS_VTD_FR_LCT_3;

    unsigned tt = ims_vtd_ce_tt(ce);
    if (tt == IMS_VTD_TT_RESERVED || (tt == IMS_VTD_TT_DEVTLB && !ims_vtd_ecap_dt(hw->ecap)) ||
        (tt == IMS_VTD_TT_PT && !ims_vtd_ecap_pt(hw->ecap)))
        return IMS_VTD_FR_LCT_4;
    /* Checked for every TT: the spec requires the largest AGAW for TT=10b. */
    unsigned aw = ims_vtd_ce_aw(ce);
    if (!aw_supported(hw->cap, aw))
        return IMS_VTD_FR_LCT_4;
    /* Only TT=01b admits ATS translation and translated requests. */
    if (req->type != IMS_VTD_REQ_UNTRANSLATED && tt != IMS_VTD_TT_DEVTLB)
        return IMS_VTD_FR_LCT_5;

    ctx->did = ims_vtd_ce_did(ce);
    ctx->dte = tt == IMS_VTD_TT_DEVTLB;
    if (tt == IMS_VTD_TT_PT) {
        ctx->pgtt = IMS_VTD_PGTT_PT;
    } else {
        ctx->pgtt = IMS_VTD_PGTT_SS;
        ctx->ssptptr = ims_vtd_ce_ssptptr(ce);
        ctx->ss_levels = ims_vtd_aw_levels(aw);
    }
    return IMS_VTD_FR_NONE;
}

/* ---- scalable mode (TTM=01b) ------------------------------------------ */

/* Scalable-mode context entry: everything up to the PASID used. */
static uint8_t check_smce(const ims_vtd_hw *hw, const ims_vtd_req *req, const uint64_t *ce, ims_vtd_ctx *ctx)
{
    uint64_t e = hw->ecap;
    if (!ims_vtd_smce_p(ce))
        return IMS_VTD_FR_SCT_2;
    uint64_t rsvd[4] = {IMS_VTD_SMCE_RSVD0, IMS_VTD_SMCE_RSVD1, IMS_VTD_SMCE_RSVD2, IMS_VTD_SMCE_RSVD3};
    if (!ims_vtd_ecap_dt(e))
        ims_vtd_mask_add(rsvd, IMS_VTD_F_SMCE_DTE);
    if (!ims_vtd_ecap_pasid(e))
        ims_vtd_mask_add(rsvd, IMS_VTD_F_SMCE_PASIDE);
    if (!ims_vtd_ecap_prs(e))
        ims_vtd_mask_add(rsvd, IMS_VTD_F_SMCE_PRE);
    if (!ims_vtd_ecap_rps(e))
        ims_vtd_mask_add(rsvd, IMS_VTD_F_SMCE_RID_PASID);
    if (!ims_vtd_ecap_rprivs(e))
        ims_vtd_mask_add(rsvd, IMS_VTD_F_SMCE_RID_PRIV);
    if (ims_vtd_entry_any(ce, rsvd, 4))
        return IMS_VTD_FR_SCT_3;

    uint32_t limit = ims_vtd_smce_pasid_limit(ce);
    uint32_t rid_pasid = ims_vtd_smce_rid_pasid(ce);   /* 0 when RPS=0 (reserved above) */
    if (!ims_vtd_smce_dte(ce) && ims_vtd_smce_pre(ce))  /* SCT.4.0 */
        return IMS_VTD_FR_SCT_4;
    if (rid_pasid >= limit)                              /* SCT.4.1 */
        return IMS_VTD_FR_SCT_4;
    if (req->type != IMS_VTD_REQ_UNTRANSLATED && !ims_vtd_smce_dte(ce))
        return IMS_VTD_FR_SCT_5;

    if (req->has_pasid) {
        if (!ims_vtd_smce_paside(ce))
            return IMS_VTD_FR_SCT_6;
        unsigned pss = ims_vtd_ecap_pss(e) > 19 ? 19 : ims_vtd_ecap_pss(e);
        if (req->pasid >> (pss + 1))
            return IMS_VTD_FR_SGN_10;
        if (req->pasid >= limit)
            return IMS_VTD_FR_SCT_7;
        /* The RID_PASID value is reserved for requests without PASID. */
        if (req->pasid == rid_pasid)
            return IMS_VTD_FR_SCT_9;
        ctx->pasid = req->pasid;
    } else {
        ctx->pasid = rid_pasid;
    }
    ctx->dte = ims_vtd_smce_dte(ce);
    ctx->pre = ims_vtd_smce_pre(ce);
    return IMS_VTD_FR_NONE;
}

/* Reserved bits of a PASID-table entry given CAP/ECAP (§9.6: fields of
 * unsupported features are treated as reserved). */
static void pasidte_rsvd(uint64_t cap, uint64_t e, uint64_t *rsvd)
{
    rsvd[0] = IMS_VTD_PASIDTE_RSVD0;
    rsvd[1] = IMS_VTD_PASIDTE_RSVD1;
    rsvd[2] = IMS_VTD_PASIDTE_RSVD2;
    for (unsigned i = 3; i < 8; i++)
        rsvd[i] = IMS_VTD_PASIDTE_RSVD3_7;
    add_did_rsvd(rsvd, cap, IMS_VTD_F_PASIDTE_DID);
    if (!ims_vtd_ecap_ers(e)) {
        ims_vtd_mask_add(rsvd, IMS_VTD_F_PASIDTE_SSEE);
        ims_vtd_mask_add(rsvd, IMS_VTD_F_PASIDTE_ERE);
    }
    if (!ims_vtd_ecap_ssts(e)) {
        ims_vtd_mask_add(rsvd, IMS_VTD_F_PASIDTE_AW);
        ims_vtd_mask_add(rsvd, IMS_VTD_F_PASIDTE_SSPTPTR);
    }
    if (!ims_vtd_ecap_ssts(e) || !ims_vtd_ecap_ssads(e))
        ims_vtd_mask_add(rsvd, IMS_VTD_F_PASIDTE_SSADE);
    if (!ims_vtd_ecap_fsts(e)) {
        ims_vtd_mask_add(rsvd, IMS_VTD_F_PASIDTE_FSPM);
        ims_vtd_mask_add(rsvd, IMS_VTD_F_PASIDTE_WPE);
        ims_vtd_mask_add(rsvd, IMS_VTD_F_PASIDTE_FSPTPTR);
    }
    if (!ims_vtd_ecap_srs(e))
        ims_vtd_mask_add(rsvd, IMS_VTD_F_PASIDTE_SRE);
    if (!ims_vtd_ecap_eafs(e))
        ims_vtd_mask_add(rsvd, IMS_VTD_F_PASIDTE_EAFE);
    if (!ims_vtd_ecap_sc(e))
        ims_vtd_mask_add(rsvd, IMS_VTD_F_PASIDTE_PGSNP);
    if (!ims_vtd_ecap_smpwcs(e))
        ims_vtd_mask_add(rsvd, IMS_VTD_F_PASIDTE_PWSNP);
    if (!ims_vtd_ecap_mts(e)) {
        ims_vtd_mask_add(rsvd, IMS_VTD_F_PASIDTE_CD);
        ims_vtd_mask_add(rsvd, IMS_VTD_F_PASIDTE_EMTE);
        ims_vtd_mask_add(rsvd, IMS_VTD_F_PASIDTE_PAT);
    }
}

static bool pgtt_supported(uint64_t e, unsigned pgtt)
{
    switch (pgtt) {
    case IMS_VTD_PGTT_FS: return ims_vtd_ecap_fsts(e);
    case IMS_VTD_PGTT_SS: return ims_vtd_ecap_ssts(e);
    case IMS_VTD_PGTT_NESTED: return ims_vtd_ecap_nest(e);
    case IMS_VTD_PGTT_PT: return ims_vtd_ecap_pt(e);
    default: return false;   /* 000b, 101b-111b reserved */
    }
}

static uint8_t check_pasidte(const ims_vtd_hw *hw, const ims_vtd_req *req, bool priv, const uint64_t *pe)
{
    uint64_t cap = hw->cap, e = hw->ecap;
    if (!ims_vtd_pasidte_p(pe))
        return IMS_VTD_FR_SPT_2;
    uint64_t rsvd[8];
    pasidte_rsvd(cap, e, rsvd);
    if (ims_vtd_entry_any(pe, rsvd, 8))
        return IMS_VTD_FR_SPT_3;

    unsigned pgtt = ims_vtd_pasidte_pgtt(pe);
    if (!pgtt_supported(e, pgtt))
        return IMS_VTD_FR_SPT_4;
    bool ss = pgtt == IMS_VTD_PGTT_SS || pgtt == IMS_VTD_PGTT_NESTED;
    bool fs = pgtt == IMS_VTD_PGTT_FS || pgtt == IMS_VTD_PGTT_NESTED;
    unsigned aw = ims_vtd_pasidte_aw(pe);
    if (ss && !aw_supported(cap, aw))
        return IMS_VTD_FR_SPT_4;
    unsigned fspm = ims_vtd_pasidte_fspm(pe);
    if (fs && (fspm > IMS_VTD_FSPM_5LEVEL || (fspm == IMS_VTD_FSPM_5LEVEL && !ims_vtd_cap_fs5lp(cap))))
        return IMS_VTD_FR_SPT_4;
    if (pgtt == IMS_VTD_PGTT_NESTED) {
        /* SPT.4.4: the FS root GPA must lie below 2^min(MGAW, AGAW). */
        unsigned width = 30 + 9 * aw;
        if (ims_vtd_cap_mgaw_bits(cap) < width)
            width = ims_vtd_cap_mgaw_bits(cap);
        if (width < 64 && (ims_vtd_pasidte_fsptptr(pe) >> width))
            return IMS_VTD_FR_SPT_4;
    }
    /* ER only exists on requests with PASID; ERE is honoured only with ERS. */
    if (req->has_pasid && req->exec && (!ims_vtd_ecap_ers(e) || !ims_vtd_pasidte_ere(pe)))
        return IMS_VTD_FR_SPT_5;
    /* SRE gates supervisor requests whatever the PGTT (§9.6 SRE, Table 30 SPT.6). */
    if (priv && !ims_vtd_pasidte_sre(pe))
        return IMS_VTD_FR_SPT_6;
    return IMS_VTD_FR_NONE;
}

static void fill_from_pasidte(const uint64_t *pe, ims_vtd_ctx *ctx)
{
    unsigned pgtt = ims_vtd_pasidte_pgtt(pe);
    ctx->pgtt = (ims_vtd_pgtt)pgtt;
    ctx->did = ims_vtd_pasidte_did(pe);
    if (pgtt == IMS_VTD_PGTT_SS || pgtt == IMS_VTD_PGTT_NESTED) {
        ctx->ssptptr = ims_vtd_pasidte_ssptptr(pe);
        ctx->ss_levels = ims_vtd_aw_levels(ims_vtd_pasidte_aw(pe));
        ctx->ssade = ims_vtd_pasidte_ssade(pe);
        ctx->ssee = ims_vtd_pasidte_ssee(pe);
    }
    if (pgtt == IMS_VTD_PGTT_FS || pgtt == IMS_VTD_PGTT_NESTED) {
        ctx->fsptptr = ims_vtd_pasidte_fsptptr(pe);
        ctx->fs_levels = ims_vtd_fspm_levels(ims_vtd_pasidte_fspm(pe));
        ctx->wpe = ims_vtd_pasidte_wpe(pe);
        ctx->eafe = ims_vtd_pasidte_eafe(pe);
    }
    ctx->sre = ims_vtd_pasidte_sre(pe);
    ctx->pwsnp = ims_vtd_pasidte_pwsnp(pe);
    ctx->pgsnp = ims_vtd_pasidte_pgsnp(pe);
}

static uint8_t lookup_scalable(const ims_vtd_hw *hw, const ims_vtd_req *req, ims_vtd_ctx *ctx,
                               ims_vtd_access_log *log)
{
    unsigned bus = req->sid >> 8, devfn = req->sid & 0xFF;
    uint64_t re[2];
    uint64_t re_pa = ims_vtd_rtaddr_rta(hw->rtaddr) + bus * IMS_VTD_ROOT_ENTRY_SIZE;
    if (!read_entry(hw, re_pa, IMS_VTD_ROOT_ENTRY_SIZE, IMS_VTD_ACC_ROOT, re, log))
        return IMS_VTD_FR_SRT_1;
    /* devfn[7] picks the half; only that half's P and reserved bits matter. */
    uint64_t ctp;
    if (devfn & 0x80) {
        if (!ims_vtd_smre_up(re))
            return IMS_VTD_FR_SRT_2;
        if (re[1] & IMS_VTD_SMRE_RSVD1)
            return IMS_VTD_FR_SRT_3;
        ctp = ims_vtd_smre_uctp(re);
    } else {
        if (!ims_vtd_smre_lp(re))
            return IMS_VTD_FR_SRT_2;
        if (re[0] & IMS_VTD_SMRE_RSVD0)
            return IMS_VTD_FR_SRT_3;
        ctp = ims_vtd_smre_lctp(re);
    }

    uint64_t ce[4];
    if (!read_entry(hw, ctp + (devfn & 0x7F) * IMS_VTD_SMCTX_ENTRY_SIZE, IMS_VTD_SMCTX_ENTRY_SIZE,
                    IMS_VTD_ACC_CONTEXT, ce, log))
        return IMS_VTD_FR_SCT_1;
    ctx->fpd = ims_vtd_smce_fpd(ce);
    uint8_t fr = check_smce(hw, req, ce, ctx);
    if (fr)
        return fr;
    /* Requests without PASID take their privilege from RID_PRIV (0 without RPRIVS). */
    ctx->rid_priv = ims_vtd_smce_rid_priv(ce);
    bool priv = req->has_pasid ? req->priv : ctx->rid_priv;

    uint64_t de[1];
    if (!read_entry(hw, ims_vtd_smce_pasiddirptr(ce) + ims_vtd_pasid_dir_index(ctx->pasid) *
                    IMS_VTD_PASID_DIR_ENTRY_SIZE, IMS_VTD_PASID_DIR_ENTRY_SIZE, IMS_VTD_ACC_PASID_DIR, de, log))
        return IMS_VTD_FR_SPD_1;
    ctx->fpd |= ims_vtd_pdire_fpd(de);
    if (!ims_vtd_pdire_p(de))
        return IMS_VTD_FR_SPD_2;
    if (de[0] & IMS_VTD_PDIRE_RSVD0)
        return IMS_VTD_FR_SPD_3;

    uint64_t pe[8];
    if (!read_entry(hw, ims_vtd_pdire_smptblptr(de) + ims_vtd_pasid_table_index(ctx->pasid) *
                    IMS_VTD_PASID_ENTRY_SIZE, IMS_VTD_PASID_ENTRY_SIZE, IMS_VTD_ACC_PASID_ENTRY, pe, log))
        return IMS_VTD_FR_SPT_1;
    ctx->fpd |= ims_vtd_pasidte_fpd(pe);
    fr = check_pasidte(hw, req, priv, pe);
    if (fr)
        return fr;
    fill_from_pasidte(pe, ctx);
    return IMS_VTD_FR_NONE;
}

uint8_t ims_vtd_lookup_ctx(const ims_vtd_hw *hw, const ims_vtd_req *req, ims_vtd_ctx *ctx,
                           bool *qualified, ims_vtd_access_log *log)
{
    memset(ctx, 0, sizeof *ctx);
    uint8_t fr;
    switch (ims_vtd_rtaddr_ttm(hw->rtaddr)) {
    case IMS_VTD_TTM_LEGACY:
        fr = lookup_legacy(hw, req, ctx, log);
        break;
    case IMS_VTD_TTM_SCALABLE:
        ctx->scalable = true;
        fr = ims_vtd_ecap_smts(hw->ecap) ? lookup_scalable(hw, req, ctx, log) : IMS_VTD_FR_RTA_1;
        break;
    case IMS_VTD_TTM_ABORT_DMA:
        /* Abort-DMA mode behaves as if no root table exists (spec §3.4.4). */
        fr = ims_vtd_ecap_adms(hw->ecap) ? IMS_VTD_FR_RTA_4 : IMS_VTD_FR_RTA_1;
        break;
    default:
        fr = IMS_VTD_FR_RTA_1;  /* TTM=10b is reserved */
        break;
    }
    if (qualified)
        *qualified = fr != IMS_VTD_FR_NONE && ims_vtd_fault_is_qualified(fr);
    return fr;
}
