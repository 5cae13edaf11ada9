// Bit positions of the VT-d translation-structure entries (models/vtd/entries.h).
#include <gtest/gtest.h>

#include <cstdint>

#include "models/vtd/entries.h"

namespace {

constexpr uint64_t kOnes = ~UINT64_C(0);

// Field set to all ones in an otherwise zero entry: exactly these raw bits.
template <size_t N>
void ExpectRaw(const uint64_t (&qw)[N], std::initializer_list<uint64_t> want)
{
    size_t i = 0;
    for (uint64_t w : want) {
        EXPECT_EQ(qw[i], w) << "qword " << i;
        i++;
    }
    for (; i < N; i++)
        EXPECT_EQ(qw[i], 0u) << "qword " << i;
}

TEST(VtdEntries, LegacyRootEntry)
{
    // vtd-facts §2.1: P [0]; CTP [63:12]; 11:1 and 127:64 reserved.
    uint64_t re[2] = {};
    ims_vtd_re_set_p(re, true);
    ExpectRaw(re, {0x1});
    uint64_t ctp[2] = {};
    ims_vtd_re_set_ctp(ctp, UINT64_C(0xFFFFFFFFFFFFF000));
    ExpectRaw(ctp, {UINT64_C(0xFFFFFFFFFFFFF000)});
    uint64_t raw[2] = {UINT64_C(0x0000001234567001), 0};
    EXPECT_TRUE(ims_vtd_re_p(raw));
    EXPECT_EQ(ims_vtd_re_ctp(raw), UINT64_C(0x1234567000));
    EXPECT_EQ(IMS_VTD_RE_RSVD0, UINT64_C(0xFFE));
    EXPECT_EQ(IMS_VTD_RE_RSVD1, kOnes);
}

TEST(VtdEntries, ScalableRootEntry)
{
    // vtd-facts §2.2: LP [0], LCTP [63:12], UP [64], UCTP [127:76]; 11:1 and 75:65 reserved.
    uint64_t a[2] = {}, b[2] = {}, c[2] = {}, d[2] = {};
    ims_vtd_smre_set_lp(a, true);
    ExpectRaw(a, {0x1});
    ims_vtd_smre_set_lctp(b, UINT64_C(0xFFFFFFFFFFFFF000));
    ExpectRaw(b, {UINT64_C(0xFFFFFFFFFFFFF000)});
    ims_vtd_smre_set_up(c, true);
    ExpectRaw(c, {0, 0x1});
    ims_vtd_smre_set_uctp(d, UINT64_C(0xFFFFFFFFFFFFF000));
    ExpectRaw(d, {0, UINT64_C(0xFFFFFFFFFFFFF000)});
    uint64_t raw[2] = {UINT64_C(0xAB000), UINT64_C(0xCD001)};
    EXPECT_FALSE(ims_vtd_smre_lp(raw));
    EXPECT_EQ(ims_vtd_smre_lctp(raw), UINT64_C(0xAB000));
    EXPECT_TRUE(ims_vtd_smre_up(raw));
    EXPECT_EQ(ims_vtd_smre_uctp(raw), UINT64_C(0xCD000));
    EXPECT_EQ(IMS_VTD_SMRE_RSVD0, UINT64_C(0xFFE));
    EXPECT_EQ(IMS_VTD_SMRE_RSVD1, UINT64_C(0xFFE));  // bits 75:65
}

TEST(VtdEntries, LegacyContextEntry)
{
    // vtd-facts §2.3: P 0, FPD 1, TT 3:2, SSPTPTR 63:12, AW 66:64, DID 87:72.
    uint64_t p[2] = {}, fpd[2] = {}, tt[2] = {}, ptr[2] = {}, aw[2] = {}, did[2] = {};
    ims_vtd_ce_set_p(p, true);
    ExpectRaw(p, {0x1});
    ims_vtd_ce_set_fpd(fpd, true);
    ExpectRaw(fpd, {0x2});
    ims_vtd_ce_set_tt(tt, 3);
    ExpectRaw(tt, {0xC});
    ims_vtd_ce_set_ssptptr(ptr, UINT64_C(0xFFFFFFFFFFFFF000));
    ExpectRaw(ptr, {UINT64_C(0xFFFFFFFFFFFFF000)});
    ims_vtd_ce_set_aw(aw, 7);
    ExpectRaw(aw, {0, 0x7});
    ims_vtd_ce_set_did(did, 0xFFFF);
    ExpectRaw(did, {0, UINT64_C(0xFFFF00)});

    uint64_t raw[2] = {UINT64_C(0x55000) | 0x2 | (2u << 2), UINT64_C(0xBEEF00) | 2};
    EXPECT_FALSE(ims_vtd_ce_p(raw));
    EXPECT_TRUE(ims_vtd_ce_fpd(raw));
    EXPECT_EQ(ims_vtd_ce_tt(raw), 2u);
    EXPECT_EQ(ims_vtd_ce_ssptptr(raw), UINT64_C(0x55000));
    EXPECT_EQ(ims_vtd_ce_aw(raw), 2u);
    EXPECT_EQ(ims_vtd_ce_did(raw), 0xBEEF);
    // Reserved: 11:4, 71, 127:88. Ignored 70:67 is neither field nor reserved.
    EXPECT_EQ(IMS_VTD_CE_RSVD0, UINT64_C(0xFF0));
    EXPECT_EQ(IMS_VTD_CE_RSVD1, UINT64_C(0xFFFFFFFFFF000080));
    uint64_t fields1 = aw[1] | did[1];
    EXPECT_EQ(fields1 & IMS_VTD_CE_RSVD1, 0u);
    EXPECT_EQ(fields1 | IMS_VTD_CE_RSVD1 | UINT64_C(0x78), kOnes);  // 0x78 = ignored bits 70:67
}

TEST(VtdEntries, ScalableContextEntry)
{
    // vtd-facts §2.4: P 0, FPD 1, DTE 2, PASIDE 3, PRE 4, PDTS 11:9, PASIDDIRPTR 63:12,
    // RID_PASID 83:64, RID_PRIV 84; 255:85 reserved.
    uint64_t e[9][4] = {};
    ims_vtd_smce_set_p(e[0], true);
    ExpectRaw(e[0], {0x1});
    ims_vtd_smce_set_fpd(e[1], true);
    ExpectRaw(e[1], {0x2});
    ims_vtd_smce_set_dte(e[2], true);
    ExpectRaw(e[2], {0x4});
    ims_vtd_smce_set_paside(e[3], true);
    ExpectRaw(e[3], {0x8});
    ims_vtd_smce_set_pre(e[4], true);
    ExpectRaw(e[4], {0x10});
    ims_vtd_smce_set_pdts(e[5], 7);
    ExpectRaw(e[5], {0xE00});
    ims_vtd_smce_set_pasiddirptr(e[6], UINT64_C(0xFFFFFFFFFFFFF000));
    ExpectRaw(e[6], {UINT64_C(0xFFFFFFFFFFFFF000)});
    ims_vtd_smce_set_rid_pasid(e[7], 0xFFFFF);
    ExpectRaw(e[7], {0, 0xFFFFF});
    ims_vtd_smce_set_rid_priv(e[8], true);
    ExpectRaw(e[8], {0, 0x100000});

    uint64_t raw[4] = {UINT64_C(0x77000) | 0x1 | 0x8 | (5u << 9), UINT64_C(0x12345) | (UINT64_C(1) << 20), 0, 0};
    EXPECT_TRUE(ims_vtd_smce_p(raw));
    EXPECT_FALSE(ims_vtd_smce_fpd(raw));
    EXPECT_FALSE(ims_vtd_smce_dte(raw));
    EXPECT_TRUE(ims_vtd_smce_paside(raw));
    EXPECT_FALSE(ims_vtd_smce_pre(raw));
    EXPECT_EQ(ims_vtd_smce_pdts(raw), 5u);
    EXPECT_EQ(ims_vtd_smce_pasiddirptr(raw), UINT64_C(0x77000));
    EXPECT_EQ(ims_vtd_smce_rid_pasid(raw), 0x12345u);
    EXPECT_TRUE(ims_vtd_smce_rid_priv(raw));
    // vtd-facts §2.5: PASIDs at or above 2^(PDTS+7+6) are beyond the directory.
    EXPECT_EQ(ims_vtd_smce_pasid_limit(raw), UINT32_C(1) << 18);

    // Fields and reserved bits tile all 256 bits with no overlap.
    uint64_t fields[4] = {};
    for (auto &f : e)
        for (int i = 0; i < 4; i++)
            fields[i] |= f[i];
    const uint64_t rsvd[4] = {IMS_VTD_SMCE_RSVD0, IMS_VTD_SMCE_RSVD1, IMS_VTD_SMCE_RSVD2, IMS_VTD_SMCE_RSVD3};
    for (int i = 0; i < 4; i++) {
        EXPECT_EQ(fields[i] & rsvd[i], 0u) << i;
        EXPECT_EQ(fields[i] | rsvd[i], kOnes) << i;
    }
}

TEST(VtdEntries, PasidDirectoryEntry)
{
    // vtd-facts §2.5: 64-bit entry, P 0, FPD 1, SMPTBLPTR 63:12, 11:2 reserved.
    uint64_t p[1] = {}, fpd[1] = {}, ptr[1] = {};
    ims_vtd_pdire_set_p(p, true);
    ims_vtd_pdire_set_fpd(fpd, true);
    ims_vtd_pdire_set_smptblptr(ptr, UINT64_C(0xFFFFFFFFFFFFF000));
    EXPECT_EQ(p[0], 0x1u);
    EXPECT_EQ(fpd[0], 0x2u);
    EXPECT_EQ(ptr[0], UINT64_C(0xFFFFFFFFFFFFF000));
    EXPECT_EQ(p[0] | fpd[0] | ptr[0] | IMS_VTD_PDIRE_RSVD0, kOnes);
    EXPECT_EQ((p[0] | fpd[0] | ptr[0]) & IMS_VTD_PDIRE_RSVD0, 0u);
    uint64_t raw[1] = {UINT64_C(0x9A000) | 0x3};
    EXPECT_TRUE(ims_vtd_pdire_p(raw));
    EXPECT_TRUE(ims_vtd_pdire_fpd(raw));
    EXPECT_EQ(ims_vtd_pdire_smptblptr(raw), UINT64_C(0x9A000));
    EXPECT_EQ(IMS_VTD_PASID_DIR_ENTRY_SIZE, 8u);
    // vtd-facts §2.5: directory index PASID[19:6], table index PASID[5:0].
    EXPECT_EQ(ims_vtd_pasid_dir_index(0xFFFFF), 0x3FFFu);
    EXPECT_EQ(ims_vtd_pasid_dir_index(0x1C5), 0x7u);
    EXPECT_EQ(ims_vtd_pasid_table_index(0x1C5), 0x5u);
}

TEST(VtdEntries, PasidTableEntryPositions)
{
    // vtd-facts §2.6 (rev 4+ names): qw0 P 0, FPD 1, AW 4:2, SSEE 5, PGTT 8:6, SSADE 9, SSPTPTR 63:12;
    // qw1 DID 15:0, PWSNP 23, PGSNP 24, CD 25, EMTE 26, PAT 63:32;
    // qw2 SRE 0, ERE 1, FSPM 3:2, WPE 4, EAFE 7, FSPTPTR 63:12.
    struct Case {
        void (*set)(uint64_t *);
        unsigned word;
        uint64_t raw;
    };
    const Case cases[] = {
        {[](uint64_t *q) { ims_vtd_pasidte_set_p(q, true); }, 0, 0x1},
        {[](uint64_t *q) { ims_vtd_pasidte_set_fpd(q, true); }, 0, 0x2},
        {[](uint64_t *q) { ims_vtd_pasidte_set_aw(q, 7); }, 0, 0x1C},
        {[](uint64_t *q) { ims_vtd_pasidte_set_ssee(q, true); }, 0, 0x20},
        {[](uint64_t *q) { ims_vtd_pasidte_set_pgtt(q, 7); }, 0, 0x1C0},
        {[](uint64_t *q) { ims_vtd_pasidte_set_ssade(q, true); }, 0, 0x200},
        {[](uint64_t *q) { ims_vtd_pasidte_set_ssptptr(q, UINT64_C(0xFFFFFFFFFFFFF000)); }, 0,
         UINT64_C(0xFFFFFFFFFFFFF000)},
        {[](uint64_t *q) { ims_vtd_pasidte_set_did(q, 0xFFFF); }, 1, 0xFFFF},
        {[](uint64_t *q) { ims_vtd_pasidte_set_pwsnp(q, true); }, 1, UINT64_C(1) << 23},
        {[](uint64_t *q) { ims_vtd_pasidte_set_pgsnp(q, true); }, 1, UINT64_C(1) << 24},
        {[](uint64_t *q) { ims_vtd_pasidte_set_cd(q, true); }, 1, UINT64_C(1) << 25},
        {[](uint64_t *q) { ims_vtd_pasidte_set_emte(q, true); }, 1, UINT64_C(1) << 26},
        {[](uint64_t *q) { ims_vtd_pasidte_set_pat(q, 0xFFFFFFFF); }, 1, UINT64_C(0xFFFFFFFF00000000)},
        {[](uint64_t *q) { ims_vtd_pasidte_set_sre(q, true); }, 2, 0x1},
        {[](uint64_t *q) { ims_vtd_pasidte_set_ere(q, true); }, 2, 0x2},
        {[](uint64_t *q) { ims_vtd_pasidte_set_fspm(q, 3); }, 2, 0xC},
        {[](uint64_t *q) { ims_vtd_pasidte_set_wpe(q, true); }, 2, 0x10},
        {[](uint64_t *q) { ims_vtd_pasidte_set_eafe(q, true); }, 2, 0x80},
        {[](uint64_t *q) { ims_vtd_pasidte_set_fsptptr(q, UINT64_C(0xFFFFFFFFFFFFF000)); }, 2,
         UINT64_C(0xFFFFFFFFFFFFF000)},
    };
    uint64_t fields[8] = {};
    for (const Case &c : cases) {
        uint64_t q[8] = {};
        c.set(q);
        for (unsigned i = 0; i < 8; i++)
            EXPECT_EQ(q[i], i == c.word ? c.raw : 0u) << "word " << i << " raw " << std::hex << c.raw;
        EXPECT_EQ(fields[c.word] & c.raw, 0u) << "overlapping field " << std::hex << c.raw;
        fields[c.word] |= c.raw;
    }
    // Reserved: 11:10, 86:80, 95:91, 139:136, 511:192; ignored: 134:133 only.
    const uint64_t rsvd[8] = {IMS_VTD_PASIDTE_RSVD0, IMS_VTD_PASIDTE_RSVD1, IMS_VTD_PASIDTE_RSVD2,
                              IMS_VTD_PASIDTE_RSVD3_7, IMS_VTD_PASIDTE_RSVD3_7, IMS_VTD_PASIDTE_RSVD3_7,
                              IMS_VTD_PASIDTE_RSVD3_7, IMS_VTD_PASIDTE_RSVD3_7};
    const uint64_t ignored[8] = {0, 0, UINT64_C(0x60)};
    for (int i = 0; i < 8; i++) {
        EXPECT_EQ(fields[i] & rsvd[i], 0u) << i;
        EXPECT_EQ(fields[i] | rsvd[i] | ignored[i], kOnes) << i;
    }
}

TEST(VtdEntries, PasidTableEntryGetters)
{
    uint64_t q[8] = {};
    q[0] = UINT64_C(0xABCDE000) | (1u << 9) | (3u << 6) | (1u << 5) | (2u << 2) | 0x3;
    q[1] = (UINT64_C(0x07060504) << 32) | (1u << 26) | (1u << 24) | 0x1234;
    q[2] = UINT64_C(0x5566000) | (1u << 7) | (1u << 4) | (1u << 2) | 0x1;
    EXPECT_TRUE(ims_vtd_pasidte_p(q));
    EXPECT_TRUE(ims_vtd_pasidte_fpd(q));
    EXPECT_EQ(ims_vtd_pasidte_aw(q), 2u);
    EXPECT_TRUE(ims_vtd_pasidte_ssee(q));
    EXPECT_EQ(ims_vtd_pasidte_pgtt(q), 3u);
    EXPECT_TRUE(ims_vtd_pasidte_ssade(q));
    EXPECT_EQ(ims_vtd_pasidte_ssptptr(q), UINT64_C(0xABCDE000));
    EXPECT_EQ(ims_vtd_pasidte_did(q), 0x1234);
    EXPECT_FALSE(ims_vtd_pasidte_pwsnp(q));
    EXPECT_TRUE(ims_vtd_pasidte_pgsnp(q));
    EXPECT_FALSE(ims_vtd_pasidte_cd(q));
    EXPECT_TRUE(ims_vtd_pasidte_emte(q));
    EXPECT_EQ(ims_vtd_pasidte_pat(q), 0x07060504u);
    EXPECT_TRUE(ims_vtd_pasidte_sre(q));
    EXPECT_FALSE(ims_vtd_pasidte_ere(q));
    EXPECT_EQ(ims_vtd_pasidte_fspm(q), 1u);
    EXPECT_TRUE(ims_vtd_pasidte_wpe(q));
    EXPECT_TRUE(ims_vtd_pasidte_eafe(q));
    EXPECT_EQ(ims_vtd_pasidte_fsptptr(q), UINT64_C(0x5566000));
    // vtd-facts §2.6: FS levels = 4 + FSPM, SS levels = 2 + AW.
    EXPECT_EQ(ims_vtd_fspm_levels(ims_vtd_pasidte_fspm(q)), 5u);
    EXPECT_EQ(ims_vtd_aw_levels(ims_vtd_pasidte_aw(q)), 4u);
}

TEST(VtdEntries, SettersPreserveNeighbours)
{
    uint64_t q[8];
    for (auto &w : q)
        w = kOnes;
    ims_vtd_pasidte_set_pgtt(q, 2);  // clears bit 6 and 8, keeps the rest
    EXPECT_EQ(q[0], kOnes & ~UINT64_C(0x140));
    ims_vtd_pasidte_set_did(q, 0x0);
    EXPECT_EQ(q[1], kOnes & ~UINT64_C(0xFFFF));
    // Values wider than the field are truncated to it.
    uint64_t c[2] = {};
    ims_vtd_ce_set_tt(c, 0x7);
    EXPECT_EQ(c[0], 0xCu);
}

TEST(VtdEntries, EntrySizes)
{
    // vtd-facts §2.1-§2.6: 16-byte root and legacy context, 32-byte SM context, 64-byte PASID entry.
    EXPECT_EQ(IMS_VTD_ROOT_ENTRY_SIZE, 16u);
    EXPECT_EQ(IMS_VTD_CTX_ENTRY_SIZE, 16u);
    EXPECT_EQ(IMS_VTD_SMCTX_ENTRY_SIZE, 32u);
    EXPECT_EQ(IMS_VTD_PASID_ENTRY_SIZE, 64u);
}

}  // namespace
