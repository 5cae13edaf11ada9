/* VT-d invalidation descriptors: decode/validate, build, format. The rules
 * and the decisions on disputed points are documented in inv_desc.h. */
#include "models/vtd/inv_desc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "models/dev/ats_range.h"
#include "models/vtd/iotlb.h"
#include "models/vtd/regs.h"

/* ---- reserved masks --------------------------------------------------------- */

void ims_qi_reserved_mask(unsigned type, uint64_t ecap, uint64_t mask[IMS_QI_DESC_QW])
{
    mask[2] = IMS_QI_RSVD_HI;
    mask[3] = IMS_QI_RSVD_HI;
    switch (type) {
    case IMS_QI_TYPE_CC:
        mask[0] = IMS_QI_CC_RSVD0;
        mask[1] = IMS_QI_CC_RSVD1;
        break;
    case IMS_QI_TYPE_IOTLB:
        mask[0] = IMS_QI_IOTLB_RSVD0;
        mask[1] = IMS_QI_IOTLB_RSVD1;
        break;
    case IMS_QI_TYPE_DEV_TLB:
        mask[0] = IMS_QI_DEV_TLB_RSVD0 | (ims_vtd_ecap_dit(ecap) ? 0 : IMS_QI_DEV_TLB_PFSID0);
        mask[1] = IMS_QI_DEV_TLB_RSVD1;
        break;
    case IMS_QI_TYPE_IEC:
        mask[0] = IMS_QI_IEC_RSVD0;
        mask[1] = IMS_QI_IEC_RSVD1;
        break;
    case IMS_QI_TYPE_WAIT:
        mask[0] = IMS_QI_WAIT_RSVD0 | (ims_vtd_ecap_pds(ecap) ? 0 : IMS_QI_WAIT_PD0);
        mask[1] = IMS_QI_WAIT_RSVD1;
        break;
    case IMS_QI_TYPE_PIOTLB:
        mask[0] = IMS_QI_PIOTLB_RSVD0;
        mask[1] = IMS_QI_PIOTLB_RSVD1;
        break;
    case IMS_QI_TYPE_PC:
        mask[0] = IMS_QI_PC_RSVD0;
        mask[1] = IMS_QI_PC_RSVD1;
        break;
    case IMS_QI_TYPE_PDEV_TLB:
        mask[0] = IMS_QI_PDEV_TLB_RSVD0 | (ims_vtd_ecap_dit(ecap) ? 0 : IMS_QI_PDEV_TLB_PFSID0);
        mask[1] = IMS_QI_PDEV_TLB_RSVD1;
        break;
    case IMS_QI_TYPE_PGRP_RESP:
        mask[0] = IMS_QI_PGRP_RSVD0;
        mask[1] = IMS_QI_PGRP_RSVD1;
        break;
    default:
        mask[0] = IMS_QI_RSVD_HI;
        mask[1] = IMS_QI_RSVD_HI;
        break;
    }
}

/* ---- type table ------------------------------------------------------------- */

bool ims_qi_type_is_256(unsigned type)
{
    return type >= IMS_QI_TYPE_PIOTLB && type <= IMS_QI_TYPE_HPT;
}

const char *ims_qi_type_name(unsigned type)
{
    switch (type) {
    case IMS_QI_TYPE_CC: return "cc";
    case IMS_QI_TYPE_IOTLB: return "iotlb";
    case IMS_QI_TYPE_DEV_TLB: return "dev_tlb";
    case IMS_QI_TYPE_IEC: return "iec";
    case IMS_QI_TYPE_WAIT: return "wait";
    case IMS_QI_TYPE_PIOTLB: return "piotlb";
    case IMS_QI_TYPE_PC: return "pc";
    case IMS_QI_TYPE_PDEV_TLB: return "pdev_tlb";
    case IMS_QI_TYPE_PGRP_RESP: return "page_grp_resp";
    case IMS_QI_TYPE_HPT: return "hpt";
    default: return "unknown";
    }
}

/* Whether this unit implements the type at all (Table 26 and the per-type
 * capability rules of §6.5.2.5-6, §7.6.1). */
static bool type_supported(unsigned type, bool dw256, uint64_t ecap)
{
    if (ims_qi_type_is_256(type) && !dw256)
        return false;
    switch (type) {
    case IMS_QI_TYPE_CC:
    case IMS_QI_TYPE_IOTLB:
    case IMS_QI_TYPE_IEC:
    case IMS_QI_TYPE_WAIT:
        return true;
    case IMS_QI_TYPE_DEV_TLB:
        return ims_vtd_ecap_dt(ecap);
    case IMS_QI_TYPE_PIOTLB:
    case IMS_QI_TYPE_PC:
        return ims_vtd_ecap_smts(ecap);
    case IMS_QI_TYPE_PDEV_TLB:
        return ims_vtd_ecap_smts(ecap) && ims_vtd_ecap_dt(ecap);
    case IMS_QI_TYPE_PGRP_RESP:
        return ims_vtd_ecap_prs(ecap);
    default: /* 0, HPT (ECAP.HPTS is 0 in this model), 0xB..0x7F */
        return false;
    }
}

static uint16_t did_mask(uint64_t cap)
{
    unsigned bits = ims_vtd_cap_did_bits(cap);
    return bits >= 16 ? 0xFFFFu : (uint16_t)((1u << bits) - 1);
}

/* ---- per-type field decoding (reserved bits already checked) ------------- */

static int decode_cc(const uint64_t *qw, uint64_t cap, ims_qi_cc *o)
{
    unsigned g = ims_qi_cc_g(qw);
    if (g == 0)
        return IMS_VTD_IQEI_RESERVED;
    o->g = (ims_qi_cc_gran)g;
    if (g != IMS_QI_CC_GLOBAL)
        o->did = ims_qi_cc_did(qw) & did_mask(cap);
    if (g == IMS_QI_CC_DEVICE_SELECTIVE) {
        o->sid = ims_qi_cc_sid(qw);
        o->fm = ims_qi_cc_fm(qw);
    }
    return 0;
}

static int decode_iotlb(const uint64_t *qw, uint64_t cap, ims_qi_iotlb *o)
{
    unsigned g = ims_qi_iotlb_g(qw);
    if (g == 0)
        return IMS_VTD_IQEI_RESERVED;
    if (g == IMS_QI_IOTLB_PAGE_SELECTIVE) {
        /* §6.5.2.3: PSI is invalid without CAP.PSI; MAMV is the largest AM
         * the unit supports (decision: larger is a reserved-field error). */
        if (!ims_vtd_cap_psi(cap) || ims_qi_iotlb_am(qw) > ims_vtd_cap_mamv(cap))
            return IMS_VTD_IQEI_RESERVED;
        o->addr = ims_qi_iotlb_addr(qw);
        o->am = ims_qi_iotlb_am(qw);
        o->ih = ims_qi_iotlb_ih(qw);
    }
    o->g = (ims_qi_iotlb_gran)g;
    if (g != IMS_QI_IOTLB_GLOBAL)
        o->did = ims_qi_iotlb_did(qw) & did_mask(cap);
    o->dr = ims_qi_iotlb_dr(qw);
    o->dw = ims_qi_iotlb_dw(qw);
    return 0;
}

static int decode_dev_tlb(const uint64_t *qw, ims_qi_dev_tlb *o)
{
    o->sid = ims_qi_dev_tlb_sid(qw);
    o->pfsid = ims_qi_dev_tlb_pfsid(qw);
    o->mip = ims_qi_dev_tlb_mip(qw);
    o->addr = ims_qi_dev_tlb_addr(qw);
    o->s = ims_qi_dev_tlb_s(qw);
    return 0;
}

static int decode_iec(const uint64_t *qw, uint64_t ecap, ims_qi_iec *o)
{
    o->g = ims_qi_iec_g(qw) ? IMS_QI_IEC_INDEX_SELECTIVE : IMS_QI_IEC_GLOBAL;
    if (o->g == IMS_QI_IEC_INDEX_SELECTIVE) {
        /* Same rule as AM vs. MAMV: IM beyond ECAP.MHMV is unsupported. */
        if (ims_qi_iec_im(qw) > ims_vtd_ecap_mhmv(ecap))
            return IMS_VTD_IQEI_RESERVED;
        o->iidx = ims_qi_iec_iidx(qw);
        o->im = ims_qi_iec_im(qw);
    }
    return 0;
}

static int decode_wait(const uint64_t *qw, ims_qi_wait *o)
{
    o->iflag = ims_qi_wait_if(qw);
    o->sw = ims_qi_wait_sw(qw);
    o->fn = ims_qi_wait_fn(qw);
    o->pd = ims_qi_wait_pd(qw);
    if (o->sw) { /* address and data are ignored without SW (§6.5.2.9) */
        o->status_data = ims_qi_wait_status_data(qw);
        o->status_addr = ims_qi_wait_status_addr(qw);
    }
    return 0;
}

static int decode_piotlb(const uint64_t *qw, uint64_t cap, ims_qi_piotlb *o)
{
    unsigned g = ims_qi_piotlb_g(qw);
    if (g != IMS_QI_PIOTLB_PASID_SELECTIVE && g != IMS_QI_PIOTLB_PAGE_SELECTIVE)
        return IMS_VTD_IQEI_RESERVED; /* 00b/01b reserved (§6.5.2.4) */
    o->g = (ims_qi_piotlb_gran)g;
    o->did = ims_qi_piotlb_did(qw) & did_mask(cap);
    o->pasid = ims_qi_piotlb_pasid(qw);
    if (g == IMS_QI_PIOTLB_PAGE_SELECTIVE) {
        o->addr = ims_qi_piotlb_addr(qw);
        o->am = ims_qi_piotlb_am(qw);
        o->ih = ims_qi_piotlb_ih(qw);
    }
    return 0;
}

static int decode_pc(const uint64_t *qw, uint64_t cap, ims_qi_pc *o)
{
    unsigned g = ims_qi_pc_g(qw);
    if (g == 2)
        return IMS_VTD_IQEI_RESERVED; /* 10b reserved (§6.5.2.2) */
    o->g = (ims_qi_pc_gran)g;
    if (g != IMS_QI_PC_GLOBAL)
        o->did = ims_qi_pc_did(qw) & did_mask(cap);
    if (g == IMS_QI_PC_PASID_SELECTIVE)
        o->pasid = ims_qi_pc_pasid(qw);
    return 0;
}

static int decode_pdev_tlb(const uint64_t *qw, ims_qi_pdev_tlb *o)
{
    o->sid = ims_qi_pdev_tlb_sid(qw);
    o->pfsid = ims_qi_pdev_tlb_pfsid(qw);
    o->mip = ims_qi_pdev_tlb_mip(qw);
    o->gi = ims_qi_pdev_tlb_gi(qw);
    if (!o->gi) /* PASID is ignored for a global invalidation (§6.5.2.6) */
        o->pasid = ims_qi_pdev_tlb_pasid(qw);
    o->addr = ims_qi_pdev_tlb_addr(qw);
    o->s = ims_qi_pdev_tlb_s(qw);
    return 0;
}

static int decode_pgrp(const uint64_t *qw, ims_qi_page_grp_resp *o)
{
    o->rid = ims_qi_page_grp_resp_rid(qw);
    o->pp = ims_qi_page_grp_resp_pp(qw);
    if (o->pp)
        o->pasid = ims_qi_page_grp_resp_pasid(qw);
    o->rc = ims_qi_page_grp_resp_rc(qw);
    o->prgi = ims_qi_page_grp_resp_prgi(qw);
    return 0;
}

int ims_qi_decode(const uint64_t qw[IMS_QI_DESC_QW], bool dw256, uint64_t cap, uint64_t ecap, ims_qi_desc *out)
{
    unsigned type = ims_qi_type_of(qw);
    memset(out, 0, sizeof *out);
    out->type = (ims_qi_type)type;
    /* §11.4.9.9 IQEI 5: 256-bit descriptors need SMTS or ADMS. */
    if (dw256 && !ims_vtd_ecap_smts(ecap) && !ims_vtd_ecap_adms(ecap))
        return IMS_VTD_IQEI_BAD_WIDTH;
    if (!type_supported(type, dw256, ecap))
        return IMS_VTD_IQEI_BAD_TYPE;
    uint64_t rsvd[IMS_QI_DESC_QW];
    ims_qi_reserved_mask(type, ecap, rsvd);
    if (ims_vtd_entry_any(qw, rsvd, dw256 ? 4u : 2u))
        return IMS_VTD_IQEI_RESERVED;
    int r;
    switch (type) {
    case IMS_QI_TYPE_CC: r = decode_cc(qw, cap, &out->cc); break;
    case IMS_QI_TYPE_IOTLB: r = decode_iotlb(qw, cap, &out->iotlb); break;
    case IMS_QI_TYPE_DEV_TLB: r = decode_dev_tlb(qw, &out->dev_tlb); break;
    case IMS_QI_TYPE_IEC: r = decode_iec(qw, ecap, &out->iec); break;
    case IMS_QI_TYPE_WAIT: r = decode_wait(qw, &out->wait); break;
    case IMS_QI_TYPE_PIOTLB: r = decode_piotlb(qw, cap, &out->piotlb); break;
    case IMS_QI_TYPE_PC: r = decode_pc(qw, cap, &out->pc); break;
    case IMS_QI_TYPE_PDEV_TLB: r = decode_pdev_tlb(qw, &out->pdev_tlb); break;
    case IMS_QI_TYPE_PGRP_RESP: r = decode_pgrp(qw, &out->page_grp_resp); break;
    default: r = IMS_VTD_IQEI_BAD_TYPE; break; /* unreachable: type_supported */
    }
    if (r != 0) {
        memset(out, 0, sizeof *out);
        out->type = (ims_qi_type)type;
    }
    return r;
}

int ims_qi_decode_mode(const uint64_t qw[IMS_QI_DESC_QW], bool dw256, unsigned ttm, uint64_t cap, uint64_t ecap,
                       ims_qi_desc *out)
{
    unsigned type = ims_qi_type_of(qw);
    switch (ttm) {
    case IMS_VTD_TTM_LEGACY:
        if (type > IMS_QI_TYPE_WAIT) {
            memset(out, 0, sizeof *out);
            out->type = (ims_qi_type)type;
            return IMS_VTD_IQEI_BAD_TYPE;
        }
        break;
    case IMS_VTD_TTM_SCALABLE:
    case IMS_VTD_TTM_ABORT_DMA:
        if (!dw256) {
            memset(out, 0, sizeof *out);
            out->type = (ims_qi_type)type;
            return IMS_VTD_IQEI_BAD_WIDTH;
        }
        break;
    default:
        memset(out, 0, sizeof *out);
        out->type = (ims_qi_type)type;
        return IMS_VTD_IQEI_BAD_TTM;
    }
    return ims_qi_decode(qw, dw256, cap, ecap, out);
}

void ims_qi_am_span(uint64_t addr, unsigned am, uint64_t *first, uint64_t *last)
{
    ims_vtd_am_range(addr, am, first, last);
}

/* ---- builders ----------------------------------------------------------------- */

static void start(uint64_t *qw, unsigned type)
{
    memset(qw, 0, IMS_QI_DESC_QW * sizeof qw[0]);
    ims_vtd_entry_put(qw, IMS_QI_F_TYPE_LO, type & 0xFu);
    ims_vtd_entry_put(qw, IMS_QI_F_TYPE_HI, type >> 4);
}

void ims_qi_build_cc_global(uint64_t qw[IMS_QI_DESC_QW])
{
    start(qw, IMS_QI_TYPE_CC);
    ims_vtd_entry_put(qw, IMS_QI_F_CC_G, IMS_QI_CC_GLOBAL);
}

void ims_qi_build_cc_domain(uint64_t qw[IMS_QI_DESC_QW], uint16_t did)
{
    start(qw, IMS_QI_TYPE_CC);
    ims_vtd_entry_put(qw, IMS_QI_F_CC_G, IMS_QI_CC_DOMAIN_SELECTIVE);
    ims_vtd_entry_put(qw, IMS_QI_F_CC_DID, did);
}

void ims_qi_build_cc_device(uint64_t qw[IMS_QI_DESC_QW], uint16_t did, uint16_t sid, unsigned fm)
{
    start(qw, IMS_QI_TYPE_CC);
    ims_vtd_entry_put(qw, IMS_QI_F_CC_G, IMS_QI_CC_DEVICE_SELECTIVE);
    ims_vtd_entry_put(qw, IMS_QI_F_CC_DID, did);
    ims_vtd_entry_put(qw, IMS_QI_F_CC_SID, sid);
    ims_vtd_entry_put(qw, IMS_QI_F_CC_FM, fm);
}

static void iotlb_common(uint64_t *qw, unsigned g, uint16_t did, bool dr, bool dw)
{
    start(qw, IMS_QI_TYPE_IOTLB);
    ims_vtd_entry_put(qw, IMS_QI_F_IOTLB_G, g);
    ims_vtd_entry_put(qw, IMS_QI_F_IOTLB_DID, did);
    ims_vtd_entry_put(qw, IMS_QI_F_IOTLB_DR, dr);
    ims_vtd_entry_put(qw, IMS_QI_F_IOTLB_DW, dw);
}

void ims_qi_build_iotlb_global(uint64_t qw[IMS_QI_DESC_QW], bool dr, bool dw)
{
    iotlb_common(qw, IMS_QI_IOTLB_GLOBAL, 0, dr, dw);
}

void ims_qi_build_iotlb_dsi(uint64_t qw[IMS_QI_DESC_QW], uint16_t did, bool dr, bool dw)
{
    iotlb_common(qw, IMS_QI_IOTLB_DOMAIN_SELECTIVE, did, dr, dw);
}

void ims_qi_build_iotlb_psi(uint64_t qw[IMS_QI_DESC_QW], uint16_t did, uint64_t addr, unsigned am, bool ih, bool dr,
                            bool dw)
{
    iotlb_common(qw, IMS_QI_IOTLB_PAGE_SELECTIVE, did, dr, dw);
    ims_vtd_entry_put(qw, IMS_QI_F_IOTLB_ADDR, addr >> 12);
    ims_vtd_entry_put(qw, IMS_QI_F_IOTLB_AM, am);
    ims_vtd_entry_put(qw, IMS_QI_F_IOTLB_IH, ih);
}

int ims_qi_build_dev_tlb(uint64_t qw[IMS_QI_DESC_QW], uint16_t sid, uint16_t pfsid, unsigned mip, uint64_t addr,
                         unsigned size_order)
{
    ims_ats_range r = {.base = addr, .order = size_order};
    uint64_t ats_addr;
    bool s;
    if (ims_ats_range_encode(&r, &ats_addr, &s) != 0)
        return -EINVAL;
    start(qw, IMS_QI_TYPE_DEV_TLB);
    ims_vtd_entry_put(qw, IMS_QI_F_DEV_TLB_SID, sid);
    ims_vtd_entry_put(qw, IMS_QI_F_DEV_TLB_PFSID_LO, pfsid & 0xFu);
    ims_vtd_entry_put(qw, IMS_QI_F_DEV_TLB_PFSID_HI, pfsid >> 4);
    ims_vtd_entry_put(qw, IMS_QI_F_DEV_TLB_MIP, mip);
    ims_vtd_entry_put(qw, IMS_QI_F_DEV_TLB_ADDR, ats_addr >> 12);
    ims_vtd_entry_put(qw, IMS_QI_F_DEV_TLB_S, s);
    return 0;
}

void ims_qi_build_iec(uint64_t qw[IMS_QI_DESC_QW], ims_qi_iec_gran g, uint16_t iidx, unsigned im)
{
    start(qw, IMS_QI_TYPE_IEC);
    if (g == IMS_QI_IEC_INDEX_SELECTIVE) {
        ims_vtd_entry_put(qw, IMS_QI_F_IEC_G, 1);
        ims_vtd_entry_put(qw, IMS_QI_F_IEC_IIDX, iidx);
        ims_vtd_entry_put(qw, IMS_QI_F_IEC_IM, im);
    }
}

void ims_qi_build_wait(uint64_t qw[IMS_QI_DESC_QW], bool sw, bool iff, bool fn, bool pd, uint32_t status_data,
                       uint64_t status_addr)
{
    start(qw, IMS_QI_TYPE_WAIT);
    ims_vtd_entry_put(qw, IMS_QI_F_WAIT_SW, sw);
    ims_vtd_entry_put(qw, IMS_QI_F_WAIT_IF, iff);
    ims_vtd_entry_put(qw, IMS_QI_F_WAIT_FN, fn);
    ims_vtd_entry_put(qw, IMS_QI_F_WAIT_PD, pd);
    ims_vtd_entry_put(qw, IMS_QI_F_WAIT_STATUS_DATA, status_data);
    ims_vtd_entry_put(qw, IMS_QI_F_WAIT_STATUS_ADDR, status_addr >> 2);
}

static void piotlb_common(uint64_t *qw, unsigned g, uint16_t did, uint32_t pasid)
{
    start(qw, IMS_QI_TYPE_PIOTLB);
    ims_vtd_entry_put(qw, IMS_QI_F_PIOTLB_G, g);
    ims_vtd_entry_put(qw, IMS_QI_F_PIOTLB_DID, did);
    ims_vtd_entry_put(qw, IMS_QI_F_PIOTLB_PASID, pasid);
}

void ims_qi_build_piotlb_pasid(uint64_t qw[IMS_QI_DESC_QW], uint16_t did, uint32_t pasid)
{
    piotlb_common(qw, IMS_QI_PIOTLB_PASID_SELECTIVE, did, pasid);
}

void ims_qi_build_piotlb_page(uint64_t qw[IMS_QI_DESC_QW], uint16_t did, uint32_t pasid, uint64_t addr, unsigned am,
                              bool ih)
{
    piotlb_common(qw, IMS_QI_PIOTLB_PAGE_SELECTIVE, did, pasid);
    ims_vtd_entry_put(qw, IMS_QI_F_PIOTLB_ADDR, addr >> 12);
    ims_vtd_entry_put(qw, IMS_QI_F_PIOTLB_AM, am);
    ims_vtd_entry_put(qw, IMS_QI_F_PIOTLB_IH, ih);
}

static void pc_common(uint64_t *qw, unsigned g, uint16_t did, uint32_t pasid)
{
    start(qw, IMS_QI_TYPE_PC);
    ims_vtd_entry_put(qw, IMS_QI_F_PC_G, g);
    ims_vtd_entry_put(qw, IMS_QI_F_PC_DID, did);
    ims_vtd_entry_put(qw, IMS_QI_F_PC_PASID, pasid);
}

void ims_qi_build_pc_domain(uint64_t qw[IMS_QI_DESC_QW], uint16_t did)
{
    pc_common(qw, IMS_QI_PC_DOMAIN_SELECTIVE, did, 0);
}

void ims_qi_build_pc_pasid(uint64_t qw[IMS_QI_DESC_QW], uint16_t did, uint32_t pasid)
{
    pc_common(qw, IMS_QI_PC_PASID_SELECTIVE, did, pasid);
}

void ims_qi_build_pc_global(uint64_t qw[IMS_QI_DESC_QW])
{
    pc_common(qw, IMS_QI_PC_GLOBAL, 0, 0);
}

int ims_qi_build_pdev_tlb(uint64_t qw[IMS_QI_DESC_QW], uint16_t sid, uint16_t pfsid, unsigned mip, uint32_t pasid,
                          bool global, uint64_t addr, unsigned size_order)
{
    ims_ats_range r = {.base = addr, .order = size_order};
    uint64_t ats_addr;
    bool s;
    if (ims_ats_range_encode(&r, &ats_addr, &s) != 0)
        return -EINVAL;
    start(qw, IMS_QI_TYPE_PDEV_TLB);
    ims_vtd_entry_put(qw, IMS_QI_F_PDEV_TLB_SID, sid);
    ims_vtd_entry_put(qw, IMS_QI_F_PDEV_TLB_PFSID_LO, pfsid & 0xFu);
    ims_vtd_entry_put(qw, IMS_QI_F_PDEV_TLB_PFSID_HI, pfsid >> 4);
    ims_vtd_entry_put(qw, IMS_QI_F_PDEV_TLB_MIP, mip);
    ims_vtd_entry_put(qw, IMS_QI_F_PDEV_TLB_PASID, pasid);
    ims_vtd_entry_put(qw, IMS_QI_F_PDEV_TLB_GI, global);
    ims_vtd_entry_put(qw, IMS_QI_F_PDEV_TLB_ADDR, ats_addr >> 12);
    ims_vtd_entry_put(qw, IMS_QI_F_PDEV_TLB_S, s);
    return 0;
}

void ims_qi_build_page_grp_resp(uint64_t qw[IMS_QI_DESC_QW], uint16_t rid, bool pp, uint32_t pasid, unsigned rc,
                                unsigned prgi)
{
    start(qw, IMS_QI_TYPE_PGRP_RESP);
    ims_vtd_entry_put(qw, IMS_QI_F_PGRP_RID, rid);
    ims_vtd_entry_put(qw, IMS_QI_F_PGRP_PP, pp);
    ims_vtd_entry_put(qw, IMS_QI_F_PGRP_PASID, pasid);
    ims_vtd_entry_put(qw, IMS_QI_F_PGRP_RC, rc);
    ims_vtd_entry_put(qw, IMS_QI_F_PGRP_PRGI, prgi);
}

/* Device-TLB (ADDR, S) back to the builder's (addr, size_order). */
static int ats_args(uint64_t addr, bool s, ims_ats_range *r)
{
    return ims_ats_range_decode(addr, s, r) == 0 ? 0 : -EINVAL;
}

int ims_qi_encode(const ims_qi_desc *d, uint64_t qw[IMS_QI_DESC_QW])
{
    ims_ats_range r;
    switch (d->type) {
    case IMS_QI_TYPE_CC:
        switch (d->cc.g) {
        case IMS_QI_CC_GLOBAL: ims_qi_build_cc_global(qw); return 0;
        case IMS_QI_CC_DOMAIN_SELECTIVE: ims_qi_build_cc_domain(qw, d->cc.did); return 0;
        case IMS_QI_CC_DEVICE_SELECTIVE: ims_qi_build_cc_device(qw, d->cc.did, d->cc.sid, d->cc.fm); return 0;
        }
        return -EINVAL;
    case IMS_QI_TYPE_IOTLB:
        switch (d->iotlb.g) {
        case IMS_QI_IOTLB_GLOBAL: ims_qi_build_iotlb_global(qw, d->iotlb.dr, d->iotlb.dw); return 0;
        case IMS_QI_IOTLB_DOMAIN_SELECTIVE: ims_qi_build_iotlb_dsi(qw, d->iotlb.did, d->iotlb.dr, d->iotlb.dw); return 0;
        case IMS_QI_IOTLB_PAGE_SELECTIVE:
            ims_qi_build_iotlb_psi(qw, d->iotlb.did, d->iotlb.addr, d->iotlb.am, d->iotlb.ih, d->iotlb.dr,
                                   d->iotlb.dw);
            return 0;
        }
        return -EINVAL;
    case IMS_QI_TYPE_DEV_TLB:
        if (ats_args(d->dev_tlb.addr, d->dev_tlb.s, &r) != 0)
            return -EINVAL;
        return ims_qi_build_dev_tlb(qw, d->dev_tlb.sid, d->dev_tlb.pfsid, d->dev_tlb.mip, r.base, r.order);
    case IMS_QI_TYPE_IEC:
        ims_qi_build_iec(qw, d->iec.g, d->iec.iidx, d->iec.im);
        return 0;
    case IMS_QI_TYPE_WAIT:
        ims_qi_build_wait(qw, d->wait.sw, d->wait.iflag, d->wait.fn, d->wait.pd, d->wait.status_data,
                          d->wait.status_addr);
        return 0;
    case IMS_QI_TYPE_PIOTLB:
        switch (d->piotlb.g) {
        case IMS_QI_PIOTLB_PASID_SELECTIVE: ims_qi_build_piotlb_pasid(qw, d->piotlb.did, d->piotlb.pasid); return 0;
        case IMS_QI_PIOTLB_PAGE_SELECTIVE:
            ims_qi_build_piotlb_page(qw, d->piotlb.did, d->piotlb.pasid, d->piotlb.addr, d->piotlb.am, d->piotlb.ih);
            return 0;
        }
        return -EINVAL;
    case IMS_QI_TYPE_PC:
        switch (d->pc.g) {
        case IMS_QI_PC_DOMAIN_SELECTIVE: ims_qi_build_pc_domain(qw, d->pc.did); return 0;
        case IMS_QI_PC_PASID_SELECTIVE: ims_qi_build_pc_pasid(qw, d->pc.did, d->pc.pasid); return 0;
        case IMS_QI_PC_GLOBAL: ims_qi_build_pc_global(qw); return 0;
        }
        return -EINVAL;
    case IMS_QI_TYPE_PDEV_TLB:
        if (ats_args(d->pdev_tlb.addr, d->pdev_tlb.s, &r) != 0)
            return -EINVAL;
        return ims_qi_build_pdev_tlb(qw, d->pdev_tlb.sid, d->pdev_tlb.pfsid, d->pdev_tlb.mip, d->pdev_tlb.pasid,
                                     d->pdev_tlb.gi, r.base, r.order);
    case IMS_QI_TYPE_PGRP_RESP:
        ims_qi_build_page_grp_resp(qw, d->page_grp_resp.rid, d->page_grp_resp.pp, d->page_grp_resp.pasid,
                                   d->page_grp_resp.rc, d->page_grp_resp.prgi);
        return 0;
    default:
        break;
    }
    return -EINVAL;
}

int ims_qi_psi_span_of(uint64_t start_addr, uint64_t size, unsigned mamv, ims_qi_psi_span *out)
{
    ims_ats_range r;
    if (ims_ats_range_cover(start_addr, size, &r) != 0)
        return -EINVAL;
    out->addr = r.base;
    out->am = r.order;
    out->over_mamv = r.order > mamv;
    return 0;
}

/* ---- text form ------------------------------------------------------------------ */

/* The device-TLB range as "range=0xBASE+0xSIZE", "range=all" or "range=bad". */
static int fmt_ats(char *buf, size_t len, uint64_t addr, bool s)
{
    ims_ats_range r;
    if (ims_ats_range_decode(addr, s, &r) != 0)
        return snprintf(buf, len, "range=bad");
    if (ims_ats_range_is_whole(&r))
        return snprintf(buf, len, "range=all");
    return snprintf(buf, len, "range=0x%" PRIx64 "+0x%" PRIx64, r.base, UINT64_C(4096) << r.order);
}

int ims_qi_desc_format(const ims_qi_desc *d, char *buf, size_t len)
{
    char tail[64];
    switch (d->type) {
    case IMS_QI_TYPE_CC: {
        const ims_qi_cc *c = &d->cc;
        if (c->g == IMS_QI_CC_GLOBAL)
            return snprintf(buf, len, "cc global");
        if (c->g == IMS_QI_CC_DOMAIN_SELECTIVE)
            return snprintf(buf, len, "cc dsi did=%u", c->did);
        return snprintf(buf, len, "cc device did=%u sid=0x%04x fm=%u", c->did, c->sid, c->fm);
    }
    case IMS_QI_TYPE_IOTLB: {
        const ims_qi_iotlb *t = &d->iotlb;
        const char *drain = t->dr && t->dw ? " dr=1 dw=1" : t->dr ? " dr=1" : t->dw ? " dw=1" : "";
        if (t->g == IMS_QI_IOTLB_GLOBAL)
            return snprintf(buf, len, "iotlb global%s", drain);
        if (t->g == IMS_QI_IOTLB_DOMAIN_SELECTIVE)
            return snprintf(buf, len, "iotlb dsi did=%u%s", t->did, drain);
        return snprintf(buf, len, "iotlb psi did=%u addr=0x%" PRIx64 " am=%u ih=%d%s", t->did, t->addr, t->am,
                        t->ih, drain);
    }
    case IMS_QI_TYPE_DEV_TLB: {
        const ims_qi_dev_tlb *t = &d->dev_tlb;
        fmt_ats(tail, sizeof tail, t->addr, t->s);
        return snprintf(buf, len, "dev_tlb sid=0x%04x pfsid=0x%04x mip=%u addr=0x%" PRIx64 " s=%d %s", t->sid,
                        t->pfsid, t->mip, t->addr, t->s, tail);
    }
    case IMS_QI_TYPE_IEC:
        if (d->iec.g == IMS_QI_IEC_GLOBAL)
            return snprintf(buf, len, "iec global");
        return snprintf(buf, len, "iec index iidx=%u im=%u", d->iec.iidx, d->iec.im);
    case IMS_QI_TYPE_WAIT: {
        const ims_qi_wait *w = &d->wait;
        int n = snprintf(buf, len, "wait sw=%d if=%d fn=%d pd=%d", w->sw, w->iflag, w->fn, w->pd);
        if (!w->sw || n < 0)
            return n;
        int m = snprintf((size_t)n < len ? buf + n : NULL, (size_t)n < len ? len - (size_t)n : 0,
                         " data=0x%" PRIx32 " addr=0x%" PRIx64, w->status_data, w->status_addr);
        return m < 0 ? m : n + m;
    }
    case IMS_QI_TYPE_PIOTLB: {
        const ims_qi_piotlb *p = &d->piotlb;
        if (p->g == IMS_QI_PIOTLB_PASID_SELECTIVE)
            return snprintf(buf, len, "piotlb pasid did=%u pasid=%" PRIu32, p->did, p->pasid);
        return snprintf(buf, len, "piotlb psi did=%u pasid=%" PRIu32 " addr=0x%" PRIx64 " am=%u ih=%d", p->did,
                        p->pasid, p->addr, p->am, p->ih);
    }
    case IMS_QI_TYPE_PC: {
        const ims_qi_pc *p = &d->pc;
        if (p->g == IMS_QI_PC_GLOBAL)
            return snprintf(buf, len, "pc global");
        if (p->g == IMS_QI_PC_DOMAIN_SELECTIVE)
            return snprintf(buf, len, "pc dsi did=%u", p->did);
        return snprintf(buf, len, "pc pasid did=%u pasid=%" PRIu32, p->did, p->pasid);
    }
    case IMS_QI_TYPE_PDEV_TLB: {
        const ims_qi_pdev_tlb *t = &d->pdev_tlb;
        fmt_ats(tail, sizeof tail, t->addr, t->s);
        if (t->gi)
            return snprintf(buf, len, "pdev_tlb sid=0x%04x pfsid=0x%04x mip=%u gi=1 addr=0x%" PRIx64 " s=%d %s",
                            t->sid, t->pfsid, t->mip, t->addr, t->s, tail);
        return snprintf(buf, len, "pdev_tlb sid=0x%04x pfsid=0x%04x mip=%u pasid=%" PRIu32 " addr=0x%" PRIx64
                        " s=%d %s", t->sid, t->pfsid, t->mip, t->pasid, t->addr, t->s, tail);
    }
    case IMS_QI_TYPE_PGRP_RESP: {
        const ims_qi_page_grp_resp *p = &d->page_grp_resp;
        if (p->pp)
            return snprintf(buf, len, "page_grp_resp rid=0x%04x pasid=%" PRIu32 " prgi=%u rc=%u", p->rid, p->pasid,
                            p->prgi, p->rc);
        return snprintf(buf, len, "page_grp_resp rid=0x%04x prgi=%u rc=%u", p->rid, p->prgi, p->rc);
    }
    default:
        break;
    }
    return snprintf(buf, len, "unknown type=%u", (unsigned)d->type);
}
