// Log-linear histogram: bucket layout, percentile accuracy against exact
// sorted-data percentiles, merge.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "sim/histogram.h"
#include "sim/rng.h"

namespace {

struct Hist {
    ims_hist h;
    Hist() { EXPECT_EQ(ims_hist_init(&h), 0); }
    ~Hist() { ims_hist_fini(&h); }
    Hist(const Hist &) = delete;
    Hist &operator=(const Hist &) = delete;
};

// Nearest rank as in sim/histogram.h: the smallest sample v with at least
// ceil(p/100 * n) samples <= v; p = 0 means the minimum.
uint64_t exact_percentile(const std::vector<uint64_t> &sorted, double p)
{
    double x = p * static_cast<double>(sorted.size()) / 100.0;
    size_t rank = static_cast<size_t>(std::ceil(x));
    if (rank < 1)
        rank = 1;
    if (rank > sorted.size())
        rank = sorted.size();
    return sorted[rank - 1];
}

const double kPercentiles[] = {0, 0.1, 1, 5, 10, 25, 33.3, 50, 66.6, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100};

void check_percentiles(const std::vector<uint64_t> &data, const char *what)
{
    Hist h;
    for (uint64_t v : data)
        ims_hist_record(&h.h, v);
    std::vector<uint64_t> sorted(data);
    std::sort(sorted.begin(), sorted.end());
    for (double p : kPercentiles) {
        double exact = static_cast<double>(exact_percentile(sorted, p));
        double got = ims_hist_percentile(&h.h, p);
        EXPECT_LE(std::fabs(got - exact), 0.01 * exact) << what << " p" << p << " exact " << exact << " got " << got;
    }
    EXPECT_EQ(ims_hist_percentile(&h.h, 0), static_cast<double>(sorted.front())) << what;
    EXPECT_EQ(ims_hist_percentile(&h.h, 100), static_cast<double>(sorted.back())) << what;
}

} // namespace

TEST(Histogram, LayoutConstants)
{
    // 128 exact buckets plus 128 sub-buckets for each leading-bit position 7..63.
    EXPECT_EQ(IMS_HIST_SUB, 128u);
    EXPECT_EQ(IMS_HIST_BUCKETS, 128u + 57u * 128u);
}

TEST(Histogram, BucketOfKnownValues)
{
    EXPECT_EQ(ims_hist_bucket_of(0), 0u);
    EXPECT_EQ(ims_hist_bucket_of(1), 1u);
    EXPECT_EQ(ims_hist_bucket_of(127), 127u);
    // [128, 256): leading bit 7, sub-bucket width 1, still exact
    EXPECT_EQ(ims_hist_bucket_of(128), 128u);
    EXPECT_EQ(ims_hist_bucket_of(255), 255u);
    // [256, 512): width 2
    EXPECT_EQ(ims_hist_bucket_of(256), 256u);
    EXPECT_EQ(ims_hist_bucket_of(257), 256u);
    EXPECT_EQ(ims_hist_bucket_of(258), 257u);
    EXPECT_EQ(ims_hist_bucket_of(511), 383u);
    EXPECT_EQ(ims_hist_bucket_of(512), 384u);
    // 2^63 opens the last group; UINT64_MAX is the last bucket
    EXPECT_EQ(ims_hist_bucket_of(UINT64_C(1) << 63), 57u * 128u);
    EXPECT_EQ(ims_hist_bucket_of((UINT64_C(1) << 63) - 1), 57u * 128u - 1u);
    EXPECT_EQ(ims_hist_bucket_of(UINT64_MAX), IMS_HIST_BUCKETS - 1u);
}

TEST(Histogram, BucketLowHighOfKnownBuckets)
{
    EXPECT_EQ(ims_hist_bucket_low(0), 0u);
    EXPECT_EQ(ims_hist_bucket_high(0), 0u);
    EXPECT_EQ(ims_hist_bucket_low(127), 127u);
    EXPECT_EQ(ims_hist_bucket_high(127), 127u);
    EXPECT_EQ(ims_hist_bucket_low(255), 255u);
    EXPECT_EQ(ims_hist_bucket_high(255), 255u);
    EXPECT_EQ(ims_hist_bucket_low(256), 256u);
    EXPECT_EQ(ims_hist_bucket_high(256), 257u);
    EXPECT_EQ(ims_hist_bucket_low(57u * 128u), UINT64_C(1) << 63);
    EXPECT_EQ(ims_hist_bucket_high(57u * 128u), (UINT64_C(1) << 63) + (UINT64_C(1) << 56) - 1u);
    EXPECT_EQ(ims_hist_bucket_low(IMS_HIST_BUCKETS - 1u), UINT64_C(255) << 56);
    EXPECT_EQ(ims_hist_bucket_high(IMS_HIST_BUCKETS - 1u), UINT64_MAX);
}

TEST(Histogram, EveryBucketIsContiguousAndWithinOnePercent)
{
    for (unsigned b = 0; b < IMS_HIST_BUCKETS; b++) {
        uint64_t lo = ims_hist_bucket_low(b), hi = ims_hist_bucket_high(b);
        ASSERT_LE(lo, hi) << b;
        ASSERT_EQ(ims_hist_bucket_of(lo), b);
        ASSERT_EQ(ims_hist_bucket_of(hi), b);
        if (b + 1 < IMS_HIST_BUCKETS) {
            ASSERT_EQ(ims_hist_bucket_low(b + 1), hi + 1) << b; // no gaps, no overlap
        }
        if (b < 256) {
            ASSERT_EQ(lo, hi) << "values below 256 are exact";
        } else {
            // the midpoint is within width/2 of every value; width/low <= 1/128
            double width = static_cast<double>(hi - lo) + 1.0;
            ASSERT_LE(width / static_cast<double>(lo), 1.0 / 128.0) << b;
        }
    }
    EXPECT_EQ(ims_hist_bucket_low(0), 0u);
}

TEST(Histogram, RandomValuesLandInTheirBucket)
{
    ims_rng r;
    ims_rng_seed(&r, 42);
    for (int i = 0; i < 100000; i++) {
        // spread over all magnitudes
        uint64_t v = ims_rng_next(&r) >> ims_rng_below(&r, 64);
        unsigned b = ims_hist_bucket_of(v);
        ASSERT_LT(b, IMS_HIST_BUCKETS);
        ASSERT_LE(ims_hist_bucket_low(b), v);
        ASSERT_GE(ims_hist_bucket_high(b), v);
    }
}

TEST(Histogram, EmptyHistogram)
{
    Hist h;
    EXPECT_EQ(h.h.count, 0u);
    EXPECT_EQ(h.h.min, UINT64_MAX);
    EXPECT_EQ(h.h.max, 0u);
    EXPECT_EQ(ims_hist_percentile(&h.h, 50), 0.0);
    EXPECT_EQ(ims_hist_percentile(&h.h, 100), 0.0);
    EXPECT_EQ(ims_hist_mean(&h.h), 0.0);
}

TEST(Histogram, SmallValuesAreExact)
{
    Hist h;
    for (uint64_t v = 1; v <= 200; v++)
        ims_hist_record(&h.h, v);
    EXPECT_EQ(ims_hist_percentile(&h.h, 50), 100.0); // rank 100
    EXPECT_EQ(ims_hist_percentile(&h.h, 90), 180.0); // rank 180
    EXPECT_EQ(ims_hist_percentile(&h.h, 99), 198.0); // rank 198
    EXPECT_EQ(ims_hist_percentile(&h.h, 0.1), 1.0);
    EXPECT_EQ(ims_hist_mean(&h.h), 100.5);
    EXPECT_EQ(h.h.min, 1u);
    EXPECT_EQ(h.h.max, 200u);
}

TEST(Histogram, NearestRankDefinition)
{
    Hist h;
    ims_hist_record(&h.h, 10);
    ims_hist_record(&h.h, 20);
    ims_hist_record(&h.h, 30);
    // ceil(p/100 * 3): p=33.3 -> rank 1, p=34 -> rank 2, p=66.7 -> rank 3
    EXPECT_EQ(ims_hist_percentile(&h.h, 33.3), 10.0);
    EXPECT_EQ(ims_hist_percentile(&h.h, 34), 20.0);
    EXPECT_EQ(ims_hist_percentile(&h.h, 50), 20.0);
    EXPECT_EQ(ims_hist_percentile(&h.h, 66.7), 30.0);
}

TEST(Histogram, ReportsBucketMidpointClampedToMinMax)
{
    Hist h;
    // 2000 lies in [2000, 2007] (leading bit 10, width 8): the midpoint 2003.5
    // is reported for an interior rank, but clamped to max when max is inside.
    ims_hist_record_n(&h.h, 10, 10);
    ims_hist_record_n(&h.h, 2000, 80);
    ims_hist_record_n(&h.h, 5000, 10);
    EXPECT_EQ(ims_hist_bucket_low(ims_hist_bucket_of(2000)), 2000u);
    EXPECT_EQ(ims_hist_bucket_high(ims_hist_bucket_of(2000)), 2007u);
    EXPECT_EQ(ims_hist_percentile(&h.h, 50), 2003.5);
    Hist g;
    ims_hist_record_n(&g.h, 2000, 3);
    ims_hist_record_n(&g.h, 2002, 1);
    EXPECT_EQ(ims_hist_percentile(&g.h, 50), 2002.0); // midpoint 2003.5 clamped to max
    EXPECT_EQ(ims_hist_percentile(&g.h, 0), 2000.0);
    EXPECT_EQ(ims_hist_percentile(&g.h, 100), 2002.0);
}

TEST(Histogram, ExtremeValues)
{
    Hist h;
    ims_hist_record(&h.h, 0);
    ims_hist_record(&h.h, UINT64_MAX);
    ims_hist_record(&h.h, UINT64_C(1) << 63);
    EXPECT_EQ(h.h.min, 0u);
    EXPECT_EQ(h.h.max, UINT64_MAX);
    EXPECT_EQ(ims_hist_percentile(&h.h, 0), 0.0);
    EXPECT_EQ(ims_hist_percentile(&h.h, 100), static_cast<double>(UINT64_MAX));
    double p50 = ims_hist_percentile(&h.h, 50); // rank 2: 2^63
    EXPECT_LE(std::fabs(p50 - std::ldexp(1.0, 63)), 0.01 * std::ldexp(1.0, 63));
    EXPECT_NEAR(ims_hist_mean(&h.h), (std::ldexp(1.0, 64) + std::ldexp(1.0, 63)) / 3.0, 1e3);
}

TEST(Histogram, PercentilesUniformWithinOnePercent)
{
    ims_rng r;
    ims_rng_seed(&r, 1);
    std::vector<uint64_t> d;
    for (int i = 0; i < 100000; i++)
        d.push_back(ims_rng_below(&r, 1000000));
    check_percentiles(d, "uniform");
}

TEST(Histogram, PercentilesExponentialWithinOnePercent)
{
    ims_rng r;
    ims_rng_seed(&r, 2);
    std::vector<uint64_t> d;
    for (int i = 0; i < 100000; i++)
        d.push_back(static_cast<uint64_t>(-std::log(1.0 - ims_rng_unit(&r)) * 2000.0) + 300);
    check_percentiles(d, "exponential");
}

TEST(Histogram, PercentilesHeavyTailWithinOnePercent)
{
    ims_rng r;
    ims_rng_seed(&r, 3);
    std::vector<uint64_t> d;
    for (int i = 0; i < 100000; i++) {
        // Pareto, alpha 1.1: values from 100 up to ~1e12
        double u = 1.0 - ims_rng_unit(&r);
        d.push_back(static_cast<uint64_t>(100.0 / std::pow(u, 1.0 / 1.1)));
    }
    check_percentiles(d, "pareto");
}

TEST(Histogram, PercentilesSmallSampleWithinOnePercent)
{
    ims_rng r;
    ims_rng_seed(&r, 4);
    for (int n : {1, 2, 3, 7, 10, 99}) {
        std::vector<uint64_t> d;
        for (int i = 0; i < n; i++)
            d.push_back(ims_rng_below(&r, UINT64_C(1) << 40));
        check_percentiles(d, "small");
    }
}

TEST(Histogram, RecordNEqualsRepeatedRecord)
{
    Hist a, b;
    ims_hist_record_n(&a.h, 777, 5);
    ims_hist_record_n(&a.h, 12345, 0); // no samples: nothing changes
    for (int i = 0; i < 5; i++)
        ims_hist_record(&b.h, 777);
    EXPECT_EQ(a.h.count, 5u);
    EXPECT_EQ(a.h.min, 777u);
    EXPECT_EQ(a.h.max, 777u);
    EXPECT_EQ(a.h.sum, b.h.sum);
    for (unsigned i = 0; i < IMS_HIST_BUCKETS; i++)
        ASSERT_EQ(a.h.buckets[i], b.h.buckets[i]);
}

TEST(Histogram, MergeEqualsRecordingEverythingIntoOne)
{
    ims_rng r;
    ims_rng_seed(&r, 5);
    Hist a, b, all;
    for (int i = 0; i < 20000; i++) {
        uint64_t v = ims_rng_below(&r, 50000) + (i % 7 == 0 ? 1000000 : 0);
        ims_hist_record(i % 3 ? &a.h : &b.h, v);
        ims_hist_record(&all.h, v);
    }
    ims_hist_merge(&a.h, &b.h);
    EXPECT_EQ(a.h.count, all.h.count);
    EXPECT_EQ(a.h.sum, all.h.sum);
    EXPECT_EQ(a.h.min, all.h.min);
    EXPECT_EQ(a.h.max, all.h.max);
    for (unsigned i = 0; i < IMS_HIST_BUCKETS; i++)
        ASSERT_EQ(a.h.buckets[i], all.h.buckets[i]) << i;
    for (double p : kPercentiles)
        EXPECT_EQ(ims_hist_percentile(&a.h, p), ims_hist_percentile(&all.h, p)) << p;
    EXPECT_EQ(ims_hist_mean(&a.h), ims_hist_mean(&all.h));
}

TEST(Histogram, MergeWithEmpty)
{
    Hist a, empty, dst;
    ims_hist_record(&a.h, 40);
    ims_hist_record(&a.h, 4000);
    ims_hist_merge(&a.h, &empty.h); // empty source must not disturb min/max
    EXPECT_EQ(a.h.count, 2u);
    EXPECT_EQ(a.h.min, 40u);
    EXPECT_EQ(a.h.max, 4000u);
    ims_hist_merge(&dst.h, &a.h); // into an empty destination
    EXPECT_EQ(dst.h.count, 2u);
    EXPECT_EQ(dst.h.min, 40u);
    EXPECT_EQ(dst.h.max, 4000u);
    EXPECT_EQ(ims_hist_mean(&dst.h), 2020.0);
}

TEST(Histogram, ResetEmpties)
{
    Hist h;
    ims_hist_record(&h.h, 99);
    ims_hist_record(&h.h, 100000);
    ims_hist_reset(&h.h);
    EXPECT_EQ(h.h.count, 0u);
    EXPECT_EQ(h.h.min, UINT64_MAX);
    EXPECT_EQ(h.h.max, 0u);
    EXPECT_EQ(h.h.buckets[99], 0u);
    EXPECT_EQ(h.h.buckets[ims_hist_bucket_of(100000)], 0u);
    ims_hist_record(&h.h, 5);
    EXPECT_EQ(ims_hist_percentile(&h.h, 50), 5.0);
}
