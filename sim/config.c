/* Typed configuration: schema checks, lookup with "did you mean", setting
 * values, INI loading through libinih, and the typed getters. Values are
 * parsed and formatted in config_value.c; dumps are written in config_write.c. */
#include "sim/config_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

/* ---- schema and lookup ---- */

static int cmp_entry_name(const void *a, const void *b)
{
    return strcmp((*(ims_cfg_entry *const *)a)->key->name, (*(ims_cfg_entry *const *)b)->key->name);
}

static int cmp_key_entry(const void *key, const void *elem)
{
    return strcmp(key, (*(ims_cfg_entry *const *)elem)->key->name);
}

static ims_cfg_entry *lookup(const ims_config *c, const char *key)
{
    if (!c || !key || !c->n)
        return NULL;
    ims_cfg_entry **e = bsearch(key, c->byname, c->n, sizeof *c->byname, cmp_key_entry);
    return e ? *e : NULL;
}

/* "section.key": word characters, one or more dots, no empty part. */
static bool valid_name(const char *name)
{
    if (!name || !strchr(name, '.') || name[0] == '.')
        return false;
    for (const char *p = name; *p; p++) {
        if (*p == '.' && (p[1] == '.' || p[1] == '\0'))
            return false;
        if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
            return false;
    }
    return true;
}

static int check_key(const ims_cfg_key *k, ims_cfg_entry *e, ims_error *err)
{
    char why[IMS_ERROR_MSG_MAX];
    if (!valid_name(k->name))
        return ims_errorf(err, EINVAL, "config schema: bad key name '%s' (want section.key)",
                          k->name ? k->name : "(null)");
    if ((unsigned)k->type > IMS_CFG_STRING)
        return ims_errorf(err, EINVAL, "config schema: %s: bad type %d", k->name, (int)k->type);
    if (k->type == IMS_CFG_ENUM) {
        const char *ch = k->choices;
        if (!ch || !*ch || ch[0] == '|' || ch[strlen(ch) - 1] == '|' || strstr(ch, "||"))
            return ims_errorf(err, EINVAL, "config schema: %s: enum needs choices \"a|b|c\"", k->name);
    }
    bool bad_range = ims_cfg_is_integer_kind(k->type)
                         ? k->max && k->min > k->max
                         : k->type == IMS_CFG_FLOAT && ims_cfg_has_upper_f(k) && k->fmin > k->fmax;
    if (bad_range)
        return ims_errorf(err, EINVAL, "config schema: %s: min is above max", k->name);
    const char *def = k->def ? k->def : (k->type == IMS_CFG_STRING ? "" : NULL);
    if (!def)
        return ims_errorf(err, EINVAL, "config schema: %s: no default", k->name);
    int r = ims_cfg_parse_value(k, def, &e->v, &e->s, why, sizeof why);
    if (r)
        return ims_errorf(err, EINVAL, "config schema: %s: bad default: %s", k->name, why);
    e->key = k;
    return 0;
}

ims_config *ims_config_create(const ims_cfg_key *const *tables, size_t ntables, ims_error *err)
{
    size_t n = 0;
    for (size_t t = 0; t < ntables; t++) {
        if (!tables[t]) {
            ims_errorf(err, EINVAL, "config schema: table %zu is NULL", t);
            return NULL;
        }
        for (const ims_cfg_key *k = tables[t]; k->name; k++)
            n++;
    }
    ims_config *c = calloc(1, sizeof *c);
    if (c) {
        c->e = calloc(n ? n : 1, sizeof *c->e);
        c->byname = calloc(n ? n : 1, sizeof *c->byname);
    }
    if (!c || !c->e || !c->byname) {
        ims_errorf(err, ENOMEM, "config: out of memory");
        ims_config_destroy(c);
        return NULL;
    }
    for (size_t t = 0; t < ntables; t++)
        for (const ims_cfg_key *k = tables[t]; k->name; k++) {
            if (check_key(k, &c->e[c->n], err)) {
                ims_config_destroy(c);
                return NULL;
            }
            c->byname[c->n] = &c->e[c->n];
            c->n++;
        }
    qsort(c->byname, c->n, sizeof *c->byname, cmp_entry_name);
    for (size_t i = 1; i < c->n; i++)
        if (!strcmp(c->byname[i - 1]->key->name, c->byname[i]->key->name)) {
            ims_errorf(err, EINVAL, "config schema: key '%s' is declared twice", c->byname[i]->key->name);
            ims_config_destroy(c);
            return NULL;
        }
    return c;
}

void ims_config_destroy(ims_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->e[i].s);
    free(c->e);
    free(c->byname);
    free(c);
}

/* ---- did you mean ---- */

size_t ims_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t small[64], *row = lb < 64 ? small : malloc((lb + 1) * sizeof *row);
    if (!row)
        return la > lb ? la : lb;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0]; /* row[i-1][j-1] */
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    size_t d = row[lb];
    if (row != small)
        free(row);
    return d;
}

/* " (did you mean 'x'?)", or "" when nothing is close. First the closest full
 * name; failing that, keys with the same name under another section. */
static void suggest(const ims_config *c, const char *key, char *out, size_t n)
{
    size_t len = strlen(key), limit = len / 3 > 2 ? len / 3 : 2, best = SIZE_MAX;
    const char *pick[3] = {NULL};
    size_t pd[3], np = 0;
    out[0] = '\0';
    for (size_t i = 0; i < c->n; i++) {
        size_t d = ims_edit_distance(key, c->e[i].key->name);
        if (d < best) {
            best = d;
            pick[0] = c->e[i].key->name;
        }
    }
    if (best <= limit) {
        snprintf(out, n, " (did you mean '%s'?)", pick[0]);
        return;
    }
    const char *dot = strchr(key, '.'), *leaf = dot ? dot + 1 : key;
    char given[128];
    snprintf(given, sizeof given, "%.*s", dot ? (int)(dot - key) : 0, key);
    for (size_t i = 0; i < c->n; i++) {
        const char *name = c->e[i].key->name;
        size_t sl = ims_cfg_section_len(name);
        if (strcmp(name + sl + 1, leaf))
            continue;
        char sec[128];
        snprintf(sec, sizeof sec, "%.*s", (int)sl, name);
        size_t d = ims_edit_distance(sec, given), slot = np; /* rank by closeness of the sections */
        for (; slot > 0 && pd[slot - 1] > d; slot--)
            if (slot < 3) {
                pick[slot] = pick[slot - 1];
                pd[slot] = pd[slot - 1];
            }
        if (slot < 3) {
            pick[slot] = name;
            pd[slot] = d;
            np += np < 3;
        }
    }
    if (np == 1)
        snprintf(out, n, " (did you mean '%s'?)", pick[0]);
    else if (np == 2)
        snprintf(out, n, " (did you mean '%s' or '%s'?)", pick[0], pick[1]);
    else if (np == 3)
        snprintf(out, n, " (did you mean '%s', '%s' or '%s'?)", pick[0], pick[1], pick[2]);
}

/* ---- setting values ---- */

int ims_config_set(ims_config *c, const char *key, const char *value, const char *origin, ims_error *err)
{
    const char *sep = origin ? ": " : "";
    origin = origin ? origin : "";
    ims_cfg_entry *e = lookup(c, key);
    if (!e) {
        char hint[160] = "";
        if (c && key)
            suggest(c, key, hint, sizeof hint);
        return ims_errorf(err, ENOENT, "%s%sunknown key '%s'%s", origin, sep, key ? key : "(null)", hint);
    }
    if (!value)
        return ims_errorf(err, EINVAL, "%s%s%s: no value", origin, sep, key);
    char why[IMS_ERROR_MSG_MAX];
    ims_cfg_val v;
    char *s;
    int r = ims_cfg_parse_value(e->key, value, &v, &s, why, sizeof why);
    if (r)
        return ims_errorf(err, r, "%s%s%s: %s", origin, sep, key, why);
    free(e->s);
    e->s = s;
    e->v = v;
    e->set = true;
    return 0;
}

static const char *trim(const char *s, const char *end, size_t *len)
{
    while (s < end && isspace((unsigned char)*s))
        s++;
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    *len = (size_t)(end - s);
    return s;
}

int ims_config_set_arg(ims_config *c, const char *arg, ims_error *err)
{
    if (!arg)
        return ims_errorf(err, EINVAL, "--set: missing KEY=VALUE");
    const char *eq = strchr(arg, '=');
    if (!eq)
        return ims_errorf(err, EINVAL, "--set: '%s': expected KEY=VALUE", arg);
    size_t klen, vlen;
    const char *k = trim(arg, eq, &klen);
    const char *v = trim(eq + 1, eq + strlen(eq), &vlen);
    if (!klen)
        return ims_errorf(err, EINVAL, "--set: '%s': empty key (expected KEY=VALUE)", arg);
    char *buf = malloc(klen + vlen + 2);
    if (!buf)
        return ims_errorf(err, ENOMEM, "--set: out of memory");
    memcpy(buf, k, klen);
    buf[klen] = '\0';
    memcpy(buf + klen + 1, v, vlen);
    buf[klen + 1 + vlen] = '\0';
    int r = ims_config_set(c, buf, buf + klen + 1, "--set", err);
    free(buf);
    return r;
}

/* ---- INI loading ----
 * libinih's handler gets no line number, so we feed it lines through our own
 * reader and count them there; the handler runs while its line is current. */

typedef struct ini_ctx {
    ims_config *c;
    const char *path;
    const char *pos;  /* next unread byte */
    const char *cur;  /* current raw line */
    int line;         /* current line number */
    int err_line;     /* line of our first error, 0 if none */
    int rc;           /* our first error */
    ims_error *err;
} ini_ctx;

static bool is_comment_line(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return *p == '#' || *p == ';';
}

static char *ini_read_line(char *str, int num, void *stream)
{
    ini_ctx *x = stream;
    if (x->rc || !*x->pos)
        return NULL; /* stop at our first error */
    const char *nl = strchr(x->pos, '\n');
    size_t len = nl ? (size_t)(nl - x->pos) + 1 : strlen(x->pos);
    x->cur = x->pos;
    x->pos += len;
    x->line++;
    if (len + 1 > (size_t)num) {
        if (is_comment_line(x->cur)) { /* a long comment is still just a comment */
            snprintf(str, (size_t)num, "#\n");
            return str;
        }
        x->err_line = x->line;
        x->rc = ims_errorf(x->err, EINVAL, "%s:%d: line too long (at most %d characters)", x->path,
                           x->line, num - 3);
        return NULL;
    }
    memcpy(str, x->cur, len);
    str[len] = '\0';
    return str;
}

/* inih treats an indented line after a key as a continuation of its value;
 * we do not support multi-line values, so tell a real indented key apart. */
static bool line_starts_with_key(const char *raw, const char *name)
{
    while (*raw == ' ' || *raw == '\t')
        raw++;
    size_t n = strlen(name);
    if (strncmp(raw, name, n))
        return false;
    raw += n;
    while (*raw == ' ' || *raw == '\t')
        raw++;
    return *raw == '=' || *raw == ':';
}

static int ini_fail(ini_ctx *x, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int ini_fail(ini_ctx *x, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    x->rc = ims_verrorf(x->err, code, fmt, ap);
    va_end(ap);
    x->err_line = x->line;
    return 0;
}

static int ini_on_value(void *user, const char *section, const char *name, const char *value)
{
    ini_ctx *x = user;
    size_t slen;
    section = trim(section, section + strlen(section), &slen);
    if ((*x->cur == ' ' || *x->cur == '\t') && !line_starts_with_key(x->cur, name))
        return ini_fail(x, EINVAL, "%s:%d: indented line continues the value of '%s' (multi-line values "
                        "are not supported; start keys in column 1)", x->path, x->line, name);
    if (!slen)
        return ini_fail(x, EINVAL, "%s:%d: %s: key outside any section (put it under a [section] header)",
                        x->path, x->line, name);
    char key[512], origin[IMS_ERROR_MSG_MAX];
    snprintf(key, sizeof key, "%.*s.%s", (int)slen, section, name);
    snprintf(origin, sizeof origin, "%s:%d", x->path, x->line);
    ims_cfg_entry *e = lookup(x->c, key);
    if (e && e->load_id == x->c->load_id)
        return ini_fail(x, EINVAL, "%s: %s: set twice in this file (first on line %d)", origin, key, e->line);
    int r = ims_config_set(x->c, key, value, origin, x->err);
    if (r) {
        x->rc = r;
        x->err_line = x->line;
        const char *hash = strchr(value, '#');
        if (x->err && hash && hash > value && isspace((unsigned char)hash[-1])) {
            size_t l = strlen(x->err->msg);
            snprintf(x->err->msg + l, sizeof x->err->msg - l, " ('#' starts a comment only at the start "
                     "of a line; use ' ;' after a value)");
        }
        return 0;
    }
    e->load_id = x->c->load_id;
    e->line = x->line;
    return 1;
}

static int load_text(ims_config *c, const char *text, const char *path, ims_error *err)
{
    ini_ctx x = {.c = c, .path = path, .pos = text, .err = err};
    c->load_id++;
    int n = ini_parse_stream(ini_read_line, &x, ini_on_value, &x);
    if (n == -2)
        return ims_errorf(err, ENOMEM, "%s: out of memory", path);
    if (n > 0 && (!x.rc || n < x.err_line)) { /* inih's syntax error comes first */
        const char *p = text;
        for (int i = 1; i < n && p; i++)
            if ((p = strchr(p, '\n')))
                p++;
        while (p && (*p == ' ' || *p == '\t'))
            p++;
        if (p && *p == '[')
            return ims_errorf(err, EINVAL, "%s:%d: section header without closing ']'", path, n);
        return ims_errorf(err, EINVAL, "%s:%d: malformed line (expected '[section]' or 'key = value')",
                          path, n);
    }
    return x.rc;
}

int ims_config_load_string(ims_config *c, const char *text, const char *name, ims_error *err)
{
    if (!c || !text)
        return ims_errorf(err, EINVAL, "config: nothing to load");
    return load_text(c, text, name ? name : "<string>", err);
}

int ims_config_load_file(ims_config *c, const char *path, ims_error *err)
{
    if (!c || !path)
        return ims_errorf(err, EINVAL, "config: no file to load");
    FILE *f = fopen(path, "rb");
    if (!f)
        return ims_errorf(err, errno, "%s: cannot open: %s", path, strerror(errno));
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len - 1, f);
        if (len < cap - 1)
            break;
        char *nb = realloc(buf, cap * 2);
        if (!nb)
            free(buf);
        buf = nb;
        cap *= 2;
    }
    int rd_err = ferror(f);
    fclose(f);
    int r;
    if (!buf)
        r = ims_errorf(err, ENOMEM, "%s: out of memory", path);
    else if (rd_err)
        r = ims_errorf(err, EIO, "%s: read error", path);
    else if (memchr(buf, '\0', len))
        r = ims_errorf(err, EINVAL, "%s: contains a NUL byte (not a text file?)", path);
    else {
        buf[len] = '\0';
        r = load_text(c, buf, path, err);
    }
    free(buf);
    return r;
}

/* ---- getters: a wrong key or type is a programming error ---- */

static const ims_cfg_entry *must_get(const ims_config *c, const char *key, unsigned type_mask)
{
    const ims_cfg_entry *e = lookup(c, key);
    if (!e || !(type_mask & (1u << e->key->type))) {
        fprintf(stderr, "iommusim: internal error: config key '%s' %s\n", key ? key : "(null)",
                e ? "read with the wrong type" : "is not in the schema");
        abort(); /* also in release builds: a misread key would corrupt results silently */
    }
    return e;
}

#define TYPE_BIT(t) (1u << (t))

uint64_t ims_config_u64(const ims_config *c, const char *key)
{
    return must_get(c, key, TYPE_BIT(IMS_CFG_INT) | TYPE_BIT(IMS_CFG_SIZE) | TYPE_BIT(IMS_CFG_HEX))->v.u;
}

uint64_t ims_config_time_ps(const ims_config *c, const char *key)
{
    return must_get(c, key, TYPE_BIT(IMS_CFG_TIME))->v.u;
}

unsigned ims_config_enum(const ims_config *c, const char *key)
{
    return (unsigned)must_get(c, key, TYPE_BIT(IMS_CFG_ENUM))->v.u;
}

const char *ims_config_enum_name(const ims_config *c, const char *key)
{
    return must_get(c, key, TYPE_BIT(IMS_CFG_ENUM))->s;
}

bool ims_config_bool(const ims_config *c, const char *key)
{
    return must_get(c, key, TYPE_BIT(IMS_CFG_BOOL))->v.b;
}

double ims_config_double(const ims_config *c, const char *key)
{
    return must_get(c, key, TYPE_BIT(IMS_CFG_FLOAT))->v.d;
}

const char *ims_config_string(const ims_config *c, const char *key)
{
    return must_get(c, key, TYPE_BIT(IMS_CFG_STRING))->s;
}

bool ims_config_has(const ims_config *c, const char *key)
{
    return lookup(c, key) != NULL;
}

bool ims_config_is_set(const ims_config *c, const char *key)
{
    const ims_cfg_entry *e = lookup(c, key);
    return e && e->set;
}

