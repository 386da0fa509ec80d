/*
 * run.h — one program run: its output, its error output, its counters and
 * its exit status.  Every cmd/ program has one struct ts_run and follows the
 * same shape:
 *
 *	ts_run_init(&run, "ts-foo");
 *	parse options (opt.h) → process inputs → return ts_run_finish(&run);
 *
 * ts_run_init() first makes sure descriptors 0, 1 and 2 are open (a program
 * started with `>&-` would otherwise write its error records, or a data file,
 * to whatever it opens first), and ignores SIGPIPE: a reader that went away
 * is EPIPE in run.out.err, which ends the run quietly (exit status as it was).
 *
 * Exit status (ts-toolkit(7)): 0 all went through; 1 the data said no (records
 * rejected); 2 trouble (usage, unreadable input, unwritable output).  The
 * status only ever rises: ts_run_fail(2) after a rejection keeps 2.
 *
 * Error records: ts_reject() writes one NDJSON line to the error output
 * (--errors FILE, appended, or standard error):
 *
 *	{"error":"bad_json","message":"...","program":"ts-extract",
 *	 "file":"in.json","line":17,"raw":"<the original bytes>"}
 *
 * "raw" holds the original bytes exactly; bytes that are not UTF-8 go to
 * "raw_base64" instead.  "truncated":true marks a raw prefix (a record over
 * the size limit).  "offset", "member" and "path" appear when known.  The
 * message starts with "file:line: " built from the ts_where, so callers give
 * only the cause.
 *
 * One sink: a program that keeps rejected records elsewhere (ts-partition's
 * --error-prefix) installs run.sink; ts_reject() hands it every record and
 * falls back to the error output only when the sink refuses one.  Either way
 * the record is counted once.
 */
#ifndef TS_RUN_H
#define TS_RUN_H

#include <stdint.h>

#include "codec.h"
#include "out.h"

#define TS_RUN_MAX_EXTRA 8

struct ts_where {
	const char *file;  /* input name, "<stdin>", or a destination */
	uint64_t line;     /* 0 = unknown */
	int64_t offset;    /* byte offset, -1 = unknown */
	const char *path;  /* the JSON path involved, or NULL */
	uint64_t member;   /* gzip member number (1-based), 0 = not one */
};

/* One rejected record, as handed to a sink. */
struct ts_rejection {
	const char *code;
	const char *message; /* with the "file:line: " prefix */
	const struct ts_where *where; /* may be NULL */
	const char *raw;     /* NULL: no original bytes */
	size_t rawn;
	int truncated;
	const void *extra;   /* more members (a jansson json_t object), or NULL */
};
/* 0: the sink kept the record; -1: it could not (it says why itself), and
 * the record goes to the error output instead. */
typedef int (*ts_sink_fn)(void *ctx, const struct ts_rejection *r);

struct ts_run {
	const char *prog;
	struct ts_out out;  /* standard output */
	struct ts_out errs; /* error records */
	const char *errors_path;
	ts_sink_fn sink;    /* NULL: the error output */
	void *sink_ctx;
	int want_stats;
	int progress;       /* standard error is a terminal */
	int status;
	size_t max_record;  /* --max-record (0 = default) */
	int max_depth;      /* --max-depth (0 = default) */
	struct ts_limits lim; /* --max-size, --max-ratio: decompression */
	const char *s3_endpoint; /* --endpoint: S3-compatible store of s3:// */

	uint64_t records_in;
	int64_t records_out; /* -1: the lines on standard output */
	uint64_t rejected;
	uint64_t bytes_in;
	int64_t bytes_out;   /* -1: the bytes written to standard output */
	struct {
		const char *name;
		uint64_t value;
	} extra[TS_RUN_MAX_EXTRA];
	int nextra;

	uint64_t ticks;
	double t0, last_progress;
};

void ts_run_init(struct ts_run *run, const char *prog);
/* Open --errors FILE (append).  -1 after reporting. */
int ts_run_open_errors(struct ts_run *run, const char *path);
/* Raise the exit status to at least status. */
static inline void ts_run_fail(struct ts_run *run, int status)
{
	if (run->status < status)
		run->status = status;
}
/* A named counter shown in --stats (e.g. "dropped"); returns a pointer to it. */
uint64_t *ts_run_counter(struct ts_run *run, const char *name);

/* Write an error record (to the sink, else the error output) and count the
 * rejection once (status >= 1).  fmt is the cause; the message gets the
 * "file:line: " of w in front. */
void ts_reject(struct ts_run *run, const char *code, const struct ts_where *w,
	       const char *raw, size_t rawn, int truncated, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/* The same with more members after "path" (ts-put: "destination",
 * "attempts", "status", "errorCode", ...): extra is a jansson object
 * (json_t *), borrowed; its members come before "raw". */
void ts_reject_more(struct ts_run *run, const void *extra, const char *code,
		    const struct ts_where *w, const char *raw, size_t rawn, int truncated,
		    const char *fmt, ...) __attribute__((format(printf, 8, 9)));
/* The reader's malformed (bad_json) or oversized (too_large) item from
 * input name, as an error record; 1 when it was one of those, 0 otherwise.
 * (input.h calls it for every program's inputs.) */
struct ts_reader;
struct ts_item;
int ts_reject_item(struct ts_run *run, const char *name, const struct ts_reader *rd,
		   const struct ts_item *it);

/* Call once per record: progress on a terminal, cheap otherwise. */
void ts_run_progress(struct ts_run *run);
static inline void ts_run_tick(struct ts_run *run)
{
	if ((++run->ticks & 0x3fff) == 0 && run->progress)
		ts_run_progress(run);
}

/* Flush and check standard output and the error output, print --stats, and
 * return the exit status. */
int ts_run_finish(struct ts_run *run);

#endif
