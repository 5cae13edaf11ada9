/* VT-d paging-entry formats: first-stage (IA-32e, vtd-facts §2.7) and
 * second-stage (vtd-facts §2.8) entries, their reserved-bit masks per level and
 * page size, and the level <-> address-bit helpers shared by walkers, caches
 * and table builders.
 *
 * Every architected field has one accessor here; nothing else decodes entry
 * bits. Levels count from the leaf: 1 = 4 KiB PTE, 2 = PDE (2 MiB), 3 = PDPE
 * (1 GiB), 4 = PML4E, 5 = PML5E. */
#ifndef IMS_VTD_PTE_H
#define IMS_VTD_PTE_H

#include <stdbool.h>
#include <stdint.h>

#include "models/vtd/regs.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMS_PT_MAX_LEVELS 5
#define IMS_PT_ENTRIES 512u
#define IMS_PTE_SIZE 8u
#define IMS_PTE_ADDR_MASK 0x000FFFFFFFFFF000ULL /* bits 51:12 */

/* ---- levels ------------------------------------------------------------- */

/* Lowest input-address bit translated by an entry at `level`. */
static inline unsigned ims_pt_level_shift(unsigned level) { return 12u + 9u * (level - 1u); }
/* Bytes mapped by one entry at `level` (4 KiB, 2 MiB, 1 GiB, 512 GiB, 256 TiB). */
static inline uint64_t ims_pt_level_size(unsigned level) { return 1ULL << ims_pt_level_shift(level); }
/* Index of the entry for `addr` in the table at `level`. */
static inline unsigned ims_pt_index(uint64_t addr, unsigned level)
{
    return (unsigned)((addr >> ims_pt_level_shift(level)) & (IMS_PT_ENTRIES - 1u));
}
/* Input-address width of a table with `levels` levels: 39, 48 or 57 bits. */
static inline unsigned ims_pt_width(unsigned levels) { return 12u + 9u * levels; }
/* Level whose entries map `size` bytes (1, 2 or 3), 0 for other sizes. */
static inline unsigned ims_pt_level_of_size(uint64_t size)
{
    for (unsigned l = 1; l <= 3; l++)
        if (size == ims_pt_level_size(l))
            return l;
    return 0;
}

/* ---- what the platform supports (decoded once from CAP/ECAP) ---------------- */

typedef struct ims_pte_fmt {
    unsigned haw;   /* host address width: address bits haw..51 are reserved */
    bool ss_2m;     /* CAP.SSLPS (old SLLPS) bit 34: 2 MiB second-stage leaves */
    bool ss_1g;     /* CAP.SSLPS bit 35: 1 GiB second-stage leaves */
    bool fs_1g;     /* CAP.FS1GP (old FL1GP): 1 GiB first-stage leaves */
    bool snp;       /* ECAP.SC: the SS leaf SNP bit is defined (else reserved) */
    bool tm;        /* ECAP.DT: the SS leaf TM bit is defined (else reserved) */
} ims_pte_fmt;

/* HAW is taken as MGAW+1: the simulated platform reports one width for both.
 * CAP/ECAP fields are decoded by the register layout (regs.h) only. */
static inline ims_pte_fmt ims_pte_fmt_from_cap(uint64_t cap, uint64_t ecap)
{
    ims_pte_fmt f;
    f.haw = ims_vtd_cap_mgaw_bits(cap);
    f.ss_2m = (ims_vtd_cap_sslps(cap) & IMS_VTD_SSLPS_2M) != 0;
    f.ss_1g = (ims_vtd_cap_sslps(cap) & IMS_VTD_SSLPS_1G) != 0;
    f.fs_1g = ims_vtd_cap_fs1gp(cap);
    f.snp = ims_vtd_ecap_sc(ecap);
    f.tm = ims_vtd_ecap_dt(ecap);
    return f;
}

/* Address bits 51:haw, reserved in every entry. */
static inline uint64_t ims_pte_haw_rsvd(unsigned haw)
{
    if (haw >= 52)
        return 0;
    if (haw < 12)
        return IMS_PTE_ADDR_MASK;
    return IMS_PTE_ADDR_MASK & ~((1ULL << haw) - 1u);
}
/* Bits lo..hi (inclusive). */
static inline uint64_t ims_pte_bits(unsigned hi, unsigned lo)
{
    return ((hi >= 63 ? ~0ULL : ((1ULL << (hi + 1u)) - 1u))) & ~((1ULL << lo) - 1u);
}

/* ---- first-stage entries (vtd-facts §2.7) ---------------------------------------- */

#define IMS_FS_PTE_P   (1ULL << 0)
#define IMS_FS_PTE_RW  (1ULL << 1)
#define IMS_FS_PTE_US  (1ULL << 2)
#define IMS_FS_PTE_PWT (1ULL << 3)
#define IMS_FS_PTE_PCD (1ULL << 4)
#define IMS_FS_PTE_A   (1ULL << 5)
#define IMS_FS_PTE_D   (1ULL << 6)
#define IMS_FS_PTE_PS  (1ULL << 7)  /* PDPE/PDE; PAT in a 4 KiB PTE */
#define IMS_FS_PTE_G   (1ULL << 8)
#define IMS_FS_PTE_EA  (1ULL << 10)
#define IMS_FS_PTE_XD  (1ULL << 63)

static inline bool ims_fs_pte_p(uint64_t e) { return e & IMS_FS_PTE_P; }
static inline bool ims_fs_pte_rw(uint64_t e) { return e & IMS_FS_PTE_RW; }
static inline bool ims_fs_pte_us(uint64_t e) { return e & IMS_FS_PTE_US; }
static inline bool ims_fs_pte_pwt(uint64_t e) { return e & IMS_FS_PTE_PWT; }
static inline bool ims_fs_pte_pcd(uint64_t e) { return e & IMS_FS_PTE_PCD; }
static inline bool ims_fs_pte_a(uint64_t e) { return e & IMS_FS_PTE_A; }
static inline bool ims_fs_pte_d(uint64_t e) { return e & IMS_FS_PTE_D; }
static inline bool ims_fs_pte_ps(uint64_t e) { return e & IMS_FS_PTE_PS; }
static inline bool ims_fs_pte_g(uint64_t e) { return e & IMS_FS_PTE_G; }
static inline bool ims_fs_pte_ea(uint64_t e) { return e & IMS_FS_PTE_EA; }
static inline bool ims_fs_pte_xd(uint64_t e) { return e & IMS_FS_PTE_XD; }
/* Next-table or 4 KiB page address (bits 51:12); large leaves: see ims_pte_leaf_addr. */
static inline uint64_t ims_fs_pte_addr(uint64_t e) { return e & IMS_PTE_ADDR_MASK; }

/* Whether an FS entry with PS=1 at `level` is a leaf the platform supports. */
static inline bool ims_fs_large_ok(const ims_pte_fmt *f, unsigned level)
{
    return level == 2 || (level == 3 && f->fs_1g);
}

/* Reserved bits of an FS entry at `level`; leaf = a 4 KiB PTE or a supported
 * large page. PS is reserved in PML5E/PML4E and in PDPEs without FL1GP; large
 * leaves reserve the address bits below the page size except PAT (bit 12).
 * Bits 62:52 and XD (63) are ignored: XD went away with NXE. */
static inline uint64_t ims_fs_rsvd_mask(const ims_pte_fmt *f, unsigned level, bool leaf)
{
    uint64_t m = ims_pte_haw_rsvd(f->haw);
    if (level > 1 && !leaf) {
        if (!ims_fs_large_ok(f, level))
            m |= IMS_FS_PTE_PS;
        return m;
    }
    if (level > 1)
        m |= ims_pte_bits(ims_pt_level_shift(level) - 1u, 13);
    return m;
}

/* ---- second-stage entries (vtd-facts §2.8) --------------------------------------- */

#define IMS_SS_PTE_R    (1ULL << 0)
#define IMS_SS_PTE_W    (1ULL << 1)
#define IMS_SS_PTE_X    (1ULL << 2)
#define IMS_SS_PTE_EMT_SHIFT 3
#define IMS_SS_PTE_EMT  (7ULL << 3)  /* ⚠ position inferred (EPT analogy) */
#define IMS_SS_PTE_IPAT (1ULL << 6)  /* ⚠ same */
#define IMS_SS_PTE_PS   (1ULL << 7)
#define IMS_SS_PTE_A    (1ULL << 8)
#define IMS_SS_PTE_D    (1ULL << 9)
#define IMS_SS_PTE_SNP  (1ULL << 11)
#define IMS_SS_PTE_TM   (1ULL << 62)

static inline bool ims_ss_pte_r(uint64_t e) { return e & IMS_SS_PTE_R; }
static inline bool ims_ss_pte_w(uint64_t e) { return e & IMS_SS_PTE_W; }
static inline bool ims_ss_pte_x(uint64_t e) { return e & IMS_SS_PTE_X; }
static inline unsigned ims_ss_pte_emt(uint64_t e) { return (unsigned)((e & IMS_SS_PTE_EMT) >> IMS_SS_PTE_EMT_SHIFT); }
static inline bool ims_ss_pte_ipat(uint64_t e) { return e & IMS_SS_PTE_IPAT; }
static inline bool ims_ss_pte_ps(uint64_t e) { return e & IMS_SS_PTE_PS; }
static inline bool ims_ss_pte_a(uint64_t e) { return e & IMS_SS_PTE_A; }
static inline bool ims_ss_pte_d(uint64_t e) { return e & IMS_SS_PTE_D; }
static inline bool ims_ss_pte_snp(uint64_t e) { return e & IMS_SS_PTE_SNP; }
static inline bool ims_ss_pte_tm(uint64_t e) { return e & IMS_SS_PTE_TM; }
static inline uint64_t ims_ss_pte_addr(uint64_t e) { return e & IMS_PTE_ADDR_MASK; }
/* No present bit: an SS entry is present iff R or W is set. */
static inline bool ims_ss_pte_present(uint64_t e) { return (e & (IMS_SS_PTE_R | IMS_SS_PTE_W)) != 0; }

static inline bool ims_ss_large_ok(const ims_pte_fmt *f, unsigned level)
{
    return (level == 2 && f->ss_2m) || (level == 3 && f->ss_1g);
}

/* Reserved bits of an SS entry at `level`. Non-leaf entries reserve bit 11 and
 * TM (62), and PS where no leaf is supported (always in SL-PML5E/PML4E: the
 * 512 GiB/1 TiB SLLPS bits are not modelled). Leaves reserve SNP without
 * ECAP.SC, TM without ECAP.DT, and large leaves the address bits below the
 * page size. EMT/IPAT (6:3), bit 10 and 63:52 except TM are ignored. */
static inline uint64_t ims_ss_rsvd_mask(const ims_pte_fmt *f, unsigned level, bool leaf)
{
    uint64_t m = ims_pte_haw_rsvd(f->haw);
    if (level > 1 && !leaf) {
        m |= IMS_SS_PTE_SNP | IMS_SS_PTE_TM;
        if (!ims_ss_large_ok(f, level))
            m |= IMS_SS_PTE_PS;
        return m;
    }
    if (level > 1)
        m |= ims_pte_bits(ims_pt_level_shift(level) - 1u, 12);
    if (!f->snp)
        m |= IMS_SS_PTE_SNP;
    if (!f->tm)
        m |= IMS_SS_PTE_TM;
    return m;
}

/* ---- shared --------------------------------------------------------------- */

/* Output address of a leaf at `level` for input `addr` (same for both formats). */
static inline uint64_t ims_pte_leaf_addr(uint64_t e, unsigned level, uint64_t addr)
{
    uint64_t off = ims_pt_level_size(level) - 1u;
    return ((e & IMS_PTE_ADDR_MASK) & ~off) | (addr & off);
}

#ifdef __cplusplus
}
#endif
#endif
