/* Guest-level replay: `vm` records, devices assigned with vm=, and the
 * guest.* verbs, on the guest OS model (models/guest) over the VMM model
 * (models/vmm) over the host iommufd stack of replay_host.c.
 *
 * The guests come up with the host stack: after every device is bound, each
 * VMM maps its guest's RAM and attaches its devices, then each guest boots
 * (root table, queue, context entries). Until then no timed record issues
 * (replay.c), so a trace's first DMA already sees its guest's IOMMU set up.
 * A guest-level record completes when the guest operation does (for unmap
 * under the strict policy: after its invalidation). Bad arguments are input
 * errors (FILE:LINE, exit 2); an operation that fails later (a vIOMMU that
 * rejected a raw descriptor, a host call refused) is a failed expectation. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "models/guest/guest.h"
#include "models/vmm/vmm.h"
#include "models/vtd/unit.h"
#include "sim/run/replay_internal.h"

static rp_vm *vm_find(ims_replay *rp, unsigned id)
{
    for (size_t i = 0; i < rp->nvms; i++)
        if (rp->vms[i].id == id)
            return &rp->vms[i];
    return NULL;
}

int rp_guest_declare_vm(ims_replay *rp, const ims_trace_rec *r)
{
    unsigned id = (unsigned)ims_trace_num(r, IMS_K_ID);
    if (rp->host)
        return rp_fail(rp, r, EINVAL, "vm: guests must be declared before the first timed record");
    if (id >= IMS_CHECKER_MAX_VMS)
        return rp_fail(rp, r, ERANGE, "vm: id=%u is out of range (0..%d)", id, IMS_CHECKER_MAX_VMS - 1);
    if (vm_find(rp, id))
        return rp_fail(rp, r, EEXIST, "vm: id=%u is declared twice", id);
    uint64_t mem = ims_trace_num(r, IMS_K_MEM);
    if (mem == 0 || mem % 4096)
        return rp_fail(rp, r, EINVAL, "vm: mem=0x%" PRIx64 " must be a positive multiple of 4 KiB", mem);
    if (rp->nvms == rp->vms_cap) {
        size_t cap = rp->vms_cap ? 2 * rp->vms_cap : 4;
        rp_vm *n = realloc(rp->vms, cap * sizeof *n);
        if (!n)
            return rp_fail(rp, r, ENOMEM, "vm: out of memory");
        rp->vms = n;
        rp->vms_cap = cap;
    }
    const ims_config *cfg = ims_system_config(rp->sys);
    bool shadow = ims_trace_has(r, IMS_K_MODE) ? ims_trace_num(r, IMS_K_MODE) == IMS_TRACE_MODE_SHADOW
                                               : ims_config_enum(cfg, "vmm.mode") == 1;
    rp->vms[rp->nvms++] = (rp_vm){
        .id = id, .mem = mem, .shadow = shadow, .file = (uint32_t)rp->cur, .line = r->line};
    return 0;
}

int rp_guest_assign(ims_replay *rp, const ims_trace_rec *r, uint16_t sid)
{
    if (rp->ndvm == rp->dvm_cap) {
        size_t cap = rp->dvm_cap ? 2 * rp->dvm_cap : 8;
        rp_dev_vm *n = realloc(rp->dvm, cap * sizeof *n);
        if (!n)
            return rp_fail(rp, r, ENOMEM, "device: out of memory");
        rp->dvm = n;
        rp->dvm_cap = cap;
    }
    rp->dvm[rp->ndvm++] = (rp_dev_vm){.sid = sid, .vm = (unsigned)ims_trace_num(r, IMS_K_VM)};
    return 0;
}

const rp_vm *rp_guest_vm_of_sid(const ims_replay *rp, uint16_t sid)
{
    for (size_t i = 0; i < rp->ndvm; i++)
        if (rp->dvm[i].sid == sid)
            for (size_t j = 0; j < rp->nvms; j++)
                if (rp->vms[j].id == rp->dvm[i].vm)
                    return &rp->vms[j];
    return NULL;
}

/* ---- bring-up ------------------------------------------------------------------------ */

static void guest_sync(void *ctx, unsigned vm)
{
    ims_replay *rp = ctx;
    if (rp->checker)
        ims_checker_note_guest_sync(rp->checker, vm);
}

static void one_ready(ims_replay *rp)
{
    if (--rp->vms_starting == 0 && !rp->failed)
        rp->vms_cont(rp);
}

typedef struct vm_start {
    ims_replay *rp;
    size_t idx;
} vm_start;

static void vm_booted(void *ctx, int status)
{
    vm_start *s = ctx;
    ims_replay *rp = s->rp;
    rp_vm *vm = &rp->vms[s->idx];
    free(s);
    if (status < 0) {
        rp_fail_at(rp, vm->file, vm->line, -status, "vm id=%u: the guest could not program its vIOMMU (status %d)",
                   vm->id, status);
        return;
    }
    one_ready(rp);
}

static void vm_started(void *ctx, int status)
{
    vm_start *s = ctx;
    ims_replay *rp = s->rp;
    rp_vm *vm = &rp->vms[s->idx];
    if (status < 0) {
        free(s);
        rp_fail_at(rp, vm->file, vm->line, -status, "vm id=%u: the VMM could not map guest RAM / attach devices: %s",
                   vm->id, ims_iommufd_last_error(rp_host_ifd(rp))->msg);
        return;
    }
    ims_error e = {0};
    if (ims_guest_boot(vm->guest, (ims_drv_done){vm_booted, s}, &e)) {
        free(s);
        rp_fail_at(rp, vm->file, vm->line, e.code ? -e.code : EINVAL, "%s", e.msg);
    }
}

void rp_guest_start(ims_replay *rp, void (*cont)(ims_replay *rp))
{
    rp->vms_cont = cont;
    rp->vms_starting = 1; /* held until every VM is started */
    const ims_config *cfg = ims_system_config(rp->sys);
    ims_vtd_unit *unit = ims_system_unit(rp->sys, rp_host_unit(rp));
    for (size_t i = 0; i < rp->ndvm; i++)
        if (!vm_find(rp, rp->dvm[i].vm)) {
            rp_fail(rp, NULL, ENOENT, "device sid=0x%04x: vm=%u is not declared (a `vm id=%u mem=...` record)",
                    rp->dvm[i].sid, rp->dvm[i].vm, rp->dvm[i].vm);
            return;
        }
    for (size_t i = 0; i < rp->nvms && !rp->failed; i++) {
        rp_vm *vm = &rp->vms[i];
        ims_error e = {0};
        ims_vmm_params vp = {
            .engine = rp->engine,
            .mem = ims_system_mem(rp->sys),
            .ifd = rp_host_ifd(rp),
            .qi = unit ? ims_vtd_unit_qi(unit) : NULL,
            .cfg = cfg,
            .stats = ims_system_stats(rp->sys),
            .id = vm->id,
            .ram_size = vm->mem,
            .shadow = vm->shadow,
        };
        ims_guest_params gp = {.engine = rp->engine,
                               .mem = ims_system_mem(rp->sys),
                               .cfg = cfg,
                               .stats = ims_system_stats(rp->sys),
                               .on_sync = guest_sync,
                               .sync_ctx = rp};
        if (ims_vmm_create(&vp, &vm->vmm, &e) || (gp.vmm = vm->vmm, ims_guest_create(&gp, &vm->guest, &e))) {
            rp_fail_at(rp, vm->file, vm->line, e.code ? -e.code : EINVAL, "%s", e.msg);
            return;
        }
        for (size_t j = 0; j < rp->ndvm; j++) {
            if (rp->dvm[j].vm != vm->id)
                continue;
            const ims_system_dev *d = ims_system_device_by_sid(rp->sys, rp->dvm[j].sid);
            if (!d || d->unit != rp_host_unit(rp) || ims_vmm_add_device(vm->vmm, d->sid, &e) ||
                ims_guest_add_device(vm->guest, d->sid, d->ats, d->pasid_bits, &e)) {
                rp_fail_at(rp, vm->file, vm->line, EINVAL, "vm id=%u: device sid=0x%04x cannot be assigned: %s",
                           vm->id, rp->dvm[j].sid, d ? e.msg : "not declared");
                return;
            }
        }
        vm_start *s = malloc(sizeof *s);
        if (!s) {
            rp_fail_at(rp, vm->file, vm->line, ENOMEM, "vm: out of memory");
            return;
        }
        *s = (vm_start){rp, i};
        rp->vms_starting++;
        if (ims_vmm_start(vm->vmm, (ims_drv_done){vm_started, s}, &e)) {
            free(s);
            rp_fail_at(rp, vm->file, vm->line, e.code ? -e.code : EINVAL, "%s", e.msg);
            return;
        }
    }
    if (!rp->failed)
        one_ready(rp);
}

void rp_guest_destroy(ims_replay *rp)
{
    for (size_t i = 0; i < rp->nvms; i++) {
        ims_guest_destroy(rp->vms[i].guest);
        ims_vmm_destroy(rp->vms[i].vmm);
    }
    free(rp->vms);
    free(rp->dvm);
    rp->vms = NULL;
    rp->dvm = NULL;
    rp->nvms = rp->ndvm = 0;
}

/* ---- records ------------------------------------------------------------------------------ */

static void op_done(void *ctx, int status)
{
    rp_op *op = ctx;
    if (op->rp->checker) /* a guest map/unmap the checker was told of has completed */
        ims_checker_guest_op_end(op->rp->checker, op);
    op->host.status = status;
    if (op->host.in_call) {
        op->host.early = true;
        return;
    }
    rp_host_finish(op->rp, op);
}

int rp_exec_guest(ims_replay *rp, rp_op *op, const ims_trace_rec *r)
{
    const char *verb = ims_trace_verb_name(r->verb);
    unsigned id = (unsigned)ims_trace_num(r, IMS_K_VM);
    rp_vm *vm = vm_find(rp, id);
    if (!vm)
        return rp_fail_at(rp, op->file, op->line, ENOENT, "%s: vm=%u is not declared", verb, id);
    uint16_t sid = 0;
    if (ims_trace_has(r, IMS_K_DEV)) {
        const ims_system_dev *d = rp_dev_of(rp, r);
        const rp_vm *owner = d ? rp_guest_vm_of_sid(rp, d->sid) : NULL;
        if (!d || owner != vm)
            return rp_fail_at(rp, op->file, op->line, ENOENT, "%s: dev=%s is not a device assigned to vm %u", verb,
                              ims_trace_has(r, IMS_K_DEV) && ims_trace_dev_is_name(r) ? ims_trace_str(r, IMS_K_DEV)
                                                                                      : "(that sid)",
                              id);
        sid = d->sid;
    }
    uint32_t pasid = ims_trace_has(r, IMS_K_PASID) ? (uint32_t)ims_trace_num(r, IMS_K_PASID) : IMS_GUEST_NO_PASID;
    ims_drv_done done = {op_done, op};
    /* The checker judges no guest view of this range until the operation is done (checker.h). */
    if (rp->checker && (r->verb == IMS_V_GUEST_MAP || r->verb == IMS_V_GUEST_UNMAP) &&
        ims_checker_guest_op_begin(rp->checker, id, op, sid, pasid != IMS_GUEST_NO_PASID, pasid,
                                   ims_trace_num(r, IMS_K_IOVA), ims_trace_num(r, IMS_K_LEN)))
        return rp_fail_at(rp, op->file, op->line, ENOMEM, "%s: out of memory", verb);
    ims_error e = {0};
    int rc;
    switch (r->verb) {
    case IMS_V_GUEST_MAP: {
        unsigned prot = (unsigned)ims_trace_num_or_default(r, IMS_K_PROT);
        rc = ims_guest_map(vm->guest, sid, pasid, ims_trace_num(r, IMS_K_IOVA), ims_trace_num(r, IMS_K_GPA),
                           ims_trace_num(r, IMS_K_LEN), prot != IMS_TRACE_PROT_W, prot != IMS_TRACE_PROT_R, done, &e);
        break;
    }
    case IMS_V_GUEST_UNMAP:
        rc = ims_guest_unmap(vm->guest, sid, pasid, ims_trace_num(r, IMS_K_IOVA), ims_trace_num(r, IMS_K_LEN), done,
                             &e);
        break;
    case IMS_V_GUEST_QI: {
        uint64_t qw[4] = {ims_trace_num(r, IMS_K_Q0), ims_trace_num(r, IMS_K_Q1),
                          ims_trace_num_or_default(r, IMS_K_Q2), ims_trace_num_or_default(r, IMS_K_Q3)};
        rc = ims_guest_qi(vm->guest, qw, done, &e);
        break;
    }
    case IMS_V_GUEST_QI_SYNC:
        rc = ims_guest_qi_sync(vm->guest, done, &e);
        break;
    case IMS_V_GUEST_PASID_BIND:
        rc = ims_guest_pasid_bind(vm->guest, sid, pasid, ims_trace_num(r, IMS_K_S1_PGTBL),
                                  (unsigned)ims_trace_num_or_default(r, IMS_K_S1_AW), done, &e);
        break;
    case IMS_V_GUEST_PASID_UNBIND:
        rc = ims_guest_pasid_unbind(vm->guest, sid, pasid, done, &e);
        break;
    default:
        return rp_fail_at(rp, op->file, op->line, EINVAL, "%s: not a guest-level verb", verb);
    }
    if (rc < 0) {
        if (rp->checker) /* refused at once: done is never called */
            ims_checker_guest_op_end(rp->checker, op);
        return rp_fail_at(rp, op->file, op->line, -rc, "%s: %s", verb, e.msg);
    }
    return 0;
}

void rp_guest_check(ims_replay *rp, uint16_t sid, const ims_vtd_req *req, const ims_vtd_result *used,
                    ims_cycle t_use, const ims_checker_loc *loc)
{
    const rp_vm *vm = rp_guest_vm_of_sid(rp, sid);
    if (!rp->checker || !vm || !vm->guest)
        return;
    ims_checker_guest_view gold = {0};
    uint64_t t_change = 0;
    int m = ims_guest_translate(vm->guest, sid, req->has_pasid ? req->pasid : IMS_GUEST_NO_PASID, req->addr,
                                &gold.hpa, &gold.writable, &t_change);
    if (m < 0)
        return; /* the guest has no domain there: no guest-level opinion */
    gold.mapped = m == 1;
    gold.t_change = t_change;
    ims_checker_check_guest(rp->checker, vm->id, req, used, &gold, t_use, loc);
}
