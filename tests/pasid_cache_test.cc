// PASID cache (models/vtd/pasid_cache.h): (SID, PASID) tagging, the three type-7 granularities of
// vtd-facts §4.8, statistics, and a randomized comparison with an independent reference model.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <tuple>

#include "models/vtd/cache_config.h"
#include "models/vtd/pasid_cache.h"
#include "sim/stats.h"

namespace {

struct Pc {
    ims_pasidc *c = nullptr;
    explicit Pc(uint32_t entries = 256, uint32_t ways = 4, ims_stats *st = nullptr)
    {
        ims_sac_geom g{entries, ways, IMS_SAC_LRU};
        ims_error err{};
        EXPECT_EQ(ims_pasidc_create(&g, nullptr, st, &c, &err), 0) << err.msg;
    }
    ~Pc() { ims_pasidc_destroy(c); }
};

ims_pasidc_entry PE(uint16_t sid, uint32_t pasid, uint16_t did, ims_vtd_pgtt pgtt = IMS_VTD_PGTT_FS)
{
    ims_pasidc_entry e{};
    e.sid = sid;
    e.pasid = pasid;
    e.ctx.scalable = true;
    e.ctx.did = did;
    e.ctx.pasid = pasid;
    e.ctx.pgtt = pgtt;
    e.ctx.fsptptr = 0x1000ull * (pasid + 1);
    e.ctx.fs_levels = 4;
    return e;
}

bool has(ims_pasidc *c, uint16_t sid, uint32_t pasid) { return ims_pasidc_peek(c, sid, pasid) != nullptr; }

TEST(PasidCache, TaggedBySidAndPasid)
{
    ims_stats *st = ims_stats_create(1000000000);
    {
        Pc c(256, 4, st);
        ims_pasidc_entry e = PE(0x0100, 0x42, 9, IMS_VTD_PGTT_NESTED);
        ims_pasidc_insert(c.c, &e);
        const ims_pasidc_entry *h = ims_pasidc_lookup(c.c, 0x0100, 0x42);
        ASSERT_NE(h, nullptr);
        EXPECT_EQ(h->ctx.did, 9u);
        EXPECT_EQ(h->ctx.pgtt, IMS_VTD_PGTT_NESTED);
        EXPECT_EQ(h->ctx.fsptptr, 0x43000u);
        EXPECT_EQ(ims_pasidc_lookup(c.c, 0x0101, 0x42), nullptr); // other device
        EXPECT_EQ(ims_pasidc_lookup(c.c, 0x0100, 0x43), nullptr); // other PASID
        // PASIDs are 20 bits: bit 20 and above are not part of the tag.
        EXPECT_NE(ims_pasidc_lookup(c.c, 0x0100, 0x100042), nullptr);
    }
    EXPECT_EQ(ims_stats_counter_total(st, "pasidc.lookups"), 4u);
    EXPECT_EQ(ims_stats_counter_total(st, "pasidc.hits"), 2u);
    EXPECT_EQ(ims_stats_counter_total(st, "pasidc.misses"), 2u);
    EXPECT_EQ(ims_stats_counter_total(st, "pasidc.inserts"), 1u);
    ims_stats_destroy(st);
}

TEST(PasidCache, Type7Granularities)
{
    // vtd-facts §4.8: G=00 domain-selective (all PASIDs with the DID), G=01 PASID-selective within the
    // domain (DID and PASID), G=11 global.
    Pc c;
    for (uint16_t sid : {0x0100, 0x0200})
        for (uint32_t pasid : {1u, 2u, 3u}) {
            ims_pasidc_entry e = PE(sid, pasid, (uint16_t)(pasid == 3 ? 20 : 10));
            ims_pasidc_insert(c.c, &e);
        }
    EXPECT_EQ(ims_pasidc_count(c.c), 6u);
    EXPECT_EQ(ims_pasidc_inv_pasid(c.c, 10, 3), 0u); // PASID 3 belongs to DID 20
    EXPECT_EQ(ims_pasidc_inv_pasid(c.c, 10, 2), 2u); // both devices
    EXPECT_FALSE(has(c.c, 0x0100, 2));
    EXPECT_FALSE(has(c.c, 0x0200, 2));
    EXPECT_TRUE(has(c.c, 0x0100, 1));
    EXPECT_EQ(ims_pasidc_inv_domain(c.c, 20), 2u);
    EXPECT_TRUE(has(c.c, 0x0200, 1));
    EXPECT_EQ(ims_pasidc_inv_global(c.c), 2u);
    EXPECT_EQ(ims_pasidc_count(c.c), 0u);
}

TEST(PasidCache, CreateFromConfigDefaults)
{
    ims_error err{};
    const ims_cfg_key *tables[] = {ims_vtd_cache_cfg_keys};
    ims_config *cfg = ims_config_create(tables, 1, &err);
    ASSERT_NE(cfg, nullptr) << err.msg;
    ims_pasidc *c = nullptr;
    ASSERT_EQ(ims_pasidc_create_cfg(cfg, nullptr, nullptr, &c, &err), 0) << err.msg;
    EXPECT_EQ(ims_sac_entries(ims_pasidc_cache(c)), 64u);
    EXPECT_EQ(ims_sac_sets(ims_pasidc_cache(c)), 16u);
    ims_pasidc_destroy(c);
    ASSERT_EQ(ims_config_set(cfg, "pasidc.entries", "0", "--set", &err), 0); // switched off
    ASSERT_EQ(ims_pasidc_create_cfg(cfg, nullptr, nullptr, &c, &err), 0) << err.msg;
    ims_pasidc_entry e = PE(1, 1, 1);
    EXPECT_EQ(ims_pasidc_insert(c, &e), IMS_SAC_DROPPED);
    EXPECT_EQ(ims_pasidc_lookup(c, 1, 1), nullptr);
    ims_pasidc_destroy(c);
    ims_config_destroy(cfg);
}

void snap_fn(const ims_pasidc_entry *e, void *arg)
{
    ((std::set<std::tuple<uint16_t, uint32_t, uint16_t>> *)arg)->insert({e->sid, e->pasid, e->ctx.did});
}

TEST(PasidCache, RandomizedInvalidationsMatchReference)
{
    ims_rng rng;
    ims_rng_seed(&rng, 11);
    auto rnd = [&](uint64_t n) { return ims_rng_below(&rng, n); };
    Pc c(16, 4);
    std::map<std::pair<uint16_t, uint32_t>, uint16_t> ref; // (SID, PASID) -> DID
    size_t evictions = 0, removed = 0;
    for (int step = 0; step < 5000; step++) {
        uint16_t sid = (uint16_t)(0x100 + rnd(6));
        uint32_t pasid = (uint32_t)rnd(12);
        uint16_t did = (uint16_t)(1 + rnd(4));
        if (rnd(100) < 60) {
            ims_pasidc_entry e = PE(sid, pasid, did);
            bool existed = ref.count({sid, pasid}) != 0;
            ref[{sid, pasid}] = did;
            int what = ims_pasidc_insert(c.c, &e);
            if (existed) {
                ASSERT_EQ(what, IMS_SAC_REPLACED);
            } else if (what == IMS_SAC_EVICTED) {
                int gone = 0;
                for (auto it = ref.begin(); it != ref.end();)
                    if (!has(c.c, it->first.first, it->first.second)) {
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
        auto drop = [&](auto f) {
            size_t n = 0;
            for (auto it = ref.begin(); it != ref.end();)
                if (f(it->first.second, it->second)) {
                    it = ref.erase(it);
                    n++;
                } else {
                    ++it;
                }
            return n;
        };
        size_t got = 0, want = 0;
        unsigned kind = (unsigned)rnd(10);
        if (kind == 0) {
            got = ims_pasidc_inv_global(c.c);
            want = drop([](uint32_t, uint16_t) { return true; });
        } else if (kind < 5) {
            got = ims_pasidc_inv_domain(c.c, did);
            want = drop([&](uint32_t, uint16_t d) { return d == did; });
        } else {
            got = ims_pasidc_inv_pasid(c.c, did, pasid);
            want = drop([&](uint32_t p, uint16_t d) { return d == did && p == pasid; });
        }
        ASSERT_EQ(got, want) << "step " << step;
        removed += got;
        std::set<std::tuple<uint16_t, uint32_t, uint16_t>> have, exp;
        ims_pasidc_foreach(c.c, snap_fn, &have);
        for (auto &[k, d] : ref)
            exp.insert({k.first, k.second, d});
        ASSERT_EQ(have, exp) << "step " << step;
    }
    EXPECT_GT(evictions, 50u);
    EXPECT_GT(removed, 200u);
}

} // namespace
