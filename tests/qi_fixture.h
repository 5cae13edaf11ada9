// Test system for the queued-invalidation engine (models/vtd/qi.h): engine at 1 GHz (1 cycle = 1 ns),
// physical memory, register file wired to the engine, small translation caches, a fake ATS port, and
// helpers that play the software side (write descriptors at the tail, ring IQT, clear errors).
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "models/mem/mem_timing.h"
#include "models/mem/physmem.h"
#include "models/vtd/inv_desc.h"
#include "models/vtd/qi.h"
#include "models/vtd/regfile.h"
#include "models/vtd/regs.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "sim/rng.h"
#include "sim/stats.h"

namespace qitest {

constexpr uint64_t kIqBase = 0x200000;
constexpr uint64_t kStatus = 0x300000;
constexpr uint64_t kMemRead = 197; // cycles = ns at 1 GHz (mem.latency_ns default, calibration.md)

// An endpoint stand-in: records every Invalidate Request and, if told to, answers after `delay`.
struct FakeAts {
    ims_engine *e = nullptr;
    ims_qi *qi = nullptr;
    bool answer = true;
    ims_cycle delay = 1000;
    unsigned cc = 1;                // completion count sent with each answer
    unsigned copies = 1;            // completions sent per request (multi-function devices: cc of them)
    std::set<uint16_t> absent;      // SIDs without an endpoint (send_inv returns false)
    std::map<uint16_t, ims_cycle> delay_of; // per-SID answer delay (else `delay`)
    struct Msg {
        ims_ats_inv_msg m;
        ims_cycle t;
    };
    std::vector<Msg> msgs;
    std::vector<ims_cycle> answered;

    static bool send(void *ctx, const ims_ats_inv_msg *m)
    {
        auto *a = static_cast<FakeAts *>(ctx);
        if (a->absent.count(m->sid))
            return false;
        a->msgs.push_back({*m, ims_engine_now(a->e)});
        ims_cycle d = a->delay_of.count(m->sid) ? a->delay_of[m->sid] : a->delay;
        if (a->answer) // copy i arrives after (i+1) delays
            for (unsigned i = 0; i < a->copies; i++)
                ims_engine_schedule(a->e, d * (i + 1), reply, a, ((uint64_t)m->sid << 8) | m->itag);
        return true;
    }
    static void reply(void *ctx, uint64_t arg)
    {
        auto *a = static_cast<FakeAts *>(ctx);
        a->answered.push_back(ims_engine_now(a->e));
        ims_qi_ats_completion(a->qi, (uint16_t)(arg >> 8), UINT32_C(1) << (arg & 31), a->cc);
    }
};

struct Opts {
    bool dw256 = true;
    unsigned qs = 0;
    unsigned ttm = IMS_VTD_TTM_SCALABLE;
    uint64_t cap = IMS_VTD_DEFAULT_CAP;
    uint64_t ecap = IMS_VTD_DEFAULT_ECAP;
    uint32_t ver = 0x60; /* register-based invalidation needs major version <= 5 (spec 5.10 §6.5) */
    std::vector<std::string> sets;  // "qi.cost.iotlb=10ns"
    bool qi_enable = true;
    // Fluent setters (designated initializers would trip -Wmissing-field-initializers).
    Opts &dw(bool v) { dw256 = v; return *this; }
    Opts &size(unsigned v) { qs = v; return *this; }
    Opts &mode(unsigned v) { ttm = v; return *this; }
    Opts &set(const char *kv) { sets.emplace_back(kv); return *this; }
    Opts &qi_off() { qi_enable = false; return *this; }
    Opts &version(uint32_t v) { ver = v; return *this; }
    // A legacy part: 128-bit descriptors, legacy mode, VER 1.0 (register-based invalidation available).
    Opts &legacy128() { return dw(false).mode(IMS_VTD_TTM_LEGACY).version(0x10); }
};

struct QiSys {
    Opts o;
    ims_engine *e = nullptr;
    ims_physmem *mem = nullptr;
    ims_config *cfg = nullptr;
    ims_stats *st = nullptr;
    ims_rng rng{};
    ims_vtd_regfile *rf = nullptr;
    ims_vtd_caches c{};
    ims_mem_timing mt{};
    ims_qi *qi = nullptr;
    FakeAts ats;
    uint64_t tail = 0;  // software's tail, bytes
    unsigned db = 32;
    ims_error err{};

    static void on_doorbell(void *ctx, uint64_t iqt) { ims_qi_doorbell(static_cast<QiSys *>(ctx)->qi, iqt); }
    static void on_ccmd(void *ctx, uint64_t v) { ims_qi_reg_ccmd(static_cast<QiSys *>(ctx)->qi, v); }
    static void on_iotlb(void *ctx, uint64_t iva, uint64_t v)
    {
        ims_qi_reg_iotlb(static_cast<QiSys *>(ctx)->qi, iva, v);
    }

    explicit QiSys(Opts opts = {}) : o(std::move(opts))
    {
        e = ims_engine_create(1000000000ull);
        mem = ims_physmem_create();
        st = ims_stats_create(1000000000ull);
        const ims_cfg_key *tables[] = {ims_qi_cfg_keys};
        cfg = ims_config_create(tables, 1, &err);
        EXPECT_NE(cfg, nullptr) << err.msg;
        for (const auto &s : o.sets)
            EXPECT_EQ(ims_config_set_arg(cfg, s.c_str(), &err), 0) << err.msg;
        ims_rng_seed(&rng, 1);
        ims_vtd_reg_hooks h{};
        h.ctx = this;
        h.on_doorbell = on_doorbell;
        h.on_ccmd = on_ccmd;
        h.on_iotlb_reg = on_iotlb;
        EXPECT_EQ(ims_vtd_regfile_create(o.cap, o.ecap, o.ver, &h, &rf, &err), 0) << err.msg;
        ims_sac_geom g{16, 4, IMS_SAC_LRU};
        EXPECT_EQ(ims_ctxc_create(&g, &rng, nullptr, &c.ctxc, &err), 0);
        EXPECT_EQ(ims_pasidc_create(&g, &rng, nullptr, &c.pasidc, &err), 0);
        ims_iotlb_params ip{};
        ip.geom = {64, 4, IMS_SAC_LRU};
        ip.rng = &rng;
        EXPECT_EQ(ims_iotlb_create(&ip, &c.iotlb, &err), 0);
        ims_psc_params pp{};
        for (auto &stage : pp.geom)
            for (auto &lv : stage)
                lv = g;
        pp.rng = &rng;
        EXPECT_EQ(ims_psc_create(&pp, &c.psc, &err), 0);
        mt.read_cycles = kMemRead;
        mt.rng = &rng;
        ats.e = e;
        ims_qi_params p{};
        p.engine = e;
        p.mem = mem;
        p.mem_timing = &mt;
        p.regs = rf;
        p.caches = &c;
        p.xlate = nullptr;
        p.ats = {FakeAts::send, &ats};
        p.cfg = cfg;
        p.stats = st;
        EXPECT_EQ(ims_qi_create(&p, &qi, &err), 0) << err.msg;
        ats.qi = qi;
        db = o.dw256 ? 32 : 16;
        // Software setup: queue, root pointer (mode), then enable QI (VT-d 5.10 §6.5.2).
        mmio64(IMS_VTD_REG_IQA, kIqBase | ((uint64_t)o.dw256 << 11) | o.qs);
        mmio64(IMS_VTD_REG_RTADDR, 0x1000 | ((uint64_t)o.ttm << 10));
        gcmd(IMS_VTD_PUT(IMS_VTD_GCMD_SRTP, 1));
        if (o.qi_enable)
            gcmd(IMS_VTD_PUT(IMS_VTD_GCMD_QIE, 1));
    }
    ~QiSys()
    {
        ims_qi_destroy(qi);
        ims_psc_destroy(c.psc);
        ims_iotlb_destroy(c.iotlb);
        ims_pasidc_destroy(c.pasidc);
        ims_ctxc_destroy(c.ctxc);
        ims_vtd_regfile_destroy(rf);
        ims_stats_destroy(st);
        ims_config_destroy(cfg);
        ims_physmem_destroy(mem);
        ims_engine_destroy(e);
    }

    // ---- registers ----
    void mmio64(uint64_t off, uint64_t v) { ASSERT_GE(ims_vtd_mmio_write(rf, off, 8, v), 0); }
    void mmio32(uint64_t off, uint32_t v) { ASSERT_GE(ims_vtd_mmio_write(rf, off, 4, v), 0); }
    uint64_t rd(uint64_t off, unsigned size = 8)
    {
        uint64_t v = 0;
        ims_vtd_mmio_read(rf, off, size, &v);
        return v;
    }
    // One GCMD command on top of the enables already on (a GCMD write carries every enable bit).
    void gcmd(uint64_t cmd)
    {
        uint32_t enables = (uint32_t)(IMS_VTD_MASK(IMS_VTD_GCMD_TE) | IMS_VTD_MASK(IMS_VTD_GCMD_EAFL) |
                                      IMS_VTD_MASK(IMS_VTD_GCMD_QIE) | IMS_VTD_MASK(IMS_VTD_GCMD_IRE) |
                                      IMS_VTD_MASK(IMS_VTD_GCMD_CFI));
        mmio32(IMS_VTD_REG_GCMD, ((uint32_t)rd(IMS_VTD_REG_GSTS, 4) & enables) | (uint32_t)cmd);
    }
    uint64_t iqh() { return rd(IMS_VTD_REG_IQH); }
    uint32_t fsts() { return (uint32_t)rd(IMS_VTD_REG_FSTS, 4); }
    uint64_t iqercd() { return rd(IMS_VTD_REG_IQERCD); }
    void clear_fsts(uint64_t field_mask) { mmio32(IMS_VTD_REG_FSTS, (uint32_t)field_mask); }

    // ---- software side of the queue ----
    uint64_t qbytes() const { return UINT64_C(4096) << o.qs; }
    void put_at(uint64_t off, const uint64_t qw[4])
    {
        for (unsigned w = 0; w < db / 8; w++)
            ims_physmem_w64(mem, kIqBase + off + 8 * w, qw[w]);
    }
    uint64_t put(const uint64_t qw[4])
    {
        uint64_t at = tail;
        put_at(at, qw);
        tail = (tail + db) % qbytes();
        return at;
    }
    void ring() { mmio64(IMS_VTD_REG_IQT, tail); }
    uint64_t submit(const uint64_t qw[4])
    {
        uint64_t at = put(qw);
        ring();
        return at;
    }
    static void wait_desc(uint64_t qw[4], uint32_t data, uint64_t addr = kStatus, bool fn = false, bool iflag = false)
    {
        ims_qi_build_wait(qw, true, iflag, fn, false, data, addr);
    }
    uint64_t put_wait(uint32_t data, uint64_t addr = kStatus, bool fn = false)
    {
        uint64_t qw[4];
        wait_desc(qw, data, addr, fn);
        return put(qw);
    }
    uint32_t status(uint64_t addr = kStatus) { return ims_physmem_r32(mem, addr); }

    // ---- time ----
    void run() { ims_engine_run(e, IMS_CYCLE_MAX); }
    void run_until(ims_cycle t) { ims_engine_run(e, t); }
    ims_cycle now() const { return ims_engine_now(e); }
    uint64_t count(const char *name) const { return ims_stats_counter_total(st, name); }
};

} // namespace qitest
