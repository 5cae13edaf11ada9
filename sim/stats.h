/* Statistics registry: counters, latency histograms and derived ratios, grouped
 * by key prefix (the model: "iotlb.", "walk.", "qi.") and by phase.
 *
 * Every statistic accumulates into the current phase. ims_stats_mark() closes
 * the current phase and opens a new named one; totals are the sum (counters)
 * or merge (histograms) over all phases, so per-phase and total figures always
 * agree. Activity before the first mark belongs to an implicit phase that is
 * reported under "phase.<IMS_STATS_FIRST_PHASE>." only when named phases exist
 * and it saw activity.
 *
 * Output: one flat JSON object whose keys are the dotted names of the spec
 * ("dma.latency_ns.p99", "phase.warm.iotlb.hits"), sorted, and a readable table. */
#ifndef IMS_SIM_STATS_H
#define IMS_SIM_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/histogram.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMS_STATS_FIRST_PHASE "start"

typedef struct ims_stats ims_stats;

/* A counter handle: models keep the pointer and increment *c directly on hot
 * paths (ims_counter_add). The pointer stays valid for the registry's life. */
typedef struct ims_counter {
    uint64_t value; /* current phase */
} ims_counter;

static inline void ims_counter_add(ims_counter *c, uint64_t n) { c->value += n; }
static inline void ims_counter_inc(ims_counter *c) { c->value++; }

/* A latency statistic. Samples are recorded in cycles; the output converts to
 * ns with the registry's clock and writes NAME.mean, .p50, .p90, .p99, .max,
 * .min and .count (NAME is e.g. "dma.latency_ns"). The fields are internal
 * (visible so that recording inlines): a sample goes into the current phase
 * only; a mark merges it into `closed`, and totals combine the two. */
typedef struct ims_latency {
    ims_hist cur;    /* current phase */
    ims_hist closed; /* every closed phase, merged */
} ims_latency;

/* clock_hz converts latency samples (cycles) to ns on output. Returns NULL with
 * errno EINVAL when clock_hz is 0, or with errno ENOMEM. */
ims_stats *ims_stats_create(uint64_t clock_hz);
void ims_stats_destroy(ims_stats *s);

/* Register (or look up, if already registered) a statistic. Names are dotted
 * lowercase keys. Registering the same name as another kind is a programming
 * error (assert). Returns NULL only on ENOMEM. */
ims_counter *ims_stats_counter(ims_stats *s, const char *name, const char *help);
ims_latency *ims_stats_latency(ims_stats *s, const char *name, const char *help);
/* A derived value numerator/denominator written as NAME (0 when the denominator
 * is 0); both must be counters. */
int ims_stats_ratio(ims_stats *s, const char *name, const char *numerator, const char *denominator);

static inline void ims_latency_record(ims_latency *l, uint64_t cycles) { ims_hist_add(&l->cur, cycles); }

/* Host-side values (timing, record counts) set directly: written as given. */
void ims_stats_set_u64(ims_stats *s, const char *name, uint64_t v);
void ims_stats_set_double(ims_stats *s, const char *name, double v);

/* Close the current phase and start phase `name` (copied). Returns 0; -EINVAL
 * for a name that is empty, already used, IMS_STATS_FIRST_PHASE ("start"), or
 * contains '.', whitespace or control characters (it becomes one key
 * component); -ENOMEM. */
int ims_stats_mark(ims_stats *s, const char *name);

/* Totals over all phases so far (for tests and models). */
uint64_t ims_stats_counter_total(const ims_stats *s, const char *name);
double ims_stats_latency_percentile_ns(const ims_stats *s, const char *name, double p);
uint64_t ims_stats_latency_count(const ims_stats *s, const char *name);

/* Write everything as one JSON object (cJSON, keys sorted, 2-space indent).
 * Returns 0 or a negative errno. */
int ims_stats_write_json(const ims_stats *s, FILE *out);
/* The same object as a malloc'ed string (caller frees). Returns NULL with errno
 * ENOMEM, or EINVAL when two statistics produce the same output key (as
 * ims_stats_write_json returns -EINVAL). */
char *ims_stats_json_string(const ims_stats *s);
/* A readable summary table of the totals (and a line per phase). */
void ims_stats_write_table(const ims_stats *s, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
