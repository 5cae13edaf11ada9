// Guest and VMM models end to end through the replay: nested vs shadow
// vIOMMU, strict vs lazy unmap, vSVA, the guest-level coherence check, and the
// end-to-end invalidation split (docs/guest-vmm.md).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "tests/replay_harness.h"

using replay_test::Outcome;
using replay_test::run_text;

namespace {

// The first VM's RAM is the first host allocation: host.mem_base (4 GiB),
// 1 GiB aligned (vmm.h), so HPA = 0x100000000 + GPA.
constexpr unsigned long long kRam = 0x100000000ULL;

std::string hex(unsigned long long v)
{
    char b[32];
    snprintf(b, sizeof b, "0x%llx", v);
    return b;
}

std::string vm(const char *mode, const char *dev_flags = "ats")
{
    return std::string("vm id=1 mem=256M mode=") + mode + "\ndevice sid=0x0300 name=nic vm=1 " + dev_flags + "\n";
}

// Maps of 4 KiB, 8 KiB and 2 MiB (a large page), DMAs with the host-physical
// address each must reach, an unmap and a remap to another GPA.
std::string workload()
{
    std::string t;
    t += "guest.map vm=1 dev=nic iova=0x100000 gpa=0x200000 len=8K\n";
    t += "guest.map vm=1 dev=nic iova=0x40000000 gpa=0x800000 len=2M\n";
    t += "guest.map vm=1 dev=nic iova=0x300000 gpa=0x5000 len=4K prot=r\n";
    t += "dma dev=nic iova=0x100010 len=64 wr expect=" + hex(kRam + 0x200010) + "\n";
    t += "dma dev=nic iova=0x101000 len=64 rd expect=" + hex(kRam + 0x201000) + "\n";
    t += "dma dev=nic iova=0x40123456 len=64 rd expect=" + hex(kRam + 0x923456) + "\n";
    t += "dma dev=nic iova=0x300000 len=64 rd expect=" + hex(kRam + 0x5000) + "\n";
    t += "dma dev=nic iova=0x300000 len=64 wr expect=fault\n"; // read-only mapping
    t += "dma dev=nic iova=0x500000 len=64 rd expect=fault\n"; // never mapped
    t += "guest.unmap vm=1 dev=nic iova=0x100000 len=8K\n";
    t += "dma dev=nic iova=0x100010 len=64 wr expect=fault\n";
    t += "guest.map vm=1 dev=nic iova=0x100000 gpa=0x700000 len=4K\n";
    t += "dma dev=nic iova=0x100010 len=64 wr expect=" + hex(kRam + 0x700010) + "\n";
    t += "drain\n";
    return t;
}

void expect_clean(const Outcome &o)
{
    ASSERT_EQ(o.status, IOMMUSIM_EXIT_OK) << o.error << o.report;
    EXPECT_EQ(o.num("expect.failures"), 0);
    EXPECT_EQ(o.num("checker.violations"), 0);
}

} // namespace

// The differential test: both vIOMMU designs give the same translated
// addresses for the same workload (each DMA's expect= is the same HPA).
TEST(GuestVmm, NestedAndShadowTranslateIdentically)
{
    Outcome n = run_text("gv_nested.ist", vm("nested") + workload());
    Outcome s = run_text("gv_shadow.ist", vm("shadow") + workload());
    expect_clean(n);
    expect_clean(s);
    EXPECT_EQ(n.num("dma.count"), 8);
    EXPECT_EQ(s.num("dma.count"), 8);
    EXPECT_EQ(n.num("dma.faults"), 3);
    EXPECT_EQ(s.num("dma.faults"), 3);
    // Only their mechanisms differ: nested forwards invalidations to the host
    // (the new PASID entry's PASID-selective flush, then one for the unmap),
    // shadow mirrors mappings.
    EXPECT_EQ(n.num("vmm.hwpt_invalidates"), 2);
    EXPECT_EQ(n.num("vmm.shadow_maps"), 0);
    EXPECT_EQ(s.num("vmm.hwpt_invalidates"), 0);
    // shadow: one IOAS_MAP per leaf (2 + 1 + 1 and the remap), one unmap per
    // unmapped 4 KiB leaf
    EXPECT_EQ(s.num("vmm.shadow_maps"), 5);
    EXPECT_EQ(s.num("vmm.shadow_unmaps"), 2);
}

// Caching mode makes a second-stage (shadow) guest invalidate on map too
// (iommufd-facts §2.8: cache_tag_flush_range_np under CM for non-first-stage
// domains); a first-stage (nested) guest does not.
TEST(GuestVmm, ShadowGuestInvalidatesOnMapNestedDoesNot)
{
    std::string body = "guest.map vm=1 dev=nic iova=0x100000 gpa=0x200000 len=4K\n"
                       "guest.map vm=1 dev=nic iova=0x101000 gpa=0x201000 len=4K\n";
    Outcome n = run_text("gv_map_n.ist", vm("nested") + "mark name=maps\n" + body);
    Outcome s = run_text("gv_map_s.ist", vm("shadow") + "mark name=maps\n" + body);
    expect_clean(n);
    expect_clean(s);
    // The first map also sets the domain up (one exit); shadow adds one exit per map.
    EXPECT_EQ(n.num("phase.maps.vmm.exits"), 1);
    EXPECT_EQ(s.num("phase.maps.vmm.exits"), 3);
}

// Strict unmap: the invalidation is split by layer and the layers add up to
// the total; the nested total lands near the calibration figure (calibration.md:
// nested guest qi_submit_sync 8.6-9.4 us mean at 1-8 flows).
TEST(GuestVmm, StrictNestedInvalidationSplitsByLayer)
{
    std::string t = vm("nested") + "guest.map vm=1 dev=nic iova=0x100000 gpa=0x200000 len=4K\n"
                                   "dma dev=nic iova=0x100000 len=64 wr\n"
                                   "mark name=unmap\n"
                                   "guest.unmap vm=1 dev=nic iova=0x100000 len=4K\n";
    Outcome o = run_text("gv_layers.ist", t);
    expect_clean(o);
    const std::string p = "phase.unmap.inv.e2e.";
    ASSERT_EQ(o.num(p + "total_ns.count"), 1);
    double sum = 0;
    for (const char *layer : {"guest", "exit", "vmm", "host", "hw_qi", "devtlb"}) {
        double v = o.num(p + layer + "_ns.mean");
        EXPECT_GE(v, 0) << layer;
        sum += v;
    }
    EXPECT_NEAR(sum, o.num(p + "total_ns.mean"), 5.0);
    EXPECT_GT(o.num(p + "hw_qi_ns.mean"), 0);
    EXPECT_GT(o.num(p + "devtlb_ns.mean"), 0); // the device has ATS: the host flushes its device-TLB
    EXPECT_GE(o.num(p + "total_ns.mean"), 7000);
    EXPECT_LE(o.num(p + "total_ns.mean"), 11000);
    // exposure: from the PTE clear to the guest seeing the invalidation done
    EXPECT_GT(o.num("phase.unmap.inv.exposure_ns.mean"), 0);
    EXPECT_LE(o.num("phase.unmap.inv.exposure_ns.mean"), o.num(p + "total_ns.mean") + 1000);
}

// Lazy unmap: no invalidation per unmap; a flush when the queue holds
// guest.flush_queue_entries, or guest.flush_queue_timeout after the first.
// Every exposure window is bounded by the timeout plus one flush.
TEST(GuestVmm, LazyExposureBoundedByFlushQueueLimits)
{
    std::string t = vm("nested") + "mark name=run\n";
    for (int i = 0; i < 10; i++) {
        char b[256];
        snprintf(b, sizeof b,
                 "guest.map vm=1 dev=nic iova=0x%x gpa=0x200000 len=4K\n"
                 "dma dev=nic iova=0x%x len=64 wr\n"
                 "guest.unmap vm=1 dev=nic iova=0x%x len=4K\n",
                 0x100000 + i * 0x1000, 0x100000 + i * 0x1000, 0x100000 + i * 0x1000);
        t += b;
    }
    t += "drain\n";
    Outcome lazy = run_text("gv_lazy.ist", t,
                            {"guest.unmap_policy=lazy", "guest.flush_queue_entries=4",
                             "guest.flush_queue_timeout=200us"});
    Outcome strict = run_text("gv_strict.ist", t);
    expect_clean(lazy);
    expect_clean(strict);
    // 10 unmaps: two flushes at 4 entries, the last 2 by the timer
    EXPECT_EQ(lazy.num("phase.run.guest.fq_flushes"), 3);
    EXPECT_EQ(lazy.num("phase.run.inv.exposure_ns.count"), 10);
    EXPECT_LE(lazy.num("phase.run.inv.exposure_ns.max"), 200000 + 20000);
    EXPECT_GT(lazy.num("phase.run.inv.exposure_ns.max"), 150000); // the timer-flushed ones waited
    EXPECT_LT(lazy.num("phase.run.inv.e2e.total_ns.count"), strict.num("phase.run.inv.e2e.total_ns.count"));
    EXPECT_GT(lazy.num("phase.run.inv.exposure_ns.mean"), strict.num("phase.run.inv.exposure_ns.mean"));
}

// A guest that skips an invalidation: it clears the PTE (lazy unmap queues the
// flush), then only synchronises (a wait descriptor) and uses the IOVA again.
// The stale translation is then used after the guest's synchronisation point:
// the guest-level checker reports it in both designs (in shadow mode the
// hardware's tables never changed, only the guest's did).
TEST(GuestVmm, CheckerCatchesAGuestThatSkipsAnInvalidation)
{
    for (const char *mode : {"nested", "shadow"}) {
        std::string t = vm(mode, "") + "guest.map vm=1 dev=nic iova=0x100000 gpa=0x200000 len=4K\n"
                                       "dma dev=nic iova=0x100000 len=64 wr\n"
                                       "guest.unmap vm=1 dev=nic iova=0x100000 len=4K\n"
                                       "guest.qi_sync vm=1\n"
                                       "dma dev=nic iova=0x100000 len=64 wr\n";
        Outcome o = run_text(std::string("gv_skip_") + mode + ".ist", t,
                             {"guest.unmap_policy=lazy", "guest.flush_queue_timeout=1s"});
        EXPECT_EQ(o.status, IOMMUSIM_EXIT_FAILED) << mode << o.error;
        EXPECT_GE(o.num("checker.violations"), 1) << mode;
        EXPECT_NE(o.report.find("coherence violation (guest view, vm 1)"), std::string::npos) << mode << o.report;
        // Without the early use the same trace is clean: the flush comes before any reuse.
        std::string ok = vm(mode, "") + "guest.map vm=1 dev=nic iova=0x100000 gpa=0x200000 len=4K\n"
                                        "dma dev=nic iova=0x100000 len=64 wr\n"
                                        "guest.unmap vm=1 dev=nic iova=0x100000 len=4K\n"
                                        "guest.qi_sync vm=1\n";
        Outcome c = run_text(std::string("gv_noskip_") + mode + ".ist", ok,
                             {"guest.unmap_policy=lazy", "guest.flush_queue_timeout=1s"});
        expect_clean(c);
    }
}

// vSVA: two PASIDs of one device, each with its own first-stage table, map
// the same IOVA to different memory; neither sees the other's mappings.
TEST(GuestVmm, VsvaIsolatesTwoPasids)
{
    std::string t = vm("nested", "pasid_bits=8");
    t += "guest.pasid_bind vm=1 dev=nic pasid=1 s1_pgtbl=0x10000\n";
    t += "guest.pasid_bind vm=1 dev=nic pasid=2 s1_pgtbl=0x11000\n";
    t += "guest.map vm=1 dev=nic pasid=1 iova=0x400000 gpa=0x500000 len=4K\n";
    t += "guest.map vm=1 dev=nic pasid=2 iova=0x400000 gpa=0x600000 len=4K\n";
    t += "guest.map vm=1 dev=nic pasid=1 iova=0x401000 gpa=0x501000 len=4K\n";
    t += "dma dev=nic pasid=1 iova=0x400008 len=8 rd expect=" + hex(kRam + 0x500008) + "\n";
    t += "dma dev=nic pasid=2 iova=0x400008 len=8 rd expect=" + hex(kRam + 0x600008) + "\n";
    t += "dma dev=nic pasid=1 iova=0x401000 len=8 rd expect=" + hex(kRam + 0x501000) + "\n";
    t += "dma dev=nic pasid=2 iova=0x401000 len=8 rd expect=fault\n";
    // The RID has no guest domain yet: it still sits on the nest parent, so its
    // IOVAs are GPAs (as before a guest enables its vIOMMU).
    t += "dma dev=nic iova=0x400000 len=8 rd expect=" + hex(kRam + 0x400000) + "\n";
    t += "guest.pasid_unbind vm=1 dev=nic pasid=1\n";
    t += "dma dev=nic pasid=1 iova=0x400008 len=8 rd expect=fault\n";
    t += "dma dev=nic pasid=2 iova=0x400008 len=8 rd expect=" + hex(kRam + 0x600008) + "\n";
    Outcome o = run_text("gv_sva.ist", t);
    expect_clean(o);
    EXPECT_EQ(o.num("vmm.attaches"), 3); // PASIDs 1 and 2 attached, PASID 1 detached
}

TEST(GuestVmm, BadGuestRecordsAreInputErrors)
{
    struct Case {
        std::string body, what;
    } cases[] = {
        {vm("nested") + "guest.map vm=1 dev=nic iova=0x100100 gpa=0x200000 len=4K\n", "4 KiB aligned"},
        {vm("nested") + "guest.map vm=1 dev=nic iova=0x100000 gpa=0xffff000 len=4K\n", "guest.pt_pool"},
        {vm("nested") + "guest.map vm=2 dev=nic iova=0x100000 gpa=0x1000 len=4K\n", "vm=2 is not declared"},
        {vm("nested") + "guest.unmap vm=1 dev=nic iova=0x100000 len=4K\n", "no DMA domain"},
        {vm("nested") + "iommufd.ioas_alloc out=a\niommufd.attach dev=nic pt=a\n", "assigned to vm 1"},
        {vm("shadow", "pasid_bits=8") + "guest.pasid_bind vm=1 dev=nic pasid=1 s1_pgtbl=0x10000\n", "mode=nested"},
        {"device sid=0x0300 name=nic vm=3\ndma dev=nic iova=0x1000 len=4 rd\n", "vm=3 is not declared"},
    };
    for (const auto &c : cases) {
        Outcome o = run_text("gv_bad.ist", c.body);
        EXPECT_EQ(o.status, IOMMUSIM_EXIT_BAD_INPUT) << c.body;
        EXPECT_NE(o.error.find(c.what), std::string::npos) << o.error;
    }
}

// Determinism: the same guest-level trace gives byte-identical JSON apart
// from host timing.
TEST(GuestVmm, GuestRunsAreDeterministic)
{
    Outcome a = run_text("gv_det_a.ist", vm("shadow") + workload());
    Outcome b = run_text("gv_det_b.ist", vm("shadow") + workload());
    ASSERT_EQ(a.status, IOMMUSIM_EXIT_OK);
    cJSON_DeleteItemFromObject(a.root, "sim.host_seconds");
    cJSON_DeleteItemFromObject(b.root, "sim.host_seconds");
    char *ja = cJSON_PrintUnformatted(a.root), *jb = cJSON_PrintUnformatted(b.root);
    EXPECT_STREQ(ja, jb);
    free(ja);
    free(jb);
}

// Guest setup (RAM mapping, boot) is simulated before the first timed record;
// absolute times count from when it is done, so `@0` is valid (real captures
// imported with absolute timestamps start there).
TEST(GuestVmm, AbsoluteTimesCountFromGuestsUp)
{
    Outcome o = run_text("gv_abs.ist", vm("nested") + "@0 guest.map vm=1 dev=nic iova=0x100000 gpa=0x200000 len=4K\n"
                                                      "@1ms dma dev=nic iova=0x100000 len=64 rd expect=" +
                                                          hex(kRam + 0x200000) + "\n");
    expect_clean(o);
}
