/* Internal state of the iommufd core, shared by its own files only
 * (iommufd.c, ioas.c, ioas_query.c, hwpt.c, device.c, iommufd_config.c).
 * Other models and tests use the public API in iommufd.h; this header is not
 * part of it. */
#ifndef IMS_IOMMUFD_IOMMUFD_INTERNAL_H
#define IMS_IOMMUFD_IOMMUFD_INTERNAL_H

#include "models/iommufd/iommufd.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ims_ifd_obj {
    ims_iommufd_obj_type type;
    uint32_t id;
    uint32_t users; /* references held by other objects and attachments */
} ims_ifd_obj;

typedef struct ims_ifd_area ims_ifd_area; /* tree node, ioas.c */
typedef struct ims_ifd_hwpt ims_ifd_hwpt;

typedef struct ims_ifd_resv {
    uint64_t start, last;
    const void *owner; /* device or domain that reserved it */
} ims_ifd_resv;

typedef struct ims_ifd_ioas {
    ims_ifd_obj obj;
    ims_ifd_area *root;
    size_t nareas;
    ims_ifd_resv *resv; /* sorted by start; may overlap (several owners) */
    size_t nresv, cresv;
    ims_iommufd_range *allowed; /* sorted, disjoint; none = everything */
    size_t nallowed;
    uint64_t iova_alignment;
    ims_ifd_hwpt **domains; /* paging HWPTs mirrored from this IOAS, oldest first */
    size_t ndomains, cdomains;
    bool huge_pages_off; /* IOMMU_OPTION_HUGE_PAGES = 0 */
    ims_ifd_area *dying; /* unmapped by a command whose flush is still in flight (ioas.c) */
} ims_ifd_ioas;

struct ims_ifd_hwpt {
    ims_ifd_obj obj; /* HWPT_PAGING or HWPT_NESTED */
    ims_drv_domain *domain;
    ims_ifd_ioas *ioas;    /* paging: the IOAS it mirrors */
    ims_ifd_hwpt *parent;  /* nested: the nest parent */
    ims_ifd_obj *fault;    /* FAULT_ID_VALID: the fault queue */
    bool nest_parent, auto_domain, dirty_tracking, pasid_compat;
};

typedef struct ims_ifd_attach {
    uint32_t pasid; /* IMS_DRV_NO_PASID = RID */
    ims_ifd_hwpt *hwpt;
} ims_ifd_attach;

typedef struct ims_ifd_device {
    ims_ifd_obj obj;
    uint16_t sid;
    ims_ifd_attach *att;
    size_t natt, catt;
} ims_ifd_device;

typedef struct ims_ifd_op ims_ifd_op;

/* One command in flight: its kernel-size argument copy, whether the output
 * is written back, and the completion that joins its driver calls. */
typedef struct ims_ifd_call {
    ims_iommufd *ctx;
    void *cmd;
    bool respond;
    ims_ifd_op *op;
    uint64_t pages; /* 4 KiB pages of map/unmap work charged */
} ims_ifd_call;

struct ims_iommufd {
    ims_drv drv;
    ims_engine *engine;
    ims_stats *stats;
    ims_counter *st_ioctls, *st_errors;
    ims_latency *st_latency;
    uint64_t syscall_ps, ioctl_ps, map_page_ps;
    uint64_t host_base, host_end, host_next;
    uint64_t aperture_last;
    ims_iommufd_range *dev_resv;
    size_t n_dev_resv;
    ims_ifd_obj **objs; /* index = id; [0] unused */
    size_t cobjs;
    ims_ifd_op *ops; /* in flight */
    size_t nops;
    size_t ndying; /* areas on the IOASes' dying lists */
    uint32_t vfio_ioas_id;
    bool account_mm;
    ims_error err;
};

/* iommufd.c: object table and completions */
int ims_ifd_obj_add(ims_iommufd *ctx, ims_ifd_obj *obj, ims_iommufd_obj_type type);
void ims_ifd_obj_remove(ims_iommufd *ctx, ims_ifd_obj *obj);
ims_ifd_obj *ims_ifd_obj_get(const ims_iommufd *ctx, uint32_t id, ims_iommufd_obj_type type); /* NONE = any */
/* A completion to hand to one driver call; undo with ims_ifd_drv_failed when
 * the call returns an error (it will never complete). */
ims_drv_done ims_ifd_drv_hold(ims_ifd_call *c);
void ims_ifd_drv_failed(ims_ifd_call *c);
int ims_ifd_fail(ims_iommufd *ctx, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* driver calls with the completion bookkeeping */
int ims_ifd_drv_map(ims_ifd_call *c, ims_drv_domain *d, uint64_t iova, uint64_t pa, uint64_t len, unsigned prot);
int ims_ifd_drv_unmap(ims_ifd_call *c, ims_drv_domain *d, uint64_t iova, uint64_t len);
int ims_ifd_drv_attach(ims_ifd_call *c, ims_drv_domain *d, uint16_t sid, uint32_t pasid);
int ims_ifd_drv_detach(ims_ifd_call *c, uint16_t sid, uint32_t pasid);

/* ioas.c */
ims_ifd_ioas *ims_ifd_ioas_new(ims_iommufd *ctx);
void ims_ifd_ioas_free(ims_iommufd *ctx, ims_ifd_ioas *ioas);
int ims_ifd_ioas_add_domain(ims_ifd_call *c, ims_ifd_ioas *ioas, ims_ifd_hwpt *hwpt);
void ims_ifd_ioas_remove_domain(ims_ifd_call *c, ims_ifd_ioas *ioas, ims_ifd_hwpt *hwpt);
int ims_ifd_ioas_reserve(ims_ifd_ioas *ioas, uint64_t start, uint64_t last, const void *owner);
void ims_ifd_ioas_unreserve(ims_ifd_ioas *ioas, const void *owner);
/* Every area of [iova, iova+len) mapped without holes. */
bool ims_ifd_ioas_contiguous(const ims_ifd_ioas *ioas, uint64_t iova, uint64_t last);
bool ims_ifd_ioas_reserved_hit(const ims_ifd_ioas *ioas, uint64_t start, uint64_t last);
int ims_ifd_ioas_option_huge_pages(ims_ifd_call *c, ims_iommu_option *cmd);
void ims_ifd_ioas_each_area(const ims_ifd_ioas *ioas, void (*fn)(void *arg, uint64_t iova, uint64_t last),
                            void *arg);
/* The driver work of command `op` is done: the areas it unmapped leave their
 * IOAS and free their IOVA (iopt_unmap_iova_range removes an area only after
 * iopt_area_unfill_domains, i.e. after the IOTLB flush). */
void ims_ifd_ioas_reap(ims_iommufd *ctx, const ims_ifd_op *op);

/* hwpt.c */
void ims_ifd_hwpt_free(ims_ifd_call *c, ims_ifd_hwpt *hwpt);
int ims_ifd_hwpt_paging_new(ims_ifd_call *c, ims_ifd_ioas *ioas, ims_ifd_device *dev, uint32_t pasid,
                            uint32_t flags, bool immediate_attach, ims_ifd_hwpt **out);
/* Drop one attachment reference; an automatic domain dies with its last. */
void ims_ifd_hwpt_put(ims_ifd_call *c, ims_ifd_hwpt *hwpt);

/* device.c */
/* Attach (-EBUSY if this pasid is attached) / detach and drop the reference
 * (false if it was not attached). */
int ims_ifd_hwpt_attach(ims_ifd_call *c, ims_ifd_hwpt *hwpt, ims_ifd_device *dev, uint32_t pasid);
bool ims_ifd_hwpt_detach(ims_ifd_call *c, ims_ifd_device *dev, uint32_t pasid);

/* command handlers (the dispatch table in iommufd.c) */
int ims_ifd_cmd_destroy(ims_ifd_call *c);
int ims_ifd_cmd_ioas_alloc(ims_ifd_call *c);
int ims_ifd_cmd_ioas_allow_iovas(ims_ifd_call *c);
int ims_ifd_cmd_ioas_copy(ims_ifd_call *c);
int ims_ifd_cmd_ioas_iova_ranges(ims_ifd_call *c);
int ims_ifd_cmd_ioas_map(ims_ifd_call *c);
int ims_ifd_cmd_ioas_unmap(ims_ifd_call *c);
int ims_ifd_cmd_option(ims_ifd_call *c);
int ims_ifd_cmd_vfio_ioas(ims_ifd_call *c);
int ims_ifd_cmd_hwpt_alloc(ims_ifd_call *c);
int ims_ifd_cmd_get_hw_info(ims_ifd_call *c);
int ims_ifd_cmd_set_dirty_tracking(ims_ifd_call *c);
int ims_ifd_cmd_get_dirty_bitmap(ims_ifd_call *c);
int ims_ifd_cmd_hwpt_invalidate(ims_ifd_call *c);
int ims_ifd_cmd_fault_alloc(ims_ifd_call *c);
int ims_ifd_cmd_ioas_map_file(ims_ifd_call *c);
int ims_ifd_cmd_viommu_alloc(ims_ifd_call *c);
int ims_ifd_cmd_vdevice_alloc(ims_ifd_call *c);
int ims_ifd_cmd_ioas_change_process(ims_ifd_call *c);
int ims_ifd_cmd_veventq_alloc(ims_ifd_call *c);
int ims_ifd_cmd_hw_queue_alloc(ims_ifd_call *c);

/* Begin / end a command outside the ioctl path (VFIO, device API). */
int ims_ifd_call_begin(ims_iommufd *ctx, ims_ifd_call *c, void *cmd, ims_drv_done done);
int ims_ifd_call_end(ims_ifd_call *c, int rc);

/* iommufd_config.c: read the keys into ctx (cfg NULL = defaults). */
int ims_ifd_read_config(ims_iommufd *ctx, const ims_config *cfg, ims_error *err);

/* Index of the first non-zero byte of p[from, to), or `to` when all are zero:
 * the kernel's rule that bytes a caller passes beyond our struct must be zero
 * (else E2BIG), shared by the iommufd ioctls and the VFIO device ioctls. */
static inline uint32_t ims_ifd_first_nonzero(const void *p, uint32_t from, uint32_t to)
{
    const unsigned char *u = p;
    for (uint32_t i = from; i < to; i++)
        if (u[i])
            return i;
    return to;
}

#ifdef __cplusplus
}
#endif
#endif
