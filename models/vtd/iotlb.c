/* The IOTLB (see iotlb.h). The engine stores a 16-byte key (page number;
 * DID | tag PASID | page size) and the whole ims_iotlb_entry as payload, so
 * invalidation predicates read decoded fields. A per-size entry count lets a
 * lookup skip page sizes the cache holds nothing of. */
#include "models/vtd/iotlb.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/vtd/cache_config.h"

static const char *const stat_name[IMS_IOTLB_NSTATS] = {
    "iotlb.lookups", "iotlb.hits", "iotlb.misses", "iotlb.probes",
    "iotlb.inserts", "iotlb.evictions", "iotlb.invalidated",
};

static const char *const stat_help[IMS_IOTLB_NSTATS] = {
    "IOTLB lookups (one per translation request reaching the IOTLB)",
    "IOTLB lookups that hit at some page size",
    "IOTLB lookups that missed at every page size",
    "IOTLB set probes (up to 3 per lookup: 4K, 2M, 1G; sizes with no entry skipped)",
    "IOTLB entries written (new or replaced)",
    "IOTLB valid entries evicted by an insert",
    "IOTLB entries removed by invalidation",
};

typedef struct iotlb_key {
    uint64_t pn;   /* input address >> page shift */
    uint64_t tag;  /* ims_iotlb_key_tag */
} iotlb_key;

static inline iotlb_key make_key(uint16_t did, uint32_t tag_pasid, ims_iotlb_psize ps, uint64_t addr)
{
    iotlb_key k = {.pn = addr >> ims_iotlb_psize_shift(ps), .tag = ims_iotlb_key_tag(did, tag_pasid, ps)};
    return k;
}

int ims_iotlb_create(const ims_iotlb_params *p, ims_iotlb **out, ims_error *err)
{
    *out = NULL;
    ims_iotlb *t = calloc(1, sizeof *t);
    if (!t)
        return ims_errorf(err, ENOMEM, "iotlb: out of memory");
    ims_sac_params sp = {
        .name = "iotlb",
        .geom = p->geom,
        .key_size = sizeof(iotlb_key),
        .payload_size = sizeof(ims_iotlb_entry),
        .rng = p->rng,
    };
    int rc = ims_sac_create(&sp, &t->c, err);
    if (rc) {
        free(t);
        return rc;
    }
    for (int i = 0; i < IMS_IOTLB_NSTATS; i++) {
        t->ctr[i] = &t->own[i];
        if (p->stats && !(t->ctr[i] = ims_stats_counter(p->stats, stat_name[i], stat_help[i]))) {
            ims_iotlb_destroy(t);
            return ims_errorf(err, ENOMEM, "iotlb: out of memory registering statistics");
        }
    }
    *out = t;
    return 0;
}

int ims_iotlb_create_cfg(const ims_config *cfg, ims_rng *rng, ims_stats *stats, ims_iotlb **out,
                         ims_error *err)
{
    ims_iotlb_params p = {.rng = rng, .stats = stats};
    int rc = ims_vtd_cache_geom(cfg, "iotlb", &p.geom, err);
    if (rc) {
        *out = NULL;
        return rc;
    }
    return ims_iotlb_create(&p, out, err);
}

void ims_iotlb_destroy(ims_iotlb *t)
{
    if (!t)
        return;
    ims_sac_destroy(t->c);
    free(t);
}

/* ---- lookup / insert ---------------------------------------------------------- */

const ims_iotlb_entry *ims_iotlb_peek(const ims_iotlb *t, uint16_t did, ims_vtd_pgtt pgtt, uint32_t pasid,
                                      uint64_t addr)
{
    uint32_t tp = ims_iotlb_tag_pasid(pgtt, pasid);
    for (int ps = IMS_IOTLB_4K; ps < IMS_IOTLB_NSIZES; ps++) {
        if (!t->nsize[ps])
            continue;
        iotlb_key k = make_key(did, tp, (ims_iotlb_psize)ps, addr);
        const ims_iotlb_entry *e = ims_sac_peek(t->c, ims_sac_set_of(t->c, k.pn), &k);
        if (e)
            return e;
    }
    return NULL;
}

/* ---- invalidation ---------------------------------------------------------------- */

typedef struct inv_arg {
    ims_iotlb *t;
    uint16_t did;
    uint32_t pasid;
    uint64_t first, last;  /* inclusive input-address range */
    bool (*match)(const struct inv_arg *a, const ims_iotlb_entry *e);
} inv_arg;

static bool overlaps(const inv_arg *a, const ims_iotlb_entry *e)
{
    uint64_t e_last = e->iova + ((UINT64_C(1) << ims_iotlb_psize_shift((ims_iotlb_psize)e->psize)) - 1);
    return e->iova <= a->last && a->first <= e_last;
}

static bool is_fs_or_nested(const ims_iotlb_entry *e)
{
    return e->pgtt == IMS_VTD_PGTT_FS || e->pgtt == IMS_VTD_PGTT_NESTED;
}

static bool m_domain(const inv_arg *a, const ims_iotlb_entry *e) { return e->did == a->did; }

static bool m_page(const inv_arg *a, const ims_iotlb_entry *e)
{
    return e->did == a->did && (is_fs_or_nested(e) || overlaps(a, e));
}

static bool pasid_tag_matches(const inv_arg *a, const ims_iotlb_entry *e)
{
    return e->did == a->did && e->pasid != IMS_IOTLB_NO_PASID && e->pasid == a->pasid;
}

/* Table 24 PASID-selective: SS-only entries have no PASID tag to compare, so
 * the whole DID's SS-only set goes. */
static bool m_pasid(const inv_arg *a, const ims_iotlb_entry *e)
{
    return pasid_tag_matches(a, e) || (e->did == a->did && e->pgtt == IMS_VTD_PGTT_SS);
}

static bool m_pasid_page(const inv_arg *a, const ims_iotlb_entry *e)
{
    return pasid_tag_matches(a, e) && is_fs_or_nested(e) && overlaps(a, e);
}

static bool pred(const void *key, const void *payload, void *arg)
{
    (void)key;
    inv_arg *a = arg;
    const ims_iotlb_entry *e = payload;
    if (!a->match(a, e))
        return false;
    a->t->nsize[e->psize]--;
    return true;
}

static size_t run(ims_iotlb *t, inv_arg *a)
{
    a->t = t;
    size_t n = ims_sac_invalidate_if(t->c, pred, a);
    ims_counter_add(t->ctr[IMS_IOTLB_INVALIDATED], n);
    return n;
}

size_t ims_iotlb_inv_global(ims_iotlb *t)
{
    size_t n = ims_sac_flush(t->c);
    memset(t->nsize, 0, sizeof t->nsize);
    ims_counter_add(t->ctr[IMS_IOTLB_INVALIDATED], n);
    return n;
}

size_t ims_iotlb_inv_domain(ims_iotlb *t, uint16_t did)
{
    inv_arg a = {.did = did, .match = m_domain};
    return run(t, &a);
}

size_t ims_iotlb_inv_page(ims_iotlb *t, uint16_t did, uint64_t addr, unsigned am, bool ih)
{
    (void)ih; /* leaf entries go whatever IH says */
    inv_arg a = {.did = did, .match = m_page};
    ims_vtd_am_range(addr, am, &a.first, &a.last);
    return run(t, &a);
}

size_t ims_iotlb_inv_pasid(ims_iotlb *t, uint16_t did, uint32_t pasid)
{
    inv_arg a = {.did = did, .pasid = pasid & IMS_VTD_PASID_MASK, .match = m_pasid};
    return run(t, &a);
}

size_t ims_iotlb_inv_pasid_page(ims_iotlb *t, uint16_t did, uint32_t pasid, uint64_t addr, unsigned am,
                                bool ih)
{
    (void)ih;
    inv_arg a = {.did = did, .pasid = pasid & IMS_VTD_PASID_MASK, .match = m_pasid_page};
    ims_vtd_am_range(addr, am, &a.first, &a.last);
    return run(t, &a);
}

/* ---- inspection ------------------------------------------------------------------- */

uint32_t ims_iotlb_count(const ims_iotlb *t) { return ims_sac_count(t->c); }

const ims_sacache *ims_iotlb_cache(const ims_iotlb *t) { return t->c; }

typedef struct visit_arg {
    void (*fn)(const ims_iotlb_entry *e, void *arg);
    void *arg;
} visit_arg;

static void visit(const void *key, const void *payload, void *arg)
{
    (void)key;
    visit_arg *v = arg;
    v->fn(payload, v->arg);
}

void ims_iotlb_foreach(const ims_iotlb *t, void (*fn)(const ims_iotlb_entry *e, void *arg), void *arg)
{
    visit_arg v = {fn, arg};
    ims_sac_foreach(t->c, visit, &v);
}

uint64_t ims_iotlb_stat_value(const ims_iotlb *t, ims_iotlb_stat s)
{
    return (unsigned)s < IMS_IOTLB_NSTATS ? t->ctr[s]->value : 0;
}
