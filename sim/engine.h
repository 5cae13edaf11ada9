/* Discrete-event engine on a 64-bit cycle time base.
 *
 * Time is counted in cycles of the simulated IOMMU clock. Events scheduled for
 * the same cycle run in the order they were scheduled (FIFO), so a run is a pure
 * function of its inputs. Events come from a pool that grows geometrically and is
 * reused, so steady-state scheduling does no heap allocation. */
#ifndef IMS_SIM_ENGINE_H
#define IMS_SIM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t ims_cycle;
#define IMS_CYCLE_MAX UINT64_MAX

typedef struct ims_engine ims_engine;

/* An event callback: ctx and arg are what was passed to schedule. */
typedef void (*ims_event_fn)(void *ctx, uint64_t arg);

/* Handle of a scheduled event, for cancellation. 0 is never a valid handle.
 * Handles carry a generation, so cancelling an event that already ran (or whose
 * pool slot was reused) is detected and harmless. */
typedef uint64_t ims_event_id;

/* clock_hz: the IOMMU clock (cycles per simulated second), > 0. NULL on ENOMEM. */
ims_engine *ims_engine_create(uint64_t clock_hz);
void ims_engine_destroy(ims_engine *e);

ims_cycle ims_engine_now(const ims_engine *e);
/* The engine's current time as a stable pointer, for observers that stamp
 * with simulated time without knowing the engine (ims_physmem_set_clock). */
const uint64_t *ims_engine_now_ptr(const ims_engine *e);
uint64_t ims_engine_clock_hz(const ims_engine *e);

/* Schedule fn(ctx, arg) at now + delay / at an absolute cycle (>= now).
 * Returns 0 only on allocation failure. */
ims_event_id ims_engine_schedule(ims_engine *e, ims_cycle delay, ims_event_fn fn, void *ctx, uint64_t arg);
ims_event_id ims_engine_schedule_at(ims_engine *e, ims_cycle when, ims_event_fn fn, void *ctx, uint64_t arg);

/* Cancel a pending event. Returns true if it was pending and will now not run. */
bool ims_engine_cancel(ims_engine *e, ims_event_id id);

/* Run the next event (advancing time). Returns false when nothing is pending. */
bool ims_engine_step(ims_engine *e);

/* Run events while the next one is at or before `until` (IMS_CYCLE_MAX: until
 * idle) and ims_engine_stop was not called. Returns the number of events run. */
uint64_t ims_engine_run(ims_engine *e, ims_cycle until);

/* Make ims_engine_run return after the current event. */
void ims_engine_stop(ims_engine *e);

size_t ims_engine_pending(const ims_engine *e);
uint64_t ims_engine_events_run(const ims_engine *e);

/* Time conversion with this engine's clock. ns_to_cycles rounds up (a latency is
 * never shortened); cycles_to_ns is exact in double precision. */
ims_cycle ims_engine_ns_to_cycles(const ims_engine *e, uint64_t ns);
ims_cycle ims_engine_ps_to_cycles(const ims_engine *e, uint64_t ps);
double ims_engine_cycles_to_ns(const ims_engine *e, ims_cycle cycles);

/* The same conversions for a clock without an engine. */
ims_cycle ims_ps_to_cycles(uint64_t clock_hz, uint64_t ps);
double ims_cycles_to_ns(uint64_t clock_hz, ims_cycle cycles);

#ifdef __cplusplus
}
#endif
#endif
