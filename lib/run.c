/* run.c — see run.h. */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "json.h"
#include "reader.h"
#include "util.h"

/*
 * Descriptors 0-2 closed at start would be taken by the first files opened.
 * Fill the holes with /dev/null: read-only for all three, so reading gives
 * an empty input and writing fails with EBADF, reported as a write error
 * (as `cmd >&-` gets from coreutils) instead of vanishing.
 */
static int check_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int nfd = open("/dev/null", O_RDONLY); /* the lowest free: fd */
		if (nfd != fd) {
			if (nfd >= 0)
				close(nfd);
			return -1;
		}
	}
	return 0;
}

void ts_run_init(struct ts_run *run, const char *prog)
{
	int fds_ok = check_fds() == 0;

	signal(SIGPIPE, SIG_IGN);
	memset(run, 0, sizeof(*run));
	run->prog = prog;
	ts_progname = prog;
	ts_out_init(&run->out, 1);
	ts_out_init(&run->errs, 2);
	run->errs.autoflush = 1;
	run->progress = isatty(2);
	run->records_out = -1;
	run->bytes_out = -1;
	run->lim.max_ratio = TS_DEFAULT_MAX_RATIO;
	run->t0 = run->last_progress = ts_now();
	if (!fds_ok)
		run->status = 2;
}

int ts_run_open_errors(struct ts_run *run, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);

	if (fd < 0)
		return ts_error("cannot open error output '%s': %s", path,
				strerror(errno));
	if (run->errs.fd > 2)
		close(run->errs.fd);
	run->errs.fd = fd;
	run->errs.autoflush = 0;
	run->errors_path = path;
	return 0;
}

uint64_t *ts_run_counter(struct ts_run *run, const char *name)
{
	for (int i = 0; i < run->nextra; i++)
		if (strcmp(run->extra[i].name, name) == 0)
			return &run->extra[i].value;
	if (run->nextra == TS_RUN_MAX_EXTRA)
		return &run->extra[TS_RUN_MAX_EXTRA - 1].value;
	run->extra[run->nextra].name = name;
	run->extra[run->nextra].value = 0;
	return &run->extra[run->nextra++].value;
}

static json_t *base64_json(const char *p, size_t n)
{
	struct ts_buf b;
	json_t *s;

	ts_buf_init(&b, 0);
	ts_base64_encode(&b, p, n);
	s = json_stringn(b.data, b.len);
	ts_buf_release(&b);
	return s;
}

/* Text for a record's field: a file name or a message need not be UTF-8
 * (a message cut at its size limit may end inside a character), and
 * json_string() refuses those.  Each byte that is not part of valid UTF-8
 * becomes U+FFFD, so the field is there and readable. */
static json_t *text_json(const char *s)
{
	json_t *j = json_string(s);
	struct ts_buf b;
	size_t n = strlen(s);

	if (j)
		return j;
	ts_buf_init(&b, 0);
	while (n) {
		size_t ok = ts_utf8_valid_prefix(s, n);
		ts_buf_add(&b, s, ok);
		if (ok < n) {
			ts_buf_add(&b, "\xef\xbf\xbd", 3);
			ok++;
		}
		s += ok;
		n -= ok;
	}
	j = json_stringn(b.data, b.len);
	ts_buf_release(&b);
	return j;
}

/* The error record as one JSON line, in b (without the newline). */
static int format_record(struct ts_run *run, const struct ts_rejection *r, struct ts_buf *b)
{
	const struct ts_where *w = r->where;
	json_t *o = json_object();
	char *line;

	json_object_set_new(o, "error", json_string(r->code));
	json_object_set_new(o, "message", text_json(r->message));
	json_object_set_new(o, "program", json_string(run->prog));
	if (w && w->file)
		json_object_set_new(o, "file", text_json(w->file));
	if (w && w->line)
		json_object_set_new(o, "line", json_integer((json_int_t)w->line));
	if (w && w->offset >= 0)
		json_object_set_new(o, "offset", json_integer(w->offset));
	if (w && w->member)
		json_object_set_new(o, "member", json_integer((json_int_t)w->member));
	if (w && w->path)
		json_object_set_new(o, "path", text_json(w->path));
	if (r->extra) {
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)r->extra, k, v)
			json_object_set(o, k, v);
	}
	if (r->raw) {
		json_t *rawv = json_stringn(r->raw, r->rawn);
		if (rawv)
			json_object_set_new(o, "raw", rawv);
		else
			json_object_set_new(o, "raw_base64", base64_json(r->raw, r->rawn));
		if (r->truncated)
			json_object_set_new(o, "truncated", json_true());
	}
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!line)
		return -1;
	ts_buf_reset(b);
	int rc = ts_buf_add(b, line, strlen(line));
	free(line);
	return rc;
}

static void vreject(struct ts_run *run, const void *extra, const char *code,
		    const struct ts_where *w, const char *raw, size_t rawn, int truncated,
		    const char *fmt, va_list ap)
{
	char cause[1024], msg[1400];

	vsnprintf(cause, sizeof(cause), fmt, ap);
	if (w && w->file && w->line)
		snprintf(msg, sizeof(msg), "%s:%llu: %s", w->file,
			 (unsigned long long)w->line, cause);
	else if (w && w->file)
		snprintf(msg, sizeof(msg), "%s: %s", w->file, cause);
	else
		snprintf(msg, sizeof(msg), "%s", cause);
	run->rejected++;
	ts_run_fail(run, 1);

	struct ts_rejection r = {code, msg, w, raw, rawn, truncated, extra};
	if (run->sink && run->sink(run->sink_ctx, &r) == 0)
		return;
	struct ts_buf b;
	ts_buf_init(&b, 0);
	if (format_record(run, &r, &b) == 0) {
		ts_buf_addch(&b, '\n');
		ts_out_write(&run->errs, b.data, b.len);
		run->errs.records++;
		if (run->errs.autoflush)
			ts_out_flush(&run->errs);
	}
	ts_buf_release(&b);
}

void ts_reject(struct ts_run *run, const char *code, const struct ts_where *w,
	       const char *raw, size_t rawn, int truncated, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreject(run, NULL, code, w, raw, rawn, truncated, fmt, ap);
	va_end(ap);
}

void ts_reject_more(struct ts_run *run, const void *extra, const char *code,
		    const struct ts_where *w, const char *raw, size_t rawn, int truncated,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreject(run, extra, code, w, raw, rawn, truncated, fmt, ap);
	va_end(ap);
}

int ts_reject_item(struct ts_run *run, const char *name, const struct ts_reader *rd,
		   const struct ts_item *it)
{
	struct ts_where w = {.file = name, .line = it->line, .offset = -1};

	if (it->kind == TS_ITEM_ERROR) {
		/* a value over several lines: say where the damage is, too */
		if (it->err_line && it->err_line != it->line)
			ts_reject(run, "bad_json", &w, it->v.p, it->v.n, 0, "%s (line %llu)",
				  it->err, (unsigned long long)it->err_line);
		else
			ts_reject(run, "bad_json", &w, it->v.p, it->v.n, 0, "%s", it->err);
		return 1;
	}
	if (it->kind == TS_ITEM_TOO_LARGE) {
		ts_reject(run, "too_large", &w, it->v.p, it->v.n, 1,
			  "record longer than %zu bytes (--max-record)", rd->max_record);
		return 1;
	}
	return 0;
}

void ts_run_progress(struct ts_run *run)
{
	double now;

	if (!run->progress) /* standard error is not a terminal */
		return;
	now = ts_now();
	if (now - run->last_progress < 0.5)
		return;
	run->last_progress = now;
	double el = now - run->t0;
	fprintf(stderr, "\r%s: %llu records in, %llu out, %.1f MB read, %.1f MB/s   ",
		run->prog, (unsigned long long)run->records_in,
		(unsigned long long)(run->records_out >= 0 ? (uint64_t)run->records_out
							   : run->out.records),
		(double)run->bytes_in / 1e6,
		el > 0 ? (double)run->bytes_in / 1e6 / el : 0.0);
	run->progress = 2; /* a progress line is showing */
}

static void print_stats(struct ts_run *run)
{
	json_t *o = json_object();
	char *line;

	json_object_set_new(o, "program", json_string(run->prog));
	json_object_set_new(o, "records_in", json_integer((json_int_t)run->records_in));
	json_object_set_new(o, "records_out",
			    json_integer(run->records_out >= 0 ? (json_int_t)run->records_out
								: (json_int_t)run->out.records));
	json_object_set_new(o, "rejected", json_integer((json_int_t)run->rejected));
	for (int i = 0; i < run->nextra; i++)
		json_object_set_new(o, run->extra[i].name,
				    json_integer((json_int_t)run->extra[i].value));
	json_object_set_new(o, "bytes_in", json_integer((json_int_t)run->bytes_in));
	json_object_set_new(o, "bytes_out",
			    json_integer(run->bytes_out >= 0 ? (json_int_t)run->bytes_out
							       : (json_int_t)run->out.bytes));
	json_object_set_new(o, "elapsed_s",
			    json_real((double)(long)((ts_now() - run->t0) * 1000) / 1000));
	json_object_set_new(o, "status", json_integer(run->status));
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(o);
	if (line) {
		fprintf(stderr, "%s\n", line);
		free(line);
	}
}

int ts_run_finish(struct ts_run *run)
{
	/* --help and --version print through stdio */
	if (fflush(stdout) != 0 && !run->out.err)
		run->out.err = errno;
	if (ts_out_release(&run->out) < 0 || close(1) < 0) {
		int e = run->out.err ? run->out.err : errno;
		/* A reader that went away (head) is not an error of ours. */
		if (e != EPIPE) {
			ts_error("write error on standard output: %s", strerror(e));
			ts_run_fail(run, 2);
		}
	}
	if (ts_out_release(&run->errs) < 0) {
		ts_error("write error on error output%s%s: %s",
			 run->errors_path ? " " : "",
			 run->errors_path ? run->errors_path : "",
			 strerror(run->errs.err));
		ts_run_fail(run, 2);
	}
	if (run->errs.fd > 2 && close(run->errs.fd) < 0) {
		ts_error("write error on error output %s: %s", run->errors_path,
			 strerror(errno));
		ts_run_fail(run, 2);
	}
	if (run->progress == 2)
		fprintf(stderr, "\r\033[K");
	if (run->errors_path && run->rejected)
		ts_warn("%llu record%s rejected, see %s",
			(unsigned long long)run->rejected, run->rejected == 1 ? "" : "s",
			run->errors_path);
	if (run->want_stats)
		print_stats(run);
	return run->status;
}
