// Workload generators (traces/gen/): option parsing and errors, determinism,
// every family at both levels parsing back with the trace reader, and replays
// with the counts the workload implies (run API), plus `iommusim gen`.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>
#include <sys/wait.h>

#include "replay_harness.h"
#include "trace_test_util.h"
#include "traces/gen/gen.h"

namespace {

using trace_test::Rec;

struct Gen {
    int rc = -1;
    std::string err;
    std::vector<uint8_t> bytes;
    std::string text() const { return std::string(bytes.begin(), bytes.end()); }
};

// Generate `fam` with argv-style options ("--packets", "10", "--ats", ...).
Gen gen(const char *fam, std::vector<std::string> args, ims_trace_form form = IMS_TRACE_TEXT, bool zstd = false)
{
    Gen g;
    ims_gen_params p;
    ims_gen_params_init(&p, ims_gen_family_find(fam));
    std::vector<char *> argv;
    for (auto &a : args)
        argv.push_back(a.data());
    ims_error err{};
    for (int i = 0; i < (int)argv.size();)
        if ((g.rc = ims_gen_params_parse_arg(&p, (int)argv.size(), argv.data(), &i, &err)) != 0) {
            g.err = err.msg;
            return g;
        }
    uint8_t *data = nullptr;
    size_t len = 0;
    g.rc = ims_gen_write_mem(&p, form, zstd, &data, &len, &err);
    if (g.rc)
        g.err = err.msg;
    else
        g.bytes.assign(data, data + len);
    free(data);
    return g;
}

std::vector<Rec> parse(const Gen &g)
{
    auto p = trace_test::ReadAll(g.bytes.data(), g.bytes.size());
    EXPECT_EQ(p.error, "");
    return p.recs;
}

std::map<ims_trace_verb, int> verbs(const std::vector<Rec> &recs)
{
    std::map<ims_trace_verb, int> m;
    for (const Rec &r : recs)
        m[r.r.verb]++;
    return m;
}

replay_test::Outcome replay(const Gen &g, const std::string &name, std::initializer_list<const char *> sets = {})
{
    std::string path = replay_test::temp_path(name);
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char *>(g.bytes.data()), g.bytes.size());
    return replay_test::run_files({path}, sets);
}

// A clean replay: no bad input, no failed expectation, no checker violation, no fault.
void expect_clean(const replay_test::Outcome &o)
{
    EXPECT_EQ(o.status, IOMMUSIM_EXIT_OK) << o.error << o.report.substr(0, 600);
    EXPECT_EQ(o.num("expect.failures"), 0);
    EXPECT_EQ(o.num("checker.violations"), 0);
    EXPECT_EQ(o.num("dma.faults"), 0);
}

const char *const kFamilies[] = {"nic", "storage", "uniform", "sva"};

// Small, fast settings per family.
std::vector<std::string> small(const std::string &fam)
{
    if (fam == "nic")
        return {"--packets", "20", "--ring", "8"};
    if (fam == "storage")
        return {"--ios", "10", "--bs", "16K", "--sq-entries", "8"};
    if (fam == "uniform")
        return {"--dmas", "40", "--window", "1M"};
    return {"--dmas", "24", "--procs", "3", "--buf-size", "64K"};
}

std::vector<std::string> with(std::vector<std::string> a, std::initializer_list<std::string> more)
{
    a.insert(a.end(), more);
    return a;
}

// ---- options ------------------------------------------------------------------------------------

TEST(GenOptions, DefaultsFormatAndParseBack)
{
    for (const char *fam : kFamilies) {
        ims_gen_params p, q;
        ims_gen_params_init(&p, ims_gen_family_find(fam));
        ims_gen_params_init(&q, ims_gen_family_find(fam));
        ASSERT_EQ(ims_gen_params_set(&p, "level", "guest", nullptr), 0);
        ASSERT_EQ(ims_gen_params_set(&p, "interval", "1.5us", nullptr), 0);
        ASSERT_EQ(ims_gen_params_set(&p, "seed", "0x2a", nullptr), 0);
        std::string s(ims_gen_params_format(&p, nullptr, 0) + 1, '\0');
        ims_gen_params_format(&p, s.data(), s.size());
        s.pop_back();
        EXPECT_NE(s.find("--seed 42 --level guest --mode nested"), std::string::npos) << s;
        EXPECT_NE(s.find("--interval 1500ns"), std::string::npos) << s;
        // Reading the canonical listing back gives the same values.
        std::istringstream in(s);
        std::vector<std::string> words{std::istream_iterator<std::string>(in), {}};
        std::vector<char *> argv;
        for (auto &w : words)
            argv.push_back(w.data());
        ims_error err{};
        for (int i = 0; i < (int)argv.size();)
            ASSERT_EQ(ims_gen_params_parse_arg(&q, (int)argv.size(), argv.data(), &i, &err), 0) << err.msg;
        for (int i = 0; i < IMS_GEN_COMMON_COUNT; i++)
            EXPECT_EQ(p.common[i], q.common[i]) << fam << " common " << i;
        for (unsigned i = 0; i < p.fam->nopts; i++)
            EXPECT_EQ(p.v[i], q.v[i]) << fam << " " << p.fam->opts[i].name;
    }
}

TEST(GenOptions, ValuesAndSyntax)
{
    ims_gen_params p;
    ims_gen_params_init(&p, &ims_gen_nic);
    uint64_t v = 0;
    ASSERT_TRUE(ims_gen_params_get(&p, "packets", &v));
    EXPECT_EQ(v, 1000u);
    ASSERT_TRUE(ims_gen_params_get(&p, "driver-delay", &v));
    EXPECT_EQ(v, 5000000u); // 5us in ps
    std::string a[] = {"--pkt-size=9K", "--ats", "--policy", "pool", "--interval", "2us"};
    char *argv[] = {a[0].data(), a[1].data(), a[2].data(), a[3].data(), a[4].data(), a[5].data()};
    ims_error err{};
    for (int i = 0; i < 6;)
        ASSERT_EQ(ims_gen_params_parse_arg(&p, 6, argv, &i, &err), 0) << err.msg;
    ims_gen_params_get(&p, "pkt-size", &v);
    EXPECT_EQ(v, 9216u);
    ims_gen_params_get(&p, "ats", &v);
    EXPECT_EQ(v, 1u);
    ims_gen_params_get(&p, "policy", &v);
    EXPECT_EQ(v, 1u); // index of "pool"
    ims_gen_params_get(&p, "interval", &v);
    EXPECT_EQ(v, 2000000u);
    EXPECT_FALSE(ims_gen_params_get(&p, "window", &v)); // a uniform option
    EXPECT_EQ(ims_gen_form_of_path("x.bin"), IMS_TRACE_BINARY);
    EXPECT_EQ(ims_gen_form_of_path("x.bin.zst"), IMS_TRACE_BINARY);
    EXPECT_EQ(ims_gen_form_of_path("x.ist.zst"), IMS_TRACE_TEXT);
    EXPECT_EQ(ims_gen_form_of_path("-"), IMS_TRACE_TEXT);
}

TEST(GenOptions, ErrorsSayWhatIsWrong)
{
    struct Case {
        const char *fam;
        std::vector<std::string> args;
        const char *msg;
    } cases[] = {
        {"nic", {"--pakets", "3"}, "unknown option '--pakets' (did you mean --packets?)"},
        {"nic", {"--window", "1M"}, "unknown option '--window'"},
        {"nic", {"--packets", "abc"}, "--packets: 'abc' is not a number"},
        {"nic", {"--packets", "0"}, "--packets: 0 is out of range (1..1000000000)"},
        {"nic", {"--pkt-size", "65K"}, "--pkt-size: 65K is out of range (1..64K)"},
        {"nic", {"--interval", "fast"}, "--interval: 'fast' is not a time"},
        {"nic", {"--dir", "up"}, "--dir: 'up' is not one of rx|tx|both"},
        {"nic", {"--ats=maybe"}, "--ats: 'maybe' is not on/off"},
        {"nic", {"--packets"}, "--packets needs a value"},
        {"nic", {"stray"}, "unexpected argument 'stray'"},
        {"nic", {"--mode", "shadow"}, "--mode applies to --level guest only"},
        {"nic", {"--arrival", "poisson"}, "--arrival applies to an open loop only"},
        {"nic", {"--devices", "2"}, "--devices 2 is more than --queues 1"},
        {"nic", {"--policy", "pool", "--pool", "10"}, "--pool 10 is smaller than --ring 256"},
        {"nic", {"--packets", "5", "--warmup", "5"}, "--warmup must be less than --packets"},
        {"storage", {"--qd", "4"}, "--qd > 1 needs an open loop"},
        {"storage", {"--qd", "64"}, "--sq-entries must be more than --qd"},
        {"uniform", {"--align", "3K"}, "--align must be a power of two"},
        {"uniform", {"--window", "6000"}, "--window must be a multiple of 4K"},
        {"uniform", {"--window", "4K", "--len", "8K"}, "--len is larger than --window"},
        {"sva", {"--level", "guest", "--mode", "shadow"}, "vSVA needs a nested vIOMMU"},
        {"sva", {"--pasid-base", "1048575", "--procs", "2"}, "passes the 20-bit PASID space"},
        {"uniform", {"--level", "guest", "--vm-mem", "32M"}, "--vm-mem: 32 MiB is too small"},
    };
    for (const Case &c : cases) {
        Gen g = gen(c.fam, c.args);
        EXPECT_NE(g.rc, 0) << c.msg;
        EXPECT_NE(g.err.find(c.msg), std::string::npos) << "got: " << g.err;
        EXPECT_TRUE(g.bytes.empty());
    }
}

// ---- determinism ----------------------------------------------------------------------------------

TEST(GenDeterminism, SameSeedSameBytesOtherSeedOtherBytes)
{
    for (const char *fam : kFamilies)
        for (const char *level : {"host", "guest"})
            for (ims_trace_form form : {IMS_TRACE_TEXT, IMS_TRACE_BINARY}) {
                auto args = with(small(fam), {"--level", level});
                Gen a = gen(fam, args, form), b = gen(fam, args, form);
                ASSERT_EQ(a.rc, 0) << a.err;
                EXPECT_EQ(a.bytes, b.bytes) << fam << " " << level;
                Gen c = gen(fam, with(args, {"--seed", "2"}), form);
                ASSERT_EQ(c.rc, 0) << c.err;
                EXPECT_NE(a.bytes, c.bytes) << fam << " " << level << ": the seed changes nothing";
            }
}

TEST(GenDeterminism, BinaryAndZstdHoldTheSameRecordsAsText)
{
    auto args = with(small("nic"), {"--dir", "both", "--interval", "3us"});
    auto t = parse(gen("nic", args)), b = parse(gen("nic", args, IMS_TRACE_BINARY, true));
    ASSERT_EQ(t.size(), b.size());
    for (size_t i = 0; i < t.size(); i++)
        EXPECT_TRUE(ims_trace_rec_equal(&t[i].r, &b[i].r)) << trace_test::Canon(t[i].r);
}

// ---- what each family writes ----------------------------------------------------------------------

TEST(GenTrace, EveryFamilyBothLevelsParsesBack)
{
    for (const char *fam : kFamilies)
        for (const char *level : {"host", "guest"}) {
            Gen g = gen(fam, with(small(fam), {"--level", level}));
            ASSERT_EQ(g.rc, 0) << g.err;
            EXPECT_EQ(g.text().rfind("# iommusim gen ", 0), 0u) << "provenance comment first";
            auto recs = parse(g);
            auto v = verbs(recs);
            bool guest = std::string(level) == "guest";
            EXPECT_EQ(v[IMS_V_VM], guest ? 1 : 0);
            EXPECT_EQ(v[IMS_V_DRAIN], 1);
            EXPECT_EQ(recs.back().r.verb, IMS_V_DRAIN);
            EXPECT_EQ(v[IMS_V_MARK], 1); // run (no warmup)
            int host_recs = v[IMS_V_IOAS_ALLOC] + v[IMS_V_IOAS_MAP] + v[IMS_V_ATTACH];
            int guest_recs = v[IMS_V_GUEST_MAP] + v[IMS_V_GUEST_PASID_BIND];
            EXPECT_EQ(host_recs > 0, !guest) << fam << " " << level;
            EXPECT_EQ(guest_recs > 0, guest) << fam << " " << level;
            for (const Rec &r : recs) {
                if (r.r.verb == IMS_V_DMA) { // host: the HPA is known; guest: the VMM's choice
                    EXPECT_EQ(ims_trace_has(&r.r, IMS_K_EXPECT), !guest) << trace_test::Canon(r.r);
                }
            }
        }
}

TEST(GenTrace, NicMapPerPacketRecordCounts)
{
    const int P = 12, R = 8;
    auto v = verbs(parse(gen("nic", {"--packets", std::to_string(P), "--ring", std::to_string(R)})));
    EXPECT_EQ(v[IMS_V_DMA], 3 * P);          // descriptor read, data, descriptor write-back
    EXPECT_EQ(v[IMS_V_IOAS_UNMAP], P);       // every buffer unmapped after use
    EXPECT_EQ(v[IMS_V_IOAS_MAP], 1 + R + P); // ring, a buffer per slot, a refill per packet
    auto t = verbs(parse(gen("nic", {"--packets", "12", "--ring", "8", "--dir", "tx", "--queues", "2"})));
    EXPECT_EQ(t[IMS_V_IOAS_MAP], 2 + 12);    // 2 tx rings; tx maps only when sending
    auto pool = verbs(parse(gen("nic", {"--packets", "12", "--ring", "8", "--policy", "pool", "--pool", "10"})));
    EXPECT_EQ(pool[IMS_V_IOAS_UNMAP], 0);
    EXPECT_EQ(pool[IMS_V_IOAS_MAP], 1 + 10);
}

TEST(GenTrace, OpenLoopEveryTimedRecordIsAbsoluteAndInOrder)
{
    for (const char *fam : kFamilies) {
        auto recs = parse(gen(fam, with(small(fam), {"--interval", "700ns", "--arrival", "poisson"})));
        uint64_t last = 0;
        int at_start = 0;
        for (const Rec &r : recs) {
            if (ims_trace_schema(r.r.verb)->cls == IMS_VC_TOPOLOGY)
                continue;
            ASSERT_EQ(r.r.tmode, IMS_TIME_ABS) << fam << ": " << trace_test::Canon(r.r);
            EXPECT_GE(r.r.time_ps, last) << trace_test::Canon(r.r);
            last = r.r.time_ps;
            if (r.r.verb == IMS_V_MARK) {
                EXPECT_GE(r.r.time_ps, 100000000u) << "operations start at --start (100us)";
            }
            at_start += r.r.time_ps == 0;
        }
        EXPECT_GT(at_start, 0) << fam << ": setup is @0";
    }
}

TEST(GenTrace, ClosedLoopHasNoAbsoluteTimes)
{
    auto recs = parse(gen("storage", {"--ios", "3", "--media-time", "7us", "--driver-delay", "1us"}));
    int rel = 0;
    for (const Rec &r : recs) {
        EXPECT_NE(r.r.tmode, IMS_TIME_ABS);
        if (r.r.tmode == IMS_TIME_REL) {
            rel++;
            EXPECT_TRUE(r.r.time_ps == 7000000 || r.r.time_ps == 1000000) << trace_test::Canon(r.r);
        }
    }
    EXPECT_EQ(rel, 6); // +media before each data DMA, +driver-delay before each unmap
}

TEST(GenTrace, UniformOffsetsAndLeafPlacement)
{
    const uint64_t W = 2 << 20, A = 256, L = 64;
    for (const char *ps : {"4K", "2M", "1G"}) {
        auto recs = parse(gen("uniform", {"--window", "2M", "--dmas", "300", "--align", "256", "--page-size", ps}));
        uint64_t hpa = 0, iova = 0;
        for (const Rec &r : recs)
            if (r.r.verb == IMS_V_IOAS_MAP) {
                hpa = ims_trace_num(&r.r, IMS_K_HPA);
                iova = ims_trace_num(&r.r, IMS_K_IOVA);
                EXPECT_EQ(ims_trace_num(&r.r, IMS_K_LEN), W);
            }
        ASSERT_EQ(iova % (1 << 30), 0u) << "window IOVA 1G aligned";
        // The HPA allows leaves of exactly the asked size against the 1G-aligned IOVA.
        std::string s = ps;
        if (s == "4K")
            EXPECT_EQ(hpa % (2 << 20), 4096u);
        else if (s == "2M")
            EXPECT_TRUE(hpa % (2 << 20) == 0 && hpa % (1 << 30) != 0);
        else
            EXPECT_EQ(hpa % (1 << 30), 0u);
        std::set<uint64_t> offs;
        for (const Rec &r : recs)
            if (r.r.verb == IMS_V_DMA) {
                uint64_t off = ims_trace_num(&r.r, IMS_K_IOVA) - iova;
                EXPECT_EQ(off % A, 0u);
                EXPECT_LE(off + L, W);
                size_t n;
                EXPECT_EQ(ims_trace_expects(&r.r, &n)[0].value, hpa + off);
                offs.insert(off);
            }
        EXPECT_GT(offs.size(), 250u) << "spread over the window";
    }
}

TEST(GenTrace, SvaPasidsShareTheVaAndRootsAreReservedPages)
{
    auto host = parse(gen("sva", {"--procs", "3", "--dmas", "9", "--pasid-base", "7"}));
    std::set<uint64_t> attached;
    for (const Rec &r : host)
        if (r.r.verb == IMS_V_ATTACH)
            attached.insert(ims_trace_num(&r.r, IMS_K_PASID));
    EXPECT_EQ(attached, (std::set<uint64_t>{7, 8, 9}));
    for (const Rec &r : host)
        if (r.r.verb == IMS_V_DMA) {
            EXPECT_TRUE(attached.count(ims_trace_num(&r.r, IMS_K_PASID)));
            EXPECT_EQ(ims_trace_num(&r.r, IMS_K_IOVA) & ~0xfffffull, 0x7f0000000000ull);
        }
    auto guest = parse(gen("sva", {"--procs", "3", "--dmas", "9", "--level", "guest"}));
    std::vector<uint64_t> roots;
    std::vector<std::pair<uint64_t, uint64_t>> maps;
    for (const Rec &r : guest) {
        if (r.r.verb == IMS_V_GUEST_PASID_BIND)
            roots.push_back(ims_trace_num(&r.r, IMS_K_S1_PGTBL));
        if (r.r.verb == IMS_V_GUEST_MAP)
            maps.push_back({ims_trace_num(&r.r, IMS_K_GPA), ims_trace_num(&r.r, IMS_K_LEN)});
    }
    ASSERT_EQ(roots.size(), 3u);
    for (uint64_t root : roots) {
        EXPECT_EQ(root % 4096, 0u);
        for (auto [gpa, len] : maps) // never handed out for data
            EXPECT_TRUE(root + 4096 <= gpa || root >= gpa + len);
    }
}

// ---- replays ----------------------------------------------------------------------------------------

TEST(GenReplay, NicStrictMapPerPacketOneInvalidationPerPacket)
{
    const int P = 30;
    Gen g = gen("nic", {"--packets", std::to_string(P), "--ring", "16", "--warmup", "10"});
    auto o = replay(g, "gen_nic.ist");
    expect_clean(o);
    EXPECT_EQ(o.num("dma.count"), 3 * P);
    EXPECT_EQ(o.num("phase.warmup.dma.count"), 3 * 10);
    EXPECT_EQ(o.num("phase.run.dma.count"), 3 * (P - 10));
    EXPECT_EQ(o.num("phase.run.inv.count"), P - 10); // one strict unmap (and wait) per packet
    EXPECT_EQ(o.num("checker.checks"), 3 * P);        // every DMA is one piece, and checked
}

TEST(GenReplay, NicPoolHasNoInvalidationsInTheRun)
{
    auto o = replay(gen("nic", {"--packets", "30", "--ring", "8", "--policy", "pool", "--dir", "both", "--ats"}),
                    "gen_pool.ist");
    expect_clean(o);
    EXPECT_EQ(o.num("dma.count"), 90);
    EXPECT_EQ(o.num("phase.run.inv.count"), 0);
}

TEST(GenReplay, HostLevelFamiliesReplayClean)
{
    struct Case {
        const char *fam;
        std::vector<std::string> args;
        double dmas, run_inv; // run_inv < 0: not checked
    } cases[] = {
        {"nic", {"--packets", "40", "--ring", "8", "--dir", "both", "--queues", "2", "--devices", "2",
                 "--interval", "3us", "--ats"}, 120, 40},
        {"nic", {"--packets", "40", "--ring", "8", "--flows", "5", "--queues", "3"}, 120, 40},
        {"storage", {"--ios", "12", "--bs", "32K", "--buffers", "contig", "--read-pct", "50"}, 48, 12},
        {"storage", {"--ios", "40", "--qd", "8", "--interval", "1ps", "--sq-entries", "16"}, 120, 40},
        {"storage", {"--ios", "8", "--bs", "16K"}, 32, -1}, // one area per page: iommufd flushes each
        {"uniform", {"--dmas", "200", "--window", "4M", "--devices", "2", "--interval", "200ns"}, 200, 0},
    };
    int k = 0;
    for (const Case &c : cases) {
        auto o = replay(gen(c.fam, c.args), "gen_host" + std::to_string(k++) + ".ist");
        SCOPED_TRACE(c.fam + std::string(" case ") + std::to_string(k));
        expect_clean(o);
        EXPECT_EQ(o.num("dma.count"), c.dmas);
        if (c.run_inv >= 0)
            EXPECT_EQ(o.num("phase.run.inv.count"), c.run_inv);
        else
            EXPECT_GE(o.num("phase.run.inv.count"), 8);
    }
}

// Overload with immediate IOVA reuse (--iova-reuse 0): the driver maps an IOVA
// again while the unmap that freed it is still being flushed, with other
// unmaps' flushes queued ahead. Host level: iommufd refuses that map (EEXIST,
// as the kernel's iopt_check_iova while the unmapped area waits for its flush)
// and the packets using it fail their expect=; guest level (nested, DMAs
// without expect=): the device keeps using the old translation until the
// IOVA's own invalidation. Both are legal stale uses: waits of the other
// IOVAs' batches are not this IOVA's synchronisation point, so the checker
// reports no violation (docs/replay.md).
TEST(GenReplay, OverloadWithImmediateReuseIsNotACoherenceViolation)
{
    auto host = replay(gen("nic", {"--interval", "200ns", "--iova-reuse", "0", "--packets", "300", "--ring", "16"}),
                       "gen_reuse_host.ist");
    EXPECT_EQ(host.status, IOMMUSIM_EXIT_FAILED) << host.error;
    EXPECT_GT(host.num("expect.failures"), 0);
    EXPECT_NE(host.report.find("iommufd.ioas_map: returned EEXIST, expected ok"), std::string::npos)
        << host.report.substr(0, 600);
    EXPECT_GT(host.num("checker.stale_uses"), 0) << "the premise: stale translations were used";
    EXPECT_EQ(host.num("checker.violations"), 0) << host.report.substr(0, 600);
    auto guest = replay(gen("storage", {"--level", "guest", "--interval", "1ps", "--qd", "4", "--iova-reuse", "0",
                                        "--ios", "150", "--bs", "8K"}),
                        "gen_reuse_guest.ist");
    EXPECT_EQ(guest.status, IOMMUSIM_EXIT_OK) << guest.error << guest.report.substr(0, 600);
    EXPECT_GT(guest.num("checker.stale_uses"), 0) << "the premise: stale translations were used";
    EXPECT_EQ(guest.num("checker.violations"), 0);
}

// A window of 4K leaves misses the IOTLB far more than the same window of 2M leaves.
TEST(GenReplay, UniformLeafSizeChangesTheWalks)
{
    auto a = replay(gen("uniform", {"--window", "16M", "--dmas", "400"}), "gen_u4k.ist");
    auto b = replay(gen("uniform", {"--window", "16M", "--dmas", "400", "--page-size", "2M"}), "gen_u2m.ist");
    expect_clean(a);
    expect_clean(b);
    // 4096 pages against 64 IOTLB entries: nearly every DMA walks; 8 leaves of 2M fit.
    EXPECT_GT(a.num("phase.run.walk.count"), 350);
    EXPECT_LT(b.num("phase.run.walk.count"), 20);
}

// Linux >= 6.13 attaches a PASID only to a HWPT allocated with IOMMU_HWPT_ALLOC_PASID (1<<3;
// iommufd_hwpt_pasid_compat), and an IOAS's automatic HWPT has flags 0: the generator
// allocates one HWPT per PASID with flags=alloc_pasid over its IOAS and attaches that.
TEST(GenReplay, SvaHostLevel)
{
    Gen g = gen("sva", {"--procs", "2", "--dmas", "8", "--buf-size", "16K"});
    std::map<std::string, std::string> hwpt_over; // HWPT name -> its IOAS
    std::set<uint64_t> pasids;
    for (const Rec &r : parse(g)) {
        if (r.r.verb == IMS_V_HWPT_ALLOC) {
            EXPECT_EQ(ims_trace_num(&r.r, IMS_K_FLAGS), (uint64_t)IMS_TRACE_HWPT_ALLOC_PASID);
            EXPECT_FALSE(ims_trace_has(&r.r, IMS_K_S1_PGTBL));
            hwpt_over[ims_trace_str(&r.r, IMS_K_OUT)] = ims_trace_str(&r.r, IMS_K_PT);
        }
        if (r.r.verb == IMS_V_ATTACH) {
            ASSERT_TRUE(ims_trace_has(&r.r, IMS_K_PASID));
            EXPECT_TRUE(hwpt_over.count(ims_trace_str(&r.r, IMS_K_PT))) << "attached before its hwpt_alloc";
            pasids.insert(ims_trace_num(&r.r, IMS_K_PASID));
        }
    }
    EXPECT_EQ(hwpt_over, (std::map<std::string, std::string>{{"pasid1.hwpt", "pasid1"}, {"pasid2.hwpt", "pasid2"}}));
    EXPECT_EQ(pasids, (std::set<uint64_t>{1, 2}));

    // Both PASIDs map the same VA to different HPAs; every DMA carries expect=HPA, so a
    // clean replay means each PASID translated through its own HWPT.
    auto o = replay(g, "gen_sva_host.ist");
    expect_clean(o);
    EXPECT_EQ(o.num("dma.count"), 8);
    EXPECT_EQ(o.num("checker.checks"), 8);
    EXPECT_EQ(o.num("pasidc.inserts"), 2); // one PASID-cache entry per attached PASID

    // The binary form and an open loop with random scheduling and ATS replay clean too.
    auto b = replay(gen("sva", {"--procs", "2", "--dmas", "8", "--buf-size", "16K"}, IMS_TRACE_BINARY),
                    "gen_sva_host.bin");
    expect_clean(b);
    EXPECT_EQ(b.num("dma.count"), 8);
    auto r = replay(gen("sva", {"--procs", "5", "--dmas", "200", "--schedule", "random", "--interval", "200ns",
                                "--ats", "--warmup", "20"}),
                    "gen_sva_host_open.ist");
    expect_clean(r);
    EXPECT_EQ(r.num("dma.count"), 200);
    // Open loop: the mark does not wait for DMAs in flight, so warmup DMAs may complete in `run`.
    EXPECT_EQ(r.num("phase.warmup.dma.count") + r.num("phase.run.dma.count"), 200);
    EXPECT_GE(r.num("phase.run.dma.count"), 180);
}

TEST(GenReplay, GuestLevelFamiliesReplayClean)
{
    struct Case {
        const char *fam;
        std::vector<std::string> args;
        double dmas, run_inv;
    } cases[] = {
        {"nic", {"--packets", "20", "--ring", "8"}, 60, 20},
        {"nic", {"--packets", "20", "--ring", "8", "--mode", "shadow", "--ats", "--dir", "tx"}, 60, 20},
        {"nic", {"--packets", "20", "--ring", "8", "--interval", "4us", "--policy", "pool"}, 60, 0},
        {"storage", {"--ios", "8", "--bs", "16K", "--buffers", "contig"}, 32, 8},
        {"uniform", {"--dmas", "100", "--window", "2M", "--page-size", "2M"}, 100, 0},
        {"sva", {"--procs", "3", "--dmas", "30", "--buf-size", "16K", "--schedule", "random"}, 30, 0},
    };
    int k = 0;
    for (const Case &c : cases) {
        auto o = replay(gen(c.fam, with(c.args, {"--level", "guest"})), "gen_guest" + std::to_string(k++) + ".ist");
        SCOPED_TRACE(c.fam + std::string(" case ") + std::to_string(k));
        expect_clean(o);
        EXPECT_EQ(o.num("dma.count"), c.dmas);
        EXPECT_EQ(o.num("phase.run.inv.count"), c.run_inv);
    }
}

// ---- the command ----------------------------------------------------------------------------------

struct Cli {
    int status = -1;
    std::string out;
};

Cli cli(const std::string &cmdline)
{
    Cli r;
    FILE *p = popen((cmdline + " 2>&1").c_str(), "r");
    if (!p)
        return r;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        r.out.append(buf, n);
    int st = pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

const std::string kCli = IMS_CLI_PATH;

TEST(GenCli, HelpListsFamiliesAndEveryOptionWithItsDefault)
{
    Cli h = cli(kCli + " gen --help");
    EXPECT_EQ(h.status, 0);
    for (const char *fam : kFamilies)
        EXPECT_NE(h.out.find(std::string("  ") + fam + " "), std::string::npos) << fam;
    for (const char *fam : kFamilies) {
        Cli f = cli(kCli + " gen " + fam + " --help");
        EXPECT_EQ(f.status, 0);
        const ims_gen_family *F = ims_gen_family_find(fam);
        for (unsigned i = 0; i < F->nopts; i++) {
            EXPECT_NE(f.out.find(std::string("--") + F->opts[i].name), std::string::npos) << F->opts[i].name;
            EXPECT_NE(f.out.find(std::string("(default ") + F->opts[i].def + ")"), std::string::npos)
                << F->opts[i].name;
        }
        EXPECT_NE(f.out.find("--seed N"), std::string::npos);
    }
    EXPECT_NE(cli(kCli + " --help").out.find("gen "), std::string::npos);
}

TEST(GenCli, BadInputExitsTwoAndWritesNothing)
{
    std::string out = replay_test::temp_path("gen_cli_bad.ist");
    std::remove(out.c_str());
    Cli a = cli(kCli + " gen nic --packets 0 -o " + out);
    EXPECT_EQ(a.status, 2);
    EXPECT_NE(a.out.find("iommusim: gen nic: --packets: 0 is out of range"), std::string::npos) << a.out;
    Cli b = cli(kCli + " gen uniform --level guest --vm-mem 16M -o " + out);
    EXPECT_EQ(b.status, 2);
    EXPECT_NE(b.out.find("too small"), std::string::npos) << b.out;
    EXPECT_FALSE(std::ifstream(out).good()) << "no partial trace left behind";
    EXPECT_EQ(cli(kCli + " gen").status, 2);
    Cli c = cli(kCli + " gen disk");
    EXPECT_EQ(c.status, 2);
    EXPECT_NE(c.out.find("unknown workload family 'disk'"), std::string::npos);
    EXPECT_EQ(cli(kCli + " gen nic --format xml").status, 2);
}

TEST(GenCli, OutputFormsAndPipeIntoRun)
{
    std::string bin = replay_test::temp_path("gen_cli.bin.zst");
    ASSERT_EQ(cli(kCli + " gen uniform --dmas 50 --window 1M -o " + bin).status, 0);
    std::ifstream f(bin, std::ios::binary);
    unsigned char magic[4] = {};
    f.read(reinterpret_cast<char *>(magic), 4);
    EXPECT_EQ(magic[0], 0x28); // zstd frame
    EXPECT_EQ(magic[3], 0xfd);
    Cli v = cli(kCli + " trace validate " + bin);
    EXPECT_EQ(v.status, 0) << v.out;
    EXPECT_NE(v.out.find("ok, 56 records"), std::string::npos) << v.out; // 50 DMAs + 6 others
    Cli r = cli(kCli + " gen uniform --dmas 50 --window 1M | " + kCli + " run - --quiet");
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("iommusim run: ok"), std::string::npos) << r.out;
    // The command writes exactly what the library writes.
    Cli t = cli(kCli + " gen sva --dmas 5 --seed 9");
    Gen g = gen("sva", {"--dmas", "5", "--seed", "9"});
    EXPECT_EQ(t.out, g.text());
}

} // namespace
