// Trace text format v1: parser, schema, canonical writer (contract: /work/shared/spec/trace-text-v1.md).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "trace_test_util.h"

using namespace trace_test;

namespace {

const ims_trace_rec &At(const Parsed &p, size_t i)
{
    return p.recs.at(i).r;
}

std::string Str(const ims_trace_rec &r, ims_trace_key k)
{
    const char *s = ims_trace_str(&r, k);
    return s ? s : "(null)";
}

TEST(TraceText, EveryVerbParsesWithItsKeys)
{
    Parsed p = ReadText(kAllVerbs);
    ASSERT_EQ(p.error, "");
    ASSERT_EQ(p.recs.size(), (size_t)kAllVerbsRecords);
    size_t i = 0;

    const ims_trace_rec *r = &At(p, i++); // iommu unit=0 cap=... ecap=... base=...
    EXPECT_EQ(r->verb, IMS_V_IOMMU);
    EXPECT_EQ(r->line, 4u); // a comment and a blank line precede the header
    EXPECT_EQ(ims_trace_num(r, IMS_K_CAP), 0xd2008c40660462ull);
    EXPECT_EQ(ims_trace_num(r, IMS_K_ECAP), 0xf050daull);
    EXPECT_EQ(ims_trace_num(r, IMS_K_BASE), 0xfed90000ull);
    r = &At(p, i++); // iommu unit=1
    EXPECT_EQ(ims_trace_num(r, IMS_K_UNIT), 1u);
    EXPECT_FALSE(ims_trace_has(r, IMS_K_CAP));

    r = &At(p, i++); // device sid=0x10 unit=0 name=nic ats pasid_bits=20 pri outstanding=32
    EXPECT_EQ(r->verb, IMS_V_DEVICE);
    EXPECT_EQ(ims_trace_num(r, IMS_K_SID), 0x10u);
    EXPECT_EQ(Str(*r, IMS_K_NAME), "nic");
    EXPECT_TRUE(ims_trace_has(r, IMS_K_ATS));
    EXPECT_TRUE(ims_trace_has(r, IMS_K_PRI));
    EXPECT_EQ(ims_trace_num(r, IMS_K_PASID_BITS), 20u);
    EXPECT_EQ(ims_trace_num(r, IMS_K_OUTSTANDING), 32u);
    r = &At(p, i++); // device sid=0x18 vm=1 name=gpu
    EXPECT_EQ(ims_trace_num(r, IMS_K_VM), 1u);
    EXPECT_FALSE(ims_trace_has(r, IMS_K_ATS));
    r = &At(p, i++); // device<TAB>sid=0x20
    EXPECT_EQ(ims_trace_num(r, IMS_K_SID), 0x20u);

    r = &At(p, i++); // vm id=1 mem=1G mode=nested
    EXPECT_EQ(r->verb, IMS_V_VM);
    EXPECT_EQ(ims_trace_num(r, IMS_K_ID), 1u);
    EXPECT_EQ(ims_trace_num(r, IMS_K_MEM), 1ull << 30);
    EXPECT_EQ(ims_trace_num(r, IMS_K_MODE), (uint64_t)IMS_TRACE_MODE_NESTED);
    r = &At(p, i++);
    EXPECT_EQ(ims_trace_num(r, IMS_K_MEM), 512ull << 20);
    EXPECT_EQ(ims_trace_num(r, IMS_K_MODE), (uint64_t)IMS_TRACE_MODE_SHADOW);

    r = &At(p, i++); // mem.w32
    EXPECT_EQ(r->verb, IMS_V_MEM_W32);
    EXPECT_EQ(ims_trace_num(r, IMS_K_PA), 0x1000u);
    EXPECT_EQ(ims_trace_num(r, IMS_K_VAL), 0xdeadbeefu);
    r = &At(p, i++); // mem.w64
    EXPECT_EQ(ims_trace_num(r, IMS_K_VAL), 0x123456789abcdef0ull);
    r = &At(p, i++); // mem.write hex=00ff10AB
    size_t n;
    const uint8_t *b = ims_trace_bytes(r, IMS_K_HEX, &n);
    ASSERT_EQ(n, 4u);
    EXPECT_EQ(b[0], 0x00);
    EXPECT_EQ(b[1], 0xff);
    EXPECT_EQ(b[2], 0x10);
    EXPECT_EQ(b[3], 0xab); // lowest address first
    r = &At(p, i++); // mem.load
    EXPECT_EQ(Str(*r, IMS_K_ELF), "cores/guest.elf");

    r = &At(p, i++); // mmio.w32 off=0x18 val=0x80000000
    EXPECT_EQ(r->verb, IMS_V_MMIO_W32);
    EXPECT_FALSE(ims_trace_has(r, IMS_K_UNIT));
    EXPECT_EQ(ims_trace_num_or_default(r, IMS_K_UNIT), 0u);
    EXPECT_EQ(ims_trace_num(r, IMS_K_OFF), 0x18u);
    r = &At(p, i++); // mmio.w64 unit=1
    EXPECT_EQ(ims_trace_num(r, IMS_K_UNIT), 1u);
    r = &At(p, i++); // mmio.r32 expect mask
    EXPECT_EQ(r->verb, IMS_V_MMIO_R32);
    EXPECT_EQ(ims_trace_num(r, IMS_K_EXPECT), 0x80000000u);
    EXPECT_EQ(ims_trace_num(r, IMS_K_MASK), 0x80000000u);
    r = &At(p, i++); // mmio.r64 without expect
    EXPECT_FALSE(ims_trace_has(r, IMS_K_EXPECT));
    EXPECT_EQ(ims_trace_num_or_default(r, IMS_K_MASK), UINT64_MAX);
    r = &At(p, i++); // wait.mem
    EXPECT_EQ(r->verb, IMS_V_WAIT_MEM);
    EXPECT_EQ(ims_trace_num(r, IMS_K_TIMEOUT), 1000000000ull); // 1 ms in ps

    r = &At(p, i++); // @10us dma dev=nic pasid=5 ... expect=0x300000|0x500000
    EXPECT_EQ(r->verb, IMS_V_DMA);
    EXPECT_EQ(r->tmode, IMS_TIME_ABS);
    EXPECT_EQ(r->time_ps, 10000000u);
    EXPECT_TRUE(ims_trace_dev_is_name(r));
    EXPECT_EQ(Str(*r, IMS_K_DEV), "nic");
    EXPECT_EQ(ims_trace_num(r, IMS_K_PASID), 5u);
    EXPECT_EQ(ims_trace_num(r, IMS_K_LEN), 64u);
    EXPECT_TRUE(ims_trace_has(r, IMS_K_RD) && ims_trace_has(r, IMS_K_PRIV) && ims_trace_has(r, IMS_K_EXEC));
    EXPECT_FALSE(ims_trace_has(r, IMS_K_WR));
    const ims_trace_expect *e = ims_trace_expects(r, &n);
    ASSERT_EQ(n, 2u);
    EXPECT_EQ(e[0].kind, (uint32_t)IMS_EXP_PA);
    EXPECT_EQ(e[0].value, 0x300000u);
    EXPECT_EQ(e[1].value, 0x500000u);
    r = &At(p, i++); // +500ns dma dev=0x10 ... wr expect=fault
    EXPECT_EQ(r->tmode, IMS_TIME_REL);
    EXPECT_EQ(r->time_ps, 500000u);
    EXPECT_FALSE(ims_trace_dev_is_name(r));
    EXPECT_EQ(ims_trace_num(r, IMS_K_DEV), 0x10u);
    EXPECT_EQ(ims_trace_num(r, IMS_K_LEN), 4096u);
    e = ims_trace_expects(r, &n);
    ASSERT_EQ(n, 1u);
    EXPECT_EQ(e[0].kind, (uint32_t)IMS_EXP_FAULT);
    r = &At(p, i++); // expect=fault:0x5
    e = ims_trace_expects(r, &n);
    ASSERT_EQ(n, 1u);
    EXPECT_EQ(e[0].kind, (uint32_t)IMS_EXP_FAULT_REASON);
    EXPECT_EQ(e[0].value, 5u);
    r = &At(p, i++); // no prefix; expect=fault|0x1000|fault:0x13
    EXPECT_EQ(r->tmode, IMS_TIME_NONE);
    e = ims_trace_expects(r, &n);
    ASSERT_EQ(n, 3u);
    EXPECT_EQ(e[2].kind, (uint32_t)IMS_EXP_FAULT_REASON);
    EXPECT_EQ(e[2].value, 0x13u);

    r = &At(p, i++); // iommufd.ioas_alloc out=ioas0
    EXPECT_EQ(r->verb, IMS_V_IOAS_ALLOC);
    EXPECT_EQ(Str(*r, IMS_K_OUT), "ioas0");
    EXPECT_EQ(ims_trace_expects(r, &n), nullptr); // absent expect means ok
    r = &At(p, i++); // ioas_map ... prot=rw hpa=
    EXPECT_EQ(ims_trace_num(r, IMS_K_PROT), (uint64_t)IMS_TRACE_PROT_RW);
    EXPECT_EQ(ims_trace_num(r, IMS_K_HPA), 0x40000000u);
    EXPECT_EQ(ims_trace_num(r, IMS_K_LEN), 2u << 20);
    r = &At(p, i++); // ioas_map iova=0x1 len=0 expect=EINVAL: host values pass through
    EXPECT_EQ(ims_trace_num(r, IMS_K_LEN), 0u);
    e = ims_trace_expects(r, &n);
    ASSERT_EQ(n, 1u);
    EXPECT_EQ(e[0].kind, (uint32_t)IMS_EXP_ERRNO);
    EXPECT_EQ(e[0].value, 22u); // Linux EINVAL
    r = &At(p, i++); // ioas_unmap expect=ok
    e = ims_trace_expects(r, &n);
    ASSERT_EQ(n, 1u);
    EXPECT_EQ(e[0].value, 0u);
    r = &At(p, i++); // hwpt_alloc flags=nest_parent|dirty_tracking
    EXPECT_EQ(r->verb, IMS_V_HWPT_ALLOC);
    EXPECT_EQ(ims_trace_num(r, IMS_K_FLAGS), (uint64_t)(IMS_TRACE_HWPT_NEST_PARENT | IMS_TRACE_HWPT_DIRTY_TRACKING));
    EXPECT_FALSE(ims_trace_has(r, IMS_K_S1_PGTBL));
    r = &At(p, i++); // hwpt_alloc s1_*
    EXPECT_EQ(ims_trace_num(r, IMS_K_S1_PGTBL), 0x7000u);
    EXPECT_EQ(ims_trace_num(r, IMS_K_S1_AW), 57u);
    EXPECT_EQ(ims_trace_num(r, IMS_K_S1_FLAGS), (uint64_t)(IMS_TRACE_S1_SRE | IMS_TRACE_S1_EAFE | IMS_TRACE_S1_WPE));
    EXPECT_EQ(Str(*r, IMS_K_OUT), "s1");
    r = &At(p, i++); // attach
    EXPECT_EQ(r->verb, IMS_V_ATTACH);
    EXPECT_EQ(Str(*r, IMS_K_PT), "s1");
    EXPECT_EQ(ims_trace_num(r, IMS_K_PASID), 1u);
    r = &At(p, i++); // detach expect=ENOENT|EINVAL
    e = ims_trace_expects(r, &n);
    ASSERT_EQ(n, 2u);
    EXPECT_EQ(e[0].value, 2u);
    EXPECT_EQ(e[1].value, 22u);
    r = &At(p, i++); // hwpt_invalidate entries=0x1000:4,0x0:all:leaf expect_done=2
    EXPECT_EQ(r->verb, IMS_V_HWPT_INVALIDATE);
    const ims_trace_inv_entry *ent = ims_trace_entries(r, &n);
    ASSERT_EQ(n, 2u);
    EXPECT_EQ(ent[0].addr, 0x1000u);
    EXPECT_EQ(ent[0].npages, 4u);
    EXPECT_EQ(ent[0].leaf, 0u);
    EXPECT_EQ(ent[1].addr, 0u);
    EXPECT_EQ(ent[1].npages, UINT64_MAX); // iommufd-facts: npages U64_MAX with addr 0 = everything
    EXPECT_EQ(ent[1].leaf, 1u);
    EXPECT_EQ(ims_trace_num(r, IMS_K_EXPECT_DONE), 2u);
    r = &At(p, i++); // get_hw_info dev=0x10
    EXPECT_EQ(r->verb, IMS_V_GET_HW_INFO);
    EXPECT_EQ(ims_trace_num(r, IMS_K_DEV), 0x10u);
    r = &At(p, i++); // destroy
    EXPECT_EQ(r->verb, IMS_V_DESTROY);
    EXPECT_EQ(Str(*r, IMS_K_ID), "s1");

    r = &At(p, i++); // guest.map
    EXPECT_EQ(r->verb, IMS_V_GUEST_MAP);
    EXPECT_EQ(ims_trace_num(r, IMS_K_GPA), 0x200000u);
    EXPECT_EQ(ims_trace_num(r, IMS_K_PROT), (uint64_t)IMS_TRACE_PROT_R);
    r = &At(p, i++); // guest.unmap
    EXPECT_EQ(r->verb, IMS_V_GUEST_UNMAP);
    EXPECT_EQ(ims_trace_num(r, IMS_K_LEN), 64u << 10);
    r = &At(p, i++); // guest.qi 128-bit
    EXPECT_EQ(r->verb, IMS_V_GUEST_QI);
    EXPECT_EQ(ims_trace_num(r, IMS_K_Q0), 5u);
    EXPECT_FALSE(ims_trace_has(r, IMS_K_Q2));
    r = &At(p, i++); // guest.qi 256-bit
    EXPECT_EQ(ims_trace_num(r, IMS_K_Q3), 2u);
    r = &At(p, i++);
    EXPECT_EQ(r->verb, IMS_V_GUEST_QI_SYNC);
    r = &At(p, i++);
    EXPECT_EQ(r->verb, IMS_V_GUEST_PASID_BIND);
    EXPECT_EQ(ims_trace_num(r, IMS_K_S1_PGTBL), 0x9000u);
    r = &At(p, i++);
    EXPECT_EQ(r->verb, IMS_V_GUEST_PASID_UNBIND);
    EXPECT_EQ(ims_trace_num(r, IMS_K_PASID), 3u);
    r = &At(p, i++);
    EXPECT_EQ(r->verb, IMS_V_MARK);
    EXPECT_EQ(Str(*r, IMS_K_NAME), "phase.one");
    r = &At(p, i++);
    EXPECT_EQ(r->verb, IMS_V_DRAIN);
    EXPECT_EQ(r->present, 0u);
    r = &At(p, i++);
    EXPECT_EQ(r->tmode, IMS_TIME_REL);
    EXPECT_EQ(r->time_ps, 1000000000u);
    EXPECT_EQ(i, (size_t)kAllVerbsRecords);
}

TEST(TraceText, EveryVerbOfTheContractIsKnown)
{
    const char *verbs[] = {"iommu", "device", "vm", "mem.w32", "mem.w64", "mem.write", "mem.load", "mmio.w32",
                           "mmio.w64", "mmio.r32", "mmio.r64", "wait.mem", "dma", "iommufd.ioas_alloc",
                           "iommufd.ioas_map", "iommufd.ioas_unmap", "iommufd.hwpt_alloc", "iommufd.attach",
                           "iommufd.detach", "iommufd.hwpt_invalidate", "iommufd.get_hw_info", "iommufd.destroy",
                           "guest.map", "guest.unmap", "guest.qi", "guest.qi_sync", "guest.pasid_bind",
                           "guest.pasid_unbind", "mark", "drain"};
    EXPECT_EQ(sizeof verbs / sizeof verbs[0], (size_t)IMS_V_COUNT - 1);
    for (const char *v : verbs) {
        ims_trace_verb code = ims_trace_verb_lookup(v);
        EXPECT_NE(code, IMS_V_NONE) << v;
        EXPECT_STREQ(ims_trace_verb_name(code), v);
    }
    // Verb codes are the binary format's: fixed forever.
    EXPECT_EQ(IMS_V_IOMMU, 1);
    EXPECT_EQ(IMS_V_DMA, 13);
    EXPECT_EQ(IMS_V_DRAIN, 30);
}

TEST(TraceText, HostFlagBitsMatchTheIommufdUapi)
{
    // iommufd-facts: IOMMU_HWPT_ALLOC_NEST_PARENT=1<<0, IOMMU_HWPT_ALLOC_DIRTY_TRACKING=1<<1;
    // struct iommu_hwpt_vtd_s1 flags: SRE=1<<0, EAFE=1<<1, WPE=1<<2.
    Parsed p = ReadText("iommusim-trace 1\n"
                        "iommufd.hwpt_alloc dev=1 pt=a flags=dirty_tracking out=b\n"
                        "iommufd.hwpt_alloc dev=1 pt=a s1_pgtbl=0 s1_flags=wpe out=b\n"
                        "iommufd.hwpt_alloc dev=1 pt=a s1_pgtbl=0 s1_flags=eafe|sre out=b\n");
    ASSERT_EQ(p.error, "");
    EXPECT_EQ(ims_trace_num(&At(p, 0), IMS_K_FLAGS), 2u);
    EXPECT_EQ(ims_trace_num(&At(p, 1), IMS_K_S1_FLAGS), 4u);
    EXPECT_EQ(ims_trace_num(&At(p, 2), IMS_K_S1_FLAGS), 3u);
    EXPECT_EQ(Canon(At(p, 2)), "iommufd.hwpt_alloc dev=0x1 pt=a s1_pgtbl=0x0 s1_flags=sre|eafe out=b");
}

TEST(TraceText, ErrnoNamesAreLinuxNumbers)
{
    // iommufd-facts "General ioctl format": the errnos a host call can return, Linux numbering.
    const struct {
        const char *name;
        int value;
    } want[] = {{"ok", 0},         {"EPERM", 1},      {"ENOENT", 2},     {"E2BIG", 7},       {"ENOMEM", 12},
                {"EFAULT", 14},    {"EBUSY", 16},     {"EEXIST", 17},    {"EINVAL", 22},     {"ENOTTY", 25},
                {"EOVERFLOW", 75}, {"EMSGSIZE", 90},  {"EOPNOTSUPP", 95}, {"ETIMEDOUT", 110}};
    for (const auto &w : want) {
        EXPECT_EQ(ims_trace_errno_lookup(w.name), w.value) << w.name;
        EXPECT_STREQ(ims_trace_errno_name(w.value), w.name);
        Parsed p = ReadText(std::string("iommusim-trace 1\niommufd.destroy id=x expect=") + w.name + "\n");
        ASSERT_EQ(p.error, "") << w.name;
        size_t n;
        const ims_trace_expect *e = ims_trace_expects(&At(p, 0), &n);
        ASSERT_EQ(n, 1u);
        EXPECT_EQ(e[0].value, (uint64_t)w.value);
    }
    EXPECT_EQ(ims_trace_errno_lookup("EAGAIN"), -1);
}

TEST(TraceText, HeaderIsRequiredFirst)
{
    EXPECT_EQ(ReadText("").error, "t.ist:1: missing the header line 'iommusim-trace 1' (empty trace)");
    EXPECT_EQ(ReadText("# only a comment\n\n").error,
              "t.ist:2: missing the header line 'iommusim-trace 1' (empty trace)");
    EXPECT_EQ(ReadText("drain\n").error, "t.ist:1: expected the header line 'iommusim-trace 1' before any record");
    EXPECT_EQ(ReadText("# c\niommusim-trace 2\n").error,
              "t.ist:2: unsupported trace format version '2' (this build reads version 1)");
    EXPECT_EQ(ReadText("iommusim-trace\n").error, "t.ist:1: header: missing version (want 'iommusim-trace 1')");
    EXPECT_EQ(ReadText("iommusim-trace 1 x\n").error, "t.ist:1: header: unexpected 'x' after the version");
    EXPECT_EQ(ReadText("iommusim-trace 1\niommusim-trace 1\n").error, "t.ist:2: second header line");
    Parsed p = ReadText("  # leading comment\n\t\niommusim-trace 1   # trailing comment\n");
    EXPECT_EQ(p.error, "");
    EXPECT_EQ(p.recs.size(), 0u);
    p = ReadText("iommusim-trace 1\r\ndrain\r\n"); // CRLF line ends
    EXPECT_EQ(p.error, "");
    EXPECT_EQ(p.recs.size(), 1u);
    p = ReadText("iommusim-trace 1\ndrain"); // no final newline
    EXPECT_EQ(p.recs.size(), 1u);
}

TEST(TraceText, ErrorMessagesNameFileLineAndProblem)
{
    const struct {
        const char *body, *msg;
    } cases[] = {
        // unknown verb, with and without a suggestion
        {"dam dev=1 iova=0 len=1 rd\n", "t.ist:2: unknown verb 'dam' (did you mean 'dma'?)"},
        {"ioas_map ioas=a iova=0 len=1\n", "t.ist:2: unknown verb 'ioas_map' (did you mean 'iommufd.ioas_map'?)"},
        {"frobnicate\n", "t.ist:2: unknown verb 'frobnicate'"},
        // unknown key
        {"dma dev=1 iova=0 len=1 rd pasd=3\n", "t.ist:2: dma: unknown key 'pasd' (did you mean 'pasid'?)"},
        {"mark name=a zzzzzz=1\n", "t.ist:2: mark: unknown key 'zzzzzz' (mark takes: name)"},
        {"drain now\n", "t.ist:2: drain: unknown key 'now' (drain takes no keys)"},
        // missing / duplicate keys, values on flags, flags needing values
        {"dma dev=1 len=1 rd\n", "t.ist:2: dma: missing required key 'iova'"},
        {"device unit=1\n", "t.ist:2: device: missing required key 'sid'"},
        {"dma dev=1 iova=0 iova=1 len=1 rd\n", "t.ist:2: dma: duplicate key 'iova'"},
        {"dma dev=1 iova=0 len=1 rd rd\n", "t.ist:2: dma: duplicate key 'rd'"},
        {"device sid=1 ats=1\n", "t.ist:2: device: flag 'ats' takes no value"},
        {"device sid\n", "t.ist:2: device: key 'sid' needs a value (sid=...)"},
        {"device sid=\n", "t.ist:2: device: sid=: empty value"},
        // numbers
        {"device sid=0x1g\n", "t.ist:2: device: sid=0x1g: not a number"},
        {"device sid=-1\n", "t.ist:2: device: sid=-1: not a number"},
        {"mem.w64 pa=0x10000000000000000 val=0\n", "t.ist:2: mem.w64: pa=0x10000000000000000: number too large"},
        {"device sid=0x10000\n", "t.ist:2: device: sid=0x10000: out of range (max 0xffff)"},
        {"device sid=65536\n", "t.ist:2: device: sid=65536: out of range (max 0xffff)"},
        {"dma dev=1 pasid=0x100000 iova=0 len=1 rd\n", "t.ist:2: dma: pasid=0x100000: out of range (max 1048575)"},
        {"iommu unit=64\n", "t.ist:2: iommu: unit=64: out of range (max 63)"},
        {"device sid=1 pasid_bits=21\n", "t.ist:2: device: pasid_bits=21: out of range (max 20)"},
        {"device sid=1 outstanding=0\n", "t.ist:2: device: outstanding=0: must not be 0"},
        {"mem.w32 pa=0 val=0x100000000\n", "t.ist:2: mem.w32: val=0x100000000: out of range (max 0xffffffff)"},
        {"mmio.w32 off=0x1a val=0\n", "t.ist:2: mmio.w32: off=0x1a: not a multiple of 4"},
        {"mmio.r64 off=0x1c\n", "t.ist:2: mmio.r64: off=0x1c: not a multiple of 8"},
        {"mmio.w32 off=0x10000 val=0\n", "t.ist:2: mmio.w32: off=0x10000: out of range (max 0xffff)"},
        {"dma dev=0x10000 iova=0 len=1 rd\n", "t.ist:2: dma: dev=0x10000: out of range (max 0xffff)"},
        {"dma dev=1x iova=0 len=1 rd\n", "t.ist:2: dma: dev=1x: not a SID or device name"},
        {"dma dev=1 iova=0 len=0 rd\n", "t.ist:2: dma: len=0: must not be 0"},
        {"dma dev=1 iova=0 len=4Q rd\n",
         "t.ist:2: dma: len=4Q: not a size (a number with an optional K, M or G suffix)"},
        {"wait.mem pa=0 val=0 timeout=5 minutes\n",
         "t.ist:2: wait.mem: unknown key 'minutes' (wait.mem takes: pa val mask timeout)"},
        {"wait.mem pa=0 val=0 timeout=5min\n",
         "t.ist:2: wait.mem: timeout=5min: not a time (a number with an optional ns, us, ms or s suffix)"},
        {"wait.mem pa=0 val=0 timeout=0\n", "t.ist:2: wait.mem: timeout=0: must not be 0"},
        // enums, words, names
        {"vm id=1 mem=1G mode=full\n", "t.ist:2: vm: mode=full: must be one of nested|shadow"},
        {"iommufd.ioas_map ioas=a iova=0 len=4K prot=x\n", "t.ist:2: iommufd.ioas_map: prot=x: must be one of r|w|rw"},
        {"iommufd.hwpt_alloc dev=1 pt=a flags=nest out=b\n",
         "t.ist:2: iommufd.hwpt_alloc: flags=nest: unknown word 'nest' "
         "(choices: nest_parent|dirty_tracking|alloc_pasid)"},
        {"iommufd.hwpt_alloc dev=1 pt=a s1_pgtbl=0 s1_flags=sre|sre out=b\n",
         "t.ist:2: iommufd.hwpt_alloc: s1_flags=sre|sre: 'sre' given twice"},
        {"iommufd.hwpt_alloc dev=1 pt=a s1_pgtbl=0 s1_aw=39 out=b\n",
         "t.ist:2: iommufd.hwpt_alloc: s1_aw=39: must be one of 48|57"},
        {"iommufd.hwpt_alloc dev=1 pt=a s1_aw=48 out=b\n", "t.ist:2: iommufd.hwpt_alloc: s1_aw requires s1_pgtbl"},
        {"mark name=9lives\n",
         "t.ist:2: mark: name=9lives: not a valid name (a letter or '_', then letters, digits, '_', '.' or '-'; at "
         "most 63)"},
        {"iommufd.ioas_alloc out=a/b\n",
         "t.ist:2: iommufd.ioas_alloc: out=a/b: not a valid name (a letter or '_', then letters, digits, '_', '.' or "
         "'-'; at most 63)"},
        // hex bytes
        {"mem.write pa=0 hex=abc\n", "t.ist:2: mem.write: hex=abc: odd number of hex digits"},
        {"mem.write pa=0 hex=zz\n", "t.ist:2: mem.write: hex=zz: 'z' is not a hex digit"},
        // expect forms
        {"dma dev=1 iova=0 len=1 rd expect=faulty\n",
         "t.ist:2: dma: expect=faulty: bad alternative 'faulty' (want 0xPA, fault or fault:0xRR)"},
        {"dma dev=1 iova=0 len=1 rd expect=fault:0x100\n",
         "t.ist:2: dma: expect=fault:0x100: 'fault:0x100': fault reason out of range (max 0xff)"},
        {"dma dev=1 iova=0 len=1 rd expect=fault:x\n",
         "t.ist:2: dma: expect=fault:x: 'fault:x': fault reason is not a number"},
        {"dma dev=1 iova=0 len=1 rd expect=0x1000|\n", "t.ist:2: dma: expect=0x1000|: empty alternative"},
        {"dma dev=1 iova=0 len=1 rd expect=0x1|0x1\n", "t.ist:2: dma: expect=0x1|0x1: duplicate alternative '0x1'"},
        {"dma dev=1 iova=0 len=1 rd expect=1|2|3|4|5|6|7|8|9\n",
         "t.ist:2: dma: expect=1|2|3|4|5|6|7|8|9: more than 8 alternatives"},
        {"iommufd.destroy id=a expect=EAGAIN\n",
         "t.ist:2: iommufd.destroy: expect=EAGAIN: unknown result 'EAGAIN' (want ok, EPERM, ENOENT, E2BIG, ENOMEM, "
         "EFAULT, EBUSY, EEXIST, EINVAL, ENOTTY, EOVERFLOW, EMSGSIZE, EOPNOTSUPP or ETIMEDOUT)"},
        {"iommufd.destroy id=a expect=0x1000\n",
         "t.ist:2: iommufd.destroy: expect=0x1000: unknown result '0x1000' (want ok, EPERM, ENOENT, E2BIG, ENOMEM, "
         "EFAULT, EBUSY, EEXIST, EINVAL, ENOTTY, EOVERFLOW, EMSGSIZE, EOPNOTSUPP or ETIMEDOUT)"},
        {"mmio.r32 off=0 expect=fault\n", "t.ist:2: mmio.r32: expect=fault: not a number"},
        {"mmio.r32 off=0 mask=0xff\n", "t.ist:2: mmio.r32: mask requires expect"},
        {"dma dev=1 iova=0 len=1 rd expect_done=1\n",
         "t.ist:2: dma: unknown key 'expect_done' (dma takes: dev pasid iova len rd wr priv exec expect)"},
        // entries
        {"iommufd.hwpt_invalidate hwpt=h entries=0x1000\n",
         "t.ist:2: iommufd.hwpt_invalidate: entries=0x1000: entry 1: want ADDR:NPAGES[:leaf]"},
        {"iommufd.hwpt_invalidate hwpt=h entries=0:1,0:many\n",
         "t.ist:2: iommufd.hwpt_invalidate: entries=0:1,0:many: entry 2: bad page count 'many' (a number or all)"},
        {"iommufd.hwpt_invalidate hwpt=h entries=0:1:global\n",
         "t.ist:2: iommufd.hwpt_invalidate: entries=0:1:global: entry 1: unknown flag 'global' (only leaf)"},
        {"iommufd.hwpt_invalidate hwpt=h entries=x:1\n",
         "t.ist:2: iommufd.hwpt_invalidate: entries=x:1: entry 1: bad address 'x'"},
        {"iommufd.hwpt_invalidate hwpt=h entries=0:1,,0:2\n",
         "t.ist:2: iommufd.hwpt_invalidate: entries=0:1,,0:2: entry 2 is empty"},
        {"iommufd.hwpt_invalidate hwpt=h entries=0:1 expect_done=2\n",
         "t.ist:2: iommufd.hwpt_invalidate: expect_done=2 exceeds the 1 entries"},
        // cross-key rules
        {"dma dev=1 iova=0 len=1\n", "t.ist:2: dma: needs exactly one of rd or wr"},
        {"dma dev=1 iova=0 len=1 rd wr\n", "t.ist:2: dma: needs exactly one of rd or wr"},
        {"device sid=1 pri\n", "t.ist:2: device: pri requires ats"},
        {"guest.qi vm=1 q0=0 q1=0 q2=0\n", "t.ist:2: guest.qi: q2 requires q3"},
        {"dma dev=1 iova=0xfffffffffffff000 len=8K rd\n",
         "t.ist:2: dma: iova=0xfffffffffffff000 + 8192 bytes wraps past 2^64"},
        {"mem.w64 pa=0xfffffffffffffffc val=0\n", "t.ist:2: mem.w64: pa=0xfffffffffffffffc + 8 bytes wraps past 2^64"},
        // time prefixes
        {"@ drain\n", "t.ist:2: bad time '@' (want @ and a number with an optional ns, us, ms or s suffix)"},
        {"+5x drain\n", "t.ist:2: bad time '+5x' (want + and a number with an optional ns, us, ms or s suffix)"},
        {"@5us\n", "t.ist:2: time prefix without a record"},
        {"@5us device sid=1\n", "t.ist:2: device: topology records take no time prefix"},
        // lexical
        {"drain\x01\n", "t.ist:2: control character 0x01 in line"},
    };
    for (const auto &c : cases)
        EXPECT_EQ(ErrorOf(c.body), c.msg) << "input: " << c.body;
}

TEST(TraceText, LongValuesAreShortenedInMessages)
{
    std::string name(100, 'a');
    EXPECT_EQ(ErrorOf("mark name=" + name + "\n"),
              "t.ist:2: mark: name=" + std::string(48, 'a') +
                  "...: not a valid name (a letter or '_', then letters, digits, '_', '.' or '-'; at most 63)");
    EXPECT_EQ(ErrorOf("mark name=" + std::string(63, 'b') + "\n"), ""); // 63 is the limit
}

TEST(TraceText, EntryCountIsBounded)
{
    std::string many;
    for (int i = 0; i < 65536; i++)
        many += i ? ",0:1" : "0:1";
    Parsed p = ReadText("iommusim-trace 1\niommufd.hwpt_invalidate hwpt=h entries=" + many + "\n");
    ASSERT_EQ(p.error, "");
    size_t n;
    ims_trace_entries(&p.recs.at(0).r, &n);
    EXPECT_EQ(n, 65536u);
    EXPECT_EQ(ErrorOf("iommufd.hwpt_invalidate hwpt=h entries=" + many + ",0:1\n"),
              "t.ist:2: iommufd.hwpt_invalidate: entries=" + many.substr(0, 48) + "...: more than 65536 entries");
}

TEST(TraceText, NulByteAndOverlongLineAreErrors)
{
    std::string t("iommusim-trace 1\ndrain\0\n", 24);
    EXPECT_EQ(ReadText(t).error, "t.ist:2: NUL byte in line (is this a binary file?)");
    std::string longline = "iommusim-trace 1\n# " + std::string(IMS_TRACE_LINE_MAX, 'x') + "\ndrain\n";
    EXPECT_EQ(ReadText(longline).error, "t.ist:2: line longer than 1048576 bytes");
    // Just under the limit is fine (a comment).
    std::string ok = "iommusim-trace 1\n#" + std::string(IMS_TRACE_LINE_MAX - 1, 'x') + "\ndrain\n";
    EXPECT_EQ(ReadText(ok).recs.size(), 1u);
}

TEST(TraceText, TopologyComesBeforeTheFirstTimedRecord)
{
    // Any record other than iommu/device/vm is "timed" (no prefix means +0).
    EXPECT_EQ(ErrorOf("iommu\nmark name=a\ndevice sid=1\n"),
              "t.ist:4: device: topology record after the first timed record (line 3); iommu, device and vm "
              "records come first");
    EXPECT_EQ(ErrorOf("mem.w32 pa=0 val=0\nvm id=1 mem=1G\n"),
              "t.ist:3: vm: topology record after the first timed record (line 2); iommu, device and vm records "
              "come first");
    EXPECT_EQ(ErrorOf("iommu\ndevice sid=1\nvm id=1 mem=4K\ndrain\n"), "");
}

TEST(TraceText, AbsoluteTimeNeverGoesBackwards)
{
    EXPECT_EQ(ErrorOf("@10us drain\n+5us drain\n@9us drain\n"),
              "t.ist:4: @9us is earlier than @10us at line 2 (time never goes backwards)");
    EXPECT_EQ(ErrorOf("@10us drain\n@10us drain\n@10001ns drain\n"), ""); // equal is fine
}

TEST(TraceText, TimePrefixesAndUnits)
{
    Parsed p = ReadText("iommusim-trace 1\n@5 drain\n@2us drain\n+0 drain\n+3ms drain\n@1s drain\n@1.5s drain\n"
                        "+250ps drain\n@0x10 drain\n");
    EXPECT_EQ(p.error, "t.ist:9: bad time '@0x10' (want @ and a number with an optional ns, us, ms or s suffix)");
    ASSERT_EQ(p.recs.size(), 7u);
    EXPECT_EQ(At(p, 0).time_ps, 5000u); // ns is the default unit
    EXPECT_EQ(At(p, 1).time_ps, 2000000u);
    EXPECT_EQ(At(p, 2).tmode, IMS_TIME_NONE); // +0 is the same as no prefix
    EXPECT_EQ(At(p, 3).tmode, IMS_TIME_REL);
    EXPECT_EQ(At(p, 3).time_ps, 3000000000u);
    EXPECT_EQ(At(p, 4).time_ps, 1000000000000u);
    EXPECT_EQ(At(p, 5).time_ps, 1500000000000u);
    EXPECT_EQ(At(p, 6).time_ps, 250u);
}

TEST(TraceText, CanonicalSpelling)
{
    const struct {
        const char *in, *out;
    } cases[] = {
        {"@1000ns dma dev=16 iova=4096 len=4096 rd", "@1us dma dev=0x10 iova=0x1000 len=4K rd"},
        {"dma rd len=8 iova=0 dev=1", "dma dev=0x1 iova=0x0 len=8 rd"}, // schema order
        {"+0 drain", "drain"},
        {"@1.5us drain", "@1500ns drain"},
        {"@0 drain", "@0ns drain"},
        {"+1500ps drain", "+1500ps drain"},
        {"+60000ms drain", "+60s drain"},
        {"dma dev=NIC iova=0X1F len=0x1800 wr", "dma dev=NIC iova=0x1f len=6K wr"},
        {"dma dev=1 iova=0 len=4097 wr", "dma dev=0x1 iova=0x0 len=4097 wr"},
        {"vm id=1 mem=1024M", "vm id=1 mem=1G"},
        {"vm id=1 mem=1T", "vm id=1 mem=1024G"},
        {"vm id=1 mem=2KiB", "vm id=1 mem=2K"},
        {"wait.mem pa=0 val=1 timeout=10000us", "wait.mem pa=0x0 val=0x1 timeout=10ms"},
        {"mem.write pa=16 hex=ABCDef01", "mem.write pa=0x10 hex=abcdef01"},
        {"iommufd.hwpt_alloc out=b flags=dirty_tracking|nest_parent pt=a dev=1",
         "iommufd.hwpt_alloc dev=0x1 pt=a flags=nest_parent|dirty_tracking out=b"},
        {"iommufd.hwpt_invalidate hwpt=h entries=4096:0xffffffffffffffff,0x2000:1:leaf expect=EINVAL|ok",
         "iommufd.hwpt_invalidate hwpt=h entries=0x1000:all,0x2000:1:leaf expect=EINVAL|ok"},
        {"dma dev=1 iova=0 len=1 rd expect=fault:5|4096", "dma dev=0x1 iova=0x0 len=1 rd expect=fault:0x5|0x1000"},
        {"device name=x sid=0x0010 ats pri vm=0", "device sid=0x10 vm=0 name=x ats pri"},
        {"guest.qi q3=2 q2=1 q1=0 q0=5 vm=7", "guest.qi vm=7 q0=0x5 q1=0x0 q2=0x1 q3=0x2"},
        {"mmio.r32 mask=255 expect=1 off=32 unit=3", "mmio.r32 unit=3 off=0x20 expect=0x1 mask=0xff"},
    };
    for (const auto &c : cases) {
        Parsed p = ReadText(std::string("iommusim-trace 1\n") + c.in + "\n");
        ASSERT_EQ(p.error, "") << c.in;
        ASSERT_EQ(p.recs.size(), 1u);
        EXPECT_EQ(Canon(At(p, 0)), c.out) << c.in;
    }
}

TEST(TraceText, FormatIsSnprintfLike)
{
    Parsed p = ReadText("iommusim-trace 1\nmark name=abcdef\n");
    ASSERT_EQ(p.recs.size(), 1u);
    char buf[8];
    EXPECT_EQ(ims_trace_format(&At(p, 0), buf, sizeof buf), strlen("mark name=abcdef"));
    EXPECT_STREQ(buf, "mark na");
    EXPECT_EQ(ims_trace_format(&At(p, 0), nullptr, 0), 16u);
}

TEST(TraceText, DefaultsOfOptionalKeys)
{
    Parsed p = ReadText("iommusim-trace 1\nwait.mem pa=0 val=0\niommufd.ioas_map ioas=a iova=0 len=4K\n"
                        "mmio.r32 off=0\nvm id=0 mem=4K\n"); // vm after a timed record is an error
    ASSERT_EQ(p.recs.size(), 3u);
    EXPECT_EQ(ims_trace_num_or_default(&At(p, 0), IMS_K_MASK), 0xffffffffu);
    EXPECT_EQ(ims_trace_num_or_default(&At(p, 0), IMS_K_TIMEOUT), 10000000000u); // spec: 10 ms simulated
    EXPECT_EQ(ims_trace_num_or_default(&At(p, 1), IMS_K_PROT), (uint64_t)IMS_TRACE_PROT_RW);
    EXPECT_EQ(ims_trace_num_or_default(&At(p, 2), IMS_K_MASK), 0xffffffffu);
    EXPECT_EQ(ims_trace_num_or_default(&At(p, 2), IMS_K_UNIT), 0u);
    p = ReadText("iommusim-trace 1\nvm id=0 mem=4K\nguest.pasid_bind vm=0 dev=1 pasid=1 s1_pgtbl=0\n");
    ASSERT_EQ(p.error, "");
    EXPECT_EQ(ims_trace_num_or_default(&At(p, 0), IMS_K_MODE), (uint64_t)IMS_TRACE_MODE_NESTED);
    EXPECT_EQ(ims_trace_num_or_default(&At(p, 1), IMS_K_S1_AW), 48u);
}

TEST(TraceText, MemLoadPathIsRelativeToTheTraceFile)
{
    const char *text = "iommusim-trace 1\nmem.load elf=core.elf\nmem.load elf=/abs/core.elf\n";
    ims_error err = {};
    ims_text_reader *r = ims_text_reader_open_mem(text, strlen(text), "runs/x/trace.ist", &err);
    ASSERT_NE(r, nullptr);
    EXPECT_STREQ(ims_text_reader_dir(r), "runs/x");
    Rec rec;
    char path[256];
    ASSERT_EQ(ims_text_reader_next(r, &rec.r, &err), 1);
    ASSERT_EQ(ims_trace_resolve_path(ims_text_reader_dir(r), ims_trace_str(&rec.r, IMS_K_ELF), path, sizeof path), 0);
    EXPECT_STREQ(path, "runs/x/core.elf");
    ASSERT_EQ(ims_text_reader_next(r, &rec.r, &err), 1);
    ASSERT_EQ(ims_trace_resolve_path(ims_text_reader_dir(r), ims_trace_str(&rec.r, IMS_K_ELF), path, sizeof path), 0);
    EXPECT_STREQ(path, "/abs/core.elf");
    EXPECT_EQ(ims_text_reader_next(r, &rec.r, &err), 0);
    ims_text_reader_close(r);

    r = ims_text_reader_open_mem(text, strlen(text), "trace.ist", &err);
    EXPECT_STREQ(ims_text_reader_dir(r), ".");
    ims_text_reader_close(r);
    r = ims_text_reader_open_mem(text, strlen(text), "/trace.ist", &err);
    EXPECT_STREQ(ims_text_reader_dir(r), "/");
    ASSERT_EQ(ims_trace_resolve_path("/", "c.elf", path, sizeof path), 0);
    EXPECT_STREQ(path, "/c.elf");
    ims_text_reader_close(r);
    EXPECT_EQ(ims_trace_resolve_path("d", "c.elf", path, 4), -ENAMETOOLONG);
    r = ims_text_reader_open_mem(text, strlen(text), "", &err);
    EXPECT_STREQ(ims_text_reader_dir(r), ".");
    ims_text_reader_close(r);
}

TEST(TraceText, ErrorsAreSticky)
{
    const char *text = "iommusim-trace 1\ndrain\nbogus\ndrain\n";
    ims_error err = {};
    ims_text_reader *r = ims_text_reader_open_mem(text, strlen(text), "s.ist", &err);
    Rec rec;
    EXPECT_EQ(ims_text_reader_next(r, &rec.r, &err), 1);
    EXPECT_EQ(ims_text_reader_next(r, &rec.r, &err), -EINVAL);
    EXPECT_STREQ(err.msg, "s.ist:3: unknown verb 'bogus'");
    ims_error again = {};
    EXPECT_EQ(ims_text_reader_next(r, &rec.r, &again), -EINVAL);
    EXPECT_STREQ(again.msg, "s.ist:3: unknown verb 'bogus'");
    EXPECT_EQ(ims_text_reader_line(r), 3u);
    ims_text_reader_close(r);
}

TEST(TraceText, ReadsFromAFile)
{
    FILE *f = tmpfile();
    ASSERT_NE(f, nullptr);
    fputs(kAllVerbs, f);
    rewind(f);
    ims_error err = {};
    ims_text_reader *r = ims_text_reader_open_file(f, "file.ist", &err);
    ASSERT_NE(r, nullptr);
    Rec rec;
    int n = 0, rc;
    while ((rc = ims_text_reader_next(r, &rec.r, &err)) > 0)
        n++;
    EXPECT_EQ(rc, 0) << err.msg;
    EXPECT_EQ(n, kAllVerbsRecords);
    ims_text_reader_close(r);
    fclose(f);
}

TEST(TraceText, ValidatorRejectsWhatTheParserWouldReject)
{
    // Records built through the API (importers, the binary decoder) go through the same rules.
    Rec rec;
    ims_error err = {};
    rec.r.verb = IMS_V_DEVICE;
    EXPECT_EQ(ims_trace_rec_validate(&rec.r, &err), -EINVAL);
    EXPECT_STREQ(err.msg, "device: missing required key 'sid'");
    rec.r.present = 1ull << IMS_K_SID;
    rec.r.v[IMS_K_SID].num = 0x10000;
    EXPECT_EQ(ims_trace_rec_validate(&rec.r, &err), -EINVAL);
    EXPECT_STREQ(err.msg, "device: sid=0x10000: out of range (max 0xffff)");
    rec.r.v[IMS_K_SID].num = 0x10;
    rec.r.present |= 1ull << IMS_K_IOVA;
    EXPECT_EQ(ims_trace_rec_validate(&rec.r, &err), -EINVAL);
    EXPECT_STREQ(err.msg, "device: unknown key 'iova'");
    rec.r.present &= ~(1ull << IMS_K_IOVA);
    EXPECT_EQ(ims_trace_rec_validate(&rec.r, &err), 0);
    rec.r.tmode = IMS_TIME_REL; // +0 must be spelled as no prefix
    EXPECT_EQ(ims_trace_rec_validate(&rec.r, &err), -EINVAL);
    EXPECT_STREQ(err.msg, "device: bad time prefix");
    ims_trace_rec_reset(&rec.r);
    rec.r.verb = IMS_V_MARK;
    ASSERT_EQ(ims_trace_rec_set_bytes(&rec.r, IMS_K_NAME, "has space", 9), 0);
    EXPECT_EQ(ims_trace_rec_validate(&rec.r, &err), -EINVAL);
    EXPECT_STREQ(err.msg, "mark: name: not a valid name");
}

} // namespace
