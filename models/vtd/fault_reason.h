/* VT-d fault reasons (FRCD.FR), named after the spec's condition IDs.
 * Codes and IDs: vtd-facts.md §3.5 (VirtualBox iommu-intel.h field IDs, Linux
 * dmar.c descriptions, QEMU labels). */
#ifndef IMS_VTD_FAULT_REASON_H
#define IMS_VTD_FAULT_REASON_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ims_vtd_fault_reason {
    IMS_VTD_FR_NONE = 0x00,
    /* legacy mode */
    IMS_VTD_FR_LRT_2 = 0x01,   /* root entry P=0 */
    IMS_VTD_FR_LCT_2 = 0x02,   /* context entry P=0 */
    IMS_VTD_FR_LCT_4 = 0x03,   /* invalid context-entry programming (AW, TT) */
    IMS_VTD_FR_LGN_1 = 0x04,   /* address beyond MGAW/AW */
    IMS_VTD_FR_LGN_2 = 0x05,   /* write not permitted */
    IMS_VTD_FR_LGN_3 = 0x06,   /* read not permitted */
    IMS_VTD_FR_LSS_1 = 0x07,   /* error accessing an SS paging entry */
    IMS_VTD_FR_LRT_1 = 0x08,   /* error accessing the root entry */
    IMS_VTD_FR_LCT_1 = 0x09,   /* error accessing the context entry */
    IMS_VTD_FR_LRT_3 = 0x0A,   /* reserved bit set in root entry */
    IMS_VTD_FR_LCT_3 = 0x0B,   /* reserved bit set in context entry */
    IMS_VTD_FR_LSS_2 = 0x0C,   /* reserved bit set in SS entry */
    IMS_VTD_FR_LCT_5 = 0x0D,   /* TT blocks a translation / translated request */
    IMS_VTD_FR_LGN_4 = 0x0E,   /* output address in the interrupt range */
    /* scalable mode */
    IMS_VTD_FR_RTA_1 = 0x30,   /* invalid root-table address */
    IMS_VTD_FR_RTA_2 = 0x31,   /* TTM=00 for a request with PASID */
    IMS_VTD_FR_RTA_3 = 0x32,   /* TTM=00 for a page request */
    IMS_VTD_FR_RTA_4 = 0x33,   /* TTM=11 abort-DMA mode (with ECAP.ADMS) */
    IMS_VTD_FR_RTA_5 = 0x34,   /* see spec rev 5.10 Table 30 */
    IMS_VTD_FR_SRT_1 = 0x38,   /* error accessing the SM root entry */
    IMS_VTD_FR_SRT_2 = 0x39,   /* root entry present bit clear */
    IMS_VTD_FR_SRT_3 = 0x3A,   /* reserved bit set in root entry */
    IMS_VTD_FR_SCT_1 = 0x40,   /* error accessing the context entry */
    IMS_VTD_FR_SCT_2 = 0x41,   /* context entry P=0 */
    IMS_VTD_FR_SCT_3 = 0x42,   /* reserved bit set in context entry */
    IMS_VTD_FR_SCT_4 = 0x43,   /* invalid context entry */
    IMS_VTD_FR_SCT_5 = 0x44,   /* DTE=0 for a translation / translated request */
    IMS_VTD_FR_SCT_6 = 0x45,   /* PASIDE=0 for a request with PASID */
    IMS_VTD_FR_SCT_7 = 0x46,   /* PASID beyond the PDTS limit */
    IMS_VTD_FR_SCT_8 = 0x47,   /* PRE=0 for a page request */
    IMS_VTD_FR_SCT_9 = 0x48,   /* RID_PASID error */
    IMS_VTD_FR_SCT_10 = 0x49,  /* see spec rev 5.10 Table 30 */
    IMS_VTD_FR_SPD_1 = 0x50,   /* error accessing the PASID-directory entry */
    IMS_VTD_FR_SPD_2 = 0x51,   /* directory entry P=0 */
    IMS_VTD_FR_SPD_3 = 0x52,   /* reserved bit set in directory entry */
    IMS_VTD_FR_SPT_1 = 0x58,   /* error accessing the PASID-table entry */
    IMS_VTD_FR_SPT_2 = 0x59,   /* PASID entry P=0 */
    IMS_VTD_FR_SPT_3 = 0x5A,   /* reserved bit set in PASID entry */
    IMS_VTD_FR_SPT_4 = 0x5B,   /* invalid PASID entry (PGTT, AW, FSPM unsupported) */
    IMS_VTD_FR_SPT_5 = 0x5C,   /* ERE=0 for an execute request */
    IMS_VTD_FR_SPT_6 = 0x5D,   /* SRE=0 for a supervisor request */
    IMS_VTD_FR_SPT_9 = 0x60,   /* see spec rev 5.10 Table 30 */
    IMS_VTD_FR_SFS_1 = 0x70,   /* error accessing an FS entry */
    IMS_VTD_FR_SFS_2 = 0x71,   /* FS entry P=0 */
    IMS_VTD_FR_SFS_3 = 0x72,   /* reserved bit set in FS entry */
    IMS_VTD_FR_SFS_4 = 0x73,   /* error accessing the FS root (FSPTPTR) */
    IMS_VTD_FR_SFS_5 = 0x74,   /* nested: FS table GPA beyond the SS width */
    IMS_VTD_FR_SFS_6 = 0x75,   /* nested: SS read fault on the FS root */
    IMS_VTD_FR_SFS_7 = 0x76,   /* nested: SS read fault on an FS entry */
    IMS_VTD_FR_SFS_8 = 0x77,   /* nested: SS write fault on an FS entry (A/D update) */
    IMS_VTD_FR_SSS_1 = 0x78,   /* error accessing an SS entry */
    IMS_VTD_FR_SSS_2 = 0x79,   /* SS entry not present (R=W=0) */
    IMS_VTD_FR_SSS_3 = 0x7A,   /* reserved bit set in SS entry */
    IMS_VTD_FR_SSS_4 = 0x7B,   /* invalid SS table pointer */
    IMS_VTD_FR_SSS_5 = 0x7C,   /* SS A/D update needed in a non-snooped walk */
    IMS_VTD_FR_SSS_6 = 0x7D,   /* see spec rev 5.10 Table 30 */
    IMS_VTD_FR_SGN_1 = 0x80,   /* non-canonical FS input address */
    IMS_VTD_FR_SGN_2 = 0x81,   /* U/S=0 for a user request */
    IMS_VTD_FR_SGN_3 = 0x82,   /* execute not permitted */
    IMS_VTD_FR_SGN_4 = 0x83,   /* address beyond the hardware/AW maximum */
    IMS_VTD_FR_SGN_5 = 0x84,   /* SS entry address beyond the maximum */
    IMS_VTD_FR_SGN_6 = 0x85,   /* write not permitted */
    IMS_VTD_FR_SGN_7 = 0x86,   /* read not permitted */
    IMS_VTD_FR_SGN_8 = 0x87,   /* output address in the interrupt range */
    IMS_VTD_FR_SGN_10 = 0x89,  /* PASID wider than ECAP.PSS */
    IMS_VTD_FR_SFS_9 = 0x90,   /* FS A/D update needed in a non-snooped walk */
    IMS_VTD_FR_SFS_10 = 0x91,  /* FS A/D update failed */
};

/* "SCT.2" style ID and a short description; "unknown" for undefined codes. */
const char *ims_vtd_fault_id(uint8_t fr);
const char *ims_vtd_fault_desc(uint8_t fr);
/* Whether a fault reason is "qualified", i.e. suppressed by FPD (vtd-facts §1.9:
 * root-entry-not-present and table-access errors are never suppressed). */
bool ims_vtd_fault_is_qualified(uint8_t fr);

#ifdef __cplusplus
}
#endif
#endif
