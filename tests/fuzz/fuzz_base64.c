/*
 * fuzz_base64.c — base64 both ways (codec.h).
 *
 * Encoding any bytes gives 4 characters of the standard alphabet per 3
 * bytes (the last group padded with '='), appended after what the buffer
 * held, and decodes back to the same bytes: as it is, without its padding,
 * and with line breaks inserted.  Decoding the input itself either gives
 * bytes that encode and decode to themselves again, or fails at a place
 * within the input leaving the buffer as it was (its length, its bytes,
 * and the NUL after them).
 */
#include <errno.h>
#include <string.h>

#include "codec.h"
#include "fuzz.h"

static int is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

static void decodes_to(const char *enc, size_t n, const char *want, size_t wantn)
{
	struct ts_buf out;
	size_t bad = (size_t)-1;

	ts_buf_init(&out, 0);
	ts_buf_addch(&out, '<');
	FUZZ_CHECK(ts_base64_decode(&out, enc, n, &bad) == 0);
	FUZZ_CHECK(out.len == wantn + 1 && out.data[0] == '<');
	FUZZ_CHECK(memcmp(out.data + 1, want, wantn) == 0);
	FUZZ_CHECK(out.data[out.len] == '\0');
	ts_buf_release(&out);
}

static void encode(const char *in, size_t n)
{
	struct ts_buf enc, alt;
	size_t len;

	ts_buf_init(&enc, 0);
	ts_buf_addstr(&enc, "pre");
	FUZZ_CHECK(ts_base64_encode(&enc, in, n) == 0);
	len = enc.len - 3;
	FUZZ_CHECK(memcmp(enc.data, "pre", 3) == 0);
	FUZZ_CHECK(len == (n + 2) / 3 * 4);
	FUZZ_CHECK(enc.data[enc.len] == '\0');
	const char *e = enc.data + 3;
	size_t pad = n % 3 ? 3 - n % 3 : 0;
	for (size_t i = 0; i < len; i++)
		FUZZ_CHECK(i >= len - pad ? e[i] == '=' : is_b64(e[i]));
	decodes_to(e, len, in, n);
	decodes_to(e, len - pad, in, n);

	/* line breaks anywhere are ignored (76-column MIME lines, CRLF) */
	ts_buf_init(&alt, 0);
	for (size_t i = 0; i < len; i++) {
		ts_buf_addch(&alt, e[i]);
		if (i % 76 == 75)
			ts_buf_add(&alt, "\r\n", 2);
		else if (n && i % 7 == (unsigned char)in[0] % 7)
			ts_buf_addch(&alt, '\n');
	}
	decodes_to(alt.data, alt.len, in, n);
	ts_buf_release(&alt);
	ts_buf_release(&enc);
}

static void decode(const char *in, size_t n)
{
	struct ts_buf out, enc;
	size_t bad = (size_t)-1;

	ts_buf_init(&out, 0);
	ts_buf_addstr(&out, "XXXXXXXXXXXXXXXX"); /* junk past the end shows a missing NUL */
	ts_buf_setlen(&out, 2);
	errno = 0;
	if (ts_base64_decode(&out, in, n, &bad) < 0) {
		FUZZ_CHECK(errno == EINVAL && bad <= n);
		FUZZ_CHECK(bad == n || !is_b64(in[bad]) || memchr(in, '=', bad));
		FUZZ_CHECK(out.len == 2 && memcmp(out.data, "XX", 2) == 0);
		FUZZ_CHECK(out.data[out.len] == '\0');
		ts_buf_release(&out);
		return;
	}
	FUZZ_CHECK(out.data[out.len] == '\0');
	/* 6 bits a character, whole bytes only */
	size_t chars = 0;
	for (size_t i = 0; i < n; i++)
		chars += is_b64(in[i]);
	FUZZ_CHECK(out.len - 2 == chars * 6 / 8);
	ts_buf_init(&enc, 0);
	FUZZ_CHECK(ts_base64_encode(&enc, out.data + 2, out.len - 2) == 0);
	decodes_to(enc.data, enc.len, out.data + 2, out.len - 2);
	ts_buf_release(&enc);
	ts_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	encode((const char *)data, size);
	decode((const char *)data, size);
	return 0;
}
