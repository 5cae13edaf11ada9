/* Configuration keys of the run driver: trace replay and the coherence
 * checker (docs/replay.md). */
#include "sim/run/run.h"

const ims_cfg_key ims_run_cfg_keys[] = {
    {
        .name = "replay.poll_ns",
        .type = IMS_CFG_TIME,
        .def = "50ns",
        .min = 1,
        .max = UINT64_C(1000000000000),
        .unit = "ns",
        .help = "interval at which a wait.mem record re-reads its memory word (a driver's spin loop)",
        .source = "model choice: a spin loop re-reading a cached status word sees a remote store "
                  "within a cache-to-cache transfer (tens of ns); 50 ns adds at most that to an "
                  "invalidation's observed latency",
    },
    {
        .name = "replay.max_reports",
        .type = IMS_CFG_INT,
        .def = "20",
        .max = UINT64_C(1) << 32,
        .unit = "messages",
        .help = "expectation failures and coherence violations printed in full (all are counted; "
                "0 prints none)",
        .source = "model choice: enough to diagnose, few enough that a broken trace does not flood "
                  "the terminal",
    },
    {
        .name = "replay.host_tables_base",
        .type = IMS_CFG_SIZE,
        .def = "256M",
        .unit = "bytes",
        .help = "start of the host memory the VT-d host driver takes its tables and queue from (host-level "
                "iommufd.* records)",
        .source = "model choice: below host.mem_base (IOAS backing) and above the low memory that raw-level "
                  "traces usually use",
    },
    {
        .name = "replay.host_tables_size",
        .type = IMS_CFG_SIZE,
        .def = "256M",
        .min = 4096,
        .unit = "bytes",
        .help = "size of that range",
        .source = "model choice: room for the page tables of many domains; memory is sparse, only touched "
                  "pages cost",
    },
    {
        .name = "checker.enable",
        .type = IMS_CFG_BOOL,
        .def = "true",
        .help = "compare the translation every DMA piece used with the uncached golden walk over "
                "current memory (the coherence checker)",
        .source = "model choice: on, since a stale translation after a completed invalidation wait "
                  "is the bug class this simulator exists to find",
    },
    {
        .name = "checker.history",
        .type = IMS_CFG_INT,
        .def = "64",
        .min = 1,
        .max = 1u << 20,
        .unit = "descriptors",
        .help = "invalidation descriptors remembered per unit (with their completion times) to "
                "explain a violation",
        .source = "model choice: covers the batches Linux submits between two waits (at most a "
                  "few dozen descriptors)",
    },
    {.name = NULL},
};
