/*
 * reader.c — see reader.h.
 *
 * The buffer holds [consumed | unread | free].  When a value runs off the end
 * of what has been read, the unread part is moved to the front and more is
 * read; the value is then scanned again from its start.  Buffers grow by
 * doubling, so a value is rescanned O(log size) times at most.
 *
 * ts_reader_next() is a loop over four steps: skip_blank() (whitespace, and
 * the end of the data), text_line() (text mode only), scan_value() (the fast
 * path: one scan, one value) and what happens to a value that did not scan:
 * recover_line() for a malformed one, reject_value() for one too deep or too
 * large, reject_line() for a line too long to hold.  A step gives an item
 * kind, NEXT_STEP (go on to the next step) or AGAIN (more input was read:
 * start over).
 */
#include "reader.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "util.h"

#define READ_CHUNK ((size_t)1 << 20)
#define NEXT_STEP (-1)
#define AGAIN (-2)
/* How deep reject_value() follows the nesting of a value: a million levels,
 * a bit each, held in r->nest. */
#define FOLLOW_MAX_DEPTH ((size_t)1 << 20)

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
	ts_buf_init(&r->nest, FOLLOW_MAX_DEPTH / 8 + 64);
}

void ts_reader_reset(struct ts_reader *r, ts_source_fn read, void *ctx)
{
	struct ts_buf keep = r->buf, nest = r->nest;
	size_t max_record = r->max_record;
	int max_depth = r->max_depth, text = r->text;
	ts_scan_fn scan = r->scan;
	void *scan_ctx = r->scan_ctx;

	ts_buf_reset(&keep);
	memset(r, 0, offsetof(struct ts_reader, prefix));
	r->buf = keep;
	r->nest = nest;
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
	ts_buf_release(&r->nest);
}

/*
 * Read more input, keeping the unread bytes from keep on.  Returns 1 when
 * bytes were added, 0 at the end of the data (the end of input, a failing
 * source, or a break), -1 when the buffer cannot grow.
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
	if (n == TS_SOURCE_BREAK) {
		/* The data ends here for now: everything buffered comes out as
		 * at the end of input, then the break (end_of_data()).  The
		 * source is not called again until then. */
		r->brk = 1;
		r->eof = 1;
		return 0;
	}
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
	r->mid_line = r->buf.data[r->buf.len - 1] != '\n';
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

static int starts_value(char c)
{
	return c == '{' || c == '[' || c == '"' || c == '-' ||
	       (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n';
}

static enum ts_item_kind io_error(struct ts_reader *r, struct ts_item *it)
{
	it->kind = TS_ITEM_IO_ERROR;
	it->sys_errno = errno;
	it->v.p = r->buf.data + r->pos;
	it->v.n = 0;
	r->eof = 1;
	r->brk = 0;
	r->pos = r->buf.len;
	return it->kind;
}

/* Everything buffered has been delivered: the source failed, broke or ended. */
static enum ts_item_kind end_of_data(struct ts_reader *r, struct ts_item *it)
{
	if (r->io_errno) {
		it->kind = TS_ITEM_IO_ERROR;
		it->sys_errno = r->io_errno;
		r->io_errno = 0;
		return it->kind;
	}
	if (!r->brk)
		return it->kind = TS_ITEM_EOF;
	it->kind = TS_ITEM_BREAK;
	it->line = r->line;
	it->offset = r->base + r->buf.len;
	it->v.p = r->buf.data + r->buf.len;
	/* What follows starts a new line (the break ends a line cut short). */
	if (r->mid_line)
		r->line++;
	r->mid_line = 0;
	r->brk = 0;
	r->eof = 0;
	r->pos = r->lstart = r->buf.len;
	r->bol = 1;
	return it->kind;
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

/* The first bytes of an item too large to hold, copied aside: no more than
 * max_record + 1 bytes, all that a source handing over one byte at a time
 * would have shown, so the item is the same however the input arrives. */
static size_t keep_prefix(struct ts_reader *r, size_t start, size_t avail)
{
	size_t n = avail;

	if (n > TS_READER_RAW_PREFIX)
		n = TS_READER_RAW_PREFIX;
	if (n > r->max_record + 1)
		n = r->max_record + 1;
	memcpy(r->prefix, r->buf.data + start, n);
	return n;
}

/*
 * A line (text mode) or a malformed value whose line is longer than
 * max_record: a TS_ITEM_TOO_LARGE item with its first bytes, and the rest
 * of the line skipped without being buffered.
 */
static enum ts_item_kind reject_line(struct ts_reader *r, struct ts_item *it,
				     size_t start)
{
	size_t n = keep_prefix(r, start, r->buf.len - start);

	it->kind = TS_ITEM_TOO_LARGE;
	it->line = r->line;
	it->offset = r->base + start;
	it->err = "record too large";
	r->line += count_nl(r->buf.data + start, r->buf.data + start + n);
	r->pos = start + n;
	r->bol = 0;
	if (skip_line(r) < 0)
		return io_error(r, it);
	it->v.p = r->prefix;
	it->v.n = n;
	return it->kind;
}

/* --- skipping a rejected value whole ------------------------------------ */

/*
 * follow() walks a value as far as its structure goes: brackets, strings,
 * keys, colons and commas, without checking numbers, escapes or UTF-8 (what
 * it walks was either checked by the scanner already or is being thrown
 * away), and without holding on to it.  It is the scanner's grammar made
 * resumable, so a value of any length or depth can be skipped in constant
 * memory, and a value cut short or broken is noticed where its structure
 * breaks rather than swallowing what follows it.
 */
enum { F_VALUE, F_VALUE_OR_CLOSE, F_KEY, F_KEY_OR_CLOSE, F_COLON, F_AFTER,
       F_STRING, F_KEY_STRING, F_SCALAR };
enum { FOLLOW_MORE, FOLLOW_CLOSED, FOLLOW_BROKEN };

struct follow {
	size_t depth;
	uint64_t newlines;
	int state;
	int esc;
	char last; /* the byte before the one being looked at */
};

static int scalar_byte(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
	       c == '-' || c == '+' || c == '.';
}

static int in_object(const struct ts_reader *r, size_t depth)
{
	return ((unsigned char)r->nest.data[(depth - 1) / 8] >> ((depth - 1) % 8)) & 1;
}

/* Walk buf[*ip, lim).  FOLLOW_CLOSED: *ip is one past the value.
 * FOLLOW_BROKEN: *ip is the byte where the structure breaks.  FOLLOW_MORE:
 * *ip == lim. */
static int follow(struct ts_reader *r, struct follow *f, size_t *ip, size_t lim)
{
	const char *b = r->buf.data;
	size_t i = *ip;
	int rc = FOLLOW_MORE;

	for (; i < lim; f->last = b[i], i++) {
		unsigned char c = (unsigned char)b[i];
	again:
		switch (f->state) {
		case F_STRING:
		case F_KEY_STRING:
			if (c == '\n') {
				rc = FOLLOW_BROKEN; /* strings never span lines */
				goto out;
			} else if (f->esc) {
				f->esc = 0;
			} else if (c == '\\') {
				f->esc = 1;
			} else if (c == '"') {
				if (f->state == F_KEY_STRING) {
					f->state = F_COLON;
				} else {
					f->state = F_AFTER;
					if (f->depth == 0) {
						i++;
						rc = FOLLOW_CLOSED;
						goto out;
					}
				}
			}
			continue;
		case F_SCALAR:
			if (scalar_byte(c))
				continue;
			if (f->depth == 0) {
				rc = FOLLOW_CLOSED; /* it ends before c */
				goto out;
			}
			f->state = F_AFTER;
			goto again;
		}
		if (ts_json_is_ws((char)c)) {
			f->newlines += c == '\n';
			continue;
		}
		switch (f->state) {
		case F_VALUE_OR_CLOSE:
			if (c == ']')
				goto close;
			f->state = F_VALUE;
			/* fall through */
		case F_VALUE:
			if (c == '{' || c == '[') {
				size_t d = f->depth;
				if (d >= FOLLOW_MAX_DEPTH ||
				    (d / 8 >= r->nest.len && ts_buf_addch(&r->nest, 0) < 0)) {
					rc = FOLLOW_BROKEN;
					goto out;
				}
				unsigned char *bits = (unsigned char *)r->nest.data + d / 8;
				if (c == '{')
					*bits = (unsigned char)(*bits | 1u << (d % 8));
				else
					*bits = (unsigned char)(*bits & ~(1u << (d % 8)));
				f->depth++;
				f->state = c == '{' ? F_KEY_OR_CLOSE : F_VALUE_OR_CLOSE;
			} else if (c == '"') {
				f->state = F_STRING;
			} else if (scalar_byte(c)) {
				f->state = F_SCALAR;
			} else {
				rc = FOLLOW_BROKEN;
				goto out;
			}
			continue;
		case F_KEY_OR_CLOSE:
			if (c == '}')
				goto close;
			/* fall through */
		case F_KEY:
			if (c != '"') {
				rc = FOLLOW_BROKEN;
				goto out;
			}
			f->state = F_KEY_STRING;
			continue;
		case F_COLON:
			if (c != ':') {
				rc = FOLLOW_BROKEN;
				goto out;
			}
			f->state = F_VALUE;
			continue;
		case F_AFTER:
			if (c == ',') {
				f->state = in_object(r, f->depth) ? F_KEY : F_VALUE;
				continue;
			}
			if (c == (in_object(r, f->depth) ? '}' : ']'))
				goto close;
			rc = FOLLOW_BROKEN;
			goto out;
		}
		continue;
	close:
		f->depth--;
		f->state = F_AFTER;
		if (f->depth == 0) {
			i++;
			rc = FOLLOW_CLOSED;
			goto out;
		}
	}
out:
	*ip = i;
	return rc;
}

/*
 * Where a broken rejected value ends: before the first line that begins at
 * or after its damage (buf[*ip]) with the start of a value at column 0, or
 * at the end of the data.  On return *ip is that line's start (or the end
 * of the data) and *end where the value's bytes end.  *keep says whether the
 * value is still whole in the buffer from *start; it stops being kept once
 * it is certainly longer than max_record, its first bytes copied aside
 * (*pn).  -1 when the buffer cannot grow.
 */
static int find_resume(struct ts_reader *r, struct follow *f, size_t *start,
		       size_t *ip, size_t *end, int *keep, size_t *pn)
{
	size_t i = *ip;

	if (i < r->buf.len && f->last == '\n' && starts_value(r->buf.data[i])) {
		*end = i - 1;
		return 0;
	}
	for (;;) {
		const char *b = r->buf.data;
		const char *nl = memchr(b + i, '\n', r->buf.len - i);
		if (nl && (size_t)(nl - b) + 1 < r->buf.len) {
			f->newlines++;
			i = (size_t)(nl - b) + 1;
			if (starts_value(b[i])) {
				*ip = i;
				*end = i - 1;
				return 0;
			}
			continue;
		}
		if (nl)
			i = (size_t)(nl - b); /* its line's first byte is still to come */
		else
			i = r->buf.len;
		if (r->eof) {
			f->newlines += nl != NULL;
			*ip = *end = r->buf.len;
			return 0;
		}
		if (*keep && i - *start > r->max_record + 1) {
			*pn = keep_prefix(r, *start, i - *start);
			*keep = 0;
		}
		size_t from = *keep ? *start : i;
		r->pos = i;
		if (fill(r, from) < 0)
			return -1;
		i = r->pos;
		if (*keep)
			*start = 0;
	}
}

/*
 * A value at buf[start] rejected for its nesting depth (at is where it went
 * too deep) or its size (too_large; at is start + max_record + 1): skip it
 * whole, so no part of it is ever read as a value of its own.  The item is
 * TS_ITEM_ERROR with all its bytes when it is a depth error within
 * max_record, else TS_ITEM_TOO_LARGE with the first bytes.  See reader.h.
 */
static enum ts_item_kind reject_value(struct ts_reader *r, struct ts_item *it,
				      size_t start, size_t at, int too_large,
				      const char *err)
{
	struct follow f = {.state = F_VALUE};
	size_t i = start, end, pn = 0;
	int keep = !too_large, how;

	it->line = r->line;
	it->offset = r->base + start;
	it->err = err;
	uint64_t err_line = r->line + count_nl(r->buf.data + start, r->buf.data + at);
	if (too_large)
		pn = keep_prefix(r, start, r->buf.len - start);
	ts_buf_reset(&r->nest);
	for (;;) {
		how = follow(r, &f, &i, r->buf.len);
		if (how != FOLLOW_MORE)
			break;
		if (r->eof)
			break;
		if (keep && i - start > r->max_record + 1) {
			pn = keep_prefix(r, start, i - start);
			keep = 0;
		}
		size_t from = keep ? start : i;
		r->pos = i;
		if (fill(r, from) < 0)
			return io_error(r, it);
		i = r->pos;
		if (keep)
			start = 0;
	}
	if (how == FOLLOW_MORE && f.state == F_SCALAR && f.depth == 0)
		how = FOLLOW_CLOSED; /* a number or literal ends with the input */
	if (how == FOLLOW_CLOSED) {
		end = i;
		r->bol = 0;
	} else {
		if (find_resume(r, &f, &start, &i, &end, &keep, &pn) < 0)
			return io_error(r, it);
		r->bol = 1;
		r->lstart = i;
	}
	r->line = it->line + f.newlines;
	r->pos = i;
	/* (What it holds decides the kind, blank lines at its end included:
	 * read in small pieces, they were already let go.) */
	if (keep && end - start <= r->max_record) {
		if (how != FOLLOW_CLOSED) {
			/* the bytes end with the last line that holds any */
			const char *s = r->buf.data + start, *e = r->buf.data + end;
			while (e > s && ts_json_is_ws(e[-1]))
				e--;
			const char *nl = memchr(e, '\n', (size_t)(r->buf.data + end - e));
			end = nl ? (size_t)(nl - r->buf.data) : end;
		}
		it->kind = TS_ITEM_ERROR;
		it->err_line = err_line;
		it->v.p = r->buf.data + start;
		it->v.n = end - start;
		return it->kind;
	}
	if (keep)
		pn = keep_prefix(r, start, end - start);
	it->kind = TS_ITEM_TOO_LARGE;
	it->err = "record too large";
	it->v.p = r->prefix;
	it->v.n = pn;
	return it->kind;
}

/* --- malformed values ---------------------------------------------------- */

/*
 * A pretty-printed value broken in the middle leaves lines that are
 * indented, or close brackets: they belong to the same error record, up to
 * the next line that starts a value (so an NDJSON line stands alone).
 * [*lo, *hi) is the error so far, *hi at its '\n'; on return *hi is the
 * '\n' (or the end of input) where the error ends.  A line is taken only
 * when the error then stays within max_record, so memory stays bounded and
 * the decision does not depend on how much input has been read.
 * -1 when the buffer cannot grow.
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
 * A malformed value (or one cut short by the end of the data) at pos: an
 * error item whose raw bytes run to the end of the line holding the damage,
 * and over the lines after it that cannot start a value.
 */
static int recover_line(struct ts_reader *r, struct ts_item *it,
			enum ts_json_status st, const struct ts_json_scan *sc)
{
	size_t start = r->pos;
	const char *s = r->buf.data + start, *e = r->buf.data + r->buf.len;
	const char *at = st == TS_JSON_ERROR ? sc->err_at : e;

	while (st != TS_JSON_ERROR && at > s && ts_json_is_ws(at[-1]))
		at--; /* cut short: the damage is where the bytes stop */
	const char *eol = memchr(at, '\n', (size_t)(e - at));
	if (!eol && !r->eof) {
		if (r->buf.len - start > r->max_record)
			return reject_line(r, it, start);
		if (fill(r, start) < 0)
			return io_error(r, it);
		return AGAIN;
	}
	if (!eol)
		eol = e;
	if ((size_t)(eol - s) > r->max_record)
		return reject_line(r, it, start);
	it->err_line = r->line + count_nl(s, at);
	/* A value that breaks on a later line than it starts: if a line in
	 * between starts with '{' or '[', that is the next NDJSON record, not
	 * part of this one (wherever on its line this one started).  The
	 * error ends before it. */
	int cut = 0;
	for (const char *q = at > s ? memchr(s, '\n', (size_t)(at - s)) : NULL; q;
	     q = q + 1 < at ? memchr(q + 1, '\n', (size_t)(at - q - 1)) : NULL) {
		if (q + 1 < e && (q[1] == '{' || q[1] == '[')) {
			eol = q;
			it->err_line = r->line + count_nl(s, q);
			cut = 1;
			break;
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
	/* raw is the bytes as they are, a '\r' before the '\n' included */
	it->kind = TS_ITEM_ERROR;
	it->v.p = s;
	it->v.n = (size_t)(eol - s);
	it->line = r->line;
	it->offset = r->base + start;
	it->err = cut ? "value not complete at the end of its line"
	       : st == TS_JSON_ERROR ? sc->err
				     : "unexpected end of input inside a value";
	r->line += count_nl(s, eol) + (eol < e);
	r->pos = (size_t)(eol - r->buf.data) + (eol < e);
	r->lstart = r->pos;
	r->bol = 1;
	return it->kind;
}

/* --- the steps ----------------------------------------------------------- */

/* Until fill() has decided about a BOM. */
static int sniff_bom(struct ts_reader *r)
{
	while (!r->started) {
		int f = fill(r, 0);
		if (f < 0)
			return -1;
		if (f == 0)
			r->started = 1; /* input too short: no BOM */
	}
	return 0;
}

/* Skip whitespace, counting lines; at the end of the data, say why. */
static int skip_blank(struct ts_reader *r, struct ts_item *it)
{
	for (;;) {
		char *p = r->buf.data + r->pos, *e = r->buf.data + r->buf.len;
		while (p < e && ts_json_is_ws(*p)) {
			if (*p == '\n') {
				/* text mode: a blank line is a line too, and as
				 * long as any other it is too large */
				if (r->text && r->bol &&
				    (size_t)(p - r->buf.data) - r->lstart > r->max_record) {
					r->pos = (size_t)(p - r->buf.data);
					return reject_line(r, it, r->lstart);
				}
				r->line++;
				r->bol = 1;
				r->lstart = (size_t)(p + 1 - r->buf.data);
			}
			p++;
		}
		r->pos = (size_t)(p - r->buf.data);
		if (p < e)
			return NEXT_STEP;
		if (r->text && r->bol && r->buf.len - r->lstart > r->max_record)
			return reject_line(r, it, r->lstart);
		/* text mode keeps a line's leading blanks: they are its text */
		int f = fill(r, r->text && r->bol ? r->lstart : r->pos);
		if (f < 0)
			return io_error(r, it);
		if (f == 0)
			return end_of_data(r, it);
	}
}

/*
 * Text mode is the line from lstart entirely JSON values (the last one
 * allowed to be a container that continues on the next lines)?
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

/* Text mode, at the start of a line: a line that is not JSON is a TEXT item,
 * without its "\n" or "\r\n". */
static int text_line(struct ts_reader *r, struct ts_item *it)
{
	const char *s = r->buf.data + r->pos, *e = r->buf.data + r->buf.len;
	const char *ls = r->buf.data + r->lstart;
	const char *eol = memchr(s, '\n', (size_t)(e - s));

	if (!eol && !r->eof) {
		if (r->buf.len - r->lstart > r->max_record)
			return reject_line(r, it, r->lstart);
		if (fill(r, r->lstart) < 0)
			return io_error(r, it);
		return AGAIN;
	}
	if (!eol)
		eol = e;
	if ((size_t)(eol - ls) > r->max_record)
		return reject_line(r, it, r->lstart);
	if (line_is_json(r, eol))
		return NEXT_STEP;
	const char *end = eol;
	if (eol < e && end > s && end[-1] == '\r')
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

/* The value at pos: the fast path. */
static int scan_value(struct ts_reader *r, struct ts_item *it)
{
	struct ts_json_scan sc;
	size_t start = r->pos;
	const char *s = r->buf.data + start, *e = r->buf.data + r->buf.len;
	enum ts_json_status st =
		r->scan ? r->scan(r->scan_ctx, s, e, r->eof, r->max_depth, &sc)
			: ts_json_scan(s, e, r->eof, r->max_depth, &sc);

	if (st == TS_JSON_OK) {
		if ((size_t)(sc.end - s) > r->max_record)
			return reject_value(r, it, start, start + r->max_record + 1, 1,
					    NULL);
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
	/* A value whose first max_record + 1 bytes are not yet a whole value
	 * (nor a malformed one) is too large, whatever comes after: read in
	 * small pieces, that is all there is to go by.  (Also at the end of
	 * input.)  A scan that saw more and found an error is asked again
	 * about those bytes alone: some errors show only bytes after the one
	 * they point at (a broken UTF-8 sequence). */
	size_t first = r->max_record + 1;
	if (st == TS_JSON_INCOMPLETE && r->buf.len - start >= first)
		return reject_value(r, it, start, start + first, 1, NULL);
	if (st == TS_JSON_ERROR && r->buf.len - start > first) {
		struct ts_json_scan pre;
		enum ts_json_status pst =
			r->scan ? r->scan(r->scan_ctx, s, s + first, 0, r->max_depth, &pre)
				: ts_json_scan(s, s + first, 0, r->max_depth, &pre);
		if (pst == TS_JSON_INCOMPLETE)
			return reject_value(r, it, start, start + first, 1, NULL);
	}
	if (st == TS_JSON_INCOMPLETE && !r->eof) {
		if (fill(r, start) < 0)
			return io_error(r, it);
		return AGAIN;
	}
	if (st == TS_JSON_ERROR && sc.err == ts_json_too_deep)
		return reject_value(r, it, start, (size_t)(sc.err_at - r->buf.data), 0,
				    sc.err);
	return recover_line(r, it, st, &sc);
}

enum ts_item_kind ts_reader_next(struct ts_reader *r, struct ts_item *it)
{
	int k;

	memset(it, 0, sizeof(*it));
	if (!r->started && sniff_bom(r) < 0)
		return io_error(r, it);
	for (;;) {
		k = skip_blank(r, it);
		if (k == NEXT_STEP && r->text && r->bol)
			k = text_line(r, it);
		if (k == NEXT_STEP)
			k = scan_value(r, it);
		if (k != AGAIN)
			return (enum ts_item_kind)k;
	}
}

int ts_reader_cut_by_break(const struct ts_reader *r, const struct ts_item *it)
{
	return r->brk && it->v.p && it->v.p + it->v.n == r->buf.data + r->buf.len;
}
