/* One VT-d remapping unit, assembled from its parts (unit.h).
 *
 * Wiring: register-file hooks go to the invalidation engine (tail writes,
 * CCMD, IOTLB registers) and to the optional MSI sink. SRTP with CAP.ESRTPS
 * invalidates every translation cache (vtd-facts §1.2 bit 63); without it
 * nothing happens and software must invalidate (vtd-facts §4.12). */
#include "models/vtd/unit.h"

#include <stdlib.h>

#include "models/vtd/cache_config.h"
#include "models/vtd/regs.h"

struct ims_vtd_unit {
    unsigned index;
    ims_physmem *mem;
    ims_vtd_regfile *regs;
    ims_vtd_caches caches;
    ims_xlate *xlate;
    ims_qi *qi;
    ims_rng rng_ctxc, rng_pasidc, rng_iotlb, rng_psc; /* one stream per cache: adding one leaves the others */
    void (*msi)(void *ctx, uint64_t addr, uint32_t data);
    void *msi_ctx;
    uint64_t srtp_flushes;
};

/* ---- register hooks ----------------------------------------------------------- */

static void hook_srtp(void *ctx, uint64_t rtaddr)
{
    (void)rtaddr;
    ims_vtd_unit *u = ctx;
    if (!ims_vtd_cap_esrtps(ims_vtd_regfile_cap(u->regs)))
        return;
    ims_ctxc_inv_global(u->caches.ctxc);
    ims_pasidc_inv_global(u->caches.pasidc);
    ims_iotlb_inv_global(u->caches.iotlb);
    ims_psc_inv_global(u->caches.psc);
    u->caches.inv_epoch++;
    u->srtp_flushes++;
}

static void hook_doorbell(void *ctx, uint64_t iqt)
{
    ims_vtd_unit *u = ctx;
    if (u->qi)
        ims_qi_doorbell(u->qi, iqt);
}

static void hook_ccmd(void *ctx, uint64_t ccmd)
{
    ims_vtd_unit *u = ctx;
    if (u->qi)
        ims_qi_reg_ccmd(u->qi, ccmd);
}

static void hook_iotlb(void *ctx, uint64_t iva, uint64_t iotlb)
{
    ims_vtd_unit *u = ctx;
    if (u->qi)
        ims_qi_reg_iotlb(u->qi, iva, iotlb);
}

static void hook_msi(void *ctx, uint64_t addr, uint32_t data)
{
    ims_vtd_unit *u = ctx;
    if (u->msi)
        u->msi(u->msi_ctx, addr, data);
}

/* ---- create / destroy ------------------------------------------------------------ */

static int caches_create(ims_vtd_unit *u, const ims_vtd_unit_params *p, ims_error *err)
{
    ims_rng_fork(p->rng, &u->rng_ctxc);
    ims_rng_fork(p->rng, &u->rng_pasidc);
    ims_rng_fork(p->rng, &u->rng_iotlb);
    ims_rng_fork(p->rng, &u->rng_psc);
    int rc = ims_ctxc_create_cfg(p->cfg, &u->rng_ctxc, p->stats, &u->caches.ctxc, err);
    if (rc == 0)
        rc = ims_pasidc_create_cfg(p->cfg, &u->rng_pasidc, p->stats, &u->caches.pasidc, err);
    if (rc == 0)
        rc = ims_iotlb_create_cfg(p->cfg, &u->rng_iotlb, p->stats, &u->caches.iotlb, err);
    if (rc == 0)
        rc = ims_psc_create_cfg(p->cfg, &u->rng_psc, p->stats, &u->caches.psc, err);
    u->caches.cache_nested_ss = ims_vtd_cache_nested_ss(p->cfg);
    return rc;
}

int ims_vtd_unit_create(const ims_vtd_unit_params *p, ims_vtd_unit **out, ims_error *err)
{
    *out = NULL;
    if (!p || !p->engine || !p->mem || !p->mem_timing || !p->cfg || !p->rng)
        return ims_errorf(err, EINVAL, "vtd unit: engine, mem, mem_timing, cfg and rng are required");
    ims_vtd_unit *u = calloc(1, sizeof *u);
    if (!u)
        return ims_errorf(err, ENOMEM, "vtd unit: out of memory");
    u->index = p->index;
    u->mem = p->mem;
    u->msi = p->msi;
    u->msi_ctx = p->msi_ctx;

    ims_vtd_reg_hooks hooks = {
        .ctx = u,
        .on_srtp = hook_srtp,
        .on_doorbell = hook_doorbell,
        .on_ccmd = hook_ccmd,
        .on_iotlb_reg = hook_iotlb,
        .msi = hook_msi,
    };
    uint32_t ver = ims_config_has(p->cfg, "vtd.ver") ? (uint32_t)ims_config_u64(p->cfg, "vtd.ver")
                                                      : (uint32_t)IMS_VTD_DEFAULT_VER;
    int rc = ims_vtd_regfile_create(p->cap, p->ecap, ver, &hooks, &u->regs, err);
    if (rc == 0)
        rc = caches_create(u, p, err);
    if (rc == 0) {
        ims_xlate_params xp = {
            .engine = p->engine,
            .mem = p->mem,
            .mem_timing = p->mem_timing,
            .regs = u->regs,
            .caches = &u->caches,
            .cfg = p->cfg,
            .stats = p->stats,
        };
        rc = ims_xlate_create(&xp, &u->xlate, err);
    }
    if (rc == 0) {
        ims_qi_params qp = {
            .engine = p->engine,
            .mem = p->mem,
            .mem_timing = p->mem_timing,
            .regs = u->regs,
            .caches = &u->caches,
            .xlate = u->xlate,
            .ats = p->ats,
            .cfg = p->cfg,
            .stats = p->stats,
        };
        rc = ims_qi_create(&qp, &u->qi, err);
    }
    if (rc != 0) {
        ims_vtd_unit_destroy(u);
        return rc;
    }
    *out = u;
    return 0;
}

void ims_vtd_unit_destroy(ims_vtd_unit *u)
{
    if (!u)
        return;
    /* The engine first (it may hold a drain request on the pipeline), then the pipeline. */
    ims_qi_destroy(u->qi);
    if (u->xlate)
        ims_xlate_destroy(u->xlate);
    ims_psc_destroy(u->caches.psc);
    ims_iotlb_destroy(u->caches.iotlb);
    ims_pasidc_destroy(u->caches.pasidc);
    ims_ctxc_destroy(u->caches.ctxc);
    ims_vtd_regfile_destroy(u->regs);
    free(u);
}

/* ---- accessors ----------------------------------------------------------------------- */

ims_vtd_regfile *ims_vtd_unit_regs(ims_vtd_unit *u) { return u->regs; }
ims_vtd_caches *ims_vtd_unit_caches(ims_vtd_unit *u) { return &u->caches; }
ims_xlate *ims_vtd_unit_xlate(ims_vtd_unit *u) { return u->xlate; }
ims_qi *ims_vtd_unit_qi(ims_vtd_unit *u) { return u->qi; }

int ims_vtd_unit_mmio_read(ims_vtd_unit *u, uint64_t off, unsigned size, uint64_t *val)
{
    return ims_vtd_mmio_read(u->regs, off, size, val);
}

int ims_vtd_unit_mmio_write(ims_vtd_unit *u, uint64_t off, unsigned size, uint64_t val)
{
    return ims_vtd_mmio_write(u->regs, off, size, val);
}

void ims_vtd_unit_hw(const ims_vtd_unit *u, ims_vtd_hw *hw) { ims_vtd_regfile_hw(u->regs, u->mem, hw); }

void ims_vtd_unit_translate(ims_vtd_unit *u, ims_xlate_req *r) { ims_xlate_submit(u->xlate, r); }
