/* Private state of the VMM model, shared by vmm.c (VM setup, guest-structure
 * reads), viommu.c (trapped queue processing and the ioctl executor) and
 * vmm_shadow.c (shadow page-table sync). */
#ifndef IMS_VMM_INTERNAL_H
#define IMS_VMM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "models/vmm/vmm.h"
#include "models/vtd/inv_desc.h"

/* Shadow record: IOVA of a mirrored leaf -> HPA | log2(size), open addressing. */
typedef struct vmm_pmap {
    uint64_t *keys;  /* iova + 1 (0 = empty) */
    uint64_t *vals;  /* hpa | prot << 8 | size_shift */
    uint64_t cap, count;
} vmm_pmap;

/* What the guest has programmed for one (device, PASID): guest PASID 0 is
 * the RID (the guest's context entries use RID_PASID 0). */
typedef struct vmm_binding {
    bool used;
    uint16_t sid;
    uint32_t pasid;
    uint16_t did;        /* guest DID */
    unsigned pgtt;       /* IMS_VTD_PGTT_FS (nested) or _SS (shadow) */
    uint64_t root_gpa;
    unsigned levels;
    uint32_t flags;      /* nested: IMS_IOMMU_VTD_S1_* */
    uint32_t hwpt;       /* nested HWPT, 0 before it exists */
    uint32_t ioas;       /* shadow IOAS, 0 before it exists */
    vmm_pmap shadow;
} vmm_binding;

typedef enum vmm_act_kind {
    ACT_COST = 1,        /* only vmm time */
    ACT_HWPT_INVAL,      /* binding's nested HWPT: one entry */
    ACT_NESTED_ALLOC,    /* binding's nested HWPT from its PASID entry */
    ACT_SHADOW_ALLOC,    /* binding's shadow IOAS */
    ACT_SHADOW_MAP,
    ACT_SHADOW_UNMAP,
    ACT_ATTACH,          /* sid/pasid to the binding's HWPT or IOAS, or (binding < 0) the GPA space */
    ACT_DESTROY,         /* an object id */
    ACT_STATUS,          /* wait descriptor status write into guest memory */
} vmm_act_kind;

typedef struct vmm_act {
    vmm_act_kind kind;
    uint64_t cost;       /* vmm cycles before the action */
    int b;               /* binding index, -1 none */
    uint16_t sid;
    uint32_t pasid;
    uint32_t id;
    uint64_t a, len, hpa; /* iova/addr, length or npages, hpa or status data */
    unsigned prot;
    bool leaf;
} vmm_act;

struct ims_vmm {
    ims_engine *engine;
    ims_physmem *mem;
    ims_iommufd *ifd;
    ims_qi *qi;
    ims_stats *stats;
    unsigned id;
    bool shadow;
    uint64_t ram_hpa, ram_size;

    /* costs, cycles */
    uint64_t c_exit, c_entry, c_decode, c_forward, c_walk, c_notify;

    uint16_t *sids;
    unsigned nsids, sids_cap;
    uint32_t ioas;        /* GPA IOAS */
    uint32_t parent;      /* nested: NEST_PARENT HWPT */
    bool started;

    /* vIOMMU registers */
    uint64_t root_gpa;
    bool root_set;
    uint64_t iqa_gpa;
    unsigned qsize, head;
    bool queue_set, iqe;

    vmm_binding *b;
    unsigned nb, b_cap;

    /* the exit being handled */
    bool busy;
    unsigned tail;
    ims_vmm_exit_fn fn;
    void *fn_ctx;
    ims_vmm_layers layers;
    ims_qi_time t0;
    vmm_act *acts;
    unsigned nacts, acts_cap, next_act;
    ims_cycle call_start;
    bool in_call, call_early;

    /* start-up */
    ims_drv_done start_done;
    unsigned start_step;

    unsigned pending;
    ims_vmm_counters n;
    ims_counter *s_exits, *s_desc, *s_hwpt_inval, *s_maps, *s_unmaps, *s_attach;
};

/* vmm.c: guest structures */
bool ims_vmm_read_gpa_(ims_vmm *v, uint64_t gpa, void *buf, size_t len);
/* The guest's PASID entry of (sid, pasid): true and qw[8] when the chain
 * root -> context -> PASID directory -> table is present; counts reads. */
bool ims_vmm_guest_pasid_entry_(ims_vmm *v, uint16_t sid, uint32_t pasid, uint64_t qw[8], unsigned *reads);
int ims_vmm_binding_find_(const ims_vmm *v, uint16_t sid, uint32_t pasid);
int ims_vmm_binding_new_(ims_vmm *v, uint16_t sid, uint32_t pasid);
void ims_vmm_binding_free_(ims_vmm *v, int b);

/* viommu.c */
vmm_act *ims_vmm_act_(ims_vmm *v, vmm_act_kind kind, uint64_t cost);

/* vmm_shadow.c */
void ims_vmm_pmap_free_(vmm_pmap *m);
/* Mirror the guest's second-stage table of binding b over [first, last]
 * into actions; whole = the whole domain (DSI/global/new binding). */
void ims_vmm_shadow_sync_(ims_vmm *v, int b, uint64_t first, uint64_t last, bool whole);

#endif
