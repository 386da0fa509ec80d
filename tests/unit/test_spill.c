/* test_spill.c — lib/spill.h: records of every size, split into parts, read
 * back part by part in the order added and byte for byte; counts and bytes;
 * reading twice; dropping a part; parts never written; nothing left in the
 * temporary directory; a directory where no file can be made; a part cut
 * short. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "spill.h"

static char tmpdir[256];

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

/* The bytes of record r: a pattern that differs from record to record and
 * from byte to byte, so a record read from the wrong place shows. */
static void fill(unsigned char *p, size_t n, unsigned r)
{
	uint32_t x = 2654435761u * (r + 1);

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
}

/* Sizes around every boundary the 32 KiB buffer and the length prefix
 * have. */
static const size_t sizes[] = {
	0, 1, 2, 3, 4, 5, 100, 4095, 4096, 32764, 32767, 32768, 32769, 65536,
	65536 + 3, 100000, 1 << 20, 7, 0, 1,
};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))
#define NPARTS 5u

/* Record r's part and size: all sizes in every part, in an order that is
 * not the same in each. */
static unsigned part_of(unsigned r)
{
	return (r * 3 + r / NSIZES) % NPARTS;
}

static size_t size_of(unsigned r)
{
	return sizes[r % NSIZES];
}

/* Read part back and check it holds exactly the records r (of nrec) with
 * part_of(r) == part, in order. */
static void read_back(struct ts_spill *s, unsigned part, unsigned nrec, unsigned char *want)
{
	struct ts_buf out;
	unsigned r = 0, got = 0;
	int rc;

	ts_buf_init(&out, 0);
	CHECK(ts_spill_rewind(s, part) == 0);
	while ((rc = ts_spill_next(s, part, &out)) == 1) {
		while (r < nrec && part_of(r) != part)
			r++;
		if (!CHECK(r < nrec))
			break;
		fill(want, size_of(r), r);
		if (!CHECK_MEM(out.data, out.len, want, size_of(r)))
			fprintf(stderr, "    part %u, record %u\n", part, r);
		r++;
		got++;
	}
	CHECK(rc == 0);
	CHECK(ts_spill_next(s, part, &out) == 0); /* and stays at the end */
	CHECK(got == ts_spill_count(s, part));
	while (r < nrec && part_of(r) != part)
		r++;
	CHECK(r == nrec);
	ts_buf_release(&out);
}

static void test_parts(void)
{
	struct ts_spill *s = ts_spill_new(NPARTS + 2, tmpdir);
	unsigned char *rec = malloc(1 << 20), *want = malloc(1 << 20);
	uint64_t count[NPARTS] = {0}, bytes[NPARTS] = {0};
	const unsigned nrec = 4 * NSIZES;

	if (!CHECK(s && rec && want))
		goto out;
	CHECK(ts_spill_parts(s) == NPARTS + 2);
	CHECK(ts_spill_memory(s) == 0);
	for (unsigned r = 0; r < nrec; r++) {
		size_t n = size_of(r), cut = r % 3 == 0 ? 0 : r % 3 == 1 ? n : n / 3;
		unsigned p = part_of(r);
		fill(rec, n, r);
		/* one record from two pieces, either of them empty */
		CHECK(ts_spill_add(s, p, cut ? rec : NULL, cut, n - cut ? rec + cut : NULL,
				   n - cut) == 0);
		count[p]++;
		bytes[p] += 4 + n;
	}
	/* every part used holds a buffer, the others none */
	CHECK(ts_spill_memory(s) == (uint64_t)NPARTS * 32768);
	CHECK(dir_is_empty(tmpdir)); /* the files have no names */
	for (unsigned p = 0; p < NPARTS; p++) {
		CHECK(ts_spill_count(s, p) == count[p]);
		CHECK(ts_spill_bytes(s, p) == bytes[p]);
	}
	/* read in another order than written, each part twice */
	for (unsigned p = NPARTS; p-- > 0;) {
		read_back(s, p, nrec, want);
		read_back(s, p, nrec, want);
	}
	/* reading does not change the counts */
	for (unsigned p = 0; p < NPARTS; p++)
		CHECK(ts_spill_count(s, p) == count[p] && ts_spill_bytes(s, p) == bytes[p]);
	/* a part begun again after it was dropped starts empty */
	ts_spill_drop(s, 1);
	CHECK(ts_spill_count(s, 1) == 0 && ts_spill_bytes(s, 1) == 0);
	CHECK(ts_spill_memory(s) == (uint64_t)(NPARTS - 1) * 32768);
	struct ts_buf out;
	ts_buf_init(&out, 0);
	CHECK(ts_spill_rewind(s, 1) == 0 && ts_spill_next(s, 1, &out) == 0);
	CHECK(ts_spill_add(s, 1, "xy", 2, "z", 1) == 0);
	CHECK(ts_spill_count(s, 1) == 1 && ts_spill_bytes(s, 1) == 7);
	CHECK(ts_spill_rewind(s, 1) == 0 && ts_spill_next(s, 1, &out) == 1);
	CHECK_MEM(out.data, out.len, "xyz", 3);
	CHECK(ts_spill_next(s, 1, &out) == 0);
	/* the other parts are as they were */
	read_back(s, 0, nrec, want);
	read_back(s, 2, nrec, want);
	ts_buf_release(&out);
out:
	ts_spill_free(s);
	free(rec);
	free(want);
	CHECK(dir_is_empty(tmpdir));
}

/* A part never written to reads as empty, and holds no file. */
static void test_unwritten(void)
{
	struct ts_spill *s = ts_spill_new(3, tmpdir);
	struct ts_buf out;

	if (!CHECK(s))
		return;
	ts_buf_init(&out, 0);
	ts_buf_add(&out, "old", 3);
	CHECK(ts_spill_count(s, 2) == 0 && ts_spill_bytes(s, 2) == 0);
	CHECK(ts_spill_rewind(s, 2) == 0);
	CHECK(ts_spill_next(s, 2, &out) == 0);
	CHECK(ts_spill_next(s, 2, &out) == 0);
	CHECK(ts_spill_rewind(s, 2) == 0 && ts_spill_next(s, 2, &out) == 0);
	CHECK(ts_spill_memory(s) == 0);
	ts_spill_drop(s, 2); /* dropping one never used is fine */
	/* records of no bytes are records */
	CHECK(ts_spill_add(s, 0, NULL, 0, NULL, 0) == 0);
	CHECK(ts_spill_add(s, 0, NULL, 0, NULL, 0) == 0);
	CHECK(ts_spill_count(s, 0) == 2 && ts_spill_bytes(s, 0) == 8);
	CHECK(ts_spill_rewind(s, 0) == 0);
	CHECK(ts_spill_next(s, 0, &out) == 1 && out.len == 0);
	CHECK(ts_spill_next(s, 0, &out) == 1 && out.len == 0);
	CHECK(ts_spill_next(s, 0, &out) == 0);
	ts_buf_release(&out);
	ts_spill_free(s);
	ts_spill_free(NULL);
}

/* Every part there may be, many small records in each. */
static void test_many(void)
{
	struct ts_spill *s = ts_spill_new(TS_SPILL_MAX_PARTS, tmpdir);
	struct ts_buf out;
	unsigned next[TS_SPILL_MAX_PARTS] = {0};
	const unsigned n = 200000;
	char rec[32];

	if (!CHECK(s))
		return;
	for (unsigned i = 0; i < n; i++) {
		int len = snprintf(rec, sizeof(rec), "%u", i);
		if (ts_spill_add(s, i % TS_SPILL_MAX_PARTS, rec, (size_t)len, NULL, 0) < 0) {
			CHECK(0);
			break;
		}
	}
	CHECK(ts_spill_memory(s) == (uint64_t)TS_SPILL_MAX_PARTS * 32768);
	ts_buf_init(&out, 0);
	for (unsigned p = 0; p < TS_SPILL_MAX_PARTS; p++) {
		unsigned k = 0;
		int ok = ts_spill_rewind(s, p) == 0;
		while (ok && ts_spill_next(s, p, &out) == 1) {
			unsigned i = p + k++ * TS_SPILL_MAX_PARTS;
			int len = snprintf(rec, sizeof(rec), "%u", i);
			ok = out.len == (size_t)len && !memcmp(out.data, rec, out.len);
		}
		next[p] = k;
		CHECK(ok);
		CHECK(k == ts_spill_count(s, p));
		CHECK(k == (n - p + TS_SPILL_MAX_PARTS - 1) / TS_SPILL_MAX_PARTS);
		ts_spill_drop(s, p); /* done with it: its space goes */
	}
	CHECK(ts_spill_memory(s) == 0);
	ts_buf_release(&out);
	ts_spill_free(s);
	CHECK(next[0] == 782 && next[TS_SPILL_MAX_PARTS - 1] == 781);
}

static void test_limits(void)
{
	struct ts_spill *s;
	struct ts_buf small;
	static char big[40000];

	errno = 0;
	CHECK(ts_spill_new(0, tmpdir) == NULL && errno == EINVAL);
	errno = 0;
	CHECK(ts_spill_new(TS_SPILL_MAX_PARTS + 1, tmpdir) == NULL && errno == EINVAL);
	if (!CHECK((s = ts_spill_new(1, tmpdir)) != NULL))
		return;
	/* too long for the 4-byte length: refused before a byte is read */
	errno = 0;
	CHECK(ts_spill_add(s, 0, big, UINT32_MAX, big, 1) == -1 && errno == EFBIG);
	CHECK(strstr(ts_spill_error(s), "too long") != NULL);
	CHECK(ts_spill_count(s, 0) == 0 && ts_spill_bytes(s, 0) == 0);
	/* a record longer than the reader's buffer may grow: -1 */
	CHECK(ts_spill_add(s, 0, big, sizeof(big), NULL, 0) == 0);
	CHECK(ts_spill_count(s, 0) == 1 && ts_spill_bytes(s, 0) == 4 + sizeof(big));
	ts_buf_init(&small, 1000);
	CHECK(ts_spill_rewind(s, 0) == 0);
	errno = 0;
	CHECK(ts_spill_next(s, 0, &small) == -1 && errno == EFBIG);
	CHECK(ts_spill_error(s)[0] != '\0');
	ts_buf_release(&small);
	ts_spill_free(s);
	/* the default directory */
	if (CHECK((s = ts_spill_new(1, NULL)) != NULL)) {
		struct ts_buf out;
		ts_buf_init(&out, 0);
		CHECK(ts_spill_add(s, 0, "a", 1, NULL, 0) == 0);
		CHECK(ts_spill_rewind(s, 0) == 0 && ts_spill_next(s, 0, &out) == 1);
		CHECK_MEM(out.data, out.len, "a", 1);
		ts_buf_release(&out);
		ts_spill_free(s);
	}
}

/* A directory where no file can be made: the first add to a part fails
 * with errno and a message naming the directory; the others fail the same
 * way; nothing is counted. */
static void test_unwritable(void)
{
	char missing[300], file[300];
	struct ts_spill *s;

	snprintf(missing, sizeof(missing), "%s/no/such/dir", tmpdir);
	if (!CHECK((s = ts_spill_new(2, missing)) != NULL))
		return;
	errno = 0;
	CHECK(ts_spill_add(s, 1, "abc", 3, NULL, 0) == -1 && errno == ENOENT);
	CHECK(strstr(ts_spill_error(s), missing) != NULL);
	CHECK(strstr(ts_spill_error(s), "No such file") != NULL);
	errno = 0;
	CHECK(ts_spill_add(s, 0, "abc", 3, NULL, 0) == -1 && errno == ENOENT);
	CHECK(ts_spill_count(s, 0) == 0 && ts_spill_count(s, 1) == 0);
	CHECK(ts_spill_bytes(s, 1) == 0 && ts_spill_memory(s) == 0);
	ts_spill_free(s);

	/* a file where the directory should be */
	snprintf(file, sizeof(file), "%s/plain", tmpdir);
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (!CHECK(fd >= 0))
		return;
	close(fd);
	if (CHECK((s = ts_spill_new(1, file)) != NULL)) {
		errno = 0;
		CHECK(ts_spill_add(s, 0, "abc", 3, NULL, 0) == -1 && errno == ENOTDIR);
		CHECK(strstr(ts_spill_error(s), file) != NULL);
		ts_spill_free(s);
	}
	unlink(file);
}

/* A part cut short under it (its file is ours alone, so only a failing
 * disk does this): the records before the cut read back, then -1 with EIO.
 * The part's file is found as the descriptor open on the directory. */
static void test_damaged(void)
{
	struct ts_spill *s = ts_spill_new(1, tmpdir);
	struct ts_buf out;
	int fd = -1;

	if (!CHECK(s))
		return;
	CHECK(ts_spill_add(s, 0, "abc", 3, NULL, 0) == 0);
	CHECK(ts_spill_add(s, 0, "defgh", 5, NULL, 0) == 0);
	CHECK(ts_spill_rewind(s, 0) == 0);
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	while (dir && (e = readdir(dir))) {
		char link[300], target[512];
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n > 0 && (size_t)n > strlen(tmpdir) && !strncmp(target, tmpdir, strlen(tmpdir)) &&
		    target[strlen(tmpdir)] == '/')
			fd = atoi(e->d_name);
	}
	if (dir)
		closedir(dir);
	if (fd < 0) {
		fprintf(stderr, "test_spill: no /proc/self/fd: damaged part not tested\n");
		ts_spill_free(s);
		return;
	}
	CHECK(ftruncate(fd, 4 + 3 + 4 + 2) == 0);
	ts_buf_init(&out, 0);
	CHECK(ts_spill_next(s, 0, &out) == 1);
	CHECK_MEM(out.data, out.len, "abc", 3);
	errno = 0;
	CHECK(ts_spill_next(s, 0, &out) == -1 && errno == EIO);
	CHECK(strstr(ts_spill_error(s), "cannot read") != NULL);
	CHECK(ftruncate(fd, 4 + 3 + 2) == 0);
	CHECK(ts_spill_rewind(s, 0) == 0 && ts_spill_next(s, 0, &out) == 1);
	errno = 0;
	CHECK(ts_spill_next(s, 0, &out) == -1 && errno == EIO);
	ts_buf_release(&out);
	ts_spill_free(s);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/ts-spill-test.XXXXXX",
		 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_parts();
	test_unwritten();
	test_many();
	test_limits();
	test_unwritable();
	test_damaged();
	CHECK(dir_is_empty(tmpdir));
	rmdir(tmpdir);
	return check_done();
}
