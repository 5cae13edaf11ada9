/* The family interface of gen.h: records built and written with a sticky
 * error, the address layout (physical bump allocator, chunk pools), address
 * spaces at host and guest level, phases and the open-loop event schedule. */
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/gen/gen.h"

#define GUEST_VM 1
#define GUEST_POOL_MIN (8ull << 20) /* the guest model's page-table pool (guest.pt_pool default) */

int ims_gen_fail(ims_gen *g, int code, const char *fmt, ...)
{
    if (g->rc)
        return g->rc;
    va_list ap;
    va_start(ap, fmt);
    g->rc = ims_verrorf(g->err, code, fmt, ap);
    va_end(ap);
    return g->rc;
}

/* ---- records -------------------------------------------------------------------------------- */

static bool rec_begin(ims_gen *g, ims_trace_verb v)
{
    if (g->rc)
        return false;
    ims_trace_rec_reset(&g->rec);
    g->rec.verb = v;
    return true;
}

static void rec_num(ims_gen *g, ims_trace_key k, uint64_t v)
{
    g->rec.v[k].num = v;
    g->rec.present |= 1ull << k;
}

static void rec_flag(ims_gen *g, ims_trace_key k)
{
    g->rec.present |= 1ull << k;
}

static void rec_str(ims_gen *g, ims_trace_key k, const char *s)
{
    if (ims_trace_rec_set_bytes(&g->rec, k, s, strlen(s)))
        ims_gen_fail(g, ENOMEM, "out of memory");
    if (k == IMS_K_DEV)
        g->rec.named |= 1ull << k;
}

static void rec_expect_pa(ims_gen *g, uint64_t pa)
{
    uint32_t off;
    if (ims_trace_rec_alloc(&g->rec, sizeof(ims_trace_expect), &off)) {
        ims_gen_fail(g, ENOMEM, "out of memory");
        return;
    }
    ims_trace_expect x = {.kind = IMS_EXP_PA, .value = pa};
    memcpy(g->rec.arena + off, &x, sizeof x);
    g->rec.v[IMS_K_EXPECT].span.off = off;
    g->rec.v[IMS_K_EXPECT].span.len = 1;
    g->rec.present |= 1ull << IMS_K_EXPECT;
}

/* Time prefix by the loop (topology records have none), then write. */
static void rec_write(ims_gen *g)
{
    if (g->rc)
        return;
    const ims_trace_verb_schema *s = ims_trace_schema(g->rec.verb);
    if (s->cls != IMS_VC_TOPOLOGY) {
        if (g->open) {
            g->rec.tmode = IMS_TIME_ABS;
            g->rec.time_ps = g->t_ps;
        } else if (g->gap_ps) {
            g->rec.tmode = IMS_TIME_REL;
            g->rec.time_ps = g->gap_ps;
            g->gap_ps = 0;
        }
    }
    /* A dry run (no writer) still validates what it would write. */
    int rc = g->w ? ims_trace_writer_write(g->w, &g->rec, g->err) : ims_trace_rec_validate(&g->rec, g->err);
    if (rc)
        g->rc = rc;
}

/* ---- layout --------------------------------------------------------------------------------- */

void ims_gen_phys_reserve(ims_gen *g, uint64_t bytes)
{
    g->phys_end += bytes;
}

uint64_t ims_gen_phys_alloc(ims_gen *g, uint64_t len, uint64_t align)
{
    uint64_t a = ims_gen_round_up(g->phys_next, align);
    if (a + len > g->phys_end || a + len < a) {
        ims_gen_fail(g, EOVERFLOW, "internal: physical layout exceeds its reservation");
        return g->phys_next;
    }
    g->phys_next = a + len;
    return a;
}

uint64_t ims_gen_phys_alloc_leaf(ims_gen *g, uint64_t len, uint64_t leaf)
{
    const uint64_t m2 = 2ull << 20, g1 = 1ull << 30;
    if (leaf >= g1)
        return ims_gen_phys_alloc(g, len, g1);
    /* 2M: 2 MiB aligned but never 1 GiB aligned; 4K: 4 KiB off a 2 MiB boundary. */
    uint64_t a = ims_gen_phys_alloc(g, len + m2, m2);
    if (leaf <= IMS_GEN_PAGE)
        return a + IMS_GEN_PAGE;
    return (a % g1) ? a : a + m2;
}

void ims_gen_pool_init(ims_gen *g, ims_gen_pool *pool, uint64_t base, uint64_t chunk, size_t n, bool random)
{
    memset(pool, 0, sizeof *pool);
    pool->base = base;
    pool->chunk = chunk;
    pool->n = n;
    pool->random = random;
    if (!random)
        return; /* IOVAs start from the lowest never-used chunk */
    pool->free = malloc((n ? n : 1) * sizeof *pool->free);
    if (!pool->free) {
        ims_gen_fail(g, ENOMEM, "out of memory");
        return;
    }
    pool->nfree = pool->capfree = n;
    for (size_t k = 0; k < n; k++)
        pool->free[k] = (uint32_t)k;
}

static bool push_free(ims_gen *g, ims_gen_pool *pool, uint32_t idx)
{
    if (pool->nfree == pool->capfree) {
        size_t cap = pool->capfree ? 2 * pool->capfree : 64;
        uint32_t *f = realloc(pool->free, cap * sizeof *f);
        if (!f)
            return ims_gen_fail(g, ENOMEM, "out of memory"), false;
        pool->free = f;
        pool->capfree = cap;
    }
    pool->free[pool->nfree++] = idx;
    return true;
}

uint64_t ims_gen_pool_get(ims_gen *g, ims_gen_pool *pool)
{
    uint64_t hold = g->open ? ims_gen_c(g, IMS_GEN_IOVA_REUSE) : 0;
    while (pool->nheld && pool->held[pool->held_head].t + hold <= g->t_ps) {
        if (!push_free(g, pool, pool->held[pool->held_head].idx))
            return pool->base;
        pool->held_head++;
        pool->nheld--;
    }
    uint32_t idx;
    if (pool->nfree) {
        size_t k = pool->random ? (size_t)ims_rng_below(&g->rng, pool->nfree) : pool->nfree - 1;
        idx = pool->free[k];
        pool->free[k] = pool->free[--pool->nfree];
    } else if (!pool->random && pool->fresh < pool->n) {
        idx = (uint32_t)pool->fresh++;
    } else {
        if (pool->random)
            ims_gen_fail(g, ENOSPC, "internal: a buffer pool ran dry");
        else
            ims_gen_fail(g, ENOSPC, "all %zu IOVA slots of a buffer range are in use or held back "
                         "(lower the rate or --iova-reuse)", pool->n);
        return pool->base;
    }
    return pool->base + idx * pool->chunk;
}

void ims_gen_pool_put(ims_gen *g, ims_gen_pool *pool, uint64_t addr)
{
    uint32_t idx = (uint32_t)((addr - pool->base) / pool->chunk);
    if (pool->random || !g->open) {
        push_free(g, pool, idx);
        return;
    }
    if (pool->held_head + pool->nheld == pool->capheld) {
        if (pool->held_head) { /* slide the live part down before growing */
            memmove(pool->held, pool->held + pool->held_head, pool->nheld * sizeof *pool->held);
            pool->held_head = 0;
        }
        if (pool->nheld == pool->capheld) {
            size_t cap = pool->capheld ? 2 * pool->capheld : 64;
            ims_gen_pool_held *h = realloc(pool->held, cap * sizeof *h);
            if (!h) {
                ims_gen_fail(g, ENOMEM, "out of memory");
                return;
            }
            pool->held = h;
            pool->capheld = cap;
        }
    }
    pool->held[pool->held_head + pool->nheld++] = (ims_gen_pool_held){.idx = idx, .t = g->t_ps};
}

void ims_gen_pool_destroy(ims_gen_pool *pool)
{
    free(pool->free);
    free(pool->held);
    memset(pool, 0, sizeof *pool);
}

/* ---- topology and address spaces ------------------------------------------------------------ */

void ims_gen_topology(ims_gen *g)
{
    if (!g->guest || !rec_begin(g, IMS_V_VM))
        return;
    uint64_t mem = ims_gen_c(g, IMS_GEN_VM_MEM);
    if (!mem) {
        mem = ims_gen_round_up(g->phys_end + IMS_GEN_GUEST_RESERVE, 1ull << 30);
    } else if (g->phys_end + GUEST_POOL_MIN > mem) {
        ims_gen_fail(g, EINVAL,
                     "--vm-mem: %" PRIu64 " MiB is too small: the workload uses guest RAM up to %" PRIu64
                     " MiB, plus at least 8 MiB for the guest's page tables",
                     mem >> 20, (uint64_t)((g->phys_end + (1ull << 20) - 1) >> 20));
        return;
    }
    rec_num(g, IMS_K_ID, GUEST_VM);
    rec_num(g, IMS_K_MEM, mem);
    rec_num(g, IMS_K_MODE, ims_gen_c(g, IMS_GEN_MODE));
    rec_write(g);
}

void ims_gen_device(ims_gen *g, unsigned sid, const char *name, unsigned pasid_bits)
{
    if (!rec_begin(g, IMS_V_DEVICE))
        return;
    rec_num(g, IMS_K_SID, sid);
    if (g->guest)
        rec_num(g, IMS_K_VM, GUEST_VM);
    rec_str(g, IMS_K_NAME, name);
    if (ims_gen_c(g, IMS_GEN_ATS))
        rec_flag(g, IMS_K_ATS);
    if (pasid_bits)
        rec_num(g, IMS_K_PASID_BITS, pasid_bits);
    if (ims_gen_c(g, IMS_GEN_OUTSTANDING))
        rec_num(g, IMS_K_OUTSTANDING, ims_gen_c(g, IMS_GEN_OUTSTANDING));
    rec_write(g);
}

static void space_init(ims_gen_space *s, const char *dev, uint32_t pasid, const char *ioas)
{
    snprintf(s->dev, sizeof s->dev, "%s", dev);
    snprintf(s->ioas, sizeof s->ioas, "%s", ioas);
    s->pasid = pasid;
}

/* A PASID attach needs a HWPT allocated with IOMMU_HWPT_ALLOC_PASID (Linux >=
 * 6.13, iommufd_hwpt_pasid_compat): the IOAS's automatic HWPT has flags 0, so
 * the PASID gets its own HWPT `IOAS.hwpt` over the IOAS; the RID attaches the
 * IOAS directly. */
static void host_attach(ims_gen *g, const ims_gen_space *s)
{
    char pt[IMS_TRACE_NAME_MAX + 1];
    snprintf(pt, sizeof pt, "%s", s->ioas);
    if (rec_begin(g, IMS_V_IOAS_ALLOC)) {
        rec_str(g, IMS_K_OUT, s->ioas);
        rec_write(g);
    }
    if (s->pasid != IMS_GEN_NO_PASID && rec_begin(g, IMS_V_HWPT_ALLOC)) {
        if ((size_t)snprintf(pt, sizeof pt, "%s.hwpt", s->ioas) >= sizeof pt) {
            ims_gen_fail(g, EINVAL, "internal: IOAS name %s too long for its HWPT's name", s->ioas);
            return;
        }
        rec_str(g, IMS_K_DEV, s->dev);
        rec_str(g, IMS_K_PT, s->ioas);
        rec_num(g, IMS_K_FLAGS, IMS_TRACE_HWPT_ALLOC_PASID);
        rec_str(g, IMS_K_OUT, pt);
        rec_write(g);
    }
    if (rec_begin(g, IMS_V_ATTACH)) {
        rec_str(g, IMS_K_DEV, s->dev);
        rec_str(g, IMS_K_PT, pt);
        if (s->pasid != IMS_GEN_NO_PASID)
            rec_num(g, IMS_K_PASID, s->pasid);
        rec_write(g);
    }
}

void ims_gen_space_dev(ims_gen *g, ims_gen_space *s, const char *dev, const char *ioas)
{
    space_init(s, dev, IMS_GEN_NO_PASID, ioas);
    if (!g->guest)
        host_attach(g, s); /* guest: the RID domain is made by the first guest.map */
}

void ims_gen_space_pasid(ims_gen *g, ims_gen_space *s, const char *dev, uint32_t pasid, const char *ioas)
{
    space_init(s, dev, pasid, ioas);
    if (!g->guest) {
        host_attach(g, s);
        return;
    }
    /* The process's page-table root: a page of guest RAM never handed out for data (zero). */
    uint64_t root = ims_gen_phys_alloc(g, IMS_GEN_PAGE, IMS_GEN_PAGE);
    if (!rec_begin(g, IMS_V_GUEST_PASID_BIND))
        return;
    rec_num(g, IMS_K_VM, GUEST_VM);
    rec_str(g, IMS_K_DEV, dev);
    rec_num(g, IMS_K_PASID, pasid);
    rec_num(g, IMS_K_S1_PGTBL, root);
    rec_write(g);
}

void ims_gen_map(ims_gen *g, const ims_gen_space *s, uint64_t iova, uint64_t phys, uint64_t len, unsigned prot)
{
    if (!rec_begin(g, g->guest ? IMS_V_GUEST_MAP : IMS_V_IOAS_MAP))
        return;
    if (g->guest) {
        rec_num(g, IMS_K_VM, GUEST_VM);
        rec_str(g, IMS_K_DEV, s->dev);
        if (s->pasid != IMS_GEN_NO_PASID)
            rec_num(g, IMS_K_PASID, s->pasid);
        rec_num(g, IMS_K_GPA, phys);
    } else {
        rec_str(g, IMS_K_IOAS, s->ioas);
        rec_num(g, IMS_K_HPA, phys);
    }
    rec_num(g, IMS_K_IOVA, iova);
    rec_num(g, IMS_K_LEN, len);
    if (prot != IMS_TRACE_PROT_RW)
        rec_num(g, IMS_K_PROT, prot);
    rec_write(g);
}

void ims_gen_unmap(ims_gen *g, const ims_gen_space *s, uint64_t iova, uint64_t len)
{
    if (!rec_begin(g, g->guest ? IMS_V_GUEST_UNMAP : IMS_V_IOAS_UNMAP))
        return;
    if (g->guest) {
        rec_num(g, IMS_K_VM, GUEST_VM);
        rec_str(g, IMS_K_DEV, s->dev);
        if (s->pasid != IMS_GEN_NO_PASID)
            rec_num(g, IMS_K_PASID, s->pasid);
    } else {
        rec_str(g, IMS_K_IOAS, s->ioas);
    }
    rec_num(g, IMS_K_IOVA, iova);
    rec_num(g, IMS_K_LEN, len);
    rec_write(g);
}

void ims_gen_dma(ims_gen *g, const ims_gen_space *s, uint64_t iova, uint64_t len, bool wr, uint64_t phys)
{
    if (!rec_begin(g, IMS_V_DMA))
        return;
    rec_str(g, IMS_K_DEV, s->dev);
    if (s->pasid != IMS_GEN_NO_PASID)
        rec_num(g, IMS_K_PASID, s->pasid);
    rec_num(g, IMS_K_IOVA, iova);
    rec_num(g, IMS_K_LEN, len);
    rec_flag(g, wr ? IMS_K_WR : IMS_K_RD);
    /* Guest level: the HPA is the VMM's choice, so only the checker judges it. */
    if (!g->guest)
        rec_expect_pa(g, phys);
    rec_write(g);
}

void ims_gen_mark(ims_gen *g, const char *name)
{
    if (!rec_begin(g, IMS_V_MARK))
        return;
    rec_str(g, IMS_K_NAME, name);
    rec_write(g);
}

void ims_gen_drain(ims_gen *g)
{
    if (rec_begin(g, IMS_V_DRAIN))
        rec_write(g);
}

/* ---- time and schedule ---------------------------------------------------------------------- */

/* Never backwards: an operation that arrived while the schedule was already
 * later (a full queue) starts then. */
void ims_gen_at(ims_gen *g, uint64_t t_ps)
{
    if (t_ps > g->t_ps)
        g->t_ps = t_ps;
}

void ims_gen_gap(ims_gen *g, uint64_t d_ps)
{
    g->gap_ps = d_ps;
}

bool ims_gen_chance(ims_gen *g, uint64_t pct)
{
    return ims_rng_below(&g->rng, 100) < pct;
}

void ims_gen_set_emitter(ims_gen *g, ims_gen_emit_fn fn, void *ctx)
{
    g->emit = fn;
    g->emit_ctx = ctx;
}

static bool ev_less(const ims_gen_ev *a, const ims_gen_ev *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

void ims_gen_ev_push(ims_gen *g, uint64_t t, unsigned kind, uint32_t q, uint64_t a, uint64_t b, uint64_t c)
{
    if (g->rc)
        return;
    if (g->nheap == g->capheap) {
        size_t cap = g->capheap ? 2 * g->capheap : 64;
        ims_gen_ev *h = realloc(g->heap, cap * sizeof *h);
        if (!h) {
            ims_gen_fail(g, ENOMEM, "out of memory");
            return;
        }
        g->heap = h;
        g->capheap = cap;
    }
    size_t i = g->nheap++;
    ims_gen_ev ev = {.t = t, .seq = g->seq++, .kind = kind, .q = q, .a = a, .b = b, .c = c};
    while (i > 0 && ev_less(&ev, &g->heap[(i - 1) / 2])) {
        g->heap[i] = g->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    g->heap[i] = ev;
}

static ims_gen_ev ev_pop(ims_gen *g)
{
    ims_gen_ev top = g->heap[0], last = g->heap[--g->nheap];
    size_t i = 0, n = g->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && ev_less(&g->heap[c + 1], &g->heap[c]))
            c++;
        if (!ev_less(&g->heap[c], &last))
            break;
        g->heap[i] = g->heap[c];
        i = c;
    }
    if (n)
        g->heap[i] = last;
    return top;
}

void ims_gen_run_until(ims_gen *g, uint64_t t)
{
    while (!g->rc && g->nheap && g->heap[0].t <= t) {
        ims_gen_ev ev = ev_pop(g);
        ims_gen_at(g, ev.t);
        g->emit(g, &ev, g->emit_ctx);
    }
    if (t != UINT64_MAX)
        ims_gen_at(g, t);
}

uint64_t ims_gen_op_begin(ims_gen *g, uint64_t i)
{
    uint64_t t = 0, warmup = ims_gen_c(g, IMS_GEN_WARMUP);
    if (g->open) {
        if (i == 0)
            g->next_arrival = ims_gen_c(g, IMS_GEN_START);
        t = g->next_arrival;
        uint64_t iv = ims_gen_c(g, IMS_GEN_INTERVAL);
        if (ims_gen_c(g, IMS_GEN_ARRIVAL) == IMS_GEN_ARRIVAL_POISSON) /* exponential spacing, mean iv */
            iv = (uint64_t)llround(-log1p(-ims_rng_unit(&g->rng)) * (double)iv);
        g->next_arrival = t + iv;
        ims_gen_run_until(g, t);
    }
    if (i == 0 && warmup)
        ims_gen_mark(g, "warmup");
    if (i == warmup)
        ims_gen_mark(g, "run");
    return t;
}

void ims_gen_finish(ims_gen *g)
{
    if (g->open)
        ims_gen_run_until(g, UINT64_MAX);
    ims_gen_drain(g);
}
