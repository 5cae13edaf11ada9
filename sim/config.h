/* Typed configuration: a schema of keys (declared by each model in its own
 * table), INI files with sections, and `section.key=value` overrides.
 *
 * Every key is "section.name" (e.g. "iotlb.entries"); in an INI file it is
 * written as `name = value` under `[section]`. Values are parsed and range-
 * checked against the schema when set; an unknown key is an error that names
 * the closest known key. Nothing is silently ignored. */
#ifndef IMS_SIM_CONFIG_H
#define IMS_SIM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ims_cfg_type {
    IMS_CFG_INT,    /* unsigned integer, decimal or 0x hex */
    IMS_CFG_SIZE,   /* bytes; suffixes K, M, G, T (binary: 1K = 1024) */
    IMS_CFG_TIME,   /* stored in picoseconds; suffixes ps, ns (default), us, ms, s; decimals allowed (1.5us) */
    IMS_CFG_ENUM,   /* one word of `choices` ("lru|rr|random"); stored as its index */
    IMS_CFG_HEX,    /* unsigned 64-bit, written 0x... (register values); decimal accepted */
    IMS_CFG_BOOL,   /* true|false|1|0|yes|no|on|off */
    IMS_CFG_FLOAT,  /* double, range-checked with fmin/fmax */
    IMS_CFG_STRING, /* free text */
} ims_cfg_type;

typedef struct ims_cfg_key {
    const char *name;     /* "section.key" */
    ims_cfg_type type;
    const char *def;      /* default, as text in the key's own syntax */
    uint64_t min, max;    /* inclusive range for INT/SIZE/TIME(ps)/HEX; max 0 = no limit */
    double fmin, fmax;    /* inclusive range for FLOAT */
    const char *choices;  /* ENUM: "a|b|c" */
    const char *unit;     /* shown in dumps and docs: "entries", "ns", "bytes", "cycles" */
    const char *help;     /* one line */
    const char *source;   /* where the default comes from (citation), or "model choice" */
} ims_cfg_key;

/* A table of keys ends with an entry whose name is NULL. */
typedef struct ims_config ims_config;

/* Create a configuration holding every key of the given tables at its default.
 * Duplicate key names across tables, or a default that does not parse, is a
 * programming error reported through err (-EINVAL) and returns NULL. */
ims_config *ims_config_create(const ims_cfg_key *const *tables, size_t ntables, ims_error *err);
void ims_config_destroy(ims_config *c);

/* Set one key from text. `origin` names where the value came from for messages
 * ("file.ini:12", "--set"). Errors (-EINVAL, -ERANGE, -ENOENT for unknown keys
 * with a "did you mean" suggestion) are written to err as
 * "ORIGIN: KEY: what is wrong". */
int ims_config_set(ims_config *c, const char *key, const char *value, const char *origin, ims_error *err);
/* "key=value" as given to --set. */
int ims_config_set_arg(ims_config *c, const char *arg, ims_error *err);
/* Load an INI file (libinih). Errors name FILE:LINE. */
int ims_config_load_file(ims_config *c, const char *path, ims_error *err);
int ims_config_load_string(ims_config *c, const char *text, const char *name, ims_error *err);

/* Typed getters. The key must exist in the schema with a matching type
 * (asserted: a wrong name is a programming error, not an input error). */
uint64_t ims_config_u64(const ims_config *c, const char *key);     /* INT, SIZE, HEX */
uint64_t ims_config_time_ps(const ims_config *c, const char *key); /* TIME */
unsigned ims_config_enum(const ims_config *c, const char *key);    /* ENUM index */
const char *ims_config_enum_name(const ims_config *c, const char *key);
bool ims_config_bool(const ims_config *c, const char *key);
double ims_config_double(const ims_config *c, const char *key);    /* FLOAT */
const char *ims_config_string(const ims_config *c, const char *key);

bool ims_config_has(const ims_config *c, const char *key);
/* Whether a key was set explicitly (file or --set) rather than defaulted. */
bool ims_config_is_set(const ims_config *c, const char *key);

/* Print the effective configuration as a loadable INI file, grouped by section,
 * each key with a comment giving unit, default and help. */
void ims_config_dump(const ims_config *c, FILE *out);
/* Markdown table of the schema (for docs/config.md). */
void ims_config_write_markdown(const ims_config *c, FILE *out);

/* Value parsers shared with the trace reader (same syntax as the config).
 * Return 0 or -EINVAL/-ERANGE. */
int ims_parse_u64(const char *s, uint64_t *out);          /* decimal or 0x hex */
int ims_parse_size(const char *s, uint64_t *out);         /* with K/M/G/T suffix */
int ims_parse_time_ps(const char *s, const char *default_unit, uint64_t *out_ps);

/* Edit distance helper used for "did you mean" (exposed for tests). */
size_t ims_edit_distance(const char *a, const char *b);

/* The schema of the simulation kernel itself (sim.seed, sim.clock_mhz ...). */
extern const ims_cfg_key ims_sim_cfg_keys[];

#ifdef __cplusplus
}
#endif
#endif
