/* Buffered byte sources and sinks for trace I/O (FILE*, memory, zstd). */
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "traces/stream.h"

/* ---- sources ---- */

typedef struct src_ops {
    /* Fill buf with up to cap bytes: count, 0 at end of input, or -errno. */
    long (*fill)(ims_trace_src *s, uint8_t *buf, size_t cap, ims_error *err);
    void (*close)(ims_trace_src *s);
} src_ops;

struct ims_trace_src {
    const src_ops *ops;
    uint8_t buf[IMS_TRACE_SRC_BUF];
    size_t pos, len;   /* unconsumed bytes are buf[pos..len) */
    bool eof;
    uint64_t offset;
    /* kind-specific state */
    FILE *f;
    bool own;
    const uint8_t *mem;
    size_t mem_len, mem_pos;
    ims_trace_src *inner;
    ZSTD_DCtx *dctx;
    uint8_t *zin;
    ZSTD_inBuffer in;
    bool inner_eof;
    size_t last_ret;   /* 0 when the last zstd frame ended cleanly */
};

static long file_fill(ims_trace_src *s, uint8_t *buf, size_t cap, ims_error *err)
{
    errno = 0;
    size_t n = fread(buf, 1, cap, s->f);
    if (n == 0 && ferror(s->f))
        return ims_errorf(err, EIO, "read error: %s", strerror(errno ? errno : EIO));
    return (long)n;
}

static void file_close(ims_trace_src *s)
{
    if (s->own && s->f)
        fclose(s->f);
}

static long mem_fill(ims_trace_src *s, uint8_t *buf, size_t cap, ims_error *err)
{
    (void)err;
    size_t n = s->mem_len - s->mem_pos;
    if (n > cap)
        n = cap;
    if (n)
        memcpy(buf, s->mem + s->mem_pos, n);
    s->mem_pos += n;
    return (long)n;
}

static long zstd_fill(ims_trace_src *s, uint8_t *buf, size_t cap, ims_error *err)
{
    for (;;) {
        if (s->in.pos == s->in.size && !s->inner_eof) {
            long n = ims_trace_src_read(s->inner, s->zin, ZSTD_DStreamInSize(), err);
            if (n < 0)
                return n;
            s->in.size = (size_t)n;
            s->in.pos = 0;
            s->inner_eof = n == 0;
        }
        ZSTD_outBuffer out = {buf, cap, 0};
        size_t in_before = s->in.pos;
        size_t ret = ZSTD_decompressStream(s->dctx, &out, &s->in);
        if (ZSTD_isError(ret))
            return ims_errorf(err, EINVAL, "zstd: %s", ZSTD_getErrorName(ret));
        /* A call without progress after a finished frame only asks for the
         * next frame's header: it does not make the stream incomplete. */
        if (out.pos || s->in.pos != in_before)
            s->last_ret = ret;
        if (out.pos)
            return (long)out.pos;
        if (s->inner_eof && s->in.pos == s->in.size) {
            if (s->last_ret != 0)
                return ims_errorf(err, EINVAL, "zstd: truncated compressed stream");
            return 0;
        }
    }
}

static void zstd_close(ims_trace_src *s)
{
    ZSTD_freeDCtx(s->dctx);
    free(s->zin);
    ims_trace_src_close(s->inner);
}

static const src_ops file_src_ops = {file_fill, file_close};
static const src_ops mem_src_ops = {mem_fill, NULL};
static const src_ops zstd_src_ops = {zstd_fill, zstd_close};

static ims_trace_src *src_new(const src_ops *ops)
{
    ims_trace_src *s = calloc(1, sizeof *s);
    if (s)
        s->ops = ops;
    return s;
}

ims_trace_src *ims_trace_src_file(FILE *f, bool own)
{
    ims_trace_src *s = src_new(&file_src_ops);
    if (s) {
        s->f = f;
        s->own = own;
    } else if (own) {
        fclose(f);
    }
    return s;
}

ims_trace_src *ims_trace_src_mem(const void *data, size_t len)
{
    ims_trace_src *s = src_new(&mem_src_ops);
    if (s) {
        s->mem = data;
        s->mem_len = len;
    }
    return s;
}

ims_trace_src *ims_trace_src_zstd(ims_trace_src *inner)
{
    ims_trace_src *s = src_new(&zstd_src_ops);
    if (!s) {
        ims_trace_src_close(inner);
        return NULL;
    }
    s->inner = inner;
    s->dctx = ZSTD_createDCtx();
    s->zin = malloc(ZSTD_DStreamInSize());
    if (!s->dctx || !s->zin) {
        ims_trace_src_close(s);
        return NULL;
    }
    s->in.src = s->zin;
    return s;
}

void ims_trace_src_close(ims_trace_src *s)
{
    if (!s)
        return;
    if (s->ops->close)
        s->ops->close(s);
    free(s);
}

long ims_trace_src_peek(ims_trace_src *s, const uint8_t **p, size_t n, ims_error *err)
{
    if (n > IMS_TRACE_SRC_BUF)
        n = IMS_TRACE_SRC_BUF;
    if (s->len - s->pos < n && !s->eof) {
        memmove(s->buf, s->buf + s->pos, s->len - s->pos);
        s->len -= s->pos;
        s->pos = 0;
        while (s->len < n && !s->eof) {
            long got = s->ops->fill(s, s->buf + s->len, IMS_TRACE_SRC_BUF - s->len, err);
            if (got < 0)
                return got;
            if (got == 0)
                s->eof = true;
            s->len += (size_t)got;
        }
    }
    *p = s->buf + s->pos;
    return (long)(s->len - s->pos);
}

void ims_trace_src_consume(ims_trace_src *s, size_t n)
{
    if (n > s->len - s->pos)
        n = s->len - s->pos;
    s->pos += n;
    s->offset += n;
}

long ims_trace_src_read(ims_trace_src *s, void *buf, size_t n, ims_error *err)
{
    size_t done = 0;
    while (done < n) {
        const uint8_t *p;
        size_t want = n - done < IMS_TRACE_SRC_BUF ? n - done : IMS_TRACE_SRC_BUF;
        long got = ims_trace_src_peek(s, &p, want, err);
        if (got < 0)
            return got;
        if (got == 0)
            break;
        if ((size_t)got > want)
            got = (long)want;
        memcpy((uint8_t *)buf + done, p, (size_t)got);
        ims_trace_src_consume(s, (size_t)got);
        done += (size_t)got;
    }
    return (long)done;
}

uint64_t ims_trace_src_offset(const ims_trace_src *s)
{
    return s->offset;
}

/* ---- sinks ---- */

struct ims_trace_sink {
    int kind; /* 0 file, 1 memory, 2 zstd */
    FILE *f;
    bool own;
    uint8_t *data;
    size_t len, cap;
    ims_trace_sink *inner;
    ZSTD_CCtx *cctx;
    uint8_t *zout;
    size_t zout_cap;
    bool finished;
};

ims_trace_sink *ims_trace_sink_file(FILE *f, bool own)
{
    ims_trace_sink *s = calloc(1, sizeof *s);
    if (!s) {
        if (own)
            fclose(f);
        return NULL;
    }
    s->kind = 0;
    s->f = f;
    s->own = own;
    return s;
}

ims_trace_sink *ims_trace_sink_mem(void)
{
    ims_trace_sink *s = calloc(1, sizeof *s);
    if (s)
        s->kind = 1;
    return s;
}

const uint8_t *ims_trace_sink_mem_data(const ims_trace_sink *s, size_t *len)
{
    *len = s->kind == 1 ? s->len : 0;
    return s->kind == 1 ? s->data : NULL;
}

ims_trace_sink *ims_trace_sink_zstd(ims_trace_sink *inner, bool own_inner, int level)
{
    ims_trace_sink *s = calloc(1, sizeof *s);
    if (!s) {
        if (own_inner)
            ims_trace_sink_close(inner);
        return NULL;
    }
    s->kind = 2;
    s->inner = inner;
    s->own = own_inner;
    s->cctx = ZSTD_createCCtx();
    s->zout_cap = ZSTD_CStreamOutSize();
    s->zout = malloc(s->zout_cap);
    if (!s->cctx || !s->zout) {
        ims_trace_sink_close(s);
        return NULL;
    }
    ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_compressionLevel, level);
    /* The frame checksum lets a reader of compressed text detect corruption. */
    ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_checksumFlag, 1);
    return s;
}

static int zstd_pump(ims_trace_sink *s, const void *data, size_t n, ZSTD_EndDirective mode, ims_error *err)
{
    ZSTD_inBuffer in = {data, n, 0};
    for (;;) {
        ZSTD_outBuffer out = {s->zout, s->zout_cap, 0};
        size_t left = ZSTD_compressStream2(s->cctx, &out, &in, mode);
        if (ZSTD_isError(left))
            return ims_errorf(err, EIO, "zstd: %s", ZSTD_getErrorName(left));
        if (out.pos) {
            int rc = ims_trace_sink_write(s->inner, s->zout, out.pos, err);
            if (rc)
                return rc;
        }
        bool done = mode == ZSTD_e_continue ? in.pos == in.size : left == 0;
        if (done)
            return 0;
    }
}

int ims_trace_sink_write(ims_trace_sink *s, const void *data, size_t n, ims_error *err)
{
    if (s->finished)
        return ims_errorf(err, EINVAL, "write after finish");
    if (n == 0)
        return 0;
    switch (s->kind) {
    case 0:
        errno = 0;
        if (fwrite(data, 1, n, s->f) != n)
            return ims_errorf(err, EIO, "write error: %s", strerror(errno ? errno : EIO));
        return 0;
    case 1:
        if (s->len + n > s->cap) {
            size_t cap = s->cap ? s->cap : 4096;
            while (cap < s->len + n)
                cap *= 2;
            uint8_t *d = realloc(s->data, cap);
            if (!d)
                return ims_errorf(err, ENOMEM, "out of memory");
            s->data = d;
            s->cap = cap;
        }
        memcpy(s->data + s->len, data, n);
        s->len += n;
        return 0;
    default:
        return zstd_pump(s, data, n, ZSTD_e_continue, err);
    }
}

int ims_trace_sink_finish(ims_trace_sink *s, ims_error *err)
{
    if (s->finished)
        return 0;
    int rc = 0;
    if (s->kind == 2) {
        rc = zstd_pump(s, NULL, 0, ZSTD_e_end, err);
        if (!rc)
            rc = ims_trace_sink_finish(s->inner, err);
    } else if (s->kind == 0 && fflush(s->f) != 0) {
        rc = ims_errorf(err, EIO, "write error");
    }
    s->finished = true;
    return rc;
}

void ims_trace_sink_close(ims_trace_sink *s)
{
    if (!s)
        return;
    if (s->kind == 0 && s->own && s->f)
        fclose(s->f);
    free(s->data);
    ZSTD_freeCCtx(s->cctx);
    free(s->zout);
    if (s->kind == 2 && s->own)
        ims_trace_sink_close(s->inner);
    free(s);
}
