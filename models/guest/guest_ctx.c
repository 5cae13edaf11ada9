/* The guest's scalable-mode root/context/PASID tables in guest memory, as
 * its IOMMU driver writes them (vtd-facts §2.2, §2.4-§2.6): root entry per bus
 * (lower/upper context table), 256-bit context entries, 8-byte PASID
 * directory entries, 512-bit PASID-table entries. */
#include <string.h>

#include "models/guest/guest_internal.h"
#include "models/vtd/entries.h"
#include "models/vtd/translate.h"

uint64_t ims_guest_alloc_page_(ims_guest *g)
{
    uint64_t hpa = ims_pa_alloc_pages(&g->pool, 1, 0);
    return hpa ? hpa - g->ram_hpa : 0;
}

bool ims_guest_write_gpa_(ims_guest *g, uint64_t gpa, const void *buf, size_t len)
{
    uint64_t hpa;
    return ims_vmm_gpa_to_hpa(g->vmm, gpa, len, &hpa) && ims_physmem_write(g->mem, hpa, buf, len) == 0;
}

bool ims_guest_read_gpa_(ims_guest *g, uint64_t gpa, void *buf, size_t len)
{
    uint64_t hpa;
    return ims_vmm_gpa_to_hpa(g->vmm, gpa, len, &hpa) && ims_physmem_read(g->mem, hpa, buf, len) == 0;
}

int ims_guest_write_context_(ims_guest *g, gdev *d)
{
    unsigned bus = d->sid >> 8, devfn = d->sid & 0xFF;
    bool upper = devfn >= 128;
    uint64_t re[2];
    if (!ims_guest_read_gpa_(g, g->root_gpa + bus * 16u, re, sizeof re))
        return -EIO;
    uint64_t ctp = upper ? (ims_vtd_smre_up(re) ? ims_vtd_smre_uctp(re) : 0)
                         : (ims_vtd_smre_lp(re) ? ims_vtd_smre_lctp(re) : 0);
    if (!ctp) {
        if (!(ctp = ims_guest_alloc_page_(g)))
            return -ENOMEM;
        if (upper) {
            ims_vtd_smre_set_uctp(re, ctp);
            ims_vtd_smre_set_up(re, true);
        } else {
            ims_vtd_smre_set_lctp(re, ctp);
            ims_vtd_smre_set_lp(re, true);
        }
        ims_guest_write_gpa_(g, g->root_gpa + bus * 16u, re, sizeof re);
    }
    /* The directory covers the device's PASID width: 2^(PDTS+7) entries of
     * 64 PASIDs each. */
    unsigned bits = d->pasid_bits ? d->pasid_bits : 1;
    d->pdts = bits > 13 ? bits - 13 : 0;
    uint64_t dir_pages = ((UINT64_C(1) << (d->pdts + 7)) * 8u) / IMS_PAGE_SIZE;
    uint64_t dir_hpa = ims_pa_alloc_pages(&g->pool, dir_pages ? dir_pages : 1, 0);
    if (!dir_hpa)
        return -ENOMEM;
    d->pasid_dir = dir_hpa - g->ram_hpa;
    uint64_t ce[4] = {0};
    ims_vtd_smce_set_p(ce, true);
    ims_vtd_smce_set_dte(ce, d->ats);
    ims_vtd_smce_set_paside(ce, d->pasid_bits > 0);
    ims_vtd_smce_set_pdts(ce, d->pdts);
    ims_vtd_smce_set_pasiddirptr(ce, d->pasid_dir);
    ims_vtd_smce_set_rid_pasid(ce, 0);
    return ims_guest_write_gpa_(g, ctp + (devfn & 127u) * 32u, ce, sizeof ce) ? 0 : -EIO;
}

int ims_guest_write_pasid_entry_(ims_guest *g, gdev *d, const gdom *dom, bool present)
{
    uint64_t de = 0;
    uint64_t de_gpa = d->pasid_dir + (uint64_t)(dom->pasid >> 6) * 8u;
    if (!ims_guest_read_gpa_(g, de_gpa, &de, sizeof de))
        return -EIO;
    if (!ims_vtd_pdire_p(&de)) {
        if (!present)
            return 0;
        uint64_t t = ims_guest_alloc_page_(g);
        if (!t)
            return -ENOMEM;
        de = 0;
        ims_vtd_pdire_set_smptblptr(&de, t);
        ims_vtd_pdire_set_p(&de, true);
        ims_guest_write_gpa_(g, de_gpa, &de, sizeof de);
    }
    uint64_t pe[8] = {0};
    if (present) {
        ims_vtd_pasidte_set_did(pe, dom->did);
        if (dom->fs) {
            ims_vtd_pasidte_set_pgtt(pe, IMS_VTD_PGTT_FS);
            ims_vtd_pasidte_set_fsptptr(pe, dom->pt.root);
            ims_vtd_pasidte_set_fspm(pe, dom->pt.levels == 5 ? 1 : 0);
        } else {
            ims_vtd_pasidte_set_pgtt(pe, IMS_VTD_PGTT_SS);
            ims_vtd_pasidte_set_ssptptr(pe, dom->pt.root);
            ims_vtd_pasidte_set_aw(pe, dom->pt.levels - 2);
        }
        ims_vtd_pasidte_set_p(pe, true);
    }
    uint64_t pe_gpa = ims_vtd_pdire_smptblptr(&de) + (dom->pasid & 63u) * 64u;
    return ims_guest_write_gpa_(g, pe_gpa, pe, sizeof pe) ? 0 : -EIO;
}
