/* The guest driver's unmap policy and Linux flush-queue limits. The trace
 * contract requires guest.unmap_policy to exist; the guest model that reads
 * these keys arrives with guest-level records (guest.map / guest.unmap). */
#include "models/guest/guest_config.h"

const ims_cfg_key ims_guest_cfg_keys[] = {
    {.name = "guest.unmap_policy", .type = IMS_CFG_ENUM, .def = "strict", .choices = "strict|lazy",
     .help = "guest unmap policy: strict invalidates before unmap returns; lazy batches as Linux's flush queue "
             "(read by the guest model of guest-level records)",
     .source = "Linux default for passthrough-capable guests is lazy (iommu.strict=0); strict is the safe "
               "baseline the calibration figures were measured with"},
    {.name = "guest.flush_queue_entries", .type = IMS_CFG_INT, .def = "250", .min = 1, .max = 1000000,
     .unit = "entries", .help = "lazy policy: flush when this many unmaps are queued",
     .source = "Linux commit 5e0d2a6fc094 (calibration.md): flush at 250 entries"},
    {.name = "guest.flush_queue_timeout", .type = IMS_CFG_TIME, .def = "10ms", .min = 1,
     .help = "lazy policy: flush at the latest this long after the first queued unmap",
     .source = "Linux commit 5e0d2a6fc094 (calibration.md): flush after 10 ms"},
    {.name = NULL},
};
