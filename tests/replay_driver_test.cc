// The replay driver (sim/run/replay.h): timing of issue (@T open loop, +D and
// no prefix after the previous record completed), drain, mark, and the
// raw-hardware verbs with their expect checks. Spec: trace-text-v1 "Time and
// ordering" and "Raw hardware level".
#include <gtest/gtest.h>

#include <cstring>
#include <elf.h>
#include <string>

#include "replay_harness.h"

using replay_test::Outcome;
using replay_test::run_files;
using replay_test::run_text;
using replay_test::write_trace;

namespace {

bool contains(const std::string &s, const std::string &what) { return s.find(what) != std::string::npos; }

TEST(ReplayTiming, DelaysCountFromThePreviousCompletion)
{
    Outcome o = run_text("closed.ist", "mem.w32 pa=0x100 val=1\n"
                                       "+100ns mem.w32 pa=0x100 val=2\n"
                                       "+200ns mem.w32 pa=0x100 val=3\n");
    ASSERT_EQ(o.status, 0) << o.error << o.report;
    EXPECT_EQ(o.num("sim.simulated_ns"), 300);
    EXPECT_EQ(o.num("sim.records"), 3);
    EXPECT_EQ(o.res.records, 3u);
}

TEST(ReplayTiming, AbsoluteTimesDoNotWaitForEarlierRecords)
{
    // The wait is still spinning when the @2us store is issued (open loop); the
    // next poll sees it.
    Outcome o = run_text("open.ist", "wait.mem pa=0x100 val=1 timeout=5us\n"
                                     "@2us mem.w32 pa=0x100 val=1\n"
                                     "drain\n");
    ASSERT_EQ(o.status, 0) << o.error << o.report;
    EXPECT_EQ(o.num("sim.simulated_ns"), 2000);
    EXPECT_EQ(o.num("expect.failures"), 0);
}

TEST(ReplayTiming, NoPrefixWaitsForThePreviousRecord)
{
    // Closed loop: the store is issued only after the wait gave up (5 us).
    std::string path = write_trace("closedwait.ist", "iommusim-trace 1\n"
                                                     "wait.mem pa=0x100 val=1 timeout=5us\n"
                                                     "mem.w32 pa=0x100 val=1\n");
    Outcome o = run_files({path});
    EXPECT_EQ(o.status, IOMMUSIM_EXIT_FAILED);
    EXPECT_EQ(o.num("sim.simulated_ns"), 5000);
    EXPECT_EQ(o.num("expect.failures"), 1);
    EXPECT_TRUE(contains(o.report, path + ":2: wait.mem pa=0x100: timed out after 5us: the word is 0x00000000, "
                                          "expected 0x00000001 under mask 0xffffffff"))
        << o.report;
}

TEST(ReplayTiming, RelativeDelayAfterAnAsynchronousRecord)
{
    Outcome o = run_text("rel.ist", "wait.mem pa=0x100 val=1 timeout=1us\n"
                                    "+500ns mem.w32 pa=0x100 val=1\n");
    EXPECT_EQ(o.status, IOMMUSIM_EXIT_FAILED);
    EXPECT_EQ(o.num("sim.simulated_ns"), 1500);
}

TEST(ReplayTiming, AbsoluteTimeBeforeTheIssueTimeIsAnError)
{
    std::string path = write_trace("back.ist", "iommusim-trace 1\n"
                                               "mem.w32 pa=0x100 val=1\n"
                                               "+2us mem.w32 pa=0x100 val=2\n"
                                               "@1us mem.w32 pa=0x100 val=3\n");
    Outcome o = run_files({path});
    EXPECT_EQ(o.status, IOMMUSIM_EXIT_BAD_INPUT);
    EXPECT_TRUE(contains(o.error, path + ":4: @1us is earlier than the current issue time 2000.0 ns (reached by " +
                                      path + ":3)"))
        << o.error;
}

TEST(ReplayTiming, WaitMemPollsAtTheConfiguredInterval)
{
    // Polls at 300, 600, 900, 1200 ns: the store at 1000 is seen at 1200.
    Outcome o = run_text("poll.ist",
                         "wait.mem pa=0x100 val=0x5 mask=0xf timeout=10us\n"
                         "@1us mem.w32 pa=0x100 val=0xabc5\n"
                         "drain\n",
                         {"replay.poll_ns=300ns"});
    ASSERT_EQ(o.status, 0) << o.error << o.report;
    EXPECT_EQ(o.num("sim.simulated_ns"), 1200);
    // Satisfied at issue: completes at once.
    Outcome now = run_text("poll0.ist", "mem.w32 pa=0x100 val=7\nwait.mem pa=0x100 val=7\n");
    ASSERT_EQ(now.status, 0) << now.error << now.report;
    EXPECT_EQ(now.num("sim.simulated_ns"), 0);
}

TEST(ReplayDrain, CompletesWhenEverythingIssuedBeforeItCompleted)
{
    Outcome o = run_text("drain.ist", "@0ns wait.mem pa=0x100 val=1 timeout=3us\n"
                                      "@100ns wait.mem pa=0x104 val=1 timeout=1us\n"
                                      "@200ns drain\n"
                                      "mem.w32 pa=0x200 val=1\n");
    EXPECT_EQ(o.status, IOMMUSIM_EXIT_FAILED);
    EXPECT_EQ(o.num("expect.failures"), 2);
    EXPECT_EQ(o.num("sim.simulated_ns"), 3000);
    Outcome idle = run_text("drain0.ist", "mem.w32 pa=0x100 val=1\ndrain\n+5ns mem.w32 pa=0x100 val=2\n");
    ASSERT_EQ(idle.status, 0) << idle.error;
    EXPECT_EQ(idle.num("sim.simulated_ns"), 5);
}

TEST(ReplayMark, PhasesSplitTheStatistics)
{
    // Translation is off: DMAs pass through untranslated (pa = iova).
    Outcome o = run_text("mark.ist", "device sid=0x10\n"
                                     "dma dev=0x10 iova=0x1000 len=64 rd expect=0x1000\n"
                                     "mark name=warm\n"
                                     "dma dev=0x10 iova=0x2000 len=64 rd expect=0x2000\n"
                                     "+1us dma dev=0x10 iova=0x3000 len=64 wr expect=0x3000\n");
    ASSERT_EQ(o.status, 0) << o.error << o.report;
    EXPECT_EQ(o.num("dma.count"), 3);
    EXPECT_EQ(o.num("phase.start.dma.count"), 1);
    EXPECT_EQ(o.num("phase.warm.dma.count"), 2);
    EXPECT_EQ(o.num("phase.start.sim.records"), 2); // device, dma
    EXPECT_EQ(o.num("phase.warm.sim.records"), 3);  // mark, dma, dma
    EXPECT_EQ(o.num("phase.start.sim.simulated_ns") + o.num("phase.warm.sim.simulated_ns"),
              o.num("sim.simulated_ns"));
    EXPECT_GT(o.num("phase.warm.sim.simulated_ns"), 1000);
    for (const char *k : {"dma.latency_ns.p99", "iotlb.hits", "checker.violations", "expect.failures",
                          "inv.latency_ns.p50", "walk.mem_reads", "qi.descriptors"})
        EXPECT_TRUE(o.has(std::string("phase.warm.") + k)) << k;

    Outcome dup = run_text("mark2.ist", "mark name=a\nmark name=a\n");
    EXPECT_EQ(dup.status, IOMMUSIM_EXIT_BAD_INPUT);
    EXPECT_TRUE(contains(dup.error, "mark2.ist:3: mark: phase name 'a' is already used")) << dup.error;
    Outcome start = run_text("mark3.ist", "mark name=start\n");
    EXPECT_EQ(start.status, IOMMUSIM_EXIT_BAD_INPUT);
}

TEST(ReplayRaw, MemoryStoresAndRegisterExpectations)
{
    ims_error err{};
    ims_config *cfg = ims_schema_config_create(&err);
    char cap[64];
    snprintf(cap, sizeof cap, "0x%llx", (unsigned long long)ims_config_u64(cfg, "vtd.cap"));
    ims_config_destroy(cfg);
    Outcome o = run_text("raw.ist", "mem.write pa=0x1000 hex=0102030405060708\n"
                                    "wait.mem pa=0x1004 val=0x08070605 timeout=1ns\n"
                                    "mem.w64 pa=0x2000 val=0x1122334455667788\n"
                                    "wait.mem pa=0x2004 val=0x11223344 timeout=1ns\n"
                                    "mmio.r32 off=0x0 expect=0x60\n"
                                    "mmio.r64 off=0x8 expect=" + std::string(cap) + "\n"
                                    "mmio.r32 off=0x1c expect=0x80000000 mask=0x80000000\n"
                                    "mmio.r32 off=0x1c\n");
    EXPECT_EQ(o.status, IOMMUSIM_EXIT_FAILED);
    EXPECT_EQ(o.num("expect.failures"), 1);
    EXPECT_TRUE(contains(o.report, "raw.ist:8: mmio.r32 unit=0 off=0x1c: read 0x0, expected 0x80000000 "
                                   "(mask 0x80000000)"))
        << o.report;
}

TEST(ReplayRaw, ImpossibleChecksAreInputErrors)
{
    Outcome w = run_text("mask.ist", "wait.mem pa=0x100 val=0x10 mask=0xf\n");
    EXPECT_EQ(w.status, IOMMUSIM_EXIT_BAD_INPUT);
    EXPECT_TRUE(contains(w.error, "mask.ist:2: wait.mem: val=0x10 has bits outside mask=0xf")) << w.error;
    Outcome m = run_text("mask2.ist", "mmio.r32 off=0x1c expect=0x3 mask=0x1\n");
    EXPECT_EQ(m.status, IOMMUSIM_EXIT_BAD_INPUT);
    EXPECT_TRUE(contains(m.error, "mask2.ist:2: mmio.r32: expect=0x3 has bits outside mask=0x1")) << m.error;
}

TEST(ReplayRaw, MemLoadReadsAnElfCoreRelativeToTheTrace)
{
    // One PT_LOAD of 4 bytes at physical 0x8000.
    std::vector<uint8_t> f(sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + 4);
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_CORE;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = sizeof eh;
    eh.e_ehsize = sizeof eh;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 1;
    Elf64_Phdr ph{};
    ph.p_type = PT_LOAD;
    ph.p_offset = sizeof eh + sizeof ph;
    ph.p_paddr = 0x8000;
    ph.p_filesz = ph.p_memsz = 4;
    uint32_t word = 0x11223344;
    std::memcpy(f.data(), &eh, sizeof eh);
    std::memcpy(f.data() + sizeof eh, &ph, sizeof ph);
    std::memcpy(f.data() + ph.p_offset, &word, 4);
    std::ofstream(replay_test::temp_path("mini.elf"), std::ios::binary)
        .write(reinterpret_cast<const char *>(f.data()), (std::streamsize)f.size());
    Outcome o = run_text("load.ist", "mem.load elf=mini.elf\nwait.mem pa=0x8000 val=0x11223344 timeout=1ns\n");
    EXPECT_EQ(o.status, 0) << o.error << o.report;
    Outcome bad = run_text("load2.ist", "mem.load elf=missing.elf\n");
    EXPECT_EQ(bad.status, IOMMUSIM_EXIT_BAD_INPUT);
    EXPECT_TRUE(contains(bad.error, "load2.ist:2: mem.load: ")) << bad.error;
    EXPECT_TRUE(contains(bad.error, "missing.elf: cannot open")) << bad.error;
}

TEST(ReplayInput, BadRecordsStopWithFileAndLine)
{
    struct Case {
        const char *body, *want;
    } cases[] = {
        {"dma dev=nope iova=0x1000 len=4 rd\n", ":2: dma: dev=nope is not declared"},
        {"device sid=0x10\ndma dev=0x11 iova=0x1000 len=4 rd\n", ":3: dma: dev=0x0011 is not declared"},
        {"mmio.r32 unit=3 off=0x0\n", ":2: mmio.r32: unit 3 does not exist"},
        {"device sid=0x10\ndevice sid=0x10\n", ":3: device: device sid=0x0010 is already declared"},
        {"device sid=0x10 name=a\ndevice sid=0x11 name=a\n", ":3: device: a device named 'a' is already declared"},
        {"iommu unit=1\ndevice sid=0x10\nmem.w32 pa=0 val=0\n", ":3: device sid=0x0010: unit 0 is not declared"},
        {"vm id=1 mem=1G\nvm id=1 mem=1G\n", ":3: vm: id=1 is declared twice"},
        {"vm id=1 mem=0x1001\n", ":2: vm: mem=0x1001 must be a positive multiple of 4 KiB"},
        {"device sid=0x10\nguest.map vm=1 dev=0x10 iova=0 gpa=0 len=4K\n", ":3: guest.map: vm=1 is not declared"},
        {"iommufd.attach dev=ghost pt=a\n", ":2: iommufd.attach: dev=ghost is not declared"},
        {"frobnicate\n", ":2: "},
    };
    for (const auto &c : cases) {
        Outcome o = run_text("bad.ist", c.body);
        EXPECT_EQ(o.status, IOMMUSIM_EXIT_BAD_INPUT) << c.body;
        EXPECT_TRUE(contains(o.error, std::string("bad.ist") + c.want)) << c.body << " -> " << o.error;
    }
}

TEST(ReplayTopology, IommuRecordsOverrideTheConfiguredUnit)
{
    ims_error err{};
    ims_config *cfg = ims_schema_config_create(&err);
    unsigned long long cap = ims_config_u64(cfg, "vtd.cap") & ~0x7ull; // ND=0: 16 domains
    ims_config_destroy(cfg);
    char body[512];
    snprintf(body, sizeof body,
             "iommu unit=2 cap=0x%llx\n"
             "mmio.r64 unit=2 off=0x8 expect=0x%llx\n"
             "mmio.r32 unit=0 off=0x0\n",
             cap, cap);
    Outcome o = run_text("units.ist", body);
    EXPECT_EQ(o.status, IOMMUSIM_EXIT_BAD_INPUT) << "unit 0 is not created when a unit is declared";
    EXPECT_TRUE(contains(o.error, "units.ist:4: mmio.r32: unit 0 does not exist")) << o.error;
    EXPECT_EQ(o.num("expect.failures"), 0) << "unit 2 reads the CAP the trace gave it";
}

TEST(ReplayFiles, TracesRunOneAfterAnotherInOneSystem)
{
    std::string a = write_trace("multi_a.ist", "iommusim-trace 1\n"
                                               "device sid=0x10 name=a\n"
                                               "mem.w32 pa=0x100 val=1\n"
                                               "+1us mem.w32 pa=0x100 val=2\n");
    std::string b = write_trace("multi_b.ist", "iommusim-trace 1\n"
                                               "device sid=0x20 name=b\n"
                                               "+500ns dma dev=a iova=0x1000 len=8 rd expect=0x1000\n"
                                               "dma dev=b iova=0x2000 len=8 wr expect=0x2000\n"
                                               "wait.mem pa=0x100 val=2 timeout=1ns\n");
    Outcome o = run_files({a, b});
    ASSERT_EQ(o.status, 0) << o.error << o.report;
    EXPECT_EQ(o.num("sim.records"), 7);
    EXPECT_EQ(o.num("dma.count"), 2);
    EXPECT_GT(o.num("sim.simulated_ns"), 1500);
    // An error in the second trace names the second trace.
    std::string c = write_trace("multi_c.ist", "iommusim-trace 1\n@0ns mem.w32 pa=0 val=0\n");
    Outcome e = run_files({a, c});
    EXPECT_EQ(e.status, IOMMUSIM_EXIT_BAD_INPUT);
    EXPECT_TRUE(contains(e.error, c + ":2: @0ns is earlier than the current issue time 1000.0 ns (reached by " + a +
                                      ":4)"))
        << e.error;
}

TEST(ReplayFiles, MissingTraceIsReportedBeforeAnythingRuns)
{
    std::string a = write_trace("present.ist", "iommusim-trace 1\nmem.w32 pa=0 val=0\n");
    Outcome o = run_files({a, replay_test::temp_path("absent.ist")});
    EXPECT_EQ(o.status, IOMMUSIM_EXIT_BAD_INPUT);
    EXPECT_TRUE(contains(o.error, "absent.ist")) << o.error;
}

} // namespace
