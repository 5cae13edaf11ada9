/* Memory latency seen by the IOMMU's table walks and by device DMA. */
#include "models/mem/mem_timing.h"

#include <stddef.h>

const ims_cfg_key ims_mem_cfg_keys[] = {
    {
        .name = "mem.latency_ns",
        .type = IMS_CFG_TIME,
        .def = "197ns",
        .max = 1000000000000ULL, /* 1 s */
        .unit = "ns",
        .help = "latency of one translation-structure read (root, context, PASID, paging entry) from memory",
        .source = "calibration.md: l_m = 197 ns per IOMMU page-walk access, Cascade Lake Xeon Gold 6234 "
                  "(Rubin et al., SOSP 2024, §2.2)",
    },
    {
        .name = "mem.walk_hit_ns",
        .type = IMS_CFG_TIME,
        .def = "40ns",
        .max = 1000000000000ULL,
        .unit = "ns",
        .help = "latency of a translation-structure read served by the cache hierarchy (LLC) instead of DRAM",
        .source = "model choice: an LLC hit on a server part costs a few tens of ns; unused while "
                  "mem.walk_hit_prob = 0",
    },
    {
        .name = "mem.walk_hit_prob",
        .type = IMS_CFG_FLOAT,
        .def = "0",
        .fmin = 0.0,
        .fmax = 1.0,
        .unit = "probability",
        .help = "probability that a translation-structure read hits in the cache hierarchy (mem.walk_hit_ns)",
        .source = "model choice: 0 reproduces the measured per-access cost l_m (calibration.md), which "
                  "already averages over whatever the LLC served",
    },
    {
        .name = "mem.dma_latency_ns",
        .type = IMS_CFG_TIME,
        .def = "65ns",
        .max = 1000000000000ULL,
        .unit = "ns",
        .help = "latency of a device DMA data access once translated",
        .source = "calibration.md: DMA base latency l_0 = 65 ns (Rubin et al., SOSP 2024, §2.2)",
    },
    {.name = NULL},
};

void ims_mem_timing_init(ims_mem_timing *mt, const ims_config *cfg, const ims_engine *e, ims_rng *rng,
                         ims_stats *stats)
{
    mt->read_cycles = ims_engine_ps_to_cycles(e, ims_config_time_ps(cfg, "mem.latency_ns"));
    mt->walk_hit_cycles = ims_engine_ps_to_cycles(e, ims_config_time_ps(cfg, "mem.walk_hit_ns"));
    mt->walk_hit_prob = ims_config_double(cfg, "mem.walk_hit_prob");
    mt->dma_cycles = ims_engine_ps_to_cycles(e, ims_config_time_ps(cfg, "mem.dma_latency_ns"));
    mt->rng = rng;
    mt->walk_reads = NULL;
    mt->walk_hits = NULL;
    if (stats) {
        mt->walk_reads = ims_stats_counter(stats, "mem.walk_reads",
                                           "translation-structure reads (and A/D writes) charged to memory");
        mt->walk_hits = ims_stats_counter(stats, "mem.walk_llc_hits",
                                          "of mem.walk_reads, those served at mem.walk_hit_ns");
    }
}

ims_cycle ims_mem_timing_walk_read(ims_mem_timing *mt)
{
    if (mt->walk_reads)
        ims_counter_inc(mt->walk_reads);
    /* No draw at probability 0, so the default configuration consumes no
     * random numbers here and other models' streams are unaffected. */
    if (mt->walk_hit_prob > 0.0 && ims_rng_unit(mt->rng) < mt->walk_hit_prob) {
        if (mt->walk_hits)
            ims_counter_inc(mt->walk_hits);
        return mt->walk_hit_cycles;
    }
    return mt->read_cycles;
}

ims_cycle ims_mem_timing_walk_reads(ims_mem_timing *mt, unsigned n)
{
    if (mt->walk_hit_prob > 0.0) {
        ims_cycle t = 0;
        for (unsigned i = 0; i < n; i++)
            t += ims_mem_timing_walk_read(mt);
        return t;
    }
    /* Probability 0: every read costs read_cycles and no number is drawn. */
    if (mt->walk_reads)
        ims_counter_add(mt->walk_reads, n);
    return (ims_cycle)n * mt->read_cycles;
}
