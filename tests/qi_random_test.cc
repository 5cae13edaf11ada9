// Randomized property test of the queued-invalidation engine: random IOTLB populations and random type-2 /
// type-6 descriptors go through the real queue (memory, fetch, decode, execute); the entries left must be
// exactly those an independent reference of VT-d 5.10 Tables 23/24 keeps (SS-only entries carry no PASID
// tag, iotlb.h / vtd-facts §5.1, so a PASID-selective type 6 removes all of the DID's).
#include "tests/qi_fixture.h"

#include <random>
#include <vector>

namespace {

using qitest::QiSys;

struct Ent {
    uint16_t did;
    ims_vtd_pgtt pgtt;
    uint32_t pasid;
    uint64_t iova;
};

enum Kind { GLOBAL, DSI, PSI, PASID_SEL, PASID_PAGE, NKINDS };

struct Desc {
    Kind k;
    uint16_t did;
    uint32_t pasid;
    uint64_t addr;
    unsigned am;
};

bool in_range(uint64_t iova, uint64_t addr, unsigned am)
{
    uint64_t size = 4096ull << am;
    return (iova & ~(size - 1)) == (addr & ~(size - 1));
}

bool fs_like(ims_vtd_pgtt p) { return p == IMS_VTD_PGTT_FS || p == IMS_VTD_PGTT_NESTED; }

// Reference: is the entry removed by the descriptor?
bool removes(const Desc &d, const Ent &e)
{
    switch (d.k) {
    case GLOBAL: return true;
    case DSI: return e.did == d.did;
    case PSI: return e.did == d.did && (fs_like(e.pgtt) || in_range(e.iova, d.addr, d.am));
    // Table 24 PASID-selective: (DID, PASID) for every PGTT; untagged SS-only entries go for the whole DID.
    case PASID_SEL: return e.did == d.did && (e.pgtt == IMS_VTD_PGTT_SS || e.pasid == d.pasid);
    case PASID_PAGE: return e.did == d.did && fs_like(e.pgtt) && e.pasid == d.pasid && in_range(e.iova, d.addr, d.am);
    default: return false;
    }
}

void encode(const Desc &d, uint64_t qw[4])
{
    switch (d.k) {
    case GLOBAL: ims_qi_build_iotlb_global(qw, true, true); break;
    case DSI: ims_qi_build_iotlb_dsi(qw, d.did, true, true); break;
    case PSI: ims_qi_build_iotlb_psi(qw, d.did, d.addr, d.am, false, true, true); break;
    case PASID_SEL: ims_qi_build_piotlb_pasid(qw, d.did, d.pasid); break;
    default: ims_qi_build_piotlb_page(qw, d.did, d.pasid, d.addr, d.am, false); break;
    }
}

bool present(QiSys &s, const Ent &e)
{
    const ims_iotlb_entry *x = ims_iotlb_peek(s.c.iotlb, e.did, e.pgtt, e.pasid, e.iova);
    return x && x->pgtt == e.pgtt;
}

TEST(QiRandom, IotlbDescriptorsRemoveExactlyWhatTheTablesSay)
{
    std::mt19937_64 rng(12345);
    const ims_vtd_pgtt pgtts[] = {IMS_VTD_PGTT_SS, IMS_VTD_PGTT_FS, IMS_VTD_PGTT_NESTED, IMS_VTD_PGTT_PT};
    QiSys s;
    unsigned removed_total = 0, kept_total = 0;
    for (int round = 0; round < 150; round++) {
        ims_iotlb_inv_global(s.c.iotlb);
        std::vector<Ent> live;
        for (int i = 0; i < 24; i++) {
            Ent e{(uint16_t)(1 + rng() % 3), pgtts[rng() % 4], (uint32_t)(rng() % 3), (rng() % 32) * 4096};
            ims_iotlb_entry x{};
            x.did = e.did;
            x.pgtt = (uint8_t)e.pgtt;
            x.pasid = e.pasid;
            x.iova = e.iova;
            x.hpa = 0x100000000ull + e.iova;
            x.r = true;
            ims_iotlb_insert(s.c.iotlb, &x);
        }
        // The reference population is what the cache holds (inserts may replace or evict).
        ims_iotlb_foreach(
            s.c.iotlb,
            [](const ims_iotlb_entry *x, void *arg) {
                auto *v = static_cast<std::vector<Ent> *>(arg);
                v->push_back({x->did, (ims_vtd_pgtt)x->pgtt, x->pasid == IMS_IOTLB_NO_PASID ? 0 : x->pasid, x->iova});
            },
            &live);
        Desc d{(Kind)(rng() % NKINDS), (uint16_t)(1 + rng() % 3), (uint32_t)(rng() % 3), (rng() % 32) * 4096,
               (unsigned)(rng() % 4)};
        uint64_t qw[4];
        encode(d, qw);
        s.put(qw);
        s.put_wait((uint32_t)round + 1);
        s.ring();
        s.run();
        ASSERT_EQ(s.status(), (uint32_t)round + 1);
        for (const Ent &e : live) {
            bool gone = removes(d, e);
            EXPECT_EQ(present(s, e), !gone) << "round " << round << " kind " << d.k << " did " << d.did << " pasid "
                                            << d.pasid << " addr " << d.addr << " am " << d.am << " | entry did "
                                            << e.did << " pgtt " << e.pgtt << " pasid " << e.pasid << " iova "
                                            << e.iova;
            (gone ? removed_total : kept_total)++;
        }
    }
    // The population exercised both outcomes.
    EXPECT_GT(removed_total, 300u);
    EXPECT_GT(kept_total, 300u);
}

} // namespace
