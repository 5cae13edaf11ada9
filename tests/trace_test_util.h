// Shared helpers for the trace format tests (TraceText, TraceBinary, TraceRoundTrip).
#ifndef IMS_TESTS_TRACE_TEST_UTIL_H
#define IMS_TESTS_TRACE_TEST_UTIL_H

#include <string>
#include <vector>

#include "traces/binary.h"
#include "traces/record.h"
#include "traces/stream.h"
#include "traces/text_reader.h"
#include "traces/text_writer.h"
#include "traces/trace_io.h"

namespace trace_test {

// A trace with every verb, every key and every value form of format v1.
inline const char *kAllVerbs =
    "# every verb, key and value form of trace format v1\n"
    "\n"
    "iommusim-trace 1\n"
    "iommu unit=0 cap=0xd2008c40660462 ecap=0xf050da base=0xfed90000\n"
    "iommu unit=1\n"
    "device sid=0x10 unit=0 name=nic ats pasid_bits=20 pri outstanding=32   # a NIC\n"
    "device sid=0x18 vm=1 name=gpu\n"
    "device\tsid=0x20\n"
    "vm id=1 mem=1G mode=nested\n"
    "vm id=2 mem=512M mode=shadow\n"
    "mem.w32 pa=0x1000 val=0xdeadbeef\n"
    "mem.w64 pa=0x2000 val=0x123456789abcdef0\n"
    "mem.write pa=0x3000 hex=00ff10AB\n"
    "mem.load elf=cores/guest.elf\n"
    "mmio.w32 off=0x18 val=0x80000000\n"
    "mmio.w64 unit=1 off=0x88 val=0x1000\n"
    "mmio.r32 off=0x1c expect=0x80000000 mask=0x80000000\n"
    "mmio.r64 unit=1 off=0x8\n"
    "wait.mem pa=0x5000 val=1 mask=0xff timeout=1ms\n"
    "@10us dma dev=nic pasid=5 iova=0x1000 len=64 rd priv exec expect=0x300000|0x500000\n"
    "+500ns dma dev=0x10 iova=0x2000 len=4K wr expect=fault\n"
    "@20us dma dev=nic iova=0x3000 len=8 rd expect=fault:0x5\n"
    "dma dev=gpu iova=0x0 len=1 wr expect=fault|0x1000|fault:0x13\n"
    "iommufd.ioas_alloc out=ioas0\n"
    "iommufd.ioas_map ioas=ioas0 iova=0x100000 len=2M prot=rw hpa=0x40000000\n"
    "iommufd.ioas_map ioas=ioas0 iova=0x1 len=0 expect=EINVAL\n"
    "iommufd.ioas_unmap ioas=ioas0 iova=0x100000 len=2M expect=ok\n"
    "iommufd.hwpt_alloc dev=nic pt=ioas0 flags=nest_parent|dirty_tracking out=parent\n"
    "iommufd.hwpt_alloc dev=nic pt=parent s1_pgtbl=0x7000 s1_aw=57 s1_flags=sre|eafe|wpe out=s1 expect=ok\n"
    "iommufd.attach dev=nic pt=s1 pasid=1\n"
    "iommufd.detach dev=nic pasid=1 expect=ENOENT|EINVAL\n"
    "iommufd.hwpt_invalidate hwpt=s1 entries=0x1000:4,0x0:all:leaf expect=ok expect_done=2\n"
    "iommufd.get_hw_info dev=0x10\n"
    "iommufd.destroy id=s1 expect=EBUSY\n"
    "guest.map vm=1 dev=gpu pasid=3 iova=0x10000 gpa=0x200000 len=64K prot=r\n"
    "guest.unmap vm=1 dev=gpu iova=0x10000 len=64K\n"
    "guest.qi vm=1 q0=0x5 q1=0x0\n"
    "guest.qi vm=1 q0=0x6 q1=0x0 q2=0x1 q3=0x2\n"
    "guest.qi_sync vm=1\n"
    "guest.pasid_bind vm=1 dev=gpu pasid=3 s1_pgtbl=0x9000 s1_aw=48\n"
    "guest.pasid_unbind vm=1 dev=gpu pasid=3\n"
    "mark name=phase.one\n"
    "drain\n"
    "+1ms drain\n";

inline constexpr int kAllVerbsRecords = 41;

// RAII record.
struct Rec {
    ims_trace_rec r;
    Rec() { ims_trace_rec_init(&r); }
    ~Rec() { ims_trace_rec_free(&r); }
    Rec(const Rec &o)
    {
        ims_trace_rec_init(&r);
        ims_trace_rec_copy(&r, &o.r);
    }
    Rec &operator=(const Rec &o)
    {
        ims_trace_rec_copy(&r, &o.r);
        return *this;
    }
};

struct Parsed {
    std::vector<Rec> recs;
    std::string error; // empty when the whole input parsed
};

inline std::string Canon(const ims_trace_rec &r)
{
    std::string s(ims_trace_format(&r, nullptr, 0) + 1, '\0');
    ims_trace_format(&r, s.data(), s.size());
    s.pop_back();
    return s;
}

// Read any form (text, binary, zstd) from memory until the end or the first error.
inline Parsed ReadAll(const void *data, size_t len, const char *name = "t.ist")
{
    Parsed p;
    ims_error err = {};
    ims_trace_reader *rd = ims_trace_reader_open_mem(data, len, name, &err);
    if (!rd) {
        p.error = err.msg;
        return p;
    }
    Rec rec;
    int rc;
    while ((rc = ims_trace_reader_next(rd, &rec.r, &err)) > 0)
        p.recs.push_back(rec);
    if (rc < 0)
        p.error = err.msg;
    ims_trace_reader_close(rd);
    return p;
}

inline Parsed ReadText(const std::string &text, const char *name = "t.ist")
{
    return ReadAll(text.data(), text.size(), name);
}

// The first error of a one-record trace body (header added).
inline std::string ErrorOf(const std::string &body)
{
    return ReadText("iommusim-trace 1\n" + body).error;
}

inline std::string CanonText(const std::vector<Rec> &recs)
{
    std::string s = "iommusim-trace 1\n";
    for (const Rec &r : recs)
        s += Canon(r.r) + "\n";
    return s;
}

// Write records through the unified writer into memory.
inline std::vector<uint8_t> WriteAll(const std::vector<Rec> &recs, ims_trace_form form, bool zstd,
                                     size_t frame_target = 0)
{
    ims_error err = {};
    ims_trace_sink *sink = ims_trace_sink_mem();
    std::vector<uint8_t> out;
    if (form == IMS_TRACE_BINARY && frame_target && !zstd) {
        ims_bin_writer *w = ims_bin_writer_open(sink, &err);
        ims_bin_writer_set_frame_target(w, frame_target);
        for (const Rec &r : recs)
            if (ims_bin_writer_write(w, &r.r, &err))
                return out;
        ims_bin_writer_finish(w, &err);
        ims_bin_writer_close(w);
    } else {
        ims_trace_writer *w = ims_trace_writer_open_sink(sink, false, form, zstd, &err);
        if (!w)
            return out;
        for (const Rec &r : recs)
            if (ims_trace_writer_write(w, &r.r, &err))
                break;
        if (ims_trace_writer_close(w, &err))
            return out;
    }
    size_t len;
    const uint8_t *d = ims_trace_sink_mem_data(sink, &len);
    out.assign(d, d + len);
    ims_trace_sink_close(sink);
    return out;
}

} // namespace trace_test

#endif
