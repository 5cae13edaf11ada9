/* A simulated system assembled from the configuration and a trace's topology
 * records: the engine, physical memory and its latency model, the VT-d units
 * and the endpoint devices behind them, wired together.
 *
 * Topology is declared first (ims_system_declare_unit / _device), then
 * ims_system_build() creates everything: the declared units, or unit 0 from
 * the vtd.* keys when none was declared, then the devices in declaration
 * order. After the build, further declarations (a later trace file's topology)
 * create their unit or device at once.
 *
 * Wiring: a device submits its translation requests to its unit; the unit's
 * ATS port delivers Invalidate Requests to the ATS device with the message's
 * SID behind that unit (anything else is undeliverable: the unit times out,
 * ITE); the device's Invalidate Completions go back to its unit's queue.
 *
 * Determinism: one generator seeded from sim.seed; the memory model, every
 * unit and every device get a fork of it, in creation order. Physical memory
 * stamps software stores with simulated time (the coherence checker reads the
 * stamps). */
#ifndef IMS_RUN_SYSTEM_H
#define IMS_RUN_SYSTEM_H

#include <stdbool.h>
#include <stdint.h>

#include "models/dev/device.h"
#include "models/mem/mem_timing.h"
#include "models/mem/physmem.h"
#include "models/vtd/unit.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "sim/err.h"
#include "sim/rng.h"
#include "sim/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMS_SYSTEM_MAX_UNITS 64 /* unit numbers 0..63 (trace `unit=`) */

typedef struct ims_system ims_system;

typedef struct ims_system_params {
    const ims_config *cfg;   /* must outlive the system */
    /* Optional: called after each unit is created (the run driver hooks the
     * coherence checker to the unit's invalidation queue). */
    void (*on_unit)(void *ctx, unsigned index, ims_vtd_unit *u);
    void *ctx;
} ims_system_params;

/* A unit declaration (`iommu` record): register values override the config. */
typedef struct ims_system_unit_decl {
    unsigned index;
    bool has_cap, has_ecap, has_base;
    uint64_t cap, ecap, base;
    const char *origin;      /* "FILE:LINE" for messages (copied), may be NULL */
} ims_system_unit_decl;

/* A device declaration (`device` record). */
typedef struct ims_system_dev_decl {
    uint16_t sid;
    unsigned unit;
    const char *name;        /* NULL: unnamed (copied) */
    bool ats, pri;
    unsigned pasid_bits;
    unsigned outstanding;    /* 0: dev.outstanding */
    /* where it was declared, for messages about it at build time */
    const char *origin;      /* "FILE:LINE" (copied), may be NULL */
} ims_system_dev_decl;

/* A device as the system knows it. */
typedef struct ims_system_dev {
    ims_dev *dev;
    uint16_t sid;
    unsigned unit;
    const char *name;        /* "" when unnamed */
    bool ats, pri;
    unsigned pasid_bits;
} ims_system_dev;

int ims_system_create(const ims_system_params *p, ims_system **out, ims_error *err);
void ims_system_destroy(ims_system *s);

/* Declarations. Errors (-EEXIST: unit or SID or name declared twice;
 * -EINVAL: unit number out of range, bad register values at creation) leave
 * the message in err without a location; the caller adds it. */
int ims_system_declare_unit(ims_system *s, const ims_system_unit_decl *d, ims_error *err);
int ims_system_declare_device(ims_system *s, const ims_system_dev_decl *d, ims_error *err);

/* Create what was declared (see above). A device behind an undeclared unit is
 * -ENOENT, reported with its origin. Building twice is a no-op. */
int ims_system_build(ims_system *s, ims_error *err);
bool ims_system_built(const ims_system *s);

ims_engine *ims_system_engine(ims_system *s);
ims_physmem *ims_system_mem(ims_system *s);
ims_stats *ims_system_stats(ims_system *s);
const ims_config *ims_system_config(const ims_system *s);

/* The unit with this number, NULL when there is none (or not built yet). */
ims_vtd_unit *ims_system_unit(ims_system *s, unsigned index);
/* Devices, in creation order; NULL past the end. */
const ims_system_dev *ims_system_device_at(const ims_system *s, unsigned i);
const ims_system_dev *ims_system_device_by_sid(const ims_system *s, uint16_t sid);
const ims_system_dev *ims_system_device_by_name(const ims_system *s, const char *name);
unsigned ims_system_device_count(const ims_system *s);

#ifdef __cplusplus
}
#endif
#endif
