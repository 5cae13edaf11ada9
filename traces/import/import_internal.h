/* Shared machinery of the importers (import_common.c: line source, text
 * helpers, the three-pass driver, the summary; import_track.c: the mapping
 * tracker; import_emit.c: record output). Not a public interface. */
#ifndef IMS_TRACES_IMPORT_INTERNAL_H
#define IMS_TRACES_IMPORT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/rng.h"
#include "traces/import/import.h"
#include "traces/record.h"
#include "traces/trace_io.h"

#define IMP_LINE_MAX (64u << 10)   /* longer lines are cut (and counted) */
#define IMP_JOIN_MAX 8u            /* continuation lines joined to one event at most */
#define IMP_PAGE UINT64_C(4096)
#define IMP_PAGE_MASK (IMP_PAGE - 1)
#define IMP_INCOMPLETE 1           /* process(): fields missing, a continuation may follow */
#define IMP_PS_PER_S UINT64_C(1000000000000)
#define IMP_NO_LIFE UINT32_MAX

/* ---- line source: memory or a seekable FILE ---------------------------------------- */
typedef struct imp_src imp_src;
imp_src *imp_src_mem(const void *data, size_t len);
imp_src *imp_src_file(FILE *f, bool own);
void imp_src_close(imp_src *s);
int imp_src_rewind(imp_src *s);
/* 1 with the next line (NUL-terminated, without its newline; *cut when it was
 * longer than IMP_LINE_MAX), 0 at the end, -EIO on a read error. */
int imp_src_next(imp_src *s, const char **line, size_t *len, bool *cut);

/* ---- text helpers (never read past the NUL) ------------------------------------------ */
const char *imp_ws(const char *p);                 /* skip spaces and tabs */
const char *imp_tok_end(const char *p);            /* end of a whitespace-separated token */
bool imp_is_blank(const char *p);
/* A number at *p: base 16 takes an optional 0x, base 10 an optional '-'
 * (then *neg). Advances *p. False if no digit or it overflows 64 bits. */
bool imp_num(const char **p, int base, uint64_t *out);
/* Whole-word `key`, whitespace, then a number: QEMU's "iova 0x1000". */
bool imp_key_num(const char *s, const char *key, int base, uint64_t *out);
/* `key=` then a number: ftrace's "iova=0x1000". Returns a pointer past it too. */
bool imp_kv_num(const char *s, const char *key, int base, uint64_t *out);
/* The value of `key=` (up to whitespace) or NULL; *len set. */
const char *imp_kv_str(const char *s, const char *key, size_t *len);
/* "[DDDD:]BB:DD.F" (hex) -> SID (bus << 8 | dev << 3 | fn). Advances *p. */
bool imp_bdf(const char **p, uint16_t *sid);
/* "YYYY-MM-DDTHH:MM:SS[.frac][Z|+HH:MM|-HH:MM]" -> ps since 1970. Advances *p. */
bool imp_iso8601(const char **p, uint64_t *ps);
/* "SECONDS[.FRACTION]" -> ps. Advances *p. */
bool imp_seconds(const char **p, uint64_t *ps);

/* ---- the mapping tracker: per device, sorted, non-overlapping, 4 KiB aligned ---------- */
typedef struct imp_ent {
    uint64_t iova, len, gpa;
    uint64_t t_map;   /* event time it was mapped (ps) */
    uint32_t life;    /* lifetime id of the primary map it came from (synthesized DMAs) */
    uint8_t prot;     /* IMS_TRACE_PROT_* */
    uint8_t dir;      /* IMP_DIR_* of the mapping call, for synthesized DMAs */
} imp_ent;

enum { IMP_DIR_UNKNOWN = 0, IMP_DIR_TO_DEVICE, IMP_DIR_FROM_DEVICE, IMP_DIR_BIDI };

#define IMP_TOMBS 16u
typedef struct imp_tomb {
    uint64_t iova, len, gpa, t; /* t: when it was unmapped (event time, ps) */
    bool used;
} imp_tomb;

typedef struct imp_as {
    uint16_t sid;
    imp_ent *e;
    size_t n, cap;
    imp_tomb tomb[IMP_TOMBS];
    unsigned tomb_next;
} imp_as;

typedef struct imp_track {
    imp_as *as;
    size_t n, cap;
} imp_track;

void imp_track_free(imp_track *t);
imp_as *imp_track_as(imp_track *t, uint16_t sid, bool create); /* NULL: absent / ENOMEM */
/* Index of the entry containing addr, or SIZE_MAX. */
size_t imp_as_find(const imp_as *a, uint64_t addr);
/* Entries intersecting [iova, iova+len): [*first, *end). */
void imp_as_range(const imp_as *a, uint64_t iova, uint64_t len, size_t *first, size_t *end);
int imp_as_insert(imp_as *a, const imp_ent *e); /* -ENOMEM; caller guarantees no overlap */
void imp_as_remove(imp_as *a, size_t i);
void imp_as_tomb(imp_as *a, const imp_ent *e, uint64_t t);

/* ---- devices ---------------------------------------------------------------------------- */
#define IMP_DEV_ATS 0x1u
typedef struct imp_dev {
    uint16_t sid;
    unsigned flags;
    char name[IMS_TRACE_NAME_MAX + 1]; /* for devices without a PCI name (synthetic SID) */
    char key[64];                      /* the capture's name of a synthetic-SID device */
} imp_dev;

/* ---- pending synthesized DMAs (a min-heap on time) ----------------------------------- */
typedef struct imp_synth {
    uint64_t t, seq, iova;
    uint32_t len;
    uint16_t sid;
    bool wr;
} imp_synth;

enum { IMP_PASS_SCAN = 0, IMP_PASS_DRY = 1, IMP_PASS_EMIT = 2 };

typedef struct imp_ctx imp_ctx;

/* A capture format: the driver calls process() per line (joined with its
 * continuation lines when process() asked for more), finish() at the end. */
typedef struct imp_format_ops {
    const char *name;
    size_t state_size;
    void (*reset)(imp_ctx *c);          /* state is zeroed before; set initial values */
    void (*free_state)(imp_ctx *c);     /* free what reset/process allocated */
    bool (*is_start)(const char *line); /* the line begins a new event (or is a header) */
    int (*process)(imp_ctx *c, const char *line, bool final);
    int (*finish)(imp_ctx *c);
} imp_format_ops;

struct imp_ctx {
    ims_import_opts o;        /* resolved: no DEFAULT values left */
    const imp_format_ops *ops;
    void *fs;                 /* the format's state */
    const char *name;         /* input name for messages */
    int pass;
    uint64_t lineno;          /* first line of the event being processed */
    ims_import_summary *sum;
    ims_error *err;
    uint64_t present;         /* event kinds the capture contains (after the scan pass) */
    /* time: ps since the first timestamp, clamped so it never goes back */
    bool t0_set;
    uint64_t t0, now, last_rel;
    bool first_set;           /* the dry pass's first timed record: output time 0 */
    uint64_t first_ps;
    /* topology: learned in the dry pass, written first in the emit pass */
    imp_dev *devs;
    size_t ndevs, devcap;
    uint16_t next_synthetic;
    uint64_t gpa_end;
    /* lifetimes of primary maps: end time per id, from the dry pass */
    uint64_t *life_end;
    size_t nlife, lifecap;
    uint32_t life_next;
    imp_track tr;
    imp_synth *heap;
    size_t nheap, heapcap;
    uint64_t synth_seq;
    ims_rng rng;
    /* output (emit pass) */
    ims_trace_writer *w;
    ims_trace_rec rec;
    char (*marks)[IMS_TRACE_NAME_MAX + 1]; /* phase names used (emit pass) */
    size_t nmarks;
};

/* ---- driver and summary (import_common.c) --------------------------------------------- */
int imp_run(const imp_format_ops *ops, imp_src *src, const char *name, ims_trace_sink *sink,
            const ims_import_opts *o, ims_import_format fmt, ims_import_summary *sum, ims_error *err);
/* Count one skipped/adjusted event of a kind (emit pass only). */
void imp_note(imp_ctx *c, const char *what);
void imp_notef(imp_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A bad line: counted as `what`, or with strict the error "FILE:LINE: what". */
int imp_bad(imp_ctx *c, const char *what);
/* An event line whose fields are missing: wait for a continuation line, or
 * (final) count it and report a malformed line (skipped in the scan pass
 * unless strict). */
int imp_missing(imp_ctx *c, bool final, const char *event);
void imp_used(imp_ctx *c);
void imp_event(imp_ctx *c);
/* The current event's time (has=false: it has none, keep the last). Clamps
 * time going backwards (strict: error) and, in the emit pass, writes the
 * synthesized DMAs that are due. */
int imp_time(imp_ctx *c, bool has, uint64_t ps);
bool imp_has(const imp_ctx *c, unsigned kind);

/* ---- devices and records (import_emit.c) ------------------------------------------------ */
int imp_dev_note(imp_ctx *c, uint16_t sid, unsigned flags);
/* A capture's device name: a PCI name gives its SID; any other name gets a
 * synthetic SID from 0xff00 (the same name, the same SID). */
int imp_dev_named(imp_ctx *c, const char *name, size_t len, uint16_t *sid);
/* The topology, and the host-level setup (one IOAS per device). */
int imp_emit_topology(imp_ctx *c);
/* Map [iova, iova+len) -> gpa (4 KiB aligned). Mappings it overlaps are
 * unmapped first and their parts outside the range mapped again. primary:
 * a mapping of the capture (it gets a lifetime and synthesized DMAs). */
int imp_map(imp_ctx *c, uint16_t sid, uint64_t iova, uint64_t len, uint64_t gpa, unsigned prot, unsigned dir,
            bool primary);
/* Unmap every mapping that intersects the range (whole; the parts outside it
 * are mapped again). *bytes: bytes of the range that were mapped. */
int imp_unmap(imp_ctx *c, uint16_t sid, uint64_t iova, uint64_t len, uint64_t *bytes);
/* Make sure [iova, iova+len) -> gpa is mapped (nothing when it already is). */
int imp_ensure(imp_ctx *c, uint16_t sid, uint64_t iova, uint64_t len, uint64_t gpa);
/* The current mapping of (sid, addr), or NULL. */
const imp_ent *imp_lookup(imp_ctx *c, uint16_t sid, uint64_t addr);
#define IMP_NO_FAULT (-1)
#define IMP_ANY_FAULT 256
/* A DMA of len bytes (clipped to its mapping or 4 KiB page) with the
 * expectation the level allows; fault: IMP_NO_FAULT, a reason 0..255, or
 * IMP_ANY_FAULT. */
int imp_dma(imp_ctx *c, uint16_t sid, uint64_t addr, uint32_t len, bool wr, int fault);
/* Guest level with --qi raw: one raw descriptor (q2/q3 written when non-zero) / a sync. */
int imp_qi(imp_ctx *c, const uint64_t q[4]);
int imp_qi_sync(imp_ctx *c);
/* A phase mark named after text (made a valid, unused trace name). */
int imp_mark(imp_ctx *c, const char *text, size_t len);
/* Write the synthesized DMAs due by time t (all with t = UINT64_MAX). */
int imp_synth_flush(imp_ctx *c, uint64_t t);
void imp_emit_free(imp_ctx *c);

extern const imp_format_ops imp_qemu_ops;
extern const imp_format_ops imp_ftrace_ops;

#endif
