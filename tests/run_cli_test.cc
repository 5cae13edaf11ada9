// `iommusim run` end to end: options, exit codes, summary, the JSON keys the
// spec requires (totals and per phase), determinism, and the binary / zstd
// forms running exactly like the text.
#include <gtest/gtest.h>

#include <cjson/cJSON.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>

#include "replay_harness.h"
#include "traces/trace_io.h"

namespace {

const std::string kTraces = std::string(IMS_SOURCE_DIR) + "/tests/traces/";

struct Out {
    int status = -1;
    std::string out, err;
};

std::string slurp(const std::string &p)
{
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

Out cli(const std::string &args, const std::string &stdin_file = "")
{
    std::string base = replay_test::temp_path(std::string("runcli_") +
                                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::string o = base + ".out", e = base + ".err";
    std::string cmd = std::string(IMS_CLI_PATH) + " " + args + " >'" + o + "' 2>'" + e + "'";
    if (!stdin_file.empty())
        cmd += " <'" + stdin_file + "'";
    int st = std::system(cmd.c_str());
    Out r;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = slurp(o);
    r.err = slurp(e);
    return r;
}

bool has(const std::string &s, const std::string &w) { return s.find(w) != std::string::npos; }

// The JSON text without its host-time line(s): what must be byte-identical.
std::string without_host(const std::string &json)
{
    std::stringstream in(json), out;
    std::string line;
    while (std::getline(in, line))
        if (!has(line, "host_seconds"))
            out << line << "\n";
    return out.str();
}

TEST(RunCli, HelpAndArgumentErrors)
{
    Out h = cli("--help");
    EXPECT_EQ(h.status, 0);
    EXPECT_TRUE(has(h.out, "  run ")) << h.out;
    Out rh = cli("run --help");
    EXPECT_EQ(rh.status, 0);
    EXPECT_TRUE(has(rh.out, "usage: iommusim run TRACE...")) << rh.out;
    Out none = cli("run");
    EXPECT_EQ(none.status, 2);
    EXPECT_TRUE(has(none.err, "iommusim: run: name at least one trace")) << none.err;
    Out opt = cli("run x.ist --bogus");
    EXPECT_EQ(opt.status, 2);
    EXPECT_TRUE(has(opt.err, "unknown option '--bogus'")) << opt.err;
    Out key = cli("run " + kTraces + "timing.ist --set iotlb.entriez=3");
    EXPECT_EQ(key.status, 2);
    EXPECT_TRUE(has(key.err, "iotlb.entries")) << "suggests the closest key: " << key.err;
    Out missing = cli("run " + replay_test::temp_path("nope.ist"));
    EXPECT_EQ(missing.status, 2);
    EXPECT_TRUE(has(missing.err, "nope.ist")) << missing.err;
}

TEST(RunCli, SummaryAndJsonWithEveryRequiredKey)
{
    std::string json = replay_test::temp_path("runcli_timing.json");
    Out r = cli("run " + kTraces + "timing.ist --json " + json);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(has(r.out, "iommusim run: ok: 7 records, 3.000 us simulated")) << r.out;
    EXPECT_TRUE(has(r.out, "IOTLB hit rate")) << r.out;
    EXPECT_TRUE(has(r.out, "after")) << "a column per phase: " << r.out;
    EXPECT_FALSE(has(r.err, "\r")) << "no progress line when stderr is not a terminal";
    cJSON *root = cJSON_Parse(slurp(json).c_str());
    ASSERT_NE(root, nullptr);
    const char *keys[] = {"sim.records", "sim.simulated_ns", "dma.count", "dma.faults", "dma.latency_ns.mean",
                          "dma.latency_ns.p50", "dma.latency_ns.p99", "dma.latency_ns.max", "iotlb.lookups",
                          "iotlb.hits", "iotlb.misses", "walk.count", "walk.mem_reads", "qi.descriptors",
                          "inv.count", "inv.latency_ns.mean", "inv.latency_ns.p50", "inv.latency_ns.p99",
                          "checker.violations", "expect.failures"};
    for (std::string prefix : {"", "phase.start.", "phase.after."})
        for (const char *k : keys)
            EXPECT_TRUE(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, (prefix + k).c_str())))
                << prefix << k;
    EXPECT_TRUE(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, "sim.host_seconds")));
    cJSON_Delete(root);
}

TEST(RunCli, JsonToStdoutMovesTheSummaryToStderr)
{
    Out r = cli("run " + kTraces + "checker_inv_ok.ist --json - --quiet");
    ASSERT_EQ(r.status, 0) << r.err;
    cJSON *root = cJSON_Parse(r.out.c_str());
    EXPECT_NE(root, nullptr) << "stdout is exactly the JSON object: " << r.out;
    cJSON_Delete(root);
    EXPECT_TRUE(has(r.err, "iommusim run: ok:")) << r.err;
}

TEST(RunCli, ViolationExitsOneAndTheCheckerCanBeSwitchedOff)
{
    std::string trace = kTraces + "checker_inv_missing.ist";
    Out r = cli("run " + trace + " --quiet");
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(has(r.err, trace + ":53: coherence violation")) << r.err;
    EXPECT_TRUE(has(r.out, "FAILED")) << r.out;
    std::string json = replay_test::temp_path("runcli_off.json");
    Out off = cli("run " + trace + " --quiet --set checker.enable=false --json " + json);
    EXPECT_EQ(off.status, 0) << off.err;
    EXPECT_TRUE(has(slurp(json), "\"checker.violations\": 0")) << "the key exists with the checker off";
}

TEST(RunCli, BadInputWritesNoJson)
{
    std::string json = replay_test::temp_path("runcli_bad.json");
    std::remove(json.c_str());
    Out r = cli("run " + kTraces + "bad_input.ist --json " + json);
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(has(r.err, "bad_input.ist:5: dma: dev=ghost is not declared")) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_FALSE(std::ifstream(json).good());
}

TEST(RunCli, SameInputsGiveByteIdenticalJson)
{
    // Random replacement and a random page-walk hit latency exercise the RNG.
    std::string args = "run " + kTraces + "ats_inv_ok.ist --quiet --set iotlb.policy=random "
                       "--set devtlb.policy=random --set mem.walk_hit_prob=0.5 --json ";
    std::string a = replay_test::temp_path("det_a.json"), b = replay_test::temp_path("det_b.json");
    Out ra = cli(args + a), rb = cli(args + b);
    ASSERT_EQ(ra.status, 0) << ra.err;
    ASSERT_EQ(rb.status, 0) << rb.err;
    std::string ja = slurp(a), jb = slurp(b);
    EXPECT_TRUE(has(ja, "host_seconds"));
    EXPECT_EQ(without_host(ja), without_host(jb));
    // A different seed changes the random draws (and so, here, the timing).
    std::string c = replay_test::temp_path("det_c.json");
    Out rc = cli(args + c + " --set sim.seed=99");
    ASSERT_EQ(rc.status, 0) << rc.err;
    EXPECT_NE(without_host(ja), without_host(slurp(c)));
}

// Text -> binary (and zstd binary, and zstd text) through the library writer;
// every form must run to the same statistics.
void convert(const std::string &in, const std::string &out, ims_trace_form form)
{
    ims_error err{};
    ims_trace_reader *r = ims_trace_reader_open(in.c_str(), &err);
    ASSERT_NE(r, nullptr) << err.msg;
    ims_trace_writer *w = ims_trace_writer_open(out.c_str(), form, &err);
    ASSERT_NE(w, nullptr) << err.msg;
    ims_trace_rec rec;
    ims_trace_rec_init(&rec);
    int rc;
    while ((rc = ims_trace_reader_next(r, &rec, &err)) > 0)
        ASSERT_EQ(ims_trace_writer_write(w, &rec, &err), 0) << err.msg;
    ASSERT_EQ(rc, 0) << err.msg;
    ASSERT_EQ(ims_trace_writer_close(w, &err), 0) << err.msg;
    ims_trace_reader_close(r);
    ims_trace_rec_free(&rec);
}

TEST(RunCli, BinaryAndCompressedFormsRunLikeTheText)
{
    std::string text = kTraces + "checker_inv_missing.ist";
    std::string dir = replay_test::temp_dir();
    convert(text, dir + "conv.bin", IMS_TRACE_BINARY);
    convert(text, dir + "conv.bin.zst", IMS_TRACE_BINARY);
    convert(text, dir + "conv.ist.zst", IMS_TRACE_TEXT);
    Out ref = cli("run " + text + " --quiet --json " + dir + "conv_ref.json");
    ASSERT_EQ(ref.status, 1);
    std::string want = without_host(slurp(dir + "conv_ref.json"));
    for (const char *f : {"conv.bin", "conv.bin.zst", "conv.ist.zst"}) {
        Out o = cli("run " + dir + f + " --quiet --json " + dir + "conv_out.json");
        EXPECT_EQ(o.status, 1) << f << o.err;
        // The binary form keeps source lines; canonical text renumbers them.
        bool binary = std::string(f).find(".bin") != std::string::npos;
        EXPECT_TRUE(has(o.err, std::string(f) + (binary ? ":53: coherence violation" : ":32: coherence violation")))
            << f << ": " << o.err;
        EXPECT_EQ(without_host(slurp(dir + "conv_out.json")), want) << f;
    }
    // Standard input.
    Out in = cli("run - --quiet --json " + dir + "conv_in.json", dir + "conv.bin.zst");
    EXPECT_EQ(in.status, 1) << in.err;
    EXPECT_EQ(without_host(slurp(dir + "conv_in.json")), want);
}

} // namespace
