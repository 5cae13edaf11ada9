/* Record lifetime, typed accessors and the validation every reader shares. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/record.h"
#include "traces/text_writer.h"

/* Arena growth stops here: a 1 MiB line decodes to at most this much
 * (65536 invalidation entries of 24 bytes dominate). */
#define ARENA_MAX (4u << 20)
#define ENTRIES_MAX 65536u

void ims_trace_rec_init(ims_trace_rec *r)
{
    memset(r, 0, sizeof *r);
}

void ims_trace_rec_free(ims_trace_rec *r)
{
    free(r->arena);
    memset(r, 0, sizeof *r);
}

void ims_trace_rec_reset(ims_trace_rec *r)
{
    uint8_t *arena = r->arena;
    size_t cap = r->arena_cap;
    memset(r, 0, sizeof *r);
    r->arena = arena;
    r->arena_cap = cap;
}

int ims_trace_rec_alloc(ims_trace_rec *r, size_t len, uint32_t *off)
{
    size_t start = (r->arena_len + 7u) & ~(size_t)7u;
    if (len > ARENA_MAX || start + len > ARENA_MAX)
        return -E2BIG;
    if (start + len > r->arena_cap || !r->arena) {
        size_t cap = r->arena_cap ? r->arena_cap : 256;
        while (cap < start + len)
            cap *= 2;
        uint8_t *a = realloc(r->arena, cap);
        if (!a)
            return -ENOMEM;
        r->arena = a;
        r->arena_cap = cap;
    }
    memset(r->arena + r->arena_len, 0, start + len - r->arena_len);
    r->arena_len = start + len;
    *off = (uint32_t)start;
    return 0;
}

int ims_trace_rec_set_bytes(ims_trace_rec *r, ims_trace_key k, const void *data, size_t len)
{
    uint32_t off;
    int rc = ims_trace_rec_alloc(r, len + 1, &off);
    if (rc)
        return rc;
    if (len)
        memcpy(r->arena + off, data, len);
    r->arena[off + len] = '\0';
    r->v[k].span.off = off;
    r->v[k].span.len = (uint32_t)len;
    r->present |= 1ull << k;
    return 0;
}

int ims_trace_rec_copy(ims_trace_rec *dst, const ims_trace_rec *src)
{
    if (dst == src)
        return 0;
    uint8_t *arena = dst->arena;
    size_t cap = dst->arena_cap;
    if (cap < src->arena_len) {
        uint8_t *a = realloc(arena, src->arena_len);
        if (!a)
            return -ENOMEM;
        arena = a;
        cap = src->arena_len;
    }
    *dst = *src;
    dst->arena = arena;
    dst->arena_cap = cap;
    if (src->arena_len)
        memcpy(dst->arena, src->arena, src->arena_len);
    return 0;
}

uint64_t ims_trace_num_or_default(const ims_trace_rec *r, ims_trace_key k)
{
    if (ims_trace_has(r, k))
        return r->v[k].num;
    const ims_trace_field *f = ims_trace_field_of(r->verb, k);
    return f ? f->def : 0;
}

const char *ims_trace_str(const ims_trace_rec *r, ims_trace_key k)
{
    if (!ims_trace_has(r, k))
        return NULL;
    const ims_trace_field *f = ims_trace_field_of(r->verb, k);
    if (!f)
        return NULL;
    if (f->type == IMS_TV_DEV ? !((r->named >> k) & 1u) : (f->type != IMS_TV_NAME && f->type != IMS_TV_PATH))
        return NULL;
    return (const char *)r->arena + r->v[k].span.off;
}

const uint8_t *ims_trace_bytes(const ims_trace_rec *r, ims_trace_key k, size_t *len)
{
    *len = 0;
    if (!ims_trace_has(r, k))
        return NULL;
    *len = r->v[k].span.len;
    return r->arena + r->v[k].span.off;
}

const ims_trace_expect *ims_trace_expects(const ims_trace_rec *r, size_t *n)
{
    const ims_trace_field *f = ims_trace_field_of(r->verb, IMS_K_EXPECT);
    *n = 0;
    if (!f || !ims_trace_has(r, IMS_K_EXPECT) || (f->type != IMS_TV_DMA_EXPECT && f->type != IMS_TV_ERR_EXPECT))
        return NULL;
    *n = r->v[IMS_K_EXPECT].span.len;
    return (const ims_trace_expect *)(const void *)(r->arena + r->v[IMS_K_EXPECT].span.off);
}

const ims_trace_inv_entry *ims_trace_entries(const ims_trace_rec *r, size_t *n)
{
    *n = 0;
    if (!ims_trace_has(r, IMS_K_ENTRIES) || r->verb != IMS_V_HWPT_INVALIDATE)
        return NULL;
    *n = r->v[IMS_K_ENTRIES].span.len;
    return (const ims_trace_inv_entry *)(const void *)(r->arena + r->v[IMS_K_ENTRIES].span.off);
}

/* ---- equality ---- */

static bool same_span_bytes(const ims_trace_rec *a, const ims_trace_rec *b, ims_trace_key k, size_t elem)
{
    ims_trace_span sa = a->v[k].span, sb = b->v[k].span;
    if (sa.len != sb.len)
        return false;
    if (sa.len == 0 || !a->arena || !b->arena)
        return sa.len == 0;
    return !memcmp(a->arena + sa.off, b->arena + sb.off, (size_t)sa.len * elem);
}

bool ims_trace_rec_equal(const ims_trace_rec *a, const ims_trace_rec *b)
{
    if (a->verb != b->verb || a->tmode != b->tmode || a->time_ps != b->time_ps || a->present != b->present ||
        a->named != b->named)
        return false;
    const ims_trace_verb_schema *s = ims_trace_schema(a->verb);
    if (!s)
        return true;
    for (unsigned i = 0; i < s->nfields; i++) {
        const ims_trace_field *f = &s->fields[i];
        ims_trace_key k = f->key;
        if (!ims_trace_has(a, k))
            continue;
        bool same = true;
        switch (f->type) {
        case IMS_TV_FLAG:
            break;
        case IMS_TV_NAME:
        case IMS_TV_PATH:
        case IMS_TV_HEX:
            same = same_span_bytes(a, b, k, 1);
            break;
        case IMS_TV_DEV:
            same = ((a->named >> k) & 1u) ? same_span_bytes(a, b, k, 1) : a->v[k].num == b->v[k].num;
            break;
        case IMS_TV_DMA_EXPECT:
        case IMS_TV_ERR_EXPECT:
            same = same_span_bytes(a, b, k, sizeof(ims_trace_expect));
            break;
        case IMS_TV_ENTRIES:
            same = same_span_bytes(a, b, k, sizeof(ims_trace_inv_entry));
            break;
        default:
            same = a->v[k].num == b->v[k].num;
            break;
        }
        if (!same)
            return false;
    }
    return true;
}

/* ---- value rules ---- */

bool ims_trace_name_valid(const char *s, size_t len)
{
    if (len == 0 || len > IMS_TRACE_NAME_MAX || strlen(s) != len)
        return false;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return false;
    for (size_t i = 1; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '-'))
            return false;
    }
    return true;
}

/* A path must survive a round trip through a text line: no whitespace, no
 * comment character, no control bytes. */
bool ims_trace_path_valid(const char *s, size_t len)
{
    if (len == 0 || len > 4095 || strlen(s) != len)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == '#' || c == 0x7f)
            return false;
    }
    return true;
}

static unsigned count_choices(const char *choices)
{
    unsigned n = 1;
    for (const char *p = choices; *p; p++)
        n += *p == '|';
    return n;
}

/* Numeric value of word i of a NUMSET field ("48|57"). */
static bool numset_contains(const char *choices, uint64_t v)
{
    char word[24];
    for (const char *p = choices;;) {
        const char *bar = strchr(p, '|');
        size_t wl = bar ? (size_t)(bar - p) : strlen(p);
        if (wl < sizeof word) {
            memcpy(word, p, wl);
            word[wl] = '\0';
            if (strtoull(word, NULL, 10) == v)
                return true;
        }
        if (!bar)
            return false;
        p = bar + 1;
    }
}

static void fmt_limit(const ims_trace_field *f, uint64_t v, char *buf, size_t cap)
{
    if (f->type == IMS_TV_TIME || !(f->flags & IMS_TF_HEX))
        snprintf(buf, cap, "%" PRIu64 "%s", v, f->type == IMS_TV_TIME ? "ps" : "");
    else
        snprintf(buf, cap, "0x%" PRIx64, v);
}

const char *ims_trace_field_check_num(const ims_trace_field *f, uint64_t val, char *buf, size_t cap)
{
    char lim[32];
    switch (f->type) {
    case IMS_TV_NUM:
    case IMS_TV_SIZE:
    case IMS_TV_TIME:
        if (val < f->min) {
            if (f->min == 1)
                return "must not be 0";
            fmt_limit(f, f->min, lim, sizeof lim);
            snprintf(buf, cap, "below the minimum %s", lim);
            return buf;
        }
        if (val > f->max) {
            fmt_limit(f, f->max, lim, sizeof lim);
            snprintf(buf, cap, "out of range (max %s)", lim);
            return buf;
        }
        if (f->align && val % f->align) {
            snprintf(buf, cap, "not a multiple of %u", f->align);
            return buf;
        }
        return NULL;
    case IMS_TV_NUMSET:
    case IMS_TV_ENUM:
        if (f->type == IMS_TV_NUMSET ? numset_contains(f->choices, val) : val < count_choices(f->choices))
            return NULL;
        snprintf(buf, cap, "must be one of %s", f->choices);
        return buf;
    case IMS_TV_BITS:
        if (val != 0 && val < (1ull << count_choices(f->choices)))
            return NULL;
        snprintf(buf, cap, "must be a combination of %s", f->choices);
        return buf;
    default:
        return NULL;
    }
}

/* ---- record validation ---- */

/* Bytes a NOWRAP field's access covers. */
static uint64_t access_extent(const ims_trace_rec *r)
{
    switch (r->verb) {
    case IMS_V_MEM_W32:
    case IMS_V_WAIT_MEM:
        return 4;
    case IMS_V_MEM_W64:
        return 8;
    case IMS_V_MEM_WRITE:
        return r->v[IMS_K_HEX].span.len;
    default:
        return r->v[IMS_K_LEN].num;
    }
}

static int check_span_value(const ims_trace_rec *r, const ims_trace_field *f, const char *verb, ims_error *err)
{
    ims_trace_key k = f->key;
    const char *kn = ims_trace_key_name(k);
    ims_trace_span sp = r->v[k].span;
    if (!r->arena || (size_t)sp.off > r->arena_len)
        return ims_errorf(err, EINVAL, "%s: %s: value outside the record", verb, kn);
    size_t room = r->arena_len - sp.off;
    const char *str = (const char *)r->arena + sp.off;
    switch (f->type) {
    case IMS_TV_NAME:
    case IMS_TV_DEV:
        if ((size_t)sp.len + 1 > room || !ims_trace_name_valid(str, sp.len))
            return ims_errorf(err, EINVAL, "%s: %s: not a valid name", verb, kn);
        return 0;
    case IMS_TV_PATH:
        if ((size_t)sp.len + 1 > room || !ims_trace_path_valid(str, sp.len))
            return ims_errorf(err, EINVAL, "%s: %s: not a valid path", verb, kn);
        return 0;
    case IMS_TV_HEX:
        if (sp.len == 0 || sp.len > room)
            return ims_errorf(err, EINVAL, "%s: %s: empty byte string", verb, kn);
        return 0;
    case IMS_TV_DMA_EXPECT:
    case IMS_TV_ERR_EXPECT: {
        if (sp.len == 0 || sp.len > IMS_TRACE_EXPECT_MAX || (size_t)sp.len * sizeof(ims_trace_expect) > room)
            return ims_errorf(err, EINVAL, "%s: expect: 1 to %d alternatives", verb, IMS_TRACE_EXPECT_MAX);
        const ims_trace_expect *e = (const ims_trace_expect *)(const void *)(r->arena + sp.off);
        for (uint32_t i = 0; i < sp.len; i++) {
            bool ok = f->type == IMS_TV_ERR_EXPECT
                          ? e[i].kind == IMS_EXP_ERRNO && e[i].value <= 1000 &&
                                ims_trace_errno_name((int)e[i].value) != NULL
                          : e[i].kind == IMS_EXP_PA || (e[i].kind == IMS_EXP_FAULT && e[i].value == 0) ||
                                (e[i].kind == IMS_EXP_FAULT_REASON && e[i].value <= 0xff);
            if (!ok || e[i].pad)
                return ims_errorf(err, EINVAL, "%s: expect: bad alternative", verb);
            for (uint32_t j = 0; j < i; j++)
                if (e[j].kind == e[i].kind && e[j].value == e[i].value)
                    return ims_errorf(err, EINVAL, "%s: expect: duplicate alternative", verb);
        }
        return 0;
    }
    case IMS_TV_ENTRIES: {
        if (sp.len == 0 || sp.len > ENTRIES_MAX || (size_t)sp.len * sizeof(ims_trace_inv_entry) > room)
            return ims_errorf(err, EINVAL, "%s: entries: 1 to %u entries", verb, ENTRIES_MAX);
        const ims_trace_inv_entry *e = (const ims_trace_inv_entry *)(const void *)(r->arena + sp.off);
        for (uint32_t i = 0; i < sp.len; i++)
            if (e[i].leaf > 1 || e[i].pad)
                return ims_errorf(err, EINVAL, "%s: entries: bad entry %u", verb, i);
        return 0;
    }
    default:
        return 0;
    }
}

int ims_trace_rec_validate(const ims_trace_rec *r, ims_error *err)
{
    const ims_trace_verb_schema *s = ims_trace_schema(r->verb);
    if (!s)
        return ims_errorf(err, EINVAL, "unknown verb code %u", (unsigned)r->verb);
    const char *verb = s->name;
    if (r->tmode > IMS_TIME_REL || (r->tmode == IMS_TIME_NONE && r->time_ps) ||
        (r->tmode == IMS_TIME_REL && !r->time_ps))
        return ims_errorf(err, EINVAL, "%s: bad time prefix", verb);
    if (s->cls == IMS_VC_TOPOLOGY && r->tmode != IMS_TIME_NONE)
        return ims_errorf(err, EINVAL, "%s: topology records take no time prefix", verb);

    uint64_t allowed = 0, devs = 0;
    for (unsigned i = 0; i < s->nfields; i++) {
        const ims_trace_field *f = &s->fields[i];
        allowed |= 1ull << f->key;
        if (f->type == IMS_TV_DEV)
            devs |= 1ull << f->key;
        if ((f->flags & IMS_TF_REQUIRED) && !ims_trace_has(r, f->key))
            return ims_errorf(err, EINVAL, "%s: missing required key '%s'", verb, ims_trace_key_name(f->key));
    }
    if (r->present & ~allowed) {
        unsigned k = (unsigned)__builtin_ctzll(r->present & ~allowed);
        return ims_errorf(err, EINVAL, "%s: unknown key '%s'", verb, ims_trace_key_name((ims_trace_key)k));
    }
    if (r->named & ~(devs & r->present))
        return ims_errorf(err, EINVAL, "%s: name given for a key that takes a number", verb);

    char buf[96];
    for (unsigned i = 0; i < s->nfields; i++) {
        const ims_trace_field *f = &s->fields[i];
        ims_trace_key k = f->key;
        if (!ims_trace_has(r, k))
            continue;
        if (f->requires && !ims_trace_has(r, (ims_trace_key)(f->requires - 1)))
            return ims_errorf(err, EINVAL, "%s: %s requires %s", verb, ims_trace_key_name(k),
                              ims_trace_key_name((ims_trace_key)(f->requires - 1)));
        bool spanned = f->type >= IMS_TV_NAME && !(f->type == IMS_TV_DEV && !((r->named >> k) & 1u));
        if (spanned) {
            int rc = check_span_value(r, f, verb, err);
            if (rc)
                return rc;
        } else if (f->type == IMS_TV_DEV) {
            if (r->v[k].num > 0xffff)
                return ims_errorf(err, EINVAL, "%s: %s=0x%" PRIx64 ": out of range (max 0xffff)", verb,
                                  ims_trace_key_name(k), r->v[k].num);
        } else if (f->type == IMS_TV_FLAG) {
            if (r->v[k].num)
                return ims_errorf(err, EINVAL, "%s: flag %s carries a value", verb, ims_trace_key_name(k));
        } else {
            const char *why = ims_trace_field_check_num(f, r->v[k].num, buf, sizeof buf);
            if (why) {
                char val[40];
                ims_trace_format_value(r, f, val, sizeof val);
                return ims_errorf(err, EINVAL, "%s: %s=%s: %s", verb, ims_trace_key_name(k), val, why);
            }
        }
        if (f->flags & IMS_TF_NOWRAP) { /* the extent's key is required, so present by now */
            uint64_t base = r->v[k].num, ext = access_extent(r);
            if (ext && base + (ext - 1) < base)
                return ims_errorf(err, EINVAL, "%s: %s=0x%" PRIx64 " + %" PRIu64 " bytes wraps past 2^64", verb,
                                  ims_trace_key_name(k), base, ext);
        }
    }

    /* Cross-key rules. */
    if (r->verb == IMS_V_DMA && ims_trace_has(r, IMS_K_RD) == ims_trace_has(r, IMS_K_WR))
        return ims_errorf(err, EINVAL, "dma: needs exactly one of rd or wr");
    if (r->verb == IMS_V_HWPT_INVALIDATE && ims_trace_has(r, IMS_K_EXPECT_DONE) &&
        r->v[IMS_K_EXPECT_DONE].num > r->v[IMS_K_ENTRIES].span.len)
        return ims_errorf(err, EINVAL, "%s: expect_done=%" PRIu64 " exceeds the %u entries", verb,
                          r->v[IMS_K_EXPECT_DONE].num, r->v[IMS_K_ENTRIES].span.len);
    /* Every accepted record must fit a text line again (the binary form can
     * carry longer values than the text form). Only big records need the
     * exact count. */
    if (r->arena_len * 2 + 4096 > IMS_TRACE_LINE_MAX && ims_trace_format(r, NULL, 0) > IMS_TRACE_LINE_MAX)
        return ims_errorf(err, E2BIG, "%s: record longer than %u bytes as text", verb, IMS_TRACE_LINE_MAX);
    return 0;
}

/* ---- rules across records ---- */

int ims_trace_seq_check(ims_trace_seq *s, const ims_trace_rec *r, ims_error *err)
{
    const ims_trace_verb_schema *vs = ims_trace_schema(r->verb);
    assert(vs);
    if (vs->cls == IMS_VC_TOPOLOGY) {
        if (s->timed_seen)
            return ims_errorf(err, EINVAL,
                              "%s: topology record after the first timed record (line %" PRIu64
                              "); iommu, device and vm records come first",
                              vs->name, s->first_timed_line);
        return 0;
    }
    if (!s->timed_seen) {
        s->timed_seen = true;
        s->first_timed_line = r->line;
    }
    if (r->tmode == IMS_TIME_ABS) {
        if (s->abs_seen && r->time_ps < s->last_abs_ps) {
            char now[32], before[32];
            ims_trace_format_time(r->time_ps, now, sizeof now);
            ims_trace_format_time(s->last_abs_ps, before, sizeof before);
            return ims_errorf(err, EINVAL, "@%s is earlier than @%s at line %" PRIu64 " (time never goes backwards)",
                              now, before, s->last_abs_line);
        }
        s->abs_seen = true;
        s->last_abs_ps = r->time_ps;
        s->last_abs_line = r->line;
    }
    return 0;
}

int ims_trace_resolve_path(const char *trace_dir, const char *path, char *out, size_t cap)
{
    int n;
    size_t dl = trace_dir ? strlen(trace_dir) : 0;
    if (path[0] == '/' || dl == 0 || !strcmp(trace_dir, "."))
        n = snprintf(out, cap, "%s", path);
    else
        n = snprintf(out, cap, "%s%s%s", trace_dir, trace_dir[dl - 1] == '/' ? "" : "/", path);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}
