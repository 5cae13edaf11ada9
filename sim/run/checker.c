/* The coherence checker: each used translation against the golden walk, with
 * the invalidation-wait rule of checker.h. */
#include "sim/run/checker.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "models/dev/ats_range.h"
#include "models/vtd/qi.h"

#define IMS_CHECKER_DEV_TEXT 80

typedef struct ck_entry {
    ims_cycle t;          /* completion time */
    ims_qi_desc d;
} ck_entry;

typedef struct ck_unit {
    ims_checker *c;
    unsigned index;
    ims_vtd_unit *u;
    /* synchronisation points */
    bool any_wait;
    ims_cycle last_wait;
    /* recent descriptors, a ring over the last `history` completions */
    ck_entry *ring;
    uint64_t completed;   /* descriptors ever recorded */
    /* root pointer / TE as last seen, and when they were first seen changed */
    bool hw_seen, hw_te;
    uint64_t hw_rtaddr;
    ims_cycle hw_change;
} ck_unit;

#define CK_VM_SYNCS 64u

/* A guest map/unmap (ims_checker_guest_op_begin), in flight or recently
 * ended: a fault is checked after the fact with its DMA's issue time. */
typedef struct ck_gop {
    const void *op;
    uint16_t sid;
    bool has_pasid;
    uint32_t pasid;
    uint64_t first, last;
    ims_cycle end; /* IMS_CYCLE_MAX while in flight */
} ck_gop;

/* A guest's synchronisation points: when it saw its invalidation waits
 * complete; and its operations. */
typedef struct ck_vm {
    ims_cycle t[CK_VM_SYNCS];
    uint64_t n;
    ck_gop *ops;
    size_t nops, cops;
    ims_cycle forgot; /* the latest end of an operation no longer listed */
} ck_vm;

struct ims_checker {
    ck_vm vms[IMS_CHECKER_MAX_VMS];
    ims_engine *engine;
    ims_physmem *mem;
    FILE *report;
    uint64_t max_reports, reported;
    unsigned history;
    ck_unit units[IMS_CHECKER_MAX_UNITS];
    ims_counter own_checks, own_stale, own_violations;
    ims_counter *checks, *stale, *violations;
    uint64_t n_checks, n_stale, n_violations; /* totals over phases */
};

int ims_checker_create(const ims_checker_params *p, ims_checker **out, ims_error *err)
{
    *out = NULL;
    if (!p || !p->engine || !p->mem || p->history == 0)
        return ims_errorf(err, EINVAL, "checker: engine, memory and a history >= 1 are required");
    ims_checker *c = calloc(1, sizeof *c);
    if (!c)
        return ims_errorf(err, ENOMEM, "checker: out of memory");
    c->engine = p->engine;
    c->mem = p->mem;
    c->report = p->report;
    c->max_reports = p->max_reports;
    c->history = p->history;
    c->checks = &c->own_checks;
    c->stale = &c->own_stale;
    c->violations = &c->own_violations;
    if (p->stats) {
        ims_counter *a = ims_stats_counter(p->stats, "checker.checks", "DMA pieces compared with the golden walk");
        ims_counter *b = ims_stats_counter(p->stats, "checker.stale_uses",
                                           "pieces that used a stale translation while that was still legal");
        ims_counter *v = ims_stats_counter(p->stats, "checker.violations",
                                           "stale translations used after an invalidation wait completed");
        if (!a || !b || !v) {
            free(c);
            return ims_errorf(err, ENOMEM, "checker: out of memory");
        }
        c->checks = a;
        c->stale = b;
        c->violations = v;
    }
    *out = c;
    return 0;
}

void ims_checker_destroy(ims_checker *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < IMS_CHECKER_MAX_UNITS; i++)
        free(c->units[i].ring);
    for (unsigned i = 0; i < IMS_CHECKER_MAX_VMS; i++)
        free(c->vms[i].ops);
    free(c);
}

/* ---- history ------------------------------------------------------------------ */

static void sample_hw(ck_unit *cu, const ims_vtd_hw *hw, ims_cycle now);

static void observe(void *ctx, const ims_qi_desc *d)
{
    ck_unit *cu = ctx;
    ims_checker_note_desc(cu->c, cu->index, d);
}

int ims_checker_attach_unit(ims_checker *c, unsigned index, ims_vtd_unit *u, ims_error *err)
{
    if (index >= IMS_CHECKER_MAX_UNITS)
        return ims_errorf(err, EINVAL, "checker: unit %u out of range", index);
    ck_unit *cu = &c->units[index];
    if (cu->u)
        return ims_errorf(err, EEXIST, "checker: unit %u attached twice", index);
    cu->ring = calloc(c->history, sizeof *cu->ring);
    if (!cu->ring)
        return ims_errorf(err, ENOMEM, "checker: out of memory");
    cu->c = c;
    cu->index = index;
    cu->u = u;
    ims_qi_set_observer(ims_vtd_unit_qi(u), observe, cu);
    ims_checker_note_regs(c, index); /* the baseline root pointer / TE state */
    return 0;
}

void ims_checker_note_desc(ims_checker *c, unsigned index, const ims_qi_desc *d)
{
    if (index >= IMS_CHECKER_MAX_UNITS || !c->units[index].ring)
        return;
    ck_unit *cu = &c->units[index];
    ims_cycle now = ims_engine_now(c->engine);
    ck_entry *e = &cu->ring[cu->completed % c->history];
    e->t = now;
    e->d = *d;
    cu->completed++;
    if (d->type == IMS_QI_TYPE_WAIT) {
        cu->any_wait = true;
        cu->last_wait = now;
    }
}

/* ---- which wait synchronised an access ----------------------------------------- */

/* The access a stale translation was used for, as invalidations name it. */
typedef struct ck_access {
    const ims_vtd_req *req;
    bool paging;        /* the change was in the paging structures (not root/context/PASID entries or registers) */
    bool ctx;           /* did, pasid and pgtt are known */
    uint16_t did;
    uint32_t pasid;     /* the request's, or RID_PASID */
    ims_vtd_pgtt pgtt;
} ck_access;

static bool translation_inv(unsigned type)
{
    return type == IMS_QI_TYPE_CC || type == IMS_QI_TYPE_IOTLB || type == IMS_QI_TYPE_DEV_TLB ||
           type == IMS_QI_TYPE_PIOTLB || type == IMS_QI_TYPE_PC || type == IMS_QI_TYPE_PDEV_TLB;
}

static bool am_has(uint64_t addr, unsigned am, uint64_t x)
{
    uint64_t first, last;
    ims_qi_am_span(addr, am, &first, &last);
    return x >= first && x <= last;
}

static bool ats_has(uint64_t addr, bool s, uint64_t x)
{
    ims_ats_range r;
    return ims_ats_range_decode(addr, s, &r) == 0 && ims_ats_range_overlaps(&r, x, x);
}

/* Whether d certainly removes the access's translation from the cache it
 * targets (qi_exec.c, Tables 23/24): never more than the hardware does, so
 * counting a wait for it can never invent a violation. */
static bool covers(const ims_qi_desc *d, const ck_access *a)
{
    const ims_vtd_req *r = a->req;
    bool fs = a->pgtt == IMS_VTD_PGTT_FS || a->pgtt == IMS_VTD_PGTT_NESTED;
    switch (d->type) {
    case IMS_QI_TYPE_IOTLB:
        if (d->iotlb.g == IMS_QI_IOTLB_GLOBAL)
            return true;
        return a->ctx && d->iotlb.did == a->did &&
               (d->iotlb.g == IMS_QI_IOTLB_DOMAIN_SELECTIVE || am_has(d->iotlb.addr, d->iotlb.am, r->addr));
    case IMS_QI_TYPE_PIOTLB:
        if (!a->ctx || d->piotlb.did != a->did)
            return false;
        if (d->piotlb.g == IMS_QI_PIOTLB_PASID_SELECTIVE) /* every SS-only entry of the DID too */
            return a->pgtt == IMS_VTD_PGTT_SS || d->piotlb.pasid == a->pasid;
        return fs && d->piotlb.pasid == a->pasid && am_has(d->piotlb.addr, d->piotlb.am, r->addr);
    case IMS_QI_TYPE_DEV_TLB:
        return !r->has_pasid && d->dev_tlb.sid == r->sid && ats_has(d->dev_tlb.addr, d->dev_tlb.s, r->addr);
    case IMS_QI_TYPE_PDEV_TLB:
        return r->has_pasid && d->pdev_tlb.sid == r->sid && (d->pdev_tlb.gi || d->pdev_tlb.pasid == r->pasid) &&
               ats_has(d->pdev_tlb.addr, d->pdev_tlb.s, r->addr);
    default:
        return false;
    }
}

/* A wait of this unit that completed in (after, upto] and synchronised the
 * access: its batch (the descriptors executed since the previous wait) holds
 * no translation invalidation at all (a pure synchronisation), or, for a
 * paging-structure change, one executed after the change that covers the
 * access. A wait closing a batch that invalidates only other translations is
 * someone else's flush: the access's own invalidation may still be queued
 * behind it. Searched newest first over the history; a batch not fully kept
 * counts only with a covering invalidation (the checker may miss, never
 * invent). */
static bool sync_between(const ims_checker *c, const ck_unit *cu, const ck_access *a, ims_cycle after,
                         ims_cycle upto, ims_cycle *t_wait)
{
    if (!cu->any_wait || cu->last_wait <= after)
        return false;
    uint64_t kept = cu->completed < c->history ? cu->completed : c->history;
    bool open = false, inv = false, cover = false; /* the batch of the candidate wait *t_wait */
    for (uint64_t k = 1; k <= kept; k++) {
        const ck_entry *e = &cu->ring[(cu->completed - k) % c->history];
        if (e->d.type == IMS_QI_TYPE_WAIT) {
            if (open && (cover || !inv))
                return true;
            if (e->t <= after)
                return false;
            open = e->t <= upto;
            *t_wait = e->t;
            inv = cover = false;
        } else if (open && translation_inv(e->d.type)) {
            inv = true;
            cover |= a->paging && e->t > after && covers(&e->d, a);
        }
    }
    return open && (cover || (!inv && cu->completed <= c->history));
}

/* ---- checking ------------------------------------------------------------------ */

static void sample_hw(ck_unit *cu, const ims_vtd_hw *hw, ims_cycle now)
{
    if (cu->hw_seen && (cu->hw_rtaddr != hw->rtaddr || cu->hw_te != hw->te))
        cu->hw_change = now; /* changed at or before now: later is conservative */
    cu->hw_seen = true;
    cu->hw_rtaddr = hw->rtaddr;
    cu->hw_te = hw->te;
}

void ims_checker_note_regs(ims_checker *c, unsigned index)
{
    if (index >= IMS_CHECKER_MAX_UNITS || !c->units[index].u)
        return;
    ims_vtd_hw hw;
    ims_vtd_unit_hw(c->units[index].u, &hw);
    sample_hw(&c->units[index], &hw, ims_engine_now(c->engine));
}

static bool differs(const ims_vtd_result *used, const ims_vtd_result *gold)
{
    if ((used->fault != 0) != (gold->fault != 0))
        return true;
    return !used->fault && used->pa != gold->pa;
}

static int fmt_result(const ims_vtd_result *r, char *buf, size_t cap)
{
    if (r->fault)
        return snprintf(buf, cap, "fault 0x%02x", r->fault);
    return snprintf(buf, cap, "pa=0x%" PRIx64 "%s", r->pa, r->untranslated ? " (untranslated)" : "");
}

static void report(ims_checker *c, const ck_unit *cu, const ims_vtd_req *req, const ims_vtd_result *used,
                   const ims_vtd_result *gold, ims_cycle t_change, ims_cycle t_wait, ims_cycle t_use,
                   const ims_checker_loc *loc)
{
    if (!c->report)
        return;
    if (c->reported == c->max_reports) {
        fprintf(c->report, "iommusim: further coherence violations are counted but not printed "
                           "(replay.max_reports=%" PRIu64 ")\n", c->max_reports);
        c->reported++;
        return;
    }
    if (c->reported > c->max_reports)
        return;
    c->reported++;
    double clk_ns = 1e9 / (double)ims_engine_clock_hz(c->engine);
    char u[64], g[64], pasid[24] = "", dev[IMS_CHECKER_DEV_TEXT] = "";
    fmt_result(used, u, sizeof u);
    fmt_result(gold, g, sizeof g);
    if (req->has_pasid)
        snprintf(pasid, sizeof pasid, " pasid=0x%x", req->pasid);
    if (loc && loc->dev && loc->dev[0])
        snprintf(dev, sizeof dev, "dev=%s ", loc->dev);
    fprintf(c->report,
            "%s:%" PRIu64 ": coherence violation: dma %ssid=0x%04x%s iova=0x%" PRIx64 " %s used %s but the "
            "tables give %s; they changed at %.1f ns and unit %u completed an invalidation wait at %.1f ns, "
            "before the use at %.1f ns\n",
            loc && loc->file ? loc->file : "?", loc ? loc->line : 0, dev, req->sid, pasid, req->addr,
            req->write ? "wr" : "rd", u, g, (double)t_change * clk_ns, cu->index, (double)t_wait * clk_ns,
            (double)t_use * clk_ns);
    fprintf(c->report, "  descriptors unit %u completed between the change and the use:\n", cu->index);
    uint64_t kept = cu->completed < c->history ? cu->completed : c->history;
    uint64_t first = cu->completed - kept, from = cu->completed;
    while (from > first && cu->ring[(from - 1) % c->history].t > t_change)
        from--;
    if (from == first && cu->completed > kept)
        fprintf(c->report, "    (older descriptors not kept: checker.history=%u)\n", c->history);
    for (uint64_t k = from; k < cu->completed; k++) {
        const ck_entry *e = &cu->ring[k % c->history];
        if (e->t > t_use)
            break;
        char d[160];
        ims_qi_desc_format(&e->d, d, sizeof d);
        fprintf(c->report, "    %.1f ns  %s\n", (double)e->t * clk_ns, d);
    }
}

bool ims_checker_check(ims_checker *c, unsigned index, const ims_vtd_req *req, const ims_vtd_result *used,
                       ims_cycle t_use, const ims_checker_loc *loc)
{
    if (index >= IMS_CHECKER_MAX_UNITS || !c->units[index].u)
        return false;
    ck_unit *cu = &c->units[index];
    ims_cycle now = ims_engine_now(c->engine);
    ims_vtd_hw hw;
    ims_vtd_unit_hw(cu->u, &hw);
    sample_hw(cu, &hw, now);
    ims_counter_inc(c->checks);
    c->n_checks++;
    /* Before the first wait no difference can be a violation: skip the walk. */
    if (!cu->any_wait)
        return false;
    ims_vtd_result gold;
    ims_vtd_access_log log;
    log.n = log.reads = log.writes = 0;
    log.count_only = false; /* the accesses are compared with the memory write stamps */
    ims_vtd_translate(&hw, req, IMS_VTD_WALK_NO_AD, &gold, &log);
    if (!differs(used, &gold))
        return false;
    ims_cycle t_change = cu->hw_change;
    bool paging = false; /* whether only paging-structure frames carry the latest change */
    for (unsigned i = 0; i < log.n; i++) {
        uint64_t st = ims_physmem_last_write(c->mem, log.a[i].pa);
        bool pte = log.a[i].kind == IMS_VTD_ACC_FS_PTE || log.a[i].kind == IMS_VTD_ACC_SS_PTE;
        if (st > t_change)
            paging = pte;
        else if (st == t_change)
            paging &= pte;
        if (st > t_change)
            t_change = st;
    }
    /* The context the stale translation was used with names it best (a stale
     * context-cache entry carries the old DID); else the current one. */
    const ims_vtd_result *cr = used->ctx_valid ? used : gold.ctx_valid ? &gold : NULL;
    ck_access acc = {.req = req, .paging = paging, .ctx = cr != NULL};
    if (cr) {
        acc.did = cr->ctx.did;
        acc.pasid = cr->ctx.pasid;
        acc.pgtt = cr->ctx.pgtt;
    }
    ims_cycle t_wait = 0;
    if (!sync_between(c, cu, &acc, t_change, t_use, &t_wait)) {
        ims_counter_inc(c->stale);
        c->n_stale++;
        return false;
    }
    ims_counter_inc(c->violations);
    c->n_violations++;
    report(c, cu, req, used, &gold, t_change, t_wait, t_use, loc);
    return true;
}

uint64_t ims_checker_violations(const ims_checker *c) { return c->n_violations; }
uint64_t ims_checker_checks(const ims_checker *c) { return c->n_checks; }
uint64_t ims_checker_stale_uses(const ims_checker *c) { return c->n_stale; }

/* ---- guest level ------------------------------------------------------------------- */

void ims_checker_note_guest_sync(ims_checker *c, unsigned vm)
{
    if (vm >= IMS_CHECKER_MAX_VMS)
        return;
    ck_vm *v = &c->vms[vm];
    v->t[v->n % CK_VM_SYNCS] = ims_engine_now(c->engine);
    v->n++;
}

int ims_checker_guest_op_begin(ims_checker *c, unsigned vm, const void *op, uint16_t sid, bool has_pasid,
                               uint32_t pasid, uint64_t iova, uint64_t len)
{
    if (vm >= IMS_CHECKER_MAX_VMS || !len)
        return 0;
    ck_vm *v = &c->vms[vm];
    if (v->nops == v->cops && v->cops >= CK_VM_SYNCS) { /* forget the ended ones, remembering when */
        size_t j = 0;
        for (size_t i = 0; i < v->nops; i++)
            if (v->ops[i].end == IMS_CYCLE_MAX)
                v->ops[j++] = v->ops[i];
            else if (v->ops[i].end > v->forgot)
                v->forgot = v->ops[i].end;
        v->nops = j;
    }
    if (v->nops == v->cops) {
        size_t n = v->cops ? 2 * v->cops : 16;
        ck_gop *o = realloc(v->ops, n * sizeof *o);
        if (!o)
            return -ENOMEM;
        v->ops = o;
        v->cops = n;
    }
    v->ops[v->nops++] = (ck_gop){op, sid, has_pasid, has_pasid ? pasid : 0, iova, iova + (len - 1), IMS_CYCLE_MAX};
    return 0;
}

void ims_checker_guest_op_end(ims_checker *c, const void *op)
{
    for (unsigned vm = 0; vm < IMS_CHECKER_MAX_VMS; vm++) {
        ck_vm *v = &c->vms[vm];
        for (size_t i = 0; i < v->nops; i++)
            if (v->ops[i].end == IMS_CYCLE_MAX && v->ops[i].op == op) {
                v->ops[i].end = ims_engine_now(c->engine);
                return;
            }
    }
}

/* Whether a guest operation on the address was in flight at t_use (or may
 * have been: one forgotten since). */
static bool guest_op_covers(const ck_vm *v, const ims_vtd_req *req, ims_cycle t_use)
{
    if (t_use < v->forgot)
        return true;
    for (size_t i = 0; i < v->nops; i++) {
        const ck_gop *o = &v->ops[i];
        if (o->end > t_use && o->sid == req->sid && o->has_pasid == req->has_pasid &&
            (!o->has_pasid || o->pasid == req->pasid) && req->addr >= o->first && req->addr <= o->last)
            return true;
    }
    return false;
}

/* The latest sync <= t_use, if it is known: false when none is, or when
 * every remembered one is later (older ones were forgotten: assume none, so
 * a violation is never invented). */
static bool guest_sync_before(const ck_vm *v, ims_cycle t_use, ims_cycle *t)
{
    uint64_t kept = v->n < CK_VM_SYNCS ? v->n : CK_VM_SYNCS;
    for (uint64_t i = 0; i < kept; i++) {
        ims_cycle x = v->t[(v->n - 1 - i) % CK_VM_SYNCS];
        if (x <= t_use) {
            *t = x;
            return true;
        }
    }
    return false;
}

bool ims_checker_check_guest(ims_checker *c, unsigned vm, const ims_vtd_req *req, const ims_vtd_result *used,
                             const ims_checker_guest_view *gold, ims_cycle t_use, const ims_checker_loc *loc)
{
    if (vm >= IMS_CHECKER_MAX_VMS)
        return false;
    ims_counter_inc(c->checks);
    c->n_checks++;
    bool gold_fault = !gold->mapped || (req->write && !gold->writable);
    bool differs_ = gold_fault ? used->fault == 0 : (used->fault != 0 || used->pa != gold->hpa);
    if (!differs_)
        return false;
    ims_cycle t_sync = 0;
    if (!guest_sync_before(&c->vms[vm], t_use, &t_sync) || t_sync <= gold->t_change ||
        guest_op_covers(&c->vms[vm], req, t_use)) {
        ims_counter_inc(c->stale);
        c->n_stale++;
        return false;
    }
    ims_counter_inc(c->violations);
    c->n_violations++;
    if (!c->report || c->reported > c->max_reports)
        return true;
    if (c->reported++ == c->max_reports) {
        fprintf(c->report, "iommusim: further coherence violations are counted but not printed "
                           "(replay.max_reports=%" PRIu64 ")\n", c->max_reports);
        return true;
    }
    double clk_ns = 1e9 / (double)ims_engine_clock_hz(c->engine);
    char u[64], g[64];
    fmt_result(used, u, sizeof u);
    if (gold_fault)
        snprintf(g, sizeof g, "%s", gold->mapped ? "no write permission" : "nothing mapped");
    else
        snprintf(g, sizeof g, "pa 0x%" PRIx64, gold->hpa);
    fprintf(c->report,
            "%s:%" PRIu64 ": coherence violation (guest view, vm %u): dma %s%s%ssid=0x%04x iova=0x%" PRIx64
            " %s used %s but the guest's tables give %s; they changed at %.1f ns and the guest saw an "
            "invalidation complete at %.1f ns, before the use at %.1f ns\n",
            loc && loc->file ? loc->file : "?", loc ? loc->line : 0, vm, loc && loc->dev && loc->dev[0] ? "dev=" : "",
            loc && loc->dev && loc->dev[0] ? loc->dev : "", loc && loc->dev && loc->dev[0] ? " " : "", req->sid,
            req->addr, req->write ? "wr" : "rd", u, g,
            (double)gold->t_change * clk_ns, (double)t_sync * clk_ns, (double)t_use * clk_ns);
    return true;
}
