/* The VT-d host driver: bring-up of the unit, devices, hw_info and the
 * ims_drv_ops table (the rest lives in vtd_drv_*.c, see vtd_drv_internal.h).
 *
 * Bring-up follows Linux's init order (iommufd-facts §2.10, vtd-facts §4.12):
 * enable queued invalidation (IQT=0, IQA, GCMD.QIE), program the root table
 * (RTADDR, GCMD.SRTP), without CAP.ESRTPS invalidate the context cache, the
 * PASID cache (scalable mode) and the IOTLB globally — three qi_submit_sync
 * calls — and then set GCMD.TE. Every GCMD command is checked in GSTS right
 * away: the simulated register file completes commands within the write, so
 * the driver's GSTS poll costs no time. */
#include "models/iommufd/vtd_driver.h"

#include <stdlib.h>
#include <string.h>

#include "models/iommufd/uapi.h"
#include "models/iommufd/vtd_drv_internal.h"
#include "models/vtd/inv_desc.h"
#include "models/vtd/regs.h"

/* ---- MMIO ------------------------------------------------------------------------ */

uint64_t drv_rd(ims_vtd_drv *d, uint64_t off, unsigned size)
{
    uint64_t v = 0;
    ims_vtd_unit_mmio_read(d->unit, off, size, &v);
    return v;
}

int drv_wr(ims_vtd_drv *d, uint64_t off, unsigned size, uint64_t v)
{
    return ims_vtd_unit_mmio_write(d->unit, off, size, v);
}

int drv_gcmd(ims_vtd_drv *d, uint32_t bit, bool set)
{
    /* A GCMD write carries every enable that is on plus the one change. */
    const uint32_t enables = (uint32_t)(IMS_VTD_MASK(IMS_VTD_GCMD_TE) | IMS_VTD_MASK(IMS_VTD_GCMD_EAFL) |
                                        IMS_VTD_MASK(IMS_VTD_GCMD_QIE) | IMS_VTD_MASK(IMS_VTD_GCMD_IRE) |
                                        IMS_VTD_MASK(IMS_VTD_GCMD_CFI));
    uint32_t gsts = (uint32_t)drv_rd(d, IMS_VTD_REG_GSTS, 4);
    uint32_t v = gsts & enables;
    v = set ? (v | bit) : (v & ~bit);
    if (drv_wr(d, IMS_VTD_REG_GCMD, 4, v) != IMS_VTD_MMIO_OK)
        return -EIO;
    gsts = (uint32_t)drv_rd(d, IMS_VTD_REG_GSTS, 4);
    if (bit & ~enables) /* one-shot: SRTP reports in RTPS, WBF clears WBFS when done */
        return bit == IMS_VTD_MASK(IMS_VTD_GCMD_WBF) ? ((gsts & bit) ? -EIO : 0) : ((gsts & bit) ? 0 : -EIO);
    return ((gsts & bit) != 0) == set ? 0 : -EIO;
}

bool drv_te(ims_vtd_drv *d) { return ims_vtd_gsts_tes(drv_rd(d, IMS_VTD_REG_GSTS, 4)); }

/* ---- capabilities (iommufd-facts §2.1) ---------------------------------------------- */

bool drv_nested_supported(const ims_vtd_drv *d) { return d->scalable && ims_vtd_ecap_nest(d->ecap); }
bool drv_ssads_supported(const ims_vtd_drv *d)
{
    return d->scalable && ims_vtd_ecap_ssads(d->ecap) && ims_vtd_ecap_smpwcs(d->ecap);
}
bool drv_pasid_supported(const ims_vtd_drv *d) { return d->scalable && ims_vtd_ecap_pasid(d->ecap); }

/* ---- devices -------------------------------------------------------------------------- */

drv_dev *drv_find_dev(ims_vtd_drv *d, uint16_t sid)
{
    for (unsigned i = 0; i < d->ndevs; i++)
        if (d->devs[i].sid == sid)
            return &d->devs[i];
    return NULL;
}

int ims_vtd_drv_add_device(ims_vtd_drv *d, const ims_vtd_drv_dev_params *p, ims_error *err)
{
    if (!d || !p)
        return ims_errorf(err, EINVAL, "vtd driver: add_device: no parameters");
    if (drv_find_dev(d, p->sid))
        return ims_errorf(err, EEXIST, "vtd driver: device %04x already added", p->sid);
    if (d->ndevs == d->cdevs) {
        unsigned nc = d->cdevs ? 2 * d->cdevs : 8;
        drv_dev *n = realloc(d->devs, nc * sizeof *n);
        if (!n)
            return ims_errorf(err, ENOMEM, "vtd driver: out of memory");
        /* Attachments point at domains, not at devices; tags point at devices
         * and must follow the move. */
        for (ims_drv_domain *dom = d->domains; dom; dom = dom->next)
            for (unsigned t = 0; t < dom->ntags; t++)
                if (dom->tags[t].dev)
                    dom->tags[t].dev = n + (dom->tags[t].dev - d->devs);
        d->devs = n;
        d->cdevs = nc;
    }
    drv_dev *dev = &d->devs[d->ndevs];
    memset(dev, 0, sizeof *dev);
    dev->sid = p->sid;
    dev->ats = p->ats && ims_vtd_ecap_dt(d->ecap);
    dev->mip = p->ats_qdep >= 32 ? 0 : p->ats_qdep; /* QDEP >= 32 is encoded as 0 (iommufd-facts §2.7) */
    unsigned hw_bits = drv_pasid_supported(d) ? ims_vtd_ecap_pasid_bits(d->ecap) : 0;
    dev->pasid_bits = p->pasid_bits < hw_bits ? p->pasid_bits : hw_bits;
    dev->pri = p->pri && ims_vtd_ecap_prs(d->ecap);
    d->ndevs++;
    if (d->scalable) {
        int rc = drv_setup_sm_context(d, dev, err);
        if (rc) {
            d->ndevs--;
            return rc;
        }
    }
    return 0;
}

/* ---- hw_info (iommufd-facts §2.1, §1.3) ---------------------------------------------- */

static int drv_hw_info(void *drv, uint16_t sid, uint32_t in_type, void *data, uint32_t *len, uint32_t *type,
                       uint64_t *caps)
{
    ims_vtd_drv *d = drv;
    drv_dev *dev = drv_find_dev(d, sid);
    if (!dev)
        return -ENODEV;
    if (in_type != IMS_IOMMU_HW_INFO_TYPE_DEFAULT && in_type != IMS_IOMMU_HW_INFO_TYPE_INTEL_VTD)
        return -EOPNOTSUPP;
    ims_iommu_hw_info_vtd v;
    memset(&v, 0, sizeof v);
    v.flags = IMS_IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17; /* set unconditionally, as Linux */
    v.cap_reg = d->cap;
    v.ecap_reg = d->ecap;
    uint32_t n = len ? *len : 0;
    if (n > sizeof v)
        n = sizeof v;
    if (n && data)
        memcpy(data, &v, n);
    if (len)
        *len = sizeof v;
    if (type)
        *type = IMS_IOMMU_HW_INFO_TYPE_INTEL_VTD;
    if (caps) {
        *caps = 0;
        if (drv_ssads_supported(d))
            *caps |= IMS_IOMMU_HW_CAP_DIRTY_TRACKING;
        if (!dev->ats)
            *caps |= IMS_IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED;
    }
    return 0;
}

static bool drv_dev_has_dirty(void *drv, uint16_t sid)
{
    ims_vtd_drv *d = drv;
    return drv_find_dev(d, sid) && drv_ssads_supported(d);
}

static bool drv_dev_has_pasid(void *drv, uint16_t sid)
{
    drv_dev *dev = drv_find_dev(drv, sid);
    return dev && dev->pasid_bits > 0;
}

const ims_drv_ops ims_vtd_drv_ops = {
    .hw_info = drv_hw_info,
    .domain_alloc_paging = drv_domain_alloc_paging,
    .domain_alloc_nested = drv_domain_alloc_nested,
    .domain_free = drv_domain_free,
    .map = drv_map,
    .unmap = drv_unmap,
    .attach = drv_attach,
    .detach = drv_detach,
    .cache_invalidate_user = drv_cache_invalidate_user,
    .set_dirty_tracking = drv_set_dirty_tracking,
    .read_and_clear_dirty = drv_read_and_clear_dirty,
    .dev_has_dirty = drv_dev_has_dirty,
    .dev_has_pasid = drv_dev_has_pasid,
};

ims_drv ims_vtd_drv_iface(ims_vtd_drv *d)
{
    ims_drv r = {&ims_vtd_drv_ops, d};
    return r;
}

/* ---- config ------------------------------------------------------------------------------ */

static const ims_cfg_key *key_of(const char *name)
{
    for (const ims_cfg_key *k = ims_vtd_drv_cfg_keys; k->name; k++)
        if (!strcmp(k->name, name))
            return k;
    return NULL;
}

/* The configured value, or the table's default when cfg lacks the key. */
static uint64_t cfg_time_ps(const ims_config *cfg, const char *name)
{
    if (cfg && ims_config_has(cfg, name))
        return ims_config_time_ps(cfg, name);
    uint64_t ps = 0;
    ims_parse_time_ps(key_of(name)->def, "ns", &ps);
    return ps;
}

static uint64_t cfg_u64(const ims_config *cfg, const char *name)
{
    if (cfg && ims_config_has(cfg, name))
        return ims_config_u64(cfg, name);
    uint64_t v = 0;
    ims_parse_u64(key_of(name)->def, &v);
    return v;
}

/* ---- create / destroy ---------------------------------------------------------------------- */

static void init_done(void *ctx, int status)
{
    ims_vtd_drv *d = ctx;
    if (status == 0)
        status = drv_gcmd(d, (uint32_t)IMS_VTD_MASK(IMS_VTD_GCMD_TE), true);
    d->ready = status == 0;
    if (d->ready_cb.fn)
        d->ready_cb.fn(d->ready_cb.ctx, status);
}

/* Second-stage width: 48-bit (4-level) when the unit and MGAW allow it, else
 * 57-bit, else 39-bit (model choice; Linux derives it from MGAW and SAGAW). */
static int pick_agaw(const ims_vtd_drv *d, unsigned *aw)
{
    static const unsigned order[] = {2, 3, 1};
    for (unsigned i = 0; i < 3; i++)
        if (ims_vtd_cap_aw_supported(d->cap, order[i]) && 30u + 9u * order[i] <= ims_vtd_cap_mgaw_bits(d->cap)) {
            *aw = order[i];
            return 0;
        }
    return -EOPNOTSUPP;
}

static void counters_create(ims_vtd_drv *d)
{
    if (!d->stats)
        return;
    d->c_submits = ims_stats_counter(d->stats, "vtd_drv.submits", "qi_submit_sync calls (retries included)");
    d->c_descs = ims_stats_counter(d->stats, "vtd_drv.descriptors", "descriptors submitted (waits excluded)");
    d->c_iqe = ims_stats_counter(d->stats, "vtd_drv.iqe", "invalidation queue errors seen by the driver");
    d->c_ite = ims_stats_counter(d->stats, "vtd_drv.ite", "invalidation time-outs seen by the driver");
    d->c_retries = ims_stats_counter(d->stats, "vtd_drv.retries", "batches resubmitted after ITE");
    d->l_submit = ims_stats_latency(d->stats, "vtd_drv.submit_ns", "IQT write to the wait status seen");
}

int ims_vtd_drv_create(const ims_vtd_drv_params *p, ims_vtd_drv **out, ims_error *err)
{
    *out = NULL;
    if (!p || !p->engine || !p->mem || !p->alloc || !p->unit)
        return ims_errorf(err, EINVAL, "vtd driver: engine, memory, allocator and unit are required");
    ims_vtd_drv *d = calloc(1, sizeof *d);
    if (!d)
        return ims_errorf(err, ENOMEM, "vtd driver: out of memory");
    d->engine = p->engine;
    d->mem = p->mem;
    d->alloc = p->alloc;
    d->unit = p->unit;
    d->stats = p->stats;
    d->ready_cb = p->ready;
    ims_vtd_regfile *rf = ims_vtd_unit_regs(p->unit);
    d->cap = ims_vtd_regfile_cap(rf);
    d->ecap = ims_vtd_regfile_ecap(rf);
    d->scalable = ims_vtd_ecap_smts(d->ecap);
    d->desc_cycles = ims_engine_ps_to_cycles(d->engine, cfg_time_ps(p->cfg, "vtd_drv.desc_ns"));
    d->submit_cycles = ims_engine_ps_to_cycles(d->engine, cfg_time_ps(p->cfg, "vtd_drv.submit_ns"));
    d->poll_cycles = ims_engine_ps_to_cycles(d->engine, cfg_time_ps(p->cfg, "vtd_drv.poll_ns"));
    if (d->poll_cycles == 0)
        d->poll_cycles = 1;
    d->ite_retries = (unsigned)cfg_u64(p->cfg, "vtd_drv.ite_retries");
    d->log_depth = cfg_u64(p->cfg, "vtd_drv.log_depth");
    int rc = 0;
    if (!ims_vtd_ecap_qi(d->ecap)) {
        rc = ims_errorf(err, EOPNOTSUPP, "vtd driver: the unit has no queued invalidation (ECAP.QI=0)");
        goto fail;
    }
    if (pick_agaw(d, &d->agaw)) {
        rc = ims_errorf(err, EOPNOTSUPP, "vtd driver: no usable second-stage width (CAP.SAGAW/MGAW)");
        goto fail;
    }
    d->ndoms = 1u << ims_vtd_cap_did_bits(d->cap);
    d->did_map = calloc((d->ndoms + 63) / 64, sizeof *d->did_map);
    d->log = calloc(d->log_depth, sizeof *d->log);
    if (!d->did_map || !d->log) {
        rc = ims_errorf(err, ENOMEM, "vtd driver: out of memory");
        goto fail;
    }
    counters_create(d);
    if ((rc = ims_vtd_ctxb_init(&d->cb, d->alloc, d->scalable, err)))
        goto fail;
    if ((rc = drv_qi_init(d, err)))
        goto fail;
    drv_wr(d, IMS_VTD_REG_RTADDR, 8, ims_vtd_ctxb_rtaddr(&d->cb));
    if (drv_gcmd(d, (uint32_t)IMS_VTD_MASK(IMS_VTD_GCMD_SRTP), true)) {
        rc = ims_errorf(err, EIO, "vtd driver: GCMD.SRTP not reflected in GSTS.RTPS");
        goto fail;
    }
    drv_op *op = drv_op_new();
    if (op && !ims_vtd_cap_esrtps(d->cap)) {
        /* Without ESRTPS the new root pointer leaves stale cache contents:
         * flush_context(GLOBAL), PASID cache (global), flush_iotlb(GLOBAL). */
        uint64_t qw[4];
        ims_qi_build_cc_global(qw);
        drv_op_add(op, qw);
        drv_op_cut(op);
        if (d->scalable) {
            ims_qi_build_pc_global(qw);
            drv_op_add(op, qw);
            drv_op_cut(op);
        }
        ims_qi_build_iotlb_global(qw, ims_vtd_cap_drd(d->cap), ims_vtd_cap_dwd(d->cap));
        drv_op_add(op, qw);
        drv_op_cut(op);
    }
    ims_drv_done fin = {init_done, d};
    if ((rc = drv_op_start(d, op, fin))) {
        rc = ims_errorf(err, rc, "vtd driver: out of memory");
        goto fail;
    }
    *out = d;
    return 0;
fail:
    ims_vtd_drv_destroy(d);
    return rc;
}

void ims_vtd_drv_destroy(ims_vtd_drv *d)
{
    if (!d)
        return;
    drv_qi_cancel_all(d);
    drv_domain_free_all(d);
    for (unsigned i = 0; i < d->ndevs; i++)
        free(d->devs[i].att);
    free(d->devs);
    free(d->did_map);
    free(d->log);
    free(d);
}

/* ---- introspection ------------------------------------------------------------------------ */

bool ims_vtd_drv_ready(const ims_vtd_drv *d) { return d->ready; }
bool ims_vtd_drv_scalable(const ims_vtd_drv *d) { return d->scalable; }
uint64_t ims_vtd_drv_root(const ims_vtd_drv *d) { return d->cb.root; }
