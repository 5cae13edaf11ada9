/* Latency histogram with log-linear buckets.
 *
 * Values are unsigned 64-bit integers (the caller's unit: cycles, ns). Values
 * below 2^IMS_HIST_SUB_BITS are exact; above, each power of two is split into
 * 2^IMS_HIST_SUB_BITS linear sub-buckets, so a reported percentile is within
 * 1/2^IMS_HIST_SUB_BITS (< 1 %) of the true sample value. Histograms with the same
 * layout merge by adding buckets. Memory is fixed (no allocation per sample). */
#ifndef IMS_SIM_HISTOGRAM_H
#define IMS_SIM_HISTOGRAM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IMS_HIST_SUB_BITS 7
#define IMS_HIST_SUB (1u << IMS_HIST_SUB_BITS)
/* exact region + one group of IMS_HIST_SUB per remaining power of two */
#define IMS_HIST_BUCKETS (IMS_HIST_SUB + (64 - IMS_HIST_SUB_BITS) * IMS_HIST_SUB)

typedef struct ims_hist {
    uint64_t count;
    uint64_t min, max;      /* exact; min is UINT64_MAX when empty */
    unsigned __int128 sum;  /* exact: any uint64 count of uint64 values fits */
    uint64_t *buckets;      /* IMS_HIST_BUCKETS counters, allocated by init */
} ims_hist;

/* Bucket of a value (see histogram.c for the layout); inline because every
 * latency sample of a run computes it. */
static inline unsigned ims_hist_bucket_index(uint64_t v)
{
    if (v < IMS_HIST_SUB)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v);
    unsigned g = e - IMS_HIST_SUB_BITS;
    return (g + 1u) * IMS_HIST_SUB + ((unsigned)(v >> g) & (IMS_HIST_SUB - 1u));
}

/* ims_hist_record inline, for per-sample hot paths (ims_latency_record). */
static inline void ims_hist_add(ims_hist *h, uint64_t v)
{
    h->buckets[ims_hist_bucket_index(v)]++;
    h->count++;
    h->sum += v;
    h->min = v < h->min ? v : h->min;
    h->max = v > h->max ? v : h->max;
}

int ims_hist_init(ims_hist *h);      /* 0 or -ENOMEM */
void ims_hist_fini(ims_hist *h);
void ims_hist_reset(ims_hist *h);
void ims_hist_record(ims_hist *h, uint64_t v);
void ims_hist_record_n(ims_hist *h, uint64_t v, uint64_t n);
void ims_hist_merge(ims_hist *dst, const ims_hist *src);

/* p in [0, 100]. The value v such that at least p % of samples are <= v, within
 * the bucket's relative error; reports the bucket's midpoint clamped to
 * [min, max]. 0 when empty. */
double ims_hist_percentile(const ims_hist *h, double p);
double ims_hist_mean(const ims_hist *h);   /* 0 when empty */

/* The same over the samples of two histograms together (same layout), exactly
 * as if both had been merged into one, without merging them. */
double ims_hist_percentile2(const ims_hist *a, const ims_hist *b, double p);
double ims_hist_mean2(const ims_hist *a, const ims_hist *b);

/* Bucket helpers (exposed for tests). */
unsigned ims_hist_bucket_of(uint64_t v);
uint64_t ims_hist_bucket_low(unsigned b);   /* smallest value in bucket b */
uint64_t ims_hist_bucket_high(unsigned b);  /* largest value in bucket b */

#ifdef __cplusplus
}
#endif
#endif
