/* test_json.c — lib/json.h: the scanner, the walkers, escape/unescape. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "json.h"

#define S(lit) (struct ts_span){(lit), sizeof(lit) - 1}

static struct ts_json_scan sc;

static enum ts_json_status scan_n(const char *s, size_t n, int eof, int depth)
{
	return ts_json_scan(s, s + n, eof, depth, &sc);
}

/* OK, and the value is exactly the whole input. */
static int valid(const char *s, size_t n)
{
	return scan_n(s, n, 1, 0) == TS_JSON_OK && sc.end == s + n;
}
#define VALID(lit) valid((lit), sizeof(lit) - 1)

/* ERROR, with the offending byte at offset at (-1: do not check). */
static int invalid(const char *s, size_t n, long at)
{
	if (scan_n(s, n, 1, 0) != TS_JSON_ERROR || !sc.err || !sc.err_at)
		return 0;
	return at < 0 || sc.err_at == s + at;
}
#define INVALID(lit, at) invalid((lit), sizeof(lit) - 1, (at))

static enum ts_json_status status(const char *s, size_t n, int eof)
{
	return scan_n(s, n, eof, 0);
}
#define STATUS(lit, eof) status((lit), sizeof(lit) - 1, (eof))

static void test_scan_valid(void)
{
	static const char *const ok[] = {
		"0", "-0", "1", "-1", "123", "1.5", "-0.0", "1e5", "1E+5",
		"1e-5", "12.34e056", "0.1e0",
		"true", "false", "null",
		"\"\"", "\"abc\"", "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"",
		"\"\\u00e9\\u00E9\\uD83D\\uDE00\\ud800\"", /* lone surrogates pass */
		"[]", "{}", "[[]]", "[{}]", "{\"a\":{}}", "[1,\"a\",null,true,false,{}]",
		"{\"a\":[1,{\"b\":null}],\"c\":true}",
		"{ \"a\" : 1 , \"b\" : [ 1 , 2 ] }",
		"[\r\n\t1\r\n]",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (!valid(ok[i], strlen(ok[i])))
			fprintf(stderr, "    input: %s (%s)\n", ok[i],
				sc.err ? sc.err : "incomplete");
		CHECK(valid(ok[i], strlen(ok[i])));
	}

	/* UTF-8: 2, 3 and 4 byte sequences and the edges of the ranges */
	CHECK(VALID("\"\xc3\xa9\"")); /* é */
	CHECK(VALID("\"\xc2\x80\""));       /* U+0080 */
	CHECK(VALID("\"\xdf\xbf\""));       /* U+07FF */
	CHECK(VALID("\"\xe0\xa0\x80\""));   /* U+0800 */
	CHECK(VALID("\"\xe2\x82\xac\""));   /* € */
	CHECK(VALID("\"\xed\x9f\xbf\""));   /* U+D7FF */
	CHECK(VALID("\"\xee\x80\x80\""));   /* U+E000 */
	CHECK(VALID("\"\xef\xbf\xbf\""));   /* U+FFFF */
	CHECK(VALID("\"\xf0\x90\x80\x80\"")); /* U+10000 */
	CHECK(VALID("\"\xf0\x9f\x98\x80\"")); /* 😀 */
	CHECK(VALID("\"\xf4\x8f\xbf\xbf\"")); /* U+10FFFF */
	CHECK(VALID("\"\x7f\""));           /* DEL is not a control char */
	CHECK(VALID("[\"\xe6\x97\xa5\xe6\x9c\xac\",\"x\xc3\xa9y\"]"));
	/* a long string takes the fast path */
	char big[1000];
	big[0] = '"';
	memset(big + 1, 'a', sizeof(big) - 2);
	big[500] = '\\';
	big[501] = 'n';
	big[sizeof(big) - 1] = '"';
	CHECK(valid(big, sizeof(big)));

	/* whitespace is noticed and newlines counted */
	CHECK(VALID("{\n  \"a\": 1,\n  \"b\": [\n    2\n  ]\n}"));
	CHECK(sc.has_ws == 1 && sc.newlines == 5);
	CHECK(VALID("{\"a\":1}"));
	CHECK(sc.has_ws == 0 && sc.newlines == 0);
	CHECK(VALID("\"a\\nb\"")); /* an escaped newline is not a newline */
	CHECK(sc.newlines == 0);
}

static void test_scan_invalid(void)
{
	/* numbers */
	CHECK(INVALID("01", 1));
	CHECK(INVALID("-01", 2));
	CHECK(INVALID("1.", 2));
	CHECK(INVALID("1.e5", 2));
	CHECK(INVALID("-", 1));
	CHECK(INVALID("+1", 0));
	CHECK(INVALID(".5", 0));
	CHECK(INVALID("1e", 2));
	CHECK(INVALID("1e+", 3));
	CHECK(INVALID("--1", 1));
	CHECK(INVALID("[1.]", 3));
	CHECK(INVALID("[-]", 2));
	CHECK(INVALID("[01]", 2));
	CHECK(INVALID("[1e]", 3));
	CHECK(INVALID("NaN", 0));
	CHECK(INVALID("[Infinity]", 1));
	CHECK(INVALID("0x10", 1));
	CHECK(INVALID("2024-05-01", 4));

	/* literals */
	CHECK(INVALID("truex", 4));
	CHECK(INVALID("tru e", 3));
	CHECK(STATUS("nul", 1) == TS_JSON_INCOMPLETE); /* may be cut short */
	CHECK(INVALID("True", 0));
	CHECK(INVALID("[nulL]", 4));
	CHECK(INVALID("falsey", 5));
	CHECK(INVALID("1x", 1));

	/* structure */
	CHECK(INVALID("[1,]", 3));
	CHECK(INVALID("[,1]", 1));
	CHECK(INVALID("[1 2]", 3));
	CHECK(INVALID("{\"a\"}", 4));
	CHECK(INVALID("{\"a\":1,}", 7));
	CHECK(INVALID("{\"a\" 1}", 5));
	CHECK(INVALID("{a:1}", 1));
	CHECK(INVALID("{1:1}", 1));
	CHECK(INVALID("[1}", 2));
	CHECK(INVALID("{\"a\":1]", 6));
	CHECK(INVALID("]", 0));
	CHECK(INVALID("}", 0));
	CHECK(INVALID("'a'", 0));
	CHECK(INVALID("[1,2,x]", 5));
	CHECK(INVALID("{\"a\":1 \"b\":2}", 7));

	/* strings */
	CHECK(INVALID("\"\\x\"", 2));
	CHECK(INVALID("\"\\u12g4\"", 5));
	CHECK(INVALID("\"\\U0041\"", 2));
	CHECK(INVALID("\"a\tb\"", 2));
	CHECK(INVALID("\"a\nb\"", 2));
	CHECK(sc.err && strstr(sc.err, "newline"));
	CHECK(INVALID("\"\x01\"", 1));
	CHECK(invalid("\"a\0b\"", 5, 2));
	CHECK(INVALID("\"\x1f\"", 1));

	/* invalid UTF-8 inside strings */
	CHECK(INVALID("\"\xc0\xaf\"", 1));         /* overlong '/' */
	CHECK(INVALID("\"\xc1\xbf\"", 1));         /* overlong */
	CHECK(INVALID("\"\xe0\x80\xaf\"", 1));     /* overlong 3-byte */
	CHECK(INVALID("\"\xe0\x9f\xbf\"", 1));     /* overlong U+07FF */
	CHECK(INVALID("\"\xf0\x80\x80\xaf\"", 1)); /* overlong 4-byte */
	CHECK(INVALID("\"\xf0\x8f\xbf\xbf\"", 1)); /* overlong U+FFFF */
	CHECK(INVALID("\"\xed\xa0\x80\"", 1));     /* U+D800 in UTF-8 */
	CHECK(INVALID("\"\xed\xbf\xbf\"", 1));     /* U+DFFF in UTF-8 */
	CHECK(INVALID("\"\xed\xa0\xbd\xed\xb8\x80\"", 1)); /* CESU-8 pair */
	CHECK(INVALID("\"\xf4\x90\x80\x80\"", 1)); /* U+110000 */
	CHECK(INVALID("\"\xf5\x80\x80\x80\"", 1));
	CHECK(INVALID("\"\xf8\x88\x80\x80\x80\"", 1));
	CHECK(INVALID("\"\xff\"", 1));
	CHECK(INVALID("\"\xfe\"", 1));
	CHECK(INVALID("\"\x80\"", 1));             /* lone continuation */
	CHECK(INVALID("\"a\xbf\"", 2));
	CHECK(INVALID("\"\xe2\x82\"", 1));         /* truncated, then quote */
	CHECK(INVALID("\"\xc3\"", 1));
	CHECK(INVALID("\"\xf0\x9f\x98\"", 1));
	CHECK(INVALID("\"\xc3\xc3\xa9\"", 1));
	CHECK(INVALID("\"\xe2\x28\xa1\"", 1));
	CHECK(sc.err && strstr(sc.err, "UTF-8"));
	/* invalid UTF-8 outside strings */
	CHECK(INVALID("\xc3\xa9", 0));
	CHECK(INVALID("[\xc3\xa9]", 1));
}

static void test_scan_incomplete(void)
{
	/* a number running to the end of the input is complete only at eof */
	CHECK(STATUS("123", 0) == TS_JSON_INCOMPLETE);
	CHECK(STATUS("123", 1) == TS_JSON_OK && sc.end[-1] == '3');
	CHECK(STATUS("-", 0) == TS_JSON_INCOMPLETE);
	CHECK(STATUS("1.5", 0) == TS_JSON_INCOMPLETE);
	CHECK(STATUS("1.5", 1) == TS_JSON_OK);
	CHECK(STATUS("1e5", 0) == TS_JSON_INCOMPLETE);
	CHECK(STATUS("1e", 1) == TS_JSON_ERROR);
	CHECK(STATUS("1.", 1) == TS_JSON_ERROR);
	CHECK(sc.err && strstr(sc.err, "end of input"));
	CHECK(STATUS("-", 1) == TS_JSON_ERROR);
	CHECK(STATUS("0", 0) == TS_JSON_INCOMPLETE);
	CHECK(STATUS("0", 1) == TS_JSON_OK);
	CHECK(STATUS("123 ", 0) == TS_JSON_OK && *sc.end == ' ');
	CHECK(STATUS("123\n", 0) == TS_JSON_OK);
	CHECK(STATUS("123,", 0) == TS_JSON_ERROR);
	/* inside a container, eof does not end a number: the container is open */
	CHECK(STATUS("[123", 1) == TS_JSON_INCOMPLETE);
	CHECK(STATUS("[123", 0) == TS_JSON_INCOMPLETE);

	/* everything else ends itself */
	/* a literal at the end may yet be "truex" */
	CHECK(STATUS("true", 0) == TS_JSON_INCOMPLETE);
	CHECK(STATUS("true", 1) == TS_JSON_OK);
	CHECK(STATUS("null ", 0) == TS_JSON_OK);
	CHECK(STATUS("false{", 0) == TS_JSON_OK);
	CHECK(STATUS("\"abc\"", 0) == TS_JSON_OK);
	CHECK(STATUS("{}", 0) == TS_JSON_OK);
	CHECK(STATUS("", 0) == TS_JSON_INCOMPLETE);
	CHECK(STATUS("", 1) == TS_JSON_INCOMPLETE);
	CHECK(STATUS("tr", 1) == TS_JSON_INCOMPLETE);
	CHECK(STATUS("\"abc", 1) == TS_JSON_INCOMPLETE);
	CHECK(STATUS("\"abc\\", 1) == TS_JSON_INCOMPLETE);
	CHECK(STATUS("\"\\u00", 1) == TS_JSON_INCOMPLETE);
	CHECK(STATUS("\"\xe2\x82", 1) == TS_JSON_INCOMPLETE);
	CHECK(STATUS("{\"a\":", 1) == TS_JSON_INCOMPLETE);
	CHECK(STATUS("{\"a\"", 1) == TS_JSON_INCOMPLETE);
	CHECK(STATUS("[1,", 1) == TS_JSON_INCOMPLETE);
	CHECK(STATUS("[1, ", 1) == TS_JSON_INCOMPLETE);
	CHECK(STATUS("{", 1) == TS_JSON_INCOMPLETE);
}

static void test_scan_after(void)
{
	/* "{}{}" is two values: the first ends after its brace */
	CHECK(STATUS("{}{}", 1) == TS_JSON_OK);
	const char *s = "{\"a\":1}{\"b\":2}";
	CHECK(ts_json_scan(s, s + strlen(s), 1, 0, &sc) == TS_JSON_OK);
	CHECK(sc.end == s + 7);
	CHECK(ts_json_scan(sc.end, s + strlen(s), 1, 0, &sc) == TS_JSON_OK);
	CHECK(sc.end == s + strlen(s));
	s = "[1][2]\"x\"\"y\"";
	CHECK(ts_json_scan(s, s + strlen(s), 1, 0, &sc) == TS_JSON_OK &&
	      sc.end == s + 3);
	CHECK(ts_json_scan(s + 6, s + strlen(s), 1, 0, &sc) == TS_JSON_OK &&
	      sc.end == s + 9);
	/* a scalar may be followed by whitespace or a container/string */
	s = "1 2";
	CHECK(ts_json_scan(s, s + 3, 1, 0, &sc) == TS_JSON_OK && sc.end == s + 1);
	s = "true{}";
	CHECK(ts_json_scan(s, s + 6, 1, 0, &sc) == TS_JSON_OK && sc.end == s + 4);
	s = "null\r\n";
	CHECK(ts_json_scan(s, s + 6, 0, 0, &sc) == TS_JSON_OK && sc.end == s + 4);
	/* ... but not glued to more text */
	CHECK(INVALID("true,", 4));
	CHECK(INVALID("1:", 1));
	CHECK(INVALID("null]", 4));
}

static void test_scan_depth(void)
{
	char buf[2 * (TS_JSON_MAX_DEPTH + 1)];
	size_t d;

	for (d = TS_JSON_MAX_DEPTH; d <= TS_JSON_MAX_DEPTH + 1; d++) {
		memset(buf, '[', d);
		memset(buf + d, ']', d);
		enum ts_json_status st = scan_n(buf, 2 * d, 1, 0);
		if (d == TS_JSON_MAX_DEPTH)
			CHECK(st == TS_JSON_OK && sc.end == buf + 2 * d);
		else
			CHECK(st == TS_JSON_ERROR && sc.err_at == buf + d - 1 &&
			      sc.err == ts_json_too_deep && strstr(sc.err, "deep"));
	}
	/* only a depth error says so */
	CHECK(scan_n("[[1 2]]", 7, 1, 0) == TS_JSON_ERROR && sc.err != ts_json_too_deep);
	CHECK(scan_n("[[{]]", 5, 1, 2) == TS_JSON_ERROR && sc.err == ts_json_too_deep &&
	      sc.err_at[0] == '{');
	/* objects count too, and a larger max_depth is capped */
	char obj[6 * 600 + 10];
	size_t n = 0;
	for (int i = 0; i < 600; i++) {
		memcpy(obj + n, "{\"a\":", 5);
		n += 5;
	}
	obj[n++] = '1';
	memset(obj + n, '}', 600);
	n += 600;
	CHECK(scan_n(obj, n, 1, 1000) == TS_JSON_ERROR);
	CHECK(sc.err_at == obj + 5 * TS_JSON_MAX_DEPTH);

	/* a small max_depth */
	CHECK(scan_n("[[1]]", 5, 1, 2) == TS_JSON_OK);
	CHECK(scan_n("[[[1]]]", 7, 1, 2) == TS_JSON_ERROR);
	CHECK(scan_n("{\"a\":{\"b\":{}}}", 14, 1, 2) == TS_JSON_ERROR);
	CHECK(scan_n("{\"a\":[],\"b\":{}}", 15, 1, 1) == TS_JSON_ERROR);
	CHECK(scan_n("{\"a\":1,\"b\":\"{[\"}", 16, 1, 1) == TS_JSON_OK);
	CHECK(scan_n("1", 1, 1, 1) == TS_JSON_OK);
	/* mixing objects and arrays across the 64-level words of the stack */
	n = 0;
	for (int i = 0; i < 200; i++) {
		if (i % 3) {
			memcpy(obj + n, "{\"k\":", 5);
			n += 5;
		} else
			obj[n++] = '[';
	}
	obj[n++] = '0';
	for (int i = 199; i >= 0; i--)
		obj[n++] = i % 3 ? '}' : ']';
	CHECK(scan_n(obj, n, 1, 0) == TS_JSON_OK && sc.end == obj + n);
	obj[n - 70] = obj[n - 70] == '}' ? ']' : '}';
	CHECK(scan_n(obj, n, 1, 0) == TS_JSON_ERROR && sc.err_at == obj + n - 70);
}

static void test_unescape(void)
{
	struct ts_buf b;

	ts_buf_init(&b, 0);
#define UNESC(lit, want)                                              \
	do {                                                          \
		ts_buf_reset(&b);                                     \
		CHECK(VALID(lit));                                    \
		CHECK(ts_json_unescape(&b, S(lit)) == 0);             \
		CHECK_MEM(b.data, b.len, want, sizeof(want) - 1);     \
	} while (0)
	UNESC("\"\"", "");
	UNESC("\"plain\"", "plain");
	UNESC("\"a\\\"b\\\\c\\/d\"", "a\"b\\c/d");
	UNESC("\"\\b\\f\\n\\r\\t\"", "\b\f\n\r\t");
	UNESC("\"\\u0041\\u00e9\\u00E9\\u20ac\"", "A\xc3\xa9\xc3\xa9\xe2\x82\xac");
	UNESC("\"\\u0000x\"", "\0x");
	UNESC("\"\\u007f\\u0080\\u07ff\\u0800\\uffff\"",
	      "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf");
	UNESC("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80");  /* surrogate pair */
	UNESC("\"\\uD83D\\uDE00\"", "\xf0\x9f\x98\x80");
	UNESC("\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf"); /* U+10FFFF */
	UNESC("\"\\ud800\\udc00\"", "\xf0\x90\x80\x80"); /* U+10000 */
	/* lone surrogates decode as U+FFFD */
	UNESC("\"\\ud83d\"", "\xef\xbf\xbd");
	UNESC("\"\\ud83dx\"", "\xef\xbf\xbdx");
	UNESC("\"\\ude00\"", "\xef\xbf\xbd");
	UNESC("\"\\ude00\\ud83d\"", "\xef\xbf\xbd\xef\xbf\xbd");
	UNESC("\"\\ud83d\\u0041\"", "\xef\xbf\xbd" "A");
	UNESC("\"\\ud83d\\n\"", "\xef\xbf\xbd\n");
	UNESC("\"\\ud800\\ud83d\\ude00\"", "\xef\xbf\xbd\xf0\x9f\x98\x80");
	UNESC("\"\\ud83d\\\\ude00\"", "\xef\xbf\xbd\\ude00");
	/* raw UTF-8 passes through */
	UNESC("\"\xc3\xa9\\n\xf0\x9f\x98\x80\"", "\xc3\xa9\n\xf0\x9f\x98\x80");
	/* it appends */
	ts_buf_reset(&b);
	ts_buf_addstr(&b, ">");
	CHECK(ts_json_unescape(&b, S("\"a\\tb\"")) == 0);
	CHECK_STR(b.data, ">a\tb");
	ts_buf_release(&b);

	/* at the buffer limit */
	ts_buf_init(&b, 4);
	errno = 0;
	CHECK(ts_json_unescape(&b, S("\"abcdefgh\"")) == -1 && errno == EFBIG);
	ts_buf_release(&b);
#undef UNESC
}

static void test_escape(void)
{
	struct ts_buf b;

	ts_buf_init(&b, 0);
#define ESC(in, want)                                                   \
	do {                                                            \
		ts_buf_reset(&b);                                       \
		CHECK(ts_json_escape(&b, in, sizeof(in) - 1) == 0);     \
		CHECK_MEM(b.data, b.len, want, sizeof(want) - 1);       \
	} while (0)
	ESC("", "\"\"");
	ESC("abc", "\"abc\"");
	ESC("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
	ESC("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"");
	ESC("\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\"");
	ESC("a\0b", "\"a\\u0000b\"");
	ESC("\x0b\x1b", "\"\\u000b\\u001b\"");
	ESC("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf",
	    "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"");
	char longs[100];
	memset(longs, 'x', sizeof(longs));
	longs[50] = '"';
	ts_buf_reset(&b);
	CHECK(ts_json_escape(&b, longs, sizeof(longs)) == 0);
	CHECK(b.len == sizeof(longs) + 3 && b.data[51] == '\\' && b.data[52] == '"');
#undef ESC

	/* invalid UTF-8: EILSEQ and nothing appended */
	static const char *const bad[] = {
		"\xff", "\x80", "a\xc3", "\xc3(", "\xc0\xaf", "\xe0\x80\xaf",
		"\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "ok\xf0\x9f\x98",
		"\xf8\x88\x80\x80\x80",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ts_buf_reset(&b);
		ts_buf_addstr(&b, "keep");
		errno = 0;
		CHECK(ts_json_escape(&b, bad[i], strlen(bad[i])) == -1 &&
		      errno == EILSEQ);
		CHECK_STR(b.data, "keep");
	}
	ts_buf_release(&b);

	/* at the buffer limit: EFBIG and nothing appended */
	ts_buf_init(&b, 8);
	ts_buf_addstr(&b, "ab");
	errno = 0;
	CHECK(ts_json_escape(&b, "cdefgh", 6) == -1 && errno == EFBIG);
	CHECK_STR(b.data, "ab");
	errno = 0;
	CHECK(ts_json_escape(&b, "\n\n\n", 3) == -1 && errno == EFBIG);
	CHECK_STR(b.data, "ab");
	CHECK(ts_json_escape(&b, "cd", 2) == 0);
	CHECK_STR(b.data, "ab\"cd\"");
	ts_buf_release(&b);

	/* round trip: escape, scan, unescape gives the bytes back */
	static const char *const rt[] = {
		"", "x", "a\"b", "\\\\", "\x01\x02\x03", "line\nline\r\n",
		"\xc3\xa9t\xc3\xa9", "\xf0\x9f\x98\x80 \xe2\x82\xac", "</script>",
	};
	struct ts_buf e, u;
	ts_buf_init(&e, 0);
	ts_buf_init(&u, 0);
	for (size_t i = 0; i < sizeof(rt) / sizeof(rt[0]); i++) {
		ts_buf_reset(&e);
		ts_buf_reset(&u);
		CHECK(ts_json_escape(&e, rt[i], strlen(rt[i])) == 0);
		CHECK(valid(e.data, e.len));
		CHECK(ts_json_unescape(&u, (struct ts_span){e.data, e.len}) == 0);
		CHECK_MEM(u.data, u.len, rt[i], strlen(rt[i]));
	}
	ts_buf_release(&e);
	ts_buf_release(&u);
}

static void test_utf8_prefix(void)
{
	CHECK(ts_utf8_valid_prefix("", 0) == 0);
	CHECK(ts_utf8_valid_prefix("abc", 3) == 3);
	CHECK(ts_utf8_valid_prefix("a\xc3\xa9z", 4) == 4);
	CHECK(ts_utf8_valid_prefix("a\xc3", 2) == 1);
	CHECK(ts_utf8_valid_prefix("ab\xff" "cd", 5) == 2);
	CHECK(ts_utf8_valid_prefix("\xed\xa0\x80", 3) == 0);
	CHECK(ts_utf8_valid_prefix("\xf0\x9f\x98\x80\xf0\x9f", 6) == 4);
	CHECK(ts_utf8_valid_prefix("a\0b", 3) == 3);
}

static void test_minify(void)
{
	struct ts_buf b;

	ts_buf_init(&b, 0);
#define MIN(in, want)                                                   \
	do {                                                            \
		ts_buf_reset(&b);                                       \
		CHECK(VALID(in));                                       \
		CHECK(ts_json_minify(&b, S(in)) == 0);                  \
		CHECK_MEM(b.data, b.len, want, sizeof(want) - 1);       \
		CHECK(valid(b.data, b.len));                            \
	} while (0)
	MIN("{\"a\":1}", "{\"a\":1}");
	MIN("{ \"a\" : [ 1 , 2 ] ,\n \"b\" : \" x  y \" }",
	    "{\"a\":[1,2],\"b\":\" x  y \"}");
	MIN("[\r\n\t\"a\\\" b\" ,\t\"c \\\\\" , \"\\\\\\\" d\" ]",
	    "[\"a\\\" b\",\"c \\\\\",\"\\\\\\\" d\"]");
	MIN("{\n  \"k e y\": {\n    \"n\": -1.5e3,\n    \"t\": true\n  }\n}",
	    "{\"k e y\":{\"n\":-1.5e3,\"t\":true}}");
	MIN("\"  \"", "\"  \"");
	MIN("[ ]", "[]");
	MIN("[\"\xc3\xa9 \xe2\x82\xac\"]", "[\"\xc3\xa9 \xe2\x82\xac\"]");
#undef MIN
	ts_buf_release(&b);
}

static void test_iterate(void)
{
	const char *doc = "{ \"a\" : 1 ,\n \"b\":[1, [2,3] ,{\"x\":\"}]\"}],"
			  "\"c\\\"q\":\"s,\\\"}\", \"d\":{}, \"e\":-2.5e1 }";
	struct ts_span v = {doc, strlen(doc)}, k, val, el;
	struct ts_json_iter it;
	int n = 0;

	CHECK(valid(doc, strlen(doc)));
	ts_json_iter_init(&it, v);
	static const char *const keys[] = {"\"a\"", "\"b\"", "\"c\\\"q\"", "\"d\"", "\"e\""};
	static const char *const vals[] = {"1", "[1, [2,3] ,{\"x\":\"}]\"}]",
					   "\"s,\\\"}\"", "{}", "-2.5e1"};
	while (ts_json_obj_next(&it, &k, &val)) {
		if (!CHECK(n < 5))
			break;
		CHECK_MEM(k.p, k.n, keys[n], strlen(keys[n]));
		CHECK_MEM(val.p, val.n, vals[n], strlen(vals[n]));
		n++;
	}
	CHECK(n == 5);
	CHECK(ts_json_obj_next(&it, &k, &val) == 0); /* stays at the end */

	/* the array member */
	CHECK(ts_json_obj_get(v, "b", 1, &val));
	ts_json_iter_init(&it, val);
	static const char *const els[] = {"1", "[2,3]", "{\"x\":\"}]\"}"};
	n = 0;
	while (ts_json_arr_next(&it, &el)) {
		if (!CHECK(n < 3))
			break;
		CHECK_MEM(el.p, el.n, els[n], strlen(els[n]));
		n++;
	}
	CHECK(n == 3);

	/* empty containers */
	ts_json_iter_init(&it, S("[]"));
	CHECK(ts_json_arr_next(&it, &el) == 0);
	ts_json_iter_init(&it, S("[ \n ]"));
	CHECK(ts_json_arr_next(&it, &el) == 0);
	ts_json_iter_init(&it, S("{ }"));
	CHECK(ts_json_obj_next(&it, &k, &val) == 0);
	/* scalars in arrays, with every kind of whitespace */
	ts_json_iter_init(&it, S("[\ttrue\r\n,null ,\"a b\",-0]"));
	n = 0;
	while (ts_json_arr_next(&it, &el))
		n++;
	CHECK(n == 4);
	CHECK_MEM(el.p, el.n, "-0", 2);

	/* ts_json_skip: one whole value, strings with escaped quotes */
	const char *s = "\"a\\\\\" rest";
	CHECK(ts_json_skip(s, s + strlen(s)) == s + 5);
	s = "\"a\\\"\\\\\\\"\" rest";
	CHECK(ts_json_skip(s, s + strlen(s)) == s + 9);
	s = "{\"a\":[1,{}]} x";
	CHECK(ts_json_skip(s, s + strlen(s)) == s + 12);
	s = "123,4";
	CHECK(ts_json_skip(s, s + strlen(s)) == s + 3);
	s = "  \t x";
	CHECK(ts_json_skip_ws(s, s + strlen(s)) == s + 4);
}

static void test_keys(void)
{
	struct ts_span val;

	CHECK(ts_json_key_eq(S("\"abc\""), "abc", 3));
	CHECK(!ts_json_key_eq(S("\"abc\""), "ab", 2));
	CHECK(!ts_json_key_eq(S("\"abc\""), "abcd", 4));
	CHECK(!ts_json_key_eq(S("\"abc\""), "abd", 3));
	CHECK(ts_json_key_eq(S("\"\""), "", 0));
	/* escaped keys compare by their decoded bytes */
	CHECK(ts_json_key_eq(S("\"a\\u0062c\""), "abc", 3));
	CHECK(ts_json_key_eq(S("\"a\\\"b\""), "a\"b", 3));
	CHECK(ts_json_key_eq(S("\"\\u00e9\""), "\xc3\xa9", 2));
	CHECK(ts_json_key_eq(S("\"\\ud83d\\ude00\""), "\xf0\x9f\x98\x80", 4));
	CHECK(ts_json_key_eq(S("\"a\\\\n\""), "a\\n", 3)); /* backslash, n */
	CHECK(ts_json_key_eq(S("\"a\\n\""), "a\n", 2));    /* newline */
	/* a name holding a backslash must not match the raw escape bytes */
	CHECK(!ts_json_key_eq(S("\"a\\n\""), "a\\n", 3));
	CHECK(!ts_json_key_eq(S("\"a\\\"\""), "a\\\"", 3));
	CHECK(!ts_json_key_eq(S("\"\\u0041\""), "\\u0041", 6));
	CHECK(ts_json_key_eq(S("\"\\u0000\""), "\0", 1));

	/* obj_get: the last duplicate wins, escaped or not */
	const char *doc = "{\"a\":1,\"b\":2,\"a\":3}";
	CHECK(ts_json_obj_get((struct ts_span){doc, strlen(doc)}, "a", 1, &val));
	CHECK_MEM(val.p, val.n, "3", 1);
	CHECK(ts_json_obj_get(S("{\"a\":1,\"\\u0061\":[2]}"), "a", 1, &val));
	CHECK_MEM(val.p, val.n, "[2]", 3);
	CHECK(ts_json_obj_get(S("{\"x\":{\"a\":1}}"), "a", 1, &val) == 0);
	CHECK(ts_json_obj_get(S("{}"), "a", 1, &val) == 0);
	CHECK(ts_json_obj_get(S("[\"a\",1]"), "a", 1, &val) == 0);
	CHECK(ts_json_obj_get(S("\"a\""), "a", 1, &val) == 0);
	CHECK(ts_json_obj_get((struct ts_span){"", 0}, "a", 1, &val) == 0);
	CHECK(ts_json_obj_get(S("{ \"a b\" :\n\"v\" }"), "a b", 3, &val));
	CHECK_MEM(val.p, val.n, "\"v\"", 3);
}

/* The first-level index noted while scanning (ts_json_scan_keys). */
static void test_scan_keys(void)
{
	struct ts_json_keys k;
	struct ts_span v;
	const char *s = "{ \"a\" : 1 , \"b\":{\"x\":[1,2]},\"c\\u0064\":\"s\",\"a\":[3] }";

	CHECK(ts_json_scan_keys(s, s + strlen(s), 1, 0, &k, &sc) == TS_JSON_OK);
	CHECK(sc.end == s + strlen(s));
	CHECK(k.n == 4 && !k.overflow);
	if (k.n == 4) {
		CHECK_MEM(k.k[0].p, k.k[0].n, "\"a\"", 3);
		CHECK_MEM(k.v[0].p, k.v[0].n, "1", 1);
		CHECK_MEM(k.v[1].p, k.v[1].n, "{\"x\":[1,2]}", 11);
		CHECK_MEM(k.k[2].p, k.k[2].n, "\"c\\u0064\"", 9);
		CHECK_MEM(k.v[3].p, k.v[3].n, "[3]", 3);
	}
	/* lookups: decoded names, the last duplicate wins, nested keys absent */
	CHECK(ts_json_keys_get(&k, "a", 1, &v) == 1);
	CHECK_MEM(v.p, v.n, "[3]", 3);
	CHECK(ts_json_keys_get(&k, "cd", 2, &v) == 1);
	CHECK_MEM(v.p, v.n, "\"s\"", 3);
	CHECK(ts_json_keys_get(&k, "x", 1, &v) == 0);
	/* the same verdicts as ts_json_scan */
	s = "[1,{\"a\":2}]";
	CHECK(ts_json_scan_keys(s, s + 11, 1, 0, &k, &sc) == TS_JSON_OK && k.n == 0);
	s = "{\"a\":1,\"b\":x}";
	CHECK(ts_json_scan_keys(s, s + strlen(s), 1, 0, &k, &sc) == TS_JSON_ERROR &&
	      sc.err_at == s + 11);
	s = "{\"a\":1";
	CHECK(ts_json_scan_keys(s, s + strlen(s), 1, 0, &k, &sc) == TS_JSON_INCOMPLETE);
	s = "12";
	CHECK(ts_json_scan_keys(s, s + 2, 0, 0, &k, &sc) == TS_JSON_INCOMPLETE);

	/* past TS_JSON_KEYS_MAX members: overflow, the rest not noted */
	struct ts_buf b;
	ts_buf_init(&b, 0);
	ts_buf_addch(&b, '{');
	for (int i = 0; i < TS_JSON_KEYS_MAX + 5; i++)
		ts_buf_addf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
	ts_buf_addstr(&b, ",\"k0\":\"last\"}");
	CHECK(ts_json_scan_keys(b.data, b.data + b.len, 1, 0, &k, &sc) == TS_JSON_OK);
	CHECK(k.n == TS_JSON_KEYS_MAX && k.overflow);
	ts_buf_release(&b);

	/* ts_json_scan_nested: no look at what follows a scalar */
	s = "12,";
	CHECK(ts_json_scan_nested(s, s + 3, 0, &sc) == TS_JSON_OK && sc.end == s + 2);
	s = "true]";
	CHECK(ts_json_scan_nested(s, s + 5, 0, &sc) == TS_JSON_OK && sc.end == s + 4);
	s = "12";
	CHECK(ts_json_scan_nested(s, s + 2, 0, &sc) == TS_JSON_INCOMPLETE);
	s = "[[1]]";
	CHECK(ts_json_scan_nested(s, s + 5, 1, &sc) == TS_JSON_ERROR);
}

int main(void)
{
	test_scan_valid();
	test_scan_invalid();
	test_scan_incomplete();
	test_scan_after();
	test_scan_depth();
	test_unescape();
	test_escape();
	test_utf8_prefix();
	test_minify();
	test_iterate();
	test_keys();
	test_scan_keys();
	return check_done();
}
