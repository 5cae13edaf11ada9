// Endpoint DMA engine without ATS (models/dev/device.h) against a fake IOMMU
// (tests/dev_harness.h): exact latencies from the configured parts, piece
// split, window, faults, outstanding-limit backpressure, link sharing, and the
// configuration table.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "tests/dev_harness.h"

namespace {

using devtest::World;

constexpr uint64_t HPA = 0x800000;

void map_pages(World &w, uint64_t iova, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        w.iommu.map(iova + 4096ull * i, HPA + 4096ull * i);
}

TEST(Dev, OnePageReadLatencyIsTranslationPlusMemoryPlusTransfer)
{
    World w;
    ASSERT_EQ(w.make(false), 0);
    map_pages(w, 0x10000, 1);
    ims_dma *d = w.dma(0x10000, 4096);
    w.run();
    ASSERT_EQ(w.done, 1u);
    EXPECT_EQ(d->fault, 0);
    EXPECT_EQ(d->pa, HPA);
    ims_cycle expect = w.iommu.delay[IMS_VTD_REQ_UNTRANSLATED] + w.mt.dma_cycles + w.xfer(4096);
    EXPECT_EQ(expect, 40u + 65u + 1024u); // 4096 B at 32 Gbit/s = 1024 ns
    EXPECT_EQ(d->t_done - d->t_request, expect);
    ASSERT_EQ(w.iommu.reqs.size(), 1u);
    EXPECT_EQ(w.iommu.reqs[0].type, IMS_VTD_REQ_UNTRANSLATED);
    EXPECT_EQ(w.iommu.reqs[0].addr, 0x10000u);
    EXPECT_FALSE(w.iommu.reqs[0].write);
    EXPECT_EQ(w.counter("dma.count"), 1u);
    EXPECT_EQ(w.counter("dma.bytes"), 4096u);
    EXPECT_EQ(w.counter("dma.faults"), 0u);
    EXPECT_EQ(ims_dev_inflight(w.dev), 0u);
}

TEST(Dev, OnePageWriteHasTheSameParts)
{
    World w;
    ASSERT_EQ(w.make(false), 0);
    map_pages(w, 0x10000, 1);
    ims_dma *d = w.dma(0x10000, 4096, true);
    w.run();
    EXPECT_EQ(d->t_done, w.iommu.delay[IMS_VTD_REQ_UNTRANSLATED] + w.mt.dma_cycles + w.xfer(4096));
    ASSERT_EQ(w.iommu.reqs.size(), 1u);
    EXPECT_TRUE(w.iommu.reqs[0].write);
}

TEST(Dev, MultiPageDmaSplitsAtPageBoundariesAndSharesTheLink)
{
    World w;
    ASSERT_EQ(w.make(false), 0);
    map_pages(w, 0x10000, 3);
    ims_dma *d = w.dma(0x10800, 0x2000); // 2 KiB + 4 KiB + 2 KiB
    w.run();
    ASSERT_EQ(w.done, 1u);
    EXPECT_EQ(d->fault, 0);
    EXPECT_EQ(d->pa, HPA + 0x800);
    ASSERT_EQ(w.iommu.reqs.size(), 3u);
    EXPECT_EQ(w.iommu.reqs[0].addr, 0x10800u);
    EXPECT_EQ(w.iommu.reqs[1].addr, 0x11000u);
    EXPECT_EQ(w.iommu.reqs[2].addr, 0x12000u);
    for (const auto &r : w.iommu.reqs)
        EXPECT_EQ(r.t, 0u); // all within the window: translated in parallel
    ASSERT_EQ(w.pieces.size(), 3u);
    EXPECT_EQ(w.pieces[0].first, 0x10800u);
    EXPECT_EQ(w.pieces[0].second.pa, HPA + 0x800);
    EXPECT_EQ(w.pieces[2].second.pa, HPA + 0x2000);
    // Data queue on the downstream channel: 2 KiB, 4 KiB, 2 KiB back to back.
    ims_cycle t = w.iommu.delay[0] + w.mt.dma_cycles + w.xfer(2048) + w.xfer(4096) + w.xfer(2048);
    EXPECT_EQ(d->t_done, t);
    EXPECT_EQ(w.counter("dma.bytes"), 0x2000u);
}

TEST(Dev, WindowBoundsPiecesInFlight)
{
    World w;
    w.set("dev.dma_window", "2");
    ASSERT_EQ(w.make(false), 0);
    map_pages(w, 0x10000, 4);
    ims_dma *d = w.dma(0x10000, 4 * 4096);
    w.run();
    ASSERT_EQ(w.iommu.reqs.size(), 4u);
    const ims_cycle X = w.iommu.delay[0], M = w.mt.dma_cycles, T = w.xfer(4096);
    ims_cycle p0 = X + M + T;           // piece 0 done -> piece 2 issued
    ims_cycle p1 = p0 + T;              // piece 1 queued behind piece 0 on the link
    ims_cycle p2 = p1 + T;              // piece 2 (ready at p0+X+M < p1) waits for the link
    ims_cycle p3 = p2 + T;
    EXPECT_EQ(w.iommu.reqs[0].t, 0u);
    EXPECT_EQ(w.iommu.reqs[1].t, 0u);
    EXPECT_EQ(w.iommu.reqs[2].t, p0);
    EXPECT_EQ(w.iommu.reqs[3].t, p1);
    EXPECT_EQ(d->t_done, p3);
}

TEST(Dev, FaultStopsTheDmaAtItsFirstFaultingPiece)
{
    World w;
    w.set("dev.dma_window", "1");
    ASSERT_EQ(w.make(false), 0);
    w.iommu.map(0x10000, HPA);
    w.iommu.map(0x12000, HPA + 0x2000); // page 0x11000 unmapped
    ims_dma *d = w.dma(0x10000, 3 * 4096);
    w.run();
    ASSERT_EQ(w.done, 1u);
    EXPECT_EQ(d->fault, IMS_VTD_FR_LGN_3);
    ASSERT_EQ(w.iommu.reqs.size(), 2u); // page 2 never requested
    const ims_cycle X = w.iommu.delay[0];
    EXPECT_EQ(d->t_done, X + w.mt.dma_cycles + w.xfer(4096) + X);
    EXPECT_EQ(w.pieces.size(), 1u);
    EXPECT_EQ(w.counter("dma.faults"), 1u);
    EXPECT_EQ(w.counter("dma.bytes"), 4096u);
}

TEST(Dev, OutstandingLimitMakesLaterDmasWaitExactly)
{
    World w;
    ASSERT_EQ(w.make(false, 2), 0);
    map_pages(w, 0x10000, 3);
    ims_dma *a = w.dma(0x10000, 4096);
    ims_dma *b = w.dma(0x11000, 4096);
    ims_dma *c = w.dma(0x12000, 4096);
    EXPECT_EQ(ims_dev_inflight(w.dev), 3u); // two issued, one waiting
    w.run();
    const ims_cycle X = w.iommu.delay[0], M = w.mt.dma_cycles, T = w.xfer(4096);
    EXPECT_EQ(a->t_issue, 0u);
    EXPECT_EQ(b->t_issue, 0u);
    EXPECT_EQ(a->t_done, X + M + T);
    EXPECT_EQ(b->t_done, X + M + 2 * T); // behind a on the link
    EXPECT_EQ(c->t_issue, a->t_done);    // got a's slot
    EXPECT_EQ(c->t_issue - c->t_request, X + M + T);
    EXPECT_EQ(w.iommu.reqs[2].t, a->t_done);
    EXPECT_EQ(c->t_done, b->t_done + T); // ready at a->t_done+X+M, link busy until b->t_done
    EXPECT_EQ(ims_stats_latency_count(w.st, "dma.wait_ns"), 3u);
    EXPECT_NEAR(ims_stats_latency_percentile_ns(w.st, "dma.wait_ns", 100.0), double(X + M + T),
                0.02 * double(X + M + T));
    EXPECT_EQ(ims_dev_inflight(w.dev), 0u);
}

TEST(Dev, ReadsAndWritesUseSeparateLinkDirections)
{
    World w;
    ASSERT_EQ(w.make(false), 0);
    map_pages(w, 0x10000, 2);
    ims_dma *r = w.dma(0x10000, 4096, false);
    ims_dma *wr = w.dma(0x11000, 4096, true);
    w.run();
    ims_cycle alone = w.iommu.delay[0] + w.mt.dma_cycles + w.xfer(4096);
    EXPECT_EQ(r->t_done, alone);
    EXPECT_EQ(wr->t_done, alone);
}

TEST(Dev, PasidTravelsWithTheRequest)
{
    World w;
    ASSERT_EQ(w.make(false), 0);
    w.iommu.map(0x10000, HPA, 4096, true, true, true, 5);
    ims_dma *d = w.dma(0x10000, 64, false, true, 5);
    w.run();
    EXPECT_EQ(d->fault, 0);
    ASSERT_EQ(w.iommu.reqs.size(), 1u);
    EXPECT_TRUE(w.iommu.reqs[0].has_pasid);
    EXPECT_EQ(w.iommu.reqs[0].pasid, 5u);
    EXPECT_EQ(d->t_done, w.iommu.delay[0] + w.mt.dma_cycles + w.xfer(64));
}

TEST(Dev, ZeroLengthDmaCompletesWithoutRequests)
{
    World w;
    ASSERT_EQ(w.make(false), 0);
    ims_dma *d = w.dma(0x10000, 0);
    w.run();
    EXPECT_EQ(w.done, 1u);
    EXPECT_EQ(d->t_done, 0u);
    EXPECT_TRUE(w.iommu.reqs.empty());
}

TEST(Dev, DoneCallbackMayStartTheNextDma)
{
    // A completion callback re-entering the device (a closed-loop workload).
    struct Chain {
        World *w;
        ims_dma op{};
        int left;
        static void done(ims_dma *d)
        {
            auto *c = static_cast<Chain *>(d->user);
            if (--c->left > 0)
                ims_dev_dma(c->w->dev, &c->op);
        }
    };
    World w;
    ASSERT_EQ(w.make(false, 1), 0);
    map_pages(w, 0x10000, 1);
    Chain c{&w, {}, 3};
    c.op.iova = 0x10000;
    c.op.len = 4096;
    c.op.done = Chain::done;
    c.op.user = &c;
    ims_dev_dma(w.dev, &c.op);
    w.run();
    EXPECT_EQ(c.left, 0);
    EXPECT_EQ(w.counter("dma.count"), 3u);
    EXPECT_EQ(c.op.t_done, 3 * (w.iommu.delay[0] + w.mt.dma_cycles + w.xfer(4096)));
}

TEST(Dev, ConfigTableHasSourcesAndCalibratedDefaults)
{
    for (const ims_cfg_key *k = ims_dev_cfg_keys; k->name; k++) {
        ASSERT_NE(k->source, nullptr) << k->name;
        EXPECT_GT(std::strlen(k->source), 10u) << k->name;
        ASSERT_NE(k->help, nullptr) << k->name;
    }
    const ims_cfg_key *tables[] = {ims_dev_cfg_keys};
    ims_error err{};
    ims_config *c = ims_config_create(tables, 1, &err);
    ASSERT_NE(c, nullptr) << err.msg;
    EXPECT_EQ(ims_config_u64(c, "devtlb.entries"), 64u);
    EXPECT_STREQ(ims_config_enum_name(c, "devtlb.policy"), "lru");
    EXPECT_EQ(ims_config_u64(c, "dev.outstanding"), 32u);
    // calibration.md: bare-metal device-TLB invalidation is at most 2 us; the
    // default device round trip (link + processing + link) is 1 us.
    uint64_t rt = 2 * ims_config_time_ps(c, "pcie.latency_ns") + ims_config_time_ps(c, "dev.ats_inv_ns");
    EXPECT_EQ(rt, 1000000u);
    EXPECT_FALSE(ims_config_bool(c, "dev.ats_drop_inv"));
    ims_config_destroy(c);
}

TEST(Dev, CreateRejectsBadParameters)
{
    World w;
    w.set("devtlb.ways", "3"); // does not divide 64
    ims_dev_params p{};
    p.engine = w.e;
    p.mem_timing = &w.mt;
    p.cfg = w.cfg;
    p.rng = &w.rng;
    p.ats = true;
    ims_error err{};
    ims_dev *d = nullptr;
    EXPECT_EQ(ims_dev_create(&p, &d, &err), -EINVAL); // no iommu.translate
    EXPECT_EQ(d, nullptr);
    p.iommu = {devtest::FakeIommu::translate, devtest::FakeIommu::ats_completion, &w.iommu};
    EXPECT_EQ(ims_dev_create(&p, &d, &err), -EINVAL);
    EXPECT_NE(std::string(err.msg).find("devtlb.ways"), std::string::npos) << err.msg;
    EXPECT_EQ(d, nullptr);
    p.ats = false; // the device-TLB geometry only matters with ATS
    EXPECT_EQ(ims_dev_create(&p, &d, &err), 0) << err.msg;
    EXPECT_EQ(ims_dev_devtlb(d), nullptr);
    ims_dev_destroy(d);
}

} // namespace
