/*
 * fuzz_decomp.c — whole-input decompression (decomp.h).  The input is
 * written to a memfd and streamed through ts_decomp with the format it
 * detects and with each format forced, under small limits: the output stays
 * within the size limit, an error has an offset within the input, and the
 * same stream read through ts_decomp_read() gives the same bytes.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "decomp.h"
#include "fuzz.h"
#include "util.h"

static int fd = -1;

/* Everything one open gives; the bytes go into out. */
static void drain(enum ts_format fmt, const struct ts_limits *lim, size_t size,
		  struct ts_buf *out)
{
	struct ts_decomp *d;
	const char *name, *p, *msg;
	int64_t off;
	long k;
	int entries = 0;

	if (lseek(fd, 0, SEEK_SET) != 0 || !(d = ts_decomp_open(fd, fmt, lim)))
		return;
	FUZZ_CHECK(fmt == TS_FMT_AUTO || ts_decomp_format(d) == fmt);
	while (ts_decomp_next_entry(d, &name) == 1 && entries++ < 1000) {
		while ((k = ts_decomp_chunk(d, &p)) > 0)
			ts_buf_add(out, p, (size_t)k);
		if (k < 0)
			break;
	}
	if (lim->max_size)
		FUZZ_CHECK(out->len <= lim->max_size);
	FUZZ_CHECK(ts_decomp_bytes_out(d) >= out->len);
	if ((msg = ts_decomp_error(d, &off))) {
		FUZZ_CHECK(msg[0] != '\0');
		FUZZ_CHECK(off >= -1 && off <= (int64_t)size);
		FUZZ_CHECK(!ts_decomp_error_is_io(d));
	}
	ts_decomp_free(d);
}

static void as_source(const struct ts_limits *lim, const struct ts_buf *want)
{
	struct ts_decomp *d;
	struct ts_buf got;
	const char *name;
	char buf[4096];
	long k;

	if (lseek(fd, 0, SEEK_SET) != 0 || !(d = ts_decomp_open(fd, TS_FMT_AUTO, lim)))
		return;
	ts_buf_init(&got, 0);
	for (int e = 0; e < 1000 && ts_decomp_next_entry(d, &name) == 1; e++) {
		while ((k = ts_decomp_read(d, buf, 1 + (size_t)e % sizeof(buf))) > 0)
			ts_buf_add(&got, buf, (size_t)k);
		if (k < 0)
			break;
	}
	FUZZ_CHECK(got.len == want->len && memcmp(got.data, want->data, got.len) == 0);
	ts_buf_release(&got);
	ts_decomp_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum ts_format forced[] = {TS_FMT_GZIP, TS_FMT_ZLIB,
						TS_FMT_DEFLATE, TS_FMT_PLAIN,
						TS_FMT_XZ};
	struct ts_limits lim = {1 << 20, 100};
	struct ts_buf out;

	if (fd < 0 && (fd = memfd_create("fuzz_decomp", 0)) < 0)
		return 0;
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) != 0 ||
	    ts_write_all(fd, (const char *)data, size) < 0)
		return 0;
	ts_buf_init(&out, 0);
	drain(TS_FMT_AUTO, &lim, size, &out);
	as_source(&lim, &out);
	enum ts_format detected = ts_format_detect(data, size);
	for (size_t i = 0; i < sizeof(forced) / sizeof(forced[0]); i++) {
		if (forced[i] == detected)
			continue;
		ts_buf_reset(&out);
		drain(forced[i], &lim, size, &out);
		if (forced[i] == TS_FMT_PLAIN && size <= lim.max_size)
			FUZZ_CHECK(out.len == size && memcmp(out.data, data, size) == 0);
	}
	ts_buf_release(&out);
	return 0;
}
