/* VT-d translation-structure entry formats: root, context, PASID directory and
 * PASID table entries (vtd-facts §2.1-§2.6; VT-d spec rev 5.10 §9.1-§9.6).
 *
 * Every architected field is defined once below as a position triple
 * (qword index, high bit, low bit) and read or written only through the small
 * accessor named after the spec field. Entries are passed as arrays of
 * little-endian-decoded 64-bit words (`const uint64_t *qw`).
 *
 * Naming follows the rev 4+ "first-stage / second-stage" terms. Old names:
 * SLPTPTR -> SSPTPTR, FLPTPTR -> FSPTPTR, SLEE -> SSEE, SLADE -> SSADE,
 * FLPM -> FSPM.
 *
 * Pointer fields (CTP, LCTP, UCTP, SSPTPTR, PASIDDIRPTR, SMPTBLPTR, FSPTPTR)
 * are returned as byte addresses (bits 11:0 zero) and set from byte addresses.
 *
 * Reserved bits: the IMS_VTD_*_RSVDn masks hold the bits that are always
 * reserved in this model. Bits above the host address width (HAW) are not
 * modelled (HAW is a platform property not reported in CAP). Bits that the
 * spec treats as reserved only when a capability is absent (e.g. DTE without
 * ECAP.DT) are added by the lookup step, which knows CAP/ECAP. */
#ifndef IMS_VTD_ENTRIES_H
#define IMS_VTD_ENTRIES_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- generic field access ------------------------------------------------ */

static inline uint64_t ims_vtd_field_mask(unsigned hi, unsigned lo)
{
    return (hi - lo >= 63 ? ~UINT64_C(0) : ((UINT64_C(1) << (hi - lo + 1)) - 1)) << lo;
}

static inline uint64_t ims_vtd_entry_get(const uint64_t *qw, unsigned w, unsigned hi, unsigned lo)
{
    return (qw[w] & ims_vtd_field_mask(hi, lo)) >> lo;
}

/* Bits of v beyond the field width are dropped. */
static inline void ims_vtd_entry_put(uint64_t *qw, unsigned w, unsigned hi, unsigned lo, uint64_t v)
{
    uint64_t m = ims_vtd_field_mask(hi, lo);
    qw[w] = (qw[w] & ~m) | ((v << lo) & m);
}

/* Add a field's bits to a per-qword mask (used to build reserved masks). */
static inline void ims_vtd_mask_add(uint64_t *mask, unsigned w, unsigned hi, unsigned lo)
{
    mask[w] |= ims_vtd_field_mask(hi, lo);
}

/* Whether any bit of mask is set in the entry. */
static inline bool ims_vtd_entry_any(const uint64_t *qw, const uint64_t *mask, unsigned nqw)
{
    for (unsigned i = 0; i < nqw; i++)
        if (qw[i] & mask[i])
            return true;
    return false;
}

/* ---- sizes and indexing -------------------------------------------------- */

#define IMS_VTD_ROOT_ENTRY_SIZE 16u      /* legacy and scalable root entries */
#define IMS_VTD_CTX_ENTRY_SIZE 16u       /* legacy context entry */
#define IMS_VTD_SMCTX_ENTRY_SIZE 32u     /* scalable-mode context entry */
#define IMS_VTD_PASID_DIR_ENTRY_SIZE 8u
#define IMS_VTD_PASID_ENTRY_SIZE 64u
#define IMS_VTD_ENTRY_MAX_QW 8u          /* largest entry, in qwords */

/* PASID[19:6] indexes the directory, PASID[5:0] the 64-entry table (§2.5). */
static inline uint32_t ims_vtd_pasid_dir_index(uint32_t pasid) { return (pasid >> 6) & 0x3FFFu; }
static inline uint32_t ims_vtd_pasid_table_index(uint32_t pasid) { return pasid & 0x3Fu; }

/* ---- §2.1 legacy root entry (128 bits) ---------------------------------- */

#define IMS_VTD_F_RE_P        0, 0, 0
#define IMS_VTD_F_RE_CTP      0, 63, 12
#define IMS_VTD_RE_RSVD0      UINT64_C(0x0000000000000FFE)  /* 11:1 */
#define IMS_VTD_RE_RSVD1      UINT64_C(0xFFFFFFFFFFFFFFFF)  /* 127:64 */

static inline bool ims_vtd_re_p(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_RE_P); }
static inline uint64_t ims_vtd_re_ctp(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_RE_CTP) << 12; }
static inline void ims_vtd_re_set_p(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_RE_P, v); }
static inline void ims_vtd_re_set_ctp(uint64_t *qw, uint64_t pa) { ims_vtd_entry_put(qw, IMS_VTD_F_RE_CTP, pa >> 12); }

/* ---- §2.2 scalable-mode root entry (128 bits) --------------------------- */
/* Lower half (LP/LCTP) serves devfn 0-127, upper half (UP/UCTP) devfn 128-255. */

#define IMS_VTD_F_SMRE_LP     0, 0, 0
#define IMS_VTD_F_SMRE_LCTP   0, 63, 12
#define IMS_VTD_F_SMRE_UP     1, 0, 0     /* bit 64 */
#define IMS_VTD_F_SMRE_UCTP   1, 63, 12   /* bits 127:76 */
#define IMS_VTD_SMRE_RSVD0    UINT64_C(0x0000000000000FFE)  /* 11:1, checked when LP=1 */
#define IMS_VTD_SMRE_RSVD1    UINT64_C(0x0000000000000FFE)  /* 75:65, checked when UP=1 */

static inline bool ims_vtd_smre_lp(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_SMRE_LP); }
static inline uint64_t ims_vtd_smre_lctp(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_SMRE_LCTP) << 12; }
static inline bool ims_vtd_smre_up(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_SMRE_UP); }
static inline uint64_t ims_vtd_smre_uctp(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_SMRE_UCTP) << 12; }
static inline void ims_vtd_smre_set_lp(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_SMRE_LP, v); }
static inline void ims_vtd_smre_set_lctp(uint64_t *qw, uint64_t pa) { ims_vtd_entry_put(qw, IMS_VTD_F_SMRE_LCTP, pa >> 12); }
static inline void ims_vtd_smre_set_up(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_SMRE_UP, v); }
static inline void ims_vtd_smre_set_uctp(uint64_t *qw, uint64_t pa) { ims_vtd_entry_put(qw, IMS_VTD_F_SMRE_UCTP, pa >> 12); }

/* ---- §2.3 legacy context entry (128 bits) ------------------------------- */

#define IMS_VTD_TT_SS         0u  /* untranslated via second stage; ATS blocked */
#define IMS_VTD_TT_DEVTLB     1u  /* as 00b plus translation/translated requests (needs ECAP.DT) */
#define IMS_VTD_TT_PT         2u  /* pass-through (needs ECAP.PT); ATS blocked */
#define IMS_VTD_TT_RESERVED   3u

#define IMS_VTD_F_CE_P        0, 0, 0
#define IMS_VTD_F_CE_FPD      0, 1, 1
#define IMS_VTD_F_CE_TT       0, 3, 2
#define IMS_VTD_F_CE_SSPTPTR  0, 63, 12   /* old name SLPTPTR */
#define IMS_VTD_F_CE_AW       1, 2, 0     /* bits 66:64 */
#define IMS_VTD_F_CE_DID      1, 23, 8    /* bits 87:72 */
/* 11:4, 71 and 127:88 are reserved; 70:67 are ignored (not reserved). */
#define IMS_VTD_CE_RSVD0      UINT64_C(0x0000000000000FF0)
#define IMS_VTD_CE_RSVD1      UINT64_C(0xFFFFFFFFFF000080)

static inline bool ims_vtd_ce_p(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_CE_P); }
static inline bool ims_vtd_ce_fpd(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_CE_FPD); }
static inline unsigned ims_vtd_ce_tt(const uint64_t *qw) { return (unsigned)ims_vtd_entry_get(qw, IMS_VTD_F_CE_TT); }
static inline uint64_t ims_vtd_ce_ssptptr(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_CE_SSPTPTR) << 12; }
static inline unsigned ims_vtd_ce_aw(const uint64_t *qw) { return (unsigned)ims_vtd_entry_get(qw, IMS_VTD_F_CE_AW); }
static inline uint16_t ims_vtd_ce_did(const uint64_t *qw) { return (uint16_t)ims_vtd_entry_get(qw, IMS_VTD_F_CE_DID); }
static inline void ims_vtd_ce_set_p(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_CE_P, v); }
static inline void ims_vtd_ce_set_fpd(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_CE_FPD, v); }
static inline void ims_vtd_ce_set_tt(uint64_t *qw, unsigned v) { ims_vtd_entry_put(qw, IMS_VTD_F_CE_TT, v); }
static inline void ims_vtd_ce_set_ssptptr(uint64_t *qw, uint64_t pa) { ims_vtd_entry_put(qw, IMS_VTD_F_CE_SSPTPTR, pa >> 12); }
static inline void ims_vtd_ce_set_aw(uint64_t *qw, unsigned v) { ims_vtd_entry_put(qw, IMS_VTD_F_CE_AW, v); }
static inline void ims_vtd_ce_set_did(uint64_t *qw, uint16_t v) { ims_vtd_entry_put(qw, IMS_VTD_F_CE_DID, v); }

/* ---- §2.4 scalable-mode context entry (256 bits) ------------------------ */

#define IMS_VTD_F_SMCE_P           0, 0, 0
#define IMS_VTD_F_SMCE_FPD         0, 1, 1
#define IMS_VTD_F_SMCE_DTE         0, 2, 2     /* reserved without ECAP.DT */
#define IMS_VTD_F_SMCE_PASIDE      0, 3, 3     /* reserved without ECAP.PASID */
#define IMS_VTD_F_SMCE_PRE         0, 4, 4     /* reserved without ECAP.PRS */
#define IMS_VTD_F_SMCE_PDTS        0, 11, 9
#define IMS_VTD_F_SMCE_PASIDDIRPTR 0, 63, 12
#define IMS_VTD_F_SMCE_RID_PASID   1, 19, 0    /* bits 83:64, reserved without ECAP.RPS */
#define IMS_VTD_F_SMCE_RID_PRIV    1, 20, 20   /* bit 84, reserved without ECAP.RPRIVS */
/* 8:5 reserved: 8:7 always; 6 (EPTR) and 5 (HPTE) are rev-5 features this
 * model does not implement, so they are reserved as on hardware without
 * them. 255:85 reserved (qw2 and qw3 must be zero). */
#define IMS_VTD_SMCE_RSVD0    UINT64_C(0x00000000000001E0)
#define IMS_VTD_SMCE_RSVD1    UINT64_C(0xFFFFFFFFFFE00000)
#define IMS_VTD_SMCE_RSVD2    UINT64_C(0xFFFFFFFFFFFFFFFF)
#define IMS_VTD_SMCE_RSVD3    UINT64_C(0xFFFFFFFFFFFFFFFF)

static inline bool ims_vtd_smce_p(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_SMCE_P); }
static inline bool ims_vtd_smce_fpd(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_SMCE_FPD); }
static inline bool ims_vtd_smce_dte(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_SMCE_DTE); }
static inline bool ims_vtd_smce_paside(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_SMCE_PASIDE); }
static inline bool ims_vtd_smce_pre(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_SMCE_PRE); }
static inline unsigned ims_vtd_smce_pdts(const uint64_t *qw) { return (unsigned)ims_vtd_entry_get(qw, IMS_VTD_F_SMCE_PDTS); }
static inline uint64_t ims_vtd_smce_pasiddirptr(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_SMCE_PASIDDIRPTR) << 12; }
static inline uint32_t ims_vtd_smce_rid_pasid(const uint64_t *qw) { return (uint32_t)ims_vtd_entry_get(qw, IMS_VTD_F_SMCE_RID_PASID); }
static inline bool ims_vtd_smce_rid_priv(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_SMCE_RID_PRIV); }
static inline void ims_vtd_smce_set_p(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_SMCE_P, v); }
static inline void ims_vtd_smce_set_fpd(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_SMCE_FPD, v); }
static inline void ims_vtd_smce_set_dte(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_SMCE_DTE, v); }
static inline void ims_vtd_smce_set_paside(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_SMCE_PASIDE, v); }
static inline void ims_vtd_smce_set_pre(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_SMCE_PRE, v); }
static inline void ims_vtd_smce_set_pdts(uint64_t *qw, unsigned v) { ims_vtd_entry_put(qw, IMS_VTD_F_SMCE_PDTS, v); }
static inline void ims_vtd_smce_set_pasiddirptr(uint64_t *qw, uint64_t pa) { ims_vtd_entry_put(qw, IMS_VTD_F_SMCE_PASIDDIRPTR, pa >> 12); }
static inline void ims_vtd_smce_set_rid_pasid(uint64_t *qw, uint32_t v) { ims_vtd_entry_put(qw, IMS_VTD_F_SMCE_RID_PASID, v); }
static inline void ims_vtd_smce_set_rid_priv(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_SMCE_RID_PRIV, v); }

/* The directory has 2^(PDTS+7) entries of 64 PASIDs each: PASIDs at or above
 * 2^(PDTS+13) are out of range (SCT.7). */
static inline uint32_t ims_vtd_smce_pasid_limit(const uint64_t *qw) { return UINT32_C(1) << (ims_vtd_smce_pdts(qw) + 13); }

/* ---- §2.5 scalable-mode PASID-directory entry (64 bits) ----------------- */

#define IMS_VTD_F_PDIRE_P         0, 0, 0
#define IMS_VTD_F_PDIRE_FPD       0, 1, 1
#define IMS_VTD_F_PDIRE_SMPTBLPTR 0, 63, 12
#define IMS_VTD_PDIRE_RSVD0       UINT64_C(0x0000000000000FFC)  /* 11:2 */

static inline bool ims_vtd_pdire_p(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_PDIRE_P); }
static inline bool ims_vtd_pdire_fpd(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_PDIRE_FPD); }
static inline uint64_t ims_vtd_pdire_smptblptr(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_PDIRE_SMPTBLPTR) << 12; }
static inline void ims_vtd_pdire_set_p(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_PDIRE_P, v); }
static inline void ims_vtd_pdire_set_fpd(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_PDIRE_FPD, v); }
static inline void ims_vtd_pdire_set_smptblptr(uint64_t *qw, uint64_t pa) { ims_vtd_entry_put(qw, IMS_VTD_F_PDIRE_SMPTBLPTR, pa >> 12); }

/* ---- §2.6 scalable-mode PASID-table entry (512 bits) -------------------- */

/* PGTT encodings are the values of ims_vtd_pgtt (translate.h); 000b and
 * 101b-111b are reserved. */
#define IMS_VTD_FSPM_4LEVEL     0u
#define IMS_VTD_FSPM_5LEVEL     1u

#define IMS_VTD_F_PASIDTE_P        0, 0, 0
#define IMS_VTD_F_PASIDTE_FPD      0, 1, 1
#define IMS_VTD_F_PASIDTE_AW       0, 4, 2     /* SS AGAW, same encoding as the context entry */
#define IMS_VTD_F_PASIDTE_SSEE     0, 5, 5     /* old SLEE; reserved in rev 5.10 and without ECAP.ERS */
#define IMS_VTD_F_PASIDTE_PGTT     0, 8, 6
#define IMS_VTD_F_PASIDTE_SSADE    0, 9, 9     /* old SLADE */
#define IMS_VTD_F_PASIDTE_SSPTPTR  0, 63, 12   /* old SLPTPTR */
#define IMS_VTD_F_PASIDTE_DID      1, 15, 0    /* bits 79:64 */
#define IMS_VTD_F_PASIDTE_PWSNP    1, 23, 23   /* bit 87 */
#define IMS_VTD_F_PASIDTE_PGSNP    1, 24, 24   /* bit 88 */
#define IMS_VTD_F_PASIDTE_CD       1, 25, 25   /* bit 89 */
#define IMS_VTD_F_PASIDTE_EMTE     1, 26, 26   /* bit 90 */
#define IMS_VTD_F_PASIDTE_PAT      1, 63, 32   /* bits 127:96 */
#define IMS_VTD_F_PASIDTE_SRE      2, 0, 0     /* bit 128 */
#define IMS_VTD_F_PASIDTE_ERE      2, 1, 1     /* bit 129: deprecated, reserved without ECAP.ERS */
#define IMS_VTD_F_PASIDTE_FSPM     2, 3, 2     /* bits 131:130, old FLPM */
#define IMS_VTD_F_PASIDTE_WPE      2, 4, 4     /* bit 132 */
#define IMS_VTD_F_PASIDTE_EAFE     2, 7, 7     /* bit 135 */
#define IMS_VTD_F_PASIDTE_FSPTPTR  2, 63, 12   /* bits 191:140, old FLPTPTR; a GPA when nested */
/* Always reserved: 11:10, 86:80, 95:91 (rev 5.10; EMT/PWT/PCD of rev 3.x are
 * not modelled), 139:136, 511:192 (qw3; qw4-qw7 hold HPT fields in rev 5.x,
 * which this model does not implement). 134:133 (old NXE/SMEP) are ignored. */
#define IMS_VTD_PASIDTE_RSVD0     UINT64_C(0x0000000000000C00)
#define IMS_VTD_PASIDTE_RSVD1     UINT64_C(0x00000000F87F0000)
#define IMS_VTD_PASIDTE_RSVD2     UINT64_C(0x0000000000000F00)
#define IMS_VTD_PASIDTE_RSVD3_7   UINT64_C(0xFFFFFFFFFFFFFFFF)

static inline bool ims_vtd_pasidte_p(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_PASIDTE_P); }
static inline bool ims_vtd_pasidte_fpd(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_PASIDTE_FPD); }
static inline unsigned ims_vtd_pasidte_aw(const uint64_t *qw) { return (unsigned)ims_vtd_entry_get(qw, IMS_VTD_F_PASIDTE_AW); }
static inline bool ims_vtd_pasidte_ssee(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_PASIDTE_SSEE); }
static inline unsigned ims_vtd_pasidte_pgtt(const uint64_t *qw) { return (unsigned)ims_vtd_entry_get(qw, IMS_VTD_F_PASIDTE_PGTT); }
static inline bool ims_vtd_pasidte_ssade(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_PASIDTE_SSADE); }
static inline uint64_t ims_vtd_pasidte_ssptptr(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_PASIDTE_SSPTPTR) << 12; }
static inline uint16_t ims_vtd_pasidte_did(const uint64_t *qw) { return (uint16_t)ims_vtd_entry_get(qw, IMS_VTD_F_PASIDTE_DID); }
static inline bool ims_vtd_pasidte_pwsnp(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_PASIDTE_PWSNP); }
static inline bool ims_vtd_pasidte_pgsnp(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_PASIDTE_PGSNP); }
static inline bool ims_vtd_pasidte_cd(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_PASIDTE_CD); }
static inline bool ims_vtd_pasidte_emte(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_PASIDTE_EMTE); }
static inline uint32_t ims_vtd_pasidte_pat(const uint64_t *qw) { return (uint32_t)ims_vtd_entry_get(qw, IMS_VTD_F_PASIDTE_PAT); }
static inline bool ims_vtd_pasidte_sre(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_PASIDTE_SRE); }
static inline bool ims_vtd_pasidte_ere(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_PASIDTE_ERE); }
static inline unsigned ims_vtd_pasidte_fspm(const uint64_t *qw) { return (unsigned)ims_vtd_entry_get(qw, IMS_VTD_F_PASIDTE_FSPM); }
static inline bool ims_vtd_pasidte_wpe(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_PASIDTE_WPE); }
static inline bool ims_vtd_pasidte_eafe(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_PASIDTE_EAFE); }
static inline uint64_t ims_vtd_pasidte_fsptptr(const uint64_t *qw) { return ims_vtd_entry_get(qw, IMS_VTD_F_PASIDTE_FSPTPTR) << 12; }
static inline void ims_vtd_pasidte_set_p(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_PASIDTE_P, v); }
static inline void ims_vtd_pasidte_set_fpd(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_PASIDTE_FPD, v); }
static inline void ims_vtd_pasidte_set_aw(uint64_t *qw, unsigned v) { ims_vtd_entry_put(qw, IMS_VTD_F_PASIDTE_AW, v); }
static inline void ims_vtd_pasidte_set_ssee(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_PASIDTE_SSEE, v); }
static inline void ims_vtd_pasidte_set_pgtt(uint64_t *qw, unsigned v) { ims_vtd_entry_put(qw, IMS_VTD_F_PASIDTE_PGTT, v); }
static inline void ims_vtd_pasidte_set_ssade(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_PASIDTE_SSADE, v); }
static inline void ims_vtd_pasidte_set_ssptptr(uint64_t *qw, uint64_t pa) { ims_vtd_entry_put(qw, IMS_VTD_F_PASIDTE_SSPTPTR, pa >> 12); }
static inline void ims_vtd_pasidte_set_did(uint64_t *qw, uint16_t v) { ims_vtd_entry_put(qw, IMS_VTD_F_PASIDTE_DID, v); }
static inline void ims_vtd_pasidte_set_pwsnp(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_PASIDTE_PWSNP, v); }
static inline void ims_vtd_pasidte_set_pgsnp(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_PASIDTE_PGSNP, v); }
static inline void ims_vtd_pasidte_set_cd(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_PASIDTE_CD, v); }
static inline void ims_vtd_pasidte_set_emte(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_PASIDTE_EMTE, v); }
static inline void ims_vtd_pasidte_set_pat(uint64_t *qw, uint32_t v) { ims_vtd_entry_put(qw, IMS_VTD_F_PASIDTE_PAT, v); }
static inline void ims_vtd_pasidte_set_sre(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_PASIDTE_SRE, v); }
static inline void ims_vtd_pasidte_set_ere(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_PASIDTE_ERE, v); }
static inline void ims_vtd_pasidte_set_fspm(uint64_t *qw, unsigned v) { ims_vtd_entry_put(qw, IMS_VTD_F_PASIDTE_FSPM, v); }
static inline void ims_vtd_pasidte_set_wpe(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_PASIDTE_WPE, v); }
static inline void ims_vtd_pasidte_set_eafe(uint64_t *qw, bool v) { ims_vtd_entry_put(qw, IMS_VTD_F_PASIDTE_EAFE, v); }
static inline void ims_vtd_pasidte_set_fsptptr(uint64_t *qw, uint64_t pa) { ims_vtd_entry_put(qw, IMS_VTD_F_PASIDTE_FSPTPTR, pa >> 12); }

/* Level counts: SS levels = AW + 2 (AW 1..3), FS levels = 4 + FSPM. */
static inline unsigned ims_vtd_aw_levels(unsigned aw) { return aw + 2; }
static inline unsigned ims_vtd_fspm_levels(unsigned fspm) { return 4 + fspm; }

#ifdef __cplusplus
}
#endif
#endif
