/* Canonical text writer. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/text_writer.h"

/* snprintf-style appender: counts the full length even past the buffer. */
typedef struct out {
    char *buf;
    size_t cap, len;
} out;

static void put(out *o, const char *s, size_t n)
{
    if (o->len + 1 < o->cap) {
        size_t room = o->cap - 1 - o->len;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

static void puts_(out *o, const char *s)
{
    put(o, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void putf(out *o, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static size_t finish(out *o)
{
    if (o->cap)
        o->buf[o->len < o->cap ? o->len : o->cap - 1] = '\0';
    return o->len;
}

static void put_time(out *o, uint64_t ps)
{
    static const struct {
        const char *name;
        uint64_t scale;
    } units[] = {{"s", 1000000000000ull}, {"ms", 1000000000ull}, {"us", 1000000ull}, {"ns", 1000ull}, {"ps", 1}};
    if (ps == 0) {
        puts_(o, "0ns");
        return;
    }
    for (size_t i = 0;; i++)
        if (ps % units[i].scale == 0) {
            putf(o, "%" PRIu64 "%s", ps / units[i].scale, units[i].name);
            return;
        }
}

static void put_size(out *o, uint64_t v)
{
    static const struct {
        char suffix;
        unsigned shift;
    } units[] = {{'G', 30}, {'M', 20}, {'K', 10}};
    for (size_t i = 0; v && i < 3; i++)
        if (!(v & ((1ull << units[i].shift) - 1))) {
            putf(o, "%" PRIu64 "%c", v >> units[i].shift, units[i].suffix);
            return;
        }
    putf(o, "%" PRIu64, v);
}

/* Word i of a '|'-separated list. */
static void put_word(out *o, const char *choices, uint64_t idx)
{
    const char *p = choices;
    for (uint64_t i = 0; i < idx && p; i++) {
        p = strchr(p, '|');
        if (p)
            p++;
    }
    if (!p) {
        putf(o, "%" PRIu64, idx); /* unreachable for valid records */
        return;
    }
    const char *bar = strchr(p, '|');
    put(o, p, bar ? (size_t)(bar - p) : strlen(p));
}

static void put_value(out *o, const ims_trace_rec *r, const ims_trace_field *f)
{
    ims_trace_key k = f->key;
    uint64_t num = r->v[k].num;
    ims_trace_span sp = r->v[k].span;
    /* Only span-typed values point into the arena (valid records have one). */
    const uint8_t *a = f->type >= IMS_TV_NAME && r->arena ? r->arena + sp.off : (const uint8_t *)"";
    switch (f->type) {
    case IMS_TV_FLAG:
        break;
    case IMS_TV_NUM:
        if (f->flags & IMS_TF_HEX)
            putf(o, "0x%" PRIx64, num);
        else
            putf(o, "%" PRIu64, num);
        break;
    case IMS_TV_NUMSET:
        putf(o, "%" PRIu64, num);
        break;
    case IMS_TV_SIZE:
        put_size(o, num);
        break;
    case IMS_TV_TIME:
        put_time(o, num);
        break;
    case IMS_TV_ENUM:
        put_word(o, f->choices, num);
        break;
    case IMS_TV_BITS: {
        bool first = true;
        for (unsigned b = 0; b < 64; b++)
            if ((num >> b) & 1u) {
                if (!first)
                    put(o, "|", 1);
                put_word(o, f->choices, b);
                first = false;
            }
        break;
    }
    case IMS_TV_DEV:
        if (!((r->named >> k) & 1u)) {
            putf(o, "0x%" PRIx64, num);
            break;
        }
        __attribute__((fallthrough)); /* a device name */
    case IMS_TV_NAME:
    case IMS_TV_PATH:
        put(o, (const char *)a, sp.len);
        break;
    case IMS_TV_HEX: {
        static const char digits[] = "0123456789abcdef";
        for (uint32_t i = 0; i < sp.len; i++) {
            char pair[2] = {digits[a[i] >> 4], digits[a[i] & 15]};
            put(o, pair, 2);
        }
        break;
    }
    case IMS_TV_DMA_EXPECT:
    case IMS_TV_ERR_EXPECT: {
        const ims_trace_expect *e = (const ims_trace_expect *)(const void *)a;
        for (uint32_t i = 0; i < sp.len; i++) {
            if (i)
                put(o, "|", 1);
            switch (e[i].kind) {
            case IMS_EXP_PA:
                putf(o, "0x%" PRIx64, e[i].value);
                break;
            case IMS_EXP_FAULT:
                puts_(o, "fault");
                break;
            case IMS_EXP_FAULT_REASON:
                putf(o, "fault:0x%" PRIx64, e[i].value);
                break;
            default: {
                const char *name = e[i].value <= 1000 ? ims_trace_errno_name((int)e[i].value) : NULL;
                if (name)
                    puts_(o, name);
                else
                    putf(o, "%" PRIu64, e[i].value);
                break;
            }
            }
        }
        break;
    }
    case IMS_TV_ENTRIES: {
        const ims_trace_inv_entry *e = (const ims_trace_inv_entry *)(const void *)a;
        for (uint32_t i = 0; i < sp.len; i++) {
            if (i)
                put(o, ",", 1);
            putf(o, "0x%" PRIx64 ":", e[i].addr);
            if (e[i].npages == IMS_TRACE_NPAGES_ALL)
                puts_(o, "all");
            else
                putf(o, "%" PRIu64, e[i].npages);
            if (e[i].leaf)
                puts_(o, ":leaf");
        }
        break;
    }
    }
}

size_t ims_trace_format_value(const ims_trace_rec *r, const ims_trace_field *f, char *buf, size_t cap)
{
    out o = {buf, cap, 0};
    put_value(&o, r, f);
    return finish(&o);
}

size_t ims_trace_format_time(uint64_t ps, char *buf, size_t cap)
{
    out o = {buf, cap, 0};
    put_time(&o, ps);
    return finish(&o);
}

size_t ims_trace_format(const ims_trace_rec *r, char *buf, size_t cap)
{
    out o = {buf, cap, 0};
    const ims_trace_verb_schema *s = ims_trace_schema(r->verb);
    if (!s) {
        puts_(&o, "?");
        return finish(&o);
    }
    if (r->tmode == IMS_TIME_ABS || r->tmode == IMS_TIME_REL) {
        put(&o, r->tmode == IMS_TIME_ABS ? "@" : "+", 1);
        put_time(&o, r->time_ps);
        put(&o, " ", 1);
    }
    puts_(&o, s->name);
    for (unsigned i = 0; i < s->nfields; i++) {
        const ims_trace_field *f = &s->fields[i];
        if (!ims_trace_has(r, f->key))
            continue;
        put(&o, " ", 1);
        puts_(&o, ims_trace_key_name(f->key));
        if (f->type != IMS_TV_FLAG) {
            put(&o, "=", 1);
            put_value(&o, r, f);
        }
    }
    return finish(&o);
}

/* ---- streaming writer ---- */

struct ims_text_writer {
    ims_trace_sink *sink;
    ims_trace_seq seq;
    char *line;
    size_t cap;
};

ims_text_writer *ims_text_writer_open(ims_trace_sink *sink, ims_error *err)
{
    ims_text_writer *w = calloc(1, sizeof *w);
    if (!w) {
        ims_errorf(err, ENOMEM, "out of memory");
        return NULL;
    }
    w->sink = sink;
    static const char header[] = "iommusim-trace 1\n";
    if (ims_trace_sink_write(sink, header, sizeof header - 1, err)) {
        free(w);
        return NULL;
    }
    return w;
}

int ims_text_writer_write(ims_text_writer *w, const ims_trace_rec *r, ims_error *err)
{
    int rc = ims_trace_rec_validate(r, err);
    if (!rc)
        rc = ims_trace_seq_check(&w->seq, r, err);
    if (rc)
        return rc;
    size_t n = ims_trace_format(r, w->line, w->cap);
    if (n + 2 > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < n + 2)
            cap *= 2;
        char *l = realloc(w->line, cap);
        if (!l)
            return ims_errorf(err, ENOMEM, "out of memory");
        w->line = l;
        w->cap = cap;
        ims_trace_format(r, w->line, w->cap);
    }
    w->line[n] = '\n';
    return ims_trace_sink_write(w->sink, w->line, n + 1, err);
}

void ims_text_writer_close(ims_text_writer *w)
{
    if (!w)
        return;
    free(w->line);
    free(w);
}
