/* Configuration keys of endpoint devices, their PCIe link and ATS device-TLB.
 * Device internals (ATC size, invalidation handling time) are not published
 * by vendors; each default says what it rests on. Figures from
 * ../shared/reference/calibration.md are cited as "calibration.md". */
#include "models/dev/device.h"
#include "sim/sacache.h"

const ims_cfg_key ims_dev_cfg_keys[] = {
    {
        .name = "devtlb.entries",
        .type = IMS_CFG_INT,
        .def = "64",
        .min = 0,
        .max = 1u << 20,
        .unit = "entries",
        .help = "ATS device-TLB (address translation cache) entries per device (0: no caching)",
        .source = "model choice: ATC sizes are not published; 64 entries (256 KiB of 4 KiB pages) "
                  "mirrors the default IOTLB size",
    },
    {
        .name = "devtlb.ways",
        .type = IMS_CFG_INT,
        .def = "4",
        .min = 1,
        .max = 1u << 20,
        .unit = "ways",
        .help = "device-TLB associativity; must divide devtlb.entries",
        .source = "model choice: ATC organisation is not published",
    },
    {
        .name = "devtlb.policy",
        .type = IMS_CFG_ENUM,
        .def = "lru",
        .choices = IMS_SAC_POLICY_CHOICES,
        .help = "device-TLB replacement policy (random uses sim.seed)",
        .source = "model choice: ATC replacement is not published",
    },
    {
        .name = "dev.outstanding",
        .type = IMS_CFG_INT,
        .def = "32",
        .min = 1,
        .max = 1u << 16,
        .unit = "DMAs",
        .help = "DMAs a device keeps in flight; further DMAs wait (dma.wait_ns)",
        .source = "model choice: 32 = the non-extended 5-bit PCIe Tag field, the outstanding "
                  "non-posted request limit of a function without Extended Tags",
    },
    {
        .name = "dev.dma_window",
        .type = IMS_CFG_INT,
        .def = "16",
        .min = 1,
        .max = 1u << 16,
        .unit = "pieces",
        .help = "4 KiB pieces of one DMA translated/transferred concurrently (later pieces follow as "
                "earlier ones finish)",
        .source = "model choice: 16 x 4 KiB = 64 KiB, the largest TSO/LRO buffer, so common DMAs are "
                  "fully pipelined",
    },
    {
        .name = "pcie.latency_ns",
        .type = IMS_CFG_TIME,
        .def = "250ns",
        .max = UINT64_C(1000000000000),
        .unit = "ns",
        .help = "one-way latency of ATS messages between device and IOMMU (translation and "
                "invalidation requests/completions)",
        .source = "model choice: half of a ~0.5-1 us PCIe Gen3/4 round trip including the root "
                  "complex (pcie-bench, Neugebauer et al. SIGCOMM 2018, recalled); the data path's "
                  "link time is inside mem.dma_latency_ns",
    },
    {
        .name = "pcie.bandwidth_gbps",
        .type = IMS_CFG_FLOAT,
        .def = "252",
        .fmin = 0.001,
        .fmax = 100000.0,
        .unit = "Gbit/s",
        .help = "data bandwidth per link direction; a piece of N bytes occupies it N*8/bandwidth",
        .source = "PCIe Gen4 x16: 16 GT/s x 16 lanes x 128/130 encoding = 252 Gbit/s (TLP "
                  "header overhead not charged: model choice)",
    },
    {
        .name = "dev.ats_inv_ns",
        .type = IMS_CFG_TIME,
        .def = "500ns",
        .max = UINT64_C(1000000000000),
        .unit = "ns",
        .help = "device processing time of one ATS Invalidate Request (after its DMAs drained); "
                "requests are processed one at a time",
        .source = "calibration.md: bare-metal device-TLB invalidation mostly 0.1-1 us, max 2 us "
                  "(QEMU qpl-compression.rst, SPR + IAA); 250 + 500 + 250 ns = 1 us round trip",
    },
    {
        .name = "dev.ats_drop_inv",
        .type = IMS_CFG_BOOL,
        .def = "false",
        .help = "fault injection: ignore ATS Invalidate Requests (no invalidation, no completion; "
                "the IOMMU times out: ITE)",
        .source = "model choice: off; for tests of invalidation time-out handling",
    },
    {.name = NULL},
};
