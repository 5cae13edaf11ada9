// iommusim import qemu-vtd: QEMU vtd_* log lines (formats of hw/i386/trace-events,
// QEMU 7.2+) -> trace records, robustness, and replay of the output.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "import_test_util.h"
#include "replay_harness.h"

namespace {

using import_test::Has;
using import_test::Imported;

void Import(Imported &out, const std::string &log, const std::function<void(ims_import_opts &)> &tweak = {})
{
    import_test::Import(out, IMS_IMPORT_QEMU_VTD, log, "q.log", tweak);
}

// One DMA of device 00:03.0 (SID 0x18) as QEMU 7.2 logs it with -msg timestamp=on.
const char *kOneDma =
    "1234@1700000000.000100:vtd_dmar_enable enable 1\n"
    "1234@1700000000.000200:vtd_iotlb_page_update IOTLB page update sid 0x18 iova 0x1040 slpte 0x2003 domain 0x1\n"
    "1234@1700000000.000201:vtd_dmar_translate dev 00:03.00 iova 0x1000 -> gpa 0x2000 mask 0xfff\n"
    "1234@1700000000.000210:vtd_iotlb_page_hit IOTLB page hit sid 0x18 iova 0x1080 slpte 0x2003 domain 0x1\n"
    "1234@1700000000.000211:vtd_dmar_translate dev 00:03.00 iova 0x1000 -> gpa 0x2000 mask 0xfff\n";

TEST(ImportQemu, TranslationBecomesHostMapAndExactDma)
{
    Imported im;
    Import(im, kOneDma);
    ASSERT_EQ(im.rc, 0) << im.err;
    auto l = im.Lines();
    ASSERT_GE(l.size(), 7u);
    EXPECT_EQ(l[0], "device sid=0x18");
    EXPECT_EQ(l[1], "iommufd.ioas_alloc out=as_0018");
    EXPECT_EQ(l[2], "iommufd.attach dev=0x18 pt=as_0018");
    EXPECT_EQ(l[3], "mark name=capture");
    // The first translation maps the page (hpa = 4G + gpa) and the exact
    // address of the update line is the DMA's; the hit 10 us later is +10us.
    EXPECT_EQ(l[4], "iommufd.ioas_map ioas=as_0018 iova=0x1000 len=4K hpa=0x100002000");
    EXPECT_EQ(l[5], "dma dev=0x18 iova=0x1040 len=64 rd expect=0x100002040");
    EXPECT_EQ(l[6], "+10us dma dev=0x18 iova=0x1080 len=64 rd expect=0x100002080");
    EXPECT_EQ(l.size(), 7u);
    EXPECT_EQ(im.sum.devices, 1u);
    EXPECT_EQ(im.sum.events, 5u);
    EXPECT_EQ(im.sum.used, 5u);
    EXPECT_EQ(im.sum.records, 7u);
}

TEST(ImportQemu, EveryPrefixFormGivesTheSameRecords)
{
    const std::string body[] = {
        "vtd_iotlb_page_update IOTLB page update sid 0x18 iova 0x1040 slpte 0x2003 domain 0x1",
        "vtd_dmar_translate dev 00:03.00 iova 0x1000 -> gpa 0x2000 mask 0xfff",
        "vtd_iotlb_page_hit IOTLB page hit sid 0x18 iova 0x1080 slpte 0x2003 domain 0x1",
        "vtd_dmar_translate dev 00:03.00 iova 0x1000 -> gpa 0x2000 mask 0xfff",
    };
    const char *us[] = {"000100", "000101", "000301", "000302"};
    std::string pid, iso, ctx, none;
    for (int i = 0; i < 4; i++) {
        pid += std::string("77@1700000001.") + us[i] + ":" + body[i] + "\n";
        iso += std::string("2024-01-01T00:00:00.") + us[i] + "Z " + body[i] + "\n";
        // QEMU 10.x message context: time, guest name, program, thread.
        ctx += std::string("2024-01-01T00:00:00.") + us[i] + "Z [my vm] qemu-system-x86_64: (4321:CPU 0/TCG): " +
               body[i] + "\n";
        none += body[i] + "\n";
    }
    Imported a, b, c, d;
    Import(a, pid);
    Import(b, iso);
    Import(c, ctx);
    Import(d, none);
    ASSERT_EQ(a.rc, 0) << a.err;
    auto la = a.Lines();
    EXPECT_EQ(la, b.Lines());
    EXPECT_EQ(la, c.Lines());
    EXPECT_TRUE(Has(la, "+201us dma dev=0x18 iova=0x1080 len=64 rd expect=0x100002080"));
    // Without timestamps there are no time prefixes at all.
    EXPECT_TRUE(Has(d.Lines(), "dma dev=0x18 iova=0x1080 len=64 rd expect=0x100002080"));
    EXPECT_EQ(d.Skipped(""), 0u);
}

TEST(ImportQemu, AbsoluteTimeStartsAtTheOffset)
{
    Imported im;
    Import(im, kOneDma, [](ims_import_opts &o) { o.time = IMS_IMPORT_TIME_ABS; });
    ASSERT_EQ(im.rc, 0) << im.err;
    auto l = im.Lines();
    // Time 0 is the first event that became a record (the update line, not
    // vtd_dmar_enable), plus the host-level offset of 1 ms.
    EXPECT_TRUE(Has(l, "@1ms iommufd.ioas_map ioas=as_0018 iova=0x1000 len=4K hpa=0x100002000"));
    EXPECT_TRUE(Has(l, "@1ms dma dev=0x18 iova=0x1040 len=64 rd expect=0x100002040"));
    EXPECT_TRUE(Has(l, "@1010us dma dev=0x18 iova=0x1080 len=64 rd expect=0x100002080"));
}

TEST(ImportQemu, LargePageAndPageStartWithoutHitLine)
{
    Imported im;
    Import(im, "vtd_dmar_translate dev 00:03.00 iova 0x200000 -> gpa 0x40000000 mask 0x1fffff\n"
               "vtd_dmar_translate dev 00:03.00 iova 0x201000 -> gpa 0x40001000 mask 0xfff\n");
    ASSERT_EQ(im.rc, 0) << im.err;
    auto l = im.Lines();
    EXPECT_TRUE(Has(l, "iommufd.ioas_map ioas=as_0018 iova=0x200000 len=2M hpa=0x140000000"));
    EXPECT_TRUE(Has(l, "dma dev=0x18 iova=0x200000 len=64 rd expect=0x140000000"));
    // The 4K translation inside the 2M page agrees with it: nothing to map.
    EXPECT_EQ(im.With("iommufd.ioas_map").size(), 1u);
    EXPECT_TRUE(Has(l, "dma dev=0x18 iova=0x201000 len=64 rd expect=0x140001000"));
    EXPECT_EQ(im.Skipped("adjusted: DMA at the page start"), 2u);
}

TEST(ImportQemu, HitAndUpdateLinesAloneAreDmas)
{
    // No vtd_dmar_translate lines: the PTE gives the page (PS=1 -> 2M).
    Imported im;
    Import(im, "vtd_iotlb_page_update IOTLB page update sid 0x10 iova 0x5123 slpte 0x7003 domain 0x2\n"
               "vtd_iotlb_page_hit IOTLB page hit sid 0x10 iova 0x403456 slpte 0x80000083 domain 0x2\n");
    ASSERT_EQ(im.rc, 0) << im.err;
    auto l = im.Lines();
    EXPECT_TRUE(Has(l, "iommufd.ioas_map ioas=as_0010 iova=0x5000 len=4K hpa=0x100007000"));
    EXPECT_TRUE(Has(l, "dma dev=0x10 iova=0x5123 len=64 rd expect=0x100007123"));
    EXPECT_TRUE(Has(l, "iommufd.ioas_map ioas=as_0010 iova=0x400000 len=2M hpa=0x180000000"));
    EXPECT_TRUE(Has(l, "dma dev=0x10 iova=0x403456 len=64 rd expect=0x180003456"));
}

TEST(ImportQemu, TranslationsBeforeRemappingIsEnabledAreSkipped)
{
    Imported im;
    Import(im, "vtd_dmar_translate dev 00:03.00 iova 0x9000 -> gpa 0x9000 mask 0xfff\n"
               "vtd_dmar_enable enable 1\n"
               "vtd_dmar_translate dev 00:03.00 iova 0x1000 -> gpa 0x2000 mask 0xfff\n");
    ASSERT_EQ(im.rc, 0) << im.err;
    EXPECT_EQ(im.With("dma").size(), 1u);
    EXPECT_EQ(im.Skipped("vtd_dmar_translate before the guest enabled"), 1u);
}

TEST(ImportQemu, FaultBecomesExpectFaultAndUnmapsFirst)
{
    const std::string log = std::string(kOneDma) +
                            "1234@1700000000.000300:vtd_dmar_fault sid 0x18 fault 6 addr 0x1100 write 1\n"
                            "1234@1700000000.000301:vtd_frr_new index 0 high 0x600000018 low 0x1000\n";
    Imported im;
    Import(im, log);
    ASSERT_EQ(im.rc, 0) << im.err;
    auto l = im.Lines();
    // The page the importer had mapped goes first, so the replay faults too.
    EXPECT_TRUE(Has(l, "+89us iommufd.ioas_unmap ioas=as_0018 iova=0x1000 len=4K"));
    EXPECT_TRUE(Has(l, "dma dev=0x18 iova=0x1100 len=64 wr expect=fault"));
    // vtd_frr_new records the same fault: not a second DMA.
    EXPECT_EQ(im.With("dma").size(), 3u);
    EXPECT_EQ(im.Skipped("vtd_frr_new"), 1u);

    Imported ex;
    Import(ex, log, [](ims_import_opts &o) { o.exact_fault_reason = true; });
    EXPECT_TRUE(Has(ex.Lines(), "dma dev=0x18 iova=0x1100 len=64 wr expect=fault:0x6"));
}

TEST(ImportQemu, FaultRecordAloneDecodesTheFrcd)
{
    // vtd-facts §1.9: FRCD qw1 holds SID [15:0], FR [39:32], T1 [62] (1 = read);
    // qw0 the faulting page. Here SID 0x20, FR 0x71, a read of 0x7000.
    Imported im;
    Import(im, "vtd_frr_new index 3 high 0x4000007100000020 low 0x7000\n",
           [](ims_import_opts &o) { o.exact_fault_reason = true; });
    ASSERT_EQ(im.rc, 0) << im.err;
    auto l = im.Lines();
    EXPECT_EQ(l[0], "device sid=0x20");
    EXPECT_TRUE(Has(l, "dma dev=0x20 iova=0x7000 len=64 rd expect=fault:0x71"));
}

TEST(ImportQemu, DescriptorsBecomeGuestQueueSubmissions)
{
    // vtd-facts §4.3: IOTLB invalidate, type 2, G qw0[5:4] (3 = page), DID qw0[31:16];
    // §4.6: type 5 is the wait, which becomes guest.qi_sync.
    Imported im;
    Import(im,
           "vtd_inv_desc invalidate desc type iotlb high 0x1000 low 0x10032\n"
           "vtd_inv_desc_iotlb_pages iotlb invalidate domain 0x1 addr 0x1000 mask 0x0\n"
           "vtd_inv_desc invalidate desc type wait high 0x3250000 low 0x100000025\n"
           "vtd_inv_desc_wait_sw wait invalidate status write addr 0x3250000 data 0x1\n",
           [](ims_import_opts &o) { o.level = IMS_IMPORT_LEVEL_GUEST; });
    ASSERT_EQ(im.rc, 0) << im.err;
    auto l = im.Lines();
    EXPECT_EQ(l[0], "vm id=1 mem=1G");
    EXPECT_TRUE(Has(l, "guest.qi vm=1 q0=0x10032 q1=0x1000"));
    EXPECT_TRUE(Has(l, "guest.qi_sync vm=1"));
    EXPECT_EQ(im.With("guest.qi").size(), 2u);
    EXPECT_EQ(im.Skipped("vtd_inv_desc_*: the decoding"), 2u);

    // At the host level the host driver invalidates on unmap: nothing is written.
    Imported host;
    Import(host, "vtd_inv_desc invalidate desc type iotlb high 0x1000 low 0x10032\n");
    EXPECT_EQ(host.Lines().size(), 0u);
    EXPECT_EQ(host.Skipped("invalidation descriptor (host level"), 1u);
}

TEST(ImportQemu, DecodedEventsAloneRebuildTheDescriptor)
{
    Imported im;
    Import(im,
           "vtd_inv_desc_iotlb_pages iotlb invalidate domain 0x1 addr 0x1000 mask 0x0\n"
           "vtd_inv_desc_iotlb_domain iotlb invalidate whole domain 0x3\n"
           "vtd_inv_desc_cc_global context invalidate globally\n"
           "vtd_inv_desc_cc_devices context invalidate devices sid 0x18 fmask 0x0\n"
           "vtd_inv_desc_cc_device context invalidate device 00:03.00\n"
           "vtd_inv_desc_wait_sw wait invalidate status write addr 0x3250000 data 0x1\n",
           [](ims_import_opts &o) { o.level = IMS_IMPORT_LEVEL_GUEST; });
    ASSERT_EQ(im.rc, 0) << im.err;
    auto l = im.Lines();
    EXPECT_TRUE(Has(l, "guest.qi vm=1 q0=0x10032 q1=0x1000"));     // PSI, DID 1 (§4.3)
    EXPECT_TRUE(Has(l, "guest.qi vm=1 q0=0x30022 q1=0x0"));        // DSI (G=2), DID 3
    EXPECT_TRUE(Has(l, "guest.qi vm=1 q0=0x11 q1=0x0"));           // cc global (§4.2: G=1)
    EXPECT_TRUE(Has(l, "guest.qi vm=1 q0=0x1800000031 q1=0x0"));   // cc device, SID qw0[47:32]
    EXPECT_TRUE(Has(l, "guest.qi_sync vm=1"));
    EXPECT_EQ(im.With("guest.qi ").size(), 4u); // cc_device repeats the cc_devices match
}

TEST(ImportQemu, InvalidationUnmapsWhatItCoversAndTheNextTranslationMapsAgain)
{
    Imported im;
    Import(im, std::string(kOneDma) +
                   "vtd_inv_desc invalidate desc type iotlb high 0x1000 low 0x10032\n"
                   "vtd_iotlb_page_update IOTLB page update sid 0x18 iova 0x1000 slpte 0x9003 domain 0x1\n"
                   "vtd_dmar_translate dev 00:03.00 iova 0x1000 -> gpa 0x9000 mask 0xfff\n");
    ASSERT_EQ(im.rc, 0) << im.err;
    auto maps = im.With("iommufd.ioas_map"), unmaps = im.With("iommufd.ioas_unmap");
    ASSERT_EQ(unmaps.size(), 1u);
    EXPECT_EQ(unmaps[0], "iommufd.ioas_unmap ioas=as_0018 iova=0x1000 len=4K");
    ASSERT_EQ(maps.size(), 2u);
    EXPECT_EQ(maps[1], "iommufd.ioas_map ioas=as_0018 iova=0x1000 len=4K hpa=0x100009000");
    EXPECT_TRUE(Has(im.Lines(), "dma dev=0x18 iova=0x1000 len=64 rd expect=0x100009000"));
}

TEST(ImportQemu, DeviceTlbInvalidationMarksTheDeviceAts)
{
    // vtd-facts §4.4: device-TLB invalidate, type 3, SID qw0[47:32].
    Imported im;
    Import(im, "vtd_inv_desc invalidate desc type device high 0x7ffffffffffff001 low 0x1800000003\n");
    ASSERT_EQ(im.rc, 0) << im.err;
    EXPECT_EQ(im.Lines()[0], "device sid=0x18 ats");
}

TEST(ImportQemu, BadLinesAreCountedOrStrictErrors)
{
    const std::string log =
        "vtd_dmar_translate dev 00:03.00 iova 0x1000 -> gpa 0x2000\n"     // truncated: no mask
        "1234@1700000000.000300:vtd_dmar_fault sid 0x18 fault 6 addr 0x5000 write 1\n"
        "complete garbage here\n"
        "vtd_something_new arg 1\n"                                        // unknown event
        "1234@1700000000.000100:vtd_dmar_fault sid 0x18 fault 6 addr 0x6000 write 0\n"; // back in time
    Imported im;
    Import(im, log);
    ASSERT_EQ(im.rc, 0) << im.err;
    EXPECT_EQ(im.Skipped("malformed vtd_dmar_translate"), 1u);
    EXPECT_EQ(im.Skipped("not a QEMU trace line"), 1u);
    EXPECT_EQ(im.Skipped("unknown event vtd_something_new"), 1u);
    EXPECT_EQ(im.sum.time_backwards, 1u);
    EXPECT_EQ(im.With("dma").size(), 2u);
    EXPECT_EQ(im.sum.lines, 5u);

    struct {
        std::string text, msg;
    } strict[] = {
        {"vtd_dmar_translate dev 00:03.00 iova 0x1000 -> gpa 0x2000\n", "q.log:1: malformed vtd_dmar_translate"},
        {"vtd_dmar_enable enable 1\ncomplete garbage here\n", "q.log:2: not a QEMU trace line"},
        {"vtd_dmar_enable enable 1\nvtd_something_new arg 1\n", "q.log:2: unknown event vtd_something_new"},
        {"5@2.5:vtd_dmar_enable enable 1\n5@1.5:vtd_dmar_enable enable 1\n", "q.log:2: timestamp goes back"},
    };
    for (const auto &s : strict) {
        Imported st;
        Import(st, s.text, [](ims_import_opts &o) { o.strict = true; });
        EXPECT_LT(st.rc, 0) << s.text;
        EXPECT_EQ(st.err.rfind(s.msg, 0), 0u) << st.err;
        EXPECT_EQ(st.text, "") << "nothing is written when the input fails";
    }
}

TEST(ImportQemu, WrappedLineIsJoined)
{
    // A mail client broke the line at a space.
    Imported im;
    Import(im, "vtd_dmar_translate dev 00:03.00 iova 0x1000 -> gpa 0x2000\n"
               "    mask 0xfff\n");
    ASSERT_EQ(im.rc, 0) << im.err;
    EXPECT_TRUE(Has(im.Lines(), "dma dev=0x18 iova=0x1000 len=64 rd expect=0x100002000"));
    EXPECT_EQ(im.Skipped("adjusted: continuation line joined"), 1u);
    EXPECT_EQ(im.Skipped("malformed"), 0u);
}

TEST(ImportQemu, HostOutputReplaysWithoutFailures)
{
    const std::string log = std::string(kOneDma) +
                            "1234@1700000000.000300:vtd_dmar_fault sid 0x18 fault 6 addr 0x1100 write 1\n"
                            "1234@1700000000.000400:vtd_inv_desc invalidate desc type iotlb high 0x1000 low 0x10032\n"
                            "1234@1700000000.000500:vtd_dmar_translate dev 00:03.00 iova 0x1000 -> gpa 0x9000 mask "
                            "0xfff\n";
    for (auto t : {IMS_IMPORT_TIME_REL, IMS_IMPORT_TIME_ABS, IMS_IMPORT_TIME_NONE}) {
        Imported im;
        Import(im, log, [t](ims_import_opts &o) { o.time = t; });
        ASSERT_EQ(im.rc, 0) << im.err;
        auto o = replay_test::run_files({replay_test::write_trace("imp_q_" + std::to_string(t) + ".ist", im.text)});
        EXPECT_EQ(o.status, 0) << o.error << o.report << im.text;
        EXPECT_EQ(o.num("expect.failures"), 0);
        EXPECT_EQ(o.num("dma.count"), 4);
        // Open loop (abs): the DMA issued with the unmap may still use the old
        // translation, which its expect= allows.
        if (t == IMS_IMPORT_TIME_ABS) {
            EXPECT_LE(o.num("dma.faults"), 1);
        } else {
            EXPECT_EQ(o.num("dma.faults"), 1);
        }
        EXPECT_EQ(o.num("checker.violations"), 0);
    }
}

TEST(ImportQemu, FileApiWritesAndRemovesOnFailure)
{
    std::string in = replay_test::write_trace("imp_q_in.log", kOneDma);
    std::string out = replay_test::temp_path("imp_q_out.ist");
    ims_import_opts o;
    ims_import_opts_init(&o);
    ims_import_summary sum{};
    ims_error err{};
    ASSERT_EQ(ims_import_file(IMS_IMPORT_QEMU_VTD, in.c_str(), out.c_str(), &o, &sum, &err), 0) << err.msg;
    std::ifstream f(out);
    std::string first;
    std::getline(f, first);
    EXPECT_EQ(first.rfind("# imported by 'iommusim import qemu-vtd'", 0), 0u);
    ims_import_summary_free(&sum);

    std::string bad = replay_test::write_trace("imp_q_bad.log", "garbage\n");
    o.strict = true;
    EXPECT_LT(ims_import_file(IMS_IMPORT_QEMU_VTD, bad.c_str(), out.c_str(), &o, &sum, &err), 0);
    EXPECT_EQ(std::string(err.msg).rfind(bad + ":1: not a QEMU trace line", 0), 0u) << err.msg;
    EXPECT_FALSE(std::ifstream(out).good()) << "the failed import's output is removed";
    EXPECT_LT(ims_import_file(IMS_IMPORT_QEMU_VTD, "/nonexistent/x.log", out.c_str(), &o, &sum, &err), 0);
    ims_import_summary_free(&sum);
}

// The real captures of tools/capture (tests/importers/captures): every level
// and time mode imports, validates and replays with no failed expectation.
TEST(ImportQemu, RealCapturesReplay)
{
    for (const char *mode : {"legacy", "scalable"}) {
        std::string path = std::string(IMS_SOURCE_DIR) + "/tests/importers/captures/" + mode + "/qemu-vtd.log";
        if (!std::ifstream(path).good())
            GTEST_SKIP() << "no capture at " << path;
        for (auto level : {IMS_IMPORT_LEVEL_HOST, IMS_IMPORT_LEVEL_GUEST}) {
            for (auto t : {IMS_IMPORT_TIME_REL, IMS_IMPORT_TIME_ABS}) {
                std::string out = replay_test::temp_path(std::string("imp_cap_") + mode + ".ist");
                ims_import_opts o;
                ims_import_opts_init(&o);
                o.level = level;
                o.time = t;
                o.guest_expect = true;
                o.guest_expect_base = IMS_IMPORT_DEFAULT_HPA_BASE;
                ims_import_summary sum{};
                ims_error err{};
                ASSERT_EQ(ims_import_file(IMS_IMPORT_QEMU_VTD, path.c_str(), out.c_str(), &o, &sum, &err), 0)
                    << err.msg;
                EXPECT_GT(sum.used, 100u);
                EXPECT_EQ(sum.devices, 1u);
                ims_import_summary_free(&sum);
                auto r = replay_test::run_files({out});
                EXPECT_EQ(r.status, 0) << mode << " level " << level << ": " << r.error << r.report;
                EXPECT_GT(r.num("dma.count"), 100);
                EXPECT_EQ(r.num("expect.failures"), 0);
                EXPECT_EQ(r.num("checker.violations"), 0);
            }
        }
    }
}

} // namespace
