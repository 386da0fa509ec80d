/* util.c — see util.h. */
#define _GNU_SOURCE /* O_TMPFILE */
#include "util.h"

#include "buf.h"

#include <errno.h>
#include <signal.h>
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

int ts_pct_encode(struct ts_buf *out, const char *s, size_t n, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || ch == '.' || ch == '~' || (keep_slash && ch == '/')) {
			if (ts_buf_addch(out, (char)ch) < 0)
				return -1;
		} else {
			char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
			if (ts_buf_add(out, e, 3) < 0)
				return -1;
		}
	}
	return 0;
}

int ts_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int64_t ts_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

char *ts_read_small(const char *path, size_t max, size_t *n)
{
	struct ts_buf b;
	char chunk[65536];
	long k;
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;

	if (fd < 0)
		return NULL;
	ts_buf_init(&b, max);
	while ((k = ts_read_full(fd, chunk, sizeof(chunk))) > 0) {
		if (ts_buf_add(&b, chunk, (size_t)k) < 0) {
			k = -1;
			errno = EFBIG;
			break;
		}
		if ((size_t)k < sizeof(chunk))
			break;
	}
	int e = errno;
	if (fd > 0)
		close(fd);
	if (k < 0) {
		ts_buf_release(&b);
		errno = e;
		return NULL;
	}
	return ts_buf_detach(&b, n);
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

/* The temporary names of the open ts_afiles, for the signal handler: set
 * before the handler can see them, cleared before they are freed. */
#define AFILES 8
static char afile_tmp[AFILES][4096];
static volatile sig_atomic_t afile_used[AFILES];
static const int afile_sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};
static struct sigaction afile_old[4];
static int afile_hooked;

static void afile_on_signal(int sig)
{
	for (int i = 0; i < AFILES; i++)
		if (afile_used[i])
			unlink(afile_tmp[i]);
	for (int i = 0; i < 4; i++)
		if (afile_sigs[i] == sig)
			sigaction(sig, &afile_old[i], NULL);
	raise(sig);
}

static void afile_hook(void)
{
	struct sigaction sa;

	if (afile_hooked)
		return;
	afile_hooked = 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = afile_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND;
	for (int i = 0; i < 4; i++) {
		sigaction(afile_sigs[i], NULL, &afile_old[i]);
		if (afile_old[i].sa_handler == SIG_DFL) /* ignored or handled: left so */
			sigaction(afile_sigs[i], &sa, NULL);
	}
}

int ts_afile_open(struct ts_afile *f, const char *path)
{
	size_t n = strlen(path);
	mode_t mask;
	int slot = -1;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->slot = -1;
	/* Only a regular file (or none) is replaced: a device (/dev/null), a
	 * pipe or a symbolic link (/dev/stdout) is written as it is, in place
	 * — renaming over it would replace the device or the link itself. */
	struct stat st;
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		f->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (f->fd < 0)
			return -1;
		if (!(f->path = strdup(path))) {
			close(f->fd);
			f->fd = -1;
			return -1;
		}
		f->tmp = f->path; /* open; nothing to rename or remove */
		return 0;
	}
	for (int i = 0; i < AFILES && slot < 0; i++)
		if (!afile_used[i])
			slot = i;
	if (slot < 0 || n + 12 > sizeof(afile_tmp[0])) {
		errno = slot < 0 ? EMFILE : ENAMETOOLONG;
		return -1;
	}
	if (!(f->path = strdup(path)) || !(f->tmp = malloc(n + 12))) {
		free(f->path);
		f->path = NULL;
		return -1;
	}
	memcpy(f->tmp, path, n);
	memcpy(f->tmp + n, ".tmp-XXXXXX", 12);
	afile_hook();
	/* the name is known to the handler before the file exists */
	memcpy(afile_tmp[slot], f->tmp, n + 12);
	afile_used[slot] = 1;
	f->fd = mkstemp(f->tmp);
	if (f->fd < 0) {
		int e = errno;
		afile_used[slot] = 0;
		free(f->path);
		free(f->tmp);
		f->path = f->tmp = NULL;
		errno = e;
		return -1;
	}
	memcpy(afile_tmp[slot], f->tmp, n + 12); /* mkstemp filled the X's */
	f->slot = slot;
	fcntl(f->fd, F_SETFD, FD_CLOEXEC);
	mask = umask(0);
	umask(mask);
	(void)fchmod(f->fd, 0666 & ~mask);
	return 0;
}

static void afile_free(struct ts_afile *f)
{
	if (f->slot >= 0)
		afile_used[f->slot] = 0;
	if (f->tmp != f->path)
		free(f->tmp);
	free(f->path);
	f->path = f->tmp = NULL;
	f->fd = -1;
	f->slot = -1;
}

void ts_afile_abort(struct ts_afile *f)
{
	if (!f->tmp)
		return;
	if (f->fd >= 0)
		close(f->fd);
	if (f->tmp != f->path) /* written in place: nothing of ours to remove */
		unlink(f->tmp);
	afile_free(f);
}

int ts_afile_commit(struct ts_afile *f)
{
	int e;

	if (!f->tmp) {
		errno = EBADF;
		return -1;
	}
	if (close(f->fd) == 0) {
		f->fd = -1;
		if (f->tmp == f->path || rename(f->tmp, f->path) == 0) {
			afile_free(f);
			return 0;
		}
	}
	f->fd = -1;
	e = errno;
	if (f->tmp != f->path)
		unlink(f->tmp);
	afile_free(f);
	errno = e;
	return -1;
}
