/* Private state of the guest model: guest.c (domains, map/unmap, flush
 * queue, translate), guest_ctx.c (root/context/PASID tables in guest memory)
 * and guest_qi.c (the invalidation queue and qi_submit_sync). */
#ifndef IMS_GUEST_INTERNAL_H
#define IMS_GUEST_INTERNAL_H

#include "models/guest/guest.h"
#include "models/mem/pa_alloc.h"
#include "models/vtd/inv_desc.h"
#include "models/vtd/pt_builder.h"

#define GUEST_QSIZE 256u        /* descriptors, as Linux's QI queue */
#define GUEST_MAX_BATCH 16u     /* descriptors per submission before the wait (Linux 6.12+) */

typedef struct gdev {
    uint16_t sid;
    bool ats;
    unsigned pasid_bits;
    bool ctx_done;              /* context entry written and invalidated */
    uint64_t pasid_dir;         /* GPA */
    unsigned pdts;
} gdev;

typedef struct fq_entry {
    uint64_t iova, len;
    ims_cycle t_clear;
} fq_entry;

typedef struct gdom {
    ims_guest *g;
    bool ready;
    uint16_t sid;
    uint32_t pasid;             /* guest PASID: 0 is the RID's domain */
    uint16_t did;
    bool fs;                    /* first-stage (nested) or second-stage tables */
    bool sva;
    ims_pt_builder pt;
    uint64_t pending_root;      /* table hook: the next table is this GPA (SVA root) */
    fq_entry *fq;
    unsigned nfq, fq_cap;
    ims_event_id fq_timer;
    struct gop *waiters;        /* operations waiting for the domain's setup */
} gdom;

/* A guest operation in flight (map/unmap waiting for setup or a flush). */
typedef struct gop gop;
struct gop {
    gop *next;
    ims_guest *g;
    int kind;
    int dom;
    uint64_t iova, gpa, len;
    bool read, write;
    ims_cycle t_clear;
    uint64_t desc[4][4];        /* invalidation to submit after the guest's work */
    unsigned ndesc;
    ims_drv_done done;
};

/* One qi_submit_sync (or raw descriptor push) waiting for the queue. */
typedef struct gsub gsub;
struct gsub {
    gsub *next;
    uint64_t (*desc)[4];
    unsigned n;
    bool wait;                  /* append a wait descriptor and spin on it */
    ims_cycle t_start;
    void (*fn)(ims_guest *g, void *ctx, int status);
    void *ctx;
};

struct ims_guest {
    ims_engine *engine;
    ims_physmem *mem;
    ims_vmm *vmm;
    ims_stats *stats;
    void (*on_sync)(void *ctx, unsigned vm);
    void *sync_ctx;
    unsigned vm;
    bool nested;                /* the vIOMMU offers first-stage tables */
    bool lazy;
    unsigned fq_limit;
    uint64_t fq_timeout;        /* cycles */
    uint64_t c_map, c_pte, c_submit, c_desc, c_poll;
    uint64_t ram_hpa, ram_size, pool_gpa;
    ims_pa_alloc pool;          /* HPAs of the pool */

    uint64_t root_gpa, queue_gpa, status_gpa;
    unsigned tail;
    uint32_t wait_seq;

    gdev *devs;
    unsigned ndevs, devs_cap;
    gdom **doms;                /* stable pointers (table hooks keep them) */
    unsigned ndoms, doms_cap;
    uint16_t next_did;

    gsub *subs, *subs_tail;     /* FIFO; the head is in progress when busy */
    bool busy;
    unsigned pending;

    ims_latency *l_total, *l_guest, *l_exit, *l_vmm, *l_host, *l_hw, *l_devtlb, *l_exposure;
    ims_counter *c_maps, *c_unmaps, *c_flushes, *c_forced;
};

/* guest_ctx.c */
uint64_t ims_guest_alloc_page_(ims_guest *g);   /* zeroed pool page, its GPA; 0 when exhausted */
bool ims_guest_write_gpa_(ims_guest *g, uint64_t gpa, const void *buf, size_t len);
bool ims_guest_read_gpa_(ims_guest *g, uint64_t gpa, void *buf, size_t len);
/* Write the device's context entry (allocating its context table and PASID
 * directory): -ENOMEM when the pool is exhausted. */
int ims_guest_write_context_(ims_guest *g, gdev *d);
/* Write (present) or clear the PASID entry of a domain. */
int ims_guest_write_pasid_entry_(ims_guest *g, gdev *d, const gdom *dom, bool present);

/* guest.c: the assigned device with this SID, NULL if none */
gdev *ims_guest_dev_(ims_guest *g, uint16_t sid);

/* guest_dom.c */
void ims_guest_free_domains_(ims_guest *g);

/* guest_qi.c */
/* Queue a submission of n descriptors (copied); fn(g, ctx, status) runs when
 * the guest has seen its wait complete (or, without wait, after the exit). */
int ims_guest_submit_(ims_guest *g, const uint64_t (*desc)[4], unsigned n, bool wait,
                      void (*fn)(ims_guest *g, void *ctx, int status), void *ctx);

#endif
