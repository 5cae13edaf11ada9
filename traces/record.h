/* One trace record in memory, and the per-verb schema that both the text
 * parser and the writers are driven by (docs/trace-format.md).
 *
 * A record is a verb, an optional time prefix and a set of typed key values.
 * Numbers live in `num[key]`; variable-length values (names, paths, hex bytes,
 * invalidation entries, expect alternatives) live in the record's own arena,
 * which is reused record after record, so reading a trace needs memory that
 * depends on the longest line, never on the trace length. */
#ifndef IMS_TRACES_RECORD_H
#define IMS_TRACES_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMS_TRACE_VERSION 1
#define IMS_TRACE_LINE_MAX (1u << 20)   /* longest text line accepted, bytes */
#define IMS_TRACE_NAME_MAX 63           /* longest object/device/phase name */
#define IMS_TRACE_EXPECT_MAX 8          /* alternatives in one expect= */
#define IMS_TRACE_UNIT_MAX 63           /* highest IOMMU unit number */
#define IMS_TRACE_PASID_MAX ((1u << 20) - 1)
#define IMS_TRACE_NPAGES_ALL UINT64_MAX /* entries=ADDR:all */

/* Verbs. The numeric values are the binary format's verb codes: never
 * renumber, only append. */
typedef enum ims_trace_verb {
    IMS_V_NONE = 0,
    IMS_V_IOMMU = 1,
    IMS_V_DEVICE,
    IMS_V_VM,
    IMS_V_MEM_W32,
    IMS_V_MEM_W64,
    IMS_V_MEM_WRITE,
    IMS_V_MEM_LOAD,
    IMS_V_MMIO_W32,
    IMS_V_MMIO_W64,
    IMS_V_MMIO_R32,
    IMS_V_MMIO_R64,
    IMS_V_WAIT_MEM,
    IMS_V_DMA,
    IMS_V_IOAS_ALLOC,
    IMS_V_IOAS_MAP,
    IMS_V_IOAS_UNMAP,
    IMS_V_HWPT_ALLOC,
    IMS_V_ATTACH,
    IMS_V_DETACH,
    IMS_V_HWPT_INVALIDATE,
    IMS_V_GET_HW_INFO,
    IMS_V_DESTROY,
    IMS_V_GUEST_MAP,
    IMS_V_GUEST_UNMAP,
    IMS_V_GUEST_QI,
    IMS_V_GUEST_QI_SYNC,
    IMS_V_GUEST_PASID_BIND,
    IMS_V_GUEST_PASID_UNBIND,
    IMS_V_MARK,
    IMS_V_DRAIN,
    IMS_V_COUNT
} ims_trace_verb;

/* Keys (at most 64: a record's presence set is one uint64_t). */
typedef enum ims_trace_key {
    IMS_K_UNIT, IMS_K_CAP, IMS_K_ECAP, IMS_K_BASE, IMS_K_SID, IMS_K_VM, IMS_K_NAME,
    IMS_K_ATS, IMS_K_PASID_BITS, IMS_K_PRI, IMS_K_OUTSTANDING, IMS_K_ID, IMS_K_MEM,
    IMS_K_MODE, IMS_K_PA, IMS_K_VAL, IMS_K_HEX, IMS_K_ELF, IMS_K_OFF, IMS_K_EXPECT,
    IMS_K_MASK, IMS_K_TIMEOUT, IMS_K_DEV, IMS_K_PASID, IMS_K_IOVA, IMS_K_LEN, IMS_K_RD,
    IMS_K_WR, IMS_K_PRIV, IMS_K_EXEC, IMS_K_OUT, IMS_K_IOAS, IMS_K_PROT, IMS_K_HPA,
    IMS_K_PT, IMS_K_FLAGS, IMS_K_S1_PGTBL, IMS_K_S1_AW, IMS_K_S1_FLAGS, IMS_K_HWPT,
    IMS_K_ENTRIES, IMS_K_EXPECT_DONE, IMS_K_GPA, IMS_K_Q0, IMS_K_Q1, IMS_K_Q2, IMS_K_Q3,
    IMS_K_COUNT
} ims_trace_key;

typedef enum ims_trace_time_mode {
    IMS_TIME_NONE = 0, /* no prefix: issue when the previous record completed (+0) */
    IMS_TIME_ABS = 1,  /* @T */
    IMS_TIME_REL = 2,  /* +D, D > 0 (+0 is read as no prefix) */
} ims_trace_time_mode;

/* Value types of a key within a verb. */
typedef enum ims_trace_vtype {
    IMS_TV_FLAG,       /* bare word, no value */
    IMS_TV_NUM,        /* decimal or 0x hex, range-checked */
    IMS_TV_SIZE,       /* number with K/M/G suffix */
    IMS_TV_TIME,       /* picoseconds; suffix ns (default), us, ms, s */
    IMS_TV_NUMSET,     /* number from `choices` ("48|57") */
    IMS_TV_ENUM,       /* one word of `choices`; stored as its index */
    IMS_TV_BITS,       /* words of `choices` joined by '|'; bit i = word i */
    IMS_TV_NAME,       /* [A-Za-z_][A-Za-z0-9_.-]*, at most IMS_TRACE_NAME_MAX */
    IMS_TV_DEV,        /* a device: SID number, or a device name */
    IMS_TV_PATH,       /* file path, no spaces or '#' */
    IMS_TV_HEX,        /* byte string as hex digit pairs */
    IMS_TV_DMA_EXPECT, /* 0xPA | fault | fault:0xRR, alternatives joined by '|' */
    IMS_TV_ERR_EXPECT, /* ok | errno name, alternatives joined by '|' */
    IMS_TV_ENTRIES,    /* ADDR:NPAGES[:leaf],... */
} ims_trace_vtype;

/* Field attributes. */
#define IMS_TF_REQUIRED 0x01u /* must be present */
#define IMS_TF_HEX      0x02u /* canonical text writes 0x... (else decimal) */
#define IMS_TF_ADDR     0x04u /* binary form delta-codes it against the previous record */
#define IMS_TF_NOWRAP   0x08u /* this value + len (or access size) must not pass 2^64 */

typedef struct ims_trace_field {
    ims_trace_key key;
    ims_trace_vtype type;
    unsigned flags;       /* IMS_TF_* */
    uint64_t min, max;    /* NUM/SIZE/TIME range, inclusive */
    const char *choices;  /* NUMSET/ENUM/BITS words, '|'-separated */
    uint64_t def;         /* value an absent optional key stands for (docs, replay) */
    unsigned align;       /* NUM: value must be a multiple of this (0 = any) */
    unsigned requires;    /* 0, or 1 + a key that must be present with this one */
} ims_trace_field;

#define IMS_TRACE_FIELDS_MAX 16

typedef enum ims_trace_verb_class {
    IMS_VC_TOPOLOGY, /* iommu, device, vm: before the first timed record, no time prefix */
    IMS_VC_RAW,      /* mem.*, mmio.*, wait.mem */
    IMS_VC_DEVICE,   /* dma */
    IMS_VC_HOST,     /* iommufd.* */
    IMS_VC_GUEST,    /* guest.* */
    IMS_VC_CONTROL,  /* mark, drain */
} ims_trace_verb_class;

typedef struct ims_trace_verb_schema {
    const char *name;
    ims_trace_verb_class cls;
    unsigned nfields;
    ims_trace_field fields[IMS_TRACE_FIELDS_MAX]; /* schema order = canonical order */
} ims_trace_verb_schema;

/* Enum values (index into the field's choices). */
enum { IMS_TRACE_MODE_NESTED = 0, IMS_TRACE_MODE_SHADOW = 1 };
enum { IMS_TRACE_PROT_R = 0, IMS_TRACE_PROT_W = 1, IMS_TRACE_PROT_RW = 2 };
/* Bit values (bit i = word i of the field's choices). nest_parent,
 * dirty_tracking and the s1 flags equal the iommufd uAPI bits (iommufd-facts:
 * hwpt_alloc flags, struct iommu_hwpt_vtd_s1 flags). alloc_pasid (an extension
 * beyond trace-text v1) is trace bit 2 but uAPI IOMMU_HWPT_ALLOC_PASID 1<<3:
 * uAPI bit 2 is IOMMU_HWPT_FAULT_ID_VALID, which needs a fault object no trace
 * can make, so the replay maps the bits. */
#define IMS_TRACE_HWPT_NEST_PARENT    (1u << 0)
#define IMS_TRACE_HWPT_DIRTY_TRACKING (1u << 1)
#define IMS_TRACE_HWPT_ALLOC_PASID    (1u << 2)
#define IMS_TRACE_S1_SRE  (1u << 0)
#define IMS_TRACE_S1_EAFE (1u << 1)
#define IMS_TRACE_S1_WPE  (1u << 2)

typedef enum ims_trace_expect_kind {
    IMS_EXP_PA = 0,     /* translated address of the first byte */
    IMS_EXP_FAULT = 1,  /* any fault */
    IMS_EXP_FAULT_REASON = 2, /* fault with this VT-d fault reason */
    IMS_EXP_ERRNO = 3,  /* host call result: 0 = ok, else a positive Linux errno */
} ims_trace_expect_kind;

typedef struct ims_trace_expect {
    uint32_t kind;  /* ims_trace_expect_kind */
    uint32_t pad;
    uint64_t value;
} ims_trace_expect;

typedef struct ims_trace_inv_entry {
    uint64_t addr;
    uint64_t npages; /* IMS_TRACE_NPAGES_ALL for `all` */
    uint32_t leaf;   /* 0 or 1 */
    uint32_t pad;
} ims_trace_inv_entry;

/* A variable-length value: `len` bytes (strings: without the NUL that follows),
 * or `len` elements (entries, expect alternatives) at arena offset `off`. */
typedef struct ims_trace_span {
    uint32_t off, len;
} ims_trace_span;

typedef struct ims_trace_rec {
    ims_trace_verb verb;
    ims_trace_time_mode tmode;
    uint64_t time_ps;  /* ABS: absolute time; REL: delay; NONE: 0 */
    uint64_t line;     /* source line (text) or the line recorded in the binary form */
    uint64_t present;  /* bit k: key k given */
    uint64_t named;    /* bit k: DEV key k holds a name (span) rather than a SID */
    union {
        uint64_t num;
        ims_trace_span span;
    } v[IMS_K_COUNT];
    uint8_t *arena;    /* owned; grows to the largest record seen */
    size_t arena_len, arena_cap;
} ims_trace_rec;

/* ---- schema ---- */
const ims_trace_verb_schema *ims_trace_schema(ims_trace_verb v); /* NULL if invalid */
const char *ims_trace_verb_name(ims_trace_verb v);
const char *ims_trace_key_name(ims_trace_key k);
ims_trace_verb ims_trace_verb_lookup(const char *name);   /* IMS_V_NONE if unknown */
ims_trace_key ims_trace_key_lookup(const char *name);     /* IMS_K_COUNT if unknown */
const ims_trace_field *ims_trace_field_of(ims_trace_verb v, ims_trace_key k); /* NULL if not a key of v */
/* Closest verb name by edit distance, or NULL when nothing is close. */
const char *ims_trace_verb_suggest(const char *name);
/* Host-call errno names <-> Linux errno numbers ("ok" is 0). -1 if unknown. */
int ims_trace_errno_lookup(const char *name);
const char *ims_trace_errno_name(int err); /* NULL if not in the table */

/* ---- record lifetime ---- */
void ims_trace_rec_init(ims_trace_rec *r);
void ims_trace_rec_free(ims_trace_rec *r);
/* Forget the previous record's values (keeps the arena allocation). */
void ims_trace_rec_reset(ims_trace_rec *r);
int ims_trace_rec_copy(ims_trace_rec *dst, const ims_trace_rec *src);
/* Same verb, time and values (strings by content). The line is not compared. */
bool ims_trace_rec_equal(const ims_trace_rec *a, const ims_trace_rec *b);

/* Reserve `len` bytes (aligned to 8) in the arena; returns the offset via *off.
 * -ENOMEM on allocation failure, -E2BIG past the record size limit. */
int ims_trace_rec_alloc(ims_trace_rec *r, size_t len, uint32_t *off);
/* Store a string/bytes value for key k (copied into the arena, NUL-terminated). */
int ims_trace_rec_set_bytes(ims_trace_rec *r, ims_trace_key k, const void *data, size_t len);

/* ---- typed accessors (call only for keys valid for the record's verb) ---- */
static inline bool ims_trace_has(const ims_trace_rec *r, ims_trace_key k)
{
    return (r->present >> k) & 1u;
}
/* Number, size, time (ps), enum index, bitset or SID. */
static inline uint64_t ims_trace_num(const ims_trace_rec *r, ims_trace_key k)
{
    return r->v[k].num;
}
/* The value, or the schema's default for an absent optional key. */
uint64_t ims_trace_num_or_default(const ims_trace_rec *r, ims_trace_key k);
/* NAME / PATH / a DEV given by name: NUL-terminated; NULL if absent or a SID. */
const char *ims_trace_str(const ims_trace_rec *r, ims_trace_key k);
const uint8_t *ims_trace_bytes(const ims_trace_rec *r, ims_trace_key k, size_t *len);
const ims_trace_expect *ims_trace_expects(const ims_trace_rec *r, size_t *n);
const ims_trace_inv_entry *ims_trace_entries(const ims_trace_rec *r, size_t *n);
static inline bool ims_trace_dev_is_name(const ims_trace_rec *r)
{
    return (r->named >> IMS_K_DEV) & 1u;
}

/* ---- validation shared by every reader ----
 * Checks one record against its verb's schema: required keys, ranges, value
 * syntax of strings, cross-key rules. Returns 0 or -EINVAL with "VERB: what"
 * in err. Text input is checked as it is parsed; the binary decoder calls
 * this so both forms accept exactly the same records. */
int ims_trace_rec_validate(const ims_trace_rec *r, ims_error *err);

/* Problem with one numeric value of field f (range, alignment), or NULL. */
const char *ims_trace_field_check_num(const ims_trace_field *f, uint64_t val, char *buf, size_t cap);
bool ims_trace_name_valid(const char *s, size_t len);
bool ims_trace_path_valid(const char *s, size_t len);

/* Rules that span records (both readers): topology before the first timed
 * record, no time prefix on topology, @T never earlier than a previous @T. */
typedef struct ims_trace_seq {
    bool timed_seen;
    uint64_t first_timed_line;
    bool abs_seen;
    uint64_t last_abs_ps, last_abs_line;
} ims_trace_seq;
int ims_trace_seq_check(ims_trace_seq *s, const ims_trace_rec *r, ims_error *err);

/* Resolve a mem.load path against the directory of the trace that named it. */
int ims_trace_resolve_path(const char *trace_dir, const char *path, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
