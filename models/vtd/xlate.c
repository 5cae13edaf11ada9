/* The timed translation pipeline (xlate.h): resources, events, merging,
 * drain and statistics. The functional steps (what the caches hold, what a
 * walk reads) are in xlate_walk.c.
 *
 * Stages of one request, each an engine event only where time must pass:
 *   slot -> context stage (ctxc [+ pasidc] lookups; on a miss the lookup's
 *   reads) -> IOTLB lookup -> hit: complete | miss: merge or walker -> PSC
 *   probe + walk reads -> fill (epoch rule) -> complete owner and waiters.
 * A request whose lookups all hit is one event: the lookup latencies are
 * summed at the slot grant and the completion is scheduled directly. Cache
 * lookups are evaluated when the request enters its stage; fills happen when
 * the reads that produced them are done. */
#include "models/vtd/xlate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/vtd/fault_record.h"
#include "models/vtd/xlate_walk.h"
#include "sim/resource.h"

/* Caches with lookup ports (config <cache>.ports). */
enum { P_CTXC, P_PASIDC, P_IOTLB, P_PSC, NPORTS };
static const char *const port_cache[NPORTS] = {"ctxc", "pasidc", "iotlb", "psc"};

/* Merge key: requests with equal keys share a walk. */
typedef struct mkey {
    uint16_t did;
    uint32_t pasid;
    uint64_t page;
} mkey;

/* Per-slot scratch: state of a request between its stages. */
typedef struct slot_state {
    ims_xctx cx;
    ims_xwalk w;
    ims_cycle t_miss; /* when the request started waiting for a walker */
    mkey mkey;        /* an owner in the merge table: its key and home slot */
    uint32_t mhome;
} slot_state;

typedef struct drain_rec {
    uint64_t before;   /* requests with seq < before must complete */
    uint64_t left;     /* of those, still in flight */
    ims_event_fn fn;
    void *ctx;
    uint64_t arg;
} drain_rec;

struct ims_xlate {
    ims_engine *e;
    const ims_cycle *now; /* ims_engine_now_ptr: read inline on every stage */
    ims_physmem *mem;
    ims_mem_timing *mt;
    ims_vtd_regfile *regs;
    ims_vtd_caches *c;
    ims_stats *stats, *own_stats;

    ims_slots slots, walkers;
    ims_cycle lat_ctxc, lat_pasidc, lat_iotlb, lat_psc;
    bool merge;
    bool ported;                       /* some cache has a port limit */
    ims_lookup_ports ports[NPORTS];    /* ctxc, pasidc, iotlb, psc */

    slot_state *ss;       /* one per translation slot */
    uint32_t *ss_free;    /* stack of free slot_state indices */
    unsigned ss_nfree;

    ims_xlate_req **mtab; /* in-flight walk owners by (DID, PASID tag, 4K page); open addressing */
    uint32_t mmask;

    uint64_t next_seq, inflight;
    drain_rec *drains;
    unsigned ndrains, drains_cap;

    struct {
        ims_counter *count, *retries;
        ims_counter *by_outcome_count[IMS_XLATE_FAULT + 1]; /* untranslated, iotlb_hits, walks, merged, faults */
        ims_counter *ctx_reads, *ctx_misses;
        ims_counter *walk_count, *walk_reads, *walk_writes, *relocates, *rewalks, *psc_probes;
        ims_latency *latency, *slot_wait, *walk_latency, *walk_wait;
        ims_latency *port_wait[NPORTS];
        ims_latency *by_outcome[IMS_XLATE_FAULT + 1];
    } st;
};

#define STATE_SHIFT 8u /* r->stage: slot_state index << 8 */

static void sched(ims_xlate *x, ims_cycle delay, ims_event_fn fn, ims_xlate_req *r)
{
    if (!ims_engine_schedule(x->e, delay, fn, x, (uint64_t)(uintptr_t)r)) {
        fputs("iommusim: out of memory scheduling a translation event\n", stderr);
        abort();
    }
}

static inline ims_cycle now_of(const ims_xlate *x) { return *x->now; }

static ims_xlate_req *req_of(uint64_t arg) { return (ims_xlate_req *)(uintptr_t)arg; }
static slot_state *state_of(ims_xlate *x, const ims_xlate_req *r) { return &x->ss[r->stage >> STATE_SHIFT]; }

static ims_cycle charge_reads(ims_xlate *x, unsigned n) { return ims_mem_timing_walk_reads(x->mt, n); }

/* ---- lookup ports ------------------------------------------------------------- */

/* n lookups of cache k one after another, the first issued at `at`: when the
 * last one's result is ready. Each starts at the first cycle with a free port.
 * The stages call the ported variants below out of line, testing x->ported
 * as unlikely: with the default (no port limit) the hot paths keep their
 * plain latency sums. */
#define PORTED(x) __builtin_expect((x)->ported, 0)

static ims_cycle lookups_done(ims_xlate *x, unsigned k, ims_cycle at, unsigned n, ims_cycle lat)
{
    for (unsigned i = 0; i < n; i++) {
        ims_cycle c = ims_lookup_ports_start(&x->ports[k], now_of(x), at);
        if (c != at)
            ims_latency_record(x->st.port_wait[k], c - at);
        at = c + lat;
    }
    return at;
}

/* The latencies of each stage under port limits, from now. */
#define COLD static __attribute__((noinline, cold))

COLD ims_cycle ctx_lookups_ported(ims_xlate *x, const ims_xctx *cx)
{
    ims_cycle t = lookups_done(x, P_CTXC, now_of(x), cx->ctxc_lookups, x->lat_ctxc);
    return lookups_done(x, P_PASIDC, t, cx->pasidc_lookups, x->lat_pasidc) - now_of(x);
}

/* The IOTLB lookup issued `before` cycles from now (after the context stage). */
COLD ims_cycle iotlb_lookup_ported(ims_xlate *x, ims_cycle before)
{
    return lookups_done(x, P_IOTLB, now_of(x) + before, 1, x->lat_iotlb) - now_of(x);
}

COLD ims_cycle walk_probes_ported(ims_xlate *x, const ims_xwalk *w)
{
    ims_cycle t = lookups_done(x, P_PSC, now_of(x), w->psc_probes, x->lat_psc);
    return lookups_done(x, P_IOTLB, t, w->iotlb_probes, x->lat_iotlb) - now_of(x);
}

/* ---- merge table ------------------------------------------------------------- */

static mkey key_of(const ims_xlate_req *r)
{
    const ims_vtd_ctx *c = &r->res.ctx;
    return (mkey){c->did, ims_iotlb_tag_pasid(c->pgtt, c->pasid), r->req.addr >> IMS_PAGE_SHIFT};
}

static uint32_t mhash(ims_xlate *x, mkey k)
{
    uint64_t h = k.page ^ ((uint64_t)k.did << 40) ^ ((uint64_t)k.pasid << 20);
    h *= UINT64_C(0x9E3779B97F4A7C15);
    return (uint32_t)(h >> 32) & x->mmask;
}

static bool key_eq(mkey a, mkey b) { return a.did == b.did && a.pasid == b.pasid && a.page == b.page; }

/* The in-flight owner of key k (home slot h), or NULL and *hole = the free
 * slot where an owner of k goes. An owner's key and home are kept in its
 * slot state, so probes and removals compute no hash. */
static ims_xlate_req *merge_find(ims_xlate *x, mkey k, uint32_t h, uint32_t *hole)
{
    for (uint32_t i = h;; i = (i + 1) & x->mmask) {
        ims_xlate_req *o = x->mtab[i];
        if (!o) {
            *hole = i;
            return NULL;
        }
        if (key_eq(state_of(x, o)->mkey, k))
            return o;
    }
}

/* Remove with backward shift, so lookups never need tombstones. */
static void merge_remove(ims_xlate *x, ims_xlate_req *r)
{
    uint32_t i = state_of(x, r)->mhome;
    while (x->mtab[i] != r)
        i = (i + 1) & x->mmask;
    for (uint32_t j = i;;) {
        j = (j + 1) & x->mmask;
        ims_xlate_req *o = x->mtab[j];
        if (!o)
            break;
        uint32_t home = state_of(x, o)->mhome;
        /* o may move to the hole at i unless its home lies cyclically in (i, j]. */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            x->mtab[i] = o;
            i = j;
        }
    }
    x->mtab[i] = NULL;
}

/* ---- completion and drain ------------------------------------------------------ */

static void drain_progress(ims_xlate *x, uint64_t seq)
{
    unsigned k = 0;
    for (unsigned i = 0; i < x->ndrains; i++) {
        drain_rec *d = &x->drains[i];
        if (seq < d->before && --d->left == 0) {
            if (!ims_engine_schedule(x->e, 0, d->fn, d->ctx, d->arg)) {
                fputs("iommusim: out of memory scheduling a drain\n", stderr);
                abort();
            }
            continue;
        }
        x->drains[k++] = *d;
    }
    x->ndrains = k;
}

/* Stages on the IOTLB-hit path are inlined into their one hot caller (submit
 * -> start -> iotlb_stage; complete_ev -> complete): a hit then costs two
 * function frames, not five. */
#define HOT_INLINE static inline __attribute__((always_inline))

HOT_INLINE void complete_inl(ims_xlate *x, ims_xlate_req *r, ims_xlate_outcome oc)
{
    if (r->res.fault) {
        oc = IMS_XLATE_FAULT;
        /* ATS translation requests are answered (R=W=0), not recorded. */
        if (r->req.type != IMS_VTD_REQ_TRANSLATION)
            ims_vtd_fault_record_result(x->regs, &r->req, &r->res);
    }
    r->outcome = oc;
    r->t_done = now_of(x);
    ims_cycle lat = r->t_done - r->t_submit;
    ims_counter_inc(x->st.count);
    ims_latency_record(x->st.latency, lat);
    ims_latency_record(x->st.by_outcome[oc], lat);
    ims_counter_inc(x->st.by_outcome_count[oc]);
    x->ss_free[x->ss_nfree++] = r->stage >> STATE_SHIFT;
    ims_slots_release(&x->slots);
    x->inflight--;
    if (x->ndrains)
        drain_progress(x, r->seq);
    r->done(r);
}

static void complete(ims_xlate *x, ims_xlate_req *r, ims_xlate_outcome oc) { complete_inl(x, r, oc); }

static void complete_ev(void *ctx, uint64_t arg)
{
    ims_xlate_req *r = req_of(arg);
    complete_inl(ctx, r, r->outcome);
}

/* ---- walk ------------------------------------------------------------------------ */

static void walk_done_ev(void *ctx, uint64_t arg);

HOT_INLINE void walk_start(ims_xlate *x, ims_xlate_req *r)
{
    slot_state *s = state_of(x, r);
    ims_cycle now = now_of(x);
    if (now != s->t_miss) /* waits only: see register_stats */
        ims_latency_record(x->st.walk_wait, now - s->t_miss);
    s->t_miss = now; /* from here: the walk's own latency */
    r->epoch = x->c->inv_epoch;

    ims_vtd_hw hw;
    ims_vtd_regfile_hw_fast(x->regs, x->mem, &hw);
    ims_xwalk *w = &s->w;
    ims_xwalk_run(w, &hw, x->c, &r->res.ctx, &r->req, &r->res);

    /* One probe latency per PSC/IOTLB probe, then every access in order. */
    ims_cycle lat = (ims_cycle)w->psc_probes * x->lat_psc + (ims_cycle)w->iotlb_probes * x->lat_iotlb;
    if (PORTED(x))
        lat = walk_probes_ported(x, w);
    lat += charge_reads(x, w->log.reads + w->log.writes);
    unsigned reads = r->mem_reads + w->log.reads;
    r->mem_reads = (uint16_t)(reads > UINT16_MAX ? UINT16_MAX : reads);
    ims_counter_inc(x->st.walk_count);
    ims_counter_add(x->st.walk_reads, w->log.reads);
    ims_counter_add(x->st.walk_writes, w->log.writes);
    ims_counter_add(x->st.relocates, w->relocates);
    ims_counter_add(x->st.rewalks, w->rewalks);
    ims_counter_add(x->st.psc_probes, w->psc_probes);
    sched(x, lat, walk_done_ev, r);
}

static void walker_granted_ev(void *ctx, uint64_t arg) { walk_start(ctx, req_of(arg)); }

/* After an IOTLB miss: pass-through needs no walk; else merge or walk. */
HOT_INLINE void miss_inl(ims_xlate *x, ims_xlate_req *r)
{
    slot_state *s = state_of(x, r);
    if (r->res.ctx.pgtt == IMS_VTD_PGTT_PT) {
        ims_vtd_hw hw;
        ims_vtd_regfile_hw_fast(x->regs, x->mem, &hw);
        ims_xwalk_run(&s->w, &hw, x->c, &r->res.ctx, &r->req, &r->res);
        ims_xwalk_fill(&s->w, &hw, x->c, &r->res.ctx);
        complete(x, r, IMS_XLATE_WALK);
        return;
    }
    r->next = NULL;
    if (x->merge) {
        mkey k = key_of(r);
        uint32_t h = mhash(x, k), hole;
        ims_xlate_req *owner = merge_find(x, k, h, &hole);
        if (owner) {
            ims_xlate_req **p = &owner->next;
            while (*p)
                p = &(*p)->next;
            *p = r;
            return;
        }
        s->mkey = k;
        s->mhome = h;
        x->mtab[hole] = r;
    }
    s->t_miss = now_of(x);
    if (ims_slots_acquire(&x->walkers, walker_granted_ev, x, (uint64_t)(uintptr_t)r))
        walk_start(x, r);
}

static void miss(ims_xlate *x, ims_xlate_req *r) { miss_inl(x, r); }

static void miss_ev(void *ctx, uint64_t arg) { miss_inl(ctx, req_of(arg)); }

static void walk_done_ev(void *ctx, uint64_t arg)
{
    ims_xlate *x = ctx;
    ims_xlate_req *r = req_of(arg);
    slot_state *s = state_of(x, r);
    ims_latency_record(x->st.walk_latency, now_of(x) - s->t_miss);
    if (r->epoch == x->c->inv_epoch) {
        ims_vtd_hw hw;
        ims_vtd_regfile_hw_fast(x->regs, x->mem, &hw);
        ims_xwalk_fill(&s->w, &hw, x->c, &r->res.ctx);
    }
    if (x->merge)
        merge_remove(x, r);
    ims_xlate_req *q = r->next;
    r->next = NULL;
    if (!q) {
        ims_slots_release(&x->walkers);
        complete_inl(x, r, IMS_XLATE_WALK);
        return;
    }
    /* Copy what the waiters need before the owner's slot state is released. */
    bool usable = s->w.ok && s->w.cacheable;
    ims_iotlb_entry leaf = s->w.leaf;
    ims_vtd_pgtt pgtt = r->res.ctx.pgtt;
    ims_slots_release(&x->walkers);
    complete(x, r, IMS_XLATE_WALK);

    /* Waiters take the walked translation if it decides them exactly (as an
     * IOTLB hit would); otherwise they walk for themselves. */
    while (q) {
        ims_xlate_req *next = q->next;
        q->next = NULL;
        if (usable && q->res.ctx.pgtt == pgtt && ims_xlate_use_entry(&leaf, &q->res.ctx, &q->req, &q->res)) {
            complete(x, q, IMS_XLATE_MERGED);
        } else {
            ims_counter_inc(x->st.retries);
            miss(x, q);
        }
        q = next;
    }
}

/* ---- lookup stages ------------------------------------------------------------------ */

HOT_INLINE void iotlb_stage(ims_xlate *x, ims_xlate_req *r, ims_cycle lat)
{
    const ims_vtd_ctx *ctx = &r->res.ctx;
    if (r->req.type == IMS_VTD_REQ_TRANSLATED) {
        /* Already an HPA: admitted by the context (DTE), not translated. */
        r->res.pa = r->req.addr;
        r->res.page_size = IMS_PAGE_SIZE;
        r->res.r = r->res.w = r->res.x = true;
        r->outcome = IMS_XLATE_UNTRANSLATED;
        sched(x, lat, complete_ev, r);
        return;
    }
    const ims_iotlb_entry *e = ims_iotlb_lookup(x->c->iotlb, ctx->did, ctx->pgtt, ctx->pasid, r->req.addr);
    if (PORTED(x))
        lat = iotlb_lookup_ported(x, lat);
    else
        lat += x->lat_iotlb;
    if (e && ims_xlate_use_entry(e, ctx, &r->req, &r->res)) {
        r->outcome = IMS_XLATE_IOTLB_HIT;
        sched(x, lat, complete_ev, r);
        return;
    }
    sched(x, lat, miss_ev, r);
}

static void ctx_done_ev(void *ctx, uint64_t arg)
{
    ims_xlate *x = ctx;
    ims_xlate_req *r = req_of(arg);
    slot_state *s = state_of(x, r);
    if (r->epoch == x->c->inv_epoch)
        ims_xctx_fill(&s->cx, x->c);
    iotlb_stage(x, r, 0);
}

/* The request holds a slot: resolve its context. */
HOT_INLINE void start(ims_xlate *x, ims_xlate_req *r)
{
    ims_cycle now = now_of(x);
    if (now != r->t_submit)
        ims_latency_record(x->st.slot_wait, now - r->t_submit);
    uint32_t idx = x->ss_free[--x->ss_nfree];
    r->stage = idx << STATE_SHIFT;
    slot_state *s = &x->ss[idx];

    ims_vtd_hw hw;
    ims_vtd_regfile_hw_fast(x->regs, x->mem, &hw);
    if (!hw.te) {
        memset(&r->res.ctx, 0, sizeof r->res.ctx);
        r->res.untranslated = true;
        r->res.pa = r->req.addr;
        r->res.page_size = IMS_PAGE_SIZE;
        r->res.r = r->res.w = r->res.x = true;
        r->outcome = IMS_XLATE_UNTRANSLATED;
        sched(x, 0, complete_ev, r);
        return;
    }

    r->epoch = x->c->inv_epoch;
    ims_vtd_ctx *ctx = &r->res.ctx;
    bool qualified = false;
    uint8_t fr = ims_xctx_resolve(&s->cx, &hw, x->c, &r->req, ctx, &qualified, &s->w.log);
    ims_cycle lat = (ims_cycle)s->cx.ctxc_lookups * x->lat_ctxc + (ims_cycle)s->cx.pasidc_lookups * x->lat_pasidc;
    if (PORTED(x))
        lat = ctx_lookups_ported(x, &s->cx);
    if (s->cx.reads) {
        ims_counter_inc(x->st.ctx_misses);
        ims_counter_add(x->st.ctx_reads, s->cx.reads);
        lat += charge_reads(x, s->cx.reads);
        r->mem_reads = (uint16_t)s->cx.reads;
    }
    if (fr) {
        /* As ims_vtd_translate reports a lookup fault: no context in the result. */
        bool fpd = ctx->fpd;
        memset(ctx, 0, sizeof *ctx);
        r->res.fault = fr;
        r->res.fault_qualified = qualified;
        r->res.fault_suppressed = qualified && fpd;
        r->outcome = IMS_XLATE_FAULT;
        sched(x, lat, complete_ev, r);
        return;
    }
    r->res.ctx_valid = true;
    if (s->cx.reads || s->cx.fill_ctxc || s->cx.fill_pasidc) {
        sched(x, lat, ctx_done_ev, r);
        return;
    }
    iotlb_stage(x, r, lat);
}

static void slot_granted_ev(void *ctx, uint64_t arg) { start(ctx, req_of(arg)); }

/* ---- API ----------------------------------------------------------------------------- */

void ims_xlate_submit(ims_xlate *x, ims_xlate_req *r)
{
    /* Field by field: a memset of the whole result (context included) is a
     * measurable share of an IOTLB hit; res.ctx is written when resolved. */
    ims_vtd_result *res = &r->res;
    res->fault = 0;
    res->fault_qualified = res->fault_suppressed = false;
    res->pa = res->page_size = 0;
    res->r = res->w = res->x = false;
    res->ctx_valid = false;
    res->untranslated = false;
    r->outcome = IMS_XLATE_UNTRANSLATED;
    r->t_submit = now_of(x);
    r->t_done = 0;
    r->mem_reads = 0;
    r->next = NULL;
    r->seq = x->next_seq++;
    r->stage = 0;
    x->inflight++;
    if (ims_slots_acquire(&x->slots, slot_granted_ev, x, (uint64_t)(uintptr_t)r))
        start(x, r);
}

void ims_xlate_drain(ims_xlate *x, ims_event_fn fn, void *ctx, uint64_t arg)
{
    if (x->inflight == 0) {
        if (!ims_engine_schedule(x->e, 0, fn, ctx, arg)) {
            fputs("iommusim: out of memory scheduling a drain\n", stderr);
            abort();
        }
        return;
    }
    if (x->ndrains == x->drains_cap) {
        unsigned cap = x->drains_cap ? 2 * x->drains_cap : 8;
        drain_rec *d = realloc(x->drains, cap * sizeof *d);
        if (!d) {
            fputs("iommusim: out of memory recording a drain\n", stderr);
            abort();
        }
        x->drains = d;
        x->drains_cap = cap;
    }
    x->drains[x->ndrains++] = (drain_rec){x->next_seq, x->inflight, fn, ctx, arg};
}

uint64_t ims_xlate_inflight(const ims_xlate *x) { return x->inflight; }

static void register_stats(ims_xlate *x, ims_stats *s)
{
    x->st.count = ims_stats_counter(s, "xlate.count", "translation requests completed");
    ims_counter **oc = x->st.by_outcome_count;
    oc[IMS_XLATE_FAULT] = ims_stats_counter(s, "xlate.faults", "requests that completed with a fault");
    oc[IMS_XLATE_MERGED] = ims_stats_counter(s, "xlate.merged", "requests served by another request's walk");
    oc[IMS_XLATE_IOTLB_HIT] = ims_stats_counter(s, "xlate.iotlb_hits", "requests served by an IOTLB entry");
    oc[IMS_XLATE_WALK] = ims_stats_counter(s, "xlate.walks", "requests that walked (or passed through PGTT=PT)");
    oc[IMS_XLATE_UNTRANSLATED] =
        ims_stats_counter(s, "xlate.untranslated", "requests passed through (TE=0, ATS translated)");
    x->st.retries = ims_stats_counter(s, "xlate.merge_retries", "merged requests the walk could not decide");
    x->st.ctx_misses = ims_stats_counter(s, "xlate.ctx_misses", "requests that read context structures");
    x->st.ctx_reads = ims_stats_counter(s, "xlate.ctx_reads", "root/context/PASID reads charged");
    x->st.walk_count = ims_stats_counter(s, "walk.count", "page walks");
    x->st.walk_reads = ims_stats_counter(s, "walk.mem_reads", "paging-structure reads of all walks");
    x->st.walk_writes = ims_stats_counter(s, "walk.ad_writes", "A/D updates of all walks");
    x->st.relocates = ims_stats_counter(s, "walk.nested_relocates",
                                        "nested FS tables re-walked in SS for an A/D update");
    x->st.rewalks = ims_stats_counter(s, "walk.rewalks", "nested walks repeated without the FS PSC");
    x->st.psc_probes = ims_stats_counter(s, "walk.psc_probes", "paging-structure-cache probes");
    ims_stats_ratio(s, "walk.reads_per_walk", "walk.mem_reads", "walk.count");
    x->st.latency = ims_stats_latency(s, "xlate.latency_ns", "submit to completion, every request");
    /* Waits are recorded only for requests that had to wait (a zero sample per
     * request would cost two histogram updates on the IOTLB-hit path): the
     * count is the number of waiters; xlate.count / walk.count give the rest. */
    x->st.slot_wait = ims_stats_latency(s, "xlate.slot_wait_ns", "submit to slot grant, requests that waited");
    x->st.walk_latency = ims_stats_latency(s, "walk.latency_ns", "walker grant to walk done");
    x->st.walk_wait = ims_stats_latency(s, "walk.wait_ns", "IOTLB miss to walker grant, walks that waited");
    x->st.by_outcome[IMS_XLATE_UNTRANSLATED] =
        ims_stats_latency(s, "xlate.untranslated_latency_ns", "latency of passed-through requests");
    x->st.by_outcome[IMS_XLATE_IOTLB_HIT] = ims_stats_latency(s, "xlate.hit_latency_ns", "latency of IOTLB hits");
    x->st.by_outcome[IMS_XLATE_WALK] = ims_stats_latency(s, "xlate.walk_latency_ns", "latency of walking requests");
    x->st.by_outcome[IMS_XLATE_MERGED] =
        ims_stats_latency(s, "xlate.merged_latency_ns", "latency of merged requests");
    x->st.by_outcome[IMS_XLATE_FAULT] = ims_stats_latency(s, "xlate.fault_latency_ns", "latency of faults");
    for (unsigned k = 0; k < NPORTS; k++) {
        char name[32];
        snprintf(name, sizeof name, "%s.port_wait_ns", port_cache[k]);
        x->st.port_wait[k] = ims_stats_latency(s, name, "issue to start of lookups that waited for a port");
    }
}

static bool stats_ok(const ims_xlate *x)
{
    const void *p[] = {x->st.count,
                       x->st.retries, x->st.ctx_misses, x->st.ctx_reads, x->st.walk_count, x->st.walk_reads,
                       x->st.walk_writes, x->st.relocates, x->st.rewalks, x->st.psc_probes, x->st.latency,
                       x->st.slot_wait, x->st.walk_latency, x->st.walk_wait};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        if (!p[i])
            return false;
    for (unsigned i = 0; i <= IMS_XLATE_FAULT; i++)
        if (!x->st.by_outcome[i] || !x->st.by_outcome_count[i])
            return false;
    for (unsigned k = 0; k < NPORTS; k++)
        if (!x->st.port_wait[k])
            return false;
    return true;
}

int ims_xlate_create(const ims_xlate_params *p, ims_xlate **out, ims_error *err)
{
    *out = NULL;
    if (!p || !p->engine || !p->mem || !p->mem_timing || !p->regs || !p->caches || !p->cfg ||
        !p->caches->ctxc || !p->caches->pasidc || !p->caches->iotlb || !p->caches->psc)
        return ims_errorf(err, EINVAL, "xlate: engine, memory, memory timing, registers, all four caches and "
                                       "the configuration are required");
    ims_xlate *x = calloc(1, sizeof *x);
    if (!x)
        return ims_errorf(err, ENOMEM, "xlate: out of memory");
    x->e = p->engine;
    x->now = ims_engine_now_ptr(p->engine);
    x->mem = p->mem;
    x->mt = p->mem_timing;
    x->regs = p->regs;
    x->c = p->caches;
    x->stats = p->stats;
    if (!x->stats) {
        x->stats = x->own_stats = ims_stats_create(ims_engine_clock_hz(p->engine));
        if (!x->stats) {
            free(x);
            return ims_errorf(err, ENOMEM, "xlate: out of memory");
        }
    }
    const ims_config *cfg = p->cfg;
    unsigned nslots = (unsigned)ims_config_u64(cfg, "xlate.slots");
    unsigned nwalkers = (unsigned)ims_config_u64(cfg, "walk.walkers");
    x->merge = ims_config_bool(cfg, "xlate.merge");
    x->lat_ctxc = ims_config_u64(cfg, "ctxc.lookup_cycles");
    x->lat_pasidc = ims_config_u64(cfg, "pasidc.lookup_cycles");
    x->lat_iotlb = ims_config_u64(cfg, "iotlb.lookup_cycles");
    x->lat_psc = ims_config_u64(cfg, "psc.lookup_cycles");
    for (unsigned k = 0; k < NPORTS; k++) {
        char key[32];
        snprintf(key, sizeof key, "%s.ports", port_cache[k]);
        unsigned n = (unsigned)ims_config_u64(cfg, key);
        ims_lookup_ports_init(&x->ports[k], n);
        x->ported |= n != 0;
    }

    /* At most one owner per slot: a load factor <= 1/8 keeps probe chains
     * (and removal shifts) at about one slot. */
    uint32_t mcap = 16;
    while (mcap < 8u * nslots && mcap < (UINT32_C(1) << 30))
        mcap *= 2;
    x->mmask = mcap - 1;
    x->mtab = calloc(mcap, sizeof *x->mtab);
    x->ss = calloc(nslots, sizeof *x->ss);
    x->ss_free = calloc(nslots, sizeof *x->ss_free);
    int rc = 0;
    if (!x->mtab || !x->ss || !x->ss_free) {
        rc = ims_errorf(err, ENOMEM, "xlate: out of memory for %u slots", nslots);
    } else if (ims_slots_init(&x->slots, x->e, nslots) || ims_slots_init(&x->walkers, x->e, nwalkers)) {
        rc = ims_errorf(err, EINVAL, "xlate: xlate.slots and walk.walkers must be at least 1");
    } else {
        register_stats(x, x->stats);
        if (!stats_ok(x))
            rc = ims_errorf(err, ENOMEM, "xlate: out of memory registering statistics");
    }
    if (rc) {
        ims_xlate_destroy(x);
        return rc;
    }
    for (unsigned i = 0; i < nslots; i++)
        x->ss_free[i] = nslots - 1 - i;
    x->ss_nfree = nslots;
    *out = x;
    return 0;
}

void ims_xlate_destroy(ims_xlate *x)
{
    if (!x)
        return;
    ims_slots_fini(&x->slots);
    ims_slots_fini(&x->walkers);
    for (unsigned k = 0; k < NPORTS; k++)
        ims_lookup_ports_fini(&x->ports[k]);
    free(x->drains);
    free(x->mtab);
    free(x->ss);
    free(x->ss_free);
    ims_stats_destroy(x->own_stats);
    free(x);
}
