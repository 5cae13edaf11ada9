/* `iommusim import ftrace`: Linux trace text (/sys/kernel/tracing/trace)
 * -> trace records. Event formats: iommufd-facts §4 (include/trace/events/
 * iommu.h, drivers/iommu/intel/trace.h, include/trace/events/dma.h 6.12+).
 * Mapping table and limits: docs/importers.md.
 *
 * A line is "TASK-PID [CPU] [FLAGS] SECONDS: EVENT: FIELDS"; lines starting
 * with '#' are the tracer's header. Mappings come from the dma:* events when
 * the capture has them (they name the device), else from iommu:map/unmap,
 * which name no device: those go to --dev, else the device of the latest
 * attach_device_to_domain. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "models/vtd/inv_desc.h"
#include "traces/import/import_internal.h"

enum {
    F_MAP, F_UNMAP, F_FAULT, F_ATTACH, F_GROUP, F_QI, F_PRQ, F_TAG, F_FLUSH,
    F_DMA_MAP, F_DMA_UNMAP, F_DMA_MAP_SG, F_DMA_UNMAP_SG, F_DMA_ALLOC, F_DMA_FREE, F_DMA_ERR, F_DMA_SYNC, F_MARKER,
};

typedef struct ftrace_event {
    const char *name;
    unsigned kind;
} ftrace_event;

static const ftrace_event events[] = {
    {"map", F_MAP},
    {"unmap", F_UNMAP},
    {"io_page_fault", F_FAULT},
    {"attach_device_to_domain", F_ATTACH},
    {"add_device_to_group", F_GROUP},
    {"remove_device_from_group", F_GROUP},
    {"qi_submit", F_QI},
    {"prq_report", F_PRQ},
    {"cache_tag_assign", F_TAG},
    {"cache_tag_unassign", F_TAG},
    {"cache_tag_flush_all", F_FLUSH},
    {"cache_tag_flush_range", F_FLUSH},
    {"cache_tag_flush_range_np", F_FLUSH},
    {"dma_map_page", F_DMA_MAP},
    {"dma_map_resource", F_DMA_MAP},
    {"dma_map_phys", F_DMA_MAP},
    {"dma_unmap_page", F_DMA_UNMAP},
    {"dma_unmap_resource", F_DMA_UNMAP},
    {"dma_unmap_phys", F_DMA_UNMAP},
    {"dma_map_sg", F_DMA_MAP_SG},
    {"dma_unmap_sg", F_DMA_UNMAP_SG},
    {"dma_alloc", F_DMA_ALLOC},
    {"dma_alloc_pages", F_DMA_ALLOC},
    {"dma_alloc_sgt", F_DMA_ALLOC},
    {"dma_free", F_DMA_FREE},
    {"dma_free_pages", F_DMA_FREE},
    {"dma_free_sgt", F_DMA_FREE},
    {"dma_map_sg_err", F_DMA_ERR},
    {"dma_alloc_sgt_err", F_DMA_ERR},
    {"dma_sync_single_for_cpu", F_DMA_SYNC},
    {"dma_sync_single_for_device", F_DMA_SYNC},
    {"dma_sync_sg_for_cpu", F_DMA_SYNC},
    {"dma_sync_sg_for_device", F_DMA_SYNC},
    {"tracing_mark_write", F_MARKER},
};

#define RING 256u       /* recent iommu:map events (dma mode: physical addresses for dma_alloc/dma_map_sg) */
#define ARRAY_MAX 256u  /* elements read from one printed array (the kernel prints at most 128) */
#define PLACEHOLDER_SID 0x0100u
#define BATCH_GAP_NS 10000u /* qi_submit lines further apart are separate qi_submit_sync calls */

typedef struct ring_ent {
    uint64_t iova, paddr, size;
    bool used;
} ring_ent;

typedef struct ftrace_state {
    const ftrace_event *ev;
    bool has_t;
    uint64_t ns, pid;
    bool have_attach, have_group;
    uint16_t attach_sid, group_sid;
    bool qi_open;        /* a qi_submit batch waits for its (untraced) wait descriptor */
    uint64_t qi_pid, qi_ns;
    ring_ent ring[RING];
    unsigned ring_next;
} ftrace_state;

static ftrace_state *st(imp_ctx *c)
{
    return c->fs;
}

/* dma mode: the capture has dma:* mapping events, which name the device. */
static bool dma_mode(const imp_ctx *c)
{
    return imp_has(c, F_DMA_MAP) || imp_has(c, F_DMA_MAP_SG) || imp_has(c, F_DMA_ALLOC);
}

/* ---- the line header ------------------------------------------------------------------- */

typedef struct f_line {
    const char *name;
    size_t nlen;
    const char *args;
    uint64_t pid, ns;
    bool has_t;
} f_line;

static bool f_header(const char *line, f_line *f)
{
    memset(f, 0, sizeof *f);
    /* The CPU field: " [NNN]" followed by a blank. */
    const char *b = NULL;
    for (const char *p = strchr(line, '['); p; p = strchr(p + 1, '[')) {
        const char *q = p + 1;
        uint64_t cpu;
        if (p > line && (p[-1] == ' ' || p[-1] == '\t') && imp_num(&q, 10, &cpu) && *q == ']' &&
            (q[1] == ' ' || q[1] == '\t')) {
            b = q + 1;
            /* PID: digits after the last '-' of "TASK-PID" (before an optional "(TGID)"). */
            const char *e = p;
            while (e > line && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            if (e > line && e[-1] == ')')
                while (e > line && e[-1] != '(')
                    e--;
            for (const char *d = e; d > line; d--)
                if (d[-1] == '-') {
                    const char *n = d;
                    imp_num(&n, 10, &f->pid);
                    break;
                }
            break;
        }
    }
    if (!b)
        return false;
    const char *p = imp_ws(b), *te = imp_tok_end(p);
    if (te > p && te[-1] != ':') /* irq/preempt flags */
        p = imp_ws(te);
    if (!imp_seconds(&p, &f->ns) || *p != ':')
        return false;
    f->has_t = true;
    p = imp_ws(p + 1);
    const char *n = p;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')
        p++;
    if (p == n || *p != ':')
        return false;
    f->name = n;
    f->nlen = (size_t)(p - n);
    f->args = imp_ws(p + 1);
    return true;
}

static bool lost_marker(const char *line)
{
    return strstr(line, "[LOST ") && strstr(line, " EVENTS]");
}

static bool f_is_start(const char *line)
{
    f_line f;
    const char *p = imp_ws(line);
    return *p == '#' || lost_marker(line) || f_header(line, &f);
}

/* ---- helpers ------------------------------------------------------------------------------- */

static int start(imp_ctx *c)
{
    imp_event(c);
    return imp_time(c, st(c)->has_t, st(c)->ns);
}

static int missing(imp_ctx *c, bool final)
{
    return imp_missing(c, final, st(c)->ev->name);
}

/* The parse succeeded: in the scan pass that is all, else count and time it. */
#define BEGIN()                                                                                                  \
    do {                                                                                                         \
        if (c->pass == IMP_PASS_SCAN)                                                                            \
            return 0;                                                                                            \
        int brc_ = start(c);                                                                                     \
        if (brc_)                                                                                                \
            return brc_;                                                                                         \
    } while (0)

/* The first token of the fields: the device name of dma:* events. */
static int first_dev(imp_ctx *c, const char *a, uint16_t *sid)
{
    return imp_dev_named(c, a, (size_t)(imp_tok_end(a) - a), sid);
}

/* The device after '/' in "IOMMU/DEVICE ..." (cache_tag_*, prq_report). */
static int slash_dev(imp_ctx *c, const char *a, uint16_t *sid)
{
    const char *s = strchr(a, '/'), *e = imp_tok_end(a);
    if (!s || s >= e)
        return 1;
    s++;
    size_t n = (size_t)(e - s);
    if (n && s[n - 1] == ':')
        n--;
    return imp_dev_named(c, s, n, sid);
}

static bool aligned(uint64_t a)
{
    return !(a & IMP_PAGE_MASK);
}

/* The device iommu:map/unmap belong to. */
static uint16_t owner(imp_ctx *c)
{
    ftrace_state *s = st(c);
    if (c->o.dev != IMS_IMPORT_NO_DEV)
        return (uint16_t)c->o.dev;
    if (s->have_attach)
        return s->attach_sid;
    if (s->have_group)
        return s->group_sid;
    imp_note(c, "adjusted: iommu:map/unmap given to a placeholder device 01:00.0 (no device seen yet; use --dev)");
    return PLACEHOLDER_SID;
}

/* A mapped buffer [addr, addr+size) -> phys, widened to whole pages. */
static int map_buffer(imp_ctx *c, uint16_t sid, uint64_t addr, uint64_t size, uint64_t phys, unsigned dir)
{
    uint64_t off = addr & IMP_PAGE_MASK;
    if (!size || off != (phys & IMP_PAGE_MASK) || addr + size < addr || phys + size < phys ||
        addr + size > UINT64_MAX - IMP_PAGE)
        return imp_bad(c, "mapping with a zero size, different page offsets or a wrapping range");
    uint64_t iova = addr - off, gpa = phys - off, len = (off + size + IMP_PAGE_MASK) & ~IMP_PAGE_MASK;
    const imp_ent *e = imp_lookup(c, sid, iova);
    if (e && e->iova + (e->len - 1) >= iova + (len - 1) && e->gpa + (iova - e->iova) == gpa) {
        imp_note(c, "dma map of pages already mapped (a shared page): nothing to add");
        return 0;
    }
    int rc = imp_map(c, sid, iova, len, gpa, dir == IMP_DIR_TO_DEVICE ? IMS_TRACE_PROT_R : IMS_TRACE_PROT_RW,
                     dir, true);
    if (!rc)
        imp_used(c);
    return rc;
}

static int unmap_buffer(imp_ctx *c, uint16_t sid, uint64_t addr, uint64_t size)
{
    if (!size || addr + size < addr || addr + size > UINT64_MAX - IMP_PAGE)
        return imp_bad(c, "unmap with a zero size or a wrapping range");
    uint64_t off = addr & IMP_PAGE_MASK, bytes;
    int rc = imp_unmap(c, sid, addr - off, (off + size + IMP_PAGE_MASK) & ~IMP_PAGE_MASK, &bytes);
    if (rc)
        return rc;
    if (bytes)
        imp_used(c);
    else
        imp_note(c, "unmap of a range the capture never mapped (mapped before it started?)");
    return 0;
}

static unsigned dir_of(const char *a)
{
    size_t n;
    const char *d = imp_kv_str(a, "dir", &n);
    if (d && n == 9 && !memcmp(d, "TO_DEVICE", 9))
        return IMP_DIR_TO_DEVICE;
    if (d && n == 11 && !memcmp(d, "FROM_DEVICE", 11))
        return IMP_DIR_FROM_DEVICE;
    if (d && n == 13 && !memcmp(d, "BIDIRECTIONAL", 13))
        return IMP_DIR_BIDI;
    return IMP_DIR_UNKNOWN;
}

/* "key={0x1,0x2}" -> up to ARRAY_MAX numbers; -1 when absent or malformed. */
static int array_of(const char *a, const char *key, uint64_t *v)
{
    size_t len;
    const char *p = imp_kv_str(a, key, &len);
    if (!p || *p != '{')
        return -1;
    p++;
    int n = 0;
    if (*p == '}')
        return 0;
    for (;;) {
        uint64_t x;
        if (!imp_num(&p, 16, &x))
            return -1;
        if (n < (int)ARRAY_MAX)
            v[n++] = x;
        if (*p == '}')
            return n;
        if (*p != ',')
            return -1;
        p++;
    }
}

/* Map the iommu:map events seen inside [addr, addr+size) for sid (dma mode). */
static int map_from_ring(imp_ctx *c, uint16_t sid, uint64_t addr, uint64_t size, unsigned dir, bool *found)
{
    ftrace_state *s = st(c);
    for (unsigned i = 0; i < RING; i++) {
        const ring_ent *r = &s->ring[i];
        if (r->used && r->iova >= addr && r->iova - addr < size) {
            *found = true;
            int rc = map_buffer(c, sid, r->iova, r->size, r->paddr, dir);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* ---- events ------------------------------------------------------------------------------- */

static int ev_map(imp_ctx *c, const char *a, bool final)
{
    uint64_t iova, paddr, size;
    if (!imp_kv_num(a, "iova", 16, &iova) || !imp_kv_num(a, "paddr", 16, &paddr) || !imp_kv_num(a, "size", 10, &size))
        return missing(c, final);
    BEGIN();
    if (dma_mode(c)) { /* the dma:* event names the device; keep the physical address for it */
        ftrace_state *s = st(c);
        s->ring[s->ring_next] = (ring_ent){iova, paddr, size, true};
        s->ring_next = (s->ring_next + 1) % RING;
        imp_note(c, "iommu:map (dma:* events drive the mappings; kept for dma_alloc/dma_map_sg addresses)");
        return 0;
    }
    if (!size || !aligned(iova) || !aligned(paddr) || !aligned(size) || iova + size < iova || paddr + size < paddr)
        return imp_bad(c, "iommu:map with a zero size, an unaligned or a wrapping range");
    uint16_t sid = owner(c);
    int rc = imp_dev_note(c, sid, 0);
    if (!rc && !(rc = imp_map(c, sid, iova, size, paddr, IMS_TRACE_PROT_RW, IMP_DIR_UNKNOWN, true)))
        imp_used(c);
    return rc;
}

static int ev_unmap(imp_ctx *c, const char *a, bool final)
{
    uint64_t iova, size, unmapped;
    if (!imp_kv_num(a, "iova", 16, &iova) || !imp_kv_num(a, "size", 10, &size) ||
        !imp_kv_num(a, "unmapped_size", 10, &unmapped))
        return missing(c, final);
    BEGIN();
    if (dma_mode(c)) {
        imp_note(c, "iommu:unmap (dma:* events drive the unmaps)");
        return 0;
    }
    if (!unmapped) {
        imp_note(c, "iommu:unmap that unmapped nothing");
        return 0;
    }
    return unmap_buffer(c, owner(c), iova, unmapped);
}

static int ev_fault(imp_ctx *c, const char *a, bool final)
{
    /* "IOMMU:DRIVER DEVICE iova=0x... flags=0x..." */
    uint64_t iova, flags;
    const char *dev = imp_ws(imp_tok_end(a));
    if (!imp_kv_num(a, "iova", 16, &iova) || !imp_kv_num(a, "flags", 16, &flags) || !*dev)
        return missing(c, final);
    BEGIN();
    uint16_t sid;
    int rc = first_dev(c, dev, &sid);
    if (rc)
        return rc;
    const imp_ent *e = imp_lookup(c, sid, iova);
    if (e) {
        uint64_t bytes;
        imp_note(c, "adjusted: mapping unmapped so that the replay faults as the capture did");
        if ((rc = imp_unmap(c, sid, e->iova, e->len, &bytes)))
            return rc;
    }
    if ((rc = imp_dma(c, sid, iova, c->o.dma_len, (flags & 1) != 0, IMP_ANY_FAULT)))
        return rc;
    imp_used(c);
    return 0;
}

static int ev_device(imp_ctx *c, const char *a, bool final, unsigned kind)
{
    size_t n;
    const char *d = imp_kv_str(a, "device", &n);
    if (!d || !n)
        return missing(c, final);
    BEGIN();
    uint16_t sid;
    int rc = imp_dev_named(c, d, n, &sid);
    if (rc)
        return rc;
    ftrace_state *s = st(c);
    if (kind == F_ATTACH) {
        s->have_attach = true;
        s->attach_sid = sid;
    } else {
        s->have_group = true;
        s->group_sid = sid;
    }
    imp_used(c);
    return 0;
}

static int close_batch(imp_ctx *c)
{
    ftrace_state *s = st(c);
    if (!s->qi_open)
        return 0;
    s->qi_open = false;
    int rc = imp_qi_sync(c);
    return rc < 0 ? rc : 0;
}

static int ev_qi(imp_ctx *c, const char *a, bool final)
{
    /* "TYPE IOMMU: 0xQ0 0xQ1 0xQ2 0xQ3" */
    const char *p = strstr(a, ": ");
    uint64_t q[IMS_QI_DESC_QW];
    bool ok = p != NULL;
    if (ok)
        p += 2;
    for (unsigned i = 0; ok && i < IMS_QI_DESC_QW; i++) {
        p = imp_ws(p);
        ok = imp_num(&p, 16, &q[i]);
    }
    if (!ok)
        return missing(c, final);
    BEGIN();
    int rc;
    unsigned type = ims_qi_type_of(q);
    if (type == IMS_QI_TYPE_DEV_TLB && (rc = imp_dev_note(c, ims_qi_dev_tlb_sid(q), IMP_DEV_ATS)))
        return rc;
    if (type == IMS_QI_TYPE_PDEV_TLB && (rc = imp_dev_note(c, ims_qi_pdev_tlb_sid(q), IMP_DEV_ATS)))
        return rc;
    ftrace_state *s = st(c);
    if (type == IMS_QI_TYPE_WAIT) {
        s->qi_open = true;
        if ((rc = close_batch(c)))
            return rc;
        imp_used(c);
        return 0;
    }
    /* qi_submit_sync traces each descriptor but not the wait it appends:
     * consecutive descriptors of one task within 10 us are one batch,
     * synced after. */
    s->qi_open = true;
    s->qi_pid = s->pid;
    s->qi_ns = s->ns;
    rc = imp_qi(c, q);
    if (rc > 0)
        imp_used(c);
    return rc < 0 ? rc : 0;
}

static int ev_tag(imp_ctx *c, const char *a, bool final)
{
    size_t n;
    const char *type = strstr(a, " type ");
    if (!type)
        return missing(c, final);
    BEGIN();
    uint16_t sid;
    int rc = slash_dev(c, a, &sid);
    if (rc < 0)
        return rc;
    type = imp_ws(type + 6);
    n = (size_t)(imp_tok_end(type) - type);
    if (rc == 0 && n >= 6 && !memcmp(type + n - 6, "devtlb", 6) && (rc = imp_dev_note(c, sid, IMP_DEV_ATS)))
        return rc;
    imp_note(c, "cache_tag_assign/unassign (domain bookkeeping: devices and their device-TLBs noted)");
    return 0;
}

static int ev_dma_map(imp_ctx *c, const char *a, bool final)
{
    uint64_t addr, size, phys;
    if (!imp_kv_num(a, "dma_addr", 16, &addr) || !imp_kv_num(a, "size", 10, &size) ||
        !imp_kv_num(a, "phys_addr", 16, &phys))
        return missing(c, final);
    BEGIN();
    uint16_t sid;
    int rc = first_dev(c, a, &sid);
    return rc ? rc : map_buffer(c, sid, addr, size, phys, dir_of(a));
}

static int ev_dma_unmap(imp_ctx *c, const char *a, bool final)
{
    uint64_t addr, size;
    if (!imp_kv_num(a, "dma_addr", 16, &addr) || !imp_kv_num(a, "size", 10, &size))
        return missing(c, final);
    BEGIN();
    uint16_t sid;
    int rc = first_dev(c, a, &sid);
    return rc ? rc : unmap_buffer(c, sid, addr, size);
}

static int ev_dma_map_sg(imp_ctx *c, const char *a, bool final)
{
    uint64_t dma[ARRAY_MAX], len[ARRAY_MAX], phys[ARRAY_MAX];
    int nd = array_of(a, "dma_addrs", dma), nl = array_of(a, "sizes", len), np = array_of(a, "phys_addrs", phys);
    if (nd < 0 || nl < 0 || np < 0)
        return missing(c, final);
    BEGIN();
    uint16_t sid;
    int rc = first_dev(c, a, &sid);
    if (rc)
        return rc;
    unsigned dir = dir_of(a);
    if (nd == nl && nd == np) { /* one IOVA segment per physical segment */
        for (int i = 0; i < nd && !rc; i++)
            rc = map_buffer(c, sid, dma[i], len[i], phys[i], dir);
        return rc;
    }
    /* Segments merged in IOVA space: the per-page physical addresses are only
     * in the iommu:map events. */
    bool found = false;
    for (int i = 0; i < nd && i < nl && !rc; i++)
        rc = map_from_ring(c, sid, dma[i], len[i], dir, &found);
    if (!rc && !found)
        imp_note(c, "dma_map_sg with merged segments and no iommu:map events for them (physical addresses "
                    "unknown)");
    return rc;
}

static int ev_dma_unmap_sg(imp_ctx *c, const char *a, bool final)
{
    uint64_t phys[ARRAY_MAX];
    int np = array_of(a, "phys_addrs", phys);
    if (np < 0)
        return missing(c, final);
    BEGIN();
    uint16_t sid;
    int rc = first_dev(c, a, &sid);
    if (rc)
        return rc;
    /* The event has no DMA addresses: find the device's mappings of those pages. */
    imp_as *as = imp_track_as(&c->tr, sid, false);
    bool any = false;
    for (int i = 0; i < np && as && !rc; i++)
        for (size_t k = 0; k < as->n; k++) {
            const imp_ent *e = &as->e[k];
            if (phys[i] >= e->gpa && phys[i] - e->gpa < e->len) {
                uint64_t bytes;
                rc = imp_unmap(c, sid, e->iova, e->len, &bytes);
                any = true;
                break;
            }
        }
    if (!rc && any)
        imp_used(c);
    else if (!rc)
        imp_note(c, "dma_unmap_sg of pages the capture never mapped");
    return rc;
}

static int ev_dma_alloc(imp_ctx *c, const char *a, bool final)
{
    uint64_t addr, size;
    if (!imp_kv_num(a, "dma_addr", 16, &addr) || !imp_kv_num(a, "size", 10, &size))
        return missing(c, final);
    BEGIN();
    uint16_t sid;
    int rc = first_dev(c, a, &sid);
    bool found = false;
    if (!rc)
        rc = map_from_ring(c, sid, addr, size, IMP_DIR_BIDI, &found);
    if (!rc && !found)
        imp_note(c, "dma_alloc without the iommu:map events of its pages (physical addresses unknown)");
    return rc;
}

static const ftrace_event *lookup(const f_line *f)
{
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
        if (strlen(events[i].name) == f->nlen && !memcmp(events[i].name, f->name, f->nlen))
            return &events[i];
    return NULL;
}

static int f_process(imp_ctx *c, const char *line, bool final)
{
    const char *p = imp_ws(line);
    if (!*p || *p == '#')
        return 0;
    if (lost_marker(line)) {
        imp_note(c, "ftrace lost-events marker (events are missing from the capture)");
        return 0;
    }
    f_line f;
    if (!f_header(line, &f))
        return imp_bad(c, "not an ftrace event line");
    const ftrace_event *ev = lookup(&f);
    ftrace_state *s = st(c);
    /* A batch of qi_submit lines ends at the next other event or task. */
    if (c->pass != IMP_PASS_SCAN && s->qi_open &&
        (!ev || ev->kind != F_QI || f.pid != s->qi_pid || f.ns < s->qi_ns || f.ns - s->qi_ns > BATCH_GAP_NS)) {
        int rc = close_batch(c);
        if (rc)
            return rc;
    }
    if (!ev) {
        char what[160];
        snprintf(what, sizeof what, "unknown event %.*s", (int)(f.nlen > 100 ? 100 : f.nlen), f.name);
        if (c->pass != IMP_PASS_SCAN)
            imp_event(c);
        return imp_bad(c, what);
    }
    s->ev = ev;
    s->has_t = f.has_t;
    s->ns = f.ns;
    s->pid = f.pid;
    if (c->pass == IMP_PASS_SCAN)
        c->present |= UINT64_C(1) << ev->kind;
    int rc;
    switch (ev->kind) {
    case F_MAP: return ev_map(c, f.args, final);
    case F_UNMAP: return ev_unmap(c, f.args, final);
    case F_FAULT: return ev_fault(c, f.args, final);
    case F_ATTACH: case F_GROUP: return ev_device(c, f.args, final, ev->kind);
    case F_QI: return ev_qi(c, f.args, final);
    case F_TAG: return ev_tag(c, f.args, final);
    case F_DMA_MAP: return ev_dma_map(c, f.args, final);
    case F_DMA_UNMAP: case F_DMA_FREE: return ev_dma_unmap(c, f.args, final);
    case F_DMA_MAP_SG: return ev_dma_map_sg(c, f.args, final);
    case F_DMA_UNMAP_SG: return ev_dma_unmap_sg(c, f.args, final);
    case F_DMA_ALLOC: return ev_dma_alloc(c, f.args, final);
    default: break;
    }
    if (c->pass == IMP_PASS_SCAN || (rc = start(c)))
        return c->pass == IMP_PASS_SCAN ? 0 : rc;
    uint16_t sid;
    switch (ev->kind) {
    case F_MARKER: /* a user marker (echo TEXT > trace_marker): a stats phase */
        if ((rc = imp_mark(c, f.args, strlen(f.args))))
            return rc;
        imp_used(c);
        break;
    case F_PRQ:
        if ((rc = slash_dev(c, f.args, &sid)) < 0)
            return rc;
        imp_note(c, "prq_report (a page request: trace format v1 has no record for it)");
        break;
    case F_FLUSH: imp_note(c, "cache_tag_flush_* (the flush itself is in the qi_submit lines)"); break;
    case F_DMA_ERR: imp_note(c, "dma_*_err (a failed mapping: nothing was mapped)"); break;
    default: imp_note(c, "dma_sync_* (CPU cache maintenance: no IOMMU effect)"); break;
    }
    return 0;
}

static int f_finish(imp_ctx *c)
{
    return c->pass == IMP_PASS_SCAN ? 0 : close_batch(c);
}

const imp_format_ops imp_ftrace_ops = {
    .name = "ftrace",
    .state_size = sizeof(ftrace_state),
    .is_start = f_is_start,
    .process = f_process,
    .finish = f_finish,
};
