/* Workload family `storage`: an NVMe-like controller.
 *
 * A submission queue (64-byte commands), a completion queue (16-byte entries)
 * and, for transfers of more than two pages, one PRP-list page per command
 * slot are mapped once. Per I/O the driver maps the data buffer (PRP-like:
 * one mapping per 4 KiB page when the pages are scattered, one for a
 * contiguous buffer; the IOVA range is contiguous, as dma_map_sg gives), the
 * device fetches the command (and the PRP list), moves the data after the
 * media time, posts the completion, and the driver unmaps the whole range
 * (one strict invalidation per I/O). */
#include <stdio.h>
#include <stdlib.h>

#include "traces/gen/gen.h"

enum { IOS, BS, READ_PCT, QD, SQ_ENTRIES, BUFFERS, MEDIA_TIME, MEDIA_BW, DRIVER_DELAY, NOPTS };
enum { BUF_SCATTER, BUF_CONTIG };
enum { EV_DATA, EV_CQE, EV_UNMAP };

#define SQE 64u
#define CQE 16u
#define SID 0x0200u
#define CQ_IOVA (IMS_GEN_IOVA_RINGS + 0x100000ull)
#define PRP_IOVA (IMS_GEN_IOVA_RINGS + 0x200000ull)
#define DATA_SPAN (64ull << 30) /* IOVAs of data buffers, from IMS_GEN_IOVA_DATA */

static const ims_gen_opt opts[NOPTS] = {
    [IOS] = {"ios", IMS_GEN_OPT_UINT, "1000", NULL, 1, 1000000000, "I/Os (operations)"},
    [BS] = {"bs", IMS_GEN_OPT_SIZE, "4K", NULL, 1, 2 << 20,
            "bytes per I/O (e.g. 4K random, 128K sequential); more than 8K uses a PRP list"},
    [READ_PCT] = {"read-pct", IMS_GEN_OPT_UINT, "100", NULL, 0, 100,
                  "percent of I/Os that are reads (the device writes memory); the rest are writes"},
    [QD] = {"qd", IMS_GEN_OPT_UINT, "1", NULL, 1, 65535,
            "I/Os in flight at most; above 1 needs an open loop (--interval; 1ps keeps the queue full)"},
    [SQ_ENTRIES] = {"sq-entries", IMS_GEN_OPT_UINT, "64", NULL, 2, 65536,
                    "entries of the submission and the completion queue (more than --qd)"},
    [BUFFERS] = {"buffers", IMS_GEN_OPT_ENUM, "scatter", "scatter|contig", 0, 0,
                 "data pages scattered in memory (one map per page) or contiguous (one map per I/O)"},
    [MEDIA_TIME] = {"media-time", IMS_GEN_OPT_TIME, "10us", NULL, 0, 1000000000000ull,
                    "from the command fetch to the data transfer (the media's latency)"},
    [MEDIA_BW] = {"media-bw", IMS_GEN_OPT_SIZE, "4G", NULL, 1 << 20, 1ull << 40,
                  "open loop: the media's bytes per second, shared by all I/Os (one transfer at a "
                  "time); the completion is posted bs/media-bw after its transfer starts"},
    [DRIVER_DELAY] = {"driver-delay", IMS_GEN_OPT_TIME, "2us", NULL, 0, 1000000000000ull,
                      "from the completion to the driver's unmap"},
};

typedef struct io_slot {
    uint64_t iova, *phys; /* phys: one per page (scatter) or [0] the buffer (contig) */
    uint64_t cmd;         /* the I/O number */
    bool rd;              /* a read: the device writes the buffer */
    uint64_t free_at;     /* open loop: when the slot takes its next I/O */
} io_slot;

typedef struct stor {
    ims_gen *g;
    ims_gen_space s;
    uint64_t bs, npages, entries, sq_phys, cq_phys, prp_phys;
    bool contig, prp;
    ims_gen_pool phys_pool, iova_pool;
    io_slot *slots;
    unsigned nslots;
} stor;

static uint64_t pages_of(const ims_gen_params *p)
{
    return (p->v[BS] + IMS_GEN_PAGE - 1) / IMS_GEN_PAGE;
}

static int check(const ims_gen_params *p, ims_error *err)
{
    if (p->v[SQ_ENTRIES] <= p->v[QD])
        return ims_errorf(err, EINVAL, "--sq-entries must be more than --qd (a full queue keeps one entry free)");
    if (p->v[QD] > 1 && p->common[IMS_GEN_INTERVAL] == 0)
        return ims_errorf(err, EINVAL,
                          "--qd > 1 needs an open loop: give --interval (e.g. --interval 1ps to keep the queue full)");
    if (p->common[IMS_GEN_WARMUP] >= p->v[IOS])
        return ims_errorf(err, EINVAL, "--warmup must be less than --ios");
    return 0;
}

static uint64_t phys_chunks(const stor *st)
{
    uint64_t n = 4ull * st->nslots * (st->contig ? 1 : st->npages);
    return n < 256 ? 256 : n;
}

static void setup(stor *st)
{
    ims_gen *g = st->g;
    uint64_t sq_len = ims_gen_round_up(st->entries * SQE, IMS_GEN_PAGE);
    uint64_t cq_len = ims_gen_round_up(st->entries * CQE, IMS_GEN_PAGE);
    uint64_t chunk = st->contig ? st->npages * IMS_GEN_PAGE : IMS_GEN_PAGE;
    ims_gen_phys_reserve(g, sq_len + cq_len + (st->prp ? st->entries * IMS_GEN_PAGE : 0) +
                                phys_chunks(st) * chunk);
    ims_gen_topology(g);
    ims_gen_device(g, SID, "nvme0", 0);
    ims_gen_space_dev(g, &st->s, "nvme0", "ioas0");
    st->sq_phys = ims_gen_phys_alloc(g, sq_len, IMS_GEN_PAGE);
    st->cq_phys = ims_gen_phys_alloc(g, cq_len, IMS_GEN_PAGE);
    ims_gen_map(g, &st->s, IMS_GEN_IOVA_RINGS, st->sq_phys, sq_len, IMS_TRACE_PROT_R);
    ims_gen_map(g, &st->s, CQ_IOVA, st->cq_phys, cq_len, IMS_TRACE_PROT_W);
    if (st->prp) {
        st->prp_phys = ims_gen_phys_alloc(g, st->entries * IMS_GEN_PAGE, IMS_GEN_PAGE);
        ims_gen_map(g, &st->s, PRP_IOVA, st->prp_phys, st->entries * IMS_GEN_PAGE, IMS_TRACE_PROT_R);
    }
    ims_gen_pool_init(g, &st->phys_pool, ims_gen_phys_alloc(g, phys_chunks(st) * chunk, IMS_GEN_PAGE), chunk,
                      phys_chunks(st), true);
    ims_gen_pool_init(g, &st->iova_pool, IMS_GEN_IOVA_DATA, st->npages * IMS_GEN_PAGE,
                      DATA_SPAN / (st->npages * IMS_GEN_PAGE), false);
}

/* Driver: map the buffer (and fill the command); device: fetch it. */
static void submit(stor *st, io_slot *sl, uint64_t cmd, bool rd)
{
    ims_gen *g = st->g;
    sl->cmd = cmd;
    sl->rd = rd;
    sl->iova = ims_gen_pool_get(g, &st->iova_pool);
    unsigned prot = rd ? IMS_TRACE_PROT_W : IMS_TRACE_PROT_R;
    if (st->contig) {
        sl->phys[0] = ims_gen_pool_get(g, &st->phys_pool);
        ims_gen_map(g, &st->s, sl->iova, sl->phys[0], st->npages * IMS_GEN_PAGE, prot);
    } else {
        for (uint64_t p = 0; p < st->npages; p++) {
            sl->phys[p] = ims_gen_pool_get(g, &st->phys_pool);
            ims_gen_map(g, &st->s, sl->iova + p * IMS_GEN_PAGE, sl->phys[p], IMS_GEN_PAGE, prot);
        }
    }
    uint64_t e = cmd % st->entries;
    ims_gen_dma(g, &st->s, IMS_GEN_IOVA_RINGS + e * SQE, SQE, false, st->sq_phys + e * SQE);
    if (st->prp) /* PRP1 is in the command; the list holds the other pages */
        ims_gen_dma(g, &st->s, PRP_IOVA + e * IMS_GEN_PAGE, 8 * (st->npages - 1), false,
                    st->prp_phys + e * IMS_GEN_PAGE);
}

static void data(stor *st, const io_slot *sl)
{
    ims_gen_dma(st->g, &st->s, sl->iova, st->bs, sl->rd, sl->phys[0]);
}

static void completion(stor *st, const io_slot *sl)
{
    uint64_t e = sl->cmd % st->entries;
    ims_gen_dma(st->g, &st->s, CQ_IOVA + e * CQE, CQE, true, st->cq_phys + e * CQE);
}

static void unmap(stor *st, io_slot *sl)
{
    ims_gen_unmap(st->g, &st->s, sl->iova, st->npages * IMS_GEN_PAGE);
    ims_gen_pool_put(st->g, &st->iova_pool, sl->iova);
    for (uint64_t p = 0; p < (st->contig ? 1 : st->npages); p++)
        ims_gen_pool_put(st->g, &st->phys_pool, sl->phys[p]);
}

static void emit(ims_gen *g, const ims_gen_ev *ev, void *ctx)
{
    stor *st = ctx;
    io_slot *sl = &st->slots[ev->q];
    (void)g;
    if (ev->kind == EV_DATA)
        data(st, sl);
    else if (ev->kind == EV_CQE)
        completion(st, sl);
    else
        unmap(st, sl);
}

static int generate(ims_gen *g)
{
    stor st = {.g = g};
    st.bs = ims_gen_v(g, BS);
    st.npages = pages_of(g->p);
    st.entries = ims_gen_v(g, SQ_ENTRIES);
    st.contig = ims_gen_v(g, BUFFERS) == BUF_CONTIG;
    st.prp = st.npages > 2;
    st.nslots = (unsigned)ims_gen_v(g, QD);
    st.slots = calloc(st.nslots, sizeof *st.slots);
    for (unsigned j = 0; st.slots && j < st.nslots; j++)
        if (!(st.slots[j].phys = calloc(st.npages, sizeof(uint64_t))))
            break;
    if (!st.slots || !st.slots[st.nslots - 1].phys) {
        ims_gen_fail(g, ENOMEM, "out of memory");
        goto out;
    }
    setup(&st);
    ims_gen_set_emitter(g, emit, &st);
    uint64_t media = ims_gen_v(g, MEDIA_TIME), drv = ims_gen_v(g, DRIVER_DELAY);
    /* Transfer time at the media bandwidth, in ps. */
    uint64_t xfer = (uint64_t)((double)st.bs * 1e12 / (double)ims_gen_v(g, MEDIA_BW) + 0.5), media_free = 0;
    for (uint64_t i = 0, n = ims_gen_v(g, IOS); i < n && !g->rc; i++) {
        uint64_t t = ims_gen_op_begin(g, i);
        bool rd = ims_gen_chance(g, ims_gen_v(g, READ_PCT));
        if (!g->open) {
            submit(&st, &st.slots[0], i, rd);
            ims_gen_gap(g, media);
            data(&st, &st.slots[0]);
            completion(&st, &st.slots[0]);
            ims_gen_gap(g, drv);
            unmap(&st, &st.slots[0]);
            continue;
        }
        unsigned j = 0; /* the slot free first takes the I/O */
        for (unsigned k = 1; k < st.nslots; k++)
            if (st.slots[k].free_at < st.slots[j].free_at)
                j = k;
        uint64_t s = t > st.slots[j].free_at ? t : st.slots[j].free_at;
        ims_gen_run_until(g, s);
        submit(&st, &st.slots[j], i, rd);
        /* The media moves one I/O's data at a time, at --media-bw. */
        uint64_t td = s + media > media_free ? s + media : media_free;
        media_free = td + xfer;
        ims_gen_ev_push(g, td, EV_DATA, j, 0, 0, 0);
        ims_gen_ev_push(g, td + xfer, EV_CQE, j, 0, 0, 0);
        ims_gen_ev_push(g, td + xfer + drv, EV_UNMAP, j, 0, 0, 0);
        st.slots[j].free_at = td + xfer + drv + 1; /* after its unmap */
    }
    ims_gen_finish(g);
out:
    for (unsigned j = 0; st.slots && j < st.nslots; j++)
        free(st.slots[j].phys);
    free(st.slots);
    ims_gen_pool_destroy(&st.phys_pool);
    ims_gen_pool_destroy(&st.iova_pool);
    return g->rc;
}

const ims_gen_family ims_gen_storage = {
    .name = "storage",
    .summary = "NVMe-like queues with per-I/O mapping of PRP-style data buffers",
    .details =
        "Submission and completion queues (and PRP-list pages for I/Os over 8K) are mapped once.\n"
        "Per I/O: map the data pages, fetch the command (and PRP list), transfer the data after\n"
        "--media-time, post the completion, unmap after --driver-delay: 3 DMAs (4 with a PRP list),\n"
        "one unmap. Open loop: I/Os arrive at @T and wait for one of --qd slots (busy until the\n"
        "unmap); the media transfers one I/O at a time at --media-bw.\n",
    .opts = opts,
    .nopts = NOPTS,
    .check = check,
    .generate = generate,
};
