/* The guest driver's invalidation queue: qi_submit_sync as Linux does it on
 * a vIOMMU. Descriptors and a wait descriptor (status write of a sequence
 * number to a status word in guest memory) go into the 256-entry queue in
 * guest memory, the tail write traps to the VMM, and after VM entry the guest
 * reads its status word. One submission at a time (the queue lock is held
 * while waiting). Each submission with a wait records where its time went:
 * inv.e2e.total_ns and per layer guest / exit / vmm / host / hw_qi / devtlb. */
#include <stdlib.h>
#include <string.h>

#include "models/guest/guest_internal.h"

static void start_next(ims_guest *g);

static void sub_finish(ims_guest *g, gsub *s, int status)
{
    g->subs = s->next;
    if (!g->subs)
        g->subs_tail = NULL;
    g->busy = false;
    g->pending--;
    void (*fn)(ims_guest *, void *, int) = s->fn;
    void *ctx = s->ctx;
    free(s->desc);
    free(s);
    if (fn)
        fn(g, ctx, status);
    if (!g->busy)
        start_next(g);
}

/* total includes `extra` cycles still to come (the poll): guest time */
static void record(ims_guest *g, const gsub *s, const ims_vmm_layers *l, uint64_t extra)
{
    if (!g->l_total)
        return;
    uint64_t total = ims_engine_now(g->engine) + extra - s->t_start;
    uint64_t others = l->exit + l->vmm + l->host + l->hw_qi + l->devtlb;
    ims_latency_record(g->l_total, total);
    ims_latency_record(g->l_guest, total > others ? total - others : 0);
    ims_latency_record(g->l_exit, l->exit);
    ims_latency_record(g->l_vmm, l->vmm);
    ims_latency_record(g->l_host, l->host);
    ims_latency_record(g->l_hw, l->hw_qi);
    ims_latency_record(g->l_devtlb, l->devtlb);
}

/* The guest polls its status word after VM entry: one poll period later it
 * has seen it (the VMM wrote it before entering). */
static void poll_event(void *ctx, uint64_t arg)
{
    (void)arg;
    ims_guest *g = ctx;
    gsub *s = g->subs;
    uint32_t status = 0;
    ims_guest_read_gpa_(g, g->status_gpa, &status, sizeof status);
    int rc = status == g->wait_seq ? 0 : -EIO; /* -EIO: the VMM returned without completing our wait */
    if (rc == 0 && g->on_sync)
        g->on_sync(g->sync_ctx, g->vm);
    sub_finish(g, s, rc);
}

static void exit_done(void *ctx, const ims_vmm_layers *l)
{
    ims_guest *g = ctx;
    gsub *s = g->subs;
    int rc = l->status < 0 ? l->status : l->host_error;
    if (!s->wait || rc != 0) {
        sub_finish(g, s, rc);
        return;
    }
    record(g, s, l, g->c_poll);
    if (!ims_engine_schedule(g->engine, g->c_poll, poll_event, g, 0))
        abort();
}

static void iqt_event(void *ctx, uint64_t arg)
{
    (void)arg;
    ims_guest *g = ctx;
    gsub *s = g->subs;
    for (unsigned i = 0; i < s->n; i++) {
        ims_guest_write_gpa_(g, g->queue_gpa + (uint64_t)g->tail * 32u, s->desc[i], 32);
        g->tail = (g->tail + 1) & (GUEST_QSIZE - 1);
    }
    if (s->wait) {
        uint64_t w[IMS_QI_DESC_QW];
        uint32_t zero = 0;
        g->wait_seq++;
        ims_guest_write_gpa_(g, g->status_gpa, &zero, sizeof zero);
        ims_qi_build_wait(w, true, false, true, false, g->wait_seq, g->status_gpa);
        ims_guest_write_gpa_(g, g->queue_gpa + (uint64_t)g->tail * 32u, w, 32);
        g->tail = (g->tail + 1) & (GUEST_QSIZE - 1);
    }
    int rc = ims_vmm_iqt_write(g->vmm, g->tail, exit_done, g);
    if (rc < 0)
        sub_finish(g, s, rc);
}

static void start_next(ims_guest *g)
{
    gsub *s = g->subs;
    if (!s || g->busy)
        return;
    g->busy = true;
    s->t_start = ims_engine_now(g->engine);
    uint64_t c = g->c_submit + g->c_desc * (s->n + (s->wait ? 1u : 0u));
    if (!ims_engine_schedule(g->engine, c, iqt_event, g, 0))
        abort();
}

int ims_guest_submit_(ims_guest *g, const uint64_t (*desc)[4], unsigned n, bool wait,
                      void (*fn)(ims_guest *g, void *ctx, int status), void *ctx)
{
    if (n + (wait ? 1u : 0u) >= GUEST_QSIZE)
        return -EINVAL;
    gsub *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->desc = malloc((n ? n : 1) * sizeof *s->desc);
    if (!s->desc) {
        free(s);
        return -ENOMEM;
    }
    if (n) /* desc may be NULL for a bare wait */
        memcpy(s->desc, desc, n * sizeof *s->desc);
    s->n = n;
    s->wait = wait;
    s->fn = fn;
    s->ctx = ctx;
    if (g->subs_tail)
        g->subs_tail->next = s;
    else
        g->subs = s;
    g->subs_tail = s;
    g->pending++;
    start_next(g);
    return 0;
}
