/* Workload family `nic`: network receive/transmit rings.
 *
 * Each queue has descriptor rings (mapped once, read and written back by the
 * device) and packet buffers. Buffers follow one of two policies:
 *   map-per-packet: a buffer is mapped before the device uses it and unmapped
 *     after the driver is done with it (rx: the driver unmaps the filled
 *     buffer and maps a fresh one into the slot; tx: map, send, unmap on
 *     completion) -- the strict Linux DMA-API pattern, one invalidation per
 *     packet;
 *   pool: a recycled pool of buffers mapped once at setup (page_pool style).
 * Per packet the device reads the slot's descriptor, moves the data, and
 * writes the descriptor back: 3 DMAs. */
#include <stdio.h>
#include <stdlib.h>

#include "traces/gen/gen.h"

enum { DIR, POLICY, PACKETS, PKT_SIZE, RING, DESC_SIZE, QUEUES, DEVICES, FLOWS, POOL, DRIVER_DELAY, NOPTS };
enum { DIR_RX, DIR_TX, DIR_BOTH };
enum { POL_MAP, POL_POOL };
enum { EV_RX_DRIVER, EV_TX_DEVICE, EV_TX_DRIVER };

#define RING_SPACING 0x200000ull /* ring IOVAs per queue: rx at +0, tx at +1M */
#define BUF_SPACING (1ull << 30) /* buffer IOVAs per queue and direction */
#define SID_BASE 0x0100u

static const ims_gen_opt opts[NOPTS] = {
    [DIR] = {"dir", IMS_GEN_OPT_ENUM, "rx", "rx|tx|both", 0, 0,
             "receive, transmit, or both (packets alternate rx, tx on the same queue)"},
    [POLICY] = {"policy", IMS_GEN_OPT_ENUM, "map-per-packet", "map-per-packet|pool", 0, 0,
                "buffers mapped and unmapped per packet (strict DMA API), or a pool mapped once"},
    [PACKETS] = {"packets", IMS_GEN_OPT_UINT, "1000", NULL, 1, 1000000000, "packets (operations)"},
    [PKT_SIZE] = {"pkt-size", IMS_GEN_OPT_SIZE, "1500", NULL, 1, 64 << 10,
                  "bytes per packet; a buffer is the packet rounded up to 4K"},
    [RING] = {"ring", IMS_GEN_OPT_UINT, "256", NULL, 1, 4096, "descriptors per ring"},
    [DESC_SIZE] = {"desc-size", IMS_GEN_OPT_SIZE, "16", NULL, 4, 256, "bytes per descriptor"},
    [QUEUES] = {"queues", IMS_GEN_OPT_UINT, "1", NULL, 1, 64, "queues (an rx and/or a tx ring each)"},
    [DEVICES] = {"devices", IMS_GEN_OPT_UINT, "1", NULL, 1, 64,
                 "devices sharing the queues (queue q on device q mod devices), each its own domain"},
    [FLOWS] = {"flows", IMS_GEN_OPT_UINT, "0", NULL, 0, 1 << 20,
               "0: packets visit the queues in turn; N: each packet is in one of N flows at random, "
               "flow f on queue f mod queues (RSS)"},
    [POOL] = {"pool", IMS_GEN_OPT_UINT, "0", NULL, 0, 65536,
              "policy pool: buffers per ring, used in turn; 0 = twice the ring"},
    [DRIVER_DELAY] = {"driver-delay", IMS_GEN_OPT_TIME, "5us", NULL, 1, 1000000000000ull,
                      "open loop: from the device's to the driver's part of a packet (rx: DMAs, then "
                      "unmap and refill; tx: map, then DMAs, then unmap)"},
};

typedef struct ring {
    uint64_t iova, phys;
    uint64_t accepted;
    uint64_t *ready;               /* open loop: when each slot is free again */
    uint64_t *buf_iova, *buf_phys; /* rx map-per-packet: each slot's buffer; pool: the pool */
    ims_gen_pool phys_pool, iova_pool;
} ring;

typedef struct nic {
    ims_gen *g;
    unsigned nq, ndev;
    uint64_t ring_n, desc, buf, pkt, nbufs, delay;
    bool pool;
    ims_gen_space *spaces;
    unsigned *qdev;
    ring *rings; /* [2 * q + dir] */
} nic;

static uint64_t pool_size(const ims_gen_params *p)
{
    return p->v[POOL] ? p->v[POOL] : 2 * p->v[RING];
}

static int check(const ims_gen_params *p, ims_error *err)
{
    if (p->v[DEVICES] > p->v[QUEUES])
        return ims_errorf(err, EINVAL, "--devices %llu is more than --queues %llu (a device needs a queue)",
                          (unsigned long long)p->v[DEVICES], (unsigned long long)p->v[QUEUES]);
    if (p->v[POLICY] == POL_POOL && pool_size(p) < p->v[RING])
        return ims_errorf(err, EINVAL, "--pool %llu is smaller than --ring %llu (the pool must fill the ring)",
                          (unsigned long long)p->v[POOL], (unsigned long long)p->v[RING]);
    if (p->common[IMS_GEN_WARMUP] >= p->v[PACKETS])
        return ims_errorf(err, EINVAL, "--warmup must be less than --packets");
    return 0;
}

static bool has_dir(const nic *n, unsigned dir)
{
    unsigned d = (unsigned)ims_gen_v(n->g, DIR);
    return d == DIR_BOTH || d == dir;
}

static uint64_t ring_bytes(const nic *n)
{
    return ims_gen_round_up(n->ring_n * n->desc, IMS_GEN_PAGE);
}

/* Physical chunks behind one ring's buffers: random pages out of 2-4x more. */
static uint64_t phys_chunks(const nic *n)
{
    return n->pool ? 2 * n->nbufs : 4 * n->ring_n;
}

static void ring_setup(nic *n, unsigned q, unsigned dir)
{
    ims_gen *g = n->g;
    ring *r = &n->rings[2 * q + dir];
    const ims_gen_space *s = &n->spaces[n->qdev[q]];
    unsigned lq = q / n->ndev; /* the queue's index on its device */
    r->iova = IMS_GEN_IOVA_RINGS + lq * RING_SPACING + dir * (RING_SPACING / 2);
    r->phys = ims_gen_phys_alloc(g, ring_bytes(n), IMS_GEN_PAGE);
    ims_gen_map(g, s, r->iova, r->phys, ring_bytes(n), IMS_TRACE_PROT_RW);
    uint64_t pbase = ims_gen_phys_alloc(g, phys_chunks(n) * n->buf, IMS_GEN_PAGE);
    ims_gen_pool_init(g, &r->phys_pool, pbase, n->buf, phys_chunks(n), true);
    ims_gen_pool_init(g, &r->iova_pool, IMS_GEN_IOVA_DATA + (2 * lq + dir) * BUF_SPACING, n->buf,
                      BUF_SPACING / n->buf, false);
    size_t nb = n->pool ? n->nbufs : n->ring_n;
    r->ready = calloc(n->ring_n, sizeof *r->ready);
    r->buf_iova = calloc(nb, sizeof *r->buf_iova);
    r->buf_phys = calloc(nb, sizeof *r->buf_phys);
    if (!r->ready || !r->buf_iova || !r->buf_phys) {
        ims_gen_fail(g, ENOMEM, "out of memory");
        return;
    }
    /* Pool: every buffer mapped now. map-per-packet: rx posts a mapped buffer in every slot. */
    if (!n->pool && dir == DIR_TX)
        return;
    for (size_t b = 0; b < nb && !g->rc; b++) {
        r->buf_phys[b] = ims_gen_pool_get(g, &r->phys_pool);
        r->buf_iova[b] = ims_gen_pool_get(g, &r->iova_pool);
        ims_gen_map(g, s, r->buf_iova[b], r->buf_phys[b], n->buf, dir == DIR_RX ? IMS_TRACE_PROT_W : IMS_TRACE_PROT_R);
    }
}

static void ring_free(ring *r)
{
    free(r->ready);
    free(r->buf_iova);
    free(r->buf_phys);
    ims_gen_pool_destroy(&r->phys_pool);
    ims_gen_pool_destroy(&r->iova_pool);
}

/* The device's part: read the descriptor, move the data, write the descriptor back. */
static void device_part(nic *n, unsigned q, unsigned dir, uint64_t slot, uint64_t iova, uint64_t phys)
{
    ring *r = &n->rings[2 * q + dir];
    const ims_gen_space *s = &n->spaces[n->qdev[q]];
    uint64_t d = slot * n->desc;
    ims_gen_dma(n->g, s, r->iova + d, n->desc, false, r->phys + d);
    ims_gen_dma(n->g, s, iova, n->pkt, dir == DIR_RX, phys);
    ims_gen_dma(n->g, s, r->iova + d, n->desc, true, r->phys + d);
}

/* rx driver: unmap the filled buffer, map a fresh one into the slot. */
static void rx_driver(nic *n, unsigned q, uint64_t slot)
{
    ring *r = &n->rings[2 * q + DIR_RX];
    const ims_gen_space *s = &n->spaces[n->qdev[q]];
    ims_gen_unmap(n->g, s, r->buf_iova[slot], n->buf);
    ims_gen_pool_put(n->g, &r->iova_pool, r->buf_iova[slot]);
    ims_gen_pool_put(n->g, &r->phys_pool, r->buf_phys[slot]);
    r->buf_phys[slot] = ims_gen_pool_get(n->g, &r->phys_pool);
    r->buf_iova[slot] = ims_gen_pool_get(n->g, &r->iova_pool);
    ims_gen_map(n->g, s, r->buf_iova[slot], r->buf_phys[slot], n->buf, IMS_TRACE_PROT_W);
}

static void tx_driver(nic *n, unsigned q, uint64_t iova, uint64_t phys)
{
    ring *r = &n->rings[2 * q + DIR_TX];
    ims_gen_unmap(n->g, &n->spaces[n->qdev[q]], iova, n->buf);
    ims_gen_pool_put(n->g, &r->iova_pool, iova);
    ims_gen_pool_put(n->g, &r->phys_pool, phys);
}

static void emit(ims_gen *g, const ims_gen_ev *ev, void *ctx)
{
    nic *n = ctx;
    (void)g;
    if (ev->kind == EV_RX_DRIVER)
        rx_driver(n, ev->q, ev->a);
    else if (ev->kind == EV_TX_DEVICE)
        device_part(n, ev->q, DIR_TX, ev->a, ev->b, ev->c);
    else
        tx_driver(n, ev->q, ev->b, ev->c);
}

/* One packet on queue q arriving at t (open loop) or now (closed loop). */
static void packet(nic *n, unsigned q, unsigned dir, uint64_t t)
{
    ims_gen *g = n->g;
    ring *r = &n->rings[2 * q + dir];
    uint64_t slot = r->accepted % n->ring_n;
    if (g->open && r->ready[slot] > t) { /* the driver has not given the slot back: dropped */
        g->dropped++;
        return;
    }
    uint64_t k = r->accepted++, iova, phys;
    if (n->pool) {
        iova = r->buf_iova[k % n->nbufs];
        phys = r->buf_phys[k % n->nbufs];
        device_part(n, q, dir, slot, iova, phys);
        r->ready[slot] = t + n->delay;
        return;
    }
    if (dir == DIR_RX) {
        device_part(n, q, dir, slot, r->buf_iova[slot], r->buf_phys[slot]);
        if (g->open)
            ims_gen_ev_push(g, t + n->delay, EV_RX_DRIVER, q, slot, 0, 0);
        else
            rx_driver(n, q, slot);
        r->ready[slot] = t + n->delay;
        return;
    }
    phys = ims_gen_pool_get(g, &r->phys_pool);
    iova = ims_gen_pool_get(g, &r->iova_pool);
    ims_gen_map(g, &n->spaces[n->qdev[q]], iova, phys, n->buf, IMS_TRACE_PROT_R);
    if (g->open) {
        ims_gen_ev_push(g, t + n->delay, EV_TX_DEVICE, q, slot, iova, phys);
        ims_gen_ev_push(g, t + 2 * n->delay, EV_TX_DRIVER, q, slot, iova, phys);
    } else {
        device_part(n, q, dir, slot, iova, phys);
        tx_driver(n, q, iova, phys);
    }
    r->ready[slot] = t + 2 * n->delay;
}

static int generate(ims_gen *g)
{
    nic n = {.g = g};
    n.nq = (unsigned)ims_gen_v(g, QUEUES);
    n.ndev = (unsigned)ims_gen_v(g, DEVICES);
    n.ring_n = ims_gen_v(g, RING);
    n.desc = ims_gen_v(g, DESC_SIZE);
    n.pkt = ims_gen_v(g, PKT_SIZE);
    n.buf = ims_gen_round_up(n.pkt, IMS_GEN_PAGE);
    n.pool = ims_gen_v(g, POLICY) == POL_POOL;
    n.nbufs = pool_size(g->p);
    n.delay = ims_gen_v(g, DRIVER_DELAY);
    n.spaces = calloc(n.ndev, sizeof *n.spaces);
    n.qdev = calloc(n.nq, sizeof *n.qdev);
    n.rings = calloc(2 * (size_t)n.nq, sizeof *n.rings);
    if (!n.spaces || !n.qdev || !n.rings) {
        ims_gen_fail(g, ENOMEM, "out of memory");
        goto out;
    }
    unsigned ndirs = ims_gen_v(g, DIR) == DIR_BOTH ? 2 : 1;
    ims_gen_phys_reserve(g, n.nq * ndirs * (ring_bytes(&n) + phys_chunks(&n) * n.buf + 2 * IMS_GEN_PAGE));
    ims_gen_topology(g);
    char name[IMS_TRACE_NAME_MAX + 1], ioas[IMS_TRACE_NAME_MAX + 1];
    for (unsigned d = 0; d < n.ndev; d++) {
        snprintf(name, sizeof name, "nic%u", d);
        ims_gen_device(g, SID_BASE + d, name, 0);
    }
    for (unsigned d = 0; d < n.ndev; d++) {
        snprintf(name, sizeof name, "nic%u", d);
        snprintf(ioas, sizeof ioas, "ioas%u", d);
        ims_gen_space_dev(g, &n.spaces[d], name, ioas);
    }
    for (unsigned q = 0; q < n.nq; q++) {
        n.qdev[q] = q % n.ndev;
        for (unsigned dir = DIR_RX; dir <= DIR_TX; dir++)
            if (has_dir(&n, dir))
                ring_setup(&n, q, dir);
    }
    ims_gen_set_emitter(g, emit, &n);
    uint64_t packets = ims_gen_v(g, PACKETS), flows = ims_gen_v(g, FLOWS);
    bool both = ims_gen_v(g, DIR) == DIR_BOTH;
    for (uint64_t i = 0; i < packets && !g->rc; i++) {
        uint64_t t = ims_gen_op_begin(g, i);
        unsigned dir = both ? (unsigned)(i & 1) : (unsigned)ims_gen_v(g, DIR);
        uint64_t flow = flows ? ims_rng_below(&g->rng, flows) : (both ? i / 2 : i);
        packet(&n, (unsigned)(flow % n.nq), dir, t);
    }
    ims_gen_finish(g);
out:
    for (unsigned i = 0; n.rings && i < 2 * n.nq; i++)
        ring_free(&n.rings[i]);
    free(n.rings);
    free(n.qdev);
    free(n.spaces);
    return g->rc;
}

const ims_gen_family ims_gen_nic = {
    .name = "nic",
    .summary = "NIC receive/transmit rings with per-packet or pooled buffer mappings",
    .details =
        "Each queue has descriptor rings (mapped once) and packet buffers. Per packet the device\n"
        "reads the slot's descriptor, moves the data (rx: write, tx: read) and writes the\n"
        "descriptor back: 3 DMAs. map-per-packet maps every buffer before the device uses it and\n"
        "unmaps it afterwards (one strict invalidation per packet); pool maps a recycled pool once.\n"
        "Open loop (--interval): packets arrive at @T; the driver's part follows --driver-delay\n"
        "later; a packet whose ring slot the driver has not yet given back is dropped.\n",
    .opts = opts,
    .nopts = NOPTS,
    .check = check,
    .generate = generate,
};
