/* Fuzz target: `iommusim import qemu-vtd` over any bytes. It must import or
 * fail with "NAME:LINE: ..." / "NAME: ...", never crash; whatever it writes
 * must be a valid trace (every record parses back). Several option sets run
 * on each input: host and guest level, every time mode, strict. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "traces/import/import.h"
#include "traces/text_reader.h"

static void one(const uint8_t *data, size_t size, ims_import_level level, ims_import_time t, bool strict)
{
    ims_import_opts o;
    ims_import_opts_init(&o);
    o.level = level;
    o.time = t;
    o.strict = strict;
    o.exact_fault_reason = t == IMS_IMPORT_TIME_NONE;
    ims_trace_sink *sink = ims_trace_sink_mem();
    assert(sink);
    ims_import_summary sum = {0};
    ims_error err = {0};
    int rc = ims_import_mem(IMS_IMPORT_QEMU_VTD, data, size, "fuzz.log", sink, &o, &sum, &err);
    assert(rc <= 0);
    if (rc < 0) {
        assert(!strncmp(err.msg, "fuzz.log", 8) || !strncmp(err.msg, "out of memory", 13));
    } else {
        size_t len;
        const uint8_t *text = ims_trace_sink_mem_data(sink, &len);
        ims_text_reader *rd = ims_text_reader_open_mem((const char *)text, len, "out.ist", &err);
        assert(rd);
        ims_trace_rec rec;
        ims_trace_rec_init(&rec);
        uint64_t n = 0;
        int r;
        while ((r = ims_text_reader_next(rd, &rec, &err)) > 0)
            n++;
        assert(r == 0); /* the output always validates */
        assert(n == sum.records);
        ims_trace_rec_free(&rec);
        ims_text_reader_close(rd);
    }
    ims_import_summary_free(&sum);
    ims_trace_sink_close(sink);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size, IMS_IMPORT_LEVEL_HOST, IMS_IMPORT_TIME_REL, false);
    one(data, size, IMS_IMPORT_LEVEL_HOST, IMS_IMPORT_TIME_ABS, false);
    one(data, size, IMS_IMPORT_LEVEL_GUEST, IMS_IMPORT_TIME_NONE, false);
    one(data, size, IMS_IMPORT_LEVEL_GUEST, IMS_IMPORT_TIME_ABS, true);
    return 0;
}
