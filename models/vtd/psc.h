/* Paging-structure caches (PSCs): cached non-leaf paging entries, one
 * set-associative cache per stage (first, second) and table level.
 *
 * Level naming: PSC level N holds entries read from level-N tables, level 1
 * being the 4 KiB leaf table. So l2 = PDE cache, l3 = PDPE, l4 = PML4E,
 * l5 = PML5E. A level-N entry covers 2^(3+9N) bytes of input space (2 MiB for
 * N=2) and gives the HPA of the level-(N-1) table, so a hit lets the walker
 * skip the reads of levels top..N. Leaves (PTEs and large-page PDE/PDPEs) go
 * to the IOTLB, never here.
 *
 * Tags (vtd-facts §5.1): first stage DID + PASID + input-address bits above
 * the level's coverage; second stage DID + address bits. In nested mode an
 * FS entry's next-table address is the SS-translated HPA, which is why a
 * type-2 invalidation of the nested DID must drop FS entries too.
 *
 * Indexing: set = (address >> coverage shift) modulo the level's sets.
 * ims_psc_lookup_deepest probes l2 first, then l3 ... up to the walk's top
 * level, and stops at the first hit; so the counters "psc.fs.l3.lookups/hits"
 * count only probes made after an l2 miss (conditional hit rates).
 *
 * What each invalidation removes (VT-d 5.10 §6.5.2.3/§6.5.2.4, Tables 23 and
 * 24): see the functions below and the table in docs/caches.md. IH=1 keeps
 * only what the hint names: SS entries for type 2, FS entries for type 6.
 * Statistics per stage and level: psc.{fs,ss}.l{2..5}.{lookups,hits,misses,
 * inserts,evictions,invalidated}. */
#ifndef IMS_VTD_PSC_H
#define IMS_VTD_PSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/vtd/iotlb.h" /* IMS_VTD_PASID_MASK */
#include "sim/config.h"
#include "sim/sacache.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ims_psc_stage {
    IMS_PSC_FS = 0,
    IMS_PSC_SS = 1,
} ims_psc_stage;

#define IMS_PSC_MIN_LEVEL 2u
#define IMS_PSC_MAX_LEVEL 5u
#define IMS_PSC_NLEVELS 4u

/* Accumulated permissions over this entry and the entries above it:
 * FS: W = AND of R/W, U = AND of U/S, X = no XD; R always (present).
 * SS: R, W, X = AND of the R, W, X bits. */
#define IMS_PSC_R 0x1u
#define IMS_PSC_W 0x2u
#define IMS_PSC_X 0x4u
#define IMS_PSC_U 0x8u

/* Bytes of input space one level-N entry covers: 2^(3 + 9N). */
static inline unsigned ims_psc_level_shift(unsigned level) { return 3u + 9u * level; }

typedef struct ims_psc_entry {
    uint64_t base;        /* first input address covered (low shift bits cleared by insert) */
    uint64_t next_table;  /* HPA of the level-(level-1) table */
    uint32_t pasid;       /* FS: PASID (20 bits); SS: ignored, stored as 0 */
    uint16_t did;
    uint8_t stage;        /* ims_psc_stage */
    uint8_t level;        /* 2..5 */
    uint8_t perm;         /* IMS_PSC_* */
} ims_psc_entry;

typedef struct ims_psc_params {
    ims_sac_geom geom[2][IMS_PSC_NLEVELS];  /* [stage][level - 2] */
    ims_rng *rng;
    ims_stats *stats;
} ims_psc_params;

typedef struct ims_psc ims_psc;

int ims_psc_create(const ims_psc_params *p, ims_psc **out, ims_error *err);
/* From psc.{fs,ss}.l{2..5}.{entries,ways,policy}. */
int ims_psc_create_cfg(const ims_config *cfg, ims_rng *rng, ims_stats *stats, ims_psc **out, ims_error *err);
void ims_psc_destroy(ims_psc *p);

/* Probe one level. pasid is ignored for the second stage. */
const ims_psc_entry *ims_psc_lookup(ims_psc *p, ims_psc_stage st, unsigned level, uint16_t did, uint32_t pasid,
                                    uint64_t addr);
/* The deepest hit among levels 2..min(top_level, 5) (top_level = the walk's
 * level count: 3, 4 or 5), probing deepest first; NULL if none. Inline (see
 * the end of this header): every walk probes. */
static inline const ims_psc_entry *ims_psc_lookup_deepest(ims_psc *p, ims_psc_stage st, uint16_t did,
                                                          uint32_t pasid, uint64_t addr, unsigned top_level);
/* Cache a non-leaf entry (stage and level taken from e). Returns an IMS_SAC_*
 * insert outcome. */
int ims_psc_insert(ims_psc *p, const ims_psc_entry *e);
/* The same from the entry's fields (no ims_psc_entry to build), inline for
 * the walk fills. */
static inline int ims_psc_fill(ims_psc *p, ims_psc_stage st, unsigned level, uint16_t did, uint32_t pasid,
                               uint64_t addr, uint64_t next_table, uint8_t perm);

/* ---- invalidation (return: entries removed over all stages and levels) ---- */

/* Global (type 2 G=01, type 6 is never global). */
size_t ims_psc_inv_global(ims_psc *p);
/* Type 2 domain-selective: FS and SS entries of the DID. */
size_t ims_psc_inv_domain(ims_psc *p, uint16_t did);
/* Type 2 page-selective (VT-d 5.10 §6.5.2.3, Table 23): every FS entry of the
 * DID, whatever IH says (the hint only covers second-stage entries, and this
 * granularity drops all FS/nested state of the DID regardless of address);
 * with IH=0 also the SS entries of the DID overlapping the 2^AM-page range,
 * with IH=1 no SS entry. */
size_t ims_psc_inv_page(ims_psc *p, uint16_t did, uint64_t addr, unsigned am, bool ih);
/* Type 6 G=10: FS entries with (DID, PASID). SS entries are untouched. */
size_t ims_psc_inv_pasid(ims_psc *p, uint16_t did, uint32_t pasid);
/* Type 6 G=11: IH=1 removes nothing; IH=0 removes FS entries with (DID, PASID)
 * overlapping the range. SS entries are untouched. */
size_t ims_psc_inv_pasid_page(ims_psc *p, uint16_t did, uint32_t pasid, uint64_t addr, unsigned am, bool ih);

/* ---- inspection ---------------------------------------------------------- */

uint32_t ims_psc_count(const ims_psc *p, ims_psc_stage st, unsigned level);
void ims_psc_foreach(const ims_psc *p, void (*fn)(const ims_psc_entry *e, void *arg), void *arg);
const ims_sacache *ims_psc_cache(const ims_psc *p, ims_psc_stage st, unsigned level);

/* ---- internals, visible so that lookups and fills inline ------------------ */

/* One cache engine per [stage][level - 2]. Key: address >> coverage shift;
 * tag DID | PASID << 16 (PASID 0 for the second stage). The payload is the
 * whole ims_psc_entry so invalidation predicates read decoded fields. */
struct ims_psc {
    ims_sacache *c[2][IMS_PSC_NLEVELS];
};

static inline uint64_t ims_psc_key_tag(ims_psc_stage st, uint16_t did, uint32_t pasid)
{
    uint64_t p = st == IMS_PSC_FS ? (pasid & IMS_VTD_PASID_MASK) : 0;
    return (uint64_t)did | (p << 16);
}

static inline const ims_psc_entry *ims_psc_lookup_deepest(ims_psc *p, ims_psc_stage st, uint16_t did,
                                                          uint32_t pasid, uint64_t addr, unsigned top_level)
{
    unsigned top = top_level < IMS_PSC_MAX_LEVEL ? top_level : IMS_PSC_MAX_LEVEL;
    uint64_t tag = ims_psc_key_tag(st, did, pasid); /* the same at every level */
    ims_sacache *const *c = p->c[st];
    for (unsigned l = IMS_PSC_MIN_LEVEL; l <= top; l++) {
        ims_sacache *cl = c[l - IMS_PSC_MIN_LEVEL];
        uint64_t vpn = addr >> ims_psc_level_shift(l);
        const ims_psc_entry *e = (const ims_psc_entry *)ims_sac_lookup2(cl, ims_sac_set_of(cl, vpn), vpn, tag);
        if (e)
            return e;
    }
    return NULL;
}

static inline int ims_psc_fill(ims_psc *p, ims_psc_stage st, unsigned level, uint16_t did, uint32_t pasid,
                               uint64_t addr, uint64_t next_table, uint8_t perm)
{
    ims_sacache *c = p->c[st][level - IMS_PSC_MIN_LEVEL];
    unsigned shift = ims_psc_level_shift(level);
    uint64_t vpn = addr >> shift, tag = ims_psc_key_tag(st, did, pasid);
    int what;
    ims_psc_entry *e = (ims_psc_entry *)ims_sac_insert_slot2(c, ims_sac_set_of(c, vpn), vpn, tag, &what, NULL);
    if (e) {
        e->base = vpn << shift;
        e->next_table = next_table;
        e->pasid = (uint32_t)(tag >> 16);
        e->did = did;
        e->stage = (uint8_t)st;
        e->level = (uint8_t)level;
        e->perm = perm;
    }
    return what;
}

#ifdef __cplusplus
}
#endif
#endif
