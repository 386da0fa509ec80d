/*
 * fuzz_decomp.c — whole-input decompression (decomp.h).  The input is
 * written to a memfd and streamed through ts_decomp with the format it
 * detects and with each format forced, under small limits.  Invariants: the
 * output stays within the size limit; every TS_SOURCE_BREAK has a damage
 * with a message, an offset within the input and at most 1 MiB of raw
 * bytes; nothing comes after a fatal damage; damage is never an I/O error;
 * and the same input read from a source that hands over a few bytes at a
 * time, through ts_decomp_read() with small buffers, gives the same bytes
 * (up to where damage or a limit stops it: how much of a damaged block a
 * decoder gives depends on the buffer) and as many damages.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "decomp.h"
#include "fuzz.h"
#include "util.h"

static int fd = -1;

struct drip {
	const uint8_t *p;
	size_t n, step;
};

static long drip_read(void *ctx, char *dst, size_t n)
{
	struct drip *s = ctx;
	size_t k = n < s->step ? n : s->step;

	if (k > s->n)
		k = s->n;
	memcpy(dst, s->p, k);
	s->p += k;
	s->n -= k;
	s->step = s->step % 13 + 1;
	return (long)k;
}

static void check_damage(struct ts_decomp *d, size_t size, int *fatal, int *ndmg)
{
	const struct ts_damage *g = ts_decomp_damage(d);

	FUZZ_CHECK(!*fatal);
	FUZZ_CHECK(g && g->code && g->message[0] != '\0');
	FUZZ_CHECK(g->offset >= -1 && g->offset <= (int64_t)size);
	FUZZ_CHECK((g->raw == NULL) == (g->rawn == 0));
	FUZZ_CHECK(g->rawn <= ((size_t)1 << 20) && g->rawn <= size);
	FUZZ_CHECK(!g->truncated || g->raw);
	FUZZ_CHECK(!ts_decomp_error(d, NULL));
	*fatal = g->fatal;
	++*ndmg;
}

/* Everything one open gives; the bytes go into out.  The number of
 * damages, or -1 when it could not run. */
static int drain(struct ts_decomp *d, int by_read, size_t size, struct ts_buf *out)
{
	const char *name, *p;
	char buf[97];
	long k;
	int e, entries = 0, fatal = 0, ndmg = 0;

	if (!d)
		return -1;
	while ((e = ts_decomp_next_entry(d, &name)) != 0 && entries++ < 1000 && ndmg < 1000) {
		if (e == TS_SOURCE_BREAK) {
			check_damage(d, size, &fatal, &ndmg);
			continue;
		}
		FUZZ_CHECK(e == 1);
		while ((k = by_read ? ts_decomp_read(d, buf, 1 + (size_t)entries % sizeof(buf))
				    : ts_decomp_chunk(d, &p)) != 0) {
			if (k == TS_SOURCE_BREAK) {
				check_damage(d, size, &fatal, &ndmg);
				if (ndmg >= 1000)
					break;
				continue;
			}
			FUZZ_CHECK(k > 0); /* memory input: no I/O error */
			FUZZ_CHECK(!fatal);
			ts_buf_add(out, by_read ? buf : p, (size_t)k);
		}
	}
	FUZZ_CHECK(ts_decomp_bytes_out(d) == out->len);
	FUZZ_CHECK(ts_decomp_bytes_in(d) <= size);
	ts_decomp_free(d);
	return ndmg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum ts_format forced[] = {TS_FMT_GZIP, TS_FMT_ZLIB, TS_FMT_DEFLATE,
						TS_FMT_PLAIN, TS_FMT_XZ, TS_FMT_ZSTD,
						TS_FMT_BZIP2, TS_FMT_LZ4, TS_FMT_ARCHIVE};
	struct ts_limits lim = {1 << 20, 100};
	struct ts_buf out, got;

	if (fd < 0 && (fd = memfd_create("fuzz_decomp", 0)) < 0)
		return 0;
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) != 0 ||
	    ts_write_all(fd, (const char *)data, size) < 0 || lseek(fd, 0, SEEK_SET) != 0)
		return 0;
	ts_buf_init(&out, 0);
	ts_buf_init(&got, 0);
	int n1 = drain(ts_decomp_open_fd(fd, TS_FMT_AUTO, &lim), 0, size, &out);
	FUZZ_CHECK(n1 >= 0);
	FUZZ_CHECK(out.len <= lim.max_size);

	struct drip s = {data, size, 1};
	int n2 = drain(ts_decomp_open(drip_read, &s, TS_FMT_AUTO, &lim), 1, size, &got);
	size_t common = got.len < out.len ? got.len : out.len;
	FUZZ_CHECK(memcmp(got.data, out.data, common) == 0);
	/* (7z needs to seek: from a source it is damage, from a file not) */
	if (n1 == 0 && n2 == 0)
		FUZZ_CHECK(got.len == out.len);

	enum ts_format detected = ts_format_detect(data, size);
	for (size_t i = 0; i < sizeof(forced) / sizeof(forced[0]); i++) {
		if (forced[i] == detected || lseek(fd, 0, SEEK_SET) != 0)
			continue;
		ts_buf_reset(&out);
		int n = drain(ts_decomp_open_fd(fd, forced[i], &lim), 0, size, &out);
		FUZZ_CHECK(n >= 0);
		FUZZ_CHECK(out.len <= lim.max_size);
		if (forced[i] == TS_FMT_PLAIN && size <= lim.max_size)
			FUZZ_CHECK(n == 0 && out.len == size && memcmp(out.data, data, size) == 0);
	}
	ts_buf_release(&got);
	ts_buf_release(&out);
	return 0;
}
