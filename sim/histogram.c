/* Log-linear latency histogram (see sim/histogram.h).
 *
 * Layout: bucket v for v < IMS_HIST_SUB (exact). A value with its highest set
 * bit at position e >= IMS_HIST_SUB_BITS falls into group g = e - SUB_BITS; the
 * group splits [2^e, 2^(e+1)) into IMS_HIST_SUB equal sub-buckets of width 2^g,
 * selected by the SUB_BITS bits below the leading one. Bucket index is
 * (g + 1) * SUB + sub, so indices are monotonic in the value and the last one,
 * for UINT64_MAX, is IMS_HIST_BUCKETS - 1. A bucket's width divided by its
 * smallest value is at most 2^g / 2^e = 1/SUB, and its midpoint is within half
 * of that of every value in it. */
#include "sim/histogram.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

unsigned ims_hist_bucket_of(uint64_t v) { return ims_hist_bucket_index(v); }

uint64_t ims_hist_bucket_low(unsigned b)
{
    assert(b < IMS_HIST_BUCKETS);
    if (b < IMS_HIST_SUB)
        return b;
    unsigned g = b / IMS_HIST_SUB - 1u;
    uint64_t sub = b % IMS_HIST_SUB;
    return (IMS_HIST_SUB + sub) << g;
}

uint64_t ims_hist_bucket_high(unsigned b)
{
    assert(b < IMS_HIST_BUCKETS);
    if (b < IMS_HIST_SUB)
        return b;
    unsigned g = b / IMS_HIST_SUB - 1u;
    /* low + width - 1; for the last bucket this is exactly UINT64_MAX */
    return ims_hist_bucket_low(b) + ((UINT64_C(1) << g) - 1u);
}

/* Representative value of a bucket: its midpoint, computed without overflow. */
static double bucket_mid(unsigned b)
{
    uint64_t lo = ims_hist_bucket_low(b);
    uint64_t hi = ims_hist_bucket_high(b);
    return (double)lo + (double)(hi - lo) / 2.0;
}

static void hist_clear(ims_hist *h)
{
    h->count = 0;
    h->min = UINT64_MAX;
    h->max = 0;
    h->sum = 0;
}

int ims_hist_init(ims_hist *h)
{
    hist_clear(h);
    h->buckets = calloc(IMS_HIST_BUCKETS, sizeof(*h->buckets));
    return h->buckets ? 0 : -ENOMEM;
}

void ims_hist_fini(ims_hist *h)
{
    free(h->buckets);
    h->buckets = NULL;
    hist_clear(h);
}

void ims_hist_reset(ims_hist *h)
{
    if (h->buckets)
        memset(h->buckets, 0, IMS_HIST_BUCKETS * sizeof(*h->buckets));
    hist_clear(h);
}

void ims_hist_record_n(ims_hist *h, uint64_t v, uint64_t n)
{
    if (n == 0)
        return; /* no sample: min/max must not move */
    h->buckets[ims_hist_bucket_of(v)] += n;
    h->count += n;
    h->sum += (unsigned __int128)v * n;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

void ims_hist_record(ims_hist *h, uint64_t v) { ims_hist_add(h, v); }

void ims_hist_merge(ims_hist *dst, const ims_hist *src)
{
    if (src->count == 0)
        return;
    unsigned lo = ims_hist_bucket_of(src->min);
    unsigned hi = ims_hist_bucket_of(src->max);
    for (unsigned b = lo; b <= hi; b++)
        dst->buckets[b] += src->buckets[b];
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

/* Percentile over the union of the samples of h[0..n-1] (n = 1 or 2). */
static double percentile_of(const ims_hist *const *h, unsigned n, double p)
{
    uint64_t count = 0, min = UINT64_MAX, max = 0;
    for (unsigned i = 0; i < n; i++) {
        count += h[i]->count;
        if (h[i]->count) {
            min = h[i]->min < min ? h[i]->min : min;
            max = h[i]->max > max ? h[i]->max : max;
        }
    }
    if (count == 0)
        return 0.0;
    /* Nearest rank: the rank-th smallest sample, rank = ceil(p/100 * count).
     * p * count first so that e.g. p = 99.9, count = 1e5 gives exactly 99900. */
    double x = p * (double)count / 100.0;
    if (!(x > 1.0)) /* also catches NaN */
        return (double)min; /* rank 1 is the smallest sample: exact */
    if (x >= (double)count)
        return (double)max; /* rank count is the largest sample: exact */
    uint64_t rank = (uint64_t)ceil(x);
    if (rank >= count)
        return (double)max;

    unsigned lo = ims_hist_bucket_of(min);
    unsigned hi = ims_hist_bucket_of(max);
    uint64_t seen = 0;
    unsigned b = lo;
    for (; b < hi; b++) {
        for (unsigned i = 0; i < n; i++)
            seen += h[i]->buckets[b];
        if (seen >= rank)
            break;
    }
    double v = bucket_mid(b);
    if (v < (double)min)
        v = (double)min;
    if (v > (double)max)
        v = (double)max;
    return v;
}

double ims_hist_percentile(const ims_hist *h, double p) { return percentile_of(&h, 1, p); }

double ims_hist_percentile2(const ims_hist *a, const ims_hist *b, double p)
{
    const ims_hist *h[2] = {a, b};
    return percentile_of(h, 2, p);
}

/* Whole part and remainder separately: each converts to double with one
 * rounding, so the mean is within an ulp of exact (no x87 long double). */
static double mean_of(unsigned __int128 sum, uint64_t count)
{
    if (count == 0)
        return 0.0;
    unsigned __int128 q = sum / count;
    uint64_t r = (uint64_t)(sum % count);
    return (double)q + (double)r / (double)count;
}

double ims_hist_mean(const ims_hist *h) { return mean_of(h->sum, h->count); }

double ims_hist_mean2(const ims_hist *a, const ims_hist *b)
{
    return mean_of(a->sum + b->sum, a->count + b->count);
}
