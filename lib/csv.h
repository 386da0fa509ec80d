/*
 * csv.h — delimited text read as records, in a stream: RFC 4180 CSV and
 * tab-separated values.
 *
 * The bytes come in chunks of any size (ts_csv_feed), a record may span
 * chunks and, in CSV, lines: a quoted field holds separators, quotes
 * written twice ("") and line breaks.  Records end at LF or CRLF; a UTF-8
 * byte order mark at the very start is skipped; a last record without a
 * line break is a record.  An empty line is no record (it is counted).
 *
 * CSV: a field that starts with '"' is quoted to its closing quote; after
 * that only a separator or the end of the line may come.  A '"' inside an
 * unquoted field is kept as it is (as Python's csv and mlr read it).
 * TSV: no quoting; the escapes \t \n \r \\ in a field are decoded (as mlr
 * writes them), any other backslash is kept.
 *
 * Malformed: a quoted field not closed before the end of the input, or
 * something other than a separator after a closing quote.  The record is
 * handed over with err set and the fields it had; reading goes on at the
 * next line (CSV resynchronises at the first line break after the fault).
 *
 * Memory: one record at a time, bounded by max_record (a record past it is
 * handed over with err "record too large" and its bytes up to the limit).
 */
#ifndef TS_CSV_H
#define TS_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct ts_csv_field {
	size_t off, len;  /* the decoded bytes, in rec->data */
	int quoted;       /* written between quotes (CSV) */
};

/* One record, valid during the callback. */
struct ts_csv_rec {
	const char *data;              /* decoded fields, back to back */
	const struct ts_csv_field *f;
	size_t n;                      /* fields (0 never: an empty line is skipped) */
	uint64_t line;                 /* line where the record starts (1-based) */
	const char *raw;               /* the record's bytes as read, without */
	size_t rawn;                   /* its line break */
	const char *err;               /* NULL, or why it is malformed */
};

/* Return 0 to go on, -1 to stop (ts_csv_feed then returns -1). */
typedef int (*ts_csv_fn)(void *ud, const struct ts_csv_rec *r);

struct ts_csv {
	char sep;            /* ',' or '\t' */
	int tsv;             /* no quoting, backslash escapes */
	size_t max_record;
	/* state */
	int st;
	int started;         /* past the byte order mark check */
	int bom;             /* its bytes seen so far */
	uint64_t line, rec_line, empty_lines;
	struct ts_buf data, raw;
	struct ts_csv_field *f;
	size_t nf, capf;
	const char *err;
	int skipping;        /* after a fault: drop bytes to the line's end */
	int oversize;
};

/* sep ',' (CSV) or '\t' (TSV); max_record 0: 64 MiB. */
void ts_csv_init(struct ts_csv *c, char sep, size_t max_record);
void ts_csv_release(struct ts_csv *c);

/* Feed n bytes (n == 0: the end of the input: a record still open is
 * handed over).  0, or -1 when fn stopped it or memory ran out (errno). */
int ts_csv_feed(struct ts_csv *c, const char *p, size_t n, ts_csv_fn fn, void *ud);

#endif
