// The VT-d host driver's invalidations: strict unmap flushes and their propagation from a nest parent to its
// nested children, HWPT_INVALIDATE entries turned into descriptors (worked examples, partial completion),
// qi_submit_sync (batches of 16 + wait, timing, serialisation, IQE recovery, ITE retry / ETIMEDOUT), and dirty
// tracking. Facts: iommufd-facts.md §2.7-§2.10 ([7.1mw]); vtd-facts.md §1.8, §1.10, §4.11.
#include "tests/vtd_driver_fixture.h"

#include "models/vtd/pte.h"

using namespace vtddrv;

namespace {

constexpr uint16_t kSidA = 0x0100, kSidB = 0x0208, kSidC = 0x0310;

ims_iommu_hwpt_vtd_s1_invalidate inv(uint64_t addr, uint64_t npages, uint32_t flags = 0, uint32_t rsvd = 0)
{
    ims_iommu_hwpt_vtd_s1_invalidate e{};
    e.addr = addr;
    e.npages = npages;
    e.flags = flags;
    e.reserved = rsvd;
    return e;
}

// ---- calculate_psi_aligned_address --------------------------------------------------------------------------

TEST(VtdDriverInval, PsiMaskWorkedExamples)
{
    uint64_t addr = 1;
    // iommufd-facts §2.7 [7.1mw] worked examples (derived there): inclusive byte ranges.
    EXPECT_EQ(ims_vtd_drv_psi_mask(0x1000, 0x1000 + 3 * 4096 - 1, &addr), 2u);
    EXPECT_EQ(addr, 0u);
    EXPECT_EQ(ims_vtd_drv_psi_mask(0x3000, 0x3000 + 2 * 4096 - 1, &addr), 3u);
    EXPECT_EQ(addr, 0u);
    EXPECT_EQ(ims_vtd_drv_psi_mask(0x200000, 0x200000 + 512 * 4096 - 1, &addr), 9u);
    EXPECT_EQ(addr, 0x200000u);
    // addr 0, npages U64_MAX: end 0xFFFFFFFFFFFFEFFF -> 2^52 pages -> mask 52.
    EXPECT_EQ(ims_vtd_drv_psi_mask(0, 0xFFFFFFFFFFFFEFFFULL, &addr), 52u);
    EXPECT_EQ(addr, 0u);
    EXPECT_EQ(ims_vtd_drv_psi_mask(0x5000, 0x5FFF, &addr), 0u);
    EXPECT_EQ(addr, 0x5000u);
    // Two pages straddling a 2-page boundary (PFN 1..2) need a 4-page block.
    EXPECT_EQ(ims_vtd_drv_psi_mask(0x1000, 0x2FFF, &addr), 2u);
    EXPECT_EQ(addr, 0u);
}

// ---- strict unmap --------------------------------------------------------------------------------------------

struct NestedPair {
    DrvSys s;
    ims_drv_domain *parent = nullptr, *kid1 = nullptr, *kid2 = nullptr;
    NestedPair(const Opts &o = Opts()) : s(o)
    {
        s.add_dev(kSidA, /*ats=*/true);
        s.add_dev(kSidB, /*ats=*/true);
        parent = s.paging(kSidA, IMS_DRV_ALLOC_NEST_PARENT);
        // 4 KiB pages (PA not 2 MiB aligned) over GPA [2 MiB, 2 MiB + 64 KiB).
        EXPECT_EQ(s.map(parent, 0x200000, 0x10001000, 0x10000), 0);
        kid1 = s.nested(kSidA, parent, 0x1000);
        kid2 = s.nested(kSidB, parent, 0x2000);
    }
};

TEST(VtdDriverUnmap, NestParentUnmapFlushesEachNestedChild)
{
    NestedPair n;
    DrvSys &s = n.s;
    ASSERT_EQ(s.attach(n.kid1, kSidA), 0);
    uint16_t d1 = ims_vtd_drv_domain_did(n.kid1);
    uint64_t m = s.mark();
    ASSERT_EQ(s.unmap(n.parent, 0x203000, 0x1000), 0);
    // iommufd-facts §2.8 [7.1mw]: per nested child, type-2 PSI by the child's DID over the S2 range (IH=1: no
    // table freed), then the child's device TLB flushed entirely (addr 0, mask 52).
    auto v = s.since(m);
    EXPECT_EQ(v, (std::vector<Desc>{iotlb_psi(d1, 0x203000, 0, true), dev_tlb(kSidA, 0, 52)})) << show(v);

    // Two children: tags are flushed in assignment order. The kernel loop keeps the whole-space address/mask
    // set by a NESTING_DEVTLB tag for the tags after it, so the second child's IOTLB flush has mask 52 >
    // CAP.MAMV (45) and falls back to DSI — reproduced as is.
    ASSERT_EQ(s.attach(n.kid2, kSidB), 0);
    uint16_t d2 = ims_vtd_drv_domain_did(n.kid2);
    m = s.mark();
    ASSERT_EQ(s.unmap(n.parent, 0x204000, 0x2000), 0);
    v = s.since(m);
    EXPECT_EQ(v, (std::vector<Desc>{iotlb_psi(d1, 0x204000, 1, true), dev_tlb(kSidA, 0, 52), iotlb_dsi(d2),
                                    dev_tlb(kSidB, 0, 52)}))
        << show(v);
    // Unmapping nothing flushes nothing.
    m = s.mark();
    EXPECT_EQ(s.unmap(n.parent, 0x40000000, 0x1000), 0);
    EXPECT_EQ(s.mark(), m);
}

TEST(VtdDriverUnmap, PsiFallsBackToDsiWithoutPsiOrBeyondMamv)
{
    // CAP.PSI=0 -> DSI (iommufd-facts §2.8).
    NestedPair n(Opts().with_cap(IMS_VTD_SET(IMS_VTD_CAP_PSI, IMS_VTD_DEFAULT_CAP, 0)));
    ASSERT_EQ(n.s.attach(n.kid1, kSidA), 0);
    uint16_t d1 = ims_vtd_drv_domain_did(n.kid1);
    uint64_t m = n.s.mark();
    ASSERT_EQ(n.s.unmap(n.parent, 0x203000, 0x1000), 0);
    EXPECT_EQ(n.s.since(m), (std::vector<Desc>{iotlb_dsi(d1), dev_tlb(kSidA, 0, 52)}));
    // MAMV=2: a 16-page range (mask 4) is too big for PSI.
    NestedPair n2(Opts().with_cap(IMS_VTD_SET(IMS_VTD_CAP_MAMV, IMS_VTD_DEFAULT_CAP, 2)));
    ASSERT_EQ(n2.s.attach(n2.kid1, kSidA), 0);
    d1 = ims_vtd_drv_domain_did(n2.kid1);
    m = n2.s.mark();
    ASSERT_EQ(n2.s.unmap(n2.parent, 0x200000, 0x10000), 0);
    EXPECT_EQ(n2.s.since(m), (std::vector<Desc>{iotlb_dsi(d1), dev_tlb(kSidA, 0, 52)}));
}

TEST(VtdDriverUnmap, PagingDomainsFlushTheirOwnTags)
{
    DrvSys s;
    s.add_dev(kSidA, /*ats=*/true, 8);
    s.add_dev(kSidC);
    ims_drv_domain *ss = s.paging(kSidA, IMS_DRV_ALLOC_DIRTY_TRACKING);
    ims_drv_domain *fs = s.paging(kSidA, 0);
    ASSERT_EQ(s.map(ss, 0x10000, 0x800000, 0x4000), 0);
    ASSERT_EQ(s.map(fs, 0x10000, 0x800000, 0x4000), 0);
    ASSERT_EQ(s.attach(ss, kSidA), 0);
    ASSERT_EQ(s.attach(ss, kSidC), 0);  // same (DID, PASID 0): one IOTLB tag, no device TLB for C
    ASSERT_EQ(s.attach(fs, kSidA, 3), 0);
    uint16_t sd = ims_vtd_drv_domain_did(ss), fd = ims_vtd_drv_domain_did(fs);
    uint64_t m = s.mark();
    ASSERT_EQ(s.unmap(ss, 0x12000, 0x2000), 0);
    // Second stage: type-2 PSI; device TLB (type 3, RID) with the same address and mask.
    auto v = s.since(m);
    EXPECT_EQ(v, (std::vector<Desc>{iotlb_psi(sd, 0x12000, 1, true), dev_tlb(kSidA, 0x12000, 1)})) << show(v);
    m = s.mark();
    ASSERT_EQ(s.unmap(fs, 0x10000, 0x1000), 0);
    // First stage: page-selective PASID-based IOTLB for the tag's PASID; PASID-based device TLB (type 8).
    v = s.since(m);
    EXPECT_EQ(v, (std::vector<Desc>{piotlb_page(fd, 3, 0x10000, 0, true), pdev_tlb(kSidA, 3, 0x10000, 0)}))
        << show(v);
    // A leaf only partly inside the range: EINVAL and no flush.
    ASSERT_EQ(s.map(ss, 0x400000, 0x600000, 0x200000), 0);
    m = s.mark();
    EXPECT_EQ(s.unmap(ss, 0x400000, 0x1000), -EINVAL);
    EXPECT_EQ(s.mark(), m);
}

// ---- HWPT_INVALIDATE -------------------------------------------------------------------------------------------

TEST(VtdDriverInval, WorkedExamplesBecomeDescriptors)
{
    DrvSys s;
    s.add_dev(kSidA, /*ats=*/true, 8);
    ims_drv_domain *parent = s.paging(kSidA, IMS_DRV_ALLOC_NEST_PARENT);
    ims_drv_domain *kid = s.nested(kSidA, parent, 0x1000);
    ASSERT_EQ(s.attach(kid, kSidA), 0);
    uint16_t did = ims_vtd_drv_domain_did(kid);
    uint64_t m = s.mark();
    uint32_t num = 0;
    std::vector<ims_iommu_hwpt_vtd_s1_invalidate> e = {inv(0x1000, 3), inv(0x3000, 2),
                                                       inv(0x200000, 512, IMS_IOMMU_VTD_INV_FLAGS_LEAF),
                                                       inv(0, UINT64_MAX)};
    ASSERT_EQ(s.invalidate(kid, e, &num), 0);
    EXPECT_EQ(num, 4u);
    // iommufd-facts §2.7 [7.1mw]: P_IOTLB G=3 with (addr, AM) from calculate_psi_aligned_address, IH = LEAF;
    // mask >= 52 -> P_IOTLB G=2; plus the device TLB (type 3: RID, PASID 0) with the same addr/mask.
    std::vector<uint64_t> b;
    auto v = s.since(m, &b);
    EXPECT_EQ(v, (std::vector<Desc>{piotlb_page(did, 0, 0, 2, false), dev_tlb(kSidA, 0, 2),
                                    piotlb_page(did, 0, 0, 3, false), dev_tlb(kSidA, 0, 3),
                                    piotlb_page(did, 0, 0x200000, 9, true), dev_tlb(kSidA, 0x200000, 9),
                                    piotlb_pasid(did, 0), dev_tlb(kSidA, 0, 52)}))
        << show(v);
    // One qi_submit_sync per entry (one cache_tag_flush_range each).
    ASSERT_EQ(b.size(), 8u);
    EXPECT_EQ(b[0], b[1]);
    EXPECT_NE(b[1], b[2]);
    EXPECT_NE(b[5], b[6]);
    // A PASID attachment adds its own tags: type 6 with that PASID and a PASID-based device TLB (type 8).
    ASSERT_EQ(s.attach(kid, kSidA, 9), 0);
    m = s.mark();
    ASSERT_EQ(s.invalidate(kid, {inv(0x5000, 1)}, &num), 0);
    v = s.since(m);
    EXPECT_EQ(v, (std::vector<Desc>{piotlb_page(did, 0, 0x5000, 0, false), dev_tlb(kSidA, 0x5000, 0),
                                    piotlb_page(did, 9, 0x5000, 0, false), pdev_tlb(kSidA, 9, 0x5000, 0)}))
        << show(v);
}

TEST(VtdDriverInval, ValidationOrderAndPartialCompletion)
{
    DrvSys s;
    s.add_dev(kSidA);
    ims_drv_domain *parent = s.paging(kSidA, IMS_DRV_ALLOC_NEST_PARENT);
    ims_drv_domain *kid = s.nested(kSidA, parent, 0x1000);
    ASSERT_EQ(s.attach(kid, kSidA), 0);
    uint16_t did = ims_vtd_drv_domain_did(kid);
    uint32_t num = 0;
    // iommufd-facts §2.7: the first bad entry stops the call; entry_num out = entries handled before it.
    struct Case {
        ims_iommu_hwpt_vtd_s1_invalidate bad;
        int rc;
    } cases[] = {
        {inv(0x2000, 1, 1u << 1), -EOPNOTSUPP},     // unknown flag
        {inv(0x2000, 1, 0, 1), -EOPNOTSUPP},        // reserved != 0
        {inv(0x2800, 1), -EINVAL},                  // not 4 KiB aligned
        {inv(0x1000, UINT64_MAX), -EINVAL},         // U64_MAX pages from a non-zero address
    };
    for (const Case &c : cases) {
        uint64_t m = s.mark();
        EXPECT_EQ(s.invalidate(kid, {inv(0x7000, 1), c.bad, inv(0x9000, 1)}, &num), c.rc);
        EXPECT_EQ(num, 1u);
        // Entry 0 was flushed even though the call failed; entries 1 and 2 were not.
        EXPECT_EQ(s.since(m), (std::vector<Desc>{piotlb_page(did, 0, 0x7000, 0, false)}));
        EXPECT_EQ(s.invalidate(kid, {c.bad}, &num), c.rc);
        EXPECT_EQ(num, 0u);
    }
    // Wrong array type -> EINVAL with nothing handled, even for zero entries.
    std::vector<ims_iommu_hwpt_vtd_s1_invalidate> none;
    EXPECT_EQ(s.invalidate(kid, {inv(0x7000, 1)}, &num, 1), -EINVAL);
    EXPECT_EQ(num, 0u);
    EXPECT_EQ(s.invalidate(kid, none, &num, 1), -EINVAL);
    // Entry length must be the struct size (copy rule): 23 and 25 -> EINVAL.
    EXPECT_EQ(s.invalidate(kid, {inv(0x7000, 1)}, &num, IMS_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, 23), -EINVAL);
    EXPECT_EQ(s.invalidate(kid, {inv(0x7000, 1)}, &num, IMS_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, 25), -EINVAL);
    EXPECT_EQ(num, 0u);
    // Zero entries of the right type: success, done called, nothing submitted.
    uint64_t m = s.mark();
    EXPECT_EQ(s.invalidate(kid, none, &num), 0);
    EXPECT_EQ(num, 0u);
    // npages 0: handled, nothing to flush (decision: as 6.8, no descriptor).
    EXPECT_EQ(s.invalidate(kid, {inv(0x7000, 0)}, &num), 0);
    EXPECT_EQ(num, 1u);
    EXPECT_EQ(s.mark(), m);
    // Not a nested domain -> EINVAL.
    EXPECT_EQ(s.invalidate(parent, {inv(0x7000, 1)}, &num), -EINVAL);
    EXPECT_EQ(num, 0u);
}

// ---- qi_submit_sync -------------------------------------------------------------------------------------------

TEST(VtdDriverQi, BatchesOfSixteenEachWithAWait)
{
    DrvSys s;
    std::vector<Desc> v;
    for (uint16_t i = 0; i < 20; i++)
        v.push_back(iotlb_dsi(100 + i));
    uint64_t m = s.mark();
    unsigned head = (unsigned)(s.rd(IMS_VTD_REG_IQT) >> 5);
    uint64_t submits = ims_vtd_drv_counters_get(s.drv)->submits;
    ASSERT_EQ(s.submit(v), 0);
    std::vector<uint64_t> b;
    EXPECT_EQ(s.since(m, &b), v);
    // iommufd-facts §2.10 / §2.7: at most 16 descriptors per qi_submit_sync, each followed by a wait.
    EXPECT_EQ(ims_vtd_drv_counters_get(s.drv)->submits, submits + 2);
    EXPECT_EQ(b[0], b[15]);
    EXPECT_NE(b[15], b[16]);
    uint64_t iqa = ims_vtd_iqa_iqa(s.rd(IMS_VTD_REG_IQA));
    uint64_t wait[4];
    for (int w = 0; w < 4; w++)
        wait[w] = ims_physmem_r64(s.mem, iqa + 32ull * (head + 16) + 8 * w);
    // vtd-facts §4.6: a wait descriptor with SW=1 writing a status word in host memory; not traced.
    EXPECT_EQ(ims_qi_type_of(wait), (unsigned)IMS_QI_TYPE_WAIT);
    EXPECT_TRUE(ims_qi_wait_sw(wait));
    EXPECT_FALSE(ims_qi_wait_if(wait));
    EXPECT_EQ(ims_physmem_r32(s.mem, ims_qi_wait_status_addr(wait)), ims_qi_wait_status_data(wait));
    EXPECT_EQ(s.rd(IMS_VTD_REG_IQT) >> 5, head + 22u);
    EXPECT_EQ(s.rd(IMS_VTD_REG_IQH), s.rd(IMS_VTD_REG_IQT));
}

TEST(VtdDriverQi, SoftwareCostsAndPolling)
{
    DrvSys s;
    ims_cycle submit = s.cycles("vtd_drv.submit_ns"), desc = s.cycles("vtd_drv.desc_ns");
    ims_cycle poll = s.cycles("vtd_drv.poll_ns");
    ims_cycle t0 = s.now();
    uint64_t m = s.mark();
    Done &a = s.done_slot(), &b = s.done_slot();
    Desc q1 = iotlb_dsi(7), q2 = iotlb_dsi(8);
    ASSERT_EQ(ims_vtd_drv_submit(s.drv, reinterpret_cast<const uint64_t(*)[4]>(&q1), 1, s.hook(a)), 0);
    ASSERT_EQ(ims_vtd_drv_submit(s.drv, reinterpret_cast<const uint64_t(*)[4]>(&q2), 1, s.hook(b)), 0);
    EXPECT_EQ(ims_vtd_drv_qi_busy(s.drv), 2u);
    s.run();
    ASSERT_TRUE(a.called && b.called);
    EXPECT_EQ(a.status, 0);
    EXPECT_EQ(b.status, 0);
    ims_vtd_drv_log_entry l1, l2;
    ASSERT_EQ(ims_vtd_drv_log_get(s.drv, m, &l1), 0);
    ASSERT_EQ(ims_vtd_drv_log_get(s.drv, m + 1, &l2), 0);
    // IQT write after the submit cost and one descriptor + the wait.
    EXPECT_EQ(l1.t, t0 + submit + 2 * desc);
    // Completion is seen at a poll: a whole number of poll periods after the IQT write, and not before the
    // hardware could have done it (fetch 197 + IOTLB 500 + wait 100 + status write 200 ns by default).
    EXPECT_EQ((a.t - l1.t) % poll, 0u);
    EXPECT_GE(a.t - l1.t, 997u);
    EXPECT_LT(a.t - l1.t, 997u + poll);
    // Serialised: the second batch is prepared once the first is done.
    EXPECT_EQ(l2.t, a.t + submit + 2 * desc);
    EXPECT_GT(b.t, a.t);
    EXPECT_EQ(ims_vtd_drv_qi_busy(s.drv), 0u);
}

TEST(VtdDriverQi, IqeFixesTheSlotClearsAndReturnsEinval)
{
    DrvSys s;
    Desc bad = iotlb_dsi(6);
    bad[0] |= 1ull << 8;  // vtd-facts §4.3: qw0 bit 8 is reserved -> IQE (IQEI 4)
    unsigned head = (unsigned)(s.rd(IMS_VTD_REG_IQT) >> 5);
    // iommufd-facts §2.10: IQE on our batch -> the faulting slot is overwritten with the wait descriptor,
    // FSTS.IQE cleared, -EINVAL.
    EXPECT_EQ(s.submit({iotlb_dsi(5), bad, iotlb_dsi(7)}), -EINVAL);
    EXPECT_FALSE(ims_vtd_fsts_iqe(s.rd(IMS_VTD_REG_FSTS, 4)));
    EXPECT_EQ(ims_vtd_drv_counters_get(s.drv)->iqe, 1u);
    uint64_t iqa = ims_vtd_iqa_iqa(s.rd(IMS_VTD_REG_IQA));
    uint64_t slot[4];
    for (int w = 0; w < 4; w++)
        slot[w] = ims_physmem_r64(s.mem, iqa + 32ull * (head + 1) + 8 * w);
    EXPECT_EQ(ims_qi_type_of(slot), (unsigned)IMS_QI_TYPE_WAIT);
    // The queue goes on: hardware drained the rest, and the next call succeeds.
    EXPECT_EQ(s.rd(IMS_VTD_REG_IQH), s.rd(IMS_VTD_REG_IQT));
    EXPECT_EQ(s.submit({iotlb_dsi(9)}), 0);
}

TEST(VtdDriverQi, IteRetriesThenTimesOut)
{
    DrvSys s(Opts().set("vtd_drv.ite_retries=2").set("qi.ats_timeout=5us"));
    s.add_dev(kSidA, /*ats=*/true);
    s.ats.drop = true;  // an endpoint that never answers invalidations (dev.ats_drop_inv)
    uint64_t m = s.mark();
    Desc d = dev_tlb(kSidA, 0, 52);
    EXPECT_EQ(s.submit({d}), -ETIMEDOUT);
    // iommufd-facts §2.10: ITE -> cleared, the batch (our wait aborted) resubmitted; bounded here.
    const ims_vtd_drv_counters *c = ims_vtd_drv_counters_get(s.drv);
    EXPECT_EQ(c->ite, 3u);
    EXPECT_EQ(c->retries, 2u);
    EXPECT_EQ(s.since(m), (std::vector<Desc>{d, d, d}));
    EXPECT_EQ(s.ats.msgs.size(), 3u);
    EXPECT_FALSE(ims_vtd_fsts_ite(s.rd(IMS_VTD_REG_FSTS, 4)));
    // A device that answers the retry: success after one resubmission.
    s.ats.drop = false;
    s.ats.drop_first = 1;
    EXPECT_EQ(s.submit({d}), 0);
    EXPECT_EQ(c->retries, 3u);
    // ITESID naming a device the driver does not know: no retry.
    s.ats.drop = true;
    EXPECT_EQ(s.submit({dev_tlb(0x4242, 0, 52)}), -ETIMEDOUT);
    EXPECT_EQ(c->retries, 3u);
}

TEST(VtdDriverQi, DescriptorLogKeepsTheLastEntries)
{
    DrvSys s(Opts().set("vtd_drv.log_depth=4"));
    uint64_t m = s.mark();  // the three bring-up descriptors
    EXPECT_EQ(m, 3u);
    std::vector<Desc> v;
    for (uint16_t i = 0; i < 6; i++)
        v.push_back(iotlb_dsi(40 + i));
    ASSERT_EQ(s.submit(v), 0);
    EXPECT_EQ(ims_vtd_drv_log_total(s.drv), 9u);
    ims_vtd_drv_log_entry le;
    EXPECT_EQ(ims_vtd_drv_log_get(s.drv, 4, &le), -ENOENT);  // dropped
    EXPECT_EQ(ims_vtd_drv_log_get(s.drv, 9, &le), -ENOENT);  // not yet
    ASSERT_EQ(ims_vtd_drv_log_get(s.drv, 5, &le), 0);
    EXPECT_EQ(Desc({le.qw[0], le.qw[1], le.qw[2], le.qw[3]}), v[2]);
    ASSERT_EQ(ims_vtd_drv_log_get(s.drv, 8, &le), 0);
    EXPECT_EQ(Desc({le.qw[0], le.qw[1], le.qw[2], le.qw[3]}), v[5]);
}

// ---- dirty tracking ---------------------------------------------------------------------------------------------

TEST(VtdDriverDirty, SsadeTogglesWithTheTable25Sequence)
{
    DrvSys s;
    s.add_dev(kSidA);
    s.add_dev(kSidB, /*ats=*/true);
    ims_drv_domain *parent = s.paging(kSidA, IMS_DRV_ALLOC_NEST_PARENT | IMS_DRV_ALLOC_DIRTY_TRACKING);
    ims_drv_domain *kid = s.nested(kSidB, parent, 0x1000);
    ims_drv_domain *fs = s.paging(kSidA, 0);
    ASSERT_EQ(s.attach(parent, kSidA), 0);
    ASSERT_EQ(s.attach(kid, kSidB), 0);
    uint16_t pd = ims_vtd_drv_domain_did(parent), kd = ims_vtd_drv_domain_did(kid);
    EXPECT_EQ(s.sync([&](ims_drv_done h) { return s.ops().set_dirty_tracking(s.drv, fs, true, h); }), -EOPNOTSUPP);
    uint64_t m = s.mark();
    ASSERT_EQ(s.sync([&](ims_drv_done h) { return s.ops().set_dirty_tracking(s.drv, parent, true, h); }), 0);
    // iommufd-facts §2.9: SSADE in the parent's own entries and in every nested child's; each followed by
    // PASID-selective PASID cache, DSI IOTLB and (ATS) whole device TLB.
    EXPECT_TRUE(ims_vtd_pasidte_ssade(s.pasid_entry(kSidA, 0).data()));
    EXPECT_TRUE(ims_vtd_pasidte_ssade(s.pasid_entry(kSidB, 0).data()));
    auto v = s.since(m);
    EXPECT_EQ(v, (std::vector<Desc>{pc_pasid(pd, 0), iotlb_dsi(pd), pc_pasid(kd, 0), iotlb_dsi(kd),
                                    dev_tlb(kSidB, 0, 52)}))
        << show(v);
    // Same state again: nothing to do.
    m = s.mark();
    ASSERT_EQ(s.sync([&](ims_drv_done h) { return s.ops().set_dirty_tracking(s.drv, parent, true, h); }), 0);
    EXPECT_EQ(s.mark(), m);
    ASSERT_EQ(s.sync([&](ims_drv_done h) { return s.ops().set_dirty_tracking(s.drv, parent, false, h); }), 0);
    EXPECT_FALSE(ims_vtd_pasidte_ssade(s.pasid_entry(kSidB, 0).data()));
}

TEST(VtdDriverDirty, ReadAndClearReportsHardwareDirtyBits)
{
    DrvSys s;
    s.add_dev(kSidA);
    ims_drv_domain *d = s.paging(kSidA, IMS_DRV_ALLOC_DIRTY_TRACKING);
    ASSERT_EQ(s.map(d, 0x10000, 0x800000, 0x8000), 0);
    ASSERT_EQ(s.attach(d, kSidA), 0);
    uint16_t did = ims_vtd_drv_domain_did(d);
    uint64_t bm[1] = {0};
    auto rcd = [&](uint64_t *bitmap, bool no_clear) {
        return s.sync([&](ims_drv_done h) {
            return s.ops().read_and_clear_dirty(s.drv, d, 0x10000, 0x8000, 0x1000, bitmap, no_clear, h);
        });
    };
    EXPECT_EQ(rcd(bm, false), -EINVAL);  // tracking off: Linux refuses to report
    ASSERT_EQ(s.sync([&](ims_drv_done h) { return s.ops().set_dirty_tracking(s.drv, d, true, h); }), 0);
    // A DMA write through the unit sets D in the second-stage leaf (vtd-facts §2.8: D needs SSADE).
    ims_xlate_req x = s.translate(DrvSys::req(kSidA, 0x12340, true));
    ASSERT_EQ(x.res.fault, 0u);
    EXPECT_EQ(x.res.pa, 0x802340u);
    ims_pt_builder v = s.view(d);
    ims_pt_mapping pm;
    ASSERT_EQ(ims_pt_lookup(&v, 0x12000, &pm), 0);
    EXPECT_TRUE(ims_ss_pte_d(pm.pte));
    ASSERT_EQ(rcd(bm, true), 0);  // NO_CLEAR: reported, kept, no flush
    EXPECT_EQ(bm[0], 1u << 2);
    ASSERT_EQ(ims_pt_lookup(&v, 0x12000, &pm), 0);
    EXPECT_TRUE(ims_ss_pte_d(pm.pte));
    bm[0] = 0;
    uint64_t m = s.mark();
    ASSERT_EQ(rcd(bm, false), 0);
    EXPECT_EQ(bm[0], 1u << 2);
    ASSERT_EQ(ims_pt_lookup(&v, 0x12000, &pm), 0);
    EXPECT_FALSE(ims_ss_pte_d(pm.pte));
    // The cleared leaf is flushed so the IOTLB does not keep a "dirty" translation.
    EXPECT_EQ(s.since(m), (std::vector<Desc>{iotlb_psi(did, 0x12000, 0, true)}));
    bm[0] = 0;
    ASSERT_EQ(rcd(bm, false), 0);
    EXPECT_EQ(bm[0], 0u);
}

}  // namespace
