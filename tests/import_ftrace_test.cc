// iommusim import ftrace: Linux trace text (iommufd-facts §4 event formats) -> trace
// records, robustness, synthesized DMAs, and replay of the output.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "import_test_util.h"
#include "replay_harness.h"

namespace {

using import_test::Has;
using import_test::Imported;

void Import(Imported &out, const std::string &text, const std::function<void(ims_import_opts &)> &tweak = {})
{
    import_test::Import(out, IMS_IMPORT_FTRACE, text, "t.txt", [&](ims_import_opts &o) {
        o.time_offset_set = true; // times in the tests start at 0
        if (tweak)
            tweak(o);
    });
}

const char *kHeader = "# tracer: nop\n"
                      "#\n"
                      "# entries-in-buffer/entries-written: 12/12   #P:1\n"
                      "#\n"
                      "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
                      "#              | |         |   |||||     |         |\n";

// One event line as the kernel prints it ("%16s-%-7d [%03d] %s %12s: %s: ...").
std::string Ev(const char *task_pid, const char *ts, const char *event, const std::string &fields,
               const char *flags = ".....")
{
    char buf[512];
    snprintf(buf, sizeof buf, "%16s [000] %s %12s: %s: %s\n", task_pid, flags, ts, event, fields.c_str());
    return buf;
}

// A 6.1 guest: the disk attached, one 8K buffer mapped, invalidated and unmapped.
std::string Basic()
{
    return std::string(kHeader) +
           Ev("init-1", "1.000000", "attach_device_to_domain", "IOMMU: device=0000:01:00.0") +
           Ev("kworker/0:1H-40", "1.000100", "map",
              "IOMMU: iova=0x00000000fffff000 - 0x0000000100001000 paddr=0x0000000017ef2000 size=8192") +
           Ev("kworker/0:1H-40", "1.000300", "unmap",
              "IOMMU: iova=0x00000000fffff000 - 0x0000000100001000 size=8192 unmapped_size=8192") +
           Ev("kworker/0:1H-40", "1.000302", "qi_submit", "iotlb_inv dmar0: 0x100f2 0xfffff001 0x0 0x0", "d..1.") +
           Ev("kworker/0:1H-40", "1.000303", "qi_submit", "dev_tlb_inv dmar0: 0x10000000003 0x7ffffffffffff001 0x0 0x0",
              "d..1.");
}

TEST(ImportFtrace, MapUnmapAndQiBecomeGuestRecords)
{
    Imported im;
    Import(im, Basic());
    ASSERT_EQ(im.rc, 0) << im.err;
    auto l = im.Lines();
    ASSERT_GE(l.size(), 7u);
    EXPECT_EQ(l[0], "vm id=1 mem=1G");
    // The device-TLB descriptor names SID 0x100 (vtd-facts §4.4: SID qw0[47:32]): ats.
    EXPECT_EQ(l[1], "device sid=0x100 vm=1 ats");
    // @T: capture time since the first event that became a record.
    EXPECT_EQ(l[2], "@0ns guest.map vm=1 dev=0x100 iova=0xfffff000 gpa=0x17ef2000 len=8K");
    EXPECT_EQ(l[3], "@200us guest.unmap vm=1 dev=0x100 iova=0xfffff000 len=8K");
    // Two descriptors of one qi_submit_sync call, then its (untraced) wait.
    EXPECT_EQ(l[4], "@202us guest.qi vm=1 q0=0x100f2 q1=0xfffff001");
    EXPECT_EQ(l[5], "@203us guest.qi vm=1 q0=0x10000000003 q1=0x7ffffffffffff001");
    EXPECT_EQ(l[6], "@203us guest.qi_sync vm=1");
    EXPECT_EQ(l.size(), 7u);
    EXPECT_EQ(im.sum.events, 5u);
    EXPECT_EQ(im.sum.used, 5u);
    EXPECT_EQ(im.sum.lines, 11u);
}

TEST(ImportFtrace, GuestOffsetLeavesTimeForTheGuestToComeUp)
{
    Imported im;
    Import(im, Basic(), [](ims_import_opts &o) { o.time_offset_set = false; });
    ASSERT_EQ(im.rc, 0) << im.err;
    // 1 GiB of guest RAM: 10 ms + 40 ms.
    EXPECT_TRUE(Has(im.Lines(), "@50ms guest.map vm=1 dev=0x100 iova=0xfffff000 gpa=0x17ef2000 len=8K"));
}

TEST(ImportFtrace, HostLevelMapsHostMemoryAndDropsDescriptors)
{
    Imported im;
    Import(im, Basic(), [](ims_import_opts &o) { o.level = IMS_IMPORT_LEVEL_HOST; });
    ASSERT_EQ(im.rc, 0) << im.err;
    auto l = im.Lines();
    EXPECT_EQ(l[0], "device sid=0x100 ats");
    EXPECT_EQ(l[1], "iommufd.ioas_alloc out=as_0100");
    EXPECT_EQ(l[2], "iommufd.attach dev=0x100 pt=as_0100");
    EXPECT_EQ(l[3], "mark name=capture");
    EXPECT_EQ(l[4], "@0ns iommufd.ioas_map ioas=as_0100 iova=0xfffff000 len=8K hpa=0x117ef2000");
    EXPECT_EQ(l[5], "@200us iommufd.ioas_unmap ioas=as_0100 iova=0xfffff000 len=8K");
    EXPECT_EQ(l.size(), 6u);
    EXPECT_EQ(im.Skipped("invalidation descriptor (host level"), 2u);
}

TEST(ImportFtrace, HeaderVariantsAndRelativeTime)
{
    // irq-info off (no flags column), the tgid column, nanosecond timestamps.
    std::string t = std::string(kHeader) +
                    "           init-1     [000]     5.000000: attach_device_to_domain: IOMMU: device=0000:00:03.0\n"
                    "   kworker/u2:1-17      (     17) [000] d..1.     5.000010500: map: IOMMU: "
                    "iova=0x0000000000001000 - 0x0000000000002000 paddr=0x0000000000005000 size=4096\n";
    Imported im;
    Import(im, t, [](ims_import_opts &o) { o.time = IMS_IMPORT_TIME_REL; });
    ASSERT_EQ(im.rc, 0) << im.err;
    EXPECT_TRUE(Has(im.Lines(), "guest.map vm=1 dev=0x18 iova=0x1000 gpa=0x5000 len=4K"));
    Imported none;
    Import(none, t, [](ims_import_opts &o) { o.time = IMS_IMPORT_TIME_NONE; });
    EXPECT_TRUE(Has(none.Lines(), "guest.map vm=1 dev=0x18 iova=0x1000 gpa=0x5000 len=4K"));
}

TEST(ImportFtrace, PartialUnmapRemapsTheRest)
{
    std::string t = std::string(kHeader) +
                    Ev("a-1", "1.0", "map", "IOMMU: iova=0x0000000000010000 - 0x0000000000014000 "
                                              "paddr=0x0000000000100000 size=16384") +
                    Ev("a-1", "1.1", "unmap", "IOMMU: iova=0x0000000000011000 - 0x0000000000012000 size=4096 "
                                                "unmapped_size=4096");
    Imported im;
    Import(im, t, [](ims_import_opts &o) { o.dev = 0x18; });
    ASSERT_EQ(im.rc, 0) << im.err;
    auto u = im.With("guest.unmap", true), m = im.With("guest.map", true);
    ASSERT_EQ(u.size(), 1u);
    EXPECT_EQ(u[0], "guest.unmap vm=1 dev=0x18 iova=0x10000 len=16K");
    ASSERT_EQ(m.size(), 3u);
    EXPECT_EQ(m[1], "guest.map vm=1 dev=0x18 iova=0x10000 gpa=0x100000 len=4K");
    EXPECT_EQ(m[2], "guest.map vm=1 dev=0x18 iova=0x12000 gpa=0x102000 len=8K");
}

TEST(ImportFtrace, PlaceholderDeviceWithoutAttach)
{
    Imported im;
    Import(im, std::string(kHeader) + Ev("a-1", "1.0", "map", "IOMMU: iova=0x0000000000010000 - "
                                                               "0x0000000000011000 paddr=0x0000000000100000 size=4096"));
    ASSERT_EQ(im.rc, 0) << im.err;
    EXPECT_EQ(im.Lines()[1], "device sid=0x100 vm=1");
    EXPECT_EQ(im.Skipped("adjusted: iommu:map/unmap given to a placeholder"), 1u);
}

TEST(ImportFtrace, PageFaultBecomesFaultingDma)
{
    std::string t = Basic() + Ev("irq/24-dmar-7", "1.0005", "io_page_fault",
                                 "IOMMU:virtio-pci 0000:01:00.0 iova=0x00000000fffff000 flags=0x0001");
    Imported im;
    Import(im, t, [](ims_import_opts &o) {
        o.level = IMS_IMPORT_LEVEL_HOST;
        o.stale_window_ps = 100000000; // 100 us
    });
    ASSERT_EQ(im.rc, 0) << im.err;
    EXPECT_TRUE(Has(im.Lines(), "@400us dma dev=0x100 iova=0xfffff000 len=64 wr expect=fault"));
    // Within the stale window of the unmap (200 us before) the old address is allowed too.
    Imported wide;
    Import(wide, t, [](ims_import_opts &o) { o.level = IMS_IMPORT_LEVEL_HOST; });
    EXPECT_TRUE(Has(wide.Lines(), "@400us dma dev=0x100 iova=0xfffff000 len=64 wr expect=fault|0x117ef2000"));
}

TEST(ImportFtrace, QiBatchesEndAtAnotherTaskOrAGap)
{
    std::string t = std::string(kHeader) + Ev("a-1", "1.000000", "qi_submit", "cc_inv dmar0: 0x11 0x0 0x0 0x0") +
                    Ev("a-1", "1.000050", "qi_submit", "iotlb_inv dmar0: 0xd2 0x0 0x0 0x0") +
                    Ev("b-2", "1.000051", "qi_submit", "iotlb_inv dmar0: 0xd2 0x0 0x0 0x0") +
                    Ev("b-2", "1.000052", "qi_submit", "inv_wait dmar0: 0x25 0x0 0x0 0x0") +
                    Ev("b-2", "1.000053", "qi_submit", "pc_inv dmar0: 0x100000037 0x0 0x1 0x2");
    Imported im;
    Import(im, t);
    ASSERT_EQ(im.rc, 0) << im.err;
    auto l = im.Lines();
    std::vector<std::string> want = {
        "vm id=1 mem=1G",
        "@0ns guest.qi vm=1 q0=0x11 q1=0x0",
        "@0ns guest.qi_sync vm=1", // 50 us later is another qi_submit_sync call
        "@50us guest.qi vm=1 q0=0xd2 q1=0x0",
        "@50us guest.qi_sync vm=1", // another task
        "@51us guest.qi vm=1 q0=0xd2 q1=0x0",
        "@52us guest.qi_sync vm=1", // a traced wait descriptor (type 5) is the sync itself
        "@53us guest.qi vm=1 q0=0x100000037 q1=0x0 q2=0x1 q3=0x2",
        "@53us guest.qi_sync vm=1", // the end of the capture closes the batch
    };
    EXPECT_EQ(l, want);

    Imported none;
    Import(none, t, [](ims_import_opts &o) { o.qi = IMS_IMPORT_QI_NONE; });
    EXPECT_EQ(none.Lines().size(), 1u);
    EXPECT_EQ(none.Skipped("invalidation descriptor (--qi none)"), 4u);
}

// dma:* events (6.12+ formats): they name the device and drive the mappings.
TEST(ImportFtrace, DmaEventsDriveMappings)
{
    std::string t = std::string(kHeader) +
                    Ev("a-1", "2.000000", "map",
                       "IOMMU: iova=0x00000000ffffe000 - 0x00000000fffff000 paddr=0x0000000000300000 size=4096") +
                    Ev("a-1", "2.000001", "dma_map_page",
                       "0000:00:04.0 dir=TO_DEVICE dma_addr=ffffe010 size=100 phys_addr=300010 attrs=") +
                    Ev("a-1", "2.000002", "dma_map_sg",
                       "0000:00:04.0 dir=FROM_DEVICE dma_addrs={0x10000,0x20000} sizes={0x1000,0x2000} "
                       "phys_addrs={0x400000,0x500000} attrs=") +
                    Ev("a-1", "2.000003", "map",
                       "IOMMU: iova=0x0000000000040000 - 0x0000000000041000 paddr=0x0000000000600000 size=4096") +
                    Ev("a-1", "2.000004", "dma_alloc",
                       "0000:00:04.0 dir=BIDIRECTIONAL dma_addr=40000 size=4096 virt_addr=000000001234 flags=GFP_KERNEL "
                       "attrs=") +
                    Ev("a-1", "2.000010", "dma_unmap_page", "0000:00:04.0 dir=TO_DEVICE dma_addr=ffffe010 size=100 attrs=") +
                    Ev("a-1", "2.000011", "unmap",
                       "IOMMU: iova=0x00000000ffffe000 - 0x00000000fffff000 size=4096 unmapped_size=4096") +
                    Ev("a-1", "2.000012", "dma_unmap_sg", "0000:00:04.0 dir=FROM_DEVICE phys_addrs={0x500000} attrs=") +
                    Ev("a-1", "2.000013", "dma_free",
                       "0000:00:04.0 dir=BIDIRECTIONAL dma_addr=40000 size=4096 virt_addr=000000001234 attrs=") +
                    Ev("a-1", "2.000014", "dma_sync_single_for_cpu", "0000:00:04.0 dir=FROM_DEVICE dma_addr=10000 size=64");
    Imported im;
    Import(im, t);
    ASSERT_EQ(im.rc, 0) << im.err;
    std::vector<std::string> maps = {
        "guest.map vm=1 dev=0x20 iova=0xffffe000 gpa=0x300000 len=4K prot=r",
        "guest.map vm=1 dev=0x20 iova=0x10000 gpa=0x400000 len=4K",
        "guest.map vm=1 dev=0x20 iova=0x20000 gpa=0x500000 len=8K",
        "guest.map vm=1 dev=0x20 iova=0x40000 gpa=0x600000 len=4K",
    };
    EXPECT_EQ(im.With("guest.map", true), maps);
    std::vector<std::string> unmaps = {
        "guest.unmap vm=1 dev=0x20 iova=0xffffe000 len=4K",
        "guest.unmap vm=1 dev=0x20 iova=0x20000 len=8K",
        "guest.unmap vm=1 dev=0x20 iova=0x40000 len=4K",
    };
    EXPECT_EQ(im.With("guest.unmap", true), unmaps);
    EXPECT_EQ(im.Skipped("iommu:map (dma:* events drive"), 2u);
    EXPECT_EQ(im.Skipped("iommu:unmap (dma:* events drive"), 1u);
    EXPECT_EQ(im.Skipped("dma_sync_*"), 1u);
}

TEST(ImportFtrace, CacheTagsAndPageRequestsNameDevices)
{
    std::string t = std::string(kHeader) +
                    Ev("a-1", "1.0", "cache_tag_assign", "dmar0/0000:00:05.0 type devtlb did 2 pasid 0 ref 1") +
                    Ev("a-1", "1.1", "prq_report",
                       "dmar0/0000:00:06.0 seq# 1: rid=0x30 addr=0x1234 r---- pasid=0x1 index=0x0") +
                    Ev("a-1", "1.2", "cache_tag_flush_range",
                       "dmar0 0000:00:05.0[0] type devtlb did 2 [0x1000-0x1fff] addr 0x1000 pages 0x1 mask 0x0");
    Imported im;
    Import(im, t);
    ASSERT_EQ(im.rc, 0) << im.err;
    auto l = im.Lines();
    EXPECT_EQ(l[1], "device sid=0x28 vm=1 ats");
    EXPECT_EQ(l[2], "device sid=0x30 vm=1");
    EXPECT_EQ(im.Skipped("prq_report"), 1u);
    EXPECT_EQ(im.Skipped("cache_tag_flush"), 1u);
}

TEST(ImportFtrace, SynthesizedDmasLieInsideEachBufferAndLifetime)
{
    auto opts = [](unsigned seed) {
        return [seed](ims_import_opts &o) {
            o.synth_dma = 3;
            o.seed = seed;
            o.level = IMS_IMPORT_LEVEL_HOST;
            o.time_offset_set = false; // 1 ms for the host stack to come up
        };
    };
    Imported a, b, c;
    Import(a, Basic(), opts(1));
    Import(b, Basic(), opts(1));
    Import(c, Basic(), opts(2));
    ASSERT_EQ(a.rc, 0) << a.err;
    EXPECT_EQ(a.text, b.text) << "same seed, same trace";
    EXPECT_NE(a.text, c.text) << "another seed, other accesses";
    int n = 0;
    for (const auto &l : a.Lines()) {
        if (l.find(" dma ") == std::string::npos)
            continue;
        n++;
        unsigned long long iova = 0, hpa = 0;
        size_t at = l.find("iova=0x"), ex = l.find("expect=0x");
        iova = std::stoull(l.substr(at + 7), nullptr, 16);
        hpa = std::stoull(l.substr(ex + 9), nullptr, 16);
        EXPECT_GE(iova, 0xfffff000ull);
        EXPECT_LT(iova, 0x100001000ull);
        EXPECT_EQ(hpa - 0x100000000ull - 0x17ef2000ull, iova - 0xfffff000ull);
        EXPECT_EQ(iova % 64, 0u);
        // Strictly between the map (@1ms) and the unmap (@1200us), in whole ns.
        unsigned long long t_ns = 0;
        ASSERT_EQ(sscanf(l.c_str(), "@%lluns", &t_ns), 1) << l;
        EXPECT_GT(t_ns, 1000000u);
        EXPECT_LT(t_ns, 1200000u);
    }
    EXPECT_EQ(n, 3);
    EXPECT_EQ(a.Skipped("added: synthesized DMA"), 3u);
    auto o = replay_test::run_files({replay_test::write_trace("imp_f_synth.ist", a.text)});
    EXPECT_EQ(o.status, 0) << o.error << o.report << a.text;
    EXPECT_EQ(o.num("dma.count"), 3);
    EXPECT_EQ(o.num("expect.failures"), 0);
}

TEST(ImportFtrace, BadLinesAreCountedOrStrictErrors)
{
    const std::string t =
        std::string(kHeader) + Ev("a-1", "1.000000", "attach_device_to_domain", "IOMMU: device=0000:01:00.0") +
        "this is not ftrace\n" + Ev("a-1", "1.000200", "sched_switch", "prev_comm=a next_comm=b") +
        Ev("a-1", "1.000300", "map", "IOMMU: iova=0x0000000000001000 - 0x0000000000002000 paddr=0x0000000000005000") +
        Ev("a-1", "0.500000", "map", "IOMMU: iova=0x0000000000003000 - 0x0000000000004000 "
                                     "paddr=0x0000000000006000 size=4096") +
        "CPU:0 [LOST 12 EVENTS]\n";
    Imported im;
    Import(im, t);
    ASSERT_EQ(im.rc, 0) << im.err;
    EXPECT_EQ(im.Skipped("malformed map line"), 1u);
    EXPECT_EQ(im.Skipped("not an ftrace event line"), 1u);
    EXPECT_EQ(im.Skipped("unknown event sched_switch"), 1u);
    EXPECT_EQ(im.Skipped("ftrace lost-events marker"), 1u);
    EXPECT_EQ(im.sum.time_backwards, 1u);
    EXPECT_EQ(im.With("guest.map", true).size(), 1u);

    struct {
        std::string body, msg;
    } strict[] = {
        {Ev("a-1", "1.0", "map", "IOMMU: iova=0x0000000000001000 - 0x0000000000002000"), "t.txt:7: malformed map"},
        {"this is not ftrace\n", "t.txt:7: not an ftrace event line"},
        {Ev("a-1", "1.0", "sched_switch", "x"), "t.txt:7: unknown event sched_switch"},
        {Ev("a-1", "2.0", "qi_submit", "cc_inv dmar0: 0x11 0x0 0x0 0x0") +
             Ev("a-1", "1.0", "qi_submit", "cc_inv dmar0: 0x11 0x0 0x0 0x0"),
         "t.txt:8: timestamp goes back"},
    };
    for (const auto &s : strict) {
        Imported st;
        Import(st, kHeader + s.body, [](ims_import_opts &o) { o.strict = true; });
        EXPECT_LT(st.rc, 0) << s.body;
        EXPECT_EQ(st.err.rfind(s.msg, 0), 0u) << st.err;
    }
}

TEST(ImportFtrace, WrappedAndTruncatedLines)
{
    std::string t = std::string(kHeader) + Ev("a-1", "1.0", "attach_device_to_domain", "IOMMU: device=0000:01:00.0") +
                    Ev("a-1", "1.1", "map", "IOMMU: iova=0x0000000000001000 - 0x0000000000002000") +
                    "   paddr=0x0000000000005000 size=4096\n" + // wrapped by a mail client
                    Ev("a-1", "1.2", "unmap", "IOMMU: iova=0x0000000000001000 - 0x0000000000002000 size=4");
    // ... and the last line was cut.
    Imported im;
    Import(im, t);
    ASSERT_EQ(im.rc, 0) << im.err;
    EXPECT_EQ(im.With("guest.map", true).size(), 1u);
    EXPECT_EQ(im.Skipped("adjusted: continuation line joined"), 1u);
    EXPECT_EQ(im.Skipped("malformed unmap line"), 1u);
}

TEST(ImportFtrace, MarkersBecomePhases)
{
    std::string t = std::string(kHeader) + Ev("init-1", "1.0", "tracing_mark_write", "ims workload begin") +
                    Ev("init-1", "1.5", "tracing_mark_write", "ims workload begin") +
                    Ev("init-1", "2.0", "tracing_mark_write", "42 start!") +
                    Ev("init-1", "2.5", "tracing_mark_write", "start");
    Imported im;
    Import(im, t, [](ims_import_opts &o) { o.strict = true; });
    ASSERT_EQ(im.rc, 0) << im.err;
    std::vector<std::string> want = {"vm id=1 mem=1G", "@0ns mark name=ims_workload_begin",
                                     "@500ms mark name=ims_workload_begin_2", "@1s mark name=m42_start_",
                                     "@1500ms mark name=start_2"};
    EXPECT_EQ(im.Lines(), want);
    auto o = replay_test::run_files({replay_test::write_trace("imp_f_marks.ist", im.text)});
    EXPECT_EQ(o.status, 0) << o.error;
    EXPECT_TRUE(o.has("phase.ims_workload_begin_2.sim.records"));
}

TEST(ImportFtrace, NonPciDeviceGetsASyntheticSid)
{
    std::string t = std::string(kHeader) + Ev("a-1", "1.0", "dma_map_page",
                                               "idxd.wq0 dir=TO_DEVICE dma_addr=1000 size=4096 phys_addr=5000 attrs=");
    Imported im;
    Import(im, t);
    ASSERT_EQ(im.rc, 0) << im.err;
    EXPECT_EQ(im.Lines()[1], "device sid=0xff00 vm=1 name=dev_idxd.wq0");
}

TEST(ImportFtrace, RealCapturesReplay)
{
    for (const char *mode : {"legacy", "scalable"}) {
        std::string path = std::string(IMS_SOURCE_DIR) + "/tests/importers/captures/" + mode + "/guest-ftrace.txt";
        if (!std::ifstream(path).good())
            GTEST_SKIP() << "no capture at " << path;
        for (auto level : {IMS_IMPORT_LEVEL_GUEST, IMS_IMPORT_LEVEL_HOST}) {
            std::string out = replay_test::temp_path(std::string("imp_fcap_") + mode + ".ist");
            ims_import_opts o;
            ims_import_opts_init(&o);
            o.level = level;
            o.synth_dma = 2;
            o.seed = 5;
            o.guest_expect = true;
            o.guest_expect_base = IMS_IMPORT_DEFAULT_HPA_BASE;
            ims_import_summary sum{};
            ims_error err{};
            ASSERT_EQ(ims_import_file(IMS_IMPORT_FTRACE, path.c_str(), out.c_str(), &o, &sum, &err), 0) << err.msg;
            EXPECT_GT(sum.used, 1000u);
            EXPECT_EQ(sum.time_backwards, 0u);
            ims_import_summary_free(&sum);
            auto r = replay_test::run_files({out});
            EXPECT_EQ(r.status, 0) << mode << " level " << level << ": " << r.error << r.report;
            EXPECT_GT(r.num("dma.count"), 1000);
            EXPECT_EQ(r.num("expect.failures"), 0);
            EXPECT_EQ(r.num("checker.violations"), 0);
        }
    }
}

} // namespace
