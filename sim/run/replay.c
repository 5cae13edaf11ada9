/* Trace replay driver (replay.h): reading across traces, topology, the
 * timing of issue (`@T`, `+D`, no prefix), completion bookkeeping, the
 * control verbs (mark, drain) and the op pool. The verbs themselves are in
 * replay_raw.c, replay_dev.c and replay_host.c. */
#define _POSIX_C_SOURCE 200809L /* strdup */

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/run/replay_internal.h"

#define POOL_CHUNK 256u
#define PROGRESS_EVERY (UINT64_C(1) << 16)

/* ---- op pool ---------------------------------------------------------------------- */

rp_op *rp_op_get(ims_replay *rp, rp_kind kind)
{
    if (!rp->free_ops) {
        if (rp->nchunks == rp->chunks_cap) {
            size_t cap = rp->chunks_cap ? 2 * rp->chunks_cap : 8;
            void **c = realloc(rp->chunks, cap * sizeof *c);
            if (!c)
                abort(); /* host out of memory: not an input error */
            rp->chunks = c;
            rp->chunks_cap = cap;
        }
        rp_op *chunk = calloc(POOL_CHUNK, sizeof *chunk);
        if (!chunk)
            abort();
        rp->chunks[rp->nchunks++] = chunk;
        for (unsigned i = 0; i < POOL_CHUNK; i++) {
            chunk[i].next = rp->free_ops;
            rp->free_ops = &chunk[i];
        }
    }
    rp_op *op = rp->free_ops;
    rp->free_ops = op->next;
    memset(op, 0, sizeof *op);
    op->rp = rp;
    op->kind = kind;
    op->file = (uint32_t)rp->cur;
    op->seq = rp->seq;
    rp->inflight++;
    return op;
}

static void op_put(ims_replay *rp, rp_op *op)
{
    op->next = rp->free_ops;
    rp->free_ops = op;
}

/* ---- messages ------------------------------------------------------------------------ */

static const char *file_of(const ims_replay *rp, uint32_t f)
{
    return f < rp->nreaders ? rp->files[f] : "?";
}

const char *rp_file_name(const ims_replay *rp, uint32_t file) { return file_of(rp, file); }

static int fail_v(ims_replay *rp, bool located, uint32_t file, uint64_t line, int code, const char *fmt, va_list ap)
{
    char msg[IMS_ERROR_MSG_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (!rp->failed) {
        rp->failed = true;
        if (located)
            ims_errorf(&rp->err, code, "%s:%" PRIu64 ": %s", file_of(rp, file), line, msg);
        else
            ims_errorf(&rp->err, code, "%s", msg);
        ims_engine_stop(rp->engine);
    }
    return -abs(code);
}

int rp_fail(ims_replay *rp, const ims_trace_rec *r, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = fail_v(rp, r != NULL, (uint32_t)rp->cur, r ? r->line : 0, code, fmt, ap);
    va_end(ap);
    return rc;
}

int rp_fail_at(ims_replay *rp, uint32_t file, uint64_t line, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = fail_v(rp, true, file, line, code, fmt, ap);
    va_end(ap);
    return rc;
}

void rp_expect_failed(ims_replay *rp, uint32_t file, uint64_t line, const char *fmt, ...)
{
    rp->expect_failures++;
    ims_counter_inc(rp->c_expect);
    if (!rp->report)
        return;
    if (rp->reported == rp->max_reports) {
        fprintf(rp->report, "iommusim: further expectation failures are counted but not printed "
                            "(replay.max_reports=%" PRIu64 ")\n", rp->max_reports);
    } else if (rp->reported < rp->max_reports) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(rp->report, "%s:%" PRIu64 ": ", file_of(rp, file), line);
        vfprintf(rp->report, fmt, ap);
        fputc('\n', rp->report);
        va_end(ap);
    }
    rp->reported++;
}

/* ---- create / destroy ---------------------------------------------------------------- */

int ims_replay_create(const ims_replay_params *p, ims_replay **out, ims_error *err)
{
    *out = NULL;
    if (!p || !p->sys)
        return ims_errorf(err, EINVAL, "replay: a system is required");
    ims_replay *rp = calloc(1, sizeof *rp);
    if (!rp)
        return ims_errorf(err, ENOMEM, "replay: out of memory");
    rp->sys = p->sys;
    rp->engine = ims_system_engine(p->sys);
    rp->checker = p->checker;
    rp->report = p->report;
    rp->max_reports = p->max_reports;
    rp->progress = p->progress;
    rp->progress_ctx = p->progress_ctx;
    const ims_config *cfg = ims_system_config(p->sys);
    rp->poll_cycles = ims_engine_ps_to_cycles(rp->engine, ims_config_time_ps(cfg, "replay.poll_ns"));
    if (rp->poll_cycles == 0)
        rp->poll_cycles = 1;
    ims_trace_rec_init(&rp->rec);
    ims_stats *st = ims_system_stats(p->sys);
    rp->c_records = ims_stats_counter(st, "sim.records", "trace records executed");
    rp->c_sim_ns = ims_stats_counter(st, "sim.simulated_ns", "simulated time, ns");
    rp->c_expect = ims_stats_counter(st, "expect.failures", "expect= checks that failed");
    if (!rp->c_records || !rp->c_sim_ns || !rp->c_expect) {
        ims_replay_destroy(rp);
        return ims_errorf(err, ENOMEM, "replay: out of memory");
    }
    *out = rp;
    return 0;
}

void ims_replay_destroy(ims_replay *rp)
{
    if (!rp)
        return;
    rp_guest_destroy(rp);
    rp_host_destroy(rp);
    for (size_t i = 0; i < rp->nchunks; i++)
        free(rp->chunks[i]);
    free(rp->chunks);
    for (size_t i = 0; i < rp->nreaders; i++)
        free(rp->files ? rp->files[i] : NULL);
    free(rp->files);
    for (size_t i = 0; i < rp->nphases; i++)
        free(rp->phases[i]);
    free(rp->phases);
    ims_trace_rec_free(&rp->rec);
    free(rp);
}

/* ---- completion -------------------------------------------------------------------- */

static void driver_event(void *ctx, uint64_t arg);

static void schedule_driver(ims_replay *rp, ims_cycle at)
{
    if (rp->driver_scheduled || rp->failed)
        return;
    rp->driver_scheduled = true;
    if (!ims_engine_schedule_at(rp->engine, at, driver_event, rp, 0))
        abort();
}

static void record_completed(ims_replay *rp, uint64_t seq)
{
    if (seq != rp->seq)
        return;
    rp->last_done = true;
    rp->last_done_at = ims_engine_now(rp->engine);
    if (rp->waiting_prev) {
        rp->waiting_prev = false;
        schedule_driver(rp, rp->last_done_at);
    }
}

void rp_op_done(ims_replay *rp, rp_op *op)
{
    rp->inflight--;
    /* Drains issued after this record wait for it. */
    for (rp_op **pp = &rp->drains; *pp;) {
        rp_op *d = *pp;
        if (d->seq > op->seq && --d->drain.left == 0) {
            *pp = d->next;
            record_completed(rp, d->seq);
            op_put(rp, d);
        } else {
            pp = &d->next;
        }
    }
    record_completed(rp, op->seq);
    op_put(rp, op);
}

const ims_system_dev *rp_dev_of(ims_replay *rp, const ims_trace_rec *r)
{
    if (ims_trace_dev_is_name(r))
        return ims_system_device_by_name(rp->sys, ims_trace_str(r, IMS_K_DEV));
    return ims_system_device_by_sid(rp->sys, (uint16_t)ims_trace_num(r, IMS_K_DEV));
}

/* ---- topology ------------------------------------------------------------------------ */

static void origin_of(const ims_replay *rp, const ims_trace_rec *r, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s:%" PRIu64, file_of(rp, (uint32_t)rp->cur), r->line);
}

static int topology(ims_replay *rp, const ims_trace_rec *r)
{
    char origin[128];
    ims_error e = {0};
    int rc = 0;
    origin_of(rp, r, origin, sizeof origin);
    switch (r->verb) {
    case IMS_V_IOMMU: {
        ims_system_unit_decl d = {
            .index = (unsigned)ims_trace_num_or_default(r, IMS_K_UNIT),
            .has_cap = ims_trace_has(r, IMS_K_CAP),
            .has_ecap = ims_trace_has(r, IMS_K_ECAP),
            .has_base = ims_trace_has(r, IMS_K_BASE),
            .cap = ims_trace_num(r, IMS_K_CAP),
            .ecap = ims_trace_num(r, IMS_K_ECAP),
            .base = ims_trace_num(r, IMS_K_BASE),
            .origin = origin,
        };
        rc = ims_system_declare_unit(rp->sys, &d, &e);
        break;
    }
    case IMS_V_DEVICE: {
        if (ims_trace_has(r, IMS_K_VM) && rp->host)
            return rp_fail(rp, r, EINVAL, "device: vm= needs the device declared before the first timed record");
        ims_system_dev_decl d = {
            .sid = (uint16_t)ims_trace_num(r, IMS_K_SID),
            .unit = (unsigned)ims_trace_num_or_default(r, IMS_K_UNIT),
            .name = ims_trace_str(r, IMS_K_NAME),
            .ats = ims_trace_has(r, IMS_K_ATS),
            .pri = ims_trace_has(r, IMS_K_PRI),
            .pasid_bits = (unsigned)ims_trace_num_or_default(r, IMS_K_PASID_BITS),
            .outstanding = ims_trace_has(r, IMS_K_OUTSTANDING) ? (unsigned)ims_trace_num(r, IMS_K_OUTSTANDING) : 0,
            .origin = origin,
        };
        rc = ims_system_declare_device(rp->sys, &d, &e);
        if (rc == 0 && ims_trace_has(r, IMS_K_VM))
            return rp_guest_assign(rp, r, d.sid);
        break;
    }
    default: /* vm */
        return rp_guest_declare_vm(rp, r);
    }
    if (rc == 0)
        return 0;
    /* Messages about a created device/unit already carry their origin. */
    if (ims_system_built(rp->sys) && strncmp(e.msg, origin, strlen(origin)) == 0)
        return rp_fail(rp, NULL, rc, "%s", e.msg);
    return rp_fail(rp, r, rc, "%s: %s", ims_trace_verb_name(r->verb), e.msg);
}

static int build(ims_replay *rp)
{
    if (ims_system_built(rp->sys))
        return 0;
    ims_error e = {0};
    int rc = ims_system_build(rp->sys, &e);
    return rc ? rp_fail(rp, NULL, rc, "%s", e.msg) : 0;
}

/* ---- reading ------------------------------------------------------------------------- */

static void count_record(ims_replay *rp)
{
    rp->records++;
    ims_counter_inc(rp->c_records);
    if (rp->progress && rp->records % PROGRESS_EVERY == 0)
        rp->progress(rp->progress_ctx, rp->records,
                     ims_engine_cycles_to_ns(rp->engine, ims_engine_now(rp->engine)));
}

/* Next timed record into rp->rec: 1, 0 at the end of the last trace, or a
 * negative errno (failed). Topology records are applied on the way. */
static int read_next(ims_replay *rp)
{
    while (rp->cur < rp->nreaders) {
        ims_error e = {0};
        int rc = ims_trace_reader_next(rp->readers[rp->cur], &rp->rec, &e);
        if (rc < 0)
            return rp_fail(rp, NULL, rc, "%s", e.msg);
        if (rc == 0) {
            rp->cur++;
            continue;
        }
        const ims_trace_verb_schema *vs = ims_trace_schema(rp->rec.verb);
        if (vs->cls != IMS_VC_TOPOLOGY)
            return 1;
        count_record(rp);
        if ((rc = topology(rp, &rp->rec)))
            return rc;
    }
    return 0;
}

/* ---- control verbs ------------------------------------------------------------------ */

/* Add the simulated time since the last call to sim.simulated_ns, so every
 * phase gets its share and the phases add up to the total. */
static void account_time(ims_replay *rp)
{
    double ns = ims_engine_cycles_to_ns(rp->engine, ims_engine_now(rp->engine));
    uint64_t whole = (uint64_t)llround(ns);
    if (whole > rp->sim_ns_counted) {
        ims_counter_add(rp->c_sim_ns, whole - rp->sim_ns_counted);
        rp->sim_ns_counted = whole;
    }
}

static int issue_mark(ims_replay *rp, const ims_trace_rec *r)
{
    const char *name = ims_trace_str(r, IMS_K_NAME);
    account_time(rp);
    int rc = ims_stats_mark(ims_system_stats(rp->sys), name);
    if (rc == -EINVAL)
        return rp_fail(rp, r, EINVAL, "mark: phase name '%s' is already used or reserved ('%s')", name,
                       IMS_STATS_FIRST_PHASE);
    if (rc)
        return rp_fail(rp, r, rc, "mark: out of memory");
    if (rp->nphases == rp->phases_cap) {
        size_t cap = rp->phases_cap ? 2 * rp->phases_cap : 8;
        char **n = realloc(rp->phases, cap * sizeof *n);
        if (!n)
            return rp_fail(rp, r, ENOMEM, "mark: out of memory");
        rp->phases = n;
        rp->phases_cap = cap;
    }
    if (!(rp->phases[rp->nphases] = strdup(name)))
        return rp_fail(rp, r, ENOMEM, "mark: out of memory");
    rp->nphases++;
    return 0;
}

static void issue_drain(ims_replay *rp, const ims_trace_rec *r, bool *async)
{
    if (rp->inflight == 0)
        return;
    uint64_t left = rp->inflight;
    rp_op *op = rp_op_get(rp, RP_DRAIN);
    rp->inflight--; /* a drain is not an operation later drains wait for */
    op->line = r->line;
    op->drain.left = left;
    op->next = rp->drains;
    rp->drains = op;
    *async = true;
}

/* ---- issue ---------------------------------------------------------------------------- */

static int issue(ims_replay *rp, const ims_trace_rec *r)
{
    ims_cycle now = ims_engine_now(rp->engine);
    uint64_t seq = ++rp->seq;
    rp->last_issue = now;
    rp->last_issue_file = (uint32_t)rp->cur;
    rp->last_issue_line = r->line;
    rp->last_done = false;
    bool async = false;
    int rc = 0;
    switch (ims_trace_schema(r->verb)->cls) {
    case IMS_VC_RAW:
        rc = rp_issue_raw(rp, r, &async);
        break;
    case IMS_VC_DEVICE:
        rc = rp_issue_dma(rp, r, &async);
        break;
    case IMS_VC_HOST:
    case IMS_VC_GUEST:
        rc = rp_issue_host(rp, r, &async);
        break;
    case IMS_VC_CONTROL:
        if (r->verb == IMS_V_MARK)
            rc = issue_mark(rp, r);
        else
            issue_drain(rp, r, &async);
        break;
    case IMS_VC_TOPOLOGY:
        break; /* not reached: applied while reading */
    }
    if (rc)
        return rc;
    count_record(rp); /* after the verb: a mark belongs to the phase it starts */
    if (!async && rp->seq == seq) {
        rp->last_done = true;
        rp->last_done_at = now;
    }
    return 0;
}

/* Issue records until one has to wait (for its time, or for the previous
 * record to complete), the input ends, or the replay fails. */
static void drive(ims_replay *rp)
{
    while (!rp->failed) {
        if (!rp->have_rec) {
            int rc = read_next(rp);
            if (rc < 0)
                return;
            if (rc == 0) {
                rp->eof = true;
                build(rp);
                return;
            }
            if (build(rp))
                return;
            rp->have_rec = true;
        }
        if ((rp->nvms || rp->ndvm) && !rp_host_ready(rp)) {
            /* guests are declared: nothing runs before they are up */
            if (rp_host_ensure(rp, &rp->rec))
                return;
            if (!rp_host_ready(rp)) {
                rp->waiting_ready = true;
                return;
            }
        }
        const ims_trace_rec *r = &rp->rec;
        ims_cycle now = ims_engine_now(rp->engine);
        ims_cycle at;
        if (r->tmode == IMS_TIME_ABS) {
            at = rp->time_base + ims_engine_ps_to_cycles(rp->engine, r->time_ps);
            if (at < rp->last_issue) {
                char t[32];
                ims_trace_format_time(r->time_ps, t, sizeof t);
                rp_fail(rp, r, EINVAL,
                        "@%s is earlier than the current issue time %.1f ns (reached by %s:%" PRIu64
                        "); time never goes backwards",
                        t, ims_engine_cycles_to_ns(rp->engine, rp->last_issue), file_of(rp, rp->last_issue_file),
                        rp->last_issue_line);
                return;
            }
        } else {
            if (!rp->last_done) {
                rp->waiting_prev = true;
                return;
            }
            at = rp->last_done_at;
            if (r->tmode == IMS_TIME_REL)
                at += ims_engine_ps_to_cycles(rp->engine, r->time_ps);
        }
        if (at > now) {
            schedule_driver(rp, at);
            return;
        }
        rp->have_rec = false;
        if (issue(rp, r))
            return;
    }
}

void rp_resume(ims_replay *rp)
{
    /* Absolute times count from when the guests are up (their setup is
     * simulated before the first timed record) */
    if (rp->seq == 0)
        rp->time_base = ims_engine_now(rp->engine);
    if (rp->waiting_ready) {
        rp->waiting_ready = false;
        schedule_driver(rp, ims_engine_now(rp->engine));
    }
}

static void driver_event(void *ctx, uint64_t arg)
{
    (void)arg;
    ims_replay *rp = ctx;
    rp->driver_scheduled = false;
    drive(rp);
}

/* ---- run ---------------------------------------------------------------------------- */

int ims_replay_run(ims_replay *rp, ims_trace_reader *const *readers, size_t n, ims_error *err)
{
    if (rp->files)
        return ims_errorf(err, EINVAL, "replay: run called twice");
    rp->files = calloc(n ? n : 1, sizeof *rp->files);
    if (!rp->files)
        return ims_errorf(err, ENOMEM, "replay: out of memory");
    rp->readers = readers;
    rp->nreaders = n;
    for (size_t i = 0; i < n; i++)
        if (!(rp->files[i] = strdup(ims_trace_reader_name(readers[i]))))
            return ims_errorf(err, ENOMEM, "replay: out of memory");
    rp->last_done = true; /* the first record issues at time 0 */
    schedule_driver(rp, ims_engine_now(rp->engine));
    while (!rp->failed && ims_engine_pending(rp->engine) > 0)
        ims_engine_run(rp->engine, IMS_CYCLE_MAX);
    if (!rp->failed && (!rp->eof || rp->inflight)) {
        /* Idle with work left: a model lost a completion. */
        rp_fail(rp, NULL, EPROTO,
                "%s:%" PRIu64 ": internal error: the simulation went idle with %" PRIu64
                " record(s) in flight (a model lost a completion)",
                file_of(rp, rp->last_issue_file), rp->last_issue_line, rp->inflight);
    }
    account_time(rp);
    if (rp->failed) {
        if (err)
            *err = rp->err;
        return rp->err.code ? rp->err.code : -EINVAL;
    }
    return 0;
}

uint64_t ims_replay_records(const ims_replay *rp) { return rp->records; }
uint64_t ims_replay_expect_failures(const ims_replay *rp) { return rp->expect_failures; }
size_t ims_replay_phase_count(const ims_replay *rp) { return rp->nphases; }

const char *ims_replay_phase_name(const ims_replay *rp, size_t i)
{
    return i < rp->nphases ? rp->phases[i] : NULL;
}
