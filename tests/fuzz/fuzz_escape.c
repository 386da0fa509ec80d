/*
 * fuzz_escape.c — writing a string as JSON (ts_json_escape, json.h), with
 * jansson as the oracle.
 *
 * Valid UTF-8 (as jansson judges it: no overlong forms, no surrogates,
 * nothing past U+10FFFF) is written as a quoted string, appended after what
 * the buffer held, that jansson reads back as exactly the input; that our
 * own scanner accepts; that ts_json_unescape() and
 * ts_json_scan_string_dec() decode to the input; and that holds no control
 * byte.  Anything else fails with EILSEQ and leaves the buffer as it was.
 * ts_utf8_valid_prefix() agrees on where valid UTF-8 ends.
 */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	json_t *oracle = json_stringn(in, size);
	struct ts_buf out, dec;
	struct ts_json_scan sc;
	int rc;

	size_t valid = ts_utf8_valid_prefix(in, size);
	FUZZ_CHECK(valid <= size);
	FUZZ_CHECK((valid == size) == (oracle != NULL));
	/* a valid prefix is valid for jansson too */
	json_t *pre = json_stringn(in, valid);
	FUZZ_CHECK(pre != NULL);
	json_decref(pre);

	ts_buf_init(&out, 0);
	ts_buf_addstr(&out, "XXXXXXXXXXXXXXXXXXXXXXXX");
	ts_buf_setlen(&out, 1);
	errno = 0;
	rc = ts_json_escape(&out, in, size);
	if (!oracle) {
		FUZZ_CHECK(rc == -1 && errno == EILSEQ);
		FUZZ_CHECK(out.len == 1 && out.data[0] == 'X' && out.data[1] == '\0');
		ts_buf_release(&out);
		return 0;
	}
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(out.data[out.len] == '\0');
	const char *q = out.data + 1;
	size_t qn = out.len - 1;
	FUZZ_CHECK(qn >= 2 && q[0] == '"' && q[qn - 1] == '"');
	for (size_t i = 0; i < qn; i++)
		FUZZ_CHECK((unsigned char)q[i] >= 0x20);

	json_error_t err;
	json_t *back = json_loadb(q, qn, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	FUZZ_CHECK(back != NULL && json_is_string(back));
	FUZZ_CHECK(json_string_length(back) == size);
	FUZZ_CHECK(memcmp(json_string_value(back), in, size) == 0);
	FUZZ_CHECK(json_equal(back, oracle));
	json_decref(back);

	FUZZ_CHECK(ts_json_scan(q, q + qn, 1, 0, &sc) == TS_JSON_OK && sc.end == q + qn);
	FUZZ_CHECK(!sc.has_ws && sc.newlines == 0);
	ts_buf_init(&dec, 0);
	FUZZ_CHECK(ts_json_unescape(&dec, (struct ts_span){q, qn}) == 0);
	FUZZ_CHECK(dec.len == size && memcmp(dec.data, in, size) == 0);
	ts_buf_reset(&dec);
	FUZZ_CHECK(ts_json_scan_string_dec(q, q + qn, &dec, &sc) == TS_JSON_OK);
	FUZZ_CHECK(sc.end == q + qn);
	FUZZ_CHECK(dec.len == size && memcmp(dec.data, in, size) == 0);
	ts_buf_release(&dec);
	ts_buf_release(&out);
	json_decref(oracle);
	return 0;
}
