/* partition.c — see partition.h. */
#define _GNU_SOURCE /* syncfs */
#include "partition.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <jansson.h>
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "json.h"
#include "tstime.h"
#include "util.h"

#define BUF_BUDGET ((size_t)24 << 20) /* all open files' buffers together */
#define BUF_MIN ((size_t)16 << 10)
#define BUF_MAX ((size_t)1 << 20)
#define NAME_MAX_BYTES 255 /* a path component, on every file system we meet */
#define RUNID_LEN 16

struct part {
	char *key; /* the rendered prefix, random mark included */
	size_t keylen;
	int fd;         /* -1 when closed */
	int active;     /* a file is being written (maybe closed for now) */
	int is_error;   /* it holds rejected records (--error-prefix) */
	char *rel;      /* final path relative to the root */
	size_t dirlen;  /* rel[0, dirlen) is its directory, '/' included */
	char *tmpname;  /* the temporary file's name in that directory */
	char *buf;
	size_t blen;
	struct ts_pq_writer *pq;        /* Parquet: the open file's writer */
	size_t pq_held;                 /* its buffered bytes, as last counted */
	uint64_t records, bytes;
	int64_t first_ms, last_ms;
	double opened_at;
	struct part *lru_prev, *lru_next; /* open files, most recent first */
	struct part *age_prev, *age_next; /* active files, oldest first */
};

struct ts_partitioner {
	struct ts_part_opts o;
	struct ts_htab tab; /* rendered prefix -> struct part * */
	size_t nparts;
	struct part *lru_head, *lru_tail;
	struct part *age_head, *age_tail;
	size_t nopen, bufcap;
	uint64_t files, records, bytes; /* published */
	uint64_t dropped[2];            /* data, rejected records */
	uint64_t pq_fields, pq_early;   /* Parquet: members dropped, files closed early */
	size_t pq_held;                 /* Parquet: buffered bytes of all open files */
	struct libdeflate_compressor *gz;
	char *zbuf;
	size_t zcap;
	struct ts_buf path;
	struct ts_buf rel;              /* a relative path for open_beneath() */
	int no_openat2;                 /* the kernel has none: walk() only */
	int root;                       /* the output directory */
	int lockfd;                     /* -1 until the first temporary file */
	char runid[RUNID_LEN + 1];
	char err[512];
	int failed;
	const char *rcode;              /* the last TS_PART_REJECTED */
	char rmsg[512];
};

static int fail(struct ts_partitioner *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct ts_partitioner *p, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	if (!p->failed) {
		va_start(ap, fmt);
		vsnprintf(p->err, sizeof(p->err), fmt, ap);
		va_end(ap);
		p->failed = 1;
	}
	errno = e;
	return -1;
}

/* This record cannot be written where its prefix says; the run goes on. */
static int reject_path(struct ts_partitioner *p, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int reject_path(struct ts_partitioner *p, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->rmsg, sizeof(p->rmsg), fmt, ap);
	va_end(ap);
	p->rcode = code;
	return TS_PART_REJECTED;
}

/* A refusal where the run cannot go on (a file already holds records). */
static int refusal_is_fatal(struct ts_partitioner *p, int rc)
{
	return rc == TS_PART_REJECTED ? fail(p, "%s", p->rmsg) : rc;
}

const char *ts_part_error(const struct ts_partitioner *p)
{
	return p->failed ? p->err : NULL;
}

const char *ts_part_rejection(const struct ts_partitioner *p, const char **message)
{
	if (message)
		*message = p->rmsg;
	return p->rcode;
}

uint64_t ts_part_files(const struct ts_partitioner *p)
{
	return p->files;
}

uint64_t ts_part_records(const struct ts_partitioner *p)
{
	return p->records;
}

uint64_t ts_part_bytes(const struct ts_partitioner *p)
{
	return p->bytes;
}

uint64_t ts_part_fields_dropped(const struct ts_partitioner *p)
{
	return p->pq_fields;
}

uint64_t ts_part_closed_early(const struct ts_partitioner *p)
{
	return p->pq_early;
}

uint64_t ts_part_count(const struct ts_partitioner *p)
{
	return p->nparts;
}

uint64_t ts_part_dropped(const struct ts_partitioner *p, int is_error)
{
	return p->dropped[is_error ? 1 : 0];
}

struct ts_partitioner *ts_part_new(const struct ts_part_opts *o)
{
	struct ts_partitioner *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->o = *o;
	p->root = p->lockfd = -1;
	if (!p->o.max_open)
		p->o.max_open = 128;
	if (!p->o.pq_budget)
		p->o.pq_budget = (size_t)256 << 20;
	p->bufcap = BUF_BUDGET / p->o.max_open;
	if (p->bufcap < BUF_MIN)
		p->bufcap = BUF_MIN;
	if (p->bufcap > BUF_MAX)
		p->bufcap = BUF_MAX;
	ts_htab_init(&p->tab);
	ts_buf_init(&p->path, 0);
	ts_buf_init(&p->rel, 0);
	if (o->gzip) {
		p->gz = libdeflate_alloc_compressor(6);
		p->zcap = libdeflate_gzip_compress_bound(p->gz, p->bufcap);
		p->zbuf = malloc(p->zcap);
	}
	if (o->gzip && (!p->gz || !p->zbuf)) {
		ts_part_free(p);
		return NULL;
	}
	/* The root is followed if it is a link: the user chose it, as with
	 * cd.  Nothing below it is. */
	p->root = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->root < 0)
		fail(p, "cannot open output directory '%s': %s", o->dir, strerror(errno));
	return p;
}

/* ---- the file system, from the root descriptor ------------------------ */

/* "<dir>/<rel[0, n)><name>" for messages, in p->path. */
static const char *shown(struct ts_partitioner *p, const char *rel, size_t n, const char *name)
{
	ts_buf_reset(&p->path);
	ts_buf_addf(&p->path, "%s/%.*s%s", p->o.dir, (int)n, rel, name ? name : "");
	return p->path.data;
}

static void close_dir(struct ts_partitioner *p, int fd)
{
	if (fd >= 0 && fd != p->root)
		close(fd);
}

static int open_nofollow_dir(int at, const char *name)
{
	return openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/*
 * The fast way to what walk() does: one openat2() of rel[0, n) + name under
 * the root that fails on any symbolic link on the way (and on "..", which
 * never comes).  -1 with errno on any failure, and then the caller takes the
 * slow way, which says what is wrong.  Kernels before 5.6, and sandboxes
 * that refuse the call, get the slow way only.
 */
static int open_beneath(struct ts_partitioner *p, const char *rel, size_t n, const char *name,
			int flags, mode_t mode)
{
#ifdef SYS_openat2
	if (p->no_openat2) {
		errno = ENOSYS;
		return -1;
	}
	ts_buf_reset(&p->rel);
	ts_buf_add(&p->rel, rel, n);
	if (name)
		ts_buf_addstr(&p->rel, name);
	if (!p->rel.len) {
		errno = EINVAL;
		return -1;
	}
	struct open_how how = {
		.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, p->root, p->rel.data, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
		p->no_openat2 = 1;
	return fd;
#else
	(void)rel, (void)n, (void)name, (void)flags, (void)mode;
	p->no_openat2 = 1;
	errno = ENOSYS;
	return -1;
#endif
}

/*
 * Open the directory rel[0, n) under the root one component at a time,
 * never through a symbolic link, creating missing ones when create.  *out
 * is the root itself for "" (close it with close_dir()).  0; -1 on an I/O
 * error; TS_PART_REJECTED when a link or a file is in the way.  A link
 * planted between mkdirat() and openat() is caught by O_NOFOLLOW.
 */
static int walk(struct ts_partitioner *p, const char *rel, size_t n, int create, int *out)
{
	char name[NAME_MAX_BYTES + 1];
	int cur = p->root;
	size_t i = 0;

	*out = -1;
	if (n && (cur = open_beneath(p, rel, n, NULL, O_RDONLY | O_DIRECTORY, 0)) >= 0) {
		*out = cur;
		return 0;
	}
	cur = p->root;
	while (i < n) {
		size_t j = i;
		while (j < n && rel[j] != '/')
			j++;
		size_t len = j - i;
		if (len == 0) { /* "a//b" is "a/b", as a path */
			i++;
			continue;
		}
		if (len > NAME_MAX_BYTES) {
			close_dir(p, cur);
			return reject_path(p, "key_too_long", "'%s' has a path component longer than %d bytes",
				      shown(p, rel, n, NULL), NAME_MAX_BYTES);
		}
		memcpy(name, rel + i, len);
		name[len] = '\0';
		if (!strcmp(name, ".") || !strcmp(name, "..")) { /* templates never make one */
			close_dir(p, cur);
			return reject_path(p, "bad_prefix", "'%s' has a '.' or '..' component",
				      shown(p, rel, n, NULL));
		}
		int fd = open_nofollow_dir(cur, name);
		if (fd < 0 && errno == ENOENT && create) {
			if (mkdirat(cur, name, 0777) < 0 && errno != EEXIST) {
				int e = errno;
				close_dir(p, cur);
				errno = e;
				return fail(p, "cannot create directory '%s': %s", shown(p, rel, j, NULL),
					    strerror(e));
			}
			fd = open_nofollow_dir(cur, name);
		}
		if (fd < 0) {
			int e = errno;
			struct stat st;
			int is_link = fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
			close_dir(p, cur);
			if (e == ELOOP || e == ENOTDIR || is_link)
				return reject_path(p, "unsafe_path", "'%s' is %s: nothing is written through it",
					      shown(p, rel, j, NULL),
					      is_link ? "a symbolic link" : "not a directory");
			errno = e;
			return fail(p, "cannot open directory '%s': %s", shown(p, rel, j, NULL),
				    strerror(e));
		}
		close_dir(p, cur);
		cur = fd;
		i = j + 1;
	}
	*out = cur;
	return 0;
}

static void random_bytes(unsigned char *out, size_t n)
{
	if (getrandom(out, n, 0) == (ssize_t)n)
		return;
	/* never expected; names stay unique through time and pid */
	static uint64_t x;
	x ^= (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	for (size_t i = 0; i < n; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		out[i] = (unsigned char)(x >> 56);
	}
}

static void lock_name(char *out, size_t n, const char *runid)
{
	snprintf(out, n, TS_PART_LOCK_PREFIX "%s" TS_PART_LOCK_SUFFIX, runid);
}

/* Before the first temporary file: this run's lock file, locked for the
 * life of the process (see partition.h). */
static int take_lock(struct ts_partitioner *p)
{
	static const char hx[] = "0123456789abcdef";
	char name[64];

	if (p->lockfd >= 0)
		return 0;
	for (int tries = 0; tries < 16; tries++) {
		unsigned char r[RUNID_LEN / 2];
		random_bytes(r, sizeof(r));
		for (size_t i = 0; i < sizeof(r); i++) {
			p->runid[2 * i] = hx[r[i] >> 4];
			p->runid[2 * i + 1] = hx[r[i] & 15];
		}
		p->runid[RUNID_LEN] = '\0';
		lock_name(name, sizeof(name), p->runid);
		int fd = openat(p->root, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd < 0) {
			if (errno == EEXIST)
				continue;
			return fail(p, "cannot create '%s': %s", shown(p, "", 0, name), strerror(errno));
		}
		/* Where the file system has no locks, go on unlocked: a cleaner
		 * that cannot lock either takes the run for alive. */
		while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
			;
		struct stat st;
		if (fstat(fd, &st) == 0 && st.st_nlink == 0) {
			/* a cleaner took it for a dead run's between our
			 * create and lock, and removed it */
			close(fd);
			continue;
		}
		p->lockfd = fd;
		return 0;
	}
	return fail(p, "cannot create a lock file in '%s'", p->o.dir);
}

static void drop_lock(struct ts_partitioner *p)
{
	char name[64];

	if (p->lockfd < 0)
		return;
	/* removed while still locked: a cleaner never sees it unlocked */
	lock_name(name, sizeof(name), p->runid);
	unlinkat(p->root, name, 0);
	close(p->lockfd);
	p->lockfd = -1;
}

static void lru_unlink(struct ts_partitioner *p, struct part *t)
{
	if (t->lru_prev)
		t->lru_prev->lru_next = t->lru_next;
	else
		p->lru_head = t->lru_next;
	if (t->lru_next)
		t->lru_next->lru_prev = t->lru_prev;
	else
		p->lru_tail = t->lru_prev;
	t->lru_prev = t->lru_next = NULL;
}

static void lru_front(struct ts_partitioner *p, struct part *t)
{
	t->lru_next = p->lru_head;
	t->lru_prev = NULL;
	if (p->lru_head)
		p->lru_head->lru_prev = t;
	p->lru_head = t;
	if (!p->lru_tail)
		p->lru_tail = t;
}

static void age_unlink(struct ts_partitioner *p, struct part *t)
{
	if (t->age_prev)
		t->age_prev->age_next = t->age_next;
	else
		p->age_head = t->age_next;
	if (t->age_next)
		t->age_next->age_prev = t->age_prev;
	else
		p->age_tail = t->age_prev;
	t->age_prev = t->age_next = NULL;
}

static void age_append(struct ts_partitioner *p, struct part *t)
{
	t->age_prev = p->age_tail;
	t->age_next = NULL;
	if (p->age_tail)
		p->age_tail->age_next = t;
	p->age_tail = t;
	if (!p->age_head)
		p->age_head = t;
}

static struct part *lookup(struct ts_partitioner *p, const char *k, size_t n)
{
	/* prefixes come from the records: a per-process key, so nobody can
	 * aim collisions at the table */
	uint64_t *slot = ts_htab_put(&p->tab, ts_hash(ts_hkey_process(), k, n), k, n,
				     NULL);
	if (!slot)
		return NULL;
	if (*slot) /* 0 when a failed allocation left the key without a part */
		return (struct part *)(uintptr_t)*slot;
	struct part *t = calloc(1, sizeof(*t));
	if (!t || !(t->key = malloc(n + 1))) {
		free(t);
		return NULL;
	}
	memcpy(t->key, k, n);
	t->key[n] = '\0';
	t->keylen = n;
	t->fd = -1;
	*slot = (uint64_t)(uintptr_t)t;
	p->nparts++;
	return t;
}

/* ---- files ------------------------------------------------------------- */

/* Write out the buffered records of an open file. */
static int flush_part(struct ts_partitioner *p, struct part *t, const char *data, size_t n)
{
	if (!n)
		return 0;
	if (p->gz) {
		size_t bound = libdeflate_gzip_compress_bound(p->gz, n);
		if (bound > p->zcap) {
			char *z = realloc(p->zbuf, bound);
			if (!z)
				return fail(p, "out of memory");
			p->zbuf = z;
			p->zcap = bound;
		}
		n = libdeflate_gzip_compress(p->gz, data, n, p->zbuf, p->zcap);
		data = p->zbuf;
	}
	if (ts_write_all(t->fd, data, n) < 0)
		return fail(p, "cannot write '%s': %s", shown(p, t->rel, t->dirlen, t->tmpname),
			    strerror(errno));
	t->bytes += n;
	return 0;
}

static int close_fd(struct ts_partitioner *p, struct part *t)
{
	int rc = flush_part(p, t, t->buf, t->blen);

	t->blen = 0;
	free(t->buf);
	t->buf = NULL;
	if (close(t->fd) < 0 && rc == 0)
		rc = fail(p, "cannot write '%s': %s", shown(p, t->rel, t->dirlen, t->tmpname),
			  strerror(errno));
	t->fd = -1;
	lru_unlink(p, t);
	p->nopen--;
	return rc;
}

/* Open t's temporary file again, for appending. */
static int reopen(struct ts_partitioner *p, struct part *t)
{
	t->fd = open_beneath(p, t->rel, t->dirlen, t->tmpname, O_WRONLY | O_APPEND, 0);
	if (t->fd >= 0)
		return 0;
	int d, rc = walk(p, t->rel, t->dirlen, 0, &d);

	if (rc != 0) /* the directory became a link while we wrote in it */
		return refusal_is_fatal(p, rc);
	t->fd = openat(d, t->tmpname, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	int e = errno;
	close_dir(p, d);
	if (t->fd < 0)
		return fail(p, "cannot reopen '%s': %s", shown(p, t->rel, t->dirlen, t->tmpname),
			    strerror(e));
	return 0;
}

/* Start a new file for t: its names, its directory, the open temp file. */
static int start_file(struct ts_partitioner *p, struct part *t)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	static const char hx[] = "0123456789abcdef";
	static const struct ts_tz utc;
	char rnd[11], uuid[37], stamp[32];
	unsigned char r[sizeof(rnd)], u[16];
	struct ts_civil c;
	struct ts_buf rel;

	random_bytes(r, sizeof(r));
	for (size_t i = 0; i < sizeof(rnd); i++)
		rnd[i] = alnum[r[i] % 36];
	random_bytes(u, sizeof(u));
	u[6] = (unsigned char)(0x40 | (u[6] & 0x0f)); /* version 4 */
	u[8] = (unsigned char)(0x80 | (u[8] & 0x3f)); /* variant */
	for (int i = 0, j = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			uuid[j++] = '-';
		uuid[j++] = hx[u[i] >> 4];
		uuid[j++] = hx[u[i] & 15];
	}
	uuid[36] = '\0';
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	ts_tz_civil(p->o.tz ? p->o.tz : &utc, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, &c);
	snprintf(stamp, sizeof(stamp), "%04d-%02d-%02d-%02d-%02d-%02d", c.year, c.month,
		 c.day, c.hour, c.min, c.sec);

	/* the prefix and the file name as they are: no '/' between */
	ts_buf_init(&rel, 0);
	for (size_t i = 0; i < t->keylen; i++) {
		if (t->key[i] == TS_PART_RANDOM_MARK)
			ts_buf_add(&rel, rnd, sizeof(rnd));
		else
			ts_buf_addch(&rel, t->key[i]);
	}
	const char *slash = rel.len ? memrchr(rel.data, '/', rel.len) : NULL;
	size_t dirlen = slash ? (size_t)(slash - rel.data) + 1 : 0;
	ts_buf_addf(&rel, "%s-%s-%s%s", p->o.name, stamp, uuid,
		    p->o.pq_schema && !t->is_error ? ".parquet" : p->o.gzip ? ".gz" : "");
	free(t->rel);
	free(t->tmpname);
	t->rel = ts_buf_detach(&rel, NULL);
	t->dirlen = dirlen;
	t->tmpname = NULL;
	if (!t->rel)
		return fail(p, "out of memory");
	/* ".<file name>.<run id>.ts-tmp" must fit a directory entry */
	size_t base = strlen(t->rel + dirlen);
	if (base + 2 + RUNID_LEN + strlen(TS_PART_TMP_SUFFIX) > NAME_MAX_BYTES)
		return reject_path(p, "key_too_long", "the file name '%s' would be longer than %d bytes",
			      shown(p, t->rel, strlen(t->rel), NULL),
			      NAME_MAX_BYTES - 2 - RUNID_LEN - (int)strlen(TS_PART_TMP_SUFFIX));

	int d, rc = walk(p, t->rel, dirlen, 1, &d);
	if (rc != 0)
		return rc;
	if (take_lock(p) < 0) {
		close_dir(p, d);
		return -1;
	}
	ts_buf_reset(&p->path);
	ts_buf_addf(&p->path, ".%s.%s" TS_PART_TMP_SUFFIX, t->rel + dirlen, p->runid);
	t->tmpname = strdup(p->path.data);
	if (!t->tmpname) {
		close_dir(p, d);
		return fail(p, "out of memory");
	}
	t->fd = openat(d, t->tmpname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
	int e = errno;
	close_dir(p, d);
	if (t->fd < 0)
		return fail(p, "cannot create '%s': %s", shown(p, t->rel, dirlen, t->tmpname),
			    strerror(e));
	t->active = 1;
	t->records = t->bytes = 0;
	t->opened_at = ts_now();
	age_append(p, t);
	return 0;
}

static int finish(struct ts_partitioner *p, struct part *t);

/* 0, -1 or TS_PART_REJECTED (nothing written for t yet). */
static int ensure_open(struct ts_partitioner *p, struct part *t)
{
	if (t->fd >= 0) {
		if (p->lru_head != t) {
			lru_unlink(p, t);
			lru_front(p, t);
		}
		return 0;
	}
	while (p->nopen >= p->o.max_open && p->lru_tail) {
		struct part *old = p->lru_tail;
		if (old->pq) { /* a Parquet file cannot be reopened: finish it */
			if (finish(p, old) < 0)
				return -1;
			p->pq_early++;
		} else if (close_fd(p, old) < 0) {
			return -1;
		}
	}
	int rc = t->active ? reopen(p, t) : start_file(p, t);
	if (rc != 0)
		return rc;
	t->buf = malloc(p->bufcap);
	if (!t->buf) {
		close(t->fd);
		t->fd = -1;
		return fail(p, "out of memory");
	}
	t->blen = 0;
	p->nopen++;
	lru_front(p, t);
	return 0;
}

static void iso(char *out, size_t n, int64_t ms)
{
	struct ts_civil c;

	ts_civil_from_ms(ms, &c);
	snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year, c.month, c.day,
		 c.hour, c.min, c.sec, c.msec);
}

static int hexv(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The manifest line: path, partition (its k=v components), counts, times. */
static void manifest(struct ts_partitioner *p, struct part *t)
{
	json_t *o = json_object(), *kv = json_object();
	char first[40], last[40];
	const char *s = t->rel;

	while (*s) {
		const char *slash = strchr(s, '/');
		if (!slash)
			break;
		const char *eq = memchr(s, '=', (size_t)(slash - s));
		if (eq) {
			struct ts_buf v;
			ts_buf_init(&v, 0);
			for (const char *q = eq + 1; q < slash; q++) {
				if (*q == '%' && q + 2 < slash && hexv(q[1]) >= 0 && hexv(q[2]) >= 0) {
					ts_buf_addch(&v, (char)(hexv(q[1]) * 16 + hexv(q[2])));
					q += 2;
				} else
					ts_buf_addch(&v, *q);
			}
			char *k = strndup(s, (size_t)(eq - s));
			json_t *js = json_stringn(v.data, v.len);
			if (!js) /* not Unicode (a lone surrogate): as the path has it */
				js = json_stringn(eq + 1, (size_t)(slash - eq - 1));
			if (k && js)
				json_object_set_new(kv, k, js);
			else
				json_decref(js);
			free(k);
			ts_buf_release(&v);
		}
		s = slash + 1;
	}
	iso(first, sizeof(first), t->first_ms);
	iso(last, sizeof(last), t->last_ms);
	json_object_set_new(o, "path", json_string(t->rel));
	json_object_set_new(o, "partition", kv);
	json_object_set_new(o, "records", json_integer((json_int_t)t->records));
	json_object_set_new(o, "bytes", json_integer((json_int_t)t->bytes));
	json_object_set_new(o, "first", json_string(first));
	json_object_set_new(o, "last", json_string(last));
	char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (line) {
		/* once the reader of the manifest is gone (EPIPE), these are
		 * no-ops: the files are still published and counted */
		ts_buf_addstr(&p->o.manifest->buf, line);
		ts_out_end_record(p->o.manifest);
		ts_out_flush(p->o.manifest); /* ts-put ships files as they complete */
		free(line);
	}
}

/* Free t's Parquet writer, its memory out of the budget. */
static void drop_writer(struct ts_partitioner *p, struct part *t)
{
	p->pq_held -= t->pq_held;
	t->pq_held = 0;
	ts_pq_writer_free(t->pq);
	t->pq = NULL;
}

/* A Parquet file every record of which was refused: removed, not published. */
static int discard(struct ts_partitioner *p, struct part *t)
{
	int d;

	drop_writer(p, t);
	if (t->fd >= 0 && close_fd(p, t) < 0)
		return -1;
	if (walk(p, t->rel, t->dirlen, 0, &d) == 0) {
		unlinkat(d, t->tmpname, 0);
		close_dir(p, d);
	}
	age_unlink(p, t);
	t->active = 0;
	return 0;
}

/* Write out what t still buffers and close it; fsync first when sync. */
static int finish_data(struct ts_partitioner *p, struct part *t, int sync)
{
	if (t->pq) {
		int rc = ts_pq_finish(t->pq);
		const char *why = rc < 0 ? ts_pq_error(t->pq) : NULL;
		drop_writer(p, t);
		if (rc < 0)
			return fail(p, "cannot write '%s': %s", shown(p, t->rel, t->dirlen, t->tmpname),
				    why ? why : "out of memory");
	}
	if (t->fd < 0) {
		if (!sync && !t->blen)
			return 0; /* closed already, nothing buffered */
		if (reopen(p, t) < 0)
			return -1;
		p->nopen++;
		lru_front(p, t);
	}
	if (flush_part(p, t, t->buf, t->blen) < 0)
		return -1;
	t->blen = 0;
	if (sync && fsync(t->fd) < 0)
		return fail(p, "cannot write '%s': %s", shown(p, t->rel, t->dirlen, t->tmpname),
			    strerror(errno));
	return close_fd(p, t);
}

/* Rename t's file to its final name; fsync its directory when sync. */
static int publish(struct ts_partitioner *p, struct part *t, int sync)
{
	int d, rc = walk(p, t->rel, t->dirlen, 0, &d);

	if (rc != 0)
		return refusal_is_fatal(p, rc);
	if (renameat(d, t->tmpname, d, t->rel + t->dirlen) < 0) {
		int e = errno;
		close_dir(p, d);
		return fail(p, "cannot rename '%s': %s", shown(p, t->rel, t->dirlen, t->tmpname),
			    strerror(e));
	}
	if (sync)
		fsync(d);
	close_dir(p, d);
	return 0;
}

/* The file is complete and published: count it, describe it. */
static void announce(struct ts_partitioner *p, struct part *t)
{
	age_unlink(p, t);
	t->active = 0;
	p->files++;
	p->bytes += t->bytes;
	if (!t->is_error)
		p->records += t->records;
	manifest(p, t);
}

/* Close, fsync, publish (rename), describe.  The partition stays known. */
static int finish(struct ts_partitioner *p, struct part *t)
{
	if (t->pq && !t->records)
		return discard(p, t);
	if (finish_data(p, t, p->o.fsync) < 0 || publish(p, t, p->o.fsync) < 0)
		return -1;
	announce(p, t);
	return 0;
}

/* syncfs(2) on the file system holding the output root. */
static int sync_root(struct ts_partitioner *p)
{
	if (syncfs(p->root) < 0)
		return fail(p, "cannot write to '%s': %s", p->o.dir, strerror(errno));
	return 0;
}

int ts_part_copy(struct ts_partitioner *p, const char *rel, int src)
{
	size_t n = strlen(rel);
	const char *slash = n ? memrchr(rel, '/', n) : NULL;
	size_t dirlen = slash ? (size_t)(slash - rel) + 1 : 0;
	const char *base = rel + dirlen;
	char buf[1 << 16];
	int d, fd, rc;

	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return reject_path(p, "bad_prefix", "'%s' is not a file name", shown(p, rel, n, NULL));
	if (strlen(base) + 2 + RUNID_LEN + strlen(TS_PART_TMP_SUFFIX) > NAME_MAX_BYTES)
		return reject_path(p, "key_too_long", "the file name '%s' is too long",
				   shown(p, rel, n, NULL));
	if ((rc = walk(p, rel, dirlen, 1, &d)) != 0)
		return rc;
	if (take_lock(p) < 0) {
		close_dir(p, d);
		return -1;
	}
	ts_buf_reset(&p->path);
	ts_buf_addf(&p->path, ".%s.%s" TS_PART_TMP_SUFFIX, base, p->runid);
	char *tmp = strdup(p->path.data);
	if (!tmp) {
		close_dir(p, d);
		return fail(p, "out of memory");
	}
	fd = openat(d, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd < 0) {
		int e = errno;
		close_dir(p, d);
		rc = fail(p, "cannot create '%s': %s", shown(p, rel, dirlen, tmp), strerror(e));
		free(tmp);
		return rc;
	}
	uint64_t bytes = 0;
	long r;
	rc = 0;
	while ((r = ts_read_full(src, buf, sizeof(buf))) > 0) {
		if (ts_write_all(fd, buf, (size_t)r) < 0) {
			rc = fail(p, "cannot write '%s': %s", shown(p, rel, dirlen, tmp), strerror(errno));
			break;
		}
		bytes += (uint64_t)r;
	}
	if (rc == 0 && r < 0)
		rc = fail(p, "cannot read the file for '%s': %s", shown(p, rel, n, NULL), strerror(errno));
	if (rc == 0 && p->o.fsync && fsync(fd) < 0)
		rc = fail(p, "cannot write '%s': %s", shown(p, rel, dirlen, tmp), strerror(errno));
	if (close(fd) < 0 && rc == 0)
		rc = fail(p, "cannot write '%s': %s", shown(p, rel, dirlen, tmp), strerror(errno));
	/* renameat() replaces what is at the name, a link included, and
	 * never follows it. */
	if (rc == 0 && renameat(d, tmp, d, base) < 0)
		rc = fail(p, "cannot rename '%s': %s", shown(p, rel, dirlen, tmp), strerror(errno));
	if (rc < 0)
		unlinkat(d, tmp, 0);
	else if (p->o.fsync)
		fsync(d);
	close_dir(p, d);
	free(tmp);
	if (rc == 0) {
		p->files++;
		p->bytes += bytes;
	}
	return rc;
}

/* The Parquet writer's output: t's temporary file. */
static int pq_sink(void *ctx, const void *data, size_t n)
{
	struct part *t = ctx;

	if (ts_write_all(t->fd, data, n) < 0)
		return -1;
	t->bytes += n;
	return 0;
}

/* Count t's buffered bytes anew; past the budget, the open file that holds
 * the most writes a row group. */
static int pq_account(struct ts_partitioner *p, struct part *t)
{
	size_t now = ts_pq_buffered(t->pq);

	p->pq_held = p->pq_held - t->pq_held + now;
	t->pq_held = now;
	while (p->pq_held > p->o.pq_budget) {
		struct part *big = NULL;
		for (struct part *o = p->lru_head; o; o = o->lru_next)
			if (o->pq && (!big || o->pq_held > big->pq_held))
				big = o;
		if (!big || !big->pq_held)
			break;
		if (ts_pq_flush(big->pq) < 0)
			return fail(p, "cannot write '%s': %s",
				    shown(p, big->rel, big->dirlen, big->tmpname), ts_pq_error(big->pq));
		now = ts_pq_buffered(big->pq);
		p->pq_held = p->pq_held - big->pq_held + now;
		big->pq_held = now;
	}
	return 0;
}

/* One record shredded into t's Parquet file: 0, TS_PART_REJECTED (a value
 * its column cannot take; nothing of it written) or -1. */
static int write_parquet(struct ts_partitioner *p, struct part *t, const char *rec, size_t n)
{
	char why[512];
	uint64_t dropped = 0;

	if (!t->pq && !(t->pq = ts_pq_writer_new(p->o.pq_schema, &p->o.pq, pq_sink, t)))
		return fail(p, "out of memory");
	int rc = ts_pq_shred(p->o.pq_schema, t->pq, (struct ts_span){rec, n},
			     p->o.pq_case_sensitive, &dropped, why, sizeof(why));
	if (rc == -1)
		return reject_path(p, "schema_mismatch", "%s", why);
	if (rc < 0)
		return fail(p, "cannot write '%s': %s", shown(p, t->rel, t->dirlen, t->tmpname),
			    ts_pq_error(t->pq) ? ts_pq_error(t->pq) : "out of memory");
	p->pq_fields += dropped;
	return pq_account(p, t);
}

int ts_part_write(struct ts_partitioner *p, const char *prefix, size_t plen,
		  const char *rec, size_t n, int has_ws, int64_t time_ms, int is_error)
{
	struct part *t;
	int rc;

	p->rcode = NULL;
	if (p->failed)
		goto lost;
	t = lookup(p, prefix, plen);
	if (!t) {
		fail(p, "out of memory");
		goto lost;
	}
	t->is_error = is_error;
	if ((rc = ensure_open(p, t)) != 0) {
		if (rc == TS_PART_REJECTED)
			return rc;
		goto lost;
	}
	if (p->o.pq_schema && !is_error) {
		rc = write_parquet(p, t, rec, n);
		if (rc == TS_PART_REJECTED)
			return rc;
		if (rc < 0)
			goto lost;
	} else if (t->blen + n + 1 > p->bufcap) {
		if (flush_part(p, t, t->buf, t->blen) < 0)
			goto lost;
		t->blen = 0;
	}
	if (t->pq) {
		/* shredded above */
	} else if (n + 1 > p->bufcap || has_ws) {
		/* a record larger than the buffer, or one to minify: build it
		 * in a scratch buffer */
		struct ts_buf b;
		ts_buf_init(&b, 0);
		if (has_ws)
			ts_json_minify(&b, (struct ts_span){rec, n});
		else
			ts_buf_add(&b, rec, n);
		ts_buf_addch(&b, '\n');
		rc = 0;
		if (b.len > p->bufcap)
			rc = flush_part(p, t, b.data, b.len);
		else {
			memcpy(t->buf + t->blen, b.data, b.len);
			t->blen += b.len;
		}
		ts_buf_release(&b);
		if (rc < 0)
			goto lost;
	} else {
		memcpy(t->buf + t->blen, rec, n);
		t->buf[t->blen + n] = '\n';
		t->blen += n + 1;
	}
	/* first/last: the earliest and latest record time in the file */
	if (!t->records || time_ms < t->first_ms)
		t->first_ms = time_ms;
	if (!t->records || time_ms > t->last_ms)
		t->last_ms = time_ms;
	/* from here the record is in t's file: if that file is lost,
	 * ts_part_abort() counts it */
	t->records++;
	if ((p->o.max_records && t->records >= p->o.max_records) ||
	    (p->o.max_bytes && (t->pq ? ts_pq_bytes_estimate(t->pq)
			       : t->bytes + (p->gz ? t->blen / 4 : t->blen)) >= p->o.max_bytes)) {
		if (finish(p, t) < 0) {
			/* a rejected record is the caller's to keep elsewhere
			 * now: not one of those the removed file takes */
			if (is_error)
				t->records--;
			return -1;
		}
	}
	return 0;
lost:
	if (!is_error)
		p->dropped[0]++;
	return -1;
}

int ts_part_tick(struct ts_partitioner *p)
{
	double now = ts_now();

	if (p->failed)
		return -1;
	if (!p->o.max_seconds)
		return 0;
	while (p->age_head && now - p->age_head->opened_at >= p->o.max_seconds)
		if (finish(p, p->age_head) < 0)
			return -1;
	return 0;
}

int ts_part_close_all(struct ts_partitioner *p)
{
	struct part *t;

	if (p->failed)
		return -1;
	for (t = p->age_head; t;) { /* Parquet files of refused records only */
		struct part *next = t->age_next;
		if (t->pq && !t->records && discard(p, t) < 0)
			return -1;
		t = next;
	}
	if (!p->o.fsync || !p->age_head || !p->age_head->age_next) {
		while (p->age_head)
			if (finish(p, p->age_head) < 0)
				return -1;
		return 0;
	}
	/* Many files at once, at the end of input: the same guarantees as
	 * finish() (data on disk before the rename, the rename on disk before
	 * the manifest line), with two syncs of the file system instead of
	 * two fsyncs per file. */
	for (t = p->age_head; t; t = t->age_next)
		if (finish_data(p, t, 0) < 0)
			return -1;
	if (sync_root(p) < 0)
		return -1;
	for (t = p->age_head; t; t = t->age_next)
		if (publish(p, t, 0) < 0)
			break;
	/* the files renamed are complete: each gets its manifest line even
	 * when a later one fails */
	struct part *stop = t;
	int rc = stop ? -1 : sync_root(p);
	while (p->age_head && p->age_head != stop)
		announce(p, p->age_head);
	return rc;
}

void ts_part_abort(struct ts_partitioner *p)
{
	for (struct part *t = p->age_head; t; t = t->age_next) {
		p->dropped[t->is_error ? 1 : 0] += t->records;
		t->records = 0;
		if (t->pq)
			drop_writer(p, t);
		if (!t->tmpname)
			continue;
		int d;
		if (walk(p, t->rel, t->dirlen, 0, &d) == 0) {
			unlinkat(d, t->tmpname, 0);
			close_dir(p, d);
		}
	}
	/* publish nothing more: later writes, ticks and closes fail instead
	 * of creating temp files that nothing would remove */
	fail(p, "aborted");
}

void ts_part_free(struct ts_partitioner *p)
{
	if (!p)
		return;
	uint64_t pos = 0, *slot;
	const char *key;
	size_t keylen;
	while (ts_htab_next(&p->tab, &pos, &key, &keylen, &slot)) {
		struct part *t = (struct part *)(uintptr_t)*slot;
		if (!t)
			continue;
		if (t->fd >= 0)
			close(t->fd);
		ts_pq_writer_free(t->pq);
		free(t->key);
		free(t->rel);
		free(t->tmpname);
		free(t->buf);
		free(t);
	}
	ts_htab_release(&p->tab);
	if (p->gz)
		libdeflate_free_compressor(p->gz);
	free(p->zbuf);
	ts_buf_release(&p->path);
	ts_buf_release(&p->rel);
	drop_lock(p);
	if (p->root >= 0)
		close(p->root);
	free(p);
}

/* ---- removing what dead runs left ---------------------------------------- */

#define CLEAN_DEPTH 64
#define CLEAN_ABOVE 64
#define CLEAN_SEEN 256

struct clean {
	int dirs[CLEAN_ABOVE + CLEAN_DEPTH + 1]; /* from '/' down to the directory read */
	int ndirs;
	struct {
		char id[RUNID_LEN + 1];
		int alive;
	} seen[CLEAN_SEEN];
	int nseen;
	uint64_t removed, kept;
	int rc;
};

static int is_hex_id(const char *s, size_t n)
{
	if (n != RUNID_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* The run id of a temporary file name ".<name>.<id>.ts-tmp": 1 and id, 0
 * for a temporary name without one (an older version's), -1 for a name
 * that is not a temporary file's. */
static int temp_run_id(const char *name, char *id)
{
	size_t n = strlen(name), sl = strlen(TS_PART_TMP_SUFFIX);

	if (name[0] != '.' || n <= sl + 1 || strcmp(name + n - sl, TS_PART_TMP_SUFFIX) != 0)
		return -1;
	n -= sl;
	if (n > RUNID_LEN + 2 && name[n - RUNID_LEN - 1] == '.' &&
	    is_hex_id(name + n - RUNID_LEN, RUNID_LEN)) {
		memcpy(id, name + n - RUNID_LEN, RUNID_LEN);
		id[RUNID_LEN] = '\0';
		return 1;
	}
	return 0;
}

/* ".ts-run-<id>.lock": 1 and id. */
static int lock_run_id(const char *name, char *id)
{
	size_t n = strlen(name), pl = strlen(TS_PART_LOCK_PREFIX), sl = strlen(TS_PART_LOCK_SUFFIX);

	if (n != pl + RUNID_LEN + sl || strncmp(name, TS_PART_LOCK_PREFIX, pl) != 0 ||
	    strcmp(name + n - sl, TS_PART_LOCK_SUFFIX) != 0 || !is_hex_id(name + pl, RUNID_LEN))
		return 0;
	memcpy(id, name + pl, RUNID_LEN);
	id[RUNID_LEN] = '\0';
	return 1;
}

/* Is the lock file name in directory d held by a live run?  1 held (or
 * locks do not work here: keep), 0 free, -1 no such lock file. */
static int lock_held(int d, const char *name, int remove_if_free)
{
	int fd = openat(d, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return 1;
	}
	if (remove_if_free)
		unlinkat(d, name, 0); /* still locked by us while removed */
	close(fd);
	return 0;
}

/* Is run id alive: its lock file, in any directory from the one read up to
 * '/', held by someone? */
static int run_alive(struct clean *c, const char *id)
{
	char name[64];
	int alive = 0;

	for (int i = 0; i < c->nseen; i++)
		if (!strcmp(c->seen[i].id, id))
			return c->seen[i].alive;
	lock_name(name, sizeof(name), id);
	for (int i = c->ndirs - 1; i >= 0 && !alive; i--)
		alive = lock_held(c->dirs[i], name, 0) == 1;
	if (c->nseen < CLEAN_SEEN) {
		memcpy(c->seen[c->nseen].id, id, RUNID_LEN + 1);
		c->seen[c->nseen++].alive = alive;
	}
	return alive;
}

static void clean_dir(struct clean *c, int d, int depth)
{
	int dd = dup(d);
	DIR *dir = dd >= 0 ? fdopendir(dd) : NULL;
	struct dirent *e;

	if (!dir) {
		if (dd >= 0)
			close(dd);
		c->rc = -1;
		return;
	}
	c->dirs[c->ndirs++] = d;
	while ((e = readdir(dir)) != NULL) {
		const char *nm = e->d_name;
		char id[RUNID_LEN + 1];
		struct stat st;
		if (!strcmp(nm, ".") || !strcmp(nm, ".."))
			continue;
		if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN) {
			if (depth >= CLEAN_DEPTH)
				continue;
			/* never through a link, even one swapped in after readdir */
			int sub = open_nofollow_dir(d, nm);
			if (sub >= 0) {
				clean_dir(c, sub, depth + 1);
				close(sub);
				continue;
			}
			if (e->d_type == DT_DIR)
				continue;
		}
		int kind = temp_run_id(nm, id);
		if (kind < 0) {
			if (lock_run_id(nm, id) && lock_held(d, nm, 1) == 0) {
				/* a dead run's: forget any "alive" said about it */
				for (int i = 0; i < c->nseen; i++)
					if (!strcmp(c->seen[i].id, id))
						c->seen[i].alive = 0;
			}
			continue;
		}
		if (fstatat(d, nm, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (kind == 1 && run_alive(c, id)) {
			c->kept++;
			continue;
		}
		if (unlinkat(d, nm, 0) == 0)
			c->removed++;
		else if (errno != ENOENT)
			c->rc = -1;
	}
	c->ndirs--;
	closedir(dir);
}

int ts_part_clean_temp(const char *dir, uint64_t *removed, uint64_t *kept)
{
	struct clean *c;
	int root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	*removed = 0;
	if (kept)
		*kept = 0;
	if (root < 0)
		return errno == ENOENT ? 0 : -1;
	if (!(c = calloc(1, sizeof(*c)))) {
		close(root);
		return -1;
	}
	/* The directories above the root may hold the lock file of a run that
	 * writes into a directory above ours. */
	int above[CLEAN_ABOVE], nabove = 0, cur = root;
	struct stat st, up;
	while (nabove < CLEAN_ABOVE && fstat(cur, &st) == 0) {
		int u = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (u < 0)
			break;
		if (fstat(u, &up) < 0 || (up.st_dev == st.st_dev && up.st_ino == st.st_ino)) {
			close(u);
			break;
		}
		above[nabove++] = cur = u;
	}
	for (int i = nabove - 1; i >= 0; i--)
		c->dirs[c->ndirs++] = above[i];
	clean_dir(c, root, 0);
	for (int i = 0; i < nabove; i++)
		close(above[i]);
	close(root);
	*removed = c->removed;
	if (kept)
		*kept = c->kept;
	int rc = c->rc;
	free(c);
	return rc;
}
