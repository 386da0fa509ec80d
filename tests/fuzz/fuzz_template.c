/*
 * fuzz_template.c — prefix templates (template.h, tstime.h): the input is
 * parsed as a --prefix and as an --error-prefix.  A template that parses is
 * rendered for a few times and key values (including hostile ones), and
 * every rendering must stay inside the output directory: no leading '/', no
 * "." or ".." component, no NUL, no component over TS_TPL_MAX_COMPONENT.
 * (The default time is appended as it is, so a prefix without '/' at its
 * end runs into it.)
 * A template that does not parse must say at which column.
 */
#include <string.h>

#include "fuzz.h"
#include "template.h"

static const struct ts_span values[][2] = {
	{{"\"1\"", 3}, {"\"us-east-1\"", 11}},
	{{"\"../../x\"", 9}, {"\"/etc\"", 6}},
	{{"\"..\"", 4}, {"\".\"", 3}},
	{{"\"\"", 2}, {"\"a\\u0000b\\n\"", 12}},
	{{"12345", 5}, {"true", 4}},
	{{"\"_hidden\"", 9}, {"\".dot\"", 6}},
	{{"\"\\ud800\"", 8}, {"\"\\udfff\\ud800x\"", 15}}, /* lone surrogates */
	{{"\"\\ud83d\\ude00\"", 14}, {"\"\\\\u0000\\/\"", 11}},
};
static char *const names[] = {(char *)"a", (char *)"b"};
static const int64_t times[] = {0, 1714557600123, -1, 253402300799999, -62135596800000};

static void check_path(const struct ts_buf *out)
{
	const char *s = out->data, *e = out->data + out->len;

	FUZZ_CHECK(out->len == 0 || out->data[0] != '/');
	FUZZ_CHECK(!memchr(out->data, '\0', out->len));
	while (s < e) {
		const char *slash = memchr(s, '/', (size_t)(e - s));
		size_t n = (size_t)((slash ? slash : e) - s);
		FUZZ_CHECK(n <= TS_TPL_MAX_COMPONENT);
		FUZZ_CHECK(!(n == 1 && s[0] == '.'));
		FUZZ_CHECK(!(n == 2 && s[0] == '.' && s[1] == '.'));
		s += n + 1;
	}
}

static void try(const char *s, int flags)
{
	struct ts_template t;
	struct ts_tpl_render r;
	struct ts_buf out;
	struct ts_tz tz = {0};
	char err[512];
	const char *code;

	if (ts_template_parse(&t, s, flags, err, sizeof(err)) < 0) {
		FUZZ_CHECK(strncmp(err, "column ", 7) == 0);
		return;
	}
	if (!t.has_time)
		FUZZ_CHECK(ts_template_add_default_time(&t) == 0);
	FUZZ_CHECK(ts_tpl_render_init(&r, &t) == 0);
	ts_buf_init(&out, 0);
	for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
		for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
			struct ts_tpl_env env = {.tz = &tz, .nkeys = 2, .names = names,
						 .vals = values[v], .errtype = "processing-failed",
						 .max_len = 4000};
			/* keys the template names but the env lacks are refused */
			if (ts_template_render(&t, &r, &env, times[i], &out, &code) == 0)
				check_path(&out);
			else
				FUZZ_CHECK(!strcmp(code, "key_too_long") || !strcmp(code, "bad_prefix") ||
					   !strcmp(code, "missing_key"));
		}
	}
	ts_buf_release(&out);
	ts_tpl_render_release(&r);
	ts_template_release(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	try(s, 0);
	try(s, TS_TPL_ALLOW_ERRTYPE);
	free(s);
	return 0;
}
