// mem.load's ELF loader (models/mem/elf_load.h): PT_LOAD segments land at
// p_paddr, zero fill past p_filesz, sparse zero pages, both ELF classes, and
// clear errors for files that are not usable memory dumps.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <elf.h>
#include <fstream>
#include <string>
#include <vector>

#include "models/mem/elf_load.h"
#include "models/mem/physmem.h"
#include "replay_harness.h"

namespace {

struct Seg {
    uint32_t type;
    uint64_t paddr;
    std::vector<uint8_t> bytes; // file contents (p_filesz = size)
    uint64_t memsz;
};

template <class T> void put(std::vector<uint8_t> &out, size_t at, const T &v)
{
    if (out.size() < at + sizeof v)
        out.resize(at + sizeof v);
    std::memcpy(out.data() + at, &v, sizeof v);
}

// An ELF core file like `dump-guest-memory` writes: header, program headers,
// then each segment's bytes.
std::vector<uint8_t> core64(const std::vector<Seg> &segs)
{
    std::vector<uint8_t> f;
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_CORE;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = segs.empty() ? 0 : sizeof eh;
    eh.e_ehsize = sizeof eh;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = (uint16_t)segs.size();
    put(f, 0, eh);
    size_t data = sizeof eh + segs.size() * sizeof(Elf64_Phdr);
    for (size_t i = 0; i < segs.size(); i++) {
        Elf64_Phdr ph{};
        ph.p_type = segs[i].type;
        ph.p_offset = data;
        ph.p_paddr = segs[i].paddr;
        ph.p_vaddr = 0xffff800000000000ull + segs[i].paddr; // ignored: physical addresses count
        ph.p_filesz = segs[i].bytes.size();
        ph.p_memsz = segs[i].memsz;
        put(f, sizeof eh + i * sizeof ph, ph);
        f.resize(data + segs[i].bytes.size());
        if (!segs[i].bytes.empty())
            std::memcpy(f.data() + data, segs[i].bytes.data(), segs[i].bytes.size());
        data += segs[i].bytes.size();
    }
    return f;
}

std::vector<uint8_t> core32(const std::vector<Seg> &segs)
{
    std::vector<uint8_t> f;
    Elf32_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS32;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_CORE;
    eh.e_machine = EM_386;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = sizeof eh;
    eh.e_ehsize = sizeof eh;
    eh.e_phentsize = sizeof(Elf32_Phdr);
    eh.e_phnum = (uint16_t)segs.size();
    put(f, 0, eh);
    size_t data = sizeof eh + segs.size() * sizeof(Elf32_Phdr);
    for (size_t i = 0; i < segs.size(); i++) {
        Elf32_Phdr ph{};
        ph.p_type = segs[i].type;
        ph.p_offset = (uint32_t)data;
        ph.p_paddr = (uint32_t)segs[i].paddr;
        ph.p_filesz = (uint32_t)segs[i].bytes.size();
        ph.p_memsz = (uint32_t)segs[i].memsz;
        put(f, sizeof eh + i * sizeof ph, ph);
        f.resize(data + segs[i].bytes.size());
        std::memcpy(f.data() + data, segs[i].bytes.data(), segs[i].bytes.size());
        data += segs[i].bytes.size();
    }
    return f;
}

std::string write_file(const std::string &name, const std::vector<uint8_t> &bytes)
{
    std::string path = replay_test::temp_path(name);
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char *>(bytes.data()),
                                                (std::streamsize)bytes.size());
    return path;
}

std::vector<uint8_t> pattern(size_t n, uint8_t seed)
{
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; i++)
        v[i] = (uint8_t)(seed + i * 7);
    return v;
}

struct Mem {
    ims_physmem *m = ims_physmem_create();
    ~Mem() { ims_physmem_destroy(m); }
};

std::vector<uint8_t> read_bytes(ims_physmem *m, uint64_t pa, size_t n)
{
    std::vector<uint8_t> v(n);
    EXPECT_EQ(ims_physmem_read(m, pa, v.data(), n), 0);
    return v;
}

TEST(ReplayElfLoad, SegmentsLandAtPhysicalAddressesWithZeroFill)
{
    std::vector<uint8_t> a = pattern(0x1800, 3), note = pattern(24, 9), b = pattern(16, 0x40);
    std::string path = write_file("core64.elf", core64({
                                                    {PT_NOTE, 0, note, 24},
                                                    {PT_LOAD, 0x1000, a, 0x1800},
                                                    {PT_LOAD, 0x100000, b, 0x1000},
                                                    {PT_LOAD, 0x200000, {}, 0}, // empty: skipped
                                                }));
    Mem mem;
    // Old data in the zero-fill range must be overwritten.
    ASSERT_EQ(ims_physmem_w64(mem.m, 0x100800, 0xdeadbeefcafef00dull), 0);
    ims_elf_load_info info;
    ims_error err{};
    ASSERT_EQ(ims_elf_load(mem.m, path.c_str(), &info, &err), 0) << err.msg;
    EXPECT_EQ(info.segments, 2u);
    EXPECT_EQ(info.bytes, 0x1800u + 0x1000u);
    std::vector<uint8_t> got(a.size());
    ASSERT_EQ(ims_physmem_read(mem.m, 0x1000, got.data(), got.size()), 0);
    EXPECT_EQ(got, a);
    std::vector<uint8_t> gb(16);
    ASSERT_EQ(ims_physmem_read(mem.m, 0x100000, gb.data(), 16), 0);
    EXPECT_EQ(gb, b);
    EXPECT_EQ(ims_physmem_r64(mem.m, 0x100800), 0u) << "p_memsz past p_filesz reads as zero";
    // The note segment is not memory: nothing at its p_paddr (0).
    EXPECT_FALSE(ims_physmem_frame_present(mem.m, 0));
}

TEST(ReplayElfLoad, ZeroPagesOfUntouchedFramesStaySparse)
{
    std::vector<uint8_t> seg(3 * 4096, 0);
    seg[5] = 0x11;                    // page 0 has data
    seg[2 * 4096 + 100] = 0x22;       // page 2 has data; page 1 is all zero
    std::string path = write_file("sparse.elf", core64({{PT_LOAD, 0x40000, seg, seg.size()}}));
    Mem mem;
    ASSERT_EQ(ims_physmem_w32(mem.m, 0x50000 + 8, 0x12345678), 0); // for the next case
    ims_error err{};
    ASSERT_EQ(ims_elf_load(mem.m, path.c_str(), nullptr, &err), 0) << err.msg;
    EXPECT_TRUE(ims_physmem_frame_present(mem.m, 0x40000));
    EXPECT_FALSE(ims_physmem_frame_present(mem.m, 0x41000)) << "an all-zero page needs no frame";
    EXPECT_TRUE(ims_physmem_frame_present(mem.m, 0x42000));
    EXPECT_EQ(ims_physmem_r32(mem.m, 0x40004) >> 8, 0x11u);
    EXPECT_EQ(ims_physmem_r32(mem.m, 0x41000), 0u);

    // A zero page over a frame that holds data is written (not skipped).
    std::string z = write_file("zero.elf", core64({{PT_LOAD, 0x50000, std::vector<uint8_t>(4096, 0), 4096}}));
    ASSERT_EQ(ims_elf_load(mem.m, z.c_str(), nullptr, &err), 0) << err.msg;
    EXPECT_EQ(ims_physmem_r32(mem.m, 0x50008), 0u);
}

// A huge p_memsz past a small p_filesz (a bss-like segment) allocates no frame
// for its zeros, yet clears what an earlier load left in its range, and keeps
// what lies outside it (a frame below, bytes just past p_memsz).
TEST(ReplayElfLoad, HugeZeroFillClearsOldBytesWithoutAllocating)
{
    const uint64_t base = 0x10000000, memsz = 64ull << 30; // [256 MiB, 64.25 GiB)
    const uint64_t mid = base + (8ull << 30) + 0x123, end = base + memsz;
    Mem mem;
    ims_error err{};
    ASSERT_EQ(ims_physmem_w64(mem.m, 0x5000, 0x1122334455667788ull), 0); // below the range: kept
    // The previous load: non-zero bytes inside the range, in its last byte, and just past it.
    std::string prev = write_file("prev.elf", core64({{PT_LOAD, mid, pattern(16, 0x31), 16},
                                                      {PT_LOAD, end - 8, pattern(16, 0x51), 16}}));
    ASSERT_EQ(ims_elf_load(mem.m, prev.c_str(), nullptr, &err), 0) << err.msg;
    ASSERT_EQ(ims_physmem_get_stats(mem.m).frames, 4u); // 0x5000, mid's, end - 8's, end's
    ASSERT_NE(ims_physmem_r64(mem.m, mid), 0u);

    std::vector<uint8_t> head = pattern(16, 0x71);
    std::string bss = write_file("bss.elf", core64({{PT_LOAD, base, head, memsz}}));
    ims_elf_load_info info;
    ASSERT_EQ(ims_elf_load(mem.m, bss.c_str(), &info, &err), 0) << err.msg;
    EXPECT_EQ(info.segments, 1u);
    EXPECT_EQ(info.bytes, memsz);
    EXPECT_EQ(ims_physmem_get_stats(mem.m).frames, 5u) << "one new frame: the 16 file bytes'";
    EXPECT_EQ(read_bytes(mem.m, base, 16), head);
    EXPECT_EQ(ims_physmem_r64(mem.m, base + 16), 0u) << "zero fill in the file bytes' frame";
    for (uint64_t pa : {mid, mid + 8, end - 8})
        EXPECT_EQ(ims_physmem_r64(mem.m, pa), 0u) << "previous load's byte at 0x" << std::hex << pa;
    std::vector<uint8_t> past = pattern(16, 0x51);
    EXPECT_EQ(read_bytes(mem.m, end, 8), std::vector<uint8_t>(past.begin() + 8, past.end()))
        << "bytes past p_memsz are kept";
    EXPECT_EQ(ims_physmem_r64(mem.m, 0x5000), 0x1122334455667788ull);
}

// Load path into memory that is empty, or (seeded) holds one frame outside
// every segment: a load must not depend on what memory held before.
static void seed_and_load(Mem &mem, bool seeded, const std::string &path)
{
    if (seeded) {
        ASSERT_EQ(ims_physmem_w64(mem.m, 0x40000000, 7), 0);
    }
    ims_error err{};
    ASSERT_EQ(ims_elf_load(mem.m, path.c_str(), nullptr, &err), 0) << err.msg;
}

// Segments apply in program-header order, the later wins where they overlap:
// a zero fill clears an earlier segment's bytes and a later segment rewrites
// part of it. Same result whether memory held a frame before or not.
TEST(ReplayElfLoad, OverlappingSegmentsLaterWins)
{
    std::vector<uint8_t> early = pattern(3 * 4096, 0x21), late = pattern(32, 0x61), head = pattern(8, 0x11);
    std::string path = write_file("overlap.elf", core64({
                                                     {PT_LOAD, 0x10000, early, early.size()}, // 3 frames of data
                                                     {PT_LOAD, 0x100, head, 1u << 20},  // its zero fill clears them
                                                     {PT_LOAD, 0x11010, late, late.size()}, // then 32 bytes again
                                                 }));
    for (bool seeded : {false, true}) {
        SCOPED_TRACE(seeded ? "memory held a frame" : "memory empty");
        Mem mem;
        ASSERT_NO_FATAL_FAILURE(seed_and_load(mem, seeded, path));
        EXPECT_EQ(ims_physmem_get_stats(mem.m).frames, 4u + seeded) << "0x0 and 0x10000..0x12000";
        EXPECT_EQ(read_bytes(mem.m, 0x100, 8), head);
        EXPECT_EQ(ims_physmem_r64(mem.m, 0x108), 0u);
        EXPECT_EQ(ims_physmem_r64(mem.m, 0x10000), 0u) << "first segment's bytes cleared by the second's zero fill";
        EXPECT_EQ(ims_physmem_r64(mem.m, 0x12ff8), 0u);
        EXPECT_EQ(read_bytes(mem.m, 0x11010, 32), late) << "the third segment, after the zero fill, wins";
        EXPECT_EQ(ims_physmem_r64(mem.m, 0x11008), 0u);
        EXPECT_EQ(ims_physmem_r64(mem.m, 0x11030), 0u);
        if (seeded) {
            EXPECT_EQ(ims_physmem_r64(mem.m, 0x40000000), 7u) << "outside every segment";
        }
    }
}

// A zero fill reaches every earlier segment it covers, in whatever order and
// however scattered, overlapping or adjacent they were.
TEST(ReplayElfLoad, ZeroFillReachesEveryEarlierSegment)
{
    // 0x11000 joins 0x10000 and 0x12000 into one run; 0x10ff8 straddles two frames of it.
    const uint64_t at[] = {0x30000, 0x10000, 0x12000, 0x11000, 0x10ff8};
    std::vector<Seg> segs;
    for (uint64_t pa : at)
        segs.push_back({PT_LOAD, pa, pattern(16, (uint8_t)(pa >> 12)), 16});
    segs.push_back({PT_LOAD, 0x10000, {}, 0x20008}); // [0x10000, 0x30008): all but 8 bytes of the first
    std::string path = write_file("scatter.elf", core64(segs));
    for (bool seeded : {false, true}) {
        SCOPED_TRACE(seeded ? "memory held a frame" : "memory empty");
        Mem mem;
        ASSERT_NO_FATAL_FAILURE(seed_and_load(mem, seeded, path));
        EXPECT_EQ(ims_physmem_get_stats(mem.m).frames, 4u + seeded) << "0x10000..0x12000 and 0x30000";
        for (uint64_t pa : at) {
            size_t n = pa == 0x30000 ? 8 : 16;
            EXPECT_EQ(read_bytes(mem.m, pa, n), std::vector<uint8_t>(n, 0)) << "at 0x" << std::hex << pa;
        }
        std::vector<uint8_t> first = pattern(16, 0x30);
        EXPECT_EQ(read_bytes(mem.m, 0x30008, 8), std::vector<uint8_t>(first.begin() + 8, first.end()))
            << "past the zero fill";
    }
}

// Into empty memory the zero fill only visits frames the same load wrote, so
// even zero fills spanning the whole 64-bit address space cost nothing.
TEST(ReplayElfLoad, AddressSpaceSizedZeroFillIntoEmptyMemory)
{
    const uint64_t top = 1ull << 63;
    std::vector<uint8_t> early = pattern(4096, 0x21), head = pattern(8, 0x11), high = pattern(8, 0x41);
    std::string path = write_file("huge.elf", core64({
                                                  {PT_LOAD, 0x10000, early, early.size()},
                                                  {PT_LOAD, 0x100, head, top},   // [0x100, 2^63 + 0x100)
                                                  {PT_LOAD, top, high, top},     // [2^63, 2^64)
                                              }));
    Mem mem;
    ims_elf_load_info info;
    ims_error err{};
    ASSERT_EQ(ims_elf_load(mem.m, path.c_str(), &info, &err), 0) << err.msg;
    EXPECT_EQ(info.segments, 3u);
    EXPECT_EQ(info.bytes, UINT64_MAX) << "2^64 + 4 KiB saturates";
    EXPECT_EQ(ims_physmem_get_stats(mem.m).frames, 3u) << "0x0, 0x10000 and 2^63: zeros allocate nothing";
    EXPECT_EQ(read_bytes(mem.m, 0x100, 8), head);
    EXPECT_EQ(ims_physmem_r64(mem.m, 0x10000), 0u) << "cleared by the second segment's zero fill";
    EXPECT_EQ(read_bytes(mem.m, top, 8), high) << "the third segment overwrote the second's zero fill";
    EXPECT_EQ(ims_physmem_r64(mem.m, top + 8), 0u);
    EXPECT_EQ(ims_physmem_r64(mem.m, UINT64_MAX - 7), 0u);
}

TEST(ReplayElfLoad, Elf32CoreFiles)
{
    std::vector<uint8_t> a = pattern(100, 1);
    std::string path = write_file("core32.elf", core32({{PT_LOAD, 0x7000, a, 0x2000}}));
    Mem mem;
    ims_elf_load_info info;
    ims_error err{};
    ASSERT_EQ(ims_elf_load(mem.m, path.c_str(), &info, &err), 0) << err.msg;
    EXPECT_EQ(info.segments, 1u);
    std::vector<uint8_t> got(a.size());
    ASSERT_EQ(ims_physmem_read(mem.m, 0x7000, got.data(), got.size()), 0);
    EXPECT_EQ(got, a);
}

TEST(ReplayElfLoad, BadFilesAreErrorsThatChangeNothing)
{
    Mem mem;
    ims_error err{};
    EXPECT_EQ(ims_elf_load(mem.m, replay_test::temp_path("no-such.elf").c_str(), nullptr, &err), -ENOENT);
    EXPECT_NE(std::string(err.msg).find("cannot open"), std::string::npos);

    std::string text = write_file("text.elf", std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o', '\n'});
    EXPECT_EQ(ims_elf_load(mem.m, text.c_str(), nullptr, &err), -EINVAL);
    EXPECT_NE(std::string(err.msg).find("not an ELF file"), std::string::npos) << err.msg;

    // The second segment claims bytes past the end of the file (a truncated
    // dump): the whole load is refused before anything is stored.
    std::vector<uint8_t> f = core64({{PT_LOAD, 0x1000, pattern(64, 5), 64}, {PT_LOAD, 0x9000, pattern(64, 6), 64}});
    f.resize(f.size() - 10);
    std::string trunc = write_file("trunc.elf", f);
    EXPECT_EQ(ims_elf_load(mem.m, trunc.c_str(), nullptr, &err), -EINVAL);
    EXPECT_NE(std::string(err.msg).find("past the end of the file"), std::string::npos) << err.msg;
    EXPECT_FALSE(ims_physmem_frame_present(mem.m, 0x1000));

    // p_filesz > p_memsz is malformed.
    std::string big = write_file("filesz.elf", core64({{PT_LOAD, 0x1000, pattern(64, 5), 32}}));
    EXPECT_EQ(ims_elf_load(mem.m, big.c_str(), nullptr, &err), -EINVAL);
    EXPECT_NE(std::string(err.msg).find("exceeds p_memsz"), std::string::npos) << err.msg;

    // An ELF file without program headers is not a memory dump.
    std::vector<uint8_t> noph = core64({});
    std::string np = write_file("noph.elf", noph);
    EXPECT_EQ(ims_elf_load(mem.m, np.c_str(), nullptr, &err), -EINVAL);
    EXPECT_NE(std::string(err.msg).find("no program headers"), std::string::npos) << err.msg;
}

} // namespace
