/* The PCIe link between an endpoint and the root complex, as the device model
 * needs it: a fixed one-way latency for messages (ATS translation requests
 * and completions, invalidation requests and completions), and one data
 * channel per direction with a bandwidth, so data transfers of concurrent
 * requests queue behind each other. Messages are small and are not charged
 * bandwidth (a model choice: they are a few DW against 4 KiB of data). */
#ifndef IMS_DEV_LINK_H
#define IMS_DEV_LINK_H

#include <stdint.h>

#include "sim/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ims_link_dir {
    IMS_LINK_UP = 0,   /* device -> host (DMA write data) */
    IMS_LINK_DOWN = 1, /* host -> device (DMA read completions) */
} ims_link_dir;

typedef struct ims_link {
    const ims_engine *engine;
    ims_cycle latency;       /* one way, cycles */
    double gbps;             /* data bandwidth per direction, Gbit/s */
    ims_cycle free_at[2];    /* cycle each data direction is next free */
    uint64_t bytes[2];       /* data carried per direction */
    ims_cycle queued[2];     /* sum of cycles transfers waited for the channel */
} ims_link;

/* latency_ps: one-way latency; gbps > 0. */
void ims_link_init(ims_link *l, const ims_engine *e, uint64_t latency_ps, double gbps);

/* Cycles to move `bytes` at the link bandwidth (rounded up, in ps then cycles). */
ims_cycle ims_link_xfer_cycles(const ims_link *l, uint64_t bytes);

/* Data of `bytes` ready to send at cycle `ready` in direction dir: it starts
 * when the channel is free and occupies it for the transfer time. Returns the
 * cycle the last byte has crossed. */
ims_cycle ims_link_transfer(ims_link *l, ims_link_dir dir, ims_cycle ready, uint64_t bytes);

#ifdef __cplusplus
}
#endif
#endif
