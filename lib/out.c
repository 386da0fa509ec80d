/* out.c — see out.h. */
#include "out.h"

#include <errno.h>

#include "util.h"

void ts_out_init(struct ts_out *o, int fd)
{
	o->fd = fd;
	o->err = 0;
	o->autoflush = 0;
	o->bytes = 0;
	o->records = 0;
	ts_buf_init(&o->buf, 0);
}

int ts_out_flush(struct ts_out *o)
{
	if (o->err) {
		ts_buf_reset(&o->buf);
		return -1;
	}
	if (o->buf.len && ts_write_all(o->fd, o->buf.data, o->buf.len) < 0) {
		o->err = errno;
		ts_buf_reset(&o->buf);
		return -1;
	}
	o->bytes += o->buf.len;
	ts_buf_reset(&o->buf);
	return 0;
}

int ts_out_release(struct ts_out *o)
{
	int rc = ts_out_flush(o);

	ts_buf_release(&o->buf);
	return rc;
}

int ts_out_write(struct ts_out *o, const char *p, size_t n)
{
	if (o->err)
		return -1;
	if (o->buf.len + n > TS_OUT_CHUNK && ts_out_flush(o) < 0)
		return -1;
	if (n >= TS_OUT_CHUNK) {
		if (ts_write_all(o->fd, p, n) < 0) {
			o->err = errno;
			return -1;
		}
		o->bytes += n;
		return 0;
	}
	if (ts_buf_add(&o->buf, p, n) < 0) {
		o->err = errno;
		return -1;
	}
	return 0;
}
