/*
 * json.c — see json.h.
 *
 * The validator is an explicit state machine over a bit stack (one bit per
 * open container: object or array) so nesting depth costs no C stack and
 * the depth limit is a plain compare.  Strings, the bulk of log data, are
 * skipped with a table lookup per byte; only quotes, backslashes, control
 * bytes and non-ASCII bytes leave the fast loop.
 */
#include "json.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* 1: byte needs attention inside a string ('"', '\\', < 0x20, >= 0x80) */
static const unsigned char str_special[256] = {
	[0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 1,
};

/* Skip bytes that need no attention inside a string. */
#if defined(__SSE2__)
#include <emmintrin.h>
static inline const unsigned char *skip_plain(const unsigned char *p,
					      const unsigned char *e)
{
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
	const __m128i space = _mm_set1_epi8(0x20);

	while (e - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		/* signed compare: < 0x20 also catches bytes >= 0x80 */
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote),
						      _mm_cmpeq_epi8(v, bslash)),
					 _mm_cmplt_epi8(v, space));
		unsigned mask = (unsigned)_mm_movemask_epi8(m);
		if (mask)
			return p + __builtin_ctz(mask);
		p += 16;
	}
	while (p < e && !str_special[*p])
		p++;
	return p;
}
#else
static inline const unsigned char *skip_plain(const unsigned char *p,
					      const unsigned char *e)
{
	while (e - p >= 4 && !str_special[p[0]] && !str_special[p[1]] &&
	       !str_special[p[2]] && !str_special[p[3]])
		p += 4;
	while (p < e && !str_special[*p])
		p++;
	return p;
}
#endif

/*
 * Length of the valid UTF-8 sequence at s (lead byte >= 0x80), 0 when invalid,
 * -1 when it runs past end (possibly incomplete).
 */
static int utf8_seq(const unsigned char *s, const unsigned char *end)
{
	unsigned c = s[0];
	int n;
	unsigned lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f; /* no UTF-16 surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	for (int i = 1; i < n; i++) {
		if (s + i >= end)
			return -1;
		if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
			return 0;
	}
	return n;
}

size_t ts_utf8_valid_prefix(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str, *e = s + n, *p = s;

	while (p < e) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		int k = utf8_seq(p, e);
		if (k <= 0)
			break;
		p += k;
	}
	return (size_t)(p - s);
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

const char ts_json_too_deep[] = "nesting too deep";

#define FAIL(at, msg)                 \
	do {                          \
		r->err_at = (const char *)(at); \
		r->err = (msg);       \
		return TS_JSON_ERROR; \
	} while (0)
#define NEED(q)                                    \
	do {                                       \
		if ((q) >= e)                      \
			return TS_JSON_INCOMPLETE; \
	} while (0)

/* Scan a string at p ('"'); on OK *out is one past the closing quote. */
#if defined(__SSE2__)
/*
 * Sixteen bytes of a string at once, escapes included: log messages that
 * are JSON themselves are full of \" and stop a byte-at-a-time scanner every
 * few bytes.  Finds which bytes are escaped (a backslash escapes the next
 * byte unless it is itself escaped), checks every escaped byte is one of
 * " \ / b f n r t, and looks for the first quote that is not escaped.
 * Returns 1 when the string ends in this block (*end past its quote), 0 when
 * all 16 bytes were plain string, -1 when the byte-at-a-time path must look
 * at *pp (a control or non-ASCII byte, a \u escape, a bad escape, or an
 * escape that straddles the block).
 */
static inline int string_block(const unsigned char **pp, const unsigned char **end)
{
	const unsigned char *p = *pp;
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	unsigned q = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
	unsigned bs = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
	unsigned ctl = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
	unsigned n = ctl ? (unsigned)__builtin_ctz(ctl) : 16; /* usable bytes */
	unsigned lim = (1u << n) - 1;

	q &= lim;
	bs &= lim;
	if (!bs) {
		if (q) {
			*end = p + __builtin_ctz(q) + 1;
			return 1;
		}
		*pp = p + n;
		return n == 16 ? 0 : -1;
	}
	unsigned escaped = 0, m = bs;
	while (m) {
		unsigned i = (unsigned)__builtin_ctz(m);
		escaped |= 2u << i;
		m &= ~(3u << i);
	}
	unsigned uq = q & ~escaped;
	unsigned upto = uq ? (unsigned)__builtin_ctz(uq) : n;
	__m128i ok = _mm_or_si128(
		_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
					  _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
			     _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('/')),
					  _mm_cmpeq_epi8(v, _mm_set1_epi8('b')))),
		_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('f')),
					  _mm_cmpeq_epi8(v, _mm_set1_epi8('n'))),
			     _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('r')),
					  _mm_cmpeq_epi8(v, _mm_set1_epi8('t')))));
	unsigned bad = escaped & ((1u << upto) - 1) & ~(unsigned)_mm_movemask_epi8(ok);
	if (bad) { /* \u or a bad escape: the backslash before it */
		*pp = p + __builtin_ctz(bad) - 1;
		return -1;
	}
	if (!uq && (escaped >> n) & 1) {
		/* the last byte is a backslash whose escape is beyond */
		*pp = p + n - 1;
		return -1;
	}
	if (uq) {
		*end = p + upto + 1;
		return 1;
	}
	*pp = p + n;
	return n == 16 ? 0 : -1;
}
#endif

static enum ts_json_status scan_string(const unsigned char *p,
				       const unsigned char *e,
				       const unsigned char **out,
				       struct ts_json_scan *r)
{
	p++;
	for (;;) {
#if defined(__SSE2__)
		while (e - p >= 16) {
			int k = string_block(&p, out);
			if (k > 0)
				return TS_JSON_OK;
			if (k < 0)
				break;
		}
#endif
		p = skip_plain(p, e);
		NEED(p);
		unsigned c = *p;
		if (c == '"') {
			*out = p + 1;
			return TS_JSON_OK;
		}
		if (c == '\\') {
			NEED(p + 1);
			switch (p[1]) {
			case '"': case '\\': case '/': case 'b':
			case 'f': case 'n': case 'r': case 't':
				p += 2;
				break;
			case 'u':
				for (int i = 2; i < 6; i++) {
					NEED(p + i);
					if (hexval(p[i]) < 0)
						FAIL(p + i, "invalid \\u escape in string");
				}
				if ((p[2] | 32) == 'd' && hexval(p[3]) >= 8)
					r->surrogate = 1;
				p += 6;
				break;
			default:
				FAIL(p + 1, "invalid escape in string");
			}
			continue;
		}
		if (c < 0x20) {
			if (c == '\n')
				FAIL(p, "unterminated string (newline inside string)");
			FAIL(p, "control character inside string");
		}
		int k = utf8_seq(p, e);
		if (k < 0)
			return TS_JSON_INCOMPLETE;
		if (k == 0)
			FAIL(p, "invalid UTF-8 in string");
		p += k;
	}
}

static enum ts_json_status scan_number(const unsigned char *p,
				       const unsigned char *e, int eof,
				       const unsigned char **out,
				       struct ts_json_scan *r)
{
	/* At e with eof the number simply ends there. */
#define NUM_NEED(q)                                              \
	do {                                                     \
		if ((q) >= e) {                                  \
			if (!eof)                                \
				return TS_JSON_INCOMPLETE;       \
			goto at_end;                             \
		}                                                \
	} while (0)
	if (*p == '-') {
		p++;
		NUM_NEED(p);
	}
	if (*p == '0') {
		p++;
	} else if (*p >= '1' && *p <= '9') {
		p++;
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	} else
		FAIL(p, "invalid number");
	NUM_NEED(p);
	if (*p == '.') {
		p++;
		NUM_NEED(p);
		if (!(*p >= '0' && *p <= '9'))
			FAIL(p, "invalid number: digit expected after '.'");
		while (p < e && *p >= '0' && *p <= '9')
			p++;
		NUM_NEED(p);
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		NUM_NEED(p);
		if (*p == '+' || *p == '-')
			p++;
		NUM_NEED(p);
		if (!(*p >= '0' && *p <= '9'))
			FAIL(p, "invalid number: digit expected in exponent");
		while (p < e && *p >= '0' && *p <= '9')
			p++;
		NUM_NEED(p);
	}
	*out = p;
	return TS_JSON_OK;
at_end:
	/* eof: valid only when the last byte is a digit */
	if (!(p[-1] >= '0' && p[-1] <= '9'))
		FAIL(p, "unexpected end of input in number");
	*out = p;
	return TS_JSON_OK;
#undef NUM_NEED
}

static enum ts_json_status scan(const char *start, const char *end, int eof,
				int max_depth, int nested, struct ts_json_keys *keys,
				struct ts_json_scan *r)
{
	const unsigned char *p = (const unsigned char *)start;
	const unsigned char *e = (const unsigned char *)end;
	uint64_t stack[TS_JSON_MAX_DEPTH / 64 + 1]; /* bit set: object */
	int depth = 0;
	enum ts_json_status st;

	if (max_depth <= 0 || max_depth > TS_JSON_MAX_DEPTH)
		max_depth = TS_JSON_MAX_DEPTH;
	r->newlines = 0;
	r->has_ws = 0;
	r->deepest = 0;
	r->surrogate = 0;
	r->err = NULL;
	r->err_at = NULL;

#define SKIP_WS()                                               \
	do {                                                    \
		while (p < e && ts_json_is_ws((char)*p)) {      \
			r->has_ws = 1;                          \
			if (*p == '\n')                         \
				r->newlines++;                  \
			p++;                                    \
		}                                               \
		NEED(p);                                        \
	} while (0)
#define IN_OBJECT() ((stack[(depth - 1) / 64] >> ((depth - 1) % 64)) & 1)

value:
	NEED(p);
	if (keys && keys->pending && depth == 1)
		keys->v[keys->n].p = (const char *)p;
	switch (*p) {
	case '{':
	case '[':
		if (depth >= max_depth)
			FAIL(p, ts_json_too_deep);
		if (*p == '{')
			stack[depth / 64] |= (uint64_t)1 << (depth % 64);
		else
			stack[depth / 64] &= ~((uint64_t)1 << (depth % 64));
		depth++;
		if (depth > r->deepest)
			r->deepest = depth;
		p++;
		SKIP_WS();
		if (IN_OBJECT()) {
			if (*p == '}') {
				p++;
				depth--;
				goto after;
			}
			goto key;
		}
		if (*p == ']') {
			p++;
			depth--;
			goto after;
		}
		goto value;
	case '"':
		st = scan_string(p, e, &p, r);
		if (st != TS_JSON_OK)
			return st;
		goto after;
	case 't':
	case 'f':
	case 'n': {
		const char *lit = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
		size_t n = strlen(lit);
		for (size_t i = 0; i < n; i++) {
			NEED(p + i);
			if (p[i] != (unsigned char)lit[i])
				FAIL(p + i, "invalid literal");
		}
		p += n;
		goto after;
	}
	default:
		if (*p == '-' || (*p >= '0' && *p <= '9')) {
			st = scan_number(p, e, eof && depth == 0, &p, r);
			if (st != TS_JSON_OK)
				return st;
			goto after;
		}
		FAIL(p, depth ? "unexpected character, expected a value"
			      : "not JSON: unexpected character at start of value");
	}

key:
	if (*p != '"')
		FAIL(p, "expected a string key");
	{
		const unsigned char *k = p;
		st = scan_string(p, e, &p, r);
		if (st != TS_JSON_OK)
			return st;
		if (keys && depth == 1) {
			if (keys->n < TS_JSON_KEYS_MAX) {
				keys->k[keys->n] = (struct ts_span){(const char *)k, (size_t)(p - k)};
				keys->pending = 1;
			} else {
				keys->overflow = 1;
			}
		}
	}
	SKIP_WS();
	if (*p != ':')
		FAIL(p, "expected ':' after object key");
	p++;
	SKIP_WS();
	goto value;

after:
	if (keys && keys->pending && depth == 1) {
		keys->v[keys->n].n = (size_t)((const char *)p - keys->v[keys->n].p);
		keys->n++;
		keys->pending = 0;
	}
	if (depth == 0) {
		/* A scalar must be followed by a delimiter, not glued to more
		 * text ("truex", "2024-05-01"); containers and strings end
		 * themselves, so "{}{}" is two values. */
		unsigned char last = p[-1];
		/* A literal at the end of what has been read may yet turn
		 * out to be "truex": only the next byte or eof can tell. */
		if (!nested && p == e && !eof && last != '}' && last != ']' &&
		    last != '"')
			return TS_JSON_INCOMPLETE;
		if (!nested && p < e && last != '}' && last != ']' && last != '"' &&
		    !ts_json_is_ws((char)*p) && *p != '{' && *p != '[' &&
		    *p != '"')
			FAIL(p, "unexpected character after value");
		r->end = (const char *)p;
		return TS_JSON_OK;
	}
	SKIP_WS();
	if (*p == ',') {
		p++;
		SKIP_WS();
		if (IN_OBJECT())
			goto key;
		goto value;
	}
	if (IN_OBJECT()) {
		if (*p != '}')
			FAIL(p, "expected ',' or '}' in object");
	} else if (*p != ']')
		FAIL(p, "expected ',' or ']' in array");
	p++;
	depth--;
	goto after;
#undef SKIP_WS
#undef IN_OBJECT
}

enum ts_json_status ts_json_scan(const char *start, const char *end, int eof,
				 int max_depth, struct ts_json_scan *r)
{
	return scan(start, end, eof, max_depth, 0, NULL, r);
}

enum ts_json_status ts_json_scan_keys(const char *start, const char *end, int eof,
				      int max_depth, struct ts_json_keys *keys,
				      struct ts_json_scan *r)
{
	keys->n = 0;
	keys->pending = 0;
	keys->overflow = 0;
	enum ts_json_status st = scan(start, end, eof, max_depth, 0, keys, r);
	keys->deepest = r->deepest;
	keys->surrogate = r->surrogate;
	return st;
}

enum ts_json_status ts_json_scan_keys_hook(void *keys, const char *start,
					   const char *end, int eof, int max_depth,
					   struct ts_json_scan *r)
{
	return ts_json_scan_keys(start, end, eof, max_depth, keys, r);
}

int ts_json_keys_get(const struct ts_json_keys *keys, const char *name, size_t n,
		     struct ts_span *val)
{
	/* the last duplicate wins, as in ts_json_obj_get() */
	for (size_t i = keys->n; i-- > 0;)
		if (ts_json_key_eq(keys->k[i], name, n)) {
			*val = keys->v[i];
			return 1;
		}
	return 0;
}

enum ts_json_status ts_json_scan_nested(const char *start, const char *end,
					int max_depth, struct ts_json_scan *r)
{
	return scan(start, end, 0, max_depth, 1, NULL, r);
}

/* --- walking validated values ------------------------------------------ */

const char *ts_json_skip_ws(const char *p, const char *end)
{
	while (p < end && ts_json_is_ws(*p))
		p++;
	return p;
}

/* Past the closing quote of the validated string at p. */
static const char *skip_string(const char *p, const char *end)
{
	const unsigned char *q = (const unsigned char *)p + 1;
	const unsigned char *e = (const unsigned char *)end;

	for (;;) {
#if defined(__SSE2__)
		const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
		while (e - q >= 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
			unsigned mask = (unsigned)_mm_movemask_epi8(
				_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)));
			if (mask) {
				q += __builtin_ctz(mask);
				break;
			}
			q += 16;
		}
#endif
		while (q < e && *q != '"' && *q != '\\')
			q++;
		if (q >= e)
			return end;
		if (*q == '"')
			return (const char *)q + 1;
		q += 2; /* an escape: the next byte is never the end */
	}
}

const char *ts_json_skip(const char *p, const char *end)
{
	int depth = 0;

	do {
		if (p >= end)
			return end;
		switch (*p) {
		case '"':
			p = skip_string(p, end);
			break;
		case '{':
		case '[':
			depth++;
			p++;
			break;
		case '}':
		case ']':
			depth--;
			p++;
			break;
		case ',': case ':': case ' ': case '\n': case '\r': case '\t':
			p++;
			break;
		default: /* number or literal */
			while (p < end && *p != ',' && *p != '}' && *p != ']' &&
			       !ts_json_is_ws(*p))
				p++;
		}
	} while (depth > 0);
	return p;
}

void ts_json_iter_init(struct ts_json_iter *it, struct ts_span v)
{
	it->p = v.p + 1; /* past '{' or '[' */
	it->end = v.p + v.n;
}

int ts_json_arr_next(struct ts_json_iter *it, struct ts_span *val)
{
	const char *p = ts_json_skip_ws(it->p, it->end);

	if (p < it->end && *p == ',')
		p = ts_json_skip_ws(p + 1, it->end);
	if (p >= it->end || *p == ']') {
		it->p = it->end;
		return 0;
	}
	val->p = p;
	p = ts_json_skip(p, it->end);
	val->n = (size_t)(p - val->p);
	it->p = p;
	return 1;
}

int ts_json_obj_next(struct ts_json_iter *it, struct ts_span *key,
		     struct ts_span *val)
{
	const char *p = ts_json_skip_ws(it->p, it->end);

	if (p < it->end && *p == ',')
		p = ts_json_skip_ws(p + 1, it->end);
	if (p >= it->end || *p == '}') {
		it->p = it->end;
		return 0;
	}
	key->p = p;
	p = skip_string(p, it->end);
	key->n = (size_t)(p - key->p);
	p = ts_json_skip_ws(p, it->end);
	p = ts_json_skip_ws(p + 1, it->end); /* ':' */
	val->p = p;
	p = ts_json_skip(p, it->end);
	val->n = (size_t)(p - val->p);
	it->p = p;
	return 1;
}

int ts_json_key_eq_slow(struct ts_span key, const char *name, size_t n)
{
	if (!ts_json_str_has_escape(key))
		return 0;
	/* Rare: an escaped key; decode to compare. */
	struct ts_buf b;
	int eq;

	ts_buf_init(&b, 0);
	if (ts_json_unescape(&b, key) < 0) {
		ts_buf_release(&b);
		return 0;
	}
	eq = b.len == n && memcmp(b.data, name, n) == 0;
	ts_buf_release(&b);
	return eq;
}

int ts_json_obj_get(struct ts_span obj, const char *name, size_t n,
		    struct ts_span *val)
{
	struct ts_json_iter it;
	struct ts_span k, v;
	int found = 0;

	if (!obj.n || obj.p[0] != '{')
		return 0;
	ts_json_iter_init(&it, obj);
	/* the last duplicate wins, as in jq and jansson */
	while (ts_json_obj_next(&it, &k, &v))
		if (ts_json_key_eq(k, name, n)) {
			*val = v;
			found = 1;
		}
	return found;
}

size_t ts_utf8_put(char *w, uint32_t cp)
{
	if (cp < 0x80) {
		w[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		w[0] = (char)(0xc0 | (cp >> 6));
		w[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		w[0] = (char)(0xe0 | (cp >> 12));
		w[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		w[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	w[0] = (char)(0xf0 | (cp >> 18));
	w[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	w[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	w[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static uint32_t hex4(const char *p)
{
	return (uint32_t)(hexval((unsigned char)p[0]) << 12 |
			  hexval((unsigned char)p[1]) << 8 |
			  hexval((unsigned char)p[2]) << 4 |
			  hexval((unsigned char)p[3]));
}

/*
 * Validate the string at start and decode it onto out in the same pass (what
 * ts_json_scan() then ts_json_unescape() do in two).  The hot path of
 * ts-extract --cwl --raw: a log message is read once.
 */
enum ts_json_status ts_json_scan_string_dec(const char *start, const char *end,
					    struct ts_buf *out, struct ts_json_scan *r)
{
	const unsigned char *p = (const unsigned char *)start + 1;
	const unsigned char *e = (const unsigned char *)end;
	size_t mark = out->len;
	enum ts_json_status st = TS_JSON_OK;

	r->newlines = 0;
	r->has_ws = 0;
	r->deepest = 0;
	r->surrogate = 0;
	for (;;) {
		/* room for a 16-byte store and a 4-byte character */
		if (out->cap - out->len < 24 && ts_buf_grow(out, 24) < 0) {
			r->err_at = (const char *)p;
			r->err = "string too long";
			st = TS_JSON_ERROR;
			break;
		}
		char *w = out->data + out->len;
#if defined(__SSE2__)
		if (e - p >= 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
			unsigned sp = (unsigned)_mm_movemask_epi8(_mm_or_si128(
				_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
					     _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
				_mm_cmplt_epi8(v, _mm_set1_epi8(0x20))));
			_mm_storeu_si128((__m128i *)(void *)w, v);
			if (!sp) {
				out->len += 16;
				p += 16;
				continue;
			}
			unsigned i = (unsigned)__builtin_ctz(sp);
			out->len += i;
			w += i;
			p += i;
		}
#endif
		if (p >= e) {
			st = TS_JSON_INCOMPLETE;
			break;
		}
		unsigned c = *p;
		if (c == '"') {
			r->end = (const char *)p + 1;
			out->data[out->len] = '\0';
			return TS_JSON_OK;
		}
		if (c == '\\') {
			if (e - p < 2) {
				st = TS_JSON_INCOMPLETE;
				break;
			}
			static const char escs[] = "\"\\/bfnrt", dec[] = "\"\\/\b\f\n\r\t";
			const char *esc = p[1] ? strchr(escs, p[1]) : NULL;
			if (esc) {
				*w = dec[esc - escs];
				out->len++;
				p += 2;
				continue;
			}
			if (p[1] != 'u') {
				r->err_at = (const char *)p + 1;
				r->err = "invalid escape in string";
				st = TS_JSON_ERROR;
				break;
			}
			int k;
			for (k = 2; k < 6 && p + k < e && hexval(p[k]) >= 0; k++)
				;
			if (k < 6) {
				if (p + k >= e) {
					st = TS_JSON_INCOMPLETE;
				} else {
					r->err_at = (const char *)p + k;
					r->err = "invalid \\u escape in string";
					st = TS_JSON_ERROR;
				}
				break;
			}
			uint32_t cp = hex4((const char *)p + 2);
			p += 6;
			if (cp >= 0xd800 && cp <= 0xdbff && e - p >= 6 && p[0] == '\\' &&
			    p[1] == 'u' && hexval(p[2]) >= 0 && hexval(p[3]) >= 0 &&
			    hexval(p[4]) >= 0 && hexval(p[5]) >= 0) {
				uint32_t lo = hex4((const char *)p + 2);
				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					p += 6;
				}
			}
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0xfffd;
			out->len += ts_utf8_put(w, cp);
			continue;
		}
		if (c < 0x20) {
			r->err_at = (const char *)p;
			r->err = c == '\n' ? "unterminated string (newline inside string)"
					   : "control character inside string";
			st = TS_JSON_ERROR;
			break;
		}
		if (c < 0x80) {
			*w = (char)c;
			out->len++;
			p++;
			continue;
		}
		int k = utf8_seq(p, e);
		if (k < 0) {
			st = TS_JSON_INCOMPLETE;
			break;
		}
		if (k == 0) {
			r->err_at = (const char *)p;
			r->err = "invalid UTF-8 in string";
			st = TS_JSON_ERROR;
			break;
		}
		memcpy(w, p, (size_t)k);
		out->len += (size_t)k;
		p += k;
	}
	ts_buf_setlen(out, mark);
	return st;
}

int ts_json_unescape(struct ts_buf *out, struct ts_span s)
{
	const unsigned char *p = (const unsigned char *)s.p + 1;
	const unsigned char *e = (const unsigned char *)s.p + s.n - 1;

	/* Decoding never makes a string longer: reserve once, write direct. */
	if (ts_buf_grow(out, s.n) < 0)
		return -1;
	char *w = out->data + out->len;
	while (p < e) {
#if defined(__SSE2__)
		/* Copy sixteen bytes at a time up to the next backslash.  The
		 * store may run past it: w never gets ahead of p, and there
		 * are s.n bytes of room, so it stays inside the buffer. */
		const __m128i bslash = _mm_set1_epi8('\\');
		while (e - p >= 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
			_mm_storeu_si128((__m128i *)(void *)w, v);
			unsigned mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, bslash));
			if (mask) {
				unsigned i = (unsigned)__builtin_ctz(mask);
				p += i;
				w += i;
				goto escape;
			}
			p += 16;
			w += 16;
		}
#endif
		{
			const unsigned char *q = p;
			while (q < e && *q != '\\')
				q++;
			memcpy(w, p, (size_t)(q - p));
			w += q - p;
			p = q;
			if (p >= e)
				break;
		}
#if defined(__SSE2__)
	escape:
#endif
		switch (p[1]) {
		case 'b': *w++ = '\b'; break;
		case 'f': *w++ = '\f'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case 't': *w++ = '\t'; break;
		case 'u': {
			uint32_t cp = hex4((const char *)p + 2);
			p += 6;
			if (cp >= 0xd800 && cp <= 0xdbff && e - p >= 6 &&
			    p[0] == '\\' && p[1] == 'u') {
				uint32_t lo = hex4((const char *)p + 2);
				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					     (lo - 0xdc00);
					p += 6;
				}
			}
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0xfffd;
			/* \uXXXX (6 bytes) never needs more than 3, a pair
			 * (12) never more than 4: still within s.n */
			w += ts_utf8_put(w, cp);
			continue;
		}
		default: *w++ = (char)p[1]; break;
		}
		p += 2;
	}
	out->len = (size_t)(w - out->data);
	out->data[out->len] = '\0';
	return 0;
}

int ts_json_escape(struct ts_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = out->len;
	const unsigned char *p = (const unsigned char *)s, *e = p + n;

	if (ts_buf_grow(out, n + 2) < 0 || ts_buf_addch(out, '"') < 0)
		return -1;
	while (p < e) {
		const unsigned char *q = skip_plain(p, e);
		if (ts_buf_add(out, p, (size_t)(q - p)) < 0)
			goto fail;
		p = q;
		if (p >= e)
			break;
		unsigned c = *p;
		if (c >= 0x80) {
			int k = utf8_seq(p, e);
			if (k <= 0) {
				ts_buf_setlen(out, start);
				errno = EILSEQ;
				return -1;
			}
			if (ts_buf_add(out, p, (size_t)k) < 0)
				goto fail;
			p += k;
			continue;
		}
		char esc[7] = {'\\', 0};
		size_t en = 2;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			en = 6;
		}
		if (ts_buf_add(out, esc, en) < 0)
			goto fail;
		p++;
	}
	if (ts_buf_addch(out, '"') < 0)
		goto fail;
	return 0;
fail:
	ts_buf_setlen(out, start);
	return -1;
}

int ts_json_minify(struct ts_buf *out, struct ts_span v)
{
	const char *p = v.p, *e = v.p + v.n;

	if (ts_buf_grow(out, v.n) < 0)
		return -1;
	while (p < e) {
		const char *q = p;
		while (q < e && !ts_json_is_ws(*q) && *q != '"')
			q++;
		if (q > p && ts_buf_add(out, p, (size_t)(q - p)) < 0)
			return -1;
		p = q;
		if (p >= e)
			break;
		if (*p == '"') {
			q = skip_string(p, e);
			if (ts_buf_add(out, p, (size_t)(q - p)) < 0)
				return -1;
			p = q;
		} else
			p++;
	}
	return 0;
}

int ts_json_is_number(const char *p, size_t n)
{
	size_t i = 0, d;

	if (i < n && p[i] == '-')
		i++;
	if (i == n || p[i] < '0' || p[i] > '9')
		return 0;
	if (p[i] == '0')
		i++;
	else
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++;
	if (i < n && p[i] == '.') {
		d = ++i;
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++;
		if (i == d)
			return 0;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		d = i;
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++;
		if (i == d)
			return 0;
	}
	return i == n;
}
