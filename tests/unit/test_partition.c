/* test_partition.c — lib/partition.h: temp names, rolling, manifests,
 * bounded open files, gzip, random prefixes, abort and clean-up. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "partition.h"
#include "util.h"

static char root[1024];

/* ---- files ---------------------------------------------------------- */

static void rm_rf(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	char p[8192];

	if (lstat(path, &st) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	if ((d = opendir(path)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
			rm_rf(p);
		}
		closedir(d);
	}
	rmdir(path);
}

/* A fresh, empty directory for one test. */
static const char *fresh(const char *name)
{
	static char d[2048];

	snprintf(d, sizeof(d), "%s/%s", root, name);
	rm_rf(d);
	mkdir(d, 0777);
	return d;
}

struct list {
	int n;
	char *path[256]; /* relative to the listed directory */
};

static void list_add(const char *base, const char *rel, struct list *l)
{
	char p[8192];
	DIR *d;
	struct dirent *e;
	struct stat st;

	snprintf(p, sizeof(p), "%s%s%s", base, *rel ? "/" : "", rel);
	if (!(d = opendir(p)))
		return;
	while ((e = readdir(d)) != NULL) {
		char r[4096], full[8192];
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		/* a live partitioner's lock file is not one of its files */
		if (!strncmp(e->d_name, TS_PART_LOCK_PREFIX, strlen(TS_PART_LOCK_PREFIX)))
			continue;
		snprintf(r, sizeof(r), "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		snprintf(full, sizeof(full), "%s/%s", base, r);
		if (lstat(full, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			list_add(base, r, l);
		else if (l->n < 256)
			l->path[l->n++] = strdup(r);
	}
	closedir(d);
}

/* Every non-directory under base, relative paths. */
static void list(const char *base, struct list *l)
{
	l->n = 0;
	list_add(base, "", l);
}

static void list_free(struct list *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->path[i]);
	l->n = 0;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static int is_temp(const char *rel)
{
	const char *b = base_name(rel);
	size_t n = strlen(b), sl = strlen(TS_PART_TMP_SUFFIX);

	return b[0] == '.' && n > sl && !strcmp(b + n - sl, TS_PART_TMP_SUFFIX);
}

static int count_temp(const struct list *l)
{
	int n = 0;

	for (int i = 0; i < l->n; i++)
		n += is_temp(l->path[i]);
	return n;
}

/* The bytes of a file (NUL-terminated, malloc'd). */
static char *slurp(const char *path, size_t *n)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	char *p = NULL;

	*n = 0;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && (p = malloc((size_t)st.st_size + 1)) != NULL) {
		ssize_t r = pread(fd, p, (size_t)st.st_size, 0);
		*n = r > 0 ? (size_t)r : 0;
		p[*n] = '\0';
	}
	close(fd);
	return p;
}

/* The decompressed bytes of a gzip file (all members). */
static char *gunzip(const char *path, size_t *n)
{
	gzFile g = gzopen(path, "rb");
	struct ts_buf b;
	char tmp[65536];
	int r;

	*n = 0;
	if (!g)
		return NULL;
	ts_buf_init(&b, 0);
	while ((r = gzread(g, tmp, sizeof(tmp))) > 0)
		ts_buf_add(&b, tmp, (size_t)r);
	if (r < 0) {
		gzclose(g);
		ts_buf_release(&b);
		return NULL;
	}
	gzclose(g);
	return ts_buf_detach(&b, n);
}

static char *file_at(const char *dir, const char *rel, size_t *n, int gz)
{
	char p[8192];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return gz ? gunzip(p, n) : slurp(p, n);
}

static long long size_at(const char *dir, const char *rel)
{
	char p[8192];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own */
}

/* ---- the manifest --------------------------------------------------- */

struct man {
	char path[4096];
	struct ts_out out;
	int nlines;
	json_t *line[64];
};

static int man_open(struct man *m)
{
	int fd;

	snprintf(m->path, sizeof(m->path), "%s/manifest-XXXXXX", root);
	fd = mkstemp(m->path);
	if (fd < 0)
		return -1;
	unlink(m->path);
	ts_out_init(&m->out, fd);
	m->nlines = 0;
	return 0;
}

/* Read the manifest written so far (each line parsed). */
static void man_read(struct man *m)
{
	struct stat st;
	char *text, *s;
	json_error_t jerr;

	for (int i = 0; i < m->nlines; i++)
		json_decref(m->line[i]);
	m->nlines = 0;
	ts_out_flush(&m->out);
	if (fstat(m->out.fd, &st) < 0 || !(text = malloc((size_t)st.st_size + 1)))
		return;
	if (pread(m->out.fd, text, (size_t)st.st_size, 0) != st.st_size) {
		free(text);
		return;
	}
	text[st.st_size] = '\0';
	CHECK(st.st_size == 0 || text[st.st_size - 1] == '\n');
	for (s = text; *s && m->nlines < 64;) {
		char *nl = strchr(s, '\n');
		if (nl)
			*nl = '\0';
		json_t *o = json_loads(s, 0, &jerr);
		CHECK(json_is_object(o));
		m->line[m->nlines++] = o ? o : json_object();
		if (!nl)
			break;
		s = nl + 1;
	}
	free(text);
}

static void man_close(struct man *m)
{
	for (int i = 0; i < m->nlines; i++)
		json_decref(m->line[i]);
	m->nlines = 0;
	ts_out_release(&m->out);
	close(m->out.fd);
}

static const char *mstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static long long mint(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* Every manifest line names a published file whose size is "bytes". */
static int man_matches_files(struct man *m, const char *dir)
{
	struct list l;
	int ok = 1;

	list(dir, &l);
	if (l.n != m->nlines || count_temp(&l))
		ok = 0;
	for (int i = 0; ok && i < m->nlines; i++) {
		const char *p = mstr(m->line[i], "path");
		int found = 0;
		for (int j = 0; p && j < l.n; j++)
			found += !strcmp(l.path[j], p);
		if (found != 1 || size_at(dir, p) != mint(m->line[i], "bytes"))
			ok = 0;
	}
	list_free(&l);
	return ok;
}

static struct ts_part_opts opts_for(const char *dir, struct man *m)
{
	struct ts_part_opts o;

	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.name = "data";
	o.manifest = &m->out;
	return o;
}

static int wr(struct ts_partitioner *p, const char *prefix, const char *rec, int64_t ms)
{
	return ts_part_write(p, prefix, strlen(prefix), rec, strlen(rec), 0, ms, 0);
}

/* "name-yyyy-MM-dd-HH-mm-ss-<uuid v4>[.gz]" */
static int good_name(const char *b, const char *name, int gz)
{
	size_t nl = strlen(name), n = strlen(b);

	if (strncmp(b, name, nl) != 0 || b[nl] != '-')
		return 0;
	b += nl + 1;
	n -= nl + 1;
	if (n != 19 + 1 + 36 + (gz ? 3 : 0))
		return 0;
	for (int i = 0; i < 19; i++)
		if (i == 4 || i == 7 || i == 10 || i == 13 || i == 16 ? b[i] != '-'
								    : b[i] < '0' || b[i] > '9')
			return 0;
	if (b[19] != '-')
		return 0;
	const char *u = b + 20;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (u[i] != '-')
				return 0;
		} else if (!strchr("0123456789abcdef", u[i]) || !u[i])
			return 0;
	}
	if (u[14] != '4' || !strchr("89ab", u[19]))
		return 0;
	return gz ? !strcmp(u + 36, ".gz") : 1;
}

/* ---- tests ---------------------------------------------------------- */

static void test_publish(void)
{
	const char *dir = fresh("publish");
	struct man m;
	struct ts_part_opts o;
	struct ts_partitioner *p;
	struct list l;

	if (!CHECK(man_open(&m) == 0))
		return;
	o = opts_for(dir, &m);
	o.fsync = 1;
	p = ts_part_new(&o);
	if (!CHECK(p))
		return;
	CHECK(wr(p, "year=2024/month=01/", "{\"a\":1}", 1700000000123) == 0);
	CHECK(wr(p, "year=2024/month=02/", "{\"b\":1}", 1700000001000) == 0);
	CHECK(wr(p, "year=2024/month=01/", "{\"a\":2}", 1700000000001) == 0);
	CHECK(ts_part_write(p, "year=2024/month=01/", 19, "{ \"a\" : [ 3, 4 ] }", 18, 1,
			    1700000005999, 0) == 0);
	CHECK(wr(p, "k=a%2Fb%3d/x=/", "{\"c\":1}", 0) == 0);
	CHECK(wr(p, "", "{\"top\":1}", 0) == 0);
	CHECK(ts_part_count(p) == 4);
	CHECK(ts_part_files(p) == 0 && ts_part_records(p) == 0);
	CHECK(ts_part_error(p) == NULL);

	/* before the roll: only temporary files, in their final directories */
	list(dir, &l);
	CHECK(l.n == 4);
	CHECK(count_temp(&l) == 4);
	int in_dirs = 0;
	for (int i = 0; i < l.n; i++)
		in_dirs += !strncmp(l.path[i], "year=2024/month=01/.data-", 25) ||
			   !strncmp(l.path[i], "year=2024/month=02/.data-", 25) ||
			   !strncmp(l.path[i], "k=a%2Fb%3d/x=/.data-", 20) ||
			   !strncmp(l.path[i], ".data-", 6);
	CHECK(in_dirs == 4);
	list_free(&l);
	man_read(&m);
	CHECK(m.nlines == 0);

	CHECK(ts_part_close_all(p) == 0);
	CHECK(ts_part_files(p) == 4);
	CHECK(ts_part_records(p) == 6);
	CHECK(ts_part_count(p) == 4);

	list(dir, &l);
	CHECK(l.n == 4);
	CHECK(count_temp(&l) == 0);
	for (int i = 0; i < l.n; i++)
		if (!CHECK(good_name(base_name(l.path[i]), "data", 0)))
			fprintf(stderr, "    name: %s\n", l.path[i]);
	list_free(&l);

	man_read(&m);
	CHECK(m.nlines == 4);
	CHECK(man_matches_files(&m, dir));
	int seen = 0;
	for (int i = 0; i < m.nlines; i++) {
		json_t *x = m.line[i], *kv = json_object_get(x, "partition");
		const char *path = mstr(x, "path");
		size_t n;
		char *text;
		if (!CHECK(path && json_is_object(kv)))
			continue;
		text = file_at(dir, path, &n, 0);
		if (!strncmp(path, "year=2024/month=01/", 19)) {
			seen |= 1;
			CHECK_STR(text, "{\"a\":1}\n{\"a\":2}\n{\"a\":[3,4]}\n");
			CHECK(json_object_size(kv) == 2);
			CHECK_STR(mstr(kv, "year"), "2024");
			CHECK_STR(mstr(kv, "month"), "01");
			CHECK(mint(x, "records") == 3);
			CHECK_STR(mstr(x, "first"), "2023-11-14T22:13:20.001Z");
			CHECK_STR(mstr(x, "last"), "2023-11-14T22:13:25.999Z");
		} else if (!strncmp(path, "year=2024/month=02/", 19)) {
			seen |= 2;
			CHECK_STR(text, "{\"b\":1}\n");
			CHECK_STR(mstr(kv, "month"), "02");
			CHECK(mint(x, "records") == 1);
			CHECK_STR(mstr(x, "first"), "2023-11-14T22:13:21.000Z");
			CHECK_STR(mstr(x, "last"), "2023-11-14T22:13:21.000Z");
		} else if (!strncmp(path, "k=", 2)) {
			seen |= 4;
			CHECK_STR(text, "{\"c\":1}\n");
			CHECK_STR(mstr(kv, "k"), "a/b%3d"); /* %2F decoded; lowercase hex not */
			CHECK_STR(mstr(kv, "x"), "");
			CHECK_STR(mstr(x, "first"), "1970-01-01T00:00:00.000Z");
		} else {
			seen |= 8;
			CHECK(strchr(path, '/') == NULL);
			CHECK_STR(text, "{\"top\":1}\n");
			CHECK(json_object_size(kv) == 0);
		}
		CHECK(mint(x, "bytes") == (long long)n);
		free(text);
	}
	CHECK(seen == 15);

	/* closing again publishes nothing new */
	CHECK(ts_part_close_all(p) == 0);
	CHECK(ts_part_files(p) == 4);
	/* a partition that rolled gets a new file on its next record */
	CHECK(wr(p, "year=2024/month=02/", "{\"b\":2}", 0) == 0);
	CHECK(ts_part_close_all(p) == 0);
	CHECK(ts_part_files(p) == 5 && ts_part_records(p) == 7);
	CHECK(ts_part_count(p) == 4);
	man_read(&m);
	CHECK(m.nlines == 5);
	CHECK(man_matches_files(&m, dir));
	ts_part_free(p);
	man_close(&m);
}

/* Rolling by records, by bytes; the files in manifest order hold every
 * record in order. */
static void test_roll(void)
{
	const char *dir;
	struct man m;
	struct ts_part_opts o;
	struct ts_partitioner *p;
	struct list l;
	char rec[64];
	struct ts_buf all, got;

	/* max_records */
	dir = fresh("roll-records");
	if (!CHECK(man_open(&m) == 0))
		return;
	o = opts_for(dir, &m);
	o.max_records = 2;
	p = ts_part_new(&o);
	if (!CHECK(p))
		return;
	ts_buf_init(&all, 0);
	for (int i = 0; i < 5; i++) {
		snprintf(rec, sizeof(rec), "{\"i\":%d}", i);
		CHECK(wr(p, "p=1/", rec, i) == 0);
		ts_buf_addf(&all, "%s\n", rec);
		/* the file rolls as it reaches two records: published at once,
		 * the temp name gone */
		list(dir, &l);
		CHECK(ts_part_files(p) == (uint64_t)(i + 1) / 2);
		CHECK(l.n - count_temp(&l) == (i + 1) / 2);
		CHECK(count_temp(&l) == (i + 1) % 2);
		list_free(&l);
	}
	CHECK(ts_part_close_all(p) == 0);
	CHECK(ts_part_files(p) == 3 && ts_part_records(p) == 5);
	man_read(&m);
	CHECK(m.nlines == 3);
	CHECK(man_matches_files(&m, dir));
	ts_buf_init(&got, 0);
	for (int i = 0; i < m.nlines; i++) {
		size_t n;
		char *t = file_at(dir, mstr(m.line[i], "path"), &n, 0);
		CHECK(mint(m.line[i], "records") == (i < 2 ? 2 : 1));
		CHECK_STR(mstr(m.line[i], "first"), i == 0   ? "1970-01-01T00:00:00.000Z"
						    : i == 1 ? "1970-01-01T00:00:00.002Z"
							     : "1970-01-01T00:00:00.004Z");
		ts_buf_add(&got, t, n);
		free(t);
	}
	CHECK_MEM(got.data, got.len, all.data, all.len);
	ts_buf_release(&got);
	ts_buf_release(&all);
	ts_part_free(p);
	man_close(&m);

	/* max_bytes: records of 10 bytes + newline, roll at 30 */
	dir = fresh("roll-bytes");
	if (!CHECK(man_open(&m) == 0))
		return;
	o = opts_for(dir, &m);
	o.max_bytes = 30;
	p = ts_part_new(&o);
	if (!CHECK(p))
		return;
	ts_buf_init(&all, 0);
	for (int i = 0; i < 10; i++) {
		snprintf(rec, sizeof(rec), "{\"i\":%04d}", i);
		CHECK(strlen(rec) == 10);
		CHECK(wr(p, "", rec, 0) == 0);
		ts_buf_addf(&all, "%s\n", rec);
	}
	CHECK(ts_part_files(p) == 3); /* after records 3, 6 and 9 */
	CHECK(ts_part_close_all(p) == 0);
	CHECK(ts_part_files(p) == 4 && ts_part_records(p) == 10);
	man_read(&m);
	CHECK(m.nlines == 4);
	CHECK(man_matches_files(&m, dir));
	ts_buf_init(&got, 0);
	for (int i = 0; i < m.nlines; i++) {
		size_t n;
		char *t = file_at(dir, mstr(m.line[i], "path"), &n, 0);
		CHECK(n == (i < 3 ? 33u : 11u));
		CHECK(mint(m.line[i], "bytes") == (long long)n);
		ts_buf_add(&got, t, n);
		free(t);
	}
	CHECK_MEM(got.data, got.len, all.data, all.len);
	ts_buf_release(&got);
	ts_buf_release(&all);
	ts_part_free(p);
	man_close(&m);
}

/* Five partitions through two open files: every file complete, in order. */
static void many_partitions(int gz)
{
	const char *dir = fresh(gz ? "lru-gz" : "lru");
	struct man m;
	struct ts_part_opts o;
	struct ts_partitioner *p;
	struct ts_buf want[5];
	char prefix[32], rec[64];
	int base = open_fds(), maxfds = 0, ok = 1;
	/* an order that keeps evicting: runs, alternation, returns */
	static const int order[] = {0, 1, 2, 3, 4, 0, 0, 0, 4, 3, 2, 1, 0, 2, 4, 1, 3,
				    0, 1, 0, 1, 2, 2, 2, 3, 4, 3, 4, 0, 4, 1, 3};

	if (!CHECK(man_open(&m) == 0))
		return;
	base = open_fds();
	o = opts_for(dir, &m);
	o.gzip = gz;
	o.max_open = 2;
	p = ts_part_new(&o);
	if (!CHECK(p))
		return;
	for (int i = 0; i < 5; i++)
		ts_buf_init(&want[i], 0);
	for (int round = 0; round < 4; round++)
		for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
			int k = order[i];
			snprintf(prefix, sizeof(prefix), "part=%d/", k);
			snprintf(rec, sizeof(rec), "{\"part\":%d,\"seq\":%zu}", k,
				 want[k].len);
			if (wr(p, prefix, rec, 0) < 0)
				ok = 0;
			ts_buf_addf(&want[k], "%s\n", rec);
			int n = open_fds() - base;
			if (n > maxfds)
				maxfds = n;
		}
	CHECK(ok);
	/* two files, the root and the run's lock file */
	CHECK(maxfds >= 1 + 2 && maxfds <= 2 + 2);
	CHECK(ts_part_count(p) == 5);
	CHECK(ts_part_close_all(p) == 0);
	CHECK(open_fds() == base + 2);
	CHECK(ts_part_files(p) == 5);
	CHECK(ts_part_records(p) == 4 * sizeof(order) / sizeof(order[0]));
	man_read(&m);
	CHECK(m.nlines == 5);
	CHECK(man_matches_files(&m, dir));
	for (int i = 0; i < m.nlines; i++) {
		const char *path = mstr(m.line[i], "path");
		int k;
		size_t n;
		char *t;
		if (!CHECK(path && sscanf(path, "part=%d/", &k) == 1 && k >= 0 && k < 5))
			continue;
		CHECK(good_name(base_name(path), "data", gz));
		t = file_at(dir, path, &n, gz);
		CHECK_MEM(t, n, want[k].data, want[k].len);
		free(t);
		uint64_t recs = 0;
		for (size_t j = 0; j < want[k].len; j++)
			recs += want[k].data[j] == '\n';
		CHECK(mint(m.line[i], "records") == (long long)recs);
	}
	for (int i = 0; i < 5; i++)
		ts_buf_release(&want[i]);
	ts_part_free(p);
	CHECK(open_fds() == base);
	man_close(&m);
}

/* Thousands of partitions through a few files: the table grows, every
 * partition is found again. */
static void test_thousands(void)
{
	const char *dir = fresh("thousands");
	struct man m;
	struct ts_part_opts o;
	struct ts_partitioner *p;
	char prefix[32], rec[64];
	int ok = 1, good = 1, base;
	struct stat st;
	enum { N = 3000 };

	if (!CHECK(man_open(&m) == 0))
		return;
	base = open_fds();
	o = opts_for(dir, &m);
	o.max_open = 8;
	p = ts_part_new(&o);
	if (!CHECK(p))
		return;
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < N; i++) {
			snprintf(prefix, sizeof(prefix), "k=%d/", (i * 7919) % N);
			snprintf(rec, sizeof(rec), "{\"r\":%d}", round);
			ok &= wr(p, prefix, rec, 0) == 0;
		}
	CHECK(ok);
	CHECK(open_fds() - base <= 8 + 2); /* and the root and the lock file */
	CHECK(ts_part_count(p) == N);
	CHECK(ts_part_close_all(p) == 0);
	CHECK(ts_part_files(p) == N && ts_part_records(p) == 2 * N);
	/* one manifest line per file; each file has both rounds in order */
	ts_out_flush(&m.out);
	CHECK(fstat(m.out.fd, &st) == 0);
	char *text = malloc((size_t)st.st_size + 1);
	if (CHECK(text) && CHECK(pread(m.out.fd, text, (size_t)st.st_size, 0) == st.st_size)) {
		int lines = 0;
		text[st.st_size] = '\0';
		for (char *s = text, *nl; (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
			json_error_t jerr;
			*nl = '\0';
			json_t *x = json_loads(s, 0, &jerr);
			const char *path = mstr(x, "path");
			size_t n;
			char *t = path ? file_at(dir, path, &n, 0) : NULL;
			if (!t || strcmp(t, "{\"r\":0}\n{\"r\":1}\n") != 0 ||
			    mint(x, "records") != 2)
				good = 0;
			free(t);
			json_decref(x);
			lines++;
		}
		CHECK(lines == N);
		CHECK(good);
	}
	free(text);
	ts_part_free(p);
	man_close(&m);
}

static void test_lru(void)
{
	many_partitions(0);
	many_partitions(1);
	test_thousands();
}

/* gzip files decompress to the records; a record bigger than a buffer goes
 * through whole, plain and compressed. */
static void test_gzip_and_big(void)
{
	for (int gz = 0; gz < 2; gz++) {
		const char *dir = fresh(gz ? "big-gz" : "big");
		struct man m;
		struct ts_part_opts o;
		struct ts_partitioner *p;
		size_t bign = 3 << 20, n;
		char *big = malloc(bign + 1);
		struct ts_buf want;

		if (!CHECK(big && man_open(&m) == 0))
			return;
		memcpy(big, "{\"s\":\"", 6);
		for (size_t i = 6; i < bign - 2; i++)
			big[i] = (char)('a' + (i * 7 + i / 1000) % 26);
		memcpy(big + bign - 2, "\"}", 2);
		big[bign] = '\0';
		o = opts_for(dir, &m);
		o.gzip = gz;
		o.name = "events";
		p = ts_part_new(&o);
		if (!CHECK(p))
			return;
		ts_buf_init(&want, 0);
		CHECK(wr(p, "d=1/", "{\"x\":1}", 0) == 0);
		ts_buf_addstr(&want, "{\"x\":1}\n");
		CHECK(wr(p, "d=1/", big, 0) == 0);
		ts_buf_addf(&want, "%s\n", big);
		CHECK(ts_part_write(p, "d=1/", 4, "{ \"y\" :\t2 }", 11, 1, 0, 0) == 0);
		ts_buf_addstr(&want, "{\"y\":2}\n");
		for (int i = 0; i < 1000; i++) {
			char rec[64];
			snprintf(rec, sizeof(rec), "{\"n\":%d}", i);
			CHECK(wr(p, "d=1/", rec, 0) == 0);
			ts_buf_addf(&want, "%s\n", rec);
		}
		CHECK(ts_part_close_all(p) == 0);
		man_read(&m);
		if (CHECK(m.nlines == 1)) {
			const char *path = mstr(m.line[0], "path");
			CHECK(man_matches_files(&m, dir));
			CHECK(path && good_name(base_name(path), "events", gz));
			char *t = file_at(dir, path, &n, gz);
			CHECK(n == want.len && t && memcmp(t, want.data, n) == 0);
			free(t);
			CHECK(mint(m.line[0], "records") == 1003);
			if (gz) {
				/* really compressed */
				CHECK(mint(m.line[0], "bytes") < (long long)want.len / 4);
				t = file_at(dir, path, &n, 0);
				CHECK(n > 2 && (unsigned char)t[0] == 0x1f &&
				      (unsigned char)t[1] == 0x8b);
				free(t);
			}
		}
		ts_buf_release(&want);
		free(big);
		ts_part_free(p);
		man_close(&m);
	}
}

/* Rejected records (an error prefix) are files, but not records out. */
static void test_is_error(void)
{
	const char *dir = fresh("errors");
	struct man m;
	struct ts_part_opts o;
	struct ts_partitioner *p;

	if (!CHECK(man_open(&m) == 0))
		return;
	o = opts_for(dir, &m);
	p = ts_part_new(&o);
	if (!CHECK(p))
		return;
	CHECK(wr(p, "ok=1/", "{\"a\":1}", 0) == 0);
	CHECK(ts_part_write(p, "errors/", 7, "{\"bad\":1}", 9, 0, 0, 1) == 0);
	CHECK(wr(p, "ok=1/", "{\"a\":2}", 0) == 0);
	CHECK(ts_part_write(p, "errors/", 7, "{\"bad\":2}", 9, 0, 0, 1) == 0);
	CHECK(ts_part_write(p, "errors/", 7, "{\"bad\":3}", 9, 0, 0, 1) == 0);
	CHECK(ts_part_close_all(p) == 0);
	CHECK(ts_part_files(p) == 2);
	CHECK(ts_part_records(p) == 2);
	CHECK(ts_part_count(p) == 2);
	man_read(&m);
	CHECK(m.nlines == 2);
	CHECK(man_matches_files(&m, dir));
	for (int i = 0; i < m.nlines; i++) {
		const char *path = mstr(m.line[i], "path");
		if (path && !strncmp(path, "errors/", 7))
			CHECK(mint(m.line[i], "records") == 3);
		else
			CHECK(mint(m.line[i], "records") == 2);
	}
	ts_part_free(p);
	man_close(&m);
}

static int rnd_ok(const char *s)
{
	for (int i = 0; i < 11; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

/* The random mark: 11 characters [a-z0-9], new for every file. */
static void test_random(void)
{
	const char *dir = fresh("random");
	struct man m;
	struct ts_part_opts o;
	struct ts_partitioner *p;
	const char prefix[] = "r=\001/x-\001/";
	char got[2][12];
	int n = 0;

	if (!CHECK(man_open(&m) == 0))
		return;
	CHECK(TS_PART_RANDOM_MARK == '\001');
	o = opts_for(dir, &m);
	o.max_records = 1;
	p = ts_part_new(&o);
	if (!CHECK(p))
		return;
	CHECK(ts_part_write(p, prefix, sizeof(prefix) - 1, "{\"a\":1}", 7, 0, 0, 0) == 0);
	CHECK(ts_part_write(p, prefix, sizeof(prefix) - 1, "{\"a\":2}", 7, 0, 0, 0) == 0);
	CHECK(ts_part_close_all(p) == 0);
	CHECK(ts_part_files(p) == 2);
	CHECK(ts_part_count(p) == 1);
	man_read(&m);
	CHECK(m.nlines == 2);
	CHECK(man_matches_files(&m, dir));
	for (int i = 0; i < m.nlines && i < 2; i++) {
		const char *path = mstr(m.line[i], "path");
		/* r=<11>/x-<11>/data-... : the same string for both marks of a file */
		if (!CHECK(path && strlen(path) > 32))
			continue;
		CHECK(!strncmp(path, "r=", 2) && path[13] == '/' && !strncmp(path + 14, "x-", 2) &&
		      path[27] == '/');
		CHECK(rnd_ok(path + 2));
		CHECK(!strncmp(path + 2, path + 16, 11));
		CHECK(strchr(path, '\001') == NULL);
		CHECK(good_name(path + 28, "data", 0));
		json_t *kv = json_object_get(m.line[i], "partition");
		CHECK(mstr(kv, "r") && strlen(mstr(kv, "r")) == 11 &&
		      !strncmp(mstr(kv, "r"), path + 2, 11));
		memcpy(got[n], path + 2, 11);
		got[n][11] = '\0';
		n++;
		size_t len;
		char *t = file_at(dir, path, &len, 0);
		CHECK(len == 8);
		free(t);
	}
	CHECK(n == 2 && strcmp(got[0], got[1]) != 0);
	ts_part_free(p);
	man_close(&m);
}

/* Rolling by age, on tick. */
static void test_tick(void)
{
	const char *dir = fresh("tick");
	struct man m;
	struct ts_part_opts o;
	struct ts_partitioner *p;
	struct timespec ts = {0, 80 * 1000 * 1000};

	if (!CHECK(man_open(&m) == 0))
		return;
	o = opts_for(dir, &m);
	o.max_seconds = 0.05;
	p = ts_part_new(&o);
	if (!CHECK(p))
		return;
	CHECK(wr(p, "a/", "{}", 0) == 0);
	CHECK(ts_part_tick(p) == 0);
	CHECK(ts_part_files(p) == 0); /* not yet */
	nanosleep(&ts, NULL);
	CHECK(wr(p, "b/", "{}", 0) == 0);
	CHECK(ts_part_tick(p) == 0);
	CHECK(ts_part_files(p) == 1); /* a/ only */
	man_read(&m);
	CHECK(m.nlines == 1 && mstr(m.line[0], "path") && !strncmp(mstr(m.line[0], "path"), "a/", 2));
	nanosleep(&ts, NULL);
	CHECK(ts_part_tick(p) == 0);
	CHECK(ts_part_files(p) == 2);
	man_read(&m);
	CHECK(man_matches_files(&m, dir));
	ts_part_free(p);
	man_close(&m);

	/* max_seconds 0: tick never rolls */
	dir = fresh("tick0");
	if (!CHECK(man_open(&m) == 0))
		return;
	o = opts_for(dir, &m);
	p = ts_part_new(&o);
	CHECK(wr(p, "a/", "{}", 0) == 0);
	nanosleep(&ts, NULL);
	CHECK(ts_part_tick(p) == 0);
	CHECK(ts_part_files(p) == 0);
	ts_part_abort(p);
	ts_part_free(p);
	man_close(&m);
}

/* Abort removes the temporary files and keeps what was published. */
static void test_abort(void)
{
	const char *dir = fresh("abort");
	struct man m;
	struct ts_part_opts o;
	struct ts_partitioner *p;
	struct list l;

	if (!CHECK(man_open(&m) == 0))
		return;
	o = opts_for(dir, &m);
	o.max_records = 2;
	o.max_open = 2;
	p = ts_part_new(&o);
	if (!CHECK(p))
		return;
	CHECK(wr(p, "a=1/", "{\"a\":1}", 0) == 0);
	CHECK(wr(p, "a=1/", "{\"a\":2}", 0) == 0); /* published */
	CHECK(wr(p, "a=1/", "{\"a\":3}", 0) == 0);
	CHECK(wr(p, "b=1/", "{\"b\":1}", 0) == 0);
	CHECK(wr(p, "c=1/", "{\"c\":1}", 0) == 0); /* evicts one: closed, still temp */
	CHECK(wr(p, "d=1/c=2/", "{\"d\":1}", 0) == 0);
	list(dir, &l);
	CHECK(l.n == 5 && count_temp(&l) == 4);
	list_free(&l);
	ts_part_abort(p);
	list(dir, &l);
	CHECK(l.n == 1 && count_temp(&l) == 0);
	CHECK(l.n == 1 && !strncmp(l.path[0], "a=1/data-", 9));
	list_free(&l);
	CHECK(ts_part_files(p) == 1);
	/* nothing more after an abort: no new temp file, nothing published */
	CHECK(ts_part_error(p) != NULL);
	CHECK(wr(p, "e=1/", "{\"e\":1}", 0) == -1);
	CHECK(wr(p, "a=1/", "{\"a\":4}", 0) == -1);
	CHECK(ts_part_tick(p) == -1);
	CHECK(ts_part_close_all(p) == -1);
	CHECK(ts_part_files(p) == 1 && ts_part_records(p) == 2);
	ts_part_free(p);
	list(dir, &l);
	CHECK(l.n == 1);
	list_free(&l);
	man_read(&m);
	CHECK(m.nlines == 1);
	CHECK(man_matches_files(&m, dir));
	man_close(&m);
}

/* An output root that cannot hold directories: -1 and a message. */
static void test_io_error(void)
{
	const char *dir = fresh("ioerr");
	char file[8192];
	struct man m;
	struct ts_part_opts o;
	struct ts_partitioner *p;
	int fd;

	snprintf(file, sizeof(file), "%s/plain-file", dir);
	fd = open(file, O_WRONLY | O_CREAT, 0644);
	close(fd);
	if (!CHECK(man_open(&m) == 0))
		return;
	o = opts_for(file, &m);
	p = ts_part_new(&o);
	if (!CHECK(p))
		return;
	CHECK(wr(p, "a=1/", "{}", 0) == -1);
	CHECK(ts_part_error(p) != NULL);
	CHECK(ts_part_error(p) && strstr(ts_part_error(p), "plain-file") != NULL);
	CHECK(wr(p, "b=1/", "{}", 0) == -1);
	CHECK(ts_part_close_all(p) == -1);
	CHECK(ts_part_files(p) == 0);
	ts_part_abort(p);
	ts_part_free(p);
	man_read(&m);
	CHECK(m.nlines == 0);
	man_close(&m);
}

static int touch(const char *dir, const char *rel)
{
	char p[8192];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int exists(const char *dir, const char *rel)
{
	char p[8192];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return lstat(p, &st) == 0;
}

static void test_clean_temp(void)
{
	const char *d = fresh("clean");
	char dir[2048], p[8192], q[8192];
	uint64_t removed = 99;

	snprintf(dir, sizeof(dir), "%s", d);
	snprintf(p, sizeof(p), "%s/x/y=1/z", dir);
	CHECK(ts_mkdir_p(p) == 0);
	snprintf(p, sizeof(p), "%s/.d" TS_PART_TMP_SUFFIX, dir);
	CHECK(mkdir(p, 0777) == 0);

	CHECK(touch(dir, ".a.ts-tmp") == 0);           /* removed */
	CHECK(touch(dir, "x/y=1/z/.b.ts-tmp") == 0);   /* removed */
	CHECK(touch(dir, ".d.ts-tmp/.e.ts-tmp") == 0); /* removed: in a dir with that name */
	CHECK(touch(dir, "x/.data-2024-x.gz.ts-tmp") == 0); /* removed */
	CHECK(touch(dir, "c.ts-tmp") == 0);            /* kept: no dot */
	CHECK(touch(dir, ".ts-tmp") == 0);             /* kept: nothing before */
	CHECK(touch(dir, ".g.ts-tmp.gz") == 0);        /* kept: not the suffix */
	CHECK(touch(dir, ".g.ts-tm") == 0);            /* kept */
	CHECK(touch(dir, "x/data.gz") == 0);           /* kept */
	CHECK(touch(dir, "x/y=1/.hidden") == 0);       /* kept */
	/* a symlink with a temp name: kept, and its target too */
	snprintf(p, sizeof(p), "%s/x/data.gz", dir);
	snprintf(q, sizeof(q), "%s/x/.link.ts-tmp", dir);
	CHECK(symlink(p, q) == 0);

	CHECK(ts_part_clean_temp(dir, &removed, NULL) == 0);
	CHECK(removed == 4);
	CHECK(!exists(dir, ".a.ts-tmp"));
	CHECK(!exists(dir, "x/y=1/z/.b.ts-tmp"));
	CHECK(!exists(dir, ".d.ts-tmp/.e.ts-tmp"));
	CHECK(!exists(dir, "x/.data-2024-x.gz.ts-tmp"));
	CHECK(exists(dir, ".d.ts-tmp")); /* directories stay */
	CHECK(exists(dir, "x/y=1/z"));
	CHECK(exists(dir, "c.ts-tmp"));
	CHECK(exists(dir, ".ts-tmp"));
	CHECK(exists(dir, ".g.ts-tmp.gz"));
	CHECK(exists(dir, ".g.ts-tm"));
	CHECK(exists(dir, "x/data.gz"));
	CHECK(exists(dir, "x/y=1/.hidden"));
	CHECK(exists(dir, "x/.link.ts-tmp"));

	/* again: nothing left to remove */
	removed = 99;
	CHECK(ts_part_clean_temp(dir, &removed, NULL) == 0);
	CHECK(removed == 0);

	/* a directory that does not exist: nothing to do */
	snprintf(p, sizeof(p), "%s/no-such", dir);
	removed = 99;
	CHECK(ts_part_clean_temp(p, &removed, NULL) == 0);
	CHECK(removed == 0);

	/* after a "crash" (freed without closing) only temp files remain, and
	 * clean_temp removes exactly them */
	struct man m;
	struct ts_part_opts o;
	struct ts_partitioner *pp;
	struct list l;
	if (!CHECK(man_open(&m) == 0))
		return;
	o = opts_for(dir, &m);
	o.max_open = 2;
	pp = ts_part_new(&o);
	if (!CHECK(pp))
		return;
	for (int i = 0; i < 6; i++) {
		char prefix[32];
		snprintf(prefix, sizeof(prefix), "crash/k=%d/", i);
		CHECK(wr(pp, prefix, "{}", 0) == 0);
	}
	ts_part_free(pp);
	snprintf(p, sizeof(p), "%s/crash", dir);
	list(p, &l);
	CHECK(l.n == 6 && count_temp(&l) == 6);
	list_free(&l);
	CHECK(ts_part_clean_temp(dir, &removed, NULL) == 0);
	CHECK(removed == 6);
	list(p, &l);
	CHECK(l.n == 0);
	list_free(&l);
	man_close(&m);
}

/* Nothing is created through a link under the root: a link, a dangling
 * link or a file in the way refuses that record (TS_PART_REJECTED) and the
 * partitioner goes on; the root itself may be a link. */
static void test_links(void)
{
	const char *d = fresh("links");
	char dir[2048], p[8192], q[8192], outside[8192];
	struct man m;
	struct ts_part_opts o;
	struct ts_partitioner *pp;
	struct list l;
	const char *msg, *code;

	snprintf(dir, sizeof(dir), "%s/out", d);
	snprintf(outside, sizeof(outside), "%s/outside", d);
	CHECK(mkdir(dir, 0777) == 0 && mkdir(outside, 0777) == 0);
	snprintf(p, sizeof(p), "%s/k=evil", dir);
	CHECK(symlink(outside, p) == 0);
	snprintf(p, sizeof(p), "%s/k=dangling", dir);
	CHECK(symlink("/nonexistent/x", p) == 0);
	snprintf(p, sizeof(p), "%s/a", dir);
	CHECK(mkdir(p, 0777) == 0);
	snprintf(p, sizeof(p), "%s/a/b", dir);
	CHECK(symlink(outside, p) == 0);
	CHECK(touch(dir, "k=file") == 0);
	if (!CHECK(man_open(&m) == 0))
		return;
	o = opts_for(dir, &m);
	pp = ts_part_new(&o);
	if (!CHECK(pp))
		return;
	CHECK(wr(pp, "k=evil/", "{}", 0) == TS_PART_REJECTED);
	code = ts_part_rejection(pp, &msg);
	CHECK_STR(code, "unsafe_path");
	CHECK(strstr(msg, "/out/k=evil' is a symbolic link") != NULL);
	CHECK(wr(pp, "k=evil/deeper/", "{}", 0) == TS_PART_REJECTED);
	CHECK(wr(pp, "k=dangling/", "{}", 0) == TS_PART_REJECTED);
	CHECK(wr(pp, "a/b/c/", "{}", 0) == TS_PART_REJECTED);
	code = ts_part_rejection(pp, &msg);
	CHECK(strstr(msg, "/out/a/b' is a symbolic link") != NULL);
	CHECK(wr(pp, "k=file/", "{}", 0) == TS_PART_REJECTED);
	code = ts_part_rejection(pp, &msg);
	CHECK_STR(code, "unsafe_path");
	CHECK(strstr(msg, "/out/k=file' is not a directory") != NULL);
	/* a link in place of the last component, with a name prefix */
	CHECK(wr(pp, "k=evil", "{}", 0) == 0); /* "k=evil" + name: a file, not the link */
	CHECK(ts_part_error(pp) == NULL);
	CHECK(wr(pp, "k=good/", "{}", 0) == 0);
	CHECK(ts_part_close_all(pp) == 0);
	CHECK(ts_part_files(pp) == 2 && ts_part_records(pp) == 2);
	list(outside, &l);
	CHECK(l.n == 0);
	list_free(&l);
	CHECK(access("/nonexistent/x", F_OK) != 0);
	ts_part_free(pp);
	man_read(&m);
	CHECK(m.nlines == 2);
	man_close(&m);

	/* the root a link: followed */
	if (!CHECK(man_open(&m) == 0))
		return;
	snprintf(q, sizeof(q), "%s/root-link", d);
	CHECK(symlink(outside, q) == 0);
	o = opts_for(q, &m);
	pp = ts_part_new(&o);
	if (!CHECK(pp))
		return;
	CHECK(ts_part_error(pp) == NULL);
	CHECK(wr(pp, "x/", "{}", 0) == 0);
	CHECK(ts_part_close_all(pp) == 0);
	ts_part_free(pp);
	list(outside, &l);
	CHECK(l.n == 1 && !strncmp(l.path[0], "x/data-", 7));
	list_free(&l);
	man_close(&m);
}

/* File names: the prefix and the name as they are; too long a name is
 * refused; the time in the name is in opts.tz. */
static void test_names(void)
{
	const char *dir = fresh("names");
	struct man m;
	struct ts_part_opts o;
	struct ts_partitioner *p;
	struct ts_tz tz;
	char err[256], longp[300];
	const char *msg;

	if (!CHECK(man_open(&m) == 0))
		return;
	CHECK(ts_tz_parse(&tz, "+14:00", err, sizeof(err)) == 0);
	/* the day in +14:00 before and after: UTC's is another for 14 hours */
	char day0[16], day1[16];
	struct tm tm;
	time_t now = time(NULL) + 14 * 3600;
	gmtime_r(&now, &tm);
	strftime(day0, sizeof(day0), "%Y-%m-%d", &tm);
	o = opts_for(dir, &m);
	o.tz = &tz;
	p = ts_part_new(&o);
	if (!CHECK(p))
		return;
	CHECK(wr(p, "dt=2024", "{}", 0) == 0);
	CHECK(wr(p, "a/part-", "{}", 0) == 0);
	memset(longp, 'x', sizeof(longp));
	longp[0] = 'd';
	longp[1] = '/';
	longp[200] = '\0'; /* 198 + "data-..." (60) > 255 - 25 */
	CHECK(wr(p, longp, "{}", 0) == TS_PART_REJECTED);
	CHECK_STR(ts_part_rejection(p, &msg), "key_too_long");
	CHECK(strstr(msg, "longer than") != NULL);
	longp[150] = '\0';
	CHECK(wr(p, longp, "{}", 0) == 0);
	CHECK(ts_part_close_all(p) == 0);
	man_read(&m);
	CHECK(m.nlines == 3);
	CHECK(man_matches_files(&m, dir));
	now = time(NULL) + 14 * 3600;
	gmtime_r(&now, &tm);
	strftime(day1, sizeof(day1), "%Y-%m-%d", &tm);
	for (int i = 0; i < m.nlines; i++) {
		const char *path = mstr(m.line[i], "path");
		if (!CHECK(path))
			continue;
		const char *b = strstr(path, "data-");
		CHECK(b && good_name(b, "data", 0));
		CHECK(b && (!strncmp(b + 5, day0, 10) || !strncmp(b + 5, day1, 10)));
		CHECK(!strncmp(path, "dt=2024data-", 12) || !strncmp(path, "a/part-data-", 12) ||
		      !strncmp(path, "d/xxx", 5));
	}
	CHECK(ts_part_bytes(p) == 9);
	ts_part_free(p);
	man_close(&m);
}

/* After a fatal error the records in removed temporary files are counted
 * by kind, and a data record whose write failed too. */
static void test_dropped(void)
{
	const char *dir = fresh("dropped");
	struct man m;
	struct ts_part_opts o;
	struct ts_partitioner *p;

	if (!CHECK(man_open(&m) == 0))
		return;
	o = opts_for(dir, &m);
	o.max_records = 2;
	p = ts_part_new(&o);
	if (!CHECK(p))
		return;
	CHECK(wr(p, "a/", "{}", 0) == 0);
	CHECK(wr(p, "a/", "{}", 0) == 0); /* published */
	CHECK(wr(p, "a/", "{}", 0) == 0);
	CHECK(wr(p, "b/", "{}", 0) == 0);
	CHECK(ts_part_write(p, "e/", 2, "{}", 2, 0, 0, 1) == 0);
	CHECK(ts_part_bytes(p) == 6);
	ts_part_abort(p);
	CHECK(ts_part_dropped(p, 0) == 2);
	CHECK(ts_part_dropped(p, 1) == 1);
	CHECK(wr(p, "c/", "{}", 0) == -1);
	CHECK(ts_part_write(p, "e/", 2, "{}", 2, 0, 0, 1) == -1);
	CHECK(ts_part_dropped(p, 0) == 3);
	CHECK(ts_part_dropped(p, 1) == 1);
	CHECK(ts_part_records(p) == 2 && ts_part_files(p) == 1);
	ts_part_free(p);
	man_close(&m);
}

/* A live partitioner's temporary files are kept by a cleaner, in the same
 * process too (flock is per open file); its lock file goes with it. */
static void test_clean_live(void)
{
	const char *dir = fresh("clean-live");
	char sub[4096];
	struct man m;
	struct ts_part_opts o;
	struct ts_partitioner *p;
	uint64_t removed = 99, kept = 99;
	struct list l;

	if (!CHECK(man_open(&m) == 0))
		return;
	o = opts_for(dir, &m);
	p = ts_part_new(&o);
	if (!CHECK(p))
		return;
	/* nothing written: no lock file yet */
	CHECK(ts_part_clean_temp(dir, &removed, &kept) == 0 && removed == 0 && kept == 0);
	CHECK(wr(p, "a/", "{}", 0) == 0);
	CHECK(wr(p, "b/c/", "{}", 0) == 0);
	CHECK(touch(dir, "a/.data-x.0123456789abcdef.ts-tmp") == 0); /* a dead run's */
	CHECK(touch(dir, ".ts-run-0123456789abcdef.lock") == 0);     /* its lock */
	CHECK(ts_part_clean_temp(dir, &removed, &kept) == 0);
	CHECK(removed == 1 && kept == 2);
	CHECK(!exists(dir, ".ts-run-0123456789abcdef.lock"));
	/* from below the run's root: its lock is found above */
	snprintf(sub, sizeof(sub), "%s/b", dir);
	CHECK(ts_part_clean_temp(sub, &removed, &kept) == 0);
	CHECK(removed == 0 && kept == 1);
	list(dir, &l);
	CHECK(count_temp(&l) == 2);
	list_free(&l);
	CHECK(ts_part_close_all(p) == 0);
	ts_part_free(p);
	/* the lock file is gone with the run */
	DIR *dd = opendir(dir);
	struct dirent *e;
	int locks = 0;
	while (dd && (e = readdir(dd)) != NULL)
		locks += !strncmp(e->d_name, TS_PART_LOCK_PREFIX, strlen(TS_PART_LOCK_PREFIX));
	if (dd)
		closedir(dd);
	CHECK(locks == 0);
	man_read(&m);
	CHECK(m.nlines == 2);
	CHECK(man_matches_files(&m, dir));
	man_close(&m);
}

int main(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(root, sizeof(root), "%s/ts-part-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	test_publish();
	test_roll();
	test_lru();
	test_gzip_and_big();
	test_is_error();
	test_random();
	test_tick();
	test_abort();
	test_io_error();
	test_clean_temp();
	test_links();
	test_names();
	test_dropped();
	test_clean_live();
	rm_rf(root);
	CHECK(access(root, F_OK) != 0);
	return check_done();
}
