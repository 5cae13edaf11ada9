/* The interface between the iommufd core (objects, uAPI, IOAS bookkeeping)
 * and an IOMMU driver (the VT-d host driver in vtd_driver.c, or a test
 * stand-in). It mirrors the kernel's split between drivers/iommu/iommufd and
 * the per-IOMMU domain ops, in our own terms.
 *
 * Time: software runs in simulated time. A driver call does its functional
 * work at once (tables written, descriptors queued) and returns 0 or a
 * negative errno; work that blocks in the kernel (qi_submit_sync waiting for
 * the wait descriptor, polling) finishes later: the driver then calls
 * `done(done_ctx, status)` from an engine event, where status may still be an
 * error (-ETIMEDOUT after an ITE). A call that returns an error never calls
 * done. The core adds its own configured costs (syscall, per-ioctl) around the
 * driver's. */
#ifndef IMS_IOMMUFD_IOMMU_DRIVER_H
#define IMS_IOMMUFD_IOMMU_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*ims_drv_done_fn)(void *done_ctx, int status);

/* A completion to call when the blocking part is over; fn may be NULL. */
typedef struct ims_drv_done {
    ims_drv_done_fn fn;
    void *ctx;
} ims_drv_done;

typedef struct ims_drv_domain ims_drv_domain; /* driver-owned */

/* IOMMU_HWPT_ALLOC flags as the driver sees them (uAPI values). */
#define IMS_DRV_ALLOC_NEST_PARENT (1u << 0)
#define IMS_DRV_ALLOC_DIRTY_TRACKING (1u << 1)
#define IMS_DRV_ALLOC_PASID (1u << 3)

#define IMS_DRV_PROT_READ (1u << 0)
#define IMS_DRV_PROT_WRITE (1u << 1)

#define IMS_DRV_NO_PASID UINT32_C(0xFFFFFFFF) /* attach to the RID (RID_PASID) */

typedef struct ims_drv_ops {
    /* IOMMU_GET_HW_INFO: fill `data` (at most *len bytes; *len returns the
     * driver's full length), *type (uAPI iommu_hw_info_type), *caps (uAPI
     * IOMMU_HW_CAP_*). in_type: requested type (0 = default). */
    int (*hw_info)(void *drv, uint16_t sid, uint32_t in_type, void *data, uint32_t *len, uint32_t *type,
                   uint64_t *caps);
    /* Paging domain (IOAS-backed) with uAPI flags. */
    int (*domain_alloc_paging)(void *drv, uint16_t sid, uint32_t flags, ims_drv_domain **out);
    /* Nested domain over a paging parent; data_type/data/len as in HWPT_ALLOC. */
    int (*domain_alloc_nested)(void *drv, uint16_t sid, ims_drv_domain *parent, uint32_t flags,
                               uint32_t data_type, const void *data, uint32_t len, ims_drv_domain **out);
    /* Free; -EBUSY if still attached or (parent) has nested children. */
    int (*domain_free)(void *drv, ims_drv_domain *d);
    /* Map/unmap [iova, iova+len) -> [pa, ...) in a paging domain (prot:
     * IMS_DRV_PROT_*). Unmap flushes as the kernel does (strict), including
     * propagation to nested children of a nest parent. */
    int (*map)(void *drv, ims_drv_domain *d, uint64_t iova, uint64_t pa, uint64_t len, unsigned prot,
               ims_drv_done done);
    int (*unmap)(void *drv, ims_drv_domain *d, uint64_t iova, uint64_t len, ims_drv_done done);
    /* Attach (or replace) the device's RID (pasid == IMS_DRV_NO_PASID) or a
     * PASID to a domain; detach puts it in blocking state. */
    int (*attach)(void *drv, ims_drv_domain *d, uint16_t sid, uint32_t pasid, ims_drv_done done);
    int (*detach)(void *drv, uint16_t sid, uint32_t pasid, ims_drv_done done);
    /* IOMMU_HWPT_INVALIDATE on a nested domain: `entries` is an array of
     * *num entries of entry_len bytes of data_type; on return *num is the
     * number of entries handled (also on error). */
    int (*cache_invalidate_user)(void *drv, ims_drv_domain *d, uint32_t data_type, const void *entries,
                                 uint32_t entry_len, uint32_t *num, ims_drv_done done);
    /* Dirty tracking on a paging domain. */
    int (*set_dirty_tracking)(void *drv, ims_drv_domain *d, bool enable, ims_drv_done done);
    /* Set one bit per page_size page of [iova, iova+len) that is dirty in
     * the second-stage tables into bitmap (bit 0 = iova), clearing the dirty
     * bits unless no_clear. */
    int (*read_and_clear_dirty)(void *drv, ims_drv_domain *d, uint64_t iova, uint64_t len, uint64_t page_size,
                                uint64_t *bitmap, bool no_clear, ims_drv_done done);
    /* Device capabilities (for hw_info capabilities and attach checks). */
    bool (*dev_has_dirty)(void *drv, uint16_t sid);
    bool (*dev_has_pasid)(void *drv, uint16_t sid);
} ims_drv_ops;

typedef struct ims_drv {
    const ims_drv_ops *ops;
    void *drv;
} ims_drv;

#ifdef __cplusplus
}
#endif
#endif
