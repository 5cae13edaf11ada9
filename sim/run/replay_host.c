/* Host-level verbs: one iommufd.* record = one ioctl on the iommufd reference
 * implementation (models/iommufd/iommufd.h) over the VT-d host driver
 * (models/iommufd/vtd_driver.h) on the system's unit.
 *
 * The host stack starts at the first host-level record: the driver is created
 * on the unit (it programs the unit through MMIO: queue, root table, TE) and
 * every device behind the unit is probed; once the driver is up, every device
 * is bound (VFIO bind) and the host records that arrived meanwhile execute in
 * order. A record completes when its ioctl does (iommufd and driver costs,
 * queued invalidations included) and checks expect= (errno alternatives,
 * default ok) and expect_done= (entries handled by hwpt_invalidate).
 *
 * Object names (out=, ioas=, pt=, hwpt=, id=) map to object ids; a name never
 * allocated (or destroyed) stands for an id that does not exist, so the
 * kernel's ENOENT path can be tested. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "models/iommufd/iommufd.h"
#include "models/iommufd/uapi.h"
#include "models/iommufd/vtd_driver.h"
#include "models/mem/pa_alloc.h"
#include "sim/run/replay_internal.h"

#define NO_ID 0u /* never an object id */

typedef struct host_name {
    char name[IMS_TRACE_NAME_MAX + 1];
    uint32_t id;
} host_name;

struct rp_host {
    unsigned unit;
    ims_pa_alloc tables;
    ims_vtd_drv *drv;
    ims_iommufd *ifd;
    bool ready;
    unsigned ndevs;           /* the system's devices when the stack started: those are probed and bound */
    unsigned binds_left;
    uint32_t first_file;      /* the record that started the stack, for messages */
    uint64_t first_line;
    rp_op *queue, *queue_tail; /* records waiting for the stack */
    host_name *names;
    size_t nnames, cap;
};

static int exec(ims_replay *rp, rp_op *op, const ims_trace_rec *r);

/* ---- names -------------------------------------------------------------------------- */

static host_name *name_find(rp_host *h, const char *name)
{
    for (size_t i = 0; i < h->nnames; i++)
        if (!strcmp(h->names[i].name, name))
            return &h->names[i];
    return NULL;
}

static uint32_t id_of(rp_host *h, const ims_trace_rec *r, ims_trace_key k)
{
    const host_name *n = name_find(h, ims_trace_str(r, k));
    return n ? n->id : NO_ID;
}

static int name_bind(rp_host *h, const char *name, uint32_t id)
{
    if (h->nnames == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 16;
        host_name *n = realloc(h->names, cap * sizeof *n);
        if (!n)
            return -ENOMEM;
        h->names = n;
        h->cap = cap;
    }
    host_name *n = &h->names[h->nnames++];
    snprintf(n->name, sizeof n->name, "%s", name);
    n->id = id;
    return 0;
}

static void name_unbind(rp_host *h, const char *name)
{
    host_name *n = name_find(h, name);
    if (n)
        *n = h->names[--h->nnames];
}

/* ---- completion ------------------------------------------------------------------------ */

static const char *errno_text(int err, char *buf, size_t cap)
{
    const char *n = ims_trace_errno_name(err);
    if (n)
        return n;
    snprintf(buf, cap, "errno %d", err);
    return buf;
}

void rp_host_finish(ims_replay *rp, rp_op *op)
{
    int err = op->host.status < 0 ? -op->host.status : 0;
    bool ok = op->host.nexp == 0 ? err == 0 : false;
    for (unsigned i = 0; i < op->host.nexp; i++)
        ok |= (uint64_t)err == op->host.exp[i].value;
    const char *verb = ims_trace_verb_name(op->host.verb);
    if (!ok) {
        char want[160] = "ok", b1[24], b2[24];
        size_t n = 0;
        for (unsigned i = 0; i < op->host.nexp && n < sizeof want; i++)
            n += (size_t)snprintf(want + n, sizeof want - n, "%s%s", i ? "|" : "",
                                  errno_text((int)op->host.exp[i].value, b1, sizeof b1));
        rp_expect_failed(rp, op->file, op->line, "%s: returned %s, expected %s%s%s%s", verb,
                         errno_text(err, b2, sizeof b2), want, op->host.msg[0] ? " (" : "", op->host.msg,
                         op->host.msg[0] ? ")" : "");
    } else if (op->host.check_done && op->host.entry_num != op->host.expect_done) {
        rp_expect_failed(rp, op->file, op->line, "%s: handled %" PRIu32 " entries, expected %" PRIu32, verb,
                         op->host.entry_num, op->host.expect_done);
    }
    rp_op_done(rp, op);
}

static void ioctl_done(void *ctx, int status)
{
    rp_op *op = ctx;
    op->host.status = status;
    if (op->host.in_call) {
        op->host.early = true; /* finished by the caller once the call returns */
        return;
    }
    rp_host_finish(op->rp, op);
}

/* ---- the stack ---------------------------------------------------------------------- */

static void run_queue(ims_replay *rp)
{
    rp_host *h = rp->host;
    while (h->queue && !rp->failed) {
        rp_op *op = h->queue;
        h->queue = op->host.next_queued;
        if (!h->queue)
            h->queue_tail = NULL;
        exec(rp, op, op->host.rec);
    }
}

static void host_up(ims_replay *rp)
{
    rp->host->ready = true;
    run_queue(rp);
    rp_resume(rp);
}

bool rp_host_ready(const ims_replay *rp) { return rp->host && rp->host->ready; }
struct ims_iommufd *rp_host_ifd(ims_replay *rp) { return rp->host ? rp->host->ifd : NULL; }
unsigned rp_host_unit(const ims_replay *rp) { return rp->host ? rp->host->unit : 0; }

static void bind_done(void *ctx, int status)
{
    ims_replay *rp = ctx;
    rp_host *h = rp->host;
    if (status < 0) {
        rp_fail_at(rp, h->first_file, h->first_line, -status, "iommufd: binding a device failed (%s)",
                   ims_iommufd_last_error(h->ifd)->msg);
        return;
    }
    if (--h->binds_left == 0) {
        if (rp->nvms || rp->ndvm)
            rp_guest_start(rp, host_up); /* the guests come up before anything runs */
        else
            host_up(rp);
    }
}

static void drv_ready(void *ctx, int status)
{
    ims_replay *rp = ctx;
    rp_host *h = rp->host;
    if (status < 0) {
        rp_fail_at(rp, h->first_file, h->first_line, -status,
                   "iommufd: the VT-d host driver could not bring unit %u up (status %d)", h->unit, status);
        return;
    }
    h->binds_left = 1; /* held until every bind is issued */
    for (unsigned i = 0; i < h->ndevs && !rp->failed; i++) {
        const ims_system_dev *d = ims_system_device_at(rp->sys, i);
        if (d->unit != h->unit)
            continue;
        uint32_t dev_id;
        h->binds_left++;
        int rc = ims_iommufd_bind(h->ifd, d->sid, &dev_id, (ims_drv_done){bind_done, rp});
        if (rc < 0) {
            rp_fail_at(rp, h->first_file, h->first_line, -rc, "iommufd: cannot bind device sid=0x%04x: %s", d->sid,
                       ims_iommufd_last_error(h->ifd)->msg);
            return;
        }
    }
    bind_done(rp, 0);
}

int rp_host_ensure(ims_replay *rp, const ims_trace_rec *r)
{
    if (rp->host)
        return 0;
    unsigned n = 0, unit = 0;
    for (unsigned i = 0; i < IMS_SYSTEM_MAX_UNITS; i++)
        if (ims_system_unit(rp->sys, i)) {
            n++;
            unit = i;
        }
    if (n != 1)
        return rp_fail(rp, r, EOPNOTSUPP, "%s: host-level replay drives exactly one unit; this system has %u",
                       ims_trace_verb_name(r->verb), n);
    rp_host *h = calloc(1, sizeof *h);
    if (!h)
        return rp_fail(rp, r, ENOMEM, "iommufd: out of memory");
    rp->host = h;
    h->unit = unit;
    h->first_file = (uint32_t)rp->cur;
    h->first_line = r->line;
    const ims_config *cfg = ims_system_config(rp->sys);
    uint64_t base = ims_config_u64(cfg, "replay.host_tables_base");
    uint64_t size = ims_config_u64(cfg, "replay.host_tables_size");
    if (base + size < base)
        return rp_fail(rp, r, ERANGE, "replay.host_tables_base + replay.host_tables_size wraps past 2^64");
    ims_pa_alloc_init(&h->tables, ims_system_mem(rp->sys), base, base + size);
    ims_vtd_unit *u = ims_system_unit(rp->sys, unit);
    ims_vtd_drv_params dp = {
        .engine = rp->engine,
        .mem = ims_system_mem(rp->sys),
        .alloc = &h->tables,
        .unit = u,
        .cfg = cfg,
        .stats = ims_system_stats(rp->sys),
        .ready = {drv_ready, rp},
    };
    ims_error e = {0};
    if (ims_vtd_drv_create(&dp, &h->drv, &e))
        return rp_fail(rp, r, e.code ? -e.code : EINVAL, "%s: the VT-d host driver cannot drive unit %u: %s",
                       ims_trace_verb_name(r->verb), unit, e.msg);
    h->ndevs = ims_system_device_count(rp->sys);
    for (unsigned i = 0; i < h->ndevs; i++) {
        const ims_system_dev *d = ims_system_device_at(rp->sys, i);
        if (d->unit != unit)
            continue;
        ims_vtd_drv_dev_params p = {.sid = d->sid, .ats = d->ats, .ats_qdep = 32, .pasid_bits = d->pasid_bits,
                                    .pri = d->pri};
        if (ims_vtd_drv_add_device(h->drv, &p, &e))
            return rp_fail(rp, r, EINVAL, "%s: the host driver rejects device sid=0x%04x: %s",
                           ims_trace_verb_name(r->verb), d->sid, e.msg);
    }
    static const ims_iommufd_range msi = {IMS_IOMMUFD_X86_MSI_START, IMS_IOMMUFD_X86_MSI_LAST};
    ims_iommufd_params ip = {
        .drv = ims_vtd_drv_iface(h->drv),
        .engine = rp->engine,
        .cfg = cfg,
        .stats = ims_system_stats(rp->sys),
        .aperture_last = (UINT64_C(1) << 48) - 1, /* the driver's 4-level (48-bit) domains */
        .dev_resv = &msi,
        .n_dev_resv = 1,
    };
    if (ims_iommufd_create(&ip, &h->ifd, &e))
        return rp_fail(rp, r, EINVAL, "iommufd: %s", e.msg);
    return 0;
}

void rp_host_destroy(ims_replay *rp)
{
    rp_host *h = rp->host;
    if (!h)
        return;
    for (rp_op *op = h->queue; op; op = op->host.next_queued) {
        ims_trace_rec_free(op->host.rec);
        free(op->host.rec);
    }
    if (h->ifd)
        ims_iommufd_destroy(h->ifd);
    if (h->drv)
        ims_vtd_drv_destroy(h->drv);
    free(h->names);
    free(h);
    rp->host = NULL;
}

/* ---- one record --------------------------------------------------------------------------- */

/* The bound device a record names, or 0 after reporting an input error. */
static uint16_t dev_sid(ims_replay *rp, rp_op *op, const ims_trace_rec *r, bool *ok)
{
    const ims_system_dev *d = rp_dev_of(rp, r);
    *ok = false;
    const char *verb = ims_trace_verb_name(r->verb);
    if (!d && ims_trace_dev_is_name(r))
        rp_fail_at(rp, op->file, op->line, ENOENT, "%s: dev=%s is not declared", verb, ims_trace_str(r, IMS_K_DEV));
    else if (!d)
        rp_fail_at(rp, op->file, op->line, ENOENT, "%s: dev=0x%04" PRIx64 " is not declared", verb,
                   ims_trace_num(r, IMS_K_DEV));
    else if (rp_guest_vm_of_sid(rp, d->sid))
        rp_fail_at(rp, op->file, op->line, EBUSY,
                   "%s: device sid=0x%04x is assigned to vm %u: only guest-level records and dma may use it", verb,
                   d->sid, rp_guest_vm_of_sid(rp, d->sid)->id);
    else if (d->unit != rp->host->unit || !ims_iommufd_device_of_sid(rp->host->ifd, d->sid))
        rp_fail_at(rp, op->file, op->line, ENOENT,
                   "%s: device sid=0x%04x is not bound to iommufd (declare devices before the first host-level "
                   "record, behind the unit the host drives)", verb, d->sid);
    else
        *ok = true;
    return d ? d->sid : 0;
}

/* hwpt_alloc flags= to uAPI IOMMU_HWPT_ALLOC_* bits: the trace numbers its
 * words in order, and alloc_pasid (word 2) is uAPI bit 3 (record.h). */
static uint32_t hwpt_alloc_flags(uint64_t t)
{
    return ((t & IMS_TRACE_HWPT_NEST_PARENT) ? IMS_IOMMU_HWPT_ALLOC_NEST_PARENT : 0) |
           ((t & IMS_TRACE_HWPT_DIRTY_TRACKING) ? IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING : 0) |
           ((t & IMS_TRACE_HWPT_ALLOC_PASID) ? IMS_IOMMU_HWPT_ALLOC_PASID : 0);
}

static int call(ims_replay *rp, rp_op *op, const ims_trace_rec *r)
{
    rp_host *h = rp->host;
    ims_drv_done done = {ioctl_done, op};
    uint32_t pasid = ims_trace_has(r, IMS_K_PASID) ? (uint32_t)ims_trace_num(r, IMS_K_PASID) : IMS_DRV_NO_PASID;
    bool ok = true;
    switch (r->verb) {
    case IMS_V_IOAS_ALLOC: {
        uint32_t id = 0;
        int rc = ims_iommufd_ioas_alloc(h->ifd, &id, done);
        if (rc == 0 && name_bind(h, ims_trace_str(r, IMS_K_OUT), id))
            return rp_fail_at(rp, op->file, op->line, ENOMEM, "iommufd: out of memory");
        return rc;
    }
    case IMS_V_IOAS_MAP: {
        uint64_t len = ims_trace_num(r, IMS_K_LEN), iova = ims_trace_num(r, IMS_K_IOVA), hpa = 0;
        unsigned prot = (unsigned)ims_trace_num_or_default(r, IMS_K_PROT);
        uint32_t flags = IMS_IOMMU_IOAS_MAP_FIXED_IOVA;
        if (prot != IMS_TRACE_PROT_W)
            flags |= IMS_IOMMU_IOAS_MAP_READABLE;
        if (prot != IMS_TRACE_PROT_R)
            flags |= IMS_IOMMU_IOAS_MAP_WRITEABLE;
        if (ims_trace_has(r, IMS_K_HPA))
            hpa = ims_trace_num(r, IMS_K_HPA);
        else if (len && ims_iommufd_host_alloc(h->ifd, len, 0, &hpa))
            return rp_fail_at(rp, op->file, op->line, ENOMEM,
                              "iommufd.ioas_map: host memory for len=0x%" PRIx64 " is exhausted (host.mem_size)", len);
        return ims_iommufd_ioas_map(h->ifd, id_of(h, r, IMS_K_IOAS), hpa, len, flags, &iova, done);
    }
    case IMS_V_IOAS_UNMAP:
        return ims_iommufd_ioas_unmap(h->ifd, id_of(h, r, IMS_K_IOAS), ims_trace_num(r, IMS_K_IOVA),
                                      ims_trace_num(r, IMS_K_LEN), NULL, done);
    case IMS_V_HWPT_ALLOC: {
        uint16_t sid = dev_sid(rp, op, r, &ok);
        if (!ok)
            return 0;
        ims_iommu_hwpt_vtd_s1 s1 = {
            .flags = ims_trace_num_or_default(r, IMS_K_S1_FLAGS),
            .pgtbl_addr = ims_trace_num(r, IMS_K_S1_PGTBL),
            .addr_width = (uint32_t)ims_trace_num_or_default(r, IMS_K_S1_AW),
        };
        bool nested = ims_trace_has(r, IMS_K_S1_PGTBL);
        uint32_t id = 0;
        int rc = ims_iommufd_hwpt_alloc(h->ifd, ims_iommufd_device_of_sid(h->ifd, sid), id_of(h, r, IMS_K_PT),
                                        hwpt_alloc_flags(ims_trace_num_or_default(r, IMS_K_FLAGS)),
                                        nested ? IMS_IOMMU_HWPT_DATA_VTD_S1 : IMS_IOMMU_HWPT_DATA_NONE,
                                        nested ? &s1 : NULL, nested ? (uint32_t)sizeof s1 : 0, &id, done);
        if (rc == 0 && name_bind(h, ims_trace_str(r, IMS_K_OUT), id))
            return rp_fail_at(rp, op->file, op->line, ENOMEM, "iommufd: out of memory");
        return rc;
    }
    case IMS_V_ATTACH: {
        uint16_t sid = dev_sid(rp, op, r, &ok);
        uint32_t pt = id_of(h, r, IMS_K_PT);
        return ok ? ims_iommufd_attach(h->ifd, sid, pasid, &pt, done) : 0;
    }
    case IMS_V_DETACH: {
        uint16_t sid = dev_sid(rp, op, r, &ok);
        return ok ? ims_iommufd_detach(h->ifd, sid, pasid, done) : 0;
    }
    case IMS_V_HWPT_INVALIDATE: {
        size_t n = 0;
        const ims_trace_inv_entry *e = ims_trace_entries(r, &n);
        ims_iommu_hwpt_vtd_s1_invalidate *v = calloc(n ? n : 1, sizeof *v);
        if (!v)
            return rp_fail_at(rp, op->file, op->line, ENOMEM, "iommufd: out of memory");
        for (size_t i = 0; i < n; i++)
            v[i] = (ims_iommu_hwpt_vtd_s1_invalidate){
                .addr = e[i].addr, .npages = e[i].npages, .flags = e[i].leaf ? IMS_IOMMU_VTD_INV_FLAGS_LEAF : 0};
        op->host.entry_num = (uint32_t)n;
        int rc = ims_iommufd_hwpt_invalidate(h->ifd, id_of(h, r, IMS_K_HWPT), IMS_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, v,
                                             (uint32_t)sizeof *v, &op->host.entry_num, done);
        free(v);
        return rc;
    }
    case IMS_V_GET_HW_INFO: {
        uint16_t sid = dev_sid(rp, op, r, &ok);
        if (!ok)
            return 0;
        ims_iommu_hw_info_vtd vtd = {0};
        ims_iommu_hw_info info = {.size = sizeof info,
                                  .dev_id = ims_iommufd_device_of_sid(h->ifd, sid),
                                  .data_len = sizeof vtd,
                                  .data_uptr = (uint64_t)(uintptr_t)&vtd};
        return ims_iommufd_ioctl(h->ifd, IMS_IOMMU_GET_HW_INFO, &info, done);
    }
    case IMS_V_DESTROY: {
        int rc = ims_iommufd_obj_destroy(h->ifd, id_of(h, r, IMS_K_ID), done);
        if (rc == 0)
            name_unbind(h, ims_trace_str(r, IMS_K_ID));
        return rc;
    }
    default:
        return rp_fail_at(rp, op->file, op->line, EINVAL, "%s: not a host-level verb", ims_trace_verb_name(r->verb));
    }
}

static int exec(ims_replay *rp, rp_op *op, const ims_trace_rec *r)
{
    bool allocates = r->verb == IMS_V_IOAS_ALLOC || r->verb == IMS_V_HWPT_ALLOC;
    if (allocates && name_find(rp->host, ims_trace_str(r, IMS_K_OUT)))
        return rp_fail_at(rp, op->file, op->line, EEXIST, "%s: out=%s names a live object (destroy it first)",
                          ims_trace_verb_name(r->verb), ims_trace_str(r, IMS_K_OUT));
    op->host.in_call = true;
    int rc = ims_trace_schema(r->verb)->cls == IMS_VC_GUEST ? rp_exec_guest(rp, op, r) : call(rp, op, r);
    op->host.in_call = false;
    if (op->host.rec) { /* a queued record's copy is no longer needed */
        ims_trace_rec_free(op->host.rec);
        free(op->host.rec);
        op->host.rec = NULL;
    }
    if (rp->failed)
        return -EINVAL;
    if (rc < 0) {
        op->host.status = rc;
        snprintf(op->host.msg, sizeof op->host.msg, "%.159s", ims_iommufd_last_error(rp->host->ifd)->msg);
        rp_host_finish(rp, op);
    } else if (op->host.early) {
        rp_host_finish(rp, op);
    }
    return 0;
}

int rp_issue_host(ims_replay *rp, const ims_trace_rec *r, bool *async)
{
    if (rp_host_ensure(rp, r))
        return -EINVAL;
    rp_op *op = rp_op_get(rp, RP_HOST);
    op->line = r->line;
    op->host.verb = r->verb;
    size_t nexp = 0;
    const ims_trace_expect *exp = ims_trace_has(r, IMS_K_EXPECT) ? ims_trace_expects(r, &nexp) : NULL;
    for (size_t i = 0; i < nexp && i < IMS_TRACE_EXPECT_MAX; i++)
        op->host.exp[op->host.nexp++] = exp[i];
    if (r->verb == IMS_V_HWPT_INVALIDATE && ims_trace_has(r, IMS_K_EXPECT_DONE)) {
        op->host.check_done = true;
        op->host.expect_done = (uint32_t)ims_trace_num(r, IMS_K_EXPECT_DONE);
    }
    *async = true;
    rp_host *h = rp->host;
    if (h->ready)
        return exec(rp, op, r);
    /* The stack is still coming up: keep a copy and run it in order later. */
    op->host.rec = malloc(sizeof *op->host.rec);
    if (!op->host.rec)
        return rp_fail(rp, r, ENOMEM, "iommufd: out of memory");
    ims_trace_rec_init(op->host.rec);
    if (ims_trace_rec_copy(op->host.rec, r))
        return rp_fail(rp, r, ENOMEM, "iommufd: out of memory");
    if (h->queue_tail)
        h->queue_tail->host.next_queued = op;
    else
        h->queue = op;
    h->queue_tail = op;
    return 0;
}
