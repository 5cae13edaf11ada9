/* Workload family `uniform`: DMAs at uniformly random offsets of one window
 * that is mapped once -- the access pattern for translation-cache sweeps
 * (the window's pages against the IOTLB's reach). */
#include <stdio.h>
#include <stdlib.h>

#include "traces/gen/gen.h"

enum { WINDOW, DMAS, LEN, ALIGN, READ_PCT, PAGE_SIZE, DEVICES, NOPTS };
enum { PS_4K, PS_2M, PS_1G };

#define SID_BASE 0x0300u

static const ims_gen_opt opts[NOPTS] = {
    [WINDOW] = {"window", IMS_GEN_OPT_SIZE, "64M", NULL, 4096, 1ull << 40,
                "bytes mapped once (4K multiple) and accessed uniformly"},
    [DMAS] = {"dmas", IMS_GEN_OPT_UINT, "10000", NULL, 1, 1000000000, "DMAs (operations)"},
    [LEN] = {"len", IMS_GEN_OPT_SIZE, "64", NULL, 1, 1ull << 30, "bytes per DMA"},
    [ALIGN] = {"align", IMS_GEN_OPT_SIZE, "4K", NULL, 1, 1ull << 30,
               "offsets are random multiples of this (a power of two)"},
    [READ_PCT] = {"read-pct", IMS_GEN_OPT_UINT, "50", NULL, 0, 100, "percent of DMAs that read memory"},
    [PAGE_SIZE] = {"page-size", IMS_GEN_OPT_ENUM, "4K", "4K|2M|1G", 0, 0,
                   "largest leaf the mapping may use: the window's physical placement against its "
                   "1G-aligned IOVA allows this size and no larger (1G needs a 1G-multiple window)"},
    [DEVICES] = {"devices", IMS_GEN_OPT_UINT, "1", NULL, 1, 64,
                 "devices, each with its own domain mapping the same window; each DMA picks one at random"},
};

static int check(const ims_gen_params *p, ims_error *err)
{
    uint64_t w = p->v[WINDOW], a = p->v[ALIGN];
    if (w % IMS_GEN_PAGE)
        return ims_errorf(err, EINVAL, "--window must be a multiple of 4K");
    if (a & (a - 1))
        return ims_errorf(err, EINVAL, "--align must be a power of two");
    if (p->v[LEN] > w)
        return ims_errorf(err, EINVAL, "--len is larger than --window");
    if (p->common[IMS_GEN_WARMUP] >= p->v[DMAS])
        return ims_errorf(err, EINVAL, "--warmup must be less than --dmas");
    return 0;
}

typedef struct uni {
    ims_gen *g;
    ims_gen_space *spaces;
    uint64_t phys, slots;
} uni;

static void emit(ims_gen *g, const ims_gen_ev *ev, void *ctx)
{
    (void)g, (void)ev, (void)ctx; /* every DMA is written at its arrival: no later events */
}

static int generate(ims_gen *g)
{
    static const uint64_t leaf[] = {[PS_4K] = 4096, [PS_2M] = 2ull << 20, [PS_1G] = 1ull << 30};
    uni u = {.g = g};
    unsigned ndev = (unsigned)ims_gen_v(g, DEVICES);
    uint64_t window = ims_gen_v(g, WINDOW), len = ims_gen_v(g, LEN), align = ims_gen_v(g, ALIGN);
    u.spaces = calloc(ndev, sizeof *u.spaces);
    if (!u.spaces)
        return ims_gen_fail(g, ENOMEM, "out of memory");
    uint64_t ps = leaf[ims_gen_v(g, PAGE_SIZE)];
    ims_gen_phys_reserve(g, window + (ps >= leaf[PS_1G] ? ps : 4 * leaf[PS_2M]));
    ims_gen_topology(g);
    char name[IMS_TRACE_NAME_MAX + 1], ioas[IMS_TRACE_NAME_MAX + 1];
    for (unsigned d = 0; d < ndev; d++) {
        snprintf(name, sizeof name, "dev%u", d);
        ims_gen_device(g, SID_BASE + d, name, 0);
    }
    u.phys = ims_gen_phys_alloc_leaf(g, window, ps);
    for (unsigned d = 0; d < ndev; d++) {
        snprintf(name, sizeof name, "dev%u", d);
        snprintf(ioas, sizeof ioas, "ioas%u", d);
        ims_gen_space_dev(g, &u.spaces[d], name, ioas);
        ims_gen_map(g, &u.spaces[d], IMS_GEN_IOVA_DATA, u.phys, window, IMS_TRACE_PROT_RW);
    }
    ims_gen_set_emitter(g, emit, &u);
    u.slots = (window - len) / align + 1; /* offsets k*align with k*align + len <= window */
    for (uint64_t i = 0, n = ims_gen_v(g, DMAS); i < n && !g->rc; i++) {
        ims_gen_op_begin(g, i);
        unsigned d = ndev > 1 ? (unsigned)ims_rng_below(&g->rng, ndev) : 0;
        uint64_t off = ims_rng_below(&g->rng, u.slots) * align;
        bool rd = ims_gen_chance(g, ims_gen_v(g, READ_PCT));
        ims_gen_dma(g, &u.spaces[d], IMS_GEN_IOVA_DATA + off, len, !rd, u.phys + off);
    }
    ims_gen_finish(g);
    free(u.spaces);
    return g->rc;
}

const ims_gen_family ims_gen_uniform = {
    .name = "uniform",
    .summary = "uniformly random DMAs over one window mapped once (cache sweeps)",
    .details =
        "The window is mapped once per device (host: one ioas_map; guest: one guest.map) at IOVA\n"
        "0x40000000, then every DMA picks an offset k*align (k uniform, so that the DMA fits) and\n"
        "reads or writes len bytes. No mapping changes after setup: no invalidations. Sweep\n"
        "--window against iotlb.entries to see the IOTLB's reach.\n",
    .opts = opts,
    .nopts = NOPTS,
    .check = check,
    .generate = generate,
};
