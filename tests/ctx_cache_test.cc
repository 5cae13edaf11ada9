// Context cache (models/vtd/ctx_cache.h): SID tagging, FM function masks (vtd-facts §1.6), domain-selective
// in legacy and scalable mode (§4.2, §7.12 ⚠ decision), statistics, and a randomized comparison with an
// independent reference model.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <tuple>

#include "models/vtd/cache_config.h"
#include "models/vtd/ctx_cache.h"
#include "sim/stats.h"

namespace {

struct Ctxc {
    ims_ctxc *c = nullptr;
    explicit Ctxc(uint32_t entries = 256, uint32_t ways = 4, ims_stats *st = nullptr)
    {
        ims_sac_geom g{entries, ways, IMS_SAC_LRU};
        ims_error err{};
        EXPECT_EQ(ims_ctxc_create(&g, nullptr, st, &c, &err), 0) << err.msg;
    }
    ~Ctxc() { ims_ctxc_destroy(c); }
};

ims_ctxc_entry C(uint16_t sid, bool scalable, uint16_t did)
{
    ims_ctxc_entry e{};
    e.sid = sid;
    e.ctx.scalable = scalable;
    e.ctx.did = scalable ? 0 : did;
    e.ctx.pgtt = IMS_VTD_PGTT_SS;
    e.ctx.ssptptr = 0x100000ull * (sid + 1);
    e.ctx.ss_levels = 4;
    e.pasid_dir = scalable ? 0x200000ull * (sid + 1) : 0;
    return e;
}

bool has(ims_ctxc *c, uint16_t sid) { return ims_ctxc_peek(c, sid) != nullptr; }

TEST(CtxCache, LookupBySid)
{
    ims_stats *st = ims_stats_create(1000000000);
    {
        Ctxc c(256, 4, st);
        ims_ctxc_entry e = C(0x0310, false, 7);
        EXPECT_EQ(ims_ctxc_insert(c.c, &e), IMS_SAC_FILLED);
        const ims_ctxc_entry *h = ims_ctxc_lookup(c.c, 0x0310);
        ASSERT_NE(h, nullptr);
        EXPECT_EQ(h->ctx.did, 7u);
        EXPECT_EQ(h->ctx.ssptptr, 0x100000ull * 0x311);
        EXPECT_EQ(ims_ctxc_lookup(c.c, 0x0311), nullptr);
        e.ctx.did = 8;
        EXPECT_EQ(ims_ctxc_insert(c.c, &e), IMS_SAC_REPLACED);
        EXPECT_EQ(ims_ctxc_lookup(c.c, 0x0310)->ctx.did, 8u);
    }
    EXPECT_EQ(ims_stats_counter_total(st, "ctxc.lookups"), 3u);
    EXPECT_EQ(ims_stats_counter_total(st, "ctxc.hits"), 2u);
    EXPECT_EQ(ims_stats_counter_total(st, "ctxc.misses"), 1u);
    EXPECT_EQ(ims_stats_counter_total(st, "ctxc.inserts"), 2u);
    ims_stats_destroy(st);
}

TEST(CtxCache, DeviceSelectiveFunctionMask)
{
    // vtd-facts §1.6: FM 0 masks nothing, 1 masks SID bit 2, 2 bits 2:1, 3 bits 2:0.
    EXPECT_EQ(ims_ctxc_fm_mask(0), 0x0u);
    EXPECT_EQ(ims_ctxc_fm_mask(1), 0x4u);
    EXPECT_EQ(ims_ctxc_fm_mask(2), 0x6u);
    EXPECT_EQ(ims_ctxc_fm_mask(3), 0x7u);
    const uint16_t base = 0x0520; // bus 5, devfn 0x20..0x2f
    for (unsigned fm = 0; fm < 4; fm++) {
        Ctxc c;
        for (uint16_t f = 0; f < 16; f++) {
            ims_ctxc_entry e = C((uint16_t)(base + f), false, 1);
            ims_ctxc_insert(c.c, &e);
        }
        const uint16_t sid = base + 5; // function 5 = 0b101
        size_t n = ims_ctxc_inv_device(c.c, sid, fm);
        EXPECT_EQ(n, 1u << (fm == 0 ? 0 : fm)) << "fm " << fm;
        for (uint16_t f = 0; f < 16; f++) {
            uint16_t s = (uint16_t)(base + f);
            bool gone = ((s ^ sid) & ~ims_ctxc_fm_mask(fm) & 0xFFFF) == 0;
            EXPECT_EQ(has(c.c, s), !gone) << "fm " << fm << " sid " << std::hex << s;
        }
    }
    // FM=1: functions 1 and 5 (bit 2 ignored); 0x0521, 0x0525.
    Ctxc c;
    for (uint16_t f = 0; f < 8; f++) {
        ims_ctxc_entry e = C((uint16_t)(base + f), false, 1);
        ims_ctxc_insert(c.c, &e);
    }
    EXPECT_EQ(ims_ctxc_inv_device(c.c, 0x0525, 1), 2u);
    EXPECT_FALSE(has(c.c, 0x0521));
    EXPECT_FALSE(has(c.c, 0x0525));
    EXPECT_TRUE(has(c.c, 0x0523));
}

TEST(CtxCache, DomainSelective)
{
    // vtd-facts §4.2/§5.1: legacy entries match on DID. Scalable-mode context entries carry no DID and
    // hardware ignores DID there (§7.12 ⚠): decision: every scalable-mode entry is removed.
    Ctxc c;
    ims_ctxc_entry a = C(0x0100, false, 1), b = C(0x0101, false, 2), s1 = C(0x0200, true, 0),
                   s2 = C(0x0201, true, 0);
    for (auto *e : {&a, &b, &s1, &s2})
        ims_ctxc_insert(c.c, e);
    EXPECT_EQ(ims_ctxc_inv_domain(c.c, 1), 3u);
    EXPECT_FALSE(has(c.c, 0x0100));
    EXPECT_TRUE(has(c.c, 0x0101));
    EXPECT_FALSE(has(c.c, 0x0200));
    EXPECT_FALSE(has(c.c, 0x0201));
    EXPECT_EQ(ims_ctxc_inv_global(c.c), 1u);
    EXPECT_EQ(ims_ctxc_count(c.c), 0u);
}

TEST(CtxCache, CreateFromConfig)
{
    ims_error err{};
    const ims_cfg_key *tables[] = {ims_vtd_cache_cfg_keys};
    ims_config *cfg = ims_config_create(tables, 1, &err);
    ASSERT_NE(cfg, nullptr) << err.msg;
    ims_ctxc *c = nullptr;
    ASSERT_EQ(ims_config_set(cfg, "ctxc.entries", "8", "--set", &err), 0);
    ASSERT_EQ(ims_config_set(cfg, "ctxc.ways", "8", "--set", &err), 0);
    ASSERT_EQ(ims_config_set(cfg, "ctxc.policy", "rr", "--set", &err), 0);
    ASSERT_EQ(ims_ctxc_create_cfg(cfg, nullptr, nullptr, &c, &err), 0) << err.msg;
    EXPECT_EQ(ims_sac_sets(ims_ctxc_cache(c)), 1u);
    // Round-robin over 8 ways: the 9th device evicts the first.
    for (uint16_t s = 0; s < 9; s++) {
        ims_ctxc_entry e = C(s, true, 0);
        EXPECT_EQ(ims_ctxc_insert(c, &e), s < 8 ? IMS_SAC_FILLED : IMS_SAC_EVICTED);
    }
    EXPECT_EQ(ims_ctxc_peek(c, 0), nullptr);
    ims_ctxc_destroy(c);
    ims_config_destroy(cfg);
}

void snap_fn(const ims_ctxc_entry *e, void *arg)
{
    ((std::set<std::tuple<uint16_t, bool, uint16_t>> *)arg)->insert({e->sid, e->ctx.scalable, e->ctx.did});
}

TEST(CtxCache, RandomizedInvalidationsMatchReference)
{
    ims_rng rng;
    ims_rng_seed(&rng, 5);
    auto rnd = [&](uint64_t n) { return ims_rng_below(&rng, n); };
    Ctxc c(16, 2);
    std::map<uint16_t, std::tuple<bool, uint16_t>> ref; // SID -> (scalable, DID)
    size_t evictions = 0, removed = 0;
    for (int step = 0; step < 5000; step++) {
        uint16_t sid = (uint16_t)((rnd(3) << 8) | rnd(24));
        if (rnd(100) < 60) {
            bool sm = rnd(2);
            uint16_t did = sm ? 0 : (uint16_t)(1 + rnd(3));
            ims_ctxc_entry e = C(sid, sm, did);
            bool existed = ref.count(sid) != 0;
            ref[sid] = {sm, did};
            int what = ims_ctxc_insert(c.c, &e);
            if (existed) {
                ASSERT_EQ(what, IMS_SAC_REPLACED);
            } else if (what == IMS_SAC_EVICTED) {
                int gone = 0;
                for (auto it = ref.begin(); it != ref.end();)
                    if (!has(c.c, it->first)) {
                        it = ref.erase(it);
                        gone++;
                    } else {
                        ++it;
                    }
                ASSERT_EQ(gone, 1);
                evictions++;
            }
            continue;
        }
        size_t got = 0, want = 0;
        auto drop = [&](auto f) {
            size_t n = 0;
            for (auto it = ref.begin(); it != ref.end();)
                if (f(it->first, it->second)) {
                    it = ref.erase(it);
                    n++;
                } else {
                    ++it;
                }
            return n;
        };
        unsigned kind = (unsigned)rnd(10);
        if (kind == 0) {
            got = ims_ctxc_inv_global(c.c);
            want = drop([](uint16_t, std::tuple<bool, uint16_t>) { return true; });
        } else if (kind < 4) {
            uint16_t did = (uint16_t)(1 + rnd(3));
            got = ims_ctxc_inv_domain(c.c, did);
            want = drop([&](uint16_t, std::tuple<bool, uint16_t> v) {
                return std::get<0>(v) || std::get<1>(v) == did;
            });
        } else {
            unsigned fm = (unsigned)rnd(4);
            unsigned ignore = fm == 0 ? 0 : fm == 1 ? 4 : fm == 2 ? 6 : 7; // §1.6, written out again
            got = ims_ctxc_inv_device(c.c, sid, fm);
            want = drop([&](uint16_t s, std::tuple<bool, uint16_t>) {
                return (s & ~ignore & 0xFFFF) == (sid & ~ignore & 0xFFFF);
            });
        }
        ASSERT_EQ(got, want) << "step " << step;
        removed += got;
        std::set<std::tuple<uint16_t, bool, uint16_t>> have, exp;
        ims_ctxc_foreach(c.c, snap_fn, &have);
        for (auto &[s, v] : ref)
            exp.insert({s, std::get<0>(v), std::get<1>(v)});
        ASSERT_EQ(have, exp) << "step " << step;
    }
    EXPECT_GT(evictions, 50u);
    EXPECT_GT(removed, 200u);
}

} // namespace
