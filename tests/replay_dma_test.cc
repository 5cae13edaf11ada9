// dma records through the replay: per-device outstanding limits and their
// backpressure (trace-text-v1: "If the issuing agent has no free slot, the
// record waits; the delay is counted in stats"), many DMAs in flight at once,
// and closed-loop serial latency runs.
#include <gtest/gtest.h>

#include <string>

#include "replay_harness.h"

using replay_test::Outcome;
using replay_test::run_text;

namespace {

// n DMAs of 16 KiB at time 0 from one device (translation off: pass-through).
std::string burst(unsigned n, const std::string &device)
{
    std::string t = device + "\n";
    for (unsigned i = 0; i < n; i++)
        t += "@0ns dma dev=0x10 iova=0x" + std::to_string(100000 + i) + "000 len=16K rd\n";
    return t;
}

TEST(ReplayDma, OutstandingLimitMakesOpenLoopDmasWait)
{
    Outcome one = run_text("bp1.ist", burst(4, "device sid=0x10 outstanding=1"));
    ASSERT_EQ(one.status, 0) << one.error << one.report;
    Outcome four = run_text("bp4.ist", burst(4, "device sid=0x10 outstanding=4"));
    ASSERT_EQ(four.status, 0) << four.error << four.report;
    EXPECT_EQ(one.num("dma.count"), 4);
    EXPECT_EQ(four.num("dma.count"), 4);
    EXPECT_EQ(one.num("dma.wait_ns.count"), 4);
    EXPECT_GT(one.num("dma.wait_ns.max"), 0) << "three DMAs waited for the single slot";
    EXPECT_EQ(four.num("dma.wait_ns.max"), 0);
    // Serialised by the limit: the burst takes longer and its latency grows.
    EXPECT_GT(one.num("sim.simulated_ns"), four.num("sim.simulated_ns"));
    EXPECT_GT(one.num("dma.latency_ns.max"), four.num("dma.latency_ns.max"));
    // dev.outstanding is the default for devices that do not say.
    Outcome cfg = run_text("bp_cfg.ist", burst(4, "device sid=0x10"), {"dev.outstanding=1"});
    EXPECT_EQ(cfg.num("dma.wait_ns.max"), one.num("dma.wait_ns.max"));
}

TEST(ReplayDma, ClosedLoopNeverQueuesBehindItself)
{
    std::string t = "device sid=0x10 outstanding=1\n";
    for (unsigned i = 0; i < 4; i++)
        t += "dma dev=0x10 iova=0x" + std::to_string(100000 + i) + "000 len=16K rd\n";
    Outcome o = run_text("serial.ist", t);
    ASSERT_EQ(o.status, 0) << o.error;
    EXPECT_EQ(o.num("dma.wait_ns.max"), 0);
    // Back to back: the run lasts the sum of the latencies.
    EXPECT_EQ(o.num("sim.simulated_ns"), o.num("dma.latency_ns.mean") * 4);
}

TEST(ReplayDma, ThousandsInFlightAtOnce)
{
    Outcome o = run_text("many.ist", burst(5000, "device sid=0x10 outstanding=65536"));
    ASSERT_EQ(o.status, 0) << o.error;
    EXPECT_EQ(o.num("dma.count"), 5000);
    EXPECT_EQ(o.num("dma.wait_ns.max"), 0);
    EXPECT_EQ(o.num("sim.records"), 5001);
}

} // namespace
