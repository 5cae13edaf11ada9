/* Latency of memory accesses made by the IOMMU and by device DMA.
 *
 * A page-walk read costs mem.latency_ns, or mem.walk_hit_ns with probability
 * mem.walk_hit_prob (a read served by the LLC / a page-walk cache outside the
 * IOMMU). The draw uses the simulation's seeded RNG, so runs are reproducible.
 * DMA data accesses cost mem.dma_latency_ns. Latencies are returned in cycles
 * of the engine's clock (rounded up). Keys: ims_mem_cfg_keys. */
#ifndef IMS_MEM_MEM_TIMING_H
#define IMS_MEM_MEM_TIMING_H

#include <stdint.h>

#include "sim/config.h"
#include "sim/engine.h"
#include "sim/rng.h"
#include "sim/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const ims_cfg_key ims_mem_cfg_keys[];

typedef struct ims_mem_timing {
    ims_cycle read_cycles;      /* mem.latency_ns */
    ims_cycle walk_hit_cycles;  /* mem.walk_hit_ns */
    double walk_hit_prob;       /* mem.walk_hit_prob */
    ims_cycle dma_cycles;       /* mem.dma_latency_ns */
    ims_rng *rng;
    ims_counter *walk_reads, *walk_hits; /* "mem.walk_reads", "mem.walk_llc_hits" (optional) */
} ims_mem_timing;

/* Fill from configuration with the engine's clock; rng must outlive mt;
 * stats may be NULL. */
void ims_mem_timing_init(ims_mem_timing *mt, const ims_config *cfg, const ims_engine *e, ims_rng *rng,
                         ims_stats *stats);

/* Cycles for one translation-structure read issued now. */
ims_cycle ims_mem_timing_walk_read(ims_mem_timing *mt);

/* Cycles for n reads issued one after another: the sum of n walk_read calls
 * (the same draws in the same order), in one call. */
ims_cycle ims_mem_timing_walk_reads(ims_mem_timing *mt, unsigned n);

#ifdef __cplusplus
}
#endif
#endif
