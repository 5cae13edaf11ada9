/* Importer output: devices, the topology and host-level setup, and the
 * records each capture event becomes (map/unmap at the guest or host level,
 * DMAs with the expectation the level allows, raw invalidation descriptors,
 * synthesized DMAs). Records are written in the emit pass only; the dry pass
 * runs the same code to learn devices, the address range and lifetimes. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "traces/import/import_internal.h"
#include "traces/text_writer.h"

#define GIB (UINT64_C(1) << 30)
#define SYNTHETIC_SID_BASE 0xff00u

/* ---- devices --------------------------------------------------------------------------- */

static imp_dev *dev_find(imp_ctx *c, uint16_t sid)
{
    for (size_t i = 0; i < c->ndevs; i++)
        if (c->devs[i].sid == sid)
            return &c->devs[i];
    return NULL;
}

static imp_dev *dev_add(imp_ctx *c, uint16_t sid)
{
    if (c->ndevs == c->devcap) {
        size_t cap = c->devcap ? 2 * c->devcap : 8;
        imp_dev *d = realloc(c->devs, cap * sizeof *d);
        if (!d)
            return NULL;
        c->devs = d;
        c->devcap = cap;
    }
    imp_dev *d = &c->devs[c->ndevs++];
    memset(d, 0, sizeof *d);
    d->sid = sid;
    return d;
}

int imp_dev_note(imp_ctx *c, uint16_t sid, unsigned flags)
{
    if (c->pass == IMP_PASS_SCAN)
        return 0;
    imp_dev *d = dev_find(c, sid);
    if (!d && c->pass == IMP_PASS_EMIT) /* the dry pass saw every device */
        return ims_errorf(c->err, EPROTO, "%s:%" PRIu64 ": internal error: device 0x%04x appeared in the last pass",
                          c->name, c->lineno, sid);
    if (!d && !(d = dev_add(c, sid)))
        return ims_errorf(c->err, ENOMEM, "out of memory");
    if (c->pass == IMP_PASS_DRY)
        d->flags |= flags;
    return 0;
}

int imp_dev_named(imp_ctx *c, const char *name, size_t len, uint16_t *sid)
{
    char buf[64];
    if (len >= sizeof buf)
        len = sizeof buf - 1;
    memcpy(buf, name, len);
    buf[len] = '\0';
    const char *p = buf;
    if (imp_bdf(&p, sid) && *p == '\0')
        return imp_dev_note(c, *sid, 0);
    for (size_t i = 0; i < c->ndevs; i++)
        if (!strcmp(c->devs[i].key, buf)) {
            *sid = c->devs[i].sid;
            return 0;
        }
    *sid = 0;
    if (c->pass != IMP_PASS_DRY)
        return c->pass == IMP_PASS_SCAN ? 0 : imp_dev_note(c, SYNTHETIC_SID_BASE + 0xff, 0);
    if (c->next_synthetic >= 0xff)
        return ims_errorf(c->err, ERANGE, "%s:%" PRIu64 ": more than 255 devices without a PCI name", c->name,
                          c->lineno);
    *sid = (uint16_t)(SYNTHETIC_SID_BASE + c->next_synthetic++);
    imp_dev *d = dev_add(c, *sid);
    if (!d)
        return ims_errorf(c->err, ENOMEM, "out of memory");
    snprintf(d->key, sizeof d->key, "%s", buf);
    /* A trace name: [A-Za-z_][A-Za-z0-9_.-]* */
    size_t n = (size_t)snprintf(d->name, sizeof d->name, "dev_%s", buf);
    for (size_t i = 4; i < n && i < sizeof d->name - 1; i++) {
        char ch = d->name[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
                  ch == '.' || ch == '-';
        if (!ok)
            d->name[i] = '_';
    }
    return 0;
}

/* ---- records ---------------------------------------------------------------------------- */

#define UNTIMED UINT64_MAX

static void rb(imp_ctx *c, ims_trace_verb v)
{
    ims_trace_rec_reset(&c->rec);
    c->rec.verb = v;
}

static void rn(imp_ctx *c, ims_trace_key k, uint64_t v)
{
    c->rec.v[k].num = v;
    c->rec.present |= UINT64_C(1) << k;
}

static void rflag(imp_ctx *c, ims_trace_key k)
{
    c->rec.present |= UINT64_C(1) << k;
}

static int rs(imp_ctx *c, ims_trace_key k, const char *s)
{
    return ims_trace_rec_set_bytes(&c->rec, k, s, strlen(s)) ? ims_errorf(c->err, ENOMEM, "out of memory") : 0;
}

static int rexp(imp_ctx *c, const ims_trace_expect *x, size_t n)
{
    uint32_t off;
    if (ims_trace_rec_alloc(&c->rec, n * sizeof *x, &off))
        return ims_errorf(c->err, ENOMEM, "out of memory");
    memcpy(c->rec.arena + off, x, n * sizeof *x);
    c->rec.v[IMS_K_EXPECT].span.off = off;
    c->rec.v[IMS_K_EXPECT].span.len = (uint32_t)n;
    c->rec.present |= UINT64_C(1) << IMS_K_EXPECT;
    return 0;
}

/* Write the record with the time prefix of the time mode (t: event time, ps
 * since the first event; UNTIMED: topology and setup). */
static int put(imp_ctx *c, uint64_t t)
{
    if (c->pass == IMP_PASS_DRY && t != UNTIMED && !c->first_set) {
        c->first_set = true;
        c->first_ps = t;
    }
    if (c->pass != IMP_PASS_EMIT)
        return 0;
    c->rec.tmode = IMS_TIME_NONE;
    c->rec.time_ps = 0;
    if (t != UNTIMED && c->t0_set) {
        if (c->o.time == IMS_IMPORT_TIME_ABS) {
            /* Output time 0 (+ the offset) is the first event that became a record. */
            uint64_t r = t > c->first_ps ? t - c->first_ps : 0;
            c->rec.tmode = IMS_TIME_ABS;
            c->rec.time_ps = r > UINT64_MAX - c->o.time_offset_ps ? UINT64_MAX : r + c->o.time_offset_ps;
        } else if (c->o.time == IMS_IMPORT_TIME_REL) {
            uint64_t d = t > c->last_rel ? t - c->last_rel : 0;
            c->last_rel = t > c->last_rel ? t : c->last_rel;
            if (d) {
                c->rec.tmode = IMS_TIME_REL;
                c->rec.time_ps = d;
            }
        }
    }
    c->rec.line = c->lineno;
    ims_error e = {0};
    if (ims_trace_writer_write(c->w, &c->rec, &e))
        return ims_errorf(c->err, e.code ? e.code : EINVAL, "%s:%" PRIu64 ": internal error: cannot write a record: %s",
                          c->name, c->lineno, e.msg);
    c->sum->records++;
    return 0;
}

static bool host(const imp_ctx *c)
{
    return c->o.level == IMS_IMPORT_LEVEL_HOST;
}

static void ioas_name(char *buf, size_t cap, uint16_t sid)
{
    snprintf(buf, cap, "as_%04x", sid);
}

static int cmp_dev(const void *a, const void *b)
{
    const imp_dev *x = a, *y = b;
    return (x->sid > y->sid) - (x->sid < y->sid);
}

int imp_emit_topology(imp_ctx *c)
{
    if (c->ndevs)
        qsort(c->devs, c->ndevs, sizeof *c->devs, cmp_dev);
    c->sum->devices = c->ndevs;
    int rc;
    if (!host(c)) {
        /* Guest RAM: every address the capture mapped, then the page-table pool. */
        uint64_t need = c->gpa_end + c->o.pool;
        uint64_t mem = need < c->gpa_end ? UINT64_MAX : ((need + GIB - 1) / GIB) * GIB;
        if (c->o.vm_mem) {
            if (c->o.vm_mem < need)
                imp_notef(c, "adjusted: --vm-mem raised to %" PRIu64 " MiB (the capture maps addresses up to "
                             "0x%" PRIx64 ", plus the page-table pool)",
                          mem >> 20, c->gpa_end);
            else
                mem = c->o.vm_mem;
        }
        if (!c->o.time_offset_set) /* the guest comes up (its RAM mapped) before any timed record issues */
            c->o.time_offset_ps = IMS_IMPORT_GUEST_OFFSET_PS + IMS_IMPORT_GUEST_OFFSET_PER_GIB_PS * (mem / GIB);
        rb(c, IMS_V_VM);
        rn(c, IMS_K_ID, c->o.vm_id);
        rn(c, IMS_K_MEM, mem ? mem : GIB);
        if ((rc = put(c, UNTIMED)))
            return rc;
    }
    for (size_t i = 0; i < c->ndevs; i++) {
        const imp_dev *d = &c->devs[i];
        rb(c, IMS_V_DEVICE);
        rn(c, IMS_K_SID, d->sid);
        if (!host(c))
            rn(c, IMS_K_VM, c->o.vm_id);
        if (d->name[0] && (rc = rs(c, IMS_K_NAME, d->name)))
            return rc;
        if (d->flags & IMP_DEV_ATS)
            rflag(c, IMS_K_ATS);
        if ((rc = put(c, UNTIMED)))
            return rc;
    }
    if (!host(c) || !c->ndevs)
        return 0;
    /* One IOAS per device, attached once: the captured mappings go into it. */
    for (size_t i = 0; i < c->ndevs; i++) {
        char as[16];
        ioas_name(as, sizeof as, c->devs[i].sid);
        rb(c, IMS_V_IOAS_ALLOC);
        if ((rc = rs(c, IMS_K_OUT, as)) || (rc = put(c, UNTIMED)))
            return rc;
        rb(c, IMS_V_ATTACH);
        rn(c, IMS_K_DEV, c->devs[i].sid);
        if ((rc = rs(c, IMS_K_PT, as)) || (rc = put(c, UNTIMED)))
            return rc;
    }
    rb(c, IMS_V_MARK);
    if ((rc = rs(c, IMS_K_NAME, "capture")))
        return rc;
    return put(c, UNTIMED);
}

/* ---- map / unmap -------------------------------------------------------------------------- */

static int put_map(imp_ctx *c, uint16_t sid, const imp_ent *e)
{
    int rc;
    if (host(c)) {
        char as[16];
        ioas_name(as, sizeof as, sid);
        rb(c, IMS_V_IOAS_MAP);
        if ((rc = rs(c, IMS_K_IOAS, as)))
            return rc;
        rn(c, IMS_K_HPA, c->o.hpa_base + e->gpa);
    } else {
        rb(c, IMS_V_GUEST_MAP);
        rn(c, IMS_K_VM, c->o.vm_id);
        rn(c, IMS_K_DEV, sid);
        rn(c, IMS_K_GPA, e->gpa);
    }
    rn(c, IMS_K_IOVA, e->iova);
    rn(c, IMS_K_LEN, e->len);
    if (e->prot != IMS_TRACE_PROT_RW)
        rn(c, IMS_K_PROT, e->prot);
    return put(c, c->now);
}

static int put_unmap(imp_ctx *c, uint16_t sid, const imp_ent *e)
{
    int rc;
    if (host(c)) {
        char as[16];
        ioas_name(as, sizeof as, sid);
        rb(c, IMS_V_IOAS_UNMAP);
        if ((rc = rs(c, IMS_K_IOAS, as)))
            return rc;
    } else {
        rb(c, IMS_V_GUEST_UNMAP);
        rn(c, IMS_K_VM, c->o.vm_id);
        rn(c, IMS_K_DEV, sid);
    }
    rn(c, IMS_K_IOVA, e->iova);
    rn(c, IMS_K_LEN, e->len);
    return put(c, c->now);
}

static int add_entry(imp_ctx *c, imp_as *a, const imp_ent *in)
{
    imp_ent ent = *in, *e = &ent;
    ent.t_map = c->now;
    int rc = put_map(c, a->sid, e);
    if (rc)
        return rc;
    if (c->pass == IMP_PASS_DRY && e->gpa + e->len > c->gpa_end)
        c->gpa_end = e->gpa + e->len;
    return imp_as_insert(a, e) ? ims_errorf(c->err, ENOMEM, "out of memory") : 0;
}

/* Remove entries [i, j) of a (they intersect [iova, iova+len)) with one
 * unmap record each; their parts outside the range are mapped again. */
static int unmap_entries(imp_ctx *c, imp_as *a, size_t i, size_t j, uint64_t iova, uint64_t len, uint64_t *bytes)
{
    size_t n = j - i;
    imp_ent *gone = malloc(n * sizeof *gone);
    if (!gone)
        return ims_errorf(c->err, ENOMEM, "out of memory");
    memcpy(gone, &a->e[i], n * sizeof *gone);
    memmove(&a->e[i], &a->e[j], (a->n - j) * sizeof *a->e);
    a->n -= n;
    int rc = 0;
    uint64_t end = iova + len;
    for (size_t k = 0; k < n && !rc; k++) {
        const imp_ent *g = &gone[k];
        uint64_t gend = g->iova + g->len;
        uint64_t lo = g->iova > iova ? g->iova : iova, hi = gend < end ? gend : end;
        if (bytes)
            *bytes += hi - lo;
        if ((rc = put_unmap(c, a->sid, g)))
            break;
        imp_as_tomb(a, g, c->now);
        if (c->pass == IMP_PASS_DRY && g->life < c->nlife && c->life_end[g->life] == UINT64_MAX)
            c->life_end[g->life] = c->now;
        if (g->iova < iova) {
            imp_ent left = *g;
            left.len = iova - g->iova;
            rc = add_entry(c, a, &left);
        }
        if (!rc && gend > end) {
            imp_ent right = *g;
            right.iova = end;
            right.gpa = g->gpa + (end - g->iova);
            right.len = gend - end;
            rc = add_entry(c, a, &right);
        }
        if (!rc && (g->iova < iova || gend > end))
            imp_note(c, "adjusted: part of a mapping mapped again after a smaller unmap or map over it");
    }
    free(gone);
    return rc;
}

static int schedule_synth(imp_ctx *c, uint16_t sid, const imp_ent *e);

int imp_map(imp_ctx *c, uint16_t sid, uint64_t iova, uint64_t len, uint64_t gpa, unsigned prot, unsigned dir,
            bool primary)
{
    if (c->pass == IMP_PASS_SCAN)
        return 0;
    imp_as *a = imp_track_as(&c->tr, sid, true);
    if (!a)
        return ims_errorf(c->err, ENOMEM, "out of memory");
    size_t i, j;
    imp_as_range(a, iova, len, &i, &j);
    int rc;
    if (i < j) {
        imp_note(c, "adjusted: a mapping over a live mapping of the same IOVA unmapped it first");
        if ((rc = unmap_entries(c, a, i, j, iova, len, NULL)))
            return rc;
    }
    imp_ent e = {iova, len, gpa, c->now, IMP_NO_LIFE, (uint8_t)prot, (uint8_t)dir};
    if (primary) {
        e.life = c->life_next++;
        if (c->pass == IMP_PASS_DRY) {
            if (c->nlife == c->lifecap) {
                size_t cap = c->lifecap ? 2 * c->lifecap : 256;
                uint64_t *l = realloc(c->life_end, cap * sizeof *l);
                if (!l)
                    return ims_errorf(c->err, ENOMEM, "out of memory");
                c->life_end = l;
                c->lifecap = cap;
            }
            c->life_end[c->nlife++] = UINT64_MAX;
        }
    }
    if ((rc = add_entry(c, a, &e)))
        return rc;
    return primary && c->pass == IMP_PASS_EMIT && c->o.synth_dma ? schedule_synth(c, sid, &e) : 0;
}

int imp_unmap(imp_ctx *c, uint16_t sid, uint64_t iova, uint64_t len, uint64_t *bytes)
{
    *bytes = 0;
    if (c->pass == IMP_PASS_SCAN)
        return 0;
    imp_as *a = imp_track_as(&c->tr, sid, false);
    if (!a)
        return 0;
    size_t i, j;
    imp_as_range(a, iova, len, &i, &j);
    return i < j ? unmap_entries(c, a, i, j, iova, len, bytes) : 0;
}

const imp_ent *imp_lookup(imp_ctx *c, uint16_t sid, uint64_t addr)
{
    imp_as *a = imp_track_as(&c->tr, sid, false);
    size_t i = a ? imp_as_find(a, addr) : SIZE_MAX;
    return i == SIZE_MAX ? NULL : &a->e[i];
}

int imp_ensure(imp_ctx *c, uint16_t sid, uint64_t iova, uint64_t len, uint64_t gpa)
{
    const imp_ent *e = imp_lookup(c, sid, iova);
    if (e && e->iova + (e->len - 1) >= iova + (len - 1) && e->gpa + (iova - e->iova) == gpa)
        return 0;
    return imp_map(c, sid, iova, len, gpa, IMS_TRACE_PROT_RW, IMP_DIR_UNKNOWN, true);
}

/* ---- DMA ------------------------------------------------------------------------------ */

static size_t add_pa(ims_trace_expect *x, size_t n, uint64_t pa)
{
    for (size_t i = 0; i < n; i++)
        if (x[i].kind == IMS_EXP_PA && x[i].value == pa)
            return n;
    if (n < IMS_TRACE_EXPECT_MAX)
        x[n++] = (ims_trace_expect){.kind = IMS_EXP_PA, .value = pa};
    return n;
}

static int dma_at(imp_ctx *c, uint64_t t, uint16_t sid, uint64_t addr, uint32_t len, bool wr, int fault)
{
    if (c->pass != IMP_PASS_EMIT)
        return 0;
    const imp_ent *e = imp_lookup(c, sid, addr);
    uint64_t room = e ? e->iova + e->len - addr : IMP_PAGE - (addr & IMP_PAGE_MASK);
    if (len > room)
        len = (uint32_t)room;
    if (len == 0)
        len = 1;
    rb(c, IMS_V_DMA);
    rn(c, IMS_K_DEV, sid);
    rn(c, IMS_K_IOVA, addr);
    rn(c, IMS_K_LEN, len);
    rflag(c, wr ? IMS_K_WR : IMS_K_RD);
    bool want = host(c) || c->o.guest_expect;
    uint64_t base = host(c) ? c->o.hpa_base : c->o.guest_expect_base;
    ims_trace_expect x[IMS_TRACE_EXPECT_MAX];
    size_t n = 0;
    if (fault != IMP_NO_FAULT) {
        if (c->o.exact_fault_reason && fault >= 0 && fault <= 0xff)
            x[n++] = (ims_trace_expect){.kind = IMS_EXP_FAULT_REASON, .value = (uint64_t)fault};
        else
            x[n++] = (ims_trace_expect){.kind = IMS_EXP_FAULT};
    } else if (e) {
        n = add_pa(x, n, base + e->gpa + (addr - e->iova));
    }
    /* Open loop: an unmap issued at (nearly) the same instant may not have
     * been invalidated yet, so its old translation is allowed too. */
    imp_as *a = imp_track_as(&c->tr, sid, false);
    if (n && a && c->o.time == IMS_IMPORT_TIME_ABS)
        for (unsigned i = 0; i < IMP_TOMBS; i++) {
            const imp_tomb *tb = &a->tomb[i];
            if (tb->used && addr >= tb->iova && addr - tb->iova < tb->len && t >= tb->t &&
                t - tb->t <= c->o.stale_window_ps)
                n = add_pa(x, n, base + tb->gpa + (addr - tb->iova));
        }
    /* A guest-level map is a guest operation that takes time: a DMA issued
     * at (nearly) the same instant may run before its PTEs are written. */
    if (n && e && !host(c) && c->o.time == IMS_IMPORT_TIME_ABS && t >= e->t_map &&
        t - e->t_map <= c->o.stale_window_ps && n < IMS_TRACE_EXPECT_MAX && fault == IMP_NO_FAULT)
        x[n++] = (ims_trace_expect){.kind = IMS_EXP_FAULT};
    int rc;
    if (want && n && (rc = rexp(c, x, n)))
        return rc;
    return put(c, t);
}

int imp_dma(imp_ctx *c, uint16_t sid, uint64_t addr, uint32_t len, bool wr, int fault)
{
    return dma_at(c, c->now, sid, addr, len, wr, fault);
}

/* ---- invalidation descriptors --------------------------------------------------------------- */

int imp_qi(imp_ctx *c, const uint64_t q[4])
{
    if (host(c)) {
        imp_note(c, "invalidation descriptor (host level: the host driver invalidates on unmap)");
        return 0;
    }
    if (c->o.qi == IMS_IMPORT_QI_NONE) {
        imp_note(c, "invalidation descriptor (--qi none)");
        return 0;
    }
    rb(c, IMS_V_GUEST_QI);
    rn(c, IMS_K_VM, c->o.vm_id);
    rn(c, IMS_K_Q0, q[0]);
    rn(c, IMS_K_Q1, q[1]);
    if (q[2] || q[3]) {
        rn(c, IMS_K_Q2, q[2]);
        rn(c, IMS_K_Q3, q[3]);
    }
    int rc = put(c, c->now);
    return rc ? rc : 1;
}

int imp_qi_sync(imp_ctx *c)
{
    if (host(c)) {
        imp_note(c, "invalidation wait (host level: the host driver invalidates on unmap)");
        return 0;
    }
    if (c->o.qi == IMS_IMPORT_QI_NONE) {
        imp_note(c, "invalidation wait (--qi none)");
        return 0;
    }
    rb(c, IMS_V_GUEST_QI_SYNC);
    rn(c, IMS_K_VM, c->o.vm_id);
    int rc = put(c, c->now);
    return rc ? rc : 1;
}

/* ---- phase marks ------------------------------------------------------------------------- */

#define MARKS_MAX 256u

static bool mark_used(const imp_ctx *c, const char *name)
{
    if (!strcmp(name, "start") || !strcmp(name, "capture")) /* the implicit phase, the host setup's */
        return true;
    for (size_t i = 0; i < c->nmarks; i++)
        if (!strcmp(c->marks[i], name))
            return true;
    return false;
}

int imp_mark(imp_ctx *c, const char *text, size_t len)
{
    if (c->pass != IMP_PASS_EMIT)
        return 0;
    if (c->nmarks == MARKS_MAX) {
        imp_note(c, "marker beyond the 256th (no more phases)");
        return 0;
    }
    /* A trace name: [A-Za-z_][A-Za-z0-9_.-]*, other characters become '_'. */
    char name[IMS_TRACE_NAME_MAX + 1];
    size_t n = 0;
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    if (!len || !((text[0] >= 'a' && text[0] <= 'z') || (text[0] >= 'A' && text[0] <= 'Z') || text[0] == '_'))
        name[n++] = 'm';
    for (size_t i = 0; i < len && n < IMS_TRACE_NAME_MAX - 4; i++) {
        char ch = text[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
                  ch == '.' || ch == '-';
        name[n++] = ok ? ch : '_';
    }
    name[n] = '\0';
    for (unsigned k = 2; mark_used(c, name) && k < 10000; k++)
        snprintf(name + n, sizeof name - n, "_%u", k);
    if (!c->marks && !(c->marks = calloc(MARKS_MAX, sizeof *c->marks)))
        return ims_errorf(c->err, ENOMEM, "out of memory");
    memcpy(c->marks[c->nmarks++], name, sizeof name);
    rb(c, IMS_V_MARK);
    int rc = rs(c, IMS_K_NAME, name);
    return rc ? rc : put(c, c->now);
}

/* ---- synthesized DMAs: a min-heap on (time, sequence) ----------------------------------------- */

static bool before(const imp_synth *a, const imp_synth *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static int heap_push(imp_ctx *c, const imp_synth *s)
{
    if (c->nheap == c->heapcap) {
        size_t cap = c->heapcap ? 2 * c->heapcap : 64;
        imp_synth *h = realloc(c->heap, cap * sizeof *h);
        if (!h)
            return ims_errorf(c->err, ENOMEM, "out of memory");
        c->heap = h;
        c->heapcap = cap;
    }
    size_t i = c->nheap++;
    c->heap[i] = *s;
    while (i && before(&c->heap[i], &c->heap[(i - 1) / 2])) {
        imp_synth t = c->heap[i];
        c->heap[i] = c->heap[(i - 1) / 2];
        c->heap[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
    return 0;
}

static imp_synth heap_pop(imp_ctx *c)
{
    imp_synth top = c->heap[0];
    c->heap[0] = c->heap[--c->nheap];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < c->nheap && before(&c->heap[l], &c->heap[m]))
            m = l;
        if (r < c->nheap && before(&c->heap[r], &c->heap[m]))
            m = r;
        if (m == i)
            break;
        imp_synth t = c->heap[i];
        c->heap[i] = c->heap[m];
        c->heap[m] = t;
        i = m;
    }
    return top;
}

/* synth_dma accesses at random times strictly inside the mapping's lifetime
 * (from the dry pass) and random 64-byte-aligned offsets inside the buffer;
 * the direction follows the mapping's DMA direction when the capture gave one. */
static int schedule_synth(imp_ctx *c, uint16_t sid, const imp_ent *e)
{
    uint64_t start = c->now, end = e->life < c->nlife ? c->life_end[e->life] : c->now;
    if (end < start)
        end = start;
    for (unsigned k = 0; k < c->o.synth_dma; k++) {
        imp_synth s = {.sid = sid, .seq = c->synth_seq++};
        uint64_t gap_ns = (end - start) / 1000; /* whole nanoseconds strictly inside the lifetime */
        s.t = gap_ns >= 2 ? start + 1000 * (1 + ims_rng_below(&c->rng, gap_ns - 1)) : start;
        uint64_t off = ims_rng_below(&c->rng, e->len) & ~UINT64_C(63);
        s.iova = e->iova + off;
        s.len = e->len - off < c->o.dma_len ? (uint32_t)(e->len - off) : c->o.dma_len;
        bool coin = ims_rng_below(&c->rng, 2) != 0;
        s.wr = e->dir == IMP_DIR_FROM_DEVICE ? true : e->dir == IMP_DIR_TO_DEVICE ? false : coin;
        if (e->prot == IMS_TRACE_PROT_R)
            s.wr = false;
        int rc = heap_push(c, &s);
        if (rc)
            return rc;
    }
    return 0;
}

int imp_synth_flush(imp_ctx *c, uint64_t t)
{
    while (c->nheap && c->heap[0].t <= t) {
        imp_synth s = heap_pop(c);
        const imp_ent *e = imp_lookup(c, s.sid, s.iova);
        if (!e) {
            imp_note(c, "synthesized DMA dropped: its buffer was unmapped before it");
            continue;
        }
        int rc = dma_at(c, s.t, s.sid, s.iova, s.len, s.wr, IMP_NO_FAULT);
        if (rc)
            return rc;
        imp_note(c, "added: synthesized DMA (--synth-dma)");
    }
    return 0;
}

void imp_emit_free(imp_ctx *c)
{
    free(c->devs);
    free(c->life_end);
    free(c->heap);
    free(c->marks);
    c->marks = NULL;
    c->nmarks = 0;
    c->devs = NULL;
    c->life_end = NULL;
    c->heap = NULL;
    c->ndevs = c->nlife = c->nheap = 0;
}
