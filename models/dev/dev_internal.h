/* Private state of an endpoint device, shared by device.c (DMA flow, data
 * transfer) and ats.c (ATS translation requests, invalidation handling). */
#ifndef IMS_DEV_DEV_INTERNAL_H
#define IMS_DEV_DEV_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/dev/device.h"
#include "models/dev/devtlb.h"
#include "models/dev/link.h"
#include "sim/resource.h"

/* A free list of fixed-size records, grown in chunks (no heap use in steady
 * state). Running out of host memory aborts: not an input error. */
typedef struct dev_pool {
    size_t size;
    void *free;
    void **chunks;
    size_t nchunks, cap;
} dev_pool;

void dev_pool_init(dev_pool *p, size_t size);
void dev_pool_fini(dev_pool *p);
void *dev_pool_get(dev_pool *p);
void dev_pool_put(dev_pool *p, void *obj);

/* How a piece is being translated. */
typedef enum piece_phase {
    PH_UNTRANSLATED = 0, /* no ATS: untranslated request */
    PH_ATS,              /* ATS translation request in flight */
    PH_TRANSLATED,       /* translated request with the device-TLB's HPA */
    PH_DENIED,           /* ATS denied the access: untranslated request so the IOMMU records the fault */
} piece_phase;

typedef struct dma_rec dma_rec;

/* One 4 KiB (or smaller) piece of a DMA in flight. */
typedef struct piece {
    ims_xlate_req xr;        /* the request to the IOMMU (xr.user = this) */
    ims_dev *dev;
    dma_rec *dma;
    uint64_t idx;            /* piece number within the DMA */
    uint64_t iova;
    uint32_t bytes;
    piece_phase phase;
    uint64_t hpa;            /* translated address used (TRANSLATED) */
    ims_devtlb_entry used;   /* device-TLB translation used (TRANSLATED) */
    ims_cycle t_ats;         /* ATS translation request sent */
    uint64_t inv_gen;        /* invalidation arrivals when the ATS request was sent */
} piece;

/* A DMA that holds an outstanding slot. */
struct dma_rec {
    ims_dma *op;
    uint64_t seq;            /* issue order, for invalidation drain */
    dma_rec *prev, *next;    /* in-flight list, oldest first */
    uint64_t npieces;
    uint64_t first_fault;    /* lowest faulting piece index, UINT64_MAX if none */
    unsigned active;         /* pieces in flight */
    bool stop;               /* a piece faulted: issue no more */
};

/* An ATS Invalidate Request on its way through the device. */
typedef struct inv_rec {
    ims_ats_inv_msg m;
    uint64_t threshold;      /* DMAs with seq < threshold must finish first */
    ims_cycle t_arrive;
    struct inv_rec *next;
} inv_rec;

struct ims_dev {
    ims_engine *engine;
    ims_mem_timing *mt;
    ims_dev_iommu iommu;
    uint16_t sid;
    char name[32];
    bool ats;
    bool drop_inv;
    uint64_t window;
    ims_cycle inv_cycles;
    ims_link link;
    ims_devtlb *tlb;         /* NULL without ATS */
    ims_slots out;           /* outstanding DMAs */
    ims_port inv_port;       /* invalidation processing, one at a time */
    dev_pool pieces, dmas, invs;
    /* in-flight DMAs ordered by seq */
    dma_rec *head, *tail;
    uint64_t next_seq;
    unsigned waiting;        /* DMAs waiting for a slot */
    unsigned active_dmas;
    /* invalidations waiting for their drain, FIFO */
    inv_rec *inv_head, *inv_tail;
    unsigned inv_busy;       /* accepted and not yet answered */
    uint64_t inv_arrivals;
    /* statistics */
    ims_counter own[9];
    ims_counter *c_count, *c_faults, *c_bytes, *c_xlate_req, *c_xlate_denied, *c_fill_skipped, *c_inv_req,
        *c_inv_dropped, *c_inv_bad;
    ims_latency *l_latency, *l_wait, *l_ats, *l_inv;
};

/* device.c */
void dev_piece_translate(ims_dev *d, piece *p, ims_vtd_req_type type, uint64_t addr);
void dev_piece_translated(ims_dev *d, piece *p, const ims_vtd_result *used);
void dev_piece_fault(ims_dev *d, piece *p, uint8_t fault);

/* ats.c */
/* Start a piece on an ATS device: device-TLB hit -> translated request, miss
 * -> ATS translation request over the link. */
void dev_ats_start(ims_dev *d, piece *p);
/* The IOMMU answered the ATS translation request of p. */
void dev_ats_xlate_done(ims_dev *d, piece *p);
/* A DMA left the in-flight list: invalidations may proceed. */
void dev_ats_check_invs(ims_dev *d);

static inline bool dev_perm_ok(const ims_dma *op, bool r, bool w, bool x)
{
    return (op->write ? w : r) && (!op->exec || x);
}

#endif
