/*
 * faultfs.c — an LD_PRELOAD shim that makes a disk look full, for tests.
 *
 *	cc -shared -fPIC -o faultfs.so faultfs.c -ldl
 *	FAULTFS_MARK=/full/ FAULTFS_AFTER=4096 LD_PRELOAD=./faultfs.so prog ...
 *
 * write(2) to a file whose path (as /proc/self/fd shows it) contains
 * FAULTFS_MARK succeeds for the first FAULTFS_AFTER bytes written to such
 * files in total (default 0), the write that crosses the limit is short, as
 * on a file system that fills up, and every later one fails with ENOSPC.
 * Other files, and every file when FAULTFS_MARK is unset, are untouched.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static ssize_t (*real_write)(int, const void *, size_t);
static long long budget = -1;

static int marked(int fd, const char *mark)
{
	char link[64], path[4096];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	return strstr(path, mark) != NULL;
}

ssize_t write(int fd, const void *buf, size_t n)
{
	const char *mark = getenv("FAULTFS_MARK");

	if (!real_write)
		real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	if (mark && *mark && n && marked(fd, mark)) {
		if (budget < 0) {
			const char *a = getenv("FAULTFS_AFTER");
			budget = a ? atoll(a) : 0;
		}
		if (budget == 0) {
			errno = ENOSPC;
			return -1;
		}
		if ((long long)n > budget)
			n = (size_t)budget;
		ssize_t w = real_write(fd, buf, n);
		if (w > 0)
			budget -= w;
		return w;
	}
	return real_write(fd, buf, n);
}
