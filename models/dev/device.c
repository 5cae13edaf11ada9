/* Endpoint device: DMA engine, outstanding limit, piece pipeline and data
 * transfer (see device.h). The ATS side (device-TLB, translation requests,
 * invalidation handling) is in ats.c.
 *
 * A DMA waits for one of dev.outstanding slots, then issues its 4 KiB pieces
 * in order, at most dev.dma_window at a time. A piece is translated (without
 * ATS: an untranslated request to the IOMMU) and then moves its data: a read
 * costs mem.dma_latency_ns before its data crosses the link's downstream
 * channel, a write crosses the upstream channel first; alone, either takes
 * mem.dma_latency_ns + bytes / pcie.bandwidth_gbps. Once a piece faults no
 * further pieces are issued; the DMA completes when its last issued piece is
 * done, with the fault of its lowest faulting piece. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/dev/dev_internal.h"

#define PAGE_SHIFT 12u
#define PAGE_SIZE (UINT64_C(1) << PAGE_SHIFT)
#define POOL_CHUNK 64u

/* ---- record pool ---------------------------------------------------------------- */

void dev_pool_init(dev_pool *p, size_t size)
{
    *p = (dev_pool){.size = size < sizeof(void *) ? sizeof(void *) : size};
}

void dev_pool_fini(dev_pool *p)
{
    for (size_t i = 0; i < p->nchunks; i++)
        free(p->chunks[i]);
    free(p->chunks);
    *p = (dev_pool){0};
}

void *dev_pool_get(dev_pool *p)
{
    if (!p->free) {
        if (p->nchunks == p->cap) {
            size_t cap = p->cap ? 2 * p->cap : 4;
            void **c = realloc(p->chunks, cap * sizeof *c);
            if (!c)
                abort();
            p->chunks = c;
            p->cap = cap;
        }
        char *chunk = calloc(POOL_CHUNK, p->size);
        if (!chunk)
            abort();
        p->chunks[p->nchunks++] = chunk;
        for (unsigned i = 0; i < POOL_CHUNK; i++)
            dev_pool_put(p, chunk + (size_t)i * p->size);
    }
    void *obj = p->free;
    p->free = *(void **)obj;
    memset(obj, 0, p->size);
    return obj;
}

void dev_pool_put(dev_pool *p, void *obj)
{
    *(void **)obj = p->free;
    p->free = obj;
}

/* ---- create / destroy ----------------------------------------------------------- */

static int register_stats(ims_dev *d, ims_stats *st, ims_error *err)
{
    static const struct {
        size_t off;
        const char *name, *help;
    } ctr[] = {
        {offsetof(ims_dev, c_count), "dma.count", "DMAs completed (faulted or not)"},
        {offsetof(ims_dev, c_faults), "dma.faults", "DMAs that completed with a translation fault"},
        {offsetof(ims_dev, c_bytes), "dma.bytes", "bytes moved by DMA pieces that translated"},
        {offsetof(ims_dev, c_xlate_req), "ats.xlate.requests", "ATS translation requests sent by devices"},
        {offsetof(ims_dev, c_xlate_denied), "ats.xlate.denied",
         "ATS translation completions that did not allow the access (an untranslated request follows)"},
        {offsetof(ims_dev, c_fill_skipped), "ats.xlate.fill_skipped",
         "ATS translation completions not cached: an invalidation arrived while the request was in flight"},
        {offsetof(ims_dev, c_inv_req), "ats.dev_inv.requests", "ATS invalidation requests received by devices"},
        {offsetof(ims_dev, c_inv_dropped), "ats.dev_inv.dropped",
         "ATS invalidation requests ignored (dev.ats_drop_inv fault injection)"},
        {offsetof(ims_dev, c_inv_bad), "ats.dev_inv.bad_range",
         "ATS invalidation requests whose (ADDR, S) does not decode (answered, nothing removed)"},
    };
    _Static_assert(sizeof ctr / sizeof ctr[0] == sizeof d->own / sizeof d->own[0], "one own counter per stat");
    for (size_t i = 0; i < sizeof ctr / sizeof ctr[0]; i++) {
        ims_counter **slot = (ims_counter **)((char *)d + ctr[i].off);
        *slot = &d->own[i];
        if (st && !(*slot = ims_stats_counter(st, ctr[i].name, ctr[i].help)))
            return ims_errorf(err, ENOMEM, "%s: out of memory registering statistics", d->name);
    }
    if (!st)
        return 0;
    d->l_latency = ims_stats_latency(st, "dma.latency_ns", "DMA latency: request to last piece done");
    d->l_wait = ims_stats_latency(st, "dma.wait_ns", "DMA wait for an outstanding slot (backpressure)");
    d->l_ats = ims_stats_latency(st, "ats.xlate.latency_ns",
                                 "ATS translation round trip seen by the device (link + IOMMU + link)");
    d->l_inv = ims_stats_latency(st, "ats.dev_inv.latency_ns",
                                 "device time of an ATS invalidation: arrival to completion sent");
    if (!d->l_latency || !d->l_wait || !d->l_ats || !d->l_inv)
        return ims_errorf(err, ENOMEM, "%s: out of memory registering statistics", d->name);
    return 0;
}

int ims_dev_create(const ims_dev_params *p, ims_dev **out, ims_error *err)
{
    *out = NULL;
    if (!p->engine || !p->mem_timing || !p->cfg || !p->iommu.translate)
        return ims_errorf(err, EINVAL, "device: engine, mem_timing, cfg and iommu.translate are required");
    ims_dev *d = calloc(1, sizeof *d);
    if (!d)
        return ims_errorf(err, ENOMEM, "device: out of memory");
    d->engine = p->engine;
    d->mt = p->mem_timing;
    d->iommu = p->iommu;
    d->sid = p->sid;
    d->ats = p->ats;
    if (p->name)
        snprintf(d->name, sizeof d->name, "%s", p->name);
    else
        snprintf(d->name, sizeof d->name, "dev %02x:%02x.%x", p->sid >> 8, (p->sid >> 3) & 0x1F, p->sid & 7);
    const ims_config *cfg = p->cfg;
    d->drop_inv = ims_config_bool(cfg, "dev.ats_drop_inv");
    d->window = ims_config_u64(cfg, "dev.dma_window");
    d->inv_cycles = ims_engine_ps_to_cycles(p->engine, ims_config_time_ps(cfg, "dev.ats_inv_ns"));
    ims_link_init(&d->link, p->engine, ims_config_time_ps(cfg, "pcie.latency_ns"),
                  ims_config_double(cfg, "pcie.bandwidth_gbps"));
    /* interval = latency: one invalidation at a time (an interval of 0 is not allowed). */
    ims_port_init(&d->inv_port, p->engine, d->inv_cycles ? d->inv_cycles : 1, d->inv_cycles);
    dev_pool_init(&d->pieces, sizeof(piece));
    dev_pool_init(&d->dmas, sizeof(dma_rec));
    dev_pool_init(&d->invs, sizeof(inv_rec));
    unsigned outstanding = p->outstanding ? p->outstanding : (unsigned)ims_config_u64(cfg, "dev.outstanding");
    int rc = ims_slots_init(&d->out, p->engine, outstanding);
    if (rc) {
        free(d);
        return ims_errorf(err, rc, "%s: outstanding limit must be >= 1", p->name ? p->name : "device");
    }
    rc = register_stats(d, p->stats, err);
    if (!rc && d->ats) {
        if (!p->rng && ims_config_enum(cfg, "devtlb.policy") == IMS_SAC_RANDOM)
            rc = ims_errorf(err, EINVAL, "%s: devtlb.policy=random needs an rng", d->name);
        else
            rc = ims_devtlb_create_cfg(cfg, p->rng, p->stats, &d->tlb, err);
    }
    if (rc) {
        ims_dev_destroy(d);
        return rc;
    }
    *out = d;
    return 0;
}

void ims_dev_destroy(ims_dev *d)
{
    if (!d)
        return;
    ims_devtlb_destroy(d->tlb);
    ims_slots_fini(&d->out);
    dev_pool_fini(&d->pieces);
    dev_pool_fini(&d->dmas);
    dev_pool_fini(&d->invs);
    free(d);
}

uint16_t ims_dev_sid(const ims_dev *d) { return d->sid; }

ims_devtlb *ims_dev_devtlb(ims_dev *d) { return d->tlb; }

unsigned ims_dev_inflight(const ims_dev *d) { return d->waiting + d->active_dmas + d->inv_busy; }

/* ---- pieces ------------------------------------------------------------------------ */

static uint64_t dma_last(const ims_dma *op)
{
    /* A DMA that would wrap past 2^64 is clipped at the top of the space. */
    return op->len - 1 > UINT64_MAX - op->iova ? UINT64_MAX : op->iova + (op->len - 1);
}

static void xlate_done(ims_xlate_req *r);
static void dma_complete(ims_dev *d, dma_rec *rec);

void dev_piece_translate(ims_dev *d, piece *p, ims_vtd_req_type type, uint64_t addr)
{
    const ims_dma *op = p->dma->op;
    memset(&p->xr, 0, sizeof p->xr);
    p->xr.req = (ims_vtd_req){
        .sid = d->sid,
        .has_pasid = op->has_pasid,
        .pasid = op->pasid & 0xFFFFFu,
        .addr = addr,
        .read = !op->write,
        .write = op->write,
        .exec = op->exec,
        .priv = op->priv,
        .type = type,
    };
    p->xr.done = xlate_done;
    p->xr.user = p;
    d->iommu.translate(d->iommu.ctx, &p->xr);
}

static void piece_start(ims_dev *d, dma_rec *rec)
{
    ims_dma *op = rec->op;
    piece *p = dev_pool_get(&d->pieces);
    p->dev = d;
    p->dma = rec;
    p->idx = op->next_piece++;
    p->iova = p->idx == 0 ? op->iova : ((op->iova >> PAGE_SHIFT) + p->idx) << PAGE_SHIFT;
    uint64_t last = dma_last(op);
    uint64_t end = p->iova | (PAGE_SIZE - 1);
    p->bytes = (uint32_t)((end < last ? end : last) - p->iova + 1);
    rec->active++;
    if (d->ats) {
        dev_ats_start(d, p);
    } else {
        p->phase = PH_UNTRANSLATED;
        dev_piece_translate(d, p, IMS_VTD_REQ_UNTRANSLATED, p->iova);
    }
}

/* Keep up to dev.dma_window pieces of the DMA in flight. */
static void issue_pieces(ims_dev *d, dma_rec *rec)
{
    while (!rec->stop && rec->active < d->window && rec->op->next_piece < rec->npieces)
        piece_start(d, rec);
}

static void piece_finish(ims_dev *d, piece *p)
{
    dma_rec *rec = p->dma;
    assert(rec->active > 0);
    rec->active--;
    rec->op->pieces_left--;
    dev_pool_put(&d->pieces, p);
    issue_pieces(d, rec);
    if (rec->active == 0 && (rec->stop || rec->op->next_piece == rec->npieces))
        dma_complete(d, rec);
}

static void piece_data_done(void *ctx, uint64_t arg) { piece_finish(ctx, (piece *)(uintptr_t)arg); }

void dev_piece_fault(ims_dev *d, piece *p, uint8_t fault)
{
    dma_rec *rec = p->dma;
    rec->stop = true;
    if (p->idx < rec->first_fault) {
        rec->first_fault = p->idx;
        rec->op->fault = fault;
    }
    piece_finish(d, p);
}

void dev_piece_translated(ims_dev *d, piece *p, const ims_vtd_result *used)
{
    ims_dma *op = p->dma->op;
    if (p->idx == 0)
        op->pa = used->pa;
    if (op->on_piece)
        op->on_piece(op, p->iova, used);
    ims_cycle now = ims_engine_now(d->engine);
    ims_cycle end;
    if (op->write)
        end = ims_link_transfer(&d->link, IMS_LINK_UP, now, p->bytes) + d->mt->dma_cycles;
    else
        end = ims_link_transfer(&d->link, IMS_LINK_DOWN, now + d->mt->dma_cycles, p->bytes);
    ims_counter_add(d->c_bytes, p->bytes);
    ims_engine_schedule_at(d->engine, end, piece_data_done, d, (uintptr_t)p);
}

/* Completion of any request this device sent to the IOMMU. */
static void xlate_done(ims_xlate_req *r)
{
    piece *p = r->user;
    ims_dev *d = p->dev;
    if (p->phase == PH_ATS) {
        dev_ats_xlate_done(d, p);
        return;
    }
    if (r->res.fault) {
        dev_piece_fault(d, p, r->res.fault);
        return;
    }
    if (p->phase != PH_TRANSLATED) {
        dev_piece_translated(d, p, &r->res);
        return;
    }
    /* Translated request: the IOMMU checked the context; the translation
     * used is the device-TLB's. */
    ims_vtd_result used = r->res;
    used.pa = p->hpa;
    used.page_size = p->used.size;
    used.r = p->used.r;
    used.w = p->used.w;
    used.x = p->used.x;
    used.untranslated = false;
    dev_piece_translated(d, p, &used);
}

/* ---- DMAs -------------------------------------------------------------------------- */

static void empty_dma_done(void *ctx, uint64_t arg) { dma_complete(ctx, (dma_rec *)(uintptr_t)arg); }

static void dma_start(ims_dev *d, ims_dma *op)
{
    assert(d->waiting > 0);
    d->waiting--;
    ims_cycle now = ims_engine_now(d->engine);
    op->t_issue = now;
    if (d->l_wait)
        ims_latency_record(d->l_wait, now - op->t_request);
    dma_rec *rec = dev_pool_get(&d->dmas);
    rec->op = op;
    rec->seq = d->next_seq++;
    rec->first_fault = UINT64_MAX;
    rec->npieces = op->len ? (dma_last(op) >> PAGE_SHIFT) - (op->iova >> PAGE_SHIFT) + 1 : 0;
    rec->prev = d->tail;
    if (d->tail)
        d->tail->next = rec;
    else
        d->head = rec;
    d->tail = rec;
    d->active_dmas++;
    op->next_piece = 0;
    op->pieces_left = rec->npieces;
    if (rec->npieces == 0) /* len 0: nothing to move; complete from an event like any DMA */
        ims_engine_schedule(d->engine, 0, empty_dma_done, d, (uintptr_t)rec);
    else
        issue_pieces(d, rec);
}

static void dma_granted(void *ctx, uint64_t arg) { dma_start(ctx, (ims_dma *)(uintptr_t)arg); }

void ims_dev_dma(ims_dev *d, ims_dma *op)
{
    op->fault = 0;
    op->pa = 0;
    op->t_request = ims_engine_now(d->engine);
    op->t_issue = op->t_done = 0;
    op->next = NULL;
    op->priv_state = 0;
    d->waiting++;
    if (ims_slots_acquire(&d->out, dma_granted, d, (uintptr_t)op))
        dma_start(d, op);
}

static void dma_complete(ims_dev *d, dma_rec *rec)
{
    ims_dma *op = rec->op;
    ims_cycle now = ims_engine_now(d->engine);
    op->t_done = now;
    ims_counter_inc(d->c_count);
    if (op->fault)
        ims_counter_inc(d->c_faults);
    if (d->l_latency)
        ims_latency_record(d->l_latency, now - op->t_request);
    /* Unlink from the in-flight list. */
    if (rec->prev)
        rec->prev->next = rec->next;
    else
        d->head = rec->next;
    if (rec->next)
        rec->next->prev = rec->prev;
    else
        d->tail = rec->prev;
    d->active_dmas--;
    dev_pool_put(&d->dmas, rec);
    ims_slots_release(&d->out);
    dev_ats_check_invs(d);
    if (op->done)
        op->done(op);
}
