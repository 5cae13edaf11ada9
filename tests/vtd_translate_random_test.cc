// Randomized check of ims_vtd_translate against an independent dictionary of
// mappings (std::map), for SS-only, FS-only and nested setups: thousands of
// mixed-size mappings, probes inside them and in the holes, then unmaps.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <vector>

#include "models/mem/pa_alloc.h"
#include "models/mem/physmem.h"
#include "models/vtd/ctx_builder.h"
#include "models/vtd/entries.h"
#include "models/vtd/fault_reason.h"
#include "models/vtd/pt_builder.h"
#include "models/vtd/pte.h"
#include "models/vtd/translate.h"
#include "sim/rng.h"

namespace {

constexpr uint64_t kCap = 2ULL | (7ULL << 9) | (56ULL << 16) | (3ULL << 34) | (1ULL << 56) | (1ULL << 60);
constexpr uint64_t kEcap = (1ULL << 2) | (1ULL << 6) | (1ULL << 26) | (1ULL << 31) | (19ULL << 35) |
                           (1ULL << 40) | (1ULL << 43) | (1ULL << 45) | (1ULL << 46) | (1ULL << 47);
constexpr uint64_t kHostTables = 0x1000'0000ULL;
constexpr uint64_t kGuestBase = 1ULL << 45;   // HPA of guest RAM
constexpr uint64_t kGuestTableGpa = 0x100'0000; // guest FS tables: GPA [16 MiB, 80 MiB)
constexpr uint64_t kGuestRam = 128ULL << 20;    // SS-mapped RW with 2 MiB pages
constexpr uint16_t kSid = 0x4218;
constexpr uint32_t kPasid = 0x123;
constexpr int kMappings = 2000;

struct Map {
    uint64_t out, size;
    bool w;
};
using Dict = std::map<uint64_t, Map>; // base -> mapping

// The mapping containing addr, or nullptr.
const std::pair<const uint64_t, Map> *find(const Dict &d, uint64_t addr)
{
    auto it = d.upper_bound(addr);
    if (it == d.begin())
        return nullptr;
    --it;
    return addr - it->first < it->second.size ? &*it : nullptr;
}

bool overlaps(const Dict &d, uint64_t base, uint64_t size)
{
    auto it = d.lower_bound(base);
    if (it != d.end() && it->first < base + size)
        return true;
    if (it == d.begin())
        return false;
    --it;
    return it->first + it->second.size > base;
}

uint64_t pick_size(ims_rng *r)
{
    uint64_t x = ims_rng_below(r, 100);
    return x < 70 ? 4096 : x < 95 ? (2ULL << 20) : (1ULL << 30);
}

// Output address for a page of `size` (aligned to it).
using OutFn = std::function<uint64_t(uint64_t size)>;

OutFn uniform_out(ims_rng *r, uint64_t base, uint64_t span)
{
    return [=](uint64_t size) { return base + ims_rng_below(r, span / size) * size; };
}

// Random mappings (non-overlapping inputs) of mixed sizes into `b`, recorded in `d`;
// a third of them read-only.
void fill(ims_rng *r, ims_pt_builder *b, Dict *d, int count, uint64_t in_span, const OutFn &out_fn, bool fs)
{
    int made = 0;
    while (made < count) {
        uint64_t size = pick_size(r);
        uint64_t base = ims_rng_below(r, in_span / size) * size;
        if (overlaps(*d, base, size))
            continue;
        uint64_t out = out_fn(size);
        bool w = ims_rng_below(r, 3) != 0;
        unsigned perm = fs ? (IMS_PT_U | (w ? IMS_PT_W : 0)) : (w ? IMS_PT_RW : IMS_PT_R);
        ims_error err{};
        ASSERT_EQ(ims_pt_map(b, base, out, size, size, perm, &err), 0) << err.msg;
        (*d)[base] = Map{out, size, w};
        made++;
    }
}

struct World {
    ims_physmem *mem = ims_physmem_create();
    ims_pa_alloc host{}, guest{};
    ims_vtd_hw hw{};
    ims_vtd_ctx_builder cb{};
    ims_pt_builder ss{}, fs{};
    ~World() { ims_physmem_destroy(mem); }

    World(unsigned pgtt)
    {
        ims_pa_alloc_init(&host, mem, kHostTables, kHostTables + (512ULL << 20));
        ims_pa_alloc_init(&guest, mem, kGuestBase + kGuestTableGpa, kGuestBase + kGuestTableGpa + (64ULL << 20));
        hw.mem = mem;
        hw.cap = kCap;
        hw.ecap = kEcap;
        hw.te = true;
        ims_error err{};
        EXPECT_EQ(ims_vtd_ctxb_init(&cb, &host, true, &err), 0);
        hw.rtaddr = ims_vtd_ctxb_rtaddr(&cb);
        ims_vtd_sm_ctx_cfg c{};
        c.paside = true;
        c.pdts = 1;
        EXPECT_EQ(ims_vtd_ctxb_set_sm_ctx(&cb, kSid, &c, &err), 0) << err.msg;
        ims_vtd_pasid_cfg pc{};
        pc.pgtt = pgtt;
        pc.did = 9;
        if (pgtt != IMS_VTD_PGTT_FS) {
            EXPECT_EQ(ims_pt_builder_init(&ss, mem, &host, IMS_PT_FORMAT_SS, 4, 0, &err), 0);
            pc.aw = 2;
            pc.ssptptr = ss.root;
        }
        if (pgtt == IMS_VTD_PGTT_FS) {
            EXPECT_EQ(ims_pt_builder_init(&fs, mem, &host, IMS_PT_FORMAT_FS, 5, 0, &err), 0);
            pc.fspm = IMS_VTD_FSPM_5LEVEL;
            pc.fsptptr = fs.root;
        }
        if (pgtt == IMS_VTD_PGTT_NESTED) {
            EXPECT_EQ(ims_pt_builder_init(&fs, mem, &guest, IMS_PT_FORMAT_FS, 4, kGuestBase, &err), 0);
            pc.fspm = IMS_VTD_FSPM_4LEVEL;
            pc.fsptptr = fs.root;
        }
        EXPECT_EQ(ims_vtd_ctxb_set_pasid(&cb, kSid, kPasid, &pc, &err), 0) << err.msg;
    }

    ims_vtd_result xlate(uint64_t addr, bool write)
    {
        ims_vtd_req r{};
        r.sid = kSid;
        r.has_pasid = true;
        r.pasid = kPasid;
        r.addr = addr;
        r.read = !write;
        r.write = write;
        ims_vtd_result res;
        ims_vtd_translate(&hw, &r, 0, &res, nullptr);
        return res;
    }
};

// Expected outcome of one request from the dictionaries.
struct Expect {
    uint8_t fault;
    uint64_t pa, page_size;
    bool w;
};

Expect expect_single(const Dict &d, uint64_t addr, bool write, bool fs)
{
    auto *m = find(d, addr);
    if (!m)
        return {uint8_t(fs ? IMS_VTD_FR_SFS_2 : IMS_VTD_FR_SSS_2), 0, 0, false};
    if (write && !m->second.w)
        return {IMS_VTD_FR_SGN_6, 0, 0, false};
    return {0, m->second.out + (addr - m->first), m->second.size, m->second.w};
}

void check(World &w, uint64_t addr, bool write, const Expect &e, const char *what)
{
    ims_vtd_result res = w.xlate(addr, write);
    ASSERT_EQ(res.fault, e.fault) << what << " addr " << std::hex << addr << " write " << write;
    if (e.fault)
        return;
    EXPECT_EQ(res.pa, e.pa) << what << std::hex << " addr " << addr;
    EXPECT_EQ(res.page_size, e.page_size) << what << std::hex << " addr " << addr;
    EXPECT_TRUE(res.r);
    EXPECT_EQ(res.w, e.w);
}

// Probe every mapping (random offset, read and write), random addresses, then unmap some and re-probe.
template <typename ExpectFn>
void probe_all(World &w, ims_rng *r, const Dict &d, uint64_t span, ExpectFn expect, const char *what)
{
    for (auto &[base, m] : d) {
        uint64_t addr = base + ims_rng_below(r, m.size / 8) * 8;
        for (bool write : {false, true})
            check(w, addr, write, expect(addr, write), what);
        if (::testing::Test::HasFatalFailure())
            return;
    }
    int holes = 0;
    for (int i = 0; i < 4000; i++) {
        uint64_t addr = ims_rng_below(r, span) & ~7ULL;
        holes += find(d, addr) == nullptr;
        check(w, addr, false, expect(addr, false), what);
        if (::testing::Test::HasFatalFailure())
            return;
    }
    EXPECT_GT(holes, 100) << "random probes must also hit unmapped space";
}

TEST(VtdTranslateRandom, SecondStageOnlyMatchesDictionary)
{
    World w(IMS_VTD_PGTT_SS);
    ims_rng r;
    ims_rng_seed(&r, 0x55AA01);
    Dict d;
    const uint64_t span = 1ULL << 40;
    fill(&r, &w.ss, &d, kMappings, span, uniform_out(&r, 1ULL << 44, 1ULL << 40), false);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    auto expect = [&](uint64_t a, bool wr) { return expect_single(d, a, wr, false); };
    probe_all(w, &r, d, span, expect, "ss");

    // Unmap a tenth and re-check everything.
    std::vector<uint64_t> bases;
    for (auto &[b, m] : d)
        if (ims_rng_below(&r, 10) == 0)
            bases.push_back(b);
    for (uint64_t b : bases) {
        ims_error err{};
        ASSERT_EQ(ims_pt_unmap(&w.ss, b, d[b].size, &err), (int64_t)d[b].size) << err.msg;
        d.erase(b);
    }
    for (uint64_t b : bases)
        check(w, b + 8, false, expect(b + 8, false), "ss unmapped");
    probe_all(w, &r, d, span, expect, "ss after unmap");
}

TEST(VtdTranslateRandom, FirstStageOnlyMatchesDictionary)
{
    World w(IMS_VTD_PGTT_FS);
    ims_rng r;
    ims_rng_seed(&r, 0x55AA02);
    Dict d;
    const uint64_t span = 1ULL << 42;
    fill(&r, &w.fs, &d, kMappings, span, uniform_out(&r, 1ULL << 44, 1ULL << 40), true);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    auto expect = [&](uint64_t a, bool wr) { return expect_single(d, a, wr, true); };
    probe_all(w, &r, d, span, expect, "fs");
    std::vector<uint64_t> bases;
    for (auto &[b, m] : d)
        if (ims_rng_below(&r, 10) == 0)
            bases.push_back(b);
    for (uint64_t b : bases) {
        ASSERT_EQ(ims_pt_unmap(&w.fs, b, d[b].size, nullptr), (int64_t)d[b].size);
        d.erase(b);
    }
    probe_all(w, &r, d, span, expect, "fs after unmap");
}

TEST(VtdTranslateRandom, NestedMatchesComposedDictionaries)
{
    World w(IMS_VTD_PGTT_NESTED);
    ims_rng r;
    ims_rng_seed(&r, 0x55AA03);
    // SS: guest RAM (FS tables) RW with 2 MiB pages, then random mixed-size GPA mappings above it.
    Dict ss_d, fs_d;
    ims_error err{};
    ASSERT_EQ(ims_pt_map(&w.ss, 0, kGuestBase, kGuestRam, 2ULL << 20, IMS_PT_RW, &err), 0) << err.msg;
    ss_d[0] = Map{kGuestBase, kGuestRam, true}; // one entry is enough for lookups below 128 MiB
    const uint64_t gpa_span = 1ULL << 40;
    // The guest-RAM entry keeps the random GPA mappings clear of it.
    fill(&r, &w.ss, &ss_d, kMappings, gpa_span, uniform_out(&r, 1ULL << 44, 1ULL << 40), false);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    // FS: random GVA mappings; 4 in 5 target a GPA inside an SS mapping, the rest anywhere (SS holes).
    std::vector<std::pair<uint64_t, Map>> ss_list(ss_d.begin(), ss_d.end());
    OutFn fs_out = [&](uint64_t size) -> uint64_t {
        if (ims_rng_below(&r, 5) == 0)
            return ims_rng_below(&r, gpa_span / size) * size;
        auto &[gbase, gm] = ss_list[ims_rng_below(&r, ss_list.size())];
        uint64_t gpa = gbase + ims_rng_below(&r, gm.size);
        return gpa & ~(size - 1);
    };
    const uint64_t span = 1ULL << 42;
    fill(&r, &w.fs, &fs_d, kMappings, span, fs_out, true);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());

    auto expect = [&](uint64_t gva, bool write) -> Expect {
        auto *f = find(fs_d, gva);
        if (!f)
            return {IMS_VTD_FR_SFS_2, 0, 0, false};
        uint64_t gpa = f->second.out + (gva - f->first);
        auto *s = find(ss_d, gpa);
        if (!s)
            return {IMS_VTD_FR_SSS_2, 0, 0, false};
        bool wr = f->second.w && s->second.w;
        if (write && !wr)
            return {IMS_VTD_FR_SGN_6, 0, 0, false};
        uint64_t ss_size = s->first == 0 ? (2ULL << 20) : s->second.size; // guest RAM uses 2 MiB leaves
        return {0, s->second.out + (gpa - s->first), std::min(f->second.size, ss_size), wr};
    };
    probe_all(w, &r, fs_d, span, expect, "nested");
    int ss_holes = 0;
    for (auto &[b, m] : fs_d)
        ss_holes += find(ss_d, m.out) == nullptr;
    EXPECT_GT(ss_holes, 100) << "some FS mappings must point at unmapped GPAs";
}

} // namespace
