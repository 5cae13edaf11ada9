/* Set-associative cache engine (see sacache.h).
 *
 * Storage is three flat arrays indexed by entry number (set * ways + way):
 * keys as 64-bit words, payload bytes, and a 64-bit stamp that is both the
 * valid bit (0 = invalid) and the LRU age (larger = more recent). The lookup
 * path compares whole words and allocates nothing. */
#include "sim/sacache.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const stat_suffix[IMS_SAC_NSTATS] = {
    "lookups", "hits", "misses", "inserts", "evictions", "invalidated",
};

static const char *const stat_help[IMS_SAC_NSTATS] = {
    "cache lookups",
    "lookups that found the entry",
    "lookups that did not find the entry",
    "entries written (new or replaced)",
    "valid entries evicted by an insert",
    "entries removed by invalidation or flush",
};

struct ims_sacache {
    ims_sac_head head;        /* first: geometry, storage and lookup counters, read by the inline lookups */
    uint32_t sets, ways, entries;
    uint32_t key_words;       /* key size / 8 */
    uint32_t payload_size;
    ims_sac_policy policy;
    ims_rng *rng;
    uint32_t *rr;             /* sets: next round-robin victim */
    ims_counter own[IMS_SAC_NSTATS];
    ims_counter *ctr[IMS_SAC_NSTATS];
};

int ims_sac_geom_check(const char *name, const ims_sac_geom *g, ims_error *err)
{
    if (!name)
        name = "cache";
    if (g->ways == 0)
        return ims_errorf(err, EINVAL, "%s: ways must be at least 1", name);
    if (g->entries % g->ways != 0)
        return ims_errorf(err, EINVAL, "%s: ways (%u) must divide entries (%u)", name, g->ways, g->entries);
    if (g->policy != IMS_SAC_LRU && g->policy != IMS_SAC_RR && g->policy != IMS_SAC_RANDOM)
        return ims_errorf(err, EINVAL, "%s: unknown replacement policy %d (want %s)", name, (int)g->policy,
                          IMS_SAC_POLICY_CHOICES);
    return 0;
}

int ims_sac_create(const ims_sac_params *p, ims_sacache **out, ims_error *err)
{
    const char *name = p->name ? p->name : "cache";
    *out = NULL;
    int rc = ims_sac_geom_check(name, &p->geom, err);
    if (rc)
        return rc;
    if (p->key_size == 0 || p->key_size % 8 != 0 || p->key_size > IMS_SAC_KEY_MAX)
        return ims_errorf(err, EINVAL, "%s: key size %u bytes is not 8, 16, 24 or 32", name, p->key_size);
    if (p->payload_size > IMS_SAC_PAYLOAD_MAX)
        return ims_errorf(err, EINVAL, "%s: payload size %u bytes exceeds %u", name, p->payload_size,
                          IMS_SAC_PAYLOAD_MAX);
    if (p->geom.policy == IMS_SAC_RANDOM && !p->rng)
        return ims_errorf(err, EINVAL, "%s: the random policy needs a random-number generator", name);

    ims_sacache *c = calloc(1, sizeof *c);
    if (!c)
        return ims_errorf(err, ENOMEM, "%s: out of memory", name);
    c->entries = p->geom.entries;
    c->ways = p->geom.ways;
    c->sets = c->entries / c->ways;
    bool pow2_sets = c->sets && (c->sets & (c->sets - 1)) == 0;
    c->head.sets = c->sets;
    c->head.set_mask = pow2_sets ? c->sets - 1u : UINT32_MAX;
    c->key_words = p->key_size / 8;
    c->payload_size = p->payload_size;
    c->head.payload_stride = (p->payload_size + 7u) & ~7u;
    c->policy = p->geom.policy;
    c->rng = p->rng;
    size_t n = c->entries ? c->entries : 1; /* calloc(0) may return NULL */
    c->head.keys = calloc(n * c->key_words, sizeof *c->head.keys);
    c->head.stamp = calloc(n, sizeof *c->head.stamp);
    c->head.payload = calloc(n, c->head.payload_stride ? c->head.payload_stride : 1);
    c->rr = calloc(c->sets ? c->sets : 1, sizeof *c->rr);
    if (!c->head.keys || !c->head.stamp || !c->head.payload || !c->rr) {
        ims_sac_destroy(c);
        return ims_errorf(err, ENOMEM, "%s: out of memory for %u entries", name, p->geom.entries);
    }
    for (int i = 0; i < IMS_SAC_NSTATS; i++) {
        c->ctr[i] = &c->own[i];
        if (p->stats && p->stats_prefix) {
            char sname[128];
            snprintf(sname, sizeof sname, "%s.%s", p->stats_prefix, stat_suffix[i]);
            ims_counter *r = ims_stats_counter(p->stats, sname, stat_help[i]);
            if (!r) {
                ims_sac_destroy(c);
                return ims_errorf(err, ENOMEM, "%s: out of memory registering %s", name, sname);
            }
            c->ctr[i] = r;
        }
    }
    c->head.ways = c->entries ? c->ways : 0;
    c->head.lru = c->policy == IMS_SAC_LRU;
    c->head.inserts = c->ctr[IMS_SAC_INSERTS];
    c->head.evictions = c->ctr[IMS_SAC_EVICTIONS];
    c->head.lookups = c->ctr[IMS_SAC_LOOKUPS];
    c->head.hits = c->ctr[IMS_SAC_HITS];
    c->head.misses = c->ctr[IMS_SAC_MISSES];
    *out = c;
    return 0;
}

void ims_sac_destroy(ims_sacache *c)
{
    if (!c)
        return;
    free(c->head.keys);
    free(c->head.stamp);
    free(c->head.payload);
    free(c->rr);
    free(c);
}

uint32_t ims_sac_sets(const ims_sacache *c) { return c->sets; }
uint32_t ims_sac_ways(const ims_sacache *c) { return c->ways; }
uint32_t ims_sac_entries(const ims_sacache *c) { return c->entries; }

uint32_t ims_sac_count(const ims_sacache *c)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->entries; i++)
        n += c->head.stamp[i] != 0;
    return n;
}

uint64_t ims_sac_stat_value(const ims_sacache *c, ims_sac_stat s)
{
    return (unsigned)s < IMS_SAC_NSTATS ? c->ctr[s]->value : 0;
}

/* ---- internals ------------------------------------------------------------ */

static inline void *payload_at(const ims_sacache *c, uint32_t i)
{
    return c->head.payload + (size_t)i * c->head.payload_stride;
}

/* One key word from a caller buffer of any alignment: a fixed-size memcpy is
 * a plain load. */
static inline uint64_t kw_at(const unsigned char *b, unsigned w)
{
    uint64_t v;
    memcpy(&v, b + 8 * w, 8);
    return v;
}

/* Way of the key in the set, or UINT32_MAX. One loop per key size so the
 * compare is a fixed number of word loads; the key is compared before the
 * stamp since most ways differ in the first word. */
#define FIND_LOOP(KW, EQ)                                                                                     \
    do {                                                                                                      \
        const uint64_t *e = c->head.keys + (size_t)base * (KW);                                               \
        for (uint32_t w = 0; w < ways; w++, e += (KW))                                                        \
            if ((EQ) && st[w])                                                                                \
                return w;                                                                                     \
    } while (0)

static uint32_t find_way(const ims_sacache *c, uint32_t set, const void *key)
{
    const unsigned char *b = key;
    uint32_t ways = c->head.ways, base = set * ways;
    const uint64_t *st = c->head.stamp + base;
    uint64_t k0 = kw_at(b, 0);
    switch (c->key_words) {
    case 1:
        FIND_LOOP(1, e[0] == k0);
        break;
    case 2: {
        uint64_t k1 = kw_at(b, 1);
        FIND_LOOP(2, e[0] == k0 && e[1] == k1);
        break;
    }
    case 3: {
        uint64_t k1 = kw_at(b, 1), k2 = kw_at(b, 2);
        FIND_LOOP(3, ((e[0] ^ k0) | (e[1] ^ k1) | (e[2] ^ k2)) == 0);
        break;
    }
    default: {
        uint64_t k1 = kw_at(b, 1), k2 = kw_at(b, 2), k3 = kw_at(b, 3);
        FIND_LOOP(4, ((e[0] ^ k0) | (e[1] ^ k1) | (e[2] ^ k2) | (e[3] ^ k3)) == 0);
        break;
    }
    }
    return UINT32_MAX;
}

/* Entry index of the key, or UINT32_MAX (also for an empty cache: ways 0). */
static inline uint32_t find(const ims_sacache *c, uint32_t set, const void *key)
{
    uint32_t w = find_way(c, set, key);
    return w == UINT32_MAX ? w : set * c->ways + w;
}

/* Copy n bytes between a payload slot and a caller buffer. The sizes of the
 * hot caches (8- and 16-byte keys, 32-byte IOTLB and PSC entries) get
 * fixed-size copies, which compile to a few vector moves; others go to
 * memcpy (context and PASID caches, filled only on a miss). */
static inline void copy_bytes(void *dst, const void *src, uint32_t n)
{
    if (n == 32)
        memcpy(dst, src, 32);
    else if (n == 16)
        memcpy(dst, src, 16);
    else if (n == 8)
        memcpy(dst, src, 8);
    else if (n)
        memcpy(dst, src, n);
}

/* ---- operations ------------------------------------------------------------- */

void *ims_sac_lookup(ims_sacache *c, uint32_t set, const void *key)
{
    const unsigned char *b = key;
    if (c->key_words == 1)
        return ims_sac_lookup1(c, set, kw_at(b, 0));
    if (c->key_words == 2)
        return ims_sac_lookup2(c, set, kw_at(b, 0), kw_at(b, 1));
    ims_counter_inc(c->head.lookups);
    uint32_t i = find(c, set, key);
    if (i == UINT32_MAX) {
        ims_counter_inc(c->head.misses);
        return NULL;
    }
    return ims_sac_hit_entry(&c->head, i);
}

const void *ims_sac_peek(const ims_sacache *c, uint32_t set, const void *key)
{
    uint32_t i = find(c, set, key);
    return i == UINT32_MAX ? NULL : payload_at(c, i);
}

/* One pass over a set for an insert: the way holding the key (returned), else
 * UINT32_MAX with *low = the way with the smallest stamp, lowest way first on
 * a tie, and *low_st = that stamp. Stamps of valid entries are unique and
 * non-zero, so *low is the lowest free way when there is one (*low_st = 0),
 * else the least recently used way. The minimum is kept with selects: which
 * way is older is a coin toss for the branch predictor. */
#define PROBE_LOOP(KW, EQ)                                                                                    \
    do {                                                                                                      \
        const uint64_t *e = c->head.keys + (size_t)base * (KW);                                               \
        for (uint32_t w = 0; w < ways; w++, e += (KW)) {                                                      \
            uint64_t sw = st[w];                                                                              \
            if ((EQ) && sw)                                                                                   \
                return w;                                                                                     \
            bool older = sw < lo_st;                                                                          \
            lo_st = older ? sw : lo_st;                                                                       \
            lo = older ? w : lo;                                                                              \
        }                                                                                                     \
    } while (0)

static inline uint32_t probe(const ims_sacache *c, uint32_t set, const void *key, uint32_t *low,
                             uint64_t *low_st)
{
    const unsigned char *b = key;
    uint32_t ways = c->ways, base = set * ways;
    const uint64_t *st = c->head.stamp + base;
    uint32_t lo = 0;
    uint64_t lo_st = UINT64_MAX;
    uint64_t k0 = kw_at(b, 0);
    switch (c->key_words) {
    case 1:
        PROBE_LOOP(1, e[0] == k0);
        break;
    case 2: {
        uint64_t k1 = kw_at(b, 1);
        PROBE_LOOP(2, ((e[0] ^ k0) | (e[1] ^ k1)) == 0);
        break;
    }
    case 3: {
        uint64_t k1 = kw_at(b, 1), k2 = kw_at(b, 2);
        PROBE_LOOP(3, ((e[0] ^ k0) | (e[1] ^ k1) | (e[2] ^ k2)) == 0);
        break;
    }
    default: {
        uint64_t k1 = kw_at(b, 1), k2 = kw_at(b, 2), k3 = kw_at(b, 3);
        PROBE_LOOP(4, ((e[0] ^ k0) | (e[1] ^ k1) | (e[2] ^ k2) | (e[3] ^ k3)) == 0);
        break;
    }
    }
    *low = lo;
    *low_st = lo_st;
    return UINT32_MAX;
}

/* The way an absent key goes to in a full set: the policy's victim. */
static uint32_t victim(ims_sacache *c, uint32_t set, uint32_t oldest)
{
    switch (c->policy) {
    case IMS_SAC_RR: {
        uint32_t w = c->rr[set];
        c->rr[set] = (w + 1 == c->ways) ? 0 : w + 1;
        return w;
    }
    case IMS_SAC_RANDOM:
        return (uint32_t)ims_rng_below(c->rng, c->ways);
    case IMS_SAC_LRU:
    default:
        return oldest;
    }
}

uint32_t ims_sac_policy_victim(ims_sacache *c, uint32_t set)
{
    assert(c->policy != IMS_SAC_LRU); /* LRU: the caller knows the oldest way */
    return victim(c, set, 0);
}

int ims_sac_insert(ims_sacache *c, uint32_t set, const void *key, const void *payload, void *ev_key,
                   void *ev_payload)
{
    if (c->entries == 0)
        return IMS_SAC_DROPPED;
    if (c->key_words == 2) {
        const unsigned char *b = key;
        int what;
        uint64_t evk[2];
        void *slot = ims_sac_insert_slot2(c, set, kw_at(b, 0), kw_at(b, 1), &what, evk);
        if (what == IMS_SAC_EVICTED) {
            if (ev_key)
                memcpy(ev_key, evk, sizeof evk);
            if (ev_payload)
                copy_bytes(ev_payload, slot, c->payload_size);
        }
        copy_bytes(slot, payload, c->payload_size);
        return what;
    }
    uint32_t low;
    uint64_t low_st;
    uint32_t w = probe(c, set, key, &low, &low_st);
    int what = IMS_SAC_REPLACED;
    uint32_t i;
    if (w != UINT32_MAX) {
        i = set * c->ways + w;
    } else if (low_st == 0) {
        i = set * c->ways + low;
        what = IMS_SAC_FILLED;
        copy_bytes(&c->head.keys[(size_t)i * c->key_words], key, c->key_words * 8);
    } else {
        i = set * c->ways + victim(c, set, low);
        what = IMS_SAC_EVICTED;
        ims_counter_inc(c->ctr[IMS_SAC_EVICTIONS]);
        uint64_t *k = &c->head.keys[(size_t)i * c->key_words];
        if (ev_key)
            copy_bytes(ev_key, k, c->key_words * 8);
        if (ev_payload)
            copy_bytes(ev_payload, payload_at(c, i), c->payload_size);
        copy_bytes(k, key, c->key_words * 8);
    }
    copy_bytes(payload_at(c, i), payload, c->payload_size);
    c->head.stamp[i] = ++c->head.clock;
    ims_counter_inc(c->ctr[IMS_SAC_INSERTS]);
    return what;
}

bool ims_sac_remove(ims_sacache *c, uint32_t set, const void *key)
{
    uint32_t i = find(c, set, key);
    if (i == UINT32_MAX)
        return false;
    c->head.stamp[i] = 0;
    ims_counter_inc(c->ctr[IMS_SAC_INVALIDATED]);
    return true;
}

size_t ims_sac_invalidate_if(ims_sacache *c, ims_sac_pred_fn pred, void *arg)
{
    size_t n = 0;
    for (uint32_t i = 0; i < c->entries; i++) {
        if (c->head.stamp[i] && pred(&c->head.keys[(size_t)i * c->key_words], payload_at(c, i), arg)) {
            c->head.stamp[i] = 0;
            n++;
        }
    }
    ims_counter_add(c->ctr[IMS_SAC_INVALIDATED], n);
    return n;
}

void ims_sac_foreach(const ims_sacache *c, ims_sac_visit_fn fn, void *arg)
{
    for (uint32_t i = 0; i < c->entries; i++)
        if (c->head.stamp[i])
            fn(&c->head.keys[(size_t)i * c->key_words], payload_at(c, i), arg);
}

size_t ims_sac_flush(ims_sacache *c)
{
    size_t n = 0;
    for (uint32_t i = 0; i < c->entries; i++) {
        n += c->head.stamp[i] != 0;
        c->head.stamp[i] = 0;
    }
    for (uint32_t s = 0; s < c->sets; s++)
        c->rr[s] = 0;
    ims_counter_add(c->ctr[IMS_SAC_INVALIDATED], n);
    return n;
}
