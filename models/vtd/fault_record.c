/* Primary fault logging (vtd-facts §1.9); rules and type encoding in the header. */
#include "models/vtd/fault_record.h"

#include "models/vtd/fault_reason.h"
#include "models/vtd/regs.h"

unsigned ims_vtd_fault_req_type(const ims_vtd_req *req)
{
    if (req->type == IMS_VTD_REQ_TRANSLATION)
        return IMS_VTD_FRCD_TYPE_PAGE_REQ;
    if (req->read && req->write)
        return IMS_VTD_FRCD_TYPE_ATOMIC;
    if (req->write)
        return IMS_VTD_FRCD_TYPE_WRITE;
    return IMS_VTD_FRCD_TYPE_READ;
}

void ims_vtd_frcd_encode(const ims_vtd_req *req, uint8_t fr, uint64_t *qw0, uint64_t *qw1)
{
    unsigned type = ims_vtd_fault_req_type(req);
    *qw0 = ims_vtd_frcd_fi(req->addr);
    *qw1 = IMS_VTD_PUT(IMS_VTD_FRCD_SID, req->sid)
         | IMS_VTD_PUT(IMS_VTD_FRCD_T2, type & 1u)
         | IMS_VTD_PUT(IMS_VTD_FRCD_PRIV, req->priv)
         | IMS_VTD_PUT(IMS_VTD_FRCD_EXE, req->exec)
         | IMS_VTD_PUT(IMS_VTD_FRCD_PP, req->has_pasid)
         | IMS_VTD_PUT(IMS_VTD_FRCD_FR, fr)
         | IMS_VTD_PUT(IMS_VTD_FRCD_PV, req->has_pasid ? req->pasid : 0)
         | IMS_VTD_PUT(IMS_VTD_FRCD_AT, (unsigned)req->type)
         | IMS_VTD_PUT(IMS_VTD_FRCD_T1, type >> 1)
         | IMS_VTD_PUT(IMS_VTD_FRCD_F, 1);
}

static bool pending_with_sid(const ims_vtd_regfile *rf, uint16_t sid)
{
    unsigned n = ims_vtd_regfile_num_frcd(rf);
    for (unsigned i = 0; i < n; i++) {
        uint64_t qw0, qw1;
        ims_vtd_regfile_frcd_get(rf, i, &qw0, &qw1);
        if (ims_vtd_frcd_f(qw1) && ims_vtd_frcd_sid(qw1) == sid)
            return true;
    }
    return false;
}

ims_vtd_fault_outcome ims_vtd_fault_record(ims_vtd_regfile *rf, const ims_vtd_req *req, uint8_t fr)
{
    if (fr == IMS_VTD_FR_NONE)
        return IMS_VTD_FAULT_NONE;
    uint32_t fsts = ims_vtd_regfile_fsts(rf);
    if (ims_vtd_fsts_pfo(fsts))
        return IMS_VTD_FAULT_DROPPED_PFO;
    if (pending_with_sid(rf, req->sid))
        return IMS_VTD_FAULT_COLLAPSED;

    unsigned idx = ims_vtd_regfile_frcd_next(rf);
    uint64_t qw0, qw1;
    ims_vtd_regfile_frcd_get(rf, idx, &qw0, &qw1);
    if (ims_vtd_frcd_f(qw1)) {
        ims_vtd_regfile_raise_pfo(rf);
        return IMS_VTD_FAULT_OVERFLOW;
    }
    /* FRI first: the event raised by the store may run a handler that reads it. */
    if (!ims_vtd_fsts_ppf(fsts))
        ims_vtd_regfile_set_fri(rf, idx);
    ims_vtd_regfile_set_frcd_next(rf, (idx + 1) % ims_vtd_regfile_num_frcd(rf));
    ims_vtd_frcd_encode(req, fr, &qw0, &qw1);
    ims_vtd_regfile_frcd_put(rf, idx, qw0, qw1);
    return IMS_VTD_FAULT_RECORDED;
}

ims_vtd_fault_outcome ims_vtd_fault_record_result(ims_vtd_regfile *rf, const ims_vtd_req *req,
                                                  const ims_vtd_result *res)
{
    if (res->fault == IMS_VTD_FR_NONE)
        return IMS_VTD_FAULT_NONE;
    if (res->fault_suppressed)
        return IMS_VTD_FAULT_SUPPRESSED;
    return ims_vtd_fault_record(rf, req, res->fault);
}
