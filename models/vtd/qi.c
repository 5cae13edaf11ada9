/* Queued-invalidation engine: the queue side (vtd-facts §1.10, §4.11; VT-d
 * 5.10 §6.5.2, §6.5.2.9-12).
 *
 * Three stages, each one at a time:
 *  fetch    reads up to qi.fetch_batch descriptors at IQH (one memory read),
 *           validates them in order and advances IQH past each valid one. An
 *           invalid one raises IQE and leaves IQH on it; a bad tail (beyond the
 *           queue, or bit 4 set with 256-bit descriptors) raises IQE before any
 *           read. A wait with FN=1 stops fetching until it completes, which is
 *           how "later descriptors only after the wait" is enforced.
 *  execute  takes the fetched descriptors in order, spends the per-type cost,
 *           then applies the effect (qi_exec.c). A wait asks the translation
 *           pipeline for a drain at that point, when every earlier cache
 *           invalidation has been applied.
 *  retire   completes records in order: a wait at the front (everything before
 *           it complete, including ATS completions) whose drain has finished
 *           spends qi.status_write, then writes its status / sets ICS.IWC.
 * Descriptors after a wait without FN keep executing meanwhile (§6.5.2.12);
 * waits still complete in queue order.
 *
 * Model decisions (docs/timing.md "Queued invalidation"):
 *  - ICE does not stop the queue (spec §6.5.2.11: "continues ... as normal").
 *  - ITE aborts every wait not yet writing its status, fetched or still queued
 *    for execution; other fetched descriptors still execute. A fetch in flight
 *    when IQE/ITE is raised is discarded: IQH does not move.
 *  - inv.latency_ns of a wait counts from the IQT write that made its slot
 *    visible; a fetch after an error recovery still counts from that write. */
#include "models/vtd/qi.h"

#include <stdlib.h>
#include <string.h>

#include "models/vtd/qi_internal.h"
#include "models/vtd/regs.h"

#define SLOT_BYTES 16u /* visibility is tracked per 128-bit slot */

/* ---- records ------------------------------------------------------------ */

qi_rec *ims_qi_rec_(ims_qi *q, uint64_t seq)
{
    if (seq < q->first || seq >= q->next)
        return NULL;
    return &q->recs[seq & (q->cap - 1)];
}

static qi_rec *rec_push(ims_qi *q, uint64_t *seq)
{
    if (q->next - q->first == q->cap) {
        uint64_t ncap = q->cap * 2;
        qi_rec *n = calloc(ncap, sizeof *n);
        if (!n)
            return NULL;
        for (uint64_t s = q->first; s < q->next; s++)
            n[s & (ncap - 1)] = q->recs[s & (q->cap - 1)];
        free(q->recs);
        q->recs = n;
        q->cap = ncap;
    }
    *seq = q->next++;
    qi_rec *r = &q->recs[*seq & (q->cap - 1)];
    memset(r, 0, sizeof *r);
    return r;
}

/* ---- statistics ------------------------------------------------------------ */

static ims_counter *ctr(ims_qi *q, ims_stats *st, const char *name, const char *help)
{
    ims_counter *c = st ? ims_stats_counter(st, name, help) : NULL;
    return c ? c : &q->dummy;
}

static void stats_init(ims_qi *q, ims_stats *st)
{
    q->c_desc = ctr(q, st, "qi.descriptors", "invalidation descriptors executed");
    for (unsigned t = 1; t < QI_NTYPES; t++) {
        char name[64];
        snprintf(name, sizeof name, "qi.desc.%s", ims_qi_type_name(t));
        q->c_type[t] = ctr(q, st, name, "descriptors of this type executed");
    }
    q->c_type[0] = &q->dummy;
    q->c_fetches = ctr(q, st, "qi.fetches", "invalidation-queue reads");
    q->c_iqe = ctr(q, st, "qi.iqe", "invalidation queue errors raised");
    q->c_ite = ctr(q, st, "qi.ite", "invalidation time-out errors raised");
    q->c_ice = ctr(q, st, "qi.ice", "invalidation completion errors raised");
    q->c_aborted = ctr(q, st, "qi.wait_aborted", "wait descriptors aborted by ITE (no status write)");
    q->c_inv = ctr(q, st, "inv.count", "invalidation-wait descriptors completed");
    q->c_itag_stalls = ctr(q, st, "qi.itag_stalls", "device-TLB descriptors that waited for a free ITag");
    q->c_ats_sent = ctr(q, st, "ats.inv.sent", "ATS invalidate requests issued by the IOMMU");
    q->c_ats_undeliverable = ctr(q, st, "ats.inv.undeliverable", "ATS invalidate requests with no endpoint");
    q->c_ats_done = ctr(q, st, "ats.inv.completed", "ATS invalidate requests completed (all completions in)");
    q->c_ats_timeouts = ctr(q, st, "ats.inv.timeouts", "ATS invalidate requests that timed out");
    q->c_reg_ccmd = ctr(q, st, "qi.reg.ccmd", "register-based context-cache invalidations");
    q->c_reg_iotlb = ctr(q, st, "qi.reg.iotlb", "register-based IOTLB invalidations");
    q->c_removed = ctr(q, st, "qi.entries_removed", "cache entries removed by invalidations");
    q->l_inv = st ? ims_stats_latency(st, "inv.latency_ns", "IQT write to wait completion") : NULL;
    q->l_ats = st ? ims_stats_latency(st, "ats.inv.latency_ns", "ATS invalidate request to completion") : NULL;
}

/* ---- create / destroy -------------------------------------------------------- */

int ims_qi_create(const ims_qi_params *p, ims_qi **out, ims_error *err)
{
    *out = NULL;
    if (!p || !p->engine || !p->mem || !p->mem_timing || !p->regs || !p->caches || !p->cfg)
        return ims_errorf(err, EINVAL, "qi: engine, mem, mem_timing, regs, caches and cfg are required");
    ims_qi *q = calloc(1, sizeof *q);
    if (!q)
        return ims_errorf(err, ENOMEM, "qi: out of memory");
    q->engine = p->engine;
    q->mem = p->mem;
    q->mt = p->mem_timing;
    q->rf = p->regs;
    q->caches = p->caches;
    q->xlate = p->xlate;
    q->ats = p->ats;
    q->cap = 64;
    q->recs = calloc(q->cap, sizeof *q->recs);
    if (!q->recs) {
        free(q);
        return ims_errorf(err, ENOMEM, "qi: out of memory");
    }
    static const struct {
        unsigned type;
        const char *key;
    } costs[] = {
        {IMS_QI_TYPE_CC, "qi.cost.cc"},         {IMS_QI_TYPE_IOTLB, "qi.cost.iotlb"},
        {IMS_QI_TYPE_DEV_TLB, "qi.cost.devtlb"}, {IMS_QI_TYPE_IEC, "qi.cost.iec"},
        {IMS_QI_TYPE_WAIT, "qi.cost.wait"},     {IMS_QI_TYPE_PIOTLB, "qi.cost.piotlb"},
        {IMS_QI_TYPE_PC, "qi.cost.pc"},         {IMS_QI_TYPE_PDEV_TLB, "qi.cost.devtlb"},
        {IMS_QI_TYPE_PGRP_RESP, "qi.cost.pgrp"},
    };
    for (size_t i = 0; i < sizeof costs / sizeof costs[0]; i++)
        q->cost[costs[i].type] = ims_engine_ps_to_cycles(q->engine, ims_config_time_ps(p->cfg, costs[i].key));
    q->status_cycles = ims_engine_ps_to_cycles(q->engine, ims_config_time_ps(p->cfg, "qi.status_write"));
    q->ats_timeout = ims_engine_ps_to_cycles(q->engine, ims_config_time_ps(p->cfg, "qi.ats_timeout"));
    if (q->ats_timeout == 0)
        q->ats_timeout = 1;
    q->fetch_batch = (unsigned)ims_config_u64(p->cfg, "qi.fetch_batch");
    q->fence_seq = QI_NO_SEQ;
    stats_init(q, p->stats);
    *out = q;
    return 0;
}

void ims_qi_destroy(ims_qi *q)
{
    if (!q)
        return;
    /* Nothing may call back into a freed engine state. */
    ims_engine_cancel(q->engine, q->fetch_ev);
    ims_engine_cancel(q->engine, q->exec_ev);
    ims_engine_cancel(q->engine, q->status_ev);
    ims_qi_ats_cancel_all_(q);
    free(q->devs);
    free(q->vis);
    free(q->vis_pend);
    free(q->recs);
    free(q);
}

/* ---- visibility (for inv.latency_ns) -------------------------------------- */

static bool vis_ensure(ims_qi *q, uint64_t qbytes)
{
    uint64_t slots = qbytes / SLOT_BYTES;
    if (slots == q->vis_slots)
        return true;
    ims_cycle *v = calloc(slots, sizeof *v);
    uint8_t *p = calloc(slots, 1);
    if (!v || !p) {
        free(v);
        free(p);
        return false;
    }
    free(q->vis);
    free(q->vis_pend);
    q->vis = v;
    q->vis_pend = p;
    q->vis_slots = slots;
    q->last_tail_valid = false;
    return true;
}

/* Stamp the slots a tail write made visible with the current time. Slots
 * already stamped (visible since an earlier write, not yet fetched) keep
 * their time. */
static void vis_mark(ims_qi *q, uint64_t head, uint64_t tail, uint64_t qbytes)
{
    if (!vis_ensure(q, qbytes) || tail >= qbytes || head >= qbytes)
        return;
    uint64_t from = head;
    if (q->last_tail_valid && q->last_tail < qbytes &&
        (q->last_tail - head) % qbytes <= (tail - head) % qbytes)
        from = q->last_tail;
    ims_cycle now = ims_engine_now(q->engine);
    for (uint64_t off = from & ~(uint64_t)(SLOT_BYTES - 1); off != (tail & ~(uint64_t)(SLOT_BYTES - 1));
         off = (off + SLOT_BYTES) % qbytes) {
        uint64_t s = off / SLOT_BYTES;
        if (!q->vis_pend[s]) {
            q->vis_pend[s] = 1;
            q->vis[s] = now;
        }
    }
    q->last_tail = tail;
    q->last_tail_valid = true;
}

static ims_cycle vis_take(ims_qi *q, uint64_t off, unsigned db)
{
    ims_cycle t = ims_engine_now(q->engine);
    uint64_t s = off / SLOT_BYTES;
    if (s < q->vis_slots && q->vis_pend[s])
        t = q->vis[s];
    for (unsigned i = 0; i < db / SLOT_BYTES; i++)
        if (s + i < q->vis_slots)
            q->vis_pend[s + i] = 0;
    return t;
}

/* ---- fetch ------------------------------------------------------------------ */

static void fetch_next(ims_qi *q);

static void raise_iqe(ims_qi *q, unsigned iqei)
{
    ims_counter_inc(q->c_iqe);
    ims_vtd_regfile_raise_iqe(q->rf, iqei);
}

static bool can_fetch(const ims_qi *q)
{
    return ims_vtd_regfile_qie(q->rf) && !ims_vtd_regfile_qi_stalled(q->rf);
}

static void fetch_done(void *ctx, uint64_t arg)
{
    (void)arg;
    ims_qi *q = ctx;
    q->fetch_busy = false;
    q->fetch_ev = 0;
    uint64_t iqa = ims_vtd_regfile_iqa(q->rf);
    uint64_t qbytes = ims_vtd_iqa_bytes(iqa);
    unsigned db = ims_vtd_iqa_desc_bytes(iqa);
    uint64_t head = ims_vtd_regfile_iqh(q->rf);
    /* An error raised meanwhile (ITE), or a queue reset, voids this read. */
    if (!can_fetch(q) || head != q->fetch_head) {
        fetch_next(q);
        return;
    }
    uint64_t cap = ims_vtd_regfile_cap(q->rf), ecap = ims_vtd_regfile_ecap(q->rf);
    unsigned ttm = ims_vtd_rtaddr_ttm(ims_vtd_regfile_rtaddr(q->rf));
    bool dw = ims_vtd_iqa_dw(iqa);
    for (unsigned i = 0; i < q->fetch_n; i++) {
        uint64_t off = head;
        uint64_t qw[IMS_QI_DESC_QW] = {0};
        for (unsigned w = 0; w < db / 8; w++)
            qw[w] = ims_physmem_r64(q->mem, ims_vtd_iqa_iqa(iqa) + off + 8u * w);
        ims_qi_desc d;
        int rc = ims_qi_decode_mode(qw, dw, ttm, cap, ecap, &d);
        if (rc != 0) {
            raise_iqe(q, (unsigned)rc); /* IQH stays on the bad descriptor */
            break;
        }
        uint64_t seq;
        qi_rec *r = rec_push(q, &seq);
        if (!r) { /* out of memory: leave it in the queue, as a fetch error */
            raise_iqe(q, IMS_VTD_IQEI_FETCH_ERROR);
            break;
        }
        r->d = d;
        r->off = off;
        r->t_visible = vis_take(q, off, db);
        head = (off + db) % qbytes;
        ims_vtd_regfile_set_iqh(q->rf, head);
        if (d.type == IMS_QI_TYPE_WAIT && d.wait.fn) {
            q->fence_seq = seq;
            break;
        }
    }
    ims_qi_exec_kick_(q);
    fetch_next(q);
}

static void fetch_next(ims_qi *q)
{
    if (q->fetch_busy || q->fence_seq != QI_NO_SEQ || !can_fetch(q))
        return;
    uint64_t iqa = ims_vtd_regfile_iqa(q->rf);
    uint64_t qbytes = ims_vtd_iqa_bytes(iqa);
    unsigned db = ims_vtd_iqa_desc_bytes(iqa);
    uint64_t head = ims_vtd_regfile_iqh(q->rf), tail = ims_vtd_regfile_iqt(q->rf);
    if (head == tail)
        return;
    /* Tail checks (IQEI codes, VT-d 5.10 §11.4.9.9; vtd-facts §1.10). */
    if (tail >= qbytes) {
        raise_iqe(q, IMS_VTD_IQEI_TAIL_INVALID);
        return;
    }
    if (db == 32 && (tail & 0x10)) {
        raise_iqe(q, IMS_VTD_IQEI_TAIL_MISALIGNED);
        return;
    }
    if (head >= qbytes || head % db) { /* IQA changed under a live head: nothing sane to fetch */
        raise_iqe(q, IMS_VTD_IQEI_FETCH_ERROR);
        return;
    }
    uint64_t avail = ((tail + qbytes - head) % qbytes) / db;
    uint64_t contig = (qbytes - head) / db;
    uint64_t n = q->fetch_batch;
    if (n > avail)
        n = avail;
    if (n > contig)
        n = contig;
    q->fetch_busy = true;
    q->fetch_head = head;
    q->fetch_n = (unsigned)n;
    ims_counter_inc(q->c_fetches);
    q->fetch_ev = ims_engine_schedule(q->engine, q->mt->read_cycles, fetch_done, q, 0);
}

void ims_qi_doorbell(ims_qi *q, uint64_t iqt)
{
    uint64_t iqa = ims_vtd_regfile_iqa(q->rf);
    vis_mark(q, ims_vtd_regfile_iqh(q->rf), iqt, ims_vtd_iqa_bytes(iqa));
    fetch_next(q);
}

/* ---- execute ------------------------------------------------------------------ */

static void wait_drained(void *ctx, uint64_t seq)
{
    ims_qi *q = ctx;
    qi_rec *r = ims_qi_rec_(q, seq);
    if (r && !r->aborted)
        r->drained = true;
    ims_qi_retire_(q);
}

static void exec_done(void *ctx, uint64_t seq)
{
    ims_qi *q = ctx;
    q->exec_busy = false;
    q->exec_ev = 0;
    q->exec_seq = seq + 1;
    qi_rec *r = ims_qi_rec_(q, seq);
    if (r) {
        unsigned t = r->d.type;
        ims_counter_inc(q->c_desc);
        ims_counter_inc(q->c_type[t < QI_NTYPES ? t : 0]);
        if (t == IMS_QI_TYPE_WAIT) {
            if (!r->aborted) {
                if (q->xlate)
                    ims_xlate_drain(q->xlate, wait_drained, q, seq);
                else
                    r->drained = true; /* nothing in flight without a pipeline */
            }
        } else if (t == IMS_QI_TYPE_DEV_TLB || t == IMS_QI_TYPE_PDEV_TLB) {
            ims_qi_ats_send_(q, r, seq);
        } else {
            ims_qi_apply_(q, &r->d);
            r->done = true;
        }
        if (t != IMS_QI_TYPE_WAIT && q->observer)
            q->observer(q->observer_ctx, &r->d);
    }
    ims_qi_retire_(q);
    ims_qi_exec_kick_(q);
}

void ims_qi_exec_kick_(ims_qi *q)
{
    if (q->exec_seq < q->first)
        q->exec_seq = q->first;
    while (!q->exec_busy && q->exec_seq < q->next) {
        uint64_t seq = q->exec_seq;
        qi_rec *r = ims_qi_rec_(q, seq);
        if (r->aborted) { /* aborted before it was processed: nothing to do */
            q->exec_seq++;
            continue;
        }
        unsigned t = r->d.type;
        if (t == IMS_QI_TYPE_DEV_TLB || t == IMS_QI_TYPE_PDEV_TLB) {
            if (!ims_qi_itag_alloc_(q, r, seq)) {
                if (!q->exec_blocked)
                    ims_counter_inc(q->c_itag_stalls);
                q->exec_blocked = true; /* retried when an ITag of this SID frees */
                return;
            }
        }
        q->exec_blocked = false;
        q->exec_busy = true;
        q->exec_ev = ims_engine_schedule(q->engine, q->cost[t < QI_NTYPES ? t : 0], exec_done, q, seq);
    }
    ims_qi_retire_(q);
}

/* ---- retire ----------------------------------------------------------------- */

static void wait_complete(void *ctx, uint64_t seq)
{
    ims_qi *q = ctx;
    q->status_ev = 0;
    qi_rec *r = ims_qi_rec_(q, seq);
    if (!r)
        return;
    const ims_qi_wait *w = &r->d.wait;
    if (w->sw)
        ims_physmem_w32(q->mem, w->status_addr, w->status_data);
    if (w->iflag)
        ims_vtd_regfile_set_iwc(q->rf);
    ims_counter_inc(q->c_inv);
    q->time.waits++;
    q->time.wait_cycles += ims_engine_now(q->engine) - r->t_visible;
    if (q->l_inv)
        ims_latency_record(q->l_inv, ims_engine_now(q->engine) - r->t_visible);
    r->done = true;
    if (q->fence_seq == seq)
        q->fence_seq = QI_NO_SEQ;
    if (q->observer)
        q->observer(q->observer_ctx, &r->d);
    ims_qi_retire_(q);
    fetch_next(q);
}

/* Complete records from the front, in queue order. Only records the executor
 * has passed can complete. */
void ims_qi_retire_(ims_qi *q)
{
    while (q->first < q->exec_seq && q->first < q->next) {
        qi_rec *r = ims_qi_rec_(q, q->first);
        if (r->done) {
            q->first++;
            continue;
        }
        if (r->d.type == IMS_QI_TYPE_WAIT && r->drained && !r->status_started) {
            r->status_started = true;
            q->status_ev = ims_engine_schedule(q->engine, q->status_cycles, wait_complete, q, q->first);
        }
        break;
    }
}

/* ITE (§6.5.2.11): every wait pending in hardware is aborted, its status
 * write and interrupt never happen. */
void ims_qi_abort_waits_(ims_qi *q)
{
    for (uint64_t s = q->first; s < q->next; s++) {
        qi_rec *r = ims_qi_rec_(q, s);
        if (r->d.type != IMS_QI_TYPE_WAIT || r->done || r->status_started)
            continue;
        r->aborted = true;
        r->done = true;
        ims_counter_inc(q->c_aborted);
        if (q->fence_seq == s)
            q->fence_seq = QI_NO_SEQ;
    }
}

void ims_qi_set_observer(ims_qi *q, ims_qi_observer_fn fn, void *ctx)
{
    q->observer = fn;
    q->observer_ctx = ctx;
}

unsigned ims_qi_pending(const ims_qi *q)
{
    unsigned n = 0;
    for (uint64_t s = q->first; s < q->next; s++)
        if (!q->recs[s & (q->cap - 1)].done)
            n++;
    return n;
}

ims_qi_time ims_qi_time_get(const ims_qi *q) { return q->time; }
