/* A bump allocator of 4 KiB-aligned physical pages within [base, end), used by
 * table builders (tests, the host driver model, trace generators) to place
 * translation structures in simulated memory. Pages are zeroed in memory on
 * allocation, so a recycled range never shows stale entries. */
#ifndef IMS_MEM_PA_ALLOC_H
#define IMS_MEM_PA_ALLOC_H

#include <stdint.h>

#include "models/mem/physmem.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ims_pa_alloc {
    ims_physmem *mem;
    uint64_t base, next, end;
} ims_pa_alloc;

static inline void ims_pa_alloc_init(ims_pa_alloc *a, ims_physmem *mem, uint64_t base, uint64_t end)
{
    a->mem = mem;
    a->base = (base + IMS_PAGE_SIZE - 1) & ~(IMS_PAGE_SIZE - 1);
    a->next = a->base;
    a->end = end;
}

/* Allocate `pages` contiguous zeroed pages aligned to `align` bytes (a power of
 * two >= 4096, or 0 for 4096). Returns the address, or 0 when the range is
 * exhausted (address 0 is never handed out). */
static inline uint64_t ims_pa_alloc_pages(ims_pa_alloc *a, uint64_t pages, uint64_t align)
{
    if (align < IMS_PAGE_SIZE)
        align = IMS_PAGE_SIZE;
    uint64_t at = (a->next + align - 1) & ~(align - 1);
    if (at == 0)
        at = align;
    uint64_t bytes = pages * IMS_PAGE_SIZE;
    if (pages == 0 || at < a->next || at + bytes < at || at + bytes > a->end)
        return 0;
    if (ims_physmem_fill(a->mem, at, 0, (size_t)bytes))
        return 0;
    a->next = at + bytes;
    return at;
}

#ifdef __cplusplus
}
#endif
#endif
