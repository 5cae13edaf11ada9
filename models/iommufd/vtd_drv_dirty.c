/* Dirty tracking of second-stage domains (iommufd-facts §2.9, [7.1mw]).
 *
 * set_dirty_tracking toggles SSADE (PASID entry bit 9) in every entry that
 * uses the domain's tables: its own attachments and, for a nest parent, those
 * of every nested child; each changed entry gets the Table 25 sequence
 * (PASID-selective PASID cache, DSI IOTLB, whole device TLB).
 * read_and_clear_dirty reports the D bits (bit 9) of the second-stage leaves
 * and clears them unless asked not to; cleared leaves are flushed afterwards
 * (the core's iotlb_sync over the gathered range, leaf-only). */
#include <string.h>

#include "models/iommufd/vtd_drv_internal.h"
#include "models/vtd/entries.h"
#include "models/vtd/pte.h"
#include "models/vtd/translate.h"

/* intel_pasid_setup_dirty_tracking for one (device, PASID). */
static void set_ssade(ims_vtd_drv *d, drv_op *op, const drv_dev *dev, uint32_t pasid, bool enable)
{
    uint64_t pa = drv_pasid_entry_pa(d, dev, pasid);
    if (!pa)
        return;
    uint64_t pe[2] = {ims_physmem_r64(d->mem, pa), ims_physmem_r64(d->mem, pa + 8)};
    unsigned pgtt = ims_vtd_pasidte_pgtt(pe);
    if (!ims_vtd_pasidte_p(pe) || (pgtt != IMS_VTD_PGTT_SS && pgtt != IMS_VTD_PGTT_NESTED))
        return;
    if (ims_vtd_pasidte_ssade(pe) == enable)
        return;
    ims_vtd_pasidte_set_ssade(pe, enable);
    ims_physmem_w64(d->mem, pa, pe[0]);
    drv_flush_pasid_entry(d, op, dev, pasid, ims_vtd_pasidte_did(pe), pgtt);
}

static void set_domain_ssade(ims_vtd_drv *d, drv_op *op, const ims_drv_domain *dom, bool enable)
{
    for (unsigned i = 0; i < d->ndevs; i++)
        for (unsigned j = 0; j < d->devs[i].natt; j++)
            if (d->devs[i].att[j].dom == dom)
                set_ssade(d, op, &d->devs[i], d->devs[i].att[j].pasid, enable);
}

int drv_set_dirty_tracking(void *drv, ims_drv_domain *dom, bool enable, ims_drv_done done)
{
    ims_vtd_drv *d = drv;
    if (!dom || dom->kind != IMS_VTD_DRV_DOM_SS || !dom->dirty_ops)
        return -EOPNOTSUPP;
    drv_op *op = drv_op_new();
    if (!op)
        return -ENOMEM;
    if (dom->dirty_tracking != enable) {
        dom->dirty_tracking = enable;
        if (d->scalable) {
            set_domain_ssade(d, op, dom, enable);
            for (unsigned k = 0; k < dom->nkids; k++)
                set_domain_ssade(d, op, dom->kids[k], enable);
        }
    }
    return drv_op_start(d, op, done);
}

/* ---- read and clear ---------------------------------------------------------------------- */

typedef struct dirty_walk {
    ims_vtd_drv *d;
    uint64_t iova, end;   /* [iova, end) */
    uint64_t page_size;
    uint64_t *bitmap;
    bool clear;
    uint64_t lo, hi;      /* gathered range of cleared leaves, inclusive */
    bool any;
} dirty_walk;

static int dirty_leaf(void *opaque, const ims_pt_mapping *m)
{
    dirty_walk *w = opaque;
    if (m->iova >= w->end)
        return 1; /* leaves come in ascending order: done */
    uint64_t last = m->iova + m->page_size - 1;
    if (last < w->iova || !ims_ss_pte_d(m->pte))
        return 0;
    uint64_t from = m->iova > w->iova ? m->iova : w->iova;
    uint64_t to = last < w->end - 1 ? last : w->end - 1;
    if (w->bitmap)
        for (uint64_t b = (from - w->iova) / w->page_size; b <= (to - w->iova) / w->page_size; b++)
            w->bitmap[b / 64] |= UINT64_C(1) << (b % 64);
    if (w->clear) {
        ims_physmem_w64(w->d->mem, m->pte_hpa, m->pte & ~IMS_SS_PTE_D);
        if (!w->any || m->iova < w->lo)
            w->lo = m->iova;
        if (!w->any || last > w->hi)
            w->hi = last;
        w->any = true;
    }
    return 0;
}

int drv_read_and_clear_dirty(void *drv, ims_drv_domain *dom, uint64_t iova, uint64_t len, uint64_t page_size,
                             uint64_t *bitmap, bool no_clear, ims_drv_done done)
{
    ims_vtd_drv *d = drv;
    if (!dom || dom->kind != IMS_VTD_DRV_DOM_SS || !dom->dirty_ops)
        return -EOPNOTSUPP;
    /* Linux refuses to report while tracking is off (intel_iommu_read_and_clear_dirty). */
    if (!dom->dirty_tracking && bitmap)
        return -EINVAL;
    if (!len || !page_size || (page_size & (page_size - 1)) || iova % page_size || len % page_size ||
        iova + len - 1 < iova)
        return -EINVAL;
    dirty_walk w;
    memset(&w, 0, sizeof w);
    w.d = d;
    w.iova = iova;
    w.end = iova + len; /* may be 0 for a range ending at 2^64: treated below */
    if (w.end == 0)
        w.end = UINT64_MAX;
    w.page_size = page_size;
    w.bitmap = bitmap;
    w.clear = !no_clear;
    ims_pt_foreach(&dom->pt, dirty_leaf, &w);
    drv_op *op = drv_op_new();
    if (op && w.any)
        drv_flush_range(d, op, dom, w.lo, w.hi, true);
    return drv_op_start(d, op, done);
}
