// A simulated host for the VT-d host driver tests (models/iommufd/vtd_driver.h): engine (1 GHz by default,
// so 1 cycle = 1 ns), host memory, an assembled VT-d unit (models/vtd/unit.h) whose ATS port goes to a
// fake endpoint, and the driver brought up on it. Helpers call the driver ops and run the engine to
// completion, and read the driver's descriptor log.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <deque>
#include <set>
#include <string>
#include <vector>

#include "models/iommufd/uapi.h"
#include "models/iommufd/vtd_driver.h"
#include "models/mem/mem_timing.h"
#include "models/mem/pa_alloc.h"
#include "models/mem/physmem.h"
#include "models/vtd/cache_config.h"
#include "models/vtd/ctx_builder.h"
#include "models/vtd/entries.h"
#include "models/vtd/inv_desc.h"
#include "models/vtd/pt_builder.h"
#include "models/vtd/qi.h"
#include "models/vtd/regs.h"
#include "models/vtd/translate.h"
#include "models/vtd/unit.h"
#include "models/vtd/vtd_config.h"
#include "models/vtd/xlate.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "sim/rng.h"
#include "sim/stats.h"

namespace vtddrv {

using Desc = std::array<uint64_t, 4>;

constexpr uint64_t kHostTables = 0x1000'0000ULL;  // driver's host pages: [256 MiB, 512 MiB)
constexpr uint64_t kHostTablesEnd = 0x2000'0000ULL;
constexpr uint64_t kGuestBase = 1ULL << 40;       // HPA of guest-physical 0
constexpr uint64_t kGuestTables = 0x100'0000ULL;  // GPA of the guest's own page tables [16 MiB, 32 MiB)

// Endpoint stand-in on the unit's ATS port: records requests, answers after `delay` unless it drops them.
struct FakeAts {
    ims_engine *e = nullptr;
    ims_vtd_unit *u = nullptr;
    ims_cycle delay = 500;
    bool drop = false;
    unsigned drop_first = 0;  // drop this many requests, then answer
    std::vector<ims_ats_inv_msg> msgs;

    static bool send(void *ctx, const ims_ats_inv_msg *m)
    {
        auto *a = static_cast<FakeAts *>(ctx);
        a->msgs.push_back(*m);
        if (a->drop)
            return true;
        if (a->drop_first) {
            a->drop_first--;
            return true;
        }
        ims_engine_schedule(a->e, a->delay, reply, a, ((uint64_t)m->sid << 8) | m->itag);
        return true;
    }
    static void reply(void *ctx, uint64_t arg)
    {
        auto *a = static_cast<FakeAts *>(ctx);
        ims_qi_ats_completion(ims_vtd_unit_qi(a->u), (uint16_t)(arg >> 8), UINT32_C(1) << (arg & 31), 1);
    }
};

// Completion of a driver call.
struct Done {
    bool called = false;
    int status = 1;
    ims_cycle t = 0;
    ims_engine *e = nullptr;
    static void fn(void *ctx, int st)
    {
        auto *d = static_cast<Done *>(ctx);
        EXPECT_FALSE(d->called) << "done called twice";
        d->called = true;
        d->status = st;
        d->t = ims_engine_now(d->e);
    }
};

struct Opts {
    uint64_t cap = IMS_VTD_DEFAULT_CAP;
    uint64_t ecap = IMS_VTD_DEFAULT_ECAP;
    std::vector<std::string> sets;
    bool drv_cfg = true;  // false: the driver gets no config (table defaults)
    Opts &no_drv_cfg() { drv_cfg = false; return *this; }
    Opts &with_cap(uint64_t v) { cap = v; return *this; }
    Opts &with_ecap(uint64_t v) { ecap = v; return *this; }
    Opts &set(const char *kv) { sets.emplace_back(kv); return *this; }
};

class DrvSys {
  public:
    ims_error err{};
    ims_config *cfg = nullptr;
    ims_engine *e = nullptr;
    ims_stats *st = nullptr;
    ims_rng rng{};
    ims_physmem *mem = nullptr;
    ims_pa_alloc host{}, guest{};
    ims_mem_timing mt{};
    ims_vtd_unit *u = nullptr;
    ims_vtd_drv *drv = nullptr;
    ims_drv iface{};
    FakeAts ats;
    Done ready;
    int create_rc = 0;
    std::deque<Done> dones;

    explicit DrvSys(const Opts &o = Opts())
    {
        const ims_cfg_key *tables[] = {ims_sim_cfg_keys, ims_vtd_cfg_keys,   ims_vtd_cache_cfg_keys,
                                       ims_mem_cfg_keys, ims_xlate_cfg_keys, ims_qi_cfg_keys,
                                       ims_vtd_drv_cfg_keys};
        cfg = ims_config_create(tables, sizeof tables / sizeof tables[0], &err);
        EXPECT_NE(cfg, nullptr) << err.msg;
        for (const auto &s : o.sets)
            EXPECT_EQ(ims_config_set_arg(cfg, s.c_str(), &err), 0) << err.msg;
        uint64_t hz = ims_config_u64(cfg, "sim.clock_mhz") * 1000000ull;
        e = ims_engine_create(hz);
        st = ims_stats_create(hz);
        mem = ims_physmem_create();
        ims_rng_seed(&rng, 11);
        ims_mem_timing_init(&mt, cfg, e, &rng, st);
        ims_pa_alloc_init(&host, mem, kHostTables, kHostTablesEnd);
        ims_pa_alloc_init(&guest, mem, kGuestBase + kGuestTables, kGuestBase + 2 * kGuestTables);
        ats.e = e;
        ims_vtd_unit_params p{};
        p.engine = e;
        p.mem = mem;
        p.mem_timing = &mt;
        p.cfg = cfg;
        p.cap = o.cap;
        p.ecap = o.ecap;
        p.stats = st;
        p.rng = &rng;
        p.ats = {FakeAts::send, &ats};
        EXPECT_EQ(ims_vtd_unit_create(&p, &u, &err), 0) << err.msg;
        ats.u = u;
        ready.e = e;
        ims_vtd_drv_params dp{};
        dp.engine = e;
        dp.mem = mem;
        dp.alloc = &host;
        dp.unit = u;
        dp.cfg = o.drv_cfg ? cfg : nullptr;
        dp.stats = st;
        dp.ready = {Done::fn, &ready};
        create_rc = ims_vtd_drv_create(&dp, &drv, &err);
        if (create_rc == 0) {
            iface = ims_vtd_drv_iface(drv);
            run();
        }
    }
    ~DrvSys()
    {
        ims_vtd_drv_destroy(drv);
        ims_vtd_unit_destroy(u);
        ims_physmem_destroy(mem);
        ims_stats_destroy(st);
        ims_engine_destroy(e);
        ims_config_destroy(cfg);
    }
    DrvSys(const DrvSys &) = delete;
    DrvSys &operator=(const DrvSys &) = delete;

    const ims_drv_ops &ops() const { return *iface.ops; }
    void run() { ims_engine_run(e, IMS_CYCLE_MAX); }
    ims_cycle now() const { return ims_engine_now(e); }
    uint64_t rd(uint64_t off, unsigned size = 8)
    {
        uint64_t v = 0;
        ims_vtd_unit_mmio_read(u, off, size, &v);
        return v;
    }
    ims_cycle cycles(const char *key) { return ims_engine_ps_to_cycles(e, ims_config_time_ps(cfg, key)); }

    // ---- driver calls --------------------------------------------------------------------------
    Done &done_slot()
    {
        dones.emplace_back();
        dones.back().e = e;
        return dones.back();
    }
    ims_drv_done hook(Done &d) { return {Done::fn, &d}; }

    void add_dev(uint16_t sid, bool ats_on = false, unsigned pasid_bits = 0)
    {
        ims_vtd_drv_dev_params dp{};
        dp.sid = sid;
        dp.ats = ats_on;
        dp.ats_qdep = 32;
        dp.pasid_bits = pasid_bits;
        ASSERT_EQ(ims_vtd_drv_add_device(drv, &dp, &err), 0) << err.msg;
    }
    ims_drv_domain *paging(uint16_t sid, uint32_t flags)
    {
        ims_drv_domain *d = nullptr;
        EXPECT_EQ(ops().domain_alloc_paging(drv, sid, flags, &d), 0);
        return d;
    }
    ims_drv_domain *nested(uint16_t sid, ims_drv_domain *parent, uint64_t pgtbl, uint32_t aw = 48,
                           uint64_t flags = 0)
    {
        ims_iommu_hwpt_vtd_s1 s1{};
        s1.flags = flags;
        s1.pgtbl_addr = pgtbl;
        s1.addr_width = aw;
        ims_drv_domain *d = nullptr;
        EXPECT_EQ(ops().domain_alloc_nested(drv, sid, parent, 0, IMS_IOMMU_HWPT_DATA_VTD_S1, &s1, sizeof s1, &d), 0);
        return d;
    }
    // Call, run to idle, return the done status (or the call's error; done must not run then).
    template <class F> int sync(F call)
    {
        Done &d = done_slot();
        int rc = call(hook(d));
        run();
        if (rc) {
            EXPECT_FALSE(d.called) << "done after an error return";
            return rc;
        }
        EXPECT_TRUE(d.called);
        return d.status;
    }
    int map(ims_drv_domain *d, uint64_t iova, uint64_t pa, uint64_t len,
            unsigned prot = IMS_DRV_PROT_READ | IMS_DRV_PROT_WRITE)
    {
        return sync([&](ims_drv_done h) { return ops().map(drv, d, iova, pa, len, prot, h); });
    }
    int unmap(ims_drv_domain *d, uint64_t iova, uint64_t len)
    {
        return sync([&](ims_drv_done h) { return ops().unmap(drv, d, iova, len, h); });
    }
    int attach(ims_drv_domain *d, uint16_t sid, uint32_t pasid = IMS_DRV_NO_PASID)
    {
        return sync([&](ims_drv_done h) { return ops().attach(drv, d, sid, pasid, h); });
    }
    int detach(uint16_t sid, uint32_t pasid = IMS_DRV_NO_PASID)
    {
        return sync([&](ims_drv_done h) { return ops().detach(drv, sid, pasid, h); });
    }
    int invalidate(ims_drv_domain *d, const std::vector<ims_iommu_hwpt_vtd_s1_invalidate> &v, uint32_t *num,
                   uint32_t type = IMS_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
                   uint32_t len = sizeof(ims_iommu_hwpt_vtd_s1_invalidate))
    {
        *num = (uint32_t)v.size();
        return sync([&](ims_drv_done h) {
            return ops().cache_invalidate_user(drv, d, type, v.data(), len, num, h);
        });
    }
    int submit(const std::vector<Desc> &v)
    {
        return sync([&](ims_drv_done h) {
            return ims_vtd_drv_submit(drv, reinterpret_cast<const uint64_t(*)[4]>(v.data()), v.size(), h);
        });
    }

    // ---- DMA through the unit ------------------------------------------------------------------
    struct XReq {
        ims_xlate_req x{};
        bool done = false;
        static void fn(ims_xlate_req *r) { static_cast<XReq *>(r->user)->done = true; }
    };
    static ims_vtd_req req(uint16_t sid, uint64_t addr, bool write, int pasid = -1)
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
    // Untranslated request through the unit's pipeline, run to completion.
    ims_xlate_req translate(const ims_vtd_req &q)
    {
        XReq r;
        r.x.req = q;
        r.x.done = XReq::fn;
        r.x.user = &r;
        ims_vtd_unit_translate(u, &r.x);
        run();
        EXPECT_TRUE(r.done);
        return r.x;
    }
    // The golden functional walk on current memory (no A/D updates).
    ims_vtd_result golden(const ims_vtd_req &q)
    {
        ims_vtd_hw hw;
        ims_vtd_unit_hw(u, &hw);
        ims_vtd_result res;
        ims_vtd_translate(&hw, &q, IMS_VTD_WALK_NO_AD, &res, nullptr);
        return res;
    }

    // ---- descriptor log ---------------------------------------------------------------------------
    uint64_t mark() const { return ims_vtd_drv_log_total(drv); }
    std::vector<Desc> since(uint64_t m, std::vector<uint64_t> *batches = nullptr) const
    {
        std::vector<Desc> out;
        for (uint64_t s = m; s < ims_vtd_drv_log_total(drv); s++) {
            ims_vtd_drv_log_entry le;
            EXPECT_EQ(ims_vtd_drv_log_get(drv, s, &le), 0);
            out.push_back({le.qw[0], le.qw[1], le.qw[2], le.qw[3]});
            if (batches)
                batches->push_back(le.batch);
        }
        return out;
    }

    // ---- structures -------------------------------------------------------------------------------
    // The 8 qwords of the PASID-table entry of (sid, pasid), all zero when the table does not exist.
    std::array<uint64_t, 8> pasid_entry(uint16_t sid, uint32_t pasid)
    {
        std::array<uint64_t, 8> pe{};
        ims_vtd_ctx_builder cb{};
        cb.alloc = &host;
        cb.scalable = true;
        cb.root = ims_vtd_drv_root(drv);
        uint64_t pa = 0;
        if (ims_vtd_ctxb_pasid_entry_pa(&cb, sid, pasid, &pa, nullptr) == 0)
            for (unsigned i = 0; i < 8; i++)
                pe[i] = ims_physmem_r64(mem, pa + 8 * i);
        return pe;
    }
    std::array<uint64_t, 2> legacy_ctx(uint16_t sid)
    {
        std::array<uint64_t, 2> ce{};
        ims_vtd_ctx_builder cb{};
        cb.alloc = &host;
        cb.scalable = false;
        cb.root = ims_vtd_drv_root(drv);
        uint64_t pa = 0;
        if (ims_vtd_ctxb_ctx_entry_pa(&cb, sid, &pa, nullptr) == 0)
            for (unsigned i = 0; i < 2; i++)
                ce[i] = ims_physmem_r64(mem, pa + 8 * i);
        return ce;
    }
    // A read-only view of a paging domain's table (lookups only).
    ims_pt_builder view(const ims_drv_domain *d)
    {
        ims_pt_builder b{};
        b.mem = mem;
        b.format = ims_vtd_drv_domain_kind(d) == IMS_VTD_DRV_DOM_FS ? IMS_PT_FORMAT_FS : IMS_PT_FORMAT_SS;
        b.levels = ims_vtd_drv_domain_levels(d);
        b.root = ims_vtd_drv_domain_root(d);
        return b;
    }
};

// Descriptor builders returning a Desc (expected values in tests).
inline Desc iotlb_psi(uint16_t did, uint64_t addr, unsigned am, bool ih)
{
    Desc q{};
    ims_qi_build_iotlb_psi(q.data(), did, addr, am, ih, true, true);  // default CAP has DRD/DWD
    return q;
}
inline Desc iotlb_dsi(uint16_t did)
{
    Desc q{};
    ims_qi_build_iotlb_dsi(q.data(), did, true, true);
    return q;
}
inline Desc piotlb_page(uint16_t did, uint32_t pasid, uint64_t addr, unsigned am, bool ih)
{
    Desc q{};
    ims_qi_build_piotlb_page(q.data(), did, pasid, addr, am, ih);
    return q;
}
inline Desc piotlb_pasid(uint16_t did, uint32_t pasid)
{
    Desc q{};
    ims_qi_build_piotlb_pasid(q.data(), did, pasid);
    return q;
}
inline Desc pc_pasid(uint16_t did, uint32_t pasid)
{
    Desc q{};
    ims_qi_build_pc_pasid(q.data(), did, pasid);
    return q;
}
inline Desc dev_tlb(uint16_t sid, uint64_t addr, unsigned order)
{
    Desc q{};
    EXPECT_EQ(ims_qi_build_dev_tlb(q.data(), sid, 0, 0, addr, order), 0);
    return q;
}
inline Desc pdev_tlb(uint16_t sid, uint32_t pasid, uint64_t addr, unsigned order)
{
    Desc q{};
    EXPECT_EQ(ims_qi_build_pdev_tlb(q.data(), sid, 0, 0, pasid, false, addr, order), 0);
    return q;
}
inline Desc cc_device(uint16_t did, uint16_t sid)
{
    Desc q{};
    ims_qi_build_cc_device(q.data(), did, sid, 0);
    return q;
}

inline std::string show(const std::vector<Desc> &v)
{
    std::string s;
    for (const Desc &q : v) {
        ims_qi_desc d;
        char buf[160];
        if (ims_qi_decode(q.data(), true, IMS_VTD_DEFAULT_CAP, IMS_VTD_DEFAULT_ECAP, &d) == 0)
            ims_qi_desc_format(&d, buf, sizeof buf);
        else
            snprintf(buf, sizeof buf, "raw %#llx %#llx", (unsigned long long)q[0], (unsigned long long)q[1]);
        s += buf;
        s += "\n";
    }
    return s;
}

}  // namespace vtddrv
