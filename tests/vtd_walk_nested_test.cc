// Nested walk (models/vtd/walk_nested.c): FS tables in guest memory, every FS
// table address and the final GPA translated by an SS walk.
#include <gtest/gtest.h>

#include <tuple>

#include "models/mem/pa_alloc.h"
#include "models/mem/physmem.h"
#include "models/vtd/ctx_builder.h"
#include "models/vtd/entries.h"
#include "models/vtd/fault_reason.h"
#include "models/vtd/pt_builder.h"
#include "models/vtd/pte.h"
#include "models/vtd/translate.h"
#include "models/vtd/walk_nested.h"

namespace {

// CAP: ND=2, SAGAW 39/48/57, MGAW 56, SLLPS 2M+1G, FL1GP, FL5LP.
constexpr uint64_t kCap = 2ULL | (7ULL << 9) | (56ULL << 16) | (3ULL << 34) | (1ULL << 56) | (1ULL << 60);
// ECAP: NEST, SRS, EAFS, PSS=19, PASID, SMTS, SLADS, SSTS, FSTS.
constexpr uint64_t kEcap = (1ULL << 26) | (1ULL << 31) | (1ULL << 34) | (19ULL << 35) | (1ULL << 40) |
                           (1ULL << 43) | (1ULL << 45) | (1ULL << 46) | (1ULL << 47);

constexpr uint64_t kHostTables = 0x1000'0000ULL;
constexpr uint64_t kGuestBase = 1ULL << 39;      // HPA of GPA 0
constexpr uint64_t kGuestTables = 0x10'0000ULL;  // GPA range of the guest's FS tables
constexpr uint64_t kGuestRam = 16ULL << 20;      // GPA [0, 16 MiB) mapped by the SS with 4K pages
constexpr uint64_t kData = 0x80'0000ULL;         // GPA of data pages (inside guest RAM)

struct Env {
    ims_physmem *mem = ims_physmem_create();
    ims_pa_alloc host{}, guest{};
    ims_vtd_hw hw{};
    ims_vtd_ctx ctx{};
    ims_pt_builder ss{}, fs{};
    unsigned n, m;

    Env(unsigned fs_levels, unsigned ss_levels) : n(fs_levels), m(ss_levels)
    {
        ims_pa_alloc_init(&host, mem, kHostTables, kHostTables + (64ULL << 20));
        ims_pa_alloc_init(&guest, mem, kGuestBase + kGuestTables, kGuestBase + kGuestTables + (4ULL << 20));
        hw.mem = mem;
        hw.cap = kCap;
        hw.ecap = kEcap;
        hw.te = true;
        EXPECT_EQ(ims_pt_builder_init(&ss, mem, &host, IMS_PT_FORMAT_SS, m, 0, nullptr), 0);
        EXPECT_EQ(ims_pt_builder_init(&fs, mem, &guest, IMS_PT_FORMAT_FS, n, kGuestBase, nullptr), 0);
        ims_error err{};
        EXPECT_EQ(ims_pt_map(&ss, 0, kGuestBase, kGuestRam, 4096, IMS_PT_RW, &err), 0) << err.msg;
        ctx.scalable = true;
        ctx.pgtt = IMS_VTD_PGTT_NESTED;
        ctx.ssptptr = ss.root;
        ctx.ss_levels = m;
        ctx.fsptptr = fs.root;
        ctx.fs_levels = n;
        ctx.sre = true;
    }
    ~Env() { ims_physmem_destroy(mem); }

    void fs_map(uint64_t gva, uint64_t gpa, uint64_t size, unsigned perm)
    {
        ims_error err{};
        ASSERT_EQ(ims_pt_map(&fs, gva, gpa, size, size, perm, &err), 0) << err.msg;
    }
    void ss_remap(uint64_t gpa, uint64_t size, unsigned perm) // replace the SS mapping of a guest range
    {
        ims_error err{};
        ASSERT_GE(ims_pt_unmap(&ss, gpa, size, &err), 0) << err.msg;
        if (perm) {
            ASSERT_EQ(ims_pt_map(&ss, gpa, kGuestBase + gpa, size, 4096, perm, &err), 0) << err.msg;
        }
    }
    // GPA of the FS table holding the level-`level` entry for gva.
    uint64_t fs_table_gpa(uint64_t gva, unsigned level)
    {
        uint64_t hpa = 0;
        EXPECT_EQ(ims_pt_entry_hpa(&fs, gva, level, &hpa), 0);
        return (hpa & ~0xFFFULL) - kGuestBase;
    }
    uint64_t fs_entry(uint64_t gva, unsigned level)
    {
        uint64_t hpa = 0;
        EXPECT_EQ(ims_pt_entry_hpa(&fs, gva, level, &hpa), 0);
        return ims_physmem_r64(mem, hpa);
    }
    uint64_t ss_leaf(uint64_t gpa)
    {
        ims_pt_mapping mp{};
        EXPECT_EQ(ims_pt_lookup(&ss, gpa, &mp), 0);
        return ims_physmem_r64(mem, mp.pte_hpa);
    }
    uint8_t walk(uint64_t gva, bool write, ims_vtd_nested_walk *w, ims_vtd_access_log *log = nullptr,
                 bool priv = false)
    {
        ims_vtd_req req{};
        req.addr = gva;
        req.read = !write;
        req.write = write;
        req.priv = priv;
        return ims_vtd_nested_walk_run(&hw, &ctx, &req, nullptr, nullptr, nullptr, w, log);
    }
};

// ---- memory references of a cold walk (vtd-facts §3.2) ---------------------------------

using Counts = std::tuple<unsigned /*fs n*/, unsigned /*ss m*/, unsigned /*reads*/>;

class VtdWalkNestedCounts : public ::testing::TestWithParam<Counts> {};

TEST_P(VtdWalkNestedCounts, ColdWalkReadsExactlyNPlusOneTimesMPlusN)
{
    // vtd-facts §3.2: (n+1)*m + n reads: 4/4=24, 5/5=35, 4/5=29, 5/4=29.
    auto [n, m, expected] = GetParam();
    Env env(n, m);
    uint64_t gva = 0x0000'1234'5678'9000ULL;
    env.fs_map(gva, kData, 4096, IMS_PT_U | IMS_PT_W);
    ims_vtd_nested_walk w;
    ims_vtd_access_log log{};
    ASSERT_EQ(env.walk(gva + 0x44, false, &w, &log), 0);
    EXPECT_EQ(w.pa, kGuestBase + kData + 0x44);
    EXPECT_EQ(log.reads, expected);
    EXPECT_EQ(log.n, expected);
    EXPECT_EQ(log.writes, 0u);
    // Order: for each FS level, m SS reads tagged with that level, then the FS entry; then m final reads.
    unsigned i = 0;
    for (unsigned fl = n; fl >= 1; fl--) {
        for (unsigned sl = m; sl >= 1; sl--, i++) {
            EXPECT_EQ(log.a[i].kind, IMS_VTD_ACC_SS_PTE) << i;
            EXPECT_EQ(log.a[i].level, sl) << i;
            EXPECT_EQ(log.a[i].nested_fs_level, fl) << i;
        }
        EXPECT_EQ(log.a[i].kind, IMS_VTD_ACC_FS_PTE) << i;
        EXPECT_EQ(log.a[i].level, fl) << i;
        EXPECT_EQ(log.a[i].nested_fs_level, 0u) << i;
        // The FS entry is read at the HPA of its guest table.
        EXPECT_EQ(log.a[i].pa & ~0xFFFULL, kGuestBase + env.fs_table_gpa(gva, fl)) << i;
        i++;
    }
    for (unsigned sl = m; sl >= 1; sl--, i++) {
        EXPECT_EQ(log.a[i].kind, IMS_VTD_ACC_SS_PTE);
        EXPECT_EQ(log.a[i].nested_fs_level, IMS_VTD_NESTED_FINAL);
    }
    EXPECT_EQ(i, expected);
}

TEST_P(VtdWalkNestedCounts, EndToEndAddsFourContextAndPasidReads)
{
    // vtd-facts §3.2: + root, context, PASID-directory and PASID-table reads (not nested in scalable mode).
    auto [n, m, expected] = GetParam();
    Env env(n, m);
    ims_vtd_ctx_builder cb{};
    ims_error err{};
    ASSERT_EQ(ims_vtd_ctxb_init(&cb, &env.host, true, &err), 0) << err.msg;
    ims_vtd_sm_ctx_cfg c{};
    c.paside = true;
    ASSERT_EQ(ims_vtd_ctxb_set_sm_ctx(&cb, 0x0100, &c, &err), 0) << err.msg;
    ims_vtd_pasid_cfg pc{};
    pc.pgtt = IMS_VTD_PGTT_NESTED;
    pc.did = 1;
    pc.aw = m - 2;
    pc.ssptptr = env.ss.root;
    pc.fspm = n == 5 ? IMS_VTD_FSPM_5LEVEL : IMS_VTD_FSPM_4LEVEL;
    pc.fsptptr = env.fs.root;
    ASSERT_EQ(ims_vtd_ctxb_set_pasid(&cb, 0x0100, 9, &pc, &err), 0) << err.msg;
    env.hw.rtaddr = ims_vtd_ctxb_rtaddr(&cb);
    env.fs_map(0x7000'0000, kData, 4096, IMS_PT_U | IMS_PT_W);

    ims_vtd_req req{};
    req.sid = 0x0100;
    req.has_pasid = true;
    req.pasid = 9;
    req.addr = 0x7000'0123;
    req.read = true;
    ims_vtd_result res;
    ims_vtd_access_log log{};
    ims_vtd_translate(&env.hw, &req, IMS_VTD_WALK_NO_AD, &res, &log);
    ASSERT_EQ(res.fault, 0) << ims_vtd_fault_id(res.fault);
    EXPECT_EQ(res.pa, kGuestBase + kData + 0x123);
    EXPECT_EQ(log.reads, expected + 4);
    EXPECT_EQ(log.a[0].kind, IMS_VTD_ACC_ROOT);
    EXPECT_EQ(log.a[3].kind, IMS_VTD_ACC_PASID_ENTRY);
    EXPECT_EQ(log.writes, 0u);
}

INSTANTIATE_TEST_SUITE_P(VtdWalkNested, VtdWalkNestedCounts,
                         ::testing::Values(Counts{4, 4, 24}, Counts{5, 5, 35}, Counts{4, 5, 29}, Counts{5, 4, 29},
                                           Counts{4, 3, 19}, Counts{5, 3, 23}));

// ---- permissions and page size ------------------------------------------------------------

TEST(VtdWalkNested, PermissionsAreFsAndSs)
{
    struct {
        unsigned fs_perm, ss_perm;
        bool r, w;
    } cases[] = {
        {IMS_PT_U | IMS_PT_W, IMS_PT_RW, true, true},
        {IMS_PT_U | IMS_PT_W, IMS_PT_R, true, false},
        {IMS_PT_U, IMS_PT_RW, true, false},
        {IMS_PT_U | IMS_PT_W, IMS_PT_W, false, true},
    };
    for (auto &c : cases) {
        Env env(4, 4);
        env.fs_map(0x4000'0000, kData, 4096, c.fs_perm);
        env.ss_remap(kData, 4096, c.ss_perm);
        ims_vtd_nested_walk w;
        ASSERT_EQ(env.walk(0x4000'0000, false, &w), 0);
        EXPECT_EQ(w.perm.r, c.r);
        EXPECT_EQ(w.perm.w, c.w);
        EXPECT_FALSE(w.perm.us_denied);
    }
    Env env(4, 4);
    env.fs_map(0x4000'0000, kData, 4096, IMS_PT_W); // U/S=0: a user request is denied
    ims_vtd_nested_walk w;
    ASSERT_EQ(env.walk(0x4000'0000, false, &w), 0);
    EXPECT_TRUE(w.perm.us_denied);
    EXPECT_FALSE(w.perm.r);
}

TEST(VtdWalkNested, PageSizeIsTheSmallerStage)
{
    struct {
        uint64_t fs_size, ss_size, expected;
    } cases[] = {
        {2ULL << 20, 4096, 4096},
        {4096, 2ULL << 20, 4096},
        {1ULL << 30, 2ULL << 20, 2ULL << 20},
        {2ULL << 20, 1ULL << 30, 2ULL << 20},
        {1ULL << 30, 1ULL << 30, 1ULL << 30},
    };
    for (auto &c : cases) {
        Env env(4, 4);
        uint64_t gpa = 4ULL << 30; // beyond the 4K-mapped guest RAM
        uint64_t ss_span = c.ss_size > c.fs_size ? c.ss_size : c.fs_size;
        ims_error err{};
        ASSERT_EQ(ims_pt_map(&env.ss, gpa, 0x100'0000'0000ULL, ss_span, c.ss_size, IMS_PT_RW, &err), 0)
            << err.msg;
        uint64_t gva = 3ULL << 30;
        env.fs_map(gva, gpa, c.fs_size, IMS_PT_U | IMS_PT_W);
        ims_vtd_nested_walk w;
        uint64_t off = c.expected - 8; // last qword of the first page of the smaller stage
        ASSERT_EQ(env.walk(gva + off, false, &w), 0);
        EXPECT_EQ(w.page_size, c.expected);
        EXPECT_EQ(w.pa, 0x100'0000'0000ULL + off);
    }
}

// ---- faults of the table walks ---------------------------------------------------------------

TEST(VtdWalkNested, TableGpaBeyondSsWidthIsSfs5)
{
    // vtd-facts §3.5: SFS.5 (0x74) when an FS table GPA is beyond the SS width.
    Env env(4, 3); // SS width 39 bits
    env.fs_map(0x1000, kData, 4096, IMS_PT_U);
    ims_vtd_nested_walk w;
    env.ctx.fsptptr = 1ULL << 40;
    ims_vtd_access_log log{};
    EXPECT_EQ(env.walk(0x1000, false, &w, &log), 0x74);
    EXPECT_EQ(log.reads, 0u);
    env.ctx.fsptptr = env.fs.root;
    // A next-table pointer beyond the width.
    uint64_t hpa = 0;
    ASSERT_EQ(ims_pt_entry_hpa(&env.fs, 0x1000, 3, &hpa), 0);
    ims_physmem_w64(env.mem, hpa, (ims_physmem_r64(env.mem, hpa) & 0xFFF) | (1ULL << 45));
    EXPECT_EQ(env.walk(0x1000, false, &w), 0x74);
    EXPECT_EQ(w.fs.level, 3u);
}

TEST(VtdWalkNested, RootTableWithoutSsReadIsSfs6)
{
    // vtd-facts §3.2: reading an FS structure needs SS R; the FS root reports SFS.6 (0x75).
    for (unsigned perm : {0u, unsigned(IMS_PT_W)}) {
        Env env(4, 4);
        env.fs_map(0x1000, kData, 4096, IMS_PT_U);
        env.ss_remap(env.fs.root, 4096, perm);
        ims_vtd_nested_walk w;
        ims_vtd_access_log log{};
        EXPECT_EQ(env.walk(0x1000, false, &w, &log), 0x75) << perm;
        EXPECT_EQ(log.reads, 4u);
        for (unsigned i = 0; i < log.n; i++) {
            EXPECT_EQ(log.a[i].kind, IMS_VTD_ACC_SS_PTE);
        }
    }
}

TEST(VtdWalkNested, LowerTableWithoutSsReadIsSfs7)
{
    // vtd-facts §3.5: SFS.7 (0x76) for FS tables below the root.
    for (unsigned level = 1; level <= 3; level++) {
        for (unsigned perm : {0u, unsigned(IMS_PT_W)}) {
            Env env(4, 4);
            env.fs_map(0x1000, kData, 4096, IMS_PT_U);
            env.ss_remap(env.fs_table_gpa(0x1000, level), 4096, perm);
            ims_vtd_nested_walk w;
            ims_vtd_access_log log{};
            EXPECT_EQ(env.walk(0x1000, false, &w, &log), 0x76) << level;
            EXPECT_EQ(log.reads, (4 - level) * 5 + 4) << level;
        }
    }
}

TEST(VtdWalkNested, SsReservedBitInTableWalkReportedAsSs)
{
    Env env(4, 4);
    env.fs_map(0x1000, kData, 4096, IMS_PT_U);
    ims_pt_mapping mp{};
    ASSERT_EQ(ims_pt_lookup(&env.ss, env.fs_table_gpa(0x1000, 2), &mp), 0);
    ims_physmem_w64(env.mem, mp.pte_hpa, mp.pte | (1ULL << 62)); // TM without ECAP.DT
    ims_vtd_nested_walk w;
    EXPECT_EQ(env.walk(0x1000, false, &w), IMS_VTD_FR_SSS_3);
}

TEST(VtdWalkNested, FinalGpaFaultsAreSsFaults)
{
    Env env(4, 4);
    env.fs_map(0x1000, 0x2000'0000, 4096, IMS_PT_U); // GPA not mapped by the SS
    ims_vtd_nested_walk w;
    ims_vtd_access_log log{};
    EXPECT_EQ(env.walk(0x1000, false, &w, &log), IMS_VTD_FR_SSS_2);
    EXPECT_EQ(log.reads, 4u * 5u + 3u); // the final walk stops at the empty level-2 slot
    Env env3(4, 3);
    env3.fs_map(0x1000, 1ULL << 40, 4096, IMS_PT_U); // beyond the 39-bit SS
    EXPECT_EQ(env3.walk(0x1000, false, &w), IMS_VTD_FR_SGN_4);
    EXPECT_FALSE(w.perm.r);
}

TEST(VtdWalkNested, FsFaultsStillReported)
{
    Env env(4, 4);
    ims_vtd_nested_walk w;
    EXPECT_EQ(env.walk(0x1000, false, &w), IMS_VTD_FR_SFS_2);
    EXPECT_EQ(env.walk(0x8000'0000'0000ULL, false, &w), IMS_VTD_FR_SGN_1);
}

// ---- A/D ------------------------------------------------------------------------------------

TEST(VtdWalkNested, AdUpdateNeedsSsWriteSfs8)
{
    // vtd-facts §3.2: updating A/D in an FS entry needs SS W for that table (SFS.8, 0x77).
    Env env(4, 4);
    env.fs_map(0x1000, kData, 4096, IMS_PT_U | IMS_PT_W);
    uint64_t t2 = env.fs_table_gpa(0x1000, 2);
    env.ss_remap(t2, 4096, IMS_PT_R);
    uint64_t before = env.fs_entry(0x1000, 4);
    ims_vtd_nested_walk w;
    ims_vtd_access_log log{};
    ASSERT_EQ(env.walk(0x1000, false, &w, &log), 0); // reading is fine
    EXPECT_EQ(ims_vtd_nested_walk_set_ad(&env.hw, &env.ctx, &w, false, 0, &log), 0x77);
    EXPECT_EQ(log.writes, 0u); // decided before anything is written
    EXPECT_EQ(env.fs_entry(0x1000, 4), before);
    // The probe flag does not change the outcome.
    EXPECT_EQ(ims_vtd_nested_walk_set_ad(&env.hw, &env.ctx, &w, false, IMS_VTD_WALK_NO_AD, nullptr), 0x77);
    // With A (and D) already set no update is needed, so a read-only table is fine.
    Env pre(4, 4);
    pre.fs_map(0x1000, kData, 4096, IMS_PT_U | IMS_PT_W | IMS_PT_AD);
    pre.ss_remap(pre.fs_table_gpa(0x1000, 2), 4096, IMS_PT_R);
    ASSERT_EQ(pre.walk(0x1000, true, &w), 0);
    EXPECT_EQ(ims_vtd_nested_walk_set_ad(&pre.hw, &pre.ctx, &w, true, 0, nullptr), 0);
}

TEST(VtdWalkNested, AdWritesFsEntriesAndSsEntries)
{
    Env env(4, 4);
    env.ctx.ssade = true;
    env.fs_map(0x1000, kData, 4096, IMS_PT_U | IMS_PT_W);
    ims_vtd_nested_walk w;
    ims_vtd_access_log log{};
    ASSERT_EQ(env.walk(0x1000, true, &w, &log), 0);
    ASSERT_EQ(ims_vtd_nested_walk_set_ad(&env.hw, &env.ctx, &w, true, 0, &log), 0);
    for (unsigned l = 1; l <= 4; l++) {
        EXPECT_TRUE(ims_fs_pte_a(env.fs_entry(0x1000, l))) << l;
        EXPECT_EQ(ims_fs_pte_d(env.fs_entry(0x1000, l)), l == 1) << l;
        // The FS table pages were written through the SS: SS leaf A and D.
        uint64_t sl = env.ss_leaf(env.fs_table_gpa(0x1000, l));
        EXPECT_TRUE(ims_ss_pte_a(sl) && ims_ss_pte_d(sl)) << l;
    }
    uint64_t data = env.ss_leaf(kData);
    EXPECT_TRUE(ims_ss_pte_a(data) && ims_ss_pte_d(data));
    // SS upper levels are shared by all five SS walks: A written once each, never D.
    unsigned fs_w = 0, ss_w = 0;
    for (unsigned i = 0; i < log.n; i++) {
        fs_w += log.a[i].kind == IMS_VTD_ACC_FS_AD_WRITE;
        ss_w += log.a[i].kind == IMS_VTD_ACC_SS_AD_WRITE;
    }
    EXPECT_EQ(fs_w, 4u);
    EXPECT_EQ(log.writes, fs_w + ss_w);
    // Distinct SS entries used: L4, L3, two L2 (tables at 1 MiB, data at 8 MiB), five leaves.
    EXPECT_EQ(ss_w, 9u);

    // Reading only: a fresh page's SS leaf gets A but not D; FS tables already have A, so no FS writes.
    env.fs_map(0x2000, kData + 0x1000, 4096, IMS_PT_U);
    ims_vtd_access_log log2{};
    ASSERT_EQ(env.walk(0x2000, false, &w, &log2), 0);
    ASSERT_EQ(ims_vtd_nested_walk_set_ad(&env.hw, &env.ctx, &w, false, 0, &log2), 0);
    uint64_t d2 = env.ss_leaf(kData + 0x1000);
    EXPECT_TRUE(ims_ss_pte_a(d2));
    EXPECT_FALSE(ims_ss_pte_d(d2));
    EXPECT_TRUE(ims_fs_pte_a(env.fs_entry(0x2000, 1)));
    EXPECT_EQ(log2.writes, 2u); // the new FS leaf's A and the new SS leaf's A
}

// ---- starting part-way --------------------------------------------------------------------------

static bool start_ss_at_1(void *opaque, uint64_t gpa, unsigned tag, ims_vtd_ss_start *st)
{
    auto *env = static_cast<Env *>(opaque);
    (void)tag;
    uint64_t hpa = 0;
    if (ims_pt_entry_hpa(&env->ss, gpa, 1, &hpa) != 0)
        return false;
    *st = ims_vtd_ss_start{1, hpa & ~0xFFFULL, true, true, true};
    return true;
}

TEST(VtdWalkNested, StartHooksCutReads)
{
    Env env(4, 4);
    env.fs_map(0x1000, kData, 4096, IMS_PT_U);
    ims_vtd_nested_walk cold, w;
    ASSERT_EQ(env.walk(0x1000, false, &cold), 0);
    ims_vtd_req req{};
    req.addr = 0x1000;
    req.read = true;
    // FS PSC hit at level 2 (HPA of the level-2 table from the cold walk), SS walks start at level 1.
    ims_vtd_fs_start fst{2, cold.fs.step[2].table, cold.fs.step[2].writable, true, true};
    ims_vtd_access_log log{};
    ASSERT_EQ(ims_vtd_nested_walk_run(&env.hw, &env.ctx, &req, &fst, start_ss_at_1, &env, &w, &log), 0);
    EXPECT_EQ(w.pa, cold.pa);
    // FS level 2 (table from the cache): 1 FS read; level 1: 1 SS + 1 FS; final: 1 SS.
    EXPECT_EQ(log.reads, 4u);
    EXPECT_FALSE(w.table_ss_done[2]);
    EXPECT_TRUE(w.table_ss_done[1]);
}

} // namespace
