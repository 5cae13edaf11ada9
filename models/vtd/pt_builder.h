/* Builds first-stage and second-stage page tables in simulated memory, in the
 * architected formats of pte.h: map/unmap ranges with 4 KiB, 2 MiB or 1 GiB
 * pages, intermediate tables allocated on demand, plus software lookup and
 * enumeration (for tests and for the host/guest models that own the tables).
 *
 * Table addresses: by default entries name tables by their HPA. A guest's
 * first-stage tables live in guest memory and name each other by GPA; for that
 * either give an offset (GPA = HPA - offset, guest RAM linear in host memory)
 * or hooks that allocate a table and convert a table address to the HPA the
 * builder reads and writes. Tables are never freed (unmap leaves empty tables). */
#ifndef IMS_VTD_PT_BUILDER_H
#define IMS_VTD_PT_BUILDER_H

#include <stdbool.h>
#include <stdint.h>

#include "models/mem/pa_alloc.h"
#include "models/mem/physmem.h"
#include "sim/err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ims_pt_format {
    IMS_PT_FORMAT_FS = 1,  /* first stage (IA-32e): 4 or 5 levels */
    IMS_PT_FORMAT_SS = 2,  /* second stage: 3, 4 or 5 levels */
} ims_pt_format;

/* Leaf permissions/attributes for ims_pt_map. */
#define IMS_PT_R    (1u << 0)  /* SS: R. FS: implied by presence */
#define IMS_PT_W    (1u << 1)  /* SS: W. FS: R/W */
#define IMS_PT_X    (1u << 2)  /* SS: X. FS: ignored */
#define IMS_PT_U    (1u << 3)  /* FS: U/S (user accessible). SS: ignored */
#define IMS_PT_SNP  (1u << 4)  /* SS: SNP. FS: ignored */
#define IMS_PT_AD   (1u << 5)  /* pre-set A and D on the leaf (and A on new tables) */
#define IMS_PT_RW   (IMS_PT_R | IMS_PT_W)

/* Hooks for tables that live in another address space (a guest's GPAs). */
typedef struct ims_pt_space {
    /* Allocate one zeroed 4 KiB table; return its address as entries name it, 0 when out of memory. */
    uint64_t (*alloc)(void *opaque);
    /* Convert a table address as entries name it to the HPA holding it. */
    uint64_t (*to_hpa)(void *opaque, uint64_t table_addr);
    void *opaque;
} ims_pt_space;

typedef struct ims_pt_builder {
    ims_physmem *mem;
    ims_pa_alloc *alloc;     /* host pages for tables (unused with custom hooks) */
    ims_pt_format format;
    unsigned levels;
    uint64_t offset;         /* table address = HPA - offset */
    ims_pt_space space;      /* custom hooks, when space.alloc != NULL */
    uint64_t root;           /* root table address as entries name it: program SSPTPTR/FSPTPTR with it */
    uint64_t tables;         /* tables allocated, including the root */
} ims_pt_builder;

/* Set up a builder and allocate its root table from `alloc` (HPA == table
 * address unless an offset is given: pass 0 for host tables). Returns 0,
 * -EINVAL for a bad format/level count, -ENOMEM when `alloc` is exhausted. */
int ims_pt_builder_init(ims_pt_builder *b, ims_physmem *mem, ims_pa_alloc *alloc, ims_pt_format format,
                        unsigned levels, uint64_t offset, ims_error *err);
/* Same with custom allocation/translation hooks (alloc unused). */
int ims_pt_builder_init_space(ims_pt_builder *b, ims_physmem *mem, const ims_pt_space *space,
                              ims_pt_format format, unsigned levels, ims_error *err);

/* HPA of a table named `table_addr`. */
uint64_t ims_pt_table_hpa(const ims_pt_builder *b, uint64_t table_addr);

/* Map [iova, iova+size) to [pa, pa+size) with pages of `page_size` (4 KiB,
 * 2 MiB or 1 GiB; iova, pa and size aligned to it), leaf permissions `perm`
 * (IMS_PT_*). Non-leaf entries grant everything (SS R|W|X, FS P|R/W|U/S): the
 * leaves decide. Returns 0; -EINVAL for bad alignment/size or an iova beyond
 * the table's width; -EEXIST if any part is already mapped or a large page
 * would replace a table (nothing changed); -ENOMEM when tables run out (the
 * pages mapped by this call are removed again). */
int ims_pt_map(ims_pt_builder *b, uint64_t iova, uint64_t pa, uint64_t size, uint64_t page_size, unsigned perm,
               ims_error *err);

/* Remove every leaf inside [iova, iova+size) (4 KiB aligned). Holes are
 * skipped; a leaf only partly inside the range is -EINVAL (nothing changed).
 * Returns the bytes unmapped (>= 0) or a negative errno. */
int64_t ims_pt_unmap(ims_pt_builder *b, uint64_t iova, uint64_t size, ims_error *err);

/* One leaf as software sees it. */
typedef struct ims_pt_mapping {
    uint64_t iova;       /* base of the page */
    uint64_t pa;         /* base of the output page */
    uint64_t page_size;
    unsigned perm;       /* IMS_PT_* decoded from the leaf (IMS_PT_R always set for FS) */
    unsigned level;      /* leaf level */
    uint64_t pte;        /* raw leaf entry */
    uint64_t pte_hpa;    /* where the leaf lives */
} ims_pt_mapping;

/* Software walk of `iova`: 0 and *m filled, or -ENOENT. */
int ims_pt_lookup(const ims_pt_builder *b, uint64_t iova, ims_pt_mapping *m);

/* HPA of the entry for `iova` at `level`, following present non-leaf entries
 * from the root: 0 and *hpa, or -ENOENT when the walk stops above `level`.
 * Lets tests patch single entries. */
int ims_pt_entry_hpa(const ims_pt_builder *b, uint64_t iova, unsigned level, uint64_t *hpa);

/* Visit every leaf in ascending iova order; stops early and returns the
 * callback's value when it is non-zero. */
typedef int (*ims_pt_visit_fn)(void *opaque, const ims_pt_mapping *m);
int ims_pt_foreach(const ims_pt_builder *b, ims_pt_visit_fn fn, void *opaque);

#ifdef __cplusplus
}
#endif
#endif
