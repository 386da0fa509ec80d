/* test_jpath.c — lib/jpath.h: parsing every form, errors, evaluation. */
#include <stdlib.h>

#include "check.h"
#include "jpath.h"

static const char doc[] =
	"{\"a\":{\"b\":[10,20,{\"c\":\"x\"}]},\"k y\":1,\"e\\\"q\":2,"
	"\"arr\":[1, 2 ,3],\"o\":{\"x\":1,\"y\":{\"z\":true}},\"empty\":[],"
	"\"n\":null,\"\\u00e9\":\"accent\",\"dup\":1,\"dup\":2,"
	"\"Records\":[{\"id\":\"r1\",\"tags\":[\"p\",\"q\"]},{\"id\":\"r2\",\"tags\":[]},"
	"{\"id\":\"r3\",\"tags\":[\"s\"]}]}";

/* All values path selects in doc, joined by ' ' (caller frees). */
struct collect {
	struct ts_buf b;
	int stop_after;
	int calls;
};

static int collect_fn(void *ud, struct ts_span v)
{
	struct collect *c = ud;

	if (c->b.len)
		ts_buf_addch(&c->b, ' ');
	ts_buf_add(&c->b, v.p, v.n);
	return ++c->calls == c->stop_after ? 42 : 0;
}

static char *eval(const char *path, int *rc)
{
	struct ts_jpath jp;
	struct collect c = {.stop_after = -1};
	char err[256];
	struct ts_json_keys idx;
	struct ts_json_scan sc;
	struct ts_span a, b;

	if (ts_jpath_parse(&jp, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "    %s\n", err);
		return NULL;
	}
	/* looking the first key up in the scan's index gives the same value */
	CHECK(ts_json_scan_keys(doc, doc + sizeof(doc) - 1, 1, 0, &idx, &sc) == TS_JSON_OK);
	int ga = ts_jpath_get(&jp, (struct ts_span){doc, sizeof(doc) - 1}, &a);
	int gb = ts_jpath_get_indexed(&jp, (struct ts_span){doc, sizeof(doc) - 1},
				      &idx, &b);
	if (!CHECK(ga == gb && (!ga || (a.p == b.p && a.n == b.n))))
		fprintf(stderr, "    path: %s\n", path);
	ts_buf_init(&c.b, 0);
	int r = ts_jpath_each(&jp, (struct ts_span){doc, sizeof(doc) - 1},
			      collect_fn, &c);
	if (rc)
		*rc = r;
	ts_jpath_release(&jp);
	return ts_buf_detach(&c.b, NULL);
}

#define EVAL(path, want)                             \
	do {                                         \
		char *got_ = eval(path, NULL);       \
		CHECK_STR(got_, want);               \
		free(got_);                          \
	} while (0)

static void test_parse(void)
{
	struct ts_jpath jp;
	char err[256];

	CHECK(ts_jpath_parse(&jp, ".", err, sizeof(err)) == 0);
	CHECK(jp.n == 0);
	CHECK_STR(jp.text, ".");
	CHECK(!ts_jpath_is_multi(&jp));
	size_t kl;
	CHECK(ts_jpath_last_key(&jp, &kl) == NULL);
	ts_jpath_release(&jp);

	CHECK(ts_jpath_parse(&jp, ".a.b_c-d.$x", err, sizeof(err)) == 0);
	if (CHECK(jp.n == 3)) {
		CHECK(jp.steps[0].kind == TS_JP_KEY);
		CHECK_STR(jp.steps[0].key, "a");
		CHECK_STR(jp.steps[1].key, "b_c-d");
		CHECK_STR(jp.steps[2].key, "$x");
		CHECK_STR(ts_jpath_last_key(&jp, &kl), "$x");
		CHECK(kl == 2);
	}
	ts_jpath_release(&jp);

	/* "a.b" without the leading dot */
	CHECK(ts_jpath_parse(&jp, "awslogs.data", err, sizeof(err)) == 0);
	if (CHECK(jp.n == 2)) {
		CHECK_STR(jp.steps[0].key, "awslogs");
		CHECK_STR(jp.steps[1].key, "data");
	}
	ts_jpath_release(&jp);

	CHECK(ts_jpath_parse(&jp, ".a[0][-1][]", err, sizeof(err)) == 0);
	if (CHECK(jp.n == 4)) {
		CHECK(jp.steps[1].kind == TS_JP_INDEX && jp.steps[1].index == 0);
		CHECK(jp.steps[2].kind == TS_JP_INDEX && jp.steps[2].index == -1);
		CHECK(jp.steps[3].kind == TS_JP_ITER);
		CHECK(ts_jpath_is_multi(&jp));
		CHECK_STR(ts_jpath_last_key(&jp, &kl), "a");
	}
	ts_jpath_release(&jp);

	/* quoted keys: ."k", .["k"], ["k"], escapes decoded */
	CHECK(ts_jpath_parse(&jp, ".\"a key\".[\"b.c\"][\"x\\\"y\"].\"\\u00e9\\n\"",
			     err, sizeof(err)) == 0);
	if (CHECK(jp.n == 4)) {
		CHECK_STR(jp.steps[0].key, "a key");
		CHECK_STR(jp.steps[1].key, "b.c");
		CHECK_STR(jp.steps[2].key, "x\"y");
		CHECK_STR(jp.steps[3].key, "\xc3\xa9\n");
		CHECK(jp.steps[3].keylen == 3);
	}
	ts_jpath_release(&jp);

	/* a key holding NUL keeps its length */
	CHECK(ts_jpath_parse(&jp, ".[\"a\\u0000b\"]", err, sizeof(err)) == 0);
	if (CHECK(jp.n == 1))
		CHECK_MEM(jp.steps[0].key, jp.steps[0].keylen, "a\0b", 3);
	ts_jpath_release(&jp);

	CHECK(ts_jpath_parse(&jp, "[0].a", err, sizeof(err)) == 0);
	CHECK(jp.n == 2 && jp.steps[0].kind == TS_JP_INDEX);
	ts_jpath_release(&jp);
	CHECK(ts_jpath_parse(&jp, ".[]", err, sizeof(err)) == 0);
	CHECK(jp.n == 1 && jp.steps[0].kind == TS_JP_ITER);
	ts_jpath_release(&jp);
	CHECK(ts_jpath_parse(&jp, ".Records[].id", err, sizeof(err)) == 0);
	CHECK(jp.n == 3);
	ts_jpath_release(&jp);
	/* non-ASCII names need no quotes */
	CHECK(ts_jpath_parse(&jp, ".\xc3\xa9t\xc3\xa9", err, sizeof(err)) == 0);
	CHECK(jp.n == 1 && jp.steps[0].keylen == 5);
	ts_jpath_release(&jp);
}

/* The parse fails and err names the column. */
static void parse_fails_(const char *path, int col, int line)
{
	struct ts_jpath jp;
	char err[256], want[32];

	snprintf(want, sizeof(want), "column %d", col);
	if (!check_(ts_jpath_parse(&jp, path, err, sizeof(err)) == -1, __FILE__,
		    line, "parse fails")) {
		fprintf(stderr, "    path: %s\n", path);
		ts_jpath_release(&jp);
		return;
	}
	if (!check_(strstr(err, want) != NULL, __FILE__, line, want))
		fprintf(stderr, "    path: %s\n    err: %s\n", path, err);
	check_(strstr(err, path) != NULL, __FILE__, line, "err quotes the path");
	/* the struct is released and reusable */
	check_(jp.steps == NULL && jp.n == 0 && jp.text == NULL, __FILE__, line,
	       "released on failure");
}
#define PARSE_FAILS(path, col) parse_fails_((path), (col), __LINE__)

static void test_parse_errors(void)
{
	PARSE_FAILS(".a.", 4);
	PARSE_FAILS("..a", 2);
	PARSE_FAILS(".a..b", 4);
	PARSE_FAILS(".a[", 4);
	PARSE_FAILS(".a[x]", 4);
	PARSE_FAILS(".a[1", 4);
	PARSE_FAILS(".a[1.5]", 4);
	PARSE_FAILS(".[\"a\"", 6);
	PARSE_FAILS(".[\"a\"x]", 6);
	PARSE_FAILS(".\"abc", 2);
	PARSE_FAILS(".\"a\\x\"", 2);
	PARSE_FAILS(".a b", 3);
	PARSE_FAILS(".a]", 3);
	PARSE_FAILS(".a.b!", 5);
	PARSE_FAILS("!", 1);
	PARSE_FAILS(".a[]x", 5);
	PARSE_FAILS(".\"\xff\"", 2); /* not UTF-8 */
}

static void test_eval(void)
{
	int rc;

	EVAL(".a.b[0]", "10");
	EVAL(".a.b[1]", "20");
	EVAL(".a.b[-1].c", "\"x\"");
	EVAL(".a.b[-3]", "10");
	EVAL(".a.b[5]", "");
	EVAL(".a.b[-4]", "");
	EVAL(".a.b[3]", "");
	EVAL("a.b[2].c", "\"x\"");
	EVAL(".[\"k y\"]", "1");
	EVAL(".\"k y\"", "1");
	EVAL(".\"e\\\"q\"", "2");
	EVAL(".[\"\xc3\xa9\"]", "\"accent\"");
	EVAL(".\xc3\xa9", "\"accent\"");
	EVAL(".dup", "2"); /* the last duplicate wins */
	EVAL(".n", "null");
	EVAL(".missing", "");
	EVAL(".missing.deeper[0]", "");
	/* steps into the wrong type select nothing */
	EVAL(".a.b.c", "");
	EVAL(".a[0]", "");
	EVAL(".n.x", "");
	EVAL(".arr[0][0]", "");
	EVAL(".arr[0].x", "");
	EVAL(".n[]", "");
	EVAL(".a.b[0][]", "");
	/* [] over arrays and objects */
	EVAL(".arr[]", "1 2 3");
	EVAL(".o[]", "1 {\"z\":true}");
	EVAL(".o[].z", "true");
	EVAL(".empty[]", "");
	EVAL(".Records[].id", "\"r1\" \"r2\" \"r3\"");
	EVAL(".Records[].tags[]", "\"p\" \"q\" \"s\"");
	EVAL(".Records[-1].tags[0]", "\"s\"");
	EVAL(".Records[].tags[-1]", "\"q\" \"s\"");
	/* the whole document */
	char *all = eval(".", &rc);
	CHECK_MEM(all, all ? strlen(all) : 0, doc, sizeof(doc) - 1);
	free(all);

	/* fn's non-zero value stops the walk and is returned */
	struct ts_jpath jp;
	char err[256];
	struct collect c = {.stop_after = 2};
	CHECK(ts_jpath_parse(&jp, ".Records[].id", err, sizeof(err)) == 0);
	ts_buf_init(&c.b, 0);
	CHECK(ts_jpath_each(&jp, (struct ts_span){doc, sizeof(doc) - 1}, collect_fn,
			    &c) == 42);
	CHECK(c.calls == 2);
	CHECK_STR(c.b.data, "\"r1\" \"r2\"");
	ts_buf_release(&c.b);

	/* ts_jpath_get: the first value */
	struct ts_span v;
	CHECK(ts_jpath_get(&jp, (struct ts_span){doc, sizeof(doc) - 1}, &v) == 1);
	CHECK_MEM(v.p, v.n, "\"r1\"", 4);
	ts_jpath_release(&jp);
	CHECK(ts_jpath_parse(&jp, ".nothing", err, sizeof(err)) == 0);
	CHECK(ts_jpath_get(&jp, (struct ts_span){doc, sizeof(doc) - 1}, &v) == 0);
	ts_jpath_release(&jp);

	/* on scalars and pretty-printed values */
	CHECK(ts_jpath_parse(&jp, ".a", err, sizeof(err)) == 0);
	CHECK(ts_jpath_get(&jp, (struct ts_span){"42", 2}, &v) == 0);
	CHECK(ts_jpath_get(&jp, (struct ts_span){"\"a\"", 3}, &v) == 0);
	const char *pretty = "{\n  \"a\" : [ 1,\n 2 ]\n}";
	CHECK(ts_jpath_get(&jp, (struct ts_span){pretty, strlen(pretty)}, &v) == 1);
	CHECK_MEM(v.p, v.n, "[ 1,\n 2 ]", 9);
	ts_jpath_release(&jp);
}

int main(void)
{
	test_parse();
	test_parse_errors();
	test_eval();
	return check_done();
}
