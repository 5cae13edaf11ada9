/* A simulated system: engine, memory, units and devices wired together
 * (system.h). */
#include "sim/run/system.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/vtd/qi.h"
#include "traces/record.h"

#define NO_DEV UINT32_MAX
#define NAME_CAP (IMS_TRACE_NAME_MAX + 1)

typedef struct sys_unit {
    ims_system *sys;
    unsigned index;
    ims_vtd_unit *u;
    ims_rng rng;
} sys_unit;

typedef struct sys_dev {
    ims_system_dev pub;
    ims_system *sys;
    sys_unit *unit;          /* NULL until built */
    ims_rng rng;
    char name[NAME_CAP];
    char origin[128];
    ims_system_dev_decl decl;
} sys_dev;

struct ims_system {
    const ims_config *cfg;
    void (*on_unit)(void *ctx, unsigned index, ims_vtd_unit *u);
    void *on_unit_ctx;
    ims_engine *engine;
    ims_physmem *mem;
    ims_stats *stats;
    ims_rng rng, rng_mem;
    ims_mem_timing mt;
    bool built;
    /* declared units (before the build) and created ones */
    bool declared[IMS_SYSTEM_MAX_UNITS];
    ims_system_unit_decl decls[IMS_SYSTEM_MAX_UNITS];
    char unit_origin[IMS_SYSTEM_MAX_UNITS][128];
    sys_unit *units[IMS_SYSTEM_MAX_UNITS];
    /* devices in declaration order; created at the build */
    sys_dev **devs;
    unsigned ndevs, devs_cap;
    uint32_t *by_sid;        /* 65536 entries: index into devs, or NO_DEV */
};

/* ---- create / destroy -------------------------------------------------------- */

int ims_system_create(const ims_system_params *p, ims_system **out, ims_error *err)
{
    *out = NULL;
    if (!p || !p->cfg)
        return ims_errorf(err, EINVAL, "system: a configuration is required");
    ims_system *s = calloc(1, sizeof *s);
    if (!s)
        return ims_errorf(err, ENOMEM, "system: out of memory");
    s->cfg = p->cfg;
    s->on_unit = p->on_unit;
    s->on_unit_ctx = p->ctx;
    uint64_t hz = ims_config_u64(p->cfg, "sim.clock_mhz") * UINT64_C(1000000);
    s->engine = ims_engine_create(hz);
    s->mem = ims_physmem_create();
    s->stats = ims_stats_create(hz);
    s->by_sid = malloc(65536 * sizeof *s->by_sid);
    if (!s->engine || !s->mem || !s->stats || !s->by_sid) {
        ims_system_destroy(s);
        return ims_errorf(err, ENOMEM, "system: out of memory");
    }
    for (unsigned i = 0; i < 65536; i++)
        s->by_sid[i] = NO_DEV;
    ims_rng_seed(&s->rng, ims_config_u64(p->cfg, "sim.seed"));
    ims_rng_fork(&s->rng, &s->rng_mem);
    ims_mem_timing_init(&s->mt, p->cfg, s->engine, &s->rng_mem, s->stats);
    /* Software stores are stamped with engine time from here on (the
     * coherence checker reads the stamps). */
    ims_physmem_set_clock(s->mem, ims_engine_now_ptr(s->engine));
    /* The device statistics exist even in a run without devices. */
    if (!ims_stats_counter(s->stats, "dma.count", "DMAs completed (faulted or not)") ||
        !ims_stats_counter(s->stats, "dma.faults", "DMAs that completed with a translation fault") ||
        !ims_stats_latency(s->stats, "dma.latency_ns", "DMA latency: request to last piece done")) {
        ims_system_destroy(s);
        return ims_errorf(err, ENOMEM, "system: out of memory");
    }
    *out = s;
    return 0;
}

void ims_system_destroy(ims_system *s)
{
    if (!s)
        return;
    /* Devices first: they hold requests the units may still reference only
     * through engine events, which die with the engine. */
    for (unsigned i = 0; i < s->ndevs; i++) {
        ims_dev_destroy(s->devs[i]->pub.dev);
        free(s->devs[i]);
    }
    free(s->devs);
    for (unsigned i = 0; i < IMS_SYSTEM_MAX_UNITS; i++) {
        if (s->units[i])
            ims_vtd_unit_destroy(s->units[i]->u);
        free(s->units[i]);
    }
    free(s->by_sid);
    ims_stats_destroy(s->stats);
    ims_physmem_destroy(s->mem);
    ims_engine_destroy(s->engine);
    free(s);
}

/* ---- wiring -------------------------------------------------------------------- */

/* IOMMU -> endpoint: an ATS Invalidate Request. */
static bool ats_send_inv(void *ctx, const ims_ats_inv_msg *m)
{
    sys_unit *u = ctx;
    uint32_t i = u->sys->by_sid[m->sid];
    if (i == NO_DEV)
        return false;
    sys_dev *d = u->sys->devs[i];
    if (d->unit != u || !d->pub.ats || !d->pub.dev)
        return false;
    ims_dev_ats_inv_request(d->pub.dev, m);
    return true;
}

/* Endpoint -> IOMMU. */
static void dev_translate(void *ctx, ims_xlate_req *r)
{
    sys_dev *d = ctx;
    ims_vtd_unit_translate(d->unit->u, r);
}

static void dev_ats_completion(void *ctx, uint16_t sid, uint32_t itag_vector, unsigned cc)
{
    sys_dev *d = ctx;
    ims_qi_ats_completion(ims_vtd_unit_qi(d->unit->u), sid, itag_vector, cc);
}

/* ---- units ----------------------------------------------------------------------- */

static int unit_create(ims_system *s, const ims_system_unit_decl *d, ims_error *err)
{
    sys_unit *su = calloc(1, sizeof *su);
    if (!su)
        return ims_errorf(err, ENOMEM, "system: out of memory");
    su->sys = s;
    su->index = d->index;
    ims_rng_fork(&s->rng, &su->rng);
    ims_vtd_unit_params p = {
        .index = d->index,
        .engine = s->engine,
        .mem = s->mem,
        .mem_timing = &s->mt,
        .cfg = s->cfg,
        .cap = d->has_cap ? d->cap : ims_config_u64(s->cfg, "vtd.cap"),
        .ecap = d->has_ecap ? d->ecap : ims_config_u64(s->cfg, "vtd.ecap"),
        .stats = s->stats,
        .rng = &su->rng,
        .ats = {.send_inv = ats_send_inv, .ctx = su},
    };
    ims_error e = {0};
    int rc = ims_vtd_unit_create(&p, &su->u, &e);
    if (rc) {
        free(su);
        const char *o = s->unit_origin[d->index];
        return ims_errorf(err, rc, "%s%siommu unit=%u: %s", o, o[0] ? ": " : "", d->index, e.msg);
    }
    s->units[d->index] = su;
    if (s->on_unit)
        s->on_unit(s->on_unit_ctx, d->index, su->u);
    return 0;
}

int ims_system_declare_unit(ims_system *s, const ims_system_unit_decl *d, ims_error *err)
{
    if (d->index >= IMS_SYSTEM_MAX_UNITS)
        return ims_errorf(err, EINVAL, "unit %u: unit numbers go up to %u", d->index, IMS_SYSTEM_MAX_UNITS - 1);
    if (s->declared[d->index] || s->units[d->index])
        return ims_errorf(err, EEXIST, "unit %u is already declared", d->index);
    s->declared[d->index] = true;
    s->decls[d->index] = *d;
    s->decls[d->index].origin = NULL;
    snprintf(s->unit_origin[d->index], sizeof s->unit_origin[d->index], "%s", d->origin ? d->origin : "");
    return s->built ? unit_create(s, d, err) : 0;
}

/* ---- devices --------------------------------------------------------------------- */

static int dev_create(ims_system *s, sys_dev *d, ims_error *err)
{
    sys_unit *u = s->units[d->decl.unit];
    if (!u)
        return ims_errorf(err, ENOENT, "%s%sdevice sid=0x%04x: unit %u is not declared", d->origin,
                          d->origin[0] ? ": " : "", d->pub.sid, d->decl.unit);
    d->unit = u;
    ims_rng_fork(&s->rng, &d->rng);
    ims_dev_params p = {
        .engine = s->engine,
        .mem_timing = &s->mt,
        .cfg = s->cfg,
        .stats = s->stats,
        .rng = &d->rng,
        .iommu = {.translate = dev_translate, .ats_completion = dev_ats_completion, .ctx = d},
        .sid = d->pub.sid,
        .name = d->name[0] ? d->name : NULL,
        .ats = d->decl.ats,
        .pasid_bits = d->decl.pasid_bits,
        .pri = d->decl.pri,
        .outstanding = d->decl.outstanding,
    };
    ims_error e = {0};
    int rc = ims_dev_create(&p, &d->pub.dev, &e);
    if (rc)
        return ims_errorf(err, rc, "%s%s%s", d->origin, d->origin[0] ? ": " : "", e.msg);
    return 0;
}

int ims_system_declare_device(ims_system *s, const ims_system_dev_decl *decl, ims_error *err)
{
    if (decl->unit >= IMS_SYSTEM_MAX_UNITS)
        return ims_errorf(err, EINVAL, "device sid=0x%04x: unit numbers go up to %u", decl->sid,
                          IMS_SYSTEM_MAX_UNITS - 1);
    if (s->by_sid[decl->sid] != NO_DEV)
        return ims_errorf(err, EEXIST, "device sid=0x%04x is already declared", decl->sid);
    if (decl->name && strlen(decl->name) >= NAME_CAP)
        return ims_errorf(err, EINVAL, "device name '%.20s...' is too long", decl->name);
    if (decl->name && ims_system_device_by_name(s, decl->name))
        return ims_errorf(err, EEXIST, "a device named '%s' is already declared", decl->name);
    if (s->ndevs == s->devs_cap) {
        unsigned ncap = s->devs_cap ? 2 * s->devs_cap : 8;
        sys_dev **n = realloc(s->devs, ncap * sizeof *n);
        if (!n)
            return ims_errorf(err, ENOMEM, "system: out of memory");
        s->devs = n;
        s->devs_cap = ncap;
    }
    sys_dev *d = calloc(1, sizeof *d);
    if (!d)
        return ims_errorf(err, ENOMEM, "system: out of memory");
    d->sys = s;
    d->decl = *decl;
    d->decl.name = NULL;
    d->decl.origin = NULL;
    if (decl->name)
        snprintf(d->name, sizeof d->name, "%s", decl->name);
    if (decl->origin)
        snprintf(d->origin, sizeof d->origin, "%s", decl->origin);
    d->pub.sid = decl->sid;
    d->pub.unit = decl->unit;
    d->pub.name = d->name;
    d->pub.ats = decl->ats;
    d->pub.pri = decl->pri;
    d->pub.pasid_bits = decl->pasid_bits;
    if (s->built) {
        int rc = dev_create(s, d, err);
        if (rc) {
            free(d);
            return rc;
        }
    }
    s->devs[s->ndevs] = d;
    s->by_sid[decl->sid] = s->ndevs++;
    return 0;
}

/* ---- build ------------------------------------------------------------------------- */

int ims_system_build(ims_system *s, ims_error *err)
{
    if (s->built)
        return 0;
    bool any = false;
    for (unsigned i = 0; i < IMS_SYSTEM_MAX_UNITS; i++)
        any |= s->declared[i];
    if (!any) {
        s->declared[0] = true;
        s->decls[0] = (ims_system_unit_decl){.index = 0};
    }
    for (unsigned i = 0; i < IMS_SYSTEM_MAX_UNITS; i++) {
        if (!s->declared[i])
            continue;
        int rc = unit_create(s, &s->decls[i], err);
        if (rc)
            return rc;
    }
    for (unsigned i = 0; i < s->ndevs; i++) {
        int rc = dev_create(s, s->devs[i], err);
        if (rc)
            return rc;
    }
    s->built = true;
    return 0;
}

bool ims_system_built(const ims_system *s) { return s->built; }

/* ---- accessors ------------------------------------------------------------------- */

ims_engine *ims_system_engine(ims_system *s) { return s->engine; }
ims_physmem *ims_system_mem(ims_system *s) { return s->mem; }
ims_stats *ims_system_stats(ims_system *s) { return s->stats; }
const ims_config *ims_system_config(const ims_system *s) { return s->cfg; }

ims_vtd_unit *ims_system_unit(ims_system *s, unsigned index)
{
    return index < IMS_SYSTEM_MAX_UNITS && s->units[index] ? s->units[index]->u : NULL;
}

const ims_system_dev *ims_system_device_at(const ims_system *s, unsigned i)
{
    return i < s->ndevs ? &s->devs[i]->pub : NULL;
}

const ims_system_dev *ims_system_device_by_sid(const ims_system *s, uint16_t sid)
{
    uint32_t i = s->by_sid[sid];
    return i == NO_DEV ? NULL : &s->devs[i]->pub;
}

const ims_system_dev *ims_system_device_by_name(const ims_system *s, const char *name)
{
    for (unsigned i = 0; i < s->ndevs; i++)
        if (s->devs[i]->name[0] && !strcmp(s->devs[i]->name, name))
            return &s->devs[i]->pub;
    return NULL;
}

unsigned ims_system_device_count(const ims_system *s) { return s->ndevs; }
