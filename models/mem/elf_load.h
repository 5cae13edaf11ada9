/* Load an ELF file's PT_LOAD segments into physical memory at their physical
 * addresses (p_paddr): the memory image of an ELF core dump such as QEMU's
 * `dump-guest-memory` writes (trace verb `mem.load elf=PATH`).
 *
 * Segments are stored in program-header order, so where they overlap the
 * later one wins. Each segment's p_filesz bytes are copied from the file; the
 * rest up to p_memsz reads as zero afterwards, whatever was there before.
 * Both ELF classes and byte orders are accepted (libelf). The file is read in
 * chunks, so memory use does not depend on the dump size. Zeros never
 * allocate a frame: all-zero pages over frames never written are skipped
 * (they already read as zero), so a sparse dump stays sparse, and the zero
 * fill past p_filesz only clears frames already present
 * (ims_physmem_zero_range: its cost is bounded by the frames present, not by
 * p_memsz). */
#ifndef IMS_MEM_ELF_LOAD_H
#define IMS_MEM_ELF_LOAD_H

#include <stdint.h>

#include "models/mem/physmem.h"
#include "sim/err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ims_elf_load_info {
    unsigned segments;       /* PT_LOAD segments loaded (empty ones are skipped) */
    uint64_t bytes;          /* sum of their p_memsz (zero fill included), saturating at 2^64 - 1 */
} ims_elf_load_info;

/* Returns 0, or -ENOENT/-EACCES/... (cannot open), -EINVAL (not ELF, no
 * program headers, a segment past the end of the file or wrapping past
 * 2^64), -ENOMEM. The message names the path. info may be NULL. */
int ims_elf_load(ims_physmem *m, const char *path, ims_elf_load_info *info, ims_error *err);

#ifdef __cplusplus
}
#endif
#endif
