/* Sparse physical memory holding real bytes for a 64-bit address space.
 *
 * 4 KiB frames are allocated on first write; reads of never-written memory
 * return zero and allocate nothing. Frames live in an open-addressing hash
 * table keyed by frame number, with a one-entry cache in front of it because
 * walks touch the same table page repeatedly. All multi-byte accessors are
 * little-endian and accept any alignment (accesses may cross frames). */
#ifndef IMS_MEM_PHYSMEM_H
#define IMS_MEM_PHYSMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IMS_PAGE_SHIFT 12
#define IMS_PAGE_SIZE (1ULL << IMS_PAGE_SHIFT)

typedef struct ims_physmem ims_physmem;

typedef struct ims_physmem_stats {
    uint64_t reads, writes;          /* accessor calls */
    uint64_t bytes_read, bytes_written;
    uint64_t frames;                 /* frames allocated */
} ims_physmem_stats;

ims_physmem *ims_physmem_create(void);   /* NULL on ENOMEM */
void ims_physmem_destroy(ims_physmem *m);

/* Byte-string access. Return 0, or -ENOMEM when a frame cannot be allocated
 * (write only). Address ranges wrap at 2^64 are rejected with -EINVAL. */
int ims_physmem_read(ims_physmem *m, uint64_t pa, void *buf, size_t len);
int ims_physmem_write(ims_physmem *m, uint64_t pa, const void *buf, size_t len);
/* Filling with 0 allocates no frame (see ims_physmem_zero_range). */
int ims_physmem_fill(ims_physmem *m, uint64_t pa, uint8_t byte, size_t len);
/* Make bytes [lo, hi] (inclusive, so a range may end at 2^64 - 1) read as
 * zero. Allocates nothing: frames never written already read zero, and only
 * present frames are cleared (stamped as a software store). Costs the smaller
 * of the range's frame count and the number of present frames. -EINVAL if
 * hi < lo. */
int ims_physmem_zero_range(ims_physmem *m, uint64_t lo, uint64_t hi);

uint32_t ims_physmem_r32(ims_physmem *m, uint64_t pa);
uint64_t ims_physmem_r64(ims_physmem *m, uint64_t pa);
int ims_physmem_w32(ims_physmem *m, uint64_t pa, uint32_t v);
int ims_physmem_w64(ims_physmem *m, uint64_t pa, uint64_t v);

/* Atomic read-modify-write as hardware does for A/D updates: OR `set` into the
 * 64-bit word at pa (8-byte aligned) and return the old value in *old. */
int ims_physmem_or64(ims_physmem *m, uint64_t pa, uint64_t set, uint64_t *old);

/* Write stamps, for the coherence checker: once a clock is set, every software
 * store (write, fill, w32, w64) stamps its frames with *clock; the hardware's
 * atomic A/D updates (or64) do not, since they never change a translation.
 * Frames never written (or written before the clock was set) read stamp 0. */
void ims_physmem_set_clock(ims_physmem *m, const uint64_t *clock);
uint64_t ims_physmem_last_write(const ims_physmem *m, uint64_t pa);

/* Whether the frame containing pa has ever been written. */
bool ims_physmem_frame_present(const ims_physmem *m, uint64_t pa);

ims_physmem_stats ims_physmem_get_stats(const ims_physmem *m);

#ifdef __cplusplus
}
#endif
#endif
