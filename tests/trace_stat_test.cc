// Trace statistics and the whole-trace tools behind `iommusim trace` (traces/trace_stat.h).
#include <gtest/gtest.h>

#include <cjson/cJSON.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "traces/trace_stat.h"

namespace {

// Every figure below is counted by hand from this trace.
const char *kSmall =
    "iommusim-trace 1\n"
    "# two declared devices; 0x20 is only used by SID\n"
    "device sid=0x10 name=nic ats\n"
    "device sid=0x18 unit=1 name=gpu\n"
    "mem.w64 pa=0x2000 val=0x1\n"
    "mem.write pa=0x1ff0 hex=0011223344\n"
    "mem.w32 pa=0x3000 val=7\n"
    "\n"
    "mmio.r32 off=0x1c expect=0x80000000 mask=0x80000000\n"
    "@2us dma dev=nic iova=0x1000 len=4K rd\n"
    "+100ns dma dev=0x10 iova=0x800 len=16 wr expect=0x300800\n"
    "@5us dma dev=gpu iova=0x40000 len=64 rd expect=fault|0x1000\n"
    "dma dev=0x20 iova=0x9000 len=1 wr\n"
    "+1us dma dev=nobody iova=0 len=8 rd\n"
    "iommufd.ioas_alloc out=a expect=EINVAL\n"
    "iommufd.hwpt_invalidate hwpt=s1 entries=0x1000:1 expect_done=1\n"
    "mark name=end\n";

// The canonical text of kSmall (what `trace decode` writes).
const char *kSmallCanonical =
    "iommusim-trace 1\n"
    "device sid=0x10 name=nic ats\n"
    "device sid=0x18 unit=1 name=gpu\n"
    "mem.w64 pa=0x2000 val=0x1\n"
    "mem.write pa=0x1ff0 hex=0011223344\n"
    "mem.w32 pa=0x3000 val=0x7\n"
    "mmio.r32 off=0x1c expect=0x80000000 mask=0x80000000\n"
    "@2us dma dev=nic iova=0x1000 len=4K rd\n"
    "+100ns dma dev=0x10 iova=0x800 len=16 wr expect=0x300800\n"
    "@5us dma dev=gpu iova=0x40000 len=64 rd expect=fault|0x1000\n"
    "dma dev=0x20 iova=0x9000 len=1 wr\n"
    "+1us dma dev=nobody iova=0x0 len=8 rd\n"
    "iommufd.ioas_alloc out=a expect=EINVAL\n"
    "iommufd.hwpt_invalidate hwpt=s1 entries=0x1000:1 expect_done=1\n"
    "mark name=end\n";

std::string temp_path(const std::string &name)
{
    return ::testing::TempDir() + "trace_stat_" + name;
}

std::string write_file(const std::string &name, const std::string &text)
{
    std::string p = temp_path(name);
    std::ofstream(p, std::ios::binary) << text;
    return p;
}

std::string read_file(const std::string &path)
{
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

bool exists(const std::string &path)
{
    return std::ifstream(path).good();
}

// What a FILE-writing function printed.
template <typename F> std::string capture(F fn)
{
    FILE *f = tmpfile();
    EXPECT_NE(f, nullptr);
    fn(f);
    std::string s;
    rewind(f);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        s.append(buf, n);
    fclose(f);
    return s;
}

struct Stat {
    ims_trace_stat *s = ims_trace_stat_create();
    ~Stat() { ims_trace_stat_destroy(s); }
};

TEST(TraceCliStat, CountsOfASmallTraceByHand)
{
    std::string path = write_file("small.ist", kSmall);
    Stat st;
    ims_error err{};
    ASSERT_EQ(ims_trace_stat_read(st.s, path.c_str(), &err), 0) << err.msg;
    const ims_trace_stat_sum *m = ims_trace_stat_summary(st.s);
    EXPECT_EQ(m->files, 1u);
    EXPECT_EQ(m->records, 14u);
    EXPECT_EQ(m->verb[IMS_V_DEVICE], 2u);
    EXPECT_EQ(m->verb[IMS_V_MEM_W64], 1u);
    EXPECT_EQ(m->verb[IMS_V_MEM_WRITE], 1u);
    EXPECT_EQ(m->verb[IMS_V_MEM_W32], 1u);
    EXPECT_EQ(m->verb[IMS_V_MMIO_R32], 1u);
    EXPECT_EQ(m->verb[IMS_V_DMA], 5u);
    EXPECT_EQ(m->verb[IMS_V_IOAS_ALLOC], 1u);
    EXPECT_EQ(m->verb[IMS_V_HWPT_INVALIDATE], 1u);
    EXPECT_EQ(m->verb[IMS_V_MARK], 1u);
    EXPECT_EQ(m->verb[IMS_V_DRAIN], 0u);
    // Time: @2us and @5us; +100ns and +1us.
    EXPECT_EQ(m->abs_records, 2u);
    EXPECT_EQ(m->abs_first_ps, 2000000u);
    EXPECT_EQ(m->abs_last_ps, 5000000u);
    EXPECT_EQ(m->rel_records, 2u);
    EXPECT_EQ(m->rel_total_ps, 1100000u);
    // mem.w64 [0x2000, 0x2007], mem.write [0x1ff0, 0x1ff4], mem.w32 [0x3000, 0x3003].
    EXPECT_EQ(m->mem_writes, 3u);
    EXPECT_EQ(m->mem_bytes, 17u);
    EXPECT_EQ(m->mem_pa_min, 0x1ff0u);
    EXPECT_EQ(m->mem_pa_max, 0x3003u);
    EXPECT_EQ(m->expect_dma, 2u);
    EXPECT_EQ(m->expect_mmio, 1u);
    EXPECT_EQ(m->expect_host, 1u);
    EXPECT_EQ(m->expect_done, 1u);
    EXPECT_EQ(m->dma_unresolved, 1u); // dev=nobody

    ASSERT_EQ(ims_trace_stat_ndevs(st.s), 3u);
    const ims_trace_stat_dev *nic = ims_trace_stat_dev_of(st.s, 0x10);
    ASSERT_NE(nic, nullptr);
    EXPECT_STREQ(nic->name, "nic");
    EXPECT_TRUE(nic->declared);
    EXPECT_TRUE(nic->ats);
    EXPECT_EQ(nic->unit, 0u);
    EXPECT_EQ(nic->dma, 2u); // by name and by SID
    EXPECT_EQ(nic->rd, 1u);
    EXPECT_EQ(nic->wr, 1u);
    EXPECT_EQ(nic->bytes, 4096u + 16u);
    EXPECT_EQ(nic->iova_min, 0x800u);
    EXPECT_EQ(nic->iova_max, 0x1fffu);
    const ims_trace_stat_dev *gpu = ims_trace_stat_dev_of(st.s, 0x18);
    ASSERT_NE(gpu, nullptr);
    EXPECT_EQ(gpu->unit, 1u);
    EXPECT_FALSE(gpu->ats);
    EXPECT_EQ(gpu->dma, 1u);
    EXPECT_EQ(gpu->iova_min, 0x40000u);
    EXPECT_EQ(gpu->iova_max, 0x4003fu);
    const ims_trace_stat_dev *anon = ims_trace_stat_dev_of(st.s, 0x20);
    ASSERT_NE(anon, nullptr);
    EXPECT_FALSE(anon->declared);
    EXPECT_STREQ(anon->name, "");
    EXPECT_EQ(anon->wr, 1u);
    EXPECT_EQ(anon->iova_min, 0x9000u);
    EXPECT_EQ(anon->iova_max, 0x9000u);
    EXPECT_EQ(ims_trace_stat_dev_of(st.s, 0x11), nullptr);
}

TEST(TraceCliStat, TextOutputListsOnlyVerbsThatOccur)
{
    std::string path = write_file("text.ist", kSmall);
    Stat st;
    ims_error err{};
    ASSERT_EQ(ims_trace_stat_read(st.s, path.c_str(), &err), 0) << err.msg;
    std::string out = capture([&](FILE *f) { EXPECT_EQ(ims_trace_stat_write_text(st.s, f), 0); });
    auto line = [&](const std::string &key) {
        size_t at = out.find("\n" + key + " ");
        if (at == std::string::npos)
            return std::string("<missing>");
        size_t v = out.find_first_not_of(' ', at + 1 + key.size());
        return out.substr(v, out.find('\n', v) - v);
    };
    EXPECT_EQ(out.rfind("files ", 0), 0u);
    EXPECT_EQ(line("records"), "14");
    EXPECT_EQ(line("records.dma"), "5");
    EXPECT_EQ(line("records.drain"), "<missing>");
    EXPECT_EQ(line("time.abs.first_ps"), "2000000 (2us)");
    EXPECT_EQ(line("time.rel.total_ps"), "1100000 (1100ns)");
    EXPECT_EQ(line("device.0x0010.name"), "nic");
    EXPECT_EQ(line("device.0x0010.iova_max"), "0x1fff");
    EXPECT_EQ(line("device.0x0020.declared"), "0");
    EXPECT_EQ(line("device.0x0020.unit"), "<missing>"); // undeclared: no unit
    EXPECT_EQ(line("mem.pa_min"), "0x1ff0");
    EXPECT_EQ(line("expect.total"), "4");
    EXPECT_EQ(line("host.seconds"), "<missing>"); // only once set
    // Devices come in SID order.
    EXPECT_LT(out.find("device.0x0010."), out.find("device.0x0018."));
    EXPECT_LT(out.find("device.0x0018."), out.find("device.0x0020."));
}

TEST(TraceCliStat, JsonHasEveryVerbAndExactValues)
{
    std::string path = write_file("json.ist", kSmall);
    Stat st;
    ims_error err{};
    ASSERT_EQ(ims_trace_stat_read(st.s, path.c_str(), &err), 0) << err.msg;
    ims_trace_stat_set_host(st.s, 0.5, 0.25, 1234);
    std::string out = capture([&](FILE *f) { EXPECT_EQ(ims_trace_stat_write_json(st.s, f), 0); });
    cJSON *j = cJSON_Parse(out.c_str());
    ASSERT_NE(j, nullptr) << out;
    auto num = [&](const char *k) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
        return cJSON_IsNumber(v) ? v->valuedouble : -1.0;
    };
    auto str = [&](const char *k) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
        return cJSON_IsString(v) ? std::string(v->valuestring) : std::string("<none>");
    };
    EXPECT_EQ(num("records"), 14);
    for (int v = 1; v < IMS_V_COUNT; v++) // a fixed key set: zero counts included
        EXPECT_GE(num(("records." + std::string(ims_trace_verb_name((ims_trace_verb)v))).c_str()), 0) << v;
    EXPECT_EQ(num("records.drain"), 0);
    EXPECT_EQ(num("records.dma"), 5);
    EXPECT_EQ(num("devices"), 3);
    EXPECT_EQ(str("device.0x0018.name"), "gpu");
    EXPECT_EQ(str("device.0x0018.iova_min"), "0x40000");
    EXPECT_EQ(num("device.0x0010.bytes"), 4112);
    EXPECT_EQ(str("mem.pa_max"), "0x3003");
    EXPECT_EQ(num("time.abs.last_ps"), 5000000);
    EXPECT_EQ(num("dma.unresolved"), 1);
    EXPECT_EQ(num("host.seconds"), 0.5);
    EXPECT_EQ(num("host.cpu_seconds"), 0.25);
    EXPECT_EQ(num("host.records_per_s"), 28);     // 14 records in 0.5 s
    EXPECT_EQ(num("host.records_per_cpu_s"), 56); // and in 0.25 s of CPU
    EXPECT_EQ(num("host.peak_rss_kb"), 1234);
    cJSON_Delete(j);
}

TEST(TraceCliStat, JsonCountsAreExactBeyondDoublePrecision)
{
    // Two +D of 10^19 ps: the sum saturates at 2^64-1, printed as an exact integer.
    std::string path = write_file("big.ist", "iommusim-trace 1\n+10000000000000000000ps drain\n"
                                             "+10000000000000000000ps drain\n");
    Stat st;
    ims_error err{};
    ASSERT_EQ(ims_trace_stat_read(st.s, path.c_str(), &err), 0) << err.msg;
    std::string out = capture([&](FILE *f) { ims_trace_stat_write_json(st.s, f); });
    EXPECT_NE(out.find("\"time.rel.total_ps\": 18446744073709551615,\n"), std::string::npos) << out;
}

TEST(TraceCliStat, RenamedDeviceResolvesByItsNewName)
{
    std::string path = write_file("rename.ist",
                                  "iommusim-trace 1\n"
                                  "device sid=0x10 name=old\n"
                                  "device sid=0x10 name=new ats\n"
                                  "device sid=0x11 name=other\n"
                                  "dma dev=new iova=0x1000 len=8 rd\n"
                                  "dma dev=old iova=0x1000 len=8 rd\n"
                                  "dma dev=other iova=0x2000 len=8 wr\n");
    Stat st;
    ims_error err{};
    ASSERT_EQ(ims_trace_stat_read(st.s, path.c_str(), &err), 0) << err.msg;
    EXPECT_EQ(ims_trace_stat_ndevs(st.s), 2u);
    EXPECT_STREQ(ims_trace_stat_dev_of(st.s, 0x10)->name, "new");
    EXPECT_EQ(ims_trace_stat_dev_of(st.s, 0x10)->dma, 1u);
    EXPECT_EQ(ims_trace_stat_dev_of(st.s, 0x11)->dma, 1u);
    EXPECT_EQ(ims_trace_stat_summary(st.s)->dma_unresolved, 1u); // "old" is gone
}

TEST(TraceCliStat, FilesAccumulateAndAnErrorNamesFileAndLine)
{
    std::string a = write_file("acc_a.ist", kSmall);
    std::string bad = write_file("acc_bad.ist", "iommusim-trace 1\ndrain\ndma dev=1 iova=0 len=0 rd\ndrain\n");
    Stat st;
    ims_error err{};
    ASSERT_EQ(ims_trace_stat_read(st.s, a.c_str(), &err), 0) << err.msg;
    ASSERT_EQ(ims_trace_stat_read(st.s, a.c_str(), &err), 0) << err.msg;
    EXPECT_EQ(ims_trace_stat_summary(st.s)->files, 2u);
    EXPECT_EQ(ims_trace_stat_summary(st.s)->records, 28u);
    EXPECT_EQ(ims_trace_stat_dev_of(st.s, 0x10)->dma, 4u);
    EXPECT_LT(ims_trace_stat_read(st.s, bad.c_str(), &err), 0);
    EXPECT_NE(std::string(err.msg).find(bad + ":3: dma: len=0"), std::string::npos) << err.msg;
    EXPECT_EQ(ims_trace_stat_summary(st.s)->files, 2u);    // the bad one is not a file read
    EXPECT_EQ(ims_trace_stat_summary(st.s)->records, 29u); // its drain before the error counts
}

TEST(TraceCliTools, EncodeThenDecodeGivesTheCanonicalText)
{
    std::string in = write_file("rt.ist", kSmall);
    for (const char *name : {"rt.bin", "rt.ist.zst"}) {
        std::string bin = temp_path(name), txt = temp_path(std::string(name) + ".txt");
        ims_error err{};
        ASSERT_EQ(ims_trace_convert(in.c_str(), bin.c_str(), IMS_TRACE_BINARY, &err), 14) << err.msg;
        std::string raw = read_file(bin);
        if (std::string(name).find(".zst") != std::string::npos)
            EXPECT_EQ(raw.substr(0, 4), std::string("\x28\xb5\x2f\xfd", 4)); // zstd magic
        else
            EXPECT_EQ(raw.substr(0, 8), std::string("\x89IMSTRC\n", 8)); // binary magic
        ASSERT_EQ(ims_trace_convert(bin.c_str(), txt.c_str(), IMS_TRACE_TEXT, &err), 14) << err.msg;
        EXPECT_EQ(read_file(txt), kSmallCanonical) << name;
    }
    // Text straight to text is the same canonical form.
    std::string txt = temp_path("rt_direct.ist");
    ims_error err{};
    ASSERT_EQ(ims_trace_convert(in.c_str(), txt.c_str(), IMS_TRACE_TEXT, &err), 14) << err.msg;
    EXPECT_EQ(read_file(txt), kSmallCanonical);
}

TEST(TraceCliTools, ConvertErrorRemovesTheOutputAndNamesTheLine)
{
    std::string in = write_file("cerr.ist", "iommusim-trace 1\ndrain\nmark name=a\ndma dev=1 iova=0 len=1\n");
    std::string out = temp_path("cerr.bin");
    std::ofstream(out) << "old";
    ims_error err{};
    EXPECT_LT(ims_trace_convert(in.c_str(), out.c_str(), IMS_TRACE_BINARY, &err), 0);
    EXPECT_NE(std::string(err.msg).find(in + ":4: "), std::string::npos) << err.msg;
    EXPECT_FALSE(exists(out));
    // An input that cannot be opened creates nothing.
    std::string missing = temp_path("does_not_exist.ist");
    EXPECT_LT(ims_trace_convert(missing.c_str(), out.c_str(), IMS_TRACE_BINARY, &err), 0);
    EXPECT_NE(std::string(err.msg).find(missing + ": "), std::string::npos) << err.msg;
    EXPECT_FALSE(exists(out));
}

TEST(TraceCliTools, ConvertRefusesToOverwriteItsInput)
{
    std::string in = write_file("same.ist", kSmall);
    ims_error err{};
    EXPECT_EQ(ims_trace_convert(in.c_str(), in.c_str(), IMS_TRACE_TEXT, &err), -EINVAL);
    EXPECT_NE(std::string(err.msg).find("same file"), std::string::npos) << err.msg;
    EXPECT_EQ(read_file(in), kSmall); // untouched
}

TEST(TraceCliTools, ListPrintsSourceLineAndCanonicalRecord)
{
    std::string in = write_file("list.ist", kSmall);
    ims_error err{};
    std::string out = capture([&](FILE *f) { EXPECT_EQ(ims_trace_list(in.c_str(), f, false, &err), 14); });
    // Lines 1 (header), 2 (comment) and 8 (blank) are not records.
    EXPECT_EQ(out.substr(0, out.find('\n', out.find('\n') + 1) + 1),
              "3: device sid=0x10 name=nic ats\n4: device sid=0x18 unit=1 name=gpu\n");
    EXPECT_NE(out.find("\n9: mmio.r32 off=0x1c expect=0x80000000 mask=0x80000000\n"), std::string::npos) << out;
    EXPECT_NE(out.find("\n14: +1us dma dev=nobody iova=0x0 len=8 rd\n"), std::string::npos) << out;
    // The binary form keeps the text's line numbers.
    std::string bin = temp_path("list.bin");
    ASSERT_EQ(ims_trace_convert(in.c_str(), bin.c_str(), IMS_TRACE_BINARY, &err), 14) << err.msg;
    std::string out_bin = capture([&](FILE *f) { EXPECT_EQ(ims_trace_list(bin.c_str(), f, false, &err), 14); });
    EXPECT_EQ(out_bin, out);
    std::string named = capture([&](FILE *f) { ims_trace_list(in.c_str(), f, true, &err); });
    EXPECT_EQ(named.rfind(in + ":3: device sid=0x10 name=nic ats\n", 0), 0u) << named;
}

TEST(TraceCliTools, ListGrowsItsBufferForLongRecords)
{
    std::string hex(2 * 5000, 'a'); // a 5000-byte mem.write: longer than the initial buffer
    std::string in = write_file("long.ist", "iommusim-trace 1\nmem.write pa=0x0 hex=" + hex + "\ndrain\n");
    ims_error err{};
    std::string out = capture([&](FILE *f) { EXPECT_EQ(ims_trace_list(in.c_str(), f, false, &err), 2); });
    EXPECT_EQ(out, "2: mem.write pa=0x0 hex=" + hex + "\n3: drain\n");
}

TEST(TraceCliTools, ValidateCountsRecordsAndReportsFileLine)
{
    std::string ok = write_file("val_ok.ist", kSmall);
    ims_error err{};
    EXPECT_EQ(ims_trace_validate(ok.c_str(), &err), 14);
    std::string bad = write_file("val_bad.ist", "iommusim-trace 1\n\ndrain\n@1us dmaa dev=1\n");
    EXPECT_LT(ims_trace_validate(bad.c_str(), &err), 0);
    EXPECT_NE(std::string(err.msg).find(bad + ":4: "), std::string::npos) << err.msg;
    EXPECT_NE(std::string(err.msg).find("did you mean 'dma'"), std::string::npos) << err.msg;
}

TEST(TraceCliTools, CorruptOrTruncatedBinaryIsAnError)
{
    std::string in = write_file("corrupt.ist", kSmall);
    std::string bin = temp_path("corrupt.bin");
    ims_error err{};
    ASSERT_EQ(ims_trace_convert(in.c_str(), bin.c_str(), IMS_TRACE_BINARY, &err), 14) << err.msg;
    std::string good = read_file(bin);
    // docs/trace-format.md: the 16-byte header, then frames with a CRC-32C.
    std::string flipped = good;
    flipped[24] = (char)(flipped[24] ^ 0x40);
    std::string c = write_file("corrupt_flip.bin", flipped);
    EXPECT_LT(ims_trace_validate(c.c_str(), &err), 0);
    EXPECT_NE(std::string(err.msg).find(c + ": "), std::string::npos) << err.msg;
    EXPECT_NE(std::string(err.msg).find("checksum"), std::string::npos) << err.msg;
    std::string t = write_file("corrupt_trunc.bin", good.substr(0, good.size() - 3));
    EXPECT_LT(ims_trace_validate(t.c_str(), &err), 0);
    EXPECT_NE(std::string(err.msg).find("truncated"), std::string::npos) << err.msg;
    // Listing a corrupt file prints no record at all: its frame is never trusted.
    std::string listed = capture([&](FILE *f) { EXPECT_LT(ims_trace_list(c.c_str(), f, false, &err), 0); });
    EXPECT_EQ(listed, "");
}

} // namespace
