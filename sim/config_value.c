/* Configuration values: the parsers (shared with the trace reader), the
 * formatters that write each type in its own syntax, and the per-key
 * parse-and-range-check used by every way a value gets set. */
#include "sim/config_internal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {
    [IMS_CFG_INT] = "int",   [IMS_CFG_SIZE] = "size",   [IMS_CFG_TIME] = "time",
    [IMS_CFG_ENUM] = "enum", [IMS_CFG_HEX] = "hex",     [IMS_CFG_BOOL] = "bool",
    [IMS_CFG_FLOAT] = "float", [IMS_CFG_STRING] = "string",
};

static const struct { const char *name; unsigned exp10; } time_units[] = {
    {"s", 12}, {"ms", 9}, {"us", 6}, {"ns", 3}, {"ps", 0},
};

static const struct { const char *name; unsigned shift; } size_units[] = {
    {"T", 40}, {"TiB", 40}, {"G", 30}, {"GiB", 30}, {"M", 20}, {"MiB", 20}, {"K", 10}, {"KiB", 10},
};

static const char *const bool_words[][2] = {
    {"false", "true"}, {"no", "yes"}, {"off", "on"}, {"0", "1"},
};

const char *ims_cfg_type_name(ims_cfg_type t)
{
    return type_names[t];
}

static uint64_t pow10_u64(unsigned e)
{
    uint64_t v = 1;
    while (e--)
        v *= 10;
    return v;
}

/* ---- value parsers (shared with the trace reader) ---- */

static int digit_value(char ch, unsigned base)
{
    int d = isdigit((unsigned char)ch) ? ch - '0'
            : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10
            : (ch >= 'A' && ch <= 'F') ? ch - 'A' + 10
                                       : 99;
    return d < (int)base ? d : -1;
}

/* At least one digit in `base`. Overflow is noted but all digits are consumed,
 * so the caller can report trailing garbage (-EINVAL) before overflow (-ERANGE). */
static int scan_digits(const char *s, unsigned base, const char **end, uint64_t *out)
{
    uint64_t v = 0;
    bool ovf = false;
    const char *p = s;
    for (int d; (d = digit_value(*p, base)) >= 0; p++) {
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            ovf = true;
        else
            v = v * base + (uint64_t)d;
    }
    *end = p;
    *out = v;
    if (p == s)
        return -EINVAL;
    return ovf ? -ERANGE : 0;
}

/* Decimal, or hex after 0x/0X. */
static int scan_uint(const char *s, const char **end, uint64_t *out)
{
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        return scan_digits(s + 2, 16, end, out);
    return scan_digits(s, 10, end, out);
}

int ims_parse_u64(const char *s, uint64_t *out)
{
    const char *end;
    uint64_t v;
    if (!s)
        return -EINVAL;
    int r = scan_uint(s, &end, &v);
    if (r == -EINVAL || *end)
        return -EINVAL;
    if (r)
        return r;
    *out = v;
    return 0;
}

int ims_parse_size(const char *s, uint64_t *out)
{
    const char *end;
    uint64_t v;
    if (!s)
        return -EINVAL;
    int r = scan_uint(s, &end, &v);
    if (r == -EINVAL)
        return r;
    unsigned shift = 0;
    if (*end) {
        size_t i = 0;
        while (i < sizeof size_units / sizeof size_units[0] && strcmp(end, size_units[i].name))
            i++;
        if (i == sizeof size_units / sizeof size_units[0])
            return -EINVAL;
        shift = size_units[i].shift;
    }
    if (r || v > (UINT64_MAX >> shift))
        return -ERANGE;
    *out = v << shift;
    return 0;
}

/* Time: DIGITS[.DIGITS][unit]. The fraction must be a whole number of ps. */
static int parse_time(const char *s, const char *default_unit, uint64_t *out_ps, const char **why)
{
    const char *p, *fs = NULL, *fe = NULL;
    uint64_t ip, frac = 0;
    *why = NULL;
    if (!s)
        return -EINVAL;
    int r = scan_digits(s, 10, &p, &ip);
    if (r == -EINVAL)
        return r;
    if (*p == '.') {
        fs = ++p;
        while (isdigit((unsigned char)*p))
            p++;
        if (p == fs)
            return -EINVAL;
        fe = p;
    }
    const char *unit = *p ? p : default_unit;
    size_t u = 0;
    while (unit && u < sizeof time_units / sizeof time_units[0] && strcmp(unit, time_units[u].name))
        u++;
    if (!unit || u == sizeof time_units / sizeof time_units[0])
        return -EINVAL;
    unsigned e = time_units[u].exp10;
    if (fs) {
        while (fe > fs && fe[-1] == '0') /* 1.500us is 1.5us */
            fe--;
        if ((size_t)(fe - fs) > e) {
            *why = "finer than the 1 ps resolution";
            return -EINVAL;
        }
        for (const char *q = fs; q < fe; q++)
            frac = frac * 10 + (uint64_t)(*q - '0');
        frac *= pow10_u64(e - (unsigned)(fe - fs));
    }
    uint64_t scale = pow10_u64(e);
    if (r || ip > (UINT64_MAX - frac) / scale)
        return -ERANGE;
    *out_ps = ip * scale + frac;
    return 0;
}

int ims_parse_time_ps(const char *s, const char *default_unit, uint64_t *out_ps)
{
    const char *why;
    return parse_time(s, default_unit, out_ps, &why);
}

static bool same_word_nocase(const char *a, const char *b)
{
    while (*a && tolower((unsigned char)*a) == tolower((unsigned char)*b))
        a++, b++;
    return !*a && !*b;
}

static int parse_bool(const char *s, bool *out)
{
    for (size_t i = 0; i < sizeof bool_words / sizeof bool_words[0]; i++)
        for (int v = 0; v < 2; v++)
            if (same_word_nocase(s, bool_words[i][v])) {
                *out = v;
                return 0;
            }
    return -EINVAL;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    if (!*s || isspace((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    double d = strtod(s, &end);
    if (*end || isnan(d))
        return -EINVAL;
    if (errno == ERANGE && isinf(d)) /* underflow to a tiny value is harmless */
        return -ERANGE;
    if (isinf(d))
        return -EINVAL; /* "inf" written out */
    *out = d;
    return 0;
}

/* Index of `s` among the '|'-separated choices, or -1. */
static int enum_index(const char *choices, const char *s)
{
    size_t len = strlen(s);
    int idx = 0;
    for (const char *p = choices;; idx++) {
        const char *bar = strchr(p, '|');
        size_t wl = bar ? (size_t)(bar - p) : strlen(p);
        if (wl == len && !memcmp(p, s, len))
            return idx;
        if (!bar)
            return -1;
        p = bar + 1;
    }
}

/* ---- formatting, in each type's own syntax (re-parses to the same value) ---- */

static void fmt_time(uint64_t ps, char *buf, size_t n)
{
    if (ps == 0) {
        snprintf(buf, n, "0ns");
        return;
    }
    size_t u = 0;
    while (ps < pow10_u64(time_units[u].exp10)) /* largest unit the value reaches */
        u++;
    unsigned e = time_units[u].exp10;
    uint64_t scale = pow10_u64(e), ip = ps / scale, rem = ps % scale;
    if (!rem) {
        snprintf(buf, n, "%" PRIu64 "%s", ip, time_units[u].name);
        return;
    }
    char frac[16];
    snprintf(frac, sizeof frac, "%0*" PRIu64, (int)e, rem);
    for (size_t l = strlen(frac); l && frac[l - 1] == '0'; l--)
        frac[l - 1] = '\0';
    snprintf(buf, n, "%" PRIu64 ".%s%s", ip, frac, time_units[u].name);
}

static void fmt_size(uint64_t v, char *buf, size_t n)
{
    static const char suffix[] = "KMGT";
    int s = 3;
    while (s >= 0 && (v == 0 || v & ((UINT64_C(1) << (10 * (s + 1))) - 1)))
        s--;
    if (s < 0)
        snprintf(buf, n, "%" PRIu64, v);
    else
        snprintf(buf, n, "%" PRIu64 "%c", v >> (10 * (s + 1)), suffix[s]);
}

/* Shortest %g form that reads back as the same double. */
static void fmt_double(double d, char *buf, size_t n)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

static void fmt_u64(const ims_cfg_key *k, uint64_t v, char *buf, size_t n)
{
    switch (k->type) {
    case IMS_CFG_SIZE: fmt_size(v, buf, n); break;
    case IMS_CFG_TIME: fmt_time(v, buf, n); break;
    case IMS_CFG_HEX: snprintf(buf, n, "0x%" PRIx64, v); break;
    default: snprintf(buf, n, "%" PRIu64, v); break;
    }
}

const char *ims_cfg_value_text(const ims_cfg_key *k, const ims_cfg_val *v, const char *s, char *buf)
{
    switch (k->type) {
    case IMS_CFG_STRING:
    case IMS_CFG_ENUM: return s;
    case IMS_CFG_BOOL: return v->b ? "true" : "false";
    case IMS_CFG_FLOAT: fmt_double(v->d, buf, IMS_CFG_TEXT_MAX); return buf;
    default: fmt_u64(k, v->u, buf, IMS_CFG_TEXT_MAX); return buf;
    }
}

bool ims_cfg_has_upper_f(const ims_cfg_key *k)
{
    return !(k->fmax == 0 && k->fmin >= 0);
}

void ims_cfg_range_text(const ims_cfg_key *k, char *buf, size_t n)
{
    char a[IMS_CFG_TEXT_MAX], b[IMS_CFG_TEXT_MAX];
    bool unit = k->unit && *k->unit && k->type != IMS_CFG_TIME;
    if (k->type == IMS_CFG_FLOAT) {
        fmt_double(k->fmin, a, sizeof a);
        fmt_double(k->fmax, b, sizeof b);
    } else {
        fmt_u64(k, k->min, a, sizeof a);
        fmt_u64(k, k->max, b, sizeof b);
    }
    bool upper = k->type == IMS_CFG_FLOAT ? ims_cfg_has_upper_f(k) : k->max != 0;
    if (upper)
        snprintf(buf, n, "between %s and %s%s%s", a, b, unit ? " " : "", unit ? k->unit : "");
    else
        snprintf(buf, n, "at least %s%s%s", a, unit ? " " : "", unit ? k->unit : "");
}

bool ims_cfg_is_integer_kind(ims_cfg_type t)
{
    return t == IMS_CFG_INT || t == IMS_CFG_SIZE || t == IMS_CFG_TIME || t == IMS_CFG_HEX;
}

/* What an INI line can carry and give back unchanged (inih strips blanks and ' ;' comments). */
static bool ini_safe_string(const char *s)
{
    size_t len = strlen(s);
    if (len && (isspace((unsigned char)s[0]) || isspace((unsigned char)s[len - 1])))
        return false;
    for (const char *p = s; *p; p++)
        if (*p == '\n' || *p == '\r' || (*p == ';' && (p == s || isspace((unsigned char)p[-1]))))
            return false;
    return true;
}

static char *dup_text(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

static int why_fail(char *why, size_t n, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int why_fail(char *why, size_t n, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return code;
}

int ims_cfg_parse_value(const ims_cfg_key *k, const char *text, ims_cfg_val *out, char **sout, char *why,
                        size_t nwhy)
{
    const char *detail = NULL;
    int r = 0;
    *sout = NULL;
    switch (k->type) {
    case IMS_CFG_INT:
    case IMS_CFG_HEX:
        if ((r = ims_parse_u64(text, &out->u)) == -EINVAL)
            return why_fail(why, nwhy, r, "bad %s '%s' (expected a decimal or 0x hex number)",
                            k->type == IMS_CFG_INT ? "integer" : "value", text);
        break;
    case IMS_CFG_SIZE:
        if ((r = ims_parse_size(text, &out->u)) == -EINVAL)
            return why_fail(why, nwhy, r, "bad size '%s' (expected bytes with an optional K, M, G or T "
                            "suffix, or KiB, MiB, GiB, TiB; 1K = 1024)", text);
        break;
    case IMS_CFG_TIME:
        if ((r = parse_time(text, "ns", &out->u, &detail)) == -EINVAL)
            return why_fail(why, nwhy, r, "bad time '%s' (%s)", text,
                            detail ? detail : "expected a non-negative number with unit ps, ns, us, ms "
                                              "or s; no unit means ns");
        break;
    case IMS_CFG_ENUM: {
        int idx = enum_index(k->choices, text);
        if (idx < 0)
            return why_fail(why, nwhy, -EINVAL, "bad choice '%s' (choose one of %s)", text, k->choices);
        out->u = (uint64_t)idx;
        break;
    }
    case IMS_CFG_BOOL:
        if (parse_bool(text, &out->b))
            return why_fail(why, nwhy, -EINVAL, "bad boolean '%s' (use true/false, yes/no, on/off or 1/0)",
                            text);
        break;
    case IMS_CFG_FLOAT:
        if ((r = parse_double(text, &out->d)) == -EINVAL)
            return why_fail(why, nwhy, r, "bad number '%s' (expected a finite decimal number)", text);
        break;
    case IMS_CFG_STRING:
        if (!ini_safe_string(text))
            return why_fail(why, nwhy, -EINVAL, "text cannot be written back to an INI file (line breaks, "
                            "leading/trailing blanks, ' ;' or a leading ';')");
        break;
    }
    if (r == -ERANGE)
        return why_fail(why, nwhy, r, "'%s' is too large", text);
    bool out_of_range = ims_cfg_is_integer_kind(k->type)
                            ? out->u < k->min || (k->max && out->u > k->max)
                            : k->type == IMS_CFG_FLOAT &&
                                  (out->d < k->fmin || (ims_cfg_has_upper_f(k) && out->d > k->fmax));
    if (out_of_range) {
        char range[IMS_CFG_RANGE_MAX];
        ims_cfg_range_text(k, range, sizeof range);
        return why_fail(why, nwhy, -ERANGE, "%s is out of range (must be %s)", text, range);
    }
    if ((k->type == IMS_CFG_STRING || k->type == IMS_CFG_ENUM) && !(*sout = dup_text(text)))
        return why_fail(why, nwhy, -ENOMEM, "out of memory");
    return 0;
}
