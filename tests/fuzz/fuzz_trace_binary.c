/* Fuzz target: the trace reader on arbitrary bytes (format detection, zstd,
 * binary frames and records). Any input must give records or an error, never
 * a crash or a sanitizer report; every record accepted must be valid, have a
 * canonical text line that parses back to it, and re-encode identically. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "traces/binary.h"
#include "traces/text_reader.h"
#include "traces/trace_io.h"

static void check_text(const ims_trace_rec *r)
{
    static const char header[] = "iommusim-trace 1\n";
    size_t n = ims_trace_format(r, NULL, 0);
    assert(n < IMS_TRACE_LINE_MAX);
    char *text = malloc(sizeof header + n);
    assert(text);
    memcpy(text, header, sizeof header - 1);
    ims_trace_format(r, text + sizeof header - 1, n + 1);
    ims_error err = {0};
    ims_text_reader *rd = ims_text_reader_open_mem(text, sizeof header - 1 + n, "canon.ist", &err);
    assert(rd);
    ims_trace_rec back;
    ims_trace_rec_init(&back);
    assert(ims_text_reader_next(rd, &back, &err) == 1);
    assert(ims_trace_rec_equal(r, &back));
    ims_trace_rec_free(&back);
    ims_text_reader_close(rd);
    free(text);
}

static size_t put_varint(uint8_t *b, uint64_t v)
{
    size_t n = 0;
    for (; v >= 0x80; v >>= 7)
        b[n++] = (uint8_t)(v | 0x80);
    b[n++] = (uint8_t)v;
    return n;
}

static size_t put_frame(uint8_t *b, const uint8_t *payload, size_t len, uint64_t nrec)
{
    size_t n = put_varint(b, len);
    n += put_varint(b + n, nrec);
    if (len)
        memcpy(b + n, payload, len);
    n += len;
    uint32_t crc = ims_crc32c(0, b, n);
    for (int i = 0; i < 4; i++)
        b[n++] = (uint8_t)(crc >> (8 * i));
    return n;
}

/* The CRC keeps random bytes away from the record decoder; so also wrap the
 * input (after a record-count byte) in a well-formed frame and decode that. */
static void decode_as_frame(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20))
        return;
    static const uint8_t hdr_tail[4] = {1, 0, 0, 0};
    uint8_t *b = malloc(IMS_BIN_HEADER_LEN + 2 * (size + 24));
    assert(b);
    memcpy(b, IMS_BIN_MAGIC, IMS_BIN_MAGIC_LEN);
    memcpy(b + 8, hdr_tail, 4);
    uint32_t crc = ims_crc32c(0, b, 12);
    for (int i = 0; i < 4; i++)
        b[12 + i] = (uint8_t)(crc >> (8 * i));
    size_t n = IMS_BIN_HEADER_LEN;
    uint64_t nrec = data[0] ? data[0] : 1;
    n += put_frame(b + n, data + 1, size - 1, nrec);
    n += put_frame(b + n, NULL, 0, nrec);
    ims_error err = {0};
    ims_trace_reader *rd = ims_trace_reader_open_mem(b, n, "frame.bin", &err);
    assert(rd);
    ims_trace_rec rec;
    ims_trace_rec_init(&rec);
    int rc;
    while ((rc = ims_trace_reader_next(rd, &rec, &err)) > 0) {
        ims_error verr = {0};
        assert(ims_trace_rec_validate(&rec, &verr) == 0);
        check_text(&rec);
    }
    assert(rc == 0 || err.msg[0]);
    ims_trace_reader_close(rd);
    ims_trace_rec_free(&rec);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode_as_frame(data, size);
    ims_error err = {0};
    ims_trace_reader *rd = ims_trace_reader_open_mem(data, size, "fuzz.bin", &err);
    if (!rd) {
        assert(err.code < 0 && err.msg[0]);
        return 0;
    }
    ims_trace_sink *sink = ims_trace_sink_mem();
    ims_bin_writer *bw = ims_bin_writer_open(sink, &err);
    assert(sink && bw);
    ims_trace_rec rec;
    ims_trace_rec_init(&rec);
    int rc;
    uint64_t n = 0;
    while ((rc = ims_trace_reader_next(rd, &rec, &err)) > 0) {
        ims_error verr = {0};
        assert(ims_trace_rec_validate(&rec, &verr) == 0);
        check_text(&rec);
        assert(ims_bin_writer_write(bw, &rec, &err) == 0);
        n++;
    }
    assert(rc <= 0);
    assert(rc == 0 || err.msg[0]);
    ims_trace_reader_close(rd);
    assert(ims_bin_writer_finish(bw, &err) == 0);
    ims_bin_writer_close(bw);

    /* Re-encoded records decode to the same records, in the same order. */
    size_t len;
    const uint8_t *bin = ims_trace_sink_mem_data(sink, &len);
    ims_trace_reader *again = ims_trace_reader_open_mem(bin, len, "again.bin", &err);
    rd = ims_trace_reader_open_mem(data, size, "fuzz.bin", &err);
    assert(again && rd);
    ims_trace_rec back;
    ims_trace_rec_init(&back);
    for (uint64_t i = 0; i < n; i++) {
        assert(ims_trace_reader_next(rd, &rec, &err) == 1);
        assert(ims_trace_reader_next(again, &back, &err) == 1);
        assert(ims_trace_rec_equal(&rec, &back) && rec.line == back.line);
    }
    assert(ims_trace_reader_next(again, &back, &err) == 0);
    ims_trace_reader_close(again);
    ims_trace_reader_close(rd);
    ims_trace_sink_close(sink);
    ims_trace_rec_free(&back);
    ims_trace_rec_free(&rec);
    return 0;
}
