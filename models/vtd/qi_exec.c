/* Queued-invalidation engine: what each descriptor does (VT-d 5.10 §6.5.2.1-8,
 * Tables 23/24; vtd-facts §4.2-§4.9), register-based invalidation (§6.5.1),
 * and the ATS side of device-TLB invalidation: ITags, requests, completions,
 * time-outs (vtd-facts §6.2, §6.3; spec §6.5.2.11).
 *
 * Every cache removal bumps caches->inv_epoch, so a walk that overlapped it
 * does not fill its (possibly stale) result into a cache. */
#include <stdlib.h>

#include "models/vtd/qi_internal.h"
#include "models/vtd/regs.h"

/* ---- cache effects shared by the queue and the registers -------------------- */

static void removed(ims_qi *q, size_t n)
{
    ims_counter_add(q->c_removed, n);
    q->caches->inv_epoch++;
}

/* Context cache, global / domain / device (type 1 G, CCMD CAIG). The cache
 * treats scalable-mode entries as untagged by DID (ctx_cache.h), which gives
 * the spec's "domain-selective is global when TTM=01b". */
static void cc_inv(ims_qi *q, unsigned g, uint16_t did, uint16_t sid, unsigned fm)
{
    ims_ctxc *c = q->caches->ctxc;
    size_t n = 0;
    switch (g) {
    case IMS_QI_CC_GLOBAL: n = ims_ctxc_inv_global(c); break;
    case IMS_QI_CC_DOMAIN_SELECTIVE: n = ims_ctxc_inv_domain(c, did); break;
    case IMS_QI_CC_DEVICE_SELECTIVE: n = ims_ctxc_inv_device(c, sid, fm); break;
    default: return;
    }
    removed(q, n);
}

/* IOTLB + paging-structure caches, type 2 / IOTLB register (Table 23). */
static void iotlb_inv(ims_qi *q, unsigned g, uint16_t did, uint64_t addr, unsigned am, bool ih)
{
    ims_iotlb *t = q->caches->iotlb;
    ims_psc *p = q->caches->psc;
    size_t n = 0;
    switch (g) {
    case IMS_QI_IOTLB_GLOBAL: n = ims_iotlb_inv_global(t) + ims_psc_inv_global(p); break;
    case IMS_QI_IOTLB_DOMAIN_SELECTIVE: n = ims_iotlb_inv_domain(t, did) + ims_psc_inv_domain(p, did); break;
    case IMS_QI_IOTLB_PAGE_SELECTIVE:
        n = ims_iotlb_inv_page(t, did, addr, am, ih) + ims_psc_inv_page(p, did, addr, am, ih);
        break;
    default: return;
    }
    removed(q, n);
}

void ims_qi_apply_(ims_qi *q, const ims_qi_desc *d)
{
    ims_vtd_caches *c = q->caches;
    switch (d->type) {
    case IMS_QI_TYPE_CC:
        cc_inv(q, d->cc.g, d->cc.did, d->cc.sid, d->cc.fm);
        break;
    case IMS_QI_TYPE_IOTLB:
        /* DR/DW: VER >= 2 hardware always drains (§6.5.2.3); the wait's drain covers it. */
        iotlb_inv(q, d->iotlb.g, d->iotlb.did, d->iotlb.addr, d->iotlb.am, d->iotlb.ih);
        break;
    case IMS_QI_TYPE_PIOTLB: {
        const ims_qi_piotlb *p = &d->piotlb;
        if (p->g == IMS_QI_PIOTLB_PASID_SELECTIVE)
            removed(q, ims_iotlb_inv_pasid(c->iotlb, p->did, p->pasid) + ims_psc_inv_pasid(c->psc, p->did, p->pasid));
        else
            removed(q, ims_iotlb_inv_pasid_page(c->iotlb, p->did, p->pasid, p->addr, p->am, p->ih) +
                           ims_psc_inv_pasid_page(c->psc, p->did, p->pasid, p->addr, p->am, p->ih));
        break;
    }
    case IMS_QI_TYPE_PC:
        switch (d->pc.g) {
        case IMS_QI_PC_DOMAIN_SELECTIVE: removed(q, ims_pasidc_inv_domain(c->pasidc, d->pc.did)); break;
        case IMS_QI_PC_PASID_SELECTIVE: removed(q, ims_pasidc_inv_pasid(c->pasidc, d->pc.did, d->pc.pasid)); break;
        case IMS_QI_PC_GLOBAL: removed(q, ims_pasidc_inv_global(c->pasidc)); break;
        }
        break;
    default:
        /* IEC (no interrupt-entry cache is modelled) and page-group responses
         * (no page-request model yet): cost only. */
        break;
    }
}

/* ---- register-based invalidation (§6.5.1) ------------------------------------
 * The register file reports completion within the MMIO write (ICC/IVT read 0
 * at once), so the removal is applied at once and no time is charged. */

void ims_qi_reg_ccmd(ims_qi *q, uint64_t ccmd)
{
    ims_counter_inc(q->c_reg_ccmd);
    /* CAIG is the granularity actually performed; the CCMD encodings equal the descriptor's G. */
    cc_inv(q, ims_vtd_ccmd_caig(ccmd), (uint16_t)ims_vtd_ccmd_did(ccmd), (uint16_t)ims_vtd_ccmd_sid(ccmd),
           ims_vtd_ccmd_fm(ccmd));
}

void ims_qi_reg_iotlb(ims_qi *q, uint64_t iva, uint64_t iotlb)
{
    ims_counter_inc(q->c_reg_iotlb);
    iotlb_inv(q, ims_vtd_iotlb_iaig(iotlb), (uint16_t)ims_vtd_iotlb_did(iotlb), ims_vtd_iva_addr(iva),
              ims_vtd_iva_am(iva), ims_vtd_iva_ih(iva));
}

/* ---- ATS: ITags, requests, completions, time-outs ----------------------------- */

static qi_atsdev *dev_find(ims_qi *q, uint16_t sid, bool add, unsigned *idx)
{
    for (unsigned i = 0; i < q->ndevs; i++)
        if (q->devs[i].sid == sid) {
            *idx = i;
            return &q->devs[i];
        }
    if (!add)
        return NULL;
    if (q->ndevs == q->devs_cap) {
        unsigned ncap = q->devs_cap ? q->devs_cap * 2 : 8;
        qi_atsdev *n = realloc(q->devs, ncap * sizeof *n);
        if (!n)
            return NULL;
        q->devs = n;
        q->devs_cap = ncap;
    }
    qi_atsdev *d = &q->devs[q->ndevs];
    *d = (qi_atsdev){.sid = sid};
    *idx = q->ndevs++;
    return d;
}

static uint16_t dtlb_sid(const ims_qi_desc *d)
{
    return d->type == IMS_QI_TYPE_DEV_TLB ? d->dev_tlb.sid : d->pdev_tlb.sid;
}

bool ims_qi_itag_alloc_(ims_qi *q, qi_rec *r, uint64_t seq)
{
    unsigned idx = 0;
    qi_atsdev *d = dev_find(q, dtlb_sid(&r->d), true, &idx);
    if (!d || d->busy == UINT32_MAX)
        return false;
    unsigned t = d->next;
    while (d->busy & (UINT32_C(1) << t))
        t = (t + 1) % QI_NTAGS;
    d->next = (t + 1) % QI_NTAGS;
    d->busy |= UINT32_C(1) << t;
    d->owner[t] = seq;
    d->got[t] = 0;
    d->timer[t] = 0;
    r->ats_dev = (uint16_t)idx;
    r->itag = (uint8_t)t;
    return true;
}

/* The ITag's request is finished (answered or timed out): free it and let the
 * descriptor complete. */
static void itag_release(ims_qi *q, qi_atsdev *d, unsigned t)
{
    d->busy &= ~(UINT32_C(1) << t);
    ims_engine_cancel(q->engine, d->timer[t]);
    d->timer[t] = 0;
    qi_rec *r = ims_qi_rec_(q, d->owner[t]);
    if (r && r->ats_left && --r->ats_left == 0)
        r->done = true;
    if (q->exec_blocked)
        ims_qi_exec_kick_(q);
    ims_qi_retire_(q);
}

static void ats_timeout(void *ctx, uint64_t arg)
{
    ims_qi *q = ctx;
    unsigned idx = (unsigned)(arg / QI_NTAGS), t = (unsigned)(arg % QI_NTAGS);
    if (idx >= q->ndevs)
        return;
    qi_atsdev *d = &q->devs[idx];
    if (!(d->busy & (UINT32_C(1) << t)))
        return;
    d->timer[t] = 0; /* this event is running: nothing to cancel */
    ims_counter_inc(q->c_ats_timeouts);
    ims_counter_inc(q->c_ite);
    /* Abort first: the waits behind this descriptor must not complete when it
     * is released below. */
    ims_qi_abort_waits_(q);
    ims_vtd_regfile_raise_ite(q->rf, d->sid);
    itag_release(q, d, t);
}

void ims_qi_ats_send_(ims_qi *q, qi_rec *r, uint64_t seq)
{
    qi_atsdev *d = &q->devs[r->ats_dev];
    unsigned t = r->itag;
    ims_ats_inv_msg m = {.itag = (uint8_t)t};
    (void)seq;
    if (r->d.type == IMS_QI_TYPE_DEV_TLB) {
        m.sid = r->d.dev_tlb.sid;
        m.addr = r->d.dev_tlb.addr;
        m.s = r->d.dev_tlb.s;
    } else {
        const ims_qi_pdev_tlb *p = &r->d.pdev_tlb;
        m.sid = p->sid;
        m.has_pasid = true;
        m.pasid = p->pasid;
        m.global = p->gi;
        m.addr = p->addr;
        m.s = p->s;
    }
    /* State first: the endpoint may answer from inside send_inv. */
    r->ats_left = 1;
    d->t_sent[t] = ims_engine_now(q->engine);
    d->timer[t] = ims_engine_schedule(q->engine, q->ats_timeout, ats_timeout, q,
                                      (uint64_t)r->ats_dev * QI_NTAGS + t);
    ims_counter_inc(q->c_ats_sent);
    /* An undeliverable request is never answered: it times out (ITE). */
    if (!q->ats.send_inv || !q->ats.send_inv(q->ats.ctx, &m))
        ims_counter_inc(q->c_ats_undeliverable);
}

void ims_qi_ats_completion(ims_qi *q, uint16_t sid, uint32_t itag_vector, unsigned cc)
{
    unsigned idx = 0;
    qi_atsdev *d = dev_find(q, sid, false, &idx);
    bool unexpected = itag_vector == 0;
    for (unsigned t = 0; t < QI_NTAGS; t++) {
        uint32_t bit = UINT32_C(1) << t;
        if (!(itag_vector & bit))
            continue;
        if (!d || !(d->busy & bit)) {
            unexpected = true;
            continue;
        }
        /* The requester counts completions per ITag modulo 8 and is done when
         * the count equals CC (0 meaning 8), vtd-facts §6.3. */
        d->got[t]++;
        if ((d->got[t] & 7u) != (cc & 7u))
            continue;
        ims_counter_inc(q->c_ats_done);
        q->time.ats_cycles += ims_engine_now(q->engine) - d->t_sent[t];
        if (q->l_ats)
            ims_latency_record(q->l_ats, ims_engine_now(q->engine) - d->t_sent[t]);
        itag_release(q, d, t);
        d = &q->devs[idx]; /* releasing may start a descriptor that grew q->devs */
    }
    if (unexpected) {
        /* ICE: recorded; the queue goes on (§6.5.2.11). */
        ims_counter_inc(q->c_ice);
        ims_vtd_regfile_raise_ice(q->rf, sid);
    }
}

void ims_qi_ats_cancel_all_(ims_qi *q)
{
    for (unsigned i = 0; i < q->ndevs; i++)
        for (unsigned t = 0; t < QI_NTAGS; t++)
            if (q->devs[i].busy & (UINT32_C(1) << t))
                ims_engine_cancel(q->engine, q->devs[i].timer[t]);
}
