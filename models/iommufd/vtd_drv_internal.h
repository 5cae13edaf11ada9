/* Private state of the VT-d host driver, shared by its source files:
 * vtd_driver.c (create, devices, hw_info, ops table), vtd_drv_qi.c
 * (qi_submit_sync), vtd_drv_domain.c (domains, DIDs, map/unmap, cache tags),
 * vtd_drv_pasid.c (context/PASID entries, attach/detach), vtd_drv_inval.c
 * (HWPT_INVALIDATE), vtd_drv_dirty.c (dirty tracking). */
#ifndef IMS_IOMMUFD_VTD_DRV_INTERNAL_H
#define IMS_IOMMUFD_VTD_DRV_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "models/iommufd/vtd_driver.h"
#include "models/vtd/ctx_builder.h"
#include "models/vtd/pt_builder.h"

#define DRV_QI_LEN 256u   /* QI_LENGTH: descriptors in the queue */
#define DRV_QI_BATCH 16u  /* QI_MAX_BATCHED_DESC_COUNT */
#define DRV_RID_PASID 0u  /* IOMMU_NO_PASID: requests without PASID use PASID 0 */
#define DRV_DID_FIRST 2u  /* IDA_START_DID: 0 is caching mode's, 1 FLPT_DEFAULT_DID */
#define DRV_MASK_ALL 52u  /* MAX_AGAW_PFN_WIDTH: an address mask meaning "everything" */

/* ---- queued invalidation ------------------------------------------------------- */

typedef struct drv_op drv_op;

/* One qi_submit_sync call: up to 16 descriptors (the wait is added on submit). */
typedef struct drv_batch {
    struct drv_batch *next;
    drv_op *op;
    unsigned n;
    unsigned retries;
    uint64_t qw[DRV_QI_BATCH][4];
} drv_batch;

/* The blocking part of one driver call: its batches, in order. */
struct drv_op {
    drv_batch *head, *tail; /* built, not yet handed to the queue */
    bool cut;               /* the next descriptor starts a new batch */
    int err;                /* building failed (ENOMEM) */
    int status;             /* first error of a finished batch */
    unsigned left;          /* batches not finished */
    ims_drv_done done;
    ims_event_id ev;        /* completion event of an op without batches */
    drv_op *next_idle;      /* list of such ops (cancelled on destroy) */
};

/* ---- devices, domains, cache tags ------------------------------------------------ */

typedef enum drv_tag_type {
    TAG_IOTLB = 1,
    TAG_DEVTLB,
    TAG_NESTING_IOTLB,
    TAG_NESTING_DEVTLB,
} drv_tag_type;

typedef struct drv_dev drv_dev;

/* What a flush of a domain must reach (Linux cache tags, iommufd-facts §2.4). */
typedef struct drv_tag {
    drv_tag_type type;
    uint16_t did;
    uint32_t pasid;
    drv_dev *dev;      /* device-TLB tags */
    unsigned users;
} drv_tag;

typedef struct drv_att {
    uint32_t pasid;    /* DRV_RID_PASID for the RID */
    ims_drv_domain *dom;
} drv_att;

struct drv_dev {
    uint16_t sid;
    bool ats;          /* device-TLB in use (device ATS and ECAP.DT) */
    unsigned mip;      /* descriptor MIP/QDEP field */
    unsigned pasid_bits; /* usable PASID width, 0 without PASID */
    bool pri;
    drv_att *att;
    unsigned natt, catt;
};

struct ims_drv_domain {
    ims_vtd_drv *drv;
    ims_drv_domain *prev, *next; /* all domains of the driver */
    ims_vtd_drv_dom_kind kind;
    uint32_t flags;
    bool nest_parent, dirty_ops, dirty_tracking;
    uint16_t did;
    unsigned did_users;          /* attachments holding the DID */
    unsigned attached;           /* (device, PASID) attachments */
    /* paging domains */
    ims_pt_builder pt;
    unsigned aw;                 /* SS AGAW encoding (AW field) */
    /* nest parent: its nested children */
    ims_drv_domain **kids;
    unsigned nkids, ckids;
    /* nested */
    ims_drv_domain *parent;
    uint64_t s1_flags, s1_pgtbl;
    uint32_t s1_addr_width;
    /* cache tags, in assignment order (one unit: Linux appends) */
    drv_tag *tags;
    unsigned ntags, ctags;
};

/* ---- the driver ------------------------------------------------------------------- */

struct ims_vtd_drv {
    ims_engine *engine;
    ims_physmem *mem;
    ims_pa_alloc *alloc;
    ims_vtd_unit *unit;
    ims_stats *stats;
    uint64_t cap, ecap;
    bool scalable, ready;
    unsigned agaw;               /* AW of second-stage tables (levels = agaw + 2) */
    ims_vtd_ctx_builder cb;
    ims_drv_done ready_cb;
    /* costs (cycles) and limits */
    ims_cycle desc_cycles, submit_cycles, poll_cycles;
    unsigned ite_retries;
    /* DIDs */
    uint64_t *did_map;
    unsigned ndoms;
    /* devices and domains */
    drv_dev *devs;
    unsigned ndevs, cdevs;
    ims_drv_domain *domains;
    /* invalidation queue */
    uint64_t iq_base, status_base;
    unsigned desc_bytes, qi_shift;
    unsigned free_head;
    drv_batch *pend_head, *pend_tail; /* waiting for the queue */
    drv_batch *cur;                   /* in the hardware queue */
    unsigned cur_first, cur_wait;     /* its slots */
    uint32_t cur_data;                /* status data its wait writes */
    ims_cycle cur_t;                  /* IQT write */
    ims_event_id qi_ev;
    uint32_t seq;
    uint64_t batches;
    drv_op *idle_ops;
    /* descriptor log */
    ims_vtd_drv_log_entry *log;
    uint64_t log_depth, log_total;
    ims_vtd_drv_counters ctr;
    ims_counter *c_submits, *c_descs, *c_iqe, *c_ite, *c_retries;
    ims_latency *l_submit;
};

/* ---- vtd_drv_qi.c ------------------------------------------------------------------ */
drv_op *drv_op_new(void);
void drv_op_add(drv_op *op, const uint64_t qw[4]);
/* End of one qi_submit_sync: the next descriptor opens a new batch. */
void drv_op_cut(drv_op *op);
bool drv_op_empty(const drv_op *op);
/* Hand the op to the queue (done runs when its last batch finished, or at once
 * from an event when it has none). Returns 0 or -ENOMEM (op freed, no done). */
int drv_op_start(ims_vtd_drv *d, drv_op *op, ims_drv_done done);
void drv_op_free(drv_op *op);
int drv_qi_init(ims_vtd_drv *d, ims_error *err);
void drv_qi_cancel_all(ims_vtd_drv *d);

/* MMIO helpers (vtd_driver.c). */
uint64_t drv_rd(ims_vtd_drv *d, uint64_t off, unsigned size);
int drv_wr(ims_vtd_drv *d, uint64_t off, unsigned size, uint64_t v);
/* One GCMD command (current enables plus/minus `bit`), checked in GSTS. */
int drv_gcmd(ims_vtd_drv *d, uint32_t bit, bool set);
bool drv_te(ims_vtd_drv *d);
drv_dev *drv_find_dev(ims_vtd_drv *d, uint16_t sid);

/* ---- descriptor builders with the driver's conventions (vtd_drv_domain.c) ---------- */
void drv_add_iotlb_dsi(ims_vtd_drv *d, drv_op *op, uint16_t did);
void drv_add_iotlb_psi_or_dsi(ims_vtd_drv *d, drv_op *op, uint16_t did, uint64_t addr, unsigned mask, bool ih);
void drv_add_piotlb(drv_op *op, uint16_t did, uint32_t pasid, uint64_t addr, unsigned mask, bool ih);
void drv_add_devtlb(ims_vtd_drv *d, drv_op *op, const drv_dev *dev, uint32_t pasid, uint64_t addr,
                    unsigned mask);

/* ---- domains (vtd_drv_domain.c) ----------------------------------------------------- */
int drv_domain_alloc_paging(void *drv, uint16_t sid, uint32_t flags, ims_drv_domain **out);
int drv_domain_alloc_nested(void *drv, uint16_t sid, ims_drv_domain *parent, uint32_t flags, uint32_t data_type,
                            const void *data, uint32_t len, ims_drv_domain **out);
int drv_domain_free(void *drv, ims_drv_domain *dom);
int drv_map(void *drv, ims_drv_domain *dom, uint64_t iova, uint64_t pa, uint64_t len, unsigned prot,
            ims_drv_done done);
int drv_unmap(void *drv, ims_drv_domain *dom, uint64_t iova, uint64_t len, ims_drv_done done);
void drv_domain_free_all(ims_vtd_drv *d);
/* DID reference for one more / one less attachment. */
int drv_domain_get_did(ims_drv_domain *dom);
void drv_domain_put_did(ims_drv_domain *dom);
/* Cache tags of an attachment (and the parent's nesting tags). */
int drv_tags_assign(ims_drv_domain *dom, drv_dev *dev, uint32_t pasid);
void drv_tags_unassign(ims_drv_domain *dom, drv_dev *dev, uint32_t pasid);
/* cache_tag_flush_range: the descriptors flushing [start, end] of dom. */
void drv_flush_range(ims_vtd_drv *d, drv_op *op, ims_drv_domain *dom, uint64_t start, uint64_t end, bool ih);

/* ---- attach (vtd_drv_pasid.c) ------------------------------------------------------- */
int drv_attach(void *drv, ims_drv_domain *dom, uint16_t sid, uint32_t pasid, ims_drv_done done);
int drv_detach(void *drv, uint16_t sid, uint32_t pasid, ims_drv_done done);
int drv_setup_sm_context(ims_vtd_drv *d, drv_dev *dev, ims_error *err);
/* PASID-entry address of an attachment (scalable mode), or 0. */
uint64_t drv_pasid_entry_pa(ims_vtd_drv *d, const drv_dev *dev, uint32_t pasid);
/* The Table 28 sequence after changing a present PASID entry (vtd-facts §4.12). */
void drv_flush_pasid_entry(ims_vtd_drv *d, drv_op *op, const drv_dev *dev, uint32_t pasid, uint16_t did,
                           unsigned pgtt);

/* ---- user invalidation, dirty tracking ----------------------------------------------- */
int drv_cache_invalidate_user(void *drv, ims_drv_domain *dom, uint32_t data_type, const void *entries,
                              uint32_t entry_len, uint32_t *num, ims_drv_done done);
int drv_set_dirty_tracking(void *drv, ims_drv_domain *dom, bool enable, ims_drv_done done);
int drv_read_and_clear_dirty(void *drv, ims_drv_domain *dom, uint64_t iova, uint64_t len, uint64_t page_size,
                             uint64_t *bitmap, bool no_clear, ims_drv_done done);

/* Capability predicates (Linux names, iommufd-facts §2.1). */
static inline bool drv_sm(const ims_vtd_drv *d) { return d->scalable; }
bool drv_nested_supported(const ims_vtd_drv *d);
bool drv_ssads_supported(const ims_vtd_drv *d);
bool drv_pasid_supported(const ims_vtd_drv *d);

#endif
