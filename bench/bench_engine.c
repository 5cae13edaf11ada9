/* Event engine throughput in steady state.
 *
 * `pending` events are seeded; every event schedules exactly one successor at
 * now + a random delay in [1, max_delay], so the queue size stays constant.
 * The run stops after `events` events. The measured time covers scheduling,
 * dispatching and the callback's random-number draw.
 *
 * usage: bench_engine [events] [pending] [max_delay] [seed] */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sim/engine.h"
#include "sim/rng.h"

typedef struct bench_ctx {
    ims_engine *e;
    ims_rng rng;
    uint64_t max_delay;
    uint64_t remaining; /* events still to run, including this one */
    uint64_t checksum;  /* keeps the work observable */
} bench_ctx;

/* Uniform in [1, max_delay] by multiply-shift on the top 32 random bits: no
 * division on the measured path (bias below max_delay / 2^32, irrelevant here). */
static inline uint64_t bench_delay(bench_ctx *b)
{
    return 1 + (((ims_rng_next(&b->rng) >> 32) * b->max_delay) >> 32);
}

static void bench_event(void *ctx, uint64_t arg)
{
    bench_ctx *b = ctx;
    b->checksum += arg ^ ims_engine_now(b->e);
    if (--b->remaining == 0) {
        ims_engine_stop(b->e);
        return;
    }
    ims_cycle delay = bench_delay(b);
    if (!ims_engine_schedule(b->e, delay, bench_event, b, arg + 1)) {
        fputs("bench_engine: out of memory\n", stderr);
        exit(1);
    }
}

static int parse_u64(const char *s, const char *what, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || end == s || v == 0) {
        fprintf(stderr, "bench_engine: bad %s '%s' (want a positive integer)\n", what, s);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

static double clock_seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    uint64_t events = 50000000, pending = 1000, max_delay = 1000, seed = 1;
    if (argc > 5 || (argc > 1 && parse_u64(argv[1], "events", &events)) ||
        (argc > 2 && parse_u64(argv[2], "pending", &pending)) ||
        (argc > 3 && parse_u64(argv[3], "max_delay", &max_delay)) || max_delay > UINT32_MAX ||
        (argc > 4 && parse_u64(argv[4], "seed", &seed))) {
        fprintf(stderr, "usage: %s [events] [pending] [max_delay] [seed]\n", argv[0]);
        return 2;
    }

    bench_ctx b = { .max_delay = max_delay, .remaining = events };
    b.e = ims_engine_create(1000000000);
    if (!b.e) {
        fputs("bench_engine: out of memory\n", stderr);
        return 1;
    }
    ims_rng_seed(&b.rng, seed);
    for (uint64_t i = 0; i < pending; i++) {
        if (!ims_engine_schedule(b.e, bench_delay(&b), bench_event, &b, i << 32)) {
            fputs("bench_engine: out of memory\n", stderr);
            return 1;
        }
    }

    /* Wall time and this process's CPU time: on a shared machine the CPU time
     * excludes periods when another process had the core. */
    double w0 = clock_seconds(CLOCK_MONOTONIC), c0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
    uint64_t ran = ims_engine_run(b.e, IMS_CYCLE_MAX);
    double wall = clock_seconds(CLOCK_MONOTONIC) - w0, cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;

    printf("bench_engine: events=%" PRIu64 " pending=%" PRIu64 " max_delay=%" PRIu64 " seed=%" PRIu64 "\n",
           events, pending, max_delay, seed);
    printf("ran %" PRIu64 " events, final cycle %" PRIu64 ", checksum %016" PRIx64 "\n", ran, ims_engine_now(b.e),
           b.checksum);
    printf("wall: %.3f s, %.2f million events/s, %.1f ns/event\n", wall, (double)ran / wall / 1e6,
           wall * 1e9 / (double)ran);
    printf("cpu:  %.3f s, %.2f million events/s, %.1f ns/event\n", cpu, (double)ran / cpu / 1e6,
           cpu * 1e9 / (double)ran);
    ims_engine_destroy(b.e);
    return ran == events ? 0 : 1;
}
