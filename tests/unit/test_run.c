/* test_run.c — lib/run.h: error records, exit status, counters, finish. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "codec.h"
#include "run.h"

static char dir[4096];

static int make_dir(void)
{
	const char *d = getenv("TMPDIR");

	if ((size_t)snprintf(dir, sizeof(dir), "%s/ts-run-XXXXXX", d && *d ? d : "/tmp") >=
	    sizeof(dir))
		return -1;
	return mkdtemp(dir) ? 0 : -1;
}

/* The test directory holds only plain files. */
static void remove_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[8192];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, "..")))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static const char *in_dir(const char *name)
{
	static char p[8192];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

/* A file's contents, NUL-terminated (malloc'd). */
static char *slurp(const char *path, size_t *n)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	char *p = NULL;

	*n = 0;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && (p = malloc((size_t)st.st_size + 1)) != NULL) {
		ssize_t r = read(fd, p, (size_t)st.st_size);
		*n = r > 0 ? (size_t)r : 0;
		p[*n] = '\0';
	}
	close(fd);
	return p;
}

/* Split into lines (modifies s). */
static int lines(char *s, char **out, int max)
{
	int n = 0;

	while (*s && n < max) {
		char *nl = strchr(s, '\n');
		out[n++] = s;
		if (!nl)
			break;
		*nl = '\0';
		s = nl + 1;
	}
	return n;
}

static int keys_are(json_t *o, const char *const *want)
{
	const char *k;
	json_t *v;
	int i = 0;

	json_object_foreach(o, k, v) {
		(void)v;
		if (!want[i] || strcmp(k, want[i]) != 0)
			return 0;
		i++;
	}
	return want[i] == NULL;
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void test_init(void)
{
	struct ts_run run;

	ts_run_init(&run, "ts-test");
	CHECK_STR(run.prog, "ts-test");
	CHECK(run.status == 0);
	CHECK(run.out.fd == 1 && run.errs.fd == 2);
	CHECK(run.errs.autoflush == 1);
	CHECK(run.records_out == -1);
	CHECK(run.rejected == 0 && run.nextra == 0);
	CHECK(run.errors_path == NULL);
	ts_out_release(&run.out);
	ts_out_release(&run.errs);
}

static void test_fail(void)
{
	struct ts_run run;

	ts_run_init(&run, "ts-test");
	ts_run_fail(&run, 1);
	CHECK(run.status == 1);
	ts_run_fail(&run, 0);
	CHECK(run.status == 1);
	ts_run_fail(&run, 2);
	CHECK(run.status == 2);
	ts_run_fail(&run, 1);
	CHECK(run.status == 2);
}

static void test_counter(void)
{
	struct ts_run run;
	uint64_t *a, *b, *c[TS_RUN_MAX_EXTRA];
	char names[TS_RUN_MAX_EXTRA + 2][16];
	int distinct = 1;

	ts_run_init(&run, "ts-test");
	a = ts_run_counter(&run, "dropped");
	CHECK(a && *a == 0);
	(*a)++;
	b = ts_run_counter(&run, "files");
	CHECK(b && b != a && *b == 0);
	*b = 7;
	CHECK(ts_run_counter(&run, "dropped") == a);
	CHECK(*ts_run_counter(&run, "dropped") == 1);
	CHECK(*ts_run_counter(&run, "files") == 7);
	CHECK(run.nextra == 2);
	CHECK_STR(run.extra[0].name, "dropped");
	CHECK_STR(run.extra[1].name, "files");

	/* a name equal in content but not in pointer is the same counter */
	char copy[] = "dropped";
	CHECK(ts_run_counter(&run, copy) == a);

	/* past the limit: never out of bounds, the last slot is reused */
	ts_run_init(&run, "ts-test");
	for (int i = 0; i < TS_RUN_MAX_EXTRA; i++) {
		snprintf(names[i], sizeof(names[i]), "c%d", i);
		c[i] = ts_run_counter(&run, names[i]);
		for (int j = 0; j < i; j++)
			if (c[j] == c[i])
				distinct = 0;
	}
	CHECK(distinct);
	CHECK(run.nextra == TS_RUN_MAX_EXTRA);
	snprintf(names[TS_RUN_MAX_EXTRA], sizeof(names[0]), "overflow");
	CHECK(ts_run_counter(&run, names[TS_RUN_MAX_EXTRA]) == c[TS_RUN_MAX_EXTRA - 1]);
	CHECK(run.nextra == TS_RUN_MAX_EXTRA);
}

static void test_reject(void)
{
	struct ts_run run;
	const char *path = "errs.ndjson";
	char errs[8192];
	char *text, *ln[16];
	size_t n;
	int nl, fd;
	json_error_t jerr;

	snprintf(errs, sizeof(errs), "%s", in_dir(path));
	/* --errors appends */
	fd = open(errs, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (!CHECK(fd >= 0))
		return;
	CHECK(write(fd, "{\"old\":1}\n", 10) == 10);
	close(fd);

	ts_run_init(&run, "ts-test");
	if (!CHECK(ts_run_open_errors(&run, errs) == 0))
		return;
	CHECK(run.errs.fd > 2);
	CHECK(run.errs.autoflush == 0);
	CHECK_STR(run.errors_path, errs);
	CHECK(fcntl(run.errs.fd, F_GETFD) & FD_CLOEXEC);

	/* 1: everything known */
	struct ts_where w = {.file = "in.json", .line = 17, .offset = 1234, .path = "$.a.b", .member = 3};
	ts_reject(&run, "bad_json", &w, "{\"a\":\"\xc3\xa9\"", 9, 0, "expected %s at %d",
		  "'}'", 9);
	CHECK(run.status == 1);
	CHECK(run.rejected == 1);
	CHECK(run.errs.records == 1);

	/* 2: bytes that are not UTF-8, truncated */
	static const char bin[] = "ab\xff\xfe\x00\x80z";
	struct ts_where w2 = {.file = "<stdin>", .offset = -1};
	ts_reject(&run, "too_large", &w2, bin, sizeof(bin) - 1, 1, "record over %d bytes",
		  8);
	CHECK(run.rejected == 2 && run.status == 1);

	/* 3: no where, no raw */
	ts_reject(&run, "oops", NULL, NULL, 0, 1, "plain");

	/* 4: raw with a NUL, valid UTF-8: "raw" keeps it; the status never
	 * falls from 2 */
	ts_run_fail(&run, 2);
	struct ts_where w4 = {.line = 3, .offset = 0};
	ts_reject(&run, "nul", &w4, "a\0b", 3, 0, "%s", "with a NUL");
	CHECK(run.status == 2);
	CHECK(run.rejected == 4);
	CHECK(run.errs.records == 4);

	/* a message that is not UTF-8 still makes a valid record */
	ts_reject(&run, "badmsg", NULL, "x", 1, 0, "bad \xff byte");
	CHECK(run.status == 2);

	CHECK(ts_out_flush(&run.errs) == 0);
	text = slurp(errs, &n);
	if (!CHECK(text))
		goto out;
	CHECK(n > 0 && text[n - 1] == '\n');
	nl = lines(text, ln, 16);
	if (!CHECK(nl == 6))
		goto out;
	CHECK_STR(ln[0], "{\"old\":1}");

	json_t *o = json_loads(ln[1], 0, &jerr);
	if (CHECK(json_is_object(o))) {
		static const char *const k[] = {"error", "message", "program", "file", "line",
						"offset", "member", "path", "raw", NULL};
		CHECK(keys_are(o, k));
		CHECK_STR(str(o, "error"), "bad_json");
		/* the message says where: file:line, from the ts_where */
		CHECK_STR(str(o, "message"), "in.json:17: expected '}' at 9");
		CHECK(json_integer_value(json_object_get(o, "member")) == 3);
		CHECK_STR(str(o, "program"), "ts-test");
		CHECK_STR(str(o, "file"), "in.json");
		CHECK(json_integer_value(json_object_get(o, "line")) == 17);
		CHECK(json_integer_value(json_object_get(o, "offset")) == 1234);
		CHECK_STR(str(o, "path"), "$.a.b");
		CHECK_STR(str(o, "raw"), "{\"a\":\"\xc3\xa9\"");
	}
	json_decref(o);

	o = json_loads(ln[2], 0, &jerr);
	if (CHECK(json_is_object(o))) {
		static const char *const k[] = {"error", "message", "program", "file",
						"raw_base64", "truncated", NULL};
		CHECK(keys_are(o, k));
		CHECK_STR(str(o, "error"), "too_large");
		CHECK_STR(str(o, "message"), "<stdin>: record over 8 bytes");
		CHECK_STR(str(o, "file"), "<stdin>");
		CHECK(json_is_true(json_object_get(o, "truncated")));
		const char *b64 = str(o, "raw_base64");
		struct ts_buf dec;
		size_t bad = 0;
		ts_buf_init(&dec, 0);
		if (CHECK(b64) && CHECK(ts_base64_decode(&dec, b64, strlen(b64), &bad) == 0))
			CHECK_MEM(dec.data, dec.len, bin, sizeof(bin) - 1);
		ts_buf_release(&dec);
	}
	json_decref(o);

	o = json_loads(ln[3], 0, &jerr);
	if (CHECK(json_is_object(o))) {
		static const char *const k[] = {"error", "message", "program", NULL};
		CHECK(keys_are(o, k)); /* no raw: no "truncated" either */
		CHECK_STR(str(o, "message"), "plain");
	}
	json_decref(o);

	o = json_loads(ln[4], JSON_ALLOW_NUL, &jerr);
	if (CHECK(json_is_object(o))) {
		static const char *const k[] = {"error", "message", "program", "line",
						"offset", "raw", NULL};
		CHECK(keys_are(o, k));
		CHECK(json_integer_value(json_object_get(o, "offset")) == 0);
		json_t *raw = json_object_get(o, "raw");
		CHECK_MEM(json_string_value(raw), json_string_length(raw), "a\0b", 3);
	}
	json_decref(o);

	o = json_loads(ln[5], 0, &jerr);
	if (CHECK(json_is_object(o))) {
		CHECK_STR(str(o, "error"), "badmsg");
		CHECK(str(o, "message") != NULL);
		CHECK_STR(str(o, "raw"), "x");
	}
	json_decref(o);
out:
	free(text);
	ts_out_release(&run.errs);
	close(run.errs.fd);
}

/* A sink that keeps records whose code is "keep" and refuses the others. */
static int sink_calls;
static int test_sink(void *ctx, const struct ts_rejection *r)
{
	(void)ctx;
	sink_calls++;
	CHECK(r->where && r->where->line == 5);
	CHECK_STR(r->message, "f:5: why");
	CHECK(r->raw && r->rawn == 3);
	return strcmp(r->code, "keep") == 0 ? 0 : -1;
}

/* One sink: what it keeps is not in the error output, what it refuses is;
 * each is counted once. */
static void test_sink_once(void)
{
	struct ts_run run;
	char errs[8192];
	size_t n;

	snprintf(errs, sizeof(errs), "%s", in_dir("sink.ndjson"));
	unlink(errs);
	ts_run_init(&run, "ts-test");
	if (!CHECK(ts_run_open_errors(&run, errs) == 0))
		return;
	run.sink = test_sink;
	struct ts_where w = {.file = "f", .line = 5, .offset = -1};
	ts_reject(&run, "keep", &w, "abc", 3, 0, "why");
	ts_reject(&run, "refused", &w, "abc", 3, 0, "why");
	CHECK(sink_calls == 2);
	CHECK(run.rejected == 2);
	CHECK(run.errs.records == 1);
	CHECK(ts_out_flush(&run.errs) == 0);
	char *text = slurp(errs, &n);
	CHECK(text && strstr(text, "\"refused\"") && !strstr(text, "\"keep\""));
	free(text);
	ts_out_release(&run.errs);
	close(run.errs.fd);
}

static void test_open_errors_fails(void)
{
	struct ts_run run;
	int saved = dup(2), null = open("/dev/null", O_WRONLY);

	ts_run_init(&run, "ts-test");
	dup2(null, 2);
	CHECK(ts_run_open_errors(&run, in_dir("no/such/dir/errs")) == -1);
	dup2(saved, 2);
	close(saved);
	close(null);
	CHECK(run.errs.fd == 2);
	CHECK(run.errors_path == NULL);
}

/*
 * Run ts_run_finish with fd 1 on out_fd and fd 2 on a file (closes: fd 1
 * must be closed after); returns its status, and what went to standard error.
 */
static int finish_with(struct ts_run *run, int out_fd, int closes, char **err_text)
{
	int saved1, saved2, efd, rc;
	size_t n;

	fflush(stdout);
	fflush(stderr);
	saved1 = dup(1);
	saved2 = dup(2);
	efd = open(in_dir("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(out_fd, 1);
	dup2(efd, 2);
	close(efd);
	rc = ts_run_finish(run);
	/* fd 1 was closed by ts_run_finish (to see a close error), unless a
	 * write had already failed */
	int closed = fcntl(1, F_GETFD) == -1 && errno == EBADF;
	fflush(stderr);
	dup2(saved1, 1);
	dup2(saved2, 2);
	close(saved1);
	close(saved2);
	*err_text = slurp(in_dir("stderr"), &n);
	if (closes)
		CHECK(closed);
	return rc;
}

static void test_finish(void)
{
	struct ts_run run;
	char *err = NULL, *text;
	size_t n;
	int ofd, errs_fd;
	json_error_t jerr;
	char errs_path[8192];

	/* a clean run: status 0, output flushed, stdio first */
	ofd = open(in_dir("stdout"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (!CHECK(ofd >= 0))
		return;
	ts_run_init(&run, "ts-test");
	run.progress = 0;
	ts_buf_addstr(&run.out.buf, "{\"r\":1}");
	ts_out_end_record(&run.out);
	ts_buf_addstr(&run.out.buf, "{\"r\":2}");
	ts_out_end_record(&run.out);
	CHECK(finish_with(&run, ofd, 1, &err) == 0);
	CHECK_STR(err, "");
	free(err);
	close(ofd);
	text = slurp(in_dir("stdout"), &n);
	CHECK_MEM(text, n, "{\"r\":1}\n{\"r\":2}\n", 16);
	free(text);

	/* rejections, --errors, --stats: status 1, a warning, one stats line */
	ofd = open(in_dir("stdout"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	ts_run_init(&run, "ts-test");
	run.progress = 0;
	run.want_stats = 1;
	snprintf(errs_path, sizeof(errs_path), "%s", in_dir("finish-errs"));
	if (!CHECK(ts_run_open_errors(&run, errs_path) == 0))
		return;
	errs_fd = run.errs.fd;
	run.records_in = 5;
	run.bytes_in = 100;
	*ts_run_counter(&run, "dropped") = 3;
	ts_buf_addstr(&run.out.buf, "{}");
	ts_out_end_record(&run.out);
	ts_reject(&run, "bad", NULL, "x", 1, 0, "no");
	ts_reject(&run, "bad", NULL, "y", 1, 0, "no");
	CHECK(finish_with(&run, ofd, 1, &err) == 1);
	/* the error output's fd is closed */
	CHECK(fcntl(errs_fd, F_GETFD) == -1);
	close(ofd);
	text = slurp(errs_path, &n);
	CHECK(text && n > 0 && strchr(text, '\n') != strrchr(text, '\n'));
	free(text);
	if (CHECK(err)) {
		char *ln[4];
		int nl = lines(err, ln, 4);
		if (CHECK(nl == 2)) {
			CHECK(strstr(ln[0], "2 records rejected") != NULL);
			CHECK(strstr(ln[0], "finish-errs") != NULL);
			json_t *o = json_loads(ln[1], 0, &jerr);
			if (CHECK(json_is_object(o))) {
				CHECK_STR(str(o, "program"), "ts-test");
				CHECK(json_integer_value(json_object_get(o, "records_in")) == 5);
				CHECK(json_integer_value(json_object_get(o, "records_out")) == 1);
				CHECK(json_integer_value(json_object_get(o, "rejected")) == 2);
				CHECK(json_integer_value(json_object_get(o, "dropped")) == 3);
				CHECK(json_integer_value(json_object_get(o, "bytes_in")) == 100);
				CHECK(json_integer_value(json_object_get(o, "bytes_out")) == 3);
				CHECK(json_integer_value(json_object_get(o, "status")) == 1);
				CHECK(json_is_number(json_object_get(o, "elapsed_s")));
			}
			json_decref(o);
		}
	}
	free(err);

	/* standard output unwritable: status 2 and a message */
	ofd = open("/dev/full", O_WRONLY);
	if (ofd >= 0) {
		ts_run_init(&run, "ts-test");
		run.progress = 0;
		ts_buf_addstr(&run.out.buf, "{}");
		ts_out_end_record(&run.out);
		ts_run_fail(&run, 1);
		CHECK(finish_with(&run, ofd, 0, &err) == 2);
		CHECK(err && strstr(err, "write error on standard output") != NULL);
		free(err);
		close(ofd);
	}

	/* a reader that went away is not trouble */
	int pfd[2];
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	if (CHECK(pipe(pfd) == 0)) {
		close(pfd[0]);
		ts_run_init(&run, "ts-test");
		run.progress = 0;
		ts_buf_addstr(&run.out.buf, "{}");
		ts_out_end_record(&run.out);
		CHECK(finish_with(&run, pfd[1], 0, &err) == 0);
		CHECK_STR(err, "");
		free(err);
		close(pfd[1]);
	}
	signal(SIGPIPE, old);
}

int main(void)
{
	if (make_dir() < 0) {
		perror("mkdtemp");
		return 1;
	}
	test_init();
	test_fail();
	test_counter();
	test_reject();
	test_sink_once();
	test_open_errors_fails();
	test_finish();
	remove_dir();
	return check_done();
}
