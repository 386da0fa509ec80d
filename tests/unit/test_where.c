/* test_where.c — lib/where.h: every construct, SQL's three-valued logic,
 * Spark's coercions, nested columns, strings and escapes, errors. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "where.h"

/* Evaluate pred on rec three ways (walking the record, through its index,
 * and a clone): all must agree.  -2 when pred does not parse. */
static int ev(const char *pred, const char *rec)
{
	char err[200];
	struct ts_where *w = ts_where_parse(pred, strlen(pred), err, sizeof(err));
	struct ts_json_keys idx;
	struct ts_json_scan sc;
	struct ts_span r = {rec, strlen(rec)};

	if (!w) {
		fprintf(stderr, "    %s: %s\n", pred, err);
		return -2;
	}
	if (!CHECK(ts_json_scan_keys(rec, rec + r.n, 1, 0, &idx, &sc) == TS_JSON_OK &&
		   sc.end == rec + r.n)) {
		ts_where_free(w);
		return -3;
	}
	int a = ts_where_eval(w, r, NULL);
	int b = ts_where_eval(w, r, &idx);
	struct ts_where *c = ts_where_clone(w);
	int d = c ? ts_where_eval(c, r, &idx) : -4;
	/* again: the scratch state of one record does not leak into the next */
	int e = ts_where_eval(w, r, NULL);
	ts_where_free(c);
	ts_where_free(w);
	if (!CHECK(a == b && a == d && a == e))
		fprintf(stderr, "    %s on %s: %d %d %d %d\n", pred, rec, a, b, d, e);
	return a;
}

#define T(pred, rec, want)                                                   \
	do {                                                                 \
		int got_ = ev(pred, rec);                                    \
		if (!CHECK(got_ == (want)))                                  \
			fprintf(stderr, "    %s on %s: got %d, want %d\n", pred, \
				rec, got_, want);                            \
	} while (0)

/* pred does not parse; the message holds want and ends " at column col". */
static void err_is(const char *pred, size_t n, const char *want, int col,
		   const char *file, int line)
{
	char err[200], tail[40];
	struct ts_where *w = ts_where_parse(pred, n, err, sizeof(err));

	if (!check_(w == NULL, file, line, "parse fails")) {
		ts_where_free(w);
		fprintf(stderr, "    %s\n", pred);
		return;
	}
	snprintf(tail, sizeof(tail), " at column %d", col);
	size_t el = strlen(err), tl = strlen(tail);
	int ok = strstr(err, want) && el > tl && strcmp(err + el - tl, tail) == 0;
	if (!check_(ok, file, line, "error message"))
		fprintf(stderr, "    %s: got \"%s\", want \"%s\"%s\n", pred, err,
			want, tail);
}
#define ERR(pred, want, col) err_is(pred, strlen(pred), want, col, __FILE__, __LINE__)

static void test_compare_numbers(void)
{
	T("a = 1", "{\"a\":1}", 1);
	T("a = 1", "{\"a\":1.0}", 1);
	T("a = 1", "{\"a\":10e-1}", 1);
	T("a = 1", "{\"a\":2}", 0);
	T("a == 1", "{\"a\":1}", 1);
	T("a != 1", "{\"a\":2}", 1);
	T("a <> 1", "{\"a\":1}", 0);
	T("a < 2", "{\"a\":1.5}", 1);
	T("a <= 1.5", "{\"a\":1.5}", 1);
	T("a > 1.5", "{\"a\":1.5}", 0);
	T("a >= -3", "{\"a\":-3}", 1);
	T("a > -3", "{\"a\":-2.5e0}", 1);
	T("-3 < a", "{\"a\":0}", 1);
	/* exact, not through doubles */
	T("a = 12345678901234567891", "{\"a\":12345678901234567890}", 0);
	T("a < 12345678901234567891", "{\"a\":12345678901234567890}", 1);
	T("a > 1e399", "{\"a\":1e400}", 1);
	T("a = 0.1", "{\"a\":0.1}", 1);
	T("a = 0", "{\"a\":-0.0}", 1);
	/* literal forms */
	T("a = .5", "{\"a\":0.5}", 1);
	T("a = 5.", "{\"a\":5}", 1);
	T("a = 007", "{\"a\":7}", 1);
	T("a = 1E3", "{\"a\":1000}", 1);
	T("a = 2.5e-3", "{\"a\":0.0025}", 1);
	T("a = 10L AND a = 10S AND a = 10Y AND a = 10D AND a = 10F AND a = 10BD",
	  "{\"a\":10}", 1);
	T("a = - 5", "{\"a\":-5}", 1);
	T("a = -(-5)", "{\"a\":5}", 1);
	T("a = +5", "{\"a\":5}", 1);
}

static void test_null_and_missing(void)
{
	T("a = 1", "{}", 0);
	T("NOT a = 1", "{}", 0);
	T("a <> 1", "{\"a\":null}", 0);
	T("NOT a <> 1", "{\"a\":null}", 0);
	T("a IS NULL", "{}", 1);
	T("a IS NULL", "{\"a\":null}", 1);
	T("a IS NULL", "{\"a\":0}", 0);
	T("a IS NULL", "{\"a\":\"\"}", 0);
	T("a IS NULL", "{\"a\":[]}", 0);
	T("a IS NOT NULL", "{\"a\":false}", 1);
	T("a IS NOT NULL", "{}", 0);
	T("a = NULL", "{\"a\":null}", 0);
	T("NOT a = NULL", "{\"a\":null}", 0);
	T("NULL IS NULL", "{}", 1);
	/* three-valued AND, OR, NOT */
	T("a = 1 OR b = 2", "{\"b\":2}", 1);
	T("a = 1 OR b = 3", "{\"b\":2}", 0);
	T("NOT (a = 1 OR b = 3)", "{\"b\":2}", 0);   /* NOT UNKNOWN */
	T("a = 1 AND b = 2", "{\"b\":2}", 0);
	T("NOT (a = 1 AND b = 3)", "{\"b\":2}", 1);  /* UNKNOWN AND FALSE */
	T("NOT (a = 1 AND b = 2)", "{\"b\":2}", 0);  /* UNKNOWN AND TRUE */
	T("(a = 1) IS UNKNOWN", "{}", 1);
	T("(a = 1) IS NOT UNKNOWN", "{}", 0);
	T("(a = 1) IS NOT TRUE", "{}", 1);
	T("(a = 1) IS FALSE", "{}", 0);
	T("(a = 1) IS FALSE", "{\"a\":2}", 1);
	T("(a = 1) IS NOT FALSE", "{\"a\":1}", 1);
	T("a IS NULL", "[1,2]", 1); /* not an object: no columns */
	T("a IS NULL", "\"a\"", 1);
	/* null-safe equality */
	T("a <=> NULL", "{}", 1);
	T("a <=> NULL", "{\"a\":1}", 0);
	T("a <=> 1", "{\"a\":1}", 1);
	T("a <=> b", "{}", 1);
	T("a IS DISTINCT FROM 1", "{}", 1);
	T("a IS DISTINCT FROM 1", "{\"a\":1}", 0);
	T("a IS NOT DISTINCT FROM NULL", "{\"a\":null}", 1);
	T("a IS NOT DISTINCT FROM b", "{\"a\":\"x\",\"b\":\"x\"}", 1);
}

static void test_strings(void)
{
	T("s = 'x'", "{\"s\":\"x\"}", 1);
	T("s = \"x\"", "{\"s\":\"x\"}", 1);
	T("s = 'x'", "{\"s\":\"X\"}", 0);
	T("s = 'it''s'", "{\"s\":\"it's\"}", 1);
	T("s = \"say \"\"hi\"\"\"", "{\"s\":\"say \\\"hi\\\"\"}", 1);
	T("s = 'it\\'s'", "{\"s\":\"it's\"}", 1);
	T("s = 'it''s'", "{\"s\":\"it\\u0027s\"}", 1);
	T("s = 'a\\tb\\nc\\\\'", "{\"s\":\"a\\tb\\nc\\\\\"}", 1);
	T("s = '\\u00e9t\\u00E9'", "{\"s\":\"\\u00e9t\\u00e9\"}", 1);
	T("s = '\\101'", "{\"s\":\"A\"}", 1);     /* octal */
	T("s = '\\b\\r\\Z'", "{\"s\":\"\\b\\r\\u001a\"}", 1);
	T("s = '\\x'", "{\"s\":\"x\"}", 1);       /* any other: itself */
	T("s = '\\0'", "{\"s\":\"\\u0000\"}", 1); /* NUL inside */
	T("s = '\\0'", "{\"s\":\"\"}", 0);
	T("s = '\\ud83d\\ude00'", "{\"s\":\"\xf0\x9f\x98\x80\"}", 1);
	T("s = '\\ud800'", "{\"s\":\"\\ud800\"}", 1); /* both U+FFFD */
	/* unicode, raw and escaped */
	T("s = '\xc3\xa9t\xc3\xa9'", "{\"s\":\"\\u00e9t\\u00e9\"}", 1);
	T("s = '\xc3\xa9t\xc3\xa9'", "{\"s\":\"\xc3\xa9t\xc3\xa9\"}", 1);
	T("s = '\xe6\x97\xa5\xe6\x9c\xac'", "{\"s\":\"\xe6\x97\xa5\xe6\x9c\xac\"}", 1);
	/* order: decoded bytes, code point order */
	T("s < 'b'", "{\"s\":\"abc\"}", 1);
	T("s < 'ab'", "{\"s\":\"a\"}", 1);
	T("s > 'z'", "{\"s\":\"\xc3\xa9\"}", 1);
	T("s >= ''", "{\"s\":\"\"}", 1);
	T("s = t", "{\"s\":\"a\\u0062\",\"t\":\"ab\"}", 1);
	T("s = t", "{\"s\":\"a\\\"\",\"t\":\"a\\u0022\"}", 1);
	/* string against string compares as strings even when numeric */
	T("s > '5'", "{\"s\":\"10\"}", 0);
	T("s = '1.0'", "{\"s\":\"1\"}", 0);
}

static void test_coercion(void)
{
	/* a string against a number is cast to a number */
	T("s = 12", "{\"s\":\"12\"}", 1);
	T("s = 12", "{\"s\":\" 12 \"}", 1);
	T("s = 12", "{\"s\":\"12.0\"}", 1);
	T("s = 12", "{\"s\":\"+1.2e1\"}", 1);
	T("s = 0.5", "{\"s\":\".5\"}", 1);
	T("s = 5", "{\"s\":\"5.\"}", 1);
	T("s = 7", "{\"s\":\"007\"}", 1);
	T("s = 12", "{\"s\":\"12abc\"}", 0);
	T("NOT s = 12", "{\"s\":\"12abc\"}", 0); /* NULL after the cast */
	T("s <> 12", "{\"s\":\"\"}", 0);
	T("s = 12", "{\"s\":\"12L\"}", 0);      /* suffixes are for literals */
	T("s > 5", "{\"s\":\"10\"}", 1);        /* numeric, not "10" < "5" */
	T("s > 1e400", "{\"s\":\"2e400\"}", 1);
	T("n = '12'", "{\"n\":12}", 1);
	T("'12' = n", "{\"n\":12.0}", 1);
	T("n < ' 13 '", "{\"n\":12}", 1);
	T("n = 'x'", "{\"n\":12}", 0);
	T("NOT n = 'x'", "{\"n\":12}", 0);
	T("s > 1e308 * 10", "{\"s\":\"Infinity\"}", 0); /* inf = inf */
	T("s = 1e308 * 10", "{\"s\":\"infinity\"}", 1);
	T("s < 0", "{\"s\":\"-Inf\"}", 1);
	T("s > 1e400", "{\"s\":\"NaN\"}", 1); /* NaN is above every number */
	T("s = 0 / 0", "{\"s\":\"nan\"}", 0); /* 0 / 0 is NULL, not NaN */
	T("s * 1 = s * 1", "{\"s\":\"NaN\"}", 1); /* NaN equals NaN */
	/* booleans */
	T("b", "{\"b\":true}", 1);
	T("b", "{\"b\":false}", 0);
	T("NOT b", "{\"b\":false}", 1);
	T("NOT b", "{}", 0);
	T("b = true", "{\"b\":true}", 1);
	T("b = FALSE", "{\"b\":false}", 1);
	T("b <> false", "{\"b\":true}", 1);
	T("b > false", "{\"b\":true}", 1);
	T("b = 'yes'", "{\"b\":true}", 1);
	T("b = ' F '", "{\"b\":false}", 1);
	T("b = 'maybe'", "{\"b\":true}", 0);
	T("NOT b = 'maybe'", "{\"b\":true}", 0);
	T("b = 1", "{\"b\":true}", 1);
	T("b = 0", "{\"b\":false}", 1);
	T("1 = b", "{\"b\":true}", 1);
	T("0.5 < b", "{\"b\":true}", 1);
	T("b = 2", "{\"b\":true}", 0);
	T("b", "{\"b\":\"true\"}", 1);  /* a string as a condition: cast */
	T("b", "{\"b\":\"no\"}", 0);
	T("NOT b", "{\"b\":\"no\"}", 1);
	T("b", "{\"b\":1}", 0);         /* a number is no condition */
	T("NOT b", "{\"b\":1}", 0);
	T("b IS TRUE", "{\"b\":true}", 1);
	T("b IS NOT FALSE", "{}", 1);
	/* arrays and objects compare as UNKNOWN */
	T("a = 1", "{\"a\":[1]}", 0);
	T("NOT a = 1", "{\"a\":[1]}", 0);
	T("a <=> a", "{\"a\":{}}", 0);
}

static void test_nested(void)
{
	T("a.b = 1", "{\"a\":{\"b\":1}}", 1);
	T("a.b.c = 'x'", "{\"a\":{\"b\":{\"c\":\"x\"}}}", 1);
	T("a.b = 1", "{\"a\":{\"c\":1}}", 0);
	T("a.b IS NULL", "{\"a\":{\"c\":1}}", 1);
	T("a.b IS NULL", "{\"a\":[{\"b\":1}]}", 1); /* objects only */
	T("a.b IS NULL", "{\"a\":\"b\"}", 1);
	/* a top-level member named with the dots first */
	T("a.b = 1", "{\"a.b\":1,\"a\":{\"b\":2}}", 1);
	T("a.b = 2", "{\"a\":{\"b\":2},\"a.b\":1}", 0);
	T("a.b = 2", "{\"a\":{\"b\":2},\"a.b\":null}", 0);
	/* backquotes: one name, never split */
	T("`a.b` = 1", "{\"a\":{\"b\":1}}", 0);
	T("`a.b` = 1", "{\"a.b\":1}", 1);
	T("`a`.`b` = 1", "{\"a\":{\"b\":1}}", 1);
	T("`a b`.c = 1", "{\"a b\":{\"c\":1}}", 1);
	T("`we``ird` = 1", "{\"we`ird\":1}", 1);
	T("`\xc3\xa9t\xc3\xa9` = 1", "{\"\\u00e9t\\u00e9\":1}", 1);
	T("`` = 1", "{\"\":1}", 1);
	T("`and` = 1", "{\"and\":1}", 1);
	T("`1` = 1", "{\"1\":1}", 1);
	T("_x1 = 1 AND x_2 = 2", "{\"_x1\":1,\"x_2\":2}", 1);
	T("1a = 1", "{\"1a\":1}", 1); /* a name: not a number */
	T("1e3x = 1", "{\"1e3x\":1}", 1);
	T("a.1 = 1", "{\"a\":{\"1\":1}}", 1);
	/* names are exact, case and all */
	T("A = 1", "{\"a\":1}", 0);
	T("a = 1", "{\"a\":2,\"a\":1}", 1); /* the last duplicate wins */
	T("a.b = 1", "{\"a\":{\"b\":2,\"b\":1}}", 1);
	/* escaped keys in the record */
	T("ab = 1", "{\"a\\u0062\":1}", 1);
	T("s = 1", "{\"s\":1, \"t\" : 2}", 1);
}

static void test_in_between(void)
{
	T("a IN (1, 2, 3)", "{\"a\":2}", 1);
	T("a IN (1, 2, 3)", "{\"a\":4}", 0);
	T("a IN (1)", "{\"a\":1.0}", 1);
	T("a NOT IN (1, 2)", "{\"a\":4}", 1);
	T("a NOT IN (1, 2)", "{\"a\":1}", 0);
	T("a NOT IN (1, 2)", "{}", 0);
	T("a IN (1, 2)", "{}", 0);
	T("a IN (1, NULL)", "{\"a\":1}", 1);
	T("a IN (1, NULL)", "{\"a\":4}", 0);
	T("a NOT IN (1, NULL)", "{\"a\":4}", 0);  /* never TRUE */
	T("(a IN (1, NULL)) IS UNKNOWN", "{\"a\":4}", 1);
	T("s IN ('x', 'y')", "{\"s\":\"y\"}", 1);
	T("s IN ('x', 'y')", "{\"s\":\"z\"}", 0);
	T("s IN (1, 2)", "{\"s\":\"2\"}", 1);     /* pairwise coercion */
	T("s IN (1, 2)", "{\"s\":\"2.0\"}", 1);
	T("a IN (b, c + 1)", "{\"a\":3,\"b\":1,\"c\":2}", 1);
	T("a in (1) and b not in (2)", "{\"a\":1,\"b\":3}", 1);
	T("a BETWEEN 1 AND 3", "{\"a\":1}", 1);
	T("a BETWEEN 1 AND 3", "{\"a\":3}", 1);
	T("a BETWEEN 1 AND 3", "{\"a\":2.5}", 1);
	T("a BETWEEN 1 AND 3", "{\"a\":3.01}", 0);
	T("a BETWEEN 1 AND 3", "{\"a\":0}", 0);
	T("a BETWEEN 1 AND 3", "{}", 0);
	T("NOT a BETWEEN 1 AND 3", "{}", 0);
	T("a NOT BETWEEN 1 AND 3", "{\"a\":0}", 1);
	T("a NOT BETWEEN 1 AND 3", "{\"a\":2}", 0);
	T("a BETWEEN 1 AND b", "{\"a\":5}", 0);
	T("a NOT BETWEEN 1 AND b", "{\"a\":0}", 1); /* FALSE AND UNKNOWN */
	T("a NOT BETWEEN 1 AND b", "{\"a\":2}", 0); /* UNKNOWN */
	T("a BETWEEN 1 AND 3 AND b = 1", "{\"a\":2,\"b\":1}", 1);
	T("a BETWEEN 1 AND 3 AND b = 1", "{\"a\":2,\"b\":2}", 0);
	T("s BETWEEN 'a' AND 'c'", "{\"s\":\"b\"}", 1);
	T("s BETWEEN 1 AND 3", "{\"s\":\"2\"}", 1);
	T("a BETWEEN 1 + 1 AND 2 * 2", "{\"a\":4}", 1);
}

static void test_like(void)
{
	T("s LIKE 'ab%'", "{\"s\":\"abc\"}", 1);
	T("s LIKE 'ab%'", "{\"s\":\"ab\"}", 1);
	T("s LIKE 'ab%'", "{\"s\":\"xab\"}", 0);
	T("s LIKE '%b'", "{\"s\":\"aab\"}", 1);
	T("s LIKE '%b%'", "{\"s\":\"b\"}", 1);
	T("s LIKE 'a_c'", "{\"s\":\"abc\"}", 1);
	T("s LIKE 'a_c'", "{\"s\":\"ac\"}", 0);
	T("s LIKE 'a_c'", "{\"s\":\"abbc\"}", 0);
	T("s LIKE '%a%b%c'", "{\"s\":\"xxaxxbxbxxc\"}", 1);
	T("s LIKE '%a%b%c'", "{\"s\":\"xxaxxbxbxxcx\"}", 0);
	T("s LIKE '%%%'", "{\"s\":\"\"}", 1);
	T("s LIKE ''", "{\"s\":\"\"}", 1);
	T("s LIKE ''", "{\"s\":\"a\"}", 0);
	T("s LIKE 'abc'", "{\"s\":\"ABC\"}", 0); /* case-sensitive */
	T("s LIKE '_'", "{\"s\":\"\xc3\xa9\"}", 1); /* one character */
	T("s LIKE '__'", "{\"s\":\"\xc3\xa9\"}", 0);
	T("s LIKE '%\xc3\xa9_'", "{\"s\":\"x\\u00e9\xe6\x97\xa5\"}", 1);
	T("s LIKE '_\xe6\x97\xa5%'", "{\"s\":\"\xf0\x9f\x98\x80\xe6\x97\xa5\"}", 1);
	/* the escape character */
	T("s LIKE 'a\\%'", "{\"s\":\"a%\"}", 1);
	T("s LIKE 'a\\%'", "{\"s\":\"ab\"}", 0);
	T("s LIKE 'a\\_'", "{\"s\":\"a_\"}", 1);
	T("s LIKE 'a\\_'", "{\"s\":\"ab\"}", 0);
	T("s LIKE 'a\\\\\\\\'", "{\"s\":\"a\\\\\"}", 1); /* \\ in the pattern */
	T("s LIKE 'a!%' ESCAPE '!'", "{\"s\":\"a%\"}", 1);
	T("s LIKE 'a!%' escape '!'", "{\"s\":\"ab\"}", 0);
	T("s LIKE 'a!!%' ESCAPE '!'", "{\"s\":\"a!x\"}", 1);
	T("s LIKE 'a\\%' ESCAPE '!'", "{\"s\":\"a\\\\x\"}", 1); /* \ is plain */
	T("s LIKE 'a\xc3\xa9%' ESCAPE '\xc3\xa9'", "{\"s\":\"a%\"}", 1);
	T("s LIKE 'a\xc3\xa9\xc3\xa9%' ESCAPE '\xc3\xa9'", "{\"s\":\"a\xc3\xa9x\"}", 1);
	T("s LIKE '%b'", "{\"s\":\"\xc3\xa9" "bb\"}", 1);
	T("s LIKE '%\xc3\xa9'", "{\"s\":\"\xe6\x97\xa5\xc3\xa9\"}", 1);
	T("s NOT LIKE 'a%'", "{\"s\":\"b\"}", 1);
	T("s NOT LIKE 'a%'", "{\"s\":\"a\"}", 0);
	T("s LIKE 'a%'", "{}", 0);
	T("s NOT LIKE 'a%'", "{}", 0);
	T("s LIKE 'a%'", "{\"s\":[\"a\"]}", 0);
	T("s NOT LIKE 'a%'", "{\"s\":[\"a\"]}", 0);
	/* numbers as written, booleans as true / false */
	T("n LIKE '1%'", "{\"n\":123}", 1);
	T("n LIKE '%e5'", "{\"n\":1e5}", 1);
	T("b LIKE 't%'", "{\"b\":true}", 1);
	T("b LIKE 'false'", "{\"b\":false}", 1);
	T("n * 2 LIKE '2.5'", "{\"n\":1.25}", 1);
	T("s LIKE 'a\\u0025'", "{\"s\":\"abc\"}", 1); /* \u0025 decodes to a wildcard % */
}

static void test_arithmetic_precedence(void)
{
	T("a + b = 3", "{\"a\":1,\"b\":2}", 1);
	T("a - b = -1", "{\"a\":1,\"b\":2}", 1);
	T("a * 2 > 5", "{\"a\":3}", 1);
	T("a / 2 = 1.5", "{\"a\":3}", 1);
	T("a % 3 = 1", "{\"a\":7}", 1);
	T("a / 0 IS NULL", "{\"a\":3}", 1);
	T("a % 0 IS NULL", "{\"a\":3}", 1);
	T("-a = -3", "{\"a\":3}", 1);
	T("(-a) IS NULL", "{}", 1);
	T("-a = -3", "{\"a\":\"3\"}", 1);
	T("a - -1 = 4", "{\"a\":3}", 1);
	T("a + 1 = 2", "{\"a\":\"1\"}", 1);   /* strings are cast */
	T("(a + 1) IS NULL", "{\"a\":\"x\"}", 1);
	T("(a + 1) IS NULL", "{\"a\":true}", 1);
	T("(a + 1) IS NULL", "{}", 1);
	T("1 + 2 * 3 = 7", "{}", 1);
	T("(1 + 2) * 3 = 9", "{}", 1);
	T("10 - 2 - 3 = 5", "{}", 1);
	T("8 / 2 / 2 = 2", "{}", 1);
	T("1 + 1 + 1 + 1 + 1 + 1 = 6", "{}", 1);
	T("0.1 + 0.2 = 0.30000000000000004", "{}", 1); /* in doubles */
	/* NOT looser than comparisons, AND tighter than OR */
	T("NOT a = 1", "{\"a\":2}", 1);
	T("! a = 1", "{\"a\":2}", 1);
	T("NOT NOT a = 1", "{\"a\":1}", 1);
	T("a = 1 OR b = 1 AND c = 1", "{\"a\":1,\"b\":0,\"c\":0}", 1);
	T("(a = 1 OR b = 1) AND c = 1", "{\"a\":1,\"b\":0,\"c\":0}", 0);
	T("a > 1 = TRUE", "{\"a\":2}", 1);
	T("(a > 1) = (b > 1)", "{\"a\":0,\"b\":0}", 1);
	T("a = 1 IS NULL", "{}", 1); /* (a = 1) IS NULL, as in Spark */
	T("(a = 1) IS NULL", "{}", 1);
	T("a IS NULL AND b IS NOT NULL OR c", "{\"b\":0}", 1);
	/* whitespace, case and comments */
	T("  a\t=\n1\r\n", "{\"a\":1}", 1);
	T("a = 1 -- a comment", "{\"a\":1}", 1);
	T("a = 1 -- a comment\nAND b = 2", "{\"a\":1,\"b\":3}", 0);
	T("/* one /* nested */ comment */ a = 1", "{\"a\":1}", 1);
	T("a iS nOt NuLl aNd B BeTwEeN 1 AnD 2", "{\"a\":1,\"B\":2}", 1);
	T("TRUE", "{}", 1);
	T("false OR true", "{}", 1);
	T("NULL", "{}", 0);
	/* the deequ case */
	T("val1 > 1 and val1 < 4", "{\"item\": \"22\", \"val1\": 2}", 1);
	T("val1 > 1 and val1 < 4", "{\"item\": \"1\", \"val1\": 1}", 0);
}

static void test_index_overflow(void)
{
	/* past TS_JSON_KEYS_MAX members the record is walked */
	char rec[4096];
	size_t n = 0;
	rec[n++] = '{';
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(rec + n, sizeof(rec) - n, "%s\"k%d\":%d",
				      i ? "," : "", i, i);
	rec[n++] = '}';
	rec[n] = '\0';
	T("k99 = 99 AND k0 = 0 AND k63 = 63 AND k64 = 64", rec, 1);
	T("k100 IS NULL", rec, 1);
}

static void test_errors(void)
{
	ERR("", "empty predicate", 1);
	ERR("   -- nothing\n", "empty predicate", 1);
	ERR("a = ", "expected a value, got end", 5);
	ERR("a = 'x", "unterminated string", 5);
	ERR("a = `x", "unterminated `name`", 5);
	ERR("/* x", "unterminated comment", 1);
	ERR("(a = 1", "expected ')', got end", 7);
	ERR("a = 1 b", "unexpected 'b'", 7);
	ERR("a = 1)", "unexpected ')'", 6);
	ERR("a = = 1", "expected a value, got '='", 5);
	ERR("lower(a) = 'x'", "functions are not supported: 'lower'", 1);
	ERR("a.b(1)", "functions are not supported: 'a.b'", 1);
	ERR("1", "a number is not a condition", 1);
	ERR("'x'", "a string is not a condition", 1);
	ERR("a = 1 AND 2", "a number is not a condition", 11);
	ERR("NOT 'x'", "a string is not a condition", 5);
	ERR("1 + 1", "a number is not a condition", 1);
	ERR("5 IS TRUE", "a number is not a condition", 1);
	ERR("(a = 1) + 1 = 2", "a condition is not a number", 2);
	ERR("1 + (a = 1) = 2", "a condition is not a number", 6);
	ERR("-(a = 1)", "a condition is not a number", 3);
	ERR("a LIKE b", "expected a string literal as the LIKE pattern, got 'b'", 8);
	ERR("a LIKE 'x\\\\y'", "the escape character must come before", 8);
	ERR("a LIKE 'x\\\\'", "the pattern ends with the escape character", 8);
	ERR("a LIKE 'x' ESCAPE 'ab'", "ESCAPE needs one character", 19);
	ERR("a LIKE 'x' ESCAPE ''", "ESCAPE needs one character", 19);
	ERR("a LIKE 'x' ESCAPE b", "expected a string after ESCAPE", 19);
	ERR("a NOT NULL", "expected IN, LIKE or BETWEEN after NOT, got 'NULL'", 7);
	ERR("a IS 5", "expected NULL, TRUE, FALSE, UNKNOWN or DISTINCT FROM", 6);
	ERR("a IS DISTINCT 5", "expected FROM", 15);
	ERR("a IN 1", "expected '(' after IN, got '1'", 6);
	ERR("a IN ()", "expected a value, got ')'", 7);
	ERR("a IN (1 2)", "expected ',' or ')', got '2'", 9);
	ERR("a BETWEEN 1 OR 2", "expected AND, got 'OR'", 13);
	ERR("a = 1 AND", "expected a value, got end", 10);
	ERR("AND = 1", "expected a value, got 'AND'", 1);
	ERR("a & b", "unexpected '&'", 3);
	ERR("d > DATE '2024-01-01'", "typed literals are not supported: 'DATE'", 5);
	ERR("a = 'x' 'y'", "unexpected string", 9);
	ERR("CASE WHEN a THEN 1 END", "unexpected 'WHEN'", 6);
	ERR("a = '\\u12'", "\\u needs four hex digits", 6);
	ERR("a = 'x\\", "unterminated string", 5);
	ERR("a = 'x' || 'y'", "unexpected '|'", 9);
	/* columns count characters, not bytes */
	ERR("'\xc3\xa9\xc3\xa9' = s s", "unexpected 's'", 10);
	ERR("\xc3\xa9 = 1", "unexpected '\xc3\xa9'", 1);
	ERR("s = '\xc3\xa9' \xe2\x82\xac", "unexpected '\xe2\x82\xac'", 9);
	ERR("a = '\xff'", "not valid UTF-8", 6);
	ERR("a = '\xc3'", "not valid UTF-8", 6);
	err_is("a = '\0'", 7, "a NUL byte", 6, __FILE__, __LINE__);
	/* the message is cut, the column still right */
	ERR("a = 1 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	    "unexpected 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb...'", 7);

	/* too deep: parentheses, NOT, signs, long comparison chains */
	char deep[8000];
	size_t n = 0;
	for (int i = 0; i < 300; i++)
		deep[n++] = '(';
	memcpy(deep + n, "a = 1", 5);
	n += 5;
	for (int i = 0; i < 300; i++)
		deep[n++] = ')';
	deep[n] = '\0';
	ERR(deep, "nested too deep", 201);
	n = 0;
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "NOT ");
	snprintf(deep + n, sizeof(deep) - n, "a");
	ERR(deep, "nested too deep", 801);
	n = 0;
	for (int i = 0; i < 500; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "a = ");
	snprintf(deep + n, sizeof(deep) - n, "a");
	ERR(deep, "nested too deep", 1);
	n = 0;
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "a IN (");
	snprintf(deep + n, sizeof(deep) - n, "1");
	ERR(deep, "nested too deep", 1207);
	/* 150 levels are fine */
	n = 0;
	for (int i = 0; i < 150; i++)
		deep[n++] = '(';
	memcpy(deep + n, "a = 1", 5);
	n += 5;
	for (int i = 0; i < 150; i++)
		deep[n++] = ')';
	deep[n] = '\0';
	T(deep, "{\"a\":1}", 1);
	/* a long flat chain is not deep */
	n = 0;
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "%sa = %d",
				      i ? " OR " : "", i);
	T(deep, "{\"a\":299}", 1);

	/* a tiny or absent error buffer is fine */
	char small[8];
	CHECK(ts_where_parse("a =", 3, small, sizeof(small)) == NULL);
	CHECK(strlen(small) == 7);
	CHECK(ts_where_parse("a =", 3, NULL, 0) == NULL);
}

static void test_columns(void)
{
	char err[100];
	const char *p = "a.b = 1 AND c = 2 AND a.b > 0 AND `d`.`e` = 1 AND `a.b` = 2 "
			"AND x IN (c, f) AND a.z IS NULL";
	struct ts_where *w = ts_where_parse(p, strlen(p), err, sizeof(err));
	const struct ts_span *names;

	if (!CHECK(w))
		return;
	size_t n = ts_where_columns(w, &names);
	static const char *const want[] = {"a.b", "a", "c", "d.e", "d", "x", "f", "a.z"};
	CHECK(n == sizeof(want) / sizeof(*want));
	for (size_t i = 0; i < n && i < sizeof(want) / sizeof(*want); i++) {
		CHECK_MEM(names[i].p, names[i].n, want[i], strlen(want[i]));
		CHECK(names[i].p[names[i].n] == '\0');
	}
	ts_where_free(w);

	w = ts_where_parse("TRUE", 4, err, sizeof(err));
	CHECK(w && ts_where_columns(w, &names) == 0);
	ts_where_free(w);
	ts_where_free(NULL);
}

static void test_reuse(void)
{
	/* one predicate over many records: values of one record never
	 * show through in the next (escaped strings decode into scratch) */
	char err[100];
	const char *p = "s = 'a\"b' AND t LIKE 'x%'";
	struct ts_where *w = ts_where_parse(p, strlen(p), err, sizeof(err));
	static const char *const recs[] = {
		"{\"s\":\"a\\\"b\",\"t\":\"x\\u0031\"}",
		"{\"s\":\"a\\\"c\",\"t\":\"x\"}",
		"{\"t\":\"x\"}",
		"{\"s\":\"a\\u0022b\",\"t\":\"\\u0078yz\"}",
		"{\"s\":\"a\\\"b\",\"t\":\"\\u0079\"}",
	};
	static const int want[] = {1, 0, 0, 1, 0};

	if (!CHECK(w))
		return;
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < 5; i++) {
			struct ts_span r = {recs[i], strlen(recs[i])};
			CHECK(ts_where_eval(w, r, NULL) == want[i]);
		}
	ts_where_free(w);
}

int main(void)
{
	test_compare_numbers();
	test_null_and_missing();
	test_strings();
	test_coercion();
	test_nested();
	test_in_between();
	test_like();
	test_arithmetic_precedence();
	test_index_overflow();
	test_errors();
	test_columns();
	test_reuse();
	return check_done();
}
