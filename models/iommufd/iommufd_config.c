/* Configuration keys of the iommufd core: the software cost of a command
 * (iommufd.*) and the host RAM that backs IOAS mappings (host.*).
 *
 * Calibration context (calibration.md, "Invalidation"): a host strict unmap
 * flush (intel_iommu_tlb_sync) takes 2.07-2.32 us on average. That time is
 * the driver's queued-invalidation wait, charged by the VT-d driver and the
 * QI engine, not here; the costs below are the kernel entry and iommufd
 * bookkeeping around it, kept well below it so the flush dominates a
 * one-page unmap as in the measurements. How the software part splits into
 * syscall, ioctl and per-page work is a model choice: no public source
 * measures iommufd ioctls. */
#include "models/iommufd/iommufd_internal.h"

#include <errno.h>

const ims_cfg_key ims_iommufd_cfg_keys[] = {
    {
        .name = "iommufd.syscall_ns",
        .type = IMS_CFG_TIME,
        .def = "150ns",
        .unit = "ns",
        .help = "kernel entry and exit of one ioctl() on the iommufd or a VFIO device fd",
        .source = "model choice: an empty system call round trip on a current x86 server core with "
                  "speculation mitigations is on the order of 0.1-0.2 us",
    },
    {
        .name = "iommufd.ioctl_ns",
        .type = IMS_CFG_TIME,
        .def = "400ns",
        .unit = "ns",
        .help = "per-command iommufd work: argument copy-in/out, object lookup and reference counting, locks",
        .source = "model choice: a few xarray lookups, mutexes and small copies; kept below the 2.07-2.32 us "
                  "host strict unmap flush of calibration.md so the flush dominates",
    },
    {
        .name = "iommufd.map_page_ns",
        .type = IMS_CFG_TIME,
        .def = "50ns",
        .unit = "ns",
        .help = "per 4 KiB page mapped or unmapped, per paging domain (pinning, accounting, page-table update "
                "bookkeeping; the driver's table writes and flushes are charged by the driver)",
        .source = "model choice: page pinning and iopt bookkeeping are tens of ns per 4 KiB page",
    },
    {
        .name = "host.mem_base",
        .type = IMS_CFG_SIZE,
        .def = "4G",
        .unit = "bytes",
        .help = "start of the host RAM the simulator hands out as IOAS backing (simulated user_va = host "
                "physical address) when a trace gives no hpa=",
        .source = "model choice: above the 32-bit MMIO hole of an x86 host",
    },
    {
        .name = "host.mem_size",
        .type = IMS_CFG_SIZE,
        .def = "16G",
        .min = 4096,
        .unit = "bytes",
        .help = "size of that host RAM range",
        .source = "model choice: room for a few guests' RAM; memory is sparse, only touched pages cost",
    },
    {0},
};

static uint64_t pick_time(const ims_config *cfg, const ims_config *def, const char *key)
{
    return cfg && ims_config_has(cfg, key) ? ims_config_time_ps(cfg, key) : ims_config_time_ps(def, key);
}

static uint64_t pick_u64(const ims_config *cfg, const ims_config *def, const char *key)
{
    return cfg && ims_config_has(cfg, key) ? ims_config_u64(cfg, key) : ims_config_u64(def, key);
}

int ims_ifd_read_config(ims_iommufd *ctx, const ims_config *cfg, ims_error *err)
{
    /* Keys missing from `cfg` (a schema without this table) take defaults. */
    const ims_cfg_key *tables[] = {ims_iommufd_cfg_keys};
    ims_config *def = ims_config_create(tables, 1, err);
    if (!def)
        return err && err->code ? err->code : -ENOMEM;
    ctx->syscall_ps = pick_time(cfg, def, "iommufd.syscall_ns");
    ctx->ioctl_ps = pick_time(cfg, def, "iommufd.ioctl_ns");
    ctx->map_page_ps = pick_time(cfg, def, "iommufd.map_page_ns");
    uint64_t base = pick_u64(cfg, def, "host.mem_base");
    uint64_t size = pick_u64(cfg, def, "host.mem_size");
    ims_config_destroy(def);
    if (base + size < base)
        return ims_errorf(err, ERANGE, "host.mem_base + host.mem_size overflows");
    ctx->host_base = base;
    ctx->host_next = base;
    ctx->host_end = base + size;
    return 0;
}
