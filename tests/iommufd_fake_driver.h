// A stand-in IOMMU driver for the iommufd core tests: it implements
// models/iommufd/iommu_driver.h with the validation the Intel driver does
// (iommufd-facts §2.2, §2.3, §2.7), keeps each domain's mappings so tests can
// check what the core mirrored, records every call as a line of text, and can
// inject an error into any op. With an engine, completions arrive
// `delay_cycles` later with status `late_status`; without one, at once.
#ifndef IMS_TESTS_IOMMUFD_FAKE_DRIVER_H
#define IMS_TESTS_IOMMUFD_FAKE_DRIVER_H

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdarg>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "models/iommufd/iommufd.h"

// The fake's domain; handed to the core as an opaque ims_drv_domain * (a
// distinct type so it cannot clash with a real driver's definition).
struct FakeDomain {
    int id = 0;
    bool nested = false, nest_parent = false, dirty = false, dirty_on = false;
    uint32_t flags = 0;
    FakeDomain *parent = nullptr;
    int attached = 0, children = 0;
    ims_iommu_hwpt_vtd_s1 s1{};
    std::map<uint64_t, std::pair<uint64_t, unsigned>> pages; // iova page -> (pa page, prot)
    std::set<uint64_t> dirty_pages;                          // iova pages written
};

struct FakeDriver {
    // knobs
    bool nested_supported = true, ssads = true, has_pasid = true, has_ats = true;
    uint64_t cap = 0x00d2008c40660462ull, ecap = 0x0000f0ff0ff0ffdfull;
    ims_engine *engine = nullptr;
    uint64_t delay_cycles = 0;
    int late_status = 0;
    std::map<std::string, int> fail;       // op -> errno, injected on every call
    std::map<std::string, int> fail_after; // op -> number of successful calls before failing
    std::set<std::pair<int, uint16_t>> incompatible; // (domain id, sid) attach -> -EINVAL
    // state
    std::vector<std::string> log;
    std::vector<std::unique_ptr<FakeDomain>> domains;
    std::map<std::pair<uint16_t, uint32_t>, FakeDomain *> att; // (sid, pasid) -> domain
    std::vector<ims_drv_done> pending;
    int next_id = 1;
    int freed = 0;

    ims_drv drv() { return ims_drv{&kOps, this}; }

    static FakeDomain *of(ims_drv_domain *d) { return reinterpret_cast<FakeDomain *>(d); }
    static ims_drv_domain *as(FakeDomain *d) { return reinterpret_cast<ims_drv_domain *>(d); }
    FakeDomain *dom(int id)
    {
        for (auto &d : domains)
            if (d->id == id)
                return d.get();
        return nullptr;
    }
    std::string last() const { return log.empty() ? "" : log.back(); }
    size_t count(const std::string &prefix) const
    {
        size_t n = 0;
        for (auto &l : log)
            n += l.compare(0, prefix.size(), prefix) == 0;
        return n;
    }

  private:
    static FakeDriver *self(void *p) { return static_cast<FakeDriver *>(p); }
    int injected(const std::string &op)
    {
        auto f = fail.find(op);
        if (f != fail.end())
            return -f->second;
        auto a = fail_after.find(op);
        if (a != fail_after.end()) {
            if (a->second == 0)
                return -EIO;
            a->second--;
        }
        return 0;
    }
    void rec(const char *fmt, ...) __attribute__((format(printf, 2, 3)))
    {
        char buf[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        log.emplace_back(buf);
    }
    static void fire(void *ctx, uint64_t idx)
    {
        FakeDriver *d = self(ctx);
        ims_drv_done done = d->pending[idx];
        if (done.fn)
            done.fn(done.ctx, d->late_status);
    }
    void complete(ims_drv_done done)
    {
        if (!engine) {
            if (done.fn)
                done.fn(done.ctx, late_status);
            return;
        }
        pending.push_back(done);
        ims_engine_schedule(engine, delay_cycles, fire, this, pending.size() - 1);
    }

    static int hw_info(void *p, uint16_t sid, uint32_t in_type, void *data, uint32_t *len, uint32_t *type,
                       uint64_t *caps)
    {
        FakeDriver *d = self(p);
        d->rec("hw_info sid=0x%x type=%u", sid, in_type);
        if (int rc = d->injected("hw_info"))
            return rc;
        if (in_type != IMS_IOMMU_HW_INFO_TYPE_DEFAULT && in_type != IMS_IOMMU_HW_INFO_TYPE_INTEL_VTD)
            return -EOPNOTSUPP;
        ims_iommu_hw_info_vtd v{};
        v.flags = IMS_IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17;
        v.cap_reg = d->cap;
        v.ecap_reg = d->ecap;
        std::memcpy(data, &v, *len < sizeof v ? *len : sizeof v);
        *len = sizeof v;
        *type = IMS_IOMMU_HW_INFO_TYPE_INTEL_VTD;
        *caps = (d->ssads ? IMS_IOMMU_HW_CAP_DIRTY_TRACKING : 0) |
                (d->has_ats ? 0 : IMS_IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED);
        return 0;
    }
    static int alloc_paging(void *p, uint16_t sid, uint32_t flags, ims_drv_domain **out)
    {
        FakeDriver *d = self(p);
        d->rec("alloc_paging sid=0x%x flags=0x%x", sid, flags);
        if (int rc = d->injected("alloc_paging"))
            return rc;
        if (flags & ~(IMS_DRV_ALLOC_NEST_PARENT | IMS_DRV_ALLOC_DIRTY_TRACKING | IMS_DRV_ALLOC_PASID))
            return -EOPNOTSUPP;
        if ((flags & IMS_DRV_ALLOC_NEST_PARENT) && !d->nested_supported)
            return -EOPNOTSUPP;
        if ((flags & IMS_DRV_ALLOC_DIRTY_TRACKING) && !d->ssads)
            return -EOPNOTSUPP;
        auto dom = std::make_unique<FakeDomain>();
        dom->id = d->next_id++;
        dom->flags = flags;
        dom->nest_parent = flags & IMS_DRV_ALLOC_NEST_PARENT;
        dom->dirty = flags & IMS_DRV_ALLOC_DIRTY_TRACKING;
        *out = as(dom.get());
        d->domains.push_back(std::move(dom));
        return 0;
    }
    static int alloc_nested(void *p, uint16_t sid, ims_drv_domain *parent_, uint32_t flags, uint32_t type,
                            const void *data, uint32_t len, ims_drv_domain **out)
    {
        FakeDriver *d = self(p);
        FakeDomain *parent = of(parent_);
        d->rec("alloc_nested sid=0x%x parent=%d flags=0x%x type=%u len=%u", sid, parent->id, flags, type, len);
        if (int rc = d->injected("alloc_nested"))
            return rc;
        // Intel order (iommufd-facts §2.3): support/flags, type, parent, copy.
        if (!d->nested_supported || (flags & ~IMS_DRV_ALLOC_PASID))
            return -EOPNOTSUPP;
        if (type != IMS_IOMMU_HWPT_DATA_VTD_S1)
            return -EOPNOTSUPP;
        if (parent->nested || !parent->nest_parent)
            return -EINVAL;
        ims_iommu_hwpt_vtd_s1 s1;
        int rc = ims_iommufd_copy_struct_from_user(&s1, sizeof s1, IMS_IOMMU_HWPT_VTD_S1_MIN,
                                                   IMS_IOMMU_HWPT_DATA_VTD_S1, type, data, len);
        if (rc)
            return rc;
        auto dom = std::make_unique<FakeDomain>();
        dom->id = d->next_id++;
        dom->nested = true;
        dom->flags = flags;
        dom->parent = parent;
        dom->s1 = s1;
        parent->children++;
        *out = as(dom.get());
        d->domains.push_back(std::move(dom));
        return 0;
    }
    static int domain_free(void *p, ims_drv_domain *dom_)
    {
        FakeDriver *d = self(p);
        FakeDomain *dom = of(dom_);
        d->rec("free %d", dom->id);
        if (dom->attached || dom->children)
            return -EBUSY;
        if (dom->parent)
            dom->parent->children--;
        d->freed++;
        for (auto it = d->domains.begin(); it != d->domains.end(); ++it)
            if (it->get() == dom) {
                d->domains.erase(it);
                break;
            }
        return 0;
    }
    static int map(void *p, ims_drv_domain *dom_, uint64_t iova, uint64_t pa, uint64_t len, unsigned prot,
                   ims_drv_done done)
    {
        FakeDriver *d = self(p);
        FakeDomain *dom = of(dom_);
        d->rec("map %d 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 " %c%c", dom->id, iova, pa, len,
               prot & IMS_DRV_PROT_READ ? 'r' : '-', prot & IMS_DRV_PROT_WRITE ? 'w' : '-');
        if (int rc = d->injected("map"))
            return rc;
        // Erratum 772415: no read-only mapping on a nest parent (§2.2).
        if (dom->nest_parent && !(prot & IMS_DRV_PROT_WRITE))
            return -EINVAL;
        for (uint64_t o = 0; o < len; o += 4096)
            dom->pages[iova + o] = {pa + o, prot};
        d->complete(done);
        return 0;
    }
    static int unmap(void *p, ims_drv_domain *dom_, uint64_t iova, uint64_t len, ims_drv_done done)
    {
        FakeDriver *d = self(p);
        FakeDomain *dom = of(dom_);
        d->rec("unmap %d 0x%" PRIx64 " 0x%" PRIx64, dom->id, iova, len);
        if (int rc = d->injected("unmap"))
            return rc;
        for (uint64_t o = 0; o < len; o += 4096)
            dom->pages.erase(iova + o);
        d->complete(done);
        return 0;
    }
    static int attach(void *p, ims_drv_domain *dom_, uint16_t sid, uint32_t pasid, ims_drv_done done)
    {
        FakeDriver *d = self(p);
        FakeDomain *dom = of(dom_);
        d->rec("attach %d sid=0x%x pasid=0x%x", dom->id, sid, pasid);
        if (int rc = d->injected("attach"))
            return rc;
        if (d->incompatible.count({dom->id, sid}))
            return -EINVAL;
        auto &slot = d->att[{sid, pasid}];
        if (slot)
            slot->attached--;
        slot = dom;
        dom->attached++;
        d->complete(done);
        return 0;
    }
    static int detach(void *p, uint16_t sid, uint32_t pasid, ims_drv_done done)
    {
        FakeDriver *d = self(p);
        d->rec("detach sid=0x%x pasid=0x%x", sid, pasid);
        if (int rc = d->injected("detach"))
            return rc;
        auto it = d->att.find({sid, pasid});
        if (it != d->att.end()) {
            it->second->attached--;
            d->att.erase(it);
        }
        d->complete(done);
        return 0;
    }
    static int invalidate(void *p, ims_drv_domain *dom_, uint32_t type, const void *entries, uint32_t entry_len,
                          uint32_t *num, ims_drv_done done)
    {
        FakeDriver *d = self(p);
        FakeDomain *dom = of(dom_);
        uint32_t n = *num;
        *num = 0;
        d->rec("invalidate %d type=%u len=%u num=%u", dom->id, type, entry_len, n);
        if (int rc = d->injected("invalidate"))
            return rc;
        // intel_nested_cache_invalidate_user order (iommufd-facts §2.7).
        if (type != IMS_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1)
            return -EINVAL;
        for (uint32_t i = 0; i < n; i++) {
            ims_iommu_hwpt_vtd_s1_invalidate e;
            int rc = ims_iommufd_copy_struct_from_user_array(&e, sizeof e, IMS_IOMMU_HWPT_VTD_S1_INVALIDATE_MIN,
                                                             IMS_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, type, entries,
                                                             entry_len, n, i);
            if (rc)
                return rc;
            if ((e.flags & ~IMS_IOMMU_VTD_INV_FLAGS_LEAF) || e.reserved)
                return -EOPNOTSUPP;
            if ((e.addr & 4095) || (e.npages == UINT64_MAX && e.addr))
                return -EINVAL;
            d->rec("flush %d addr=0x%" PRIx64 " npages=0x%" PRIx64 " leaf=%u", dom->id, e.addr, e.npages,
                   e.flags & 1u);
            (*num)++;
        }
        d->complete(done);
        return 0;
    }
    static int set_dirty(void *p, ims_drv_domain *dom_, bool enable, ims_drv_done done)
    {
        FakeDriver *d = self(p);
        FakeDomain *dom = of(dom_);
        d->rec("set_dirty %d %d", dom->id, enable);
        if (int rc = d->injected("set_dirty"))
            return rc;
        dom->dirty_on = enable;
        d->complete(done);
        return 0;
    }
    static int read_dirty(void *p, ims_drv_domain *dom_, uint64_t iova, uint64_t len, uint64_t page_size,
                          uint64_t *bitmap, bool no_clear, ims_drv_done done)
    {
        FakeDriver *d = self(p);
        FakeDomain *dom = of(dom_);
        d->rec("read_dirty %d 0x%" PRIx64 " 0x%" PRIx64 " ps=0x%" PRIx64 " no_clear=%d", dom->id, iova, len,
               page_size, no_clear);
        if (int rc = d->injected("read_dirty"))
            return rc;
        for (auto it = dom->dirty_pages.begin(); it != dom->dirty_pages.end();) {
            uint64_t a = *it;
            if (a < iova || a - iova >= len) {
                ++it;
                continue;
            }
            uint64_t bit = (a - iova) / page_size;
            bitmap[bit / 64] |= 1ull << (bit % 64);
            it = no_clear ? std::next(it) : dom->dirty_pages.erase(it);
        }
        d->complete(done);
        return 0;
    }
    static bool dev_has_dirty(void *p, uint16_t) { return self(p)->ssads; }
    static bool dev_has_pasid(void *p, uint16_t) { return self(p)->has_pasid; }

    static constexpr ims_drv_ops kOps = {hw_info, alloc_paging,  alloc_nested,  domain_free,
                                         map,     unmap,         attach,        detach,
                                         invalidate, set_dirty,  read_dirty,    dev_has_dirty,
                                         dev_has_pasid};
};

// A context over a FakeDriver, with helpers that assert success.
class IommufdFixture : public ::testing::Test {
  protected:
    FakeDriver fake;
    ims_iommufd *ctx = nullptr;
    std::vector<ims_iommufd_range> resv;
    uint64_t aperture_last = 0;
    ims_engine *engine = nullptr;

    void SetUp() override { Make(); }
    void TearDown() override { ims_iommufd_destroy(ctx); }
    void Make()
    {
        ims_iommufd_destroy(ctx);
        ims_iommufd_params p{};
        p.drv = fake.drv();
        p.engine = engine;
        p.aperture_last = aperture_last;
        p.dev_resv = resv.data();
        p.n_dev_resv = resv.size();
        ims_error err{};
        ASSERT_EQ(0, ims_iommufd_create(&p, &ctx, &err)) << err.msg;
    }
    static ims_drv_done none() { return ims_drv_done{nullptr, nullptr}; }
    int Ioctl(unsigned long cmd, void *arg) { return ims_iommufd_ioctl(ctx, cmd, arg, none()); }
    uint32_t Ioas()
    {
        uint32_t id = 0;
        EXPECT_EQ(0, ims_iommufd_ioas_alloc(ctx, &id, none()));
        return id;
    }
    uint32_t Bind(uint16_t sid)
    {
        uint32_t id = 0;
        EXPECT_EQ(0, ims_iommufd_bind(ctx, sid, &id, none())) << ims_iommufd_last_error(ctx)->msg;
        return id;
    }
    int Map(uint32_t ioas, uint64_t hpa, uint64_t len, uint64_t *iova, uint32_t flags = 0)
    {
        flags |= IMS_IOMMU_IOAS_MAP_READABLE | IMS_IOMMU_IOAS_MAP_WRITEABLE;
        return ims_iommufd_ioas_map(ctx, ioas, hpa, len, flags, iova, none());
    }
    int MapFixed(uint32_t ioas, uint64_t hpa, uint64_t len, uint64_t iova)
    {
        return Map(ioas, hpa, len, &iova, IMS_IOMMU_IOAS_MAP_FIXED_IOVA);
    }
    int Unmap(uint32_t ioas, uint64_t iova, uint64_t len, uint64_t *unmapped = nullptr)
    {
        return ims_iommufd_ioas_unmap(ctx, ioas, iova, len, unmapped, none());
    }
    int Destroy(uint32_t id) { return ims_iommufd_obj_destroy(ctx, id, none()); }
    int HwptAlloc(uint32_t dev, uint32_t pt, uint32_t flags, uint32_t *out, uint32_t type = 0,
                  const void *data = nullptr, uint32_t len = 0)
    {
        return ims_iommufd_hwpt_alloc(ctx, dev, pt, flags, type, data, len, out, none());
    }
    uint32_t Parent(uint32_t dev, uint32_t ioas)
    {
        uint32_t id = 0;
        EXPECT_EQ(0, HwptAlloc(dev, ioas, IMS_IOMMU_HWPT_ALLOC_NEST_PARENT, &id))
            << ims_iommufd_last_error(ctx)->msg;
        return id;
    }
    static ims_iommu_hwpt_vtd_s1 S1(uint64_t pgtbl = 0x10000)
    {
        ims_iommu_hwpt_vtd_s1 s{};
        s.pgtbl_addr = pgtbl;
        s.addr_width = 48;
        return s;
    }
    uint32_t Nested(uint32_t dev, uint32_t parent, uint32_t flags = 0)
    {
        ims_iommu_hwpt_vtd_s1 s = S1();
        uint32_t id = 0;
        EXPECT_EQ(0, HwptAlloc(dev, parent, flags, &id, IMS_IOMMU_HWPT_DATA_VTD_S1, &s, sizeof s))
            << ims_iommufd_last_error(ctx)->msg;
        return id;
    }
    int Attach(uint16_t sid, uint32_t *pt, uint32_t pasid = IMS_DRV_NO_PASID)
    {
        return ims_iommufd_attach(ctx, sid, pasid, pt, none());
    }
    int Detach(uint16_t sid, uint32_t pasid = IMS_DRV_NO_PASID)
    {
        return ims_iommufd_detach(ctx, sid, pasid, none());
    }
    FakeDomain *Domain(uint32_t hwpt) { return FakeDriver::of(ims_iommufd_hwpt_domain(ctx, hwpt)); }
};

#endif
