/* Byte sources and sinks under the trace readers and writers: a FILE*, a
 * memory buffer, or a zstd (de)compressing layer over another one. Sources are
 * buffered so a reader can peek at the first bytes to detect the format. */
#ifndef IMS_TRACES_STREAM_H
#define IMS_TRACES_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMS_TRACE_SRC_BUF (64u << 10)
#define IMS_ZSTD_MAGIC 0xFD2FB528u /* little-endian on disk: 28 B5 2F FD */

typedef struct ims_trace_src ims_trace_src;

/* own: close the FILE with the source. */
ims_trace_src *ims_trace_src_file(FILE *f, bool own);
/* The buffer is not copied and must outlive the source. */
ims_trace_src *ims_trace_src_mem(const void *data, size_t len);
/* Decompresses `inner` (owned: closed with this source). NULL on ENOMEM (inner is closed). */
ims_trace_src *ims_trace_src_zstd(ims_trace_src *inner);
void ims_trace_src_close(ims_trace_src *s);

/* Make at least n (<= IMS_TRACE_SRC_BUF) bytes visible at *p without
 * consuming them; buffered bytes are never moved unless fewer than n are
 * visible. Returns how many are visible (may exceed n; fewer than n only at
 * end of input), or a negative errno with a message in err. */
long ims_trace_src_peek(ims_trace_src *s, const uint8_t **p, size_t n, ims_error *err);
void ims_trace_src_consume(ims_trace_src *s, size_t n);
/* Read exactly n bytes unless the input ends first: returns bytes read. */
long ims_trace_src_read(ims_trace_src *s, void *buf, size_t n, ims_error *err);
/* Bytes consumed so far (of this layer's output). */
uint64_t ims_trace_src_offset(const ims_trace_src *s);

typedef struct ims_trace_sink ims_trace_sink;

ims_trace_sink *ims_trace_sink_file(FILE *f, bool own);
/* A growing memory buffer (tests, tools). */
ims_trace_sink *ims_trace_sink_mem(void);
const uint8_t *ims_trace_sink_mem_data(const ims_trace_sink *s, size_t *len);
/* Compresses into `inner` (closed with this sink when own_inner; finishing
 * this sink also finishes inner). level: zstd level, 0 = zstd's default.
 * NULL on ENOMEM (an owned inner is closed). */
ims_trace_sink *ims_trace_sink_zstd(ims_trace_sink *inner, bool own_inner, int level);

int ims_trace_sink_write(ims_trace_sink *s, const void *data, size_t n, ims_error *err);
/* Flush everything (ends the zstd frame). No writes may follow. */
int ims_trace_sink_finish(ims_trace_sink *s, ims_error *err);
void ims_trace_sink_close(ims_trace_sink *s);

#ifdef __cplusplus
}
#endif
#endif
