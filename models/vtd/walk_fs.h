/* First-stage (FS) page walk.
 *
 * Same two phases as the SS walk (walk_ss.h): *_run() reads and checks,
 * *_set_ad() writes A/EA/D. The FS walk reaches its tables through a
 * caller-supplied callback: identity for PGTT=FS (tables are HPAs), a full SS
 * walk for nested (tables are GPAs) — the nested walk (walk_nested.h) provides
 * that one. */
#ifndef IMS_VTD_WALK_FS_H
#define IMS_VTD_WALK_FS_H

#include <stdbool.h>
#include <stdint.h>

#include "models/vtd/pte.h"
#include "models/vtd/translate.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Locate the FS table that entries (or FSPTPTR) name `table_addr`, for FS
 * level `fs_level`. Sets *hpa and *writable (whether the table may be written
 * for A/D updates) and returns 0, or returns a fault reason. */
typedef uint8_t (*ims_vtd_fs_table_fn)(void *opaque, uint64_t table_addr, unsigned fs_level,
                                       uint64_t *hpa, bool *writable, ims_vtd_access_log *log);

/* PGTT=FS: tables are host-physical. FSPTPTR beyond HAW gives SFS.4. opaque
 * is the const ims_vtd_hw *. */
uint8_t ims_vtd_fs_table_identity(void *opaque, uint64_t table_addr, unsigned fs_level, uint64_t *hpa,
                                  bool *writable, ims_vtd_access_log *log);

/* Where an FS walk starts: a paging-structure-cache hit gives the level, the
 * table's HPA (nested: already translated), whether it is writable, and R/W,
 * U/S ANDed above that level. */
typedef struct ims_vtd_fs_start {
    unsigned level;
    uint64_t table;
    bool writable;
    bool rw, us;
} ims_vtd_fs_start;

typedef struct ims_vtd_fs_step {
    uint64_t table_addr; /* the table's address as named by its parent (GPA when nested) */
    uint64_t table;      /* HPA of the table */
    bool writable;       /* A/D may be written into it (nested: SS W) */
    uint64_t pte_pa;     /* HPA of the entry */
    uint64_t pte;        /* value read (before any A/D update) */
    bool rw, us;         /* R/W and U/S ANDed from the top level down to this one */
} ims_vtd_fs_step;

typedef struct ims_vtd_fs_walk {
    uint8_t fault;
    unsigned levels, start_level, level; /* level: last read, the leaf on success */
    uint64_t out;          /* output address: HPA, or GPA when nested */
    uint64_t page_size;
    bool rw, us;           /* R/W and U/S ANDed over all levels */
    ims_vtd_perm perm;     /* permissions for the request's privilege */
    uint64_t leaf;
    ims_vtd_fs_step step[IMS_PT_MAX_LEVELS + 1]; /* by level; valid from start_level down to level */
} ims_vtd_fs_walk;

/* Phase 1. Faults: bad FSPM level count SPT.4; supervisor request with SRE=0
 * SPT.6; non-canonical input SGN.1; P=0 SFS.2; reserved bit (incl. PS where
 * unsupported) SFS.3; whatever table_fn returns. Permissions (never a fault
 * here): user requests need U/S at every level (else perm.us_denied) and R/W
 * at every level to write; supervisor requests may write unless WPE=1 and some
 * R/W=0. Execute follows read (XD is ignored). */
uint8_t ims_vtd_fs_walk_run(const ims_vtd_hw *hw, const ims_vtd_ctx *ctx, uint64_t addr, bool priv,
                            const ims_vtd_fs_start *start, ims_vtd_fs_table_fn table_fn, void *opaque,
                            ims_vtd_fs_walk *w, ims_vtd_access_log *log);

/* Bits an A/D update must set in FS entry `pte`: A (every entry), EA with it
 * when EAFE (even if A is already set), D on the leaf when `dirty`. */
static inline uint64_t ims_vtd_fs_ad_bits(const ims_vtd_ctx *ctx, uint64_t pte, bool leaf, bool dirty)
{
    uint64_t want = IMS_FS_PTE_A;
    if (ctx->eafe)
        want |= IMS_FS_PTE_EA;
    if (leaf && dirty)
        want |= IMS_FS_PTE_D;
    return want & ~pte;
}

/* Phase 2 for one level / the whole walk: atomic ORs logged as FS_AD_WRITE,
 * skipped with IMS_VTD_WALK_NO_AD. Returns 0 or SFS.10 when memory refuses. */
uint8_t ims_vtd_fs_walk_set_ad_level(const ims_vtd_hw *hw, const ims_vtd_ctx *ctx, const ims_vtd_fs_walk *w,
                                     unsigned level, bool dirty, unsigned flags, ims_vtd_access_log *log);
uint8_t ims_vtd_fs_walk_set_ad(const ims_vtd_hw *hw, const ims_vtd_ctx *ctx, const ims_vtd_fs_walk *w,
                               bool dirty, unsigned flags, ims_vtd_access_log *log);

#ifdef __cplusplus
}
#endif
#endif
