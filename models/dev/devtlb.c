/* The ATS device-TLB (see devtlb.h). The engine stores a 16-byte key (page
 * number at the entry's size; PASID | has-PASID | priv | size order) and the
 * whole entry as payload, so invalidation predicates read decoded fields. A
 * bitmap of the size orders present lets a lookup skip sizes the cache holds
 * nothing of. */
#include "models/dev/devtlb.h"

#include <assert.h>
#include <stdlib.h>

#include "models/dev/ats_range.h"

/* Size orders relative to 4 KiB: 0 (4 KiB) .. 52 (the whole 64-bit space). */
#define NORDERS (IMS_ATS_ORDER_WHOLE + 1u)

enum { ST_LOOKUPS, ST_HITS, ST_MISSES, ST_PROBES, ST_INSERTS, ST_EVICTIONS, ST_INVALIDATED, NST };

static const char *const stat_name[NST] = {
    "devtlb.lookups", "devtlb.hits", "devtlb.misses", "devtlb.probes",
    "devtlb.inserts", "devtlb.evictions", "devtlb.invalidated",
};

static const char *const stat_help[NST] = {
    "device-TLB lookups (one per DMA piece of an ATS device)",
    "device-TLB lookups that hit at some translation size",
    "device-TLB lookups that missed at every size",
    "device-TLB set probes (one per translation size held)",
    "device-TLB entries written (new or replaced)",
    "device-TLB valid entries evicted by an insert",
    "device-TLB entries removed by ATS invalidation requests",
};

struct ims_devtlb {
    ims_sacache *c;
    uint32_t norder[NORDERS]; /* valid entries per size order */
    uint64_t present;         /* bit o set: norder[o] > 0 */
    ims_counter own[NST];
    ims_counter *ctr[NST];
};

typedef struct devtlb_key {
    uint64_t pn;  /* iova >> (12 + order) */
    uint64_t tag; /* PASID [19:0] | has_pasid [32] | priv [33] | order [45:40] */
} devtlb_key;

static devtlb_key make_key(bool has_pasid, uint32_t pasid, bool priv, unsigned order, uint64_t addr)
{
    /* Without PASID there is no privilege (no prefix carries it): tag it 0. */
    if (!has_pasid) {
        pasid = 0;
        priv = false;
    }
    unsigned shift = IMS_ATS_PAGE_SHIFT + order;
    devtlb_key k = {
        .pn = shift >= 64 ? 0 : addr >> shift,
        .tag = (uint64_t)(pasid & 0xFFFFFu) | ((uint64_t)has_pasid << 32) | ((uint64_t)priv << 33) |
               ((uint64_t)order << 40),
    };
    return k;
}

/* Spread PASIDs over the sets as well as page numbers. */
static uint32_t set_of(const ims_devtlb *t, const devtlb_key *k)
{
    return ims_sac_set_of(t->c, k->pn ^ ((k->tag & 0xFFFFFu) * UINT64_C(0x9E3779B1)));
}

static void count_add(ims_devtlb *t, unsigned order)
{
    t->norder[order]++;
    t->present |= UINT64_C(1) << order;
}

static void count_sub(ims_devtlb *t, unsigned order)
{
    assert(t->norder[order] > 0);
    if (--t->norder[order] == 0)
        t->present &= ~(UINT64_C(1) << order);
}

static unsigned order_of(uint64_t size) { return (unsigned)__builtin_ctzll(size) - IMS_ATS_PAGE_SHIFT; }

int ims_devtlb_create(const ims_devtlb_params *p, ims_devtlb **out, ims_error *err)
{
    *out = NULL;
    ims_devtlb *t = calloc(1, sizeof *t);
    if (!t)
        return ims_errorf(err, ENOMEM, "devtlb: out of memory");
    ims_sac_params sp = {
        .name = "devtlb",
        .geom = p->geom,
        .key_size = sizeof(devtlb_key),
        .payload_size = sizeof(ims_devtlb_entry),
        .rng = p->rng,
    };
    int rc = ims_sac_create(&sp, &t->c, err);
    if (rc) {
        free(t);
        return rc;
    }
    for (int i = 0; i < NST; i++) {
        t->ctr[i] = &t->own[i];
        if (p->stats && !(t->ctr[i] = ims_stats_counter(p->stats, stat_name[i], stat_help[i]))) {
            ims_devtlb_destroy(t);
            return ims_errorf(err, ENOMEM, "devtlb: out of memory registering statistics");
        }
    }
    *out = t;
    return 0;
}

int ims_devtlb_create_cfg(const ims_config *cfg, ims_rng *rng, ims_stats *stats, ims_devtlb **out,
                          ims_error *err)
{
    ims_devtlb_params p = {
        .geom =
            {
                .entries = (uint32_t)ims_config_u64(cfg, "devtlb.entries"),
                .ways = (uint32_t)ims_config_u64(cfg, "devtlb.ways"),
                .policy = (ims_sac_policy)ims_config_enum(cfg, "devtlb.policy"),
            },
        .rng = rng,
        .stats = stats,
    };
    *out = NULL;
    if (p.geom.ways == 0 || p.geom.entries % p.geom.ways != 0)
        return ims_errorf(err, EINVAL, "devtlb.ways (%u) must divide devtlb.entries (%u)", p.geom.ways,
                          p.geom.entries);
    return ims_devtlb_create(&p, out, err);
}

void ims_devtlb_destroy(ims_devtlb *t)
{
    if (!t)
        return;
    ims_sac_destroy(t->c);
    free(t);
}

/* Probe the sizes present, smallest first; `touch` selects lookup vs peek. */
static const ims_devtlb_entry *probe(ims_devtlb *t, bool touch, bool has_pasid, uint32_t pasid, bool priv,
                                     uint64_t addr)
{
    for (uint64_t m = t->present; m; m &= m - 1) {
        unsigned o = (unsigned)__builtin_ctzll(m);
        devtlb_key k = make_key(has_pasid, pasid, priv, o, addr);
        uint32_t set = set_of(t, &k);
        const ims_devtlb_entry *e;
        if (touch) {
            ims_counter_inc(t->ctr[ST_PROBES]);
            e = ims_sac_lookup(t->c, set, &k);
        } else {
            e = ims_sac_peek(t->c, set, &k);
        }
        if (e)
            return e;
    }
    return NULL;
}

const ims_devtlb_entry *ims_devtlb_lookup(ims_devtlb *t, bool has_pasid, uint32_t pasid, bool priv, uint64_t addr)
{
    ims_counter_inc(t->ctr[ST_LOOKUPS]);
    const ims_devtlb_entry *e = probe(t, true, has_pasid, pasid, priv, addr);
    ims_counter_inc(t->ctr[e ? ST_HITS : ST_MISSES]);
    return e;
}

const ims_devtlb_entry *ims_devtlb_peek(const ims_devtlb *t, bool has_pasid, uint32_t pasid, bool priv,
                                        uint64_t addr)
{
    /* probe() without touch only reads. */
    return probe((ims_devtlb *)t, false, has_pasid, pasid, priv, addr);
}

int ims_devtlb_insert(ims_devtlb *t, const ims_devtlb_entry *in)
{
    if (in->size < (UINT64_C(1) << IMS_ATS_PAGE_SHIFT) || (in->size & (in->size - 1)) != 0)
        return -EINVAL;
    ims_devtlb_entry e = *in;
    unsigned o = order_of(e.size);
    e.iova &= ~(e.size - 1);
    e.hpa &= ~(e.size - 1);
    if (!e.has_pasid) {
        e.pasid = 0;
        e.priv = false;
    }
    e.pasid &= 0xFFFFFu;
    devtlb_key k = make_key(e.has_pasid, e.pasid, e.priv, o, e.iova);
    ims_devtlb_entry ev;
    int what = ims_sac_insert(t->c, set_of(t, &k), &k, &e, NULL, &ev);
    switch (what) {
    case IMS_SAC_EVICTED:
        count_sub(t, order_of(ev.size));
        ims_counter_inc(t->ctr[ST_EVICTIONS]);
        /* fall through */
    case IMS_SAC_FILLED:
        count_add(t, o);
        ims_counter_inc(t->ctr[ST_INSERTS]);
        break;
    case IMS_SAC_REPLACED:
        ims_counter_inc(t->ctr[ST_INSERTS]);
        break;
    default:
        break;
    }
    return what;
}

/* ---- invalidation ------------------------------------------------------------ */

static bool match_range(const ims_ats_inv_msg *m, const ims_ats_range *r, const ims_devtlb_entry *e)
{
    bool in_range = ims_ats_range_overlaps(r, e->iova, e->iova + (e->size - 1));
    if (!m->has_pasid) /* PCIe 6.2 §10.3.8: non-PASID entries in range, PASID entries everywhere */
        return e->has_pasid || in_range;
    if (!e->has_pasid)
        return false;
    return in_range && (m->global || e->pasid == (m->pasid & 0xFFFFFu));
}

bool ims_devtlb_inv_matches(const ims_ats_inv_msg *m, const ims_devtlb_entry *e)
{
    ims_ats_range r;
    if (ims_ats_range_decode(m->addr, m->s, &r))
        return false;
    return match_range(m, &r, e);
}

typedef struct inv_arg {
    ims_devtlb *t;
    const ims_ats_inv_msg *m;
    ims_ats_range r;
} inv_arg;

static bool inv_pred(const void *key, const void *payload, void *arg)
{
    (void)key;
    inv_arg *a = arg;
    const ims_devtlb_entry *e = payload;
    if (!match_range(a->m, &a->r, e))
        return false;
    count_sub(a->t, order_of(e->size));
    return true;
}

int ims_devtlb_invalidate(ims_devtlb *t, const ims_ats_inv_msg *m, size_t *removed)
{
    inv_arg a = {.t = t, .m = m};
    if (removed)
        *removed = 0;
    if (ims_ats_range_decode(m->addr, m->s, &a.r))
        return -EINVAL;
    size_t n = ims_sac_invalidate_if(t->c, inv_pred, &a);
    ims_counter_add(t->ctr[ST_INVALIDATED], n);
    if (removed)
        *removed = n;
    return 0;
}

uint32_t ims_devtlb_count(const ims_devtlb *t) { return ims_sac_count(t->c); }
