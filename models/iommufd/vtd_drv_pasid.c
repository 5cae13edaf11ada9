/* Context and PASID entries of the VT-d host driver: attach, replace and
 * detach of a device's RID or of one of its PASIDs (iommufd-facts §2.4-§2.6,
 * vtd-facts §2.3-§2.6 and §4.12).
 *
 * Scalable mode: the context entry is written when the device is added
 * (Linux sets it up in the probe path); attaching writes the PASID-table
 * entry of RID_PASID (0) or of the PASID: PGTT=001b for first-stage
 * domains, 010b for second-stage ones, 011b for nested ones with the fields
 * of iommufd-facts §2.4. Legacy mode: attaching writes the context entry.
 *
 * Replace ([7.1mw]): the old entry is torn down with its invalidations, then
 * the new one is set up — not atomic. The new domain's DID is taken before
 * the old one is released, so a DID whose invalidations are still queued is
 * never handed straight to another domain (Linux waits for them instead).
 * Tables change at call time; the invalidations complete later (done). */
#include <stdlib.h>
#include <string.h>

#include "models/iommufd/uapi.h"
#include "models/iommufd/vtd_drv_internal.h"
#include "models/vtd/entries.h"
#include "models/vtd/inv_desc.h"
#include "models/vtd/regs.h"
#include "models/vtd/translate.h"

/* ---- context entries ------------------------------------------------------------------ */

int drv_setup_sm_context(ims_vtd_drv *d, drv_dev *dev, ims_error *err)
{
    /* The directory covers the device's PASIDs, at least one 4 KiB page
     * (512 entries, PDTS=2), as Linux allocates it. */
    ims_vtd_sm_ctx_cfg c;
    memset(&c, 0, sizeof c);
    c.pdts = dev->pasid_bits > 15 ? dev->pasid_bits - 13 : 2;
    c.dte = dev->ats;
    c.paside = dev->pasid_bits > 0;
    c.pre = dev->pri;
    c.rid_pasid = DRV_RID_PASID;
    int rc = ims_vtd_ctxb_set_sm_ctx(&d->cb, dev->sid, &c, err);
    if (rc)
        return rc;
    /* Not-present -> present: caching mode wants an invalidation, other
     * hardware at most a write-buffer flush (vtd-facts §5.4). */
    if (ims_vtd_cap_cm(d->cap)) {
        drv_op *op = drv_op_new();
        uint64_t qw[4];
        ims_qi_build_cc_device(qw, 0, dev->sid, 0);
        if (op) {
            drv_op_add(op, qw);
            drv_op_cut(op);
            drv_add_iotlb_dsi(d, op, 0);
            drv_op_cut(op);
        }
        drv_op_start(d, op, (ims_drv_done){NULL, NULL});
    } else if (ims_vtd_cap_rwbf(d->cap)) {
        drv_gcmd(d, (uint32_t)IMS_VTD_MASK(IMS_VTD_GCMD_WBF), true);
    }
    return 0;
}

/* ---- attachments ---------------------------------------------------------------------- */

static drv_att *find_att(drv_dev *dev, uint32_t pasid)
{
    for (unsigned i = 0; i < dev->natt; i++)
        if (dev->att[i].pasid == pasid)
            return &dev->att[i];
    return NULL;
}

static int add_att(drv_dev *dev, uint32_t pasid, ims_drv_domain *dom)
{
    if (dev->natt == dev->catt) {
        unsigned nc = dev->catt ? 2 * dev->catt : 4;
        drv_att *n = realloc(dev->att, nc * sizeof *n);
        if (!n)
            return -ENOMEM;
        dev->att = n;
        dev->catt = nc;
    }
    dev->att[dev->natt].pasid = pasid;
    dev->att[dev->natt].dom = dom;
    dev->natt++;
    dom->attached++;
    return 0;
}

static void del_att(drv_dev *dev, drv_att *a)
{
    a->dom->attached--;
    unsigned i = (unsigned)(a - dev->att);
    memmove(a, a + 1, (dev->natt - i - 1) * sizeof *a);
    dev->natt--;
}

uint64_t drv_pasid_entry_pa(ims_vtd_drv *d, const drv_dev *dev, uint32_t pasid)
{
    uint64_t pa = 0;
    if (!d->scalable || ims_vtd_ctxb_pasid_entry_pa(&d->cb, dev->sid, pasid, &pa, NULL))
        return 0;
    return pa;
}

/* ---- invalidation recipes (vtd-facts §4.12) ----------------------------------------------- */

/* After a present PASID entry changed or went away: PASID cache, then IOTLB
 * (DSI for SS/nested, PASID-selective P_IOTLB for FS/PT), then the device TLB
 * (whole space) — one qi_submit_sync each, as Linux. */
void drv_flush_pasid_entry(ims_vtd_drv *d, drv_op *op, const drv_dev *dev, uint32_t pasid, uint16_t did,
                           unsigned pgtt)
{
    uint64_t qw[4];
    ims_qi_build_pc_pasid(qw, did, pasid);
    drv_op_add(op, qw);
    drv_op_cut(op);
    if (pgtt == IMS_VTD_PGTT_SS || pgtt == IMS_VTD_PGTT_NESTED)
        drv_add_iotlb_dsi(d, op, did);
    else
        drv_add_piotlb(op, did, pasid, 0, DRV_MASK_ALL, false);
    drv_op_cut(op);
    drv_add_devtlb(d, op, dev, pasid, 0, DRV_MASK_ALL);
    drv_op_cut(op);
}

/* pasid_flush_caches after a new entry: only caching mode invalidates. */
static void flush_new_entry(ims_vtd_drv *d, drv_op *op, const drv_dev *dev, uint32_t pasid, uint16_t did)
{
    uint64_t qw[4];
    if (ims_vtd_cap_cm(d->cap)) {
        if (d->scalable) {
            ims_qi_build_pc_pasid(qw, did, pasid);
            drv_op_add(op, qw);
            drv_op_cut(op);
            drv_add_piotlb(op, did, pasid, 0, DRV_MASK_ALL, false);
        } else {
            ims_qi_build_cc_device(qw, 0, dev->sid, 0);
            drv_op_add(op, qw);
            drv_op_cut(op);
            drv_add_iotlb_dsi(d, op, 0);
        }
        drv_op_cut(op);
    } else if (ims_vtd_cap_rwbf(d->cap)) {
        drv_gcmd(d, (uint32_t)IMS_VTD_MASK(IMS_VTD_GCMD_WBF), true);
    }
}

/* ---- teardown ---------------------------------------------------------------------------- */

/* Put (dev, pasid) back to blocking and flush (intel_pasid_tear_down_entry
 * in scalable mode, §2.6; the context-entry recipe of §4.12 in legacy mode),
 * then drop the domain's tags and DID reference. */
static void teardown(ims_vtd_drv *d, drv_op *op, drv_dev *dev, drv_att *a)
{
    ims_drv_domain *dom = a->dom;
    uint32_t pasid = a->pasid;
    if (d->scalable) {
        uint64_t pa = drv_pasid_entry_pa(d, dev, pasid);
        uint64_t pe[2] = {0, 0};
        if (pa) {
            pe[0] = ims_physmem_r64(d->mem, pa);
            pe[1] = ims_physmem_r64(d->mem, pa + 8);
        }
        /* Clearing P and then the whole entry end in the same bytes. */
        ims_vtd_ctxb_clear_pasid(&d->cb, dev->sid, pasid, NULL);
        if (ims_vtd_pasidte_p(pe))
            drv_flush_pasid_entry(d, op, dev, pasid, ims_vtd_pasidte_did(pe), ims_vtd_pasidte_pgtt(pe));
        /* No PRQ drain: page requests are not modelled. */
    } else {
        uint64_t pa = 0, ce[2] = {0, 0};
        if (ims_vtd_ctxb_ctx_entry_pa(&d->cb, dev->sid, &pa, NULL) == 0) {
            ce[0] = ims_physmem_r64(d->mem, pa);
            ce[1] = ims_physmem_r64(d->mem, pa + 8);
        }
        ims_vtd_ctxb_clear_ctx(&d->cb, dev->sid, NULL);
        if (ims_vtd_ce_p(ce)) {
            uint16_t did = ims_vtd_ce_did(ce);
            uint64_t qw[4];
            ims_qi_build_cc_device(qw, did, dev->sid, 0);
            drv_op_add(op, qw);
            drv_op_cut(op);
            drv_add_iotlb_dsi(d, op, did);
            drv_op_cut(op);
            drv_add_devtlb(d, op, dev, DRV_RID_PASID, 0, DRV_MASK_ALL);
            drv_op_cut(op);
        }
    }
    drv_tags_unassign(dom, dev, pasid);
    drv_domain_put_did(dom);
    del_att(dev, a);
}

/* ---- set up ----------------------------------------------------------------------------- */

/* intel_pasid_setup_nested's checks of the user's stage-1 description. */
static int nested_check(const ims_vtd_drv *d, const ims_drv_domain *dom)
{
    if (dom->s1_addr_width != 48 && !(dom->s1_addr_width == 57 && ims_vtd_cap_fs5lp(d->cap)))
        return -EINVAL;
    if ((dom->s1_flags & IMS_IOMMU_VTD_S1_SRE) && !ims_vtd_ecap_srs(d->ecap))
        return -EINVAL;
    if ((dom->s1_flags & IMS_IOMMU_VTD_S1_EAFE) && !ims_vtd_ecap_eafs(d->ecap))
        return -EINVAL;
    return 0;
}

static int write_entry(ims_vtd_drv *d, drv_dev *dev, uint32_t pasid, ims_drv_domain *dom)
{
    if (!d->scalable) {
        ims_vtd_legacy_ctx_cfg c;
        memset(&c, 0, sizeof c);
        c.tt = dev->ats ? IMS_VTD_TT_DEVTLB : IMS_VTD_TT_SS;
        c.aw = dom->aw;
        c.ssptptr = dom->pt.root;
        c.did = dom->did;
        return ims_vtd_ctxb_set_legacy_ctx(&d->cb, dev->sid, &c, NULL);
    }
    ims_vtd_pasid_cfg c;
    memset(&c, 0, sizeof c);
    c.did = dom->did;
    c.pwsnp = ims_vtd_ecap_smpwcs(d->ecap); /* walks snoop when the unit can (PWSNP needs SMPWCS) */
    switch (dom->kind) {
    case IMS_VTD_DRV_DOM_FS:
        c.pgtt = IMS_VTD_PGTT_FS;
        c.aw = d->agaw;
        c.fsptptr = dom->pt.root;
        c.fspm = dom->pt.levels == 5 ? IMS_VTD_FSPM_5LEVEL : IMS_VTD_FSPM_4LEVEL;
        break;
    case IMS_VTD_DRV_DOM_SS:
        c.pgtt = IMS_VTD_PGTT_SS;
        c.aw = dom->aw;
        c.ssptptr = dom->pt.root;
        c.ssade = dom->dirty_tracking;
        break;
    case IMS_VTD_DRV_DOM_NESTED: {
        /* iommufd-facts §2.4 field table. */
        const ims_drv_domain *s2 = dom->parent;
        bool sre = (dom->s1_flags & IMS_IOMMU_VTD_S1_SRE) != 0;
        c.pgtt = IMS_VTD_PGTT_NESTED;
        c.aw = s2->aw;
        c.ssptptr = s2->pt.root;
        c.ssade = s2->dirty_tracking;
        c.pgsnp = false; /* parent force_snooping is not modelled */
        c.sre = sre;
        c.fspm = dom->s1_addr_width == 57 ? IMS_VTD_FSPM_5LEVEL : IMS_VTD_FSPM_4LEVEL;
        c.wpe = sre && (dom->s1_flags & IMS_IOMMU_VTD_S1_WPE);
        c.eafe = (dom->s1_flags & IMS_IOMMU_VTD_S1_EAFE) != 0;
        /* Linux ORs the raw value into qw2; we drop bits 11:0 (they would
         * land on SRE/FSPM/WPE...): model decision. */
        c.fsptptr = dom->s1_pgtbl & ~(IMS_PAGE_SIZE - 1);
        break;
    }
    }
    return ims_vtd_ctxb_set_pasid(&d->cb, dev->sid, pasid, &c, NULL);
}

int drv_attach(void *drv, ims_drv_domain *dom, uint16_t sid, uint32_t pasid, ims_drv_done done)
{
    ims_vtd_drv *d = drv;
    drv_dev *dev = drv_find_dev(d, sid);
    if (!dev)
        return -ENODEV;
    if (!dom)
        return -EINVAL;
    bool rid = pasid == IMS_DRV_NO_PASID;
    uint32_t p = rid ? DRV_RID_PASID : pasid;
    if (!rid) {
        if (!drv_pasid_supported(d) || !dev->pasid_bits)
            return -EOPNOTSUPP;
        if (pasid == DRV_RID_PASID || pasid >= (UINT32_C(1) << dev->pasid_bits))
            return -EINVAL;
    }
    if (!d->scalable && dom->kind != IMS_VTD_DRV_DOM_SS)
        return -EINVAL;
    if (dom->kind == IMS_VTD_DRV_DOM_NESTED) {
        int rc = nested_check(d, dom);
        if (rc)
            return rc;
    }
    drv_att *old = find_att(dev, p);
    if (old && old->dom == dom) /* the core's "same domain" short cut */
        return drv_op_start(d, drv_op_new(), done);
    drv_op *op = drv_op_new();
    if (!op)
        return -ENOMEM;
    int rc = drv_domain_get_did(dom);
    if (rc) {
        drv_op_free(op);
        return rc;
    }
    if ((rc = drv_tags_assign(dom, dev, p))) {
        drv_domain_put_did(dom);
        drv_op_free(op);
        return rc;
    }
    if (old)
        teardown(d, op, dev, old);
    rc = add_att(dev, p, dom);
    if (!rc && (rc = write_entry(d, dev, p, dom)))
        del_att(dev, find_att(dev, p));
    if (rc) {
        drv_tags_unassign(dom, dev, p);
        drv_domain_put_did(dom);
        drv_op_start(d, op, (ims_drv_done){NULL, NULL}); /* the teardown's flushes still go out */
        return rc;
    }
    flush_new_entry(d, op, dev, p, dom->did);
    return drv_op_start(d, op, done);
}

int drv_detach(void *drv, uint16_t sid, uint32_t pasid, ims_drv_done done)
{
    ims_vtd_drv *d = drv;
    drv_dev *dev = drv_find_dev(d, sid);
    if (!dev)
        return -ENODEV;
    uint32_t p = pasid == IMS_DRV_NO_PASID ? DRV_RID_PASID : pasid;
    drv_op *op = drv_op_new();
    if (!op)
        return -ENOMEM;
    drv_att *a = find_att(dev, p);
    if (a)
        teardown(d, op, dev, a);
    return drv_op_start(d, op, done);
}
