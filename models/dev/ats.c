/* ATS at the endpoint: device-TLB use, translation requests over the link,
 * and Invalidate Request handling (see device.h, devtlb.h).
 *
 * Translation: a piece looks its page up in the device-TLB. A hit whose
 * permissions allow the access sends a translated request with the cached
 * HPA. Otherwise an ATS Translation Request crosses the link, the IOMMU
 * answers, the completion crosses back; R or W granted fills the device-TLB,
 * and if the access is allowed the piece sends a translated request. If the
 * completion denies it (no R for a read, no W for a write, or R=W=0), the
 * device sends the piece as an untranslated request instead, so the IOMMU
 * walks, faults and records the fault as for a non-ATS device.
 *
 * Invalidation (PCIe ATS: after the Invalidate Completion no request may use
 * the stale translation):
 *   1. the request arrives after the link latency;
 *   2. matching entries are removed at once, so no DMA started later uses them;
 *   3. the device waits until every DMA in flight at arrival has finished
 *      (they may be using the removed entries; simplest correct rule);
 *   4. it spends dev.ats_inv_ns (one request at a time);
 *   5. the completion (ITag bit, CC=1) crosses the link to the IOMMU.
 * A translation completion for a request sent before an invalidation arrived
 * is still used by its own piece (that DMA is one step 3 waits for) but is not
 * cached: it may predate the invalidation. */
#include <assert.h>

#include "models/dev/dev_internal.h"

#define PAGE_MASK (~UINT64_C(0xFFF))

static ims_cycle now_of(const ims_dev *d) { return ims_engine_now(d->engine); }

/* ---- translation ------------------------------------------------------------------ */

static void send_translated(ims_dev *d, piece *p, const ims_devtlb_entry *e)
{
    p->used = *e;
    p->hpa = e->hpa + (p->iova - e->iova);
    p->phase = PH_TRANSLATED;
    dev_piece_translate(d, p, IMS_VTD_REQ_TRANSLATED, p->hpa);
}

static void ats_req_arrive(void *ctx, uint64_t arg)
{
    piece *p = (piece *)(uintptr_t)arg;
    /* Translation requests name the page (ATS "Page Aligned Request"). */
    dev_piece_translate(ctx, p, IMS_VTD_REQ_TRANSLATION, p->iova & PAGE_MASK);
}

void dev_ats_start(ims_dev *d, piece *p)
{
    const ims_dma *op = p->dma->op;
    const ims_devtlb_entry *e = ims_devtlb_lookup(d->tlb, op->has_pasid, op->pasid, op->priv, p->iova);
    if (e && dev_perm_ok(op, e->r, e->w, e->x)) {
        send_translated(d, p, e);
        return;
    }
    /* Miss, or a cached translation without the needed permission (the
     * mapping may have been upgraded since): ask the IOMMU. */
    p->phase = PH_ATS;
    p->t_ats = now_of(d);
    p->inv_gen = d->inv_arrivals;
    ims_counter_inc(d->c_xlate_req);
    ims_engine_schedule(d->engine, d->link.latency, ats_req_arrive, d, (uintptr_t)p);
}

static bool valid_size(uint64_t s) { return s >= 4096 && (s & (s - 1)) == 0; }

static void ats_cpl_arrive(void *ctx, uint64_t arg)
{
    ims_dev *d = ctx;
    piece *p = (piece *)(uintptr_t)arg;
    const ims_dma *op = p->dma->op;
    const ims_vtd_result *res = &p->xr.res;
    if (d->l_ats)
        ims_latency_record(d->l_ats, now_of(d) - p->t_ats);
    if (!res->fault && (res->r || res->w)) {
        uint64_t size = valid_size(res->page_size) ? res->page_size : 4096;
        ims_devtlb_entry e = {
            .iova = p->iova & ~(size - 1),
            .hpa = res->pa & ~(size - 1),
            .size = size,
            .pasid = op->pasid & 0xFFFFFu,
            .has_pasid = op->has_pasid,
            .priv = op->has_pasid && op->priv,
            .r = res->r,
            .w = res->w,
            .x = res->x,
        };
        if (d->inv_arrivals == p->inv_gen)
            ims_devtlb_insert(d->tlb, &e);
        else
            ims_counter_inc(d->c_fill_skipped);
        if (dev_perm_ok(op, e.r, e.w, e.x)) {
            send_translated(d, p, &e);
            return;
        }
    }
    ims_counter_inc(d->c_xlate_denied);
    p->phase = PH_DENIED;
    dev_piece_translate(d, p, IMS_VTD_REQ_UNTRANSLATED, p->iova);
}

void dev_ats_xlate_done(ims_dev *d, piece *p)
{
    ims_engine_schedule(d->engine, d->link.latency, ats_cpl_arrive, d, (uintptr_t)p);
}

/* ---- invalidation ----------------------------------------------------------------- */

static void inv_deliver(void *ctx, uint64_t arg)
{
    ims_dev *d = ctx;
    inv_rec *r = (inv_rec *)(uintptr_t)arg;
    uint8_t itag = r->m.itag & 31u;
    dev_pool_put(&d->invs, r);
    assert(d->inv_busy > 0);
    d->inv_busy--;
    if (d->iommu.ats_completion)
        d->iommu.ats_completion(d->iommu.ctx, d->sid, UINT32_C(1) << itag, 1);
}

static void inv_processed(void *ctx, uint64_t arg)
{
    ims_dev *d = ctx;
    inv_rec *r = (inv_rec *)(uintptr_t)arg;
    if (d->l_inv)
        ims_latency_record(d->l_inv, now_of(d) - r->t_arrive);
    ims_engine_schedule(d->engine, d->link.latency, inv_deliver, d, arg);
}

void dev_ats_check_invs(ims_dev *d)
{
    while (d->inv_head && (!d->head || d->head->seq >= d->inv_head->threshold)) {
        inv_rec *r = d->inv_head;
        d->inv_head = r->next;
        if (!d->inv_head)
            d->inv_tail = NULL;
        ims_port_issue(&d->inv_port, inv_processed, d, (uintptr_t)r);
    }
}

static void inv_arrive(void *ctx, uint64_t arg)
{
    ims_dev *d = ctx;
    inv_rec *r = (inv_rec *)(uintptr_t)arg;
    ims_counter_inc(d->c_inv_req);
    if (d->drop_inv) {
        ims_counter_inc(d->c_inv_dropped);
        d->inv_busy--;
        dev_pool_put(&d->invs, r);
        return;
    }
    d->inv_arrivals++;
    if (d->tlb && ims_devtlb_invalidate(d->tlb, &r->m, NULL))
        ims_counter_inc(d->c_inv_bad);
    r->t_arrive = now_of(d);
    r->threshold = d->next_seq;
    r->next = NULL;
    if (d->inv_tail)
        d->inv_tail->next = r;
    else
        d->inv_head = r;
    d->inv_tail = r;
    dev_ats_check_invs(d);
}

void ims_dev_ats_inv_request(ims_dev *d, const ims_ats_inv_msg *m)
{
    inv_rec *r = dev_pool_get(&d->invs);
    r->m = *m;
    d->inv_busy++;
    ims_engine_schedule(d->engine, d->link.latency, inv_arrive, d, (uintptr_t)r);
}
