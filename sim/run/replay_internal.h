/* Private state of the trace replay, shared by replay.c (driver: reading,
 * timing, completion, topology, control verbs), replay_raw.c (mem.*, mmio.*,
 * wait.mem), replay_dev.c (dma) and replay_host.c (iommufd.*). */
#ifndef IMS_RUN_REPLAY_INTERNAL_H
#define IMS_RUN_REPLAY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "models/dev/device.h"
#include "sim/run/replay.h"

/* What an in-flight record is. */
typedef enum rp_kind {
    RP_DMA = 1,
    RP_WAIT_MEM,
    RP_DRAIN,
    RP_HOST,
} rp_kind;

typedef struct rp_op rp_op;

/* An in-flight record: pooled, never freed before the replay ends. */
struct rp_op {
    rp_op *next;              /* free list, or the pending-drain list */
    ims_replay *rp;
    rp_kind kind;
    uint64_t seq;             /* issue order of timed records, from 1 */
    uint32_t file;            /* index into ims_replay.files */
    uint64_t line;
    union {
        struct {
            ims_dma op;       /* op.user = this rp_op */
            unsigned unit;
            uint16_t sid;
            uint8_t nexp;
            ims_trace_expect exp[IMS_TRACE_EXPECT_MAX];
            /* pieces reported by on_piece: all below `prefix`, and bit i of
             * `above` for piece prefix+1+i (to find the faulting piece) */
            uint64_t prefix, above;
            bool lost;        /* a report fell outside the window: piece unknown */
        } dma;
        struct {
            uint64_t pa;
            uint32_t val, mask;
            ims_cycle deadline;
            uint64_t timeout_ps;
        } wait;
        struct {
            uint64_t left;    /* records issued before the drain still in flight */
        } drain;
        struct {
            ims_trace_rec *rec;  /* a copy while it waits for the host stack (owned) */
            rp_op *next_queued;
            ims_trace_verb verb;
            uint8_t nexp;
            ims_trace_expect exp[IMS_TRACE_EXPECT_MAX];
            bool check_done;     /* expect_done= given */
            uint32_t expect_done, entry_num;
            bool in_call, early; /* the completion ran inside the call */
            int status;
            char msg[160];       /* the iommufd's message for a failed call */
        } host;
    };
};

typedef struct rp_host rp_host; /* replay_host.c */

/* A guest (`vm` record) and the devices assigned to guests (replay_guest.c). */
typedef struct rp_vm {
    unsigned id;
    uint64_t mem;
    bool shadow;
    uint32_t file;
    uint64_t line;
    struct ims_vmm *vmm;
    struct ims_guest *guest;
} rp_vm;

typedef struct rp_dev_vm {
    uint16_t sid;
    unsigned vm;
} rp_dev_vm;

struct ims_replay {
    ims_system *sys;
    ims_engine *engine;
    ims_checker *checker;
    FILE *report;
    uint64_t max_reports, reported;
    void (*progress)(void *ctx, uint64_t records, double simulated_ns);
    void *progress_ctx;
    ims_cycle poll_cycles;

    /* input */
    ims_trace_reader *const *readers;
    size_t nreaders, cur;
    char **files;             /* reader names, for in-flight records */
    ims_trace_rec rec;
    bool have_rec;            /* rec holds a timed record not yet issued */
    bool eof;

    /* timing of the previous timed record */
    uint64_t seq;             /* last issued */
    ims_cycle last_issue;
    uint32_t last_issue_file;
    uint64_t last_issue_line;
    bool last_done;
    ims_cycle last_done_at;
    bool waiting_prev;        /* the driver waits for the previous record */
    bool driver_scheduled;

    /* in flight */
    uint64_t inflight;
    rp_op *free_ops;
    void **chunks;
    size_t nchunks, chunks_cap;
    rp_op *drains;            /* pending drains */

    rp_host *host;            /* the host stack, once a host-level record ran */
    rp_vm *vms;               /* declared guests */
    size_t nvms, vms_cap;
    rp_dev_vm *dvm;           /* devices assigned to guests */
    size_t ndvm, dvm_cap;
    bool waiting_ready;       /* the driver waits for the host stack and the guests */
    ims_cycle time_base;      /* @T is relative to this: when the guests were up (0 without guests) */
    unsigned vms_starting;
    void (*vms_cont)(ims_replay *rp);

    /* outcome */
    bool failed;
    ims_error err;
    uint64_t records, expect_failures;
    ims_counter *c_records, *c_sim_ns, *c_expect;
    uint64_t sim_ns_counted; /* ns already added to sim.simulated_ns */
    char **phases;
    size_t nphases, phases_cap;
};

/* replay.c */
rp_op *rp_op_get(ims_replay *rp, rp_kind kind);
/* The in-flight record op completed now. */
void rp_op_done(ims_replay *rp, rp_op *op);
/* Stop the replay with a bad-input error at the current record's location
 * (r NULL: the message is complete as it is). */
int rp_fail(ims_replay *rp, const ims_trace_rec *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same at the location of an in-flight record. */
int rp_fail_at(ims_replay *rp, uint32_t file, uint64_t line, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
const char *rp_file_name(const ims_replay *rp, uint32_t file);
/* Print and count a failed expectation of a record at file/line. */
void rp_expect_failed(ims_replay *rp, uint32_t file, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* replay_raw.c: mem.*, mmio.*, wait.mem. Return 0 (with *async set when the
 * record completes later, through op) or a negative errno (rp_fail called). */
int rp_issue_raw(ims_replay *rp, const ims_trace_rec *r, bool *async);
/* replay_dev.c */
int rp_issue_dma(ims_replay *rp, const ims_trace_rec *r, bool *async);
/* The declared device a record's dev= names (SID or name), NULL if none. */
const ims_system_dev *rp_dev_of(ims_replay *rp, const ims_trace_rec *r);
/* The driver may go on (it was waiting for the stack to come up). */
void rp_resume(ims_replay *rp);

/* replay_host.c: host-level records, and guest-level ones through the same
 * queue while the stack comes up */
int rp_issue_host(ims_replay *rp, const ims_trace_rec *r, bool *async);
void rp_host_destroy(ims_replay *rp);
/* Start the host stack (driver, binds, then the guests) if not started. */
int rp_host_ensure(ims_replay *rp, const ims_trace_rec *r);
bool rp_host_ready(const ims_replay *rp);
struct ims_iommufd *rp_host_ifd(ims_replay *rp);
unsigned rp_host_unit(const ims_replay *rp);
void rp_host_finish(ims_replay *rp, rp_op *op); /* complete a host/guest op (expect= checks) */

/* replay_guest.c */
int rp_guest_declare_vm(ims_replay *rp, const ims_trace_rec *r);
int rp_guest_assign(ims_replay *rp, const ims_trace_rec *r, uint16_t sid);
const rp_vm *rp_guest_vm_of_sid(const ims_replay *rp, uint16_t sid);
/* Create every VMM and guest, start them, boot the guests; then cont(rp). */
void rp_guest_start(ims_replay *rp, void (*cont)(ims_replay *rp));
/* Execute a guest-level record (the stack is up): 0 (completes through
 * op) or a negative errno after rp_fail. */
int rp_exec_guest(ims_replay *rp, rp_op *op, const ims_trace_rec *r);
/* The guest-level coherence check of one DMA piece of a VM's device. */
void rp_guest_check(ims_replay *rp, uint16_t sid, const ims_vtd_req *req, const ims_vtd_result *used,
                    ims_cycle t_use, const ims_checker_loc *loc);
void rp_guest_destroy(ims_replay *rp);

#endif
