/* One interface over every trace form: text (.ist), binary, and either one
 * compressed with zstd. Readers detect the form from the first bytes; writers
 * take the form from the caller and compress when the path ends in ".zst".
 *
 *   ims_trace_rec rec; ims_trace_rec_init(&rec);
 *   ims_trace_reader *r = ims_trace_reader_open(path, &err);
 *   while ((rc = ims_trace_reader_next(r, &rec, &err)) > 0) ...;
 *   ims_trace_reader_close(r); ims_trace_rec_free(&rec);
 *
 * Per-record canonical text: ims_trace_format() (traces/text_writer.h). */
#ifndef IMS_TRACES_TRACE_IO_H
#define IMS_TRACES_TRACE_IO_H

#include <stdbool.h>
#include <stddef.h>

#include "traces/record.h"
#include "traces/stream.h"
#include "traces/text_writer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ims_trace_form {
    IMS_TRACE_TEXT = 0,
    IMS_TRACE_BINARY = 1,
} ims_trace_form;

typedef struct ims_trace_reader ims_trace_reader;

/* path "-" reads standard input. NULL with "PATH: why" in err on failure
 * (cannot open, bad binary header, broken zstd stream). */
ims_trace_reader *ims_trace_reader_open(const char *path, ims_error *err);
/* Over a memory buffer (not copied; must outlive the reader). */
ims_trace_reader *ims_trace_reader_open_mem(const void *data, size_t len, const char *name, ims_error *err);
/* 1 with the next record, 0 at the end, or a negative errno; the message is
 * "FILE:LINE: what" for text and "FILE: frame F, record R ...: what" for binary. */
int ims_trace_reader_next(ims_trace_reader *r, ims_trace_rec *rec, ims_error *err);
void ims_trace_reader_close(ims_trace_reader *r);

ims_trace_form ims_trace_reader_form(const ims_trace_reader *r);
bool ims_trace_reader_compressed(const ims_trace_reader *r);
const char *ims_trace_reader_name(const ims_trace_reader *r);
/* Directory that relative mem.load paths are resolved against. */
const char *ims_trace_reader_dir(const ims_trace_reader *r);

typedef struct ims_trace_writer ims_trace_writer;

/* path "-" writes standard output. zstd-compressed when path ends in ".zst". */
ims_trace_writer *ims_trace_writer_open(const char *path, ims_trace_form form, ims_error *err);
/* Over a sink (owned when own). zstd: compress on top of the sink. */
ims_trace_writer *ims_trace_writer_open_sink(ims_trace_sink *sink, bool own, ims_trace_form form, bool zstd,
                                             ims_error *err);
int ims_trace_writer_write(ims_trace_writer *w, const ims_trace_rec *rec, ims_error *err);
/* Finish the trace (end frame, zstd epilogue, flush) and free the writer.
 * Returns 0 or the first error; the writer is freed either way. */
int ims_trace_writer_close(ims_trace_writer *w, ims_error *err);

/* Whether a path names a compressed trace (ends in ".zst"). */
bool ims_trace_path_is_zstd(const char *path);

#ifdef __cplusplus
}
#endif
#endif
