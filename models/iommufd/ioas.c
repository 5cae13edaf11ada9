/* The IOAS: an I/O address space of "areas" (IOVA range -> host-physical
 * backing, permissions) kept in a treap ordered by IOVA, the reserved and
 * allowed IOVA ranges, and the paging domains that mirror it through the
 * driver. Commands: IOAS_ALLOC, MAP (fixed and allocated IOVA), UNMAP
 * (superset rule, unmap-all), ALLOW_IOVAS, COPY, OPTION, VFIO_IOAS,
 * CHANGE_PROCESS, MAP_FILE; IOVA_RANGES is in ioas_query.c.
 * Semantics: iommufd-facts §1.3 and the kernel's io_pagetable ([7.1mw]).
 *
 * An unmapped area is "dying" until its unmap's driver work (the IOTLB flush)
 * is done, as iopt_unmap_iova_range keeps it in the tree (pages = NULL) across
 * iopt_area_unfill_domains: it still holds its IOVA (MAP over it: EEXIST, as
 * iopt_check_iova), UNMAP over it is EBUSY, and nothing maps or copies it. */
#include "models/iommufd/iommufd_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PAGE IMS_IOMMUFD_DOMAIN_PAGE
#define HPAGE (UINT64_C(2) << 20) /* largest IOVA alignment chosen (x86 THP size) */

struct ims_ifd_area {
    uint64_t iova, last; /* inclusive */
    uint64_t pa;         /* backing address of byte `iova` */
    unsigned prot;       /* IMS_DRV_PROT_* */
    uint64_t prio;       /* treap heap key, a hash of iova: deterministic */
    ims_ifd_area *l, *r;
    const ims_ifd_op *unmapping; /* dying: the unmap command in flight; NULL: live */
    ims_ifd_area *next_dying;
};

/* ---- treap -------------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
    x += UINT64_C(0x9E3779B97F4A7C15);
    x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
    return x ^ (x >> 31);
}

/* Split t into nodes with iova < key (*a) and >= key (*b). */
static void tr_split(ims_ifd_area *t, uint64_t key, ims_ifd_area **a, ims_ifd_area **b)
{
    if (!t) {
        *a = *b = NULL;
    } else if (t->iova < key) {
        tr_split(t->r, key, &t->r, b);
        *a = t;
    } else {
        tr_split(t->l, key, a, &t->l);
        *b = t;
    }
}

static ims_ifd_area *tr_merge(ims_ifd_area *a, ims_ifd_area *b)
{
    if (!a)
        return b;
    if (!b)
        return a;
    if (a->prio > b->prio) {
        a->r = tr_merge(a->r, b);
        return a;
    }
    b->l = tr_merge(a, b->l);
    return b;
}

static void tr_insert(ims_ifd_ioas *ioas, ims_ifd_area *n)
{
    ims_ifd_area *a, *b;
    n->l = n->r = NULL;
    n->prio = mix64(n->iova);
    tr_split(ioas->root, n->iova, &a, &b);
    ioas->root = tr_merge(tr_merge(a, n), b);
    ioas->nareas++;
}

static ims_ifd_area *tr_remove(ims_ifd_area *t, uint64_t key, ims_ifd_area **out)
{
    if (!t)
        return NULL;
    if (key < t->iova)
        t->l = tr_remove(t->l, key, out);
    else if (key > t->iova)
        t->r = tr_remove(t->r, key, out);
    else {
        *out = t;
        return tr_merge(t->l, t->r);
    }
    return t;
}

static void area_delete(ims_ifd_ioas *ioas, ims_ifd_area *a)
{
    ims_ifd_area *out = NULL;
    ioas->root = tr_remove(ioas->root, a->iova, &out);
    if (out) {
        ioas->nareas--;
        free(out);
    }
}

void ims_ifd_ioas_reap(ims_iommufd *ctx, const ims_ifd_op *op)
{
    for (size_t id = 1; ctx->ndying && id < ctx->cobjs; id++) {
        ims_ifd_obj *o = ctx->objs[id];
        ims_ifd_ioas *ioas = o && o->type == IMS_IOMMUFD_OBJ_IOAS ? (ims_ifd_ioas *)o : NULL;
        for (ims_ifd_area **p = ioas ? &ioas->dying : NULL; p && *p;) {
            ims_ifd_area *a = *p;
            if (a->unmapping != op) {
                p = &a->next_dying;
                continue;
            }
            *p = a->next_dying;
            area_delete(ioas, a);
            ctx->ndying--;
        }
    }
}

/* The area with the largest iova <= key / the smallest iova > key. */
static ims_ifd_area *tr_floor(ims_ifd_area *t, uint64_t key)
{
    ims_ifd_area *best = NULL;
    while (t) {
        if (t->iova <= key) {
            best = t;
            t = t->r;
        } else {
            t = t->l;
        }
    }
    return best;
}

static ims_ifd_area *tr_above(ims_ifd_area *t, uint64_t key)
{
    ims_ifd_area *best = NULL;
    while (t) {
        if (t->iova > key) {
            best = t;
            t = t->l;
        } else {
            t = t->r;
        }
    }
    return best;
}

static void tr_free(ims_ifd_area *t)
{
    if (!t)
        return;
    tr_free(t->l);
    tr_free(t->r);
    free(t);
}

/* The lowest area intersecting [s, l]. */
static ims_ifd_area *area_first(const ims_ifd_ioas *ioas, uint64_t s, uint64_t l)
{
    ims_ifd_area *f = tr_floor(ioas->root, s);
    if (f && f->last >= s)
        return f;
    ims_ifd_area *n = tr_above(ioas->root, s);
    return n && n->iova <= l ? n : NULL;
}

static ims_ifd_area *area_next(const ims_ifd_ioas *ioas, const ims_ifd_area *a)
{
    return tr_above(ioas->root, a->iova);
}

/* The same over live areas only: dying ones hold IOVA but map nothing. */
static ims_ifd_area *live_next(const ims_ifd_ioas *ioas, const ims_ifd_area *a)
{
    ims_ifd_area *n = area_next(ioas, a);
    while (n && n->unmapping)
        n = area_next(ioas, n);
    return n;
}

static ims_ifd_area *live_first(const ims_ifd_ioas *ioas, uint64_t s, uint64_t l)
{
    ims_ifd_area *a = area_first(ioas, s, l);
    a = a && a->unmapping ? live_next(ioas, a) : a;
    return a && a->iova <= l ? a : NULL;
}

/* ---- reserved and allowed ranges ---------------------------------------- */

/* The reserved range with the lowest start intersecting [s, l]. */
static const ims_ifd_resv *resv_first(const ims_ifd_ioas *ioas, uint64_t s, uint64_t l)
{
    for (size_t i = 0; i < ioas->nresv; i++)
        if (ioas->resv[i].start <= l && ioas->resv[i].last >= s)
            return &ioas->resv[i];
    return NULL;
}

bool ims_ifd_ioas_reserved_hit(const ims_ifd_ioas *ioas, uint64_t s, uint64_t l)
{
    return resv_first(ioas, s, l) != NULL;
}

static bool allowed_hit(const ims_ifd_ioas *ioas, uint64_t s, uint64_t l)
{
    for (size_t i = 0; i < ioas->nallowed; i++)
        if (ioas->allowed[i].start <= l && ioas->allowed[i].last >= s)
            return true;
    return false;
}

int ims_ifd_ioas_reserve(ims_ifd_ioas *ioas, uint64_t start, uint64_t last, const void *owner)
{
    /* A range in use or explicitly allowed cannot be taken back. */
    if (area_first(ioas, start, last) || allowed_hit(ioas, start, last))
        return -EADDRINUSE;
    if (ioas->nresv == ioas->cresv) {
        size_t n = ioas->cresv ? ioas->cresv * 2 : 4;
        ims_ifd_resv *r = realloc(ioas->resv, n * sizeof *r);
        if (!r)
            return -ENOMEM;
        ioas->resv = r;
        ioas->cresv = n;
    }
    size_t i = ioas->nresv;
    while (i > 0 && ioas->resv[i - 1].start > start) {
        ioas->resv[i] = ioas->resv[i - 1];
        i--;
    }
    ioas->resv[i] = (ims_ifd_resv){.start = start, .last = last, .owner = owner};
    ioas->nresv++;
    return 0;
}

void ims_ifd_ioas_unreserve(ims_ifd_ioas *ioas, const void *owner)
{
    size_t j = 0;
    for (size_t i = 0; i < ioas->nresv; i++)
        if (ioas->resv[i].owner != owner)
            ioas->resv[j++] = ioas->resv[i];
    ioas->nresv = j;
}

/* ---- alignment ---------------------------------------------------------- */

static bool areas_aligned(const ims_ifd_ioas *ioas, uint64_t align)
{
    uint64_t m = align - 1;
    for (ims_ifd_area *a = live_first(ioas, 0, UINT64_MAX); a; a = live_next(ioas, a))
        if ((a->iova & m) || ((a->last - a->iova + 1) & m) || ((a->pa % PAGE) & m))
            return false;
    return true;
}

/* Domains and the huge-page option drive the alignment; it only grows if
 * every existing area conforms (-EADDRINUSE otherwise). */
static int ioas_recalc_alignment(ims_ifd_ioas *ioas)
{
    uint64_t align = ioas->huge_pages_off || ioas->ndomains ? PAGE : 1;
    if (align > ioas->iova_alignment && !areas_aligned(ioas, align))
        return -EADDRINUSE;
    ioas->iova_alignment = align;
    return 0;
}

/* ---- IOVA choice -------------------------------------------------------- */

static bool fit_range(uint64_t *start, uint64_t last, uint64_t length, uint64_t align, uint64_t off)
{
    uint64_t a;
    if (__builtin_add_overflow(*start, align - 1, &a))
        return false;
    a &= ~(align - 1);
    a |= off;
    if (a >= last || last - a < length - 1)
        return false;
    *start = a;
    return true;
}

/* First fit over the holes of (reserved + areas) inside [s, l]. */
static bool fit_span(const ims_ifd_ioas *ioas, uint64_t s, uint64_t l, uint64_t length, uint64_t align,
                     uint64_t off, uint64_t *iova)
{
    uint64_t cand = s;
    for (;;) {
        const ims_ifd_resv *r = resv_first(ioas, cand, l);
        const ims_ifd_area *a = area_first(ioas, cand, l);
        uint64_t bs = 0, bl = 0;
        bool blocked = r || a;
        if (r && (!a || r->start <= a->iova)) {
            bs = r->start;
            bl = r->last;
        } else if (a) {
            bs = a->iova;
            bl = a->last;
        }
        if (!blocked || bs > cand) {
            uint64_t hs = cand;
            if (fit_range(&hs, blocked ? bs - 1 : l, length, align, off)) {
                *iova = hs;
                return true;
            }
            if (!blocked)
                return false;
        }
        if (bl >= l)
            return false;
        cand = bl + 1; /* the blocker reaches cand, so this moves forward */
    }
}

static uint64_t roundup_pow2(uint64_t v)
{
    uint64_t p = 1;
    while (p < v)
        p <<= 1;
    return p;
}

/* Keep the alignment of the backing address (more superpages), up to 2 MiB;
 * never hand out IOVA 0 or the last page (kernel iopt_alloc_iova). */
static int alloc_iova(const ims_ifd_ioas *ioas, uint64_t addr, uint64_t length, uint64_t *iova)
{
    if (length == 0 || length >= UINT64_MAX / 2)
        return -EOVERFLOW;
    uint64_t align = roundup_pow2(length);
    if (addr && (addr & -addr) < align)
        align = addr & -addr;
    if (align >= HPAGE)
        align = HPAGE;
    if (align < ioas->iova_alignment)
        return -EINVAL;
    uint64_t off = addr % PAGE;
    if (!ioas->nallowed) {
        uint64_t s = PAGE;
        if (fit_range(&s, UINT64_MAX - PAGE, length, align, off) &&
            fit_span(ioas, s, UINT64_MAX - PAGE, length, align, off, iova))
            return 0;
        return -ENOSPC;
    }
    /* Allowed ranges are disjoint and sorted; adjacent ones form one span. */
    for (size_t i = 0; i < ioas->nallowed;) {
        uint64_t s = ioas->allowed[i].start, l = ioas->allowed[i].last;
        for (i++; i < ioas->nallowed && l != UINT64_MAX && ioas->allowed[i].start == l + 1; i++)
            l = ioas->allowed[i].last;
        s = s > PAGE ? s : PAGE;
        l = l < UINT64_MAX - PAGE ? l : UINT64_MAX - PAGE;
        if (s > l || !fit_range(&s, l, length, align, off))
            continue;
        if (fit_span(ioas, s, l, length, align, off, iova))
            return 0;
    }
    return -ENOSPC;
}

static int check_iova(const ims_ifd_ioas *ioas, uint64_t iova, uint64_t length)
{
    uint64_t last;
    if (iova & (ioas->iova_alignment - 1))
        return -EINVAL;
    if (__builtin_add_overflow(iova, length - 1, &last))
        return -EOVERFLOW;
    if (resv_first(ioas, iova, last))
        return -EINVAL;
    if (area_first(ioas, iova, last))
        return -EEXIST;
    return 0;
}

/* ---- mapping into domains ---------------------------------------------- */

static uint64_t pages_of(uint64_t len)
{
    return (len + PAGE - 1) / PAGE;
}

static void area_unmap_domains(ims_ifd_call *c, ims_ifd_ioas *ioas, const ims_ifd_area *a, size_t ndom)
{
    for (size_t d = 0; d < ndom; d++)
        (void)ims_ifd_drv_unmap(c, ioas->domains[d]->domain, a->iova, a->last - a->iova + 1);
}

static int area_map_domains(ims_ifd_call *c, ims_ifd_ioas *ioas, const ims_ifd_area *a)
{
    for (size_t d = 0; d < ioas->ndomains; d++) {
        int rc = ims_ifd_drv_map(c, ioas->domains[d]->domain, a->iova, a->pa, a->last - a->iova + 1, a->prot);
        if (rc) {
            area_unmap_domains(c, ioas, a, d);
            return rc;
        }
    }
    return 0;
}

typedef struct ifd_piece {
    uint64_t pa, len;
} ifd_piece;

/* Place the pieces back to back at *iova (chosen when `alloc`), one area
 * each, and map them into every domain; all or nothing. */
static int map_pieces(ims_ifd_call *c, ims_ifd_ioas *ioas, const ifd_piece *p, size_t n, uint64_t length,
                      uint64_t *iova, unsigned prot, bool alloc)
{
    if (!length || (length & (ioas->iova_alignment - 1)))
        return -EINVAL;
    int rc = alloc ? alloc_iova(ioas, p[0].pa, length, iova) : check_iova(ioas, *iova, length);
    if (rc)
        return rc;
    ims_ifd_area **made = calloc(n, sizeof *made);
    if (!made)
        return -ENOMEM;
    size_t k = 0;
    uint64_t at = *iova;
    for (; k < n; k++) {
        if ((p[k].pa % PAGE) & (ioas->iova_alignment - 1)) {
            rc = -EINVAL;
            break;
        }
        ims_ifd_area *a = calloc(1, sizeof *a);
        if (!a) {
            rc = -ENOMEM;
            break;
        }
        *a = (ims_ifd_area){.iova = at, .last = at + p[k].len - 1, .pa = p[k].pa, .prot = prot};
        tr_insert(ioas, a);
        made[k] = a;
        at += p[k].len;
    }
    size_t mapped = 0;
    while (!rc && mapped < n) {
        rc = area_map_domains(c, ioas, made[mapped]);
        if (!rc)
            mapped++;
    }
    if (rc) {
        for (size_t i = 0; i < mapped; i++)
            area_unmap_domains(c, ioas, made[i], ioas->ndomains);
        for (size_t i = 0; i < k; i++)
            area_delete(ioas, made[i]);
    } else {
        c->pages += pages_of(length) * (ioas->ndomains ? ioas->ndomains : 1);
    }
    free(made);
    return rc;
}

/* Remove the areas inside [start, last]. As the kernel: an area another
 * unmap is still flushing -> -EBUSY, an area only partly covered -> -ENOENT,
 * each after the fully covered areas below it were removed. */
static int unmap_range(ims_ifd_call *c, ims_ifd_ioas *ioas, uint64_t start, uint64_t last, uint64_t *unmapped)
{
    uint64_t total = 0;
    int rc = 0;
    ims_ifd_area *a;
    while ((a = area_first(ioas, start, last))) {
        if (a->unmapping) {
            rc = -EBUSY;
            break;
        }
        if (a->iova < start || a->last > last) {
            rc = -ENOENT;
            break;
        }
        uint64_t a_last = a->last, len = a->last - a->iova + 1;
        area_unmap_domains(c, ioas, a, ioas->ndomains);
        c->pages += pages_of(len) * (ioas->ndomains ? ioas->ndomains : 1);
        a->unmapping = c->op; /* off the tree once c's flushes are done (ims_ifd_ioas_reap) */
        a->next_dying = ioas->dying;
        ioas->dying = a;
        c->ctx->ndying++;
        total += len;
        if (a_last >= last)
            break;
        start = a_last + 1;
    }
    *unmapped = total;
    return rc;
}

int ims_ifd_ioas_add_domain(ims_ifd_call *c, ims_ifd_ioas *ioas, ims_ifd_hwpt *hwpt)
{
    uint64_t align = ioas->iova_alignment > PAGE ? ioas->iova_alignment : PAGE;
    if (align != ioas->iova_alignment && !areas_aligned(ioas, align))
        return ims_ifd_fail(c->ctx, EADDRINUSE, "IOAS %u: a mapping is not %llu-byte aligned", ioas->obj.id,
                            (unsigned long long)align);
    uint64_t ap = c->ctx->aperture_last;
    if (ap && ap != UINT64_MAX) {
        int rc = ims_ifd_ioas_reserve(ioas, ap + 1, UINT64_MAX, hwpt);
        if (rc)
            return ims_ifd_fail(c->ctx, -rc, "IOAS %u: mappings above the domain aperture", ioas->obj.id);
    }
    if (ioas->ndomains == ioas->cdomains) {
        size_t n = ioas->cdomains ? ioas->cdomains * 2 : 4;
        ims_ifd_hwpt **d = realloc(ioas->domains, n * sizeof *d);
        if (!d) {
            ims_ifd_ioas_unreserve(ioas, hwpt);
            return -ENOMEM;
        }
        ioas->domains = d;
        ioas->cdomains = n;
    }
    uint64_t pages = 0;
    for (ims_ifd_area *a = live_first(ioas, 0, UINT64_MAX); a; a = live_next(ioas, a)) {
        int rc = ims_ifd_drv_map(c, hwpt->domain, a->iova, a->pa, a->last - a->iova + 1, a->prot);
        if (rc) {
            for (ims_ifd_area *b = live_first(ioas, 0, UINT64_MAX); b != a; b = live_next(ioas, b))
                (void)ims_ifd_drv_unmap(c, hwpt->domain, b->iova, b->last - b->iova + 1);
            ims_ifd_ioas_unreserve(ioas, hwpt);
            return ims_ifd_fail(c->ctx, -rc, "IOAS %u: filling the new domain failed", ioas->obj.id);
        }
        pages += pages_of(a->last - a->iova + 1);
    }
    c->pages += pages;
    ioas->iova_alignment = align;
    ioas->domains[ioas->ndomains++] = hwpt;
    return 0;
}

void ims_ifd_ioas_remove_domain(ims_ifd_call *c, ims_ifd_ioas *ioas, ims_ifd_hwpt *hwpt)
{
    size_t j = 0;
    for (size_t i = 0; i < ioas->ndomains; i++)
        if (ioas->domains[i] != hwpt)
            ioas->domains[j++] = ioas->domains[i];
    if (j == ioas->ndomains)
        return;
    ioas->ndomains = j;
    for (ims_ifd_area *a = live_first(ioas, 0, UINT64_MAX); a; a = live_next(ioas, a)) {
        (void)ims_ifd_drv_unmap(c, hwpt->domain, a->iova, a->last - a->iova + 1);
        c->pages += pages_of(a->last - a->iova + 1);
    }
    ims_ifd_ioas_unreserve(ioas, hwpt);
    (void)ioas_recalc_alignment(ioas); /* shrinking cannot fail */
}

bool ims_ifd_ioas_contiguous(const ims_ifd_ioas *ioas, uint64_t iova, uint64_t last)
{
    const ims_ifd_area *a = area_first(ioas, iova, iova);
    if (!a || a->iova > iova || a->unmapping)
        return false;
    while (a->last < last) {
        const ims_ifd_area *n = area_next(ioas, a);
        if (!n || n->iova != a->last + 1 || n->unmapping)
            return false;
        a = n;
    }
    return true;
}

void ims_ifd_ioas_each_area(const ims_ifd_ioas *ioas, void (*fn)(void *arg, uint64_t iova, uint64_t last),
                            void *arg)
{
    for (ims_ifd_area *a = live_first(ioas, 0, UINT64_MAX); a; a = live_next(ioas, a))
        fn(arg, a->iova, a->last);
}

/* ---- object life -------------------------------------------------------- */

ims_ifd_ioas *ims_ifd_ioas_new(ims_iommufd *ctx)
{
    ims_ifd_ioas *ioas = calloc(1, sizeof *ioas);
    if (!ioas)
        return NULL;
    ioas->iova_alignment = 1; /* a software table until a domain arrives */
    if (ims_ifd_obj_add(ctx, &ioas->obj, IMS_IOMMUFD_OBJ_IOAS)) {
        free(ioas);
        return NULL;
    }
    return ioas;
}

void ims_ifd_ioas_free(ims_iommufd *ctx, ims_ifd_ioas *ioas)
{
    for (const ims_ifd_area *a = ioas->dying; a; a = a->next_dying)
        ctx->ndying--; /* freed with the tree below */
    tr_free(ioas->root);
    free(ioas->resv);
    free(ioas->allowed);
    free(ioas->domains);
    free(ioas);
}

static ims_ifd_ioas *get_ioas(ims_ifd_call *c, uint32_t id, const char *what)
{
    ims_ifd_ioas *ioas = (ims_ifd_ioas *)ims_ifd_obj_get(c->ctx, id, IMS_IOMMUFD_OBJ_IOAS);
    if (!ioas)
        ims_ifd_fail(c->ctx, ENOENT, "%s: no IOAS %u", what, id);
    return ioas;
}

static unsigned map_prot(uint32_t flags)
{
    return (flags & IMS_IOMMU_IOAS_MAP_READABLE ? IMS_DRV_PROT_READ : 0) |
           (flags & IMS_IOMMU_IOAS_MAP_WRITEABLE ? IMS_DRV_PROT_WRITE : 0);
}

#define MAP_FLAGS (IMS_IOMMU_IOAS_MAP_FIXED_IOVA | IMS_IOMMU_IOAS_MAP_WRITEABLE | IMS_IOMMU_IOAS_MAP_READABLE)
#define MAP_RW (IMS_IOMMU_IOAS_MAP_WRITEABLE | IMS_IOMMU_IOAS_MAP_READABLE)

/* ---- commands ----------------------------------------------------------- */

int ims_ifd_cmd_ioas_alloc(ims_ifd_call *c)
{
    ims_iommu_ioas_alloc *cmd = c->cmd;
    if (cmd->flags)
        return ims_ifd_fail(c->ctx, EOPNOTSUPP, "IOAS_ALLOC: flags 0x%x", cmd->flags);
    ims_ifd_ioas *ioas = ims_ifd_ioas_new(c->ctx);
    if (!ioas)
        return -ENOMEM;
    cmd->out_ioas_id = ioas->obj.id;
    c->respond = true;
    return 0;
}

int ims_ifd_cmd_ioas_map(ims_ifd_call *c)
{
    ims_iommu_ioas_map *cmd = c->cmd;
    ims_iommufd *ctx = c->ctx;
    if ((cmd->flags & ~MAP_FLAGS) || cmd->reserved)
        return ims_ifd_fail(ctx, EOPNOTSUPP, "IOAS_MAP: flags 0x%x reserved 0x%x", cmd->flags, cmd->reserved);
    if (cmd->iova >= UINT64_MAX || cmd->length >= UINT64_MAX)
        return ims_ifd_fail(ctx, EOVERFLOW, "IOAS_MAP: iova or length too large");
    if (!(cmd->flags & MAP_RW))
        return ims_ifd_fail(ctx, EINVAL, "IOAS_MAP: neither readable nor writeable");
    ims_ifd_ioas *ioas = get_ioas(c, cmd->ioas_id, "IOAS_MAP");
    if (!ioas)
        return -ENOENT;
    uint64_t end;
    if (!cmd->length)
        return ims_ifd_fail(ctx, EINVAL, "IOAS_MAP: length 0");
    if (__builtin_add_overflow(cmd->user_va, cmd->length, &end))
        return ims_ifd_fail(ctx, EOVERFLOW, "IOAS_MAP: user_va + length overflows");
    ifd_piece p = {.pa = cmd->user_va, .len = cmd->length};
    uint64_t iova = cmd->iova;
    int rc = map_pieces(c, ioas, &p, 1, cmd->length, &iova, map_prot(cmd->flags),
                        !(cmd->flags & IMS_IOMMU_IOAS_MAP_FIXED_IOVA));
    if (rc)
        return ctx->err.code ? rc
                             : ims_ifd_fail(ctx, -rc, "IOAS_MAP: [0x%llx +0x%llx] in IOAS %u%s",
                                            (unsigned long long)cmd->iova, (unsigned long long)cmd->length,
                                            cmd->ioas_id,
                                            rc == -EEXIST ? ": in use (mapped, or its unmap is still flushing)" : "");
    cmd->iova = iova;
    c->respond = true;
    return 0;
}

int ims_ifd_cmd_ioas_unmap(ims_ifd_call *c)
{
    ims_iommu_ioas_unmap *cmd = c->cmd;
    ims_iommufd *ctx = c->ctx;
    ims_ifd_ioas *ioas = get_ioas(c, cmd->ioas_id, "IOAS_UNMAP");
    if (!ioas)
        return -ENOENT;
    uint64_t unmapped = 0;
    if (cmd->iova == 0 && cmd->length == UINT64_MAX) {
        if (unmap_range(c, ioas, 0, UINT64_MAX, &unmapped)) /* empty is fine; partly covered cannot be */
            return ims_ifd_fail(ctx, EBUSY, "IOAS_UNMAP: a mapping is still being unmapped by another command");
    } else {
        if (cmd->iova >= UINT64_MAX || cmd->length >= UINT64_MAX)
            return ims_ifd_fail(ctx, EOVERFLOW, "IOAS_UNMAP: iova or length too large");
        if (!cmd->length)
            return ims_ifd_fail(ctx, EINVAL, "IOAS_UNMAP: length 0");
        uint64_t last;
        if (__builtin_add_overflow(cmd->iova, cmd->length - 1, &last))
            return ims_ifd_fail(ctx, EOVERFLOW, "IOAS_UNMAP: range overflows");
        int rc = unmap_range(c, ioas, cmd->iova, last, &unmapped);
        if (rc)
            return ims_ifd_fail(ctx, -rc, "IOAS_UNMAP: a mapping is %s [0x%llx, 0x%llx]",
                                rc == -EBUSY ? "still being unmapped by another command in" : "only partly inside",
                                (unsigned long long)cmd->iova, (unsigned long long)last);
        if (!unmapped)
            return ims_ifd_fail(ctx, ENOENT, "IOAS_UNMAP: nothing mapped in [0x%llx, 0x%llx]",
                                (unsigned long long)cmd->iova, (unsigned long long)last);
    }
    cmd->length = unmapped;
    c->respond = true;
    return 0;
}

int ims_ifd_cmd_ioas_copy(ims_ifd_call *c)
{
    ims_iommu_ioas_copy *cmd = c->cmd;
    ims_iommufd *ctx = c->ctx;
    if (cmd->flags & ~MAP_FLAGS)
        return ims_ifd_fail(ctx, EOPNOTSUPP, "IOAS_COPY: flags 0x%x", cmd->flags);
    if (cmd->length >= UINT64_MAX || cmd->src_iova >= UINT64_MAX || cmd->dst_iova >= UINT64_MAX)
        return ims_ifd_fail(ctx, EOVERFLOW, "IOAS_COPY: value too large");
    if (!(cmd->flags & MAP_RW))
        return ims_ifd_fail(ctx, EINVAL, "IOAS_COPY: neither readable nor writeable");
    ims_ifd_ioas *src = get_ioas(c, cmd->src_ioas_id, "IOAS_COPY");
    if (!src)
        return -ENOENT;
    uint64_t last;
    if (!cmd->length)
        return ims_ifd_fail(ctx, EINVAL, "IOAS_COPY: length 0");
    if (__builtin_add_overflow(cmd->src_iova, cmd->length - 1, &last))
        return ims_ifd_fail(ctx, EOVERFLOW, "IOAS_COPY: source range overflows");
    if (!ims_ifd_ioas_contiguous(src, cmd->src_iova, last))
        return ims_ifd_fail(ctx, ENOENT, "IOAS_COPY: source range is not fully mapped");
    size_t n = 0;
    for (const ims_ifd_area *a = live_first(src, cmd->src_iova, last); a && a->iova <= last; a = live_next(src, a))
        n++;
    ifd_piece *p = calloc(n, sizeof *p);
    if (!p)
        return -ENOMEM;
    uint64_t cur = cmd->src_iova;
    n = 0;
    for (const ims_ifd_area *a = live_first(src, cmd->src_iova, last); a && a->iova <= last;
         a = live_next(src, a)) {
        uint64_t l = a->last < last ? a->last : last;
        p[n++] = (ifd_piece){.pa = a->pa + (cur - a->iova), .len = l - cur + 1};
        cur = l + 1;
    }
    ims_ifd_ioas *dst = get_ioas(c, cmd->dst_ioas_id, "IOAS_COPY");
    int rc = -ENOENT;
    uint64_t iova = cmd->dst_iova;
    if (dst)
        rc = map_pieces(c, dst, p, n, cmd->length, &iova, map_prot(cmd->flags),
                        !(cmd->flags & IMS_IOMMU_IOAS_MAP_FIXED_IOVA));
    free(p);
    if (rc)
        return ctx->err.code ? rc : ims_ifd_fail(ctx, -rc, "IOAS_COPY: cannot place the copy");
    cmd->dst_iova = iova;
    c->respond = true;
    return 0;
}

/* Huge pages only change the IOVA alignment here: the driver interface has
 * no page-size hint. */
int ims_ifd_ioas_option_huge_pages(ims_ifd_call *c, ims_iommu_option *cmd)
{
    ims_iommufd *ctx = c->ctx;
    ims_ifd_ioas *ioas = get_ioas(c, cmd->object_id, "OPTION HUGE_PAGES");
    if (!ioas)
        return -ENOENT;
    if (cmd->op == IMS_IOMMU_OPTION_OP_GET) {
        cmd->val64 = !ioas->huge_pages_off;
        return 0;
    }
    if (cmd->op != IMS_IOMMU_OPTION_OP_SET)
        return ims_ifd_fail(ctx, EOPNOTSUPP, "OPTION: op %u", cmd->op);
    if (cmd->val64 > 1)
        return ims_ifd_fail(ctx, EINVAL, "OPTION HUGE_PAGES: value %llu", (unsigned long long)cmd->val64);
    if (cmd->val64 == 1) {
        ioas->huge_pages_off = false;
        (void)ioas_recalc_alignment(ioas); /* shrinking cannot fail */
        return 0;
    }
    if (ioas->huge_pages_off)
        return 0;
    if (ioas->ndomains && ioas->nareas)
        return ims_ifd_fail(ctx, EINVAL, "OPTION HUGE_PAGES: domains already hold mappings");
    ioas->huge_pages_off = true;
    int rc = ioas_recalc_alignment(ioas);
    if (rc) {
        ioas->huge_pages_off = false;
        return ims_ifd_fail(ctx, -rc, "OPTION HUGE_PAGES: a mapping is not page aligned");
    }
    return 0;
}

/* ---- inspection --------------------------------------------------------- */

int ims_iommufd_ioas_translate(const ims_iommufd *ctx, uint32_t ioas_id, uint64_t iova, uint64_t *hpa,
                               unsigned *prot)
{
    const ims_ifd_ioas *ioas = (const ims_ifd_ioas *)ims_ifd_obj_get(ctx, ioas_id, IMS_IOMMUFD_OBJ_IOAS);
    const ims_ifd_area *a = ioas ? live_first(ioas, iova, iova) : NULL;
    if (!a)
        return -ENOENT;
    if (hpa)
        *hpa = a->pa + (iova - a->iova);
    if (prot)
        *prot = a->prot;
    return 0;
}
