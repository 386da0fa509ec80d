/* test_out.c — lib/out.h: buffered output, large writes, records, errors. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "out.h"

static char tmpl[4096];

static int temp_file(void)
{
	const char *d = getenv("TMPDIR");
	int fd;

	if ((size_t)snprintf(tmpl, sizeof(tmpl), "%s/ts-out-XXXXXX",
			     d && *d ? d : "/tmp") >= sizeof(tmpl))
		return -1;
	fd = mkstemp(tmpl);
	if (fd >= 0)
		unlink(tmpl);
	return fd;
}

static off_t fsize(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? st.st_size : -1;
}

/* The whole file (malloc'd, caller frees). */
static char *slurp(int fd, size_t *n)
{
	off_t sz = fsize(fd);
	char *p = malloc(sz > 0 ? (size_t)sz : 1);

	*n = 0;
	if (!p || sz < 0)
		return p;
	if (pread(fd, p, (size_t)sz, 0) == sz)
		*n = (size_t)sz;
	return p;
}

static void test_buffered(void)
{
	struct ts_out o;
	int fd = temp_file();
	size_t n;
	char *p;

	if (!CHECK(fd >= 0))
		return;
	ts_out_init(&o, fd);
	CHECK(o.fd == fd && o.err == 0 && o.bytes == 0 && o.records == 0);
	CHECK(ts_out_write(&o, "hello ", 6) == 0);
	CHECK(ts_out_write(&o, "world", 5) == 0);
	CHECK(ts_out_write(&o, "", 0) == 0);
	/* nothing reaches the file before a flush */
	CHECK(fsize(fd) == 0);
	CHECK(o.bytes == 0);
	CHECK(o.buf.len == 11);
	CHECK(ts_out_flush(&o) == 0);
	CHECK(fsize(fd) == 11);
	CHECK(o.bytes == 11);
	CHECK(o.buf.len == 0);
	/* an empty flush writes nothing */
	CHECK(ts_out_flush(&o) == 0);
	CHECK(o.bytes == 11);

	/* records appended straight into the buffer */
	ts_buf_addstr(&o.buf, "{\"a\":1}");
	CHECK(ts_out_end_record(&o) == 0);
	ts_buf_addstr(&o.buf, "{\"b\":2}");
	CHECK(ts_out_end_record(&o) == 0);
	CHECK(o.records == 2);
	CHECK(fsize(fd) == 11); /* still buffered */
	CHECK(ts_out_release(&o) == 0);
	CHECK(o.buf.cap == 0 && o.buf.len == 0);
	CHECK(o.bytes == 27);
	p = slurp(fd, &n);
	CHECK_MEM(p, n, "hello world{\"a\":1}\n{\"b\":2}\n", 27);
	free(p);
	/* release leaves the fd open */
	CHECK(fcntl(fd, F_GETFD) >= 0);
	close(fd);
}

static void test_autoflush(void)
{
	struct ts_out o;
	int fd = temp_file();

	if (!CHECK(fd >= 0))
		return;
	ts_out_init(&o, fd);
	o.autoflush = 1;
	ts_buf_addstr(&o.buf, "x");
	CHECK(ts_out_end_record(&o) == 0);
	CHECK(fsize(fd) == 2);
	CHECK(o.bytes == 2 && o.records == 1 && o.buf.len == 0);
	ts_out_release(&o);
	close(fd);
}

/* Many small records: flushed in chunks, never more than a chunk buffered. */
static void test_chunks(void)
{
	struct ts_out o;
	int fd = temp_file();
	char rec[100];
	size_t n, total = 0, maxbuf = 0;
	char *p;
	int flushed_early = 0, ok = 1;

	if (!CHECK(fd >= 0))
		return;
	ts_out_init(&o, fd);
	for (int i = 0; i < 10000; i++) {
		int len = snprintf(rec, sizeof(rec), "{\"i\":%d,\"pad\":\"%040d\"}", i, i);
		ts_buf_add(&o.buf, rec, (size_t)len);
		if (ts_out_end_record(&o) < 0)
			ok = 0;
		total += (size_t)len + 1;
		if (o.buf.len > maxbuf)
			maxbuf = o.buf.len;
		if (fsize(fd) > 0 && total < TS_OUT_CHUNK * 2)
			flushed_early = 1;
	}
	CHECK(ok);
	CHECK(flushed_early);
	CHECK(maxbuf < TS_OUT_CHUNK);
	CHECK(o.records == 10000);
	CHECK((size_t)fsize(fd) + o.buf.len == total);
	CHECK(o.bytes == (uint64_t)fsize(fd));
	CHECK(ts_out_flush(&o) == 0);
	CHECK((size_t)fsize(fd) == total && o.bytes == total);
	p = slurp(fd, &n);
	/* the records in order */
	size_t off = 0;
	int inorder = n == total;
	for (int i = 0; inorder && i < 10000; i++) {
		int len = snprintf(rec, sizeof(rec), "{\"i\":%d,\"pad\":\"%040d\"}\n", i, i);
		if (off + (size_t)len > n || memcmp(p + off, rec, (size_t)len) != 0)
			inorder = 0;
		off += (size_t)len;
	}
	CHECK(inorder);
	free(p);
	ts_out_release(&o);
	close(fd);
}

/* A write of a chunk or more goes straight to the fd, after what is buffered. */
static void test_large(void)
{
	struct ts_out o;
	int fd = temp_file();
	size_t big = TS_OUT_CHUNK + 12345, n;
	char *b = malloc(big), *p;

	if (!CHECK(fd >= 0 && b))
		goto out;
	for (size_t i = 0; i < big; i++)
		b[i] = (char)('a' + i % 26);
	ts_out_init(&o, fd);
	CHECK(ts_out_write(&o, "head", 4) == 0);
	CHECK(fsize(fd) == 0);
	CHECK(ts_out_write(&o, b, big) == 0);
	CHECK((size_t)fsize(fd) == 4 + big);
	CHECK(o.bytes == 4 + big);
	CHECK(o.buf.len == 0);
	/* exactly one chunk, with an empty buffer: direct too */
	CHECK(ts_out_write(&o, b, TS_OUT_CHUNK) == 0);
	CHECK((size_t)fsize(fd) == 4 + big + TS_OUT_CHUNK);
	CHECK(o.buf.len == 0);
	/* small, then one that overflows the chunk: the small one flushed
	 * first, the new one buffered (it is under a chunk) */
	CHECK(ts_out_write(&o, "mid", 3) == 0);
	CHECK(ts_out_write(&o, b, TS_OUT_CHUNK - 2) == 0);
	CHECK((size_t)fsize(fd) == 4 + big + TS_OUT_CHUNK + 3);
	CHECK(o.buf.len == TS_OUT_CHUNK - 2);
	CHECK(ts_out_write(&o, "tail", 4) == 0);
	CHECK(ts_out_release(&o) == 0);
	p = slurp(fd, &n);
	CHECK(n == 4 + big + TS_OUT_CHUNK + 3 + TS_OUT_CHUNK - 2 + 4);
	if (p && n == 4 + big + TS_OUT_CHUNK + 3 + TS_OUT_CHUNK - 2 + 4) {
		size_t off = 0;
		CHECK_MEM(p, 4, "head", 4);
		off += 4;
		CHECK(memcmp(p + off, b, big) == 0);
		off += big;
		CHECK(memcmp(p + off, b, TS_OUT_CHUNK) == 0);
		off += TS_OUT_CHUNK;
		CHECK_MEM(p + off, 3, "mid", 3);
		off += 3;
		CHECK(memcmp(p + off, b, TS_OUT_CHUNK - 2) == 0);
		off += TS_OUT_CHUNK - 2;
		CHECK_MEM(p + off, 4, "tail", 4);
	}
	CHECK(o.bytes == n);
	free(p);
out:
	free(b);
	if (fd >= 0)
		close(fd);
}

static void test_pipe(void)
{
	struct ts_out o;
	int pfd[2];
	char got[64];
	ssize_t r;

	if (!CHECK(pipe(pfd) == 0))
		return;
	ts_out_init(&o, pfd[1]);
	CHECK(ts_out_write(&o, "abc", 3) == 0);
	ts_buf_addstr(&o.buf, "def");
	CHECK(ts_out_end_record(&o) == 0);
	CHECK(ts_out_flush(&o) == 0);
	close(pfd[1]);
	r = read(pfd[0], got, sizeof(got));
	CHECK_MEM(got, r > 0 ? (size_t)r : 0, "abcdef\n", 7);
	CHECK(o.bytes == 7 && o.records == 1);
	ts_out_release(&o);
	close(pfd[0]);
}

/* The first error is remembered; everything after it fails without writing. */
static void test_epipe(void)
{
	struct ts_out o;
	int pfd[2];
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	char *big = calloc(1, TS_OUT_CHUNK * 2);

	if (!CHECK(pipe(pfd) == 0 && big))
		goto out;
	close(pfd[0]);
	ts_out_init(&o, pfd[1]);
	CHECK(ts_out_write(&o, "abc", 3) == 0); /* only buffered */
	CHECK(o.err == 0);
	CHECK(ts_out_flush(&o) == -1);
	CHECK(o.err == EPIPE);
	CHECK(o.bytes == 0);
	CHECK(o.buf.len == 0);
	CHECK(ts_out_write(&o, "more", 4) == -1);
	CHECK(o.buf.len == 0);
	CHECK(ts_out_write(&o, big, TS_OUT_CHUNK * 2) == -1);
	CHECK(ts_out_flush(&o) == -1);
	CHECK(o.err == EPIPE);
	CHECK(o.bytes == 0);
	CHECK(ts_out_release(&o) == -1);
	close(pfd[1]);

	/* a direct large write fails the same way */
	if (CHECK(pipe(pfd) == 0)) {
		close(pfd[0]);
		ts_out_init(&o, pfd[1]);
		CHECK(ts_out_write(&o, big, TS_OUT_CHUNK * 2) == -1);
		CHECK(o.err == EPIPE);
		CHECK(ts_out_write(&o, "x", 1) == -1);
		CHECK(ts_out_flush(&o) == -1);
		ts_out_release(&o);
		close(pfd[1]);
	}
out:
	free(big);
	signal(SIGPIPE, old);
}

static void test_enospc(void)
{
	struct ts_out o;
	int fd = open("/dev/full", O_WRONLY);

	if (fd < 0)
		return; /* no /dev/full here */
	ts_out_init(&o, fd);
	ts_buf_addstr(&o.buf, "{}");
	CHECK(ts_out_end_record(&o) == 0);
	CHECK(ts_out_flush(&o) == -1);
	CHECK(o.err == ENOSPC);
	CHECK(ts_out_write(&o, "x", 1) == -1);
	CHECK(o.err == ENOSPC);
	CHECK(ts_out_release(&o) == -1);
	CHECK(o.bytes == 0);
	close(fd);

	/* a bad fd: EBADF, remembered */
	ts_out_init(&o, -1);
	CHECK(ts_out_write(&o, "x", 1) == 0);
	CHECK(ts_out_flush(&o) == -1 && o.err == EBADF);
	ts_out_release(&o);
}

int main(void)
{
	test_buffered();
	test_autoflush();
	test_chunks();
	test_large();
	test_pipe();
	test_epipe();
	test_enospc();
	return check_done();
}
