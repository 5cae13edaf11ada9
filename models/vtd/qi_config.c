/* Configuration keys of the queued-invalidation engine (qi.*).
 *
 * Calibration target (calibration.md, "Invalidation"): a bare-metal IOTLB
 * invalidation followed by a wait takes about 1 us from the tail write to the
 * status write (Sapphire Rapids: most samples 0.1-1 us, max 1 us; Kabylake
 * client: average 2 us). With the defaults below and mem.latency_ns = 197:
 *   fetch (one read, both descriptors) 197 + iotlb 500 + wait 100
 *   + status write 200 = 997 ns.
 * How the parts are split is a model choice: vendors publish only the total. */
#include "models/vtd/qi.h"

#define SRC_CAL "calibration.md: bare-metal IOTLB invalidation + wait ~1 us submit->done (SPR max 1 us, " \
                "Kabylake avg 2 us); split across parts is a model choice"

const ims_cfg_key ims_qi_cfg_keys[] = {
    {
        .name = "qi.fetch_batch",
        .type = IMS_CFG_INT,
        .def = "2",
        .min = 1,
        .max = 64,
        .unit = "descriptors",
        .help = "descriptors fetched by one queue read (each read costs mem.latency_ns); fewer when the "
                "tail or the end of the queue comes first",
        .source = "model choice: one 64-byte line holds two 256-bit descriptors (Linux uses DW=1); the "
                  "spec allows fetching several together (VT-d 5.10 §6.5.2)",
    },
    {
        .name = "qi.cost.cc",
        .type = IMS_CFG_TIME,
        .def = "200ns",
        .unit = "ns",
        .help = "processing time of a context-cache invalidation descriptor (type 1)",
        .source = "model choice: a context cache is small (one search); below the IOTLB cost",
    },
    {
        .name = "qi.cost.iotlb",
        .type = IMS_CFG_TIME,
        .def = "500ns",
        .unit = "ns",
        .help = "processing time of an IOTLB invalidation descriptor (type 2), IOTLB and PSC search",
        .source = SRC_CAL,
    },
    {
        .name = "qi.cost.piotlb",
        .type = IMS_CFG_TIME,
        .def = "500ns",
        .unit = "ns",
        .help = "processing time of a PASID-based IOTLB invalidation descriptor (type 6)",
        .source = "model choice: same structures searched as for type 2 (" SRC_CAL ")",
    },
    {
        .name = "qi.cost.pc",
        .type = IMS_CFG_TIME,
        .def = "200ns",
        .unit = "ns",
        .help = "processing time of a PASID-cache invalidation descriptor (type 7)",
        .source = "model choice: like the context cache (qi.cost.cc)",
    },
    {
        .name = "qi.cost.iec",
        .type = IMS_CFG_TIME,
        .def = "100ns",
        .unit = "ns",
        .help = "processing time of an interrupt-entry-cache invalidation descriptor (type 4; no IEC is modelled)",
        .source = "model choice: the interrupt path is not modelled; a nominal cost",
    },
    {
        .name = "qi.cost.devtlb",
        .type = IMS_CFG_TIME,
        .def = "50ns",
        .unit = "ns",
        .help = "time to issue a device-TLB invalidation (types 3 and 8) as an ATS Invalidate Request; the "
                "round trip is the link and the device's",
        .source = "model choice: message formation only; calibration.md device-TLB invalidation max 2 us is "
                  "met by the link + device defaults (dev.*, pcie.*)",
    },
    {
        .name = "qi.cost.wait",
        .type = IMS_CFG_TIME,
        .def = "100ns",
        .unit = "ns",
        .help = "processing time of an invalidation-wait descriptor (type 5) before its drain and completion",
        .source = SRC_CAL,
    },
    {
        .name = "qi.cost.pgrp",
        .type = IMS_CFG_TIME,
        .def = "50ns",
        .unit = "ns",
        .help = "processing time of a page-group response descriptor (type 9; accepted, no PRQ model yet)",
        .source = "model choice: a nominal cost until page requests are modelled",
    },
    {
        .name = "qi.status_write",
        .type = IMS_CFG_TIME,
        .def = "200ns",
        .unit = "ns",
        .help = "latency of a wait descriptor's completion: the coherent status write (SW) becoming visible, "
                "or ICS.IWC being set (IF)",
        .source = SRC_CAL,
    },
    {
        .name = "qi.ats_timeout",
        .type = IMS_CFG_TIME,
        .def = "1ms",
        .min = 1,
        .unit = "ns",
        .help = "time without an ATS Invalidate Completion after which a device-TLB invalidation times out "
                "(ITE)",
        .source = "model choice: the VT-d spec gives no value (implementation-specific; PCIe ATS allows "
                  "about 1 minute); 1 ms is 500x the 2 us bare-metal maximum of calibration.md and keeps "
                  "simulations short",
    },
    {.name = NULL},
};
