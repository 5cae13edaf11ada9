/* Guest DMA domains: setup through PASID entries, map/unmap with strict or
 * lazy (flush-queue) invalidation, vSVA binds, raw descriptors and the
 * guest's view of a translation (guest.h). */
#include <stdlib.h>
#include <string.h>

#include "models/guest/guest_internal.h"
#include "models/iommufd/vtd_driver.h"
#include "models/vtd/regs.h"

#define MAX_DESC 4u

enum { OP_MAP = 1, OP_UNMAP, OP_BIND, OP_UNBIND };

static void exposure(ims_guest *g, ims_cycle t_clear);

static void done_now(ims_drv_done d, int status)
{
    if (d.fn)
        d.fn(d.ctx, status);
}

/* ---- domains --------------------------------------------------------------------- */

static uint64_t table_alloc(void *opaque)
{
    gdom *dom = opaque;
    if (dom->pending_root) {
        uint64_t r = dom->pending_root;
        dom->pending_root = 0;
        uint8_t zero[IMS_PAGE_SIZE] = {0};
        return ims_guest_write_gpa_(dom->g, r, zero, sizeof zero) ? r : 0;
    }
    return ims_guest_alloc_page_(dom->g);
}

static uint64_t table_to_hpa(void *opaque, uint64_t addr)
{
    gdom *dom = opaque;
    return dom->g->ram_hpa + addr;
}

static gdom *dom_find(ims_guest *g, uint16_t sid, uint32_t pasid)
{
    for (unsigned i = 0; i < g->ndoms; i++)
        if (g->doms[i] && g->doms[i]->sid == sid && g->doms[i]->pasid == pasid)
            return g->doms[i];
    return NULL;
}

static void dom_free(ims_guest *g, gdom *dom)
{
    for (unsigned i = 0; i < g->ndoms; i++)
        if (g->doms[i] == dom)
            g->doms[i] = NULL;
    for (gop *o = dom->waiters; o;) {
        gop *n = o->next;
        free(o);
        o = n;
    }
    free(dom->fq);
    free(dom);
}

void ims_guest_free_domains_(ims_guest *g)
{
    for (unsigned i = 0; i < g->ndoms; i++)
        if (g->doms[i])
            dom_free(g, g->doms[i]);
}

static void run_op(ims_guest *g, gop *o);

static void setup_done(ims_guest *g, void *ctx, int status)
{
    gdom *dom = ctx;
    g->pending--;
    dom->ready = status == 0;
    gop *w = dom->waiters;
    dom->waiters = NULL;
    while (w) {
        gop *n = w->next;
        if (status) {
            done_now(w->done, status);
            free(w);
        } else {
            run_op(g, w);
        }
        w = n;
    }
}

/* A new domain for (sid, pasid): tables, DID, the PASID entry and, under
 * caching mode, a PASID-selective PASID-cache invalidation plus the
 * PASID-based (first stage) or domain (second stage) IOTLB invalidation. */
static gdom *dom_create(ims_guest *g, gdev *d, uint32_t pasid, bool sva, uint64_t root, unsigned levels,
                        ims_error *err)
{
    gdom *dom = calloc(1, sizeof *dom);
    if (!dom) {
        ims_errorf(err, ENOMEM, "guest: out of memory");
        return NULL;
    }
    dom->g = g;
    dom->sid = d->sid;
    dom->pasid = pasid;
    dom->sva = sva;
    dom->fs = g->nested;
    dom->did = g->next_did++;
    dom->pending_root = root;
    ims_pt_space sp = {.alloc = table_alloc, .to_hpa = table_to_hpa, .opaque = dom};
    if (ims_pt_builder_init_space(&dom->pt, g->mem, &sp, dom->fs ? IMS_PT_FORMAT_FS : IMS_PT_FORMAT_SS, levels,
                                  err)) {
        free(dom);
        return NULL;
    }
    if (ims_guest_write_pasid_entry_(g, d, dom, true)) {
        free(dom);
        ims_errorf(err, ENOMEM, "vm %u: guest.pt_pool is too small for the guest's tables", g->vm);
        return NULL;
    }
    unsigned slot = g->ndoms;
    for (unsigned i = 0; i < g->ndoms; i++)
        if (!g->doms[i]) {
            slot = i;
            break;
        }
    if (slot == g->ndoms) {
        if (g->ndoms == g->doms_cap) {
            unsigned cap = g->doms_cap ? 2 * g->doms_cap : 8;
            gdom **n = realloc(g->doms, cap * sizeof *n);
            if (!n) {
                free(dom);
                ims_errorf(err, ENOMEM, "guest: out of memory");
                return NULL;
            }
            g->doms = n;
            g->doms_cap = cap;
        }
        g->ndoms++;
    }
    g->doms[slot] = dom;
    uint64_t desc[2][4];
    ims_qi_build_pc_pasid(desc[0], dom->did, pasid);
    if (dom->fs)
        ims_qi_build_piotlb_pasid(desc[1], dom->did, pasid);
    else
        ims_qi_build_iotlb_dsi(desc[1], dom->did, false, false);
    g->pending++;
    int rc = ims_guest_submit_(g, (const uint64_t(*)[4])desc, 2, true, setup_done, dom);
    if (rc) {
        g->pending--;
        dom_free(g, dom);
        ims_errorf(err, -rc, "guest: cannot queue invalidations");
        return NULL;
    }
    return dom;
}

/* The RID's domain (guest PASID 0), created on first use. */
static gdom *dom_get(ims_guest *g, uint16_t sid, uint32_t pasid, ims_error *err)
{
    gdev *d = ims_guest_dev_(g, sid);
    if (!d) {
        ims_errorf(err, ENOENT, "device sid=0x%04x is not assigned to vm %u", sid, g->vm);
        return NULL;
    }
    gdom *dom = dom_find(g, sid, pasid == IMS_GUEST_NO_PASID ? 0 : pasid);
    if (dom)
        return dom;
    if (pasid != IMS_GUEST_NO_PASID) {
        ims_errorf(err, ENOENT, "pasid=%u of device sid=0x%04x is not bound (guest.pasid_bind first)", pasid, sid);
        return NULL;
    }
    return dom_create(g, d, 0, false, 0, 4, err);
}

/* ---- invalidation descriptors ------------------------------------------------------- */

/* Range [iova, iova+len) of a domain: first-stage -> PASID-based IOTLB,
 * second-stage -> IOTLB (domain-selective beyond the vIOMMU's CAP.MAMV); device-TLB when
 * asked and the device has one (vtd-facts §4.12, iommufd-facts §2.7). */
static unsigned range_descs(ims_guest *g, const gdom *dom, bool whole, uint64_t iova, uint64_t len, bool devtlb,
                            uint64_t out[MAX_DESC][4])
{
    unsigned n = 0;
    uint64_t addr = 0;
    unsigned mask = whole ? 52 : ims_vtd_drv_psi_mask(iova, iova + len - 1, &addr);
    if (mask >= 52)
        addr = 0;
    if (dom->fs) {
        if (mask >= 52)
            ims_qi_build_piotlb_pasid(out[n++], dom->did, dom->pasid);
        else
            ims_qi_build_piotlb_page(out[n++], dom->did, dom->pasid, addr, mask, false);
    } else if (mask > ims_vtd_cap_mamv(ims_vmm_viommu_cap(g->vmm))) {
        ims_qi_build_iotlb_dsi(out[n++], dom->did, false, false);
    } else {
        ims_qi_build_iotlb_psi(out[n++], dom->did, addr, mask, false, false, false);
    }
    const gdev *d = ims_guest_dev_(g, dom->sid);
    if (devtlb && d && d->ats) {
        if (dom->pasid == 0)
            ims_qi_build_dev_tlb(out[n++], dom->sid, 0, 0, addr, mask);
        else
            ims_qi_build_pdev_tlb(out[n++], dom->sid, 0, 0, dom->pasid, false, addr, mask);
    }
    return n;
}

/* ---- map --------------------------------------------------------------------------------- */

static void op_done_cb(ims_guest *g, void *ctx, int status)
{
    gop *o = ctx;
    if (o->kind == OP_UNMAP && !g->lazy && status == 0)
        exposure(g, o->t_clear); /* strict: the unmap's own invalidation */
    done_now(o->done, status);
    free(o);
}

static void op_event(void *ctx, uint64_t arg)
{
    gop *o = ctx;
    o->g->pending--;
    done_now(o->done, (int)(int64_t)arg);
    free(o);
}

static void finish_after(ims_guest *g, gop *o, uint64_t cycles, int status)
{
    g->pending++;
    if (!ims_engine_schedule(g->engine, cycles, op_event, o, (uint64_t)(int64_t)status))
        abort();
}

static void submit_event(void *ctx, uint64_t arg)
{
    (void)arg;
    gop *o = ctx;
    ims_guest *g = o->g;
    g->pending--;
    int rc = ims_guest_submit_(g, (const uint64_t(*)[4])o->desc, o->ndesc, true, op_done_cb, o);
    if (rc)
        finish_after(g, o, 0, rc);
}

/* After `cycles` of guest work, submit o's descriptors; o completes with them. */
static void submit_after(ims_guest *g, gop *o, uint64_t cycles)
{
    g->pending++;
    if (!ims_engine_schedule(g->engine, cycles, submit_event, o, 0))
        abort();
}

static bool fq_overlaps(const gdom *dom, uint64_t iova, uint64_t len)
{
    for (unsigned i = 0; i < dom->nfq; i++)
        if (dom->fq[i].iova < iova + len && iova < dom->fq[i].iova + dom->fq[i].len)
            return true;
    return false;
}

static void fq_flush(ims_guest *g, gdom *dom, gop *waiter);

static void do_map(ims_guest *g, gop *o)
{
    gdom *dom = g->doms[o->dom];
    if (g->lazy && fq_overlaps(dom, o->iova, o->len)) {
        if (g->c_forced)
            ims_counter_inc(g->c_forced);
        fq_flush(g, dom, o); /* the map runs again when the flush is through */
        return;
    }
    unsigned perm = dom->fs ? IMS_PT_U | (o->write ? IMS_PT_W : 0)
                            : (o->read ? IMS_PT_R : 0) | (o->write ? IMS_PT_W : 0);
    uint64_t leaves = 0;
    /* iommu_map's choice: the largest page that alignment and length allow */
    for (uint64_t off = 0; off < o->len; leaves++) {
        uint64_t iova = o->iova + off, gpa = o->gpa + off, left = o->len - off, pg = IMS_PAGE_SIZE;
        static const uint64_t sizes[] = {UINT64_C(1) << 30, UINT64_C(1) << 21};
        for (unsigned i = 0; i < 2 && pg == IMS_PAGE_SIZE; i++)
            if (!((iova | gpa) & (sizes[i] - 1)) && left >= sizes[i])
                pg = sizes[i];
        int rc = ims_pt_map(&dom->pt, iova, gpa, pg, pg, perm, NULL);
        if (rc) {
            if (off)
                ims_pt_unmap(&dom->pt, o->iova, off, NULL);
            finish_after(g, o, 0, rc);
            return;
        }
        off += pg;
    }
    if (g->c_maps)
        ims_counter_inc(g->c_maps);
    uint64_t cost = g->c_map + g->c_pte * leaves;
    if (dom->fs) {
        finish_after(g, o, cost, 0);
        return;
    }
    /* Caching mode with second-stage tables: a new mapping is invalidated
     * too (iommufd-facts §2.8 cache_tag_flush_range_np), no device-TLB. */
    o->ndesc = range_descs(g, dom, false, o->iova, o->len, false, o->desc);
    submit_after(g, o, cost);
}

/* ---- unmap and the flush queue ------------------------------------------------------------ */

typedef struct fq_flush_ctx {
    fq_entry *e;
    unsigned n;
    gop *waiter;
} fq_flush_ctx;

static void exposure(ims_guest *g, ims_cycle t_clear)
{
    if (g->l_exposure)
        ims_latency_record(g->l_exposure, ims_engine_now(g->engine) - t_clear);
}

static void fq_flush_done(ims_guest *g, void *ctx, int status)
{
    fq_flush_ctx *f = ctx;
    for (unsigned i = 0; i < f->n; i++)
        exposure(g, f->e[i].t_clear);
    free(f->e);
    gop *w = f->waiter;
    free(f);
    if (!w)
        return;
    if (status || w->kind != OP_MAP)
        op_done_cb(g, w, status);
    else
        do_map(g, w);
}

/* One domain-wide invalidation for everything queued (Linux's flush queue
 * flushes the whole domain's IOTLB and device-TLB). */
static void fq_flush(ims_guest *g, gdom *dom, gop *waiter)
{
    fq_flush_ctx *f = calloc(1, sizeof *f);
    if (!f)
        abort();
    f->e = dom->fq;
    f->n = dom->nfq;
    f->waiter = waiter;
    dom->fq = NULL;
    dom->nfq = dom->fq_cap = 0;
    if (g->c_flushes)
        ims_counter_inc(g->c_flushes);
    uint64_t desc[MAX_DESC][4];
    unsigned n = range_descs(g, dom, true, 0, 0, true, desc);
    int rc = ims_guest_submit_(g, (const uint64_t(*)[4])desc, n, true, fq_flush_done, f);
    if (rc)
        fq_flush_done(g, f, rc);
}

static void fq_timer(void *ctx, uint64_t arg)
{
    (void)arg;
    gdom *dom = ctx;
    ims_guest *g = dom->g;
    g->pending--;
    dom->fq_timer = 0;
    if (dom->nfq)
        fq_flush(g, dom, NULL);
}

static void do_unmap(ims_guest *g, gop *o)
{
    gdom *dom = g->doms[o->dom];
    ims_pt_mapping m;
    if (ims_pt_lookup(&dom->pt, o->iova, &m)) {
        finish_after(g, o, 0, -ENOENT);
        return;
    }
    uint64_t leaves = 0;
    for (uint64_t a = o->iova; a < o->iova + o->len;) {
        if (ims_pt_lookup(&dom->pt, a, &m) == 0) {
            leaves++;
            a = m.iova + m.page_size;
        } else {
            a += IMS_PAGE_SIZE;
        }
    }
    int64_t rc = ims_pt_unmap(&dom->pt, o->iova, o->len, NULL);
    if (rc < 0) {
        finish_after(g, o, 0, (int)rc);
        return;
    }
    if (g->c_unmaps)
        ims_counter_inc(g->c_unmaps);
    o->t_clear = ims_engine_now(g->engine);
    uint64_t cost = g->c_map + g->c_pte * leaves;
    if (!g->lazy) {
        o->ndesc = range_descs(g, dom, false, o->iova, o->len, true, o->desc);
        submit_after(g, o, cost);
        return;
    }
    if (dom->nfq == dom->fq_cap) {
        unsigned cap = dom->fq_cap ? 2 * dom->fq_cap : 16;
        fq_entry *n = realloc(dom->fq, cap * sizeof *n);
        if (!n)
            abort();
        dom->fq = n;
        dom->fq_cap = cap;
    }
    dom->fq[dom->nfq++] = (fq_entry){.iova = o->iova, .len = o->len, .t_clear = o->t_clear};
    if (dom->nfq >= g->fq_limit) {
        fq_flush(g, dom, o); /* the unmap that fills the queue pays for the flush */
        return;
    }
    if (!dom->fq_timer) {
        g->pending++;
        dom->fq_timer = ims_engine_schedule(g->engine, g->fq_timeout, fq_timer, dom, 0);
    }
    finish_after(g, o, cost, 0);
}

static void run_op(ims_guest *g, gop *o)
{
    if (o->kind == OP_MAP)
        do_map(g, o);
    else if (o->kind == OP_UNMAP)
        do_unmap(g, o);
    else
        finish_after(g, o, 0, 0);
}

static gop *op_new(ims_guest *g, int kind, gdom *dom, ims_drv_done done, ims_error *err)
{
    gop *o = calloc(1, sizeof *o);
    if (!o) {
        ims_errorf(err, ENOMEM, "guest: out of memory");
        return NULL;
    }
    o->g = g;
    o->kind = kind;
    o->done = done;
    o->dom = -1;
    for (unsigned i = 0; dom && i < g->ndoms; i++)
        if (g->doms[i] == dom)
            o->dom = (int)i;
    return o;
}

static void start_op(ims_guest *g, gdom *dom, gop *o)
{
    if (dom->ready) {
        run_op(g, o);
        return;
    }
    gop **pp = &dom->waiters; /* FIFO: operations run in issue order once the domain is up */
    while (*pp)
        pp = &(*pp)->next;
    o->next = NULL;
    *pp = o;
}

static int check_range(ims_guest *g, const char *what, uint64_t iova, uint64_t len, ims_error *err)
{
    if ((iova | len) & (IMS_PAGE_SIZE - 1) || len == 0)
        return ims_errorf(err, EINVAL, "%s: iova=0x%llx len=0x%llx must be 4 KiB aligned and non-empty", what,
                          (unsigned long long)iova, (unsigned long long)len);
    if (iova + len < iova || iova + len > (UINT64_C(1) << 48))
        return ims_errorf(err, EINVAL, "%s: iova range [0x%llx, +0x%llx) is beyond the guest's 48-bit IOVA space",
                          what, (unsigned long long)iova, (unsigned long long)len);
    (void)g;
    return 0;
}

int ims_guest_map(ims_guest *g, uint16_t sid, uint32_t pasid, uint64_t iova, uint64_t gpa, uint64_t len, bool read,
                  bool write, ims_drv_done done, ims_error *err)
{
    int rc = check_range(g, "guest.map", iova, len, err);
    if (rc)
        return rc;
    if (gpa & (IMS_PAGE_SIZE - 1) || gpa >= g->pool_gpa || len > g->pool_gpa - gpa)
        return ims_errorf(err, EINVAL,
                          "guest.map: gpa=0x%llx len=0x%llx must be 4 KiB aligned and below 0x%llx (vm %u RAM minus "
                          "guest.pt_pool)",
                          (unsigned long long)gpa, (unsigned long long)len, (unsigned long long)g->pool_gpa, g->vm);
    gdom *dom = dom_get(g, sid, pasid, err);
    if (!dom)
        return err ? -abs(err->code) : -EINVAL;
    if (dom->ready) {
        ims_pt_mapping m;
        for (uint64_t a = iova; a < iova + len; a += IMS_PAGE_SIZE)
            if (ims_pt_lookup(&dom->pt, a, &m) == 0)
                return ims_errorf(err, EEXIST, "guest.map: iova=0x%llx is already mapped (to gpa 0x%llx)",
                                  (unsigned long long)a, (unsigned long long)(m.pa + (a - m.iova)));
    }
    gop *o = op_new(g, OP_MAP, dom, done, err);
    if (!o)
        return -ENOMEM;
    o->iova = iova;
    o->gpa = gpa;
    o->len = len;
    o->read = read;
    o->write = write;
    start_op(g, dom, o);
    return 0;
}

int ims_guest_unmap(ims_guest *g, uint16_t sid, uint32_t pasid, uint64_t iova, uint64_t len, ims_drv_done done,
                    ims_error *err)
{
    int rc = check_range(g, "guest.unmap", iova, len, err);
    if (rc)
        return rc;
    gdom *dom = dom_find(g, sid, pasid == IMS_GUEST_NO_PASID ? 0 : pasid);
    if (!dom)
        return ims_errorf(err, ENOENT, "guest.unmap: device sid=0x%04x has no DMA domain for %s in vm %u", sid,
                          pasid == IMS_GUEST_NO_PASID ? "its RID" : "that pasid", g->vm);
    if (dom->ready) {
        ims_pt_mapping m;
        if (ims_pt_lookup(&dom->pt, iova, &m))
            return ims_errorf(err, ENOENT, "guest.unmap: iova=0x%llx is not mapped", (unsigned long long)iova);
        if (m.iova < iova)
            return ims_errorf(err, EINVAL, "guest.unmap: iova=0x%llx is inside a %llu KiB page at 0x%llx",
                              (unsigned long long)iova, (unsigned long long)(m.page_size >> 10),
                              (unsigned long long)m.iova);
    }
    gop *o = op_new(g, OP_UNMAP, dom, done, err);
    if (!o)
        return -ENOMEM;
    o->iova = iova;
    o->len = len;
    start_op(g, dom, o);
    return 0;
}

/* ---- vSVA -------------------------------------------------------------------------------- */

int ims_guest_pasid_bind(ims_guest *g, uint16_t sid, uint32_t pasid, uint64_t s1_gpa, unsigned aw,
                         ims_drv_done done, ims_error *err)
{
    if (!g->nested)
        return ims_errorf(err, EOPNOTSUPP,
                          "guest.pasid_bind: vSVA needs mode=nested (a shadowing VMM never learns of first-stage "
                          "mappings, which caching mode does not make the guest invalidate)");
    gdev *d = ims_guest_dev_(g, sid);
    if (!d)
        return ims_errorf(err, ENOENT, "device sid=0x%04x is not assigned to vm %u", sid, g->vm);
    if (pasid == 0 || pasid == IMS_GUEST_NO_PASID || d->pasid_bits == 0 || pasid >= (UINT32_C(1) << d->pasid_bits))
        return ims_errorf(err, EINVAL, "guest.pasid_bind: pasid=%u is outside device sid=0x%04x's %u PASID bits "
                                       "(PASID 0 is the RID's)", pasid, sid, d->pasid_bits);
    if (dom_find(g, sid, pasid))
        return ims_errorf(err, EEXIST, "guest.pasid_bind: pasid=%u of sid=0x%04x is already bound", pasid, sid);
    if (s1_gpa & (IMS_PAGE_SIZE - 1) || s1_gpa >= g->pool_gpa)
        return ims_errorf(err, EINVAL, "guest.pasid_bind: s1_pgtbl=0x%llx must be a 4 KiB aligned GPA below 0x%llx",
                          (unsigned long long)s1_gpa, (unsigned long long)g->pool_gpa);
    if (aw != 48 && aw != 57)
        return ims_errorf(err, EINVAL, "guest.pasid_bind: s1_aw=%u (48 or 57)", aw);
    gdom *dom = dom_create(g, d, pasid, true, s1_gpa, aw == 57 ? 5 : 4, err);
    if (!dom)
        return err ? -abs(err->code) : -ENOMEM;
    gop *o = op_new(g, OP_BIND, dom, done, err);
    if (!o)
        return -ENOMEM;
    start_op(g, dom, o);
    return 0;
}

static void unbind_done(ims_guest *g, void *ctx, int status)
{
    gop *o = ctx;
    gdom *dom = o->dom >= 0 ? g->doms[o->dom] : NULL;
    if (dom)
        dom_free(g, dom);
    op_done_cb(g, o, status);
}

int ims_guest_pasid_unbind(ims_guest *g, uint16_t sid, uint32_t pasid, ims_drv_done done, ims_error *err)
{
    gdom *dom = pasid == IMS_GUEST_NO_PASID ? NULL : dom_find(g, sid, pasid);
    if (!dom || !dom->sva)
        return ims_errorf(err, ENOENT, "guest.pasid_unbind: pasid=%u of sid=0x%04x is not bound in vm %u", pasid,
                          sid, g->vm);
    if (!dom->ready)
        return ims_errorf(err, EBUSY, "guest.pasid_unbind: pasid=%u of sid=0x%04x is still being bound", pasid, sid);
    gdev *d = ims_guest_dev_(g, sid);
    gop *o = op_new(g, OP_UNBIND, dom, done, err);
    if (!o)
        return -ENOMEM;
    if (dom->fq_timer && ims_engine_cancel(g->engine, dom->fq_timer))
        g->pending--;
    dom->fq_timer = 0;
    dom->ready = false;
    ims_guest_write_pasid_entry_(g, d, dom, false);
    /* Tearing down a PASID entry (vtd-facts §4.12): PASID-cache, PASID-based
     * IOTLB and device-TLB invalidations. */
    uint64_t desc[MAX_DESC + 1][4];
    ims_qi_build_pc_pasid(desc[0], dom->did, pasid);
    unsigned n = 1 + range_descs(g, dom, true, 0, 0, true, desc + 1);
    int rc = ims_guest_submit_(g, (const uint64_t(*)[4])desc, n, true, unbind_done, o);
    if (rc) {
        free(o);
        return ims_errorf(err, -rc, "guest: cannot queue invalidations");
    }
    return 0;
}

/* ---- raw descriptors ------------------------------------------------------------------------- */

int ims_guest_qi(ims_guest *g, const uint64_t qw[4], ims_drv_done done, ims_error *err)
{
    gop *o = op_new(g, 0, NULL, done, err);
    if (!o)
        return -ENOMEM;
    uint64_t d[1][4] = {{qw[0], qw[1], qw[2], qw[3]}};
    int rc = ims_guest_submit_(g, (const uint64_t(*)[4])d, 1, false, op_done_cb, o);
    if (rc) {
        free(o);
        return ims_errorf(err, -rc, "guest.qi: cannot queue the descriptor");
    }
    return 0;
}

int ims_guest_qi_sync(ims_guest *g, ims_drv_done done, ims_error *err)
{
    gop *o = op_new(g, 0, NULL, done, err);
    if (!o)
        return -ENOMEM;
    int rc = ims_guest_submit_(g, NULL, 0, true, op_done_cb, o);
    if (rc) {
        free(o);
        return ims_errorf(err, -rc, "guest.qi_sync: cannot queue the wait descriptor");
    }
    return 0;
}

/* ---- the guest's view ---------------------------------------------------------------------- */

int ims_guest_translate(ims_guest *g, uint16_t sid, uint32_t pasid, uint64_t iova, uint64_t *hpa, bool *writable,
                        uint64_t *t_change)
{
    gdom *dom = dom_find(g, sid, pasid == IMS_GUEST_NO_PASID ? 0 : pasid);
    *t_change = 0;
    if (!dom || !dom->ready)
        return -1;
    for (unsigned level = dom->pt.levels; level >= 1; level--) {
        uint64_t e;
        if (ims_pt_entry_hpa(&dom->pt, iova, level, &e))
            break;
        uint64_t t = ims_physmem_last_write(g->mem, e);
        if (t > *t_change)
            *t_change = t;
    }
    ims_pt_mapping m;
    if (ims_pt_lookup(&dom->pt, iova, &m))
        return 0;
    *hpa = g->ram_hpa + m.pa + (iova - m.iova);
    *writable = (m.perm & IMS_PT_W) != 0;
    return 1;
}
