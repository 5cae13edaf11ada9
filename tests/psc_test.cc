// Paging-structure caches (models/vtd/psc.h): level coverage, tagging, deepest-hit lookup and its
// per-level statistics, each invalidation against VT-d 5.10 §6.5.2.3/§6.5.2.4 (Tables 23, 24) and vtd-facts
// §5.1/§5.2, and a randomized comparison with an independent reference model.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <tuple>

#include "models/vtd/cache_config.h"
#include "models/vtd/psc.h"
#include "sim/stats.h"

namespace {

struct Psc {
    ims_psc *p = nullptr;
    explicit Psc(uint32_t entries = 64, uint32_t ways = 4, ims_stats *st = nullptr)
    {
        ims_psc_params prm{};
        for (auto &stage : prm.geom)
            for (auto &g : stage)
                g = {entries, ways, IMS_SAC_LRU};
        prm.stats = st;
        ims_error err{};
        EXPECT_EQ(ims_psc_create(&prm, &p, &err), 0) << err.msg;
    }
    ~Psc() { ims_psc_destroy(p); }
};

ims_psc_entry P(ims_psc_stage st, unsigned level, uint16_t did, uint32_t pasid, uint64_t addr, uint64_t next = 0)
{
    ims_psc_entry e{};
    e.stage = (uint8_t)st;
    e.level = (uint8_t)level;
    e.did = did;
    e.pasid = pasid;
    e.base = addr;
    e.next_table = next ? next : 0x7000000ull + (addr >> 9);
    e.perm = IMS_PSC_R | IMS_PSC_W;
    return e;
}

bool has(ims_psc *p, ims_psc_stage st, unsigned level, uint16_t did, uint32_t pasid, uint64_t addr)
{
    // lookup of one level; pasid ignored for SS
    return ims_psc_lookup(p, st, level, did, pasid, addr) != nullptr;
}

TEST(Psc, LevelCoverage)
{
    // vtd-facts §2.7/§2.9: a PDE (level 2) maps 2 MiB, a PDPE 1 GiB, a PML4E 512 GiB, a PML5E 256 TiB.
    EXPECT_EQ(ims_psc_level_shift(2), 21u);
    EXPECT_EQ(ims_psc_level_shift(3), 30u);
    EXPECT_EQ(ims_psc_level_shift(4), 39u);
    EXPECT_EQ(ims_psc_level_shift(5), 48u);
    Psc c;
    ims_psc_entry e = P(IMS_PSC_FS, 2, 1, 5, 0x40234567, 0xabc000);
    ims_psc_insert(c.p, &e);
    const ims_psc_entry *h = ims_psc_lookup(c.p, IMS_PSC_FS, 2, 1, 5, 0x403fffff);
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(h->base, 0x40200000u);
    EXPECT_EQ(h->next_table, 0xabc000u);
    EXPECT_FALSE(has(c.p, IMS_PSC_FS, 2, 1, 5, 0x40400000));
    EXPECT_FALSE(has(c.p, IMS_PSC_FS, 3, 1, 5, 0x40234567)); // levels are separate caches
    EXPECT_FALSE(has(c.p, IMS_PSC_SS, 2, 1, 5, 0x40234567)); // stages too
}

TEST(Psc, Tagging)
{
    // vtd-facts §5.1: FS PSC tagged by DID + PASID + address; SS PSC by DID + address.
    Psc c;
    ims_psc_entry fs = P(IMS_PSC_FS, 3, 1, 5, 0);
    ims_psc_entry ss = P(IMS_PSC_SS, 3, 1, 5, 0);
    ims_psc_insert(c.p, &fs);
    ims_psc_insert(c.p, &ss);
    EXPECT_TRUE(has(c.p, IMS_PSC_FS, 3, 1, 5, 0x1000));
    EXPECT_FALSE(has(c.p, IMS_PSC_FS, 3, 1, 6, 0x1000));
    EXPECT_FALSE(has(c.p, IMS_PSC_FS, 3, 2, 5, 0x1000));
    EXPECT_TRUE(has(c.p, IMS_PSC_SS, 3, 1, 6, 0x1000)); // any PASID
    EXPECT_FALSE(has(c.p, IMS_PSC_SS, 3, 2, 5, 0x1000));
    EXPECT_EQ(ims_psc_count(c.p, IMS_PSC_SS, 3), 1u);
}

TEST(Psc, DeepestHitAndPerLevelStats)
{
    ims_stats *st = ims_stats_create(1000000000);
    {
        Psc c(64, 4, st);
        ims_psc_entry l4 = P(IMS_PSC_FS, 4, 1, 0, 0, 0x4000);
        ims_psc_entry l2 = P(IMS_PSC_FS, 2, 1, 0, 0x200000, 0x2000);
        ims_psc_insert(c.p, &l4);
        ims_psc_insert(c.p, &l2);
        // Inside the PDE's 2 MiB: l2 hits, nothing else probed.
        const ims_psc_entry *h = ims_psc_lookup_deepest(c.p, IMS_PSC_FS, 1, 0, 0x201000, 4);
        ASSERT_NE(h, nullptr);
        EXPECT_EQ(h->level, 2u);
        EXPECT_EQ(h->next_table, 0x2000u);
        // Elsewhere in the PML4E's 512 GiB: l2 and l3 miss, l4 hits.
        h = ims_psc_lookup_deepest(c.p, IMS_PSC_FS, 1, 0, 0x40000000, 4);
        ASSERT_NE(h, nullptr);
        EXPECT_EQ(h->level, 4u);
        // A 4-level walk never probes l5; a 3-level one never probes l4.
        EXPECT_EQ(ims_psc_lookup_deepest(c.p, IMS_PSC_FS, 1, 0, 1ull << 40, 4), nullptr);
        EXPECT_EQ(ims_psc_lookup_deepest(c.p, IMS_PSC_FS, 1, 0, 0x40000000, 3), nullptr);
    }
    EXPECT_EQ(ims_stats_counter_total(st, "psc.fs.l2.lookups"), 4u);
    EXPECT_EQ(ims_stats_counter_total(st, "psc.fs.l2.hits"), 1u);
    EXPECT_EQ(ims_stats_counter_total(st, "psc.fs.l3.lookups"), 3u);
    EXPECT_EQ(ims_stats_counter_total(st, "psc.fs.l3.misses"), 3u);
    EXPECT_EQ(ims_stats_counter_total(st, "psc.fs.l4.lookups"), 2u);
    EXPECT_EQ(ims_stats_counter_total(st, "psc.fs.l4.hits"), 1u);
    EXPECT_EQ(ims_stats_counter_total(st, "psc.fs.l5.lookups"), 0u);
    EXPECT_EQ(ims_stats_counter_total(st, "psc.fs.l2.inserts"), 1u);
    EXPECT_EQ(ims_stats_counter_total(st, "psc.ss.l2.lookups"), 0u);
    ims_stats_destroy(st);
}

// Population: DIDs 1, 2; PASIDs 3, 4 (FS); SS entries; each at levels 2 and 3, at 0 and 4 GiB.
void populate(ims_psc *p)
{
    for (uint16_t did : {1, 2})
        for (unsigned level : {2u, 3u})
            for (uint64_t a : {0ull, 4ull << 30}) {
                for (uint32_t pasid : {3u, 4u}) {
                    ims_psc_entry e = P(IMS_PSC_FS, level, did, pasid, a);
                    ims_psc_insert(p, &e);
                }
                ims_psc_entry s = P(IMS_PSC_SS, level, did, 0, a);
                ims_psc_insert(p, &s);
            }
}
// 2 DIDs x 2 levels x 2 addrs x (2 FS + 1 SS) = 24 entries; per DID 8 FS + 4 SS.

size_t total(ims_psc *p)
{
    size_t n = 0;
    for (ims_psc_stage st : {IMS_PSC_FS, IMS_PSC_SS})
        for (unsigned l = 2; l <= 5; l++)
            n += ims_psc_count(p, st, l);
    return n;
}

TEST(Psc, InvalidationHintKeepsOnlyTheStageItNames)
{
    // VT-d 5.10 §6.5.2.3 / Table 23, page-selective-within-domain: FS PSC "DID" whatever IH says ("paging-
    // structure-cache entries caching mappings other than second-stage-mapping associated with the specified
    // domain-id are invalidated"); SS PSC "If IH is 0, DID, Address. Otherwise NA". Before the spec check this
    // test expected IH=1 to keep every PSC entry.
    Psc c(64, 64); // fully associative: the population fits
    populate(c.p);
    EXPECT_EQ(ims_psc_inv_page(c.p, 1, 0, 30, true), 8u); // DID 1's FS entries, both PASIDs, any address
    EXPECT_FALSE(has(c.p, IMS_PSC_FS, 2, 1, 3, 0));
    EXPECT_FALSE(has(c.p, IMS_PSC_FS, 3, 1, 4, 4ull << 30)); // outside the 4 TiB range too
    EXPECT_TRUE(has(c.p, IMS_PSC_SS, 2, 1, 0, 0));           // in range, but IH=1 keeps SS entries
    EXPECT_TRUE(has(c.p, IMS_PSC_SS, 3, 1, 0, 4ull << 30));
    EXPECT_TRUE(has(c.p, IMS_PSC_FS, 2, 2, 3, 0)); // other DID
    // Table 24, page-selective-within-PASID: FS PSC "If IH is 0, (DID, PASID, Address) Otherwise, NA".
    EXPECT_EQ(ims_psc_inv_pasid_page(c.p, 2, 3, 0, 30, true), 0u);
    EXPECT_EQ(total(c.p), 16u);
}

TEST(Psc, Type2PageSelective)
{
    // vtd-facts §4.3/§5.1: type-2 PSI with IH=0 drops the DID's SS entries covering the range and the DID's
    // FS entries (FS/nested state of the DID goes regardless of address).
    Psc c(64, 64); // fully associative: the population fits
    populate(c.p);
    // 4K at 4 GiB + 0x1000: SS l2 and l3 entries at 4 GiB overlap it; the SS entries at 0 do not.
    EXPECT_EQ(ims_psc_inv_page(c.p, 1, (4ull << 30) + 0x1000, 0, false), 8u + 2u);
    EXPECT_TRUE(has(c.p, IMS_PSC_SS, 2, 1, 0, 0));
    EXPECT_TRUE(has(c.p, IMS_PSC_SS, 3, 1, 0, 0));
    EXPECT_FALSE(has(c.p, IMS_PSC_SS, 2, 1, 0, 4ull << 30));
    EXPECT_FALSE(has(c.p, IMS_PSC_SS, 3, 1, 0, 4ull << 30));
    EXPECT_FALSE(has(c.p, IMS_PSC_FS, 2, 1, 3, 0));
    EXPECT_TRUE(has(c.p, IMS_PSC_FS, 2, 2, 3, 0));
    EXPECT_EQ(total(c.p), 14u);
    // A range that covers only part of a level-3 entry's 1 GiB still removes it (overlap).
    EXPECT_EQ(ims_psc_inv_page(c.p, 2, 0x3ff00000, 8, false), 8u + 1u); // hits SS l3 @0, not SS l2 @0
    EXPECT_TRUE(has(c.p, IMS_PSC_SS, 2, 2, 0, 0));
    EXPECT_FALSE(has(c.p, IMS_PSC_SS, 3, 2, 0, 0));
}

TEST(Psc, Type6PasidGranularities)
{
    // vtd-facts §4.7/§5.1: type 6 acts on FS PSC entries of (DID, PASID); SS PSC entries untouched.
    Psc c(64, 64); // fully associative: the population fits
    populate(c.p);
    EXPECT_EQ(ims_psc_inv_pasid_page(c.p, 1, 3, 0x1000, 0, false), 2u); // l2 and l3 at 0
    EXPECT_TRUE(has(c.p, IMS_PSC_FS, 2, 1, 3, 4ull << 30));
    EXPECT_TRUE(has(c.p, IMS_PSC_FS, 2, 1, 4, 0));
    EXPECT_TRUE(has(c.p, IMS_PSC_SS, 2, 1, 3, 0));
    EXPECT_EQ(ims_psc_inv_pasid(c.p, 1, 3), 2u); // the two at 4 GiB
    EXPECT_EQ(ims_psc_inv_pasid(c.p, 1, 4), 4u);
    EXPECT_EQ(ims_psc_count(c.p, IMS_PSC_SS, 2), 4u);
    EXPECT_EQ(total(c.p), 16u);
}

TEST(Psc, DomainAndGlobal)
{
    Psc c(64, 64); // fully associative: the population fits
    populate(c.p);
    EXPECT_EQ(ims_psc_inv_domain(c.p, 2), 12u);
    EXPECT_TRUE(has(c.p, IMS_PSC_SS, 2, 1, 0, 0));
    EXPECT_EQ(ims_psc_inv_global(c.p), 12u);
    EXPECT_EQ(total(c.p), 0u);
}

TEST(Psc, CreateFromConfig)
{
    ims_error err{};
    const ims_cfg_key *tables[] = {ims_vtd_cache_cfg_keys};
    ims_config *cfg = ims_config_create(tables, 1, &err);
    ASSERT_NE(cfg, nullptr) << err.msg;
    ims_psc *p = nullptr;
    ASSERT_EQ(ims_psc_create_cfg(cfg, nullptr, nullptr, &p, &err), 0) << err.msg;
    EXPECT_EQ(ims_sac_entries(ims_psc_cache(p, IMS_PSC_FS, 2)), 64u);
    EXPECT_EQ(ims_sac_entries(ims_psc_cache(p, IMS_PSC_SS, 5)), 2u);
    ims_psc_destroy(p);
    ASSERT_EQ(ims_config_set(cfg, "psc.ss.l3.entries", "10", "--set", &err), 0);
    EXPECT_EQ(ims_psc_create_cfg(cfg, nullptr, nullptr, &p, &err), -EINVAL);
    EXPECT_NE(std::string(err.msg).find("psc.ss.l3.ways (4) must divide psc.ss.l3.entries (10)"),
              std::string::npos)
        << err.msg;
    ims_config_destroy(cfg);
}

// ---- randomized property test ----------------------------------------------------------------------

struct RefE {
    int stage;
    unsigned level;
    uint16_t did;
    uint32_t pasid; // 0 for SS
    uint64_t base;
    uint64_t next;
};
using RTag = std::tuple<int, unsigned, uint16_t, uint32_t, uint64_t>;

void snap_fn(const ims_psc_entry *e, void *arg)
{
    ((std::set<std::tuple<int, unsigned, uint16_t, uint32_t, uint64_t, uint64_t>> *)arg)
        ->insert({e->stage, e->level, e->did, e->pasid, e->base, e->next_table});
}

std::set<std::tuple<int, unsigned, uint16_t, uint32_t, uint64_t, uint64_t>> snap(ims_psc *p)
{
    std::set<std::tuple<int, unsigned, uint16_t, uint32_t, uint64_t, uint64_t>> s;
    ims_psc_foreach(p, snap_fn, &s);
    return s;
}

TEST(Psc, RandomizedInvalidationsMatchReference)
{
    ims_rng rng;
    ims_rng_seed(&rng, 99);
    auto rnd = [&](uint64_t n) { return ims_rng_below(&rng, n); };
    Psc c(8, 2); // small: evictions happen
    std::map<RTag, RefE> ref;
    auto rand_addr = [&]() { return (rnd(4) << 39) | (rnd(3) << 30) | (rnd(8) << 21) | (rnd(512) << 12); };
    size_t evictions = 0, removed = 0;
    for (int step = 0; step < 6000; step++) {
        unsigned op = (unsigned)rnd(100);
        if (op < 75) {
            int st = (int)rnd(2);
            unsigned level = 2 + (unsigned)rnd(4);
            uint16_t did = (uint16_t)(1 + rnd(3));
            uint32_t pasid = (uint32_t)rnd(3);
            uint64_t a = rand_addr();
            uint64_t base = a >> (3 + 9 * level) << (3 + 9 * level);
            ims_psc_entry e = P((ims_psc_stage)st, level, did, pasid, a, (rnd(1 << 20) + 1) << 12);
            RefE r{st, level, did, st == IMS_PSC_FS ? pasid : 0, base, e.next_table};
            RTag tag{st, level, did, r.pasid, base};
            bool existed = ref.count(tag) != 0;
            ref[tag] = r;
            int what = ims_psc_insert(c.p, &e);
            if (existed) {
                ASSERT_EQ(what, IMS_SAC_REPLACED);
            } else if (what == IMS_SAC_EVICTED) {
                auto s = snap(c.p);
                int gone = 0;
                for (auto it = ref.begin(); it != ref.end();) {
                    const RefE &x = it->second;
                    if (!s.count({x.stage, x.level, x.did, x.pasid, x.base, x.next})) {
                        ASSERT_EQ(x.stage, st); // evicted from the same cache
                        ASSERT_EQ(x.level, level);
                        it = ref.erase(it);
                        gone++;
                    } else {
                        ++it;
                    }
                }
                ASSERT_EQ(gone, 1);
                evictions++;
            } else {
                ASSERT_EQ(what, IMS_SAC_FILLED);
            }
            continue;
        }
        uint16_t did = (uint16_t)(1 + rnd(3));
        uint32_t pasid = (uint32_t)rnd(3);
        unsigned am = (unsigned)rnd(30);
        uint64_t addr = rand_addr();
        bool ih = rnd(4) == 0;
        uint64_t lo = addr & ~((1ull << (12 + am)) - 1), hi = lo + (1ull << (12 + am)) - 1;
        auto overlap = [&](const RefE &e) {
            uint64_t last = e.base + (1ull << (3 + 9 * e.level)) - 1;
            return e.base <= hi && lo <= last;
        };
        auto drop = [&](auto f) {
            size_t n = 0;
            for (auto it = ref.begin(); it != ref.end();)
                if (f(it->second)) {
                    it = ref.erase(it);
                    n++;
                } else {
                    ++it;
                }
            return n;
        };
        size_t got = 0, want = 0;
        switch (rnd(5)) {
        case 0:
            if (rnd(10) == 0) {
                got = ims_psc_inv_global(c.p);
                want = drop([](const RefE &) { return true; });
            }
            break;
        case 1:
            got = ims_psc_inv_domain(c.p, did);
            want = drop([&](const RefE &e) { return e.did == did; });
            break;
        case 2: // type 2 PSI (Table 23): all FS of the DID; SS of the DID in range only with IH=0
            got = ims_psc_inv_page(c.p, did, addr, am, ih);
            want = drop([&](const RefE &e) {
                return e.did == did && (e.stage == IMS_PSC_FS || (!ih && overlap(e)));
            });
            break;
        case 3: // type 6 G=10
            got = ims_psc_inv_pasid(c.p, did, pasid);
            want = drop([&](const RefE &e) { return e.stage == IMS_PSC_FS && e.did == did && e.pasid == pasid; });
            break;
        default: // type 6 G=11
            got = ims_psc_inv_pasid_page(c.p, did, pasid, addr, am, ih);
            want = drop([&](const RefE &e) {
                return !ih && e.stage == IMS_PSC_FS && e.did == did && e.pasid == pasid && overlap(e);
            });
            break;
        }
        ASSERT_EQ(got, want) << "step " << step;
        removed += got;
        std::set<std::tuple<int, unsigned, uint16_t, uint32_t, uint64_t, uint64_t>> r;
        for (auto &[t, e] : ref)
            r.insert({e.stage, e.level, e.did, e.pasid, e.base, e.next});
        ASSERT_EQ(snap(c.p), r) << "step " << step;
    }
    EXPECT_GT(evictions, 100u);
    EXPECT_GT(removed, 300u);
}

} // namespace
