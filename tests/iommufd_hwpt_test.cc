// Hardware page tables (models/iommufd/hwpt.c): the HWPT_ALLOC check order
// and nesting matrix, HWPT_INVALIDATE with partial completion, dirty
// tracking, fault queues, reference counts on DESTROY, and the vIOMMU family
// VT-d cannot create. iommufd-facts §1.3 (HWPT_ALLOC order, HWPT_INVALIDATE,
// dirty, vIOMMU) and §3.3 (iommufd_ioas.alloc_hwpt_nested, dirty_tracking).
#include <gtest/gtest.h>

#include <vector>

#include "tests/iommufd_fake_driver.h"

namespace {

class IommufdHwpt : public IommufdFixture {
  protected:
    uint32_t ioas = 0, dev = 0;
    void SetUp() override
    {
        IommufdFixture::SetUp();
        ioas = Ioas();
        dev = Bind(0x10);
    }
    int Invalidate(uint32_t hwpt, const void *entries, uint32_t entry_len, uint32_t *num,
                   uint32_t type = IMS_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1)
    {
        return ims_iommufd_hwpt_invalidate(ctx, hwpt, type, entries, entry_len, num, none());
    }
};

TEST_F(IommufdHwpt, AllocCheckOrder)
{
    // iommufd-facts §1.3 "order of checks": reserved, data pairing, dev_id
    // (ENOENT), pt_id (EINVAL, not ENOENT), then per parent kind.
    ims_iommu_hwpt_alloc a{};
    a.size = sizeof a;
    a.dev_id = 999;
    a.pt_id = 999;
    a.reserved = 1;
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_HWPT_ALLOC, &a));
    a.reserved = 0;
    a.data_type = IMS_IOMMU_HWPT_DATA_NONE;
    a.data_len = 24;
    EXPECT_EQ(-EINVAL, Ioctl(IMS_IOMMU_HWPT_ALLOC, &a));
    a.data_type = IMS_IOMMU_HWPT_DATA_VTD_S1;
    a.data_len = 0;
    EXPECT_EQ(-EINVAL, Ioctl(IMS_IOMMU_HWPT_ALLOC, &a));
    a.data_type = 0;
    EXPECT_EQ(-ENOENT, Ioctl(IMS_IOMMU_HWPT_ALLOC, &a));
    a.dev_id = ioas; // an IOAS is not a device
    EXPECT_EQ(-ENOENT, Ioctl(IMS_IOMMU_HWPT_ALLOC, &a));
    a.dev_id = dev;
    EXPECT_EQ(-EINVAL, Ioctl(IMS_IOMMU_HWPT_ALLOC, &a)); // pt_id 999 missing
    a.pt_id = dev; // a device cannot hold a page table
    EXPECT_EQ(-EINVAL, Ioctl(IMS_IOMMU_HWPT_ALLOC, &a));
    EXPECT_EQ(0u, fake.count("alloc_")); // nothing reached the driver
}

TEST_F(IommufdHwpt, PagingFlagChecks)
{
    uint32_t h = 0;
    // Flags beyond NEST_PARENT|DIRTY|FAULT_ID_VALID|PASID -> EOPNOTSUPP.
    EXPECT_EQ(-EOPNOTSUPP, HwptAlloc(dev, ioas, 1u << 4, &h));
    // NEST_PARENT together with FAULT_ID_VALID -> EOPNOTSUPP (alloc_hwpt_nested).
    EXPECT_EQ(-EOPNOTSUPP,
              HwptAlloc(dev, ioas, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT | IMS_IOMMU_HWPT_FAULT_ID_VALID, &h));
    // VT-d paging domains take no driver data (iommufd-facts §2.2).
    ims_iommu_hwpt_vtd_s1 s = S1();
    EXPECT_EQ(-EOPNOTSUPP, HwptAlloc(dev, ioas, 0, &h, IMS_IOMMU_HWPT_DATA_VTD_S1, &s, sizeof s));
    // enforce_dirty: DIRTY_TRACKING on an IOMMU without SSADS -> EOPNOTSUPP.
    fake.ssads = false;
    EXPECT_EQ(-EOPNOTSUPP, HwptAlloc(dev, ioas, IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &h));
    EXPECT_EQ(0u, fake.count("alloc_"));
    // The driver's own refusal comes back as is: no nesting support.
    fake.nested_supported = false;
    EXPECT_EQ(-EOPNOTSUPP, HwptAlloc(dev, ioas, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT, &h));
    EXPECT_EQ("alloc_paging sid=0x10 flags=0x1", fake.last());
    // The failed allocation freed its id: the next object takes it.
    EXPECT_EQ(3u, Ioas());
}

TEST_F(IommufdHwpt, NestedAllocMatrix)
{
    // iommufd_ioas.alloc_hwpt_nested (iommufd-facts §3.3), with the VT-d
    // driver's data rules (§2.3): data type VTD_S1, data_len exactly 24.
    uint32_t parent = Parent(dev, ioas), plain = 0, h = 0;
    ASSERT_EQ(0, HwptAlloc(dev, ioas, 0, &plain));
    ims_iommu_hwpt_vtd_s1 s = S1(0x7000);
    EXPECT_EQ(-EINVAL, HwptAlloc(dev, parent, 0, &h, IMS_IOMMU_HWPT_DATA_NONE, &s, sizeof s));
    EXPECT_EQ(-EOPNOTSUPP, HwptAlloc(dev, parent, 0, &h, IMS_IOMMU_HWPT_DATA_VTD_S1 + 1, &s, sizeof s));
    EXPECT_EQ(-EINVAL, HwptAlloc(dev, parent, 0, &h, IMS_IOMMU_HWPT_DATA_VTD_S1, &s, sizeof s - 1));
    EXPECT_EQ(-EINVAL, HwptAlloc(dev, parent, 0, &h, IMS_IOMMU_HWPT_DATA_VTD_S1, &s, sizeof s + 8));
    EXPECT_EQ(-EFAULT, HwptAlloc(dev, parent, 0, &h, IMS_IOMMU_HWPT_DATA_VTD_S1, nullptr, sizeof s));
    EXPECT_EQ(-EOPNOTSUPP,
              HwptAlloc(dev, parent, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT, &h, IMS_IOMMU_HWPT_DATA_VTD_S1, &s, sizeof s));
    EXPECT_EQ(-EINVAL, HwptAlloc(dev, plain, 0, &h, IMS_IOMMU_HWPT_DATA_VTD_S1, &s, sizeof s)); // not a parent
    uint32_t n1 = Nested(dev, parent), n2 = Nested(dev, parent);
    EXPECT_EQ(-EINVAL, HwptAlloc(dev, n1, 0, &h, IMS_IOMMU_HWPT_DATA_VTD_S1, &s, sizeof s)); // nested on nested
    EXPECT_EQ(IMS_IOMMUFD_OBJ_HWPT_NESTED, ims_iommufd_obj_kind(ctx, n1));
    EXPECT_EQ(0x10000u, Domain(n1)->s1.pgtbl_addr);
    EXPECT_EQ(Domain(parent), Domain(n2)->parent);
    EXPECT_EQ(2u, ims_iommufd_obj_users(ctx, parent));
    // A parent with children, and an IOAS with HWPTs, are busy.
    EXPECT_EQ(-EBUSY, Destroy(parent));
    EXPECT_EQ(-EBUSY, Destroy(ioas));
    ASSERT_EQ(0, Destroy(n1));
    ASSERT_EQ(0, Destroy(n2));
    ASSERT_EQ(0, Destroy(parent));
    ASSERT_EQ(0, Destroy(plain));
    EXPECT_EQ(0, Destroy(ioas));
    EXPECT_EQ(0u, fake.domains.size());
}

TEST_F(IommufdHwpt, AutoDomainCannotBeAParent)
{
    // hw_pagetable.c iommufd_hwpt_nested_alloc: parent->auto_domain -> EINVAL.
    uint32_t pt = ioas;
    ASSERT_EQ(0, Attach(0x10, &pt));
    ims_iommu_hwpt_vtd_s1 s = S1();
    uint32_t h = 0;
    EXPECT_EQ(-EINVAL, HwptAlloc(dev, pt, 0, &h, IMS_IOMMU_HWPT_DATA_VTD_S1, &s, sizeof s));
}

TEST_F(IommufdHwpt, FaultQueueIsHeldByItsHwpts)
{
    ims_iommu_fault_alloc f{sizeof f, 1, 0, 0};
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_FAULT_QUEUE_ALLOC, &f));
    f.flags = 0;
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_FAULT_QUEUE_ALLOC, &f));
    EXPECT_EQ(IMS_IOMMUFD_OBJ_FAULT, ims_iommufd_obj_kind(ctx, f.out_fault_id));
    uint32_t parent = Parent(dev, ioas);
    ims_iommu_hwpt_alloc a{};
    a.size = sizeof a;
    a.flags = IMS_IOMMU_HWPT_FAULT_ID_VALID;
    a.dev_id = dev;
    a.pt_id = parent;
    ims_iommu_hwpt_vtd_s1 s = S1();
    a.data_type = IMS_IOMMU_HWPT_DATA_VTD_S1;
    a.data_len = sizeof s;
    a.data_uptr = reinterpret_cast<uintptr_t>(&s);
    a.fault_id = UINT32_MAX; // alloc_hwpt_nested: iopf HWPT with a bad fault id -> ENOENT
    EXPECT_EQ(-ENOENT, Ioctl(IMS_IOMMU_HWPT_ALLOC, &a));
    EXPECT_EQ(1u, fake.domains.size()); // the nested domain made before the check is gone
    a.fault_id = f.out_fault_id;
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_HWPT_ALLOC, &a));
    // The driver never sees FAULT_ID_VALID.
    EXPECT_EQ("alloc_nested sid=0x10 parent=1 flags=0x0 type=1 len=24", fake.log[fake.log.size() - 1]);
    EXPECT_EQ(-EBUSY, Destroy(f.out_fault_id));
    // A paging HWPT (not a nest parent) may use a fault queue too.
    ims_iommu_hwpt_alloc p{};
    p.size = sizeof p;
    p.flags = IMS_IOMMU_HWPT_FAULT_ID_VALID;
    p.dev_id = dev;
    p.pt_id = ioas;
    p.fault_id = f.out_fault_id;
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_HWPT_ALLOC, &p));
    EXPECT_EQ("alloc_paging sid=0x10 flags=0x0", fake.log[fake.log.size() - 1]);
    EXPECT_EQ(2u, ims_iommufd_obj_users(ctx, f.out_fault_id));
    ASSERT_EQ(0, Destroy(a.out_hwpt_id));
    ASSERT_EQ(0, Destroy(p.out_hwpt_id));
    EXPECT_EQ(0, Destroy(f.out_fault_id));
}

TEST_F(IommufdHwpt, InvalidateMatrix)
{
    // iommufd_ioas.alloc_hwpt_nested invalidation part (iommufd-facts §3.3),
    // with VT-d entries (§1.3 iommu_hwpt_vtd_s1_invalidate, §2.7): every
    // error leaves entry_num = number handled.
    uint32_t parent = Parent(dev, ioas), n1 = Nested(dev, parent);
    ims_iommu_hwpt_vtd_s1_invalidate e[2] = {};
    const uint32_t L = sizeof e[0];
    uint32_t num = 1;
    EXPECT_EQ(-EINVAL, Invalidate(parent, e, L, &num)); // a nest parent: EINVAL ([6.8]: ENOENT)
    EXPECT_EQ(0u, num);
    num = 1;
    EXPECT_EQ(-ENOENT, Invalidate(777, e, L, &num));
    EXPECT_EQ(0u, num);
    num = 0; // probing a data type
    EXPECT_EQ(0, Invalidate(n1, e, L, &num));
    EXPECT_EQ(0u, num);
    num = 0;
    EXPECT_EQ(-EINVAL, Invalidate(n1, e, L, &num, 0xdadbeef)); // bad type, even with no entries
    num = 1;
    EXPECT_EQ(-EINVAL, Invalidate(n1, e, L + 1, &num));
    EXPECT_EQ(0u, num);
    num = 1;
    EXPECT_EQ(-EINVAL, Invalidate(n1, e, 1, &num));
    EXPECT_EQ(0u, num);
    num = 1;
    EXPECT_EQ(-EINVAL, Invalidate(n1, nullptr, L, &num));
    EXPECT_EQ(0u, num);
    num = 1;
    EXPECT_EQ(-EINVAL, Invalidate(n1, e, 0, &num));
    EXPECT_EQ(0u, num);
    e[0].flags = 0xffffffff;
    num = 1;
    EXPECT_EQ(-EOPNOTSUPP, Invalidate(n1, e, L, &num));
    EXPECT_EQ(0u, num);
    e[0] = {};
    e[0].reserved = 1;
    num = 1;
    EXPECT_EQ(-EOPNOTSUPP, Invalidate(n1, e, L, &num));
    e[0] = {0x1800, 1, 0, 0}; // not 4 KiB aligned
    num = 1;
    EXPECT_EQ(-EINVAL, Invalidate(n1, e, L, &num));
    e[0] = {0x1000, UINT64_MAX, 0, 0}; // "all" needs addr 0
    num = 1;
    EXPECT_EQ(-EINVAL, Invalidate(n1, e, L, &num));
    EXPECT_EQ(0u, fake.count("flush"));

    // Partial completion: entry 0 valid, entry 1 bad -> its errno, count 1.
    e[0] = {0x1000, 3, IMS_IOMMU_VTD_INV_FLAGS_LEAF, 0};
    e[1] = {0x2000, 1, 0x2, 0};
    num = 2;
    EXPECT_EQ(-EOPNOTSUPP, Invalidate(n1, e, L, &num));
    EXPECT_EQ(1u, num);
    EXPECT_EQ("flush 2 addr=0x1000 npages=0x3 leaf=1", fake.last());
    e[1] = {0x2100, 1, 0, 0};
    num = 2;
    EXPECT_EQ(-EINVAL, Invalidate(n1, e, L, &num));
    EXPECT_EQ(1u, num);
    // All valid: one and two entries; "everything" is addr 0, npages U64_MAX.
    e[1] = {0, UINT64_MAX, 0, 0};
    num = 1;
    EXPECT_EQ(0, Invalidate(n1, e, L, &num));
    EXPECT_EQ(1u, num);
    num = 2;
    EXPECT_EQ(0, Invalidate(n1, e, L, &num));
    EXPECT_EQ(2u, num);
    EXPECT_EQ("flush 2 addr=0x0 npages=0xffffffffffffffff leaf=0", fake.last());
    // __reserved of the command -> EOPNOTSUPP, count 0.
    ims_iommu_hwpt_invalidate inv{sizeof inv, n1, reinterpret_cast<uintptr_t>(e), 0, L, 2, 1};
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_HWPT_INVALIDATE, &inv));
    EXPECT_EQ(0u, inv.entry_num);
}

TEST_F(IommufdHwpt, ReadOnlyMapOnANestParentFails)
{
    // Erratum 772415 (iommufd-facts §1.3 MAP, §2.2): EINVAL from the driver,
    // for a new map and for filling a new parent from existing areas.
    uint32_t parent = Parent(dev, ioas);
    uint64_t iova = 0x10000;
    EXPECT_EQ(-EINVAL, ims_iommufd_ioas_map(ctx, ioas, 0x100000, 4096,
                                            IMS_IOMMU_IOAS_MAP_READABLE | IMS_IOMMU_IOAS_MAP_FIXED_IOVA, &iova,
                                            none()));
    EXPECT_EQ(0u, ims_iommufd_ioas_area_count(ctx, ioas));
    ASSERT_EQ(0, Destroy(parent));
    ASSERT_EQ(0, ims_iommufd_ioas_map(ctx, ioas, 0x100000, 4096,
                                      IMS_IOMMU_IOAS_MAP_READABLE | IMS_IOMMU_IOAS_MAP_FIXED_IOVA, &iova, none()));
    uint32_t h = 0;
    EXPECT_EQ(-EINVAL, HwptAlloc(dev, ioas, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT, &h));
    EXPECT_EQ(0u, fake.domains.size());
}

TEST_F(IommufdHwpt, SetDirtyTracking)
{
    // iommufd-facts §1.3 SET_DIRTY_TRACKING; enabling starts from a clean
    // snapshot (io_pagetable.c iopt_set_dirty_tracking).
    uint32_t h = 0, plain = 0;
    ASSERT_EQ(0, HwptAlloc(dev, ioas, IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING | IMS_IOMMU_HWPT_ALLOC_NEST_PARENT, &h));
    ASSERT_EQ(0, HwptAlloc(dev, ioas, 0, &plain));
    ASSERT_EQ(0, MapFixed(ioas, 0x100000, 4 * 4096, 0x20000));
    Domain(h)->dirty_pages = {0x21000, 0x23000};
    ims_iommu_hwpt_set_dirty_tracking s{sizeof s, 2, h, 0};
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_HWPT_SET_DIRTY_TRACKING, &s));
    s.flags = IMS_IOMMU_HWPT_DIRTY_TRACKING_ENABLE;
    s.hwpt_id = 99;
    EXPECT_EQ(-ENOENT, Ioctl(IMS_IOMMU_HWPT_SET_DIRTY_TRACKING, &s));
    s.hwpt_id = Nested(dev, h); // not a paging HWPT -> ENOENT
    EXPECT_EQ(-ENOENT, Ioctl(IMS_IOMMU_HWPT_SET_DIRTY_TRACKING, &s));
    s.hwpt_id = plain; // no dirty ops
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_HWPT_SET_DIRTY_TRACKING, &s));
    s.hwpt_id = h;
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_HWPT_SET_DIRTY_TRACKING, &s));
    EXPECT_TRUE(Domain(h)->dirty_on);
    EXPECT_TRUE(Domain(h)->dirty_pages.empty());
    EXPECT_EQ("set_dirty 1 1", fake.last());
    EXPECT_EQ("read_dirty 1 0x20000 0x4000 ps=0x1000 no_clear=0", fake.log[fake.log.size() - 2]);
    s.flags = 0;
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_HWPT_SET_DIRTY_TRACKING, &s));
    EXPECT_FALSE(Domain(h)->dirty_on);
}

TEST_F(IommufdHwpt, GetDirtyBitmap)
{
    // iommufd-facts §1.3 GET_DIRTY_BITMAP checks (iommufd_check_iova_range).
    uint32_t h = 0, plain = 0;
    ASSERT_EQ(0, HwptAlloc(dev, ioas, IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &h));
    ASSERT_EQ(0, HwptAlloc(dev, ioas, 0, &plain));
    ASSERT_EQ(0, MapFixed(ioas, 0x100000, 16 * 4096, 0x40000));
    uint64_t bm[2] = {};
    ims_iommu_hwpt_get_dirty_bitmap g{sizeof g, h, 0, 0, 0x40000, 16 * 4096, 4096, reinterpret_cast<uintptr_t>(bm)};
    g.flags = 2;
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_HWPT_GET_DIRTY_BITMAP, &g));
    g.flags = 0;
    g.reserved = 1;
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_HWPT_GET_DIRTY_BITMAP, &g));
    g.reserved = 0;
    g.hwpt_id = 99;
    EXPECT_EQ(-ENOENT, Ioctl(IMS_IOMMU_HWPT_GET_DIRTY_BITMAP, &g));
    g.hwpt_id = h;
    g.iova = UINT64_MAX - 4095;
    EXPECT_EQ(-EOVERFLOW, Ioctl(IMS_IOMMU_HWPT_GET_DIRTY_BITMAP, &g));
    g.iova = 0x40800; // not on the IOMMU page
    EXPECT_EQ(-EINVAL, Ioctl(IMS_IOMMU_HWPT_GET_DIRTY_BITMAP, &g));
    g.iova = 0x40000;
    g.page_size = 0;
    EXPECT_EQ(-EINVAL, Ioctl(IMS_IOMMU_HWPT_GET_DIRTY_BITMAP, &g));
    g.page_size = 0x20000;
    g.length = 0x10000; // end 0x50000 not on a 128 KiB page
    EXPECT_EQ(-EINVAL, Ioctl(IMS_IOMMU_HWPT_GET_DIRTY_BITMAP, &g));
    g.page_size = 4096;
    g.length = 16 * 4096;
    g.hwpt_id = plain;
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_HWPT_GET_DIRTY_BITMAP, &g));
    g.hwpt_id = h;
    g.data = 0;
    EXPECT_EQ(-EFAULT, Ioctl(IMS_IOMMU_HWPT_GET_DIRTY_BITMAP, &g));
    g.data = reinterpret_cast<uintptr_t>(bm);
    Domain(h)->dirty_pages = {0x41000, 0x4f000};
    g.flags = IMS_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR;
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_HWPT_GET_DIRTY_BITMAP, &g));
    EXPECT_EQ((1ull << 1) | (1ull << 15), bm[0]);
    EXPECT_EQ(2u, Domain(h)->dirty_pages.size()); // kept
    bm[0] = 0;
    g.flags = 0;
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_HWPT_GET_DIRTY_BITMAP, &g));
    EXPECT_EQ((1ull << 1) | (1ull << 15), bm[0]);
    EXPECT_TRUE(Domain(h)->dirty_pages.empty()); // cleared
}

TEST_F(IommufdHwpt, ViommuFamilyIsUnavailableOnVtd)
{
    // iommufd-facts §1.3 IOMMU_VIOMMU_ALLOC: VT-d has no vIOMMU ops ->
    // EOPNOTSUPP; commands naming a vIOMMU fail its lookup (ENOENT).
    uint32_t parent = Parent(dev, ioas);
    ims_iommu_viommu_alloc v{};
    v.size = sizeof v;
    v.type = IMS_IOMMU_VIOMMU_TYPE_ARM_SMMUV3;
    v.dev_id = dev;
    v.hwpt_id = parent;
    v.flags = 1;
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_VIOMMU_ALLOC, &v));
    v.flags = 0;
    v.type = IMS_IOMMU_VIOMMU_TYPE_DEFAULT;
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_VIOMMU_ALLOC, &v));
    v.type = IMS_IOMMU_VIOMMU_TYPE_ARM_SMMUV3;
    v.dev_id = 99;
    EXPECT_EQ(-ENOENT, Ioctl(IMS_IOMMU_VIOMMU_ALLOC, &v));
    v.dev_id = dev;
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_VIOMMU_ALLOC, &v));
    ims_iommu_vdevice_alloc vd{sizeof vd, parent, dev, 0, 0x10};
    EXPECT_EQ(-ENOENT, Ioctl(IMS_IOMMU_VDEVICE_ALLOC, &vd));
    ims_iommu_veventq_alloc q{sizeof q, 0, parent, 1, 16, 0, 0, 0};
    EXPECT_EQ(-ENOENT, Ioctl(IMS_IOMMU_VEVENTQ_ALLOC, &q));
    q.veventq_depth = 0;
    EXPECT_EQ(-EINVAL, Ioctl(IMS_IOMMU_VEVENTQ_ALLOC, &q));
    q.type = 0;
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_VEVENTQ_ALLOC, &q));
    ims_iommu_hw_queue_alloc hq{sizeof hq, 0, parent, 1, 0, 0, 0x1000, 0x1000};
    EXPECT_EQ(-ENOENT, Ioctl(IMS_IOMMU_HW_QUEUE_ALLOC, &hq));
    hq.length = 0;
    EXPECT_EQ(-EINVAL, Ioctl(IMS_IOMMU_HW_QUEUE_ALLOC, &hq));
    EXPECT_EQ(0u, ims_iommufd_obj_users(ctx, parent)); // nothing took a reference
}

} // namespace
