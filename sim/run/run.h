/* The run API: configuration + traces -> exit status, statistics (JSON) and a
 * readable summary. This is `iommusim run` without the command line.
 *
 *   ims_run *run;
 *   int status = ims_run_traces(cfg, paths, n, &opts, &run, &err);
 *   // status: IOMMUSIM_EXIT_OK / _FAILED / _BAD_INPUT (err holds the message)
 *   ims_run_write_json(run, f); ims_run_write_summary(run, stdout);
 *   ims_run_destroy(run);
 *
 * Every trace is opened (and its form detected) before anything runs, so a
 * missing or broken file is reported before simulated time starts. The traces
 * then run one after another in one system (replay.h). */
#ifndef IMS_RUN_RUN_H
#define IMS_RUN_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "iommusim/iommusim.h"
#include "sim/config.h"
#include "sim/err.h"
#include "sim/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* replay.*, checker.* */
extern const ims_cfg_key ims_run_cfg_keys[];

typedef struct ims_run_opts {
    FILE *report;            /* expectation failures and violations; NULL: stderr */
    void (*progress)(void *ctx, uint64_t records, double simulated_ns);
    void *progress_ctx;
} ims_run_opts;

typedef struct ims_run_result {
    int status;              /* IOMMUSIM_EXIT_* */
    uint64_t records;
    uint64_t expect_failures;
    uint64_t violations;
    double simulated_ns;
    double host_seconds;
} ims_run_result;

typedef struct ims_run ims_run;

/* Run the traces (text, binary, either zstd-compressed; "-" is stdin) with
 * the configuration (which must hold the full schema: sim/run/schema.h).
 * Returns the exit status. *out receives the run (also on failure, NULL only
 * when nothing could be set up) for its statistics; with BAD_INPUT the
 * message ("FILE:LINE: what" or "FILE: what") is in err. */
int ims_run_traces(const ims_config *cfg, const char *const *paths, size_t n, const ims_run_opts *opts,
                   ims_run **out, ims_error *err);
void ims_run_destroy(ims_run *r);

ims_run_result ims_run_result_get(const ims_run *r);
const ims_stats *ims_run_stats(const ims_run *r);

/* The statistics as one JSON object (spec keys, per phase under phase.NAME.).
 * Returns 0 or a negative errno. */
int ims_run_write_json(const ims_run *r, FILE *out);
/* A malloc'ed JSON string (caller frees), NULL on error. */
char *ims_run_json(const ims_run *r);
/* A readable table of the main figures, totals and one column per phase. */
void ims_run_write_summary(const ims_run *r, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
