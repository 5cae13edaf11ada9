/* iommusim import: argument parsing for the importers (traces/import/). The
 * summary goes to stderr; the trace to -o (stdout by default). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/iommusim/cli.h"
#include "tools/iommusim/cmd_import.h"
#include "traces/import/import.h"

void ims_cmd_import_help(FILE *out)
{
    fprintf(out,
            "usage: iommusim import qemu-vtd LOG [-o OUT] [options]\n"
            "       iommusim import ftrace FILE [-o OUT] [options]\n"
            "\n"
            "Convert a real capture into a trace (docs/importers.md has every event's mapping):\n"
            "  qemu-vtd  QEMU's -trace 'vtd_*' log (log backend, QEMU 7.2+), with or without\n"
            "            -msg timestamp=on\n"
            "  ftrace    Linux /sys/kernel/tracing/trace text with iommu:*, intel_iommu:*, dma:*\n"
            "\n"
            "  -o, --output OUT       the trace (default '-': stdout; zstd when OUT ends in .zst)\n"
            "  --level host|guest     host: iommufd.* records, dma expect= exact host addresses\n"
            "                         (qemu-vtd default); guest: vm, guest.* records (ftrace default)\n"
            "  --time abs|rel|none    abs: @T since the first event (ftrace default); rel: +D, the\n"
            "                         capture's gaps (qemu-vtd default); none: no time prefixes\n"
            "  --time-offset TIME     abs: time of the first event (default 1ms at host level, 0 guest)\n"
            "  --hpa-base ADDR        host level: hpa = ADDR + captured address (default 4G)\n"
            "  --guest-expect[=BASE]  guest level: expect= BASE + gpa on DMAs (default BASE 4G, the\n"
            "                         first vm's RAM base); off by default\n"
            "  --vm ID, --vm-mem SIZE guest level: vm id (1) and RAM (default: fits the capture)\n"
            "  --guest-pool SIZE      guest.pt_pool the vm must leave free (default 8M)\n"
            "  --dma-len N            bytes per imported DMA, clipped to its page (default 64)\n"
            "  --exact-fault-reason   expect=fault:0xRR (the capture's reason) instead of expect=fault\n"
            "  --qi raw|none          guest level: replay the captured descriptors (raw, default) or not\n"
            "  --stale-window TIME    abs: an unmap this recent still allows the old address (1ms)\n"
            "  --dev BDF|SID          ftrace: the device iommu:map/unmap belong to\n"
            "  --synth-dma[=N]        ftrace: N (default 1) synthesized DMAs inside each mapped buffer\n"
            "                         between its map and unmap\n"
            "  --seed S               seed of --synth-dma (default 0)\n"
            "  --strict               unknown events, bad lines and time going back are errors\n"
            "  --quiet                no summary on stderr\n"
            "\n"
            "The summary (lines, events used, records, skipped events by kind) goes to stderr.\n"
            "Exit status: 0 success; 2 bad input or arguments ('FILE:LINE: what is wrong').\n");
}

static bool parse_u64(const char *s, uint64_t *v)
{
    char *end;
    if (!*s || *s == '-')
        return false;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno || *end)
        return false;
    *v = x;
    return true;
}

/* NUMBER[K|M|G] */
static bool parse_size(const char *s, uint64_t *v)
{
    char buf[64];
    size_t n = strlen(s);
    if (!n || n >= sizeof buf)
        return false;
    memcpy(buf, s, n + 1);
    unsigned shift = 0;
    char last = buf[n - 1];
    if (last == 'K' || last == 'k' || last == 'M' || last == 'm' || last == 'G' || last == 'g') {
        shift = (last == 'K' || last == 'k') ? 10 : (last == 'M' || last == 'm') ? 20 : 30;
        buf[n - 1] = '\0';
    }
    if (!parse_u64(buf, v) || (shift && *v > (UINT64_MAX >> shift)))
        return false;
    *v <<= shift;
    return true;
}

/* NUMBER[ns|us|ms|s] -> ps */
static bool parse_time(const char *s, uint64_t *ps)
{
    static const struct {
        const char *sfx;
        uint64_t mul;
    } units[] = {{"ns", 1000}, {"us", 1000000}, {"ms", 1000000000}, {"s", 1000000000000}};
    char buf[64];
    size_t n = strlen(s);
    if (!n || n >= sizeof buf)
        return false;
    memcpy(buf, s, n + 1);
    uint64_t mul = 1000;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t l = strlen(units[i].sfx);
        if (n > l && !strcmp(buf + n - l, units[i].sfx)) {
            mul = units[i].mul;
            buf[n - l] = '\0';
            break;
        }
    }
    uint64_t v;
    if (!parse_u64(buf, &v) || v > UINT64_MAX / mul)
        return false;
    *ps = v * mul;
    return true;
}

/* "BB:DD.F", "DDDD:BB:DD.F" or a SID number. */
static bool parse_dev(const char *s, uint32_t *sid)
{
    unsigned a, b, c, d;
    char tail;
    uint64_t v;
    if (sscanf(s, "%x:%x:%x.%x%c", &a, &b, &c, &d, &tail) == 4 && b <= 0xff && c <= 0x1f && d <= 7) {
        *sid = b << 8 | c << 3 | d;
        return true;
    }
    if (sscanf(s, "%x:%x.%x%c", &a, &b, &c, &tail) == 3 && a <= 0xff && b <= 0x1f && c <= 7) {
        *sid = a << 8 | b << 3 | c;
        return true;
    }
    if (parse_u64(s, &v) && v <= 0xffff) {
        *sid = (uint32_t)v;
        return true;
    }
    return false;
}

/* The value of "--opt VALUE" or "--opt=VALUE"; NULL (and an error) when missing. */
static const char *value(int argc, char **argv, int *i, const char *opt, int *status)
{
    const char *a = argv[*i];
    size_t ol = strlen(opt);
    if (a[ol] == '=')
        return a + ol + 1;
    if (*i + 1 >= argc) {
        *status = ims_cli_fail("import: %s needs a value", opt);
        return NULL;
    }
    return argv[++*i];
}

static bool is_opt(const char *a, const char *opt)
{
    size_t ol = strlen(opt);
    return !strncmp(a, opt, ol) && (a[ol] == '\0' || a[ol] == '=');
}

static int bad_value(const char *opt, const char *v)
{
    return ims_cli_fail("import: bad value '%s' for %s (see 'iommusim import --help')", v, opt);
}

int ims_cmd_import(int argc, char **argv)
{
    if (argc < 2)
        return ims_cli_fail("import: name the capture format: qemu-vtd or ftrace (see 'iommusim import --help')");
    if (ims_cli_is_help(argv[1]) || !strcmp(argv[1], "help")) {
        ims_cmd_import_help(stdout);
        return 0;
    }
    int fmt = ims_import_format_lookup(argv[1]);
    if (fmt < 0)
        return ims_cli_fail("import: unknown capture format '%s' (qemu-vtd or ftrace)", argv[1]);
    ims_import_opts o;
    ims_import_opts_init(&o);
    const char *in = NULL, *out = "-";
    bool quiet = false;
    int status = 0;
    for (int i = 2; i < argc && !status; i++) {
        const char *a = argv[i], *v = NULL;
        uint64_t n = 0;
        if (ims_cli_is_help(a)) {
            ims_cmd_import_help(stdout);
            return 0;
        } else if (!strcmp(a, "-o") || is_opt(a, "--output")) {
            if ((v = value(argc, argv, &i, !strcmp(a, "-o") ? "-o" : "--output", &status)))
                out = v;
        } else if (is_opt(a, "--level")) {
            if (!(v = value(argc, argv, &i, "--level", &status)))
                break;
            if (!strcmp(v, "host"))
                o.level = IMS_IMPORT_LEVEL_HOST;
            else if (!strcmp(v, "guest"))
                o.level = IMS_IMPORT_LEVEL_GUEST;
            else
                status = bad_value("--level", v);
        } else if (is_opt(a, "--time")) {
            if (!(v = value(argc, argv, &i, "--time", &status)))
                break;
            if (!strcmp(v, "abs"))
                o.time = IMS_IMPORT_TIME_ABS;
            else if (!strcmp(v, "rel"))
                o.time = IMS_IMPORT_TIME_REL;
            else if (!strcmp(v, "none"))
                o.time = IMS_IMPORT_TIME_NONE;
            else
                status = bad_value("--time", v);
        } else if (is_opt(a, "--time-offset")) {
            if ((v = value(argc, argv, &i, "--time-offset", &status)) && !parse_time(v, &o.time_offset_ps))
                status = bad_value("--time-offset", v);
            o.time_offset_set = true;
        } else if (is_opt(a, "--stale-window")) {
            if ((v = value(argc, argv, &i, "--stale-window", &status)) &&
                (!parse_time(v, &o.stale_window_ps) || !o.stale_window_ps))
                status = bad_value("--stale-window", v);
        } else if (is_opt(a, "--hpa-base")) {
            if ((v = value(argc, argv, &i, "--hpa-base", &status)) && (!parse_size(v, &o.hpa_base) || !o.hpa_base ||
                                                                       (o.hpa_base & 0xfff)))
                status = bad_value("--hpa-base", v);
        } else if (!strcmp(a, "--guest-expect")) {
            o.guest_expect = true;
            o.guest_expect_base = IMS_IMPORT_DEFAULT_HPA_BASE;
        } else if (!strncmp(a, "--guest-expect=", 15)) {
            o.guest_expect = true;
            if (!parse_size(a + 15, &o.guest_expect_base))
                status = bad_value("--guest-expect", a + 15);
        } else if (is_opt(a, "--vm")) {
            if ((v = value(argc, argv, &i, "--vm", &status)) && (!parse_u64(v, &n) || n > 0xffff))
                status = bad_value("--vm", v);
            o.vm_id = (unsigned)n;
        } else if (is_opt(a, "--vm-mem")) {
            if ((v = value(argc, argv, &i, "--vm-mem", &status)) && (!parse_size(v, &o.vm_mem) || !o.vm_mem))
                status = bad_value("--vm-mem", v);
        } else if (is_opt(a, "--guest-pool")) {
            if ((v = value(argc, argv, &i, "--guest-pool", &status)) && (!parse_size(v, &o.pool) || !o.pool))
                status = bad_value("--guest-pool", v);
        } else if (is_opt(a, "--dma-len")) {
            if ((v = value(argc, argv, &i, "--dma-len", &status)) && (!parse_size(v, &n) || !n || n > (1u << 30)))
                status = bad_value("--dma-len", v);
            o.dma_len = (uint32_t)n;
        } else if (!strcmp(a, "--exact-fault-reason")) {
            o.exact_fault_reason = true;
        } else if (is_opt(a, "--qi")) {
            if (!(v = value(argc, argv, &i, "--qi", &status)))
                break;
            if (!strcmp(v, "raw"))
                o.qi = IMS_IMPORT_QI_RAW;
            else if (!strcmp(v, "none"))
                o.qi = IMS_IMPORT_QI_NONE;
            else
                status = bad_value("--qi", v);
        } else if (is_opt(a, "--dev")) {
            if ((v = value(argc, argv, &i, "--dev", &status)) && !parse_dev(v, &o.dev))
                status = bad_value("--dev", v);
        } else if (!strcmp(a, "--synth-dma")) {
            o.synth_dma = 1;
        } else if (!strncmp(a, "--synth-dma=", 12)) {
            if (!parse_u64(a + 12, &n) || !n || n > 1000)
                status = bad_value("--synth-dma", a + 12);
            o.synth_dma = (unsigned)n;
        } else if (is_opt(a, "--seed")) {
            if ((v = value(argc, argv, &i, "--seed", &status)) && !parse_u64(v, &o.seed))
                status = bad_value("--seed", v);
        } else if (!strcmp(a, "--strict")) {
            o.strict = true;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            quiet = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            status = ims_cli_fail("import: unknown option '%s' (see 'iommusim import --help')", a);
        } else if (in) {
            status = ims_cli_fail("import: one capture only ('%s' and '%s')", in, a);
        } else {
            in = a;
        }
    }
    if (status)
        return status;
    if (!in)
        return ims_cli_fail("import %s: name the capture file ('-' for stdin)", argv[1]);
    if (fmt == IMS_IMPORT_QEMU_VTD && (o.synth_dma || o.dev != IMS_IMPORT_NO_DEV))
        return ims_cli_fail("import qemu-vtd: --synth-dma and --dev are ftrace options (the QEMU log has the "
                            "DMAs and their devices)");
    ims_import_summary sum = {0};
    ims_error err = {0};
    int rc = ims_import_file((ims_import_format)fmt, in, out, &o, &sum, &err);
    if (rc) {
        fflush(stdout);
        fprintf(stderr, "%s\n", err.msg);
        ims_import_summary_free(&sum);
        return IOMMUSIM_EXIT_BAD_INPUT;
    }
    if (!quiet)
        ims_import_summary_write(&sum, stderr);
    ims_import_summary_free(&sum);
    return 0;
}
