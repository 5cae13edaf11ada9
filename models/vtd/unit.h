/* One VT-d remapping unit, assembled: register file, translation caches,
 * translation pipeline, queued-invalidation engine and fault recording, wired
 * together (register hooks -> engine; SRTP with CAP.ESRTPS -> cache flush).
 * Everything a system needs from the IOMMU goes through here. */
#ifndef IMS_VTD_UNIT_H
#define IMS_VTD_UNIT_H

#include <stdint.h>

#include "models/mem/mem_timing.h"
#include "models/mem/physmem.h"
#include "models/vtd/ats_port.h"
#include "models/vtd/qi.h"
#include "models/vtd/regfile.h"
#include "models/vtd/vtd_caches.h"
#include "models/vtd/xlate.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "sim/rng.h"
#include "sim/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ims_vtd_unit_params {
    unsigned index;            /* unit number (trace `iommu unit=N`) */
    ims_engine *engine;
    ims_physmem *mem;
    ims_mem_timing *mem_timing;
    const ims_config *cfg;     /* vtd.*, caches, xlate.*, qi.* */
    uint64_t cap, ecap;        /* register values (from vtd.cap/vtd.ecap or a trace override) */
    ims_stats *stats;
    ims_rng *rng;              /* forked for the caches' random policy */
    ims_ats_port ats;
    /* Optional MSI sink (fault events, invalidation completion events). */
    void (*msi)(void *ctx, uint64_t addr, uint32_t data);
    void *msi_ctx;
} ims_vtd_unit_params;

typedef struct ims_vtd_unit ims_vtd_unit;

int ims_vtd_unit_create(const ims_vtd_unit_params *p, ims_vtd_unit **out, ims_error *err);
void ims_vtd_unit_destroy(ims_vtd_unit *u);

ims_vtd_regfile *ims_vtd_unit_regs(ims_vtd_unit *u);
ims_vtd_caches *ims_vtd_unit_caches(ims_vtd_unit *u);
ims_xlate *ims_vtd_unit_xlate(ims_vtd_unit *u);
ims_qi *ims_vtd_unit_qi(ims_vtd_unit *u);

/* Register access with side effects (delegates to the register file). */
int ims_vtd_unit_mmio_read(ims_vtd_unit *u, uint64_t off, unsigned size, uint64_t *val);
int ims_vtd_unit_mmio_write(ims_vtd_unit *u, uint64_t off, unsigned size, uint64_t val);

/* The hardware state the functional walk needs (the golden reference). */
void ims_vtd_unit_hw(const ims_vtd_unit *u, ims_vtd_hw *hw);

/* A request from a device (untranslated, ATS translation or translated). */
void ims_vtd_unit_translate(ims_vtd_unit *u, ims_xlate_req *r);

#ifdef __cplusplus
}
#endif
#endif
