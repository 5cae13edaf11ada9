// Host-level records (iommufd.*) through the replay: errno expectations,
// expect_done, object names, the start of the host stack and its limits.
// Spec: trace-text-v1 "Host level"; the iommufd semantics are the reference
// implementation's (models/iommufd/iommufd.h).
#include <gtest/gtest.h>

#include <string>

#include "replay_harness.h"

using replay_test::Outcome;
using replay_test::run_files;
using replay_test::run_text;
using replay_test::write_trace;

namespace {

bool contains(const std::string &s, const std::string &w) { return s.find(w) != std::string::npos; }

TEST(ReplayHost, ErrnoExpectationsAreChecked)
{
    Outcome o = run_text("h_errno.ist", "device sid=0x10\n"
                                        "iommufd.ioas_alloc out=a\n"
                                        "iommufd.ioas_map ioas=nope iova=0 len=4K\n"
                                        "iommufd.ioas_map ioas=a iova=0 len=4K hpa=0x40000000 expect=EINVAL|ENOENT\n"
                                        "iommufd.destroy id=a expect=ok\n");
    EXPECT_EQ(o.status, IOMMUSIM_EXIT_FAILED) << o.error;
    EXPECT_EQ(o.num("expect.failures"), 2);
    EXPECT_TRUE(contains(o.report, "h_errno.ist:4: iommufd.ioas_map: returned ENOENT, expected ok")) << o.report;
    EXPECT_TRUE(contains(o.report, "h_errno.ist:5: iommufd.ioas_map: returned ok, expected EINVAL|ENOENT"))
        << o.report;
}

TEST(ReplayHost, NestedInvalidationReportsEntriesHandled)
{
    const std::string setup = "device sid=0x10\n"
                              "iommufd.ioas_alloc out=ioas\n"
                              "iommufd.hwpt_alloc dev=0x10 pt=ioas flags=nest_parent out=parent\n"
                              "iommufd.hwpt_alloc dev=0x10 pt=parent s1_pgtbl=0x100000 out=s1\n";
    Outcome ok = run_text("h_inv.ist", setup + "iommufd.hwpt_invalidate hwpt=s1 entries=0x1000:1,0x0:all "
                                               "expect_done=2\n");
    EXPECT_EQ(ok.status, 0) << ok.error << ok.report;
    // The kernel stops at the bad (unaligned) second entry: one handled.
    Outcome part = run_text("h_inv1.ist", setup + "iommufd.hwpt_invalidate hwpt=s1 entries=0x1000:1,0x1001:1 "
                                                  "expect=EINVAL expect_done=1\n");
    EXPECT_EQ(part.status, 0) << part.error << part.report;
    Outcome bad = run_text("h_inv2.ist", setup + "iommufd.hwpt_invalidate hwpt=s1 entries=0x1000:1,0x1001:1 "
                                                 "expect=EINVAL expect_done=2\n");
    EXPECT_EQ(bad.status, IOMMUSIM_EXIT_FAILED) << bad.error;
    EXPECT_TRUE(contains(bad.report, "h_inv2.ist:6: iommufd.hwpt_invalidate: handled 1 entries, expected 2"))
        << bad.report;
    // A paging HWPT takes no user invalidation: the kernel's errno, checked.
    Outcome paging = run_text("h_inv3.ist", setup + "iommufd.hwpt_invalidate hwpt=parent entries=0x1000:1 "
                                                    "expect=EOPNOTSUPP|EINVAL\n");
    EXPECT_EQ(paging.status, 0) << paging.error << paging.report;
}

TEST(ReplayHost, ObjectNamesFollowTheirObjects)
{
    Outcome twice = run_text("h_name.ist", "iommufd.ioas_alloc out=a\niommufd.ioas_alloc out=a\n");
    EXPECT_EQ(twice.status, IOMMUSIM_EXIT_BAD_INPUT);
    EXPECT_TRUE(contains(twice.error, "h_name.ist:3: iommufd.ioas_alloc: out=a names a live object")) << twice.error;
    // After destroy the name is free again, and the old id is gone.
    Outcome again = run_text("h_name2.ist", "iommufd.ioas_alloc out=a\n"
                                            "iommufd.destroy id=a\n"
                                            "iommufd.destroy id=a expect=ENOENT\n"
                                            "iommufd.ioas_alloc out=a\n");
    EXPECT_EQ(again.status, 0) << again.error << again.report;
}

TEST(ReplayHost, RecordsBeforeTheDriverIsUpRunInOrder)
{
    // All issued at time 0 (open loop) while the driver is still bringing the
    // unit up; they execute in trace order once it is.
    Outcome o = run_text("h_queue.ist", "device sid=0x10\n"
                                        "@0ns iommufd.ioas_alloc out=a\n"
                                        "@0ns iommufd.ioas_map ioas=a iova=0x100000 len=4K hpa=0x40000000\n"
                                        "@0ns iommufd.attach dev=0x10 pt=a\n"
                                        "drain\n"
                                        "dma dev=0x10 iova=0x100080 len=4 rd expect=0x40000080\n");
    EXPECT_EQ(o.status, 0) << o.error << o.report;
    EXPECT_EQ(o.num("iommufd.ioctl_errors"), 0);
}

TEST(ReplayHost, LimitsOfTheHostStack)
{
    Outcome units = run_text("h_units.ist", "iommu unit=0\niommu unit=1\niommufd.ioas_alloc out=a\n");
    EXPECT_EQ(units.status, IOMMUSIM_EXIT_BAD_INPUT);
    EXPECT_TRUE(contains(units.error, "h_units.ist:4: iommufd.ioas_alloc: host-level replay drives exactly one unit"))
        << units.error;
    std::string a = write_trace("h_late_a.ist", "iommusim-trace 1\niommufd.ioas_alloc out=a\n");
    std::string b = write_trace("h_late_b.ist", "iommusim-trace 1\ndevice sid=0x20\niommufd.attach dev=0x20 pt=a\n");
    Outcome late = run_files({a, b});
    EXPECT_EQ(late.status, IOMMUSIM_EXIT_BAD_INPUT);
    EXPECT_TRUE(contains(late.error, b + ":3: iommufd.attach: device sid=0x0020 is not bound to iommufd"))
        << late.error;
}

} // namespace
