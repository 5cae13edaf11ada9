/* Configuration keys of the VT-d host driver (vtd_drv.*): the software costs
 * the driver adds to simulated time, and the qi_submit_sync retry limit.
 *
 * Calibration target (calibration.md, "Invalidation"): a host strict unmap
 * flush (`intel_iommu_tlb_sync`, one IOTLB descriptor + wait) takes 2.07-2.32
 * us on average. The hardware part with the qi.* defaults is about 1 us
 * (qi_config.c); the software part below is submit 600 + 2 x 50 descriptors +
 * on average half a poll period plus the poll that sees the status:
 * ~0.8-0.95 us, so the total lands near 1.9-2 us. The split between the
 * parts is a model choice: only the total is published. */
#include "models/iommufd/vtd_driver.h"

#define SRC_FLUSH "calibration.md: host strict unmap flush (intel_iommu_tlb_sync) mean 2.07-2.32 us, of which " \
                  "the modelled hardware (qi.*) is ~1 us; split across driver parts is a model choice"

const ims_cfg_key ims_vtd_drv_cfg_keys[] = {
    {
        .name = "vtd_drv.submit_ns",
        .type = IMS_CFG_TIME,
        .def = "600ns",
        .unit = "ns",
        .help = "driver work per qi_submit_sync call before the IQT write: queue lock, space check, the "
                "wait descriptor's status slot, the posted IQT MMIO write",
        .source = SRC_FLUSH,
    },
    {
        .name = "vtd_drv.desc_ns",
        .type = IMS_CFG_TIME,
        .def = "50ns",
        .unit = "ns",
        .help = "driver work per descriptor (the appended wait included): building it, copying it into the "
                "queue, the qi_submit trace point",
        .source = "model choice: a few dozen instructions and one 32-byte store per descriptor (" SRC_FLUSH ")",
    },
    {
        .name = "vtd_drv.poll_ns",
        .type = IMS_CFG_TIME,
        .def = "250ns",
        .min = 1000, /* 1 ns: a zero period would spin forever */
        .unit = "ns",
        .help = "period of the qi_submit_sync wait loop: each iteration reads the status word and FSTS "
                "(IQE/ITE/ICE), so completion is seen up to one period late",
        .source = "model choice: one loop iteration is dominated by the uncached FSTS MMIO read (a few "
                  "hundred ns on server parts); " SRC_FLUSH,
    },
    {
        .name = "vtd_drv.ite_retries",
        .type = IMS_CFG_INT,
        .def = "3",
        .max = 1000,
        .unit = "retries",
        .help = "times a batch aborted by an invalidation time-out (ITE) is resubmitted before the call "
                "fails with ETIMEDOUT",
        .source = "model choice: Linux resubmits until the device is gone (iommufd-facts §2.10); a bound "
                  "keeps a simulated dead device from looping forever",
    },
    {
        .name = "vtd_drv.log_depth",
        .type = IMS_CFG_INT,
        .def = "4096",
        .min = 1,
        .max = 1u << 24,
        .unit = "descriptors",
        .help = "submitted descriptors kept in the driver's descriptor log (qi_submit trace)",
        .source = "model choice: enough for the tests and a trace window; older entries are dropped",
    },
    {.name = NULL},
};
