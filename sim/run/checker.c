/* The coherence checker: each used translation against the golden walk, with
 * the invalidation-wait rule of checker.h. */
#include "sim/run/checker.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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

/* A guest's synchronisation points: when it saw its invalidation waits complete. */
typedef struct ck_vm {
    ims_cycle t[CK_VM_SYNCS];
    uint64_t n;
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

/* Whether a wait of this unit completed in (after, upto]. Uses the latest
 * wait when it qualifies, else searches the history (a wait older than the
 * history counts as not found: the checker may miss, never invent). */
static bool wait_between(const ims_checker *c, const ck_unit *cu, ims_cycle after, ims_cycle upto,
                         ims_cycle *t_wait)
{
    if (!cu->any_wait || cu->last_wait <= after)
        return false;
    *t_wait = cu->last_wait;
    if (cu->last_wait <= upto)
        return true;
    uint64_t kept = cu->completed < c->history ? cu->completed : c->history;
    for (uint64_t k = 1; k <= kept; k++) {
        const ck_entry *e = &cu->ring[(cu->completed - k) % c->history];
        if (e->t <= after)
            break;
        if (e->d.type == IMS_QI_TYPE_WAIT && e->t <= upto) {
            *t_wait = e->t;
            return true;
        }
    }
    return false;
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
    for (unsigned i = 0; i < log.n; i++) {
        uint64_t st = ims_physmem_last_write(c->mem, log.a[i].pa);
        if (st > t_change)
            t_change = st;
    }
    ims_cycle t_wait = 0;
    if (!wait_between(c, cu, t_change, t_use, &t_wait)) {
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
    if (!guest_sync_before(&c->vms[vm], t_use, &t_sync) || t_sync <= gold->t_change) {
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
            "%s:%" PRIu64 ": coherence violation (guest view, vm %u): dma %s%ssid=0x%04x iova=0x%" PRIx64
            " %s used %s but the guest's tables give %s; they changed at %.1f ns and the guest saw an "
            "invalidation complete at %.1f ns, before the use at %.1f ns\n",
            loc && loc->file ? loc->file : "?", loc ? loc->line : 0, vm, loc && loc->dev && loc->dev[0] ? "dev=" : "",
            loc && loc->dev && loc->dev[0] ? loc->dev : "", req->sid, req->addr, req->write ? "wr" : "rd", u, g,
            (double)gold->t_change * clk_ns, (double)t_sync * clk_ns, (double)t_use * clk_ns);
    return true;
}
