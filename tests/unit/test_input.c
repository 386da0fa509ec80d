/*
 * test_input.c — lib/input.h: the loop over inputs every program shares.
 * Inputs are temporary files: plain NDJSON with bad lines, a multi-member
 * gzip file with a damaged member in the middle, a file that does not exist.
 * The callback sees only good values; everything else is one error record,
 * counted once, and the counts add up.
 */
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "input.h"
#include "zbytes.h"

static char dir[4096];

static const char *path_in(const char *name)
{
	static char p[2][8192];
	static int i;

	i = !i;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static void put(const char *name, const char *p, size_t n)
{
	int fd = open(path_in(name), O_WRONLY | O_CREAT | O_TRUNC, 0644);

	CHECK(fd >= 0 && write(fd, p, n) == (ssize_t)n);
	close(fd);
}

struct seen {
	struct ts_buf vals; /* the values, one per line */
	int n, stop_after;
};

static int on_value(void *ud, struct ts_input *in, const struct ts_item *it)
{
	struct seen *s = ud;

	CHECK(it->kind == TS_ITEM_VALUE);
	CHECK(in->name != NULL);
	ts_buf_add(&s->vals, it->v.p, it->v.n);
	ts_buf_addch(&s->vals, '\n');
	s->n++;
	return s->stop_after && s->n >= s->stop_after ? -1 : 0;
}

/* The error records written to fd, as a JSON array. */
static json_t *records(int fd)
{
	char buf[1 << 16];
	json_t *a = json_array();
	ssize_t n;
	size_t len = 0;

	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		json_array_append_new(a, json_loads(line, 0, NULL));
	return a;
}

static const char *field(json_t *a, size_t i, const char *k)
{
	return json_string_value(json_object_get(json_array_get(a, i), k));
}

static void run_files(const char *const *names, struct seen *s, struct ts_run *run,
		      json_t **errs)
{
	char *files[8] = {0};
	char errpath[8192];
	struct ts_input in;

	for (int i = 0; names[i]; i++)
		files[i] = strdup(path_in(names[i]));
	snprintf(errpath, sizeof(errpath), "%s", path_in("errs"));
	unlink(errpath);
	ts_run_init(run, "ts-test");
	CHECK(ts_run_open_errors(run, errpath) == 0);
	ts_buf_init(&s->vals, 0);
	ts_input_init(&in, run);
	ts_input_run(&in, files, on_value, s);
	ts_input_release(&in);
	for (int i = 0; files[i]; i++)
		free(files[i]);
	ts_out_flush(&run->errs);
	int fd = open(errpath, O_RDONLY);
	*errs = records(fd);
	close(fd);
	ts_out_release(&run->errs);
	close(run->errs.fd);
	ts_out_release(&run->out);
}

static void test_plain(void)
{
	static const char text[] = "{\"a\":1}\nnot json\r\n{\"b\":2}\n";
	const char *names[] = {"plain.json", NULL};
	struct seen s = {0};
	struct ts_run run;
	json_t *e;

	put("plain.json", text, sizeof(text) - 1);
	run_files(names, &s, &run, &e);
	CHECK_MEM(s.vals.data, s.vals.len, "{\"a\":1}\n{\"b\":2}\n", 16);
	CHECK(run.records_in == 3 && run.rejected == 1 && run.status == 1);
	CHECK(json_array_size(e) == 1);
	CHECK_STR(field(e, 0, "error"), "bad_json");
	CHECK_STR(field(e, 0, "raw"), "not json\r"); /* the bytes, CR and all */
	CHECK(strncmp(field(e, 0, "message"), path_in("plain.json"), strlen(path_in("plain.json"))) == 0);
	CHECK(run.bytes_in == sizeof(text) - 1);
	json_decref(e);
	ts_buf_release(&s.vals);
}

/* Ten gzip members, one record each; the fourth is damaged in its deflate
 * data.  The nine others come out, the fourth is one corrupt_input record
 * with its member number and its compressed bytes. */
static void test_gzip_damage(void)
{
	const char *names[] = {"ten.gz", NULL};
	struct ts_buf gz, want;
	size_t start4 = 0, end4 = 0;
	struct seen s = {0};
	struct ts_run run;
	json_t *e;

	ts_buf_init(&gz, 0);
	ts_buf_init(&want, 0);
	for (int i = 1; i <= 10; i++) {
		char rec[128];
		int n = snprintf(rec, sizeof(rec), "{\"n\":%d,\"pad\":\"%0100d\"}\n", i, i);
		if (i == 4)
			start4 = gz.len;
		zbytes(&gz, rec, (size_t)n, Z_GZIP, 6);
		if (i == 4)
			end4 = gz.len;
		else
			ts_buf_add(&want, rec, (size_t)n);
	}
	for (size_t k = start4 + 12; k < start4 + 20; k++)
		gz.data[k] ^= 0x55;
	put("ten.gz", gz.data, gz.len);
	run_files(names, &s, &run, &e);
	CHECK_MEM(s.vals.data, s.vals.len, want.data, want.len);
	CHECK(run.records_in == 10 && run.rejected == 1 && s.n == 9);
	if (CHECK(json_array_size(e) == 1)) {
		json_t *r = json_array_get(e, 0);
		CHECK_STR(field(e, 0, "error"), "corrupt_input");
		CHECK(json_integer_value(json_object_get(r, "member")) == 4);
		CHECK(json_integer_value(json_object_get(r, "offset")) == (json_int_t)start4);
		const char *b64 = field(e, 0, "raw_base64");
		struct ts_buf raw;
		size_t bad;
		ts_buf_init(&raw, 0);
		if (CHECK(b64) && CHECK(ts_base64_decode(&raw, b64, strlen(b64), &bad) == 0))
			CHECK_MEM(raw.data, raw.len, gz.data + start4, end4 - start4);
		ts_buf_release(&raw);
	}
	CHECK(run.bytes_in == gz.len);
	json_decref(e);
	ts_buf_release(&s.vals);
	ts_buf_release(&gz);
	ts_buf_release(&want);
}

/* A file that cannot be opened is trouble (2), and the next one is read;
 * a callback that says stop stops every input. */
static void test_missing_and_stop(void)
{
	const char *names[] = {"nope.json", "plain.json", "plain.json", NULL};
	struct seen s = {.stop_after = 1};
	struct ts_run run;
	json_t *e;
	int saved = dup(2), null = open("/dev/null", O_WRONLY);

	dup2(null, 2); /* the "cannot open" message */
	run_files(names, &s, &run, &e);
	dup2(saved, 2);
	close(saved);
	close(null);
	CHECK(run.status == 2);
	CHECK(s.n == 1);
	CHECK(run.records_in == 1);
	json_decref(e);
	ts_buf_release(&s.vals);
}

int main(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/ts-input-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(dir))
		return 1;
	test_plain();
	test_gzip_damage();
	test_missing_and_stop();
	unlink(path_in("plain.json"));
	unlink(path_in("ten.gz"));
	unlink(path_in("errs"));
	rmdir(dir);
	return check_done();
}
