// The VT-d host driver (models/iommufd/vtd_driver.h): bring-up, hw_info, domain kinds and allocation
// checks, DIDs, context/PASID entries as read back from memory, teardown and replace sequences.
// Facts: iommufd-facts.md §2 ([7.1mw]), vtd-facts.md §1, §2, §4.12.
#include "tests/vtd_driver_fixture.h"

#include "models/vtd/translate.h"

using namespace vtddrv;

namespace {

constexpr uint16_t kSid = 0x0100, kSid2 = 0x0208;

uint64_t with(uint64_t v, uint64_t mask, bool on) { return on ? (v | mask) : (v & ~mask); }

// ---- bring-up -------------------------------------------------------------------------------------------

TEST(VtdDriverInit, ScalableBringUpOverMmio)
{
    DrvSys s;
    ASSERT_EQ(s.create_rc, 0) << s.err.msg;
    ASSERT_TRUE(s.ready.called);
    EXPECT_EQ(s.ready.status, 0);
    EXPECT_TRUE(ims_vtd_drv_ready(s.drv));
    uint32_t gsts = (uint32_t)s.rd(IMS_VTD_REG_GSTS, 4);
    EXPECT_TRUE(ims_vtd_gsts_tes(gsts));
    EXPECT_TRUE(ims_vtd_gsts_qies(gsts));
    EXPECT_TRUE(ims_vtd_gsts_rtps(gsts));
    // vtd-facts §1.10: Linux programs DW=1, QS=1 (256 x 256-bit descriptors) in scalable mode.
    uint64_t iqa = s.rd(IMS_VTD_REG_IQA);
    EXPECT_TRUE(ims_vtd_iqa_dw(iqa));
    EXPECT_EQ(ims_vtd_iqa_qs(iqa), 1u);
    // vtd-facts §1.5: TTM=01b for scalable mode.
    EXPECT_EQ(ims_vtd_rtaddr_ttm(s.rd(IMS_VTD_REG_RTADDR)), (unsigned)IMS_VTD_TTM_SCALABLE);
    EXPECT_EQ(ims_vtd_rtaddr_rta(s.rd(IMS_VTD_REG_RTADDR)), ims_vtd_drv_root(s.drv));
    // vtd-facts §4.12: without CAP.ESRTPS, global CC, PASID-cache and IOTLB invalidations, one submit each.
    std::vector<uint64_t> b;
    auto v = s.since(0, &b);
    Desc cc{}, pc{}, io{};
    ims_qi_build_cc_global(cc.data());
    ims_qi_build_pc_global(pc.data());
    ims_qi_build_iotlb_global(io.data(), true, true);
    EXPECT_EQ(v, (std::vector<Desc>{cc, pc, io})) << show(v);
    ASSERT_EQ(b.size(), 3u);
    EXPECT_NE(b[0], b[1]);
    EXPECT_NE(b[1], b[2]);
    // Each batch ends with a wait descriptor whose status the driver saw: the queue is drained.
    EXPECT_EQ(s.rd(IMS_VTD_REG_IQH), s.rd(IMS_VTD_REG_IQT));
    EXPECT_EQ(s.rd(IMS_VTD_REG_IQT), 6u << 5);  // 3 x (descriptor + wait), 32-byte slots
}

TEST(VtdDriverInit, LegacyBringUpUses128BitQueue)
{
    uint64_t ecap = with(IMS_VTD_DEFAULT_ECAP, IMS_VTD_MASK(IMS_VTD_ECAP_SMTS), false);
    DrvSys s(Opts().with_ecap(ecap));
    ASSERT_EQ(s.create_rc, 0) << s.err.msg;
    EXPECT_EQ(s.ready.status, 0);
    EXPECT_FALSE(ims_vtd_drv_scalable(s.drv));
    EXPECT_FALSE(ims_vtd_iqa_dw(s.rd(IMS_VTD_REG_IQA)));
    EXPECT_EQ(ims_vtd_iqa_qs(s.rd(IMS_VTD_REG_IQA)), 0u);
    EXPECT_EQ(ims_vtd_rtaddr_ttm(s.rd(IMS_VTD_REG_RTADDR)), (unsigned)IMS_VTD_TTM_LEGACY);
    Desc cc{}, io{};
    ims_qi_build_cc_global(cc.data());
    ims_qi_build_iotlb_global(io.data(), true, true);
    EXPECT_EQ(s.since(0), (std::vector<Desc>{cc, io}));
    EXPECT_EQ(s.rd(IMS_VTD_REG_IQT), 4u << 4);  // 16-byte slots
}

TEST(VtdDriverInit, EsrtpsSkipsTheGlobalFlushes)
{
    // vtd-facts §1.2 bit 63: with ESRTPS, SRTP invalidates the caches itself.
    DrvSys s(Opts().with_cap(IMS_VTD_DEFAULT_CAP | IMS_VTD_MASK(IMS_VTD_CAP_ESRTPS)));
    EXPECT_EQ(s.ready.status, 0);
    EXPECT_TRUE(ims_vtd_gsts_tes(s.rd(IMS_VTD_REG_GSTS, 4)));
    EXPECT_EQ(ims_vtd_drv_log_total(s.drv), 0u);
}

TEST(VtdDriverInit, UnitWithoutQueuedInvalidationIsRefused)
{
    DrvSys s(Opts().with_ecap(with(IMS_VTD_DEFAULT_ECAP, IMS_VTD_MASK(IMS_VTD_ECAP_QI), false)));
    EXPECT_EQ(s.create_rc, -EOPNOTSUPP);
    EXPECT_EQ(s.drv, nullptr);
}

TEST(VtdDriverInit, ConfigKeysCiteTheirSources)
{
    unsigned n = 0;
    for (const ims_cfg_key *k = ims_vtd_drv_cfg_keys; k->name; k++, n++) {
        EXPECT_EQ(std::string(k->name).rfind("vtd_drv.", 0), 0u) << k->name;
        EXPECT_TRUE(k->source && *k->source) << k->name;
        EXPECT_TRUE(k->help && *k->help) << k->name;
    }
    EXPECT_EQ(n, 5u);
    // Without a config the driver uses the table defaults: 600 ns submit + 2 x 50 ns before the IQT write.
    DrvSys s(Opts().no_drv_cfg());
    ASSERT_EQ(s.ready.status, 0);
    ims_cycle t0 = s.now();
    uint64_t m = s.mark();
    Desc q{};
    ims_qi_build_iotlb_dsi(q.data(), 3, true, true);
    ASSERT_EQ(s.submit({q}), 0);
    ims_vtd_drv_log_entry le;
    ASSERT_EQ(ims_vtd_drv_log_get(s.drv, m, &le), 0);
    EXPECT_EQ(le.t, t0 + 700);
}

// ---- hw_info ----------------------------------------------------------------------------------------------

TEST(VtdDriverHwInfo, VtdStructWithErratumCapEcap)
{
    DrvSys s;
    s.add_dev(kSid, /*ats=*/true);
    s.add_dev(kSid2, /*ats=*/false);
    ims_iommu_hw_info_vtd v{};
    uint32_t len = sizeof v, type = 0;
    uint64_t caps = 0;
    ASSERT_EQ(s.ops().hw_info(s.drv, kSid, IMS_IOMMU_HW_INFO_TYPE_DEFAULT, &v, &len, &type, &caps), 0);
    // iommufd-facts §2.1: ERRATA_772415_SPR17 always set, raw CAP/ECAP, 24 bytes, type INTEL_VTD.
    EXPECT_EQ(v.flags, IMS_IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17);
    EXPECT_EQ(v.cap_reg, IMS_VTD_DEFAULT_CAP);
    EXPECT_EQ(v.ecap_reg, IMS_VTD_DEFAULT_ECAP);
    EXPECT_EQ(len, 24u);
    EXPECT_EQ(type, IMS_IOMMU_HW_INFO_TYPE_INTEL_VTD);
    // Default unit: SMTS+SSADS+SMPWCS -> dirty tracking; the ATS device has ATS.
    EXPECT_EQ(caps, IMS_IOMMU_HW_CAP_DIRTY_TRACKING);
    ASSERT_EQ(s.ops().hw_info(s.drv, kSid2, IMS_IOMMU_HW_INFO_TYPE_INTEL_VTD, &v, &len, &type, &caps), 0);
    EXPECT_EQ(caps, IMS_IOMMU_HW_CAP_DIRTY_TRACKING | IMS_IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED);
    // A short buffer gets the first bytes; *len still reports the full length.
    uint8_t small[4] = {0xAA, 0xAA, 0xAA, 0xAA};
    len = 4;
    ASSERT_EQ(s.ops().hw_info(s.drv, kSid, 0, small, &len, &type, &caps), 0);
    EXPECT_EQ(len, 24u);
    EXPECT_EQ(small[0], 1u);
    EXPECT_EQ(small[3], 0u);
    // [7.1mw]: an explicit type other than DEFAULT/INTEL_VTD -> EOPNOTSUPP; unknown device -> ENODEV.
    EXPECT_EQ(s.ops().hw_info(s.drv, kSid, IMS_IOMMU_HW_INFO_TYPE_ARM_SMMUV3, &v, &len, &type, &caps), -EOPNOTSUPP);
    EXPECT_EQ(s.ops().hw_info(s.drv, 0x7777, 0, &v, &len, &type, &caps), -ENODEV);
    uint64_t no_ssads = with(IMS_VTD_DEFAULT_ECAP, IMS_VTD_MASK(IMS_VTD_ECAP_SSADS), false);
    DrvSys s2(Opts().with_ecap(no_ssads));
    s2.add_dev(kSid, true);
    ASSERT_EQ(s2.ops().hw_info(s2.drv, kSid, 0, &v, &len, &type, &caps), 0);
    EXPECT_EQ(caps, 0u);
    EXPECT_FALSE(s2.ops().dev_has_dirty(s2.drv, kSid));
}

// ---- domain kinds and allocation checks -------------------------------------------------------------------

TEST(VtdDriverDomain, KindFollowsFlagsAndCapabilities)
{
    DrvSys s;
    s.add_dev(kSid);
    ims_drv_domain *d = nullptr;
    // iommufd-facts §2.2: first stage is tried first and takes no flag but ALLOC_PASID.
    ASSERT_EQ(s.ops().domain_alloc_paging(s.drv, kSid, 0, &d), 0);
    EXPECT_EQ(ims_vtd_drv_domain_kind(d), IMS_VTD_DRV_DOM_FS);
    EXPECT_EQ(ims_vtd_drv_domain_levels(d), 4u);
    ASSERT_EQ(s.ops().domain_alloc_paging(s.drv, kSid, IMS_DRV_ALLOC_PASID, &d), 0);
    EXPECT_EQ(ims_vtd_drv_domain_kind(d), IMS_VTD_DRV_DOM_FS);
    ASSERT_EQ(s.ops().domain_alloc_paging(s.drv, kSid, IMS_DRV_ALLOC_NEST_PARENT, &d), 0);
    EXPECT_EQ(ims_vtd_drv_domain_kind(d), IMS_VTD_DRV_DOM_SS);
    EXPECT_EQ(ims_vtd_drv_domain_levels(d), 4u);  // 48-bit second stage (SAGAW 48|57)
    ASSERT_EQ(s.ops().domain_alloc_paging(s.drv, kSid, IMS_DRV_ALLOC_DIRTY_TRACKING, &d), 0);
    EXPECT_EQ(ims_vtd_drv_domain_kind(d), IMS_VTD_DRV_DOM_SS);
    EXPECT_EQ(s.ops().domain_alloc_paging(s.drv, kSid, 1u << 2, &d), -EOPNOTSUPP);  // FAULT_ID_VALID is the core's
    EXPECT_EQ(s.ops().domain_alloc_paging(s.drv, 0x7777, 0, &d), -ENODEV);

    // Without ECAP.FSTS paging domains are second-stage.
    DrvSys s2(Opts().with_ecap(with(IMS_VTD_DEFAULT_ECAP, IMS_VTD_MASK(IMS_VTD_ECAP_FSTS), false)));
    s2.add_dev(kSid);
    ASSERT_EQ(s2.ops().domain_alloc_paging(s2.drv, kSid, 0, &d), 0);
    EXPECT_EQ(ims_vtd_drv_domain_kind(d), IMS_VTD_DRV_DOM_SS);
    // NEST_PARENT needs ECAP.NEST; DIRTY_TRACKING needs SSADS (+SMPWCS); scalable SS needs ECAP.SSTS.
    DrvSys s3(Opts().with_ecap(with(with(IMS_VTD_DEFAULT_ECAP, IMS_VTD_MASK(IMS_VTD_ECAP_NEST), false),
                                    IMS_VTD_MASK(IMS_VTD_ECAP_SMPWCS), false)));
    s3.add_dev(kSid);
    EXPECT_EQ(s3.ops().domain_alloc_paging(s3.drv, kSid, IMS_DRV_ALLOC_NEST_PARENT, &d), -EOPNOTSUPP);
    EXPECT_EQ(s3.ops().domain_alloc_paging(s3.drv, kSid, IMS_DRV_ALLOC_DIRTY_TRACKING, &d), -EOPNOTSUPP);
    DrvSys s4(Opts().with_ecap(with(IMS_VTD_DEFAULT_ECAP, IMS_VTD_MASK(IMS_VTD_ECAP_SSTS), false)));
    s4.add_dev(kSid);
    EXPECT_EQ(s4.ops().domain_alloc_paging(s4.drv, kSid, IMS_DRV_ALLOC_NEST_PARENT, &d), -EOPNOTSUPP);
}

TEST(VtdDriverDomain, NestedAllocValidationOrder)
{
    DrvSys s;
    s.add_dev(kSid);
    ims_drv_domain *parent = s.paging(kSid, IMS_DRV_ALLOC_NEST_PARENT);
    ims_drv_domain *plain_ss = s.paging(kSid, IMS_DRV_ALLOC_DIRTY_TRACKING);
    ims_iommu_hwpt_vtd_s1 s1{};
    s1.addr_width = 48;
    ims_drv_domain *d = nullptr;
    auto alloc = [&](ims_drv_domain *p, uint32_t flags, uint32_t type, const void *data, uint32_t len) {
        return s.ops().domain_alloc_nested(s.drv, kSid, p, flags, type, data, len, &d);
    };
    // iommufd-facts §2.3: flags other than ALLOC_PASID -> EOPNOTSUPP; wrong data type -> EOPNOTSUPP;
    // parent not a nest parent -> EINVAL; data_len must be exactly 24 -> else EINVAL; NULL data -> EFAULT.
    EXPECT_EQ(alloc(parent, IMS_DRV_ALLOC_NEST_PARENT, IMS_IOMMU_HWPT_DATA_VTD_S1, &s1, 24), -EOPNOTSUPP);
    EXPECT_EQ(alloc(parent, 0, IMS_IOMMU_HWPT_DATA_VTD_S1 + 1, &s1, 24), -EOPNOTSUPP);
    EXPECT_EQ(alloc(plain_ss, 0, IMS_IOMMU_HWPT_DATA_VTD_S1, &s1, 24), -EINVAL);
    EXPECT_EQ(alloc(parent, 0, IMS_IOMMU_HWPT_DATA_VTD_S1, &s1, 23), -EINVAL);
    EXPECT_EQ(alloc(parent, 0, IMS_IOMMU_HWPT_DATA_VTD_S1, &s1, 25), -EINVAL);
    EXPECT_EQ(alloc(parent, 0, IMS_IOMMU_HWPT_DATA_VTD_S1, nullptr, 24), -EFAULT);
    // The stage-1 fields are not checked at allocation (a bad addr_width is accepted here).
    s1.addr_width = 39;
    ASSERT_EQ(alloc(parent, IMS_DRV_ALLOC_PASID, IMS_IOMMU_HWPT_DATA_VTD_S1, &s1, 24), 0);
    ims_drv_domain *kid = d;
    EXPECT_EQ(ims_vtd_drv_domain_kind(kid), IMS_VTD_DRV_DOM_NESTED);
    EXPECT_EQ(alloc(kid, 0, IMS_IOMMU_HWPT_DATA_VTD_S1, &s1, 24), -EINVAL);  // nested on nested
    // A parent with children is busy; nested domains cannot map.
    EXPECT_EQ(s.ops().domain_free(s.drv, parent), -EBUSY);
    EXPECT_EQ(s.ops().map(s.drv, kid, 0, 0x1000, 0x1000, IMS_DRV_PROT_WRITE, {}), -EINVAL);
    EXPECT_EQ(s.ops().domain_free(s.drv, kid), 0);
    EXPECT_EQ(s.ops().domain_free(s.drv, parent), 0);
    // Without nesting support -> EOPNOTSUPP first.
    DrvSys s2(Opts().with_ecap(with(IMS_VTD_DEFAULT_ECAP, IMS_VTD_MASK(IMS_VTD_ECAP_NEST), false)));
    s2.add_dev(kSid);
    ims_drv_domain *p2 = s2.paging(kSid, IMS_DRV_ALLOC_DIRTY_TRACKING);
    EXPECT_EQ(s2.ops().domain_alloc_nested(s2.drv, kSid, p2, 0, IMS_IOMMU_HWPT_DATA_VTD_S1, &s1, 24, &d),
              -EOPNOTSUPP);
}

TEST(VtdDriverDomain, ReadOnlyMapOnNestParentIsEinval)
{
    DrvSys s;
    s.add_dev(kSid);
    ims_drv_domain *parent = s.paging(kSid, IMS_DRV_ALLOC_NEST_PARENT);
    ims_drv_domain *ss = s.paging(kSid, IMS_DRV_ALLOC_DIRTY_TRACKING);
    // iommufd-facts §2.2 (erratum 772415): a map without WRITE on a nest parent fails with EINVAL.
    EXPECT_EQ(s.map(parent, 0x10000, 0x500000, 0x1000, IMS_DRV_PROT_READ), -EINVAL);
    ims_pt_builder v = s.view(parent);
    ims_pt_mapping m;
    EXPECT_EQ(ims_pt_lookup(&v, 0x10000, &m), -ENOENT);
    EXPECT_EQ(s.map(parent, 0x10000, 0x500000, 0x1000, IMS_DRV_PROT_READ | IMS_DRV_PROT_WRITE), 0);
    ASSERT_EQ(ims_pt_lookup(&v, 0x10000, &m), 0);
    EXPECT_EQ(m.pa, 0x500000u);
    EXPECT_EQ(m.perm & IMS_PT_RW, (unsigned)IMS_PT_RW);
    // Other second-stage domains may map read-only.
    EXPECT_EQ(s.map(ss, 0x10000, 0x500000, 0x1000, IMS_DRV_PROT_READ), 0);
    ims_pt_builder v2 = s.view(ss);
    ASSERT_EQ(ims_pt_lookup(&v2, 0x10000, &m), 0);
    EXPECT_EQ(m.perm & IMS_PT_RW, (unsigned)IMS_PT_R);
    EXPECT_EQ(s.map(ss, 0x20000, 0x600000, 0x1000, 0), -EINVAL);  // neither read nor write
}

TEST(VtdDriverDomain, SuperpagesWhereAligned)
{
    DrvSys s;
    s.add_dev(kSid);
    ims_drv_domain *d = s.paging(kSid, IMS_DRV_ALLOC_NEST_PARENT);
    ims_pt_builder v = s.view(d);
    ims_pt_mapping m;
    // 1 GiB + 2 MiB + 4 KiB, all aligned: one leaf of each size (CAP.SSLPS has 2M and 1G).
    ASSERT_EQ(s.map(d, 1ULL << 30, 1ULL << 32, (1ULL << 30) + (2ULL << 20) + 0x1000), 0);
    ASSERT_EQ(ims_pt_lookup(&v, 1ULL << 30, &m), 0);
    EXPECT_EQ(m.page_size, 1ULL << 30);
    ASSERT_EQ(ims_pt_lookup(&v, 2ULL << 30, &m), 0);
    EXPECT_EQ(m.page_size, 2ULL << 20);
    ASSERT_EQ(ims_pt_lookup(&v, (2ULL << 30) + (2ULL << 20), &m), 0);
    EXPECT_EQ(m.page_size, 0x1000u);
    EXPECT_EQ(m.pa, (1ULL << 32) + (1ULL << 30) + (2ULL << 20));
    // PA not 2 MiB-aligned: 4 KiB pages only.
    ASSERT_EQ(s.map(d, 0x40000000ULL * 8, 0x201000, 2ULL << 20), 0);
    ASSERT_EQ(ims_pt_lookup(&v, 0x40000000ULL * 8, &m), 0);
    EXPECT_EQ(m.page_size, 0x1000u);
    // A 2 MiB slot that already holds a (now empty) table falls back to 4 KiB pages.
    ASSERT_EQ(s.map(d, 0x600000, 0x800000, 0x1000), 0);
    ASSERT_EQ(s.unmap(d, 0x600000, 0x1000), 0);
    ASSERT_EQ(s.map(d, 0x600000, 0x800000, 2ULL << 20), 0);
    ASSERT_EQ(ims_pt_lookup(&v, 0x7FF000, &m), 0);
    EXPECT_EQ(m.page_size, 0x1000u);
    EXPECT_EQ(m.pa, 0x9FF000u);
    // Overlap with an existing mapping: EEXIST and nothing of the new range left behind.
    EXPECT_EQ(s.map(d, 0x5FE000, 0x100000, 0x4000), -EEXIST);
    EXPECT_EQ(ims_pt_lookup(&v, 0x5FE000, &m), -ENOENT);
}

// ---- DIDs ------------------------------------------------------------------------------------------------------

TEST(VtdDriverDid, AllocatedFromTwoAtFirstAttachAndReused)
{
    // CAP.ND=0: 16 DIDs. iommufd-facts §2.4 step 3: DIDs come from [2, ndoms-1] (0: caching mode, 1: FS/PT
    // default), allocated when a domain is first attached, ENOSPC when exhausted.
    uint64_t cap = IMS_VTD_SET(IMS_VTD_CAP_ND, IMS_VTD_DEFAULT_CAP, 0);
    DrvSys s(Opts().with_cap(cap));
    s.add_dev(kSid, false, 5);
    std::vector<ims_drv_domain *> doms;
    for (int i = 0; i < 15; i++)
        doms.push_back(s.paging(kSid, IMS_DRV_ALLOC_NEST_PARENT));
    EXPECT_EQ(ims_vtd_drv_domain_did(doms[0]), 0u);  // nothing until attached
    for (uint32_t i = 0; i < 14; i++) {
        ASSERT_EQ(s.attach(doms[i], kSid, i + 1), 0);
        EXPECT_EQ(ims_vtd_drv_domain_did(doms[i]), 2 + i);
        EXPECT_EQ(ims_vtd_pasidte_did(s.pasid_entry(kSid, i + 1).data()), 2 + i);
    }
    EXPECT_EQ(s.attach(doms[14], kSid, 15), -ENOSPC);
    // Attaching the same domain to another PASID shares its DID.
    ASSERT_EQ(s.attach(doms[0], kSid, 20), 0);
    EXPECT_EQ(ims_vtd_pasidte_did(s.pasid_entry(kSid, 20).data()), 2u);
    ASSERT_EQ(s.detach(kSid, 1), 0);
    EXPECT_EQ(ims_vtd_drv_domain_did(doms[0]), 2u);  // still attached to PASID 20
    ASSERT_EQ(s.detach(kSid, 20), 0);
    EXPECT_EQ(ims_vtd_drv_domain_did(doms[0]), 0u);
    ASSERT_EQ(s.attach(doms[14], kSid, 15), 0);
    EXPECT_EQ(ims_vtd_drv_domain_did(doms[14]), 2u);  // the lowest free DID again
}

// ---- PASID entries ------------------------------------------------------------------------------------------------

TEST(VtdDriverPasid, NestedEntryFieldsExactly)
{
    DrvSys s;
    s.add_dev(kSid);
    ims_drv_domain *parent = s.paging(kSid, IMS_DRV_ALLOC_NEST_PARENT | IMS_DRV_ALLOC_DIRTY_TRACKING);
    ims_drv_domain *kid = s.nested(kSid, parent, 0x1234000, 48, IMS_IOMMU_VTD_S1_SRE | IMS_IOMMU_VTD_S1_WPE |
                                                                    IMS_IOMMU_VTD_S1_EAFE);
    ASSERT_EQ(s.attach(parent, kSid), 0);  // parent on the RID first...
    ASSERT_EQ(s.attach(kid, kSid), 0);     // ...then replaced by the child
    auto pe = s.pasid_entry(kSid, 0);
    const uint64_t *q = pe.data();
    // iommufd-facts §2.4, PGTT=nested entry (bits as the table there).
    EXPECT_TRUE(ims_vtd_pasidte_p(q));                       // bit 0
    EXPECT_FALSE(ims_vtd_pasidte_fpd(q));                    // bit 1
    EXPECT_EQ(ims_vtd_pasidte_aw(q), 2u);                    // bits 4:2: parent's 4-level AGAW
    EXPECT_EQ(ims_vtd_pasidte_pgtt(q), 3u);                  // bits 8:6: nested
    EXPECT_FALSE(ims_vtd_pasidte_ssade(q));                  // bit 9: parent dirty tracking off
    EXPECT_EQ(ims_vtd_pasidte_ssptptr(q), ims_vtd_drv_domain_root(parent));  // 63:12
    EXPECT_EQ(ims_vtd_pasidte_did(q), ims_vtd_drv_domain_did(kid));          // 79:64, the nested DID
    EXPECT_NE(ims_vtd_drv_domain_did(kid), 0u);
    EXPECT_TRUE(ims_vtd_pasidte_pwsnp(q));                   // bit 87 (ECAP.SMPWCS)
    EXPECT_FALSE(ims_vtd_pasidte_pgsnp(q));                  // bit 88
    EXPECT_TRUE(ims_vtd_pasidte_sre(q));                     // bit 128
    EXPECT_EQ(ims_vtd_pasidte_fspm(q), 0u);                  // 131:130, 4-level
    EXPECT_TRUE(ims_vtd_pasidte_wpe(q));                     // bit 132 (SRE and WPE)
    EXPECT_TRUE(ims_vtd_pasidte_eafe(q));                    // bit 135
    EXPECT_EQ(ims_vtd_pasidte_fsptptr(q), 0x1234000u);       // 191:140, the user's pgtbl_addr (a GPA)
    // Nothing else: the entry is cleared before programming.
    EXPECT_EQ(q[0], 1ULL | (2ULL << 2) | (3ULL << 6) | ims_vtd_drv_domain_root(parent));
    EXPECT_EQ(q[1], (uint64_t)ims_vtd_drv_domain_did(kid) | (1ULL << 23));
    EXPECT_EQ(q[2], 0x1234000ULL | 1 | (1ULL << 4) | (1ULL << 7));
    for (int i = 3; i < 8; i++)
        EXPECT_EQ(q[i], 0u) << i;

    // 57-bit stage 1: FSPM=1; WPE without SRE is dropped; dirty tracking on the parent -> SSADE.
    ims_drv_domain *kid2 = s.nested(kSid, parent, 0x5000, 57, IMS_IOMMU_VTD_S1_WPE);
    ASSERT_EQ(s.sync([&](ims_drv_done h) { return s.ops().set_dirty_tracking(s.drv, parent, true, h); }), 0);
    ASSERT_EQ(s.attach(kid2, kSid), 0);
    pe = s.pasid_entry(kSid, 0);
    EXPECT_EQ(ims_vtd_pasidte_fspm(pe.data()), 1u);
    EXPECT_FALSE(ims_vtd_pasidte_wpe(pe.data()));
    EXPECT_FALSE(ims_vtd_pasidte_sre(pe.data()));
    EXPECT_TRUE(ims_vtd_pasidte_ssade(pe.data()));
    EXPECT_NE(ims_vtd_pasidte_did(pe.data()), ims_vtd_drv_domain_did(parent));
}

TEST(VtdDriverPasid, NestedAttachChecksStageOneAgainstCapabilities)
{
    // iommufd-facts §2.4 step 6: addr_width 48, or 57 with CAP.FS5LP; SRE needs ECAP.SRS; EAFE needs ECAP.EAFS.
    uint64_t ecap = with(with(IMS_VTD_DEFAULT_ECAP, IMS_VTD_MASK(IMS_VTD_ECAP_SRS), false),
                         IMS_VTD_MASK(IMS_VTD_ECAP_EAFS), false);
    uint64_t cap = with(IMS_VTD_DEFAULT_CAP, IMS_VTD_MASK(IMS_VTD_CAP_FS5LP), false);
    DrvSys s(Opts().with_cap(cap).with_ecap(ecap));
    s.add_dev(kSid);
    ims_drv_domain *parent = s.paging(kSid, IMS_DRV_ALLOC_NEST_PARENT);
    EXPECT_EQ(s.attach(s.nested(kSid, parent, 0x1000, 39), kSid), -EINVAL);
    EXPECT_EQ(s.attach(s.nested(kSid, parent, 0x1000, 57), kSid), -EINVAL);
    EXPECT_EQ(s.attach(s.nested(kSid, parent, 0x1000, 48, IMS_IOMMU_VTD_S1_SRE), kSid), -EINVAL);
    EXPECT_EQ(s.attach(s.nested(kSid, parent, 0x1000, 48, IMS_IOMMU_VTD_S1_EAFE), kSid), -EINVAL);
    EXPECT_FALSE(ims_vtd_pasidte_p(s.pasid_entry(kSid, 0).data()));
    EXPECT_EQ(s.attach(s.nested(kSid, parent, 0x1000, 48, IMS_IOMMU_VTD_S1_WPE), kSid), 0);  // WPE unchecked
}

TEST(VtdDriverPasid, PagingEntriesAndPasidChecks)
{
    DrvSys s;
    s.add_dev(kSid, false, 8);
    s.add_dev(kSid2);  // no PASID capability
    ims_drv_domain *ss = s.paging(kSid, IMS_DRV_ALLOC_DIRTY_TRACKING);
    ims_drv_domain *fs = s.paging(kSid, 0);
    ASSERT_EQ(s.attach(ss, kSid), 0);
    auto pe = s.pasid_entry(kSid, 0);
    // Second-stage domain: PGTT=010b (vtd-facts §2.6), SS root, AW, its DID.
    EXPECT_EQ(ims_vtd_pasidte_pgtt(pe.data()), (unsigned)IMS_VTD_PGTT_SS);
    EXPECT_EQ(ims_vtd_pasidte_ssptptr(pe.data()), ims_vtd_drv_domain_root(ss));
    EXPECT_EQ(ims_vtd_pasidte_aw(pe.data()), 2u);
    EXPECT_EQ(ims_vtd_pasidte_did(pe.data()), ims_vtd_drv_domain_did(ss));
    ASSERT_EQ(s.attach(fs, kSid, 7), 0);
    pe = s.pasid_entry(kSid, 7);
    // First-stage domain: PGTT=001b, FS root, 4-level.
    EXPECT_EQ(ims_vtd_pasidte_pgtt(pe.data()), (unsigned)IMS_VTD_PGTT_FS);
    EXPECT_EQ(ims_vtd_pasidte_fsptptr(pe.data()), ims_vtd_drv_domain_root(fs));
    EXPECT_EQ(ims_vtd_pasidte_fspm(pe.data()), 0u);
    // PASID attach: the device needs PASID; PASID 0 is the RID's; beyond the device width -> EINVAL.
    EXPECT_EQ(s.attach(fs, kSid2, 3), -EOPNOTSUPP);
    EXPECT_EQ(s.attach(fs, kSid, 0), -EINVAL);
    EXPECT_EQ(s.attach(fs, kSid, 256), -EINVAL);
    EXPECT_EQ(s.attach(fs, 0x7777), -ENODEV);
    // Re-attaching the same domain is a no-op that completes.
    uint64_t m = s.mark();
    EXPECT_EQ(s.attach(fs, kSid, 7), 0);
    EXPECT_EQ(s.mark(), m);
}

// ---- teardown / replace -----------------------------------------------------------------------------------------

TEST(VtdDriverPasid, TeardownSequenceForEachPgtt)
{
    DrvSys s;
    s.add_dev(kSid, /*ats=*/true, 8);
    ims_drv_domain *parent = s.paging(kSid, IMS_DRV_ALLOC_NEST_PARENT);
    ims_drv_domain *kid = s.nested(kSid, parent, 0x1000);
    ims_drv_domain *fs = s.paging(kSid, 0);
    ASSERT_EQ(s.attach(kid, kSid), 0);
    ASSERT_EQ(s.attach(fs, kSid, 5), 0);
    uint16_t kdid = ims_vtd_drv_domain_did(kid), fdid = ims_vtd_drv_domain_did(fs);
    // iommufd-facts §2.6: PASID-selective PASID cache; nested/SS -> DSI IOTLB, FS -> PASID-selective P_IOTLB;
    // device TLB for the whole space (type 3 for PASID 0, type 8 otherwise); one qi_submit_sync each.
    uint64_t m = s.mark();
    ASSERT_EQ(s.detach(kSid), 0);
    std::vector<uint64_t> b;
    auto v = s.since(m, &b);
    EXPECT_EQ(v, (std::vector<Desc>{pc_pasid(kdid, 0), iotlb_dsi(kdid), dev_tlb(kSid, 0, 52)})) << show(v);
    ASSERT_EQ(b.size(), 3u);
    EXPECT_TRUE(b[0] != b[1] && b[1] != b[2]);
    auto pe = s.pasid_entry(kSid, 0);
    for (uint64_t w : pe)
        EXPECT_EQ(w, 0u);
    EXPECT_EQ(ims_vtd_drv_domain_did(kid), 0u);  // DID released with the last attachment
    m = s.mark();
    ASSERT_EQ(s.detach(kSid, 5), 0);
    v = s.since(m);
    EXPECT_EQ(v, (std::vector<Desc>{pc_pasid(fdid, 5), piotlb_pasid(fdid, 5), pdev_tlb(kSid, 5, 0, 52)}))
        << show(v);
    // Detaching what is not attached completes with nothing to flush.
    m = s.mark();
    EXPECT_EQ(s.detach(kSid, 5), 0);
    EXPECT_EQ(s.mark(), m);
    EXPECT_EQ(s.ops().domain_free(s.drv, kid), 0);
}

TEST(VtdDriverPasid, ReplaceTearsDownOldThenSetsUpNew)
{
    DrvSys s;
    s.add_dev(kSid);
    ims_drv_domain *parent = s.paging(kSid, IMS_DRV_ALLOC_NEST_PARENT);
    ims_drv_domain *a = s.nested(kSid, parent, 0x1000);
    ims_drv_domain *b = s.nested(kSid, parent, 0x2000);
    ASSERT_EQ(s.attach(a, kSid), 0);
    uint16_t adid = ims_vtd_drv_domain_did(a);
    EXPECT_EQ(s.ops().domain_free(s.drv, a), -EBUSY);
    uint64_t m = s.mark();
    ASSERT_EQ(s.attach(b, kSid), 0);
    // iommufd-facts §2.5 [7.1mw]: teardown of the old entry (no ATS here: no device-TLB), then the new one.
    auto v = s.since(m);
    EXPECT_EQ(v, (std::vector<Desc>{pc_pasid(adid, 0), iotlb_dsi(adid)})) << show(v);
    auto pe = s.pasid_entry(kSid, 0);
    EXPECT_EQ(ims_vtd_pasidte_fsptptr(pe.data()), 0x2000u);
    EXPECT_EQ(ims_vtd_pasidte_did(pe.data()), ims_vtd_drv_domain_did(b));
    EXPECT_NE(ims_vtd_drv_domain_did(b), adid);  // the old DID is not handed over while its flush is queued
    EXPECT_EQ(ims_vtd_drv_domain_did(a), 0u);
    EXPECT_EQ(s.ops().domain_free(s.drv, a), 0);
}

TEST(VtdDriverPasid, LegacyContextEntryAndTeardown)
{
    DrvSys s(Opts().with_ecap(with(IMS_VTD_DEFAULT_ECAP, IMS_VTD_MASK(IMS_VTD_ECAP_SMTS), false)));
    s.add_dev(kSid, /*ats=*/true);
    ims_drv_domain *d = s.paging(kSid, 0);
    EXPECT_EQ(ims_vtd_drv_domain_kind(d), IMS_VTD_DRV_DOM_SS);
    EXPECT_EQ(s.attach(d, kSid, 3), -EOPNOTSUPP);  // no PASIDs in legacy mode
    ASSERT_EQ(s.attach(d, kSid), 0);
    auto ce = s.legacy_ctx(kSid);
    uint16_t did = ims_vtd_drv_domain_did(d);
    // vtd-facts §2.3: P, TT=01b (device TLB) for an ATS device, AW, SSPTPTR, DID.
    EXPECT_TRUE(ims_vtd_ce_p(ce.data()));
    EXPECT_EQ(ims_vtd_ce_tt(ce.data()), IMS_VTD_TT_DEVTLB);
    EXPECT_EQ(ims_vtd_ce_aw(ce.data()), 2u);
    EXPECT_EQ(ims_vtd_ce_ssptptr(ce.data()), ims_vtd_drv_domain_root(d));
    EXPECT_EQ(ims_vtd_ce_did(ce.data()), did);
    // vtd-facts §4.12 (legacy): device-selective CC, DSI IOTLB, global device TLB.
    uint64_t m = s.mark();
    ASSERT_EQ(s.detach(kSid), 0);
    auto v = s.since(m);
    EXPECT_EQ(v, (std::vector<Desc>{cc_device(did, kSid), iotlb_dsi(did), dev_tlb(kSid, 0, 52)})) << show(v);
    EXPECT_FALSE(ims_vtd_ce_p(s.legacy_ctx(kSid).data()));
}

TEST(VtdDriverPasid, ScalableContextWrittenAtProbe)
{
    DrvSys s;
    s.add_dev(kSid, /*ats=*/true, 20);
    ims_vtd_ctx_builder cb{};
    cb.alloc = &s.host;
    cb.scalable = true;
    cb.root = ims_vtd_drv_root(s.drv);
    uint64_t pa = 0;
    ASSERT_EQ(ims_vtd_ctxb_ctx_entry_pa(&cb, kSid, &pa, nullptr), 0);
    uint64_t ce[4];
    for (int i = 0; i < 4; i++)
        ce[i] = ims_physmem_r64(s.mem, pa + 8 * i);
    // vtd-facts §2.4: P, DTE (ATS), PASIDE, RID_PASID 0; 20-bit PASIDs need a 2^14-entry directory (PDTS=7).
    EXPECT_TRUE(ims_vtd_smce_p(ce));
    EXPECT_FALSE(ims_vtd_smce_fpd(ce));
    EXPECT_TRUE(ims_vtd_smce_dte(ce));
    EXPECT_TRUE(ims_vtd_smce_paside(ce));
    EXPECT_EQ(ims_vtd_smce_pdts(ce), 7u);
    EXPECT_EQ(ims_vtd_smce_rid_pasid(ce), 0u);
    EXPECT_NE(ims_vtd_smce_pasiddirptr(ce), 0u);
    ims_vtd_drv_dev_params dp{};
    dp.sid = kSid;
    EXPECT_EQ(ims_vtd_drv_add_device(s.drv, &dp, &s.err), -EEXIST);
}

}  // namespace
