/*
 * fuzz_reader.c — the value-stream reader (reader.h) and the JSON scanner.
 *
 * Input: byte 0 sets max_record (1..256), byte 1 the size of the small reads
 * (1..16, low four bits), whether a \x01 byte is a TS_SOURCE_BREAK from the
 * source instead of data (bit 4) and max_depth (bits 5-6: the default, 2, 3
 * or 5); the rest is the stream.  For normal and text mode it checks that
 *   - reading it all at once, in small reads, and with the CloudWatch Logs
 *     or the first-level index scanner installed gives the same items (and
 *     the index agrees with walking the object);
 *   - each VALUE item scans as one value on its own, minifies to valid JSON
 *     (unchanged when it had no whitespace), and jansson accepts it unless
 *     it is one of the documented differences (lone surrogates, numbers too
 *     big for jansson);
 *   - items cover the stream in order, within it, never overlapping (no
 *     byte is in two items), and raw prefixes of too-large records stay
 *     within the limit;
 *   - with breaks, each BREAK item is where the source broke, and the items
 *     are those of reading each stretch between breaks as a whole input,
 *     line numbers and offsets carried on.
 * And with the whole input: when jansson accepts it as one value,
 * ts_json_scan() does too.
 */
#include <jansson.h>
#include <string.h>

#include "cwl.h"
#include "fuzz.h"
#include "reader.h"

struct src {
	const char *p;
	size_t n, chunk;
	int brk; /* \x01 is a break */
};

static long src_read(void *ctx, char *dst, size_t n)
{
	struct src *s = ctx;

	if (s->brk && s->n > 0 && s->p[0] == '\x01') {
		s->p++;
		s->n--;
		return TS_SOURCE_BREAK;
	}
	if (n > s->chunk)
		n = s->chunk;
	if (n > s->n)
		n = s->n;
	if (s->brk) {
		const char *b = memchr(s->p, '\x01', n);
		if (b)
			n = (size_t)(b - s->p);
	}
	memcpy(dst, s->p, n);
	s->p += n;
	s->n -= n;
	return (long)n;
}

static void check_value(struct ts_span v, int has_ws)
{
	struct ts_json_scan sc;
	struct ts_buf m;

	FUZZ_CHECK(ts_json_scan(v.p, v.p + v.n, 1, 0, &sc) == TS_JSON_OK);
	FUZZ_CHECK(sc.end == v.p + v.n);
	FUZZ_CHECK(sc.has_ws == has_ws);
	ts_buf_init(&m, 0);
	FUZZ_CHECK(ts_json_minify(&m, v) == 0);
	FUZZ_CHECK(ts_json_scan(m.data, m.data + m.len, 1, 0, &sc) == TS_JSON_OK);
	FUZZ_CHECK(sc.end == m.data + m.len && !sc.has_ws && sc.newlines == 0);
	if (!has_ws)
		FUZZ_CHECK(m.len == v.n && memcmp(m.data, v.p, v.n) == 0);
	ts_buf_release(&m);

	json_error_t err;
	json_t *j = json_loadb(v.p, v.n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (!j && !strstr(err.text, "Unicode") && !strstr(err.text, "too big") &&
	    !strstr(err.text, "overflow") && !strstr(err.text, "depth")) {
		fprintf(stderr, "jansson rejects a value ts_json_scan accepts: %s\n",
			err.text);
		FUZZ_CHECK(!"jansson agrees");
	}
	json_decref(j);
}

/* The index of a value's first level lists its members in order. */
static void check_index(struct ts_span v, const struct ts_json_keys *keys)
{
	struct ts_json_iter it;
	struct ts_span k, val;
	size_t i = 0;

	if (v.p[0] != '{') {
		FUZZ_CHECK(keys->n == 0);
		return;
	}
	ts_json_iter_init(&it, v);
	while (ts_json_obj_next(&it, &k, &val)) {
		if (i == TS_JSON_KEYS_MAX) {
			FUZZ_CHECK(keys->overflow);
			return;
		}
		FUZZ_CHECK(i < keys->n);
		FUZZ_CHECK(k.p == keys->k[i].p && k.n == keys->k[i].n);
		FUZZ_CHECK(val.p == keys->v[i].p && val.n == keys->v[i].n);
		i++;
	}
	FUZZ_CHECK(i == keys->n && !keys->overflow);
}

/* How a stream is read. */
struct how {
	const char *clean; /* the data without breaks: what offsets count */
	size_t cn;
	size_t max_record;
	int max_depth;
	int text;
	int brk;
	uint64_t lshift, oshift; /* added to lines and offsets (a stretch of
				  * the data read on its own) */
};

/*
 * A reader set up for h reading s.  Readers are kept from run to run and
 * started over with ts_reader_reset(): a fresh 1 MiB buffer per reader
 * costs more than the rest of a run under ASan.  One reader serves every
 * small limit (its buffer is sized for the largest), one the default.
 */
static struct ts_reader *reader(const struct how *h, struct src *s)
{
	static struct ts_reader small, dflt;
	static int ready;
	struct ts_reader *r = h->max_record ? &small : &dflt;

	if (!ready) {
		ts_reader_init(&small, src_read, NULL, 257, 0);
		ts_reader_init(&dflt, src_read, NULL, 0, 0);
		ready = 1;
	}
	ts_reader_reset(r, src_read, s);
	r->max_record = h->max_record ? h->max_record : TS_READER_DEFAULT_MAX_RECORD;
	r->max_depth = h->max_depth;
	r->text = h->text;
	r->scan = NULL;
	r->scan_ctx = NULL;
	return r;
}

/* All items of in as text; checks each item on the way. */
static void transcript(struct ts_buf *out, const struct how *h, const char *in,
		       size_t n, size_t chunk, int cwl)
{
	struct src s = {in, n, chunk, h->brk};
	struct ts_reader *rp = reader(h, &s), r = *rp;
	struct ts_item it;
	struct ts_cwl_index x;
	struct ts_json_keys keys;
	enum ts_item_kind k;
	uint64_t last_off = 0, end = 0, data = 0, nbrk = 0;
	size_t lim = h->max_record ? h->max_record : TS_READER_DEFAULT_MAX_RECORD;
	const char *clean = h->clean + h->oshift;
	size_t cn = h->cn - (size_t)h->oshift;

	ts_cwl_index_init(&x);
	if (cwl == 1) {
		r.scan = ts_cwl_scan;
		r.scan_ctx = &x;
	} else if (cwl == 2) {
		r.scan = ts_json_scan_keys_hook;
		r.scan_ctx = &keys;
	}
	while ((k = ts_reader_next(&r, &it)) != TS_ITEM_EOF) {
		FUZZ_CHECK(k != TS_ITEM_IO_ERROR);
		FUZZ_CHECK(it.offset >= last_off && it.offset <= cn);
		last_off = it.offset;
		if (k == TS_ITEM_BREAK) {
			/* where the source broke: after the data before the
			 * next \x01 not yet reported */
			while (data < n && in[data] != '\x01')
				data++;
			FUZZ_CHECK(h->brk && data < n);
			FUZZ_CHECK(it.offset == data - nbrk);
			data++;
			nbrk++;
			FUZZ_CHECK(it.v.n == 0 && it.offset >= end);
			ts_buf_addf(out, "%d %llu %llu\n", (int)k,
				    (unsigned long long)(it.line + h->lshift),
				    (unsigned long long)(it.offset + h->oshift));
			continue;
		}
		/* no byte is in two items */
		FUZZ_CHECK(it.offset >= end);
		end = it.offset + it.v.n;
		if (k == TS_ITEM_TOO_LARGE) {
			FUZZ_CHECK(it.v.n <= lim + 1 && it.v.n > 0);
			FUZZ_CHECK(it.v.n <= TS_READER_RAW_PREFIX);
			FUZZ_CHECK(memcmp(it.v.p, clean + it.offset, it.v.n) == 0);
		} else {
			FUZZ_CHECK(it.offset + it.v.n <= cn);
			FUZZ_CHECK(memcmp(it.v.p, clean + it.offset, it.v.n) == 0);
		}
		if (k == TS_ITEM_VALUE) {
			FUZZ_CHECK(it.v.n <= lim);
			check_value(it.v, it.has_ws);
			if (cwl == 2)
				check_index(it.v, &keys);
		}
		if (k == TS_ITEM_TEXT)
			FUZZ_CHECK(h->text && it.v.n <= lim);
		if (k == TS_ITEM_ERROR) {
			FUZZ_CHECK(it.err != NULL && it.err_line >= it.line);
			FUZZ_CHECK(it.v.n <= lim);
		}
		ts_buf_addf(out, "%d %llu %llu %llu %d %zu:", (int)k,
			    (unsigned long long)(it.line + h->lshift),
			    (unsigned long long)(it.offset + h->oshift),
			    (unsigned long long)(it.err_line ? it.err_line + h->lshift : 0),
			    it.has_ws, it.v.n);
		ts_buf_add(out, it.v.p, it.v.n);
		ts_buf_addch(out, '\n');
	}
	FUZZ_CHECK(ts_reader_next(&r, &it) == TS_ITEM_EOF);
	*rp = r; /* its buffers, for the next run */
	ts_cwl_index_release(&x);
}

static void same(const struct ts_buf *a, const struct ts_buf *b, const char *what)
{
	if (a->len == b->len && memcmp(a->data, b->data, a->len) == 0)
		return;
	fprintf(stderr, "items differ (%s):\n--- all at once\n%s\n--- other\n%s\n",
		what, a->data, b->data);
	FUZZ_CHECK(!"same items");
}

/* When jansson takes the whole input as one value, so must the scanner. */
static void whole_input(const char *in, size_t n)
{
	json_error_t err;
	json_t *j = json_loadb(in, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	struct ts_json_scan sc;

	if (!j)
		return;
	json_decref(j);
	const char *p = ts_json_skip_ws(in, in + n);
	if (memchr(p, '\0', n - (size_t)(p - in)))
		return; /* jansson takes "1\0" for 1: a NUL ends its input */
	enum ts_json_status st = ts_json_scan(p, in + n, 1, 0, &sc);
	if (st == TS_JSON_ERROR && strstr(sc.err, "deep"))
		return; /* jansson allows 2048 levels, we allow 512 */
	FUZZ_CHECK(st == TS_JSON_OK);
	FUZZ_CHECK(ts_json_skip_ws(sc.end, in + n) == in + n);
}

static uint64_t count_nl(const char *p, size_t n)
{
	uint64_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += p[i] == '\n';
	return k;
}

/*
 * A break is the end of input for what is before it: the items of a stream
 * with breaks are those of each stretch between them read on its own, the
 * next stretch starting on a new line unless the break came right after a
 * '\n'.  (A BOM is skipped only at the very start, so a stretch starting
 * with one is not compared.)
 */
static void stretches(struct ts_buf *out, struct how h, const char *in, size_t n)
{
	uint64_t line = 1;
	size_t i = 0;

	h.brk = 0;
	h.oshift = 0;
	for (;;) {
		const char *b = memchr(in + i, '\x01', n - i);
		size_t len = (b ? (size_t)(b - in) : n) - i;
		h.lshift = line - 1;
		if (i > 0 && len > 0 && in[i] == '\xef') {
			ts_buf_reset(out);
			ts_buf_addstr(out, "(not compared)");
			return;
		}
		transcript(out, &h, in + i, len, len + 1, 0);
		line += count_nl(in + i, len);
		h.oshift += len;
		if (!b)
			return;
		ts_buf_addf(out, "%d %llu %llu\n", (int)TS_ITEM_BREAK,
			    (unsigned long long)line, (unsigned long long)h.oshift);
		if (len > 0 && in[i + len - 1] != '\n')
			line++;
		i += len + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int depths[] = {0, 2, 3, 5};

	if (size < 2)
		return 0;
	size_t max_record = 1 + data[0];
	size_t chunk = 1 + (data[1] & 15);
	int brk = (data[1] >> 4) & 1;
	const char *in = (const char *)data + 2;
	size_t n = size - 2;
	struct ts_buf a, b, clean;
	struct how h = {.max_record = max_record, .max_depth = depths[(data[1] >> 5) & 3],
			.brk = brk};

	ts_buf_init(&a, 0);
	ts_buf_init(&b, 0);
	ts_buf_init(&clean, 0);
	for (size_t i = 0; i < n; i++)
		if (!brk || in[i] != '\x01')
			ts_buf_addch(&clean, in[i]);
	h.clean = clean.data;
	h.cn = clean.len;
	for (int text = 0; text < 2; text++) {
		h.text = text;
		h.max_record = max_record;
		ts_buf_reset(&a);
		transcript(&a, &h, in, n, n + 1, 0);
		ts_buf_reset(&b);
		transcript(&b, &h, in, n, chunk, 0);
		same(&a, &b, "small reads");
		ts_buf_reset(&b);
		transcript(&b, &h, in, n, text ? 1 : n + 1, 1);
		same(&a, &b, "cwl scanner");
		ts_buf_reset(&b);
		transcript(&b, &h, in, n, chunk, 2);
		same(&a, &b, "index scanner");
		if (brk) {
			ts_buf_reset(&b);
			stretches(&b, h, in, n);
			if (strcmp(b.data, "(not compared)") != 0)
				same(&a, &b, "each stretch between breaks on its own");
		}
		/* the default limit, where the raw prefix is 4096 bytes */
		h.max_record = 0;
		ts_buf_reset(&a);
		transcript(&a, &h, in, n, n + 1, 0);
		ts_buf_reset(&b);
		transcript(&b, &h, in, n, 64, 0);
		same(&a, &b, "default limit");
	}
	ts_buf_release(&a);
	ts_buf_release(&b);
	ts_buf_release(&clean);
	whole_input(in, n);
	return 0;
}
