/* The IOMMU's side of PCIe ATS invalidation: what the invalidation engine
 * sends towards endpoints and what comes back.
 *
 * The VT-d model does not know devices: whoever assembles the system (the run
 * driver, a test) supplies send_inv, which delivers the request to the
 * endpoint with that SID (the endpoint charges its link latency). The endpoint
 * answers by calling ims_qi_ats_completion() (qi.h). */
#ifndef IMS_VTD_ATS_PORT_H
#define IMS_VTD_ATS_PORT_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An ATS Invalidate Request message (vtd-facts §6.2). */
typedef struct ims_ats_inv_msg {
    uint16_t sid;         /* destination Device ID */
    bool has_pasid;       /* PASID prefix present (type-8 descriptors) */
    uint32_t pasid;
    bool global;          /* Global Invalidate: all PASIDs (type-8 G) */
    uint64_t addr;        /* untranslated address, bits 63:12 as encoded with S */
    bool s;               /* size bit: see models/dev/ats_range.h */
    uint8_t itag;         /* 0..31 */
} ims_ats_inv_msg;

typedef struct ims_ats_port {
    /* Deliver an invalidation request; returns false if no endpoint has this
     * SID (the engine then treats it as timed out: ITE). */
    bool (*send_inv)(void *ctx, const ims_ats_inv_msg *m);
    void *ctx;
} ims_ats_port;

#ifdef __cplusplus
}
#endif
#endif
