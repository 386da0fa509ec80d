/* test_tstime.c — lib/tstime.h: reading record times, civil time, zones,
 * Java-style patterns. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tstime.h"

static int64_t iso(const char *s)
{
	int64_t ms = 42;

	return ts_time_parse_iso(s, strlen(s), &ms) == 0 ? ms : 42;
}

static int iso_bad(const char *s)
{
	int64_t ms = 42;

	return ts_time_parse_iso(s, strlen(s), &ms) == -1 && ms == 42;
}

static int64_t js(const char *s)
{
	int64_t ms = 42;
	const char *why = NULL;

	if (ts_time_from_json((struct ts_span){s, strlen(s)}, &ms, &why) < 0)
		return 42;
	return ms;
}

static int js_bad(const char *s)
{
	int64_t ms = 42;
	const char *why = NULL;

	return ts_time_from_json((struct ts_span){s, strlen(s)}, &ms, &why) == -1 && why;
}

static int64_t js_unit(const char *s, enum ts_time_unit u)
{
	int64_t ms = 42;
	const char *why = NULL;

	if (ts_time_from_json_unit((struct ts_span){s, strlen(s)}, u, &ms, &why) < 0)
		return why ? -42 : 42;
	return ms;
}

/* --time-unit: the same number read in seconds, milliseconds, or guessed. */
static void test_unit(void)
{
	enum ts_time_unit u = TS_TIME_AUTO;

	CHECK(js_unit("60000", TS_TIME_AUTO) == 60000000);
	CHECK(js_unit("60000", TS_TIME_MS) == 60000);
	CHECK(js_unit("60000", TS_TIME_S) == 60000000);
	CHECK(js_unit("\"60000\"", TS_TIME_MS) == 60000);
	CHECK(js_unit("1714557600123", TS_TIME_AUTO) == 1714557600123);
	CHECK(js_unit("1714557600123", TS_TIME_MS) == 1714557600123);
	CHECK(js_unit("1714557600123", TS_TIME_S) == 1714557600123000);
	CHECK(js_unit("1.5", TS_TIME_S) == 1500);
	CHECK(js_unit("1.5", TS_TIME_MS) == 1);
	CHECK(js_unit("-2", TS_TIME_S) == -2000);
	/* beyond about 300,000 years either way: an error, not an overflow */
	CHECK(js_unit("100000000000000", TS_TIME_S) == -42);
	CHECK(js_unit("10000000000000000", TS_TIME_MS) == 10000000000000000);
	CHECK(js_unit("10000000000000004", TS_TIME_MS) == -42);
	CHECK(js_unit("-100000000000000", TS_TIME_S) == -42);
	CHECK(js_unit("1e300", TS_TIME_S) == -42);
	/* ISO strings whatever the unit */
	CHECK(js_unit("\"2024-05-01T10:00:00Z\"", TS_TIME_S) == 1714557600000);
	CHECK(js_unit("\"2024-05-01T10:00:00Z\"", TS_TIME_MS) == 1714557600000);
	CHECK(ts_time_unit_parse("s", &u) == 0 && u == TS_TIME_S);
	CHECK(ts_time_unit_parse("ms", &u) == 0 && u == TS_TIME_MS);
	CHECK(ts_time_unit_parse("auto", &u) == 0 && u == TS_TIME_AUTO);
	CHECK(ts_time_unit_parse("us", &u) == -1 && u == TS_TIME_AUTO);
	CHECK(ts_time_unit_parse("", &u) == -1);
}

static void test_iso(void)
{
	CHECK(iso("1970-01-01T00:00:00Z") == 0);
	CHECK(iso("2024-05-01T12:34:56Z") == 1714566896000);
	CHECK(iso("2024-05-01T12:34:56.123Z") == 1714566896123);
	CHECK(iso("2024-05-01T12:34:56.1Z") == 1714566896100);
	CHECK(iso("2024-05-01T14:34:56+02:00") == 1714566896000);
	CHECK(iso("2024-05-01T14:34:56+0200") == 1714566896000);
	CHECK(iso("2024-05-01T10:04:56-02:30") == 1714566896000);
	CHECK(iso("2024-05-01 12:34:56Z") == 1714566896000);
	CHECK(iso("2024-05-01T12:34Z") == 1714566840000);
	CHECK(iso("2024-05-01") == 1714521600000);
	CHECK(iso("2024-02-29T00:00:00Z") == 1709164800000);
	CHECK(iso("1969-12-31T23:59:59Z") == -1000);
	CHECK(iso_bad("2023-02-29T00:00:00Z")); /* not a leap year */
	CHECK(iso_bad("2024-13-01"));
	CHECK(iso_bad("2024-04-31"));
	CHECK(iso_bad("2024-05-01T24:00:00Z"));
	CHECK(iso_bad("2024-05-01T12:34:56Zjunk"));
	CHECK(iso_bad("2024-5-1"));
	CHECK(iso_bad("May 1, 2024"));
	CHECK(iso_bad(""));
}

static void test_from_json(void)
{
	CHECK(js("1714566896") == 1714566896000);      /* seconds */
	CHECK(js("1714566896123") == 1714566896123);   /* milliseconds */
	CHECK(js("1714566896.5") == 1714566896500);    /* fractional seconds */
	CHECK(js("\"1714566896\"") == 1714566896000);  /* digits in a string */
	CHECK(js("\"1714566896123\"") == 1714566896123);
	CHECK(js("\"2024-05-01T12:34:56Z\"") == 1714566896000);
	CHECK(js("0") == 0);
	CHECK(js_bad("\"yesterday\""));
	CHECK(js_bad("null"));
	CHECK(js_bad("true"));
	CHECK(js_bad("{}"));
	CHECK(js_bad("[1]"));
	CHECK(js_bad("1e300"));
	CHECK(js_bad("\"2024-05-01\\u0054\""));         /* escapes are not read */
}

static void test_civil(void)
{
	struct ts_civil c;

	ts_civil_from_ms(1714566896123, &c);
	CHECK(c.year == 2024 && c.month == 5 && c.day == 1 && c.hour == 12 &&
	      c.min == 34 && c.sec == 56 && c.msec == 123);
	CHECK(ts_ms_from_civil(&c) == 1714566896123);
	ts_civil_from_ms(-1, &c);
	CHECK(c.year == 1969 && c.month == 12 && c.day == 31 && c.hour == 23 &&
	      c.min == 59 && c.sec == 59 && c.msec == 999);
	CHECK(ts_ms_from_civil(&c) == -1);
	/* a round trip every 1,000,003 seconds over four centuries */
	int ok = 1;
	for (int64_t s = -6000000000LL; s < 7000000000LL; s += 1000003) {
		ts_civil_from_ms(s * 1000 + 7, &c);
		ok &= ts_ms_from_civil(&c) == s * 1000 + 7;
	}
	CHECK(ok);
}

static int tz_ok(const char *s, int offset)
{
	struct ts_tz tz;
	char err[256];

	return ts_tz_parse(&tz, s, err, sizeof(err)) == 0 && !tz.named && tz.offset_s == offset;
}

static int tz_bad(const char *s)
{
	struct ts_tz tz;
	char err[256] = "";

	return ts_tz_parse(&tz, s, err, sizeof(err)) == -1 && err[0];
}

static void test_tz(void)
{
	struct ts_tz tz;
	struct ts_civil c;
	char err[256];

	CHECK(tz_ok("UTC", 0));
	CHECK(tz_ok("Z", 0));
	CHECK(tz_ok("+05:30", 19800));
	CHECK(tz_ok("+0530", 19800));
	CHECK(tz_ok("-03", -10800));
	CHECK(tz_ok("UTC-3", -10800));
	CHECK(tz_bad("+05:30x"));
	CHECK(tz_bad("+25:00"));
	CHECK(tz_bad("Mars/Olympus_Mons"));
	CHECK(tz_bad("../../etc/passwd"));
	ts_tz_parse(&tz, "+05:30", err, sizeof(err));
	ts_tz_civil(&tz, 1714566896000, &c);
	CHECK(c.hour == 18 && c.min == 4);
	if (ts_tz_parse(&tz, "Asia/Tokyo", err, sizeof(err)) == 0) { /* tzdata */
		ts_tz_civil(&tz, 1714566896000, &c);
		CHECK(tz.named && c.hour == 21 && c.min == 34);
	}
}

static const char *fmt(const char *pat, int64_t ms)
{
	static char res[256];
	struct ts_timefmt f;
	struct ts_civil c;
	struct ts_buf b;
	const char *why;
	size_t col;

	if (ts_timefmt_parse(&f, pat, strlen(pat), &why, &col) < 0)
		return "(error)";
	ts_civil_from_ms(ms, &c);
	ts_buf_init(&b, 0);
	ts_timefmt_format(&f, &c, &b);
	snprintf(res, sizeof(res), "%s", b.data);
	ts_buf_release(&b);
	ts_timefmt_release(&f);
	return res;
}

static size_t fmt_error_col(const char *pat)
{
	struct ts_timefmt f;
	const char *why = NULL;
	size_t col = 999;

	if (ts_timefmt_parse(&f, pat, strlen(pat), &why, &col) == 0) {
		ts_timefmt_release(&f);
		return 999;
	}
	return why ? col : 998;
}

static void test_timefmt(void)
{
	int64_t t = 1714566896123; /* 2024-05-01T12:34:56.123Z */

	CHECK_STR(fmt("yyyy-MM-dd", t), "2024-05-01");
	CHECK_STR(fmt("yyyy/MM/dd/HH", t), "2024/05/01/12");
	CHECK_STR(fmt("yy M d H m s", t), "24 5 1 12 34 56");
	CHECK_STR(fmt("HH:mm:ss.SSS", t), "12:34:56.123");
	CHECK_STR(fmt("'year='yyyy'/month='MM", t), "year=2024/month=05");
	CHECK_STR(fmt("yyyy''MM", t), "2024'05");
	CHECK_STR(fmt("'it''s' yyyy", t), "it's 2024");
	CHECK_STR(fmt("", t), "");
	CHECK(fmt_error_col("yyyy-QQ") == 5);
	CHECK(fmt_error_col("'open") == 0);
	CHECK(fmt_error_col("yyyy-MMM") == 5);
	CHECK(fmt_error_col("ddd") == 0);
}

int main(void)
{
	test_unit();
	test_iso();
	test_from_json();
	test_civil();
	test_tz();
	test_timefmt();
	return check_done();
}
