/* The VMM model's keys (models/vmm): VM exit/entry, vIOMMU emulation work
 * and the default vIOMMU mode. Defaults are fitted so the modelled nested
 * guest qi_submit_sync lands inside the calibration range; see
 * docs/experiments/nested-vs-shadow.md for the comparison. */
#include "models/vmm/vmm_config.h"

#define SRC_NESTED "calibration.md: a nested guest qi_submit_sync (VM exit + forwarding + host flush) is " \
                   "8.6-9.4 us mean at 1-8 flows (xlab-uiuc results_summary/ebpf.md) while a host flush is " \
                   "~2 us; the remaining ~7 us is exit/entry and VMM work, split here as a model choice"
#define SRC_SHADOW "calibration.md: shadow vIOMMU register-write handling in QEMU (vtd_mem_write) ~53 us mean " \
                   "(xlab-uiuc/iommu-vm host_aggregate.csv, small sample); per-entry split is a model choice"

const ims_cfg_key ims_vmm_cfg_keys[] = {
    {.name = "vmm.mode", .type = IMS_CFG_ENUM, .def = "nested", .choices = "nested|shadow",
     .help = "vIOMMU design of a `vm` record without mode=: nested (hardware nesting through iommufd) or "
             "shadow (caching mode, guest tables mirrored with IOAS map/unmap)",
     .source = "model choice: nesting is the design iommufd was built for"},
    {.name = "vmm.vmexit_ns", .type = IMS_CFG_TIME, .def = "3us", .unit = "ns",
     .help = "trapped MMIO write (the guest's IQT doorbell): VM exit, KVM_RUN return to the userspace VMM, "
             "MMIO dispatch and the big lock", .source = SRC_NESTED},
    {.name = "vmm.vmentry_ns", .type = IMS_CFG_TIME, .def = "1500ns", .unit = "ns",
     .help = "return from the VMM into the guest: KVM_RUN ioctl and VM entry", .source = SRC_NESTED},
    {.name = "vmm.decode_ns", .type = IMS_CFG_TIME, .def = "300ns", .unit = "ns",
     .help = "VMM work per guest invalidation descriptor: reading it from guest memory and decoding it",
     .source = SRC_NESTED},
    {.name = "vmm.forward_ns", .type = IMS_CFG_TIME, .def = "300ns", .unit = "ns",
     .help = "nested: VMM work to turn one guest descriptor into an IOMMU_HWPT_INVALIDATE entry array and "
             "issue it", .source = SRC_NESTED},
    {.name = "vmm.walk_entry_ns", .type = IMS_CFG_TIME, .def = "150ns", .unit = "ns",
     .help = "software walk of guest tables (shadow sync, PASID/context entry reads): per entry read through "
             "the VMM's guest-memory accessors", .source = SRC_SHADOW},
    {.name = "vmm.notify_ns", .type = IMS_CFG_TIME, .def = "3us", .unit = "ns",
     .help = "shadow: VMM work per mapping change mirrored (IOMMU notifier, VFIO/iommufd listener) before its "
             "IOAS_MAP / IOAS_UNMAP ioctl", .source = SRC_SHADOW},
    {.name = NULL},
};
