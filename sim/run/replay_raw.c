/* Raw-hardware verbs (a bare-metal driver's view): CPU stores into memory,
 * ELF memory images, register accesses with their side effects, and spinning
 * on a memory word. Stores are stamped with the current time for the
 * coherence checker (the system's memory stamps with engine time). */
#include <inttypes.h>

#include "models/mem/elf_load.h"
#include "sim/run/replay_internal.h"

/* ---- mem.* ---------------------------------------------------------------------------- */

static int mem_store(ims_replay *rp, const ims_trace_rec *r)
{
    ims_physmem *m = ims_system_mem(rp->sys);
    uint64_t pa = ims_trace_num(r, IMS_K_PA);
    int rc;
    switch (r->verb) {
    case IMS_V_MEM_W32:
        rc = ims_physmem_w32(m, pa, (uint32_t)ims_trace_num(r, IMS_K_VAL));
        break;
    case IMS_V_MEM_W64:
        rc = ims_physmem_w64(m, pa, ims_trace_num(r, IMS_K_VAL));
        break;
    default: {
        size_t len;
        const uint8_t *b = ims_trace_bytes(r, IMS_K_HEX, &len);
        rc = ims_physmem_write(m, pa, b, len);
        break;
    }
    }
    if (rc)
        return rp_fail(rp, r, rc, "%s pa=0x%" PRIx64 ": cannot store (%s)", ims_trace_verb_name(r->verb), pa,
                       rc == -ENOMEM ? "out of memory" : "bad range");
    return 0;
}

static int mem_load(ims_replay *rp, const ims_trace_rec *r)
{
    char path[4096];
    const char *rel = ims_trace_str(r, IMS_K_ELF);
    if (ims_trace_resolve_path(ims_trace_reader_dir(rp->readers[rp->cur]), rel, path, sizeof path))
        return rp_fail(rp, r, ENAMETOOLONG, "mem.load: path too long");
    ims_error e = {0};
    int rc = ims_elf_load(ims_system_mem(rp->sys), path, NULL, &e);
    return rc ? rp_fail(rp, r, rc, "mem.load: %s", e.msg) : 0;
}

/* ---- mmio.* ----------------------------------------------------------------------------- */

static int mmio(ims_replay *rp, const ims_trace_rec *r)
{
    unsigned unit = (unsigned)ims_trace_num_or_default(r, IMS_K_UNIT);
    ims_vtd_unit *u = ims_system_unit(rp->sys, unit);
    const char *verb = ims_trace_verb_name(r->verb);
    if (!u)
        return rp_fail(rp, r, ENOENT, "%s: unit %u does not exist (declare it with an iommu record)", verb, unit);
    uint64_t off = ims_trace_num(r, IMS_K_OFF);
    unsigned size = r->verb == IMS_V_MMIO_W32 || r->verb == IMS_V_MMIO_R32 ? 4 : 8;
    if (r->verb == IMS_V_MMIO_W32 || r->verb == IMS_V_MMIO_W64) {
        int rc = ims_vtd_unit_mmio_write(u, off, size, ims_trace_num(r, IMS_K_VAL));
        if (rc < 0)
            return rp_fail(rp, r, rc, "%s off=0x%" PRIx64 ": rejected by the register file", verb, off);
        if (rp->checker)
            ims_checker_note_regs(rp->checker, unit);
        return 0;
    }
    uint64_t val = 0;
    int rc = ims_vtd_unit_mmio_read(u, off, size, &val);
    if (rc < 0)
        return rp_fail(rp, r, rc, "%s off=0x%" PRIx64 ": rejected by the register file", verb, off);
    if (!ims_trace_has(r, IMS_K_EXPECT))
        return 0;
    uint64_t exp = ims_trace_num(r, IMS_K_EXPECT);
    uint64_t mask = ims_trace_num_or_default(r, IMS_K_MASK);
    if (exp & ~mask)
        return rp_fail(rp, r, EINVAL, "%s: expect=0x%" PRIx64 " has bits outside mask=0x%" PRIx64
                                      " (the check could never hold)", verb, exp, mask);
    if ((val & mask) != exp)
        rp_expect_failed(rp, (uint32_t)rp->cur, r->line,
                         "%s unit=%u off=0x%" PRIx64 ": read 0x%" PRIx64 ", expected 0x%" PRIx64 " (mask 0x%" PRIx64
                         ")", verb, unit, off, val, exp, mask);
    return 0;
}

/* ---- wait.mem --------------------------------------------------------------------------- */

static bool wait_holds(ims_replay *rp, const rp_op *op)
{
    return (ims_physmem_r32(ims_system_mem(rp->sys), op->wait.pa) & op->wait.mask) == op->wait.val;
}

static void wait_poll(void *ctx, uint64_t arg)
{
    (void)arg;
    rp_op *op = ctx;
    ims_replay *rp = op->rp;
    ims_cycle now = ims_engine_now(rp->engine);
    if (!wait_holds(rp, op)) {
        if (now < op->wait.deadline) {
            ims_cycle next = now + rp->poll_cycles;
            ims_engine_schedule_at(rp->engine, next < op->wait.deadline ? next : op->wait.deadline, wait_poll, op, 0);
            return;
        }
        char t[32];
        ims_trace_format_time(op->wait.timeout_ps, t, sizeof t);
        rp_expect_failed(rp, op->file, op->line,
                         "wait.mem pa=0x%" PRIx64 ": timed out after %s: the word is 0x%08x, expected 0x%08x under "
                         "mask 0x%08x",
                         op->wait.pa, t, ims_physmem_r32(ims_system_mem(rp->sys), op->wait.pa), op->wait.val,
                         op->wait.mask);
    }
    rp_op_done(rp, op);
}

static int wait_mem(ims_replay *rp, const ims_trace_rec *r, bool *async)
{
    uint32_t val = (uint32_t)ims_trace_num(r, IMS_K_VAL);
    uint32_t mask = (uint32_t)ims_trace_num_or_default(r, IMS_K_MASK);
    if (val & ~mask)
        return rp_fail(rp, r, EINVAL, "wait.mem: val=0x%x has bits outside mask=0x%x (it could never match)", val,
                       mask);
    rp_op tmp = {.wait = {.pa = ims_trace_num(r, IMS_K_PA), .val = val, .mask = mask}};
    if (wait_holds(rp, &tmp))
        return 0;
    rp_op *op = rp_op_get(rp, RP_WAIT_MEM);
    op->line = r->line;
    op->wait = tmp.wait;
    op->wait.timeout_ps = ims_trace_num_or_default(r, IMS_K_TIMEOUT);
    ims_cycle now = ims_engine_now(rp->engine);
    ims_cycle t = ims_engine_ps_to_cycles(rp->engine, op->wait.timeout_ps);
    op->wait.deadline = t > IMS_CYCLE_MAX - now ? IMS_CYCLE_MAX : now + t;
    ims_cycle next = now + rp->poll_cycles;
    ims_engine_schedule_at(rp->engine, next < op->wait.deadline ? next : op->wait.deadline, wait_poll, op, 0);
    *async = true;
    return 0;
}

/* ---- dispatch ------------------------------------------------------------------------------ */

int rp_issue_raw(ims_replay *rp, const ims_trace_rec *r, bool *async)
{
    switch (r->verb) {
    case IMS_V_MEM_W32:
    case IMS_V_MEM_W64:
    case IMS_V_MEM_WRITE:
        return mem_store(rp, r);
    case IMS_V_MEM_LOAD:
        return mem_load(rp, r);
    case IMS_V_MMIO_W32:
    case IMS_V_MMIO_W64:
    case IMS_V_MMIO_R32:
    case IMS_V_MMIO_R64:
        return mmio(rp, r);
    case IMS_V_WAIT_MEM:
        return wait_mem(rp, r, async);
    default:
        return rp_fail(rp, r, EINVAL, "%s: not a raw-hardware verb", ims_trace_verb_name(r->verb));
    }
}
