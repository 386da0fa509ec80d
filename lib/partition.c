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
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "tstime.h"
#include "util.h"

#define BUF_BUDGET ((size_t)24 << 20) /* all open files' buffers together */
#define BUF_MIN ((size_t)16 << 10)
#define BUF_MAX ((size_t)1 << 20)

struct part {
	char *key; /* the rendered prefix, random mark included */
	size_t keylen;
	uint64_t hash;
	int fd;         /* -1 when closed */
	int active;     /* a file is being written (maybe closed for now) */
	int is_error;   /* it holds rejected records (--error-prefix) */
	char *rel;      /* final path relative to the root */
	char *tmp;      /* temporary path, absolute */
	char *buf;
	size_t blen;
	uint64_t records, bytes;
	int64_t first_ms, last_ms;
	double opened_at;
	struct part *lru_prev, *lru_next; /* open files, most recent first */
	struct part *age_prev, *age_next; /* active files, oldest first */
};

struct ts_partitioner {
	struct ts_part_opts o;
	struct part **tab; /* open addressing */
	size_t tabcap, nparts;
	struct part *lru_head, *lru_tail;
	struct part *age_head, *age_tail;
	size_t nopen, bufcap;
	uint64_t files, records; /* published */
	struct libdeflate_compressor *gz;
	char *zbuf;
	size_t zcap;
	struct ts_buf path;
	char err[512];
	int failed;
};

static uint64_t hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

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

const char *ts_part_error(const struct ts_partitioner *p)
{
	return p->failed ? p->err : NULL;
}

uint64_t ts_part_files(const struct ts_partitioner *p)
{
	return p->files;
}

uint64_t ts_part_records(const struct ts_partitioner *p)
{
	return p->records;
}

uint64_t ts_part_count(const struct ts_partitioner *p)
{
	return p->nparts;
}

struct ts_partitioner *ts_part_new(const struct ts_part_opts *o)
{
	struct ts_partitioner *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->o = *o;
	if (!p->o.max_open)
		p->o.max_open = 128;
	p->bufcap = BUF_BUDGET / p->o.max_open;
	if (p->bufcap < BUF_MIN)
		p->bufcap = BUF_MIN;
	if (p->bufcap > BUF_MAX)
		p->bufcap = BUF_MAX;
	p->tabcap = 1024;
	p->tab = calloc(p->tabcap, sizeof(*p->tab));
	ts_buf_init(&p->path, 0);
	if (o->gzip) {
		p->gz = libdeflate_alloc_compressor(6);
		p->zcap = libdeflate_gzip_compress_bound(p->gz, p->bufcap);
		p->zbuf = malloc(p->zcap);
	}
	if (!p->tab || (o->gzip && (!p->gz || !p->zbuf))) {
		ts_part_free(p);
		return NULL;
	}
	return p;
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
	uint64_t h = hash(k, n);
	size_t i = h & (p->tabcap - 1);

	for (; p->tab[i]; i = (i + 1) & (p->tabcap - 1)) {
		struct part *t = p->tab[i];
		if (t->hash == h && t->keylen == n && !memcmp(t->key, k, n))
			return t;
	}
	if ((p->nparts + 1) * 10 > p->tabcap * 7) {
		size_t nc = p->tabcap * 2;
		struct part **nt = calloc(nc, sizeof(*nt));
		if (!nt)
			return NULL;
		for (size_t j = 0; j < p->tabcap; j++) {
			struct part *t = p->tab[j];
			if (!t)
				continue;
			size_t q = t->hash & (nc - 1);
			while (nt[q])
				q = (q + 1) & (nc - 1);
			nt[q] = t;
		}
		free(p->tab);
		p->tab = nt;
		p->tabcap = nc;
		for (i = h & (nc - 1); p->tab[i]; i = (i + 1) & (nc - 1))
			;
	}
	struct part *t = calloc(1, sizeof(*t));
	if (!t || !(t->key = malloc(n + 1))) {
		free(t);
		return NULL;
	}
	memcpy(t->key, k, n);
	t->key[n] = '\0';
	t->keylen = n;
	t->hash = h;
	t->fd = -1;
	p->tab[i] = t;
	p->nparts++;
	return t;
}

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
		return fail(p, "cannot write '%s': %s", t->tmp, strerror(errno));
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
		rc = fail(p, "cannot write '%s': %s", t->tmp, strerror(errno));
	t->fd = -1;
	lru_unlink(p, t);
	p->nopen--;
	return rc;
}

/* Create the directories of a file's path. */
static int mkdirs(struct ts_partitioner *p, char *path)
{
	char *slash = strrchr(path, '/');
	int rc;

	if (!slash)
		return 0;
	*slash = '\0';
	rc = ts_mkdir_p(path);
	if (rc < 0)
		fail(p, "cannot create directory '%s': %s", path, strerror(errno));
	*slash = '/';
	return rc;
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

/* Start a new file for t: its directory, names, and the open temp file. */
static int start_file(struct ts_partitioner *p, struct part *t)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	static const char hx[] = "0123456789abcdef";
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
	ts_civil_from_ms((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, &c);
	snprintf(stamp, sizeof(stamp), "%04d-%02d-%02d-%02d-%02d-%02d", c.year, c.month,
		 c.day, c.hour, c.min, c.sec);

	ts_buf_init(&rel, 0);
	for (size_t i = 0; i < t->keylen; i++) {
		if (t->key[i] == TS_PART_RANDOM_MARK)
			ts_buf_add(&rel, rnd, sizeof(rnd));
		else
			ts_buf_addch(&rel, t->key[i]);
	}
	if (rel.len && rel.data[rel.len - 1] != '/')
		ts_buf_addch(&rel, '/');
	size_t dirlen = rel.len;
	ts_buf_addf(&rel, "%s-%s-%s%s", p->o.name, stamp, uuid, p->o.gzip ? ".gz" : "");
	free(t->rel);
	t->rel = ts_buf_detach(&rel, NULL);

	ts_buf_reset(&p->path);
	ts_buf_addf(&p->path, "%s/%.*s.%s" TS_PART_TMP_SUFFIX, p->o.dir, (int)dirlen, t->rel,
		    t->rel + dirlen);
	free(t->tmp);
	t->tmp = strdup(p->path.data);
	if (!t->rel || !t->tmp)
		return fail(p, "out of memory");
	if (mkdirs(p, t->tmp) < 0)
		return -1;
	t->fd = open(t->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (t->fd < 0)
		return fail(p, "cannot create '%s': %s", t->tmp, strerror(errno));
	t->active = 1;
	t->records = t->bytes = 0;
	t->opened_at = ts_now();
	age_append(p, t);
	return 0;
}

static int ensure_open(struct ts_partitioner *p, struct part *t)
{
	if (t->fd >= 0) {
		if (p->lru_head != t) {
			lru_unlink(p, t);
			lru_front(p, t);
		}
		return 0;
	}
	while (p->nopen >= p->o.max_open && p->lru_tail)
		if (close_fd(p, p->lru_tail) < 0)
			return -1;
	if (!t->active) {
		if (start_file(p, t) < 0)
			return -1;
	} else {
		t->fd = open(t->tmp, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (t->fd < 0)
			return fail(p, "cannot reopen '%s': %s", t->tmp, strerror(errno));
	}
	t->buf = malloc(p->bufcap);
	if (!t->buf)
		return fail(p, "out of memory");
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
		ts_buf_addstr(&p->o.manifest->buf, line);
		ts_out_end_record(p->o.manifest);
		ts_out_flush(p->o.manifest); /* ts-put ships files as they complete */
		free(line);
	}
}

/* Close, fsync, publish (rename), describe.  The partition stays known. */
/* Write out what t still buffers and close it; fsync first when sync. */
static int finish_data(struct ts_partitioner *p, struct part *t, int sync)
{
	if (t->fd < 0) {
		if (!sync && !t->blen)
			return 0; /* closed already, nothing buffered */
		t->fd = open(t->tmp, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (t->fd < 0)
			return fail(p, "cannot reopen '%s': %s", t->tmp, strerror(errno));
		p->nopen++;
		lru_front(p, t);
	}
	if (flush_part(p, t, t->buf, t->blen) < 0)
		return -1;
	t->blen = 0;
	if (sync && fsync(t->fd) < 0)
		return fail(p, "cannot write '%s': %s", t->tmp, strerror(errno));
	return close_fd(p, t);
}

/* Rename t's file to its final name; fsync its directory when sync. */
static int publish(struct ts_partitioner *p, struct part *t, int sync)
{
	ts_buf_reset(&p->path);
	ts_buf_addf(&p->path, "%s/%s", p->o.dir, t->rel);
	if (rename(t->tmp, p->path.data) < 0)
		return fail(p, "cannot rename '%s': %s", t->tmp, strerror(errno));
	if (sync) {
		char *slash = strrchr(p->path.data, '/');
		*slash = '\0';
		int d = open(p->path.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (d >= 0) {
			fsync(d);
			close(d);
		}
	}
	return 0;
}

/* The file is complete and published: count it, describe it. */
static void announce(struct ts_partitioner *p, struct part *t)
{
	age_unlink(p, t);
	t->active = 0;
	p->files++;
	if (!t->is_error)
		p->records += t->records;
	manifest(p, t);
}

/* Close, fsync, publish (rename), describe.  The partition stays known. */
static int finish(struct ts_partitioner *p, struct part *t)
{
	if (finish_data(p, t, p->o.fsync) < 0 || publish(p, t, p->o.fsync) < 0)
		return -1;
	announce(p, t);
	return 0;
}

/* syncfs(2) on the file system holding the output root. */
static int sync_root(struct ts_partitioner *p)
{
	int d = open(p->o.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (d < 0)
		return fail(p, "cannot open '%s': %s", p->o.dir, strerror(errno));
	rc = syncfs(d);
	close(d);
	if (rc < 0)
		return fail(p, "cannot write to '%s': %s", p->o.dir, strerror(errno));
	return 0;
}

int ts_part_write(struct ts_partitioner *p, const char *prefix, size_t plen,
		  const char *rec, size_t n, int has_ws, int64_t time_ms, int is_error)
{
	struct part *t;

	if (p->failed)
		return -1;
	t = lookup(p, prefix, plen);
	if (!t)
		return fail(p, "out of memory");
	t->is_error = is_error;
	if (ensure_open(p, t) < 0)
		return -1;
	if (t->blen + n + 1 > p->bufcap) {
		if (flush_part(p, t, t->buf, t->blen) < 0)
			return -1;
		t->blen = 0;
	}
	if (n + 1 > p->bufcap || has_ws) {
		/* a record larger than the buffer, or one to minify: build it
		 * in a scratch buffer */
		struct ts_buf b;
		ts_buf_init(&b, 0);
		if (has_ws)
			ts_json_minify(&b, (struct ts_span){rec, n});
		else
			ts_buf_add(&b, rec, n);
		ts_buf_addch(&b, '\n');
		int rc = 0;
		if (b.len > p->bufcap)
			rc = flush_part(p, t, b.data, b.len);
		else {
			memcpy(t->buf + t->blen, b.data, b.len);
			t->blen += b.len;
		}
		ts_buf_release(&b);
		if (rc < 0)
			return -1;
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
	t->records++;
	if ((p->o.max_records && t->records >= p->o.max_records) ||
	    (p->o.max_bytes && t->bytes + (p->gz ? t->blen / 4 : t->blen) >= p->o.max_bytes))
		return finish(p, t);
	return 0;
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
	for (struct part *t = p->age_head; t; t = t->age_next)
		if (t->tmp)
			unlink(t->tmp);
	/* publish nothing more: later writes, ticks and closes fail instead
	 * of creating temp files that nothing would remove */
	fail(p, "aborted");
}

void ts_part_free(struct ts_partitioner *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->tabcap; i++) {
		struct part *t = p->tab ? p->tab[i] : NULL;
		if (!t)
			continue;
		if (t->fd >= 0)
			close(t->fd);
		free(t->key);
		free(t->rel);
		free(t->tmp);
		free(t->buf);
		free(t);
	}
	free(p->tab);
	if (p->gz)
		libdeflate_free_compressor(p->gz);
	free(p->zbuf);
	ts_buf_release(&p->path);
	free(p);
}

static int clean_dir(struct ts_buf *path, uint64_t *removed, int depth)
{
	DIR *d = opendir(path->data);
	struct dirent *e;
	size_t len = path->len;
	int rc = 0;

	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		ts_buf_setlen(path, len);
		ts_buf_addf(path, "/%s", e->d_name);
		struct stat st;
		if (lstat(path->data, &st) < 0)
			continue;
		size_t nl = strlen(e->d_name), sl = strlen(TS_PART_TMP_SUFFIX);
		if (S_ISDIR(st.st_mode) && depth < 64) {
			if (clean_dir(path, removed, depth + 1) < 0)
				rc = -1;
		} else if (S_ISREG(st.st_mode) && e->d_name[0] == '.' && nl > sl &&
			   !strcmp(e->d_name + nl - sl, TS_PART_TMP_SUFFIX)) {
			if (unlink(path->data) == 0)
				(*removed)++;
			else
				rc = -1;
		}
	}
	closedir(d);
	ts_buf_setlen(path, len);
	return rc;
}

int ts_part_clean_temp(const char *dir, uint64_t *removed)
{
	struct ts_buf path;
	int rc;

	*removed = 0;
	ts_buf_init(&path, 0);
	ts_buf_addstr(&path, dir);
	rc = clean_dir(&path, removed, 0);
	ts_buf_release(&path);
	return rc;
}
