/*
 * fuzz_manifest.c — partition values on their way into paths and back out
 * through the manifest (template.h, partition.h), with jansson as the oracle.
 *
 * The input is a partition key's value: itself when it is one JSON value,
 * else a JSON string holding it (when it is UTF-8).  The prefix
 * "k=!{partitionKeyFromQuery:k}/n=!{partitionKeyFromQuery:n}/" is rendered
 * with it (and n = 42) and one record is written under it in a scratch
 * directory.  Unless rendering refused the value (with a reason), the
 * manifest is exactly one line that jansson reads as an object whose "path"
 * starts with the rendered prefix and names a file holding the record, with
 * "records" 1, "bytes" the file's size, and "partition" giving back k's
 * value (a string's decoded text, or a number's or boolean's JSON text; ""
 * shows as Hive's __HIVE_DEFAULT_PARTITION__, as in the path) and n = "42".
 */
#define _GNU_SOURCE /* memfd_create */
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "partition.h"
#include "template.h"
#include "util.h"

static char root[64];
static int mfd = -1;
static struct ts_template tpl;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	if (f->level > 0)
		remove(path);
	return 0;
}

static void rm_tree_contents(void)
{
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void remove_root(void)
{
	rm_tree_contents();
	rmdir(root);
}

static int setup(void)
{
	char err[256];

	if (mfd >= 0)
		return 0;
	snprintf(root, sizeof(root), "/tmp/fuzz_manifest.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	atexit(remove_root);
	mfd = memfd_create("manifest", MFD_CLOEXEC);
	FUZZ_CHECK(mfd >= 0);
	FUZZ_CHECK(ts_template_parse(&tpl,
				     "k=!{partitionKeyFromQuery:k}/n=!{partitionKeyFromQuery:n}/",
				     0, err, sizeof(err)) == 0);
	return 0;
}

/* What "partition"."k" must say: jansson's reading of the value. */
static json_t *expected_value(struct ts_span v)
{
	json_t *j = json_loadb(v.p, v.n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

	if (!j || json_is_string(j))
		return j; /* NULL: a lone surrogate, or beyond jansson */
	json_decref(j);
	return json_stringn(v.p, v.n);
}

static void check_manifest(const char *line, size_t n, const struct ts_buf *prefix,
			   struct ts_span v, const char *rec, size_t recn)
{
	json_error_t err;
	json_t *m, *part, *k, *want;
	const char *path;
	char full[8192];
	struct stat st;

	FUZZ_CHECK(n > 0 && line[n - 1] == '\n' && memchr(line, '\n', n) == line + n - 1);
	m = json_loadb(line, n - 1, JSON_ALLOW_NUL, &err);
	FUZZ_CHECK(m && json_is_object(m));
	path = json_string_value(json_object_get(m, "path"));
	FUZZ_CHECK(path && strncmp(path, prefix->data, prefix->len) == 0);
	FUZZ_CHECK(!strchr(path + prefix->len, '/'));
	FUZZ_CHECK(json_integer_value(json_object_get(m, "records")) == 1);
	FUZZ_CHECK(json_integer_value(json_object_get(m, "bytes")) == (json_int_t)recn + 1);

	/* the file holds the record */
	snprintf(full, sizeof(full), "%s/%s", root, path);
	FUZZ_CHECK(lstat(full, &st) == 0 && S_ISREG(st.st_mode));
	FUZZ_CHECK(st.st_size == (off_t)recn + 1);
	char got[64];
	int fd = open(full, O_RDONLY | O_CLOEXEC);
	FUZZ_CHECK(fd >= 0 && ts_read_full(fd, got, sizeof(got)) == (long)recn + 1);
	FUZZ_CHECK(memcmp(got, rec, recn) == 0 && got[recn] == '\n');
	close(fd);

	part = json_object_get(m, "partition");
	FUZZ_CHECK(part && json_is_object(part) && json_object_size(part) == 2);
	const char *nv = json_string_value(json_object_get(part, "n"));
	FUZZ_CHECK(nv && strcmp(nv, "42") == 0);
	k = json_object_get(part, "k");
	FUZZ_CHECK(k && json_is_string(k));
	if ((want = expected_value(v)) != NULL) {
		/* "" is written as Hive's default partition, and so described */
		if (json_string_length(want) == 0 &&
		    !strcmp(json_string_value(k), "__HIVE_DEFAULT_PARTITION__")) {
			json_decref(want);
			want = json_incref(k);
		}
		if (!json_equal(k, want)) {
			fprintf(stderr, "manifest says k = \"%s\" (%zu bytes), the value was %.*s\n",
				json_string_value(k), json_string_length(k), (int)v.n, v.p);
			FUZZ_CHECK(!"the manifest gives the value back");
		}
		json_decref(want);
	}
	json_decref(m);
}

static void run(struct ts_span v)
{
	static const char rec[] = "{\"i\":1}";
	char *names[] = {(char *)"k", (char *)"n"};
	struct ts_span vals[2] = {v, {"42", 2}};
	struct ts_tz tz = {0};
	struct ts_tpl_env env = {.tz = &tz, .nkeys = 2, .names = names, .vals = vals,
				 .errtype = "processing-failed", .max_len = 1024};
	struct ts_tpl_render r;
	struct ts_buf prefix;
	struct ts_out man;
	const char *code = NULL;

	FUZZ_CHECK(ts_tpl_render_init(&r, &tpl) == 0);
	ts_buf_init(&prefix, 0);
	if (ts_template_render(&tpl, &r, &env, 0, &prefix, &code) < 0) {
		FUZZ_CHECK(code && code[0]);
		goto out;
	}
	FUZZ_CHECK(ftruncate(mfd, 0) == 0 && lseek(mfd, 0, SEEK_SET) == 0);
	ts_out_init(&man, mfd);
	struct ts_part_opts o = {.dir = root, .name = "fz", .max_open = 2048,
				 .manifest = &man};
	struct ts_partitioner *p = ts_part_new(&o);
	FUZZ_CHECK(p != NULL);
	int w = ts_part_write(p, prefix.data, prefix.len, rec, sizeof(rec) - 1, 0, 0, 0);
	if (w != 0)
		fprintf(stderr, "write: %s\n", ts_part_error(p));
	FUZZ_CHECK(w == 0);
	FUZZ_CHECK(ts_part_close_all(p) == 0);
	ts_part_free(p);
	FUZZ_CHECK(ts_out_release(&man) == 0);

	char line[8192];
	FUZZ_CHECK(lseek(mfd, 0, SEEK_SET) == 0);
	long n = ts_read_full(mfd, line, sizeof(line));
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(line));
	check_manifest(line, (size_t)n, &prefix, v, rec, sizeof(rec) - 1);
	rm_tree_contents();
out:
	ts_buf_release(&prefix);
	ts_tpl_render_release(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct ts_json_scan sc;
	struct ts_buf q;

	if (size > 600 || setup() < 0)
		return 0;
	/* the input as the value, when it is one scalar JSON value */
	if (size && in[0] != '{' && in[0] != '[' && in[0] != 'n' &&
	    ts_json_scan(in, in + size, 1, 0, &sc) == TS_JSON_OK && sc.end == in + size)
		run((struct ts_span){in, size});
	/* the input inside a JSON string */
	ts_buf_init(&q, 0);
	if (ts_json_escape(&q, in, size) == 0)
		run((struct ts_span){q.data, q.len});
	ts_buf_release(&q);
	return 0;
}
