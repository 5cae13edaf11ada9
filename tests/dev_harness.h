// Test harness for endpoint devices (models/dev/device.h): a fake IOMMU that
// answers from a table of mappings after fixed per-request-type delays, and a
// world (engine, config, stats, memory timing, device) around it.
#ifndef IMS_TESTS_DEV_HARNESS_H
#define IMS_TESTS_DEV_HARNESS_H

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "models/dev/device.h"
#include "models/dev/devtlb.h"
#include "models/vtd/fault_reason.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "sim/rng.h"
#include "sim/stats.h"

namespace devtest {

// Clock of every test world: 1 GHz, so 1 cycle = 1 ns.
constexpr uint64_t kClockHz = 1000000000;

struct FakeIommu {
    struct Map {
        uint64_t iova, size, hpa;
        bool r, w, x;
        bool has_pasid;
        uint32_t pasid;
    };
    struct Req {
        ims_vtd_req_type type;
        uint64_t addr;
        bool has_pasid;
        uint32_t pasid;
        bool write;
        ims_cycle t;
    };
    struct Cpl {
        uint16_t sid;
        uint32_t vec;
        unsigned cc;
        ims_cycle t;
    };

    ims_engine *e = nullptr;
    ims_cycle delay[3] = {40, 30, 10}; // UNTRANSLATED, TRANSLATION, TRANSLATED
    uint8_t translated_fault = 0;       // answer for TRANSLATED requests (e.g. SCT.5 when DTE=0)
    std::vector<Map> maps;
    std::vector<Req> reqs;
    std::vector<Cpl> cpls;

    void map(uint64_t iova, uint64_t hpa, uint64_t size = 4096, bool r = true, bool w = true, bool has_pasid = false,
             uint32_t pasid = 0)
    {
        maps.push_back({iova, size, hpa, r, w, false, has_pasid, pasid});
    }
    const Map *find(const ims_vtd_req &q) const
    {
        for (const Map &m : maps)
            if (q.addr >= m.iova && q.addr - m.iova < m.size && m.has_pasid == q.has_pasid &&
                (!q.has_pasid || m.pasid == q.pasid))
                return &m;
        return nullptr;
    }
    size_t count(ims_vtd_req_type t) const
    {
        size_t n = 0;
        for (const Req &r : reqs)
            n += r.type == t;
        return n;
    }

    static void finish(void *, uint64_t arg)
    {
        auto *r = reinterpret_cast<ims_xlate_req *>(arg);
        r->done(r);
    }
    static void translate(void *ctx, ims_xlate_req *r)
    {
        auto *f = static_cast<FakeIommu *>(ctx);
        const ims_vtd_req &q = r->req;
        f->reqs.push_back({q.type, q.addr, q.has_pasid, q.pasid, q.write, ims_engine_now(f->e)});
        ims_vtd_result &res = r->res;
        res = ims_vtd_result{};
        const Map *m = f->find(q);
        switch (q.type) {
        case IMS_VTD_REQ_TRANSLATED:
            res.fault = f->translated_fault;
            res.pa = q.addr;
            res.page_size = 4096;
            break;
        case IMS_VTD_REQ_TRANSLATION:
            if (m) {
                res.pa = m->hpa + (q.addr - m->iova);
                res.page_size = m->size;
                res.r = m->r;
                res.w = m->w;
                res.x = m->x;
            }
            break;
        case IMS_VTD_REQ_UNTRANSLATED:
            if (!m || (q.write ? !m->w : !m->r)) {
                res.fault = q.write ? IMS_VTD_FR_LGN_2 : IMS_VTD_FR_LGN_3;
            } else {
                res.pa = m->hpa + (q.addr - m->iova);
                res.page_size = m->size;
                res.r = m->r;
                res.w = m->w;
            }
            break;
        }
        r->t_submit = ims_engine_now(f->e);
        r->t_done = r->t_submit + f->delay[q.type];
        ims_engine_schedule(f->e, f->delay[q.type], finish, f, reinterpret_cast<uintptr_t>(r));
    }
    static void ats_completion(void *ctx, uint16_t sid, uint32_t vec, unsigned cc)
    {
        auto *f = static_cast<FakeIommu *>(ctx);
        f->cpls.push_back({sid, vec, cc, ims_engine_now(f->e)});
    }
};

struct World {
    ims_engine *e = ims_engine_create(kClockHz);
    ims_stats *st = ims_stats_create(kClockHz);
    ims_config *cfg = nullptr;
    ims_mem_timing mt{};
    ims_rng rng{};
    FakeIommu iommu;
    ims_dev *dev = nullptr;
    std::deque<ims_dma> dmas; // stable addresses
    std::vector<std::pair<uint64_t, ims_vtd_result>> pieces; // on_piece: (iova, used)
    unsigned done = 0;

    // Test values (1 cycle = 1 ns): link 100 ns each way, 32 Gbit/s (4 KiB in
    // 1024 ns), DMA memory latency 65 ns, invalidation processing 300 ns.
    World()
    {
        const ims_cfg_key *tables[] = {ims_dev_cfg_keys};
        ims_error err{};
        cfg = ims_config_create(tables, 1, &err);
        EXPECT_NE(cfg, nullptr) << err.msg;
        set("pcie.latency_ns", "100ns");
        set("pcie.bandwidth_gbps", "32");
        set("dev.ats_inv_ns", "300ns");
        mt.dma_cycles = ims_engine_ns_to_cycles(e, 65);
        ims_rng_seed(&rng, 7);
        iommu.e = e;
    }
    ~World()
    {
        ims_dev_destroy(dev);
        ims_config_destroy(cfg);
        ims_stats_destroy(st);
        ims_engine_destroy(e);
    }
    void set(const char *k, const char *v)
    {
        ims_error err{};
        ASSERT_EQ(ims_config_set(cfg, k, v, "test", &err), 0) << err.msg;
    }
    int make(bool ats, unsigned outstanding = 0, uint16_t sid = 0x0100)
    {
        ims_dev_params p{};
        p.engine = e;
        p.mem_timing = &mt;
        p.cfg = cfg;
        p.stats = st;
        p.rng = &rng;
        p.iommu = {FakeIommu::translate, FakeIommu::ats_completion, &iommu};
        p.sid = sid;
        p.ats = ats;
        p.pasid_bits = 20;
        p.outstanding = outstanding;
        ims_error err{};
        int rc = ims_dev_create(&p, &dev, &err);
        EXPECT_EQ(rc, 0) << err.msg;
        return rc;
    }
    // Cycles from the configured values, as the device must compute them.
    ims_cycle link() const { return ims_engine_ps_to_cycles(e, ims_config_time_ps(cfg, "pcie.latency_ns")); }
    ims_cycle inv() const { return ims_engine_ps_to_cycles(e, ims_config_time_ps(cfg, "dev.ats_inv_ns")); }
    ims_cycle xfer(uint64_t bytes) const
    {
        double gbps = ims_config_double(cfg, "pcie.bandwidth_gbps");
        return ims_engine_ps_to_cycles(e, (uint64_t)std::ceil((double)bytes * 8000.0 / gbps));
    }

    static void on_done(ims_dma *d) { static_cast<World *>(d->user)->done++; }
    static void on_piece(ims_dma *d, uint64_t iova, const ims_vtd_result *used)
    {
        static_cast<World *>(d->user)->pieces.emplace_back(iova, *used);
    }
    ims_dma *dma(uint64_t iova, uint64_t len, bool write = false, bool has_pasid = false, uint32_t pasid = 0)
    {
        dmas.emplace_back();
        ims_dma *d = &dmas.back();
        *d = ims_dma{};
        d->iova = iova;
        d->len = len;
        d->write = write;
        d->has_pasid = has_pasid;
        d->pasid = pasid;
        d->done = on_done;
        d->on_piece = on_piece;
        d->user = this;
        ims_dev_dma(dev, d);
        return d;
    }
    // Start a DMA at an absolute cycle.
    struct Later {
        World *w;
        uint64_t iova, len;
        bool write;
        ims_dma *out;
    };
    std::deque<Later> later;
    static void start_later(void *ctx, uint64_t)
    {
        auto *l = static_cast<Later *>(ctx);
        l->out = l->w->dma(l->iova, l->len, l->write);
    }
    Later *dma_at(ims_cycle t, uint64_t iova, uint64_t len, bool write = false)
    {
        later.push_back({this, iova, len, write, nullptr});
        ims_engine_schedule_at(e, t, start_later, &later.back(), 0);
        return &later.back();
    }
    ims_ats_inv_msg inv_msg(uint64_t addr, bool s = false, uint8_t itag = 0, bool has_pasid = false,
                            uint32_t pasid = 0, bool global = false) const
    {
        ims_ats_inv_msg m{};
        m.sid = ims_dev_sid(dev);
        m.addr = addr;
        m.s = s;
        m.itag = itag;
        m.has_pasid = has_pasid;
        m.pasid = pasid;
        m.global = global;
        return m;
    }
    struct InvLater {
        World *w;
        ims_ats_inv_msg m;
    };
    std::deque<InvLater> inv_later;
    static void send_inv_later(void *ctx, uint64_t)
    {
        auto *l = static_cast<InvLater *>(ctx);
        ims_dev_ats_inv_request(l->w->dev, &l->m);
    }
    void inv_at(ims_cycle t, const ims_ats_inv_msg &m)
    {
        inv_later.push_back({this, m});
        ims_engine_schedule_at(e, t, send_inv_later, &inv_later.back(), 0);
    }
    void run() { ims_engine_run(e, IMS_CYCLE_MAX); }
    uint64_t counter(const char *name) const { return ims_stats_counter_total(st, name); }
};

} // namespace devtest

#endif
