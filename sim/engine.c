/* Discrete-event engine: a timing wheel for the near future and a 4-ary heap
 * for the far future, over a pool of event records.
 *
 * Most events in a cycle-level model are a few to a few thousand cycles ahead,
 * so those go into a wheel of one-cycle buckets covering [now, now + WHEEL_SIZE):
 * scheduling appends to a bucket's FIFO list and the next event is found with a
 * two-level bitmap, both O(1). Appending keeps same-cycle events in schedule
 * order for free. Whether a bucket is empty, or an event is the last in its
 * bucket, is close to a coin toss under random delays, so pushing and popping
 * are branch-free: each bucket keeps a pointer to the link cell its next event
 * goes into (its own head while empty), and bitmap updates use masks.
 *
 * Events further ahead wait in a 4-ary min-heap of 16-byte (time, seq|slot)
 * entries; the sequence number breaks ties in schedule order. Whenever time
 * advances, heap entries that now fall inside the window move to the wheel in
 * (time, seq) order. That happens before any event at those times could be
 * scheduled directly into the wheel, so a migrated event always precedes a
 * same-cycle event scheduled after it.
 *
 * Cancellation is lazy: the record is marked dead and dropped when reached.
 * When dead entries outnumber live ones, everything is compacted, so memory
 * stays within 2x of what is pending. */
#include "sim/engine.h"

#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 ims_u128;

#define WHEEL_BITS 12u
#define WHEEL_SIZE (1u << WHEEL_BITS) /* cycles covered by the wheel */
#define WHEEL_MASK (WHEEL_SIZE - 1)
#define WHEEL_WORDS (WHEEL_SIZE / 64) /* bitmap words; one summary word covers them */
_Static_assert(WHEEL_WORDS >= 1 && WHEEL_WORDS <= 64, "the wheel bitmap needs one summary word");

#define HEAP_ROOT 3u /* root index: children of i are 4i-8..4i-5, one cache line */
#define NO_SLOT UINT32_MAX
#define SEQ_LIMIT (UINT64_C(1) << 32)

/* Heap entry. Comparing (time, lo) orders by time, then by scheduling order;
 * the slot bits never decide because seq is unique. */
typedef struct ims_heap_ent {
    uint64_t lo; /* seq << 32 | slot */
    uint64_t time;
} ims_heap_ent;

static inline ims_u128 ent_key(ims_heap_ent e) { return ((ims_u128)e.time << 64) | e.lo; }
static inline uint32_t ent_slot(ims_heap_ent e) { return (uint32_t)e.lo; }

/* Pool record. fn == NULL: free, or cancelled but still queued. */
typedef struct ims_event_rec {
    ims_event_fn fn;
    void *ctx;
    uint64_t arg;
    uint32_t gen;  /* bumped when the event runs or is cancelled */
    uint32_t next; /* free-list link, or next event in the same wheel bucket */
} ims_event_rec;
/* A power-of-two size keeps every record inside one cache line. */
_Static_assert(sizeof(ims_event_rec) == 32, "event record should be 32 bytes");

struct ims_engine {
    ims_cycle now;
    uint64_t clock_hz;
    uint64_t events_run;
    size_t live;         /* scheduled, not yet run, not cancelled */
    size_t dead;         /* cancelled entries still queued */
    bool stop;

    ims_event_rec *pool;
    uint32_t pool_cap;
    uint32_t free_head;

    /* Wheel: bucket b holds the events at the one cycle t in [now, now +
     * WHEEL_SIZE) with t % WHEEL_SIZE == b. head[b] is valid only where the
     * bucket's bit is set. tail[b] is the link cell the next push writes: the
     * last event's `next`, or &head[b] when the bucket is empty. */
    size_t wheel_count;
    uint64_t summary;            /* bit w: bits[w] != 0 */
    uint64_t bits[WHEEL_WORDS];  /* bit b: bucket b non-empty */
    uint32_t head[WHEEL_SIZE];
    uint32_t *tail[WHEEL_SIZE];

    /* Heap of events at or beyond now + WHEEL_SIZE, entries at [HEAP_ROOT, heap_end). */
    ims_heap_ent *heap;
    uint32_t heap_end;
    uint32_t heap_cap;
    uint64_t seq; /* next sequence number, <= SEQ_LIMIT */
};

/* Test-only: move the heap's sequence counter close to its wrap. Not in the
 * public header on purpose; tests declare it themselves. */
void ims_engine_debug_set_seq(ims_engine *e, uint64_t seq);

ims_engine *ims_engine_create(uint64_t clock_hz)
{
    if (clock_hz == 0)
        return NULL;
    ims_engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->clock_hz = clock_hz;
    e->free_head = NO_SLOT;
    for (uint32_t b = 0; b < WHEEL_SIZE; b++)
        e->tail[b] = &e->head[b];
    e->heap_end = HEAP_ROOT;
    return e;
}

void ims_engine_destroy(ims_engine *e)
{
    if (!e)
        return;
    free(e->heap);
    free(e->pool);
    free(e);
}

ims_cycle ims_engine_now(const ims_engine *e) { return e->now; }
const uint64_t *ims_engine_now_ptr(const ims_engine *e) { return &e->now; }
uint64_t ims_engine_clock_hz(const ims_engine *e) { return e->clock_hz; }
size_t ims_engine_pending(const ims_engine *e) { return e->live; }
uint64_t ims_engine_events_run(const ims_engine *e) { return e->events_run; }
void ims_engine_stop(ims_engine *e) { e->stop = true; }

/* ---- pool ---------------------------------------------------------------- */

static bool pool_grow(ims_engine *e)
{
    uint32_t old = e->pool_cap;
    if (old >= UINT32_MAX / 2)
        return false;
    uint32_t cap = old ? old * 2 : 256;
    /* Not realloc: the old pool must stay readable to re-aim the wheel's tail
     * pointers, and 64-byte alignment keeps each record in one cache line. */
    ims_event_rec *p = aligned_alloc(64, (size_t)cap * sizeof *p);
    if (!p)
        return false;
    if (old) {
        memcpy(p, e->pool, (size_t)old * sizeof *p);
        for (uint64_t s = e->summary; s; s &= s - 1) {
            uint32_t w = (uint32_t)__builtin_ctzll(s);
            for (uint64_t m = e->bits[w]; m; m &= m - 1) {
                uint32_t b = (w << 6) | (uint32_t)__builtin_ctzll(m);
                /* A non-empty bucket's tail is its last record's link. */
                const ims_event_rec *last =
                    (const ims_event_rec *)(void *)((char *)e->tail[b] - offsetof(ims_event_rec, next));
                e->tail[b] = &p[last - e->pool].next;
            }
        }
    }
    free(e->pool);
    /* Chain the new records so the lowest index is handed out first. */
    for (uint32_t i = old; i < cap; i++) {
        p[i].fn = NULL;
        p[i].gen = 1;
        p[i].next = i + 1 < cap ? i + 1 : e->free_head;
    }
    e->pool = p;
    e->pool_cap = cap;
    e->free_head = old;
    return true;
}

static inline void slot_free(ims_engine *e, uint32_t slot)
{
    e->pool[slot].next = e->free_head;
    e->free_head = slot;
}

static inline bool slot_live(const ims_engine *e, uint32_t slot) { return e->pool[slot].fn != NULL; }

/* ---- wheel --------------------------------------------------------------- */

static inline void wheel_push(ims_engine *e, ims_cycle when, uint32_t slot)
{
    uint32_t b = (uint32_t)when & WHEEL_MASK;
    *e->tail[b] = slot;
    e->tail[b] = &e->pool[slot].next;
    e->bits[b >> 6] |= UINT64_C(1) << (b & 63);
    e->summary |= UINT64_C(1) << (b >> 6);
    e->wheel_count++;
}

/* Unlink the head of non-empty bucket b (the caller frees or runs it). The
 * last record's `next` is never read as a link: tail marks the end. */
static inline void wheel_pop(ims_engine *e, uint32_t b)
{
    uint32_t *cell = &e->pool[e->head[b]].next;
    uint64_t last = e->tail[b] == cell;
    e->head[b] = *cell;
    /* A select by mask: GCC turns the plain ternary into a mispredicted branch. */
    uintptr_t keep = -(uintptr_t)last;
    e->tail[b] = (uint32_t *)(((uintptr_t)&e->head[b] & keep) | ((uintptr_t)e->tail[b] & ~keep));
    uint64_t word = e->bits[b >> 6] & ~(last << (b & 63));
    e->bits[b >> 6] = word;
    e->summary &= ~((uint64_t)(word == 0) << (b >> 6));
    e->wheel_count--;
}

/* First non-empty bucket at or after now's bucket, circularly. The wheel must
 * not be empty. */
static inline uint32_t wheel_first(const ims_engine *e)
{
    uint32_t cur = (uint32_t)e->now & WHEEL_MASK;
    uint32_t w = cur >> 6;
    uint64_t m = e->bits[w] & (~UINT64_C(0) << (cur & 63));
    if (m)
        return (w << 6) | (uint32_t)__builtin_ctzll(m);
    /* Later words first, then wrap around to words 0..w. bits[w] has nothing
     * at or above cur here, so its lowest set bit is correct after the wrap. */
    uint64_t later = w == 63 ? 0 : e->summary & (~UINT64_C(0) << (w + 1));
    uint64_t s = later ? later : e->summary;
    assert(s != 0);
    uint32_t w2 = (uint32_t)__builtin_ctzll(s);
    return (w2 << 6) | (uint32_t)__builtin_ctzll(e->bits[w2]);
}

/* ---- heap ---------------------------------------------------------------- */

static bool heap_grow(ims_engine *e)
{
    uint32_t old = e->heap_cap;
    if (old >= UINT32_MAX / 2)
        return false;
    uint32_t cap = old ? old * 2 : 256;
    /* 64-byte alignment puts each group of four siblings in one cache line. */
    ims_heap_ent *h = aligned_alloc(64, (size_t)cap * sizeof *h);
    if (!h)
        return false;
    if (e->heap)
        memcpy(h + HEAP_ROOT, e->heap + HEAP_ROOT, (size_t)(e->heap_end - HEAP_ROOT) * sizeof *h);
    free(e->heap);
    e->heap = h;
    e->heap_cap = cap;
    return true;
}

static inline uint32_t heap_parent(uint32_t i) { return (i + 8) / 4; }
static inline uint32_t heap_first_child(uint32_t i) { return 4 * i - 8; }

static void sift_up(ims_heap_ent *h, uint32_t i, ims_heap_ent x)
{
    ims_u128 k = ent_key(x);
    while (i > HEAP_ROOT) {
        uint32_t p = heap_parent(i);
        if (ent_key(h[p]) <= k)
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

/* Place x at hole i and sift it down within [HEAP_ROOT, end). */
static void sift_down(ims_heap_ent *h, uint32_t i, uint32_t end, ims_heap_ent x)
{
    ims_u128 k = ent_key(x);
    for (;;) {
        uint32_t c = heap_first_child(i);
        if (c >= end)
            break;
        uint32_t best = c;
        ims_u128 bk = ent_key(h[c]);
        if (c + 3 < end) {
            /* Full family: a branch-free tournament of four. */
            ims_u128 k1 = ent_key(h[c + 1]), k2 = ent_key(h[c + 2]), k3 = ent_key(h[c + 3]);
            uint32_t b01 = k1 < bk ? c + 1 : c;
            ims_u128 m01 = k1 < bk ? k1 : bk;
            uint32_t b23 = k3 < k2 ? c + 3 : c + 2;
            ims_u128 m23 = k3 < k2 ? k3 : k2;
            best = m23 < m01 ? b23 : b01;
            bk = m23 < m01 ? m23 : m01;
        } else {
            for (uint32_t j = c + 1; j < end; j++) {
                ims_u128 kj = ent_key(h[j]);
                if (kj < bk) {
                    bk = kj;
                    best = j;
                }
            }
        }
        if (k <= bk)
            break;
        h[i] = h[best];
        i = best;
    }
    h[i] = x;
}

static void heap_pop(ims_engine *e)
{
    uint32_t end = --e->heap_end;
    if (end > HEAP_ROOT)
        sift_down(e->heap, HEAP_ROOT, end, e->heap[end]);
}

/* Renumber heap entries 0..n-1 in (time, seq) order. Relative order is kept,
 * so the heap stays valid without moving anything. Runs once per 2^32
 * far-future schedules; O(n log n) in the heap size. */
static bool seq_renumber(ims_engine *e)
{
    const ims_heap_ent *h = e->heap;
    uint32_t n = e->heap_end - HEAP_ROOT;
    uint32_t *idx = malloc(((size_t)n + 1) * sizeof *idx);
    uint32_t *tmp = malloc(((size_t)n + 1) * sizeof *tmp);
    if (!idx || !tmp) {
        free(idx);
        free(tmp);
        return false;
    }
    for (uint32_t i = 0; i < n; i++)
        idx[i] = HEAP_ROOT + i;
    /* Bottom-up merge sort of heap positions by key (no recursion). */
    for (uint32_t width = 1; width < n; width *= 2) {
        for (uint32_t lo = 0; lo < n; lo += 2 * width) {
            uint32_t mid = n - lo > width ? lo + width : n;
            uint32_t hi = n - mid > width ? mid + width : n;
            uint32_t a = lo, b = mid, o = lo;
            while (a < mid && b < hi)
                tmp[o++] = ent_key(h[idx[b]]) < ent_key(h[idx[a]]) ? idx[b++] : idx[a++];
            while (a < mid)
                tmp[o++] = idx[a++];
            while (b < hi)
                tmp[o++] = idx[b++];
        }
        uint32_t *t = idx;
        idx = tmp;
        tmp = t;
    }
    for (uint32_t r = 0; r < n; r++) {
        ims_heap_ent *x = &e->heap[idx[r]];
        x->lo = ((uint64_t)r << 32) | ent_slot(*x);
    }
    e->seq = n;
    free(idx);
    free(tmp);
    return true;
}

void ims_engine_debug_set_seq(ims_engine *e, uint64_t seq)
{
    assert(seq < SEQ_LIMIT);
    /* Only upward, so pending entries stay ordered before new ones. */
    if (seq > e->seq)
        e->seq = seq;
}

/* ---- cancellation cleanup ------------------------------------------------ */

/* Drop every cancelled entry: relink wheel buckets, filter and re-heapify the
 * heap. O(pending + WHEEL_WORDS). */
static void compact(ims_engine *e)
{
    for (uint64_t s = e->summary; s; s &= s - 1) {
        uint32_t w = (uint32_t)__builtin_ctzll(s);
        for (uint64_t m = e->bits[w]; m; m &= m - 1) {
            uint32_t b = (w << 6) | (uint32_t)__builtin_ctzll(m);
            uint32_t *end = e->tail[b];
            uint32_t *keep = &e->head[b]; /* where the next kept record is linked */
            for (uint32_t x = e->head[b];;) {
                /* Read the link before slot_free overwrites it. */
                uint32_t *cell = &e->pool[x].next;
                uint32_t next = *cell;
                if (slot_live(e, x)) {
                    *keep = x;
                    keep = cell;
                } else {
                    slot_free(e, x);
                    e->wheel_count--;
                }
                if (cell == end)
                    break;
                x = next;
            }
            e->tail[b] = keep;
            if (keep == &e->head[b])
                e->bits[w] &= ~(UINT64_C(1) << (b & 63));
        }
        if (!e->bits[w])
            e->summary &= ~(UINT64_C(1) << w);
    }

    ims_heap_ent *h = e->heap;
    uint32_t n = HEAP_ROOT;
    for (uint32_t r = HEAP_ROOT; r < e->heap_end; r++) {
        if (slot_live(e, ent_slot(h[r])))
            h[n++] = h[r];
        else
            slot_free(e, ent_slot(h[r]));
    }
    e->heap_end = n;
    if (n > HEAP_ROOT + 1)
        for (uint32_t i = heap_parent(n - 1) + 1; i-- > HEAP_ROOT;)
            sift_down(h, i, n, h[i]);
    e->dead = 0;
}

/* ---- scheduling ---------------------------------------------------------- */

ims_event_id ims_engine_schedule_at(ims_engine *e, ims_cycle when, ims_event_fn fn, void *ctx,
                                    uint64_t arg)
{
    assert(fn != NULL);
    assert(when >= e->now && "an event cannot be scheduled in the past");
    if (when < e->now)
        when = e->now;
    bool near = when - e->now < WHEEL_SIZE;
    /* Get every resource before touching anything, so failure changes nothing. */
    if (e->free_head == NO_SLOT && !pool_grow(e))
        return 0;
    if (!near) {
        if (e->heap_end >= e->heap_cap && !heap_grow(e))
            return 0;
        if (e->seq == SEQ_LIMIT && !seq_renumber(e))
            return 0;
    }

    uint32_t slot = e->free_head;
    ims_event_rec *r = &e->pool[slot];
    e->free_head = r->next;
    r->fn = fn;
    r->ctx = ctx;
    r->arg = arg;
    if (near) {
        wheel_push(e, when, slot);
    } else {
        ims_heap_ent x = { .lo = (e->seq++ << 32) | slot, .time = when };
        sift_up(e->heap, e->heap_end++, x);
    }
    e->live++;
    return ((uint64_t)r->gen << 32) | ((uint64_t)slot + 1);
}

ims_event_id ims_engine_schedule(ims_engine *e, ims_cycle delay, ims_event_fn fn, void *ctx,
                                 uint64_t arg)
{
    assert(fn != NULL);
    /* The common case (a near event, a free record) without the checks of
     * schedule_at: the same steps in the same order. */
    if (delay < WHEEL_SIZE && delay <= IMS_CYCLE_MAX - e->now && e->free_head != NO_SLOT) {
        uint32_t slot = e->free_head;
        ims_event_rec *r = &e->pool[slot];
        e->free_head = r->next;
        r->fn = fn;
        r->ctx = ctx;
        r->arg = arg;
        wheel_push(e, e->now + delay, slot);
        e->live++;
        return ((uint64_t)r->gen << 32) | ((uint64_t)slot + 1);
    }
    /* Saturate: a delay past the end of time means "never in this run". */
    ims_cycle when = delay > IMS_CYCLE_MAX - e->now ? IMS_CYCLE_MAX : e->now + delay;
    return ims_engine_schedule_at(e, when, fn, ctx, arg);
}

bool ims_engine_cancel(ims_engine *e, ims_event_id id)
{
    uint64_t s = id & 0xffffffffu;
    if (s == 0 || s > e->pool_cap)
        return false;
    ims_event_rec *r = &e->pool[s - 1];
    /* A matching generation means the event is queued and has not run:
     * running or cancelling bumps it. */
    if (r->gen != (uint32_t)(id >> 32) || !r->fn)
        return false;
    r->fn = NULL;
    r->gen++;
    e->live--;
    e->dead++;
    if (e->dead > e->live && e->dead >= 64)
        compact(e);
    return true;
}

/* ---- running ------------------------------------------------------------- */

/* Move time forward to t and pull heap events that now fall inside the wheel
 * window into it, in (time, seq) order. */
static inline void advance_to(ims_engine *e, ims_cycle t)
{
    e->now = t;
    while (e->heap_end > HEAP_ROOT && e->heap[HEAP_ROOT].time - t < WHEEL_SIZE) {
        ims_heap_ent top = e->heap[HEAP_ROOT];
        uint32_t slot = ent_slot(top);
        heap_pop(e);
        if (slot_live(e, slot)) {
            wheel_push(e, top.time, slot);
        } else {
            slot_free(e, slot);
            e->dead--;
        }
    }
}

/* Time of the next live event, dropping cancelled entries met on the way.
 * Does not move time. Returns false when nothing is pending. */
static inline bool next_live(ims_engine *e, ims_cycle *when)
{
    for (;;) {
        if (e->wheel_count) {
            uint32_t b = wheel_first(e);
            uint32_t slot = e->head[b];
            if (slot_live(e, slot)) {
                *when = e->now + ((b - (uint32_t)e->now) & WHEEL_MASK);
                return true;
            }
            wheel_pop(e, b);
            slot_free(e, slot);
            e->dead--;
        } else if (e->heap_end > HEAP_ROOT) {
            uint32_t slot = ent_slot(e->heap[HEAP_ROOT]);
            if (slot_live(e, slot)) {
                *when = e->heap[HEAP_ROOT].time;
                return true;
            }
            heap_pop(e);
            slot_free(e, slot);
            e->dead--;
        } else {
            return false;
        }
    }
}

/* Run the live event at the head of wheel bucket b, at time t. */
static inline void run_bucket(ims_engine *e, ims_cycle t, uint32_t b)
{
    /* Unconditional: time advances on about every other event under random
     * delays, a poor bet for the branch predictor. At t == now the migration
     * loop finds nothing, as every heap entry is >= now + WHEEL_SIZE; and the
     * entries it moves are later than t, so bucket b keeps its head. */
    advance_to(e, t);
    uint32_t slot = e->head[b];
    wheel_pop(e, b);
    ims_event_rec *r = &e->pool[slot];
    ims_event_fn fn = r->fn;
    void *ctx = r->ctx;
    uint64_t arg = r->arg;
    r->fn = NULL;
    r->gen++;
    /* Free before the call so a rescheduling callback reuses a warm record. */
    slot_free(e, slot);
    e->live--;
    e->events_run++;
    fn(ctx, arg);
}

/* Run the event next_live found at time t. */
static inline void run_next(ims_engine *e, ims_cycle t) { run_bucket(e, t, (uint32_t)t & WHEEL_MASK); }

bool ims_engine_step(ims_engine *e)
{
    ims_cycle t;
    if (!next_live(e, &t))
        return false;
    run_next(e, t);
    return true;
}

uint64_t ims_engine_run(ims_engine *e, ims_cycle until)
{
    uint64_t start = e->events_run;
    ims_cycle t;
    e->stop = false;
    for (;;) {
        if (e->wheel_count) {
            /* next_live and run_next for a live wheel head, its bucket found once. */
            uint32_t b = wheel_first(e);
            if (slot_live(e, e->head[b])) {
                t = e->now + ((b - (uint32_t)e->now) & WHEEL_MASK);
                if (t > until)
                    break;
                run_bucket(e, t, b);
                if (e->stop)
                    break;
                continue;
            }
        }
        if (!next_live(e, &t) || t > until)
            break;
        run_next(e, t);
        if (e->stop)
            break;
    }
    /* Running "until" a cycle means the simulation reached it, even if the last
     * event was earlier; running until idle leaves time at the last event. */
    if (!e->stop && until != IMS_CYCLE_MAX && until > e->now)
        advance_to(e, until);
    e->stop = false;
    return e->events_run - start;
}

/* ---- time ---------------------------------------------------------------- */

static ims_cycle div_round_up_sat(ims_u128 num, uint64_t den)
{
    ims_u128 q = num / den + (num % den != 0);
    return q > IMS_CYCLE_MAX ? IMS_CYCLE_MAX : (ims_cycle)q;
}

ims_cycle ims_ps_to_cycles(uint64_t clock_hz, uint64_t ps)
{
    assert(clock_hz > 0);
    if (clock_hz == 0)
        return 0;
    return div_round_up_sat((ims_u128)ps * clock_hz, UINT64_C(1000000000000));
}

double ims_cycles_to_ns(uint64_t clock_hz, ims_cycle cycles)
{
    assert(clock_hz > 0);
    if (clock_hz == 0)
        return 0.0;
    /* Split into integer and fractional parts so large counts keep precision. */
    ims_u128 num = (ims_u128)cycles * UINT64_C(1000000000);
    ims_u128 q = num / clock_hz;
    uint64_t r = (uint64_t)(num % clock_hz);
    return (double)q + (double)r / (double)clock_hz;
}

ims_cycle ims_engine_ns_to_cycles(const ims_engine *e, uint64_t ns)
{
    return div_round_up_sat((ims_u128)ns * e->clock_hz, UINT64_C(1000000000));
}

ims_cycle ims_engine_ps_to_cycles(const ims_engine *e, uint64_t ps)
{
    return ims_ps_to_cycles(e->clock_hz, ps);
}

double ims_engine_cycles_to_ns(const ims_engine *e, ims_cycle cycles)
{
    return ims_cycles_to_ns(e->clock_hz, cycles);
}
