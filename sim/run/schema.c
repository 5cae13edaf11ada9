#include "sim/run/schema.h"

#include "models/dev/device.h"
#include "models/guest/guest_config.h"
#include "models/iommufd/iommufd.h"
#include "models/iommufd/vtd_driver.h"
#include "models/mem/mem_timing.h"
#include "models/vmm/vmm_config.h"
#include "models/vtd/cache_config.h"
#include "models/vtd/qi.h"
#include "models/vtd/vtd_config.h"
#include "models/vtd/xlate.h"
#include "sim/run/run.h"

/* Order = order of sections in dumps and docs: kernel, hardware from the
 * IOMMU outwards, devices, host software (iommufd, VT-d driver), then the run
 * driver (replay, checker). */
static const ims_cfg_key *const tables[] = {
    ims_sim_cfg_keys,
    ims_vtd_cfg_keys,
    ims_vtd_cache_cfg_keys,
    ims_xlate_cfg_keys,
    ims_qi_cfg_keys,
    ims_mem_cfg_keys,
    ims_dev_cfg_keys,
    ims_iommufd_cfg_keys,
    ims_vtd_drv_cfg_keys,
    ims_vmm_cfg_keys,
    ims_guest_cfg_keys,
    ims_run_cfg_keys,
};

const ims_cfg_key *const *ims_schema_tables(size_t *count)
{
    *count = sizeof tables / sizeof tables[0];
    return tables;
}

ims_config *ims_schema_config_create(ims_error *err)
{
    size_t n;
    const ims_cfg_key *const *t = ims_schema_tables(&n);
    return ims_config_create(t, n, err);
}
