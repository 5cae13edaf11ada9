/* Shared resources: counting slots with a FIFO wait queue, and pipelined ports. */
#include "sim/resource.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- slots --------------------------------------------------------------- */

int ims_slots_init(ims_slots *s, ims_engine *e, unsigned capacity)
{
    if (!s || !e || capacity == 0)
        return -EINVAL;
    memset(s, 0, sizeof *s);
    s->engine = e;
    s->capacity = capacity;
    return 0;
}

void ims_slots_fini(ims_slots *s)
{
    free(s->wait);
    s->wait = NULL;
    s->wait_cap = s->wait_head = s->wait_len = 0;
}

/* Out of host memory while modelling contention: the model cannot continue
 * faithfully and this is not an input error, so stop loudly. */
static void slots_oom(void)
{
    fputs("iommusim: out of memory in resource model\n", stderr);
    abort();
}

static void wait_grow(ims_slots *s)
{
    /* A power of two, so ring indices wrap with a mask (no division on the
     * acquire/release path). */
    unsigned cap = s->wait_cap ? s->wait_cap * 2 : 16;
    if (cap <= s->wait_cap)
        slots_oom();
    ims_slot_waiter *w = malloc((size_t)cap * sizeof *w);
    if (!w)
        slots_oom();
    /* Unroll the ring so the oldest waiter is at index 0. */
    for (unsigned i = 0; i < s->wait_len; i++)
        w[i] = s->wait[(s->wait_head + i) & (s->wait_cap - 1)];
    free(s->wait);
    s->wait = w;
    s->wait_cap = cap;
    s->wait_head = 0;
}

bool ims_slots_acquire(ims_slots *s, ims_event_fn fn, void *ctx, uint64_t arg)
{
    /* A release hands its slot straight to the oldest waiter, so a free slot
     * and a non-empty queue never coexist. */
    assert(s->wait_len == 0 || s->in_use == s->capacity);
    if (s->in_use < s->capacity) {
        s->in_use++;
        s->acquires++;
        return true;
    }
    assert(fn != NULL);
    if (s->wait_len == s->wait_cap)
        wait_grow(s);
    unsigned tail = (s->wait_head + s->wait_len) & (s->wait_cap - 1);
    s->wait[tail] = (ims_slot_waiter){ .fn = fn, .ctx = ctx, .arg = arg,
                                       .since = ims_engine_now(s->engine) };
    s->wait_len++;
    if (s->wait_len > s->max_waiters)
        s->max_waiters = s->wait_len;
    return false;
}

void ims_slots_release(ims_slots *s)
{
    assert(s->in_use > 0 && "release without a held slot");
    if (s->in_use == 0)
        return;
    if (s->wait_len == 0) {
        s->in_use--;
        return;
    }
    /* The slot passes to the oldest waiter without becoming free: in_use is
     * unchanged, so a same-cycle acquire cannot overtake the queue. */
    ims_slot_waiter w = s->wait[s->wait_head];
    s->wait_head = (s->wait_head + 1) & (s->wait_cap - 1);
    s->wait_len--;
    ims_cycle now = ims_engine_now(s->engine);
    s->acquires++;
    s->waited++;
    s->wait_cycles += now - w.since;
    if (!ims_engine_schedule(s->engine, 0, w.fn, w.ctx, w.arg))
        slots_oom();
}

unsigned ims_slots_free(const ims_slots *s) { return s->capacity - s->in_use; }
unsigned ims_slots_waiting(const ims_slots *s) { return s->wait_len; }

/* ---- ports --------------------------------------------------------------- */

void ims_port_init(ims_port *p, ims_engine *e, ims_cycle interval, ims_cycle latency)
{
    assert(interval >= 1);
    memset(p, 0, sizeof *p);
    p->engine = e;
    p->interval = interval ? interval : 1;
    p->latency = latency;
    p->next_free = 0;
}

/* The cycle a request arriving now is accepted. */
static ims_cycle port_accept(const ims_port *p)
{
    ims_cycle now = ims_engine_now(p->engine);
    return p->next_free > now ? p->next_free : now;
}

ims_cycle ims_port_issue(ims_port *p, ims_event_fn fn, void *ctx, uint64_t arg)
{
    ims_cycle now = ims_engine_now(p->engine);
    ims_cycle accept = port_accept(p);
    p->next_free = accept + p->interval;
    p->requests++;
    p->queued_cycles += accept - now;
    ims_cycle done = accept + p->latency;
    if (fn && !ims_engine_schedule_at(p->engine, done, fn, ctx, arg)) {
        fputs("iommusim: out of memory in resource model\n", stderr);
        abort();
    }
    return done;
}

ims_cycle ims_port_peek(const ims_port *p) { return port_accept(p) + p->latency; }

/* ---- lookup ports ---------------------------------------------------------- */

void ims_lookup_ports_init(ims_lookup_ports *p, unsigned ports)
{
    memset(p, 0, sizeof *p);
    p->ports = ports;
}

void ims_lookup_ports_fini(ims_lookup_ports *p)
{
    free(p->cyc);
    free(p->used);
    p->cyc = NULL;
    p->used = NULL;
    p->n = p->cap = 0;
}

ims_cycle ims_lookup_ports_start(ims_lookup_ports *p, ims_cycle now, ims_cycle at)
{
    if (p->ports == 0)
        return at;
    assert(at >= now);
    /* Drop cycles already past: nothing can be reserved before now. The list
     * holds at most one entry per cycle with a pending lookup, a handful. */
    unsigned k = 0;
    while (k < p->n && p->cyc[k] < now)
        k++;
    if (k) {
        memmove(p->cyc, p->cyc + k, (p->n - k) * sizeof *p->cyc);
        memmove(p->used, p->used + k, (p->n - k) * sizeof *p->used);
        p->n -= k;
    }
    /* The first cycle >= at that is absent (all ports free) or not full. */
    ims_cycle c = at;
    unsigned i = 0;
    while (i < p->n && p->cyc[i] < c)
        i++;
    while (i < p->n && p->cyc[i] == c && p->used[i] >= p->ports) {
        c++;
        i++;
    }
    if (i < p->n && p->cyc[i] == c) {
        p->used[i]++;
    } else {
        if (p->n == p->cap) {
            unsigned cap = p->cap ? 2 * p->cap : 16;
            ims_cycle *nc = realloc(p->cyc, cap * sizeof *nc);
            if (nc)
                p->cyc = nc;
            unsigned *nu = nc ? realloc(p->used, cap * sizeof *nu) : NULL;
            if (!nu)
                slots_oom();
            p->used = nu;
            p->cap = cap;
        }
        memmove(p->cyc + i + 1, p->cyc + i, (p->n - i) * sizeof *p->cyc);
        memmove(p->used + i + 1, p->used + i, (p->n - i) * sizeof *p->used);
        p->cyc[i] = c;
        p->used[i] = 1;
        p->n++;
    }
    p->lookups++;
    if (c != at) {
        p->waited++;
        p->wait_cycles += c - at;
    }
    return c;
}
