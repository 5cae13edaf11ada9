/* The per-verb schema of trace format v1: which keys each verb takes, their
 * types, ranges and defaults. Parser, validator, text writer and binary codec
 * all read this one table. */
#include <stdint.h>
#include <string.h>

#include "sim/config.h"
#include "traces/record.h"

#define REQ IMS_TF_REQUIRED
#define HEX IMS_TF_HEX
#define ADDR (IMS_TF_HEX | IMS_TF_ADDR)
#define NOWRAP IMS_TF_NOWRAP
#define U32 0xffffffffull
#define U64 UINT64_MAX
#define NEEDS(k) (1u + (unsigned)IMS_K_##k)

/* Field constructors. */
#define NUM(k, fl, lo, hi) {.key = IMS_K_##k, .type = IMS_TV_NUM, .flags = (fl), .min = (lo), .max = (hi)}
#define NUMD(k, fl, lo, hi, d) \
    {.key = IMS_K_##k, .type = IMS_TV_NUM, .flags = (fl), .min = (lo), .max = (hi), .def = (d)}
#define SIZE(k, fl, lo) {.key = IMS_K_##k, .type = IMS_TV_SIZE, .flags = (fl), .min = (lo), .max = U64}
#define FLAG(k) {.key = IMS_K_##k, .type = IMS_TV_FLAG}
#define STR(k, t, fl) {.key = IMS_K_##k, .type = IMS_TV_##t, .flags = (fl)}

/* Keys shared by several verbs. */
#define UNIT NUMD(UNIT, 0, 0, IMS_TRACE_UNIT_MAX, 0)
#define VMID NUM(VM, REQ, 0, 0xffff)
#define DEV STR(DEV, DEV, REQ)
#define PASID NUM(PASID, 0, 0, IMS_TRACE_PASID_MAX)
#define PASID_REQ NUM(PASID, REQ, 0, IMS_TRACE_PASID_MAX)
#define HOST_EXPECT STR(EXPECT, ERR_EXPECT, 0)
#define PROT {.key = IMS_K_PROT, .type = IMS_TV_ENUM, .choices = "r|w|rw", .def = IMS_TRACE_PROT_RW}
#define S1_AW(fl, req) \
    {.key = IMS_K_S1_AW, .type = IMS_TV_NUMSET, .flags = (fl), .choices = "48|57", .def = 48, .requires = (req)}
#define MMIO_OFF(a) {.key = IMS_K_OFF, .type = IMS_TV_NUM, .flags = REQ | HEX, .max = 0xffff, .align = (a)}

static const ims_trace_verb_schema schemas[IMS_V_COUNT] = {
    [IMS_V_IOMMU] = {"iommu", IMS_VC_TOPOLOGY, 4, {
        UNIT, NUM(CAP, HEX, 0, U64), NUM(ECAP, HEX, 0, U64), NUM(BASE, ADDR, 0, U64)}},
    [IMS_V_DEVICE] = {"device", IMS_VC_TOPOLOGY, 8, {
        NUM(SID, REQ | HEX, 0, 0xffff), UNIT, NUM(VM, 0, 0, 0xffff), STR(NAME, NAME, 0), FLAG(ATS),
        NUM(PASID_BITS, 0, 0, 20),
        {.key = IMS_K_PRI, .type = IMS_TV_FLAG, .requires = NEEDS(ATS)},
        NUM(OUTSTANDING, 0, 1, 65536)}},
    [IMS_V_VM] = {"vm", IMS_VC_TOPOLOGY, 3, {
        NUM(ID, REQ, 0, 0xffff), SIZE(MEM, REQ, 1),
        {.key = IMS_K_MODE, .type = IMS_TV_ENUM, .choices = "nested|shadow", .def = IMS_TRACE_MODE_NESTED}}},

    [IMS_V_MEM_W32] = {"mem.w32", IMS_VC_RAW, 2, {
        NUM(PA, REQ | ADDR | NOWRAP, 0, U64), NUM(VAL, REQ | HEX, 0, U32)}},
    [IMS_V_MEM_W64] = {"mem.w64", IMS_VC_RAW, 2, {
        NUM(PA, REQ | ADDR | NOWRAP, 0, U64), NUM(VAL, REQ | HEX, 0, U64)}},
    [IMS_V_MEM_WRITE] = {"mem.write", IMS_VC_RAW, 2, {
        NUM(PA, REQ | ADDR | NOWRAP, 0, U64), STR(HEX, HEX, REQ)}},
    [IMS_V_MEM_LOAD] = {"mem.load", IMS_VC_RAW, 1, {STR(ELF, PATH, REQ)}},
    [IMS_V_MMIO_W32] = {"mmio.w32", IMS_VC_RAW, 3, {UNIT, MMIO_OFF(4), NUM(VAL, REQ | HEX, 0, U32)}},
    [IMS_V_MMIO_W64] = {"mmio.w64", IMS_VC_RAW, 3, {UNIT, MMIO_OFF(8), NUM(VAL, REQ | HEX, 0, U64)}},
    [IMS_V_MMIO_R32] = {"mmio.r32", IMS_VC_RAW, 4, {
        UNIT, MMIO_OFF(4), NUM(EXPECT, HEX, 0, U32),
        {.key = IMS_K_MASK, .type = IMS_TV_NUM, .flags = HEX, .max = U32, .def = U32, .requires = NEEDS(EXPECT)}}},
    [IMS_V_MMIO_R64] = {"mmio.r64", IMS_VC_RAW, 4, {
        UNIT, MMIO_OFF(8), NUM(EXPECT, HEX, 0, U64),
        {.key = IMS_K_MASK, .type = IMS_TV_NUM, .flags = HEX, .max = U64, .def = U64, .requires = NEEDS(EXPECT)}}},
    [IMS_V_WAIT_MEM] = {"wait.mem", IMS_VC_RAW, 4, {
        NUM(PA, REQ | ADDR | NOWRAP, 0, U64), NUM(VAL, REQ | HEX, 0, U32), NUMD(MASK, HEX, 0, U32, U32),
        {.key = IMS_K_TIMEOUT, .type = IMS_TV_TIME, .min = 1, .max = U64, .def = 10000000000ull}}},

    [IMS_V_DMA] = {"dma", IMS_VC_DEVICE, 9, {
        DEV, PASID, NUM(IOVA, REQ | ADDR | NOWRAP, 0, U64), SIZE(LEN, REQ, 1), FLAG(RD), FLAG(WR),
        FLAG(PRIV), FLAG(EXEC), STR(EXPECT, DMA_EXPECT, 0)}},

    /* Host level: values pass through unchecked beyond their syntax so a trace
     * can drive the errno paths (unaligned, zero-length, overflowing ranges). */
    [IMS_V_IOAS_ALLOC] = {"iommufd.ioas_alloc", IMS_VC_HOST, 2, {STR(OUT, NAME, REQ), HOST_EXPECT}},
    [IMS_V_IOAS_MAP] = {"iommufd.ioas_map", IMS_VC_HOST, 6, {
        STR(IOAS, NAME, REQ), NUM(IOVA, REQ | ADDR, 0, U64), SIZE(LEN, REQ, 0), PROT,
        NUM(HPA, ADDR, 0, U64), HOST_EXPECT}},
    [IMS_V_IOAS_UNMAP] = {"iommufd.ioas_unmap", IMS_VC_HOST, 4, {
        STR(IOAS, NAME, REQ), NUM(IOVA, REQ | ADDR, 0, U64), SIZE(LEN, REQ, 0), HOST_EXPECT}},
    [IMS_V_HWPT_ALLOC] = {"iommufd.hwpt_alloc", IMS_VC_HOST, 8, {
        DEV, STR(PT, NAME, REQ),
        /* alloc_pasid: an extension beyond trace-text v1 (docs/trace-format.md). */
        {.key = IMS_K_FLAGS, .type = IMS_TV_BITS, .choices = "nest_parent|dirty_tracking|alloc_pasid"},
        NUM(S1_PGTBL, ADDR, 0, U64), S1_AW(0, NEEDS(S1_PGTBL)),
        {.key = IMS_K_S1_FLAGS, .type = IMS_TV_BITS, .choices = "sre|eafe|wpe", .requires = NEEDS(S1_PGTBL)},
        STR(OUT, NAME, REQ), HOST_EXPECT}},
    [IMS_V_ATTACH] = {"iommufd.attach", IMS_VC_HOST, 4, {DEV, STR(PT, NAME, REQ), PASID, HOST_EXPECT}},
    [IMS_V_DETACH] = {"iommufd.detach", IMS_VC_HOST, 3, {DEV, PASID, HOST_EXPECT}},
    [IMS_V_HWPT_INVALIDATE] = {"iommufd.hwpt_invalidate", IMS_VC_HOST, 4, {
        STR(HWPT, NAME, REQ), STR(ENTRIES, ENTRIES, REQ), HOST_EXPECT, NUM(EXPECT_DONE, 0, 0, U32)}},
    [IMS_V_GET_HW_INFO] = {"iommufd.get_hw_info", IMS_VC_HOST, 2, {DEV, HOST_EXPECT}},
    [IMS_V_DESTROY] = {"iommufd.destroy", IMS_VC_HOST, 2, {STR(ID, NAME, REQ), HOST_EXPECT}},

    [IMS_V_GUEST_MAP] = {"guest.map", IMS_VC_GUEST, 7, {
        VMID, DEV, PASID, NUM(IOVA, REQ | ADDR | NOWRAP, 0, U64), NUM(GPA, REQ | ADDR | NOWRAP, 0, U64),
        SIZE(LEN, REQ, 1), PROT}},
    [IMS_V_GUEST_UNMAP] = {"guest.unmap", IMS_VC_GUEST, 5, {
        VMID, DEV, PASID, NUM(IOVA, REQ | ADDR | NOWRAP, 0, U64), SIZE(LEN, REQ, 1)}},
    [IMS_V_GUEST_QI] = {"guest.qi", IMS_VC_GUEST, 5, {
        VMID, NUM(Q0, REQ | HEX, 0, U64), NUM(Q1, REQ | HEX, 0, U64),
        {.key = IMS_K_Q2, .type = IMS_TV_NUM, .flags = HEX, .max = U64, .requires = NEEDS(Q3)},
        {.key = IMS_K_Q3, .type = IMS_TV_NUM, .flags = HEX, .max = U64, .requires = NEEDS(Q2)}}},
    [IMS_V_GUEST_QI_SYNC] = {"guest.qi_sync", IMS_VC_GUEST, 1, {VMID}},
    [IMS_V_GUEST_PASID_BIND] = {"guest.pasid_bind", IMS_VC_GUEST, 5, {
        VMID, DEV, PASID_REQ, NUM(S1_PGTBL, REQ | ADDR, 0, U64), S1_AW(0, 0)}},
    [IMS_V_GUEST_PASID_UNBIND] = {"guest.pasid_unbind", IMS_VC_GUEST, 3, {VMID, DEV, PASID_REQ}},

    [IMS_V_MARK] = {"mark", IMS_VC_CONTROL, 1, {STR(NAME, NAME, REQ)}},
    [IMS_V_DRAIN] = {"drain", IMS_VC_CONTROL, 0, {{0}}},
};

static const char *const key_names[IMS_K_COUNT] = {
    [IMS_K_UNIT] = "unit", [IMS_K_CAP] = "cap", [IMS_K_ECAP] = "ecap", [IMS_K_BASE] = "base",
    [IMS_K_SID] = "sid", [IMS_K_VM] = "vm", [IMS_K_NAME] = "name", [IMS_K_ATS] = "ats",
    [IMS_K_PASID_BITS] = "pasid_bits", [IMS_K_PRI] = "pri", [IMS_K_OUTSTANDING] = "outstanding",
    [IMS_K_ID] = "id", [IMS_K_MEM] = "mem", [IMS_K_MODE] = "mode", [IMS_K_PA] = "pa",
    [IMS_K_VAL] = "val", [IMS_K_HEX] = "hex", [IMS_K_ELF] = "elf", [IMS_K_OFF] = "off",
    [IMS_K_EXPECT] = "expect", [IMS_K_MASK] = "mask", [IMS_K_TIMEOUT] = "timeout",
    [IMS_K_DEV] = "dev", [IMS_K_PASID] = "pasid", [IMS_K_IOVA] = "iova", [IMS_K_LEN] = "len",
    [IMS_K_RD] = "rd", [IMS_K_WR] = "wr", [IMS_K_PRIV] = "priv", [IMS_K_EXEC] = "exec",
    [IMS_K_OUT] = "out", [IMS_K_IOAS] = "ioas", [IMS_K_PROT] = "prot", [IMS_K_HPA] = "hpa",
    [IMS_K_PT] = "pt", [IMS_K_FLAGS] = "flags", [IMS_K_S1_PGTBL] = "s1_pgtbl",
    [IMS_K_S1_AW] = "s1_aw", [IMS_K_S1_FLAGS] = "s1_flags", [IMS_K_HWPT] = "hwpt",
    [IMS_K_ENTRIES] = "entries", [IMS_K_EXPECT_DONE] = "expect_done", [IMS_K_GPA] = "gpa",
    [IMS_K_Q0] = "q0", [IMS_K_Q1] = "q1", [IMS_K_Q2] = "q2", [IMS_K_Q3] = "q3",
};

/* Linux errno numbers, fixed here (not taken from the build host's errno.h) so
 * the binary form means the same everywhere. */
static const struct {
    const char *name;
    int value;
} errno_names[] = {
    {"ok", 0},        {"EPERM", 1},      {"ENOENT", 2},     {"E2BIG", 7},      {"ENOMEM", 12},
    {"EFAULT", 14},   {"EBUSY", 16},     {"EEXIST", 17},    {"EINVAL", 22},    {"ENOTTY", 25},
    {"EOVERFLOW", 75}, {"EMSGSIZE", 90}, {"EOPNOTSUPP", 95}, {"ETIMEDOUT", 110},
};

const ims_trace_verb_schema *ims_trace_schema(ims_trace_verb v)
{
    if ((unsigned)v <= IMS_V_NONE || (unsigned)v >= IMS_V_COUNT)
        return NULL;
    return &schemas[v];
}

const char *ims_trace_verb_name(ims_trace_verb v)
{
    const ims_trace_verb_schema *s = ims_trace_schema(v);
    return s ? s->name : "?";
}

const char *ims_trace_key_name(ims_trace_key k)
{
    return (unsigned)k < IMS_K_COUNT ? key_names[k] : "?";
}

ims_trace_verb ims_trace_verb_lookup(const char *name)
{
    for (unsigned v = IMS_V_NONE + 1; v < IMS_V_COUNT; v++)
        if (!strcmp(schemas[v].name, name))
            return (ims_trace_verb)v;
    return IMS_V_NONE;
}

ims_trace_key ims_trace_key_lookup(const char *name)
{
    for (unsigned k = 0; k < IMS_K_COUNT; k++)
        if (!strcmp(key_names[k], name))
            return (ims_trace_key)k;
    return IMS_K_COUNT;
}

const ims_trace_field *ims_trace_field_of(ims_trace_verb v, ims_trace_key k)
{
    const ims_trace_verb_schema *s = ims_trace_schema(v);
    if (!s)
        return NULL;
    for (unsigned i = 0; i < s->nfields; i++)
        if (s->fields[i].key == k)
            return &s->fields[i];
    return NULL;
}

/* A verb is suggested when it is within a third of its length (at least 2
 * edits) of the typo, or when the typo is its name without the "layer." part
 * ("ioas_map" -> "iommufd.ioas_map"). */
const char *ims_trace_verb_suggest(const char *name)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX, best_dl = SIZE_MAX, nl = strlen(name);
    for (unsigned v = IMS_V_NONE + 1; v < IMS_V_COUNT; v++) {
        const char *cand = schemas[v].name, *dot = strchr(cand, '.');
        size_t d = ims_edit_distance(name, cand), len = strlen(cand);
        size_t limit = len / 3 > 2 ? len / 3 : 2, dl = len > nl ? len - nl : nl - len;
        if (dot && !strcmp(dot + 1, name))
            d = 1;
        /* Ties go to the candidate of the same length: a swap ("dam") is
         * two edits, like a different short word ("vm"). */
        if (d <= limit && (d < best_d || (d == best_d && dl < best_dl))) {
            best_d = d;
            best_dl = dl;
            best = cand;
        }
    }
    return best;
}

int ims_trace_errno_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++)
        if (!strcmp(errno_names[i].name, name))
            return errno_names[i].value;
    return -1;
}

const char *ims_trace_errno_name(int err)
{
    for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++)
        if (errno_names[i].value == err)
            return errno_names[i].name;
    return NULL;
}
