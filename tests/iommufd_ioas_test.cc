// The IOAS (models/iommufd/ioas.c): IOAS_ALLOC, MAP with fixed and allocated
// IOVA, UNMAP (superset rule, unmap-all, partial -> ENOENT), IOVA_RANGES
// (EMSGSIZE protocol), ALLOW_IOVAS, COPY, OPTION, the mirroring of areas into
// paging domains, and a randomized comparison of the interval logic with a
// reference. iommufd-facts §1.3 (IOAS_* and errors), §3.3 (selftests).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

#include "tests/iommufd_fake_driver.h"

namespace {

using IommufdIoas = IommufdFixture;

constexpr uint32_t RW = IMS_IOMMU_IOAS_MAP_READABLE | IMS_IOMMU_IOAS_MAP_WRITEABLE;
constexpr uint64_t K4 = 4096, M2 = 2u << 20;

TEST_F(IommufdIoas, AllocRejectsFlags)
{
    // IOMMU_IOAS_ALLOC: flags must be 0 -> else EOPNOTSUPP (iommufd-facts §1.3).
    ims_iommu_ioas_alloc a{sizeof a, 1, 0};
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_IOAS_ALLOC, &a));
    a.flags = 0;
    EXPECT_EQ(0, Ioctl(IMS_IOMMU_IOAS_ALLOC, &a));
    EXPECT_EQ(IMS_IOMMUFD_OBJ_IOAS, ims_iommufd_obj_kind(ctx, a.out_ioas_id));
}

TEST_F(IommufdIoas, MapErrnosInTheKernelsOrder)
{
    // iommufd-facts §1.3 IOMMU_IOAS_MAP errors.
    uint32_t ioas = Ioas();
    ims_iommu_ioas_map m{};
    m.size = sizeof m;
    m.ioas_id = ioas;
    m.user_va = 0x100000;
    m.length = K4;
    m.flags = RW | (1u << 3);
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_IOAS_MAP, &m));
    m.flags = RW;
    m.reserved = 1;
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_IOAS_MAP, &m));
    m.reserved = 0;
    m.flags = RW | IMS_IOMMU_IOAS_MAP_FIXED_IOVA;
    m.iova = UINT64_MAX;
    EXPECT_EQ(-EOVERFLOW, Ioctl(IMS_IOMMU_IOAS_MAP, &m));
    m.iova = 0x1000;
    m.length = UINT64_MAX;
    EXPECT_EQ(-EOVERFLOW, Ioctl(IMS_IOMMU_IOAS_MAP, &m));
    m.length = K4;
    m.flags = IMS_IOMMU_IOAS_MAP_FIXED_IOVA; // neither readable nor writeable
    EXPECT_EQ(-EINVAL, Ioctl(IMS_IOMMU_IOAS_MAP, &m));
    m.flags = RW | IMS_IOMMU_IOAS_MAP_FIXED_IOVA;
    m.ioas_id = 99;
    EXPECT_EQ(-ENOENT, Ioctl(IMS_IOMMU_IOAS_MAP, &m));
    m.ioas_id = ioas;
    m.length = 0;
    EXPECT_EQ(-EINVAL, Ioctl(IMS_IOMMU_IOAS_MAP, &m));
    m.length = K4;
    m.user_va = UINT64_MAX - 100; // user_va + length overflows
    EXPECT_EQ(-EOVERFLOW, Ioctl(IMS_IOMMU_IOAS_MAP, &m));
    m.user_va = 0x100000;
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_IOAS_MAP, &m));
    EXPECT_EQ(0x1000u, m.iova);
    m.user_va = 0x200000; // any overlap with an area -> EEXIST
    m.iova = 0;
    m.length = 2 * K4;
    EXPECT_EQ(-EEXIST, Ioctl(IMS_IOMMU_IOAS_MAP, &m));
    EXPECT_EQ(1u, ims_iommufd_ioas_area_count(ctx, ioas));
}

TEST_F(IommufdIoas, AllocatedIovaKeepsTheBackingAlignmentAndSkipsZero)
{
    // iopt_alloc_iova: alignment = min(roundup_pow2(length), lowest set bit of
    // the address), at most 2 MiB; IOVA 0 is never returned.
    uint32_t ioas = Ioas();
    uint64_t iova = 0;
    ASSERT_EQ(0, Map(ioas, 0x40000000, M2, &iova));
    EXPECT_EQ(M2, iova); // 2 MiB aligned, 0 excluded
    ASSERT_EQ(0, Map(ioas, 0x40201000, K4, &iova));
    EXPECT_EQ(K4, iova); // 4 KiB alignment, first fit above page 0
    ASSERT_EQ(0, Map(ioas, 0x40600000, 4 * M2, &iova));
    EXPECT_EQ(2 * M2, iova); // capped at 2 MiB alignment, after [2M, 4M)
    ASSERT_EQ(0, Map(ioas, 0x4000a000, 3 * K4, &iova));
    EXPECT_EQ(2 * K4, iova); // roundup(3 pages) = 16K > lowbit 8K -> 8K aligned
    uint64_t hpa = 0;
    ASSERT_EQ(0, ims_iommufd_ioas_translate(ctx, ioas, 2 * K4 + 5, &hpa, nullptr));
    EXPECT_EQ(0x4000a005u, hpa);
}

TEST_F(IommufdIoas, UnmapSupersetRuleAndErrnos)
{
    // iommufd-facts §1.3 IOMMU_IOAS_UNMAP.
    uint32_t ioas = Ioas();
    ASSERT_EQ(0, MapFixed(ioas, 0x100000, 4 * K4, 0x10000));
    ASSERT_EQ(0, MapFixed(ioas, 0x200000, 2 * K4, 0x20000));
    uint64_t n = 0;
    EXPECT_EQ(-ENOENT, Unmap(99, 0x10000, K4));
    EXPECT_EQ(-EINVAL, Unmap(ioas, 0x10000, 0));
    EXPECT_EQ(-EOVERFLOW, Unmap(ioas, UINT64_MAX, K4));
    EXPECT_EQ(-EOVERFLOW, Unmap(ioas, 0x1000, UINT64_MAX));
    EXPECT_EQ(-EOVERFLOW, Unmap(ioas, UINT64_MAX - K4, 2 * K4));
    EXPECT_EQ(-ENOENT, Unmap(ioas, 0x10000, K4));     // splits an area
    EXPECT_EQ(-ENOENT, Unmap(ioas, 0x11000, 8 * K4)); // truncates its start
    EXPECT_EQ(-ENOENT, Unmap(ioas, 0x30000, K4));     // nothing there
    EXPECT_EQ(2u, ims_iommufd_ioas_area_count(ctx, ioas));
    ASSERT_EQ(0, Unmap(ioas, 0x8000, 0x30000, &n)); // superset of both
    EXPECT_EQ(6 * K4, n);
    EXPECT_EQ(0u, ims_iommufd_ioas_area_count(ctx, ioas));
    // unmap-all succeeds on an empty IOAS and reports 0 bytes.
    ims_iommu_ioas_unmap u{sizeof u, ioas, 0, UINT64_MAX};
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_IOAS_UNMAP, &u));
    EXPECT_EQ(0u, u.length);
    ASSERT_EQ(0, MapFixed(ioas, 0x100000, K4, 0x7000));
    ASSERT_EQ(0, MapFixed(ioas, 0x100000, K4, 0x70000000));
    u.length = UINT64_MAX;
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_IOAS_UNMAP, &u));
    EXPECT_EQ(2 * K4, u.length);
}

TEST_F(IommufdIoas, PartialUnmapAtTheTopLeavesLowerAreasRemoved)
{
    // io_pagetable.c iopt_unmap_iova_range walks areas upwards: a fully
    // covered area is gone before the partly covered one above it fails.
    uint32_t ioas = Ioas();
    ASSERT_EQ(0, MapFixed(ioas, 0x100000, K4, 0x10000));
    ASSERT_EQ(0, MapFixed(ioas, 0x200000, 4 * K4, 0x20000));
    EXPECT_EQ(-ENOENT, Unmap(ioas, 0x10000, 0x11000));
    EXPECT_EQ(-ENOENT, ims_iommufd_ioas_translate(ctx, ioas, 0x10000, nullptr, nullptr));
    EXPECT_EQ(0, ims_iommufd_ioas_translate(ctx, ioas, 0x20000, nullptr, nullptr));
}

TEST_F(IommufdIoas, IovaRangesEmsgsizeProtocol)
{
    // iommufd-facts §1.3 IOMMU_IOAS_IOVA_RANGES: holes of the reserved tree;
    // too small a buffer -> EMSGSIZE with num_iovas = total (struct still
    // written back). A fresh IOAS has one full range and alignment 1.
    uint32_t ioas = Ioas();
    ims_iommu_iova_range r[4] = {};
    ims_iommu_ioas_iova_ranges q{};
    q.size = sizeof q;
    q.ioas_id = ioas;
    q.num_iovas = 4;
    q.allowed_iovas = reinterpret_cast<uintptr_t>(r);
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_IOAS_IOVA_RANGES, &q));
    EXPECT_EQ(1u, q.num_iovas);
    EXPECT_EQ(0u, r[0].start);
    EXPECT_EQ(UINT64_MAX, r[0].last);
    EXPECT_EQ(1u, q.out_iova_alignment);

    // A device with the x86 MSI window attached through a 48-bit domain.
    resv = {{IMS_IOMMUFD_X86_MSI_START, IMS_IOMMUFD_X86_MSI_LAST}};
    aperture_last = (1ull << 48) - 1;
    Make();
    ioas = Ioas();
    Bind(0x10);
    uint32_t pt = ioas;
    ASSERT_EQ(0, Attach(0x10, &pt));
    q.ioas_id = ioas;
    q.num_iovas = 1;
    std::memset(r, 0, sizeof r);
    EXPECT_EQ(-EMSGSIZE, Ioctl(IMS_IOMMU_IOAS_IOVA_RANGES, &q));
    EXPECT_EQ(2u, q.num_iovas);
    EXPECT_EQ(0u, r[0].start);
    EXPECT_EQ(0xFEDFFFFFu, r[0].last);
    EXPECT_EQ(0u, r[1].last); // beyond the capacity: untouched
    EXPECT_EQ(K4, q.out_iova_alignment);
    q.num_iovas = 2;
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_IOAS_IOVA_RANGES, &q));
    EXPECT_EQ(0xFEF00000u, r[1].start);
    EXPECT_EQ((1ull << 48) - 1, r[1].last);
    // Zero capacity: just the count; capacity with a NULL buffer: EFAULT.
    q.num_iovas = 0;
    q.allowed_iovas = 0;
    EXPECT_EQ(-EMSGSIZE, Ioctl(IMS_IOMMU_IOAS_IOVA_RANGES, &q));
    EXPECT_EQ(2u, q.num_iovas);
    EXPECT_EQ(-EFAULT, Ioctl(IMS_IOMMU_IOAS_IOVA_RANGES, &q));
    q.reserved = 1;
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_IOAS_IOVA_RANGES, &q));
    q.reserved = 0;
    q.ioas_id = 77;
    EXPECT_EQ(-ENOENT, Ioctl(IMS_IOMMU_IOAS_IOVA_RANGES, &q));
}

TEST_F(IommufdIoas, ReservedRangesBlockFixedMapsAndAllocation)
{
    resv = {{IMS_IOMMUFD_X86_MSI_START, IMS_IOMMUFD_X86_MSI_LAST}};
    Make();
    uint32_t ioas = Ioas();
    Bind(0x10);
    uint32_t pt = ioas;
    ASSERT_EQ(0, Attach(0x10, &pt));
    // Fixed map into a reserved range -> EINVAL (iopt_check_iova).
    EXPECT_EQ(-EINVAL, MapFixed(ioas, 0x100000, K4, 0xFEE00000));
    // Allowed range right below the window: allocation must skip the window.
    ims_iommu_iova_range allow{0xFED00000, 0xFEFFFFFF};
    ims_iommu_ioas_allow_iovas a{sizeof a, ioas, 1, 0, reinterpret_cast<uintptr_t>(&allow)};
    EXPECT_EQ(-EADDRINUSE, Ioctl(IMS_IOMMU_IOAS_ALLOW_IOVAS, &a)); // overlaps the reservation
    allow = {0xFED00000, 0xFEDFFFFF};
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_IOAS_ALLOW_IOVAS, &a));
    uint64_t iova = 0;
    ASSERT_EQ(0, Map(ioas, 0x200000, K4, &iova));
    EXPECT_EQ(0xFED00000u, iova);
    EXPECT_EQ(-ENOSPC, Map(ioas, 0x400000, M2, &iova));
    // Misaligned fixed IOVA once a 4 KiB domain exists -> EINVAL.
    EXPECT_EQ(-EINVAL, MapFixed(ioas, 0x100000, K4, 0x10800));
    EXPECT_EQ(-EINVAL, MapFixed(ioas, 0x100000, 0x800, 0x10000)); // length not aligned
    // A device cannot attach to an IOAS that maps its reserved range.
    uint32_t ioas2 = Ioas();
    ASSERT_EQ(0, MapFixed(ioas2, 0x100000, K4, 0xFEE01000));
    Bind(0x11);
    pt = ioas2;
    EXPECT_EQ(-EADDRINUSE, Attach(0x11, &pt));
}

TEST_F(IommufdIoas, AllowIovasValidation)
{
    uint32_t ioas = Ioas();
    ims_iommu_iova_range r[2] = {{0x100000, 0x1FFFFF}, {0x180000, 0x2FFFFF}};
    ims_iommu_ioas_allow_iovas a{sizeof a, ioas, 2, 0, reinterpret_cast<uintptr_t>(r)};
    EXPECT_EQ(-EINVAL, Ioctl(IMS_IOMMU_IOAS_ALLOW_IOVAS, &a)); // overlap
    r[1] = {0x300000, 0x300000};
    EXPECT_EQ(-EINVAL, Ioctl(IMS_IOMMU_IOAS_ALLOW_IOVAS, &a)); // start >= last
    a.allowed_iovas = 0;
    EXPECT_EQ(-EFAULT, Ioctl(IMS_IOMMU_IOAS_ALLOW_IOVAS, &a));
    a.reserved = 1;
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_IOAS_ALLOW_IOVAS, &a));
    a.reserved = 0;
    a.ioas_id = 55;
    EXPECT_EQ(-ENOENT, Ioctl(IMS_IOMMU_IOAS_ALLOW_IOVAS, &a));
    // Two adjacent ranges form one span for allocation.
    r[0] = {0x100000, 0x1FFFFF};
    r[1] = {0x200000, 0x2FFFFF};
    a = {sizeof a, ioas, 2, 0, reinterpret_cast<uintptr_t>(r)};
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_IOAS_ALLOW_IOVAS, &a));
    uint64_t iova = 0;
    ASSERT_EQ(0, Map(ioas, 0x1001000, 0x100000 + K4, &iova)); // 4 KiB aligned backing
    EXPECT_EQ(0x100000u, iova);
}

TEST_F(IommufdIoas, CopySharesTheBackingIntoAnotherIoas)
{
    // IOMMU_IOAS_COPY: the source range must be fully mapped (ENOENT).
    uint32_t src = Ioas(), dst = Ioas();
    ASSERT_EQ(0, MapFixed(src, 0x500000, 2 * K4, 0x10000));
    ASSERT_EQ(0, MapFixed(src, 0x900000, 2 * K4, 0x12000));
    ims_iommu_ioas_copy c{};
    c.size = sizeof c;
    c.flags = RW | IMS_IOMMU_IOAS_MAP_FIXED_IOVA;
    c.dst_ioas_id = dst;
    c.src_ioas_id = src;
    c.length = 4 * K4;
    c.src_iova = 0x10000;
    c.dst_iova = 0x80000;
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_IOAS_COPY, &c)) << ims_iommufd_last_error(ctx)->msg;
    uint64_t hpa = 0;
    ASSERT_EQ(0, ims_iommufd_ioas_translate(ctx, dst, 0x83004, &hpa, nullptr));
    EXPECT_EQ(0x901004u, hpa);
    EXPECT_EQ(2u, ims_iommufd_ioas_area_count(ctx, dst));
    c.src_iova = 0x11000; // runs past the end of the source
    c.dst_iova = 0x100000;
    EXPECT_EQ(-ENOENT, Ioctl(IMS_IOMMU_IOAS_COPY, &c));
    c.src_iova = 0x10000;
    c.dst_iova = 0x80000;
    EXPECT_EQ(-EEXIST, Ioctl(IMS_IOMMU_IOAS_COPY, &c));
    c.flags = IMS_IOMMU_IOAS_MAP_FIXED_IOVA;
    EXPECT_EQ(-EINVAL, Ioctl(IMS_IOMMU_IOAS_COPY, &c));
    c.flags = RW | 0x10;
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_IOAS_COPY, &c));
}

TEST_F(IommufdIoas, MappingsAreMirroredIntoEveryPagingDomain)
{
    uint32_t ioas = Ioas(), dev = Bind(0x10);
    ASSERT_EQ(0, MapFixed(ioas, 0x100000, 2 * K4, 0x10000));
    uint32_t h1 = 0, h2 = 0;
    ASSERT_EQ(0, HwptAlloc(dev, ioas, 0, &h1));
    // The new domain got the existing area.
    EXPECT_EQ(2u, Domain(h1)->pages.size());
    EXPECT_EQ(0x101000u, Domain(h1)->pages.at(0x11000).first);
    ASSERT_EQ(0, HwptAlloc(dev, ioas, 0, &h2));
    fake.log.clear();
    ASSERT_EQ(0, MapFixed(ioas, 0x300000, K4, 0x40000));
    ASSERT_EQ(2u, fake.log.size());
    EXPECT_EQ("map 1 0x40000 0x300000 0x1000 rw", fake.log[0]);
    EXPECT_EQ("map 2 0x40000 0x300000 0x1000 rw", fake.log[1]);
    // A failure in the second domain rolls the first back: all or nothing.
    fake.fail_after["map"] = 1;
    EXPECT_EQ(-EIO, MapFixed(ioas, 0x400000, K4, 0x50000));
    fake.fail_after.clear();
    EXPECT_EQ(0u, Domain(h1)->pages.count(0x50000));
    EXPECT_EQ(-ENOENT, ims_iommufd_ioas_translate(ctx, ioas, 0x50000, nullptr, nullptr));
    EXPECT_EQ("unmap 1 0x50000 0x1000", fake.last());
    // Unmap reaches both; destroying a HWPT unmaps its domain and frees it.
    ASSERT_EQ(0, Unmap(ioas, 0x40000, K4));
    EXPECT_EQ(0u, Domain(h2)->pages.count(0x40000));
    ASSERT_EQ(0, Destroy(h2));
    EXPECT_EQ("free 2", fake.last());
    EXPECT_EQ("unmap 2 0x10000 0x2000", fake.log[fake.log.size() - 2]);
}

TEST_F(IommufdIoas, DomainNeedsPageAlignedAreasAndTheAperture)
{
    // iopt_table_add_domain: areas must satisfy the domain's 4 KiB page and
    // lie inside the aperture -> else EADDRINUSE.
    aperture_last = (1ull << 39) - 1;
    Make();
    uint32_t ioas = Ioas(), dev = Bind(0x10);
    ASSERT_EQ(0, MapFixed(ioas, 0x100800, 0x800, 0x10800)); // alignment 1: allowed
    uint32_t h = 0;
    EXPECT_EQ(-EADDRINUSE, HwptAlloc(dev, ioas, 0, &h));
    EXPECT_EQ("free 1", fake.last()); // the refused domain is released
    ASSERT_EQ(0, Unmap(ioas, 0x10800, 0x800));
    ASSERT_EQ(0, MapFixed(ioas, 0x100000, K4, 1ull << 40));
    EXPECT_EQ(-EADDRINUSE, HwptAlloc(dev, ioas, 0, &h));
    ASSERT_EQ(0, Unmap(ioas, 1ull << 40, K4));
    ASSERT_EQ(0, HwptAlloc(dev, ioas, 0, &h));
    EXPECT_EQ(K4, ims_iommufd_ioas_alignment(ctx, ioas));
    EXPECT_EQ(-EINVAL, MapFixed(ioas, 0x100000, K4, 1ull << 40)); // above the aperture: reserved
    ASSERT_EQ(0, Destroy(h));
    EXPECT_EQ(1u, ims_iommufd_ioas_alignment(ctx, ioas)); // back to a software table
}

TEST_F(IommufdIoas, DestroyIoasInUseIsBusy)
{
    // iommufd_ioas.ioas_destroy: an IOAS held by a HWPT -> EBUSY (§3.3).
    uint32_t ioas = Ioas(), dev = Bind(0x10), h = 0;
    ASSERT_EQ(0, HwptAlloc(dev, ioas, 0, &h));
    EXPECT_EQ(-EBUSY, Destroy(ioas));
    ASSERT_EQ(0, Destroy(h));
    ASSERT_EQ(0, MapFixed(ioas, 0x100000, K4, 0x10000)); // areas do not pin an IOAS
    EXPECT_EQ(0, Destroy(ioas));
    EXPECT_EQ(-ENOENT, Destroy(ioas));
}

TEST_F(IommufdIoas, OptionsAndCompatCommands)
{
    uint32_t ioas = Ioas();
    ims_iommu_option o{sizeof o, IMS_IOMMU_OPTION_HUGE_PAGES, IMS_IOMMU_OPTION_OP_GET, 0, ioas, 7};
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_OPTION, &o));
    EXPECT_EQ(1u, o.val64);
    o.op = IMS_IOMMU_OPTION_OP_SET;
    o.val64 = 0;
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_OPTION, &o));
    EXPECT_EQ(K4, ims_iommufd_ioas_alignment(ctx, ioas)); // no large pages: page granular
    o.val64 = 2;
    EXPECT_EQ(-EINVAL, Ioctl(IMS_IOMMU_OPTION, &o));
    o.object_id = 42;
    EXPECT_EQ(-ENOENT, Ioctl(IMS_IOMMU_OPTION, &o));
    o = {sizeof o, IMS_IOMMU_OPTION_RLIMIT_MODE, IMS_IOMMU_OPTION_OP_SET, 0, 0, 1};
    EXPECT_EQ(-EBUSY, Ioctl(IMS_IOMMU_OPTION, &o)); // objects exist
    o.object_id = ioas;
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_OPTION, &o));
    o.option_id = 9;
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_OPTION, &o));

    ims_iommu_vfio_ioas v{sizeof v, 0, IMS_IOMMU_VFIO_IOAS_GET, 0};
    EXPECT_EQ(-ENOENT, Ioctl(IMS_IOMMU_VFIO_IOAS, &v));
    v = {sizeof v, ioas, IMS_IOMMU_VFIO_IOAS_SET, 0};
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_VFIO_IOAS, &v));
    v = {sizeof v, 0, IMS_IOMMU_VFIO_IOAS_GET, 0};
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_VFIO_IOAS, &v));
    EXPECT_EQ(ioas, v.ioas_id);
    v.op = 3;
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_VFIO_IOAS, &v));

    ims_iommu_ioas_change_process cp{sizeof cp, 0};
    EXPECT_EQ(0, Ioctl(IMS_IOMMU_IOAS_CHANGE_PROCESS, &cp));
    ASSERT_EQ(0, MapFixed(ioas, 0x100000, K4, 0x10000));
    EXPECT_EQ(-EINVAL, Ioctl(IMS_IOMMU_IOAS_CHANGE_PROCESS, &cp)); // user-VA areas cannot move

    ims_iommu_ioas_map_file mf{sizeof mf, RW, ioas, 5, 0, K4, 0};
    EXPECT_EQ(-EBADF, Ioctl(IMS_IOMMU_IOAS_MAP_FILE, &mf));
    mf.length = 0;
    EXPECT_EQ(-EINVAL, Ioctl(IMS_IOMMU_IOAS_MAP_FILE, &mf));
}

// Reference model of the interval logic: a map of areas by start.
struct RefArea {
    uint64_t last, pa;
};

TEST_F(IommufdIoas, RandomMapUnmapMatchesAReference)
{
    uint32_t ioas = Ioas(), dev = Bind(0x10), h = 0;
    ASSERT_EQ(0, HwptAlloc(dev, ioas, 0, &h)); // every step is mirrored into this domain
    std::map<uint64_t, RefArea> ref;
    std::mt19937_64 rng(12345);
    const uint64_t space = 256; // pages
    for (int step = 0; step < 3000; step++) {
        // Fixed maps land in [0, space); unmaps also reach the allocated
        // areas that first fit places above it.
        uint64_t s = (rng() % (2 * space)) * K4, len = (1 + rng() % 8) * K4;
        uint64_t last = s + len - 1;
        // The lowest reference area intersecting [a, b].
        auto first_overlap = [&](uint64_t a, uint64_t b) {
            auto it = ref.upper_bound(a);
            if (it != ref.begin() && std::prev(it)->second.last >= a)
                return std::prev(it);
            return it != ref.end() && it->first <= b ? it : ref.end();
        };
        unsigned op = rng() % 5;
        if (op == 4) {
            // Allocated IOVA: the lowest free window aligned to
            // min(roundup_pow2(len), lowest bit of the backing, 2 MiB), >= 4 KiB.
            uint64_t pa = 0x10000000 + (rng() % 4096) * K4;
            uint64_t align = 1;
            while (align < len)
                align <<= 1;
            align = std::min({align, pa & (~pa + 1), M2});
            uint64_t want = K4 % align ? (K4 / align + 1) * align : K4;
            for (auto it = first_overlap(want, want + len - 1); it != ref.end();
                 it = first_overlap(want, want + len - 1))
                want = (it->second.last + align) / align * align; // next aligned start past it
            uint64_t iova = 0;
            ASSERT_EQ(0, Map(ioas, pa, len, &iova)) << "step " << step;
            ASSERT_EQ(want, iova) << "step " << step;
            ref[iova] = {iova + len - 1, pa};
        } else if (op < 2) {
            s %= space * K4;
            last = s + len - 1;
            uint64_t pa = 0x10000000 + (rng() % 4096) * K4;
            int want = first_overlap(s, last) == ref.end() ? 0 : -EEXIST;
            ASSERT_EQ(want, MapFixed(ioas, pa, len, s)) << "step " << step;
            if (!want)
                ref[s] = {last, pa};
        } else {
            // Expected: remove fully covered areas upwards; stop with ENOENT
            // at a partly covered one; ENOENT if nothing was removed.
            uint64_t removed = 0, cur = s;
            int want = 0;
            for (;;) {
                auto it = first_overlap(cur, last);
                if (it == ref.end())
                    break;
                if (it->first < cur || it->second.last > last) {
                    want = -ENOENT;
                    break;
                }
                uint64_t al = it->second.last;
                removed += al - it->first + 1;
                ref.erase(it);
                if (al >= last)
                    break;
                cur = al + 1;
            }
            if (!want && !removed)
                want = -ENOENT;
            uint64_t got = 0;
            ASSERT_EQ(want, Unmap(ioas, s, len, &got)) << "step " << step;
            if (!want) {
                ASSERT_EQ(removed, got);
            }
        }
        if (step % 100 == 0 || step == 2999) {
            ASSERT_EQ(ref.size(), ims_iommufd_ioas_area_count(ctx, ioas));
            size_t pages = 0;
            for (auto &kv : ref)
                pages += (kv.second.last - kv.first + 1) / K4;
            ASSERT_EQ(pages, Domain(h)->pages.size());
            for (uint64_t p = 0; p < 2 * space + 8; p++) {
                uint64_t iova = p * K4, hpa = 0;
                auto it = ref.upper_bound(iova);
                bool in = it != ref.begin() && std::prev(it)->second.last >= iova;
                int rc = ims_iommufd_ioas_translate(ctx, ioas, iova, &hpa, nullptr);
                ASSERT_EQ(in ? 0 : -ENOENT, rc) << iova;
                if (in) {
                    uint64_t want = std::prev(it)->second.pa + (iova - std::prev(it)->first);
                    ASSERT_EQ(want, hpa);
                    ASSERT_EQ(want, Domain(h)->pages.at(iova).first);
                }
            }
        }
    }
}

TEST_F(IommufdIoas, HostAllocHandsOutAlignedBackingFromHostRam)
{
    // host.mem_base defaults to 4 GiB, host.mem_size to 16 GiB.
    uint64_t a = 0, b = 0;
    ASSERT_EQ(0, ims_iommufd_host_alloc(ctx, K4, 0, &a));
    EXPECT_EQ(4ull << 30, a);
    ASSERT_EQ(0, ims_iommufd_host_alloc(ctx, M2, M2, &b));
    EXPECT_EQ((4ull << 30) + M2, b);
    EXPECT_EQ(-ENOMEM, ims_iommufd_host_alloc(ctx, 16ull << 30, 0, &b));
    EXPECT_EQ(-EINVAL, ims_iommufd_host_alloc(ctx, K4, 3, &b));
}

} // namespace
