/* The queued-invalidation engine of a VT-d unit, and register-based
 * invalidation (CCMD / IOTLB registers), which shares its executors.
 *
 * On a tail (IQT) write the engine fetches descriptors at IQH from the queue in
 * memory (IQA: base, size, 128/256-bit width), each fetch charged the memory
 * latency, decodes them (inv_desc.h), and executes them with a per-type cost:
 * cache invalidations (vtd_caches.h; each bumps inv_epoch), device-TLB
 * invalidations as ATS Invalidate Requests with ITags (ats_port.h), and
 * invalidation-wait descriptors. A wait completes only after every earlier
 * descriptor has completed, including ATS completions and a drain of the
 * translations that were in flight when the earlier invalidations were applied
 * (xlate.h); then it performs its status write (SW) and/or sets ICS.IWC (IF).
 * FN fences later descriptors behind the wait. Errors: IQE (head stays on the
 * bad descriptor, IQERCD.IQEI), ITE on an ATS completion timeout (pending waits
 * aborted) — then fetching stops until software clears the status bit (the
 * register file rings the doorbell again). ICE on an unexpected completion is
 * recorded but does not stop the queue (spec 5.10 §6.5.2.11).
 *
 * Statistics: qi.descriptors (and per type qi.desc.<type>), inv.count and
 * inv.latency_ns (per wait descriptor, from the IQT write that made it visible
 * to its status write / interrupt), qi.iqe, qi.ite, qi.ice, ats.inv.* . */
#ifndef IMS_VTD_QI_H
#define IMS_VTD_QI_H

#include <stdint.h>

#include "models/mem/mem_timing.h"
#include "models/mem/physmem.h"
#include "models/vtd/ats_port.h"
#include "models/vtd/inv_desc.h"
#include "models/vtd/regfile.h"
#include "models/vtd/vtd_caches.h"
#include "models/vtd/xlate.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "sim/err.h"
#include "sim/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const ims_cfg_key ims_qi_cfg_keys[]; /* qi.* per-descriptor costs, ats timeout */

typedef struct ims_qi_params {
    ims_engine *engine;
    ims_physmem *mem;
    ims_mem_timing *mem_timing;
    ims_vtd_regfile *regs;
    ims_vtd_caches *caches;
    ims_xlate *xlate;
    ims_ats_port ats;          /* may have send_inv NULL: device-TLB invalidations then time out */
    const ims_config *cfg;
    ims_stats *stats;
} ims_qi_params;

typedef struct ims_qi ims_qi;

int ims_qi_create(const ims_qi_params *p, ims_qi **out, ims_error *err);
void ims_qi_destroy(ims_qi *q);

/* Register-file hooks (the unit wires them): a tail write, CCMD and IOTLB
 * register invalidations. */
void ims_qi_doorbell(ims_qi *q, uint64_t iqt);
void ims_qi_reg_ccmd(ims_qi *q, uint64_t ccmd);
void ims_qi_reg_iotlb(ims_qi *q, uint64_t iva, uint64_t iotlb);

/* An ATS Invalidate Completion from endpoint `sid`: a 32-bit ITag vector and
 * the completion count (vtd-facts §6.3). */
void ims_qi_ats_completion(ims_qi *q, uint16_t sid, uint32_t itag_vector, unsigned cc);

/* Optional observer (the coherence checker keeps a history with it): fn runs
 * when a descriptor has been executed (cache invalidation applied, device-TLB
 * request sent) and when a wait descriptor completes (status written / IWC
 * set; never for a wait aborted by ITE). NULL fn removes it. */
typedef void (*ims_qi_observer_fn)(void *ctx, const ims_qi_desc *d);
void ims_qi_set_observer(ims_qi *q, ims_qi_observer_fn fn, void *ctx);

/* Running totals for attributing time to the hardware (the guest/VMM models
 * split an end-to-end invalidation by layer with deltas of these):
 * wait_cycles sums, per completed wait descriptor, IQT write -> completion
 * (what inv.latency_ns records); ats_cycles sums, per ATS Invalidate Request,
 * request -> its completion (concurrent requests each count). */
typedef struct ims_qi_time {
    uint64_t waits;
    uint64_t wait_cycles;
    uint64_t ats_cycles;
} ims_qi_time;
ims_qi_time ims_qi_time_get(const ims_qi *q);

/* Descriptors fetched but not yet completed, and whether the engine is idle. */
unsigned ims_qi_pending(const ims_qi *q);

#ifdef __cplusplus
}
#endif
#endif
