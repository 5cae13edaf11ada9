/* The guest OS of one VM: its IOMMU driver as Linux's does it on a vIOMMU
 * with caching mode (docs/guest-vmm.md).
 *
 * Everything the guest builds lives in guest memory, in the architected
 * formats, inside the pool at the top of guest RAM (guest.pt_pool): the
 * scalable-mode root/context tables, PASID directories and tables, the
 * invalidation queue (256 descriptors of 256 bits) with its status word, and
 * the DMA page tables: first-stage when the vIOMMU offers it (nested), else
 * second-stage (shadow).
 *
 * A DMA domain per (device, PASID) is created on first use: context entry
 * (under CM: device-selective context-cache + DID-0 domain IOTLB
 * invalidation), a PASID entry (under CM: PASID-selective PASID-cache +
 * PASID/domain IOTLB invalidation). map writes PTEs (1 GiB / 2 MiB / 4 KiB
 * pages as alignment allows, as iommu_map picks sizes) and, for second-stage
 * tables under CM, invalidates the new range; unmap clears PTEs and then
 * invalidates: strict before returning, lazy through a per-domain flush queue
 * (flush when guest.flush_queue_entries are queued or guest.flush_queue_timeout
 * after the first, one domain-wide invalidation). Mapping over an IOVA still in
 * the flush queue flushes first (Linux would never hand such an IOVA out).
 *
 * Invalidations go through qi_submit_sync: descriptors plus a wait
 * descriptor, one submission at a time per VM (the guest's queue lock), the
 * tail write traps to the VMM, the guest then sees its status word. Each
 * submission records the end-to-end latency split by layer (inv.e2e.*), and
 * each unmapped range its exposure window (inv.exposure_ns: PTE clear to
 * the invalidation completing as the guest sees it). */
#ifndef IMS_GUEST_GUEST_H
#define IMS_GUEST_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "models/iommufd/iommu_driver.h"
#include "models/mem/physmem.h"
#include "models/vmm/vmm.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "sim/err.h"
#include "sim/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ims_guest ims_guest;

#define IMS_GUEST_NO_PASID UINT32_C(0xFFFFFFFF) /* the RID's DMA domain (guest PASID 0) */

typedef struct ims_guest_params {
    ims_engine *engine;
    ims_physmem *mem;
    ims_vmm *vmm;            /* the VM's VMM (its RAM and vIOMMU) */
    const ims_config *cfg;   /* guest.* */
    ims_stats *stats;        /* inv.e2e.*, inv.exposure_ns, guest.*; may be NULL */
    /* Called when the guest has seen one of its wait descriptors complete
     * (the checker's synchronisation point for this VM). */
    void (*on_sync)(void *ctx, unsigned vm);
    void *sync_ctx;
} ims_guest_params;

int ims_guest_create(const ims_guest_params *p, ims_guest **out, ims_error *err);
void ims_guest_destroy(ims_guest *g);

/* A device the guest drives (assigned to the VM). Call before any operation. */
int ims_guest_add_device(ims_guest *g, uint16_t sid, bool ats, unsigned pasid_bits, ims_error *err);

/* Boot: program the vIOMMU (root table, queue) and every device's context
 * entry, with the invalidations caching mode asks for; done when they are
 * through. Call once, after the VMM has started and devices were added. */
int ims_guest_boot(ims_guest *g, ims_drv_done done, ims_error *err);

/* Operations: 0 and done later (status 0 or negative), or a negative errno
 * at once with the message in err (bad arguments: not 4 KiB aligned, outside
 * guest RAM or inside the pool, -EEXIST mapped, -ENOENT not mapped / unknown
 * device / PASID not bound). pasid IMS_GUEST_NO_PASID = the RID's domain. */
int ims_guest_map(ims_guest *g, uint16_t sid, uint32_t pasid, uint64_t iova, uint64_t gpa, uint64_t len,
                  bool read, bool write, ims_drv_done done, ims_error *err);
int ims_guest_unmap(ims_guest *g, uint16_t sid, uint32_t pasid, uint64_t iova, uint64_t len, ims_drv_done done,
                    ims_error *err);
/* vSVA: a PASID gets its own first-stage table rooted at s1_gpa (a page of
 * guest RAM below the pool, zeroed by the bind). Nested mode only. */
int ims_guest_pasid_bind(ims_guest *g, uint16_t sid, uint32_t pasid, uint64_t s1_gpa, unsigned aw,
                         ims_drv_done done, ims_error *err);
int ims_guest_pasid_unbind(ims_guest *g, uint16_t sid, uint32_t pasid, ims_drv_done done, ims_error *err);
/* Raw descriptor into the queue + tail write (done after the exit), and a
 * wait descriptor + tail write + spin. */
int ims_guest_qi(ims_guest *g, const uint64_t qw[4], ims_drv_done done, ims_error *err);
int ims_guest_qi_sync(ims_guest *g, ims_drv_done done, ims_error *err);

/* The guest's own view of a DMA: IOVA -> HPA through its current tables
 * (what a correct translation must give). Returns 1 with *hpa and the write
 * permission, 0 when the guest maps nothing there (the DMA must fault), -1
 * when the guest has no domain for (sid, pasid) (no guest-level opinion).
 * *t_change: the latest store stamp over the table frames read. */
int ims_guest_translate(ims_guest *g, uint16_t sid, uint32_t pasid, uint64_t iova, uint64_t *hpa, bool *writable,
                        uint64_t *t_change);

/* Operations in flight (submissions, flush-queue timers). */
unsigned ims_guest_pending(const ims_guest *g);

#ifdef __cplusplus
}
#endif
#endif
