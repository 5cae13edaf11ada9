/* Configuration keys of the timed translation pipeline (xlate.h): resources
 * and lookup latencies. Cache geometry is in cache_config.c, memory latency in
 * mem_timing.c. No vendor publishes these figures; each default says what it
 * rests on. */
#include "models/vtd/xlate.h"

#define PORTS_SRC "model choice: port counts are unpublished; 0 (unlimited) keeps the calibrated " \
                  "latencies, 1 or 2 study lookup contention"
#define PORTS_KEY(cache, text)                                                                       \
    {                                                                                                \
        .name = cache ".ports", .type = IMS_CFG_INT, .def = "0", .max = 64, .unit = "lookups/cycle", \
        .help = text, .source = PORTS_SRC,                                                           \
    }

#define LOOKUP_SRC "model choice: a small set-associative SRAM lookup plus tag compare takes a cycle or two " \
                   "at an uncore clock of ~1 GHz; no published figure"

const ims_cfg_key ims_xlate_cfg_keys[] = {
    {
        .name = "xlate.slots",
        .type = IMS_CFG_INT,
        .def = "16",
        .min = 1,
        .max = 4096,
        .unit = "requests",
        .help = "translation requests the unit processes at once (a request waits for a free slot)",
        .source = "model choice: enough to overlap the misses of a few devices; unpublished",
    },
    {
        .name = "xlate.merge",
        .type = IMS_CFG_BOOL,
        .def = "true",
        .help = "a miss to a page that another request is already walking waits for that walk",
        .source = "model choice: miss merging (MSHR-like) is standard in TLB designs; off shows its value",
    },
    {
        .name = "walk.walkers",
        .type = IMS_CFG_INT,
        .def = "4",
        .min = 1,
        .max = 1024,
        .unit = "walkers",
        .help = "page walks in progress at once",
        .source = "model choice: CPU MMUs have 2-4 page walkers; the IOMMU's count is unpublished",
    },
    {
        .name = "ctxc.lookup_cycles",
        .type = IMS_CFG_INT,
        .def = "2",
        .max = 1000000,
        .unit = "cycles",
        .help = "context-cache lookup latency",
        .source = LOOKUP_SRC,
    },
    {
        .name = "pasidc.lookup_cycles",
        .type = IMS_CFG_INT,
        .def = "2",
        .max = 1000000,
        .unit = "cycles",
        .help = "PASID-cache lookup latency (scalable mode)",
        .source = LOOKUP_SRC,
    },
    {
        .name = "iotlb.lookup_cycles",
        .type = IMS_CFG_INT,
        .def = "2",
        .max = 1000000,
        .unit = "cycles",
        .help = "IOTLB lookup latency (all page sizes probed in parallel)",
        .source = LOOKUP_SRC,
    },
    {
        .name = "psc.lookup_cycles",
        .type = IMS_CFG_INT,
        .def = "2",
        .max = 1000000,
        .unit = "cycles",
        .help = "paging-structure-cache probe latency (all levels of one stage probed in parallel)",
        .source = LOOKUP_SRC,
    },
    PORTS_KEY("ctxc", "context-cache lookups that can start in one cycle (0: unlimited)"),
    PORTS_KEY("pasidc", "PASID-cache lookups that can start in one cycle (0: unlimited)"),
    PORTS_KEY("iotlb", "IOTLB lookups that can start in one cycle, walks' table probes included (0: unlimited)"),
    PORTS_KEY("psc", "paging-structure-cache probes (one per stage walk) that can start in one cycle "
                     "(0: unlimited)"),
    {.name = NULL},
};
