// Lookup ports of the translation caches (config <cache>.ports): at most N
// lookups of one cache start in a cycle; a lookup that finds every port taken
// starts in the first cycle with a free one, and its wait is added to the
// request's latency. 0 (the default) leaves lookups unlimited.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/xlate_fixture.h"

namespace {

using ims_test::Req;
using ims_test::XlateSystem;

constexpr uint16_t kSid = 0x0310;
constexpr uint16_t kDid = 7;

ims_cycle latency(const Req &r) { return r.x.t_done - r.x.t_submit; }

// A legacy-mode device with 4 KiB pages at 0x1000, 0x2000 ... already in the
// IOTLB (and its context in the context cache), so requests to them are hits.
struct Warm : XlateSystem {
    ims_pt_builder ss;
    ims_cycle ctxc, iotlb, psc, mem;
    explicit Warm(std::initializer_list<const char *> o, int pages = 4) : XlateSystem(false, o)
    {
        ss = new_ss(4);
        legacy_device(kSid, kDid, ss);
        for (int i = 1; i <= pages; i++) {
            map(ss, 0x1000u * i, 0x10'0000u + 0x1000u * i, 4096, 4096, IMS_PT_RW);
            translate(req(kSid, 0x1000u * i));
        }
        ctxc = cfg_cycles("ctxc.lookup_cycles");
        iotlb = cfg_cycles("iotlb.lookup_cycles");
        psc = cfg_cycles("psc.lookup_cycles");
        mem = mem_cycles();
    }
    // n hits submitted in the same cycle; their latencies in submission order.
    std::vector<ims_cycle> hits_together(int n)
    {
        std::vector<Req *> r;
        for (int i = 1; i <= n; i++)
            r.push_back(&submit(req(kSid, 0x1000u * i + 8)));
        run();
        std::vector<ims_cycle> lat;
        for (Req *q : r) {
            EXPECT_EQ(q->x.outcome, IMS_XLATE_IOTLB_HIT);
            lat.push_back(latency(*q));
        }
        return lat;
    }
};

TEST(XlatePorts, UnlimitedByDefault)
{
    Warm s({});
    EXPECT_EQ(s.cfg_cycles("iotlb.ports"), 0u);
    const ims_cycle hit = s.ctxc + s.iotlb;
    EXPECT_EQ(s.hits_together(4), (std::vector<ims_cycle>{hit, hit, hit, hit}));
    EXPECT_EQ(ims_stats_latency_count(s.stats, "iotlb.port_wait_ns"), 0u);
}

// One IOTLB port: four lookups issued in the same cycle start one per cycle.
TEST(XlatePorts, OneIotlbPortSerialisesSameCycleLookups)
{
    Warm s({"iotlb.ports=1"});
    const ims_cycle hit = s.ctxc + s.iotlb;
    EXPECT_EQ(s.hits_together(4), (std::vector<ims_cycle>{hit, hit + 1, hit + 2, hit + 3}));
    EXPECT_EQ(ims_stats_latency_count(s.stats, "iotlb.port_wait_ns"), 3u) << "three lookups waited";
    EXPECT_EQ(ims_stats_latency_percentile_ns(s.stats, "iotlb.port_wait_ns", 100), 3.0); // 1 GHz: cycles = ns
}

TEST(XlatePorts, TwoIotlbPortsTakeTwoPerCycle)
{
    Warm s({"iotlb.ports=2"});
    const ims_cycle hit = s.ctxc + s.iotlb;
    EXPECT_EQ(s.hits_together(4), (std::vector<ims_cycle>{hit, hit, hit + 1, hit + 1}));
}

// With one context-cache port the context lookups are staggered, so the IOTLB
// lookups arrive a cycle apart and its single port never makes them wait.
TEST(XlatePorts, StaggeredByAnEarlierStageNoLaterWait)
{
    Warm s({"ctxc.ports=1", "iotlb.ports=1"});
    const ims_cycle hit = s.ctxc + s.iotlb;
    EXPECT_EQ(s.hits_together(3), (std::vector<ims_cycle>{hit, hit + 1, hit + 2}));
    EXPECT_EQ(ims_stats_latency_count(s.stats, "ctxc.port_wait_ns"), 2u);
    EXPECT_EQ(ims_stats_latency_count(s.stats, "iotlb.port_wait_ns"), 0u);
}

// Two misses walking at once: their PSC probes (one per SS walk) share one port.
TEST(XlatePorts, WalksShareThePscPorts)
{
    Warm s({"psc.ports=1", "psc.ss.l2.entries=0", "psc.ss.l3.entries=0", "psc.ss.l4.entries=0",
            "psc.ss.l5.entries=0"},
           0);
    s.map(s.ss, 0x40'0000, 0x80'0000, 0x2000, 4096, IMS_PT_RW);
    s.translate(XlateSystem::req(kSid, 0x9999'0000)); // context into the context cache (a fault)
    Req &a = s.submit(XlateSystem::req(kSid, 0x40'0000));
    Req &b = s.submit(XlateSystem::req(kSid, 0x40'1000));
    s.run();
    const ims_cycle walk = s.ctxc + s.iotlb + s.psc + 4 * s.mem;
    EXPECT_EQ(a.x.outcome, IMS_XLATE_WALK);
    EXPECT_EQ(latency(a), walk);
    EXPECT_EQ(latency(b), walk + 1) << "its probe waited one cycle for the port";
    EXPECT_EQ(ims_stats_latency_count(s.stats, "psc.port_wait_ns"), 1u);
}

TEST(XlatePorts, OutOfRangeIsABadConfigNamingTheKey)
{
    Warm s({}, 0);
    EXPECT_EQ(ims_config_set_arg(s.cfg, "iotlb.ports=64", &s.err), 0) << s.err.msg;
    EXPECT_NE(ims_config_set_arg(s.cfg, "iotlb.ports=65", &s.err), 0);
    EXPECT_NE(std::string(s.err.msg).find("iotlb.ports"), std::string::npos) << s.err.msg;
    EXPECT_NE(ims_config_set_arg(s.cfg, "psc.ports=-1", &s.err), 0);
}

} // namespace
