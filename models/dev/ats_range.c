/* PCIe ATS invalidation range encoding; see ats_range.h for the rules. */
#include "models/dev/ats_range.h"

#include <errno.h>

#define PAGE_MASK_LO ((UINT64_C(1) << IMS_ATS_PAGE_SHIFT) - 1)

/* Byte-size mask of a block below the whole space (order < 52). */
static uint64_t block_mask(unsigned order)
{
    return (UINT64_C(1) << (IMS_ATS_PAGE_SHIFT + order)) - 1;
}

int ims_ats_range_encode(const ims_ats_range *r, uint64_t *addr, bool *s)
{
    if (r->order > IMS_ATS_ORDER_WHOLE)
        return -EINVAL;
    if (r->order == IMS_ATS_ORDER_WHOLE) {
        if (r->base != 0)
            return -EINVAL;
        *addr = IMS_ATS_ADDR_WHOLE;
        *s = true;
        return 0;
    }
    if (r->base & block_mask(r->order))
        return -EINVAL;
    if (r->order == 0) {
        *addr = r->base;
        *s = false;
        return 0;
    }
    /* order k >= 1: ones in bits 12 .. 12+k-2, a zero at bit 12+k-1. */
    uint64_t ones = block_mask(r->order - 1) & ~PAGE_MASK_LO;
    *addr = r->base | ones;
    *s = true;
    return 0;
}

int ims_ats_range_decode(uint64_t addr, bool s, ims_ats_range *out)
{
    addr &= ~PAGE_MASK_LO;
    if (!s) {
        out->base = addr;
        out->order = 0;
        return 0;
    }
    uint64_t pfn = addr >> IMS_ATS_PAGE_SHIFT; /* 52 significant bits */
    uint64_t inv = ~pfn & ((UINT64_C(1) << 52) - 1);
    if (inv == 0)
        return -EINVAL; /* no terminating zero bit */
    unsigned t = (unsigned)__builtin_ctzll(inv); /* trailing ones from bit 12 */
    out->order = t + 1;
    out->base = out->order >= IMS_ATS_ORDER_WHOLE ? 0 : addr & ~block_mask(out->order);
    return 0;
}

int ims_ats_range_from_bytes(uint64_t addr, uint64_t size, ims_ats_range *out)
{
    if (size < (UINT64_C(1) << IMS_ATS_PAGE_SHIFT) || (size & (size - 1)) != 0)
        return -EINVAL;
    if (addr & (size - 1))
        return -EINVAL;
    out->base = addr;
    out->order = (unsigned)__builtin_ctzll(size) - IMS_ATS_PAGE_SHIFT;
    return 0;
}

int ims_ats_range_cover(uint64_t addr, uint64_t size, ims_ats_range *out)
{
    if (size == 0 || size - 1 > UINT64_MAX - addr)
        return -EINVAL;
    uint64_t first = addr >> IMS_ATS_PAGE_SHIFT;
    uint64_t last = (addr + (size - 1)) >> IMS_ATS_PAGE_SHIFT;
    /* The block must hold every page number bit in which first and last
     * differ: its order is the position of their highest differing bit + 1. */
    uint64_t diff = first ^ last;
    unsigned order = diff ? 64u - (unsigned)__builtin_clzll(diff) : 0u;
    out->order = order;
    out->base = order >= IMS_ATS_ORDER_WHOLE ? 0 : (first << IMS_ATS_PAGE_SHIFT) & ~block_mask(order);
    return 0;
}

uint64_t ims_ats_range_last(const ims_ats_range *r)
{
    if (ims_ats_range_is_whole(r))
        return UINT64_MAX;
    return r->base + block_mask(r->order);
}

bool ims_ats_range_overlaps(const ims_ats_range *r, uint64_t first, uint64_t last)
{
    return first <= ims_ats_range_last(r) && last >= r->base;
}
