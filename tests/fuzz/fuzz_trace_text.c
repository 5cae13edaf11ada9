/* Fuzz target: the trace text parser. Any input must give records or a
 * "FILE:LINE: ..." error, never a crash or a sanitizer report; and every
 * record it accepts must survive the canonical writer and the binary form:
 * parse(format(r)) == r, format is a fixed point, text -> binary -> record. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "traces/binary.h"
#include "traces/text_reader.h"
#include "traces/text_writer.h"

/* "iommusim-trace 1\n" + the canonical line of r, parsed back alone. */
static void check_reparse(const ims_trace_rec *r)
{
    static const char header[] = "iommusim-trace 1\n";
    size_t n = ims_trace_format(r, NULL, 0);
    char *text = malloc(sizeof header + n + 1);
    assert(text);
    memcpy(text, header, sizeof header - 1);
    ims_trace_format(r, text + sizeof header - 1, n + 1);
    text[sizeof header - 1 + n] = '\n';
    ims_error err = {0};
    ims_text_reader *rd = ims_text_reader_open_mem(text, sizeof header + n, "canon.ist", &err);
    assert(rd);
    ims_trace_rec back;
    ims_trace_rec_init(&back);
    int rc = ims_text_reader_next(rd, &back, &err);
    assert(rc == 1);
    assert(ims_trace_rec_equal(r, &back));
    char *again = malloc(n + 1);
    assert(again);
    assert(ims_trace_format(&back, again, n + 1) == n);
    assert(!memcmp(again, text + sizeof header - 1, n));
    assert(ims_text_reader_next(rd, &back, &err) == 0);
    free(again);
    ims_trace_rec_free(&back);
    ims_text_reader_close(rd);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ims_error err = {0};
    ims_text_reader *rd = ims_text_reader_open_mem((const char *)data, size, "fuzz.ist", &err);
    assert(rd);
    ims_trace_sink *sink = ims_trace_sink_mem();
    ims_bin_writer *bw = ims_bin_writer_open(sink, &err);
    assert(sink && bw);
    ims_trace_rec rec;
    ims_trace_rec_init(&rec);
    int rc;
    uint64_t n = 0;
    while ((rc = ims_text_reader_next(rd, &rec, &err)) > 0) {
        check_reparse(&rec);
        assert(ims_bin_writer_write(bw, &rec, &err) == 0);
        n++;
    }
    assert(rc <= 0);
    assert(rc == 0 || strncmp(err.msg, "fuzz.ist:", 9) == 0);
    ims_text_reader_close(rd);
    assert(ims_bin_writer_finish(bw, &err) == 0);
    ims_bin_writer_close(bw);

    /* The binary form of what was accepted decodes to the same records. */
    size_t len;
    const uint8_t *bin = ims_trace_sink_mem_data(sink, &len);
    ims_bin_reader *br = ims_bin_reader_open(ims_trace_src_mem(bin, len), true, "fuzz.bin", &err);
    assert(br);
    rd = ims_text_reader_open_mem((const char *)data, size, "fuzz.ist", &err);
    ims_trace_rec back;
    ims_trace_rec_init(&back);
    for (uint64_t i = 0; i < n; i++) {
        assert(ims_text_reader_next(rd, &rec, &err) == 1);
        assert(ims_bin_reader_next(br, &back, &err) == 1);
        assert(ims_trace_rec_equal(&rec, &back) && rec.line == back.line);
    }
    assert(ims_bin_reader_next(br, &back, &err) == 0);
    ims_bin_reader_close(br);
    ims_text_reader_close(rd);
    ims_trace_sink_close(sink);
    ims_trace_rec_free(&back);
    ims_trace_rec_free(&rec);
    return 0;
}
