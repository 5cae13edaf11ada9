/* Importer machinery: the line source, the three-pass driver, the summary
 * and the public entry points (import.h). */
#define _POSIX_C_SOURCE 200809L /* strdup */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "traces/import/import_internal.h"

/* ---- line source ------------------------------------------------------------------------ */

#define SRC_CHUNK (64u << 10)

struct imp_src {
    const uint8_t *data; /* memory: the input; file: the read buffer */
    size_t pos, end;
    FILE *f;
    bool own;
    uint8_t *fbuf;
    char *line;          /* the current line, IMP_LINE_MAX + 1 bytes */
    size_t llen;
};

static imp_src *src_new(void)
{
    imp_src *s = calloc(1, sizeof *s);
    if (s && !(s->line = malloc(IMP_LINE_MAX + 1))) {
        free(s);
        return NULL;
    }
    return s;
}

imp_src *imp_src_mem(const void *data, size_t len)
{
    imp_src *s = src_new();
    if (s) {
        s->data = data;
        s->end = data ? len : 0;
    }
    return s;
}

imp_src *imp_src_file(FILE *f, bool own)
{
    imp_src *s = src_new();
    if (s && !(s->fbuf = malloc(SRC_CHUNK))) {
        free(s->line);
        free(s);
        s = NULL;
    }
    if (!s) {
        if (own)
            fclose(f);
        return NULL;
    }
    s->f = f;
    s->own = own;
    s->data = s->fbuf;
    return s;
}

void imp_src_close(imp_src *s)
{
    if (!s)
        return;
    if (s->own)
        fclose(s->f);
    free(s->fbuf);
    free(s->line);
    free(s);
}

int imp_src_rewind(imp_src *s)
{
    if (!s->f) {
        s->pos = 0;
        return 0;
    }
    clearerr(s->f);
    if (fseek(s->f, 0, SEEK_SET) != 0)
        return -errno;
    s->pos = s->end = 0;
    return 0;
}

/* More bytes into the buffer: false at the end of the input (or an error). */
static bool src_refill(imp_src *s)
{
    if (!s->f)
        return false;
    size_t n = fread(s->fbuf, 1, SRC_CHUNK, s->f);
    s->pos = 0;
    s->end = n;
    return n > 0;
}

int imp_src_next(imp_src *s, const char **line, size_t *len, bool *cut)
{
    bool any = false, nl_found = false;
    s->llen = 0;
    *cut = false;
    while (!nl_found) {
        if (s->pos == s->end && !src_refill(s))
            break;
        const uint8_t *start = s->data + s->pos;
        size_t avail = s->end - s->pos;
        const uint8_t *nl = memchr(start, '\n', avail);
        size_t take = nl ? (size_t)(nl - start) : avail;
        size_t room = IMP_LINE_MAX - s->llen;
        if (take > room)
            *cut = true;
        memcpy(s->line + s->llen, start, take < room ? take : room);
        s->llen += take < room ? take : room;
        s->pos += take + (nl ? 1 : 0);
        any = true;
        nl_found = nl != NULL;
    }
    if (s->f && ferror(s->f))
        return -EIO;
    if (!any)
        return 0;
    if (s->llen && s->line[s->llen - 1] == '\r')
        s->llen--;
    /* A NUL would end the C string early and hide the rest of the line. */
    for (size_t i = 0; i < s->llen; i++)
        if (s->line[i] == '\0')
            s->line[i] = '?';
    s->line[s->llen] = '\0';
    *line = s->line;
    *len = s->llen;
    return 1;
}

/* ---- summary ---------------------------------------------------------------------------- */

static void count_kind(ims_import_summary *s, const char *what)
{
    for (size_t i = 0; i < s->nskipped; i++)
        if (!strcmp(s->skipped[i].what, what)) {
            s->skipped[i].n++;
            return;
        }
    if (s->nskipped == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        ims_import_count *n = realloc(s->skipped, cap * sizeof *n);
        if (!n)
            return; /* the count is lost, the import is not */
        s->skipped = n;
        s->cap = cap;
    }
    char *w = strdup(what);
    if (w)
        s->skipped[s->nskipped++] = (ims_import_count){w, 1};
}

void imp_note(imp_ctx *c, const char *what)
{
    if (c->pass == IMP_PASS_EMIT)
        count_kind(c->sum, what);
}

void imp_notef(imp_ctx *c, const char *fmt, ...)
{
    if (c->pass != IMP_PASS_EMIT)
        return;
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    count_kind(c->sum, buf);
}

int imp_missing(imp_ctx *c, bool final, const char *event)
{
    if (!final)
        return IMP_INCOMPLETE;
    if (c->pass == IMP_PASS_SCAN && !c->o.strict)
        return 0;
    char what[160];
    snprintf(what, sizeof what, "malformed %s line (fields missing: truncated?)", event);
    imp_event(c);
    return imp_bad(c, what);
}

int imp_bad(imp_ctx *c, const char *what)
{
    if (c->o.strict)
        return ims_errorf(c->err, EINVAL, "%s:%" PRIu64 ": %s", c->name, c->lineno, what);
    imp_note(c, what);
    return 0;
}

void imp_used(imp_ctx *c)
{
    if (c->pass == IMP_PASS_EMIT)
        c->sum->used++;
}

void imp_event(imp_ctx *c)
{
    if (c->pass == IMP_PASS_EMIT)
        c->sum->events++;
}

bool imp_has(const imp_ctx *c, unsigned kind)
{
    return (c->present >> kind) & 1u;
}

int imp_time(imp_ctx *c, bool has, uint64_t ns)
{
    if (has) {
        if (!c->t0_set) {
            c->t0_set = true;
            c->t0 = ns;
        }
        uint64_t rel = ns >= c->t0 ? ns - c->t0 : 0;
        uint64_t ps = rel > UINT64_MAX / 1000 ? UINT64_MAX / 1000 * 1000 : rel * 1000;
        if (ps < c->now || ns < c->t0) {
            if (c->o.strict)
                return ims_errorf(c->err, EINVAL, "%s:%" PRIu64 ": timestamp goes back in time", c->name,
                                  c->lineno);
            if (c->pass == IMP_PASS_EMIT)
                c->sum->time_backwards++;
        } else {
            c->now = ps;
        }
    }
    return c->pass == IMP_PASS_EMIT ? imp_synth_flush(c, c->now) : 0;
}

void ims_import_summary_free(ims_import_summary *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nskipped; i++)
        free(s->skipped[i].what);
    free(s->skipped);
    s->skipped = NULL;
    s->nskipped = s->cap = 0;
}

uint64_t ims_import_summary_skipped(const ims_import_summary *s, const char *prefix)
{
    uint64_t n = 0;
    size_t pl = strlen(prefix);
    for (size_t i = 0; i < s->nskipped; i++)
        if (!strncmp(s->skipped[i].what, prefix, pl))
            n += s->skipped[i].n;
    return n;
}

void ims_import_summary_write(const ims_import_summary *s, FILE *out)
{
    fprintf(out,
            "import %s: %" PRIu64 " lines, %" PRIu64 " events, %" PRIu64 " used, %" PRIu64 " records, %" PRIu64
            " devices\n",
            s->format ? s->format : "?", s->lines, s->events, s->used, s->records, s->devices);
    if (s->time_backwards)
        fprintf(out, "  %" PRIu64 " timestamps went back in time (clamped to the previous one)\n", s->time_backwards);
    for (size_t i = 0; i < s->nskipped; i++)
        fprintf(out, "  %8" PRIu64 "  %s\n", s->skipped[i].n, s->skipped[i].what);
}

/* ---- the driver ------------------------------------------------------------------------- */

static void resolve_opts(ims_import_opts *o, ims_import_format fmt)
{
    if (o->level == IMS_IMPORT_LEVEL_DEFAULT)
        o->level = fmt == IMS_IMPORT_QEMU_VTD ? IMS_IMPORT_LEVEL_HOST : IMS_IMPORT_LEVEL_GUEST;
    if (o->time == IMS_IMPORT_TIME_DEFAULT)
        o->time = fmt == IMS_IMPORT_QEMU_VTD ? IMS_IMPORT_TIME_REL : IMS_IMPORT_TIME_ABS;
    if (!o->time_offset_set)
        o->time_offset_ps = o->level == IMS_IMPORT_LEVEL_HOST ? IMS_IMPORT_DEFAULT_HOST_OFFSET_PS : 0;
    if (!o->hpa_base)
        o->hpa_base = IMS_IMPORT_DEFAULT_HPA_BASE;
    if (!o->pool)
        o->pool = IMS_IMPORT_DEFAULT_POOL;
    if (!o->dma_len)
        o->dma_len = IMS_IMPORT_DEFAULT_DMA_LEN;
    if (!o->stale_window_ps)
        o->stale_window_ps = IMS_IMPORT_DEFAULT_STALE_WINDOW_PS;
}

/* Everything a pass rebuilds from the input. */
static void pass_reset(imp_ctx *c)
{
    if (c->ops->free_state)
        c->ops->free_state(c);
    memset(c->fs, 0, c->ops->state_size);
    imp_track_free(&c->tr);
    c->nheap = 0;
    c->synth_seq = 0;
    c->life_next = 0;
    c->t0_set = false;
    c->t0 = c->now = 0;
    c->last_rel = c->first_ps; /* the first record has no gap before it */
    c->lineno = 0;
    ims_rng_seed(&c->rng, c->o.seed);
    if (c->ops->reset)
        c->ops->reset(c);
}

/* One line (maybe joined with continuations): process it. */
static int one(imp_ctx *c, const char *line, bool final)
{
    return c->ops->process(c, line, final);
}

typedef struct held_line {
    char *buf;
    size_t len, cap;
    uint64_t lineno;
    unsigned joins;
    bool on;
} held_line;

static int held_set(held_line *h, const char *line, size_t len, uint64_t lineno)
{
    if (len + 1 > h->cap) {
        size_t cap = len + 1 > 256 ? len + 1 : 256;
        char *b = realloc(h->buf, cap);
        if (!b)
            return -ENOMEM;
        h->buf = b;
        h->cap = cap;
    }
    memcpy(h->buf, line, len + 1);
    h->len = len;
    h->lineno = lineno;
    h->joins = 0;
    h->on = true;
    return 0;
}

/* held + " " + line (leading blanks of line dropped), bounded. */
static int held_join(held_line *h, const char *line)
{
    line = imp_ws(line);
    size_t add = strlen(line);
    if (h->len + 1 + add > IMP_LINE_MAX)
        add = IMP_LINE_MAX > h->len + 1 ? IMP_LINE_MAX - h->len - 1 : 0;
    if (h->len + add + 2 > h->cap) {
        char *b = realloc(h->buf, h->len + add + 2);
        if (!b)
            return -ENOMEM;
        h->buf = b;
        h->cap = h->len + add + 2;
    }
    h->buf[h->len++] = ' ';
    memcpy(h->buf + h->len, line, add);
    h->len += add;
    h->buf[h->len] = '\0';
    h->joins++;
    return 0;
}

static int run_pass(imp_ctx *c, imp_src *src)
{
    held_line h = {0};
    int rc = imp_src_rewind(src);
    if (rc) {
        ims_errorf(c->err, rc, "%s: cannot rewind the input: %s", c->name, strerror(-rc));
        return rc;
    }
    const char *line;
    size_t len;
    bool cut;
    uint64_t n = 0;
    while ((rc = imp_src_next(src, &line, &len, &cut)) > 0) {
        n++;
        if (c->pass == IMP_PASS_EMIT)
            c->sum->lines++;
        if (cut) {
            c->lineno = n;
            if ((rc = imp_bad(c, "line longer than 64 KiB (cut)")))
                break;
        }
        if (h.on) {
            if (!c->ops->is_start(line) && !imp_is_blank(line) && h.joins < IMP_JOIN_MAX) {
                if ((rc = held_join(&h, line)))
                    break;
                c->lineno = h.lineno;
                rc = one(c, h.buf, false);
                if (rc < 0)
                    break;
                if (rc == IMP_INCOMPLETE)
                    continue;
                if (c->pass == IMP_PASS_EMIT)
                    count_kind(c->sum, "adjusted: continuation line joined to the event before it");
                h.on = false;
                continue;
            }
            c->lineno = h.lineno;
            h.on = false;
            if ((rc = one(c, h.buf, true)) < 0)
                break;
        }
        c->lineno = n;
        rc = one(c, line, false);
        if (rc < 0)
            break;
        if (rc == IMP_INCOMPLETE && (rc = held_set(&h, line, len, n)))
            break;
        rc = 0;
    }
    if (rc == 0 && h.on) {
        c->lineno = h.lineno;
        rc = one(c, h.buf, true);
    }
    if (rc < 0 && rc != -EIO && !c->err->msg[0])
        ims_errorf(c->err, rc, "%s:%" PRIu64 ": %s", c->name, c->lineno, strerror(-rc));
    if (rc == -EIO && !c->err->msg[0])
        ims_errorf(c->err, EIO, "%s: read error", c->name);
    free(h.buf);
    if (rc < 0)
        return rc;
    if (c->ops->finish && (rc = c->ops->finish(c)) < 0)
        return rc;
    if (c->pass == IMP_PASS_EMIT)
        return imp_synth_flush(c, UINT64_MAX);
    return 0;
}

static void header_comment(imp_ctx *c, ims_trace_sink *sink)
{
    static const char *const levels[] = {"?", "host", "guest"};
    static const char *const times[] = {"?", "abs", "rel", "none"};
    char buf[512];
    int n = snprintf(buf, sizeof buf,
                     "# imported by 'iommusim import %s' from %s\n"
                     "# level %s, time %s; see docs/importers.md for what each event became\n",
                     c->ops->name, c->name, levels[c->o.level], times[c->o.time]);
    ims_error e = {0};
    if (n > 0)
        ims_trace_sink_write(sink, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1, &e);
}

int imp_run(const imp_format_ops *ops, imp_src *src, const char *name, ims_trace_sink *sink,
            const ims_import_opts *o, ims_import_format fmt, ims_import_summary *sum, ims_error *err)
{
    imp_ctx c = {0};
    c.o = *o;
    resolve_opts(&c.o, fmt);
    c.ops = ops;
    c.name = name;
    c.sum = sum;
    c.err = err;
    ims_trace_rec_init(&c.rec);
    int rc = 0;
    if (!(c.fs = calloc(1, ops->state_size ? ops->state_size : 1)))
        return ims_errorf(err, ENOMEM, "out of memory");
    for (int pass = IMP_PASS_SCAN; pass <= IMP_PASS_EMIT && rc == 0; pass++) {
        c.pass = pass;
        pass_reset(&c);
        if (pass == IMP_PASS_EMIT) {
            header_comment(&c, sink);
            c.w = ims_trace_writer_open_sink(sink, false, IMS_TRACE_TEXT, false, err);
            if (!c.w) {
                rc = -ENOMEM;
                break;
            }
            if ((rc = imp_emit_topology(&c)))
                break;
        }
        if ((rc = run_pass(&c, src)))
            break;
        if (pass == IMP_PASS_DRY) /* mappings never unmapped live to the end */
            for (size_t i = 0; i < c.nlife; i++)
                if (c.life_end[i] == UINT64_MAX)
                    c.life_end[i] = c.now;
    }
    if (c.w) {
        ims_error e = {0};
        int crc = ims_trace_writer_close(c.w, &e);
        if (!rc && crc) {
            rc = crc;
            ims_errorf(err, crc, "%s", e.msg);
        }
    }
    if (ops->free_state)
        ops->free_state(&c);
    free(c.fs);
    imp_track_free(&c.tr);
    imp_emit_free(&c);
    ims_trace_rec_free(&c.rec);
    return rc;
}

/* ---- public entry points ------------------------------------------------------------------ */

void ims_import_opts_init(ims_import_opts *o)
{
    memset(o, 0, sizeof *o);
    o->vm_id = 1;
    o->dev = IMS_IMPORT_NO_DEV;
}

const char *ims_import_format_name(ims_import_format fmt)
{
    return fmt == IMS_IMPORT_QEMU_VTD ? "qemu-vtd" : fmt == IMS_IMPORT_FTRACE ? "ftrace" : "?";
}

int ims_import_format_lookup(const char *name)
{
    if (!strcmp(name, "qemu-vtd") || !strcmp(name, "qemu"))
        return IMS_IMPORT_QEMU_VTD;
    if (!strcmp(name, "ftrace"))
        return IMS_IMPORT_FTRACE;
    return -1;
}

static const imp_format_ops *ops_of(ims_import_format fmt)
{
    return fmt == IMS_IMPORT_QEMU_VTD ? &imp_qemu_ops : fmt == IMS_IMPORT_FTRACE ? &imp_ftrace_ops : NULL;
}

static void summary_begin(ims_import_summary *sum, ims_import_format fmt)
{
    ims_import_summary_free(sum);
    *sum = (ims_import_summary){.format = ims_import_format_name(fmt)};
}

int ims_import_mem(ims_import_format fmt, const void *data, size_t len, const char *name, ims_trace_sink *sink,
                   const ims_import_opts *o, ims_import_summary *sum, ims_error *err)
{
    const imp_format_ops *ops = ops_of(fmt);
    if (!ops)
        return ims_errorf(err, EINVAL, "unknown capture format %d", (int)fmt);
    summary_begin(sum, fmt);
    imp_src *src = imp_src_mem(data, len);
    if (!src)
        return ims_errorf(err, ENOMEM, "out of memory");
    int rc = imp_run(ops, src, name, sink, o, fmt, sum, err);
    imp_src_close(src);
    return rc;
}

/* A pipe cannot be read three times: copy it to a temporary file. */
static FILE *seekable(FILE *in, bool *own, ims_error *err, const char *name)
{
    if (fseek(in, 0, SEEK_CUR) == 0)
        return in;
    FILE *t = tmpfile();
    if (!t) {
        ims_errorf(err, errno, "%s: cannot create a temporary file to spool the input: %s", name, strerror(errno));
        return NULL;
    }
    char buf[SRC_CHUNK];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, t) != n) {
            ims_errorf(err, EIO, "%s: cannot spool the input to a temporary file", name);
            fclose(t);
            return NULL;
        }
    if (*own)
        fclose(in);
    *own = true;
    rewind(t);
    return t;
}

int ims_import_file(ims_import_format fmt, const char *in, const char *out, const ims_import_opts *o,
                    ims_import_summary *sum, ims_error *err)
{
    const imp_format_ops *ops = ops_of(fmt);
    if (!ops)
        return ims_errorf(err, EINVAL, "unknown capture format %d", (int)fmt);
    summary_begin(sum, fmt);
    bool from_stdin = !strcmp(in, "-"), own = !from_stdin;
    FILE *f = from_stdin ? stdin : fopen(in, "rb");
    if (!f)
        return ims_errorf(err, errno, "%s: cannot open: %s", in, strerror(errno));
    if (!(f = seekable(f, &own, err, in)))
        return -EIO;
    imp_src *src = imp_src_file(f, own);
    if (!src)
        return ims_errorf(err, ENOMEM, "out of memory");
    /* A failed import removes its output, so no half-written trace is left. */
    bool to_stdout = !strcmp(out, "-");
    int rc = 0;
    FILE *of = to_stdout ? stdout : fopen(out, "wb");
    ims_trace_sink *sink = NULL, *top = NULL;
    if (!of)
        rc = ims_errorf(err, errno, "%s: cannot create: %s", out, strerror(errno));
    if (!rc && !(sink = ims_trace_sink_file(of, !to_stdout)))
        rc = ims_errorf(err, ENOMEM, "out of memory");
    top = sink;
    if (!rc && ims_trace_path_is_zstd(out) && !(top = ims_trace_sink_zstd(sink, true, 0)))
        rc = ims_errorf(err, ENOMEM, "out of memory"); /* sink was closed with it */
    if (!rc)
        rc = imp_run(ops, src, in, top, o, fmt, sum, err);
    if (top) {
        ims_error e = {0};
        int frc = ims_trace_sink_finish(top, &e);
        if (!rc && frc)
            rc = ims_errorf(err, frc, "%s: %s", out, e.msg);
        ims_trace_sink_close(top);
    }
    if (rc && !to_stdout && of)
        remove(out);
    imp_src_close(src);
    return rc;
}
