// Conformance: the behaviours the kernel's iommufd selftests check for nesting, invalidation, hw_info,
// destroy/EBUSY and argument sizes (iommufd-facts §3.3), reproduced through the uAPI on the REAL VT-d host
// driver (tests/vtd_driver_fixture.h: engine, host memory, a scalable-mode unit, the driver) instead of the
// selftests' mock IOMMU. Where the mock's answer comes from the driver, the VT-d driver's answer is used
// (iommufd-facts §2.3 alloc, §2.4 attach, §2.7 invalidation, §2.1 hw_info). The last test replays the same
// scenarios written as traces (tests/traces/conformance/*.ist) through `iommusim run`.
#include "tests/vtd_driver_fixture.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/wait.h>

#include "models/iommufd/iommufd.h"
#include "models/vtd/iotlb.h"
#include "models/vtd/vtd_caches.h"

using namespace vtddrv;

namespace {

constexpr uint16_t kAts = 0x0300;    // ATS endpoint, PASID capable
constexpr uint16_t kPlain = 0x0408;  // no ATS, no PASID
constexpr uint64_t kRam = 64ULL << 20;
constexpr uint64_t kGva = 0x40'0000'0000ULL;

// iommufd over the real driver on a DrvSys, devices bound through VFIO.
class Fd {
  public:
    DrvSys s;
    ims_iommufd *ifd = nullptr;
    uint32_t ats_dev = 0, plain_dev = 0;
    Done last;

    explicit Fd(const Opts &o = Opts()) : s(o)
    {
        EXPECT_EQ(s.ready.status, 0);
        s.add_dev(kAts, /*ats=*/true, /*pasid_bits=*/20);
        s.add_dev(kPlain);
        ims_iommufd_params p{};
        p.drv = s.iface;
        p.engine = s.e;
        p.aperture_last = (1ULL << 48) - 1;
        EXPECT_EQ(ims_iommufd_create(&p, &ifd, &s.err), 0) << s.err.msg;
        ats_dev = bind(kAts);
        plain_dev = bind(kPlain);
    }
    ~Fd()
    {
        s.run();
        ims_iommufd_destroy(ifd);
    }
    Fd(const Fd &) = delete;
    Fd &operator=(const Fd &) = delete;

    int finish(int rc)
    {
        s.run();
        if (rc) {
            EXPECT_FALSE(last.called) << "done after a refused ioctl";
            return rc;
        }
        EXPECT_TRUE(last.called);
        return last.status;
    }
    int ioctl(unsigned long cmd, void *arg)
    {
        last = Done{};
        last.e = s.e;
        return finish(ims_iommufd_ioctl(ifd, cmd, arg, {Done::fn, &last}));
    }
    int vfio(uint16_t sid, unsigned long cmd, void *arg)
    {
        last = Done{};
        last.e = s.e;
        return finish(ims_iommufd_vfio_ioctl(ifd, sid, cmd, arg, {Done::fn, &last}));
    }
    uint32_t bind(uint16_t sid)
    {
        ims_vfio_device_bind_iommufd b{};
        b.argsz = sizeof b;
        b.iommufd = 3;
        EXPECT_EQ(vfio(sid, IMS_VFIO_DEVICE_BIND_IOMMUFD, &b), 0);
        return b.out_devid;
    }

    // ---- commands with kernel-layout structs --------------------------------------------------------
    uint32_t ioas()
    {
        ims_iommu_ioas_alloc a{};
        a.size = sizeof a;
        EXPECT_EQ(ioctl(IMS_IOMMU_IOAS_ALLOC, &a), 0);
        return a.out_ioas_id;
    }
    // Guest RAM GPA [0, 64 MiB) -> HPA kGuestBase + GPA.
    void map_ram(uint32_t ioas_id)
    {
        ims_iommu_ioas_map m{};
        m.size = sizeof m;
        m.flags = IMS_IOMMU_IOAS_MAP_FIXED_IOVA | IMS_IOMMU_IOAS_MAP_READABLE | IMS_IOMMU_IOAS_MAP_WRITEABLE;
        m.ioas_id = ioas_id;
        m.user_va = kGuestBase;
        m.length = kRam;
        EXPECT_EQ(ioctl(IMS_IOMMU_IOAS_MAP, &m), 0);
    }
    int hwpt_alloc(uint32_t dev, uint32_t pt, uint32_t flags, uint32_t *out, uint32_t data_type = 0,
                   const void *data = nullptr, uint32_t data_len = 0, uint32_t fault_id = 0)
    {
        ims_iommu_hwpt_alloc a{};
        a.size = sizeof a;
        a.flags = flags;
        a.dev_id = dev;
        a.pt_id = pt;
        a.data_type = data_type;
        a.data_len = data_len;
        a.data_uptr = (uint64_t)(uintptr_t)data;
        a.fault_id = fault_id;
        int rc = ioctl(IMS_IOMMU_HWPT_ALLOC, &a);
        if (out)
            *out = rc ? 0 : a.out_hwpt_id;
        return rc;
    }
    int nested(uint32_t dev, uint32_t parent, uint32_t *out, uint64_t pgtbl, uint32_t aw = 48, uint64_t s1_flags = 0,
               uint32_t flags = 0)
    {
        ims_iommu_hwpt_vtd_s1 s1{};
        s1.flags = s1_flags;
        s1.pgtbl_addr = pgtbl;
        s1.addr_width = aw;
        return hwpt_alloc(dev, parent, flags, out, IMS_IOMMU_HWPT_DATA_VTD_S1, &s1, sizeof s1);
    }
    int attach(uint16_t sid, uint32_t pt)
    {
        ims_vfio_device_attach_iommufd_pt a{};
        a.argsz = sizeof a;
        a.pt_id = pt;
        return vfio(sid, IMS_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);
    }
    int detach(uint16_t sid)
    {
        ims_vfio_device_detach_iommufd_pt d{};
        d.argsz = sizeof d;
        return vfio(sid, IMS_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d);
    }
    int destroy(uint32_t id)
    {
        ims_iommu_destroy d{};
        d.size = sizeof d;
        d.id = id;
        return ioctl(IMS_IOMMU_DESTROY, &d);
    }
    // HWPT_INVALIDATE; *num in: entry_num, out: what the kernel wrote back.
    int invalidate(uint32_t hwpt, const void *entries, uint32_t entry_len, uint32_t *num,
                   uint32_t type = IMS_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, uint32_t reserved = 0)
    {
        ims_iommu_hwpt_invalidate c{};
        c.size = sizeof c;
        c.hwpt_id = hwpt;
        c.data_uptr = (uint64_t)(uintptr_t)entries;
        c.data_type = type;
        c.entry_len = entry_len;
        c.entry_num = *num;
        c.reserved = reserved;
        int rc = ioctl(IMS_IOMMU_HWPT_INVALIDATE, &c);
        *num = c.entry_num;
        return rc;
    }
    int inv(uint32_t hwpt, std::vector<ims_iommu_hwpt_vtd_s1_invalidate> v, uint32_t *num)
    {
        *num = (uint32_t)v.size();
        return invalidate(hwpt, v.data(), sizeof(ims_iommu_hwpt_vtd_s1_invalidate), num);
    }
    uint16_t did(uint32_t hwpt) { return ims_vtd_drv_domain_did(ims_iommufd_hwpt_domain(ifd, hwpt)); }
};

ims_iommu_hwpt_vtd_s1_invalidate entry(uint64_t addr, uint64_t npages, uint32_t flags = 0, uint32_t reserved = 0)
{
    ims_iommu_hwpt_vtd_s1_invalidate e{};
    e.addr = addr;
    e.npages = npages;
    e.flags = flags;
    e.reserved = reserved;
    return e;
}

// A nest parent over guest RAM, a guest stage-1 table mapping kGva.. (8 pages) and a nested HWPT of it
// attached to the ATS device's RID.
struct Nest {
    uint32_t ioas = 0, parent = 0, kid = 0;
    ims_pt_builder s1{};
};

void make_nest(Fd &f, Nest &n, bool attach = true)
{
    n.ioas = f.ioas();
    f.map_ram(n.ioas);
    ASSERT_EQ(f.hwpt_alloc(f.ats_dev, n.ioas, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT, &n.parent), 0);
    ASSERT_EQ(ims_pt_builder_init(&n.s1, f.s.mem, &f.s.guest, IMS_PT_FORMAT_FS, 4, kGuestBase, &f.s.err), 0);
    ASSERT_EQ(ims_pt_map(&n.s1, kGva, 0x200'0000, 8 * 0x1000, 0x1000, IMS_PT_RW | IMS_PT_U, &f.s.err), 0);
    ASSERT_EQ(f.nested(f.ats_dev, n.parent, &n.kid, n.s1.root), 0);
    if (attach) {
        ASSERT_EQ(f.attach(kAts, n.kid), 0);
    }
}

// ---- iommufd.cmd_fail / cmd_length / cmd_ex_fail (§1.1, §3.3) ------------------------------------------

TEST(IommufdConformance, CmdFail)
{
    Fd f;
    // §3.3 cmd_fail: DESTROY of id 0 -> ENOENT; NULL argument -> EFAULT; nr 0x7f -> ENOTTY.
    EXPECT_EQ(f.destroy(0), -ENOENT);
    EXPECT_EQ(f.ioctl(IMS_IOMMU_DESTROY, nullptr), -EFAULT);
    EXPECT_EQ(f.ioctl(IMS_IOMMUFD_IO(0x7Fu), nullptr), -ENOTTY);
    ims_iommu_destroy d{sizeof d, 1};
    EXPECT_EQ(f.ioctl(IMS_IOMMUFD_IO(IMS_IOMMUFD_CMD_LAST + 1), &d), -ENOTTY);
}

// Runs `cmd` with its struct at size min-1 (EINVAL), at sizeof+1 with a non-zero tail (E2BIG) and with a zero
// tail (the same result as sizeof: `want`). §1.1 dispatch, §3.3 cmd_length.
template <class T> void check_lengths(Fd &f, unsigned long cmd, const T &arg, size_t min, int want)
{
    alignas(8) unsigned char buf[sizeof(T) + 8];
    auto run = [&](uint32_t size, unsigned char tail) {
        memset(buf, 0, sizeof buf);
        memcpy(buf, &arg, sizeof(T));
        buf[sizeof(T)] = tail;
        memcpy(buf, &size, sizeof size);  // every struct starts with u32 size
        return f.ioctl(cmd, buf);
    };
    EXPECT_EQ(run((uint32_t)min - 1, 0), -EINVAL) << std::hex << cmd;
    EXPECT_EQ(run((uint32_t)sizeof(T) + 1, 0xAA), -E2BIG) << std::hex << cmd;
    EXPECT_EQ(run((uint32_t)sizeof(T) + 1, 0), want) << std::hex << cmd;
}

TEST(IommufdConformance, CmdLength)
{
    Fd f;
    Nest n;
    ASSERT_NO_FATAL_FAILURE(make_nest(f, n));

    ims_iommu_ioas_alloc ia{};
    check_lengths(f, IMS_IOMMU_IOAS_ALLOC, ia, IMS_IOMMU_IOAS_ALLOC_MIN, 0);
    ims_iommu_destroy de{};
    de.id = 999;
    check_lengths(f, IMS_IOMMU_DESTROY, de, IMS_IOMMU_DESTROY_MIN, -ENOENT);

    ims_iommu_hw_info_vtd vtd{};
    ims_iommu_hw_info hi{};
    hi.dev_id = f.ats_dev;
    hi.data_len = sizeof vtd;
    hi.data_uptr = (uint64_t)(uintptr_t)&vtd;
    check_lengths(f, IMS_IOMMU_GET_HW_INFO, hi, IMS_IOMMU_GET_HW_INFO_MIN, 0);

    ims_iommu_hwpt_alloc ha{};
    ha.dev_id = f.ats_dev;
    ha.pt_id = n.ioas;
    ha.flags = IMS_IOMMU_HWPT_ALLOC_NEST_PARENT;
    check_lengths(f, IMS_IOMMU_HWPT_ALLOC, ha, IMS_IOMMU_HWPT_ALLOC_MIN, 0);

    ims_iommu_hwpt_vtd_s1_invalidate e = entry(kGva, 1);
    ims_iommu_hwpt_invalidate hv{};
    hv.hwpt_id = n.kid;
    hv.data_uptr = (uint64_t)(uintptr_t)&e;
    hv.entry_len = sizeof e;
    hv.entry_num = 1;
    check_lengths(f, IMS_IOMMU_HWPT_INVALIDATE, hv, IMS_IOMMU_HWPT_INVALIDATE_MIN, 0);

    ims_iommu_viommu_alloc va{};
    va.dev_id = f.ats_dev;
    va.hwpt_id = n.parent;
    va.type = IMS_IOMMU_VIOMMU_TYPE_ARM_SMMUV3;
    check_lengths(f, IMS_IOMMU_VIOMMU_ALLOC, va, IMS_IOMMU_VIOMMU_ALLOC_MIN, -EOPNOTSUPP);  // no VT-d vIOMMU
}

TEST(IommufdConformance, OlderStructLayoutsAreZeroExtended)
{
    Fd f;
    uint32_t ioas = f.ioas();
    // §1.2: HWPT_ALLOC of the v6.6 layout (24 bytes: no data, no fault_id) still allocates.
    alignas(8) unsigned char buf[64];
    memset(buf, 0xEE, sizeof buf);  // bytes past `size` are not the kernel's to read
    ims_iommu_hwpt_alloc a{};
    a.size = IMS_IOMMU_HWPT_ALLOC_MIN;
    a.flags = IMS_IOMMU_HWPT_ALLOC_NEST_PARENT;
    a.dev_id = f.ats_dev;
    a.pt_id = ioas;
    memcpy(buf, &a, IMS_IOMMU_HWPT_ALLOC_MIN);
    ASSERT_EQ(f.ioctl(IMS_IOMMU_HWPT_ALLOC, buf), 0);
    uint32_t out;
    memcpy(&out, buf + offsetof(ims_iommu_hwpt_alloc, out_hwpt_id), sizeof out);
    EXPECT_EQ(ims_iommufd_obj_kind(f.ifd, out), IMS_IOMMUFD_OBJ_HWPT_PAGING);
    EXPECT_EQ(buf[IMS_IOMMU_HWPT_ALLOC_MIN], 0xEE);  // nothing written past the user's size

    // GET_HW_INFO of the v6.6 layout (32 bytes): out_capabilities is not written back.
    ims_iommu_hw_info_vtd vtd{};
    ims_iommu_hw_info hi{};
    hi.size = IMS_IOMMU_GET_HW_INFO_MIN;
    hi.dev_id = f.ats_dev;
    hi.data_len = sizeof vtd;
    hi.data_uptr = (uint64_t)(uintptr_t)&vtd;
    memset(buf, 0xEE, sizeof buf);
    memcpy(buf, &hi, IMS_IOMMU_GET_HW_INFO_MIN);
    ASSERT_EQ(f.ioctl(IMS_IOMMU_GET_HW_INFO, buf), 0);
    uint32_t type;
    memcpy(&type, buf + offsetof(ims_iommu_hw_info, out_data_type), sizeof type);
    EXPECT_EQ(type, IMS_IOMMU_HW_INFO_TYPE_INTEL_VTD);
    EXPECT_EQ(buf[offsetof(ims_iommu_hw_info, out_capabilities)], 0xEE);
    EXPECT_EQ(vtd.cap_reg, f.s.rd(IMS_VTD_REG_CAP));
}

// ---- iommufd_ioas.alloc_hwpt_nested (§3.3), VT-d driver answers (§2.2, §2.3) ------------------------------

TEST(IommufdConformance, AllocHwptNestedMatrix)
{
    Fd f;
    uint32_t ioas = f.ioas();
    f.map_ram(ioas);
    uint32_t parent = 0, plain = 0, kid = 0, kid2 = 0;
    ims_iommu_hwpt_vtd_s1 s1{};
    s1.pgtbl_addr = 0x100'0000;
    s1.addr_width = 48;

    // On the IOAS: dev_id naming the IOAS -> ENOENT; pt_id naming a device -> EINVAL (§1.3 step 4);
    // NEST_PARENT | FAULT_ID_VALID -> EOPNOTSUPP; unknown flag -> EOPNOTSUPP.
    EXPECT_EQ(f.hwpt_alloc(ioas, ioas, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT, &parent), -ENOENT);
    EXPECT_EQ(f.hwpt_alloc(f.ats_dev, f.ats_dev, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT, &parent), -EINVAL);
    EXPECT_EQ(f.hwpt_alloc(f.ats_dev, 9999, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT, &parent), -EINVAL);
    EXPECT_EQ(f.hwpt_alloc(f.ats_dev, ioas, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT | IMS_IOMMU_HWPT_FAULT_ID_VALID, &parent),
              -EOPNOTSUPP);
    EXPECT_EQ(f.hwpt_alloc(f.ats_dev, ioas, 1u << 4, &parent), -EOPNOTSUPP);
    // §2.2: the VT-d paging allocator takes no user data.
    EXPECT_EQ(f.hwpt_alloc(f.ats_dev, ioas, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT, &parent, IMS_IOMMU_HWPT_DATA_VTD_S1,
                           &s1, sizeof s1),
              -EOPNOTSUPP);

    // A nest parent and a plain paging HWPT.
    ASSERT_EQ(f.hwpt_alloc(f.ats_dev, ioas, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT, &parent), 0);
    ASSERT_EQ(f.hwpt_alloc(f.ats_dev, ioas, 0, &plain), 0);
    EXPECT_EQ(ims_vtd_drv_domain_kind(ims_iommufd_hwpt_domain(f.ifd, parent)), IMS_VTD_DRV_DOM_SS);

    // Nested: data_type NONE with data -> EINVAL; VTD_S1 without data -> EINVAL (§1.3 step 2).
    EXPECT_EQ(f.hwpt_alloc(f.ats_dev, parent, 0, &kid, IMS_IOMMU_HWPT_DATA_NONE, &s1, sizeof s1), -EINVAL);
    EXPECT_EQ(f.hwpt_alloc(f.ats_dev, parent, 0, &kid, IMS_IOMMU_HWPT_DATA_VTD_S1, &s1, 0), -EINVAL);
    // A type the driver does not take -> EOPNOTSUPP (§2.3).
    EXPECT_EQ(f.hwpt_alloc(f.ats_dev, parent, 0, &kid, IMS_IOMMU_HWPT_DATA_VTD_S1 + 1, &s1, sizeof s1), -EOPNOTSUPP);
    // Copy rule (§1.3): data_len must lie in [min, sizeof] = exactly 24 -> 23 and 25 are EINVAL; NULL -> EFAULT.
    EXPECT_EQ(f.hwpt_alloc(f.ats_dev, parent, 0, &kid, IMS_IOMMU_HWPT_DATA_VTD_S1, &s1, sizeof s1 - 1), -EINVAL);
    EXPECT_EQ(f.hwpt_alloc(f.ats_dev, parent, 0, &kid, IMS_IOMMU_HWPT_DATA_VTD_S1, &s1, sizeof s1 + 1), -EINVAL);
    EXPECT_EQ(f.hwpt_alloc(f.ats_dev, parent, 0, &kid, IMS_IOMMU_HWPT_DATA_VTD_S1, nullptr, sizeof s1), -EFAULT);
    // Flags of a paging HWPT on a nested one -> EOPNOTSUPP.
    EXPECT_EQ(f.nested(f.ats_dev, parent, &kid, s1.pgtbl_addr, 48, 0, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT), -EOPNOTSUPP);
    EXPECT_EQ(f.nested(f.ats_dev, parent, &kid, s1.pgtbl_addr, 48, 0, IMS_IOMMU_HWPT_ALLOC_DIRTY_TRACKING),
              -EOPNOTSUPP);
    // Parent not NEST_PARENT -> EINVAL.
    EXPECT_EQ(f.nested(f.ats_dev, plain, &kid, s1.pgtbl_addr), -EINVAL);
    // Reserved field of the command -> EOPNOTSUPP (first check).
    ims_iommu_hwpt_alloc r{};
    r.size = sizeof r;
    r.dev_id = f.ats_dev;
    r.pt_id = parent;
    r.reserved = 1;
    EXPECT_EQ(f.ioctl(IMS_IOMMU_HWPT_ALLOC, &r), -EOPNOTSUPP);
    // None of the refused allocations kept an id: the next object gets the lowest free one.
    const uint32_t next_id = plain + 1;

    // Two nested HWPTs on one parent ([7.1mw] accepts ALLOC_PASID on a nested one, §2.3).
    ASSERT_EQ(f.nested(f.ats_dev, parent, &kid, s1.pgtbl_addr), 0);
    EXPECT_EQ(kid, next_id);
    ASSERT_EQ(f.nested(f.ats_dev, parent, &kid2, s1.pgtbl_addr, 48, 0, IMS_IOMMU_HWPT_ALLOC_PASID), 0);
    EXPECT_EQ(ims_vtd_drv_domain_kind(ims_iommufd_hwpt_domain(f.ifd, kid)), IMS_VTD_DRV_DOM_NESTED);
    EXPECT_EQ(ims_iommufd_obj_users(f.ifd, parent), 2u);
    // Nested on nested -> EINVAL (§1.3 step 8).
    uint32_t x = 0;
    EXPECT_EQ(f.nested(f.ats_dev, kid, &x, s1.pgtbl_addr), -EINVAL);

    // A fault queue: FAULT_ID_VALID with an unknown id -> ENOENT, with a real queue -> OK and it is held.
    ims_iommu_fault_alloc fa{};
    fa.size = sizeof fa;
    ASSERT_EQ(f.ioctl(IMS_IOMMU_FAULT_QUEUE_ALLOC, &fa), 0);
    EXPECT_EQ(f.hwpt_alloc(f.ats_dev, parent, IMS_IOMMU_HWPT_FAULT_ID_VALID, &x, IMS_IOMMU_HWPT_DATA_VTD_S1, &s1,
                           sizeof s1, UINT32_MAX),
              -ENOENT);
    uint32_t iopf = 0;
    ASSERT_EQ(f.hwpt_alloc(f.ats_dev, parent, IMS_IOMMU_HWPT_FAULT_ID_VALID, &iopf, IMS_IOMMU_HWPT_DATA_VTD_S1, &s1,
                           sizeof s1, fa.out_fault_id),
              0);
    EXPECT_EQ(f.destroy(fa.out_fault_id), -EBUSY);

    // DESTROY of the parent while children exist -> EBUSY; children first, then it goes.
    EXPECT_EQ(f.destroy(parent), -EBUSY);
    EXPECT_EQ(f.destroy(kid), 0);
    EXPECT_EQ(f.destroy(kid2), 0);
    EXPECT_EQ(f.destroy(parent), -EBUSY);
    EXPECT_EQ(f.destroy(iopf), 0);
    EXPECT_EQ(f.destroy(fa.out_fault_id), 0);
    EXPECT_EQ(f.destroy(parent), 0);
}

// §2.3/§2.4: the stage-1 description is not checked at allocation; the attach validates it.
TEST(IommufdConformance, VtdS1ValidatedAtAttach)
{
    struct Case {
        const char *what;
        Opts opts;
        uint32_t aw;
        uint64_t flags;
        int attach;
    };
    const uint64_t no_fs5lp = IMS_VTD_DEFAULT_CAP & ~IMS_VTD_PUT(IMS_VTD_CAP_FS5LP, 1);
    const uint64_t no_srs = IMS_VTD_DEFAULT_ECAP & ~IMS_VTD_PUT(IMS_VTD_ECAP_SRS, 1);
    const uint64_t no_eafs = IMS_VTD_DEFAULT_ECAP & ~IMS_VTD_PUT(IMS_VTD_ECAP_EAFS, 1);
    const std::vector<Case> cases = {
        {"aw 48", Opts(), 48, 0, 0},
        {"aw 57 with CAP.FS5LP", Opts(), 57, 0, 0},
        {"aw 57 without CAP.FS5LP", Opts().with_cap(no_fs5lp), 57, 0, -EINVAL},
        {"aw 39", Opts(), 39, 0, -EINVAL},
        {"aw 0", Opts(), 0, 0, -EINVAL},
        {"SRE with ECAP.SRS", Opts(), 48, IMS_IOMMU_VTD_S1_SRE, 0},
        {"SRE without ECAP.SRS", Opts().with_ecap(no_srs), 48, IMS_IOMMU_VTD_S1_SRE, -EINVAL},
        {"EAFE without ECAP.EAFS", Opts().with_ecap(no_eafs), 48, IMS_IOMMU_VTD_S1_EAFE, -EINVAL},
        {"WPE without SRE", Opts(), 48, IMS_IOMMU_VTD_S1_WPE, 0},
        {"unknown flag bit", Opts(), 48, 1u << 5, 0},
    };
    for (const Case &c : cases) {
        SCOPED_TRACE(c.what);
        Fd f(c.opts);
        uint32_t ioas = f.ioas(), parent = 0, kid = 0;
        f.map_ram(ioas);
        ASSERT_EQ(f.hwpt_alloc(f.ats_dev, ioas, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT, &parent), 0);
        ASSERT_EQ(f.nested(f.ats_dev, parent, &kid, 0x100'0000, c.aw, c.flags), 0);  // never refused here
        EXPECT_EQ(f.attach(kAts, kid), c.attach);
        auto pe = f.s.pasid_entry(kAts, 0);
        if (c.attach) {
            EXPECT_EQ(ims_iommufd_device_hwpt(f.ifd, f.ats_dev, IMS_DRV_NO_PASID), 0u);
            EXPECT_FALSE(ims_vtd_pasidte_p(pe.data()));
            continue;
        }
        // vtd-facts §2.6 / iommufd-facts §2.4 field table: PGTT nested, FSPM from addr_width, SRE as asked,
        // WPE only together with SRE.
        EXPECT_TRUE(ims_vtd_pasidte_p(pe.data()));
        EXPECT_EQ(ims_vtd_pasidte_pgtt(pe.data()), (unsigned)IMS_VTD_PGTT_NESTED);
        EXPECT_EQ(ims_vtd_pasidte_fspm(pe.data()), c.aw == 57 ? 1u : 0u);
        EXPECT_EQ(ims_vtd_pasidte_sre(pe.data()), (c.flags & IMS_IOMMU_VTD_S1_SRE) != 0);
        EXPECT_FALSE(ims_vtd_pasidte_wpe(pe.data()));
        EXPECT_EQ(ims_vtd_pasidte_fsptptr(pe.data()), 0x100'0000u);
        EXPECT_EQ(ims_vtd_pasidte_did(pe.data()), f.did(kid));
    }
}

// ---- HWPT_INVALIDATE matrix (§1.3, §2.7; §3.3 alloc_hwpt_nested) ------------------------------------------

TEST(IommufdConformance, InvalidateErrors)
{
    Fd f;
    Nest n;
    ASSERT_NO_FATAL_FAILURE(make_nest(f, n));
    uint64_t m = f.s.mark();
    ims_iommu_hwpt_vtd_s1_invalidate good = entry(kGva, 1);
    uint32_t num;

    // On the nest parent -> EINVAL ([7.1mw]; ENOENT in [6.8]), on the IOAS -> EINVAL, unknown id -> ENOENT.
    num = 1;
    EXPECT_EQ(f.invalidate(n.parent, &good, sizeof good, &num), -EINVAL);
    EXPECT_EQ(num, 0u);
    num = 1;
    EXPECT_EQ(f.invalidate(n.ioas, &good, sizeof good, &num), -EINVAL);
    EXPECT_EQ(num, 0u);
    num = 1;
    EXPECT_EQ(f.invalidate(4242, &good, sizeof good, &num), -ENOENT);
    EXPECT_EQ(num, 0u);
    // entry_num 0: a probe of the data type, nothing flushed; the driver still checks the type.
    num = 0;
    EXPECT_EQ(f.invalidate(n.kid, nullptr, 0, &num), 0);
    EXPECT_EQ(num, 0u);
    num = 0;
    EXPECT_EQ(f.invalidate(n.kid, nullptr, 0, &num, 0xdadbeef), -EINVAL);
    EXPECT_EQ(num, 0u);
    // Bad data type; entry_len sizeof+1 and 1; no buffer; no length; reserved in the command.
    num = 1;
    EXPECT_EQ(f.invalidate(n.kid, &good, sizeof good, &num, IMS_IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3), -EINVAL);
    EXPECT_EQ(num, 0u);
    num = 1;
    EXPECT_EQ(f.invalidate(n.kid, &good, sizeof good + 1, &num), -EINVAL);
    EXPECT_EQ(num, 0u);
    num = 1;
    EXPECT_EQ(f.invalidate(n.kid, &good, 1, &num), -EINVAL);
    EXPECT_EQ(num, 0u);
    num = 1;
    EXPECT_EQ(f.invalidate(n.kid, nullptr, sizeof good, &num), -EINVAL);
    EXPECT_EQ(num, 0u);
    num = 1;
    EXPECT_EQ(f.invalidate(n.kid, &good, 0, &num), -EINVAL);
    EXPECT_EQ(num, 0u);
    num = 1;
    EXPECT_EQ(f.invalidate(n.kid, &good, sizeof good, &num, IMS_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, 1), -EOPNOTSUPP);
    EXPECT_EQ(num, 0u);
    // Per entry (§2.7): flags beyond LEAF or reserved -> EOPNOTSUPP; unaligned addr, or npages U64_MAX with a
    // non-zero addr -> EINVAL.
    EXPECT_EQ(f.inv(n.kid, {entry(kGva, 1, 0xffffffff)}, &num), -EOPNOTSUPP);
    EXPECT_EQ(num, 0u);
    EXPECT_EQ(f.inv(n.kid, {entry(kGva, 1, 0, 1)}, &num), -EOPNOTSUPP);
    EXPECT_EQ(num, 0u);
    EXPECT_EQ(f.inv(n.kid, {entry(kGva + 0x800, 1)}, &num), -EINVAL);
    EXPECT_EQ(num, 0u);
    EXPECT_EQ(f.inv(n.kid, {entry(kGva, UINT64_MAX)}, &num), -EINVAL);
    EXPECT_EQ(num, 0u);
    // Nothing reached the hardware.
    EXPECT_EQ(f.s.since(m), std::vector<Desc>{}) << show(f.s.since(m));
}

TEST(IommufdConformance, InvalidatePartialFailure)
{
    Fd f;
    Nest n;
    ASSERT_NO_FATAL_FAILURE(make_nest(f, n));
    const uint16_t did = f.did(n.kid);
    ims_iotlb *tlb = ims_vtd_unit_caches(f.s.u)->iotlb;
    for (uint64_t p = 0; p < 2; p++) {
        ims_xlate_req x = f.s.translate(DrvSys::req(kAts, kGva + p * 0x1000, false));
        ASSERT_EQ(x.res.fault, 0u);
    }
    ASSERT_NE(ims_iotlb_peek(tlb, did, IMS_VTD_PGTT_NESTED, 0, kGva), nullptr);

    // Two entries, the second with bad flags: EOPNOTSUPP, entry_num 1, and the first one's flush went out and
    // removed its page; the other page is still cached (selftest: iotlb[0] cleared, the rest unchanged).
    uint64_t m = f.s.mark();
    uint32_t num;
    EXPECT_EQ(f.inv(n.kid, {entry(kGva, 1), entry(kGva + 0x1000, 1, 1u << 1)}, &num), -EOPNOTSUPP);
    EXPECT_EQ(num, 1u);
    auto v = f.s.since(m);
    EXPECT_EQ(v, (std::vector<Desc>{piotlb_page(did, 0, kGva, 0, false), dev_tlb(kAts, kGva, 0)})) << show(v);
    EXPECT_EQ(ims_iotlb_peek(tlb, did, IMS_VTD_PGTT_NESTED, 0, kGva), nullptr);
    EXPECT_NE(ims_iotlb_peek(tlb, did, IMS_VTD_PGTT_NESTED, 0, kGva + 0x1000), nullptr);
    // Same with an unaligned second entry: EINVAL, entry_num 1.
    m = f.s.mark();
    EXPECT_EQ(f.inv(n.kid, {entry(kGva, 1), entry(kGva + 0x1001, 1)}, &num), -EINVAL);
    EXPECT_EQ(num, 1u);
    EXPECT_EQ(f.s.since(m).size(), 2u);
    // A bad first entry: nothing handled.
    EXPECT_EQ(f.inv(n.kid, {entry(kGva + 1, 1), entry(kGva, 1)}, &num), -EINVAL);
    EXPECT_EQ(num, 0u);
}

TEST(IommufdConformance, InvalidateDescriptors)
{
    Fd f;
    Nest n;
    ASSERT_NO_FATAL_FAILURE(make_nest(f, n));
    const uint16_t did = f.did(n.kid);
    uint32_t num;
    struct Case {
        std::vector<ims_iommu_hwpt_vtd_s1_invalidate> in;
        std::vector<Desc> out;
    };
    // §2.7 [7.1mw] and its worked examples: one P_IOTLB per entry (G=3 with the aligned address and mask, IH =
    // LEAF; G=2 when the mask reaches 52) plus the device-TLB invalidation of the ATS device for the same block.
    const std::vector<Case> cases = {
        {{entry(kGva, 1)}, {piotlb_page(did, 0, kGva, 0, false), dev_tlb(kAts, kGva, 0)}},
        {{entry(kGva, 1, IMS_IOMMU_VTD_INV_FLAGS_LEAF)},
         {piotlb_page(did, 0, kGva, 0, true), dev_tlb(kAts, kGva, 0)}},
        {{entry(0x1000, 3)}, {piotlb_page(did, 0, 0, 2, false), dev_tlb(kAts, 0, 2)}},
        {{entry(0x3000, 2)}, {piotlb_page(did, 0, 0, 3, false), dev_tlb(kAts, 0, 3)}},
        {{entry(0x200000, 512)}, {piotlb_page(did, 0, 0x200000, 9, false), dev_tlb(kAts, 0x200000, 9)}},
        {{entry(0, UINT64_MAX)}, {piotlb_pasid(did, 0), dev_tlb(kAts, 0, 52)}},
        {{entry(kGva, 1), entry(kGva + 0x2000, 2)},
         {piotlb_page(did, 0, kGva, 0, false), dev_tlb(kAts, kGva, 0), piotlb_page(did, 0, kGva + 0x2000, 1, false),
          dev_tlb(kAts, kGva + 0x2000, 1)}},
        {{entry(kGva, 0)}, {}},  // decision: npages 0 flushes nothing but counts as handled
    };
    for (const Case &c : cases) {
        uint64_t m = f.s.mark();
        EXPECT_EQ(f.inv(n.kid, c.in, &num), 0);
        EXPECT_EQ(num, c.in.size());
        auto v = f.s.since(m);
        EXPECT_EQ(v, c.out) << show(v);
    }
}

// ---- iommufd_ioas.get_hw_info (§3.3) with the VT-d data (§1.3, §2.1) ---------------------------------------

ims_iommu_hw_info hw_info_cmd(uint32_t dev, void *buf, uint32_t len)
{
    ims_iommu_hw_info c{};
    c.size = sizeof c;
    c.dev_id = dev;
    c.data_len = len;
    c.data_uptr = (uint64_t)(uintptr_t)buf;
    return c;
}

TEST(IommufdConformance, HwInfoVtd)
{
    Fd f;
    ims_iommu_hw_info_vtd vtd;
    memset(&vtd, 0xCC, sizeof vtd);
    ims_iommu_hw_info c = hw_info_cmd(f.ats_dev, &vtd, sizeof vtd);
    ASSERT_EQ(f.ioctl(IMS_IOMMU_GET_HW_INFO, &c), 0);
    EXPECT_EQ(c.out_data_type, IMS_IOMMU_HW_INFO_TYPE_INTEL_VTD);
    EXPECT_EQ(c.data_len, sizeof vtd);
    // §2.1: ERRATA_772415_SPR17 set unconditionally; CAP and ECAP are the unit's registers (0x08, 0x10).
    EXPECT_EQ(vtd.flags, IMS_IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17);
    EXPECT_EQ(vtd.reserved, 0u);
    EXPECT_EQ(vtd.cap_reg, f.s.rd(IMS_VTD_REG_CAP));
    EXPECT_EQ(vtd.ecap_reg, f.s.rd(IMS_VTD_REG_ECAP));
    EXPECT_EQ(vtd.cap_reg, (uint64_t)IMS_VTD_DEFAULT_CAP);
    // Capabilities: dirty tracking (ECAP.SSADS + SMPWCS in scalable mode); ATS supported on this device;
    // a PASID-capable device reports 20 bits.
    EXPECT_EQ(c.out_capabilities, IMS_IOMMU_HW_CAP_DIRTY_TRACKING);
    EXPECT_EQ(c.out_max_pasid_log2, 20u);

    c = hw_info_cmd(f.plain_dev, &vtd, sizeof vtd);
    ASSERT_EQ(f.ioctl(IMS_IOMMU_GET_HW_INFO, &c), 0);
    EXPECT_EQ(c.out_capabilities, IMS_IOMMU_HW_CAP_DIRTY_TRACKING | IMS_IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED);
    EXPECT_EQ(c.out_max_pasid_log2, 0u);
}

TEST(IommufdConformance, HwInfoFollowsTheUnitsRegisters)
{
    const uint64_t ecap = IMS_VTD_DEFAULT_ECAP & ~IMS_VTD_PUT(IMS_VTD_ECAP_SSADS, 1) & ~IMS_VTD_PUT(IMS_VTD_ECAP_SRS, 1);
    Fd f(Opts().with_ecap(ecap));
    ims_iommu_hw_info_vtd vtd{};
    ims_iommu_hw_info c = hw_info_cmd(f.ats_dev, &vtd, sizeof vtd);
    ASSERT_EQ(f.ioctl(IMS_IOMMU_GET_HW_INFO, &c), 0);
    EXPECT_EQ(vtd.ecap_reg, f.s.rd(IMS_VTD_REG_ECAP));
    EXPECT_EQ(vtd.ecap_reg, ecap);
    EXPECT_EQ(c.out_capabilities, 0u);  // no dirty tracking without SSADS
}

TEST(IommufdConformance, HwInfoBufferRules)
{
    Fd f;
    // Zero-size buffer: OK, the kernel's length comes back (a NULL pointer is fine with length 0).
    ims_iommu_hw_info c = hw_info_cmd(f.ats_dev, nullptr, 0);
    ASSERT_EQ(f.ioctl(IMS_IOMMU_GET_HW_INFO, &c), 0);
    EXPECT_EQ(c.data_len, sizeof(ims_iommu_hw_info_vtd));
    EXPECT_EQ(c.out_data_type, IMS_IOMMU_HW_INFO_TYPE_INTEL_VTD);
    // Larger buffer: the driver's 24 bytes, the rest zero-filled; data_len reports 24.
    unsigned char big[64];
    memset(big, 0xCC, sizeof big);
    c = hw_info_cmd(f.ats_dev, big, sizeof big);
    ASSERT_EQ(f.ioctl(IMS_IOMMU_GET_HW_INFO, &c), 0);
    EXPECT_EQ(c.data_len, 24u);
    ims_iommu_hw_info_vtd vtd;
    memcpy(&vtd, big, sizeof vtd);
    EXPECT_EQ(vtd.cap_reg, f.s.rd(IMS_VTD_REG_CAP));
    for (size_t i = 24; i < sizeof big; i++)
        EXPECT_EQ(big[i], 0) << i;
    // Smaller buffer (offsetofend(flags)): only what fits is written.
    memset(big, 0xCC, sizeof big);
    c = hw_info_cmd(f.ats_dev, big, 4);
    ASSERT_EQ(f.ioctl(IMS_IOMMU_GET_HW_INFO, &c), 0);
    uint32_t flags;
    memcpy(&flags, big, 4);
    EXPECT_EQ(flags, IMS_IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17);
    EXPECT_EQ(big[4], 0xCC);
    EXPECT_EQ(c.data_len, 24u);
    // NULL buffer with a length -> EFAULT.
    c = hw_info_cmd(f.ats_dev, nullptr, 24);
    EXPECT_EQ(f.ioctl(IMS_IOMMU_GET_HW_INFO, &c), -EFAULT);

    // Types: INPUT_TYPE with INTEL_VTD -> OK; with another type -> EOPNOTSUPP; without the flag the input type
    // is ignored (forced to DEFAULT).
    c = hw_info_cmd(f.ats_dev, &vtd, sizeof vtd);
    c.flags = IMS_IOMMU_HW_INFO_FLAG_INPUT_TYPE;
    c.in_data_type = IMS_IOMMU_HW_INFO_TYPE_INTEL_VTD;
    EXPECT_EQ(f.ioctl(IMS_IOMMU_GET_HW_INFO, &c), 0);
    c = hw_info_cmd(f.ats_dev, &vtd, sizeof vtd);
    c.flags = IMS_IOMMU_HW_INFO_FLAG_INPUT_TYPE;
    c.in_data_type = IMS_IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
    EXPECT_EQ(f.ioctl(IMS_IOMMU_GET_HW_INFO, &c), -EOPNOTSUPP);
    c = hw_info_cmd(f.ats_dev, &vtd, sizeof vtd);
    c.in_data_type = IMS_IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
    EXPECT_EQ(f.ioctl(IMS_IOMMU_GET_HW_INFO, &c), 0);
    EXPECT_EQ(c.out_data_type, IMS_IOMMU_HW_INFO_TYPE_INTEL_VTD);
    // Unknown flag, reserved bytes -> EOPNOTSUPP; no such device (or not a device) -> ENOENT.
    c = hw_info_cmd(f.ats_dev, &vtd, sizeof vtd);
    c.flags = 1u << 1;
    EXPECT_EQ(f.ioctl(IMS_IOMMU_GET_HW_INFO, &c), -EOPNOTSUPP);
    c = hw_info_cmd(f.ats_dev, &vtd, sizeof vtd);
    c.reserved[2] = 1;
    EXPECT_EQ(f.ioctl(IMS_IOMMU_GET_HW_INFO, &c), -EOPNOTSUPP);
    c = hw_info_cmd(777, &vtd, sizeof vtd);
    EXPECT_EQ(f.ioctl(IMS_IOMMU_GET_HW_INFO, &c), -ENOENT);
    uint32_t ioas = f.ioas();
    c = hw_info_cmd(ioas, &vtd, sizeof vtd);
    EXPECT_EQ(f.ioctl(IMS_IOMMU_GET_HW_INFO, &c), -ENOENT);
}

// ---- destroy / EBUSY (§1.3 DESTROY; §3.3 ioas_destroy, alloc_hwpt_nested, mock_domain.replace) ------------

TEST(IommufdConformance, DestroyBusy)
{
    Fd f;
    Nest n;
    ASSERT_NO_FATAL_FAILURE(make_nest(f, n, /*attach=*/false));
    EXPECT_EQ(f.destroy(n.ioas), -EBUSY);     // a HWPT is built on it
    EXPECT_EQ(f.destroy(f.ats_dev), -EBUSY);  // bound devices belong to their VFIO file

    // Attach to nested A, replace with nested B: A is free, B busy.
    uint32_t kid2 = 0;
    ASSERT_EQ(f.nested(f.ats_dev, n.parent, &kid2, n.s1.root), 0);
    ASSERT_EQ(f.attach(kAts, n.kid), 0);
    EXPECT_EQ(f.destroy(n.kid), -EBUSY);
    ASSERT_EQ(f.attach(kAts, kid2), 0);  // a second ATTACH replaces
    EXPECT_EQ(ims_iommufd_device_hwpt(f.ifd, f.ats_dev, IMS_DRV_NO_PASID), kid2);
    EXPECT_EQ(f.destroy(kid2), -EBUSY);
    EXPECT_EQ(f.destroy(n.kid), 0);

    // An automatic domain: attach the plain device to the IOAS; its HWPT dies with the detach.
    ims_vfio_device_attach_iommufd_pt a{};
    a.argsz = sizeof a;
    a.pt_id = n.ioas;
    ASSERT_EQ(f.vfio(kPlain, IMS_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a), 0);
    uint32_t auto_hwpt = a.pt_id;
    EXPECT_NE(auto_hwpt, n.ioas);
    EXPECT_EQ(ims_iommufd_obj_kind(f.ifd, auto_hwpt), IMS_IOMMUFD_OBJ_HWPT_PAGING);
    // An automatic domain cannot parent a nested HWPT (§1.3 step 6).
    uint32_t x = 0;
    EXPECT_EQ(f.nested(f.plain_dev, auto_hwpt, &x, n.s1.root), -EINVAL);
    EXPECT_EQ(f.destroy(auto_hwpt), -EBUSY);
    ASSERT_EQ(f.detach(kPlain), 0);
    EXPECT_EQ(ims_iommufd_obj_kind(f.ifd, auto_hwpt), IMS_IOMMUFD_OBJ_NONE);
    EXPECT_EQ(f.destroy(auto_hwpt), -ENOENT);

    ASSERT_EQ(f.detach(kAts), 0);
    EXPECT_EQ(f.destroy(kid2), 0);
    EXPECT_EQ(f.destroy(n.parent), 0);
    EXPECT_EQ(f.destroy(n.ioas), 0);
    EXPECT_EQ(f.destroy(n.ioas), -ENOENT);
}

// VFIO cdev argument rules (iommufd-facts §1.3 device attach/detach; VFIO argsz semantics).
TEST(IommufdConformance, VfioArgumentSizes)
{
    Fd f;
    Nest n;
    ASSERT_NO_FATAL_FAILURE(make_nest(f, n, /*attach=*/false));
    ims_vfio_device_attach_iommufd_pt a{};
    a.argsz = IMS_VFIO_DEVICE_ATTACH_MIN - 1;
    a.pt_id = n.kid;
    EXPECT_EQ(f.vfio(kAts, IMS_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a), -EINVAL);
    a.argsz = sizeof a;
    a.flags = 1u << 1;
    EXPECT_EQ(f.vfio(kAts, IMS_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a), -EINVAL);
    a.flags = 0;
    a.pt_id = 4242;
    EXPECT_EQ(f.vfio(kAts, IMS_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a), -ENOENT);
    a.pt_id = n.kid;
    a.argsz = IMS_VFIO_DEVICE_ATTACH_MIN;  // the first version's size is enough for a RID attach
    EXPECT_EQ(f.vfio(kAts, IMS_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a), 0);
    ims_vfio_device_detach_iommufd_pt d{};
    d.argsz = IMS_VFIO_DEVICE_DETACH_MIN - 1;
    EXPECT_EQ(f.vfio(kAts, IMS_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d), -EINVAL);
    d.argsz = sizeof d;
    d.flags = 1u << 3;
    EXPECT_EQ(f.vfio(kAts, IMS_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d), -EINVAL);
    EXPECT_EQ(ims_iommufd_device_hwpt(f.ifd, f.ats_dev, IMS_DRV_NO_PASID), n.kid);
    // BIND twice -> EINVAL.
    ims_vfio_device_bind_iommufd b{};
    b.argsz = sizeof b;
    b.iommufd = 3;
    EXPECT_EQ(f.vfio(kAts, IMS_VFIO_DEVICE_BIND_IOMMUFD, &b), -EINVAL);
}

// ---- the same scenarios as traces (tests/traces/conformance/*.ist), through `iommusim run` ----------------

TEST(IommufdConformance, TracesReplayCleanly)
{
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(IMS_SOURCE_DIR) / "tests" / "traces" / "conformance";
    std::vector<std::string> files;
    for (const auto &e : fs::directory_iterator(dir))
        if (e.path().extension() == ".ist")
            files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    ASSERT_GE(files.size(), 4u);
    for (const std::string &p : files) {
        std::string cmd = std::string(IMS_CLI_PATH) + " run --quiet '" + p + "' >/dev/null 2>&1";
        int st = std::system(cmd.c_str());
        ASSERT_TRUE(WIFEXITED(st)) << p;
        EXPECT_EQ(WEXITSTATUS(st), 0) << p << " (run: " << IMS_CLI_PATH << " run " << p << ")";
    }
}

}  // namespace
