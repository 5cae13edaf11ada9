/* Fuzz target: `iommusim import qemu-vtd` over any bytes (contract: see
 * fuzz_import_common.h). Several option sets run on each input: host and
 * guest level, every time mode, strict. */
#include "fuzz_import_common.h"

static void one(const uint8_t *data, size_t size, ims_import_level level, ims_import_time t, bool strict)
{
    ims_import_opts o;
    ims_import_opts_init(&o);
    o.level = level;
    o.time = t;
    o.strict = strict;
    o.exact_fault_reason = t == IMS_IMPORT_TIME_NONE;
    fuzz_import_check(IMS_IMPORT_QEMU_VTD, "fuzz.log", data, size, &o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size, IMS_IMPORT_LEVEL_HOST, IMS_IMPORT_TIME_REL, false);
    one(data, size, IMS_IMPORT_LEVEL_HOST, IMS_IMPORT_TIME_ABS, false);
    one(data, size, IMS_IMPORT_LEVEL_GUEST, IMS_IMPORT_TIME_NONE, false);
    one(data, size, IMS_IMPORT_LEVEL_GUEST, IMS_IMPORT_TIME_ABS, true);
    return 0;
}
