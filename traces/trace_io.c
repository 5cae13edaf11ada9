/* Format detection and the unified trace reader/writer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/binary.h"
#include "traces/text_reader.h"
#include "traces/trace_io.h"

struct ims_trace_reader {
    ims_text_reader *text;
    ims_bin_reader *bin;
    bool compressed;
    char *name, *dir;
};

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static char *dup_s(const char *s)
{
    return dup_n(s, strlen(s));
}

static bool is_prefix_of(const uint8_t *p, long n, const uint8_t *magic, long mlen)
{
    return n > 0 && !memcmp(p, magic, (size_t)(n < mlen ? n : mlen));
}

/* Takes ownership of src. */
static ims_trace_reader *open_src(ims_trace_src *src, const char *name, ims_error *err)
{
    static const uint8_t zstd_magic[4] = {0x28, 0xB5, 0x2F, 0xFD};
    ims_trace_reader *r = calloc(1, sizeof *r);
    ims_text_reader *probe = NULL;
    if (!r)
        goto oom;
    const uint8_t *p;
    ims_error e = {0};
    long n = ims_trace_src_peek(src, &p, 4, &e);
    if (n < 0) {
        ims_errorf(err, EIO, "%s: %s", name, e.msg);
        goto fail;
    }
    /* A short prefix of a magic number is a truncated file of that kind. */
    if (is_prefix_of(p, n, zstd_magic, 4)) {
        src = ims_trace_src_zstd(src);
        if (!src)
            goto oom;
        r->compressed = true;
    }
    n = ims_trace_src_peek(src, &p, IMS_BIN_MAGIC_LEN, &e);
    if (n < 0) {
        ims_errorf(err, EINVAL, "%s: %s", name, e.msg);
        goto fail;
    }
    if (is_prefix_of(p, n, (const uint8_t *)IMS_BIN_MAGIC, IMS_BIN_MAGIC_LEN)) {
        r->bin = ims_bin_reader_open(src, true, name, err);
        src = NULL;
        if (!r->bin)
            goto fail;
    } else {
        probe = ims_text_reader_open(src, true, name, err);
        src = NULL;
        if (!probe)
            goto fail;
        r->text = probe;
    }
    r->name = dup_s(name);
    r->dir = dup_s(r->text ? ims_text_reader_dir(r->text) : ".");
    if (!r->name || !r->dir)
        goto oom;
    if (r->bin) { /* same rule as text: paths are relative to the trace's directory */
        const char *slash = strrchr(name, '/');
        free(r->dir);
        r->dir = slash ? dup_n(name, slash == name ? 1 : (size_t)(slash - name)) : dup_s(".");
        if (!r->dir)
            goto oom;
    }
    return r;
oom:
    ims_errorf(err, ENOMEM, "%s: out of memory", name);
fail:
    ims_trace_src_close(src);
    ims_trace_reader_close(r);
    return NULL;
}

ims_trace_reader *ims_trace_reader_open(const char *path, ims_error *err)
{
    bool std_in = !strcmp(path, "-");
    FILE *f = std_in ? stdin : fopen(path, "rb");
    if (!f) {
        ims_errorf(err, errno ? errno : EIO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    ims_trace_src *s = ims_trace_src_file(f, !std_in);
    if (!s) {
        ims_errorf(err, ENOMEM, "%s: out of memory", path);
        return NULL;
    }
    return open_src(s, std_in ? "<stdin>" : path, err);
}

ims_trace_reader *ims_trace_reader_open_mem(const void *data, size_t len, const char *name, ims_error *err)
{
    if (!name)
        name = "<memory>";
    ims_trace_src *s = ims_trace_src_mem(data, len);
    if (!s) {
        ims_errorf(err, ENOMEM, "%s: out of memory", name);
        return NULL;
    }
    return open_src(s, name, err);
}

int ims_trace_reader_next(ims_trace_reader *r, ims_trace_rec *rec, ims_error *err)
{
    return r->text ? ims_text_reader_next(r->text, rec, err) : ims_bin_reader_next(r->bin, rec, err);
}

void ims_trace_reader_close(ims_trace_reader *r)
{
    if (!r)
        return;
    ims_text_reader_close(r->text);
    ims_bin_reader_close(r->bin);
    free(r->name);
    free(r->dir);
    free(r);
}

ims_trace_form ims_trace_reader_form(const ims_trace_reader *r)
{
    return r->bin ? IMS_TRACE_BINARY : IMS_TRACE_TEXT;
}

bool ims_trace_reader_compressed(const ims_trace_reader *r)
{
    return r->compressed;
}

const char *ims_trace_reader_name(const ims_trace_reader *r)
{
    return r->name;
}

const char *ims_trace_reader_dir(const ims_trace_reader *r)
{
    return r->dir;
}

/* ---- writer ---- */

struct ims_trace_writer {
    ims_trace_sink *sink; /* outermost: the zstd layer when compressing, else user */
    ims_trace_sink *user; /* the sink given to open */
    ims_trace_sink *zstd; /* our compression layer, or NULL */
    bool own;             /* close the user's sink with the writer */
    ims_text_writer *text;
    ims_bin_writer *bin;
    bool failed;
};

bool ims_trace_path_is_zstd(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && !strcmp(path + n - 4, ".zst");
}

ims_trace_writer *ims_trace_writer_open_sink(ims_trace_sink *sink, bool own, ims_trace_form form, bool zstd,
                                             ims_error *err)
{
    ims_trace_writer *w = calloc(1, sizeof *w);
    if (!w) {
        if (own)
            ims_trace_sink_close(sink);
        ims_errorf(err, ENOMEM, "out of memory");
        return NULL;
    }
    w->user = sink;
    w->own = own;
    if (zstd) {
        sink = ims_trace_sink_zstd(sink, own, 0);
        if (!sink) {
            free(w);
            ims_errorf(err, ENOMEM, "out of memory");
            return NULL;
        }
        w->zstd = sink;
    }
    w->sink = sink;
    if (form == IMS_TRACE_BINARY)
        w->bin = ims_bin_writer_open(sink, err);
    else
        w->text = ims_text_writer_open(sink, err);
    if (!w->bin && !w->text) {
        ims_trace_sink_close(w->zstd); /* closes the user's sink too when owned */
        if (own && !w->zstd)
            ims_trace_sink_close(w->user);
        free(w);
        return NULL;
    }
    return w;
}

ims_trace_writer *ims_trace_writer_open(const char *path, ims_trace_form form, ims_error *err)
{
    bool std_out = !strcmp(path, "-");
    FILE *f = std_out ? stdout : fopen(path, "wb");
    if (!f) {
        ims_errorf(err, errno ? errno : EIO, "%s: cannot create: %s", path, strerror(errno));
        return NULL;
    }
    ims_trace_sink *s = ims_trace_sink_file(f, !std_out);
    if (!s) {
        ims_errorf(err, ENOMEM, "%s: out of memory", path);
        return NULL;
    }
    ims_error e = {0};
    ims_trace_writer *w = ims_trace_writer_open_sink(s, true, form, ims_trace_path_is_zstd(path), &e);
    if (!w)
        ims_errorf(err, e.code, "%s: %s", path, e.msg);
    return w;
}

int ims_trace_writer_write(ims_trace_writer *w, const ims_trace_rec *rec, ims_error *err)
{
    int rc = w->bin ? ims_bin_writer_write(w->bin, rec, err) : ims_text_writer_write(w->text, rec, err);
    if (rc)
        w->failed = true;
    return rc;
}

int ims_trace_writer_close(ims_trace_writer *w, ims_error *err)
{
    if (!w)
        return 0;
    int rc = 0;
    if (w->bin)
        rc = ims_bin_writer_finish(w->bin, err);
    if (!rc)
        rc = ims_trace_sink_finish(w->sink, err);
    ims_bin_writer_close(w->bin);
    ims_text_writer_close(w->text);
    ims_trace_sink_close(w->zstd); /* closes the user's sink too when owned */
    if (w->own && !w->zstd)
        ims_trace_sink_close(w->user);
    free(w);
    return rc;
}
