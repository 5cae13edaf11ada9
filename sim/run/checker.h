/* The coherence checker (docs/replay.md "The coherence checker").
 *
 * For every DMA piece the checker compares the translation the hardware used
 * (pa, or a fault) with the golden walk (ims_vtd_translate with
 * IMS_VTD_WALK_NO_AD) over memory as it is now. A difference is legal while
 * software has not yet synchronised with an invalidation since the tables
 * changed:
 *
 *   t_change = the latest software-store stamp over the frames the golden walk
 *              read (ims_physmem_last_write), or the time the unit's root
 *              pointer / TE state was first seen changed, whichever is later;
 *   VIOLATION iff an invalidation-wait descriptor of that unit that
 *              synchronised this access completed in (t_change, t_use].
 *
 * A wait completing is software's synchronisation point: once it has passed,
 * every invalidation software queued before it is done, so a translation that
 * still differs from the tables was never invalidated (a deleted descriptor,
 * a model bug). But only what was queued before it: with several flushes
 * queued, another address's batch completes while this address's own
 * invalidation is still behind it. So a wait counts when its batch (the
 * descriptors executed since the previous wait) holds no translation
 * invalidation (a bare wait) or, for a paging-structure change, one executed
 * after the change that covers the access (DID/PASID/SID and address).
 * Stamps are per 4 KiB frame, so t_change can only be later than the real
 * change, and coverage is never wider than the hardware's: the checker may
 * miss a violation, never invent one.
 *
 * Each violation is printed (up to a limit) with its trace FILE:LINE, the
 * used and the current translation, and the descriptors the unit completed
 * between the change and the use (a bounded history per unit). */
#ifndef IMS_RUN_CHECKER_H
#define IMS_RUN_CHECKER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "models/vtd/inv_desc.h"
#include "models/vtd/translate.h"
#include "models/vtd/unit.h"
#include "sim/engine.h"
#include "sim/err.h"
#include "sim/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ims_checker ims_checker;

typedef struct ims_checker_params {
    ims_engine *engine;
    ims_physmem *mem;
    ims_stats *stats;        /* checker.checks, checker.stale_uses, checker.violations (may be NULL) */
    FILE *report;            /* where violations are printed; NULL: not printed */
    uint64_t max_reports;    /* violations printed in full (counted regardless) */
    unsigned history;        /* descriptors remembered per unit, >= 1 */
} ims_checker_params;

int ims_checker_create(const ims_checker_params *p, ims_checker **out, ims_error *err);
void ims_checker_destroy(ims_checker *c);

/* Watch a unit: hooks its invalidation queue so completed descriptors are
 * recorded. index < IMS_CHECKER_MAX_UNITS. */
#define IMS_CHECKER_MAX_UNITS 64
int ims_checker_attach_unit(ims_checker *c, unsigned index, ims_vtd_unit *u, ims_error *err);

/* A descriptor of unit `index` completed now (what the queue hook calls;
 * exposed for tests). A wait descriptor is a synchronisation point. */
void ims_checker_note_desc(ims_checker *c, unsigned index, const ims_qi_desc *d);

/* Software wrote a register of unit `index` now: the checker samples the
 * root pointer and TE state, so a change counts from this moment. */
void ims_checker_note_regs(ims_checker *c, unsigned index);

/* Where a checked access comes from, for the report. */
typedef struct ims_checker_loc {
    const char *file;
    uint64_t line;
    const char *dev;         /* device name (NULL or "": unnamed) */
} ims_checker_loc;

/* Check one access of unit `index`: req as the device made it (untranslated,
 * the DMA's address), `used` the translation it got (fault != 0: it
 * faulted), t_use when it was used (<= now; a lower bound is conservative).
 * Returns true for a violation (counted and reported). */
bool ims_checker_check(ims_checker *c, unsigned index, const ims_vtd_req *req, const ims_vtd_result *used,
                       ims_cycle t_use, const ims_checker_loc *loc);

/* ---- guest level (devices assigned to a VM) ----------------------------------
 * The same rule against the guest's own page tables: the translation a DMA
 * used must equal what the guest's tables give (IOVA -> GPA -> HPA) unless
 * the guest has not yet seen an invalidation wait complete since it changed
 * them. This catches a guest that skips an invalidation in shadow mode too,
 * where the hardware's tables (the VMM's shadow) never changed. */
#define IMS_CHECKER_MAX_VMS 64

/* The guest saw one of its invalidation waits complete now. */
void ims_checker_note_guest_sync(ims_checker *c, unsigned vm);

/* A guest map/unmap of [iova, iova+len) of (sid, PASID or none) began now;
 * `op` identifies it until ims_checker_guest_op_end(op), when it has
 * completed (an op never begun is ignored). While it is in flight the guest has not yet seen its own
 * invalidation of that range (strict unmap, caching-mode map), which may be
 * queued behind a wait of another operation that completes first: a
 * difference there used then is not judged (counted as stale). begin returns
 * -ENOMEM when it cannot record. */
int ims_checker_guest_op_begin(ims_checker *c, unsigned vm, const void *op, uint16_t sid, bool has_pasid,
                               uint32_t pasid, uint64_t iova, uint64_t len);
void ims_checker_guest_op_end(ims_checker *c, const void *op);

typedef struct ims_checker_guest_view {
    bool mapped;           /* false: the guest maps nothing there */
    bool writable;
    uint64_t hpa;          /* of the DMA's address */
    ims_cycle t_change;    /* latest store over the guest table frames read */
} ims_checker_guest_view;

bool ims_checker_check_guest(ims_checker *c, unsigned vm, const ims_vtd_req *req, const ims_vtd_result *used,
                             const ims_checker_guest_view *gold, ims_cycle t_use, const ims_checker_loc *loc);

uint64_t ims_checker_violations(const ims_checker *c);
uint64_t ims_checker_checks(const ims_checker *c);
/* Differences found inside the legal window (stale but allowed). */
uint64_t ims_checker_stale_uses(const ims_checker *c);

#ifdef __cplusplus
}
#endif
#endif
