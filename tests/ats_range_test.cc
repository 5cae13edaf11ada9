// PCIe ATS invalidation range encoding (models/dev/ats_range.h).
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <random>

#include "models/dev/ats_range.h"

namespace {

struct Enc {
    uint64_t addr;
    bool s;
};

Enc Encode(uint64_t base, unsigned order)
{
    ims_ats_range r{base, order};
    Enc e{0, false};
    EXPECT_EQ(ims_ats_range_encode(&r, &e.addr, &e.s), 0) << "base=" << base << " order=" << order;
    return e;
}

TEST(AtsRange, SinglePageUsesSZero)
{
    // vtd-facts §6.2: S=0 is a single 4 KiB page at ADDR.
    Enc e = Encode(0x5000, 0);
    EXPECT_EQ(e.addr, 0x5000u);
    EXPECT_FALSE(e.s);
    ims_ats_range r{};
    ASSERT_EQ(ims_ats_range_decode(0x5000, false, &r), 0);
    EXPECT_EQ(r.base, 0x5000u);
    EXPECT_EQ(r.order, 0u);
    EXPECT_EQ(ims_ats_range_last(&r), 0x5FFFu);
}

TEST(AtsRange, LinuxStyleExamples)
{
    // vtd-facts §4.4/§6.2: 8 KiB -> bit 12 = 0; 16 KiB -> bits 13:12 = 01b;
    // 32 KiB -> bits 14:12 = 011b; always S=1.
    Enc e8k = Encode(0x2000, 1);
    EXPECT_EQ(e8k.addr, 0x2000u);
    EXPECT_TRUE(e8k.s);
    Enc e16k = Encode(0x4000, 2);
    EXPECT_EQ(e16k.addr, 0x5000u);
    EXPECT_TRUE(e16k.s);
    Enc e32k = Encode(0x8000, 3);
    EXPECT_EQ(e32k.addr, 0xB000u);
    EXPECT_TRUE(e32k.s);
    // 2 MiB at 0x200000: bits 19:12 all ones, bit 20 zero.
    Enc e2m = Encode(0x200000, 9);
    EXPECT_EQ(e2m.addr, 0x2FF000u);
    EXPECT_TRUE(e2m.s);
}

TEST(AtsRange, DecodeSizeFromTrailingOnes)
{
    // vtd-facts §6.2: size = 2^(13 + number of 1s from bit 12).
    ims_ats_range r{};
    ASSERT_EQ(ims_ats_range_decode(0x5000, true, &r), 0);
    EXPECT_EQ(r.base, 0x4000u);
    EXPECT_EQ(r.order, 2u);
    EXPECT_EQ(ims_ats_range_last(&r), 0x7FFFu);
    ASSERT_EQ(ims_ats_range_decode(0x2000, true, &r), 0);
    EXPECT_EQ(r.base, 0x2000u);
    EXPECT_EQ(r.order, 1u);
    // Bits 11:0 are not part of ADDR and are ignored.
    ASSERT_EQ(ims_ats_range_decode(0x5FFF, true, &r), 0);
    EXPECT_EQ(r.base, 0x4000u);
    EXPECT_EQ(r.order, 2u);
    ASSERT_EQ(ims_ats_range_decode(0x5ABC, false, &r), 0);
    EXPECT_EQ(r.base, 0x5000u);
}

TEST(AtsRange, WholeAddressSpace)
{
    // vtd-facts §4.9/§6.2 (spec 5.10 §6.5.3.3 note): S=1 with ADDR[62:12] all
    // ones and bit 63 = 0 covers everything.
    Enc e = Encode(0, IMS_ATS_ORDER_WHOLE);
    EXPECT_EQ(e.addr, UINT64_C(0x7FFFFFFFFFFFF000));
    EXPECT_EQ(e.addr, IMS_ATS_ADDR_WHOLE);
    EXPECT_TRUE(e.s);
    ims_ats_range r{};
    ASSERT_EQ(ims_ats_range_decode(IMS_ATS_ADDR_WHOLE, true, &r), 0);
    EXPECT_EQ(r.order, IMS_ATS_ORDER_WHOLE);
    EXPECT_EQ(r.base, 0u);
    EXPECT_TRUE(ims_ats_range_is_whole(&r));
    EXPECT_EQ(ims_ats_range_last(&r), UINT64_MAX);
    // The upper half of the space: bit 63 set, bit 62 the terminating zero.
    ASSERT_EQ(ims_ats_range_decode(UINT64_C(0xBFFFFFFFFFFFF000), true, &r), 0);
    EXPECT_EQ(r.order, 51u);
    EXPECT_EQ(r.base, UINT64_C(0x8000000000000000));
    EXPECT_EQ(ims_ats_range_last(&r), UINT64_MAX);
}

TEST(AtsRange, RejectsInvalidEncodings)
{
    ims_ats_range r{};
    // S=1 with ADDR[63:12] all ones has no terminating zero.
    EXPECT_EQ(ims_ats_range_decode(UINT64_C(0xFFFFFFFFFFFFF000), true, &r), -EINVAL);
    uint64_t addr = 0;
    bool s = false;
    ims_ats_range unaligned{0x3000, 1}; // 8 KiB block must start on 8 KiB
    EXPECT_EQ(ims_ats_range_encode(&unaligned, &addr, &s), -EINVAL);
    ims_ats_range sub_page{0x800, 0};
    EXPECT_EQ(ims_ats_range_encode(&sub_page, &addr, &s), -EINVAL);
    ims_ats_range too_big{0, 53};
    EXPECT_EQ(ims_ats_range_encode(&too_big, &addr, &s), -EINVAL);
    ims_ats_range whole_off{0x1000, IMS_ATS_ORDER_WHOLE};
    EXPECT_EQ(ims_ats_range_encode(&whole_off, &addr, &s), -EINVAL);
}

TEST(AtsRange, RoundTripEveryOrder)
{
    std::mt19937_64 rng(7);
    for (unsigned order = 0; order <= IMS_ATS_ORDER_WHOLE; order++) {
        for (int i = 0; i < 20; i++) {
            uint64_t base = order >= IMS_ATS_ORDER_WHOLE ? 0 : rng() & ~((UINT64_C(4096) << order) - 1);
            Enc e = Encode(base, order);
            EXPECT_EQ(e.s, order > 0);
            ims_ats_range r{};
            ASSERT_EQ(ims_ats_range_decode(e.addr, e.s, &r), 0);
            EXPECT_EQ(r.base, base);
            EXPECT_EQ(r.order, order);
        }
    }
}

TEST(AtsRange, FromBytesIsExact)
{
    ims_ats_range r{};
    ASSERT_EQ(ims_ats_range_from_bytes(0x4000, 0x4000, &r), 0);
    EXPECT_EQ(r.base, 0x4000u);
    EXPECT_EQ(r.order, 2u);
    ASSERT_EQ(ims_ats_range_from_bytes(UINT64_C(0x8000000000000000), UINT64_C(0x8000000000000000), &r), 0);
    EXPECT_EQ(r.order, 51u);
    EXPECT_EQ(ims_ats_range_from_bytes(0x4000, 0x3000, &r), -EINVAL); // not a power of two
    EXPECT_EQ(ims_ats_range_from_bytes(0x2000, 0x4000, &r), -EINVAL); // not aligned
    EXPECT_EQ(ims_ats_range_from_bytes(0x0, 0x800, &r), -EINVAL);     // below one page
}

TEST(AtsRange, CoverRoundsUpToAlignedBlock)
{
    ims_ats_range r{};
    ASSERT_EQ(ims_ats_range_cover(0x2000, 0x2000, &r), 0);
    EXPECT_EQ(r.base, 0x2000u);
    EXPECT_EQ(r.order, 1u);
    // Two pages straddling an 8 KiB boundary need a 16 KiB block.
    ASSERT_EQ(ims_ats_range_cover(0x1000, 0x2000, &r), 0);
    EXPECT_EQ(r.base, 0x0u);
    EXPECT_EQ(r.order, 2u);
    ASSERT_EQ(ims_ats_range_cover(0x1234, 1, &r), 0);
    EXPECT_EQ(r.base, 0x1000u);
    EXPECT_EQ(r.order, 0u);
    ASSERT_EQ(ims_ats_range_cover(0, UINT64_MAX, &r), 0);
    EXPECT_EQ(r.order, IMS_ATS_ORDER_WHOLE);
    EXPECT_EQ(r.base, 0u);
    EXPECT_EQ(ims_ats_range_cover(0x1000, 0, &r), -EINVAL);
    EXPECT_EQ(ims_ats_range_cover(UINT64_MAX, 2, &r), -EINVAL); // wraps
}

TEST(AtsRange, CoverIsMinimalProperty)
{
    std::mt19937_64 rng(11);
    for (int i = 0; i < 5000; i++) {
        uint64_t start = rng() >> (rng() % 64);
        uint64_t size = 1 + (rng() >> (8 + rng() % 56));
        if (size - 1 > UINT64_MAX - start)
            continue;
        uint64_t end = start + (size - 1);
        ims_ats_range r{};
        ASSERT_EQ(ims_ats_range_cover(start, size, &r), 0);
        EXPECT_LE(r.base, start);
        EXPECT_GE(ims_ats_range_last(&r), end);
        // The block is naturally aligned and encodable.
        uint64_t a = 0;
        bool s = false;
        EXPECT_EQ(ims_ats_range_encode(&r, &a, &s), 0);
        if (r.order > 0) {
            // The aligned block of half the size holding start misses end.
            uint64_t half = UINT64_C(4096) << (r.order - 1);
            uint64_t hb = start & ~(half - 1);
            EXPECT_GT(end, hb + (half - 1)) << "start=" << start << " size=" << size;
        }
    }
}

TEST(AtsRange, Overlaps)
{
    ims_ats_range r{0x4000, 2}; // [0x4000, 0x7FFF]
    EXPECT_TRUE(ims_ats_range_overlaps(&r, 0x7FFF, 0x9000));
    EXPECT_TRUE(ims_ats_range_overlaps(&r, 0x0, 0x4000));
    EXPECT_FALSE(ims_ats_range_overlaps(&r, 0x8000, 0x9000));
    EXPECT_FALSE(ims_ats_range_overlaps(&r, 0x0, 0x3FFF));
    ims_ats_range whole{0, IMS_ATS_ORDER_WHOLE};
    EXPECT_TRUE(ims_ats_range_overlaps(&whole, UINT64_MAX, UINT64_MAX));
}

} // namespace
