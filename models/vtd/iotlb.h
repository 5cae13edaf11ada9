/* The IOTLB: cached leaf translations (input page -> host-physical page plus
 * permissions) of every page size in one set-associative structure.
 *
 * Tag (what a lookup and an invalidation match), vtd-facts §5.1:
 *   DID, PASID-or-none, page number at the entry's own page size, page size.
 * Entries from second-stage-only translations (PGTT=010b, and legacy mode)
 * are NOT tagged by PASID: their PASID field is IMS_IOTLB_NO_PASID, so every
 * PASID of the domain shares them (vtd-facts §5.1 ⚠, Linux comment "SS cache
 * entries are not tagged by PASID"). First-stage, nested and pass-through
 * entries carry the PASID (the request's, or RID_PASID without PASID).
 * The source PGTT is payload, not tag; it decides which invalidations apply.
 *
 * Indexing: set = page number (address >> page shift of the entry's size)
 * modulo the number of sets. A lookup probes 4 KiB, then 2 MiB, then 1 GiB
 * (at most 3 probes), skipping sizes the cache holds no entry of; the first
 * hit wins. Hardware probes the sizes in parallel, so the timing pipeline
 * charges ONE lookup latency per ims_iotlb_lookup call whatever the probe
 * count ("iotlb.probes" reports it).
 *
 * Invalidations are named after the architected operations (vtd-facts §4.3,
 * §4.7); each returns how many entries it removed. IH never protects IOTLB
 * entries (they are leaves); it is accepted so callers pass descriptor fields
 * unchanged. Statistics: iotlb.lookups, .hits, .misses, .probes, .inserts,
 * .evictions, .invalidated. */
#ifndef IMS_VTD_IOTLB_H
#define IMS_VTD_IOTLB_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/vtd/translate.h"
#include "sim/config.h"
#include "sim/sacache.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMS_IOTLB_NO_PASID UINT32_C(0xFFFFFFFF) /* PASIDs are 20 bits: never a real value */
#define IMS_VTD_PASID_MASK UINT32_C(0xFFFFF)

typedef enum ims_iotlb_psize {
    IMS_IOTLB_4K = 0,
    IMS_IOTLB_2M = 1,
    IMS_IOTLB_1G = 2,
} ims_iotlb_psize;
#define IMS_IOTLB_NSIZES 3

static inline unsigned ims_iotlb_psize_shift(ims_iotlb_psize s) { return 12u + 9u * (unsigned)s; }

typedef struct ims_iotlb_entry {
    uint64_t iova;   /* input page base: IOVA, GVA or GPA, aligned to the page size */
    uint64_t hpa;    /* output page base, aligned to the page size */
    uint32_t pasid;  /* tag PASID; IMS_IOTLB_NO_PASID for SS-only entries (set by insert) */
    uint16_t did;
    uint8_t psize;   /* ims_iotlb_psize */
    uint8_t pgtt;    /* ims_vtd_pgtt of the translation that filled it */
    bool r, w, x;    /* effective permissions */
    bool snp;        /* second-stage leaf SNP: force snoop */
    bool pgsnp;      /* PASID-entry PGSNP: force snoop on the final access */
} ims_iotlb_entry;

typedef struct ims_iotlb_params {
    ims_sac_geom geom;
    ims_rng *rng;      /* for the random policy */
    ims_stats *stats;  /* optional: registers "iotlb.*" */
} ims_iotlb_params;

typedef struct ims_iotlb ims_iotlb;

/* Naturally aligned 2^AM-page range of a page-selective invalidation
 * (vtd-facts §4.3, §5.2): low address bits below the range size are ignored;
 * AM >= 52 covers the whole 64-bit space. Inclusive bounds. */
static inline void ims_vtd_am_range(uint64_t addr, unsigned am, uint64_t *first, uint64_t *last)
{
    unsigned bits = 12u + am;
    if (bits >= 64) {
        *first = 0;
        *last = UINT64_MAX;
        return;
    }
    uint64_t size = UINT64_C(1) << bits;
    *first = addr & ~(size - 1);
    *last = *first + (size - 1);
}

/* The PASID an entry or lookup is tagged with: none for SS-only translations. */
static inline uint32_t ims_iotlb_tag_pasid(ims_vtd_pgtt pgtt, uint32_t pasid)
{
    return pgtt == IMS_VTD_PGTT_SS ? IMS_IOTLB_NO_PASID : (pasid & IMS_VTD_PASID_MASK);
}

int ims_iotlb_create(const ims_iotlb_params *p, ims_iotlb **out, ims_error *err);
/* From iotlb.entries / .ways / .policy. */
int ims_iotlb_create_cfg(const ims_config *cfg, ims_rng *rng, ims_stats *stats, ims_iotlb **out,
                         ims_error *err);
void ims_iotlb_destroy(ims_iotlb *t);

/* Look up the translation of addr for a request whose context says (did,
 * pgtt, pasid). NULL on a miss; the pointer is valid until the next insert or
 * invalidation. Inline: see the end of this header. */
static inline const ims_iotlb_entry *ims_iotlb_lookup(ims_iotlb *t, uint16_t did, ims_vtd_pgtt pgtt,
                                                      uint32_t pasid, uint64_t addr);
/* The same without statistics or LRU update (checker, tests). */
const ims_iotlb_entry *ims_iotlb_peek(const ims_iotlb *t, uint16_t did, ims_vtd_pgtt pgtt, uint32_t pasid,
                                      uint64_t addr);

/* Cache a translation. iova/hpa are aligned down to the page size and the
 * PASID tag is derived from pgtt. Returns an IMS_SAC_* insert outcome.
 * Inline (end of this header): walks fill one or more entries each. */
static inline int ims_iotlb_insert(ims_iotlb *t, const ims_iotlb_entry *e);

/* ---- invalidation (return: entries removed) ------------------------------- */

/* Type 2 G=01 (and SRTP with ESRTPS): everything. */
size_t ims_iotlb_inv_global(ims_iotlb *t);
/* Type 2 G=10 domain-selective: every entry with the DID. */
size_t ims_iotlb_inv_domain(ims_iotlb *t, uint16_t did);
/* Type 2 G=11 page-selective-within-domain: entries of the DID that are
 * SS-only or pass-through and overlap the 2^AM-page range, plus ALL
 * first-stage and nested entries of the DID regardless of address (VT-d 5.10
 * §6.5.2.3 and Table 23, which name PGTT=100b beside 010b). In legacy mode
 * every entry is SS or PT, so the same rule is the legacy one. */
size_t ims_iotlb_inv_page(ims_iotlb *t, uint16_t did, uint64_t addr, unsigned am, bool ih);
/* Type 6 G=10 PASID-selective: FS, nested and pass-through entries with
 * (DID, PASID), and EVERY SS-only entry of the DID. VT-d 5.10 Table 24 lists
 * PGTT=010b entries as invalidated by (DID, PASID); ours carry no PASID tag,
 * so all of the DID's go (coarser, which §6.5.2.4 allows). */
size_t ims_iotlb_inv_pasid(ims_iotlb *t, uint16_t did, uint32_t pasid);
/* Type 6 G=11 PASID page-selective: FS and nested entries with (DID, PASID)
 * overlapping the range; never SS-only or pass-through (Table 24: "NA"). */
size_t ims_iotlb_inv_pasid_page(ims_iotlb *t, uint16_t did, uint32_t pasid, uint64_t addr, unsigned am,
                                bool ih);

/* ---- inspection ---------------------------------------------------------- */

uint32_t ims_iotlb_count(const ims_iotlb *t);
void ims_iotlb_foreach(const ims_iotlb *t, void (*fn)(const ims_iotlb_entry *e, void *arg), void *arg);
const ims_sacache *ims_iotlb_cache(const ims_iotlb *t);

typedef enum ims_iotlb_stat {
    IMS_IOTLB_LOOKUPS = 0,
    IMS_IOTLB_HITS,
    IMS_IOTLB_MISSES,
    IMS_IOTLB_PROBES,
    IMS_IOTLB_INSERTS,
    IMS_IOTLB_EVICTIONS,
    IMS_IOTLB_INVALIDATED,
    IMS_IOTLB_NSTATS,
} ims_iotlb_stat;
/* Counter value in the current statistics phase. */
uint64_t ims_iotlb_stat_value(const ims_iotlb *t, ims_iotlb_stat s);

/* ---- internals, visible so that the lookup inlines ----------------------- */

/* The engine stores a 16-byte key (page number; DID | tag PASID << 16 | page
 * size << 48) and the whole ims_iotlb_entry as payload. nsize lets a lookup
 * skip page sizes the cache holds nothing of. */
struct ims_iotlb {
    ims_sacache *c;
    uint32_t nsize[IMS_IOTLB_NSIZES]; /* valid entries per page size */
    ims_counter own[IMS_IOTLB_NSTATS];
    ims_counter *ctr[IMS_IOTLB_NSTATS];
};

static inline uint64_t ims_iotlb_key_tag(uint16_t did, uint32_t tag_pasid, ims_iotlb_psize ps)
{
    return (uint64_t)did | ((uint64_t)tag_pasid << 16) | ((uint64_t)ps << 48);
}

static inline const ims_iotlb_entry *ims_iotlb_lookup(ims_iotlb *t, uint16_t did, ims_vtd_pgtt pgtt,
                                                      uint32_t pasid, uint64_t addr)
{
    ims_counter_inc(t->ctr[IMS_IOTLB_LOOKUPS]);
    uint64_t tag = ims_iotlb_key_tag(did, ims_iotlb_tag_pasid(pgtt, pasid), IMS_IOTLB_4K);
    for (int ps = IMS_IOTLB_4K; ps < IMS_IOTLB_NSIZES; ps++) {
        if (t->nsize[ps]) {
            ims_counter_inc(t->ctr[IMS_IOTLB_PROBES]);
            uint64_t pn = addr >> ims_iotlb_psize_shift((ims_iotlb_psize)ps);
            const ims_iotlb_entry *e = (const ims_iotlb_entry *)ims_sac_lookup2(
                t->c, ims_sac_set_of(t->c, pn), pn, tag | ((uint64_t)ps << 48));
            if (e) {
                ims_counter_inc(t->ctr[IMS_IOTLB_HITS]);
                return e;
            }
        }
    }
    ims_counter_inc(t->ctr[IMS_IOTLB_MISSES]);
    return NULL;
}

static inline int ims_iotlb_insert(ims_iotlb *t, const ims_iotlb_entry *in)
{
    assert(in->psize < IMS_IOTLB_NSIZES);
    assert(in->pgtt >= IMS_VTD_PGTT_FS && in->pgtt <= IMS_VTD_PGTT_PT);
    ims_iotlb_entry e = *in;
    uint64_t mask = (UINT64_C(1) << ims_iotlb_psize_shift((ims_iotlb_psize)e.psize)) - 1;
    e.iova &= ~mask;
    e.hpa &= ~mask;
    e.pasid = ims_iotlb_tag_pasid((ims_vtd_pgtt)e.pgtt, e.pasid);
    uint64_t pn = e.iova >> ims_iotlb_psize_shift((ims_iotlb_psize)e.psize);
    uint64_t tag = ims_iotlb_key_tag(e.did, e.pasid, (ims_iotlb_psize)e.psize);
    int what;
    uint64_t ev[2] = {0, 0};
    ims_iotlb_entry *slot = (ims_iotlb_entry *)ims_sac_insert_slot2(t->c, ims_sac_set_of(t->c, pn), pn, tag,
                                                                    &what, ev);
    if (slot)
        *slot = e;
    if (what == IMS_SAC_EVICTED) {
        t->nsize[(ev[1] >> 48) & 3u]--; /* the evicted key's page size */
        ims_counter_inc(t->ctr[IMS_IOTLB_EVICTIONS]);
    }
    if (what == IMS_SAC_EVICTED || what == IMS_SAC_FILLED)
        t->nsize[e.psize]++;
    if (what != IMS_SAC_DROPPED)
        ims_counter_inc(t->ctr[IMS_IOTLB_INSERTS]);
    return what;
}

#ifdef __cplusplus
}
#endif
#endif
