/* test_util.c — lib/util.h: sizes, integers, reading and writing fds. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "util.h"

static int size_is(const char *s, uint64_t want)
{
	uint64_t v = 12345;

	return ts_parse_size(s, &v) == 0 && v == want;
}

static int size_bad(const char *s)
{
	uint64_t v = 12345;

	return ts_parse_size(s, &v) == -1 && v == 12345;
}

static void test_parse_size(void)
{
	CHECK(size_is("0", 0));
	CHECK(size_is("100", 100));
	CHECK(size_is("512k", 512 << 10));
	CHECK(size_is("512K", 512 << 10));
	CHECK(size_is("64M", (uint64_t)64 << 20));
	CHECK(size_is("64m", (uint64_t)64 << 20));
	CHECK(size_is("64MB", (uint64_t)64 << 20));
	CHECK(size_is("1kb", 1024));
	CHECK(size_is("1G", (uint64_t)1 << 30));
	CHECK(size_is("2T", (uint64_t)2 << 40));
	CHECK(size_is("007", 7));
	CHECK(size_is("18446744073709551615", UINT64_MAX));
	CHECK(size_is("16777215T", (uint64_t)16777215 << 40));
	CHECK(size_is("17179869183G", (uint64_t)17179869183 << 30));

	CHECK(size_bad(""));
	CHECK(size_bad("M"));
	CHECK(size_bad("MB"));
	CHECK(size_bad("B"));
	CHECK(size_bad("10B")); /* a bare B is not a unit */
	CHECK(size_bad("1.5M"));
	CHECK(size_bad("-1"));
	CHECK(size_bad("+1"));
	CHECK(size_bad(" 1"));
	CHECK(size_bad("1 "));
	CHECK(size_bad("64 M"));
	CHECK(size_bad("1X"));
	CHECK(size_bad("1P"));
	CHECK(size_bad("1MM"));
	CHECK(size_bad("0x10"));
	/* overflow */
	CHECK(size_bad("18446744073709551616"));
	CHECK(size_bad("99999999999999999999999"));
	CHECK(size_bad("16777216T"));   /* 2^64 */
	CHECK(size_bad("17179869184G"));
	CHECK(size_bad("17592186044416M"));
	CHECK(size_bad("18014398509481984k"));
	CHECK(size_bad("1000000000000000000000000000000000000000000k")); /* long */
}

static void test_parse_u64(void)
{
	uint64_t v = 0;

	CHECK(ts_parse_u64("0", &v) == 0 && v == 0);
	CHECK(ts_parse_u64("42", &v) == 0 && v == 42);
	CHECK(ts_parse_u64("18446744073709551615", &v) == 0 && v == UINT64_MAX);
	CHECK(ts_parse_u64("18446744073709551616", &v) == -1);
	CHECK(ts_parse_u64("18446744073709551620", &v) == -1);
	CHECK(ts_parse_u64("", &v) == -1);
	CHECK(ts_parse_u64(NULL, &v) == -1);
	CHECK(ts_parse_u64("-0", &v) == -1);
	CHECK(ts_parse_u64("1k", &v) == -1);
	CHECK(ts_parse_u64("1 ", &v) == -1);
}

static void test_io(void)
{
	int fds[2];
	char buf[64];

	CHECK_STR(ts_input_name("-"), "<stdin>");
	CHECK_STR(ts_input_name("a.json"), "a.json");
	CHECK(ts_open_input("-") == 0);
	errno = 0;
	CHECK(ts_open_input("/nonexistent/ts-unit") == -1 && errno == ENOENT);

	/* ts_read_full gathers short reads until n bytes or EOF */
	if (CHECK(pipe(fds) == 0)) {
		CHECK(ts_write_all(fds[1], "abc", 3) == 0);
		CHECK(ts_write_all(fds[1], "defgh", 5) == 0);
		CHECK(ts_write_all(fds[1], "", 0) == 0);
		close(fds[1]);
		CHECK(ts_read_full(fds[0], buf, 6) == 6);
		CHECK(memcmp(buf, "abcdef", 6) == 0);
		CHECK(ts_read_full(fds[0], buf, sizeof(buf)) == 2);
		CHECK(ts_read_full(fds[0], buf, sizeof(buf)) == 0);
		close(fds[0]);
	}
	errno = 0;
	CHECK(ts_read_full(-1, buf, 1) == -1 && errno == EBADF);
	errno = 0;
	CHECK(ts_write_all(-1, "x", 1) == -1 && errno == EBADF);
	/* a closed pipe */
	if (CHECK(pipe(fds) == 0)) {
		close(fds[0]);
		void (*old)(int) = signal(SIGPIPE, SIG_IGN);
		errno = 0;
		CHECK(ts_write_all(fds[1], "x", 1) == -1 && errno == EPIPE);
		signal(SIGPIPE, old);
		close(fds[1]);
	}

	double t0 = ts_now(), t1 = ts_now();
	CHECK(t0 > 0 && t1 >= t0);
}

/* ts_afile: the file appears whole at commit, never before; abort and a
 * failed commit leave nothing; the mode is the umask's. */
static void test_afile(void)
{
	char dir[] = "/tmp/ts-afile-XXXXXX", path[64], buf[16];
	struct ts_afile f;
	struct stat st;
	mode_t old;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/out", dir);
	old = umask(027);
	CHECK(ts_afile_open(&f, path) == 0);
	CHECK(access(path, F_OK) != 0); /* not there yet */
	CHECK(ts_write_all(f.fd, "hello\n", 6) == 0);
	CHECK(ts_afile_commit(&f) == 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640 && st.st_size == 6);
	umask(old);
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && ts_read_full(fd, buf, sizeof(buf)) == 6 && !memcmp(buf, "hello\n", 6));
	close(fd);
	/* replaced whole, or kept as it was on abort */
	CHECK(ts_afile_open(&f, path) == 0);
	CHECK(ts_write_all(f.fd, "x", 1) == 0);
	ts_afile_abort(&f);
	CHECK(stat(path, &st) == 0 && st.st_size == 6);
	ts_afile_abort(&f); /* twice: nothing */
	/* a directory that is not there */
	snprintf(path, sizeof(path), "%s/no/out", dir);
	CHECK(ts_afile_open(&f, path) == -1 && errno == ENOENT);
	ts_afile_abort(&f);
	/* a symbolic link is written through, not replaced; so is a device */
	char link[80];
	snprintf(link, sizeof(link), "%s/link", dir);
	snprintf(path, sizeof(path), "%s/out", dir);
	CHECK(symlink("out", link) == 0);
	CHECK(ts_afile_open(&f, link) == 0);
	CHECK(ts_write_all(f.fd, "via\n", 4) == 0);
	CHECK(ts_afile_commit(&f) == 0);
	CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
	CHECK(stat(path, &st) == 0 && st.st_size == 4);
	CHECK(unlink(link) == 0);
	CHECK(ts_afile_open(&f, "/dev/null") == 0);
	CHECK(ts_write_all(f.fd, "x", 1) == 0);
	CHECK(ts_afile_commit(&f) == 0);
	CHECK(lstat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
	CHECK(ts_afile_open(&f, "/dev/null") == 0);
	ts_afile_abort(&f);
	CHECK(lstat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
	/* nothing else in the directory */
	snprintf(path, sizeof(path), "%s/out", dir);
	CHECK(unlink(path) == 0 && rmdir(dir) == 0);
}

int main(void)
{
	test_parse_size();
	test_parse_u64();
	test_io();
	test_afile();
	return check_done();
}
