// The coherence checker (sim/run/checker.h): a used translation that differs
// from the golden walk is a violation exactly when an invalidation wait of the
// unit completed after the tables changed and no later than the use.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "models/mem/pa_alloc.h"
#include "models/vtd/ctx_builder.h"
#include "models/vtd/entries.h"
#include "models/vtd/fault_reason.h"
#include "models/vtd/pt_builder.h"
#include "models/vtd/regs.h"
#include "sim/run/checker.h"
#include "sim/run/schema.h"
#include "sim/run/system.h"

namespace {

constexpr uint16_t kSid = 0x10;
constexpr uint16_t kDid = 1;
constexpr uint64_t kIova = 0x1000;
constexpr uint64_t kOld = 0x300000, kNew = 0x500000;

void nop(void *, uint64_t) {}

// A system with one legacy-mode unit, device 0x10 in domain 1, IOVA 0x1000
// mapped to 0x300000, translation enabled; a checker watching unit 0.
struct Rig {
    ims_config *cfg = nullptr;
    ims_system *sys = nullptr;
    ims_checker *ck = nullptr;
    ims_vtd_unit *u = nullptr;
    ims_pa_alloc alloc{};
    ims_vtd_ctx_builder cb{};
    ims_pt_builder pt{};
    char *out = nullptr;
    size_t out_len = 0;
    FILE *report = nullptr;

    explicit Rig(unsigned history = 8, uint64_t max_reports = 10)
    {
        ims_error err{};
        cfg = ims_schema_config_create(&err);
        ims_system_params sp{cfg, nullptr, nullptr};
        EXPECT_EQ(ims_system_create(&sp, &sys, &err), 0) << err.msg;
        ims_system_dev_decl dev{};
        dev.sid = kSid;
        EXPECT_EQ(ims_system_declare_device(sys, &dev, &err), 0) << err.msg;
        EXPECT_EQ(ims_system_build(sys, &err), 0) << err.msg;
        u = ims_system_unit(sys, 0);
        report = open_memstream(&out, &out_len);
        ims_checker_params cp{};
        cp.engine = ims_system_engine(sys);
        cp.mem = ims_system_mem(sys);
        cp.stats = ims_system_stats(sys);
        cp.report = report;
        cp.max_reports = max_reports;
        cp.history = history;
        EXPECT_EQ(ims_checker_create(&cp, &ck, &err), 0) << err.msg;
        EXPECT_EQ(ims_checker_attach_unit(ck, 0, u, &err), 0) << err.msg;

        ims_physmem *mem = ims_system_mem(sys);
        ims_pa_alloc_init(&alloc, mem, 0x100000, 0x200000);
        EXPECT_EQ(ims_vtd_ctxb_init(&cb, &alloc, false, &err), 0) << err.msg;
        EXPECT_EQ(ims_pt_builder_init(&pt, mem, &alloc, IMS_PT_FORMAT_SS, 4, 0, &err), 0) << err.msg;
        ims_vtd_legacy_ctx_cfg cc{};
        cc.tt = IMS_VTD_TT_SS;
        cc.aw = 2;
        cc.ssptptr = pt.root;
        cc.did = kDid;
        EXPECT_EQ(ims_vtd_ctxb_set_legacy_ctx(&cb, kSid, &cc, &err), 0) << err.msg;
        EXPECT_EQ(ims_pt_map(&pt, kIova, kOld, 4096, 4096, IMS_PT_RW, &err), 0) << err.msg;
        mmio(IMS_VTD_REG_RTADDR, 8, ims_vtd_ctxb_rtaddr(&cb));
        mmio32(IMS_VTD_REG_GCMD, 1u << 30); // SRTP
        mmio32(IMS_VTD_REG_GCMD, 1u << 31); // TE
    }
    ~Rig()
    {
        ims_checker_destroy(ck);
        ims_system_destroy(sys);
        ims_config_destroy(cfg);
        if (report)
            fclose(report);
        free(out);
    }
    // A register write as the replay does it: the checker samples the registers.
    void mmio(uint64_t off, unsigned size, uint64_t v)
    {
        EXPECT_GE(ims_vtd_unit_mmio_write(u, off, size, v), 0);
        ims_checker_note_regs(ck, 0);
    }
    void mmio32(uint64_t off, uint32_t v) { mmio(off, 4, v); }
    ims_engine *engine() { return ims_system_engine(sys); }
    // Move simulated time to cycle t.
    void at(ims_cycle t)
    {
        ims_engine_schedule_at(engine(), t, nop, nullptr, 0);
        ims_engine_run(engine(), t);
        ASSERT_EQ(ims_engine_now(engine()), t);
    }
    uint64_t pte_pa()
    {
        uint64_t pa = 0;
        EXPECT_EQ(ims_pt_entry_hpa(&pt, kIova, 1, &pa), 0);
        return pa;
    }
    // A software store that remaps (or, with pa 0, unmaps) the page now.
    void remap(uint64_t pa)
    {
        uint64_t pte = pa ? (pa | 3u) : 0;
        ASSERT_EQ(ims_physmem_w64(ims_system_mem(sys), pte_pa(), pte), 0);
    }
    void wait_done()
    {
        ims_qi_desc d{};
        d.type = IMS_QI_TYPE_WAIT;
        d.wait.sw = true;
        d.wait.status_addr = 0x21000;
        d.wait.status_data = 7;
        ims_checker_note_desc(ck, 0, &d);
    }
    // A page-selective IOTLB invalidation (AM 0) executed now; by default of this page.
    void iotlb_done(uint16_t did = kDid, uint64_t addr = kIova)
    {
        ims_qi_desc d{};
        d.type = IMS_QI_TYPE_IOTLB;
        d.iotlb.g = IMS_QI_IOTLB_PAGE_SELECTIVE;
        d.iotlb.did = did;
        d.iotlb.addr = addr;
        ims_checker_note_desc(ck, 0, &d);
    }
    void iotlb_global_done()
    {
        ims_qi_desc d{};
        d.type = IMS_QI_TYPE_IOTLB;
        d.iotlb.g = IMS_QI_IOTLB_GLOBAL;
        ims_checker_note_desc(ck, 0, &d);
    }
    bool check(const ims_vtd_result &used, ims_cycle t_use, uint64_t line = 42)
    {
        ims_vtd_req req{};
        req.sid = kSid;
        req.addr = kIova;
        req.read = true;
        ims_checker_loc loc{"t.ist", line, "nic"};
        return ims_checker_check(ck, 0, &req, &used, t_use, &loc);
    }
    bool check_now(const ims_vtd_result &used) { return check(used, ims_engine_now(engine())); }
    std::string text()
    {
        fflush(report);
        return std::string(out, out_len);
    }
};

ims_vtd_result ok(uint64_t pa)
{
    ims_vtd_result r{};
    r.pa = pa;
    r.page_size = 4096;
    r.r = r.w = true;
    return r;
}

ims_vtd_result fault(uint8_t fr)
{
    ims_vtd_result r{};
    r.fault = fr;
    return r;
}

TEST(Checker, TheCurrentTranslationIsNeverAViolation)
{
    Rig r;
    r.at(100);
    r.wait_done();
    r.at(200);
    EXPECT_FALSE(r.check_now(ok(kOld + 0x0)));
    EXPECT_EQ(ims_checker_checks(r.ck), 1u);
    EXPECT_EQ(ims_checker_stale_uses(r.ck), 0u);
    EXPECT_EQ(ims_checker_violations(r.ck), 0u);
    EXPECT_EQ(r.text(), "");
}

TEST(Checker, StaleUseBeforeAnyWaitIsLegal)
{
    Rig r;
    r.at(100);
    r.remap(kNew);
    r.at(200);
    EXPECT_FALSE(r.check_now(ok(kOld)));
    EXPECT_EQ(ims_checker_violations(r.ck), 0u);
}

TEST(Checker, StaleUseAfterAWaitThatFollowedTheChangeIsAViolation)
{
    Rig r;
    r.at(100);
    r.remap(kNew);
    r.at(150);
    r.iotlb_done(); // an invalidation of this page that (a model bug) did not remove the entry ...
    r.at(200);
    r.wait_done(); // ... then the wait of its batch: software's synchronisation point
    r.at(300);
    EXPECT_TRUE(r.check_now(ok(kOld)));
    EXPECT_EQ(ims_checker_violations(r.ck), 1u);
    EXPECT_EQ(ims_stats_counter_total(ims_system_stats(r.sys), "checker.violations"), 1u);
    std::string t = r.text();
    EXPECT_NE(t.find("t.ist:42: coherence violation: dma dev=nic sid=0x0010 iova=0x1000 rd"), std::string::npos) << t;
    EXPECT_NE(t.find("used pa=0x300000 but the tables give pa=0x500000"), std::string::npos) << t;
    EXPECT_NE(t.find("changed at 100.0 ns"), std::string::npos) << t;
    EXPECT_NE(t.find("invalidation wait at 200.0 ns, before the use at 300.0 ns"), std::string::npos) << t;
    // Both descriptors completed in between are listed, with their times.
    EXPECT_NE(t.find("150.0 ns  iotlb"), std::string::npos) << t;
    EXPECT_NE(t.find("200.0 ns  wait"), std::string::npos) << t;
}

TEST(Checker, WaitBeforeTheChangeKeepsTheStaleUseLegal)
{
    Rig r;
    r.at(100);
    r.wait_done();
    r.at(200);
    r.remap(kNew);
    r.at(300);
    EXPECT_FALSE(r.check_now(ok(kOld)));
    EXPECT_EQ(ims_checker_stale_uses(r.ck), 1u);
    EXPECT_EQ(ims_checker_violations(r.ck), 0u);
}

TEST(Checker, TheWaitMustCompleteNoLaterThanTheUse)
{
    Rig r;
    r.at(100);
    r.remap(kNew);
    r.at(300);
    r.wait_done();
    r.at(400);
    // A use known to be no later than 299 (e.g. a fault's lower bound) is legal.
    EXPECT_FALSE(r.check(ok(kOld), 299));
    // A wait at exactly the use time counts: (t_change, t_use] is inclusive.
    EXPECT_TRUE(r.check(ok(kOld), 300));
}

TEST(Checker, SuccessWhereTheTablesFaultAndFaultWhereTheyTranslate)
{
    Rig r;
    r.at(100);
    r.remap(0); // unmapped: the golden walk faults (legacy read not permitted, LGN.3)
    r.at(200);
    r.wait_done();
    r.at(300);
    EXPECT_TRUE(r.check_now(ok(kOld)));
    EXPECT_NE(r.text().find("used pa=0x300000 but the tables give fault 0x06"), std::string::npos) << r.text();

    r.at(400);
    r.remap(kNew);
    r.at(500);
    r.wait_done();
    r.at(600);
    EXPECT_TRUE(r.check_now(fault(IMS_VTD_FR_LGN_3)));
    EXPECT_NE(r.text().find("used fault 0x06 but the tables give pa=0x500000"), std::string::npos) << r.text();
    EXPECT_EQ(ims_checker_violations(r.ck), 2u);
    // Same fault-ness and pa: no difference, even with another fault reason.
    EXPECT_FALSE(r.check_now(ok(kNew)));
}

TEST(Checker, RegisterChangesCountAsTableChanges)
{
    Rig r;
    r.at(100);
    r.wait_done();
    r.at(200);
    r.mmio32(IMS_VTD_REG_GCMD, 0); // TE off: requests now pass through untranslated
    r.at(300);
    // The old translation is stale since 200 but no wait followed: legal.
    EXPECT_FALSE(r.check_now(ok(kOld)));
    EXPECT_EQ(ims_checker_stale_uses(r.ck), 1u);
    r.at(400);
    r.wait_done();
    r.at(500);
    EXPECT_TRUE(r.check_now(ok(kOld)));
    EXPECT_NE(r.text().find("tables give pa=0x1000 (untranslated)"), std::string::npos) << r.text();
}

TEST(Checker, HistoryIsBoundedAndSaysSo)
{
    Rig r(/*history=*/2);
    r.at(100);
    r.remap(kNew);
    r.at(200);
    r.iotlb_done();
    r.at(300);
    r.iotlb_done();
    r.at(400);
    r.wait_done();
    r.at(500);
    EXPECT_TRUE(r.check_now(ok(kOld)));
    std::string t = r.text();
    EXPECT_NE(t.find("older descriptors not kept: checker.history=2"), std::string::npos) << t;
    EXPECT_EQ(t.find("200.0 ns  iotlb"), std::string::npos) << t;
    EXPECT_NE(t.find("300.0 ns  iotlb"), std::string::npos) << t;
}

TEST(Checker, ReportsAreLimitedButAllCounted)
{
    Rig r(8, /*max_reports=*/1);
    r.at(100);
    r.remap(kNew);
    r.at(200);
    r.wait_done();
    r.at(300);
    EXPECT_TRUE(r.check(ok(kOld), 300, 7));
    EXPECT_TRUE(r.check(ok(kOld), 300, 8));
    EXPECT_TRUE(r.check(ok(kOld), 300, 9));
    EXPECT_EQ(ims_checker_violations(r.ck), 3u);
    std::string t = r.text();
    EXPECT_NE(t.find("t.ist:7:"), std::string::npos);
    EXPECT_EQ(t.find("t.ist:8:"), std::string::npos);
    EXPECT_NE(t.find("further coherence violations are counted but not printed"), std::string::npos) << t;
}

// Several flushes queued: software changed this page, and its invalidation is
// queued behind the batch of another page. That batch's wait completes first;
// the stale translation is still legal until a batch that invalidates this
// page (or a bare wait, which names nothing) has completed.
TEST(Checker, AWaitClosingAnotherPagesBatchIsNotThisPagesSynchronisation)
{
    Rig r;
    r.at(100);
    r.remap(kNew);
    r.at(150);
    r.iotlb_done(kDid, 0x5000); // batch A: another page of the domain
    r.at(200);
    r.wait_done();
    r.at(300);
    EXPECT_FALSE(r.check_now(ok(kOld)));
    r.iotlb_done(kDid + 1, kIova); // batch B: this address, but another domain
    r.at(350);
    r.wait_done();
    r.at(400);
    EXPECT_FALSE(r.check_now(ok(kOld)));
    EXPECT_EQ(ims_checker_stale_uses(r.ck), 2u);
    EXPECT_EQ(ims_checker_violations(r.ck), 0u);
    r.at(500);
    r.iotlb_done(); // this page's own batch
    r.at(600);
    r.wait_done();
    r.at(700);
    EXPECT_TRUE(r.check_now(ok(kOld)));
    std::string t = r.text();
    EXPECT_NE(t.find("changed at 100.0 ns and unit 0 completed an invalidation wait at 600.0 ns, before the use at "
                     "700.0 ns"),
              std::string::npos)
        << t;
}

// The covering invalidation must run after the change: one executed before it
// may have been followed by a refill from the old tables. A global one covers
// every translation.
TEST(Checker, AnInvalidationBeforeTheChangeDoesNotSynchroniseIt)
{
    Rig r;
    r.at(100);
    r.iotlb_done();
    r.at(150);
    r.remap(kNew);
    r.at(200);
    r.wait_done(); // its batch invalidated this page, but before the change
    r.at(300);
    EXPECT_FALSE(r.check_now(ok(kOld)));
    EXPECT_EQ(ims_checker_stale_uses(r.ck), 1u);
    r.iotlb_global_done();
    r.at(400);
    r.wait_done();
    r.at(500);
    EXPECT_TRUE(r.check_now(ok(kOld)));
    EXPECT_NE(r.text().find("invalidation wait at 400.0 ns"), std::string::npos) << r.text();
}

// Guest view: while a guest map/unmap of the address is in flight, the guest
// has not yet seen its own invalidation, which may be queued behind the wait
// of another of its operations: a sync the guest saw meanwhile is not this
// address's. Once the operation completes, the rule applies as before.
TEST(Checker, GuestViewWaitsForTheGuestsOwnOperation)
{
    Rig r;
    ims_vtd_req req{};
    req.sid = kSid;
    req.addr = kIova;
    req.write = true;
    ims_checker_guest_view gold{};
    gold.mapped = gold.writable = true;
    gold.hpa = kNew;
    gold.t_change = 100;
    ims_checker_loc loc{"g.ist", 9, "nic"};
    ims_vtd_result used = ok(kOld);
    r.at(100);
    int op1 = 0, op2 = 0; // their addresses identify the operations
    ASSERT_EQ(ims_checker_guest_op_begin(r.ck, 1, &op1, kSid, false, 0, kIova, 0x2000), 0);
    ASSERT_EQ(ims_checker_guest_op_begin(r.ck, 1, &op2, kSid, true, 5, 0x9000, 0x1000), 0);
    r.at(200);
    ims_checker_note_guest_sync(r.ck, 1); // another operation's invalidation, seen first
    r.at(300);
    EXPECT_FALSE(ims_checker_check_guest(r.ck, 1, &req, &used, &gold, 300, &loc));
    EXPECT_EQ(ims_checker_stale_uses(r.ck), 1u);
    // Another page, another device or another PASID is judged as before.
    req.addr = kIova + 0x2000;
    EXPECT_TRUE(ims_checker_check_guest(r.ck, 1, &req, &used, &gold, 300, &loc));
    req.addr = 0x9000;
    EXPECT_TRUE(ims_checker_check_guest(r.ck, 1, &req, &used, &gold, 300, &loc));
    req.addr = kIova;
    req.sid = kSid + 1;
    EXPECT_TRUE(ims_checker_check_guest(r.ck, 1, &req, &used, &gold, 300, &loc));
    req.sid = kSid;
    r.at(400);
    ims_checker_guest_op_end(r.ck, &op1);
    // A use known only by a lower bound inside the operation (a fault's issue time) is not judged either.
    EXPECT_FALSE(ims_checker_check_guest(r.ck, 1, &req, &used, &gold, 350, &loc));
    EXPECT_TRUE(ims_checker_check_guest(r.ck, 1, &req, &used, &gold, 400, &loc));
    EXPECT_EQ(ims_checker_violations(r.ck), 4u);
    EXPECT_NE(r.text().find("g.ist:9: coherence violation (guest view, vm 1): dma dev=nic sid=0x0010 iova=0x1000 wr "
                            "used pa=0x300000 but the guest's tables give pa 0x500000"),
              std::string::npos)
        << r.text();
}

// The queue hook: a real wait descriptor processed by the unit's engine is a
// synchronisation point the checker sees.
TEST(Checker, SeesWaitsCompletedByTheQueuedInvalidationEngine)
{
    Rig r;
    ims_physmem *mem = ims_system_mem(r.sys);
    r.remap(kNew);
    r.at(10);
    uint64_t qw[IMS_QI_DESC_QW];
    ims_qi_build_wait(qw, true, false, false, false, 1, 0x21000);
    ASSERT_EQ(ims_physmem_w64(mem, 0x20000, qw[0]), 0);
    ASSERT_EQ(ims_physmem_w64(mem, 0x20008, qw[1]), 0);
    r.mmio(IMS_VTD_REG_IQA, 8, 0x20000);
    r.mmio32(IMS_VTD_REG_GCMD, (1u << 31) | (1u << 26)); // keep TE, enable QIE
    r.mmio(IMS_VTD_REG_IQT, 8, 0x10);
    EXPECT_FALSE(r.check_now(ok(kOld))) << "the wait has not completed yet";
    ims_engine_run(r.engine(), IMS_CYCLE_MAX);
    ASSERT_EQ(ims_physmem_r32(mem, 0x21000), 1u) << "the wait's status write";
    EXPECT_TRUE(r.check_now(ok(kOld)));
    EXPECT_NE(r.text().find("ns  wait"), std::string::npos) << r.text();
}

} // namespace
