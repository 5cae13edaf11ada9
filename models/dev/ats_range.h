/* PCIe ATS Invalidate Request address/size encoding (vtd-facts §6.2, §4.4,
 * §4.9; VT-d spec rev 5.10 §6.5.2.5-§6.5.2.6 defer to the PCIe ATS spec).
 *
 * An invalidation names a naturally aligned block of 2^order 4 KiB pages.
 * On the wire it is (ADDR[63:12], S):
 *   S = 0: one 4 KiB page at ADDR (order 0);
 *   S = 1: size = 2^(13 + t) bytes, t = number of consecutive 1s in ADDR
 *          starting at bit 12. The 1s are the encoding, not part of the base:
 *          8 KiB at 0x2000 is ADDR=0x2000 (bit 12 = 0), 16 KiB at 0x4000 is
 *          ADDR=0x5000 (bits 13:12 = 01b).
 * ADDR[62:12] all ones with bit 63 = 0 (0x7FFFFFFFFFFFF000) is the whole
 * 64-bit space: order 52 in this API. ADDR[63:12] all ones with S=1 has no
 * terminating 0 and is rejected.
 *
 * Addresses are byte addresses with bits 11:0 ignored/zero ("in place"). */
#ifndef IMS_DEV_ATS_RANGE_H
#define IMS_DEV_ATS_RANGE_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IMS_ATS_PAGE_SHIFT 12u
/* 2^52 pages of 4 KiB: the whole 64-bit space. */
#define IMS_ATS_ORDER_WHOLE 52u
/* The whole-space encoding (S=1). */
#define IMS_ATS_ADDR_WHOLE UINT64_C(0x7FFFFFFFFFFFF000)

/* A naturally aligned block of 2^order 4 KiB pages starting at base. */
typedef struct ims_ats_range {
    uint64_t base;  /* aligned to 4 KiB << order; 0 when order is 52 */
    unsigned order; /* 0..52 */
} ims_ats_range;

/* (range) -> (ADDR in place, S). -EINVAL when order > 52 or base is not
 * aligned to the block size. */
int ims_ats_range_encode(const ims_ats_range *r, uint64_t *addr, bool *s);

/* (ADDR, S) -> range. Bits 11:0 of addr are ignored. -EINVAL for S=1 with
 * ADDR[63:12] all ones. */
int ims_ats_range_decode(uint64_t addr, bool s, ims_ats_range *out);

/* Exact conversion of a byte range: size must be a power of two >= 4 KiB
 * and addr aligned to it, else -EINVAL. (The whole space, 2^64 bytes, does
 * not fit a uint64_t size: use order IMS_ATS_ORDER_WHOLE directly.) */
int ims_ats_range_from_bytes(uint64_t addr, uint64_t size, ims_ats_range *out);

/* The smallest naturally aligned block that covers [addr, addr+size-1]
 * (rounds up, like Linux's PSI/device-TLB range computation). -EINVAL when
 * size is 0 or the range wraps past 2^64. */
int ims_ats_range_cover(uint64_t addr, uint64_t size, ims_ats_range *out);

/* Inclusive last byte of the block. */
uint64_t ims_ats_range_last(const ims_ats_range *r);

static inline bool ims_ats_range_is_whole(const ims_ats_range *r) { return r->order >= IMS_ATS_ORDER_WHOLE; }

/* Whether the block and [first, last] (inclusive) share a byte. */
bool ims_ats_range_overlaps(const ims_ats_range *r, uint64_t first, uint64_t last);

#ifdef __cplusplus
}
#endif
#endif
