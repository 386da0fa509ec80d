/* diff.c — see diff.h. */
#define _GNU_SOURCE /* qsort_r */
#include "diff.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "value.h"

/* ---- scratch memory that never moves, reset per compare -------------------- */

struct blk {
	struct blk *next;
	size_t cap, used;
	max_align_t data[];
};

static void *scratch(struct ts_diff *d, size_t n)
{
	struct blk *b = d->mem;

	n = (n + 15) & ~(size_t)15;
	for (; b; b = b->next) /* the first block with room */
		if (b->cap - b->used >= n)
			break;
	if (!b) {
		size_t cap = n > ((size_t)64 << 10) ? n : (size_t)64 << 10;
		if (!(b = malloc(sizeof(*b) + cap)))
			return NULL;
		b->cap = cap;
		b->used = 0;
		b->next = d->mem;
		d->mem = b;
	}
	void *p = (char *)b->data + b->used;
	b->used += n;
	return p;
}

static void scratch_reset(struct ts_diff *d)
{
	for (struct blk *b = d->mem; b; b = b->next)
		b->used = 0;
}

void ts_diff_init(struct ts_diff *d, const struct ts_diff_opts *o)
{
	memset(d, 0, sizeof(*d));
	d->o = o;
	d->plain = !o->nignore && !o->nonly && !o->ntol && o->abs == 0 && o->rel == 0 &&
		   !o->fold && !o->trim && !o->unordered && !o->null_missing && !o->coerce;
	for (size_t i = 0; i < o->nignore + o->nonly + o->ntol; i++) {
		const struct ts_jpath *jp = i < o->nignore ? &o->ignore[i]
					    : i < o->nignore + o->nonly ? &o->only[i - o->nignore]
					    : &o->tol[i - o->nignore - o->nonly].path;
		for (size_t k = 0; k < jp->n; k++)
			d->neg_index |= jp->steps[k].kind == TS_JP_INDEX && jp->steps[k].index < 0;
	}
	ts_buf_init(&d->paths, 0);
	ts_buf_init(&d->path, 0);
	ts_buf_init(&d->tmp, 0);
}

void ts_diff_release(struct ts_diff *d)
{
	struct blk *b = d->mem, *n;

	for (; b; b = n) {
		n = b->next;
		free(b);
	}
	free(d->items);
	free(d->stack);
	ts_buf_release(&d->paths);
	ts_buf_release(&d->path);
	ts_buf_release(&d->tmp);
	memset(d, 0, sizeof(*d));
}

/* ---- the path being walked ----------------------------------------------------- */

static int push(struct ts_diff *d, enum ts_jpath_kind kind, const char *key, size_t kn,
		long index)
{
	if (d->depth == d->stack_cap) {
		size_t nc = d->stack_cap ? d->stack_cap * 2 : 16;
		struct ts_jpath_step *s = realloc(d->stack, nc * sizeof(*s));
		if (!s)
			return -1;
		d->stack = s;
		d->stack_cap = nc;
	}
	d->stack[d->depth++] = (struct ts_jpath_step){kind, (char *)key, kn, index};
	return 0;
}

static int ident(const char *k, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = k[i];
		if (!(c == '_' || c == '-' || c == '$' || c == '@' || c == ':' ||
		      (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || (unsigned char)c >= 0x80))
			return 0;
	}
	return 1;
}

int ts_diff_path_text(struct ts_buf *out, const struct ts_jpath_step *st, size_t n)
{
	if (!n)
		return ts_buf_addch(out, '.');
	for (size_t i = 0; i < n; i++) {
		int rc;
		if (st[i].kind == TS_JP_INDEX) {
			rc = ts_buf_addf(out, "[%ld]", st[i].index);
		} else if (st[i].kind == TS_JP_ITER) {
			rc = ts_buf_add(out, "[]", 2);
		} else if (ident(st[i].key, st[i].keylen)) {
			rc = (i ? ts_buf_addch(out, '.') : 0) | ts_buf_add(out, st[i].key, st[i].keylen);
		} else {
			rc = ts_buf_addch(out, '.'); /* ."odd key", .a."odd key" */
			if (!rc && ts_json_escape(out, st[i].key, st[i].keylen) < 0) {
				/* not UTF-8 (cannot come from a validated record) */
				rc = ts_buf_add(out, "\"?\"", 3);
			}
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* How an option path stands to the path walked: 2 the walk is at or under
 * it, 1 the walk is above it (it lies deeper), 0 elsewhere. */
static int relation(const struct ts_jpath *jp, const struct ts_jpath_step *st, size_t depth)
{
	size_t n = jp->n < depth ? jp->n : depth;

	for (size_t i = 0; i < n; i++) {
		const struct ts_jpath_step *o = &jp->steps[i], *w = &st[i];
		if (o->kind == TS_JP_ITER)
			continue;
		if (o->kind != w->kind)
			return 0;
		if (o->kind == TS_JP_KEY &&
		    (o->keylen != w->keylen || memcmp(o->key, w->key, o->keylen) != 0))
			return 0;
		/* a negative index counts from the end of the array walked (its
		 * length is kept in the step's keylen) */
		if (o->kind == TS_JP_INDEX &&
		    o->index != w->index && !(o->index < 0 && (long)w->keylen + o->index == w->index))
			return 0;
	}
	return jp->n <= depth ? 2 : 1;
}

/* Where the walk stands now: 0 skip this path, 1 go down but compare
 * nothing here (an --only path lies deeper), 2 compare. */
static int scope(const struct ts_diff *d)
{
	const struct ts_diff_opts *o = d->o;
	int best = o->nonly ? 0 : 2;

	for (size_t i = 0; i < o->nignore; i++)
		if (relation(&o->ignore[i], d->stack, d->depth) == 2)
			return 0;
	for (size_t i = 0; i < o->nonly && best < 2; i++) {
		int r = relation(&o->only[i], d->stack, d->depth);
		if (r > best)
			best = r;
	}
	return best;
}

/* ---- differences ------------------------------------------------------------------ */

static int note(struct ts_diff *d, struct ts_span a, struct ts_span b, enum ts_diff_kind k,
		int numeric, double delta)
{
	if (d->nitems == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 16;
		struct ts_diff_item *it = realloc(d->items, nc * sizeof(*it));
		if (!it)
			return -1;
		d->items = it;
		d->cap = nc;
	}
	size_t off = d->paths.len;
	if (ts_diff_path_text(&d->paths, d->stack, d->depth) < 0)
		return -1;
	d->items[d->nitems++] = (struct ts_diff_item){off, d->paths.len - off, a, b, k,
						      numeric, delta};
	return 0;
}

/* ---- strings ------------------------------------------------------------------------ */

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Decode one UTF-8 code point (validated text); returns its length. */
static size_t utf8_get(const unsigned char *s, size_t n, uint32_t *cp)
{
	if (s[0] < 0x80 || n < 2) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		*cp = (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
		return 2;
	}
	if ((s[0] & 0xf0) == 0xe0 && n >= 3) {
		*cp = (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
		return 3;
	}
	if (n >= 4) {
		*cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
		      (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
		return 4;
	}
	*cp = s[0];
	return 1;
}

/* The decoded text of a string value as the options see it, in scratch
 * memory: trimmed, case folded. */
static int str_view(struct ts_diff *d, struct ts_span v, struct ts_span *out)
{
	struct ts_span s;

	if (ts_value_string_view(v, &s) != 1) {
		ts_buf_reset(&d->tmp);
		if (ts_value_string(&d->tmp, v) < 0)
			return -1;
		char *c = scratch(d, d->tmp.len + 1);
		if (!c)
			return -1;
		memcpy(c, d->tmp.data, d->tmp.len);
		s.p = c;
		s.n = d->tmp.len;
	}
	if (d->o->trim) {
		while (s.n && is_space((unsigned char)s.p[0]))
			s.p++, s.n--;
		while (s.n && is_space((unsigned char)s.p[s.n - 1]))
			s.n--;
	}
	if (d->o->fold) {
		/* a lower case letter may take more bytes than its capital
		 * (U+023A, two, and U+2C65, three): at most 3 for 2 */
		char *c = scratch(d, s.n * 2 + 4), *w = c;
		const unsigned char *p = (const unsigned char *)s.p;
		size_t i = 0;
		if (!c)
			return -1;
		while (i < s.n) {
			uint32_t cp;
			if (p[i] < 0x80) {
				*w++ = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
				i++;
				continue;
			}
			size_t k = utf8_get(p + i, s.n - i, &cp);
			uint32_t lo = (uint32_t)towlower((wint_t)cp);
			char u[4];
			size_t m = ts_utf8_put(u, lo);
			memcpy(w, u, m);
			w += m;
			i += k;
		}
		s.p = c;
		s.n = (size_t)(w - c);
	}
	*out = s;
	return 0;
}

/* A string holding a JSON number, as that number (--coerce-numbers): 1 and
 * *num pointing at its text in scratch memory, 0 when it is not one. */
static int numeric_string(struct ts_diff *d, struct ts_span v, struct ts_span *num)
{
	struct ts_span s;
	struct ts_json_scan r;

	if (ts_value_string_view(v, &s) != 1) {
		ts_buf_reset(&d->tmp);
		if (ts_value_string(&d->tmp, v) < 0)
			return 0;
		s.p = d->tmp.data;
		s.n = d->tmp.len;
	}
	if (d->o->trim)
		while (s.n && is_space((unsigned char)s.p[0]))
			s.p++, s.n--;
	if (d->o->trim)
		while (s.n && is_space((unsigned char)s.p[s.n - 1]))
			s.n--;
	if (!s.n || !(s.p[0] == '-' || (s.p[0] >= '0' && s.p[0] <= '9')))
		return 0;
	if (ts_json_scan(s.p, s.p + s.n, 1, 1, &r) != TS_JSON_OK || r.end != s.p + s.n)
		return 0;
	char *c = scratch(d, s.n);
	if (!c)
		return 0;
	memcpy(c, s.p, s.n);
	num->p = c;
	num->n = s.n;
	return 1;
}

/* ---- members of an object -------------------------------------------------------------- */

struct mem {
	const char *k;
	size_t kn;
	struct ts_span v;
	size_t pos;
};

static int memcmp_key(const void *x, const void *y)
{
	const struct mem *a = x, *b = y;
	size_t n = a->kn < b->kn ? a->kn : b->kn;
	int c = memcmp(a->k, b->k, n);

	if (c)
		return c;
	if (a->kn != b->kn)
		return a->kn < b->kn ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* The members of object v sorted by decoded key, one per key (the last
 * one).  -1 out of memory. */
static int members(struct ts_diff *d, struct ts_span v, struct mem **out, size_t *n)
{
	struct ts_json_iter it;
	struct ts_span k, val;
	size_t cnt = 0, i = 0;

	ts_json_iter_init(&it, v);
	while (ts_json_obj_next(&it, &k, &val))
		cnt++;
	struct mem *m = scratch(d, (cnt ? cnt : 1) * sizeof(*m));
	if (!m)
		return -1;
	ts_json_iter_init(&it, v);
	while (ts_json_obj_next(&it, &k, &val)) {
		m[i].v = val;
		m[i].pos = i;
		if (!ts_json_str_has_escape(k)) {
			m[i].k = k.p + 1;
			m[i].kn = k.n - 2;
		} else {
			ts_buf_reset(&d->tmp);
			if (ts_json_unescape(&d->tmp, k) < 0)
				return -1;
			char *c = scratch(d, d->tmp.len + 1);
			if (!c)
				return -1;
			memcpy(c, d->tmp.data, d->tmp.len);
			m[i].k = c;
			m[i].kn = d->tmp.len;
		}
		i++;
	}
	if (i > 1)
		qsort(m, i, sizeof(*m), memcmp_key);
	/* one per key: the last */
	size_t w = 0;
	for (size_t j = 0; j < i; j++) {
		if (j + 1 < i && m[j].kn == m[j + 1].kn && !memcmp(m[j].k, m[j + 1].k, m[j].kn))
			continue;
		m[w++] = m[j];
	}
	*out = m;
	*n = w;
	return 0;
}

/* ---- comparing ------------------------------------------------------------------------------ */

static const struct ts_span MISSING = {NULL, 0};

/* Is the walk at a member of an object (not an element of an array)?
 * --null-equals-missing is about members: [null] is not []. */
static int in_member(const struct ts_diff *d)
{
	return d->depth && d->stack[d->depth - 1].kind == TS_JP_KEY;
}

static int cmp_value(struct ts_diff *d, struct ts_span a, struct ts_span b);

static int cmp_object(struct ts_diff *d, struct ts_span a, struct ts_span b)
{
	static const struct ts_span empty = {"{}", 2};
	struct mem *ma, *mb;
	size_t na, nb, i = 0, j = 0;

	if (members(d, a.n ? a : empty, &ma, &na) < 0 ||
	    members(d, b.n ? b : empty, &mb, &nb) < 0)
		return -1;
	while (i < na || j < nb) {
		int c;
		if (i == na)
			c = 1;
		else if (j == nb)
			c = -1;
		else {
			size_t n = ma[i].kn < mb[j].kn ? ma[i].kn : mb[j].kn;
			c = memcmp(ma[i].k, mb[j].k, n);
			if (!c)
				c = ma[i].kn < mb[j].kn ? -1 : ma[i].kn > mb[j].kn;
		}
		const struct mem *m = c <= 0 ? &ma[i] : &mb[j];
		if (push(d, TS_JP_KEY, m->k, m->kn, 0) < 0)
			return -1;
		int rc = cmp_value(d, c <= 0 ? ma[i].v : MISSING, c >= 0 ? mb[j].v : MISSING);
		d->depth--;
		if (rc < 0)
			return -1;
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
	return 0;
}

/* The number of elements of an array, for option paths with a negative
 * index (counted only when there are such). */
static size_t arr_len(const struct ts_diff *d, struct ts_span v)
{
	struct ts_json_iter it;
	struct ts_span e;
	size_t n = 0;

	if (!d->neg_index || !v.n)
		return 0;
	ts_json_iter_init(&it, v);
	while (ts_json_arr_next(&it, &e))
		n++;
	return n;
}

static int cmp_array(struct ts_diff *d, struct ts_span a, struct ts_span b)
{
	struct ts_json_iter ia, ib;
	struct ts_span va, vb;
	long i = 0;
	/* [-1] is each side's own last element: with option paths that count
	 * from the end, an element the options leave out on one side is
	 * compared as missing there */
	size_t la = arr_len(d, a), lb = arr_len(d, b);

	if (a.n)
		ts_json_iter_init(&ia, a);
	if (b.n)
		ts_json_iter_init(&ib, b);
	for (;; i++) {
		int ha = a.n && ts_json_arr_next(&ia, &va), hb = b.n && ts_json_arr_next(&ib, &vb);
		if (!ha && !hb)
			return 0;
		if (push(d, TS_JP_INDEX, NULL, la, i) < 0)
			return -1;
		if (d->neg_index && la != lb) {
			int sa = scope(d);
			d->stack[d->depth - 1].keylen = lb;
			int sb = scope(d);
			if (!sa)
				ha = 0;
			if (!sb)
				hb = 0;
			if (!sb && sa) /* cmp_value asks the scope of the side kept */
				d->stack[d->depth - 1].keylen = la;
		}
		int rc = ha || hb ? cmp_value(d, ha ? va : MISSING, hb ? vb : MISSING) : 0;
		d->depth--;
		if (rc < 0)
			return -1;
	}
}

/* Arrays (or an array and nothing) as multisets: by the canonical forms,
 * elements sorted; a difference is the whole array. */
static int cmp_unordered(struct ts_diff *d, struct ts_span a, struct ts_span b, struct ts_span oa,
			 struct ts_span ob);

/* ---- exact decimal tolerance ---------------------------------------------------- */

/* A decimal: digits d[0..n) (most significant first, no leading or
 * trailing zeros; n == 0 is zero) times 10^e. */
struct bd {
	unsigned char *d;
	size_t n;
	long e;
	int neg;
};

#define BD_MAX_DIGITS 2000 /* wider than this: the double decision stands */

static int bd_parse(struct bd *x, const char *p, size_t len)
{
	const char *end = p + len;
	long frac = 0, ex = 0;
	int in_frac = 0;

	memset(x, 0, sizeof(*x));
	if (!(x->d = malloc(len + 1)))
		return -1;
	if (p < end && (*p == '-' || *p == '+'))
		x->neg = *p++ == '-';
	for (; p < end; p++) {
		if (*p == '.') {
			in_frac = 1;
		} else if (*p >= '0' && *p <= '9') {
			if (x->n || *p != '0')
				x->d[x->n++] = (unsigned char)(*p - '0');
			frac += in_frac;
		} else if (*p == 'e' || *p == 'E') {
			/* by hand: the text is not NUL-terminated */
			int eneg = 0;
			if (++p < end && (*p == '-' || *p == '+'))
				eneg = *p++ == '-';
			for (; p < end && *p >= '0' && *p <= '9'; p++) {
				ex = ex * 10 + (*p - '0');
				if (ex > 100000)
					return -1; /* too far in scale: the double decision */
			}
			if (eneg)
				ex = -ex;
			break;
		}
	}
	x->e = ex - frac;
	while (x->n && !x->d[x->n - 1])
		x->n--, x->e++;
	if (!x->n)
		x->neg = 0;
	return 0;
}

/* Both to the smaller exponent (*e): digit strings of one length (*n),
 * with a digit to spare for a carry. */
static int bd_align(const struct bd *x, const struct bd *y, unsigned char **a, unsigned char **b,
		    size_t *n, long *e)
{
	*a = *b = NULL;
	*e = x->n && y->n ? (x->e < y->e ? x->e : y->e) : x->n ? x->e : y->e;
	if ((x->n && x->e - *e > BD_MAX_DIGITS) || (y->n && y->e - *e > BD_MAX_DIGITS))
		return -1;
	size_t la = x->n ? x->n + (size_t)(x->e - *e) : 0, lb = y->n ? y->n + (size_t)(y->e - *e) : 0;
	size_t m = (la > lb ? la : lb) + 1;

	if (m > 4 * BD_MAX_DIGITS)
		return -1;
	*a = calloc(m, 1);
	*b = calloc(m, 1);
	if (!*a || !*b) {
		free(*a);
		free(*b);
		return -1;
	}
	/* right-aligned at the common exponent: (*a)[m - 1] is 10^e */
	if (x->n)
		memcpy(*a + m - la, x->d, x->n);
	if (y->n)
		memcpy(*b + m - lb, y->d, y->n);
	*n = m;
	return 0;
}

static int mag_cmp(const unsigned char *a, const unsigned char *b, size_t n)
{
	return memcmp(a, b, n);
}

/* a = a + b, or a = a - b (a >= b), digit strings of n digits. */
static void mag_addsub(unsigned char *a, const unsigned char *b, size_t n, int sub)
{
	int carry = 0;

	for (size_t i = n; i-- > 0;) {
		int v = sub ? a[i] - b[i] - carry : a[i] + b[i] + carry;
		carry = sub ? v < 0 : v > 9;
		a[i] = (unsigned char)(sub ? (v < 0 ? v + 10 : v) : (v > 9 ? v - 10 : v));
	}
}

/* From aligned digits at exponent e back to a struct bd. */
static void bd_from(struct bd *r, unsigned char *dig, size_t n, long e)
{
	size_t i = 0;

	while (i < n && !dig[i])
		i++;
	memmove(dig, dig + i, n - i);
	free(r->d);
	r->d = dig;
	r->n = n - i;
	r->e = e;
	r->neg = 0;
	while (r->n && !r->d[r->n - 1])
		r->n--, r->e++;
}

/* |x| + |y| or ||x| - |y||, exactly.  -1 when too wide. */
static int bd_addsub(struct bd *r, const struct bd *x, const struct bd *y, int sub)
{
	unsigned char *a, *b;
	size_t n;
	long e;

	if (bd_align(x, y, &a, &b, &n, &e) < 0)
		return -1;
	if (sub && mag_cmp(a, b, n) < 0) {
		unsigned char *t = a;
		a = b;
		b = t;
	}
	mag_addsub(a, b, n, sub);
	free(b);
	bd_from(r, a, n, e);
	return 0;
}

static int bd_mul(struct bd *r, const struct bd *x, const struct bd *y)
{
	size_t n = x->n + y->n + 1; /* acc[k] weighs 10^(n - 1 - k) */
	unsigned *acc;
	unsigned char *dig;

	if (n > 4 * BD_MAX_DIGITS || !(acc = calloc(n, sizeof(*acc))))
		return -1;
	for (size_t i = 0; i < x->n; i++)
		for (size_t j = 0; j < y->n; j++)
			acc[i + j + 2] += (unsigned)x->d[i] * y->d[j];
	for (size_t k = n; k-- > 1;) {
		acc[k - 1] += acc[k] / 10;
		acc[k] %= 10;
	}
	if (!(dig = malloc(n))) {
		free(acc);
		return -1;
	}
	for (size_t k = 0; k < n; k++)
		dig[k] = (unsigned char)acc[k];
	free(acc);
	bd_from(r, dig, n, x->e + y->e);
	return 0;
}

static int bd_le(const struct bd *x, const struct bd *y, int *le)
{
	unsigned char *a, *b;
	size_t n;
	long e;

	if (bd_align(x, y, &a, &b, &n, &e) < 0)
		return -1;
	*le = mag_cmp(a, b, n) <= 0;
	free(a);
	free(b);
	return 0;
}

/* Is |a - b| <= abs + rel * |b|, exactly, for the decimal texts?  1, 0, or
 * -1 when the numbers are too far apart in scale to say exactly. */
static int within_exact(struct ts_span a, struct ts_span b, const char *abs, const char *rel)
{
	struct bd x = {0}, y = {0}, ta = {0}, tr = {0}, d = {0}, t = {0}, p = {0};
	int le = -1;

	if (bd_parse(&x, a.p, a.n) < 0 || bd_parse(&y, b.p, b.n) < 0 ||
	    bd_parse(&ta, abs, strlen(abs)) < 0 || bd_parse(&tr, rel, strlen(rel)) < 0)
		goto out;
	if (bd_addsub(&d, &x, &y, x.neg == y.neg) < 0 || bd_mul(&p, &tr, &y) < 0 ||
	    bd_addsub(&t, &ta, &p, 0) < 0 || bd_le(&d, &t, &le) < 0)
		le = -1;
out:
	free(x.d);
	free(y.d);
	free(ta.d);
	free(tr.d);
	free(d.d);
	free(t.d);
	free(p.d);
	return le;
}

/* |a - b| as the double nearest its exact decimal value (123.45 - 123.4
 * is 0.05, not 0.04999999999999716); the difference of the doubles when
 * the two are too far apart in scale. */
static double exact_delta(struct ts_span a, struct ts_span b, double dbl)
{
	struct bd x = {0}, y = {0}, d = {0};
	double r = dbl;

	if (bd_parse(&x, a.p, a.n) == 0 && bd_parse(&y, b.p, b.n) == 0 &&
	    bd_addsub(&d, &x, &y, x.neg == y.neg) == 0) {
		char *t = malloc(d.n + 32);
		if (t) {
			size_t k = 0;
			if (!d.n)
				t[k++] = '0';
			for (size_t i = 0; i < d.n; i++)
				t[k++] = (char)('0' + d.d[i]);
			snprintf(t + k, 32, "e%ld", d.e);
			r = strtod(t, NULL);
			free(t);
		}
	}
	free(x.d);
	free(y.d);
	free(d.d);
	return r;
}

/* The tolerance for the number at the walked path. */
static void tolerance(const struct ts_diff *d, double *abs, double *rel, const char **abs_text,
		      const char **rel_text)
{
	const struct ts_diff_opts *o = d->o;
	int ha = 0, hr = 0;

	*abs = o->abs;
	*rel = o->rel;
	*abs_text = o->abs_text ? o->abs_text : "0";
	*rel_text = o->rel_text ? o->rel_text : "0";
	for (size_t i = o->ntol; i-- > 0 && !(ha && hr);) {
		const struct ts_diff_tol *t = &o->tol[i];
		if (relation(&t->path, d->stack, d->depth) != 2)
			continue;
		if (t->has_abs && !ha)
			*abs = t->abs, *abs_text = t->abs_text, ha = 1;
		if (t->has_rel && !hr)
			*rel = t->rel, *rel_text = t->rel_text, hr = 1;
	}
}

static int cmp_value(struct ts_diff *d, struct ts_span a, struct ts_span b)
{
	int sc = d->depth ? scope(d) : (d->o->nonly ? 1 : 2);
	enum ts_vtype ta, tb;
	const struct ts_span oa = a, ob = b; /* as read: what a difference shows */

	if (sc == 0)
		return 0;
	if (d->o->null_missing && in_member(d)) {
		if (a.n == 4 && a.p[0] == 'n')
			a = MISSING;
		if (b.n == 4 && b.p[0] == 'n')
			b = MISSING;
	}
	ta = ts_value_type(a);
	tb = ts_value_type(b);
	if (d->o->coerce) {
		struct ts_span num;
		if (ta == TS_VT_STRING && numeric_string(d, a, &num))
			a = num, ta = TS_VT_NUMBER;
		if (tb == TS_VT_STRING && numeric_string(d, b, &num))
			b = num, tb = TS_VT_NUMBER;
	}
	if (sc == 1) {
		/* an --only path lies deeper: go down what can be gone down, the
		 * objects and the arrays on either side (what cannot, a number
		 * where an object is on the other side, holds nothing there) */
		int rc = 0;
		if (ta == TS_VT_OBJECT || tb == TS_VT_OBJECT)
			rc = cmp_object(d, ta == TS_VT_OBJECT ? a : MISSING, tb == TS_VT_OBJECT ? b : MISSING);
		if (!rc && (ta == TS_VT_ARRAY || tb == TS_VT_ARRAY)) {
			struct ts_span xa = ta == TS_VT_ARRAY ? a : MISSING, xb = tb == TS_VT_ARRAY ? b : MISSING;
			rc = d->o->unordered ? cmp_unordered(d, xa, xb, xa.n ? oa : MISSING, xb.n ? ob : MISSING)
					     : cmp_array(d, xa, xb);
		}
		return rc;
	}
	if (ta == TS_VT_MISSING && tb == TS_VT_MISSING)
		return 0;
	if (ta == TS_VT_MISSING || tb == TS_VT_MISSING || ta == TS_VT_NULL || tb == TS_VT_NULL) {
		if (ta == tb)
			return 0;
		return note(d, oa, ob, TS_DIFF_NULL, 0, 0);
	}
	if (ta == TS_VT_OBJECT && tb == TS_VT_OBJECT)
		return cmp_object(d, a, b);
	if (ta == TS_VT_ARRAY && tb == TS_VT_ARRAY)
		return d->o->unordered ? cmp_unordered(d, a, b, oa, ob) : cmp_array(d, a, b);
	if (ta != tb)
		return note(d, oa, ob, TS_DIFF_TYPE, 0, 0);
	if (ta == TS_VT_NUMBER) {
		double x, y, abs, rel, delta;
		if (ts_value_cmp(a, b) == 0)
			return 0;
		const char *abs_text, *rel_text;
		ts_value_number(a, &x);
		ts_value_number(b, &y);
		delta = fabs(x - y);
		tolerance(d, &abs, &rel, &abs_text, &rel_text);
		if (abs > 0 || rel > 0) {
			/* decided on the exact decimals (100.01 and 100 are within
			 * 0.01, though not as doubles), on doubles when the two are
			 * too far apart in scale for that */
			int w = within_exact(a, b, abs_text, rel_text);
			if (w < 0)
				w = delta <= abs + rel * fabs(y);
			if (w)
				return 0;
		}
		return note(d, oa, ob, TS_DIFF_VALUE, 1, exact_delta(a, b, delta));
	}
	if (ta == TS_VT_STRING) {
		struct ts_span sa, sb;
		if (!d->o->fold && !d->o->trim) {
			if (ts_value_equal(a, b))
				return 0;
			return note(d, oa, ob, TS_DIFF_VALUE, 0, 0);
		}
		if (str_view(d, a, &sa) < 0 || str_view(d, b, &sb) < 0)
			return -1;
		if (sa.n == sb.n && !memcmp(sa.p, sb.p, sa.n))
			return 0;
		return note(d, oa, ob, TS_DIFF_VALUE, 0, 0);
	}
	/* booleans */
	if (a.n == b.n && !memcmp(a.p, b.p, a.n))
		return 0;
	return note(d, oa, ob, TS_DIFF_VALUE, 0, 0);
}

static int cmp_unordered(struct ts_diff *d, struct ts_span a, struct ts_span b, struct ts_span oa,
			 struct ts_span ob)
{
	struct ts_buf ca, cb;
	int rc = 0, eq;

	ts_buf_init(&ca, 0);
	ts_buf_init(&cb, 0);
	if ((a.n && ts_diff_canon(d, &ca, a) < 0) || (b.n && ts_diff_canon(d, &cb, b) < 0))
		rc = -1;
	/* an array the options leave empty is as good as none */
	if (ca.len == 2)
		ts_buf_reset(&ca);
	if (cb.len == 2)
		ts_buf_reset(&cb);
	eq = ca.len == cb.len && !memcmp(ca.data, cb.data, ca.len);
	ts_buf_release(&ca);
	ts_buf_release(&cb);
	if (rc < 0)
		return -1;
	if (eq)
		return 0;
	return note(d, oa, ob, !oa.n || !ob.n ? TS_DIFF_NULL : TS_DIFF_VALUE, 0, 0);
}

long ts_diff_compare(struct ts_diff *d, struct ts_span a, struct ts_span b)
{
	d->nitems = 0;
	ts_buf_reset(&d->paths);
	d->depth = 0;
	scratch_reset(d);
	if (a.n == b.n && !memcmp(a.p, b.p, a.n))
		return 0; /* the same bytes: equal under any options */
	if (d->plain && ts_value_equal(a, b))
		return 0;
	if (cmp_value(d, a, b) < 0)
		return -1;
	return (long)d->nitems;
}

/* ---- canonical form under the options ---------------------------------------------------------- */

struct piece {
	size_t off, len;
};

static int piece_cmp(const void *x, const void *y, void *buf)
{
	const struct piece *a = x, *b = y;
	const char *base = ((const struct ts_buf *)buf)->data;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(base + a->off, base + b->off, n);

	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

static int canon(struct ts_diff *d, struct ts_buf *out, struct ts_span v);

/* The canonical form of a member or element whose step is pushed, as the
 * options see it at its path: *wrote 0 when it is left out (ignored, not
 * under an --only path, a dropped null, a container --only left empty). */
static int canon_child(struct ts_diff *d, struct ts_buf *out, struct ts_span v, int *wrote)
{
	int sc = scope(d);
	size_t mark = out->len;
	enum ts_vtype t = ts_value_type(v);

	*wrote = 0;
	if (!sc || (sc == 1 && t != TS_VT_OBJECT && t != TS_VT_ARRAY))
		return 0;
	if (canon(d, out, v) < 0)
		return -1;
	if (out->len == mark || (sc == 1 && out->len == mark + 2))
		ts_buf_setlen(out, mark);
	else
		*wrote = 1;
	return 0;
}

static int canon_object(struct ts_diff *d, struct ts_buf *out, struct ts_span v)
{
	struct mem *m;
	size_t n;
	int first = 1;

	if (members(d, v, &m, &n) < 0 || ts_buf_addch(out, '{') < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t mark = out->len;
		int wrote, rc = 0;
		if (push(d, TS_JP_KEY, m[i].k, m[i].kn, 0) < 0)
			return -1;
		if (!first)
			rc |= ts_buf_addch(out, ',');
		rc |= ts_json_escape(out, m[i].k, m[i].kn);
		rc |= ts_buf_addch(out, ':');
		if (!rc)
			rc = canon_child(d, out, m[i].v, &wrote);
		d->depth--;
		if (rc < 0)
			return -1;
		if (wrote)
			first = 0;
		else
			ts_buf_setlen(out, mark);
	}
	return ts_buf_addch(out, '}');
}

/* Elements by position; with --array-order ignore, their canonical forms
 * sorted.  An element the options leave out is left out of the array. */
/* Can the options leave elements of the array walked out: does an
 * --ignore path end at its elements ("a[1]", "a[]", "a[-1]")?  (A path that
 * goes on, "a[].b", leaves out part of each element, not elements.) */
static int drops_elements(const struct ts_diff *d)
{
	for (size_t i = 0; i < d->o->nignore; i++) {
		const struct ts_jpath *jp = &d->o->ignore[i];
		if (jp->n != d->depth + 1 || jp->steps[d->depth].kind == TS_JP_KEY)
			continue;
		struct ts_jpath prefix = *jp;
		prefix.n = d->depth;
		if (relation(&prefix, d->stack, d->depth) == 2)
			return 1;
	}
	return 0;
}

static int canon_array(struct ts_diff *d, struct ts_buf *out, struct ts_span v)
{
	struct ts_json_iter it;
	struct ts_span e;
	struct ts_buf tmp;
	struct piece *p = NULL;
	size_t np = 0, cap = 0;
	long i = 0;
	int rc = 0;

	size_t len = arr_len(d, v);
	/* Elements the options may leave out (ignored ones, those --only
	 * leaves empty) are compared by position all the same: then each
	 * element that is left is written with its index, [[0,x],[2,y]], so
	 * that equal forms still mean equal elements at equal places.  With
	 * --array-order ignore, places do not matter: the elements left,
	 * sorted. */
	int sparse = !d->o->unordered && d->depth && (scope(d) == 1 || drops_elements(d));

	ts_buf_init(&tmp, 0);
	ts_json_iter_init(&it, v);
	while (!rc && ts_json_arr_next(&it, &e)) {
		size_t off = tmp.len;
		int wrote = 0;
		if (push(d, TS_JP_INDEX, NULL, len, i++) < 0) {
			rc = -1;
			break;
		}
		if (sparse) {
			size_t mark = tmp.len;
			rc = ts_buf_addf(&tmp, "[%ld,", i - 1);
			if (!rc)
				rc = canon_child(d, &tmp, e, &wrote);
			if (!rc && wrote)
				rc = ts_buf_addch(&tmp, ']');
			else if (!rc)
				ts_buf_setlen(&tmp, mark);
		} else {
			rc = canon_child(d, &tmp, e, &wrote);
		}
		d->depth--;
		if (rc < 0 || !wrote)
			continue;
		if (np == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct piece *q = realloc(p, nc * sizeof(*q));
			if (!q) {
				rc = -1;
				break;
			}
			p = q;
			cap = nc;
		}
		p[np++] = (struct piece){off, tmp.len - off};
	}
	if (!rc) {
		if (d->o->unordered && np > 1)
			qsort_r(p, np, sizeof(*p), piece_cmp, &tmp);
		rc |= ts_buf_addch(out, '[');
		for (size_t k = 0; k < np && !rc; k++)
			rc |= (k ? ts_buf_addch(out, ',') : 0) |
			      ts_buf_add(out, tmp.data + p[k].off, p[k].len);
		rc |= ts_buf_addch(out, ']');
	}
	free(p);
	ts_buf_release(&tmp);
	return rc < 0 ? -1 : 0;
}

static int canon(struct ts_diff *d, struct ts_buf *out, struct ts_span v)
{
	enum ts_vtype t = ts_value_type(v);

	switch (t) {
	case TS_VT_MISSING:
		return 0;
	case TS_VT_NULL:
		return d->o->null_missing && in_member(d) ? 0 : ts_buf_add(out, "null", 4);
	case TS_VT_OBJECT:
		return canon_object(d, out, v);
	case TS_VT_ARRAY:
		return canon_array(d, out, v);
	case TS_VT_STRING: {
		struct ts_span num, s;
		if (d->o->coerce && numeric_string(d, v, &num))
			return ts_value_canon(out, num);
		if (!d->o->fold && !d->o->trim)
			return ts_value_canon(out, v);
		if (str_view(d, v, &s) < 0)
			return -1;
		return ts_json_escape(out, s.p, s.n) < 0 ? -1 : 0;
	}
	default:
		return ts_value_canon(out, v);
	}
}

int ts_diff_canon(struct ts_diff *d, struct ts_buf *out, struct ts_span v)
{
	size_t len = out->len, depth = d->depth;
	int rc;

	if (d->plain)
		return ts_value_canon(out, v);
	if (!depth)
		scratch_reset(d);
	rc = canon(d, out, v);
	d->depth = depth;
	if (rc < 0)
		ts_buf_setlen(out, len);
	return rc;
}
