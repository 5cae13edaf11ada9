/* The functional (untimed) VT-d translation: the golden reference.
 *
 * ims_vtd_translate() takes a request (source ID, optional PASID, address,
 * access type, privilege) and the hardware state it depends on (memory, CAP,
 * ECAP, RTADDR, TE) and returns the translated address, effective permissions
 * and page size, or the architected fault reason. It uses no cache and has no
 * notion of time; it reports the ordered list of memory accesses it made, which
 * the timing model charges.
 *
 * The walk is built from per-stage steps (context/PASID lookup, first-stage,
 * second-stage) that the timing model also calls directly, starting from a
 * cached point (a paging-structure-cache hit gives a level and a table
 * address) and translating nested first-stage pointers through its own
 * callback (which may hit a cache). */
#ifndef IMS_VTD_TRANSLATE_H
#define IMS_VTD_TRANSLATE_H

#include <stdbool.h>
#include <stdint.h>

#include "models/mem/physmem.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- request ---------------------------------------------------------- */

typedef enum ims_vtd_req_type {
    IMS_VTD_REQ_UNTRANSLATED = 0, /* ordinary DMA (AT=00) */
    IMS_VTD_REQ_TRANSLATION = 1,  /* ATS translation request (AT=01) */
    IMS_VTD_REQ_TRANSLATED = 2,   /* ATS translated request (AT=10) */
} ims_vtd_req_type;

typedef struct ims_vtd_req {
    uint16_t sid;        /* requester ID: bus [15:8], devfn [7:0] */
    bool has_pasid;      /* request carries a PASID TLP prefix */
    uint32_t pasid;      /* 20 bits, valid when has_pasid */
    uint64_t addr;       /* input address (IOVA, GVA or GPA) */
    bool read, write, exec;
    bool priv;           /* privileged (supervisor) request */
    ims_vtd_req_type type;
} ims_vtd_req;

/* ---- hardware state the walk reads -------------------------------------- */

typedef struct ims_vtd_hw {
    ims_physmem *mem;
    uint64_t cap, ecap;
    uint64_t rtaddr;     /* RTADDR as latched by the last SRTP (RTA | TTM) */
    bool te;             /* GSTS.TES: translation enabled */
} ims_vtd_hw;

/* Walk flags */
#define IMS_VTD_WALK_NO_AD  (1u << 0)  /* do not write A/D/EA bits (pure probe: checker, debug) */

/* ---- memory access log -------------------------------------------------- */

typedef enum ims_vtd_access_kind {
    IMS_VTD_ACC_ROOT = 1,
    IMS_VTD_ACC_CONTEXT,
    IMS_VTD_ACC_PASID_DIR,
    IMS_VTD_ACC_PASID_ENTRY,
    IMS_VTD_ACC_FS_PTE,       /* first-stage paging entry */
    IMS_VTD_ACC_SS_PTE,       /* second-stage paging entry */
    IMS_VTD_ACC_FS_AD_WRITE,  /* atomic A/D/EA update of a first-stage entry */
    IMS_VTD_ACC_SS_AD_WRITE,  /* atomic A/D update of a second-stage entry */
} ims_vtd_access_kind;

typedef struct ims_vtd_access {
    uint64_t pa;       /* host-physical address of the entry */
    uint8_t kind;      /* ims_vtd_access_kind */
    uint8_t level;     /* paging level of the entry (1 = 4 KiB leaf level), 0 otherwise */
    uint8_t size;      /* bytes read: 8, 16, 32 or 64 */
    uint8_t nested_fs_level; /* for SS accesses made to translate a nested FS pointer: the FS level whose table
                                is being located (5..1), IMS_VTD_NESTED_FINAL for the final GPA, 0 when not nested */
} ims_vtd_access;

#define IMS_VTD_NESTED_FINAL 0xFF
#define IMS_VTD_MAX_ACCESSES 96

typedef struct ims_vtd_access_log {
    unsigned n;          /* accesses recorded (never more than IMS_VTD_MAX_ACCESSES) */
    unsigned reads;      /* reads of translation structures (root .. PTEs) */
    unsigned writes;     /* A/D updates */
    bool count_only;     /* count reads and writes, record nothing (the timed walks need only counts) */
    ims_vtd_access a[IMS_VTD_MAX_ACCESSES];
} ims_vtd_access_log;

/* ---- decoded device context --------------------------------------------- */

typedef enum ims_vtd_pgtt {
    IMS_VTD_PGTT_FS = 1,      /* 001b first-stage only */
    IMS_VTD_PGTT_SS = 2,      /* 010b second-stage only */
    IMS_VTD_PGTT_NESTED = 3,  /* 011b */
    IMS_VTD_PGTT_PT = 4,      /* 100b pass-through */
} ims_vtd_pgtt;

/* What the context (legacy) or context+PASID entries (scalable) say about the
 * translation of one (SID, PASID). Produced by the lookup step, consumed by the
 * walks and cached by the context/PASID caches of the timing model. */
typedef struct ims_vtd_ctx {
    bool scalable;       /* RTADDR.TTM == 01b */
    bool fpd;            /* fault processing disabled (any FPD on the path) */
    uint16_t did;
    uint32_t pasid;      /* PASID the request was translated with (request's or RID_PASID) */
    ims_vtd_pgtt pgtt;   /* legacy: SS or PT (TT=10b) */
    /* second stage */
    uint64_t ssptptr;    /* HPA of the SS root table */
    unsigned ss_levels;  /* 3, 4 or 5 (AW + 2) */
    bool ssade;          /* SS A/D enabled */
    bool ssee;           /* SS execute enabled */
    /* first stage */
    uint64_t fsptptr;    /* FS root: HPA (PGTT FS) or GPA (PGTT nested) */
    unsigned fs_levels;  /* 4 or 5 */
    bool sre, wpe, eafe;
    bool pwsnp, pgsnp;
    /* device-TLB */
    bool dte;            /* legacy TT=01b or SM context DTE */
    bool pre;            /* page requests enabled */
    bool rid_priv;       /* privilege of requests without PASID (SM context RID_PRIV; 0 in legacy mode) */
} ims_vtd_ctx;

/* ---- permissions and the final checks ----------------------------------- */

/* Effective permissions of a translation as the final check sees them. */
typedef struct ims_vtd_perm {
    bool r, w, x;
    bool us_denied;  /* first stage: a user request met U/S=0 (SGN.2) */
} ims_vtd_perm;

/* The final checks of an untranslated request against a translation result:
 * U/S (SGN.2), read (LGN.3/SGN.7), write (LGN.2/SGN.6), execute (SGN.3), then
 * an output page [pa & ~(page_size-1), +page_size) that overlaps the interrupt
 * range 0xFEE00000-0xFEEFFFFF (LGN.4/SGN.8). Returns 0 or the fault reason.
 * Shared by ims_vtd_translate and the timing model's IOTLB-hit path. */
uint8_t ims_vtd_check_access(const ims_vtd_ctx *ctx, const ims_vtd_req *req, const ims_vtd_perm *perm,
                             uint64_t pa, uint64_t page_size);

/* Whether [pa, pa+size) overlaps 0xFEE00000-0xFEEFFFFF. */
bool ims_vtd_is_interrupt_range(uint64_t pa, uint64_t size);

/* ---- result ---------------------------------------------------------------- */

typedef struct ims_vtd_result {
    uint8_t fault;       /* 0 on success, else the fault reason (FRCD.FR), see fault_reason.h */
    bool fault_qualified;/* a qualified fault: not recorded when ctx.fpd (set by the walk) */
    bool fault_suppressed; /* qualified and FPD set: the request is blocked but no record is made */
    uint64_t pa;         /* translated address of req.addr */
    uint64_t page_size;  /* effective page size in bytes (nested: the smaller of the two stages) */
    bool r, w, x;        /* effective permissions of the translation (for ATS completions and caching) */
    ims_vtd_ctx ctx;     /* the context used (valid once the lookup succeeded) */
    bool ctx_valid;
    bool untranslated;   /* TE=0: address passed through without translation */
} ims_vtd_result;

/* The golden reference: one request, no caches. log may be NULL. */
void ims_vtd_translate(const ims_vtd_hw *hw, const ims_vtd_req *req, unsigned flags,
                       ims_vtd_result *res, ims_vtd_access_log *log);

/* Step 1: root -> context (-> PASID directory -> PASID entry). Returns 0 and
 * fills ctx, or a fault reason (and sets *qualified, *fpd as known so far). */
uint8_t ims_vtd_lookup_ctx(const ims_vtd_hw *hw, const ims_vtd_req *req, ims_vtd_ctx *ctx,
                           bool *qualified, ims_vtd_access_log *log);

/* Record one access (helpers for walkers; no-op when log is NULL). Inline:
 * every paging-structure read of every walk is logged. */
static inline void ims_vtd_log_access(ims_vtd_access_log *log, uint64_t pa, ims_vtd_access_kind kind,
                                      unsigned level, unsigned size, unsigned nested_fs_level)
{
    if (!log)
        return;
    /* Counters count every access; the array keeps the first MAX of them. */
    if (kind == IMS_VTD_ACC_FS_AD_WRITE || kind == IMS_VTD_ACC_SS_AD_WRITE)
        log->writes++;
    else
        log->reads++;
    if (log->count_only || log->n >= IMS_VTD_MAX_ACCESSES)
        return;
    ims_vtd_access *a = &log->a[log->n++];
    a->pa = pa;
    a->kind = (uint8_t)kind;
    a->level = (uint8_t)level;
    a->size = (uint8_t)size;
    a->nested_fs_level = (uint8_t)nested_fs_level;
}

#ifdef __cplusplus
}
#endif
#endif
