// Host-level records (iommufd.*) through the replay: errno expectations,
// expect_done, object names, the start of the host stack and its limits.
// Spec: trace-text-v1 "Host level"; the iommufd semantics are the reference
// implementation's (models/iommufd/iommufd.h).
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "models/iommufd/uapi.h"
#include "replay_harness.h"
#include "trace_test_util.h"

using replay_test::Outcome;
using replay_test::run_files;
using replay_test::run_text;
using replay_test::write_trace;
using trace_test::Rec;

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

// IOMMU_IOAS_UNMAP keeps the area in the IOAS (pages = NULL) until its IOTLB
// flush is done (iopt_unmap_iova_range: iova_rwsem is dropped across
// iopt_area_unfill_domains, the area leaves the tree in iopt_abort_area after
// it). A MAP over that IOVA meanwhile fails in iopt_check_iova with EEXIST, a
// second UNMAP with EBUSY ("Userspace should not race map/unmap's of the same
// area"); once the unmap has completed the IOVA is free again.
TEST(ReplayHost, MapOverAnUnmapStillFlushingIsRefused)
{
    Outcome o = run_text("h_reuse.ist", "device sid=0x10 name=nic\n"
                                        "iommufd.ioas_alloc out=a\n"
                                        "iommufd.attach dev=nic pt=a\n"
                                        "iommufd.ioas_map ioas=a iova=0x100000 len=4K hpa=0x40000000\n"
                                        "dma dev=nic iova=0x100000 len=64 rd expect=0x40000000\n"
                                        "@100us iommufd.ioas_unmap ioas=a iova=0x100000 len=4K\n"
                                        "@100us iommufd.ioas_map ioas=a iova=0x100000 len=4K hpa=0x40001000 "
                                        "expect=EEXIST\n"
                                        "@100us iommufd.ioas_unmap ioas=a iova=0x100000 len=4K expect=EBUSY\n"
                                        "@100us iommufd.ioas_unmap ioas=a iova=0 len=0xffffffffffffffff expect=EBUSY\n"
                                        "drain\n"
                                        "dma dev=nic iova=0x100000 len=64 rd expect=fault\n"
                                        "iommufd.ioas_map ioas=a iova=0x100000 len=4K hpa=0x40001000\n"
                                        "dma dev=nic iova=0x100000 len=64 rd expect=0x40001000\n"
                                        "@1ms iommufd.ioas_unmap ioas=a iova=0x100000 len=4K\n"
                                        "@1ms iommufd.ioas_map ioas=a iova=0x100000 len=4K hpa=0x40002000\n");
    EXPECT_EQ(o.status, IOMMUSIM_EXIT_FAILED) << o.error;
    EXPECT_EQ(o.num("expect.failures"), 1) << o.report;
    EXPECT_EQ(o.num("checker.violations"), 0) << o.report;
    EXPECT_TRUE(contains(o.report, "h_reuse.ist:16: iommufd.ioas_map: returned EEXIST, expected ok (IOAS_MAP: "
                                   "[0x100000 +0x1000] in IOAS 2: in use (mapped, or its unmap is still flushing))"))
        << o.report;
}

// Several flushes queued (docs/replay.md, the coherence checker): four unmaps
// issued together are flushed one batch after another. A DMA to the last IOVA
// after the first batch's wait completed, but before its own invalidation ran,
// still legitimately uses the old translation: the checker must not count the
// other IOVAs' waits as this IOVA's synchronisation point.
TEST(ReplayHost, AWaitOfAnotherUnmapIsNotThisIovasSynchronisation)
{
    Outcome o = run_text("h_queued.ist", "device sid=0x10 name=nic\n"
                                         "iommufd.ioas_alloc out=a\n"
                                         "iommufd.attach dev=nic pt=a\n"
                                         "iommufd.ioas_map ioas=a iova=0x100000 len=4K hpa=0x40000000\n"
                                         "iommufd.ioas_map ioas=a iova=0x200000 len=4K hpa=0x40001000\n"
                                         "iommufd.ioas_map ioas=a iova=0x300000 len=4K hpa=0x40002000\n"
                                         "iommufd.ioas_map ioas=a iova=0x400000 len=4K hpa=0x40003000\n"
                                         "dma dev=nic iova=0x400000 len=64 rd expect=0x40003000\n"
                                         "mark name=run\n"
                                         "@100us iommufd.ioas_unmap ioas=a iova=0x100000 len=4K\n"
                                         "@100us iommufd.ioas_unmap ioas=a iova=0x200000 len=4K\n"
                                         "@100us iommufd.ioas_unmap ioas=a iova=0x300000 len=4K\n"
                                         "@100us iommufd.ioas_unmap ioas=a iova=0x400000 len=4K\n"
                                         // the stale IOTLB entry, after other batches' waits (expect= proves it)
                                         "@104us dma dev=nic iova=0x400000 len=64 rd expect=0x40003000\n"
                                         "@120us dma dev=nic iova=0x400000 len=64 rd expect=fault\n");
    EXPECT_EQ(o.status, 0) << o.error << o.report;
    EXPECT_EQ(o.num("checker.violations"), 0) << o.report;
    EXPECT_EQ(o.num("checker.stale_uses"), 1) << o.report;
    EXPECT_EQ(o.num("phase.run.inv.count"), 4) << "the premise: one batch (one wait) per unmap";
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

// flags=alloc_pasid (an extension beyond trace-text v1, docs/trace-format.md) is
// uAPI IOMMU_HWPT_ALLOC_PASID = 1<<3 (Linux >= 6.13). iommufd attaches a PASID only to
// a HWPT allocated with it (iommufd_hwpt_pasid_compat: -EINVAL otherwise), and a RID
// attach under attached PASIDs needs it too. An IOAS's automatic HWPT has flags 0.
const char *const kPasidAttach =
    "device sid=0x10 pasid_bits=20\n"
    "iommufd.ioas_alloc out=ioas\n"
    "iommufd.ioas_map ioas=ioas iova=0x100000 len=4K hpa=0x40000000\n"
    "iommufd.attach dev=0x10 pt=ioas pasid=5 expect=EINVAL\n"                                  // line 5
    "iommufd.hwpt_alloc dev=0x10 pt=ioas out=plain\n"
    "iommufd.attach dev=0x10 pt=plain pasid=5 expect=EINVAL\n"                                 // line 7
    "iommufd.hwpt_alloc dev=0x10 pt=ioas flags=alloc_pasid out=pas\n"
    "iommufd.attach dev=0x10 pt=pas pasid=5\n"
    "iommufd.attach dev=0x10 pt=plain expect=EINVAL\n"                                         // line 10
    "iommufd.hwpt_alloc dev=0x10 pt=ioas flags=alloc_pasid|nest_parent out=parent\n"
    "iommufd.hwpt_alloc dev=0x10 pt=parent s1_pgtbl=0x200000 out=s1\n"
    "iommufd.attach dev=0x10 pt=s1 pasid=6 expect=EINVAL\n"                                    // line 13
    "iommufd.hwpt_alloc dev=0x10 pt=parent flags=alloc_pasid s1_pgtbl=0x200000 out=s1p\n"
    "iommufd.attach dev=0x10 pt=s1p pasid=6\n"
    "iommufd.attach dev=0x10 pt=pas\n"
    "dma dev=0x10 pasid=5 iova=0x100080 len=4 rd expect=0x40000080\n"
    "dma dev=0x10 iova=0x100ff0 len=8 wr expect=0x40000ff0\n"
    "dma dev=0x10 pasid=7 iova=0x100080 len=4 rd expect=fault\n";

TEST(ReplayHost, PasidAttachNeedsAHwptAllocatedForPasids)
{
    Outcome o = run_text("h_pasid.ist", kPasidAttach);
    EXPECT_EQ(o.status, 0) << o.error << o.report;
    EXPECT_EQ(o.num("expect.failures"), 0);
    EXPECT_EQ(o.num("dma.count"), 3);
    EXPECT_EQ(o.num("dma.faults"), 1); // only PASID 7, never attached

    // The same records expecting ok: the four refusals are EINVAL, for the reasons iommufd gives.
    std::string body = kPasidAttach;
    for (size_t at; (at = body.find(" expect=EINVAL")) != std::string::npos;)
        body.erase(at, 14);
    Outcome bad = run_text("h_pasid_bad.ist", body);
    EXPECT_EQ(bad.status, IOMMUSIM_EXIT_FAILED) << bad.error;
    EXPECT_EQ(bad.num("expect.failures"), 4);
    for (const char *line : {"h_pasid_bad.ist:5: iommufd.attach: returned EINVAL, expected ok (attach: HWPT",
                             "h_pasid_bad.ist:7: iommufd.attach: returned EINVAL, expected ok (attach: HWPT",
                             "h_pasid_bad.ist:13: iommufd.attach: returned EINVAL, expected ok (attach: HWPT"})
        EXPECT_TRUE(contains(bad.report, line)) << line << "\n" << bad.report;
    EXPECT_TRUE(contains(bad.report, "was not allocated for PASIDs")) << bad.report;
    EXPECT_TRUE(contains(bad.report, "h_pasid_bad.ist:10: iommufd.attach: returned EINVAL, expected ok (attach: "
                                     "HWPT"))
        << bad.report;
    EXPECT_TRUE(contains(bad.report, "cannot sit under attached PASIDs")) << bad.report;
}

TEST(ReplayHost, UnknownHwptFlagIsABadInputNamingLineAndWord)
{
    Outcome o = run_text("h_flag.ist", "device sid=0x10\n"
                                       "iommufd.ioas_alloc out=ioas\n"
                                       "iommufd.hwpt_alloc dev=0x10 pt=ioas flags=nest_parent|pasid out=h\n");
    EXPECT_EQ(o.status, IOMMUSIM_EXIT_BAD_INPUT);
    EXPECT_TRUE(contains(o.error, "h_flag.ist:4: iommufd.hwpt_alloc: flags=nest_parent|pasid: unknown word 'pasid' "
                                  "(choices: nest_parent|dirty_tracking|alloc_pasid)"))
        << o.error;
    Outcome twice = run_text("h_flag2.ist",
                             "iommufd.ioas_alloc out=ioas\n"
                             "iommufd.hwpt_alloc dev=0x10 pt=ioas flags=alloc_pasid|alloc_pasid out=h\n");
    EXPECT_EQ(twice.status, IOMMUSIM_EXIT_BAD_INPUT);
    EXPECT_TRUE(contains(twice.error, "h_flag2.ist:3: iommufd.hwpt_alloc: flags=alloc_pasid|alloc_pasid: "
                                      "'alloc_pasid' given twice"))
        << twice.error;
}

// Trace bit 2 (the word's index) in both forms; the replay turns it into uAPI bit 3.
TEST(ReplayHost, AllocPasidFlagSurvivesTheBinaryForm)
{
    auto text = trace_test::ReadText(std::string("iommusim-trace 1\n") + kPasidAttach);
    ASSERT_EQ(text.error, "");
    std::vector<uint64_t> flags;
    for (const Rec &r : text.recs)
        if (r.r.verb == IMS_V_HWPT_ALLOC)
            flags.push_back(ims_trace_num_or_default(&r.r, IMS_K_FLAGS));
    EXPECT_EQ(flags, (std::vector<uint64_t>{0, IMS_TRACE_HWPT_ALLOC_PASID,
                                            IMS_TRACE_HWPT_ALLOC_PASID | IMS_TRACE_HWPT_NEST_PARENT, 0,
                                            IMS_TRACE_HWPT_ALLOC_PASID}));
    EXPECT_NE(IMS_TRACE_HWPT_ALLOC_PASID, IMS_IOMMU_HWPT_ALLOC_PASID); // uAPI bit 2 is FAULT_ID_VALID
    EXPECT_EQ(IMS_IOMMU_HWPT_ALLOC_PASID, 1u << 3);

    std::vector<uint8_t> bin = trace_test::WriteAll(text.recs, IMS_TRACE_BINARY, false);
    ASSERT_FALSE(bin.empty());
    auto back = trace_test::ReadAll(bin.data(), bin.size(), "t.bin");
    ASSERT_EQ(back.error, "");
    ASSERT_EQ(back.recs.size(), text.recs.size());
    for (size_t i = 0; i < text.recs.size(); i++)
        EXPECT_TRUE(ims_trace_rec_equal(&text.recs[i].r, &back.recs[i].r)) << trace_test::Canon(back.recs[i].r);
    // Canonical text: words in bit order.
    std::string canon = trace_test::CanonText(back.recs);
    EXPECT_TRUE(contains(canon, "iommufd.hwpt_alloc dev=0x10 pt=ioas flags=nest_parent|alloc_pasid out=parent\n"))
        << canon;

    std::string path = replay_test::temp_path("h_pasid.bin");
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char *>(bin.data()), (std::streamsize)bin.size());
    Outcome o = run_files({path});
    EXPECT_EQ(o.status, 0) << o.error << o.report;
    EXPECT_EQ(o.num("expect.failures"), 0);
    EXPECT_EQ(o.num("dma.count"), 3);
}

} // namespace
