/* The PASID cache (see pasid_cache.h). Key: SID << 32 | PASID in one word. */
#include "models/vtd/pasid_cache.h"

#include <stdlib.h>

#include "models/vtd/cache_config.h"
#include "models/vtd/iotlb.h" /* IMS_VTD_PASID_MASK */

static inline uint64_t make_key(uint16_t sid, uint32_t pasid) { return ims_pasidc_key(sid, pasid); }

static inline uint32_t set_of(const ims_pasidc *c, uint16_t sid, uint32_t pasid)
{
    return ims_pasidc_set(c, sid, pasid);
}

int ims_pasidc_create(const ims_sac_geom *g, ims_rng *rng, ims_stats *stats, ims_pasidc **out, ims_error *err)
{
    *out = NULL;
    ims_pasidc *c = calloc(1, sizeof *c);
    if (!c)
        return ims_errorf(err, ENOMEM, "pasidc: out of memory");
    ims_sac_params sp = {
        .name = "pasidc",
        .geom = *g,
        .key_size = sizeof(uint64_t),
        .payload_size = sizeof(ims_pasidc_entry),
        .rng = rng,
        .stats = stats,
        .stats_prefix = "pasidc",
    };
    int rc = ims_sac_create(&sp, &c->c, err);
    if (rc) {
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int ims_pasidc_create_cfg(const ims_config *cfg, ims_rng *rng, ims_stats *stats, ims_pasidc **out,
                          ims_error *err)
{
    ims_sac_geom g;
    int rc = ims_vtd_cache_geom(cfg, "pasidc", &g, err);
    if (rc) {
        *out = NULL;
        return rc;
    }
    return ims_pasidc_create(&g, rng, stats, out, err);
}

void ims_pasidc_destroy(ims_pasidc *c)
{
    if (!c)
        return;
    ims_sac_destroy(c->c);
    free(c);
}

const ims_pasidc_entry *ims_pasidc_peek(const ims_pasidc *c, uint16_t sid, uint32_t pasid)
{
    uint64_t k = make_key(sid, pasid);
    return ims_sac_peek(c->c, set_of(c, sid, pasid), &k);
}

int ims_pasidc_insert(ims_pasidc *c, const ims_pasidc_entry *in)
{
    ims_pasidc_entry e = *in;
    e.pasid &= IMS_VTD_PASID_MASK;
    uint64_t k = make_key(e.sid, e.pasid);
    return ims_sac_insert(c->c, set_of(c, e.sid, e.pasid), &k, &e, NULL, NULL);
}

/* ---- invalidation ------------------------------------------------------------ */

typedef struct inv_arg {
    uint16_t did;
    uint32_t pasid;
    bool check_pasid;
} inv_arg;

static bool pred(const void *key, const void *payload, void *arg)
{
    (void)key;
    const ims_pasidc_entry *e = payload;
    const inv_arg *a = arg;
    return e->ctx.did == a->did && (!a->check_pasid || e->pasid == a->pasid);
}

size_t ims_pasidc_inv_global(ims_pasidc *c) { return ims_sac_flush(c->c); }

size_t ims_pasidc_inv_domain(ims_pasidc *c, uint16_t did)
{
    inv_arg a = {.did = did};
    return ims_sac_invalidate_if(c->c, pred, &a);
}

size_t ims_pasidc_inv_pasid(ims_pasidc *c, uint16_t did, uint32_t pasid)
{
    inv_arg a = {.did = did, .pasid = pasid & IMS_VTD_PASID_MASK, .check_pasid = true};
    return ims_sac_invalidate_if(c->c, pred, &a);
}

/* ---- inspection ---------------------------------------------------------------- */

uint32_t ims_pasidc_count(const ims_pasidc *c) { return ims_sac_count(c->c); }

const ims_sacache *ims_pasidc_cache(const ims_pasidc *c) { return c->c; }

typedef struct visit_arg {
    void (*fn)(const ims_pasidc_entry *e, void *arg);
    void *arg;
} visit_arg;

static void visit(const void *key, const void *payload, void *arg)
{
    (void)key;
    visit_arg *v = arg;
    v->fn(payload, v->arg);
}

void ims_pasidc_foreach(const ims_pasidc *c, void (*fn)(const ims_pasidc_entry *e, void *arg), void *arg)
{
    visit_arg v = {fn, arg};
    ims_sac_foreach(c->c, visit, &v);
}
