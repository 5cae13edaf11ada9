/* PCIe link model (see link.h). */
#include "models/dev/link.h"

#include <assert.h>
#include <math.h>

void ims_link_init(ims_link *l, const ims_engine *e, uint64_t latency_ps, double gbps)
{
    assert(gbps > 0.0);
    *l = (ims_link){
        .engine = e,
        .latency = ims_engine_ps_to_cycles(e, latency_ps),
        .gbps = gbps,
    };
}

ims_cycle ims_link_xfer_cycles(const ims_link *l, uint64_t bytes)
{
    /* bits / (Gbit/s) = ns; * 1000 = ps. */
    double ps = ceil((double)bytes * 8000.0 / l->gbps);
    return ims_engine_ps_to_cycles(l->engine, (uint64_t)ps);
}

ims_cycle ims_link_transfer(ims_link *l, ims_link_dir dir, ims_cycle ready, uint64_t bytes)
{
    ims_cycle start = ready > l->free_at[dir] ? ready : l->free_at[dir];
    l->queued[dir] += start - ready;
    l->free_at[dir] = start + ims_link_xfer_cycles(l, bytes);
    l->bytes[dir] += bytes;
    return l->free_at[dir];
}
