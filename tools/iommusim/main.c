/* iommusim: command dispatcher. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tools/iommusim/cli.h"
#include "tools/iommusim/cmd_gen.h"
#include "tools/iommusim/cmd_import.h"
#include "tools/iommusim/cmd_trace.h"

static const ims_cli_command commands[] = {
    {"run", "replay traces on the simulated system and report", ims_cmd_run, ims_cmd_run_help},
    {"trace", "convert, list, summarise and validate trace files", ims_cmd_trace, ims_cmd_trace_help},
    {"config", "print the effective configuration or the schema", ims_cmd_config, ims_cmd_config_help},
    {"gen", "write a synthetic workload trace (nic, storage, uniform, sva)", ims_cmd_gen, ims_cmd_gen_help},
    {"import", "convert a real capture (QEMU vtd_* log, Linux ftrace) into a trace", ims_cmd_import,
     ims_cmd_import_help},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

int ims_cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("iommusim: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return IOMMUSIM_EXIT_BAD_INPUT;
}

bool ims_cli_is_help(const char *arg)
{
    return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

bool ims_cli_config_option(ims_config *cfg, int argc, char **argv, int *i, int *status)
{
    const char *opt = argv[*i];
    bool is_file = !strcmp(opt, "-c") || !strcmp(opt, "--config");
    bool is_set = !strcmp(opt, "--set");
    if (!is_file && !is_set)
        return false;
    if (*i + 1 >= argc) {
        *status = ims_cli_fail("%s needs a value", opt);
        return true;
    }
    const char *val = argv[++*i];
    ims_error err = {0};
    int r = is_file ? ims_config_load_file(cfg, val, &err) : ims_config_set_arg(cfg, val, &err);
    if (r < 0)
        *status = ims_cli_fail("%s", err.msg);
    return true;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: iommusim <command> [options]\n"
            "       iommusim --help | --version\n"
            "\n"
            "A cycle-level simulator of an Intel VT-d IOMMU with nested translation.\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n"
            "Run 'iommusim <command> --help' for a command's options.\n"
            "Exit status: 0 success, 1 an expectation or the coherence checker failed, 2 bad input.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return IOMMUSIM_EXIT_BAD_INPUT;
    }
    const char *cmd = argv[1];
    if (ims_cli_is_help(cmd) || !strcmp(cmd, "help")) {
        if (argc > 2 && strcmp(cmd, "help") == 0) {
            for (size_t i = 0; i < NCOMMANDS; i++)
                if (!strcmp(argv[2], commands[i].name)) {
                    commands[i].help(stdout);
                    return 0;
                }
            return ims_cli_fail("unknown command '%s' (see 'iommusim --help')", argv[2]);
        }
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("iommusim %s\n", iommusim_version());
        return 0;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    return ims_cli_fail("unknown command '%s' (see 'iommusim --help')", cmd);
}
