/* test_distinct.c — lib/distinct.h: counts and statistics, spilling to
 * runs, split-then-merge against one pass, set streams and their checks. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "buf.h"
#include "check.h"
#include "distinct.h"
#include "hash.h"

static char tmpdir[256];

static int same_stats(const struct ts_distinct_stats *a, const struct ts_distinct_stats *b)
{
	return a->n_rows == b->n_rows && a->n_distinct == b->n_distinct &&
	       a->n_once == b->n_once && a->max_count == b->max_count &&
	       memcmp(&a->entropy, &b->entropy, sizeof(double)) == 0;
}

static struct ts_distinct *make(uint64_t budget)
{
	struct ts_distinct_opts o = { budget, tmpdir };
	return ts_distinct_new(&o);
}

/* The i-th key of a test: 36 bytes like a UUID, or short, or empty. */
static size_t key(uint64_t i, char *out)
{
	if (i % 1000 == 999)
		return 0; /* the empty value, many times */
	if (i % 7 == 3)
		return (size_t)snprintf(out, 40, "%llu", (unsigned long long)(i % 5000));
	return (size_t)snprintf(out, 40, "%08llx-0000-4000-8000-%012llx",
				(unsigned long long)(i * 2654435761u % 100000007),
				(unsigned long long)i);
}

/* The whole stream of a set, as bytes. */
static char *stream_of(struct ts_distinct *d, size_t *n)
{
	FILE *f = tmpfile();
	char *p = NULL;
	long len;

	*n = 0;
	if (!f)
		return NULL;
	if (ts_distinct_write(d, f) == 0 && (len = ftell(f)) >= 0) {
		p = malloc((size_t)len + 1);
		rewind(f);
		if (p && fread(p, 1, (size_t)len, f) == (size_t)len)
			*n = (size_t)len;
	}
	fclose(f);
	return p;
}

static FILE *file_of(const char *p, size_t n)
{
	FILE *f = tmpfile();

	if (f) {
		if (n)
			fwrite(p, 1, n, f);
		rewind(f);
	}
	return f;
}

static int dir_is_empty(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *e;
	int empty = 1;

	if (!dir)
		return 0;
	while ((e = readdir(dir)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = 0;
	closedir(dir);
	return empty;
}

static void test_small(void)
{
	struct ts_distinct *d = make(0);
	struct ts_distinct_stats st;
	double want;

	if (!CHECK(d))
		return;
	CHECK(ts_distinct_stats(d, &st) == 0);
	CHECK(st.n_rows == 0 && st.n_distinct == 0 && st.n_once == 0 &&
	      st.max_count == 0 && st.entropy == 0);
	CHECK(ts_distinct_add(d, "a", 1) == 0);
	CHECK(ts_distinct_add(d, "b", 1) == 0);
	CHECK(ts_distinct_add(d, "a", 1) == 0);
	CHECK(ts_distinct_add_count(d, "c", 1, 3) == 0);
	CHECK(ts_distinct_add_count(d, "d", 1, 0) == 0); /* nothing */
	CHECK(ts_distinct_add(d, "a\0", 2) == 0);        /* bytes, not strings */
	CHECK(ts_distinct_add(d, "", 0) == 0);
	CHECK(ts_distinct_add_hashed(d, "", 0, ts_hash(ts_hkey_process(), "", 0), 1) == 0);
	CHECK(ts_distinct_stats(d, &st) == 0);
	/* a:2 b:1 c:3 "a\0":1 "":2 */
	CHECK(st.n_rows == 9 && st.n_distinct == 5 && st.n_once == 2 && st.max_count == 3);
	want = -(2 * (2 / 9.0) * log(2 / 9.0) + 2 * (1 / 9.0) * log(1 / 9.0) +
		 (3 / 9.0) * log(3 / 9.0));
	CHECK(fabs(st.entropy - want) < 1e-15);
	CHECK(ts_distinct_runs(d) == 0);
	CHECK(ts_distinct_memory(d) > 0);
	ts_distinct_free(d);

	/* one value many times: 0 exactly; all different: ln n exactly */
	d = make(0);
	CHECK(ts_distinct_add_count(d, "x", 1, 123456789) == 0);
	CHECK(ts_distinct_stats(d, &st) == 0);
	CHECK(st.entropy == 0 && st.n_once == 0 && st.max_count == 123456789);
	ts_distinct_free(d);
	d = make(0);
	for (int i = 0; i < 1000; i++) {
		char k[16];
		CHECK(ts_distinct_add(d, k, (size_t)snprintf(k, sizeof(k), "%d", i)) == 0);
	}
	CHECK(ts_distinct_stats(d, &st) == 0);
	CHECK(st.entropy == log(1000.0) && st.n_once == 1000 && st.n_distinct == 1000);
	/* stats do not consume: more can be added */
	CHECK(ts_distinct_add(d, "7", 1) == 0);
	CHECK(ts_distinct_stats(d, &st) == 0);
	CHECK(st.n_once == 999 && st.n_distinct == 1000 && st.n_rows == 1001);
	ts_distinct_free(d);
}

static void test_limits(void)
{
	struct ts_distinct *d = make(0);
	struct ts_distinct_stats st;

	CHECK(ts_distinct_add_count(d, "a", 1, UINT64_MAX - 1) == 0);
	errno = 0;
	CHECK(ts_distinct_add_count(d, "b", 1, 2) == -1 && errno == EOVERFLOW);
	CHECK(strstr(ts_distinct_error(d), "2^64") != NULL);
	CHECK(ts_distinct_add(d, "b", 1) == 0);
	CHECK(ts_distinct_add(d, "b", 1) == -1 && errno == EOVERFLOW);
	errno = 0;
	CHECK(ts_distinct_add(d, "x", TS_DISTINCT_KEY_MAX + 1) == -1 && errno == E2BIG);
	CHECK(ts_distinct_stats(d, &st) == 0);
	CHECK(st.n_rows == UINT64_MAX && st.n_distinct == 2 && st.n_once == 1);
	ts_distinct_free(d);
}

/* Many keys, a budget that forces runs: the same stats and the same stream
 * as a set that never spilled; nothing left in the temporary directory. */
static void test_spill(void)
{
	enum { N = 300000 };
	struct ts_distinct *big = make(0), *small = make(1);
	struct ts_distinct_stats a, b;
	char k[40];
	char *sa, *sb;
	size_t na, nb;

	for (uint64_t i = 0; i < N; i++) {
		size_t n = key(i % 180000, k);
		CHECK(ts_distinct_add(big, k, n) == 0);
		if (ts_distinct_add(small, k, n) != 0) {
			CHECK(!"add");
			fprintf(stderr, "    %s\n", ts_distinct_error(small));
			break;
		}
	}
	CHECK(ts_distinct_runs(big) == 0);
	CHECK(ts_distinct_runs(small) > 2);
	CHECK(ts_distinct_memory(small) < ((uint64_t)3 << 20));
	CHECK(dir_is_empty(tmpdir));
	CHECK(ts_distinct_stats(big, &a) == 0);
	CHECK(ts_distinct_stats(small, &b) == 0);
	CHECK(same_stats(&a, &b));
	CHECK(a.n_rows == N);
	CHECK(a.n_once > 1000 && a.n_distinct > a.n_once);
	sa = stream_of(big, &na);
	sb = stream_of(small, &nb);
	CHECK(na > 1000000);
	CHECK(sa && sb && na == nb && memcmp(sa, sb, na) == 0);
	free(sa);
	free(sb);
	/* keep adding after the stats */
	CHECK(ts_distinct_add(small, "new", 3) == 0);
	CHECK(ts_distinct_stats(small, &b) == 0);
	CHECK(b.n_rows == N + 1 && b.n_distinct == a.n_distinct + 1);
	ts_distinct_free(big);
	ts_distinct_free(small);
}

/* The input split into parts (some spilling), each part written as a set
 * stream and read back, or merged set into set: the same stats and stream
 * as one pass over the whole. */
static void test_split_merge(void)
{
	enum { N = 200000, P = 5 };
	struct ts_distinct *one = make(0), *part[P], *viaread = make(1), *viamerge = make(0);
	struct ts_distinct_stats a, b, c;
	char k[40];
	char *s1, *s2, *s3;
	size_t n1, n2, n3;
	FILE *all = tmpfile();

	for (int p = 0; p < P; p++)
		part[p] = make(p % 2 ? 1 : 0);
	for (uint64_t i = 0; i < N; i++) {
		size_t n = key((i * 7919) % 150000, k);
		CHECK(ts_distinct_add(one, k, n) == 0);
		CHECK(ts_distinct_add(part[(i * 31 + i / 1000) % P], k, n) == 0);
	}
	/* all parts' streams one after the other in one file */
	for (int p = 0; p < P; p++)
		CHECK(ts_distinct_write(part[p], all) == 0);
	rewind(all);
	for (int p = 0; p < P; p++)
		CHECK(ts_distinct_read(viaread, all) == 0);
	CHECK(getc(all) == EOF);
	fclose(all);
	for (int p = P - 1; p >= 0; p--)
		CHECK(ts_distinct_merge(viamerge, part[p]) == 0);
	CHECK(ts_distinct_merge(viamerge, viamerge) == -1 && errno == EINVAL);

	CHECK(ts_distinct_stats(one, &a) == 0);
	CHECK(ts_distinct_stats(viaread, &b) == 0);
	CHECK(ts_distinct_stats(viamerge, &c) == 0);
	CHECK(same_stats(&a, &b));
	CHECK(same_stats(&a, &c));
	s1 = stream_of(one, &n1);
	s2 = stream_of(viaread, &n2);
	s3 = stream_of(viamerge, &n3);
	CHECK(s1 && s2 && s3 && n1 == n2 && n1 == n3 && !memcmp(s1, s2, n1) &&
	      !memcmp(s1, s3, n1));
	/* the parts are still whole after being merged */
	{
		uint64_t rows = 0;
		for (int p = 0; p < P; p++) {
			struct ts_distinct_stats st;
			CHECK(ts_distinct_stats(part[p], &st) == 0);
			rows += st.n_rows;
		}
		CHECK(rows == N);
	}
	/* taken (moved) into a set with a table of its own: the same again,
	 * and the parts are left empty */
	{
		struct ts_distinct *t = make(1);
		struct ts_distinct_stats st;
		char *s4;
		size_t n4;
		CHECK(ts_distinct_take(t, t) == -1 && errno == EINVAL);
		for (int p = 0; p < P; p++) {
			CHECK(ts_distinct_take(t, part[p]) == 0);
			CHECK(ts_distinct_stats(part[p], &st) == 0 && st.n_rows == 0 &&
			      ts_distinct_runs(part[p]) == 0);
		}
		CHECK(ts_distinct_stats(t, &st) == 0 && same_stats(&a, &st));
		s4 = stream_of(t, &n4);
		CHECK(s4 && n4 == n1 && !memcmp(s1, s4, n1));
		free(s4);
		ts_distinct_free(t);
	}
	free(s1);
	free(s2);
	free(s3);
	for (int p = 0; p < P; p++)
		ts_distinct_free(part[p]);
	ts_distinct_free(one);
	ts_distinct_free(viaread);
	ts_distinct_free(viamerge);
}

/* More runs than are kept open: they fold into one, nothing lost. */
static void test_fold(void)
{
	struct ts_distinct *d = make(0), *one = make(0);
	struct ts_distinct_stats a, b;
	char k[40];

	for (int r = 0; r < 150; r++) {
		struct ts_distinct *p = make(0);
		FILE *f = tmpfile();
		for (int i = 0; i < 50; i++) {
			size_t n = key((uint64_t)(r * 37 + i * 11), k);
			CHECK(ts_distinct_add(p, k, n) == 0);
			CHECK(ts_distinct_add(one, k, n) == 0);
		}
		CHECK(ts_distinct_write(p, f) == 0);
		rewind(f);
		CHECK(ts_distinct_read(d, f) == 0);
		CHECK(ts_distinct_runs(d) <= 64);
		fclose(f);
		ts_distinct_free(p);
	}
	CHECK(ts_distinct_stats(d, &a) == 0);
	CHECK(ts_distinct_stats(one, &b) == 0);
	CHECK(same_stats(&a, &b) && a.n_rows == 7500);
	/* taking a set of many runs into another: folded to fit, the same */
	{
		struct ts_distinct *t = make(0), *u = make(0);
		for (int r = 0; r < 63; r++) {
			FILE *f = tmpfile();
			struct ts_distinct *p = make(0);
			size_t n = key((uint64_t)r * 3, k);
			CHECK(ts_distinct_add(p, k, n) == 0);
			CHECK(ts_distinct_write(p, f) == 0);
			rewind(f);
			CHECK(ts_distinct_read(t, f) == 0);
			rewind(f);
			CHECK(ts_distinct_read(u, f) == 0);
			fclose(f);
			ts_distinct_free(p);
		}
		CHECK(ts_distinct_take(t, d) == 0 && ts_distinct_runs(t) <= 64);
		CHECK(ts_distinct_take(u, one) == 0);
		CHECK(ts_distinct_stats(t, &a) == 0 && ts_distinct_stats(u, &b) == 0);
		CHECK(same_stats(&a, &b) && a.n_rows == 7563);
		ts_distinct_free(t);
		ts_distinct_free(u);
	}
	ts_distinct_free(d);
	ts_distinct_free(one);
}

/* Enough spills to pass the number of runs kept: they fold, the stats
 * stay exact. */
static void test_many_spills(void)
{
	enum { N = 2000000 };
	struct ts_distinct *d = make(1);
	struct ts_distinct_stats st;
	unsigned most = 0;
	char k[16];

	for (uint32_t i = 0; i < N; i++) {
		memcpy(k, &i, 4);
		if (ts_distinct_add_count(d, k, 4, i % 5 ? 1 : 2) < 0) {
			CHECK(!"add");
			break;
		}
		if (ts_distinct_runs(d) > most)
			most = ts_distinct_runs(d);
	}
	if (!CHECK(most == 64))
		fprintf(stderr, "    at most %u runs\n", most);
	CHECK(ts_distinct_runs(d) < 64);
	CHECK(ts_distinct_stats(d, &st) == 0);
	CHECK(st.n_rows == N + N / 5 && st.n_distinct == N && st.n_once == N - N / 5 &&
	      st.max_count == 2);
	double n = N + N / 5;
	double want = (N - N / 5) / n * log(n) + (N / 5) * (2 / n) * log(n / 2);
	CHECK(fabs(st.entropy - want) < 1e-12 * want);
	ts_distinct_free(d);
}

/* Every run is about as large as the budget allows, at any budget: the
 * table keeps what it allocated for the next fill, and a budget that the
 * kept memory alone passed once made each later key a run of its own
 * (millions of runs, folded over and over: a run that never ended). */
static void test_run_size(void)
{
	enum { N = 300000 };
	char k[40];

	for (uint64_t mib = 2; mib <= 9; mib++) {
		struct ts_distinct *d = make(mib << 20);
		unsigned spills = 0, prev = 0;
		/* under 100 bytes a key held; a run is at least a quarter of the
		 * budget */
		unsigned most = (unsigned)((uint64_t)N * 100 / ((mib << 20) / 4)) + 1;
		for (uint64_t i = 0; i < N && spills <= most; i++) {
			size_t n = (size_t)snprintf(k, sizeof(k), "id-%032llu",
						    (unsigned long long)i);
			if (ts_distinct_add(d, k, n) < 0) {
				CHECK(!"add");
				break;
			}
			if (ts_distinct_runs(d) != prev)
				spills++;
			prev = ts_distinct_runs(d);
		}
		if (!CHECK(spills >= 1 && spills <= most))
			fprintf(stderr, "    %llu MiB: %u spills, at most %u wanted\n",
				(unsigned long long)mib, spills, most);
		CHECK(ts_distinct_memory(d) <= (mib << 20) + ((uint64_t)1 << 20));
		ts_distinct_free(d);
	}
}

/* The stream of a set with a few values, checked by hand. */
static void test_stream_form(void)
{
	struct ts_distinct *d = make(0);
	char *s;
	size_t n;

	s = stream_of(d, &n);
	/* header, end, 0 values, 0 total, crc */
	CHECK(s && n == 8 + 3 + 4 && !memcmp(s, "TSDSET1\n\0\0\0", 11));
	free(s);
	ts_distinct_add_count(d, "abc", 3, 300);
	s = stream_of(d, &n);
	/* varint 4, "abc", varint 300 = ac 02 */
	CHECK(s && n == 8 + 1 + 3 + 2 + 1 + 1 + 2 + 4);
	if (s)
		CHECK_MEM(s + 8, 10, "\x04" "abc" "\xac\x02" "\x00" "\x01" "\xac\x02", 10);
	free(s);
	ts_distinct_free(d);
}

static void check_rejected(const char *p, size_t n, const char *what)
{
	struct ts_distinct *d = make(0);
	struct ts_distinct_stats st;
	FILE *f = file_of(p, n);
	int rc;

	ts_distinct_add(d, "keep", 4);
	errno = 0;
	rc = ts_distinct_read(d, f);
	if (!CHECK(rc == -1 && errno == EINVAL))
		fprintf(stderr, "    accepted: %s (%d, %s, %s)\n", what, rc, strerror(errno), ts_distinct_error(d));
	CHECK(strncmp(ts_distinct_error(d), "not a set stream", 16) == 0);
	CHECK(ts_distinct_stats(d, &st) == 0 && st.n_rows == 1 && st.n_distinct == 1);
	CHECK(ts_distinct_runs(d) == 0);
	fclose(f);
	ts_distinct_free(d);
}

static void test_garbage(void)
{
	struct ts_distinct *d = make(0);
	char k[40], *s, *t;
	size_t n;

	for (int i = 0; i < 40; i++)
		ts_distinct_add_count(d, k, key((uint64_t)i, k), (uint64_t)i % 3 + 1);
	s = stream_of(d, &n);
	ts_distinct_free(d);
	if (!CHECK(s && n > 100))
		return;
	/* every truncation */
	for (size_t i = 0; i < n; i++)
		check_rejected(s, i, "a truncated stream");
	/* every single-bit flip */
	t = malloc(n);
	for (size_t i = 0; i < n; i++)
		for (int b = 0; b < 8; b += 3) {
			memcpy(t, s, n);
			t[i] ^= (char)(1 << b);
			check_rejected(t, n, "a flipped bit");
		}
	free(t);
	free(s);

	/* well-formed but wrong, with correct checksums: build by hand */
	struct {
		const char *body;
		size_t n;
		const char *what;
	} cases[] = {
		{ "\x02" "a" "\x00", 3, "a zero count" },
		{ "\x02" "a" "\x01" "\x02" "a" "\x01", 6, "a repeated value" },
		{ "\x82\x00" "a" "\x01", 4, "a long varint" },
		{ "\x02" "a" "\x81\x00", 4, "a long count" },
		{ "\x02" "a" "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 12, "a count past 64 bits" },
		{ "\xff\xff\xff\xff\x0f", 5, "a huge length" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ts_buf b;
		uLong crc;
		unsigned char c4[4];
		ts_buf_init(&b, 0);
		ts_buf_add(&b, "TSDSET1\n", 8);
		ts_buf_add(&b, cases[i].body, cases[i].n);
		ts_buf_add(&b, "\x00\x01\x01", 3);
		crc = crc32(0, (const unsigned char *)b.data, (unsigned)b.len);
		for (int j = 0; j < 4; j++)
			c4[j] = (unsigned char)(crc >> (8 * j));
		ts_buf_add(&b, c4, 4);
		check_rejected(b.data, b.len, cases[i].what);
		ts_buf_release(&b);
	}
	/* values out of set order: two keys in the wrong order, correct crc */
	{
		const char *x = "x", *y = "y";
		uint64_t hx = ts_hash(&ts_hkey_fixed, x, 1), hy = ts_hash(&ts_hkey_fixed, y, 1);
		const char *lo = hx < hy ? x : y, *hi = hx < hy ? y : x;
		struct ts_buf b;
		uLong crc;
		unsigned char c4[4];
		for (int good = 0; good < 2; good++) {
			ts_buf_init(&b, 0);
			ts_buf_add(&b, "TSDSET1\n", 8);
			ts_buf_addch(&b, 2);
			ts_buf_add(&b, good ? lo : hi, 1);
			ts_buf_addch(&b, 1);
			ts_buf_addch(&b, 2);
			ts_buf_add(&b, good ? hi : lo, 1);
			ts_buf_addch(&b, 1);
			ts_buf_add(&b, "\x00\x02\x02", 3);
			crc = crc32(0, (const unsigned char *)b.data, (unsigned)b.len);
			for (int j = 0; j < 4; j++)
				c4[j] = (unsigned char)(crc >> (8 * j));
			ts_buf_add(&b, c4, 4);
			if (good) {
				struct ts_distinct *e = make(0);
				struct ts_distinct_stats st;
				FILE *f = file_of(b.data, b.len);
				CHECK(ts_distinct_read(e, f) == 0);
				CHECK(ts_distinct_stats(e, &st) == 0 && st.n_distinct == 2 &&
				      st.n_once == 2);
				fclose(f);
				ts_distinct_free(e);
			} else {
				check_rejected(b.data, b.len, "out of order");
			}
			ts_buf_release(&b);
		}
	}
	check_rejected("", 0, "nothing");
	check_rejected("TSDSET2\n\0\0\0\0\0\0\0", 15, "another version");
}

/* A temporary directory that is not there: the spill fails, the set keeps
 * what it had, the message says where. */
static void test_unwritable(void)
{
	struct ts_distinct_opts o = { 1, "/nonexistent/ts-distinct-test" };
	struct ts_distinct *d = ts_distinct_new(&o);
	struct ts_distinct_stats st;
	char k[40];
	uint64_t added = 0;
	int rc = 0;

	for (uint64_t i = 0; i < 200000 && rc == 0; i++) {
		size_t n = key(i, k);
		rc = ts_distinct_add(d, k, n);
		added += rc == 0;
	}
	CHECK(rc == -1 && errno == ENOENT);
	CHECK(strstr(ts_distinct_error(d), "/nonexistent/ts-distinct-test") != NULL);
	CHECK(ts_distinct_stats(d, &st) == 0 && st.n_rows == added);
	ts_distinct_free(d);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/ts-distinct-test.XXXXXX",
		 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_small();
	test_limits();
	test_spill();
	test_split_merge();
	test_fold();
	test_many_spills();
	test_run_size();
	test_stream_form();
	test_garbage();
	test_unwritable();
	CHECK(dir_is_empty(tmpdir));
	rmdir(tmpdir);
	return check_done();
}
