/* test_dqfile.c — lib/dqfile.h: the DQDL file rules on real files and
 * directories made in a temporary directory (times set with utimensat). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "check.h"
#include "dqfile.h"
#include "util.h"

#define HELLO_MD5 "b1946ac92492d2347c6235b4d2611184"
#define HELLO_SHA1 "f572d396fae9206628714fb2ce00f72e94f2258f"
#define HELLO_SHA256 "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"

#define NOW_MS INT64_C(1700000000000) /* 2023-11-14T22:13:20Z */
#define DAY_MS INT64_C(86400000)

static char root[64];
static const struct ts_dq_env env = {.now_ms = NOW_MS};

/* root "/" rel, in a static buffer (one at a time) */
static const char *at(const char *rel)
{
	static char p[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", root, rel);
	return p[k];
}

static void mkdirs(const char *rel)
{
	CHECK(ts_mkdir_p(at(rel)) == 0);
}

/* Write s to rel with its mtime at NOW_MS + off_ms. */
static void put(const char *rel, const char *s, int64_t off_ms)
{
	const char *p = at(rel);
	FILE *f = fopen(p, "wb");
	if (!CHECK(f != NULL))
		return;
	fputs(s, f);
	CHECK(fclose(f) == 0);
	int64_t t = NOW_MS + off_ms;
	struct timespec ts[2] = {{t / 1000, (t % 1000) * 1000000},
				 {t / 1000, (t % 1000) * 1000000}};
	CHECK(utimensat(AT_FDCWD, p, ts, 0) == 0);
}

/* Evaluate the one rule of `Rules = [ text ]`, with %s replaced by root.
 * Returns the outcome; *res has the rest. */
static int evalf(struct ts_dqfile_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int evalf(struct ts_dqfile_result *res, const char *fmt, ...)
{
	char rule[2048], doc[2200], err[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rule, sizeof(rule), fmt, ap);
	va_end(ap);
	snprintf(doc, sizeof(doc), "Rules = [ %s ]", rule);

	struct ts_dq_ruleset *rs;
	memset(res, 0, sizeof(*res));
	if (!CHECK(ts_dqdl_parse(doc, strlen(doc), &rs, err, sizeof(err)) == 0)) {
		fprintf(stderr, "    rule: %s\n    error: %s\n", rule, err);
		res->outcome = -1;
		return -1;
	}
	CHECK(rs->nrules == 1);
	CHECK(ts_dqfile_eval(rs->rules[0], &env, res) == 0);
	ts_dqdl_free(rs);
	return res->outcome;
}

static double metric(const struct ts_dqfile_result *res, const char *name)
{
	for (size_t i = 0; i < res->nmetrics; i++)
		if (strcmp(res->metrics[i].name, name) == 0)
			return res->metrics[i].value;
	return -1;
}

static int has(const char *msg, const char *part)
{
	if (strstr(msg, part))
		return 1;
	fprintf(stderr, "    message \"%s\" lacks \"%s\"\n", msg, part);
	return 0;
}

static void test_freshness(void)
{
	struct ts_dqfile_result r;

	put("fresh.csv", "a\n", -DAY_MS);
	put("stale.csv", "b\n", -5 * DAY_MS);
	CHECK(evalf(&r, "FileFreshness \"%s/fresh.csv\" > (now() - 3 days)", root) == 0);
	CHECK_STR(r.message, "");
	CHECK(metric(&r, "Dataset.*.FileFreshness.Compliance") == 1);
	CHECK(metric(&r, "Dataset.*.FileCount") == 1);
	CHECK(r.nmetrics == 2);

	CHECK(evalf(&r, "FileFreshness \"%s/stale.csv\" > (now() - 3 days)", root) == 1);
	CHECK(has(r.message, "stale.csv was last modified 2023-11-09T22:13:20.000Z"));
	CHECK(metric(&r, "Dataset.*.FileFreshness.Compliance") == 0);
	CHECK(metric(&r, "Dataset.*.FileCount") == 1);

	/* now() itself and a date: the boundary is exclusive for > */
	put("exact.csv", "c\n", 0);
	CHECK(evalf(&r, "FileFreshness \"%s/exact.csv\" >= now()", root) == 0);
	CHECK(evalf(&r, "FileFreshness \"%s/exact.csv\" > now()", root) == 1);
	CHECK(evalf(&r, "FileFreshness \"%s/exact.csv\" > \"2023-11-14\"", root) == 0);
	CHECK(evalf(&r, "FileFreshness \"%s/exact.csv\" < \"2023-11-14\"", root) == 1);

	/* a directory: every file, at any depth */
	mkdirs("fr/sub");
	put("fr/a", "1", -DAY_MS);
	put("fr/sub/b", "2", -2 * DAY_MS);
	CHECK(evalf(&r, "FileFreshness \"%s/fr/\" > (now() - 3 days)", root) == 0);
	CHECK(metric(&r, "Dataset.*.FileCount") == 2);
	put("fr/sub/old", "3", -30 * DAY_MS);
	CHECK(evalf(&r, "FileFreshness \"%s/fr/\" > (now() - 3 days)", root) == 1);
	CHECK(has(r.message, "1 of 3 files do not satisfy the condition; first: "));
	CHECK(has(r.message, "/fr/sub/old, last modified 2023-10-15T22:13:20.000Z"));
	CHECK(metric(&r, "Dataset.*.FileFreshness.Compliance") == 2.0 / 3);
	CHECK(metric(&r, "Dataset.*.FileCount") == 3);

	/* between (exclusive) on dates */
	CHECK(evalf(&r, "FileFreshness \"%s/fr\" between \"2023-10-01\" and \"2023-11-15\"",
		    root) == 0);
	CHECK(evalf(&r, "FileFreshness \"%s/fr\" between \"2023-10-20\" and \"2023-11-15\"",
		    root) == 1);
	CHECK(evalf(&r, "FileFreshness \"%s/fr\" not between \"2023-10-20\" and \"2023-11-15\"",
		    root) == 1);

	/* with threshold: the share of files that satisfy the condition */
	CHECK(evalf(&r, "FileFreshness \"%s/fr/\" < (now() - 10 days) with threshold > 0.1",
		    root) == 0);
	CHECK(metric(&r, "Dataset.*.FileFreshness.Compliance") == 1.0 / 3);
	CHECK(evalf(&r, "FileFreshness \"%s/fr/\" < (now() - 10 days) with threshold > 0.5",
		    root) == 1);
	CHECK(has(r.message, "1 of 3 files satisfy the condition (0.3333), which does not "
			     "satisfy the threshold; first that does not: "));
	/* a threshold on one file: its share is 0 or 1 */
	CHECK(evalf(&r, "FileFreshness \"%s/stale.csv\" > (now() - 3 days) with threshold >= 0",
		    root) == 0);
}

static void test_size(void)
{
	struct ts_dqfile_result r;

	put("hello", "hello\n", 0);
	CHECK(evalf(&r, "FileSize \"%s/hello\" < 10 MB", root) == 0);
	CHECK(metric(&r, "Dataset.*.FileSize.Compliance") == 1);
	CHECK(metric(&r, "Dataset.*.FileCount") == 1);
	CHECK(metric(&r, "Dataset.*.MaximumFileSize") == 6);
	CHECK(metric(&r, "Dataset.*.MinimumFileSize") == 6);
	CHECK(evalf(&r, "FileSize \"%s/hello\" = 6 B", root) == 0);
	CHECK(evalf(&r, "FileSize \"%s/hello\" = 6", root) == 0);
	CHECK(evalf(&r, "FileSize \"%s/hello\" > 6 B", root) == 1);
	CHECK(has(r.message, "/hello is 6 bytes"));
	CHECK(evalf(&r, "FileSize \"%s/hello\" in [5 B, 6 B]", root) == 0);

	mkdirs("sz");
	put("sz/empty", "", 0);
	put("sz/two", "ab", 0);
	char big[2048];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put("sz/big", big, 0);
	CHECK(evalf(&r, "FileSize \"%s/sz\" > 0 B", root) == 1);
	CHECK(has(r.message, "1 of 3 files do not satisfy the condition; first: "));
	CHECK(has(r.message, "/sz/empty, 0 bytes"));
	CHECK(metric(&r, "Dataset.*.MaximumFileSize") == 2047);
	CHECK(metric(&r, "Dataset.*.MinimumFileSize") == 0);
	CHECK(metric(&r, "Dataset.*.FileCount") == 3);
	CHECK(evalf(&r, "FileSize \"%s/sz\" < 2 KB", root) == 0);
	CHECK(evalf(&r, "FileSize \"%s/sz\" between 1 B and 1 KB with threshold > 0.3", root) ==
	      0);
	CHECK(metric(&r, "Dataset.*.FileSize.Compliance") == 1.0 / 3);
	CHECK(evalf(&r, "FileSize \"%s/sz\" between 1 B and 1 KB with threshold > 0.5", root) ==
	      1);
}

static void test_match(void)
{
	struct ts_dqfile_result r;

	put("h1", "hello\n", 0);
	put("h2", "hello\n", 0);
	put("other", "bye\n", 0);
	CHECK(evalf(&r, "FileMatch \"%s/h1\" in [\"" HELLO_SHA256 "\"]", root) == 0);
	CHECK(metric(&r, "Dataset.*.FileCount") == 1);
	CHECK(r.nmetrics == 1);
	CHECK(evalf(&r, "FileMatch \"%s/h1\" in [\"" HELLO_SHA256 "\"] with hashAlgorithm = "
			"\"SHA-256\"", root) == 0);
	CHECK(evalf(&r, "FileMatch \"%s/h1\" in [\"" HELLO_MD5 "\"] with hashAlgorithm = \"MD5\"",
		    root) == 0);
	CHECK(evalf(&r, "FileMatch \"%s/h1\" in [\"x\", \"" HELLO_SHA1 "\"] with hashAlgorithm = "
			"\"SHA-1\"", root) == 0);
	/* SHA-256 is the default: the MD5 of the file is not it */
	CHECK(evalf(&r, "FileMatch \"%s/h1\" in [\"" HELLO_MD5 "\"]", root) == 1);
	CHECK(has(r.message, "/h1: SHA-256 checksum " HELLO_SHA256
			     " matches none of the checksums given"));
	CHECK(metric(&r, "Dataset.*.FileCount") == 1);
	/* letter case of the hex digits does not matter */
	CHECK(evalf(&r, "FileMatch \"%s/h1\" in [\"B1946AC92492D2347C6235B4D2611184\"] "
			"with hashAlgorithm = \"md5\"", root) == 0);
	CHECK(evalf(&r, "FileMatch \"%s/h1\" not in [\"" HELLO_SHA256 "\"]", root) == 1);
	CHECK(has(r.message, "is one of the checksums given"));
	CHECK(evalf(&r, "FileMatch \"%s/other\" not in [\"" HELLO_SHA256 "\"]", root) == 0);
	CHECK(evalf(&r, "FileMatch \"%s/h1\" in [\"" HELLO_SHA256 "\"] with hashAlgorithm = "
			"\"CRC32\"", root) == 2);
	CHECK_STR(r.message, "hashAlgorithm \"CRC32\" is not supported: MD5, SHA-1 or SHA-256");
	CHECK(r.nmetrics == 0);

	/* a directory against a list: every file must match one of them */
	mkdirs("ml");
	put("ml/a", "hello\n", 0);
	put("ml/b", "hello\n", 0);
	CHECK(evalf(&r, "FileMatch \"%s/ml/\" in [\"" HELLO_SHA256 "\"]", root) == 0);
	CHECK(metric(&r, "Dataset.*.FileCount") == 2);
	put("ml/c", "bye\n", 0);
	CHECK(evalf(&r, "FileMatch \"%s/ml/\" in [\"" HELLO_SHA256 "\"]", root) == 1);
	CHECK(has(r.message, "1 of 3 files do not match; first: "));
	CHECK(has(r.message, "/ml/c, SHA-256 checksum"));

	/* two files, two directories */
	CHECK(evalf(&r, "FileMatch \"%s/h1\" \"%s/h2\"", root, root) == 0);
	CHECK(metric(&r, "Dataset.*.FileCount") == 2);
	CHECK(evalf(&r, "FileMatch \"%s/h1\" \"%s/other\"", root, root) == 1);
	CHECK(has(r.message, "the files differ: 1 in "));
	mkdirs("d1/x");
	mkdirs("d2");
	put("d1/a", "one", 0);
	put("d1/x/b", "two", 0);
	put("d2/b", "one", 0);
	put("d2/a", "two", 0);
	/* the same contents, by other names: match as multisets */
	CHECK(evalf(&r, "FileMatch \"%s/d1\" \"%s/d2/\"", root, root) == 0);
	CHECK(metric(&r, "Dataset.*.FileCount") == 4);
	/* ... but not by name */
	CHECK(evalf(&r, "FileMatch \"%s/d1\" \"%s/d2\" with matchFileName = \"true\"", root,
		    root) == 1);
	CHECK(has(r.message, "differ (SHA-256 "));
	/* a second copy on one side only is a difference */
	put("d2/c", "two", 0);
	CHECK(evalf(&r, "FileMatch \"%s/d1\" \"%s/d2\"", root, root) == 1);
	CHECK(has(r.message, "0 in "));
	CHECK(has(r.message, "/d2/c has no identical file in "));

	mkdirs("n1/s");
	mkdirs("n2/s");
	put("n1/s/f", "same", 0);
	put("n2/s/f", "same", 0);
	CHECK(evalf(&r, "FileMatch \"%s/n1\" \"%s/n2/\" with matchFileName = \"true\"", root,
		    root) == 0);
	put("n2/g", "same", 0);
	CHECK(evalf(&r, "FileMatch \"%s/n1\" \"%s/n2\" with matchFileName = \"true\"", root,
		    root) == 1);
	CHECK(has(r.message, "/n2/g has no file of the same name in "));

	/* a missing side */
	CHECK(evalf(&r, "FileMatch \"%s/h1\" \"%s/nope\"", root, root) == 1);
	CHECK(has(r.message, "/nope does not exist"));
}

static void test_match_streaming(void)
{
	/* a file of several read blocks: the streamed digest is the one-shot one */
	size_t n = 300 * 1024 + 7;
	char *buf = malloc(n + 1);
	if (!CHECK(buf != NULL))
		return;
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)('a' + (i * 7919) % 26);
	buf[n] = '\0';
	put("large", buf, 0);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdn = 0;
	CHECK(EVP_Digest(buf, n, md, &mdn, EVP_sha256(), NULL) == 1);
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	for (unsigned i = 0; i < mdn; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	struct ts_dqfile_result r;
	CHECK(evalf(&r, "FileMatch \"%s/large\" in [\"%s\"]", root, hex) == 0);
	free(buf);
}

static void test_uniqueness(void)
{
	struct ts_dqfile_result r;

	mkdirs("u/sub");
	put("u/a", "alpha", 0);
	put("u/b", "beta", 0);
	put("u/c", "gamma", 0);
	CHECK(evalf(&r, "FileUniqueness \"%s/u/\" = 1", root) == 0);
	CHECK(metric(&r, "Dataset.*.FileUniquenessRatio") == 1);
	CHECK(metric(&r, "Dataset.*.FileCount") == 3);
	put("u/sub/a-copy", "alpha", 0);
	CHECK(evalf(&r, "FileUniqueness \"%s/u/\" > 0.9", root) == 1);
	CHECK(metric(&r, "Dataset.*.FileUniquenessRatio") == 0.75);
	CHECK(metric(&r, "Dataset.*.FileCount") == 4);
	CHECK(has(r.message, "uniqueness ratio 0.75 (3 distinct of 4 files) does not satisfy "
			     "the condition; duplicates: "));
	CHECK(has(r.message, "/u/a and "));
	CHECK(has(r.message, "/u/sub/a-copy"));
	CHECK(evalf(&r, "FileUniqueness \"%s/u\" > 0.5", root) == 0);
	/* matchFileName: the same base name is a duplicate too */
	put("u/sub/b", "other", 0);
	CHECK(evalf(&r, "FileUniqueness \"%s/u\" = 0.8", root) == 0);
	CHECK(evalf(&r, "FileUniqueness \"%s/u\" = 0.6 with matchFileName = \"true\"", root) == 0);
	CHECK(metric(&r, "Dataset.*.FileUniquenessRatio") == 0.6);
	/* one file is unique */
	CHECK(evalf(&r, "FileUniqueness \"%s/u/a\" = 1", root) == 0);
}

static void test_walk(void)
{
	struct ts_dqfile_result r;

	/* links: a link to a file counts, a link to a directory is not
	 * entered (a loop here would never end), a fifo is not a data file */
	mkdirs("w/real");
	put("w/real/f", "x", 0);
	put("target", "y", 0);
	CHECK(symlink(at("target"), at("w/link-to-file")) == 0);
	CHECK(symlink(at("w"), at("w/real/loop")) == 0);
	CHECK(mkfifo(at("w/fifo"), 0600) == 0);
	CHECK(evalf(&r, "FileSize \"%s/w\" > 0 B", root) == 0);
	CHECK(metric(&r, "Dataset.*.FileCount") == 2);
	CHECK(evalf(&r, "FileUniqueness \"%s/w\" = 1", root) == 0);

	/* the path given is followed when it is a link, to a file or a directory */
	CHECK(symlink(at("w/real"), at("dirlink")) == 0);
	CHECK(evalf(&r, "FileSize \"%s/dirlink\" = 1 B", root) == 0);
	CHECK(metric(&r, "Dataset.*.FileCount") == 1);
	CHECK(evalf(&r, "FileSize \"%s/w/link-to-file\" = 1 B", root) == 0);

	/* a dangling link inside a directory: cannot say what it is */
	CHECK(symlink(at("gone"), at("w/dangling")) == 0);
	CHECK(evalf(&r, "FileSize \"%s/w\" > 0 B", root) == 2);
	CHECK(has(r.message, "cannot follow the link "));
	CHECK(has(r.message, "/w/dangling"));
	CHECK(r.nmetrics == 0);

	/* a fifo given by name */
	CHECK(evalf(&r, "FileSize \"%s/w/fifo\" > 0 B", root) == 2);
	CHECK(has(r.message, "/w/fifo is not a regular file or a directory"));

	/* unreadable file (root reads everything: skip then) */
	if (geteuid() != 0) {
		put("secret", "s", 0);
		CHECK(chmod(at("secret"), 0) == 0);
		CHECK(evalf(&r, "FileMatch \"%s/secret\" in [\"x\"]", root) == 2);
		CHECK(has(r.message, "cannot open "));
		CHECK(has(r.message, "Permission denied"));
		/* stat alone still works */
		CHECK(evalf(&r, "FileSize \"%s/secret\" = 1 B", root) == 0);
		CHECK(chmod(at("secret"), 0600) == 0);
	}
}

static void test_paths(void)
{
	struct ts_dqfile_result r;

	CHECK(evalf(&r, "FileFreshness \"s3://bucket/tickets/\" > (now() - 1 days)") == 2);
	CHECK_STR(r.message, "s3:// paths are not supported here: give a local path");
	CHECK(r.nmetrics == 0);
	CHECK(evalf(&r, "FileMatch \"S3://PATH1\" \"S3://PATH2\"") == 2);
	CHECK_STR(r.message, "s3:// paths are not supported here: give a local path");
	CHECK(evalf(&r, "FileUniqueness \"gs://b/x\" > 0.9") == 2);
	CHECK_STR(r.message, "gs:// paths are not supported here: give a local path");

	/* a missing path is a FAIL, with no files counted */
	CHECK(evalf(&r, "FileSize \"%s/missing.csv\" < 10 MB", root) == 1);
	CHECK(has(r.message, "/missing.csv does not exist"));
	CHECK(r.nmetrics == 1);
	CHECK(metric(&r, "Dataset.*.FileCount") == 0);
	CHECK(evalf(&r, "FileFreshness \"%s/missing/dir/\" > now()", root) == 1);
	CHECK(evalf(&r, "FileMatch \"%s/missing\" in [\"x\"]", root) == 1);
	CHECK(evalf(&r, "FileUniqueness \"%s/missing\" > 0", root) == 1);
	/* a file used as a directory */
	CHECK(evalf(&r, "FileSize \"%s/hello/x\" < 10 MB", root) == 1);

	/* an empty directory has no files: FAIL */
	mkdirs("empty");
	CHECK(evalf(&r, "FileSize \"%s/empty\" < 10 MB", root) == 1);
	CHECK(has(r.message, "no files in "));
	CHECK(metric(&r, "Dataset.*.FileCount") == 0);
	CHECK(evalf(&r, "FileUniqueness \"%s/empty/\" > 0.5", root) == 1);
	CHECK(evalf(&r, "FileMatch \"%s/empty\" \"%s/hello\"", root, root) == 1);
	CHECK(has(r.message, "no files in "));
}

static void test_filters(void)
{
	struct ts_dqfile_result r;

	mkdirs("fl");
	put("fl/old.csv", "1", -10 * DAY_MS);
	put("fl/new.csv", "2", -DAY_MS);
	put("fl/newest.tmp", "3", 0);
	/* the most recent file only */
	CHECK(evalf(&r, "FileFreshness \"%s/fl\" > (now() - 1 days) with recentFiles = 1",
		    root) == 0);
	CHECK(metric(&r, "Dataset.*.FileCount") == 1);
	CHECK(evalf(&r, "FileFreshness \"%s/fl\" > (now() - 1 days) with recentFiles = 2",
		    root) == 1);
	CHECK(evalf(&r, "FileFreshness \"%s/fl\" >= (now() - 1 days) with recentFiles = 2",
		    root) == 0);
	CHECK(metric(&r, "Dataset.*.FileCount") == 2);
	CHECK(evalf(&r, "FileFreshness \"%s/fl\" >= (now() - 1 days) with recentFiles = 3",
		    root) == 1);
	CHECK(evalf(&r, "FileSize \"%s/fl\" > 0 with recentFiles = \"many\"", root) == 2);
	CHECK(has(r.message, "recentFiles = \"many\""));

	/* uriRegex on the path, then recentFiles (the default order) */
	CHECK(evalf(&r, "FileSize \"%s/fl\" = 1 B with uriRegex = \"\\.csv$\"", root) == 0);
	CHECK(metric(&r, "Dataset.*.FileCount") == 2);
	/* recentFiles first keeps newest.tmp, then the regex drops it: no files */
	CHECK(evalf(&r, "FileSize \"%s/fl\" = 1 B with recentFiles = 1 with uriRegex = "
			"\"\\.csv$\"", root) == 1);
	CHECK(has(r.message, "no files in "));
	CHECK(evalf(&r, "FileSize \"%s/fl\" = 1 B with recentFiles = 1 with uriRegex = "
			"\"\\.csv$\" with filterOrder = \"uriRegex,recentFiles\"", root) == 0);
	CHECK(metric(&r, "Dataset.*.FileCount") == 1);
	CHECK(evalf(&r, "FileSize \"%s/fl\" = 1 B with uriRegex = \"(\"", root) == 2);
	CHECK(has(r.message, "uriRegex \"(\" is not a POSIX extended regular expression"));
}

static void test_inferred(void)
{
	struct ts_dqfile_result r;
	char err[256];
	struct ts_dq_ruleset *rs;
	const char *doc = "Rules = [ FileSize < 5 MB, FileMatch in [\"" HELLO_SHA256 "\"], "
			  "RowCount > 1 ]";

	if (!CHECK(ts_dqdl_parse(doc, strlen(doc), &rs, err, sizeof(err)) == 0)) {
		fprintf(stderr, "    %s\n", err);
		return;
	}
	CHECK(ts_dqfile_eval(rs->rules[0], &env, &r) == 0);
	CHECK(r.outcome == 2);
	CHECK_STR(r.message, "FileSize without a path applies to the input files, and there "
			     "are none here: give a path");

	const char *in[] = {at("hello"), at("h1")};
	CHECK(ts_dqfile_eval_inferred(rs->rules[0], &env, in, 2, &r) == 0);
	CHECK(r.outcome == 0);
	CHECK(metric(&r, "Dataset.*.FileCount") == 2);
	CHECK(ts_dqfile_eval_inferred(rs->rules[1], &env, in, 2, &r) == 0);
	CHECK(r.outcome == 0);
	const char *stdin_only[] = {"-"};
	CHECK(ts_dqfile_eval_inferred(rs->rules[1], &env, stdin_only, 1, &r) == 0);
	CHECK(r.outcome == 2);
	CHECK(has(r.message, "standard input is not a file"));

	/* not a file rule */
	CHECK(ts_dqfile_eval(rs->rules[2], &env, &r) == -1);
	CHECK(r.outcome == 2);
	ts_dqdl_free(rs);

	/* no env: now() is the clock's */
	char buf[600];
	snprintf(buf, sizeof(buf), "Rules = [ FileFreshness \"%s/hello\" < (now() + 1 days) ]",
		 root);
	CHECK(ts_dqdl_parse(buf, strlen(buf), &rs, err, sizeof(err)) == 0);
	CHECK(ts_dqfile_eval(rs->rules[0], NULL, &r) == 0);
	CHECK(r.outcome == 0);
	ts_dqdl_free(rs);
}

static void rm_tree(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", dir, dir);
	CHECK(system(cmd) == 0);
}

int main(void)
{
	ts_progname = "test_dqfile";
	const char *tmp = getenv("TMPDIR");
	snprintf(root, sizeof(root), "%s/dqfile.XXXXXX", tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	test_freshness();
	test_size();
	test_match();
	test_match_streaming();
	test_uniqueness();
	test_walk();
	test_paths();
	test_filters();
	test_inferred();
	rm_tree(root);
	return check_done();
}
