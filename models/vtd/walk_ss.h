/* Second-stage (SS) page walk, and the pieces every walk shares.
 *
 * A walk runs in two phases so nested walks and the timing model can decide
 * before anything is written:
 *   1. ims_vtd_ss_walk_run() reads the entries (optionally starting at a level
 *      and table taken from a paging-structure cache), checks widths, presence
 *      and reserved bits and computes the permissions (AND over the levels).
 *      It never writes memory.
 *   2. ims_vtd_ss_walk_set_ad() sets A on every entry read and D on the leaf
 *      (writes) when SSADE is on: atomic ORs, logged as SS_AD_WRITE.
 * Permission faults are not raised by the walk: the caller checks the request
 * against the permissions (ims_vtd_check_access, translate.h) because an ATS
 * translation request is answered with the permissions instead of a fault. */
#ifndef IMS_VTD_WALK_SS_H
#define IMS_VTD_WALK_SS_H

#include <stdbool.h>
#include <stdint.h>

#include "models/vtd/pte.h"
#include "models/vtd/translate.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where an SS walk starts. A cold walk starts at ctx->ss_levels with
 * ctx->ssptptr and all permissions; a paging-structure-cache hit gives a lower
 * level, the HPA of the table at that level and the permissions ANDed above. */
typedef struct ims_vtd_ss_start {
    unsigned level;
    uint64_t table;
    bool r, w, x;
} ims_vtd_ss_start;

/* One entry read by a walk (so caches can be filled from it). */
typedef struct ims_vtd_ss_step {
    uint64_t table;   /* HPA of the table read at this level */
    uint64_t pte_pa;  /* HPA of the entry */
    uint64_t pte;     /* value read (before any A/D update) */
    bool r, w, x;     /* permissions ANDed from the top level down to this one */
} ims_vtd_ss_step;

typedef struct ims_vtd_ss_walk {
    uint8_t fault;          /* 0, or the fault reason */
    unsigned levels;        /* levels of the table (3, 4, 5) */
    unsigned start_level;   /* first level read */
    unsigned level;         /* last level read: the leaf on success */
    uint64_t out;           /* translated address of the input */
    uint64_t page_size;     /* bytes mapped by the leaf */
    bool r, w, x;           /* permissions of the translation */
    uint64_t leaf;          /* leaf entry (EMT, IPAT, SNP, TM for the caller) */
    ims_vtd_ss_step step[IMS_PT_MAX_LEVELS + 1]; /* by level; valid from start_level down to level */
} ims_vtd_ss_walk;

/* Input-address width of the SS table: min(AGAW, MGAW+1) bits. */
unsigned ims_vtd_ss_input_width(const ims_vtd_hw *hw, unsigned ss_levels);

/* Phase 1. `read`/`write` are the access (they choose LGN.3/LGN.2 for a
 * not-present entry in legacy mode); start NULL = cold walk. nested_fs_level
 * tags the log entries (0 when not nested). Returns w->fault. Faults:
 *   input >= 2^width       legacy LGN.1 (0x04), scalable SGN.4 (0x83)
 *   root pointer > HAW     legacy LSL.1, scalable SSS.4
 *   R=W=0                  legacy LGN.3/LGN.2, scalable SSS.2
 *   reserved bit / PS      legacy LSL.2, scalable SSS.3
 *   bad level count        legacy LCT.4, scalable SPT.4 */
uint8_t ims_vtd_ss_walk_run(const ims_vtd_hw *hw, const ims_vtd_ctx *ctx, uint64_t addr, bool read,
                            bool write, const ims_vtd_ss_start *start, unsigned nested_fs_level,
                            ims_vtd_ss_walk *w, ims_vtd_access_log *log);

/* Whether the SS A/D bits are maintained for this context (scalable, SSADE, ECAP.SSADS). */
bool ims_vtd_ss_ad_enabled(const ims_vtd_hw *hw, const ims_vtd_ctx *ctx);

/* Phase 2 for a successful walk: A on every entry read, D on the leaf when
 * `dirty`. Writes are skipped (and not logged) with IMS_VTD_WALK_NO_AD; a log
 * entry is made only for a write that changed the entry. Returns 0, or
 * LSL.1/SSS.1 when memory refuses the update. */
uint8_t ims_vtd_ss_walk_set_ad(const ims_vtd_hw *hw, const ims_vtd_ctx *ctx, const ims_vtd_ss_walk *w,
                               bool dirty, unsigned flags, unsigned nested_fs_level,
                               ims_vtd_access_log *log);

#ifdef __cplusplus
}
#endif
#endif
