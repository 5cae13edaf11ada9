// Shared resources: counting slots with FIFO waiters, pipelined ports, and
// lookup ports (N lookups may start per cycle).
#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <utility>
#include <vector>

#include "sim/engine.h"
#include "sim/resource.h"

namespace {

struct EngineDeleter {
    void operator()(ims_engine *e) const { ims_engine_destroy(e); }
};
using EnginePtr = std::unique_ptr<ims_engine, EngineDeleter>;

// A scripted world: requesters acquire a slot at a given cycle, hold it for a
// given number of cycles, then release it. Grants are logged as (cycle, who).
struct World {
    ims_engine *e;
    ims_slots s;
    std::vector<ims_cycle> hold; // per requester
    std::vector<std::pair<ims_cycle, uint64_t>> grants;
    std::vector<bool> immediate;
};

// Hold time meaning "the test body releases this one itself".
constexpr ims_cycle kReleasedByTest = IMS_CYCLE_MAX;

void do_release(void *ctx, uint64_t)
{
    ims_slots_release(&static_cast<World *>(ctx)->s);
}

void granted(void *ctx, uint64_t who)
{
    auto *w = static_cast<World *>(ctx);
    w->grants.emplace_back(ims_engine_now(w->e), who);
    if (w->hold[who] != kReleasedByTest)
        ims_engine_schedule(w->e, w->hold[who], do_release, w, 0);
}

void do_acquire(void *ctx, uint64_t who)
{
    auto *w = static_cast<World *>(ctx);
    bool now = ims_slots_acquire(&w->s, granted, w, who);
    w->immediate[who] = now;
    if (now)
        granted(w, who);
}

struct ResourceSlots : ::testing::Test {
    EnginePtr eng{ims_engine_create(1000000000)};
    World w{eng.get(), {}, {}, {}, {}};
    void add(ims_cycle at, ims_cycle hold)
    {
        uint64_t who = w.hold.size();
        w.hold.push_back(hold);
        w.immediate.push_back(false);
        ims_engine_schedule_at(eng.get(), at, do_acquire, &w, who);
    }
    void TearDown() override { ims_slots_fini(&w.s); }
};

TEST_F(ResourceSlots, InitRejectsZeroCapacity)
{
    EXPECT_EQ(ims_slots_init(&w.s, eng.get(), 0), -EINVAL);
    ASSERT_EQ(ims_slots_init(&w.s, eng.get(), 3), 0);
    EXPECT_EQ(ims_slots_free(&w.s), 3u);
    EXPECT_EQ(ims_slots_waiting(&w.s), 0u);
}

TEST_F(ResourceSlots, CapacityIsRespected)
{
    ASSERT_EQ(ims_slots_init(&w.s, eng.get(), 2), 0);
    EXPECT_TRUE(ims_slots_acquire(&w.s, granted, &w, 0));
    EXPECT_TRUE(ims_slots_acquire(&w.s, granted, &w, 1));
    EXPECT_EQ(ims_slots_free(&w.s), 0u);
    w.hold = {1, 1, 1};
    EXPECT_FALSE(ims_slots_acquire(&w.s, granted, &w, 2));
    EXPECT_EQ(ims_slots_waiting(&w.s), 1u);
    EXPECT_EQ(ims_engine_pending(eng.get()), 0u); // a waiter is not an event yet
    ims_slots_release(&w.s);
    // Handed over, not freed: still no free slot, the waiter's grant is queued.
    EXPECT_EQ(ims_slots_free(&w.s), 0u);
    EXPECT_EQ(ims_slots_waiting(&w.s), 0u);
    EXPECT_EQ(ims_engine_pending(eng.get()), 1u);
    ims_slots_release(&w.s);
    EXPECT_EQ(ims_slots_free(&w.s), 1u);
    EXPECT_EQ(w.s.acquires, 3u);
    EXPECT_EQ(w.s.waited, 1u);
}

TEST_F(ResourceSlots, WaitersAreServedOldestFirstWithExactWaitCycles)
{
    ASSERT_EQ(ims_slots_init(&w.s, eng.get(), 1), 0);
    add(0, 10); // 0: gets the slot at 0, releases at 10
    add(0, 4);  // 1: waits from 0, granted at 10, releases at 14
    add(5, 4);  // 2: waits from 5, granted at 15, releases at 19
    add(7, 2);  // 3: waits from 7, granted at 19, releases at 21
    add(3, 1);  // 4: waits from 3 (queued before 2 and 3), granted at 14
    ims_engine_run(eng.get(), IMS_CYCLE_MAX);
    std::vector<std::pair<ims_cycle, uint64_t>> want = {{0, 0}, {10, 1}, {14, 4}, {15, 2}, {19, 3}};
    EXPECT_EQ(w.grants, want);
    EXPECT_TRUE(w.immediate[0]);
    EXPECT_FALSE(w.immediate[1]);
    EXPECT_EQ(w.s.acquires, 5u);
    EXPECT_EQ(w.s.waited, 4u);
    // (10-0) + (14-3) + (15-5) + (19-7) = 10 + 11 + 10 + 12
    EXPECT_EQ(w.s.wait_cycles, 43u);
    EXPECT_EQ(w.s.max_waiters, 4u);
    EXPECT_EQ(ims_slots_free(&w.s), 1u);
    EXPECT_EQ(ims_engine_now(eng.get()), 21u);
}

TEST_F(ResourceSlots, SameCycleAcquireCannotOvertakeAWaiter)
{
    ASSERT_EQ(ims_slots_init(&w.s, eng.get(), 1), 0);
    w.hold = {100, 100, 100};
    ASSERT_TRUE(ims_slots_acquire(&w.s, granted, &w, 0));
    ASSERT_FALSE(ims_slots_acquire(&w.s, granted, &w, 1));
    ims_slots_release(&w.s);
    // Requester 1's grant is scheduled but has not run yet; a newcomer in the
    // same cycle must still queue rather than take the handed-over slot.
    EXPECT_FALSE(ims_slots_acquire(&w.s, granted, &w, 2));
    EXPECT_EQ(ims_slots_waiting(&w.s), 1u);
    ims_engine_run(eng.get(), 150);
    std::vector<std::pair<ims_cycle, uint64_t>> want = {{0, 1}, {100, 2}};
    EXPECT_EQ(w.grants, want);
    EXPECT_EQ(w.s.wait_cycles, 0u + 100u);
    EXPECT_EQ(w.s.max_waiters, 1u);
}

TEST_F(ResourceSlots, WaitQueueGrowsAcrossWrapKeepingOrder)
{
    ASSERT_EQ(ims_slots_init(&w.s, eng.get(), 1), 0);
    ASSERT_TRUE(ims_slots_acquire(&w.s, granted, &w, 0));
    w.hold.assign(200, 0);
    uint64_t next = 1;
    // Queue 10, serve 6 (moves the ring head), then queue 100 more so the
    // ring grows while wrapped. Holder 0 and waiters 1..5 release by hand.
    for (int i = 0; i < 10; i++)
        ASSERT_FALSE(ims_slots_acquire(&w.s, granted, &w, next++));
    for (int i = 0; i < 6; i++) {
        w.hold[i] = kReleasedByTest;
        ims_slots_release(&w.s);
    }
    for (int i = 0; i < 100; i++)
        ASSERT_FALSE(ims_slots_acquire(&w.s, granted, &w, next++));
    EXPECT_EQ(ims_slots_waiting(&w.s), 104u);
    EXPECT_EQ(w.s.max_waiters, 104u);
    // Each grant schedules its release after 0 cycles, which grants the next.
    ims_engine_run(eng.get(), IMS_CYCLE_MAX);
    ASSERT_EQ(w.grants.size(), 110u);
    for (uint64_t i = 0; i < 110; i++)
        EXPECT_EQ(w.grants[i].second, i + 1);
    EXPECT_EQ(w.s.acquires, 111u);
    EXPECT_EQ(w.s.waited, 110u);
    EXPECT_EQ(w.s.wait_cycles, 0u); // everything happened at cycle 0
    EXPECT_EQ(ims_slots_free(&w.s), 1u);
}

struct Done {
    ims_engine *e;
    std::vector<std::pair<ims_cycle, uint64_t>> log;
};
void port_done(void *ctx, uint64_t arg)
{
    auto *d = static_cast<Done *>(ctx);
    d->log.emplace_back(ims_engine_now(d->e), arg);
}

TEST(ResourcePort, BackToBackIssuesArePipelined)
{
    EnginePtr e(ims_engine_create(1000000000));
    ims_port p;
    ims_port_init(&p, e.get(), 2, 10);
    Done d{e.get(), {}};
    EXPECT_EQ(ims_port_peek(&p), 10u);
    EXPECT_EQ(ims_port_issue(&p, port_done, &d, 0), 10u);
    EXPECT_EQ(ims_port_peek(&p), 12u);
    EXPECT_EQ(ims_port_issue(&p, port_done, &d, 1), 12u);
    EXPECT_EQ(ims_port_issue(&p, port_done, &d, 2), 14u);
    EXPECT_EQ(ims_port_issue(&p, nullptr, nullptr, 3), 16u); // no callback: nothing scheduled
    EXPECT_EQ(ims_engine_pending(e.get()), 3u);
    EXPECT_EQ(p.requests, 4u);
    EXPECT_EQ(p.queued_cycles, 0u + 2u + 4u + 6u);
    ims_engine_run(e.get(), IMS_CYCLE_MAX);
    std::vector<std::pair<ims_cycle, uint64_t>> want = {{10, 0}, {12, 1}, {14, 2}};
    EXPECT_EQ(d.log, want);
}

TEST(ResourcePort, IdlePortAcceptsImmediatelyAndPartialBackpressure)
{
    EnginePtr e(ims_engine_create(1000000000));
    ims_port p;
    ims_port_init(&p, e.get(), 4, 7);
    ims_engine_run(e.get(), 100);
    EXPECT_EQ(ims_port_issue(&p, nullptr, nullptr, 0), 107u); // accepted at 100
    ims_engine_run(e.get(), 102);
    EXPECT_EQ(ims_port_issue(&p, nullptr, nullptr, 0), 111u); // accepted at 104: 2 cycles queued
    ims_engine_run(e.get(), 200);
    EXPECT_EQ(ims_port_issue(&p, nullptr, nullptr, 0), 207u); // idle again
    EXPECT_EQ(p.requests, 3u);
    EXPECT_EQ(p.queued_cycles, 2u);
}

TEST(ResourcePort, UnitIntervalZeroLatency)
{
    EnginePtr e(ims_engine_create(1000000000));
    ims_port p;
    ims_port_init(&p, e.get(), 1, 0);
    Done d{e.get(), {}};
    for (uint64_t i = 0; i < 4; i++)
        EXPECT_EQ(ims_port_issue(&p, port_done, &d, i), i);
    ims_engine_run(e.get(), IMS_CYCLE_MAX);
    std::vector<std::pair<ims_cycle, uint64_t>> want = {{0, 0}, {1, 1}, {2, 2}, {3, 3}};
    EXPECT_EQ(d.log, want);
}

// ---- lookup ports -----------------------------------------------------------

TEST(ResourceLookupPorts, AtMostNStartPerCycleInWhateverOrderTheyAreReserved)
{
    ims_lookup_ports p;
    ims_lookup_ports_init(&p, 2);
    EXPECT_EQ(ims_lookup_ports_start(&p, 0, 10), 10u);
    EXPECT_EQ(ims_lookup_ports_start(&p, 0, 10), 10u);
    EXPECT_EQ(ims_lookup_ports_start(&p, 0, 10), 11u) << "both ports of cycle 10 are taken";
    EXPECT_EQ(ims_lookup_ports_start(&p, 0, 11), 11u);
    EXPECT_EQ(ims_lookup_ports_start(&p, 0, 10), 12u) << "10 and 11 full: the first free cycle";
    EXPECT_EQ(ims_lookup_ports_start(&p, 0, 5), 5u) << "an earlier cycle reserved later is still free";
    EXPECT_EQ(ims_lookup_ports_start(&p, 0, 14), 14u) << "a gap after the full cycles";
    EXPECT_EQ(p.lookups, 7u);
    EXPECT_EQ(p.waited, 2u);
    EXPECT_EQ(p.wait_cycles, 1u + 2u);
    // Time moves on: past cycles are forgotten, later reservations are kept.
    EXPECT_EQ(ims_lookup_ports_start(&p, 12, 12), 12u);
    EXPECT_EQ(ims_lookup_ports_start(&p, 12, 12), 13u);
    EXPECT_EQ(p.n, 3u) << "cycles 12, 13 and 14 remain";
    ims_lookup_ports_fini(&p);
}

TEST(ResourceLookupPorts, ZeroPortsMeansUnlimitedAndKeepsNothing)
{
    ims_lookup_ports p;
    ims_lookup_ports_init(&p, 0);
    for (int i = 0; i < 100; i++)
        EXPECT_EQ(ims_lookup_ports_start(&p, 3, 7), 7u);
    EXPECT_EQ(p.n, 0u);
    EXPECT_EQ(p.waited, 0u);
    ims_lookup_ports_fini(&p);
}

TEST(ResourceLookupPorts, ManyPendingCyclesGrowTheListAndStayExact)
{
    ims_lookup_ports p;
    ims_lookup_ports_init(&p, 1);
    // 100 lookups at one cycle take cycles 50..149, one each; then every other cycle reserved.
    for (ims_cycle i = 0; i < 100; i++)
        ASSERT_EQ(ims_lookup_ports_start(&p, 0, 50), 50u + i);
    EXPECT_EQ(ims_lookup_ports_start(&p, 0, 200), 200u);
    EXPECT_EQ(ims_lookup_ports_start(&p, 0, 0), 0u);
    EXPECT_EQ(ims_lookup_ports_start(&p, 0, 149), 150u);
    EXPECT_EQ(p.wait_cycles, 99u * 100u / 2u + 1u);
    ims_lookup_ports_fini(&p);
}

} // namespace
