// ims_vtd_translate end to end: root/context/PASID tables from ctx_builder,
// page tables from pt_builder, every PGTT.
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

namespace {

// CAP: ND=2, SAGAW 39/48/57, MGAW 56, SLLPS 2M+1G, FL1GP, FL5LP.
constexpr uint64_t kCap = 2ULL | (7ULL << 9) | (56ULL << 16) | (3ULL << 34) | (1ULL << 56) | (1ULL << 60);
// ECAP: DT, PT, NEST, ERS, SRS, EAFS, PSS=19, PASID, SMTS, SLADS, SSTS, FSTS.
constexpr uint64_t kEcap = (1ULL << 2) | (1ULL << 6) | (1ULL << 26) | (1ULL << 30) | (1ULL << 31) | (1ULL << 34) |
                           (19ULL << 35) | (1ULL << 40) | (1ULL << 43) | (1ULL << 45) | (1ULL << 46) | (1ULL << 47);

constexpr uint64_t kHostTables = 0x1000'0000ULL;
constexpr uint64_t kGuestBase = 1ULL << 39;
constexpr uint64_t kGuestTables = 0x10'0000ULL;
constexpr uint16_t kSid = 0x0310; // bus 3, dev 2, fn 0
constexpr uint32_t kPasid = 7;

enum Mode { LEGACY_SS, SM_SS, SM_FS, SM_NESTED, LEGACY_PT, SM_PT };

struct Sys {
    ims_physmem *mem = ims_physmem_create();
    ims_pa_alloc host{}, guest{};
    ims_vtd_hw hw{};
    ims_vtd_ctx_builder cb{};
    ims_pt_builder ss{}, fs{};
    Mode mode;
    unsigned fs_levels = 4, ss_levels = 4;

    Sys(Mode md, unsigned fs_lv = 4, unsigned ss_lv = 4, uint64_t cap = kCap, uint64_t ecap = kEcap)
        : mode(md), fs_levels(fs_lv), ss_levels(ss_lv)
    {
        ims_pa_alloc_init(&host, mem, kHostTables, kHostTables + (256ULL << 20));
        ims_pa_alloc_init(&guest, mem, kGuestBase + kGuestTables, kGuestBase + kGuestTables + (16ULL << 20));
        hw.mem = mem;
        hw.cap = cap;
        hw.ecap = ecap;
        hw.te = true;
        bool scalable = md != LEGACY_SS && md != LEGACY_PT;
        ims_error err{};
        EXPECT_EQ(ims_vtd_ctxb_init(&cb, &host, scalable, &err), 0) << err.msg;
        hw.rtaddr = ims_vtd_ctxb_rtaddr(&cb);
        if (md == LEGACY_SS || md == SM_SS || md == SM_NESTED) {
            EXPECT_EQ(ims_pt_builder_init(&ss, mem, &host, IMS_PT_FORMAT_SS, ss_levels, 0, &err), 0);
        }
        if (md == SM_FS) {
            EXPECT_EQ(ims_pt_builder_init(&fs, mem, &host, IMS_PT_FORMAT_FS, fs_levels, 0, &err), 0);
        }
        if (md == SM_NESTED) {
            EXPECT_EQ(ims_pt_builder_init(&fs, mem, &guest, IMS_PT_FORMAT_FS, fs_levels, kGuestBase, &err), 0);
            // Guest RAM [0, 64 MiB) -> HPA kGuestBase, 2 MiB pages (holds the FS tables).
            EXPECT_EQ(ims_pt_map(&ss, 0, kGuestBase, 64ULL << 20, 2ULL << 20, IMS_PT_RW, &err), 0) << err.msg;
        }
        program();
    }
    ~Sys() { ims_physmem_destroy(mem); }

    ims_vtd_pasid_cfg pasid_cfg() const
    {
        ims_vtd_pasid_cfg pc{};
        pc.did = 5;
        pc.sre = true;
        switch (mode) {
        case SM_SS: pc.pgtt = IMS_VTD_PGTT_SS; break;
        case SM_FS: pc.pgtt = IMS_VTD_PGTT_FS; break;
        case SM_NESTED: pc.pgtt = IMS_VTD_PGTT_NESTED; break;
        default: pc.pgtt = IMS_VTD_PGTT_PT; break;
        }
        if (pc.pgtt == IMS_VTD_PGTT_SS || pc.pgtt == IMS_VTD_PGTT_NESTED) {
            pc.aw = ss_levels - 2;
            pc.ssptptr = ss.root;
        }
        if (pc.pgtt == IMS_VTD_PGTT_FS || pc.pgtt == IMS_VTD_PGTT_NESTED) {
            pc.fspm = fs_levels == 5 ? IMS_VTD_FSPM_5LEVEL : IMS_VTD_FSPM_4LEVEL;
            pc.fsptptr = fs.root;
        }
        return pc;
    }
    void program(bool fpd = false, const ims_vtd_pasid_cfg *override_cfg = nullptr, bool dte = true)
    {
        ims_error err{};
        if (mode == LEGACY_SS || mode == LEGACY_PT) {
            ims_vtd_legacy_ctx_cfg c{};
            c.tt = mode == LEGACY_PT ? IMS_VTD_TT_PT : (dte ? IMS_VTD_TT_DEVTLB : IMS_VTD_TT_SS);
            c.aw = mode == LEGACY_PT ? 3 : ss_levels - 2;
            c.ssptptr = ss.root;
            c.did = 3;
            c.fpd = fpd;
            ASSERT_EQ(ims_vtd_ctxb_set_legacy_ctx(&cb, kSid, &c, &err), 0) << err.msg;
            return;
        }
        ims_vtd_sm_ctx_cfg c{};
        c.dte = dte;
        c.paside = true;
        ASSERT_EQ(ims_vtd_ctxb_set_sm_ctx(&cb, kSid, &c, &err), 0) << err.msg;
        ims_vtd_pasid_cfg pc = override_cfg ? *override_cfg : pasid_cfg();
        pc.fpd = fpd;
        ASSERT_EQ(ims_vtd_ctxb_set_pasid(&cb, kSid, kPasid, &pc, &err), 0) << err.msg;
    }
    bool scalable() const { return mode != LEGACY_SS && mode != LEGACY_PT; }

    // Map iova -> pa: directly (SS, FS) or GVA -> GPA -> HPA (nested, GPA = pa - 4 GiB region).
    void map(uint64_t iova, uint64_t pa, uint64_t size, bool writable)
    {
        ims_error err{};
        if (mode == LEGACY_SS || mode == SM_SS) {
            ASSERT_EQ(ims_pt_map(&ss, iova, pa, size, size, writable ? IMS_PT_RW : IMS_PT_R, &err), 0) << err.msg;
        } else if (mode == SM_FS) {
            ASSERT_EQ(ims_pt_map(&fs, iova, pa, size, size, IMS_PT_U | (writable ? IMS_PT_W : 0), &err), 0)
                << err.msg;
        } else if (mode == SM_NESTED) {
            uint64_t gpa = (8ULL << 30) + (pa & ((1ULL << 33) - 1)); // a GPA with the same alignment
            ASSERT_EQ(ims_pt_map(&fs, iova, gpa, size, size, IMS_PT_U | IMS_PT_W, &err), 0) << err.msg;
            ASSERT_EQ(ims_pt_map(&ss, gpa, pa, size, size, writable ? IMS_PT_RW : IMS_PT_R, &err), 0) << err.msg;
        }
    }
    ims_vtd_req req(uint64_t addr, bool write) const
    {
        ims_vtd_req r{};
        r.sid = kSid;
        r.has_pasid = scalable();
        r.pasid = kPasid;
        r.addr = addr;
        r.read = !write;
        r.write = write;
        return r;
    }
    ims_vtd_result xlate(const ims_vtd_req &r, unsigned flags = 0, ims_vtd_access_log *log = nullptr)
    {
        ims_vtd_result res;
        ims_vtd_translate(&hw, &r, flags, &res, log);
        return res;
    }
};

// ---- mode x levels x page size x permission x access -----------------------------------------

using Combo = std::tuple<Mode, unsigned /*levels: SS for SS modes, FS for FS/nested*/, unsigned /*leaf*/,
                         bool /*writable*/, bool /*write access*/>;

class VtdTranslateMatrix : public ::testing::TestWithParam<Combo> {};

TEST_P(VtdTranslateMatrix, TranslatesOrFaults)
{
    auto [mode, levels, leaf, writable, write] = GetParam();
    bool fs_mode = mode == SM_FS || mode == SM_NESTED;
    Sys sys(mode, fs_mode ? levels : 4, fs_mode ? 4 : levels);
    uint64_t size = ims_pt_level_size(leaf);
    uint64_t iova = (0x2AULL << 30) + 3 * size;
    uint64_t pa = (0x100ULL << 30) + 9 * size;
    sys.map(iova, pa, size, writable);
    ims_vtd_access_log log{};
    ims_vtd_result res = sys.xlate(sys.req(iova + size / 2 + 8, write), 0, &log);
    ASSERT_TRUE(res.ctx_valid);
    EXPECT_FALSE(res.untranslated);
    if (write && !writable) {
        // vtd-facts §3.5: write not permitted, LGN.2 (0x05) / SGN.6 (0x85).
        EXPECT_EQ(res.fault, sys.scalable() ? 0x85 : 0x05);
        EXPECT_TRUE(res.fault_qualified);
        EXPECT_FALSE(res.fault_suppressed);
        EXPECT_EQ(log.writes, 0u);
        return;
    }
    ASSERT_EQ(res.fault, 0) << ims_vtd_fault_id(res.fault);
    EXPECT_EQ(res.pa, pa + size / 2 + 8);
    EXPECT_EQ(res.page_size, size);
    EXPECT_TRUE(res.r);
    EXPECT_EQ(res.w, writable);
    // Reads: root + context (+ PASID dir + PASID entry) + the walk.
    unsigned ctx_reads = sys.scalable() ? 4 : 2;
    // Nested: each FS entry read needs an SS walk of its table (2 MiB SS pages: 3 reads), then the final
    // GPA's SS walk, whose leaf has the same size as the FS leaf.
    unsigned walk = mode == SM_NESTED ? (levels - leaf + 1) * (1 + 3) + (4 - leaf + 1) : levels - leaf + 1;
    EXPECT_EQ(log.reads, ctx_reads + walk);
    // FS modes set A on every entry (and D on the leaf for writes).
    EXPECT_EQ(log.writes, fs_mode ? levels - leaf + 1 : 0u);
}

INSTANTIATE_TEST_SUITE_P(VtdTranslateSs, VtdTranslateMatrix,
                         ::testing::Combine(::testing::Values(LEGACY_SS, SM_SS), ::testing::Values(3u, 4u, 5u),
                                            ::testing::Values(1u, 2u, 3u), ::testing::Bool(), ::testing::Bool()));
INSTANTIATE_TEST_SUITE_P(VtdTranslateFs, VtdTranslateMatrix,
                         ::testing::Combine(::testing::Values(SM_FS, SM_NESTED), ::testing::Values(4u, 5u),
                                            ::testing::Values(1u, 2u, 3u), ::testing::Bool(), ::testing::Bool()));

// ---- TE, pass-through, translated requests --------------------------------------------------------

TEST(VtdTranslate, TranslationDisabledPassesThrough)
{
    Sys sys(SM_SS);
    sys.hw.te = false;
    ims_vtd_access_log log{};
    ims_vtd_result res = sys.xlate(sys.req(0xFEE0'0000ULL, true), 0, &log);
    EXPECT_EQ(res.fault, 0);
    EXPECT_TRUE(res.untranslated);
    EXPECT_EQ(res.pa, 0xFEE0'0000ULL);
    EXPECT_FALSE(res.ctx_valid);
    EXPECT_EQ(log.reads, 0u);
}

TEST(VtdTranslate, PassThroughModes)
{
    for (Mode m : {LEGACY_PT, SM_PT}) {
        Sys sys(m);
        ims_vtd_access_log log{};
        ims_vtd_result res = sys.xlate(sys.req(0x1234'5678ULL, true), 0, &log);
        ASSERT_EQ(res.fault, 0);
        EXPECT_EQ(res.pa, 0x1234'5678ULL);
        EXPECT_TRUE(res.r && res.w);
        EXPECT_FALSE(res.untranslated);
        EXPECT_EQ(res.ctx.pgtt, IMS_VTD_PGTT_PT);
        EXPECT_EQ(log.reads, m == SM_PT ? 4u : 2u);
    }
}

TEST(VtdTranslate, ScalablePassThroughWithPasidToInterruptRangeIsBlocked)
{
    // vtd-facts §3.4: pass-through requests with PASID that target 0xFEEx_xxxx are blocked (SGN.8, 0x87).
    Sys sys(SM_PT);
    EXPECT_EQ(sys.xlate(sys.req(0xFEE0'1000ULL, true)).fault, 0x87);
    EXPECT_EQ(sys.xlate(sys.req(0xFEEF'FFFFULL, false)).fault, 0x87);
    EXPECT_EQ(sys.xlate(sys.req(0xFED0'0000ULL, false)).fault, 0);
    EXPECT_EQ(sys.xlate(sys.req(0xFF00'0000ULL, false)).fault, 0);
}

TEST(VtdTranslate, OutputInInterruptRangeIsBlocked)
{
    // vtd-facts §3.4: a result in 0xFEE00000-0xFEEFFFFF is blocked with LGN.4 (0x0E) / SGN.8 (0x87).
    for (Mode m : {LEGACY_SS, SM_SS, SM_FS, SM_NESTED}) {
        Sys sys(m);
        sys.map(0x10'0000, 0xFEE0'0000ULL, 4096, true);
        sys.map(0x20'0000, 0xFEF0'0000ULL, 4096, true);
        ims_vtd_access_log log{};
        ims_vtd_result res = sys.xlate(sys.req(0x10'0010, true), 0, &log);
        EXPECT_EQ(res.fault, sys.scalable() ? 0x87 : 0x0E) << m;
        EXPECT_EQ(log.writes, 0u) << "a blocked request updates no A/D";
        EXPECT_EQ(sys.xlate(sys.req(0x20'0010, true)).fault, 0) << m;
    }
    // A large page overlapping the range is blocked wherever it is accessed (decision: whole page).
    Sys sys(SM_SS);
    sys.map(0, 0xC000'0000ULL, 1ULL << 30, true);
    EXPECT_EQ(sys.xlate(sys.req(0x10, false)).fault, 0x87);
}

TEST(VtdTranslate, TranslatedRequestsPassWithDeviceTlb)
{
    Sys sys(SM_SS);
    ims_vtd_req r = sys.req(0xABCD'E000ULL, true);
    r.type = IMS_VTD_REQ_TRANSLATED;
    ims_vtd_result res = sys.xlate(r);
    ASSERT_EQ(res.fault, 0);
    EXPECT_EQ(res.pa, 0xABCD'E000ULL);
    sys.program(false, nullptr, false); // DTE=0
    EXPECT_EQ(sys.xlate(r).fault, IMS_VTD_FR_SCT_5);
}

TEST(VtdTranslate, AtsTranslationRequestReportsPermissionsInsteadOfFaulting)
{
    Sys sys(SM_FS);
    sys.map(0x5000, 0x7000'0000ULL, 4096, false);
    ims_vtd_req r = sys.req(0x5000, true);
    r.type = IMS_VTD_REQ_TRANSLATION;
    ims_vtd_access_log log{};
    ims_vtd_result res = sys.xlate(r, 0, &log);
    ASSERT_EQ(res.fault, 0);
    EXPECT_TRUE(res.r);
    EXPECT_FALSE(res.w);
    EXPECT_EQ(res.pa, 0x7000'0000ULL);
    uint64_t hpa = 0;
    ASSERT_EQ(ims_pt_entry_hpa(&sys.fs, 0x5000, 1, &hpa), 0);
    EXPECT_TRUE(ims_fs_pte_a(ims_physmem_r64(sys.mem, hpa)));
    EXPECT_FALSE(ims_fs_pte_d(ims_physmem_r64(sys.mem, hpa))) << "write not granted: no D";
    // Supervisor-only page: a user translation request gets R=W=0, no fault.
    sys.map(0x6000, 0x7000'1000ULL, 4096, true);
    ASSERT_EQ(ims_pt_entry_hpa(&sys.fs, 0x6000, 1, &hpa), 0);
    ims_physmem_w64(sys.mem, hpa, ims_physmem_r64(sys.mem, hpa) & ~IMS_FS_PTE_US);
    r.addr = 0x6000;
    res = sys.xlate(r);
    EXPECT_EQ(res.fault, 0);
    EXPECT_FALSE(res.r || res.w);
    EXPECT_FALSE(ims_fs_pte_a(ims_physmem_r64(sys.mem, hpa))) << "a translation granting nothing sets no A";
    // Walk faults are still reported.
    r.addr = 0x9000;
    EXPECT_EQ(sys.xlate(r).fault, IMS_VTD_FR_SFS_2);
}

// ---- permission faults ------------------------------------------------------------------------------

TEST(VtdTranslate, ReadNotPermitted)
{
    // vtd-facts §3.5: LGN.3 (0x06) / SGN.7 (0x86) for a read of a write-only SS page.
    for (Mode m : {LEGACY_SS, SM_SS}) {
        Sys sys(m);
        ims_error err{};
        ASSERT_EQ(ims_pt_map(&sys.ss, 0x1000, 0x9000'0000ULL, 4096, 4096, IMS_PT_W, &err), 0);
        EXPECT_EQ(sys.xlate(sys.req(0x1000, false)).fault, m == SM_SS ? 0x86 : 0x06);
        EXPECT_EQ(sys.xlate(sys.req(0x1000, true)).fault, 0);
    }
}

TEST(VtdTranslate, UserRequestToSupervisorPageIsSgn2)
{
    // vtd-facts §2.7: U/S=0 at any level denies a user request, SGN.2 (0x81).
    Sys sys(SM_FS);
    sys.map(0x1000, 0x9000'0000ULL, 4096, true);
    uint64_t hpa = 0;
    ASSERT_EQ(ims_pt_entry_hpa(&sys.fs, 0x1000, 3, &hpa), 0);
    ims_physmem_w64(sys.mem, hpa, ims_physmem_r64(sys.mem, hpa) & ~IMS_FS_PTE_US);
    EXPECT_EQ(sys.xlate(sys.req(0x1000, false)).fault, 0x81);
    ims_vtd_req r = sys.req(0x1000, true);
    r.priv = true;
    EXPECT_EQ(sys.xlate(r).fault, 0);
}

TEST(VtdTranslate, RequestWithoutPasidTakesPrivilegeFromRidPriv)
{
    // Spec rev 5.10 §9.4 (SM context entry bit 84, RID_PRIV; ECAP.RPRIVS is bit 53): a request without
    // PASID is handled as if it had PASID RID_PASID (0 without ECAP.RPS) and PrivilegeModeRequested =
    // RID_PRIV. The request's own priv flag is meaningless without a PASID prefix and is ignored.
    constexpr uint64_t kRprivs = 1ULL << 53;
    Sys sys(SM_FS, 4, 4, kCap, kEcap | kRprivs);
    sys.map(0x3000, 0x9000'3000ULL, 4096, true);
    uint64_t hpa = 0;
    ASSERT_EQ(ims_pt_entry_hpa(&sys.fs, 0x3000, 1, &hpa), 0);
    ims_physmem_w64(sys.mem, hpa, ims_physmem_r64(sys.mem, hpa) & ~IMS_FS_PTE_US); // supervisor-only page

    ims_error err{};
    auto program_rid = [&](bool rid_priv, bool sre) {
        ims_vtd_sm_ctx_cfg c{};
        c.dte = true;
        c.paside = true;
        c.rid_priv = rid_priv;
        ASSERT_EQ(ims_vtd_ctxb_set_sm_ctx(&sys.cb, kSid, &c, &err), 0) << err.msg;
        ims_vtd_pasid_cfg pc = sys.pasid_cfg();
        pc.sre = sre;
        ASSERT_EQ(ims_vtd_ctxb_set_pasid(&sys.cb, kSid, 0, &pc, &err), 0) << err.msg; // RID_PASID = 0
    };
    ims_vtd_req r = sys.req(0x3000, false);
    r.has_pasid = false;
    r.pasid = 0;

    // RID_PRIV=1: a supervisor request, so U/S=0 does not deny it.
    program_rid(true, true);
    r.priv = false;
    ims_vtd_result res = sys.xlate(r);
    ASSERT_EQ(res.fault, 0) << ims_vtd_fault_id(res.fault);
    EXPECT_EQ(res.pa, 0x9000'3000ULL);
    EXPECT_TRUE(res.r && res.w);
    ASSERT_TRUE(res.ctx_valid);
    EXPECT_TRUE(res.ctx.rid_priv);
    EXPECT_EQ(res.ctx.pasid, 0u);

    // RID_PRIV=0: a user request meets U/S=0, SGN.2 (0x81), even with the request's priv flag set.
    program_rid(false, true);
    for (bool req_priv : {false, true}) {
        r.priv = req_priv;
        res = sys.xlate(r);
        EXPECT_EQ(res.fault, 0x81) << "req.priv=" << req_priv;
        EXPECT_FALSE(res.ctx.rid_priv);
    }

    // RID_PRIV=1 with SRE=0 in the PASID entry: supervisor requests are blocked, SPT.6 (0x5D).
    program_rid(true, false);
    r.priv = false;
    res = sys.xlate(r);
    EXPECT_EQ(res.fault, 0x5D) << ims_vtd_fault_id(res.fault);
    EXPECT_TRUE(res.fault_qualified);
    // ... while a request with PASID takes its own (user) privilege from the request and is unaffected.
    ims_vtd_req with_pasid = sys.req(0x3000, false);
    with_pasid.priv = false;
    EXPECT_EQ(sys.xlate(with_pasid).fault, 0x81);
}

TEST(VtdTranslate, ExecuteNotPermittedIsSgn3)
{
    // vtd-facts §2.8: SS X honoured with SSEE and ECAP.ERS; execute denied gives SGN.3 (0x82).
    Sys sys(SM_SS);
    ims_error err{};
    ASSERT_EQ(ims_pt_map(&sys.ss, 0x1000, 0x9000'0000ULL, 4096, 4096, IMS_PT_R, &err), 0);
    ASSERT_EQ(ims_pt_map(&sys.ss, 0x2000, 0x9000'1000ULL, 4096, 4096, IMS_PT_R | IMS_PT_X, &err), 0);
    ims_vtd_pasid_cfg pc = sys.pasid_cfg();
    pc.ssee = true;
    pc.ere = true;
    sys.program(false, &pc);
    ims_vtd_req r = sys.req(0x1000, false);
    r.exec = true;
    ims_vtd_result res = sys.xlate(r);
    EXPECT_EQ(res.fault, 0x82);
    r.addr = 0x2000;
    res = sys.xlate(r);
    EXPECT_EQ(res.fault, 0);
    EXPECT_TRUE(res.x);
}

TEST(VtdTranslate, AddressBeyondWidth)
{
    Sys legacy(LEGACY_SS, 4, 3);
    EXPECT_EQ(legacy.xlate(legacy.req(1ULL << 39, false)).fault, 0x04);
    Sys sm(SM_SS, 4, 3);
    EXPECT_EQ(sm.xlate(sm.req(1ULL << 39, false)).fault, 0x83);
}

// ---- fault processing disable ----------------------------------------------------------------------

TEST(VtdTranslate, FpdSuppressesQualifiedWalkFaults)
{
    // vtd-facts §1.9: qualified faults are not recorded when FPD is set on the path.
    for (bool fpd : {false, true}) {
        Sys sys(SM_SS);
        sys.program(fpd);
        ims_vtd_result res = sys.xlate(sys.req(0x4000, false));
        EXPECT_EQ(res.fault, IMS_VTD_FR_SSS_2);
        EXPECT_TRUE(res.fault_qualified);
        EXPECT_EQ(res.fault_suppressed, fpd);
        EXPECT_TRUE(res.ctx_valid);
        EXPECT_EQ(res.ctx.fpd, fpd);
    }
    Sys legacy(LEGACY_SS);
    legacy.program(true);
    ims_vtd_result res = legacy.xlate(legacy.req(0x4000, true));
    EXPECT_EQ(res.fault, IMS_VTD_FR_LGN_2);
    EXPECT_TRUE(res.fault_suppressed);
}

TEST(VtdTranslate, LookupFaultsPassThrough)
{
    Sys sys(SM_SS);
    ims_vtd_req r = sys.req(0x1000, false);
    r.sid = 0x0910; // no context on bus 9
    ims_vtd_result res = sys.xlate(r);
    EXPECT_EQ(res.fault, IMS_VTD_FR_SRT_2);
    EXPECT_FALSE(res.ctx_valid);
    EXPECT_FALSE(res.fault_qualified); // root-entry faults are never suppressed
}

// ---- A/D end to end -------------------------------------------------------------------------------

TEST(VtdTranslate, SecondStageDirtyTrackingAndProbe)
{
    Sys sys(SM_SS);
    ims_vtd_pasid_cfg pc = sys.pasid_cfg();
    pc.ssade = true;
    sys.program(false, &pc);
    sys.map(0x8000, 0x9000'0000ULL, 4096, true);
    uint64_t leaf_hpa = 0;
    ASSERT_EQ(ims_pt_entry_hpa(&sys.ss, 0x8000, 1, &leaf_hpa), 0);
    ims_vtd_access_log log{};
    ASSERT_EQ(sys.xlate(sys.req(0x8000, true), IMS_VTD_WALK_NO_AD, &log).fault, 0);
    EXPECT_EQ(log.writes, 0u);
    EXPECT_FALSE(ims_ss_pte_a(ims_physmem_r64(sys.mem, leaf_hpa)));
    ims_vtd_access_log log2{};
    ASSERT_EQ(sys.xlate(sys.req(0x8000, true), 0, &log2).fault, 0);
    EXPECT_EQ(log2.writes, 4u);
    uint64_t leaf = ims_physmem_r64(sys.mem, leaf_hpa);
    EXPECT_TRUE(ims_ss_pte_a(leaf) && ims_ss_pte_d(leaf));
    EXPECT_EQ(log2.a[log2.n - 1].kind, IMS_VTD_ACC_SS_AD_WRITE);
    EXPECT_EQ(log2.a[log2.n - 1].pa, leaf_hpa);
}

TEST(VtdTranslate, NestedFaultsEndToEnd)
{
    Sys sys(SM_NESTED);
    sys.map(0x1000, 0x9000'0000ULL, 4096, true);
    // Remove the SS mapping of the guest's FS root: SFS.6.
    ims_error err{};
    uint64_t root_gpa = sys.fs.root;
    ASSERT_GT(ims_pt_unmap(&sys.ss, root_gpa & ~((2ULL << 20) - 1), 2ULL << 20, &err), 0);
    ims_vtd_result res = sys.xlate(sys.req(0x1000, false));
    EXPECT_EQ(res.fault, IMS_VTD_FR_SFS_6);
    EXPECT_TRUE(res.fault_qualified);
}

} // namespace
