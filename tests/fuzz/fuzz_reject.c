/*
 * fuzz_reject.c — error records (ts_reject, run.h), with jansson as the
 * oracle.  The input is the record's raw bytes; its bytes up to a NUL are
 * also the file name, and those after that NUL the message.  The error
 * output, a memory file, then holds exactly one line that jansson reads as
 * an object with the code; the program; the message (as written when it is
 * UTF-8, else at least its UTF-8 start); the file (always there, as given
 * when UTF-8); the line and offset given; "truncated" when asked; and the
 * raw bytes given back exactly: in "raw", or when they are not UTF-8 in
 * "raw_base64" — never both.  The run counts one rejection and its status
 * is at least 1.  With a sink installed (some sizes), the sink is handed
 * the same record, and the error output gets it only when the sink refuses.
 */
#define _GNU_SOURCE /* memfd_create */
#include <jansson.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "codec.h"
#include "fuzz.h"
#include "json.h"
#include "run.h"
#include "util.h"

static int mfd = -1;

static void check_record(const char *line, size_t n, const uint8_t *raw, size_t rawn,
			 const struct ts_where *w, int truncated, const char *msg)
{
	json_error_t err;
	json_t *o, *r, *b;

	FUZZ_CHECK(n > 0 && line[n - 1] == '\n' && memchr(line, '\n', n) == line + n - 1);
	o = json_loadb(line, n - 1, JSON_ALLOW_NUL, &err);
	FUZZ_CHECK(o && json_is_object(o));
	FUZZ_CHECK(!strcmp(json_string_value(json_object_get(o, "error")), "bad_json"));
	FUZZ_CHECK(!strcmp(json_string_value(json_object_get(o, "program")), "ts-fuzz"));
	json_t *m = json_object_get(o, "message"), *mw = json_string(msg);
	FUZZ_CHECK(json_is_string(m) && json_string_length(m) > 0);
	if (mw) {
		FUZZ_CHECK(json_equal(m, mw));
	} else {
		/* what is UTF-8 at its start is kept */
		size_t ok = ts_utf8_valid_prefix(msg, strlen(msg));
		FUZZ_CHECK(json_string_length(m) >= ok);
		FUZZ_CHECK(memcmp(json_string_value(m), msg, ok) == 0);
	}
	json_decref(mw);
	/* where it came from is never dropped */
	json_t *f = json_object_get(o, "file");
	FUZZ_CHECK(json_is_string(f));
	json_t *fw = json_string(w->file);
	if (fw)
		FUZZ_CHECK(json_equal(f, fw));
	json_decref(fw);
	FUZZ_CHECK(json_integer_value(json_object_get(o, "line")) == (json_int_t)w->line);
	if (w->offset >= 0)
		FUZZ_CHECK(json_integer_value(json_object_get(o, "offset")) == w->offset);
	FUZZ_CHECK(json_is_true(json_object_get(o, "truncated")) == truncated);

	r = json_object_get(o, "raw");
	b = json_object_get(o, "raw_base64");
	FUZZ_CHECK((r != NULL) != (b != NULL));
	if (r) {
		FUZZ_CHECK(json_is_string(r) && json_string_length(r) == rawn);
		FUZZ_CHECK(memcmp(json_string_value(r), raw, rawn) == 0);
	} else {
		struct ts_buf d;
		size_t bad;
		FUZZ_CHECK(json_is_string(b));
		ts_buf_init(&d, 0);
		FUZZ_CHECK(ts_base64_decode(&d, json_string_value(b), json_string_length(b),
					    &bad) == 0);
		FUZZ_CHECK(d.len == rawn && memcmp(d.data, raw, rawn) == 0);
		ts_buf_release(&d);
		/* base64 only for bytes that a JSON string cannot hold */
		json_t *s = json_stringn((const char *)raw, rawn);
		FUZZ_CHECK(s == NULL);
	}
	json_decref(o);
}

struct seen {
	const char *msg, *raw;
	size_t rawn;
	int truncated, answer, calls;
};

static int sink(void *ctx, const struct ts_rejection *r)
{
	struct seen *s = ctx;

	s->calls++;
	FUZZ_CHECK(!strcmp(r->code, "bad_json") && !strcmp(r->message, s->msg));
	FUZZ_CHECK(r->raw == s->raw && r->rawn == s->rawn && r->truncated == s->truncated);
	FUZZ_CHECK(r->where != NULL);
	return s->answer;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	char name[128], line[65536 * 2];
	struct ts_run run;
	size_t nn = strnlen(in, size);

	if (size > 16384)
		return 0;
	if (mfd < 0 && (mfd = memfd_create("errors", MFD_CLOEXEC)) < 0)
		return 0;
	FUZZ_CHECK(ftruncate(mfd, 0) == 0 && lseek(mfd, 0, SEEK_SET) == 0);
	memcpy(name, in, nn < sizeof(name) ? nn : sizeof(name) - 1);
	name[nn < sizeof(name) ? nn : sizeof(name) - 1] = '\0';

	const char *prog = ts_progname;
	ts_run_init(&run, "ts-fuzz");
	ts_progname = prog;
	run.errs.fd = mfd;
	run.errs.autoflush = 1;
	struct ts_where w = {.file = name, .line = size + 1,
			     .offset = size & 2 ? (int64_t)size : -1,
			     .path = size & 4 ? ".a.b" : NULL};
	int truncated = (int)(size & 1);
	/* the cause: the bytes after the name's NUL, up to the next, as
	 * ts_reject() keeps it (at most 1023 bytes); the message puts
	 * "file:line: " before it */
	char cause[1024], msg[1400];
	const char *text = nn < size ? in + nn + 1 : in;
	int textn = (int)strnlen(text, size - (size_t)(text - in));
	snprintf(cause, sizeof(cause), "%.*s", textn, text);
	snprintf(msg, sizeof(msg), "%s:%zu: %s", name, size + 1, cause);
	/* a sink sees the same record; when it refuses, the error output
	 * gets it; when it keeps it, the error output gets nothing */
	struct seen seen = {msg, in, size, truncated, size & 16 ? 0 : -1, 0};
	if (size & 24) {
		run.sink = sink;
		run.sink_ctx = &seen;
	}
	ts_reject(&run, "bad_json", &w, in, size, truncated, "%.*s", textn, text);
	FUZZ_CHECK(run.rejected == 1 && run.status >= 1);
	FUZZ_CHECK(seen.calls == (size & 24 ? 1 : 0));
	FUZZ_CHECK(ts_out_release(&run.errs) == 0);

	FUZZ_CHECK(lseek(mfd, 0, SEEK_SET) == 0);
	long n = ts_read_full(mfd, line, sizeof(line));
	if (run.sink && seen.answer == 0) {
		FUZZ_CHECK(n == 0);
		return 0;
	}
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(line));
	check_record(line, (size_t)n, data, size, &w, truncated, msg);
	return 0;
}
