/* Shared by the importer fuzz targets (fuzz_import_qemu.c, fuzz_import_ftrace.c):
 * run one import over the input and check its contract. It must import or fail
 * with a message naming the input ("NAME:LINE: ..." / "NAME: ...") or running
 * out of memory, never crash; whatever it writes must be a valid trace (every
 * record parses back, as many as the summary counts). */
#ifndef IMS_FUZZ_IMPORT_COMMON_H
#define IMS_FUZZ_IMPORT_COMMON_H

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "traces/import/import.h"
#include "traces/text_reader.h"

static void fuzz_import_check(ims_import_format fmt, const char *name, const uint8_t *data, size_t size,
                              const ims_import_opts *o)
{
    ims_trace_sink *sink = ims_trace_sink_mem();
    assert(sink);
    ims_import_summary sum = {0};
    ims_error err = {0};
    int rc = ims_import_mem(fmt, data, size, name, sink, o, &sum, &err);
    assert(rc <= 0);
    if (rc < 0) {
        assert(!strncmp(err.msg, name, strlen(name)) || !strncmp(err.msg, "out of memory", 13));
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

#endif
