// Queued-invalidation engine (models/vtd/qi.h): configuration and calibration, what every descriptor type
// and granularity removes from the caches, queue mechanics (fetch batches, wrap-around, IQH), IQE for
// each cause with recovery, and register-based invalidation. ATS, ITE/ICE, wait ordering and FN are in
// qi_ats_test.cc.
#include "tests/qi_fixture.h"

#include <algorithm>
#include <cstring>

namespace {

using qitest::kIqBase;
using qitest::kMemRead;
using qitest::kStatus;
using qitest::Opts;
using qitest::QiSys;

// ---- configuration ---------------------------------------------------------------------------------

TEST(QiConfig, EveryKeyHasUnitHelpAndSource)
{
    unsigned n = 0;
    for (const ims_cfg_key *k = ims_qi_cfg_keys; k->name; k++, n++) {
        EXPECT_EQ(std::strncmp(k->name, "qi.", 3), 0) << k->name;
        EXPECT_NE(k->unit, nullptr) << k->name;
        EXPECT_NE(k->help, nullptr) << k->name;
        ASSERT_NE(k->source, nullptr) << k->name;
        EXPECT_GT(std::strlen(k->source), 10u) << k->name;
    }
    EXPECT_EQ(n, 11u);
}

TEST(QiConfig, DefaultsMatchTheCalibrationBudget)
{
    // calibration.md: bare-metal IOTLB invalidation + wait ~1 us. The defaults add up to 997 ns with the
    // 197 ns memory read: fetch 197 + iotlb 500 + wait 100 + status write 200.
    ims_error err{};
    const ims_cfg_key *t[] = {ims_qi_cfg_keys};
    ims_config *c = ims_config_create(t, 1, &err);
    ASSERT_NE(c, nullptr) << err.msg;
    EXPECT_EQ(ims_config_time_ps(c, "qi.cost.iotlb"), 500000u);
    EXPECT_EQ(ims_config_time_ps(c, "qi.cost.wait"), 100000u);
    EXPECT_EQ(ims_config_time_ps(c, "qi.status_write"), 200000u);
    EXPECT_EQ(ims_config_time_ps(c, "qi.ats_timeout"), 1000000000u); // 1 ms
    EXPECT_EQ(ims_config_u64(c, "qi.fetch_batch"), 2u);
    EXPECT_EQ(ims_config_set_arg(c, "qi.fetch_batch=0", &err), -ERANGE);
    ims_config_destroy(c);
}

TEST(QiCreate, RejectsMissingParts)
{
    ims_qi_params p{};
    ims_qi *q = reinterpret_cast<ims_qi *>(1);
    ims_error err{};
    EXPECT_EQ(ims_qi_create(&p, &q, &err), -EINVAL);
    EXPECT_EQ(q, nullptr);
    EXPECT_NE(std::strstr(err.msg, "required"), nullptr);
}

// ---- exact timing ------------------------------------------------------------------------------------

TEST(QiTiming, IotlbGlobalPlusWaitTakesTheSumOfItsConfiguredParts)
{
    QiSys s;
    uint64_t qw[4];
    ims_qi_build_iotlb_global(qw, true, true);
    s.put(qw);
    s.put_wait(0xabcd);
    s.ring();                            // t = 0
    const ims_cycle expect = kMemRead + 500 + 100 + 200;
    s.run_until(expect - 1);
    EXPECT_EQ(s.status(), 0u) << "status written early";
    s.run();
    EXPECT_EQ(s.status(), 0xabcdu);
    EXPECT_EQ(s.now(), expect);
    EXPECT_EQ(ims_stats_latency_count(s.st, "inv.latency_ns"), 1u);
    EXPECT_DOUBLE_EQ(ims_stats_latency_percentile_ns(s.st, "inv.latency_ns", 100), (double)expect);
    EXPECT_EQ(s.count("inv.count"), 1u);
    EXPECT_EQ(s.count("qi.descriptors"), 2u);
    EXPECT_EQ(s.count("qi.desc.iotlb"), 1u);
    EXPECT_EQ(s.count("qi.desc.wait"), 1u);
    EXPECT_EQ(s.count("qi.fetches"), 1u);     // both descriptors in one read (qi.fetch_batch = 2)
    EXPECT_EQ(ims_qi_pending(s.qi), 0u);
}

TEST(QiTiming, LatencyCountsFromTheTailWriteAndFetchesOneByOneWithBatchOne)
{
    // Cheap descriptors, batch 1: the fetch is the bottleneck. iotlb fetched at +197, executes 10;
    // the wait is fetched at +394, executes 20, status write 30 -> +444 after the tail write at t=1000.
    QiSys s(Opts().set("qi.fetch_batch=1").set("qi.cost.iotlb=10ns").set("qi.cost.wait=20ns").set(
        "qi.status_write=30ns"));
    ims_engine_schedule_at(s.e, 1000, [](void *, uint64_t) {}, nullptr, 0);
    s.run();
    ASSERT_EQ(s.now(), 1000u);
    uint64_t qw[4];
    ims_qi_build_iotlb_dsi(qw, 3, false, false);
    s.put(qw);
    s.put_wait(1);
    s.ring();
    s.run();
    EXPECT_EQ(s.status(), 1u);
    EXPECT_EQ(s.now(), 1000u + 2 * kMemRead + 20 + 30);
    EXPECT_DOUBLE_EQ(ims_stats_latency_percentile_ns(s.st, "inv.latency_ns", 100), 2.0 * kMemRead + 50);
    EXPECT_EQ(s.count("qi.fetches"), 2u);
}

TEST(QiTiming, ExecutionIsSerialAndOverlapsTheNextFetch)
{
    // Four 500 ns IOTLB invalidations fetched two per read: the executor, not the fetch, sets the pace.
    QiSys s;
    uint64_t qw[4];
    for (int i = 0; i < 4; i++) {
        ims_qi_build_iotlb_dsi(qw, (uint16_t)i, false, false);
        s.put(qw);
    }
    s.put_wait(7);
    s.ring();
    s.run();
    EXPECT_EQ(s.now(), kMemRead + 4 * 500 + 100 + 200);
    EXPECT_EQ(s.count("qi.fetches"), 3u);
}

TEST(QiTiming, WorkedExampleOfDocsTimingMd)
{
    // docs/timing.md "Queued invalidation", worked example (defaults, 1 GHz, ATS round trip 1000 ns =
    // 2 x pcie.latency_ns 250 + dev.ats_inv_ns 500).
    {   // (a) PASID-selective P_IOTLB + wait: 197 + 500 + 100 + 200.
        QiSys s;
        uint64_t qw[4];
        ims_qi_build_piotlb_pasid(qw, 5, 0x42);
        s.put(qw);
        s.put_wait(1);
        s.ring();
        s.run();
        EXPECT_EQ(s.now(), 997u);
    }
    {   // (b) P_IOTLB + PASID-based device-TLB + wait: the third descriptor needs a second read
        // (197..394); pdev issued 697..747; completion at 1747; status write 1747..1947.
        QiSys s;
        uint64_t qw[4];
        ims_qi_build_piotlb_pasid(qw, 5, 0x42);
        s.put(qw);
        ASSERT_EQ(ims_qi_build_pdev_tlb(qw, 0x0100, 0, 0, 0x42, false, 0, 52), 0);
        s.put(qw);
        s.put_wait(1);
        s.ring();
        s.run();
        ASSERT_EQ(s.ats.msgs.size(), 1u);
        EXPECT_EQ(s.ats.msgs[0].t, 747u);
        EXPECT_EQ(s.ats.answered.at(0), 1747u);
        EXPECT_EQ(s.now(), 1947u);
        EXPECT_EQ(s.status(), 1u);
    }
}

// ---- what each descriptor removes ----------------------------------------------------------------------

ims_iotlb_entry tlb(uint16_t did, ims_vtd_pgtt pgtt, uint32_t pasid, uint64_t iova)
{
    ims_iotlb_entry e{};
    e.did = did;
    e.pgtt = (uint8_t)pgtt;
    e.pasid = pasid;
    e.iova = iova;
    e.hpa = 0x40000000 + iova;
    e.psize = IMS_IOTLB_4K;
    e.r = e.w = true;
    return e;
}

ims_psc_entry psc(ims_psc_stage st, uint16_t did, uint32_t pasid, uint64_t base)
{
    ims_psc_entry e{};
    e.stage = (uint8_t)st;
    e.level = 2;
    e.did = did;
    e.pasid = pasid;
    e.base = base;
    e.next_table = 0x123000;
    e.perm = IMS_PSC_R | IMS_PSC_W;
    return e;
}

// A small population: DID 1 has SS entries at 0x1000 and 0x400000, an FS entry (PASID 7) at 0x9000 and
// a pass-through entry (PASID 9) at 0x1000; DID 2 has an SS entry at 0x1000 and an FS entry (PASID 7).
struct Population {
    QiSys &s;
    explicit Population(QiSys &sys) : s(sys)
    {
        ims_iotlb_entry es[] = {
            tlb(1, IMS_VTD_PGTT_SS, 0, 0x1000),     tlb(1, IMS_VTD_PGTT_SS, 0, 0x400000),
            tlb(1, IMS_VTD_PGTT_FS, 7, 0x9000),     tlb(1, IMS_VTD_PGTT_PT, 9, 0x1000),
            tlb(2, IMS_VTD_PGTT_SS, 0, 0x1000),     tlb(2, IMS_VTD_PGTT_FS, 7, 0x9000),
        };
        for (auto &e : es)
            ims_iotlb_insert(s.c.iotlb, &e);
        ims_psc_entry ps[] = {psc(IMS_PSC_SS, 1, 0, 0), psc(IMS_PSC_FS, 1, 7, 0), psc(IMS_PSC_SS, 2, 0, 0),
                              psc(IMS_PSC_FS, 2, 7, 0)};
        for (auto &e : ps)
            ims_psc_insert(s.c.psc, &e);
    }
    bool ss(uint16_t did, uint64_t a) { return ims_iotlb_peek(s.c.iotlb, did, IMS_VTD_PGTT_SS, 0, a) != nullptr; }
    bool fs(uint16_t did, uint32_t pasid, uint64_t a)
    {
        return ims_iotlb_peek(s.c.iotlb, did, IMS_VTD_PGTT_FS, pasid, a) != nullptr;
    }
    bool pt(uint16_t did, uint32_t pasid, uint64_t a)
    {
        return ims_iotlb_peek(s.c.iotlb, did, IMS_VTD_PGTT_PT, pasid, a) != nullptr;
    }
    bool psc_ss(uint16_t did) { return ims_psc_lookup(s.c.psc, IMS_PSC_SS, 2, did, 0, 0) != nullptr; }
    bool psc_fs(uint16_t did, uint32_t pasid)
    {
        return ims_psc_lookup(s.c.psc, IMS_PSC_FS, 2, did, pasid, 0) != nullptr;
    }
};

void run_one(QiSys &s, const uint64_t qw[4])
{
    s.put(qw);
    s.put_wait(1);
    s.ring();
    s.run();
    ASSERT_EQ(s.status(), 1u);
}

TEST(QiExec, IotlbGlobalRemovesEverythingAndBumpsTheEpoch)
{
    // VT-d 5.10 Table 23, global: all IOTLB and paging-structure-cache entries.
    QiSys s;
    Population p(s);
    uint64_t qw[4];
    ims_qi_build_iotlb_global(qw, false, false);
    uint64_t epoch = s.c.inv_epoch;
    run_one(s, qw);
    EXPECT_EQ(ims_iotlb_count(s.c.iotlb), 0u);
    for (unsigned lv = 2; lv <= 5; lv++) {
        EXPECT_EQ(ims_psc_count(s.c.psc, IMS_PSC_FS, lv), 0u);
        EXPECT_EQ(ims_psc_count(s.c.psc, IMS_PSC_SS, lv), 0u);
    }
    EXPECT_EQ(s.c.inv_epoch, epoch + 1);
    EXPECT_EQ(s.count("qi.entries_removed"), 10u);
}

TEST(QiExec, IotlbDomainSelectiveRemovesOnlyThatDomain)
{
    // Table 23, domain-selective: IOTLB and both PSCs by DID.
    QiSys s;
    Population p(s);
    uint64_t qw[4];
    ims_qi_build_iotlb_dsi(qw, 1, false, false);
    run_one(s, qw);
    EXPECT_FALSE(p.ss(1, 0x1000));
    EXPECT_FALSE(p.fs(1, 7, 0x9000));
    EXPECT_FALSE(p.pt(1, 9, 0x1000));
    EXPECT_FALSE(p.psc_ss(1));
    EXPECT_FALSE(p.psc_fs(1, 7));
    EXPECT_TRUE(p.ss(2, 0x1000));
    EXPECT_TRUE(p.fs(2, 7, 0x9000));
    EXPECT_TRUE(p.psc_ss(2));
    EXPECT_TRUE(p.psc_fs(2, 7));
    EXPECT_EQ(ims_iotlb_count(s.c.iotlb), 2u);
}

TEST(QiExec, IotlbPageSelectiveRangeAndFirstStageRule)
{
    // Table 23, page-selective-within-domain: SS/PT entries of the DID in range, every FS/nested entry of
    // the DID regardless of address, FS PSC by DID, SS PSC by DID+range when IH=0.
    QiSys s;
    Population p(s);
    uint64_t qw[4];
    ims_qi_build_iotlb_psi(qw, 1, 0x1000, 0, false, true, true);
    run_one(s, qw);
    EXPECT_FALSE(p.ss(1, 0x1000));
    EXPECT_TRUE(p.ss(1, 0x400000));   // outside the 4 KiB range
    EXPECT_FALSE(p.fs(1, 7, 0x9000)); // FS of the DID: any address
    EXPECT_FALSE(p.pt(1, 9, 0x1000)); // PT in range
    EXPECT_FALSE(p.psc_ss(1));        // SS PSC entry covering 0..2 MiB overlaps
    EXPECT_FALSE(p.psc_fs(1, 7));
    EXPECT_TRUE(p.ss(2, 0x1000));
    EXPECT_TRUE(p.psc_ss(2));
}

TEST(QiExec, IotlbPageSelectiveWithAddressMaskAndHint)
{
    // AM=10 covers 4 MiB from 0 (vtd-facts §4.3: 2^AM pages, naturally aligned); IH=1 keeps the SS
    // paging-structure entries (§5.2).
    QiSys s;
    Population p(s);
    uint64_t qw[4];
    ims_qi_build_iotlb_psi(qw, 1, 0x0, 10, true, false, false);
    run_one(s, qw);
    EXPECT_FALSE(p.ss(1, 0x1000));
    EXPECT_TRUE(p.ss(1, 0x400000));   // 4 MiB is the first byte after the range
    EXPECT_TRUE(p.psc_ss(1));         // IH=1
    EXPECT_TRUE(p.ss(2, 0x1000));
}

TEST(QiExec, PasidSelectivePiotlbAlsoRemovesSecondStageOnlyEntriesOfTheDomain)
{
    // Spec 5.10 Table 24, PASID-selective: DID+PASID over IOTLB entries of every PGTT (SS-only entries carry
    // no PASID tag here, so all SS-only entries of the DID go) and FS PSC; SS PSC untouched.
    QiSys s;
    Population p(s);
    uint64_t qw[4];
    ims_qi_build_piotlb_pasid(qw, 1, 7);
    run_one(s, qw);
    EXPECT_FALSE(p.fs(1, 7, 0x9000));
    EXPECT_FALSE(p.psc_fs(1, 7));
    EXPECT_FALSE(p.ss(1, 0x1000));
    EXPECT_TRUE(p.pt(1, 9, 0x1000));  // other PASID
    EXPECT_TRUE(p.psc_ss(1));
    EXPECT_TRUE(p.fs(2, 7, 0x9000));  // other DID
    EXPECT_EQ(s.count("qi.desc.piotlb"), 1u);
}

TEST(QiExec, PageSelectivePiotlbHitsOnlyFirstStageInRange)
{
    // Table 24, page-selective-within-PASID: never SS-only or PT entries.
    QiSys s;
    Population p(s);
    ims_iotlb_entry far = tlb(1, IMS_VTD_PGTT_FS, 7, 0x20000);
    ims_iotlb_insert(s.c.iotlb, &far);
    ims_iotlb_entry pt = tlb(1, IMS_VTD_PGTT_PT, 7, 0x8000);
    ims_iotlb_insert(s.c.iotlb, &pt);
    uint64_t qw[4];
    ims_qi_build_piotlb_page(qw, 1, 7, 0x8000, 1, false); // AM=1: 0x8000..0x9fff
    run_one(s, qw);
    EXPECT_FALSE(p.fs(1, 7, 0x9000));
    EXPECT_TRUE(p.fs(1, 7, 0x20000));
    EXPECT_TRUE(p.pt(1, 7, 0x8000));  // in range, but pass-through
    EXPECT_TRUE(p.ss(1, 0x1000));
    EXPECT_FALSE(p.psc_fs(1, 7));     // IH=0: the FS PDE entry covering 0x9000 goes
}

ims_ctxc_entry cce(uint16_t sid, uint16_t did, bool scalable)
{
    ims_ctxc_entry e{};
    e.sid = sid;
    e.ctx.did = did;
    e.ctx.scalable = scalable;
    e.ctx.pgtt = IMS_VTD_PGTT_SS;
    return e;
}

TEST(QiExec, ContextCacheGranularitiesInLegacyMode)
{
    // vtd-facts §4.2: global / domain (legacy DID) / device (SID with FM).
    QiSys s(Opts().legacy128());
    auto fill = [&] {
        ims_ctxc_entry es[] = {cce(0x0100, 1, false), cce(0x0101, 1, false), cce(0x0105, 2, false),
                               cce(0x0200, 2, false)};
        for (auto &e : es)
            ims_ctxc_insert(s.c.ctxc, &e);
    };
    uint64_t qw[4];
    fill();
    ims_qi_build_cc_domain(qw, 2);
    run_one(s, qw);
    EXPECT_NE(ims_ctxc_peek(s.c.ctxc, 0x0100), nullptr);
    EXPECT_EQ(ims_ctxc_peek(s.c.ctxc, 0x0105), nullptr);
    EXPECT_EQ(ims_ctxc_peek(s.c.ctxc, 0x0200), nullptr);
    // FM=1 masks SID bit 2 only (vtd-facts §1.6): SID 0x0101 also matches 0x0105, not 0x0100.
    fill();
    ims_qi_build_cc_device(qw, 1, 0x0101, 1);
    run_one(s, qw);
    EXPECT_NE(ims_ctxc_peek(s.c.ctxc, 0x0100), nullptr);
    EXPECT_EQ(ims_ctxc_peek(s.c.ctxc, 0x0101), nullptr);
    EXPECT_EQ(ims_ctxc_peek(s.c.ctxc, 0x0105), nullptr);
    EXPECT_NE(ims_ctxc_peek(s.c.ctxc, 0x0200), nullptr);
    ims_qi_build_cc_global(qw);
    run_one(s, qw);
    EXPECT_EQ(ims_ctxc_count(s.c.ctxc), 0u);
    EXPECT_EQ(s.count("qi.desc.cc"), 3u);
}

TEST(QiExec, DomainSelectiveContextInvalidationIsGlobalInScalableMode)
{
    // VT-d 5.10 §6.5.2.1: the context cache is not tagged by DID in scalable mode, so domain-selective
    // is processed as global when TTM=01b.
    QiSys s;
    ims_ctxc_entry a = cce(0x10, 1, true), b = cce(0x20, 2, true);
    ims_ctxc_insert(s.c.ctxc, &a);
    ims_ctxc_insert(s.c.ctxc, &b);
    uint64_t qw[4];
    ims_qi_build_cc_domain(qw, 1);
    run_one(s, qw);
    EXPECT_EQ(ims_ctxc_count(s.c.ctxc), 0u);
}

TEST(QiExec, PasidCacheGranularities)
{
    // vtd-facts §4.8: G=00 domain, 01 PASID-within-domain, 11 global.
    QiSys s;
    auto add = [&](uint16_t sid, uint32_t pasid, uint16_t did) {
        ims_pasidc_entry e{};
        e.sid = sid;
        e.pasid = pasid;
        e.ctx.did = did;
        ims_pasidc_insert(s.c.pasidc, &e);
    };
    add(0x10, 1, 5);
    add(0x10, 2, 5);
    add(0x11, 1, 6);
    uint64_t qw[4];
    ims_qi_build_pc_pasid(qw, 5, 2);
    run_one(s, qw);
    EXPECT_NE(ims_pasidc_peek(s.c.pasidc, 0x10, 1), nullptr);
    EXPECT_EQ(ims_pasidc_peek(s.c.pasidc, 0x10, 2), nullptr);
    ims_qi_build_pc_domain(qw, 5);
    run_one(s, qw);
    EXPECT_EQ(ims_pasidc_peek(s.c.pasidc, 0x10, 1), nullptr);
    EXPECT_NE(ims_pasidc_peek(s.c.pasidc, 0x11, 1), nullptr);
    ims_qi_build_pc_global(qw);
    run_one(s, qw);
    EXPECT_EQ(ims_pasidc_count(s.c.pasidc), 0u);
    EXPECT_EQ(s.count("qi.desc.pc"), 3u);
}

TEST(QiExec, InterruptEntryCacheAndPageGroupResponseOnlyCostTime)
{
    QiSys s(Opts().set("qi.cost.iec=40ns").set("qi.cost.pgrp=60ns").set("qi.cost.wait=0ns").set("qi.status_write=0ns"));
    Population p(s);
    uint64_t qw[4];
    ims_qi_build_iec(qw, IMS_QI_IEC_INDEX_SELECTIVE, 4, 2);
    s.put(qw);
    ims_qi_build_page_grp_resp(qw, 0x10, true, 3, IMS_QI_PGRP_RC_SUCCESS, 5);
    s.put(qw);
    s.put_wait(1);
    s.ring();
    s.run();
    EXPECT_EQ(s.status(), 1u);
    // iec and pgrp come in the first read and execute 0+197..297; the wait comes in the second read
    // (issued at 197, done at 394) and completes at once.
    EXPECT_EQ(s.now(), 2 * kMemRead);
    EXPECT_EQ(ims_iotlb_count(s.c.iotlb), 6u);
    EXPECT_EQ(s.count("qi.desc.iec"), 1u);
    EXPECT_EQ(s.count("qi.desc.page_grp_resp"), 1u);
    EXPECT_EQ(s.count("qi.entries_removed"), 0u);
}

// ---- queue mechanics ----------------------------------------------------------------------------------

void wrap_around(Opts o, unsigned total)
{
    QiSys s(o);
    const uint64_t slots = s.qbytes() / s.db;
    unsigned done = 0, batch = 1;
    uint64_t laps_tail = 0;
    while (done < total) {
        unsigned n = std::min(batch, total - done);
        for (unsigned i = 0; i < n; i++)
            s.put_wait(0x1000 + done + i, kStatus + 4 * ((done + i) % 512));
        laps_tail += n;
        s.ring();
        s.run();
        for (unsigned i = 0; i < n; i++)
            ASSERT_EQ(s.status(kStatus + 4 * ((done + i) % 512)), 0x1000 + done + i) << "wait " << done + i;
        ASSERT_EQ(s.iqh(), s.tail) << "after " << done + n;
        done += n;
        batch = batch % 9 + 1;
    }
    EXPECT_GE(laps_tail / slots, 3u) << "the queue did not wrap";
    EXPECT_EQ(s.count("inv.count"), total);
    EXPECT_EQ(s.count("qi.iqe"), 0u);
    EXPECT_EQ(ims_qi_pending(s.qi), 0u);
}

TEST(QiQueue, WrapsAroundWith256BitDescriptors)
{
    // QS=0: one 4 KiB page = 128 256-bit descriptors (vtd-facts §1.10); 600 waits wrap it 4 times.
    wrap_around(Opts().size(0), 600);
}

TEST(QiQueue, WrapsAroundWith128BitDescriptors)
{
    // QS=0, DW=0: 256 128-bit descriptors; legacy mode.
    wrap_around(Opts().legacy128(), 1100);
}

TEST(QiQueue, FetchBatchStopsAtTheEndOfTheQueue)
{
    // A batch never wraps inside one read: the last slot and the first come in separate reads.
    QiSys s(Opts().set("qi.fetch_batch=4"));
    const uint64_t slots = s.qbytes() / s.db;
    for (uint64_t i = 0; i < slots - 1; i++)
        s.put_wait(1);
    s.ring();
    s.run();
    ASSERT_EQ(s.iqh(), s.qbytes() - s.db);
    uint64_t fetches = s.count("qi.fetches");
    s.put_wait(2);                 // last slot
    s.put_wait(3, kStatus + 4);    // slot 0
    s.ring();
    s.run();
    EXPECT_EQ(s.count("qi.fetches") - fetches, 2u);
    EXPECT_EQ(s.iqh(), (uint64_t)s.db);
    EXPECT_EQ(s.status(kStatus + 4), 3u);
}

TEST(QiQueue, NothingIsFetchedWhileQueuedInvalidationIsOff)
{
    QiSys s(Opts().qi_off());
    s.put_wait(9);
    s.ring();
    s.run();
    EXPECT_EQ(s.status(), 0u);
    EXPECT_EQ(s.count("qi.fetches"), 0u);
    // Enabling QI with a non-empty queue fetches (the register file rings the doorbell).
    s.gcmd(IMS_VTD_PUT(IMS_VTD_GCMD_QIE, 1));
    s.run();
    EXPECT_EQ(s.status(), 9u);
}

// ---- IQE ---------------------------------------------------------------------------------------------

struct IqeCase {
    const char *name;
    unsigned iqei;
};

// Linux-style recovery (vtd-facts §4.11, L-D qi_check_fault): copy a wait over the bad slot, clear IQE.
void recover_with_wait(QiSys &s, uint64_t bad_off, uint32_t data)
{
    uint64_t qw[4];
    QiSys::wait_desc(qw, data, kStatus + 0x40);
    s.put_at(bad_off, qw);
    s.clear_fsts(IMS_VTD_MASK(IMS_VTD_FSTS_IQE));
    s.run();
}

TEST(QiIqe, InvalidTypeStopsTheHeadOnTheDescriptorAndRecovers)
{
    // vtd-facts §4.11 / VT-d 5.10 §6.5.2.11: IQH stays on the bad descriptor, IQERCD.IQEI = 3 (invalid
    // type, §1.10); descriptors ahead of it complete as normal; nothing is fetched until IQE is cleared.
    QiSys s;
    Population p(s);
    uint64_t qw[4];
    ims_qi_build_iotlb_dsi(qw, 1, false, false);
    s.put(qw);
    uint64_t bad[4] = {0xB, 0, 0, 0};  // type 11 does not exist
    uint64_t bad_off = s.put(bad);
    s.put_wait(2);
    s.ring();
    s.run();
    EXPECT_TRUE(ims_vtd_fsts_iqe(s.fsts()));
    EXPECT_EQ(ims_vtd_iqercd_iqei(s.iqercd()), (unsigned)IMS_VTD_IQEI_BAD_TYPE);
    EXPECT_EQ(s.iqh(), bad_off);
    EXPECT_FALSE(p.ss(1, 0x1000)) << "the descriptor ahead of the bad one did not complete";
    EXPECT_EQ(s.status(), 0u);
    EXPECT_EQ(s.count("qi.iqe"), 1u);
    // A tail write while IQE is set fetches nothing.
    uint64_t f = s.count("qi.fetches");
    s.ring();
    s.run();
    EXPECT_EQ(s.count("qi.fetches"), f);
    recover_with_wait(s, bad_off, 0x77);
    EXPECT_FALSE(ims_vtd_fsts_iqe(s.fsts()));
    EXPECT_EQ(s.status(kStatus + 0x40), 0x77u);
    EXPECT_EQ(s.status(), 2u);
    EXPECT_EQ(s.iqh(), s.tail);
}

void expect_iqe_on_first(Opts o, const uint64_t qw[4], unsigned iqei)
{
    QiSys s(o);
    uint64_t off = s.put(qw);
    s.put_wait(2);
    s.ring();
    s.run();
    EXPECT_TRUE(ims_vtd_fsts_iqe(s.fsts()));
    EXPECT_EQ(ims_vtd_iqercd_iqei(s.iqercd()), iqei);
    EXPECT_EQ(s.iqh(), off);
    EXPECT_EQ(s.status(), 0u);
    EXPECT_EQ(s.count("qi.descriptors"), 0u);
    recover_with_wait(s, off, 0x55);
    EXPECT_EQ(s.status(kStatus + 0x40), 0x55u);
    EXPECT_EQ(s.status(), 2u);
}

TEST(QiIqe, ReservedBitGivesCode4)
{
    // vtd-facts §4.6: wait qw0 bit 8 is reserved; §1.10 IQEI 4 = reserved-field violation.
    uint64_t qw[4];
    QiSys::wait_desc(qw, 1);
    qw[0] |= 1u << 8;
    expect_iqe_on_first(Opts{}, qw, IMS_VTD_IQEI_RESERVED);
}

TEST(QiIqe, NonZeroUpperHalfOfA256BitSlotGivesCode4)
{
    // vtd-facts §4.1: qw2/qw3 must be 0 for 128-bit descriptor types in a 256-bit queue.
    uint64_t qw[4];
    ims_qi_build_iotlb_global(qw, false, false);
    qw[3] = 1;
    expect_iqe_on_first(Opts{}, qw, IMS_VTD_IQEI_RESERVED);
}

TEST(QiIqe, PasidDescriptorInALegacyQueueGivesCode3)
{
    // VT-d 5.10 Table 26: legacy mode accepts only types 1-5.
    uint64_t qw[4];
    ims_qi_build_piotlb_pasid(qw, 1, 2);
    expect_iqe_on_first(Opts().mode(IMS_VTD_TTM_LEGACY), qw, IMS_VTD_IQEI_BAD_TYPE);
}

TEST(QiIqe, ScalableModeWith128BitDescriptorsGivesCode5)
{
    // VT-d 5.10 Table 26 / §6.5.2: in scalable mode 128-bit descriptors are invalid (IQEI 5, width).
    QiSys s(Opts().dw(false));
    s.put_wait(1);
    s.ring();
    s.run();
    EXPECT_EQ(ims_vtd_iqercd_iqei(s.iqercd()), (unsigned)IMS_VTD_IQEI_BAD_WIDTH);
    EXPECT_EQ(s.iqh(), 0u);
}

TEST(QiIqe, ReservedTranslationModeGivesCode7)
{
    // VT-d 5.10 Table 26: TTM=10b accepts no descriptor; IQEI 7 = invalid TTM (§1.10). TTM bit 1 is
    // writable only with ECAP.ADMS.
    Opts o;
    o.ttm = 2;
    o.ecap = IMS_VTD_DEFAULT_ECAP | IMS_VTD_PUT(IMS_VTD_ECAP_ADMS, 1);
    uint64_t qw[4];
    QiSys::wait_desc(qw, 1);
    QiSys s(o);
    s.put(qw);
    s.ring();
    s.run();
    EXPECT_EQ(ims_vtd_iqercd_iqei(s.iqercd()), (unsigned)IMS_VTD_IQEI_BAD_TTM);
    EXPECT_EQ(s.iqh(), 0u);
}

TEST(QiIqe, TailBeyondTheQueueGivesCode1)
{
    // vtd-facts §4.11: a tail beyond the queue size is an IQE; IQEI 1 = invalid tail pointer (§1.10).
    QiSys s;  // QS=0: 4 KiB
    s.put_wait(4);
    s.mmio64(IMS_VTD_REG_IQT, 0x1000);
    s.run();
    EXPECT_TRUE(ims_vtd_fsts_iqe(s.fsts()));
    EXPECT_EQ(ims_vtd_iqercd_iqei(s.iqercd()), (unsigned)IMS_VTD_IQEI_TAIL_INVALID);
    EXPECT_EQ(s.iqh(), 0u);
    EXPECT_EQ(s.count("qi.fetches"), 0u);
    // Recovery: a sane tail, then clear IQE.
    s.ring();
    s.clear_fsts(IMS_VTD_MASK(IMS_VTD_FSTS_IQE));
    s.run();
    EXPECT_EQ(s.status(), 4u);
}

TEST(QiIqe, MisalignedTailWith256BitDescriptorsGivesCode6)
{
    // vtd-facts §1.10: with DW=1, IQT bit 4 must be 0; IQEI 6 = queue tail misaligned.
    QiSys s;
    s.put_wait(4);
    s.mmio64(IMS_VTD_REG_IQT, 0x10);
    s.run();
    EXPECT_EQ(ims_vtd_iqercd_iqei(s.iqercd()), (unsigned)IMS_VTD_IQEI_TAIL_MISALIGNED);
    EXPECT_EQ(s.iqh(), 0u);
    s.ring();
    s.clear_fsts(IMS_VTD_MASK(IMS_VTD_FSTS_IQE));
    s.run();
    EXPECT_EQ(s.status(), 4u);
    EXPECT_EQ(s.count("qi.iqe"), 1u);
}

TEST(QiIqe, BitFourIsAValidTailWith128BitDescriptors)
{
    QiSys s(Opts().legacy128());
    s.put_wait(4);
    s.ring();  // tail 0x10
    s.run();
    EXPECT_EQ(s.status(), 4u);
    EXPECT_FALSE(ims_vtd_fsts_iqe(s.fsts()));
}

// ---- register-based invalidation ------------------------------------------------------------------------

TEST(QiRegister, ContextCommandRegisterInvalidatesTheContextCache)
{
    // §1.6: CCMD ICC [63], CIRG [62:61], FM [33:32], SID [31:16], DID [15:0]; register-based invalidation
    // only while QI is off (regfile.h).
    QiSys s(Opts().legacy128().qi_off());
    ims_ctxc_entry a = cce(0x0100, 1, false), b = cce(0x0200, 1, false);
    ims_ctxc_insert(s.c.ctxc, &a);
    ims_ctxc_insert(s.c.ctxc, &b);
    uint64_t epoch = s.c.inv_epoch;
    s.mmio64(IMS_VTD_REG_CCMD, IMS_VTD_PUT(IMS_VTD_CCMD_ICC, 1) | IMS_VTD_PUT(IMS_VTD_CCMD_CIRG, IMS_VTD_CC_DEVICE) |
                                   IMS_VTD_PUT(IMS_VTD_CCMD_SID, 0x0100) | IMS_VTD_PUT(IMS_VTD_CCMD_DID, 1));
    EXPECT_EQ(ims_ctxc_peek(s.c.ctxc, 0x0100), nullptr);
    EXPECT_NE(ims_ctxc_peek(s.c.ctxc, 0x0200), nullptr);
    EXPECT_EQ(s.c.inv_epoch, epoch + 1);
    EXPECT_EQ(s.count("qi.reg.ccmd"), 1u);
    EXPECT_FALSE(ims_vtd_ccmd_icc(s.rd(IMS_VTD_REG_CCMD))) << "completes within the write";
    s.mmio64(IMS_VTD_REG_CCMD, IMS_VTD_PUT(IMS_VTD_CCMD_ICC, 1) | IMS_VTD_PUT(IMS_VTD_CCMD_CIRG, IMS_VTD_CC_GLOBAL));
    EXPECT_EQ(ims_ctxc_count(s.c.ctxc), 0u);
}

TEST(QiRegister, IotlbRegisterPageSelectiveUsesIva)
{
    // §1.7: IVA AM [5:0], IH [6], ADDR [63:12]; IOTLB IVT [63], IIRG [61:60], DID [47:32]; registers at
    // ECAP.IRO*16.
    QiSys s(Opts().legacy128().qi_off());
    Population p(s);
    uint64_t base = ims_vtd_ecap_iotlb_offset(IMS_VTD_DEFAULT_ECAP);
    s.mmio64(base + IMS_VTD_REG_IVA_OFF, 0x400000 | IMS_VTD_PUT(IMS_VTD_IVA_AM, 0));
    s.mmio64(base + IMS_VTD_REG_IOTLB_OFF, IMS_VTD_PUT(IMS_VTD_IOTLB_IVT, 1) |
                                               IMS_VTD_PUT(IMS_VTD_IOTLB_IIRG, IMS_VTD_IOTLB_PAGE) |
                                               IMS_VTD_PUT(IMS_VTD_IOTLB_DID, 1));
    EXPECT_TRUE(p.ss(1, 0x1000));
    EXPECT_FALSE(p.ss(1, 0x400000));
    EXPECT_TRUE(p.ss(2, 0x1000));
    EXPECT_EQ(s.count("qi.reg.iotlb"), 1u);
    // Domain-selective then global.
    s.mmio64(base + IMS_VTD_REG_IOTLB_OFF, IMS_VTD_PUT(IMS_VTD_IOTLB_IVT, 1) |
                                               IMS_VTD_PUT(IMS_VTD_IOTLB_IIRG, IMS_VTD_IOTLB_DOMAIN) |
                                               IMS_VTD_PUT(IMS_VTD_IOTLB_DID, 2));
    EXPECT_FALSE(p.ss(2, 0x1000));
    EXPECT_TRUE(p.ss(1, 0x1000));
    EXPECT_TRUE(p.psc_ss(1));
    s.mmio64(base + IMS_VTD_REG_IOTLB_OFF,
             IMS_VTD_PUT(IMS_VTD_IOTLB_IVT, 1) | IMS_VTD_PUT(IMS_VTD_IOTLB_IIRG, IMS_VTD_IOTLB_GLOBAL));
    EXPECT_EQ(ims_iotlb_count(s.c.iotlb), 0u);
    EXPECT_FALSE(p.psc_ss(1));
}

TEST(QiRegister, IgnoredWhileQueuedInvalidationIsOn)
{
    QiSys s;
    ims_ctxc_entry a = cce(0x0100, 1, true);
    ims_ctxc_insert(s.c.ctxc, &a);
    s.mmio64(IMS_VTD_REG_CCMD, IMS_VTD_PUT(IMS_VTD_CCMD_ICC, 1) | IMS_VTD_PUT(IMS_VTD_CCMD_CIRG, IMS_VTD_CC_GLOBAL));
    EXPECT_EQ(ims_ctxc_count(s.c.ctxc), 1u);
    EXPECT_EQ(s.count("qi.reg.ccmd"), 0u);
}

} // namespace
