/* qi_submit_sync of the VT-d host driver (iommufd-facts §2.10; vtd-facts
 * §1.10, §4.11): a 256-entry queue in host memory, batches of at most 16
 * descriptors each followed by an invalidation-wait descriptor (SW=1) that
 * writes a status word, polled in simulated time.
 *
 * A driver call builds an op (its batches) at once; batches then go through
 * the hardware queue one at a time, in call order:
 *   submit  after vtd_drv.submit_ns + (n + 1) x vtd_drv.desc_ns: descriptors
 *           and the wait written at the free head, IQT written;
 *   poll    every vtd_drv.poll_ns: status word first, then FSTS —
 *           IQE with IQH on one of our slots: the slot is overwritten with our
 *           wait descriptor, IQE cleared, the batch fails with -EINVAL;
 *           ITE: cleared; a SID the driver does not know -> -ETIMEDOUT, else
 *           the batch is resubmitted (up to vtd_drv.ite_retries) and then
 *           -ETIMEDOUT; ICE: cleared and ignored.
 * Decisions (documented in the report): the status data is a per-batch
 * sequence number rather than Linux's constant QI_DONE, so a late write of
 * an abandoned wait can never be mistaken for the current one; IQE is
 * recovered for any slot of the batch (Linux compares with the first slot);
 * serialising batches stands in for the queue lock (one CPU submitting). */
#include <stdlib.h>
#include <string.h>

#include "models/iommufd/vtd_drv_internal.h"
#include "models/vtd/inv_desc.h"
#include "models/vtd/regs.h"

/* ---- ops ---------------------------------------------------------------------- */

drv_op *drv_op_new(void) { return calloc(1, sizeof(drv_op)); }

void drv_op_add(drv_op *op, const uint64_t qw[4])
{
    if (op->err)
        return;
    drv_batch *b = op->tail;
    if (!b || op->cut || b->n == DRV_QI_BATCH) {
        b = calloc(1, sizeof *b);
        if (!b) {
            op->err = -ENOMEM;
            return;
        }
        b->op = op;
        if (op->tail)
            op->tail->next = b;
        else
            op->head = b;
        op->tail = b;
        op->cut = false;
    }
    memcpy(b->qw[b->n++], qw, sizeof b->qw[0]);
}

void drv_op_cut(drv_op *op) { op->cut = true; }

bool drv_op_empty(const drv_op *op) { return op->head == NULL; }

void drv_op_free(drv_op *op)
{
    if (!op)
        return;
    drv_batch *b = op->head;
    while (b) {
        drv_batch *n = b->next;
        free(b);
        b = n;
    }
    free(op);
}

static void op_finish(drv_op *op)
{
    ims_drv_done done = op->done;
    int st = op->status;
    free(op);
    if (done.fn)
        done.fn(done.ctx, st);
}

static void idle_op_ev(void *ctx, uint64_t arg)
{
    ims_vtd_drv *d = ctx;
    drv_op *op = (drv_op *)(uintptr_t)arg;
    for (drv_op **p = &d->idle_ops; *p; p = &(*p)->next_idle)
        if (*p == op) {
            *p = op->next_idle;
            break;
        }
    op_finish(op);
}

static void qi_kick(ims_vtd_drv *d);

int drv_op_start(ims_vtd_drv *d, drv_op *op, ims_drv_done done)
{
    if (!op)
        return -ENOMEM;
    if (op->err) {
        int e = op->err;
        drv_op_free(op);
        return e;
    }
    op->done = done;
    if (!op->head) {
        /* Nothing to wait for: complete from an event, as the interface asks. */
        op->ev = ims_engine_schedule(d->engine, 0, idle_op_ev, d, (uint64_t)(uintptr_t)op);
        if (!op->ev) {
            free(op);
            return -ENOMEM;
        }
        op->next_idle = d->idle_ops;
        d->idle_ops = op;
        return 0;
    }
    for (drv_batch *b = op->head; b; b = b->next)
        op->left++;
    if (d->pend_tail)
        d->pend_tail->next = op->head;
    else
        d->pend_head = op->head;
    d->pend_tail = op->tail;
    op->head = op->tail = NULL;
    qi_kick(d);
    return 0;
}

/* ---- the queue ------------------------------------------------------------------ */

static uint64_t slot_pa(const ims_vtd_drv *d, unsigned slot) { return d->iq_base + (uint64_t)slot * d->desc_bytes; }
static uint64_t status_pa(const ims_vtd_drv *d, unsigned slot) { return d->status_base + 4u * slot; }

static void write_slot(ims_vtd_drv *d, unsigned slot, const uint64_t qw[4])
{
    for (unsigned w = 0; w < d->desc_bytes / 8u; w++)
        ims_physmem_w64(d->mem, slot_pa(d, slot) + 8u * w, qw[w]);
}

static void log_desc(ims_vtd_drv *d, const uint64_t qw[4], unsigned slot)
{
    ims_vtd_drv_log_entry *e = &d->log[d->log_total % d->log_depth];
    memcpy(e->qw, qw, sizeof e->qw);
    if (d->desc_bytes == 16)
        e->qw[2] = e->qw[3] = 0;
    e->t = ims_engine_now(d->engine);
    e->batch = d->batches;
    e->slot = slot;
    d->log_total++;
}

static void wait_desc(const ims_vtd_drv *d, uint64_t qw[4])
{
    ims_qi_build_wait(qw, true, false, false, false, d->cur_data, status_pa(d, d->cur_wait));
}

static void submit_ev(void *ctx, uint64_t arg);
static void poll_ev(void *ctx, uint64_t arg);

static ims_cycle batch_cost(const ims_vtd_drv *d, const drv_batch *b)
{
    return d->submit_cycles + (ims_cycle)(b->n + 1u) * d->desc_cycles;
}

static void qi_kick(ims_vtd_drv *d)
{
    if (d->cur || !d->pend_head)
        return;
    drv_batch *b = d->pend_head;
    d->pend_head = b->next;
    if (!d->pend_head)
        d->pend_tail = NULL;
    b->next = NULL;
    d->cur = b;
    d->qi_ev = ims_engine_schedule(d->engine, batch_cost(d, b), submit_ev, d, 0);
}

static void finish_batch(ims_vtd_drv *d, int status)
{
    drv_batch *b = d->cur;
    d->cur = NULL;
    d->qi_ev = 0;
    if (d->l_submit)
        ims_latency_record(d->l_submit, ims_engine_now(d->engine) - d->cur_t);
    drv_op *op = b->op;
    if (status && !op->status)
        op->status = status;
    free(b);
    /* Next batch first: a done callback may start new work, which must queue
     * behind what is already waiting. */
    qi_kick(d);
    if (--op->left == 0)
        op_finish(op);
}

static void submit_ev(void *ctx, uint64_t arg)
{
    (void)arg;
    ims_vtd_drv *d = ctx;
    drv_batch *b = d->cur;
    d->qi_ev = 0;
    /* Wait for room (count + wait + the slot Linux keeps free) behind the
     * hardware head: only after an IQE return can hardware lag behind. */
    unsigned head = (unsigned)(drv_rd(d, IMS_VTD_REG_IQH, 8) >> d->qi_shift) % DRV_QI_LEN;
    unsigned used = (d->free_head + DRV_QI_LEN - head) % DRV_QI_LEN;
    if (DRV_QI_LEN - used < b->n + 2u) {
        d->qi_ev = ims_engine_schedule(d->engine, d->poll_cycles, submit_ev, d, 0);
        return;
    }
    d->batches++;
    d->cur_first = d->free_head;
    for (unsigned i = 0; i < b->n; i++) {
        unsigned slot = (d->cur_first + i) % DRV_QI_LEN;
        write_slot(d, slot, b->qw[i]);
        log_desc(d, b->qw[i], slot);
    }
    d->cur_wait = (d->cur_first + b->n) % DRV_QI_LEN;
    if (++d->seq == 0)
        d->seq = 1;
    d->cur_data = d->seq;
    ims_physmem_w32(d->mem, status_pa(d, d->cur_wait), 0); /* QI_IN_USE */
    uint64_t w[4];
    wait_desc(d, w);
    write_slot(d, d->cur_wait, w);
    d->free_head = (d->cur_wait + 1u) % DRV_QI_LEN;
    d->cur_t = ims_engine_now(d->engine);
    d->ctr.submits++;
    d->ctr.descriptors += b->n;
    if (d->c_submits)
        ims_counter_inc(d->c_submits);
    if (d->c_descs)
        ims_counter_add(d->c_descs, b->n);
    drv_wr(d, IMS_VTD_REG_IQT, 8, (uint64_t)d->free_head << d->qi_shift);
    d->qi_ev = ims_engine_schedule(d->engine, d->poll_cycles, poll_ev, d, 0);
}

static bool slot_in_batch(const ims_vtd_drv *d, unsigned slot)
{
    unsigned off = (slot + DRV_QI_LEN - d->cur_first) % DRV_QI_LEN;
    unsigned span = (d->cur_wait + DRV_QI_LEN - d->cur_first) % DRV_QI_LEN;
    return off <= span;
}

static void poll_ev(void *ctx, uint64_t arg)
{
    (void)arg;
    ims_vtd_drv *d = ctx;
    d->qi_ev = 0;
    d->ctr.polls++;
    if (ims_physmem_r32(d->mem, status_pa(d, d->cur_wait)) == d->cur_data) {
        finish_batch(d, 0);
        return;
    }
    uint32_t fsts = (uint32_t)drv_rd(d, IMS_VTD_REG_FSTS, 4);
    if (ims_vtd_fsts_iqe(fsts)) {
        unsigned head = (unsigned)(drv_rd(d, IMS_VTD_REG_IQH, 8) >> d->qi_shift) % DRV_QI_LEN;
        d->ctr.iqe++;
        if (d->c_iqe)
            ims_counter_inc(d->c_iqe);
        bool ours = slot_in_batch(d, head);
        if (ours) {
            uint64_t w[4];
            wait_desc(d, w);
            write_slot(d, head, w);
        }
        drv_wr(d, IMS_VTD_REG_FSTS, 4, IMS_VTD_MASK(IMS_VTD_FSTS_IQE));
        finish_batch(d, ours ? -EINVAL : -EIO);
        return;
    }
    if (ims_vtd_fsts_ite(fsts)) {
        uint16_t sid = (uint16_t)ims_vtd_iqercd_itesid(drv_rd(d, IMS_VTD_REG_IQERCD, 8));
        d->ctr.ite++;
        if (d->c_ite)
            ims_counter_inc(d->c_ite);
        drv_wr(d, IMS_VTD_REG_FSTS, 4, IMS_VTD_MASK(IMS_VTD_FSTS_ITE));
        drv_batch *b = d->cur;
        if ((sid && !drv_find_dev(d, sid)) || b->retries >= d->ite_retries) {
            finish_batch(d, -ETIMEDOUT);
            return;
        }
        /* Our wait was aborted: copy the batch again at the free head. */
        b->retries++;
        d->ctr.retries++;
        if (d->c_retries)
            ims_counter_inc(d->c_retries);
        d->qi_ev = ims_engine_schedule(d->engine, batch_cost(d, b), submit_ev, d, 0);
        return;
    }
    if (ims_vtd_fsts_ice(fsts)) {
        d->ctr.ice++;
        drv_wr(d, IMS_VTD_REG_FSTS, 4, IMS_VTD_MASK(IMS_VTD_FSTS_ICE));
    }
    d->qi_ev = ims_engine_schedule(d->engine, d->poll_cycles, poll_ev, d, 0);
}

/* ---- setup / teardown ------------------------------------------------------------- */

int drv_qi_init(ims_vtd_drv *d, ims_error *err)
{
    /* 256 descriptors: 32 bytes each in scalable mode (DW=1, 2 pages, QS=1),
     * 16 bytes otherwise (1 page, QS=0) — vtd-facts §1.10. */
    bool dw = d->scalable;
    unsigned qs = dw ? 1u : 0u;
    d->desc_bytes = dw ? 32u : 16u;
    d->qi_shift = dw ? 5u : 4u;
    d->iq_base = ims_pa_alloc_pages(d->alloc, UINT64_C(1) << qs, UINT64_C(4096) << qs);
    d->status_base = ims_pa_alloc_pages(d->alloc, 1, 0);
    if (!d->iq_base || !d->status_base)
        return ims_errorf(err, ENOMEM, "vtd driver: no host memory for the invalidation queue");
    drv_wr(d, IMS_VTD_REG_IQT, 8, 0);
    drv_wr(d, IMS_VTD_REG_IQA, 8, d->iq_base | IMS_VTD_PUT(IMS_VTD_IQA_DW, dw) | IMS_VTD_PUT(IMS_VTD_IQA_QS, qs));
    if (drv_gcmd(d, (uint32_t)IMS_VTD_MASK(IMS_VTD_GCMD_QIE), true))
        return ims_errorf(err, EIO, "vtd driver: GCMD.QIE not reflected in GSTS.QIES");
    return 0;
}

void drv_qi_cancel_all(ims_vtd_drv *d)
{
    if (d->qi_ev)
        ims_engine_cancel(d->engine, d->qi_ev);
    d->qi_ev = 0;
    while (d->idle_ops) {
        drv_op *op = d->idle_ops;
        d->idle_ops = op->next_idle;
        ims_engine_cancel(d->engine, op->ev);
        free(op);
    }
    /* Batches in flight or waiting: each op goes when its last batch does. */
    drv_batch *b = d->cur;
    d->cur = NULL;
    if (!b) {
        b = d->pend_head;
    } else {
        b->next = d->pend_head;
    }
    d->pend_head = d->pend_tail = NULL;
    while (b) {
        drv_batch *n = b->next;
        drv_op *op = b->op;
        free(b);
        if (--op->left == 0)
            free(op);
        b = n;
    }
}

/* ---- public ------------------------------------------------------------------------ */

int ims_vtd_drv_submit(ims_vtd_drv *d, const uint64_t (*desc)[4], size_t n, ims_drv_done done)
{
    if (!d || (n && !desc))
        return -EINVAL;
    drv_op *op = drv_op_new();
    if (!op)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        drv_op_add(op, desc[i]);
    return drv_op_start(d, op, done);
}

size_t ims_vtd_drv_qi_busy(const ims_vtd_drv *d)
{
    size_t n = d->cur ? 1 : 0;
    for (const drv_batch *b = d->pend_head; b; b = b->next)
        n++;
    return n;
}

uint64_t ims_vtd_drv_log_total(const ims_vtd_drv *d) { return d->log_total; }

int ims_vtd_drv_log_get(const ims_vtd_drv *d, uint64_t seq, ims_vtd_drv_log_entry *out)
{
    if (seq >= d->log_total || d->log_total - seq > d->log_depth)
        return -ENOENT;
    *out = d->log[seq % d->log_depth];
    return 0;
}

const ims_vtd_drv_counters *ims_vtd_drv_counters_get(const ims_vtd_drv *d) { return &d->ctr; }
