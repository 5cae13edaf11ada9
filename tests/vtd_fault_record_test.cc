// Primary fault recording into the FRCD registers (vtd-facts §1.8, §1.9).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "models/vtd/fault_reason.h"
#include "models/vtd/fault_record.h"
#include "models/vtd/regfile.h"
#include "models/vtd/regs.h"

namespace {

constexpr uint64_t kFrcd = 0x400;  // default CAP.FRO = 0x40
constexpr unsigned kRecords = 8;   // default CAP.NFR = 7

class VtdFaultRecord : public ::testing::Test {
protected:
    void SetUp() override
    {
        ims_vtd_reg_hooks h{};
        h.ctx = this;
        h.msi = [](void *c, uint64_t a, uint32_t d) {
            auto *t = static_cast<VtdFaultRecord *>(c);
            t->msi_data.push_back(d);
            (void)a;
            // a handler that reads FSTS synchronously must see FRI already set
            t->fri_at_msi.push_back(ims_vtd_fsts_fri(t->rd(IMS_VTD_REG_FSTS, 4)));
        };
        ASSERT_EQ(ims_vtd_regfile_create(IMS_VTD_DEFAULT_CAP, IMS_VTD_DEFAULT_ECAP, 0x60, &h, &rf, &err), 0)
            << err.msg;
        ASSERT_EQ(ims_vtd_regfile_num_frcd(rf), kRecords);
    }
    void TearDown() override { ims_vtd_regfile_destroy(rf); }

    uint64_t rd(uint64_t off, unsigned size = 8)
    {
        uint64_t v = ~0ull;
        EXPECT_EQ(ims_vtd_mmio_read(rf, off, size, &v), IMS_VTD_MMIO_OK);
        return v;
    }
    uint64_t qw0(unsigned i) { return rd(kFrcd + 16 * i); }
    uint64_t qw1(unsigned i) { return rd(kFrcd + 16 * i + 8); }
    uint32_t fsts() { return (uint32_t)rd(IMS_VTD_REG_FSTS, 4); }
    // Software's usual way: 32-bit write of F (bit 31 of the record's last dword).
    void clear_f(unsigned i) { ims_vtd_mmio_write(rf, kFrcd + 16 * i + 12, 4, 0x80000000u); }
    ims_vtd_fault_outcome fault(uint16_t sid, uint8_t fr = IMS_VTD_FR_SSS_2, uint64_t addr = 0x1000)
    {
        ims_vtd_req r{};
        r.sid = sid;
        r.addr = addr;
        r.read = true;
        return ims_vtd_fault_record(rf, &r, fr);
    }

    ims_vtd_regfile *rf = nullptr;
    ims_error err{};
    std::vector<uint32_t> msi_data;
    std::vector<unsigned> fri_at_msi;
};

// vtd-facts §1.9: FI 63:12, SID 79:64, T2 92, PRIV 93, EXE 94, PP 95, FR 103:96,
// PV 123:104, AT 125:124, T1 126, F 127 (absolute bits; qw1 = bits 127:64).
TEST_F(VtdFaultRecord, EncodesEveryField)
{
    ims_vtd_req r{};
    r.sid = 0xbeef;
    r.has_pasid = true;
    r.pasid = 0xabcde;
    r.addr = 0x123456789abcdefull;
    r.write = true;
    r.exec = true;
    r.priv = true;
    r.type = IMS_VTD_REQ_TRANSLATED;
    ASSERT_EQ(ims_vtd_fault_record(rf, &r, IMS_VTD_FR_SGN_6), IMS_VTD_FAULT_RECORDED);
    EXPECT_EQ(qw0(0), 0x123456789abc000ull);
    uint64_t h = qw1(0);
    EXPECT_EQ(h & 0xffff, 0xbeefu);               // SID
    EXPECT_EQ((h >> (92 - 64)) & 1, 0u);          // T2: write = 00
    EXPECT_EQ((h >> (93 - 64)) & 1, 1u);          // PRIV
    EXPECT_EQ((h >> (94 - 64)) & 1, 1u);          // EXE
    EXPECT_EQ((h >> (95 - 64)) & 1, 1u);          // PP
    EXPECT_EQ((h >> (96 - 64)) & 0xff, 0x85u);    // FR
    EXPECT_EQ((h >> (104 - 64)) & 0xfffff, 0xabcdeu);  // PV
    EXPECT_EQ((h >> (124 - 64)) & 3, 2u);         // AT: translated
    EXPECT_EQ((h >> (126 - 64)) & 1, 0u);         // T1
    EXPECT_EQ((h >> 63) & 1, 1u);                 // F
    EXPECT_EQ(h & 0x0fff0000ull, 0u) << "bits 91:80 reserved";
}

TEST_F(VtdFaultRecord, NoPasidLeavesPvZero)
{
    ims_vtd_req r{};
    r.sid = 1;
    r.pasid = 0x55;  // ignored without has_pasid
    r.read = true;
    uint64_t a, b;
    ims_vtd_frcd_encode(&r, IMS_VTD_FR_LRT_2, &a, &b);
    EXPECT_FALSE(ims_vtd_frcd_pp(b));
    EXPECT_EQ(ims_vtd_frcd_pv(b), 0u);
    EXPECT_EQ(ims_vtd_frcd_fr(b), 1u);
}

// ⚠ vtd-facts §1.9/§7.8 decision: T1:T2 with T1 the MSB; 0 write, 1 translation
// request, 2 read, 3 atomic. Legacy readers see T1 (bit 126) = 1 for reads.
TEST_F(VtdFaultRecord, RequestTypeEncoding)
{
    ims_vtd_req r{};
    uint64_t a, b;
    r.write = true;
    ims_vtd_frcd_encode(&r, 5, &a, &b);
    EXPECT_EQ(ims_vtd_frcd_type(b), (unsigned)IMS_VTD_FRCD_TYPE_WRITE);
    EXPECT_FALSE((b >> 62) & 1);
    r.write = false;
    r.read = true;
    ims_vtd_frcd_encode(&r, 6, &a, &b);
    EXPECT_EQ(ims_vtd_frcd_type(b), (unsigned)IMS_VTD_FRCD_TYPE_READ);
    EXPECT_TRUE((b >> 62) & 1) << "legacy T=1 means read";
    EXPECT_FALSE((b >> 28) & 1);
    r.write = true;
    ims_vtd_frcd_encode(&r, 6, &a, &b);
    EXPECT_EQ(ims_vtd_frcd_type(b), (unsigned)IMS_VTD_FRCD_TYPE_ATOMIC);
    EXPECT_TRUE(((b >> 62) & 1) && ((b >> 28) & 1));
    r.type = IMS_VTD_REQ_TRANSLATION;
    ims_vtd_frcd_encode(&r, 6, &a, &b);
    EXPECT_EQ(ims_vtd_frcd_type(b), (unsigned)IMS_VTD_FRCD_TYPE_PAGE_REQ);
    EXPECT_EQ(ims_vtd_frcd_at(b), 1u);
    r = ims_vtd_req{};
    r.exec = true;  // execute-only: a read with EXE
    ims_vtd_frcd_encode(&r, 6, &a, &b);
    EXPECT_EQ(ims_vtd_frcd_type(b), (unsigned)IMS_VTD_FRCD_TYPE_READ);
    EXPECT_TRUE(ims_vtd_frcd_exe(b));
}

// §1.9: record written with F=1, PPF set, FRI = its index, index advances.
TEST_F(VtdFaultRecord, FirstFaultSetsPpfAndFri)
{
    EXPECT_EQ(fault(0x10), IMS_VTD_FAULT_RECORDED);
    EXPECT_TRUE(ims_vtd_frcd_f(qw1(0)));
    EXPECT_EQ(ims_vtd_frcd_sid(qw1(0)), 0x10u);
    EXPECT_TRUE(ims_vtd_fsts_ppf(fsts()));
    EXPECT_EQ(ims_vtd_fsts_fri(fsts()), 0u);
    EXPECT_EQ(ims_vtd_regfile_frcd_next(rf), 1u);
    EXPECT_EQ(fault(0x11), IMS_VTD_FAULT_RECORDED);
    EXPECT_TRUE(ims_vtd_frcd_f(qw1(1)));
    EXPECT_EQ(ims_vtd_fsts_fri(fsts()), 0u) << "FRI only moves when PPF was 0";
}

// §1.9: a pending record with the same SID collapses the new fault.
TEST_F(VtdFaultRecord, SameSidCollapses)
{
    EXPECT_EQ(fault(0x20, IMS_VTD_FR_SSS_2, 0x1000), IMS_VTD_FAULT_RECORDED);
    EXPECT_EQ(fault(0x20, IMS_VTD_FR_SGN_6, 0x9000), IMS_VTD_FAULT_COLLAPSED);
    EXPECT_FALSE(ims_vtd_frcd_f(qw1(1)));
    EXPECT_EQ(ims_vtd_regfile_frcd_next(rf), 1u);
    EXPECT_EQ(qw0(0), 0x1000u) << "the first record is kept";
    clear_f(0);
    EXPECT_EQ(fault(0x20, IMS_VTD_FR_SGN_6, 0x9000), IMS_VTD_FAULT_RECORDED) << "no longer pending";
    EXPECT_EQ(qw0(1), 0x9000u);
}

// §1.9: next FRCD still pending -> PFO and drop; while PFO is set every fault is dropped.
TEST_F(VtdFaultRecord, OverflowSetsPfoThenDrops)
{
    for (unsigned i = 0; i < kRecords; i++)
        ASSERT_EQ(fault((uint16_t)(0x100 + i)), IMS_VTD_FAULT_RECORDED);
    EXPECT_EQ(ims_vtd_regfile_frcd_next(rf), 0u) << "index wrapped";
    EXPECT_FALSE(ims_vtd_fsts_pfo(fsts()));
    EXPECT_EQ(fault(0x200), IMS_VTD_FAULT_OVERFLOW);
    EXPECT_TRUE(ims_vtd_fsts_pfo(fsts()));
    clear_f(0);
    EXPECT_EQ(fault(0x201), IMS_VTD_FAULT_DROPPED_PFO) << "free record, but PFO still set";
    ims_vtd_mmio_write(rf, IMS_VTD_REG_FSTS, 4, 1);  // PFO is RW1C
    EXPECT_FALSE(ims_vtd_fsts_pfo(fsts()));
    EXPECT_EQ(fault(0x202), IMS_VTD_FAULT_RECORDED);
    EXPECT_EQ(ims_vtd_frcd_sid(qw1(0)), 0x202u);
    EXPECT_EQ(fault(0x203), IMS_VTD_FAULT_OVERFLOW) << "record 1 still pending";
}

// §1.9: the index is circular and does not skip to a free record.
TEST_F(VtdFaultRecord, CircularIndex)
{
    for (unsigned i = 0; i < kRecords + 3; i++) {
        ASSERT_EQ(fault((uint16_t)i), IMS_VTD_FAULT_RECORDED) << i;
        EXPECT_EQ(ims_vtd_frcd_sid(qw1(i % kRecords)), i);
        clear_f(i % kRecords);
    }
    EXPECT_EQ(ims_vtd_regfile_frcd_next(rf), 3u);
    for (unsigned i = 0; i < kRecords; i++)  // fills 3..7, 0..2
        ASSERT_EQ(fault((uint16_t)(0x40 + i)), IMS_VTD_FAULT_RECORDED);
    for (unsigned i = 0; i < kRecords; i++)
        if (i != 3)
            clear_f(i);
    EXPECT_EQ(fault(0x60), IMS_VTD_FAULT_OVERFLOW) << "seven free records, but the next one (3) is pending";
}

// §1.8/§1.9: F is RW1C, the rest of the record and PPF are read-only.
TEST_F(VtdFaultRecord, FrcdAccessRules)
{
    ASSERT_EQ(fault(0x30, IMS_VTD_FR_SSS_2, 0x7000), IMS_VTD_FAULT_RECORDED);
    uint64_t before = qw1(0);
    ims_vtd_mmio_write(rf, kFrcd, 8, 0);                         // qw0 is read-only
    ims_vtd_mmio_write(rf, kFrcd + 8, 8, before & ~(1ull << 63)); // F written 0: kept
    ims_vtd_mmio_write(rf, IMS_VTD_REG_FSTS, 4, 0x2);            // PPF is not RW1C
    EXPECT_EQ(qw0(0), 0x7000u);
    EXPECT_EQ(qw1(0), before);
    EXPECT_TRUE(ims_vtd_fsts_ppf(fsts()));
    // 64-bit write of F=1 clears F only
    ims_vtd_mmio_write(rf, kFrcd + 8, 8, 1ull << 63);
    EXPECT_EQ(qw1(0), before & ~(1ull << 63));
    EXPECT_FALSE(ims_vtd_fsts_ppf(fsts()));
}

// §1.9 FRI/PPF: PPF is the OR of all F; FRI moves only when a record arrives with PPF=0.
TEST_F(VtdFaultRecord, FriFollowsPpf)
{
    fault(1);
    fault(2);
    clear_f(0);
    EXPECT_TRUE(ims_vtd_fsts_ppf(fsts())) << "record 1 still pending";
    EXPECT_EQ(ims_vtd_fsts_fri(fsts()), 0u);
    clear_f(1);
    EXPECT_FALSE(ims_vtd_fsts_ppf(fsts()));
    fault(3);  // index 2, PPF was 0
    EXPECT_EQ(ims_vtd_fsts_fri(fsts()), 2u);
}

// §1.8 event rules applied to fault recording, IM masked then unmasked.
TEST_F(VtdFaultRecord, FaultEventMaskedThenUnmasked)
{
    ims_vtd_mmio_write(rf, IMS_VTD_REG_FEDATA, 4, 0x31);
    fault(1);
    EXPECT_TRUE(msi_data.empty()) << "IM=1 at reset";
    EXPECT_TRUE(ims_vtd_ectl_ip(rd(IMS_VTD_REG_FECTL, 4)));
    ims_vtd_mmio_write(rf, IMS_VTD_REG_FECTL, 4, 0);
    ASSERT_EQ(msi_data.size(), 1u);
    EXPECT_EQ(msi_data[0], 0x31u);
    fault(2);
    EXPECT_EQ(msi_data.size(), 1u) << "PPF already set: no event";
    clear_f(0);
    clear_f(1);
    fault(3);  // PPF 0 -> 1 with IM=0: immediate
    ASSERT_EQ(msi_data.size(), 2u);
    EXPECT_EQ(fri_at_msi[1], 2u) << "FRI set before the event fires";
}

TEST_F(VtdFaultRecord, OverflowRaisesEventOnlyWhenNothingElsePending)
{
    ims_vtd_mmio_write(rf, IMS_VTD_REG_FECTL, 4, 0);
    for (unsigned i = 0; i < kRecords; i++)
        fault((uint16_t)(0x50 + i));
    EXPECT_EQ(msi_data.size(), 1u);
    fault(0x99);  // PFO set while PPF is set: no new event
    EXPECT_EQ(msi_data.size(), 1u);
    for (unsigned i = 0; i < kRecords; i++)
        clear_f(i);
    EXPECT_TRUE(ims_vtd_fsts_pfo(fsts()));
    ims_vtd_mmio_write(rf, IMS_VTD_REG_FSTS, 4, 1);
    EXPECT_EQ(fsts() & 0xff, 0u);
}

TEST_F(VtdFaultRecord, ResultWithSuppressionOrNoFault)
{
    ims_vtd_req r{};
    r.sid = 7;
    r.read = true;
    ims_vtd_result res{};
    EXPECT_EQ(ims_vtd_fault_record_result(rf, &r, &res), IMS_VTD_FAULT_NONE);
    res.fault = IMS_VTD_FR_SSS_2;
    res.fault_qualified = true;
    res.fault_suppressed = true;
    EXPECT_EQ(ims_vtd_fault_record_result(rf, &r, &res), IMS_VTD_FAULT_SUPPRESSED);
    EXPECT_FALSE(ims_vtd_fsts_ppf(fsts()));
    res.fault_suppressed = false;
    EXPECT_EQ(ims_vtd_fault_record_result(rf, &r, &res), IMS_VTD_FAULT_RECORDED);
    EXPECT_EQ(ims_vtd_frcd_fr(qw1(0)), (unsigned)IMS_VTD_FR_SSS_2);
    EXPECT_EQ(ims_vtd_fault_record(rf, &r, IMS_VTD_FR_NONE), IMS_VTD_FAULT_NONE);
}

}  // namespace
