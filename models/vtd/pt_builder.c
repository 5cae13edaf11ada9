/* FS/SS page-table builder (see pt_builder.h). */
#include "models/vtd/pt_builder.h"

#include "models/vtd/pte.h"

static bool is_fs(const ims_pt_builder *b) { return b->format == IMS_PT_FORMAT_FS; }

uint64_t ims_pt_table_hpa(const ims_pt_builder *b, uint64_t table_addr)
{
    if (b->space.alloc)
        return b->space.to_hpa(b->space.opaque, table_addr);
    return table_addr + b->offset;
}

static uint64_t alloc_table(ims_pt_builder *b)
{
    uint64_t addr;
    if (b->space.alloc) {
        addr = b->space.alloc(b->space.opaque);
    } else {
        uint64_t hpa = ims_pa_alloc_pages(b->alloc, 1, 0);
        addr = hpa ? hpa - b->offset : 0;
    }
    if (addr)
        b->tables++;
    return addr;
}

static int init_common(ims_pt_builder *b, ims_physmem *mem, ims_pt_format format, unsigned levels,
                       ims_error *err)
{
    b->mem = mem;
    b->format = format;
    b->levels = levels;
    b->tables = 0;
    bool ok = (format == IMS_PT_FORMAT_FS && (levels == 4 || levels == 5)) ||
              (format == IMS_PT_FORMAT_SS && levels >= 3 && levels <= 5);
    if (!ok)
        return ims_errorf(err, EINVAL, "page-table builder: %u levels is not valid for the %s format", levels,
                          format == IMS_PT_FORMAT_FS ? "first-stage" : "second-stage");
    b->root = alloc_table(b);
    if (!b->root)
        return ims_errorf(err, ENOMEM, "page-table builder: no memory for the root table");
    return 0;
}

int ims_pt_builder_init(ims_pt_builder *b, ims_physmem *mem, ims_pa_alloc *alloc, ims_pt_format format,
                        unsigned levels, uint64_t offset, ims_error *err)
{
    *b = (ims_pt_builder){ 0 };
    b->alloc = alloc;
    b->offset = offset;
    return init_common(b, mem, format, levels, err);
}

int ims_pt_builder_init_space(ims_pt_builder *b, ims_physmem *mem, const ims_pt_space *space,
                              ims_pt_format format, unsigned levels, ims_error *err)
{
    *b = (ims_pt_builder){ 0 };
    if (!space || !space->alloc || !space->to_hpa)
        return ims_errorf(err, EINVAL, "page-table builder: space hooks missing");
    b->space = *space;
    return init_common(b, mem, format, levels, err);
}

/* ---- entry encoding (pte.h bits only) ----------------------------------- */

static bool ent_present(const ims_pt_builder *b, uint64_t e)
{
    return is_fs(b) ? ims_fs_pte_p(e) : ims_ss_pte_present(e);
}

static bool ent_leaf(const ims_pt_builder *b, uint64_t e, unsigned level)
{
    if (level == 1)
        return true;
    return level <= 3 && (is_fs(b) ? ims_fs_pte_ps(e) : ims_ss_pte_ps(e));
}

static uint64_t ent_addr(const ims_pt_builder *b, uint64_t e)
{
    return is_fs(b) ? ims_fs_pte_addr(e) : ims_ss_pte_addr(e);
}

static uint64_t make_table_entry(const ims_pt_builder *b, uint64_t table, unsigned perm)
{
    uint64_t a = (perm & IMS_PT_AD) ? (is_fs(b) ? IMS_FS_PTE_A : IMS_SS_PTE_A) : 0;
    if (is_fs(b))
        return (table & IMS_PTE_ADDR_MASK) | IMS_FS_PTE_P | IMS_FS_PTE_RW | IMS_FS_PTE_US | a;
    return (table & IMS_PTE_ADDR_MASK) | IMS_SS_PTE_R | IMS_SS_PTE_W | IMS_SS_PTE_X | a;
}

static uint64_t make_leaf(const ims_pt_builder *b, uint64_t pa, unsigned level, unsigned perm)
{
    uint64_t e = pa & IMS_PTE_ADDR_MASK;
    if (is_fs(b)) {
        e |= IMS_FS_PTE_P;
        if (perm & IMS_PT_W)
            e |= IMS_FS_PTE_RW;
        if (perm & IMS_PT_U)
            e |= IMS_FS_PTE_US;
        if (level > 1)
            e |= IMS_FS_PTE_PS;
        if (perm & IMS_PT_AD)
            e |= IMS_FS_PTE_A | IMS_FS_PTE_D;
        return e;
    }
    if (perm & IMS_PT_R)
        e |= IMS_SS_PTE_R;
    if (perm & IMS_PT_W)
        e |= IMS_SS_PTE_W;
    if (perm & IMS_PT_X)
        e |= IMS_SS_PTE_X;
    if (perm & IMS_PT_SNP)
        e |= IMS_SS_PTE_SNP;
    if (level > 1)
        e |= IMS_SS_PTE_PS;
    if (perm & IMS_PT_AD)
        e |= IMS_SS_PTE_A | IMS_SS_PTE_D;
    return e;
}

static unsigned leaf_perm(const ims_pt_builder *b, uint64_t e)
{
    unsigned p = 0;
    if (is_fs(b)) {
        p |= IMS_PT_R;
        if (ims_fs_pte_rw(e))
            p |= IMS_PT_W;
        if (ims_fs_pte_us(e))
            p |= IMS_PT_U;
        if (ims_fs_pte_a(e) && ims_fs_pte_d(e))
            p |= IMS_PT_AD;
        return p;
    }
    if (ims_ss_pte_r(e))
        p |= IMS_PT_R;
    if (ims_ss_pte_w(e))
        p |= IMS_PT_W;
    if (ims_ss_pte_x(e))
        p |= IMS_PT_X;
    if (ims_ss_pte_snp(e))
        p |= IMS_PT_SNP;
    if (ims_ss_pte_a(e) && ims_ss_pte_d(e))
        p |= IMS_PT_AD;
    return p;
}

/* ---- address space -------------------------------------------------------- */

/* Whether [iova, iova+size) lies in the table's input space: below 2^width
 * for SS, within one canonical half for FS. */
static bool range_ok(const ims_pt_builder *b, uint64_t iova, uint64_t size)
{
    unsigned width = ims_pt_width(b->levels);
    uint64_t last = iova + (size - 1u);
    if (size == 0 || last < iova)
        return false;
    if (!is_fs(b))
        return (last >> width) == 0;
    uint64_t lo_top = iova >> (width - 1u), hi_top = last >> (width - 1u);
    uint64_t ones = ~0ULL >> (width - 1u);
    return (lo_top == 0 && hi_top == 0) || (lo_top == ones && hi_top == ones);
}

/* Sign-extend an FS index address (bit width-1) to a canonical address. */
static uint64_t canon(const ims_pt_builder *b, uint64_t iova)
{
    if (!is_fs(b))
        return iova;
    unsigned width = ims_pt_width(b->levels);
    if ((iova >> (width - 1u)) & 1)
        return iova | ~((1ULL << width) - 1u);
    return iova;
}

/* Walk towards `iova`: stops at a leaf, at a non-present entry, or at
 * `stop_level`. Returns the level reached, the entry's HPA and value. */
static unsigned descend(const ims_pt_builder *b, uint64_t iova, unsigned stop_level, uint64_t *pte_hpa,
                        uint64_t *pte)
{
    uint64_t table = b->root;
    for (unsigned level = b->levels;; level--) {
        *pte_hpa = ims_pt_table_hpa(b, table) + (uint64_t)ims_pt_index(iova, level) * IMS_PTE_SIZE;
        *pte = ims_physmem_r64(b->mem, *pte_hpa);
        if (level == stop_level || !ent_present(b, *pte) || ent_leaf(b, *pte, level))
            return level;
        table = ent_addr(b, *pte);
    }
}

int ims_pt_entry_hpa(const ims_pt_builder *b, uint64_t iova, unsigned level, uint64_t *hpa)
{
    if (level < 1 || level > b->levels)
        return -EINVAL;
    uint64_t pte;
    if (descend(b, iova, level, hpa, &pte) != level)
        return -ENOENT;
    return 0;
}

int ims_pt_lookup(const ims_pt_builder *b, uint64_t iova, ims_pt_mapping *m)
{
    uint64_t hpa, pte;
    unsigned level = descend(b, iova, 0, &hpa, &pte);
    if (!ent_present(b, pte) || !ent_leaf(b, pte, level))
        return -ENOENT;
    uint64_t size = ims_pt_level_size(level);
    m->iova = iova & ~(size - 1u);
    m->pa = ent_addr(b, pte) & ~(size - 1u);
    m->page_size = size;
    m->perm = leaf_perm(b, pte);
    m->level = level;
    m->pte = pte;
    m->pte_hpa = hpa;
    return 0;
}

/* ---- map / unmap ------------------------------------------------------------ */

static int map_one(ims_pt_builder *b, uint64_t iova, uint64_t pa, unsigned leaf_level, unsigned perm)
{
    uint64_t table = b->root;
    for (unsigned level = b->levels; level > leaf_level; level--) {
        uint64_t hpa = ims_pt_table_hpa(b, table) + (uint64_t)ims_pt_index(iova, level) * IMS_PTE_SIZE;
        uint64_t e = ims_physmem_r64(b->mem, hpa);
        if (!ent_present(b, e)) {
            uint64_t t = alloc_table(b);
            if (!t)
                return -ENOMEM;
            e = make_table_entry(b, t, perm);
            if (ims_physmem_w64(b->mem, hpa, e))
                return -ENOMEM;
        }
        table = ent_addr(b, e);
    }
    uint64_t hpa = ims_pt_table_hpa(b, table) + (uint64_t)ims_pt_index(iova, leaf_level) * IMS_PTE_SIZE;
    return ims_physmem_w64(b->mem, hpa, make_leaf(b, pa, leaf_level, perm)) ? -ENOMEM : 0;
}

static void clear_range(ims_pt_builder *b, uint64_t iova, uint64_t size);

int ims_pt_map(ims_pt_builder *b, uint64_t iova, uint64_t pa, uint64_t size, uint64_t page_size, unsigned perm,
               ims_error *err)
{
    unsigned leaf_level = ims_pt_level_of_size(page_size);
    if (!leaf_level || leaf_level > b->levels)
        return ims_errorf(err, EINVAL, "map: page size %#llx is not 4 KiB, 2 MiB or 1 GiB",
                          (unsigned long long)page_size);
    uint64_t mask = page_size - 1u;
    if ((iova & mask) || (pa & mask) || (size & mask) || size == 0)
        return ims_errorf(err, EINVAL, "map: iova %#llx pa %#llx size %#llx not aligned to %#llx",
                          (unsigned long long)iova, (unsigned long long)pa, (unsigned long long)size,
                          (unsigned long long)page_size);
    if (!range_ok(b, iova, size) || pa + (size - 1u) < pa)
        return ims_errorf(err, EINVAL, "map: range %#llx+%#llx is outside the %u-level table",
                          (unsigned long long)iova, (unsigned long long)size, b->levels);
    if (!is_fs(b) && !(perm & (IMS_PT_R | IMS_PT_W)))
        return ims_errorf(err, EINVAL, "map: a second-stage leaf needs R or W");

    /* Check the whole range first so a conflict changes nothing. */
    for (uint64_t off = 0; off < size; off += page_size) {
        uint64_t hpa, pte;
        unsigned level = descend(b, iova + off, leaf_level, &hpa, &pte);
        if (ent_present(b, pte))
            return ims_errorf(err, EEXIST, "map: %#llx is already mapped (level %u)",
                              (unsigned long long)(iova + off), level);
    }
    for (uint64_t off = 0; off < size; off += page_size) {
        int rc = map_one(b, iova + off, pa + off, leaf_level, perm);
        if (rc) {
            clear_range(b, iova, off + page_size);
            return ims_errorf(err, rc, "map: out of table memory at %#llx", (unsigned long long)(iova + off));
        }
    }
    return 0;
}

/* Clear the leaves found in [iova, iova+size); checked beforehand by the caller. */
static void clear_range(ims_pt_builder *b, uint64_t iova, uint64_t size)
{
    uint64_t end = iova + size;
    for (uint64_t at = iova; at < end && at >= iova;) {
        uint64_t hpa, pte;
        unsigned level = descend(b, at, 0, &hpa, &pte);
        uint64_t step = ims_pt_level_size(level);
        if (ent_present(b, pte) && ent_leaf(b, pte, level))
            ims_physmem_w64(b->mem, hpa, 0);
        at = (at & ~(step - 1u)) + step;
    }
}

int64_t ims_pt_unmap(ims_pt_builder *b, uint64_t iova, uint64_t size, ims_error *err)
{
    if ((iova & (IMS_PAGE_SIZE - 1u)) || (size & (IMS_PAGE_SIZE - 1u)) || !range_ok(b, iova, size))
        return ims_errorf(err, EINVAL, "unmap: bad range %#llx+%#llx", (unsigned long long)iova,
                          (unsigned long long)size);
    uint64_t end = iova + size, bytes = 0;
    for (uint64_t at = iova; at < end && at >= iova;) {
        uint64_t hpa, pte;
        unsigned level = descend(b, at, 0, &hpa, &pte);
        uint64_t step = ims_pt_level_size(level);
        uint64_t base = at & ~(step - 1u);
        if (ent_present(b, pte) && ent_leaf(b, pte, level)) {
            if (base < iova || base + step > end || base + step < base)
                return ims_errorf(err, EINVAL, "unmap: the %#llx-byte page at %#llx is only partly inside the range",
                                  (unsigned long long)step, (unsigned long long)base);
            bytes += step;
        }
        at = base + step;
    }
    clear_range(b, iova, size);
    return (int64_t)bytes;
}

/* ---- enumeration ------------------------------------------------------------- */

static int visit(const ims_pt_builder *b, uint64_t table, unsigned level, uint64_t base, ims_pt_visit_fn fn,
                 void *opaque)
{
    uint64_t thpa = ims_pt_table_hpa(b, table);
    for (unsigned i = 0; i < IMS_PT_ENTRIES; i++) {
        uint64_t hpa = thpa + (uint64_t)i * IMS_PTE_SIZE;
        uint64_t e = ims_physmem_r64(b->mem, hpa);
        if (!ent_present(b, e))
            continue;
        uint64_t iova = base | ((uint64_t)i << ims_pt_level_shift(level));
        if (ent_leaf(b, e, level)) {
            uint64_t size = ims_pt_level_size(level);
            ims_pt_mapping m = {
                .iova = canon(b, iova), .pa = ent_addr(b, e) & ~(size - 1u), .page_size = size,
                .perm = leaf_perm(b, e), .level = level, .pte = e, .pte_hpa = hpa,
            };
            int rc = fn(opaque, &m);
            if (rc)
                return rc;
        } else {
            int rc = visit(b, ent_addr(b, e), level - 1u, iova, fn, opaque);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int ims_pt_foreach(const ims_pt_builder *b, ims_pt_visit_fn fn, void *opaque)
{
    return visit(b, b->root, b->levels, 0, fn, opaque);
}
