/* Importer text helpers: whitespace, numbers, "key value" / "key=value"
 * fields, PCI names and timestamps. Every helper stops at the string's NUL. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "traces/import/import_internal.h"

/* ---- text helpers ------------------------------------------------------------------------ */

const char *imp_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

const char *imp_tok_end(const char *p)
{
    while (*p && *p != ' ' && *p != '\t')
        p++;
    return p;
}

bool imp_is_blank(const char *p)
{
    return *imp_ws(p) == '\0';
}

static int digit_val(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return 99;
}

bool imp_num(const char **pp, int base, uint64_t *out)
{
    const char *p = *pp;
    if (base == 16 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && digit_val(p[2]) < 16)
        p += 2;
    uint64_t v = 0;
    const char *start = p;
    int d;
    while ((d = digit_val(*p)) < base) {
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return false;
        v = v * (uint64_t)base + (uint64_t)d;
        p++;
    }
    if (p == start)
        return false;
    *out = v;
    *pp = p;
    return true;
}

/* Where whole-word `key` followed by `after` starts in s, searching from s. */
static const char *find_word(const char *s, const char *key, char after)
{
    size_t kl = strlen(key);
    for (const char *p = strstr(s, key); p; p = strstr(p + 1, key)) {
        bool left = p == s || p[-1] == ' ' || p[-1] == '\t' || p[-1] == ',' || p[-1] == '(';
        bool right = after == ' ' ? (p[kl] == ' ' || p[kl] == '\t') : p[kl] == after;
        if (left && right)
            return p + kl;
    }
    return NULL;
}

bool imp_key_num(const char *s, const char *key, int base, uint64_t *out)
{
    for (const char *p = find_word(s, key, ' '); p; p = find_word(p, key, ' ')) {
        const char *v = imp_ws(p);
        if (imp_num(&v, base, out))
            return true;
    }
    return false;
}

bool imp_kv_num(const char *s, const char *key, int base, uint64_t *out)
{
    const char *p = find_word(s, key, '=');
    if (!p)
        return false;
    p++;
    return imp_num(&p, base, out);
}

const char *imp_kv_str(const char *s, const char *key, size_t *len)
{
    const char *p = find_word(s, key, '=');
    if (!p)
        return NULL;
    p++;
    *len = (size_t)(imp_tok_end(p) - p);
    return p;
}

bool imp_bdf(const char **pp, uint16_t *sid)
{
    const char *p = *pp;
    uint64_t a, b, c, d;
    if (!imp_num(&p, 16, &a) || *p != ':')
        return false;
    p++;
    if (!imp_num(&p, 16, &b))
        return false;
    if (*p == ':') { /* a domain came first */
        p++;
        if (!imp_num(&p, 16, &c))
            return false;
        a = b;
        b = c;
    }
    if (*p != '.')
        return false;
    p++;
    if (!imp_num(&p, 16, &d) || a > 0xff || b > 0x1f || d > 7)
        return false;
    *sid = (uint16_t)(a << 8 | b << 3 | d);
    *pp = p;
    return true;
}

/* Fixed-width decimal field. */
static bool fixed(const char **pp, unsigned width, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++) {
        char ch = (*pp)[i];
        if (ch < '0' || ch > '9')
            return false;
        v = v * 10 + (uint64_t)(ch - '0');
    }
    *pp += width;
    *out = v;
    return true;
}

/* Fraction digits after '.' as nanoseconds (digits past the ninth are dropped). */
static bool fraction_ns(const char **pp, uint64_t *ns)
{
    const char *p = *pp;
    uint64_t v = 0, scale = 1000000000ull;
    if (*p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++)
        if (scale > 1) {
            scale /= 10;
            v += (uint64_t)(*p - '0') * scale;
        }
    *pp = p;
    *ns = v;
    return true;
}

/* Days from 1970-01-01 to a proleptic Gregorian date (years from 1970). */
static uint64_t days_since_epoch(uint64_t y, uint64_t m, uint64_t d)
{
    static const unsigned cum[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    uint64_t days = (y - 1970) * 365;
    /* leap days in the years before y */
    uint64_t before = y - 1;
    days += (before / 4 - before / 100 + before / 400) - (1969 / 4 - 1969 / 100 + 1969 / 400);
    days += cum[m - 1] + d - 1;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (leap && m > 2)
        days++;
    return days;
}

bool imp_iso8601(const char **pp, uint64_t *ns)
{
    const char *p = *pp;
    uint64_t y, mo, d, h, mi, s, frac = 0;
    if (!fixed(&p, 4, &y) || *p++ != '-' || !fixed(&p, 2, &mo) || *p++ != '-' || !fixed(&p, 2, &d) ||
        (*p != 'T' && *p != 't') || (p++, !fixed(&p, 2, &h)) || *p++ != ':' || !fixed(&p, 2, &mi) ||
        *p++ != ':' || !fixed(&p, 2, &s))
        return false;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return false;
    if (*p == '.' || *p == ',') {
        p++;
        if (!fraction_ns(&p, &frac))
            return false;
    }
    int64_t off = 0; /* seconds east of UTC */
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1;
        uint64_t oh, om = 0;
        if (!fixed(&p, 2, &oh))
            return false;
        if (*p == ':')
            p++;
        if (*p >= '0' && *p <= '9' && !fixed(&p, 2, &om))
            return false;
        off = sign * (int64_t)(oh * 3600 + om * 60);
    }
    int64_t secs = (int64_t)(days_since_epoch(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) - off;
    if (secs < 0)
        return false;
    *ns = (uint64_t)secs * 1000000000ull + frac;
    *pp = p;
    return true;
}

bool imp_seconds(const char **pp, uint64_t *ns)
{
    const char *p = *pp;
    uint64_t sec, frac = 0;
    if (!imp_num(&p, 10, &sec) || sec > UINT64_MAX / 1000000000ull - 1)
        return false;
    if (*p == '.') {
        p++;
        if (!fraction_ns(&p, &frac))
            return false;
    }
    *ns = sec * 1000000000ull + frac;
    *pp = p;
    return true;
}

