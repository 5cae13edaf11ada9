/* iommusim gen: write a synthetic workload trace. The generators are in
 * traces/gen/; this file parses arguments, prints the help from the option
 * tables, and maps errors to exit statuses. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tools/iommusim/cli.h"
#include "tools/iommusim/cmd_gen.h"
#include "traces/gen/gen.h"

#define HELP_COL 28   /* where option descriptions start */
#define HELP_WIDTH 100

static const char *placeholder(const ims_gen_opt *o)
{
    switch (o->type) {
    case IMS_GEN_OPT_UINT:
        return "N";
    case IMS_GEN_OPT_ADDR:
        return "ADDR";
    case IMS_GEN_OPT_SIZE:
        return "SIZE";
    case IMS_GEN_OPT_TIME:
        return "TIME";
    case IMS_GEN_OPT_ENUM:
        return o->choices;
    case IMS_GEN_OPT_BOOL:
        return "[=on|off]";
    }
    return "";
}

/* Words of `text` from column `col`, wrapped under HELP_COL. */
static void wrap(FILE *out, const char *text, size_t col)
{
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (!n)
            break;
        if (col > HELP_COL && col + 1 + n > HELP_WIDTH) {
            fprintf(out, "\n%*s", HELP_COL, "");
            col = HELP_COL;
        } else if (col > HELP_COL) {
            fputc(' ', out);
            col++;
        }
        fwrite(p, 1, n, out);
        col += n;
        p += n;
    }
    fputc('\n', out);
}

static void opt_help(FILE *out, const ims_gen_opt *opts, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        const ims_gen_opt *o = &opts[i];
        char head[96], text[512];
        int w = snprintf(head, sizeof head, "  --%s%s%s", o->name, o->type == IMS_GEN_OPT_BOOL ? "" : " ",
                         placeholder(o));
        fputs(head, out);
        if (w >= HELP_COL - 1) {
            fprintf(out, "\n%*s", HELP_COL, "");
        } else {
            fprintf(out, "%*s", HELP_COL - w, "");
        }
        snprintf(text, sizeof text, "%s (default %s)", o->help, o->def);
        wrap(out, text, HELP_COL);
    }
}

static void output_help(FILE *out)
{
    fprintf(out,
            "output:\n"
            "  -o, --output OUT          the trace file (default '-': stdout); binary when OUT ends in\n"
            "                            .bin, text otherwise; zstd-compressed when it ends in .zst\n"
            "  --format text|binary      the form regardless of OUT's name\n");
}

static void common_help(FILE *out)
{
    unsigned n;
    const ims_gen_opt *c = ims_gen_common_opts(&n);
    fprintf(out, "common options:\n");
    opt_help(out, c, n);
}

void ims_cmd_gen_help(FILE *out)
{
    fprintf(out,
            "usage: iommusim gen FAMILY [options] [-o OUT]\n"
            "       iommusim gen FAMILY --help\n"
            "\n"
            "Write a synthetic workload as a trace, deterministic for given options and seed.\n"
            "\n"
            "families:\n");
    for (size_t i = 0; ims_gen_family_at(i); i++)
        fprintf(out, "  %-10s %s\n", ims_gen_family_at(i)->name, ims_gen_family_at(i)->summary);
    fprintf(out, "\n");
    output_help(out);
    fprintf(out, "\n");
    common_help(out);
    fprintf(out,
            "\nSizes take K/M/G suffixes, times ns (default), us, ms, s. Example:\n"
            "  iommusim gen uniform --window 1G --dmas 100000 | iommusim run -\n");
}

static void family_help(FILE *out, const ims_gen_family *f)
{
    fprintf(out, "usage: iommusim gen %s [options] [-o OUT]\n\n%s.\n\n%s\n%s options:\n", f->name, f->summary,
            f->details, f->name);
    opt_help(out, f->opts, f->nopts);
    fprintf(out, "\n");
    common_help(out);
    fprintf(out, "\n");
    output_help(out);
}

int ims_cmd_gen(int argc, char **argv)
{
    if (argc < 2)
        return ims_cli_fail("gen: name a workload family: nic, storage, uniform or sva (see 'iommusim gen --help')");
    if (ims_cli_is_help(argv[1])) {
        ims_cmd_gen_help(stdout);
        return 0;
    }
    const ims_gen_family *f = ims_gen_family_find(argv[1]);
    if (!f)
        return ims_cli_fail("gen: unknown workload family '%s' (nic, storage, uniform or sva)", argv[1]);
    ims_gen_params p;
    ims_gen_params_init(&p, f);
    const char *out = "-";
    int form = -1;
    ims_error err = {0};
    for (int i = 2; i < argc;) {
        const char *a = argv[i];
        if (ims_cli_is_help(a)) {
            family_help(stdout, f);
            return 0;
        }
        if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (i + 1 >= argc)
                return ims_cli_fail("gen %s: %s needs a file name ('-' for stdout)", f->name, a);
            out = argv[i + 1];
            i += 2;
        } else if (!strcmp(a, "--format")) {
            if (i + 1 >= argc)
                return ims_cli_fail("gen %s: --format needs text or binary", f->name);
            const char *v = argv[i + 1];
            if (strcmp(v, "text") && strcmp(v, "binary"))
                return ims_cli_fail("gen %s: --format: '%s' is not text or binary", f->name, v);
            form = strcmp(v, "text") ? IMS_TRACE_BINARY : IMS_TRACE_TEXT;
            i += 2;
        } else if (ims_gen_params_parse_arg(&p, argc, argv, &i, &err) < 0) {
            return ims_cli_fail("gen %s: %s", f->name, err.msg);
        }
    }
    /* Shadow mode builds its shadow tables by trapping every guest map (about
     * 10 us of simulated time per 4 KiB page with the default costs), so an
     * open loop's setup easily outlasts the default --start and the first
     * DMAs fault. Only the user knows the run's configuration: say so. */
    if (p.common[IMS_GEN_LEVEL] == IMS_GEN_LEVEL_GUEST && p.common[IMS_GEN_MODE] == 1 /* shadow */ &&
        p.common[IMS_GEN_INTERVAL] > 0 && !((p.common_given >> IMS_GEN_START) & 1))
        fprintf(stderr, "iommusim gen %s: note: shadow-mode setup maps take milliseconds of simulated time "
                        "(about 10 us per 4 KiB page); DMAs issued before they finish fault. Set --start past "
                        "the setup (its phase 'start' in 'iommusim run' shows how long it takes).\n",
                f->name);
    if (form < 0)
        form = (int)ims_gen_form_of_path(out);
    if (ims_gen_write_path(&p, out, (ims_trace_form)form, &err) < 0) {
        fflush(stdout);
        return ims_cli_fail("gen %s: %s", f->name, err.msg);
    }
    return 0;
}
