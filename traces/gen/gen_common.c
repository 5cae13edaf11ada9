/* Shared machinery of the workload generators: the option tables and their
 * parser, the output plumbing, and the family interface (records, address
 * layout, open-loop schedule) declared in gen.h. */
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/config.h"
#include "traces/gen/gen.h"
#include "traces/stream.h"
#include "traces/text_writer.h"

#define TIME_MAX (1000ull * 1000000000000ull) /* 1000 s of simulated time */

static const ims_gen_opt common_opts[IMS_GEN_COMMON_COUNT] = {
    [IMS_GEN_SEED] = {"seed", IMS_GEN_OPT_UINT, "1", NULL, 0, UINT64_MAX,
                      "random seed: the same options and seed give the same trace, byte for byte"},
    [IMS_GEN_LEVEL] = {"level", IMS_GEN_OPT_ENUM, "host", "host|guest", 0, 0,
                       "host: bare metal through iommufd.* records; guest: a VM (vm record, guest.* records)"},
    [IMS_GEN_MODE] = {"mode", IMS_GEN_OPT_ENUM, "nested", "nested|shadow", 0, 0,
                      "guest level: the vIOMMU mode of the VM"},
    [IMS_GEN_VM_MEM] = {"vm-mem", IMS_GEN_OPT_SIZE, "0", NULL, 0, 1ull << 46,
                        "guest level: guest RAM; 0 = the data plus 64M for the guest's page tables, whole GiB"},
    [IMS_GEN_ATS] = {"ats", IMS_GEN_OPT_BOOL, "off", NULL, 0, 1, "devices have an ATS device-TLB"},
    [IMS_GEN_OUTSTANDING] = {"outstanding", IMS_GEN_OPT_UINT, "0", NULL, 0, 65536,
                             "DMAs a device keeps in flight; 0 = the config's dev.outstanding"},
    [IMS_GEN_INTERVAL] = {"interval", IMS_GEN_OPT_TIME, "0", NULL, 0, TIME_MAX,
                          "time between operation starts (open loop, every record @T); 0 = closed loop, "
                          "each record issues when the previous one completed"},
    [IMS_GEN_ARRIVAL] = {"arrival", IMS_GEN_OPT_ENUM, "fixed", "fixed|poisson", 0, 0,
                         "open loop: fixed spacing, or exponential spacing with mean --interval"},
    [IMS_GEN_START] = {"start", IMS_GEN_OPT_TIME, "100us", NULL, 0, TIME_MAX,
                       "open loop: time of the first operation; setup records are @0 and must be done by then"},
    [IMS_GEN_WARMUP] = {"warmup", IMS_GEN_OPT_UINT, "0", NULL, 0, UINT32_MAX,
                        "operations in phase 'warmup' before phase 'run' (setup is in phase 'start')"},
    [IMS_GEN_IOVA_REUSE] = {"iova-reuse", IMS_GEN_OPT_TIME, "100us", NULL, 0, TIME_MAX,
                            "open loop: an unmapped IOVA is handed out again only this long after its unmap "
                            "was issued (the unmap must have completed by then)"},
};

static const ims_gen_family *const families[] = {&ims_gen_nic, &ims_gen_storage, &ims_gen_uniform, &ims_gen_sva};

const ims_gen_family *ims_gen_family_at(size_t i)
{
    return i < sizeof families / sizeof families[0] ? families[i] : NULL;
}

const ims_gen_family *ims_gen_family_find(const char *name)
{
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (!strcmp(families[i]->name, name))
            return families[i];
    return NULL;
}

const ims_gen_opt *ims_gen_common_opts(unsigned *n)
{
    *n = IMS_GEN_COMMON_COUNT;
    return common_opts;
}

/* ---- option values -------------------------------------------------------------------------- */

static int choice_index(const char *choices, const char *word)
{
    size_t wl = strlen(word);
    int i = 0;
    for (const char *p = choices;; i++) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == wl && !strncmp(p, word, n))
            return i;
        if (!bar)
            return -1;
        p = bar + 1;
    }
}

static const char *choice_word(const char *choices, uint64_t idx, size_t *len)
{
    const char *p = choices;
    for (uint64_t i = 0; i < idx && strchr(p, '|'); i++)
        p = strchr(p, '|') + 1;
    const char *bar = strchr(p, '|');
    *len = bar ? (size_t)(bar - p) : strlen(p);
    return p;
}

static int parse_value(const ims_gen_opt *o, const char *val, uint64_t *out, ims_error *err)
{
    int rc = 0;
    switch (o->type) {
    case IMS_GEN_OPT_UINT:
    case IMS_GEN_OPT_ADDR:
        rc = ims_parse_u64(val, out);
        break;
    case IMS_GEN_OPT_SIZE:
        rc = ims_parse_size(val, out);
        break;
    case IMS_GEN_OPT_TIME:
        rc = ims_parse_time_ps(val, "ns", out);
        break;
    case IMS_GEN_OPT_ENUM: {
        int i = choice_index(o->choices, val);
        if (i < 0)
            return ims_errorf(err, EINVAL, "--%s: '%s' is not one of %s", o->name, val, o->choices);
        *out = (uint64_t)i;
        return 0;
    }
    case IMS_GEN_OPT_BOOL: {
        int i = choice_index("off|on|false|true|no|yes|0|1", val);
        if (i < 0)
            return ims_errorf(err, EINVAL, "--%s: '%s' is not on/off (or true/false, yes/no, 1/0)", o->name, val);
        *out = (uint64_t)(i & 1);
        return 0;
    }
    }
    if (rc) {
        static const char *const what[] = {"a number", "a number", "a size (e.g. 4K, 2M)",
                                           "a time (e.g. 500ns, 2us)"};
        return ims_errorf(err, EINVAL, "--%s: '%s' is not %s", o->name, val, what[o->type]);
    }
    if (*out < o->min || *out > o->max) {
        char lo[32], hi[32];
        ims_gen_opt_format(o, o->min, lo, sizeof lo);
        ims_gen_opt_format(o, o->max, hi, sizeof hi);
        return ims_errorf(err, ERANGE, "--%s: %s is out of range (%s..%s)", o->name, val, lo, hi);
    }
    return 0;
}

size_t ims_gen_opt_format(const ims_gen_opt *o, uint64_t v, char *buf, size_t cap)
{
    static const struct {
        char suffix;
        unsigned shift;
    } units[] = {{'T', 40}, {'G', 30}, {'M', 20}, {'K', 10}};
    int n = 0;
    switch (o->type) {
    case IMS_GEN_OPT_UINT:
        n = snprintf(buf, cap, "%" PRIu64, v);
        break;
    case IMS_GEN_OPT_ADDR:
        n = snprintf(buf, cap, "0x%" PRIx64, v);
        break;
    case IMS_GEN_OPT_SIZE:
        for (size_t i = 0; v && i < 4; i++)
            if (!(v & ((1ull << units[i].shift) - 1)))
                return (size_t)snprintf(buf, cap, "%" PRIu64 "%c", v >> units[i].shift, units[i].suffix);
        n = snprintf(buf, cap, "%" PRIu64, v);
        break;
    case IMS_GEN_OPT_TIME:
        return ims_trace_format_time(v, buf, cap);
    case IMS_GEN_OPT_ENUM: {
        size_t len;
        const char *w = choice_word(o->choices, v, &len);
        n = snprintf(buf, cap, "%.*s", (int)len, w);
        break;
    }
    case IMS_GEN_OPT_BOOL:
        n = snprintf(buf, cap, "%s", v ? "on" : "off");
        break;
    }
    return n > 0 ? (size_t)n : 0;
}

/* ---- parameters ----------------------------------------------------------------------------- */

/* The option named `name`: *common tells which table, *idx its index. */
static const ims_gen_opt *find_opt(const ims_gen_family *fam, const char *name, bool *common, unsigned *idx)
{
    for (unsigned i = 0; i < IMS_GEN_COMMON_COUNT; i++)
        if (!strcmp(common_opts[i].name, name)) {
            *common = true;
            *idx = i;
            return &common_opts[i];
        }
    for (unsigned i = 0; fam && i < fam->nopts; i++)
        if (!strcmp(fam->opts[i].name, name)) {
            *common = false;
            *idx = i;
            return &fam->opts[i];
        }
    return NULL;
}

void ims_gen_params_init(ims_gen_params *p, const ims_gen_family *fam)
{
    memset(p, 0, sizeof *p);
    p->fam = fam;
    ims_error e = {0};
    for (unsigned i = 0; i < IMS_GEN_COMMON_COUNT; i++) {
        int rc = parse_value(&common_opts[i], common_opts[i].def, &p->common[i], &e);
        (void)rc;
        assert(rc == 0 && "a common option's default does not parse");
    }
    for (unsigned i = 0; fam && i < fam->nopts && i < IMS_GEN_OPTS_MAX; i++) {
        int rc = parse_value(&fam->opts[i], fam->opts[i].def, &p->v[i], &e);
        (void)rc;
        assert(rc == 0 && "a family option's default does not parse");
    }
}

static int unknown_option(const ims_gen_params *p, const char *name, ims_error *err)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (unsigned t = 0; t < 2; t++) {
        const ims_gen_opt *opts = t ? (p->fam ? p->fam->opts : NULL) : common_opts;
        unsigned n = t ? (p->fam ? p->fam->nopts : 0) : IMS_GEN_COMMON_COUNT;
        for (unsigned i = 0; i < n; i++) {
            size_t d = ims_edit_distance(name, opts[i].name);
            if (d < best_d) {
                best_d = d;
                best = opts[i].name;
            }
        }
    }
    const char *fam = p->fam ? p->fam->name : "";
    if (best && best_d <= 2)
        return ims_errorf(err, EINVAL, "unknown option '--%s' (did you mean --%s?)", name, best);
    return ims_errorf(err, EINVAL, "unknown option '--%s' (see 'iommusim gen %s --help')", name, fam);
}

int ims_gen_params_set(ims_gen_params *p, const char *name, const char *value, ims_error *err)
{
    bool common;
    unsigned idx;
    const ims_gen_opt *o = find_opt(p->fam, name, &common, &idx);
    if (!o)
        return unknown_option(p, name, err);
    uint64_t v = 1;
    if (!value && o->type != IMS_GEN_OPT_BOOL)
        return ims_errorf(err, EINVAL, "--%s needs a value", name);
    if (value) {
        int rc = parse_value(o, value, &v, err);
        if (rc)
            return rc;
    }
    if (common) {
        p->common[idx] = v;
        p->common_given |= 1ull << idx;
    } else {
        p->v[idx] = v;
        p->given |= 1ull << idx;
    }
    return 0;
}

int ims_gen_params_parse_arg(ims_gen_params *p, int argc, char **argv, int *i, ims_error *err)
{
    const char *a = argv[*i];
    if (strncmp(a, "--", 2) || !a[2])
        return ims_errorf(err, EINVAL, "unexpected argument '%s' (options are --name VALUE)", a);
    char name[64];
    const char *eq = strchr(a + 2, '=');
    size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
    if (n >= sizeof name)
        return ims_errorf(err, EINVAL, "unknown option '%.40s...'", a);
    memcpy(name, a + 2, n);
    name[n] = '\0';
    bool common;
    unsigned idx;
    const ims_gen_opt *o = find_opt(p->fam, name, &common, &idx);
    if (!o)
        return unknown_option(p, name, err);
    const char *val = eq ? eq + 1 : NULL;
    if (!eq && o->type != IMS_GEN_OPT_BOOL) {
        if (*i + 1 >= argc)
            return ims_errorf(err, EINVAL, "--%s needs a value", name);
        val = argv[++*i];
    }
    ++*i;
    return ims_gen_params_set(p, name, val, err);
}

bool ims_gen_params_get(const ims_gen_params *p, const char *name, uint64_t *out)
{
    bool common;
    unsigned idx;
    if (!find_opt(p->fam, name, &common, &idx))
        return false;
    *out = common ? p->common[idx] : p->v[idx];
    return true;
}

static bool guest_only(unsigned i)
{
    return i == IMS_GEN_MODE || i == IMS_GEN_VM_MEM;
}

static bool open_only(unsigned i)
{
    return i == IMS_GEN_ARRIVAL || i == IMS_GEN_START || i == IMS_GEN_IOVA_REUSE;
}

int ims_gen_params_check(const ims_gen_params *p, ims_error *err)
{
    if (!p->fam)
        return ims_errorf(err, EINVAL, "no workload family");
    bool guest = p->common[IMS_GEN_LEVEL] == IMS_GEN_LEVEL_GUEST, open = p->common[IMS_GEN_INTERVAL] > 0;
    for (unsigned i = 0; i < IMS_GEN_COMMON_COUNT; i++) {
        if (!((p->common_given >> i) & 1))
            continue;
        if (guest_only(i) && !guest)
            return ims_errorf(err, EINVAL, "--%s applies to --level guest only", common_opts[i].name);
        if (open_only(i) && !open)
            return ims_errorf(err, EINVAL, "--%s applies to an open loop only (--interval > 0)",
                              common_opts[i].name);
    }
    return p->fam->check ? p->fam->check(p, err) : 0;
}

/* Options that matter for these parameters (no guest-only ones at host level,
 * no open-loop ones in a closed loop). */
static bool in_effect(const ims_gen_params *p, unsigned i)
{
    if (guest_only(i) && p->common[IMS_GEN_LEVEL] != IMS_GEN_LEVEL_GUEST)
        return false;
    return !(open_only(i) && p->common[IMS_GEN_INTERVAL] == 0);
}

size_t ims_gen_params_format(const ims_gen_params *p, char *buf, size_t cap)
{
    size_t len = 0;
    char v[64];
    for (unsigned t = 0; t < 2; t++) {
        unsigned n = t ? p->fam->nopts : IMS_GEN_COMMON_COUNT;
        for (unsigned i = 0; i < n; i++) {
            if (!t && !in_effect(p, i))
                continue;
            const ims_gen_opt *o = t ? &p->fam->opts[i] : &common_opts[i];
            ims_gen_opt_format(o, t ? p->v[i] : p->common[i], v, sizeof v);
            /* Booleans as --name=on|off: a bare --name is the parser's "on". */
            int k = snprintf(len < cap ? buf + len : NULL, len < cap ? cap - len : 0, "%s--%s%s%s",
                             len ? " " : "", o->name, o->type == IMS_GEN_OPT_BOOL ? "=" : " ", v);
            len += k > 0 ? (size_t)k : 0;
        }
    }
    return len;
}

/* ---- output --------------------------------------------------------------------------------- */

ims_trace_form ims_gen_form_of_path(const char *path)
{
    size_t n = strlen(path);
    if (ims_trace_path_is_zstd(path))
        n -= 4;
    return n >= 4 && !strncmp(path + n - 4, ".bin", 4) ? IMS_TRACE_BINARY : IMS_TRACE_TEXT;
}

int ims_gen_write(const ims_gen_params *p, ims_trace_writer *w, ims_error *err)
{
    int rc = ims_gen_params_check(p, err);
    if (rc)
        return rc;
    ims_gen g = {.p = p, .w = w, .err = err};
    ims_trace_rec_init(&g.rec);
    ims_rng_seed(&g.rng, p->common[IMS_GEN_SEED]);
    g.guest = p->common[IMS_GEN_LEVEL] == IMS_GEN_LEVEL_GUEST;
    g.open = p->common[IMS_GEN_INTERVAL] > 0;
    g.phys_next = g.phys_end = g.guest ? IMS_GEN_GUEST_PHYS_BASE : IMS_GEN_HOST_PHYS_BASE;
    rc = p->fam->generate(&g);
    if (!rc)
        rc = g.rc;
    free(g.heap);
    ims_trace_rec_free(&g.rec);
    return rc;
}

/* "# iommusim gen FAMILY" and every option, wrapped, before the header. */
static int write_comment(ims_trace_sink *s, const ims_gen_params *p, ims_error *err)
{
    size_t n = ims_gen_params_format(p, NULL, 0);
    char *opts = malloc(n + 1);
    if (!opts)
        return ims_errorf(err, ENOMEM, "out of memory");
    ims_gen_params_format(p, opts, n + 1);
    char line[160];
    int len = snprintf(line, sizeof line, "# iommusim gen %s: %s\n#", p->fam->name, p->fam->summary);
    int rc = ims_trace_sink_write(s, line, (size_t)len, err);
    size_t col = 1;
    for (char *w = strtok(opts, " "); w && !rc; w = strtok(NULL, " ")) {
        bool opt = w[0] == '-';
        size_t wl = strlen(w);
        if (opt && col + 1 + wl > 100) {
            rc = ims_trace_sink_write(s, "\n#", 2, err);
            col = 1;
        }
        if (!rc)
            rc = ims_trace_sink_write(s, " ", 1, err);
        if (!rc)
            rc = ims_trace_sink_write(s, w, wl, err);
        col += 1 + wl;
    }
    if (!rc)
        rc = ims_trace_sink_write(s, "\n", 1, err);
    free(opts);
    return rc;
}

/* Write through sink s (not closed here): comment, records, end. */
static int write_sink(const ims_gen_params *p, ims_trace_sink *s, ims_trace_form form, ims_error *err)
{
    int rc = form == IMS_TRACE_TEXT ? write_comment(s, p, err) : 0;
    if (rc)
        return rc;
    ims_trace_writer *w = ims_trace_writer_open_sink(s, false, form, false, err);
    if (!w)
        return err && err->code ? err->code : -ENOMEM;
    rc = ims_gen_write(p, w, err);
    ims_error e2 = {0};
    int rc2 = ims_trace_writer_close(w, &e2);
    if (!rc && rc2) {
        if (err)
            *err = e2;
        rc = rc2;
    }
    return rc;
}

int ims_gen_write_path(const ims_gen_params *p, const char *path, ims_trace_form form, ims_error *err)
{
    int rc = ims_gen_params_check(p, err);
    if (rc)
        return rc;
    /* A dry run first, so that an error found deep in the workload (the guest
     * RAM too small ...) leaves no partial output behind. */
    rc = ims_gen_write(p, NULL, err);
    if (rc)
        return rc;
    bool std_out = !strcmp(path, "-");
    FILE *f = std_out ? stdout : fopen(path, "wb");
    if (!f)
        return ims_errorf(err, errno ? errno : EIO, "%s: cannot create: %s", path, strerror(errno));
    ims_trace_sink *file = ims_trace_sink_file(f, !std_out);
    ims_trace_sink *s = file && ims_trace_path_is_zstd(path) ? ims_trace_sink_zstd(file, false, 0) : file;
    if (!s) {
        ims_trace_sink_close(file);
        return ims_errorf(err, ENOMEM, "%s: out of memory", path);
    }
    rc = write_sink(p, s, form, err); /* finishing the zstd layer finishes the file too */
    if (s != file)
        ims_trace_sink_close(s);
    ims_trace_sink_close(file);
    if (rc && !std_out)
        remove(path); /* no half-written trace left behind */
    return rc;
}

int ims_gen_write_mem(const ims_gen_params *p, ims_trace_form form, bool zstd, uint8_t **data, size_t *len,
                      ims_error *err)
{
    *data = NULL;
    *len = 0;
    ims_trace_sink *mem = ims_trace_sink_mem();
    ims_trace_sink *s = mem && zstd ? ims_trace_sink_zstd(mem, false, 0) : mem;
    if (!s) {
        ims_trace_sink_close(mem);
        return ims_errorf(err, ENOMEM, "out of memory");
    }
    int rc = write_sink(p, s, form, err);
    if (s != mem)
        ims_trace_sink_close(s);
    size_t n = 0;
    const uint8_t *d = ims_trace_sink_mem_data(mem, &n);
    if (!rc) {
        *data = malloc(n ? n : 1);
        if (*data) {
            memcpy(*data, d, n);
            *len = n;
        } else {
            rc = ims_errorf(err, ENOMEM, "out of memory");
        }
    }
    ims_trace_sink_close(mem);
    return rc;
}
