/* Configuration keys of the simulation kernel itself. */
#include "sim/config.h"

const ims_cfg_key ims_sim_cfg_keys[] = {
    {
        .name = "sim.seed",
        .type = IMS_CFG_INT,
        .def = "1",
        .help = "random seed of the run",
        .source = "model choice: any value; a run is a pure function of config, trace and seed",
    },
    {
        .name = "sim.clock_mhz",
        .type = IMS_CFG_INT,
        .def = "1000",
        .min = 1,
        .max = 100000,
        .unit = "MHz",
        .help = "clock of the pIOMMU; hardware latencies are counted in its cycles",
        .source = "model choice: 1 GHz gives 1 ns cycles; choose the uncore clock of the part you model",
    },
    {.name = NULL},
};
