/* Fault-reason metadata: condition ID, description and whether the fault is
 * "qualified" (not reported when an FPD bit on the translation path is set).
 *
 * Qualification follows the "Qualified" column of Table 30 (§7.1.3) of the
 * VT-d spec rev 5.10: faults detected before any FPD bit can be seen (root
 * table / RTADDR faults) and errors reading the root, context, PASID-directory
 * and PASID-table entries are not qualified; everything from the context entry
 * on (present, reserved, programming and all paging-structure faults, including
 * paging-entry access errors LSS.1/SFS.1/SFS.4/SSS.1/SSS.4) is qualified.
 * Condition IDs use the rev 4+ names (LSS/SFS/SSS instead of LSL/SFL/SSL). */
#include "models/vtd/fault_reason.h"

#include <stddef.h>

typedef struct fault_info {
    uint8_t code;
    bool qualified;
    const char *id;
    const char *desc;
} fault_info;

/* Sorted by code. Codes absent from fault_reason.h (0x33, 0x34, 0x49, 0x60,
 * 0x7D, 0x89, 0xA0-0xA5) are listed so that a record carrying them decodes. */
static const fault_info k_faults[] = {
    {0x01, false, "LRT.2", "root entry not present"},
    {0x02, true,  "LCT.2", "context entry not present"},
    {0x03, true,  "LCT.4", "invalid context entry programming (AW, TT)"},
    {0x04, true,  "LGN.1", "address beyond the guest/host address width"},
    {0x05, true,  "LGN.2", "write not permitted"},
    {0x06, true,  "LGN.3", "read not permitted"},
    {0x07, true,  "LSS.1", "error reading a second-stage paging entry"},
    {0x08, false, "LRT.1", "error reading the root entry"},
    {0x09, false, "LCT.1", "error reading the context entry"},
    {0x0A, false, "LRT.3", "reserved bit set in root entry"},
    {0x0B, true,  "LCT.3", "reserved bit set in context entry"},
    {0x0C, true,  "LSS.2", "reserved bit set in second-stage paging entry"},
    {0x0D, true,  "LCT.5", "translation type blocks translation/translated request"},
    {0x0E, true,  "LGN.4", "output address in the interrupt range"},
    {0x30, false, "RTA.1", "invalid root-table address programming (TTM)"},
    {0x31, false, "RTA.2", "request with PASID in legacy mode"},
    {0x32, false, "RTA.3", "page request in legacy mode"},
    {0x33, false, "RTA.4", "request blocked in abort-DMA mode"},
    {0x34, false, "RTA.5", "execute request with PASID (rev 5 hardware)"},
    {0x38, false, "SRT.1", "error reading the scalable-mode root entry"},
    {0x39, false, "SRT.2", "scalable-mode root entry half not present"},
    {0x3A, false, "SRT.3", "reserved bit set in scalable-mode root entry"},
    {0x40, false, "SCT.1", "error reading the scalable-mode context entry"},
    {0x41, true,  "SCT.2", "scalable-mode context entry not present"},
    {0x42, true,  "SCT.3", "reserved bit set in scalable-mode context entry"},
    {0x43, true,  "SCT.4", "invalid scalable-mode context entry programming"},
    {0x44, true,  "SCT.5", "DTE=0 for a translation/translated request"},
    {0x45, true,  "SCT.6", "PASIDE=0 for a request with PASID"},
    {0x46, true,  "SCT.7", "PASID beyond the PDTS limit"},
    {0x47, true,  "SCT.8", "PRE=0 for a page request"},
    {0x48, true,  "SCT.9", "request PASID equals RID_PASID"},
    {0x49, true,  "SCT.10", "EPTR=0 for a translated request with PASID"},
    {0x50, false, "SPD.1", "error reading the PASID-directory entry"},
    {0x51, true,  "SPD.2", "PASID-directory entry not present"},
    {0x52, true,  "SPD.3", "reserved bit set in PASID-directory entry"},
    {0x58, false, "SPT.1", "error reading the PASID-table entry"},
    {0x59, true,  "SPT.2", "PASID-table entry not present"},
    {0x5A, true,  "SPT.3", "reserved bit set in PASID-table entry"},
    {0x5B, true,  "SPT.4", "invalid PASID-table entry programming (PGTT, AW, FSPM)"},
    {0x5C, true,  "SPT.5", "execute request not enabled"},
    {0x5D, true,  "SPT.6", "SRE=0 for a supervisor request"},
    {0x60, true,  "SPT.9", "translated address beyond the HPT size"},
    {0x70, true,  "SFS.1", "error reading a first-stage paging entry"},
    {0x71, true,  "SFS.2", "first-stage entry not present"},
    {0x72, true,  "SFS.3", "reserved bit set in first-stage entry"},
    {0x73, true,  "SFS.4", "error reading the first-stage root entry (FSPTPTR)"},
    {0x74, true,  "SFS.5", "nested: first-stage table address beyond the SS width"},
    {0x75, true,  "SFS.6", "nested: no SS read permission for the FS root"},
    {0x76, true,  "SFS.7", "nested: no SS read permission for an FS entry"},
    {0x77, true,  "SFS.8", "nested: no SS write permission for an FS A/D update"},
    {0x78, true,  "SSS.1", "error reading a second-stage paging entry"},
    {0x79, true,  "SSS.2", "second-stage entry not present (R=W=0)"},
    {0x7A, true,  "SSS.3", "reserved bit set in second-stage entry"},
    {0x7B, true,  "SSS.4", "error reading the second-stage root entry (SSPTPTR)"},
    {0x7C, true,  "SSS.5", "second-stage A/D update needed in a non-snooped walk"},
    {0x7D, true,  "SSS.6", "second-stage A/D update failed"},
    {0x80, true,  "SGN.1", "non-canonical first-stage input address"},
    {0x81, true,  "SGN.2", "user request to a supervisor page (U/S=0)"},
    {0x82, true,  "SGN.3", "execute not permitted"},
    {0x83, true,  "SGN.4", "address beyond the host address width"},
    {0x84, true,  "SGN.5", "address beyond the second-stage address width"},
    {0x85, true,  "SGN.6", "write not permitted"},
    {0x86, true,  "SGN.7", "read not permitted"},
    {0x87, true,  "SGN.8", "output address in the interrupt range"},
    {0x89, true,  "SGN.10", "PASID beyond ECAP.PSS"},
    {0x90, true,  "SFS.9", "first-stage A/D update needed in a non-snooped walk"},
    {0x91, true,  "SFS.10", "first-stage A/D update failed"},
    {0xA0, true,  "HPT.1", "error reading an HPT entry"},
    {0xA1, true,  "HPT.2", "reserved bit set in HPT entry"},
    {0xA2, true,  "HPT.3", "error reading the HPT root entry"},
    {0xA3, true,  "HPT.4", "zero-length read blocked by the HPT"},
    {0xA4, true,  "HPT.5", "HPT denies write"},
    {0xA5, true,  "HPT.6", "HPT denies read"},
};

static const fault_info *find(uint8_t fr)
{
    size_t lo = 0, hi = sizeof k_faults / sizeof k_faults[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k_faults[mid].code == fr)
            return &k_faults[mid];
        if (k_faults[mid].code < fr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *ims_vtd_fault_id(uint8_t fr)
{
    const fault_info *f = find(fr);
    return f ? f->id : "unknown";
}

const char *ims_vtd_fault_desc(uint8_t fr)
{
    const fault_info *f = find(fr);
    return f ? f->desc : "unknown";
}

bool ims_vtd_fault_is_qualified(uint8_t fr)
{
    const fault_info *f = find(fr);
    return f && f->qualified;
}
