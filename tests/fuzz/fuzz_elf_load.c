/* Fuzz target: the ELF loader (models/mem/elf_load.h, `mem.load`) with the
 * input as the ELF file image. It must load or fail with a message naming the
 * file, never crash; what it loads must read back from physical memory, zero
 * fill must read as zero, and zeros must allocate no frame. The zero fill
 * costs time bounded by the frames present (ims_physmem_zero_range), whatever
 * p_memsz declares, so no cap on p_memsz is needed. */
#define _POSIX_C_SOURCE 200809L /* mkstemp, fdopen */

#include <assert.h>
#include <gelf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/mem/elf_load.h"
#include "models/mem/physmem.h"

typedef struct seg {
    unsigned loads;           /* PT_LOAD segments */
    uint64_t paddr, off, len; /* the first one's file bytes (at most 256 checked) */
    uint64_t filesz, memsz;   /* the first one's sizes */
    uint64_t file_frames;     /* frames spanned by all file bytes (saturating) */
} seg;

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

/* Total p_memsz of the PT_LOAD segments as libelf reads them (0 if unreadable),
 * saturating like ims_elf_load_info.bytes. */
static uint64_t declared(const uint8_t *data, size_t size, seg *s)
{
    uint64_t total = 0;
    memset(s, 0, sizeof *s);
    if (elf_version(EV_CURRENT) == EV_NONE)
        return 0;
    Elf *e = elf_memory((char *)(uintptr_t)data, size);
    size_t n = 0;
    if (e && elf_kind(e) == ELF_K_ELF && elf_getphdrnum(e, &n) == 0)
        for (size_t i = 0; i < n; i++) {
            GElf_Phdr ph;
            if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD) {
                total = add_sat(total, ph.p_memsz);
                if (ph.p_filesz && ph.p_paddr + (ph.p_filesz - 1) >= ph.p_paddr)
                    s->file_frames = add_sat(s->file_frames, ((ph.p_paddr + (ph.p_filesz - 1)) >> 12) -
                                                                 (ph.p_paddr >> 12) + 1);
                if (s->loads++ == 0) {
                    s->paddr = ph.p_paddr;
                    s->off = ph.p_offset;
                    s->len = ph.p_filesz < 256 ? ph.p_filesz : 256;
                    s->filesz = ph.p_filesz;
                    s->memsz = ph.p_memsz;
                }
            }
        }
    if (e)
        elf_end(e);
    return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* elf_memory may write to the image: give it a copy. */
    uint8_t *copy = malloc(size ? size : 1);
    assert(copy);
    memcpy(copy, data, size);
    seg s;
    uint64_t want = declared(copy, size, &s);
    free(copy);

    char path[] = "/tmp/ims_fuzz_elf_XXXXXX";
    int fd = mkstemp(path);
    assert(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert(f);
    assert(fwrite(data, 1, size, f) == size);
    fclose(f);

    ims_physmem *m = ims_physmem_create();
    assert(m);
    ims_elf_load_info info;
    ims_error err = {0};
    int rc = ims_elf_load(m, path, &info, &err);
    assert(rc <= 0);
    if (rc < 0) {
        assert(strstr(err.msg, path) != NULL);
    } else {
        assert(info.bytes == want);
        /* Only file bytes may allocate frames, never the zero fill. */
        assert(ims_physmem_get_stats(m).frames <= s.file_frames);
        if (s.loads == 1 && s.len) { /* one segment: its file bytes are in memory at p_paddr */
            uint8_t back[256];
            assert(ims_physmem_read(m, s.paddr, back, (size_t)s.len) == 0);
            assert(!memcmp(back, data + s.off, (size_t)s.len));
        }
        if (s.loads == 1 && s.memsz > s.filesz) { /* and its zero fill reads as zero */
            uint8_t first = 1, last = 1;
            assert(ims_physmem_read(m, s.paddr + s.filesz, &first, 1) == 0 && first == 0);
            assert(ims_physmem_read(m, s.paddr + (s.memsz - 1), &last, 1) == 0 && last == 0);
        }
    }
    ims_physmem_destroy(m);
    unlink(path);
    return 0;
}
