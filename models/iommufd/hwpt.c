/* Hardware page tables: HWPT_ALLOC (paging over an IOAS, nested over a nest
 * parent) with the kernel's check order, their life and reference counts,
 * HWPT_INVALIDATE with partial completion, SET_DIRTY_TRACKING and
 * GET_DIRTY_BITMAP. Semantics: iommufd-facts §1.3 ([7.1mw] hw_pagetable.c,
 * io_pagetable.c). */
#include "models/iommufd/iommufd_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const ims_drv *drv_of(ims_ifd_call *c)
{
    return &c->ctx->drv;
}

static ims_ifd_hwpt *hwpt_new(ims_ifd_call *c, ims_iommufd_obj_type type)
{
    ims_ifd_hwpt *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    /* The id is taken now, before the driver runs, as the kernel does. */
    if (ims_ifd_obj_add(c->ctx, &h->obj, type)) {
        free(h);
        return NULL;
    }
    return h;
}

/* Undo a HWPT that was never (or is no longer) visible to users. */
static void hwpt_abort(ims_ifd_call *c, ims_ifd_hwpt *h)
{
    ims_ifd_obj_remove(c->ctx, &h->obj);
    ims_ifd_hwpt_free(c, h);
}

void ims_ifd_hwpt_free(ims_ifd_call *c, ims_ifd_hwpt *h)
{
    if (h->obj.type == IMS_IOMMUFD_OBJ_HWPT_PAGING && h->ioas) {
        if (h->domain)
            ims_ifd_ioas_remove_domain(c, h->ioas, h);
        h->ioas->obj.users--;
    }
    if (h->obj.type == IMS_IOMMUFD_OBJ_HWPT_NESTED && h->parent)
        h->parent->obj.users--;
    if (h->fault)
        h->fault->users--;
    if (h->domain)
        (void)drv_of(c)->ops->domain_free(drv_of(c)->drv, h->domain);
    free(h);
}

void ims_ifd_hwpt_put(ims_ifd_call *c, ims_ifd_hwpt *h)
{
    h->obj.users--;
    /* An automatic domain lives exactly as long as its attachments. */
    if (h->obj.type == IMS_IOMMUFD_OBJ_HWPT_PAGING && h->auto_domain && h->obj.users == 0)
        hwpt_abort(c, h);
}

#define PAGING_FLAGS                                                                                               \
    (IMS_IOMMU_HWPT_ALLOC_NEST_PARENT | IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING | IMS_IOMMU_HWPT_FAULT_ID_VALID |      \
     IMS_IOMMU_HWPT_ALLOC_PASID)

static int paging_new(ims_ifd_call *c, ims_ifd_ioas *ioas, ims_ifd_device *dev, uint32_t pasid, uint32_t flags,
                      bool immediate_attach, bool user_data, ims_ifd_hwpt **out)
{
    ims_iommufd *ctx = c->ctx;
    const ims_drv *drv = drv_of(c);
    if (flags & ~PAGING_FLAGS)
        return ims_ifd_fail(ctx, EOPNOTSUPP, "HWPT_ALLOC: flags 0x%x", flags);
    if ((flags & IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING) && !drv->ops->dev_has_dirty(drv->drv, dev->sid))
        return ims_ifd_fail(ctx, EOPNOTSUPP, "HWPT_ALLOC: device %u cannot track dirty pages", dev->obj.id);
    if ((flags & IMS_IOMMU_HWPT_FAULT_ID_VALID) && (flags & IMS_IOMMU_HWPT_ALLOC_NEST_PARENT))
        return ims_ifd_fail(ctx, EOPNOTSUPP, "HWPT_ALLOC: a nest parent cannot have a fault queue");
    /* The VT-d paging allocator takes no user data (iommufd-facts §2.2). */
    if (user_data)
        return ims_ifd_fail(ctx, EOPNOTSUPP, "HWPT_ALLOC: no driver data for a paging domain");
    ims_ifd_hwpt *h = hwpt_new(c, IMS_IOMMUFD_OBJ_HWPT_PAGING);
    if (!h)
        return -ENOMEM;
    h->pasid_compat = flags & IMS_IOMMU_HWPT_ALLOC_PASID;
    h->nest_parent = flags & IMS_IOMMU_HWPT_ALLOC_NEST_PARENT;
    h->dirty_tracking = flags & IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
    h->ioas = ioas;
    ioas->obj.users++;
    ims_drv_domain *d = NULL;
    int rc = drv->ops->domain_alloc_paging(drv->drv, dev->sid, flags & ~IMS_IOMMU_HWPT_FAULT_ID_VALID, &d);
    if (rc) {
        hwpt_abort(c, h);
        return ctx->err.code ? rc : ims_ifd_fail(ctx, -rc, "HWPT_ALLOC: the driver refused a paging domain");
    }
    h->domain = d;
    /* Aborting is safe at every step: a domain not yet in the IOAS's list
     * has nothing to unmap. */
    if (immediate_attach) {
        rc = ims_ifd_hwpt_attach(c, h, dev, pasid);
        if (rc) {
            hwpt_abort(c, h);
            return rc;
        }
    }
    rc = ims_ifd_ioas_add_domain(c, ioas, h);
    if (rc) {
        if (immediate_attach)
            ims_ifd_hwpt_detach(c, dev, pasid);
        hwpt_abort(c, h);
        return rc;
    }
    *out = h;
    return 0;
}

int ims_ifd_hwpt_paging_new(ims_ifd_call *c, ims_ifd_ioas *ioas, ims_ifd_device *dev, uint32_t pasid,
                            uint32_t flags, bool immediate_attach, ims_ifd_hwpt **out)
{
    return paging_new(c, ioas, dev, pasid, flags, immediate_attach, false, out);
}

static int nested_new(ims_ifd_call *c, ims_ifd_hwpt *parent, ims_ifd_device *dev, const ims_iommu_hwpt_alloc *cmd,
                      ims_ifd_hwpt **out)
{
    ims_iommufd *ctx = c->ctx;
    const ims_drv *drv = drv_of(c);
    if ((cmd->flags & ~(IMS_IOMMU_HWPT_FAULT_ID_VALID | IMS_IOMMU_HWPT_ALLOC_PASID)) || !cmd->data_len)
        return ims_ifd_fail(ctx, EOPNOTSUPP, "HWPT_ALLOC nested: flags 0x%x data_len %u", cmd->flags,
                            cmd->data_len);
    /* An automatic domain may vanish under the user; only an explicit nest
     * parent can carry stage-1 tables. */
    if (parent->auto_domain || !parent->nest_parent)
        return ims_ifd_fail(ctx, EINVAL, "HWPT_ALLOC nested: HWPT %u is not a nest parent", parent->obj.id);
    ims_ifd_hwpt *h = hwpt_new(c, IMS_IOMMUFD_OBJ_HWPT_NESTED);
    if (!h)
        return -ENOMEM;
    h->pasid_compat = cmd->flags & IMS_IOMMU_HWPT_ALLOC_PASID;
    h->parent = parent;
    parent->obj.users++;
    ims_drv_domain *d = NULL;
    int rc = drv->ops->domain_alloc_nested(drv->drv, dev->sid, parent->domain,
                                           cmd->flags & ~IMS_IOMMU_HWPT_FAULT_ID_VALID, cmd->data_type,
                                           (const void *)(uintptr_t)cmd->data_uptr, cmd->data_len, &d);
    if (rc) {
        hwpt_abort(c, h);
        return ims_ifd_fail(ctx, -rc, "HWPT_ALLOC nested: the driver refused the stage-1 data");
    }
    h->domain = d;
    *out = h;
    return 0;
}

int ims_ifd_cmd_hwpt_alloc(ims_ifd_call *c)
{
    ims_iommu_hwpt_alloc *cmd = c->cmd;
    ims_iommufd *ctx = c->ctx;
    /* The order of these checks is the kernel's (iommufd-facts §1.3). */
    if (cmd->reserved)
        return ims_ifd_fail(ctx, EOPNOTSUPP, "HWPT_ALLOC: reserved 0x%x", cmd->reserved);
    if ((cmd->data_type == IMS_IOMMU_HWPT_DATA_NONE && cmd->data_len) ||
        (cmd->data_type != IMS_IOMMU_HWPT_DATA_NONE && !cmd->data_len))
        return ims_ifd_fail(ctx, EINVAL, "HWPT_ALLOC: data_type %u with data_len %u", cmd->data_type,
                            cmd->data_len);
    ims_ifd_device *dev = (ims_ifd_device *)ims_ifd_obj_get(ctx, cmd->dev_id, IMS_IOMMUFD_OBJ_DEVICE);
    if (!dev)
        return ims_ifd_fail(ctx, ENOENT, "HWPT_ALLOC: no device %u", cmd->dev_id);
    ims_ifd_obj *pt = ims_ifd_obj_get(ctx, cmd->pt_id, IMS_IOMMUFD_OBJ_NONE);
    if (!pt)
        return ims_ifd_fail(ctx, EINVAL, "HWPT_ALLOC: no object %u to build on", cmd->pt_id);
    ims_ifd_hwpt *h = NULL;
    int rc;
    switch (pt->type) {
    case IMS_IOMMUFD_OBJ_IOAS:
        rc = paging_new(c, (ims_ifd_ioas *)pt, dev, IMS_DRV_NO_PASID, cmd->flags, false, cmd->data_len != 0, &h);
        break;
    case IMS_IOMMUFD_OBJ_HWPT_PAGING:
        rc = nested_new(c, (ims_ifd_hwpt *)pt, dev, cmd, &h);
        break;
    case IMS_IOMMUFD_OBJ_VIOMMU:
        rc = ims_ifd_fail(ctx, EOPNOTSUPP, "HWPT_ALLOC: no vIOMMU support");
        break;
    default:
        rc = ims_ifd_fail(ctx, EINVAL, "HWPT_ALLOC: object %u cannot hold a page table", cmd->pt_id);
        break;
    }
    if (rc)
        return rc;
    if (cmd->flags & IMS_IOMMU_HWPT_FAULT_ID_VALID) {
        ims_ifd_obj *f = ims_ifd_obj_get(ctx, cmd->fault_id, IMS_IOMMUFD_OBJ_FAULT);
        if (!f) {
            hwpt_abort(c, h);
            return ims_ifd_fail(ctx, ENOENT, "HWPT_ALLOC: no fault queue %u", cmd->fault_id);
        }
        h->fault = f;
        f->users++;
    }
    cmd->out_hwpt_id = h->obj.id;
    c->respond = true;
    return 0;
}

int ims_ifd_cmd_hwpt_invalidate(ims_ifd_call *c)
{
    ims_iommu_hwpt_invalidate *cmd = c->cmd;
    ims_iommufd *ctx = c->ctx;
    uint32_t handled = 0;
    int rc = 0;
    /* Partial completion: the handled count goes back on every path. */
    c->respond = true;
    if (cmd->reserved) {
        rc = ims_ifd_fail(ctx, EOPNOTSUPP, "HWPT_INVALIDATE: reserved 0x%x", cmd->reserved);
    } else if (cmd->entry_num && (!cmd->data_uptr || !cmd->entry_len)) {
        rc = ims_ifd_fail(ctx, EINVAL, "HWPT_INVALIDATE: %u entries without a buffer or length", cmd->entry_num);
    } else {
        ims_ifd_obj *o = ims_ifd_obj_get(ctx, cmd->hwpt_id, IMS_IOMMUFD_OBJ_NONE);
        if (!o) {
            rc = ims_ifd_fail(ctx, ENOENT, "HWPT_INVALIDATE: no object %u", cmd->hwpt_id);
        } else if (o->type == IMS_IOMMUFD_OBJ_HWPT_NESTED) {
            const ims_drv *drv = drv_of(c);
            uint32_t num = cmd->entry_num;
            rc = drv->ops->cache_invalidate_user(drv->drv, ((ims_ifd_hwpt *)o)->domain, cmd->data_type,
                                                 (const void *)(uintptr_t)cmd->data_uptr, cmd->entry_len, &num,
                                                 ims_ifd_drv_hold(c));
            if (rc) {
                ims_ifd_drv_failed(c);
                ims_ifd_fail(ctx, -rc, "HWPT_INVALIDATE: entry %u refused", num);
            }
            handled = num;
        } else if (o->type == IMS_IOMMUFD_OBJ_VIOMMU) {
            rc = ims_ifd_fail(ctx, EOPNOTSUPP, "HWPT_INVALIDATE: no vIOMMU support");
        } else {
            /* Includes a nest parent: only stage-1 caches are user managed. */
            rc = ims_ifd_fail(ctx, EINVAL, "HWPT_INVALIDATE: object %u is not a nested HWPT", cmd->hwpt_id);
        }
    }
    cmd->entry_num = handled;
    return rc;
}

static ims_ifd_hwpt *get_paging(ims_ifd_call *c, uint32_t id, const char *what)
{
    ims_ifd_hwpt *h = (ims_ifd_hwpt *)ims_ifd_obj_get(c->ctx, id, IMS_IOMMUFD_OBJ_HWPT_PAGING);
    if (!h)
        ims_ifd_fail(c->ctx, ENOENT, "%s: no paging HWPT %u", what, id);
    return h;
}

typedef struct clear_arg {
    ims_ifd_call *c;
    ims_drv_domain *d;
    int rc;
} clear_arg;

static void clear_area(void *p, uint64_t iova, uint64_t last)
{
    clear_arg *a = p;
    if (a->rc)
        return;
    uint64_t pages = (last - iova) / IMS_IOMMUFD_DOMAIN_PAGE + 1;
    uint64_t *scratch = calloc((size_t)((pages + 63) / 64), sizeof *scratch);
    if (!scratch) {
        a->rc = -ENOMEM;
        return;
    }
    const ims_drv *drv = drv_of(a->c);
    a->rc = drv->ops->read_and_clear_dirty(drv->drv, a->d, iova, last - iova + 1, IMS_IOMMUFD_DOMAIN_PAGE, scratch,
                                           false, ims_ifd_drv_hold(a->c));
    if (a->rc)
        ims_ifd_drv_failed(a->c);
    free(scratch);
}

int ims_ifd_cmd_set_dirty_tracking(ims_ifd_call *c)
{
    ims_iommu_hwpt_set_dirty_tracking *cmd = c->cmd;
    ims_iommufd *ctx = c->ctx;
    if (cmd->flags & ~IMS_IOMMU_HWPT_DIRTY_TRACKING_ENABLE)
        return ims_ifd_fail(ctx, EOPNOTSUPP, "SET_DIRTY_TRACKING: flags 0x%x", cmd->flags);
    ims_ifd_hwpt *h = get_paging(c, cmd->hwpt_id, "SET_DIRTY_TRACKING");
    if (!h)
        return -ENOENT;
    if (!h->dirty_tracking)
        return ims_ifd_fail(ctx, EOPNOTSUPP, "SET_DIRTY_TRACKING: HWPT %u has no dirty tracking", h->obj.id);
    bool enable = cmd->flags & IMS_IOMMU_HWPT_DIRTY_TRACKING_ENABLE;
    if (enable) {
        /* Start from a clean snapshot: clear what is already marked. */
        clear_arg a = {.c = c, .d = h->domain};
        ims_ifd_ioas_each_area(h->ioas, clear_area, &a);
        if (a.rc)
            return ims_ifd_fail(ctx, -a.rc, "SET_DIRTY_TRACKING: clearing dirty bits failed");
    }
    const ims_drv *drv = drv_of(c);
    int rc = drv->ops->set_dirty_tracking(drv->drv, h->domain, enable, ims_ifd_drv_hold(c));
    if (rc) {
        ims_ifd_drv_failed(c);
        return ims_ifd_fail(ctx, -rc, "SET_DIRTY_TRACKING: the driver refused");
    }
    return 0;
}

int ims_ifd_cmd_get_dirty_bitmap(ims_ifd_call *c)
{
    ims_iommu_hwpt_get_dirty_bitmap *cmd = c->cmd;
    ims_iommufd *ctx = c->ctx;
    if ((cmd->flags & ~IMS_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) || cmd->reserved)
        return ims_ifd_fail(ctx, EOPNOTSUPP, "GET_DIRTY_BITMAP: flags 0x%x reserved 0x%x", cmd->flags,
                            cmd->reserved);
    ims_ifd_hwpt *h = get_paging(c, cmd->hwpt_id, "GET_DIRTY_BITMAP");
    if (!h)
        return -ENOENT;
    /* iommufd_check_iova_range: both ends on the IOMMU page and on the
     * bitmap's page. */
    uint64_t last, align = h->ioas->iova_alignment, ps = cmd->page_size;
    if (__builtin_add_overflow(cmd->iova, cmd->length - 1, &last))
        return ims_ifd_fail(ctx, EOVERFLOW, "GET_DIRTY_BITMAP: range overflows");
    if ((cmd->iova & (align - 1)) || ((last + 1) & (align - 1)))
        return ims_ifd_fail(ctx, EINVAL, "GET_DIRTY_BITMAP: range not aligned to %llu", (unsigned long long)align);
    if (!ps)
        return ims_ifd_fail(ctx, EINVAL, "GET_DIRTY_BITMAP: page_size 0");
    if ((cmd->iova & (ps - 1)) || ((last + 1) & (ps - 1)))
        return ims_ifd_fail(ctx, EINVAL, "GET_DIRTY_BITMAP: range not aligned to page_size");
    if (!h->dirty_tracking)
        return ims_ifd_fail(ctx, EOPNOTSUPP, "GET_DIRTY_BITMAP: HWPT %u has no dirty tracking", h->obj.id);
    if (!cmd->data)
        return ims_ifd_fail(ctx, EFAULT, "GET_DIRTY_BITMAP: NULL bitmap");
    /* One walk over the whole range: unmapped IOVAs have no dirty bits, which
     * is what the kernel's per-area walk reports for them too. */
    const ims_drv *drv = drv_of(c);
    int rc = drv->ops->read_and_clear_dirty(drv->drv, h->domain, cmd->iova, cmd->length, ps,
                                            (uint64_t *)(uintptr_t)cmd->data,
                                            cmd->flags & IMS_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR,
                                            ims_ifd_drv_hold(c));
    if (rc) {
        ims_ifd_drv_failed(c);
        return ims_ifd_fail(ctx, -rc, "GET_DIRTY_BITMAP: the driver failed");
    }
    return 0;
}
