/* Configuration keys of the VT-d remapping unit's register file.
 * The default CAP/ECAP/VER texts must equal IMS_VTD_DEFAULT_CAP/ECAP/VER in
 * regs.h (a test checks it); the composition and its rationale live there. */
#include "models/vtd/vtd_config.h"

const ims_cfg_key ims_vtd_cfg_keys[] = {
    {
        .name = "vtd.cap",
        .type = IMS_CFG_HEX,
        .def = "0x11ed078c40780c06",
        .help = "CAP register (0x08): capabilities of the remapping unit",
        .source = "model choice: scalable-mode nesting-capable part composed in regs.h IMS_VTD_DEFAULT_CAP "
                  "(vtd-facts §1.2); configs/legacy-server.ini has Broadwell-EP (calibration.md)",
    },
    {
        .name = "vtd.ecap",
        .type = IMS_CFG_HEX,
        .def = "0x3ed9ca4f050df",
        .help = "ECAP register (0x10): extended capabilities of the remapping unit",
        .source = "model choice: composed in regs.h IMS_VTD_DEFAULT_ECAP (vtd-facts §1.3)",
    },
    {
        .name = "vtd.ver",
        .type = IMS_CFG_HEX,
        .def = "0x60",
        .max = 0xff,
        .help = "VER register (0x00): MAX in [7:4], MIN in [3:0] (0x10 = 1.0)",
        .source = "public dmesg of a scalable-mode Xeon reports ver 6:0; Broadwell-EP reports 1:0",
    },
    {
        .name = "vtd.base",
        .type = IMS_CFG_HEX,
        .def = "0xfed90000",
        .unit = "address",
        .help = "physical base address of the unit's MMIO register window (DRHD base)",
        .source = "model choice: a typical DRHD base address",
    },
    {.name = NULL},
};
