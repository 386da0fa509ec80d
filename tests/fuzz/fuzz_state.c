/*
 * fuzz_state.c — the state forms of exact.h and distinct.h from arbitrary
 * bytes.
 *
 * The input is read as an exact sum's state text (ts_exact_read) and as a
 * set stream (ts_distinct_read), once as it is and once with the right
 * checksum appended (so the fuzzer reaches streams that are accepted).
 * Both forms are canonical, which gives a strong invariant: whatever is
 * accepted is written back as exactly the bytes read.  What is refused is
 * refused with EINVAL and leaves the target as it was.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "buf.h"
#include "distinct.h"
#include "exact.h"
#include "fuzz.h"

static void exact_case(const uint8_t *data, size_t size)
{
	struct ts_exact a;
	struct ts_buf out;

	ts_exact_init(&a);
	ts_exact_add(&a, 42);
	errno = 0;
	if (ts_exact_read(&a, (const char *)data, size) < 0) {
		FUZZ_CHECK(errno == EINVAL);
		FUZZ_CHECK(ts_exact_value(&a) == 42 && ts_exact_count(&a) == 1);
		return;
	}
	ts_buf_init(&out, 0);
	FUZZ_CHECK(ts_exact_write(&a, &out) == 0);
	FUZZ_CHECK(out.len == size && memcmp(out.data, data, size) == 0);
	/* a merge with itself doubles: still readable, still canonical */
	ts_exact_merge(&a, &a);
	ts_buf_reset(&out);
	FUZZ_CHECK(ts_exact_write(&a, &out) == 0);
	FUZZ_CHECK(ts_exact_read(&a, out.data, out.len) == 0);
	(void)ts_exact_value(&a);
	ts_buf_release(&out);
}

static void set_case(const uint8_t *data, size_t size)
{
	struct ts_distinct_opts o = { 1, NULL };
	struct ts_distinct *d = ts_distinct_new(&o);
	struct ts_distinct_stats st;
	FILE *in, *out;
	char *back = NULL;
	size_t nback = 0;
	long used;

	FUZZ_CHECK(d != NULL);
	in = size ? fmemopen((void *)(uintptr_t)data, size, "r") : fopen("/dev/null", "r");
	FUZZ_CHECK(in != NULL);
	errno = 0;
	if (ts_distinct_read(d, in) < 0) {
		FUZZ_CHECK(errno == EINVAL);
		FUZZ_CHECK(ts_distinct_stats(d, &st) == 0 && st.n_rows == 0);
		fclose(in);
		ts_distinct_free(d);
		return;
	}
	used = ftell(in);
	fclose(in);
	FUZZ_CHECK(used > 0 && (size_t)used <= size);
	out = open_memstream(&back, &nback);
	FUZZ_CHECK(out != NULL);
	FUZZ_CHECK(ts_distinct_write(d, out) == 0);
	fclose(out);
	FUZZ_CHECK(nback == (size_t)used && memcmp(back, data, nback) == 0);
	FUZZ_CHECK(ts_distinct_stats(d, &st) == 0);
	FUZZ_CHECK(st.n_once <= st.n_distinct && st.n_distinct <= st.n_rows);
	FUZZ_CHECK(st.entropy >= 0);
	free(back);
	ts_distinct_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *with;
	uLong crc;

	exact_case(data, size);
	set_case(data, size);
	with = malloc(size + 4);
	FUZZ_CHECK(with != NULL);
	if (size)
		memcpy(with, data, size);
	crc = crc32(0, data, (uInt)size);
	for (int i = 0; i < 4; i++)
		with[size + (size_t)i] = (uint8_t)(crc >> (8 * i));
	set_case(with, size + 4);
	free(with);
	return 0;
}
