/* Workload family `sva`: shared virtual addressing. Several processes, each
 * with its own PASID and address space, stream DMAs over their own buffer
 * at the same virtual address, so only the PASID tells the translations
 * apart. Host level: one IOAS per process, attached to the device's PASID
 * through a HWPT allocated with flags=alloc_pasid; guest level:
 * guest.pasid_bind of each PASID to a page-table root in guest RAM, then
 * guest.map into that PASID's table. */
#include <stdio.h>
#include <stdlib.h>

#include "traces/gen/gen.h"

enum { PROCS, BUF_SIZE, DMAS, LEN, READ_PCT, PASID_BASE, VA, SCHEDULE, NOPTS };
enum { SCHED_RR, SCHED_RANDOM };

#define SID 0x0400u
#define PASID_BITS 20u

static const ims_gen_opt opts[NOPTS] = {
    [PROCS] = {"procs", IMS_GEN_OPT_UINT, "4", NULL, 1, 4096, "processes, one PASID each"},
    [BUF_SIZE] = {"buf-size", IMS_GEN_OPT_SIZE, "1M", NULL, 4096, 1ull << 36,
                  "bytes of each process's buffer (4K multiple), mapped once with 4K pages"},
    [DMAS] = {"dmas", IMS_GEN_OPT_UINT, "4000", NULL, 1, 1000000000, "DMAs (operations), over all processes"},
    [LEN] = {"len", IMS_GEN_OPT_SIZE, "4K", NULL, 1, 1ull << 30,
             "bytes per DMA; each process streams through its buffer and wraps to its start"},
    [READ_PCT] = {"read-pct", IMS_GEN_OPT_UINT, "50", NULL, 0, 100, "percent of DMAs that read memory"},
    [PASID_BASE] = {"pasid-base", IMS_GEN_OPT_UINT, "1", NULL, 1, (1u << PASID_BITS) - 1,
                    "PASID of the first process; the others follow"},
    [VA] = {"va", IMS_GEN_OPT_ADDR, "0x7f0000000000", NULL, 0, (1ull << 47) - 1,
            "virtual address of every process's buffer (4K aligned, below 2^47)"},
    [SCHEDULE] = {"schedule", IMS_GEN_OPT_ENUM, "rr", "rr|random", 0, 0,
                  "which process issues the next DMA: in turn, or at random"},
};

static int check(const ims_gen_params *p, ims_error *err)
{
    if (p->v[BUF_SIZE] % IMS_GEN_PAGE || p->v[VA] % IMS_GEN_PAGE)
        return ims_errorf(err, EINVAL, "--buf-size and --va must be multiples of 4K");
    if (p->v[VA] + p->v[BUF_SIZE] > (1ull << 47))
        return ims_errorf(err, EINVAL, "--va + --buf-size passes 2^47 (the user half of a 48-bit space)");
    if (p->v[LEN] > p->v[BUF_SIZE])
        return ims_errorf(err, EINVAL, "--len is larger than --buf-size");
    if (p->v[PASID_BASE] + p->v[PROCS] - 1 >= (1u << PASID_BITS))
        return ims_errorf(err, EINVAL, "--pasid-base + --procs passes the 20-bit PASID space");
    if (p->common[IMS_GEN_LEVEL] == IMS_GEN_LEVEL_GUEST && p->common[IMS_GEN_MODE] != 0)
        return ims_errorf(err, EINVAL, "--mode shadow: vSVA needs a nested vIOMMU (a shadowing VMM never learns "
                          "of the guest's first-stage mappings)");
    if (p->common[IMS_GEN_WARMUP] >= p->v[DMAS])
        return ims_errorf(err, EINVAL, "--warmup must be less than --dmas");
    return 0;
}

static void emit(ims_gen *g, const ims_gen_ev *ev, void *ctx)
{
    (void)g, (void)ev, (void)ctx; /* every DMA is written at its arrival: no later events */
}

static int generate(ims_gen *g)
{
    unsigned procs = (unsigned)ims_gen_v(g, PROCS);
    uint64_t buf = ims_gen_v(g, BUF_SIZE), len = ims_gen_v(g, LEN), va = ims_gen_v(g, VA);
    ims_gen_space *sp = calloc(procs, sizeof *sp);
    uint64_t *phys = calloc(procs, sizeof *phys), *off = calloc(procs, sizeof *off);
    if (!sp || !phys || !off) {
        ims_gen_fail(g, ENOMEM, "out of memory");
        goto out;
    }
    /* Per process: its page-table root (guest) and its buffer placed for 4K leaves. */
    ims_gen_phys_reserve(g, procs * (IMS_GEN_PAGE + buf + (4ull << 20)));
    ims_gen_topology(g);
    ims_gen_device(g, SID, "acc0", PASID_BITS);
    char ioas[IMS_TRACE_NAME_MAX + 1];
    for (unsigned p = 0; p < procs; p++) {
        uint32_t pasid = (uint32_t)(ims_gen_v(g, PASID_BASE) + p);
        snprintf(ioas, sizeof ioas, "pasid%u", pasid);
        ims_gen_space_pasid(g, &sp[p], "acc0", pasid, ioas);
        phys[p] = ims_gen_phys_alloc_leaf(g, buf, IMS_GEN_PAGE);
        ims_gen_map(g, &sp[p], va, phys[p], buf, IMS_TRACE_PROT_RW);
    }
    ims_gen_set_emitter(g, emit, NULL);
    bool random = ims_gen_v(g, SCHEDULE) == SCHED_RANDOM;
    for (uint64_t i = 0, n = ims_gen_v(g, DMAS); i < n && !g->rc; i++) {
        ims_gen_op_begin(g, i);
        unsigned p = random ? (unsigned)ims_rng_below(&g->rng, procs) : (unsigned)(i % procs);
        if (off[p] + len > buf)
            off[p] = 0;
        bool rd = ims_gen_chance(g, ims_gen_v(g, READ_PCT));
        ims_gen_dma(g, &sp[p], va + off[p], len, !rd, phys[p] + off[p]);
        off[p] += len;
    }
    ims_gen_finish(g);
out:
    free(sp);
    free(phys);
    free(off);
    return g->rc;
}

const ims_gen_family ims_gen_sva = {
    .name = "sva",
    .summary = "SVA streaming: one PASID per process, each over its own buffer",
    .details =
        "Each process (PASID --pasid-base + p) has a --buf-size buffer at the same virtual address\n"
        "--va; DMAs (with pasid=) stream through it. Host level: ioas_alloc, 'iommufd.hwpt_alloc\n"
        "dev=acc0 pt=pasidP flags=alloc_pasid out=pasidP.hwpt', 'iommufd.attach dev=acc0\n"
        "pt=pasidP.hwpt pasid=P' and ioas_map per process. Guest level: guest.pasid_bind\n"
        "with s1_pgtbl at a zeroed page of guest RAM reserved for it, then guest.map pasid=P.\n",
    .opts = opts,
    .nopts = NOPTS,
    .check = check,
    .generate = generate,
};
