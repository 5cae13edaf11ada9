// Context / PASID lookup (models/vtd/ctx_lookup.c): every lookup fault reason,
// FPD handling, RID_PASID, table selection and the exact access log.
#include <gtest/gtest.h>

#include <cstdint>

#include "models/mem/pa_alloc.h"
#include "models/mem/physmem.h"
#include "models/vtd/ctx_builder.h"
#include "models/vtd/entries.h"
#include "models/vtd/fault_reason.h"
#include "models/vtd/translate.h"

namespace {

constexpr uint64_t B(unsigned n) { return UINT64_C(1) << n; }

// CAP: ND=6 (16-bit DIDs), SAGAW 39+48-bit (bits 9,10), MGAW 48 bits.
constexpr uint64_t kCap = 6 | (UINT64_C(0x6) << 8) | (UINT64_C(47) << 16);
// ECAP: DT, PT, SC, NEST, PRS, SRS, EAFS, PSS=19, PASID, SMTS, SLADS, SSTS, FSTS, SMPWCS, RPS, RPRIVS.
constexpr uint64_t kEcap = B(2) | B(6) | B(7) | B(26) | B(29) | B(31) | B(34) | (UINT64_C(19) << 35) | B(40) |
                           B(43) | B(45) | B(46) | B(47) | B(48) | B(49) | B(53);
constexpr uint64_t kSsRoot = 0x8000000;
constexpr uint64_t kFsRoot = 0x9000000;

class VtdCtxLookup : public ::testing::Test {
protected:
    void SetUp() override
    {
        mem_ = ims_physmem_create();
        ASSERT_NE(mem_, nullptr);
        ims_pa_alloc_init(&alloc_, mem_, 0x100000, 0x4000000);
        hw_.mem = mem_;
        hw_.cap = kCap;
        hw_.ecap = kEcap;
        hw_.te = true;
    }
    void TearDown() override { ims_physmem_destroy(mem_); }

    void Init(bool scalable)
    {
        ASSERT_EQ(ims_vtd_ctxb_init(&b_, &alloc_, scalable, nullptr), 0);
        hw_.rtaddr = ims_vtd_ctxb_rtaddr(&b_);
    }

    static ims_vtd_legacy_ctx_cfg LegacyCfg(unsigned tt = IMS_VTD_TT_SS, unsigned aw = 2)
    {
        ims_vtd_legacy_ctx_cfg c{};
        c.tt = tt;
        c.aw = aw;
        c.ssptptr = kSsRoot;
        c.did = 42;
        return c;
    }
    static ims_vtd_sm_ctx_cfg SmCfg()
    {
        ims_vtd_sm_ctx_cfg c{};
        c.pdts = 0;
        c.dte = true;
        c.paside = true;
        return c;
    }
    static ims_vtd_pasid_cfg SsCfg()
    {
        ims_vtd_pasid_cfg c{};
        c.pgtt = IMS_VTD_PGTT_SS;
        c.did = 7;
        c.aw = 2;
        c.ssptptr = kSsRoot;
        return c;
    }
    static ims_vtd_pasid_cfg FsCfg()
    {
        ims_vtd_pasid_cfg c{};
        c.pgtt = IMS_VTD_PGTT_FS;
        c.did = 9;
        c.fsptptr = kFsRoot;
        c.sre = true;
        return c;
    }

    void SetLegacy(uint16_t sid, const ims_vtd_legacy_ctx_cfg &c)
    {
        ASSERT_EQ(ims_vtd_ctxb_set_legacy_ctx(&b_, sid, &c, nullptr), 0);
    }
    void SetSm(uint16_t sid, const ims_vtd_sm_ctx_cfg &c) { ASSERT_EQ(ims_vtd_ctxb_set_sm_ctx(&b_, sid, &c, nullptr), 0); }
    void SetPasid(uint16_t sid, uint32_t pasid, const ims_vtd_pasid_cfg &c)
    {
        ASSERT_EQ(ims_vtd_ctxb_set_pasid(&b_, sid, pasid, &c, nullptr), 0);
    }
    // A scalable device with one PASID entry.
    void SmDevice(uint16_t sid, uint32_t pasid, const ims_vtd_pasid_cfg &pc, ims_vtd_sm_ctx_cfg cc = SmCfg())
    {
        SetSm(sid, cc);
        SetPasid(sid, pasid, pc);
    }

    uint64_t CtxPa(uint16_t sid)
    {
        uint64_t pa = 0;
        EXPECT_EQ(ims_vtd_ctxb_ctx_entry_pa(&b_, sid, &pa, nullptr), 0);
        return pa;
    }
    uint64_t DirPa(uint16_t sid, uint32_t pasid)
    {
        uint64_t pa = 0;
        EXPECT_EQ(ims_vtd_ctxb_pasid_dir_entry_pa(&b_, sid, pasid, &pa, nullptr), 0);
        return pa;
    }
    uint64_t PasidPa(uint16_t sid, uint32_t pasid)
    {
        uint64_t pa = 0;
        EXPECT_EQ(ims_vtd_ctxb_pasid_entry_pa(&b_, sid, pasid, &pa, nullptr), 0);
        return pa;
    }
    uint64_t R64(uint64_t pa) { return ims_physmem_r64(mem_, pa); }
    void W64(uint64_t pa, uint64_t v) { ASSERT_EQ(ims_physmem_w64(mem_, pa, v), 0); }
    void Or64(uint64_t pa, uint64_t v) { W64(pa, R64(pa) | v); }

    static ims_vtd_req Req(uint16_t sid, ims_vtd_req_type type = IMS_VTD_REQ_UNTRANSLATED)
    {
        ims_vtd_req r{};
        r.sid = sid;
        r.read = true;
        r.type = type;
        r.addr = 0x1000;
        return r;
    }
    static ims_vtd_req PasidReq(uint16_t sid, uint32_t pasid, bool priv = false)
    {
        ims_vtd_req r = Req(sid);
        r.has_pasid = true;
        r.pasid = pasid;
        r.priv = priv;
        return r;
    }

    uint8_t Lookup(const ims_vtd_req &r)
    {
        log_ = ims_vtd_access_log{};
        ctx_ = ims_vtd_ctx{};
        qualified_ = false;
        return ims_vtd_lookup_ctx(&hw_, &r, &ctx_, &qualified_, &log_);
    }
    // Expect a fault with the given qualification.
    void ExpectFault(const ims_vtd_req &r, uint8_t fr, bool qualified)
    {
        EXPECT_EQ(Lookup(r), fr) << "expected " << ims_vtd_fault_id(fr);
        EXPECT_EQ(qualified_, qualified);
    }
    void ExpectAccess(unsigned i, uint64_t pa, ims_vtd_access_kind kind, unsigned size)
    {
        ASSERT_LT(i, log_.n);
        EXPECT_EQ(log_.a[i].pa, pa) << "access " << i;
        EXPECT_EQ(log_.a[i].kind, kind) << "access " << i;
        EXPECT_EQ(log_.a[i].size, size) << "access " << i;
        EXPECT_EQ(log_.a[i].level, 0u) << "access " << i;
        EXPECT_EQ(log_.a[i].nested_fs_level, 0u) << "access " << i;
    }

    ims_physmem *mem_ = nullptr;
    ims_pa_alloc alloc_{};
    ims_vtd_ctx_builder b_{};
    ims_vtd_hw hw_{};
    ims_vtd_access_log log_{};
    ims_vtd_ctx ctx_{};
    bool qualified_ = false;
};

// ============================== legacy mode ===================================

TEST_F(VtdCtxLookup, LegacySuccessLogsRootThenContext)
{
    Init(false);
    SetLegacy(0x0310, LegacyCfg());
    ASSERT_EQ(Lookup(Req(0x0310)), IMS_VTD_FR_NONE);
    EXPECT_FALSE(qualified_);
    // vtd-facts §2.1/§2.3: root entry at RTA + bus*16, context entry at CTP + devfn*16.
    uint64_t ctp = R64(b_.root + 3 * 16) & ~UINT64_C(0xFFF);
    ASSERT_EQ(log_.n, 2u);
    EXPECT_EQ(log_.reads, 2u);
    EXPECT_EQ(log_.writes, 0u);
    ExpectAccess(0, b_.root + 0x30, IMS_VTD_ACC_ROOT, 16);
    ExpectAccess(1, ctp + 0x10 * 16, IMS_VTD_ACC_CONTEXT, 16);
    EXPECT_FALSE(ctx_.scalable);
    EXPECT_FALSE(ctx_.fpd);
    EXPECT_EQ(ctx_.did, 42);
    EXPECT_EQ(ctx_.pasid, 0u);
    EXPECT_EQ(ctx_.pgtt, IMS_VTD_PGTT_SS);
    EXPECT_EQ(ctx_.ssptptr, kSsRoot);
    EXPECT_EQ(ctx_.ss_levels, 4u);  // AW=2: 48-bit, 4 levels
    EXPECT_FALSE(ctx_.dte);
    EXPECT_EQ(ctx_.fs_levels, 0u);
}

TEST_F(VtdCtxLookup, LegacyRootNotPresentIsNotQualified)
{
    Init(false);
    SetLegacy(0x0310, LegacyCfg(IMS_VTD_TT_SS));
    // vtd-facts §3.5: LRT.2 = 0x01; Table 30: root faults are never qualified.
    ExpectFault(Req(0x0410), IMS_VTD_FR_LRT_2, false);
    ASSERT_EQ(log_.n, 1u);
    ExpectAccess(0, b_.root + 0x40, IMS_VTD_ACC_ROOT, 16);
}

TEST_F(VtdCtxLookup, LegacyRootReservedBit)
{
    Init(false);
    SetLegacy(0x0310, LegacyCfg());
    Or64(b_.root + 0x30 + 8, B(0));  // bit 64: vtd-facts §2.1 127:64 reserved
    ExpectFault(Req(0x0310), IMS_VTD_FR_LRT_3, false);
}

TEST_F(VtdCtxLookup, LegacyContextNotPresentIsQualified)
{
    Init(false);
    SetLegacy(0x0310, LegacyCfg());
    ASSERT_EQ(ims_vtd_ctxb_clear_ctx(&b_, 0x0310, nullptr), 0);
    ExpectFault(Req(0x0310), IMS_VTD_FR_LCT_2, true);
    EXPECT_FALSE(ctx_.fpd);
    EXPECT_EQ(log_.n, 2u);
}

TEST_F(VtdCtxLookup, LegacyFpdIsReadFromNonPresentContext)
{
    Init(false);
    SetLegacy(0x0310, LegacyCfg());
    // vtd-facts §2.3: FPD is bit 1; spec §9.3: evaluated irrespective of P.
    W64(CtxPa(0x0310), 0x2);
    ExpectFault(Req(0x0310), IMS_VTD_FR_LCT_2, true);
    EXPECT_TRUE(ctx_.fpd);  // qualified + FPD: the caller suppresses the record
}

TEST_F(VtdCtxLookup, LegacyContextReservedBit)
{
    Init(false);
    SetLegacy(0x0310, LegacyCfg());
    Or64(CtxPa(0x0310) + 8, B(7));  // bit 71 reserved (vtd-facts §2.3)
    ExpectFault(Req(0x0310), IMS_VTD_FR_LCT_3, true);
}

TEST_F(VtdCtxLookup, LegacyIgnoredContextBitsAreNotReserved)
{
    Init(false);
    SetLegacy(0x0310, LegacyCfg());
    Or64(CtxPa(0x0310) + 8, UINT64_C(0x78));  // bits 70:67 ignored
    EXPECT_EQ(Lookup(Req(0x0310)), IMS_VTD_FR_NONE);
}

TEST_F(VtdCtxLookup, LegacyDidBeyondCapNdIsReserved)
{
    Init(false);
    hw_.cap = (kCap & ~UINT64_C(7)) | 2;  // ND=2: 8-bit domain IDs
    auto c = LegacyCfg();
    c.did = 0xFF;
    SetLegacy(0x0310, c);
    EXPECT_EQ(Lookup(Req(0x0310)), IMS_VTD_FR_NONE);
    c.did = 0x100;
    SetLegacy(0x0310, c);
    ExpectFault(Req(0x0310), IMS_VTD_FR_LCT_3, true);
}

TEST_F(VtdCtxLookup, LegacyReservedTranslationType)
{
    Init(false);
    SetLegacy(0x0310, LegacyCfg(IMS_VTD_TT_RESERVED));
    // vtd-facts §2.3: TT=11b reserved -> LCT.4 (0x03).
    ExpectFault(Req(0x0310), IMS_VTD_FR_LCT_4, true);
}

TEST_F(VtdCtxLookup, LegacyTranslationTypeNeedsCapability)
{
    Init(false);
    SetLegacy(0x0310, LegacyCfg(IMS_VTD_TT_PT));
    SetLegacy(0x0311, LegacyCfg(IMS_VTD_TT_DEVTLB));
    hw_.ecap = kEcap & ~B(6);  // no ECAP.PT
    ExpectFault(Req(0x0310), IMS_VTD_FR_LCT_4, true);
    hw_.ecap = kEcap & ~B(2);  // no ECAP.DT
    ExpectFault(Req(0x0311), IMS_VTD_FR_LCT_4, true);
    hw_.ecap = kEcap;
    EXPECT_EQ(Lookup(Req(0x0310)), IMS_VTD_FR_NONE);
    EXPECT_EQ(Lookup(Req(0x0311)), IMS_VTD_FR_NONE);
}

TEST_F(VtdCtxLookup, LegacyAddressWidthMustBeInSagaw)
{
    Init(false);
    SetLegacy(0x0310, LegacyCfg(IMS_VTD_TT_SS, 3));  // 57-bit: SAGAW bit 11 clear
    ExpectFault(Req(0x0310), IMS_VTD_FR_LCT_4, true);
    SetLegacy(0x0310, LegacyCfg(IMS_VTD_TT_SS, 0));  // 000b reserved
    ExpectFault(Req(0x0310), IMS_VTD_FR_LCT_4, true);
    hw_.cap = kCap | B(11);
    SetLegacy(0x0310, LegacyCfg(IMS_VTD_TT_SS, 3));
    ASSERT_EQ(Lookup(Req(0x0310)), IMS_VTD_FR_NONE);
    EXPECT_EQ(ctx_.ss_levels, 5u);
}

TEST_F(VtdCtxLookup, LegacyTranslationTypeBlocksAts)
{
    Init(false);
    SetLegacy(0x0310, LegacyCfg(IMS_VTD_TT_SS));
    SetLegacy(0x0311, LegacyCfg(IMS_VTD_TT_PT));
    SetLegacy(0x0312, LegacyCfg(IMS_VTD_TT_DEVTLB));
    // vtd-facts §6.1 / §3.5: LCT.5 = 0x0D for translation and translated requests unless TT=01b.
    ExpectFault(Req(0x0310, IMS_VTD_REQ_TRANSLATION), IMS_VTD_FR_LCT_5, true);
    ExpectFault(Req(0x0310, IMS_VTD_REQ_TRANSLATED), IMS_VTD_FR_LCT_5, true);
    ExpectFault(Req(0x0311, IMS_VTD_REQ_TRANSLATION), IMS_VTD_FR_LCT_5, true);
    ASSERT_EQ(Lookup(Req(0x0312, IMS_VTD_REQ_TRANSLATION)), IMS_VTD_FR_NONE);
    EXPECT_TRUE(ctx_.dte);
    EXPECT_EQ(ctx_.pgtt, IMS_VTD_PGTT_SS);
    EXPECT_EQ(Lookup(Req(0x0312, IMS_VTD_REQ_TRANSLATED)), IMS_VTD_FR_NONE);
}

TEST_F(VtdCtxLookup, LegacyPassThrough)
{
    Init(false);
    SetLegacy(0x0311, LegacyCfg(IMS_VTD_TT_PT));
    ASSERT_EQ(Lookup(Req(0x0311)), IMS_VTD_FR_NONE);
    EXPECT_EQ(ctx_.pgtt, IMS_VTD_PGTT_PT);
    EXPECT_EQ(ctx_.ssptptr, 0u);
    EXPECT_EQ(ctx_.ss_levels, 0u);
    EXPECT_EQ(ctx_.did, 42);
}

TEST_F(VtdCtxLookup, LegacyRequestWithPasidFaultsBeforeAnyRead)
{
    Init(false);
    SetLegacy(0x0310, LegacyCfg());
    // vtd-facts §1.5: TTM=00 with a PASID request -> RTA.2 (0x31), not qualified.
    ExpectFault(PasidReq(0x0310, 5), IMS_VTD_FR_RTA_2, false);
    EXPECT_EQ(log_.n, 0u);
}

TEST_F(VtdCtxLookup, RootTableAddressModeFaults)
{
    Init(true);
    SmDevice(0x0508, 0x45, SsCfg());
    uint64_t rta = b_.root;
    // vtd-facts §1.5: TTM [11:10]; 10b reserved -> RTA.1 (0x30).
    hw_.rtaddr = rta | (UINT64_C(2) << 10);
    ExpectFault(PasidReq(0x0508, 0x45), IMS_VTD_FR_RTA_1, false);
    // TTM=11b without ECAP.ADMS -> RTA.1; with ADMS every request is aborted (RTA.4, 0x33).
    hw_.rtaddr = rta | (UINT64_C(3) << 10);
    ExpectFault(PasidReq(0x0508, 0x45), IMS_VTD_FR_RTA_1, false);
    hw_.ecap = kEcap | B(52);
    ExpectFault(PasidReq(0x0508, 0x45), 0x33, false);
    ExpectFault(Req(0x0508), 0x33, false);
    EXPECT_EQ(log_.n, 0u);
    // TTM=01b without ECAP.SMTS -> RTA.1.
    hw_.ecap = kEcap & ~B(43);
    hw_.rtaddr = rta | (UINT64_C(1) << 10);
    ExpectFault(PasidReq(0x0508, 0x45), IMS_VTD_FR_RTA_1, false);
    EXPECT_TRUE(ctx_.scalable);
}

// ============================= scalable mode ==================================

TEST_F(VtdCtxLookup, ScalableSuccessLogsFourReads)
{
    Init(true);
    hw_.cap = kCap | B(60);  // FL5LP
    ims_vtd_pasid_cfg pc = FsCfg();
    pc.pgtt = IMS_VTD_PGTT_NESTED;
    pc.aw = 2;
    pc.ssptptr = kSsRoot;
    pc.ssade = true;
    pc.fspm = IMS_VTD_FSPM_5LEVEL;
    pc.wpe = true;
    pc.eafe = true;
    pc.pwsnp = true;
    pc.pgsnp = true;
    pc.did = 0x1234;
    auto cc = SmCfg();
    cc.pre = true;
    SmDevice(0x0508, 0x45, pc, cc);
    ASSERT_EQ(Lookup(PasidReq(0x0508, 0x45)), IMS_VTD_FR_NONE);

    // vtd-facts §3.1: root (16 B at RTA + bus*16), SM context (32 B at LCTP + devfn*32),
    // directory entry (8 B at PASIDDIRPTR + PASID[19:6]*8), PASID entry (64 B at SMPTBLPTR + PASID[5:0]*64).
    uint64_t lctp = R64(b_.root + 5 * 16) & ~UINT64_C(0xFFF);
    uint64_t ce_pa = lctp + 8 * 32;
    uint64_t dir = R64(ce_pa) & ~UINT64_C(0xFFF);
    uint64_t table = R64(dir + 1 * 8) & ~UINT64_C(0xFFF);
    ASSERT_EQ(log_.n, 4u);
    EXPECT_EQ(log_.reads, 4u);
    ExpectAccess(0, b_.root + 0x50, IMS_VTD_ACC_ROOT, 16);
    ExpectAccess(1, ce_pa, IMS_VTD_ACC_CONTEXT, 32);
    ExpectAccess(2, dir + 8, IMS_VTD_ACC_PASID_DIR, 8);
    ExpectAccess(3, table + 5 * 64, IMS_VTD_ACC_PASID_ENTRY, 64);

    EXPECT_TRUE(ctx_.scalable);
    EXPECT_FALSE(ctx_.fpd);
    EXPECT_EQ(ctx_.did, 0x1234);
    EXPECT_EQ(ctx_.pasid, 0x45u);
    EXPECT_EQ(ctx_.pgtt, IMS_VTD_PGTT_NESTED);
    EXPECT_EQ(ctx_.ssptptr, kSsRoot);
    EXPECT_EQ(ctx_.ss_levels, 4u);
    EXPECT_TRUE(ctx_.ssade);
    EXPECT_FALSE(ctx_.ssee);
    EXPECT_EQ(ctx_.fsptptr, kFsRoot);
    EXPECT_EQ(ctx_.fs_levels, 5u);
    EXPECT_TRUE(ctx_.sre);
    EXPECT_TRUE(ctx_.wpe);
    EXPECT_TRUE(ctx_.eafe);
    EXPECT_TRUE(ctx_.pwsnp);
    EXPECT_TRUE(ctx_.pgsnp);
    EXPECT_TRUE(ctx_.dte);
    EXPECT_TRUE(ctx_.pre);
}

TEST_F(VtdCtxLookup, ScalableLowerAndUpperContextTables)
{
    Init(true);
    SmDevice(0x027F, 1, SsCfg());
    SmDevice(0x0280, 1, SsCfg());
    uint64_t lctp = R64(b_.root + 2 * 16) & ~UINT64_C(0xFFF);
    uint64_t uctp = R64(b_.root + 2 * 16 + 8) & ~UINT64_C(0xFFF);
    ASSERT_NE(lctp, uctp);
    // vtd-facts §2.2: devfn 0x7F -> lower table entry 127; devfn 0x80 -> upper table entry 0.
    ASSERT_EQ(Lookup(PasidReq(0x027F, 1)), IMS_VTD_FR_NONE);
    ExpectAccess(1, lctp + 0x7F * 32, IMS_VTD_ACC_CONTEXT, 32);
    ASSERT_EQ(Lookup(PasidReq(0x0280, 1)), IMS_VTD_FR_NONE);
    ExpectAccess(1, uctp + 0, IMS_VTD_ACC_CONTEXT, 32);
}

TEST_F(VtdCtxLookup, ScalableRootHalfNotPresent)
{
    Init(true);
    SmDevice(0x0510, 1, SsCfg());  // only the lower half of bus 5 exists
    // vtd-facts §3.5: SRT.2 = 0x39, not qualified.
    ExpectFault(PasidReq(0x0590, 1), IMS_VTD_FR_SRT_2, false);
    ExpectFault(PasidReq(0x0610, 1), IMS_VTD_FR_SRT_2, false);
    EXPECT_EQ(log_.n, 1u);
}

TEST_F(VtdCtxLookup, ScalableRootReservedBitsOfTheUsedHalf)
{
    Init(true);
    SmDevice(0x0510, 1, SsCfg());
    Or64(b_.root + 0x50 + 8, B(1));  // bit 65: reserved, but the upper half is not present
    EXPECT_EQ(Lookup(PasidReq(0x0510, 1)), IMS_VTD_FR_NONE);
    Or64(b_.root + 0x50, B(5));  // bit 5 of the used lower half
    ExpectFault(PasidReq(0x0510, 1), IMS_VTD_FR_SRT_3, false);
}

TEST_F(VtdCtxLookup, ScalableContextNotPresent)
{
    Init(true);
    SmDevice(0x0508, 1, SsCfg());
    ASSERT_EQ(ims_vtd_ctxb_clear_ctx(&b_, 0x0508, nullptr), 0);
    ExpectFault(PasidReq(0x0508, 1), IMS_VTD_FR_SCT_2, true);
    EXPECT_FALSE(ctx_.fpd);
    W64(CtxPa(0x0508), 0x2);  // FPD=1, P=0
    ExpectFault(PasidReq(0x0508, 1), IMS_VTD_FR_SCT_2, true);
    EXPECT_TRUE(ctx_.fpd);
    EXPECT_EQ(log_.n, 2u);
}

TEST_F(VtdCtxLookup, ScalableContextReservedBits)
{
    Init(true);
    SmDevice(0x0508, 1, SsCfg());
    uint64_t ce = CtxPa(0x0508);
    // vtd-facts §2.4: 255:85 reserved (qw2/qw3 must be zero).
    W64(ce + 16, 1);
    ExpectFault(PasidReq(0x0508, 1), IMS_VTD_FR_SCT_3, true);
    W64(ce + 16, 0);
    Or64(ce, B(7));  // 8:7 reserved
    ExpectFault(PasidReq(0x0508, 1), IMS_VTD_FR_SCT_3, true);
}

TEST_F(VtdCtxLookup, ScalableContextFieldsOfMissingFeaturesAreReserved)
{
    Init(true);
    SmDevice(0x0508, 1, SsCfg());
    hw_.ecap = kEcap & ~B(2);  // DTE set but no ECAP.DT
    ExpectFault(PasidReq(0x0508, 1), IMS_VTD_FR_SCT_3, true);
    hw_.ecap = kEcap & ~B(49);  // RID_PASID non-zero without ECAP.RPS
    auto cc = SmCfg();
    cc.rid_pasid = 3;
    SetSm(0x0508, cc);
    ExpectFault(PasidReq(0x0508, 1), IMS_VTD_FR_SCT_3, true);
}

TEST_F(VtdCtxLookup, ScalableContextInvalidProgramming)
{
    Init(true);
    auto cc = SmCfg();
    cc.dte = false;
    cc.pre = true;  // SCT.4.0: PRE without DTE
    SmDevice(0x0508, 1, SsCfg(), cc);
    ExpectFault(PasidReq(0x0508, 1), IMS_VTD_FR_SCT_4, true);
    cc = SmCfg();
    cc.rid_pasid = 8192;  // SCT.4.1: beyond PDTS=0 (2^13 PASIDs)
    SetSm(0x0508, cc);
    ExpectFault(Req(0x0508), IMS_VTD_FR_SCT_4, true);
}

TEST_F(VtdCtxLookup, ScalableDteGatesAtsRequests)
{
    Init(true);
    auto cc = SmCfg();
    cc.dte = false;
    SmDevice(0x0508, 0, SsCfg(), cc);
    // vtd-facts §6.1: SCT.5 = 0x44.
    ExpectFault(Req(0x0508, IMS_VTD_REQ_TRANSLATION), IMS_VTD_FR_SCT_5, true);
    ExpectFault(Req(0x0508, IMS_VTD_REQ_TRANSLATED), IMS_VTD_FR_SCT_5, true);
    ASSERT_EQ(Lookup(Req(0x0508)), IMS_VTD_FR_NONE);
    EXPECT_FALSE(ctx_.dte);
    SetSm(0x0508, SmCfg());
    ASSERT_EQ(Lookup(Req(0x0508, IMS_VTD_REQ_TRANSLATION)), IMS_VTD_FR_NONE);
    EXPECT_TRUE(ctx_.dte);
}

TEST_F(VtdCtxLookup, ScalablePasideGatesPasidRequests)
{
    Init(true);
    auto cc = SmCfg();
    cc.paside = false;
    SmDevice(0x0508, 1, SsCfg(), cc);
    ExpectFault(PasidReq(0x0508, 1), IMS_VTD_FR_SCT_6, true);
    EXPECT_EQ(log_.n, 2u);
}

TEST_F(VtdCtxLookup, ScalablePasidBeyondPdts)
{
    Init(true);
    SetSm(0x0508, SmCfg());  // PDTS=0: 128 directory entries, PASIDs 0..8191
    // vtd-facts §2.5: PASID >= 2^(PDTS+7+6) -> SCT.7 (0x46).
    ExpectFault(PasidReq(0x0508, 8192), IMS_VTD_FR_SCT_7, true);
    EXPECT_EQ(log_.n, 2u);
    // 8191 passes the context checks and reaches the (not present) directory entry.
    ExpectFault(PasidReq(0x0508, 8191), IMS_VTD_FR_SPD_2, true);
    auto cc = SmCfg();
    cc.pdts = 7;
    SetSm(0x0508, cc);
    ExpectFault(PasidReq(0x0508, 0xFFFFF), IMS_VTD_FR_SPD_2, true);
}

TEST_F(VtdCtxLookup, ScalablePasidBeyondEcapPss)
{
    Init(true);
    auto cc = SmCfg();
    cc.pdts = 7;
    SetSm(0x0508, cc);
    hw_.ecap = (kEcap & ~(UINT64_C(0x1F) << 35)) | (UINT64_C(9) << 35);  // 10-bit PASIDs
    // Spec rev 5.10 Table 30: SGN.10 (0x89), qualified.
    ExpectFault(PasidReq(0x0508, 1024), 0x89, true);
    ExpectFault(PasidReq(0x0508, 1023), IMS_VTD_FR_SPD_2, true);
}

TEST_F(VtdCtxLookup, ScalablePasidEqualToRidPasid)
{
    Init(true);
    auto cc = SmCfg();
    cc.rid_pasid = 0x20;
    SmDevice(0x0508, 0x20, SsCfg(), cc);
    // Spec rev 5.10 Table 30: SCT.9 (0x48), a request with PASID equal to RID_PASID.
    ExpectFault(PasidReq(0x0508, 0x20), IMS_VTD_FR_SCT_9, true);
    EXPECT_EQ(Lookup(Req(0x0508)), IMS_VTD_FR_NONE);
}

TEST_F(VtdCtxLookup, ScalablePasidDirectoryFaults)
{
    Init(true);
    SmDevice(0x0508, 0x45, SsCfg());
    ExpectFault(PasidReq(0x0508, 0x85), IMS_VTD_FR_SPD_2, true);  // directory entry 2 not present
    ASSERT_EQ(log_.n, 3u);
    ExpectAccess(2, DirPa(0x0508, 0x85), IMS_VTD_ACC_PASID_DIR, 8);
    Or64(DirPa(0x0508, 0x45), B(2));  // 11:2 reserved (vtd-facts §2.5)
    ExpectFault(PasidReq(0x0508, 0x45), IMS_VTD_FR_SPD_3, true);
}

TEST_F(VtdCtxLookup, ScalablePasidEntryNotPresent)
{
    Init(true);
    SmDevice(0x0508, 0x45, SsCfg());
    ExpectFault(PasidReq(0x0508, 0x46), IMS_VTD_FR_SPT_2, true);
    EXPECT_FALSE(ctx_.fpd);
    EXPECT_EQ(log_.n, 4u);
    W64(PasidPa(0x0508, 0x46), 0x2);  // FPD only
    ExpectFault(PasidReq(0x0508, 0x46), IMS_VTD_FR_SPT_2, true);
    EXPECT_TRUE(ctx_.fpd);
}

TEST_F(VtdCtxLookup, ScalablePasidEntryReservedBits)
{
    Init(true);
    SmDevice(0x0508, 0x45, SsCfg());
    uint64_t pe = PasidPa(0x0508, 0x45);
    W64(pe + 24, 1);  // qw3: 255:192 reserved
    ExpectFault(PasidReq(0x0508, 0x45), IMS_VTD_FR_SPT_3, true);
    W64(pe + 24, 0);
    Or64(pe, B(10));  // 11:10 reserved
    ExpectFault(PasidReq(0x0508, 0x45), IMS_VTD_FR_SPT_3, true);
}

TEST_F(VtdCtxLookup, ScalablePasidFieldsOfMissingFeaturesAreReserved)
{
    Init(true);
    auto pc = FsCfg();  // SRE=1
    pc.pwsnp = true;
    SmDevice(0x0508, 0x45, pc);
    EXPECT_EQ(Lookup(PasidReq(0x0508, 0x45)), IMS_VTD_FR_NONE);
    hw_.ecap = kEcap & ~B(31);  // SRE without ECAP.SRS
    ExpectFault(PasidReq(0x0508, 0x45), IMS_VTD_FR_SPT_3, true);
    hw_.ecap = kEcap & ~B(48);  // PWSNP without ECAP.SMPWCS
    ExpectFault(PasidReq(0x0508, 0x45), IMS_VTD_FR_SPT_3, true);
    hw_.ecap = kEcap;
    pc.ssade = true;  // SSADE without ECAP.SLADS
    SetPasid(0x0508, 0x45, pc);
    hw_.ecap = kEcap & ~B(45);
    ExpectFault(PasidReq(0x0508, 0x45), IMS_VTD_FR_SPT_3, true);
}

TEST_F(VtdCtxLookup, ScalableInvalidPgtt)
{
    Init(true);
    SetSm(0x0508, SmCfg());
    // vtd-facts §2.6: PGTT 000b and 101b-111b reserved -> SPT.4 (0x5B).
    for (unsigned pgtt : {0u, 5u, 6u, 7u}) {
        auto pc = SsCfg();
        pc.pgtt = pgtt;
        SetPasid(0x0508, 0x45, pc);
        ExpectFault(PasidReq(0x0508, 0x45), IMS_VTD_FR_SPT_4, true);
    }
    // Each PGTT needs its ECAP bit: FS/FSTS, SS/SSTS, nested/NEST, PT/PT.
    struct {
        unsigned pgtt;
        unsigned ecap_bit;
    } const need[] = {{IMS_VTD_PGTT_FS, 47}, {IMS_VTD_PGTT_SS, 46}, {IMS_VTD_PGTT_NESTED, 26}, {IMS_VTD_PGTT_PT, 6}};
    for (const auto &n : need) {
        auto pc = n.pgtt == IMS_VTD_PGTT_FS ? FsCfg() : SsCfg();
        pc.pgtt = n.pgtt;
        if (n.pgtt == IMS_VTD_PGTT_NESTED)
            pc.fsptptr = kFsRoot;
        if (n.pgtt == IMS_VTD_PGTT_PT) {
            pc.aw = 0;
            pc.ssptptr = 0;
        }
        SetPasid(0x0508, 0x45, pc);
        hw_.ecap = kEcap;
        EXPECT_EQ(Lookup(PasidReq(0x0508, 0x45)), IMS_VTD_FR_NONE) << n.pgtt;
        EXPECT_EQ(ctx_.pgtt, n.pgtt);
        hw_.ecap = kEcap & ~B(n.ecap_bit);
        uint8_t fr = Lookup(PasidReq(0x0508, 0x45));
        // Without FSTS/SSTS the FS/SS fields themselves are reserved (SPT.3) before PGTT is checked.
        EXPECT_TRUE(fr == IMS_VTD_FR_SPT_4 || fr == IMS_VTD_FR_SPT_3) << n.pgtt;
        if (n.pgtt == IMS_VTD_PGTT_NESTED || n.pgtt == IMS_VTD_PGTT_PT) {
            EXPECT_EQ(fr, IMS_VTD_FR_SPT_4) << n.pgtt;
        }
    }
}

TEST_F(VtdCtxLookup, ScalableAddressWidthCheckedForSecondStageOnly)
{
    Init(true);
    auto pc = SsCfg();
    pc.aw = 3;  // 57-bit not in SAGAW
    SmDevice(0x0508, 0x45, pc);
    ExpectFault(PasidReq(0x0508, 0x45), IMS_VTD_FR_SPT_4, true);
    auto fs = FsCfg();
    fs.aw = 0;  // ignored for first-stage only
    SetPasid(0x0508, 0x45, fs);
    ASSERT_EQ(Lookup(PasidReq(0x0508, 0x45)), IMS_VTD_FR_NONE);
    EXPECT_EQ(ctx_.fs_levels, 4u);
    EXPECT_EQ(ctx_.ss_levels, 0u);
    EXPECT_EQ(ctx_.fsptptr, kFsRoot);
    EXPECT_EQ(ctx_.did, 9);
}

TEST_F(VtdCtxLookup, ScalableFirstStagePagingMode)
{
    Init(true);
    auto pc = FsCfg();
    pc.fspm = IMS_VTD_FSPM_5LEVEL;
    SmDevice(0x0508, 0x45, pc);
    // vtd-facts §2.6: FSPM=01b needs CAP.FL5LP.
    ExpectFault(PasidReq(0x0508, 0x45), IMS_VTD_FR_SPT_4, true);
    hw_.cap = kCap | B(60);
    ASSERT_EQ(Lookup(PasidReq(0x0508, 0x45)), IMS_VTD_FR_NONE);
    EXPECT_EQ(ctx_.fs_levels, 5u);
    pc.fspm = 2;  // reserved encoding
    SetPasid(0x0508, 0x45, pc);
    ExpectFault(PasidReq(0x0508, 0x45), IMS_VTD_FR_SPT_4, true);
}

TEST_F(VtdCtxLookup, NestedFirstStageRootMustFitSecondStageWidth)
{
    Init(true);
    auto pc = FsCfg();
    pc.pgtt = IMS_VTD_PGTT_NESTED;
    pc.aw = 1;  // 39-bit second stage
    pc.ssptptr = kSsRoot;
    pc.fsptptr = B(39);
    SmDevice(0x0508, 0x45, pc);
    ExpectFault(PasidReq(0x0508, 0x45), IMS_VTD_FR_SPT_4, true);
    pc.fsptptr = B(39) - 0x1000;
    SetPasid(0x0508, 0x45, pc);
    ASSERT_EQ(Lookup(PasidReq(0x0508, 0x45)), IMS_VTD_FR_NONE);
    EXPECT_EQ(ctx_.ss_levels, 3u);
}

TEST_F(VtdCtxLookup, SupervisorRequestNeedsSre)
{
    Init(true);
    auto pc = FsCfg();
    pc.sre = false;
    SmDevice(0x0508, 0x45, pc);
    EXPECT_EQ(Lookup(PasidReq(0x0508, 0x45, false)), IMS_VTD_FR_NONE);
    // vtd-facts §3.5: SPT.6 = 0x5D.
    ExpectFault(PasidReq(0x0508, 0x45, true), IMS_VTD_FR_SPT_6, true);
    // The spec gates PR=1 on SRE whatever the PGTT.
    SetPasid(0x0508, 0x45, SsCfg());
    ExpectFault(PasidReq(0x0508, 0x45, true), IMS_VTD_FR_SPT_6, true);
    pc.sre = true;
    SetPasid(0x0508, 0x45, pc);
    ASSERT_EQ(Lookup(PasidReq(0x0508, 0x45, true)), IMS_VTD_FR_NONE);
    EXPECT_TRUE(ctx_.sre);
}

TEST_F(VtdCtxLookup, RidPrivGivesPrivilegeToRequestsWithoutPasid)
{
    Init(true);
    auto pc = FsCfg();
    pc.sre = false;
    SmDevice(0x0508, 0, pc);
    ims_vtd_req r = Req(0x0508);
    r.priv = true;  // ignored without PASID: the privilege comes from RID_PRIV
    EXPECT_EQ(Lookup(r), IMS_VTD_FR_NONE);
    auto cc = SmCfg();
    cc.rid_priv = true;
    SetSm(0x0508, cc);
    ExpectFault(Req(0x0508), IMS_VTD_FR_SPT_6, true);
}

TEST_F(VtdCtxLookup, ExecuteRequestWithoutErs)
{
    Init(true);
    SmDevice(0x0508, 0x45, FsCfg());
    ims_vtd_req r = PasidReq(0x0508, 0x45);
    r.exec = true;
    // ECAP.ERS=0: spec rev 5.10 Table 30 SPT.5 (0x5C) for version <= 7 hardware.
    ExpectFault(r, IMS_VTD_FR_SPT_5, true);
    ims_vtd_req nopasid = Req(0x0508);
    nopasid.exec = true;  // ER is treated as 0 for requests without PASID
    EXPECT_EQ(Lookup(nopasid), IMS_VTD_FR_SPD_2);  // PASID 0's directory entry not built
}

TEST_F(VtdCtxLookup, RidPasidSelectsTheEntryForRequestsWithoutPasid)
{
    Init(true);
    auto cc = SmCfg();
    cc.rid_pasid = 0x41;
    SmDevice(0x0508, 0x41, SsCfg(), cc);
    ASSERT_EQ(Lookup(Req(0x0508)), IMS_VTD_FR_NONE);
    EXPECT_EQ(ctx_.pasid, 0x41u);
    ASSERT_EQ(log_.n, 4u);
    ExpectAccess(2, DirPa(0x0508, 0x41), IMS_VTD_ACC_PASID_DIR, 8);
    ExpectAccess(3, PasidPa(0x0508, 0x41), IMS_VTD_ACC_PASID_ENTRY, 64);
    EXPECT_EQ(PasidPa(0x0508, 0x41) & 0xFFF, 1u * 64);
}

TEST_F(VtdCtxLookup, WithoutRpsRequestsWithoutPasidUsePasidZero)
{
    Init(true);
    hw_.ecap = kEcap & ~B(49);
    SmDevice(0x0508, 0, SsCfg());
    SetPasid(0x0508, 0x41, SsCfg());
    ASSERT_EQ(Lookup(Req(0x0508)), IMS_VTD_FR_NONE);
    EXPECT_EQ(ctx_.pasid, 0u);
    ExpectAccess(3, PasidPa(0x0508, 0), IMS_VTD_ACC_PASID_ENTRY, 64);
}

TEST_F(VtdCtxLookup, FpdIsTheOrAlongThePath)
{
    Init(true);
    SmDevice(0x0508, 0x45, SsCfg());
    ASSERT_EQ(ims_vtd_ctxb_set_pasid_dir_fpd(&b_, 0x0508, 0x45, true, nullptr), 0);
    // Directory FPD only, fault in the PASID entry: suppressed (qualified + fpd).
    ExpectFault(PasidReq(0x0508, 0x46), IMS_VTD_FR_SPT_2, true);
    EXPECT_TRUE(ctx_.fpd);
    // A successful lookup reports the FPD seen too (for faults in later walks).
    ASSERT_EQ(Lookup(PasidReq(0x0508, 0x45)), IMS_VTD_FR_NONE);
    EXPECT_TRUE(ctx_.fpd);
    ASSERT_EQ(ims_vtd_ctxb_set_pasid_dir_fpd(&b_, 0x0508, 0x45, false, nullptr), 0);
    auto pc = SsCfg();
    pc.fpd = true;
    SetPasid(0x0508, 0x45, pc);
    ASSERT_EQ(Lookup(PasidReq(0x0508, 0x45)), IMS_VTD_FR_NONE);
    EXPECT_TRUE(ctx_.fpd);
    SetPasid(0x0508, 0x45, SsCfg());
    ASSERT_EQ(Lookup(PasidReq(0x0508, 0x45)), IMS_VTD_FR_NONE);
    EXPECT_FALSE(ctx_.fpd);
}

TEST_F(VtdCtxLookup, NullLogAndQualifiedPointersAreAccepted)
{
    Init(false);
    SetLegacy(0x0310, LegacyCfg());
    ims_vtd_req r = Req(0x0310);
    EXPECT_EQ(ims_vtd_lookup_ctx(&hw_, &r, &ctx_, nullptr, nullptr), IMS_VTD_FR_NONE);
    EXPECT_EQ(ctx_.did, 42);
}

TEST_F(VtdCtxLookup, AccessLogSaturatesButKeepsCounting)
{
    ims_vtd_access_log log{};
    for (unsigned i = 0; i < IMS_VTD_MAX_ACCESSES + 4; i++)
        ims_vtd_log_access(&log, 0x1000 + 8 * i, IMS_VTD_ACC_SS_PTE, 1, 8, 0);
    ims_vtd_log_access(&log, 0x9000, IMS_VTD_ACC_FS_AD_WRITE, 1, 8, 0);
    EXPECT_EQ(log.n, unsigned(IMS_VTD_MAX_ACCESSES));
    EXPECT_EQ(log.reads, IMS_VTD_MAX_ACCESSES + 4u);
    EXPECT_EQ(log.writes, 1u);
    EXPECT_EQ(log.a[IMS_VTD_MAX_ACCESSES - 1].pa, 0x1000u + 8 * (IMS_VTD_MAX_ACCESSES - 1));
    EXPECT_EQ(log.a[0].level, 1u);
    ims_vtd_log_access(nullptr, 0, IMS_VTD_ACC_ROOT, 0, 16, 0);  // no-op
}

}  // namespace
