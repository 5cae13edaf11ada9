// Queued-invalidation engine, ATS side and wait semantics (models/vtd/qi.h): device-TLB descriptors become
// ATS Invalidate Requests with ITags, waits complete only after every earlier descriptor (ATS completions
// included), in queue order, FN fences later descriptors, ITE on a time-out aborts pending waits, ICE on an
// unexpected completion, IF sets ICS.IWC. Timings are exact: 1 cycle = 1 ns, defaults from qi_config.c.
#include "tests/qi_fixture.h"

namespace {

using qitest::kMemRead;
using qitest::kStatus;
using qitest::Opts;
using qitest::QiSys;

constexpr ims_cycle kDev = 50, kWait = 100, kStatusW = 200, kIotlb = 500; // qi.cost.* defaults

void devtlb(uint64_t qw[4], uint16_t sid, uint64_t addr = 0x7000, unsigned order = 0)
{
    ASSERT_EQ(ims_qi_build_dev_tlb(qw, sid, 0, 0, addr, order), 0);
}

TEST(QiAts, DeviceTlbDescriptorsBecomeInvalidateRequests)
{
    // vtd-facts §6.2: destination SID, address with S, PASID prefix and Global bit (type 8), ITag 0..31.
    QiSys s;
    uint64_t qw[4];
    devtlb(qw, 0x0310, 0x7000, 0);
    s.put(qw);
    ASSERT_EQ(ims_qi_build_pdev_tlb(qw, 0x0310, 0, 0, 5, false, 0x10000, 2), 0);
    s.put(qw);
    ASSERT_EQ(ims_qi_build_pdev_tlb(qw, 0x0310, 0, 0, 0, true, 0, 52), 0);
    s.put(qw);
    s.put_wait(1);
    s.ring();
    s.run();
    ASSERT_EQ(s.ats.msgs.size(), 3u);
    const ims_ats_inv_msg &a = s.ats.msgs[0].m, &b = s.ats.msgs[1].m, &g = s.ats.msgs[2].m;
    EXPECT_EQ(a.sid, 0x0310);
    EXPECT_FALSE(a.has_pasid);
    EXPECT_EQ(a.addr, 0x7000u);
    EXPECT_FALSE(a.s);
    EXPECT_TRUE(b.has_pasid);
    EXPECT_EQ(b.pasid, 5u);
    EXPECT_FALSE(b.global);
    EXPECT_TRUE(b.s);                      // 16 KiB: S=1, bits 13:12 = 01 (vtd-facts §6.2)
    EXPECT_EQ(b.addr, 0x11000u);
    EXPECT_TRUE(g.global);
    EXPECT_EQ(g.addr, 0x7FFFFFFFFFFFF000u); // whole space (vtd-facts §4.9)
    // ITags rotate, so a late answer is never taken for a fresh request.
    EXPECT_EQ(a.itag, 0u);
    EXPECT_EQ(b.itag, 1u);
    EXPECT_EQ(g.itag, 2u);
    EXPECT_EQ(s.count("ats.inv.sent"), 3u);
    EXPECT_EQ(s.count("ats.inv.completed"), 3u);
    EXPECT_EQ(s.count("qi.desc.dev_tlb"), 1u);
    EXPECT_EQ(s.count("qi.desc.pdev_tlb"), 2u);
    EXPECT_EQ(s.status(), 1u);
}

TEST(QiAts, WaitCompletesOnlyAfterTheAtsCompletion)
{
    // vtd-facts §4.6: a wait completes after every earlier descriptor, device-TLB invalidations included.
    // devtlb fetched with the wait at 197, sent at 247, answered at 1247; status write 1247..1447.
    QiSys s;
    uint64_t qw[4];
    devtlb(qw, 0x42);
    s.put(qw);
    s.put_wait(0x99);
    s.ring();
    const ims_cycle sent = kMemRead + kDev, answer = sent + 1000, done = answer + kStatusW;
    s.run_until(done - 1);
    EXPECT_EQ(s.status(), 0u);
    ASSERT_EQ(s.ats.msgs.size(), 1u);
    EXPECT_EQ(s.ats.msgs[0].t, sent);
    s.run();
    EXPECT_EQ(s.status(), 0x99u);
    EXPECT_EQ(s.now(), done);
    EXPECT_DOUBLE_EQ(ims_stats_latency_percentile_ns(s.st, "ats.inv.latency_ns", 100), 1000.0);
    EXPECT_DOUBLE_EQ(ims_stats_latency_percentile_ns(s.st, "inv.latency_ns", 100), (double)done);
}

TEST(QiAts, WaitWaitsForTheSlowestEndpoint)
{
    QiSys s;
    s.ats.delay_of[0x10] = 3000;
    s.ats.delay_of[0x20] = 1000;
    uint64_t qw[4];
    devtlb(qw, 0x10);
    s.put(qw);
    devtlb(qw, 0x20);
    s.put(qw);
    s.put_wait(5);
    s.ring();
    s.run();
    // 0x10 sent at 247 (answer 3247); 0x20 sent at 297 (answer 1297).
    EXPECT_EQ(s.now(), kMemRead + kDev + 3000 + kStatusW);
    EXPECT_EQ(s.status(), 5u);
}

TEST(QiAts, CompletionCountNeedsEveryCompletion)
{
    // vtd-facts §6.3: the ITag is done when the completions received equal CC.
    QiSys s;
    s.ats.cc = 2;
    s.ats.copies = 2; // at +1000 and +2000
    uint64_t qw[4];
    devtlb(qw, 0x42);
    s.put(qw);
    s.put_wait(5);
    s.ring();
    s.run();
    EXPECT_EQ(s.now(), kMemRead + kDev + 2000 + kStatusW);
    EXPECT_EQ(s.count("ats.inv.completed"), 1u);
    EXPECT_EQ(s.count("qi.ice"), 0u);
}

TEST(QiAts, ThirtyThirdRequestWaitsForAFreeItag)
{
    // vtd-facts §6.2: 32 ITags per endpoint; an ITag is not reused before its completion.
    QiSys s;
    s.ats.delay = 10000;
    uint64_t qw[4];
    for (int i = 0; i < 33; i++) {
        devtlb(qw, 0x42, 0x1000ull * (i + 1));
        s.put(qw);
    }
    s.put_wait(5);
    s.ring();
    s.run();
    ASSERT_EQ(s.ats.msgs.size(), 33u);
    uint32_t seen = 0;
    for (int i = 0; i < 32; i++)
        seen |= 1u << s.ats.msgs[i].m.itag;
    EXPECT_EQ(seen, 0xFFFFFFFFu);
    // The first answer frees ITag 0; the stalled descriptor then spends its issue cost and goes.
    EXPECT_EQ(s.ats.msgs[32].m.itag, 0u);
    EXPECT_EQ(s.ats.msgs[32].t, s.ats.answered[0] + kDev);
    EXPECT_EQ(s.count("qi.itag_stalls"), 1u);
    EXPECT_EQ(s.now(), s.ats.msgs[32].t + 10000 + kStatusW);
    EXPECT_EQ(s.status(), 5u);
}

TEST(QiWait, WaitsCompleteInQueueOrderAndLaterDescriptorsRunWithoutFence)
{
    // VT-d 5.10 §6.5.2.12: without FN, descriptors after a wait may execute before it completes; a wait
    // completes only after the previous wait.
    QiSys s;
    s.ats.delay = 5000;
    ims_iotlb_entry e{};
    e.did = 1;
    e.pgtt = IMS_VTD_PGTT_SS;
    e.iova = 0x1000;
    ims_iotlb_insert(s.c.iotlb, &e);
    uint64_t qw[4];
    devtlb(qw, 0x42);
    s.put(qw);
    s.put_wait(0xa, kStatus);
    ims_qi_build_iotlb_dsi(qw, 1, false, false);
    s.put(qw);
    s.put_wait(0xb, kStatus + 4);
    s.ring();
    // iotlb fetched at 394, applied at 894: long before the first wait can complete (5247 + 200).
    s.run_until(1000);
    EXPECT_EQ(ims_iotlb_count(s.c.iotlb), 0u);
    EXPECT_EQ(s.status(kStatus), 0u);
    const ims_cycle w1 = kMemRead + kDev + 5000 + kStatusW;
    s.run_until(w1);
    EXPECT_EQ(s.status(kStatus), 0xau);
    EXPECT_EQ(s.status(kStatus + 4), 0u) << "second wait overtook the first";
    s.run();
    EXPECT_EQ(s.status(kStatus + 4), 0xbu);
    EXPECT_EQ(s.now(), w1 + kStatusW);
    EXPECT_EQ(s.count("inv.count"), 2u);
}

TEST(QiWait, FenceHoldsLaterDescriptorsUntilTheWaitCompletes)
{
    // VT-d 5.10 §6.5.2.9: FN=1, descriptors after the wait are processed only after it completes. The
    // model stops fetching at the FN wait, so IQH stays just after it.
    QiSys s;
    s.ats.delay = 5000;
    ims_iotlb_entry e{};
    e.did = 1;
    e.pgtt = IMS_VTD_PGTT_SS;
    e.iova = 0x1000;
    ims_iotlb_insert(s.c.iotlb, &e);
    uint64_t qw[4];
    devtlb(qw, 0x42);
    s.put(qw);
    uint64_t fn_off = s.put_wait(0xa, kStatus, /*fn=*/true);
    ims_qi_build_iotlb_dsi(qw, 1, false, false);
    s.put(qw);
    s.put_wait(0xb, kStatus + 4);
    s.ring();
    s.run_until(5000);
    EXPECT_EQ(ims_iotlb_count(s.c.iotlb), 1u);
    EXPECT_EQ(s.iqh(), fn_off + s.db);
    const ims_cycle w1 = kMemRead + kDev + 5000 + kStatusW;
    s.run_until(w1);
    EXPECT_EQ(s.status(kStatus), 0xau);
    EXPECT_EQ(ims_iotlb_count(s.c.iotlb), 1u);
    s.run();
    EXPECT_EQ(ims_iotlb_count(s.c.iotlb), 0u);
    EXPECT_EQ(s.status(kStatus + 4), 0xbu);
    // After the fence: fetch 197, iotlb 500, wait 100, status 200.
    EXPECT_EQ(s.now(), w1 + kMemRead + kIotlb + kWait + kStatusW);
}

TEST(QiWait, InterruptFlagSetsIwcWithoutAStatusWrite)
{
    // vtd-facts §1.10/§4.6: IF=1 sets ICS.IWC; with IECTL.IM=1 (reset) the event is held pending (IP).
    QiSys s;
    uint64_t qw[4];
    ims_qi_build_wait(qw, false, true, false, false, 0x1234, kStatus);
    s.submit(qw);
    s.run();
    EXPECT_TRUE(ims_vtd_ics_iwc(s.rd(IMS_VTD_REG_ICS, 4)));
    EXPECT_TRUE(ims_vtd_ectl_ip(s.rd(IMS_VTD_REG_IECTL, 4)));
    EXPECT_EQ(s.status(), 0u);
    EXPECT_EQ(s.count("inv.count"), 1u);
}

TEST(QiWait, BarrierWaitAndPageRequestDrainComplete)
{
    // SW=IF=0 is a valid barrier (inv_desc.h decision); PD=1 is accepted with ECAP.PDS (no PRQ model yet).
    QiSys s;
    uint64_t qw[4];
    ims_qi_build_wait(qw, false, false, false, false, 0, 0);
    s.put(qw);
    ims_qi_build_wait(qw, true, false, false, true, 0x66, kStatus);
    s.put(qw);
    s.ring();
    s.run();
    EXPECT_EQ(s.status(), 0x66u);
    EXPECT_EQ(s.count("inv.count"), 2u);
}

// ---- ITE -------------------------------------------------------------------------------------------

TEST(QiIte, TimeoutAbortsPendingWaitsAndStopsFetching)
{
    // VT-d 5.10 §6.5.2.11 / vtd-facts §4.11: on a device-TLB time-out hardware sets ITE (IQERCD.ITESID),
    // aborts every pending wait (no status write) and fetches nothing until software clears ITE.
    QiSys s(Opts().set("qi.ats_timeout=5us"));
    s.ats.answer = false;
    uint64_t qw[4];
    devtlb(qw, 0x42);
    s.put(qw);
    s.put_wait(0xa);
    s.ring();
    s.run();
    const ims_cycle sent = kMemRead + kDev;
    EXPECT_EQ(s.now(), sent + 5000);
    EXPECT_TRUE(ims_vtd_fsts_ite(s.fsts()));
    EXPECT_EQ(ims_vtd_iqercd_itesid(s.iqercd()), 0x42u);
    EXPECT_EQ(s.status(), 0u);
    EXPECT_EQ(s.count("qi.wait_aborted"), 1u);
    EXPECT_EQ(s.count("inv.count"), 0u);
    EXPECT_EQ(s.count("ats.inv.timeouts"), 1u);
    EXPECT_EQ(ims_qi_pending(s.qi), 0u);
    EXPECT_EQ(s.iqh(), s.tail);
    // Software resubmits (Linux: -EAGAIN); the tail write fetches nothing while ITE is set.
    uint64_t f = s.count("qi.fetches");
    s.put_wait(0xb, kStatus + 4);
    s.ring();
    s.run();
    EXPECT_EQ(s.count("qi.fetches"), f);
    EXPECT_EQ(s.status(kStatus + 4), 0u);
    s.clear_fsts(IMS_VTD_MASK(IMS_VTD_FSTS_ITE));
    s.run();
    EXPECT_EQ(s.status(kStatus + 4), 0xbu);
    EXPECT_EQ(s.status(), 0u) << "an aborted wait never writes";
}

TEST(QiIte, AbortedFenceWaitLeavesTheHeadBehindIt)
{
    // The FN wait is aborted; IQH points after it (the next descriptor was never fetched), and clearing
    // ITE fetches from IQH (spec §6.5.2.11).
    QiSys s(Opts().set("qi.ats_timeout=5us"));
    s.ats.answer = false;
    uint64_t qw[4];
    devtlb(qw, 0x42);
    s.put(qw);
    uint64_t fn_off = s.put_wait(0xa, kStatus, true);
    s.put_wait(0xb, kStatus + 4);
    s.ring();
    s.run();
    EXPECT_TRUE(ims_vtd_fsts_ite(s.fsts()));
    EXPECT_EQ(s.iqh(), fn_off + s.db);
    EXPECT_EQ(s.status(kStatus + 4), 0u);
    s.clear_fsts(IMS_VTD_MASK(IMS_VTD_FSTS_ITE));
    s.run();
    EXPECT_EQ(s.status(kStatus + 4), 0xbu);
    EXPECT_EQ(s.status(kStatus), 0u);
}

TEST(QiIte, UndeliverableRequestTimesOut)
{
    // ats_port.h: send_inv false (no endpoint with the SID) is treated as a time-out.
    QiSys s(Opts().set("qi.ats_timeout=2us"));
    s.ats.absent.insert(0x77);
    uint64_t qw[4];
    devtlb(qw, 0x77);
    s.put(qw);
    s.put_wait(1);
    s.ring();
    s.run();
    EXPECT_EQ(s.now(), kMemRead + kDev + 2000);
    EXPECT_EQ(s.count("ats.inv.undeliverable"), 1u);
    EXPECT_EQ(ims_vtd_iqercd_itesid(s.iqercd()), 0x77u);
    EXPECT_EQ(s.status(), 0u);
}

TEST(QiIte, CompletionAfterTheTimeoutIsUnexpected)
{
    // The time-out frees the ITag (§6.5.2.11), so a late answer matches nothing: ICE (vtd-facts §6.3).
    QiSys s(Opts().set("qi.ats_timeout=5us"));
    s.ats.delay = 8000;
    uint64_t qw[4];
    devtlb(qw, 0x42);
    s.submit(qw);
    s.run();
    EXPECT_TRUE(ims_vtd_fsts_ite(s.fsts()));
    EXPECT_TRUE(ims_vtd_fsts_ice(s.fsts()));
    EXPECT_EQ(ims_vtd_iqercd_icesid(s.iqercd()), 0x42u);
    EXPECT_EQ(s.count("qi.ice"), 1u);
}

// ---- ICE ------------------------------------------------------------------------------------------------

TEST(QiIce, UnexpectedCompletionsRaiseIceAndTheQueueGoesOn)
{
    // vtd-facts §6.3 / VT-d 5.10 §6.5.2.11: ICE with IQERCD.ICESID; processing continues as normal.
    QiSys s;
    ims_qi_ats_completion(s.qi, 0x99, 1u << 3, 1); // no request was ever sent to 0x99
    EXPECT_TRUE(ims_vtd_fsts_ice(s.fsts()));
    EXPECT_EQ(ims_vtd_iqercd_icesid(s.iqercd()), 0x99u);
    // A known endpoint, an ITag it does not hold.
    uint64_t qw[4];
    devtlb(qw, 0x42);
    s.put(qw);
    s.put_wait(0xc);
    s.ring();
    s.run_until(500);
    ims_qi_ats_completion(s.qi, 0x42, 1u << 5, 1);
    EXPECT_EQ(ims_vtd_iqercd_icesid(s.iqercd()), 0x42u);
    s.run();
    EXPECT_EQ(s.status(), 0xcu) << "ICE must not stop the queue";
    EXPECT_EQ(s.now(), kMemRead + kDev + 1000 + kStatusW);
    EXPECT_EQ(s.count("qi.ice"), 2u);
    EXPECT_FALSE(ims_vtd_fsts_iqe(s.fsts()));
    EXPECT_FALSE(ims_vtd_fsts_ite(s.fsts()));
}

TEST(QiLifetime, DestroyCancelsEverythingInFlight)
{
    // Under ASan: running the engine after destroying the engine's client must not touch freed state.
    QiSys s;
    s.ats.answer = false;
    uint64_t qw[4];
    devtlb(qw, 0x42);
    s.put(qw);
    s.put_wait(1);
    s.put_wait(2, kStatus + 4);
    s.put_wait(3, kStatus + 8);
    s.ring();
    s.run_until(kMemRead + 10);
    EXPECT_GT(ims_qi_pending(s.qi), 0u);
    ims_qi_destroy(s.qi);
    s.qi = nullptr;
    s.run();
    EXPECT_EQ(s.status(), 0u);
}

} // namespace
