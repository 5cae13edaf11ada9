/* The work behind `iommusim trace`: statistics over trace records, and the
 * streaming conversion, listing and validation of whole traces.
 *
 * Everything streams: one record at a time through the trace_io reader, so
 * memory does not depend on the trace length. The statistics keep per-device
 * state only, bounded by the 2^16 SIDs.
 *
 *   ims_trace_stat *st = ims_trace_stat_create();
 *   for each path: ims_trace_stat_read(st, path, &err);   (or _add per record)
 *   ims_trace_stat_write_text(st, stdout);  /  ims_trace_stat_write_json(st, stdout);
 *   ims_trace_stat_destroy(st);
 *
 * Output keys (the same in text and JSON; a key whose value is undefined is left out):
 *   files, records, records.VERB (text: only verbs that occur; JSON: all)
 *   time.abs.records, time.abs.first_ps, time.abs.last_ps     @T records, first and last T
 *   time.rel.records, time.rel.total_ps                       +D records, sum of D
 *   devices; per device in SID order: device.0xSSSS.{name, declared, unit, ats,
 *     dma, rd, wr, bytes, iova_min, iova_max}                  (iova_max: last byte)
 *   dma.unresolved                                            dev=NAME never declared
 *   mem.writes, mem.bytes, mem.pa_min, mem.pa_max             mem.w32/w64/write
 *   expect.total, expect.dma, expect.mmio, expect.host, expect.done
 *   host.seconds, host.cpu_seconds, host.records_per_s, host.records_per_cpu_s,
 *   host.peak_rss_kb                                          when set by the caller */
#ifndef IMS_TRACES_TRACE_STAT_H
#define IMS_TRACES_TRACE_STAT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "traces/record.h"
#include "traces/trace_io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One device: declared by a `device` record, or only used as `dma dev=SID`. */
typedef struct ims_trace_stat_dev {
    uint16_t sid;
    bool declared;          /* a `device` record named this SID */
    bool ats;               /* declared with `ats` */
    uint8_t unit;           /* declared unit (0 when absent) */
    char name[IMS_TRACE_NAME_MAX + 1]; /* "" when it has none */
    uint64_t dma, rd, wr;   /* dma records */
    uint64_t bytes;         /* sum of their len */
    uint64_t iova_min;      /* first byte of the lowest DMA (valid when dma > 0) */
    uint64_t iova_max;      /* last byte of the highest DMA (inclusive) */
} ims_trace_stat_dev;

/* Totals over every record added. */
typedef struct ims_trace_stat_sum {
    uint64_t files;                 /* traces read with ims_trace_stat_read */
    uint64_t records;
    uint64_t verb[IMS_V_COUNT];     /* records per verb */
    uint64_t abs_records;           /* records with @T */
    uint64_t abs_first_ps, abs_last_ps; /* T of the first and of the last @T record */
    uint64_t rel_records;           /* records with +D (D > 0) */
    uint64_t rel_total_ps;          /* sum of their D (saturating) */
    uint64_t dma_unresolved;        /* dma dev=NAME with no device of that name */
    uint64_t mem_writes;            /* mem.w32, mem.w64, mem.write (not mem.load) */
    uint64_t mem_bytes;
    uint64_t mem_pa_min, mem_pa_max; /* first and last byte written (valid when mem_writes > 0) */
    uint64_t expect_dma;            /* dma with expect= */
    uint64_t expect_mmio;           /* mmio.r32/r64 with expect= */
    uint64_t expect_host;           /* iommufd.* with expect= (an absent one means ok) */
    uint64_t expect_done;           /* hwpt_invalidate with expect_done= */
} ims_trace_stat_sum;

typedef struct ims_trace_stat ims_trace_stat;

ims_trace_stat *ims_trace_stat_create(void); /* NULL on ENOMEM */
void ims_trace_stat_destroy(ims_trace_stat *s);

/* Account one (valid) record. 0, or -ENOMEM (the record is then not counted). */
int ims_trace_stat_add(ims_trace_stat *s, const ims_trace_rec *r, ims_error *err);
/* Read a whole trace ("-" = stdin) into the statistics: 0, or a negative errno
 * with "FILE:LINE: what" / "FILE: what" in err (records before the error stay counted). */
int ims_trace_stat_read(ims_trace_stat *s, const char *path, ims_error *err);
/* Host figures of the reading: wall-clock and process CPU seconds, peak
 * resident set (written under host.* once set). */
void ims_trace_stat_set_host(ims_trace_stat *s, double seconds, double cpu_seconds, uint64_t peak_rss_kb);

const ims_trace_stat_sum *ims_trace_stat_summary(const ims_trace_stat *s);
size_t ims_trace_stat_ndevs(const ims_trace_stat *s);
/* The device with this SID, or NULL if no record declared or used it. */
const ims_trace_stat_dev *ims_trace_stat_dev_of(const ims_trace_stat *s, uint16_t sid);

/* "key value" lines (records.VERB only for verbs that occur). 0 or -EIO. */
int ims_trace_stat_write_text(const ims_trace_stat *s, FILE *out);
/* One flat JSON object with every key (all verbs, zeros included); counts are
 * JSON integers (exact to 2^64), addresses "0x..." strings. 0 or -EIO. */
int ims_trace_stat_write_json(const ims_trace_stat *s, FILE *out);

/* ---- whole-trace tools ---- */

/* Copy trace `in` (any form) to `out` in `form`, zstd-compressed when out
 * ends in ".zst"; "-" = stdin / stdout. On failure a partly written out file
 * is removed. Returns the records copied, or a negative errno with the reason
 * in err; refuses (-EINVAL) when in and out are the same file. */
int64_t ims_trace_convert(const char *in, const char *out, ims_trace_form form, ims_error *err);

/* Write one "LINE: <canonical record>" line per record to out, each prefixed
 * with "FILE:" when with_name. Returns the records listed or a negative errno. */
int64_t ims_trace_list(const char *path, FILE *out, bool with_name, ims_error *err);

/* Parse the whole trace: the record count, or a negative errno with
 * "FILE:LINE: what" in err. */
int64_t ims_trace_validate(const char *path, ims_error *err);

#ifdef __cplusplus
}
#endif
#endif
