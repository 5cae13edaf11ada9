/* The guest OS model's keys (models/guest): unmap policy, Linux flush-queue
 * limits, where the guest keeps its own structures, and the guest driver's
 * software costs. The trace contract requires guest.unmap_policy. */
#include "models/guest/guest_config.h"

#define SRC_NESTED "calibration.md: nested guest qi_submit_sync mean 8.6-9.4 us at 1-8 flows (xlab-uiuc " \
                   "results_summary/ebpf.md); the guest's own part is a model choice inside that total"

const ims_cfg_key ims_guest_cfg_keys[] = {
    {.name = "guest.unmap_policy", .type = IMS_CFG_ENUM, .def = "strict", .choices = "strict|lazy",
     .help = "guest unmap policy: strict invalidates before unmap returns; lazy batches as Linux's flush queue",
     .source = "Linux default for passthrough-capable guests is lazy (iommu.strict=0); strict is the safe "
               "baseline the calibration figures were measured with"},
    {.name = "guest.flush_queue_entries", .type = IMS_CFG_INT, .def = "250", .min = 1, .max = 1000000,
     .unit = "entries", .help = "lazy policy: flush when this many unmaps are queued",
     .source = "Linux commit 5e0d2a6fc094 (calibration.md): flush at 250 entries"},
    {.name = "guest.flush_queue_timeout", .type = IMS_CFG_TIME, .def = "10ms", .min = 1,
     .help = "lazy policy: flush at the latest this long after the first queued unmap",
     .source = "Linux commit 5e0d2a6fc094 (calibration.md): flush after 10 ms"},
    {.name = "guest.pt_pool", .type = IMS_CFG_SIZE, .def = "8M", .min = 65536, .unit = "bytes",
     .help = "top of guest RAM reserved for the guest's page tables, root/context/PASID tables and "
             "invalidation queue (guest.map gpa= must lie below it)",
     .source = "model choice: a few MiB of page-table pages covers GiB-sized workloads with 4 KiB pages"},
    {.name = "guest.map_ns", .type = IMS_CFG_TIME, .def = "150ns", .unit = "ns",
     .help = "guest DMA-API work per map or unmap call (IOVA bookkeeping, locks), page-table writes excluded",
     .source = "model choice: a few hundred instructions per dma_map/dma_unmap call"},
    {.name = "guest.pte_ns", .type = IMS_CFG_TIME, .def = "20ns", .unit = "ns",
     .help = "guest driver work per page-table entry written or cleared",
     .source = "model choice: one store plus the cache-line flush of a non-coherent walk"},
    {.name = "guest.submit_ns", .type = IMS_CFG_TIME, .def = "400ns", .unit = "ns",
     .help = "guest qi_submit_sync work before the IQT write (queue lock, wait descriptor slot); the IQT write "
             "itself traps to the VMM (vmm.vmexit_ns)", .source = SRC_NESTED},
    {.name = "guest.desc_ns", .type = IMS_CFG_TIME, .def = "50ns", .unit = "ns",
     .help = "guest driver work per invalidation descriptor written into its queue", .source = SRC_NESTED},
    {.name = "guest.poll_ns", .type = IMS_CFG_TIME, .def = "100ns", .unit = "ns",
     .help = "period of the guest's wait loop on the status word after VM entry (seen up to one period late)",
     .source = SRC_NESTED},
    {.name = NULL},
};
