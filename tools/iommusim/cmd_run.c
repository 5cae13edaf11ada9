/* iommusim run: replay traces on the simulated system (sim/run/run.h). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, isatty */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim/run/run.h"
#include "sim/run/schema.h"
#include "tools/iommusim/cli.h"

void ims_cmd_run_help(FILE *out)
{
    fprintf(out,
            "usage: iommusim run TRACE... [-c FILE] [--set KEY=VALUE]... [--json FILE] [--quiet] [--full]\n"
            "\n"
            "Replay one or more traces (text .ist, binary, either zstd-compressed; '-' reads stdin)\n"
            "on one simulated system, one after another, and print a summary table.\n"
            "\n"
            "  -c, --config FILE load an INI file ([section] then key = value)\n"
            "  --set KEY=VALUE   override one key, e.g. --set iotlb.entries=256\n"
            "  --json FILE       write every statistic as one JSON object ('-': stdout; the\n"
            "                    summary then goes to stderr)\n"
            "  --quiet           no progress line (it is shown only when stderr is a terminal)\n"
            "  --full            also print every statistic as a table\n"
            "\n"
            "Exit status: 0 every expect= held and the coherence checker found nothing;\n"
            "1 an expectation failed or the checker found a violation (each printed as FILE:LINE);\n"
            "2 bad input (trace, configuration, arguments).\n");
}

typedef struct progress {
    double last;
    bool shown;
} progress;

static double host_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void show_progress(void *ctx, uint64_t records, double simulated_ns)
{
    progress *p = ctx;
    double now = host_now();
    if (now - p->last < 0.25)
        return;
    p->last = now;
    p->shown = true;
    fprintf(stderr, "\r%llu records, %.3f ms simulated", (unsigned long long)records, simulated_ns / 1e6);
    fflush(stderr);
}

int ims_cmd_run(int argc, char **argv)
{
    ims_error err = {0};
    ims_config *cfg = ims_schema_config_create(&err);
    if (!cfg)
        return ims_cli_fail("internal error: %s", err.msg);
    const char **traces = calloc((size_t)argc, sizeof *traces);
    if (!traces) {
        ims_config_destroy(cfg);
        return ims_cli_fail("out of memory");
    }
    size_t ntraces = 0;
    const char *json = NULL;
    bool quiet = false, full = false;
    int status = 0;
    for (int i = 1; i < argc && !status; i++) {
        const char *a = argv[i];
        if (ims_cli_is_help(a)) {
            ims_cmd_run_help(stdout);
            free(traces);
            ims_config_destroy(cfg);
            return 0;
        } else if (!strcmp(a, "--json")) {
            if (i + 1 >= argc)
                status = ims_cli_fail("--json needs a file name");
            else
                json = argv[++i];
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            quiet = true;
        } else if (!strcmp(a, "--full")) {
            full = true;
        } else if (ims_cli_config_option(cfg, argc, argv, &i, &status)) {
            continue;
        } else if (a[0] == '-' && a[1] != '\0') {
            status = ims_cli_fail("run: unknown option '%s' (see 'iommusim run --help')", a);
        } else {
            traces[ntraces++] = a;
        }
    }
    if (!status && ntraces == 0)
        status = ims_cli_fail("run: name at least one trace (see 'iommusim run --help')");
    bool json_stdout = json && !strcmp(json, "-");
    FILE *jf = NULL;
    if (!status && json && !json_stdout && !(jf = fopen(json, "w")))
        status = ims_cli_fail("--json %s: cannot open for writing", json);
    if (status) {
        free(traces);
        ims_config_destroy(cfg);
        return status;
    }

    progress prog = {.last = host_now()};
    ims_run_opts opts = {.report = stderr};
    if (!quiet && isatty(STDERR_FILENO)) {
        opts.progress = show_progress;
        opts.progress_ctx = &prog;
    }
    ims_run *run = NULL;
    status = ims_run_traces(cfg, traces, ntraces, &opts, &run, &err);
    if (prog.shown)
        fputs("\r\033[K", stderr);
    if (status == IOMMUSIM_EXIT_BAD_INPUT) {
        fprintf(stderr, "%s\n", err.msg);
        if (jf) {
            fclose(jf);
            remove(json);
        }
    } else {
        FILE *summary = json_stdout ? stderr : stdout;
        ims_run_write_summary(run, summary);
        if (full) {
            fputc('\n', summary);
            ims_stats_write_table(ims_run_stats(run), summary);
        }
        if (json) {
            FILE *out = json_stdout ? stdout : jf;
            if (ims_run_write_json(run, out) != 0)
                status = ims_cli_fail("--json %s: cannot write the statistics", json);
            if (jf && fclose(jf) != 0)
                status = ims_cli_fail("--json %s: cannot write the statistics", json);
        }
    }
    ims_run_destroy(run);
    free(traces);
    ims_config_destroy(cfg);
    return status;
}
