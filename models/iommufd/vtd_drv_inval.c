/* IOMMU_HWPT_INVALIDATE on a nested domain: iommu_hwpt_vtd_s1_invalidate
 * entries turned into queued invalidations (iommufd-facts §2.7, [7.1mw]).
 *
 * Entries are checked in order; the first bad one stops the call and *num
 * reports how many were handled before it (their flushes still go out):
 *   entry length other than 24 -> EINVAL (the copy rule), NULL array -> EFAULT,
 *   flags other than LEAF or reserved != 0 -> EOPNOTSUPP,
 *   addr not 4 KiB aligned, or npages = U64_MAX with addr != 0 -> EINVAL.
 * Each entry is one cache_tag_flush_range over [addr, addr + npages*4K - 1]
 * with IH = LEAF: per IOTLB tag a PASID-based IOTLB invalidation (page-
 * selective with the computed address/mask, PASID-selective when the mask
 * reaches 52), per device-TLB tag a device-TLB invalidation (type 3 for the
 * RID's PASID 0, type 8 otherwise) with the same address/mask.
 *
 * Decisions: npages = 0 flushes nothing (6.8 warned and skipped it; later
 * kernels compute with an empty range); a range whose byte size overflows
 * (other than the documented addr 0 / U64_MAX) is treated as everything. */
#include <string.h>

#include "models/iommufd/uapi.h"
#include "models/iommufd/vtd_drv_internal.h"

static unsigned ilog2_u64(uint64_t v) { return 63u - (unsigned)__builtin_clzll(v); }

/* calculate_psi_aligned_address: the smallest naturally aligned block of
 * 2^mask pages covering the range; when the start is not aligned to the
 * rounded size, the mask grows to the lowest bit above it where the first and
 * last page numbers agree (52 if none). */
unsigned ims_vtd_drv_psi_mask(uint64_t start, uint64_t end, uint64_t *addr)
{
    if (end < start || (start == 0 && end == UINT64_MAX)) {
        *addr = 0;
        return DRV_MASK_ALL;
    }
    uint64_t pfn = start >> IMS_PAGE_SHIFT;
    uint64_t pages = (end >> IMS_PAGE_SHIFT) - pfn + 1; /* <= 2^52 */
    unsigned mask = ilog2_u64(pages);
    if (pages & (pages - 1))
        mask++;
    uint64_t bitmask = (UINT64_C(1) << mask) - 1;
    if (bitmask & pfn) {
        uint64_t end_pfn = pfn + pages - 1;
        uint64_t shared = ~(pfn ^ end_pfn) & ~bitmask;
        mask = shared ? (unsigned)__builtin_ctzll(shared) : DRV_MASK_ALL;
    }
    if (mask >= DRV_MASK_ALL) {
        *addr = 0;
        return DRV_MASK_ALL;
    }
    *addr = start & ~((IMS_PAGE_SIZE << mask) - 1);
    return mask;
}

int drv_cache_invalidate_user(void *drv, ims_drv_domain *dom, uint32_t data_type, const void *entries,
                              uint32_t entry_len, uint32_t *num, ims_drv_done done)
{
    ims_vtd_drv *d = drv;
    uint32_t n = *num;
    *num = 0;
    if (!dom || dom->kind != IMS_VTD_DRV_DOM_NESTED)
        return -EINVAL;
    if (data_type != IMS_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1)
        return -EINVAL;
    drv_op *op = drv_op_new();
    if (!op)
        return -ENOMEM;
    int rc = 0;
    uint32_t handled = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (entry_len != sizeof(ims_iommu_hwpt_vtd_s1_invalidate)) {
            rc = -EINVAL;
            break;
        }
        if (!entries) {
            rc = -EFAULT;
            break;
        }
        ims_iommu_hwpt_vtd_s1_invalidate e;
        memcpy(&e, (const char *)entries + (size_t)i * entry_len, sizeof e);
        if ((e.flags & ~IMS_IOMMU_VTD_INV_FLAGS_LEAF) || e.reserved) {
            rc = -EOPNOTSUPP;
            break;
        }
        if ((e.addr & (IMS_PAGE_SIZE - 1)) || (e.npages == UINT64_MAX && e.addr != 0)) {
            rc = -EINVAL;
            break;
        }
        if (e.npages) {
            uint64_t start = e.addr, end;
            if (e.npages > (UINT64_MAX >> IMS_PAGE_SHIFT) ||
                e.addr + (e.npages << IMS_PAGE_SHIFT) - 1 < e.addr) {
                start = 0;
                end = UINT64_MAX;
            } else {
                end = e.addr + (e.npages << IMS_PAGE_SHIFT) - 1;
            }
            drv_flush_range(d, op, dom, start, end, (e.flags & IMS_IOMMU_VTD_INV_FLAGS_LEAF) != 0);
        }
        handled++;
    }
    *num = handled;
    if (rc) {
        /* The entries before the bad one were flushed; the call still fails
         * (and so never calls done). */
        drv_op_start(d, op, (ims_drv_done){NULL, NULL});
        return rc;
    }
    return drv_op_start(d, op, done);
}
