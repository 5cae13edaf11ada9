/* Devices: VFIO cdev bind (VFIO_DEVICE_BIND_IOMMUFD -> a DEVICE object),
 * attach / replace / detach of the RID and of PASIDs (VFIO_DEVICE_ATTACH /
 * DETACH_IOMMUFD_PT over the kernel's iommufd_device_attach / _replace /
 * _detach, with automatic paging domains for an IOAS), and GET_HW_INFO.
 * Every device is its own IOMMU group (a PCIe function behind ACS).
 * Semantics: iommufd-facts §1.3 ([7.1mw] device.c, drivers/vfio/device_cdev.c). */
#include "models/iommufd/iommufd_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* PCIe PASIDs are 20 bits wide; the core rejects larger ones on a PASID
 * capable device (iommu_attach_device_pasid's max_pasids check). */
#define PASID_BITS 20u

static const ims_drv *drv_of(ims_ifd_call *c)
{
    return &c->ctx->drv;
}

static ims_ifd_device *dev_of_sid(const ims_iommufd *ctx, uint16_t sid)
{
    for (size_t id = 1; id < ctx->cobjs; id++) {
        ims_ifd_obj *o = ctx->objs[id];
        if (o && o->type == IMS_IOMMUFD_OBJ_DEVICE && ((ims_ifd_device *)o)->sid == sid)
            return (ims_ifd_device *)o;
    }
    return NULL;
}

static ims_ifd_attach *att_find(const ims_ifd_device *dev, uint32_t pasid)
{
    for (size_t i = 0; i < dev->natt; i++)
        if (dev->att[i].pasid == pasid)
            return &dev->att[i];
    return NULL;
}

static int att_add(ims_ifd_device *dev, uint32_t pasid, ims_ifd_hwpt *hwpt)
{
    if (dev->natt == dev->catt) {
        size_t n = dev->catt ? dev->catt * 2 : 4;
        ims_ifd_attach *a = realloc(dev->att, n * sizeof *a);
        if (!a)
            return -ENOMEM;
        dev->att = a;
        dev->catt = n;
    }
    dev->att[dev->natt++] = (ims_ifd_attach){.pasid = pasid, .hwpt = hwpt};
    return 0;
}

static void att_del(ims_ifd_device *dev, uint32_t pasid)
{
    size_t j = 0;
    for (size_t i = 0; i < dev->natt; i++)
        if (dev->att[i].pasid != pasid)
            dev->att[j++] = dev->att[i];
    dev->natt = j;
}

/* The paging HWPT whose IOAS backs `h` (a nested HWPT's parent). */
static ims_ifd_hwpt *paging_of(ims_ifd_hwpt *h)
{
    return h->obj.type == IMS_IOMMUFD_OBJ_HWPT_NESTED ? h->parent : h;
}

static int reserve_dev(ims_ifd_call *c, ims_ifd_ioas *ioas, ims_ifd_device *dev)
{
    for (size_t i = 0; i < c->ctx->n_dev_resv; i++) {
        int rc = ims_ifd_ioas_reserve(ioas, c->ctx->dev_resv[i].start, c->ctx->dev_resv[i].last, dev);
        if (rc) {
            ims_ifd_ioas_unreserve(ioas, dev);
            return ims_ifd_fail(c->ctx, -rc, "attach: IOAS %u maps the device's reserved range 0x%llx-0x%llx",
                                ioas->obj.id, (unsigned long long)c->ctx->dev_resv[i].start,
                                (unsigned long long)c->ctx->dev_resv[i].last);
        }
    }
    return 0;
}

/* A PASID can only hang off a PASID-capable RID domain, and a domain only
 * serves PASIDs if it was allocated for them (iommufd_hwpt_pasid_compat). */
static int pasid_compat(ims_ifd_call *c, ims_ifd_hwpt *h, ims_ifd_device *dev, uint32_t pasid)
{
    if (pasid == IMS_DRV_NO_PASID) {
        for (size_t i = 0; i < dev->natt; i++)
            if (dev->att[i].pasid != IMS_DRV_NO_PASID && !h->pasid_compat)
                return ims_ifd_fail(c->ctx, EINVAL, "attach: HWPT %u cannot sit under attached PASIDs",
                                    h->obj.id);
        return 0;
    }
    if (!h->pasid_compat)
        return ims_ifd_fail(c->ctx, EINVAL, "attach: HWPT %u was not allocated for PASIDs", h->obj.id);
    const ims_ifd_attach *rid = att_find(dev, IMS_DRV_NO_PASID);
    if (rid && !rid->hwpt->pasid_compat)
        return ims_ifd_fail(c->ctx, EINVAL, "attach: the RID's HWPT %u does not allow PASIDs", rid->hwpt->obj.id);
    const ims_drv *drv = drv_of(c);
    if (drv->ops->dev_has_pasid(drv->drv, dev->sid) && pasid >= (1u << PASID_BITS))
        return ims_ifd_fail(c->ctx, EINVAL, "attach: PASID 0x%x beyond %u bits", pasid, PASID_BITS);
    return 0;
}

int ims_ifd_hwpt_attach(ims_ifd_call *c, ims_ifd_hwpt *h, ims_ifd_device *dev, uint32_t pasid)
{
    if (att_find(dev, pasid))
        return ims_ifd_fail(c->ctx, EBUSY, "attach: device %u PASID 0x%x is already attached", dev->obj.id, pasid);
    ims_ifd_hwpt *p = paging_of(h);
    bool resv = p && pasid == IMS_DRV_NO_PASID;
    int rc = resv ? reserve_dev(c, p->ioas, dev) : 0;
    if (!rc)
        rc = pasid_compat(c, h, dev, pasid);
    if (!rc) {
        rc = ims_ifd_drv_attach(c, h->domain, dev->sid, pasid);
        if (rc)
            ims_ifd_fail(c->ctx, -rc, "attach: the driver refused HWPT %u for device %u", h->obj.id, dev->obj.id);
    }
    if (!rc && (rc = att_add(dev, pasid, h)) != 0)
        (void)ims_ifd_drv_detach(c, dev->sid, pasid);
    if (rc) {
        if (resv)
            ims_ifd_ioas_unreserve(p->ioas, dev);
        return rc;
    }
    h->obj.users++;
    return 0;
}

bool ims_ifd_hwpt_detach(ims_ifd_call *c, ims_ifd_device *dev, uint32_t pasid)
{
    ims_ifd_attach *a = att_find(dev, pasid);
    if (!a)
        return false;
    ims_ifd_hwpt *h = a->hwpt;
    att_del(dev, pasid);
    (void)ims_ifd_drv_detach(c, dev->sid, pasid); /* blocking state */
    ims_ifd_hwpt *p = paging_of(h);
    if (p && pasid == IMS_DRV_NO_PASID)
        ims_ifd_ioas_unreserve(p->ioas, dev);
    ims_ifd_hwpt_put(c, h);
    return true;
}

/* Switch an attached (dev, pasid) to `h` without a blocking window;
 * *old gets the HWPT whose reference the caller must drop (NULL if none). */
static int do_replace(ims_ifd_call *c, ims_ifd_device *dev, uint32_t pasid, ims_ifd_hwpt *h, ims_ifd_hwpt **old)
{
    *old = NULL;
    ims_ifd_attach *a = att_find(dev, pasid);
    if (!a)
        return ims_ifd_fail(c->ctx, EINVAL, "replace: device %u PASID 0x%x is not attached", dev->obj.id, pasid);
    ims_ifd_hwpt *prev = a->hwpt;
    if (prev == h)
        return 0;
    ims_ifd_hwpt *p = paging_of(h), *op = paging_of(prev);
    bool rid = pasid == IMS_DRV_NO_PASID;
    bool new_ioas = rid && p && (!op || p->ioas != op->ioas);
    int rc = new_ioas ? reserve_dev(c, p->ioas, dev) : 0;
    if (!rc)
        rc = pasid_compat(c, h, dev, pasid);
    if (!rc) {
        rc = ims_ifd_drv_attach(c, h->domain, dev->sid, pasid);
        if (rc)
            ims_ifd_fail(c->ctx, -rc, "replace: the driver refused HWPT %u for device %u", h->obj.id,
                         dev->obj.id);
    }
    if (rc) {
        if (new_ioas)
            ims_ifd_ioas_unreserve(p->ioas, dev);
        return rc;
    }
    if (rid && op && (!p || p->ioas != op->ioas))
        ims_ifd_ioas_unreserve(op->ioas, dev);
    a->hwpt = h;
    h->obj.users++;
    *old = prev;
    return 0;
}

/* An IOAS given: reuse an automatic domain the device accepts (-EINVAL means
 * "incompatible, try the next"), else make one (iommufd_device_auto_get_domain). */
static int auto_domain(ims_ifd_call *c, ims_ifd_device *dev, uint32_t pasid, ims_ifd_ioas *ioas, bool replace,
                       uint32_t *pt_id, ims_ifd_hwpt **old)
{
    for (size_t i = 0; i < ioas->ndomains; i++) {
        ims_ifd_hwpt *h = ioas->domains[i];
        if (!h->auto_domain)
            continue;
        int rc = replace ? do_replace(c, dev, pasid, h, old) : ims_ifd_hwpt_attach(c, h, dev, pasid);
        if (rc == -EINVAL)
            continue;
        if (rc)
            return rc;
        *pt_id = h->obj.id;
        return 0;
    }
    ims_ifd_hwpt *h = NULL;
    int rc = ims_ifd_hwpt_paging_new(c, ioas, dev, pasid, 0, !replace, &h);
    if (rc)
        return rc;
    if (replace && (rc = do_replace(c, dev, pasid, h, old)) != 0) {
        ims_ifd_obj_remove(c->ctx, &h->obj);
        ims_ifd_hwpt_free(c, h);
        return rc;
    }
    h->auto_domain = true;
    *pt_id = h->obj.id;
    return 0;
}

static int change_pt(ims_ifd_call *c, ims_ifd_device *dev, uint32_t pasid, uint32_t *pt_id, bool replace)
{
    ims_ifd_obj *o = ims_ifd_obj_get(c->ctx, *pt_id, IMS_IOMMUFD_OBJ_NONE);
    if (!o)
        return ims_ifd_fail(c->ctx, ENOENT, "attach: no object %u", *pt_id);
    ims_ifd_hwpt *old = NULL;
    int rc;
    switch (o->type) {
    case IMS_IOMMUFD_OBJ_HWPT_PAGING:
    case IMS_IOMMUFD_OBJ_HWPT_NESTED:
        rc = replace ? do_replace(c, dev, pasid, (ims_ifd_hwpt *)o, &old)
                     : ims_ifd_hwpt_attach(c, (ims_ifd_hwpt *)o, dev, pasid);
        break;
    case IMS_IOMMUFD_OBJ_IOAS:
        rc = auto_domain(c, dev, pasid, (ims_ifd_ioas *)o, replace, pt_id, &old);
        break;
    default:
        rc = ims_ifd_fail(c->ctx, EINVAL, "attach: object %u is neither an IOAS nor a HWPT", *pt_id);
        break;
    }
    if (!rc && old)
        ims_ifd_hwpt_put(c, old); /* a replaced automatic domain dies here */
    return rc;
}

/* ---- the in-kernel device API ------------------------------------------ */

typedef enum dev_op { DEV_ATTACH, DEV_REPLACE, DEV_DETACH } dev_op;

static int dev_api(ims_iommufd *ctx, uint32_t dev_id, uint32_t pasid, uint32_t *pt_id, dev_op op,
                   ims_drv_done done)
{
    ims_ifd_call c;
    int rc = ims_ifd_call_begin(ctx, &c, NULL, done);
    if (rc)
        return rc;
    ims_ifd_device *dev = (ims_ifd_device *)ims_ifd_obj_get(ctx, dev_id, IMS_IOMMUFD_OBJ_DEVICE);
    if (!dev)
        rc = ims_ifd_fail(ctx, ENOENT, "device %u not bound", dev_id);
    else if (op == DEV_DETACH) {
        if (ims_ifd_hwpt_detach(&c, dev, pasid))
            dev->obj.users--;
    } else {
        rc = change_pt(&c, dev, pasid, pt_id, op == DEV_REPLACE);
        if (!rc && op == DEV_ATTACH)
            dev->obj.users++; /* an attached device cannot be destroyed */
    }
    return ims_ifd_call_end(&c, rc);
}

int ims_iommufd_device_attach(ims_iommufd *ctx, uint32_t dev_id, uint32_t pasid, uint32_t *pt_id,
                              ims_drv_done done)
{
    return dev_api(ctx, dev_id, pasid, pt_id, DEV_ATTACH, done);
}

int ims_iommufd_device_replace(ims_iommufd *ctx, uint32_t dev_id, uint32_t pasid, uint32_t *pt_id,
                               ims_drv_done done)
{
    return dev_api(ctx, dev_id, pasid, pt_id, DEV_REPLACE, done);
}

int ims_iommufd_device_detach(ims_iommufd *ctx, uint32_t dev_id, uint32_t pasid, ims_drv_done done)
{
    return dev_api(ctx, dev_id, pasid, NULL, DEV_DETACH, done);
}

/* ---- VFIO device cdev ---------------------------------------------------- */

/* Not inlined: callers pass exact-size structs, and after inlining GCC -O3
 * flags the (then unreachable) tail check with -Warray-bounds. */
__attribute__((noinline)) static int vfio_bind(ims_ifd_call *c, uint16_t sid, void *arg)
{
    ims_iommufd *ctx = c->ctx;
    ims_vfio_device_bind_iommufd b;
    uint32_t argsz;
    memcpy(&argsz, arg, sizeof argsz);
    if (argsz < IMS_VFIO_DEVICE_BIND_IOMMUFD_MIN)
        return ims_ifd_fail(ctx, EINVAL, "BIND_IOMMUFD: argsz %u", argsz);
    uint32_t nz = ims_ifd_first_nonzero(arg, sizeof b, argsz);
    if (nz < argsz)
        return ims_ifd_fail(ctx, E2BIG, "BIND_IOMMUFD: non-zero byte %u past the struct", nz);
    memset(&b, 0, sizeof b);
    memcpy(&b, arg, argsz < sizeof b ? argsz : sizeof b);
    if (b.iommufd < 0 || (b.flags & ~IMS_VFIO_DEVICE_BIND_FLAG_TOKEN))
        return ims_ifd_fail(ctx, EINVAL, "BIND_IOMMUFD: iommufd %d flags 0x%x", b.iommufd, b.flags);
    if (dev_of_sid(ctx, sid))
        return ims_ifd_fail(ctx, EINVAL, "BIND_IOMMUFD: device 0x%04x is already bound", sid);
    /* Decision: a token is only for SR-IOV PF/VF pairs, which are not
     * modelled; vfio-pci rejects a token for other devices. */
    if (b.flags & IMS_VFIO_DEVICE_BIND_FLAG_TOKEN)
        return ims_ifd_fail(ctx, EINVAL, "BIND_IOMMUFD: device 0x%04x takes no VF token", sid);
    ims_ifd_device *dev = calloc(1, sizeof *dev);
    if (!dev)
        return -ENOMEM;
    if (ims_ifd_obj_add(ctx, &dev->obj, IMS_IOMMUFD_OBJ_DEVICE)) {
        free(dev);
        return -ENOMEM;
    }
    dev->sid = sid;
    dev->obj.users = 1; /* the VFIO file's reference: DESTROY says EBUSY */
    b.out_devid = dev->obj.id;
    memcpy((unsigned char *)arg + offsetof(ims_vfio_device_bind_iommufd, out_devid), &b.out_devid,
           sizeof b.out_devid);
    return 0;
}

static int vfio_attach(ims_ifd_call *c, ims_ifd_device *dev, void *arg)
{
    ims_iommufd *ctx = c->ctx;
    ims_vfio_device_attach_iommufd_pt at = {0};
    memcpy(&at, arg, IMS_VFIO_DEVICE_ATTACH_MIN);
    if (at.argsz < IMS_VFIO_DEVICE_ATTACH_MIN)
        return ims_ifd_fail(ctx, EINVAL, "ATTACH_IOMMUFD_PT: argsz %u", at.argsz);
    if (at.flags & ~IMS_VFIO_DEVICE_ATTACH_PASID)
        return ims_ifd_fail(ctx, EINVAL, "ATTACH_IOMMUFD_PT: flags 0x%x", at.flags);
    uint32_t pasid = IMS_DRV_NO_PASID;
    if (at.flags & IMS_VFIO_DEVICE_ATTACH_PASID) {
        if (at.argsz < IMS_VFIO_DEVICE_ATTACH_PASID_MIN)
            return ims_ifd_fail(ctx, EINVAL, "ATTACH_IOMMUFD_PT: argsz %u too small for a PASID", at.argsz);
        memcpy(&pasid, (unsigned char *)arg + offsetof(ims_vfio_device_attach_iommufd_pt, pasid), sizeof pasid);
        /* Decision: PASID 0 is the RID's (IOMMU_NO_PASID); use the RID form. */
        if (pasid == 0 || pasid == IMS_DRV_NO_PASID)
            return ims_ifd_fail(ctx, EINVAL, "ATTACH_IOMMUFD_PT: PASID %u is not a PASID", pasid);
    }
    bool attached = att_find(dev, pasid) != NULL;
    int rc = change_pt(c, dev, pasid, &at.pt_id, attached);
    if (rc)
        return rc;
    if (!attached)
        dev->obj.users++;
    memcpy((unsigned char *)arg + offsetof(ims_vfio_device_attach_iommufd_pt, pt_id), &at.pt_id, sizeof at.pt_id);
    return 0;
}

static int vfio_detach(ims_ifd_call *c, ims_ifd_device *dev, void *arg)
{
    ims_iommufd *ctx = c->ctx;
    ims_vfio_device_detach_iommufd_pt de = {0};
    memcpy(&de, arg, IMS_VFIO_DEVICE_DETACH_MIN);
    if (de.argsz < IMS_VFIO_DEVICE_DETACH_MIN)
        return ims_ifd_fail(ctx, EINVAL, "DETACH_IOMMUFD_PT: argsz %u", de.argsz);
    if (de.flags & ~IMS_VFIO_DEVICE_DETACH_PASID)
        return ims_ifd_fail(ctx, EINVAL, "DETACH_IOMMUFD_PT: flags 0x%x", de.flags);
    uint32_t pasid = IMS_DRV_NO_PASID;
    if (de.flags & IMS_VFIO_DEVICE_DETACH_PASID) {
        if (de.argsz < IMS_VFIO_DEVICE_DETACH_PASID_MIN)
            return ims_ifd_fail(ctx, EINVAL, "DETACH_IOMMUFD_PT: argsz %u too small for a PASID", de.argsz);
        memcpy(&pasid, (unsigned char *)arg + offsetof(ims_vfio_device_detach_iommufd_pt, pasid), sizeof pasid);
    }
    if (ims_ifd_hwpt_detach(c, dev, pasid)) /* not attached: nothing to do */
        dev->obj.users--;
    return 0;
}

int ims_iommufd_vfio_ioctl(ims_iommufd *ctx, uint16_t sid, unsigned long cmd, void *arg, ims_drv_done done)
{
    if (cmd != IMS_VFIO_DEVICE_BIND_IOMMUFD && cmd != IMS_VFIO_DEVICE_ATTACH_IOMMUFD_PT &&
        cmd != IMS_VFIO_DEVICE_DETACH_IOMMUFD_PT)
        return ims_ifd_fail(ctx, ENOTTY, "vfio: unknown device ioctl 0x%lx", cmd);
    if (!arg)
        return ims_ifd_fail(ctx, EFAULT, "vfio: ioctl 0x%lx: NULL argument", cmd);
    ims_ifd_call c;
    int rc = ims_ifd_call_begin(ctx, &c, arg, done);
    if (rc)
        return rc;
    if (cmd == IMS_VFIO_DEVICE_BIND_IOMMUFD) {
        rc = vfio_bind(&c, sid, arg);
    } else {
        ims_ifd_device *dev = dev_of_sid(ctx, sid);
        if (!dev) /* the cdev grants no access before BIND */
            rc = ims_ifd_fail(ctx, EINVAL, "vfio: device 0x%04x is not bound", sid);
        else if (cmd == IMS_VFIO_DEVICE_ATTACH_IOMMUFD_PT)
            rc = vfio_attach(&c, dev, arg);
        else
            rc = vfio_detach(&c, dev, arg);
    }
    return ims_ifd_call_end(&c, rc);
}

int ims_iommufd_vfio_close(ims_iommufd *ctx, uint16_t sid, ims_drv_done done)
{
    ims_ifd_call c;
    int rc = ims_ifd_call_begin(ctx, &c, NULL, done);
    if (rc)
        return rc;
    ims_ifd_device *dev = dev_of_sid(ctx, sid);
    if (!dev)
        return ims_ifd_call_end(&c, ims_ifd_fail(ctx, ENOENT, "vfio: device 0x%04x is not bound", sid));
    /* PASIDs first, then the RID they hang off (vfio_iommufd_physical_unbind). */
    while (dev->natt) {
        uint32_t pasid = dev->att[0].pasid;
        for (size_t i = 1; pasid == IMS_DRV_NO_PASID && i < dev->natt; i++)
            pasid = dev->att[i].pasid;
        ims_ifd_hwpt_detach(&c, dev, pasid);
    }
    ims_ifd_obj_remove(ctx, &dev->obj);
    free(dev->att);
    free(dev);
    return ims_ifd_call_end(&c, 0);
}

/* ---- IOMMU_GET_HW_INFO --------------------------------------------------- */

int ims_ifd_cmd_get_hw_info(ims_ifd_call *c)
{
    ims_iommu_hw_info *cmd = c->cmd;
    ims_iommufd *ctx = c->ctx;
    if (cmd->flags & ~IMS_IOMMU_HW_INFO_FLAG_INPUT_TYPE)
        return ims_ifd_fail(ctx, EOPNOTSUPP, "GET_HW_INFO: flags 0x%x", cmd->flags);
    if (cmd->reserved[0] || cmd->reserved[1] || cmd->reserved[2])
        return ims_ifd_fail(ctx, EOPNOTSUPP, "GET_HW_INFO: reserved bytes set");
    if (!(cmd->flags & IMS_IOMMU_HW_INFO_FLAG_INPUT_TYPE))
        cmd->in_data_type = IMS_IOMMU_HW_INFO_TYPE_DEFAULT;
    ims_ifd_device *dev = (ims_ifd_device *)ims_ifd_obj_get(ctx, cmd->dev_id, IMS_IOMMUFD_OBJ_DEVICE);
    if (!dev)
        return ims_ifd_fail(ctx, ENOENT, "GET_HW_INFO: no device %u", cmd->dev_id);
    const ims_drv *drv = drv_of(c);
    uint64_t data[32] = {0};
    uint32_t len = sizeof data, type = IMS_IOMMU_HW_INFO_TYPE_NONE;
    uint64_t caps = 0;
    int rc = drv->ops->hw_info(drv->drv, dev->sid, cmd->in_data_type, data, &len, &type, &caps);
    if (rc)
        return ims_ifd_fail(ctx, -rc, "GET_HW_INFO: the driver refused type %u", cmd->in_data_type);
    if (type == IMS_IOMMU_HW_INFO_TYPE_NONE)
        return ims_ifd_fail(ctx, EOPNOTSUPP, "GET_HW_INFO: the driver reported no type");
    /* Copy what fits, zero the rest of a larger buffer, report our length
     * (which may exceed the caller's). */
    uint32_t have = len < sizeof data ? len : (uint32_t)sizeof data;
    uint32_t copy = cmd->data_len < have ? cmd->data_len : have;
    unsigned char *user = (unsigned char *)(uintptr_t)cmd->data_uptr;
    if (cmd->data_len && !user)
        return ims_ifd_fail(ctx, EFAULT, "GET_HW_INFO: NULL data buffer of %u bytes", cmd->data_len);
    if (copy)
        memcpy(user, data, copy);
    if (copy < cmd->data_len)
        memset(user + copy, 0, cmd->data_len - copy);
    cmd->data_len = len;
    cmd->out_data_type = type;
    cmd->out_capabilities = caps;
    /* Decision: a PASID-capable device reports the PCIe maximum of 20 bits
     * (the driver interface gives no narrower width). */
    cmd->out_max_pasid_log2 = drv->ops->dev_has_pasid(drv->drv, dev->sid) ? PASID_BITS : 0;
    c->respond = true;
    return 0;
}

/* ---- typed wrappers and inspection --------------------------------------- */

int ims_iommufd_bind(ims_iommufd *ctx, uint16_t sid, uint32_t *dev_id, ims_drv_done done)
{
    ims_vfio_device_bind_iommufd b = {.argsz = sizeof b, .iommufd = 3};
    int rc = ims_iommufd_vfio_ioctl(ctx, sid, IMS_VFIO_DEVICE_BIND_IOMMUFD, &b, done);
    if (!rc && dev_id)
        *dev_id = b.out_devid;
    return rc;
}

int ims_iommufd_attach(ims_iommufd *ctx, uint16_t sid, uint32_t pasid, uint32_t *pt_id, ims_drv_done done)
{
    ims_vfio_device_attach_iommufd_pt a = {.argsz = sizeof a, .pt_id = pt_id ? *pt_id : 0, .pasid = pasid};
    if (pasid != IMS_DRV_NO_PASID)
        a.flags = IMS_VFIO_DEVICE_ATTACH_PASID;
    int rc = ims_iommufd_vfio_ioctl(ctx, sid, IMS_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a, done);
    if (!rc && pt_id)
        *pt_id = a.pt_id;
    return rc;
}

int ims_iommufd_detach(ims_iommufd *ctx, uint16_t sid, uint32_t pasid, ims_drv_done done)
{
    ims_vfio_device_detach_iommufd_pt d = {.argsz = sizeof d, .pasid = pasid};
    if (pasid != IMS_DRV_NO_PASID)
        d.flags = IMS_VFIO_DEVICE_DETACH_PASID;
    return ims_iommufd_vfio_ioctl(ctx, sid, IMS_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d, done);
}

uint32_t ims_iommufd_device_of_sid(const ims_iommufd *ctx, uint16_t sid)
{
    const ims_ifd_device *dev = dev_of_sid(ctx, sid);
    return dev ? dev->obj.id : 0;
}

uint32_t ims_iommufd_device_hwpt(const ims_iommufd *ctx, uint32_t dev_id, uint32_t pasid)
{
    const ims_ifd_device *dev = (const ims_ifd_device *)ims_ifd_obj_get(ctx, dev_id, IMS_IOMMUFD_OBJ_DEVICE);
    const ims_ifd_attach *a = dev ? att_find(dev, pasid) : NULL;
    return a ? a->hwpt->obj.id : 0;
}
