/* Nested (two-dimensional, PGTT=011b) walk, vtd-facts §3.2: first-stage
 * tables live in guest-physical space, so every FS table address (FSPTPTR,
 * each next-table GPA) and the final GPA are translated by a second-stage walk.
 *
 * Same two phases as the single-stage walks (walk_ss.h, walk_fs.h): _run()
 * reads and checks and never writes; _set_ad() writes the A/EA/D bits of both
 * stages once the request is known to succeed. */
#ifndef IMS_VTD_WALK_NESTED_H
#define IMS_VTD_WALK_NESTED_H

#include <stdbool.h>
#include <stdint.h>

#include "models/vtd/pte.h"
#include "models/vtd/translate.h"
#include "models/vtd/walk_fs.h"
#include "models/vtd/walk_ss.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Optional paging-structure-cache hook for the SS walks of a nested walk:
 * return true and fill *start to begin the SS walk of `gpa` part-way. */
typedef bool (*ims_vtd_ss_start_fn)(void *opaque, uint64_t gpa, unsigned nested_fs_level,
                                    ims_vtd_ss_start *start);

typedef struct ims_vtd_nested_walk {
    uint8_t fault;
    ims_vtd_fs_walk fs;
    ims_vtd_ss_walk table_ss[IMS_PT_MAX_LEVELS + 1]; /* [L]: the SS walk that located the level-L FS table */
    bool table_ss_done[IMS_PT_MAX_LEVELS + 1];
    ims_vtd_ss_walk final_ss;                         /* the SS walk of the final GPA */
    uint64_t pa, page_size;                           /* page size: the smaller of the two stages */
    ims_vtd_perm perm;                                /* FS perms AND final SS perms */
} ims_vtd_nested_walk;

/* Phase 1. Every FS table address (FSPTPTR, each next-table GPA) and the final
 * GPA go through an SS walk logged with nested_fs_level. Table walks need SS R:
 * a GPA beyond the SS width gives SFS.5, an SS entry not present or without R
 * gives SFS.6 (the FS root) or SFS.7 (other FS tables); other SS faults (e.g.
 * SSS.3) are reported as they are. The final GPA walk reports SS faults as-is.
 * fs_start / ss_start (may be NULL) let the timing model start part-way. */
uint8_t ims_vtd_nested_walk_run(const ims_vtd_hw *hw, const ims_vtd_ctx *ctx, const ims_vtd_req *req,
                                const ims_vtd_fs_start *fs_start, ims_vtd_ss_start_fn ss_start,
                                void *ss_start_opaque, ims_vtd_nested_walk *w, ims_vtd_access_log *log);

/* Phase 2: first checks that every FS entry needing an A/EA/D update lies in a
 * table the SS allows to be written (else SFS.8, nothing written); then, per FS
 * level, SS A (and D if the FS entry is written) on that table's SS walk and
 * the FS update; finally the final SS walk's A/D (D when `dirty`). */
uint8_t ims_vtd_nested_walk_set_ad(const ims_vtd_hw *hw, const ims_vtd_ctx *ctx, const ims_vtd_nested_walk *w,
                                   bool dirty, unsigned flags, ims_vtd_access_log *log);

#ifdef __cplusplus
}
#endif
#endif
