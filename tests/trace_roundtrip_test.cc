// Round trips between the trace forms: text -> binary (+zstd) -> text is lossless, the canonical
// text is a fixed point, and files of every form are detected by the unified reader.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "trace_test_util.h"

using namespace trace_test;

namespace {

// Binary forms also carry the source line of each record; text re-numbers them.
void ExpectSameRecords(const std::vector<Rec> &a, const std::vector<Rec> &b, const std::string &what,
                       bool same_lines = true)
{
    ASSERT_EQ(a.size(), b.size()) << what;
    for (size_t i = 0; i < a.size(); i++) {
        EXPECT_TRUE(ims_trace_rec_equal(&a[i].r, &b[i].r)) << what << ": " << Canon(a[i].r) << " vs " << Canon(b[i].r);
        if (same_lines) {
            EXPECT_EQ(a[i].r.line, b[i].r.line) << what << " record " << i;
        }
    }
}

TEST(TraceRoundTrip, TextBinaryTextIsLossless)
{
    Parsed orig = ReadText(kAllVerbs);
    ASSERT_EQ(orig.error, "");
    std::string canon = CanonText(orig.recs);
    for (bool zstd : {false, true})
        for (size_t frame : {(size_t)0, (size_t)1, (size_t)100}) {
            if (zstd && frame)
                continue;
            std::string what = std::string(zstd ? "zstd" : "plain") + " frame " + std::to_string(frame);
            std::vector<uint8_t> bin = WriteAll(orig.recs, IMS_TRACE_BINARY, zstd, frame);
            Parsed back = ReadAll(bin.data(), bin.size(), "rt.bin");
            ASSERT_EQ(back.error, "") << what;
            ExpectSameRecords(orig.recs, back.recs, what);
            // decode: binary -> canonical text, byte for byte the canonical form of the source.
            std::vector<uint8_t> text = WriteAll(back.recs, IMS_TRACE_TEXT, false);
            EXPECT_EQ(std::string(text.begin(), text.end()), canon) << what;
        }
}

TEST(TraceRoundTrip, CanonicalTextIsAFixedPoint)
{
    Parsed a = ReadText(kAllVerbs);
    std::string c1 = CanonText(a.recs);
    Parsed b = ReadText(c1);
    ASSERT_EQ(b.error, "");
    for (size_t i = 0; i < a.recs.size(); i++)
        EXPECT_TRUE(ims_trace_rec_equal(&a.recs[i].r, &b.recs[i].r)) << Canon(a.recs[i].r);
    EXPECT_EQ(CanonText(b.recs), c1);
    // The canonical spelling of a few lines of the all-verbs trace.
    EXPECT_NE(c1.find("\nmem.write pa=0x3000 hex=00ff10ab\n"), std::string::npos);
    EXPECT_NE(c1.find("\n@10us dma dev=nic pasid=5 iova=0x1000 len=64 rd priv exec expect=0x300000|0x500000\n"),
              std::string::npos);
    EXPECT_NE(c1.find("\n+500ns dma dev=0x10 iova=0x2000 len=4K wr expect=fault\n"), std::string::npos);
    EXPECT_NE(c1.find("\niommufd.hwpt_invalidate hwpt=s1 entries=0x1000:4,0x0:all:leaf expect=ok expect_done=2\n"),
              std::string::npos);
    EXPECT_NE(c1.find("\nwait.mem pa=0x5000 val=0x1 mask=0xff timeout=1ms\n"), std::string::npos);
}

// A small deterministic generator of valid records of every verb, for a property test.
struct Gen {
    uint64_t s = 0x9E3779B97F4A7C15ull;
    uint64_t Next()
    {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    }
    uint64_t Below(uint64_t n) { return Next() % n; }
};

std::string RandomLine(Gen &g, bool topology)
{
    auto hex = [&](uint64_t v) {
        char b[32];
        snprintf(b, sizeof b, "0x%llx", (unsigned long long)v);
        return std::string(b);
    };
    auto dev = [&]() { return g.Below(2) ? hex(g.Below(0x10000)) : std::string("d") + std::to_string(g.Below(9)); };
    auto sz = [&]() { return std::to_string(1 + g.Below(1 << 20)); };
    auto addr = [&]() { return hex(g.Next() >> (g.Below(64) | 1)); };
    if (topology) {
        switch (g.Below(3)) {
        case 0:
            return "iommu unit=" + std::to_string(g.Below(64)) + " cap=" + hex(g.Next());
        case 1:
            return "device sid=" + hex(g.Below(0x10000)) + " name=d" + std::to_string(g.Below(9)) +
                   (g.Below(2) ? " ats pri" : "") + " outstanding=" + std::to_string(1 + g.Below(65536));
        default:
            return "vm id=" + std::to_string(g.Below(65536)) + " mem=" + sz() + (g.Below(2) ? " mode=shadow" : "");
        }
    }
    std::string t;
    switch (g.Below(3)) {
    case 0:
        t = "+" + std::to_string(1 + g.Below(100000)) + "ps ";
        break;
    case 1:
        t = "";
        break;
    default:
        break; // absolute times are added by the caller
    }
    switch (g.Below(12)) {
    case 0:
        return t + "dma dev=" + dev() + " pasid=" + std::to_string(g.Below(1 << 20)) +
               " iova=" + hex(g.Below(1ull << 48)) +
               " len=" + sz() + (g.Below(2) ? " rd" : " wr") + " expect=" + hex(g.Next()) + "|fault:" +
               hex(g.Below(256)) + "|fault";
    case 1:
    {
        char bytes[20];
        snprintf(bytes, sizeof bytes, "%016llx", (unsigned long long)g.Next());
        return t + "mem.write pa=" + hex(g.Below(1ull << 52)) + " hex=" + bytes + "00";
    }
    case 2:
        return t + "mmio.w64 unit=" + std::to_string(g.Below(64)) + " off=" + hex(g.Below(0x2000) * 8) +
               " val=" + hex(g.Next());
    case 3:
        return t + "iommufd.ioas_map ioas=io" + std::to_string(g.Below(5)) + " iova=" + addr() + " len=" + sz() +
               " prot=" + (g.Below(2) ? "r" : "w") + " expect=EINVAL|ENOMEM";
    case 4:
        return t + "iommufd.hwpt_invalidate hwpt=h entries=" + hex(g.Next()) + ":" + std::to_string(g.Next()) +
               ",0x0:all:leaf";
    case 5:
        return t + "guest.qi vm=" + std::to_string(g.Below(65536)) + " q0=" + hex(g.Next()) + " q1=" + hex(g.Next()) +
               " q2=" + hex(g.Next()) + " q3=0x0";
    case 6:
        return t + "wait.mem pa=" + hex(g.Below(1ull << 40)) + " val=" + hex(g.Below(1ull << 32)) +
               " timeout=" + std::to_string(1 + g.Below(1000000)) + "ps";
    case 7:
        return t + "iommufd.hwpt_alloc dev=" + dev() + " pt=p s1_pgtbl=" + addr() + " s1_aw=57 s1_flags=wpe|sre out=o";
    case 8:
        return t + "guest.map vm=1 dev=" + dev() + " iova=" + hex(g.Below(1ull << 47)) + " gpa=" +
               hex(g.Below(1ull << 40)) + " len=" + std::to_string(4096 << g.Below(10));
    case 9:
        return t + "mmio.r32 off=" + hex(g.Below(0x4000) * 4) + " expect=" + hex(g.Below(1ull << 32)) +
               " mask=" + hex(g.Below(1ull << 32));
    case 10:
        return t + "mark name=p" + std::to_string(g.Next() % 1000);
    default:
        return t + "mem.w32 pa=" + addr() + " val=" + hex(g.Below(1ull << 32));
    }
}

TEST(TraceRoundTrip, RandomRecordsSurviveEveryForm)
{
    Gen g;
    std::string text = "iommusim-trace 1\n";
    for (int i = 0; i < 30; i++)
        text += RandomLine(g, true) + "\n";
    uint64_t now = 0;
    for (int i = 0; i < 3000; i++) {
        std::string line = RandomLine(g, false);
        if (line[0] != '+' && g.Below(2)) {
            now += g.Below(5000000);
            line = "@" + std::to_string(now) + "ps " + line;
        }
        text += line + "\n";
    }
    Parsed orig = ReadText(text);
    ASSERT_EQ(orig.error, "");
    ASSERT_EQ(orig.recs.size(), 3030u);
    std::string canon = CanonText(orig.recs);
    Parsed again = ReadText(canon);
    ExpectSameRecords(orig.recs, again.recs, "canonical text", false);
    for (bool zstd : {false, true}) {
        std::vector<uint8_t> bin = WriteAll(orig.recs, IMS_TRACE_BINARY, zstd);
        Parsed back = ReadAll(bin.data(), bin.size());
        ASSERT_EQ(back.error, "");
        ExpectSameRecords(orig.recs, back.recs, zstd ? "binary+zstd" : "binary");
        std::vector<uint8_t> t = WriteAll(back.recs, IMS_TRACE_TEXT, zstd);
        Parsed tback = ReadAll(t.data(), t.size());
        ExpectSameRecords(orig.recs, tback.recs, zstd ? "text+zstd" : "text", false);
    }
}

TEST(TraceRoundTrip, FilesOfEveryFormAreDetected)
{
    Parsed orig = ReadText(kAllVerbs);
    ASSERT_EQ(orig.error, "");
    const struct {
        const char *file;
        ims_trace_form form;
        bool zstd;
    } forms[] = {{"rt.ist", IMS_TRACE_TEXT, false},
                 {"rt.ist.zst", IMS_TRACE_TEXT, true},
                 {"rt.bin", IMS_TRACE_BINARY, false},
                 {"rt.bin.zst", IMS_TRACE_BINARY, true}};
    for (const auto &f : forms) {
        std::string path = testing::TempDir() + f.file;
        ims_error err = {};
        ims_trace_writer *w = ims_trace_writer_open(path.c_str(), f.form, &err);
        ASSERT_NE(w, nullptr) << err.msg;
        for (const Rec &r : orig.recs)
            ASSERT_EQ(ims_trace_writer_write(w, &r.r, &err), 0) << err.msg;
        ASSERT_EQ(ims_trace_writer_close(w, &err), 0) << err.msg;

        ims_trace_reader *rd = ims_trace_reader_open(path.c_str(), &err);
        ASSERT_NE(rd, nullptr) << err.msg;
        EXPECT_EQ(ims_trace_reader_form(rd), f.form) << f.file;
        EXPECT_EQ(ims_trace_reader_compressed(rd), f.zstd) << f.file;
        EXPECT_EQ(std::string(ims_trace_reader_name(rd)), path);
        std::string dir = testing::TempDir();
        if (dir.size() > 1 && dir.back() == '/')
            dir.pop_back();
        EXPECT_EQ(std::string(ims_trace_reader_dir(rd)), dir) << f.file;
        std::vector<Rec> got;
        Rec rec;
        int rc;
        while ((rc = ims_trace_reader_next(rd, &rec.r, &err)) > 0)
            got.push_back(rec);
        EXPECT_EQ(rc, 0) << err.msg;
        ims_trace_reader_close(rd);
        ExpectSameRecords(orig.recs, got, f.file, f.form == IMS_TRACE_BINARY);
        std::remove(path.c_str());
    }
}

TEST(TraceRoundTrip, CompressedTextIsPlainZstd)
{
    // Our .zst files are ordinary zstd streams: the zstd tool reads them.
    if (std::system("zstd --version >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "zstd tool not installed";
    Parsed orig = ReadText(kAllVerbs);
    std::string path = testing::TempDir() + "plain.ist.zst";
    ims_error err = {};
    ims_trace_writer *w = ims_trace_writer_open(path.c_str(), IMS_TRACE_TEXT, &err);
    ASSERT_NE(w, nullptr);
    for (const Rec &r : orig.recs)
        ASSERT_EQ(ims_trace_writer_write(w, &r.r, &err), 0);
    ASSERT_EQ(ims_trace_writer_close(w, &err), 0);
    std::string out = testing::TempDir() + "plain.ist";
    ASSERT_EQ(std::system(("zstd -q -d -f '" + path + "' -o '" + out + "'").c_str()), 0);
    std::ifstream in(out);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str(), CanonText(orig.recs));
    std::remove(path.c_str());
    std::remove(out.c_str());
}

TEST(TraceRoundTrip, OpenErrorsNameThePath)
{
    ims_error err = {};
    EXPECT_EQ(ims_trace_reader_open("/nonexistent/x.ist", &err), nullptr);
    EXPECT_EQ(std::string(err.msg), "/nonexistent/x.ist: cannot open: No such file or directory");
    EXPECT_EQ(ims_trace_writer_open("/nonexistent/x.ist", IMS_TRACE_TEXT, &err), nullptr);
    EXPECT_EQ(std::string(err.msg), "/nonexistent/x.ist: cannot create: No such file or directory");
    EXPECT_EQ(ims_trace_reader_open("/", &err), nullptr);
    EXPECT_EQ(std::string(err.msg), "/: read error: Is a directory");
    EXPECT_TRUE(ims_trace_path_is_zstd("a.bin.zst"));
    EXPECT_FALSE(ims_trace_path_is_zstd("a.zstd"));
    // A zstd stream that does not hold a whole trace.
    const uint8_t junk[] = {0x28, 0xB5, 0x2F, 0xFD, 0x00};
    Parsed p = ReadAll(junk, sizeof junk, "j.zst");
    EXPECT_EQ(p.error.rfind("j.zst: zstd: ", 0), 0u) << p.error;
}

} // namespace
