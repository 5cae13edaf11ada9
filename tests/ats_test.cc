// ATS at the endpoint (models/dev/device.h, ats.c) against a fake IOMMU
// (tests/dev_harness.h): miss and hit paths with exact latencies, fills of
// large translations, denial -> untranslated request, invalidation round trip
// = link + processing + link, waiting for in-flight DMAs, matching, and
// fault injection (dropped invalidations).
#include <gtest/gtest.h>

#include "tests/dev_harness.h"

namespace {

using devtest::World;

constexpr uint64_t HPA = 0x800000, M2 = 2ull << 20;
constexpr unsigned U = IMS_VTD_REQ_UNTRANSLATED, Q = IMS_VTD_REQ_TRANSLATION, D = IMS_VTD_REQ_TRANSLATED;

TEST(Ats, MissPathIsLinkTranslationLinkThenTranslatedRequest)
{
    World w;
    ASSERT_EQ(w.make(true), 0);
    w.iommu.map(0x10000, HPA);
    ims_dma *d = w.dma(0x10000, 4096);
    w.run();
    ASSERT_EQ(w.done, 1u);
    EXPECT_EQ(d->fault, 0);
    const ims_cycle L = w.link();
    ASSERT_EQ(w.iommu.reqs.size(), 2u);
    EXPECT_EQ(w.iommu.reqs[0].type, IMS_VTD_REQ_TRANSLATION);
    EXPECT_EQ(w.iommu.reqs[0].addr, 0x10000u);
    EXPECT_EQ(w.iommu.reqs[0].t, L);
    EXPECT_EQ(w.iommu.reqs[1].type, IMS_VTD_REQ_TRANSLATED);
    EXPECT_EQ(w.iommu.reqs[1].addr, HPA);
    EXPECT_EQ(w.iommu.reqs[1].t, L + w.iommu.delay[Q] + L);
    ims_cycle expect = 2 * L + w.iommu.delay[Q] + w.iommu.delay[D] + w.mt.dma_cycles + w.xfer(4096);
    EXPECT_EQ(expect, 100u + 30u + 100u + 10u + 65u + 1024u);
    EXPECT_EQ(d->t_done, expect);
    EXPECT_EQ(d->pa, HPA);
    ASSERT_EQ(w.pieces.size(), 1u);
    EXPECT_EQ(w.pieces[0].second.pa, HPA);
    EXPECT_EQ(w.pieces[0].second.page_size, 4096u);
    EXPECT_EQ(w.counter("ats.xlate.requests"), 1u);
    EXPECT_EQ(w.counter("devtlb.misses"), 1u);
    EXPECT_EQ(w.counter("devtlb.inserts"), 1u);
    EXPECT_NEAR(ims_stats_latency_percentile_ns(w.st, "ats.xlate.latency_ns", 50.0),
                double(2 * L + w.iommu.delay[Q]), 0.02 * double(2 * L + w.iommu.delay[Q]));
}

TEST(Ats, HitSendsNoTranslationRequest)
{
    World w;
    ASSERT_EQ(w.make(true), 0);
    w.iommu.map(0x10000, HPA);
    w.dma(0x10000, 4096);
    auto *second = w.dma_at(5000, 0x10100, 256); // same page, later
    w.run();
    ASSERT_EQ(w.done, 2u);
    EXPECT_EQ(w.iommu.count(IMS_VTD_REQ_TRANSLATION), 1u);
    ASSERT_EQ(w.iommu.reqs.size(), 3u);
    EXPECT_EQ(w.iommu.reqs[2].type, IMS_VTD_REQ_TRANSLATED);
    EXPECT_EQ(w.iommu.reqs[2].addr, HPA + 0x100);
    EXPECT_EQ(w.iommu.reqs[2].t, 5000u);
    EXPECT_EQ(second->out->t_done - 5000, w.iommu.delay[D] + w.mt.dma_cycles + w.xfer(256));
    EXPECT_EQ(second->out->pa, HPA + 0x100);
    EXPECT_EQ(w.counter("devtlb.hits"), 1u);
}

TEST(Ats, CompletionSizeIsCachedSoALargePageServesItsNeighbours)
{
    World w;
    ASSERT_EQ(w.make(true), 0);
    w.iommu.map(M2, 0x40000000, M2);
    w.dma(M2 + 0x3000, 4096);
    auto *later = w.dma_at(5000, M2 + 0x7000, 4096);
    w.run();
    EXPECT_EQ(w.iommu.count(IMS_VTD_REQ_TRANSLATION), 1u);
    EXPECT_EQ(w.iommu.reqs.back().addr, 0x40007000u);
    EXPECT_EQ(later->out->pa, 0x40007000u);
    const ims_devtlb_entry *e = ims_devtlb_peek(ims_dev_devtlb(w.dev), false, 0, false, M2);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->size, M2);
    EXPECT_EQ(w.pieces.back().second.page_size, M2);
}

TEST(Ats, DeniedAccessBecomesAnUntranslatedRequestThatFaults)
{
    World w;
    ASSERT_EQ(w.make(true), 0);
    w.iommu.map(0x10000, HPA, 4096, true, false); // read-only
    ims_dma *d = w.dma(0x10000, 4096, true);
    w.run();
    const ims_cycle L = w.link();
    ASSERT_EQ(w.iommu.reqs.size(), 2u);
    EXPECT_EQ(w.iommu.reqs[1].type, IMS_VTD_REQ_UNTRANSLATED);
    EXPECT_EQ(w.iommu.reqs[1].addr, 0x10000u);
    EXPECT_EQ(d->fault, IMS_VTD_FR_LGN_2);
    EXPECT_EQ(d->t_done, 2 * L + w.iommu.delay[Q] + w.iommu.delay[U]);
    EXPECT_EQ(w.counter("ats.xlate.denied"), 1u);
    EXPECT_EQ(w.counter("dma.faults"), 1u);
    // R was granted, so the translation was cached: a read now hits.
    auto *rd = w.dma_at(5000, 0x10000, 64);
    w.run();
    EXPECT_EQ(rd->out->fault, 0);
    EXPECT_EQ(w.iommu.count(IMS_VTD_REQ_TRANSLATION), 1u);
    EXPECT_EQ(w.iommu.reqs.back().type, IMS_VTD_REQ_TRANSLATED);
}

TEST(Ats, NoPermissionAtAllIsNotCached)
{
    World w;
    ASSERT_EQ(w.make(true), 0);
    ims_dma *d = w.dma(0x10000, 4096); // unmapped: completion R=W=0
    w.run();
    EXPECT_EQ(d->fault, IMS_VTD_FR_LGN_3);
    EXPECT_EQ(ims_devtlb_count(ims_dev_devtlb(w.dev)), 0u);
    EXPECT_EQ(w.iommu.count(IMS_VTD_REQ_UNTRANSLATED), 1u);
}

TEST(Ats, TranslatedRequestRejectedByTheIommuFaultsTheDma)
{
    World w;
    ASSERT_EQ(w.make(true), 0);
    w.iommu.map(0x10000, HPA);
    w.iommu.translated_fault = IMS_VTD_FR_SCT_5; // e.g. DTE cleared in the context entry
    ims_dma *d = w.dma(0x10000, 4096);
    w.run();
    EXPECT_EQ(d->fault, IMS_VTD_FR_SCT_5);
    EXPECT_EQ(d->t_done, 2 * w.link() + w.iommu.delay[Q] + w.iommu.delay[D]);
    EXPECT_TRUE(w.pieces.empty());
}

TEST(Ats, PasidRequestsFillPasidTaggedEntries)
{
    World w;
    ASSERT_EQ(w.make(true), 0);
    w.iommu.map(0x10000, HPA, 4096, true, true, true, 7);
    ims_dma *d = w.dma(0x10000, 4096, false, true, 7);
    w.run();
    EXPECT_EQ(d->fault, 0);
    EXPECT_TRUE(w.iommu.reqs[0].has_pasid);
    EXPECT_EQ(w.iommu.reqs[0].pasid, 7u);
    ims_devtlb *t = ims_dev_devtlb(w.dev);
    EXPECT_NE(ims_devtlb_peek(t, true, 7, false, 0x10000), nullptr);
    EXPECT_EQ(ims_devtlb_peek(t, false, 0, false, 0x10000), nullptr);
}

TEST(Ats, InvalidationRoundTripEqualsTheSumOfItsConfiguredParts)
{
    // Issue 4 "device-TLB invalidation round trip equals the sum of its configured parts".
    World w;
    ASSERT_EQ(w.make(true, 0, 0x0310), 0);
    ims_ats_inv_msg m = w.inv_msg(0x10000, false, 5);
    ims_dev_ats_inv_request(w.dev, &m);
    EXPECT_EQ(ims_dev_inflight(w.dev), 1u);
    w.run();
    ASSERT_EQ(w.iommu.cpls.size(), 1u);
    EXPECT_EQ(w.iommu.cpls[0].t, w.link() + w.inv() + w.link());
    EXPECT_EQ(w.iommu.cpls[0].t, 100u + 300u + 100u);
    EXPECT_EQ(w.iommu.cpls[0].sid, 0x0310);
    EXPECT_EQ(w.iommu.cpls[0].vec, 1u << 5); // vtd-facts §6.3: one ITag bit per completed tag
    EXPECT_EQ(w.iommu.cpls[0].cc, 1u);
    EXPECT_EQ(ims_dev_inflight(w.dev), 0u);
    EXPECT_EQ(w.counter("ats.dev_inv.requests"), 1u);
}

TEST(Ats, InvalidationsAreProcessedOneAtATime)
{
    World w;
    ASSERT_EQ(w.make(true), 0);
    ims_ats_inv_msg a = w.inv_msg(0x10000, false, 1), b = w.inv_msg(0x20000, false, 2);
    ims_dev_ats_inv_request(w.dev, &a);
    ims_dev_ats_inv_request(w.dev, &b);
    w.run();
    ASSERT_EQ(w.iommu.cpls.size(), 2u);
    EXPECT_EQ(w.iommu.cpls[0].vec, 1u << 1);
    EXPECT_EQ(w.iommu.cpls[0].t, 2 * w.link() + w.inv());
    EXPECT_EQ(w.iommu.cpls[1].vec, 1u << 2);
    EXPECT_EQ(w.iommu.cpls[1].t, 2 * w.link() + 2 * w.inv());
}

TEST(Ats, InvalidationWaitsForDmasInFlightAtArrivalOnly)
{
    World w;
    ASSERT_EQ(w.make(true), 0);
    w.iommu.map(0x10000, HPA);
    w.dma(0x10000, 4096);                       // fills the device-TLB, done long before 2000
    auto *busy = w.dma_at(2000, 0x10000, 4096); // hit: in flight 2000 .. 2000+D+M+T
    w.inv_at(2050, w.inv_msg(0x10000, false, 3));
    auto *after = w.dma_at(2200, 0x10000, 4096); // starts after the request arrived (2150)
    w.run();
    const ims_cycle L = w.link();
    ims_cycle busy_done = 2000 + w.iommu.delay[D] + w.mt.dma_cycles + w.xfer(4096);
    EXPECT_EQ(busy->out->t_done, busy_done);
    ASSERT_EQ(w.iommu.cpls.size(), 1u);
    EXPECT_EQ(w.iommu.cpls[0].t, busy_done + w.inv() + L);
    // The entry was removed on arrival: the later DMA asked for a new translation ...
    EXPECT_EQ(w.iommu.count(IMS_VTD_REQ_TRANSLATION), 2u);
    // ... and the invalidation did not wait for it.
    EXPECT_GT(after->out->t_done, w.iommu.cpls[0].t);
    EXPECT_EQ(after->out->t_done, busy_done + w.xfer(4096)); // its data queued behind busy's
}

TEST(Ats, CompletionOvertakenByAnInvalidationIsUsedButNotCached)
{
    World w;
    w.iommu.delay[Q] = 500; // the IOMMU is slow to answer
    ASSERT_EQ(w.make(true), 0);
    w.iommu.map(0x10000, HPA);
    ims_dma *d = w.dma(0x10000, 4096);
    ims_ats_inv_msg m = w.inv_msg(0x10000, false, 4);
    ims_dev_ats_inv_request(w.dev, &m); // arrives while the translation request is out
    w.run();
    const ims_cycle L = w.link();
    ims_cycle done = 2 * L + 500 + w.iommu.delay[D] + w.mt.dma_cycles + w.xfer(4096);
    EXPECT_EQ(d->fault, 0);
    EXPECT_EQ(d->t_done, done);
    EXPECT_EQ(w.counter("ats.xlate.fill_skipped"), 1u);
    EXPECT_EQ(ims_devtlb_count(ims_dev_devtlb(w.dev)), 0u);
    ASSERT_EQ(w.iommu.cpls.size(), 1u);
    EXPECT_EQ(w.iommu.cpls[0].t, done + w.inv() + L); // waited for the DMA using it
}

TEST(Ats, InvalidationRemovesOnlyMatchingEntries)
{
    World w;
    ASSERT_EQ(w.make(true), 0);
    for (uint32_t pasid : {1u, 2u}) {
        w.iommu.map(0x10000, HPA + pasid * 0x1000, 4096, true, true, true, pasid);
        w.dma(0x10000, 64, false, true, pasid);
    }
    w.iommu.map(0x20000, HPA);
    w.dma(0x20000, 64);
    w.run();
    ims_devtlb *t = ims_dev_devtlb(w.dev);
    ASSERT_EQ(ims_devtlb_count(t), 3u);
    // PASID-selective (type-8 G=0): only PASID 1's entry.
    w.inv_at(10000, w.inv_msg(0x10000, false, 0, true, 1));
    w.run();
    EXPECT_EQ(ims_devtlb_peek(t, true, 1, false, 0x10000), nullptr);
    EXPECT_NE(ims_devtlb_peek(t, true, 2, false, 0x10000), nullptr);
    EXPECT_NE(ims_devtlb_peek(t, false, 0, false, 0x20000), nullptr);
    // No PASID (type 3), another page: PASID 2's entry goes (PCIe 6.2 §10.3.8), 0x20000 stays.
    w.inv_at(20000, w.inv_msg(0x30000, false, 1));
    w.run();
    EXPECT_EQ(ims_devtlb_peek(t, true, 2, false, 0x10000), nullptr);
    EXPECT_NE(ims_devtlb_peek(t, false, 0, false, 0x20000), nullptr);
    // 8 KiB block at 0x20000 (S=1, bit 12 = 0) removes it.
    w.inv_at(30000, w.inv_msg(0x20000, true, 2));
    w.run();
    EXPECT_EQ(ims_devtlb_count(t), 0u);
    EXPECT_EQ(w.iommu.cpls.size(), 3u);
    EXPECT_EQ(w.counter("devtlb.invalidated"), 3u);
}

TEST(Ats, DroppedInvalidationsAreNeverAnswered)
{
    // Fault injection for ITE: the device ignores the request entirely.
    World w;
    w.set("dev.ats_drop_inv", "true");
    ASSERT_EQ(w.make(true), 0);
    w.iommu.map(0x10000, HPA);
    w.dma(0x10000, 4096);
    w.inv_at(5000, w.inv_msg(0x10000, false, 6));
    w.run();
    EXPECT_TRUE(w.iommu.cpls.empty());
    EXPECT_EQ(w.counter("ats.dev_inv.dropped"), 1u);
    EXPECT_EQ(ims_devtlb_count(ims_dev_devtlb(w.dev)), 1u);
    EXPECT_EQ(ims_dev_inflight(w.dev), 0u); // nothing left to drain
}

TEST(Ats, DeviceWithoutAtsStillAnswersInvalidations)
{
    World w;
    ASSERT_EQ(w.make(false), 0);
    ims_ats_inv_msg m = w.inv_msg(0x10000, false, 9);
    ims_dev_ats_inv_request(w.dev, &m);
    w.run();
    ASSERT_EQ(w.iommu.cpls.size(), 1u);
    EXPECT_EQ(w.iommu.cpls[0].t, 2 * w.link() + w.inv());
}

} // namespace
