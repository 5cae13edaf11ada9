/* Binary trace form: an exact, compact encoding of the text format
 * (docs/trace-format.md has the byte layout). A 16-byte header, then frames of
 * at most a few tens of KiB, each carrying its own CRC32C, then an end frame
 * with the record count, so truncation and corruption are always detected and
 * reported with the frame and record number, never misread. Delta state resets
 * at each frame, so memory is bounded by the frame size. */
#ifndef IMS_TRACES_BINARY_H
#define IMS_TRACES_BINARY_H

#include <stddef.h>
#include <stdint.h>

#include "traces/record.h"
#include "traces/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMS_BIN_MAGIC "\x89IMSTRC\n" /* 8 bytes */
#define IMS_BIN_MAGIC_LEN 8
#define IMS_BIN_HEADER_LEN 16
#define IMS_BIN_VERSION 1
#define IMS_BIN_FRAME_TARGET (64u << 10) /* a frame is flushed before it passes this */
#define IMS_BIN_FRAME_MAX (4u << 20)     /* largest payload a reader accepts (one huge record) */

/* CRC-32C (Castagnoli, reflected 0x82F63B78). Start with crc = 0; chain by
 * passing the previous result. */
uint32_t ims_crc32c(uint32_t crc, const void *data, size_t len);

typedef struct ims_bin_writer ims_bin_writer;
/* Writes the header to the (borrowed) sink. */
ims_bin_writer *ims_bin_writer_open(ims_trace_sink *sink, ims_error *err);
/* Frames are flushed once the next record would take the payload past
 * frame_target bytes (default IMS_BIN_FRAME_TARGET; tests use small ones). */
void ims_bin_writer_set_frame_target(ims_bin_writer *w, size_t frame_target);
/* Validates, then encodes the record. */
int ims_bin_writer_write(ims_bin_writer *w, const ims_trace_rec *r, ims_error *err);
/* Flush the last frame and write the end frame (the sink itself is not finished). */
int ims_bin_writer_finish(ims_bin_writer *w, ims_error *err);
void ims_bin_writer_close(ims_bin_writer *w);

typedef struct ims_bin_reader ims_bin_reader;
/* Reads and checks the header. name is used in messages. NULL on error (the
 * source is closed if owned). */
ims_bin_reader *ims_bin_reader_open(ims_trace_src *src, bool own_src, const char *name, ims_error *err);
/* 1 and a record, 0 after a complete end frame, or a negative errno with
 * "NAME: frame F ...: what" in err. Errors are sticky. */
int ims_bin_reader_next(ims_bin_reader *r, ims_trace_rec *rec, ims_error *err);
void ims_bin_reader_close(ims_bin_reader *r);
/* 1-based number of the record returned last, and of its frame. */
uint64_t ims_bin_reader_record(const ims_bin_reader *r);
uint64_t ims_bin_reader_frame(const ims_bin_reader *r);

#ifdef __cplusplus
}
#endif
#endif
