// The capture kit's fixtures (tests/importers/captures/{scalable,legacy}/, made by tools/capture/capture.sh and
// make-fixture.sh from real QEMU 7.2 + Debian 6.1 guest runs) must stay well-formed: every line in the forms the
// kit promises, the fields mutually consistent (descriptor words vs. QEMU's decoded events, IOTLB PTE vs.
// translation result, guest maps vs. the translations QEMU performed), and small.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path kCaptures = fs::path(IMS_SOURCE_DIR) / "tests" / "importers" / "captures";
const fs::path kKit = fs::path(IMS_SOURCE_DIR) / "tools" / "capture";

std::vector<std::string> lines_of(const fs::path &p)
{
    std::ifstream in(p);
    std::vector<std::string> v;
    std::string l;
    while (std::getline(in, l))
        v.push_back(l);
    return v;
}

std::string slurp(const fs::path &p)
{
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

uint64_t hex(const std::string &s) { return std::stoull(s, nullptr, 16); }

// QEMU's log trace backend with -msg timestamp=on: "PID@SECONDS.MICROS:EVENT ARGS".
const std::regex kQemuLine(R"(^(\d+)@(\d+)\.(\d{6}):(vtd_[a-z0-9_]+)(?: (.*))?$)");

struct QemuEvent {
    std::string name;
    std::string args;
};

std::vector<QemuEvent> parse_qemu(const std::string &mode)
{
    std::vector<QemuEvent> ev;
    for (const auto &l : lines_of(kCaptures / mode / "qemu-vtd.log")) {
        std::smatch m;
        if (std::regex_match(l, m, kQemuLine))
            ev.push_back({m[4].str(), m[5].str()});
        else
            ev.push_back({"", l}); // kept so the format test can report it
    }
    return ev;
}

// Linux ftrace text: "TASK-PID [CPU] FLAGS TIMESTAMP: EVENT: FIELDS" (6.1 prints five flag characters).
const std::regex kFtraceLine(R"(^\s*(.+)-(\d+)\s+\[(\d{3})\]\s+([.a-zA-Z0-9]{4,5})\s+(\d+)\.(\d{6}): (\w+): (.*)$)");

struct FtraceEvent {
    double ts;
    std::string name;
    std::string fields;
};

struct Ftrace {
    std::vector<std::string> header;
    std::vector<FtraceEvent> events;
    std::vector<std::string> bad;
};

Ftrace parse_ftrace(const std::string &mode)
{
    Ftrace f;
    for (const auto &l : lines_of(kCaptures / mode / "guest-ftrace.txt")) {
        std::smatch m;
        if (!l.empty() && l[0] == '#')
            f.header.push_back(l);
        else if (std::regex_match(l, m, kFtraceLine))
            f.events.push_back({std::stod(m[5].str() + "." + m[6].str()), m[7].str(), m[8].str()});
        else
            f.bad.push_back(l);
    }
    return f;
}

// std::regex is slow in Debug builds: parse each fixture file once per test binary run.
const std::vector<QemuEvent> &qemu_events(const std::string &mode)
{
    static std::map<std::string, std::vector<QemuEvent>> cache;
    auto it = cache.find(mode);
    if (it == cache.end())
        it = cache.emplace(mode, parse_qemu(mode)).first;
    return it->second;
}

const Ftrace &ftrace_of(const std::string &mode)
{
    static std::map<std::string, Ftrace> cache;
    auto it = cache.find(mode);
    if (it == cache.end())
        it = cache.emplace(mode, parse_ftrace(mode)).first;
    return it->second;
}

class CaptureKitFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(CaptureKitFixture, FilesExistAreSmallAndEndOnWholeLines)
{
    for (const char *name : {"qemu-vtd.log", "guest-ftrace.txt", "capture.txt"}) {
        const fs::path p = kCaptures / GetParam() / name;
        ASSERT_TRUE(fs::is_regular_file(p)) << p;
        const auto size = fs::file_size(p);
        EXPECT_GT(size, 1000u) << p;
        // The brief caps fixtures at a few hundred KB; make-fixture.sh cuts at 256 KiB.
        EXPECT_LE(size, 256u * 1024u) << p;
        const std::string s = slurp(p);
        EXPECT_EQ(s.back(), '\n') << p << " ends in a partial line";
        EXPECT_EQ(s.find('\r'), std::string::npos) << p << " has serial-console carriage returns";
    }
}

TEST_P(CaptureKitFixture, CaptureTxtRecordsVersionsOptionsAndTrimming)
{
    const std::string s = slurp(kCaptures / GetParam() / "capture.txt");
    EXPECT_NE(s.find("qemu: QEMU emulator version 7."), std::string::npos);
    EXPECT_NE(s.find("guest-kernel: 6.1."), std::string::npos);
    EXPECT_NE(s.find("options: mode=" + GetParam() + " "), std::string::npos);
    EXPECT_NE(s.find("qemu-command: qemu-system-x86_64 "), std::string::npos);
    EXPECT_NE(s.find("intel_iommu=on"), std::string::npos);
    EXPECT_NE(s.find("trimming (tools/capture/make-fixture.sh"), std::string::npos);
    // The kit turns the interrupt-remapping flood off by default.
    EXPECT_NE(s.find("enable=-vtd_ir_*"), std::string::npos);
}

TEST_P(CaptureKitFixture, EveryQemuLineIsATimestampedVtdEvent)
{
    const auto &ev = qemu_events(GetParam());
    ASSERT_GT(ev.size(), 1000u);
    std::map<std::string, int> count;
    for (const auto &e : ev) {
        ASSERT_FALSE(e.name.empty()) << "not in the log-backend form: " << e.args;
        count[e.name]++;
    }
    // The forms the README promises to the importer.
    for (const char *name : {"vtd_reg_dmar_root", "vtd_inv_qi_setup", "vtd_inv_qi_tail", "vtd_inv_desc",
                             "vtd_inv_desc_wait_sw", "vtd_inv_desc_iotlb_pages", "vtd_inv_desc_cc_global",
                             "vtd_iotlb_cc_update", "vtd_iotlb_page_update", "vtd_iotlb_page_hit",
                             "vtd_dmar_translate", "vtd_dmar_enable"})
        EXPECT_GT(count[name], 0) << name;
    EXPECT_EQ(count["vtd_ir_remap"], 0);
    EXPECT_EQ(count["vtd_warn_ir_vector"], 0);
}

TEST_P(CaptureKitFixture, RootTableModeMatchesTheCaptureMode)
{
    const std::regex re(R"(^addr 0x([0-9a-f]+) scalable ([01])$)");
    int seen = 0;
    for (const auto &e : qemu_events(GetParam())) {
        if (e.name != "vtd_reg_dmar_root")
            continue;
        std::smatch m;
        ASSERT_TRUE(std::regex_match(e.args, m, re)) << e.args;
        // vtd-facts §1: RTADDR is 4 KiB aligned; its TTM selects legacy (00) or scalable (01) tables.
        EXPECT_EQ(hex(m[1]) & 0xfffu, 0u);
        EXPECT_EQ(m[2].str(), GetParam() == "scalable" ? "1" : "0");
        seen++;
    }
    EXPECT_EQ(seen, 1);
}

// vtd-facts §4.1: descriptor type = qw0[3:0] (| qw0[11:9] << 4). QEMU prints qw1 as "high" and qw0 as "low".
TEST_P(CaptureKitFixture, DescriptorWordsAgreeWithQemusDecodedEvents)
{
    const std::regex desc(R"(^invalidate desc type (\S+) high 0x([0-9a-f]+) low 0x([0-9a-f]+)$)");
    const std::regex wait(R"(^wait invalidate status write addr 0x([0-9a-f]+) data 0x([0-9a-f]+)$)");
    const std::regex pages(R"(^iotlb invalidate domain 0x([0-9a-f]+) addr 0x([0-9a-f]+) mask 0x([0-9a-f]+)$)");
    const std::map<std::string, unsigned> type_of = {
        {"context-cache", 1}, {"iotlb", 2}, {"device", 3}, {"iec", 4}, {"wait", 5}};
    const auto &ev = qemu_events(GetParam());
    std::map<std::string, int> kinds;
    int waits = 0, psi = 0;
    for (size_t i = 0; i + 1 < ev.size(); i++) {
        if (ev[i].name != "vtd_inv_desc")
            continue;
        std::smatch m;
        ASSERT_TRUE(std::regex_match(ev[i].args, m, desc)) << ev[i].args;
        const std::string kind = m[1];
        const uint64_t qw1 = hex(m[2]), qw0 = hex(m[3]);
        ASSERT_TRUE(type_of.count(kind)) << "unexpected descriptor type " << kind;
        EXPECT_EQ(qw0 & 0xfu, type_of.at(kind)) << ev[i].args;
        kinds[kind]++;
        const QemuEvent &next = ev[i + 1];
        std::smatch n;
        if (kind == "wait" && next.name == "vtd_inv_desc_wait_sw") {
            ASSERT_TRUE(std::regex_match(next.args, n, wait)) << next.args;
            // vtd-facts §4.6: SW is qw0[5], status data qw0[63:32], status address qw1[63:2].
            EXPECT_NE(qw0 & (1u << 5), 0u);
            EXPECT_EQ(hex(n[1]), qw1 & ~uint64_t{3});
            EXPECT_EQ(hex(n[2]), qw0 >> 32);
            waits++;
        }
        if (kind == "iotlb" && next.name == "vtd_inv_desc_iotlb_pages") {
            ASSERT_TRUE(std::regex_match(next.args, n, pages)) << next.args;
            // vtd-facts §4.3: G=qw0[5:4] (11 = page-selective), DID=qw0[31:16], AM=qw1[5:0], ADDR=qw1[63:12].
            EXPECT_EQ((qw0 >> 4) & 3u, 3u);
            EXPECT_EQ(hex(n[1]), (qw0 >> 16) & 0xffffu);
            EXPECT_EQ(hex(n[2]), qw1 & ~uint64_t{0xfff});
            psi++;
        }
        if (kind == "device") {
            // vtd-facts §4.4: SID = qw0[47:32]; the disk sits at 01:00.0 behind the root port.
            EXPECT_EQ((qw0 >> 32) & 0xffffu, 0x100u) << ev[i].args;
        }
    }
    EXPECT_GT(waits, 100);
    EXPECT_GT(psi, 100);
    EXPECT_EQ(kinds["context-cache"], 1); // the global flush when translation is enabled
    if (GetParam() == "scalable")
        EXPECT_GT(kinds["device"], 100) << "device-iotlb=on,ats=on should produce device-TLB invalidations";
    else
        EXPECT_EQ(kinds["device"], 0) << "the legacy capture runs without ATS";
}

// Each IOTLB hit/update is followed by the translation it produced: the result is the PTE's address field.
TEST_P(CaptureKitFixture, TranslationResultIsTheCachedPteAddress)
{
    const std::regex tlb(R"(^IOTLB page (?:hit|update) sid 0x([0-9a-f]+) iova 0x([0-9a-f]+) slpte 0x([0-9a-f]+) domain 0x([0-9a-f]+)$)");
    const std::regex xl(R"(^dev ([0-9a-f]{2}):([0-9a-f]{2})\.([0-9a-f]{2}) iova 0x([0-9a-f]+) -> gpa 0x([0-9a-f]+) mask 0x([0-9a-f]+)$)");
    const auto &ev = qemu_events(GetParam());
    int pairs = 0;
    for (size_t i = 0; i + 1 < ev.size(); i++) {
        if (ev[i].name != "vtd_iotlb_page_hit" && ev[i].name != "vtd_iotlb_page_update")
            continue;
        std::smatch a, b;
        ASSERT_TRUE(std::regex_match(ev[i].args, a, tlb)) << ev[i].args;
        ASSERT_EQ(ev[i + 1].name, "vtd_dmar_translate");
        ASSERT_TRUE(std::regex_match(ev[i + 1].args, b, xl)) << ev[i + 1].args;
        const uint64_t sid = hex(a[1]), iova = hex(a[2]), pte = hex(a[3]);
        const uint64_t mask = hex(b[6]);
        EXPECT_EQ(sid, (hex(b[1]) << 8) | (hex(b[2]) << 3) | hex(b[3]));
        EXPECT_EQ(hex(b[4]), iova & ~mask);
        // vtd-facts §2: a second-level leaf holds the address in bits [51:12]; R/W are bits 0/1.
        EXPECT_EQ(hex(b[5]), pte & ~mask & ((uint64_t{1} << 52) - 1));
        EXPECT_NE(pte & 1u, 0u) << "a cached leaf must be readable";
        pairs++;
    }
    EXPECT_GT(pairs, 200);
}

TEST_P(CaptureKitFixture, FtraceHasHeaderAndWellFormedIommuEvents)
{
    const Ftrace &f = ftrace_of(GetParam());
    ASSERT_FALSE(f.header.empty());
    EXPECT_EQ(f.header[0], "# tracer: nop");
    EXPECT_TRUE(f.bad.empty()) << "first malformed line: " << (f.bad.empty() ? "" : f.bad[0]);
    std::map<std::string, int> count;
    double last = -1;
    for (const auto &e : f.events) {
        count[e.name]++;
        // One CPU (#P:1), so the ring buffer is in time order.
        EXPECT_GE(e.ts, last);
        last = e.ts;
    }
    for (const char *name : {"add_device_to_group", "attach_device_to_domain", "map", "unmap", "qi_submit"})
        EXPECT_GT(count[name], 0) << name;
    EXPECT_GT(count["map"], 200);
}

TEST_P(CaptureKitFixture, FtraceMapUnmapAndQiSubmitFieldsAreConsistent)
{
    const std::regex map(R"(^IOMMU: iova=0x([0-9a-f]{16}) - 0x([0-9a-f]{16}) paddr=0x([0-9a-f]{16}) size=(\d+)$)");
    const std::regex unmap(R"(^IOMMU: iova=0x([0-9a-f]{16}) - 0x([0-9a-f]{16}) size=(\d+) unmapped_size=(\d+)$)");
    const std::regex qi(R"(^(\w+) dmar(\d+): 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+)$)");
    // vtd-facts §4.1 type numbers, under the names Linux's qi_submit event prints.
    const std::map<std::string, unsigned> type_of = {
        {"cc_inv", 1}, {"iotlb_inv", 2}, {"dev_tlb_inv", 3}, {"iec_inv", 4}, {"pc_inv", 7}};
    std::set<std::string> kinds;
    for (const auto &e : ftrace_of(GetParam()).events) {
        std::smatch m;
        if (e.name == "map") {
            ASSERT_TRUE(std::regex_match(e.fields, m, map)) << e.fields;
            EXPECT_EQ(hex(m[2]) - hex(m[1]), std::stoull(m[4].str()));
            EXPECT_EQ(hex(m[1]) & 0xfffu, 0u);
            EXPECT_EQ(hex(m[3]) & 0xfffu, 0u);
        } else if (e.name == "unmap") {
            ASSERT_TRUE(std::regex_match(e.fields, m, unmap)) << e.fields;
            EXPECT_EQ(hex(m[2]) - hex(m[1]), std::stoull(m[3].str()));
            EXPECT_EQ(m[3].str(), m[4].str()) << "the unmap removed exactly the requested range";
        } else if (e.name == "qi_submit") {
            ASSERT_TRUE(std::regex_match(e.fields, m, qi)) << e.fields;
            ASSERT_TRUE(type_of.count(m[1].str())) << e.fields;
            EXPECT_EQ(hex(m[3]) & 0xfu, type_of.at(m[1].str())) << e.fields;
            kinds.insert(m[1].str());
        }
    }
    EXPECT_TRUE(kinds.count("iotlb_inv"));
    EXPECT_EQ(kinds.count("dev_tlb_inv"), GetParam() == "scalable" ? 1u : 0u);
    // Linux flushes the PASID cache only when the tables are scalable-mode ones.
    EXPECT_EQ(kinds.count("pc_inv"), GetParam() == "scalable" ? 1u : 0u);
}

// The two files come from the same run: every translation QEMU performed for the disk lies inside a mapping the
// guest's iommu:map event recorded, at the same physical address.
TEST_P(CaptureKitFixture, QemuTranslationsLieInGuestMaps)
{
    const std::regex map(R"(^IOMMU: iova=0x([0-9a-f]{16}) - 0x([0-9a-f]{16}) paddr=0x([0-9a-f]{16}) size=\d+$)");
    const std::regex xl(R"(^dev 01:00\.00 iova 0x([0-9a-f]+) -> gpa 0x([0-9a-f]+) mask 0x[0-9a-f]+$)");
    struct Map {
        uint64_t lo, hi, pa;
    };
    std::vector<Map> maps;
    for (const auto &e : ftrace_of(GetParam()).events) {
        std::smatch m;
        if (e.name == "map" && std::regex_match(e.fields, m, map))
            maps.push_back({hex(m[1]), hex(m[2]), hex(m[3])});
    }
    int checked = 0;
    for (const auto &e : qemu_events(GetParam())) {
        std::smatch m;
        if (e.name != "vtd_dmar_translate" || !std::regex_match(e.args, m, xl))
            continue;
        const uint64_t iova = hex(m[1]), gpa = hex(m[2]);
        bool found = false;
        for (const auto &mp : maps)
            found = found || (iova >= mp.lo && iova < mp.hi && mp.pa + (iova - mp.lo) == gpa);
        EXPECT_TRUE(found) << std::hex << "iova 0x" << iova << " -> 0x" << gpa << " has no guest map";
        checked++;
    }
    EXPECT_GT(checked, 200);
}

INSTANTIATE_TEST_SUITE_P(CaptureKit, CaptureKitFixture, ::testing::Values("scalable", "legacy"));

TEST(CaptureKitScripts, ExistAreExecutableAndDocumentTheirOptions)
{
    for (const char *name : {"capture.sh", "build-initramfs.sh", "make-fixture.sh", "init.sh", "dump-check.sh"}) {
        const fs::path p = kKit / name;
        ASSERT_TRUE(fs::is_regular_file(p)) << p;
        EXPECT_NE(fs::status(p).permissions() & fs::perms::owner_exec, fs::perms::none) << p;
        const std::string s = slurp(p);
        EXPECT_EQ(s.rfind("#!/bin/", 0), 0u) << p;
    }
    const std::string usage = slurp(kKit / "capture.sh");
    const std::string readme = slurp(kKit / "README.md");
    for (const char *opt : {"--mode", "--strict", "--lazy", "--devtlb", "--dump-memory", "--out", "--workload-mb"}) {
        EXPECT_NE(usage.find(std::string("\t") + opt), std::string::npos) << opt << " not parsed";
        EXPECT_NE(readme.find(opt), std::string::npos) << opt << " not in README";
    }
}

TEST(CaptureKitScripts, CaptureRejectsABadModeBeforeDoingAnything)
{
    const fs::path out = fs::temp_directory_path() / "ims-capture-kit-test-out";
    fs::remove_all(out);
    const std::string cmd = "bash '" + (kKit / "capture.sh").string() + "' --mode bogus --out '" + out.string() +
                            "' --no-install >/dev/null 2>&1";
    const int rc = std::system(cmd.c_str());
    EXPECT_NE(rc, 0);
    EXPECT_FALSE(fs::exists(out)) << "a bad option must fail before creating the output directory";
}

} // namespace
