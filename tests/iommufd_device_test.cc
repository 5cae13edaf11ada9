// Devices (models/iommufd/device.c): VFIO cdev bind / attach / replace /
// detach for the RID and PASIDs, automatic domains for an IOAS, reference
// counts, GET_HW_INFO buffer rules, and the timing of completions.
// iommufd-facts §1.3 (GET_HW_INFO, VFIO cdev), §3.3 (hwpt_attach,
// mock_domain.replace, get_hw_info, device_pasid.pasid_attach).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "sim/engine.h"
#include "tests/iommufd_fake_driver.h"

namespace {

class IommufdDevice : public IommufdFixture {
  protected:
    uint32_t ioas = 0, dev = 0;
    void SetUp() override
    {
        IommufdFixture::SetUp();
        ioas = Ioas();
        dev = Bind(0x10);
    }
    uint32_t PasidHwpt()
    {
        uint32_t h = 0;
        EXPECT_EQ(0, HwptAlloc(dev, ioas, IMS_IOMMU_HWPT_ALLOC_PASID, &h));
        return h;
    }
};

TEST_F(IommufdDevice, BoundDeviceCannotBeDestroyedAndCloseUnbinds)
{
    EXPECT_EQ(IMS_IOMMUFD_OBJ_DEVICE, ims_iommufd_obj_kind(ctx, dev));
    EXPECT_EQ(dev, ims_iommufd_device_of_sid(ctx, 0x10));
    EXPECT_EQ(-EBUSY, Destroy(dev)); // held by its VFIO file
    uint32_t ph = PasidHwpt(), pt = ph;
    ASSERT_EQ(0, Attach(0x10, &pt));
    ASSERT_EQ(0, Attach(0x10, &pt, 5));
    EXPECT_EQ(2u, ims_iommufd_obj_users(ctx, ph));
    ASSERT_EQ(0, ims_iommufd_vfio_close(ctx, 0x10, none()));
    EXPECT_EQ(IMS_IOMMUFD_OBJ_NONE, ims_iommufd_obj_kind(ctx, dev));
    EXPECT_EQ(0u, ims_iommufd_obj_users(ctx, ph));
    // PASIDs go before the RID they hang off (vfio_iommufd_physical_unbind).
    EXPECT_EQ("detach sid=0x10 pasid=0x5", fake.log[fake.log.size() - 2]);
    EXPECT_EQ("detach sid=0x10 pasid=0xffffffff", fake.last());
    EXPECT_EQ(-ENOENT, ims_iommufd_vfio_close(ctx, 0x10, none()));
    EXPECT_EQ(0, Destroy(ph));
    // Closing the last user of an automatic domain frees it.
    Bind(0x11);
    uint32_t auto_pt = ioas;
    ASSERT_EQ(0, Attach(0x11, &auto_pt));
    ASSERT_EQ(0, ims_iommufd_vfio_close(ctx, 0x11, none()));
    EXPECT_EQ(IMS_IOMMUFD_OBJ_NONE, ims_iommufd_obj_kind(ctx, auto_pt));
    EXPECT_EQ(0u, fake.domains.size());
}

TEST_F(IommufdDevice, AttachToAnIoasMakesAndReusesAutomaticDomains)
{
    // iommufd_device_auto_get_domain: reuse an automatic domain the device
    // accepts; -EINVAL from the driver means "try another".
    uint32_t pt = ioas;
    ASSERT_EQ(0, Attach(0x10, &pt));
    EXPECT_EQ(IMS_IOMMUFD_OBJ_HWPT_PAGING, ims_iommufd_obj_kind(ctx, pt));
    EXPECT_EQ(pt, ims_iommufd_device_hwpt(ctx, dev, IMS_DRV_NO_PASID));
    // Immediate attach: the domain is attached before it is filled.
    EXPECT_EQ("alloc_paging sid=0x10 flags=0x0", fake.log[fake.log.size() - 2]);
    EXPECT_EQ("attach 1 sid=0x10 pasid=0xffffffff", fake.last());
    Bind(0x11);
    uint32_t pt2 = ioas;
    ASSERT_EQ(0, Attach(0x11, &pt2));
    EXPECT_EQ(pt, pt2);
    EXPECT_EQ(2u, ims_iommufd_obj_users(ctx, pt));
    Bind(0x12);
    fake.incompatible.insert({1, 0x12});
    uint32_t pt3 = ioas;
    ASSERT_EQ(0, Attach(0x12, &pt3)) << ims_iommufd_last_error(ctx)->msg;
    EXPECT_NE(pt, pt3);
    EXPECT_EQ(0, ims_iommufd_last_error(ctx)->code); // the skipped domain left no error
    // A manually allocated HWPT is never picked automatically.
    uint32_t manual = 0;
    ASSERT_EQ(0, HwptAlloc(dev, ioas, 0, &manual));
    Bind(0x13);
    uint32_t pt4 = ioas;
    ASSERT_EQ(0, Attach(0x13, &pt4));
    EXPECT_EQ(pt, pt4);
    // Automatic domains cannot be destroyed while used and die with their last user.
    EXPECT_EQ(-EBUSY, Destroy(pt));
    ASSERT_EQ(0, Detach(0x10));
    ASSERT_EQ(0, Detach(0x11));
    EXPECT_EQ(IMS_IOMMUFD_OBJ_HWPT_PAGING, ims_iommufd_obj_kind(ctx, pt));
    ASSERT_EQ(0, Detach(0x13));
    EXPECT_EQ(IMS_IOMMUFD_OBJ_NONE, ims_iommufd_obj_kind(ctx, pt));
    EXPECT_EQ("free 1", fake.last());
    EXPECT_EQ(0, Detach(0x13)); // not attached: nothing to do
}

TEST_F(IommufdDevice, ReplaceFreesTheOldAutomaticDomain)
{
    // iommufd_mock_domain.replace: a replaced automatic HWPT is freed (ENOENT).
    uint32_t ioas2 = Ioas(), pt = ioas;
    ASSERT_EQ(0, Attach(0x10, &pt));
    uint32_t old = pt;
    pt = ioas2; // VFIO: a second ATTACH replaces
    ASSERT_EQ(0, Attach(0x10, &pt));
    EXPECT_NE(old, pt);
    EXPECT_EQ(-ENOENT, Destroy(old));
    EXPECT_EQ(pt, ims_iommufd_device_hwpt(ctx, dev, IMS_DRV_NO_PASID));
    // The replace reached the driver as an attach of the new domain (no detach in between).
    EXPECT_EQ(0u, fake.count("detach"));
    // Replace to the same HWPT is a no-op success.
    uint32_t same = pt;
    size_t n = fake.log.size();
    ASSERT_EQ(0, Attach(0x10, &same));
    EXPECT_EQ(pt, same);
    EXPECT_EQ(n, fake.log.size());
}

TEST_F(IommufdDevice, CoreApiAttachReplaceDetachRules)
{
    // device.c: attach when attached -> EBUSY; replace when not -> EINVAL;
    // unknown pt -> ENOENT; a pt that is neither IOAS nor HWPT -> EINVAL.
    uint32_t h = 0;
    ASSERT_EQ(0, HwptAlloc(dev, ioas, 0, &h));
    uint32_t pt = h;
    EXPECT_EQ(-EINVAL, ims_iommufd_device_replace(ctx, dev, IMS_DRV_NO_PASID, &pt, none()));
    ASSERT_EQ(0, ims_iommufd_device_attach(ctx, dev, IMS_DRV_NO_PASID, &pt, none()));
    EXPECT_EQ(-EBUSY, ims_iommufd_device_attach(ctx, dev, IMS_DRV_NO_PASID, &pt, none()));
    EXPECT_EQ(-EBUSY, Destroy(h)); // attached HWPT
    pt = 1234;
    EXPECT_EQ(-ENOENT, ims_iommufd_device_replace(ctx, dev, IMS_DRV_NO_PASID, &pt, none()));
    pt = dev;
    EXPECT_EQ(-EINVAL, ims_iommufd_device_replace(ctx, dev, IMS_DRV_NO_PASID, &pt, none()));
    uint32_t nope = 0;
    EXPECT_EQ(-ENOENT, ims_iommufd_device_attach(ctx, 4321, IMS_DRV_NO_PASID, &nope, none()));
    // A driver refusal leaves the old attachment in place.
    fake.fail["attach"] = EIO;
    pt = ioas;
    EXPECT_EQ(-EIO, ims_iommufd_device_replace(ctx, dev, IMS_DRV_NO_PASID, &pt, none()));
    fake.fail.clear();
    EXPECT_EQ(h, ims_iommufd_device_hwpt(ctx, dev, IMS_DRV_NO_PASID));
    ASSERT_EQ(0, ims_iommufd_device_detach(ctx, dev, IMS_DRV_NO_PASID, none()));
    EXPECT_EQ(0, Destroy(h));
}

TEST_F(IommufdDevice, NestedAttachAndSwitching)
{
    // alloc_hwpt_nested: replace onto a nested HWPT -> DESTROY it -> EBUSY;
    // switch between nested HWPTs, back to the parent, then the IOAS.
    resv = {{IMS_IOMMUFD_X86_MSI_START, IMS_IOMMUFD_X86_MSI_LAST}};
    Make();
    ioas = Ioas();
    dev = Bind(0x10);
    uint32_t parent = Parent(dev, ioas), n1 = Nested(dev, parent), n2 = Nested(dev, parent);
    uint32_t pt = n1;
    ASSERT_EQ(0, Attach(0x10, &pt));
    EXPECT_EQ(n1, pt);
    // The nested attach reserves the device's ranges in the parent's IOAS.
    EXPECT_EQ(-EINVAL, MapFixed(ioas, 0x100000, 4096, 0xFEE00000));
    EXPECT_EQ(-EBUSY, Destroy(n1));
    pt = n2;
    ASSERT_EQ(0, Attach(0x10, &pt));
    EXPECT_EQ(0, Destroy(n1));
    pt = parent;
    ASSERT_EQ(0, Attach(0x10, &pt));
    EXPECT_EQ(0, Destroy(n2));
    pt = ioas;
    ASSERT_EQ(0, Attach(0x10, &pt));
    EXPECT_NE(parent, pt); // an automatic domain, not the nest parent
    EXPECT_EQ(0, Destroy(parent));
    EXPECT_EQ(-EINVAL, MapFixed(ioas, 0x100000, 4096, 0xFEE00000)); // still reserved: same IOAS
    ASSERT_EQ(0, Detach(0x10));
    EXPECT_EQ(0, MapFixed(ioas, 0x100000, 4096, 0xFEE00000)); // released with the attachment
}

TEST_F(IommufdDevice, PasidAttachRules)
{
    // device_pasid.pasid_attach (iommufd-facts §3.3): a PASID needs a PASID
    // compatible HWPT (else EINVAL), and the RID's HWPT must be compatible too.
    uint32_t plain = 0;
    ASSERT_EQ(0, HwptAlloc(dev, ioas, 0, &plain));
    uint32_t ph = PasidHwpt();
    uint32_t pt = plain;
    EXPECT_EQ(-EINVAL, Attach(0x10, &pt, 7));
    pt = ioas; // an automatic domain is not allocated for PASIDs
    EXPECT_EQ(-EINVAL, Attach(0x10, &pt, 7));
    EXPECT_EQ(2u, fake.domains.size()); // the attempted automatic domain was released
    pt = ph;
    ASSERT_EQ(0, Attach(0x10, &pt, 7));
    EXPECT_EQ(ph, ims_iommufd_device_hwpt(ctx, dev, 7));
    EXPECT_EQ("attach 2 sid=0x10 pasid=0x7", fake.last());
    // The RID cannot take a non-PASID HWPT while PASIDs hang off it.
    pt = plain;
    EXPECT_EQ(-EINVAL, Attach(0x10, &pt));
    pt = ph;
    ASSERT_EQ(0, Attach(0x10, &pt));
    // Double attach through the core API -> EBUSY; VFIO re-attach replaces.
    pt = ph;
    EXPECT_EQ(-EBUSY, ims_iommufd_device_attach(ctx, dev, 7, &pt, none()));
    uint32_t ph2 = PasidHwpt();
    pt = ph2;
    ASSERT_EQ(0, Attach(0x10, &pt, 7));
    EXPECT_EQ(ph2, ims_iommufd_device_hwpt(ctx, dev, 7));
    // PASIDs are 20 bits on a PASID-capable device; PASID 0 is the RID's.
    pt = ph;
    EXPECT_EQ(-EINVAL, Attach(0x10, &pt, 1u << 20));
    EXPECT_EQ(-EINVAL, Attach(0x10, &pt, 0));
    ASSERT_EQ(0, Detach(0x10, 7));
    EXPECT_EQ(0u, ims_iommufd_device_hwpt(ctx, dev, 7));
    EXPECT_EQ("detach sid=0x10 pasid=0x7", fake.last());
}

TEST_F(IommufdDevice, GetHwInfoBufferRules)
{
    // iommufd_ioas.get_hw_info and iommufd-facts §1.3 GET_HW_INFO / §2.1:
    // copy min(len), zero-fill a larger buffer, data_len = the kernel's.
    ims_iommu_hw_info h{};
    h.size = sizeof h;
    h.dev_id = dev;
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_GET_HW_INFO, &h)); // zero-size buffer
    EXPECT_EQ(sizeof(ims_iommu_hw_info_vtd), h.data_len);
    EXPECT_EQ(IMS_IOMMU_HW_INFO_TYPE_INTEL_VTD, h.out_data_type);
    EXPECT_EQ(IMS_IOMMU_HW_CAP_DIRTY_TRACKING, h.out_capabilities);
    EXPECT_EQ(20u, h.out_max_pasid_log2);

    unsigned char buf[64];
    std::memset(buf, 0xAB, sizeof buf);
    h.data_len = 40; // larger than the 24-byte VT-d struct
    h.data_uptr = reinterpret_cast<uintptr_t>(buf);
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_GET_HW_INFO, &h));
    EXPECT_EQ(24u, h.data_len);
    ims_iommu_hw_info_vtd v;
    std::memcpy(&v, buf, sizeof v);
    EXPECT_EQ(IMS_IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17, v.flags);
    EXPECT_EQ(fake.cap, v.cap_reg);
    EXPECT_EQ(fake.ecap, v.ecap_reg);
    for (int i = 24; i < 40; i++)
        EXPECT_EQ(0, buf[i]) << i; // zeroed
    EXPECT_EQ(0xAB, buf[40]);      // beyond the caller's length

    std::memset(buf, 0xAB, sizeof buf);
    h.data_len = 4; // offsetofend(flags): only the flags word
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_GET_HW_INFO, &h));
    EXPECT_EQ(24u, h.data_len);
    uint32_t flags;
    std::memcpy(&flags, buf, 4);
    EXPECT_EQ(1u, flags);
    EXPECT_EQ(0xAB, buf[4]);

    h.data_len = 24;
    h.flags = IMS_IOMMU_HW_INFO_FLAG_INPUT_TYPE;
    h.in_data_type = IMS_IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_GET_HW_INFO, &h));
    h.in_data_type = IMS_IOMMU_HW_INFO_TYPE_INTEL_VTD;
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_GET_HW_INFO, &h));
    h.flags = 0;
    h.in_data_type = 0x77; // ignored without INPUT_TYPE
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_GET_HW_INFO, &h));
    EXPECT_EQ("hw_info sid=0x10 type=0", fake.last());
    h.flags = 2;
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_GET_HW_INFO, &h));
    h.flags = 0;
    h.reserved[1] = 1;
    EXPECT_EQ(-EOPNOTSUPP, Ioctl(IMS_IOMMU_GET_HW_INFO, &h));
    h.reserved[1] = 0;
    h.data_uptr = 0;
    EXPECT_EQ(-EFAULT, Ioctl(IMS_IOMMU_GET_HW_INFO, &h));
    h.dev_id = ioas;
    EXPECT_EQ(-ENOENT, Ioctl(IMS_IOMMU_GET_HW_INFO, &h));

    // A device without PASID or ATS; an IOMMU without dirty tracking.
    fake.has_pasid = false;
    fake.has_ats = false;
    fake.ssads = false;
    h.dev_id = dev;
    h.data_len = 0;
    ASSERT_EQ(0, Ioctl(IMS_IOMMU_GET_HW_INFO, &h));
    EXPECT_EQ(0u, h.out_max_pasid_log2);
    EXPECT_EQ(IMS_IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED, h.out_capabilities);
}

// Timing: a command completes after its driver work plus its software cost
// (iommufd.syscall_ns 150 + iommufd.ioctl_ns 400 + iommufd.map_page_ns 50 per
// page per domain, iommufd_config.c defaults) on a 1 GHz clock (1 cycle = 1 ns).
class IommufdTiming : public IommufdFixture {
  protected:
    std::vector<std::pair<ims_cycle, int>> done;
    void SetUp() override
    {
        engine = ims_engine_create(1000000000ull);
        ASSERT_NE(nullptr, engine);
        fake.engine = engine;
        fake.delay_cycles = 1000;
        Make();
    }
    void TearDown() override
    {
        ims_engine_run(engine, IMS_CYCLE_MAX);
        IommufdFixture::TearDown();
        ims_engine_destroy(engine);
    }
    ims_drv_done rec()
    {
        return ims_drv_done{[](void *c, int status) {
                                auto *t = static_cast<IommufdTiming *>(c);
                                t->done.push_back({ims_engine_now(t->engine), status});
                            },
                            this};
    }
};

TEST_F(IommufdTiming, CompletionIsDriverWorkThenSoftwareCost)
{
    uint32_t ioas = 0;
    ASSERT_EQ(0, ims_iommufd_ioas_alloc(ctx, &ioas, rec()));
    EXPECT_TRUE(done.empty()); // with an engine, never before the call returns
    EXPECT_EQ(1u, ims_iommufd_pending(ctx));
    ims_engine_run(engine, IMS_CYCLE_MAX);
    ASSERT_EQ(1u, done.size());
    EXPECT_EQ(550u, done[0].first); // no driver work: syscall + ioctl
    uint32_t dev = 0, h = 0;
    ASSERT_EQ(0, ims_iommufd_bind(ctx, 0x10, &dev, rec()));
    ASSERT_EQ(0, ims_iommufd_hwpt_alloc(ctx, dev, ioas, 0, 0, nullptr, 0, &h, rec()));
    ims_engine_run(engine, IMS_CYCLE_MAX);
    ASSERT_EQ(3u, done.size());
    ims_cycle t0 = ims_engine_now(engine);
    uint64_t iova = 0x10000;
    ASSERT_EQ(0, ims_iommufd_ioas_map(ctx, ioas, 0x100000, 2 * 4096,
                                      IMS_IOMMU_IOAS_MAP_FIXED_IOVA | IMS_IOMMU_IOAS_MAP_READABLE |
                                          IMS_IOMMU_IOAS_MAP_WRITEABLE,
                                      &iova, rec()));
    ims_engine_run(engine, IMS_CYCLE_MAX);
    ASSERT_EQ(4u, done.size());
    EXPECT_EQ(t0 + 1000 + 150 + 400 + 2 * 50, done[3].first);
    EXPECT_EQ(0, done[3].second);
    EXPECT_EQ(0u, ims_iommufd_pending(ctx));
}

TEST_F(IommufdTiming, LateDriverErrorsReachTheCallerAndSyncErrorsNeverDo)
{
    uint32_t ioas = 0, dev = 0, h = 0;
    ASSERT_EQ(0, ims_iommufd_ioas_alloc(ctx, &ioas, rec()));
    ASSERT_EQ(0, ims_iommufd_bind(ctx, 0x10, &dev, rec()));
    ASSERT_EQ(0, ims_iommufd_hwpt_alloc(ctx, dev, ioas, 0, 0, nullptr, 0, &h, rec()));
    ims_engine_run(engine, IMS_CYCLE_MAX);
    done.clear();
    fake.late_status = -ETIMEDOUT; // e.g. an ITE during the unmap flush
    uint64_t iova = 0x10000;
    ASSERT_EQ(0, ims_iommufd_ioas_map(ctx, ioas, 0x100000, 4096,
                                      IMS_IOMMU_IOAS_MAP_FIXED_IOVA | IMS_IOMMU_IOAS_MAP_READABLE, &iova, rec()));
    EXPECT_EQ(-EEXIST, ims_iommufd_ioas_map(ctx, ioas, 0x100000, 4096,
                                            IMS_IOMMU_IOAS_MAP_FIXED_IOVA | IMS_IOMMU_IOAS_MAP_READABLE, &iova,
                                            rec()));
    ims_engine_run(engine, IMS_CYCLE_MAX);
    ASSERT_EQ(1u, done.size());
    EXPECT_EQ(-ETIMEDOUT, done[0].second);
}

TEST_F(IommufdTiming, StatisticsCountCommandsErrorsAndLatency)
{
    ims_stats *st = ims_stats_create(1000000000ull);
    ASSERT_NE(nullptr, st);
    ims_iommufd_destroy(ctx);
    ims_iommufd_params p{};
    p.drv = fake.drv();
    p.engine = engine;
    p.stats = st;
    ims_error err{};
    ASSERT_EQ(0, ims_iommufd_create(&p, &ctx, &err));
    uint32_t ioas = 0;
    ASSERT_EQ(0, ims_iommufd_ioas_alloc(ctx, &ioas, rec()));
    EXPECT_EQ(-ENOENT, ims_iommufd_obj_destroy(ctx, 99, rec()));
    ims_engine_run(engine, IMS_CYCLE_MAX);
    EXPECT_EQ(2u, ims_stats_counter_total(st, "iommufd.ioctls"));
    EXPECT_EQ(1u, ims_stats_counter_total(st, "iommufd.ioctl_errors"));
    EXPECT_EQ(1u, ims_stats_latency_count(st, "iommufd.latency_ns"));
    ims_iommufd_destroy(ctx);
    ctx = nullptr;
    ims_stats_destroy(st);
}

TEST(IommufdConfig, KeysHaveDefaultsAndSourcesAndAreRead)
{
    const ims_cfg_key *tables[] = {ims_iommufd_cfg_keys};
    ims_error err{};
    ims_config *cfg = ims_config_create(tables, 1, &err);
    ASSERT_NE(nullptr, cfg) << err.msg;
    for (const ims_cfg_key *k = ims_iommufd_cfg_keys; k->name; k++) {
        EXPECT_NE(nullptr, k->source) << k->name;
        EXPECT_NE(nullptr, k->help) << k->name;
    }
    EXPECT_EQ(150000u, ims_config_time_ps(cfg, "iommufd.syscall_ns"));
    ASSERT_EQ(0, ims_config_set(cfg, "iommufd.ioctl_ns", "1us", "test", &err));
    ASSERT_EQ(0, ims_config_set(cfg, "host.mem_base", "8G", "test", &err));
    FakeDriver fake;
    ims_engine *e = ims_engine_create(1000000000ull);
    ims_iommufd_params p{};
    p.drv = fake.drv();
    p.engine = e;
    p.cfg = cfg;
    ims_iommufd *ctx = nullptr;
    ASSERT_EQ(0, ims_iommufd_create(&p, &ctx, &err));
    ims_cycle at = 0;
    uint32_t id = 0;
    ASSERT_EQ(0, ims_iommufd_ioas_alloc(ctx, &id, ims_drv_done{[](void *c, int) {
                                                                 (void)c;
                                                             },
                                                             nullptr}));
    ims_engine_run(e, IMS_CYCLE_MAX);
    at = ims_engine_now(e);
    EXPECT_EQ(1150u, at); // 150 + 1000
    uint64_t hpa = 0;
    ASSERT_EQ(0, ims_iommufd_host_alloc(ctx, 4096, 0, &hpa));
    EXPECT_EQ(8ull << 30, hpa);
    ims_iommufd_destroy(ctx);
    ims_engine_destroy(e);
    ims_config_destroy(cfg);
    // A driver with missing ops is refused.
    ims_drv_ops none{};
    p.drv.ops = &none;
    EXPECT_EQ(-EINVAL, ims_iommufd_create(&p, &ctx, &err));
}

} // namespace
