/* Primary fault logging into the FRCD registers (vtd-facts §1.9).
 *
 * Rules, in order: a fault is dropped while FSTS.PFO is set; it is collapsed
 * (dropped) when a pending record (F=1) already has the same SID; when the
 * next FRCD (circular index) is still pending, PFO is set and the fault is
 * dropped; otherwise the record is written with F=1, FRI points at it if PPF
 * was 0 (the fault event fires then), and the index advances.
 *
 * Request type (FRCD T1:T2, T1 the MSB; ⚠ vtd-facts §7.8, decided here):
 * 0 write, 1 ATS translation request (page/translation request), 2 read,
 * 3 AtomicOp (a request that both reads and writes). An execute-only request is
 * a read with EXE=1. This keeps the legacy meaning of T1 (bit 126): 1 = read. */
#ifndef IMS_VTD_FAULT_RECORD_H
#define IMS_VTD_FAULT_RECORD_H

#include <stdint.h>

#include "models/vtd/regfile.h"
#include "models/vtd/translate.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ims_vtd_fault_outcome {
    IMS_VTD_FAULT_NONE = 0,    /* no fault to record (reason 0 / successful result) */
    IMS_VTD_FAULT_RECORDED,    /* written to an FRCD */
    IMS_VTD_FAULT_COLLAPSED,   /* a pending record has the same SID */
    IMS_VTD_FAULT_DROPPED_PFO, /* PFO was already set */
    IMS_VTD_FAULT_OVERFLOW,    /* next FRCD still pending: PFO set now */
    IMS_VTD_FAULT_SUPPRESSED,  /* qualified fault with FPD=1: blocked, not recorded */
} ims_vtd_fault_outcome;

/* T1:T2 request type of a request (IMS_VTD_FRCD_TYPE_*). */
unsigned ims_vtd_fault_req_type(const ims_vtd_req *req);
/* The two FRCD qwords (with F=1) describing a fault on req with reason fr. */
void ims_vtd_frcd_encode(const ims_vtd_req *req, uint8_t fr, uint64_t *qw0, uint64_t *qw1);

/* Log a primary fault. */
ims_vtd_fault_outcome ims_vtd_fault_record(ims_vtd_regfile *rf, const ims_vtd_req *req, uint8_t fr);
/* Log the fault of a translation result, honouring its FPD suppression. */
ims_vtd_fault_outcome ims_vtd_fault_record_result(ims_vtd_regfile *rf, const ims_vtd_req *req,
                                                  const ims_vtd_result *res);

#ifdef __cplusplus
}
#endif
#endif
