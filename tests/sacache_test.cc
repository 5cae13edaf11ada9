// Generic set-associative cache engine (sim/sacache.h): geometry checks, exact victim sequences of
// each replacement policy, associativity conflicts, statistics, and a randomized comparison against
// an independent reference model (per-set LRU lists).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <list>
#include <map>
#include <string>
#include <vector>

#include "sim/sacache.h"
#include "sim/stats.h"

namespace {

struct Key {
    uint64_t a;
    uint64_t b;
};

struct Cache {
    ims_sacache *c = nullptr;
    ~Cache() { ims_sac_destroy(c); }
};

int make(Cache &out, uint32_t entries, uint32_t ways, ims_sac_policy pol, ims_rng *rng = nullptr,
         ims_stats *stats = nullptr, ims_error *err = nullptr, uint32_t key_size = 16)
{
    ims_sac_params p{};
    p.name = "t";
    p.geom = {entries, ways, pol};
    p.key_size = key_size;
    p.payload_size = sizeof(uint32_t);
    p.rng = rng;
    p.stats = stats;
    p.stats_prefix = stats ? "t" : nullptr;
    return ims_sac_create(&p, &out.c, err);
}

// Insert key k (payload = k) into set s; returns the evicted key's `a` or -1 if none.
int64_t put(Cache &c, uint32_t set, uint64_t k)
{
    Key key{k, 0}, ev{};
    uint32_t payload = (uint32_t)k, evp = 0;
    int r = ims_sac_insert(c.c, set, &key, &payload, &ev, &evp);
    if (r == IMS_SAC_EVICTED) {
        EXPECT_EQ(evp, (uint32_t)ev.a);
        return (int64_t)ev.a;
    }
    return -1;
}

bool hit(Cache &c, uint32_t set, uint64_t k)
{
    Key key{k, 0};
    return ims_sac_lookup(c.c, set, &key) != nullptr;
}

TEST(SaCache, GeometryValidation)
{
    Cache c;
    ims_error err{};
    EXPECT_EQ(make(c, 64, 3, IMS_SAC_LRU, nullptr, nullptr, &err), -EINVAL);
    EXPECT_NE(std::string(err.msg).find("ways (3) must divide entries (64)"), std::string::npos) << err.msg;
    EXPECT_EQ(c.c, nullptr);
    EXPECT_EQ(make(c, 64, 0, IMS_SAC_LRU, nullptr, nullptr, &err), -EINVAL);
    EXPECT_EQ(make(c, 4, 8, IMS_SAC_LRU, nullptr, nullptr, &err), -EINVAL); // more ways than entries
    EXPECT_EQ(make(c, 64, 4, IMS_SAC_RANDOM, nullptr, nullptr, &err), -EINVAL);
    EXPECT_NE(std::string(err.msg).find("random"), std::string::npos);
    EXPECT_EQ(make(c, 64, 4, IMS_SAC_LRU, nullptr, nullptr, &err, 12), -EINVAL); // key not whole words
    EXPECT_EQ(make(c, 64, 4, IMS_SAC_LRU, nullptr, nullptr, &err, 40), -EINVAL); // key too long
    EXPECT_EQ(make(c, 64, 4, (ims_sac_policy)7, nullptr, nullptr, &err), -EINVAL);

    ASSERT_EQ(make(c, 64, 4, IMS_SAC_LRU), 0);
    EXPECT_EQ(ims_sac_sets(c.c), 16u);
    EXPECT_EQ(ims_sac_ways(c.c), 4u);
    EXPECT_EQ(ims_sac_entries(c.c), 64u);
    EXPECT_EQ(ims_sac_set_of(c.c, 0x1234), 0x4u); // power of two: low bits

    Cache d;
    ASSERT_EQ(make(d, 96, 4, IMS_SAC_LRU), 0);
    EXPECT_EQ(ims_sac_sets(d.c), 24u);
    EXPECT_EQ(ims_sac_set_of(d.c, 100), 100u % 24u);

    Cache fa; // fully associative: one set
    ASSERT_EQ(make(fa, 8, 8, IMS_SAC_LRU), 0);
    EXPECT_EQ(ims_sac_sets(fa.c), 1u);
    EXPECT_EQ(ims_sac_set_of(fa.c, 12345), 0u);
}

TEST(SaCache, LruVictimSequence)
{
    Cache c;
    ASSERT_EQ(make(c, 4, 4, IMS_SAC_LRU), 0);
    for (uint64_t k = 1; k <= 4; k++)
        EXPECT_EQ(put(c, 0, k), -1); // free ways fill first
    EXPECT_TRUE(hit(c, 0, 1));
    EXPECT_TRUE(hit(c, 0, 3));
    // Recency now (old -> new): 2, 4, 1, 3.
    EXPECT_EQ(put(c, 0, 5), 2);
    EXPECT_EQ(put(c, 0, 6), 4);
    EXPECT_TRUE(hit(c, 0, 1));
    EXPECT_EQ(put(c, 0, 7), 3);
    EXPECT_EQ(put(c, 0, 8), 5);
    EXPECT_EQ(put(c, 0, 9), 6);
    EXPECT_EQ(put(c, 0, 10), 1);
    // Re-inserting a cached key refreshes it instead of evicting.
    Key k7{7, 0};
    uint32_t p = 77;
    EXPECT_EQ(ims_sac_insert(c.c, 0, &k7, &p, nullptr, nullptr), IMS_SAC_REPLACED);
    EXPECT_EQ(*(const uint32_t *)ims_sac_peek(c.c, 0, &k7), 77u);
    EXPECT_EQ(put(c, 0, 11), 8);
    EXPECT_EQ(ims_sac_count(c.c), 4u);
}

TEST(SaCache, PeekDoesNotTouchLru)
{
    Cache c;
    ASSERT_EQ(make(c, 2, 2, IMS_SAC_LRU), 0);
    put(c, 0, 1);
    put(c, 0, 2);
    Key k1{1, 0};
    EXPECT_NE(ims_sac_peek(c.c, 0, &k1), nullptr);
    EXPECT_EQ(put(c, 0, 3), 1); // 1 is still the least recently used
}

TEST(SaCache, RoundRobinVictimSequence)
{
    Cache c;
    ASSERT_EQ(make(c, 4, 4, IMS_SAC_RR), 0);
    for (uint64_t k = 1; k <= 4; k++)
        EXPECT_EQ(put(c, 0, k), -1);
    EXPECT_TRUE(hit(c, 0, 1)); // hits do not matter to round-robin
    EXPECT_EQ(put(c, 0, 5), 1);  // way 0
    EXPECT_EQ(put(c, 0, 6), 2);  // way 1
    EXPECT_EQ(put(c, 0, 7), 3);  // way 2
    EXPECT_EQ(put(c, 0, 8), 4);  // way 3
    EXPECT_EQ(put(c, 0, 9), 5);  // way 0 again
    // A removed way is refilled first; the pointer (now way 1) is unchanged.
    Key k7{7, 0};
    EXPECT_TRUE(ims_sac_remove(c.c, 0, &k7));
    EXPECT_EQ(put(c, 0, 10), -1); // takes way 2
    EXPECT_EQ(put(c, 0, 11), 6);  // way 1
    EXPECT_EQ(put(c, 0, 12), 10); // way 2
    // Flush resets the pointers to way 0.
    EXPECT_EQ(ims_sac_flush(c.c), 4u);
    for (uint64_t k = 20; k < 24; k++)
        put(c, 0, k);
    EXPECT_EQ(put(c, 0, 24), 20);
}

TEST(SaCache, RoundRobinPointerIsPerSet)
{
    Cache c;
    ASSERT_EQ(make(c, 4, 2, IMS_SAC_RR), 0); // 2 sets x 2 ways
    put(c, 0, 1);
    put(c, 0, 2);
    put(c, 1, 3);
    put(c, 1, 4);
    EXPECT_EQ(put(c, 0, 5), 1);
    EXPECT_EQ(put(c, 0, 6), 2);
    EXPECT_EQ(put(c, 1, 7), 3); // set 1's pointer did not move with set 0's
}

std::vector<int64_t> random_victims(uint64_t seed, int n)
{
    ims_rng rng;
    ims_rng_seed(&rng, seed);
    Cache c;
    EXPECT_EQ(make(c, 4, 4, IMS_SAC_RANDOM, &rng), 0);
    std::vector<int64_t> v;
    for (int i = 0; i < n; i++)
        v.push_back(put(c, 0, 100 + i));
    return v;
}

TEST(SaCache, RandomVictimsFollowTheSeededGenerator)
{
    std::vector<int64_t> a = random_victims(42, 40);
    EXPECT_EQ(a, random_victims(42, 40)); // reproducible
    EXPECT_NE(a, random_victims(43, 40));
    // Exact sequence: the victim way is ims_rng_below(rng, ways) on the owner's generator, drawn only
    // when the set is full. Replay it on a model of the ways.
    ims_rng ref;
    ims_rng_seed(&ref, 42);
    int64_t way[4];
    for (int i = 0; i < 4; i++) {
        EXPECT_EQ(a[i], -1);
        way[i] = 100 + i;
    }
    for (int i = 4; i < 40; i++) {
        unsigned w = (unsigned)ims_rng_below(&ref, 4);
        EXPECT_EQ(a[i], way[w]) << "insert " << i;
        way[w] = 100 + i;
    }
}

TEST(SaCache, AssociativityConflicts)
{
    Cache c;
    ASSERT_EQ(make(c, 8, 2, IMS_SAC_LRU), 0); // 4 sets x 2 ways
    // Three keys in set 1 conflict although the other sets are empty.
    EXPECT_EQ(put(c, 1, 1), -1);
    EXPECT_EQ(put(c, 1, 5), -1);
    EXPECT_EQ(put(c, 1, 9), 1);
    EXPECT_EQ(ims_sac_count(c.c), 2u);
    EXPECT_FALSE(hit(c, 1, 1));
    // The same key in another set is a different entry (the owner picks the set).
    EXPECT_EQ(put(c, 2, 1), -1);
    EXPECT_TRUE(hit(c, 2, 1));
    EXPECT_FALSE(hit(c, 1, 1));
    EXPECT_EQ(ims_sac_count(c.c), 3u);
}

TEST(SaCache, WholeKeyCompared)
{
    Cache c;
    ASSERT_EQ(make(c, 4, 4, IMS_SAC_LRU), 0);
    Key k{1, 2};
    uint32_t p = 9;
    ims_sac_insert(c.c, 0, &k, &p, nullptr, nullptr);
    Key other{1, 3};
    EXPECT_EQ(ims_sac_lookup(c.c, 0, &other), nullptr);
    EXPECT_NE(ims_sac_lookup(c.c, 0, &k), nullptr);
}

TEST(SaCache, StatisticsExact)
{
    ims_stats *st = ims_stats_create(1000000000);
    ASSERT_NE(st, nullptr);
    {
        Cache c;
        ASSERT_EQ(make(c, 4, 2, IMS_SAC_LRU, nullptr, st), 0); // 2 sets x 2 ways
        put(c, 0, 1);
        put(c, 0, 2);
        put(c, 0, 3);           // evicts 1
        put(c, 0, 3);           // replace: an insert, no eviction
        EXPECT_TRUE(hit(c, 0, 2));
        EXPECT_FALSE(hit(c, 0, 1));
        EXPECT_FALSE(hit(c, 1, 2));
        put(c, 1, 4);
        Key k4{4, 0};
        EXPECT_TRUE(ims_sac_remove(c.c, 1, &k4));
        EXPECT_FALSE(ims_sac_remove(c.c, 1, &k4));
        EXPECT_EQ(ims_sac_flush(c.c), 2u);
        EXPECT_EQ(ims_sac_stat_value(c.c, IMS_SAC_HITS), 1u);
    }
    EXPECT_EQ(ims_stats_counter_total(st, "t.lookups"), 3u);
    EXPECT_EQ(ims_stats_counter_total(st, "t.hits"), 1u);
    EXPECT_EQ(ims_stats_counter_total(st, "t.misses"), 2u);
    EXPECT_EQ(ims_stats_counter_total(st, "t.inserts"), 5u);
    EXPECT_EQ(ims_stats_counter_total(st, "t.evictions"), 1u);
    EXPECT_EQ(ims_stats_counter_total(st, "t.invalidated"), 3u);
    ims_stats_destroy(st);
}

bool odd_payload(const void *, const void *payload, void *arg)
{
    (*(int *)arg)++;
    return (*(const uint32_t *)payload) & 1;
}

void collect(const void *key, const void *, void *arg)
{
    ((std::vector<uint64_t> *)arg)->push_back(((const Key *)key)->a);
}

TEST(SaCache, InvalidateIfAndForeach)
{
    Cache c;
    ASSERT_EQ(make(c, 16, 4, IMS_SAC_LRU), 0);
    for (uint64_t k = 0; k < 10; k++)
        put(c, (uint32_t)(k % 4), k);
    int calls = 0;
    EXPECT_EQ(ims_sac_invalidate_if(c.c, odd_payload, &calls), 5u);
    EXPECT_EQ(calls, 10); // called once per valid entry only
    std::vector<uint64_t> left;
    ims_sac_foreach(c.c, collect, &left);
    std::sort(left.begin(), left.end());
    EXPECT_EQ(left, (std::vector<uint64_t>{0, 2, 4, 6, 8}));
    EXPECT_EQ(ims_sac_count(c.c), 5u);
}

TEST(SaCache, EmptyCacheIsSwitchedOff)
{
    Cache c;
    ASSERT_EQ(make(c, 0, 1, IMS_SAC_LRU), 0);
    EXPECT_EQ(ims_sac_sets(c.c), 0u);
    Key k{1, 0};
    uint32_t p = 1;
    EXPECT_EQ(ims_sac_insert(c.c, 0, &k, &p, nullptr, nullptr), IMS_SAC_DROPPED);
    EXPECT_EQ(ims_sac_lookup(c.c, 0, &k), nullptr);
    EXPECT_EQ(ims_sac_stat_value(c.c, IMS_SAC_MISSES), 1u);
    EXPECT_EQ(ims_sac_count(c.c), 0u);
}

// Reference model: per set, a list of keys in LRU order (front = least recent).
TEST(SaCache, RandomOpsMatchReferenceLru)
{
    ims_rng rng;
    ims_rng_seed(&rng, 7);
    const uint32_t sets = 8, ways = 4;
    Cache c;
    ASSERT_EQ(make(c, sets * ways, ways, IMS_SAC_LRU), 0);
    std::vector<std::list<uint64_t>> ref(sets);
    std::map<uint64_t, uint32_t> payload;
    for (int i = 0; i < 20000; i++) {
        uint64_t k = ims_rng_below(&rng, 96);
        uint32_t s = (uint32_t)(k % sets);
        auto &l = ref[s];
        auto it = std::find(l.begin(), l.end(), k);
        unsigned op = (unsigned)ims_rng_below(&rng, 10);
        if (op < 4) { // lookup
            Key key{k, 0};
            const uint32_t *p = (const uint32_t *)ims_sac_lookup(c.c, s, &key);
            ASSERT_EQ(p != nullptr, it != l.end()) << "op " << i;
            if (p) {
                EXPECT_EQ(*p, payload[k]);
                l.splice(l.end(), l, it);
            }
        } else if (op < 9) { // insert
            Key key{k, 0}, ev{};
            uint32_t pl = (uint32_t)i, evp = 0;
            int r = ims_sac_insert(c.c, s, &key, &pl, &ev, &evp);
            payload[k] = pl;
            if (it != l.end()) {
                ASSERT_EQ(r, IMS_SAC_REPLACED);
                l.splice(l.end(), l, it);
            } else if (l.size() < ways) {
                ASSERT_EQ(r, IMS_SAC_FILLED);
                l.push_back(k);
            } else {
                ASSERT_EQ(r, IMS_SAC_EVICTED);
                ASSERT_EQ(ev.a, l.front()) << "op " << i;
                EXPECT_EQ(evp, payload[ev.a]);
                l.pop_front();
                l.push_back(k);
            }
        } else { // remove
            Key key{k, 0};
            ASSERT_EQ(ims_sac_remove(c.c, s, &key), it != l.end());
            if (it != l.end())
                l.erase(it);
        }
    }
    size_t n = 0;
    for (auto &l : ref)
        n += l.size();
    EXPECT_EQ(ims_sac_count(c.c), n);
}

} // namespace
