/* VMM: guest RAM through the host iommufd, assigned devices, the guest's
 * vIOMMU structures as the VMM reads them, and per-(device, PASID) bindings
 * (vmm.h). */
#include <stdlib.h>
#include <string.h>

#include "models/iommufd/uapi.h"
#include "models/vmm/vmm_internal.h"
#include "models/vtd/entries.h"
#include "models/vtd/regs.h"
#include "models/vtd/translate.h"

static uint64_t cycles(const ims_vmm *v, const ims_config *cfg, const char *key)
{
    return ims_engine_ps_to_cycles(v->engine, ims_config_time_ps(cfg, key));
}

int ims_vmm_create(const ims_vmm_params *p, ims_vmm **out, ims_error *err)
{
    *out = NULL;
    if (!p || !p->engine || !p->mem || !p->ifd || !p->cfg)
        return ims_errorf(err, EINVAL, "vmm: engine, memory, iommufd and configuration are required");
    if (p->ram_size == 0 || p->ram_size % IMS_PAGE_SIZE)
        return ims_errorf(err, EINVAL, "vm %u: mem=0x%llx is not a positive multiple of 4 KiB", p->id,
                          (unsigned long long)p->ram_size);
    ims_vmm *v = calloc(1, sizeof *v);
    if (!v)
        return ims_errorf(err, ENOMEM, "vmm: out of memory");
    v->engine = p->engine;
    v->mem = p->mem;
    v->ifd = p->ifd;
    v->qi = p->qi;
    v->stats = p->stats;
    v->id = p->id;
    v->shadow = p->shadow;
    v->ram_size = p->ram_size;
    v->c_exit = cycles(v, p->cfg, "vmm.vmexit_ns");
    v->c_entry = cycles(v, p->cfg, "vmm.vmentry_ns");
    v->c_decode = cycles(v, p->cfg, "vmm.decode_ns");
    v->c_forward = cycles(v, p->cfg, "vmm.forward_ns");
    v->c_walk = cycles(v, p->cfg, "vmm.walk_entry_ns");
    v->c_notify = cycles(v, p->cfg, "vmm.notify_ns");
    if (ims_iommufd_host_alloc(p->ifd, p->ram_size, IMS_VMM_RAM_ALIGN, &v->ram_hpa)) {
        free(v);
        return ims_errorf(err, ENOMEM, "vm %u: host memory for mem=0x%llx is exhausted (host.mem_size)", p->id,
                          (unsigned long long)p->ram_size);
    }
    if (p->stats) {
        ims_stats *st = p->stats;
        v->s_exits = ims_stats_counter(st, "vmm.exits", "trapped vIOMMU queue-tail writes (VM exits)");
        v->s_desc = ims_stats_counter(st, "vmm.descriptors", "guest invalidation descriptors handled by the VMM");
        v->s_hwpt_inval = ims_stats_counter(st, "vmm.hwpt_invalidates", "nested: IOMMU_HWPT_INVALIDATE calls");
        v->s_maps = ims_stats_counter(st, "vmm.shadow_maps", "shadow: IOAS_MAP calls mirroring guest mappings");
        v->s_unmaps = ims_stats_counter(st, "vmm.shadow_unmaps", "shadow: IOAS_UNMAP calls");
        v->s_attach = ims_stats_counter(st, "vmm.attaches", "device (re)attaches made for guest PASID entries");
    }
    *out = v;
    return 0;
}

void ims_vmm_destroy(ims_vmm *v)
{
    if (!v)
        return;
    for (unsigned i = 0; i < v->nb; i++)
        ims_vmm_pmap_free_(&v->b[i].shadow);
    free(v->b);
    free(v->acts);
    free(v->sids);
    free(v);
}

int ims_vmm_add_device(ims_vmm *v, uint16_t sid, ims_error *err)
{
    if (!ims_iommufd_device_of_sid(v->ifd, sid))
        return ims_errorf(err, ENOENT, "vm %u: device sid=0x%04x is not bound to iommufd", v->id, sid);
    if (ims_vmm_has_device(v, sid))
        return ims_errorf(err, EEXIST, "vm %u: device sid=0x%04x is already assigned", v->id, sid);
    if (v->nsids == v->sids_cap) {
        unsigned cap = v->sids_cap ? 2 * v->sids_cap : 4;
        uint16_t *n = realloc(v->sids, cap * sizeof *n);
        if (!n)
            return ims_errorf(err, ENOMEM, "vmm: out of memory");
        v->sids = n;
        v->sids_cap = cap;
    }
    v->sids[v->nsids++] = sid;
    return 0;
}

bool ims_vmm_has_device(const ims_vmm *v, uint16_t sid)
{
    for (unsigned i = 0; i < v->nsids; i++)
        if (v->sids[i] == sid)
            return true;
    return false;
}

unsigned ims_vmm_id(const ims_vmm *v) { return v->id; }
bool ims_vmm_shadow(const ims_vmm *v) { return v->shadow; }
uint64_t ims_vmm_ram_hpa(const ims_vmm *v) { return v->ram_hpa; }
uint64_t ims_vmm_ram_size(const ims_vmm *v) { return v->ram_size; }
unsigned ims_vmm_pending(const ims_vmm *v) { return v->pending + (v->busy ? 1u : 0u); }
const ims_vmm_counters *ims_vmm_counters_get(const ims_vmm *v) { return &v->n; }

/* What a QEMU-like vIOMMU reports (vtd-facts §1.2, §1.3): 16-bit DIDs, caching
 * mode, 4-level 48-bit second stage with 2 MiB and 1 GiB pages (and 1 GiB
 * first-stage pages), page-selective invalidation up to 2^9 pages; queued invalidation, device-TLBs, scalable mode with 20-bit PASIDs,
 * second-stage tables, and first-stage tables only for nesting. */
uint64_t ims_vmm_viommu_cap(const ims_vmm *v)
{
    (void)v;
    return IMS_VTD_PUT(IMS_VTD_CAP_ND, 6) | IMS_VTD_PUT(IMS_VTD_CAP_CM, 1) |
           IMS_VTD_PUT(IMS_VTD_CAP_SAGAW, IMS_VTD_SAGAW_48) | IMS_VTD_PUT(IMS_VTD_CAP_MGAW, 47) |
           IMS_VTD_PUT(IMS_VTD_CAP_SSLPS, 3) | IMS_VTD_PUT(IMS_VTD_CAP_PSI, 1) | IMS_VTD_PUT(IMS_VTD_CAP_MAMV, 9) |
           IMS_VTD_PUT(IMS_VTD_CAP_FS1GP, 1);
}

uint64_t ims_vmm_viommu_ecap(const ims_vmm *v)
{
    return IMS_VTD_PUT(IMS_VTD_ECAP_QI, 1) | IMS_VTD_PUT(IMS_VTD_ECAP_DT, 1) | IMS_VTD_PUT(IMS_VTD_ECAP_PSS, 19) |
           IMS_VTD_PUT(IMS_VTD_ECAP_PASID, 1) | IMS_VTD_PUT(IMS_VTD_ECAP_SMTS, 1) |
           IMS_VTD_PUT(IMS_VTD_ECAP_SSTS, 1) | IMS_VTD_PUT(IMS_VTD_ECAP_FSTS, v->shadow ? 0 : 1);
}

bool ims_vmm_gpa_to_hpa(const ims_vmm *v, uint64_t gpa, uint64_t len, uint64_t *hpa)
{
    if (gpa >= v->ram_size || len > v->ram_size - gpa)
        return false;
    *hpa = v->ram_hpa + gpa;
    return true;
}

/* ---- start: RAM into the host IOMMU, devices attached to GPA space ----------- */

static void start_next(ims_vmm *v);

static void start_done(void *ctx, int status)
{
    ims_vmm *v = ctx;
    v->pending--;
    if (status < 0) {
        ims_drv_done d = v->start_done;
        if (d.fn)
            d.fn(d.ctx, status);
        return;
    }
    v->start_step++;
    start_next(v);
}

static void start_next(ims_vmm *v)
{
    ims_drv_done done = {start_done, v};
    int rc;
    unsigned step = v->start_step;
    if (step == 0) {
        rc = ims_iommufd_ioas_alloc(v->ifd, &v->ioas, done);
    } else if (step == 1) {
        uint64_t iova = 0;
        rc = ims_iommufd_ioas_map(v->ifd, v->ioas, v->ram_hpa, v->ram_size,
                                  IMS_IOMMU_IOAS_MAP_FIXED_IOVA | IMS_IOMMU_IOAS_MAP_READABLE |
                                      IMS_IOMMU_IOAS_MAP_WRITEABLE,
                                  &iova, done);
    } else if (step == 2) {
        if (v->shadow || v->nsids == 0) {
            v->start_step++;
            start_next(v);
            return;
        }
        rc = ims_iommufd_hwpt_alloc(v->ifd, ims_iommufd_device_of_sid(v->ifd, v->sids[0]), v->ioas,
                                    IMS_IOMMU_HWPT_ALLOC_NEST_PARENT | IMS_IOMMU_HWPT_ALLOC_PASID, IMS_IOMMU_HWPT_DATA_NONE, NULL, 0, &v->parent,
                                    done);
    } else if (step - 3 < v->nsids) {
        uint32_t pt = v->shadow ? v->ioas : v->parent;
        rc = ims_iommufd_attach(v->ifd, v->sids[step - 3], IMS_DRV_NO_PASID, &pt, done);
    } else {
        v->started = true;
        ims_drv_done d = v->start_done;
        if (d.fn)
            d.fn(d.ctx, 0);
        return;
    }
    if (rc < 0) {
        ims_drv_done d = v->start_done;
        if (d.fn)
            d.fn(d.ctx, rc);
        return;
    }
    v->pending++;
}

int ims_vmm_start(ims_vmm *v, ims_drv_done done, ims_error *err)
{
    if (v->started || v->start_step)
        return ims_errorf(err, EBUSY, "vm %u: already started", v->id);
    v->start_done = done;
    start_next(v);
    return 0;
}

/* ---- the guest's structures, read as the VMM reads them -------------------- */

bool ims_vmm_read_gpa_(ims_vmm *v, uint64_t gpa, void *buf, size_t len)
{
    uint64_t hpa;
    if (!ims_vmm_gpa_to_hpa(v, gpa, len, &hpa))
        return false;
    return ims_physmem_read(v->mem, hpa, buf, len) == 0;
}

void ims_vmm_set_root(ims_vmm *v, uint64_t root_gpa)
{
    v->root_gpa = root_gpa & ~(IMS_PAGE_SIZE - 1);
    v->root_set = true;
}

void ims_vmm_set_queue(ims_vmm *v, uint64_t iqa_gpa, unsigned entries)
{
    v->iqa_gpa = iqa_gpa & ~(IMS_PAGE_SIZE - 1);
    v->qsize = entries;
    v->head = 0;
    v->queue_set = entries >= 2 && (entries & (entries - 1)) == 0;
    v->iqe = false;
}

/* Scalable mode: root entry (16 B per bus) -> lower/upper context table (32 B
 * per devfn) -> PASID directory (8 B per 64 PASIDs) -> PASID table (64 B). */
bool ims_vmm_guest_pasid_entry_(ims_vmm *v, uint16_t sid, uint32_t pasid, uint64_t qw[8], unsigned *reads)
{
    uint64_t re[2], ce[4], de;
    unsigned bus = sid >> 8, devfn = sid & 0xFF;
    if (!v->root_set)
        return false;
    ++*reads;
    if (!ims_vmm_read_gpa_(v, v->root_gpa + bus * 16u, re, sizeof re))
        return false;
    bool upper = devfn >= 128;
    if (upper ? !ims_vtd_smre_up(re) : !ims_vtd_smre_lp(re))
        return false;
    uint64_t ctp = upper ? ims_vtd_smre_uctp(re) : ims_vtd_smre_lctp(re);
    ++*reads;
    if (!ims_vmm_read_gpa_(v, ctp + (devfn & 127u) * 32u, ce, sizeof ce) || !ims_vtd_smce_p(ce))
        return false;
    if ((uint64_t)(pasid >> 6) >= (UINT64_C(1) << (ims_vtd_smce_pdts(ce) + 7)))
        return false;
    ++*reads;
    if (!ims_vmm_read_gpa_(v, ims_vtd_smce_pasiddirptr(ce) + (pasid >> 6) * 8u, &de, sizeof de) ||
        !ims_vtd_pdire_p(&de))
        return false;
    ++*reads;
    if (!ims_vmm_read_gpa_(v, ims_vtd_pdire_smptblptr(&de) + (pasid & 63u) * 64u, qw, 64))
        return false;
    return ims_vtd_pasidte_p(qw);
}

/* ---- bindings ---------------------------------------------------------------- */

int ims_vmm_binding_find_(const ims_vmm *v, uint16_t sid, uint32_t pasid)
{
    for (unsigned i = 0; i < v->nb; i++)
        if (v->b[i].used && v->b[i].sid == sid && v->b[i].pasid == pasid)
            return (int)i;
    return -1;
}

int ims_vmm_binding_new_(ims_vmm *v, uint16_t sid, uint32_t pasid)
{
    unsigned i;
    for (i = 0; i < v->nb; i++)
        if (!v->b[i].used)
            break;
    if (i == v->nb) {
        if (v->nb == v->b_cap) {
            unsigned cap = v->b_cap ? 2 * v->b_cap : 8;
            vmm_binding *n = realloc(v->b, cap * sizeof *n);
            if (!n)
                return -1;
            v->b = n;
            v->b_cap = cap;
        }
        v->nb++;
    }
    memset(&v->b[i], 0, sizeof v->b[i]);
    v->b[i].used = true;
    v->b[i].sid = sid;
    v->b[i].pasid = pasid;
    return (int)i;
}

void ims_vmm_binding_free_(ims_vmm *v, int b)
{
    ims_vmm_pmap_free_(&v->b[b].shadow);
    memset(&v->b[b], 0, sizeof v->b[b]);
}
