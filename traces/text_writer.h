/* Canonical text form of trace records: one spelling per record, so that
 * parse(format(r)) == r and format(parse(line)) is a fixed point.
 *
 * Canonical rules: time prefix `@T`/`+D` in the largest unit that keeps T an
 * integer (0 is "0ns"); keys in schema order, flags as bare words; addresses
 * and register/descriptor values in lowercase 0x hex; counts and IDs in
 * decimal (SIDs in hex); sizes with the largest exact K/M/G suffix; single
 * spaces; no comments. */
#ifndef IMS_TRACES_TEXT_WRITER_H
#define IMS_TRACES_TEXT_WRITER_H

#include <stddef.h>

#include "traces/record.h"
#include "traces/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Write the record's canonical line (no newline) like snprintf: returns the
 * full length, writes at most cap-1 bytes plus a NUL. buf may be NULL if cap is 0. */
size_t ims_trace_format(const ims_trace_rec *r, char *buf, size_t cap);
/* One value of field f of record r, canonical (snprintf-like). */
size_t ims_trace_format_value(const ims_trace_rec *r, const ims_trace_field *f, char *buf, size_t cap);
/* A time in ps, canonical ("0ns", "1500ns", "2us", "7ps"). */
size_t ims_trace_format_time(uint64_t ps, char *buf, size_t cap);

/* Streams a text trace: the header line, then one canonical line per record. */
typedef struct ims_text_writer ims_text_writer;
/* The sink is borrowed (the caller finishes and closes it after ims_text_writer_close). */
ims_text_writer *ims_text_writer_open(ims_trace_sink *sink, ims_error *err);
/* Validates the record first: a writer never emits a trace its reader rejects. */
int ims_text_writer_write(ims_text_writer *w, const ims_trace_rec *r, ims_error *err);
void ims_text_writer_close(ims_text_writer *w);

#ifdef __cplusplus
}
#endif
#endif
