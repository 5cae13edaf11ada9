// Page-table builder (models/vtd/pt_builder.c).
#include <gtest/gtest.h>

#include <vector>

#include "models/mem/pa_alloc.h"
#include "models/mem/physmem.h"
#include "models/vtd/pt_builder.h"
#include "models/vtd/pte.h"

namespace {

constexpr uint64_t kTables = 0x1000'0000ULL;
constexpr uint64_t k2M = 2ULL << 20, k1G = 1ULL << 30;

struct Env {
    ims_physmem *mem = ims_physmem_create();
    ims_pa_alloc alloc{};
    ims_pt_builder b{};
    Env(ims_pt_format f, unsigned levels, uint64_t pages = 4096)
    {
        ims_pa_alloc_init(&alloc, mem, kTables, kTables + pages * 4096);
        EXPECT_EQ(ims_pt_builder_init(&b, mem, &alloc, f, levels, 0, nullptr), 0);
    }
    ~Env() { ims_physmem_destroy(mem); }
    int map(uint64_t iova, uint64_t pa, uint64_t size, uint64_t ps, unsigned perm)
    {
        return ims_pt_map(&b, iova, pa, size, ps, perm, nullptr);
    }
};

std::vector<ims_pt_mapping> all(const ims_pt_builder *b)
{
    std::vector<ims_pt_mapping> v;
    ims_pt_foreach(
        b,
        [](void *o, const ims_pt_mapping *m) {
            static_cast<std::vector<ims_pt_mapping> *>(o)->push_back(*m);
            return 0;
        },
        &v);
    return v;
}

TEST(VtdPtBuilder, InitValidatesFormatAndLevels)
{
    ims_physmem *mem = ims_physmem_create();
    ims_pa_alloc a;
    ims_pa_alloc_init(&a, mem, kTables, kTables + 4 * 4096);
    ims_pt_builder b;
    ims_error err{};
    EXPECT_EQ(ims_pt_builder_init(&b, mem, &a, IMS_PT_FORMAT_FS, 3, 0, &err), -EINVAL);
    EXPECT_NE(std::string(err.msg).find("3 levels"), std::string::npos);
    EXPECT_EQ(ims_pt_builder_init(&b, mem, &a, IMS_PT_FORMAT_SS, 6, 0, nullptr), -EINVAL);
    EXPECT_EQ(ims_pt_builder_init(&b, mem, &a, IMS_PT_FORMAT_SS, 3, 0, nullptr), 0);
    EXPECT_EQ(b.root, kTables);
    EXPECT_EQ(b.tables, 1u);
    ims_pa_alloc_init(&a, mem, kTables, kTables); // empty
    EXPECT_EQ(ims_pt_builder_init(&b, mem, &a, IMS_PT_FORMAT_SS, 4, 0, &err), -ENOMEM);
    ims_physmem_destroy(mem);
}

TEST(VtdPtBuilder, SecondStageEntryEncoding)
{
    Env e(IMS_PT_FORMAT_SS, 4);
    ASSERT_EQ(e.map(0x40'0000'0000ULL, 0x7'0000'0000ULL, k2M, k2M, IMS_PT_R | IMS_PT_X | IMS_PT_SNP), 0);
    ims_pt_mapping m{};
    ASSERT_EQ(ims_pt_lookup(&e.b, 0x40'0012'3456ULL, &m), 0);
    EXPECT_EQ(m.iova, 0x40'0000'0000ULL);
    EXPECT_EQ(m.pa, 0x7'0000'0000ULL);
    EXPECT_EQ(m.page_size, k2M);
    EXPECT_EQ(m.level, 2u);
    EXPECT_EQ(m.perm, unsigned(IMS_PT_R | IMS_PT_X | IMS_PT_SNP));
    // vtd-facts §2.8: R0 X2 PS7 SNP11, address 51:12.
    EXPECT_EQ(m.pte, 0x7'0000'0000ULL | 1 | 4 | 0x80 | 0x800);
    EXPECT_EQ(ims_physmem_r64(e.mem, m.pte_hpa), m.pte);
    // Non-leaf entries grant R|W|X; two tables were added below the root.
    uint64_t hpa;
    ASSERT_EQ(ims_pt_entry_hpa(&e.b, 0x40'0000'0000ULL, 3, &hpa), 0);
    uint64_t nl = ims_physmem_r64(e.mem, hpa);
    EXPECT_EQ(nl & 0xFFF, 7u);
    EXPECT_EQ(e.b.tables, 3u);
    EXPECT_EQ(e.map(0x1000, 0, 4096, 4096, 0), -EINVAL) << "SS leaf needs R or W";
}

TEST(VtdPtBuilder, FirstStageEntryEncoding)
{
    Env e(IMS_PT_FORMAT_FS, 4);
    ASSERT_EQ(e.map(0x8000'0000ULL, 0x1'4000'0000ULL, k1G, k1G, IMS_PT_U | IMS_PT_AD), 0);
    ASSERT_EQ(e.map(0x1000, 0x5000, 4096, 4096, IMS_PT_W), 0);
    ims_pt_mapping m{};
    ASSERT_EQ(ims_pt_lookup(&e.b, 0x8000'1000ULL, &m), 0);
    // vtd-facts §2.7: P0 US2 A5 D6 PS7.
    EXPECT_EQ(m.pte, 0x1'4000'0000ULL | 1 | 4 | 0x20 | 0x40 | 0x80);
    EXPECT_EQ(m.perm, unsigned(IMS_PT_R | IMS_PT_U | IMS_PT_AD));
    ASSERT_EQ(ims_pt_lookup(&e.b, 0x1FFF, &m), 0);
    EXPECT_EQ(m.pte, 0x5000ULL | 1 | 2);
    EXPECT_EQ(m.perm, unsigned(IMS_PT_R | IMS_PT_W));
    uint64_t hpa;
    ASSERT_EQ(ims_pt_entry_hpa(&e.b, 0x1000, 4, &hpa), 0);
    // P|R/W|U/S on non-leaf entries, plus A: the PML4E was created by the IMS_PT_AD mapping.
    EXPECT_EQ(ims_physmem_r64(e.mem, hpa) & 0xFFF, 0x27u);
    ASSERT_EQ(ims_pt_entry_hpa(&e.b, 0x1000, 3, &hpa), 0);
    EXPECT_EQ(ims_physmem_r64(e.mem, hpa) & 0xFFF, 7u); // created by the plain mapping
}

TEST(VtdPtBuilder, RejectsBadArguments)
{
    Env e(IMS_PT_FORMAT_SS, 3);
    ims_error err{};
    EXPECT_EQ(ims_pt_map(&e.b, 0x1000, 0x2000, 4096, 8192, IMS_PT_R, &err), -EINVAL);
    EXPECT_EQ(e.map(0x1800, 0x2000, 4096, 4096, IMS_PT_R), -EINVAL);
    EXPECT_EQ(e.map(0x1000, 0x2800, 4096, 4096, IMS_PT_R), -EINVAL);
    EXPECT_EQ(e.map(0x1000, 0x2000, 0x1800, 4096, IMS_PT_R), -EINVAL);
    EXPECT_EQ(e.map(0x1000, 0x2000, 0, 4096, IMS_PT_R), -EINVAL);
    EXPECT_EQ(e.map(k2M, 0, k2M, k2M, IMS_PT_R), 0);
    EXPECT_EQ(e.map(1ULL << 39, 0, 4096, 4096, IMS_PT_R), -EINVAL) << "beyond 39 bits";
    EXPECT_EQ(e.map((1ULL << 39) - 4096, 0, 8192, 4096, IMS_PT_R), -EINVAL) << "crosses the top";
    Env f(IMS_PT_FORMAT_FS, 4);
    EXPECT_EQ(f.map(0x0000'8000'0000'0000ULL, 0, 4096, 4096, 0), -EINVAL) << "non-canonical";
    EXPECT_EQ(f.map(0x0000'7FFF'FFFF'F000ULL, 0, 8192, 4096, 0), -EINVAL) << "leaves the lower half";
    EXPECT_EQ(f.map(0xFFFF'8000'0000'0000ULL, 0, 4096, 4096, 0), 0);
}

TEST(VtdPtBuilder, OverlapIsEexistAndChangesNothing)
{
    Env e(IMS_PT_FORMAT_SS, 4);
    ASSERT_EQ(e.map(0, 0x10'0000'0000ULL, k2M, k2M, IMS_PT_RW), 0);
    ASSERT_EQ(e.map(4 * k2M + 0x3000, 0x20'0000'0000ULL, 4096, 4096, IMS_PT_R), 0);
    uint64_t tables = e.b.tables;
    // A 4K page inside a 2M page; a 2M page over a table holding a 4K page; a range straddling a mapping.
    EXPECT_EQ(e.map(0x5000, 0x30'0000'0000ULL, 4096, 4096, IMS_PT_R), -EEXIST);
    EXPECT_EQ(e.map(4 * k2M, 0x30'0000'0000ULL, k2M, k2M, IMS_PT_R), -EEXIST);
    EXPECT_EQ(e.map(4 * k2M, 0x30'0000'0000ULL, 0x8000, 4096, IMS_PT_R), -EEXIST);
    EXPECT_EQ(e.map(0, 0x30'0000'0000ULL, k1G, k1G, IMS_PT_R), -EEXIST);
    EXPECT_EQ(e.b.tables, tables);
    ims_pt_mapping m{};
    EXPECT_EQ(ims_pt_lookup(&e.b, 4 * k2M, &m), -ENOENT) << "nothing of the failed range was mapped";
    ASSERT_EQ(ims_pt_lookup(&e.b, 4 * k2M + 0x3008, &m), 0);
    EXPECT_EQ(m.pa, 0x20'0000'0000ULL);
}

TEST(VtdPtBuilder, OutOfTableMemoryRollsBack)
{
    Env e(IMS_PT_FORMAT_SS, 4, /*pages=*/4); // root + 3 tables
    ASSERT_EQ(e.map(0, 0x1000'0000'0000ULL, 0x4000, 4096, IMS_PT_RW), 0);
    ims_error err{};
    // 0x1FE000..0x202000: two pages fit the existing level-1 table, the third needs a new one.
    EXPECT_EQ(ims_pt_map(&e.b, 0x1FE000, 0x2000'0000'0000ULL, 0x4000, 4096, IMS_PT_R, &err), -ENOMEM);
    EXPECT_NE(err.msg[0], '\0');
    ims_pt_mapping m{};
    EXPECT_EQ(ims_pt_lookup(&e.b, 0x1FE000, &m), -ENOENT) << "rolled back";
    EXPECT_EQ(ims_pt_lookup(&e.b, 0x1FF000, &m), -ENOENT) << "rolled back";
    EXPECT_EQ(ims_pt_lookup(&e.b, 0x3000, &m), 0); // earlier mappings intact
    EXPECT_EQ(all(&e.b).size(), 4u);
}

TEST(VtdPtBuilder, UnmapReturnsBytesAndSkipsHoles)
{
    Env e(IMS_PT_FORMAT_SS, 4);
    ASSERT_EQ(e.map(0, 0x10'0000'0000ULL, 3 * 4096, 4096, IMS_PT_RW), 0);
    ASSERT_EQ(e.map(k2M, 0x20'0000'0000ULL, k2M, k2M, IMS_PT_RW), 0);
    ASSERT_EQ(e.map(k1G, 0x40'0000'0000ULL, k1G, k1G, IMS_PT_RW), 0);
    // Partly covering the 2M page: refused, nothing removed.
    ims_error err{};
    EXPECT_EQ(ims_pt_unmap(&e.b, 0, k2M + 4096, &err), -EINVAL);
    EXPECT_EQ(all(&e.b).size(), 5u);
    EXPECT_EQ(ims_pt_unmap(&e.b, 0x1000, 0x1000, nullptr), 4096);
    EXPECT_EQ(ims_pt_unmap(&e.b, 0, 2 * k1G, nullptr), int64_t(2 * 4096 + k2M + k1G));
    EXPECT_TRUE(all(&e.b).empty());
    EXPECT_EQ(ims_pt_unmap(&e.b, 0, k1G, nullptr), 0);
    // Unmapped space can be mapped again, with another page size.
    EXPECT_EQ(e.map(0, 0x50'0000'0000ULL, k2M, k2M, IMS_PT_R), -EEXIST) << "the empty level-1 table stays";
    EXPECT_EQ(e.map(0, 0x50'0000'0000ULL, k2M, 4096, IMS_PT_R), 0);
}

TEST(VtdPtBuilder, ForeachVisitsInOrderAndStops)
{
    Env e(IMS_PT_FORMAT_FS, 4);
    ASSERT_EQ(e.map(0xFFFF'8000'0020'0000ULL, 0x9000'0000ULL, k2M, k2M, IMS_PT_U), 0);
    ASSERT_EQ(e.map(0x7000, 0x1000, 4096, 4096, IMS_PT_W), 0);
    ASSERT_EQ(e.map(0x4000'0000ULL, 0x4000'0000ULL, k1G, k1G, 0), 0);
    auto v = all(&e.b);
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[0].iova, 0x7000u);
    EXPECT_EQ(v[1].iova, 0x4000'0000ULL);
    EXPECT_EQ(v[1].level, 3u);
    EXPECT_EQ(v[2].iova, 0xFFFF'8000'0020'0000ULL) << "upper half reported canonical";
    EXPECT_EQ(v[2].pa, 0x9000'0000ULL);
    int seen = 0;
    int rc = ims_pt_foreach(
        &e.b,
        [](void *o, const ims_pt_mapping *) {
            int *n = static_cast<int *>(o);
            return ++*n == 2 ? 42 : 0;
        },
        &seen);
    EXPECT_EQ(rc, 42);
    EXPECT_EQ(seen, 2);
}

TEST(VtdPtBuilder, GuestTablesWithOffset)
{
    // Guest RAM GPA 0 lives at HPA 2^40: tables are allocated in host memory but named by GPA.
    const uint64_t off = 1ULL << 40;
    ims_physmem *mem = ims_physmem_create();
    ims_pa_alloc a;
    ims_pa_alloc_init(&a, mem, off + 0x10'0000, off + 0x20'0000);
    ims_pt_builder b;
    ASSERT_EQ(ims_pt_builder_init(&b, mem, &a, IMS_PT_FORMAT_FS, 4, off, nullptr), 0);
    EXPECT_EQ(b.root, 0x10'0000u);
    EXPECT_EQ(ims_pt_table_hpa(&b, b.root), off + 0x10'0000);
    ASSERT_EQ(ims_pt_map(&b, 0x1000, 0x3000, 4096, 4096, IMS_PT_U, nullptr), 0);
    uint64_t l4 = ims_physmem_r64(mem, off + 0x10'0000); // entry 0 of the root, read at its HPA
    EXPECT_EQ(l4 & IMS_PTE_ADDR_MASK, 0x10'1000u) << "next table named by GPA";
    ims_pt_mapping m{};
    ASSERT_EQ(ims_pt_lookup(&b, 0x1234, &m), 0);
    EXPECT_EQ(m.pa, 0x3000u);
    EXPECT_EQ(m.pte_hpa, off + 0x10'3000 + 8);
    ims_physmem_destroy(mem);
}

struct Space {
    ims_physmem *mem;
    uint64_t next_gpa = 0x8000;
    int allocs = 0;
};

TEST(VtdPtBuilder, CustomSpaceHooks)
{
    // A non-linear guest: GPA g is at HPA 0x50'0000'0000 + g * 2 (pages never adjacent).
    Space sp{ims_physmem_create()};
    ims_pt_space hooks{};
    hooks.alloc = [](void *o) -> uint64_t {
        auto *s = static_cast<Space *>(o);
        s->allocs++;
        uint64_t g = s->next_gpa;
        s->next_gpa += 0x1000;
        return g;
    };
    hooks.to_hpa = [](void *, uint64_t g) -> uint64_t { return 0x50'0000'0000ULL + g * 2; };
    hooks.opaque = &sp;
    ims_pt_builder b;
    ASSERT_EQ(ims_pt_builder_init_space(&b, sp.mem, &hooks, IMS_PT_FORMAT_SS, 3, nullptr), 0);
    EXPECT_EQ(b.root, 0x8000u);
    ASSERT_EQ(ims_pt_map(&b, 0x20'0000, 0x77'0000, 4096, 4096, IMS_PT_RW, nullptr), 0);
    EXPECT_EQ(sp.allocs, 3);
    uint64_t hpa;
    ASSERT_EQ(ims_pt_entry_hpa(&b, 0x20'0000, 1, &hpa), 0);
    EXPECT_EQ(hpa, 0x50'0000'0000ULL + 0xA000 * 2) << "level-1 table is the third allocation";
    ims_pt_mapping m{};
    ASSERT_EQ(ims_pt_lookup(&b, 0x20'0000, &m), 0);
    EXPECT_EQ(m.pa, 0x77'0000u);
    ims_pt_space bad{};
    EXPECT_EQ(ims_pt_builder_init_space(&b, sp.mem, &bad, IMS_PT_FORMAT_SS, 3, nullptr), -EINVAL);
    ims_physmem_destroy(sp.mem);
}

TEST(VtdPtBuilder, EntryHpaStopsAtHoles)
{
    Env e(IMS_PT_FORMAT_SS, 5);
    uint64_t hpa;
    EXPECT_EQ(ims_pt_entry_hpa(&e.b, 0x1000, 5, &hpa), 0);
    EXPECT_EQ(hpa, e.b.root);
    EXPECT_EQ(ims_pt_entry_hpa(&e.b, 0x1000, 4, &hpa), -ENOENT);
    EXPECT_EQ(ims_pt_entry_hpa(&e.b, 0x1000, 6, &hpa), -EINVAL);
    ASSERT_EQ(e.map(0, 0, k2M, k2M, IMS_PT_R), 0);
    EXPECT_EQ(ims_pt_entry_hpa(&e.b, 0x1000, 2, &hpa), 0);
    EXPECT_EQ(ims_pt_entry_hpa(&e.b, 0x1000, 1, &hpa), -ENOENT) << "below a leaf";
}

} // namespace
