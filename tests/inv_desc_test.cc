// VT-d invalidation descriptors (models/vtd/inv_desc.h): field positions,
// decode of every type and granularity, every IQEI path, builders, text form.
#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "models/dev/ats_range.h"
#include "models/vtd/inv_desc.h"
#include "models/vtd/regs.h"

namespace {

constexpr uint64_t kCap = IMS_VTD_DEFAULT_CAP;   // PSI=1, MAMV=45, 16-bit DIDs
constexpr uint64_t kEcap = IMS_VTD_DEFAULT_ECAP; // SMTS, DT, PRS, PDS, MHMV=15; DIT=0
constexpr uint64_t kEcapDit = kEcap | IMS_VTD_PUT(IMS_VTD_ECAP_DIT, 1);
constexpr uint64_t kTypeBits = UINT64_C(0xE0F); // qw0[11:9] and qw0[3:0]

using Qw = std::array<uint64_t, 4>;

int Decode(const Qw &qw, ims_qi_desc *d, bool dw256 = true, uint64_t cap = kCap, uint64_t ecap = kEcap)
{
    return ims_qi_decode(qw.data(), dw256, cap, ecap, d);
}

std::string Format(const ims_qi_desc &d)
{
    char buf[256];
    int n = ims_qi_desc_format(&d, buf, sizeof buf);
    EXPECT_GT(n, 0);
    EXPECT_LT(n, (int)sizeof buf);
    return buf;
}

// ---- type field and bit positions ----------------------------------------

TEST(InvDesc, TypeFieldIsSplit)
{
    // vtd-facts §4.1: type = qw0[3:0] | qw0[11:9] << 4.
    uint64_t qw[4] = {0x201, 0, 0, 0};
    EXPECT_EQ(ims_qi_type_of(qw), 0x11u);
    qw[0] = 0xA05;
    EXPECT_EQ(ims_qi_type_of(qw), 0x55u);
    qw[0] = UINT64_C(0xFFFFFFFFFFFFF1F7); // other bits do not leak in
    EXPECT_EQ(ims_qi_type_of(qw), 0x07u);
}

TEST(InvDesc, ContextCacheFieldPositions)
{
    // vtd-facts §4.2: G [5:4], DID [31:16], SID [47:32], FM [49:48].
    Qw qw{};
    ims_qi_build_cc_device(qw.data(), 0xFFFF, 0xFFFF, 3);
    EXPECT_EQ(qw[0], UINT64_C(0x0003FFFFFFFF0031));
    EXPECT_EQ(qw[1], 0u);
    Qw raw{UINT64_C(0x0002001000030031), 0, 0, 0};
    EXPECT_EQ(ims_qi_cc_g(raw.data()), 3u);
    EXPECT_EQ(ims_qi_cc_did(raw.data()), 3u);
    EXPECT_EQ(ims_qi_cc_sid(raw.data()), 0x10u);
    EXPECT_EQ(ims_qi_cc_fm(raw.data()), 2u);
}

TEST(InvDesc, IotlbFieldPositions)
{
    // vtd-facts §4.3: G [5:4], DW [6], DR [7], DID [31:16]; qw1 AM [5:0], IH [6], ADDR [63:12].
    Qw qw{};
    ims_qi_build_iotlb_psi(qw.data(), 0xFFFF, ~UINT64_C(0), 63, true, true, true);
    EXPECT_EQ(qw[0], UINT64_C(0x00000000FFFF00F2));
    EXPECT_EQ(qw[1], UINT64_C(0xFFFFFFFFFFFFF07F));
    Qw raw{UINT64_C(0x0000000000050082), UINT64_C(0x0000000012345049), 0, 0};
    EXPECT_EQ(ims_qi_iotlb_g(raw.data()), 0u);
    EXPECT_TRUE(ims_qi_iotlb_dr(raw.data()));
    EXPECT_FALSE(ims_qi_iotlb_dw(raw.data()));
    EXPECT_EQ(ims_qi_iotlb_did(raw.data()), 5u);
    EXPECT_EQ(ims_qi_iotlb_am(raw.data()), 9u);
    EXPECT_TRUE(ims_qi_iotlb_ih(raw.data()));
    EXPECT_EQ(ims_qi_iotlb_addr(raw.data()), UINT64_C(0x12345000));
}

TEST(InvDesc, DeviceTlbFieldPositions)
{
    // vtd-facts §4.4: PFSID[3:0] [15:12], MIP [20:16], SID [47:32], PFSID[15:4] [63:52]; qw1 S [0], ADDR [63:12].
    Qw qw{};
    ASSERT_EQ(ims_qi_build_dev_tlb(qw.data(), 0xFFFF, 0xFFFF, 31, 0x2000, 1), 0);
    EXPECT_EQ(qw[0], UINT64_C(0xFFF0FFFF001FF003));
    EXPECT_EQ(qw[1], UINT64_C(0x2001));
    Qw raw{UINT64_C(0x1230001000054003), UINT64_C(0x5001), 0, 0};
    EXPECT_EQ(ims_qi_dev_tlb_pfsid(raw.data()), 0x1234u);
    EXPECT_EQ(ims_qi_dev_tlb_mip(raw.data()), 5u);
    EXPECT_EQ(ims_qi_dev_tlb_sid(raw.data()), 0x10u);
    EXPECT_TRUE(ims_qi_dev_tlb_s(raw.data()));
    EXPECT_EQ(ims_qi_dev_tlb_addr(raw.data()), 0x5000u);
}

TEST(InvDesc, IecFieldPositions)
{
    // vtd-facts §4.5: G [4], IM [31:27], IIDX [47:32].
    Qw qw{};
    ims_qi_build_iec(qw.data(), IMS_QI_IEC_INDEX_SELECTIVE, 0xFFFF, 31);
    EXPECT_EQ(qw[0], UINT64_C(0x0000FFFFF8000014));
    EXPECT_EQ(qw[1], 0u);
    EXPECT_TRUE(ims_qi_iec_g(qw.data()));
    EXPECT_EQ(ims_qi_iec_im(qw.data()), 31u);
    EXPECT_EQ(ims_qi_iec_iidx(qw.data()), 0xFFFFu);
}

TEST(InvDesc, WaitFieldPositions)
{
    // vtd-facts §4.6: IF [4], SW [5], FN [6], PD [7], status data [63:32]; qw1 status address [63:2].
    Qw qw{};
    ims_qi_build_wait(qw.data(), true, true, true, true, 0xFFFFFFFFu, ~UINT64_C(0));
    EXPECT_EQ(qw[0], UINT64_C(0xFFFFFFFF000000F5));
    EXPECT_EQ(qw[1], UINT64_C(0xFFFFFFFFFFFFFFFC));
    Qw one{};
    ims_qi_build_wait(one.data(), false, true, false, false, 0, 0);
    EXPECT_EQ(one[0], UINT64_C(0x15)); // IF alone is bit 4
    ims_qi_build_wait(one.data(), true, false, false, false, 0, 0);
    EXPECT_EQ(one[0], UINT64_C(0x25)); // SW alone is bit 5
    ims_qi_build_wait(one.data(), false, false, true, false, 0, 0);
    EXPECT_EQ(one[0], UINT64_C(0x45)); // FN alone is bit 6
    ims_qi_build_wait(one.data(), false, false, false, true, 0, 0);
    EXPECT_EQ(one[0], UINT64_C(0x85)); // PD alone is bit 7
    Qw raw{UINT64_C(0xDEADBEEF00000025), UINT64_C(0x12345678), 0, 0};
    EXPECT_EQ(ims_qi_wait_status_data(raw.data()), 0xDEADBEEFu);
    EXPECT_EQ(ims_qi_wait_status_addr(raw.data()), UINT64_C(0x12345678));
}

TEST(InvDesc, PasidIotlbFieldPositions)
{
    // vtd-facts §4.7: G [5:4], DID [31:16], PASID [51:32]; qw1 AM [5:0], IH [6], ADDR [63:12].
    Qw qw{};
    ims_qi_build_piotlb_page(qw.data(), 0xFFFF, 0xFFFFF, ~UINT64_C(0), 63, true);
    EXPECT_EQ(qw[0], UINT64_C(0x000FFFFFFFFF0036));
    EXPECT_EQ(qw[1], UINT64_C(0xFFFFFFFFFFFFF07F));
    EXPECT_EQ(ims_qi_piotlb_pasid(qw.data()), 0xFFFFFu);
    EXPECT_EQ(ims_qi_piotlb_am(qw.data()), 63u);
}

TEST(InvDesc, PasidCacheFieldPositions)
{
    // vtd-facts §4.8: G [5:4], DID [31:16], PASID [51:32].
    Qw qw{};
    ims_qi_build_pc_pasid(qw.data(), 0xFFFF, 0xFFFFF);
    EXPECT_EQ(qw[0], UINT64_C(0x000FFFFFFFFF0017));
    EXPECT_EQ(ims_qi_pc_g(qw.data()), 1u);
    EXPECT_EQ(ims_qi_pc_did(qw.data()), 0xFFFFu);
}

TEST(InvDesc, PasidDeviceTlbFieldPositions)
{
    // vtd-facts §4.9: MIP [8:4], PFSID[3:0] [15:12], SID [31:16], PASID [51:32], PFSID[15:4] [63:52];
    // qw1 G [0], S [11], ADDR [63:12].
    Qw qw{};
    ASSERT_EQ(ims_qi_build_pdev_tlb(qw.data(), 0xFFFF, 0xFFFF, 31, 0xFFFFF, true, 0, IMS_ATS_ORDER_WHOLE), 0);
    EXPECT_EQ(qw[0], UINT64_C(0xFFFFFFFFFFFFF1F8));
    EXPECT_EQ(qw[1], UINT64_C(0x7FFFFFFFFFFFF801));
    Qw raw{UINT64_C(0xABC0000500106058), UINT64_C(0x800), 0, 0};
    EXPECT_EQ(ims_qi_pdev_tlb_mip(raw.data()), 5u);
    EXPECT_EQ(ims_qi_pdev_tlb_pfsid(raw.data()), 0xABC6u);
    EXPECT_EQ(ims_qi_pdev_tlb_sid(raw.data()), 0x10u);
    EXPECT_EQ(ims_qi_pdev_tlb_pasid(raw.data()), 5u);
    EXPECT_FALSE(ims_qi_pdev_tlb_gi(raw.data()));
    EXPECT_TRUE(ims_qi_pdev_tlb_s(raw.data()));
}

TEST(InvDesc, PageGroupResponseFieldPositions)
{
    // vtd-facts §4.10 / spec 5.10 fig. 7-2: PP [4], RC [15:12], RID [31:16], PASID [51:32]; qw1 PRGI [11:3].
    Qw qw{};
    ims_qi_build_page_grp_resp(qw.data(), 0xFFFF, true, 0xFFFFF, 0xF, 0x1FF);
    EXPECT_EQ(qw[0], UINT64_C(0x000FFFFFFFFFF019));
    EXPECT_EQ(qw[1], UINT64_C(0xFF8));
    EXPECT_EQ(ims_qi_page_grp_resp_prgi(qw.data()), 0x1FFu);
    EXPECT_EQ(ims_qi_page_grp_resp_rc(qw.data()), 0xFu);
}

// Every bit of qw0/qw1 is exactly one of: type, a field, reserved, ignored.
TEST(InvDesc, FieldsAndReservedMasksPartitionTheDescriptor)
{
    struct Case {
        unsigned type;
        Qw fields; // built with every field all ones
        uint64_t ignored1;
    };
    std::vector<Case> cases;
    Case c{};
    ims_qi_build_cc_device(c.fields.data(), 0xFFFF, 0xFFFF, 3);
    cases.push_back({1, c.fields, 0});
    ims_qi_build_iotlb_psi(c.fields.data(), 0xFFFF, ~UINT64_C(0), 63, true, true, true);
    cases.push_back({2, c.fields, 0});
    ims_qi_build_dev_tlb(c.fields.data(), 0xFFFF, 0xFFFF, 31, 0, 1);
    c.fields[1] |= UINT64_C(0xFFFFFFFFFFFFF000); // the whole ADDR field
    cases.push_back({3, c.fields, 0});
    ims_qi_build_iec(c.fields.data(), IMS_QI_IEC_INDEX_SELECTIVE, 0xFFFF, 31);
    cases.push_back({4, c.fields, 0});
    ims_qi_build_wait(c.fields.data(), true, true, true, true, 0xFFFFFFFFu, ~UINT64_C(0));
    cases.push_back({5, c.fields, 0});
    ims_qi_build_piotlb_page(c.fields.data(), 0xFFFF, 0xFFFFF, ~UINT64_C(0), 63, true);
    cases.push_back({6, c.fields, 0});
    ims_qi_build_pc_pasid(c.fields.data(), 0xFFFF, 0xFFFFF);
    c.fields[0] |= UINT64_C(0x20); // G is two bits
    cases.push_back({7, c.fields, 0});
    ims_qi_build_pdev_tlb(c.fields.data(), 0xFFFF, 0xFFFF, 31, 0xFFFFF, true, 0, 0);
    c.fields[1] |= UINT64_C(0xFFFFFFFFFFFFF800); // ADDR and S
    cases.push_back({8, c.fields, 0});
    ims_qi_build_page_grp_resp(c.fields.data(), 0xFFFF, true, 0xFFFFF, 0xF, 0x1FF);
    cases.push_back({9, c.fields, UINT64_C(0x4)}); // qw1[2] is IGN (spec 5.10 fig. 7-2)
    for (const Case &k : cases) {
        uint64_t rsvd[4];
        ims_qi_reserved_mask(k.type, kEcapDit | IMS_VTD_PUT(IMS_VTD_ECAP_PDS, 1), rsvd);
        uint64_t f0 = k.fields[0] & ~kTypeBits;
        EXPECT_EQ(f0 & rsvd[0], 0u) << "type " << k.type;
        EXPECT_EQ(k.fields[1] & rsvd[1], 0u) << "type " << k.type;
        EXPECT_EQ(f0 | rsvd[0] | kTypeBits, ~UINT64_C(0)) << "type " << k.type;
        EXPECT_EQ(k.fields[1] | rsvd[1] | k.ignored1, ~UINT64_C(0)) << "type " << k.type;
        EXPECT_EQ(rsvd[2], ~UINT64_C(0));
        EXPECT_EQ(rsvd[3], ~UINT64_C(0));
    }
}

TEST(InvDesc, CapabilityDependentReservedBits)
{
    // Spec 5.10 §6.5.2.9: PD is reserved when ECAP.PDS=0; §6.5.2.5/6: PFSID reserved when ECAP.DIT=0.
    uint64_t m[4];
    ims_qi_reserved_mask(IMS_QI_TYPE_WAIT, 0, m);
    EXPECT_EQ(m[0], IMS_QI_WAIT_RSVD0 | UINT64_C(0x80));
    ims_qi_reserved_mask(IMS_QI_TYPE_WAIT, IMS_VTD_PUT(IMS_VTD_ECAP_PDS, 1), m);
    EXPECT_EQ(m[0], IMS_QI_WAIT_RSVD0);
    ims_qi_reserved_mask(IMS_QI_TYPE_DEV_TLB, 0, m);
    EXPECT_EQ(m[0], IMS_QI_DEV_TLB_RSVD0 | UINT64_C(0xFFF000000000F000));
    ims_qi_reserved_mask(IMS_QI_TYPE_PDEV_TLB, IMS_VTD_PUT(IMS_VTD_ECAP_DIT, 1), m);
    EXPECT_EQ(m[0], 0u);
    ims_qi_reserved_mask(0x33, kEcap, m);
    EXPECT_EQ(m[0], ~UINT64_C(0));
}

// ---- decode of every type and granularity ---------------------------------

TEST(InvDesc, DecodeContextCache)
{
    ims_qi_desc d{};
    ASSERT_EQ(Decode({0x11, 0, 0, 0}, &d), 0);
    EXPECT_EQ(d.type, IMS_QI_TYPE_CC);
    EXPECT_EQ(d.cc.g, IMS_QI_CC_GLOBAL);
    ASSERT_EQ(Decode({UINT64_C(0x00050021), 0, 0, 0}, &d), 0);
    EXPECT_EQ(d.cc.g, IMS_QI_CC_DOMAIN_SELECTIVE);
    EXPECT_EQ(d.cc.did, 5u);
    ASSERT_EQ(Decode({UINT64_C(0x0002001000030031), 0, 0, 0}, &d), 0);
    EXPECT_EQ(d.cc.g, IMS_QI_CC_DEVICE_SELECTIVE);
    EXPECT_EQ(d.cc.did, 3u);
    EXPECT_EQ(d.cc.sid, 0x10u);
    EXPECT_EQ(d.cc.fm, 2u);
    // Global ignores DID/SID/FM: they decode as zero.
    ASSERT_EQ(Decode({UINT64_C(0x0002001000030011), 0, 0, 0}, &d), 0);
    EXPECT_EQ(d.cc.did, 0u);
    EXPECT_EQ(d.cc.sid, 0u);
}

TEST(InvDesc, DecodeIotlb)
{
    ims_qi_desc d{};
    // Global with DR/DW (bits 7/6) and a DID that hardware ignores.
    ASSERT_EQ(Decode({UINT64_C(0x000700D2), 0, 0, 0}, &d), 0);
    EXPECT_EQ(d.type, IMS_QI_TYPE_IOTLB);
    EXPECT_EQ(d.iotlb.g, IMS_QI_IOTLB_GLOBAL);
    EXPECT_EQ(d.iotlb.did, 0u);
    EXPECT_TRUE(d.iotlb.dr);
    EXPECT_TRUE(d.iotlb.dw);
    ASSERT_EQ(Decode({UINT64_C(0x002A0022), UINT64_C(0x5000), 0, 0}, &d), 0);
    EXPECT_EQ(d.iotlb.g, IMS_QI_IOTLB_DOMAIN_SELECTIVE);
    EXPECT_EQ(d.iotlb.did, 42u);
    EXPECT_EQ(d.iotlb.addr, 0u); // ignored for DSI
    ASSERT_EQ(Decode({UINT64_C(0x00030032), UINT64_C(0x200049), 0, 0}, &d), 0);
    EXPECT_EQ(d.iotlb.g, IMS_QI_IOTLB_PAGE_SELECTIVE);
    EXPECT_EQ(d.iotlb.did, 3u);
    EXPECT_EQ(d.iotlb.addr, 0x200000u);
    EXPECT_EQ(d.iotlb.am, 9u);
    EXPECT_TRUE(d.iotlb.ih);
    EXPECT_FALSE(d.iotlb.dr);
}

TEST(InvDesc, DecodeDeviceTlb)
{
    ims_qi_desc d{};
    Qw qw{};
    ASSERT_EQ(ims_qi_build_dev_tlb(qw.data(), 0x0108, 0, 0, 0x4000, 2), 0);
    ASSERT_EQ(Decode(qw, &d, false), 0);
    EXPECT_EQ(d.type, IMS_QI_TYPE_DEV_TLB);
    EXPECT_EQ(d.dev_tlb.sid, 0x0108u);
    EXPECT_EQ(d.dev_tlb.addr, 0x5000u); // 16 KiB: bits 13:12 = 01b
    EXPECT_TRUE(d.dev_tlb.s);
    EXPECT_EQ(d.dev_tlb.mip, 0u);
}

TEST(InvDesc, DecodeIec)
{
    ims_qi_desc d{};
    ASSERT_EQ(Decode({0x04, 0, 0, 0}, &d), 0);
    EXPECT_EQ(d.iec.g, IMS_QI_IEC_GLOBAL);
    ASSERT_EQ(Decode({UINT64_C(0x0000002418000014), 0, 0, 0}, &d), 0);
    EXPECT_EQ(d.iec.g, IMS_QI_IEC_INDEX_SELECTIVE);
    EXPECT_EQ(d.iec.iidx, 0x24u);
    EXPECT_EQ(d.iec.im, 3u);
}

TEST(InvDesc, DecodeWait)
{
    ims_qi_desc d{};
    ASSERT_EQ(Decode({UINT64_C(0x0000000100000025), UINT64_C(0x7F000), 0, 0}, &d), 0);
    EXPECT_EQ(d.type, IMS_QI_TYPE_WAIT);
    EXPECT_TRUE(d.wait.sw);
    EXPECT_FALSE(d.wait.iflag);
    EXPECT_EQ(d.wait.status_data, 1u);
    EXPECT_EQ(d.wait.status_addr, 0x7F000u);
    // Without SW the status fields are ignored.
    ASSERT_EQ(Decode({UINT64_C(0x0000000100000015), UINT64_C(0x7F000), 0, 0}, &d), 0);
    EXPECT_TRUE(d.wait.iflag);
    EXPECT_EQ(d.wait.status_data, 0u);
    EXPECT_EQ(d.wait.status_addr, 0u);
}

TEST(InvDesc, WaitSwAndIfTogetherAreAllowed)
{
    // ⚠ vtd-facts §4.6/§7.7 (QEMU asserts exclusivity). Spec 5.10 §6.5.2.9 completes
    // SW and IF independently, so both may be set; a wait with neither is a barrier (§7.10 a).
    ims_qi_desc d{};
    Qw qw{};
    ims_qi_build_wait(qw.data(), true, true, false, false, 7, 0x1000);
    ASSERT_EQ(Decode(qw, &d), 0);
    EXPECT_TRUE(d.wait.sw);
    EXPECT_TRUE(d.wait.iflag);
    ims_qi_build_wait(qw.data(), false, false, true, false, 0, 0);
    ASSERT_EQ(Decode(qw, &d), 0);
    EXPECT_TRUE(d.wait.fn);
}

TEST(InvDesc, DecodePasidIotlb)
{
    ims_qi_desc d{};
    ASSERT_EQ(Decode({UINT64_C(0x0000000500070026), UINT64_C(0x9000), 0, 0}, &d), 0);
    EXPECT_EQ(d.type, IMS_QI_TYPE_PIOTLB);
    EXPECT_EQ(d.piotlb.g, IMS_QI_PIOTLB_PASID_SELECTIVE);
    EXPECT_EQ(d.piotlb.did, 7u);
    EXPECT_EQ(d.piotlb.pasid, 5u);
    EXPECT_EQ(d.piotlb.addr, 0u); // ignored for PASID-selective
    ASSERT_EQ(Decode({UINT64_C(0x0000000500070036), UINT64_C(0x9001), 0, 0}, &d), 0);
    EXPECT_EQ(d.piotlb.g, IMS_QI_PIOTLB_PAGE_SELECTIVE);
    EXPECT_EQ(d.piotlb.addr, 0x9000u);
    EXPECT_EQ(d.piotlb.am, 1u);
}

TEST(InvDesc, DecodePasidCache)
{
    ims_qi_desc d{};
    ASSERT_EQ(Decode({UINT64_C(0x0000000500070007), 0, 0, 0}, &d), 0);
    EXPECT_EQ(d.pc.g, IMS_QI_PC_DOMAIN_SELECTIVE);
    EXPECT_EQ(d.pc.did, 7u);
    EXPECT_EQ(d.pc.pasid, 0u); // ignored for domain-selective
    ASSERT_EQ(Decode({UINT64_C(0x0000000500070017), 0, 0, 0}, &d), 0);
    EXPECT_EQ(d.pc.g, IMS_QI_PC_PASID_SELECTIVE);
    EXPECT_EQ(d.pc.pasid, 5u);
    ASSERT_EQ(Decode({UINT64_C(0x0000000500070037), 0, 0, 0}, &d), 0);
    EXPECT_EQ(d.pc.g, IMS_QI_PC_GLOBAL);
    EXPECT_EQ(d.pc.did, 0u);
}

TEST(InvDesc, DecodePasidDeviceTlb)
{
    ims_qi_desc d{};
    Qw qw{};
    ASSERT_EQ(ims_qi_build_pdev_tlb(qw.data(), 0x0300, 0, 4, 9, false, 0, IMS_ATS_ORDER_WHOLE), 0);
    ASSERT_EQ(Decode(qw, &d), 0);
    EXPECT_EQ(d.type, IMS_QI_TYPE_PDEV_TLB);
    EXPECT_EQ(d.pdev_tlb.sid, 0x0300u);
    EXPECT_EQ(d.pdev_tlb.pasid, 9u);
    EXPECT_EQ(d.pdev_tlb.mip, 4u);
    EXPECT_EQ(d.pdev_tlb.addr, IMS_ATS_ADDR_WHOLE);
    EXPECT_TRUE(d.pdev_tlb.s);
    // GI=1: PASID is ignored.
    ASSERT_EQ(ims_qi_build_pdev_tlb(qw.data(), 0x0300, 0, 0, 9, true, 0x1000, 0), 0);
    ASSERT_EQ(Decode(qw, &d), 0);
    EXPECT_TRUE(d.pdev_tlb.gi);
    EXPECT_EQ(d.pdev_tlb.pasid, 0u);
}

TEST(InvDesc, DecodePageGroupResponse)
{
    ims_qi_desc d{};
    Qw qw{};
    ims_qi_build_page_grp_resp(qw.data(), 0x0300, true, 0x42, IMS_QI_PGRP_RC_INVALID, 17);
    ASSERT_EQ(Decode(qw, &d), 0);
    EXPECT_EQ(d.type, IMS_QI_TYPE_PGRP_RESP);
    EXPECT_EQ(d.page_grp_resp.rid, 0x0300u);
    EXPECT_TRUE(d.page_grp_resp.pp);
    EXPECT_EQ(d.page_grp_resp.pasid, 0x42u);
    EXPECT_EQ(d.page_grp_resp.rc, 1u);
    EXPECT_EQ(d.page_grp_resp.prgi, 17u);
    // qw1[2] (old LPIG) is IGN in rev 5.10 fig. 7-2.
    qw[1] |= 0x4;
    EXPECT_EQ(Decode(qw, &d), 0);
}

// ---- IQEI paths -------------------------------------------------------------

TEST(InvDesc, InvalidTypes)
{
    // vtd-facts §1.10 IQEI 3: invalid descriptor type.
    ims_qi_desc d{};
    EXPECT_EQ(Decode({0x0, 0, 0, 0}, &d), IMS_VTD_IQEI_BAD_TYPE);
    EXPECT_EQ(Decode({0xB, 0, 0, 0}, &d), IMS_VTD_IQEI_BAD_TYPE);
    EXPECT_EQ(Decode({0x201, 0, 0, 0}, &d), IMS_VTD_IQEI_BAD_TYPE); // type 0x11
    EXPECT_EQ((unsigned)d.type, 0x11u);
    // 0xA is the rev 5.x HPT cache invalidation; the model reports ECAP.HPTS=0.
    EXPECT_EQ(Decode({0xA, 0, 0, 0}, &d), IMS_VTD_IQEI_BAD_TYPE);
}

TEST(InvDesc, WideOnlyTypesInNarrowQueueAreInvalidType)
{
    // ⚠ vtd-facts §4.1 (QEMU: width error). Spec 5.10 Table 26: with DW=0 only types 1-5
    // are valid, so types 6-9 give IQEI 3; IQEI 5 is reserved for the IQA.DW setting.
    ims_qi_desc d{};
    for (uint64_t t : {6, 7, 8, 9}) {
        Qw qw{t | (t == 6 || t == 7 ? 0x30u : 0u), 0, 0, 0};
        EXPECT_EQ(Decode(qw, &d, false), IMS_VTD_IQEI_BAD_TYPE) << "type " << t;
        EXPECT_EQ(Decode(qw, &d, true), 0) << "type " << t;
    }
    EXPECT_TRUE(ims_qi_type_is_256(6));
    EXPECT_TRUE(ims_qi_type_is_256(9));
    EXPECT_FALSE(ims_qi_type_is_256(5));
}

TEST(InvDesc, CapabilityGatedTypes)
{
    ims_qi_desc d{};
    Qw dev{}, pdev{}, pio{}, pc{}, pgrp{};
    ASSERT_EQ(ims_qi_build_dev_tlb(dev.data(), 1, 0, 0, 0, 0), 0);
    ASSERT_EQ(ims_qi_build_pdev_tlb(pdev.data(), 1, 0, 0, 1, false, 0, 0), 0);
    ims_qi_build_piotlb_pasid(pio.data(), 1, 1);
    ims_qi_build_pc_global(pc.data());
    ims_qi_build_page_grp_resp(pgrp.data(), 1, false, 0, 0, 0);
    // Spec 5.10 §6.5.2.5-6: device-TLB types are invalid types without ECAP.DT.
    uint64_t no_dt = kEcap & ~IMS_VTD_PUT(IMS_VTD_ECAP_DT, 1);
    EXPECT_EQ(Decode(dev, &d, true, kCap, no_dt), IMS_VTD_IQEI_BAD_TYPE);
    EXPECT_EQ(Decode(pdev, &d, true, kCap, no_dt), IMS_VTD_IQEI_BAD_TYPE);
    // PASID-based types need scalable mode (ECAP.SMTS); ADMS keeps 256-bit queues legal.
    uint64_t no_smts = (kEcap & ~IMS_VTD_PUT(IMS_VTD_ECAP_SMTS, 1)) | IMS_VTD_PUT(IMS_VTD_ECAP_ADMS, 1);
    EXPECT_EQ(Decode(pio, &d, true, kCap, no_smts), IMS_VTD_IQEI_BAD_TYPE);
    EXPECT_EQ(Decode(pc, &d, true, kCap, no_smts), IMS_VTD_IQEI_BAD_TYPE);
    EXPECT_EQ(Decode(pdev, &d, true, kCap, no_smts), IMS_VTD_IQEI_BAD_TYPE);
    EXPECT_EQ(Decode(dev, &d, true, kCap, no_smts), 0);
    // Spec 5.10 §7.6.1: page-group responses need ECAP.PRS.
    uint64_t no_prs = kEcap & ~IMS_VTD_PUT(IMS_VTD_ECAP_PRS, 1);
    EXPECT_EQ(Decode(pgrp, &d, true, kCap, no_prs), IMS_VTD_IQEI_BAD_TYPE);
    EXPECT_EQ(Decode(pgrp, &d, true, kCap, kEcap), 0);
}

TEST(InvDesc, WideQueueNeedsScalableOrAbortDma)
{
    // Spec 5.10 §11.4.9.9 IQEI 5: DW=1 with ECAP.SMTS=0 and ECAP.ADMS=0.
    ims_qi_desc d{};
    uint64_t legacy = kEcap & ~IMS_VTD_PUT(IMS_VTD_ECAP_SMTS, 1);
    EXPECT_EQ(Decode({0x11, 0, 0, 0}, &d, true, kCap, legacy), IMS_VTD_IQEI_BAD_WIDTH);
    EXPECT_EQ(Decode({0x11, 0, 0, 0}, &d, false, kCap, legacy), 0);
    EXPECT_EQ(Decode({0x11, 0, 0, 0}, &d, true, kCap, legacy | IMS_VTD_PUT(IMS_VTD_ECAP_ADMS, 1)), 0);
    // Width is checked before the type.
    EXPECT_EQ(Decode({0x0, 0, 0, 0}, &d, true, kCap, legacy), IMS_VTD_IQEI_BAD_WIDTH);
}

// One valid descriptor per type, for the reserved-bit sweep.
std::vector<Qw> ValidOfEachType()
{
    std::vector<Qw> v(9);
    ims_qi_build_cc_device(v[0].data(), 1, 2, 1);
    ims_qi_build_iotlb_psi(v[1].data(), 1, 0x1000, 0, false, false, false);
    ims_qi_build_dev_tlb(v[2].data(), 1, 0, 0, 0x2000, 1);
    ims_qi_build_iec(v[3].data(), IMS_QI_IEC_INDEX_SELECTIVE, 3, 0);
    ims_qi_build_wait(v[4].data(), true, false, false, false, 1, 0x1000);
    ims_qi_build_piotlb_page(v[5].data(), 1, 2, 0x1000, 0, false);
    ims_qi_build_pc_pasid(v[6].data(), 1, 2);
    ims_qi_build_pdev_tlb(v[7].data(), 1, 0, 0, 2, false, 0x1000, 0);
    ims_qi_build_page_grp_resp(v[8].data(), 1, true, 2, 0, 3);
    return v;
}

TEST(InvDesc, EveryReservedBitIsAReservedFieldViolation)
{
    // vtd-facts §4.1: a non-zero reserved bit raises IQE with IQEI=4; in a 256-bit
    // queue qw2/qw3 of every type are reserved (128-bit types are zero-padded, §6.5.2.1).
    for (const Qw &base : ValidOfEachType()) {
        unsigned type = ims_qi_type_of(base.data());
        ims_qi_desc d{};
        ASSERT_EQ(Decode(base, &d), 0) << "type " << type;
        uint64_t rsvd[4];
        ims_qi_reserved_mask(type, kEcap, rsvd);
        int checked = 0;
        for (unsigned w = 0; w < 4; w++) {
            for (unsigned b = 0; b < 64; b++) {
                if (!(rsvd[w] >> b & 1))
                    continue;
                Qw qw = base;
                qw[w] |= UINT64_C(1) << b;
                EXPECT_EQ(Decode(qw, &d), IMS_VTD_IQEI_RESERVED) << "type " << type << " qw" << w << " bit " << b;
                checked++;
            }
        }
        EXPECT_GE(checked, 128) << "type " << type;
    }
}

TEST(InvDesc, NarrowQueueDoesNotReadUpperQwords)
{
    ims_qi_desc d{};
    Qw qw{0x11, 0, ~UINT64_C(0), ~UINT64_C(0)};
    EXPECT_EQ(Decode(qw, &d, false), 0);
    EXPECT_EQ(Decode(qw, &d, true), IMS_VTD_IQEI_RESERVED);
}

TEST(InvDesc, ReservedGranularities)
{
    // vtd-facts §4.2 (CC G=00), §4.3 (IOTLB G=00), §4.7 (P_IOTLB G=00/01), §4.8 (PC G=10):
    // reserved encodings are reserved-field violations (IQEI 4).
    ims_qi_desc d{};
    EXPECT_EQ(Decode({0x01, 0, 0, 0}, &d), IMS_VTD_IQEI_RESERVED);
    EXPECT_EQ(Decode({0x02, 0, 0, 0}, &d), IMS_VTD_IQEI_RESERVED);
    EXPECT_EQ(Decode({0x06, 0, 0, 0}, &d), IMS_VTD_IQEI_RESERVED);
    EXPECT_EQ(Decode({0x16, 0, 0, 0}, &d), IMS_VTD_IQEI_RESERVED);
    EXPECT_EQ(Decode({0x27, 0, 0, 0}, &d), IMS_VTD_IQEI_RESERVED);
    EXPECT_EQ(d.type, IMS_QI_TYPE_PC);
}

TEST(InvDesc, PageSelectiveIotlbLimits)
{
    // Spec 5.10 §6.5.2.3: PSI is invalid without CAP.PSI. Decision: AM > CAP.MAMV is a
    // reserved-field violation (IQEI 4), as in QEMU; software falls back to DSI (Linux).
    ims_qi_desc d{};
    uint64_t cap9 = IMS_VTD_SET(IMS_VTD_CAP_MAMV, kCap, 9);
    Qw ok{}, big{};
    ims_qi_build_iotlb_psi(ok.data(), 1, 0x200000, 9, false, false, false);
    ims_qi_build_iotlb_psi(big.data(), 1, 0x400000, 10, false, false, false);
    EXPECT_EQ(Decode(ok, &d, true, cap9), 0);
    EXPECT_EQ(Decode(big, &d, true, cap9), IMS_VTD_IQEI_RESERVED);
    uint64_t no_psi = kCap & ~IMS_VTD_PUT(IMS_VTD_CAP_PSI, 1);
    EXPECT_EQ(Decode(ok, &d, true, no_psi), IMS_VTD_IQEI_RESERVED);
    Qw dsi{};
    ims_qi_build_iotlb_dsi(dsi.data(), 1, false, false);
    EXPECT_EQ(Decode(dsi, &d, true, no_psi), 0);
}

TEST(InvDesc, UnalignedAddressIsMaskedNotRejected)
{
    // Decision (spec 5.10 §6.5.2.3, Table 22): AM masks the low ADDR bits, so an ADDR
    // not aligned to 2^(AM+12) is accepted and names the aligned block around it.
    ims_qi_desc d{};
    Qw qw{};
    ims_qi_build_iotlb_psi(qw.data(), 1, 0x3000, 1, false, false, false);
    ASSERT_EQ(Decode(qw, &d), 0);
    EXPECT_EQ(d.iotlb.addr, 0x3000u);
    uint64_t first = 0, last = 0;
    ims_qi_am_span(d.iotlb.addr, d.iotlb.am, &first, &last);
    EXPECT_EQ(first, 0x2000u);
    EXPECT_EQ(last, 0x3FFFu);
    ims_qi_am_span(0x12345000, 52, &first, &last);
    EXPECT_EQ(first, 0u);
    EXPECT_EQ(last, UINT64_MAX);
}

TEST(InvDesc, PasidIotlbAmIsNotLimitedByMamv)
{
    // Spec 5.10 §11.4.2 (MAMV): SMTS units support p_iotlb_inv_dsc with any address mask.
    ims_qi_desc d{};
    Qw qw{};
    ims_qi_build_piotlb_page(qw.data(), 1, 2, 0, 30, false);
    EXPECT_EQ(Decode(qw, &d, true, IMS_VTD_SET(IMS_VTD_CAP_MAMV, kCap, 0)), 0);
    EXPECT_EQ(d.piotlb.am, 30u);
}

TEST(InvDesc, IecIndexMaskLimitedByMhmv)
{
    // Decision: IM > ECAP.MHMV is treated like AM > MAMV (IQEI 4).
    ims_qi_desc d{};
    Qw qw{};
    ims_qi_build_iec(qw.data(), IMS_QI_IEC_INDEX_SELECTIVE, 0, 4);
    uint64_t mhmv3 = IMS_VTD_SET(IMS_VTD_ECAP_MHMV, kEcap, 3);
    EXPECT_EQ(Decode(qw, &d, true, kCap, mhmv3), IMS_VTD_IQEI_RESERVED);
    ims_qi_build_iec(qw.data(), IMS_QI_IEC_INDEX_SELECTIVE, 0, 3);
    EXPECT_EQ(Decode(qw, &d, true, kCap, mhmv3), 0);
}

TEST(InvDesc, PageRequestDrainNeedsPds)
{
    // vtd-facts §4.6 / spec 5.10 §6.5.2.9: PD is reserved when ECAP.PDS=0.
    ims_qi_desc d{};
    Qw qw{};
    ims_qi_build_wait(qw.data(), true, false, false, true, 1, 0x1000);
    EXPECT_EQ(Decode(qw, &d), 0);
    EXPECT_TRUE(d.wait.pd);
    uint64_t no_pds = kEcap & ~IMS_VTD_PUT(IMS_VTD_ECAP_PDS, 1);
    EXPECT_EQ(Decode(qw, &d, true, kCap, no_pds), IMS_VTD_IQEI_RESERVED);
}

TEST(InvDesc, PfsidAcceptedWithDit)
{
    // ⚠ vtd-facts §4.4/§7.6 (QEMU rejects PFSID). Spec 5.10 §6.5.2.5-6: PFSID is a field
    // when ECAP.DIT=1 and reserved when DIT=0.
    ims_qi_desc d{};
    Qw dev{}, pdev{};
    ASSERT_EQ(ims_qi_build_dev_tlb(dev.data(), 0x0109, 0x0108, 0, 0, 0), 0);
    ASSERT_EQ(ims_qi_build_pdev_tlb(pdev.data(), 0x0109, 0x0108, 0, 3, false, 0, 0), 0);
    ASSERT_EQ(Decode(dev, &d, true, kCap, kEcapDit), 0);
    EXPECT_EQ(d.dev_tlb.pfsid, 0x0108u);
    ASSERT_EQ(Decode(pdev, &d, true, kCap, kEcapDit), 0);
    EXPECT_EQ(d.pdev_tlb.pfsid, 0x0108u);
    EXPECT_EQ(Decode(dev, &d, true, kCap, kEcap), IMS_VTD_IQEI_RESERVED);
    EXPECT_EQ(Decode(pdev, &d, true, kCap, kEcap), IMS_VTD_IQEI_RESERVED);
}

TEST(InvDesc, DomainIdMaskedToCapWidth)
{
    // Spec 5.10 §6.5.2.2-4: hardware ignores DID bits 31:(16+N), N = CAP.ND width.
    ims_qi_desc d{};
    Qw qw{};
    ims_qi_build_iotlb_dsi(qw.data(), 0x1234, false, false);
    uint64_t cap8 = IMS_VTD_SET(IMS_VTD_CAP_ND, kCap, 2); // 8-bit DIDs
    ASSERT_EQ(Decode(qw, &d, true, cap8), 0);
    EXPECT_EQ(d.iotlb.did, 0x34u);
}

TEST(InvDesc, ErrorLeavesOnlyTheType)
{
    ims_qi_desc d{};
    d.iotlb.did = 99;
    EXPECT_EQ(Decode({UINT64_C(0x00630002), 0, 0, 0}, &d), IMS_VTD_IQEI_RESERVED);
    EXPECT_EQ(d.type, IMS_QI_TYPE_IOTLB);
    EXPECT_EQ(d.iotlb.did, 0u);
}

TEST(InvDesc, TranslationModeRules)
{
    // Spec 5.10 Table 26 and §11.4.9.9.
    ims_qi_desc d{};
    Qw pc{}, cc{};
    ims_qi_build_pc_global(pc.data());
    ims_qi_build_cc_global(cc.data());
    EXPECT_EQ(ims_qi_decode_mode(pc.data(), true, IMS_VTD_TTM_LEGACY, kCap, kEcap, &d), IMS_VTD_IQEI_BAD_TYPE);
    EXPECT_EQ(ims_qi_decode_mode(cc.data(), true, IMS_VTD_TTM_LEGACY, kCap, kEcap, &d), 0);
    EXPECT_EQ(ims_qi_decode_mode(cc.data(), false, IMS_VTD_TTM_LEGACY, kCap, kEcap, &d), 0);
    EXPECT_EQ(ims_qi_decode_mode(cc.data(), false, IMS_VTD_TTM_SCALABLE, kCap, kEcap, &d), IMS_VTD_IQEI_BAD_WIDTH);
    EXPECT_EQ(ims_qi_decode_mode(pc.data(), true, IMS_VTD_TTM_SCALABLE, kCap, kEcap, &d), 0);
    EXPECT_EQ(ims_qi_decode_mode(pc.data(), true, IMS_VTD_TTM_ABORT_DMA, kCap, kEcap, &d), 0);
    EXPECT_EQ(ims_qi_decode_mode(pc.data(), false, IMS_VTD_TTM_ABORT_DMA, kCap, kEcap, &d), IMS_VTD_IQEI_BAD_WIDTH);
    EXPECT_EQ(ims_qi_decode_mode(cc.data(), true, 2, kCap, kEcap, &d), IMS_VTD_IQEI_BAD_TTM);
}

// ---- builders ---------------------------------------------------------------

TEST(InvDesc, DeviceTlbBuilderRejectsUnalignedRange)
{
    Qw qw{1, 2, 3, 4};
    EXPECT_EQ(ims_qi_build_dev_tlb(qw.data(), 1, 0, 0, 0x3000, 1), -EINVAL);
    EXPECT_EQ(ims_qi_build_pdev_tlb(qw.data(), 1, 0, 0, 0, false, 0, 53), -EINVAL);
    EXPECT_EQ(qw, (Qw{1, 2, 3, 4}));
}

TEST(InvDesc, BuildersZeroUpperQwords)
{
    Qw qw{~UINT64_C(0), ~UINT64_C(0), ~UINT64_C(0), ~UINT64_C(0)};
    ims_qi_build_iotlb_global(qw.data(), false, false);
    EXPECT_EQ(qw, (Qw{0x12, 0, 0, 0}));
}

// Field-wise equality of two decoded descriptors (padding is not compared).
bool Same(const ims_qi_desc &a, const ims_qi_desc &b)
{
    if (a.type != b.type)
        return false;
    switch (a.type) {
    case IMS_QI_TYPE_CC:
        return a.cc.g == b.cc.g && a.cc.did == b.cc.did && a.cc.sid == b.cc.sid && a.cc.fm == b.cc.fm;
    case IMS_QI_TYPE_IOTLB:
        return a.iotlb.g == b.iotlb.g && a.iotlb.did == b.iotlb.did && a.iotlb.dr == b.iotlb.dr &&
               a.iotlb.dw == b.iotlb.dw && a.iotlb.addr == b.iotlb.addr && a.iotlb.am == b.iotlb.am &&
               a.iotlb.ih == b.iotlb.ih;
    case IMS_QI_TYPE_DEV_TLB:
        return a.dev_tlb.sid == b.dev_tlb.sid && a.dev_tlb.pfsid == b.dev_tlb.pfsid &&
               a.dev_tlb.mip == b.dev_tlb.mip && a.dev_tlb.addr == b.dev_tlb.addr && a.dev_tlb.s == b.dev_tlb.s;
    case IMS_QI_TYPE_IEC:
        return a.iec.g == b.iec.g && a.iec.iidx == b.iec.iidx && a.iec.im == b.iec.im;
    case IMS_QI_TYPE_WAIT:
        return a.wait.iflag == b.wait.iflag && a.wait.sw == b.wait.sw && a.wait.fn == b.wait.fn &&
               a.wait.pd == b.wait.pd && a.wait.status_data == b.wait.status_data &&
               a.wait.status_addr == b.wait.status_addr;
    case IMS_QI_TYPE_PIOTLB:
        return a.piotlb.g == b.piotlb.g && a.piotlb.did == b.piotlb.did && a.piotlb.pasid == b.piotlb.pasid &&
               a.piotlb.addr == b.piotlb.addr && a.piotlb.am == b.piotlb.am && a.piotlb.ih == b.piotlb.ih;
    case IMS_QI_TYPE_PC:
        return a.pc.g == b.pc.g && a.pc.did == b.pc.did && a.pc.pasid == b.pc.pasid;
    case IMS_QI_TYPE_PDEV_TLB:
        return a.pdev_tlb.sid == b.pdev_tlb.sid && a.pdev_tlb.pfsid == b.pdev_tlb.pfsid &&
               a.pdev_tlb.mip == b.pdev_tlb.mip && a.pdev_tlb.pasid == b.pdev_tlb.pasid &&
               a.pdev_tlb.gi == b.pdev_tlb.gi && a.pdev_tlb.addr == b.pdev_tlb.addr && a.pdev_tlb.s == b.pdev_tlb.s;
    case IMS_QI_TYPE_PGRP_RESP:
        return a.page_grp_resp.rid == b.page_grp_resp.rid && a.page_grp_resp.pp == b.page_grp_resp.pp &&
               a.page_grp_resp.pasid == b.page_grp_resp.pasid && a.page_grp_resp.rc == b.page_grp_resp.rc &&
               a.page_grp_resp.prgi == b.page_grp_resp.prgi;
    default:
        break;
    }
    return false;
}

// Random descriptors through each builder must decode to the same fields and
// re-encode to the same bits.
TEST(InvDesc, BuilderDecoderRoundTripProperty)
{
    std::mt19937_64 rng(2024);
    auto u = [&](unsigned bits) { return (unsigned)(rng() & ((UINT64_C(1) << bits) - 1)); };
    const uint64_t ecap = kEcapDit;
    for (int i = 0; i < 3000; i++) {
        Qw qw{};
        ims_qi_desc want{};
        unsigned kind = u(5) % 16;
        uint16_t did = (uint16_t)u(16), sid = (uint16_t)u(16), pfsid = (uint16_t)u(16);
        uint32_t pasid = u(20);
        uint64_t addr = rng() & ~UINT64_C(0xFFF);
        unsigned am = u(6) % 46, mip = u(5);
        bool b1 = u(1), b2 = u(1), b3 = u(1);
        switch (kind) {
        case 0: ims_qi_build_cc_global(qw.data()); want.type = IMS_QI_TYPE_CC; want.cc.g = IMS_QI_CC_GLOBAL; break;
        case 1:
            ims_qi_build_cc_domain(qw.data(), did);
            want.type = IMS_QI_TYPE_CC; want.cc = {IMS_QI_CC_DOMAIN_SELECTIVE, did, 0, 0};
            break;
        case 2:
            ims_qi_build_cc_device(qw.data(), did, sid, mip & 3);
            want.type = IMS_QI_TYPE_CC; want.cc = {IMS_QI_CC_DEVICE_SELECTIVE, did, sid, mip & 3};
            break;
        case 3:
            ims_qi_build_iotlb_global(qw.data(), b1, b2);
            want.type = IMS_QI_TYPE_IOTLB; want.iotlb = {IMS_QI_IOTLB_GLOBAL, 0, b1, b2, 0, 0, false};
            break;
        case 4:
            ims_qi_build_iotlb_dsi(qw.data(), did, b1, b2);
            want.type = IMS_QI_TYPE_IOTLB; want.iotlb = {IMS_QI_IOTLB_DOMAIN_SELECTIVE, did, b1, b2, 0, 0, false};
            break;
        case 5:
            ims_qi_build_iotlb_psi(qw.data(), did, addr, am, b3, b1, b2);
            want.type = IMS_QI_TYPE_IOTLB; want.iotlb = {IMS_QI_IOTLB_PAGE_SELECTIVE, did, b1, b2, addr, am, b3};
            break;
        case 6: {
            unsigned order = u(6) % 53;
            uint64_t base = order == 52 ? 0 : addr & ~((UINT64_C(4096) << order) - 1);
            ASSERT_EQ(ims_qi_build_dev_tlb(qw.data(), sid, pfsid, mip, base, order), 0);
            ims_ats_range r{base, order};
            uint64_t a;
            bool s;
            ASSERT_EQ(ims_ats_range_encode(&r, &a, &s), 0);
            want.type = IMS_QI_TYPE_DEV_TLB; want.dev_tlb = {sid, pfsid, mip, a, s};
            break;
        }
        case 7:
            if (b1) {
                ims_qi_build_iec(qw.data(), IMS_QI_IEC_INDEX_SELECTIVE, did, mip % 16);
                want.iec = {IMS_QI_IEC_INDEX_SELECTIVE, did, mip % 16};
            } else {
                ims_qi_build_iec(qw.data(), IMS_QI_IEC_GLOBAL, 0, 0);
                want.iec = {IMS_QI_IEC_GLOBAL, 0, 0};
            }
            want.type = IMS_QI_TYPE_IEC;
            break;
        case 8: {
            // Status data/address are meaningful (and kept) only with SW.
            uint32_t data = b1 ? (uint32_t)rng() : 0;
            uint64_t sa = b1 ? rng() & ~UINT64_C(3) : 0;
            ims_qi_build_wait(qw.data(), b1, b2, b3, mip & 1, data, sa);
            want.type = IMS_QI_TYPE_WAIT;
            want.wait = {b2, b1, b3, (mip & 1) != 0, data, sa};
            break;
        }
        case 9:
            ims_qi_build_piotlb_pasid(qw.data(), did, pasid);
            want.type = IMS_QI_TYPE_PIOTLB; want.piotlb = {IMS_QI_PIOTLB_PASID_SELECTIVE, did, pasid, 0, 0, false};
            break;
        case 10:
            ims_qi_build_piotlb_page(qw.data(), did, pasid, addr, u(6), b1);
            want.type = IMS_QI_TYPE_PIOTLB;
            want.piotlb = {IMS_QI_PIOTLB_PAGE_SELECTIVE, did, pasid, addr, ims_qi_piotlb_am(qw.data()), b1};
            break;
        case 11:
            ims_qi_build_pc_domain(qw.data(), did);
            want.type = IMS_QI_TYPE_PC; want.pc = {IMS_QI_PC_DOMAIN_SELECTIVE, did, 0};
            break;
        case 12:
            ims_qi_build_pc_pasid(qw.data(), did, pasid);
            want.type = IMS_QI_TYPE_PC; want.pc = {IMS_QI_PC_PASID_SELECTIVE, did, pasid};
            break;
        case 13:
            ims_qi_build_pc_global(qw.data());
            want.type = IMS_QI_TYPE_PC; want.pc = {IMS_QI_PC_GLOBAL, 0, 0};
            break;
        case 14: {
            unsigned order = u(6) % 53;
            uint64_t base = order == 52 ? 0 : addr & ~((UINT64_C(4096) << order) - 1);
            if (b1)
                pasid = 0; // PASID is ignored (and dropped) for a global invalidation
            ASSERT_EQ(ims_qi_build_pdev_tlb(qw.data(), sid, pfsid, mip, pasid, b1, base, order), 0);
            ims_ats_range r{base, order};
            uint64_t a;
            bool s;
            ASSERT_EQ(ims_ats_range_encode(&r, &a, &s), 0);
            want.type = IMS_QI_TYPE_PDEV_TLB; want.pdev_tlb = {sid, pfsid, mip, pasid, b1, a, s};
            break;
        }
        default: {
            unsigned rc = u(4), prgi = u(9);
            if (!b1)
                pasid = 0; // PASID is ignored without PP
            ims_qi_build_page_grp_resp(qw.data(), sid, b1, pasid, rc, prgi);
            want.type = IMS_QI_TYPE_PGRP_RESP; want.page_grp_resp = {sid, b1, pasid, rc, prgi};
            break;
        }
        }
        ims_qi_desc got{};
        ASSERT_EQ(Decode(qw, &got, true, kCap, ecap), 0) << "kind " << kind << " qw0=" << std::hex << qw[0];
        char a[160], b[160];
        ims_qi_desc_format(&want, a, sizeof a);
        ims_qi_desc_format(&got, b, sizeof b);
        ASSERT_EQ(std::string(a), std::string(b)) << "kind " << kind;
        ASSERT_TRUE(Same(want, got)) << "kind " << kind << ": " << b;
        Qw again{};
        ASSERT_EQ(ims_qi_encode(&got, again.data()), 0);
        ASSERT_EQ(again, qw) << "kind " << kind << ": " << b;
    }
}

// ---- PSI range helper ---------------------------------------------------------

TEST(InvDesc, PsiSpanRoundsUpLikeLinux)
{
    // vtd-facts §5.2 (Linux calculate_psi_aligned_address): the smallest naturally
    // aligned 2^AM-page block covering the range; over MAMV -> fall back to DSI.
    ims_qi_psi_span s{};
    ASSERT_EQ(ims_qi_psi_span_of(0x1000, 0x1000, 9, &s), 0);
    EXPECT_EQ(s.addr, 0x1000u);
    EXPECT_EQ(s.am, 0u);
    EXPECT_FALSE(s.over_mamv);
    ASSERT_EQ(ims_qi_psi_span_of(0x1000, 0x2000, 9, &s), 0); // pages 1..2 need block 0..3
    EXPECT_EQ(s.addr, 0x0u);
    EXPECT_EQ(s.am, 2u);
    ASSERT_EQ(ims_qi_psi_span_of(0x200000, 0x200000, 9, &s), 0); // one 2 MiB page
    EXPECT_EQ(s.addr, 0x200000u);
    EXPECT_EQ(s.am, 9u);
    EXPECT_FALSE(s.over_mamv);
    ASSERT_EQ(ims_qi_psi_span_of(0x1FF000, 0x2000, 9, &s), 0); // straddles 2 MiB
    EXPECT_EQ(s.addr, 0x0u);
    EXPECT_EQ(s.am, 10u);
    EXPECT_TRUE(s.over_mamv);
    ASSERT_EQ(ims_qi_psi_span_of(0x5123, 0x10, 0, &s), 0); // sub-page range
    EXPECT_EQ(s.addr, 0x5000u);
    EXPECT_EQ(s.am, 0u);
    EXPECT_EQ(ims_qi_psi_span_of(0x1000, 0, 9, &s), -EINVAL);
    EXPECT_EQ(ims_qi_psi_span_of(UINT64_MAX - 0xFFF, 0x2000, 9, &s), -EINVAL);
}

// ---- text form ----------------------------------------------------------------

TEST(InvDesc, FormatOneLine)
{
    ims_qi_desc d{};
    Qw qw{};
    ims_qi_build_iotlb_psi(qw.data(), 3, 0x1000, 0, false, false, false);
    ASSERT_EQ(Decode(qw, &d), 0);
    EXPECT_EQ(Format(d), "iotlb psi did=3 addr=0x1000 am=0 ih=0");
    ims_qi_build_iotlb_global(qw.data(), true, true);
    ASSERT_EQ(Decode(qw, &d), 0);
    EXPECT_EQ(Format(d), "iotlb global dr=1 dw=1");
    ims_qi_build_cc_device(qw.data(), 2, 0x0010, 0);
    ASSERT_EQ(Decode(qw, &d), 0);
    EXPECT_EQ(Format(d), "cc device did=2 sid=0x0010 fm=0");
    ASSERT_EQ(ims_qi_build_dev_tlb(qw.data(), 0x0010, 0, 0, 0x2000, 1), 0);
    ASSERT_EQ(Decode(qw, &d), 0);
    EXPECT_EQ(Format(d), "dev_tlb sid=0x0010 pfsid=0x0000 mip=0 addr=0x2000 s=1 range=0x2000+0x2000");
    ims_qi_build_wait(qw.data(), true, false, true, false, 1, 0x7F000);
    ASSERT_EQ(Decode(qw, &d), 0);
    EXPECT_EQ(Format(d), "wait sw=1 if=0 fn=1 pd=0 data=0x1 addr=0x7f000");
    ims_qi_build_piotlb_pasid(qw.data(), 7, 5);
    ASSERT_EQ(Decode(qw, &d), 0);
    EXPECT_EQ(Format(d), "piotlb pasid did=7 pasid=5");
    ims_qi_build_pc_domain(qw.data(), 7);
    ASSERT_EQ(Decode(qw, &d), 0);
    EXPECT_EQ(Format(d), "pc dsi did=7");
    ASSERT_EQ(ims_qi_build_pdev_tlb(qw.data(), 0x0300, 0, 0, 9, false, 0, IMS_ATS_ORDER_WHOLE), 0);
    ASSERT_EQ(Decode(qw, &d), 0);
    EXPECT_EQ(Format(d), "pdev_tlb sid=0x0300 pfsid=0x0000 mip=0 pasid=9 addr=0x7ffffffffffff000 s=1 range=all");
    ims_qi_build_page_grp_resp(qw.data(), 0x0300, true, 4, 0, 17);
    ASSERT_EQ(Decode(qw, &d), 0);
    EXPECT_EQ(Format(d), "page_grp_resp rid=0x0300 pasid=4 prgi=17 rc=0");
    ims_qi_desc bad{};
    bad.type = (ims_qi_type)0x33;
    EXPECT_EQ(Format(bad), "unknown type=51");
}

TEST(InvDesc, FormatTruncatesSafely)
{
    ims_qi_desc d{};
    Qw qw{};
    ims_qi_build_wait(qw.data(), true, true, false, false, 0xABCD, 0x1000);
    ASSERT_EQ(Decode(qw, &d), 0);
    char full[128];
    int n = ims_qi_desc_format(&d, full, sizeof full);
    char small[10];
    std::memset(small, 'x', sizeof small);
    EXPECT_EQ(ims_qi_desc_format(&d, small, sizeof small), n);
    EXPECT_EQ(std::string(small), std::string(full, 9));
    EXPECT_EQ(ims_qi_desc_format(&d, nullptr, 0), n);
}

TEST(InvDesc, TypeNames)
{
    EXPECT_STREQ(ims_qi_type_name(IMS_QI_TYPE_PDEV_TLB), "pdev_tlb");
    EXPECT_STREQ(ims_qi_type_name(IMS_QI_TYPE_PGRP_RESP), "page_grp_resp");
    EXPECT_STREQ(ims_qi_type_name(0), "unknown");
}

} // namespace
