/*
 * reader.c — see reader.h.
 *
 * The buffer holds [consumed | unread | free].  When a value runs off the end
 * of what has been read, the unread part is moved to the front and more is
 * read; the value is then scanned again from its start.  Buffers grow by
 * doubling, so a value is rescanned O(log size) times at most.
 */
#include "reader.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "util.h"

#define READ_CHUNK ((size_t)1 << 20)

long ts_source_fd(void *ctx, char *dst, size_t n)
{
	return ts_read_full(*(int *)ctx, dst, n);
}

long ts_source_mem(void *ctx, char *dst, size_t n)
{
	struct ts_span *s = ctx;

	if (n > s->n)
		n = s->n;
	memcpy(dst, s->p, n);
	s->p += n;
	s->n -= n;
	return (long)n;
}

void ts_reader_init(struct ts_reader *r, ts_source_fn read, void *ctx,
		    size_t max_record, int max_depth)
{
	memset(r, 0, sizeof(*r));
	r->read = read;
	r->ctx = ctx;
	r->max_record = max_record ? max_record : TS_READER_DEFAULT_MAX_RECORD;
	r->max_depth = max_depth;
	r->line = 1;
	r->bol = 1;
	/* room for one maximal record plus a read chunk */
	ts_buf_init(&r->buf, r->max_record + READ_CHUNK + 1);
}

void ts_reader_reset(struct ts_reader *r, ts_source_fn read, void *ctx)
{
	struct ts_buf keep = r->buf;
	size_t max_record = r->max_record;
	int max_depth = r->max_depth, text = r->text;
	ts_scan_fn scan = r->scan;
	void *scan_ctx = r->scan_ctx;

	ts_buf_reset(&keep);
	memset(r, 0, offsetof(struct ts_reader, prefix));
	r->buf = keep;
	r->read = read;
	r->ctx = ctx;
	r->max_record = max_record;
	r->max_depth = max_depth;
	r->text = text;
	r->scan = scan;
	r->scan_ctx = scan_ctx;
	r->line = 1;
	r->bol = 1;
}

void ts_reader_release(struct ts_reader *r)
{
	ts_buf_release(&r->buf);
}

/*
 * Read more input, keeping the unread bytes from keep on.  Returns 1 when
 * bytes were added, 0 at end of input, -1 on a read error.
 */
static int fill(struct ts_reader *r, size_t keep)
{
	if (r->eof)
		return 0;
	if (keep > 0) {
		ts_buf_consume(&r->buf, keep);
		r->base += keep;
		r->pos -= keep;
		r->lstart = r->lstart >= keep ? r->lstart - keep : 0;
	}
	size_t want = READ_CHUNK;
	if (r->buf.len >= READ_CHUNK) /* a long value: double the room */
		want = r->buf.len;
	/* Doubling can pass the buffer's limit (max_record + a chunk) while
	 * the record still fits: then take the room up to the limit. */
	if (ts_buf_grow(&r->buf, want) < 0 &&
	    (r->buf.len >= r->buf.max ||
	     ts_buf_grow(&r->buf, r->buf.max - r->buf.len) < 0))
		return -1;
	want = ts_buf_avail(&r->buf);
	long n = r->read(r->ctx, r->buf.data + r->buf.len, want);
	if (n < 0) {
		/* Treat it as the end of input, so what was read before the
		 * failure still comes out; the error is the last item. */
		r->io_errno = errno ? errno : EIO;
		r->eof = 1;
		return 0;
	}
	if (n == 0) {
		r->eof = 1;
		return 0;
	}
	ts_buf_setlen(&r->buf, r->buf.len + (size_t)n);
	/* A source may hand over the BOM a byte at a time: decide once three
	 * bytes are in, or as soon as they cannot be one. */
	if (!r->started && (r->buf.len >= 3 ||
			    memcmp(r->buf.data, "\xef\xbb\xbf", r->buf.len) != 0)) {
		r->started = 1;
		if (r->buf.len >= 3 && memcmp(r->buf.data, "\xef\xbb\xbf", 3) == 0)
			r->pos = r->lstart = 3;
	}
	return 1;
}

static uint64_t count_nl(const char *p, const char *e)
{
	uint64_t n = 0;

	while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		n++;
		p++;
	}
	return n;
}

/* Skip the rest of the current line without buffering it. */
static int skip_line(struct ts_reader *r)
{
	for (;;) {
		char *nl = memchr(r->buf.data + r->pos, '\n', r->buf.len - r->pos);
		if (nl) {
			r->pos = r->lstart = (size_t)(nl - r->buf.data) + 1;
			r->line++;
			r->bol = 1;
			return 0;
		}
		r->pos = r->buf.len;
		int f = fill(r, r->pos);
		if (f <= 0)
			return f;
	}
}

static enum ts_item_kind io_error(struct ts_reader *r, struct ts_item *it)
{
	it->kind = TS_ITEM_IO_ERROR;
	it->sys_errno = errno;
	it->v.p = r->buf.data + r->pos;
	it->v.n = 0;
	r->eof = 1;
	r->pos = r->buf.len;
	return it->kind;
}

static enum ts_item_kind too_large(struct ts_reader *r, struct ts_item *it,
				   size_t start)
{
	size_t n = r->buf.len - start;

	/* Keep a prefix for the error record at the front of the buffer: no
	 * more than max_record + 1 bytes, all that a source handing over one
	 * byte at a time would have shown, so the item is the same however
	 * the input arrives (and holds nothing from the lines after it). */
	if (n > TS_READER_RAW_PREFIX)
		n = TS_READER_RAW_PREFIX;
	if (n > r->max_record + 1)
		n = r->max_record + 1;
	ts_buf_consume(&r->buf, start);
	r->base += start;
	r->pos = n;
	it->kind = TS_ITEM_TOO_LARGE;
	it->line = r->line;
	it->offset = r->base;
	it->err = "record too large";
	/* skip_line() refills the buffer, so the prefix is copied aside. */
	memcpy(r->prefix, r->buf.data, n);
	r->line += count_nl(r->buf.data, r->buf.data + n);
	r->bol = 0;
	if (skip_line(r) < 0)
		return io_error(r, it);
	it->v.p = r->prefix;
	it->v.n = n;
	return it->kind;
}

static int starts_value(char c)
{
	return c == '{' || c == '[' || c == '"' || c == '-' ||
	       (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n';
}

/*
 * A pretty-printed value broken in the middle leaves lines that are
 * indented, or close brackets: they belong to the same error record, up to
 * the next line that starts a value (so an NDJSON line stands alone).
 * [*lo, *hi) is the error so far, *hi at its '\n'; on return *hi is the
 * '\n' (or the end of input) where the error ends.  A line is taken only
 * when the error then stays within max_record, so memory stays bounded and
 * the decision does not depend on how much input has been read.
 * -1 on a read error.
 */
static int extend_error(struct ts_reader *r, size_t *lo, size_t *hi)
{
	for (;;) {
		size_t next = *hi + 1;
		if (*hi >= r->buf.len || *hi - *lo > r->max_record)
			return 0;
		if (next >= r->buf.len) {
			if (r->eof)
				return 0;
			size_t keep = *lo;
			if (fill(r, keep) < 0)
				return -1;
			*lo -= keep;
			*hi -= keep;
			continue;
		}
		if (starts_value(r->buf.data[next]))
			return 0;
		char *nl = memchr(r->buf.data + next, '\n', r->buf.len - next);
		if (nl) {
			if ((size_t)(nl - r->buf.data) - *lo > r->max_record)
				return 0;
			*hi = (size_t)(nl - r->buf.data);
			continue;
		}
		if (r->buf.len - *lo > r->max_record)
			return 0; /* the line ends past the limit, if at all */
		if (r->eof) {
			*hi = r->buf.len;
			return 0;
		}
		size_t keep = *lo;
		if (fill(r, keep) < 0)
			return -1;
		*lo -= keep;
		*hi -= keep;
	}
}

/*
 * Text mode: is the line from pos entirely JSON values (the last one allowed
 * to be a container that continues on the next lines)?  1 yes, 0 no,
 * -1 need more input to tell.
 */
static int line_is_json(struct ts_reader *r, const char *eol)
{
	const char *p = r->buf.data + r->pos;
	struct ts_json_scan sc;

	while ((p = ts_json_skip_ws(p, eol)) < eol) {
		enum ts_json_status st = ts_json_scan(p, eol, 1, r->max_depth, &sc);
		if (st == TS_JSON_OK) {
			p = sc.end;
			continue;
		}
		if (st == TS_JSON_INCOMPLETE && (*p == '{' || *p == '['))
			return 1; /* a multi-line value; the normal path checks it */
		return 0;
	}
	return 1;
}

enum ts_item_kind ts_reader_next(struct ts_reader *r, struct ts_item *it)
{
	struct ts_json_scan sc;

	memset(it, 0, sizeof(*it));
	while (!r->started) { /* until fill() has decided about a BOM */
		int f = fill(r, 0);
		if (f < 0)
			return io_error(r, it);
		if (f == 0)
			r->started = 1; /* input too short: no BOM */
	}
	for (;;) {
		/* skip whitespace, counting lines */
		char *p = r->buf.data + r->pos, *e = r->buf.data + r->buf.len;
		while (p < e && ts_json_is_ws(*p)) {
			if (*p == '\n') {
				/* text mode: a blank line is a line too, and as
				 * long as any other it is too large */
				if (r->text && r->bol &&
				    (size_t)(p - r->buf.data) - r->lstart > r->max_record) {
					r->pos = (size_t)(p - r->buf.data);
					return too_large(r, it, r->lstart);
				}
				r->line++;
				r->bol = 1;
				r->lstart = (size_t)(p + 1 - r->buf.data);
			}
			p++;
		}
		r->pos = (size_t)(p - r->buf.data);
		if (p < e)
			break;
		if (r->text && r->bol && r->buf.len - r->lstart > r->max_record)
			return too_large(r, it, r->lstart);
		/* text mode keeps a line's leading blanks: they are its text */
		int f = fill(r, r->text && r->bol ? r->lstart : r->pos);
		if (f < 0)
			return io_error(r, it);
		if (f == 0) {
			if (r->io_errno) {
				it->kind = TS_ITEM_IO_ERROR;
				it->sys_errno = r->io_errno;
				r->io_errno = 0;
				return it->kind;
			}
			return it->kind = TS_ITEM_EOF;
		}
	}

	for (;;) {
		size_t start = r->pos;
		const char *s = r->buf.data + start;
		const char *e = r->buf.data + r->buf.len;
		const char *eol = NULL;

		if (r->text && r->bol) {
			const char *ls = r->buf.data + r->lstart;
			eol = memchr(s, '\n', (size_t)(e - s));
			if (!eol && !r->eof) {
				if (r->buf.len - r->lstart > r->max_record)
					return too_large(r, it, r->lstart);
				if (fill(r, r->lstart) < 0)
					return io_error(r, it);
				continue;
			}
			if (!eol)
				eol = e;
			if ((size_t)(eol - ls) > r->max_record)
				return too_large(r, it, r->lstart);
			if (!line_is_json(r, eol)) {
				const char *end = eol;
				if (end > s && end[-1] == '\r')
					end--;
				it->kind = TS_ITEM_TEXT;
				it->v.p = ls;
				it->v.n = (size_t)(end - ls);
				it->line = r->line;
				it->offset = r->base + r->lstart;
				r->pos = (size_t)(eol - r->buf.data) + (eol < e);
				r->lstart = r->pos;
				r->line += eol < e;
				r->bol = 1;
				return it->kind;
			}
		}

		enum ts_json_status st =
			r->scan ? r->scan(r->scan_ctx, s, e, r->eof, r->max_depth, &sc)
				: ts_json_scan(s, e, r->eof, r->max_depth, &sc);
		if (st == TS_JSON_OK) {
			if ((size_t)(sc.end - s) > r->max_record)
				return too_large(r, it, start);
			it->kind = TS_ITEM_VALUE;
			it->v.p = s;
			it->v.n = (size_t)(sc.end - s);
			it->line = r->line;
			it->offset = r->base + start;
			it->has_ws = sc.has_ws;
			r->line += sc.newlines;
			r->pos = (size_t)(sc.end - r->buf.data);
			r->bol = 0;
			return it->kind;
		}
		if (st == TS_JSON_INCOMPLETE) {
			/* (also at eof: with input arriving in small reads the
			 * limit is crossed before the end is seen) */
			if (r->buf.len - start > r->max_record)
				return too_large(r, it, start);
			if (!r->eof) {
				if (fill(r, start) < 0)
					return io_error(r, it);
				continue;
			}
		}
		/* Malformed (or cut short by the end of input): the raw bytes run
		 * to the end of the line holding the damage. */
		const char *at = st == TS_JSON_ERROR ? sc.err_at : e;
		while (st != TS_JSON_ERROR && at > s && ts_json_is_ws(at[-1]))
			at--; /* cut short: the damage is where the bytes stop */
		eol = memchr(at, '\n', (size_t)(e - at));
		if (!eol && !r->eof) {
			if (r->buf.len - start > r->max_record)
				return too_large(r, it, start);
			if (fill(r, start) < 0)
				return io_error(r, it);
			continue;
		}
		if (!eol)
			eol = e;
		if ((size_t)(eol - s) > r->max_record)
			return too_large(r, it, start);
		it->err_line = r->line + count_nl(s, at);
		/* A value that starts a line and breaks on a later one: if a line
		 * in between starts with '{' or '[', that is the next NDJSON
		 * record, not part of this one.  The error ends before it. */
		int cut = 0;
		if (r->bol && at > s) {
			for (const char *q = memchr(s, '\n', (size_t)(at - s)); q;
			     q = q + 1 < at ? memchr(q + 1, '\n', (size_t)(at - q - 1)) : NULL) {
				if (q + 1 < e && (q[1] == '{' || q[1] == '[')) {
					eol = q;
					it->err_line = r->line + count_nl(s, q);
					cut = 1;
					break;
				}
			}
		}
		if (!r->text && !cut) {
			size_t lo = start, hi = (size_t)(eol - r->buf.data);
			if (extend_error(r, &lo, &hi) < 0)
				return io_error(r, it);
			s = r->buf.data + lo;
			e = r->buf.data + r->buf.len;
			eol = r->buf.data + hi;
			start = lo;
		}
		const char *end = eol;
		if (end > s && end[-1] == '\r')
			end--;
		it->kind = TS_ITEM_ERROR;
		it->v.p = s;
		it->v.n = (size_t)(end - s);
		it->line = r->line;
		it->offset = r->base + start;
		it->err = cut ? "value not complete at the end of its line"
		       : st == TS_JSON_ERROR ? sc.err
					     : "unexpected end of input inside a value";
		r->line += count_nl(s, eol) + (eol < e);
		r->pos = (size_t)(eol - r->buf.data) + (eol < e);
		r->lstart = r->pos;
		r->bol = 1;
		return it->kind;
	}
}
