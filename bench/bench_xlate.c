/* Translation-pipeline throughput: translations per host second on one core.
 *
 *   hit     scalable-mode SS domain, 4 KiB pages, a working set of 32 pages that
 *           fits the default IOTLB: (nearly) every request is an IOTLB hit.
 *   nested  4-level FS over 4-level SS, 1 GiB of guest memory mapped with 4 KiB
 *           pages at both stages, requests uniformly random over it, default
 *           (small) caches: nearly every request walks.
 *
 * A closed loop keeps `outstanding` requests in flight: each completion submits
 * the next request. Table building is not timed. Simulated time is whatever the
 * pipeline charges; the figure of merit is host time per translation, reported
 * as wall-clock and as process CPU time (the fairer one when other jobs share
 * the cores).
 *
 * usage: bench_xlate [hit|nested|all] [translations] [outstanding] [seed]
 * BENCH_XLATE_STATS=1 in the environment prints every statistic after a run. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "models/mem/mem_timing.h"
#include "models/mem/pa_alloc.h"
#include "models/mem/physmem.h"
#include "models/vtd/cache_config.h"
#include "models/vtd/ctx_builder.h"
#include "models/vtd/entries.h"
#include "models/vtd/pt_builder.h"
#include "models/vtd/regfile.h"
#include "models/vtd/regs.h"
#include "models/vtd/vtd_config.h"
#include "models/vtd/xlate.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "sim/rng.h"
#include "sim/stats.h"

#define SID 0x0100
#define DID 1
#define HOST_TABLES 0x10000000ULL
#define GUEST_BASE (1ULL << 40)        /* HPA of GPA 0 */
#define GUEST_TABLES (1ULL << 30)      /* GPA of the guest's FS tables: just above its data */
#define SPAN (1ULL << 30)              /* 1 GiB translated */
#define HIT_PAGES 32

typedef struct bench {
    ims_config *cfg;
    ims_engine *e;
    ims_stats *stats;
    ims_rng rng;
    uint64_t req_state;  /* request address generator (xorshift64*) */
    ims_physmem *mem;
    ims_pa_alloc host, guest;
    ims_vtd_regfile *regs;
    ims_vtd_caches caches;
    ims_mem_timing mt;
    ims_xlate *x;
    ims_vtd_ctx_builder cb;
    ims_xlate_req *reqs;
    uint64_t remaining;  /* requests still to submit */
    uint64_t span_pages; /* addresses drawn from [0, span_pages) pages */
    uint64_t checksum;
} bench;

static void die(const char *what, const ims_error *err)
{
    fprintf(stderr, "bench_xlate: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

/* Uniform page in [0, span_pages) (a power of two) and 8-byte offset, from
 * one xorshift64* draw: the harness should cost little next to a translation. */
static void next_req(bench *b, ims_xlate_req *r)
{
    uint64_t s = b->req_state;
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    b->req_state = s;
    uint64_t v = s * UINT64_C(0x2545F4914F6CDD1D);
    r->req.addr = ((v >> 20) & (b->span_pages - 1)) << 12 | ((v & 0x1ff) << 3);
    ims_xlate_submit(b->x, r);
}

static void on_done(ims_xlate_req *r)
{
    bench *b = r->user;
    b->checksum += r->res.pa;
    if (b->remaining) {
        b->remaining--;
        next_req(b, r);
    }
}

static void gcmd(bench *b, uint32_t bit)
{
    uint64_t gsts = 0;
    ims_vtd_mmio_read(b->regs, IMS_VTD_REG_GSTS, 4, &gsts);
    ims_vtd_mmio_write(b->regs, IMS_VTD_REG_GCMD, 4, ((uint32_t)gsts & 0x96800000u) | bit);
}

static void setup(bench *b, bool nested, uint64_t seed)
{
    ims_error err = {0};
    const ims_cfg_key *tables[] = {ims_sim_cfg_keys, ims_vtd_cfg_keys, ims_vtd_cache_cfg_keys, ims_mem_cfg_keys,
                                   ims_xlate_cfg_keys};
    b->cfg = ims_config_create(tables, sizeof tables / sizeof tables[0], &err);
    if (!b->cfg)
        die("config", &err);
    uint64_t hz = ims_config_u64(b->cfg, "sim.clock_mhz") * 1000000ULL;
    b->e = ims_engine_create(hz);
    b->stats = ims_stats_create(hz);
    b->mem = ims_physmem_create();
    if (!b->e || !b->stats || !b->mem)
        die("out of memory", NULL);
    ims_rng_seed(&b->rng, seed);
    b->req_state = seed * UINT64_C(0x9E3779B97F4A7C15) | 1;
    ims_pa_alloc_init(&b->host, b->mem, HOST_TABLES, HOST_TABLES + (1ULL << 30));
    ims_pa_alloc_init(&b->guest, b->mem, GUEST_BASE + GUEST_TABLES, GUEST_BASE + GUEST_TABLES + (64ULL << 20));
    if (ims_vtd_regfile_create_cfg(b->cfg, NULL, &b->regs, &err) ||
        ims_ctxc_create_cfg(b->cfg, &b->rng, b->stats, &b->caches.ctxc, &err) ||
        ims_pasidc_create_cfg(b->cfg, &b->rng, b->stats, &b->caches.pasidc, &err) ||
        ims_iotlb_create_cfg(b->cfg, &b->rng, b->stats, &b->caches.iotlb, &err) ||
        ims_psc_create_cfg(b->cfg, &b->rng, b->stats, &b->caches.psc, &err))
        die("caches", &err);
    b->caches.cache_nested_ss = ims_vtd_cache_nested_ss(b->cfg);
    ims_mem_timing_init(&b->mt, b->cfg, b->e, &b->rng, b->stats);

    /* Tables: a scalable-mode device whose RID_PASID entry is SS-only (hit) or nested. */
    if (ims_vtd_ctxb_init(&b->cb, &b->host, true, &err))
        die("root table", &err);
    ims_vtd_sm_ctx_cfg cc = {.pdts = 1, .paside = true};
    if (ims_vtd_ctxb_set_sm_ctx(&b->cb, SID, &cc, &err))
        die("context", &err);
    ims_pt_builder ss, fs;
    ims_vtd_pasid_cfg pc = {.did = DID, .aw = 2};
    if (ims_pt_builder_init(&ss, b->mem, &b->host, IMS_PT_FORMAT_SS, 4, 0, &err))
        die("SS table", &err);
    pc.ssptptr = ss.root;
    if (!nested) {
        pc.pgtt = IMS_VTD_PGTT_SS;
        if (ims_pt_map(&ss, 0, 1ULL << 34, HIT_PAGES * 4096ULL, 4096, IMS_PT_RW | IMS_PT_AD, &err))
            die("map", &err);
        b->span_pages = HIT_PAGES;
    } else {
        pc.pgtt = IMS_VTD_PGTT_NESTED;
        /* Guest RAM: data GPA [0, 1 GiB) plus its FS tables above, 4 KiB SS pages. */
        if (ims_pt_map(&ss, 0, GUEST_BASE, SPAN + (64ULL << 20), 4096, IMS_PT_RW | IMS_PT_AD, &err) ||
            ims_pt_builder_init(&fs, b->mem, &b->guest, IMS_PT_FORMAT_FS, 4, GUEST_BASE, &err) ||
            ims_pt_map(&fs, 0, 0, SPAN, 4096, IMS_PT_RW | IMS_PT_U | IMS_PT_AD, &err))
            die("nested tables", &err);
        pc.fspm = IMS_VTD_FSPM_4LEVEL;
        pc.fsptptr = fs.root;
        b->span_pages = SPAN >> 12;
    }
    if (ims_vtd_ctxb_set_pasid(&b->cb, SID, 0, &pc, &err))
        die("PASID entry", &err);
    ims_vtd_mmio_write(b->regs, IMS_VTD_REG_RTADDR, 8, ims_vtd_ctxb_rtaddr(&b->cb));
    gcmd(b, 1u << 30); /* SRTP */
    gcmd(b, 1u << 31); /* TE */

    ims_xlate_params p = {.engine = b->e, .mem = b->mem, .mem_timing = &b->mt, .regs = b->regs,
                          .caches = &b->caches, .cfg = b->cfg, .stats = b->stats};
    if (ims_xlate_create(&p, &b->x, &err))
        die("xlate", &err);
}

static void teardown(bench *b)
{
    free(b->reqs);
    ims_xlate_destroy(b->x);
    ims_psc_destroy(b->caches.psc);
    ims_iotlb_destroy(b->caches.iotlb);
    ims_pasidc_destroy(b->caches.pasidc);
    ims_ctxc_destroy(b->caches.ctxc);
    ims_vtd_regfile_destroy(b->regs);
    ims_physmem_destroy(b->mem);
    ims_stats_destroy(b->stats);
    ims_engine_destroy(b->e);
    ims_config_destroy(b->cfg);
}

static double clock_seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int run(const char *mode, uint64_t n, uint64_t outstanding, uint64_t seed)
{
    bench b;
    memset(&b, 0, sizeof b);
    bool nested = strcmp(mode, "nested") == 0;
    double t_setup = clock_seconds(CLOCK_MONOTONIC);
    setup(&b, nested, seed);
    t_setup = clock_seconds(CLOCK_MONOTONIC) - t_setup;

    b.reqs = calloc(outstanding, sizeof *b.reqs);
    if (!b.reqs)
        die("out of memory", NULL);
    b.remaining = n > outstanding ? n - outstanding : 0;
    double t0 = clock_seconds(CLOCK_MONOTONIC), c0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
    uint64_t first = n < outstanding ? n : outstanding;
    for (uint64_t i = 0; i < first; i++) {
        ims_xlate_req *r = &b.reqs[i];
        r->req.sid = SID;
        r->req.read = true;
        r->done = on_done;
        r->user = &b;
        next_req(&b, r);
    }
    ims_engine_run(b.e, IMS_CYCLE_MAX);
    double dt = clock_seconds(CLOCK_MONOTONIC) - t0;
    double dc = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;

    uint64_t done = ims_stats_counter_total(b.stats, "xlate.count");
    uint64_t walks = ims_stats_counter_total(b.stats, "walk.count");
    uint64_t reads = ims_stats_counter_total(b.stats, "walk.mem_reads");
    uint64_t hits = ims_stats_counter_total(b.stats, "xlate.iotlb_hits");
    uint64_t faults = ims_stats_counter_total(b.stats, "xlate.faults");
    printf("%-6s translations %" PRIu64 "  outstanding %" PRIu64 "  wall %.3f s  cpu %.3f s (setup %.2f s)  "
           "M translations/s: %.2f wall, %.2f cpu\n",
           mode, done, outstanding, dt, dc, t_setup, (double)done / dt / 1e6, (double)done / dc / 1e6);
    printf("       iotlb hits %.1f %%  walks %" PRIu64 "  reads/walk %.2f  faults %" PRIu64
           "  engine events %" PRIu64 "  sim time %.3f ms  checksum %" PRIx64 "\n",
           100.0 * (double)hits / (double)(done ? done : 1), walks, walks ? (double)reads / (double)walks : 0.0,
           faults, ims_engine_events_run(b.e), ims_engine_cycles_to_ns(b.e, ims_engine_now(b.e)) * 1e-6,
           b.checksum);
    if (getenv("BENCH_XLATE_STATS"))
        ims_stats_write_table(b.stats, stdout);
    int rc = done == n && faults == 0 ? 0 : 1;
    if (rc)
        fprintf(stderr, "bench_xlate: expected %" PRIu64 " fault-free translations\n", n);
    teardown(&b);
    return rc;
}

static int parse_u64(const char *s, const char *what, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || end == s || v == 0) {
        fprintf(stderr, "bench_xlate: bad %s '%s' (want a positive integer)\n", what, s);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "all";
    uint64_t n = 0, outstanding = 16, seed = 1;
    if (argc > 5 || (strcmp(mode, "hit") && strcmp(mode, "nested") && strcmp(mode, "all")) ||
        (argc > 2 && parse_u64(argv[2], "translations", &n)) ||
        (argc > 3 && parse_u64(argv[3], "outstanding", &outstanding)) ||
        (argc > 4 && parse_u64(argv[4], "seed", &seed))) {
        fprintf(stderr, "usage: %s [hit|nested|all] [translations] [outstanding] [seed]\n", argv[0]);
        return 2;
    }
    int rc = 0;
    if (strcmp(mode, "nested"))
        rc |= run("hit", n ? n : 20000000, outstanding, seed);
    if (strcmp(mode, "hit"))
        rc |= run("nested", n ? n : 2000000, outstanding, seed);
    return rc;
}
