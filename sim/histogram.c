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

unsigned ims_hist_bucket_of(uint64_t v)
{
    if (v < IMS_HIST_SUB)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v);
    unsigned g = e - IMS_HIST_SUB_BITS;
    unsigned sub = (unsigned)(v >> g) & (IMS_HIST_SUB - 1u);
    return (g + 1u) * IMS_HIST_SUB + sub;
}

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

/* The per-sample path (every latency record): no multiply, no n == 0 test. */
void ims_hist_record(ims_hist *h, uint64_t v)
{
    h->buckets[ims_hist_bucket_of(v)]++;
    h->count++;
    h->sum += v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

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

double ims_hist_percentile(const ims_hist *h, double p)
{
    if (h->count == 0)
        return 0.0;
    /* Nearest rank: the rank-th smallest sample, rank = ceil(p/100 * count).
     * p * count first so that e.g. p = 99.9, count = 1e5 gives exactly 99900. */
    double x = p * (double)h->count / 100.0;
    if (!(x > 1.0)) /* also catches NaN */
        return (double)h->min; /* rank 1 is the smallest sample: exact */
    if (x >= (double)h->count)
        return (double)h->max; /* rank count is the largest sample: exact */
    uint64_t rank = (uint64_t)ceil(x);
    if (rank >= h->count)
        return (double)h->max;

    unsigned lo = ims_hist_bucket_of(h->min);
    unsigned hi = ims_hist_bucket_of(h->max);
    uint64_t seen = 0;
    unsigned b = lo;
    for (; b < hi; b++) {
        seen += h->buckets[b];
        if (seen >= rank)
            break;
    }
    double v = bucket_mid(b);
    if (v < (double)h->min)
        v = (double)h->min;
    if (v > (double)h->max)
        v = (double)h->max;
    return v;
}

double ims_hist_mean(const ims_hist *h)
{
    if (h->count == 0)
        return 0.0;
    /* Whole part and remainder separately: each converts to double with one
     * rounding, so the mean is within an ulp of exact (no x87 long double). */
    unsigned __int128 q = h->sum / h->count;
    uint64_t r = (uint64_t)(h->sum % h->count);
    return (double)q + (double)r / (double)h->count;
}
