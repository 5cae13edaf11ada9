/* IOAS queries that need no area internals (ioas.c keeps the area tree):
 * IOAS_IOVA_RANGES (EMSGSIZE protocol) and the inspection counters.
 * Semantics: iommufd-facts §1.3 and the kernel's io_pagetable ([7.1mw]). */
#include "models/iommufd/iommufd_internal.h"

#include <errno.h>

int ims_ifd_cmd_ioas_iova_ranges(ims_ifd_call *c)
{
    ims_iommu_ioas_iova_ranges *cmd = c->cmd;
    if (cmd->reserved)
        return ims_ifd_fail(c->ctx, EOPNOTSUPP, "IOAS_IOVA_RANGES: reserved 0x%x", cmd->reserved);
    const ims_ifd_ioas *ioas = (const ims_ifd_ioas *)ims_ifd_obj_get(c->ctx, cmd->ioas_id, IMS_IOMMUFD_OBJ_IOAS);
    if (!ioas)
        return ims_ifd_fail(c->ctx, ENOENT, "IOAS_IOVA_RANGES: no IOAS %u", cmd->ioas_id);
    uint32_t cap = cmd->num_iovas, n = 0;
    ims_iommu_iova_range *out = (ims_iommu_iova_range *)(uintptr_t)cmd->allowed_iovas;
    /* The usable ranges are the holes between reserved ranges; the count is
     * always complete so a caller can grow its buffer and ask again. */
    ims_iommufd_range holes[1];
    uint64_t cand = 0;
    bool to_end = true;
    for (size_t i = 0; i <= ioas->nresv; i++) {
        size_t nh = 0;
        if (i == ioas->nresv) {
            if (to_end)
                holes[nh++] = (ims_iommufd_range){cand, UINT64_MAX};
        } else {
            const ims_ifd_resv *r = &ioas->resv[i];
            if (!to_end || r->last < cand)
                continue;
            if (r->start > cand)
                holes[nh++] = (ims_iommufd_range){cand, r->start - 1};
            if (r->last == UINT64_MAX)
                to_end = false;
            else
                cand = r->last + 1;
        }
        for (size_t h = 0; h < nh; h++, n++) {
            if (n >= cap)
                continue;
            if (!out)
                return ims_ifd_fail(c->ctx, EFAULT, "IOAS_IOVA_RANGES: NULL allowed_iovas");
            out[n] = (ims_iommu_iova_range){.start = holes[h].start, .last = holes[h].last};
        }
    }
    cmd->num_iovas = n;
    cmd->out_iova_alignment = ioas->iova_alignment;
    c->respond = true;
    if (n > cap)
        return ims_ifd_fail(c->ctx, EMSGSIZE, "IOAS_IOVA_RANGES: %u ranges, room for %u", n, cap);
    return 0;
}

/* ---- inspection --------------------------------------------------------- */

size_t ims_iommufd_ioas_area_count(const ims_iommufd *ctx, uint32_t ioas_id)
{
    const ims_ifd_ioas *ioas = (const ims_ifd_ioas *)ims_ifd_obj_get(ctx, ioas_id, IMS_IOMMUFD_OBJ_IOAS);
    return ioas ? ioas->nareas : 0;
}

uint64_t ims_iommufd_ioas_alignment(const ims_iommufd *ctx, uint32_t ioas_id)
{
    const ims_ifd_ioas *ioas = (const ims_ifd_ioas *)ims_ifd_obj_get(ctx, ioas_id, IMS_IOMMUFD_OBJ_IOAS);
    return ioas ? ioas->iova_alignment : 0;
}
