// Caches change timing, never results: random SS, FS and nested mappings,
// the same request mix run cold (empty caches) and warm (filled by the cold
// run), in concurrent batches, every result compared with the golden
// ims_vtd_translate on the same memory. Then part of the mappings is unmapped
// and, after a global invalidation of every cache, results must follow the
// new tables.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "models/vtd/fault_reason.h"
#include "sim/rng.h"
#include "tests/xlate_fixture.h"

namespace {

using ims_test::kGuestBase;
using ims_test::Req;
using ims_test::XlateSystem;

constexpr uint16_t kSidA = 0x0208, kSidB = 0x0209;  // two devices of one domain
constexpr uint16_t kDid = 11;
constexpr uint32_t kPasid = 0x42;
constexpr uint64_t kGuestRam = 1ULL << 30;         // nested: GPA [0, 1 GiB)
constexpr uint64_t kDataGpa = 256ULL << 20;        // nested FS outputs: GPA [256 MiB, 1 GiB)

struct Mapping {
    uint64_t iova, size;
};

uint64_t pick_size(ims_rng *r)
{
    uint64_t x = ims_rng_below(r, 100);
    return x < 75 ? 4096 : x < 97 ? (2ULL << 20) : (1ULL << 30);
}

bool overlaps(const std::vector<Mapping> &m, uint64_t base, uint64_t size)
{
    for (const Mapping &x : m)
        if (base < x.iova + x.size && x.iova < base + size)
            return true;
    return false;
}

class World {
  public:
    XlateSystem s;
    ims_pt_builder ss{}, fs{};
    ims_rng rng{};
    std::vector<Mapping> maps;
    unsigned pgtt;
    uint64_t span;

    World(unsigned pgtt_, std::initializer_list<const char *> o)
        : s(true, o), pgtt(pgtt_), span(pgtt_ == IMS_VTD_PGTT_SS ? (1ULL << 36) : (1ULL << 40))
    {
        ims_rng_seed(&rng, 1000 + pgtt);
        // Both devices: PASIDs enabled, ATS enabled, RID_PASID 0; PASID kPasid with SRE=1.
        for (uint16_t sid : {kSidA, kSidB}) {
            s.sm_device(sid, 0, /*dte=*/true);
        }
        if (pgtt != IMS_VTD_PGTT_FS)
            ss = s.new_ss(4);
        if (pgtt == IMS_VTD_PGTT_FS)
            fs = s.new_fs(4);
        if (pgtt == IMS_VTD_PGTT_NESTED) {
            fs = s.new_guest_fs(4);
            s.map(ss, 0, kGuestBase, kGuestRam, 2ULL << 20, IMS_PT_RW);
        }
        for (uint16_t sid : {kSidA, kSidB}) {
            for (uint32_t pasid : {0u, kPasid}) {
                ims_vtd_pasid_cfg pc{};
                pc.pgtt = pgtt;
                pc.did = kDid;
                pc.sre = pasid == kPasid;
                pc.wpe = pgtt == IMS_VTD_PGTT_NESTED;
                pc.ssade = pgtt != IMS_VTD_PGTT_FS;
                if (pgtt != IMS_VTD_PGTT_FS) {
                    pc.aw = 2;
                    pc.ssptptr = ss.root;
                }
                if (pgtt != IMS_VTD_PGTT_SS) {
                    pc.fspm = IMS_VTD_FSPM_4LEVEL;
                    pc.fsptptr = fs.root;
                }
                s.sm_pasid(sid, pasid, pc);
            }
        }
        build(pgtt == IMS_VTD_PGTT_SS ? 400 : 300);
    }

    void build(int count)
    {
        ims_pt_builder &b = pgtt == IMS_VTD_PGTT_SS ? ss : fs;
        while (count > 0) {
            uint64_t size = pick_size(&rng);
            uint64_t iova = ims_rng_below(&rng, span / size) * size;
            if (overlaps(maps, iova, size))
                continue;
            uint64_t out;
            if (pgtt == IMS_VTD_PGTT_NESTED) {
                uint64_t lo = size >= kDataGpa ? 0 : kDataGpa;  // a 1 GiB page can only be GPA 0
                out = lo + ims_rng_below(&rng, (kGuestRam - lo) / size) * size;
            } else {
                out = (1ULL << 34) + ims_rng_below(&rng, (1ULL << 34) / size) * size;
            }
            unsigned perm;
            uint64_t x = ims_rng_below(&rng, 10);
            if (pgtt == IMS_VTD_PGTT_SS)
                perm = x < 6 ? IMS_PT_RW : x < 9 ? IMS_PT_R : IMS_PT_W;
            else
                perm = (x < 8 ? IMS_PT_U : 0) | (ims_rng_below(&rng, 3) ? IMS_PT_W : 0);
            s.map(b, iova, out, size, size, perm);
            maps.push_back({iova, size});
            count--;
        }
    }

    // A random request: inside a mapping (mostly) or anywhere; reads, writes,
    // ATS translation requests, with/without PASID, user/supervisor.
    ims_vtd_req random_req()
    {
        uint64_t addr;
        if (ims_rng_below(&rng, 10) < 8) {
            const Mapping &m = maps[ims_rng_below(&rng, maps.size())];
            addr = m.iova + (ims_rng_below(&rng, m.size / 8) * 8);
        } else {
            addr = ims_rng_below(&rng, span) & ~7ULL;
        }
        uint16_t sid = ims_rng_below(&rng, 2) ? kSidA : kSidB;
        bool write = ims_rng_below(&rng, 3) == 0;
        int pasid = ims_rng_below(&rng, 2) ? int(kPasid) : -1;
        ims_vtd_req q = XlateSystem::req(sid, addr, write, pasid);
        q.priv = pasid >= 0 && ims_rng_below(&rng, 3) == 0;
        uint64_t k = ims_rng_below(&rng, 20);
        if (k == 0)
            q.type = IMS_VTD_REQ_TRANSLATION;
        else if (k == 1)
            q.read = q.write = false, q.type = IMS_VTD_REQ_TRANSLATION;
        return q;
    }

    // Submit `reqs` in concurrent batches; compare each with the golden result
    // computed just before its batch (A/D bits never change a result here).
    void run_and_compare(const std::vector<ims_vtd_req> &reqs, const char *phase)
    {
        const size_t batch = 8;
        for (size_t i = 0; i < reqs.size(); i += batch) {
            std::vector<ims_vtd_result> want;
            std::vector<Req *> got;
            for (size_t j = i; j < reqs.size() && j < i + batch; j++)
                want.push_back(s.golden(reqs[j]));
            for (size_t j = i; j < reqs.size() && j < i + batch; j++)
                got.push_back(&s.submit(reqs[j]));
            s.run();
            for (size_t j = 0; j < got.size(); j++) {
                const ims_vtd_req &q = reqs[i + j];
                const ims_vtd_result &w = want[j], &g = got[j]->x.res;
                ASSERT_TRUE(got[j]->done);
                SCOPED_TRACE(::testing::Message() << phase << " req " << i + j << std::hex << " sid " << q.sid
                                                  << " addr " << q.addr << " pasid " << q.has_pasid << ":" << q.pasid
                                                  << " w " << q.write << " priv " << q.priv << " type " << q.type);
                ASSERT_EQ(g.fault, w.fault);
                EXPECT_EQ(g.fault_qualified, w.fault_qualified);
                EXPECT_EQ(g.pa, w.pa);
                EXPECT_EQ(g.page_size, w.page_size);
                // Permissions are architecturally visible only in ATS completions; an
                // untranslated hit may under-report W while the leaf's D is pending.
                if (q.type == IMS_VTD_REQ_TRANSLATION) {
                    EXPECT_EQ(g.r, w.r);
                    EXPECT_EQ(g.w, w.w);
                    EXPECT_EQ(g.x, w.x);
                } else if (!w.fault) {
                    EXPECT_TRUE(!g.w || w.w) << "never more than the tables grant";
                }
                if (::testing::Test::HasFailure())
                    return;
            }
        }
    }

    void invalidate_all()
    {
        ims_iotlb_inv_global(s.caches.iotlb);
        ims_psc_inv_global(s.caches.psc);
        ims_pasidc_inv_global(s.caches.pasidc);
        ims_ctxc_inv_global(s.caches.ctxc);
        s.caches.inv_epoch++;
    }
};

void cold_warm(unsigned pgtt, std::initializer_list<const char *> o, bool warm_gain = true)
{
    World w(pgtt, o);
    // Half the requests revisit a hot set (IOTLB and merge traffic), half are fresh.
    std::vector<ims_vtd_req> hot, reqs;
    for (int i = 0; i < 48; i++)
        hot.push_back(w.random_req());
    for (int i = 0; i < 1500; i++) {
        if (ims_rng_below(&w.rng, 2)) {
            ims_vtd_req q = hot[ims_rng_below(&w.rng, hot.size())];
            q.addr ^= ims_rng_below(&w.rng, 512) * 8;  // same 4 KiB page
            reqs.push_back(q);
        } else {
            reqs.push_back(w.random_req());
        }
    }

    w.run_and_compare(reqs, "cold");
    if (::testing::Test::HasFailure())
        return;
    uint64_t cold_reads = w.s.counter("walk.mem_reads"), cold_hits = w.s.counter("xlate.iotlb_hits");
    w.run_and_compare(reqs, "warm");
    if (::testing::Test::HasFailure())
        return;
    uint64_t warm_reads = w.s.counter("walk.mem_reads") - cold_reads;
    uint64_t warm_hits = w.s.counter("xlate.iotlb_hits") - cold_hits;
    if (warm_gain) {
        EXPECT_GT(warm_hits, cold_hits) << "the warm run must hit more";
        EXPECT_LT(warm_reads, cold_reads) << "and read less";
    }
    EXPECT_EQ(w.s.counter("xlate.count"), 2 * reqs.size());

    // Unmap a third of the mappings; after a global invalidation nothing stale remains.
    ims_pt_builder &b = pgtt == IMS_VTD_PGTT_SS ? w.ss : w.fs;
    for (size_t i = 0; i < w.maps.size(); i += 3)
        ASSERT_GE(ims_pt_unmap(&b, w.maps[i].iova, w.maps[i].size, &w.s.err), 0) << w.s.err.msg;
    w.invalidate_all();
    w.run_and_compare(reqs, "after unmap");
    if (getenv("IMS_TEST_VERBOSE"))
        ims_stats_write_table(w.s.stats, stdout);
}

TEST(XlateColdWarm, SecondStageOnly) { cold_warm(IMS_VTD_PGTT_SS, {}); }
TEST(XlateColdWarm, FirstStageOnly) { cold_warm(IMS_VTD_PGTT_FS, {}); }
TEST(XlateColdWarm, Nested) { cold_warm(IMS_VTD_PGTT_NESTED, {}); }
TEST(XlateColdWarm, NestedWithoutTableCaching) { cold_warm(IMS_VTD_PGTT_NESTED, {"iotlb.cache_nested_ss=false"}); }
// Small caches: constant eviction and random replacement must not change results either.
TEST(XlateColdWarm, NestedTinyRandomCaches)
{
    cold_warm(IMS_VTD_PGTT_NESTED,
              {"iotlb.entries=8", "iotlb.ways=2", "iotlb.policy=random", "psc.fs.l2.entries=4", "psc.fs.l2.ways=2",
               "psc.ss.l2.entries=4", "psc.ss.l2.ways=4", "ctxc.entries=1", "ctxc.ways=1", "pasidc.entries=2",
               "pasidc.ways=1", "walk.walkers=2", "xlate.slots=4"},
              /*warm_gain=*/false);
}
TEST(XlateColdWarm, FirstStageNoMerge) { cold_warm(IMS_VTD_PGTT_FS, {"xlate.merge=false", "walk.walkers=1"}); }

}  // namespace
