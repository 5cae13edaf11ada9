/* Streaming parser of the trace text format v1 (/work/shared/spec and
 * docs/trace-format.md). Reads line by line; memory depends on the longest
 * line, not on the trace length. Every error stops the reader with
 * "FILE:LINE: what is wrong" in the ims_error; later calls return the same
 * error again. */
#ifndef IMS_TRACES_TEXT_READER_H
#define IMS_TRACES_TEXT_READER_H

#include <stdio.h>

#include "traces/record.h"
#include "traces/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ims_text_reader ims_text_reader;

/* name: shown in messages (usually the path); mem.load paths are relative to
 * its directory. own_src: close src with the reader. NULL with err on ENOMEM. */
ims_text_reader *ims_text_reader_open(ims_trace_src *src, bool own_src, const char *name, ims_error *err);
/* Over a FILE* (not closed by the reader). */
ims_text_reader *ims_text_reader_open_file(FILE *f, const char *name, ims_error *err);
/* Over a memory buffer (not copied; must outlive the reader). */
ims_text_reader *ims_text_reader_open_mem(const char *buf, size_t len, const char *name, ims_error *err);

/* 1 and the next record in *rec, 0 at the end of the trace, or a negative
 * errno with the message in err. */
int ims_text_reader_next(ims_text_reader *r, ims_trace_rec *rec, ims_error *err);
void ims_text_reader_close(ims_text_reader *r);

const char *ims_text_reader_name(const ims_text_reader *r);
/* Directory of the trace file ("." when the name has none). */
const char *ims_text_reader_dir(const ims_text_reader *r);
/* Number of the line read last. */
uint64_t ims_text_reader_line(const ims_text_reader *r);

#ifdef __cplusplus
}
#endif
#endif
