/* Private to sim/config*.c: the configuration's storage and the value helpers
 * shared by the loader (config.c), the value codec (config_value.c) and the
 * writers (config_write.c). Not part of the public API. */
#ifndef IMS_SIM_CONFIG_INTERNAL_H
#define IMS_SIM_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sim/config.h"

typedef union ims_cfg_val {
    uint64_t u; /* INT, SIZE, TIME (ps), HEX, ENUM index */
    double d;   /* FLOAT */
    bool b;     /* BOOL */
} ims_cfg_val;

typedef struct ims_cfg_entry {
    const ims_cfg_key *key;
    ims_cfg_val v;
    char *s;          /* owned text: STRING value, or ENUM choice name */
    bool set;         /* set explicitly (file or --set) */
    unsigned load_id; /* the load that last set it, to catch a key given twice in one file */
    int line;         /* its line in that load */
} ims_cfg_entry;

struct ims_config {
    size_t n;
    ims_cfg_entry *e;       /* schema order: dumps and docs follow it */
    ims_cfg_entry **byname; /* sorted by name for lookup */
    unsigned load_id;
};

enum { IMS_CFG_TEXT_MAX = 64 };                        /* a formatted non-string value */
enum { IMS_CFG_RANGE_MAX = 2 * IMS_CFG_TEXT_MAX + 64 }; /* a range_text() sentence */

/* ---- config_value.c ---- */

/* "int", "size", ... for a valid type. */
const char *ims_cfg_type_name(ims_cfg_type t);
/* INT, SIZE, TIME and HEX: stored in v.u and range-checked with min/max. */
bool ims_cfg_is_integer_kind(ims_cfg_type t);
/* Whether a FLOAT key has an upper limit (fmax 0 with fmin >= 0 means none, like max). */
bool ims_cfg_has_upper_f(const ims_cfg_key *k);

/* Parse and range-check `text` for key `k`. On success *sout is the owned text
 * (STRING, ENUM) or NULL. On failure `why` says what is wrong. */
int ims_cfg_parse_value(const ims_cfg_key *k, const char *text, ims_cfg_val *out, char **sout, char *why,
                        size_t nwhy);
/* The value as text in the key's own syntax (it re-parses to the same value);
 * `buf` (IMS_CFG_TEXT_MAX bytes) holds it unless it is the owned string `s`. */
const char *ims_cfg_value_text(const ims_cfg_key *k, const ims_cfg_val *v, const char *s, char *buf);
/* "between A and B unit" / "at least A unit": the allowed range in the key's unit. */
void ims_cfg_range_text(const ims_cfg_key *k, char *buf, size_t n);

/* ---- names: "section.key", validated at create so the '.' is there ---- */

static inline size_t ims_cfg_section_len(const char *name)
{
    return (size_t)(strchr(name, '.') - name);
}

static inline bool ims_cfg_same_section(const char *a, const char *b)
{
    size_t la = ims_cfg_section_len(a);
    return la == ims_cfg_section_len(b) && !memcmp(a, b, la);
}

#endif
