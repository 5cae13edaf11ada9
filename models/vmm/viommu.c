/* The emulated vIOMMU's invalidation queue: a trapped tail write (VM exit)
 * makes the VMM read and decode the guest's descriptors, turn them into host
 * actions, run those in order in simulated time, and enter the guest again.
 *
 * Two phases per exit. Planning reads guest memory at the exit (the vCPU is
 * stopped) and turns each descriptor into actions: nested forwards
 * IOTLB / PASID-based IOTLB invalidations as IOMMU_HWPT_INVALIDATE on the
 * nested HWPTs with that guest DID (and PASID); shadow re-walks the guest
 * table over the invalidated range and queues IOAS_MAP / IOAS_UNMAP for the
 * differences; PASID-cache and context-cache invalidations re-read the guest
 * PASID entries and (re)attach; a wait descriptor queues its status write, so
 * it lands after everything before it finished. Device-TLB invalidations
 * need no action: the host kernel flushes device-TLBs itself when it
 * invalidates a nested HWPT (iommufd-facts §2.7) or unmaps (§2.8).
 * Execution then charges each action's VMM cost and waits for its ioctl. */
#include <stdlib.h>
#include <string.h>

#include "models/iommufd/uapi.h"
#include "models/vmm/vmm_internal.h"
#include "models/vtd/entries.h"
#include "models/vtd/translate.h"

#define DETACH_ID UINT32_MAX

/* ---- planning ------------------------------------------------------------------- */

vmm_act *ims_vmm_act_(ims_vmm *v, vmm_act_kind kind, uint64_t cost)
{
    if (v->nacts == v->acts_cap) {
        unsigned cap = v->acts_cap ? 2 * v->acts_cap : 32;
        vmm_act *n = realloc(v->acts, cap * sizeof *n);
        if (!n)
            abort(); /* host out of memory */
        v->acts = n;
        v->acts_cap = cap;
    }
    if (kind == ACT_COST && v->nacts > v->next_act && v->acts[v->nacts - 1].kind == ACT_COST) {
        v->acts[v->nacts - 1].cost += cost; /* consecutive costs are one wait */
        return &v->acts[v->nacts - 1];
    }
    vmm_act *a = &v->acts[v->nacts++];
    memset(a, 0, sizeof *a);
    a->kind = kind;
    a->cost = cost;
    a->b = -1;
    return a;
}

static void cost(ims_vmm *v, uint64_t c)
{
    if (c)
        ims_vmm_act_(v, ACT_COST, c);
}

/* A binding the guest programmed for this design's table format. */
static bool binding_live(const vmm_binding *b, bool shadow)
{
    return b->used && b->pgtt == (shadow ? IMS_VTD_PGTT_SS : IMS_VTD_PGTT_FS);
}

/* One guest invalidation of (did, pasid or any) over [first, last] (whole:
 * everything of the domain). */
static void plan_iotlb(ims_vmm *v, bool all_dids, uint16_t did, bool match_pasid, uint32_t pasid, bool whole,
                       uint64_t addr, unsigned am, bool ih)
{
    for (unsigned i = 0; i < v->nb; i++) {
        vmm_binding *b = &v->b[i];
        if (!binding_live(b, v->shadow) || (!all_dids && b->did != did) || (match_pasid && b->pasid != pasid))
            continue;
        uint64_t first = 0, last = UINT64_MAX;
        if (!whole)
            ims_qi_am_span(addr, am, &first, &last);
        if (v->shadow) {
            ims_vmm_shadow_sync_(v, (int)i, first, last, whole || am >= 52);
            continue;
        }
        vmm_act *a = ims_vmm_act_(v, ACT_HWPT_INVAL, v->c_forward);
        a->b = (int)i;
        if (whole || am >= 52) {
            a->a = 0;
            a->len = UINT64_MAX; /* npages: everything (iommufd-facts §2.7) */
        } else {
            a->a = first;
            a->len = UINT64_C(1) << am;
        }
        a->leaf = ih;
    }
}

static void plan_unbind(ims_vmm *v, int bi)
{
    vmm_binding *b = &v->b[bi];
    uint32_t old = v->shadow ? b->ioas : b->hwpt;
    vmm_act *a = ims_vmm_act_(v, ACT_ATTACH, 0);
    a->sid = b->sid;
    a->pasid = b->pasid;
    a->id = b->pasid == 0 ? 0 : DETACH_ID; /* the RID goes back to GPA space, a PASID to blocking */
    if (old) {
        a = ims_vmm_act_(v, ACT_DESTROY, 0);
        a->id = old;
    }
    ims_vmm_binding_free_(v, bi);
}

/* Re-read the guest PASID entry of (sid, pasid) and make the host follow it. */
static void plan_pasid_entry(ims_vmm *v, uint16_t sid, uint32_t pasid)
{
    uint64_t qw[8] = {0};
    unsigned reads = 0;
    bool present = ims_vmm_guest_pasid_entry_(v, sid, pasid, qw, &reads);
    v->n.walk_reads += reads;
    cost(v, reads * v->c_walk);
    int bi = ims_vmm_binding_find_(v, sid, pasid);
    unsigned want = v->shadow ? IMS_VTD_PGTT_SS : IMS_VTD_PGTT_FS;
    if (!present || ims_vtd_pasidte_pgtt(qw) != want) {
        if (bi >= 0)
            plan_unbind(v, bi);
        return;
    }
    uint64_t root = v->shadow ? ims_vtd_pasidte_ssptptr(qw) : ims_vtd_pasidte_fsptptr(qw);
    unsigned levels = v->shadow ? ims_vtd_pasidte_aw(qw) + 2 : (ims_vtd_pasidte_fspm(qw) ? 5 : 4);
    uint32_t flags = 0;
    if (!v->shadow) {
        flags |= ims_vtd_pasidte_sre(qw) ? IMS_IOMMU_VTD_S1_SRE : 0;
        flags |= ims_vtd_pasidte_wpe(qw) ? IMS_IOMMU_VTD_S1_WPE : 0;
        flags |= ims_vtd_pasidte_eafe(qw) ? IMS_IOMMU_VTD_S1_EAFE : 0;
    }
    uint16_t did = ims_vtd_pasidte_did(qw);
    if (bi >= 0) {
        vmm_binding *b = &v->b[bi];
        if (b->root_gpa == root && b->levels == levels && b->flags == flags) {
            b->did = did;
            return; /* the same table: nothing for the host */
        }
    } else if ((bi = ims_vmm_binding_new_(v, sid, pasid)) < 0) {
        abort(); /* host out of memory */
    }
    vmm_binding *b = &v->b[bi];
    uint32_t old = v->shadow ? b->ioas : b->hwpt;
    ims_vmm_pmap_free_(&b->shadow);
    b->did = did;
    b->pgtt = want;
    b->root_gpa = root;
    b->levels = levels;
    b->flags = flags;
    b->hwpt = b->ioas = 0;
    vmm_act *a;
    if (v->shadow) {
        a = ims_vmm_act_(v, ACT_SHADOW_ALLOC, 0);
        a->b = bi;
        ims_vmm_shadow_sync_(v, bi, 0, UINT64_MAX, true);
    } else {
        a = ims_vmm_act_(v, ACT_NESTED_ALLOC, v->c_forward);
        a->b = bi;
    }
    a = ims_vmm_act_(v, ACT_ATTACH, 0);
    a->b = bi;
    a->sid = sid;
    a->pasid = pasid;
    if (old) {
        a = ims_vmm_act_(v, ACT_DESTROY, 0);
        a->id = old;
    }
}

static void plan_pasid_cache(ims_vmm *v, const ims_qi_pc *pc)
{
    if (pc->g == IMS_QI_PC_PASID_SELECTIVE) {
        for (unsigned i = 0; i < v->nsids; i++)
            plan_pasid_entry(v, v->sids[i], pc->pasid);
        return;
    }
    /* Domain-selective and global: every known binding of the domain, and the
     * RID of every device (PASIDs never bound cannot be enumerated cheaply;
     * Linux always invalidates PASID-selectively after a new entry). */
    for (unsigned i = 0; i < v->nb; i++)
        if (v->b[i].used && (pc->g == IMS_QI_PC_GLOBAL || v->b[i].did == pc->did))
            plan_pasid_entry(v, v->b[i].sid, v->b[i].pasid);
    for (unsigned i = 0; i < v->nsids; i++)
        if (ims_vmm_binding_find_(v, v->sids[i], 0) < 0)
            plan_pasid_entry(v, v->sids[i], 0);
}

static void plan_context_cache(ims_vmm *v, const ims_qi_cc *cc)
{
    for (unsigned i = 0; i < v->nsids; i++) {
        uint16_t sid = v->sids[i];
        uint16_t fm = (uint16_t)((1u << cc->fm) - 1u);
        if (cc->g == IMS_QI_CC_DEVICE_SELECTIVE && (sid & ~fm) != (cc->sid & ~fm))
            continue;
        for (unsigned j = 0; j < v->nb; j++)
            if (v->b[j].used && v->b[j].sid == sid &&
                (cc->g != IMS_QI_CC_DOMAIN_SELECTIVE || v->b[j].did == cc->did))
                plan_pasid_entry(v, sid, v->b[j].pasid);
        if (ims_vmm_binding_find_(v, sid, 0) < 0)
            plan_pasid_entry(v, sid, 0);
    }
}

static void plan_desc(ims_vmm *v, const ims_qi_desc *d)
{
    switch (d->type) {
    case IMS_QI_TYPE_CC:
        plan_context_cache(v, &d->cc);
        break;
    case IMS_QI_TYPE_IOTLB:
        plan_iotlb(v, d->iotlb.g == IMS_QI_IOTLB_GLOBAL, d->iotlb.did, false, 0,
                   d->iotlb.g != IMS_QI_IOTLB_PAGE_SELECTIVE, d->iotlb.addr, d->iotlb.am, d->iotlb.ih);
        break;
    case IMS_QI_TYPE_PIOTLB:
        plan_iotlb(v, false, d->piotlb.did, true, d->piotlb.pasid, d->piotlb.g == IMS_QI_PIOTLB_PASID_SELECTIVE,
                   d->piotlb.addr, d->piotlb.am, d->piotlb.ih);
        break;
    case IMS_QI_TYPE_PC:
        plan_pasid_cache(v, &d->pc);
        break;
    case IMS_QI_TYPE_WAIT:
        if (d->wait.sw) {
            vmm_act *a = ims_vmm_act_(v, ACT_STATUS, 0);
            a->a = d->wait.status_addr;
            a->hpa = d->wait.status_data;
        }
        break;
    default:
        /* device-TLB (the host flushes device-TLBs itself), interrupt entry
         * cache, page responses: decoded, nothing to forward */
        break;
    }
}

/* ---- execution --------------------------------------------------------------------- */

static void run_acts(ims_vmm *v);

static void finish_exit(void *ctx, uint64_t arg)
{
    (void)arg;
    ims_vmm *v = ctx;
    if (v->qi) {
        ims_qi_time t1 = ims_qi_time_get(v->qi);
        uint64_t wait = t1.wait_cycles - v->t0.wait_cycles, ats = t1.ats_cycles - v->t0.ats_cycles;
        if (ats > wait)
            ats = wait;
        if (wait > v->layers.host)
            wait = v->layers.host;
        if (ats > wait)
            ats = wait;
        v->layers.devtlb = ats;
        v->layers.hw_qi = wait - ats;
        v->layers.host -= wait;
    }
    v->busy = false;
    ims_vmm_exit_fn fn = v->fn;
    void *fctx = v->fn_ctx;
    ims_vmm_layers l = v->layers;
    v->nacts = v->next_act = 0;
    if (fn)
        fn(fctx, &l);
}

static void act_done(void *ctx, int status)
{
    ims_vmm *v = ctx;
    v->pending--;
    v->layers.host += ims_engine_now(v->engine) - v->call_start;
    if (status < 0 && v->layers.host_error == 0)
        v->layers.host_error = status;
    v->next_act++;
    if (v->in_call) {
        v->call_early = true;
        return;
    }
    run_acts(v);
}

static void act_event(void *ctx, uint64_t arg)
{
    (void)arg;
    run_acts(ctx);
}

static int issue(ims_vmm *v, vmm_act *a)
{
    ims_drv_done done = {act_done, v};
    vmm_binding *b = a->b >= 0 ? &v->b[a->b] : NULL;
    uint32_t pasid = a->pasid == 0 ? IMS_DRV_NO_PASID : a->pasid;
    switch (a->kind) {
    case ACT_HWPT_INVAL: {
        ims_iommu_hwpt_vtd_s1_invalidate e = {
            .addr = a->a, .npages = a->len, .flags = a->leaf ? IMS_IOMMU_VTD_INV_FLAGS_LEAF : 0};
        uint32_t num = 1;
        v->n.hwpt_invalidates++;
        if (v->s_hwpt_inval)
            ims_counter_inc(v->s_hwpt_inval);
        return ims_iommufd_hwpt_invalidate(v->ifd, b->hwpt, IMS_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, &e,
                                           (uint32_t)sizeof e, &num, done);
    }
    case ACT_NESTED_ALLOC: {
        ims_iommu_hwpt_vtd_s1 s1 = {
            .flags = b->flags, .pgtbl_addr = b->root_gpa, .addr_width = b->levels == 5 ? 57 : 48};
        /* PASID-capable HWPTs throughout, so the RID and PASIDs can be attached side by side */
        return ims_iommufd_hwpt_alloc(v->ifd, ims_iommufd_device_of_sid(v->ifd, b->sid), v->parent,
                                      IMS_IOMMU_HWPT_ALLOC_PASID,
                                      IMS_IOMMU_HWPT_DATA_VTD_S1, &s1, (uint32_t)sizeof s1, &b->hwpt, done);
    }
    case ACT_SHADOW_ALLOC:
        return ims_iommufd_ioas_alloc(v->ifd, &b->ioas, done);
    case ACT_SHADOW_MAP: {
        uint64_t iova = a->a;
        uint32_t flags = IMS_IOMMU_IOAS_MAP_FIXED_IOVA;
        flags |= (a->prot & IMS_DRV_PROT_READ) ? IMS_IOMMU_IOAS_MAP_READABLE : 0;
        flags |= (a->prot & IMS_DRV_PROT_WRITE) ? IMS_IOMMU_IOAS_MAP_WRITEABLE : 0;
        v->n.shadow_maps++;
        if (v->s_maps)
            ims_counter_inc(v->s_maps);
        return ims_iommufd_ioas_map(v->ifd, b->ioas, a->hpa, a->len, flags, &iova, done);
    }
    case ACT_SHADOW_UNMAP:
        v->n.shadow_unmaps++;
        if (v->s_unmaps)
            ims_counter_inc(v->s_unmaps);
        return ims_iommufd_ioas_unmap(v->ifd, b->ioas, a->a, a->len, NULL, done);
    case ACT_ATTACH: {
        v->n.attaches++;
        if (v->s_attach)
            ims_counter_inc(v->s_attach);
        if (a->id == DETACH_ID)
            return ims_iommufd_detach(v->ifd, a->sid, pasid, done);
        uint32_t pt = b ? (v->shadow ? b->ioas : b->hwpt) : (v->shadow ? v->ioas : v->parent);
        return ims_iommufd_attach(v->ifd, a->sid, pasid, &pt, done);
    }
    case ACT_DESTROY:
        return ims_iommufd_obj_destroy(v->ifd, a->id, done);
    default:
        return -EINVAL;
    }
}

static void run_acts(ims_vmm *v)
{
    for (;;) {
        if (v->next_act == v->nacts) {
            if (!ims_engine_schedule(v->engine, v->c_entry, finish_exit, v, 0))
                abort();
            return;
        }
        vmm_act *a = &v->acts[v->next_act];
        if (a->cost) {
            uint64_t c = a->cost;
            a->cost = 0;
            v->layers.vmm += c;
            if (!ims_engine_schedule(v->engine, c, act_event, v, 0))
                abort();
            return;
        }
        if (a->kind == ACT_COST) {
            v->next_act++;
            continue;
        }
        if (a->kind == ACT_STATUS) {
            uint64_t hpa;
            if (ims_vmm_gpa_to_hpa(v, a->a, 4, &hpa))
                ims_physmem_w32(v->mem, hpa, (uint32_t)a->hpa);
            v->next_act++;
            continue;
        }
        v->call_start = ims_engine_now(v->engine);
        v->in_call = true;
        v->call_early = false;
        int rc = issue(v, a);
        v->in_call = false;
        if (rc < 0) {
            /* refused at once: recorded, the exit goes on (as a VMM logs and
             * carries on when the host refuses) */
            if (v->layers.host_error == 0)
                v->layers.host_error = rc;
            v->next_act++;
            continue;
        }
        v->pending++;
        if (!v->call_early)
            return;
    }
}

/* ---- the trapped tail write ------------------------------------------------------------- */

static void exit_event(void *ctx, uint64_t arg)
{
    (void)arg;
    run_acts(ctx);
}

int ims_vmm_iqt_write(ims_vmm *v, unsigned tail, ims_vmm_exit_fn fn, void *ctx)
{
    if (v->busy)
        return -EBUSY;
    if (!v->queue_set || tail >= v->qsize)
        return -EINVAL;
    if (v->iqe)
        return -EIO;
    v->busy = true;
    v->tail = tail;
    v->fn = fn;
    v->fn_ctx = ctx;
    memset(&v->layers, 0, sizeof v->layers);
    v->layers.exit = v->c_exit + v->c_entry;
    if (v->qi)
        v->t0 = ims_qi_time_get(v->qi);
    v->nacts = v->next_act = 0;
    v->n.exits++;
    if (v->s_exits)
        ims_counter_inc(v->s_exits);
    uint64_t cap = ims_vmm_viommu_cap(v), ecap = ims_vmm_viommu_ecap(v);
    while (v->head != v->tail) {
        uint64_t qw[IMS_QI_DESC_QW] = {0};
        ims_qi_desc d;
        cost(v, v->c_decode);
        int code = ims_vmm_read_gpa_(v, v->iqa_gpa + (uint64_t)v->head * 32u, qw, 32)
                       ? ims_qi_decode(qw, true, cap, ecap, &d)
                       : IMS_VTD_IQEI_BAD_TYPE;
        if (code) {
            /* IQE: the head stays on the bad descriptor (vtd-facts §4.11) */
            v->iqe = true;
            v->layers.status = -EINVAL;
            v->layers.iqe_index = v->head;
            v->layers.iqe_code = code;
            break;
        }
        v->layers.descriptors++;
        v->n.descriptors++;
        if (v->s_desc)
            ims_counter_inc(v->s_desc);
        plan_desc(v, &d);
        v->head = (v->head + 1) & (v->qsize - 1);
    }
    if (!ims_engine_schedule(v->engine, v->c_exit, exit_event, v, 0))
        abort();
    return 0;
}
