/* iommusim config: the effective configuration (INI) or the schema (Markdown). */
#include <string.h>

#include "sim/run/schema.h"
#include "tools/iommusim/cli.h"

void ims_cmd_config_help(FILE *out)
{
    fprintf(out,
            "usage: iommusim config --dump [-c FILE] [--set KEY=VALUE]...\n"
            "       iommusim config --markdown\n"
            "\n"
            "  --dump            print the effective configuration as a loadable INI file:\n"
            "                    defaults, then each -c FILE and --set in command-line order\n"
            "  --markdown        print the schema (every key, unit, default, range, source)\n"
            "                    as the Markdown tables of docs/config.md\n"
            "  -c, --config FILE load an INI file ([section] then key = value)\n"
            "  --set KEY=VALUE   override one key, e.g. --set iotlb.entries=256\n");
}

int ims_cmd_config(int argc, char **argv)
{
    ims_error err = {0};
    ims_config *cfg = ims_schema_config_create(&err);
    if (!cfg)
        return ims_cli_fail("internal error: %s", err.msg);
    int status = 0;
    enum { NONE, DUMP, MARKDOWN } mode = NONE;
    for (int i = 1; i < argc && !status; i++) {
        if (ims_cli_is_help(argv[i])) {
            ims_cmd_config_help(stdout);
            ims_config_destroy(cfg);
            return 0;
        } else if (!strcmp(argv[i], "--dump")) {
            mode = DUMP;
        } else if (!strcmp(argv[i], "--markdown")) {
            mode = MARKDOWN;
        } else if (!ims_cli_config_option(cfg, argc, argv, &i, &status)) {
            status = ims_cli_fail("config: unknown option '%s' (see 'iommusim config --help')", argv[i]);
        }
    }
    if (!status && mode == NONE)
        status = ims_cli_fail("config: say --dump or --markdown (see 'iommusim config --help')");
    if (!status && mode == DUMP)
        ims_config_dump(cfg, stdout);
    if (!status && mode == MARKDOWN)
        ims_config_write_markdown(cfg, stdout);
    ims_config_destroy(cfg);
    return status;
}
