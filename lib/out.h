/*
 * out.h — buffered output to a file descriptor.
 *
 * Hot paths append straight into o->buf (ts_buf_add, ts_json_escape, ...) and
 * call ts_out_end_record() after each record, which flushes in large writes.
 * A write error is remembered (o->err = errno) and every later call is a
 * no-op, so callers check once, at ts_out_flush(), as git does with stdout.
 */
#ifndef TS_OUT_H
#define TS_OUT_H

#include <stdint.h>

#include "buf.h"

#define TS_OUT_CHUNK (256 * 1024)

struct ts_out {
	int fd;
	int err;        /* errno of the first failed write, 0 if none */
	int autoflush;  /* flush after every record (an interactive stderr) */
	uint64_t bytes; /* bytes handed to write(2) so far */
	uint64_t records;
	struct ts_buf buf;
};

void ts_out_init(struct ts_out *o, int fd);
/* Flush and free the buffer (the fd stays open). 0 or -1 with o->err. */
int ts_out_release(struct ts_out *o);
int ts_out_flush(struct ts_out *o);

/* Append bytes, flushing when the buffer is full.  Large writes go direct. */
int ts_out_write(struct ts_out *o, const char *p, size_t n);

/* Finish a record appended to o->buf: add '\n', count it, flush if due. */
static inline int ts_out_end_record(struct ts_out *o)
{
	if (o->err) { /* output is gone: count nothing more */
		ts_buf_reset(&o->buf);
		return -1;
	}
	if (ts_buf_addch(&o->buf, '\n') < 0)
		return -1;
	o->records++;
	if (o->buf.len >= TS_OUT_CHUNK || o->autoflush)
		return ts_out_flush(o);
	return 0;
}

#endif
