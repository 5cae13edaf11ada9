/* Builds VT-d device-to-domain structures in simulated memory: the root table
 * (legacy or scalable mode), context entries, PASID directories and PASID-table
 * entries, in the architected formats of entries.h. Used by tests, the host
 * driver model and trace generators.
 *
 * The builder keeps no shadow state: every call reads the current entries from
 * memory (real bytes), so structures it made can also be edited directly.
 * Pages come from an ims_pa_alloc (zeroed on allocation) and are never freed.
 *
 * Entries are written with P=1 and exactly the fields given: values that fit
 * the field are accepted even if the hardware would reject them (reserved TT,
 * unsupported AW or PGTT ...), so tests can build faulting entries. Fields the
 * hardware treats as reserved without a capability (e.g. PWSNP without
 * ECAP.SMPWCS, PGSNP without ECAP.SC) must be left 0 on such hardware.
 *
 * All calls return 0 or a negative errno and describe failures in err (may be
 * NULL): -EINVAL (bad argument / wrong mode), -ERANGE (PASID beyond the
 * directory), -ENOENT (the referencing entry is missing), -ENOMEM (allocator
 * exhausted). */
#ifndef IMS_VTD_CTX_BUILDER_H
#define IMS_VTD_CTX_BUILDER_H

#include <stdbool.h>
#include <stdint.h>

#include "models/mem/pa_alloc.h"
#include "sim/err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ims_vtd_ctx_builder {
    ims_pa_alloc *alloc;  /* page source; its mem is the memory written */
    bool scalable;        /* scalable-mode (TTM=01b) or legacy (TTM=00b) tables */
    uint64_t root;        /* HPA of the root table */
} ims_vtd_ctx_builder;

/* Allocate an empty (all not-present) root table. */
int ims_vtd_ctxb_init(ims_vtd_ctx_builder *b, ims_pa_alloc *alloc, bool scalable, ims_error *err);

/* The value to program into RTADDR before SRTP: root | TTM << 10. */
uint64_t ims_vtd_ctxb_rtaddr(const ims_vtd_ctx_builder *b);

/* ---- legacy mode ----------------------------------------------------------- */

typedef struct ims_vtd_legacy_ctx_cfg {
    unsigned tt;          /* IMS_VTD_TT_* (entries.h), 0..3 */
    unsigned aw;          /* 1 = 39-bit/3-level, 2 = 48-bit/4-level, 3 = 57-bit/5-level; 0..7 */
    uint64_t ssptptr;     /* second-stage root (old SLPTPTR), 4 KiB aligned */
    uint16_t did;
    bool fpd;
} ims_vtd_legacy_ctx_cfg;

/* Write the context entry of sid, allocating its bus's context table. */
int ims_vtd_ctxb_set_legacy_ctx(ims_vtd_ctx_builder *b, uint16_t sid, const ims_vtd_legacy_ctx_cfg *cfg,
                                ims_error *err);

/* ---- scalable mode ----------------------------------------------------------- */

typedef struct ims_vtd_sm_ctx_cfg {
    uint64_t pasid_dir;   /* PASID-directory HPA (4 KiB aligned), or 0: keep the entry's current
                             directory if it covers pdts, else allocate a zeroed one */
    unsigned pdts;        /* directory has 2^(pdts+7) entries; 0..7 */
    bool dte, paside, pre;
    uint32_t rid_pasid;   /* < 2^20 */
    bool rid_priv;
    bool fpd;
} ims_vtd_sm_ctx_cfg;

/* Write the scalable-mode context entry of sid, allocating the lower/upper
 * context table (devfn[7]) of its bus and, if asked, its PASID directory. */
int ims_vtd_ctxb_set_sm_ctx(ims_vtd_ctx_builder *b, uint16_t sid, const ims_vtd_sm_ctx_cfg *cfg, ims_error *err);

typedef struct ims_vtd_pasid_cfg {
    unsigned pgtt;        /* ims_vtd_pgtt value (raw 0..7 accepted) */
    uint16_t did;
    bool fpd;
    /* second stage */
    unsigned aw;          /* SS AGAW encoding, 0..7 */
    uint64_t ssptptr;     /* 4 KiB aligned */
    bool ssade, ssee;
    /* first stage */
    uint64_t fsptptr;     /* 4 KiB aligned; a GPA for nested */
    unsigned fspm;        /* IMS_VTD_FSPM_*, 0..3 */
    bool sre, wpe, eafe;
    bool ere;             /* deprecated execute-requests enable */
    /* snoop and memory type */
    bool pwsnp, pgsnp, cd, emte;
    uint32_t pat;
} ims_vtd_pasid_cfg;

/* Write the PASID-table entry of (sid, pasid); the context entry of sid must
 * be present with a directory. Allocates the PASID table (and sets the
 * directory entry present) on first use of its 64-PASID group. */
int ims_vtd_ctxb_set_pasid(ims_vtd_ctx_builder *b, uint16_t sid, uint32_t pasid, const ims_vtd_pasid_cfg *cfg,
                           ims_error *err);

/* Set the FPD bit of the directory entry covering pasid (which must exist). */
int ims_vtd_ctxb_set_pasid_dir_fpd(ims_vtd_ctx_builder *b, uint16_t sid, uint32_t pasid, bool fpd,
                                   ims_error *err);

/* ---- clearing and locating ------------------------------------------------ */

/* Zero the context entry / PASID-table entry (no-op when it does not exist).
 * Tables are not freed. */
int ims_vtd_ctxb_clear_ctx(ims_vtd_ctx_builder *b, uint16_t sid, ims_error *err);
int ims_vtd_ctxb_clear_pasid(ims_vtd_ctx_builder *b, uint16_t sid, uint32_t pasid, ims_error *err);

/* HPA of an entry, without allocating: -ENOENT if the table holding it (or the
 * entry pointing to that table) is not present. */
int ims_vtd_ctxb_ctx_entry_pa(const ims_vtd_ctx_builder *b, uint16_t sid, uint64_t *pa, ims_error *err);
int ims_vtd_ctxb_pasid_dir_entry_pa(const ims_vtd_ctx_builder *b, uint16_t sid, uint32_t pasid, uint64_t *pa,
                                    ims_error *err);
int ims_vtd_ctxb_pasid_entry_pa(const ims_vtd_ctx_builder *b, uint16_t sid, uint32_t pasid, uint64_t *pa,
                                ims_error *err);

#ifdef __cplusplus
}
#endif
#endif
