/* Paging-structure caches (see psc.h): eight engine instances, [stage][level].
 * Key: address >> coverage shift; DID | PASID << 16 (PASID 0 for SS). The
 * payload is the whole ims_psc_entry so predicates read decoded fields. */
#include "models/vtd/psc.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#include "models/vtd/cache_config.h"
#include "models/vtd/iotlb.h" /* ims_vtd_am_range, IMS_VTD_PASID_MASK */

typedef struct psc_key {
    uint64_t vpn;  /* input address >> level shift */
    uint64_t tag;  /* ims_psc_key_tag */
} psc_key;

static const char *const stage_name[2] = {"fs", "ss"};

static inline psc_key make_key(ims_psc_stage st, unsigned level, uint16_t did, uint32_t pasid, uint64_t addr)
{
    psc_key k = {.vpn = addr >> ims_psc_level_shift(level), .tag = ims_psc_key_tag(st, did, pasid)};
    return k;
}

static inline ims_sacache *cache_of(const ims_psc *p, ims_psc_stage st, unsigned level)
{
    assert((unsigned)st < 2 && level >= IMS_PSC_MIN_LEVEL && level <= IMS_PSC_MAX_LEVEL);
    return p->c[st][level - IMS_PSC_MIN_LEVEL];
}

int ims_psc_create(const ims_psc_params *prm, ims_psc **out, ims_error *err)
{
    *out = NULL;
    ims_psc *p = calloc(1, sizeof *p);
    if (!p)
        return ims_errorf(err, ENOMEM, "psc: out of memory");
    for (int st = 0; st < 2; st++) {
        for (unsigned i = 0; i < IMS_PSC_NLEVELS; i++) {
            char name[32];
            snprintf(name, sizeof name, "psc.%s.l%u", stage_name[st], i + IMS_PSC_MIN_LEVEL);
            ims_sac_params sp = {
                .name = name,
                .geom = prm->geom[st][i],
                .key_size = sizeof(psc_key),
                .payload_size = sizeof(ims_psc_entry),
                .rng = prm->rng,
                .stats = prm->stats,
                .stats_prefix = name,
            };
            int rc = ims_sac_create(&sp, &p->c[st][i], err);
            if (rc) {
                ims_psc_destroy(p);
                return rc;
            }
        }
    }
    *out = p;
    return 0;
}

int ims_psc_create_cfg(const ims_config *cfg, ims_rng *rng, ims_stats *stats, ims_psc **out, ims_error *err)
{
    ims_psc_params prm = {.rng = rng, .stats = stats};
    *out = NULL;
    for (int st = 0; st < 2; st++) {
        for (unsigned i = 0; i < IMS_PSC_NLEVELS; i++) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "psc.%s.l%u", stage_name[st], i + IMS_PSC_MIN_LEVEL);
            int rc = ims_vtd_cache_geom(cfg, prefix, &prm.geom[st][i], err);
            if (rc)
                return rc;
        }
    }
    return ims_psc_create(&prm, out, err);
}

void ims_psc_destroy(ims_psc *p)
{
    if (!p)
        return;
    for (int st = 0; st < 2; st++)
        for (unsigned i = 0; i < IMS_PSC_NLEVELS; i++)
            ims_sac_destroy(p->c[st][i]);
    free(p);
}

/* ---- lookup / insert -------------------------------------------------------- */

const ims_psc_entry *ims_psc_lookup(ims_psc *p, ims_psc_stage st, unsigned level, uint16_t did, uint32_t pasid,
                                    uint64_t addr)
{
    ims_sacache *c = cache_of(p, st, level);
    psc_key k = make_key(st, level, did, pasid, addr);
    return ims_sac_lookup2(c, ims_sac_set_of(c, k.vpn), k.vpn, k.tag);
}

int ims_psc_insert(ims_psc *p, const ims_psc_entry *e)
{
    (void)cache_of(p, (ims_psc_stage)e->stage, e->level); /* asserts stage and level */
    return ims_psc_fill(p, (ims_psc_stage)e->stage, e->level, e->did, e->pasid, e->base, e->next_table, e->perm);
}

/* ---- invalidation ------------------------------------------------------------- */

typedef struct inv_arg {
    uint16_t did;
    uint32_t pasid;
    uint64_t first, last;  /* inclusive input-address range */
    bool ranged;           /* only entries overlapping [first, last] */
    bool check_pasid;
} inv_arg;

static bool pred(const void *key, const void *payload, void *arg)
{
    (void)key;
    const inv_arg *a = arg;
    const ims_psc_entry *e = payload;
    if (e->did != a->did)
        return false;
    if (a->check_pasid && e->pasid != a->pasid)
        return false;
    if (a->ranged) {
        uint64_t e_last = e->base + ((UINT64_C(1) << ims_psc_level_shift(e->level)) - 1);
        if (e->base > a->last || a->first > e_last)
            return false;
    }
    return true;
}

static size_t inv_stage(ims_psc *p, ims_psc_stage st, inv_arg *a)
{
    size_t n = 0;
    for (unsigned i = 0; i < IMS_PSC_NLEVELS; i++)
        n += ims_sac_invalidate_if(p->c[st][i], pred, a);
    return n;
}

size_t ims_psc_inv_global(ims_psc *p)
{
    size_t n = 0;
    for (int st = 0; st < 2; st++)
        for (unsigned i = 0; i < IMS_PSC_NLEVELS; i++)
            n += ims_sac_flush(p->c[st][i]);
    return n;
}

size_t ims_psc_inv_domain(ims_psc *p, uint16_t did)
{
    inv_arg a = {.did = did};
    return inv_stage(p, IMS_PSC_FS, &a) + inv_stage(p, IMS_PSC_SS, &a);
}

size_t ims_psc_inv_page(ims_psc *p, uint16_t did, uint64_t addr, unsigned am, bool ih)
{
    /* Table 23: FS PSC "DID" in every case; SS PSC "if IH is 0, DID, Address". */
    inv_arg fs = {.did = did};
    size_t n = inv_stage(p, IMS_PSC_FS, &fs);
    if (ih)
        return n;
    inv_arg ss = {.did = did, .ranged = true};
    ims_vtd_am_range(addr, am, &ss.first, &ss.last);
    return n + inv_stage(p, IMS_PSC_SS, &ss);
}

size_t ims_psc_inv_pasid(ims_psc *p, uint16_t did, uint32_t pasid)
{
    inv_arg a = {.did = did, .pasid = pasid & IMS_VTD_PASID_MASK, .check_pasid = true};
    return inv_stage(p, IMS_PSC_FS, &a);
}

size_t ims_psc_inv_pasid_page(ims_psc *p, uint16_t did, uint32_t pasid, uint64_t addr, unsigned am, bool ih)
{
    if (ih)
        return 0;
    inv_arg a = {.did = did, .pasid = pasid & IMS_VTD_PASID_MASK, .check_pasid = true, .ranged = true};
    ims_vtd_am_range(addr, am, &a.first, &a.last);
    return inv_stage(p, IMS_PSC_FS, &a);
}

/* ---- inspection ----------------------------------------------------------------- */

uint32_t ims_psc_count(const ims_psc *p, ims_psc_stage st, unsigned level)
{
    return ims_sac_count(cache_of(p, st, level));
}

const ims_sacache *ims_psc_cache(const ims_psc *p, ims_psc_stage st, unsigned level)
{
    return cache_of(p, st, level);
}

typedef struct visit_arg {
    void (*fn)(const ims_psc_entry *e, void *arg);
    void *arg;
} visit_arg;

static void visit(const void *key, const void *payload, void *arg)
{
    (void)key;
    visit_arg *v = arg;
    v->fn(payload, v->arg);
}

void ims_psc_foreach(const ims_psc *p, void (*fn)(const ims_psc_entry *e, void *arg), void *arg)
{
    visit_arg v = {fn, arg};
    for (int st = 0; st < 2; st++)
        for (unsigned i = 0; i < IMS_PSC_NLEVELS; i++)
            ims_sac_foreach(p->c[st][i], visit, &v);
}
