/* test_json_dec.c — ts_json_scan_string_dec() (json.h): one pass must give
 * exactly what ts_json_scan() and ts_json_unescape() give in two, and the
 * same answer (OK, INCOMPLETE, ERROR) wherever the input is cut. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json.h"

static const char *const cases[] = {
	"\"\"", "\"plain ascii text\"", "\"a\\\"b\"", "\"\\\\\"", "\"\\/\\b\\f\\n\\r\\t\"",
	"\"{\\\"level\\\":\\\"INFO\\\",\\\"msg\\\":\\\"done\\\"}\"",
	"\"\\u0041\\u00e9\\u4e2d\\ud83d\\ude80\"", "\"lone \\ud800 high\"",
	"\"lone \\udc00 low\"", "\"pair at end \\ud83d\"", "\"\\ud83d\\u0041\"",
	"\"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x9a\x80\"",
	"\"0123456789abcdef0123456789abcdef\\\"0123456789abcdef\\n\"",
	"\"escape at 15 \\\"xxxxxxxxxxxxxxxxxxxx\"", "\"xxxxxxxxxxxxxxx\\\\\"",
	/* bad ones */
	"\" {\\\"a\\.{\\\"k\\\":H\\\"\\\\u00e9\\\"}\"", /* a bad escape, then one across 16 bytes */
	"\"bad \\x escape\"", "\"ctl \x01 char\"", "\"new\nline\"", "\"bad \\u12G4\"",
	"\"bad utf8 \xc3\x28\"", "\"overlong \xc0\xaf\"", "\"surrogate \xed\xa0\x80\"",
	"\"unterminated", "\"trailing backslash \\",
};

static void differential(const char *s, size_t n)
{
	struct ts_json_scan a, b;
	struct ts_buf want, got;
	enum ts_json_status sa, sb;

	ts_buf_init(&want, 0);
	ts_buf_init(&got, 0);
	ts_buf_addstr(&got, "keep:");
	sa = ts_json_scan_nested(s, s + n, 0, &a);
	sb = ts_json_scan_string_dec(s, s + n, &got, &b);
	CHECK(sa == sb);
	if (sa == TS_JSON_OK && sb == TS_JSON_OK) {
		CHECK(a.end == b.end);
		ts_json_unescape(&want, (struct ts_span){s, (size_t)(a.end - s)});
		CHECK_MEM(got.data + 5, got.len - 5, want.data, want.len);
	} else {
		CHECK_STR(got.data, "keep:"); /* nothing appended on failure */
		if (sa == TS_JSON_ERROR && sb == TS_JSON_ERROR)
			CHECK(a.err_at == b.err_at);
	}
	ts_buf_release(&want);
	ts_buf_release(&got);
}

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i]);
		/* followed by more input, and cut at every length */
		char *buf = malloc(n + 8);
		memcpy(buf, cases[i], n);
		memcpy(buf + n, ",\"x\":1}", 8);
		differential(buf, n + 7);
		for (size_t k = 1; k <= n; k++)
			differential(buf, k);
		free(buf);
	}
	/* a long string of escapes, across many 16-byte blocks */
	struct ts_buf big;
	ts_buf_init(&big, 0);
	ts_buf_addch(&big, '"');
	for (int i = 0; i < 2000; i++)
		ts_buf_addstr(&big, i % 7 ? "ab\\\"" : "\\u00e9x");
	ts_buf_addstr(&big, "\"}");
	differential(big.data, big.len);
	ts_buf_release(&big);
	return check_done();
}
