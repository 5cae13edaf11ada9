// End to end through the uAPI (issue 5 "done means"): the iommufd reference implementation over the real VT-d
// host driver, on a scalable-mode unit with an ATS endpoint from models/dev, all wired by sim/run/system.h.
// Everything the host does goes through ims_iommufd_ioctl / the VFIO cdev ioctls with kernel-layout structs:
// IOAS_ALLOC, IOAS_MAP of 64 MiB of guest RAM, HWPT_ALLOC NEST_PARENT, HWPT_ALLOC nested with VTD_S1 data
// pointing at a stage-1 table the guest built in its own RAM, VFIO ATTACH. The endpoint's DMAs translate
// through both stages (ATS translation request, device-TLB fill, translated request); HWPT_INVALIDATE of one
// page submits exactly the expected descriptors and removes the IOTLB and device-TLB entries; an IOAS_UNMAP
// of the parent reaches the nested DID; objects die only in the kernel's order.
// Facts: iommufd-facts §1.3 (HWPT_ALLOC, HWPT_INVALIDATE, DESTROY), §2.4, §2.6, §2.7, §2.8, §2.10;
// vtd-facts §5.1 (nested IOTLB tagging).
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "models/dev/devtlb.h"
#include "models/dev/device.h"
#include "models/iommufd/iommufd.h"
#include "models/iommufd/uapi.h"
#include "models/iommufd/vtd_driver.h"
#include "models/mem/pa_alloc.h"
#include "models/vtd/inv_desc.h"
#include "models/vtd/iotlb.h"
#include "models/vtd/pt_builder.h"
#include "models/vtd/qi.h"
#include "models/vtd/regs.h"
#include "models/vtd/translate.h"
#include "models/vtd/unit.h"
#include "models/vtd/vtd_caches.h"
#include "sim/run/schema.h"
#include "sim/run/system.h"

namespace {

using Desc = std::array<uint64_t, 4>;

constexpr uint16_t kSid = 0x0300;                   // the ATS endpoint (bus 3, devfn 0)
constexpr uint64_t kHostTables = 0x1000'0000ULL;    // driver's root/context/PASID/page tables: [256, 512) MiB
constexpr uint64_t kHostTablesEnd = 0x2000'0000ULL;
constexpr uint64_t kRam = 64ULL << 20;              // guest RAM: GPA [0, 64 MiB) = IOVA [0, 64 MiB)
constexpr uint64_t kGuestTables = 16ULL << 20;      // GPA of the guest's own stage-1 tables: [16, 32) MiB
constexpr uint64_t kGva = 0x7f12'3450'0000ULL;      // a 4 KiB guest page...
constexpr uint64_t kGpa = 0x200'0000ULL;            // ...on GPA 32 MiB
constexpr uint64_t kGva2 = 0x7f12'3460'0000ULL;     // a 2 MiB guest page...
constexpr uint64_t kGpa2 = 0x260'0000ULL;           // ...on GPA 38 MiB (one 2 MiB S2 leaf)

// Completion of an ioctl or a driver step.
struct Done {
    ims_engine *e = nullptr;
    bool called = false;
    int status = 1;
    ims_cycle t = 0;
    static void fn(void *ctx, int st)
    {
        auto *d = static_cast<Done *>(ctx);
        EXPECT_FALSE(d->called) << "done called twice";
        d->called = true;
        d->status = st;
        d->t = ims_engine_now(d->e);
    }
};

// One descriptor the QI engine executed (waits: when their status write happened).
struct QiEvent {
    ims_qi_desc d;
    ims_cycle t;
};

struct Dma {
    ims_dma op{};
    bool done = false;
    ims_vtd_result used{};
    static void fn(ims_dma *d) { static_cast<Dma *>(d->user)->done = true; }
    static void piece(ims_dma *d, uint64_t, const ims_vtd_result *r) { static_cast<Dma *>(d->user)->used = *r; }
};

// The simulated host: system (engine, memory, unit 0, the ATS endpoint), VT-d host driver, iommufd.
class Host {
  public:
    ims_error err{};
    ims_config *cfg = nullptr;
    ims_system *sys = nullptr;
    ims_engine *e = nullptr;
    ims_physmem *mem = nullptr;
    ims_vtd_unit *u = nullptr;
    ims_dev *dev = nullptr;
    ims_pa_alloc tables{};
    ims_vtd_drv *drv = nullptr;
    ims_iommufd *ifd = nullptr;
    std::vector<QiEvent> qi;
    uint32_t dev_id = 0;
    Done last;

    Host()
    {
        cfg = ims_schema_config_create(&err);
        EXPECT_NE(cfg, nullptr) << err.msg;
        ims_system_params sp{};
        sp.cfg = cfg;
        EXPECT_EQ(ims_system_create(&sp, &sys, &err), 0) << err.msg;
        ims_system_dev_decl dd{};
        dd.sid = kSid;
        dd.name = "nic";
        dd.ats = true;
        EXPECT_EQ(ims_system_declare_device(sys, &dd, &err), 0) << err.msg;
        EXPECT_EQ(ims_system_build(sys, &err), 0) << err.msg;
        e = ims_system_engine(sys);
        mem = ims_system_mem(sys);
        u = ims_system_unit(sys, 0);
        dev = ims_system_device_by_sid(sys, kSid)->dev;
        ims_qi_set_observer(ims_vtd_unit_qi(u), observe, this);

        ims_pa_alloc_init(&tables, mem, kHostTables, kHostTablesEnd);
        Done ready;
        ready.e = e;
        ims_vtd_drv_params dp{};
        dp.engine = e;
        dp.mem = mem;
        dp.alloc = &tables;
        dp.unit = u;
        dp.cfg = cfg;
        dp.stats = ims_system_stats(sys);
        dp.ready = {Done::fn, &ready};
        EXPECT_EQ(ims_vtd_drv_create(&dp, &drv, &err), 0) << err.msg;
        ims_vtd_drv_dev_params p{};
        p.sid = kSid;
        p.ats = true;
        p.ats_qdep = 32;
        EXPECT_EQ(ims_vtd_drv_add_device(drv, &p, &err), 0) << err.msg;
        run();
        EXPECT_TRUE(ready.called);
        EXPECT_EQ(ready.status, 0);

        static const ims_iommufd_range msi = {IMS_IOMMUFD_X86_MSI_START, IMS_IOMMUFD_X86_MSI_LAST};
        ims_iommufd_params ip{};
        ip.drv = ims_vtd_drv_iface(drv);
        ip.engine = e;
        ip.cfg = cfg;
        ip.stats = ims_system_stats(sys);
        ip.aperture_last = (1ULL << 48) - 1;
        ip.dev_resv = &msi;
        ip.n_dev_resv = 1;
        EXPECT_EQ(ims_iommufd_create(&ip, &ifd, &err), 0) << err.msg;

        // VFIO_DEVICE_BIND_IOMMUFD on the device's cdev.
        ims_vfio_device_bind_iommufd b{};
        b.argsz = sizeof b;
        b.iommufd = 3;
        EXPECT_EQ(vfio(IMS_VFIO_DEVICE_BIND_IOMMUFD, &b), 0);
        dev_id = b.out_devid;
        EXPECT_NE(dev_id, 0u);
    }
    ~Host()
    {
        run();
        ims_iommufd_destroy(ifd);
        ims_vtd_drv_destroy(drv);
        ims_system_destroy(sys);
        ims_config_destroy(cfg);
    }
    Host(const Host &) = delete;
    Host &operator=(const Host &) = delete;

    static void observe(void *ctx, const ims_qi_desc *d)
    {
        auto *h = static_cast<Host *>(ctx);
        h->qi.push_back({*d, ims_engine_now(h->e)});
    }

    void run() { ims_engine_run(e, IMS_CYCLE_MAX); }
    ims_cycle now() const { return ims_engine_now(e); }
    ims_cycle cycles(const char *key) const { return ims_engine_ps_to_cycles(e, ims_config_time_ps(cfg, key)); }

    // ioctl(iommufd, cmd, arg), run to idle: the errno of a refused call (done must not run), else the status
    // done reported. The completion is kept in `last`.
    int ioctl(unsigned long cmd, void *arg)
    {
        last = Done{};
        last.e = e;
        int rc = ims_iommufd_ioctl(ifd, cmd, arg, {Done::fn, &last});
        return finish(rc);
    }
    int vfio(unsigned long cmd, void *arg)
    {
        last = Done{};
        last.e = e;
        int rc = ims_iommufd_vfio_ioctl(ifd, kSid, cmd, arg, {Done::fn, &last});
        return finish(rc);
    }
    int finish(int rc)
    {
        run();
        if (rc) {
            EXPECT_FALSE(last.called) << "done after a refused ioctl";
            return rc;
        }
        EXPECT_TRUE(last.called);
        return last.status;
    }

    int destroy(uint32_t id)
    {
        ims_iommu_destroy d{};
        d.size = sizeof d;
        d.id = id;
        return ioctl(IMS_IOMMU_DESTROY, &d);
    }

    // A DMA by the endpoint, run to completion.
    void dma(Dma &d, uint64_t iova, uint64_t len, bool write)
    {
        d.op.iova = iova;
        d.op.len = len;
        d.op.write = write;
        d.op.done = Dma::fn;
        d.op.on_piece = Dma::piece;
        d.op.user = &d;
        ims_dev_dma(dev, &d.op);
        run();
        EXPECT_TRUE(d.done);
    }

    // The golden functional walk (no caches, no A/D updates) of an untranslated request without PASID.
    ims_vtd_result golden(uint64_t addr, bool write)
    {
        ims_vtd_req q{};
        q.sid = kSid;
        q.addr = addr;
        q.read = !write;
        q.write = write;
        q.type = IMS_VTD_REQ_UNTRANSLATED;
        ims_vtd_hw hw;
        ims_vtd_unit_hw(u, &hw);
        ims_vtd_result r;
        ims_vtd_translate(&hw, &q, IMS_VTD_WALK_NO_AD, &r, nullptr);
        return r;
    }

    // Driver descriptor log since mark (waits excluded), and the IQT-write cycle of the first one.
    uint64_t mark() const { return ims_vtd_drv_log_total(drv); }
    std::vector<Desc> since(uint64_t m, ims_cycle *first_t = nullptr) const
    {
        std::vector<Desc> out;
        for (uint64_t s = m; s < ims_vtd_drv_log_total(drv); s++) {
            ims_vtd_drv_log_entry le;
            EXPECT_EQ(ims_vtd_drv_log_get(drv, s, &le), 0);
            if (s == m && first_t)
                *first_t = le.t;
            out.push_back({le.qw[0], le.qw[1], le.qw[2], le.qw[3]});
        }
        return out;
    }

    ims_iotlb *iotlb() { return ims_vtd_unit_caches(u)->iotlb; }
    ims_devtlb *devtlb() { return ims_dev_devtlb(dev); }
};

Desc piotlb_page(uint16_t did, uint32_t pasid, uint64_t addr, unsigned am, bool ih)
{
    Desc q{};
    ims_qi_build_piotlb_page(q.data(), did, pasid, addr, am, ih);
    return q;
}
Desc iotlb_psi(uint16_t did, uint64_t addr, unsigned am, bool ih)
{
    Desc q{};
    ims_qi_build_iotlb_psi(q.data(), did, addr, am, ih, true, true);  // default CAP has DRD/DWD
    return q;
}
Desc iotlb_dsi(uint16_t did)
{
    Desc q{};
    ims_qi_build_iotlb_dsi(q.data(), did, true, true);
    return q;
}
Desc pc_pasid(uint16_t did, uint32_t pasid)
{
    Desc q{};
    ims_qi_build_pc_pasid(q.data(), did, pasid);
    return q;
}
Desc dev_tlb(uint16_t sid, uint64_t addr, unsigned order)
{
    Desc q{};
    EXPECT_EQ(ims_qi_build_dev_tlb(q.data(), sid, 0, 0, addr, order), 0);
    return q;
}

std::string show(const std::vector<Desc> &v)
{
    std::string s;
    for (const Desc &q : v) {
        ims_qi_desc d;
        char buf[160];
        if (ims_qi_decode(q.data(), true, IMS_VTD_DEFAULT_CAP, IMS_VTD_DEFAULT_ECAP, &d) == 0)
            ims_qi_desc_format(&d, buf, sizeof buf);
        else
            snprintf(buf, sizeof buf, "raw %#llx %#llx", (unsigned long long)q[0], (unsigned long long)q[1]);
        s += buf;
        s += "\n";
    }
    return s;
}

// The objects of the nested set-up, built through the uAPI.
struct Nested {
    uint32_t ioas = 0, parent = 0, nested = 0;
    uint64_t hpa = 0;  // host-physical backing of GPA 0
    ims_pa_alloc guest{};
    ims_pt_builder s1{};
    uint16_t did = 0;
};

void build_nested(Host &h, Nested &n, bool split = false)
{
    // IOMMU_IOAS_ALLOC
    ims_iommu_ioas_alloc ia{};
    ia.size = sizeof ia;
    ASSERT_EQ(h.ioctl(IMS_IOMMU_IOAS_ALLOC, &ia), 0);
    n.ioas = ia.out_ioas_id;
    ASSERT_EQ(ims_iommufd_obj_kind(h.ifd, n.ioas), IMS_IOMMUFD_OBJ_IOAS);

    // IOMMU_IOAS_MAP: guest RAM GPA [0, 64 MiB) at IOVA 0, backed by 2 MiB-aligned host memory. IOAS_UNMAP
    // removes whole areas only (superset rule), so a VMM that will unmap part of its RAM maps it in pieces.
    ASSERT_EQ(ims_iommufd_host_alloc(h.ifd, kRam, 2ULL << 20, &n.hpa), 0);
    std::vector<std::pair<uint64_t, uint64_t>> pieces{{0, kRam}};
    if (split)
        pieces = {{0, kGpa2}, {kGpa2, 2ULL << 20}, {kGpa2 + (2ULL << 20), kRam - kGpa2 - (2ULL << 20)}};
    for (auto [gpa, len] : pieces) {
        ims_iommu_ioas_map m{};
        m.size = sizeof m;
        m.flags = IMS_IOMMU_IOAS_MAP_FIXED_IOVA | IMS_IOMMU_IOAS_MAP_READABLE | IMS_IOMMU_IOAS_MAP_WRITEABLE;
        m.ioas_id = n.ioas;
        m.user_va = n.hpa + gpa;
        m.length = len;
        m.iova = gpa;
        ASSERT_EQ(h.ioctl(IMS_IOMMU_IOAS_MAP, &m), 0);
    }
    ASSERT_EQ(ims_iommufd_ioas_area_count(h.ifd, n.ioas), pieces.size());

    // IOMMU_HWPT_ALLOC NEST_PARENT on the IOAS: a second-stage domain filled from the IOAS.
    ims_iommu_hwpt_alloc pa{};
    pa.size = sizeof pa;
    pa.flags = IMS_IOMMU_HWPT_ALLOC_NEST_PARENT;
    pa.dev_id = h.dev_id;
    pa.pt_id = n.ioas;
    ASSERT_EQ(h.ioctl(IMS_IOMMU_HWPT_ALLOC, &pa), 0);
    n.parent = pa.out_hwpt_id;
    ASSERT_EQ(ims_iommufd_obj_kind(h.ifd, n.parent), IMS_IOMMUFD_OBJ_HWPT_PAGING);
    EXPECT_EQ(ims_vtd_drv_domain_kind(ims_iommufd_hwpt_domain(h.ifd, n.parent)), IMS_VTD_DRV_DOM_SS);

    // The guest's stage-1 table, in guest RAM, named by GPA (table address = HPA - hpa).
    ims_pa_alloc_init(&n.guest, h.mem, n.hpa + kGuestTables, n.hpa + 2 * kGuestTables);
    ASSERT_EQ(ims_pt_builder_init(&n.s1, h.mem, &n.guest, IMS_PT_FORMAT_FS, 4, n.hpa, &h.err), 0) << h.err.msg;
    ASSERT_EQ(ims_pt_map(&n.s1, kGva, kGpa, 0x1000, 0x1000, IMS_PT_RW | IMS_PT_U, &h.err), 0) << h.err.msg;
    ASSERT_EQ(ims_pt_map(&n.s1, kGva2, kGpa2, 2ULL << 20, 2ULL << 20, IMS_PT_RW | IMS_PT_U, &h.err), 0);
    ASSERT_GE(n.s1.root, kGuestTables);  // a GPA, not the HPA
    ASSERT_LT(n.s1.root, 2 * kGuestTables);

    // IOMMU_HWPT_ALLOC nested over the parent with IOMMU_HWPT_DATA_VTD_S1.
    ims_iommu_hwpt_vtd_s1 s1{};
    s1.pgtbl_addr = n.s1.root;
    s1.addr_width = 48;
    ims_iommu_hwpt_alloc na{};
    na.size = sizeof na;
    na.dev_id = h.dev_id;
    na.pt_id = n.parent;
    na.data_type = IMS_IOMMU_HWPT_DATA_VTD_S1;
    na.data_len = sizeof s1;
    na.data_uptr = (uint64_t)(uintptr_t)&s1;
    ASSERT_EQ(h.ioctl(IMS_IOMMU_HWPT_ALLOC, &na), 0);
    n.nested = na.out_hwpt_id;
    ASSERT_EQ(ims_iommufd_obj_kind(h.ifd, n.nested), IMS_IOMMUFD_OBJ_HWPT_NESTED);

    // VFIO_DEVICE_ATTACH_IOMMUFD_PT of the RID to the nested HWPT.
    ims_vfio_device_attach_iommufd_pt at{};
    at.argsz = sizeof at;
    at.pt_id = n.nested;
    ASSERT_EQ(h.vfio(IMS_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at), 0);
    EXPECT_EQ(at.pt_id, n.nested);  // no automatic domain: the HWPT itself
    EXPECT_EQ(ims_iommufd_device_hwpt(h.ifd, h.dev_id, IMS_DRV_NO_PASID), n.nested);
    // iommufd-facts §2.4 step 3: the nested domain gets its own DID at first attach.
    n.did = ims_vtd_drv_domain_did(ims_iommufd_hwpt_domain(h.ifd, n.nested));
    ASSERT_GE(n.did, 2u);
}

// The translation the composition of the two stages gives: GVA -(guest stage 1)-> GPA -(IOAS)-> HPA.
uint64_t compose(Host &h, Nested &n, uint64_t gva)
{
    ims_pt_mapping pm;
    EXPECT_EQ(ims_pt_lookup(&n.s1, gva, &pm), 0);
    uint64_t gpa = pm.pa + (gva - pm.iova);
    uint64_t hpa = 0;
    unsigned prot = 0;
    EXPECT_EQ(ims_iommufd_ioas_translate(h.ifd, n.ioas, gpa, &hpa, &prot), 0);
    return hpa;
}

TEST(IommufdE2e, NestedDmaThroughBothStagesAndOnePageInvalidation)
{
    Host h;
    Nested n;
    ASSERT_NO_FATAL_FAILURE(build_nested(h, n));

    // A read by the endpoint: ATS translation request through both stages, device-TLB fill, translated read.
    Dma d1;
    h.dma(d1, kGva + 0x123, 64, false);
    ASSERT_EQ(d1.op.fault, 0u);
    EXPECT_EQ(d1.op.pa, n.hpa + kGpa + 0x123);
    EXPECT_EQ(d1.op.pa, compose(h, n, kGva + 0x123));
    ims_vtd_result g1 = h.golden(kGva + 0x123, false);
    ASSERT_EQ(g1.fault, 0u);
    EXPECT_EQ(d1.op.pa, g1.pa);
    EXPECT_EQ(g1.ctx.pgtt, IMS_VTD_PGTT_NESTED);
    // A write into the 2 MiB guest page.
    Dma d2;
    h.dma(d2, kGva2 + 0x1234, 256, true);
    ASSERT_EQ(d2.op.fault, 0u);
    EXPECT_EQ(d2.op.pa, n.hpa + kGpa2 + 0x1234);
    EXPECT_EQ(d2.op.pa, compose(h, n, kGva2 + 0x1234));
    EXPECT_EQ(d2.op.pa, h.golden(kGva2 + 0x1234, true).pa);

    // vtd-facts §5.1: nested translations are cached under the nested DID and PASID 0 (RID_PASID).
    EXPECT_NE(ims_iotlb_peek(h.iotlb(), n.did, IMS_VTD_PGTT_NESTED, 0, kGva), nullptr);
    EXPECT_NE(ims_iotlb_peek(h.iotlb(), n.did, IMS_VTD_PGTT_NESTED, 0, kGva2), nullptr);
    const ims_devtlb_entry *de = ims_devtlb_peek(h.devtlb(), false, 0, false, kGva);
    ASSERT_NE(de, nullptr);
    EXPECT_EQ(de->hpa, n.hpa + kGpa);
    EXPECT_EQ(de->size, 0x1000u);
    ASSERT_NE(ims_devtlb_peek(h.devtlb(), false, 0, false, kGva2), nullptr);

    // The guest unmaps the 4 KiB page; the VMM forwards IOMMU_HWPT_INVALIDATE for it.
    ASSERT_EQ(ims_pt_unmap(&n.s1, kGva, 0x1000, &h.err), 0x1000);
    uint64_t m = h.mark();
    size_t qi0 = h.qi.size();
    ims_iommu_hwpt_vtd_s1_invalidate ent{};
    ent.addr = kGva;
    ent.npages = 1;
    ims_iommu_hwpt_invalidate inv{};
    inv.size = sizeof inv;
    inv.hwpt_id = n.nested;
    inv.data_uptr = (uint64_t)(uintptr_t)&ent;
    inv.data_type = IMS_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1;
    inv.entry_len = sizeof ent;
    inv.entry_num = 1;
    ims_cycle t_call = h.now();
    ASSERT_EQ(h.ioctl(IMS_IOMMU_HWPT_INVALIDATE, &inv), 0);
    EXPECT_EQ(inv.entry_num, 1u);  // §1.3: entries handled, written back

    // iommufd-facts §2.7: P_IOTLB G=3 with the nested DID, PASID 0, the address, AM 0, IH 0 (no LEAF); then the
    // device-TLB invalidation (type 3, the RID's PASID 0) of the same page. One qi_submit_sync batch.
    ims_cycle t_iqt = 0;
    std::vector<Desc> v = h.since(m, &t_iqt);
    EXPECT_EQ(v, (std::vector<Desc>{piotlb_page(n.did, 0, kGva, 0, false), dev_tlb(kSid, kGva, 0)})) << show(v);

    // Exactly those cached translations are gone; the 2 MiB page stays cached in both.
    EXPECT_EQ(ims_iotlb_peek(h.iotlb(), n.did, IMS_VTD_PGTT_NESTED, 0, kGva), nullptr);
    EXPECT_NE(ims_iotlb_peek(h.iotlb(), n.did, IMS_VTD_PGTT_NESTED, 0, kGva2), nullptr);
    EXPECT_EQ(ims_devtlb_peek(h.devtlb(), false, 0, false, kGva), nullptr);
    EXPECT_NE(ims_devtlb_peek(h.devtlb(), false, 0, false, kGva2), nullptr);

    // The hardware executed P_IOTLB, the device-TLB invalidation and the driver's wait, in that order; the
    // ioctl completed only after the wait's status write, and no earlier than the configured costs allow.
    ASSERT_EQ(h.qi.size(), qi0 + 3);
    EXPECT_EQ(h.qi[qi0].d.type, IMS_QI_TYPE_PIOTLB);
    EXPECT_EQ(h.qi[qi0 + 1].d.type, IMS_QI_TYPE_DEV_TLB);
    const QiEvent &wait = h.qi[qi0 + 2];
    EXPECT_EQ(wait.d.type, IMS_QI_TYPE_WAIT);
    EXPECT_TRUE(wait.d.wait.sw);
    EXPECT_GE(t_iqt, t_call);
    EXPECT_GE(wait.t, t_iqt + h.cycles("qi.cost.piotlb") + h.cycles("qi.cost.devtlb") + h.cycles("qi.cost.wait"));
    EXPECT_GT(h.last.t, wait.t);
    EXPECT_GE(h.last.t - t_call, h.cycles("qi.cost.piotlb") + h.cycles("qi.cost.devtlb") + h.cycles("qi.cost.wait") +
                                     h.cycles("qi.status_write") + h.cycles("iommufd.syscall_ns") +
                                     h.cycles("iommufd.ioctl_ns"));

    // The next DMA to the page misses both TLBs, walks, and faults as the golden walk does.
    Dma d3;
    h.dma(d3, kGva + 0x123, 64, false);
    EXPECT_NE(d3.op.fault, 0u);
    EXPECT_EQ(d3.op.fault, h.golden(kGva + 0x123, false).fault);
    // The other page still translates.
    Dma d4;
    h.dma(d4, kGva2, 64, false);
    EXPECT_EQ(d4.op.fault, 0u);
    EXPECT_EQ(d4.op.pa, n.hpa + kGpa2);
}

TEST(IommufdE2e, SecondStageUnmapReachesTheNestedDid)
{
    Host h;
    Nested n;
    ASSERT_NO_FATAL_FAILURE(build_nested(h, n, /*split=*/true));
    Dma d1, d2;
    h.dma(d1, kGva, 64, false);
    h.dma(d2, kGva2 + 0x40, 64, false);
    ASSERT_EQ(d1.op.fault, 0u);
    ASSERT_EQ(d2.op.fault, 0u);
    ASSERT_NE(ims_iotlb_peek(h.iotlb(), n.did, IMS_VTD_PGTT_NESTED, 0, kGva2), nullptr);
    ASSERT_EQ(ims_devtlb_count(h.devtlb()), 2u);

    // IOMMU_IOAS_UNMAP of the 2 MiB of GPA behind the guest's 2 MiB page (one S2 leaf of the parent).
    uint64_t m = h.mark();
    ims_iommu_ioas_unmap um{};
    um.size = sizeof um;
    um.ioas_id = n.ioas;
    um.iova = kGpa2;
    um.length = 2ULL << 20;
    ASSERT_EQ(h.ioctl(IMS_IOMMU_IOAS_UNMAP, &um), 0);
    EXPECT_EQ(um.length, 2ULL << 20);  // bytes unmapped, written back
    // iommufd-facts §2.8: the parent's NESTING tags flush as a second-stage domain by the NESTED DID: IOTLB PSI
    // (type 2) over the unmapped GPA range (AM 9, IH 1: no table page freed), then the whole device TLB
    // (address 0, mask 52) since the affected GVAs are unknown.
    std::vector<Desc> v = h.since(m);
    EXPECT_EQ(v, (std::vector<Desc>{iotlb_psi(n.did, kGpa2, 9, true), dev_tlb(kSid, 0, 52)})) << show(v);
    // The type-2 PSI by DID removes the nested translation that used the leaf; the device TLB is empty.
    EXPECT_EQ(ims_iotlb_peek(h.iotlb(), n.did, IMS_VTD_PGTT_NESTED, 0, kGva2), nullptr);
    EXPECT_EQ(ims_devtlb_count(h.devtlb()), 0u);
    EXPECT_EQ(ims_iommufd_ioas_area_count(h.ifd, n.ioas), 2u);  // [0, 38M) and [40M, 64M) remain

    // The guest's mapping is intact but its GPA is gone from stage 2: the DMA faults like the golden walk.
    Dma d3;
    h.dma(d3, kGva2 + 0x40, 64, false);
    EXPECT_NE(d3.op.fault, 0u);
    EXPECT_EQ(d3.op.fault, h.golden(kGva2 + 0x40, false).fault);
    // A page whose GPA is still mapped translates again (refilled after the full device-TLB flush).
    Dma d4;
    h.dma(d4, kGva, 64, false);
    EXPECT_EQ(d4.op.fault, 0u);
    EXPECT_EQ(d4.op.pa, n.hpa + kGpa);
}

TEST(IommufdE2e, DestroyOrdering)
{
    Host h;
    Nested n;
    ASSERT_NO_FATAL_FAILURE(build_nested(h, n));

    // iommufd-facts §1.3 DESTROY / §3.3 alloc_hwpt_nested: referenced objects are busy.
    EXPECT_EQ(h.destroy(n.parent), -EBUSY);  // a nested child holds it
    EXPECT_EQ(h.destroy(n.nested), -EBUSY);  // the device is attached to it
    EXPECT_EQ(h.destroy(n.ioas), -EBUSY);    // the parent's HWPT holds it
    EXPECT_EQ(h.destroy(h.dev_id), -EBUSY);  // the VFIO file holds the bound device
    EXPECT_EQ(ims_iommufd_obj_users(h.ifd, n.parent), 1u);

    // VFIO_DEVICE_DETACH_IOMMUFD_PT: the RID is blocked, its PASID entry torn down (iommufd-facts §2.6 for a
    // nested entry: PASID-cache PASID-selective, IOTLB domain-selective by the DID, device TLB whole range).
    uint64_t m = h.mark();
    ims_vfio_device_detach_iommufd_pt dt{};
    dt.argsz = sizeof dt;
    ASSERT_EQ(h.vfio(IMS_VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt), 0);
    std::vector<Desc> v = h.since(m);
    EXPECT_EQ(v, (std::vector<Desc>{pc_pasid(n.did, 0), iotlb_dsi(n.did), dev_tlb(kSid, 0, 52)})) << show(v);
    EXPECT_EQ(ims_iommufd_device_hwpt(h.ifd, h.dev_id, IMS_DRV_NO_PASID), 0u);
    Dma d;
    h.dma(d, kGva, 64, false);
    EXPECT_NE(d.op.fault, 0u);  // blocked

    // Still busy in the other direction: the parent has its child, the IOAS its parent.
    EXPECT_EQ(h.destroy(n.parent), -EBUSY);
    EXPECT_EQ(h.destroy(n.ioas), -EBUSY);
    EXPECT_EQ(h.destroy(n.nested), 0);
    EXPECT_EQ(ims_iommufd_obj_kind(h.ifd, n.nested), IMS_IOMMUFD_OBJ_NONE);
    EXPECT_EQ(h.destroy(n.ioas), -EBUSY);
    EXPECT_EQ(h.destroy(n.parent), 0);
    EXPECT_EQ(h.destroy(n.ioas), 0);
    EXPECT_EQ(ims_iommufd_obj_kind(h.ifd, n.ioas), IMS_IOMMUFD_OBJ_NONE);
    // Gone means gone: a second DESTROY is ENOENT.
    EXPECT_EQ(h.destroy(n.nested), -ENOENT);
    EXPECT_EQ(h.destroy(n.parent), -ENOENT);
    EXPECT_EQ(h.destroy(n.ioas), -ENOENT);
    EXPECT_EQ(ims_vtd_drv_qi_busy(h.drv), 0u);
}

// Software costs show up in simulated time: an ioctl with no driver work completes exactly after
// iommufd.syscall_ns + iommufd.ioctl_ns; one with a flush takes at least the QI wait on top.
TEST(IommufdE2e, HostSoftwareCostsAreCharged)
{
    Host h;
    ims_iommu_ioas_alloc ia{};
    ia.size = sizeof ia;
    ims_cycle t0 = h.now();
    ASSERT_EQ(h.ioctl(IMS_IOMMU_IOAS_ALLOC, &ia), 0);
    EXPECT_EQ(h.last.t - t0, h.cycles("iommufd.syscall_ns") + h.cycles("iommufd.ioctl_ns"));
}

}  // namespace
