/* ELF PT_LOAD segments into physical memory (elf_load.h). libelf decodes the
 * headers; segment bytes are read with pread in chunks. */
#define _POSIX_C_SOURCE 200809L /* pread, O_CLOEXEC */

#include "models/mem/elf_load.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (1u << 20) /* bytes read at a time; a multiple of the page size */

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* Store [pa, pa+n) from buf, page by page so that zero pages over frames
 * never written are skipped. */
static int store(ims_physmem *m, uint64_t pa, const uint8_t *buf, size_t n)
{
    while (n) {
        size_t in_page = (size_t)(IMS_PAGE_SIZE - (pa & (IMS_PAGE_SIZE - 1)));
        size_t k = n < in_page ? n : in_page;
        if (!(all_zero(buf, k) && !ims_physmem_frame_present(m, pa))) {
            int rc = ims_physmem_write(m, pa, buf, k);
            if (rc)
                return rc;
        }
        pa += k;
        buf += k;
        n -= k;
    }
    return 0;
}

static int load_segment(ims_physmem *m, int fd, const char *path, unsigned idx, const GElf_Phdr *ph,
                        uint8_t *buf, ims_error *err)
{
    uint64_t pa = ph->p_paddr;
    for (uint64_t done = 0; done < ph->p_filesz;) {
        uint64_t left = ph->p_filesz - done;
        size_t n = left < CHUNK ? (size_t)left : CHUNK;
        ssize_t got = pread(fd, buf, n, (off_t)(ph->p_offset + done));
        if (got != (ssize_t)n)
            return ims_errorf(err, EIO, "%s: segment %u: cannot read %zu bytes at file offset 0x%llx", path, idx,
                              n, (unsigned long long)(ph->p_offset + done));
        int rc = store(m, pa + done, buf, n);
        if (rc)
            return ims_errorf(err, rc, "%s: segment %u: cannot store at pa 0x%llx", path, idx,
                              (unsigned long long)(pa + done));
        done += n;
    }
    if (ph->p_memsz > ph->p_filesz) {
        /* p_memsz beyond p_filesz is zero: cleared where memory holds data,
         * with no frame allocated, so a huge zero segment costs little. */
        uint64_t lo = pa + ph->p_filesz, hi = pa + (ph->p_memsz - 1);
        int rc = ims_physmem_zero_range(m, lo, hi);
        if (rc)
            return ims_errorf(err, rc, "%s: segment %u: cannot zero pa 0x%llx..0x%llx", path, idx,
                              (unsigned long long)lo, (unsigned long long)hi);
    }
    return 0;
}

static int check_segment(const char *path, unsigned idx, const GElf_Phdr *ph, uint64_t file_size, ims_error *err)
{
    if (ph->p_filesz > ph->p_memsz)
        return ims_errorf(err, EINVAL, "%s: segment %u: p_filesz 0x%llx exceeds p_memsz 0x%llx", path, idx,
                          (unsigned long long)ph->p_filesz, (unsigned long long)ph->p_memsz);
    if (ph->p_offset > file_size || ph->p_filesz > file_size - ph->p_offset)
        return ims_errorf(err, EINVAL, "%s: segment %u: bytes 0x%llx+0x%llx lie past the end of the file "
                                       "(%llu bytes; truncated dump?)",
                          path, idx, (unsigned long long)ph->p_offset, (unsigned long long)ph->p_filesz,
                          (unsigned long long)file_size);
    if (ph->p_memsz && ph->p_memsz - 1 > UINT64_MAX - ph->p_paddr)
        return ims_errorf(err, EINVAL, "%s: segment %u: pa 0x%llx + 0x%llx wraps past 2^64", path, idx,
                          (unsigned long long)ph->p_paddr, (unsigned long long)ph->p_memsz);
    return 0;
}

int ims_elf_load(ims_physmem *m, const char *path, ims_elf_load_info *info, ims_error *err)
{
    if (info)
        *info = (ims_elf_load_info){0};
    if (elf_version(EV_CURRENT) == EV_NONE)
        return ims_errorf(err, EINVAL, "%s: libelf is unusable: %s", path, elf_errmsg(-1));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ims_errorf(err, errno, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    Elf *e = NULL;
    uint8_t *buf = NULL;
    int rc = 0;
    size_t nph = 0;
    if (fstat(fd, &st) != 0) {
        rc = ims_errorf(err, errno, "%s: cannot stat: %s", path, strerror(errno));
        goto out;
    }
    e = elf_begin(fd, ELF_C_READ, NULL);
    if (!e || elf_kind(e) != ELF_K_ELF) {
        rc = ims_errorf(err, EINVAL, "%s: not an ELF file", path);
        goto out;
    }
    GElf_Ehdr eh;
    if (!gelf_getehdr(e, &eh) || elf_getphdrnum(e, &nph) != 0) {
        rc = ims_errorf(err, EINVAL, "%s: bad ELF header: %s", path, elf_errmsg(-1));
        goto out;
    }
    if (nph == 0) {
        rc = ims_errorf(err, EINVAL, "%s: no program headers (not a memory dump)", path);
        goto out;
    }
    /* Validate every segment before storing any, so a bad file changes nothing. */
    for (size_t i = 0; i < nph; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(e, (int)i, &ph)) {
            rc = ims_errorf(err, EINVAL, "%s: bad program header %zu: %s", path, i, elf_errmsg(-1));
            goto out;
        }
        if (ph.p_type == PT_LOAD && (rc = check_segment(path, (unsigned)i, &ph, (uint64_t)st.st_size, err)))
            goto out;
    }
    buf = malloc(CHUNK);
    if (!buf) {
        rc = ims_errorf(err, ENOMEM, "%s: out of memory", path);
        goto out;
    }
    for (size_t i = 0; i < nph; i++) {
        GElf_Phdr ph;
        gelf_getphdr(e, (int)i, &ph);
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        if ((rc = load_segment(m, fd, path, (unsigned)i, &ph, buf, err)))
            goto out;
        if (info) {
            info->segments++;
            info->bytes = ph.p_memsz > UINT64_MAX - info->bytes ? UINT64_MAX : info->bytes + ph.p_memsz;
        }
    }
out:
    free(buf);
    if (e)
        elf_end(e);
    close(fd);
    return rc;
}
