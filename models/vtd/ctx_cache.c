/* The context cache (see ctx_cache.h). Key: the SID in one 64-bit word. */
#include "models/vtd/ctx_cache.h"

#include <stdlib.h>

#include "models/vtd/cache_config.h"

int ims_ctxc_create(const ims_sac_geom *g, ims_rng *rng, ims_stats *stats, ims_ctxc **out, ims_error *err)
{
    *out = NULL;
    ims_ctxc *c = calloc(1, sizeof *c);
    if (!c)
        return ims_errorf(err, ENOMEM, "ctxc: out of memory");
    ims_sac_params sp = {
        .name = "ctxc",
        .geom = *g,
        .key_size = sizeof(uint64_t),
        .payload_size = sizeof(ims_ctxc_entry),
        .rng = rng,
        .stats = stats,
        .stats_prefix = "ctxc",
    };
    int rc = ims_sac_create(&sp, &c->c, err);
    if (rc) {
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int ims_ctxc_create_cfg(const ims_config *cfg, ims_rng *rng, ims_stats *stats, ims_ctxc **out, ims_error *err)
{
    ims_sac_geom g;
    int rc = ims_vtd_cache_geom(cfg, "ctxc", &g, err);
    if (rc) {
        *out = NULL;
        return rc;
    }
    return ims_ctxc_create(&g, rng, stats, out, err);
}

void ims_ctxc_destroy(ims_ctxc *c)
{
    if (!c)
        return;
    ims_sac_destroy(c->c);
    free(c);
}

const ims_ctxc_entry *ims_ctxc_peek(const ims_ctxc *c, uint16_t sid)
{
    uint64_t k = sid;
    return ims_sac_peek(c->c, ims_sac_set_of(c->c, k), &k);
}

int ims_ctxc_insert(ims_ctxc *c, const ims_ctxc_entry *e)
{
    uint64_t k = e->sid;
    return ims_sac_insert(c->c, ims_sac_set_of(c->c, k), &k, e, NULL, NULL);
}

/* ---- invalidation ------------------------------------------------------------ */

static bool p_domain(const void *key, const void *payload, void *arg)
{
    (void)key;
    const ims_ctxc_entry *e = payload;
    return e->ctx.scalable || e->ctx.did == *(const uint16_t *)arg;
}

typedef struct dev_arg {
    uint16_t sid, mask;
} dev_arg;

static bool p_device(const void *key, const void *payload, void *arg)
{
    (void)key;
    const ims_ctxc_entry *e = payload;
    const dev_arg *a = arg;
    return ((e->sid ^ a->sid) & ~a->mask) == 0;
}

size_t ims_ctxc_inv_global(ims_ctxc *c) { return ims_sac_flush(c->c); }

size_t ims_ctxc_inv_domain(ims_ctxc *c, uint16_t did) { return ims_sac_invalidate_if(c->c, p_domain, &did); }

size_t ims_ctxc_inv_device(ims_ctxc *c, uint16_t sid, unsigned fm)
{
    dev_arg a = {.sid = sid, .mask = ims_ctxc_fm_mask(fm)};
    return ims_sac_invalidate_if(c->c, p_device, &a);
}

/* ---- inspection ---------------------------------------------------------------- */

uint32_t ims_ctxc_count(const ims_ctxc *c) { return ims_sac_count(c->c); }

const ims_sacache *ims_ctxc_cache(const ims_ctxc *c) { return c->c; }

typedef struct visit_arg {
    void (*fn)(const ims_ctxc_entry *e, void *arg);
    void *arg;
} visit_arg;

static void visit(const void *key, const void *payload, void *arg)
{
    (void)key;
    visit_arg *v = arg;
    v->fn(payload, v->arg);
}

void ims_ctxc_foreach(const ims_ctxc *c, void (*fn)(const ims_ctxc_entry *e, void *arg), void *arg)
{
    visit_arg v = {fn, arg};
    ims_sac_foreach(c->c, visit, &v);
}
