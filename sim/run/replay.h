/* Trace replay: executes the records of one or more traces, streaming, in
 * file order, on a simulated system (docs/replay.md).
 *
 * Timing (trace-text-v1): `@T` issues at absolute simulated time T whether or
 * not earlier records have completed (open loop); `+D` issues D after the
 * previous record completed; no prefix is `+0` (closed loop). An `@T` earlier
 * than the issue time already reached is a FILE:LINE error. Several traces run
 * one after another in one system, as if concatenated: the first record of a
 * trace follows the last record of the one before under the same rules, and
 * a trace's topology records are applied when it starts.
 *
 * Records that complete at once (mem.*, mmio.*, mark, a satisfied wait.mem)
 * complete at their issue time; dma, wait.mem, drain and host calls complete
 * later. In-flight records live in pooled contexts, so memory depends on how
 * many are in flight, never on the trace length.
 *
 * Outcomes: bad input stops the replay with a "FILE:LINE: what" error
 * (negative return); a failed expectation is printed as "FILE:LINE: ..." and
 * counted (expect.failures) and the replay goes on. */
#ifndef IMS_RUN_REPLAY_H
#define IMS_RUN_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/err.h"
#include "sim/run/checker.h"
#include "sim/run/system.h"
#include "traces/trace_io.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ims_replay ims_replay;

typedef struct ims_replay_params {
    ims_system *sys;         /* built by the replay at the first timed record */
    ims_checker *checker;    /* NULL: DMAs are not checked */
    FILE *report;            /* expectation failures; NULL: counted, not printed */
    uint64_t max_reports;    /* failures printed in full */
    /* Optional progress callback, every 65536 records. */
    void (*progress)(void *ctx, uint64_t records, double simulated_ns);
    void *progress_ctx;
} ims_replay_params;

int ims_replay_create(const ims_replay_params *p, ims_replay **out, ims_error *err);
void ims_replay_destroy(ims_replay *rp);

/* Replay the traces in order until the last record has completed and the
 * system is idle. The readers stay the caller's. Returns 0 (expectations may
 * still have failed: see below) or a negative errno with "FILE:LINE: what"
 * (or "FILE: what") in err. Call once. */
int ims_replay_run(ims_replay *rp, ims_trace_reader *const *readers, size_t n, ims_error *err);

uint64_t ims_replay_records(const ims_replay *rp);        /* records executed */
uint64_t ims_replay_expect_failures(const ims_replay *rp);
/* Phases started by `mark`, in trace order. */
size_t ims_replay_phase_count(const ims_replay *rp);
const char *ims_replay_phase_name(const ims_replay *rp, size_t i);

#ifdef __cplusplus
}
#endif
#endif
