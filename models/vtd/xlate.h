/* The timed translation pipeline of a VT-d unit.
 *
 * A request takes a translation slot, looks up the context cache (and in
 * scalable mode the PASID cache), then the IOTLB. A hit completes after the
 * lookup latencies. A miss merges with an in-flight walk of the same page
 * (same DID/PASID/page) or takes a page walker, probes the paging-structure
 * caches, and charges each remaining table read to the memory model, one after
 * another. The result itself comes from the functional walk (translate.h)
 * started at the deepest paging-structure-cache hit, evaluated on memory as it
 * is when the walk starts. Faults are recorded in the fault-recording
 * registers (unless FPD suppresses them; ATS translation requests are answered
 * with R=W=0 instead). Latency = what the request actually waited for and used.
 *
 * Drain: ims_xlate_drain() calls back once every request submitted before the
 * call has completed — the invalidation engine uses it so that no translation
 * that started before an invalidation completes after the wait descriptor
 * that covers it. */
#ifndef IMS_VTD_XLATE_H
#define IMS_VTD_XLATE_H

#include <stdbool.h>
#include <stdint.h>

#include "models/mem/mem_timing.h"
#include "models/mem/physmem.h"
#include "models/vtd/regfile.h"
#include "models/vtd/translate.h"
#include "models/vtd/vtd_caches.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "sim/err.h"
#include "sim/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const ims_cfg_key ims_xlate_cfg_keys[]; /* xlate.*, walk.*, lookup latencies */

typedef enum ims_xlate_outcome {
    IMS_XLATE_UNTRANSLATED = 0, /* TE=0: passed through */
    IMS_XLATE_IOTLB_HIT,
    IMS_XLATE_WALK,             /* this request walked */
    IMS_XLATE_MERGED,           /* waited for another request's walk of the same page */
    IMS_XLATE_FAULT,            /* faulted (res.fault != 0) */
} ims_xlate_outcome;

typedef struct ims_xlate_req ims_xlate_req;
typedef void (*ims_xlate_done_fn)(ims_xlate_req *r);

struct ims_xlate_req {
    /* in */
    ims_vtd_req req;
    ims_xlate_done_fn done;   /* called (from an engine event) when complete */
    void *user;
    /* out */
    ims_vtd_result res;
    ims_xlate_outcome outcome;
    ims_cycle t_submit, t_done;
    uint16_t mem_reads;       /* translation-structure reads charged for this request */
    /* private to the pipeline */
    ims_xlate_req *next;      /* merge lists, slot queues */
    uint64_t seq;             /* submission order, for drain */
    uint64_t epoch;           /* ims_vtd_caches.inv_epoch at walk start */
    uint32_t stage;
};

typedef struct ims_xlate_params {
    ims_engine *engine;
    ims_physmem *mem;
    ims_mem_timing *mem_timing;
    ims_vtd_regfile *regs;    /* CAP/ECAP/RTADDR/TE and fault recording */
    ims_vtd_caches *caches;
    const ims_config *cfg;
    ims_stats *stats;         /* xlate.*, walk.* */
} ims_xlate_params;

typedef struct ims_xlate ims_xlate;

int ims_xlate_create(const ims_xlate_params *p, ims_xlate **out, ims_error *err);
void ims_xlate_destroy(ims_xlate *x);

/* Start a translation now. r must stay valid until r->done runs. */
void ims_xlate_submit(ims_xlate *x, ims_xlate_req *r);

/* fn(ctx, arg) runs (as an engine event) once every request submitted before
 * this call has completed; at once (same cycle) if none is in flight. */
void ims_xlate_drain(ims_xlate *x, ims_event_fn fn, void *ctx, uint64_t arg);

uint64_t ims_xlate_inflight(const ims_xlate *x);

#ifdef __cplusplus
}
#endif
#endif
