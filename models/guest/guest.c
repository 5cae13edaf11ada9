/* The guest OS's IOMMU driver: DMA domains, map/unmap with strict or lazy
 * invalidation, vSVA binds, raw descriptors, and the guest's own view of a
 * translation (guest.h). */
#include <stdlib.h>
#include <string.h>

#include "models/guest/guest_internal.h"

static uint64_t cyc(ims_guest *g, const ims_config *cfg, const char *key)
{
    return ims_engine_ps_to_cycles(g->engine, ims_config_time_ps(cfg, key));
}

int ims_guest_create(const ims_guest_params *p, ims_guest **out, ims_error *err)
{
    *out = NULL;
    if (!p || !p->engine || !p->mem || !p->vmm || !p->cfg)
        return ims_errorf(err, EINVAL, "guest: engine, memory, VMM and configuration are required");
    ims_guest *g = calloc(1, sizeof *g);
    if (!g)
        return ims_errorf(err, ENOMEM, "guest: out of memory");
    g->engine = p->engine;
    g->mem = p->mem;
    g->vmm = p->vmm;
    g->stats = p->stats;
    g->on_sync = p->on_sync;
    g->sync_ctx = p->sync_ctx;
    g->vm = ims_vmm_id(p->vmm);
    g->nested = !ims_vmm_shadow(p->vmm);
    g->lazy = ims_config_enum(p->cfg, "guest.unmap_policy") == 1; /* strict|lazy */
    g->fq_limit = (unsigned)ims_config_u64(p->cfg, "guest.flush_queue_entries");
    g->fq_timeout = cyc(g, p->cfg, "guest.flush_queue_timeout");
    g->c_map = cyc(g, p->cfg, "guest.map_ns");
    g->c_pte = cyc(g, p->cfg, "guest.pte_ns");
    g->c_submit = cyc(g, p->cfg, "guest.submit_ns");
    g->c_desc = cyc(g, p->cfg, "guest.desc_ns");
    g->c_poll = cyc(g, p->cfg, "guest.poll_ns");
    g->ram_hpa = ims_vmm_ram_hpa(p->vmm);
    g->ram_size = ims_vmm_ram_size(p->vmm);
    uint64_t pool = ims_config_u64(p->cfg, "guest.pt_pool");
    if (pool >= g->ram_size) {
        unsigned vm = g->vm;
        uint64_t ram = g->ram_size;
        free(g);
        return ims_errorf(err, EINVAL, "vm %u: mem=0x%llx is not larger than guest.pt_pool=0x%llx", vm,
                          (unsigned long long)ram, (unsigned long long)pool);
    }
    g->pool_gpa = (g->ram_size - pool) & ~(IMS_PAGE_SIZE - 1);
    ims_pa_alloc_init(&g->pool, g->mem, g->ram_hpa + g->pool_gpa, g->ram_hpa + g->ram_size);
    g->next_did = 1;
    if (p->stats) {
        ims_stats *st = p->stats;
        g->l_total = ims_stats_latency(st, "inv.e2e.total_ns", "guest qi_submit_sync: submit to the guest seeing "
                                                               "its wait complete");
        g->l_guest = ims_stats_latency(st, "inv.e2e.guest_ns", "guest driver part of a guest invalidation");
        g->l_exit = ims_stats_latency(st, "inv.e2e.exit_ns", "VM exit + entry part");
        g->l_vmm = ims_stats_latency(st, "inv.e2e.vmm_ns", "VMM part (decode, forwarding, walks, notifiers)");
        g->l_host = ims_stats_latency(st, "inv.e2e.host_ns", "host kernel part (ioctls, driver), hardware excluded");
        g->l_hw = ims_stats_latency(st, "inv.e2e.hw_qi_ns", "physical queued-invalidation part, device-TLB excluded");
        g->l_devtlb = ims_stats_latency(st, "inv.e2e.devtlb_ns", "waiting for ATS device-TLB invalidations");
        g->l_exposure = ims_stats_latency(st, "inv.exposure_ns",
                                          "guest unmap: PTE cleared to the invalidation completing");
        g->c_maps = ims_stats_counter(st, "guest.maps", "guest map calls");
        g->c_unmaps = ims_stats_counter(st, "guest.unmaps", "guest unmap calls");
        g->c_flushes = ims_stats_counter(st, "guest.fq_flushes", "lazy: flush-queue flushes");
        g->c_forced = ims_stats_counter(st, "guest.fq_forced_flushes",
                                        "lazy: flushes forced by a map over a still-queued IOVA");
    }
    *out = g;
    return 0;
}

void ims_guest_destroy(ims_guest *g)
{
    if (!g)
        return;
    ims_guest_free_domains_(g);
    while (g->subs) {
        gsub *s = g->subs;
        g->subs = s->next;
        free(s->desc);
        free(s);
    }
    free(g->doms);
    free(g->devs);
    free(g);
}

unsigned ims_guest_pending(const ims_guest *g) { return g->pending; }

gdev *ims_guest_dev_(ims_guest *g, uint16_t sid)
{
    for (unsigned i = 0; i < g->ndevs; i++)
        if (g->devs[i].sid == sid)
            return &g->devs[i];
    return NULL;
}

int ims_guest_add_device(ims_guest *g, uint16_t sid, bool ats, unsigned pasid_bits, ims_error *err)
{
    if (ims_guest_dev_(g, sid))
        return ims_errorf(err, EEXIST, "vm %u: device sid=0x%04x added twice", g->vm, sid);
    if (g->ndevs == g->devs_cap) {
        unsigned cap = g->devs_cap ? 2 * g->devs_cap : 4;
        gdev *n = realloc(g->devs, cap * sizeof *n);
        if (!n)
            return ims_errorf(err, ENOMEM, "guest: out of memory");
        g->devs = n;
        g->devs_cap = cap;
    }
    g->devs[g->ndevs++] = (gdev){.sid = sid, .ats = ats, .pasid_bits = pasid_bits};
    return 0;
}

/* ---- boot: root table, queue, context entries ------------------------------------- */

static void boot_done(ims_guest *g, void *ctx, int status)
{
    ims_drv_done *d = ctx;
    for (unsigned i = 0; i < g->ndevs; i++)
        g->devs[i].ctx_done = status == 0;
    if (d->fn)
        d->fn(d->ctx, status);
    free(d);
}

int ims_guest_boot(ims_guest *g, ims_drv_done done, ims_error *err)
{
    g->root_gpa = ims_guest_alloc_page_(g);
    uint64_t q = ims_guest_alloc_page_(g);
    uint64_t q2 = ims_guest_alloc_page_(g); /* 256 x 32 B = two pages, contiguous from the bump pool */
    g->status_gpa = ims_guest_alloc_page_(g);
    if (!g->root_gpa || !q || q2 != q + IMS_PAGE_SIZE || !g->status_gpa)
        return ims_errorf(err, ENOMEM, "vm %u: guest.pt_pool is too small for the guest's tables", g->vm);
    g->queue_gpa = q;
    ims_vmm_set_root(g->vmm, g->root_gpa);
    ims_vmm_set_queue(g->vmm, g->queue_gpa, GUEST_QSIZE);
    /* Each device's context entry; under caching mode a non-present ->
     * present change is followed by a device-selective context-cache and a
     * DID-0 domain IOTLB invalidation (vtd-facts §5.4). */
    unsigned n = 0;
    uint64_t(*desc)[4] = calloc(g->ndevs + 1u, sizeof *desc);
    ims_drv_done *ctx = malloc(sizeof *ctx);
    if (!desc || !ctx) {
        free(desc);
        free(ctx);
        return ims_errorf(err, ENOMEM, "guest: out of memory");
    }
    for (unsigned i = 0; i < g->ndevs; i++) {
        if (ims_guest_write_context_(g, &g->devs[i])) {
            free(desc);
            free(ctx);
            return ims_errorf(err, ENOMEM, "vm %u: guest.pt_pool is too small for the guest's tables", g->vm);
        }
        ims_qi_build_cc_device(desc[n++], 0, g->devs[i].sid, 0);
    }
    ims_qi_build_iotlb_dsi(desc[n++], 0, false, false);
    *ctx = done;
    int rc = ims_guest_submit_(g, (const uint64_t(*)[4])desc, n, true, boot_done, ctx);
    free(desc);
    if (rc) {
        free(ctx);
        return ims_errorf(err, -rc, "vm %u: cannot queue the boot invalidations", g->vm);
    }
    return 0;
}
