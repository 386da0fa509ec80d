/* test_template.c — lib/template.h: parsing prefix templates (errors with
 * columns), rendering them, and encoding partition values. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "template.h"

static int parse_col(const char *s, int flags)
{
	struct ts_template t;
	char err[512];

	if (ts_template_parse(&t, s, flags, err, sizeof(err)) == 0) {
		ts_template_release(&t);
		return 0;
	}
	return strncmp(err, "column ", 7) == 0 ? atoi(err + 7) : -1;
}

static char *const names[] = {(char *)"acct", (char *)"region"};

/* Render s for values a, b (JSON spans) at ms; the result, or "!code". */
static const char *render(const char *s, const char *a, const char *b, int64_t ms)
{
	static char res[1024];
	struct ts_template t;
	struct ts_tpl_render r;
	struct ts_tz tz = {0};
	struct ts_span vals[2] = {{a, strlen(a)}, {b, strlen(b)}};
	struct ts_tpl_env env = {.tz = &tz, .nkeys = 2, .names = names, .vals = vals,
				 .errtype = "processing-failed", .max_len = 1000};
	struct ts_buf out;
	const char *code = NULL;
	char err[512];

	if (ts_template_parse(&t, s, TS_TPL_ALLOW_ERRTYPE, err, sizeof(err)) < 0)
		return "!parse";
	if (!t.has_time)
		ts_template_add_default_time(&t);
	ts_tpl_render_init(&r, &t);
	ts_buf_init(&out, 0);
	if (ts_template_render(&t, &r, &env, ms, &out, &code) == 0)
		snprintf(res, sizeof(res), "%s", out.data);
	else
		snprintf(res, sizeof(res), "!%s", code);
	ts_buf_release(&out);
	ts_tpl_render_release(&r);
	ts_template_release(&t);
	return res;
}

static void test_parse(void)
{
	CHECK(parse_col("acct=!{partitionKeyFromQuery:acct}/", 0) == 0);
	CHECK(parse_col("!{partitionKeyFromLambda:acct}/", 0) == 0);
	CHECK(parse_col("!{timestamp:yyyy}/!{firehose:random-string}/", 0) == 0);
	CHECK(parse_col("x/!{nope:a}", 0) == 5);
	CHECK(parse_col("x/!{timestamp:yyyy", 0) == 3);
	CHECK(parse_col("!{timestamp:yyyy-QQ}", 0) == 18);
	CHECK(parse_col("!{firehose:error-output-type}", 0) == 12);
	CHECK(parse_col("!{firehose:error-output-type}", TS_TPL_ALLOW_ERRTYPE) == 0);
	CHECK(parse_col("!{firehose:other}", 0) == 12);
	CHECK(parse_col("a/../b", 0) == 3);
	CHECK(parse_col("./a", 0) == 1);
	CHECK(parse_col("/abs", 0) == 1);
	CHECK(parse_col("!{partitionKeyFromQuery:}", 0) == 25);
	CHECK(parse_col("!{nocolon}", 0) == 3);
}

static void test_render(void)
{
	int64_t t = 1714566896123; /* 2024-05-01T12:34:56.123Z */

	CHECK_STR(render("acct=!{partitionKeyFromQuery:acct}/dt=!{timestamp:yyyy-MM-dd}/",
			 "\"123\"", "\"us-east-1\"", t), "acct=123/dt=2024-05-01/");
	/* no timestamp: the service's !{timestamp:yyyy/MM/dd/HH/} is appended
	 * as it is, no '/' put before it */
	CHECK_STR(render("logs/!{partitionKeyFromQuery:region}", "1", "\"eu\"", t),
		  "logs/eu2024/05/01/12/");
	CHECK_STR(render("logs/!{partitionKeyFromQuery:region}/", "1", "\"eu\"", t),
		  "logs/eu/2024/05/01/12/");
	CHECK_STR(render("", "1", "2", t), "2024/05/01/12/");
	CHECK_STR(render("!{partitionKeyFromQuery:acct}/", "42", "true", t),
		  "42/2024/05/01/12/");
	CHECK_STR(render("e/!{firehose:error-output-type}/!{timestamp:HH}/", "1", "2", t),
		  "e/processing-failed/12/");
	CHECK_STR(render("r=!{firehose:random-string}/!{timestamp:yyyy}/", "1", "2", t),
		  "r=\x01/2024/");
	/* values are data: nothing climbs out, nothing hides */
	CHECK_STR(render("a=!{partitionKeyFromQuery:acct}/!{timestamp:yyyy}/", "\"../../x\"", "1", t),
		  "a=%2E.%2F..%2Fx/2024/");
	CHECK_STR(render("!{partitionKeyFromQuery:acct}/!{timestamp:yyyy}/", "\"..\"", "1", t),
		  "%2E./2024/");
	CHECK_STR(render("!{partitionKeyFromQuery:acct}/!{timestamp:yyyy}/", "\"_x\"", "1", t),
		  "%5Fx/2024/");
	CHECK_STR(render("!{partitionKeyFromQuery:acct}/!{timestamp:yyyy}/", "\"\"", "1", t),
		  "__HIVE_DEFAULT_PARTITION__/2024/");
	CHECK_STR(render("!{partitionKeyFromQuery:acct}/!{timestamp:yyyy}/", "\"a\\u0000b\\n\"", "1", t),
		  "a%00b%0A/2024/");
	CHECK_STR(render("!{partitionKeyFromQuery:acct}/!{timestamp:yyyy}/", "\"caf\\u00e9 x\"", "1", t),
		  "caf\xc3\xa9%20x/2024/");
	/* lone surrogates stay apart from U+FFFD and from each other: their
	 * WTF-8 bytes are not UTF-8, so they are percent-encoded */
	CHECK_STR(render("!{partitionKeyFromQuery:acct}/!{timestamp:yyyy}/", "\"\\ud800\"", "1", t),
		  "%ED%A0%80/2024/");
	CHECK_STR(render("!{partitionKeyFromQuery:acct}/!{timestamp:yyyy}/", "\"\\uDFFF\"", "1", t),
		  "%ED%BF%BF/2024/");
	CHECK_STR(render("!{partitionKeyFromQuery:acct}/!{timestamp:yyyy}/", "\"\\ufffd\"", "1", t),
		  "\xef\xbf\xbd/2024/");
	CHECK_STR(render("!{partitionKeyFromQuery:acct}/!{timestamp:yyyy}/", "\"\xef\xbf\xbd\"", "1", t),
		  "\xef\xbf\xbd/2024/");
	/* a pair is one character; a high surrogate before a non-low one is lone */
	CHECK_STR(render("!{partitionKeyFromQuery:acct}/!{timestamp:yyyy}/", "\"\\ud83d\\ude00\"", "1", t),
		  "\xf0\x9f\x98\x80/2024/");
	CHECK_STR(render("!{partitionKeyFromQuery:acct}/!{timestamp:yyyy}/", "\"\\ud83dx\\u0041\"", "1", t),
		  "%ED%A0%BDxA/2024/");
	CHECK_STR(render("!{partitionKeyFromQuery:acct}/!{timestamp:yyyy}/", "\"a\\\\ud800\\/\\\"\"", "1", t),
		  "a%5Cud800%2F%22/2024/");
	char big[400];
	memset(big, 'a', sizeof(big));
	big[0] = '"';
	big[300] = '"';
	big[301] = '\0';
	CHECK_STR(render("!{partitionKeyFromQuery:acct}/!{timestamp:yyyy}/", big, "1", t),
		  "!key_too_long");
	/* a literal and a value of 250 bytes make a 256-byte component */
	big[251] = '"';
	big[252] = '\0';
	CHECK_STR(render("xxxxxx!{partitionKeyFromQuery:acct}/!{timestamp:yyyy}/", big, "1", t),
		  "!key_too_long");
}

static void test_encode(void)
{
	struct ts_buf b;

	ts_buf_init(&b, 0);
	CHECK(ts_template_encode_value(&b, "ok-1.2_3~", 9) == 0);
	CHECK_STR(b.data, "ok-1.2_3~");
	ts_buf_reset(&b);
	CHECK(ts_template_encode_value(&b, ".x", 2) == 0);
	CHECK_STR(b.data, "%2Ex");
	ts_buf_reset(&b);
	CHECK(ts_template_encode_value(&b, "a/b=c", 5) == 0);
	CHECK_STR(b.data, "a%2Fb%3Dc");
	/* UTF-8 is kept; bytes that are not UTF-8 are encoded */
	ts_buf_reset(&b);
	CHECK(ts_template_encode_value(&b, "\xc3\xa9\xff\xc3(\xe2\x82\xac\xf0\x9f\x98\x80", 12) == 0);
	CHECK_STR(b.data, "\xc3\xa9%FF%C3%28\xe2\x82\xac\xf0\x9f\x98\x80");
	ts_buf_reset(&b);
	CHECK(ts_template_encode_value(&b, "\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80", 9) == 0);
	CHECK_STR(b.data, "%C0%AF%ED%A0%80%F4%90%80%80");
	ts_buf_release(&b);
}

static int minutes_warning(const char *s)
{
	struct ts_template t;
	char err[512], msg[512];
	int w;

	if (ts_template_parse(&t, s, 0, err, sizeof(err)) < 0)
		return -1;
	if (!t.has_time)
		ts_template_add_default_time(&t);
	w = ts_template_check_minutes(&t, msg, sizeof(msg));
	CHECK(!w || strstr(msg, "mm is minutes") != NULL);
	ts_template_release(&t);
	return w;
}

static void test_minutes_warning(void)
{
	CHECK(minutes_warning("dt=!{timestamp:yyyy-mm-dd}/") == 1);
	CHECK(minutes_warning("!{timestamp:dd.mm.yyyy}/") == 1);
	CHECK(minutes_warning("!{timestamp:'year='yyyy'/month='mm}/") == 1);
	CHECK(minutes_warning("y=!{timestamp:yyyy}/m=!{timestamp:mm}/") == 1);
	CHECK(minutes_warning("m=!{timestamp:mm}/d=!{timestamp:dd}/") == 1);
	/* minutes where minutes belong */
	CHECK(minutes_warning("!{timestamp:yyyy-MM-dd}/") == 0);
	CHECK(minutes_warning("!{timestamp:yyyy/MM/dd/HH/mm}/") == 0);
	CHECK(minutes_warning("!{timestamp:HH:mm}/") == 0);
	CHECK(minutes_warning("!{timestamp:yyyy-MM-dd-mm}/") == 0);
	CHECK(minutes_warning("!{timestamp:mm}/") == 0);
	CHECK(minutes_warning("logs/") == 0);
}

int main(void)
{
	test_parse();
	test_render();
	test_encode();
	test_minutes_warning();
	return check_done();
}
