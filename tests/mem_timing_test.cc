// Memory timing (models/mem/mem_timing.c): cycles per page-walk read, the
// optional cache-hierarchy hit, DMA latency, and the key table.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "models/mem/mem_timing.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "sim/rng.h"
#include "sim/stats.h"

namespace {

struct MemEnv {
    ims_config *cfg = nullptr;
    ims_engine *e = nullptr;
    ims_stats *stats = nullptr;
    ims_rng rng{};
    ims_mem_timing mt{};
    ims_error err{};

    explicit MemEnv(uint64_t clock_mhz, std::initializer_list<const char *> overrides = {}, bool with_stats = true)
    {
        const ims_cfg_key *tables[] = {ims_mem_cfg_keys};
        cfg = ims_config_create(tables, 1, &err);
        EXPECT_NE(cfg, nullptr) << err.msg;
        for (const char *o : overrides)
            EXPECT_EQ(ims_config_set_arg(cfg, o, &err), 0) << err.msg;
        e = ims_engine_create(clock_mhz * 1000000ULL);
        if (with_stats)
            stats = ims_stats_create(clock_mhz * 1000000ULL);
        ims_rng_seed(&rng, 7);
        ims_mem_timing_init(&mt, cfg, e, &rng, stats);
    }
    ~MemEnv()
    {
        ims_stats_destroy(stats);
        ims_engine_destroy(e);
        ims_config_destroy(cfg);
    }
};

// calibration.md: 197 ns per page-walk access, 65 ns DMA base latency (Rubin et al., SOSP'24 §2.2).
TEST(MemTiming, DefaultsAreTheCalibratedLatencies)
{
    MemEnv m(1000);  // 1 GHz: 1 cycle = 1 ns
    EXPECT_EQ(m.mt.read_cycles, 197u);
    EXPECT_EQ(m.mt.dma_cycles, 65u);
    EXPECT_EQ(m.mt.walk_hit_cycles, 40u);
    EXPECT_EQ(m.mt.walk_hit_prob, 0.0);
    for (int i = 0; i < 100; i++)
        EXPECT_EQ(ims_mem_timing_walk_read(&m.mt), 197u);
    EXPECT_EQ(ims_stats_counter_total(m.stats, "mem.walk_reads"), 100u);
    EXPECT_EQ(ims_stats_counter_total(m.stats, "mem.walk_llc_hits"), 0u);
}

TEST(MemTiming, ConvertsWithTheEngineClockRoundingUp)
{
    MemEnv fast(2000);
    EXPECT_EQ(fast.mt.read_cycles, 394u);  // 197 ns at 2 GHz
    EXPECT_EQ(fast.mt.dma_cycles, 130u);
    MemEnv odd(1500);
    EXPECT_EQ(odd.mt.read_cycles, 296u);   // 295.5 cycles: a latency is never shortened
    EXPECT_EQ(odd.mt.dma_cycles, 98u);     // 97.5
    MemEnv set(1000, {"mem.latency_ns=1.5us", "mem.dma_latency_ns=100"});
    EXPECT_EQ(set.mt.read_cycles, 1500u);
    EXPECT_EQ(set.mt.dma_cycles, 100u);    // a bare number is in ns
}

TEST(MemTiming, ProbabilityZeroDrawsNoRandomNumbers)
{
    MemEnv m(1000);
    ims_rng before = m.rng;
    for (int i = 0; i < 10; i++)
        ims_mem_timing_walk_read(&m.mt);
    EXPECT_EQ(std::memcmp(&before, &m.rng, sizeof before), 0) << "other models' random streams must not shift";
}

TEST(MemTiming, ProbabilityOneAlwaysHits)
{
    MemEnv m(1000, {"mem.walk_hit_prob=1", "mem.walk_hit_ns=25ns"});
    for (int i = 0; i < 50; i++)
        EXPECT_EQ(ims_mem_timing_walk_read(&m.mt), 25u);
    EXPECT_EQ(ims_stats_counter_total(m.stats, "mem.walk_llc_hits"), 50u);
    EXPECT_EQ(ims_stats_counter_total(m.stats, "mem.walk_reads"), 50u);
}

TEST(MemTiming, PartialHitRateIsSeededAndNearTheProbability)
{
    MemEnv a(1000, {"mem.walk_hit_prob=0.25"});
    MemEnv b(1000, {"mem.walk_hit_prob=0.25"});
    int hits = 0;
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        ims_cycle ca = ims_mem_timing_walk_read(&a.mt);
        ims_cycle cb = ims_mem_timing_walk_read(&b.mt);
        ASSERT_EQ(ca, cb) << "same seed, same sequence (draw " << i << ")";
        ASSERT_TRUE(ca == 40u || ca == 197u);
        hits += ca == 40u;
    }
    EXPECT_NEAR(hits / double(n), 0.25, 0.015);
    EXPECT_EQ(ims_stats_counter_total(a.stats, "mem.walk_llc_hits"), uint64_t(hits));
}

// The batched form used by the translation pipeline: the same cycles, draws
// and counters as n single reads, at probability 0 and in between.
TEST(MemTiming, BatchedReadsEqualSingleReads)
{
    for (const char *prob : {"mem.walk_hit_prob=0", "mem.walk_hit_prob=0.3"}) {
        MemEnv one(1000, {prob});
        MemEnv batch(1000, {prob});
        for (unsigned n : {0u, 1u, 2u, 5u, 17u, 3u}) {
            ims_cycle sum = 0;
            for (unsigned i = 0; i < n; i++)
                sum += ims_mem_timing_walk_read(&one.mt);
            EXPECT_EQ(ims_mem_timing_walk_reads(&batch.mt, n), sum) << prob << " n=" << n;
        }
        EXPECT_EQ(std::memcmp(&one.rng, &batch.rng, sizeof one.rng), 0) << prob;
        EXPECT_EQ(ims_stats_counter_total(batch.stats, "mem.walk_reads"), 28u) << prob;
        EXPECT_EQ(ims_stats_counter_total(batch.stats, "mem.walk_llc_hits"),
                  ims_stats_counter_total(one.stats, "mem.walk_llc_hits"))
            << prob;
    }
    MemEnv zero(1000);
    EXPECT_EQ(ims_mem_timing_walk_reads(&zero.mt, 4), 4u * 197u);
}

TEST(MemTiming, WorksWithoutStatistics)
{
    MemEnv m(1000, {}, /*with_stats=*/false);
    EXPECT_EQ(m.mt.walk_reads, nullptr);
    EXPECT_EQ(ims_mem_timing_walk_read(&m.mt), 197u);
}

TEST(MemTiming, RejectsOutOfRangeValues)
{
    MemEnv m(1000);
    EXPECT_LT(ims_config_set_arg(m.cfg, "mem.walk_hit_prob=1.5", &m.err), 0);
    EXPECT_LT(ims_config_set_arg(m.cfg, "mem.walk_hit_prob=-0.1", &m.err), 0);
    EXPECT_LT(ims_config_set_arg(m.cfg, "mem.latency_ns=fast", &m.err), 0);
}

TEST(MemTiming, EveryKeyHasUnitHelpAndSource)
{
    int n = 0;
    for (const ims_cfg_key *k = ims_mem_cfg_keys; k->name; k++, n++) {
        EXPECT_TRUE(k->unit && *k->unit) << k->name;
        EXPECT_TRUE(k->help && *k->help) << k->name;
        EXPECT_TRUE(k->source && *k->source) << k->name;
    }
    EXPECT_EQ(n, 4);
    EXPECT_NE(std::string(ims_mem_cfg_keys[0].name), "");
    EXPECT_NE(std::string(ims_mem_cfg_keys[0].source).find("197"), std::string::npos);
}

}  // namespace
