/* Importers: real captures -> trace format v1 (docs/importers.md).
 *
 *   qemu-vtd  QEMU's `-trace 'vtd_*'` output of the log backend (QEMU 7.2+),
 *             with or without a `-msg timestamp=on` prefix;
 *   ftrace    Linux /sys/kernel/tracing/trace text with iommu:*,
 *             intel_iommu:* and dma:* events.
 *
 * Every importer reads its input three times (event inventory, a dry run that
 * learns the topology and every mapping's lifetime, then the output), so the
 * topology records come first and decisions use the whole capture. Inputs
 * that cannot seek (a pipe, stdin) are spooled to a temporary file first.
 * Output goes through the canonical trace writer, so it always validates.
 *
 * Errors are values: 0 or a negative errno with "FILE:LINE: what" in err.
 * Bad lines are counted in the summary and skipped, or fatal with strict. */
#ifndef IMS_TRACES_IMPORT_IMPORT_H
#define IMS_TRACES_IMPORT_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/err.h"
#include "traces/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ims_import_format {
    IMS_IMPORT_QEMU_VTD = 0,
    IMS_IMPORT_FTRACE = 1,
} ims_import_format;

typedef enum ims_import_level {
    IMS_IMPORT_LEVEL_DEFAULT = 0, /* qemu-vtd: host, ftrace: guest */
    IMS_IMPORT_LEVEL_HOST,        /* iommufd.* records, dma with exact expect= */
    IMS_IMPORT_LEVEL_GUEST,       /* vm, guest.* records */
} ims_import_level;

typedef enum ims_import_time {
    IMS_IMPORT_TIME_DEFAULT = 0, /* qemu-vtd: rel, ftrace: abs */
    IMS_IMPORT_TIME_ABS,         /* @T: capture time since the first event (+ time_offset) */
    IMS_IMPORT_TIME_REL,         /* +D: the capture's gap to the previous event */
    IMS_IMPORT_TIME_NONE,        /* no prefix: closed loop, one record after another */
} ims_import_time;

typedef enum ims_import_qi {
    IMS_IMPORT_QI_RAW = 0, /* guest level: guest.qi / guest.qi_sync from the captured descriptors */
    IMS_IMPORT_QI_NONE,    /* drop them: the guest model's unmap policy invalidates */
} ims_import_qi;

#define IMS_IMPORT_DEFAULT_HPA_BASE (UINT64_C(4) << 30) /* host.mem_base's default */
#define IMS_IMPORT_DEFAULT_POOL (UINT64_C(8) << 20)     /* guest.pt_pool's default */
#define IMS_IMPORT_DEFAULT_DMA_LEN 64u
#define IMS_IMPORT_DEFAULT_HOST_OFFSET_PS UINT64_C(1000000000) /* 1 ms for the host stack to start */
/* Guest level: the replay brings the guest up (the VMM maps its RAM) before
 * the first timed record issues, which takes about 26 ms per GiB with the
 * default costs: abs times start after 10 ms + 40 ms per GiB of vm RAM. */
#define IMS_IMPORT_GUEST_OFFSET_PS UINT64_C(10000000000)
#define IMS_IMPORT_GUEST_OFFSET_PER_GIB_PS UINT64_C(40000000000)
#define IMS_IMPORT_DEFAULT_STALE_WINDOW_PS UINT64_C(1000000000) /* 1 ms */
#define IMS_IMPORT_NO_DEV 0xffffffffu

typedef struct ims_import_opts {
    ims_import_level level;
    ims_import_time time;
    bool strict;                /* unknown events, bad lines, time going back: fatal */
    bool time_offset_set;
    uint64_t time_offset_ps;    /* abs: time of the first record (default: 1 ms host; guest: 10 ms + 40 ms/GiB) */
    uint64_t hpa_base;          /* host level: hpa = hpa_base + captured address (0 = default 4G) */
    bool guest_expect;          /* guest level: add expect= guest_expect_base + gpa */
    uint64_t guest_expect_base;
    unsigned vm_id;             /* guest level (default 1) */
    uint64_t vm_mem;            /* 0 = just above the highest address seen, + pool, 1 GiB multiple */
    uint64_t pool;              /* the guest.pt_pool the vm must leave free (0 = 8M) */
    uint32_t dma_len;           /* bytes per imported DMA (0 = 64), clipped to the page */
    bool exact_fault_reason;    /* expect=fault:0xRR instead of expect=fault */
    ims_import_qi qi;
    uint64_t stale_window_ps;   /* abs: old translations unmapped this recently stay allowed (0 = 1 ms) */
    /* ftrace */
    uint32_t dev;               /* SID that owns iommu:map/unmap; IMS_IMPORT_NO_DEV = infer */
    unsigned synth_dma;         /* synthesized DMAs per mapped buffer (0 = none) */
    uint64_t seed;
} ims_import_opts;

/* Defaults for everything (level/time DEFAULT, dev NO_DEV, vm 1). */
void ims_import_opts_init(ims_import_opts *o);

/* What an import did: lines, events and records, and what was skipped, by
 * kind ("vtd_reg_write (register access: not needed)", "malformed line"). */
typedef struct ims_import_count {
    char *what;
    uint64_t n;
} ims_import_count;

typedef struct ims_import_summary {
    const char *format;       /* "qemu-vtd" | "ftrace" */
    uint64_t lines;           /* lines read (continuations included) */
    uint64_t events;          /* lines that were events of the format */
    uint64_t used;            /* events that produced records or state */
    uint64_t records;         /* records written (topology included) */
    uint64_t devices;
    uint64_t time_backwards;  /* timestamps earlier than the previous one (clamped) */
    ims_import_count *skipped;
    size_t nskipped, cap;
} ims_import_summary;

void ims_import_summary_free(ims_import_summary *s);
/* Total of the skipped counts whose kind starts with prefix ("" = all). */
uint64_t ims_import_summary_skipped(const ims_import_summary *s, const char *prefix);
/* "import qemu-vtd: N lines, ..." then one line per skipped kind. */
void ims_import_summary_write(const ims_import_summary *s, FILE *out);

/* Import `in` ("-" = stdin) into `out` ("-" = stdout; zstd when it ends in
 * .zst). Nothing is written when the input fails in the first two passes. */
int ims_import_file(ims_import_format fmt, const char *in, const char *out, const ims_import_opts *o,
                    ims_import_summary *sum, ims_error *err);

/* Import a memory buffer (named `name` in messages) as trace text into sink. */
int ims_import_mem(ims_import_format fmt, const void *data, size_t len, const char *name, ims_trace_sink *sink,
                   const ims_import_opts *o, ims_import_summary *sum, ims_error *err);

const char *ims_import_format_name(ims_import_format fmt);
/* "qemu-vtd" / "ftrace" -> format; -1 if unknown. */
int ims_import_format_lookup(const char *name);

#ifdef __cplusplus
}
#endif
#endif
