/* test_diff.c — lib/diff.h: two records compared field by field under the
 * options (what differs, at which path, of which kind), and the canonical
 * form under the same options, which is equal for two records exactly when
 * the comparison finds nothing (tolerance aside).
 *
 * Every comparison below also checks what must hold of any pair: the same
 * differences the other way round (tolerance aside: it is relative to the
 * target), equal canonical forms exactly when nothing differs, a canonical
 * form that is JSON and its own canonical form, every path one jpath.h
 * reads, every value shown a JSON value. */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "diff.h"

struct fx {
	struct ts_diff_opts o;
	struct ts_jpath ign[8], only[8];
	struct ts_diff_tol tol[8];
	struct ts_diff d;
	int live;
	int by_index; /* an option path names an index: canon not idempotent */
};

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->o.ignore = f->ign;
	f->o.only = f->only;
	f->o.tol = f->tol;
}

static void parse(struct ts_jpath *jp, const char *s)
{
	char err[256];

	if (!CHECK(ts_jpath_parse(jp, s, err, sizeof(err)) == 0))
		fprintf(stderr, "    %s\n", err);
}

static int has_index(const struct ts_jpath *jp)
{
	for (size_t i = 0; i < jp->n; i++)
		if (jp->steps[i].kind == TS_JP_INDEX)
			return 1;
	return 0;
}

static void fx_ignore(struct fx *f, const char *p)
{
	parse(&f->ign[f->o.nignore], p);
	f->by_index |= has_index(&f->ign[f->o.nignore++]);
}

static void fx_only(struct fx *f, const char *p)
{
	parse(&f->only[f->o.nonly], p);
	f->by_index |= has_index(&f->only[f->o.nonly++]);
}

/* A tolerance as the program has it: the number and its decimal text. */
static void fx_tol(struct fx *f, const char *p, int rel, const char *v)
{
	struct ts_diff_tol *t = &f->tol[f->o.ntol++];

	parse(&t->path, p);
	if (rel)
		t->rel = strtod(v, NULL), t->rel_text = v, t->has_rel = 1;
	else
		t->abs = strtod(v, NULL), t->abs_text = v, t->has_abs = 1;
}

static void fx_abs(struct fx *f, const char *v)
{
	f->o.abs = strtod(v, NULL);
	f->o.abs_text = v;
}

static void fx_rel(struct fx *f, const char *v)
{
	f->o.rel = strtod(v, NULL);
	f->o.rel_text = v;
}

static void fx_release(struct fx *f)
{
	if (f->live)
		ts_diff_release(&f->d);
	for (size_t i = 0; i < f->o.nignore; i++)
		ts_jpath_release(&f->ign[i]);
	for (size_t i = 0; i < f->o.nonly; i++)
		ts_jpath_release(&f->only[i]);
	for (size_t i = 0; i < f->o.ntol; i++)
		ts_jpath_release(&f->tol[i].path);
	memset(f, 0, sizeof(*f));
}

static int has_tol(const struct fx *f)
{
	return f->o.ntol || f->o.abs != 0 || f->o.rel != 0;
}

/* The text as a span, after checking the scanner accepts it. */
static struct ts_span V(const char *s)
{
	struct ts_json_scan r;
	size_t n = strlen(s);

	if (!CHECK(ts_json_scan(s, s + n, 1, 0, &r) == TS_JSON_OK && r.end == s + n))
		fprintf(stderr, "    not a value: %s\n", s);
	return (struct ts_span){s, n};
}

static int scans(struct ts_span v)
{
	struct ts_json_scan r;

	return ts_json_scan(v.p, v.p + v.n, 1, 0, &r) == TS_JSON_OK && r.end == v.p + v.n;
}

static char kind_ch(enum ts_diff_kind k)
{
	return k == TS_DIFF_VALUE ? 'V' : k == TS_DIFF_TYPE ? 'T' : k == TS_DIFF_NULL ? 'N' : '?';
}

/* The differences of the last compare as "path:K path:K" (K: V value, T
 * type, N null/missing), checking each item on the way. */
static void describe(struct ts_diff *d, long n, struct ts_buf *out, int line)
{
	ts_buf_reset(out);
	for (long i = 0; i < n; i++) {
		const struct ts_diff_item *it = &d->items[i];
		size_t pn;
		const char *p = ts_diff_path(d, (size_t)i, &pn);
		if (i)
			ts_buf_addch(out, ' ');
		ts_buf_add(out, p, pn);
		ts_buf_addf(out, ":%c", kind_ch(it->kind));
		/* a path jpath.h reads back */
		char *z = strndup(p, pn), err[256];
		struct ts_jpath jp;
		if (!check_(pn > 0 && ts_jpath_parse(&jp, z, err, sizeof(err)) == 0,
			    __FILE__, line, "item path parses"))
			fprintf(stderr, "    path '%s'\n", z);
		else
			ts_jpath_release(&jp);
		free(z);
		/* values: JSON, or missing (only for a null/missing difference) */
		check_((it->a.n == 0 || scans(it->a)) && (it->b.n == 0 || scans(it->b)),
		       __FILE__, line, "item values scan");
		check_(it->kind == TS_DIFF_NULL || (it->a.n && it->b.n), __FILE__, line,
		       "a missing side is a null difference");
		check_(!it->numeric || (it->a.n && it->b.n && it->kind == TS_DIFF_VALUE),
		       __FILE__, line, "numeric only for two numbers");
	}
}

/* The canonical form of v, checked: JSON, and its own canonical form --
 * unless the options may leave array elements out (--ignore 'a[0]', or
 * --only under arrays): the elements left are then written with their
 * places ([[0,x],[2,y]]), which the same options read differently. */
static void canon_of(struct fx *f, struct ts_buf *out, struct ts_span v, int line)
{
	struct ts_diff *d = &f->d;

	ts_buf_reset(out);
	check_(ts_diff_canon(d, out, v) == 0, __FILE__, line, "canon");
	struct ts_span c = {out->data, out->len};
	check_(scans(c), __FILE__, line, "canon scans");
	struct ts_buf again;
	ts_buf_init(&again, 0);
	check_(ts_diff_canon(d, &again, c) == 0, __FILE__, line, "canon again");
	if (!f->by_index && !f->o.nonly &&
	    !check_(again.len == c.n && !memcmp(again.data, c.p, c.n), __FILE__, line,
		    "canon idempotent")) {
		check_show_("canon ", c.p, c.n);
		check_show_("again ", again.data, again.len);
	}
	ts_buf_release(&again);
}

/* Compare a with b under f's options: their differences as describe()
 * writes them must be want.  The checks every pair gets run on the way;
 * f->d holds the result of compare(a, b) after. */
static void expect_(struct fx *f, const char *a, const char *b, const char *want, int line)
{
	struct ts_buf got, rev, ca, cb;
	struct ts_span sa = V(a), sb = V(b);
	long n, m;

	if (f->live)
		ts_diff_release(&f->d);
	ts_diff_init(&f->d, &f->o);
	f->live = 1;
	ts_buf_init(&got, 0);
	ts_buf_init(&rev, 0);
	ts_buf_init(&ca, 0);
	ts_buf_init(&cb, 0);

	CHECK(ts_diff_compare(&f->d, sa, sa) == 0);
	if (!has_tol(f)) {
		m = ts_diff_compare(&f->d, sb, sa);
		describe(&f->d, m, &rev, line);
	}
	n = ts_diff_compare(&f->d, sa, sb);
	describe(&f->d, n, &got, line);
	if (!check_(n >= 0 && !strcmp(got.data, want), __FILE__, line, "differences")) {
		fprintf(stderr, "    %s\n    %s\n", a, b);
		fprintf(stderr, "    got  \"%s\"\n    want \"%s\"\n", got.data, want);
	}
	if (!has_tol(f)) {
		if (!check_(!strcmp(got.data, rev.data), __FILE__, line, "the same both ways"))
			fprintf(stderr, "    a,b: \"%s\"\n    b,a: \"%s\"\n", got.data, rev.data);
		canon_of(f, &ca, sa, line);
		canon_of(f, &cb, sb, line);
		int ceq = ca.len == cb.len && !memcmp(ca.data, cb.data, ca.len);
		if (!check_(ceq == (n == 0), __FILE__, line, "equal canon <=> no difference")) {
			check_show_("canon a", ca.data, ca.len);
			check_show_("canon b", cb.data, cb.len);
		}
		/* the diff is reusable, and compare(a, b) again says the same */
		n = ts_diff_compare(&f->d, sa, sb);
		describe(&f->d, n, &rev, line);
		check_(!strcmp(got.data, rev.data), __FILE__, line, "again the same");
	}
	ts_buf_release(&got);
	ts_buf_release(&rev);
	ts_buf_release(&ca);
	ts_buf_release(&cb);
}

#define EXPECT(f, a, b, want) expect_((f), (a), (b), (want), __LINE__)

/* The canonical form of v under f's options must be want. */
static void canon_(struct fx *f, const char *v, const char *want, int line)
{
	struct ts_buf out;

	if (f->live)
		ts_diff_release(&f->d);
	ts_diff_init(&f->d, &f->o);
	f->live = 1;
	ts_buf_init(&out, 0);
	canon_of(f, &out, V(v), line);
	check_mem_(out.data, out.len, want, strlen(want), __FILE__, line, v);
	ts_buf_release(&out);
}

#define CANON(f, v, want) canon_((f), (v), (want), __LINE__)

/* ---- plain comparison ------------------------------------------------------- */

static void test_equal(void)
{
	struct fx f;

	fx_init(&f);
	EXPECT(&f, "{}", "{}", "");
	EXPECT(&f, "{\"a\":1,\"b\":[1,{\"x\":\"y\",\"z\":null}],\"c\":{\"p\":true,\"q\":false}}",
	       "{ \"c\" : {\"q\":false,\"p\":true}, \"b\":[1,{\"z\":null,\"x\":\"y\"}],\"a\":1 }",
	       "");
	/* numbers by value */
	EXPECT(&f, "{\"n\":1}", "{\"n\":1.0}", "");
	EXPECT(&f, "{\"n\":1}", "{\"n\":10e-1}", "");
	EXPECT(&f, "{\"n\":1.0}", "{\"n\":0.01E2}", "");
	EXPECT(&f, "{\"n\":0}", "{\"n\":-0.0}", "");
	EXPECT(&f, "{\"n\":12345678901234567890123}", "{\"n\":1.2345678901234567890123e22}", "");
	/* strings by decoded text */
	EXPECT(&f, "{\"s\":\"A/\"}", "{\"s\":\"\\u0041\\/\"}", "");
	EXPECT(&f, "{\"s\":\"\xc3\xa9\"}", "{\"s\":\"\\u00e9\"}", "");
	EXPECT(&f, "{\"s\":\"\xf0\x9f\x98\x80\"}", "{\"s\":\"\\ud83d\\ude00\"}", "");
	/* keys by decoded text; the last of a repeated key wins */
	EXPECT(&f, "{\"\\u0061\":1}", "{\"a\":1}", "");
	EXPECT(&f, "{\"a\":2,\"a\":1}", "{\"a\":1}", "");
	fx_release(&f);
}

static void test_differences(void)
{
	struct fx f;

	fx_init(&f);
	/* numbers exactly: doubles that are one do not make two numbers one */
	EXPECT(&f, "{\"n\":12345678901234567890123}", "{\"n\":12345678901234567890124}", "n:V");
	/* and their difference is the decimals', not the doubles' (0) */
	CHECK(f.d.items[0].numeric && f.d.items[0].delta == 1);
	EXPECT(&f, "{\"n\":1.5}", "{\"n\":4}", "n:V");
	CHECK(f.d.items[0].numeric && f.d.items[0].delta == 2.5);
	CHECK(f.d.items[0].a.n == 3 && !memcmp(f.d.items[0].a.p, "1.5", 3));
	CHECK(f.d.items[0].b.n == 1 && f.d.items[0].b.p[0] == '4');
	EXPECT(&f, "{\"n\":123.45}", "{\"n\":123.4}", "n:V");
	CHECK(f.d.items[0].numeric && f.d.items[0].delta == 0.05);
	EXPECT(&f, "{\"n\":1e400}", "{\"n\":-1e400}", "n:V");
	CHECK(f.d.items[0].numeric && isinf(f.d.items[0].delta));
	EXPECT(&f, "{\"n\":1e-400}", "{\"n\":0}", "n:V");
	CHECK(f.d.items[0].numeric && f.d.items[0].delta == 0);
	EXPECT(&f, "{\"n\":-1}", "{\"n\":1}", "n:V");
	CHECK(f.d.items[0].numeric && f.d.items[0].delta == 2);
	EXPECT(&f, "{\"s\":\"a\"}", "{\"s\":\"A\"}", "s:V");
	CHECK(!f.d.items[0].numeric);
	EXPECT(&f, "{\"s\":\"a \"}", "{\"s\":\"a\"}", "s:V");
	EXPECT(&f, "{\"b\":true}", "{\"b\":false}", "b:V");
	/* the deepest path, in the toolkit's syntax */
	EXPECT(&f, "{\"a\":{\"b\":[1,{\"c\":1}]}}", "{\"a\":{\"b\":[1,{\"c\":2}]}}", "a.b[1].c:V");
	EXPECT(&f, "{\"a\":{\"x y\":1}}", "{\"a\":{\"x y\":2}}", "a.\"x y\":V");
	EXPECT(&f, "{\"a\":{\"x.y\":1}}", "{\"a\":{\"x.y\":2}}", "a.\"x.y\":V");
	EXPECT(&f, "{\"a\":{\"q\\\"\":1}}", "{\"a\":{\"q\\\"\":2}}", "a.\"q\\\"\":V");
	EXPECT(&f, "{\"a\":{\"\":1}}", "{\"a\":{\"\":2}}", "a.\"\":V");
	EXPECT(&f, "{\"a\":{\"\xc3\xa9\":1}}", "{\"a\":{\"\\u00e9\":2}}", "a.\xc3\xa9:V");
	EXPECT(&f, "{\"a\":{\"k_-$@:9\":1}}", "{\"a\":{\"k_-$@:9\":2}}", "a.k_-$@:9:V");
	/* a first key that needs quotes: after a dot, as ts-toolkit(7) writes it */
	EXPECT(&f, "{\"x y\":{\"z\":1}}", "{\"x y\":{\"z\":2}}", ".\"x y\".z:V");
	EXPECT(&f, "{\"e\":[1,2]}", "{\"e\":[1,2,3]}", "e[2]:N");
	CHECK(f.d.items[0].a.n == 0 && f.d.items[0].b.n == 1);
	EXPECT(&f, "{\"e\":[[1],[2,[3]]]}", "{\"e\":[[1],[2,[4]]]}", "e[1][1][0]:V");
	/* several, in path order (keys by their bytes) */
	EXPECT(&f, "{\"c\":3,\"b\":2,\"a\":1,\"B\":0}", "{\"a\":2,\"b\":2,\"c\":4,\"B\":1}",
	       "B:V a:V c:V");
	EXPECT(&f, "{\"a\":[1,2,3],\"b\":{\"x\":1,\"y\":2}}", "{\"a\":[0,2,4],\"b\":{\"x\":0}}",
	       "a[0]:V a[2]:V b.x:V b.y:N");
	/* missing and null */
	EXPECT(&f, "{\"a\":null}", "{}", "a:N");
	CHECK(f.d.items[0].a.n == 4 && f.d.items[0].b.n == 0 && !f.d.items[0].numeric);
	EXPECT(&f, "{\"a\":1}", "{}", "a:N");
	EXPECT(&f, "{\"a\":null}", "{\"a\":1}", "a:N");
	EXPECT(&f, "{\"a\":null}", "{\"a\":{}}", "a:N");
	EXPECT(&f, "{\"a\":{\"b\":1}}", "{}", "a:N");
	EXPECT(&f, "{\"a\":[null]}", "{\"a\":[]}", "a[0]:N");
	/* type changes */
	EXPECT(&f, "{\"a\":1}", "{\"a\":\"1\"}", "a:T");
	EXPECT(&f, "{\"a\":true}", "{\"a\":1}", "a:T");
	EXPECT(&f, "{\"a\":[]}", "{\"a\":{}}", "a:T");
	EXPECT(&f, "{\"a\":[1]}", "{\"a\":\"[1]\"}", "a:T");
	EXPECT(&f, "{\"a\":{\"b\":1}}", "{\"a\":{\"b\":[1]}}", "a.b:T");
	/* the same bytes are equal under anything, and the root has a path */
	CHECK(ts_diff_compare(&f.d, V("{\"a\":1}"), V("{\"a\":1}")) == 0);
	struct ts_buf b;
	ts_buf_init(&b, 0);
	CHECK(ts_diff_path_text(&b, NULL, 0) == 0);
	CHECK_STR(b.data, ".");
	ts_buf_release(&b);
	fx_release(&f);
}

/* The path text of a parsed path: the same steps when read back. */
static void test_path_text(void)
{
	static const char *const paths[] = {
		"a", "a.b", "items[2].qty", "items[].qty", "\"x y\"", "a.\"x y\".b", "[0]",
		"a[-1]", "\"\"", "\"a\\\"b\"", "\"\\u0000\"", "\xc3\xa9t\xc3\xa9", "\"1\"", "a1",
		"\"a\\\\b\"", ".[\"q r\"]",
	};
	static const char *const want[] = {
		"a", "a.b", "items[2].qty", "items[].qty", ".\"x y\"", "a.\"x y\".b", "[0]",
		"a[-1]", ".\"\"", ".\"a\\\"b\"", ".\"\\u0000\"", "\xc3\xa9t\xc3\xa9", "1", "a1",
		".\"a\\\\b\"", ".\"q r\"",
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct ts_jpath jp, back;
		struct ts_buf b;
		char err[256];
		parse(&jp, paths[i]);
		ts_buf_init(&b, 0);
		CHECK(ts_diff_path_text(&b, jp.steps, jp.n) == 0);
		CHECK_STR(b.data, want[i]);
		if (CHECK(ts_jpath_parse(&back, b.data, err, sizeof(err)) == 0)) {
			int same = back.n == jp.n;
			for (size_t k = 0; same && k < jp.n; k++)
				same = back.steps[k].kind == jp.steps[k].kind &&
				       back.steps[k].index == jp.steps[k].index &&
				       back.steps[k].keylen == jp.steps[k].keylen &&
				       (!jp.steps[k].keylen ||
					!memcmp(back.steps[k].key, jp.steps[k].key, jp.steps[k].keylen));
			if (!CHECK(same))
				fprintf(stderr, "    %s -> %s\n", paths[i], b.data);
			ts_jpath_release(&back);
		}
		ts_jpath_release(&jp);
		ts_buf_release(&b);
	}
}

/* ---- options ------------------------------------------------------------------ */

static void test_ignore(void)
{
	struct fx f;

	fx_init(&f);
	fx_ignore(&f, "b");
	fx_ignore(&f, "items[].x");
	fx_ignore(&f, "n.\"odd key\"");
	EXPECT(&f, "{\"a\":1,\"b\":2}", "{\"a\":1,\"b\":3}", "");
	EXPECT(&f, "{\"a\":1}", "{\"a\":1,\"b\":{\"x\":[1]}}", "");
	EXPECT(&f, "{\"a\":1,\"b\":null}", "{\"a\":2}", "a:V");
	/* a path and everything under it, and only it */
	EXPECT(&f, "{\"b\":{\"c\":1},\"bb\":1}", "{\"b\":{\"c\":2},\"bb\":2}", "bb:V");
	EXPECT(&f, "{\"items\":[{\"x\":1,\"y\":1},{\"x\":2,\"y\":2}]}",
	       "{\"items\":[{\"x\":9,\"y\":1},{\"x\":8,\"y\":3}]}", "items[1].y:V");
	EXPECT(&f, "{\"items\":[{\"x\":1}]}", "{\"items\":[{}]}", "");
	EXPECT(&f, "{\"items\":[{\"x\":1}]}", "{\"items\":[]}", "items[0]:N");
	EXPECT(&f, "{\"items\":[{\"x\":{\"deep\":1}}]}", "{\"items\":[{\"x\":2}]}", "");
	EXPECT(&f, "{\"n\":{\"odd key\":1,\"k\":1}}", "{\"n\":{\"odd key\":2,\"k\":1}}", "");
	CANON(&f, "{\"b\":1,\"a\":[2,1],\"items\":[{\"x\":1,\"y\":2},{\"x\":3}]}",
	      "{\"a\":[2,1],\"items\":[{\"y\":2},{}]}");
	fx_release(&f);

	/* an element by index */
	fx_init(&f);
	fx_ignore(&f, "a[0]");
	EXPECT(&f, "{\"a\":[1,2]}", "{\"a\":[9,2]}", "");
	EXPECT(&f, "{\"a\":[1,2]}", "{\"a\":[9,3]}", "a[1]:V");
	EXPECT(&f, "{\"a\":[1]}", "{\"a\":[]}", "");
	fx_release(&f);

	/* a negative index counts from the end */
	fx_init(&f);
	fx_ignore(&f, "a[-1]");
	fx_ignore(&f, "b[-2].x");
	EXPECT(&f, "{\"a\":[1,2]}", "{\"a\":[1,3]}", "");
	EXPECT(&f, "{\"a\":[1,2]}", "{\"a\":[0,3]}", "a[0]:V");
	EXPECT(&f, "{\"a\":[]}", "{\"a\":[]}", "");
	EXPECT(&f, "{\"b\":[{\"x\":1,\"y\":1},{\"x\":1}]}", "{\"b\":[{\"x\":2,\"y\":1},{\"x\":1}]}", "");
	EXPECT(&f, "{\"b\":[{\"x\":1,\"y\":1},{\"x\":1}]}", "{\"b\":[{\"x\":1,\"y\":2},{\"x\":2}]}",
	       "b[0].y:V b[1].x:V");
	/* a's elements with their places (one is left out); b's all there */
	CANON(&f, "{\"a\":[1,2,3],\"b\":[{\"x\":1},{\"x\":2}]}",
	      "{\"a\":[[0,1],[1,2]],\"b\":[{},{\"x\":2}]}");
	fx_release(&f);

	/* the whole record */
	fx_init(&f);
	fx_ignore(&f, ".");
	EXPECT(&f, "{\"a\":1}", "{\"b\":[2]}", "");
	fx_release(&f);
}

static void test_only(void)
{
	struct fx f;

	fx_init(&f);
	fx_only(&f, "a.b");
	fx_only(&f, "items[].x");
	EXPECT(&f, "{\"a\":{\"b\":1,\"c\":1},\"z\":1}", "{\"a\":{\"b\":1,\"c\":2},\"z\":2}", "");
	EXPECT(&f, "{\"a\":{\"b\":1}}", "{\"a\":{\"b\":2}}", "a.b:V");
	EXPECT(&f, "{\"a\":{\"b\":{\"d\":1}}}", "{\"a\":{\"b\":{\"d\":2}}}", "a.b.d:V");
	EXPECT(&f, "{\"a\":{\"b\":1}}", "{\"a\":{}}", "a.b:N");
	EXPECT(&f, "{\"a\":{\"b\":1}}", "{}", "a.b:N");
	/* an --only path deeper than a scalar on one side: nothing is there */
	EXPECT(&f, "{\"a\":1}", "{\"a\":{\"b\":2}}", "a.b:N");
	EXPECT(&f, "{\"a\":1}", "{\"a\":2}", "");
	EXPECT(&f, "{\"a\":1}", "{\"a\":{\"c\":2}}", "");
	EXPECT(&f, "{\"a\":[1]}", "{\"a\":\"x\"}", "");
	EXPECT(&f, "{\"a\":null}", "{\"a\":{\"b\":null}}", "a.b:N");
	EXPECT(&f, "{\"items\":[{\"x\":1,\"y\":1},{\"x\":2}]}",
	       "{\"items\":[{\"x\":1,\"y\":2},{\"x\":3}]}", "items[1].x:V");
	EXPECT(&f, "{\"items\":[{\"x\":1},{\"y\":1}]}", "{\"items\":[{\"x\":1}]}", "");
	EXPECT(&f, "{\"items\":[{\"x\":1},{\"x\":1}]}", "{\"items\":[{\"x\":1}]}", "items[1].x:N");
	EXPECT(&f, "{\"items\":{\"k\":{\"x\":1}}}", "{\"items\":{\"k\":{\"x\":2}}}", "items.k.x:V");
	/* items under --only: the elements left, with their places */
	CANON(&f, "{\"z\":1,\"a\":{\"c\":1,\"b\":[1]},\"items\":[{\"y\":1},{\"x\":null,\"y\":2}]}",
	      "{\"a\":{\"b\":[1]},\"items\":[[1,{\"x\":null}]]}");
	CANON(&f, "{\"a\":1}", "{}");
	fx_release(&f);

	/* --only and --ignore together: the ignored part of an --only path */
	fx_init(&f);
	fx_only(&f, "a");
	fx_ignore(&f, "a.secret");
	EXPECT(&f, "{\"a\":{\"secret\":1,\"v\":1},\"b\":1}", "{\"a\":{\"secret\":2,\"v\":1},\"b\":2}", "");
	EXPECT(&f, "{\"a\":{\"secret\":1,\"v\":1}}", "{\"a\":{\"v\":2}}", "a.v:V");
	fx_release(&f);
}

static void test_tolerance(void)
{
	struct fx f;

	/* absolute: |a - b| <= abs (values exact in binary, so the boundary
	 * is the boundary) */
	fx_init(&f);
	fx_abs(&f, "0.5");
	EXPECT(&f, "{\"v\":1}", "{\"v\":1.5}", "");
	EXPECT(&f, "{\"v\":1.5}", "{\"v\":1}", "");
	EXPECT(&f, "{\"v\":-1}", "{\"v\":-0.5}", "");
	EXPECT(&f, "{\"v\":1}", "{\"v\":1.5000001}", "v:V");
	CHECK(f.d.items[0].numeric && f.d.items[0].delta == 0.5000001);
	EXPECT(&f, "{\"v\":1}", "{\"v\":0.49999}", "v:V");
	EXPECT(&f, "{\"a\":[{\"v\":2}]}", "{\"a\":[{\"v\":2.25}]}", "");
	/* tolerance is for numbers only */
	EXPECT(&f, "{\"v\":\"1\"}", "{\"v\":\"1.2\"}", "v:V");
	EXPECT(&f, "{\"v\":1}", "{\"v\":\"1.2\"}", "v:T");
	fx_release(&f);

	/* relative to the target: |a - b| <= rel * |b| */
	fx_init(&f);
	fx_rel(&f, "0.25");
	EXPECT(&f, "{\"v\":5}", "{\"v\":4}", "");
	EXPECT(&f, "{\"v\":3}", "{\"v\":4}", "");
	EXPECT(&f, "{\"v\":-5}", "{\"v\":-4}", "");
	EXPECT(&f, "{\"v\":5.0001}", "{\"v\":4}", "v:V");
	EXPECT(&f, "{\"v\":4}", "{\"v\":5}", "");     /* 1 <= 1.25 */
	EXPECT(&f, "{\"v\":4}", "{\"v\":3}", "v:V");   /* 1 > 0.75: relative to b */
	EXPECT(&f, "{\"v\":0.001}", "{\"v\":0}", "v:V");
	fx_release(&f);

	/* both: abs + rel * |b| */
	fx_init(&f);
	fx_abs(&f, "1");
	fx_rel(&f, "0.25");
	EXPECT(&f, "{\"v\":6}", "{\"v\":4}", "");
	EXPECT(&f, "{\"v\":2}", "{\"v\":4}", "");
	EXPECT(&f, "{\"v\":6.001}", "{\"v\":4}", "v:V");
	fx_release(&f);

	/* per path: its own overrides the global one, the last given wins, a
	 * path covers what is under it, [] any element */
	fx_init(&f);
	fx_abs(&f, "0.5");
	fx_tol(&f, "p", 0, "2");
	fx_tol(&f, "q", 0, "0");
	fx_tol(&f, "r", 0, "3");
	fx_tol(&f, "r", 0, "0.25");
	fx_tol(&f, "items[].price", 0, "10");
	fx_tol(&f, "s", 1, "0.5");
	EXPECT(&f, "{\"p\":1,\"o\":1}", "{\"p\":3,\"o\":1.5}", "");
	EXPECT(&f, "{\"p\":1,\"o\":1}", "{\"p\":3.5,\"o\":2}", "o:V p:V");
	EXPECT(&f, "{\"q\":1}", "{\"q\":1.25}", "q:V");
	EXPECT(&f, "{\"r\":1}", "{\"r\":1.25}", "");
	EXPECT(&f, "{\"r\":1}", "{\"r\":1.5}", "r:V");
	EXPECT(&f, "{\"p\":{\"deep\":[1]}}", "{\"p\":{\"deep\":[2.5]}}", "");
	EXPECT(&f, "{\"items\":[{\"price\":10,\"n\":1},{\"price\":0}]}",
	       "{\"items\":[{\"price\":20,\"n\":2},{\"price\":-10}]}", "items[0].n:V");
	EXPECT(&f, "{\"items\":[{\"price\":10}]}", "{\"items\":[{\"price\":20.5}]}", "items[0].price:V");
	/* a path with only rel keeps the global abs: 0.5 + 0.5 * 2 */
	EXPECT(&f, "{\"s\":3.5}", "{\"s\":2}", "");
	EXPECT(&f, "{\"s\":3.5001}", "{\"s\":2}", "s:V");
	fx_release(&f);

	/* decided on the exact decimals, not on doubles: 100.01 is within 0.01
	 * of 100 (in doubles it is not); digits past a double's precision
	 * count; the decimal text of the tolerance is what is meant */
	fx_init(&f);
	fx_abs(&f, "0.01");
	fx_tol(&f, "big", 0, "0.5");
	fx_tol(&f, "r", 1, "0.1");
	fx_tol(&f, "r", 0, "0");
	EXPECT(&f, "{\"v\":100.01}", "{\"v\":100}", "");
	EXPECT(&f, "{\"v\":99.99}", "{\"v\":100}", "");
	EXPECT(&f, "{\"v\":1.1}", "{\"v\":1.09}", "");
	EXPECT(&f, "{\"v\":100.0100000000000000000001}", "{\"v\":100}", "v:V");
	EXPECT(&f, "{\"v\":-0.005}", "{\"v\":0.005}", "");
	EXPECT(&f, "{\"v\":-0.005}", "{\"v\":0.00500000000000000001}", "v:V");
	EXPECT(&f, "{\"big\":12345678901234567890.5}", "{\"big\":12345678901234567890}", "");
	EXPECT(&f, "{\"big\":12345678901234567891}", "{\"big\":12345678901234567890}", "big:V");
	EXPECT(&f, "{\"big\":1e30}", "{\"big\":1000000000000000000000000000000.5}", "");
	EXPECT(&f, "{\"r\":110}", "{\"r\":100}", "");
	EXPECT(&f, "{\"r\":88}", "{\"r\":80}", "");
	EXPECT(&f, "{\"r\":110.000000000000000000001}", "{\"r\":100}", "r:V");
	EXPECT(&f, "{\"r\":-1.1e-300}", "{\"r\":-1e-300}", "");
	EXPECT(&f, "{\"r\":-1.11e-300}", "{\"r\":-1e-300}", "r:V");
	/* far apart in scale: still not within */
	EXPECT(&f, "{\"v\":1e3000}", "{\"v\":1}", "v:V");
	EXPECT(&f, "{\"v\":1e-3000}", "{\"v\":0}", "");
	fx_release(&f);
}

static void test_fold(void)
{
	struct fx f;

	fx_init(&f);
	EXPECT(&f, "{\"s\":\"Hello\"}", "{\"s\":\"hELLO\"}", "s:V");
	EXPECT(&f, "{\"s\":\"\xc3\x89\"}", "{\"s\":\"\xc3\xa9\"}", "s:V");
	fx_release(&f);

	fx_init(&f);
	f.o.fold = 1;
	EXPECT(&f, "{\"s\":\"Hello\"}", "{\"s\":\"hELLO\"}", "");
	EXPECT(&f, "{\"s\":\"\xc3\x89t\xc3\x89\"}", "{\"s\":\"\xc3\xa9T\xc3\xa9\"}", "");
	EXPECT(&f, "{\"s\":\"\\u00c9\"}", "{\"s\":\"\xc3\xa9\"}", "");
	EXPECT(&f, "{\"s\":\"\xce\xa3\"}", "{\"s\":\"\xcf\x83\"}", "");         /* Σ σ */
	EXPECT(&f, "{\"s\":\"\xd0\x96\"}", "{\"s\":\"\xd0\xb6\"}", "");         /* Ж ж */
	EXPECT(&f, "{\"s\":\"\xe2\x84\xaa\"}", "{\"s\":\"k\"}", "");            /* Kelvin sign */
	EXPECT(&f, "{\"s\":\"\xf0\x90\x90\x80\"}", "{\"s\":\"\xf0\x90\x90\xa8\"}", ""); /* Deseret */
	/* simple folding: one code point for one, so ß is not ss */
	EXPECT(&f, "{\"s\":\"Stra\xc3\x9f" "e\"}", "{\"s\":\"STRASSE\"}", "s:V");
	EXPECT(&f, "{\"s\":\"a\"}", "{\"s\":\"b\"}", "s:V");
	EXPECT(&f, "{\"s\":\"a\"}", "{\"s\":\" a\"}", "s:V");
	/* strings only: not keys, and a string is still not a number */
	EXPECT(&f, "{\"A\":1}", "{\"a\":1}", "A:N a:N");
	EXPECT(&f, "{\"s\":[\"X\",{\"t\":\"Y\"}]}", "{\"s\":[\"x\",{\"t\":\"y\"}]}", "");
	CANON(&f, "{\"B\":\"\xc3\x89Z\",\"a\":[\"Q\"]}", "{\"B\":\"\xc3\xa9z\",\"a\":[\"q\"]}");
	fx_release(&f);
}

static void test_trim(void)
{
	struct fx f;

	fx_init(&f);
	f.o.trim = 1;
	EXPECT(&f, "{\"s\":\" a\\t\"}", "{\"s\":\"a\"}", "");
	EXPECT(&f, "{\"s\":\"\\n\\r\\u000b\\f a \"}", "{\"s\":\"a\"}", "");
	EXPECT(&f, "{\"s\":\"  \"}", "{\"s\":\"\"}", "");
	EXPECT(&f, "{\"s\":\"a b\"}", "{\"s\":\"a  b\"}", "s:V");
	EXPECT(&f, "{\"s\":\"\xc2\xa0" "a\"}", "{\"s\":\"a\"}", "s:V"); /* not U+00A0 */
	EXPECT(&f, "{\"s\":\" A \"}", "{\"s\":\"a\"}", "s:V");
	EXPECT(&f, "{\" k\":1}", "{\"k\":1}", ".\" k\":N k:N");
	CANON(&f, "{\"s\":\" x \",\"t\":[\"\\ty\"]}", "{\"s\":\"x\",\"t\":[\"y\"]}");
	fx_release(&f);

	fx_init(&f);
	f.o.trim = 1;
	f.o.fold = 1;
	EXPECT(&f, "{\"s\":\" A \"}", "{\"s\":\"a\"}", "");
	EXPECT(&f, "{\"s\":\" \xc3\x89\\t\"}", "{\"s\":\"\xc3\xa9\"}", "");
	fx_release(&f);
}

static void test_unordered(void)
{
	struct fx f;

	fx_init(&f);
	EXPECT(&f, "{\"a\":[1,2]}", "{\"a\":[2,1]}", "a[0]:V a[1]:V");
	fx_release(&f);

	fx_init(&f);
	f.o.unordered = 1;
	EXPECT(&f, "{\"a\":[1,2,3]}", "{\"a\":[3,1,2]}", "");
	EXPECT(&f, "{\"a\":[1,2]}", "{\"a\":[2.0,1e0]}", "");
	EXPECT(&f, "{\"a\":[[1,2],[3]]}", "{\"a\":[[3],[2,1]]}", "");
	EXPECT(&f, "{\"a\":[{\"x\":1,\"y\":[2,1]},\"s\"]}", "{\"a\":[\"s\",{\"y\":[1,2],\"x\":1}]}", "");
	EXPECT(&f, "{\"a\":[]}", "{\"a\":[]}", "");
	/* multisets: counts matter; a difference is the whole array */
	EXPECT(&f, "{\"a\":[1,1,2]}", "{\"a\":[1,2,2]}", "a:V");
	CHECK(f.d.items[0].a.n == 7 && f.d.items[0].b.n == 7 && !f.d.items[0].numeric);
	EXPECT(&f, "{\"a\":[1,2]}", "{\"a\":[1,2,2]}", "a:V");
	EXPECT(&f, "{\"a\":[1]}", "{\"a\":[\"1\"]}", "a:V");
	EXPECT(&f, "{\"a\":[1]}", "{\"a\":{}}", "a:T");
	EXPECT(&f, "{\"o\":{\"a\":[1,2],\"b\":1}}", "{\"o\":{\"a\":[2,1],\"b\":2}}", "o.b:V");
	CANON(&f, "{\"a\":[3,\"x\",[2,1],{\"k\":[\"b\",\"a\"]},null,1]}",
	      "{\"a\":[\"x\",1,3,[1,2],null,{\"k\":[\"a\",\"b\"]}]}");
	fx_release(&f);

	/* with --ignore under the arrays: multisets of what is left */
	fx_init(&f);
	f.o.unordered = 1;
	fx_ignore(&f, "a[].y");
	EXPECT(&f, "{\"a\":[{\"x\":1,\"y\":1},{\"x\":2,\"y\":2}]}",
	       "{\"a\":[{\"x\":2,\"y\":3},{\"x\":1,\"y\":4}]}", "");
	EXPECT(&f, "{\"a\":[{\"x\":1},{\"x\":2}]}", "{\"a\":[{\"x\":2},{\"x\":2}]}", "a:V");
	fx_release(&f);
}

static void test_null_missing(void)
{
	struct fx f;

	fx_init(&f);
	f.o.null_missing = 1;
	EXPECT(&f, "{\"a\":null}", "{}", "");
	EXPECT(&f, "{\"a\":{\"b\":null}}", "{\"a\":{}}", "");
	EXPECT(&f, "{\"a\":[{\"b\":null,\"c\":1}]}", "{\"a\":[{\"c\":1}]}", "");
	/* members only: [null] is not [] */
	EXPECT(&f, "{\"a\":[null]}", "{\"a\":[]}", "a[0]:N");
	EXPECT(&f, "{\"a\":[1,null]}", "{\"a\":[1]}", "a[1]:N");
	/* null is still not a value */
	EXPECT(&f, "{\"a\":null}", "{\"a\":1}", "a:N");
	EXPECT(&f, "{\"a\":null}", "{\"a\":{}}", "a:N");
	CANON(&f, "{\"a\":null,\"b\":[null,{\"c\":null}]}", "{\"b\":[null,{}]}");
	/* the last of a repeated key wins, and then it is null */
	EXPECT(&f, "{\"a\":1,\"a\":null}", "{}", "");
	EXPECT(&f, "{\"a\":1,\"a\":null}", "{\"a\":1}", "a:N");
	EXPECT(&f, "{\"a\":null,\"a\":1}", "{\"a\":1}", "");
	CANON(&f, "{\"a\":1,\"a\":null,\"b\":{\"c\":null,\"c\":2}}", "{\"b\":{\"c\":2}}");
	fx_release(&f);
}

static void test_coerce(void)
{
	struct fx f;

	fx_init(&f);
	EXPECT(&f, "{\"a\":\"1\"}", "{\"a\":1}", "a:T");
	fx_release(&f);

	fx_init(&f);
	f.o.coerce = 1;
	EXPECT(&f, "{\"a\":\"1\"}", "{\"a\":1}", "");
	EXPECT(&f, "{\"a\":\"1.0\"}", "{\"a\":1}", "");
	EXPECT(&f, "{\"a\":\"1e2\"}", "{\"a\":100}", "");
	EXPECT(&f, "{\"a\":\"-0.5\"}", "{\"a\":-5e-1}", "");
	EXPECT(&f, "{\"a\":\"\\u0031\"}", "{\"a\":1}", "");
	EXPECT(&f, "{\"a\":\"1\"}", "{\"a\":\"1.0\"}", "");
	EXPECT(&f, "{\"a\":[\"2\",{\"b\":\"3\"}]}", "{\"a\":[2,{\"b\":3}]}", "");
	EXPECT(&f, "{\"a\":\"1\"}", "{\"a\":2}", "a:V");
	CHECK(f.d.items[0].numeric && f.d.items[0].delta == 1);
	/* not JSON numbers: they stay strings */
	EXPECT(&f, "{\"a\":\" 2 \"}", "{\"a\":2}", "a:T");
	EXPECT(&f, "{\"a\":\"x\"}", "{\"a\":1}", "a:T");
	EXPECT(&f, "{\"a\":\"\"}", "{\"a\":0}", "a:T");
	EXPECT(&f, "{\"a\":\"0x10\"}", "{\"a\":16}", "a:T");
	EXPECT(&f, "{\"a\":\"+1\"}", "{\"a\":1}", "a:T");
	EXPECT(&f, "{\"a\":\"01\"}", "{\"a\":1}", "a:T");
	EXPECT(&f, "{\"a\":\".5\"}", "{\"a\":0.5}", "a:T");
	EXPECT(&f, "{\"a\":\"1.\"}", "{\"a\":1}", "a:T");
	EXPECT(&f, "{\"a\":\"-\"}", "{\"a\":\"-\"}", "");
	EXPECT(&f, "{\"a\":\"true\"}", "{\"a\":true}", "a:T");
	EXPECT(&f, "{\"a\":\"null\"}", "{\"a\":null}", "a:N");
	CANON(&f, "{\"a\":\"1.50\",\"b\":\"x\",\"c\":[\"-0\"]}", "{\"a\":1.5,\"b\":\"x\",\"c\":[0]}");
	fx_release(&f);

	fx_init(&f);
	f.o.coerce = 1;
	f.o.trim = 1;
	EXPECT(&f, "{\"a\":\" 2 \"}", "{\"a\":2}", "");
	EXPECT(&f, "{\"a\":\"\\t2.0\\n\"}", "{\"a\":\"2\"}", "");
	EXPECT(&f, "{\"a\":\" 2 x\"}", "{\"a\":2}", "a:T");
	fx_release(&f);

	/* with a tolerance */
	fx_init(&f);
	f.o.coerce = 1;
	fx_abs(&f, "0.5");
	EXPECT(&f, "{\"a\":\"1.5\"}", "{\"a\":1}", "");
	EXPECT(&f, "{\"a\":\"1.75\"}", "{\"a\":1}", "a:V");
	fx_release(&f);
}

/* ---- the canonical form -------------------------------------------------------- */

static void test_canon(void)
{
	struct fx f;

	fx_init(&f);
	CANON(&f, "{\"b\":1.0,\"a\":[2,1],\"c\":\"\\u0041\",\"a\":[3]}", "{\"a\":[3],\"b\":1,\"c\":\"A\"}");
	CANON(&f, "{ }", "{}");
	fx_release(&f);

	/* equal canonical forms exactly when compare finds nothing, for
	 * every pair of a set of records, under each set of options */
	static const char *const recs[] = {
		"{}",
		"{\"a\":null}",
		"{\"a\":1}",
		"{\"a\":1.0}",
		"{\"a\":\"1\"}",
		"{\"a\":\" 1 \"}",
		"{\"a\":\"A\"}",
		"{\"a\":\"a \"}",
		"{\"a\":\"\xc3\x89\"}",
		"{\"a\":\"\xc3\xa9\"}",
		"{\"a\":[1,2]}",
		"{\"a\":[2,1]}",
		"{\"a\":[null]}",
		"{\"a\":[]}",
		"{\"a\":{\"b\":null}}",
		"{\"a\":{}}",
		"{\"a\":{\"b\":1,\"c\":2}}",
		"{\"a\":{\"c\":2,\"b\":1.0}}",
		"{\"a\":{\"b\":\"1\",\"c\":3}}",
		"{\"a\":1,\"x\":{\"y\":[{\"z\":\"Q\"}]}}",
		"{\"a\":1,\"x\":{\"y\":[{\"z\":\"q\"}]}}",
		"{\"a\":1,\"x\":{\"y\":[{\"z\":\"q\",\"w\":null}]}}",
		"{\"x\":{\"y\":[{\"z\":\"q\"},{\"z\":1}]}}",
		"{\"x\":{\"y\":[{\"z\":1},{\"z\":\"q\"}]}}",
		"{\"x\":{\"y\":7}}",
		"{\"x\":[{\"y\":1}]}",
	};
	size_t nr = sizeof(recs) / sizeof(recs[0]);
	for (int set = 0; set < 9; set++) {
		fx_init(&f);
		switch (set) {
		case 1: f.o.fold = 1; break;
		case 2: f.o.trim = 1; f.o.coerce = 1; break;
		case 3: f.o.unordered = 1; break;
		case 4: f.o.null_missing = 1; break;
		case 5: fx_ignore(&f, "x.y[].z"); break;
		case 6: fx_only(&f, "a.b"); break;
		case 7: fx_only(&f, "x.y[].z"); f.o.fold = 1; break;
		case 8:
			f.o.fold = f.o.trim = f.o.unordered = f.o.null_missing = f.o.coerce = 1;
			fx_ignore(&f, "a.c");
			break;
		}
		for (size_t i = 0; i < nr; i++)
			for (size_t j = 0; j < nr; j++) {
				unsigned failed = check_failed;
				struct ts_buf got;
				ts_buf_init(&got, 0);
				/* want: whatever compare says; expect_ checks the rest */
				if (f.live)
					ts_diff_release(&f.d);
				ts_diff_init(&f.d, &f.o);
				f.live = 1;
				long n = ts_diff_compare(&f.d, V(recs[i]), V(recs[j]));
				describe(&f.d, n, &got, __LINE__);
				EXPECT(&f, recs[i], recs[j], got.data);
				if (check_failed != failed)
					fprintf(stderr, "    (option set %d)\n", set);
				ts_buf_release(&got);
			}
		fx_release(&f);
	}
}

/* Cases the fuzzer found (fixed in lib/diff.c, kept as they were found). */
static void test_found(void)
{
	struct fx f;

	/* --only under array elements with --array-order ignore: still a
	 * multiset (diff.c, cmp_value, the sc == 1 branch walks by position) */
	fx_init(&f);
	f.o.unordered = 1;
	fx_only(&f, "a[].x");
	EXPECT(&f, "{\"a\":[{\"x\":1},{\"x\":2}]}", "{\"a\":[{\"x\":2},{\"x\":1}]}", "");
	fx_release(&f);

	/* --only under a container that is an array on one side and an object
	 * on the other: the array's side is not looked at (the sc == 1 branch
	 * walks only the object) */
	fx_init(&f);
	fx_only(&f, "a[].x");
	EXPECT(&f, "{\"a\":[{\"x\":1}]}", "{\"a\":{}}", "a[0].x:N");
	fx_release(&f);

	/* --ignore-case: towlower() maps U+023A to U+2C65, one byte longer in
	 * UTF-8; str_view() keeps the original then */
	fx_init(&f);
	f.o.fold = 1;
	EXPECT(&f, "{\"s\":\"\xc8\xba\"}", "{\"s\":\"\xe2\xb1\xa5\"}", "");
	fx_release(&f);

	/* a negative index on arrays of two lengths: [-1] is each side's last
	 * element (as the canonical form has it), so a[:-1] is compared with
	 * b[:-1]; cmp_array() takes the source's length for both sides, which
	 * makes compare(a, b) 0 and compare(b, a) 1 */
	fx_init(&f);
	fx_ignore(&f, "a[-1]");
	EXPECT(&f, "{\"a\":[1,2,3]}", "{\"a\":[1,2]}", "a[1]:N");
	fx_release(&f);

	/* the exponent of a number is read by strtol() past the number's end
	 * (bd_parse()): a coerced number in scratch memory is followed by
	 * what an earlier comparison left there, so "1e0" is read as 1e05
	 * after a comparison of "1e05" */
	fx_init(&f);
	f.o.coerce = 1;
	fx_abs(&f, "0.5");
	EXPECT(&f, "{\"v\":\"1e0\"}", "{\"v\":1.25}", "");
	EXPECT(&f, "{\"v\":\"1e05\"}", "{\"v\":2}", "v:V");
	EXPECT(&f, "{\"v\":\"1e0\"}", "{\"v\":1.25}", "");
	fx_release(&f);
	/* ... and without a tolerance, the difference shown (exact_delta()) */
	fx_init(&f);
	f.o.coerce = 1;
	EXPECT(&f, "{\"v\":\"1e05\"}", "{\"v\":2}", "v:V");
	EXPECT(&f, "{\"v\":\"1e0\"}", "{\"v\":3}", "v:V");
	CHECK(f.d.items[0].numeric && f.d.items[0].delta == 2);
	fx_release(&f);
}

int main(void)
{
	setlocale(LC_CTYPE, "C.UTF-8"); /* as ts-diff does: --ignore-case folds with towlower() */
	test_equal();
	test_differences();
	test_path_text();
	test_ignore();
	test_only();
	test_tolerance();
	test_fold();
	test_trim();
	test_unordered();
	test_null_missing();
	test_coerce();
	test_canon();
	test_found();
	return check_done();
}
