// Second-stage walk (models/vtd/walk_ss.c), driven with a hand-filled ims_vtd_ctx.
#include <gtest/gtest.h>

#include <tuple>

#include "models/mem/pa_alloc.h"
#include "models/mem/physmem.h"
#include "models/vtd/fault_reason.h"
#include "models/vtd/pt_builder.h"
#include "models/vtd/pte.h"
#include "models/vtd/walk_ss.h"

namespace {

constexpr uint64_t kCapMgaw56 = 56ULL << 16;
constexpr uint64_t kCapSllps2M = 1ULL << 34;
constexpr uint64_t kCapSllps1G = 1ULL << 35;
constexpr uint64_t kEcapDt = 1ULL << 2;
constexpr uint64_t kEcapSc = 1ULL << 7;
constexpr uint64_t kEcapErs = 1ULL << 30;
constexpr uint64_t kEcapSlads = 1ULL << 45;
constexpr uint64_t kCap = kCapMgaw56 | kCapSllps2M | kCapSllps1G;
constexpr uint64_t kEcap = kEcapSlads;

constexpr uint64_t kTables = 0x1000'0000ULL;
constexpr uint64_t kPa = 0x40'0000'0000ULL;

struct Env {
    ims_physmem *mem = ims_physmem_create();
    ims_pa_alloc alloc{};
    ims_vtd_hw hw{};
    ims_vtd_ctx ctx{};
    ims_pt_builder pt{};

    Env(unsigned levels, bool scalable, uint64_t cap = kCap, uint64_t ecap = kEcap)
    {
        ims_pa_alloc_init(&alloc, mem, kTables, kTables + (64ULL << 20));
        hw.mem = mem;
        hw.cap = cap;
        hw.ecap = ecap;
        hw.te = true;
        EXPECT_EQ(ims_pt_builder_init(&pt, mem, &alloc, IMS_PT_FORMAT_SS, levels, 0, nullptr), 0);
        ctx.scalable = scalable;
        ctx.pgtt = IMS_VTD_PGTT_SS;
        ctx.ssptptr = pt.root;
        ctx.ss_levels = levels;
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
    void patch(uint64_t iova, unsigned level, uint64_t set, uint64_t clear = 0)
    {
        uint64_t hpa = entry_hpa(iova, level);
        ims_physmem_w64(mem, hpa, (ims_physmem_r64(mem, hpa) & ~clear) | set);
    }
    uint8_t walk(uint64_t addr, bool read, bool write, ims_vtd_ss_walk *w, ims_vtd_access_log *log = nullptr,
                 const ims_vtd_ss_start *start = nullptr)
    {
        return ims_vtd_ss_walk_run(&hw, &ctx, addr, read, write, start, 0, w, log);
    }
};

// ---- every level count x page size x permission, legacy and scalable -------------

using Combo = std::tuple<unsigned /*levels*/, unsigned /*leaf level*/, unsigned /*perm*/, bool /*scalable*/>;

class VtdWalkSsMatrix : public ::testing::TestWithParam<Combo> {};

TEST_P(VtdWalkSsMatrix, TranslatesWithPermissionsAndReadCount)
{
    auto [levels, leaf, perm, scalable] = GetParam();
    Env env(levels, scalable);
    uint64_t size = ims_pt_level_size(leaf);
    uint64_t iova = (levels == 3 ? 0x55ULL << 30 : 0x1'2345ULL << 30) + 7 * size;
    uint64_t pa = kPa + 3 * size;
    env.map(iova, pa, size, perm);

    ims_vtd_ss_walk w;
    ims_vtd_access_log log{};
    uint64_t off = size - 8;
    ASSERT_EQ(env.walk(iova + off, true, false, &w, &log), 0);
    EXPECT_EQ(w.out, pa + off);
    EXPECT_EQ(w.page_size, size);
    EXPECT_EQ(w.level, leaf);
    EXPECT_EQ(w.start_level, levels);
    EXPECT_EQ(w.r, (perm & IMS_PT_R) != 0);
    EXPECT_EQ(w.w, (perm & IMS_PT_W) != 0);
    EXPECT_EQ(w.x, w.r); // X not honoured without SSEE/ERS: execute follows read
    // One 8-byte read per level from the root down to the leaf.
    ASSERT_EQ(log.reads, levels - leaf + 1);
    EXPECT_EQ(log.writes, 0u);
    for (unsigned i = 0; i < log.n; i++) {
        unsigned level = levels - i;
        EXPECT_EQ(log.a[i].kind, IMS_VTD_ACC_SS_PTE);
        EXPECT_EQ(log.a[i].level, level);
        EXPECT_EQ(log.a[i].size, 8u);
        EXPECT_EQ(log.a[i].nested_fs_level, 0u);
        EXPECT_EQ(log.a[i].pa, env.entry_hpa(iova, level));
        EXPECT_EQ(w.step[level].pte_pa, log.a[i].pa);
        EXPECT_EQ(w.step[level].pte, ims_physmem_r64(env.mem, log.a[i].pa));
    }
    EXPECT_EQ(w.step[levels].table, env.pt.root);
    EXPECT_EQ(log.n, levels - leaf + 1);

    // A count-only log (the timed pipeline's) counts the same reads, records none.
    ims_vtd_ss_walk w2;
    ims_vtd_access_log counts{};
    counts.count_only = true;
    ASSERT_EQ(env.walk(iova + off, true, false, &w2, &counts), 0);
    EXPECT_EQ(counts.reads, log.reads);
    EXPECT_EQ(counts.writes, 0u);
    EXPECT_EQ(counts.n, 0u);
    EXPECT_EQ(w2.out, w.out);
}

INSTANTIATE_TEST_SUITE_P(VtdWalkSs, VtdWalkSsMatrix,
                         ::testing::Combine(::testing::Values(3u, 4u, 5u), ::testing::Values(1u, 2u, 3u),
                                            ::testing::Values(IMS_PT_R, IMS_PT_W, IMS_PT_RW, IMS_PT_RW | IMS_PT_X),
                                            ::testing::Bool()));

// ---- address width ------------------------------------------------------------

TEST(VtdWalkSs, InputBeyondAgawFaults)
{
    // vtd-facts §2.3: input must be below 2^min(MGAW, AGAW); legacy LGN.1 (0x04), scalable SGN.4 (0x83).
    for (bool scalable : {false, true}) {
        Env env(3, scalable);
        env.map(0, kPa, 4096, IMS_PT_RW);
        ims_vtd_ss_walk w;
        ims_vtd_access_log log{};
        EXPECT_EQ(env.walk(1ULL << 39, true, false, &w, &log), scalable ? 0x83 : 0x04);
        EXPECT_EQ(log.reads, 0u); // checked before any read
        // In range but unmapped: a presence fault, not a width fault.
        EXPECT_EQ(env.walk((1ULL << 39) - 1, true, false, &w), scalable ? IMS_VTD_FR_SSS_2 : IMS_VTD_FR_LGN_3);
    }
}

TEST(VtdWalkSs, InputBeyondMgawFaultsEvenWithinAgaw)
{
    // MGAW=38 (39-bit) with a 4-level table: 2^39 is within AGAW but beyond MGAW.
    Env env(4, false, (38ULL << 16) | kCapSllps2M);
    ims_vtd_ss_walk w;
    EXPECT_EQ(ims_vtd_ss_input_width(&env.hw, 4), 39u);
    EXPECT_EQ(env.walk(1ULL << 39, true, false, &w), IMS_VTD_FR_LGN_1);
}

// ---- presence ------------------------------------------------------------------

TEST(VtdWalkSs, NotPresentFaultCodes)
{
    // vtd-facts §2.8: present iff R|W. Legacy reports LGN.3 (read) / LGN.2 (write); scalable SSS.2.
    Env legacy(4, false);
    ims_vtd_ss_walk w;
    EXPECT_EQ(legacy.walk(0x1000, true, false, &w), IMS_VTD_FR_LGN_3);
    EXPECT_EQ(legacy.walk(0x1000, false, true, &w), IMS_VTD_FR_LGN_2);
    EXPECT_EQ(legacy.walk(0x1000, true, true, &w), IMS_VTD_FR_LGN_3);
    Env sm(4, true);
    EXPECT_EQ(sm.walk(0x1000, false, true, &w), IMS_VTD_FR_SSS_2);
    EXPECT_EQ(w.level, 4u);
}

TEST(VtdWalkSs, ExecuteOnlyEntryIsNotPresent)
{
    Env env(4, true);
    env.map(0x1000, kPa, 4096, IMS_PT_R);
    env.patch(0x1000, 1, IMS_SS_PTE_X, IMS_SS_PTE_R);
    ims_vtd_ss_walk w;
    ims_vtd_access_log log{};
    EXPECT_EQ(env.walk(0x1000, true, false, &w, &log), IMS_VTD_FR_SSS_2);
    EXPECT_EQ(w.level, 1u);
    EXPECT_EQ(log.reads, 4u);
}

// ---- superpages and reserved bits ------------------------------------------------

TEST(VtdWalkSs, SuperpageNeedsSllps)
{
    // vtd-facts §2.8: 2M/1G only per CAP.SLLPS bits 34/35; otherwise PS is reserved (LSL.2 0x0C / SSS.3 0x7A).
    for (bool scalable : {false, true}) {
        Env env(4, scalable, kCapMgaw56 | kCapSllps2M); // no 1G
        env.map(0, kPa, 2ULL << 20, IMS_PT_RW);
        env.map(1ULL << 30, kPa, 1ULL << 30, IMS_PT_RW);
        ims_vtd_ss_walk w;
        EXPECT_EQ(env.walk(0x1234, true, false, &w), 0);
        EXPECT_EQ(env.walk((1ULL << 30) + 0x1234, true, false, &w), scalable ? 0x7A : 0x0C);
        EXPECT_EQ(w.level, 3u);
        Env none(4, scalable, kCapMgaw56);
        none.map(0, kPa, 2ULL << 20, IMS_PT_RW);
        EXPECT_EQ(none.walk(0x1234, true, false, &w), scalable ? 0x7A : 0x0C);
    }
}

struct RsvdCase {
    const char *name;
    unsigned leaf_level; // page size of the mapping
    unsigned patch_level;
    uint64_t bits;
    uint64_t ecap;
    bool faults;
};

class VtdWalkSsReserved : public ::testing::TestWithParam<RsvdCase> {};

TEST_P(VtdWalkSsReserved, ReservedBitFaults)
{
    const RsvdCase &c = GetParam();
    Env env(4, true, (47ULL << 16) | kCapSllps2M | kCapSllps1G, c.ecap); // HAW 48
    uint64_t size = ims_pt_level_size(c.leaf_level);
    env.map(4 * size, kPa, size, IMS_PT_RW);
    env.patch(4 * size, c.patch_level, c.bits);
    ims_vtd_ss_walk w;
    EXPECT_EQ(env.walk(4 * size, true, false, &w), c.faults ? IMS_VTD_FR_SSS_3 : 0) << c.name;
    if (c.faults) {
        EXPECT_EQ(w.level, c.patch_level);
    }
}

// vtd-facts §2.8 reserved-bit rules.
INSTANTIATE_TEST_SUITE_P(
    VtdWalkSs, VtdWalkSsReserved,
    ::testing::Values(RsvdCase{"addr_above_haw_leaf", 1, 1, 1ULL << 48, 0, true},
                      RsvdCase{"addr_above_haw_nonleaf", 1, 3, 1ULL << 51, 0, true},
                      RsvdCase{"ps_in_pml4e", 1, 4, IMS_SS_PTE_PS, 0, true},
                      RsvdCase{"bit11_nonleaf", 1, 2, 1ULL << 11, kEcapSc, true},
                      RsvdCase{"tm_nonleaf", 1, 3, IMS_SS_PTE_TM, kEcapDt, true},
                      RsvdCase{"snp_leaf_without_sc", 1, 1, IMS_SS_PTE_SNP, 0, true},
                      RsvdCase{"snp_leaf_with_sc", 1, 1, IMS_SS_PTE_SNP, kEcapSc, false},
                      RsvdCase{"tm_leaf_without_dt", 1, 1, IMS_SS_PTE_TM, 0, true},
                      RsvdCase{"tm_leaf_with_dt", 1, 1, IMS_SS_PTE_TM, kEcapDt, false},
                      RsvdCase{"2m_low_addr_bits", 2, 2, 1ULL << 20, 0, true},
                      RsvdCase{"2m_bit12", 2, 2, 1ULL << 12, 0, true},
                      RsvdCase{"1g_low_addr_bits", 3, 3, 1ULL << 29, 0, true},
                      RsvdCase{"emt_ipat_ignored", 1, 1, IMS_SS_PTE_EMT | IMS_SS_PTE_IPAT, 0, false},
                      RsvdCase{"ignored_bits_62_52_63", 1, 1, (1ULL << 63) | (0x3FFULL << 52), 0, false},
                      RsvdCase{"ignored_bit10", 1, 2, 1ULL << 10, 0, false}),
    [](const ::testing::TestParamInfo<RsvdCase> &i) { return std::string(i.param.name); });

TEST(VtdWalkSs, LegacyReservedCodeIsLsl2)
{
    Env env(3, false);
    env.map(0x2000, kPa, 4096, IMS_PT_RW);
    env.patch(0x2000, 2, IMS_SS_PTE_SNP);
    ims_vtd_ss_walk w;
    EXPECT_EQ(env.walk(0x2000, true, false, &w), 0x0C); // vtd-facts §3.5: LSL.2
}

TEST(VtdWalkSs, RootPointerBeyondHaw)
{
    for (bool scalable : {false, true}) {
        Env env(4, scalable, (38ULL << 16)); // HAW 39
        env.ctx.ssptptr = 1ULL << 40;
        ims_vtd_ss_walk w;
        ims_vtd_access_log log{};
        EXPECT_EQ(env.walk(0, true, false, &w, &log), scalable ? IMS_VTD_FR_SSS_4 : IMS_VTD_FR_LSS_1);
        EXPECT_EQ(log.reads, 0u);
    }
}

TEST(VtdWalkSs, BadLevelCount)
{
    Env env(4, true);
    env.ctx.ss_levels = 2;
    ims_vtd_ss_walk w;
    EXPECT_EQ(env.walk(0, true, false, &w), IMS_VTD_FR_SPT_4);
    env.ctx.scalable = false;
    env.ctx.ss_levels = 6;
    EXPECT_EQ(env.walk(0, true, false, &w), IMS_VTD_FR_LCT_4);
}

// ---- permissions ------------------------------------------------------------------

TEST(VtdWalkSs, PermissionsAreAndedOverLevels)
{
    // vtd-facts §3.2: effective SS permission is the AND over all levels.
    Env env(4, true);
    env.map(0x40'0000, kPa, 4096, IMS_PT_RW | IMS_PT_X);
    ims_vtd_ss_walk w;
    ASSERT_EQ(env.walk(0x40'0000, true, false, &w), 0);
    EXPECT_TRUE(w.r && w.w);
    env.patch(0x40'0000, 3, 0, IMS_SS_PTE_W);
    ASSERT_EQ(env.walk(0x40'0000, true, true, &w), 0);
    EXPECT_TRUE(w.r);
    EXPECT_FALSE(w.w);
    EXPECT_TRUE(w.step[4].w);
    EXPECT_FALSE(w.step[3].w);
    EXPECT_FALSE(w.step[1].w);
    env.patch(0x40'0000, 4, IMS_SS_PTE_W, IMS_SS_PTE_R);
    ASSERT_EQ(env.walk(0x40'0000, true, false, &w), 0);
    EXPECT_FALSE(w.r);
    EXPECT_FALSE(w.w);
}

TEST(VtdWalkSs, ExecuteHonouredOnlyWithSseeAndErs)
{
    // vtd-facts §2.8: X honoured only if ECAP.ERS=1 and SSEE=1 (JG); otherwise execute follows read.
    struct {
        bool ssee;
        uint64_t ecap;
        bool x_expected;
    } cases[] = {{true, kEcapErs, false}, {false, kEcapErs, true}, {true, 0, true}};
    for (auto &c : cases) {
        Env env(4, true, kCap, c.ecap);
        env.ctx.ssee = c.ssee;
        env.map(0x1000, kPa, 4096, IMS_PT_R); // X=0 at the leaf
        ims_vtd_ss_walk w;
        ASSERT_EQ(env.walk(0x1000, true, false, &w), 0);
        EXPECT_EQ(w.x, c.x_expected);
    }
    Env env(4, true, kCap, kEcapErs);
    env.ctx.ssee = true;
    env.map(0x1000, kPa, 4096, IMS_PT_R | IMS_PT_X);
    ims_vtd_ss_walk w;
    ASSERT_EQ(env.walk(0x1000, true, false, &w), 0);
    EXPECT_TRUE(w.x);
    env.patch(0x1000, 2, 0, IMS_SS_PTE_X); // X=0 in a non-leaf entry denies execute too
    ASSERT_EQ(env.walk(0x1000, true, false, &w), 0);
    EXPECT_FALSE(w.x);
}

// ---- start at a level (paging-structure-cache hit) ----------------------------------

TEST(VtdWalkSs, StartAtLevelMatchesColdWalk)
{
    Env env(5, true);
    uint64_t iova = 0xAB'CDEF'0000ULL;
    env.map(iova, kPa, 4096, IMS_PT_R);
    ims_vtd_ss_walk cold, warm;
    ASSERT_EQ(env.walk(iova + 0x10, true, false, &cold), 0);
    for (unsigned level = 1; level <= 4; level++) {
        // A PSC entry for level+1 gives the table of `level` and the permissions above it.
        ims_vtd_ss_start st{level, ims_ss_pte_addr(cold.step[level + 1].pte), cold.step[level + 1].r,
                            cold.step[level + 1].w, cold.step[level + 1].x};
        ims_vtd_access_log log{};
        ASSERT_EQ(env.walk(iova + 0x10, true, false, &warm, &log, &st), 0);
        EXPECT_EQ(warm.out, cold.out);
        EXPECT_EQ(warm.r, cold.r);
        EXPECT_EQ(warm.w, cold.w);
        EXPECT_EQ(warm.start_level, level);
        EXPECT_EQ(log.reads, level);
        EXPECT_EQ(log.a[0].pa, cold.step[level].pte_pa);
    }
    // Permissions carried in from the cached upper levels still apply.
    ims_vtd_ss_start st{2, ims_ss_pte_addr(cold.step[3].pte), true, false, true};
    env.patch(iova, 1, IMS_SS_PTE_W);
    ASSERT_EQ(env.walk(iova, true, true, &warm, nullptr, &st), 0);
    EXPECT_FALSE(warm.w);
}

// ---- A/D --------------------------------------------------------------------------

TEST(VtdWalkSs, AccessedAndDirtyWrittenAsAtomicOrs)
{
    // vtd-facts §3.3: with SSADE, A on every entry used and D on the leaf for writes.
    Env env(4, true);
    env.ctx.ssade = true;
    uint64_t iova = 0x3'0000'0000ULL;
    env.map(iova, kPa, 2ULL << 20, IMS_PT_RW);
    ims_vtd_ss_walk w;
    ims_vtd_access_log log{};
    ASSERT_EQ(env.walk(iova, true, false, &w, &log), 0);
    ASSERT_EQ(ims_vtd_ss_walk_set_ad(&env.hw, &env.ctx, &w, false, 0, 0, &log), 0);
    EXPECT_EQ(log.reads, 3u);
    EXPECT_EQ(log.writes, 3u);
    for (unsigned level = 4; level >= 2; level--) {
        uint64_t e = ims_physmem_r64(env.mem, env.entry_hpa(iova, level));
        EXPECT_TRUE(ims_ss_pte_a(e)) << level;
        EXPECT_FALSE(ims_ss_pte_d(e)) << level;
        EXPECT_EQ(log.a[3 + (4 - level)].kind, IMS_VTD_ACC_SS_AD_WRITE);
        EXPECT_EQ(log.a[3 + (4 - level)].pa, env.entry_hpa(iova, level));
    }
    // A write: only the leaf's D is new.
    ims_vtd_access_log log2{};
    ASSERT_EQ(env.walk(iova, false, true, &w, &log2), 0);
    ASSERT_EQ(ims_vtd_ss_walk_set_ad(&env.hw, &env.ctx, &w, true, 0, 0, &log2), 0);
    EXPECT_EQ(log2.writes, 1u);
    EXPECT_EQ(log2.a[3].level, 2u);
    uint64_t leaf = ims_physmem_r64(env.mem, env.entry_hpa(iova, 2));
    EXPECT_TRUE(ims_ss_pte_d(leaf));
    EXPECT_FALSE(ims_ss_pte_d(ims_physmem_r64(env.mem, env.entry_hpa(iova, 3)))); // D only on the leaf
    // Everything already set: no writes.
    ims_vtd_access_log log3{};
    ASSERT_EQ(env.walk(iova, false, true, &w, &log3), 0);
    ASSERT_EQ(ims_vtd_ss_walk_set_ad(&env.hw, &env.ctx, &w, true, 0, 0, &log3), 0);
    EXPECT_EQ(log3.writes, 0u);
}

TEST(VtdWalkSs, NoAdFlagAndDisabledAdLeaveMemoryAlone)
{
    struct {
        bool scalable, ssade;
        uint64_t ecap;
        unsigned flags;
    } cases[] = {
        {true, true, kEcapSlads, IMS_VTD_WALK_NO_AD}, // probe
        {true, false, kEcapSlads, 0},                 // SSADE=0
        {true, true, 0, 0},                           // no ECAP.SLADS
        {false, true, kEcapSlads, 0},                 // legacy: no hardware A/D
    };
    for (auto &c : cases) {
        Env env(4, c.scalable, kCap, c.ecap);
        env.ctx.ssade = c.ssade;
        env.map(0x5000, kPa, 4096, IMS_PT_RW);
        uint64_t before = ims_physmem_r64(env.mem, env.entry_hpa(0x5000, 1));
        ims_vtd_ss_walk w;
        ims_vtd_access_log log{};
        ASSERT_EQ(env.walk(0x5000, false, true, &w, &log), 0);
        ASSERT_EQ(ims_vtd_ss_walk_set_ad(&env.hw, &env.ctx, &w, true, c.flags, 0, &log), 0);
        EXPECT_EQ(log.writes, 0u);
        EXPECT_EQ(ims_physmem_r64(env.mem, env.entry_hpa(0x5000, 1)), before);
        EXPECT_EQ(ims_physmem_r64(env.mem, env.entry_hpa(0x5000, 4)) & IMS_SS_PTE_A, 0u);
    }
}

TEST(VtdWalkSs, AdOnlyOnEntriesReadFromAStartLevel)
{
    Env env(4, true);
    env.ctx.ssade = true;
    env.map(0x7000, kPa, 4096, IMS_PT_RW);
    ims_vtd_ss_walk cold;
    ASSERT_EQ(env.walk(0x7000, true, false, &cold), 0);
    ims_vtd_ss_start st{2, ims_ss_pte_addr(cold.step[3].pte), true, true, true};
    ims_vtd_ss_walk w;
    ims_vtd_access_log log{};
    ASSERT_EQ(env.walk(0x7000, true, false, &w, &log, &st), 0);
    ASSERT_EQ(ims_vtd_ss_walk_set_ad(&env.hw, &env.ctx, &w, false, 0, 0, &log), 0);
    EXPECT_EQ(log.writes, 2u);
    EXPECT_FALSE(ims_ss_pte_a(ims_physmem_r64(env.mem, env.entry_hpa(0x7000, 4))));
    EXPECT_FALSE(ims_ss_pte_a(ims_physmem_r64(env.mem, env.entry_hpa(0x7000, 3))));
    EXPECT_TRUE(ims_ss_pte_a(ims_physmem_r64(env.mem, env.entry_hpa(0x7000, 2))));
    EXPECT_TRUE(ims_ss_pte_a(ims_physmem_r64(env.mem, env.entry_hpa(0x7000, 1))));
}

TEST(VtdWalkSs, LeafAttributesReported)
{
    Env env(4, true, kCap, kEcapSc);
    env.map(0x9000, kPa, 4096, IMS_PT_RW | IMS_PT_SNP);
    env.patch(0x9000, 1, (5ULL << IMS_SS_PTE_EMT_SHIFT) | IMS_SS_PTE_IPAT);
    ims_vtd_ss_walk w;
    ASSERT_EQ(env.walk(0x9000, true, false, &w), 0);
    EXPECT_TRUE(ims_ss_pte_snp(w.leaf));
    EXPECT_EQ(ims_ss_pte_emt(w.leaf), 5u);
    EXPECT_TRUE(ims_ss_pte_ipat(w.leaf));
}

} // namespace
