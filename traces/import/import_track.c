/* The importers' mapping tracker: what each device's address space maps now,
 * as a sorted array of non-overlapping 4 KiB-aligned ranges, plus a few
 * recently unmapped ranges ("tombstones") whose translations may still be in
 * use by a DMA issued at the same instant in an open-loop replay. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "traces/import/import_internal.h"

void imp_track_free(imp_track *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->as[i].e);
    free(t->as);
    memset(t, 0, sizeof *t);
}

imp_as *imp_track_as(imp_track *t, uint16_t sid, bool create)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->as[i].sid == sid)
            return &t->as[i];
    if (!create)
        return NULL;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 8;
        imp_as *a = realloc(t->as, cap * sizeof *a);
        if (!a)
            return NULL;
        t->as = a;
        t->cap = cap;
    }
    imp_as *a = &t->as[t->n++];
    memset(a, 0, sizeof *a);
    a->sid = sid;
    return a;
}

/* First entry whose end lies above addr (entries are sorted and disjoint, so
 * their ends are sorted too). */
static size_t first_ending_above(const imp_as *a, uint64_t addr)
{
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const imp_ent *e = &a->e[mid];
        if (e->iova + (e->len - 1) < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t imp_as_find(const imp_as *a, uint64_t addr)
{
    size_t i = first_ending_above(a, addr);
    return i < a->n && a->e[i].iova <= addr ? i : SIZE_MAX;
}

void imp_as_range(const imp_as *a, uint64_t iova, uint64_t len, size_t *first, size_t *end)
{
    size_t i = first_ending_above(a, iova), j = i;
    uint64_t last = iova + (len - 1);
    while (j < a->n && a->e[j].iova <= last)
        j++;
    *first = i;
    *end = j;
}

int imp_as_insert(imp_as *a, const imp_ent *e)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 16;
        imp_ent *n = realloc(a->e, cap * sizeof *n);
        if (!n)
            return -ENOMEM;
        a->e = n;
        a->cap = cap;
    }
    size_t i = first_ending_above(a, e->iova);
    memmove(&a->e[i + 1], &a->e[i], (a->n - i) * sizeof *a->e);
    a->e[i] = *e;
    a->n++;
    return 0;
}

void imp_as_remove(imp_as *a, size_t i)
{
    memmove(&a->e[i], &a->e[i + 1], (a->n - i - 1) * sizeof *a->e);
    a->n--;
}

void imp_as_tomb(imp_as *a, const imp_ent *e, uint64_t t)
{
    a->tomb[a->tomb_next] = (imp_tomb){e->iova, e->len, e->gpa, t, true};
    a->tomb_next = (a->tomb_next + 1) % IMP_TOMBS;
}
