// Root/context/PASID structure builder (models/vtd/ctx_builder.h) and fault
// metadata (models/vtd/fault_reason.c).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "models/mem/pa_alloc.h"
#include "models/mem/physmem.h"
#include "models/vtd/ctx_builder.h"
#include "models/vtd/entries.h"
#include "models/vtd/fault_reason.h"

namespace {

constexpr uint64_t kBase = 0x200000;

class VtdCtxBuilder : public ::testing::Test {
protected:
    void SetUp() override
    {
        mem_ = ims_physmem_create();
        ASSERT_NE(mem_, nullptr);
        ims_pa_alloc_init(&alloc_, mem_, kBase, 0x8000000);
    }
    void TearDown() override { ims_physmem_destroy(mem_); }
    uint64_t R64(uint64_t pa) { return ims_physmem_r64(mem_, pa); }
    void Init(bool scalable) { ASSERT_EQ(ims_vtd_ctxb_init(&b_, &alloc_, scalable, &err_), 0) << err_.msg; }
    void SmCtx(uint16_t sid, unsigned pdts = 0)
    {
        ims_vtd_sm_ctx_cfg c{};
        c.pdts = pdts;
        c.paside = true;
        ASSERT_EQ(ims_vtd_ctxb_set_sm_ctx(&b_, sid, &c, &err_), 0) << err_.msg;
    }
    static ims_vtd_pasid_cfg Ss(uint16_t did)
    {
        ims_vtd_pasid_cfg c{};
        c.pgtt = 2;
        c.aw = 2;
        c.ssptptr = 0x7000000;
        c.did = did;
        return c;
    }

    ims_physmem *mem_ = nullptr;
    ims_pa_alloc alloc_{};
    ims_vtd_ctx_builder b_{};
    ims_error err_{};
};

TEST_F(VtdCtxBuilder, RootTableAndRtaddr)
{
    Init(false);
    EXPECT_EQ(b_.root, kBase);
    EXPECT_EQ(b_.root & 0xFFF, 0u);
    // vtd-facts §1.5: RTADDR = RTA | TTM << 10; legacy TTM=00b, scalable TTM=01b.
    EXPECT_EQ(ims_vtd_ctxb_rtaddr(&b_), kBase);
    ims_vtd_ctx_builder sm{};
    ASSERT_EQ(ims_vtd_ctxb_init(&sm, &alloc_, true, &err_), 0);
    EXPECT_EQ(sm.root, kBase + 0x1000);
    EXPECT_EQ(ims_vtd_ctxb_rtaddr(&sm), (kBase + 0x1000) | 0x400);
    for (uint64_t off = 0; off < 4096; off += 8)
        ASSERT_EQ(R64(sm.root + off), 0u);
}

TEST_F(VtdCtxBuilder, LegacyContextEntryBits)
{
    Init(false);
    ims_vtd_legacy_ctx_cfg c{};
    c.tt = IMS_VTD_TT_DEVTLB;
    c.aw = 2;
    c.ssptptr = 0x7654000;
    c.did = 0xBEEF;
    c.fpd = true;
    ASSERT_EQ(ims_vtd_ctxb_set_legacy_ctx(&b_, 0x0A3C, &c, &err_), 0) << err_.msg;
    // Root entry of bus 0x0A: P=1, CTP = the newly allocated context table.
    uint64_t table = kBase + 0x1000;
    EXPECT_EQ(R64(b_.root + 0x0A * 16), table | 1);
    EXPECT_EQ(R64(b_.root + 0x0A * 16 + 8), 0u);
    // vtd-facts §2.3: qw0 = SSPTPTR | TT<<2 | FPD<<1 | P; qw1 = DID<<8 | AW.
    uint64_t ce = table + 0x3C * 16;
    EXPECT_EQ(R64(ce), UINT64_C(0x7654000) | (1u << 2) | 0x2 | 0x1);
    EXPECT_EQ(R64(ce + 8), (UINT64_C(0xBEEF) << 8) | 2);
    uint64_t pa = 0;
    ASSERT_EQ(ims_vtd_ctxb_ctx_entry_pa(&b_, 0x0A3C, &pa, &err_), 0);
    EXPECT_EQ(pa, ce);
}

TEST_F(VtdCtxBuilder, ContextTableAllocatedOncePerBus)
{
    Init(false);
    ims_vtd_legacy_ctx_cfg c{};
    c.aw = 2;
    ASSERT_EQ(ims_vtd_ctxb_set_legacy_ctx(&b_, 0x0100, &c, &err_), 0);
    ASSERT_EQ(ims_vtd_ctxb_set_legacy_ctx(&b_, 0x01FF, &c, &err_), 0);
    ASSERT_EQ(ims_vtd_ctxb_set_legacy_ctx(&b_, 0x0200, &c, &err_), 0);
    EXPECT_EQ(R64(b_.root + 16), (kBase + 0x1000) | 1);
    EXPECT_EQ(R64(b_.root + 32), (kBase + 0x2000) | 1);
    EXPECT_EQ(alloc_.next, kBase + 0x3000);
}

TEST_F(VtdCtxBuilder, ScalableLowerAndUpperTables)
{
    Init(true);
    SmCtx(0x0310);  // lower table + 1-page directory
    SmCtx(0x0390);  // upper table + directory
    // vtd-facts §2.2: qw0 = LCTP | LP, qw1 = UCTP | UP.
    EXPECT_EQ(R64(b_.root + 0x30), (kBase + 0x1000) | 1);
    EXPECT_EQ(R64(b_.root + 0x38), (kBase + 0x3000) | 1);
    // vtd-facts §2.4: 32-byte entries indexed by devfn[6:0]; both sids use index 0x10.
    uint64_t lo = 0, up = 0;
    ASSERT_EQ(ims_vtd_ctxb_ctx_entry_pa(&b_, 0x0310, &lo, &err_), 0);
    ASSERT_EQ(ims_vtd_ctxb_ctx_entry_pa(&b_, 0x0390, &up, &err_), 0);
    EXPECT_EQ(lo, kBase + 0x1000 + 0x10 * 32);
    EXPECT_EQ(up, kBase + 0x3000 + 0x10 * 32);
}

TEST_F(VtdCtxBuilder, ScalableContextEntryBits)
{
    Init(true);
    ims_vtd_sm_ctx_cfg c{};
    c.pasid_dir = 0x6000000;
    c.pdts = 3;
    c.dte = c.paside = c.pre = c.fpd = c.rid_priv = true;
    c.rid_pasid = 0xABCDE;
    ASSERT_EQ(ims_vtd_ctxb_set_sm_ctx(&b_, 0x0001, &c, &err_), 0) << err_.msg;
    uint64_t ce = kBase + 0x1000 + 32;
    // vtd-facts §2.4: P 0, FPD 1, DTE 2, PASIDE 3, PRE 4, PDTS 11:9, PASIDDIRPTR 63:12,
    // RID_PASID 83:64, RID_PRIV 84.
    EXPECT_EQ(R64(ce), UINT64_C(0x6000000) | (3u << 9) | 0x1F);
    EXPECT_EQ(R64(ce + 8), UINT64_C(0xABCDE) | (UINT64_C(1) << 20));
    EXPECT_EQ(R64(ce + 16), 0u);
    EXPECT_EQ(R64(ce + 24), 0u);
    EXPECT_EQ(alloc_.next, kBase + 0x2000);  // no directory allocated: one was given
}

TEST_F(VtdCtxBuilder, DirectorySizedByPdtsAndKept)
{
    Init(true);
    SmCtx(0x0001, 5);  // 2^(5+7) entries * 8 B = 32 KiB = 8 pages
    uint64_t ce = kBase + 0x1000 + 32;
    uint64_t dir = R64(ce) & ~UINT64_C(0xFFF);
    EXPECT_EQ(dir, kBase + 0x2000);
    EXPECT_EQ(alloc_.next, dir + 8 * 0x1000);
    // Re-setting with pasid_dir=0 keeps a directory that is large enough.
    SmCtx(0x0001, 4);
    EXPECT_EQ(R64(ce) & ~UINT64_C(0xFFF), dir);
    EXPECT_EQ((R64(ce) >> 9) & 7, 4u);
    // ... and allocates a new one when it is too small.
    SmCtx(0x0001, 6);
    EXPECT_EQ(R64(ce) & ~UINT64_C(0xFFF), dir + 8 * 0x1000);
}

TEST_F(VtdCtxBuilder, PasidTablesAllocatedOnDemand)
{
    Init(true);
    SmCtx(0x0001, 1);  // directory of 256 entries (one page)
    uint64_t dir = kBase + 0x2000;
    ims_vtd_pasid_cfg c = Ss(5);
    ASSERT_EQ(ims_vtd_ctxb_set_pasid(&b_, 0x0001, 0x47, &c, &err_), 0) << err_.msg;
    // vtd-facts §2.5: directory entry PASID[19:6]=1 -> SMPTBLPTR | P.
    uint64_t t1 = kBase + 0x3000;
    EXPECT_EQ(R64(dir + 8), t1 | 1);
    ASSERT_EQ(ims_vtd_ctxb_set_pasid(&b_, 0x0001, 0x40, &c, &err_), 0);  // same 64-PASID group
    EXPECT_EQ(alloc_.next, t1 + 0x1000);
    ASSERT_EQ(ims_vtd_ctxb_set_pasid(&b_, 0x0001, 0x3FFF, &c, &err_), 0);  // group 0xFF
    EXPECT_EQ(R64(dir + 0xFF * 8), (t1 + 0x1000) | 1);
    uint64_t pa = 0;
    ASSERT_EQ(ims_vtd_ctxb_pasid_entry_pa(&b_, 0x0001, 0x47, &pa, &err_), 0);
    EXPECT_EQ(pa, t1 + 7 * 64);
    ASSERT_EQ(ims_vtd_ctxb_pasid_dir_entry_pa(&b_, 0x0001, 0x3FFF, &pa, &err_), 0);
    EXPECT_EQ(pa, dir + 0xFF * 8);
}

TEST_F(VtdCtxBuilder, PasidEntryBits)
{
    Init(true);
    SmCtx(0x0001);
    ims_vtd_pasid_cfg c{};
    c.pgtt = 3;
    c.did = 0x1234;
    c.fpd = true;
    c.aw = 3;
    c.ssptptr = 0x11000;
    c.ssade = c.ssee = true;
    c.fsptptr = 0x22000;
    c.fspm = 1;
    c.sre = c.wpe = c.eafe = c.ere = true;
    c.pwsnp = c.pgsnp = c.cd = c.emte = true;
    c.pat = 0x07050406;
    ASSERT_EQ(ims_vtd_ctxb_set_pasid(&b_, 0x0001, 3, &c, &err_), 0) << err_.msg;
    uint64_t pe = 0;
    ASSERT_EQ(ims_vtd_ctxb_pasid_entry_pa(&b_, 0x0001, 3, &pe, &err_), 0);
    // vtd-facts §2.6: qw0 SSPTPTR | SSADE 9 | PGTT 8:6 | SSEE 5 | AW 4:2 | FPD 1 | P 0.
    EXPECT_EQ(R64(pe), UINT64_C(0x11000) | (1u << 9) | (3u << 6) | (1u << 5) | (3u << 2) | 0x3);
    // qw1 PAT 63:32 | EMTE 26 | CD 25 | PGSNP 24 | PWSNP 23 | DID 15:0.
    EXPECT_EQ(R64(pe + 8), (UINT64_C(0x07050406) << 32) | (UINT64_C(0xF) << 23) | 0x1234);
    // qw2 FSPTPTR | EAFE 7 | WPE 4 | FSPM 3:2 | ERE 1 | SRE 0.
    EXPECT_EQ(R64(pe + 16), UINT64_C(0x22000) | (1u << 7) | (1u << 4) | (1u << 2) | 0x3);
    for (int i = 3; i < 8; i++)
        EXPECT_EQ(R64(pe + 8 * i), 0u) << i;
}

TEST_F(VtdCtxBuilder, DirectoryFpd)
{
    Init(true);
    SmCtx(0x0001);
    ims_vtd_pasid_cfg c = Ss(1);
    ASSERT_EQ(ims_vtd_ctxb_set_pasid(&b_, 0x0001, 0x80, &c, &err_), 0);
    uint64_t de = 0;
    ASSERT_EQ(ims_vtd_ctxb_pasid_dir_entry_pa(&b_, 0x0001, 0x80, &de, &err_), 0);
    uint64_t before = R64(de);
    ASSERT_EQ(ims_vtd_ctxb_set_pasid_dir_fpd(&b_, 0x0001, 0x80, true, &err_), 0);
    EXPECT_EQ(R64(de), before | 0x2);  // vtd-facts §2.5: FPD is bit 1
    ASSERT_EQ(ims_vtd_ctxb_set_pasid_dir_fpd(&b_, 0x0001, 0x80, false, &err_), 0);
    EXPECT_EQ(R64(de), before);
}

TEST_F(VtdCtxBuilder, ClearEntries)
{
    Init(true);
    SmCtx(0x0001);
    ims_vtd_pasid_cfg c = Ss(1);
    ASSERT_EQ(ims_vtd_ctxb_set_pasid(&b_, 0x0001, 9, &c, &err_), 0);
    uint64_t pe = 0, ce = 0;
    ASSERT_EQ(ims_vtd_ctxb_pasid_entry_pa(&b_, 0x0001, 9, &pe, &err_), 0);
    ASSERT_EQ(ims_vtd_ctxb_ctx_entry_pa(&b_, 0x0001, &ce, &err_), 0);
    ASSERT_NE(R64(pe), 0u);
    ASSERT_EQ(ims_vtd_ctxb_clear_pasid(&b_, 0x0001, 9, &err_), 0);
    for (int i = 0; i < 8; i++)
        EXPECT_EQ(R64(pe + 8 * i), 0u);
    ASSERT_EQ(ims_vtd_ctxb_clear_ctx(&b_, 0x0001, &err_), 0);
    for (int i = 0; i < 4; i++)
        EXPECT_EQ(R64(ce + 8 * i), 0u);
    // Clearing what does not exist is a no-op.
    EXPECT_EQ(ims_vtd_ctxb_clear_ctx(&b_, 0x7700, &err_), 0);
    EXPECT_EQ(ims_vtd_ctxb_clear_pasid(&b_, 0x0001, 9, &err_), 0);
    EXPECT_EQ(R64(b_.root + 0x77 * 16), 0u);
}

TEST_F(VtdCtxBuilder, Errors)
{
    Init(true);
    ims_vtd_pasid_cfg c = Ss(1);
    // No context entry yet.
    EXPECT_EQ(ims_vtd_ctxb_set_pasid(&b_, 0x0001, 1, &c, &err_), -ENOENT);
    EXPECT_EQ(err_.code, -ENOENT);
    EXPECT_NE(std::string(err_.msg).find("0x0001"), std::string::npos) << err_.msg;
    SmCtx(0x0001, 0);
    // PDTS=0: PASIDs below 2^13.
    EXPECT_EQ(ims_vtd_ctxb_set_pasid(&b_, 0x0001, 0x2000, &c, &err_), -ERANGE);
    uint64_t pa = 0;
    EXPECT_EQ(ims_vtd_ctxb_pasid_entry_pa(&b_, 0x0001, 0x100, &pa, &err_), -ENOENT);  // no table for group 4
    c.ssptptr = 0x7000800;  // misaligned
    EXPECT_EQ(ims_vtd_ctxb_set_pasid(&b_, 0x0001, 1, &c, &err_), -EINVAL);
    c = Ss(1);
    c.pgtt = 8;
    EXPECT_EQ(ims_vtd_ctxb_set_pasid(&b_, 0x0001, 1, &c, &err_), -EINVAL);
    ims_vtd_sm_ctx_cfg sc{};
    sc.pdts = 8;
    EXPECT_EQ(ims_vtd_ctxb_set_sm_ctx(&b_, 0x0002, &sc, &err_), -EINVAL);
    sc.pdts = 0;
    sc.rid_pasid = 1u << 20;
    EXPECT_EQ(ims_vtd_ctxb_set_sm_ctx(&b_, 0x0002, &sc, &err_), -EINVAL);
    // Wrong mode.
    ims_vtd_legacy_ctx_cfg lc{};
    EXPECT_EQ(ims_vtd_ctxb_set_legacy_ctx(&b_, 0x0002, &lc, &err_), -EINVAL);
    ims_vtd_ctx_builder legacy{};
    ASSERT_EQ(ims_vtd_ctxb_init(&legacy, &alloc_, false, &err_), 0);
    sc.rid_pasid = 0;
    EXPECT_EQ(ims_vtd_ctxb_set_sm_ctx(&legacy, 0x0002, &sc, &err_), -EINVAL);
    EXPECT_EQ(ims_vtd_ctxb_clear_pasid(&legacy, 0x0002, 0, &err_), -EINVAL);
    lc.tt = 4;
    EXPECT_EQ(ims_vtd_ctxb_set_legacy_ctx(&legacy, 0x0002, &lc, &err_), -EINVAL);
    EXPECT_EQ(ims_vtd_ctxb_ctx_entry_pa(&legacy, 0x0002, &pa, &err_), -ENOENT);
}

TEST_F(VtdCtxBuilder, OutOfPages)
{
    ims_pa_alloc small{};
    ims_pa_alloc_init(&small, mem_, 0x100000, 0x102000);  // two pages
    ims_vtd_ctx_builder b{};
    ASSERT_EQ(ims_vtd_ctxb_init(&b, &small, true, &err_), 0);
    ims_vtd_sm_ctx_cfg c{};
    // The context table takes the second page; the directory has none left.
    EXPECT_EQ(ims_vtd_ctxb_set_sm_ctx(&b, 0x0001, &c, &err_), -ENOMEM);
    EXPECT_NE(std::string(err_.msg).find("PASID directory"), std::string::npos) << err_.msg;
    ims_vtd_ctx_builder b2{};
    EXPECT_EQ(ims_vtd_ctxb_init(&b2, &small, false, &err_), -ENOMEM);
    EXPECT_EQ(ims_vtd_ctxb_init(&b2, nullptr, false, &err_), -EINVAL);
}

// ================================ fault metadata ===============================

TEST(VtdFault, ConditionIds)
{
    // vtd-facts §3.5 codes; IDs use the rev 4+ names (LSS, SFS, SSS).
    EXPECT_STREQ(ims_vtd_fault_id(IMS_VTD_FR_LRT_2), "LRT.2");
    EXPECT_STREQ(ims_vtd_fault_id(0x0D), "LCT.5");
    EXPECT_STREQ(ims_vtd_fault_id(IMS_VTD_FR_LSS_1), "LSS.1");
    EXPECT_STREQ(ims_vtd_fault_id(0x31), "RTA.2");
    EXPECT_STREQ(ims_vtd_fault_id(0x33), "RTA.4");
    EXPECT_STREQ(ims_vtd_fault_id(0x44), "SCT.5");
    EXPECT_STREQ(ims_vtd_fault_id(0x5D), "SPT.6");
    EXPECT_STREQ(ims_vtd_fault_id(0x7B), "SSS.4");
    EXPECT_STREQ(ims_vtd_fault_id(0x89), "SGN.10");
    EXPECT_STREQ(ims_vtd_fault_id(0x90), "SFS.9");
    EXPECT_STREQ(ims_vtd_fault_id(0x91), "SFS.10");
    EXPECT_STREQ(ims_vtd_fault_id(0x00), "unknown");
    EXPECT_STREQ(ims_vtd_fault_id(0x0F), "unknown");
    EXPECT_STREQ(ims_vtd_fault_id(0xFF), "unknown");
    EXPECT_STREQ(ims_vtd_fault_desc(0xFF), "unknown");
    EXPECT_STREQ(ims_vtd_fault_desc(0x02), "context entry not present");
}

TEST(VtdFault, EveryNamedReasonIsKnown)
{
    const uint8_t named[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E,
                             0x30, 0x31, 0x32, 0x38, 0x39, 0x3A, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
                             0x48, 0x50, 0x51, 0x52, 0x58, 0x59, 0x5A, 0x5B, 0x5C, 0x5D, 0x70, 0x71, 0x72, 0x73,
                             0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x7B, 0x7C, 0x80, 0x81, 0x82, 0x83, 0x84,
                             0x85, 0x86, 0x87, 0x90, 0x91};
    for (uint8_t fr : named) {
        EXPECT_STRNE(ims_vtd_fault_id(fr), "unknown") << std::hex << unsigned(fr);
        EXPECT_GT(std::strlen(ims_vtd_fault_desc(fr)), 10u) << std::hex << unsigned(fr);
    }
}

TEST(VtdFault, QualificationFollowsSpecTable30)
{
    // Spec rev 5.10 Table 30 "Qualified" column; vtd-facts §1.9: root faults and errors reading the
    // root/context/PASID-directory/PASID-table entries are never suppressed by FPD.
    const uint8_t not_qualified[] = {0x01, 0x08, 0x09, 0x0A, 0x30, 0x31, 0x32, 0x33,
                                     0x38, 0x39, 0x3A, 0x40, 0x50, 0x58};
    for (uint8_t fr : not_qualified)
        EXPECT_FALSE(ims_vtd_fault_is_qualified(fr)) << std::hex << unsigned(fr);
    // Everything from the context entry on is qualified, including paging-entry
    // read errors (LSS.1, SFS.1, SFS.4, SSS.1, SSS.4).
    const uint8_t qualified[] = {0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0B, 0x0C, 0x0D, 0x0E, 0x41, 0x42, 0x43,
                                 0x44, 0x45, 0x46, 0x47, 0x48, 0x51, 0x52, 0x59, 0x5A, 0x5B, 0x5C, 0x5D, 0x70,
                                 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x7B, 0x7C, 0x80,
                                 0x81, 0x83, 0x84, 0x85, 0x86, 0x87, 0x89, 0x90, 0x91};
    for (uint8_t fr : qualified)
        EXPECT_TRUE(ims_vtd_fault_is_qualified(fr)) << std::hex << unsigned(fr);
    EXPECT_FALSE(ims_vtd_fault_is_qualified(0x00));
    EXPECT_FALSE(ims_vtd_fault_is_qualified(0xEE));
}

}  // namespace
