/* Workload generators: parameterised, seeded synthetic workloads written as
 * traces in the trace language (docs/generators.md).
 *
 *   ims_gen_params p;
 *   ims_gen_params_init(&p, ims_gen_family_find("nic"));
 *   ims_gen_params_set(&p, "packets", "100", &err);
 *   ims_gen_write_path(&p, "nic.ist", ims_gen_form_of_path("nic.ist"), &err);
 *
 * A family (nic, storage, uniform, sva) is a table of options and a function
 * that writes records through the family interface at the end of this file.
 * The output is a pure function of the options (the seed included). */
#ifndef IMS_TRACES_GEN_GEN_H
#define IMS_TRACES_GEN_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/err.h"
#include "sim/rng.h"
#include "traces/record.h"
#include "traces/trace_io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- options -------------------------------------------------------------------------------- */

typedef enum ims_gen_opt_type {
    IMS_GEN_OPT_UINT, /* decimal or 0x hex */
    IMS_GEN_OPT_ADDR, /* like UINT, printed in hex */
    IMS_GEN_OPT_SIZE, /* bytes with K/M/G suffixes */
    IMS_GEN_OPT_TIME, /* picoseconds; suffix ns (default), us, ms, s */
    IMS_GEN_OPT_ENUM, /* one word of `choices`; stored as its index */
    IMS_GEN_OPT_BOOL, /* --name alone is true; --name=on|off|true|false|yes|no|1|0 */
} ims_gen_opt_type;

typedef struct ims_gen_opt {
    const char *name;    /* without the leading "--" */
    ims_gen_opt_type type;
    const char *def;     /* default, spelt as on the command line */
    const char *choices; /* ENUM: "a|b|c" */
    uint64_t min, max;   /* UINT/ADDR/SIZE/TIME: inclusive range */
    const char *help;
} ims_gen_opt;

#define IMS_GEN_OPTS_MAX 24

/* Options every family takes (ims_gen_common_opts order). */
enum {
    IMS_GEN_SEED,
    IMS_GEN_LEVEL,       /* host | guest */
    IMS_GEN_MODE,        /* guest: nested | shadow */
    IMS_GEN_VM_MEM,      /* guest: RAM size, 0 = just enough (whole GiB) */
    IMS_GEN_ATS,         /* devices have a device-TLB */
    IMS_GEN_OUTSTANDING, /* device outstanding-DMA limit, 0 = the config's */
    IMS_GEN_INTERVAL,    /* time between operations; 0 = closed loop */
    IMS_GEN_ARRIVAL,     /* open loop: fixed | poisson */
    IMS_GEN_START,       /* open loop: time of the first operation */
    IMS_GEN_WARMUP,      /* operations in the warmup phase */
    IMS_GEN_IOVA_REUSE,  /* open loop: time before an unmapped IOVA is handed out again */
    IMS_GEN_COMMON_COUNT
};
enum { IMS_GEN_LEVEL_HOST = 0, IMS_GEN_LEVEL_GUEST = 1 };
enum { IMS_GEN_ARRIVAL_FIXED = 0, IMS_GEN_ARRIVAL_POISSON = 1 };

typedef struct ims_gen ims_gen;
typedef struct ims_gen_params ims_gen_params;

typedef struct ims_gen_family {
    const char *name;
    const char *summary;  /* one line */
    const char *details;  /* paragraphs for --help, each line ending in \n */
    const ims_gen_opt *opts;
    unsigned nopts;
    /* Cross-option checks (ranges are checked by the parser); NULL if none. */
    int (*check)(const ims_gen_params *p, ims_error *err);
    /* Write the workload through the family interface; returns 0 or the first error. */
    int (*generate)(ims_gen *g);
} ims_gen_family;

extern const ims_gen_family ims_gen_nic, ims_gen_storage, ims_gen_uniform, ims_gen_sva;

/* The families in listing order; NULL past the last. */
const ims_gen_family *ims_gen_family_at(size_t i);
const ims_gen_family *ims_gen_family_find(const char *name); /* NULL if unknown */
const ims_gen_opt *ims_gen_common_opts(unsigned *n);

struct ims_gen_params {
    const ims_gen_family *fam;
    uint64_t common[IMS_GEN_COMMON_COUNT];
    uint64_t v[IMS_GEN_OPTS_MAX];       /* the family's options, in its table order */
    uint64_t common_given, given;       /* bit i: set explicitly */
};

/* Every option at its default. */
void ims_gen_params_init(ims_gen_params *p, const ims_gen_family *fam);
/* Set option `name` (no leading "--") from its text; value NULL for a bare
 * boolean. -EINVAL with "--name: what is wrong" in err. */
int ims_gen_params_set(ims_gen_params *p, const char *name, const char *value, ims_error *err);
/* Parse argv[*i] ("--name VALUE", "--name=VALUE" or a bare "--flag"),
 * advancing *i past what it used. */
int ims_gen_params_parse_arg(ims_gen_params *p, int argc, char **argv, int *i, ims_error *err);
/* Value of an option by name (common or family); false if there is none. */
bool ims_gen_params_get(const ims_gen_params *p, const char *name, uint64_t *out);
/* Cross-option checks of the common options and of the family. */
int ims_gen_params_check(const ims_gen_params *p, ims_error *err);
/* Every option in effect, canonical "--name value" words (snprintf-like). */
size_t ims_gen_params_format(const ims_gen_params *p, char *buf, size_t cap);
/* One option value as the parser reads it back (snprintf-like). */
size_t ims_gen_opt_format(const ims_gen_opt *o, uint64_t v, char *buf, size_t cap);

/* ---- output --------------------------------------------------------------------------------- */

/* Binary when the path, without a ".zst" suffix, ends in ".bin"; else text. */
ims_trace_form ims_gen_form_of_path(const char *path);
/* Check the options and write the workload to w (NULL: a dry run that only
 * checks every record). */
int ims_gen_write(const ims_gen_params *p, ims_trace_writer *w, ims_error *err);
/* Write to a path ("-" = standard output; zstd when it ends in ".zst"). The
 * text form starts with a comment naming the generator and every option. */
int ims_gen_write_path(const ims_gen_params *p, const char *path, ims_trace_form form, ims_error *err);
/* The same bytes into a malloc'ed buffer (*data, *len; the caller frees). */
int ims_gen_write_mem(const ims_gen_params *p, ims_trace_form form, bool zstd, uint8_t **data, size_t *len,
                      ims_error *err);

/* ---- family interface (for gen_*.c) ----------------------------------------------------------
 * Records are built in g->rec and written at once; the first error sticks in
 * g->rc and turns every later call into a no-op, so a family checks once at
 * the end. Closed loop: records carry no time prefix (each one issues when
 * the previous completed), except a +D set with ims_gen_gap. Open loop:
 * every timed record carries @T (setup at @0, operations from --start); a
 * mix would let a completion-driven issue time overtake a later @T. */

#define IMS_GEN_NO_PASID UINT32_MAX
#define IMS_GEN_HOST_PHYS_BASE (64ull << 30)  /* host level: HPAs from 64 GiB (above host.mem_base RAM) */
#define IMS_GEN_GUEST_PHYS_BASE (16ull << 20) /* guest level: GPAs from 16 MiB */
#define IMS_GEN_GUEST_RESERVE (64ull << 20)   /* guest RAM kept free above the data (guest page-table pool) */
#define IMS_GEN_IOVA_RINGS 0x10000000ull      /* per address space: rings and queues */
#define IMS_GEN_IOVA_DATA 0x40000000ull       /* per address space: data buffers (1 GiB aligned) */
#define IMS_GEN_PAGE 4096ull

/* One timed event of an open-loop schedule (family-defined kind and payload). */
typedef struct ims_gen_ev {
    uint64_t t, seq;
    unsigned kind;
    uint32_t q;
    uint64_t a, b, c;
} ims_gen_ev;
typedef void (*ims_gen_emit_fn)(ims_gen *g, const ims_gen_ev *ev, void *ctx);

struct ims_gen {
    const ims_gen_params *p;
    ims_trace_writer *w;
    ims_error *err;
    int rc;
    ims_trace_rec rec;
    ims_rng rng;
    bool guest, open;
    uint64_t t_ps;     /* open loop: @T of the records written now */
    uint64_t gap_ps;   /* closed loop: +D of the next timed record */
    uint64_t phys_next, phys_end;
    uint64_t next_arrival;
    ims_gen_ev *heap;
    size_t nheap, capheap;
    uint64_t seq;
    ims_gen_emit_fn emit;
    void *emit_ctx;
    uint64_t dropped;  /* operations the schedule had to drop (ring full) */
};

/* A DMA address space: a device's RID domain or one of its PASIDs. Host: an
 * IOAS named `ioas` attached to it; guest: the guest's domain for it. */
typedef struct ims_gen_space {
    char dev[IMS_TRACE_NAME_MAX + 1];
    char ioas[IMS_TRACE_NAME_MAX + 1];
    uint32_t pasid;
} ims_gen_space;

/* A set of equal chunks at base + i*chunk. Physical pages (random): handed
 * out at random, like a page allocator. IOVAs (!random): last-freed first,
 * like Linux's IOVA caches, lowest never-used chunk when none is free. In an
 * open loop a freed IOVA is held back for --iova-reuse first: the generator
 * cannot see when the unmap's flush completes, and a driver frees an IOVA
 * only after it. */
typedef struct ims_gen_pool_held {
    uint32_t idx;
    uint64_t t;
} ims_gen_pool_held;

typedef struct ims_gen_pool {
    uint64_t base, chunk;
    size_t n;                  /* chunks in all */
    bool random;
    uint32_t *free;            /* free chunks (a stack for IOVAs) */
    size_t nfree, capfree;
    size_t fresh;              /* IOVAs: chunks [fresh, n) never handed out */
    ims_gen_pool_held *held;   /* IOVAs freed, not yet reusable (FIFO from held_head) */
    size_t held_head, nheld, capheld;
} ims_gen_pool;

static inline uint64_t ims_gen_c(const ims_gen *g, unsigned i) { return g->p->common[i]; }
static inline uint64_t ims_gen_v(const ims_gen *g, unsigned i) { return g->p->v[i]; }
static inline uint64_t ims_gen_round_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }
int ims_gen_fail(ims_gen *g, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Layout: reserve the physical bytes the workload needs (before any record:
 * the guest's RAM size follows from it), then carve them. */
void ims_gen_phys_reserve(ims_gen *g, uint64_t bytes);
uint64_t ims_gen_phys_alloc(ims_gen *g, uint64_t len, uint64_t align);
/* `len` bytes whose placement against a 1 GiB-aligned IOVA allows leaves of
 * exactly `leaf` (4K, 2M or 1G) and nothing larger. Reserve len + 1 GiB
 * for 1G leaves, len + 4 MiB otherwise. */
uint64_t ims_gen_phys_alloc_leaf(ims_gen *g, uint64_t len, uint64_t leaf);
void ims_gen_pool_init(ims_gen *g, ims_gen_pool *pool, uint64_t base, uint64_t chunk, size_t n, bool random);
uint64_t ims_gen_pool_get(ims_gen *g, ims_gen_pool *pool);
void ims_gen_pool_put(ims_gen *g, ims_gen_pool *pool, uint64_t addr);
void ims_gen_pool_destroy(ims_gen_pool *pool);

/* Topology: the guest's vm record (guest level), then devices. */
void ims_gen_topology(ims_gen *g);
void ims_gen_device(ims_gen *g, unsigned sid, const char *name, unsigned pasid_bits);

/* Address spaces. Host: ioas_alloc + attach (a PASID: through a HWPT
 * allocated with flags=alloc_pasid); guest: vSVA bind of a PASID to a
 * page-table root it reserves (the RID domain needs no record). */
void ims_gen_space_dev(ims_gen *g, ims_gen_space *s, const char *dev, const char *ioas);
void ims_gen_space_pasid(ims_gen *g, ims_gen_space *s, const char *dev, uint32_t pasid, const char *ioas);
void ims_gen_map(ims_gen *g, const ims_gen_space *s, uint64_t iova, uint64_t phys, uint64_t len, unsigned prot);
void ims_gen_unmap(ims_gen *g, const ims_gen_space *s, uint64_t iova, uint64_t len);
/* A DMA; host level adds expect=phys (the HPA of its first byte). */
void ims_gen_dma(ims_gen *g, const ims_gen_space *s, uint64_t iova, uint64_t len, bool wr, uint64_t phys);
void ims_gen_mark(ims_gen *g, const char *name);
void ims_gen_drain(ims_gen *g);

/* Time. */
void ims_gen_at(ims_gen *g, uint64_t t_ps);  /* open loop: @T of the next records (never earlier) */
void ims_gen_gap(ims_gen *g, uint64_t d_ps); /* closed loop: +D on the next record */
/* Percent chance (0..100). */
bool ims_gen_chance(ims_gen *g, uint64_t pct);

/* Open-loop events, written in (time, push order) by the family's emitter. */
void ims_gen_set_emitter(ims_gen *g, ims_gen_emit_fn fn, void *ctx);
void ims_gen_ev_push(ims_gen *g, uint64_t t, unsigned kind, uint32_t q, uint64_t a, uint64_t b, uint64_t c);
/* Open loop: write every event due by t, then make t the time of the next records. */
void ims_gen_run_until(ims_gen *g, uint64_t t);
/* Operation i starts: open loop, its arrival time (fixed or Poisson spacing
 * from --start; events due by then are written first), else 0; then the
 * phase marks (warmup at the first operation when --warmup > 0, run after). */
uint64_t ims_gen_op_begin(ims_gen *g, uint64_t i);
/* After the last operation: the remaining events, then drain. */
void ims_gen_finish(ims_gen *g);

#ifdef __cplusplus
}
#endif
#endif
