/* The VMM of one guest: its RAM mapped through the host iommufd exactly as a
 * VMM does it, and the emulated vIOMMU the guest programs (docs/guest-vmm.md).
 *
 * Guest RAM is GPA [0, ram_size) backed by host memory at ram_hpa (1 GiB
 * aligned, from ims_iommufd_host_alloc). At start the VMM allocates an IOAS,
 * maps all of RAM at IOVA = GPA and attaches every assigned device:
 *  - nested: a NEST_PARENT HWPT over that IOAS (second stage GPA -> HPA); a
 *    device starts attached to it (DMA IOVA = GPA until the guest programs
 *    its vIOMMU); a guest PASID entry with a first-stage table becomes a
 *    nested HWPT (IOMMU_HWPT_DATA_VTD_S1, s1_pgtbl = the guest's GPA) that
 *    the VMM attaches to the device's RID (guest PASID 0) or PASID;
 *  - shadow: devices start attached to the GPA IOAS; a guest PASID entry
 *    with a second-stage table gets a shadow IOAS whose mappings the VMM
 *    keeps equal to the guest's table (IOVA -> ram_hpa + GPA) by walking the
 *    guest table in software on every invalidation.
 *
 * The vIOMMU reports scalable mode with caching mode (CM=1) in both designs:
 * the guest must invalidate after making a PASID entry present, which is how
 * the VMM learns of it. Nested reports first-stage support (the guest uses
 * first-stage tables and PASID-based invalidations); shadow reports second
 * stage only (the guest uses second-stage tables and, under CM, invalidates
 * on map as well as unmap).
 *
 * The guest's structures live in guest memory in the architected formats:
 * root/context/PASID tables (ims_vmm_set_root), the invalidation queue with
 * 256-bit descriptors (ims_vmm_set_queue) and its page tables. A write of the
 * queue tail traps (VM exit): the VMM reads and decodes each descriptor
 * (inv_desc.h) and acts on it, writes wait-descriptor status words into guest
 * memory, and returns to the guest (VM entry).
 *
 * Costs (vmm.*): VM exit and entry, decode per descriptor, forwarding per
 * nested invalidation, per guest-table entry read, per shadow mapping change;
 * host work is charged by the iommufd and driver models it calls. Every exit
 * reports where its time went (ims_vmm_layers). */
#ifndef IMS_VMM_VMM_H
#define IMS_VMM_VMM_H

#include <stdbool.h>
#include <stdint.h>

#include "models/iommufd/iommufd.h"
#include "models/mem/physmem.h"
#include "models/vtd/qi.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "sim/err.h"
#include "sim/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ims_vmm ims_vmm;

#define IMS_VMM_RAM_ALIGN (UINT64_C(1) << 30)

typedef struct ims_vmm_params {
    ims_engine *engine;
    ims_physmem *mem;
    ims_iommufd *ifd;         /* the host kernel; devices must be bound to it */
    ims_qi *qi;               /* the physical unit's queue (layer attribution); may be NULL */
    const ims_config *cfg;    /* vmm.* */
    ims_stats *stats;         /* vmm.* counters; may be NULL */
    unsigned id;
    uint64_t ram_size;        /* multiple of 4 KiB, > 0 */
    bool shadow;
} ims_vmm_params;

int ims_vmm_create(const ims_vmm_params *p, ims_vmm **out, ims_error *err);
/* Run the engine until nothing of this VMM is pending first. */
void ims_vmm_destroy(ims_vmm *v);

/* Assign a bound device (before ims_vmm_start). -ENOENT: not bound;
 * -EEXIST: already assigned. */
int ims_vmm_add_device(ims_vmm *v, uint16_t sid, ims_error *err);
/* Map RAM and attach the devices (asynchronous: done(ctx, status) later).
 * Returns a negative errno at once when an ioctl is refused (message in
 * err); a late failure reaches done as a negative status. */
int ims_vmm_start(ims_vmm *v, ims_drv_done done, ims_error *err);

unsigned ims_vmm_id(const ims_vmm *v);
bool ims_vmm_shadow(const ims_vmm *v);
uint64_t ims_vmm_ram_hpa(const ims_vmm *v);
uint64_t ims_vmm_ram_size(const ims_vmm *v);
bool ims_vmm_has_device(const ims_vmm *v, uint16_t sid);
/* The vIOMMU's capabilities as the guest reads them. */
uint64_t ims_vmm_viommu_cap(const ims_vmm *v);
uint64_t ims_vmm_viommu_ecap(const ims_vmm *v);

/* GPA -> HPA for an access of len bytes inside guest RAM; false outside. */
bool ims_vmm_gpa_to_hpa(const ims_vmm *v, uint64_t gpa, uint64_t len, uint64_t *hpa);

/* ---- vIOMMU registers the guest programs --------------------------------- */

/* RTADDR + SRTP (scalable-mode root table at a GPA). */
void ims_vmm_set_root(ims_vmm *v, uint64_t root_gpa);
/* IQA (256-bit descriptors, `entries` a power of two >= 2) + QIE; IQH = 0. */
void ims_vmm_set_queue(ims_vmm *v, uint64_t iqa_gpa, unsigned entries);

/* Where the time of one trapped tail write went, in cycles. */
typedef struct ims_vmm_layers {
    uint64_t exit;    /* VM exit + entry */
    uint64_t vmm;     /* decode, forwarding, guest-table walks, notifier work */
    uint64_t host;    /* host kernel software: ioctls and the driver, hardware waits excluded */
    uint64_t hw_qi;   /* the physical queue working (IQT write -> wait done), device-TLB waits excluded */
    uint64_t devtlb;  /* waiting for ATS invalidation completions */
    unsigned descriptors;
    int status;       /* 0, or -EINVAL: the vIOMMU rejected a descriptor (IQE), queue stopped */
    unsigned iqe_index; /* the rejected descriptor's queue index when status < 0 */
    int iqe_code;       /* its IQEI code */
    int host_error;     /* first host call that failed (negative errno), 0 if none */
} ims_vmm_layers;

typedef void (*ims_vmm_exit_fn)(void *ctx, const ims_vmm_layers *layers);

/* The guest wrote IQT = tail (a trapped MMIO write at the current time): the
 * VMM processes the descriptors from its head up to tail, then enters the
 * guest again and calls fn. One exit at a time (the guest serialises its
 * queue): -EBUSY while one is being handled, -EINVAL for a tail beyond the
 * queue or no queue set, -EIO after an IQE (the queue is stopped). */
int ims_vmm_iqt_write(ims_vmm *v, unsigned tail, ims_vmm_exit_fn fn, void *ctx);

/* In-flight work (exits and host calls). */
unsigned ims_vmm_pending(const ims_vmm *v);

/* Counters: exits, descriptors, nested HWPT_INVALIDATE calls, shadow map and
 * unmap ioctls, (re)attaches. */
typedef struct ims_vmm_counters {
    uint64_t exits, descriptors, hwpt_invalidates, shadow_maps, shadow_unmaps, attaches, walk_reads;
} ims_vmm_counters;
const ims_vmm_counters *ims_vmm_counters_get(const ims_vmm *v);

#ifdef __cplusplus
}
#endif
#endif
