/* Binary trace form: framing, CRC32C and the record codec. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/binary.h"

#define ENTRIES_MAX 65536u

/* ---- CRC-32C ---- */

/* Table for the reflected Castagnoli polynomial, built at compile time by the
 * recurrence below so no mutable global state is needed. */
#define P 0x82F63B78u
#define S1(c) (((c) >> 1) ^ (((c) & 1u) ? P : 0u))
#define S8(c) S1(S1(S1(S1(S1(S1(S1(S1(c))))))))
#define R4(n) S8(n), S8(n + 1), S8(n + 2), S8(n + 3)
#define R16(n) R4(n), R4(n + 4), R4(n + 8), R4(n + 12)
#define R64(n) R16(n), R16(n + 16), R16(n + 32), R16(n + 48)
static const uint32_t crc_table[256] = {R64(0u), R64(64u), R64(128u), R64(192u)};

uint32_t ims_crc32c(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    crc = ~crc;
    while (len--)
        crc = (crc >> 8) ^ crc_table[(crc ^ *p++) & 0xffu];
    return ~crc;
}

/* ---- varints ---- */

static uint64_t zigzag(uint64_t delta)
{
    return (delta << 1) ^ (uint64_t)-(int64_t)(delta >> 63);
}

static uint64_t unzigzag(uint64_t u)
{
    return (u >> 1) ^ (uint64_t)-(int64_t)(u & 1u);
}

/* LEB128, at most 10 bytes; 0 or -1 when truncated or longer than 64 bits. */
static int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (*p == end)
            return -1;
        uint8_t b = *(*p)++;
        if (shift == 63 && b > 1)
            return -1;
        v |= (uint64_t)(b & 0x7fu) << shift;
        if (!(b & 0x80u)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

static size_t put_varint(uint8_t *buf, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        buf[n++] = (uint8_t)(v | 0x80u);
        v >>= 7;
    }
    buf[n++] = (uint8_t)v;
    return n;
}

/* ---- delta state (reset per frame) ---- */

typedef struct delta_state {
    uint64_t line, abs_time;
    uint64_t prev[IMS_K_COUNT]; /* last value of each IMS_TF_ADDR key */
} delta_state;

/* ---- encoder ---- */

typedef struct buf {
    uint8_t *d;
    size_t len, cap;
    bool oom;
} buf;

static void reserve(buf *b, size_t n)
{
    if (b->oom || b->len + n <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + n)
        cap *= 2;
    uint8_t *d = realloc(b->d, cap);
    if (!d) {
        b->oom = true;
        return;
    }
    b->d = d;
    b->cap = cap;
}

static void put_bytes(buf *b, const void *p, size_t n)
{
    reserve(b, n);
    if (!b->oom && n) {
        memcpy(b->d + b->len, p, n);
        b->len += n;
    }
}

static void put_u8(buf *b, uint8_t v)
{
    put_bytes(b, &v, 1);
}

static void put_var(buf *b, uint64_t v)
{
    uint8_t tmp[10];
    put_bytes(b, tmp, put_varint(tmp, v));
}

static void encode_record(buf *b, const ims_trace_rec *r, delta_state *st)
{
    const ims_trace_verb_schema *s = ims_trace_schema(r->verb);
    put_u8(b, (uint8_t)((unsigned)r->verb | (unsigned)r->tmode << 6));
    put_var(b, zigzag(r->line - st->line));
    st->line = r->line;
    if (r->tmode == IMS_TIME_ABS) {
        put_var(b, zigzag(r->time_ps - st->abs_time));
        st->abs_time = r->time_ps;
    } else if (r->tmode == IMS_TIME_REL) {
        put_var(b, r->time_ps);
    }
    uint64_t mask = 0;
    for (unsigned i = 0; i < s->nfields; i++)
        if (ims_trace_has(r, s->fields[i].key))
            mask |= 1ull << i;
    put_var(b, mask);
    for (unsigned i = 0; i < s->nfields; i++) {
        const ims_trace_field *f = &s->fields[i];
        ims_trace_key k = f->key;
        if (!ims_trace_has(r, k))
            continue;
        ims_trace_span sp = r->v[k].span;
        const uint8_t *a = f->type >= IMS_TV_NAME && r->arena ? r->arena + sp.off : (const uint8_t *)"";
        switch (f->type) {
        case IMS_TV_FLAG:
            break;
        case IMS_TV_DEV:
            if (!((r->named >> k) & 1u)) {
                put_var(b, r->v[k].num << 1);
                break;
            }
            put_var(b, (uint64_t)sp.len << 1 | 1u);
            put_bytes(b, a, sp.len);
            break;
        case IMS_TV_NAME:
        case IMS_TV_PATH:
        case IMS_TV_HEX:
            put_var(b, sp.len);
            put_bytes(b, a, sp.len);
            break;
        case IMS_TV_DMA_EXPECT:
        case IMS_TV_ERR_EXPECT: {
            const ims_trace_expect *e = (const ims_trace_expect *)(const void *)a;
            put_var(b, sp.len);
            for (uint32_t j = 0; j < sp.len; j++) {
                put_u8(b, (uint8_t)e[j].kind);
                if (e[j].kind != IMS_EXP_FAULT)
                    put_var(b, e[j].value);
            }
            break;
        }
        case IMS_TV_ENTRIES: {
            const ims_trace_inv_entry *e = (const ims_trace_inv_entry *)(const void *)a;
            uint64_t prev = 0;
            put_var(b, sp.len);
            for (uint32_t j = 0; j < sp.len; j++) {
                put_var(b, zigzag(e[j].addr - prev));
                prev = e[j].addr;
                put_var(b, e[j].npages + 1); /* `all` (2^64-1) becomes 0 */
                put_u8(b, (uint8_t)e[j].leaf);
            }
            break;
        }
        default: /* NUM, SIZE, TIME, NUMSET, ENUM, BITS */
            if (f->flags & IMS_TF_ADDR) {
                put_var(b, zigzag(r->v[k].num - st->prev[k]));
                st->prev[k] = r->v[k].num;
            } else {
                put_var(b, r->v[k].num);
            }
            break;
        }
    }
}

struct ims_bin_writer {
    ims_trace_sink *sink;
    size_t target;
    buf payload, rec;
    uint64_t nrec;   /* records in the open frame */
    uint64_t total;
    delta_state st;
    ims_trace_seq seq;
    bool finished;
};

static int write_frame(ims_bin_writer *w, const uint8_t *payload, size_t len, uint64_t n, ims_error *err)
{
    uint8_t hdr[20], crcb[4];
    size_t hl = put_varint(hdr, len);
    hl += put_varint(hdr + hl, n);
    uint32_t crc = ims_crc32c(ims_crc32c(0, hdr, hl), payload, len);
    for (int i = 0; i < 4; i++)
        crcb[i] = (uint8_t)(crc >> (8 * i));
    int rc = ims_trace_sink_write(w->sink, hdr, hl, err);
    if (!rc)
        rc = ims_trace_sink_write(w->sink, payload, len, err);
    if (!rc)
        rc = ims_trace_sink_write(w->sink, crcb, 4, err);
    return rc;
}

static int flush_frame(ims_bin_writer *w, ims_error *err)
{
    if (!w->nrec)
        return 0;
    int rc = write_frame(w, w->payload.d, w->payload.len, w->nrec, err);
    w->payload.len = 0;
    w->nrec = 0;
    memset(&w->st, 0, sizeof w->st);
    return rc;
}

ims_bin_writer *ims_bin_writer_open(ims_trace_sink *sink, ims_error *err)
{
    ims_bin_writer *w = calloc(1, sizeof *w);
    if (!w) {
        ims_errorf(err, ENOMEM, "out of memory");
        return NULL;
    }
    w->sink = sink;
    w->target = IMS_BIN_FRAME_TARGET;
    uint8_t h[IMS_BIN_HEADER_LEN] = {0};
    memcpy(h, IMS_BIN_MAGIC, IMS_BIN_MAGIC_LEN);
    h[8] = IMS_BIN_VERSION & 0xff;
    h[9] = IMS_BIN_VERSION >> 8;
    uint32_t crc = ims_crc32c(0, h, 12);
    for (int i = 0; i < 4; i++)
        h[12 + i] = (uint8_t)(crc >> (8 * i));
    if (ims_trace_sink_write(sink, h, sizeof h, err)) {
        free(w);
        return NULL;
    }
    return w;
}

void ims_bin_writer_set_frame_target(ims_bin_writer *w, size_t frame_target)
{
    w->target = frame_target ? frame_target : 1;
}

int ims_bin_writer_write(ims_bin_writer *w, const ims_trace_rec *r, ims_error *err)
{
    if (w->finished)
        return ims_errorf(err, EINVAL, "write after finish");
    int rc = ims_trace_rec_validate(r, err);
    if (!rc)
        rc = ims_trace_seq_check(&w->seq, r, err);
    if (rc)
        return rc;
    delta_state st = w->st;
    w->rec.len = 0;
    encode_record(&w->rec, r, &st);
    if (w->nrec && w->payload.len + w->rec.len > w->target) {
        rc = flush_frame(w, err);
        if (rc)
            return rc;
        st = w->st; /* a new frame starts from zeroed deltas */
        w->rec.len = 0;
        encode_record(&w->rec, r, &st);
    }
    if (w->rec.oom)
        return ims_errorf(err, ENOMEM, "out of memory");
    if (w->rec.len > IMS_BIN_FRAME_MAX)
        return ims_errorf(err, E2BIG, "record of %zu bytes exceeds the frame limit", w->rec.len);
    put_bytes(&w->payload, w->rec.d, w->rec.len);
    if (w->payload.oom)
        return ims_errorf(err, ENOMEM, "out of memory");
    w->st = st;
    w->nrec++;
    w->total++;
    return 0;
}

int ims_bin_writer_finish(ims_bin_writer *w, ims_error *err)
{
    if (w->finished)
        return 0;
    w->finished = true;
    int rc = flush_frame(w, err);
    if (!rc)
        rc = write_frame(w, NULL, 0, w->total, err); /* end frame: empty payload, total count */
    return rc;
}

void ims_bin_writer_close(ims_bin_writer *w)
{
    if (!w)
        return;
    free(w->payload.d);
    free(w->rec.d);
    free(w);
}

/* ---- reader ---- */

struct ims_bin_reader {
    ims_trace_src *src;
    bool own_src;
    char *name;
    uint8_t *payload;
    size_t cap, len, pos;
    uint64_t frame_left; /* records not yet decoded from the current frame */
    uint64_t frame;      /* 1-based number of the current frame */
    uint64_t frame_off;  /* byte offset of the current frame */
    uint64_t record;     /* 1-based number of the last record */
    delta_state st;
    ims_trace_seq seq;
    bool done;
    ims_error failed;
};

__attribute__((format(printf, 3, 4))) static int bin_fail(ims_bin_reader *r, ims_error *err, const char *fmt, ...)
{
    char msg[IMS_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ims_errorf(&r->failed, EINVAL, "%s: %s", r->name, msg);
    if (err)
        *err = r->failed;
    return r->failed.code;
}

ims_bin_reader *ims_bin_reader_open(ims_trace_src *src, bool own_src, const char *name, ims_error *err)
{
    ims_bin_reader *r = calloc(1, sizeof *r);
    if (!name)
        name = "<trace>";
    size_t nl = strlen(name) + 1;
    if (!r || !(r->name = malloc(nl))) {
        free(r);
        if (own_src)
            ims_trace_src_close(src);
        ims_errorf(err, ENOMEM, "%s: out of memory", name);
        return NULL;
    }
    memcpy(r->name, name, nl);
    r->src = src;
    r->own_src = own_src;
    uint8_t h[IMS_BIN_HEADER_LEN];
    long got = ims_trace_src_read(src, h, sizeof h, err);
    int rc = 0;
    if (got < 0)
        rc = bin_fail(r, err, "%s", err ? err->msg : "read error");
    else if (got < (long)sizeof h)
        rc = bin_fail(r, err, "truncated header (%ld of %d bytes)", got, IMS_BIN_HEADER_LEN);
    else if (memcmp(h, IMS_BIN_MAGIC, IMS_BIN_MAGIC_LEN))
        rc = bin_fail(r, err, "not a binary iommusim trace (bad magic)");
    else {
        uint32_t stored = (uint32_t)h[12] | (uint32_t)h[13] << 8 | (uint32_t)h[14] << 16 | (uint32_t)h[15] << 24;
        unsigned version = h[8] | (unsigned)h[9] << 8, flags = h[10] | (unsigned)h[11] << 8;
        if (stored != ims_crc32c(0, h, 12))
            rc = bin_fail(r, err, "header checksum mismatch");
        else if (version != IMS_BIN_VERSION)
            rc = bin_fail(r, err, "unsupported binary trace version %u (this build reads %u)", version,
                          IMS_BIN_VERSION);
        else if (flags)
            rc = bin_fail(r, err, "header: unknown flags 0x%x", flags);
    }
    if (rc) {
        ims_bin_reader_close(r);
        return NULL;
    }
    return r;
}

void ims_bin_reader_close(ims_bin_reader *r)
{
    if (!r)
        return;
    if (r->own_src)
        ims_trace_src_close(r->src);
    free(r->payload);
    free(r->name);
    free(r);
}

uint64_t ims_bin_reader_record(const ims_bin_reader *r)
{
    return r->record;
}

uint64_t ims_bin_reader_frame(const ims_bin_reader *r)
{
    return r->frame;
}

/* Read the next frame. 1: a data frame is loaded; 0: the end frame was read
 * and checked; <0: error. */
static int load_frame(ims_bin_reader *r, ims_error *err)
{
    ims_error e = {0};
    r->frame++;
    r->frame_off = ims_trace_src_offset(r->src);
    const uint8_t *p;
    long avail = ims_trace_src_peek(r->src, &p, 20, &e);
    if (avail < 0)
        return bin_fail(r, err, "frame %" PRIu64 " at byte %" PRIu64 ": %s", r->frame, r->frame_off, e.msg);
    if (avail == 0)
        return bin_fail(r, err, "truncated: the end frame is missing after frame %" PRIu64 " (byte %" PRIu64 ")",
                        r->frame - 1, r->frame_off);
    const uint8_t *q = p, *end = p + avail;
    uint64_t len, n;
    if (get_varint(&q, end, &len) || get_varint(&q, end, &n))
        return bin_fail(r, err, "frame %" PRIu64 " at byte %" PRIu64 ": %s frame header", r->frame, r->frame_off,
                        avail < 20 ? "truncated" : "malformed");
    size_t hl = (size_t)(q - p);
    uint32_t crc = ims_crc32c(0, p, hl);
    ims_trace_src_consume(r->src, hl);
    if (len > IMS_BIN_FRAME_MAX)
        return bin_fail(r, err, "frame %" PRIu64 " at byte %" PRIu64 ": length %" PRIu64 " exceeds the maximum %u",
                        r->frame, r->frame_off, len, IMS_BIN_FRAME_MAX);
    if (len > r->cap) {
        uint8_t *d = realloc(r->payload, (size_t)len);
        if (!d)
            return bin_fail(r, err, "out of memory");
        r->payload = d;
        r->cap = (size_t)len;
    }
    uint8_t crcb[4];
    long got = len ? ims_trace_src_read(r->src, r->payload, (size_t)len, &e) : 0;
    if (got >= 0 && (uint64_t)got == len)
        got = ims_trace_src_read(r->src, crcb, 4, &e) == 4 ? (long)len : -1;
    else if (got >= 0)
        got = -1;
    if (got < 0)
        return bin_fail(r, err, "frame %" PRIu64 " at byte %" PRIu64 ": %s", r->frame, r->frame_off,
                        e.code ? e.msg : "truncated");
    crc = ims_crc32c(crc, r->payload, (size_t)len);
    uint32_t stored = (uint32_t)crcb[0] | (uint32_t)crcb[1] << 8 | (uint32_t)crcb[2] << 16 | (uint32_t)crcb[3] << 24;
    if (stored != crc)
        return bin_fail(r, err,
                        "frame %" PRIu64 " at byte %" PRIu64 ": checksum mismatch (stored 0x%08x, computed 0x%08x)",
                        r->frame, r->frame_off, stored, crc);
    if (len == 0) {
        if (n != r->record)
            return bin_fail(r, err, "end frame counts %" PRIu64 " records but %" PRIu64 " were read", n, r->record);
        avail = ims_trace_src_peek(r->src, &p, 1, &e);
        if (avail < 0)
            return bin_fail(r, err, "after the end frame: %s", e.msg);
        if (avail)
            return bin_fail(r, err, "data after the end frame at byte %" PRIu64, ims_trace_src_offset(r->src));
        return 0;
    }
    if (n == 0 || n > len)
        return bin_fail(r, err, "frame %" PRIu64 " at byte %" PRIu64 ": bad record count %" PRIu64, r->frame,
                        r->frame_off, n);
    r->len = (size_t)len;
    r->pos = 0;
    r->frame_left = n;
    memset(&r->st, 0, sizeof r->st);
    return 1;
}

/* Decode one record at payload[pos]: 0, or -1 with a reason in *why. */
static int decode_record(ims_bin_reader *r, ims_trace_rec *rec, const char **why)
{
    const uint8_t *p = r->payload + r->pos, *end = r->payload + r->len;
    uint64_t v;
    *why = "truncated record";
    if (p == end)
        return -1;
    uint8_t head = *p++;
    const ims_trace_verb_schema *s = ims_trace_schema((ims_trace_verb)(head & 0x3fu));
    if (!s || head >> 6 > IMS_TIME_REL) {
        *why = "unknown verb code or time mode";
        return -1;
    }
    rec->verb = (ims_trace_verb)(head & 0x3fu);
    rec->tmode = (ims_trace_time_mode)(head >> 6);
    if (get_varint(&p, end, &v))
        return -1;
    rec->line = r->st.line + unzigzag(v);
    r->st.line = rec->line;
    if (rec->tmode == IMS_TIME_ABS) {
        if (get_varint(&p, end, &v))
            return -1;
        rec->time_ps = r->st.abs_time + unzigzag(v);
        r->st.abs_time = rec->time_ps;
    } else if (rec->tmode == IMS_TIME_REL) {
        if (get_varint(&p, end, &rec->time_ps))
            return -1;
    }
    uint64_t mask;
    if (get_varint(&p, end, &mask))
        return -1;
    if (mask >> s->nfields) {
        *why = "unknown key in the presence mask";
        return -1;
    }
    for (unsigned i = 0; i < s->nfields; i++) {
        if (!((mask >> i) & 1u))
            continue;
        const ims_trace_field *f = &s->fields[i];
        ims_trace_key k = f->key;
        rec->present |= 1ull << k;
        uint64_t n;
        uint32_t off;
        switch (f->type) {
        case IMS_TV_FLAG:
            break;
        case IMS_TV_DEV:
            if (get_varint(&p, end, &n))
                return -1;
            if (!(n & 1u)) {
                rec->v[k].num = n >> 1;
                break;
            }
            rec->named |= 1ull << k;
            n >>= 1;
            if (n > (uint64_t)(end - p) || ims_trace_rec_set_bytes(rec, k, p, (size_t)n))
                return -1;
            p += n;
            break;
        case IMS_TV_NAME:
        case IMS_TV_PATH:
        case IMS_TV_HEX:
            if (get_varint(&p, end, &n) || n > (uint64_t)(end - p) || ims_trace_rec_set_bytes(rec, k, p, (size_t)n))
                return -1;
            p += n;
            break;
        case IMS_TV_DMA_EXPECT:
        case IMS_TV_ERR_EXPECT: {
            if (get_varint(&p, end, &n))
                return -1;
            if (n == 0 || n > IMS_TRACE_EXPECT_MAX) {
                *why = "bad expect count";
                return -1;
            }
            if (ims_trace_rec_alloc(rec, (size_t)n * sizeof(ims_trace_expect), &off))
                return -1;
            ims_trace_expect *e = (ims_trace_expect *)(void *)(rec->arena + off);
            for (uint64_t j = 0; j < n; j++) {
                if (p == end)
                    return -1;
                e[j].kind = *p++;
                if (e[j].kind != IMS_EXP_FAULT && get_varint(&p, end, &e[j].value))
                    return -1;
            }
            rec->v[k].span = (ims_trace_span){off, (uint32_t)n};
            break;
        }
        case IMS_TV_ENTRIES: {
            if (get_varint(&p, end, &n))
                return -1;
            if (n == 0 || n > ENTRIES_MAX || n * 3 > (uint64_t)(end - p)) {
                *why = "bad entry count";
                return -1;
            }
            if (ims_trace_rec_alloc(rec, (size_t)n * sizeof(ims_trace_inv_entry), &off))
                return -1;
            ims_trace_inv_entry *e = (ims_trace_inv_entry *)(void *)(rec->arena + off);
            uint64_t prev = 0;
            for (uint64_t j = 0; j < n; j++) {
                uint64_t d, np;
                if (get_varint(&p, end, &d) || get_varint(&p, end, &np) || p == end)
                    return -1;
                e[j].addr = prev + unzigzag(d);
                prev = e[j].addr;
                e[j].npages = np - 1;
                e[j].leaf = *p++;
            }
            rec->v[k].span = (ims_trace_span){off, (uint32_t)n};
            break;
        }
        default:
            if (get_varint(&p, end, &v))
                return -1;
            if (f->flags & IMS_TF_ADDR) {
                v = r->st.prev[k] + unzigzag(v);
                r->st.prev[k] = v;
            }
            rec->v[k].num = v;
            break;
        }
    }
    r->pos = (size_t)(p - r->payload);
    return 0;
}

int ims_bin_reader_next(ims_bin_reader *r, ims_trace_rec *rec, ims_error *err)
{
    if (r->failed.code) {
        if (err)
            *err = r->failed;
        return r->failed.code;
    }
    if (r->done)
        return 0;
    if (!r->frame_left) {
        if (r->frame && r->pos != r->len)
            return bin_fail(r, err, "frame %" PRIu64 ": %zu bytes after its last record", r->frame, r->len - r->pos);
        int rc = load_frame(r, err);
        if (rc <= 0) {
            r->done = rc == 0;
            return rc;
        }
    }
    ims_trace_rec_reset(rec);
    r->record++;
    r->frame_left--;
    const char *why;
    if (decode_record(r, rec, &why)) {
        ims_trace_rec_reset(rec);
        return bin_fail(r, err, "frame %" PRIu64 ", record %" PRIu64 ": %s", r->frame, r->record, why);
    }
    ims_error e = {0};
    if (ims_trace_rec_validate(rec, &e) || ims_trace_seq_check(&r->seq, rec, &e)) {
        uint64_t line = rec->line;
        ims_trace_rec_reset(rec);
        return bin_fail(r, err, "frame %" PRIu64 ", record %" PRIu64 " (line %" PRIu64 "): %s", r->frame, r->record,
                        line, e.msg);
    }
    return 1;
}
