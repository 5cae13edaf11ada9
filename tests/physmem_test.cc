#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

#include "models/mem/pa_alloc.h"
#include "models/mem/physmem.h"
#include "sim/rng.h"

namespace {

struct Mem {
    ims_physmem *m = ims_physmem_create();
    ~Mem() { ims_physmem_destroy(m); }
};

TEST(Physmem, UnwrittenMemoryReadsZeroAndAllocatesNothing)
{
    Mem mem;
    EXPECT_EQ(ims_physmem_r64(mem.m, 0x1234'5678'9000ULL), 0u);
    uint8_t buf[100];
    memset(buf, 0xAA, sizeof buf);
    ASSERT_EQ(ims_physmem_read(mem.m, 0xFFFF'FFFF'0000ULL, buf, sizeof buf), 0);
    for (uint8_t b : buf)
        EXPECT_EQ(b, 0);
    EXPECT_EQ(ims_physmem_get_stats(mem.m).frames, 0u);
}

TEST(Physmem, LittleEndianAccessors)
{
    Mem mem;
    ASSERT_EQ(ims_physmem_w64(mem.m, 0x1000, 0x0807060504030201ULL), 0);
    uint8_t b[8];
    ASSERT_EQ(ims_physmem_read(mem.m, 0x1000, b, 8), 0);
    for (int i = 0; i < 8; i++)
        EXPECT_EQ(b[i], i + 1);
    EXPECT_EQ(ims_physmem_r32(mem.m, 0x1004), 0x08070605u);
    EXPECT_EQ(ims_physmem_r32(mem.m, 0x1001), 0x05040302u); // unaligned
}

TEST(Physmem, AccessesCrossFrames)
{
    Mem mem;
    ASSERT_EQ(ims_physmem_w64(mem.m, 0x1FFC, 0x1122334455667788ULL), 0);
    EXPECT_EQ(ims_physmem_r64(mem.m, 0x1FFC), 0x1122334455667788ULL);
    EXPECT_EQ(ims_physmem_r32(mem.m, 0x2000), 0x11223344u);
    EXPECT_EQ(ims_physmem_get_stats(mem.m).frames, 2u);
    std::vector<uint8_t> big(3 * 4096 + 10), back(big.size());
    for (size_t i = 0; i < big.size(); i++)
        big[i] = (uint8_t)(i * 7);
    ASSERT_EQ(ims_physmem_write(mem.m, 0x10'0800, big.data(), big.size()), 0);
    ASSERT_EQ(ims_physmem_read(mem.m, 0x10'0800, back.data(), back.size()), 0);
    EXPECT_EQ(big, back);
}

TEST(Physmem, WrapAroundRangeIsRejected)
{
    Mem mem;
    uint8_t b[16] = {};
    EXPECT_EQ(ims_physmem_write(mem.m, UINT64_MAX - 7, b, 16), -EINVAL);
    EXPECT_EQ(ims_physmem_read(mem.m, UINT64_MAX - 7, b, 16), -EINVAL);
    EXPECT_EQ(ims_physmem_write(mem.m, UINT64_MAX - 15, b, 16), 0); // ends exactly at the top
}

TEST(Physmem, Or64IsAtomicSetAndSkipsNoChange)
{
    Mem mem;
    uint64_t old = 1;
    ASSERT_EQ(ims_physmem_or64(mem.m, 0x3000, 0, &old), 0);
    EXPECT_EQ(old, 0u);
    EXPECT_EQ(ims_physmem_get_stats(mem.m).frames, 0u); // nothing changed, nothing allocated
    ASSERT_EQ(ims_physmem_w64(mem.m, 0x3000, 0x1), 0);
    ASSERT_EQ(ims_physmem_or64(mem.m, 0x3000, 0x60, &old), 0);
    EXPECT_EQ(old, 0x1u);
    EXPECT_EQ(ims_physmem_r64(mem.m, 0x3000), 0x61u);
    EXPECT_EQ(ims_physmem_or64(mem.m, 0x3004, 1, &old), -EINVAL); // must be 8-byte aligned
}

TEST(Physmem, SparseTensOfGiBCheaply)
{
    Mem mem;
    // One word in each 1 GiB of a 64 GiB range plus far addresses: only those frames exist.
    for (uint64_t g = 0; g < 64; g++)
        ASSERT_EQ(ims_physmem_w64(mem.m, (g << 30) + 0x10, g + 1), 0);
    ASSERT_EQ(ims_physmem_w64(mem.m, 0xFFFF'F000'0000'0000ULL, 42), 0);
    EXPECT_EQ(ims_physmem_get_stats(mem.m).frames, 65u);
    for (uint64_t g = 0; g < 64; g++)
        EXPECT_EQ(ims_physmem_r64(mem.m, (g << 30) + 0x10), g + 1);
    EXPECT_EQ(ims_physmem_r64(mem.m, 0xFFFF'F000'0000'0000ULL), 42u);
}

TEST(Physmem, RandomWritesMatchAReferenceMap)
{
    Mem mem;
    ims_rng r;
    ims_rng_seed(&r, 7);
    std::map<uint64_t, uint8_t> ref;
    for (int i = 0; i < 20000; i++) {
        uint64_t pa = ims_rng_below(&r, 1ULL << 36);
        uint64_t v = ims_rng_next(&r);
        unsigned n = 1 + (unsigned)ims_rng_below(&r, 8);
        uint8_t b[8];
        for (unsigned k = 0; k < n; k++) {
            b[k] = (uint8_t)(v >> (8 * k));
            ref[pa + k] = b[k];
        }
        ASSERT_EQ(ims_physmem_write(mem.m, pa, b, n), 0);
    }
    for (auto [pa, v] : ref) {
        uint8_t got;
        ASSERT_EQ(ims_physmem_read(mem.m, pa, &got, 1), 0);
        ASSERT_EQ(got, v) << std::hex << pa;
    }
}

// Frames are carved from chunks of 16, 32, ... 512 frames: 2000 frames cross
// several chunk boundaries. Each must be its own zeroed 4 KiB.
TEST(Physmem, FramesFromTheChunkArenaAreDistinctAndZeroed)
{
    Mem mem;
    const uint64_t n = 2000;
    for (uint64_t f = 0; f < n; f++) {
        uint64_t pa = (f * 7919) << 12; // scattered frame numbers
        ASSERT_EQ(ims_physmem_w64(mem.m, pa, f + 1), 0);
        ASSERT_EQ(ims_physmem_w64(mem.m, pa + 4088, ~f), 0);
    }
    EXPECT_EQ(ims_physmem_get_stats(mem.m).frames, n);
    for (uint64_t f = 0; f < n; f++) {
        uint64_t pa = (f * 7919) << 12;
        ASSERT_EQ(ims_physmem_r64(mem.m, pa), f + 1) << f;
        ASSERT_EQ(ims_physmem_r64(mem.m, pa + 4088), ~f) << f;
        ASSERT_EQ(ims_physmem_r64(mem.m, pa + 2048), 0u) << "never written: frame " << f;
    }
}

TEST(Physmem, FillZeroDoesNotAllocateButClearsWrittenFrames)
{
    Mem mem;
    ASSERT_EQ(ims_physmem_fill(mem.m, 0x10000, 0, 3 * 4096), 0);
    EXPECT_EQ(ims_physmem_get_stats(mem.m).frames, 0u);
    ASSERT_EQ(ims_physmem_w64(mem.m, 0x11008, ~0ULL), 0);
    ASSERT_EQ(ims_physmem_fill(mem.m, 0x10000, 0, 3 * 4096), 0);
    EXPECT_EQ(ims_physmem_r64(mem.m, 0x11008), 0u);
}

// zero_range: inclusive bounds (a range may end at 2^64 - 1), partial frames
// at both ends, nothing allocated. Small ranges look frames up one by one,
// huge ones pass over the table: both must clear exactly the range.
TEST(Physmem, ZeroRangeClearsExactlyTheRangeAndAllocatesNothing)
{
    for (uint64_t span : {uint64_t(3 * 4096), uint64_t(1) << 40}) {
        Mem mem;
        const uint64_t lo = 0x10000 + 0x10, hi = lo + span - 0x20; // ends inside frames
        std::vector<uint64_t> words = {lo - 8, lo, lo + 0x1000, hi - 7, hi + 1, 0xFFFF'FFFF'FFFF'FFF8ULL};
        for (uint64_t w : words)
            ASSERT_EQ(ims_physmem_w64(mem.m, w, 0x1111'2222'3333'4444ULL), 0);
        uint64_t frames = ims_physmem_get_stats(mem.m).frames;
        ASSERT_EQ(ims_physmem_zero_range(mem.m, lo, hi), 0);
        EXPECT_EQ(ims_physmem_get_stats(mem.m).frames, frames) << "zeros allocate no frame";
        EXPECT_EQ(ims_physmem_r64(mem.m, lo - 8), 0x1111'2222'3333'4444ULL) << "below the range: kept";
        EXPECT_EQ(ims_physmem_r64(mem.m, lo), 0u);
        EXPECT_EQ(ims_physmem_r64(mem.m, lo + 0x1000), 0u);
        EXPECT_EQ(ims_physmem_r64(mem.m, hi - 7), 0u) << "the last 8 bytes of the range";
        EXPECT_EQ(ims_physmem_r64(mem.m, hi + 1), 0x1111'2222'3333'4444ULL) << "above the range: kept";
        EXPECT_EQ(ims_physmem_r64(mem.m, 0xFFFF'FFFF'FFFF'FFF8ULL), 0x1111'2222'3333'4444ULL);
    }
    Mem mem;
    ASSERT_EQ(ims_physmem_w64(mem.m, 0xFFFF'FFFF'FFFF'FFF8ULL, 7), 0);
    ASSERT_EQ(ims_physmem_w64(mem.m, 0, 7), 0);
    ASSERT_EQ(ims_physmem_zero_range(mem.m, 0, UINT64_MAX), 0); // the whole address space, at once
    EXPECT_EQ(ims_physmem_r64(mem.m, 0xFFFF'FFFF'FFFF'FFF8ULL), 0u);
    EXPECT_EQ(ims_physmem_r64(mem.m, 0), 0u);
    EXPECT_EQ(ims_physmem_zero_range(mem.m, 0x2000, 0x1fff), -EINVAL);
}

TEST(Physmem, ZeroRangeIsASoftwareStoreForTheWriteStamps)
{
    Mem mem;
    uint64_t clock = 0;
    ims_physmem_set_clock(mem.m, &clock);
    ASSERT_EQ(ims_physmem_w64(mem.m, 0x1000, 1), 0);
    ASSERT_EQ(ims_physmem_w64(mem.m, 0x5000, 1), 0);
    clock = 77;
    ASSERT_EQ(ims_physmem_zero_range(mem.m, 0x1000, 0x1007), 0);
    EXPECT_EQ(ims_physmem_last_write(mem.m, 0x1000), 77u);
    EXPECT_EQ(ims_physmem_last_write(mem.m, 0x5000), 0u) << "outside the range";
    clock = 90;
    ASSERT_EQ(ims_physmem_zero_range(mem.m, 0, UINT64_MAX), 0);
    EXPECT_EQ(ims_physmem_last_write(mem.m, 0x5000), 90u);
    EXPECT_FALSE(ims_physmem_frame_present(mem.m, 0x9000));
}

TEST(PaAlloc, AlignedZeroedPagesUntilExhausted)
{
    Mem mem;
    ims_pa_alloc a;
    ims_pa_alloc_init(&a, mem.m, 0x100000, 0x100000 + 8 * 4096);
    uint64_t p0 = ims_pa_alloc_pages(&a, 1, 0);
    EXPECT_EQ(p0, 0x100000u);
    ASSERT_EQ(ims_physmem_w64(mem.m, p0, 5), 0);
    uint64_t p1 = ims_pa_alloc_pages(&a, 2, 0x4000);
    EXPECT_EQ(p1, 0x104000u); // aligned to 16 KiB
    EXPECT_EQ(ims_pa_alloc_pages(&a, 3, 0), 0u);         // 0x106000 + 3 pages passes the end
    EXPECT_EQ(ims_pa_alloc_pages(&a, 2, 0), 0x106000u);  // exactly fills the range
    EXPECT_EQ(ims_pa_alloc_pages(&a, 1, 0), 0u);
    // A recycled range is handed out zeroed.
    ims_pa_alloc_init(&a, mem.m, 0x100000, 0x100000 + 8 * 4096);
    EXPECT_EQ(ims_pa_alloc_pages(&a, 1, 0), p0);
    EXPECT_EQ(ims_physmem_r64(mem.m, p0), 0u);
}

} // namespace

namespace {

TEST(Physmem, SoftwareStoresStampFramesHardwareAdUpdatesDoNot)
{
    Mem mem;
    uint64_t clock = 5;
    ASSERT_EQ(ims_physmem_w64(mem.m, 0x1000, 1), 0); // before the clock is set: stamp 0
    EXPECT_EQ(ims_physmem_last_write(mem.m, 0x1000), 0u);
    ims_physmem_set_clock(mem.m, &clock);
    ASSERT_EQ(ims_physmem_w64(mem.m, 0x1008, 2), 0);
    EXPECT_EQ(ims_physmem_last_write(mem.m, 0x1FFF), 5u); // any address in the frame
    clock = 9;
    uint64_t old;
    ASSERT_EQ(ims_physmem_or64(mem.m, 0x1000, 0x20, &old), 0); // an A/D update
    EXPECT_EQ(ims_physmem_r64(mem.m, 0x1000), 0x21u);
    EXPECT_EQ(ims_physmem_last_write(mem.m, 0x1000), 5u);
    ASSERT_EQ(ims_physmem_or64(mem.m, 0x5000, 0x20, &old), 0); // new frame via hardware: unstamped
    EXPECT_EQ(ims_physmem_last_write(mem.m, 0x5000), 0u);
    clock = 12;
    uint8_t b[3] = {1, 2, 3};
    ASSERT_EQ(ims_physmem_write(mem.m, 0x1FFF, b, 3), 0); // crosses into 0x2000
    EXPECT_EQ(ims_physmem_last_write(mem.m, 0x1000), 12u);
    EXPECT_EQ(ims_physmem_last_write(mem.m, 0x2000), 12u);
    clock = 20;
    ASSERT_EQ(ims_physmem_fill(mem.m, 0x2000, 0, 8), 0);
    EXPECT_EQ(ims_physmem_last_write(mem.m, 0x2000), 20u);
    EXPECT_EQ(ims_physmem_last_write(mem.m, 0x9000), 0u); // never written
}

} // namespace
