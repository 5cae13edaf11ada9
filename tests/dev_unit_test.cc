// An ATS device behind the real scalable-mode VT-d unit (models/vtd/unit.h):
// the device-TLB fills from ATS translation completions, a PASID-based
// device-TLB invalidation (type 8) followed by a wait descriptor removes the
// entry, and the wait's status write happens only after the device's ATS
// Invalidate Completion; a device that never answers makes the unit raise ITE.
#include <gtest/gtest.h>

#include <vector>

#include "models/dev/device.h"
#include "models/dev/devtlb.h"
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
#include "sim/config.h"

namespace {

constexpr uint64_t kQueue = 0x80000, kStatusAddr = 0x90000;
constexpr uint16_t kSid = 0x0200, kDid = 9;
constexpr uint32_t kPasid = 1;

struct AtsSystem {
    ims_error err{};
    ims_config *cfg = nullptr;
    ims_engine *e = nullptr;
    ims_stats *st = nullptr;
    ims_rng rng{};
    ims_physmem *mem = nullptr;
    ims_pa_alloc pages{};
    ims_mem_timing mt{};
    ims_vtd_unit *u = nullptr;
    ims_dev *dev = nullptr;
    ims_vtd_ctx_builder cb{};
    ims_pt_builder ss{};
    uint64_t tail = 0;
    // What the unit saw when the device's completion reached it.
    struct Cpl {
        ims_cycle t;
        uint32_t status_word;
        bool entry_cached;
    };
    std::vector<Cpl> cpls;
    std::vector<ims_cycle> inv_sent;

    // Unit -> device: deliver the ATS Invalidate Request.
    static bool send_inv(void *ctx, const ims_ats_inv_msg *m)
    {
        auto *s = static_cast<AtsSystem *>(ctx);
        if (m->sid != kSid)
            return false;
        s->inv_sent.push_back(ims_engine_now(s->e));
        ims_dev_ats_inv_request(s->dev, m);
        return true;
    }
    // Device -> unit.
    static void translate(void *ctx, ims_xlate_req *r) { ims_vtd_unit_translate(static_cast<AtsSystem *>(ctx)->u, r); }
    static void ats_completion(void *ctx, uint16_t sid, uint32_t vec, unsigned cc)
    {
        auto *s = static_cast<AtsSystem *>(ctx);
        s->cpls.push_back({ims_engine_now(s->e), ims_physmem_r32(s->mem, kStatusAddr),
                           ims_devtlb_peek(ims_dev_devtlb(s->dev), true, kPasid, false, 0x1000) != nullptr});
        ims_qi_ats_completion(ims_vtd_unit_qi(s->u), sid, vec, cc);
    }

    explicit AtsSystem(bool drop_inv = false)
    {
        const ims_cfg_key *tables[] = {ims_sim_cfg_keys, ims_vtd_cfg_keys,   ims_vtd_cache_cfg_keys, ims_mem_cfg_keys,
                                       ims_xlate_cfg_keys, ims_qi_cfg_keys, ims_dev_cfg_keys};
        cfg = ims_config_create(tables, sizeof tables / sizeof tables[0], &err);
        EXPECT_NE(cfg, nullptr) << err.msg;
        if (drop_inv) {
            EXPECT_EQ(ims_config_set(cfg, "dev.ats_drop_inv", "true", "test", &err), 0) << err.msg;
        }
        EXPECT_EQ(ims_config_set(cfg, "qi.ats_timeout", "20us", "test", &err), 0) << err.msg;
        uint64_t hz = ims_config_u64(cfg, "sim.clock_mhz") * 1000000ull;
        e = ims_engine_create(hz);
        st = ims_stats_create(hz);
        mem = ims_physmem_create();
        ims_rng_seed(&rng, 11);
        ims_mem_timing_init(&mt, cfg, e, &rng, st);
        ims_pa_alloc_init(&pages, mem, 0x1000000, 0x8000000);

        ims_vtd_unit_params up{};
        up.engine = e;
        up.mem = mem;
        up.mem_timing = &mt;
        up.cfg = cfg;
        up.cap = IMS_VTD_DEFAULT_CAP;
        up.ecap = IMS_VTD_DEFAULT_ECAP; // includes DT (device-TLB) and scalable mode
        up.stats = st;
        up.rng = &rng;
        up.ats = {send_inv, this};
        EXPECT_EQ(ims_vtd_unit_create(&up, &u, &err), 0) << err.msg;

        ims_dev_params dp{};
        dp.engine = e;
        dp.mem_timing = &mt;
        dp.cfg = cfg;
        dp.stats = st;
        dp.rng = &rng;
        dp.iommu = {translate, ats_completion, this};
        dp.sid = kSid;
        dp.ats = true;
        dp.pasid_bits = 20;
        EXPECT_EQ(ims_dev_create(&dp, &dev, &err), 0) << err.msg;

        // Scalable mode: context with DTE=1; PASID 1 -> second stage of DID 9 mapping 0x1000 -> 0x5000.
        EXPECT_EQ(ims_vtd_ctxb_init(&cb, &pages, true, &err), 0) << err.msg;
        EXPECT_EQ(ims_pt_builder_init(&ss, mem, &pages, IMS_PT_FORMAT_SS, 4, 0, &err), 0) << err.msg;
        EXPECT_EQ(ims_pt_map(&ss, 0x1000, 0x5000, 0x1000, 0x1000, IMS_PT_RW, &err), 0) << err.msg;
        ims_vtd_sm_ctx_cfg c{};
        c.pdts = 1;
        c.paside = true;
        c.dte = true;
        EXPECT_EQ(ims_vtd_ctxb_set_sm_ctx(&cb, kSid, &c, &err), 0) << err.msg;
        ims_vtd_pasid_cfg pc{};
        pc.pgtt = IMS_VTD_PGTT_SS;
        pc.did = kDid;
        pc.aw = 2;
        pc.ssptptr = ss.root;
        EXPECT_EQ(ims_vtd_ctxb_set_pasid(&cb, kSid, kPasid, &pc, &err), 0) << err.msg;

        // Driver bring-up over MMIO: root table, 256-bit queue, QI, translation.
        w64(IMS_VTD_REG_RTADDR, ims_vtd_ctxb_rtaddr(&cb));
        gcmd(IMS_VTD_PUT(IMS_VTD_GCMD_SRTP, 1));
        w64(IMS_VTD_REG_IQA, kQueue | IMS_VTD_PUT(IMS_VTD_IQA_DW, 1));
        gcmd(IMS_VTD_PUT(IMS_VTD_GCMD_QIE, 1));
        gcmd(IMS_VTD_PUT(IMS_VTD_GCMD_TE, 1));
    }
    ~AtsSystem()
    {
        ims_dev_destroy(dev);
        ims_vtd_unit_destroy(u);
        ims_physmem_destroy(mem);
        ims_stats_destroy(st);
        ims_engine_destroy(e);
        ims_config_destroy(cfg);
    }
    void w64(uint64_t off, uint64_t v) { EXPECT_EQ(ims_vtd_unit_mmio_write(u, off, 8, v), IMS_VTD_MMIO_OK); }
    uint64_t rd(uint64_t off, unsigned size)
    {
        uint64_t v = 0;
        ims_vtd_unit_mmio_read(u, off, size, &v);
        return v;
    }
    void gcmd(uint64_t cmd)
    {
        // Keep the persistent enables (TE, QIE, IRE ...) set while issuing one command.
        uint32_t keep = (uint32_t)rd(IMS_VTD_REG_GSTS, 4) & 0x96800000u;
        EXPECT_EQ(ims_vtd_unit_mmio_write(u, IMS_VTD_REG_GCMD, 4, keep | (uint32_t)cmd), IMS_VTD_MMIO_OK);
    }
    void put(const uint64_t qw[4])
    {
        for (int i = 0; i < 4; i++)
            ims_physmem_w64(mem, kQueue + tail + 8 * i, qw[i]);
        tail += 32;
    }
    void run() { ims_engine_run(e, IMS_CYCLE_MAX); }
    bool cached() { return ims_devtlb_peek(ims_dev_devtlb(dev), true, kPasid, false, 0x1000) != nullptr; }

    unsigned done = 0;
    static void on_done(ims_dma *d) { static_cast<AtsSystem *>(d->user)->done++; }
    void dma(ims_dma &op, uint64_t iova)
    {
        op = ims_dma{};
        op.has_pasid = true;
        op.pasid = kPasid;
        op.iova = iova;
        op.len = 4096;
        op.done = on_done;
        op.user = this;
        ims_dev_dma(dev, &op);
    }
    // Type 8 for (kSid, kPasid, page 0x1000) followed by a wait with a status write.
    void invalidate_page(uint32_t status)
    {
        uint64_t qw[4];
        ASSERT_EQ(ims_qi_build_pdev_tlb(qw, kSid, 0, 0, kPasid, false, 0x1000, 0), 0);
        put(qw);
        ims_qi_build_wait(qw, true, false, false, false, status, kStatusAddr);
        put(qw);
        w64(IMS_VTD_REG_IQT, tail);
    }
};

TEST(AtsUnit, DeviceTlbFillsFromTheUnitAndHitsAfterwards)
{
    AtsSystem s;
    ASSERT_NE(s.dev, nullptr);
    ims_dma a, b;
    s.dma(a, 0x1000);
    s.run();
    ASSERT_EQ(s.done, 1u);
    EXPECT_EQ(a.fault, 0);
    EXPECT_EQ(a.pa, 0x5000u);
    ASSERT_TRUE(s.cached());
    const ims_devtlb_entry *e = ims_devtlb_peek(ims_dev_devtlb(s.dev), true, kPasid, false, 0x1000);
    EXPECT_EQ(e->hpa, 0x5000u);
    EXPECT_TRUE(e->r);
    EXPECT_TRUE(e->w);
    s.dma(b, 0x1000);
    s.run();
    EXPECT_EQ(b.fault, 0);
    EXPECT_EQ(b.pa, 0x5000u);
    EXPECT_EQ(ims_stats_counter_total(s.st, "ats.xlate.requests"), 1u);
    EXPECT_EQ(ims_stats_counter_total(s.st, "devtlb.hits"), 1u);
    // The hit's latency has no translation round trip: it is shorter than the miss.
    EXPECT_LT(b.t_done - b.t_request, a.t_done - a.t_request);
}

TEST(AtsUnit, WaitStatusIsWrittenOnlyAfterTheAtsCompletion)
{
    AtsSystem s;
    ims_dma a;
    s.dma(a, 0x1000);
    s.run();
    ASSERT_TRUE(s.cached());
    ims_cycle t0 = ims_engine_now(s.e);
    s.invalidate_page(0xC0DE);
    s.run();
    ASSERT_EQ(s.inv_sent.size(), 1u);
    ASSERT_EQ(s.cpls.size(), 1u);
    EXPECT_EQ(s.cpls[0].status_word, 0u);   // not yet written when the completion arrives
    EXPECT_FALSE(s.cpls[0].entry_cached);   // the entry was gone before the device answered
    EXPECT_EQ(ims_physmem_r32(s.mem, kStatusAddr), 0xC0DEu);
    EXPECT_FALSE(s.cached());
    // The device part of the round trip is exactly link + processing + link.
    ims_cycle L = ims_engine_ps_to_cycles(s.e, ims_config_time_ps(s.cfg, "pcie.latency_ns"));
    ims_cycle P = ims_engine_ps_to_cycles(s.e, ims_config_time_ps(s.cfg, "dev.ats_inv_ns"));
    EXPECT_EQ(s.cpls[0].t - s.inv_sent[0], 2 * L + P);
    EXPECT_GT(s.inv_sent[0], t0);
    EXPECT_FALSE(ims_vtd_fsts_ite((uint32_t)s.rd(IMS_VTD_REG_FSTS, 4)));
    // The next DMA must ask the unit again.
    ims_dma b;
    s.dma(b, 0x1000);
    s.run();
    EXPECT_EQ(b.fault, 0);
    EXPECT_EQ(ims_stats_counter_total(s.st, "ats.xlate.requests"), 2u);
}

TEST(AtsUnit, DeviceThatNeverAnswersMakesTheUnitReportIte)
{
    AtsSystem s(true);
    ims_dma a;
    s.dma(a, 0x1000);
    s.run();
    ASSERT_TRUE(s.cached());
    s.invalidate_page(0xBEEF);
    s.run();
    EXPECT_EQ(s.inv_sent.size(), 1u);
    EXPECT_TRUE(s.cpls.empty());
    EXPECT_NE(ims_physmem_r32(s.mem, kStatusAddr), 0xBEEFu); // the aborted wait never writes
    EXPECT_TRUE(ims_vtd_fsts_ite((uint32_t)s.rd(IMS_VTD_REG_FSTS, 4)));
    EXPECT_EQ(ims_stats_counter_total(s.st, "ats.dev_inv.dropped"), 1u);
}

} // namespace
