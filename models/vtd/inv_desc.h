/* VT-d invalidation-queue descriptors: field accessors, reserved masks, a
 * validating decoder, builders and a one-line text form. Pure functions, no
 * time: the queued-invalidation engine fetches the bytes and calls the
 * decoder; the host driver model calls the builders.
 *
 * Sources: vtd-facts §4.1-§4.10 and the VT-d spec rev 5.10 §6.5.2 (figures
 * 6-1..6-9), §7.6.1 (page-group response), Table 26 (valid types per mode)
 * and §11.4.9.9 (IQEI codes). Decisions where the sources disagree are
 * listed at the decoder below.
 *
 * A descriptor is 4 qwords (little-endian words of the 256-bit slot). With
 * 128-bit descriptors (IQA.DW=0) only qw[0] and qw[1] exist: the decoder
 * does not read qw[2..3] and the builders write them as zero either way
 * (a 128-bit descriptor in a 256-bit queue is zero-padded, §6.5.2.1).
 *
 * Every field is written once below as a (qword, hi, lo) triple and read
 * through the accessor named after its spec field (Linux-style). Address
 * fields (ADDR, status address) are returned in place (low bits zero). */
#ifndef IMS_VTD_INV_DESC_H
#define IMS_VTD_INV_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/vtd/entries.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMS_QI_DESC_QW 4u

/* ---- type (§4.1): qw0[3:0] | qw0[11:9] << 4 ------------------------------ */

typedef enum ims_qi_type {
    IMS_QI_TYPE_CC = 1,        /* context-cache invalidate (cc_inv_dsc) */
    IMS_QI_TYPE_IOTLB = 2,     /* iotlb_inv_dsc */
    IMS_QI_TYPE_DEV_TLB = 3,   /* dev_tlb_inv_dsc */
    IMS_QI_TYPE_IEC = 4,       /* iec_inv_dsc */
    IMS_QI_TYPE_WAIT = 5,      /* inv_wait_dsc */
    IMS_QI_TYPE_PIOTLB = 6,    /* p_iotlb_inv_dsc (256-bit only) */
    IMS_QI_TYPE_PC = 7,        /* pc_inv_dsc (256-bit only) */
    IMS_QI_TYPE_PDEV_TLB = 8,  /* p_dev_tlb_inv_dsc (256-bit only) */
    IMS_QI_TYPE_PGRP_RESP = 9, /* page_grp_resp_dsc (256-bit only) */
    IMS_QI_TYPE_HPT = 0xA,     /* hpt_inv_desc, rev 5.x; not modelled (HPTS=0) */
    IMS_QI_TYPE_MAX = 0x7F,    /* the field is 7 bits: any raw value fits */
} ims_qi_type;

#define IMS_QI_F_TYPE_LO 0, 3, 0
#define IMS_QI_F_TYPE_HI 0, 11, 9
static inline unsigned ims_qi_type_of(const uint64_t *qw)
{
    return (unsigned)(ims_vtd_entry_get(qw, IMS_QI_F_TYPE_LO) | (ims_vtd_entry_get(qw, IMS_QI_F_TYPE_HI) << 4));
}

/* ---- type 1, context-cache invalidate (§4.2, spec fig. 6-1) -------------- */
#define IMS_QI_F_CC_G 0, 5, 4
#define IMS_QI_F_CC_DID 0, 31, 16
#define IMS_QI_F_CC_SID 0, 47, 32
#define IMS_QI_F_CC_FM 0, 49, 48
#define IMS_QI_CC_RSVD0 UINT64_C(0xFFFC00000000F1C0) /* 63:50, 15:12, 8:6 */
#define IMS_QI_CC_RSVD1 UINT64_C(0xFFFFFFFFFFFFFFFF)
static inline unsigned ims_qi_cc_g(const uint64_t *qw) { return (unsigned)ims_vtd_entry_get(qw, IMS_QI_F_CC_G); }
static inline uint16_t ims_qi_cc_did(const uint64_t *qw) { return (uint16_t)ims_vtd_entry_get(qw, IMS_QI_F_CC_DID); }
static inline uint16_t ims_qi_cc_sid(const uint64_t *qw) { return (uint16_t)ims_vtd_entry_get(qw, IMS_QI_F_CC_SID); }
static inline unsigned ims_qi_cc_fm(const uint64_t *qw) { return (unsigned)ims_vtd_entry_get(qw, IMS_QI_F_CC_FM); }

/* ---- type 2, IOTLB invalidate (§4.3, fig. 6-3) -------------------------- */
#define IMS_QI_F_IOTLB_G 0, 5, 4
#define IMS_QI_F_IOTLB_DW 0, 6, 6
#define IMS_QI_F_IOTLB_DR 0, 7, 7
#define IMS_QI_F_IOTLB_DID 0, 31, 16
#define IMS_QI_F_IOTLB_AM 1, 5, 0
#define IMS_QI_F_IOTLB_IH 1, 6, 6
#define IMS_QI_F_IOTLB_ADDR 1, 63, 12
#define IMS_QI_IOTLB_RSVD0 UINT64_C(0xFFFFFFFF0000F100) /* 63:32, 15:12, 8 */
#define IMS_QI_IOTLB_RSVD1 UINT64_C(0x0000000000000F80) /* 75:71 */
static inline unsigned ims_qi_iotlb_g(const uint64_t *qw) { return (unsigned)ims_vtd_entry_get(qw, IMS_QI_F_IOTLB_G); }
static inline bool ims_qi_iotlb_dw(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_QI_F_IOTLB_DW); }
static inline bool ims_qi_iotlb_dr(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_QI_F_IOTLB_DR); }
static inline uint16_t ims_qi_iotlb_did(const uint64_t *qw) { return (uint16_t)ims_vtd_entry_get(qw, IMS_QI_F_IOTLB_DID); }
static inline unsigned ims_qi_iotlb_am(const uint64_t *qw) { return (unsigned)ims_vtd_entry_get(qw, IMS_QI_F_IOTLB_AM); }
static inline bool ims_qi_iotlb_ih(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_QI_F_IOTLB_IH); }
static inline uint64_t ims_qi_iotlb_addr(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_QI_F_IOTLB_ADDR) << 12; }

/* ---- type 3, device-TLB invalidate (§4.4, fig. 6-5) ---------------------- */
#define IMS_QI_F_DEV_TLB_PFSID_LO 0, 15, 12 /* PFSID[3:0] */
#define IMS_QI_F_DEV_TLB_MIP 0, 20, 16
#define IMS_QI_F_DEV_TLB_SID 0, 47, 32
#define IMS_QI_F_DEV_TLB_PFSID_HI 0, 63, 52 /* PFSID[15:4] */
#define IMS_QI_F_DEV_TLB_S 1, 0, 0
#define IMS_QI_F_DEV_TLB_ADDR 1, 63, 12
#define IMS_QI_DEV_TLB_RSVD0 UINT64_C(0x000F0000FFE001F0) /* 51:48, 31:21, 8:4 */
#define IMS_QI_DEV_TLB_RSVD1 UINT64_C(0x0000000000000FFE) /* 75:65 */
/* PFSID is reserved unless ECAP.DIT=1 (spec §6.5.2.5). */
#define IMS_QI_DEV_TLB_PFSID0 UINT64_C(0xFFF000000000F000)
static inline unsigned ims_qi_dev_tlb_mip(const uint64_t *qw) { return (unsigned)ims_vtd_entry_get(qw, IMS_QI_F_DEV_TLB_MIP); }
static inline uint16_t ims_qi_dev_tlb_sid(const uint64_t *qw) { return (uint16_t)ims_vtd_entry_get(qw, IMS_QI_F_DEV_TLB_SID); }
static inline uint16_t ims_qi_dev_tlb_pfsid(const uint64_t *qw)
{
    return (uint16_t)(ims_vtd_entry_get(qw, IMS_QI_F_DEV_TLB_PFSID_LO) | (ims_vtd_entry_get(qw, IMS_QI_F_DEV_TLB_PFSID_HI) << 4));
}
static inline bool ims_qi_dev_tlb_s(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_QI_F_DEV_TLB_S); }
static inline uint64_t ims_qi_dev_tlb_addr(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_QI_F_DEV_TLB_ADDR) << 12; }

/* ---- type 4, interrupt-entry-cache invalidate (§4.5, fig. 6-8) ----------- */
#define IMS_QI_F_IEC_G 0, 4, 4
#define IMS_QI_F_IEC_IM 0, 31, 27
#define IMS_QI_F_IEC_IIDX 0, 47, 32
#define IMS_QI_IEC_RSVD0 UINT64_C(0xFFFF000007FFF1E0) /* 63:48, 26:12, 8:5 */
#define IMS_QI_IEC_RSVD1 UINT64_C(0xFFFFFFFFFFFFFFFF)
static inline bool ims_qi_iec_g(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_QI_F_IEC_G); }
static inline unsigned ims_qi_iec_im(const uint64_t *qw) { return (unsigned)ims_vtd_entry_get(qw, IMS_QI_F_IEC_IM); }
static inline uint16_t ims_qi_iec_iidx(const uint64_t *qw) { return (uint16_t)ims_vtd_entry_get(qw, IMS_QI_F_IEC_IIDX); }

/* ---- type 5, invalidation wait (§4.6, fig. 6-9) -------------------------- */
#define IMS_QI_F_WAIT_IF 0, 4, 4
#define IMS_QI_F_WAIT_SW 0, 5, 5
#define IMS_QI_F_WAIT_FN 0, 6, 6
#define IMS_QI_F_WAIT_PD 0, 7, 7 /* reserved unless ECAP.PDS=1 */
#define IMS_QI_F_WAIT_STATUS_DATA 0, 63, 32
#define IMS_QI_F_WAIT_STATUS_ADDR 1, 63, 2 /* bits above HAW are ignored */
#define IMS_QI_WAIT_RSVD0 UINT64_C(0x00000000FFFFF100) /* 31:12, 8 */
#define IMS_QI_WAIT_RSVD1 UINT64_C(0x0000000000000003) /* 65:64 */
#define IMS_QI_WAIT_PD0 UINT64_C(0x0000000000000080)
static inline bool ims_qi_wait_if(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_QI_F_WAIT_IF); }
static inline bool ims_qi_wait_sw(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_QI_F_WAIT_SW); }
static inline bool ims_qi_wait_fn(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_QI_F_WAIT_FN); }
static inline bool ims_qi_wait_pd(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_QI_F_WAIT_PD); }
static inline uint32_t ims_qi_wait_status_data(const uint64_t *qw) { return (uint32_t)ims_vtd_entry_get(qw, IMS_QI_F_WAIT_STATUS_DATA); }
static inline uint64_t ims_qi_wait_status_addr(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_QI_F_WAIT_STATUS_ADDR) << 2; }

/* ---- type 6, PASID-based IOTLB invalidate (§4.7, fig. 6-4) --------------- */
#define IMS_QI_F_PIOTLB_G 0, 5, 4
#define IMS_QI_F_PIOTLB_DID 0, 31, 16
#define IMS_QI_F_PIOTLB_PASID 0, 51, 32
#define IMS_QI_F_PIOTLB_AM 1, 5, 0
#define IMS_QI_F_PIOTLB_IH 1, 6, 6
#define IMS_QI_F_PIOTLB_ADDR 1, 63, 12
#define IMS_QI_PIOTLB_RSVD0 UINT64_C(0xFFF000000000F1C0) /* 63:52, 15:12, 8:6 */
#define IMS_QI_PIOTLB_RSVD1 UINT64_C(0x0000000000000F80) /* 75:71 */
static inline unsigned ims_qi_piotlb_g(const uint64_t *qw) { return (unsigned)ims_vtd_entry_get(qw, IMS_QI_F_PIOTLB_G); }
static inline uint16_t ims_qi_piotlb_did(const uint64_t *qw) { return (uint16_t)ims_vtd_entry_get(qw, IMS_QI_F_PIOTLB_DID); }
static inline uint32_t ims_qi_piotlb_pasid(const uint64_t *qw) { return (uint32_t)ims_vtd_entry_get(qw, IMS_QI_F_PIOTLB_PASID); }
static inline unsigned ims_qi_piotlb_am(const uint64_t *qw) { return (unsigned)ims_vtd_entry_get(qw, IMS_QI_F_PIOTLB_AM); }
static inline bool ims_qi_piotlb_ih(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_QI_F_PIOTLB_IH); }
static inline uint64_t ims_qi_piotlb_addr(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_QI_F_PIOTLB_ADDR) << 12; }

/* ---- type 7, PASID-cache invalidate (§4.8, fig. 6-2) --------------------- */
#define IMS_QI_F_PC_G 0, 5, 4
#define IMS_QI_F_PC_DID 0, 31, 16
#define IMS_QI_F_PC_PASID 0, 51, 32
#define IMS_QI_PC_RSVD0 UINT64_C(0xFFF000000000F1C0) /* 63:52, 15:12, 8:6 */
#define IMS_QI_PC_RSVD1 UINT64_C(0xFFFFFFFFFFFFFFFF)
static inline unsigned ims_qi_pc_g(const uint64_t *qw) { return (unsigned)ims_vtd_entry_get(qw, IMS_QI_F_PC_G); }
static inline uint16_t ims_qi_pc_did(const uint64_t *qw) { return (uint16_t)ims_vtd_entry_get(qw, IMS_QI_F_PC_DID); }
static inline uint32_t ims_qi_pc_pasid(const uint64_t *qw) { return (uint32_t)ims_vtd_entry_get(qw, IMS_QI_F_PC_PASID); }

/* ---- type 8, PASID-based device-TLB invalidate (§4.9, fig. 6-6) ---------- */
#define IMS_QI_F_PDEV_TLB_MIP 0, 8, 4
#define IMS_QI_F_PDEV_TLB_PFSID_LO 0, 15, 12 /* PFSID[3:0] */
#define IMS_QI_F_PDEV_TLB_SID 0, 31, 16
#define IMS_QI_F_PDEV_TLB_PASID 0, 51, 32
#define IMS_QI_F_PDEV_TLB_PFSID_HI 0, 63, 52 /* PFSID[15:4] */
#define IMS_QI_F_PDEV_TLB_GI 1, 0, 0 /* copied to the ATS Global Invalidate bit */
#define IMS_QI_F_PDEV_TLB_S 1, 11, 11
#define IMS_QI_F_PDEV_TLB_ADDR 1, 63, 12
#define IMS_QI_PDEV_TLB_RSVD0 UINT64_C(0x0000000000000000) /* qw0 is all fields */
#define IMS_QI_PDEV_TLB_RSVD1 UINT64_C(0x00000000000007FE) /* 74:65 */
#define IMS_QI_PDEV_TLB_PFSID0 UINT64_C(0xFFF000000000F000)
static inline unsigned ims_qi_pdev_tlb_mip(const uint64_t *qw) { return (unsigned)ims_vtd_entry_get(qw, IMS_QI_F_PDEV_TLB_MIP); }
static inline uint16_t ims_qi_pdev_tlb_sid(const uint64_t *qw) { return (uint16_t)ims_vtd_entry_get(qw, IMS_QI_F_PDEV_TLB_SID); }
static inline uint32_t ims_qi_pdev_tlb_pasid(const uint64_t *qw) { return (uint32_t)ims_vtd_entry_get(qw, IMS_QI_F_PDEV_TLB_PASID); }
static inline uint16_t ims_qi_pdev_tlb_pfsid(const uint64_t *qw)
{
    return (uint16_t)(ims_vtd_entry_get(qw, IMS_QI_F_PDEV_TLB_PFSID_LO) | (ims_vtd_entry_get(qw, IMS_QI_F_PDEV_TLB_PFSID_HI) << 4));
}
static inline bool ims_qi_pdev_tlb_gi(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_QI_F_PDEV_TLB_GI); }
static inline bool ims_qi_pdev_tlb_s(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_QI_F_PDEV_TLB_S); }
static inline uint64_t ims_qi_pdev_tlb_addr(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_QI_F_PDEV_TLB_ADDR) << 12; }

/* ---- type 9, page-group response (§4.10; spec §7.6.1, fig. 7-2) --------- */
#define IMS_QI_F_PGRP_PP 0, 4, 4
#define IMS_QI_F_PGRP_RC 0, 15, 12
#define IMS_QI_F_PGRP_RID 0, 31, 16
#define IMS_QI_F_PGRP_PASID 0, 51, 32
#define IMS_QI_F_PGRP_PRGI 1, 11, 3 /* bit 66 (qw1[2]) is IGN: old LPIG */
#define IMS_QI_PGRP_RSVD0 UINT64_C(0xFFF00000000001E0) /* 63:52, 8:5 */
#define IMS_QI_PGRP_RSVD1 UINT64_C(0xFFFFFFFFFFFFF003) /* 127:76, 65:64 */
static inline bool ims_qi_page_grp_resp_pp(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_QI_F_PGRP_PP); }
static inline unsigned ims_qi_page_grp_resp_rc(const uint64_t *qw) { return (unsigned)ims_vtd_entry_get(qw, IMS_QI_F_PGRP_RC); }
static inline uint16_t ims_qi_page_grp_resp_rid(const uint64_t *qw) { return (uint16_t)ims_vtd_entry_get(qw, IMS_QI_F_PGRP_RID); }
static inline uint32_t ims_qi_page_grp_resp_pasid(const uint64_t *qw) { return (uint32_t)ims_vtd_entry_get(qw, IMS_QI_F_PGRP_PASID); }
static inline unsigned ims_qi_page_grp_resp_prgi(const uint64_t *qw) { return (unsigned)ims_vtd_entry_get(qw, IMS_QI_F_PGRP_PRGI); }
/* Response codes (spec Table 32). */
enum { IMS_QI_PGRP_RC_SUCCESS = 0x0, IMS_QI_PGRP_RC_INVALID = 0x1, IMS_QI_PGRP_RC_FAILURE = 0xF };

/* qw2/qw3 are reserved in every descriptor this model decodes. */
#define IMS_QI_RSVD_HI UINT64_C(0xFFFFFFFFFFFFFFFF)

/* The reserved bits of a descriptor of `type` on a unit with `ecap`
 * (adds PD without ECAP.PDS and PFSID without ECAP.DIT). All ones in every
 * word for types the model does not know. */
void ims_qi_reserved_mask(unsigned type, uint64_t ecap, uint64_t mask[IMS_QI_DESC_QW]);

/* ---- decoded form --------------------------------------------------------- */
/* Granularity enums carry the architected G encodings. */
typedef enum ims_qi_cc_gran {
    IMS_QI_CC_GLOBAL = 1,
    IMS_QI_CC_DOMAIN_SELECTIVE = 2,
    IMS_QI_CC_DEVICE_SELECTIVE = 3,
} ims_qi_cc_gran;
typedef enum ims_qi_iotlb_gran {
    IMS_QI_IOTLB_GLOBAL = 1,
    IMS_QI_IOTLB_DOMAIN_SELECTIVE = 2,
    IMS_QI_IOTLB_PAGE_SELECTIVE = 3, /* page-selective-within-domain */
} ims_qi_iotlb_gran;
typedef enum ims_qi_iec_gran {
    IMS_QI_IEC_GLOBAL = 0,
    IMS_QI_IEC_INDEX_SELECTIVE = 1,
} ims_qi_iec_gran;
typedef enum ims_qi_piotlb_gran {
    IMS_QI_PIOTLB_PASID_SELECTIVE = 2, /* all entries of (DID, PASID) */
    IMS_QI_PIOTLB_PAGE_SELECTIVE = 3,  /* page-selective-within-PASID */
} ims_qi_piotlb_gran;
typedef enum ims_qi_pc_gran {
    IMS_QI_PC_DOMAIN_SELECTIVE = 0,
    IMS_QI_PC_PASID_SELECTIVE = 1, /* PASID-selective-within-domain */
    IMS_QI_PC_GLOBAL = 3,
} ims_qi_pc_gran;

/* Fields hardware ignores for the decoded granularity are zero (e.g. DID of
 * a global IOTLB invalidation, status address/data when SW=0). DIDs are
 * masked to the CAP.ND width (higher bits are ignored, §6.5.2.2-4). */
typedef struct ims_qi_cc {
    ims_qi_cc_gran g;
    uint16_t did, sid;
    unsigned fm; /* function mask: SID bits 2:0 masked by 0..3 */
} ims_qi_cc;
typedef struct ims_qi_iotlb {
    ims_qi_iotlb_gran g;
    uint16_t did;
    bool dr, dw;   /* drain hints (always honoured by VER>=2 hardware) */
    uint64_t addr; /* ADDR as written; see ims_qi_am_span for the range */
    unsigned am;
    bool ih;
} ims_qi_iotlb;
typedef struct ims_qi_dev_tlb {
    uint16_t sid, pfsid;
    unsigned mip;  /* 0 means 32 */
    uint64_t addr; /* ATS ADDR with the size encoding (ats_range.h) */
    bool s;
} ims_qi_dev_tlb;
typedef struct ims_qi_iec {
    ims_qi_iec_gran g;
    uint16_t iidx;
    unsigned im; /* 2^IM contiguous indexes */
} ims_qi_iec;
typedef struct ims_qi_wait {
    bool iflag, sw, fn, pd;
    uint32_t status_data;
    uint64_t status_addr;
} ims_qi_wait;
typedef struct ims_qi_piotlb {
    ims_qi_piotlb_gran g;
    uint16_t did;
    uint32_t pasid;
    uint64_t addr;
    unsigned am;
    bool ih;
} ims_qi_piotlb;
typedef struct ims_qi_pc {
    ims_qi_pc_gran g;
    uint16_t did;
    uint32_t pasid;
} ims_qi_pc;
typedef struct ims_qi_pdev_tlb {
    uint16_t sid, pfsid;
    unsigned mip;
    uint32_t pasid; /* zero when gi (all PASIDs) */
    bool gi;
    uint64_t addr;
    bool s;
} ims_qi_pdev_tlb;
typedef struct ims_qi_page_grp_resp {
    uint16_t rid;
    bool pp;
    uint32_t pasid; /* zero unless pp */
    unsigned rc;    /* IMS_QI_PGRP_RC_* */
    unsigned prgi;
} ims_qi_page_grp_resp;

typedef struct ims_qi_desc {
    ims_qi_type type;
    union {
        ims_qi_cc cc;
        ims_qi_iotlb iotlb;
        ims_qi_dev_tlb dev_tlb;
        ims_qi_iec iec;
        ims_qi_wait wait;
        ims_qi_piotlb piotlb;
        ims_qi_pc pc;
        ims_qi_pdev_tlb pdev_tlb;
        ims_qi_page_grp_resp page_grp_resp;
    };
} ims_qi_desc;

/* ---- decoder -------------------------------------------------------------
 * Returns 0 or the IQEI code (IMS_VTD_IQEI_* in regs.h, spec §11.4.9.9):
 *   5 (BAD_WIDTH)  dw256 on a unit with neither ECAP.SMTS nor ECAP.ADMS;
 *   3 (BAD_TYPE)   type unknown or not valid for this unit: 0, >9 (0xA is
 *                  HPT, the model reports HPTS=0); 6-9 in a 128-bit queue
 *                  (Table 26 lists only 1-5 for DW=0); 3/8 without ECAP.DT;
 *                  6/7/8 without ECAP.SMTS; 9 without ECAP.PRS;
 *   4 (RESERVED)   a reserved bit set (including qw2/qw3 in a 256-bit queue),
 *                  a reserved G encoding, PSI without CAP.PSI, IOTLB AM >
 *                  CAP.MAMV, IEC IM > ECAP.MHMV, PD without ECAP.PDS,
 *                  PFSID without ECAP.DIT.
 * Checks run in that order (width, type, fields). out is zeroed and then
 * filled on success; on error only out->type (the raw type) is set.
 *
 * Decisions (vtd-facts ⚠ points, spec rev 5.10 as authority):
 *  - 256-bit-only types in a 128-bit queue -> IQEI 3, not 5: IQEI 5 is about
 *    the IQA.DW setting vs. the mode; Table 26 makes the type invalid.
 *  - wait SW=1 and IF=1 together are allowed (§6.5.2.9 completes both
 *    independently); SW=IF=0 is a valid barrier (§7.10 step a).
 *  - PFSID is decoded and accepted when ECAP.DIT=1, reserved otherwise.
 *  - ADDR not aligned to 2^(AM+12): accepted; hardware masks the low AM bits
 *    (the AM definition, §6.5.2.3). ims_qi_am_span gives the range.
 *  - Type 6 AM is not limited by MAMV (§11.4.2: any defined mask); AM >= 52
 *    covers the whole space. */
int ims_qi_decode(const uint64_t qw[IMS_QI_DESC_QW], bool dw256, uint64_t cap, uint64_t ecap,
                  ims_qi_desc *out);

/* The same plus the per-mode rules of Table 26 for RTADDR.TTM `ttm`:
 * TTM=10b -> IQEI 7; scalable/abort-DMA mode with a 128-bit queue -> IQEI 5;
 * legacy mode accepts only types 1-5 (else IQEI 3). */
int ims_qi_decode_mode(const uint64_t qw[IMS_QI_DESC_QW], bool dw256, unsigned ttm, uint64_t cap,
                       uint64_t ecap, ims_qi_desc *out);

/* Architected width of a type: true for the 256-bit-only types 6-10. */
bool ims_qi_type_is_256(unsigned type);
/* Short name ("cc", "iotlb", ...), or "unknown". */
const char *ims_qi_type_name(unsigned type);

/* Inclusive byte range of a page-selective (addr, am): the low AM bits of
 * the page number are masked; AM >= 52 covers the whole space. */
void ims_qi_am_span(uint64_t addr, unsigned am, uint64_t *first, uint64_t *last);

/* ---- builders: one per descriptor and granularity -------------------------
 * Each writes all four qwords (qw2/qw3 zero). Values wider than their field
 * are truncated; addresses drop bits below their field. */
void ims_qi_build_cc_global(uint64_t qw[IMS_QI_DESC_QW]);
void ims_qi_build_cc_domain(uint64_t qw[IMS_QI_DESC_QW], uint16_t did);
void ims_qi_build_cc_device(uint64_t qw[IMS_QI_DESC_QW], uint16_t did, uint16_t sid, unsigned fm);
void ims_qi_build_iotlb_global(uint64_t qw[IMS_QI_DESC_QW], bool dr, bool dw);
void ims_qi_build_iotlb_dsi(uint64_t qw[IMS_QI_DESC_QW], uint16_t did, bool dr, bool dw);
void ims_qi_build_iotlb_psi(uint64_t qw[IMS_QI_DESC_QW], uint16_t did, uint64_t addr, unsigned am, bool ih,
                            bool dr, bool dw);
/* Device-TLB invalidation of 2^size_order pages at addr (ATS encoding,
 * ats_range.h; size_order 52 with addr 0 is the whole space). -EINVAL when
 * addr is not aligned to the size or size_order > 52; qw is then untouched. */
int ims_qi_build_dev_tlb(uint64_t qw[IMS_QI_DESC_QW], uint16_t sid, uint16_t pfsid, unsigned mip, uint64_t addr,
                         unsigned size_order);
void ims_qi_build_iec(uint64_t qw[IMS_QI_DESC_QW], ims_qi_iec_gran g, uint16_t iidx, unsigned im);
void ims_qi_build_wait(uint64_t qw[IMS_QI_DESC_QW], bool sw, bool iff, bool fn, bool pd, uint32_t status_data,
                       uint64_t status_addr);
void ims_qi_build_piotlb_pasid(uint64_t qw[IMS_QI_DESC_QW], uint16_t did, uint32_t pasid);
void ims_qi_build_piotlb_page(uint64_t qw[IMS_QI_DESC_QW], uint16_t did, uint32_t pasid, uint64_t addr, unsigned am,
                              bool ih);
void ims_qi_build_pc_domain(uint64_t qw[IMS_QI_DESC_QW], uint16_t did);
void ims_qi_build_pc_pasid(uint64_t qw[IMS_QI_DESC_QW], uint16_t did, uint32_t pasid);
void ims_qi_build_pc_global(uint64_t qw[IMS_QI_DESC_QW]);
int ims_qi_build_pdev_tlb(uint64_t qw[IMS_QI_DESC_QW], uint16_t sid, uint16_t pfsid, unsigned mip, uint32_t pasid,
                          bool global, uint64_t addr, unsigned size_order);
void ims_qi_build_page_grp_resp(uint64_t qw[IMS_QI_DESC_QW], uint16_t rid, bool pp, uint32_t pasid, unsigned rc,
                                unsigned prgi);

/* Re-encode a decoded descriptor through the builders. -EINVAL for an
 * unknown type or a device-TLB ADDR/S that has no ATS meaning. */
int ims_qi_encode(const ims_qi_desc *d, uint64_t qw[IMS_QI_DESC_QW]);

/* The page-selective (addr, am) covering [start, start+size-1] with one
 * naturally aligned power-of-two block (rounding up, vtd-facts §5.2). When
 * over_mamv is set the caller should fall back to a domain-selective
 * invalidation (Linux does). -EINVAL for size 0 or a wrapping range. */
typedef struct ims_qi_psi_span {
    uint64_t addr;
    unsigned am;
    bool over_mamv;
} ims_qi_psi_span;
int ims_qi_psi_span_of(uint64_t start, uint64_t size, unsigned mamv, ims_qi_psi_span *out);

/* One-line text form, e.g. "iotlb psi did=3 addr=0x1000 am=0 ih=0".
 * snprintf semantics: returns the length the full text needs. */
int ims_qi_desc_format(const ims_qi_desc *d, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
