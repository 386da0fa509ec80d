/*
 * run.h — one program run: its output, its error output, its counters and
 * its exit status.  Every cmd/ program has one struct ts_run and follows the
 * same shape:
 *
 *	ts_run_init(&run, "ts-foo");
 *	parse options (opt.h) → process inputs → return ts_run_finish(&run);
 *
 * Exit status (DESIGN.md): 0 all went through; 1 the data said no (records
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
 * the size limit).  "offset", "path" and "detail" appear when known.
 */
#ifndef TS_RUN_H
#define TS_RUN_H

#include <stdint.h>

#include "out.h"

#define TS_RUN_MAX_EXTRA 8

struct ts_where {
	const char *file;  /* input name, "<stdin>", or a destination */
	uint64_t line;     /* 0 = unknown */
	int64_t offset;    /* byte offset, -1 = unknown */
	const char *path;  /* the JSON path involved, or NULL */
};

struct ts_run {
	const char *prog;
	struct ts_out out;  /* standard output */
	struct ts_out errs; /* error records */
	const char *errors_path;
	int want_stats;
	int progress;       /* standard error is a terminal */
	int status;
	size_t max_record;  /* --max-record (0 = default) */
	int max_depth;      /* --max-depth (0 = default) */

	uint64_t records_in;
	int64_t records_out; /* -1: the lines on standard output */
	uint64_t rejected;
	uint64_t bytes_in;
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

/* Write an error record and count the rejection (status >= 1). */
void ts_reject(struct ts_run *run, const char *code, const struct ts_where *w,
	       const char *raw, size_t rawn, int truncated, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/* The reader's malformed (bad_json) or oversized (too_large) item from
 * input name, as an error record; 1 when it was one of those, 0 otherwise. */
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
