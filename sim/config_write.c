/* Configuration writers: the effective configuration as a loadable INI file
 * (each key with its unit, default and source as comments) and the schema as
 * Markdown tables for docs/config.md. */
#include "sim/config_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { COMMENT_WIDTH = 100 }; /* dump comments wrap here (inih reads lines of < 200 chars) */

/* The default as canonical text (the schema text may be written differently). */
static const char *default_text(const ims_cfg_key *k, char *buf)
{
    ims_cfg_val v;
    char *s, why[8];
    if (ims_cfg_parse_value(k, k->def ? k->def : "", &v, &s, why, sizeof why))
        return k->def; /* cannot happen: create checked it */
    free(s);           /* STRING/ENUM: the schema text is already canonical */
    return k->type == IMS_CFG_STRING || k->type == IMS_CFG_ENUM ? (k->def ? k->def : "")
                                                                : ims_cfg_value_text(k, &v, NULL, buf);
}

/* "# " lines, wrapped at word boundaries. */
static void put_comment(FILE *out, const char *text)
{
    while (*text) {
        size_t len = strlen(text), cut = len;
        if (len > COMMENT_WIDTH) {
            cut = COMMENT_WIDTH;
            while (cut > 0 && text[cut] != ' ')
                cut--;
            if (cut == 0) /* one long word: break after it */
                cut = strcspn(text, " ");
        }
        fprintf(out, "# %.*s\n", (int)cut, text);
        text += cut;
        while (*text == ' ')
            text++;
    }
}

static void dump_key(FILE *out, const ims_cfg_entry *e)
{
    const ims_cfg_key *k = e->key;
    char dbuf[IMS_CFG_TEXT_MAX], vbuf[IMS_CFG_TEXT_MAX];
    bool unit = k->unit && *k->unit;
    const char *src = k->source && *k->source ? k->source : NULL;
    const char *parts[] = {
        k->help ? k->help : "", unit ? " [" : "", unit ? k->unit : "", unit ? "]" : "", " (",
        k->type == IMS_CFG_ENUM ? "choices: " : "", k->type == IMS_CFG_ENUM ? k->choices : "",
        k->type == IMS_CFG_ENUM ? "; " : "", "default: ", default_text(k, dbuf),
        src ? "; source: " : "", src ? src : "", ")",
    };
    size_t len = 1;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        len += strlen(parts[i]);
    char *text = malloc(len);
    if (text) {
        text[0] = '\0';
        for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
            strcat(text, parts[i]);
        put_comment(out, text);
        free(text);
    }
    const char *v = ims_cfg_value_text(k, &e->v, e->s, vbuf);
    const char *leaf = k->name + ims_cfg_section_len(k->name) + 1;
    fprintf(out, "%s =%s%s\n", leaf, *v ? " " : "", v);
}

/* Calls `fn` once per section, in order of first appearance in the schema. */
static void for_each_section(const ims_config *c, FILE *out, void (*fn)(const ims_config *, FILE *, size_t))
{
    for (size_t i = 0; i < c->n; i++) {
        size_t j = 0;
        while (j < i && !ims_cfg_same_section(c->e[j].key->name, c->e[i].key->name))
            j++;
        if (j == i)
            fn(c, out, i);
    }
}

static void dump_section(const ims_config *c, FILE *out, size_t first)
{
    const char *name = c->e[first].key->name;
    fprintf(out, "\n[%.*s]\n", (int)ims_cfg_section_len(name), name);
    for (size_t i = first; i < c->n; i++)
        if (ims_cfg_same_section(c->e[i].key->name, name))
            dump_key(out, &c->e[i]);
}

void ims_config_dump(const ims_config *c, FILE *out)
{
    fprintf(out, "# iommusim configuration: load it with -c FILE; '#' lines give unit, default and source.\n");
    if (c)
        for_each_section(c, out, dump_section);
}

/* A Markdown table cell: '|' escaped, line breaks flattened. */
static void md_cell(FILE *out, const char *s)
{
    if (s && *s)
        fputs(" ", out);
    for (; s && *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else
            fputc(*s == '\n' || *s == '\r' ? ' ' : *s, out);
    }
    fputs(" |", out);
}

static void md_range(FILE *out, const ims_cfg_key *k)
{
    char buf[IMS_CFG_RANGE_MAX];
    if (k->type == IMS_CFG_ENUM) {
        fputs(" ", out);
        for (const char *p = k->choices; *p; p++) {
            if (p == k->choices)
                fputs("`", out);
            if (*p == '|')
                fputs("`, `", out);
            else
                fputc(*p, out);
        }
        fputs("` |", out);
        return;
    }
    bool unlimited = ims_cfg_is_integer_kind(k->type)
                         ? !k->min && !k->max
                         : k->type != IMS_CFG_FLOAT || (!k->fmin && !ims_cfg_has_upper_f(k));
    if (k->type == IMS_CFG_BOOL)
        md_cell(out, "true, false");
    else if (unlimited)
        md_cell(out, "any");
    else {
        ims_cfg_range_text(k, buf, sizeof buf);
        md_cell(out, buf);
    }
}

static void md_section(const ims_config *c, FILE *out, size_t first)
{
    const char *name = c->e[first].key->name;
    fprintf(out, "\n### [%.*s]\n\n", (int)ims_cfg_section_len(name), name);
    fprintf(out, "| key | type | unit | default | range/choices | description | source |\n");
    fprintf(out, "|---|---|---|---|---|---|---|\n");
    for (size_t i = first; i < c->n; i++) {
        const ims_cfg_key *k = c->e[i].key;
        char dbuf[IMS_CFG_TEXT_MAX];
        if (!ims_cfg_same_section(k->name, name))
            continue;
        fprintf(out, "| `%s` |", k->name);
        md_cell(out, ims_cfg_type_name(k->type));
        md_cell(out, k->unit);
        fprintf(out, " `%s` |", default_text(k, dbuf));
        md_range(out, k);
        md_cell(out, k->help);
        md_cell(out, k->source);
        fputs("\n", out);
    }
}

void ims_config_write_markdown(const ims_config *c, FILE *out)
{
    if (c)
        for_each_section(c, out, md_section);
}
