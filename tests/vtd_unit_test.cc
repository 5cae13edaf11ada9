// The assembled VT-d unit (models/vtd/unit.h): wiring of registers to the invalidation engine and caches,
// SRTP with and without CAP.ESRTPS, invalidation-completion MSIs, an end-to-end unmap + invalidation, and
// the drain: a wait completes only after the translations in flight when it was processed.
#include <gtest/gtest.h>

#include <deque>
#include <vector>

#include "models/mem/mem_timing.h"
#include "models/mem/pa_alloc.h"
#include "models/mem/physmem.h"
#include "models/vtd/cache_config.h"
#include "models/vtd/ctx_builder.h"
#include "models/vtd/inv_desc.h"
#include "models/vtd/pt_builder.h"
#include "models/vtd/regs.h"
#include "models/vtd/unit.h"
#include "models/vtd/vtd_config.h"
#include "models/vtd/xlate.h"
#include "sim/config.h"

namespace {

constexpr uint64_t kIq = 0x80000, kStatus = 0x90000;
constexpr uint16_t kSid = 0x0100, kDid = 5;

struct Msi {
    uint64_t addr;
    uint32_t data;
};

struct Done {
    ims_xlate_req x{};
    bool done = false;
};

struct UnitSys {
    ims_error err{};
    ims_config *cfg = nullptr;
    ims_engine *e = nullptr;
    ims_stats *st = nullptr;
    ims_rng rng{};
    ims_physmem *mem = nullptr;
    ims_pa_alloc host{};
    ims_mem_timing mt{};
    ims_vtd_unit *u = nullptr;
    ims_vtd_ctx_builder cb{};
    ims_pt_builder ss{};
    std::vector<Msi> msis;
    std::deque<Done> reqs;
    uint64_t tail = 0;

    static void on_msi(void *ctx, uint64_t addr, uint32_t data)
    {
        static_cast<UnitSys *>(ctx)->msis.push_back({addr, data});
    }

    explicit UnitSys(uint64_t cap = IMS_VTD_DEFAULT_CAP, std::vector<const char *> sets = {})
    {
        const ims_cfg_key *tables[] = {ims_sim_cfg_keys, ims_vtd_cfg_keys, ims_vtd_cache_cfg_keys,
                                       ims_mem_cfg_keys, ims_xlate_cfg_keys, ims_qi_cfg_keys};
        cfg = ims_config_create(tables, sizeof tables / sizeof tables[0], &err);
        EXPECT_NE(cfg, nullptr) << err.msg;
        for (const char *s : sets)
            EXPECT_EQ(ims_config_set_arg(cfg, s, &err), 0) << err.msg;
        uint64_t hz = ims_config_u64(cfg, "sim.clock_mhz") * 1000000ull;
        e = ims_engine_create(hz);
        st = ims_stats_create(hz);
        mem = ims_physmem_create();
        ims_rng_seed(&rng, 7);
        ims_mem_timing_init(&mt, cfg, e, &rng, st);
        ims_pa_alloc_init(&host, mem, 0x1000000, 0x8000000);
        ims_vtd_unit_params p{};
        p.engine = e;
        p.mem = mem;
        p.mem_timing = &mt;
        p.cfg = cfg;
        p.cap = cap;
        p.ecap = IMS_VTD_DEFAULT_ECAP;
        p.stats = st;
        p.rng = &rng;
        p.msi = on_msi;
        p.msi_ctx = this;
        EXPECT_EQ(ims_vtd_unit_create(&p, &u, &err), 0) << err.msg;
        // Scalable mode, one device, RID_PASID 0 -> second-stage table of DID 5 mapping 0x1000 -> 0x5000.
        EXPECT_EQ(ims_vtd_ctxb_init(&cb, &host, true, &err), 0) << err.msg;
        EXPECT_EQ(ims_pt_builder_init(&ss, mem, &host, IMS_PT_FORMAT_SS, 4, 0, &err), 0) << err.msg;
        EXPECT_EQ(ims_pt_map(&ss, 0x1000, 0x5000, 0x1000, 0x1000, IMS_PT_RW, &err), 0) << err.msg;
        EXPECT_EQ(ims_pt_map(&ss, 0x200000, 0x600000, 0x1000, 0x1000, IMS_PT_RW, &err), 0) << err.msg;
        ims_vtd_sm_ctx_cfg c{};
        c.pdts = 1;
        c.paside = true;
        EXPECT_EQ(ims_vtd_ctxb_set_sm_ctx(&cb, kSid, &c, &err), 0) << err.msg;
        EXPECT_EQ(ims_vtd_ctxb_set_sm_ctx(&cb, kSid + 1, &c, &err), 0) << err.msg;
        ims_vtd_pasid_cfg pc{};
        pc.pgtt = IMS_VTD_PGTT_SS;
        pc.did = kDid;
        pc.aw = 2;
        pc.ssptptr = ss.root;
        EXPECT_EQ(ims_vtd_ctxb_set_pasid(&cb, kSid, 0, &pc, &err), 0) << err.msg;
        EXPECT_EQ(ims_vtd_ctxb_set_pasid(&cb, kSid + 1, 0, &pc, &err), 0) << err.msg;
        // Driver bring-up over MMIO: root pointer, queue, QI, translation.
        w64(IMS_VTD_REG_RTADDR, ims_vtd_ctxb_rtaddr(&cb));
        gcmd(IMS_VTD_PUT(IMS_VTD_GCMD_SRTP, 1));
        w64(IMS_VTD_REG_IQA, kIq | IMS_VTD_PUT(IMS_VTD_IQA_DW, 1));
        gcmd(IMS_VTD_PUT(IMS_VTD_GCMD_QIE, 1));
        gcmd(IMS_VTD_PUT(IMS_VTD_GCMD_TE, 1));
    }
    ~UnitSys()
    {
        ims_vtd_unit_destroy(u);
        ims_physmem_destroy(mem);
        ims_stats_destroy(st);
        ims_engine_destroy(e);
        ims_config_destroy(cfg);
    }

    void w64(uint64_t off, uint64_t v) { EXPECT_EQ(ims_vtd_unit_mmio_write(u, off, 8, v), IMS_VTD_MMIO_OK); }
    void w32(uint64_t off, uint32_t v) { EXPECT_EQ(ims_vtd_unit_mmio_write(u, off, 4, v), IMS_VTD_MMIO_OK); }
    uint64_t rd(uint64_t off, unsigned size = 8)
    {
        uint64_t v = 0;
        ims_vtd_unit_mmio_read(u, off, size, &v);
        return v;
    }
    // One GCMD command on top of the enables already on (TES, AFLS, QIES, IRES, CFIS).
    void gcmd(uint64_t cmd)
    {
        w32(IMS_VTD_REG_GCMD, ((uint32_t)rd(IMS_VTD_REG_GSTS, 4) & 0x96800000u) | (uint32_t)cmd);
    }

    void put(const uint64_t qw[4])
    {
        for (int i = 0; i < 4; i++)
            ims_physmem_w64(mem, kIq + tail + 8 * i, qw[i]);
        tail += 32;
    }
    void ring() { w64(IMS_VTD_REG_IQT, tail); }
    void put_wait(uint32_t data, uint64_t addr = kStatus)
    {
        uint64_t qw[4];
        ims_qi_build_wait(qw, true, false, false, false, data, addr);
        put(qw);
    }

    static void on_done(ims_xlate_req *x) { static_cast<Done *>(x->user)->done = true; }
    Done &submit(uint16_t sid, uint64_t addr)
    {
        reqs.emplace_back();
        Done &d = reqs.back();
        d.x.req.sid = sid;
        d.x.req.addr = addr;
        d.x.req.read = true;
        d.x.req.type = IMS_VTD_REQ_UNTRANSLATED;
        d.x.done = on_done;
        d.x.user = &d;
        ims_vtd_unit_translate(u, &d.x);
        return d;
    }
    void at(ims_cycle t)
    {
        ims_engine_schedule_at(e, t, [](void *, uint64_t) {}, nullptr, 0);
        ims_engine_run(e, t);
    }
    void run() { ims_engine_run(e, IMS_CYCLE_MAX); }
    ims_vtd_caches *caches() { return ims_vtd_unit_caches(u); }
    uint32_t cached()
    {
        ims_vtd_caches *c = caches();
        uint32_t n = ims_ctxc_count(c->ctxc) + ims_pasidc_count(c->pasidc) + ims_iotlb_count(c->iotlb);
        for (unsigned lv = 2; lv <= 5; lv++)
            n += ims_psc_count(c->psc, IMS_PSC_SS, lv) + ims_psc_count(c->psc, IMS_PSC_FS, lv);
        return n;
    }
};

TEST(VtdUnit, CreatesAndWiresItsParts)
{
    UnitSys s;
    ASSERT_NE(s.u, nullptr);
    EXPECT_NE(ims_vtd_unit_regs(s.u), nullptr);
    EXPECT_NE(ims_vtd_unit_xlate(s.u), nullptr);
    EXPECT_NE(ims_vtd_unit_qi(s.u), nullptr);
    EXPECT_EQ(s.rd(IMS_VTD_REG_CAP), IMS_VTD_DEFAULT_CAP);
    EXPECT_EQ(s.rd(IMS_VTD_REG_VER, 4), 0x60u); // vtd.ver default
    ims_vtd_hw hw;
    ims_vtd_unit_hw(s.u, &hw);
    EXPECT_EQ(hw.mem, s.mem);
    EXPECT_TRUE(hw.te);
    EXPECT_EQ(hw.rtaddr, ims_vtd_ctxb_rtaddr(&s.cb));
    // A translation through the unit uses the tables.
    Done &d = s.submit(kSid, 0x1234);
    s.run();
    ASSERT_TRUE(d.done);
    EXPECT_EQ(d.x.res.fault, 0);
    EXPECT_EQ(d.x.res.pa, 0x5234u);
    // A queued wait through MMIO.
    s.put_wait(0x5a);
    s.ring();
    s.run();
    EXPECT_EQ(ims_physmem_r32(s.mem, kStatus), 0x5au);
}

TEST(VtdUnit, RejectsMissingParameters)
{
    ims_vtd_unit_params p{};
    ims_vtd_unit *u = nullptr;
    ims_error err{};
    EXPECT_EQ(ims_vtd_unit_create(&p, &u, &err), -EINVAL);
    EXPECT_EQ(u, nullptr);
}

TEST(VtdUnit, SrtpWithEsrtpsFlushesEveryCache)
{
    // vtd-facts §1.2 bit 63: with ESRTPS, SRTP also invalidates all translation caches.
    UnitSys s(IMS_VTD_DEFAULT_CAP | IMS_VTD_PUT(IMS_VTD_CAP_ESRTPS, 1));
    s.submit(kSid, 0x1000);
    s.run();
    ASSERT_GT(s.cached(), 0u);
    uint64_t epoch = s.caches()->inv_epoch;
    s.gcmd(IMS_VTD_PUT(IMS_VTD_GCMD_SRTP, 1));
    EXPECT_EQ(s.cached(), 0u);
    EXPECT_EQ(s.caches()->inv_epoch, epoch + 1);
}

TEST(VtdUnit, SrtpWithoutEsrtpsLeavesTheCaches)
{
    // vtd-facts §4.12: without ESRTPS software must invalidate after SRTP.
    UnitSys s;
    s.submit(kSid, 0x1000);
    s.run();
    uint32_t n = s.cached();
    ASSERT_GT(n, 0u);
    s.gcmd(IMS_VTD_PUT(IMS_VTD_GCMD_SRTP, 1));
    EXPECT_EQ(s.cached(), n);
}

TEST(VtdUnit, InvalidationCompletionEventReachesTheMsiSink)
{
    // vtd-facts §1.10: IWC 0->1 raises the invalidation event at IEADDR/IEDATA when IECTL.IM=0.
    UnitSys s;
    s.w32(IMS_VTD_REG_IEDATA, 0x41);
    s.w32(IMS_VTD_REG_IEADDR, 0xfee00000);
    s.w32(IMS_VTD_REG_IECTL, 0);
    uint64_t qw[4];
    ims_qi_build_wait(qw, false, true, false, false, 0, 0);
    s.put(qw);
    s.ring();
    s.run();
    ASSERT_EQ(s.msis.size(), 1u);
    EXPECT_EQ(s.msis[0].addr, 0xfee00000u);
    EXPECT_EQ(s.msis[0].data, 0x41u);
}

TEST(VtdUnit, UnmapIsSeenOnlyAfterTheInvalidation)
{
    // Caches may keep a stale translation until software invalidates (vtd-facts §6 / spec §6.5); after a
    // page-selective IOTLB invalidation and its wait, the next translation walks and faults.
    UnitSys s;
    Done &a = s.submit(kSid, 0x1000);
    s.run();
    ASSERT_EQ(a.x.res.pa, 0x5000u);
    ASSERT_GE(ims_pt_unmap(&s.ss, 0x1000, 0x1000, &s.err), 0) << s.err.msg;
    Done &b = s.submit(kSid, 0x1000);
    s.run();
    EXPECT_EQ(b.x.outcome, IMS_XLATE_IOTLB_HIT);
    EXPECT_EQ(b.x.res.pa, 0x5000u) << "stale but legal before the invalidation";
    uint64_t qw[4];
    ims_qi_build_iotlb_psi(qw, kDid, 0x1000, 0, false, true, true);
    s.put(qw);
    s.put_wait(1);
    s.ring();
    s.run();
    ASSERT_EQ(ims_physmem_r32(s.mem, kStatus), 1u);
    Done &c = s.submit(kSid, 0x1000);
    s.run();
    EXPECT_NE(c.x.res.fault, 0);
    EXPECT_EQ(c.x.outcome, IMS_XLATE_FAULT);
}

TEST(VtdUnit, WaitDrainsTranslationsInFlightWhenItIsProcessed)
{
    // qi.h / xlate.h: the wait asks for a drain when it is processed; it completes only after every
    // translation submitted before that point, and not after later ones. Cheap wait and status write so
    // the drain is the only thing the wait waits for. One walker, so the later request finishes last.
    UnitSys s(IMS_VTD_DEFAULT_CAP, {"qi.cost.wait=0ns", "qi.status_write=0ns", "walk.walkers=1"});
    const ims_cycle fetch = s.mt.read_cycles;
    Done &a = s.submit(kSid, 0x1000);        // t=0, cold: context + PASID + walk reads
    s.put_wait(0x77);
    s.ring();                                 // wait fetched and processed at `fetch`
    s.at(fetch - 1);
    Done &b = s.submit(kSid + 1, 0x200000);  // before the wait is processed
    s.at(fetch + 1);
    Done &c = s.submit(kSid + 1, 0x3000);    // after: must not hold the wait (unmapped: walks, faults)
    s.run();
    ASSERT_TRUE(a.done && b.done && c.done);
    ASSERT_GT(a.x.t_done, fetch) << "the translation must still be in flight at the wait";
    ims_cycle last = std::max(a.x.t_done, b.x.t_done);
    EXPECT_EQ(ims_physmem_r32(s.mem, kStatus), 0x77u);
    EXPECT_DOUBLE_EQ(ims_stats_latency_percentile_ns(s.st, "inv.latency_ns", 100), (double)last);
    EXPECT_LT(last, c.x.t_done) << "test setup: the later translation should finish last";
}

TEST(VtdUnit, WaitWithNothingInFlightIsNotDelayed)
{
    UnitSys s(IMS_VTD_DEFAULT_CAP, {"qi.cost.wait=0ns", "qi.status_write=0ns"});
    s.put_wait(0x78);
    s.ring();
    s.run();
    EXPECT_DOUBLE_EQ(ims_stats_latency_percentile_ns(s.st, "inv.latency_ns", 100), (double)s.mt.read_cycles);
}

} // namespace
