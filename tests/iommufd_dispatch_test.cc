// The iommufd ioctl dispatcher (models/iommufd/iommufd.c) and the uAPI
// numbers and sizes (models/iommufd/uapi.h): iommufd-facts §1.1 (dispatch
// rules), §1.2 (command table), §3.3 iommufd.cmd_length / cmd_fail /
// cmd_ex_fail.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "tests/iommufd_fake_driver.h"

namespace {

struct CmdInfo {
    unsigned long cmd;
    uint32_t size, min;
    const char *name;
};

// iommufd-facts §1.2: value = 0x3B00 | nr, min = offsetofend(first version's
// last field), cur = sizeof in [7.1mw].
const CmdInfo kCmds[] = {
    {0x3B80, 8, 8, "DESTROY"},
    {0x3B81, 12, 12, "IOAS_ALLOC"},
    {0x3B82, 24, 24, "IOAS_ALLOW_IOVAS"},
    {0x3B83, 40, 40, "IOAS_COPY"},
    {0x3B84, 32, 32, "IOAS_IOVA_RANGES"},
    {0x3B85, 40, 40, "IOAS_MAP"},
    {0x3B86, 24, 24, "IOAS_UNMAP"},
    {0x3B87, 24, 24, "OPTION"},
    {0x3B88, 12, 12, "VFIO_IOAS"},
    {0x3B89, 48, 24, "HWPT_ALLOC"},
    {0x3B8A, 40, 32, "GET_HW_INFO"},
    {0x3B8B, 16, 16, "HWPT_SET_DIRTY_TRACKING"},
    {0x3B8C, 48, 48, "HWPT_GET_DIRTY_BITMAP"},
    {0x3B8D, 32, 32, "HWPT_INVALIDATE"},
    {0x3B8E, 16, 16, "FAULT_QUEUE_ALLOC"},
    {0x3B8F, 40, 40, "IOAS_MAP_FILE"},
    {0x3B90, 40, 24, "VIOMMU_ALLOC"},
    {0x3B91, 24, 24, "VDEVICE_ALLOC"},
    {0x3B92, 8, 8, "IOAS_CHANGE_PROCESS"},
    {0x3B93, 32, 28, "VEVENTQ_ALLOC"},
    {0x3B94, 40, 40, "HW_QUEUE_ALLOC"},
};

TEST(IommufdUapi, CommandNumbersAreTypeSemicolonWithTheirNr)
{
    // iommufd-facts §1.1: _IO(';', nr) = 0x3B00 | nr, nr from 0x80.
    EXPECT_EQ(IMS_IOMMU_DESTROY, 0x3B80u);
    EXPECT_EQ(IMS_IOMMU_IOAS_MAP, 0x3B85u);
    EXPECT_EQ(IMS_IOMMU_HWPT_ALLOC, 0x3B89u);
    EXPECT_EQ(IMS_IOMMU_GET_HW_INFO, 0x3B8Au);
    EXPECT_EQ(IMS_IOMMU_HWPT_INVALIDATE, 0x3B8Du);
    EXPECT_EQ(IMS_IOMMU_HW_QUEUE_ALLOC, 0x3B94u);
    // VFIO_BASE 100: BIND 118, ATTACH 119, DETACH 120 (iommufd-facts §1.3).
    EXPECT_EQ(IMS_VFIO_DEVICE_BIND_IOMMUFD, 0x3B76u);
    EXPECT_EQ(IMS_VFIO_DEVICE_ATTACH_IOMMUFD_PT, 0x3B77u);
    EXPECT_EQ(IMS_VFIO_DEVICE_DETACH_IOMMUFD_PT, 0x3B78u);
}

TEST(IommufdUapi, StructSizesAndKeyOffsetsMatchTheFactSheet)
{
    // iommufd-facts §1.3 tables (x86-64, [7.1mw]).
    EXPECT_EQ(sizeof(ims_iommu_hwpt_alloc), 48u);
    EXPECT_EQ(offsetof(ims_iommu_hwpt_alloc, data_uptr), 32u);
    EXPECT_EQ(offsetof(ims_iommu_hwpt_alloc, fault_id), 40u);
    EXPECT_EQ(sizeof(ims_iommu_hw_info), 40u);
    EXPECT_EQ(offsetof(ims_iommu_hw_info, out_max_pasid_log2), 28u);
    EXPECT_EQ(offsetof(ims_iommu_hw_info, out_capabilities), 32u);
    EXPECT_EQ(sizeof(ims_iommu_hwpt_invalidate), 32u);
    EXPECT_EQ(offsetof(ims_iommu_hwpt_invalidate, entry_num), 24u);
    EXPECT_EQ(sizeof(ims_iommu_hwpt_vtd_s1), 24u);
    EXPECT_EQ(sizeof(ims_iommu_hwpt_vtd_s1_invalidate), 24u);
    EXPECT_EQ(sizeof(ims_iommu_hw_info_vtd), 24u);
    EXPECT_EQ(sizeof(ims_iommu_hwpt_pgfault), 40u);
    EXPECT_EQ(offsetof(ims_iommu_hwpt_pgfault, addr), 24u);
    EXPECT_EQ(sizeof(ims_vfio_device_bind_iommufd), 24u);
    // Flag and type values.
    EXPECT_EQ(IMS_IOMMU_HWPT_ALLOC_PASID, 8u);
    EXPECT_EQ(IMS_IOMMU_HWPT_DATA_VTD_S1, 1u);
    EXPECT_EQ(IMS_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, 0u);
    EXPECT_EQ(IMS_IOMMU_HW_INFO_TYPE_INTEL_VTD, 1u);
    EXPECT_EQ(IMS_IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED, 8u);
    for (const CmdInfo &c : kCmds)
        EXPECT_LE(c.min, c.size) << c.name;
}

using IommufdDispatch = IommufdFixture;

TEST_F(IommufdDispatch, UnknownNumbersAreEnotty)
{
    // iommufd.cmd_fail: _IO(';', 0x7f) -> ENOTTY (iommufd-facts §3.3).
    ims_iommu_destroy d{sizeof d, 0};
    EXPECT_EQ(-ENOTTY, Ioctl(0x3B7F, &d));
    EXPECT_EQ(-ENOTTY, Ioctl(0x3B95, &d));
    EXPECT_EQ(-ENOTTY, Ioctl(0x3C80, &d));            // wrong type
    EXPECT_EQ(-ENOTTY, Ioctl(0x40083B80ul, &d));       // _IOW direction/size bits
    EXPECT_EQ(-ENOTTY, Ioctl(IMS_VFIO_DEVICE_BIND_IOMMUFD, &d)); // a device ioctl on the iommufd
}

TEST_F(IommufdDispatch, NullArgumentIsEfaultAndIdZeroIsEnoent)
{
    // iommufd.cmd_fail: DESTROY NULL -> EFAULT, DESTROY id 0 -> ENOENT.
    EXPECT_EQ(-EFAULT, Ioctl(IMS_IOMMU_DESTROY, nullptr));
    ims_iommu_destroy d{sizeof d, 0};
    EXPECT_EQ(-ENOENT, Ioctl(IMS_IOMMU_DESTROY, &d));
}

// iommufd.cmd_length: min-1 -> EINVAL; sizeof+1 with a non-zero tail ->
// E2BIG; a zero tail behaves exactly as sizeof (iommufd-facts §1.1, §3.3).
TEST_F(IommufdDispatch, EveryCommandFollowsTheSizeRules)
{
    for (const CmdInfo &c : kCmds) {
        SCOPED_TRACE(c.name);
        alignas(8) unsigned char buf[128];

        std::memset(buf, 0, sizeof buf);
        uint32_t sz = c.min - 1;
        std::memcpy(buf, &sz, 4);
        EXPECT_EQ(-EINVAL, Ioctl(c.cmd, buf));

        std::memset(buf, 0, sizeof buf);
        sz = c.size + 1;
        std::memcpy(buf, &sz, 4);
        buf[c.size] = 0xAA;
        EXPECT_EQ(-E2BIG, Ioctl(c.cmd, buf));

        // Zero tail == exact size (same errno or same success), on fresh contexts.
        std::memset(buf, 0, sizeof buf);
        sz = c.size;
        std::memcpy(buf, &sz, 4);
        Make();
        int exact = Ioctl(c.cmd, buf);
        std::memset(buf, 0, sizeof buf);
        sz = c.size + 8;
        std::memcpy(buf, &sz, 4);
        Make();
        int longer = Ioctl(c.cmd, buf);
        EXPECT_EQ(exact, longer);
        EXPECT_NE(-E2BIG, longer);
    }
}

TEST_F(IommufdDispatch, OutputIsWrittenBackOnlyUpToTheCallersSize)
{
    // iommufd-facts §1.1: copy_to_user(min(user size, kernel size)).
    alignas(8) unsigned char buf[64];
    std::memset(buf, 0xEE, sizeof buf);
    ims_iommu_ioas_alloc a{};
    a.size = sizeof a + 8; // longer, zero tail
    std::memcpy(buf, &a, sizeof a);
    std::memset(buf + sizeof a, 0, 8);
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_IOAS_ALLOC, buf));
    uint32_t id;
    std::memcpy(&id, buf + offsetof(ims_iommu_ioas_alloc, out_ioas_id), 4);
    EXPECT_EQ(1u, id); // ids start at 1
    for (size_t i = sizeof a; i < sizeof a + 8; i++)
        EXPECT_EQ(0, buf[i]) << i; // the tail is not ours: left as given
    EXPECT_EQ(0xEE, buf[sizeof a + 8]);
}

TEST_F(IommufdDispatch, ShorterOldLayoutsAreZeroExtended)
{
    // HWPT_ALLOC in its v6.6 size (24 bytes, iommufd-facts §1.3): data_type
    // and flags beyond are zero, so a plain paging HWPT results.
    uint32_t ioas = Ioas(), dev = Bind(0x10);
    alignas(8) unsigned char buf[64];
    std::memset(buf, 0x55, sizeof buf); // garbage past the 24 bytes must be ignored
    ims_iommu_hwpt_alloc a{};
    a.size = 24;
    a.dev_id = dev;
    a.pt_id = ioas;
    std::memcpy(buf, &a, 24);
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_HWPT_ALLOC, buf)) << ims_iommufd_last_error(ctx)->msg;
    uint32_t out;
    std::memcpy(&out, buf + offsetof(ims_iommu_hwpt_alloc, out_hwpt_id), 4);
    EXPECT_EQ(IMS_IOMMUFD_OBJ_HWPT_PAGING, ims_iommufd_obj_kind(ctx, out));
    EXPECT_EQ(0x55, buf[24]); // nothing written past the caller's size
    EXPECT_EQ("alloc_paging sid=0x10 flags=0x0", fake.last());
}

TEST_F(IommufdDispatch, GetHwInfoV66SizeLeavesCapabilitiesUntouched)
{
    // 32-byte v6.6 struct: out_capabilities (offset 32) is not the caller's.
    uint32_t dev = Bind(0x10);
    alignas(8) unsigned char buf[48];
    std::memset(buf, 0xCC, sizeof buf);
    ims_iommu_hw_info h{};
    h.size = 32;
    h.dev_id = dev;
    std::memcpy(buf, &h, 32);
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_GET_HW_INFO, buf));
    uint32_t type, len;
    std::memcpy(&type, buf + 24, 4);
    std::memcpy(&len, buf + 12, 4);
    EXPECT_EQ(IMS_IOMMU_HW_INFO_TYPE_INTEL_VTD, type);
    EXPECT_EQ(24u, len);
    for (size_t i = 32; i < 40; i++)
        EXPECT_EQ(0xCC, buf[i]);
}

TEST_F(IommufdDispatch, FailedCommandsNeverCallDoneAndSucceededOnesDoOnce)
{
    int calls = 0, status = 1;
    ims_drv_done d{[](void *c, int s) {
                       auto *p = static_cast<std::pair<int *, int *> *>(c);
                       ++*p->first;
                       *p->second = s;
                   },
                   nullptr};
    std::pair<int *, int *> pr{&calls, &status};
    d.ctx = &pr;
    ims_iommu_destroy bad{sizeof bad, 77};
    EXPECT_EQ(-ENOENT, ims_iommufd_ioctl(ctx, IMS_IOMMU_DESTROY, &bad, d));
    EXPECT_EQ(0, calls);
    EXPECT_STRNE("", ims_iommufd_last_error(ctx)->msg);
    ims_iommu_ioas_alloc a{sizeof a, 0, 0};
    EXPECT_EQ(0, ims_iommufd_ioctl(ctx, IMS_IOMMU_IOAS_ALLOC, &a, d));
    EXPECT_EQ(1, calls); // no engine: completion before the call returns
    EXPECT_EQ(0, status);
    EXPECT_EQ(0, ims_iommufd_last_error(ctx)->code);
    EXPECT_EQ(0u, ims_iommufd_pending(ctx));
}

TEST_F(IommufdDispatch, IdsAreLowestFreeFromOne)
{
    // One namespace, xa_alloc from 1 (iommufd-facts §1.1 "Object IDs").
    uint32_t a = Ioas(), b = Ioas(), c = Ioas();
    EXPECT_EQ(1u, a);
    EXPECT_EQ(2u, b);
    EXPECT_EQ(3u, c);
    ASSERT_EQ(0, Destroy(b));
    EXPECT_EQ(IMS_IOMMUFD_OBJ_NONE, ims_iommufd_obj_kind(ctx, b));
    EXPECT_EQ(2u, Ioas()); // reused
    EXPECT_EQ(4u, Bind(0x20)); // devices share the namespace
}

TEST_F(IommufdDispatch, VfioDeviceIoctlsUseArgszRules)
{
    // drivers/vfio/device_cdev.c: argsz < minsz -> EINVAL, unknown flags ->
    // EINVAL; only BIND checks the tail (copy_struct_from_user -> E2BIG).
    ims_vfio_device_bind_iommufd b{};
    b.argsz = 15;
    EXPECT_EQ(-EINVAL, ims_iommufd_vfio_ioctl(ctx, 1, IMS_VFIO_DEVICE_BIND_IOMMUFD, &b, none()));
    alignas(8) unsigned char big[32] = {};
    uint32_t sz = 25;
    std::memcpy(big, &sz, 4);
    big[24] = 1;
    EXPECT_EQ(-E2BIG, ims_iommufd_vfio_ioctl(ctx, 1, IMS_VFIO_DEVICE_BIND_IOMMUFD, big, none()));
    b.argsz = 16; // the minimum (out_devid) is enough
    b.flags = 2;
    EXPECT_EQ(-EINVAL, ims_iommufd_vfio_ioctl(ctx, 1, IMS_VFIO_DEVICE_BIND_IOMMUFD, &b, none()));
    b.flags = 0;
    b.iommufd = -1;
    EXPECT_EQ(-EINVAL, ims_iommufd_vfio_ioctl(ctx, 1, IMS_VFIO_DEVICE_BIND_IOMMUFD, &b, none()));
    b.iommufd = 3;
    b.flags = IMS_VFIO_DEVICE_BIND_FLAG_TOKEN; // decision: no SR-IOV token devices
    EXPECT_EQ(-EINVAL, ims_iommufd_vfio_ioctl(ctx, 1, IMS_VFIO_DEVICE_BIND_IOMMUFD, &b, none()));
    b.flags = 0;
    ASSERT_EQ(0, ims_iommufd_vfio_ioctl(ctx, 1, IMS_VFIO_DEVICE_BIND_IOMMUFD, &b, none()));
    EXPECT_EQ(1u, b.out_devid);
    EXPECT_EQ(-EINVAL, ims_iommufd_vfio_ioctl(ctx, 1, IMS_VFIO_DEVICE_BIND_IOMMUFD, &b, none())); // twice

    uint32_t ioas = Ioas();
    ims_vfio_device_attach_iommufd_pt at{};
    at.argsz = 11;
    at.pt_id = ioas;
    EXPECT_EQ(-EINVAL, ims_iommufd_vfio_ioctl(ctx, 1, IMS_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at, none()));
    at.argsz = 12;
    at.flags = 2;
    EXPECT_EQ(-EINVAL, ims_iommufd_vfio_ioctl(ctx, 1, IMS_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at, none()));
    at.flags = IMS_VFIO_DEVICE_ATTACH_PASID; // PASID needs the 16-byte form
    EXPECT_EQ(-EINVAL, ims_iommufd_vfio_ioctl(ctx, 1, IMS_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at, none()));
    at.flags = 0;
    EXPECT_EQ(0, ims_iommufd_vfio_ioctl(ctx, 1, IMS_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at, none()));
    EXPECT_EQ(IMS_IOMMUFD_OBJ_HWPT_PAGING, ims_iommufd_obj_kind(ctx, at.pt_id));

    ims_vfio_device_detach_iommufd_pt de{};
    de.argsz = 7;
    EXPECT_EQ(-EINVAL, ims_iommufd_vfio_ioctl(ctx, 1, IMS_VFIO_DEVICE_DETACH_IOMMUFD_PT, &de, none()));
    de.argsz = 8;
    de.flags = 4;
    EXPECT_EQ(-EINVAL, ims_iommufd_vfio_ioctl(ctx, 1, IMS_VFIO_DEVICE_DETACH_IOMMUFD_PT, &de, none()));
    de.flags = IMS_VFIO_DEVICE_DETACH_PASID;
    EXPECT_EQ(-EINVAL, ims_iommufd_vfio_ioctl(ctx, 1, IMS_VFIO_DEVICE_DETACH_IOMMUFD_PT, &de, none()));
    de.flags = 0;
    EXPECT_EQ(0, ims_iommufd_vfio_ioctl(ctx, 1, IMS_VFIO_DEVICE_DETACH_IOMMUFD_PT, &de, none()));
    EXPECT_EQ(-ENOTTY, ims_iommufd_vfio_ioctl(ctx, 1, IMS_IOMMU_DESTROY, &de, none()));
    EXPECT_EQ(-EFAULT, ims_iommufd_vfio_ioctl(ctx, 1, IMS_VFIO_DEVICE_DETACH_IOMMUFD_PT, nullptr, none()));
    // An unbound device grants no access.
    EXPECT_EQ(-EINVAL, ims_iommufd_vfio_ioctl(ctx, 9, IMS_VFIO_DEVICE_DETACH_IOMMUFD_PT, &de, none()));
}

TEST(IommufdCopyRules, DriverDataCopyFollowsTheKernelHelpers)
{
    // iommufd-facts §1.3 "Driver-data copy rules": type mismatch -> EINVAL,
    // len outside [min, sizeof] -> EINVAL (not E2BIG), NULL -> EFAULT.
    ims_iommu_hwpt_vtd_s1 src{}, dst{};
    src.pgtbl_addr = 0x1234000;
    EXPECT_EQ(-EINVAL, ims_iommufd_copy_struct_from_user(&dst, sizeof dst, 24, 1, 2, &src, 24));
    EXPECT_EQ(-EINVAL, ims_iommufd_copy_struct_from_user(&dst, sizeof dst, 24, 1, 1, &src, 23));
    EXPECT_EQ(-EINVAL, ims_iommufd_copy_struct_from_user(&dst, sizeof dst, 24, 1, 1, &src, 25));
    EXPECT_EQ(-EFAULT, ims_iommufd_copy_struct_from_user(&dst, sizeof dst, 24, 1, 1, nullptr, 24));
    EXPECT_EQ(0, ims_iommufd_copy_struct_from_user(&dst, sizeof dst, 24, 1, 1, &src, 24));
    EXPECT_EQ(0x1234000u, dst.pgtbl_addr);
    ims_iommu_hwpt_vtd_s1_invalidate arr[2] = {};
    arr[1].addr = 0x5000;
    ims_iommu_hwpt_vtd_s1_invalidate e{};
    EXPECT_EQ(-EINVAL, ims_iommufd_copy_struct_from_user_array(&e, sizeof e, 24, 0, 0, arr, 24, 2, 2));
    EXPECT_EQ(-EINVAL, ims_iommufd_copy_struct_from_user_array(&e, sizeof e, 24, 0, 0, arr, 24, 0, 0));
    EXPECT_EQ(-EINVAL, ims_iommufd_copy_struct_from_user_array(&e, sizeof e, 24, 0, 0, arr, 25, 2, 0));
    EXPECT_EQ(-EINVAL, ims_iommufd_copy_struct_from_user_array(&e, sizeof e, 24, 0, 0, arr, 1, 2, 0));
    EXPECT_EQ(0, ims_iommufd_copy_struct_from_user_array(&e, sizeof e, 24, 0, 0, arr, 24, 2, 1));
    EXPECT_EQ(0x5000u, e.addr);
}

} // namespace
