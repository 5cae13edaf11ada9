// IOTLB (models/vtd/iotlb.h): tagging, page sizes and probes, statistics, each invalidation granularity
// against vtd-facts §4.3/§4.7/§5.1, and a randomized comparison with an independent reference model.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "models/vtd/cache_config.h"
#include "models/vtd/iotlb.h"
#include "sim/stats.h"

namespace {

constexpr uint64_t K4 = 4096, M2 = 2ull << 20, G1 = 1ull << 30;

struct Tlb {
    ims_iotlb *t = nullptr;
    explicit Tlb(uint32_t entries = 64, uint32_t ways = 4, ims_stats *st = nullptr)
    {
        ims_iotlb_params p{};
        p.geom = {entries, ways, IMS_SAC_LRU};
        p.stats = st;
        ims_error err{};
        EXPECT_EQ(ims_iotlb_create(&p, &t, &err), 0) << err.msg;
    }
    ~Tlb() { ims_iotlb_destroy(t); }
};

ims_iotlb_entry E(uint16_t did, ims_vtd_pgtt pgtt, uint32_t pasid, uint64_t iova, ims_iotlb_psize ps = IMS_IOTLB_4K,
                  uint64_t hpa = 0)
{
    ims_iotlb_entry e{};
    e.did = did;
    e.pgtt = (uint8_t)pgtt;
    e.pasid = pasid;
    e.iova = iova;
    e.psize = (uint8_t)ps;
    e.hpa = hpa ? hpa : (0x80000000ull + iova);
    e.r = e.w = true;
    return e;
}

bool has(ims_iotlb *t, uint16_t did, ims_vtd_pgtt pgtt, uint32_t pasid, uint64_t addr)
{
    return ims_iotlb_peek(t, did, pgtt, pasid, addr) != nullptr;
}

TEST(Iotlb, SecondStageEntriesAreNotTaggedByPasid)
{
    // vtd-facts §5.1 ⚠ (Linux: "SS cache entries are not tagged by PASID"): an SS-only entry filled for
    // one PASID serves every PASID of the domain; FS entries are per PASID.
    Tlb tl;
    ims_iotlb_entry ss = E(5, IMS_VTD_PGTT_SS, 7, 0x1000);
    ims_iotlb_insert(tl.t, &ss);
    const ims_iotlb_entry *e = ims_iotlb_lookup(tl.t, 5, IMS_VTD_PGTT_SS, 9, 0x1abc);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->pasid, IMS_IOTLB_NO_PASID);
    EXPECT_EQ(e->hpa, 0x80001000ull);
    EXPECT_FALSE(has(tl.t, 6, IMS_VTD_PGTT_SS, 7, 0x1000)); // DID is part of the tag
    EXPECT_FALSE(has(tl.t, 5, IMS_VTD_PGTT_FS, 7, 0x1000)); // a PASID-tagged lookup does not see it

    ims_iotlb_entry fs = E(5, IMS_VTD_PGTT_FS, 7, 0x2000);
    ims_iotlb_insert(tl.t, &fs);
    EXPECT_TRUE(has(tl.t, 5, IMS_VTD_PGTT_FS, 7, 0x2fff));
    EXPECT_FALSE(has(tl.t, 5, IMS_VTD_PGTT_FS, 8, 0x2000));
    EXPECT_TRUE(has(tl.t, 5, IMS_VTD_PGTT_NESTED, 7, 0x2000)); // PGTT is payload, not tag
    EXPECT_FALSE(has(tl.t, 5, IMS_VTD_PGTT_SS, 7, 0x2000));
    EXPECT_EQ(ims_iotlb_tag_pasid(IMS_VTD_PGTT_PT, 0x123456), 0x23456u); // 20-bit PASIDs
}

TEST(Iotlb, PageSizesProbesAndAlignment)
{
    ims_stats *st = ims_stats_create(1000000000);
    {
        Tlb tl(64, 4, st);
        ims_iotlb_entry big = E(1, IMS_VTD_PGTT_SS, 0, 0x323456, IMS_IOTLB_2M, 0x40123456);
        ims_iotlb_insert(tl.t, &big);
        const ims_iotlb_entry *e = ims_iotlb_lookup(tl.t, 1, IMS_VTD_PGTT_SS, 0, 0x3ff000);
        ASSERT_NE(e, nullptr);
        EXPECT_EQ(e->iova, 0x200000u); // aligned down to the page size
        EXPECT_EQ(e->hpa, 0x40000000u);
        EXPECT_EQ(e->psize, IMS_IOTLB_2M);
        EXPECT_EQ(ims_iotlb_stat_value(tl.t, IMS_IOTLB_PROBES), 1u); // only 2M entries exist: 1 probe
        EXPECT_FALSE(has(tl.t, 1, IMS_VTD_PGTT_SS, 0, 0x400000));

        // A 4K entry inside the 2M one wins (4K is probed first).
        ims_iotlb_entry small = E(1, IMS_VTD_PGTT_SS, 0, 0x205000, IMS_IOTLB_4K, 0x9000);
        ims_iotlb_insert(tl.t, &small);
        e = ims_iotlb_lookup(tl.t, 1, IMS_VTD_PGTT_SS, 0, 0x205008);
        ASSERT_NE(e, nullptr);
        EXPECT_EQ(e->psize, IMS_IOTLB_4K);
        EXPECT_EQ(e->hpa, 0x9000u);
        ims_iotlb_entry huge = E(1, IMS_VTD_PGTT_SS, 0, 3 * G1, IMS_IOTLB_1G);
        ims_iotlb_insert(tl.t, &huge);
        EXPECT_EQ(ims_iotlb_lookup(tl.t, 1, IMS_VTD_PGTT_SS, 0, 5 * G1), nullptr); // 3 probes, all miss
        e = ims_iotlb_lookup(tl.t, 1, IMS_VTD_PGTT_SS, 0, 3 * G1 + 0x12345678);
        ASSERT_NE(e, nullptr);
        EXPECT_EQ(e->psize, IMS_IOTLB_1G);
        // probes: 1 + 1 (4K hit) + 3 + 3 = 8
        EXPECT_EQ(ims_iotlb_stat_value(tl.t, IMS_IOTLB_PROBES), 8u);
        EXPECT_EQ(ims_iotlb_count(tl.t), 3u);
    }
    EXPECT_EQ(ims_stats_counter_total(st, "iotlb.lookups"), 4u);
    EXPECT_EQ(ims_stats_counter_total(st, "iotlb.hits"), 3u);
    EXPECT_EQ(ims_stats_counter_total(st, "iotlb.misses"), 1u);
    EXPECT_EQ(ims_stats_counter_total(st, "iotlb.probes"), 8u);
    EXPECT_EQ(ims_stats_counter_total(st, "iotlb.inserts"), 3u);
    EXPECT_EQ(ims_stats_counter_total(st, "iotlb.evictions"), 0u);
    ims_stats_destroy(st);
}

TEST(Iotlb, EvictionAndInvalidationStats)
{
    ims_stats *st = ims_stats_create(1000000000);
    {
        Tlb tl(2, 2, st); // one set of two ways
        for (uint64_t i = 0; i < 5; i++) {
            ims_iotlb_entry e = E(1, IMS_VTD_PGTT_SS, 0, i * K4);
            ims_iotlb_insert(tl.t, &e);
        }
        EXPECT_TRUE(has(tl.t, 1, IMS_VTD_PGTT_SS, 0, 4 * K4));
        EXPECT_TRUE(has(tl.t, 1, IMS_VTD_PGTT_SS, 0, 3 * K4));
        EXPECT_FALSE(has(tl.t, 1, IMS_VTD_PGTT_SS, 0, 2 * K4));
        EXPECT_EQ(ims_iotlb_inv_domain(tl.t, 1), 2u);
        // After everything is gone no size is probed.
        EXPECT_EQ(ims_iotlb_lookup(tl.t, 1, IMS_VTD_PGTT_SS, 0, 0), nullptr);
        EXPECT_EQ(ims_iotlb_stat_value(tl.t, IMS_IOTLB_PROBES), 0u);
    }
    EXPECT_EQ(ims_stats_counter_total(st, "iotlb.inserts"), 5u);
    EXPECT_EQ(ims_stats_counter_total(st, "iotlb.evictions"), 3u);
    EXPECT_EQ(ims_stats_counter_total(st, "iotlb.invalidated"), 2u);
    ims_stats_destroy(st);
}

// A mixed population used by the granularity tests: DIDs 1 and 2, PASIDs 3 and 4, each PGTT kind k
// (FS 0, SS 1, nested 2, PT 3) at pages 0x10000 + k*0x1000 and 0x80000 + k*0x1000 (distinct pages so
// every kind can coexist under one PASID).
const ims_vtd_pgtt kKinds[] = {IMS_VTD_PGTT_FS, IMS_VTD_PGTT_SS, IMS_VTD_PGTT_NESTED, IMS_VTD_PGTT_PT};
uint64_t at(ims_vtd_pgtt k, uint64_t base) { return base + ((uint64_t)k - 1) * 0x1000; }

void populate(ims_iotlb *t)
{
    for (uint16_t did : {1, 2})
        for (uint32_t pasid : {3u, 4u})
            for (ims_vtd_pgtt k : kKinds)
                for (uint64_t a : {0x10000ull, 0x80000ull}) {
                    ims_iotlb_entry e = E(did, k, pasid, at(k, a));
                    ims_iotlb_insert(t, &e);
                }
}
// populate(): FS/nested/PT entries are per PASID (2 DIDs x 2 PASIDs x 3 kinds x 2 pages = 24); SS
// entries collapse over PASIDs (2 DIDs x 2 pages = 4). Total 28, 14 per DID.

TEST(Iotlb, PageSelectiveWithinDomainScalableRule)
{
    // vtd-facts §4.3: type-2 PSI removes the DID's SS-only mappings in range AND all of the DID's FS
    // (PGTT 001) and nested (011) entries regardless of address. PT entries: matched by address (decision).
    Tlb tl(256, 256);
    populate(tl.t);
    ASSERT_EQ(ims_iotlb_count(tl.t), 28u);
    // Range 0x10000, AM=2: 0x10000..0x13fff holds every kind's first page.
    size_t n = ims_iotlb_inv_page(tl.t, 1, 0x10000, 2, false);
    // Removed for DID 1: SS@0x11000 (1), FS+nested all (2 PASIDs x 2 kinds x 2 pages = 8), PT@0x13000 (2).
    EXPECT_EQ(n, 11u);
    EXPECT_FALSE(has(tl.t, 1, IMS_VTD_PGTT_SS, 0, 0x11000));
    EXPECT_TRUE(has(tl.t, 1, IMS_VTD_PGTT_SS, 0, 0x81000));
    EXPECT_FALSE(has(tl.t, 1, IMS_VTD_PGTT_FS, 3, 0x80000));
    EXPECT_FALSE(has(tl.t, 1, IMS_VTD_PGTT_NESTED, 4, 0x82000));
    EXPECT_FALSE(has(tl.t, 1, IMS_VTD_PGTT_PT, 3, 0x13000));
    EXPECT_TRUE(has(tl.t, 1, IMS_VTD_PGTT_PT, 3, 0x83000));
    EXPECT_TRUE(has(tl.t, 2, IMS_VTD_PGTT_FS, 3, 0x10000)); // other domain untouched
    EXPECT_TRUE(has(tl.t, 2, IMS_VTD_PGTT_SS, 0, 0x11000));
    EXPECT_EQ(ims_iotlb_count(tl.t), 17u);
}

TEST(Iotlb, AddressMaskIsNaturallyAlignedRange)
{
    // vtd-facts §4.3/§5.2: AM selects 2^AM pages, naturally aligned; low address bits are ignored.
    Tlb tl(256, 256);
    for (uint64_t a = 0x2000; a <= 0x9000; a += K4) {
        ims_iotlb_entry e = E(1, IMS_VTD_PGTT_SS, 0, a);
        ims_iotlb_insert(tl.t, &e);
    }
    ims_iotlb_entry big = E(1, IMS_VTD_PGTT_SS, 0, M2, IMS_IOTLB_2M); // 0x200000..0x3fffff
    ims_iotlb_insert(tl.t, &big);
    EXPECT_EQ(ims_iotlb_inv_page(tl.t, 1, 0x5000, 2, false), 4u); // 0x4000..0x7fff
    for (uint64_t a = 0x2000; a <= 0x9000; a += K4)
        EXPECT_EQ(has(tl.t, 1, IMS_VTD_PGTT_SS, 0, a), a < 0x4000 || a > 0x7000) << std::hex << a;
    // A 4K invalidation inside a 2M entry removes the 2M entry (overlap).
    EXPECT_EQ(ims_iotlb_inv_page(tl.t, 1, 0x3ff000, 0, true), 1u); // IH does not protect leaves
    EXPECT_FALSE(has(tl.t, 1, IMS_VTD_PGTT_SS, 0, M2));
    uint64_t f, l;
    ims_vtd_am_range(0x12345678, 9, &f, &l);
    EXPECT_EQ(f, 0x12200000u);
    EXPECT_EQ(l, 0x123fffffu);
    ims_vtd_am_range(0xdead000, 60, &f, &l);
    EXPECT_EQ(f, 0u);
    EXPECT_EQ(l, UINT64_MAX);
}

TEST(Iotlb, PasidSelectiveWithinDomain)
{
    // VT-d 5.10 §6.5.2.4 Table 24, PASID-Selective (10): entries with PGTT=001b/011b AND with PGTT=010b/100b go
    // by "DID, PASID". SS-only (010b) entries carry no PASID tag here (iotlb.h), so every SS-only entry of the
    // DID goes (coarser; "hardware implementations may perform coarser invalidation"). Before the spec check
    // this test expected SS-only entries to stay (vtd-facts §4.7).
    Tlb tl(256, 256);
    populate(tl.t);
    EXPECT_EQ(ims_iotlb_inv_pasid(tl.t, 1, 3), 8u); // FS, nested, PT x 2 pages + DID 1's two SS-only pages
    EXPECT_FALSE(has(tl.t, 1, IMS_VTD_PGTT_PT, 3, 0x13000));
    EXPECT_FALSE(has(tl.t, 1, IMS_VTD_PGTT_FS, 3, 0x80000));
    EXPECT_FALSE(has(tl.t, 1, IMS_VTD_PGTT_NESTED, 3, 0x82000));
    EXPECT_FALSE(has(tl.t, 1, IMS_VTD_PGTT_SS, 3, 0x11000));
    EXPECT_FALSE(has(tl.t, 1, IMS_VTD_PGTT_SS, 4, 0x81000)); // shared by every PASID of the DID
    EXPECT_TRUE(has(tl.t, 1, IMS_VTD_PGTT_FS, 4, 0x80000));
    EXPECT_TRUE(has(tl.t, 1, IMS_VTD_PGTT_PT, 4, 0x13000));
    EXPECT_TRUE(has(tl.t, 2, IMS_VTD_PGTT_SS, 3, 0x11000));  // other DID's SS-only entries stay
    EXPECT_TRUE(has(tl.t, 2, IMS_VTD_PGTT_FS, 3, 0x10000));
    EXPECT_EQ(ims_iotlb_count(tl.t), 20u);
    // A PASID the DID has no tagged entry for still drops the DID's SS-only entries, and nothing else.
    EXPECT_EQ(ims_iotlb_inv_pasid(tl.t, 2, 9), 2u);
    EXPECT_FALSE(has(tl.t, 2, IMS_VTD_PGTT_SS, 0, 0x81000));
    EXPECT_TRUE(has(tl.t, 2, IMS_VTD_PGTT_PT, 3, 0x83000));
    // The no-PASID marker is not a PASID: FS/nested/PT entries of PASID 4 stay (nothing SS-only is left).
    EXPECT_EQ(ims_iotlb_inv_pasid(tl.t, 1, IMS_IOTLB_NO_PASID), 0u);
    EXPECT_EQ(ims_iotlb_count(tl.t), 18u);
}

TEST(Iotlb, PasidPageSelectiveSkipsSecondStageOnlyAndPassThrough)
{
    // vtd-facts §4.7 G=11: FS/nested entries of DID+PASID in range; never SS-only (010) or PT (100).
    Tlb tl(256, 256);
    populate(tl.t);
    EXPECT_EQ(ims_iotlb_inv_pasid_page(tl.t, 1, 3, 0x10000, 2, false), 2u); // FS@0x10000 + nested@0x12000
    EXPECT_FALSE(has(tl.t, 1, IMS_VTD_PGTT_FS, 3, 0x10000));
    EXPECT_FALSE(has(tl.t, 1, IMS_VTD_PGTT_NESTED, 3, 0x12000));
    EXPECT_TRUE(has(tl.t, 1, IMS_VTD_PGTT_FS, 3, 0x80000));
    EXPECT_TRUE(has(tl.t, 1, IMS_VTD_PGTT_SS, 3, 0x11000));
    EXPECT_TRUE(has(tl.t, 1, IMS_VTD_PGTT_PT, 3, 0x13000));
    EXPECT_TRUE(has(tl.t, 1, IMS_VTD_PGTT_FS, 4, 0x10000));
    EXPECT_EQ(ims_iotlb_inv_pasid_page(tl.t, 1, 4, 0, 20, true), 4u); // 4 GiB range covers both pages
}

TEST(Iotlb, DomainAndGlobal)
{
    Tlb tl(256, 256);
    populate(tl.t);
    EXPECT_EQ(ims_iotlb_inv_domain(tl.t, 2), 14u);
    EXPECT_FALSE(has(tl.t, 2, IMS_VTD_PGTT_SS, 0, 0x11000));
    EXPECT_TRUE(has(tl.t, 1, IMS_VTD_PGTT_SS, 0, 0x11000));
    EXPECT_EQ(ims_iotlb_inv_global(tl.t), 14u);
    EXPECT_EQ(ims_iotlb_count(tl.t), 0u);
}

TEST(Iotlb, CreateFromConfig)
{
    ims_error err{};
    const ims_cfg_key *tables[] = {ims_vtd_cache_cfg_keys};
    ims_config *cfg = ims_config_create(tables, 1, &err);
    ASSERT_NE(cfg, nullptr) << err.msg;
    EXPECT_TRUE(ims_vtd_cache_nested_ss(cfg));
    ims_iotlb *t = nullptr;
    ASSERT_EQ(ims_iotlb_create_cfg(cfg, nullptr, nullptr, &t, &err), 0) << err.msg;
    EXPECT_EQ(ims_sac_entries(ims_iotlb_cache(t)), 64u);
    EXPECT_EQ(ims_sac_ways(ims_iotlb_cache(t)), 4u);
    ims_iotlb_destroy(t);
    ASSERT_EQ(ims_config_set(cfg, "iotlb.ways", "3", "--set", &err), 0);
    EXPECT_EQ(ims_iotlb_create_cfg(cfg, nullptr, nullptr, &t, &err), -EINVAL);
    EXPECT_NE(std::string(err.msg).find("iotlb.ways (3) must divide iotlb.entries (64)"), std::string::npos)
        << err.msg;
    ASSERT_EQ(ims_config_set(cfg, "iotlb.policy", "random", "--set", &err), 0);
    ASSERT_EQ(ims_config_set(cfg, "iotlb.ways", "64", "--set", &err), 0);
    ims_rng rng;
    ims_rng_seed(&rng, 1);
    ASSERT_EQ(ims_iotlb_create_cfg(cfg, &rng, nullptr, &t, &err), 0) << err.msg;
    EXPECT_EQ(ims_sac_sets(ims_iotlb_cache(t)), 1u);
    ims_iotlb_destroy(t);
    ims_config_destroy(cfg);
}

TEST(Iotlb, CacheConfigKeysComplete)
{
    // Every cache has entries/ways/policy (the three names the spec requires), defaults that form a valid
    // geometry, and the policy choices lru|rr|random in the order of ims_sac_policy.
    ims_error err{};
    const ims_cfg_key *tables[] = {ims_vtd_cache_cfg_keys};
    ims_config *cfg = ims_config_create(tables, 1, &err);
    ASSERT_NE(cfg, nullptr) << err.msg;
    const char *prefixes[] = {"iotlb",     "ctxc",      "pasidc",    "psc.fs.l2", "psc.fs.l3", "psc.fs.l4",
                              "psc.fs.l5", "psc.ss.l2", "psc.ss.l3", "psc.ss.l4", "psc.ss.l5"};
    for (const char *p : prefixes) {
        std::string s(p);
        EXPECT_TRUE(ims_config_has(cfg, (s + ".entries").c_str())) << p;
        EXPECT_TRUE(ims_config_has(cfg, (s + ".ways").c_str())) << p;
        EXPECT_STREQ(ims_config_enum_name(cfg, (s + ".policy").c_str()), "lru") << p;
        ims_sac_geom g{};
        EXPECT_EQ(ims_vtd_cache_geom(cfg, p, &g, &err), 0) << p << ": " << err.msg;
        EXPECT_GT(g.entries, 0u) << p;
    }
    ASSERT_EQ(ims_config_set(cfg, "psc.ss.l4.policy", "rr", "--set", &err), 0);
    EXPECT_EQ(ims_config_enum(cfg, "psc.ss.l4.policy"), (unsigned)IMS_SAC_RR);
    ASSERT_EQ(ims_config_set(cfg, "psc.ss.l4.policy", "random", "--set", &err), 0);
    EXPECT_EQ(ims_config_enum(cfg, "psc.ss.l4.policy"), (unsigned)IMS_SAC_RANDOM);
    EXPECT_EQ(ims_config_set(cfg, "iotlb.policy", "fifo", "--set", &err), -EINVAL);
    size_t n = 0;
    for (const ims_cfg_key *k = ims_vtd_cache_cfg_keys; k->name; k++)
        n++;
    EXPECT_EQ(n, 11u * 3u + 1u); // + iotlb.cache_nested_ss
    ims_config_destroy(cfg);
}

// ---- randomized property test ----------------------------------------------------------------------

// Reference model, from vtd-facts §4.3, §4.7, §5.1 directly: a map from the architectural tag to the entry.
using Tag = std::tuple<uint16_t, uint32_t, int, uint64_t>; // DID, PASID-or-none, size, page base
constexpr uint32_t kNone = 0xFFFFFFFF;

struct RefEntry {
    uint16_t did;
    uint32_t pasid; // kNone for SS-only
    int pgtt;
    uint64_t base, size;
    uint64_t hpa;
};

uint64_t size_of(int ps) { return ps == 0 ? K4 : ps == 1 ? M2 : G1; }

bool in_range(const RefEntry &e, uint64_t lo, uint64_t hi) { return e.base <= hi && lo <= e.base + e.size - 1; }

struct Ref {
    std::map<Tag, RefEntry> m;
    template <class F> size_t remove_if(F f)
    {
        size_t n = 0;
        for (auto it = m.begin(); it != m.end();)
            if (f(it->second)) {
                it = m.erase(it);
                n++;
            } else {
                ++it;
            }
        return n;
    }
};

void snapshot_fn(const ims_iotlb_entry *e, void *arg)
{
    auto *s = (std::set<std::tuple<uint16_t, uint32_t, int, uint64_t, uint64_t, int>> *)arg;
    s->insert({e->did, e->pasid, e->psize, e->iova, e->hpa, e->pgtt});
}

std::set<std::tuple<uint16_t, uint32_t, int, uint64_t, uint64_t, int>> snapshot(ims_iotlb *t)
{
    std::set<std::tuple<uint16_t, uint32_t, int, uint64_t, uint64_t, int>> s;
    ims_iotlb_foreach(t, snapshot_fn, &s);
    return s;
}

std::set<std::tuple<uint16_t, uint32_t, int, uint64_t, uint64_t, int>> ref_snapshot(const Ref &r)
{
    std::set<std::tuple<uint16_t, uint32_t, int, uint64_t, uint64_t, int>> s;
    for (auto &[tag, e] : r.m)
        s.insert({e.did, e.pasid, std::get<2>(tag), e.base, e.hpa, e.pgtt});
    return s;
}

TEST(Iotlb, RandomizedInvalidationsMatchReference)
{
    ims_rng rng;
    ims_rng_seed(&rng, 2024);
    Tlb tl(64, 4); // small: evictions happen
    Ref ref;
    auto rnd = [&](uint64_t n) { return ims_rng_below(&rng, n); };
    auto rand_addr = [&]() {
        // Three windows so all page sizes overlap each other: [0, 8M), [1G, 1G+8M), [5G, 5G+8M).
        static const uint64_t win[] = {0, G1, 5 * G1};
        return win[rnd(3)] + rnd(8ull << 20);
    };
    size_t evictions = 0, removed_total = 0;
    for (int step = 0; step < 6000; step++) {
        unsigned op = (unsigned)rnd(100);
        if (op < 60) { // insert
            int ps = rnd(10) < 7 ? 0 : rnd(2) ? 1 : 2;
            int pgtt = 1 + (int)rnd(4);
            ims_iotlb_entry e = E((uint16_t)(1 + rnd(3)), (ims_vtd_pgtt)pgtt, (uint32_t)rnd(4), rand_addr(),
                                  (ims_iotlb_psize)ps, 0x100000000ull + (rnd(1 << 20) << 12));
            RefEntry r{e.did, pgtt == IMS_VTD_PGTT_SS ? kNone : e.pasid, pgtt, e.iova & ~(size_of(ps) - 1),
                       size_of(ps), e.hpa & ~(size_of(ps) - 1)};
            Tag tag{r.did, r.pasid, ps, r.base};
            int what = ims_iotlb_insert(tl.t, &e);
            bool existed = ref.m.count(tag) != 0;
            ref.m[tag] = r;
            if (existed) {
                ASSERT_EQ(what, IMS_SAC_REPLACED);
            } else if (what == IMS_SAC_EVICTED) {
                // Exactly one reference entry must have disappeared from the cache.
                auto cache = snapshot(tl.t);
                int gone = 0;
                for (auto it = ref.m.begin(); it != ref.m.end();) {
                    auto &x = it->second;
                    if (!cache.count({x.did, x.pasid, std::get<2>(it->first), x.base, x.hpa, x.pgtt})) {
                        it = ref.m.erase(it);
                        gone++;
                    } else {
                        ++it;
                    }
                }
                ASSERT_EQ(gone, 1) << "step " << step;
                evictions++;
            } else {
                ASSERT_EQ(what, IMS_SAC_FILLED);
            }
        } else if (op < 75) { // lookup: hit iff the reference has a covering entry; smallest size wins
            uint16_t did = (uint16_t)(1 + rnd(3));
            int pgtt = 1 + (int)rnd(4);
            uint32_t pasid = (uint32_t)rnd(4);
            uint64_t a = rand_addr();
            uint32_t tp = pgtt == IMS_VTD_PGTT_SS ? kNone : pasid;
            const RefEntry *want = nullptr;
            for (int ps = 2; ps >= 0; ps--) {
                auto it = ref.m.find(Tag{did, tp, ps, a & ~(size_of(ps) - 1)});
                if (it != ref.m.end())
                    want = &it->second;
            }
            const ims_iotlb_entry *got = ims_iotlb_lookup(tl.t, did, (ims_vtd_pgtt)pgtt, pasid, a);
            ASSERT_EQ(got != nullptr, want != nullptr) << "step " << step;
            if (got) {
                EXPECT_EQ(got->iova, want->base);
                EXPECT_EQ(got->hpa, want->hpa);
            }
        } else { // an invalidation of a random granularity
            uint16_t did = (uint16_t)(1 + rnd(3));
            uint32_t pasid = (uint32_t)rnd(4);
            unsigned am = rnd(8) == 0 ? (unsigned)rnd(40) : (unsigned)rnd(10);
            uint64_t addr = rand_addr();
            bool ih = rnd(2);
            uint64_t lo = am >= 52 ? 0 : addr & ~((1ull << (12 + am)) - 1);
            uint64_t hi = am >= 52 ? ~0ull : lo + (1ull << (12 + am)) - 1;
            auto fs_or_nested = [](const RefEntry &e) {
                return e.pgtt == IMS_VTD_PGTT_FS || e.pgtt == IMS_VTD_PGTT_NESTED;
            };
            size_t got = 0, want = 0;
            switch (rnd(5)) {
            case 0:
                if (rnd(10) == 0) { // rare: global
                    got = ims_iotlb_inv_global(tl.t);
                    want = ref.remove_if([](const RefEntry &) { return true; });
                }
                break;
            case 1:
                got = ims_iotlb_inv_domain(tl.t, did);
                want = ref.remove_if([&](const RefEntry &e) { return e.did == did; });
                break;
            case 2:
                got = ims_iotlb_inv_page(tl.t, did, addr, am, ih);
                want = ref.remove_if(
                    [&](const RefEntry &e) { return e.did == did && (fs_or_nested(e) || in_range(e, lo, hi)); });
                break;
            case 3:
                got = ims_iotlb_inv_pasid(tl.t, did, pasid); // Table 24: SS-only entries of the DID too
                want = ref.remove_if([&](const RefEntry &e) {
                    return e.did == did && (e.pgtt == IMS_VTD_PGTT_SS || e.pasid == pasid);
                });
                break;
            default:
                got = ims_iotlb_inv_pasid_page(tl.t, did, pasid, addr, am, ih);
                want = ref.remove_if([&](const RefEntry &e) {
                    return e.did == did && e.pasid == pasid && fs_or_nested(e) && in_range(e, lo, hi);
                });
                break;
            }
            ASSERT_EQ(got, want) << "step " << step;
            removed_total += got;
            ASSERT_EQ(snapshot(tl.t), ref_snapshot(ref)) << "step " << step;
        }
    }
    EXPECT_GT(evictions, 100u); // the test exercised replacement
    EXPECT_GT(removed_total, 300u);
}

} // namespace
