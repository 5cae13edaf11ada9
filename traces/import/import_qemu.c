/* `iommusim import qemu-vtd`: QEMU's vtd_* trace events (log backend, QEMU
 * 7.2 onwards) -> trace records. Mapping table and the limits of what a log
 * can tell: docs/importers.md.
 *
 * A line is [PREFIX] NAME ARGS where NAME is the event and ARGS its format
 * string (hw/i386/trace-events). Prefixes: "PID@SEC.USEC:" glued to the name
 * (-msg timestamp=on, QEMU up to 9.x), or an ISO 8601 time, "[guest name]",
 * "program:" and "(tid:thread):" before it (QEMU 10.x message context).
 * Arguments are found by their words ("iova 0x1000"), so extra words added
 * by later QEMU versions do not matter. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "models/vtd/inv_desc.h"
#include "models/vtd/pte.h"
#include "models/vtd/regs.h"
#include "traces/import/import_internal.h"

/* Event kinds; also the bits of the presence set learned in the scan pass. */
enum {
    Q_TRANSLATE,  /* vtd_dmar_translate: a successful translation (a DMA) */
    Q_HIT,        /* vtd_iotlb_page_hit / _update: SID, exact address, PTE, domain */
    Q_FAULT,      /* vtd_dmar_fault */
    Q_FRR,        /* vtd_frr_new: the fault record written */
    Q_INV_DESC,   /* vtd_inv_desc: a raw descriptor */
    Q_TYPED,      /* vtd_inv_desc_*: the decoded descriptor */
    Q_ENABLE,     /* vtd_dmar_enable */
    Q_FPD,        /* vtd_fault_disabled */
    Q_STATE,      /* context/root state */
    Q_NOT_NEEDED, /* known, carries nothing a replay needs */
};

/* Typed invalidation events (Q_TYPED). */
enum {
    T_CC_GLOBAL, T_CC_DOMAIN, T_CC_DEVICES, T_CC_DEVICE, T_IOTLB_GLOBAL, T_IOTLB_DOMAIN, T_IOTLB_PAGES,
    T_IOTLB_PASID_PAGES, T_IOTLB_PASID, T_WAIT_SW, T_WAIT_IRQ, T_IEC, T_PC_GLOBAL, T_PC_DOMAIN, T_PC_PASID,
};

typedef struct qemu_event {
    const char *name;
    unsigned kind, sub;
    const char *why; /* Q_STATE / Q_NOT_NEEDED: the summary's reason */
} qemu_event;

#define STATE_WHY "context/root state: its effect shows in the translations and faults that follow"
#define REG_WHY "register access: its effects are in the other events"
#define QI_WHY "invalidation-queue bookkeeping: the descriptors come from vtd_inv_desc"
#define IR_WHY "interrupt remapping: not modelled"
#define WALK_WHY "caching-mode shadowing for vfio/vhost: not a device access"

static const qemu_event events[] = {
    {"vtd_dmar_translate", Q_TRANSLATE, 0, NULL},
    {"vtd_iotlb_page_hit", Q_HIT, 0, NULL},
    {"vtd_iotlb_page_update", Q_HIT, 0, NULL},
    {"vtd_dmar_fault", Q_FAULT, 0, NULL},
    {"vtd_frr_new", Q_FRR, 0, NULL},
    {"vtd_inv_desc", Q_INV_DESC, 0, NULL},
    {"vtd_inv_desc_cc_global", Q_TYPED, T_CC_GLOBAL, NULL},
    {"vtd_inv_desc_cc_domain", Q_TYPED, T_CC_DOMAIN, NULL},
    {"vtd_inv_desc_cc_devices", Q_TYPED, T_CC_DEVICES, NULL},
    {"vtd_inv_desc_cc_device", Q_TYPED, T_CC_DEVICE, NULL},
    {"vtd_inv_desc_iotlb_global", Q_TYPED, T_IOTLB_GLOBAL, NULL},
    {"vtd_inv_desc_iotlb_domain", Q_TYPED, T_IOTLB_DOMAIN, NULL},
    {"vtd_inv_desc_iotlb_pages", Q_TYPED, T_IOTLB_PAGES, NULL},
    {"vtd_inv_desc_iotlb_pasid_pages", Q_TYPED, T_IOTLB_PASID_PAGES, NULL},
    {"vtd_inv_desc_iotlb_pasid", Q_TYPED, T_IOTLB_PASID, NULL},
    {"vtd_inv_desc_wait_sw", Q_TYPED, T_WAIT_SW, NULL},
    {"vtd_inv_desc_wait_irq", Q_TYPED, T_WAIT_IRQ, NULL},
    {"vtd_inv_desc_iec", Q_TYPED, T_IEC, NULL},
    {"vtd_inv_desc_pasid_cache_gsi", Q_TYPED, T_PC_GLOBAL, NULL},
    {"vtd_inv_desc_pasid_cache_dsi", Q_TYPED, T_PC_DOMAIN, NULL},
    {"vtd_inv_desc_pasid_cache_psi", Q_TYPED, T_PC_PASID, NULL},
    {"vtd_pasid_cache_gsi", Q_TYPED, T_PC_GLOBAL, NULL},
    {"vtd_pasid_cache_dsi", Q_TYPED, T_PC_DOMAIN, NULL},
    {"vtd_pasid_cache_psi", Q_TYPED, T_PC_PASID, NULL},
    {"vtd_dmar_enable", Q_ENABLE, 0, NULL},
    {"vtd_fault_disabled", Q_FPD, 0, NULL},
    {"vtd_reg_dmar_root", Q_STATE, 0, STATE_WHY},
    {"vtd_iotlb_cc_hit", Q_STATE, 0, STATE_WHY},
    {"vtd_iotlb_cc_update", Q_STATE, 0, STATE_WHY},
    {"vtd_iotlb_pe_hit", Q_STATE, 0, STATE_WHY},
    {"vtd_iotlb_pe_update", Q_STATE, 0, STATE_WHY},
    {"vtd_re_not_present", Q_STATE, 0, STATE_WHY},
    {"vtd_ce_not_present", Q_STATE, 0, STATE_WHY},
    {"vtd_re_invalid", Q_STATE, 0, STATE_WHY},
    {"vtd_ce_invalid", Q_STATE, 0, STATE_WHY},
    {"vtd_switch_address_space", Q_STATE, 0, STATE_WHY},
    {"vtd_context_cache_reset", Q_STATE, 0, STATE_WHY},
    {"vtd_pasid_cache_reset", Q_STATE, 0, STATE_WHY},
    {"vtd_pasid_cache_devsi", Q_STATE, 0, STATE_WHY},
    {"vtd_iotlb_reset", Q_STATE, 0, STATE_WHY},
    {"vtd_reg_read", Q_NOT_NEEDED, 0, REG_WHY},
    {"vtd_reg_write", Q_NOT_NEEDED, 0, REG_WHY},
    {"vtd_reg_write_gcmd", Q_NOT_NEEDED, 0, REG_WHY},
    {"vtd_reg_write_fectl", Q_NOT_NEEDED, 0, REG_WHY},
    {"vtd_reg_write_iectl", Q_NOT_NEEDED, 0, REG_WHY},
    {"vtd_reg_ics_clear_ip", Q_NOT_NEEDED, 0, REG_WHY},
    {"vtd_reg_ir_root", Q_NOT_NEEDED, 0, IR_WHY},
    {"vtd_fsts_ppf", Q_NOT_NEEDED, 0, REG_WHY},
    {"vtd_fsts_clear_ip", Q_NOT_NEEDED, 0, REG_WHY},
    {"vtd_irq_generate", Q_NOT_NEEDED, 0, REG_WHY},
    {"vtd_inv_qi_enable", Q_NOT_NEEDED, 0, QI_WHY},
    {"vtd_inv_qi_setup", Q_NOT_NEEDED, 0, QI_WHY},
    {"vtd_inv_qi_head", Q_NOT_NEEDED, 0, QI_WHY},
    {"vtd_inv_qi_tail", Q_NOT_NEEDED, 0, QI_WHY},
    {"vtd_inv_qi_fetch", Q_NOT_NEEDED, 0, QI_WHY},
    {"vtd_warn_invalid_qi_tail", Q_NOT_NEEDED, 0, QI_WHY},
    {"vtd_inv_desc_wait_write_fail", Q_NOT_NEEDED, 0, QI_WHY},
    {"vtd_inv_desc_invalid", Q_NOT_NEEDED, 0, QI_WHY},
    {"vtd_ir_enable", Q_NOT_NEEDED, 0, IR_WHY},
    {"vtd_ir_irte_get", Q_NOT_NEEDED, 0, IR_WHY},
    {"vtd_ir_remap", Q_NOT_NEEDED, 0, IR_WHY},
    {"vtd_ir_remap_type", Q_NOT_NEEDED, 0, IR_WHY},
    {"vtd_ir_remap_msi", Q_NOT_NEEDED, 0, IR_WHY},
    {"vtd_ir_remap_msi_req", Q_NOT_NEEDED, 0, IR_WHY},
    {"vtd_warn_ir_vector", Q_NOT_NEEDED, 0, IR_WHY},
    {"vtd_warn_ir_trigger", Q_NOT_NEEDED, 0, IR_WHY},
    {"vtd_page_walk_level", Q_NOT_NEEDED, 0, WALK_WHY},
    {"vtd_page_walk_one", Q_NOT_NEEDED, 0, WALK_WHY},
    {"vtd_page_walk_one_skip_map", Q_NOT_NEEDED, 0, WALK_WHY},
    {"vtd_page_walk_one_skip_unmap", Q_NOT_NEEDED, 0, WALK_WHY},
    {"vtd_page_walk_skip_read", Q_NOT_NEEDED, 0, WALK_WHY},
    {"vtd_page_walk_skip_reserve", Q_NOT_NEEDED, 0, WALK_WHY},
    {"vtd_replay_ce_valid", Q_NOT_NEEDED, 0, WALK_WHY},
    {"vtd_replay_ce_invalid", Q_NOT_NEEDED, 0, WALK_WHY},
    {"vtd_as_unmap_whole", Q_NOT_NEEDED, 0, WALK_WHY},
    {"vtd_translate_pt", Q_NOT_NEEDED, 0, "pass-through lookup: the vtd_dmar_translate that follows has the result"},
    {"vtd_pt_enable_fast_path", Q_NOT_NEEDED, 0, "pass-through fast path: devices in it are not translated"},
    {"vtd_reset_exit", Q_NOT_NEEDED, 0, REG_WHY},
};

#define NDOM 64u
#define NPEND 16u /* recent IOTLB hit/update lines waiting for their vtd_dmar_translate */

typedef struct q_pending {
    bool used;
    uint16_t sid;
    uint64_t addr;
} q_pending;

typedef struct qemu_state {
    bool dmar_on;
    bool cc_devices_open; /* typed reconstruction: vtd_inv_desc_cc_device lines belong to the cc_devices before */
    q_pending pend[NPEND];
    unsigned pend_next;
    struct {
        uint16_t sid, did;
    } dom[NDOM];          /* domain of each device, from the IOTLB hit/update lines */
    unsigned ndom;
    const qemu_event *ev; /* the event being processed, and its timestamp */
    bool has_t;
    uint64_t ns;
} qemu_state;

/* ---- the line header ------------------------------------------------------------------- */

typedef struct q_line {
    const char *name;
    size_t nlen;
    const char *args;
    bool has_t;
    uint64_t ns;
} q_line;

static bool ident_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}

/* Parse the prefixes and the event name. False: no identifier with an '_'. */
static bool q_header(const char *line, q_line *q)
{
    memset(q, 0, sizeof *q);
    const char *p = imp_ws(line), *t = p;
    if (*p >= '0' && *p <= '9' && imp_iso8601(&t, &q->ns) && (*t == ' ' || *t == '\t')) {
        q->has_t = true;
        p = imp_ws(t);
    }
    if (*p == '[') { /* -msg guest-name: "[name] " */
        const char *e = strchr(p, ']');
        if (e)
            p = imp_ws(e + 1);
    }
    const char *te = imp_tok_end(p);
    if (te > p + 1 && te[-1] == ':' && !memchr(p, '@', (size_t)(te - p))) /* "program: " */
        p = imp_ws(te);
    if (*p == '(') { /* "(tid:thread name): " */
        const char *e = strstr(p, "):");
        if (e)
            p = imp_ws(e + 2);
    }
    t = p;
    uint64_t pid, ns;
    if (imp_num(&t, 10, &pid) && *t == '@' && (t++, imp_seconds(&t, &ns)) && *t == ':') { /* "PID@SEC.USEC:" */
        q->has_t = true;
        q->ns = ns;
        p = t + 1;
    }
    const char *n = p;
    while (ident_char(*p))
        p++;
    if (p == n || !((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z')) || !memchr(n, '_', (size_t)(p - n)))
        return false;
    if (*p && *p != ' ' && *p != '\t')
        return false;
    q->name = n;
    q->nlen = (size_t)(p - n);
    q->args = imp_ws(p);
    return true;
}

static const qemu_event *lookup(const q_line *q)
{
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
        if (strlen(events[i].name) == q->nlen && !memcmp(events[i].name, q->name, q->nlen))
            return &events[i];
    return NULL;
}

static bool q_is_start(const char *line)
{
    q_line q;
    return q_header(line, &q);
}

/* ---- events ----------------------------------------------------------------------------- */

static qemu_state *st(imp_ctx *c)
{
    return c->fs;
}

static void q_reset(imp_ctx *c)
{
    /* Before the guest enables remapping QEMU passes DMA through untranslated
     * but still traces it; a capture without vtd_dmar_enable started later. */
    st(c)->dmar_on = !imp_has(c, Q_ENABLE);
}

/* The event's fields are all there: count it and take its time. */
static int start(imp_ctx *c)
{
    imp_event(c);
    return imp_time(c, st(c)->has_t, st(c)->ns);
}

/* Fields are missing: wait for a continuation line, or (final) a bad line. */
static int missing(imp_ctx *c, bool final)
{
    return imp_missing(c, final, st(c)->ev->name);
}

static void pend_put(qemu_state *s, uint16_t sid, uint64_t addr)
{
    for (unsigned i = 0; i < NPEND; i++)
        if (s->pend[i].used && s->pend[i].sid == sid) {
            s->pend[i].addr = addr;
            return;
        }
    s->pend[s->pend_next] = (q_pending){true, sid, addr};
    s->pend_next = (s->pend_next + 1) % NPEND;
}

static void dom_put(qemu_state *s, uint16_t sid, uint16_t did)
{
    unsigned i;
    for (i = 0; i < s->ndom && s->dom[i].sid != sid; i++)
        ;
    if (i == s->ndom && s->ndom < NDOM)
        s->ndom++;
    if (i < NDOM) {
        s->dom[i].sid = sid;
        s->dom[i].did = did;
    }
}

/* The exact address of the hit/update line that led to this translation. */
static bool pend_take(qemu_state *s, uint16_t sid, uint64_t page, uint64_t mask, uint64_t *addr)
{
    for (unsigned i = 0; i < NPEND; i++)
        if (s->pend[i].used && s->pend[i].sid == sid) {
            s->pend[i].used = false;
            if ((s->pend[i].addr & ~mask) == page) {
                *addr = s->pend[i].addr;
                return true;
            }
        }
    return false;
}

/* A page translation seen in the capture: map it if the replay's tables do
 * not have it, then the DMA. */
static int translation(imp_ctx *c, uint16_t sid, uint64_t page, uint64_t size, uint64_t gpa, uint64_t addr)
{
    int rc;
    if ((rc = imp_dev_note(c, sid, 0)) || (rc = imp_ensure(c, sid, page, size, gpa)) ||
        (rc = imp_dma(c, sid, addr, c->o.dma_len, false, IMP_NO_FAULT)))
        return rc;
    imp_used(c);
    return 0;
}

/* 4 KiB to 1 GiB pages, aligned, not wrapping. */
static bool page_ok(uint64_t page, uint64_t mask, uint64_t gpa)
{
    return mask >= IMP_PAGE_MASK && mask < (UINT64_C(1) << 30) && ((mask + 1) & mask) == 0 && !(page & mask) &&
           !(gpa & mask) && page + mask >= page && gpa + mask >= gpa;
}

static int ev_translate(imp_ctx *c, const char *a, bool final)
{
    const char *d = strstr(a, "dev ");
    uint16_t sid;
    uint64_t iova, gpa, mask;
    if (!d || !(d += 4, imp_bdf(&d, &sid)) || !imp_key_num(a, "iova", 16, &iova) ||
        !imp_key_num(a, "gpa", 16, &gpa) || !imp_key_num(a, "mask", 16, &mask))
        return missing(c, final);
    int rc;
    if (c->pass == IMP_PASS_SCAN || (rc = start(c)))
        return c->pass == IMP_PASS_SCAN ? 0 : rc;
    qemu_state *s = st(c);
    if (!s->dmar_on) {
        imp_note(c, "vtd_dmar_translate before the guest enabled DMA remapping (untranslated DMA)");
        return 0;
    }
    if (!page_ok(iova, mask, gpa))
        return imp_bad(c, "vtd_dmar_translate: impossible page (mask not 4K..1G, or unaligned)");
    uint64_t addr = iova;
    if (!pend_take(s, sid, iova, mask, &addr))
        imp_note(c, "adjusted: DMA at the page start (no IOTLB hit/update line gave the exact address)");
    return translation(c, sid, iova, mask + 1, gpa, addr);
}

static int ev_hit(imp_ctx *c, const char *a, bool final)
{
    uint64_t sid, addr, pte, domain;
    bool has_pte = imp_key_num(a, "slpte", 16, &pte) || imp_key_num(a, "pte", 16, &pte);
    if (!imp_key_num(a, "sid", 16, &sid) || !imp_key_num(a, "iova", 16, &addr) || !has_pte ||
        !imp_key_num(a, "domain", 16, &domain))
        return missing(c, final);
    int rc;
    if (c->pass == IMP_PASS_SCAN || (rc = start(c)))
        return c->pass == IMP_PASS_SCAN ? 0 : rc;
    if (sid > 0xffff || domain > 0xffff)
        return imp_bad(c, "vtd_iotlb_page_*: SID or domain above 0xffff");
    dom_put(st(c), (uint16_t)sid, (uint16_t)domain);
    if (imp_has(c, Q_TRANSLATE)) { /* the vtd_dmar_translate that follows is the DMA */
        pend_put(st(c), (uint16_t)sid, addr);
        imp_used(c);
        return 0;
    }
    /* No translate lines: the PTE tells the page (a large leaf has PS set;
     * 2 MiB is assumed, the level is not in the event). */
    uint64_t size = ims_ss_pte_ps(pte) ? UINT64_C(2) << 20 : IMP_PAGE;
    uint64_t page = addr & ~(size - 1), gpa = ims_ss_pte_addr(pte) & ~(size - 1);
    if (!page_ok(page, size - 1, gpa))
        return imp_bad(c, "vtd_iotlb_page_*: impossible page");
    imp_note(c, "adjusted: DMA from an IOTLB hit/update line (no vtd_dmar_translate lines)");
    return translation(c, (uint16_t)sid, page, size, gpa, addr);
}

/* A fault the capture saw: the replay must fault too, so a mapping the
 * importer made for that address goes first. */
static int fault(imp_ctx *c, uint16_t sid, uint64_t addr, bool wr, unsigned reason)
{
    int rc;
    if ((rc = imp_dev_note(c, sid, 0)))
        return rc;
    const imp_ent *e = imp_lookup(c, sid, addr);
    if (e) {
        uint64_t bytes;
        imp_note(c, "adjusted: mapping unmapped so that the replay faults as the capture did");
        if ((rc = imp_unmap(c, sid, e->iova, e->len, &bytes)))
            return rc;
    }
    for (unsigned i = 0; i < NPEND; i++)
        if (st(c)->pend[i].sid == sid)
            st(c)->pend[i].used = false;
    if ((rc = imp_dma(c, sid, addr, c->o.dma_len, wr, (int)reason)))
        return rc;
    imp_used(c);
    return 0;
}

static int ev_fault(imp_ctx *c, const char *a, bool final)
{
    uint64_t sid, reason, addr, wr;
    if (!imp_key_num(a, "sid", 16, &sid) || !imp_key_num(a, "fault", 10, &reason) ||
        !imp_key_num(a, "addr", 16, &addr) || !imp_key_num(a, "write", 10, &wr))
        return missing(c, final);
    int rc;
    if (c->pass == IMP_PASS_SCAN || (rc = start(c)))
        return c->pass == IMP_PASS_SCAN ? 0 : rc;
    if (sid > 0xffff || reason > 0xff)
        return imp_bad(c, "vtd_dmar_fault: SID or fault reason out of range");
    return fault(c, (uint16_t)sid, addr, wr != 0, (unsigned)reason);
}

static int ev_frr(imp_ctx *c, const char *a, bool final)
{
    uint64_t idx, hi, lo;
    if (!imp_key_num(a, "index", 10, &idx) || !imp_key_num(a, "high", 16, &hi) || !imp_key_num(a, "low", 16, &lo))
        return missing(c, final);
    int rc;
    if (c->pass == IMP_PASS_SCAN || (rc = start(c)))
        return c->pass == IMP_PASS_SCAN ? 0 : rc;
    if (imp_has(c, Q_FAULT)) {
        imp_note(c, "vtd_frr_new: the fault record of a vtd_dmar_fault already imported");
        return 0;
    }
    /* FRCD (vtd-facts §1.9): SID qw1[15:0], FR qw1[39:32], T1 qw1[62] (1 = read), FI qw0[63:12]. */
    return fault(c, (uint16_t)ims_vtd_frcd_sid(hi), ims_vtd_frcd_fi(lo), !ims_vtd_frcd_t1(hi), ims_vtd_frcd_fr(hi));
}

/* Whether sid is in domain did (a device whose domain no line told is). */
static bool in_domain(const qemu_state *s, uint16_t sid, uint16_t did)
{
    for (unsigned i = 0; i < s->ndom; i++)
        if (s->dom[i].sid == sid)
            return s->dom[i].did == did;
    return true;
}

/* The guest invalidates after it changed its tables: what an IOTLB
 * invalidation covers is no longer mapped (a later translation maps it
 * again), so the replay unmaps it here, before the descriptor, as the guest
 * cleared its PTEs before it. */
static int invalidated(imp_ctx *c, const uint64_t q[IMS_QI_DESC_QW])
{
    unsigned type = ims_qi_type_of(q), g;
    uint16_t did;
    uint64_t first = 0, last = UINT64_MAX - 1;
    bool all_domains = false;
    if (type == IMS_QI_TYPE_IOTLB) {
        g = ims_qi_iotlb_g(q);
        did = ims_qi_iotlb_did(q);
        all_domains = g == IMS_QI_IOTLB_GLOBAL;
        if (g == IMS_QI_IOTLB_PAGE_SELECTIVE)
            ims_qi_am_span(ims_qi_iotlb_addr(q), ims_qi_iotlb_am(q), &first, &last);
        else if (g != IMS_QI_IOTLB_GLOBAL && g != IMS_QI_IOTLB_DOMAIN_SELECTIVE)
            return 0;
    } else if (type == IMS_QI_TYPE_PIOTLB) {
        g = ims_qi_piotlb_g(q);
        did = ims_qi_piotlb_did(q);
        if (g == IMS_QI_PIOTLB_PAGE_SELECTIVE)
            ims_qi_am_span(ims_qi_piotlb_addr(q), ims_qi_piotlb_am(q), &first, &last);
        else if (g != IMS_QI_PIOTLB_PASID_SELECTIVE)
            return 0;
    } else {
        return 0;
    }
    if (last == UINT64_MAX)
        last--;
    uint64_t total = 0;
    for (size_t i = 0; i < c->tr.n; i++) {
        uint16_t sid = c->tr.as[i].sid;
        uint64_t bytes = 0;
        if (!all_domains && !in_domain(st(c), sid, did))
            continue;
        int rc = imp_unmap(c, sid, first, last - first + 1, &bytes);
        if (rc)
            return rc;
        total += bytes;
    }
    if (total)
        imp_note(c, "adjusted: mappings unmapped at the IOTLB invalidation that covered them");
    return 0;
}

static int desc(imp_ctx *c, const uint64_t q[IMS_QI_DESC_QW])
{
    int rc;
    unsigned type = ims_qi_type_of(q);
    if ((rc = invalidated(c, q)))
        return rc;
    /* Device-TLB invalidations name devices with a device-TLB (ATS). */
    if (type == IMS_QI_TYPE_DEV_TLB && (rc = imp_dev_note(c, ims_qi_dev_tlb_sid(q), IMP_DEV_ATS)))
        return rc;
    if (type == IMS_QI_TYPE_PDEV_TLB && (rc = imp_dev_note(c, ims_qi_pdev_tlb_sid(q), IMP_DEV_ATS)))
        return rc;
    rc = type == IMS_QI_TYPE_WAIT ? imp_qi_sync(c) : imp_qi(c, q);
    if (rc > 0)
        imp_used(c);
    return rc < 0 ? rc : 0;
}

static int ev_inv_desc(imp_ctx *c, const char *a, bool final)
{
    uint64_t q[IMS_QI_DESC_QW] = {0};
    if (!imp_key_num(a, "high", 16, &q[1]) || !imp_key_num(a, "low", 16, &q[0]))
        return missing(c, final);
    int rc;
    if (c->pass == IMP_PASS_SCAN || (rc = start(c)))
        return c->pass == IMP_PASS_SCAN ? 0 : rc;
    return desc(c, q);
}

static bool key(const char *a, const char *k, uint64_t *v)
{
    return imp_key_num(a, k, 16, v);
}

/* The fields of a decoded invalidation event. */
typedef struct typed_fields {
    uint64_t d, addr, am, pasid, sid, fm, g, idx;
} typed_fields;

static bool typed_parse(unsigned sub, const char *a, typed_fields *f)
{
    const char *p;
    uint16_t sid;
    switch (sub) {
    case T_CC_DOMAIN: case T_IOTLB_DOMAIN: case T_PC_DOMAIN:
        return key(a, "domain", &f->d);
    case T_CC_DEVICES:
        return key(a, "sid", &f->sid) && key(a, "fmask", &f->fm);
    case T_CC_DEVICE:
        if (!(p = strstr(a, "device ")) || !(p += 7, imp_bdf(&p, &sid)))
            return false;
        f->sid = sid;
        return true;
    case T_IOTLB_PAGES:
        return key(a, "domain", &f->d) && key(a, "addr", &f->addr) && key(a, "mask", &f->am);
    case T_IOTLB_PASID_PAGES:
        return key(a, "domain", &f->d) && key(a, "addr", &f->addr) && key(a, "mask", &f->am) &&
               key(a, "pasid", &f->pasid);
    case T_IOTLB_PASID: case T_PC_PASID:
        return key(a, "domain", &f->d) && key(a, "pasid", &f->pasid);
    case T_IEC:
        return key(a, "granularity", &f->g) && key(a, "index", &f->idx) && key(a, "mask", &f->am);
    default:
        return true;
    }
}

/* A descriptor rebuilt from its decoded event (captures without vtd_inv_desc). */
static int ev_typed(imp_ctx *c, unsigned sub, const char *a, bool final)
{
    typed_fields f = {0};
    if (!typed_parse(sub, a, &f))
        return missing(c, final);
    int rc;
    if (c->pass == IMP_PASS_SCAN || (rc = start(c)))
        return c->pass == IMP_PASS_SCAN ? 0 : rc;
    qemu_state *s = st(c);
    bool after_devices = s->cc_devices_open;
    s->cc_devices_open = sub == T_CC_DEVICES || (sub == T_CC_DEVICE && after_devices);
    if (imp_has(c, Q_INV_DESC)) {
        imp_note(c, "vtd_inv_desc_*: the decoding of the vtd_inv_desc line before it");
        return 0;
    }
    if (sub == T_CC_DEVICE && after_devices) { /* one line per device the descriptor matched */
        imp_note(c, "vtd_inv_desc_cc_device: a device matched by the vtd_inv_desc_cc_devices before it");
        return 0;
    }
    if (f.d > 0xffff || f.pasid > 0xfffff || f.sid > 0xffff || f.fm > 3 || f.idx > 0xffff || f.g > 1 ||
        f.am > (sub == T_IEC ? 31u : 63u))
        return imp_bad(c, "vtd_inv_desc_*: a field out of range");
    uint64_t q[IMS_QI_DESC_QW] = {0};
    uint16_t d = (uint16_t)f.d;
    switch (sub) {
    case T_CC_GLOBAL: ims_qi_build_cc_global(q); break;
    case T_CC_DOMAIN: ims_qi_build_cc_domain(q, d); break;
    case T_CC_DEVICES: ims_qi_build_cc_device(q, 0, (uint16_t)f.sid, (unsigned)f.fm); break;
    case T_CC_DEVICE: ims_qi_build_cc_device(q, 0, (uint16_t)f.sid, 0); break;
    case T_IOTLB_GLOBAL: ims_qi_build_iotlb_global(q, false, false); break;
    case T_IOTLB_DOMAIN: ims_qi_build_iotlb_dsi(q, d, false, false); break;
    case T_IOTLB_PAGES: ims_qi_build_iotlb_psi(q, d, f.addr, (unsigned)f.am, false, false, false); break;
    case T_IOTLB_PASID_PAGES: ims_qi_build_piotlb_page(q, d, (uint32_t)f.pasid, f.addr, (unsigned)f.am, false); break;
    case T_IOTLB_PASID: ims_qi_build_piotlb_pasid(q, d, (uint32_t)f.pasid); break;
    case T_WAIT_SW: case T_WAIT_IRQ: ims_qi_build_wait(q, true, false, false, false, 0, 0); break;
    case T_IEC:
        ims_qi_build_iec(q, f.g ? IMS_QI_IEC_INDEX_SELECTIVE : IMS_QI_IEC_GLOBAL, (uint16_t)f.idx, (unsigned)f.am);
        break;
    case T_PC_GLOBAL: ims_qi_build_pc_global(q); break;
    case T_PC_DOMAIN: ims_qi_build_pc_domain(q, d); break;
    case T_PC_PASID: ims_qi_build_pc_pasid(q, d, (uint32_t)f.pasid); break;
    default: break;
    }
    imp_note(c, "adjusted: descriptor rebuilt from its decoded event (device-selective context "
                "invalidations get DID 0, drain hints clear)");
    return desc(c, q);
}

static int ev_enable(imp_ctx *c, const char *a, bool final)
{
    uint64_t en;
    if (!imp_key_num(a, "enable", 10, &en))
        return missing(c, final);
    int rc;
    if (c->pass == IMP_PASS_SCAN || (rc = start(c)))
        return c->pass == IMP_PASS_SCAN ? 0 : rc;
    st(c)->dmar_on = en != 0;
    imp_used(c);
    return 0;
}

static int q_process(imp_ctx *c, const char *line, bool final)
{
    if (imp_is_blank(line))
        return 0;
    q_line q;
    if (!q_header(line, &q))
        return imp_bad(c, "not a QEMU trace line");
    const qemu_event *ev = lookup(&q);
    if (!ev) {
        char what[160];
        snprintf(what, sizeof what, "unknown event %.*s", (int)(q.nlen > 100 ? 100 : q.nlen), q.name);
        if (c->pass != IMP_PASS_SCAN)
            imp_event(c);
        return imp_bad(c, what);
    }
    qemu_state *s = st(c);
    s->ev = ev;
    s->has_t = q.has_t;
    s->ns = q.ns;
    if (c->pass == IMP_PASS_SCAN)
        c->present |= UINT64_C(1) << ev->kind;
    if (ev->kind != Q_TYPED)
        s->cc_devices_open = false;
    int rc;
    switch (ev->kind) {
    case Q_TRANSLATE: return ev_translate(c, q.args, final);
    case Q_HIT: return ev_hit(c, q.args, final);
    case Q_FAULT: return ev_fault(c, q.args, final);
    case Q_FRR: return ev_frr(c, q.args, final);
    case Q_INV_DESC: return ev_inv_desc(c, q.args, final);
    case Q_TYPED: return ev_typed(c, ev->sub, q.args, final);
    case Q_ENABLE: return ev_enable(c, q.args, final);
    default: break;
    }
    if (c->pass == IMP_PASS_SCAN || (rc = start(c)))
        return c->pass == IMP_PASS_SCAN ? 0 : rc;
    if (ev->kind == Q_FPD) {
        imp_note(c, "vtd_fault_disabled: a fault with fault processing disabled (the event has no address)");
        return 0;
    }
    char what[200];
    snprintf(what, sizeof what, "%s (%s)", ev->name, ev->why);
    imp_note(c, what);
    return 0;
}

const imp_format_ops imp_qemu_ops = {
    .name = "qemu-vtd",
    .state_size = sizeof(qemu_state),
    .reset = q_reset,
    .is_start = q_is_start,
    .process = q_process,
};
