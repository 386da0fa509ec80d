/*
 * util.h — the program name, diagnostics and small parsers every program uses.
 *
 * Diagnostics follow git: "ts-extract: input.json:17: expected ..." —
 * lowercase, no full stop.  ts_error() returns -1 so library code can write
 * `return ts_error("cannot open '%s'", path);`.  Only cmd/ decides to exit.
 */
#ifndef TS_UTIL_H
#define TS_UTIL_H

#include <stddef.h>
#include <stdint.h>

extern const char *ts_progname;

int ts_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ts_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "64M", "1G", "512k", "100" (bytes; k/M/G/T are powers of 1024).
 * 0 on success, -1 on a malformed or overflowing value. */
int ts_parse_size(const char *s, uint64_t *out);
/* A non-negative decimal integer, strictly. */
int ts_parse_u64(const char *s, uint64_t *out);

/* Monotonic seconds. */
double ts_now(void);
/* The wall clock (CLOCK_REALTIME) in milliseconds since the epoch. */
int64_t ts_wall_ms(void);

/* Percent-encoding as URLs, SigV4 and S3 want it: unreserved characters
 * (A-Z a-z 0-9 - _ . ~) as they are, '/' too when keep_slash, every other
 * byte %XX with upper-case digits, appended to out.  0 or -1 (its limit). */
struct ts_buf;
int ts_pct_encode(struct ts_buf *out, const char *s, size_t n, int keep_slash);
/* The value of a hexadecimal digit (either case), -1 for anything else. */
int ts_hexval(char c);

/* Name shown for an input: "<stdin>" for "-". */
const char *ts_input_name(const char *path);
/* Open an input for reading: "-" is standard input.  -1 and errno on failure. */
int ts_open_input(const char *path);

/* read(2) that retries on EINTR and fills up to n bytes unless EOF/error. */
long ts_read_full(int fd, char *buf, size_t n);
/* A whole small file ("-": standard input), NUL-terminated, its length in
 * *n.  NULL with errno (EFBIG past max bytes). */
char *ts_read_small(const char *path, size_t max, size_t *n);
/* write(2) all n bytes, retrying on EINTR/short writes.  0 or -1/errno. */
int ts_write_all(int fd, const char *buf, size_t n);

/* mkdir -p: create dir and its missing parents.  0, or -1 with errno. */
int ts_mkdir_p(const char *dir);

/* A temporary file nobody else can reach, open read-write: O_TMPFILE in
 * dir (NULL: $TMPDIR, else /tmp) where the kernel has it, else a mkstemp()
 * name unlinked at once.  The kernel frees it when it is closed or the
 * process dies, so nothing is left behind on any path out.  The fd, or -1
 * with errno. */
int ts_tmpfile(const char *dir);
/*
 * An output file published whole or not at all: written under
 * PATH.tmp-XXXXXX next to PATH (same file system), with the umask's mode,
 * and renamed into place by ts_afile_commit().  ts_afile_abort() removes
 * it, and so does SIGTERM, SIGINT, SIGHUP or SIGQUIT arriving while it is
 * open (the handler removes the open ones, then the signal takes its
 * usual course); only SIGKILL can leave one behind.  At most 8 at once.
 * A PATH that is there and is not a regular file (a device such as
 * /dev/null, a pipe, a symbolic link such as /dev/stdout) is written in
 * place instead: renaming over it would replace the device or the link.
 */
struct ts_afile {
	int fd;
	int slot;
	char *path, *tmp;
};
/* 0, or -1 with errno. */
int ts_afile_open(struct ts_afile *f, const char *path);
/* Close and rename into place: 0, or -1 with errno (the file removed). */
int ts_afile_commit(struct ts_afile *f);
void ts_afile_abort(struct ts_afile *f);

/* The directory ts_tmpfile(NULL) uses. */
const char *ts_tmpdir(void);

/* n bytes aligned to 2 MiB and advised as huge pages (a large table or
 * store faults in 512 times fewer pages where the kernel grants them);
 * free() frees it.  NULL with errno. */
void *ts_alloc_huge(size_t n);

/* The shortest "%.*g" text of d that reads back as d (15 to 17 digits). */
const char *ts_fmt_double(double d, char *t, size_t n);

#endif
