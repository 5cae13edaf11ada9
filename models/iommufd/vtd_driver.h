/* The VT-d host driver of the simulated host kernel: what Linux's Intel IOMMU
 * driver does, programming a simulated VT-d unit (models/vtd/unit.h) through
 * MMIO and structures in host memory. It implements the driver interface of
 * the iommufd core (iommu_driver.h).
 *
 * Behaviour follows the Linux 7.1 merge-window tree ("[7.1mw]" in
 * iommufd-facts.md); version choices are listed in docs (see the report of
 * this module). In short:
 *  - init: invalidation queue (256 descriptors, 256-bit in scalable mode),
 *    root table (scalable when ECAP.SMTS), SRTP, global invalidations when
 *    !CAP.ESRTPS, then TE — over MMIO; `ready` runs when it is done;
 *  - domains: first-stage paging domains when possible, second-stage ones
 *    for NEST_PARENT / DIRTY_TRACKING (or without ECAP.FSTS / in legacy
 *    mode), nested domains over a nest parent; DIDs from [2, ndoms-1],
 *    allocated at first attach (iommufd-facts §2.4 step 3);
 *  - invalidation through cache tags (per domain, in assignment order) and
 *    qi_submit_sync semantics: batches of at most 16 descriptors plus one
 *    wait descriptor, polled in simulated time; IQE -> -EINVAL, ITE -> retry
 *    then -ETIMEDOUT (iommufd-facts §2.10).
 *
 * Time: every ims_drv_ops call does its functional work at once and finishes
 * its blocking part (the queued invalidations) later, calling done from an
 * engine event (iommu_driver.h). Submissions are serialised: one batch is in
 * the hardware queue at a time, later ones wait in order.
 *
 * Config keys: ims_vtd_drv_cfg_keys (vtd_drv.*). */
#ifndef IMS_IOMMUFD_VTD_DRIVER_H
#define IMS_IOMMUFD_VTD_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/iommufd/iommu_driver.h"
#include "models/mem/pa_alloc.h"
#include "models/mem/physmem.h"
#include "models/vtd/unit.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "sim/err.h"
#include "sim/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const ims_cfg_key ims_vtd_drv_cfg_keys[];
extern const ims_drv_ops ims_vtd_drv_ops;

typedef struct ims_vtd_drv ims_vtd_drv;

typedef struct ims_vtd_drv_params {
    ims_engine *engine;
    ims_physmem *mem;
    ims_pa_alloc *alloc;   /* host pages: root/context/PASID tables, page tables, queue */
    ims_vtd_unit *unit;    /* freshly created (QI and translation off) */
    const ims_config *cfg; /* vtd_drv.* ; NULL or keys absent: the table defaults */
    ims_stats *stats;      /* optional: vtd_drv.* counters and latencies */
    ims_drv_done ready;    /* optional: init finished (status 0 or -errno) */
} ims_vtd_drv_params;

/* Set up the driver and start bringing the unit up. Fails at once (nothing to
 * run) when the unit cannot be driven: no ECAP.QI (-EOPNOTSUPP), no supported
 * second-stage width (-EOPNOTSUPP), allocation failure (-ENOMEM), or a GCMD
 * command the unit did not perform (-EIO). */
int ims_vtd_drv_create(const ims_vtd_drv_params *p, ims_vtd_drv **out, ims_error *err);
/* Frees the driver's software state (host memory stays as it is). Pending
 * events are cancelled; their done callbacks never run. */
void ims_vtd_drv_destroy(ims_vtd_drv *d);

/* The driver as the iommufd core sees it. */
ims_drv ims_vtd_drv_iface(ims_vtd_drv *d);

/* ---- devices ---------------------------------------------------------------- */

typedef struct ims_vtd_drv_dev_params {
    uint16_t sid;          /* requester ID: bus [15:8], devfn [7:0] */
    bool ats;              /* has an ATS device-TLB (used when ECAP.DT) */
    unsigned ats_qdep;     /* ATS invalidate queue depth (0 or >= 32: descriptor MIP 0) */
    unsigned pasid_bits;   /* PCI PASID width, 0: no PASID capability */
    bool pri;              /* page requests (PRE in the context entry when ECAP.PRS) */
} ims_vtd_drv_dev_params;

/* Probe a device behind this unit: in scalable mode its context entry (PASID
 * directory, DTE/PASIDE/PRE) is written now, all PASIDs blocked. -EEXIST for a
 * known SID. */
int ims_vtd_drv_add_device(ims_vtd_drv *d, const ims_vtd_drv_dev_params *p, ims_error *err);

/* ---- introspection (tests, traces) ------------------------------------------ */

bool ims_vtd_drv_ready(const ims_vtd_drv *d);
bool ims_vtd_drv_scalable(const ims_vtd_drv *d);
/* HPA of the root table. */
uint64_t ims_vtd_drv_root(const ims_vtd_drv *d);

typedef enum ims_vtd_drv_dom_kind {
    IMS_VTD_DRV_DOM_SS = 1,     /* second-stage paging (PGTT=010b / legacy) */
    IMS_VTD_DRV_DOM_FS = 2,     /* first-stage paging (PGTT=001b) */
    IMS_VTD_DRV_DOM_NESTED = 3, /* stage-1 from the user over a nest parent (PGTT=011b) */
} ims_vtd_drv_dom_kind;

ims_vtd_drv_dom_kind ims_vtd_drv_domain_kind(const ims_drv_domain *dom);
/* DID on the unit, 0 while the domain is attached nowhere. */
uint16_t ims_vtd_drv_domain_did(const ims_drv_domain *dom);
/* Root table of a paging domain (HPA), 0 for nested domains. */
uint64_t ims_vtd_drv_domain_root(const ims_drv_domain *dom);
/* Paging levels of a paging domain's table. */
unsigned ims_vtd_drv_domain_levels(const ims_drv_domain *dom);

/* ---- queued invalidation ----------------------------------------------------- */

/* Submit raw descriptors (4 qwords each; qw2/qw3 ignored with 128-bit
 * descriptors) as qi_submit_sync does: batches of at most 16, each followed by
 * a wait descriptor. For tests and replays; the driver's own flushes go the
 * same way. done gets 0, -EINVAL (IQE on one of them), -ETIMEDOUT (ITE). */
int ims_vtd_drv_submit(ims_vtd_drv *d, const uint64_t (*desc)[4], size_t n, ims_drv_done done);

/* Batches waiting or in the hardware queue. */
size_t ims_vtd_drv_qi_busy(const ims_vtd_drv *d);

/* Descriptor log: every descriptor the driver submitted, without the
 * appended wait descriptors (as Linux's qi_submit trace event), in order.
 * Entries are numbered from 0 since create; the last vtd_drv.log_depth are
 * kept. */
typedef struct ims_vtd_drv_log_entry {
    uint64_t qw[4];
    ims_cycle t;      /* cycle of the IQT write that made it visible */
    uint64_t batch;   /* qi_submit_sync call it belongs to (retries count again) */
    unsigned slot;    /* queue index */
} ims_vtd_drv_log_entry;

/* Number of descriptors logged since create. */
uint64_t ims_vtd_drv_log_total(const ims_vtd_drv *d);
/* Entry `seq` (0 = first ever): 0, or -ENOENT when not (or no longer) kept. */
int ims_vtd_drv_log_get(const ims_vtd_drv *d, uint64_t seq, ims_vtd_drv_log_entry *out);

/* Counters (also in stats when given). */
typedef struct ims_vtd_drv_counters {
    uint64_t submits;      /* qi_submit_sync calls, retries included */
    uint64_t descriptors;  /* descriptors submitted, waits excluded */
    uint64_t iqe, ite, ice;
    uint64_t retries;      /* batches resubmitted after ITE */
    uint64_t polls;
} ims_vtd_drv_counters;
const ims_vtd_drv_counters *ims_vtd_drv_counters_get(const ims_vtd_drv *d);

/* The page-selective (addr, mask) that Linux computes for the inclusive byte
 * range [start, end] (calculate_psi_aligned_address, iommufd-facts §2.7):
 * mask 52 means "everything" (addr 0). Exposed for tests. */
unsigned ims_vtd_drv_psi_mask(uint64_t start, uint64_t end, uint64_t *addr);

#ifdef __cplusplus
}
#endif
#endif
