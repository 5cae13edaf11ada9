// First-stage walk (models/vtd/walk_fs.c) with identity table translation (PGTT=FS).
#include <gtest/gtest.h>

#include <tuple>

#include "models/mem/pa_alloc.h"
#include "models/mem/physmem.h"
#include "models/vtd/fault_reason.h"
#include "models/vtd/pt_builder.h"
#include "models/vtd/pte.h"
#include "models/vtd/walk_fs.h"

namespace {

constexpr uint64_t kCapFl1gp = 1ULL << 56;
constexpr uint64_t kCap = (56ULL << 16) | kCapFl1gp;
constexpr uint64_t kTables = 0x1000'0000ULL;
constexpr uint64_t kPa = 0x40'0000'0000ULL;

struct Env {
    ims_physmem *mem = ims_physmem_create();
    ims_pa_alloc alloc{};
    ims_vtd_hw hw{};
    ims_vtd_ctx ctx{};
    ims_pt_builder pt{};

    explicit Env(unsigned levels, uint64_t cap = kCap)
    {
        ims_pa_alloc_init(&alloc, mem, kTables, kTables + (64ULL << 20));
        hw.mem = mem;
        hw.cap = cap;
        hw.te = true;
        EXPECT_EQ(ims_pt_builder_init(&pt, mem, &alloc, IMS_PT_FORMAT_FS, levels, 0, nullptr), 0);
        ctx.scalable = true;
        ctx.pgtt = IMS_VTD_PGTT_FS;
        ctx.fsptptr = pt.root;
        ctx.fs_levels = levels;
        ctx.sre = true;
    }
    ~Env() { ims_physmem_destroy(mem); }

    void map(uint64_t iova, uint64_t pa, uint64_t size, unsigned perm)
    {
        ims_error err{};
        ASSERT_EQ(ims_pt_map(&pt, iova, pa, size, size, perm, &err), 0) << err.msg;
    }
    uint64_t entry_hpa(uint64_t iova, unsigned level)
    {
        uint64_t hpa = 0;
        EXPECT_EQ(ims_pt_entry_hpa(&pt, iova, level, &hpa), 0);
        return hpa;
    }
    uint64_t entry(uint64_t iova, unsigned level) { return ims_physmem_r64(mem, entry_hpa(iova, level)); }
    void patch(uint64_t iova, unsigned level, uint64_t set, uint64_t clear = 0)
    {
        uint64_t hpa = entry_hpa(iova, level);
        ims_physmem_w64(mem, hpa, (ims_physmem_r64(mem, hpa) & ~clear) | set);
    }
    uint8_t walk(uint64_t addr, bool priv, ims_vtd_fs_walk *w, ims_vtd_access_log *log = nullptr,
                 const ims_vtd_fs_start *start = nullptr)
    {
        return ims_vtd_fs_walk_run(&hw, &ctx, addr, priv, start, ims_vtd_fs_table_identity, &hw, w, log);
    }
};

// ---- level count x page size x permission x privilege --------------------------------

using Combo = std::tuple<unsigned /*levels*/, unsigned /*leaf*/, unsigned /*perm*/, bool /*priv*/, bool /*wpe*/>;

class VtdWalkFsMatrix : public ::testing::TestWithParam<Combo> {};

TEST_P(VtdWalkFsMatrix, TranslatesWithPermissions)
{
    auto [levels, leaf, perm, priv, wpe] = GetParam();
    Env env(levels);
    env.ctx.wpe = wpe;
    uint64_t size = ims_pt_level_size(leaf);
    uint64_t iova = (0x6543ULL << 30) + 5 * size;
    env.map(iova, kPa + size, size, perm);
    ims_vtd_fs_walk w;
    ims_vtd_access_log log{};
    ASSERT_EQ(env.walk(iova + 0x18, priv, &w, &log), 0);
    EXPECT_EQ(w.out, kPa + size + 0x18);
    EXPECT_EQ(w.page_size, size);
    EXPECT_EQ(log.reads, levels - leaf + 1);
    for (unsigned i = 0; i < log.n; i++) {
        EXPECT_EQ(log.a[i].kind, IMS_VTD_ACC_FS_PTE);
        EXPECT_EQ(log.a[i].level, levels - i);
        EXPECT_EQ(log.a[i].pa, env.entry_hpa(iova, levels - i));
    }
    bool user_ok = (perm & IMS_PT_U) != 0;
    bool rw = (perm & IMS_PT_W) != 0;
    // vtd-facts §2.7: user requests need U/S at every level and R/W to write; supervisor writes honour
    // R/W only with WPE.
    if (priv) {
        EXPECT_FALSE(w.perm.us_denied);
        EXPECT_TRUE(w.perm.r);
        EXPECT_EQ(w.perm.w, wpe ? rw : true);
    } else {
        EXPECT_EQ(w.perm.us_denied, !user_ok);
        EXPECT_EQ(w.perm.r, user_ok);
        EXPECT_EQ(w.perm.w, user_ok && rw);
    }
    EXPECT_EQ(w.perm.x, w.perm.r); // XD ignored
}

INSTANTIATE_TEST_SUITE_P(VtdWalkFs, VtdWalkFsMatrix,
                         ::testing::Combine(::testing::Values(4u, 5u), ::testing::Values(1u, 2u, 3u),
                                            ::testing::Values(0u, unsigned(IMS_PT_W), unsigned(IMS_PT_U),
                                                              unsigned(IMS_PT_W | IMS_PT_U)),
                                            ::testing::Bool(), ::testing::Bool()));

// ---- input address -------------------------------------------------------------------

TEST(VtdWalkFs, CanonicalCheck)
{
    // vtd-facts §2.7: the input must be canonical for the paging mode, else SGN.1 (0x80).
    Env env4(4);
    env4.map(0xFFFF'8000'0000'0000ULL, kPa, 4096, IMS_PT_U | IMS_PT_W);
    ims_vtd_fs_walk w;
    ims_vtd_access_log log{};
    EXPECT_EQ(env4.walk(0x0000'8000'0000'0000ULL, false, &w, &log), 0x80);
    EXPECT_EQ(log.reads, 0u);
    EXPECT_EQ(env4.walk(0xFFFF'0000'0000'0000ULL, false, &w), 0x80);
    EXPECT_EQ(env4.walk(0x0001'0000'0000'0000ULL, false, &w), 0x80);
    ASSERT_EQ(env4.walk(0xFFFF'8000'0000'0123ULL, false, &w), 0);
    EXPECT_EQ(w.out, kPa + 0x123);
    EXPECT_EQ(env4.walk(0x0000'7FFF'FFFF'F000ULL, false, &w), IMS_VTD_FR_SFS_2); // canonical, unmapped
    Env env5(5);
    EXPECT_EQ(env5.walk(0x0100'0000'0000'0000ULL, false, &w), 0x80);
    EXPECT_EQ(env5.walk(0x0000'8000'0000'0000ULL, false, &w), IMS_VTD_FR_SFS_2); // canonical in 5-level
    EXPECT_EQ(env5.walk(0xFF00'0000'0000'0000ULL, false, &w), IMS_VTD_FR_SFS_2);
}

// ---- faults ---------------------------------------------------------------------------

TEST(VtdWalkFs, NotPresentAtEachLevel)
{
    // vtd-facts §2.7: P=0 gives SFS.2 (0x71) at whatever level.
    for (unsigned level = 1; level <= 4; level++) {
        Env env(4);
        env.map(0x20'0000, kPa, 4096, IMS_PT_W | IMS_PT_U);
        env.patch(0x20'0000, level, 0, IMS_FS_PTE_P);
        ims_vtd_fs_walk w;
        ims_vtd_access_log log{};
        EXPECT_EQ(env.walk(0x20'0000, false, &w, &log), 0x71);
        EXPECT_EQ(w.level, level);
        EXPECT_EQ(log.reads, 4 - level + 1);
        EXPECT_FALSE(w.perm.r);
    }
}

struct RsvdCase {
    const char *name;
    unsigned leaf, patch_level;
    uint64_t bits;
    uint64_t cap;
    bool faults;
};

class VtdWalkFsReserved : public ::testing::TestWithParam<RsvdCase> {};

TEST_P(VtdWalkFsReserved, ReservedBits)
{
    const RsvdCase &c = GetParam();
    Env env(4, c.cap);
    uint64_t size = ims_pt_level_size(c.leaf);
    env.map(2 * size, kPa, size, IMS_PT_W | IMS_PT_U);
    env.patch(2 * size, c.patch_level, c.bits);
    ims_vtd_fs_walk w;
    EXPECT_EQ(env.walk(2 * size, false, &w), c.faults ? IMS_VTD_FR_SFS_3 : 0) << c.name;
    if (c.faults) {
        EXPECT_EQ(w.level, c.patch_level);
    }
}

constexpr uint64_t kCapHaw48 = (47ULL << 16) | kCapFl1gp;

// vtd-facts §2.7 reserved-bit rules.
INSTANTIATE_TEST_SUITE_P(
    VtdWalkFs, VtdWalkFsReserved,
    ::testing::Values(RsvdCase{"addr_above_haw_leaf", 1, 1, 1ULL << 50, kCapHaw48, true},
                      RsvdCase{"addr_above_haw_pml4e", 1, 4, 1ULL << 48, kCapHaw48, true},
                      RsvdCase{"ps_in_pml4e", 1, 4, IMS_FS_PTE_PS, kCap, true},
                      RsvdCase{"2m_bits_20_13", 2, 2, 1ULL << 13, kCap, true},
                      RsvdCase{"2m_pat_bit12_ok", 2, 2, 1ULL << 12, kCap, false},
                      RsvdCase{"1g_bits_29_13", 3, 3, 1ULL << 29, kCap, true},
                      RsvdCase{"pat_in_4k_pte_ok", 1, 1, IMS_FS_PTE_PS, kCap, false},
                      RsvdCase{"xd_ignored", 1, 1, IMS_FS_PTE_XD, kCap, false},
                      RsvdCase{"g_and_ignored_bits", 1, 1, IMS_FS_PTE_G | (0x7FFULL << 52), kCap, false},
                      RsvdCase{"pwt_pcd", 1, 2, IMS_FS_PTE_PWT | IMS_FS_PTE_PCD, kCap, false}),
    [](const ::testing::TestParamInfo<RsvdCase> &i) { return std::string(i.param.name); });

TEST(VtdWalkFs, OneGigNeedsFl1gp)
{
    // vtd-facts §2.7: 1 GiB pages only with CAP.FL1GP; otherwise PS in a PDPE is reserved (SFS.3).
    Env env(4, 56ULL << 16);
    env.map(1ULL << 30, kPa, 1ULL << 30, IMS_PT_U);
    env.map(0, kPa, 2ULL << 20, IMS_PT_U);
    ims_vtd_fs_walk w;
    EXPECT_EQ(env.walk((1ULL << 30) + 5, false, &w), IMS_VTD_FR_SFS_3);
    EXPECT_EQ(env.walk(5, false, &w), 0); // 2M needs nothing
}

TEST(VtdWalkFs, SupervisorRequestNeedsSre)
{
    Env env(4);
    env.map(0x1000, kPa, 4096, IMS_PT_W);
    env.ctx.sre = false;
    ims_vtd_fs_walk w;
    ims_vtd_access_log log{};
    EXPECT_EQ(env.walk(0x1000, true, &w, &log), IMS_VTD_FR_SPT_6);
    EXPECT_EQ(log.reads, 0u);
    EXPECT_EQ(env.walk(0x1000, false, &w), 0); // user requests are not affected
    EXPECT_TRUE(w.perm.us_denied);
}

TEST(VtdWalkFs, FsptptrBeyondHaw)
{
    Env env(4, (38ULL << 16));
    env.ctx.fsptptr = 1ULL << 39;
    ims_vtd_fs_walk w;
    ims_vtd_access_log log{};
    EXPECT_EQ(env.walk(0, false, &w, &log), IMS_VTD_FR_SFS_4);
    EXPECT_EQ(log.reads, 0u);
}

TEST(VtdWalkFs, BadLevelCount)
{
    Env env(4);
    env.ctx.fs_levels = 3;
    ims_vtd_fs_walk w;
    EXPECT_EQ(env.walk(0, false, &w), IMS_VTD_FR_SPT_4);
}

// ---- per-level permission rules ---------------------------------------------------------

TEST(VtdWalkFs, ReadWriteAndUserAtEveryLevel)
{
    for (unsigned level = 1; level <= 4; level++) {
        Env env(4);
        env.map(0x3000, kPa, 4096, IMS_PT_W | IMS_PT_U);
        env.patch(0x3000, level, 0, IMS_FS_PTE_RW);
        ims_vtd_fs_walk w;
        ASSERT_EQ(env.walk(0x3000, false, &w), 0);
        EXPECT_TRUE(w.perm.r);
        EXPECT_FALSE(w.perm.w) << "R/W=0 at level " << level;
        EXPECT_EQ(w.step[level].rw, false);
        if (level < 4) {
            EXPECT_TRUE(w.step[level + 1].rw);
        }
        ASSERT_EQ(env.walk(0x3000, true, &w), 0);
        EXPECT_TRUE(w.perm.w) << "supervisor without WPE";
        env.ctx.wpe = true;
        ASSERT_EQ(env.walk(0x3000, true, &w), 0);
        EXPECT_FALSE(w.perm.w) << "supervisor with WPE";

        env.ctx.wpe = false;
        env.patch(0x3000, level, IMS_FS_PTE_RW, IMS_FS_PTE_US);
        ASSERT_EQ(env.walk(0x3000, false, &w), 0);
        EXPECT_TRUE(w.perm.us_denied) << "U/S=0 at level " << level;
        EXPECT_FALSE(w.perm.r);
        EXPECT_FALSE(w.perm.w);
        ASSERT_EQ(env.walk(0x3000, true, &w), 0);
        EXPECT_FALSE(w.perm.us_denied);
        EXPECT_TRUE(w.perm.r && w.perm.w);
    }
}

// ---- start at a level ---------------------------------------------------------------------

TEST(VtdWalkFs, StartAtLevel)
{
    Env env(5);
    uint64_t iova = 0x00AB'CDEF'1234'5000ULL;
    env.map(iova, kPa, 4096, IMS_PT_U);
    ims_vtd_fs_walk cold, warm;
    ASSERT_EQ(env.walk(iova, false, &cold), 0);
    for (unsigned level = 1; level <= 4; level++) {
        const ims_vtd_fs_step &up = cold.step[level + 1];
        ims_vtd_fs_start st{level, ims_fs_pte_addr(up.pte), true, up.rw, up.us};
        ims_vtd_access_log log{};
        ASSERT_EQ(env.walk(iova, false, &warm, &log, &st), 0);
        EXPECT_EQ(warm.out, cold.out);
        EXPECT_EQ(log.reads, level);
        EXPECT_EQ(warm.perm.w, false);
        EXPECT_EQ(warm.perm.r, true);
    }
    ims_vtd_fs_start st{2, ims_fs_pte_addr(cold.step[3].pte), true, true, false};
    ASSERT_EQ(env.walk(iova, false, &warm, nullptr, &st), 0);
    EXPECT_TRUE(warm.perm.us_denied); // U/S=0 cached from above
}

// ---- A / D / EA ------------------------------------------------------------------------------

TEST(VtdWalkFs, AccessedOnEveryEntryDirtyOnLeafForWrites)
{
    // vtd-facts §3.3: A on every FS entry traversed, D on the leaf for writes, atomic RMW.
    Env env(4);
    uint64_t iova = 0x1234'5000ULL;
    env.map(iova, kPa, 4096, IMS_PT_W | IMS_PT_U);
    ims_vtd_fs_walk w;
    ims_vtd_access_log log{};
    ASSERT_EQ(env.walk(iova, false, &w, &log), 0);
    ASSERT_EQ(ims_vtd_fs_walk_set_ad(&env.hw, &env.ctx, &w, false, 0, &log), 0);
    EXPECT_EQ(log.writes, 4u);
    for (unsigned level = 1; level <= 4; level++) {
        EXPECT_TRUE(ims_fs_pte_a(env.entry(iova, level)));
        EXPECT_FALSE(ims_fs_pte_d(env.entry(iova, level)));
        EXPECT_FALSE(ims_fs_pte_ea(env.entry(iova, level)));
    }
    EXPECT_EQ(log.a[4].kind, IMS_VTD_ACC_FS_AD_WRITE);
    EXPECT_EQ(log.a[4].level, 4u);
    EXPECT_EQ(log.a[7].level, 1u);
    EXPECT_EQ(log.a[7].pa, env.entry_hpa(iova, 1));

    ims_vtd_access_log log2{};
    ASSERT_EQ(env.walk(iova, false, &w, &log2), 0);
    ASSERT_EQ(ims_vtd_fs_walk_set_ad(&env.hw, &env.ctx, &w, true, 0, &log2), 0);
    EXPECT_EQ(log2.writes, 1u);
    EXPECT_TRUE(ims_fs_pte_d(env.entry(iova, 1)));
    EXPECT_FALSE(ims_fs_pte_d(env.entry(iova, 2)));
}

TEST(VtdWalkFs, ExtendedAccessedWithEafe)
{
    // vtd-facts §2.7/§3.3: EA is set together with A when EAFE=1, even where the CPU already set A.
    Env env(4);
    env.ctx.eafe = true;
    uint64_t iova = 0x6000;
    env.map(iova, kPa, 4096, IMS_PT_U | IMS_PT_AD);
    env.patch(iova, 3, IMS_FS_PTE_A); // A preset by "the CPU" at level 3
    ims_vtd_fs_walk w;
    ims_vtd_access_log log{};
    ASSERT_EQ(env.walk(iova, false, &w, &log), 0);
    ASSERT_EQ(ims_vtd_fs_walk_set_ad(&env.hw, &env.ctx, &w, false, 0, &log), 0);
    EXPECT_EQ(log.writes, 4u);
    for (unsigned level = 1; level <= 4; level++) {
        EXPECT_TRUE(ims_fs_pte_a(env.entry(iova, level)));
        EXPECT_TRUE(ims_fs_pte_ea(env.entry(iova, level)));
    }
    EXPECT_EQ(ims_vtd_fs_ad_bits(&env.ctx, IMS_FS_PTE_A, false, true), IMS_FS_PTE_EA);
    EXPECT_EQ(ims_vtd_fs_ad_bits(&env.ctx, IMS_FS_PTE_A | IMS_FS_PTE_EA, true, true), IMS_FS_PTE_D);
    env.ctx.eafe = false;
    EXPECT_EQ(ims_vtd_fs_ad_bits(&env.ctx, 0, true, false), IMS_FS_PTE_A);
}

TEST(VtdWalkFs, NoAdProbeWritesNothing)
{
    Env env(4);
    env.ctx.eafe = true;
    env.map(0x8000, kPa, 4096, IMS_PT_U | IMS_PT_W);
    uint64_t before[5];
    for (unsigned l = 1; l <= 4; l++)
        before[l] = env.entry(0x8000, l);
    ims_vtd_fs_walk w;
    ims_vtd_access_log log{};
    ASSERT_EQ(env.walk(0x8000, false, &w, &log), 0);
    ASSERT_EQ(ims_vtd_fs_walk_set_ad(&env.hw, &env.ctx, &w, true, IMS_VTD_WALK_NO_AD, &log), 0);
    EXPECT_EQ(log.writes, 0u);
    for (unsigned l = 1; l <= 4; l++) {
        EXPECT_EQ(env.entry(0x8000, l), before[l]);
    }
}

} // namespace
