// Paging-entry formats (models/vtd/pte.h): bit positions, reserved masks, level helpers.
#include <gtest/gtest.h>

#include "models/vtd/pte.h"

namespace {

constexpr uint64_t kCapAll = (56ULL << 16) | (3ULL << 34) | (1ULL << 56); // MGAW 56, SLLPS 2M+1G, FL1GP
constexpr uint64_t kEcapAll = (1ULL << 2) | (1ULL << 7);                  // DT, SC

TEST(VtdPte, LevelHelpers)
{
    EXPECT_EQ(ims_pt_level_shift(1), 12u);
    EXPECT_EQ(ims_pt_level_shift(2), 21u);
    EXPECT_EQ(ims_pt_level_shift(3), 30u);
    EXPECT_EQ(ims_pt_level_shift(5), 48u);
    EXPECT_EQ(ims_pt_level_size(2), 2ULL << 20);
    EXPECT_EQ(ims_pt_level_size(3), 1ULL << 30);
    // vtd-facts §2.9: 3/4/5 levels translate 39/48/57 bits.
    EXPECT_EQ(ims_pt_width(3), 39u);
    EXPECT_EQ(ims_pt_width(4), 48u);
    EXPECT_EQ(ims_pt_width(5), 57u);
    uint64_t a = (0x1AULL << 48) | (0x155ULL << 39) | (0x0AAULL << 30) | (0x1FFULL << 21) | (0x001ULL << 12) | 0x123;
    EXPECT_EQ(ims_pt_index(a, 5), 0x1Au);
    EXPECT_EQ(ims_pt_index(a, 4), 0x155u);
    EXPECT_EQ(ims_pt_index(a, 3), 0x0AAu);
    EXPECT_EQ(ims_pt_index(a, 2), 0x1FFu);
    EXPECT_EQ(ims_pt_index(a, 1), 0x001u);
    EXPECT_EQ(ims_pt_level_of_size(4096), 1u);
    EXPECT_EQ(ims_pt_level_of_size(2ULL << 20), 2u);
    EXPECT_EQ(ims_pt_level_of_size(1ULL << 30), 3u);
    EXPECT_EQ(ims_pt_level_of_size(8192), 0u);
}

TEST(VtdPte, FirstStageBitPositions)
{
    // vtd-facts §2.7: P0 RW1 US2 PWT3 PCD4 A5 D6 PS7 G8 EA10 addr 51:12 XD63.
    EXPECT_TRUE(ims_fs_pte_p(1ULL << 0));
    EXPECT_TRUE(ims_fs_pte_rw(1ULL << 1));
    EXPECT_TRUE(ims_fs_pte_us(1ULL << 2));
    EXPECT_TRUE(ims_fs_pte_pwt(1ULL << 3));
    EXPECT_TRUE(ims_fs_pte_pcd(1ULL << 4));
    EXPECT_TRUE(ims_fs_pte_a(1ULL << 5));
    EXPECT_TRUE(ims_fs_pte_d(1ULL << 6));
    EXPECT_TRUE(ims_fs_pte_ps(1ULL << 7));
    EXPECT_TRUE(ims_fs_pte_g(1ULL << 8));
    EXPECT_TRUE(ims_fs_pte_ea(1ULL << 10));
    EXPECT_TRUE(ims_fs_pte_xd(1ULL << 63));
    EXPECT_FALSE(ims_fs_pte_ea(1ULL << 9));
    EXPECT_FALSE(ims_fs_pte_p(~1ULL));
    EXPECT_EQ(ims_fs_pte_addr(0xFFFF'FFFF'FFFF'FFFFULL), 0x000F'FFFF'FFFF'F000ULL);
}

TEST(VtdPte, SecondStageBitPositions)
{
    // vtd-facts §2.8: R0 W1 X2 EMT5:3 IPAT6 PS7 A8 D9 SNP11 addr 51:12 TM62.
    EXPECT_TRUE(ims_ss_pte_r(1ULL << 0));
    EXPECT_TRUE(ims_ss_pte_w(1ULL << 1));
    EXPECT_TRUE(ims_ss_pte_x(1ULL << 2));
    EXPECT_EQ(ims_ss_pte_emt(6ULL << 3), 6u);
    EXPECT_TRUE(ims_ss_pte_ipat(1ULL << 6));
    EXPECT_TRUE(ims_ss_pte_ps(1ULL << 7));
    EXPECT_TRUE(ims_ss_pte_a(1ULL << 8));
    EXPECT_TRUE(ims_ss_pte_d(1ULL << 9));
    EXPECT_TRUE(ims_ss_pte_snp(1ULL << 11));
    EXPECT_TRUE(ims_ss_pte_tm(1ULL << 62));
    EXPECT_EQ(ims_ss_pte_addr(~0ULL), 0x000F'FFFF'FFFF'F000ULL);
    // vtd-facts §2.8: no present bit; present iff R|W.
    EXPECT_FALSE(ims_ss_pte_present(IMS_SS_PTE_X | IMS_SS_PTE_A | 0x1000));
    EXPECT_TRUE(ims_ss_pte_present(IMS_SS_PTE_R));
    EXPECT_TRUE(ims_ss_pte_present(IMS_SS_PTE_W));
}

TEST(VtdPte, FormatFromCap)
{
    // vtd-facts §1.2: MGAW CAP[21:16], SLLPS CAP[37:34], FL1GP CAP[56]; §1.3: DT ECAP[2], SC ECAP[7].
    ims_pte_fmt f = ims_pte_fmt_from_cap(kCapAll, kEcapAll);
    EXPECT_EQ(f.haw, 57u);
    EXPECT_TRUE(f.ss_2m);
    EXPECT_TRUE(f.ss_1g);
    EXPECT_TRUE(f.fs_1g);
    EXPECT_TRUE(f.snp);
    EXPECT_TRUE(f.tm);
    f = ims_pte_fmt_from_cap((38ULL << 16) | (1ULL << 34), 0);
    EXPECT_EQ(f.haw, 39u);
    EXPECT_TRUE(f.ss_2m);
    EXPECT_FALSE(f.ss_1g);
    EXPECT_FALSE(f.fs_1g);
    EXPECT_FALSE(f.snp);
    EXPECT_FALSE(f.tm);
}

TEST(VtdPte, HawReservedBits)
{
    EXPECT_EQ(ims_pte_haw_rsvd(52), 0u);
    EXPECT_EQ(ims_pte_haw_rsvd(57), 0u);
    EXPECT_EQ(ims_pte_haw_rsvd(48), 0x000F'0000'0000'0000ULL);
    EXPECT_EQ(ims_pte_haw_rsvd(39), 0x000F'FF80'0000'0000ULL);
    EXPECT_EQ(ims_pte_bits(20, 13), 0x1F'E000ULL);
    EXPECT_EQ(ims_pte_bits(63, 62), 0xC000'0000'0000'0000ULL);
}

TEST(VtdPte, FirstStageReservedMasks)
{
    ims_pte_fmt f = ims_pte_fmt_from_cap(kCapAll, kEcapAll);
    // vtd-facts §2.7: PS reserved in PML5E/PML4E.
    EXPECT_EQ(ims_fs_rsvd_mask(&f, 5, false), IMS_FS_PTE_PS);
    EXPECT_EQ(ims_fs_rsvd_mask(&f, 4, false), IMS_FS_PTE_PS);
    EXPECT_EQ(ims_fs_rsvd_mask(&f, 3, false), 0u);
    // vtd-facts §2.7: 2M leaf reserves 20:13, 1G leaf 29:13 (Q-H 0x1FE000 / 0x3FFFE000); bit 12 is PAT.
    EXPECT_EQ(ims_fs_rsvd_mask(&f, 2, true), 0x1FE000ULL);
    EXPECT_EQ(ims_fs_rsvd_mask(&f, 3, true), 0x3FFFE000ULL);
    EXPECT_EQ(ims_fs_rsvd_mask(&f, 1, true), 0u); // bit 7 is PAT in a PTE
    // Without FL1GP, PS is reserved in a PDPE.
    ims_pte_fmt n = f;
    n.fs_1g = false;
    EXPECT_EQ(ims_fs_rsvd_mask(&n, 3, false), IMS_FS_PTE_PS);
    EXPECT_TRUE(ims_fs_large_ok(&n, 2));
    EXPECT_FALSE(ims_fs_large_ok(&n, 3));
    EXPECT_FALSE(ims_fs_large_ok(&f, 4));
    // HAW bits apply at every level; XD and 62:52 are not reserved (decision: ignored).
    n.haw = 48;
    EXPECT_EQ(ims_fs_rsvd_mask(&n, 1, true), 0x000F'0000'0000'0000ULL);
    EXPECT_EQ(ims_fs_rsvd_mask(&n, 4, false) & (IMS_FS_PTE_XD | ims_pte_bits(62, 52)), 0u);
}

TEST(VtdPte, SecondStageReservedMasks)
{
    ims_pte_fmt f = ims_pte_fmt_from_cap(kCapAll, kEcapAll);
    // vtd-facts §2.8: PS reserved in SL-PML5E/PML4E (Q-H L4 mask 0x880); bit 11 reserved in non-leaf.
    EXPECT_EQ(ims_ss_rsvd_mask(&f, 4, false), IMS_SS_PTE_PS | IMS_SS_PTE_SNP | IMS_SS_PTE_TM);
    EXPECT_EQ(ims_ss_rsvd_mask(&f, 5, false), IMS_SS_PTE_PS | IMS_SS_PTE_SNP | IMS_SS_PTE_TM);
    EXPECT_EQ(ims_ss_rsvd_mask(&f, 3, false), IMS_SS_PTE_SNP | IMS_SS_PTE_TM);
    // vtd-facts §2.8: large leaves reserve 20:12 (2M) or 29:12 (1G).
    EXPECT_EQ(ims_ss_rsvd_mask(&f, 2, true), 0x1FF000ULL);
    EXPECT_EQ(ims_ss_rsvd_mask(&f, 3, true), 0x3FFFF000ULL);
    EXPECT_EQ(ims_ss_rsvd_mask(&f, 1, true), 0u);
    // SNP reserved without ECAP.SC, TM without ECAP.DT (vtd-facts §2.8).
    ims_pte_fmt n = ims_pte_fmt_from_cap(56ULL << 16, 0);
    EXPECT_EQ(ims_ss_rsvd_mask(&n, 1, true), IMS_SS_PTE_SNP | IMS_SS_PTE_TM);
    EXPECT_EQ(ims_ss_rsvd_mask(&n, 2, false), IMS_SS_PTE_PS | IMS_SS_PTE_SNP | IMS_SS_PTE_TM);
    EXPECT_EQ(ims_ss_rsvd_mask(&n, 3, false), IMS_SS_PTE_PS | IMS_SS_PTE_SNP | IMS_SS_PTE_TM);
    // EMT/IPAT (decision: ignored) are never reserved.
    for (unsigned l = 1; l <= 5; l++)
        EXPECT_EQ(ims_ss_rsvd_mask(&n, l, l == 1) & (IMS_SS_PTE_EMT | IMS_SS_PTE_IPAT), 0u) << l;
}

TEST(VtdPte, LeafAddress)
{
    uint64_t e = 0x0000'1234'5660'0000ULL | IMS_SS_PTE_R | IMS_SS_PTE_PS;
    EXPECT_EQ(ims_pte_leaf_addr(e, 2, 0x1'2345'6789ULL), 0x0000'1234'5660'0000ULL | 0x5'6789ULL);
    EXPECT_EQ(ims_pte_leaf_addr(0xABC000ULL | 1, 1, 0xFFF), 0xABCFFFULL);
    // FS 1G leaf with PAT (bit 12) set: the PAT bit is not part of the address.
    uint64_t g = (5ULL << 30) | (1ULL << 12) | IMS_FS_PTE_P | IMS_FS_PTE_PS;
    EXPECT_EQ(ims_pte_leaf_addr(g, 3, 0x1234), (5ULL << 30) | 0x1234);
}

} // namespace
