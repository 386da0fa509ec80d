/*
 * value.c — typed values over validated spans.  See value.h for what values
 * mean; this file keeps three things in step: ts_value_cmp(), the canonical
 * form, and the hash (the canonical form fed to SipHash as it is made).
 */
#include "value.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ts_vtype ts_value_type(struct ts_span v)
{
	if (!v.n)
		return TS_VT_MISSING;
	switch (v.p[0]) {
	case 'n': return TS_VT_NULL;
	case 't': case 'f': return TS_VT_BOOL;
	case '"': return TS_VT_STRING;
	case '[': return TS_VT_ARRAY;
	case '{': return TS_VT_OBJECT;
	default: return TS_VT_NUMBER;
	}
}

int ts_value_bool(struct ts_span v)
{
	if (!v.n)
		return -1;
	return v.p[0] == 't' ? 1 : v.p[0] == 'f' ? 0 : -1;
}

/* The order across types: false and true are ranks of their own. */
static int rank(struct ts_span v)
{
	if (!v.n)
		return 0;
	switch (v.p[0]) {
	case 'n': return 1;
	case 'f': return 2;
	case 't': return 3;
	case '"': return 5;
	case '[': return 6;
	case '{': return 7;
	default: return 4;
	}
}

/* ---- where canonical bytes go: a buffer or a running hash ------------------ */

struct sink {
	struct ts_buf *b;
	struct ts_hstate *h;
	int err;
};

static inline void put(struct sink *s, const void *p, size_t n)
{
	if (s->b) {
		if (!s->err && ts_buf_add(s->b, p, n) < 0)
			s->err = 1;
	} else {
		ts_hash_update(s->h, p, n);
	}
}

static inline void putc_(struct sink *s, char c)
{
	put(s, &c, 1);
}

/* ---- strings --------------------------------------------------------------- */

static unsigned hexval(unsigned char c)
{
	if (c <= '9')
		return c - '0';
	return (c | 0x20) - 'a' + 10;
}

static uint32_t hex4(const char *p)
{
	return hexval((unsigned char)p[0]) << 12 | hexval((unsigned char)p[1]) << 8 |
	       hexval((unsigned char)p[2]) << 4 | hexval((unsigned char)p[3]);
}

/*
 * The decoded bytes of a quoted string, piece by piece, with no buffer:
 * runs of plain bytes point into the input, an escape decodes into tmp.
 * Decodes exactly as ts_json_unescape() (surrogate pairs joined, a lone
 * surrogate U+FFFD), so every function here agrees with it.
 */
struct sdec {
	const char *p, *e;
	char tmp[4];
};

static void sdec_init(struct sdec *d, struct ts_span s)
{
	d->p = s.p + 1;
	d->e = s.p + s.n - 1;
}

static size_t sdec_next(struct sdec *d, const char **out)
{
	const char *p = d->p;

	if (p >= d->e)
		return 0;
	if (*p != '\\') {
		const char *q = memchr(p, '\\', (size_t)(d->e - p));
		if (!q)
			q = d->e;
		*out = p;
		d->p = q;
		return (size_t)(q - p);
	}
	*out = d->tmp;
	switch (p[1]) {
	case 'b': d->tmp[0] = '\b'; break;
	case 'f': d->tmp[0] = '\f'; break;
	case 'n': d->tmp[0] = '\n'; break;
	case 'r': d->tmp[0] = '\r'; break;
	case 't': d->tmp[0] = '\t'; break;
	case 'u': {
		uint32_t cp = hex4(p + 2);
		p += 6;
		if (cp >= 0xd800 && cp <= 0xdbff && d->e - p >= 6 && p[0] == '\\' &&
		    p[1] == 'u') {
			uint32_t lo = hex4(p + 2);
			if (lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			}
		}
		if (cp >= 0xd800 && cp <= 0xdfff)
			cp = 0xfffd;
		d->p = p;
		return ts_utf8_put(d->tmp, cp);
	}
	default: d->tmp[0] = p[1]; break;
	}
	d->p = p + 2;
	return 1;
}

static inline int has_escape(struct ts_span s)
{
	return s.n > 2 && memchr(s.p + 1, '\\', s.n - 2) != NULL;
}

static int str_cmp(struct ts_span a, struct ts_span b)
{
	if (!has_escape(a) && !has_escape(b)) {
		size_t na = a.n - 2, nb = b.n - 2;
		int c = memcmp(a.p + 1, b.p + 1, na < nb ? na : nb);
		if (c)
			return c < 0 ? -1 : 1;
		return na < nb ? -1 : na > nb;
	}
	struct sdec da, db;
	const char *pa = NULL, *pb = NULL;
	size_t na = 0, nb = 0;

	sdec_init(&da, a);
	sdec_init(&db, b);
	for (;;) {
		if (!na)
			na = sdec_next(&da, &pa);
		if (!nb)
			nb = sdec_next(&db, &pb);
		if (!na || !nb)
			return (na != 0) - (nb != 0);
		size_t m = na < nb ? na : nb;
		int c = memcmp(pa, pb, m);
		if (c)
			return c < 0 ? -1 : 1;
		pa += m, na -= m;
		pb += m, nb -= m;
	}
}

/* Re-escape decoded bytes the one way ts_json_escape() does. */
static void put_escaped(struct sink *s, const char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *q = (const unsigned char *)p, *e = q + n, *r = q;

	for (; r < e; r++) {
		unsigned c = *r;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(s, q, (size_t)(r - q));
		q = r + 1;
		char esc[6] = {'\\', 0};
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
			esc[1] = 'u', esc[2] = '0', esc[3] = '0';
			esc[4] = hex[c >> 4], esc[5] = hex[c & 15];
			en = 6;
		}
		put(s, esc, en);
	}
	put(s, q, (size_t)(r - q));
}

static void str_canon(struct sink *s, struct ts_span v)
{
	if (!has_escape(v)) {
		/* raw bytes in a validated string are valid UTF-8 with no control
		 * character, quote or backslash: canonical as they are */
		put(s, v.p, v.n);
		return;
	}
	struct sdec d;
	const char *p;
	size_t n;

	sdec_init(&d, v);
	putc_(s, '"');
	while ((n = sdec_next(&d, &p)))
		put_escaped(s, p, n);
	putc_(s, '"');
}

int ts_value_string(struct ts_buf *out, struct ts_span v)
{
	if (!v.n || v.p[0] != '"') {
		errno = EINVAL;
		return -1;
	}
	return ts_json_unescape(out, v);
}

int ts_value_string_view(struct ts_span v, struct ts_span *s)
{
	if (!v.n || v.p[0] != '"')
		return -1;
	if (has_escape(v))
		return 0;
	s->p = v.p + 1;
	s->n = v.n - 2;
	return 1;
}

/* ---- numbers ---------------------------------------------------------------- */

/* An integer without fraction or exponent: its own canonical form when it
 * has at most 21 digits and is not -0.  Returns the digit count, 0 if not
 * such an integer. */
static size_t plain_int(struct ts_span v)
{
	size_t i = v.p[0] == '-';
	for (size_t j = i; j < v.n; j++)
		if (v.p[j] < '0' || v.p[j] > '9')
			return 0;
	return v.n - i;
}

/*
 * A number taken apart.  Its significant digits are the sequence of integer
 * then fraction digits from index f to l (both nonzero digits); the value is
 * 0.d[f]..d[l] x 10^n with n = E + (in - f), E the exponent, which may have
 * any number of digits.
 */
struct num {
	int neg, zero, eneg;
	const char *ip, *fp, *ep; /* integer, fraction, exponent digits */
	size_t in, fn, en;        /* (exponent without leading zeros) */
	size_t f, l;
};

static inline char dig(const struct num *x, size_t i)
{
	return i < x->in ? x->ip[i] : x->fp[i - x->in];
}

static void num_parse(struct num *x, struct ts_span v)
{
	const char *p = v.p, *e = v.p + v.n;

	memset(x, 0, sizeof(*x));
	if (*p == '-')
		x->neg = 1, p++;
	x->ip = p;
	while (p < e && *p >= '0' && *p <= '9')
		p++;
	x->in = (size_t)(p - x->ip);
	x->fp = p;
	if (p < e && *p == '.') {
		x->fp = ++p;
		while (p < e && *p >= '0' && *p <= '9')
			p++;
		x->fn = (size_t)(p - x->fp);
	}
	x->ep = p;
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (*p == '-')
			x->eneg = 1;
		if (*p == '-' || *p == '+')
			p++;
		while (p < e - 1 && *p == '0')
			p++;
		x->ep = p;
		x->en = (size_t)(e - p);
		if (x->en == 1 && *p == '0')
			x->en = 0, x->eneg = 0;
	}
	size_t n = x->in + x->fn, i;
	for (i = 0; i < n && dig(x, i) == '0'; i++)
		;
	if (i == n) {
		x->zero = 1;
		return;
	}
	x->f = i;
	for (i = n; dig(x, i - 1) == '0'; i--)
		;
	x->l = i - 1;
}

/*
 * A position (n, or n - 1 for the exponent printed) exactly, however long the
 * exponent: sign and magnitude hi * 10^19 + lo, where hi is a digit string
 * (maybe empty) plus delta (-1, 0 or +1: the carry of adding a small
 * adjustment to the exponent's last 19 digits).
 */
#define E19 10000000000000000000ull

struct pos {
	int neg;
	const char *hi;
	size_t hn;
	int delta;
	uint64_t lo;
};

static uint64_t digits_u64(const char *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (uint64_t)(p[i] - '0');
	return v;
}

static void num_pos(const struct num *x, int extra, struct pos *r)
{
	__int128 adj = (__int128)x->in - (__int128)x->f + extra;

	r->delta = 0;
	if (x->en <= 19) {
		__int128 p = (__int128)digits_u64(x->ep, x->en);
		if (x->eneg)
			p = -p;
		p += adj;
		r->neg = p < 0;
		unsigned __int128 m = (unsigned __int128)(p < 0 ? -p : p);
		if (m >= E19) {
			r->hi = "1", r->hn = 1;
			r->lo = (uint64_t)(m - E19);
		} else {
			r->hi = NULL, r->hn = 0;
			r->lo = (uint64_t)m;
		}
		return;
	}
	/* the exponent alone is at least 10^19, more than any adjustment: it
	 * decides the sign */
	r->neg = x->eneg;
	r->hi = x->ep;
	r->hn = x->en - 19;
	__int128 lo = (__int128)digits_u64(x->ep + r->hn, 19) + (x->eneg ? -adj : adj);
	if (lo >= (__int128)E19)
		lo -= E19, r->delta = 1;
	else if (lo < 0)
		lo += E19, r->delta = -1;
	r->lo = (uint64_t)lo;
}

/* The digits of hi + delta, without leading zeros. */
struct hview {
	const char *s;
	size_t len, eff, p;
	int delta, shift;
};

static void hview_init(struct hview *h, const struct pos *r)
{
	size_t i;

	h->s = r->hi;
	h->len = h->eff = r->hn;
	h->delta = r->delta;
	h->shift = 0;
	h->p = 0;
	if (h->delta > 0) {
		for (i = h->len; i && h->s[i - 1] == '9'; i--)
			;
		if (!i) /* 99..9 + 1 = 100..0 */
			h->eff = h->len + 1, h->p = SIZE_MAX;
		else
			h->p = i - 1;
	} else if (h->delta < 0) {
		for (i = h->len; h->s[i - 1] == '0'; i--)
			;
		h->p = i - 1;
		if (h->p == 0 && h->s[0] == '1') /* 100..0 - 1 = 99..9 */
			h->shift = 1, h->eff = h->len - 1;
	}
}

static char hview_dig(const struct hview *h, size_t i)
{
	if (h->delta == 0)
		return h->s[i];
	if (h->delta > 0) {
		if (h->p == SIZE_MAX)
			return i ? '0' : '1';
		return i < h->p ? h->s[i] : i == h->p ? (char)(h->s[i] + 1) : '0';
	}
	i += (size_t)h->shift;
	return i < h->p ? h->s[i] : i == h->p ? (char)(h->s[i] - 1) : '9';
}

static int pos_cmp(const struct pos *a, const struct pos *b)
{
	struct hview ha, hb;
	int c = 0;

	if (a->neg != b->neg)
		return a->neg ? -1 : 1;
	hview_init(&ha, a);
	hview_init(&hb, b);
	if (ha.eff != hb.eff) {
		c = ha.eff < hb.eff ? -1 : 1;
	} else {
		for (size_t i = 0; i < ha.eff && !c; i++) {
			char da = hview_dig(&ha, i), db = hview_dig(&hb, i);
			c = da < db ? -1 : da > db;
		}
		if (!c)
			c = a->lo < b->lo ? -1 : a->lo > b->lo;
	}
	return a->neg ? -c : c;
}

/* The position as an int64 when it is one. */
static int pos_small(const struct pos *r, int64_t *v)
{
	struct hview h;

	hview_init(&h, r);
	if (h.eff || r->lo > (uint64_t)INT64_MAX)
		return 0;
	*v = r->neg ? -(int64_t)r->lo : (int64_t)r->lo;
	return 1;
}

static void pos_put(struct sink *s, const struct pos *r)
{
	struct hview h;
	char b[24];
	int n;

	hview_init(&h, r);
	for (size_t i = 0; i < h.eff; i++)
		putc_(s, hview_dig(&h, i));
	if (h.eff)
		n = snprintf(b, sizeof(b), "%019llu", (unsigned long long)r->lo);
	else
		n = snprintf(b, sizeof(b), "%llu", (unsigned long long)r->lo);
	put(s, b, (size_t)n);
}

/* Significant digits [from, to) of the sequence. */
static void put_digits(struct sink *s, const struct num *x, size_t from, size_t to)
{
	if (from < x->in)
		put(s, x->ip + from, (to < x->in ? to : x->in) - from);
	if (to > x->in) {
		size_t a = from > x->in ? from - x->in : 0;
		put(s, x->fp + a, to - x->in - a);
	}
}

static void put_zeros(struct sink *s, size_t n)
{
	static const char z[] = "0000000000000000000000000000000";
	while (n) {
		size_t k = n < sizeof(z) - 1 ? n : sizeof(z) - 1;
		put(s, z, k);
		n -= k;
	}
}

static void num_canon(struct sink *s, struct ts_span v)
{
	struct num x;
	struct pos r;
	int64_t n;
	size_t pd = plain_int(v);

	if (pd && pd <= 21 && !(v.p[0] == '-' && v.n == 2 && v.p[1] == '0')) {
		put(s, v.p, v.n);
		return;
	}
	num_parse(&x, v);
	if (x.zero) {
		putc_(s, '0');
		return;
	}
	if (x.neg)
		putc_(s, '-');
	size_t k = x.l - x.f + 1, f = x.f, end = x.l + 1;
	num_pos(&x, 0, &r);
	int small = pos_small(&r, &n);
	if (small && n >= (int64_t)k && n <= 21) {
		put_digits(s, &x, f, end);
		put_zeros(s, (size_t)n - k);
	} else if (small && n > 0 && n <= 21) {
		put_digits(s, &x, f, f + (size_t)n);
		putc_(s, '.');
		put_digits(s, &x, f + (size_t)n, end);
	} else if (small && n > -6 && n <= 0) {
		put(s, "0.", 2);
		put_zeros(s, (size_t)-n);
		put_digits(s, &x, f, end);
	} else {
		put_digits(s, &x, f, f + 1);
		if (k > 1) {
			putc_(s, '.');
			put_digits(s, &x, f + 1, end);
		}
		num_pos(&x, -1, &r);
		put(s, r.neg ? "e-" : "e+", 2);
		pos_put(s, &r);
	}
}

static int num_cmp(struct ts_span a, struct ts_span b)
{
	size_t pa = plain_int(a), pb = plain_int(b);

	if (pa && pb) {
		int za = pa == 1 && a.p[a.n - 1] == '0';
		int zb = pb == 1 && b.p[b.n - 1] == '0';
		int sa = za ? 0 : a.p[0] == '-' ? -1 : 1;
		int sb = zb ? 0 : b.p[0] == '-' ? -1 : 1;
		if (sa != sb)
			return sa < sb ? -1 : 1;
		if (!sa)
			return 0;
		/* no leading zeros in JSON: more digits, larger magnitude */
		int c = pa != pb ? (pa < pb ? -1 : 1) : memcmp(a.p, b.p, a.n);
		c = c < 0 ? -1 : c > 0;
		return sa < 0 ? -c : c;
	}
	struct num x, y;
	struct pos rx, ry;

	num_parse(&x, a);
	num_parse(&y, b);
	int sa = x.zero ? 0 : x.neg ? -1 : 1, sb = y.zero ? 0 : y.neg ? -1 : 1;
	if (sa != sb)
		return sa < sb ? -1 : 1;
	if (!sa)
		return 0;
	num_pos(&x, 0, &rx);
	num_pos(&y, 0, &ry);
	int c = pos_cmp(&rx, &ry);
	if (!c) {
		size_t i = x.f, j = y.f;
		for (; i <= x.l && j <= y.l && !c; i++, j++) {
			char dx = dig(&x, i), dy = dig(&y, j);
			c = dx < dy ? -1 : dx > dy;
		}
		if (!c) /* the one with more significant digits is larger */
			c = (i <= x.l) - (j <= y.l);
	}
	return sa < 0 ? -c : c;
}

int ts_value_number(struct ts_span v, double *d)
{
	struct num x;
	struct pos r;
	int64_t n;
	size_t pd;

	if (ts_value_type(v) != TS_VT_NUMBER)
		return -1;
	if ((pd = plain_int(v)) && pd <= 15) {
		/* exact in a double */
		int64_t i = (int64_t)digits_u64(v.p + (v.n - pd), pd);
		*d = (double)(v.p[0] == '-' ? -i : i);
		return 0;
	}
	num_parse(&x, v);
	if (x.zero) {
		*d = 0;
		return 0;
	}
	num_pos(&x, 0, &r);
	if (!pos_small(&r, &n) || n > 400 || n < -400) {
		/* far outside the range of doubles either way */
		double m = r.neg ? 0.0 : INFINITY;
		*d = x.neg ? -m : m;
		return 1;
	}
	size_t k = x.l - x.f + 1;
	int64_t e10 = n - (int64_t)k;
	if (k <= 15 && e10 >= -22 && e10 <= 22) {
		/* both the digits (< 2^53) and the power of ten are exact doubles:
		 * one multiplication or division rounds correctly (Clinger) */
		static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,
					     1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
					     1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
					     1e18, 1e19, 1e20, 1e21, 1e22};
		uint64_t m = 0;
		for (size_t i = x.f; i <= x.l; i++)
			m = m * 10 + (uint64_t)(dig(&x, i) - '0');
		*d = e10 >= 0 ? (double)m * p10[e10] : (double)m / p10[-e10];
		if (x.neg)
			*d = -*d;
		return 0;
	}
	/*
	 * digits "e" exponent, no decimal point (strtod's point is the locale's).
	 * 780 significant digits decide the rounding (a double needs at most 767
	 * to be told apart from the halfway points); a '1' after them stands
	 * for the nonzero digits cut off.
	 */
	char b[800];
	size_t w = 0;
	if (x.neg)
		b[w++] = '-';
	size_t take = k > 780 ? 780 : k;
	for (size_t i = 0; i < take; i++)
		b[w++] = dig(&x, x.f + i);
	if (take < k)
		b[w++] = '1', take++;
	snprintf(b + w, sizeof(b) - w, "e%lld", (long long)(n - (int64_t)take));
	*d = strtod(b, NULL);
	return isinf(*d) || *d == 0;
}

int ts_value_int64(struct ts_span v, int64_t *out)
{
	struct num x;
	struct pos r;
	int64_t n;
	size_t pd;

	if (ts_value_type(v) != TS_VT_NUMBER)
		return -1;
	if ((pd = plain_int(v)) && pd <= 18) {
		int64_t i = (int64_t)digits_u64(v.p + (v.n - pd), pd);
		*out = v.p[0] == '-' ? -i : i;
		return 0;
	}
	num_parse(&x, v);
	if (x.zero) {
		*out = 0;
		return 0;
	}
	size_t k = x.l - x.f + 1;
	num_pos(&x, 0, &r);
	if (!pos_small(&r, &n) || n < (int64_t)k || n > 19)
		return 1;
	uint64_t m = 0;
	for (size_t i = x.f; i <= x.l; i++)
		m = m * 10 + (uint64_t)(dig(&x, i) - '0');
	for (int64_t i = (int64_t)k; i < n; i++) {
		if (m > UINT64_MAX / 10)
			return 1;
		m *= 10;
	}
	if (m > (uint64_t)INT64_MAX + x.neg)
		return 1;
	*out = x.neg ? (m ? -(int64_t)(m - 1) - 1 : 0) : (int64_t)m;
	return 0;
}

/* ---- objects: members in key order, the last of each key --------------------- */

struct mem {
	struct ts_span k, v;
	size_t i;
};

#define QUAD_OBJ 4
#define SMALL_OBJ 16

struct objcur {
	struct mem *m;
	size_t n, at;
	struct mem small[SMALL_OBJ];
	/* no memory for the sort: walk the object once per member instead */
	int quad, started;
	struct ts_span obj, prev;
};

static int mem_order(const void *pa, const void *pb)
{
	const struct mem *a = pa, *b = pb;
	int c = str_cmp(a->k, b->k);
	if (c)
		return c;
	return a->i < b->i ? -1 : a->i > b->i;
}

static void objcur_init(struct objcur *c, struct ts_span obj)
{
	struct ts_json_iter it;
	struct ts_span k, v;
	size_t n = 0;

	c->n = c->at = 0;
	c->quad = c->started = 0;
	c->obj = obj;
	c->prev = (struct ts_span){NULL, 0};
	ts_json_iter_init(&it, obj);
	while (ts_json_obj_next(&it, &k, &v))
		n++;
	c->m = c->small;
	/* a few members: walking the object once per member costs no more than
	 * sorting them, and keeps the walk that needs no memory well tested */
	if (n <= QUAD_OBJ || (n > SMALL_OBJ && !(c->m = malloc(n * sizeof(*c->m))))) {
		c->m = c->small;
		c->quad = 1;
		return;
	}
	ts_json_iter_init(&it, obj);
	for (size_t i = 0; ts_json_obj_next(&it, &k, &v); i++)
		c->m[i] = (struct mem){k, v, i};
	qsort(c->m, n, sizeof(*c->m), mem_order);
	/* keep the last member of each key */
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && str_cmp(c->m[i].k, c->m[i + 1].k) == 0)
			continue;
		c->m[w++] = c->m[i];
	}
	c->n = w;
}

static int objcur_next(struct objcur *c, struct ts_span *k, struct ts_span *v)
{
	if (!c->quad) {
		if (c->at >= c->n)
			return 0;
		*k = c->m[c->at].k;
		*v = c->m[c->at].v;
		c->at++;
		return 1;
	}
	struct ts_json_iter it;
	struct ts_span mk, mv;
	int found = 0;

	ts_json_iter_init(&it, c->obj);
	while (ts_json_obj_next(&it, &mk, &mv)) {
		if (c->started && str_cmp(mk, c->prev) <= 0)
			continue;
		/* the smallest key after prev; of equal keys the last */
		if (!found || str_cmp(mk, *k) <= 0) {
			*k = mk;
			*v = mv;
			found = 1;
		}
	}
	if (found) {
		c->prev = *k;
		c->started = 1;
	}
	return found;
}

static void objcur_release(struct objcur *c)
{
	if (c->m != c->small)
		free(c->m);
}

/* ---- canonical form, order -------------------------------------------------- */

static void canon(struct sink *s, struct ts_span v);

/* Out of line, as obj_cmp(). */
static __attribute__((noinline)) void obj_canon(struct sink *s, struct ts_span v)
{
	struct objcur c;
	struct ts_span k, e;
	int first = 1;

	objcur_init(&c, v);
	putc_(s, '{');
	while (objcur_next(&c, &k, &e)) {
		if (!first)
			putc_(s, ',');
		first = 0;
		str_canon(s, k);
		putc_(s, ':');
		canon(s, e);
	}
	putc_(s, '}');
	objcur_release(&c);
}

static void canon(struct sink *s, struct ts_span v)
{
	struct ts_json_iter it;
	struct ts_span e;
	int first = 1;

	if (s->err || !v.n)
		return;
	switch (v.p[0]) {
	case 'n': put(s, "null", 4); return;
	case 't': put(s, "true", 4); return;
	case 'f': put(s, "false", 5); return;
	case '"': str_canon(s, v); return;
	case '[':
		putc_(s, '[');
		ts_json_iter_init(&it, v);
		while (ts_json_arr_next(&it, &e)) {
			if (!first)
				putc_(s, ',');
			first = 0;
			canon(s, e);
		}
		putc_(s, ']');
		return;
	case '{': obj_canon(s, v); return;
	default: num_canon(s, v); return;
	}
}

int ts_value_canon(struct ts_buf *out, struct ts_span v)
{
	struct sink s = {out, NULL, 0};
	size_t start = out->len;

	canon(&s, v);
	if (s.err) {
		int e = errno;
		ts_buf_setlen(out, start);
		errno = e;
		return -1;
	}
	return 0;
}

uint64_t ts_value_hash(const struct ts_hkey *k, struct ts_span v)
{
	struct ts_hstate h;
	struct sink s = {NULL, &h, 0};

	if (v.n) {
		switch (v.p[0]) {
		case '"':
			if (!has_escape(v))
				return ts_hash(k, v.p, v.n);
			break;
		case 'n': case 't': case 'f': case '[': case '{':
			break;
		default: {
			size_t pd = plain_int(v);
			if (pd && pd <= 21 && !(v.n == 2 && v.p[0] == '-' && v.p[1] == '0'))
				return ts_hash(k, v.p, v.n);
		}
		}
	}
	ts_hash_init(&h, k);
	canon(&s, v);
	return ts_hash_final(&h);
}

/* Out of line: the cursors' arrays stay off the stack frames of arrays
 * and scalars nested in between. */
static __attribute__((noinline)) int obj_cmp(struct ts_span a, struct ts_span b)
{
	struct objcur ca, cb;
	struct ts_span ka, va, kb, vb;
	int c = 0;

	objcur_init(&ca, a);
	objcur_init(&cb, b);
	for (;;) {
		int ha = objcur_next(&ca, &ka, &va), hb = objcur_next(&cb, &kb, &vb);
		if (!ha || !hb) {
			c = ha - hb;
			break;
		}
		if ((c = str_cmp(ka, kb)) || (c = ts_value_cmp(va, vb)))
			break;
	}
	objcur_release(&ca);
	objcur_release(&cb);
	return c;
}

void ts_value_hash_update(struct ts_hstate *h, struct ts_span v)
{
	struct sink s = {NULL, h, 0};

	canon(&s, v);
}

int ts_value_cmp(struct ts_span a, struct ts_span b)
{
	int ra = rank(a), rb = rank(b);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	switch (ra) {
	case 4: return num_cmp(a, b);
	case 5: return str_cmp(a, b);
	case 6: {
		struct ts_json_iter ia, ib;
		struct ts_span ea, eb;
		ts_json_iter_init(&ia, a);
		ts_json_iter_init(&ib, b);
		for (;;) {
			int ha = ts_json_arr_next(&ia, &ea), hb = ts_json_arr_next(&ib, &eb);
			if (!ha || !hb)
				return ha - hb;
			int c = ts_value_cmp(ea, eb);
			if (c)
				return c;
		}
	}
	case 7: return obj_cmp(a, b);
	default: return 0; /* missing, null, false, true: one value each */
	}
}

int ts_value_equal(struct ts_span a, struct ts_span b)
{
	if (a.n == b.n && (!a.n || memcmp(a.p, b.p, a.n) == 0))
		return 1;
	if (rank(a) != rank(b))
		return 0;
	/* different bytes of strings without escapes: different strings */
	if (a.p[0] == '"' && !has_escape(a) && !has_escape(b))
		return 0;
	return ts_value_cmp(a, b) == 0;
}
