/* The iommufd reference implementation: the host kernel's object model and
 * ioctl surface (Linux drivers/iommu/iommufd, current kernel [7.1mw] of
 * iommufd-facts.md) on top of an IOMMU driver (iommu_driver.h).
 *
 * One context per simulated host holds every object in one u32 id namespace
 * (ids from 1, lowest free id first, as the kernel's xarray): IOAS, HWPT
 * paging, HWPT nested, device, fault queue (and the vIOMMU kinds, which VT-d
 * cannot create). The IOAS keeps its mappings ("areas") in a balanced tree and
 * mirrors them into every paging domain allocated from it, through the driver.
 *
 * Entry points take the kernel's argument structs (uapi.h) and follow its
 * dispatch rules: unknown command -> -ENOTTY; NULL arg -> -EFAULT; size below
 * the first version's size -> -EINVAL; non-zero bytes past our struct ->
 * -E2BIG; shorter sizes zero-extended; output written back up to min(user
 * size, our size). A command that fails returns -errno at once and never calls
 * `done`; a command that succeeds returns 0 and calls done.fn(done.ctx,
 * status) when its work is over: after every driver completion it started and
 * then the configured software cost (iommufd.syscall_ns + iommufd.ioctl_ns +
 * iommufd.map_page_ns per 4 KiB page per domain). The functional effect
 * (tables written, descriptors queued) happens at the call; status may still
 * report a late driver error (-ETIMEDOUT). Without an engine, done is called
 * before the call returns.
 *
 * The simulated user_va of IOMMU_IOAS_MAP is the host-physical address of the
 * backing memory (no page pinning is modelled); ims_iommufd_host_alloc hands
 * out such memory from host.mem_base/host.mem_size. */
#ifndef IMS_IOMMUFD_IOMMUFD_H
#define IMS_IOMMUFD_IOMMUFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/iommufd/iommu_driver.h"
#include "models/iommufd/uapi.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "sim/err.h"
#include "sim/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* iommufd.* software costs and host.* backing memory (iommufd_config.c). */
extern const ims_cfg_key ims_iommufd_cfg_keys[];

typedef struct ims_iommufd ims_iommufd;

/* Object kinds (include/linux/iommufd.h order; values are ours). */
typedef enum ims_iommufd_obj_type {
    IMS_IOMMUFD_OBJ_NONE = 0, /* no such id */
    IMS_IOMMUFD_OBJ_DEVICE,
    IMS_IOMMUFD_OBJ_HWPT_PAGING,
    IMS_IOMMUFD_OBJ_HWPT_NESTED,
    IMS_IOMMUFD_OBJ_IOAS,
    IMS_IOMMUFD_OBJ_ACCESS,
    IMS_IOMMUFD_OBJ_FAULT,
    IMS_IOMMUFD_OBJ_VIOMMU,
    IMS_IOMMUFD_OBJ_VDEVICE,
    IMS_IOMMUFD_OBJ_VEVENTQ,
    IMS_IOMMUFD_OBJ_HW_QUEUE,
} ims_iommufd_obj_type;

/* An IOVA range [start, last] (inclusive). */
typedef struct ims_iommufd_range {
    uint64_t start, last;
} ims_iommufd_range;

/* The interrupt window every x86 device reserves (Intel driver's MSI
 * reserved region, 0xFEE00000-0xFEEFFFFF). */
#define IMS_IOMMUFD_X86_MSI_START UINT64_C(0xFEE00000)
#define IMS_IOMMUFD_X86_MSI_LAST UINT64_C(0xFEEFFFFF)

/* Smallest page of every paging domain (VT-d: 4 KiB). */
#define IMS_IOMMUFD_DOMAIN_PAGE UINT64_C(4096)

typedef struct ims_iommufd_params {
    ims_drv drv;             /* required: ops and driver context */
    ims_engine *engine;      /* NULL: completions are immediate */
    const ims_config *cfg;   /* NULL: ims_iommufd_cfg_keys defaults */
    ims_stats *stats;        /* optional: iommufd.ioctls, iommufd.ioctl_errors, iommufd.latency_ns */
    /* Last IOVA a paging domain can translate (the domain geometry; VT-d
     * 48-bit: 2^48-1). 0 = unlimited. Reserved in the IOAS while a paging
     * domain of it exists, as the kernel does with the aperture. */
    uint64_t aperture_last;
    /* IOVA ranges every device reserves in the IOAS it attaches to (the
     * driver's reserved regions; x86: IMS_IOMMUFD_X86_MSI_*). */
    const ims_iommufd_range *dev_resv;
    size_t n_dev_resv;
} ims_iommufd_params;

int ims_iommufd_create(const ims_iommufd_params *p, ims_iommufd **out, ims_error *err);
/* Run the engine until ims_iommufd_pending() is 0 first: completion events
 * still queued would refer to the freed context. */
void ims_iommufd_destroy(ims_iommufd *ctx);
/* The message of the last failed call (code 0 after a success). */
const ims_error *ims_iommufd_last_error(const ims_iommufd *ctx);
/* Commands accepted but not yet completed. */
size_t ims_iommufd_pending(const ims_iommufd *ctx);

/* ioctl(iommufd, cmd, arg): IMS_IOMMU_* commands, arg points to the struct
 * whose first u32 is its size. */
int ims_iommufd_ioctl(ims_iommufd *ctx, unsigned long cmd, void *arg, ims_drv_done done);

/* ioctl(device cdev fd, cmd, arg) for the device with source-id `sid`:
 * IMS_VFIO_DEVICE_BIND_IOMMUFD / ATTACH_IOMMUFD_PT / DETACH_IOMMUFD_PT (VFIO
 * argsz rules: argsz < minsz -> EINVAL, unknown flags -> EINVAL; only BIND
 * checks the tail for E2BIG). A second ATTACH replaces. */
int ims_iommufd_vfio_ioctl(ims_iommufd *ctx, uint16_t sid, unsigned long cmd, void *arg, ims_drv_done done);
/* close(device fd): detach every PASID and the RID, destroy the DEVICE
 * object. -ENOENT if the device is not bound. */
int ims_iommufd_vfio_close(ims_iommufd *ctx, uint16_t sid, ims_drv_done done);

/* The in-kernel device API under VFIO (iommufd_device_attach / _replace /
 * _detach): pasid IMS_DRV_NO_PASID = the RID. *pt_id: in an IOAS or HWPT id,
 * out the HWPT attached (an automatic one for an IOAS). Attach when already
 * attached -> -EBUSY; replace when not attached -> -EINVAL; detach when not
 * attached does nothing. */
int ims_iommufd_device_attach(ims_iommufd *ctx, uint32_t dev_id, uint32_t pasid, uint32_t *pt_id,
                              ims_drv_done done);
int ims_iommufd_device_replace(ims_iommufd *ctx, uint32_t dev_id, uint32_t pasid, uint32_t *pt_id,
                               ims_drv_done done);
int ims_iommufd_device_detach(ims_iommufd *ctx, uint32_t dev_id, uint32_t pasid, ims_drv_done done);

/* Typed wrappers: fill the struct, issue the ioctl, return its result. */
int ims_iommufd_ioas_alloc(ims_iommufd *ctx, uint32_t *ioas_id, ims_drv_done done);
/* flags: IMS_IOMMU_IOAS_MAP_*; with FIXED_IOVA *iova is the input. */
int ims_iommufd_ioas_map(ims_iommufd *ctx, uint32_t ioas_id, uint64_t hpa, uint64_t length, uint32_t flags,
                         uint64_t *iova, ims_drv_done done);
int ims_iommufd_ioas_unmap(ims_iommufd *ctx, uint32_t ioas_id, uint64_t iova, uint64_t length,
                           uint64_t *unmapped, ims_drv_done done);
int ims_iommufd_obj_destroy(ims_iommufd *ctx, uint32_t id, ims_drv_done done);
int ims_iommufd_hwpt_alloc(ims_iommufd *ctx, uint32_t dev_id, uint32_t pt_id, uint32_t flags, uint32_t data_type,
                           const void *data, uint32_t data_len, uint32_t *hwpt_id, ims_drv_done done);
/* *entry_num: in the number of entries, out the number handled (always). */
int ims_iommufd_hwpt_invalidate(ims_iommufd *ctx, uint32_t hwpt_id, uint32_t data_type, const void *entries,
                                uint32_t entry_len, uint32_t *entry_num, ims_drv_done done);
int ims_iommufd_bind(ims_iommufd *ctx, uint16_t sid, uint32_t *dev_id, ims_drv_done done);
/* VFIO attach (replace when attached); pasid IMS_DRV_NO_PASID = the RID. */
int ims_iommufd_attach(ims_iommufd *ctx, uint16_t sid, uint32_t pasid, uint32_t *pt_id, ims_drv_done done);
int ims_iommufd_detach(ims_iommufd *ctx, uint16_t sid, uint32_t pasid, ims_drv_done done);

/* Host RAM for IOAS backing from [host.mem_base, +host.mem_size): a bump
 * allocator, `align` a power of two (0 = 4 KiB). -ENOMEM when exhausted. */
int ims_iommufd_host_alloc(ims_iommufd *ctx, uint64_t length, uint64_t align, uint64_t *hpa);

/* Inspection (tests, checker, other models). */
ims_iommufd_obj_type ims_iommufd_obj_kind(const ims_iommufd *ctx, uint32_t id);
/* References other objects hold on `id` (DESTROY -> EBUSY while > 0). */
uint32_t ims_iommufd_obj_users(const ims_iommufd *ctx, uint32_t id);
ims_drv_domain *ims_iommufd_hwpt_domain(const ims_iommufd *ctx, uint32_t hwpt_id);
/* The bound device id of `sid`, 0 if none; the HWPT attached to (dev, pasid), 0 if none. */
uint32_t ims_iommufd_device_of_sid(const ims_iommufd *ctx, uint16_t sid);
uint32_t ims_iommufd_device_hwpt(const ims_iommufd *ctx, uint32_t dev_id, uint32_t pasid);
size_t ims_iommufd_ioas_area_count(const ims_iommufd *ctx, uint32_t ioas_id);
/* IOVA -> host-physical through the IOAS's areas: 0 or -ENOENT. */
int ims_iommufd_ioas_translate(const ims_iommufd *ctx, uint32_t ioas_id, uint64_t iova, uint64_t *hpa,
                               unsigned *prot);
uint64_t ims_iommufd_ioas_alignment(const ims_iommufd *ctx, uint32_t ioas_id);

/* Driver helpers with the kernel's user-data copy rules (include/linux/iommu.h
 * __iommu_copy_struct_from_user[_array], iommufd-facts §1.3): type !=
 * want_type -> -EINVAL; len < min_len or len > dst_size -> -EINVAL; NULL
 * source -> -EFAULT; a shorter struct is zero-extended into dst. The array form
 * copies entry `index` of `num` entries of entry_len bytes (index >= num or
 * num == 0 -> -EINVAL). */
int ims_iommufd_copy_struct_from_user(void *dst, size_t dst_size, size_t min_len, uint32_t want_type,
                                      uint32_t type, const void *uptr, uint32_t len);
int ims_iommufd_copy_struct_from_user_array(void *dst, size_t dst_size, size_t min_len, uint32_t want_type,
                                            uint32_t type, const void *uptr, uint32_t entry_len, uint32_t num,
                                            uint32_t index);

#ifdef __cplusplus
}
#endif
#endif
