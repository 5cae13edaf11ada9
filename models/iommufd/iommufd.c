/* iommufd context: the object table, command completions, the ioctl
 * dispatcher with the kernel's argument-size rules, IOMMU_DESTROY, the fault
 * queue object and the vIOMMU family (which VT-d cannot create).
 * Semantics: iommufd-facts §1.1 (dispatch), §1.3 (per command). */
#include "models/iommufd/iommufd_internal.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- completions ------------------------------------------------------- */

struct ims_ifd_op {
    ims_iommufd *ctx;
    ims_drv_done user;
    int status;        /* first late error reported by a driver completion */
    unsigned pending;  /* driver completions outstanding + 1 for the submission */
    bool abandoned;    /* failed synchronously: the caller is never called */
    uint64_t sw_ps;    /* software cost charged after the driver work */
    ims_cycle start;
    ims_ifd_op *prev, *next;
};

static void op_unlink_free(ims_ifd_op *op)
{
    ims_iommufd *ctx = op->ctx;
    if (op->prev)
        op->prev->next = op->next;
    else
        ctx->ops = op->next;
    if (op->next)
        op->next->prev = op->prev;
    ctx->nops--;
    free(op);
}

static void op_fire(void *arg, uint64_t unused)
{
    (void)unused;
    ims_ifd_op *op = arg;
    ims_iommufd *ctx = op->ctx;
    ims_drv_done user = op->user;
    int status = op->status;
    if (ctx->st_latency && ctx->engine)
        ims_latency_record(ctx->st_latency, ims_engine_now(ctx->engine) - op->start);
    op_unlink_free(op); /* before the callback: it may issue the next command */
    if (user.fn)
        user.fn(user.ctx, status);
}

static void op_release(ims_ifd_op *op)
{
    assert(op->pending > 0);
    if (--op->pending)
        return;
    ims_ifd_ioas_reap(op->ctx, op); /* its flushes are done: what it unmapped frees its IOVA */
    if (op->abandoned) {
        op_unlink_free(op);
        return;
    }
    ims_iommufd *ctx = op->ctx;
    if (!ctx->engine) {
        op_fire(op, 0);
        return;
    }
    ims_cycle delay = ims_engine_ps_to_cycles(ctx->engine, op->sw_ps);
    if (!ims_engine_schedule(ctx->engine, delay, op_fire, op, 0))
        op_fire(op, 0); /* out of event memory: complete now rather than never */
}

static void op_drv_done(void *arg, int status)
{
    ims_ifd_op *op = arg;
    if (status && !op->status)
        op->status = status < 0 ? status : -status;
    op_release(op);
}

ims_drv_done ims_ifd_drv_hold(ims_ifd_call *c)
{
    c->op->pending++;
    return (ims_drv_done){.fn = op_drv_done, .ctx = c->op};
}

void ims_ifd_drv_failed(ims_ifd_call *c)
{
    op_release(c->op);
}

int ims_ifd_call_begin(ims_iommufd *ctx, ims_ifd_call *c, void *cmd, ims_drv_done done)
{
    ims_ifd_op *op = calloc(1, sizeof *op);
    if (!op)
        return ims_errorf(&ctx->err, ENOMEM, "iommufd: out of memory");
    op->ctx = ctx;
    op->user = done;
    op->pending = 1;
    op->start = ctx->engine ? ims_engine_now(ctx->engine) : 0;
    op->next = ctx->ops;
    if (ctx->ops)
        ctx->ops->prev = op;
    ctx->ops = op;
    ctx->nops++;
    *c = (ims_ifd_call){.ctx = ctx, .cmd = cmd, .op = op};
    ims_error_clear(&ctx->err);
    return 0;
}

int ims_ifd_call_end(ims_ifd_call *c, int rc)
{
    ims_iommufd *ctx = c->ctx;
    ims_ifd_op *op = c->op;
    if (ctx->st_ioctls)
        ims_counter_inc(ctx->st_ioctls);
    if (rc) {
        if (ctx->st_errors)
            ims_counter_inc(ctx->st_errors);
        if (!ctx->err.code)
            ims_errorf(&ctx->err, rc, "iommufd: command failed");
        op->abandoned = true;
    } else {
        ims_error_clear(&ctx->err); /* messages of tried-and-skipped paths */
        op->sw_ps = ctx->syscall_ps + ctx->ioctl_ps + c->pages * ctx->map_page_ps;
    }
    op_release(op);
    return rc;
}

int ims_ifd_fail(ims_iommufd *ctx, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = ims_verrorf(&ctx->err, code, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- driver calls ------------------------------------------------------- */

int ims_ifd_drv_map(ims_ifd_call *c, ims_drv_domain *d, uint64_t iova, uint64_t pa, uint64_t len, unsigned prot)
{
    const ims_drv *drv = &c->ctx->drv;
    int rc = drv->ops->map(drv->drv, d, iova, pa, len, prot, ims_ifd_drv_hold(c));
    if (rc)
        ims_ifd_drv_failed(c);
    return rc;
}

int ims_ifd_drv_unmap(ims_ifd_call *c, ims_drv_domain *d, uint64_t iova, uint64_t len)
{
    const ims_drv *drv = &c->ctx->drv;
    int rc = drv->ops->unmap(drv->drv, d, iova, len, ims_ifd_drv_hold(c));
    if (rc)
        ims_ifd_drv_failed(c);
    return rc;
}

int ims_ifd_drv_attach(ims_ifd_call *c, ims_drv_domain *d, uint16_t sid, uint32_t pasid)
{
    const ims_drv *drv = &c->ctx->drv;
    int rc = drv->ops->attach(drv->drv, d, sid, pasid, ims_ifd_drv_hold(c));
    if (rc)
        ims_ifd_drv_failed(c);
    return rc;
}

int ims_ifd_drv_detach(ims_ifd_call *c, uint16_t sid, uint32_t pasid)
{
    const ims_drv *drv = &c->ctx->drv;
    int rc = drv->ops->detach(drv->drv, sid, pasid, ims_ifd_drv_hold(c));
    if (rc)
        ims_ifd_drv_failed(c);
    return rc;
}

/* ---- object table ------------------------------------------------------- */

int ims_ifd_obj_add(ims_iommufd *ctx, ims_ifd_obj *obj, ims_iommufd_obj_type type)
{
    /* Lowest free id from 1, like xa_alloc on an XA_FLAGS_ALLOC1 xarray. */
    size_t id = 1;
    while (id < ctx->cobjs && ctx->objs[id])
        id++;
    if (id >= ctx->cobjs) {
        if (id > UINT32_MAX - 1)
            return -ENOSPC;
        size_t n = ctx->cobjs ? ctx->cobjs * 2 : 16;
        ims_ifd_obj **o = realloc(ctx->objs, n * sizeof *o);
        if (!o)
            return -ENOMEM;
        memset(o + ctx->cobjs, 0, (n - ctx->cobjs) * sizeof *o);
        ctx->objs = o;
        ctx->cobjs = n;
    }
    obj->type = type;
    obj->id = (uint32_t)id;
    ctx->objs[id] = obj;
    return 0;
}

void ims_ifd_obj_remove(ims_iommufd *ctx, ims_ifd_obj *obj)
{
    assert(obj->id < ctx->cobjs && ctx->objs[obj->id] == obj);
    ctx->objs[obj->id] = NULL;
}

ims_ifd_obj *ims_ifd_obj_get(const ims_iommufd *ctx, uint32_t id, ims_iommufd_obj_type type)
{
    if (id == 0 || id >= ctx->cobjs || !ctx->objs[id])
        return NULL;
    ims_ifd_obj *o = ctx->objs[id];
    if (type != IMS_IOMMUFD_OBJ_NONE && o->type != type)
        return NULL;
    return o;
}

/* ---- IOMMU_DESTROY ------------------------------------------------------ */

int ims_ifd_cmd_destroy(ims_ifd_call *c)
{
    ims_iommu_destroy *cmd = c->cmd;
    ims_iommufd *ctx = c->ctx;
    ims_ifd_obj *o = ims_ifd_obj_get(ctx, cmd->id, IMS_IOMMUFD_OBJ_NONE);
    if (!o)
        return ims_ifd_fail(ctx, ENOENT, "DESTROY: no object %u", cmd->id);
    /* A bound device holds its VFIO file's reference, so it is always busy. */
    if (o->users)
        return ims_ifd_fail(ctx, EBUSY, "DESTROY: object %u is in use (%u references)", cmd->id, o->users);
    ims_ifd_obj_remove(ctx, o);
    switch (o->type) {
    case IMS_IOMMUFD_OBJ_IOAS:
        if (ctx->vfio_ioas_id == o->id)
            ctx->vfio_ioas_id = 0;
        ims_ifd_ioas_free(ctx, (ims_ifd_ioas *)o);
        break;
    case IMS_IOMMUFD_OBJ_HWPT_PAGING:
    case IMS_IOMMUFD_OBJ_HWPT_NESTED:
        ims_ifd_hwpt_free(c, (ims_ifd_hwpt *)o);
        break;
    default:
        free(o);
        break;
    }
    return 0;
}

/* ---- IOMMU_FAULT_QUEUE_ALLOC ------------------------------------------- */

/* No fd semantics are modelled: the queue is an object HWPTs can name. */
#define IFD_FAULT_FD_BASE 100u

int ims_ifd_cmd_fault_alloc(ims_ifd_call *c)
{
    ims_iommu_fault_alloc *cmd = c->cmd;
    if (cmd->flags)
        return ims_ifd_fail(c->ctx, EOPNOTSUPP, "FAULT_QUEUE_ALLOC: flags 0x%x", cmd->flags);
    ims_ifd_obj *o = calloc(1, sizeof *o);
    if (!o)
        return -ENOMEM;
    int rc = ims_ifd_obj_add(c->ctx, o, IMS_IOMMUFD_OBJ_FAULT);
    if (rc) {
        free(o);
        return rc;
    }
    cmd->out_fault_id = o->id;
    cmd->out_fault_fd = IFD_FAULT_FD_BASE + o->id;
    c->respond = true;
    return 0;
}

/* ---- vIOMMU family: Intel VT-d has no vIOMMU ops in the kernel followed
 * (iommufd-facts §1.3 IOMMU_VIOMMU_ALLOC), so no vIOMMU object can exist and
 * everything that names one fails its lookup. */

int ims_ifd_cmd_viommu_alloc(ims_ifd_call *c)
{
    ims_iommu_viommu_alloc *cmd = c->cmd;
    if (cmd->flags || cmd->type == IMS_IOMMU_VIOMMU_TYPE_DEFAULT)
        return ims_ifd_fail(c->ctx, EOPNOTSUPP, "VIOMMU_ALLOC: flags 0x%x type %u", cmd->flags, cmd->type);
    if (!ims_ifd_obj_get(c->ctx, cmd->dev_id, IMS_IOMMUFD_OBJ_DEVICE))
        return ims_ifd_fail(c->ctx, ENOENT, "VIOMMU_ALLOC: no device %u", cmd->dev_id);
    return ims_ifd_fail(c->ctx, EOPNOTSUPP, "VIOMMU_ALLOC: the VT-d driver has no vIOMMU");
}

static int viommu_lookup(ims_ifd_call *c, uint32_t id, const char *what)
{
    if (!ims_ifd_obj_get(c->ctx, id, IMS_IOMMUFD_OBJ_VIOMMU))
        return ims_ifd_fail(c->ctx, ENOENT, "%s: no vIOMMU %u", what, id);
    return ims_ifd_fail(c->ctx, EOPNOTSUPP, "%s: not supported", what);
}

int ims_ifd_cmd_vdevice_alloc(ims_ifd_call *c)
{
    ims_iommu_vdevice_alloc *cmd = c->cmd;
    return viommu_lookup(c, cmd->viommu_id, "VDEVICE_ALLOC");
}

int ims_ifd_cmd_veventq_alloc(ims_ifd_call *c)
{
    ims_iommu_veventq_alloc *cmd = c->cmd;
    if (cmd->flags || cmd->reserved || cmd->type == 0)
        return ims_ifd_fail(c->ctx, EOPNOTSUPP, "VEVENTQ_ALLOC: flags/reserved/type");
    if (!cmd->veventq_depth)
        return ims_ifd_fail(c->ctx, EINVAL, "VEVENTQ_ALLOC: depth 0");
    return viommu_lookup(c, cmd->viommu_id, "VEVENTQ_ALLOC");
}

int ims_ifd_cmd_hw_queue_alloc(ims_ifd_call *c)
{
    ims_iommu_hw_queue_alloc *cmd = c->cmd;
    if (cmd->flags || cmd->type == 0)
        return ims_ifd_fail(c->ctx, EOPNOTSUPP, "HW_QUEUE_ALLOC: flags/type");
    if (!cmd->length)
        return ims_ifd_fail(c->ctx, EINVAL, "HW_QUEUE_ALLOC: length 0");
    if (cmd->nesting_parent_iova + cmd->length - 1 < cmd->nesting_parent_iova)
        return ims_ifd_fail(c->ctx, EOVERFLOW, "HW_QUEUE_ALLOC: range overflows");
    return viommu_lookup(c, cmd->viommu_id, "HW_QUEUE_ALLOC");
}

#define MAP_FLAGS (IMS_IOMMU_IOAS_MAP_FIXED_IOVA | IMS_IOMMU_IOAS_MAP_WRITEABLE | IMS_IOMMU_IOAS_MAP_READABLE)
#define MAP_RW (IMS_IOMMU_IOAS_MAP_WRITEABLE | IMS_IOMMU_IOAS_MAP_READABLE)

/* ---- commands around the IOAS: OPTION, VFIO_IOAS, IOAS_CHANGE_PROCESS,
 * IOAS_MAP_FILE, IOAS_ALLOW_IOVAS ----------------------------------------- */

int ims_ifd_cmd_ioas_map_file(ims_ifd_call *c)
{
    ims_iommu_ioas_map_file *cmd = c->cmd;
    ims_iommufd *ctx = c->ctx;
    if (cmd->flags & ~MAP_FLAGS)
        return ims_ifd_fail(ctx, EOPNOTSUPP, "IOAS_MAP_FILE: flags 0x%x", cmd->flags);
    if (cmd->iova >= UINT64_MAX || cmd->length >= UINT64_MAX)
        return ims_ifd_fail(ctx, EOVERFLOW, "IOAS_MAP_FILE: iova or length too large");
    if (!(cmd->flags & MAP_RW))
        return ims_ifd_fail(ctx, EINVAL, "IOAS_MAP_FILE: neither readable nor writeable");
    if (!ims_ifd_obj_get(c->ctx, cmd->ioas_id, IMS_IOMMUFD_OBJ_IOAS))
        return ims_ifd_fail(ctx, ENOENT, "IOAS_MAP_FILE: no IOAS %u", cmd->ioas_id);
    uint64_t last;
    if (!cmd->length)
        return ims_ifd_fail(ctx, EINVAL, "IOAS_MAP_FILE: length 0");
    if (__builtin_add_overflow(cmd->start, cmd->length - 1, &last))
        return ims_ifd_fail(ctx, EOVERFLOW, "IOAS_MAP_FILE: range overflows");
    return ims_ifd_fail(ctx, EBADF, "IOAS_MAP_FILE: fd %d: the simulated host has no files", cmd->fd);
}

int ims_ifd_cmd_ioas_change_process(ims_ifd_call *c)
{
    ims_iommu_ioas_change_process *cmd = c->cmd;
    if (cmd->reserved)
        return ims_ifd_fail(c->ctx, EOPNOTSUPP, "IOAS_CHANGE_PROCESS: reserved 0x%x", cmd->reserved);
    /* Only file-backed mappings can move; ours are all user-VA backed. */
    for (size_t id = 1; id < c->ctx->cobjs; id++) {
        ims_ifd_obj *o = c->ctx->objs[id];
        if (o && o->type == IMS_IOMMUFD_OBJ_IOAS && ((ims_ifd_ioas *)o)->nareas)
            return ims_ifd_fail(c->ctx, EINVAL, "IOAS_CHANGE_PROCESS: IOAS %u has user-VA mappings", o->id);
    }
    return 0;
}

static int option_rlimit(ims_ifd_call *c, ims_iommu_option *cmd)
{
    ims_iommufd *ctx = c->ctx;
    if (cmd->object_id)
        return ims_ifd_fail(ctx, EOPNOTSUPP, "OPTION RLIMIT_MODE: object %u", cmd->object_id);
    if (cmd->op == IMS_IOMMU_OPTION_OP_GET) {
        cmd->val64 = ctx->account_mm;
        return 0;
    }
    if (cmd->op != IMS_IOMMU_OPTION_OP_SET)
        return ims_ifd_fail(ctx, EOPNOTSUPP, "OPTION: op %u", cmd->op);
    for (size_t id = 1; id < ctx->cobjs; id++)
        if (ctx->objs[id])
            return ims_ifd_fail(ctx, EBUSY, "OPTION RLIMIT_MODE: objects exist");
    if (cmd->val64 > 1)
        return ims_ifd_fail(ctx, EINVAL, "OPTION RLIMIT_MODE: value %llu", (unsigned long long)cmd->val64);
    ctx->account_mm = cmd->val64 == 1; /* the simulated VMM is privileged */
    return 0;
}

int ims_ifd_cmd_option(ims_ifd_call *c)
{
    ims_iommu_option *cmd = c->cmd;
    if (cmd->reserved)
        return ims_ifd_fail(c->ctx, EOPNOTSUPP, "OPTION: reserved 0x%x", cmd->reserved);
    int rc;
    if (cmd->option_id == IMS_IOMMU_OPTION_RLIMIT_MODE)
        rc = option_rlimit(c, cmd);
    else if (cmd->option_id == IMS_IOMMU_OPTION_HUGE_PAGES)
        rc = ims_ifd_ioas_option_huge_pages(c, cmd);
    else
        return ims_ifd_fail(c->ctx, EOPNOTSUPP, "OPTION: unknown option %u", cmd->option_id);
    c->respond = !rc; /* val64 goes back on success, GET or SET */
    return rc;
}

int ims_ifd_cmd_vfio_ioas(ims_ifd_call *c)
{
    ims_iommu_vfio_ioas *cmd = c->cmd;
    ims_iommufd *ctx = c->ctx;
    if (cmd->reserved)
        return ims_ifd_fail(ctx, EOPNOTSUPP, "VFIO_IOAS: reserved 0x%x", cmd->reserved);
    switch (cmd->op) {
    case IMS_IOMMU_VFIO_IOAS_GET:
        if (!ims_ifd_obj_get(ctx, ctx->vfio_ioas_id, IMS_IOMMUFD_OBJ_IOAS))
            return ims_ifd_fail(ctx, ENOENT, "VFIO_IOAS: no compatibility IOAS");
        cmd->ioas_id = ctx->vfio_ioas_id;
        c->respond = true;
        return 0;
    case IMS_IOMMU_VFIO_IOAS_SET:
        if (!ims_ifd_obj_get(ctx, cmd->ioas_id, IMS_IOMMUFD_OBJ_IOAS))
            return ims_ifd_fail(ctx, ENOENT, "VFIO_IOAS: no IOAS %u", cmd->ioas_id);
        ctx->vfio_ioas_id = cmd->ioas_id;
        return 0;
    case IMS_IOMMU_VFIO_IOAS_CLEAR:
        ctx->vfio_ioas_id = 0;
        return 0;
    default:
        return ims_ifd_fail(ctx, EOPNOTSUPP, "VFIO_IOAS: op %u", cmd->op);
    }
}

int ims_ifd_cmd_ioas_allow_iovas(ims_ifd_call *c)
{
    ims_iommu_ioas_allow_iovas *cmd = c->cmd;
    if (cmd->reserved)
        return ims_ifd_fail(c->ctx, EOPNOTSUPP, "IOAS_ALLOW_IOVAS: reserved 0x%x", cmd->reserved);
    ims_ifd_ioas *ioas = (ims_ifd_ioas *)ims_ifd_obj_get(c->ctx, cmd->ioas_id, IMS_IOMMUFD_OBJ_IOAS);
    if (!ioas)
        return ims_ifd_fail(c->ctx, ENOENT, "IOAS_ALLOW_IOVAS: no IOAS %u", cmd->ioas_id);
    const ims_iommu_iova_range *in = (const ims_iommu_iova_range *)(uintptr_t)cmd->allowed_iovas;
    if (cmd->num_iovas && !in)
        return ims_ifd_fail(c->ctx, EFAULT, "IOAS_ALLOW_IOVAS: NULL allowed_iovas");
    ims_iommufd_range *nw = NULL;
    if (cmd->num_iovas && !(nw = calloc(cmd->num_iovas, sizeof *nw)))
        return -ENOMEM;
    size_t n = 0;
    int rc = 0;
    for (uint32_t i = 0; i < cmd->num_iovas && !rc; i++) {
        if (in[i].start >= in[i].last) {
            rc = ims_ifd_fail(c->ctx, EINVAL, "IOAS_ALLOW_IOVAS: range %u is empty or reversed", i);
            break;
        }
        size_t k = n;
        for (size_t j = 0; j < n; j++)
            if (nw[j].start <= in[i].last && nw[j].last >= in[i].start)
                rc = ims_ifd_fail(c->ctx, EINVAL, "IOAS_ALLOW_IOVAS: range %u overlaps another", i);
        while (!rc && k > 0 && nw[k - 1].start > in[i].start) {
            nw[k] = nw[k - 1];
            k--;
        }
        if (!rc) {
            nw[k] = (ims_iommufd_range){.start = in[i].start, .last = in[i].last};
            n++;
        }
    }
    for (size_t j = 0; !rc && j < n; j++)
        if (ims_ifd_ioas_reserved_hit(ioas, nw[j].start, nw[j].last))
            rc = ims_ifd_fail(c->ctx, EADDRINUSE, "IOAS_ALLOW_IOVAS: range overlaps a reserved range");
    if (rc) {
        free(nw);
        return rc;
    }
    free(ioas->allowed);
    ioas->allowed = nw;
    ioas->nallowed = n;
    return 0;
}

/* ---- dispatch ----------------------------------------------------------- */

typedef struct ifd_cmd_desc {
    uint32_t size, min;
    int (*fn)(ims_ifd_call *c);
} ifd_cmd_desc;

#define IFD_CMD(nr, type, min, fn) [(nr) - IMS_IOMMUFD_CMD_BASE] = {sizeof(type), (min), (fn)}

static const ifd_cmd_desc ifd_cmds[] = {
    IFD_CMD(0x80, ims_iommu_destroy, IMS_IOMMU_DESTROY_MIN, ims_ifd_cmd_destroy),
    IFD_CMD(0x81, ims_iommu_ioas_alloc, IMS_IOMMU_IOAS_ALLOC_MIN, ims_ifd_cmd_ioas_alloc),
    IFD_CMD(0x82, ims_iommu_ioas_allow_iovas, IMS_IOMMU_IOAS_ALLOW_IOVAS_MIN, ims_ifd_cmd_ioas_allow_iovas),
    IFD_CMD(0x83, ims_iommu_ioas_copy, IMS_IOMMU_IOAS_COPY_MIN, ims_ifd_cmd_ioas_copy),
    IFD_CMD(0x84, ims_iommu_ioas_iova_ranges, IMS_IOMMU_IOAS_IOVA_RANGES_MIN, ims_ifd_cmd_ioas_iova_ranges),
    IFD_CMD(0x85, ims_iommu_ioas_map, IMS_IOMMU_IOAS_MAP_MIN, ims_ifd_cmd_ioas_map),
    IFD_CMD(0x86, ims_iommu_ioas_unmap, IMS_IOMMU_IOAS_UNMAP_MIN, ims_ifd_cmd_ioas_unmap),
    IFD_CMD(0x87, ims_iommu_option, IMS_IOMMU_OPTION_MIN, ims_ifd_cmd_option),
    IFD_CMD(0x88, ims_iommu_vfio_ioas, IMS_IOMMU_VFIO_IOAS_MIN, ims_ifd_cmd_vfio_ioas),
    IFD_CMD(0x89, ims_iommu_hwpt_alloc, IMS_IOMMU_HWPT_ALLOC_MIN, ims_ifd_cmd_hwpt_alloc),
    IFD_CMD(0x8A, ims_iommu_hw_info, IMS_IOMMU_GET_HW_INFO_MIN, ims_ifd_cmd_get_hw_info),
    IFD_CMD(0x8B, ims_iommu_hwpt_set_dirty_tracking, IMS_IOMMU_HWPT_SET_DIRTY_TRACKING_MIN,
            ims_ifd_cmd_set_dirty_tracking),
    IFD_CMD(0x8C, ims_iommu_hwpt_get_dirty_bitmap, IMS_IOMMU_HWPT_GET_DIRTY_BITMAP_MIN,
            ims_ifd_cmd_get_dirty_bitmap),
    IFD_CMD(0x8D, ims_iommu_hwpt_invalidate, IMS_IOMMU_HWPT_INVALIDATE_MIN, ims_ifd_cmd_hwpt_invalidate),
    IFD_CMD(0x8E, ims_iommu_fault_alloc, IMS_IOMMU_FAULT_QUEUE_ALLOC_MIN, ims_ifd_cmd_fault_alloc),
    IFD_CMD(0x8F, ims_iommu_ioas_map_file, IMS_IOMMU_IOAS_MAP_FILE_MIN, ims_ifd_cmd_ioas_map_file),
    IFD_CMD(0x90, ims_iommu_viommu_alloc, IMS_IOMMU_VIOMMU_ALLOC_MIN, ims_ifd_cmd_viommu_alloc),
    IFD_CMD(0x91, ims_iommu_vdevice_alloc, IMS_IOMMU_VDEVICE_ALLOC_MIN, ims_ifd_cmd_vdevice_alloc),
    IFD_CMD(0x92, ims_iommu_ioas_change_process, IMS_IOMMU_IOAS_CHANGE_PROCESS_MIN,
            ims_ifd_cmd_ioas_change_process),
    IFD_CMD(0x93, ims_iommu_veventq_alloc, IMS_IOMMU_VEVENTQ_ALLOC_MIN, ims_ifd_cmd_veventq_alloc),
    IFD_CMD(0x94, ims_iommu_hw_queue_alloc, IMS_IOMMU_HW_QUEUE_ALLOC_MIN, ims_ifd_cmd_hw_queue_alloc),
};

/* Every command struct: handlers read their own member (no aliasing games). */
typedef union ifd_cmd_buf {
    ims_iommu_destroy destroy;
    ims_iommu_ioas_alloc ioas_alloc;
    ims_iommu_ioas_allow_iovas allow_iovas;
    ims_iommu_ioas_copy copy;
    ims_iommu_ioas_iova_ranges iova_ranges;
    ims_iommu_ioas_map map;
    ims_iommu_ioas_unmap unmap;
    ims_iommu_option option;
    ims_iommu_vfio_ioas vfio_ioas;
    ims_iommu_hwpt_alloc hwpt_alloc;
    ims_iommu_hw_info hw_info;
    ims_iommu_hwpt_set_dirty_tracking set_dirty;
    ims_iommu_hwpt_get_dirty_bitmap get_dirty;
    ims_iommu_hwpt_invalidate invalidate;
    ims_iommu_fault_alloc fault_alloc;
    ims_iommu_ioas_map_file map_file;
    ims_iommu_viommu_alloc viommu_alloc;
    ims_iommu_vdevice_alloc vdevice_alloc;
    ims_iommu_ioas_change_process change_process;
    ims_iommu_veventq_alloc veventq_alloc;
    ims_iommu_hw_queue_alloc hw_queue_alloc;
} ifd_cmd_buf;

int ims_iommufd_ioctl(ims_iommufd *ctx, unsigned long cmd, void *arg, ims_drv_done done)
{
    uint32_t nr = (uint32_t)(cmd & 0xFFu);
    /* A number outside the table, or with other type/direction/size bits
     * (the kernel's ENOIOCTLCMD), is not an iommufd command. */
    if ((cmd & ~0xFFul) != ((unsigned long)IMS_IOMMUFD_TYPE << 8) || nr < IMS_IOMMUFD_CMD_BASE ||
        nr > IMS_IOMMUFD_CMD_LAST)
        return ims_ifd_fail(ctx, ENOTTY, "iommufd: unknown ioctl 0x%lx", cmd);
    const ifd_cmd_desc *d = &ifd_cmds[nr - IMS_IOMMUFD_CMD_BASE];
    assert(d->fn && d->size <= sizeof(ifd_cmd_buf));
    if (!arg)
        return ims_ifd_fail(ctx, EFAULT, "iommufd: ioctl 0x%lx: NULL argument", cmd);
    uint32_t usize;
    memcpy(&usize, arg, sizeof usize);
    if (usize < d->min)
        return ims_ifd_fail(ctx, EINVAL, "iommufd: ioctl 0x%lx: size %u below minimum %u", cmd, usize, d->min);
    uint32_t nz = ims_ifd_first_nonzero(arg, d->size, usize);
    if (nz < usize)
        return ims_ifd_fail(ctx, E2BIG, "iommufd: ioctl 0x%lx: non-zero byte %u past our %u-byte struct", cmd,
                            nz, d->size);
    ifd_cmd_buf buf;
    memset(&buf, 0, sizeof buf);
    uint32_t n = usize < d->size ? usize : d->size;
    memcpy(&buf, arg, n);

    ims_ifd_call c;
    int rc = ims_ifd_call_begin(ctx, &c, &buf, done);
    if (rc)
        return rc;
    rc = d->fn(&c);
    if (c.respond)
        memcpy(arg, &buf, n);
    return ims_ifd_call_end(&c, rc);
}

/* ---- context ------------------------------------------------------------ */

int ims_iommufd_create(const ims_iommufd_params *p, ims_iommufd **out, ims_error *err)
{
    *out = NULL;
    if (!p || !p->drv.ops)
        return ims_errorf(err, EINVAL, "iommufd: no driver");
    const ims_drv_ops *o = p->drv.ops;
    if (!o->hw_info || !o->domain_alloc_paging || !o->domain_alloc_nested || !o->domain_free || !o->map ||
        !o->unmap || !o->attach || !o->detach || !o->cache_invalidate_user || !o->set_dirty_tracking ||
        !o->read_and_clear_dirty || !o->dev_has_dirty || !o->dev_has_pasid)
        return ims_errorf(err, EINVAL, "iommufd: driver ops incomplete");
    ims_iommufd *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return ims_errorf(err, ENOMEM, "iommufd: out of memory");
    ctx->drv = p->drv;
    ctx->engine = p->engine;
    ctx->stats = p->stats;
    ctx->aperture_last = p->aperture_last;
    if (p->n_dev_resv) {
        ctx->dev_resv = malloc(p->n_dev_resv * sizeof *ctx->dev_resv);
        if (!ctx->dev_resv) {
            free(ctx);
            return ims_errorf(err, ENOMEM, "iommufd: out of memory");
        }
        memcpy(ctx->dev_resv, p->dev_resv, p->n_dev_resv * sizeof *ctx->dev_resv);
        ctx->n_dev_resv = p->n_dev_resv;
    }
    int rc = ims_ifd_read_config(ctx, p->cfg, err);
    if (rc) {
        free(ctx->dev_resv);
        free(ctx);
        return rc;
    }
    if (ctx->stats) {
        ctx->st_ioctls = ims_stats_counter(ctx->stats, "iommufd.ioctls", "iommufd and VFIO cdev commands issued");
        ctx->st_errors = ims_stats_counter(ctx->stats, "iommufd.ioctl_errors", "commands that failed");
        ctx->st_latency = ims_stats_latency(ctx->stats, "iommufd.latency_ns",
                                            "command call to completion, software and driver time");
    }
    *out = ctx;
    return 0;
}

void ims_iommufd_destroy(ims_iommufd *ctx)
{
    if (!ctx)
        return;
    while (ctx->ops)
        op_unlink_free(ctx->ops);
    /* Objects are torn down without driver calls: the driver may be gone. */
    for (size_t id = 1; id < ctx->cobjs; id++) {
        ims_ifd_obj *o = ctx->objs[id];
        if (!o)
            continue;
        if (o->type == IMS_IOMMUFD_OBJ_IOAS)
            ims_ifd_ioas_free(ctx, (ims_ifd_ioas *)o);
        else if (o->type == IMS_IOMMUFD_OBJ_DEVICE) {
            free(((ims_ifd_device *)o)->att);
            free(o);
        } else
            free(o);
    }
    free(ctx->objs);
    free(ctx->dev_resv);
    free(ctx);
}

const ims_error *ims_iommufd_last_error(const ims_iommufd *ctx)
{
    return &ctx->err;
}

size_t ims_iommufd_pending(const ims_iommufd *ctx)
{
    return ctx->nops;
}

int ims_iommufd_host_alloc(ims_iommufd *ctx, uint64_t length, uint64_t align, uint64_t *hpa)
{
    if (align == 0)
        align = 4096;
    if (length == 0 || (align & (align - 1)))
        return ims_ifd_fail(ctx, EINVAL, "host_alloc: length %llu align %llu", (unsigned long long)length,
                            (unsigned long long)align);
    uint64_t at = (ctx->host_next + align - 1) & ~(align - 1);
    if (at < ctx->host_next || at > ctx->host_end || ctx->host_end - at < length)
        return ims_ifd_fail(ctx, ENOMEM, "host_alloc: %llu bytes do not fit in host.mem_base/host.mem_size",
                            (unsigned long long)length);
    ctx->host_next = at + length;
    *hpa = at;
    return 0;
}

/* ---- inspection --------------------------------------------------------- */

ims_iommufd_obj_type ims_iommufd_obj_kind(const ims_iommufd *ctx, uint32_t id)
{
    ims_ifd_obj *o = ims_ifd_obj_get(ctx, id, IMS_IOMMUFD_OBJ_NONE);
    return o ? o->type : IMS_IOMMUFD_OBJ_NONE;
}

uint32_t ims_iommufd_obj_users(const ims_iommufd *ctx, uint32_t id)
{
    ims_ifd_obj *o = ims_ifd_obj_get(ctx, id, IMS_IOMMUFD_OBJ_NONE);
    return o ? o->users : 0;
}

ims_drv_domain *ims_iommufd_hwpt_domain(const ims_iommufd *ctx, uint32_t hwpt_id)
{
    ims_ifd_obj *o = ims_ifd_obj_get(ctx, hwpt_id, IMS_IOMMUFD_OBJ_NONE);
    if (!o || (o->type != IMS_IOMMUFD_OBJ_HWPT_PAGING && o->type != IMS_IOMMUFD_OBJ_HWPT_NESTED))
        return NULL;
    return ((ims_ifd_hwpt *)o)->domain;
}

/* ---- user-data copy rules for drivers ----------------------------------- */

int ims_iommufd_copy_struct_from_user(void *dst, size_t dst_size, size_t min_len, uint32_t want_type,
                                      uint32_t type, const void *uptr, uint32_t len)
{
    if (type != want_type)
        return -EINVAL;
    if (len < min_len || len > dst_size)
        return -EINVAL;
    if (!uptr)
        return -EFAULT;
    memset(dst, 0, dst_size);
    memcpy(dst, uptr, len);
    return 0;
}

int ims_iommufd_copy_struct_from_user_array(void *dst, size_t dst_size, size_t min_len, uint32_t want_type,
                                            uint32_t type, const void *uptr, uint32_t entry_len, uint32_t num,
                                            uint32_t index)
{
    if (type != want_type || num == 0 || index >= num)
        return -EINVAL;
    if (entry_len < min_len || entry_len > dst_size)
        return -EINVAL;
    if (!uptr)
        return -EFAULT;
    memset(dst, 0, dst_size);
    memcpy(dst, (const unsigned char *)uptr + (size_t)entry_len * index, entry_len);
    return 0;
}

/* ---- typed wrappers ----------------------------------------------------- */

int ims_iommufd_ioas_alloc(ims_iommufd *ctx, uint32_t *ioas_id, ims_drv_done done)
{
    ims_iommu_ioas_alloc a = {.size = sizeof a};
    int rc = ims_iommufd_ioctl(ctx, IMS_IOMMU_IOAS_ALLOC, &a, done);
    if (!rc && ioas_id)
        *ioas_id = a.out_ioas_id;
    return rc;
}

int ims_iommufd_ioas_map(ims_iommufd *ctx, uint32_t ioas_id, uint64_t hpa, uint64_t length, uint32_t flags,
                         uint64_t *iova, ims_drv_done done)
{
    ims_iommu_ioas_map m = {.size = sizeof m, .flags = flags, .ioas_id = ioas_id, .user_va = hpa, .length = length};
    if ((flags & IMS_IOMMU_IOAS_MAP_FIXED_IOVA) && iova)
        m.iova = *iova;
    int rc = ims_iommufd_ioctl(ctx, IMS_IOMMU_IOAS_MAP, &m, done);
    if (!rc && iova)
        *iova = m.iova;
    return rc;
}

int ims_iommufd_ioas_unmap(ims_iommufd *ctx, uint32_t ioas_id, uint64_t iova, uint64_t length,
                           uint64_t *unmapped, ims_drv_done done)
{
    ims_iommu_ioas_unmap u = {.size = sizeof u, .ioas_id = ioas_id, .iova = iova, .length = length};
    int rc = ims_iommufd_ioctl(ctx, IMS_IOMMU_IOAS_UNMAP, &u, done);
    if (!rc && unmapped)
        *unmapped = u.length;
    return rc;
}

int ims_iommufd_obj_destroy(ims_iommufd *ctx, uint32_t id, ims_drv_done done)
{
    ims_iommu_destroy d = {.size = sizeof d, .id = id};
    return ims_iommufd_ioctl(ctx, IMS_IOMMU_DESTROY, &d, done);
}

int ims_iommufd_hwpt_alloc(ims_iommufd *ctx, uint32_t dev_id, uint32_t pt_id, uint32_t flags, uint32_t data_type,
                           const void *data, uint32_t data_len, uint32_t *hwpt_id, ims_drv_done done)
{
    ims_iommu_hwpt_alloc a = {.size = sizeof a,
                              .flags = flags,
                              .dev_id = dev_id,
                              .pt_id = pt_id,
                              .data_type = data_type,
                              .data_len = data_len,
                              .data_uptr = (uint64_t)(uintptr_t)data};
    int rc = ims_iommufd_ioctl(ctx, IMS_IOMMU_HWPT_ALLOC, &a, done);
    if (!rc && hwpt_id)
        *hwpt_id = a.out_hwpt_id;
    return rc;
}

int ims_iommufd_hwpt_invalidate(ims_iommufd *ctx, uint32_t hwpt_id, uint32_t data_type, const void *entries,
                                uint32_t entry_len, uint32_t *entry_num, ims_drv_done done)
{
    ims_iommu_hwpt_invalidate inv = {.size = sizeof inv,
                                     .hwpt_id = hwpt_id,
                                     .data_uptr = (uint64_t)(uintptr_t)entries,
                                     .data_type = data_type,
                                     .entry_len = entry_len,
                                     .entry_num = entry_num ? *entry_num : 0};
    int rc = ims_iommufd_ioctl(ctx, IMS_IOMMU_HWPT_INVALIDATE, &inv, done);
    /* As the selftest helper: the count comes back whatever the result. */
    if (entry_num)
        *entry_num = inv.entry_num;
    return rc;
}
