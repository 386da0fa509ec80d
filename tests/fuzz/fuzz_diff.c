/*
 * fuzz_diff.c — two records compared under options (diff.h): the
 * comparison, its canonical form and what it reports agree.
 *
 * The input is a byte of option flags, then two JSON values separated by a
 * 0xff byte (a byte no JSON text holds); each must be accepted by
 * ts_json_scan() (trailing whitespace allowed), or the input is skipped.
 * Flags: 1 fold, 2 trim, 4 unordered arrays, 8 null equals missing,
 * 16 coerce numbers, 32 --ignore a[].b and z[-1], 64 --only a[].c and x.y (records
 * only: an --only path says nothing of a value that is not an object),
 * 128 tolerance abs 0.5 + rel 0.125.  LC_CTYPE is C.UTF-8, as in ts-diff.
 *
 * Invariants: a value equals itself; the options relax equality, never
 * tighten it (without them, equal is value.h's equal); the canonical form
 * is JSON without whitespace and its own canonical form; without
 * tolerance, a and b differ as b and a do (the same paths, the same kinds)
 * and equal canonical forms <=> no difference; with it, canonical forms
 * equal => no difference, and no numeric difference is within the
 * tolerance (where doubles can tell: the test is exact on the decimals).
 * Every difference has a path jpath.h reads, values that are JSON as read
 * on its own side, and a kind its values bear out.  And an oracle of its
 * own (rewrite(), below) applies every option but --only to each value:
 * the canonical form is value.h's of what it leaves, and without
 * tolerance equal under the options is value.h's equal of what it leaves.
 */
#include <locale.h>
#include <math.h>
#include <string.h>
#include <wctype.h>

#include "diff.h"
#include "fuzz.h"
#include "value.h"

enum {
	F_FOLD = 1, F_TRIM = 2, F_UNORDERED = 4, F_NULLMISS = 8, F_COERCE = 16,
	F_IGNORE = 32, F_ONLY = 64, F_TOL = 128,
};

static int scans(struct ts_span v)
{
	struct ts_json_scan r;

	return v.n && ts_json_scan(v.p, v.p + v.n, 1, 0, &r) == TS_JSON_OK &&
	       r.end == v.p + v.n;
}

static int inside(struct ts_span v, struct ts_span in)
{
	return v.p >= in.p && v.p + v.n <= in.p + in.n;
}

/* One value from p up to end: the value and trailing whitespace. */
static int value(const char *p, const char *end, struct ts_span *v)
{
	struct ts_json_scan sc;

	if (p == end || ts_json_scan(p, end, 1, 0, &sc) != TS_JSON_OK)
		return -1;
	for (const char *w = sc.end; w < end; w++)
		if (!ts_json_is_ws(*w))
			return -1;
	*v = (struct ts_span){p, (size_t)(sc.end - p)};
	return 0;
}

/* The canonical form of v: JSON without whitespace, and (idem) its own. */
static void canon(struct ts_diff *d, struct ts_buf *out, struct ts_span v, int idem)
{
	struct ts_json_scan sc;
	struct ts_buf again;

	ts_buf_reset(out);
	FUZZ_CHECK(ts_diff_canon(d, out, v) == 0);
	FUZZ_CHECK(ts_json_scan(out->data, out->data + out->len, 1, 0, &sc) == TS_JSON_OK);
	FUZZ_CHECK(sc.end == out->data + out->len && !sc.has_ws);
	ts_buf_init(&again, 0);
	FUZZ_CHECK(ts_diff_canon(d, &again, (struct ts_span){out->data, out->len}) == 0);
	if (idem)
		FUZZ_CHECK(again.len == out->len && !memcmp(again.data, out->data, out->len));
	ts_buf_release(&again);
}

static int is_trim_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* With coerce: is v a string holding a JSON number (trimmed first with
 * trim)?  1 and its text in num, else 0. */
static int numeric_text(const struct ts_diff_opts *o, struct ts_span v, struct ts_buf *num)
{
	struct ts_buf s;
	struct ts_json_scan sc;
	size_t i = 0, n;
	int yes = 0;

	if (!o->coerce || ts_value_type(v) != TS_VT_STRING)
		return 0;
	ts_buf_init(&s, 0);
	FUZZ_CHECK(ts_value_string(&s, v) == 0);
	n = s.len;
	if (o->trim) {
		while (i < n && is_trim_space(s.data[i]))
			i++;
		while (n > i && is_trim_space(s.data[n - 1]))
			n--;
	}
	if (n > i && ts_json_scan(s.data + i, s.data + n, 1, 1, &sc) == TS_JSON_OK &&
	    sc.end == s.data + n &&
	    ts_value_type((struct ts_span){s.data + i, n - i}) == TS_VT_NUMBER) {
		ts_buf_reset(num);
		FUZZ_CHECK(ts_buf_add(num, s.data + i, n - i) == 0);
		yes = 1;
	}
	ts_buf_release(&s);
	return yes;
}

/* The items of the last compare(a, b) as the checks expect them. */
static void check_items(const struct ts_diff *d, long n, struct ts_span a, struct ts_span b)
{
	const struct ts_diff_opts *o = d->o;
	struct ts_buf na, nb;

	ts_buf_init(&na, 0);
	ts_buf_init(&nb, 0);
	for (long i = 0; i < n; i++) {
		const struct ts_diff_item *it = &d->items[i];
		size_t pn;
		const char *p = ts_diff_path(d, (size_t)i, &pn);
		char err[256];
		struct ts_jpath jp;

		FUZZ_CHECK(pn > 0);
		char *z = strndup(p, pn);
		FUZZ_CHECK(z != NULL);
		FUZZ_CHECK(ts_jpath_parse(&jp, z, err, sizeof(err)) == 0);
		ts_jpath_release(&jp);
		free(z);

		/* values: JSON as read on their own side */
		FUZZ_CHECK(!it->a.n || (scans(it->a) && inside(it->a, a)));
		FUZZ_CHECK(!it->b.n || (scans(it->b) && inside(it->b, b)));

		/* as the comparison sees them: numbers for numeric strings,
		 * nothing for a null member */
		struct ts_span ea = it->a, eb = it->b;
		if (numeric_text(o, ea, &na))
			ea = (struct ts_span){na.data, na.len};
		if (numeric_text(o, eb, &nb))
			eb = (struct ts_span){nb.data, nb.len};
		enum ts_vtype ta = ts_value_type(ea), tb = ts_value_type(eb);
		int member = p[pn - 1] != ']' && !(pn == 1 && p[0] == '.');
		if (o->null_missing && member) {
			if (ta == TS_VT_NULL)
				ta = TS_VT_MISSING;
			if (tb == TS_VT_NULL)
				tb = TS_VT_MISSING;
		}
		int absent_a = ta == TS_VT_MISSING || ta == TS_VT_NULL;
		int absent_b = tb == TS_VT_MISSING || tb == TS_VT_NULL;
		switch (it->kind) {
		case TS_DIFF_NULL:
			FUZZ_CHECK(absent_a || absent_b);
			FUZZ_CHECK(ta != tb);
			break;
		case TS_DIFF_TYPE:
			FUZZ_CHECK(!absent_a && !absent_b && ta != tb);
			break;
		case TS_DIFF_VALUE:
			FUZZ_CHECK(!absent_a && !absent_b && ta == tb);
			/* arrays differ element by element, or as a whole when
			 * unordered; objects member by member */
			FUZZ_CHECK(ta != TS_VT_OBJECT);
			FUZZ_CHECK(ta != TS_VT_ARRAY || o->unordered);
			break;
		default:
			FUZZ_CHECK(0);
		}
		FUZZ_CHECK(it->numeric == (ta == TS_VT_NUMBER && tb == TS_VT_NUMBER));
		if (it->numeric) {
			double x, y;
			FUZZ_CHECK(ts_value_cmp(ea, eb) != 0);
			ts_value_number(ea, &x);
			ts_value_number(eb, &y);
			/* delta: the exact |a - b| rounded to a double, so within
			 * the doubles' rounding of the difference of the doubles */
			FUZZ_CHECK(!(it->delta < 0));
			if (isfinite(x) && isfinite(y) && isfinite(x - y))
				FUZZ_CHECK(fabs(it->delta - fabs(x - y)) <=
					   (fabs(x) + fabs(y) + fabs(x - y)) * 0x1p-50 + 1e-300);
			/* never within the tolerance, decided exactly: where the
			 * doubles leave no doubt (their rounding is below the
			 * margin), they agree */
			double tol = o->abs + o->rel * fabs(y);
			double slack = (fabs(x) + fabs(y) + it->delta) * 0x1p-50 + 1e-300;
			if ((o->abs > 0 || o->rel > 0) && isfinite(x) && isfinite(y) && isfinite(tol))
				FUZZ_CHECK(!(it->delta + slack < tol * (1 - 1e-12)));
		}
		/* the same bytes never differ */
		FUZZ_CHECK(!(it->a.n && it->a.n == it->b.n && !memcmp(it->a.p, it->b.p, it->a.n)));
	}
	ts_buf_release(&na);
	ts_buf_release(&nb);
}

/* ---- the oracle: the options applied by rewriting the value ------------------
 *
 * What the options leave of a value, written out as JSON by a walk of its
 * own: the last of each repeated key, null members dropped, the ignored
 * path dropped, strings trimmed and folded code point by code point,
 * numeric strings as their number, array elements sorted by their canonical
 * bytes.  Two values are equal under the options exactly when what is left
 * of them is equal (value.h), and ts_diff_canon() is value.h's canonical
 * form of what is left. */

static size_t get_cp(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t k = s[0] < 0x80 ? 1 : s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;

	FUZZ_CHECK(k <= n);
	*cp = k == 1 ? s[0] : k == 2 ? s[0] & 0x1fu : k == 3 ? s[0] & 0x0fu : s[0] & 0x07u;
	for (size_t i = 1; i < k; i++)
		*cp = *cp << 6 | (s[i] & 0x3fu);
	return k;
}

static void rewrite(const struct ts_diff_opts *o, struct ts_buf *out, struct ts_span v,
		    int state);

/* state: 1 the value of the root's member a, 2 a child of that (where the
 * member b is ignored with F_IGNORE), 3 the value of the root's member z
 * (whose last element is ignored), 0 elsewhere; -1 the root. */
static void rewrite_object(const struct ts_diff_opts *o, struct ts_buf *out, struct ts_span v,
			   int state)
{
	struct ts_json_iter it, later;
	struct ts_span k, val, k2, v2;
	struct ts_buf key, key2;
	int first = 1;

	ts_buf_init(&key, 0);
	ts_buf_init(&key2, 0);
	FUZZ_CHECK(ts_buf_addch(out, '{') == 0);
	ts_json_iter_init(&it, v);
	while (ts_json_obj_next(&it, &k, &val)) {
		ts_buf_reset(&key);
		FUZZ_CHECK(ts_json_unescape(&key, k) == 0);
		/* the last of a repeated key wins */
		int repeated = 0;
		later = it;
		while (!repeated && ts_json_obj_next(&later, &k2, &v2)) {
			ts_buf_reset(&key2);
			FUZZ_CHECK(ts_json_unescape(&key2, k2) == 0);
			repeated = key.len == key2.len && !memcmp(key.data, key2.data, key.len);
		}
		if (repeated)
			continue;
		if (o->null_missing && ts_value_type(val) == TS_VT_NULL)
			continue;
		if (o->nignore && state == 2 && key.len == 1 && key.data[0] == 'b')
			continue;
		if (!first)
			FUZZ_CHECK(ts_buf_addch(out, ',') == 0);
		first = 0;
		FUZZ_CHECK(ts_json_escape(out, key.data, key.len) == 0);
		FUZZ_CHECK(ts_buf_addch(out, ':') == 0);
		int child = state == 1 ? 2 : 0;
		if (state == -1 && key.len == 1 && key.data[0] == 'a')
			child = 1;
		if (state == -1 && key.len == 1 && key.data[0] == 'z')
			child = 3;
		rewrite(o, out, val, child);
	}
	FUZZ_CHECK(ts_buf_addch(out, '}') == 0);
	ts_buf_release(&key);
	ts_buf_release(&key2);
}

struct elem {
	char *p;
	size_t n;
};

static int elem_cmp(const void *x, const void *y)
{
	const struct elem *a = x, *b = y;
	int c = memcmp(a->p, b->p, a->n < b->n ? a->n : b->n);

	return c ? c : a->n < b->n ? -1 : a->n > b->n;
}

static void rewrite_array(const struct ts_diff_opts *o, struct ts_buf *out, struct ts_span v,
			  int state)
{
	struct ts_json_iter it;
	struct ts_span e;
	struct elem *el = NULL;
	size_t n = 0;

	ts_json_iter_init(&it, v);
	while (ts_json_arr_next(&it, &e)) {
		struct ts_buf one, c;
		ts_buf_init(&one, 0);
		ts_buf_init(&c, 0);
		rewrite(o, &one, e, state == 1 ? 2 : 0);
		FUZZ_CHECK(ts_value_canon(&c, (struct ts_span){one.data, one.len}) == 0);
		el = realloc(el, (n + 1) * sizeof(*el));
		FUZZ_CHECK(el != NULL);
		el[n].p = ts_buf_detach(&c, &el[n].n);
		n++;
		ts_buf_release(&one);
	}
	if (state == 3 && o->nignore && n) /* z[-1] */
		free(el[--n].p);
	if (o->unordered && n > 1)
		qsort(el, n, sizeof(*el), elem_cmp);
	FUZZ_CHECK(ts_buf_addch(out, '[') == 0);
	for (size_t i = 0; i < n; i++) {
		if (i)
			FUZZ_CHECK(ts_buf_addch(out, ',') == 0);
		FUZZ_CHECK(ts_buf_add(out, el[i].p, el[i].n) == 0);
		free(el[i].p);
	}
	FUZZ_CHECK(ts_buf_addch(out, ']') == 0);
	free(el);
}

static void rewrite_string(const struct ts_diff_opts *o, struct ts_buf *out, struct ts_span v)
{
	struct ts_buf s, f;
	size_t i = 0, n;

	ts_buf_init(&s, 0);
	ts_buf_init(&f, 0);
	if (numeric_text(o, v, &s)) {
		FUZZ_CHECK(ts_buf_add(out, s.data, s.len) == 0);
		ts_buf_release(&s);
		return;
	}
	FUZZ_CHECK(ts_value_string(&s, v) == 0);
	n = s.len;
	if (o->trim) {
		while (i < n && is_trim_space(s.data[i]))
			i++;
		while (n > i && is_trim_space(s.data[n - 1]))
			n--;
	}
	while (i < n) {
		uint32_t cp;
		char u[4];
		i += get_cp((const unsigned char *)s.data + i, n - i, &cp);
		if (o->fold)
			cp = (uint32_t)towlower((wint_t)cp);
		FUZZ_CHECK(ts_buf_add(&f, u, ts_utf8_put(u, cp)) == 0);
	}
	FUZZ_CHECK(ts_json_escape(out, f.data, f.len) == 0);
	ts_buf_release(&s);
	ts_buf_release(&f);
}

static void rewrite(const struct ts_diff_opts *o, struct ts_buf *out, struct ts_span v,
		    int state)
{
	switch (ts_value_type(v)) {
	case TS_VT_OBJECT:
		rewrite_object(o, out, v, state);
		break;
	case TS_VT_ARRAY:
		rewrite_array(o, out, v, state);
		break;
	case TS_VT_STRING:
		rewrite_string(o, out, v);
		break;
	default:
		FUZZ_CHECK(ts_buf_add(out, v.p, v.n) == 0);
	}
}

/* The kinds and paths of the last compare, to compare with the other way. */
static void describe(const struct ts_diff *d, long n, struct ts_buf *out)
{
	ts_buf_reset(out);
	for (long i = 0; i < n; i++) {
		size_t pn;
		const char *p = ts_diff_path(d, (size_t)i, &pn);
		FUZZ_CHECK(ts_buf_add(out, p, pn) == 0);
		FUZZ_CHECK(ts_buf_addch(out, (char)('0' + d->items[i].kind)) == 0);
		FUZZ_CHECK(ts_buf_addch(out, '\n') == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *sep;
	struct ts_span a, b;
	struct ts_jpath ign[2], only[2];
	struct ts_diff_opts o, plain;
	struct ts_diff d, dp;
	struct ts_buf ca, cb, da, db;
	char err[256];
	unsigned f;

	static int locale_set;
	if (!locale_set) {
		/* as ts-diff does: --ignore-case folds with towlower() */
		setlocale(LC_CTYPE, "C.UTF-8");
		locale_set = 1;
	}
	if (size < 1)
		return 0;
	f = (unsigned char)p[0];
	p++;
	if (!(sep = memchr(p, 0xff, (size_t)(end - p))) || value(p, sep, &a) < 0 ||
	    value(sep + 1, end, &b) < 0)
		return 0;

	memset(&o, 0, sizeof(o));
	memset(&plain, 0, sizeof(plain));
	o.fold = !!(f & F_FOLD);
	o.trim = !!(f & F_TRIM);
	o.unordered = !!(f & F_UNORDERED);
	o.null_missing = !!(f & F_NULLMISS);
	o.coerce = !!(f & F_COERCE);
	if (f & F_IGNORE) {
		FUZZ_CHECK(ts_jpath_parse(&ign[0], "a[].b", err, sizeof(err)) == 0);
		FUZZ_CHECK(ts_jpath_parse(&ign[1], "z[-1]", err, sizeof(err)) == 0);
		o.ignore = ign;
		o.nignore = 2;
	}
	if ((f & F_ONLY) && ts_value_type(a) == TS_VT_OBJECT && ts_value_type(b) == TS_VT_OBJECT) {
		FUZZ_CHECK(ts_jpath_parse(&only[0], "a[].c", err, sizeof(err)) == 0);
		FUZZ_CHECK(ts_jpath_parse(&only[1], "x.y", err, sizeof(err)) == 0);
		o.only = only;
		o.nonly = 2;
	}
	if (f & F_TOL) {
		o.abs = 0.5;
		o.abs_text = "0.5";
		o.rel = 0.125;
		o.rel_text = "0.125";
	}
	ts_diff_init(&d, &o);
	ts_diff_init(&dp, &plain);
	ts_buf_init(&ca, 0);
	ts_buf_init(&cb, 0);
	ts_buf_init(&da, 0);
	ts_buf_init(&db, 0);

	/* a value equals itself, also as other bytes */
	FUZZ_CHECK(ts_diff_compare(&d, a, a) == 0);
	FUZZ_CHECK(ts_diff_compare(&d, b, b) == 0);

	/* without options: value.h's equality */
	long np = ts_diff_compare(&dp, a, b);
	FUZZ_CHECK(np >= 0);
	check_items(&dp, np, a, b);
	FUZZ_CHECK((np == 0) == ts_value_equal(a, b));

	long n = ts_diff_compare(&d, a, b);
	FUZZ_CHECK(n >= 0);
	check_items(&d, n, a, b);
	/* the options relax equality */
	if (np == 0)
		FUZZ_CHECK(n == 0);
	describe(&d, n, &da);

	/* an array whose elements the options may leave out is written with
	 * its elements' places ([[0,x],[2,y]]), which the same options do not
	 * leave alone: not its own form then */
	struct ts_span z;
	int idem_a = !o.nonly && (!o.nignore || !ts_json_obj_get(a, "z", 1, &z) || ts_value_type(z) != TS_VT_ARRAY);
	int idem_b = !o.nonly && (!o.nignore || !ts_json_obj_get(b, "z", 1, &z) || ts_value_type(z) != TS_VT_ARRAY);
	canon(&d, &ca, a, idem_a);
	canon(&d, &cb, b, idem_b);
	int ceq = ca.len == cb.len && !memcmp(ca.data, cb.data, ca.len);
	/* a canonical form equals what it is the form of, tolerance or not
	 * (under the options: what they leave out is not there) */
	if (!(f & F_TOL)) {
		long m = ts_diff_compare(&d, b, a);
		FUZZ_CHECK(m >= 0);
		check_items(&d, m, b, a);
		describe(&d, m, &db);
		FUZZ_CHECK(da.len == db.len && !memcmp(da.data, db.data, da.len));
		FUZZ_CHECK(ceq == (n == 0));
	} else if (ceq) {
		FUZZ_CHECK(n == 0);
	}
	/* the oracle (--only aside: what it leaves is not a value of its own) */
	if (!o.nonly) {
		struct ts_buf ra, rb;
		ts_buf_init(&ra, 0);
		ts_buf_init(&rb, 0);
		rewrite(&o, &ra, a, -1);
		rewrite(&o, &rb, b, -1);
		struct ts_span sa = {ra.data, ra.len}, sb = {rb.data, rb.len};
		FUZZ_CHECK(scans(sa) && scans(sb));
		if (!(f & F_TOL))
			FUZZ_CHECK((n == 0) == ts_value_equal(sa, sb));
		ts_buf_reset(&da);
		FUZZ_CHECK(ts_value_canon(&da, sa) == 0);
		if (idem_a) /* (arrays with places are not value.h's form) */
			FUZZ_CHECK(da.len == ca.len && !memcmp(da.data, ca.data, ca.len));
		ts_buf_release(&ra);
		ts_buf_release(&rb);
	}
	/* the canonical forms of the plain comparison are value.h's */
	canon(&dp, &da, a, 1);
	ts_buf_reset(&db);
	FUZZ_CHECK(ts_value_canon(&db, a) == 0);
	FUZZ_CHECK(da.len == db.len && !memcmp(da.data, db.data, da.len));

	ts_buf_release(&ca);
	ts_buf_release(&cb);
	ts_buf_release(&da);
	ts_buf_release(&db);
	ts_diff_release(&d);
	ts_diff_release(&dp);
	if (o.nignore) {
		ts_jpath_release(&ign[0]);
		ts_jpath_release(&ign[1]);
	}
	if (o.nonly) {
		ts_jpath_release(&only[0]);
		ts_jpath_release(&only[1]);
	}
	return 0;
}
