// A small simulated VT-d system for the timing tests: engine, stats, config
// (a test-local schema: sim, vtd, caches, mem, xlate and any extra tables),
// physical memory, a register file programmed like a driver does (RTADDR,
// GCMD.SRTP, GCMD.TE over MMIO), the four translation caches, memory timing
// and the translation pipeline. Helpers build contexts, PASID entries and page
// tables, and submit requests whose completions are collected.
//
// Usage:
//   ims_test::XlateSystem sys(/*scalable=*/true, {"walk.walkers=2"});
//   ims_pt_builder ss = sys.new_ss(4);
//   sys.map(ss, 0x1000, 0x5000, 4096, IMS_PT_RW);
//   sys.sm_device(0x0100);
//   sys.sm_pasid_ss(0x0100, 0, /*did=*/5, ss);          // RID_PASID 0: requests without PASID
//   auto &r = sys.submit(sys.req(0x0100, 0x1234, /*write=*/false));
//   sys.run();   // r.done, r.x.res, r.x.outcome, r.x.t_done ...
#ifndef IMS_TESTS_XLATE_FIXTURE_H
#define IMS_TESTS_XLATE_FIXTURE_H

#include <gtest/gtest.h>

#include <deque>
#include <initializer_list>
#include <string>
#include <vector>

#include "models/mem/mem_timing.h"
#include "models/mem/pa_alloc.h"
#include "models/mem/physmem.h"
#include "models/vtd/cache_config.h"
#include "models/vtd/ctx_builder.h"
#include "models/vtd/entries.h"
#include "models/vtd/pt_builder.h"
#include "models/vtd/regfile.h"
#include "models/vtd/regs.h"
#include "models/vtd/translate.h"
#include "models/vtd/vtd_caches.h"
#include "models/vtd/vtd_config.h"
#include "models/vtd/xlate.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "sim/rng.h"
#include "sim/stats.h"

namespace ims_test {

// Host memory layout of the fixture.
constexpr uint64_t kHostTables = 0x1000'0000ULL;  // root/context/PASID/SS tables: [256 MiB, 1280 MiB)
constexpr uint64_t kHostTablesSize = 1ULL << 30;
constexpr uint64_t kGuestBase = 1ULL << 40;       // HPA of a guest's GPA 0 (nested setups)
constexpr uint64_t kGuestTables = 0x100'0000ULL;  // GPA range of guest FS tables: [16 MiB, 80 MiB)
constexpr uint64_t kGuestTablesSize = 64ULL << 20;

// One submitted request and what came back.
struct Req {
    ims_xlate_req x{};
    bool done = false;
    int order = -1;  // completion order
    void *owner_ = nullptr;
};

class XlateSystem {
  public:
    ims_error err{};
    ims_config *cfg = nullptr;
    ims_engine *engine = nullptr;
    ims_stats *stats = nullptr;
    ims_rng rng{};
    ims_physmem *mem = nullptr;
    ims_pa_alloc host{}, guest{};
    ims_vtd_regfile *regs = nullptr;
    ims_vtd_caches caches{};
    ims_mem_timing mt{};
    ims_xlate *xlate = nullptr;
    ims_vtd_ctx_builder cb{};
    std::deque<Req> reqs;  // stable addresses
    int completed = 0;

    // `overrides` are "key=value" settings applied before anything is created;
    // `extra` adds key tables (e.g. another model's) to the test schema.
    explicit XlateSystem(bool scalable, std::initializer_list<const char *> overrides = {},
                         std::vector<const ims_cfg_key *> extra = {})
    {
        std::vector<const ims_cfg_key *> tables = {ims_sim_cfg_keys, ims_vtd_cfg_keys, ims_vtd_cache_cfg_keys,
                                                   ims_mem_cfg_keys, ims_xlate_cfg_keys};
        tables.insert(tables.end(), extra.begin(), extra.end());
        cfg = ims_config_create(tables.data(), tables.size(), &err);
        EXPECT_NE(cfg, nullptr) << err.msg;
        if (!cfg)
            return;
        for (const char *o : overrides)
            EXPECT_EQ(ims_config_set_arg(cfg, o, &err), 0) << err.msg;
        uint64_t hz = ims_config_u64(cfg, "sim.clock_mhz") * 1000000ULL;
        engine = ims_engine_create(hz);
        stats = ims_stats_create(hz);
        ims_rng_seed(&rng, ims_config_u64(cfg, "sim.seed"));
        mem = ims_physmem_create();
        ims_pa_alloc_init(&host, mem, kHostTables, kHostTables + kHostTablesSize);
        ims_pa_alloc_init(&guest, mem, kGuestBase + kGuestTables, kGuestBase + kGuestTables + kGuestTablesSize);
        EXPECT_EQ(ims_vtd_regfile_create_cfg(cfg, nullptr, &regs, &err), 0) << err.msg;
        EXPECT_EQ(ims_ctxc_create_cfg(cfg, &rng, stats, &caches.ctxc, &err), 0) << err.msg;
        EXPECT_EQ(ims_pasidc_create_cfg(cfg, &rng, stats, &caches.pasidc, &err), 0) << err.msg;
        EXPECT_EQ(ims_iotlb_create_cfg(cfg, &rng, stats, &caches.iotlb, &err), 0) << err.msg;
        EXPECT_EQ(ims_psc_create_cfg(cfg, &rng, stats, &caches.psc, &err), 0) << err.msg;
        caches.cache_nested_ss = ims_vtd_cache_nested_ss(cfg);
        ims_mem_timing_init(&mt, cfg, engine, &rng, stats);
        EXPECT_EQ(ims_vtd_ctxb_init(&cb, &host, scalable, &err), 0) << err.msg;
        program_root();
        ims_xlate_params p{};
        p.engine = engine;
        p.mem = mem;
        p.mem_timing = &mt;
        p.regs = regs;
        p.caches = &caches;
        p.cfg = cfg;
        p.stats = stats;
        EXPECT_EQ(ims_xlate_create(&p, &xlate, &err), 0) << err.msg;
    }

    ~XlateSystem()
    {
        ims_xlate_destroy(xlate);
        ims_psc_destroy(caches.psc);
        ims_iotlb_destroy(caches.iotlb);
        ims_pasidc_destroy(caches.pasidc);
        ims_ctxc_destroy(caches.ctxc);
        ims_vtd_regfile_destroy(regs);
        ims_physmem_destroy(mem);
        ims_stats_destroy(stats);
        ims_engine_destroy(engine);
        ims_config_destroy(cfg);
    }

    XlateSystem(const XlateSystem &) = delete;
    XlateSystem &operator=(const XlateSystem &) = delete;

    // ---- registers, like a driver --------------------------------------------------
    uint32_t gsts()
    {
        uint64_t v = 0;
        ims_vtd_mmio_read(regs, IMS_VTD_REG_GSTS, 4, &v);
        return (uint32_t)v;
    }
    // One GCMD command: the current enables plus/minus one bit.
    void gcmd(uint32_t bit, bool set = true)
    {
        uint32_t keep = gsts() & 0x96800000u;  // TES, AFLS, QIES, IRES, CFIS
        EXPECT_EQ(ims_vtd_mmio_write(regs, IMS_VTD_REG_GCMD, 4, set ? (keep | bit) : (keep & ~bit)),
                  IMS_VTD_MMIO_OK);
    }
    void program_root()
    {
        EXPECT_EQ(ims_vtd_mmio_write(regs, IMS_VTD_REG_RTADDR, 8, ims_vtd_ctxb_rtaddr(&cb)), IMS_VTD_MMIO_OK);
        gcmd(1u << 30);  // SRTP
        gcmd(1u << 31);  // TE
        EXPECT_TRUE(ims_vtd_regfile_te(regs));
    }
    ims_vtd_hw hw()
    {
        ims_vtd_hw h;
        ims_vtd_regfile_hw(regs, mem, &h);
        return h;
    }

    // ---- tables --------------------------------------------------------------------
    ims_pt_builder new_ss(unsigned levels)
    {
        ims_pt_builder b{};
        EXPECT_EQ(ims_pt_builder_init(&b, mem, &host, IMS_PT_FORMAT_SS, levels, 0, &err), 0) << err.msg;
        return b;
    }
    ims_pt_builder new_fs(unsigned levels)
    {
        ims_pt_builder b{};
        EXPECT_EQ(ims_pt_builder_init(&b, mem, &host, IMS_PT_FORMAT_FS, levels, 0, &err), 0) << err.msg;
        return b;
    }
    // Guest FS tables for nested: named by GPA, stored at kGuestBase + GPA.
    ims_pt_builder new_guest_fs(unsigned levels)
    {
        ims_pt_builder b{};
        EXPECT_EQ(ims_pt_builder_init(&b, mem, &guest, IMS_PT_FORMAT_FS, levels, kGuestBase, &err), 0) << err.msg;
        return b;
    }
    void map(ims_pt_builder &b, uint64_t iova, uint64_t pa, uint64_t size, uint64_t page, unsigned perm)
    {
        EXPECT_EQ(ims_pt_map(&b, iova, pa, size, page, perm, &err), 0) << err.msg;
    }
    // SS for a nested guest: GPA [0, ram) -> HPA kGuestBase + GPA, with `page`-sized pages.
    void map_guest_ram(ims_pt_builder &ss, uint64_t ram, uint64_t page)
    {
        map(ss, 0, kGuestBase, ram, page, IMS_PT_RW);
    }

    // ---- contexts ------------------------------------------------------------------
    static unsigned aw_of(unsigned levels) { return levels - 2; }
    void legacy_device(uint16_t sid, uint16_t did, const ims_pt_builder &ss, unsigned tt = IMS_VTD_TT_SS)
    {
        ims_vtd_legacy_ctx_cfg c{};
        c.tt = tt;
        c.aw = aw_of(ss.levels ? ss.levels : 4);
        c.ssptptr = ss.root;
        c.did = did;
        EXPECT_EQ(ims_vtd_ctxb_set_legacy_ctx(&cb, sid, &c, &err), 0) << err.msg;
    }
    void sm_device(uint16_t sid, uint32_t rid_pasid = 0, bool dte = false, bool paside = true)
    {
        ims_vtd_sm_ctx_cfg c{};
        c.pdts = 1;
        c.paside = paside;
        c.dte = dte;
        c.rid_pasid = rid_pasid;
        EXPECT_EQ(ims_vtd_ctxb_set_sm_ctx(&cb, sid, &c, &err), 0) << err.msg;
    }
    void sm_pasid(uint16_t sid, uint32_t pasid, const ims_vtd_pasid_cfg &pc)
    {
        EXPECT_EQ(ims_vtd_ctxb_set_pasid(&cb, sid, pasid, &pc, &err), 0) << err.msg;
    }
    void sm_pasid_ss(uint16_t sid, uint32_t pasid, uint16_t did, const ims_pt_builder &ss, bool ssade = false)
    {
        ims_vtd_pasid_cfg pc{};
        pc.pgtt = IMS_VTD_PGTT_SS;
        pc.did = did;
        pc.aw = aw_of(ss.levels);
        pc.ssptptr = ss.root;
        pc.ssade = ssade;
        sm_pasid(sid, pasid, pc);
    }
    void sm_pasid_fs(uint16_t sid, uint32_t pasid, uint16_t did, const ims_pt_builder &fs, bool sre = false)
    {
        ims_vtd_pasid_cfg pc{};
        pc.pgtt = IMS_VTD_PGTT_FS;
        pc.did = did;
        pc.fspm = fs.levels == 5 ? IMS_VTD_FSPM_5LEVEL : IMS_VTD_FSPM_4LEVEL;
        pc.fsptptr = fs.root;
        pc.sre = sre;
        sm_pasid(sid, pasid, pc);
    }
    void sm_pasid_nested(uint16_t sid, uint32_t pasid, uint16_t did, const ims_pt_builder &fs,
                         const ims_pt_builder &ss, bool ssade = false, bool sre = false)
    {
        ims_vtd_pasid_cfg pc{};
        pc.pgtt = IMS_VTD_PGTT_NESTED;
        pc.did = did;
        pc.aw = aw_of(ss.levels);
        pc.ssptptr = ss.root;
        pc.ssade = ssade;
        pc.fspm = fs.levels == 5 ? IMS_VTD_FSPM_5LEVEL : IMS_VTD_FSPM_4LEVEL;
        pc.fsptptr = fs.root;
        pc.sre = sre;
        sm_pasid(sid, pasid, pc);
    }

    // ---- requests --------------------------------------------------------------------
    static ims_vtd_req req(uint16_t sid, uint64_t addr, bool write = false, int pasid = -1)
    {
        ims_vtd_req r{};
        r.sid = sid;
        r.addr = addr;
        r.read = !write;
        r.write = write;
        r.has_pasid = pasid >= 0;
        r.pasid = pasid >= 0 ? (uint32_t)pasid : 0;
        r.type = IMS_VTD_REQ_UNTRANSLATED;
        return r;
    }
    static void on_done(ims_xlate_req *x)
    {
        Req *r = static_cast<Req *>(x->user);
        auto *self = static_cast<XlateSystem *>(r->owner_);
        EXPECT_FALSE(r->done) << "completed twice";
        r->done = true;
        r->order = self->completed++;
    }
    Req &submit(const ims_vtd_req &q)
    {
        reqs.emplace_back();
        Req &r = reqs.back();
        r.x.req = q;
        r.x.done = on_done;
        r.x.user = &r;
        r.owner_ = this;
        ims_xlate_submit(xlate, &r.x);
        return r;
    }
    // Run the engine until idle; returns the events run.
    uint64_t run() { return ims_engine_run(engine, IMS_CYCLE_MAX); }
    ims_cycle now() const { return ims_engine_now(engine); }
    // Submit one request, run to idle, return it.
    Req &translate(const ims_vtd_req &q)
    {
        Req &r = submit(q);
        run();
        EXPECT_TRUE(r.done);
        return r;
    }
    // The golden reference on current memory, without A/D updates.
    ims_vtd_result golden(const ims_vtd_req &q)
    {
        ims_vtd_hw h = hw();
        ims_vtd_result res;
        ims_vtd_translate(&h, &q, IMS_VTD_WALK_NO_AD, &res, nullptr);
        return res;
    }
    uint64_t counter(const char *name) const { return ims_stats_counter_total(stats, name); }
    ims_cycle cfg_cycles(const char *key) const { return ims_config_u64(cfg, key); }
    ims_cycle mem_cycles() const { return mt.read_cycles; }
};

}  // namespace ims_test

#endif
