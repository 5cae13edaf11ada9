/* The run API (run.h): open the traces, assemble system + checker + replay,
 * run, and present the outcome. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include "sim/run/run.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/run/checker.h"
#include "sim/run/replay.h"
#include "sim/run/system.h"
#include "traces/trace_io.h"

struct ims_run {
    ims_system *sys;
    ims_checker *checker;
    ims_replay *rp;
    ims_trace_reader **readers;
    size_t nreaders;
    ims_run_result res;
    bool attach_failed;
};

static void on_unit(void *ctx, unsigned index, ims_vtd_unit *u)
{
    ims_run *r = ctx;
    ims_error e = {0};
    if (r->checker && ims_checker_attach_unit(r->checker, index, u, &e))
        r->attach_failed = true;
}

static double host_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void ims_run_destroy(ims_run *r)
{
    if (!r)
        return;
    ims_replay_destroy(r->rp);
    ims_checker_destroy(r->checker);
    ims_system_destroy(r->sys);
    for (size_t i = 0; i < r->nreaders; i++)
        ims_trace_reader_close(r->readers[i]);
    free(r->readers);
    free(r);
}

static int setup(ims_run *r, const ims_config *cfg, const ims_run_opts *o, ims_error *err)
{
    FILE *report = o && o->report ? o->report : stderr;
    ims_system_params sp = {.cfg = cfg, .on_unit = on_unit, .ctx = r};
    int rc = ims_system_create(&sp, &r->sys, err);
    if (rc)
        return rc;
    ims_stats *st = ims_system_stats(r->sys);
    /* Present even when the checker is off. */
    if (!ims_stats_counter(st, "checker.violations", "stale translations used after an invalidation wait completed"))
        return ims_errorf(err, ENOMEM, "out of memory");
    uint64_t max_reports = ims_config_u64(cfg, "replay.max_reports");
    if (ims_config_bool(cfg, "checker.enable")) {
        ims_checker_params cp = {
            .engine = ims_system_engine(r->sys),
            .mem = ims_system_mem(r->sys),
            .stats = st,
            .report = report,
            .max_reports = max_reports,
            .history = (unsigned)ims_config_u64(cfg, "checker.history"),
        };
        if ((rc = ims_checker_create(&cp, &r->checker, err)))
            return rc;
    }
    ims_replay_params rpp = {
        .sys = r->sys,
        .checker = r->checker,
        .report = report,
        .max_reports = max_reports,
        .progress = o ? o->progress : NULL,
        .progress_ctx = o ? o->progress_ctx : NULL,
    };
    return ims_replay_create(&rpp, &r->rp, err);
}

int ims_run_traces(const ims_config *cfg, const char *const *paths, size_t n, const ims_run_opts *opts,
                   ims_run **out, ims_error *err)
{
    *out = NULL;
    ims_run *r = calloc(1, sizeof *r);
    if (!r || !(r->readers = calloc(n ? n : 1, sizeof *r->readers))) {
        free(r);
        ims_errorf(err, ENOMEM, "out of memory");
        return IOMMUSIM_EXIT_BAD_INPUT;
    }
    *out = r;
    r->res.status = IOMMUSIM_EXIT_BAD_INPUT;
    for (size_t i = 0; i < n; i++) {
        if (!(r->readers[i] = ims_trace_reader_open(paths[i], err)))
            return IOMMUSIM_EXIT_BAD_INPUT;
        r->nreaders++;
    }
    if (setup(r, cfg, opts, err))
        return IOMMUSIM_EXIT_BAD_INPUT;
    double t0 = host_now();
    int rc = ims_replay_run(r->rp, r->readers, r->nreaders, err);
    r->res.host_seconds = host_now() - t0;
    ims_stats *st = ims_system_stats(r->sys);
    ims_stats_set_double(st, "sim.host_seconds", r->res.host_seconds);
    r->res.records = ims_replay_records(r->rp);
    r->res.expect_failures = ims_replay_expect_failures(r->rp);
    r->res.violations = ims_stats_counter_total(st, "checker.violations");
    r->res.simulated_ns = (double)ims_stats_counter_total(st, "sim.simulated_ns");
    if (rc == 0 && r->attach_failed) {
        ims_errorf(err, ENOMEM, "out of memory attaching the coherence checker");
        rc = -ENOMEM;
    }
    if (rc)
        r->res.status = IOMMUSIM_EXIT_BAD_INPUT;
    else if (r->res.expect_failures || r->res.violations)
        r->res.status = IOMMUSIM_EXIT_FAILED;
    else
        r->res.status = IOMMUSIM_EXIT_OK;
    return r->res.status;
}

ims_run_result ims_run_result_get(const ims_run *r) { return r->res; }

const ims_stats *ims_run_stats(const ims_run *r) { return r->sys ? ims_system_stats(r->sys) : NULL; }

int ims_run_write_json(const ims_run *r, FILE *out)
{
    const ims_stats *st = ims_run_stats(r);
    return st ? ims_stats_write_json(st, out) : -EINVAL;
}

char *ims_run_json(const ims_run *r)
{
    const ims_stats *st = ims_run_stats(r);
    return st ? ims_stats_json_string(st) : NULL;
}

/* ---- summary ------------------------------------------------------------------------ */

typedef struct row {
    const char *label;
    const char *key;      /* NULL: IOTLB hit rate */
    bool integer;
} row;

static const row rows[] = {
    {"records", "sim.records", true},
    {"simulated time (ns)", "sim.simulated_ns", true},
    {"DMAs", "dma.count", true},
    {"DMA faults", "dma.faults", true},
    {"DMA latency mean (ns)", "dma.latency_ns.mean", false},
    {"DMA latency p50 (ns)", "dma.latency_ns.p50", false},
    {"DMA latency p99 (ns)", "dma.latency_ns.p99", false},
    {"DMA latency max (ns)", "dma.latency_ns.max", false},
    {"IOTLB lookups", "iotlb.lookups", true},
    {"IOTLB hit rate (%)", NULL, false},
    {"page walks", "walk.count", true},
    {"walk memory reads", "walk.mem_reads", true},
    {"QI descriptors", "qi.descriptors", true},
    {"invalidation waits", "inv.count", true},
    {"invalidation mean (ns)", "inv.latency_ns.mean", false},
    {"invalidation p50 (ns)", "inv.latency_ns.p50", false},
    {"invalidation p99 (ns)", "inv.latency_ns.p99", false},
    {"checker violations", "checker.violations", true},
    {"expectation failures", "expect.failures", true},
};

static double get(const cJSON *root, const char *prefix, const char *key, bool *found)
{
    char name[256];
    snprintf(name, sizeof name, "%s%s", prefix, key);
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, name);
    *found = cJSON_IsNumber(it);
    return *found ? it->valuedouble : 0.0;
}

static void cell(FILE *out, const cJSON *root, const char *prefix, const row *rw)
{
    bool f1 = false, f2 = false;
    if (!rw->key) {
        double hits = get(root, prefix, "iotlb.hits", &f1), look = get(root, prefix, "iotlb.lookups", &f2);
        if (f1 && f2 && look > 0)
            fprintf(out, "  %14.1f", 100.0 * hits / look);
        else
            fprintf(out, "  %14s", "-");
        return;
    }
    double v = get(root, prefix, rw->key, &f1);
    if (!f1)
        fprintf(out, "  %14s", "-");
    else if (rw->integer)
        fprintf(out, "  %14.0f", v);
    else
        fprintf(out, "  %14.1f", v);
}

void ims_run_write_summary(const ims_run *r, FILE *out)
{
    const char *verdict = r->res.status == IOMMUSIM_EXIT_OK       ? "ok"
                          : r->res.status == IOMMUSIM_EXIT_FAILED ? "FAILED"
                                                                  : "stopped (bad input)";
    fprintf(out, "iommusim run: %s: %" PRIu64 " records, %.3f us simulated, %.3f s host, %" PRIu64
                 " expectation failure(s), %" PRIu64 " coherence violation(s)\n",
            verdict, r->res.records, r->res.simulated_ns / 1000.0, r->res.host_seconds, r->res.expect_failures,
            r->res.violations);
    char *json = ims_run_json(r);
    cJSON *root = json ? cJSON_Parse(json) : NULL;
    free(json);
    if (!root)
        return;
    /* Columns: totals, the implicit first phase when reported, then each mark. */
    size_t nph = r->rp ? ims_replay_phase_count(r->rp) : 0;
    bool first = false;
    if (nph) {
        bool f;
        get(root, "phase." IMS_STATS_FIRST_PHASE ".", "sim.records", &f);
        first = f;
    }
    fprintf(out, "\n%-26s  %14s", "", "total");
    if (first)
        fprintf(out, "  %14.14s", IMS_STATS_FIRST_PHASE);
    for (size_t i = 0; i < nph; i++)
        fprintf(out, "  %14.14s", ims_replay_phase_name(r->rp, i));
    fputc('\n', out);
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        fprintf(out, "%-26s", rows[k].label);
        cell(out, root, "", &rows[k]);
        if (first)
            cell(out, root, "phase." IMS_STATS_FIRST_PHASE ".", &rows[k]);
        for (size_t i = 0; i < nph; i++) {
            char prefix[IMS_TRACE_NAME_MAX + 16];
            snprintf(prefix, sizeof prefix, "phase.%s.", ims_replay_phase_name(r->rp, i));
            cell(out, root, prefix, &rows[k]);
        }
        fputc('\n', out);
    }
    cJSON_Delete(root);
}
