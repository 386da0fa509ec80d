/* test_value.c — lib/value.h: types, numbers as doubles and integers,
 * decoded strings, the canonical form, equality, order and hash by meaning
 * (exact decimals however long their exponents, strings by decoded bytes,
 * objects as key sets with the last duplicate winning). */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "value.h"

/* The text as a span, after checking the scanner accepts it (every value
 * handed to value.h must be one it accepted). */
static struct ts_span V(const char *s)
{
	struct ts_json_scan r;
	size_t n = strlen(s);

	if (!n)
		return (struct ts_span){s, 0};
	if (!CHECK(ts_json_scan(s, s + n, 1, 0, &r) == TS_JSON_OK && r.end == s + n))
		fprintf(stderr, "    not a value: %s\n", s);
	return (struct ts_span){s, n};
}

static int sgn(int c)
{
	return c < 0 ? -1 : c > 0;
}

static void test_types(void)
{
	CHECK(ts_value_type(V("")) == TS_VT_MISSING);
	CHECK(ts_value_type(V("null")) == TS_VT_NULL);
	CHECK(ts_value_type(V("true")) == TS_VT_BOOL);
	CHECK(ts_value_type(V("false")) == TS_VT_BOOL);
	CHECK(ts_value_type(V("-1")) == TS_VT_NUMBER);
	CHECK(ts_value_type(V("0.5e3")) == TS_VT_NUMBER);
	CHECK(ts_value_type(V("\"x\"")) == TS_VT_STRING);
	CHECK(ts_value_type(V("[1]")) == TS_VT_ARRAY);
	CHECK(ts_value_type(V("{}")) == TS_VT_OBJECT);
	CHECK(ts_value_bool(V("true")) == 1);
	CHECK(ts_value_bool(V("false")) == 0);
	CHECK(ts_value_bool(V("null")) == -1);
	CHECK(ts_value_bool(V("\"true\"")) == -1);
	CHECK(ts_value_bool(V("")) == -1);
}

static void test_number(void)
{
	double d;

	CHECK(ts_value_number(V("1"), &d) == 0 && d == 1);
	CHECK(ts_value_number(V("-12"), &d) == 0 && d == -12);
	CHECK(ts_value_number(V("-0"), &d) == 0 && d == 0 && !signbit(d));
	CHECK(ts_value_number(V("-0.0e7"), &d) == 0 && d == 0 && !signbit(d));
	CHECK(ts_value_number(V("0.1"), &d) == 0 && d == 0.1);
	CHECK(ts_value_number(V("1.5e3"), &d) == 0 && d == 1500);
	CHECK(ts_value_number(V("123456789012345678901234567890"), &d) == 0 &&
	      d == 123456789012345678901234567890.0);
	CHECK(ts_value_number(V("9007199254740993"), &d) == 0 && d == 9007199254740992.0);
	CHECK(ts_value_number(V("1.7976931348623157e308"), &d) == 0 && d == DBL_MAX);
	CHECK(ts_value_number(V("4.9e-324"), &d) == 0 && d == 4.9e-324 && d > 0);
	CHECK(ts_value_number(V("2.2250738585072014E-308"), &d) == 0 && d == DBL_MIN);
	/* outside the range of doubles: 1, and inf or zero of the sign */
	CHECK(ts_value_number(V("1e400"), &d) == 1 && isinf(d) && d > 0);
	CHECK(ts_value_number(V("-1e400"), &d) == 1 && isinf(d) && d < 0);
	CHECK(ts_value_number(V("1.7976931348623159e308"), &d) == 1 && isinf(d));
	CHECK(ts_value_number(V("1e-400"), &d) == 1 && d == 0 && !signbit(d));
	CHECK(ts_value_number(V("-1e-400"), &d) == 1 && d == 0 && signbit(d));
	CHECK(ts_value_number(V("1e99999999999999999999999"), &d) == 1 && isinf(d));
	CHECK(ts_value_number(V("1e-99999999999999999999999"), &d) == 1 && d == 0);
	CHECK(ts_value_number(V("0.00001e400"), &d) == 1 && isinf(d));
	CHECK(ts_value_number(V("100000e-400"), &d) == 1 && d == 0);
	CHECK(ts_value_number(V("1000e305"), &d) == 0 && d == 1e308);
	CHECK(ts_value_number(V("1000e306"), &d) == 1 && isinf(d));
	CHECK(ts_value_number(V("0.001e311"), &d) == 0 && d == 1e308);
	/* rounding with more digits than a double holds: the digits past the
	 * 780th still decide a tie */
	{
		static char big[2000];
		/* 1 + 2^-53 exactly is halfway between 1 and the next double:
		 * ties to even gives 1; anything above it gives 1 + 2^-52 */
		const char *half = "1.00000000000000011102230246251565404236316680908203125";
		CHECK(ts_value_number(V(half), &d) == 0 && d == 1.0);
		snprintf(big, sizeof(big), "%s%0900d1", half, 0);
		CHECK(ts_value_number(V(big), &d) == 0 && d == 1.0 + DBL_EPSILON);
		/* and as strtod() (correctly rounded) reads the whole text */
		const char *exps[] = {"", "e-2", "e-300", "e300", "e-320", "e5"};
		for (size_t i = 0; i < sizeof(exps) / sizeof(exps[0]); i++)
			for (int z = 700; z < 1000; z += 37) {
				snprintf(big, sizeof(big), "%s%0*d1%s", half, z, 0, exps[i]);
				CHECK(ts_value_number(V(big), &d) == 0 &&
				      d == strtod(big, NULL));
				snprintf(big, sizeof(big), "-%s%0*d%s", half, z, 0, exps[i]);
				CHECK(ts_value_number(V(big), &d) == 0 &&
				      d == strtod(big, NULL));
			}
	}
	/* against strtod() (correctly rounded), on both of our paths: few
	 * digits and a small exponent, and everything else */
	{
		char t[64];
		uint64_t x = 0x9e3779b97f4a7c15ull;
		int bad = 0;
		for (int i = 0; i < 200000; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			int nd = 1 + (int)(x % 19);
			int dot = (int)((x >> 20) % (uint64_t)(nd + 1));
			int ne = (int)((x >> 30) % 701) - 350;
			char digs[24];
			snprintf(digs, sizeof(digs), "%019llu", (unsigned long long)(x >> 1));
			digs[0] = (char)('1' + (x >> 40) % 9);
			digs[nd] = '\0';
			snprintf(t, sizeof(t), "%s%s%.*s%s%se%d", x >> 63 ? "-" : "",
				 dot ? "" : "0", dot, digs, dot < nd ? "." : "",
				 digs + dot, i % 3 ? ne % 30 : ne);
			double want = strtod(t, NULL);
			if (ts_value_number(V(t), &d) < 0 || d != want) {
				if (bad++ < 5)
					fprintf(stderr, "    %s: %.17g, want %.17g\n", t, d, want);
			}
		}
		CHECK(bad == 0);
	}
	d = 42;
	CHECK(ts_value_number(V("\"1\""), &d) == -1 && d == 42);
	CHECK(ts_value_number(V("null"), &d) == -1 && d == 42);
	CHECK(ts_value_number(V(""), &d) == -1 && d == 42);
}

static void test_int64(void)
{
	int64_t i;

	CHECK(ts_value_int64(V("1"), &i) == 0 && i == 1);
	CHECK(ts_value_int64(V("-7"), &i) == 0 && i == -7);
	CHECK(ts_value_int64(V("1.0"), &i) == 0 && i == 1);
	CHECK(ts_value_int64(V("1e3"), &i) == 0 && i == 1000);
	CHECK(ts_value_int64(V("12.50e1"), &i) == 0 && i == 125);
	CHECK(ts_value_int64(V("-0"), &i) == 0 && i == 0);
	CHECK(ts_value_int64(V("0e999999999999999999999"), &i) == 0 && i == 0);
	CHECK(ts_value_int64(V("9223372036854775807"), &i) == 0 && i == INT64_MAX);
	CHECK(ts_value_int64(V("-9223372036854775808"), &i) == 0 && i == INT64_MIN);
	CHECK(ts_value_int64(V("-922337203685477580.8e1"), &i) == 0 && i == INT64_MIN);
	CHECK(ts_value_int64(V("123456789012345678"), &i) == 0 && i == 123456789012345678);
	i = 5;
	CHECK(ts_value_int64(V("9223372036854775808"), &i) == 1 && i == 5);
	CHECK(ts_value_int64(V("-9223372036854775809"), &i) == 1);
	CHECK(ts_value_int64(V("1e19"), &i) == 1);
	CHECK(ts_value_int64(V("1.5"), &i) == 1);
	CHECK(ts_value_int64(V("1e-1"), &i) == 1);
	CHECK(ts_value_int64(V("1e99999999999999999999"), &i) == 1);
	CHECK(ts_value_int64(V("99999999999999999999"), &i) == 1);
	CHECK(ts_value_int64(V("true"), &i) == -1 && i == 5);
}

static void test_string(void)
{
	struct ts_buf b;
	struct ts_span s;

	ts_buf_init(&b, 0);
	CHECK(ts_value_string(&b, V("\"a\\nb\\u00e9\\ud83d\\ude00\"")) == 0);
	CHECK_MEM(b.data, b.len, "a\nb\xc3\xa9\xf0\x9f\x98\x80", 9);
	ts_buf_reset(&b);
	CHECK(ts_value_string(&b, V("\"\\ud800x\"")) == 0);
	CHECK_MEM(b.data, b.len, "\xef\xbf\xbdx", 4);
	ts_buf_reset(&b);
	errno = 0;
	CHECK(ts_value_string(&b, V("12")) == -1 && errno == EINVAL && b.len == 0);
	CHECK(ts_value_string(&b, V("")) == -1);
	CHECK(ts_value_string_view(V("\"plain\""), &s) == 1);
	CHECK_MEM(s.p, s.n, "plain", 5);
	CHECK(ts_value_string_view(V("\"\""), &s) == 1 && s.n == 0);
	CHECK(ts_value_string_view(V("\"a\\tb\""), &s) == 0);
	CHECK(ts_value_string_view(V("[]"), &s) == -1);
	ts_buf_release(&b);
}

struct canon_case {
	const char *in, *want;
};

static const struct canon_case canon_cases[] = {
	{"", ""},
	{"null", "null"},
	{"true", "true"},
	{"false", "false"},
	/* numbers */
	{"0", "0"},
	{"-0", "0"},
	{"0.000", "0"},
	{"-0.0e5", "0"},
	{"0e-99999999999999999999999", "0"},
	{"1", "1"},
	{"1.0", "1"},
	{"10e-1", "1"},
	{"0.1e1", "1"},
	{"1E0", "1"},
	{"1e+0", "1"},
	{"-1.000e-0000", "-1"},
	{"100", "100"},
	{"1e2", "100"},
	{"12.3456e2", "1234.56"},
	{"-1.50", "-1.5"},
	{"0.5", "0.5"},
	{"5e-1", "0.5"},
	{"0.001", "0.001"},
	{"1e-6", "0.000001"},
	{"1e-7", "1e-7"},
	{"-12e-8", "-1.2e-7"},
	{"0.000123", "0.000123"},
	{"123e-20", "1.23e-18"},
	{"1e20", "100000000000000000000"},
	{"1e21", "1e+21"},
	{"123456789012345678901", "123456789012345678901"},
	{"1234567890123456789012", "1.234567890123456789012e+21"},
	{"-1000000000000000000000", "-1e+21"},
	{"1.5e21", "1.5e+21"},
	{"1e400", "1e+400"},
	{"-2.5e-400", "-2.5e-400"},
	{"123456789.123456789123456789", "123456789.123456789123456789"},
	{"0.0000001234567890123456789", "1.234567890123456789e-7"},
	/* exponents of any length, exactly */
	{"1e99999999999999999999", "1e+99999999999999999999"},
	{"10e99999999999999999999", "1e+100000000000000000000"},
	{"0.01e-99999999999999999999", "1e-100000000000000000001"},
	{"1e-10000000000000000000", "1e-10000000000000000000"},
	{"0.1e-10000000000000000000", "1e-10000000000000000001"},
	{"100e-10000000000000000000", "1e-9999999999999999998"},
	{"1e9999999999999999999", "1e+9999999999999999999"},
	{"10e9999999999999999999", "1e+10000000000000000000"},
	{"1e10000000000000000000", "1e+10000000000000000000"},
	{"0.1e10000000000000000000", "1e+9999999999999999999"},
	{"0.001e10000000000000000001", "1e+9999999999999999998"},
	{"1000e99999999999999999997", "1e+100000000000000000000"},
	{"1e-000000000000000000000000000000007", "1e-7"},
	{"7e00000000000000000000000000000000000000001", "70"},
	{"0.00e99999999999999999999999999", "0"},
	/* strings */
	{"\"a\"", "\"a\""},
	{"\"\"", "\"\""},
	{"\"\\u0041\"", "\"A\""},
	{"\"\\/\"", "\"/\""},
	{"\"\\n\\t\\\\\\\"\"", "\"\\n\\t\\\\\\\"\""},
	{"\"\\u000a\\u0009\\u005c\"", "\"\\n\\t\\\\\""},
	{"\"\\u001f\\u0000\\u007f\"", "\"\\u001f\\u0000\x7f\""},
	{"\"\\u00e9\"", "\"\xc3\xa9\""},
	{"\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\""},
	{"\"\\ud800\"", "\"\xef\xbf\xbd\""},
	{"\"\\ud800\\u0041\"", "\"\xef\xbf\xbd" "A\""},
	{"\"\\udc00\\ud800\"", "\"\xef\xbf\xbd\xef\xbf\xbd\""},
	{"\"\\ud800\\ud800\\udc00\"", "\"\xef\xbf\xbd\xf0\x90\x80\x80\""},
	{"\"x\\ud800\"", "\"x\xef\xbf\xbd\""},
	{"\"\xe2\x80\xa8\"", "\"\xe2\x80\xa8\""},
	{"\"\\u2028\"", "\"\xe2\x80\xa8\""},
	/* arrays */
	{"[]", "[]"},
	{"[ ]", "[]"},
	{"[ 1 , 2.0 ,[ ] , { } ]", "[1,2,[],{}]"},
	{"[[[\"\\u0041\"]]]", "[[[\"A\"]]]"},
	/* objects: key sets, sorted by decoded key, the last duplicate wins */
	{"{}", "{}"},
	{"{ \"b\" : 1 , \"a\" : [ 1.0 ] }", "{\"a\":[1],\"b\":1}"},
	{"{\"a\":1,\"a\":2}", "{\"a\":2}"},
	{"{\"a\":1,\"\\u0061\":2,\"b\":3}", "{\"a\":2,\"b\":3}"},
	{"{\"\\u00e9\":1,\"z\":2,\"\":3}", "{\"\":3,\"z\":2,\"\xc3\xa9\":1}"},
	{"{\"b\":{\"d\":1,\"c\":2},\"a\":null}", "{\"a\":null,\"b\":{\"c\":2,\"d\":1}}"},
	{"{\"ab\":1,\"a\":2,\"a\\u0000\":3}", "{\"a\":2,\"a\\u0000\":3,\"ab\":1}"},
	/* 5 to 16 members (sorted on the stack) */
	{"{\"e\":5,\"d\":4,\"c\":3,\"b\":2,\"a\":1,\"c\":30}",
	 "{\"a\":1,\"b\":2,\"c\":30,\"d\":4,\"e\":5}"},
	/* more than 16 (sorted in an allocation) */
	{"{\"q\":17,\"p\":16,\"o\":15,\"n\":14,\"m\":13,\"l\":12,\"k\":11,\"j\":10,"
	 "\"i\":9,\"h\":8,\"g\":7,\"f\":6,\"e\":5,\"d\":4,\"c\":3,\"b\":2,\"a\":1,"
	 "\"\\u0061\":0,\"q\":1.70e1}",
	 "{\"a\":0,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,"
	 "\"j\":10,\"k\":11,\"l\":12,\"m\":13,\"n\":14,\"o\":15,\"p\":16,\"q\":17}"},
};

static void test_canon(void)
{
	struct ts_buf b, c;
	const struct ts_hkey *k = ts_hkey_process();

	ts_buf_init(&b, 0);
	ts_buf_init(&c, 0);
	for (size_t i = 0; i < sizeof(canon_cases) / sizeof(canon_cases[0]); i++) {
		const struct canon_case *t = &canon_cases[i];
		struct ts_span v = V(t->in);
		ts_buf_reset(&b);
		ts_buf_addstr(&b, "<");
		CHECK(ts_value_canon(&b, v) == 0);
		if (!CHECK_MEM(b.data + 1, b.len - 1, t->want, strlen(t->want)))
			fprintf(stderr, "    input %s\n", t->in);
		/* idempotent, and equal to what it came from */
		struct ts_span cv = {b.data + 1, b.len - 1};
		ts_buf_reset(&c);
		CHECK(ts_value_canon(&c, cv) == 0);
		CHECK_MEM(c.data, c.len, cv.p, cv.n);
		if (!CHECK(ts_value_equal(v, cv) && ts_value_cmp(v, cv) == 0 &&
			   ts_value_cmp(cv, v) == 0))
			fprintf(stderr, "    input %s\n", t->in);
		/* the hash is the hash of the canonical bytes, under any key */
		CHECK(ts_value_hash(k, v) == ts_hash(k, cv.p, cv.n));
		CHECK(ts_value_hash(&ts_hkey_fixed, v) ==
		      ts_hash(&ts_hkey_fixed, cv.p, cv.n));
	}
	/* a composite key hashes as the array of its values */
	{
		struct ts_hstate h;
		ts_hash_init(&h, k);
		ts_hash_update(&h, "[", 1);
		ts_value_hash_update(&h, V("1.0"));
		ts_hash_update(&h, ",", 1);
		ts_value_hash_update(&h, V("{\"b\":\"\\u0041\",\"a\":null}"));
		ts_hash_update(&h, ",", 1);
		ts_value_hash_update(&h, V("\"x\""));
		ts_hash_update(&h, "]", 1);
		CHECK(ts_hash_final(&h) ==
		      ts_value_hash(k, V("[1,{\"a\":null,\"b\":\"A\"},\"x\"]")));
	}
	/* the buffer limit: -1 EFBIG, the buffer as it was */
	struct ts_buf small;
	ts_buf_init(&small, 16);
	ts_buf_addstr(&small, "ab");
	errno = 0;
	CHECK(ts_value_canon(&small, V("{\"b\":[1,2,3],\"a\":\"0123456789\"}")) == -1 &&
	      errno == EFBIG);
	CHECK(small.len == 2 && !strcmp(small.data, "ab"));
	ts_buf_release(&small);
	ts_buf_release(&b);
	ts_buf_release(&c);
}

/* Spellings of one value each, the groups in increasing order. */
static const char *const order[][8] = {
	{""},
	{"null"},
	{"false"},
	{"true"},
	{"-1e99999999999999999999", "-10e99999999999999999998"},
	{"-1e400", "-1E+400", "-0.1e401"},
	{"-2", "-2.0", "-20e-1"},
	{"-1.5", "-15e-1"},
	{"-1"},
	{"-1e-400"},
	{"0", "-0", "0.0", "-0e10", "0e-99999999999999999999"},
	{"1e-99999999999999999999"},
	{"1e-400", "0.0001e-396"},
	{"0.5", "5e-1", "50E-2"},
	{"0.50000000000000000000000000000000001"},
	{"1", "1.0", "10e-1", "0.1e1", "1E0", "1.000e+0", "100e-2"},
	{"1.5", "15e-1"},
	{"2"},
	{"10", "1e1"},
	{"123456789012345678901"},
	{"1e21", "1000000000000000000000"},
	{"1e400", "10e399"},
	{"2e400"},
	{"9.99e9999999999999999999"},
	{"1e10000000000000000000", "10e9999999999999999999", "0.1e10000000000000000001"},
	{"1.0000000000000000000001e10000000000000000000"},
	{"1e99999999999999999999"},
	{"1e100000000000000000000", "10e99999999999999999999"},
	{"\"\""},
	{"\"\\u0000\""},
	{"\"A\"", "\"\\u0041\""},
	{"\"a\""},
	{"\"a\\u0000\""},
	{"\"ab\""},
	{"\"b\""},
	{"\"\\u007f\""},
	{"\"\xc3\xa9\"", "\"\\u00e9\"", "\"\\u00E9\""},
	{"\"\\ud800\"", "\"\\ufffd\"", "\"\xef\xbf\xbd\"", "\"\\udfff\""},
	{"\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\""},
	{"[]", "[ ]"},
	{"[null]"},
	{"[1]", "[1.0]"},
	{"[1,2]", "[ 1 , 2e0 ]"},
	{"[1,2,null]"},
	{"[2]"},
	{"[\"a\"]"},
	{"{}"},
	{"{\"a\":0}"},
	{"{\"a\":1}", "{\"a\":0,\"a\":1}", "{ \"\\u0061\" : 1.0 }"},
	{"{\"a\":1,\"b\":[2]}", "{ \"b\" : [ 2.0 ] , \"a\" : 1 }", "{\"b\":[2],\"a\":0,\"a\":1}"},
	{"{\"a\":2}"},
	{"{\"b\":0}"},
	{"{\"b\":0,\"c\":1,\"d\":2,\"e\":3,\"f\":4,\"g\":5}",
	 "{\"g\":5,\"f\":4,\"e\":3,\"d\":2,\"c\":1,\"b\":0}"},
};

static void test_order(void)
{
	size_t ng = sizeof(order) / sizeof(order[0]);
	const struct ts_hkey *k = ts_hkey_process();
	struct ts_buf ca, cb;
	int bad = 0;

	ts_buf_init(&ca, 0);
	ts_buf_init(&cb, 0);
	for (size_t g = 0; g < ng; g++)
		for (size_t i = 0; i < 8 && order[g][i]; i++)
			for (size_t h = 0; h < ng; h++)
				for (size_t j = 0; j < 8 && order[h][j]; j++) {
					struct ts_span a = V(order[g][i]), b = V(order[h][j]);
					int want = g < h ? -1 : g > h;
					int c = ts_value_cmp(a, b);
					int eq = ts_value_equal(a, b);
					ts_buf_reset(&ca);
					ts_buf_reset(&cb);
					ts_value_canon(&ca, a);
					ts_value_canon(&cb, b);
					int ceq = ca.len == cb.len &&
						  !memcmp(ca.data, cb.data, ca.len);
					int heq = ts_value_hash(k, a) == ts_value_hash(k, b);
					if (sgn(c) != want || eq != !want || ceq != !want ||
					    (!want && !heq)) {
						bad++;
						fprintf(stderr, "    %s vs %s: cmp %d equal %d "
							"canon %d hash %d, want %d\n",
							order[g][i], order[h][j], c, eq, ceq,
							heq, want);
					}
				}
	CHECK(bad == 0);
	ts_buf_release(&ca);
	ts_buf_release(&cb);
}

/* Deep values and big objects: no stack trouble, the same answers. */
static void test_big(void)
{
	struct ts_buf a, b, c;
	const int depth = TS_JSON_MAX_DEPTH - 1;

	ts_buf_init(&a, 0);
	ts_buf_init(&b, 0);
	ts_buf_init(&c, 0);
	for (int i = 0; i < depth; i++)
		ts_buf_addstr(&a, i % 2 ? "[" : "{\"k\":");
	ts_buf_addstr(&a, "1.0");
	for (int i = depth - 1; i >= 0; i--)
		ts_buf_addstr(&a, i % 2 ? "]" : "}");
	CHECK(ts_value_canon(&b, V(a.data)) == 0);
	CHECK(b.len == a.len - 2); /* 1.0 -> 1 */
	CHECK(ts_value_equal(V(a.data), V(b.data)));
	ts_buf_reset(&a);
	ts_buf_reset(&b);
	/* 5000 members, written in reverse, each key twice */
	ts_buf_addch(&a, '{');
	ts_buf_addch(&b, '{');
	for (int i = 4999; i >= 0; i--)
		ts_buf_addf(&a, "%s\"k%05d\":%d,\"k%05d\":%d.0", i < 4999 ? "," : "", i,
			    -i, i, i);
	for (int i = 0; i < 5000; i++)
		ts_buf_addf(&b, "%s\"k%05d\":%d", i ? "," : "", i, i);
	ts_buf_addch(&a, '}');
	ts_buf_addch(&b, '}');
	CHECK(ts_value_canon(&c, V(a.data)) == 0);
	CHECK_MEM(c.data, c.len, b.data, b.len);
	CHECK(ts_value_equal(V(a.data), V(b.data)));
	CHECK(ts_value_hash(&ts_hkey_fixed, V(a.data)) ==
	      ts_value_hash(&ts_hkey_fixed, V(b.data)));
	ts_buf_release(&a);
	ts_buf_release(&b);
	ts_buf_release(&c);
}

int main(void)
{
	test_types();
	test_number();
	test_int64();
	test_string();
	test_canon();
	test_order();
	test_big();
	return check_done();
}
