/* The ATS device-TLB (PCIe "Address Translation Cache") of an endpoint.
 *
 * An entry is what an ATS Translation Completion returned: the untranslated
 * page, the translated page, the translation size (any power of two >= 4 KiB,
 * as the completion's S bit allows; the VT-d unit answers 4 KiB, 2 MiB or
 * 1 GiB) and R/W/X. Tag: PASID-or-none, privileged (PASID requests only: the
 * completion is for the privilege the request asked for), size, page number
 * at that size. One structure holds all sizes, as the IOTLB does: a lookup
 * probes every size the cache currently holds, smallest first.
 *
 * Invalidation follows PCIe Base 6.2 §10.3.8 ("PASID and Global Invalidate"):
 *   - no PASID prefix: entries without PASID in range, and entries with ANY
 *     PASID at ALL addresses;
 *   - PASID prefix, Global Invalidate: entries with any PASID, in range;
 *   - PASID prefix: entries of that PASID, in range.
 * The range is the (ADDR, S) block of ats_range.h; an entry is removed when
 * the block and the entry's span share a byte.
 *
 * Statistics: devtlb.lookups, .hits, .misses, .probes, .inserts, .evictions,
 * .invalidated (shared across devices when they share a registry). */
#ifndef IMS_DEV_DEVTLB_H
#define IMS_DEV_DEVTLB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/vtd/ats_port.h"
#include "sim/config.h"
#include "sim/err.h"
#include "sim/rng.h"
#include "sim/sacache.h"
#include "sim/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ims_devtlb_entry {
    uint64_t iova;   /* untranslated page base (aligned to size) */
    uint64_t hpa;    /* translated page base (aligned to size) */
    uint64_t size;   /* bytes: a power of two >= 4 KiB */
    uint32_t pasid;  /* valid when has_pasid */
    bool has_pasid;
    bool priv;       /* translation for privileged requests (PASID entries only) */
    bool r, w, x;
} ims_devtlb_entry;

typedef struct ims_devtlb_params {
    ims_sac_geom geom;
    ims_rng *rng;      /* for the random policy; must outlive the cache */
    ims_stats *stats;  /* optional */
} ims_devtlb_params;

typedef struct ims_devtlb ims_devtlb;

int ims_devtlb_create(const ims_devtlb_params *p, ims_devtlb **out, ims_error *err);
/* Geometry from devtlb.entries / devtlb.ways / devtlb.policy. */
int ims_devtlb_create_cfg(const ims_config *cfg, ims_rng *rng, ims_stats *stats, ims_devtlb **out,
                          ims_error *err);
void ims_devtlb_destroy(ims_devtlb *t);

/* The entry covering addr for (PASID, priv), or NULL. The pointer is valid
 * until the next insert or invalidation. priv is ignored without PASID. */
const ims_devtlb_entry *ims_devtlb_lookup(ims_devtlb *t, bool has_pasid, uint32_t pasid, bool priv, uint64_t addr);
/* The same without statistics or LRU update. */
const ims_devtlb_entry *ims_devtlb_peek(const ims_devtlb *t, bool has_pasid, uint32_t pasid, bool priv,
                                        uint64_t addr);

/* Insert (iova/hpa are aligned down to size). Returns an IMS_SAC_* result
 * (>= 0), or -EINVAL when size is not a power of two >= 4 KiB. */
int ims_devtlb_insert(ims_devtlb *t, const ims_devtlb_entry *e);

/* Apply an ATS Invalidate Request; *removed (may be NULL) gets the count.
 * -EINVAL for an (ADDR, S) that does not decode (nothing removed). */
int ims_devtlb_invalidate(ims_devtlb *t, const ims_ats_inv_msg *m, size_t *removed);

/* Whether an invalidation request covers an entry (the matching rule above). */
bool ims_devtlb_inv_matches(const ims_ats_inv_msg *m, const ims_devtlb_entry *e);

/* Valid entries. */
uint32_t ims_devtlb_count(const ims_devtlb *t);

/* The device-TLB of a device (NULL without ATS), for checkers and tests.
 * Declared here so device.h stays the lead's interface. */
typedef struct ims_dev ims_dev;
ims_devtlb *ims_dev_devtlb(ims_dev *d);

#ifdef __cplusplus
}
#endif
#endif
