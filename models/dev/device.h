/* A PCIe endpoint: a DMA engine with an outstanding-request limit, a link to
 * the IOMMU, and optionally an ATS device-TLB.
 *
 * A DMA (ims_dma) covers [iova, iova+len): it is split at 4 KiB page
 * boundaries; each piece is translated (through the device-TLB first when the
 * device has ATS: a hit issues a translated request, a miss sends an ATS
 * translation request over the link, fills the device-TLB from the completion,
 * then issues the translated request; without ATS an untranslated request goes
 * through the IOMMU) and then transfers its data. The DMA completes when the
 * last piece has transferred, or faults at its first faulting piece.
 *
 * ATS invalidation: an Invalidate Request arrives over the link, the device
 * waits for DMAs that were using translations at that moment to finish
 * (PCIe ATS rule: no use after the completion), removes matching device-TLB
 * entries, spends its processing time, and sends the Invalidate Completion
 * back over the link.
 *
 * The device talks to the IOMMU through ims_dev_iommu (function pointers), so
 * it can be tested against a stand-in. Keys: ims_dev_cfg_keys (dev.*, pcie.*,
 * devtlb.*). Statistics: dma.count, dma.faults, dma.latency_ns, dma.bytes,
 * dma.wait_ns (outstanding-limit backpressure), devtlb.*, ats.* . */
#ifndef IMS_DEV_DEVICE_H
#define IMS_DEV_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "models/mem/mem_timing.h"
#include "models/vtd/ats_port.h"
#include "models/vtd/xlate.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "sim/err.h"
#include "sim/rng.h"
#include "sim/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const ims_cfg_key ims_dev_cfg_keys[];

/* The IOMMU as the device sees it. */
typedef struct ims_dev_iommu {
    /* Submit a translation (untranslated, ATS translation or translated request). */
    void (*translate)(void *ctx, ims_xlate_req *r);
    /* Deliver an ATS Invalidate Completion (already past the link). */
    void (*ats_completion)(void *ctx, uint16_t sid, uint32_t itag_vector, unsigned cc);
    void *ctx;
} ims_dev_iommu;

typedef struct ims_dev_params {
    ims_engine *engine;
    ims_mem_timing *mem_timing;
    const ims_config *cfg;
    ims_stats *stats;          /* shared registry: dma.* totals over all devices */
    ims_rng *rng;
    ims_dev_iommu iommu;
    uint16_t sid;
    const char *name;          /* optional */
    bool ats;                  /* has a device-TLB */
    unsigned pasid_bits;       /* 0: no PASID support */
    bool pri;
    unsigned outstanding;      /* 0: dev.outstanding from config */
} ims_dev_params;

typedef struct ims_dma ims_dma;
typedef void (*ims_dma_done_fn)(ims_dma *d);

struct ims_dma {
    /* in */
    bool has_pasid;
    uint32_t pasid;
    uint64_t iova;
    uint64_t len;              /* >= 1 */
    bool write, priv, exec;
    ims_dma_done_fn done;
    void *user;
    /* Optional: called for every piece once translated, with the translation
     * used (the coherence checker hooks in here). */
    void (*on_piece)(ims_dma *d, uint64_t iova, const ims_vtd_result *used);
    /* out */
    uint8_t fault;             /* first fault reason, 0 if none */
    uint64_t pa;               /* translated address of iova (valid without fault) */
    ims_cycle t_request;       /* when ims_dev_dma was called */
    ims_cycle t_issue;         /* when it got an outstanding slot */
    ims_cycle t_done;
    /* private */
    ims_dma *next;
    uint64_t pieces_left;
    uint64_t next_piece;
    uint32_t priv_state;
};

typedef struct ims_dev ims_dev;

int ims_dev_create(const ims_dev_params *p, ims_dev **out, ims_error *err);
void ims_dev_destroy(ims_dev *d);

uint16_t ims_dev_sid(const ims_dev *d);

/* Start a DMA now; it waits (counted in dma.wait_ns) while the device is at its
 * outstanding limit. d must stay valid until d->done runs. */
void ims_dev_dma(ims_dev *d, ims_dma *op);

/* An ATS Invalidate Request for this device, sent by the IOMMU now (the device
 * adds the link latency). */
void ims_dev_ats_inv_request(ims_dev *d, const ims_ats_inv_msg *m);

/* Requests in flight (for drain at end of run). */
unsigned ims_dev_inflight(const ims_dev *d);

#ifdef __cplusplus
}
#endif
#endif
