/* Streaming parser of the trace text format v1. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/config.h"
#include "traces/text_reader.h"

#define ENTRIES_MAX 65536u
#define ECHO_MAX 48 /* longest value quoted back in a message */

struct ims_text_reader {
    ims_trace_src *src;
    bool own_src;
    char *name, *dir;
    uint64_t lineno;
    bool header_done;
    ims_trace_seq seq;
    char *line;
    size_t line_cap;
    ims_error failed; /* sticky: code != 0 after the first error */
};

/* ---- lifetime ---- */

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n < 2 ? 2 : n); /* room for "." */
    if (d)
        memcpy(d, s, n);
    return d;
}

ims_text_reader *ims_text_reader_open(ims_trace_src *src, bool own_src, const char *name, ims_error *err)
{
    ims_text_reader *r = calloc(1, sizeof *r);
    if (!name)
        name = "<trace>";
    if (r) {
        r->src = src;
        r->own_src = own_src;
        r->name = dup_str(name);
        r->dir = dup_str(name);
    }
    if (!r || !r->name || !r->dir) {
        if (r) {
            free(r->name);
            free(r->dir);
            free(r);
        }
        if (own_src)
            ims_trace_src_close(src);
        ims_errorf(err, ENOMEM, "%s: out of memory", name);
        return NULL;
    }
    char *slash = strrchr(r->dir, '/');
    if (!slash)
        strcpy(r->dir, ".");
    else if (slash == r->dir)
        r->dir[1] = '\0'; /* "/x.ist" -> "/" */
    else
        *slash = '\0';
    return r;
}

ims_text_reader *ims_text_reader_open_file(FILE *f, const char *name, ims_error *err)
{
    ims_trace_src *s = ims_trace_src_file(f, false);
    if (!s) {
        ims_errorf(err, ENOMEM, "%s: out of memory", name ? name : "<trace>");
        return NULL;
    }
    return ims_text_reader_open(s, true, name, err);
}

ims_text_reader *ims_text_reader_open_mem(const char *buf, size_t len, const char *name, ims_error *err)
{
    ims_trace_src *s = ims_trace_src_mem(buf, len);
    if (!s) {
        ims_errorf(err, ENOMEM, "%s: out of memory", name ? name : "<trace>");
        return NULL;
    }
    return ims_text_reader_open(s, true, name, err);
}

void ims_text_reader_close(ims_text_reader *r)
{
    if (!r)
        return;
    if (r->own_src)
        ims_trace_src_close(r->src);
    free(r->name);
    free(r->dir);
    free(r->line);
    free(r);
}

const char *ims_text_reader_name(const ims_text_reader *r)
{
    return r->name;
}

const char *ims_text_reader_dir(const ims_text_reader *r)
{
    return r->dir;
}

uint64_t ims_text_reader_line(const ims_text_reader *r)
{
    return r->lineno;
}

/* ---- lines and tokens ---- */

/* Next line without its newline into r->line: 1, 0 at end of input, <0 error. */
static int read_line(ims_text_reader *r, size_t *len_out, ims_error *e)
{
    size_t len = 0;
    bool any = false;
    for (;;) {
        const uint8_t *p;
        long got = ims_trace_src_peek(r->src, &p, 1, e); /* whatever is buffered */
        if (got < 0)
            return (int)got;
        if (got == 0)
            break;
        any = true;
        const uint8_t *nl = memchr(p, '\n', (size_t)got);
        size_t take = nl ? (size_t)(nl - p) : (size_t)got;
        if (len + take > IMS_TRACE_LINE_MAX)
            return ims_errorf(e, E2BIG, "line longer than %u bytes", IMS_TRACE_LINE_MAX);
        if (len + take + 1 > r->line_cap) {
            size_t cap = r->line_cap ? r->line_cap : 256;
            while (cap < len + take + 1)
                cap *= 2;
            char *l = realloc(r->line, cap);
            if (!l)
                return ims_errorf(e, ENOMEM, "out of memory");
            r->line = l;
            r->line_cap = cap;
        }
        memcpy(r->line + len, p, take);
        len += take;
        ims_trace_src_consume(r->src, take + (nl ? 1 : 0));
        if (nl)
            break;
    }
    if (!any)
        return 0;
    r->line[len] = '\0';
    *len_out = len;
    return 1;
}

/* Strip the comment and a CR before the newline; reject bytes a text trace
 * cannot hold (NUL anywhere, control characters outside comments). */
static int clean_line(char *line, size_t len, ims_error *e)
{
    if (memchr(line, '\0', len))
        return ims_errorf(e, EINVAL, "NUL byte in line (is this a binary file?)");
    if (len && line[len - 1] == '\r')
        line[--len] = '\0';
    char *hash = memchr(line, '#', len);
    if (hash)
        *hash = '\0';
    for (const unsigned char *p = (const unsigned char *)line; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return ims_errorf(e, EINVAL, "control character 0x%02x in line", *p);
    return 0;
}

static char *next_token(char **cursor)
{
    char *p = *cursor;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p) {
        *cursor = p;
        return NULL;
    }
    char *start = p;
    while (*p && *p != ' ' && *p != '\t')
        p++;
    if (*p)
        *p++ = '\0';
    *cursor = p;
    return start;
}

/* ---- values ---- */

/* "VERB: KEY=VALUE: why", with long values shortened. */
__attribute__((format(printf, 5, 6))) static int bad_value(ims_error *e, const char *verb, const char *key,
                                                           const char *val, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    size_t n = strlen(val);
    return ims_errorf(e, EINVAL, "%s: %s=%.*s%s: %s", verb, key, n > ECHO_MAX ? ECHO_MAX : (int)n, val,
                      n > ECHO_MAX ? "..." : "", why);
}

/* Index of word [s, s+n) in a '|'-separated list, or -1. */
static int word_index(const char *choices, const char *s, size_t n)
{
    int idx = 0;
    for (const char *p = choices;; idx++) {
        const char *bar = strchr(p, '|');
        size_t wl = bar ? (size_t)(bar - p) : strlen(p);
        if (wl == n && !memcmp(p, s, n))
            return idx;
        if (!bar)
            return -1;
        p = bar + 1;
    }
}

static int hex_digit(char c)
{
    return (c >= '0' && c <= '9') ? c - '0'
           : (c >= 'a' && c <= 'f') ? c - 'a' + 10
           : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                    : -1;
}

static int store_span(ims_trace_rec *rec, ims_trace_key k, size_t bytes, size_t count, uint8_t **data, const char *verb,
                      ims_error *e)
{
    uint32_t off;
    int rc = ims_trace_rec_alloc(rec, bytes, &off);
    if (rc)
        return ims_errorf(e, rc, "%s: %s: value too large", verb, ims_trace_key_name(k));
    rec->v[k].span.off = off;
    rec->v[k].span.len = (uint32_t)count;
    *data = rec->arena + off;
    return 0;
}

static int parse_dma_expect(ims_trace_rec *rec, const char *verb, const char *val, ims_error *e)
{
    ims_trace_expect alt[IMS_TRACE_EXPECT_MAX];
    size_t n = 0;
    for (const char *p = val;;) {
        const char *bar = strchr(p, '|');
        size_t wl = bar ? (size_t)(bar - p) : strlen(p);
        char w[40];
        if (wl == 0)
            return bad_value(e, verb, "expect", val, "empty alternative");
        if (n == IMS_TRACE_EXPECT_MAX)
            return bad_value(e, verb, "expect", val, "more than %d alternatives", IMS_TRACE_EXPECT_MAX);
        if (wl >= sizeof w)
            return bad_value(e, verb, "expect", val, "bad alternative (want 0xPA, fault or fault:0xRR)");
        memcpy(w, p, wl);
        w[wl] = '\0';
        ims_trace_expect x = {0};
        uint64_t v;
        if (!strcmp(w, "fault")) {
            x.kind = IMS_EXP_FAULT;
        } else if (!strncmp(w, "fault:", 6)) {
            int rc = ims_parse_u64(w + 6, &v);
            if (rc == -EINVAL)
                return bad_value(e, verb, "expect", val, "'%s': fault reason is not a number", w);
            if (rc || v > 0xff)
                return bad_value(e, verb, "expect", val, "'%s': fault reason out of range (max 0xff)", w);
            x.kind = IMS_EXP_FAULT_REASON;
            x.value = v;
        } else {
            int rc = ims_parse_u64(w, &v);
            if (rc == -ERANGE)
                return bad_value(e, verb, "expect", val, "'%s': address too large", w);
            if (rc)
                return bad_value(e, verb, "expect", val, "bad alternative '%s' (want 0xPA, fault or fault:0xRR)", w);
            x.kind = IMS_EXP_PA;
            x.value = v;
        }
        for (size_t i = 0; i < n; i++)
            if (alt[i].kind == x.kind && alt[i].value == x.value)
                return bad_value(e, verb, "expect", val, "duplicate alternative '%s'", w);
        alt[n++] = x;
        if (!bar)
            break;
        p = bar + 1;
    }
    uint8_t *d = NULL;
    int rc = store_span(rec, IMS_K_EXPECT, n * sizeof alt[0], n, &d, verb, e);
    if (!rc)
        memcpy(d, alt, n * sizeof alt[0]);
    return rc;
}

static int parse_err_expect(ims_trace_rec *rec, const char *verb, const char *val, ims_error *e)
{
    ims_trace_expect alt[IMS_TRACE_EXPECT_MAX];
    size_t n = 0;
    for (const char *p = val;;) {
        const char *bar = strchr(p, '|');
        size_t wl = bar ? (size_t)(bar - p) : strlen(p);
        char w[24];
        if (wl == 0)
            return bad_value(e, verb, "expect", val, "empty alternative");
        if (n == IMS_TRACE_EXPECT_MAX)
            return bad_value(e, verb, "expect", val, "more than %d alternatives", IMS_TRACE_EXPECT_MAX);
        int code = -1;
        if (wl < sizeof w) {
            memcpy(w, p, wl);
            w[wl] = '\0';
            code = ims_trace_errno_lookup(w);
        }
        if (code < 0)
            return bad_value(e, verb, "expect", val,
                             "unknown result '%.*s' (want ok, EPERM, ENOENT, E2BIG, ENOMEM, EFAULT, EBUSY, "
                             "EEXIST, EINVAL, ENOTTY, EOVERFLOW, EMSGSIZE, EOPNOTSUPP or ETIMEDOUT)",
                             wl > 20 ? 20 : (int)wl, p);
        for (size_t i = 0; i < n; i++)
            if (alt[i].value == (uint64_t)code)
                return bad_value(e, verb, "expect", val, "duplicate alternative '%s'", w);
        alt[n++] = (ims_trace_expect){.kind = IMS_EXP_ERRNO, .value = (uint64_t)code};
        if (!bar)
            break;
        p = bar + 1;
    }
    uint8_t *d = NULL;
    int rc = store_span(rec, IMS_K_EXPECT, n * sizeof alt[0], n, &d, verb, e);
    if (!rc)
        memcpy(d, alt, n * sizeof alt[0]);
    return rc;
}

/* entries=ADDR:NPAGES[:leaf],... with NPAGES a number or `all`. */
static int parse_entries(ims_trace_rec *rec, const char *verb, const char *val, ims_error *e)
{
    size_t n = 1;
    for (const char *p = val; *p; p++)
        n += *p == ',';
    if (n > ENTRIES_MAX)
        return bad_value(e, verb, "entries", val, "more than %u entries", ENTRIES_MAX);
    uint8_t *d = NULL;
    int rc = store_span(rec, IMS_K_ENTRIES, n * sizeof(ims_trace_inv_entry), n, &d, verb, e);
    if (rc)
        return rc;
    ims_trace_inv_entry *ent = (ims_trace_inv_entry *)(void *)d;
    const char *p = val;
    for (size_t i = 0; i < n; i++) {
        const char *comma = strchr(p, ',');
        size_t wl = comma ? (size_t)(comma - p) : strlen(p);
        char w[80], *parts[4] = {NULL};
        if (wl == 0)
            return bad_value(e, verb, "entries", val, "entry %zu is empty", i + 1);
        if (wl >= sizeof w)
            return bad_value(e, verb, "entries", val, "entry %zu is too long", i + 1);
        memcpy(w, p, wl);
        w[wl] = '\0';
        size_t np = 0;
        for (char *q = w; np < 4; np++) {
            parts[np] = q;
            char *colon = strchr(q, ':');
            if (!colon) {
                np++;
                break;
            }
            *colon = '\0';
            q = colon + 1;
        }
        if (np < 2 || np > 3)
            return bad_value(e, verb, "entries", val, "entry %zu: want ADDR:NPAGES[:leaf]", i + 1);
        uint64_t addr, npages;
        rc = ims_parse_u64(parts[0], &addr);
        if (rc)
            return bad_value(e, verb, "entries", val, "entry %zu: bad address '%s'", i + 1, parts[0]);
        if (!strcmp(parts[1], "all"))
            npages = IMS_TRACE_NPAGES_ALL;
        else if (ims_parse_u64(parts[1], &npages))
            return bad_value(e, verb, "entries", val, "entry %zu: bad page count '%s' (a number or all)", i + 1,
                             parts[1]);
        if (np == 3 && strcmp(parts[2], "leaf"))
            return bad_value(e, verb, "entries", val, "entry %zu: unknown flag '%s' (only leaf)", i + 1, parts[2]);
        ent[i].addr = addr;
        ent[i].npages = npages;
        ent[i].leaf = np == 3;
        p = comma ? comma + 1 : p + wl;
    }
    return 0;
}

static int parse_value(ims_trace_rec *rec, const ims_trace_field *f, const char *verb, const char *val,
                       ims_error *e)
{
    ims_trace_key k = f->key;
    const char *key = ims_trace_key_name(k);
    char buf[96];
    uint64_t v = 0;
    int rc;
    switch (f->type) {
    case IMS_TV_FLAG:
        return ims_errorf(e, EINVAL, "%s: flag '%s' takes no value", verb, key);
    case IMS_TV_NUM:
    case IMS_TV_NUMSET:
        rc = ims_parse_u64(val, &v);
        if (rc)
            return bad_value(e, verb, key, val, "%s", rc == -ERANGE ? "number too large" : "not a number");
        break;
    case IMS_TV_SIZE:
        rc = ims_parse_size(val, &v);
        if (rc)
            return bad_value(e, verb, key, val, "%s",
                             rc == -ERANGE ? "size too large"
                                           : "not a size (a number with an optional K, M or G suffix)");
        break;
    case IMS_TV_TIME:
        rc = ims_parse_time_ps(val, "ns", &v);
        if (rc)
            return bad_value(e, verb, key, val, "%s",
                             rc == -ERANGE ? "time too large"
                                           : "not a time (a number with an optional ns, us, ms or s suffix)");
        break;
    case IMS_TV_ENUM: {
        int idx = word_index(f->choices, val, strlen(val));
        if (idx < 0)
            return bad_value(e, verb, key, val, "must be one of %s", f->choices);
        v = (uint64_t)idx;
        break;
    }
    case IMS_TV_BITS:
        for (const char *p = val;;) {
            const char *bar = strchr(p, '|');
            size_t wl = bar ? (size_t)(bar - p) : strlen(p);
            int idx = word_index(f->choices, p, wl);
            if (idx < 0)
                return bad_value(e, verb, key, val, "unknown word '%.*s' (choices: %s)", wl > 20 ? 20 : (int)wl, p,
                                 f->choices);
            if ((v >> idx) & 1u)
                return bad_value(e, verb, key, val, "'%.*s' given twice", (int)wl, p);
            v |= 1ull << idx;
            if (!bar)
                break;
            p = bar + 1;
        }
        break;
    case IMS_TV_DEV:
        if (val[0] >= '0' && val[0] <= '9') {
            rc = ims_parse_u64(val, &v);
            if (rc)
                return bad_value(e, verb, key, val, "not a SID or device name");
            if (v > 0xffff)
                return bad_value(e, verb, key, val, "out of range (max 0xffff)");
            break;
        }
        __attribute__((fallthrough)); /* a device name */
    case IMS_TV_NAME:
        if (!ims_trace_name_valid(val, strlen(val)))
            return bad_value(e, verb, key, val,
                             f->type == IMS_TV_DEV ? "not a SID or device name"
                                                   : "not a valid name (a letter or '_', then letters, digits, "
                                                     "'_', '.' or '-'; at most 63)");
        rc = ims_trace_rec_set_bytes(rec, k, val, strlen(val));
        if (rc)
            return ims_errorf(e, rc, "%s: %s: value too large", verb, key);
        if (f->type == IMS_TV_DEV)
            rec->named |= 1ull << k;
        return 0;
    case IMS_TV_PATH:
        if (!ims_trace_path_valid(val, strlen(val)))
            return bad_value(e, verb, key, val, "path too long (max 4095 bytes)");
        rc = ims_trace_rec_set_bytes(rec, k, val, strlen(val));
        return rc ? ims_errorf(e, rc, "%s: %s: value too large", verb, key) : 0;
    case IMS_TV_HEX: {
        size_t n = strlen(val);
        if (n % 2)
            return bad_value(e, verb, key, val, "odd number of hex digits");
        uint8_t *d = NULL;
        rc = store_span(rec, k, n / 2, n / 2, &d, verb, e);
        if (rc)
            return rc;
        for (size_t i = 0; i < n; i += 2) {
            int hi = hex_digit(val[i]), lo = hex_digit(val[i + 1]);
            if (hi < 0 || lo < 0)
                return bad_value(e, verb, key, val, "'%c' is not a hex digit", hi < 0 ? val[i] : val[i + 1]);
            d[i / 2] = (uint8_t)(hi << 4 | lo);
        }
        rec->present |= 1ull << k;
        return 0;
    }
    case IMS_TV_DMA_EXPECT:
        rc = parse_dma_expect(rec, verb, val, e);
        if (!rc)
            rec->present |= 1ull << k;
        return rc;
    case IMS_TV_ERR_EXPECT:
        rc = parse_err_expect(rec, verb, val, e);
        if (!rc)
            rec->present |= 1ull << k;
        return rc;
    case IMS_TV_ENTRIES:
        rc = parse_entries(rec, verb, val, e);
        if (!rc)
            rec->present |= 1ull << k;
        return rc;
    }
    const char *why = ims_trace_field_check_num(f, v, buf, sizeof buf);
    if (why)
        return bad_value(e, verb, key, val, "%s", why);
    rec->v[k].num = v;
    rec->present |= 1ull << k;
    return 0;
}

/* ---- records ---- */

static void key_list(const ims_trace_verb_schema *s, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < s->nfields && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? " " : "", ims_trace_key_name(s->fields[i].key));
}

static int unknown_key(const ims_trace_verb_schema *s, const char *key, ims_error *e)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (unsigned i = 0; i < s->nfields; i++) {
        const char *cand = ims_trace_key_name(s->fields[i].key);
        size_t d = ims_edit_distance(key, cand), len = strlen(cand);
        if (d <= (len / 3 > 2 ? len / 3 : 2) && d < best_d) {
            best_d = d;
            best = cand;
        }
    }
    size_t n = strlen(key);
    int shown = n > ECHO_MAX ? ECHO_MAX : (int)n;
    if (best)
        return ims_errorf(e, EINVAL, "%s: unknown key '%.*s' (did you mean '%s'?)", s->name, shown, key, best);
    if (!s->nfields)
        return ims_errorf(e, EINVAL, "%s: unknown key '%.*s' (%s takes no keys)", s->name, shown, key, s->name);
    char keys[256];
    key_list(s, keys, sizeof keys);
    return ims_errorf(e, EINVAL, "%s: unknown key '%.*s' (%s takes: %s)", s->name, shown, key, s->name, keys);
}

static int parse_time_prefix(ims_trace_rec *rec, const char *tok, ims_error *e)
{
    uint64_t ps;
    int rc = ims_parse_time_ps(tok + 1, "ns", &ps);
    if (rc) {
        size_t n = strlen(tok);
        return ims_errorf(e, EINVAL, "bad time '%.*s' (want %c and a number with an optional ns, us, ms or s suffix)",
                          n > ECHO_MAX ? ECHO_MAX : (int)n, tok, tok[0]);
    }
    if (tok[0] == '@') {
        rec->tmode = IMS_TIME_ABS;
        rec->time_ps = ps;
    } else if (ps) { /* +0 is the same as no prefix */
        rec->tmode = IMS_TIME_REL;
        rec->time_ps = ps;
    }
    return 0;
}

static int parse_record(ims_text_reader *r, char *cursor, char *first, ims_trace_rec *rec, ims_error *e)
{
    char *tok = first;
    int rc;
    if (tok[0] == '@' || tok[0] == '+') {
        rc = parse_time_prefix(rec, tok, e);
        if (rc)
            return rc;
        tok = next_token(&cursor);
        if (!tok)
            return ims_errorf(e, EINVAL, "time prefix without a record");
    }
    ims_trace_verb verb = ims_trace_verb_lookup(tok);
    if (verb == IMS_V_NONE) {
        if (!strcmp(tok, "iommusim-trace"))
            return ims_errorf(e, EINVAL, "second header line");
        const char *sugg = ims_trace_verb_suggest(tok);
        size_t n = strlen(tok);
        int shown = n > ECHO_MAX ? ECHO_MAX : (int)n;
        if (sugg)
            return ims_errorf(e, EINVAL, "unknown verb '%.*s' (did you mean '%s'?)", shown, tok, sugg);
        return ims_errorf(e, EINVAL, "unknown verb '%.*s'", shown, tok);
    }
    rec->verb = verb;
    const ims_trace_verb_schema *s = ims_trace_schema(verb);
    while ((tok = next_token(&cursor))) {
        char *eq = strchr(tok, '=');
        if (eq)
            *eq = '\0';
        const ims_trace_field *f = ims_trace_field_of(verb, ims_trace_key_lookup(tok));
        if (!f)
            return unknown_key(s, tok, e);
        if (ims_trace_has(rec, f->key))
            return ims_errorf(e, EINVAL, "%s: duplicate key '%s'", s->name, tok);
        if (f->type == IMS_TV_FLAG && !eq) {
            rec->present |= 1ull << f->key;
            continue;
        }
        if (!eq)
            return ims_errorf(e, EINVAL, "%s: key '%s' needs a value (%s=...)", s->name, tok, tok);
        if (!eq[1] && f->type != IMS_TV_FLAG)
            return ims_errorf(e, EINVAL, "%s: %s=: empty value", s->name, tok);
        rc = parse_value(rec, f, s->name, eq + 1, e);
        if (rc)
            return rc;
    }
    rc = ims_trace_rec_validate(rec, e);
    if (!rc)
        rc = ims_trace_seq_check(&r->seq, rec, e);
    return rc;
}

static int parse_header(char *cursor, const char *first, ims_error *e)
{
    if (strcmp(first, "iommusim-trace"))
        return ims_errorf(e, EINVAL, "expected the header line 'iommusim-trace 1' before any record");
    const char *ver = next_token(&cursor);
    if (!ver)
        return ims_errorf(e, EINVAL, "header: missing version (want 'iommusim-trace 1')");
    if (strcmp(ver, "1")) {
        size_t n = strlen(ver);
        return ims_errorf(e, EINVAL, "unsupported trace format version '%.*s' (this build reads version 1)",
                          n > ECHO_MAX ? ECHO_MAX : (int)n, ver);
    }
    const char *extra = next_token(&cursor);
    if (extra) {
        size_t n = strlen(extra);
        return ims_errorf(e, EINVAL, "header: unexpected '%.*s' after the version", n > ECHO_MAX ? ECHO_MAX : (int)n,
                          extra);
    }
    return 0;
}

static int fail(ims_text_reader *r, const ims_error *inner, ims_error *err)
{
    ims_errorf(&r->failed, inner->code ? inner->code : EINVAL, "%s:%" PRIu64 ": %s", r->name,
               r->lineno ? r->lineno : 1, inner->msg);
    if (err)
        *err = r->failed;
    return r->failed.code;
}

int ims_text_reader_next(ims_text_reader *r, ims_trace_rec *rec, ims_error *err)
{
    if (r->failed.code) {
        if (err)
            *err = r->failed;
        return r->failed.code;
    }
    ims_error e = {0};
    for (;;) {
        size_t len = 0;
        int rc = read_line(r, &len, &e);
        if (rc < 0) {
            r->lineno++;
            return fail(r, &e, err);
        }
        if (rc == 0) {
            if (!r->header_done) {
                ims_errorf(&e, EINVAL, "missing the header line 'iommusim-trace 1' (empty trace)");
                return fail(r, &e, err);
            }
            return 0;
        }
        r->lineno++;
        if (clean_line(r->line, len, &e))
            return fail(r, &e, err);
        char *cursor = r->line;
        char *first = next_token(&cursor);
        if (!first)
            continue;
        if (!r->header_done) {
            if (parse_header(cursor, first, &e))
                return fail(r, &e, err);
            r->header_done = true;
            continue;
        }
        ims_trace_rec_reset(rec);
        rec->line = r->lineno;
        if (parse_record(r, cursor, first, rec, &e)) {
            ims_trace_rec_reset(rec);
            return fail(r, &e, err);
        }
        return 1;
    }
}
