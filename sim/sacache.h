/* A generic set-associative cache engine: sets x ways of fixed-size entries,
 * each an opaque key and an opaque payload, with a valid bit and a replacement
 * policy. Every VT-d translation cache (IOTLB, paging-structure, context and
 * PASID caches) and the endpoint's ATS device-TLB are built on it.
 *
 * It is a functional data structure: no notion of time. The owner computes the
 * set index (ims_sac_set_of folds any number into range) and passes keys as
 * bytes; keys are 8, 16, 24 or 32 bytes and are compared as 64-bit words, so a
 * key struct must have no uninitialised padding (zero it first).
 *
 * Replacement: an insert into a set with a free way takes the lowest free way,
 * whatever the policy. A full set evicts
 *   LRU    - the way touched least recently (lookup hit or insert);
 *   RR     - the way at the set's round-robin pointer, which then advances by
 *            one (a per-set FIFO over evictions);
 *   RANDOM - a uniformly drawn way (ims_rng_below(rng, ways) on the owner's
 *            seeded generator, so runs are reproducible).
 * A cache with 1 set is fully associative. entries = 0 gives an empty cache:
 * every lookup misses and inserts are dropped (a cache that is switched off).
 *
 * Statistics: lookups, hits, misses, inserts, evictions and invalidated
 * (entries removed by invalidate_if, remove and flush) are counted into
 * ims_counter cells, registered in an ims_stats registry as "<prefix>.lookups"
 * etc. when the owner gives one, else kept privately. */
#ifndef IMS_SIM_SACACHE_H
#define IMS_SIM_SACACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/err.h"
#include "sim/rng.h"
#include "sim/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Values equal the config enum index of "lru|rr|random". */
typedef enum ims_sac_policy {
    IMS_SAC_LRU = 0,
    IMS_SAC_RR = 1,
    IMS_SAC_RANDOM = 2,
} ims_sac_policy;

#define IMS_SAC_POLICY_CHOICES "lru|rr|random"
#define IMS_SAC_KEY_MAX 32u        /* bytes */
#define IMS_SAC_PAYLOAD_MAX 4096u  /* bytes */

/* Geometry as configured (entries, ways, policy). */
typedef struct ims_sac_geom {
    uint32_t entries;
    uint32_t ways;
    ims_sac_policy policy;
} ims_sac_geom;

typedef struct ims_sac_params {
    const char *name;          /* for messages ("iotlb", "psc.fs.l2") */
    ims_sac_geom geom;
    uint32_t key_size;         /* bytes: 8, 16, 24 or 32 */
    uint32_t payload_size;     /* bytes, 0..IMS_SAC_PAYLOAD_MAX */
    ims_rng *rng;              /* required for IMS_SAC_RANDOM; owned by the caller, must outlive the cache */
    ims_stats *stats;          /* optional registry for the counters */
    const char *stats_prefix;  /* "<prefix>.hits" ...; NULL: counters stay private */
} ims_sac_params;

typedef enum ims_sac_stat {
    IMS_SAC_LOOKUPS = 0,
    IMS_SAC_HITS,
    IMS_SAC_MISSES,
    IMS_SAC_INSERTS,
    IMS_SAC_EVICTIONS,
    IMS_SAC_INVALIDATED,
    IMS_SAC_NSTATS,
} ims_sac_stat;

typedef struct ims_sacache ims_sacache;

/* Callbacks get the stored key and payload. */
typedef bool (*ims_sac_pred_fn)(const void *key, const void *payload, void *arg);
typedef void (*ims_sac_visit_fn)(const void *key, const void *payload, void *arg);

/* Check a geometry: ways >= 1 and ways divides entries. -EINVAL with a message
 * naming `name` otherwise. */
int ims_sac_geom_check(const char *name, const ims_sac_geom *g, ims_error *err);

/* Create a cache. -EINVAL (bad geometry, key or payload size, policy, missing
 * rng for random) or -ENOMEM, with a message in err. */
int ims_sac_create(const ims_sac_params *p, ims_sacache **out, ims_error *err);
void ims_sac_destroy(ims_sacache *c);

uint32_t ims_sac_sets(const ims_sacache *c);
uint32_t ims_sac_ways(const ims_sacache *c);
uint32_t ims_sac_entries(const ims_sacache *c);
/* Number of valid entries. */
uint32_t ims_sac_count(const ims_sacache *c);

/* Leading fields of every ims_sacache, so that ims_sac_set_of and the
 * fixed-key-size lookups below inline into the caches built on the engine
 * (the hot path of every translation). Internal: written only by sacache.c. */
typedef struct ims_sac_head {
    uint32_t sets;
    uint32_t set_mask;        /* sets - 1 when sets is a power of two, else UINT32_MAX */
    uint32_t ways;            /* 0 for an empty cache, so a lookup scans nothing */
    uint32_t payload_stride;  /* bytes per payload slot */
    uint64_t clock;           /* last LRU stamp handed out */
    uint64_t *keys;           /* entries x key words */
    uint64_t *stamp;          /* per entry: 0 = invalid, else the LRU age (larger = more recent) */
    unsigned char *payload;   /* entries x payload_stride */
    bool lru;                 /* policy LRU: the victim is the oldest way */
    ims_counter *lookups, *hits, *misses, *inserts, *evictions;
} ims_sac_head;

/* Fold a number (page number, SID, ...) into a set index: modulo the number
 * of sets (a mask when it is a power of two). 0 for an empty cache. */
static inline uint32_t ims_sac_set_of(const ims_sacache *c, uint64_t x)
{
    const ims_sac_head *h = (const ims_sac_head *)(const void *)c;
    if (h->set_mask != UINT32_MAX)
        return (uint32_t)x & h->set_mask;
    return h->sets ? (uint32_t)(x % h->sets) : 0;
}

/* The hit bookkeeping of a lookup that found entry i (see ims_sac_lookup). */
static inline void *ims_sac_hit_entry(ims_sac_head *h, uint32_t i)
{
    h->hits->value++;
    h->stamp[i] = ++h->clock;
    return h->payload + (size_t)i * h->payload_stride;
}

/* ims_sac_lookup for a cache whose keys are one 64-bit word (k0) or two
 * (k0, k1), with the key passed by value: same result, LRU update and
 * counters. The caller must use the variant of its cache's key size. */
static inline void *ims_sac_lookup1(ims_sacache *c, uint32_t set, uint64_t k0)
{
    ims_sac_head *h = (ims_sac_head *)(void *)c;
    h->lookups->value++;
    uint32_t ways = h->ways, base = set * ways;
    const uint64_t *e = h->keys + base;
    const uint64_t *st = h->stamp + base;
    if (ways == 4) { /* the default of every VT-d cache: unrolled */
        for (uint32_t w = 0; w < 4; w++)
            if (e[w] == k0 && st[w])
                return ims_sac_hit_entry(h, base + w);
    } else {
        for (uint32_t w = 0; w < ways; w++)
            if (e[w] == k0 && st[w])
                return ims_sac_hit_entry(h, base + w);
    }
    h->misses->value++;
    return NULL;
}

static inline void *ims_sac_lookup2(ims_sacache *c, uint32_t set, uint64_t k0, uint64_t k1)
{
    ims_sac_head *h = (ims_sac_head *)(void *)c;
    h->lookups->value++;
    uint32_t ways = h->ways, base = set * ways;
    const uint64_t *e = h->keys + 2 * (size_t)base;
    const uint64_t *st = h->stamp + base;
    /* The first word decides almost every mismatch: test it alone first. */
    if (ways == 4) { /* the default of every VT-d cache: unrolled */
        for (uint32_t w = 0; w < 4; w++)
            if (e[2 * w] == k0 && e[2 * w + 1] == k1 && st[w])
                return ims_sac_hit_entry(h, base + w);
    } else {
        for (uint32_t w = 0; w < ways; w++)
            if (e[2 * w] == k0 && e[2 * w + 1] == k1 && st[w])
                return ims_sac_hit_entry(h, base + w);
    }
    h->misses->value++;
    return NULL;
}

/* Look the key up in `set`: a pointer to the stored payload (writable, valid
 * until the next insert, remove, invalidate or flush) or NULL. A hit makes the
 * entry most recently used. Counts one lookup and one hit or miss. */
void *ims_sac_lookup(ims_sacache *c, uint32_t set, const void *key);
/* The same without touching LRU state or counters (checkers, tests). */
const void *ims_sac_peek(const ims_sacache *c, uint32_t set, const void *key);

/* What an insert did. */
enum {
    IMS_SAC_FILLED = 0,   /* the key took a free way */
    IMS_SAC_EVICTED = 1,  /* the key replaced a valid entry of another key (copied to ev_key/ev_payload) */
    IMS_SAC_REPLACED = 2, /* the key was already cached: its payload was overwritten in place */
    IMS_SAC_DROPPED = 3,  /* the cache has no entries */
};

/* Insert key -> payload into `set` and return one of the values above. A
 * missing key takes the lowest free way or the policy's victim; an evicted
 * entry is copied to ev_key / ev_payload (either may be NULL). */
int ims_sac_insert(ims_sacache *c, uint32_t set, const void *key, const void *payload, void *ev_key,
                   void *ev_payload);

/* The victim way of a full set under the RR and RANDOM policies (advancing
 * the pointer or drawing a number, as an insert does). Internal: used by
 * ims_sac_insert_slot2. */
uint32_t ims_sac_policy_victim(ims_sacache *c, uint32_t set);

/* ims_sac_insert for a cache with 2-word keys, the key passed by value and
 * the payload written by the caller: returns the entry's payload slot (to be
 * filled completely; NULL for a cache without entries) and the outcome in
 * *what. An evicted entry's key is copied to ev_key[0..1] (may be NULL); its
 * payload is still in the slot until the caller overwrites it. Inline: the
 * translation caches fill several entries per page walk. */
static inline void *ims_sac_insert_slot2(ims_sacache *c, uint32_t set, uint64_t k0, uint64_t k1, int *what,
                                         uint64_t *ev_key)
{
    ims_sac_head *h = (ims_sac_head *)(void *)c;
    uint32_t ways = h->ways, base = set * ways;
    if (ways == 0) {
        *what = IMS_SAC_DROPPED;
        return NULL;
    }
    uint64_t *keys = h->keys + 2 * (size_t)base;
    const uint64_t *st = h->stamp + base;
    /* One pass: the way holding the key, else the way with the smallest
     * stamp, lowest first on a tie. Valid stamps are unique and non-zero, so
     * that is the lowest free way when there is one (stamp 0), else the least
     * recently used way. Selects, not branches: which way is older is a coin
     * toss for the branch predictor. */
    uint32_t lo = 0, w;
    uint64_t lo_st = UINT64_MAX;
    if (ways == 4) { /* the default of every VT-d cache, unrolled */
        for (w = 0; w < 4; w++)
            if (keys[2 * w] == k0 && keys[2 * w + 1] == k1 && st[w])
                break;
        uint64_t s0 = st[0], s1 = st[1], s2 = st[2], s3 = st[3];
        uint32_t l01 = s1 < s0 ? 1 : 0, l23 = s3 < s2 ? 3 : 2;
        uint64_t m01 = s1 < s0 ? s1 : s0, m23 = s3 < s2 ? s3 : s2;
        lo = m23 < m01 ? l23 : l01;
        lo_st = m23 < m01 ? m23 : m01;
    } else {
        for (w = 0; w < ways; w++) {
            uint64_t sw = st[w];
            if (keys[2 * w] == k0 && keys[2 * w + 1] == k1 && sw)
                break;
            bool older = sw < lo_st;
            lo_st = older ? sw : lo_st;
            lo = older ? w : lo;
        }
    }
    int r = IMS_SAC_REPLACED;
    if (w == ways) {
        if (lo_st == 0) {
            w = lo;
            r = IMS_SAC_FILLED;
        } else {
            w = h->lru ? lo : ims_sac_policy_victim(c, set);
            r = IMS_SAC_EVICTED;
            h->evictions->value++;
            if (ev_key) {
                ev_key[0] = keys[2 * w];
                ev_key[1] = keys[2 * w + 1];
            }
        }
        keys[2 * w] = k0;
        keys[2 * w + 1] = k1;
    }
    uint32_t i = base + w;
    h->stamp[i] = ++h->clock;
    h->inserts->value++;
    *what = r;
    return h->payload + (size_t)i * h->payload_stride;
}

/* Remove one entry; true if it was there. */
bool ims_sac_remove(ims_sacache *c, uint32_t set, const void *key);

/* Remove every valid entry for which pred returns true; returns how many. */
size_t ims_sac_invalidate_if(ims_sacache *c, ims_sac_pred_fn pred, void *arg);

/* Visit every valid entry (set-major, way-minor order). */
void ims_sac_foreach(const ims_sacache *c, ims_sac_visit_fn fn, void *arg);

/* Remove everything; returns how many valid entries there were. The round-
 * robin pointers go back to way 0. */
size_t ims_sac_flush(ims_sacache *c);

/* Counter value in the current statistics phase. */
uint64_t ims_sac_stat_value(const ims_sacache *c, ims_sac_stat s);

#ifdef __cplusplus
}
#endif
#endif
