/* iommusim trace: conversions, listing, statistics and validation of traces.
 * The work is in traces/trace_stat.c; this file parses arguments and maps
 * errors to exit statuses. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, getrusage */

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "tools/iommusim/cli.h"
#include "tools/iommusim/cmd_trace.h"
#include "traces/trace_stat.h"

typedef struct subcommand {
    const char *name;
    const char *usage;   /* after "iommusim trace " */
    const char *summary;
    const char *details;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand */
} subcommand;

static const subcommand *find_sub(const char *name);

static void sub_help(const subcommand *c, FILE *out)
{
    fprintf(out, "usage: iommusim trace %s %s\n\n%s\n%s", c->name, c->usage, c->summary, c->details);
}

/* "-" alone is an input (stdin), not an option. */
static bool is_option(const char *a)
{
    return a[0] == '-' && a[1] != '\0';
}

static int unknown_option(const char *sub, const char *a)
{
    return ims_cli_fail("trace %s: unknown option '%s' (see 'iommusim trace %s --help')", sub, a, sub);
}

/* encode / decode: IN -o OUT. */
static int convert(int argc, char **argv, ims_trace_form form, const char *default_out)
{
    const char *sub = argv[0], *in = NULL, *out = default_out;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (ims_cli_is_help(a)) {
            sub_help(find_sub(sub), stdout);
            return 0;
        }
        if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (i + 1 >= argc)
                return ims_cli_fail("trace %s: %s needs a file name ('-' for stdout)", sub, a);
            out = argv[++i];
        } else if (is_option(a)) {
            return unknown_option(sub, a);
        } else if (in) {
            return ims_cli_fail("trace %s: one input only ('%s' and '%s')", sub, in, a);
        } else {
            in = a;
        }
    }
    if (!in)
        return ims_cli_fail("trace %s: name the input trace (see 'iommusim trace %s --help')", sub, sub);
    if (!out)
        return ims_cli_fail("trace %s: name the output with -o OUT ('-' for stdout)", sub);
    ims_error err = {0};
    if (ims_trace_convert(in, out, form, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return IOMMUSIM_EXIT_BAD_INPUT;
    }
    return 0;
}

static int cmd_encode(int argc, char **argv)
{
    return convert(argc, argv, IMS_TRACE_BINARY, NULL);
}

static int cmd_decode(int argc, char **argv)
{
    return convert(argc, argv, IMS_TRACE_TEXT, "-");
}

/* Collect the inputs of cat/stat/validate; *json set by --json when json != NULL. */
static int inputs(int argc, char **argv, const char **paths, size_t *n, bool *json, bool *help)
{
    const char *sub = argv[0];
    *n = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (ims_cli_is_help(a)) {
            sub_help(find_sub(sub), stdout);
            *help = true;
            return 0;
        }
        if (json && !strcmp(a, "--json"))
            *json = true;
        else if (is_option(a))
            return unknown_option(sub, a);
        else
            paths[(*n)++] = a;
    }
    if (*n == 0)
        return ims_cli_fail("trace %s: name at least one trace (see 'iommusim trace %s --help')", sub, sub);
    return 0;
}

static int cmd_cat(int argc, char **argv)
{
    const char **paths = calloc((size_t)argc, sizeof *paths);
    if (!paths)
        return ims_cli_fail("out of memory");
    size_t n;
    bool help = false;
    int status = inputs(argc, argv, paths, &n, NULL, &help);
    for (size_t i = 0; !status && !help && i < n; i++) {
        ims_error err = {0};
        if (ims_trace_list(paths[i], stdout, n > 1, &err) < 0) {
            fflush(stdout); /* the listing so far, then the error after it */
            fprintf(stderr, "%s\n", err.msg);
            status = IOMMUSIM_EXIT_BAD_INPUT;
        }
    }
    free(paths);
    return status;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Process CPU seconds (user + system) and peak resident set in KiB. */
static void host_usage(double *cpu, uint64_t *rss_kb)
{
    struct rusage ru;
    *cpu = 0;
    *rss_kb = 0;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return;
    *cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
    *rss_kb = ru.ru_maxrss > 0 ? (uint64_t)ru.ru_maxrss : 0; /* Linux: kilobytes */
}

static int cmd_stat(int argc, char **argv)
{
    const char **paths = calloc((size_t)argc, sizeof *paths);
    ims_trace_stat *st = ims_trace_stat_create();
    if (!paths || !st) {
        free(paths);
        ims_trace_stat_destroy(st);
        return ims_cli_fail("out of memory");
    }
    size_t n;
    bool json = false, help = false;
    int status = inputs(argc, argv, paths, &n, &json, &help);
    if (!status && !help) {
        double t0 = now_seconds(), cpu0;
        uint64_t rss;
        host_usage(&cpu0, &rss);
        for (size_t i = 0; !status && i < n; i++) {
            ims_error err = {0};
            if (ims_trace_stat_read(st, paths[i], &err) < 0) {
                fprintf(stderr, "%s\n", err.msg);
                status = IOMMUSIM_EXIT_BAD_INPUT;
            }
        }
        if (!status) {
            double wall = now_seconds() - t0, cpu1;
            host_usage(&cpu1, &rss);
            ims_trace_stat_set_host(st, wall, cpu1 - cpu0, rss);
            int rc = json ? ims_trace_stat_write_json(st, stdout) : ims_trace_stat_write_text(st, stdout);
            if (rc < 0)
                status = ims_cli_fail("trace stat: cannot write the output");
        }
    }
    ims_trace_stat_destroy(st);
    free(paths);
    return status;
}

static int cmd_validate(int argc, char **argv)
{
    const char **paths = calloc((size_t)argc, sizeof *paths);
    if (!paths)
        return ims_cli_fail("out of memory");
    size_t n;
    bool help = false;
    int status = inputs(argc, argv, paths, &n, NULL, &help);
    bool bad = false;
    /* Every input is checked, so one run reports every bad file. */
    for (size_t i = 0; !status && !help && i < n; i++) {
        ims_error err = {0};
        int64_t records = ims_trace_validate(paths[i], &err);
        if (records < 0) {
            fflush(stdout);
            fprintf(stderr, "%s\n", err.msg);
            bad = true;
            continue;
        }
        printf("%s: ok, %" PRId64 " records\n", paths[i], records);
    }
    free(paths);
    return status ? status : bad ? IOMMUSIM_EXIT_BAD_INPUT : 0;
}

static const subcommand subs[] = {
    {"encode", "IN -o OUT", "Write trace IN (any form) in the binary form.",
     "\n  -o, --output OUT  the output file; zstd-compressed when OUT ends in .zst; '-' = stdout\n"
     "\nIN may be text (.ist), binary, or either one zstd-compressed; '-' reads stdin.\n"
     "Line numbers of the input are kept, so errors in a replay still name the text line.\n",
     cmd_encode},
    {"decode", "IN [-o OUT]", "Write trace IN (any form) as canonical text.",
     "\n  -o, --output OUT  the output file (default '-': stdout); zstd-compressed when OUT\n"
     "                    ends in .zst\n"
     "\nCanonical text: the header, then one line per record with keys in schema order,\n"
     "addresses in hex, sizes with K/M/G; comments and blank lines are not kept.\n",
     cmd_decode},
    {"cat", "IN...", "List every record as 'LINE: <canonical record>'.",
     "\nLINE is the record's line in the text it came from (kept by the binary form).\n"
     "With several inputs each line starts with 'FILE:'.\n",
     cmd_cat},
    {"stat", "IN... [--json]", "Statistics of one or more traces, read without simulating.",
     "\n  --json            one JSON object on stdout instead of 'key value' lines\n"
     "\nRecords per verb; devices (SID, name, DMA count, read/write, bytes, lowest and highest\n"
     "IOVA byte); first and last @T time and the sum of +D delays; the range of physical\n"
     "addresses written by mem.w32/w64/write; expect= counts; and the decode rate: host\n"
     "seconds (wall clock and process CPU), records per second of each, and the peak resident\n"
     "memory of the process (host.peak_rss_kb).\n"
     "Several inputs are counted together, as 'iommusim run' replays them: in order.\n",
     cmd_stat},
    {"validate", "IN...", "Parse every record of every input without simulating.",
     "\nPrints 'FILE: ok, N records' per valid input. Every input is checked; each bad one is\n"
     "reported as 'FILE:LINE: what is wrong' (or 'FILE: what' for a broken binary/zstd file).\n",
     cmd_validate},
};
#define NSUBS (sizeof subs / sizeof subs[0])

static const subcommand *find_sub(const char *name)
{
    for (size_t i = 0; i < NSUBS; i++)
        if (!strcmp(subs[i].name, name))
            return &subs[i];
    return NULL;
}

void ims_cmd_trace_help(FILE *out)
{
    fprintf(out, "usage: iommusim trace <subcommand> ...\n\nConvert, list, count and check traces without simulating.\n\n");
    for (size_t i = 0; i < NSUBS; i++) {
        char u[64];
        snprintf(u, sizeof u, "%s %s", subs[i].name, subs[i].usage);
        fprintf(out, "  %-24s %s\n", u, subs[i].summary);
    }
    fprintf(out,
            "\nInputs may be text (.ist), binary, or either one zstd-compressed (.zst); '-' is stdin.\n"
            "Run 'iommusim trace <subcommand> --help' for its options.\n"
            "Exit status: 0 success; 2 bad input or arguments, with 'FILE:LINE: what is wrong'\n"
            "or 'iommusim: ...' on stderr.\n");
}

int ims_cmd_trace(int argc, char **argv)
{
    if (argc < 2)
        return ims_cli_fail("trace: name a subcommand: encode, decode, cat, stat or validate "
                            "(see 'iommusim trace --help')");
    if (ims_cli_is_help(argv[1]) || !strcmp(argv[1], "help")) {
        const subcommand *c = argc > 2 ? find_sub(argv[2]) : NULL;
        if (c)
            sub_help(c, stdout);
        else
            ims_cmd_trace_help(stdout);
        return 0;
    }
    const subcommand *c = find_sub(argv[1]);
    if (!c)
        return ims_cli_fail("trace: unknown subcommand '%s' (encode, decode, cat, stat, validate)", argv[1]);
    return c->run(argc - 1, argv + 1);
}
