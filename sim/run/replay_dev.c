/* Device-level verb: dma. The device model does the work (outstanding-limit
 * backpressure, pieces, ATS); the replay checks expect= on completion and
 * hands every piece's translation to the coherence checker. */
#include <inttypes.h>
#include <stdio.h>

#include "models/vtd/fault_reason.h"
#include "sim/run/replay_internal.h"

#define PAGE_SHIFT 12u

static ims_vtd_req piece_req(const rp_op *op, uint64_t iova)
{
    const ims_dma *d = &op->dma.op;
    return (ims_vtd_req){
        .sid = op->dma.sid,
        .has_pasid = d->has_pasid,
        .pasid = d->pasid,
        .addr = iova,
        .read = !d->write,
        .write = d->write,
        .exec = d->exec,
        .priv = d->priv,
        .type = IMS_VTD_REQ_UNTRANSLATED,
    };
}

static ims_checker_loc loc_of(const rp_op *op)
{
    const ims_system_dev *dev = ims_system_device_by_sid(op->rp->sys, op->dma.sid);
    return (ims_checker_loc){
        .file = op->rp->files[op->file],
        .line = op->line,
        .dev = dev ? dev->name : NULL,
    };
}

/* Every piece that translated: check it, and remember which pieces did so
 * that a fault can be placed on its piece (the lowest one not reported). */
static void on_piece(ims_dma *d, uint64_t iova, const ims_vtd_result *used)
{
    rp_op *op = d->user;
    uint64_t idx = (iova >> PAGE_SHIFT) - (d->iova >> PAGE_SHIFT);
    if (idx == op->dma.prefix) {
        op->dma.prefix++;
        while (op->dma.above & 1) {
            op->dma.above >>= 1;
            op->dma.prefix++;
        }
        op->dma.above >>= 1;
    } else if (idx - op->dma.prefix - 1 < 64) {
        op->dma.above |= UINT64_C(1) << (idx - op->dma.prefix - 1);
    } else {
        op->dma.lost = true;
    }
    ims_vtd_req req = piece_req(op, iova);
    ims_checker_loc loc = loc_of(op);
    ims_checker_check(op->rp->checker, op->dma.unit, &req, used, ims_engine_now(op->rp->engine), &loc);
    if (op->rp->nvms)
        rp_guest_check(op->rp, op->dma.sid, &req, used, ims_engine_now(op->rp->engine), &loc);
}

/* A faulted DMA: its faulting piece is the lowest one that did not report a
 * translation. The fault's exact time is not known here; the issue time is a
 * lower bound, which keeps the check conservative (checker.h). */
static void check_fault(rp_op *op)
{
    const ims_dma *d = &op->dma.op;
    if (op->dma.lost)
        return;
    uint64_t idx = op->dma.prefix;
    uint64_t iova = idx == 0 ? d->iova : ((d->iova >> PAGE_SHIFT) + idx) << PAGE_SHIFT;
    if (idx && iova - d->iova >= d->len)
        return;
    ims_vtd_req req = piece_req(op, iova);
    ims_vtd_result used = {.fault = d->fault};
    ims_checker_loc loc = loc_of(op);
    ims_checker_check(op->rp->checker, op->dma.unit, &req, &used, d->t_issue, &loc);
    if (op->rp->nvms)
        rp_guest_check(op->rp, op->dma.sid, &req, &used, d->t_issue, &loc);
}

static int fmt_expect(const rp_op *op, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < op->dma.nexp && n < cap; i++) {
        const ims_trace_expect *e = &op->dma.exp[i];
        const char *sep = i ? "|" : "";
        if (e->kind == IMS_EXP_PA)
            n += (size_t)snprintf(buf + n, cap - n, "%s0x%" PRIx64, sep, e->value);
        else if (e->kind == IMS_EXP_FAULT)
            n += (size_t)snprintf(buf + n, cap - n, "%sfault", sep);
        else
            n += (size_t)snprintf(buf + n, cap - n, "%sfault:0x%02" PRIx64, sep, e->value);
    }
    return (int)n;
}

static bool expect_holds(const rp_op *op)
{
    const ims_dma *d = &op->dma.op;
    for (unsigned i = 0; i < op->dma.nexp; i++) {
        const ims_trace_expect *e = &op->dma.exp[i];
        if ((e->kind == IMS_EXP_PA && !d->fault && d->pa == e->value) ||
            (e->kind == IMS_EXP_FAULT && d->fault) ||
            (e->kind == IMS_EXP_FAULT_REASON && d->fault == e->value))
            return true;
    }
    return false;
}

static void dma_done(ims_dma *d)
{
    rp_op *op = d->user;
    ims_replay *rp = op->rp;
    if (d->fault && rp->checker)
        check_fault(op);
    if (op->dma.nexp && !expect_holds(op)) {
        char want[256], got[96];
        fmt_expect(op, want, sizeof want);
        if (d->fault)
            snprintf(got, sizeof got, "fault:0x%02x (%s)", d->fault, ims_vtd_fault_id(d->fault));
        else
            snprintf(got, sizeof got, "0x%" PRIx64, d->pa);
        rp_expect_failed(rp, op->file, op->line, "dma sid=0x%04x iova=0x%" PRIx64 ": expected %s, got %s",
                         op->dma.sid, d->iova, want, got);
    }
    rp_op_done(rp, op);
}

int rp_issue_dma(ims_replay *rp, const ims_trace_rec *r, bool *async)
{
    const ims_system_dev *dev = rp_dev_of(rp, r);
    if (!dev) {
        if (ims_trace_dev_is_name(r))
            return rp_fail(rp, r, ENOENT, "dma: dev=%s is not declared (add a device record with name=%s)",
                           ims_trace_str(r, IMS_K_DEV), ims_trace_str(r, IMS_K_DEV));
        return rp_fail(rp, r, ENOENT, "dma: dev=0x%04" PRIx64 " is not declared (add a device record with that sid)",
                       ims_trace_num(r, IMS_K_DEV));
    }
    rp_op *op = rp_op_get(rp, RP_DMA);
    op->line = r->line;
    op->dma.unit = dev->unit;
    op->dma.sid = dev->sid;
    size_t nexp = 0;
    const ims_trace_expect *exp = ims_trace_has(r, IMS_K_EXPECT) ? ims_trace_expects(r, &nexp) : NULL;
    for (size_t i = 0; i < nexp && i < IMS_TRACE_EXPECT_MAX; i++)
        op->dma.exp[op->dma.nexp++] = exp[i];
    ims_dma *d = &op->dma.op;
    d->has_pasid = ims_trace_has(r, IMS_K_PASID);
    d->pasid = d->has_pasid ? (uint32_t)ims_trace_num(r, IMS_K_PASID) : 0;
    d->iova = ims_trace_num(r, IMS_K_IOVA);
    d->len = ims_trace_num(r, IMS_K_LEN);
    d->write = ims_trace_has(r, IMS_K_WR);
    d->priv = ims_trace_has(r, IMS_K_PRIV);
    d->exec = ims_trace_has(r, IMS_K_EXEC);
    d->done = dma_done;
    d->user = op;
    d->on_piece = rp->checker ? on_piece : NULL;
    *async = true;
    ims_dev_dma(dev->dev, d);
    return 0;
}
