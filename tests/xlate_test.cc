// The timed translation pipeline (models/vtd/xlate.c, xlate_walk.c): exact
// latencies from the configuration, merging, contention, the epoch rule, PSC
// and nested caching, faults, A/D and privilege rules, drain.
#include <gtest/gtest.h>

#include <vector>

#include "models/vtd/fault_reason.h"
#include "models/vtd/fault_record.h"
#include "models/vtd/xlate_walk.h"
#include "tests/xlate_fixture.h"

namespace {

using ims_test::kGuestBase;
using ims_test::Req;
using ims_test::XlateSystem;

constexpr uint16_t kSid = 0x0310;
constexpr uint16_t kDid = 7;

// Latencies of the default configuration, read back from it (not hard-coded).
struct Lat {
    ims_cycle ctxc, pasidc, iotlb, psc, mem;
    explicit Lat(XlateSystem &s)
        : ctxc(s.cfg_cycles("ctxc.lookup_cycles")), pasidc(s.cfg_cycles("pasidc.lookup_cycles")),
          iotlb(s.cfg_cycles("iotlb.lookup_cycles")), psc(s.cfg_cycles("psc.lookup_cycles")), mem(s.mem_cycles())
    {
    }
};

ims_cycle latency(const Req &r) { return r.x.t_done - r.x.t_submit; }

// Overrides that switch every paging-structure cache off.
#define NO_PSC                                                                                          \
    "psc.ss.l2.entries=0", "psc.ss.l3.entries=0", "psc.ss.l4.entries=0", "psc.ss.l5.entries=0",        \
        "psc.fs.l2.entries=0", "psc.fs.l3.entries=0", "psc.fs.l4.entries=0", "psc.fs.l5.entries=0"

// A legacy-mode device with a 4-level SS table mapping 4 KiB pages.
struct Legacy : XlateSystem {
    ims_pt_builder ss;
    explicit Legacy(std::initializer_list<const char *> o = {}) : XlateSystem(false, o)
    {
        ss = new_ss(4);
        legacy_device(kSid, kDid, ss);
    }
    void map4k(uint64_t iova, uint64_t pa, unsigned perm = IMS_PT_RW) { map(ss, iova, pa, 4096, 4096, perm); }
};

// ---- exact latencies -----------------------------------------------------------------------

// Cold legacy walk: context-cache lookup, root + context reads, IOTLB lookup,
// PSC probe, four SS reads (vtd-facts §3.1; legacy mode has no A/D, §3.3).
TEST(XlateLatency, ColdLegacyWalkIsTheSumOfItsParts)
{
    Legacy s;
    Lat l(s);
    s.map4k(0x4000'1000, 0x9000'0000);
    Req &r = s.translate(XlateSystem::req(kSid, 0x4000'1234));
    EXPECT_EQ(r.x.res.fault, 0);
    EXPECT_EQ(r.x.res.pa, 0x9000'0234u);
    EXPECT_EQ(r.x.outcome, IMS_XLATE_WALK);
    EXPECT_EQ(r.x.mem_reads, 6u);
    EXPECT_EQ(latency(r), l.ctxc + 2 * l.mem + l.iotlb + l.psc + 4 * l.mem);
    EXPECT_EQ(s.counter("walk.count"), 1u);
    EXPECT_EQ(s.counter("walk.mem_reads"), 4u);
    EXPECT_EQ(s.counter("xlate.ctx_reads"), 2u);
}

TEST(XlateLatency, IotlbHitIsTheLookupsAndOneEvent)
{
    Legacy s;
    Lat l(s);
    s.map4k(0x1000, 0x2000);
    s.translate(XlateSystem::req(kSid, 0x1008));
    Req &r = s.submit(XlateSystem::req(kSid, 0x1ff0));
    EXPECT_EQ(s.run(), 1u) << "an IOTLB hit must cost exactly one engine event";
    EXPECT_EQ(r.x.outcome, IMS_XLATE_IOTLB_HIT);
    EXPECT_EQ(r.x.res.pa, 0x2ff0u);
    EXPECT_EQ(r.x.mem_reads, 0u);
    EXPECT_EQ(latency(r), l.ctxc + l.iotlb);
}

TEST(XlateLatency, ScalableColdWalkAndHit)
{
    XlateSystem s(true);
    Lat l(s);
    ims_pt_builder ss = s.new_ss(4);
    s.map(ss, 0x7000, 0x8000, 4096, 4096, IMS_PT_RW);
    s.sm_device(kSid);
    s.sm_pasid_ss(kSid, 0, kDid, ss);
    Req &cold = s.translate(XlateSystem::req(kSid, 0x7010));
    EXPECT_EQ(cold.x.res.pa, 0x8010u);
    // root, context, PASID directory, PASID entry; then four SS levels.
    EXPECT_EQ(cold.x.mem_reads, 8u);
    EXPECT_EQ(latency(cold), l.ctxc + l.pasidc + 4 * l.mem + l.iotlb + l.psc + 4 * l.mem);
    Req &hit = s.submit(XlateSystem::req(kSid, 0x7020, true));
    EXPECT_EQ(s.run(), 1u);
    EXPECT_EQ(hit.x.outcome, IMS_XLATE_IOTLB_HIT);
    EXPECT_EQ(latency(hit), l.ctxc + l.pasidc + l.iotlb);
}

TEST(XlateLatency, ConfiguredLookupCyclesAreCharged)
{
    Legacy s({"ctxc.lookup_cycles=5", "iotlb.lookup_cycles=9", "psc.lookup_cycles=4", "mem.latency_ns=100"});
    s.map4k(0x1000, 0x2000);
    Req &cold = s.translate(XlateSystem::req(kSid, 0x1000));
    EXPECT_EQ(latency(cold), 5u + 2 * 100 + 9 + 4 + 4 * 100);
    Req &hit = s.translate(XlateSystem::req(kSid, 0x1000));
    EXPECT_EQ(latency(hit), 5u + 9);
}

// Context-cache hit, PASID-cache miss: only the PASID directory and entry are read.
TEST(XlateLatency, PasidCacheMissReadsOnlyThePasidStructures)
{
    XlateSystem s(true);
    Lat l(s);
    ims_pt_builder ss = s.new_ss(4);
    s.map(ss, 0x7000, 0x8000, 4096, 4096, IMS_PT_RW);
    s.sm_device(kSid);
    s.sm_pasid_ss(kSid, 0, kDid, ss);
    s.sm_pasid_ss(kSid, 9, kDid, ss);
    s.translate(XlateSystem::req(kSid, 0x7000));       // fills ctxc, pasidc(0), IOTLB
    Req &r = s.translate(XlateSystem::req(kSid, 0x7000, false, 9));
    EXPECT_EQ(r.x.mem_reads, 2u);
    // SS-only IOTLB entries are not tagged by PASID (vtd-facts §5.1): PASID 9 hits PASID 0's entry.
    EXPECT_EQ(r.x.outcome, IMS_XLATE_IOTLB_HIT);
    EXPECT_EQ(latency(r), l.ctxc + l.pasidc + 2 * l.mem + l.iotlb);
}

// ---- paging-structure caches --------------------------------------------------------------------

// A PSC level-N hit skips the reads of levels top..N (psc.h): 4 -> 1, 2, 3 reads.
TEST(XlatePsc, DeepestHitSkipsTheLevelsAbove)
{
    Legacy s;
    Lat l(s);
    const uint64_t a = 0x40'0000'0000ULL;
    s.map4k(a, 0x10'0000);
    s.map4k(a + 0x1000, 0x11'0000);                 // same PDE (2 MiB)
    s.map4k(a + (1ULL << 21), 0x12'0000);           // same PDPE (1 GiB), other PDE
    s.map4k(a + (1ULL << 30), 0x13'0000);           // same PML4E (512 GiB), other PDPE
    s.map4k(a + (1ULL << 39), 0x14'0000);           // other PML4E
    Req &r0 = s.translate(XlateSystem::req(kSid, a));
    EXPECT_EQ(r0.x.mem_reads, 2u + 4u);
    struct {
        uint64_t addr, pa;
        unsigned reads;
    } cases[] = {{a + 0x1000, 0x11'0000, 1}, {a + (1ULL << 21), 0x12'0000, 2}, {a + (1ULL << 30), 0x13'0000, 3},
                 {a + (1ULL << 39), 0x14'0000, 4}};
    for (auto &c : cases) {
        Req &r = s.translate(XlateSystem::req(kSid, c.addr));
        EXPECT_EQ(r.x.res.pa, c.pa);
        EXPECT_EQ(r.x.mem_reads, c.reads) << std::hex << c.addr;
        EXPECT_EQ(latency(r), l.ctxc + l.iotlb + l.psc + c.reads * l.mem);
    }
    EXPECT_EQ(ims_psc_count(s.caches.psc, IMS_PSC_SS, 2), 4u);
}

TEST(XlatePsc, SwitchedOffCachesWalkFromTheTop)
{
    Legacy s({NO_PSC});
    s.map4k(0x1000, 0x5000);
    s.map4k(0x2000, 0x6000);
    s.translate(XlateSystem::req(kSid, 0x1000));
    Req &r = s.translate(XlateSystem::req(kSid, 0x2000));
    EXPECT_EQ(r.x.mem_reads, 4u);
}

// ---- merging and contention -----------------------------------------------------------------------

TEST(XlateMerge, TwoMissesToOnePageShareOneWalk)
{
    Legacy s;
    s.map4k(0x3000, 0x7000);
    s.translate(XlateSystem::req(kSid, 0x9999'0000));  // warm the context cache (faults)
    uint64_t walks = s.counter("walk.count");
    Req &a = s.submit(XlateSystem::req(kSid, 0x3010));
    Req &b = s.submit(XlateSystem::req(kSid, 0x3ff8));
    s.run();
    EXPECT_EQ(s.counter("walk.count") - walks, 1u);
    EXPECT_EQ(a.x.outcome, IMS_XLATE_WALK);
    EXPECT_EQ(b.x.outcome, IMS_XLATE_MERGED);
    EXPECT_EQ(a.x.res.pa, 0x7010u);
    EXPECT_EQ(b.x.res.pa, 0x7ff8u);
    EXPECT_EQ(a.x.t_done, b.x.t_done);
    EXPECT_EQ(b.x.mem_reads, 0u);
    EXPECT_EQ(s.counter("xlate.merged"), 1u);
}

TEST(XlateMerge, DisabledMergeWalksTwice)
{
    Legacy s({"xlate.merge=false"});
    s.map4k(0x3000, 0x7000);
    s.translate(XlateSystem::req(kSid, 0x9999'0000));
    uint64_t walks = s.counter("walk.count");
    Req &a = s.submit(XlateSystem::req(kSid, 0x3010));
    Req &b = s.submit(XlateSystem::req(kSid, 0x3020));
    s.run();
    EXPECT_EQ(s.counter("walk.count") - walks, 2u);
    EXPECT_EQ(a.x.outcome, IMS_XLATE_WALK);
    EXPECT_EQ(b.x.outcome, IMS_XLATE_WALK);
}

// A merged request the walk cannot decide (a write to a read-only page) walks
// itself and gets the exact fault.
TEST(XlateMerge, UndecidedWaiterWalksForItsOwnResult)
{
    Legacy s;
    s.map4k(0x3000, 0x7000, IMS_PT_R);
    s.translate(XlateSystem::req(kSid, 0x9999'0000));
    Req &rd = s.submit(XlateSystem::req(kSid, 0x3000));
    Req &wr = s.submit(XlateSystem::req(kSid, 0x3000, true));
    s.run();
    EXPECT_EQ(rd.x.res.fault, 0);
    EXPECT_EQ(wr.x.res.fault, IMS_VTD_FR_LGN_2);
    EXPECT_EQ(wr.x.outcome, IMS_XLATE_FAULT);
    EXPECT_EQ(s.counter("xlate.merge_retries"), 1u);
}

// N+1 misses with N walkers: the last one waits exactly one walk.
TEST(XlateContention, LastMissWaitsOneWalk)
{
    Legacy s({"walk.walkers=2", NO_PSC});
    Lat l(s);
    for (int i = 0; i < 3; i++)
        s.map4k(0x10'0000 + i * 0x1000, 0x20'0000 + i * 0x1000);
    s.translate(XlateSystem::req(kSid, 0x9999'0000));
    std::vector<Req *> r;
    for (int i = 0; i < 3; i++)
        r.push_back(&s.submit(XlateSystem::req(kSid, 0x10'0000 + i * 0x1000)));
    s.run();
    const ims_cycle walk = l.psc + 4 * l.mem;
    EXPECT_EQ(latency(*r[0]), l.ctxc + l.iotlb + walk);
    EXPECT_EQ(latency(*r[1]), l.ctxc + l.iotlb + walk);
    EXPECT_EQ(latency(*r[2]), l.ctxc + l.iotlb + 2 * walk);
    EXPECT_EQ(ims_stats_latency_count(s.stats, "walk.wait_ns"), 1u) << "only the third walk waited";
    EXPECT_EQ(ims_stats_latency_percentile_ns(s.stats, "walk.wait_ns", 100), double(walk));
}

// S+1 requests with S slots: the last waits for the first to complete.
TEST(XlateContention, LastRequestWaitsForASlot)
{
    Legacy s({"xlate.slots=2"});
    Lat l(s);
    for (int i = 0; i < 3; i++) {
        s.map4k(0x1000 * (i + 1), 0x10'0000 + 0x1000 * i);
        s.translate(XlateSystem::req(kSid, 0x1000 * (i + 1)));
    }
    std::vector<Req *> r;
    for (int i = 0; i < 3; i++)
        r.push_back(&s.submit(XlateSystem::req(kSid, 0x1000 * (i + 1))));
    s.run();
    const ims_cycle hit = l.ctxc + l.iotlb;
    EXPECT_EQ(latency(*r[0]), hit);
    EXPECT_EQ(latency(*r[1]), hit);
    EXPECT_EQ(latency(*r[2]), 2 * hit);
    EXPECT_EQ(ims_stats_latency_count(s.stats, "xlate.slot_wait_ns"), 1u);
    EXPECT_EQ(ims_stats_latency_percentile_ns(s.stats, "xlate.slot_wait_ns", 100), double(hit));
}

// ---- epoch rule ------------------------------------------------------------------------------

TEST(XlateEpoch, InvalidationDuringAWalkPreventsTheFill)
{
    for (bool bump : {false, true}) {
        Legacy s;
        Lat l(s);
        s.map4k(0x5000, 0x6000);
        s.translate(XlateSystem::req(kSid, 0x9999'0000));  // context cached
        Req &r = s.submit(XlateSystem::req(kSid, 0x5000));
        ims_cycle t0 = s.now();
        ims_engine_run(s.engine, t0 + l.ctxc + l.iotlb + l.psc + 2 * l.mem);  // mid-walk
        ASSERT_FALSE(r.done);
        if (bump)
            s.caches.inv_epoch++;
        s.run();
        ASSERT_TRUE(r.done);
        EXPECT_EQ(r.x.res.pa, 0x6000u) << "the in-flight walk still completes with what it read";
        EXPECT_EQ(ims_iotlb_count(s.caches.iotlb), bump ? 0u : 1u);
        EXPECT_EQ(ims_psc_count(s.caches.psc, IMS_PSC_SS, 2), bump ? 0u : 1u);
    }
}

TEST(XlateEpoch, InvalidationDuringContextReadsPreventsTheContextFill)
{
    Legacy s;
    Lat l(s);
    s.map4k(0x5000, 0x6000);
    Req &r = s.submit(XlateSystem::req(kSid, 0x5000));
    ims_engine_run(s.engine, s.now() + l.ctxc + l.mem);  // between the root and context reads
    s.caches.inv_epoch++;
    s.run();
    EXPECT_EQ(r.x.res.pa, 0x6000u);
    EXPECT_EQ(ims_ctxc_count(s.caches.ctxc), 0u);
}

// ---- faults -------------------------------------------------------------------------------------

// vtd-facts §1.9: a primary fault is written to FRCD with F=1 (fault_record.h encoding).
TEST(XlateFault, UntranslatedFaultIsRecordedInFrcd)
{
    Legacy s;
    Lat l(s);
    ims_vtd_req q = XlateSystem::req(kSid, 0x7777'0000);
    Req &r = s.translate(q);
    EXPECT_EQ(r.x.res.fault, IMS_VTD_FR_LGN_3);  // legacy read of a not-present entry
    EXPECT_EQ(r.x.outcome, IMS_XLATE_FAULT);
    // The empty table's top-level entry is not present: one SS read.
    EXPECT_EQ(latency(r), l.ctxc + 2 * l.mem + l.iotlb + l.psc + 1 * l.mem);
    uint64_t qw0, qw1, e0, e1;
    ims_vtd_regfile_frcd_get(s.regs, 0, &qw0, &qw1);
    ims_vtd_frcd_encode(&q, IMS_VTD_FR_LGN_3, &e0, &e1);
    EXPECT_EQ(qw0, e0);
    EXPECT_EQ(qw1, e1);
    EXPECT_EQ(s.counter("xlate.faults"), 1u);
}

TEST(XlateFault, ContextFaultIsRecordedAfterTheContextReads)
{
    Legacy s;
    Lat l(s);
    ims_vtd_req q = XlateSystem::req(0x0900, 0x1000);  // bus 9 has no context table
    Req &r = s.translate(q);
    EXPECT_EQ(r.x.res.fault, IMS_VTD_FR_LRT_2);
    EXPECT_EQ(r.x.mem_reads, 1u);
    EXPECT_EQ(latency(r), l.ctxc + l.mem);
    uint64_t qw0, qw1, e0, e1;
    ims_vtd_regfile_frcd_get(s.regs, 0, &qw0, &qw1);
    ims_vtd_frcd_encode(&q, IMS_VTD_FR_LRT_2, &e0, &e1);
    EXPECT_EQ(qw1, e1);
}

TEST(XlateFault, AtsTranslationRequestIsAnsweredNotRecorded)
{
    XlateSystem s(true);
    ims_pt_builder ss = s.new_ss(4);
    s.sm_device(kSid, 0, /*dte=*/true);
    s.sm_pasid_ss(kSid, 0, kDid, ss);
    ims_vtd_req q = XlateSystem::req(kSid, 0x5000);
    q.type = IMS_VTD_REQ_TRANSLATION;
    Req &r = s.translate(q);
    EXPECT_EQ(r.x.res.fault, IMS_VTD_FR_SSS_2);
    EXPECT_FALSE(r.x.res.r);
    EXPECT_FALSE(r.x.res.w);
    EXPECT_EQ(ims_vtd_regfile_fsts(s.regs) & 2u, 0u) << "FSTS.PPF stays clear";
}

TEST(XlateFault, FpdSuppressesTheRecord)
{
    XlateSystem s(true);
    ims_pt_builder ss = s.new_ss(4);
    s.sm_device(kSid);
    ims_vtd_pasid_cfg pc{};
    pc.pgtt = IMS_VTD_PGTT_SS;
    pc.did = kDid;
    pc.aw = 2;
    pc.ssptptr = ss.root;
    pc.fpd = true;
    s.sm_pasid(kSid, 0, pc);
    Req &r = s.translate(XlateSystem::req(kSid, 0x5000));
    EXPECT_EQ(r.x.res.fault, IMS_VTD_FR_SSS_2);
    EXPECT_TRUE(r.x.res.fault_suppressed);
    EXPECT_EQ(ims_vtd_regfile_fsts(s.regs) & 2u, 0u);
}

// ---- A/D and privilege rules of the cached path -----------------------------------------------------

// vtd-facts §3.3: D is set on the leaf for writes. A read fills the IOTLB with
// W=0 while D is clear, so the first write walks and sets D; the next write hits.
TEST(XlateDirty, FirstWriteAfterAReadWalksAndSetsD)
{
    XlateSystem s(true);
    ims_pt_builder fs = s.new_fs(4);
    s.map(fs, 0x1000, 0x5000, 4096, 4096, IMS_PT_U | IMS_PT_W);
    s.sm_device(kSid, 0, /*dte=*/true);
    s.sm_pasid_fs(kSid, 0, kDid, fs);
    ims_pt_mapping m;
    ASSERT_EQ(ims_pt_lookup(&fs, 0x1000, &m), 0);
    Req &rd = s.translate(XlateSystem::req(kSid, 0x1000));
    EXPECT_TRUE(rd.x.res.w);
    EXPECT_FALSE(ims_fs_pte_d(ims_physmem_r64(s.mem, m.pte_hpa)));
    Req &wr = s.translate(XlateSystem::req(kSid, 0x1000, true));
    EXPECT_EQ(wr.x.outcome, IMS_XLATE_WALK);
    EXPECT_TRUE(ims_fs_pte_d(ims_physmem_r64(s.mem, m.pte_hpa)));
    Req &wr2 = s.translate(XlateSystem::req(kSid, 0x1008, true));
    EXPECT_EQ(wr2.x.outcome, IMS_XLATE_IOTLB_HIT);
    // An ATS translation request reports W from an entry with W=1 only.
    ims_vtd_req ats = XlateSystem::req(kSid, 0x1000);
    ats.type = IMS_VTD_REQ_TRANSLATION;
    Req &a = s.translate(ats);
    EXPECT_EQ(a.x.outcome, IMS_XLATE_IOTLB_HIT);
    EXPECT_TRUE(a.x.res.w);
}

TEST(XlateDirty, AtsTranslationOfACleanPageWalksToReportW)
{
    XlateSystem s(true);
    ims_pt_builder fs = s.new_fs(4);
    s.map(fs, 0x1000, 0x5000, 4096, 4096, IMS_PT_U | IMS_PT_W);
    s.sm_device(kSid, 0, /*dte=*/true);
    s.sm_pasid_fs(kSid, 0, kDid, fs);
    s.translate(XlateSystem::req(kSid, 0x1000));  // read: cached with W=0
    ims_vtd_req ats = XlateSystem::req(kSid, 0x1000);
    ats.type = IMS_VTD_REQ_TRANSLATION;
    Req &a = s.translate(ats);
    EXPECT_EQ(a.x.outcome, IMS_XLATE_WALK);
    EXPECT_TRUE(a.x.res.w);
}

// The IOTLB has no U/S bit: with SRE=1 a supervisor-only (U/S=0) translation
// is not cached, so a later user request still gets SGN.2 (vtd-facts §3.5).
TEST(XlatePrivilege, SupervisorOnlyPageIsNotCachedWhenSreIsSet)
{
    XlateSystem s(true);
    ims_pt_builder fs = s.new_fs(4);
    s.map(fs, 0x1000, 0x5000, 4096, 4096, IMS_PT_W | IMS_PT_AD);  // U/S=0
    s.sm_device(kSid);
    s.sm_pasid_fs(kSid, 4, kDid, fs, /*sre=*/true);
    ims_vtd_req sup = XlateSystem::req(kSid, 0x1000, false, 4);
    sup.priv = true;
    Req &a = s.translate(sup);
    EXPECT_EQ(a.x.res.fault, 0);
    EXPECT_EQ(ims_iotlb_count(s.caches.iotlb), 0u);
    Req &u = s.translate(XlateSystem::req(kSid, 0x1000, false, 4));
    EXPECT_EQ(u.x.res.fault, IMS_VTD_FR_SGN_2);
    Req &a2 = s.translate(sup);
    EXPECT_EQ(a2.x.outcome, IMS_XLATE_WALK);
}

TEST(XlatePrivilege, UserPageIsCachedAndServesSupervisorsToo)
{
    XlateSystem s(true);
    ims_pt_builder fs = s.new_fs(4);
    s.map(fs, 0x1000, 0x5000, 4096, 4096, IMS_PT_U | IMS_PT_W | IMS_PT_AD);
    s.sm_device(kSid);
    s.sm_pasid_fs(kSid, 4, kDid, fs, /*sre=*/true);
    s.translate(XlateSystem::req(kSid, 0x1000, false, 4));
    ims_vtd_req sup = XlateSystem::req(kSid, 0x1000, true, 4);
    sup.priv = true;
    Req &a = s.translate(sup);
    EXPECT_EQ(a.x.outcome, IMS_XLATE_IOTLB_HIT);
    EXPECT_EQ(a.x.res.pa, 0x5000u);
}

// ---- nested --------------------------------------------------------------------------------------

// Guest RAM: GPA [0, ram) -> HPA kGuestBase + GPA in SS pages of `page` bytes, A/D
// preset (no update charged). Guest FS tables are at GPA 16 MiB (fixture), data at kData.
constexpr uint64_t kData = 0x600'0000;  // 96 MiB
struct Nested : XlateSystem {
    ims_pt_builder ss, fs;
    explicit Nested(uint64_t page = 4096, std::initializer_list<const char *> o = {}) : XlateSystem(true, o)
    {
        ss = new_ss(4);
        fs = new_guest_fs(4);
        uint64_t ram = page == 4096 ? (128ULL << 20) : (1ULL << 30);
        map(ss, 0, kGuestBase, ram, page, IMS_PT_RW | IMS_PT_AD);
        sm_device(kSid);
        sm_pasid_nested(kSid, 0, kDid, fs, ss);
    }
};

// vtd-facts §3.2: a cold 4-level-over-4-level walk reads (n+1)m + n = 24
// entries, plus root/context/PASID directory/PASID entry.
TEST(XlateNested, ColdWalkReads28AndChargesEveryProbe)
{
    Nested s;
    Lat l(s);
    s.map(s.fs, 0x7f00'0000'0000ULL, kData, 4096, 4096, IMS_PT_U | IMS_PT_W | IMS_PT_AD);
    Req &r = s.translate(XlateSystem::req(kSid, 0x7f00'0000'0123ULL));
    EXPECT_EQ(r.x.res.fault, 0);
    EXPECT_EQ(r.x.res.pa, kGuestBase + kData + 0x123);
    EXPECT_EQ(r.x.mem_reads, 28u);
    // FS PSC probe; per FS table an SS-IOTLB probe and an SS PSC probe; final SS PSC probe.
    ims_cycle walk = l.psc + 4 * (l.iotlb + l.psc) + l.psc + 24 * l.mem;
    EXPECT_EQ(latency(r), l.ctxc + l.pasidc + 4 * l.mem + l.iotlb + walk);
    EXPECT_EQ(s.counter("walk.psc_probes"), 6u);
}

// The worked example of docs/timing.md: after the cold walk, a miss to the
// neighbouring page starts both stages from their PDE caches: one FS read, one SS read.
TEST(XlateNested, NeighbourPageStartsBothStagesAtTheirLeafTables)
{
    Nested s;
    Lat l(s);
    const uint64_t va = 0x7f00'0000'0000ULL;
    s.map(s.fs, va, kData, 2 * 4096, 4096, IMS_PT_U | IMS_PT_W | IMS_PT_AD);
    Req &cold = s.translate(XlateSystem::req(kSid, va));
    EXPECT_EQ(latency(cold), 5542u) << "docs/timing.md worked example, default configuration";
    Req &r = s.translate(XlateSystem::req(kSid, va + 0x1008));
    EXPECT_EQ(r.x.res.pa, kGuestBase + kData + 0x1008);
    EXPECT_EQ(r.x.mem_reads, 2u);
    EXPECT_EQ(latency(r), l.ctxc + l.pasidc + l.iotlb + (l.psc + l.mem) + (l.psc + l.mem));
    EXPECT_EQ(latency(r), 404u);
    Req &h = s.translate(XlateSystem::req(kSid, va + 0x1010));
    EXPECT_EQ(latency(h), 6u);
}

// With iotlb.cache_nested_ss the SS translations of the FS tables' GPAs are
// cached, so a walk elsewhere in the guest reads only FS entries and the final SS.
TEST(XlateNested, CachedTableTranslationsSkipTheTableWalks)
{
    Nested s(2ULL << 20);
    const uint64_t va = 0x7f00'0000'0000ULL, far = 0x10'0000'0000ULL;  // different PML4E
    s.map(s.fs, va, 0x2000'0000, 4096, 4096, IMS_PT_U | IMS_PT_W | IMS_PT_AD);
    s.map(s.fs, far, 0x2000'1000, 4096, 4096, IMS_PT_U | IMS_PT_W | IMS_PT_AD);
    s.translate(XlateSystem::req(kSid, va));
    // 4 SS-only IOTLB entries of FS tables (all in the 2 MiB page at GPA 16 MiB: 1 entry) + the leaf.
    EXPECT_EQ(ims_iotlb_count(s.caches.iotlb), 2u);
    Req &r = s.translate(XlateSystem::req(kSid, far));
    EXPECT_EQ(r.x.res.pa, kGuestBase + 0x2000'1000);
    // FS root located through the IOTLB (and its PML4E is read), then three new FS
    // tables in the same 2 MiB GPA page (IOTLB hits), 4 FS reads, final SS: PSC l2 hit -> 1 read.
    EXPECT_EQ(r.x.mem_reads, 4u + 1u);
}

TEST(XlateNested, WithoutTableCachingTheSsPscServesTableWalks)
{
    Nested s(2ULL << 20, {"iotlb.cache_nested_ss=false"});
    const uint64_t va = 0x7f00'0000'0000ULL, far = 0x10'0000'0000ULL;
    s.map(s.fs, va, 0x2000'0000, 4096, 4096, IMS_PT_U | IMS_PT_W | IMS_PT_AD);
    s.map(s.fs, far, 0x2000'1000, 4096, 4096, IMS_PT_U | IMS_PT_W | IMS_PT_AD);
    s.translate(XlateSystem::req(kSid, va));
    EXPECT_EQ(ims_iotlb_count(s.caches.iotlb), 1u);
    Req &r = s.translate(XlateSystem::req(kSid, far));
    // Every SS walk (4 tables + final) hits the SS PDE cache: 1 read each, plus 4 FS reads.
    EXPECT_EQ(r.x.mem_reads, 5u + 4u);
    EXPECT_EQ(r.x.res.pa, kGuestBase + 0x2000'1000);
}

// A write needs the FS leaf's D: the table located through the PSC start has no
// known GPA, so the walk is repeated without the FS PSC (walk.rewalks).
TEST(XlateNested, FirstWriteAfterPscStartRepeatsTheWalk)
{
    Nested s;
    s.map(s.fs, 0x1000, kData, 4096, 4096, IMS_PT_U | IMS_PT_W);
    s.map(s.fs, 0x2000, kData + 0x1000, 4096, 4096, IMS_PT_U | IMS_PT_W);
    s.translate(XlateSystem::req(kSid, 0x1000));   // A bits set, PSCs filled
    Req &w = s.translate(XlateSystem::req(kSid, 0x2000, true));
    EXPECT_EQ(w.x.res.fault, 0);
    EXPECT_EQ(s.counter("walk.rewalks"), 1u);
    ims_pt_mapping m;
    ASSERT_EQ(ims_pt_lookup(&s.fs, 0x2000, &m), 0);
    EXPECT_TRUE(ims_fs_pte_d(ims_physmem_r64(s.mem, m.pte_hpa)));
    EXPECT_TRUE(ims_fs_pte_a(ims_physmem_r64(s.mem, m.pte_hpa)));
}

// ---- other request kinds -------------------------------------------------------------------------

TEST(XlateKinds, PassThroughIsCachedWithoutWalking)
{
    Legacy s;
    ims_pt_builder none{};
    s.legacy_device(0x0400, 3, none, IMS_VTD_TT_PT);
    Req &a = s.translate(XlateSystem::req(0x0400, 0x1234'5678));
    EXPECT_EQ(a.x.res.pa, 0x1234'5678u);
    EXPECT_EQ(s.counter("walk.count"), 0u);
    Req &b = s.translate(XlateSystem::req(0x0400, 0x1234'5000));
    EXPECT_EQ(b.x.outcome, IMS_XLATE_IOTLB_HIT);
}

TEST(XlateKinds, TranslationDisabledPassesThroughAtOnce)
{
    Legacy s;
    s.gcmd(1u << 31, false);
    ASSERT_FALSE(ims_vtd_regfile_te(s.regs));
    Req &r = s.translate(XlateSystem::req(kSid, 0xabc000));
    EXPECT_EQ(r.x.outcome, IMS_XLATE_UNTRANSLATED);
    EXPECT_TRUE(r.x.res.untranslated);
    EXPECT_EQ(r.x.res.pa, 0xabc000u);
    EXPECT_EQ(latency(r), 0u);
}

TEST(XlateKinds, TranslatedRequestNeedsOnlyTheContext)
{
    XlateSystem s(true);
    Lat l(s);
    ims_pt_builder ss = s.new_ss(4);
    s.sm_device(kSid, 0, /*dte=*/true);
    s.sm_pasid_ss(kSid, 0, kDid, ss);
    ims_vtd_req q = XlateSystem::req(kSid, 0x55'5000);
    q.type = IMS_VTD_REQ_TRANSLATED;
    Req &r = s.translate(q);
    EXPECT_EQ(r.x.res.fault, 0);
    EXPECT_EQ(r.x.res.pa, 0x55'5000u);
    EXPECT_EQ(latency(r), l.ctxc + l.pasidc + 4 * l.mem);
    Req &r2 = s.translate(q);
    EXPECT_EQ(latency(r2), l.ctxc + l.pasidc);
}

// Cached contexts re-check what depends on the request (ctx_lookup.c): a
// request with PASID to a device without PASIDE faults SCT.6 from the cache too.
TEST(XlateKinds, CachedContextStillChecksTheRequest)
{
    XlateSystem s(true);
    ims_pt_builder ss = s.new_ss(4);
    s.map(ss, 0x1000, 0x2000, 4096, 4096, IMS_PT_RW);
    s.sm_device(kSid, 0, false, /*paside=*/false);
    s.sm_pasid_ss(kSid, 0, kDid, ss);
    s.translate(XlateSystem::req(kSid, 0x1000));
    Req &r = s.translate(XlateSystem::req(kSid, 0x1000, false, 5));
    EXPECT_EQ(r.x.res.fault, IMS_VTD_FR_SCT_6);
    EXPECT_EQ(r.x.mem_reads, 0u) << "the cached context decides the fault";
    ims_vtd_req ats = XlateSystem::req(kSid, 0x1000);
    ats.type = IMS_VTD_REQ_TRANSLATION;
    EXPECT_EQ(s.translate(ats).x.res.fault, IMS_VTD_FR_SCT_5);
}

// ---- drain ---------------------------------------------------------------------------------------

struct DrainLog {
    explicit DrainLog(XlateSystem *sys) : s(sys) {}
    XlateSystem *s;
    std::vector<int> seen;   // completions seen when the drain fired
    ims_cycle when = 0;
    int fired = 0;
};

void drain_cb(void *ctx, uint64_t arg)
{
    auto *d = static_cast<DrainLog *>(ctx);
    d->fired++;
    d->when = d->s->now();
    d->seen.push_back(int(arg));
    d->seen.push_back(d->s->completed);
}

TEST(XlateDrain, FiresAtOnceWhenIdle)
{
    Legacy s;
    s.run();
    ims_cycle t = s.now();
    DrainLog d(&s);
    ims_xlate_drain(s.xlate, drain_cb, &d, 1);
    EXPECT_EQ(d.fired, 0) << "it runs as an engine event";
    s.run();
    EXPECT_EQ(d.fired, 1);
    EXPECT_EQ(d.when, t);
}

TEST(XlateDrain, WaitsForEarlierRequestsOnly)
{
    Legacy s({"walk.walkers=1", NO_PSC});
    for (int i = 0; i < 3; i++)
        s.map4k(0x1000 * (i + 1), 0x10'0000 + 0x1000 * i);
    s.translate(XlateSystem::req(kSid, 0x9999'0000));
    Req &a = s.submit(XlateSystem::req(kSid, 0x1000));
    Req &b = s.submit(XlateSystem::req(kSid, 0x2000));
    DrainLog d(&s);
    ims_xlate_drain(s.xlate, drain_cb, &d, 0);
    EXPECT_EQ(ims_xlate_inflight(s.xlate), 2u);
    Req &c = s.submit(XlateSystem::req(kSid, 0x3000));  // queued behind a and b for the walker
    s.run();
    ASSERT_EQ(d.fired, 1);
    EXPECT_EQ(d.when, b.x.t_done);
    EXPECT_GT(c.x.t_done, d.when) << "a later request does not delay the drain";
    EXPECT_EQ(d.seen[1], b.order + 1) << "fired after a and b completed, before c";
    EXPECT_LT(a.order, c.order);
    EXPECT_EQ(ims_xlate_inflight(s.xlate), 0u);
}

// ---- configuration and statistics ---------------------------------------------------------------------

TEST(XlateConfig, KeysHaveSourcesAndStatsAreRegistered)
{
    for (const ims_cfg_key *k = ims_xlate_cfg_keys; k->name; k++) {
        EXPECT_TRUE(k->source && *k->source) << k->name;
        EXPECT_TRUE(k->help && *k->help) << k->name;
    }
    Legacy s;
    s.map4k(0x1000, 0x2000);
    s.translate(XlateSystem::req(kSid, 0x1000));
    EXPECT_EQ(s.counter("xlate.count"), 1u);
    EXPECT_EQ(s.counter("walk.count"), 1u);
    EXPECT_EQ(s.counter("walk.mem_reads"), 4u);
    EXPECT_EQ(ims_stats_latency_count(s.stats, "xlate.latency_ns"), 1u);
    EXPECT_EQ(ims_stats_latency_count(s.stats, "xlate.slot_wait_ns"), 0u) << "nobody waited";
    EXPECT_EQ(ims_stats_latency_count(s.stats, "walk.latency_ns"), 1u);
    char *json = ims_stats_json_string(s.stats);
    ASSERT_NE(json, nullptr);
    free(json);
}

TEST(XlateConfig, CreateRejectsMissingParts)
{
    Legacy s;
    ims_xlate_params p{};
    ims_xlate *x = nullptr;
    ims_error err{};
    EXPECT_EQ(ims_xlate_create(&p, &x, &err), -EINVAL);
    EXPECT_EQ(x, nullptr);
    EXPECT_NE(err.msg[0], '\0');
}

}  // namespace
