/* Private state of the queued-invalidation engine, shared by qi.c (queue:
 * fetch, records, wait completion, errors) and qi_exec.c (what each
 * descriptor does to the caches, register-based invalidation, ATS ITags).
 * Not for use outside those two files. */
#ifndef IMS_VTD_QI_INTERNAL_H
#define IMS_VTD_QI_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "models/vtd/inv_desc.h"
#include "models/vtd/qi.h"

#define QI_NTAGS 32u              /* ATS ITags per endpoint (vtd-facts §6.2) */
#define QI_NO_SEQ UINT64_MAX
#define QI_NTYPES 10u             /* counters for types 1..9 (index 0 unused) */

/* One fetched descriptor, from its validation until it completes. */
typedef struct qi_rec {
    ims_qi_desc d;
    uint64_t off;                 /* byte offset in the queue it was fetched from */
    ims_cycle t_visible;          /* the IQT write that made it visible */
    uint16_t ats_dev;             /* device-TLB: index into q->devs */
    uint8_t itag;
    uint8_t ats_left;             /* device-TLB: ITags still outstanding */
    bool done;                    /* completed (a wait: status written, or aborted) */
    bool drained;                 /* wait: in-flight translations have finished */
    bool status_started;          /* wait: completion write under way; no longer abortable */
    bool aborted;                 /* wait: aborted by ITE */
} qi_rec;

/* ITag state of one endpoint. */
typedef struct qi_atsdev {
    uint16_t sid;
    uint32_t busy;                /* bit i: ITag i awaits a completion */
    unsigned next;                /* next ITag to try (rotating, so a late answer is not taken for a new one) */
    uint64_t owner[QI_NTAGS];     /* record sequence number */
    ims_event_id timer[QI_NTAGS];
    uint8_t got[QI_NTAGS];        /* completions received for the ITag */
    ims_cycle t_sent[QI_NTAGS];
} qi_atsdev;

struct ims_qi {
    ims_engine *engine;
    ims_physmem *mem;
    ims_mem_timing *mt;
    ims_vtd_regfile *rf;
    ims_vtd_caches *caches;
    ims_xlate *xlate;
    ims_ats_port ats;

    /* timing, in cycles */
    ims_cycle cost[QI_NTYPES];
    ims_cycle status_cycles, ats_timeout;
    unsigned fetch_batch;

    /* records: a ring indexed by sequence number; [first, next) are live */
    qi_rec *recs;
    uint64_t cap;                 /* power of two */
    uint64_t first, next;
    uint64_t exec_seq;            /* next record for the executor */
    bool exec_busy, exec_blocked; /* blocked: waiting for a free ITag */
    uint64_t fence_seq;           /* FN wait that holds fetching, or QI_NO_SEQ */

    /* fetch */
    bool fetch_busy;
    uint64_t fetch_head;
    unsigned fetch_n;
    ims_event_id fetch_ev, exec_ev, status_ev;

    /* when each 16-byte slot became visible (doorbell time) */
    ims_cycle *vis;
    uint8_t *vis_pend;
    uint64_t vis_slots;
    uint64_t last_tail;
    bool last_tail_valid;

    qi_atsdev *devs;
    unsigned ndevs, devs_cap;

    ims_qi_observer_fn observer;  /* ims_qi_set_observer */
    void *observer_ctx;

    /* statistics */
    ims_counter dummy;
    ims_counter *c_desc, *c_type[QI_NTYPES], *c_fetches, *c_iqe, *c_ite, *c_ice, *c_aborted, *c_inv;
    ims_counter *c_itag_stalls, *c_ats_sent, *c_ats_undeliverable, *c_ats_done, *c_ats_timeouts;
    ims_counter *c_reg_ccmd, *c_reg_iotlb, *c_removed;
    ims_latency *l_inv, *l_ats;
    ims_qi_time time;             /* ims_qi_time_get */
};

qi_rec *ims_qi_rec_(ims_qi *q, uint64_t seq); /* NULL unless live */
void ims_qi_retire_(ims_qi *q);
void ims_qi_exec_kick_(ims_qi *q);
void ims_qi_abort_waits_(ims_qi *q);

/* qi_exec.c */
/* Apply a non-wait descriptor's cache effect (types 1, 2, 4, 6, 7, 9). */
void ims_qi_apply_(ims_qi *q, const ims_qi_desc *d);
/* Device-TLB descriptors: take an ITag (false: none free for this SID) and,
 * after the issue cost, send the request and start its timer. */
bool ims_qi_itag_alloc_(ims_qi *q, qi_rec *r, uint64_t seq);
void ims_qi_ats_send_(ims_qi *q, qi_rec *r, uint64_t seq);
void ims_qi_ats_cancel_all_(ims_qi *q);

#endif
