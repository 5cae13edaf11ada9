/* Shadow vIOMMU (caching mode): keep a shadow IOAS equal to the guest's
 * second-stage table. On each guest invalidation the VMM walks the guest
 * table over the invalidated range in software (reading guest memory, one
 * vmm.walk_entry_ns per entry) and compares the leaves with what it mirrored
 * before (a record per leaf): a leaf that changed or vanished is unmapped, a
 * new one is mapped, one IOAS_MAP / IOAS_UNMAP per leaf as a VMM's IOMMU
 * notifier delivers them (each preceded by vmm.notify_ns). */
#include <stdlib.h>
#include <string.h>

#include "models/iommufd/iommu_driver.h"
#include "models/vmm/vmm_internal.h"
#include "models/vtd/pte.h"

/* ---- the record of mirrored leaves ------------------------------------------------ */

static uint64_t hash(uint64_t k)
{
    k ^= k >> 33;
    k *= UINT64_C(0xff51afd7ed558ccd);
    k ^= k >> 33;
    return k;
}

void ims_vmm_pmap_free_(vmm_pmap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static uint64_t *pmap_slot(const vmm_pmap *m, uint64_t iova)
{
    if (!m->cap)
        return NULL;
    for (uint64_t i = hash(iova) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == 0)
            return NULL;
        if (m->keys[i] == iova + 1)
            return &m->vals[i];
    }
}

static void pmap_put(vmm_pmap *m, uint64_t iova, uint64_t val)
{
    if (2 * (m->count + 1) > m->cap) {
        vmm_pmap n = {.cap = m->cap ? 2 * m->cap : 64};
        n.keys = calloc(n.cap, sizeof *n.keys);
        n.vals = calloc(n.cap, sizeof *n.vals);
        if (!n.keys || !n.vals)
            abort(); /* host out of memory */
        for (uint64_t i = 0; i < m->cap; i++)
            if (m->keys[i])
                pmap_put(&n, m->keys[i] - 1, m->vals[i]);
        ims_vmm_pmap_free_(m);
        *m = n;
    }
    uint64_t i = hash(iova) & (m->cap - 1);
    while (m->keys[i] && m->keys[i] != iova + 1)
        i = (i + 1) & (m->cap - 1);
    if (!m->keys[i])
        m->count++;
    m->keys[i] = iova + 1;
    m->vals[i] = val;
}

/* Linear probing deletion: shift later members of the cluster back. */
static void pmap_del(vmm_pmap *m, uint64_t iova)
{
    if (!m->cap)
        return;
    uint64_t i = hash(iova) & (m->cap - 1);
    while (m->keys[i] != iova + 1) {
        if (!m->keys[i])
            return;
        i = (i + 1) & (m->cap - 1);
    }
    m->keys[i] = 0;
    m->count--;
    for (uint64_t j = (i + 1) & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1)) {
        uint64_t k = m->keys[j], v = m->vals[j];
        m->keys[j] = 0;
        m->count--;
        pmap_put(m, k - 1, v);
    }
}

#define VAL(hpa, prot, shift) ((hpa) | ((uint64_t)(prot) << 8) | (shift))
#define VAL_HPA(v) ((v) & ~UINT64_C(0xFFF))
#define VAL_PROT(v) ((unsigned)((v) >> 8) & 3u)
#define VAL_SHIFT(v) ((unsigned)(v) & 63u)

/* ---- walking the guest table --------------------------------------------------------- */

typedef struct leaf {
    uint64_t iova, gpa;
    unsigned shift, prot;
} leaf;

typedef struct walk {
    ims_vmm *v;
    uint64_t first, last;
    leaf *l;
    size_t n, cap;
    unsigned reads;
} walk;

static void walk_table(walk *w, uint64_t table_gpa, unsigned level, uint64_t base)
{
    unsigned shift = ims_pt_level_shift(level);
    uint64_t span = UINT64_C(1) << shift;
    for (unsigned i = 0; i < 512; i++) {
        uint64_t lo = base + (uint64_t)i * span, hi = lo + span - 1;
        if (hi < w->first || lo > w->last)
            continue;
        uint64_t e = 0;
        w->reads++;
        if (!ims_vmm_read_gpa_(w->v, table_gpa + i * 8u, &e, 8) || !ims_ss_pte_present(e))
            continue;
        if (level > 1 && !ims_ss_pte_ps(e)) {
            walk_table(w, ims_ss_pte_addr(e), level - 1, lo);
            continue;
        }
        if (w->n == w->cap) {
            w->cap = w->cap ? 2 * w->cap : 64;
            leaf *n = realloc(w->l, w->cap * sizeof *n);
            if (!n)
                abort();
            w->l = n;
        }
        unsigned prot = (ims_ss_pte_r(e) ? IMS_DRV_PROT_READ : 0) | (ims_ss_pte_w(e) ? IMS_DRV_PROT_WRITE : 0);
        w->l[w->n++] = (leaf){.iova = lo, .gpa = ims_ss_pte_addr(e) & ~(span - 1), .shift = shift, .prot = prot};
    }
}

static const leaf *find_leaf(const walk *w, uint64_t iova)
{
    size_t lo = 0, hi = w->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (w->l[mid].iova < iova)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < w->n && w->l[lo].iova == iova ? &w->l[lo] : NULL;
}

static void plan_unmap(ims_vmm *v, int b, uint64_t iova, uint64_t val)
{
    vmm_act *a = ims_vmm_act_(v, ACT_SHADOW_UNMAP, v->c_notify);
    a->b = b;
    a->a = iova;
    a->len = UINT64_C(1) << VAL_SHIFT(val);
    pmap_del(&v->b[b].shadow, iova);
}

/* Mirrored leaves overlapping [first, last]: probe each 4 KiB page's 4K, 2M
 * and 1G-aligned keys for small ranges, scan the record otherwise. */
static size_t mirrored_in(const vmm_pmap *m, uint64_t first, uint64_t last, bool whole, uint64_t **out)
{
    size_t n = 0, cap = 0;
    uint64_t *r = NULL;
#define ADD(k)                                                 \
    do {                                                       \
        if (n == cap) {                                        \
            cap = cap ? 2 * cap : 16;                          \
            uint64_t *t_ = realloc(r, cap * sizeof *t_);       \
            if (!t_)                                           \
                abort();                                       \
            r = t_;                                            \
        }                                                      \
        r[n++] = (k);                                          \
    } while (0)
    uint64_t pages = whole ? UINT64_MAX : ((last - first) >> 12) + 1;
    if (!whole && pages <= 1024 && pages * 3 <= m->cap) {
        static const unsigned shifts[] = {12, 21, 30};
        for (uint64_t p = first >> 12; p <= last >> 12; p++)
            for (unsigned s = 0; s < 3; s++) {
                uint64_t k = (p << 12) & ~((UINT64_C(1) << shifts[s]) - 1);
                const uint64_t *val = pmap_slot(m, k);
                if (val && VAL_SHIFT(*val) == shifts[s]) {
                    bool dup = false;
                    for (size_t i = 0; i < n; i++)
                        dup |= r[i] == k;
                    if (!dup)
                        ADD(k);
                }
            }
    } else {
        for (uint64_t i = 0; i < m->cap; i++) {
            if (!m->keys[i])
                continue;
            uint64_t k = m->keys[i] - 1, end = k + (UINT64_C(1) << VAL_SHIFT(m->vals[i])) - 1;
            if (whole || (end >= first && k <= last))
                ADD(k);
        }
    }
#undef ADD
    *out = r;
    return n;
}

void ims_vmm_shadow_sync_(ims_vmm *v, int b, uint64_t first, uint64_t last, bool whole)
{
    vmm_binding *bd = &v->b[b];
    if (whole) {
        first = 0;
        last = UINT64_MAX;
    }
    walk w = {.v = v, .first = first, .last = last};
    unsigned levels = bd->levels >= 3 && bd->levels <= 5 ? bd->levels : 4;
    if (levels < 5) {
        uint64_t top = (UINT64_C(1) << ims_pt_width(levels)) - 1;
        if (w.last > top)
            w.last = top;
    }
    if (w.first <= w.last)
        walk_table(&w, bd->root_gpa, levels, 0);
    v->n.walk_reads += w.reads;
    if (w.reads)
        ims_vmm_act_(v, ACT_COST, w.reads * v->c_walk);

    uint64_t *keys = NULL;
    size_t nk = mirrored_in(&bd->shadow, first, last, whole, &keys);
    for (size_t i = 0; i < nk; i++) {
        const uint64_t *val = pmap_slot(&v->b[b].shadow, keys[i]);
        if (!val)
            continue;
        const leaf *l = find_leaf(&w, keys[i]);
        uint64_t hpa;
        if (l && l->shift == VAL_SHIFT(*val) && l->prot == VAL_PROT(*val) &&
            ims_vmm_gpa_to_hpa(v, l->gpa, UINT64_C(1) << l->shift, &hpa) && hpa == VAL_HPA(*val))
            continue; /* unchanged */
        plan_unmap(v, b, keys[i], *val);
    }
    free(keys);
    for (size_t i = 0; i < w.n; i++) {
        const leaf *l = &w.l[i];
        uint64_t hpa;
        if (pmap_slot(&v->b[b].shadow, l->iova))
            continue; /* kept above */
        if (!ims_vmm_gpa_to_hpa(v, l->gpa, UINT64_C(1) << l->shift, &hpa))
            continue; /* outside guest RAM: nothing the host could map (the DMA faults) */
        vmm_act *a = ims_vmm_act_(v, ACT_SHADOW_MAP, v->c_notify);
        a->b = b;
        a->a = l->iova;
        a->len = UINT64_C(1) << l->shift;
        a->hpa = hpa;
        a->prot = l->prot;
        pmap_put(&v->b[b].shadow, l->iova, VAL(hpa, l->prot, l->shift));
    }
    free(w.l);
}
