/* Trace statistics and the streaming whole-trace tools (trace_stat.h). */
#define _POSIX_C_SOURCE 200809L /* fileno */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "traces/trace_stat.h"

#define NSIDS 65536u
#define NAME_BUCKETS 1024u /* name -> device chains; devices are few in practice */

struct ims_trace_stat {
    ims_trace_stat_sum sum;
    ims_trace_stat_dev *devs; /* in order of first appearance */
    int32_t *name_next;       /* per device: next in its name chain, -1 ends */
    size_t ndevs, cap;
    int32_t *by_sid;          /* NSIDS entries, -1 = none; allocated with the first device */
    int32_t name_head[NAME_BUCKETS];
    bool host_set;
    double host_seconds, host_cpu_seconds;
    uint64_t host_rss_kb;
};

ims_trace_stat *ims_trace_stat_create(void)
{
    ims_trace_stat *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    for (size_t i = 0; i < NAME_BUCKETS; i++)
        s->name_head[i] = -1;
    return s;
}

void ims_trace_stat_destroy(ims_trace_stat *s)
{
    if (!s)
        return;
    free(s->devs);
    free(s->name_next);
    free(s->by_sid);
    free(s);
}

/* FNV-1a: names are short, so a simple hash is enough. */
static uint32_t name_bucket(const char *name)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % NAME_BUCKETS;
}

static void name_unlink(ims_trace_stat *s, int32_t idx)
{
    int32_t *link = &s->name_head[name_bucket(s->devs[idx].name)];
    while (*link >= 0 && *link != idx)
        link = &s->name_next[*link];
    if (*link == idx)
        *link = s->name_next[idx];
}

static void name_link(ims_trace_stat *s, int32_t idx)
{
    uint32_t b = name_bucket(s->devs[idx].name);
    s->name_next[idx] = s->name_head[b];
    s->name_head[b] = idx;
}

static ims_trace_stat_dev *dev_by_name(ims_trace_stat *s, const char *name)
{
    for (int32_t i = s->name_head[name_bucket(name)]; i >= 0; i = s->name_next[i])
        if (!strcmp(s->devs[i].name, name))
            return &s->devs[i];
    return NULL;
}

/* The device entry of sid, created (undeclared, no name) on first use. */
static int dev_of_sid(ims_trace_stat *s, uint16_t sid, int32_t *idx, ims_error *err)
{
    if (!s->by_sid) {
        s->by_sid = malloc(NSIDS * sizeof *s->by_sid);
        if (!s->by_sid)
            return ims_errorf(err, ENOMEM, "trace stat: out of memory");
        memset(s->by_sid, 0xff, NSIDS * sizeof *s->by_sid); /* all -1 */
    }
    if (s->by_sid[sid] >= 0) {
        *idx = s->by_sid[sid];
        return 0;
    }
    if (s->ndevs == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        ims_trace_stat_dev *d = realloc(s->devs, cap * sizeof *d);
        if (!d)
            return ims_errorf(err, ENOMEM, "trace stat: out of memory");
        s->devs = d;
        int32_t *n = realloc(s->name_next, cap * sizeof *n);
        if (!n)
            return ims_errorf(err, ENOMEM, "trace stat: out of memory");
        s->name_next = n;
        s->cap = cap;
    }
    int32_t i = (int32_t)s->ndevs++;
    memset(&s->devs[i], 0, sizeof s->devs[i]);
    s->devs[i].sid = sid;
    s->name_next[i] = -1;
    s->by_sid[sid] = i;
    *idx = i;
    return 0;
}

static int add_device(ims_trace_stat *s, const ims_trace_rec *r, ims_error *err)
{
    int32_t i;
    int rc = dev_of_sid(s, (uint16_t)ims_trace_num(r, IMS_K_SID), &i, err);
    if (rc)
        return rc;
    ims_trace_stat_dev *d = &s->devs[i];
    const char *name = ims_trace_str(r, IMS_K_NAME);
    if (d->name[0] && (!name || strcmp(d->name, name)))
        name_unlink(s, i);
    if (name && strcmp(d->name, name)) {
        snprintf(d->name, sizeof d->name, "%s", name);
        name_link(s, i);
    } else if (!name) {
        d->name[0] = '\0';
    }
    d->declared = true;
    d->ats = ims_trace_has(r, IMS_K_ATS);
    d->unit = (uint8_t)ims_trace_num_or_default(r, IMS_K_UNIT);
    return 0;
}

static int add_dma(ims_trace_stat *s, const ims_trace_rec *r, ims_error *err)
{
    ims_trace_stat_dev *d;
    if (ims_trace_dev_is_name(r)) {
        d = dev_by_name(s, ims_trace_str(r, IMS_K_DEV));
        if (!d) {
            s->sum.dma_unresolved++;
            return 0;
        }
    } else {
        int32_t i;
        int rc = dev_of_sid(s, (uint16_t)ims_trace_num(r, IMS_K_DEV), &i, err);
        if (rc)
            return rc;
        d = &s->devs[i];
    }
    uint64_t lo = ims_trace_num(r, IMS_K_IOVA), len = ims_trace_num(r, IMS_K_LEN);
    uint64_t hi = lo + len - 1; /* the schema forbids wrapping and len 0 */
    if (d->dma == 0 || lo < d->iova_min)
        d->iova_min = lo;
    if (d->dma == 0 || hi > d->iova_max)
        d->iova_max = hi;
    d->dma++;
    d->bytes += len;
    if (ims_trace_has(r, IMS_K_WR))
        d->wr++;
    else
        d->rd++;
    return 0;
}

static void add_mem(ims_trace_stat_sum *m, uint64_t pa, uint64_t len)
{
    uint64_t hi = pa + len - 1;
    if (m->mem_writes == 0 || pa < m->mem_pa_min)
        m->mem_pa_min = pa;
    if (m->mem_writes == 0 || hi > m->mem_pa_max)
        m->mem_pa_max = hi;
    m->mem_writes++;
    m->mem_bytes += len;
}

int ims_trace_stat_add(ims_trace_stat *s, const ims_trace_rec *r, ims_error *err)
{
    ims_trace_stat_sum *m = &s->sum;
    const ims_trace_verb_schema *schema = ims_trace_schema(r->verb);
    if (!schema)
        return ims_errorf(err, EINVAL, "trace stat: record with invalid verb %d", (int)r->verb);
    int rc = 0;
    switch (r->verb) {
    case IMS_V_DEVICE: rc = add_device(s, r, err); break;
    case IMS_V_DMA: rc = add_dma(s, r, err); break;
    case IMS_V_MEM_W32: add_mem(m, ims_trace_num(r, IMS_K_PA), 4); break;
    case IMS_V_MEM_W64: add_mem(m, ims_trace_num(r, IMS_K_PA), 8); break;
    case IMS_V_MEM_WRITE: {
        size_t len = 0;
        ims_trace_bytes(r, IMS_K_HEX, &len);
        add_mem(m, ims_trace_num(r, IMS_K_PA), len);
        break;
    }
    default: break;
    }
    if (rc)
        return rc;
    m->records++;
    m->verb[r->verb]++;
    if (r->tmode == IMS_TIME_ABS) {
        if (m->abs_records == 0)
            m->abs_first_ps = r->time_ps;
        m->abs_last_ps = r->time_ps;
        m->abs_records++;
    } else if (r->tmode == IMS_TIME_REL) {
        m->rel_records++;
        m->rel_total_ps = m->rel_total_ps + r->time_ps < m->rel_total_ps ? UINT64_MAX : m->rel_total_ps + r->time_ps;
    }
    if (ims_trace_has(r, IMS_K_EXPECT)) {
        if (r->verb == IMS_V_DMA)
            m->expect_dma++;
        else if (schema->cls == IMS_VC_HOST)
            m->expect_host++;
        else
            m->expect_mmio++;
    }
    if (ims_trace_has(r, IMS_K_EXPECT_DONE))
        m->expect_done++;
    return 0;
}

int ims_trace_stat_read(ims_trace_stat *s, const char *path, ims_error *err)
{
    ims_trace_reader *rd = ims_trace_reader_open(path, err);
    if (!rd)
        return err && err->code ? err->code : -EINVAL;
    ims_trace_rec rec;
    ims_trace_rec_init(&rec);
    int rc;
    while ((rc = ims_trace_reader_next(rd, &rec, err)) > 0)
        if ((rc = ims_trace_stat_add(s, &rec, err)) < 0)
            break;
    ims_trace_rec_free(&rec);
    ims_trace_reader_close(rd);
    if (rc == 0)
        s->sum.files++;
    return rc;
}

void ims_trace_stat_set_host(ims_trace_stat *s, double seconds, double cpu_seconds, uint64_t peak_rss_kb)
{
    s->host_set = true;
    s->host_seconds = seconds;
    s->host_cpu_seconds = cpu_seconds;
    s->host_rss_kb = peak_rss_kb;
}

const ims_trace_stat_sum *ims_trace_stat_summary(const ims_trace_stat *s)
{
    return &s->sum;
}

size_t ims_trace_stat_ndevs(const ims_trace_stat *s)
{
    return s->ndevs;
}

const ims_trace_stat_dev *ims_trace_stat_dev_of(const ims_trace_stat *s, uint16_t sid)
{
    if (!s->by_sid || s->by_sid[sid] < 0)
        return NULL;
    return &s->devs[s->by_sid[sid]];
}

/* ---- output: one list of items, printed as text or JSON ---- */

typedef enum item_kind { IT_COUNT, IT_ADDR, IT_TIME, IT_STR, IT_REAL } item_kind;

typedef struct item {
    const char *key;
    item_kind kind;
    uint64_t u;
    double d;
    const char *s;
} item;

typedef struct emitter {
    FILE *out;
    bool json, first;
} emitter;

static void put_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void emit(emitter *e, const item *it)
{
    FILE *o = e->out;
    if (e->json) {
        fputs(e->first ? "{\n  " : ",\n  ", o);
        e->first = false;
        put_json_string(o, it->key);
        fputs(": ", o);
    } else {
        fprintf(o, "%-32s ", it->key);
    }
    switch (it->kind) {
    case IT_COUNT: fprintf(o, "%" PRIu64, it->u); break;
    case IT_ADDR: e->json ? fprintf(o, "\"0x%" PRIx64 "\"", it->u) : fprintf(o, "0x%" PRIx64, it->u); break;
    case IT_TIME:
        fprintf(o, "%" PRIu64, it->u);
        if (!e->json) {
            char t[48];
            ims_trace_format_time(it->u, t, sizeof t);
            fprintf(o, " (%s)", t);
        }
        break;
    case IT_STR: e->json ? put_json_string(o, it->s) : (void)fputs(it->s, o); break;
    case IT_REAL: fprintf(o, "%.6g", it->d); break;
    }
    if (!e->json)
        fputc('\n', o);
}

static void count(emitter *e, const char *key, uint64_t v)
{
    emit(e, &(item){.key = key, .kind = IT_COUNT, .u = v});
}

static void addr(emitter *e, const char *key, uint64_t v)
{
    emit(e, &(item){.key = key, .kind = IT_ADDR, .u = v});
}

static void emit_device(emitter *e, const ims_trace_stat_dev *d)
{
    char k[96];
#define DKEY(field) (snprintf(k, sizeof k, "device.0x%04x." field, (unsigned)d->sid), k)
    if (d->name[0])
        emit(e, &(item){.key = DKEY("name"), .kind = IT_STR, .s = d->name});
    count(e, DKEY("declared"), d->declared);
    if (d->declared) {
        count(e, DKEY("unit"), d->unit);
        count(e, DKEY("ats"), d->ats);
    }
    count(e, DKEY("dma"), d->dma);
    count(e, DKEY("rd"), d->rd);
    count(e, DKEY("wr"), d->wr);
    count(e, DKEY("bytes"), d->bytes);
    if (d->dma) {
        addr(e, DKEY("iova_min"), d->iova_min);
        addr(e, DKEY("iova_max"), d->iova_max);
    }
#undef DKEY
}

static void emit_all(const ims_trace_stat *s, emitter *e)
{
    const ims_trace_stat_sum *m = &s->sum;
    char k[96];
    count(e, "files", m->files);
    count(e, "records", m->records);
    for (int v = 1; v < IMS_V_COUNT; v++) {
        if (!e->json && m->verb[v] == 0)
            continue; /* text: only what occurs; JSON: a fixed key set */
        snprintf(k, sizeof k, "records.%s", ims_trace_verb_name((ims_trace_verb)v));
        count(e, k, m->verb[v]);
    }
    count(e, "time.abs.records", m->abs_records);
    if (m->abs_records) {
        emit(e, &(item){.key = "time.abs.first_ps", .kind = IT_TIME, .u = m->abs_first_ps});
        emit(e, &(item){.key = "time.abs.last_ps", .kind = IT_TIME, .u = m->abs_last_ps});
    }
    count(e, "time.rel.records", m->rel_records);
    emit(e, &(item){.key = "time.rel.total_ps", .kind = IT_TIME, .u = m->rel_total_ps});
    count(e, "devices", s->ndevs);
    if (s->by_sid)
        for (uint32_t sid = 0; sid < NSIDS; sid++) /* SID order, stable output */
            if (s->by_sid[sid] >= 0)
                emit_device(e, &s->devs[s->by_sid[sid]]);
    count(e, "dma.unresolved", m->dma_unresolved);
    count(e, "mem.writes", m->mem_writes);
    count(e, "mem.bytes", m->mem_bytes);
    if (m->mem_writes) {
        addr(e, "mem.pa_min", m->mem_pa_min);
        addr(e, "mem.pa_max", m->mem_pa_max);
    }
    count(e, "expect.total", m->expect_dma + m->expect_mmio + m->expect_host);
    count(e, "expect.dma", m->expect_dma);
    count(e, "expect.mmio", m->expect_mmio);
    count(e, "expect.host", m->expect_host);
    count(e, "expect.done", m->expect_done);
    if (s->host_set) {
        /* CPU time too: the fairer figure when other jobs share the cores. */
        double n = (double)m->records, wall = s->host_seconds, cpu = s->host_cpu_seconds;
        emit(e, &(item){.key = "host.seconds", .kind = IT_REAL, .d = wall});
        emit(e, &(item){.key = "host.cpu_seconds", .kind = IT_REAL, .d = cpu});
        emit(e, &(item){.key = "host.records_per_s", .kind = IT_REAL, .d = wall > 0 ? n / wall : 0.0});
        emit(e, &(item){.key = "host.records_per_cpu_s", .kind = IT_REAL, .d = cpu > 0 ? n / cpu : 0.0});
        count(e, "host.peak_rss_kb", s->host_rss_kb);
    }
}

static int finish(FILE *out)
{
    return fflush(out) || ferror(out) ? -EIO : 0;
}

int ims_trace_stat_write_text(const ims_trace_stat *s, FILE *out)
{
    emitter e = {out, false, true};
    emit_all(s, &e);
    return finish(out);
}

int ims_trace_stat_write_json(const ims_trace_stat *s, FILE *out)
{
    emitter e = {out, true, true};
    emit_all(s, &e);
    fputs("\n}\n", out);
    return finish(out);
}

/* ---- whole-trace tools ---- */

static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (!strcmp(a, "-") || !strcmp(b, "-"))
        return false;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int64_t ims_trace_convert(const char *in, const char *out, ims_trace_form form, ims_error *err)
{
    if (same_file(in, out))
        return ims_errorf(err, EINVAL, "%s: input and output are the same file", out);
    ims_trace_reader *rd = ims_trace_reader_open(in, err);
    if (!rd)
        return err && err->code ? err->code : -EINVAL;
    ims_trace_writer *w = ims_trace_writer_open(out, form, err);
    if (!w) {
        ims_trace_reader_close(rd);
        return err && err->code ? err->code : -EIO;
    }
    ims_trace_rec rec;
    ims_trace_rec_init(&rec);
    int64_t n = 0;
    int rc;
    while ((rc = ims_trace_reader_next(rd, &rec, err)) > 0) {
        if ((rc = ims_trace_writer_write(w, &rec, err)) < 0)
            break;
        n++;
    }
    ims_error cerr = {0};
    int crc = ims_trace_writer_close(w, rc < 0 ? &cerr : err);
    if (rc >= 0 && crc < 0)
        rc = crc;
    ims_trace_rec_free(&rec);
    ims_trace_reader_close(rd);
    if (rc < 0) {
        if (strcmp(out, "-"))
            remove(out); /* never leave a truncated trace that looks complete */
        return rc;
    }
    return n;
}

int64_t ims_trace_list(const char *path, FILE *out, bool with_name, ims_error *err)
{
    ims_trace_reader *rd = ims_trace_reader_open(path, err);
    if (!rd)
        return err && err->code ? err->code : -EINVAL;
    ims_trace_rec rec;
    ims_trace_rec_init(&rec);
    size_t cap = 256;
    char *buf = malloc(cap);
    int64_t n = 0;
    int rc = buf ? 0 : ims_errorf(err, ENOMEM, "%s: out of memory", path);
    while (rc == 0 && (rc = ims_trace_reader_next(rd, &rec, err)) > 0) {
        size_t len = ims_trace_format(&rec, buf, cap);
        if (len >= cap) { /* long mem.write lines: grow once to the longest */
            char *nb = realloc(buf, len + 1);
            if (!nb) {
                rc = ims_errorf(err, ENOMEM, "%s: out of memory", path);
                break;
            }
            buf = nb;
            cap = len + 1;
            ims_trace_format(&rec, buf, cap);
        }
        if (with_name)
            fprintf(out, "%s:", ims_trace_reader_name(rd));
        fprintf(out, "%" PRIu64 ": ", rec.line);
        fwrite(buf, 1, len, out);
        fputc('\n', out);
        n++;
        rc = 0;
    }
    free(buf);
    ims_trace_rec_free(&rec);
    ims_trace_reader_close(rd);
    if (rc == 0 && finish(out))
        rc = ims_errorf(err, EIO, "write error while listing %s", path);
    return rc < 0 ? rc : n;
}

int64_t ims_trace_validate(const char *path, ims_error *err)
{
    ims_trace_reader *rd = ims_trace_reader_open(path, err);
    if (!rd)
        return err && err->code ? err->code : -EINVAL;
    ims_trace_rec rec;
    ims_trace_rec_init(&rec);
    int64_t n = 0;
    int rc;
    while ((rc = ims_trace_reader_next(rd, &rec, err)) > 0)
        n++;
    ims_trace_rec_free(&rec);
    ims_trace_reader_close(rd);
    return rc < 0 ? rc : n;
}
