#include "models/mem/physmem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h> /* madvise */

/* Hash slot: frame number + 1 (0 marks an empty slot) and its 4 KiB buffer. */
typedef struct frame_slot {
    uint64_t key;
    uint8_t *data;
    uint64_t stamp; /* *clock at the last software store */
} frame_slot;

/* Frames are carved from chunks, not allocated one by one: a calloc'd 4 KiB
 * buffer carries malloc's header and straddles two host pages. Chunks double
 * from 64 KiB to 2 MiB; 2 MiB chunks are 2 MiB aligned and offered to
 * transparent huge pages (fewer host TLB misses on page-table reads, though
 * the translation benchmark measured no gain). A frame is zeroed when handed
 * out, so untouched parts of a chunk are never committed (unless backed by a
 * huge page). Frames are never freed before ims_physmem_destroy. */
#define CHUNK_MIN_FRAMES 16u
#define CHUNK_MAX_FRAMES 512u

struct ims_physmem {
    frame_slot *slots;
    size_t cap;   /* power of two */
    size_t used;
    uint8_t **chunks;      /* every chunk, for destroy */
    size_t nchunks, chunks_cap;
    uint8_t *chunk_next;   /* next free frame of the newest chunk */
    size_t chunk_left;     /* frames left in it */
    size_t chunk_frames;   /* size of the next chunk */
    /* last frame looked up (walks and DMA stream hit the same frame) */
    uint64_t last_key;
    uint8_t *last_data;
    frame_slot *last_slot;
    const uint64_t *clock; /* write-stamp source, NULL: no stamping */
    ims_physmem_stats st;
};

static inline size_t hash_frame(uint64_t key, size_t mask)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return (size_t)key & mask;
}

ims_physmem *ims_physmem_create(void)
{
    ims_physmem *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cap = 1024;
    m->slots = calloc(m->cap, sizeof *m->slots);
    if (!m->slots) {
        free(m);
        return NULL;
    }
    return m;
}

void ims_physmem_destroy(ims_physmem *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nchunks; i++)
        free(m->chunks[i]);
    free(m->chunks);
    free(m->slots);
    free(m);
}

static frame_slot *lookup_slot(const ims_physmem *m, uint64_t key)
{
    size_t mask = m->cap - 1;
    for (size_t i = hash_frame(key, mask);; i = (i + 1) & mask) {
        if (m->slots[i].key == key)
            return &m->slots[i];
        if (m->slots[i].key == 0)
            return NULL;
    }
}

static uint8_t *lookup(const ims_physmem *m, uint64_t key)
{
    frame_slot *s = lookup_slot(m, key);
    return s ? s->data : NULL;
}

static int grow(ims_physmem *m)
{
    size_t ncap = m->cap * 2;
    frame_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key)
            continue;
        size_t j = hash_frame(m->slots[i].key, ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    m->last_key = 0; /* slots moved */
    m->last_slot = NULL;
    return 0;
}

/* A zeroed frame from the chunk arena, NULL on ENOMEM. */
static uint8_t *frame_alloc(ims_physmem *m)
{
    if (m->chunk_left == 0) {
        if (m->nchunks == m->chunks_cap) {
            size_t ncap = m->chunks_cap ? 2 * m->chunks_cap : 8;
            uint8_t **nc = realloc(m->chunks, ncap * sizeof *nc);
            if (!nc)
                return NULL;
            m->chunks = nc;
            m->chunks_cap = ncap;
        }
        size_t frames = m->chunk_frames ? m->chunk_frames : CHUNK_MIN_FRAMES;
        size_t bytes = frames * IMS_PAGE_SIZE;
        size_t align = frames == CHUNK_MAX_FRAMES ? bytes : IMS_PAGE_SIZE;
        uint8_t *c = aligned_alloc(align, bytes);
        if (!c)
            return NULL;
#ifdef MADV_HUGEPAGE
        if (frames == CHUNK_MAX_FRAMES)
            (void)madvise(c, bytes, MADV_HUGEPAGE); /* a hint: failure only costs speed */
#endif
        m->chunks[m->nchunks++] = c;
        m->chunk_next = c;
        m->chunk_left = frames;
        m->chunk_frames = frames < CHUNK_MAX_FRAMES ? 2 * frames : CHUNK_MAX_FRAMES;
    }
    uint8_t *d = m->chunk_next;
    m->chunk_next += IMS_PAGE_SIZE;
    m->chunk_left--;
    memset(d, 0, IMS_PAGE_SIZE);
    return d;
}

/* Frame for reading: NULL means all zero. */
static inline const uint8_t *frame_ro(ims_physmem *m, uint64_t pfn)
{
    uint64_t key = pfn + 1;
    if (key == m->last_key)
        return m->last_data;
    frame_slot *slot = lookup_slot(m, key);
    if (!slot)
        return NULL;
    m->last_key = key;
    m->last_data = slot->data;
    m->last_slot = slot;
    return slot->data;
}

/* Frame for a software store: allocated on demand and stamped. */
static uint8_t *frame_rw(ims_physmem *m, uint64_t pfn)
{
    uint64_t key = pfn + 1;
    frame_slot *slot = key == m->last_key ? m->last_slot : lookup_slot(m, key);
    if (!slot) {
        /* At most half full: a hit then takes about 1.5 probes (3/4: 2.5). */
        if ((m->used + 1) * 2 > m->cap && grow(m))
            return NULL;
        uint8_t *d = frame_alloc(m);
        if (!d)
            return NULL;
        size_t mask = m->cap - 1, i = hash_frame(key, mask);
        while (m->slots[i].key)
            i = (i + 1) & mask;
        slot = &m->slots[i];
        slot->key = key;
        slot->data = d;
        slot->stamp = 0;
        m->used++;
        m->st.frames++;
    }
    if (m->clock)
        slot->stamp = *m->clock;
    m->last_key = key;
    m->last_data = slot->data;
    m->last_slot = slot;
    return slot->data;
}

static int range_ok(uint64_t pa, size_t len)
{
    return len == 0 || pa + (len - 1) >= pa;
}

int ims_physmem_read(ims_physmem *m, uint64_t pa, void *buf, size_t len)
{
    if (!range_ok(pa, len))
        return -EINVAL;
    m->st.reads++;
    m->st.bytes_read += len;
    uint8_t *out = buf;
    while (len) {
        size_t off = pa & (IMS_PAGE_SIZE - 1);
        size_t n = IMS_PAGE_SIZE - off < len ? IMS_PAGE_SIZE - off : len;
        const uint8_t *f = frame_ro(m, pa >> IMS_PAGE_SHIFT);
        if (f)
            memcpy(out, f + off, n);
        else
            memset(out, 0, n);
        out += n;
        pa += n;
        len -= n;
    }
    return 0;
}

int ims_physmem_write(ims_physmem *m, uint64_t pa, const void *buf, size_t len)
{
    if (!range_ok(pa, len))
        return -EINVAL;
    m->st.writes++;
    m->st.bytes_written += len;
    const uint8_t *in = buf;
    while (len) {
        size_t off = pa & (IMS_PAGE_SIZE - 1);
        size_t n = IMS_PAGE_SIZE - off < len ? IMS_PAGE_SIZE - off : len;
        uint8_t *f = frame_rw(m, pa >> IMS_PAGE_SHIFT);
        if (!f)
            return -ENOMEM;
        memcpy(f + off, in, n);
        in += n;
        pa += n;
        len -= n;
    }
    return 0;
}

/* Zero the part of [lo, hi] that lies in slot s's frame (which overlaps it),
 * as a software store. */
static void zero_in_frame(ims_physmem *m, frame_slot *s, uint64_t lo, uint64_t hi)
{
    uint64_t base = (s->key - 1) << IMS_PAGE_SHIFT;
    uint64_t a = lo > base ? lo - base : 0;
    uint64_t b = hi - base < IMS_PAGE_SIZE ? hi - base : IMS_PAGE_SIZE - 1;
    memset(s->data + a, 0, (size_t)(b - a + 1));
    if (m->clock)
        s->stamp = *m->clock;
}

int ims_physmem_zero_range(ims_physmem *m, uint64_t lo, uint64_t hi)
{
    if (hi < lo)
        return -EINVAL;
    uint64_t bytes = hi - lo == UINT64_MAX ? UINT64_MAX : hi - lo + 1;
    m->st.writes++;
    m->st.bytes_written = bytes > UINT64_MAX - m->st.bytes_written ? UINT64_MAX : m->st.bytes_written + bytes;
    uint64_t first = lo >> IMS_PAGE_SHIFT, last = hi >> IMS_PAGE_SHIFT;
    /* Never-written memory already reads zero: only present frames are
     * touched, found by one lookup per frame of the range or by one pass over
     * the table (cap slots, at least twice the present frames), whichever is
     * fewer steps, so even a range of the whole address space is cheap. */
    if (last - first < m->cap) {
        for (uint64_t f = first;; f++) {
            frame_slot *s = lookup_slot(m, f + 1);
            if (s)
                zero_in_frame(m, s, lo, hi);
            if (f == last)
                break;
        }
        return 0;
    }
    for (size_t i = 0; i < m->cap; i++) {
        frame_slot *s = &m->slots[i];
        if (s->key && s->key - 1 >= first && s->key - 1 <= last)
            zero_in_frame(m, s, lo, hi);
    }
    return 0;
}

int ims_physmem_fill(ims_physmem *m, uint64_t pa, uint8_t byte, size_t len)
{
    if (!range_ok(pa, len))
        return -EINVAL;
    if (byte == 0)
        return len ? ims_physmem_zero_range(m, pa, pa + (len - 1)) : 0;
    m->st.writes++;
    m->st.bytes_written += len;
    while (len) {
        size_t off = pa & (IMS_PAGE_SIZE - 1);
        size_t n = IMS_PAGE_SIZE - off < len ? IMS_PAGE_SIZE - off : len;
        uint8_t *f = frame_rw(m, pa >> IMS_PAGE_SHIFT);
        if (!f)
            return -ENOMEM;
        memset(f + off, byte, n);
        pa += n;
        len -= n;
    }
    return 0;
}

/* Little-endian loads and stores of n (4 or 8) bytes. On a little-endian
 * host a fixed-size memcpy is one unaligned move; GCC does not merge the
 * byte-by-byte form (23 instructions per 64-bit table read). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
static inline uint64_t load_le(const uint8_t *p, unsigned n)
{
    if (n == 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        return v;
    }
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline void store_le(uint8_t *p, uint64_t v, unsigned n)
{
    if (n == 8) {
        memcpy(p, &v, 8);
    } else {
        uint32_t w = (uint32_t)v;
        memcpy(p, &w, 4);
    }
}
#else
static inline uint64_t load_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static inline void store_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
#endif

static uint64_t read_n(ims_physmem *m, uint64_t pa, unsigned n)
{
    size_t off = pa & (IMS_PAGE_SIZE - 1);
    if (off + n <= IMS_PAGE_SIZE && pa + (n - 1) >= pa) { /* fast path: within one frame */
        m->st.reads++;
        m->st.bytes_read += n;
        const uint8_t *f = frame_ro(m, pa >> IMS_PAGE_SHIFT);
        return f ? load_le(f + off, n) : 0;
    }
    uint8_t b[8];
    if (ims_physmem_read(m, pa, b, n))
        return 0;
    return load_le(b, n);
}

static int write_n(ims_physmem *m, uint64_t pa, uint64_t v, unsigned n)
{
    uint8_t b[8];
    store_le(b, v, n);
    return ims_physmem_write(m, pa, b, n);
}

uint32_t ims_physmem_r32(ims_physmem *m, uint64_t pa) { return (uint32_t)read_n(m, pa, 4); }
uint64_t ims_physmem_r64(ims_physmem *m, uint64_t pa) { return read_n(m, pa, 8); }
int ims_physmem_w32(ims_physmem *m, uint64_t pa, uint32_t v) { return write_n(m, pa, v, 4); }
int ims_physmem_w64(ims_physmem *m, uint64_t pa, uint64_t v) { return write_n(m, pa, v, 8); }

int ims_physmem_or64(ims_physmem *m, uint64_t pa, uint64_t set, uint64_t *old)
{
    if (pa & 7)
        return -EINVAL;
    uint64_t v = read_n(m, pa, 8);
    if (old)
        *old = v;
    if ((v | set) == v)
        return 0; /* nothing to change: no write, no frame allocation */
    /* A hardware update: written without a software write stamp. */
    const uint64_t *clock = m->clock;
    m->clock = NULL;
    int r = write_n(m, pa, v | set, 8);
    m->clock = clock;
    return r;
}

void ims_physmem_set_clock(ims_physmem *m, const uint64_t *clock)
{
    m->clock = clock;
}

uint64_t ims_physmem_last_write(const ims_physmem *m, uint64_t pa)
{
    frame_slot *s = lookup_slot(m, (pa >> IMS_PAGE_SHIFT) + 1);
    return s ? s->stamp : 0;
}

bool ims_physmem_frame_present(const ims_physmem *m, uint64_t pa)
{
    return lookup(m, (pa >> IMS_PAGE_SHIFT) + 1) != NULL;
}

ims_physmem_stats ims_physmem_get_stats(const ims_physmem *m)
{
    return m->st;
}
