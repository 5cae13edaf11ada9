/* Configuration keys of the VT-d translation caches. Sizes and organisation of
 * these caches are implementation-specific and unpublished (vtd-facts §5.1 ⚠);
 * each default cites what it rests on. PSC level N holds the non-leaf entries
 * read from level-N tables (level 1 = the 4 KiB leaf table), so psc.*.l2 is
 * the PDE cache, l3 PDPE, l4 PML4E, l5 PML5E (docs/caches.md). */
#include "models/vtd/cache_config.h"

#include <stdio.h>

#define ENTRIES_MAX (1u << 20)

/* The three keys every cache has. */
#define CACHE_KEYS(prefix, what, def_entries, def_ways, src)                                            \
    {                                                                                                   \
        .name = prefix ".entries", .type = IMS_CFG_INT, .def = def_entries, .min = 0, .max = ENTRIES_MAX, \
        .unit = "entries", .help = what ": number of entries (0 switches the cache off)", .source = src, \
    },                                                                                                  \
    {                                                                                                   \
        .name = prefix ".ways", .type = IMS_CFG_INT, .def = def_ways, .min = 1, .max = ENTRIES_MAX,      \
        .unit = "ways", .help = what ": associativity; must divide entries (ways = entries: fully associative)", \
        .source = "model choice: organisation is not published (vtd-facts §5.1)",                      \
    },                                                                                                  \
    {                                                                                                   \
        .name = prefix ".policy", .type = IMS_CFG_ENUM, .def = "lru", .choices = IMS_SAC_POLICY_CHOICES, \
        .help = what ": replacement policy (rr = round-robin per set; random uses sim.seed)",           \
        .source = "model choice: replacement policy is not published (vtd-facts §5.1)",                \
    }

#define SRC_PDE "Rubin et al., SOSP 2024 §2.2 fn. 3: the PDE cache is likely 64-128 entries (lower end taken)"
#define SRC_UPPER "model choice: upper levels cover 512x more space per entry, so few entries suffice"

const ims_cfg_key ims_vtd_cache_cfg_keys[] = {
    CACHE_KEYS("iotlb", "IOTLB (leaf translations of every page size)", "64", "4",
               "model choice: 64 entries matches the IOTLB reach (256 KiB of 4 KiB pages) that pcie-bench "
               "(Neugebauer et al., SIGCOMM 2018) observed on Xeon E5; recalled, not re-verified; vendors "
               "publish no size"),
    {
        .name = "iotlb.cache_nested_ss",
        .type = IMS_CFG_BOOL,
        .def = "true",
        .help = "cache the SS translations that locate nested first-stage tables as SS-only IOTLB entries",
        .source = "model choice: the spec lets hardware cache SS mappings used by nested walks; "
                  "the timing pipeline consults this key",
    },
    CACHE_KEYS("ctxc", "context cache (per source ID)", "32", "4",
               "model choice: one entry per recently active device function; size unpublished"),
    CACHE_KEYS("pasidc", "PASID cache (per source ID and PASID)", "64", "4",
               "model choice: size unpublished"),
    CACHE_KEYS("psc.fs.l2", "first-stage PDE cache", "64", "4", SRC_PDE),
    CACHE_KEYS("psc.fs.l3", "first-stage PDPE cache", "16", "4", SRC_UPPER),
    CACHE_KEYS("psc.fs.l4", "first-stage PML4E cache", "4", "4", SRC_UPPER),
    CACHE_KEYS("psc.fs.l5", "first-stage PML5E cache", "2", "2", SRC_UPPER),
    CACHE_KEYS("psc.ss.l2", "second-stage PDE cache", "64", "4", SRC_PDE),
    CACHE_KEYS("psc.ss.l3", "second-stage PDPE cache", "16", "4", SRC_UPPER),
    CACHE_KEYS("psc.ss.l4", "second-stage PML4E cache", "4", "4", SRC_UPPER),
    CACHE_KEYS("psc.ss.l5", "second-stage PML5E cache", "2", "2", SRC_UPPER),
    {.name = NULL},
};

int ims_vtd_cache_geom(const ims_config *cfg, const char *prefix, ims_sac_geom *g, ims_error *err)
{
    char k[96];
    snprintf(k, sizeof k, "%s.entries", prefix);
    g->entries = (uint32_t)ims_config_u64(cfg, k);
    snprintf(k, sizeof k, "%s.ways", prefix);
    g->ways = (uint32_t)ims_config_u64(cfg, k);
    snprintf(k, sizeof k, "%s.policy", prefix);
    g->policy = (ims_sac_policy)ims_config_enum(cfg, k);
    if (g->ways == 0 || g->entries % g->ways != 0)
        return ims_errorf(err, EINVAL, "%s.ways (%u) must divide %s.entries (%u)", prefix, g->ways, prefix,
                          g->entries);
    return 0;
}

bool ims_vtd_cache_nested_ss(const ims_config *cfg) { return ims_config_bool(cfg, "iotlb.cache_nested_ss"); }
