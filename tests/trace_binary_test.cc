// Binary trace form: layout, CRC32C framing, corruption/truncation detection, zstd, streaming.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "trace_test_util.h"

using namespace trace_test;

namespace {

using Bytes = std::vector<uint8_t>;

void PutVarint(Bytes &b, uint64_t v)
{
    while (v >= 0x80) {
        b.push_back((uint8_t)(v | 0x80));
        v >>= 7;
    }
    b.push_back((uint8_t)v);
}

void PutCrc(Bytes &b, size_t from)
{
    uint32_t crc = ims_crc32c(0, b.data() + from, b.size() - from);
    for (int i = 0; i < 4; i++)
        b.push_back((uint8_t)(crc >> (8 * i)));
}

Bytes Header(unsigned version = 1, unsigned flags = 0)
{
    Bytes b(IMS_BIN_MAGIC, IMS_BIN_MAGIC + IMS_BIN_MAGIC_LEN);
    b.push_back((uint8_t)version);
    b.push_back((uint8_t)(version >> 8));
    b.push_back((uint8_t)flags);
    b.push_back((uint8_t)(flags >> 8));
    PutCrc(b, 0);
    return b;
}

void Frame(Bytes &b, const Bytes &payload, uint64_t nrec)
{
    size_t from = b.size();
    PutVarint(b, payload.size());
    PutVarint(b, nrec);
    b.insert(b.end(), payload.begin(), payload.end());
    PutCrc(b, from);
}

std::vector<Rec> AllVerbs()
{
    Parsed p = ReadText(kAllVerbs);
    EXPECT_EQ(p.error, "");
    return p.recs;
}

// Records read before an error must be exactly the leading originals.
void ExpectPrefixOf(const Parsed &got, const std::vector<Rec> &orig, const std::string &what)
{
    ASSERT_LE(got.recs.size(), orig.size()) << what;
    for (size_t i = 0; i < got.recs.size(); i++) {
        ASSERT_TRUE(ims_trace_rec_equal(&got.recs[i].r, &orig[i].r)) << what << " record " << i;
        ASSERT_EQ(got.recs[i].r.line, orig[i].r.line) << what << " record " << i;
    }
}

TEST(TraceBinary, Crc32cCheckValue)
{
    // CRC-32C (Castagnoli) standard check value over "123456789".
    EXPECT_EQ(ims_crc32c(0, "123456789", 9), 0xE3069283u);
    EXPECT_EQ(ims_crc32c(ims_crc32c(0, "1234", 4), "56789", 5), 0xE3069283u); // chaining
    EXPECT_EQ(ims_crc32c(0, "", 0), 0u);
}

TEST(TraceBinary, EmptyTraceIsHeaderAndEndFrame)
{
    Bytes got = WriteAll({}, IMS_TRACE_BINARY, false);
    Bytes want = Header();
    ASSERT_EQ(want.size(), 16u);
    EXPECT_EQ(want[0], 0x89);
    EXPECT_EQ(std::string(want.begin() + 1, want.begin() + 7), "IMSTRC");
    Frame(want, {}, 0); // end frame: no payload, total record count 0
    EXPECT_EQ(got, want);
    Parsed p = ReadAll(got.data(), got.size(), "e.bin");
    EXPECT_EQ(p.error, "");
    EXPECT_EQ(p.recs.size(), 0u);
}

TEST(TraceBinary, OneRecordExactBytes)
{
    Parsed p = ReadText("iommusim-trace 1\ndrain\n");
    ASSERT_EQ(p.recs.size(), 1u);
    Bytes want = Header();
    // verb byte (drain = 30, no time prefix), zigzag line delta 2 -> 4, presence mask 0.
    Frame(want, {0x1e, 0x04, 0x00}, 1);
    Frame(want, {}, 1);
    EXPECT_EQ(WriteAll(p.recs, IMS_TRACE_BINARY, false), want);

    // @2us dma dev=0x10 iova=0x1000 len=8 rd: time mode 1 in bits 7:6, time and iova delta-coded.
    p = ReadText("iommusim-trace 1\n@2us dma dev=0x10 iova=0x1000 len=8 rd\n");
    ASSERT_EQ(p.recs.size(), 1u);
    Bytes payload = {0x0d | 0x40, 0x04};
    PutVarint(payload, 2000000 * 2); // zigzag(+2,000,000 ps)
    PutVarint(payload, 0x1d);        // dev iova len rd = fields 0,2,3,4
    PutVarint(payload, 0x10 << 1);   // dev: SID, tag bit 0
    PutVarint(payload, 0x1000 * 2);  // iova: zigzag delta from 0
    PutVarint(payload, 8);           // len
    want = Header();
    Frame(want, payload, 1);
    Frame(want, {}, 1);
    EXPECT_EQ(WriteAll(p.recs, IMS_TRACE_BINARY, false), want);
}

TEST(TraceBinary, DeltaCodingKeepsRecordsSmall)
{
    std::string text = "iommusim-trace 1\n";
    for (int i = 0; i < 1000; i++)
        text += "@" + std::to_string(i * 100) + "ns dma dev=0x10 iova=" + std::to_string(0x10000000 + i * 4096) +
                " len=64 rd\n";
    Parsed p = ReadText(text);
    ASSERT_EQ(p.recs.size(), 1000u);
    Bytes b = WriteAll(p.recs, IMS_TRACE_BINARY, false);
    EXPECT_LT(b.size(), 1000u * 12); // ~11 bytes each, against ~50 as text
    Parsed back = ReadAll(b.data(), b.size());
    EXPECT_EQ(back.error, "");
    ExpectPrefixOf(back, p.recs, "delta");
    EXPECT_EQ(back.recs.size(), 1000u);
}

TEST(TraceBinary, FramesStayWithinTheTarget)
{
    std::string text = "iommusim-trace 1\n";
    const std::string bytes(64, 'a'); // 32 bytes per record: about 40 encoded
    for (int i = 0; i < 5000; i++)
        text += "mem.write pa=" + std::to_string((uint64_t)i * 0x12345678) + " hex=" + bytes + "\n";
    Parsed p = ReadText(text);
    ASSERT_EQ(p.recs.size(), 5000u);
    Bytes b = WriteAll(p.recs, IMS_TRACE_BINARY, false);
    size_t pos = IMS_BIN_HEADER_LEN, frames = 0;
    uint64_t records = 0;
    for (;;) {
        uint64_t len = 0, n = 0;
        for (unsigned s = 0;; s += 7) {
            len |= (uint64_t)(b[pos] & 0x7f) << s;
            if (!(b[pos++] & 0x80))
                break;
        }
        for (unsigned s = 0;; s += 7) {
            n |= (uint64_t)(b[pos] & 0x7f) << s;
            if (!(b[pos++] & 0x80))
                break;
        }
        pos += len + 4;
        if (len == 0) {
            EXPECT_EQ(n, 5000u); // the end frame's total
            break;
        }
        EXPECT_LE(len, IMS_BIN_FRAME_TARGET);
        records += n;
        frames++;
    }
    EXPECT_EQ(pos, b.size());
    EXPECT_EQ(records, 5000u);
    EXPECT_GT(frames, 2u);
}

TEST(TraceBinary, EveryFlippedByteIsDetected)
{
    std::vector<Rec> orig = AllVerbs();
    Bytes good = WriteAll(orig, IMS_TRACE_BINARY, false, 64); // many small frames
    ASSERT_GT(good.size(), 200u);
    for (size_t i = 0; i < good.size(); i++)
        for (uint8_t mask : {0x01, 0x80, 0xff}) {
            Bytes bad = good;
            bad[i] ^= mask;
            Parsed p = ReadAll(bad.data(), bad.size(), "c.bin");
            std::string what = "byte " + std::to_string(i) + " ^ " + std::to_string(mask);
            EXPECT_NE(p.error, "") << what;
            ExpectPrefixOf(p, orig, what);
        }
}

TEST(TraceBinary, EveryTruncationIsDetected)
{
    std::vector<Rec> orig = AllVerbs();
    Bytes good = WriteAll(orig, IMS_TRACE_BINARY, false, 64);
    for (size_t len = 0; len < good.size(); len++) {
        Parsed p = ReadAll(good.data(), len, "t.bin");
        EXPECT_NE(p.error, "") << "length " << len;
        ExpectPrefixOf(p, orig, "length " + std::to_string(len));
    }
    Parsed full = ReadAll(good.data(), good.size());
    EXPECT_EQ(full.error, "");
    EXPECT_EQ(full.recs.size(), orig.size());
}

TEST(TraceBinary, CompressedCorruptionNeverYieldsWrongRecords)
{
    std::vector<Rec> orig = AllVerbs();
    Bytes good = WriteAll(orig, IMS_TRACE_BINARY, true);
    ASSERT_GE(good.size(), 4u);
    EXPECT_EQ(good[0] | good[1] << 8 | good[2] << 16 | (uint32_t)good[3] << 24, IMS_ZSTD_MAGIC);
    for (size_t len = 0; len < good.size(); len++) {
        Parsed p = ReadAll(good.data(), len, "t.bin.zst");
        EXPECT_NE(p.error, "") << "length " << len;
        ExpectPrefixOf(p, orig, "zstd length " + std::to_string(len));
    }
    for (size_t i = 0; i < good.size(); i++) {
        Bytes bad = good;
        bad[i] ^= 0x10;
        Parsed p = ReadAll(bad.data(), bad.size(), "c.bin.zst");
        ExpectPrefixOf(p, orig, "zstd byte " + std::to_string(i));
        if (p.error.empty()) { // a flip zstd does not need (e.g. window size) must leave the content intact
            EXPECT_EQ(p.recs.size(), orig.size()) << "zstd byte " << i;
        }
    }
}

TEST(TraceBinary, HeaderErrors)
{
    Bytes b = Header(2);
    Frame(b, {}, 0);
    EXPECT_EQ(ReadAll(b.data(), b.size(), "v.bin").error,
              "v.bin: unsupported binary trace version 2 (this build reads 1)");
    b = Header(1, 4);
    Frame(b, {}, 0);
    EXPECT_EQ(ReadAll(b.data(), b.size(), "f.bin").error, "f.bin: header: unknown flags 0x4");
    b = Header();
    b[12] ^= 1;
    EXPECT_EQ(ReadAll(b.data(), b.size(), "h.bin").error, "h.bin: header checksum mismatch");
    b = Header();
    EXPECT_EQ(ReadAll(b.data(), 5, "s.bin").error, "s.bin: truncated header (5 of 16 bytes)");
    EXPECT_EQ(ReadAll(b.data(), b.size(), "m.bin").error,
              "m.bin: truncated: the end frame is missing after frame 0 (byte 16)");
}

TEST(TraceBinary, FrameErrorsNameFrameAndRecord)
{
    // Trailing bytes after the end frame.
    Bytes b = Header();
    Frame(b, {}, 0);
    b.push_back(0);
    EXPECT_EQ(ReadAll(b.data(), b.size(), "x.bin").error, "x.bin: data after the end frame at byte 22");
    // End frame count disagrees.
    b = Header();
    Frame(b, {0x1e, 0x04, 0x00}, 1);
    Frame(b, {}, 2);
    EXPECT_EQ(ReadAll(b.data(), b.size(), "n.bin").error, "n.bin: end frame counts 2 records but 1 were read");
    // Checksum mismatch names the frame and its offset.
    b = Header();
    Frame(b, {0x1e, 0x04, 0x00}, 1);
    b[20] ^= 0xff;
    std::string e = ReadAll(b.data(), b.size(), "c.bin").error;
    EXPECT_EQ(e.rfind("c.bin: frame 1 at byte 16: checksum mismatch (stored 0x", 0), 0u) << e;
    // A well-formed frame whose record breaks the schema (sid > 0xffff) is rejected, not misread.
    b = Header();
    Bytes payload = {0x02, 0x02, 0x01}; // device, line 1, mask = sid
    PutVarint(payload, 0x10000);
    Frame(b, payload, 1);
    Frame(b, {}, 1);
    EXPECT_EQ(ReadAll(b.data(), b.size(), "r.bin").error,
              "r.bin: frame 1, record 1 (line 1): device: sid=0x10000: out of range (max 0xffff)");
    // Unknown verb code, unknown key bit, leftover bytes, bad counts.
    b = Header();
    Frame(b, {0x3f, 0x00, 0x00}, 1);
    EXPECT_EQ(ReadAll(b.data(), b.size(), "v.bin").error, "v.bin: frame 1, record 1: unknown verb code or time mode");
    b = Header();
    Frame(b, {0x1e, 0x00, 0x01}, 1);
    EXPECT_EQ(ReadAll(b.data(), b.size(), "k.bin").error, "k.bin: frame 1, record 1: unknown key in the presence mask");
    b = Header();
    Frame(b, {0x1e, 0x00, 0x00, 0x00}, 1);
    EXPECT_EQ(ReadAll(b.data(), b.size(), "l.bin").error, "l.bin: frame 1: 1 bytes after its last record");
    b = Header();
    Frame(b, {0x1e, 0x00}, 1);
    EXPECT_EQ(ReadAll(b.data(), b.size(), "t.bin").error, "t.bin: frame 1, record 1: truncated record");
    b = Header();
    Frame(b, {0x1e, 0x00, 0x00}, 0);
    EXPECT_EQ(ReadAll(b.data(), b.size(), "z.bin").error, "z.bin: frame 1 at byte 16: bad record count 0");
    // A topology record after a timed one breaks the same rule as in text.
    b = Header();
    Frame(b, {0x1e, 0x02, 0x00, 0x01, 0x02, 0x00}, 2); // drain (line 1), iommu (line 2)
    Frame(b, {}, 2);
    e = ReadAll(b.data(), b.size(), "o.bin").error;
    EXPECT_EQ(e, "o.bin: frame 1, record 2 (line 2): iommu: topology record after the first timed record (line 1); "
                 "iommu, device and vm records come first");
    // A record the text form could not hold (600 KB of bytes = 1.2 MB of hex digits) is refused.
    b = Header();
    payload = {0x06, 0x00, 0x03, 0x00}; // mem.write, line 0, pa and hex present, pa=0
    PutVarint(payload, 600000);
    payload.insert(payload.end(), 600000, 0x5a);
    Frame(b, payload, 1);
    Frame(b, {}, 1);
    EXPECT_EQ(ReadAll(b.data(), b.size(), "long.bin").error,
              "long.bin: frame 1, record 1 (line 0): mem.write: record longer than 1048576 bytes as text");
    // A frame length beyond the limit is refused before any allocation.
    b = Header();
    PutVarint(b, (uint64_t)IMS_BIN_FRAME_MAX + 1);
    PutVarint(b, 1);
    EXPECT_EQ(ReadAll(b.data(), b.size(), "big.bin").error,
              "big.bin: frame 1 at byte 16: length 4194305 exceeds the maximum 4194304");
}

TEST(TraceBinary, WriterRejectsInvalidRecords)
{
    ims_error err = {};
    ims_trace_sink *sink = ims_trace_sink_mem();
    ims_bin_writer *w = ims_bin_writer_open(sink, &err);
    Rec rec;
    rec.r.verb = IMS_V_DMA; // no keys
    EXPECT_EQ(ims_bin_writer_write(w, &rec.r, &err), -EINVAL);
    EXPECT_STREQ(err.msg, "dma: missing required key 'dev'");
    ASSERT_EQ(ims_bin_writer_finish(w, &err), 0);
    ims_bin_writer_close(w);
    size_t len;
    const uint8_t *d = ims_trace_sink_mem_data(sink, &len);
    Parsed p = ReadAll(d, len);
    EXPECT_EQ(p.error, "");
    EXPECT_EQ(p.recs.size(), 0u);
    ims_trace_sink_close(sink);
}

long MaxRssKiB()
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

TEST(TraceBinary, MillionRecordsStreamWithBoundedMemory)
{
    const uint64_t N = 1000000;
    std::string path = testing::TempDir() + "ims_trace_million.bin.zst";
    ims_error err = {};
    ims_trace_writer *w = ims_trace_writer_open(path.c_str(), IMS_TRACE_BINARY, &err);
    ASSERT_NE(w, nullptr) << err.msg;
    Rec rec;
    uint64_t want_sum = 0;
    for (uint64_t i = 0; i < N; i++) {
        ims_trace_rec_reset(&rec.r);
        rec.r.verb = IMS_V_DMA;
        rec.r.line = i + 2;
        rec.r.tmode = IMS_TIME_ABS;
        rec.r.time_ps = i * 1000;
        rec.r.present = 1ull << IMS_K_DEV | 1ull << IMS_K_IOVA | 1ull << IMS_K_LEN |
                        1ull << (i % 3 ? IMS_K_RD : IMS_K_WR);
        rec.r.v[IMS_K_DEV].num = i % 4;
        rec.r.v[IMS_K_IOVA].num = (i * 0x1000) % (1ull << 40);
        rec.r.v[IMS_K_LEN].num = 64;
        want_sum += rec.r.v[IMS_K_IOVA].num + rec.r.v[IMS_K_DEV].num;
        ASSERT_EQ(ims_trace_writer_write(w, &rec.r, &err), 0) << err.msg;
    }
    ASSERT_EQ(ims_trace_writer_close(w, &err), 0) << err.msg;

    long rss_before = MaxRssKiB();
    ims_trace_reader *r = ims_trace_reader_open(path.c_str(), &err);
    ASSERT_NE(r, nullptr) << err.msg;
    EXPECT_EQ(ims_trace_reader_form(r), IMS_TRACE_BINARY);
    EXPECT_TRUE(ims_trace_reader_compressed(r));
    uint64_t n = 0, sum = 0, last_time = 0;
    int rc;
    while ((rc = ims_trace_reader_next(r, &rec.r, &err)) > 0) {
        sum += ims_trace_num(&rec.r, IMS_K_IOVA) + ims_trace_num(&rec.r, IMS_K_DEV);
        last_time = rec.r.time_ps;
        n++;
    }
    EXPECT_EQ(rc, 0) << err.msg;
    ims_trace_reader_close(r);
    EXPECT_EQ(n, N);
    EXPECT_EQ(sum, want_sum);
    EXPECT_EQ(last_time, (N - 1) * 1000);
    EXPECT_LE(rec.r.arena_cap, 4096u); // the record's arena did not grow with the trace
#if !defined(__SANITIZE_ADDRESS__) // ASan's allocator keeps freed memory in quarantine
    // Holding the records would take hundreds of MiB; streaming stays within a few.
    EXPECT_LT(MaxRssKiB() - rss_before, 64L * 1024);
#else
    (void)rss_before;
#endif
    std::remove(path.c_str());
}

} // namespace
