/* Domains of the VT-d host driver: allocation (iommufd-facts §2.2, §2.3),
 * DIDs (§2.4 step 3), page tables with superpages, map/unmap with strict
 * flushes, cache tags and cache_tag_flush_range (§2.7, §2.8).
 *
 * Kinds, as [7.1mw] chooses them: a paging domain is first-stage when it asks
 * for no flag but ALLOC_PASID and the unit is scalable with ECAP.FSTS;
 * otherwise (NEST_PARENT, DIRTY_TRACKING, legacy mode, no FSTS) it is
 * second-stage. Nested domains hold the user's stage-1 description and sit
 * on a second-stage nest parent.
 *
 * Tables come from the host allocator and are never freed (pt_builder), so an
 * unmap never frees a table and its flush passes IH=1, exactly what Linux
 * does when the gather's freelist is empty. Mapping falls back to smaller
 * pages where a table already covers a superpage slot (Linux would replace
 * the table and flush; we never need to). */
#include <stdlib.h>
#include <string.h>

#include "models/iommufd/uapi.h"
#include "models/iommufd/vtd_drv_internal.h"
#include "models/vtd/inv_desc.h"
#include "models/vtd/regs.h"

/* ---- DIDs ---------------------------------------------------------------------------- */

static int did_alloc(ims_vtd_drv *d, uint16_t *did)
{
    for (unsigned i = DRV_DID_FIRST; i < d->ndoms; i++)
        if (!(d->did_map[i / 64] & (UINT64_C(1) << (i % 64)))) {
            d->did_map[i / 64] |= UINT64_C(1) << (i % 64);
            *did = (uint16_t)i;
            return 0;
        }
    return -ENOSPC;
}

static void did_free(ims_vtd_drv *d, uint16_t did)
{
    d->did_map[did / 64] &= ~(UINT64_C(1) << (did % 64));
}

int drv_domain_get_did(ims_drv_domain *dom)
{
    if (dom->did_users == 0) {
        int rc = did_alloc(dom->drv, &dom->did);
        if (rc)
            return rc;
    }
    dom->did_users++;
    return 0;
}

void drv_domain_put_did(ims_drv_domain *dom)
{
    if (dom->did_users && --dom->did_users == 0) {
        did_free(dom->drv, dom->did);
        dom->did = 0;
    }
}

/* ---- cache tags ------------------------------------------------------------------------- */

static bool tag_is_devtlb(drv_tag_type t) { return t == TAG_DEVTLB || t == TAG_NESTING_DEVTLB; }

static int tag_get(ims_drv_domain *dom, drv_tag_type type, uint16_t did, uint32_t pasid, drv_dev *dev)
{
    for (unsigned i = 0; i < dom->ntags; i++) {
        drv_tag *t = &dom->tags[i];
        if (t->type == type && t->did == did && t->pasid == pasid && (!tag_is_devtlb(type) || t->dev == dev)) {
            t->users++;
            return 0;
        }
    }
    if (dom->ntags == dom->ctags) {
        unsigned nc = dom->ctags ? 2 * dom->ctags : 4;
        drv_tag *n = realloc(dom->tags, nc * sizeof *n);
        if (!n)
            return -ENOMEM;
        dom->tags = n;
        dom->ctags = nc;
    }
    /* One unit: Linux links a new tag after the last tag of the same unit,
     * i.e. at the end — flushes follow assignment order. */
    drv_tag *t = &dom->tags[dom->ntags++];
    t->type = type;
    t->did = did;
    t->pasid = pasid;
    t->dev = tag_is_devtlb(type) ? dev : NULL;
    t->users = 1;
    return 0;
}

static void tag_put(ims_drv_domain *dom, drv_tag_type type, uint16_t did, uint32_t pasid, drv_dev *dev)
{
    for (unsigned i = 0; i < dom->ntags; i++) {
        drv_tag *t = &dom->tags[i];
        if (t->type == type && t->did == did && t->pasid == pasid && (!tag_is_devtlb(type) || t->dev == dev)) {
            if (--t->users == 0) {
                memmove(t, t + 1, (dom->ntags - i - 1) * sizeof *t);
                dom->ntags--;
            }
            return;
        }
    }
}

/* cache_tag_assign_domain: IOTLB (+ DEVTLB with ATS) on the domain; for a
 * nested domain also NESTING_IOTLB (+ NESTING_DEVTLB) on its parent, all with
 * the attached domain's DID (iommufd-facts §2.4 step 4). */
int drv_tags_assign(ims_drv_domain *dom, drv_dev *dev, uint32_t pasid)
{
    int rc = tag_get(dom, TAG_IOTLB, dom->did, pasid, dev);
    if (!rc && dev->ats)
        rc = tag_get(dom, TAG_DEVTLB, dom->did, pasid, dev);
    if (!rc && dom->parent) {
        rc = tag_get(dom->parent, TAG_NESTING_IOTLB, dom->did, pasid, dev);
        if (!rc && dev->ats)
            rc = tag_get(dom->parent, TAG_NESTING_DEVTLB, dom->did, pasid, dev);
    }
    if (rc)
        drv_tags_unassign(dom, dev, pasid);
    return rc;
}

void drv_tags_unassign(ims_drv_domain *dom, drv_dev *dev, uint32_t pasid)
{
    tag_put(dom, TAG_IOTLB, dom->did, pasid, dev);
    tag_put(dom, TAG_DEVTLB, dom->did, pasid, dev);
    if (dom->parent) {
        tag_put(dom->parent, TAG_NESTING_IOTLB, dom->did, pasid, dev);
        tag_put(dom->parent, TAG_NESTING_DEVTLB, dom->did, pasid, dev);
    }
}

/* ---- descriptors ---------------------------------------------------------------------------- */

void drv_add_iotlb_dsi(ims_vtd_drv *d, drv_op *op, uint16_t did)
{
    uint64_t qw[4];
    ims_qi_build_iotlb_dsi(qw, did, ims_vtd_cap_drd(d->cap), ims_vtd_cap_dwd(d->cap));
    drv_op_add(op, qw);
}

/* Type 2 page-selective, or domain-selective without CAP.PSI or when the
 * mask exceeds CAP.MAMV (iommufd-facts §2.8). */
void drv_add_iotlb_psi_or_dsi(ims_vtd_drv *d, drv_op *op, uint16_t did, uint64_t addr, unsigned mask, bool ih)
{
    if (!ims_vtd_cap_psi(d->cap) || mask > ims_vtd_cap_mamv(d->cap)) {
        drv_add_iotlb_dsi(d, op, did);
        return;
    }
    uint64_t qw[4];
    ims_qi_build_iotlb_psi(qw, did, addr, mask, ih, ims_vtd_cap_drd(d->cap), ims_vtd_cap_dwd(d->cap));
    drv_op_add(op, qw);
}

/* Type 6: PASID-selective for a mask of 52 (everything), else page-selective. */
void drv_add_piotlb(drv_op *op, uint16_t did, uint32_t pasid, uint64_t addr, unsigned mask, bool ih)
{
    uint64_t qw[4];
    if (mask >= DRV_MASK_ALL)
        ims_qi_build_piotlb_pasid(qw, did, pasid);
    else
        ims_qi_build_piotlb_page(qw, did, pasid, addr, mask, ih);
    drv_op_add(op, qw);
}

/* Type 3 for the RID (PASID 0 tags), type 8 otherwise; nothing while
 * translation is off (qi_flush_dev_iotlb skips it) or without ATS. PFSID is
 * only meaningful (and only allowed) with ECAP.DIT. */
void drv_add_devtlb(ims_vtd_drv *d, drv_op *op, const drv_dev *dev, uint32_t pasid, uint64_t addr, unsigned mask)
{
    if (!dev->ats || !drv_te(d))
        return;
    uint16_t pfsid = ims_vtd_ecap_dit(d->ecap) ? dev->sid : 0;
    uint64_t qw[4];
    int rc;
    if (pasid == DRV_RID_PASID)
        rc = ims_qi_build_dev_tlb(qw, dev->sid, pfsid, dev->mip, addr, mask);
    else
        rc = ims_qi_build_pdev_tlb(qw, dev->sid, pfsid, dev->mip, pasid, false, addr, mask);
    if (rc == 0)
        drv_op_add(op, qw);
}

/* ---- cache_tag_flush_range ([7.1mw] cache.c, iommufd-facts §2.7/§2.8) ------------------------ */

void drv_flush_range(ims_vtd_drv *d, drv_op *op, ims_drv_domain *dom, uint64_t start, uint64_t end, bool ih)
{
    uint64_t addr;
    unsigned mask = ims_vtd_drv_psi_mask(start, end, &addr);
    bool piotlb = dom->kind == IMS_VTD_DRV_DOM_FS || dom->kind == IMS_VTD_DRV_DOM_NESTED;
    for (unsigned i = 0; i < dom->ntags; i++) {
        const drv_tag *t = &dom->tags[i];
        switch (t->type) {
        case TAG_IOTLB:
        case TAG_NESTING_IOTLB:
            if (piotlb)
                drv_add_piotlb(op, t->did, t->pasid, addr, mask, ih);
            else
                drv_add_iotlb_psi_or_dsi(d, op, t->did, addr, mask, ih);
            break;
        case TAG_NESTING_DEVTLB:
            /* The device caches nested results it cannot relate to an S2
             * range: flush it all. As in the kernel loop, the whole-space
             * values then stay in effect for the tags that follow. */
            addr = 0;
            mask = DRV_MASK_ALL;
            drv_add_devtlb(d, op, t->dev, t->pasid, addr, mask);
            break;
        case TAG_DEVTLB:
            drv_add_devtlb(d, op, t->dev, t->pasid, addr, mask);
            break;
        }
    }
    drv_op_cut(op);
}

/* cache_tag_flush_range_np after new mappings: invalidation only in caching
 * mode and not for first-stage domains; otherwise a write-buffer flush when
 * the unit needs one (CAP.RWBF). */
static void flush_range_np(ims_vtd_drv *d, drv_op *op, ims_drv_domain *dom, uint64_t start, uint64_t end)
{
    if (ims_vtd_cap_cm(d->cap) && dom->kind != IMS_VTD_DRV_DOM_FS) {
        uint64_t addr;
        unsigned mask = ims_vtd_drv_psi_mask(start, end, &addr);
        for (unsigned i = 0; i < dom->ntags; i++)
            if (dom->tags[i].type == TAG_IOTLB || dom->tags[i].type == TAG_NESTING_IOTLB)
                drv_add_iotlb_psi_or_dsi(d, op, dom->tags[i].did, addr, mask, false);
        drv_op_cut(op);
    } else if (ims_vtd_cap_rwbf(d->cap)) {
        drv_gcmd(d, (uint32_t)IMS_VTD_MASK(IMS_VTD_GCMD_WBF), true);
    }
}

/* ---- allocation ------------------------------------------------------------------------------ */

static ims_drv_domain *domain_new(ims_vtd_drv *d, ims_vtd_drv_dom_kind kind, uint32_t flags)
{
    ims_drv_domain *dom = calloc(1, sizeof *dom);
    if (!dom)
        return NULL;
    dom->drv = d;
    dom->kind = kind;
    dom->flags = flags;
    dom->next = d->domains;
    if (d->domains)
        d->domains->prev = dom;
    d->domains = dom;
    return dom;
}

static void domain_release(ims_drv_domain *dom)
{
    ims_vtd_drv *d = dom->drv;
    if (dom->prev)
        dom->prev->next = dom->next;
    else
        d->domains = dom->next;
    if (dom->next)
        dom->next->prev = dom->prev;
    free(dom->kids);
    free(dom->tags);
    free(dom);
}

int drv_domain_alloc_paging(void *drv, uint16_t sid, uint32_t flags, ims_drv_domain **out)
{
    ims_vtd_drv *d = drv;
    *out = NULL;
    if (!drv_find_dev(d, sid))
        return -ENODEV;
    const uint32_t known = IMS_DRV_ALLOC_NEST_PARENT | IMS_DRV_ALLOC_DIRTY_TRACKING | IMS_DRV_ALLOC_PASID;
    if (flags & ~known)
        return -EOPNOTSUPP;
    ims_vtd_drv_dom_kind kind = IMS_VTD_DRV_DOM_SS;
    /* First stage is preferred; it takes no flag but ALLOC_PASID. */
    if (!(flags & ~IMS_DRV_ALLOC_PASID) && d->scalable && ims_vtd_ecap_fsts(d->ecap)) {
        kind = IMS_VTD_DRV_DOM_FS;
    } else {
        if ((flags & IMS_DRV_ALLOC_NEST_PARENT) && !drv_nested_supported(d))
            return -EOPNOTSUPP;
        if ((flags & IMS_DRV_ALLOC_DIRTY_TRACKING) && !drv_ssads_supported(d))
            return -EOPNOTSUPP;
        if (d->scalable && !ims_vtd_ecap_ssts(d->ecap))
            return -EOPNOTSUPP;
    }
    ims_drv_domain *dom = domain_new(d, kind, flags);
    if (!dom)
        return -ENOMEM;
    dom->nest_parent = (flags & IMS_DRV_ALLOC_NEST_PARENT) != 0;
    dom->dirty_ops = (flags & IMS_DRV_ALLOC_DIRTY_TRACKING) != 0;
    dom->aw = d->agaw;
    int rc;
    if (kind == IMS_VTD_DRV_DOM_FS)
        rc = ims_pt_builder_init(&dom->pt, d->mem, d->alloc, IMS_PT_FORMAT_FS, 4, 0, NULL);
    else
        rc = ims_pt_builder_init(&dom->pt, d->mem, d->alloc, IMS_PT_FORMAT_SS, d->agaw + 2u, 0, NULL);
    if (rc) {
        domain_release(dom);
        return rc;
    }
    *out = dom;
    return 0;
}

int drv_domain_alloc_nested(void *drv, uint16_t sid, ims_drv_domain *parent, uint32_t flags, uint32_t data_type,
                            const void *data, uint32_t len, ims_drv_domain **out)
{
    ims_vtd_drv *d = drv;
    *out = NULL;
    if (!drv_find_dev(d, sid))
        return -ENODEV;
    /* Order of checks as intel_iommu_domain_alloc_nested (iommufd-facts §2.3). */
    if (!drv_nested_supported(d) || (flags & ~IMS_DRV_ALLOC_PASID))
        return -EOPNOTSUPP;
    if (data_type != IMS_IOMMU_HWPT_DATA_VTD_S1)
        return -EOPNOTSUPP;
    if (!parent || parent->kind != IMS_VTD_DRV_DOM_SS || !parent->nest_parent)
        return -EINVAL;
    /* Copy rule: the VT-d struct has no later versions, so exactly 24 bytes. */
    if (len != sizeof(ims_iommu_hwpt_vtd_s1))
        return -EINVAL;
    if (!data)
        return -EFAULT;
    ims_iommu_hwpt_vtd_s1 s1;
    memcpy(&s1, data, sizeof s1);
    if (parent->nkids == parent->ckids) {
        unsigned nc = parent->ckids ? 2 * parent->ckids : 4;
        ims_drv_domain **n = realloc(parent->kids, nc * sizeof *n);
        if (!n)
            return -ENOMEM;
        parent->kids = n;
        parent->ckids = nc;
    }
    ims_drv_domain *dom = domain_new(d, IMS_VTD_DRV_DOM_NESTED, flags);
    if (!dom)
        return -ENOMEM;
    /* No check of the stage-1 fields here: attach validates them (§2.3). */
    dom->parent = parent;
    dom->s1_flags = s1.flags;
    dom->s1_pgtbl = s1.pgtbl_addr;
    dom->s1_addr_width = s1.addr_width;
    parent->kids[parent->nkids++] = dom;
    *out = dom;
    return 0;
}

int drv_domain_free(void *drv, ims_drv_domain *dom)
{
    (void)drv;
    if (!dom)
        return -EINVAL;
    if (dom->attached || dom->nkids)
        return -EBUSY;
    if (dom->parent) {
        ims_drv_domain *p = dom->parent;
        for (unsigned i = 0; i < p->nkids; i++)
            if (p->kids[i] == dom) {
                memmove(&p->kids[i], &p->kids[i + 1], (p->nkids - i - 1) * sizeof p->kids[0]);
                p->nkids--;
                break;
            }
    }
    domain_release(dom);
    return 0;
}

void drv_domain_free_all(ims_vtd_drv *d)
{
    while (d->domains)
        domain_release(d->domains);
}

/* ---- map / unmap -------------------------------------------------------------------------------- */

/* Largest page that fits at (iova, pa) with `left` bytes to go. */
static uint64_t best_page(const ims_drv_domain *dom, uint64_t iova, uint64_t pa, uint64_t left, uint64_t below)
{
    const ims_vtd_drv *d = dom->drv;
    bool g1, m2;
    if (dom->kind == IMS_VTD_DRV_DOM_FS) {
        g1 = ims_vtd_cap_fs1gp(d->cap);
        m2 = true;
    } else {
        g1 = (ims_vtd_cap_sslps(d->cap) & IMS_VTD_SSLPS_1G) != 0;
        m2 = (ims_vtd_cap_sslps(d->cap) & IMS_VTD_SSLPS_2M) != 0;
    }
    static const uint64_t sizes[] = {UINT64_C(1) << 30, UINT64_C(1) << 21, UINT64_C(1) << 12};
    for (unsigned i = 0; i < 3; i++) {
        uint64_t s = sizes[i];
        if (s >= below || (i == 0 && !g1) || (i == 1 && !m2))
            continue;
        if (!(iova & (s - 1)) && !(pa & (s - 1)) && left >= s)
            return s;
    }
    return 0;
}

int drv_map(void *drv, ims_drv_domain *dom, uint64_t iova, uint64_t pa, uint64_t len, unsigned prot,
            ims_drv_done done)
{
    ims_vtd_drv *d = drv;
    if (!dom || dom->kind == IMS_VTD_DRV_DOM_NESTED)
        return -EINVAL;
    if (!len || ((iova | pa | len) & (IMS_PAGE_SIZE - 1)) || iova + len < iova || pa + len < pa)
        return -EINVAL;
    if (!(prot & (IMS_DRV_PROT_READ | IMS_DRV_PROT_WRITE)))
        return -EINVAL;
    /* Erratum 772415 (SPR17): no read-only mapping in a nest parent (§2.2). */
    if (dom->nest_parent && !(prot & IMS_DRV_PROT_WRITE))
        return -EINVAL;
    unsigned perm;
    if (dom->kind == IMS_VTD_DRV_DOM_FS) /* user-accessible, A/D preset as Linux's FS domains */
        perm = IMS_PT_R | IMS_PT_U | IMS_PT_AD | ((prot & IMS_DRV_PROT_WRITE) ? IMS_PT_W : 0);
    else
        perm = ((prot & IMS_DRV_PROT_READ) ? IMS_PT_R : 0) | ((prot & IMS_DRV_PROT_WRITE) ? IMS_PT_W : 0);
    uint64_t off = 0;
    int rc = 0;
    while (off < len) {
        uint64_t below = UINT64_MAX, s;
        for (;;) {
            s = best_page(dom, iova + off, pa + off, len - off, below);
            rc = ims_pt_map(&dom->pt, iova + off, pa + off, s, s, perm, NULL);
            if (rc != -EEXIST || s == IMS_PAGE_SIZE)
                break;
            below = s; /* a table is in the way: try the next size down */
        }
        if (rc)
            break;
        off += s;
    }
    if (rc) {
        if (off)
            ims_pt_unmap(&dom->pt, iova, off, NULL);
        return rc;
    }
    drv_op *op = drv_op_new();
    if (op)
        flush_range_np(d, op, dom, iova, iova + len - 1);
    return drv_op_start(d, op, done);
}

int drv_unmap(void *drv, ims_drv_domain *dom, uint64_t iova, uint64_t len, ims_drv_done done)
{
    ims_vtd_drv *d = drv;
    if (!dom || dom->kind == IMS_VTD_DRV_DOM_NESTED)
        return -EINVAL;
    if (!len || ((iova | len) & (IMS_PAGE_SIZE - 1)) || iova + len - 1 < iova)
        return -EINVAL;
    int64_t n = ims_pt_unmap(&dom->pt, iova, len, NULL);
    if (n < 0)
        return (int)n;
    drv_op *op = drv_op_new();
    /* Strict: flush now, over the range unmapped, leaf-only (IH=1). For a
     * nest parent the NESTING_* tags reach every nested child (§2.8). */
    if (op && n > 0)
        drv_flush_range(d, op, dom, iova, iova + len - 1, true);
    return drv_op_start(d, op, done);
}

/* ---- introspection --------------------------------------------------------------------------------- */

ims_vtd_drv_dom_kind ims_vtd_drv_domain_kind(const ims_drv_domain *dom) { return dom->kind; }
uint16_t ims_vtd_drv_domain_did(const ims_drv_domain *dom) { return dom->did_users ? dom->did : 0; }
uint64_t ims_vtd_drv_domain_root(const ims_drv_domain *dom)
{
    return dom->kind == IMS_VTD_DRV_DOM_NESTED ? 0 : dom->pt.root;
}
unsigned ims_vtd_drv_domain_levels(const ims_drv_domain *dom)
{
    return dom->kind == IMS_VTD_DRV_DOM_NESTED ? 0 : dom->pt.levels;
}
