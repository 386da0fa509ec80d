/*
 * fuzz_field.c — a record field as ts-decompress --field sees it (codec.h):
 * base64-decode the input, then inflate it as gzip and as zlib with tight
 * limits; and inflate the raw input directly too.  On success the output
 * stays within the limit; on failure nothing is appended and there is a
 * reason.
 */
#include <libdeflate.h>
#include <string.h>

#include "codec.h"
#include "fuzz.h"

static struct libdeflate_decompressor *ld;
/* One output buffer for every run: it keeps the room it grew to, as a
 * program's buffer does from record to record (and growing a fresh 1 MiB
 * buffer each time, under ASan, slowed the harness to 300 runs a second). */
static struct ts_buf out;

static void inflate(const char *in, size_t n)
{
	static const enum ts_format fmts[] = {TS_FMT_GZIP, TS_FMT_ZLIB};
	struct ts_limits lim = {64 << 10, 50};

	if (!out.max)
		ts_buf_init(&out, 1 << 20);
	for (size_t i = 0; i < 2; i++) {
		const char *why = NULL;
		ts_buf_reset(&out);
		ts_buf_addstr(&out, "pre");
		int r = ts_inflate_mem(ld, fmts[i], in, n, &out, &lim, &why);
		FUZZ_CHECK(out.data[out.len] == '\0');
		if (r == 0) {
			FUZZ_CHECK(out.len - 3 <= lim.max_size);
		} else {
			FUZZ_CHECK(r == -1 && why != NULL);
			FUZZ_CHECK(out.len == 3 && memcmp(out.data, "pre", 3) == 0);
		}
		/* no limits but the buffer's own */
		ts_buf_reset(&out);
		why = NULL;
		r = ts_inflate_mem(ld, fmts[i], in, n, &out, NULL, &why);
		FUZZ_CHECK(r == 0 ? out.len <= out.max : (why && out.len == 0));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct ts_buf dec;
	size_t bad = (size_t)-1;

	if (!ld && !(ld = libdeflate_alloc_decompressor()))
		return 0;
	ts_buf_init(&dec, 0);
	ts_buf_addch(&dec, '>');
	if (ts_base64_decode(&dec, in, size, &bad) == 0) {
		FUZZ_CHECK(dec.len - 1 <= size / 4 * 3 + 3);
		FUZZ_CHECK(dec.data[dec.len] == '\0');
		inflate(dec.data + 1, dec.len - 1);
		(void)ts_format_detect((const unsigned char *)dec.data + 1, dec.len - 1);
	} else {
		FUZZ_CHECK(bad <= size);
	}
	ts_buf_release(&dec);
	inflate(in, size);
	enum ts_format f = ts_format_detect(data, size);
	FUZZ_CHECK(f != TS_FMT_AUTO && f != TS_FMT_DEFLATE);
	FUZZ_CHECK(ts_format_name(f) != NULL);
	return 0;
}
