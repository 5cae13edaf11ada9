/* Shared pieces of the iommusim command-line tool. */
#ifndef IMS_CLI_H
#define IMS_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "iommusim/iommusim.h"
#include "sim/config.h"

typedef struct ims_cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    void (*help)(FILE *out);
} ims_cli_command;

/* Print "iommusim: MESSAGE" on stderr; returns IOMMUSIM_EXIT_BAD_INPUT. */
int ims_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

bool ims_cli_is_help(const char *arg);

/* Options shared by every command that builds a configuration:
 * -c FILE / --config FILE and --set KEY=VALUE (repeatable), applied in order.
 * Returns true and advances *i if argv[*i] was such an option; on a bad value
 * prints the error and sets *status to IOMMUSIM_EXIT_BAD_INPUT. */
bool ims_cli_config_option(ims_config *cfg, int argc, char **argv, int *i, int *status);

int ims_cmd_run(int argc, char **argv);
void ims_cmd_run_help(FILE *out);

int ims_cmd_config(int argc, char **argv);
void ims_cmd_config_help(FILE *out);

#endif
