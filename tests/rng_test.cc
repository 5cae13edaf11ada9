#include <gtest/gtest.h>

#include <vector>

#include "sim/rng.h"

TEST(Rng, SameSeedSameStreamDifferentSeedDifferentStream)
{
    ims_rng a, b, c;
    ims_rng_seed(&a, 42);
    ims_rng_seed(&b, 42);
    ims_rng_seed(&c, 43);
    int same_c = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = ims_rng_next(&a);
        EXPECT_EQ(x, ims_rng_next(&b));
        same_c += x == ims_rng_next(&c);
    }
    EXPECT_EQ(same_c, 0);
}

TEST(Rng, BelowIsInRangeAndRoughlyUniform)
{
    ims_rng r;
    ims_rng_seed(&r, 1);
    std::vector<int> hist(10);
    for (int i = 0; i < 100000; i++) {
        uint64_t x = ims_rng_below(&r, 10);
        ASSERT_LT(x, 10u);
        hist[x]++;
    }
    for (int h : hist) { // expected 10000 each; 5 sigma is about 475
        EXPECT_GT(h, 9500);
        EXPECT_LT(h, 10500);
    }
    EXPECT_EQ(ims_rng_below(&r, 0), 0u);
    EXPECT_EQ(ims_rng_below(&r, 1), 0u);
}

TEST(Rng, UnitIsInHalfOpenInterval)
{
    ims_rng r;
    ims_rng_seed(&r, 9);
    double sum = 0;
    for (int i = 0; i < 100000; i++) {
        double u = ims_rng_unit(&r);
        ASSERT_GE(u, 0.0);
        ASSERT_LT(u, 1.0);
        sum += u;
    }
    EXPECT_NEAR(sum / 100000, 0.5, 0.01);
}

TEST(Rng, ForkIsDeterministicAndIndependent)
{
    ims_rng a, b, ca, cb;
    ims_rng_seed(&a, 5);
    ims_rng_seed(&b, 5);
    ims_rng_fork(&a, &ca);
    ims_rng_fork(&b, &cb);
    EXPECT_EQ(ims_rng_next(&ca), ims_rng_next(&cb));
    EXPECT_NE(ims_rng_next(&ca), ims_rng_next(&a));
}
