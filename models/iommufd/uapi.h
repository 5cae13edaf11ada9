/* The iommufd user API as the simulated host kernel sees it: every argument
 * struct with the byte layout of Linux include/uapi/linux/iommufd.h (current
 * kernel, iommufd-facts [7.1mw], x86-64), the cdev ioctls of VFIO that bind
 * and attach devices, and the driver-data structs of Intel VT-d.
 *
 * Written from the facts (iommufd-facts §1), not copied. Names are the
 * kernel's with an ims_/IMS_ prefix so a reader can map them one to one;
 * `__reserved` fields are spelled `reserved`. Every size and offset is
 * checked at compile time below, so a layout slip cannot go unnoticed.
 *
 * Pointer-valued fields (data_uptr, allowed_iovas, data, ...) hold pointers in
 * the simulator's own address space; 0 is an unmapped user address (EFAULT). */
#ifndef IMS_IOMMUFD_UAPI_H
#define IMS_IOMMUFD_UAPI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- ioctl numbers (iommufd-facts §1.1, §1.2): _IO(';', nr) = 0x3B00 | nr */
#define IMS_IOMMUFD_TYPE 0x3Bu
#define IMS_IOMMUFD_IO(nr) ((IMS_IOMMUFD_TYPE << 8) | (nr))

#define IMS_IOMMUFD_CMD_BASE 0x80u
#define IMS_IOMMU_DESTROY IMS_IOMMUFD_IO(0x80u)
#define IMS_IOMMU_IOAS_ALLOC IMS_IOMMUFD_IO(0x81u)
#define IMS_IOMMU_IOAS_ALLOW_IOVAS IMS_IOMMUFD_IO(0x82u)
#define IMS_IOMMU_IOAS_COPY IMS_IOMMUFD_IO(0x83u)
#define IMS_IOMMU_IOAS_IOVA_RANGES IMS_IOMMUFD_IO(0x84u)
#define IMS_IOMMU_IOAS_MAP IMS_IOMMUFD_IO(0x85u)
#define IMS_IOMMU_IOAS_UNMAP IMS_IOMMUFD_IO(0x86u)
#define IMS_IOMMU_OPTION IMS_IOMMUFD_IO(0x87u)
#define IMS_IOMMU_VFIO_IOAS IMS_IOMMUFD_IO(0x88u)
#define IMS_IOMMU_HWPT_ALLOC IMS_IOMMUFD_IO(0x89u)
#define IMS_IOMMU_GET_HW_INFO IMS_IOMMUFD_IO(0x8Au)
#define IMS_IOMMU_HWPT_SET_DIRTY_TRACKING IMS_IOMMUFD_IO(0x8Bu)
#define IMS_IOMMU_HWPT_GET_DIRTY_BITMAP IMS_IOMMUFD_IO(0x8Cu)
#define IMS_IOMMU_HWPT_INVALIDATE IMS_IOMMUFD_IO(0x8Du)
#define IMS_IOMMU_FAULT_QUEUE_ALLOC IMS_IOMMUFD_IO(0x8Eu)
#define IMS_IOMMU_IOAS_MAP_FILE IMS_IOMMUFD_IO(0x8Fu)
#define IMS_IOMMU_VIOMMU_ALLOC IMS_IOMMUFD_IO(0x90u)
#define IMS_IOMMU_VDEVICE_ALLOC IMS_IOMMUFD_IO(0x91u)
#define IMS_IOMMU_IOAS_CHANGE_PROCESS IMS_IOMMUFD_IO(0x92u)
#define IMS_IOMMU_VEVENTQ_ALLOC IMS_IOMMUFD_IO(0x93u)
#define IMS_IOMMU_HW_QUEUE_ALLOC IMS_IOMMUFD_IO(0x94u)
#define IMS_IOMMUFD_CMD_LAST 0x94u

/* VFIO device cdev ioctls (VFIO_TYPE ';', VFIO_BASE 100), issued on a device. */
#define IMS_VFIO_DEVICE_BIND_IOMMUFD IMS_IOMMUFD_IO(100u + 18u)
#define IMS_VFIO_DEVICE_ATTACH_IOMMUFD_PT IMS_IOMMUFD_IO(100u + 19u)
#define IMS_VFIO_DEVICE_DETACH_IOMMUFD_PT IMS_IOMMUFD_IO(100u + 20u)

/* ---- IOMMU_DESTROY */
typedef struct ims_iommu_destroy {
    uint32_t size;
    uint32_t id;
} ims_iommu_destroy;

/* ---- IOMMU_IOAS_ALLOC */
typedef struct ims_iommu_ioas_alloc {
    uint32_t size;
    uint32_t flags;
    uint32_t out_ioas_id;
} ims_iommu_ioas_alloc;

/* ---- IOMMU_IOAS_IOVA_RANGES / ALLOW_IOVAS */
typedef struct ims_iommu_iova_range {
    uint64_t start;
    uint64_t last; /* inclusive */
} ims_iommu_iova_range;

typedef struct ims_iommu_ioas_iova_ranges {
    uint32_t size;
    uint32_t ioas_id;
    uint32_t num_iovas; /* in: capacity of allowed_iovas; out: total */
    uint32_t reserved;
    uint64_t allowed_iovas; /* ims_iommu_iova_range[] */
    uint64_t out_iova_alignment;
} ims_iommu_ioas_iova_ranges;

typedef struct ims_iommu_ioas_allow_iovas {
    uint32_t size;
    uint32_t ioas_id;
    uint32_t num_iovas;
    uint32_t reserved;
    uint64_t allowed_iovas;
} ims_iommu_ioas_allow_iovas;

/* ---- IOMMU_IOAS_MAP / COPY / UNMAP / MAP_FILE */
#define IMS_IOMMU_IOAS_MAP_FIXED_IOVA (1u << 0)
#define IMS_IOMMU_IOAS_MAP_WRITEABLE (1u << 1)
#define IMS_IOMMU_IOAS_MAP_READABLE (1u << 2)

typedef struct ims_iommu_ioas_map {
    uint32_t size;
    uint32_t flags;
    uint32_t ioas_id;
    uint32_t reserved;
    uint64_t user_va; /* simulated: host-physical address of the backing */
    uint64_t length;
    uint64_t iova; /* in with FIXED_IOVA, else out */
} ims_iommu_ioas_map;

typedef struct ims_iommu_ioas_map_file {
    uint32_t size;
    uint32_t flags;
    uint32_t ioas_id;
    int32_t fd;
    uint64_t start;
    uint64_t length;
    uint64_t iova;
} ims_iommu_ioas_map_file;

typedef struct ims_iommu_ioas_copy {
    uint32_t size;
    uint32_t flags;
    uint32_t dst_ioas_id;
    uint32_t src_ioas_id;
    uint64_t length;
    uint64_t dst_iova;
    uint64_t src_iova;
} ims_iommu_ioas_copy;

typedef struct ims_iommu_ioas_unmap {
    uint32_t size;
    uint32_t ioas_id;
    uint64_t iova;
    uint64_t length; /* in: bytes; out: bytes unmapped */
} ims_iommu_ioas_unmap;

/* ---- IOMMU_OPTION / IOMMU_VFIO_IOAS / IOMMU_IOAS_CHANGE_PROCESS */
#define IMS_IOMMU_OPTION_RLIMIT_MODE 0u
#define IMS_IOMMU_OPTION_HUGE_PAGES 1u
#define IMS_IOMMU_OPTION_OP_SET 0u
#define IMS_IOMMU_OPTION_OP_GET 1u

typedef struct ims_iommu_option {
    uint32_t size;
    uint32_t option_id;
    uint16_t op;
    uint16_t reserved;
    uint32_t object_id;
    uint64_t val64;
} ims_iommu_option;

#define IMS_IOMMU_VFIO_IOAS_GET 0u
#define IMS_IOMMU_VFIO_IOAS_SET 1u
#define IMS_IOMMU_VFIO_IOAS_CLEAR 2u

typedef struct ims_iommu_vfio_ioas {
    uint32_t size;
    uint32_t ioas_id;
    uint16_t op;
    uint16_t reserved;
} ims_iommu_vfio_ioas;

typedef struct ims_iommu_ioas_change_process {
    uint32_t size;
    uint32_t reserved;
} ims_iommu_ioas_change_process;

/* ---- IOMMU_HWPT_ALLOC */
#define IMS_IOMMU_HWPT_ALLOC_NEST_PARENT (1u << 0)
#define IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING (1u << 1)
#define IMS_IOMMU_HWPT_FAULT_ID_VALID (1u << 2)
#define IMS_IOMMU_HWPT_ALLOC_PASID (1u << 3)

#define IMS_IOMMU_HWPT_DATA_NONE 0u
#define IMS_IOMMU_HWPT_DATA_VTD_S1 1u
#define IMS_IOMMU_HWPT_DATA_ARM_SMMUV3 2u
#define IMS_IOMMU_HWPT_DATA_AMD_GUEST 3u

typedef struct ims_iommu_hwpt_alloc {
    uint32_t size;
    uint32_t flags;
    uint32_t dev_id;
    uint32_t pt_id; /* IOAS, HWPT_PAGING (nest parent) or vIOMMU */
    uint32_t out_hwpt_id;
    uint32_t reserved;
    uint32_t data_type;
    uint32_t data_len;
    uint64_t data_uptr;
    uint32_t fault_id; /* valid with IMS_IOMMU_HWPT_FAULT_ID_VALID */
    uint32_t reserved2;
} ims_iommu_hwpt_alloc;

/* Intel VT-d stage-1 data for IMS_IOMMU_HWPT_DATA_VTD_S1 */
#define IMS_IOMMU_VTD_S1_SRE (1u << 0)
#define IMS_IOMMU_VTD_S1_EAFE (1u << 1)
#define IMS_IOMMU_VTD_S1_WPE (1u << 2)

typedef struct ims_iommu_hwpt_vtd_s1 {
    uint64_t flags;
    uint64_t pgtbl_addr;
    uint32_t addr_width;
    uint32_t reserved;
} ims_iommu_hwpt_vtd_s1;

/* ---- IOMMU_GET_HW_INFO */
#define IMS_IOMMU_HW_INFO_FLAG_INPUT_TYPE (1u << 0)

#define IMS_IOMMU_HW_INFO_TYPE_NONE 0u
#define IMS_IOMMU_HW_INFO_TYPE_DEFAULT 0u
#define IMS_IOMMU_HW_INFO_TYPE_INTEL_VTD 1u
#define IMS_IOMMU_HW_INFO_TYPE_ARM_SMMUV3 2u
#define IMS_IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV 3u
#define IMS_IOMMU_HW_INFO_TYPE_AMD 4u

#define IMS_IOMMU_HW_CAP_DIRTY_TRACKING (1ull << 0)
#define IMS_IOMMU_HW_CAP_PCI_PASID_EXEC (1ull << 1)
#define IMS_IOMMU_HW_CAP_PCI_PASID_PRIV (1ull << 2)
#define IMS_IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED (1ull << 3)

typedef struct ims_iommu_hw_info {
    uint32_t size;
    uint32_t flags;
    uint32_t dev_id;
    uint32_t data_len; /* in: buffer length; out: length the kernel has */
    uint64_t data_uptr;
    union {
        uint32_t in_data_type;
        uint32_t out_data_type;
    };
    uint8_t out_max_pasid_log2;
    uint8_t reserved[3];
    uint64_t out_capabilities;
} ims_iommu_hw_info;

#define IMS_IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 (1u << 0)

typedef struct ims_iommu_hw_info_vtd {
    uint32_t flags;
    uint32_t reserved;
    uint64_t cap_reg;
    uint64_t ecap_reg;
} ims_iommu_hw_info_vtd;

/* ---- IOMMU_HWPT_SET_DIRTY_TRACKING / GET_DIRTY_BITMAP */
#define IMS_IOMMU_HWPT_DIRTY_TRACKING_ENABLE 1u

typedef struct ims_iommu_hwpt_set_dirty_tracking {
    uint32_t size;
    uint32_t flags;
    uint32_t hwpt_id;
    uint32_t reserved;
} ims_iommu_hwpt_set_dirty_tracking;

#define IMS_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR 1u

typedef struct ims_iommu_hwpt_get_dirty_bitmap {
    uint32_t size;
    uint32_t hwpt_id;
    uint32_t flags;
    uint32_t reserved;
    uint64_t iova;
    uint64_t length;
    uint64_t page_size;
    uint64_t data; /* uint64_t[] bitmap, bit i = page iova + i*page_size */
} ims_iommu_hwpt_get_dirty_bitmap;

/* ---- IOMMU_HWPT_INVALIDATE */
#define IMS_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 0u
#define IMS_IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 1u

typedef struct ims_iommu_hwpt_invalidate {
    uint32_t size;
    uint32_t hwpt_id;
    uint64_t data_uptr;
    uint32_t data_type;
    uint32_t entry_len;
    uint32_t entry_num; /* in: entries; out: entries handled (also on error) */
    uint32_t reserved;
} ims_iommu_hwpt_invalidate;

#define IMS_IOMMU_VTD_INV_FLAGS_LEAF (1u << 0)

typedef struct ims_iommu_hwpt_vtd_s1_invalidate {
    uint64_t addr; /* 4 KiB aligned; 0 with npages U64_MAX = everything */
    uint64_t npages;
    uint32_t flags;
    uint32_t reserved;
} ims_iommu_hwpt_vtd_s1_invalidate;

/* ---- IOMMU_FAULT_QUEUE_ALLOC and the fault records */
typedef struct ims_iommu_fault_alloc {
    uint32_t size;
    uint32_t flags;
    uint32_t out_fault_id;
    uint32_t out_fault_fd;
} ims_iommu_fault_alloc;

#define IMS_IOMMU_PGFAULT_FLAGS_PASID_VALID (1u << 0)
#define IMS_IOMMU_PGFAULT_FLAGS_LAST_PAGE (1u << 1)
#define IMS_IOMMU_PGFAULT_PERM_READ (1u << 0)
#define IMS_IOMMU_PGFAULT_PERM_WRITE (1u << 1)
#define IMS_IOMMU_PGFAULT_PERM_EXEC (1u << 2)
#define IMS_IOMMU_PGFAULT_PERM_PRIV (1u << 3)

typedef struct ims_iommu_hwpt_pgfault {
    uint32_t flags;
    uint32_t dev_id;
    uint32_t pasid;
    uint32_t grpid;
    uint32_t perm;
    uint32_t reserved;
    uint64_t addr;
    uint32_t length;
    uint32_t cookie;
} ims_iommu_hwpt_pgfault;

#define IMS_IOMMUFD_PAGE_RESP_SUCCESS 0u
#define IMS_IOMMUFD_PAGE_RESP_INVALID 1u

typedef struct ims_iommu_hwpt_page_response {
    uint32_t cookie;
    uint32_t code;
} ims_iommu_hwpt_page_response;

/* ---- vIOMMU family (no VT-d implementation in the kernel followed) */
#define IMS_IOMMU_VIOMMU_TYPE_DEFAULT 0u
#define IMS_IOMMU_VIOMMU_TYPE_ARM_SMMUV3 1u
#define IMS_IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV 2u

typedef struct ims_iommu_viommu_alloc {
    uint32_t size;
    uint32_t flags;
    uint32_t type;
    uint32_t dev_id;
    uint32_t hwpt_id;
    uint32_t out_viommu_id;
    uint32_t data_len;
    uint32_t reserved;
    uint64_t data_uptr;
} ims_iommu_viommu_alloc;

typedef struct ims_iommu_vdevice_alloc {
    uint32_t size;
    uint32_t viommu_id;
    uint32_t dev_id;
    uint32_t out_vdevice_id;
    uint64_t virt_id;
} ims_iommu_vdevice_alloc;

typedef struct ims_iommu_veventq_alloc {
    uint32_t size;
    uint32_t flags;
    uint32_t viommu_id;
    uint32_t type;
    uint32_t veventq_depth;
    uint32_t out_veventq_id;
    uint32_t out_veventq_fd;
    uint32_t reserved;
} ims_iommu_veventq_alloc;

#define IMS_IOMMU_VEVENTQ_FLAG_LOST_EVENTS (1u << 0)

typedef struct ims_iommufd_vevent_header {
    uint32_t flags;
    uint32_t sequence;
} ims_iommufd_vevent_header;

typedef struct ims_iommu_hw_queue_alloc {
    uint32_t size;
    uint32_t flags;
    uint32_t viommu_id;
    uint32_t type;
    uint32_t index;
    uint32_t out_hw_queue_id;
    uint64_t nesting_parent_iova;
    uint64_t length;
} ims_iommu_hw_queue_alloc;

/* ---- VFIO device cdev (include/uapi/linux/vfio.h) */
#define IMS_VFIO_DEVICE_BIND_FLAG_TOKEN (1u << 0)

typedef struct ims_vfio_device_bind_iommufd {
    uint32_t argsz;
    uint32_t flags;
    int32_t iommufd;
    uint32_t out_devid;
    uint64_t token_uuid_ptr;
} ims_vfio_device_bind_iommufd;

#define IMS_VFIO_DEVICE_ATTACH_PASID (1u << 0)

typedef struct ims_vfio_device_attach_iommufd_pt {
    uint32_t argsz;
    uint32_t flags;
    uint32_t pt_id; /* in: IOAS or HWPT; out: the HWPT attached */
    uint32_t pasid;
} ims_vfio_device_attach_iommufd_pt;

#define IMS_VFIO_DEVICE_DETACH_PASID (1u << 0)

typedef struct ims_vfio_device_detach_iommufd_pt {
    uint32_t argsz;
    uint32_t flags;
    uint32_t pasid;
} ims_vfio_device_detach_iommufd_pt;

/* ---- minimum sizes: offsetofend of the last field of the first version
 * (iommufd-facts §1.2 "min" column) */
#define IMS_OFFSETOFEND(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

#define IMS_IOMMU_DESTROY_MIN IMS_OFFSETOFEND(ims_iommu_destroy, id)
#define IMS_IOMMU_IOAS_ALLOC_MIN IMS_OFFSETOFEND(ims_iommu_ioas_alloc, out_ioas_id)
#define IMS_IOMMU_IOAS_ALLOW_IOVAS_MIN IMS_OFFSETOFEND(ims_iommu_ioas_allow_iovas, allowed_iovas)
#define IMS_IOMMU_IOAS_COPY_MIN IMS_OFFSETOFEND(ims_iommu_ioas_copy, src_iova)
#define IMS_IOMMU_IOAS_IOVA_RANGES_MIN IMS_OFFSETOFEND(ims_iommu_ioas_iova_ranges, out_iova_alignment)
#define IMS_IOMMU_IOAS_MAP_MIN IMS_OFFSETOFEND(ims_iommu_ioas_map, iova)
#define IMS_IOMMU_IOAS_UNMAP_MIN IMS_OFFSETOFEND(ims_iommu_ioas_unmap, length)
#define IMS_IOMMU_OPTION_MIN IMS_OFFSETOFEND(ims_iommu_option, val64)
#define IMS_IOMMU_VFIO_IOAS_MIN IMS_OFFSETOFEND(ims_iommu_vfio_ioas, reserved)
#define IMS_IOMMU_HWPT_ALLOC_MIN IMS_OFFSETOFEND(ims_iommu_hwpt_alloc, reserved)
#define IMS_IOMMU_GET_HW_INFO_MIN 32u /* offsetofend(__reserved) of the v6.6 layout */
#define IMS_IOMMU_HWPT_SET_DIRTY_TRACKING_MIN IMS_OFFSETOFEND(ims_iommu_hwpt_set_dirty_tracking, reserved)
#define IMS_IOMMU_HWPT_GET_DIRTY_BITMAP_MIN IMS_OFFSETOFEND(ims_iommu_hwpt_get_dirty_bitmap, data)
#define IMS_IOMMU_HWPT_INVALIDATE_MIN IMS_OFFSETOFEND(ims_iommu_hwpt_invalidate, reserved)
#define IMS_IOMMU_FAULT_QUEUE_ALLOC_MIN IMS_OFFSETOFEND(ims_iommu_fault_alloc, out_fault_fd)
#define IMS_IOMMU_IOAS_MAP_FILE_MIN IMS_OFFSETOFEND(ims_iommu_ioas_map_file, iova)
#define IMS_IOMMU_VIOMMU_ALLOC_MIN IMS_OFFSETOFEND(ims_iommu_viommu_alloc, out_viommu_id)
#define IMS_IOMMU_VDEVICE_ALLOC_MIN IMS_OFFSETOFEND(ims_iommu_vdevice_alloc, virt_id)
#define IMS_IOMMU_IOAS_CHANGE_PROCESS_MIN IMS_OFFSETOFEND(ims_iommu_ioas_change_process, reserved)
#define IMS_IOMMU_VEVENTQ_ALLOC_MIN IMS_OFFSETOFEND(ims_iommu_veventq_alloc, out_veventq_fd)
#define IMS_IOMMU_HW_QUEUE_ALLOC_MIN IMS_OFFSETOFEND(ims_iommu_hw_queue_alloc, length)
#define IMS_VFIO_DEVICE_BIND_IOMMUFD_MIN IMS_OFFSETOFEND(ims_vfio_device_bind_iommufd, out_devid)
#define IMS_VFIO_DEVICE_ATTACH_MIN IMS_OFFSETOFEND(ims_vfio_device_attach_iommufd_pt, pt_id)
#define IMS_VFIO_DEVICE_ATTACH_PASID_MIN IMS_OFFSETOFEND(ims_vfio_device_attach_iommufd_pt, pasid)
#define IMS_VFIO_DEVICE_DETACH_MIN IMS_OFFSETOFEND(ims_vfio_device_detach_iommufd_pt, flags)
#define IMS_VFIO_DEVICE_DETACH_PASID_MIN IMS_OFFSETOFEND(ims_vfio_device_detach_iommufd_pt, pasid)

/* Driver data: the kernel accepts data_len in [min, sizeof] (iommufd-facts §1.3
 * "Driver-data copy rules"); for both VT-d structs min = sizeof. */
#define IMS_IOMMU_HWPT_VTD_S1_MIN IMS_OFFSETOFEND(ims_iommu_hwpt_vtd_s1, reserved)
#define IMS_IOMMU_HWPT_VTD_S1_INVALIDATE_MIN IMS_OFFSETOFEND(ims_iommu_hwpt_vtd_s1_invalidate, reserved)

/* ---- layout checks: sizes and offsets of iommufd-facts §1.2/§1.3 (x86-64) */
#ifdef __cplusplus
#define IMS_UAPI_ASSERT static_assert
#else
#define IMS_UAPI_ASSERT _Static_assert
#endif
#define IMS_UAPI_OFF(t, f, o) IMS_UAPI_ASSERT(offsetof(t, f) == (o), #t "." #f " offset")
#define IMS_UAPI_SIZE(t, s) IMS_UAPI_ASSERT(sizeof(t) == (s), #t " size")

IMS_UAPI_SIZE(ims_iommu_destroy, 8);
IMS_UAPI_OFF(ims_iommu_destroy, id, 4);
IMS_UAPI_SIZE(ims_iommu_ioas_alloc, 12);
IMS_UAPI_OFF(ims_iommu_ioas_alloc, out_ioas_id, 8);
IMS_UAPI_SIZE(ims_iommu_iova_range, 16);
IMS_UAPI_SIZE(ims_iommu_ioas_iova_ranges, 32);
IMS_UAPI_OFF(ims_iommu_ioas_iova_ranges, num_iovas, 8);
IMS_UAPI_OFF(ims_iommu_ioas_iova_ranges, reserved, 12);
IMS_UAPI_OFF(ims_iommu_ioas_iova_ranges, allowed_iovas, 16);
IMS_UAPI_OFF(ims_iommu_ioas_iova_ranges, out_iova_alignment, 24);
IMS_UAPI_SIZE(ims_iommu_ioas_allow_iovas, 24);
IMS_UAPI_OFF(ims_iommu_ioas_allow_iovas, allowed_iovas, 16);
IMS_UAPI_SIZE(ims_iommu_ioas_map, 40);
IMS_UAPI_OFF(ims_iommu_ioas_map, flags, 4);
IMS_UAPI_OFF(ims_iommu_ioas_map, ioas_id, 8);
IMS_UAPI_OFF(ims_iommu_ioas_map, reserved, 12);
IMS_UAPI_OFF(ims_iommu_ioas_map, user_va, 16);
IMS_UAPI_OFF(ims_iommu_ioas_map, length, 24);
IMS_UAPI_OFF(ims_iommu_ioas_map, iova, 32);
IMS_UAPI_SIZE(ims_iommu_ioas_map_file, 40);
IMS_UAPI_OFF(ims_iommu_ioas_map_file, fd, 12);
IMS_UAPI_OFF(ims_iommu_ioas_map_file, start, 16);
IMS_UAPI_SIZE(ims_iommu_ioas_copy, 40);
IMS_UAPI_OFF(ims_iommu_ioas_copy, length, 16);
IMS_UAPI_OFF(ims_iommu_ioas_copy, dst_iova, 24);
IMS_UAPI_OFF(ims_iommu_ioas_copy, src_iova, 32);
IMS_UAPI_SIZE(ims_iommu_ioas_unmap, 24);
IMS_UAPI_OFF(ims_iommu_ioas_unmap, iova, 8);
IMS_UAPI_OFF(ims_iommu_ioas_unmap, length, 16);
IMS_UAPI_SIZE(ims_iommu_option, 24);
IMS_UAPI_OFF(ims_iommu_option, op, 8);
IMS_UAPI_OFF(ims_iommu_option, object_id, 12);
IMS_UAPI_OFF(ims_iommu_option, val64, 16);
IMS_UAPI_SIZE(ims_iommu_vfio_ioas, 12);
IMS_UAPI_SIZE(ims_iommu_ioas_change_process, 8);
IMS_UAPI_SIZE(ims_iommu_hwpt_alloc, 48);
IMS_UAPI_OFF(ims_iommu_hwpt_alloc, dev_id, 8);
IMS_UAPI_OFF(ims_iommu_hwpt_alloc, pt_id, 12);
IMS_UAPI_OFF(ims_iommu_hwpt_alloc, out_hwpt_id, 16);
IMS_UAPI_OFF(ims_iommu_hwpt_alloc, reserved, 20);
IMS_UAPI_OFF(ims_iommu_hwpt_alloc, data_type, 24);
IMS_UAPI_OFF(ims_iommu_hwpt_alloc, data_len, 28);
IMS_UAPI_OFF(ims_iommu_hwpt_alloc, data_uptr, 32);
IMS_UAPI_OFF(ims_iommu_hwpt_alloc, fault_id, 40);
IMS_UAPI_OFF(ims_iommu_hwpt_alloc, reserved2, 44);
IMS_UAPI_SIZE(ims_iommu_hwpt_vtd_s1, 24);
IMS_UAPI_OFF(ims_iommu_hwpt_vtd_s1, pgtbl_addr, 8);
IMS_UAPI_OFF(ims_iommu_hwpt_vtd_s1, addr_width, 16);
IMS_UAPI_OFF(ims_iommu_hwpt_vtd_s1, reserved, 20);
IMS_UAPI_SIZE(ims_iommu_hw_info, 40);
IMS_UAPI_OFF(ims_iommu_hw_info, dev_id, 8);
IMS_UAPI_OFF(ims_iommu_hw_info, data_len, 12);
IMS_UAPI_OFF(ims_iommu_hw_info, data_uptr, 16);
IMS_UAPI_OFF(ims_iommu_hw_info, in_data_type, 24);
IMS_UAPI_OFF(ims_iommu_hw_info, out_data_type, 24);
IMS_UAPI_OFF(ims_iommu_hw_info, out_max_pasid_log2, 28);
IMS_UAPI_OFF(ims_iommu_hw_info, reserved, 29);
IMS_UAPI_OFF(ims_iommu_hw_info, out_capabilities, 32);
IMS_UAPI_SIZE(ims_iommu_hw_info_vtd, 24);
IMS_UAPI_OFF(ims_iommu_hw_info_vtd, cap_reg, 8);
IMS_UAPI_OFF(ims_iommu_hw_info_vtd, ecap_reg, 16);
IMS_UAPI_SIZE(ims_iommu_hwpt_set_dirty_tracking, 16);
IMS_UAPI_OFF(ims_iommu_hwpt_set_dirty_tracking, hwpt_id, 8);
IMS_UAPI_SIZE(ims_iommu_hwpt_get_dirty_bitmap, 48);
IMS_UAPI_OFF(ims_iommu_hwpt_get_dirty_bitmap, hwpt_id, 4);
IMS_UAPI_OFF(ims_iommu_hwpt_get_dirty_bitmap, flags, 8);
IMS_UAPI_OFF(ims_iommu_hwpt_get_dirty_bitmap, iova, 16);
IMS_UAPI_OFF(ims_iommu_hwpt_get_dirty_bitmap, length, 24);
IMS_UAPI_OFF(ims_iommu_hwpt_get_dirty_bitmap, page_size, 32);
IMS_UAPI_OFF(ims_iommu_hwpt_get_dirty_bitmap, data, 40);
IMS_UAPI_SIZE(ims_iommu_hwpt_invalidate, 32);
IMS_UAPI_OFF(ims_iommu_hwpt_invalidate, hwpt_id, 4);
IMS_UAPI_OFF(ims_iommu_hwpt_invalidate, data_uptr, 8);
IMS_UAPI_OFF(ims_iommu_hwpt_invalidate, data_type, 16);
IMS_UAPI_OFF(ims_iommu_hwpt_invalidate, entry_len, 20);
IMS_UAPI_OFF(ims_iommu_hwpt_invalidate, entry_num, 24);
IMS_UAPI_OFF(ims_iommu_hwpt_invalidate, reserved, 28);
IMS_UAPI_SIZE(ims_iommu_hwpt_vtd_s1_invalidate, 24);
IMS_UAPI_OFF(ims_iommu_hwpt_vtd_s1_invalidate, npages, 8);
IMS_UAPI_OFF(ims_iommu_hwpt_vtd_s1_invalidate, flags, 16);
IMS_UAPI_OFF(ims_iommu_hwpt_vtd_s1_invalidate, reserved, 20);
IMS_UAPI_SIZE(ims_iommu_fault_alloc, 16);
IMS_UAPI_SIZE(ims_iommu_hwpt_pgfault, 40);
IMS_UAPI_OFF(ims_iommu_hwpt_pgfault, perm, 16);
IMS_UAPI_OFF(ims_iommu_hwpt_pgfault, addr, 24);
IMS_UAPI_OFF(ims_iommu_hwpt_pgfault, length, 32);
IMS_UAPI_OFF(ims_iommu_hwpt_pgfault, cookie, 36);
IMS_UAPI_SIZE(ims_iommu_hwpt_page_response, 8);
IMS_UAPI_SIZE(ims_iommu_viommu_alloc, 40);
IMS_UAPI_OFF(ims_iommu_viommu_alloc, hwpt_id, 16);
IMS_UAPI_OFF(ims_iommu_viommu_alloc, out_viommu_id, 20);
IMS_UAPI_OFF(ims_iommu_viommu_alloc, data_uptr, 32);
IMS_UAPI_SIZE(ims_iommu_vdevice_alloc, 24);
IMS_UAPI_OFF(ims_iommu_vdevice_alloc, virt_id, 16);
IMS_UAPI_SIZE(ims_iommu_veventq_alloc, 32);
IMS_UAPI_OFF(ims_iommu_veventq_alloc, out_veventq_fd, 24);
IMS_UAPI_SIZE(ims_iommufd_vevent_header, 8);
IMS_UAPI_SIZE(ims_iommu_hw_queue_alloc, 40);
IMS_UAPI_OFF(ims_iommu_hw_queue_alloc, nesting_parent_iova, 24);
IMS_UAPI_OFF(ims_iommu_hw_queue_alloc, length, 32);
IMS_UAPI_SIZE(ims_vfio_device_bind_iommufd, 24);
IMS_UAPI_OFF(ims_vfio_device_bind_iommufd, out_devid, 12);
IMS_UAPI_OFF(ims_vfio_device_bind_iommufd, token_uuid_ptr, 16);
IMS_UAPI_SIZE(ims_vfio_device_attach_iommufd_pt, 16);
IMS_UAPI_SIZE(ims_vfio_device_detach_iommufd_pt, 12);

/* The minimum sizes of iommufd-facts §1.2. */
IMS_UAPI_ASSERT(IMS_IOMMU_DESTROY_MIN == 8, "DESTROY min");
IMS_UAPI_ASSERT(IMS_IOMMU_IOAS_ALLOC_MIN == 12, "IOAS_ALLOC min");
IMS_UAPI_ASSERT(IMS_IOMMU_IOAS_ALLOW_IOVAS_MIN == 24, "ALLOW_IOVAS min");
IMS_UAPI_ASSERT(IMS_IOMMU_IOAS_COPY_MIN == 40, "COPY min");
IMS_UAPI_ASSERT(IMS_IOMMU_IOAS_IOVA_RANGES_MIN == 32, "IOVA_RANGES min");
IMS_UAPI_ASSERT(IMS_IOMMU_IOAS_MAP_MIN == 40, "MAP min");
IMS_UAPI_ASSERT(IMS_IOMMU_IOAS_UNMAP_MIN == 24, "UNMAP min");
IMS_UAPI_ASSERT(IMS_IOMMU_OPTION_MIN == 24, "OPTION min");
IMS_UAPI_ASSERT(IMS_IOMMU_VFIO_IOAS_MIN == 12, "VFIO_IOAS min");
IMS_UAPI_ASSERT(IMS_IOMMU_HWPT_ALLOC_MIN == 24, "HWPT_ALLOC min");
IMS_UAPI_ASSERT(IMS_IOMMU_HWPT_SET_DIRTY_TRACKING_MIN == 16, "SET_DIRTY min");
IMS_UAPI_ASSERT(IMS_IOMMU_HWPT_GET_DIRTY_BITMAP_MIN == 48, "GET_DIRTY min");
IMS_UAPI_ASSERT(IMS_IOMMU_HWPT_INVALIDATE_MIN == 32, "INVALIDATE min");
IMS_UAPI_ASSERT(IMS_IOMMU_FAULT_QUEUE_ALLOC_MIN == 16, "FAULT_QUEUE_ALLOC min");
IMS_UAPI_ASSERT(IMS_IOMMU_IOAS_MAP_FILE_MIN == 40, "MAP_FILE min");
IMS_UAPI_ASSERT(IMS_IOMMU_VIOMMU_ALLOC_MIN == 24, "VIOMMU_ALLOC min");
IMS_UAPI_ASSERT(IMS_IOMMU_VDEVICE_ALLOC_MIN == 24, "VDEVICE_ALLOC min");
IMS_UAPI_ASSERT(IMS_IOMMU_IOAS_CHANGE_PROCESS_MIN == 8, "CHANGE_PROCESS min");
IMS_UAPI_ASSERT(IMS_IOMMU_VEVENTQ_ALLOC_MIN == 28, "VEVENTQ_ALLOC min");
IMS_UAPI_ASSERT(IMS_IOMMU_HW_QUEUE_ALLOC_MIN == 40, "HW_QUEUE_ALLOC min");

#ifdef __cplusplus
}
#endif
#endif
