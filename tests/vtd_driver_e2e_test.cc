// End to end (issue 5 "done means"): host memory + VT-d unit + host driver. A nest-parent domain maps guest
// RAM, a nested domain points at a stage-1 table the guest built in its own memory, a device is attached by
// RID; a DMA translates through both stages in the unit's pipeline and equals the golden functional walk; one
// page invalidated through cache_invalidate_user submits exactly the expected descriptors and removes the
// IOTLB entry; an S2 unmap of the parent reaches the nested translation too.
// Facts: iommufd-facts.md §2.4, §2.7, §2.8; vtd-facts.md §3.2, §5.1.
#include "tests/vtd_driver_fixture.h"

#include "models/vtd/iotlb.h"
#include "models/vtd/vtd_caches.h"

using namespace vtddrv;

namespace {

constexpr uint16_t kSid = 0x0300;
constexpr uint64_t kRam = 64ULL << 20;             // guest RAM: GPA [0, 64 MiB)
constexpr uint64_t kGva = 0x7f12'3450'0000ULL;     // a guest virtual page...
constexpr uint64_t kGpa = 0x200'0000ULL;           // ...backed by GPA 32 MiB (a 2 MiB S2 leaf)
constexpr uint64_t kGva2 = 0x7f12'3460'0000ULL;    // a 2 MiB guest page
constexpr uint64_t kGpa2 = 0x260'0000ULL;

void expect_same(const ims_vtd_result &a, const ims_vtd_result &b)
{
    EXPECT_EQ(a.fault, b.fault);
    EXPECT_EQ(a.pa, b.pa);
    EXPECT_EQ(a.page_size, b.page_size);
    EXPECT_EQ(a.r, b.r);
    EXPECT_EQ(a.w, b.w);
}

TEST(VtdDriverE2E, NestedTranslationAndOnePageInvalidation)
{
    DrvSys s;
    ASSERT_EQ(s.ready.status, 0);
    s.add_dev(kSid, /*ats=*/true);

    // Host: nest parent over the IOAS, guest RAM mapped GPA -> kGuestBase + GPA (2 MiB superpages).
    ims_drv_domain *parent = s.paging(kSid, IMS_DRV_ALLOC_NEST_PARENT);
    ASSERT_EQ(s.map(parent, 0, kGuestBase, kRam), 0);
    ims_pt_builder s2 = s.view(parent);
    ims_pt_mapping pm;
    ASSERT_EQ(ims_pt_lookup(&s2, kGpa, &pm), 0);
    EXPECT_EQ(pm.page_size, 2ULL << 20);

    // Guest: a 4-level stage-1 table in its own RAM (named by GPA), GVA -> GPA.
    ims_pt_builder s1{};
    ASSERT_EQ(ims_pt_builder_init(&s1, s.mem, &s.guest, IMS_PT_FORMAT_FS, 4, kGuestBase, &s.err), 0) << s.err.msg;
    ASSERT_EQ(ims_pt_map(&s1, kGva, kGpa, 0x1000, 0x1000, IMS_PT_RW | IMS_PT_U, &s.err), 0) << s.err.msg;
    ASSERT_EQ(ims_pt_map(&s1, kGva2, kGpa2, 2ULL << 20, 2ULL << 20, IMS_PT_RW | IMS_PT_U, &s.err), 0);
    EXPECT_LT(s1.root, kRam);  // a GPA

    // VMM: nested HWPT with the guest's table, device attached by RID.
    ims_drv_domain *kid = s.nested(kSid, parent, s1.root, 48);
    ASSERT_EQ(s.attach(kid, kSid), 0);
    uint16_t did = ims_vtd_drv_domain_did(kid);
    ASSERT_NE(did, 0u);

    // A DMA read without PASID: RID_PASID 0 -> nested entry -> both stages.
    ims_vtd_req q = DrvSys::req(kSid, kGva + 0x123, false);
    ims_xlate_req x = s.translate(q);
    ASSERT_EQ(x.res.fault, 0u);
    EXPECT_EQ(x.res.pa, kGuestBase + kGpa + 0x123);
    EXPECT_EQ(x.res.ctx.pgtt, IMS_VTD_PGTT_NESTED);
    expect_same(x.res, s.golden(q));
    ims_vtd_req q2 = DrvSys::req(kSid, kGva2 + 0x1234, true);
    ims_xlate_req x2 = s.translate(q2);
    ASSERT_EQ(x2.res.fault, 0u);
    EXPECT_EQ(x2.res.pa, kGuestBase + kGpa2 + 0x1234);
    expect_same(x2.res, s.golden(q2));
    // vtd-facts §5.1: nested translations are tagged by DID + PASID.
    ims_iotlb *tlb = ims_vtd_unit_caches(s.u)->iotlb;
    EXPECT_NE(ims_iotlb_peek(tlb, did, IMS_VTD_PGTT_NESTED, 0, kGva), nullptr);
    EXPECT_NE(ims_iotlb_peek(tlb, did, IMS_VTD_PGTT_NESTED, 0, kGva2), nullptr);

    // The guest unmaps one page; the VMM forwards HWPT_INVALIDATE for it.
    ASSERT_EQ(ims_pt_unmap(&s1, kGva, 0x1000, &s.err), 0x1000);
    uint64_t m = s.mark();
    size_t ats_before = s.ats.msgs.size();
    uint32_t num = 0;
    ims_iommu_hwpt_vtd_s1_invalidate e{};
    e.addr = kGva;
    e.npages = 1;
    ASSERT_EQ(s.invalidate(kid, {e}, &num), 0);
    EXPECT_EQ(num, 1u);
    // iommufd-facts §2.7: P_IOTLB G=3 (DID = nested DID, PASID 0, addr, AM 0) + device TLB (type 3).
    auto v = s.since(m);
    EXPECT_EQ(v, (std::vector<Desc>{piotlb_page(did, 0, kGva, 0, false), dev_tlb(kSid, kGva, 0)})) << show(v);
    ASSERT_EQ(s.ats.msgs.size(), ats_before + 1);
    EXPECT_EQ(s.ats.msgs.back().sid, kSid);
    EXPECT_EQ(s.ats.msgs.back().addr, kGva);
    EXPECT_FALSE(s.ats.msgs.back().s);
    // Exactly that entry is gone; the other page stays cached.
    EXPECT_EQ(ims_iotlb_peek(tlb, did, IMS_VTD_PGTT_NESTED, 0, kGva), nullptr);
    EXPECT_NE(ims_iotlb_peek(tlb, did, IMS_VTD_PGTT_NESTED, 0, kGva2), nullptr);
    // The next DMA walks again and now faults like the golden walk.
    ims_xlate_req x3 = s.translate(q);
    EXPECT_NE(x3.res.fault, 0u);
    EXPECT_EQ(x3.res.fault, s.golden(q).fault);

    // The host unmaps the S2 leaf behind the 2 MiB guest page: the flush by the nested DID (§2.8) removes
    // the nested translation that used it.
    m = s.mark();
    ASSERT_EQ(s.unmap(parent, kGpa2, 2ULL << 20), 0);
    v = s.since(m);
    EXPECT_EQ(v, (std::vector<Desc>{iotlb_psi(did, kGpa2, 9, true), dev_tlb(kSid, 0, 52)})) << show(v);
    EXPECT_EQ(ims_iotlb_peek(tlb, did, IMS_VTD_PGTT_NESTED, 0, kGva2), nullptr);
    ims_xlate_req x4 = s.translate(q2);
    EXPECT_NE(x4.res.fault, 0u);
    expect_same(x4.res, s.golden(q2));
}

}  // namespace
