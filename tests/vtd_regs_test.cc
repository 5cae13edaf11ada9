// VT-d register file: field layout (vtd-facts §1), architected MMIO behaviour,
// presets and configuration keys.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "models/vtd/regfile.h"
#include "models/vtd/regs.h"
#include "models/vtd/vtd_config.h"

namespace {

constexpr uint64_t kBdwCap = 0x8d2078c106f0466ull;  // calibration.md, Broadwell-EP
constexpr uint64_t kBdwEcap = 0xf020dfull;

struct Hooks {
    std::vector<uint64_t> srtp, doorbell, ccmd, iva, iotlb;
    std::vector<bool> te;
    int wbf = 0;
    struct Msi { uint64_t addr; uint32_t data; };
    std::vector<Msi> msi;

    ims_vtd_reg_hooks make()
    {
        ims_vtd_reg_hooks h{};
        h.ctx = this;
        h.on_srtp = [](void *c, uint64_t v) { static_cast<Hooks *>(c)->srtp.push_back(v); };
        h.on_te_change = [](void *c, bool e) { static_cast<Hooks *>(c)->te.push_back(e); };
        h.on_doorbell = [](void *c, uint64_t v) { static_cast<Hooks *>(c)->doorbell.push_back(v); };
        h.on_ccmd = [](void *c, uint64_t v) { static_cast<Hooks *>(c)->ccmd.push_back(v); };
        h.on_iotlb_reg = [](void *c, uint64_t a, uint64_t b) {
            static_cast<Hooks *>(c)->iva.push_back(a);
            static_cast<Hooks *>(c)->iotlb.push_back(b);
        };
        h.on_wbf = [](void *c) { static_cast<Hooks *>(c)->wbf++; };
        h.msi = [](void *c, uint64_t a, uint32_t d) { static_cast<Hooks *>(c)->msi.push_back({a, d}); };
        return h;
    }
};

class VtdRegsUnit : public ::testing::Test {
protected:
    void make(uint64_t cap = IMS_VTD_DEFAULT_CAP, uint64_t ecap = IMS_VTD_DEFAULT_ECAP, uint32_t ver = 0x60)
    {
        if (rf) ims_vtd_regfile_destroy(rf);
        ims_vtd_reg_hooks h = hooks.make();
        ASSERT_EQ(ims_vtd_regfile_create(cap, ecap, ver, &h, &rf, &err), 0) << err.msg;
    }
    void SetUp() override { make(); }
    void TearDown() override { ims_vtd_regfile_destroy(rf); }
    uint64_t rd(uint64_t off, unsigned size = 8)
    {
        uint64_t v = ~0ull;
        EXPECT_GE(ims_vtd_mmio_read(rf, off, size, &v), 0);
        return v;
    }
    int wr(uint64_t off, uint64_t v, unsigned size = 8) { return ims_vtd_mmio_write(rf, off, size, v); }
    uint32_t gsts() { return (uint32_t)rd(IMS_VTD_REG_GSTS, 4); }
    uint32_t fsts() { return (uint32_t)rd(IMS_VTD_REG_FSTS, 4); }
    // Issue one GCMD command the way drivers do: current enables | the new bit.
    int gcmd(uint32_t bit, bool set = true)
    {
        uint32_t keep = gsts() & 0x96800000u;  // TES, AFLS, QIES, IRES, CFIS
        return wr(IMS_VTD_REG_GCMD, set ? (keep | bit) : (keep & ~bit), 4);
    }
    Hooks hooks;
    ims_vtd_regfile *rf = nullptr;
    ims_error err{};
};

// ---- field layout -----------------------------------------------------------

struct FieldCase {
    const char *name;
    uint64_t (*get)(uint64_t);
    unsigned lo, width;
    bool addr;  // accessor returns the address in place
};

#define U(fn) [](uint64_t v) -> uint64_t { return fn(v); }

// Positions written from the fact sheet, independently of regs.h.
const FieldCase kFields[] = {
    // §1.1 VER
    {"VER.MIN", U(ims_vtd_ver_min), 0, 4, false}, {"VER.MAX", U(ims_vtd_ver_max), 4, 4, false},
    // §1.2 CAP
    {"CAP.ND", U(ims_vtd_cap_nd), 0, 3, false}, {"CAP.AFL", U(ims_vtd_cap_afl), 3, 1, false},
    {"CAP.RWBF", U(ims_vtd_cap_rwbf), 4, 1, false}, {"CAP.PLMR", U(ims_vtd_cap_plmr), 5, 1, false},
    {"CAP.PHMR", U(ims_vtd_cap_phmr), 6, 1, false}, {"CAP.CM", U(ims_vtd_cap_cm), 7, 1, false},
    {"CAP.SAGAW", U(ims_vtd_cap_sagaw), 8, 5, false}, {"CAP.MGAW", U(ims_vtd_cap_mgaw), 16, 6, false},
    {"CAP.ZLR", U(ims_vtd_cap_zlr), 22, 1, false}, {"CAP.FRO", U(ims_vtd_cap_fro), 24, 10, false},
    {"CAP.SSLPS", U(ims_vtd_cap_sslps), 34, 4, false}, {"CAP.PSI", U(ims_vtd_cap_psi), 39, 1, false},
    {"CAP.NFR", U(ims_vtd_cap_nfr), 40, 8, false}, {"CAP.MAMV", U(ims_vtd_cap_mamv), 48, 6, false},
    {"CAP.DWD", U(ims_vtd_cap_dwd), 54, 1, false}, {"CAP.DRD", U(ims_vtd_cap_drd), 55, 1, false},
    {"CAP.FS1GP", U(ims_vtd_cap_fs1gp), 56, 1, false}, {"CAP.PI", U(ims_vtd_cap_pi), 59, 1, false},
    {"CAP.FS5LP", U(ims_vtd_cap_fs5lp), 60, 1, false}, {"CAP.ECMDS", U(ims_vtd_cap_ecmds), 61, 1, false},
    {"CAP.ESIRTPS", U(ims_vtd_cap_esirtps), 62, 1, false}, {"CAP.ESRTPS", U(ims_vtd_cap_esrtps), 63, 1, false},
    // §1.3 ECAP
    {"ECAP.C", U(ims_vtd_ecap_c), 0, 1, false}, {"ECAP.QI", U(ims_vtd_ecap_qi), 1, 1, false},
    {"ECAP.DT", U(ims_vtd_ecap_dt), 2, 1, false}, {"ECAP.IR", U(ims_vtd_ecap_ir), 3, 1, false},
    {"ECAP.EIM", U(ims_vtd_ecap_eim), 4, 1, false}, {"ECAP.PT", U(ims_vtd_ecap_pt), 6, 1, false},
    {"ECAP.SC", U(ims_vtd_ecap_sc), 7, 1, false}, {"ECAP.IRO", U(ims_vtd_ecap_iro), 8, 10, false},
    {"ECAP.MHMV", U(ims_vtd_ecap_mhmv), 20, 4, false}, {"ECAP.MTS", U(ims_vtd_ecap_mts), 25, 1, false},
    {"ECAP.NEST", U(ims_vtd_ecap_nest), 26, 1, false}, {"ECAP.PRS", U(ims_vtd_ecap_prs), 29, 1, false},
    {"ECAP.ERS", U(ims_vtd_ecap_ers), 30, 1, false}, {"ECAP.SRS", U(ims_vtd_ecap_srs), 31, 1, false},
    {"ECAP.NWFS", U(ims_vtd_ecap_nwfs), 33, 1, false}, {"ECAP.EAFS", U(ims_vtd_ecap_eafs), 34, 1, false},
    {"ECAP.PSS", U(ims_vtd_ecap_pss), 35, 5, false}, {"ECAP.PASID", U(ims_vtd_ecap_pasid), 40, 1, false},
    {"ECAP.DIT", U(ims_vtd_ecap_dit), 41, 1, false}, {"ECAP.PDS", U(ims_vtd_ecap_pds), 42, 1, false},
    {"ECAP.SMTS", U(ims_vtd_ecap_smts), 43, 1, false}, {"ECAP.VCS", U(ims_vtd_ecap_vcs), 44, 1, false},
    {"ECAP.SSADS", U(ims_vtd_ecap_ssads), 45, 1, false}, {"ECAP.SSTS", U(ims_vtd_ecap_ssts), 46, 1, false},
    {"ECAP.FSTS", U(ims_vtd_ecap_fsts), 47, 1, false}, {"ECAP.SMPWCS", U(ims_vtd_ecap_smpwcs), 48, 1, false},
    {"ECAP.RPS", U(ims_vtd_ecap_rps), 49, 1, false}, {"ECAP.PMS", U(ims_vtd_ecap_pms), 51, 1, false},
    {"ECAP.ADMS", U(ims_vtd_ecap_adms), 52, 1, false}, {"ECAP.RPRIVS", U(ims_vtd_ecap_rprivs), 53, 1, false},
    // §1.4 GCMD / GSTS
    {"GCMD.TE", U(ims_vtd_gcmd_te), 31, 1, false}, {"GCMD.SRTP", U(ims_vtd_gcmd_srtp), 30, 1, false},
    {"GCMD.SFL", U(ims_vtd_gcmd_sfl), 29, 1, false}, {"GCMD.EAFL", U(ims_vtd_gcmd_eafl), 28, 1, false},
    {"GCMD.WBF", U(ims_vtd_gcmd_wbf), 27, 1, false}, {"GCMD.QIE", U(ims_vtd_gcmd_qie), 26, 1, false},
    {"GCMD.IRE", U(ims_vtd_gcmd_ire), 25, 1, false}, {"GCMD.SIRTP", U(ims_vtd_gcmd_sirtp), 24, 1, false},
    {"GCMD.CFI", U(ims_vtd_gcmd_cfi), 23, 1, false},
    {"GSTS.TES", U(ims_vtd_gsts_tes), 31, 1, false}, {"GSTS.RTPS", U(ims_vtd_gsts_rtps), 30, 1, false},
    {"GSTS.FLS", U(ims_vtd_gsts_fls), 29, 1, false}, {"GSTS.AFLS", U(ims_vtd_gsts_afls), 28, 1, false},
    {"GSTS.WBFS", U(ims_vtd_gsts_wbfs), 27, 1, false}, {"GSTS.QIES", U(ims_vtd_gsts_qies), 26, 1, false},
    {"GSTS.IRES", U(ims_vtd_gsts_ires), 25, 1, false}, {"GSTS.IRTPS", U(ims_vtd_gsts_irtps), 24, 1, false},
    {"GSTS.CFIS", U(ims_vtd_gsts_cfis), 23, 1, false},
    // §1.5 RTADDR
    {"RTADDR.TTM", U(ims_vtd_rtaddr_ttm), 10, 2, false}, {"RTADDR.RTA", U(ims_vtd_rtaddr_rta), 12, 52, true},
    // §1.6 CCMD
    {"CCMD.DID", U(ims_vtd_ccmd_did), 0, 16, false}, {"CCMD.SID", U(ims_vtd_ccmd_sid), 16, 16, false},
    {"CCMD.FM", U(ims_vtd_ccmd_fm), 32, 2, false}, {"CCMD.CAIG", U(ims_vtd_ccmd_caig), 59, 2, false},
    {"CCMD.CIRG", U(ims_vtd_ccmd_cirg), 61, 2, false}, {"CCMD.ICC", U(ims_vtd_ccmd_icc), 63, 1, false},
    // §1.7 IVA / IOTLB
    {"IVA.AM", U(ims_vtd_iva_am), 0, 6, false}, {"IVA.IH", U(ims_vtd_iva_ih), 6, 1, false},
    {"IVA.ADDR", U(ims_vtd_iva_addr), 12, 52, true},
    {"IOTLB.DID", U(ims_vtd_iotlb_did), 32, 16, false}, {"IOTLB.DW", U(ims_vtd_iotlb_dw), 48, 1, false},
    {"IOTLB.DR", U(ims_vtd_iotlb_dr), 49, 1, false}, {"IOTLB.IAIG", U(ims_vtd_iotlb_iaig), 57, 2, false},
    {"IOTLB.IIRG", U(ims_vtd_iotlb_iirg), 60, 2, false}, {"IOTLB.IVT", U(ims_vtd_iotlb_ivt), 63, 1, false},
    // §1.8 FSTS / FECTL / FEDATA / FEADDR
    {"FSTS.PFO", U(ims_vtd_fsts_pfo), 0, 1, false}, {"FSTS.PPF", U(ims_vtd_fsts_ppf), 1, 1, false},
    {"FSTS.AFO", U(ims_vtd_fsts_afo), 2, 1, false}, {"FSTS.APF", U(ims_vtd_fsts_apf), 3, 1, false},
    {"FSTS.IQE", U(ims_vtd_fsts_iqe), 4, 1, false}, {"FSTS.ICE", U(ims_vtd_fsts_ice), 5, 1, false},
    {"FSTS.ITE", U(ims_vtd_fsts_ite), 6, 1, false}, {"FSTS.FRI", U(ims_vtd_fsts_fri), 8, 8, false},
    {"xECTL.IM", U(ims_vtd_ectl_im), 31, 1, false}, {"xECTL.IP", U(ims_vtd_ectl_ip), 30, 1, false},
    {"xEDATA.IMD", U(ims_vtd_edata_imd), 0, 16, false}, {"xEADDR.MA", U(ims_vtd_eaddr_ma), 2, 30, true},
    // §1.9 FRCD: qw0, and qw1 = absolute bit - 64
    {"FRCD.FI", U(ims_vtd_frcd_fi), 12, 52, true}, {"FRCD.SID", U(ims_vtd_frcd_sid), 64 - 64, 16, false},
    {"FRCD.T2", U(ims_vtd_frcd_t2), 92 - 64, 1, false}, {"FRCD.PRIV", U(ims_vtd_frcd_priv), 93 - 64, 1, false},
    {"FRCD.EXE", U(ims_vtd_frcd_exe), 94 - 64, 1, false}, {"FRCD.PP", U(ims_vtd_frcd_pp), 95 - 64, 1, false},
    {"FRCD.FR", U(ims_vtd_frcd_fr), 96 - 64, 8, false}, {"FRCD.PV", U(ims_vtd_frcd_pv), 104 - 64, 20, false},
    {"FRCD.AT", U(ims_vtd_frcd_at), 124 - 64, 2, false}, {"FRCD.T1", U(ims_vtd_frcd_t1), 126 - 64, 1, false},
    {"FRCD.F", U(ims_vtd_frcd_f), 127 - 64, 1, false},
    // §1.10 invalidation queue
    {"IQH.QH", U(ims_vtd_iqh_qh), 4, 15, false}, {"IQT.QT", U(ims_vtd_iqt_qt), 4, 15, false},
    {"IQA.QS", U(ims_vtd_iqa_qs), 0, 3, false}, {"IQA.DW", U(ims_vtd_iqa_dw), 11, 1, false},
    {"IQA.IQA", U(ims_vtd_iqa_iqa), 12, 52, true}, {"ICS.IWC", U(ims_vtd_ics_iwc), 0, 1, false},
    {"IQERCD.IQEI", U(ims_vtd_iqercd_iqei), 0, 4, false},
    {"IQERCD.ITESID", U(ims_vtd_iqercd_itesid), 32, 16, false},
    {"IQERCD.ICESID", U(ims_vtd_iqercd_icesid), 48, 16, false},
    // §1.11 page-request queue
    {"PQH.PQH", U(ims_vtd_pqh_pqh), 5, 14, false}, {"PQT.PQT", U(ims_vtd_pqt_pqt), 5, 14, false},
    {"PQA.PQS", U(ims_vtd_pqa_pqs), 0, 3, false}, {"PQA.PQA", U(ims_vtd_pqa_pqa), 12, 52, true},
    {"PRS.PPR", U(ims_vtd_prs_ppr), 0, 1, false}, {"PRS.PRO", U(ims_vtd_prs_pro), 1, 1, false},
};
#undef U

// vtd-facts §1.1–§1.11: every accessor reads exactly its bits.
TEST(VtdRegs, EveryFieldAccessorReadsItsBits)
{
    for (const FieldCase &f : kFields) {
        SCOPED_TRACE(f.name);
        uint64_t ones = (f.width == 64) ? ~0ull : ((1ull << f.width) - 1);
        uint64_t inplace = ones << f.lo;
        EXPECT_EQ(f.get(inplace), f.addr ? inplace : ones);
        EXPECT_EQ(f.get(~inplace), 0u) << "neighbouring bits leak into the field";
        // lowest bit of the field alone
        EXPECT_EQ(f.get(1ull << f.lo), f.addr ? (1ull << f.lo) : 1u);
    }
}

// vtd-facts §1.1: register offsets.
TEST(VtdRegs, Offsets)
{
    EXPECT_EQ(IMS_VTD_REG_VER, 0x00); EXPECT_EQ(IMS_VTD_REG_CAP, 0x08); EXPECT_EQ(IMS_VTD_REG_ECAP, 0x10);
    EXPECT_EQ(IMS_VTD_REG_GCMD, 0x18); EXPECT_EQ(IMS_VTD_REG_GSTS, 0x1C); EXPECT_EQ(IMS_VTD_REG_RTADDR, 0x20);
    EXPECT_EQ(IMS_VTD_REG_CCMD, 0x28); EXPECT_EQ(IMS_VTD_REG_FSTS, 0x34); EXPECT_EQ(IMS_VTD_REG_FECTL, 0x38);
    EXPECT_EQ(IMS_VTD_REG_FEDATA, 0x3C); EXPECT_EQ(IMS_VTD_REG_FEADDR, 0x40); EXPECT_EQ(IMS_VTD_REG_FEUADDR, 0x44);
    EXPECT_EQ(IMS_VTD_REG_IQH, 0x80); EXPECT_EQ(IMS_VTD_REG_IQT, 0x88); EXPECT_EQ(IMS_VTD_REG_IQA, 0x90);
    EXPECT_EQ(IMS_VTD_REG_ICS, 0x9C); EXPECT_EQ(IMS_VTD_REG_IECTL, 0xA0); EXPECT_EQ(IMS_VTD_REG_IEDATA, 0xA4);
    EXPECT_EQ(IMS_VTD_REG_IEADDR, 0xA8); EXPECT_EQ(IMS_VTD_REG_IEUADDR, 0xAC); EXPECT_EQ(IMS_VTD_REG_IQERCD, 0xB0);
    EXPECT_EQ(IMS_VTD_REG_IRTA, 0xB8); EXPECT_EQ(IMS_VTD_REG_PQH, 0xC0); EXPECT_EQ(IMS_VTD_REG_PQT, 0xC8);
    EXPECT_EQ(IMS_VTD_REG_PQA, 0xD0); EXPECT_EQ(IMS_VTD_REG_PRS, 0xDC); EXPECT_EQ(IMS_VTD_REG_PECTL, 0xE0);
    EXPECT_EQ(IMS_VTD_REG_PEDATA, 0xE4); EXPECT_EQ(IMS_VTD_REG_PEADDR, 0xE8); EXPECT_EQ(IMS_VTD_REG_PEUADDR, 0xEC);
}

// calibration.md: Broadwell-EP CAP 0x8d2078c106f0466 / ECAP 0xf020df, decoded by hand.
TEST(VtdRegs, DecodesBroadwellEpCapEcap)
{
    EXPECT_EQ(ims_vtd_cap_nd(kBdwCap), 6u);
    EXPECT_EQ(ims_vtd_cap_did_bits(kBdwCap), 16u);
    EXPECT_FALSE(ims_vtd_cap_afl(kBdwCap));
    EXPECT_FALSE(ims_vtd_cap_rwbf(kBdwCap));
    EXPECT_TRUE(ims_vtd_cap_plmr(kBdwCap));
    EXPECT_TRUE(ims_vtd_cap_phmr(kBdwCap));
    EXPECT_FALSE(ims_vtd_cap_cm(kBdwCap));
    EXPECT_EQ(ims_vtd_cap_sagaw(kBdwCap), 0x4u);  // 48-bit 4-level only
    EXPECT_TRUE(ims_vtd_cap_aw_supported(kBdwCap, 2));
    EXPECT_FALSE(ims_vtd_cap_aw_supported(kBdwCap, 1));
    EXPECT_FALSE(ims_vtd_cap_aw_supported(kBdwCap, 3));
    EXPECT_EQ(ims_vtd_cap_mgaw(kBdwCap), 47u);
    EXPECT_EQ(ims_vtd_cap_mgaw_bits(kBdwCap), 48u);
    EXPECT_TRUE(ims_vtd_cap_zlr(kBdwCap));
    EXPECT_EQ(ims_vtd_cap_fro(kBdwCap), 0x10u);
    EXPECT_EQ(ims_vtd_cap_frcd_offset(kBdwCap), 0x100u);
    EXPECT_EQ(ims_vtd_cap_sslps(kBdwCap), 0x3u);  // 2M + 1G
    EXPECT_TRUE(ims_vtd_cap_psi(kBdwCap));
    EXPECT_EQ(ims_vtd_cap_nfr(kBdwCap), 7u);
    EXPECT_EQ(ims_vtd_cap_num_frcd(kBdwCap), 8u);
    EXPECT_EQ(ims_vtd_cap_mamv(kBdwCap), 18u);
    EXPECT_TRUE(ims_vtd_cap_dwd(kBdwCap));
    EXPECT_TRUE(ims_vtd_cap_drd(kBdwCap));
    EXPECT_FALSE(ims_vtd_cap_fs1gp(kBdwCap));
    EXPECT_TRUE(ims_vtd_cap_pi(kBdwCap));
    EXPECT_FALSE(ims_vtd_cap_fs5lp(kBdwCap));
    EXPECT_FALSE(ims_vtd_cap_esrtps(kBdwCap));

    EXPECT_TRUE(ims_vtd_ecap_c(kBdwEcap));
    EXPECT_TRUE(ims_vtd_ecap_qi(kBdwEcap));
    EXPECT_TRUE(ims_vtd_ecap_dt(kBdwEcap));
    EXPECT_TRUE(ims_vtd_ecap_ir(kBdwEcap));
    EXPECT_TRUE(ims_vtd_ecap_eim(kBdwEcap));
    EXPECT_TRUE(ims_vtd_ecap_pt(kBdwEcap));
    EXPECT_TRUE(ims_vtd_ecap_sc(kBdwEcap));
    EXPECT_EQ(ims_vtd_ecap_iro(kBdwEcap), 0x20u);
    EXPECT_EQ(ims_vtd_ecap_iotlb_offset(kBdwEcap), 0x200u);
    EXPECT_EQ(ims_vtd_ecap_mhmv(kBdwEcap), 15u);
    EXPECT_FALSE(ims_vtd_ecap_smts(kBdwEcap));
    EXPECT_FALSE(ims_vtd_ecap_nest(kBdwEcap));
    EXPECT_FALSE(ims_vtd_ecap_pasid(kBdwEcap));
    EXPECT_FALSE(ims_vtd_ecap_prs(kBdwEcap));
    EXPECT_FALSE(ims_vtd_ecap_nested_supported(kBdwEcap));
}

// The default unit is composed from fields; its value and decode are pinned.
TEST(VtdRegs, DefaultCapEcapComposition)
{
    constexpr uint64_t cap = IMS_VTD_DEFAULT_CAP, ecap = IMS_VTD_DEFAULT_ECAP;
    EXPECT_EQ(cap, 0x11ed078c40780c06ull);
    EXPECT_EQ(ecap, 0x3ed9ca4f050dfull);
    EXPECT_EQ(IMS_VTD_DEFAULT_VER, 0x60u);
    EXPECT_EQ(ims_vtd_cap_did_bits(cap), 16u);
    EXPECT_EQ(ims_vtd_cap_sagaw(cap), IMS_VTD_SAGAW_48 | IMS_VTD_SAGAW_57);
    EXPECT_EQ(ims_vtd_cap_mgaw_bits(cap), 57u);
    EXPECT_EQ(ims_vtd_cap_frcd_offset(cap), 0x400u);
    EXPECT_EQ(ims_vtd_cap_num_frcd(cap), 8u);
    EXPECT_EQ(ims_vtd_cap_mamv(cap), 45u);
    EXPECT_TRUE(ims_vtd_cap_fs1gp(cap));
    EXPECT_TRUE(ims_vtd_cap_fs5lp(cap));
    EXPECT_FALSE(ims_vtd_cap_cm(cap));
    EXPECT_FALSE(ims_vtd_cap_rwbf(cap));
    EXPECT_EQ(ims_vtd_ecap_iotlb_offset(ecap), 0x500u);
    EXPECT_TRUE(ims_vtd_ecap_nested_supported(ecap));
    EXPECT_TRUE(ims_vtd_ecap_fsts(ecap) && ims_vtd_ecap_ssts(ecap) && ims_vtd_ecap_pasid(ecap));
    EXPECT_TRUE(ims_vtd_ecap_qi(ecap) && ims_vtd_ecap_dt(ecap) && ims_vtd_ecap_prs(ecap) && ims_vtd_ecap_sc(ecap));
    EXPECT_TRUE(ims_vtd_ecap_ssads(ecap) && ims_vtd_ecap_smpwcs(ecap));
    EXPECT_EQ(ims_vtd_ecap_pasid_bits(ecap), 20u);
    EXPECT_FALSE(ims_vtd_ecap_ers(ecap));
}

// ---- register file: reset, RO, reserved, unknown -------------------------------

// vtd-facts §1.8: FECTL.IM resets to 1 (and IECTL/PECTL share the layout).
TEST_F(VtdRegsUnit, ResetValues)
{
    EXPECT_EQ(rd(IMS_VTD_REG_VER, 4), 0x60u);
    EXPECT_EQ(rd(IMS_VTD_REG_CAP), IMS_VTD_DEFAULT_CAP);
    EXPECT_EQ(rd(IMS_VTD_REG_ECAP), IMS_VTD_DEFAULT_ECAP);
    // 64-bit register read as two dwords
    EXPECT_EQ(rd(IMS_VTD_REG_CAP, 4), IMS_VTD_DEFAULT_CAP & 0xffffffffu);
    EXPECT_EQ(rd(IMS_VTD_REG_CAP + 4, 4), IMS_VTD_DEFAULT_CAP >> 32);
    EXPECT_EQ(rd(IMS_VTD_REG_FECTL, 4), 0x80000000u);
    EXPECT_EQ(rd(IMS_VTD_REG_IECTL, 4), 0x80000000u);
    EXPECT_EQ(rd(IMS_VTD_REG_PECTL, 4), 0x80000000u);
    EXPECT_EQ(gsts(), 0u);
    EXPECT_EQ(fsts(), 0u);
    EXPECT_EQ(rd(IMS_VTD_REG_RTADDR), 0u);
    EXPECT_EQ(rd(IMS_VTD_REG_IQH), 0u);
    EXPECT_EQ(rd(0x400 + 8), 0u);  // FRCD0 qw1: F=0
}

TEST_F(VtdRegsUnit, ReadOnlyRegistersIgnoreWrites)
{
    EXPECT_EQ(wr(IMS_VTD_REG_CAP, 0), IMS_VTD_MMIO_OK);
    EXPECT_EQ(wr(IMS_VTD_REG_ECAP + 4, 0, 4), IMS_VTD_MMIO_OK);
    EXPECT_EQ(wr(IMS_VTD_REG_VER, 0x11, 4), IMS_VTD_MMIO_OK);
    EXPECT_EQ(wr(IMS_VTD_REG_GSTS, 0xffffffffu, 4), IMS_VTD_MMIO_OK);
    EXPECT_EQ(wr(IMS_VTD_REG_IQH, 0x100), IMS_VTD_MMIO_OK);
    EXPECT_EQ(wr(IMS_VTD_REG_IQERCD, ~0ull), IMS_VTD_MMIO_OK);
    EXPECT_EQ(rd(IMS_VTD_REG_CAP), IMS_VTD_DEFAULT_CAP);
    EXPECT_EQ(rd(IMS_VTD_REG_ECAP), IMS_VTD_DEFAULT_ECAP);
    EXPECT_EQ(rd(IMS_VTD_REG_VER, 4), 0x60u);
    EXPECT_EQ(gsts(), 0u);
    EXPECT_EQ(rd(IMS_VTD_REG_IQH), 0u);
    EXPECT_EQ(rd(IMS_VTD_REG_IQERCD), 0u);
    EXPECT_EQ(ims_vtd_regfile_counters_get(rf)->ro_writes, 6u);
    EXPECT_EQ(rd(IMS_VTD_REG_GCMD, 4), 0u) << "GCMD is write-only";
}

// Reserved bits read 0 (writable fields per vtd-facts §1.5, §1.8, §1.10, §1.11).
TEST_F(VtdRegsUnit, ReservedBitsReadZero)
{
    wr(IMS_VTD_REG_RTADDR, ~0ull);
    EXPECT_EQ(rd(IMS_VTD_REG_RTADDR), 0xfffffffffffff400ull);  // RTA + TTM bit 10 (SMTS, no ADMS)
    wr(IMS_VTD_REG_FEDATA, 0xffffffffu, 4);
    EXPECT_EQ(rd(IMS_VTD_REG_FEDATA, 4), 0xffffu);
    wr(IMS_VTD_REG_FEADDR, 0xffffffffu, 4);
    EXPECT_EQ(rd(IMS_VTD_REG_FEADDR, 4), 0xfffffffcu);
    wr(IMS_VTD_REG_FECTL, 0x7fffffffu, 4);
    EXPECT_EQ(rd(IMS_VTD_REG_FECTL, 4), 0u) << "only IM is writable";
    wr(IMS_VTD_REG_IQA, ~0ull);
    EXPECT_EQ(rd(IMS_VTD_REG_IQA), 0xfffffffffffff807ull);  // IQA, DW (SMTS), QS
    wr(IMS_VTD_REG_IQT, ~0ull);
    EXPECT_EQ(rd(IMS_VTD_REG_IQT), 0x7fff0ull);
    wr(IMS_VTD_REG_PQH, ~0ull);
    EXPECT_EQ(rd(IMS_VTD_REG_PQH), 0x7ffe0ull);
    wr(IMS_VTD_REG_PQA, ~0ull);
    EXPECT_EQ(rd(IMS_VTD_REG_PQA), 0xfffffffffffff007ull);
    wr(IMS_VTD_REG_CCMD, 0x07ffffffffffffffull);  // everything but ICC/CIRG
    EXPECT_EQ(rd(IMS_VTD_REG_CCMD), 0x3ffffffffull) << "CAIG is read-only, 58:34 reserved";
    wr(0x500, ~0ull);  // IVA
    EXPECT_EQ(rd(0x500), 0xfffffffffffff07full);
}

TEST_F(VtdRegsUnit, LegacyUnitMasksScalableOnlyBits)
{
    make(kBdwCap, kBdwEcap, 0x10);
    wr(IMS_VTD_REG_RTADDR, ~0ull);
    EXPECT_EQ(rd(IMS_VTD_REG_RTADDR), 0xfffffffffffff000ull) << "TTM needs SMTS";
    wr(IMS_VTD_REG_IQA, ~0ull);
    EXPECT_EQ(rd(IMS_VTD_REG_IQA), 0xfffffffffffff007ull) << "IQA.DW needs SMTS";
    EXPECT_EQ(rd(IMS_VTD_REG_VER, 4), 0x10u);
}

TEST_F(VtdRegsUnit, UnknownOffsetsReadZeroAndAreCounted)
{
    uint64_t v = 1;
    EXPECT_EQ(ims_vtd_mmio_read(rf, 0x030, 4, &v), IMS_VTD_MMIO_UNMAPPED);
    EXPECT_EQ(v, 0u);
    EXPECT_EQ(ims_vtd_mmio_read(rf, 0x2000, 8, &v), IMS_VTD_MMIO_UNMAPPED);
    EXPECT_EQ(ims_vtd_mmio_write(rf, 0x058, 8, 5), IMS_VTD_MMIO_UNMAPPED);  // AFLOG, AFL=0
    EXPECT_EQ(ims_vtd_mmio_write(rf, 0x480, 4, 5), IMS_VTD_MMIO_UNMAPPED);  // past the 8th FRCD
    // 8-byte read over 0x30 (unknown) and FSTS: reports unmapped, still returns FSTS
    EXPECT_EQ(ims_vtd_mmio_read(rf, 0x030, 8, &v), IMS_VTD_MMIO_UNMAPPED);
    const ims_vtd_regfile_counters *c = ims_vtd_regfile_counters_get(rf);
    EXPECT_EQ(c->unmapped_reads, 3u);
    EXPECT_EQ(c->unmapped_writes, 2u);
    EXPECT_EQ(ims_vtd_mmio_read(rf, 0x32, 4, &v), -EINVAL) << "misaligned";
    EXPECT_EQ(ims_vtd_mmio_read(rf, 0x34, 8, &v), -EINVAL) << "8-byte access not 8-aligned";
    EXPECT_EQ(ims_vtd_mmio_write(rf, 0x34, 2, 0), -EINVAL) << "bad size";
    // PRQ registers exist only with ECAP.PRS
    make(kBdwCap, kBdwEcap, 0x10);
    EXPECT_EQ(ims_vtd_mmio_read(rf, IMS_VTD_REG_PQH, 8, &v), IMS_VTD_MMIO_UNMAPPED);
    EXPECT_EQ(ims_vtd_mmio_read(rf, IMS_VTD_REG_IQH, 8, &v), IMS_VTD_MMIO_OK);
}

TEST_F(VtdRegsUnit, CreateRejectsOverlappingLayouts)
{
    ims_vtd_regfile *bad = nullptr;
    uint64_t cap = IMS_VTD_SET(IMS_VTD_CAP_FRO, IMS_VTD_DEFAULT_CAP, 0x8);  // FRCDs at 0x80 = IQH
    EXPECT_EQ(ims_vtd_regfile_create(cap, IMS_VTD_DEFAULT_ECAP, 0x60, nullptr, &bad, &err), -EINVAL);
    EXPECT_NE(std::string(err.msg).find("FRO"), std::string::npos) << err.msg;
    uint64_t ecap = IMS_VTD_SET(IMS_VTD_ECAP_IRO, IMS_VTD_DEFAULT_ECAP, 0x47);  // inside FRCD 7
    EXPECT_EQ(ims_vtd_regfile_create(IMS_VTD_DEFAULT_CAP, ecap, 0x60, nullptr, &bad, &err), -EINVAL);
    EXPECT_EQ(ims_vtd_regfile_create(IMS_VTD_DEFAULT_CAP, IMS_VTD_DEFAULT_ECAP, 0x100, nullptr, &bad, &err),
              -EINVAL);
    EXPECT_EQ(bad, nullptr);
    EXPECT_EQ(ims_vtd_regfile_window_size(rf), 0x1000u);
}

// ---- GCMD / GSTS (§1.4) ------------------------------------------------------------

TEST_F(VtdRegsUnit, SrtpLatchesRootPointer)
{
    const uint64_t root = 0x12345000ull | (1ull << 10);  // scalable TTM
    wr(IMS_VTD_REG_RTADDR, root);
    EXPECT_EQ(ims_vtd_regfile_rtaddr(rf), 0u) << "RTADDR is not active before SRTP";
    EXPECT_EQ(gcmd(1u << 30), IMS_VTD_MMIO_OK);
    EXPECT_TRUE(ims_vtd_gsts_rtps(gsts()));
    EXPECT_EQ(ims_vtd_regfile_rtaddr(rf), root);
    ASSERT_EQ(hooks.srtp.size(), 1u);
    EXPECT_EQ(hooks.srtp[0], root);
    wr(IMS_VTD_REG_RTADDR, 0x999000);
    EXPECT_EQ(ims_vtd_regfile_rtaddr(rf), root) << "a new RTADDR needs another SRTP";
    ims_vtd_hw hw{};
    ims_vtd_regfile_hw(rf, nullptr, &hw);
    EXPECT_EQ(hw.rtaddr, root);
    EXPECT_EQ(hw.cap, IMS_VTD_DEFAULT_CAP);
    EXPECT_FALSE(hw.te);
}

TEST_F(VtdRegsUnit, TranslationEnableAndDisable)
{
    EXPECT_EQ(gcmd(1u << 31), IMS_VTD_MMIO_OK);
    EXPECT_TRUE(ims_vtd_gsts_tes(gsts()));
    EXPECT_TRUE(ims_vtd_regfile_te(rf));
    EXPECT_EQ(gcmd(1u << 30), IMS_VTD_MMIO_OK);  // SRTP keeps TE (driver writes TE|SRTP)
    EXPECT_TRUE(ims_vtd_regfile_te(rf));
    EXPECT_EQ(gcmd(1u << 31, false), IMS_VTD_MMIO_OK);
    EXPECT_FALSE(ims_vtd_regfile_te(rf));
    EXPECT_EQ(hooks.te, (std::vector<bool>{true, false}));
}

TEST_F(VtdRegsUnit, GcmdWithTwoCommandsIsRejected)
{
    EXPECT_EQ(wr(IMS_VTD_REG_GCMD, (1u << 31) | (1u << 30), 4), IMS_VTD_MMIO_REJECTED);
    EXPECT_EQ(gsts(), 0u);
    EXPECT_TRUE(hooks.te.empty());
    EXPECT_TRUE(hooks.srtp.empty());
    EXPECT_EQ(ims_vtd_regfile_counters_get(rf)->rejected, 1u);
    // rewriting the current state is no command at all
    EXPECT_EQ(wr(IMS_VTD_REG_GCMD, 0, 4), IMS_VTD_MMIO_OK);
}

TEST_F(VtdRegsUnit, IrCommandsAndUnsupportedBits)
{
    wr(IMS_VTD_REG_IRTA, 0xabc000ull | (1ull << 11) | 7);
    EXPECT_EQ(gcmd(1u << 24), IMS_VTD_MMIO_OK);  // SIRTP
    EXPECT_TRUE(ims_vtd_gsts_irtps(gsts()));
    EXPECT_EQ(gcmd(1u << 25), IMS_VTD_MMIO_OK);  // IRE
    EXPECT_TRUE(ims_vtd_gsts_ires(gsts()));
    // SFL/EAFL need CAP.AFL, WBF needs CAP.RWBF: ignored here
    EXPECT_EQ(gcmd(1u << 29), IMS_VTD_MMIO_OK);
    EXPECT_EQ(gcmd(1u << 27), IMS_VTD_MMIO_OK);
    EXPECT_FALSE(ims_vtd_gsts_fls(gsts()));
    EXPECT_EQ(hooks.wbf, 0);
}

TEST_F(VtdRegsUnit, WriteBufferFlushWithRwbf)
{
    make(IMS_VTD_DEFAULT_CAP | IMS_VTD_PUT(IMS_VTD_CAP_RWBF, 1));
    EXPECT_EQ(gcmd(1u << 27), IMS_VTD_MMIO_OK);
    EXPECT_EQ(hooks.wbf, 1);
    EXPECT_FALSE(ims_vtd_gsts_wbfs(gsts())) << "flush completes within the write";
}

// vtd-facts §4.11: enabling QI resets IQH to 0.
TEST_F(VtdRegsUnit, QueuedInvalidationEnableResetsHead)
{
    wr(IMS_VTD_REG_IQA, 0x200000ull | (1ull << 11) | 1);
    ims_vtd_regfile_set_iqh(rf, 0x40);
    EXPECT_EQ(rd(IMS_VTD_REG_IQH), 0x40u);
    EXPECT_EQ(gcmd(1u << 26), IMS_VTD_MMIO_OK);
    EXPECT_TRUE(ims_vtd_gsts_qies(gsts()));
    EXPECT_EQ(rd(IMS_VTD_REG_IQH), 0u);
    EXPECT_TRUE(hooks.doorbell.empty()) << "IQT=0: nothing to fetch";
    EXPECT_EQ(ims_vtd_regfile_iqa(rf), 0x200801ull);
    // doorbell on tail write
    wr(IMS_VTD_REG_IQT, 0x60);
    ASSERT_EQ(hooks.doorbell.size(), 1u);
    EXPECT_EQ(hooks.doorbell[0], 0x60u);
    // disable refused while descriptors are pending
    EXPECT_EQ(gcmd(1u << 26, false), IMS_VTD_MMIO_REJECTED);
    EXPECT_TRUE(ims_vtd_regfile_qie(rf));
    ims_vtd_regfile_set_iqh(rf, 0x60);  // engine consumed everything
    EXPECT_EQ(gcmd(1u << 26, false), IMS_VTD_MMIO_OK);
    EXPECT_FALSE(ims_vtd_regfile_qie(rf));
    // tail writes while disabled ring nothing
    wr(IMS_VTD_REG_IQT, 0x80);
    EXPECT_EQ(hooks.doorbell.size(), 1u);
}

TEST_F(VtdRegsUnit, QiDisableAllowedWhileStalledAndIqeClearResumes)
{
    gcmd(1u << 26);
    wr(IMS_VTD_REG_IQT, 0x40);
    ASSERT_EQ(hooks.doorbell.size(), 1u);
    ims_vtd_regfile_set_iqh(rf, 0x20);
    ims_vtd_regfile_raise_iqe(rf, IMS_VTD_IQEI_BAD_TYPE);
    EXPECT_TRUE(ims_vtd_regfile_qi_stalled(rf));
    wr(IMS_VTD_REG_IQT, 0x60);
    EXPECT_EQ(hooks.doorbell.size(), 1u) << "no doorbell while stalled";
    wr(IMS_VTD_REG_FSTS, 1u << 4, 4);  // clear IQE
    ASSERT_EQ(hooks.doorbell.size(), 2u) << "clearing IQE resumes fetching";
    EXPECT_EQ(hooks.doorbell[1], 0x60u);
    ims_vtd_regfile_raise_ite(rf, 0x0300);
    EXPECT_EQ(gcmd(1u << 26, false), IMS_VTD_MMIO_OK) << "a stalled queue may be disabled";
}

// ---- register-based invalidation (§1.6, §1.7) ----------------------------------
// VT-d 5.10 §6.5: the register interface exists only on units with VER major <= 5, so the tests that
// expect it to work use a 5.0 unit (they ran on the 6.0 default before the spec check).
constexpr uint32_t kVer5 = 0x50;

TEST_F(VtdRegsUnit, ContextCommandRunsHookAndClearsIcc)
{
    make(IMS_VTD_DEFAULT_CAP, IMS_VTD_DEFAULT_ECAP, kVer5);
    // domain-selective (CIRG=2), DID 5, written as two dwords (low first)
    uint64_t cmd = (1ull << 63) | (2ull << 61) | 5;
    EXPECT_EQ(wr(IMS_VTD_REG_CCMD, cmd & 0xffffffffu, 4), IMS_VTD_MMIO_OK);
    EXPECT_TRUE(hooks.ccmd.empty());
    EXPECT_EQ(wr(IMS_VTD_REG_CCMD + 4, cmd >> 32, 4), IMS_VTD_MMIO_OK);
    ASSERT_EQ(hooks.ccmd.size(), 1u);
    EXPECT_TRUE(ims_vtd_ccmd_icc(hooks.ccmd[0]));
    EXPECT_EQ(ims_vtd_ccmd_caig(hooks.ccmd[0]), 2u);
    EXPECT_EQ(ims_vtd_ccmd_did(hooks.ccmd[0]), 5u);
    uint64_t r = rd(IMS_VTD_REG_CCMD);
    EXPECT_FALSE(ims_vtd_ccmd_icc(r));
    EXPECT_EQ(ims_vtd_ccmd_caig(r), 2u);  // CAIG = CIRG
    EXPECT_EQ(ims_vtd_ccmd_cirg(r), 2u);
    // device-selective with SID and FM, one 64-bit write
    wr(IMS_VTD_REG_CCMD, (1ull << 63) | (3ull << 61) | (3ull << 32) | (0x0310ull << 16) | 9);
    ASSERT_EQ(hooks.ccmd.size(), 2u);
    EXPECT_EQ(ims_vtd_ccmd_sid(hooks.ccmd[1]), 0x0310u);
    EXPECT_EQ(ims_vtd_ccmd_fm(hooks.ccmd[1]), 3u);
    EXPECT_EQ(ims_vtd_ccmd_caig(rd(IMS_VTD_REG_CCMD)), 3u);
    // CIRG=0 is not performed
    EXPECT_EQ(wr(IMS_VTD_REG_CCMD, 1ull << 63), IMS_VTD_MMIO_REJECTED);
    EXPECT_EQ(hooks.ccmd.size(), 2u);
    EXPECT_EQ(ims_vtd_ccmd_caig(rd(IMS_VTD_REG_CCMD)), 0u);
    EXPECT_EQ(ims_vtd_regfile_counters_get(rf)->ccmd_invalidations, 2u);
}

TEST_F(VtdRegsUnit, IotlbRegisterInvalidation)
{
    make(IMS_VTD_DEFAULT_CAP, IMS_VTD_DEFAULT_ECAP, kVer5);
    const uint64_t iva = 0x500, iotlb = 0x508;  // ECAP.IRO=0x50
    wr(iva, 0x7654000ull | (1ull << 6) | 4);     // ADDR, IH, AM=4
    wr(iotlb, (1ull << 63) | (3ull << 60) | (1ull << 49) | (1ull << 48) | (7ull << 32));
    ASSERT_EQ(hooks.iotlb.size(), 1u);
    EXPECT_EQ(hooks.iva[0], 0x7654000ull | (1ull << 6) | 4);
    EXPECT_EQ(ims_vtd_iotlb_iaig(hooks.iotlb[0]), 3u);
    EXPECT_EQ(ims_vtd_iotlb_did(hooks.iotlb[0]), 7u);
    EXPECT_TRUE(ims_vtd_iotlb_dw(hooks.iotlb[0]) && ims_vtd_iotlb_dr(hooks.iotlb[0]));
    uint64_t r = rd(iotlb);
    EXPECT_FALSE(ims_vtd_iotlb_ivt(r));
    EXPECT_EQ(ims_vtd_iotlb_iaig(r), 3u);  // IAIG = IIRG
    // AM beyond CAP.MAMV (45): not performed
    wr(iva, 46);
    EXPECT_EQ(wr(iotlb, (1ull << 63) | (3ull << 60)), IMS_VTD_MMIO_REJECTED);
    EXPECT_EQ(hooks.iotlb.size(), 1u);
    EXPECT_EQ(ims_vtd_iotlb_iaig(rd(iotlb)), 0u);
    // global
    EXPECT_EQ(wr(iotlb, (1ull << 63) | (1ull << 60)), IMS_VTD_MMIO_OK);
    EXPECT_EQ(ims_vtd_iotlb_iaig(hooks.iotlb.back()), 1u);
}

TEST_F(VtdRegsUnit, PageSelectiveWithoutPsiIsDoneAsDomain)
{
    make(IMS_VTD_SET(IMS_VTD_CAP_PSI, IMS_VTD_DEFAULT_CAP, 0), IMS_VTD_DEFAULT_ECAP, kVer5);
    wr(0x500, 0x1000);
    wr(0x508, (1ull << 63) | (3ull << 60) | (2ull << 32));
    ASSERT_EQ(hooks.iotlb.size(), 1u);
    EXPECT_EQ(ims_vtd_iotlb_iaig(hooks.iotlb[0]), 2u);
    EXPECT_EQ(ims_vtd_iotlb_iaig(rd(0x508)), 2u);
}

// vtd-facts §1.7: register-based invalidation is not used while QI is enabled.
TEST_F(VtdRegsUnit, RegisterInvalidationRejectedWhileQiEnabled)
{
    make(IMS_VTD_DEFAULT_CAP, IMS_VTD_DEFAULT_ECAP, kVer5);  // else VER alone would reject
    gcmd(1u << 26);
    EXPECT_EQ(wr(IMS_VTD_REG_CCMD, (1ull << 63) | (1ull << 61)), IMS_VTD_MMIO_REJECTED);
    EXPECT_EQ(wr(0x508, (1ull << 63) | (1ull << 60)), IMS_VTD_MMIO_REJECTED);
    EXPECT_TRUE(hooks.ccmd.empty());
    EXPECT_TRUE(hooks.iotlb.empty());
    uint64_t c = rd(IMS_VTD_REG_CCMD), t = rd(0x508);
    EXPECT_FALSE(ims_vtd_ccmd_icc(c));
    EXPECT_EQ(ims_vtd_ccmd_caig(c), 0u);
    EXPECT_FALSE(ims_vtd_iotlb_ivt(t));
    EXPECT_EQ(ims_vtd_iotlb_iaig(t), 0u);
    EXPECT_EQ(ims_vtd_regfile_counters_get(rf)->rejected, 2u);
}

// VT-d 5.10 §6.5 ("supported by hardware implementations ... with Major Version 5 or lower (VER_REG). In all
// other hardware implementations, all requests are treated as invalid requests and will be ignored"),
// §11.4.6.1 CAIG / §11.4.6.3 IAIG 00b: "On hardware implementations with Major Version 6 or higher
// (VER_REG), all invalidation requests through this register are treated as incorrect invalidation requests."
TEST_F(VtdRegsUnit, RegisterInvalidationIgnoredFromVersion6)
{
    for (uint32_t ver : {0x60u, 0x61u, 0x70u}) {
        make(IMS_VTD_DEFAULT_CAP, IMS_VTD_DEFAULT_ECAP, ver);
        hooks = Hooks{};
        ASSERT_EQ(rd(IMS_VTD_REG_VER, 4), ver);
        // Domain-selective CCMD, DID 5; page-selective IOTLB with a valid IVA, DID 7.
        EXPECT_EQ(wr(IMS_VTD_REG_CCMD, (1ull << 63) | (2ull << 61) | 5), IMS_VTD_MMIO_REJECTED) << ver;
        wr(0x500, 0x7000);
        EXPECT_EQ(wr(0x508, (1ull << 63) | (3ull << 60) | (7ull << 32)), IMS_VTD_MMIO_REJECTED) << ver;
        EXPECT_TRUE(hooks.ccmd.empty() && hooks.iotlb.empty());
        // Read back: completed (ICC/IVT 0), actual granularity 00b (Error), software fields as written.
        uint64_t c = rd(IMS_VTD_REG_CCMD), t = rd(0x508);
        EXPECT_EQ(c, (2ull << 61) | 5) << "ICC 0, CIRG 2, CAIG 0, DID 5";
        EXPECT_EQ(t, (3ull << 60) | (7ull << 32)) << "IVT 0, IIRG 3, IAIG 0, DID 7";
        const ims_vtd_regfile_counters *n = ims_vtd_regfile_counters_get(rf);
        EXPECT_EQ(n->rejected, 2u);
        EXPECT_EQ(n->ccmd_invalidations + n->iotlb_invalidations, 0u);
    }
    // Major version 5, any minor: performed.
    make(IMS_VTD_DEFAULT_CAP, IMS_VTD_DEFAULT_ECAP, 0x5f);
    hooks = Hooks{};
    EXPECT_EQ(wr(IMS_VTD_REG_CCMD, (1ull << 63) | (1ull << 61)), IMS_VTD_MMIO_OK);
    EXPECT_EQ(wr(0x508, (1ull << 63) | (1ull << 60)), IMS_VTD_MMIO_OK);
    EXPECT_EQ(hooks.ccmd.size() + hooks.iotlb.size(), 2u);
    EXPECT_EQ(ims_vtd_ccmd_caig(rd(IMS_VTD_REG_CCMD)), 1u);
    EXPECT_EQ(ims_vtd_iotlb_iaig(rd(0x508)), 1u);
}

// VT-d 5.10 §11.4.6.1 ICC / §11.4.6.3 IVT: "When Translation Table Mode field in Root Table Address register is
// not setup as legacy mode (RTADDR_REG.TTM!=00b), hardware will ignore the value ... and report a value of 00b"
// (also §6.5.1: not supported with scalable mode). Decision: the TTM that counts is the one latched by SRTP.
TEST_F(VtdRegsUnit, RegisterInvalidationIgnoredOutsideLegacyMode)
{
    make(IMS_VTD_DEFAULT_CAP, IMS_VTD_DEFAULT_ECAP, kVer5);
    wr(IMS_VTD_REG_RTADDR, 0x12345000ull | (1ull << 10));  // scalable TTM, not yet latched
    EXPECT_EQ(wr(IMS_VTD_REG_CCMD, (1ull << 63) | (1ull << 61)), IMS_VTD_MMIO_OK) << "still legacy until SRTP";
    EXPECT_EQ(gcmd(1u << 30), IMS_VTD_MMIO_OK);
    EXPECT_EQ(wr(IMS_VTD_REG_CCMD, (1ull << 63) | (1ull << 61)), IMS_VTD_MMIO_REJECTED);
    EXPECT_EQ(wr(0x508, (1ull << 63) | (1ull << 60)), IMS_VTD_MMIO_REJECTED);
    EXPECT_EQ(ims_vtd_ccmd_caig(rd(IMS_VTD_REG_CCMD)), 0u);
    EXPECT_EQ(ims_vtd_iotlb_iaig(rd(0x508)), 0u);
    EXPECT_EQ(hooks.ccmd.size(), 1u);
    EXPECT_TRUE(hooks.iotlb.empty());
    // Back to legacy mode: accepted again.
    wr(IMS_VTD_REG_RTADDR, 0x12345000ull);
    EXPECT_EQ(gcmd(1u << 30), IMS_VTD_MMIO_OK);
    EXPECT_EQ(wr(0x508, (1ull << 63) | (1ull << 60)), IMS_VTD_MMIO_OK);
    EXPECT_EQ(ims_vtd_iotlb_iaig(rd(0x508)), 1u);
}

TEST_F(VtdRegsUnit, LegacyIotlbRegistersAtBroadwellOffset)
{
    make(kBdwCap, kBdwEcap, 0x10);
    wr(0x200, 0x5000);
    EXPECT_EQ(wr(0x208, (1ull << 63) | (2ull << 60) | (3ull << 32)), IMS_VTD_MMIO_OK);
    ASSERT_EQ(hooks.iotlb.size(), 1u);
    EXPECT_EQ(hooks.iva[0], 0x5000u);
    EXPECT_EQ(ims_vtd_iotlb_did(hooks.iotlb[0]), 3u);
}

// ---- status registers and events (§1.8, §1.10, §1.11) ------------------------------

TEST_F(VtdRegsUnit, QueueErrorsAreRw1cAndRecordIqercd)
{
    ims_vtd_regfile_raise_iqe(rf, IMS_VTD_IQEI_RESERVED);
    ims_vtd_regfile_raise_ice(rf, 0x0108);
    ims_vtd_regfile_raise_ite(rf, 0x0210);
    EXPECT_EQ(fsts(), 0x70u);
    uint64_t q = rd(IMS_VTD_REG_IQERCD);
    EXPECT_EQ(ims_vtd_iqercd_iqei(q), 4u);
    EXPECT_EQ(ims_vtd_iqercd_icesid(q), 0x0108u);
    EXPECT_EQ(ims_vtd_iqercd_itesid(q), 0x0210u);
    wr(IMS_VTD_REG_FSTS, 0, 4);
    EXPECT_EQ(fsts(), 0x70u) << "writing 0 clears nothing";
    wr(IMS_VTD_REG_FSTS, 1u << 5, 4);
    EXPECT_EQ(fsts(), 0x50u);
    wr(IMS_VTD_REG_FSTS, 0xffffffffu, 4);
    EXPECT_EQ(fsts(), 0u);
}

// vtd-facts §1.8 event rules, with IM masked then unmasked.
TEST_F(VtdRegsUnit, FaultEventMaskedThenUnmasked)
{
    wr(IMS_VTD_REG_FEDATA, 0x4041, 4);
    wr(IMS_VTD_REG_FEADDR, 0xfee00000u, 4);
    wr(IMS_VTD_REG_FEUADDR, 0x1, 4);
    ims_vtd_regfile_raise_iqe(rf, IMS_VTD_IQEI_FETCH_ERROR);
    EXPECT_TRUE(hooks.msi.empty()) << "IM=1 at reset";
    EXPECT_EQ(rd(IMS_VTD_REG_FECTL, 4), 0xc0000000u) << "IM and IP";
    wr(IMS_VTD_REG_FECTL, 0, 4);  // unmask: the pending event is sent
    ASSERT_EQ(hooks.msi.size(), 1u);
    EXPECT_EQ(hooks.msi[0].addr, 0x1fee00000ull);
    EXPECT_EQ(hooks.msi[0].data, 0x4041u);
    EXPECT_EQ(rd(IMS_VTD_REG_FECTL, 4), 0u);
    // another source while one is set: no new event
    ims_vtd_regfile_raise_ice(rf, 1);
    EXPECT_EQ(hooks.msi.size(), 1u);
    // all clear, then a new source: immediate event (IM=0)
    wr(IMS_VTD_REG_FSTS, 0x30, 4);
    ims_vtd_regfile_raise_ite(rf, 2);
    EXPECT_EQ(hooks.msi.size(), 2u);
    EXPECT_EQ(ims_vtd_regfile_counters_get(rf)->msi_fault, 2u);
}

TEST_F(VtdRegsUnit, PendingEventDroppedWhenStatusClearedWhileMasked)
{
    ims_vtd_regfile_raise_iqe(rf, 1);
    EXPECT_TRUE(ims_vtd_ectl_ip(rd(IMS_VTD_REG_FECTL, 4)));
    wr(IMS_VTD_REG_FSTS, 1u << 4, 4);
    EXPECT_FALSE(ims_vtd_ectl_ip(rd(IMS_VTD_REG_FECTL, 4))) << "IP cleared with the last status bit";
    wr(IMS_VTD_REG_FECTL, 0, 4);
    EXPECT_TRUE(hooks.msi.empty());
}

// vtd-facts §1.10: ICS.IWC RW1C, IECTL event on IWC 0->1.
TEST_F(VtdRegsUnit, InvalidationCompletionEvent)
{
    wr(IMS_VTD_REG_IEDATA, 0x55, 4);
    wr(IMS_VTD_REG_IEADDR, 0xfee01000u, 4);
    ims_vtd_regfile_set_iwc(rf);
    EXPECT_EQ(rd(IMS_VTD_REG_ICS, 4), 1u);
    EXPECT_EQ(rd(IMS_VTD_REG_IECTL, 4), 0xc0000000u);
    EXPECT_TRUE(hooks.msi.empty());
    wr(IMS_VTD_REG_IECTL, 0, 4);
    ASSERT_EQ(hooks.msi.size(), 1u);
    EXPECT_EQ(hooks.msi[0].addr, 0xfee01000ull);
    EXPECT_EQ(hooks.msi[0].data, 0x55u);
    ims_vtd_regfile_set_iwc(rf);
    EXPECT_EQ(hooks.msi.size(), 1u) << "IWC already set: no event";
    wr(IMS_VTD_REG_ICS, 1, 4);
    EXPECT_EQ(rd(IMS_VTD_REG_ICS, 4), 0u);
    ims_vtd_regfile_set_iwc(rf);
    EXPECT_EQ(hooks.msi.size(), 2u);
    EXPECT_EQ(ims_vtd_regfile_counters_get(rf)->msi_inv, 2u);
}

// vtd-facts §1.11: PRS.PPR/PRO RW1C; PECTL event; PQT written by hardware only.
TEST_F(VtdRegsUnit, PageRequestStatusAndEvent)
{
    wr(IMS_VTD_REG_PECTL, 0, 4);
    wr(IMS_VTD_REG_PEDATA, 0x77, 4);
    ims_vtd_regfile_set_pqt(rf, 0x40);
    EXPECT_EQ(rd(IMS_VTD_REG_PQT), 0x40u);
    wr(IMS_VTD_REG_PQT, 0);
    EXPECT_EQ(rd(IMS_VTD_REG_PQT), 0x40u) << "PQT is read-only to software";
    ims_vtd_regfile_raise_prs(rf, true, false);
    ASSERT_EQ(hooks.msi.size(), 1u);
    EXPECT_EQ(hooks.msi[0].data, 0x77u);
    ims_vtd_regfile_raise_prs(rf, false, true);
    EXPECT_EQ(hooks.msi.size(), 1u);
    EXPECT_EQ(rd(IMS_VTD_REG_PRS, 4), 3u);
    wr(IMS_VTD_REG_PRS, 1, 4);
    EXPECT_EQ(rd(IMS_VTD_REG_PRS, 4), 2u);
    wr(IMS_VTD_REG_PQH, 0x20);
    EXPECT_EQ(ims_vtd_regfile_pqh(rf), 0x20u);
}

TEST_F(VtdRegsUnit, ResetRestoresInitialState)
{
    wr(IMS_VTD_REG_RTADDR, 0x5000);
    gcmd(1u << 30);
    gcmd(1u << 31);
    wr(IMS_VTD_REG_FECTL, 0, 4);
    ims_vtd_regfile_reset(rf);
    EXPECT_EQ(gsts(), 0u);
    EXPECT_EQ(rd(IMS_VTD_REG_RTADDR), 0u);
    EXPECT_EQ(ims_vtd_regfile_rtaddr(rf), 0u);
    EXPECT_EQ(rd(IMS_VTD_REG_FECTL, 4), 0x80000000u);
    EXPECT_EQ(rd(IMS_VTD_REG_CAP), IMS_VTD_DEFAULT_CAP);
}

// ---- configuration ---------------------------------------------------------------

class VtdConfig : public ::testing::Test {
protected:
    void SetUp() override
    {
        const ims_cfg_key *const tables[] = {ims_vtd_cfg_keys};
        cfg = ims_config_create(tables, 1, &err);
        ASSERT_NE(cfg, nullptr) << err.msg;
    }
    void TearDown() override { ims_config_destroy(cfg); }
    ims_config *cfg = nullptr;
    ims_error err{};
};

TEST_F(VtdConfig, DefaultsMatchTheComposedConstants)
{
    EXPECT_EQ(ims_config_u64(cfg, "vtd.cap"), IMS_VTD_DEFAULT_CAP);
    EXPECT_EQ(ims_config_u64(cfg, "vtd.ecap"), IMS_VTD_DEFAULT_ECAP);
    EXPECT_EQ(ims_config_u64(cfg, "vtd.ver"), (uint64_t)IMS_VTD_DEFAULT_VER);
    EXPECT_EQ(ims_config_u64(cfg, "vtd.base"), IMS_VTD_DEFAULT_BASE);
    ims_vtd_regfile *rf = nullptr;
    ASSERT_EQ(ims_vtd_regfile_create_cfg(cfg, nullptr, &rf, &err), 0) << err.msg;
    EXPECT_EQ(ims_vtd_regfile_cap(rf), IMS_VTD_DEFAULT_CAP);
    ims_vtd_regfile_destroy(rf);
}

TEST_F(VtdConfig, LegacyServerPresetIsBroadwellEp)
{
    ASSERT_EQ(ims_config_load_file(cfg, IMS_SOURCE_DIR "/configs/legacy-server.ini", &err), 0) << err.msg;
    EXPECT_EQ(ims_config_u64(cfg, "vtd.cap"), kBdwCap);
    EXPECT_EQ(ims_config_u64(cfg, "vtd.ecap"), kBdwEcap);
    EXPECT_EQ(ims_config_u64(cfg, "vtd.ver"), 0x10u);
    ims_vtd_regfile *rf = nullptr;
    ASSERT_EQ(ims_vtd_regfile_create_cfg(cfg, nullptr, &rf, &err), 0) << err.msg;
    uint64_t v = 0;
    EXPECT_EQ(ims_vtd_mmio_read(rf, 0x100 + 8, 8, &v), IMS_VTD_MMIO_OK) << "FRCD0 at FRO*16";
    EXPECT_EQ(ims_vtd_mmio_read(rf, 0x170 + 8, 8, &v), IMS_VTD_MMIO_OK) << "FRCD7";
    EXPECT_EQ(ims_vtd_mmio_read(rf, 0x180, 8, &v), IMS_VTD_MMIO_UNMAPPED) << "no FRCD8";
    ims_vtd_regfile_destroy(rf);
}

TEST_F(VtdConfig, ScalableServerPresetIsTheDefault)
{
    ASSERT_EQ(ims_config_load_file(cfg, IMS_SOURCE_DIR "/configs/scalable-server.ini", &err), 0) << err.msg;
    EXPECT_TRUE(ims_config_is_set(cfg, "vtd.cap"));
    EXPECT_EQ(ims_config_u64(cfg, "vtd.cap"), IMS_VTD_DEFAULT_CAP);
    EXPECT_EQ(ims_config_u64(cfg, "vtd.ecap"), IMS_VTD_DEFAULT_ECAP);
    EXPECT_EQ(ims_config_u64(cfg, "vtd.ver"), (uint64_t)IMS_VTD_DEFAULT_VER);
}

TEST_F(VtdConfig, VersionOutOfRangeAndBadLayoutAreErrors)
{
    EXPECT_LT(ims_config_set(cfg, "vtd.ver", "0x100", "test", &err), 0);
    ASSERT_EQ(ims_config_set(cfg, "vtd.cap", "0x8d2078c006f0466", "test", &err), 0) << err.msg;  // FRO=0
    ims_vtd_regfile *rf = nullptr;
    EXPECT_EQ(ims_vtd_regfile_create_cfg(cfg, nullptr, &rf, &err), -EINVAL);
    EXPECT_EQ(rf, nullptr);
}

}  // namespace
