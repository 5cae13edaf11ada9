/* Generates the replay/decode benchmark traces (docs/performance.md "Trace decode"):
 *
 *   hit     one device, scalable mode, its RID_PASID entry second-stage only, a
 *           working set of 32 pages of 4 KiB: after the first touch every DMA hits
 *           the IOTLB.
 *   nested  the same device with a nested RID_PASID entry: a 4-level first stage
 *           (guest tables, named by GPA) over a 4-level second stage, 1 GiB of IOVA
 *           mapped with 4 KiB pages at both stages, DMA addresses uniformly random
 *           over it: nearly every DMA misses and walks.
 *
 * Each trace is the raw-hardware setup a bare-metal driver would do (the tables
 * written with mem.write, root pointer and translation enable over MMIO), a
 * `mark name=dma`, then closed-loop `dma` records (256 bytes, 3 reads : 1 write)
 * until the trace has N records. Written with the trace_io writer in the binary
 * form, zstd-compressed (`.ist.zst`).
 *
 * usage: bench_trace_gen [hit|nested|all] [records] [outdir] [seed]
 *        (default: all 10000000 . 1) -> OUTDIR/bench_hit.ist.zst, OUTDIR/bench_nested.ist.zst */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "models/mem/pa_alloc.h"
#include "models/mem/physmem.h"
#include "models/vtd/ctx_builder.h"
#include "models/vtd/entries.h"
#include "models/vtd/pt_builder.h"
#include "models/vtd/regs.h"
#include "models/vtd/translate.h"
#include "sim/rng.h"
#include "traces/trace_io.h"

#define SID 0x0100
#define DID 1
#define HOST_TABLES 0x10000000ULL     /* root/context/PASID/SS tables: [256 MiB, 1280 MiB) */
#define GUEST_BASE (1ULL << 40)       /* HPA of guest GPA 0 */
#define GUEST_TABLES (1ULL << 30)     /* GPA of the guest's FS tables, above its data */
#define SPAN (1ULL << 30)             /* nested: 1 GiB of IOVA */
#define HIT_PAGES 32
#define HIT_HPA (1ULL << 34)
#define DMA_LEN 256

#define GCMD_TE (1u << 31)
#define GCMD_SRTP (1u << 30)

typedef struct gen {
    ims_trace_writer *w;
    ims_trace_rec rec;
    uint64_t written;
    ims_error err;
} gen;

static void die(const char *what, const ims_error *err)
{
    fprintf(stderr, "bench_trace_gen: %s%s%s\n", what, err ? ": " : "", err ? err->msg : "");
    exit(1);
}

static void put(gen *g)
{
    if (ims_trace_writer_write(g->w, &g->rec, &g->err) < 0)
        die("write", &g->err);
    g->written++;
    ims_trace_rec_reset(&g->rec);
    g->rec.line = g->written + 1; /* as if the text had one record per line after the header */
}

static void set(gen *g, ims_trace_key k, uint64_t v)
{
    g->rec.v[k].num = v;
    g->rec.present |= 1ull << k;
}

static void rec_mmio(gen *g, ims_trace_verb verb, uint64_t off, uint64_t val, uint64_t mask)
{
    g->rec.verb = verb;
    set(g, IMS_K_OFF, off);
    if (verb == IMS_V_MMIO_R32) {
        set(g, IMS_K_EXPECT, val);
        set(g, IMS_K_MASK, mask);
    } else {
        set(g, IMS_K_VAL, val);
    }
    put(g);
}

/* Every page handed out by `a`, as mem.write of its non-zero 8-byte words
 * (from the first to the last; tables are dense, so one record per page). */
static void dump_pages(gen *g, ims_physmem *mem, const ims_pa_alloc *a)
{
    static uint64_t page[IMS_PAGE_SIZE / 8];
    for (uint64_t pa = a->base; pa < a->next; pa += IMS_PAGE_SIZE) {
        if (ims_physmem_read(mem, pa, page, sizeof page))
            die("read back a table page", NULL);
        size_t lo = 0, hi = IMS_PAGE_SIZE / 8;
        while (lo < hi && page[lo] == 0)
            lo++;
        while (hi > lo && page[hi - 1] == 0)
            hi--;
        if (lo == hi)
            continue;
        g->rec.verb = IMS_V_MEM_WRITE;
        set(g, IMS_K_PA, pa + lo * 8);
        /* Little-endian bytes, lowest address first: the words as memory holds them. */
        uint8_t bytes[IMS_PAGE_SIZE];
        for (size_t i = lo; i < hi; i++)
            for (int b = 0; b < 8; b++)
                bytes[(i - lo) * 8 + (size_t)b] = (uint8_t)(page[i] >> (8 * b));
        if (ims_trace_rec_set_bytes(&g->rec, IMS_K_HEX, bytes, (hi - lo) * 8))
            die("out of memory", NULL);
        put(g);
    }
}

/* Topology and setup records; returns nothing, g->written counts them. */
static void setup(gen *g, bool nested)
{
    ims_error err = {0};
    ims_physmem *mem = ims_physmem_create();
    if (!mem)
        die("out of memory", NULL);
    ims_pa_alloc host, guest;
    ims_pa_alloc_init(&host, mem, HOST_TABLES, HOST_TABLES + (1ULL << 30));
    ims_pa_alloc_init(&guest, mem, GUEST_BASE + GUEST_TABLES, GUEST_BASE + GUEST_TABLES + (64ULL << 20));

    ims_vtd_ctx_builder cb;
    if (ims_vtd_ctxb_init(&cb, &host, true, &err))
        die("root table", &err);
    ims_vtd_sm_ctx_cfg cc = {.pdts = 1, .paside = true};
    if (ims_vtd_ctxb_set_sm_ctx(&cb, SID, &cc, &err))
        die("context entry", &err);
    ims_pt_builder ss, fs;
    ims_vtd_pasid_cfg pc = {.did = DID, .aw = 2}; /* 48-bit, 4-level second stage */
    if (ims_pt_builder_init(&ss, mem, &host, IMS_PT_FORMAT_SS, 4, 0, &err))
        die("SS table", &err);
    pc.ssptptr = ss.root;
    if (!nested) {
        pc.pgtt = IMS_VTD_PGTT_SS;
        if (ims_pt_map(&ss, 0, HIT_HPA, HIT_PAGES * IMS_PAGE_SIZE, IMS_PAGE_SIZE, IMS_PT_RW | IMS_PT_AD, &err))
            die("map", &err);
    } else {
        pc.pgtt = IMS_VTD_PGTT_NESTED;
        /* Guest RAM: data GPA [0, 1 GiB) and its FS tables above, 4 KiB SS pages. */
        if (ims_pt_map(&ss, 0, GUEST_BASE, SPAN + (64ULL << 20), IMS_PAGE_SIZE, IMS_PT_RW | IMS_PT_AD, &err) ||
            ims_pt_builder_init(&fs, mem, &guest, IMS_PT_FORMAT_FS, 4, GUEST_BASE, &err) ||
            ims_pt_map(&fs, 0, 0, SPAN, IMS_PAGE_SIZE, IMS_PT_RW | IMS_PT_U | IMS_PT_AD, &err))
            die("nested tables", &err);
        pc.fspm = IMS_VTD_FSPM_4LEVEL;
        pc.fsptptr = fs.root;
    }
    if (ims_vtd_ctxb_set_pasid(&cb, SID, 0, &pc, &err))
        die("PASID entry", &err);

    g->rec.verb = IMS_V_DEVICE;
    set(g, IMS_K_SID, SID);
    if (ims_trace_rec_set_bytes(&g->rec, IMS_K_NAME, "dev0", 4))
        die("out of memory", NULL);
    put(g);
    dump_pages(g, mem, &host);
    dump_pages(g, mem, &guest);
    /* Like a driver: root pointer, SRTP and wait for RTPS, then TE and wait for TES. */
    rec_mmio(g, IMS_V_MMIO_W64, IMS_VTD_REG_RTADDR, ims_vtd_ctxb_rtaddr(&cb), 0);
    rec_mmio(g, IMS_V_MMIO_W32, IMS_VTD_REG_GCMD, GCMD_SRTP, 0);
    rec_mmio(g, IMS_V_MMIO_R32, IMS_VTD_REG_GSTS, GCMD_SRTP, GCMD_SRTP);
    rec_mmio(g, IMS_V_MMIO_W32, IMS_VTD_REG_GCMD, GCMD_TE, 0);
    rec_mmio(g, IMS_V_MMIO_R32, IMS_VTD_REG_GSTS, GCMD_TE, GCMD_TE);
    g->rec.verb = IMS_V_MARK;
    if (ims_trace_rec_set_bytes(&g->rec, IMS_K_NAME, "dma", 3))
        die("out of memory", NULL);
    put(g);
    ims_physmem_destroy(mem);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void generate(const char *name, bool nested, uint64_t n, const char *dir, uint64_t seed)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_%s.ist.zst", dir, name);
    double t0 = now();
    gen g = {0};
    ims_trace_rec_init(&g.rec);
    g.rec.line = 2;
    g.w = ims_trace_writer_open(path, IMS_TRACE_BINARY, &g.err);
    if (!g.w)
        die("open", &g.err);
    setup(&g, nested);
    if (g.written >= n) {
        fprintf(stderr, "bench_trace_gen: %s: %" PRIu64 " records is not more than the %" PRIu64 " setup records\n",
                name, n, g.written);
        exit(1);
    }
    uint64_t setup_records = g.written;
    ims_rng rng;
    ims_rng_seed(&rng, seed);
    uint64_t pages = nested ? SPAN / IMS_PAGE_SIZE : HIT_PAGES;
    while (g.written < n) {
        uint64_t v = ims_rng_next(&rng);
        g.rec.verb = IMS_V_DMA;
        set(&g, IMS_K_DEV, SID);
        /* page from the high bits (pages is a power of two), 256-byte slot and
         * direction from the low ones */
        set(&g, IMS_K_IOVA, ((v >> 32) & (pages - 1)) << 12 | (v & 0xf) * DMA_LEN);
        set(&g, IMS_K_LEN, DMA_LEN);
        set(&g, (v >> 4 & 3) == 0 ? IMS_K_WR : IMS_K_RD, 0); /* a flag: presence only */
        put(&g);
    }
    if (ims_trace_writer_close(g.w, &g.err) < 0)
        die("close", &g.err);
    ims_trace_rec_free(&g.rec);
    printf("%s: %" PRIu64 " records (%" PRIu64 " setup, %" PRIu64 " dma) in %.1f s\n", path, g.written,
           setup_records, g.written - setup_records, now() - t0);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "all";
    uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 0) : 10000000ULL;
    const char *dir = argc > 3 ? argv[3] : ".";
    uint64_t seed = argc > 4 ? strtoull(argv[4], NULL, 0) : 1;
    bool all = !strcmp(mode, "all");
    if (!all && strcmp(mode, "hit") && strcmp(mode, "nested")) {
        fprintf(stderr, "usage: bench_trace_gen [hit|nested|all] [records] [outdir] [seed]\n");
        return 2;
    }
    if (all || !strcmp(mode, "hit"))
        generate("hit", false, n, dir, seed);
    if (all || !strcmp(mode, "nested"))
        generate("nested", true, n, dir, seed);
    return 0;
}
