// Discrete-event engine: ordering, determinism, cancellation, run control,
// pool reuse and time conversion.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "sim/engine.h"
#include "sim/rng.h"

// Test-only hook in sim/engine.c (deliberately not in the public header): move
// the 32-bit sequence counter near its wrap so renumbering can be exercised
// without 2^32 schedules.
extern "C" void ims_engine_debug_set_seq(ims_engine *e, uint64_t seq);

namespace {

struct EngineDeleter {
    void operator()(ims_engine *e) const { ims_engine_destroy(e); }
};
using EnginePtr = std::unique_ptr<ims_engine, EngineDeleter>;

EnginePtr make_engine(uint64_t hz = 1000000000)
{
    EnginePtr e(ims_engine_create(hz));
    EXPECT_NE(e, nullptr);
    return e;
}

// Records (cycle, arg) of every event that runs.
struct Trace {
    ims_engine *e = nullptr;
    std::vector<std::pair<ims_cycle, uint64_t>> log;
};

void record(void *ctx, uint64_t arg)
{
    auto *t = static_cast<Trace *>(ctx);
    t->log.emplace_back(ims_engine_now(t->e), arg);
}

// Extract the slot index from a handle. White-box: engine.c encodes a handle as
// (generation << 32) | (slot + 1); used only to check that the pool is reused.
uint64_t slot_of(ims_event_id id) { return (id & 0xffffffffu) - 1; }

TEST(EngineBasic, CreateRejectsZeroClock)
{
    EXPECT_EQ(ims_engine_create(0), nullptr);
    auto e = make_engine(2500000000);
    EXPECT_EQ(ims_engine_clock_hz(e.get()), 2500000000u);
    EXPECT_EQ(ims_engine_now(e.get()), 0u);
    EXPECT_EQ(ims_engine_pending(e.get()), 0u);
    EXPECT_FALSE(ims_engine_step(e.get()));
    EXPECT_EQ(ims_engine_run(e.get(), IMS_CYCLE_MAX), 0u);
}

TEST(EngineOrder, SameCycleRunsInScheduleOrder)
{
    auto e = make_engine();
    Trace t{e.get(), {}};
    // Mix relative and absolute scheduling for the same cycle 5, plus an
    // earlier and a later event scheduled in between.
    for (uint64_t i = 0; i < 10; i++) {
        if (i % 2)
            ASSERT_NE(ims_engine_schedule(e.get(), 5, record, &t, i), 0u);
        else
            ASSERT_NE(ims_engine_schedule_at(e.get(), 5, record, &t, i), 0u);
        if (i == 4)
            ims_engine_schedule(e.get(), 6, record, &t, 100);
        if (i == 6)
            ims_engine_schedule(e.get(), 4, record, &t, 200);
    }
    EXPECT_EQ(ims_engine_pending(e.get()), 12u);
    EXPECT_EQ(ims_engine_run(e.get(), IMS_CYCLE_MAX), 12u);
    std::vector<std::pair<ims_cycle, uint64_t>> want = {{4, 200}};
    for (uint64_t i = 0; i < 10; i++)
        want.emplace_back(5, i);
    want.emplace_back(6, 100);
    EXPECT_EQ(t.log, want);
    EXPECT_EQ(ims_engine_now(e.get()), 6u);
}

// A zero-delay event scheduled by a running event goes behind the events
// already queued for that cycle.
struct ZeroDelay {
    Trace t;
};
void spawn_zero(void *ctx, uint64_t arg)
{
    auto *z = static_cast<ZeroDelay *>(ctx);
    record(&z->t, arg);
    if (arg < 3)
        ims_engine_schedule(z->t.e, 0, spawn_zero, z, arg + 10);
}

TEST(EngineOrder, ZeroDelayFromCallbackQueuesBehindSameCycle)
{
    auto e = make_engine();
    ZeroDelay z{{e.get(), {}}};
    for (uint64_t i = 0; i < 3; i++)
        ims_engine_schedule_at(e.get(), 7, spawn_zero, &z, i);
    ims_engine_run(e.get(), IMS_CYCLE_MAX);
    std::vector<std::pair<ims_cycle, uint64_t>> want = {{7, 0}, {7, 1}, {7, 2}, {7, 10}, {7, 11}, {7, 12}};
    EXPECT_EQ(z.t.log, want);
}

TEST(EngineOrder, RandomEventsMatchStableSortedReference)
{
    auto e = make_engine();
    Trace t{e.get(), {}};
    ims_rng rng;
    ims_rng_seed(&rng, 42);
    // 20000 events: half over 500 cycles (about 20 per cycle, so ties
    // dominate), half spread far beyond the engine's near-future window.
    std::vector<std::pair<ims_cycle, uint64_t>> ref;
    for (uint64_t i = 0; i < 20000; i++) {
        ims_cycle when = i % 2 ? ims_rng_below(&rng, 500) : ims_rng_below(&rng, 50000) / 7 * 7;
        ASSERT_NE(ims_engine_schedule_at(e.get(), when, record, &t, i), 0u);
        ref.emplace_back(when, i);
    }
    std::stable_sort(ref.begin(), ref.end(),
                     [](const auto &a, const auto &b) { return a.first < b.first; });
    EXPECT_EQ(ims_engine_run(e.get(), IMS_CYCLE_MAX), 20000u);
    EXPECT_EQ(t.log, ref);
    EXPECT_EQ(ims_engine_events_run(e.get()), 20000u);
}

// A self-sustaining random workload: each event schedules 0..3 successors at
// random delays and sometimes cancels an older pending event.
struct Churn {
    ims_engine *e;
    ims_rng rng;
    uint64_t next_id = 0;
    std::vector<ims_event_id> handles;
    std::vector<std::pair<ims_cycle, uint64_t>> log;
};

void churn_event(void *ctx, uint64_t arg)
{
    auto *c = static_cast<Churn *>(ctx);
    c->log.emplace_back(ims_engine_now(c->e), arg);
    if (c->next_id >= 30000)
        return;
    unsigned n = (unsigned)ims_rng_below(&c->rng, 4);
    for (unsigned i = 0; i < n; i++)
        c->handles.push_back(
            ims_engine_schedule(c->e, ims_rng_below(&c->rng, 50), churn_event, c, c->next_id++));
    if (ims_rng_below(&c->rng, 4) == 0 && !c->handles.empty())
        ims_engine_cancel(c->e, c->handles[ims_rng_below(&c->rng, c->handles.size())]);
}

std::vector<std::pair<ims_cycle, uint64_t>> run_churn(uint64_t seed)
{
    auto e = make_engine();
    Churn c{e.get(), {}, 0, {}, {}};
    ims_rng_seed(&c.rng, seed);
    for (int i = 0; i < 64; i++)
        c.handles.push_back(ims_engine_schedule(e.get(), (ims_cycle)i, churn_event, &c, c.next_id++));
    ims_engine_run(e.get(), IMS_CYCLE_MAX);
    EXPECT_EQ(ims_engine_pending(e.get()), 0u);
    EXPECT_EQ(ims_engine_events_run(e.get()), c.log.size());
    return c.log;
}

TEST(EngineDeterminism, IdenticalRunsGiveIdenticalTraces)
{
    auto a = run_churn(7);
    auto b = run_churn(7);
    ASSERT_GT(a.size(), 10000u);
    EXPECT_EQ(a, b);
    // Time never goes backwards, and a different seed gives a different run.
    for (size_t i = 1; i < a.size(); i++)
        ASSERT_LE(a[i - 1].first, a[i].first);
    EXPECT_NE(a, run_churn(8));
}

TEST(EngineCancel, PendingEventDoesNotRunAndIsNotCounted)
{
    auto e = make_engine();
    Trace t{e.get(), {}};
    ims_event_id a = ims_engine_schedule(e.get(), 10, record, &t, 1);
    ims_event_id b = ims_engine_schedule(e.get(), 10, record, &t, 2);
    ims_event_id c = ims_engine_schedule(e.get(), 20, record, &t, 3);
    ASSERT_NE(a, 0u);
    EXPECT_NE(a, b);
    EXPECT_EQ(ims_engine_pending(e.get()), 3u);
    EXPECT_TRUE(ims_engine_cancel(e.get(), b));
    EXPECT_EQ(ims_engine_pending(e.get()), 2u);
    EXPECT_FALSE(ims_engine_cancel(e.get(), b)); // second cancel: no longer pending
    EXPECT_TRUE(ims_engine_cancel(e.get(), c));  // cancel the last one: time must not reach 20
    EXPECT_EQ(ims_engine_run(e.get(), IMS_CYCLE_MAX), 1u);
    std::vector<std::pair<ims_cycle, uint64_t>> want = {{10, 1}};
    EXPECT_EQ(t.log, want);
    EXPECT_EQ(ims_engine_now(e.get()), 10u);
    EXPECT_EQ(ims_engine_events_run(e.get()), 1u);
    EXPECT_FALSE(ims_engine_step(e.get()));
}

TEST(EngineCancel, RanAndReusedAndBogusIdsAreRejected)
{
    auto e = make_engine();
    Trace t{e.get(), {}};
    ims_event_id a = ims_engine_schedule(e.get(), 1, record, &t, 1);
    ASSERT_TRUE(ims_engine_step(e.get()));
    EXPECT_FALSE(ims_engine_cancel(e.get(), a)); // already ran
    // The next event reuses a's pool slot with a new generation.
    ims_event_id b = ims_engine_schedule(e.get(), 1, record, &t, 2);
    ASSERT_EQ(slot_of(b), slot_of(a));
    EXPECT_NE(a, b);
    EXPECT_FALSE(ims_engine_cancel(e.get(), a)); // stale handle must not hit b
    EXPECT_EQ(ims_engine_pending(e.get()), 1u);
    // Cancelled slot reused: the cancelled handle stays dead.
    EXPECT_TRUE(ims_engine_cancel(e.get(), b));
    ims_engine_run(e.get(), IMS_CYCLE_MAX);
    ims_event_id c = ims_engine_schedule(e.get(), 1, record, &t, 3);
    ASSERT_EQ(slot_of(c), slot_of(b));
    EXPECT_FALSE(ims_engine_cancel(e.get(), b));
    EXPECT_FALSE(ims_engine_cancel(e.get(), 0));
    EXPECT_FALSE(ims_engine_cancel(e.get(), UINT64_MAX));
    EXPECT_FALSE(ims_engine_cancel(e.get(), (uint64_t)1 << 32 | 100000)); // slot never allocated
    ims_engine_run(e.get(), IMS_CYCLE_MAX);
    std::vector<std::pair<ims_cycle, uint64_t>> want = {{1, 1}, {2, 3}};
    EXPECT_EQ(t.log, want);
}

// An event that cancels its own handle while running: it already ran.
struct SelfCancel {
    ims_engine *e;
    ims_event_id self = 0, other = 0;
    bool self_result = true, other_result = false;
    int other_runs = 0;
};
void self_cancel(void *ctx, uint64_t)
{
    auto *s = static_cast<SelfCancel *>(ctx);
    s->self_result = ims_engine_cancel(s->e, s->self);
    s->other_result = ims_engine_cancel(s->e, s->other);
}
void count_other(void *ctx, uint64_t) { static_cast<SelfCancel *>(ctx)->other_runs++; }

TEST(EngineCancel, CallbackCancelsItselfAndASameCycleEvent)
{
    auto e = make_engine();
    SelfCancel s{e.get()};
    s.self = ims_engine_schedule(e.get(), 3, self_cancel, &s, 0);
    s.other = ims_engine_schedule(e.get(), 3, count_other, &s, 0);
    EXPECT_EQ(ims_engine_run(e.get(), IMS_CYCLE_MAX), 1u);
    EXPECT_FALSE(s.self_result);
    EXPECT_TRUE(s.other_result);
    EXPECT_EQ(s.other_runs, 0);
}

TEST(EngineCancel, ManyCancelledTimeoutsDoNotGrowThePool)
{
    // Far-future timeouts that are almost always cancelled: cancelled entries
    // must be reclaimed before they reach the top of the queue.
    auto e = make_engine();
    Trace t{e.get(), {}};
    uint64_t max_slot = 0;
    for (uint64_t i = 0; i < 100000; i++) {
        ims_event_id id = ims_engine_schedule(e.get(), 1000000 + i, record, &t, i);
        max_slot = std::max(max_slot, slot_of(id));
        ASSERT_TRUE(ims_engine_cancel(e.get(), id));
    }
    EXPECT_LT(max_slot, 256u);
    EXPECT_EQ(ims_engine_pending(e.get()), 0u);
    EXPECT_EQ(ims_engine_run(e.get(), IMS_CYCLE_MAX), 0u);
    EXPECT_EQ(ims_engine_now(e.get()), 0u);
    EXPECT_TRUE(t.log.empty());
}

TEST(EngineRun, UntilStopsAtBoundaryAndAdvancesTime)
{
    auto e = make_engine();
    Trace t{e.get(), {}};
    for (ims_cycle c : {10, 20, 20, 30})
        ims_engine_schedule_at(e.get(), c, record, &t, c);
    EXPECT_EQ(ims_engine_run(e.get(), 19), 1u);
    EXPECT_EQ(ims_engine_now(e.get()), 19u); // reached the requested cycle
    EXPECT_EQ(ims_engine_run(e.get(), 20), 2u); // "at or before": both cycle-20 events
    EXPECT_EQ(ims_engine_now(e.get()), 20u);
    EXPECT_EQ(ims_engine_pending(e.get()), 1u);
    EXPECT_EQ(ims_engine_run(e.get(), 25), 0u);
    EXPECT_EQ(ims_engine_now(e.get()), 25u);
    EXPECT_EQ(ims_engine_run(e.get(), 5), 0u); // until in the past: no change
    EXPECT_EQ(ims_engine_now(e.get()), 25u);
    // Relative delays count from the advanced time.
    ims_engine_schedule(e.get(), 1, record, &t, 26);
    EXPECT_EQ(ims_engine_run(e.get(), IMS_CYCLE_MAX), 2u);
    EXPECT_EQ(ims_engine_now(e.get()), 30u); // until idle: time stays at the last event
    std::vector<std::pair<ims_cycle, uint64_t>> want = {{10, 10}, {20, 20}, {20, 20}, {26, 26}, {30, 30}};
    EXPECT_EQ(t.log, want);
}

struct Stopper {
    ims_engine *e;
    int runs = 0;
};
void stop_here(void *ctx, uint64_t)
{
    auto *s = static_cast<Stopper *>(ctx);
    s->runs++;
    ims_engine_stop(s->e);
}
void just_count(void *ctx, uint64_t) { static_cast<Stopper *>(ctx)->runs++; }

TEST(EngineRun, StopReturnsAfterCurrentEventAndRunResumes)
{
    auto e = make_engine();
    Stopper s{e.get()};
    ims_engine_schedule_at(e.get(), 5, just_count, &s, 0);
    ims_engine_schedule_at(e.get(), 10, stop_here, &s, 0);
    ims_engine_schedule_at(e.get(), 10, just_count, &s, 0);
    ims_engine_schedule_at(e.get(), 40, just_count, &s, 0);
    EXPECT_EQ(ims_engine_run(e.get(), 100), 2u);
    EXPECT_EQ(ims_engine_now(e.get()), 10u); // stopped: time is not advanced to 100
    EXPECT_EQ(ims_engine_pending(e.get()), 2u);
    EXPECT_EQ(ims_engine_run(e.get(), 100), 2u);
    EXPECT_EQ(ims_engine_now(e.get()), 100u);
    EXPECT_EQ(s.runs, 4);
    // A stop requested outside a run is not carried into the next one.
    ims_engine_stop(e.get());
    ims_engine_schedule(e.get(), 1, just_count, &s, 0);
    EXPECT_EQ(ims_engine_run(e.get(), IMS_CYCLE_MAX), 1u);
}

TEST(EngineRun, StepRunsOneEventInOrder)
{
    auto e = make_engine();
    Trace t{e.get(), {}};
    ims_engine_schedule_at(e.get(), 9, record, &t, 2);
    ims_engine_schedule_at(e.get(), 3, record, &t, 1);
    ASSERT_TRUE(ims_engine_step(e.get()));
    EXPECT_EQ(ims_engine_now(e.get()), 3u);
    ASSERT_TRUE(ims_engine_step(e.get()));
    EXPECT_EQ(ims_engine_now(e.get()), 9u);
    EXPECT_FALSE(ims_engine_step(e.get()));
    EXPECT_EQ(ims_engine_events_run(e.get()), 2u);
}

TEST(EngineRun, HugeDelaySaturatesAtEndOfTime)
{
    auto e = make_engine();
    Trace t{e.get(), {}};
    ims_engine_schedule_at(e.get(), 100, record, &t, 0);
    ims_engine_run(e.get(), IMS_CYCLE_MAX);
    ims_engine_schedule(e.get(), IMS_CYCLE_MAX, record, &t, 1);
    ims_engine_schedule(e.get(), 5, record, &t, 2);
    EXPECT_EQ(ims_engine_run(e.get(), IMS_CYCLE_MAX), 2u);
    std::vector<std::pair<ims_cycle, uint64_t>> want = {{100, 0}, {105, 2}, {IMS_CYCLE_MAX, 1}};
    EXPECT_EQ(t.log, want);
}

// Steady state: a fixed population of events, each replaced by a successor.
struct Steady {
    ims_engine *e;
    ims_rng rng;
    uint64_t max_slot = 0;
    uint64_t remaining;
};
void steady_event(void *ctx, uint64_t)
{
    auto *s = static_cast<Steady *>(ctx);
    if (s->remaining == 0)
        return;
    s->remaining--;
    ims_event_id id = ims_engine_schedule(s->e, 1 + ims_rng_below(&s->rng, 1000), steady_event, s, 0);
    s->max_slot = std::max(s->max_slot, slot_of(id));
}

TEST(EnginePool, SteadyStateReusesRecords)
{
    auto e = make_engine();
    Steady s{e.get(), {}, 0, 100000};
    ims_rng_seed(&s.rng, 1);
    for (int i = 0; i < 1000; i++)
        ims_engine_schedule(e.get(), (ims_cycle)i, steady_event, &s, 0);
    EXPECT_EQ(ims_engine_pending(e.get()), 1000u);
    EXPECT_EQ(ims_engine_run(e.get(), IMS_CYCLE_MAX), 101000u);
    EXPECT_EQ(ims_engine_events_run(e.get()), 101000u);
    EXPECT_EQ(ims_engine_pending(e.get()), 0u);
    // 1000 live events at most: slots come from a pool of about that size,
    // never one per scheduled event.
    EXPECT_LT(s.max_slot, 1024u);
}

TEST(EngineOrder, SequenceWrapKeepsFifoOrder)
{
    auto e = make_engine();
    Trace t{e.get(), {}};
    // Far-future times: these events wait in the sequence-ordered queue.
    const ims_cycle T = 1000000;
    ims_engine_schedule_at(e.get(), T + 50, record, &t, 0);
    ims_engine_schedule_at(e.get(), T + 40, record, &t, 100);
    ims_engine_schedule_at(e.get(), T + 50, record, &t, 1);
    // Three schedules before the 32-bit counter wraps, then several after it.
    ims_engine_debug_set_seq(e.get(), (UINT64_C(1) << 32) - 3);
    for (uint64_t i = 2; i < 8; i++) {
        ims_engine_schedule_at(e.get(), T + 50, record, &t, i);
        ims_engine_schedule_at(e.get(), T + 60 - i, record, &t, 200 + i);
    }
    ims_engine_run(e.get(), IMS_CYCLE_MAX);
    std::vector<std::pair<ims_cycle, uint64_t>> want = {{T + 40, 100}};
    for (uint64_t i = 0; i < 8; i++)
        want.emplace_back(T + 50, i);
    for (uint64_t i = 7; i >= 2; i--)
        want.emplace_back(T + 60 - i, 200 + i);
    EXPECT_EQ(t.log, want);
}

TEST(EngineTime, OneGigahertz)
{
    auto e = make_engine(1000000000);
    EXPECT_EQ(ims_engine_ns_to_cycles(e.get(), 0), 0u);
    EXPECT_EQ(ims_engine_ns_to_cycles(e.get(), 1), 1u);
    EXPECT_EQ(ims_engine_ns_to_cycles(e.get(), 250), 250u);
    EXPECT_EQ(ims_engine_ps_to_cycles(e.get(), 1), 1u);    // 0.001 cycle rounds up
    EXPECT_EQ(ims_engine_ps_to_cycles(e.get(), 1000), 1u);
    EXPECT_EQ(ims_engine_ps_to_cycles(e.get(), 1001), 2u);
    EXPECT_DOUBLE_EQ(ims_engine_cycles_to_ns(e.get(), 123), 123.0);
}

TEST(EngineTime, TwoPointFiveGigahertz)
{
    auto e = make_engine(2500000000);
    EXPECT_EQ(ims_engine_ns_to_cycles(e.get(), 1), 3u);  // 2.5 -> 3
    EXPECT_EQ(ims_engine_ns_to_cycles(e.get(), 2), 5u);
    EXPECT_EQ(ims_engine_ns_to_cycles(e.get(), 3), 8u);  // 7.5 -> 8
    EXPECT_EQ(ims_engine_ns_to_cycles(e.get(), 100), 250u);
    EXPECT_EQ(ims_engine_ps_to_cycles(e.get(), 400), 1u);
    EXPECT_EQ(ims_engine_ps_to_cycles(e.get(), 401), 2u);
    EXPECT_DOUBLE_EQ(ims_engine_cycles_to_ns(e.get(), 1), 0.4);
    EXPECT_DOUBLE_EQ(ims_engine_cycles_to_ns(e.get(), 5), 2.0);
    // 1e18 ns * 2.5e9 Hz overflows 64 bits in the intermediate product.
    EXPECT_EQ(ims_engine_ns_to_cycles(e.get(), 1000000000000000000u), 2500000000000000000u);
    // Results past 2^64 cycles saturate instead of wrapping.
    EXPECT_EQ(ims_engine_ns_to_cycles(e.get(), UINT64_MAX), IMS_CYCLE_MAX);
}

TEST(EngineTime, OnePointTwoGigahertz)
{
    auto e = make_engine(1200000000);
    EXPECT_EQ(ims_engine_ns_to_cycles(e.get(), 1), 2u);   // 1.2 -> 2
    EXPECT_EQ(ims_engine_ns_to_cycles(e.get(), 5), 6u);   // exact
    EXPECT_EQ(ims_engine_ns_to_cycles(e.get(), 11), 14u); // 13.2 -> 14
    EXPECT_EQ(ims_engine_ps_to_cycles(e.get(), 833), 1u); // 0.9996 -> 1
    EXPECT_EQ(ims_engine_ps_to_cycles(e.get(), 834), 2u); // 1.0008 -> 2
    EXPECT_DOUBLE_EQ(ims_engine_cycles_to_ns(e.get(), 6), 5.0);
    EXPECT_DOUBLE_EQ(ims_engine_cycles_to_ns(e.get(), 1), 1.0 / 1.2);
    EXPECT_DOUBLE_EQ(ims_engine_cycles_to_ns(e.get(), 1200000000000000000u), 1e18);
    // Engine-free variants agree.
    EXPECT_EQ(ims_ps_to_cycles(1200000000, 834), 2u);
    EXPECT_DOUBLE_EQ(ims_cycles_to_ns(1200000000, 6), 5.0);
    // Round trip never shortens a latency.
    for (uint64_t ns = 0; ns < 1000; ns++)
        ASSERT_GE(ims_engine_cycles_to_ns(e.get(), ims_engine_ns_to_cycles(e.get(), ns)), (double)ns);
}

// An event scheduled long in advance and one scheduled later for the same
// cycle, once that cycle is near, still run in schedule order.
TEST(EngineOrder, FarEventPrecedesLaterNearScheduleForSameCycle)
{
    auto e = make_engine();
    Trace t{e.get(), {}};
    ims_engine_schedule_at(e.get(), 100000, record, &t, 1); // far ahead
    ims_engine_schedule_at(e.get(), 99000, record, &t, 0);  // far ahead, earlier
    ims_engine_run(e.get(), 98000);
    ims_engine_schedule_at(e.get(), 100000, record, &t, 2); // now near
    ims_engine_schedule_at(e.get(), 99000, record, &t, 3);
    ims_engine_run(e.get(), 99500);
    ims_engine_schedule_at(e.get(), 100000, record, &t, 4);
    ims_engine_run(e.get(), IMS_CYCLE_MAX);
    std::vector<std::pair<ims_cycle, uint64_t>> want = {{99000, 0}, {99000, 3}, {100000, 1}, {100000, 2}, {100000, 4}};
    EXPECT_EQ(t.log, want);
}

// Online reference model: every event the engine runs must be the smallest
// (time, schedule order) among the events the reference holds as pending.
// Events schedule and cancel others; the driver mixes run(until), step and
// stop. Delays span same-cycle, near and far future.
struct RefSim {
    ims_engine *e = nullptr;
    ims_rng rng{};
    uint64_t stops = 0;
    uint64_t order = 0; // global schedule counter
    std::set<std::pair<ims_cycle, uint64_t>> pending;          // (time, order)
    std::vector<std::tuple<ims_event_id, ims_cycle, uint64_t>> handles;
    uint64_t ran = 0, budget = 0;
    bool failed = false;
};

void ref_event(void *ctx, uint64_t order);

void ref_schedule(RefSim *s)
{
    static const ims_cycle ranges[] = {1, 8, 300, 5000, 20000, 1000000};
    ims_cycle range = ranges[ims_rng_below(&s->rng, 6)];
    ims_cycle delay = ims_rng_below(&s->rng, range);
    ims_cycle when = ims_engine_now(s->e) + delay;
    uint64_t o = s->order++;
    ims_event_id id = ims_rng_below(&s->rng, 2) ? ims_engine_schedule(s->e, delay, ref_event, s, o)
                                                 : ims_engine_schedule_at(s->e, when, ref_event, s, o);
    s->pending.emplace(when, o);
    s->handles.emplace_back(id, when, o);
}

void ref_cancel(RefSim *s)
{
    if (s->handles.empty())
        return;
    size_t i = ims_rng_below(&s->rng, s->handles.size());
    auto [id, when, o] = s->handles[i];
    bool expect = s->pending.erase({when, o}) == 1;
    if (ims_engine_cancel(s->e, id) != expect)
        s->failed = true;
    s->handles[i] = s->handles.back();
    s->handles.pop_back();
}

void ref_event(void *ctx, uint64_t order)
{
    auto *s = static_cast<RefSim *>(ctx);
    if (s->pending.empty() || *s->pending.begin() != std::make_pair(ims_engine_now(s->e), order)) {
        s->failed = true;
        ims_engine_stop(s->e);
        return;
    }
    s->pending.erase(s->pending.begin());
    s->ran++;
    if (s->ran < s->budget) {
        unsigned n = (unsigned)ims_rng_below(&s->rng, 4); // 0..3 successors
        for (unsigned i = 0; i < n; i++)
            ref_schedule(s);
    }
    if (ims_rng_below(&s->rng, 3) == 0)
        ref_cancel(s);
    if (ims_rng_below(&s->rng, 500) == 0) {
        s->stops++;
        ims_engine_stop(s->e);
    }
}

TEST(EngineReference, RandomScheduleCancelRunMatchesModel)
{
    auto e = make_engine();
    RefSim s;
    s.e = e.get();
    s.budget = 40000;
    ims_rng_seed(&s.rng, 2024);
    for (int i = 0; i < 300; i++)
        ref_schedule(&s);
    ims_rng drv;
    ims_rng_seed(&drv, 99);
    while (!s.failed && ims_engine_pending(e.get()) > 0) {
        ims_cycle before = ims_engine_now(e.get());
        switch (ims_rng_below(&drv, 3)) {
        case 0: { // run a random stretch; time must end at until unless stopped
            ims_cycle until = before + ims_rng_below(&drv, 30000);
            uint64_t ran0 = s.ran, stops0 = s.stops;
            uint64_t n = ims_engine_run(e.get(), until);
            ASSERT_EQ(n, s.ran - ran0);
            if (s.stops == stops0) {
                ASSERT_EQ(ims_engine_now(e.get()), std::max(before, until));
                ASSERT_TRUE(s.pending.empty() || s.pending.begin()->first > until);
            }
            break;
        }
        case 1:
            ASSERT_TRUE(ims_engine_step(e.get()));
            break;
        default:
            for (int i = 0; i < 5; i++)
                ref_cancel(&s);
            break;
        }
        ASSERT_FALSE(s.failed) << "wrong event or cancel result at cycle " << ims_engine_now(e.get());
        ASSERT_EQ(ims_engine_pending(e.get()), s.pending.size());
        ASSERT_GE(ims_engine_now(e.get()), before);
    }
    EXPECT_FALSE(s.failed);
    EXPECT_GT(s.ran, 30000u);
    EXPECT_EQ(ims_engine_events_run(e.get()), s.ran);
    EXPECT_TRUE(s.pending.empty());
}

TEST(EngineCancel, ManyCancelledNearEventsDoNotGrowThePool)
{
    // Like ManyCancelledTimeoutsDoNotGrowThePool, for near-future events.
    auto e = make_engine();
    Trace t{e.get(), {}};
    ims_engine_schedule(e.get(), 5, record, &t, 7);
    uint64_t max_slot = 0;
    for (uint64_t i = 0; i < 100000; i++) {
        ims_event_id id = ims_engine_schedule(e.get(), 5 + i % 3, record, &t, i);
        max_slot = std::max(max_slot, slot_of(id));
        ASSERT_TRUE(ims_engine_cancel(e.get(), id));
    }
    EXPECT_LT(max_slot, 256u);
    EXPECT_EQ(ims_engine_pending(e.get()), 1u);
    EXPECT_EQ(ims_engine_run(e.get(), IMS_CYCLE_MAX), 1u);
    std::vector<std::pair<ims_cycle, uint64_t>> want = {{5, 7}};
    EXPECT_EQ(t.log, want);
}

TEST(EngineOrder, EveryDelayRunsAtExactlyItsCycle)
{
    // One event per delay 0..9999 from an unaligned start: covers the
    // boundary between near-future and far-future storage whatever its size.
    auto e = make_engine();
    Trace t{e.get(), {}};
    ims_engine_run(e.get(), 12345);
    for (uint64_t d = 10000; d-- > 0;)
        ASSERT_NE(ims_engine_schedule(e.get(), d, record, &t, d), 0u);
    EXPECT_EQ(ims_engine_run(e.get(), IMS_CYCLE_MAX), 10000u);
    ASSERT_EQ(t.log.size(), 10000u);
    for (uint64_t d = 0; d < 10000; d++)
        ASSERT_EQ(t.log[d], std::make_pair(12345 + d, d)) << "delay " << d;
}

TEST(EngineCancel, MassCancellationKeepsSurvivorsInOrder)
{
    // Cancel most of a large mixed near/far population so the queues are
    // compacted several times with live events still in them.
    auto e = make_engine();
    Trace t{e.get(), {}};
    ims_rng rng;
    ims_rng_seed(&rng, 5);
    std::vector<std::pair<ims_event_id, std::pair<ims_cycle, uint64_t>>> all;
    for (uint64_t i = 0; i < 4000; i++) {
        ims_cycle when = i % 3 ? ims_rng_below(&rng, 64) : ims_rng_below(&rng, 30000);
        all.push_back({ims_engine_schedule_at(e.get(), when, record, &t, i), {when, i}});
    }
    std::vector<std::pair<ims_cycle, uint64_t>> survivors;
    for (auto &[id, key] : all) {
        if (ims_rng_below(&rng, 10) < 8)
            ASSERT_TRUE(ims_engine_cancel(e.get(), id));
        else
            survivors.push_back(key);
    }
    std::stable_sort(survivors.begin(), survivors.end(),
                     [](const auto &a, const auto &b) { return a.first < b.first; });
    EXPECT_EQ(ims_engine_pending(e.get()), survivors.size());
    EXPECT_EQ(ims_engine_run(e.get(), IMS_CYCLE_MAX), survivors.size());
    EXPECT_EQ(t.log, survivors);
}

} // namespace

TEST(EngineClock, NowPointerFollowsSimulatedTime)
{
    ims_engine *e = ims_engine_create(1000000000ULL);
    ASSERT_NE(e, nullptr);
    const uint64_t *now = ims_engine_now_ptr(e);
    EXPECT_EQ(*now, 0u);
    ims_engine_schedule(e, 42, [](void *, uint64_t) {}, nullptr, 0);
    ims_engine_run(e, IMS_CYCLE_MAX);
    EXPECT_EQ(*now, 42u);
    EXPECT_EQ(*now, ims_engine_now(e));
    ims_engine_destroy(e);
}
