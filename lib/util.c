/* util.c — see util.h. */
#define _GNU_SOURCE /* O_TMPFILE */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *ts_progname = "ts";

static void vreport(const char *fmt, va_list ap)
{
	char msg[4096];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "%s: %s\n", ts_progname, msg);
}

int ts_error(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	errno = saved;
	return -1;
}

void ts_warn(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	errno = saved;
}

int ts_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

int ts_parse_size(const char *s, uint64_t *out)
{
	char num[32];
	size_t n = strlen(s);
	unsigned shift = 0;
	uint64_t v;

	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n + 1);
	if (n > 1 && (num[n - 1] == 'B' || num[n - 1] == 'b') &&
	    strchr("kKmMgGtT", num[n - 2]))
		num[--n] = '\0'; /* "64MB" */
	switch (num[n - 1]) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	}
	if (shift)
		num[--n] = '\0';
	if (ts_parse_u64(num, &v) < 0 || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = v << shift;
	return 0;
}

double ts_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *ts_input_name(const char *path)
{
	return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

int ts_open_input(const char *path)
{
	if (strcmp(path, "-") == 0)
		return 0;
	return open(path, O_RDONLY | O_CLOEXEC);
}

long ts_read_full(int fd, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return got ? (long)got : -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (long)got;
}

int ts_write_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

int ts_mkdir_p(const char *dir)
{
	char *d = strdup(dir);
	int rc = 0;

	if (!d)
		return -1;
	for (char *s = d + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(d, 0777) < 0 && errno != EEXIST) {
			rc = -1;
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	free(d);
	return rc;
}

const char *ts_tmpdir(void)
{
	const char *dir = getenv("TMPDIR");

	return dir && *dir ? dir : "/tmp";
}

int ts_tmpfile(const char *dir)
{
	char path[4096];
	int fd;

	if (!dir || !*dir)
		dir = ts_tmpdir();
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC | O_EXCL, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	if ((size_t)snprintf(path, sizeof(path), "%s/ts-tmp.XXXXXX", dir) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkstemp(path);
	if (fd >= 0) {
		unlink(path);
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	return fd;
}

const char *ts_fmt_double(double d, char *t, size_t n)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(t, n, "%.*g", prec, d);
		if (strtod(t, NULL) == d || d != d)
			break;
	}
	return t;
}

void *ts_alloc_huge(size_t n)
{
	void *p;
	int e = posix_memalign(&p, (size_t)2 << 20, n);

	if (e) {
		errno = e;
		return NULL;
	}
	madvise(p, n, MADV_HUGEPAGE); /* advice: without it, small pages */
	return p;
}
