/*
 * input.h — the loop over a program's inputs, the same in every program.
 *
 * The files named on the command line are read in order ("-" or none:
 * standard input).  Each is opened, its compression recognised by its magic
 * bytes (decomp.h: gzip, zlib, bzip2, xz, zstd, lz4; archives entry by
 * entry), and read as a stream of JSON values (reader.h).  What is not a good
 * value becomes one error record here, counted once in run.records_in and
 * run.rejected:
 *
 *	bad_json          a malformed value (reading resumes at the next line)
 *	too_large         a value over --max-record
 *	corrupt_input     a damaged stretch of compressed input (a gzip member,
 *	                  garbage after a stream, a cut-off end), with its byte
 *	                  offset, member number and compressed bytes; a record
 *	                  the damage cut short is part of the same fault: one
 *	                  error record, with the record's decoded bytes as raw
 *	                  when the damage has none of its own
 *	decompression_bomb  output past --max-size or --max-ratio
 *
 * so a program's callback sees only good values (and, in text mode, text
 * lines), each already counted in run.records_in.  Input that cannot be
 * opened or read is reported on standard error and raises the exit status
 * to 2; the next input is read.
 *
 *	struct ts_input in;
 *	ts_input_init(&in, &run);            // after the options are parsed
 *	rc = ts_input_run(&in, files, on_value, ctx);
 *	ts_input_release(&in);
 *
 * An input named s3://BUCKET/PREFIX is the object of that key, or every
 * object under the prefix in key order, each streamed and read as a file is
 * (the S3 client of s3.h, with the endpoint of --endpoint or the AWS
 * settings, and the AWS CLI's credentials).
 *
 * run.bytes_in counts the bytes read from the inputs (compressed bytes for a
 * compressed input), as they are read, for progress and --stats.
 */
#ifndef TS_INPUT_H
#define TS_INPUT_H

#include <stdarg.h>

#include "codec.h"
#include "decomp.h"
#include "reader.h"
#include "run.h"

struct ts_input;

/* One good item (TS_ITEM_VALUE, or TS_ITEM_TEXT in text mode).  Return 0 to
 * go on, -1 to stop reading every input. */
typedef int (*ts_input_fn)(void *ud, struct ts_input *in, const struct ts_item *it);
/* Bytes mode (ts-decompress --raw): the decompressed bytes as they come. */
typedef int (*ts_input_bytes_fn)(void *ud, struct ts_input *in, const char *p, size_t n);

struct ts_input {
	struct ts_run *run;
	struct ts_reader rd;    /* settings (text mode, scanner) are the caller's */
	enum ts_format format;  /* TS_FMT_AUTO unless forced (--format) */
	struct ts_limits lim;   /* decompression limits: run's (--max-size,
				 * --max-ratio) */
	/* How a pipe or terminal is read: NULL is ts_source_fd.  ctx points at
	 * the int file descriptor.  (ts-partition waits for input with a
	 * timeout and stops on signals.)  Regular files are always read
	 * directly, so archives can seek. */
	ts_source_fn source;
	ts_input_bytes_fn on_bytes; /* set: bytes mode instead of values */
	/* Bytes mode: called at the end of each input (each archive entry),
	 * after its last bytes; may be NULL. */
	int (*on_end)(void *ud, struct ts_input *in);
	int keep_going;         /* read on when standard output is gone */
	const char *path;       /* the JSON path a program works on (--field):
				 * in its error records */

	/* The input being read, for the callback. */
	const char *name;       /* "file", "<stdin>" or "file:entry" */
	struct ts_decomp *d;
	int regular;            /* it is a regular file (read directly) */
	int stop;

	char namebuf[4096];
	struct ts_buf cut;      /* a value a break cut short, reported with it */
	uint64_t cut_line;
	int has_cut;
	uint64_t done;          /* bytes read from the inputs before this one */
	struct s3_inputs *s3;   /* the client of s3:// inputs, once there is one */
};

void ts_input_init(struct ts_input *in, struct ts_run *run);
void ts_input_release(struct ts_input *in);

/* Read every input in files (NULL-terminated; empty: standard input).
 * Returns -1 when a callback stopped it, else 0 (problems are in run). */
int ts_input_run(struct ts_input *in, char *const *files, ts_input_fn fn, void *ud);

/* Where item it of the current input is. */
struct ts_where ts_input_where(const struct ts_input *in, const struct ts_item *it);

/* Reject item it (a record the program cannot handle) with code and cause:
 * raw is the record's bytes unless raw.p is set (e.g. one log event). */
void ts_input_reject(struct ts_input *in, const struct ts_item *it, const char *code,
		     struct ts_span raw, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The same with a va_list, for a program's own reject() wrapper. */
void ts_input_vreject(struct ts_input *in, const struct ts_item *it, const char *code,
		      struct ts_span raw, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

#endif
