/* Shared hardware resources, so contention is modelled once and not ad hoc in
 * every model.
 *
 * ims_slots: a counting resource (translation slots, page walkers, queue
 * credits). A requester that finds no free slot waits in FIFO order; when a slot
 * is released, the oldest waiter gets it and its callback is scheduled in the
 * same cycle.
 *
 * ims_port: a pipelined unit that accepts one request every `interval` cycles
 * and completes each `latency` cycles after it was accepted (a memory
 * channel, a link direction).
 *
 * ims_lookup_ports: N identical ports, each starting one lookup per cycle, so
 * at most N lookups start in any cycle (a cache's lookup ports). Lookups may
 * be reserved for future cycles in any order (a request reserves its later
 * probes when it enters a stage). */
#ifndef IMS_SIM_RESOURCE_H
#define IMS_SIM_RESOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ims_slot_waiter {
    ims_event_fn fn;
    void *ctx;
    uint64_t arg;
    ims_cycle since; /* when it started waiting */
} ims_slot_waiter;

typedef struct ims_slots {
    ims_engine *engine;
    unsigned capacity;
    unsigned in_use;
    /* FIFO ring of waiters, grown on demand. */
    ims_slot_waiter *wait;
    unsigned wait_cap, wait_head, wait_len;
    /* statistics */
    uint64_t acquires;       /* grants, immediate or after waiting */
    uint64_t waited;         /* grants that had to wait */
    uint64_t wait_cycles;    /* sum of waiting time */
    unsigned max_waiters;
} ims_slots;

/* capacity >= 1. Returns 0 or -EINVAL. */
int ims_slots_init(ims_slots *s, ims_engine *e, unsigned capacity);
void ims_slots_fini(ims_slots *s);

/* Try to take a slot. If one is free, take it and return true without calling
 * fn. Otherwise queue (fn, ctx, arg) and return false; fn runs (as an engine
 * event) when the slot is granted, and the slot is then already held.
 * (Running out of host memory for the waiter queue aborts: not an input error.) */
bool ims_slots_acquire(ims_slots *s, ims_event_fn fn, void *ctx, uint64_t arg);

/* Release one held slot; hands it to the oldest waiter if there is one. */
void ims_slots_release(ims_slots *s);

unsigned ims_slots_free(const ims_slots *s);
unsigned ims_slots_waiting(const ims_slots *s);

typedef struct ims_port {
    ims_engine *engine;
    ims_cycle interval;   /* cycles between accepted requests (>= 1) */
    ims_cycle latency;    /* cycles from acceptance to completion */
    ims_cycle next_free;  /* earliest cycle the next request can be accepted */
    uint64_t requests;
    uint64_t queued_cycles; /* sum over requests of (accept - arrival) */
} ims_port;

void ims_port_init(ims_port *p, ims_engine *e, ims_cycle interval, ims_cycle latency);

/* A request arrives now. Returns the cycle it completes; if fn is not NULL it is
 * scheduled at that cycle. */
ims_cycle ims_port_issue(ims_port *p, ims_event_fn fn, void *ctx, uint64_t arg);

/* The completion cycle a request arriving now would get, without issuing it. */
ims_cycle ims_port_peek(const ims_port *p);

typedef struct ims_lookup_ports {
    unsigned ports;        /* lookups that can start per cycle; 0 = unlimited */
    /* Cycles at or after the last `now` with reservations, sorted: (cycle, used). */
    ims_cycle *cyc;
    unsigned *used;
    unsigned n, cap;
    /* statistics */
    uint64_t lookups, waited, wait_cycles;
} ims_lookup_ports;

/* ports = 0: unlimited (every lookup starts when issued, nothing is kept). */
void ims_lookup_ports_init(ims_lookup_ports *p, unsigned ports);
void ims_lookup_ports_fini(ims_lookup_ports *p);

/* Reserve a port for a lookup issued at cycle `at` (>= now, the current
 * simulated time, which lets reservations of past cycles be dropped): returns
 * the cycle it starts, the first at or after `at` with a free port. (Running
 * out of host memory aborts: not an input error.) */
ims_cycle ims_lookup_ports_start(ims_lookup_ports *p, ims_cycle now, ims_cycle at);

#ifdef __cplusplus
}
#endif
#endif
