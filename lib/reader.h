/*
 * reader.h — a stream of JSON values from a byte source.
 *
 * NDJSON is the fast path: large reads, one validating scan per value, no
 * per-line work.  Pretty-printed and concatenated values ("{..}{..}", as
 * decompressed CloudWatch Logs payloads arrive) are read as jq reads them.
 * CRLF is whitespace; a UTF-8 BOM at the start is skipped.
 *
 * A malformed value becomes a TS_ITEM_ERROR item whose raw bytes run from the
 * start of the value to the end of the line holding the damage; reading
 * resumes on the next line.  A value longer than max_record becomes a
 * TS_ITEM_TOO_LARGE item carrying only the first TS_READER_RAW_PREFIX bytes,
 * and the rest of its line is skipped without being buffered, so memory stays
 * bounded by max_record whatever the input.
 *
 * In text mode (ts-decompress --text), a line that is not entirely JSON values
 * is one TS_ITEM_TEXT item instead of an error.
 *
 * Item spans point into the reader's buffer and are valid until the next call.
 */
#ifndef TS_READER_H
#define TS_READER_H

#include <stdint.h>

#include "buf.h"
#include "json.h"

#define TS_READER_DEFAULT_MAX_RECORD ((size_t)64 << 20)
#define TS_READER_RAW_PREFIX 4096

/*
 * Fill dst with up to n bytes: count, 0 at end of input, -1 with errno, or
 * TS_SOURCE_BREAK: the data is damaged here and more may follow (see
 * TS_ITEM_BREAK).
 */
typedef long (*ts_source_fn)(void *ctx, char *dst, size_t n);
#define TS_SOURCE_BREAK (-2)

enum ts_item_kind {
	TS_ITEM_EOF = 0,
	TS_ITEM_VALUE,
	TS_ITEM_TEXT,      /* text mode: a line that is not JSON */
	TS_ITEM_ERROR,     /* malformed JSON */
	TS_ITEM_TOO_LARGE, /* longer than max_record; raw is a prefix */
	TS_ITEM_IO_ERROR,  /* the source failed (errno in item.sys_errno); comes
			    * after every item read before the failure */
	TS_ITEM_BREAK,     /* the source returned TS_SOURCE_BREAK here: line and
			    * offset say where; v is empty */
};

struct ts_item {
	enum ts_item_kind kind;
	struct ts_span v;  /* the value, the text line, or the raw bytes */
	uint64_t line;     /* line where the item starts (1-based) */
	uint64_t offset;   /* byte offset where it starts */
	uint64_t err_line; /* ERROR: line of the offending byte */
	const char *err;   /* ERROR: what is wrong */
	int has_ws;        /* VALUE: has insignificant whitespace */
	int sys_errno;
};

/* How a value is validated and delimited; ts_json_scan() unless a program
 * installs a scanner that also indexes what it needs (cwl.h). */
typedef enum ts_json_status (*ts_scan_fn)(void *ctx, const char *p,
					  const char *end, int eof,
					  int max_depth, struct ts_json_scan *r);

struct ts_reader {
	ts_source_fn read;
	void *ctx;
	ts_scan_fn scan;    /* NULL: ts_json_scan */
	void *scan_ctx;
	struct ts_buf buf;
	size_t pos;         /* next unread byte in buf */
	uint64_t base;      /* stream offset of buf.data[0] */
	uint64_t line;      /* line number at pos */
	size_t max_record;
	int max_depth;
	int text;           /* text mode */
	int eof;
	int bol;            /* pos is at the beginning of a line */
	size_t lstart;      /* ... which starts here (text mode keeps blanks) */
	int started;
	int io_errno;       /* the source failed: reported after the data */
	char prefix[TS_READER_RAW_PREFIX]; /* of a too-large record */
};

/* max_record 0 = TS_READER_DEFAULT_MAX_RECORD; max_depth 0 = default. */
void ts_reader_init(struct ts_reader *r, ts_source_fn read, void *ctx,
		    size_t max_record, int max_depth);
void ts_reader_release(struct ts_reader *r);
/* Start over on a new source, keeping the buffer and the settings. */
void ts_reader_reset(struct ts_reader *r, ts_source_fn read, void *ctx);
/* Sources: a file descriptor (ctx points at an int holding it), and memory
 * (ctx points at a struct ts_span, consumed as it is read). */
long ts_source_fd(void *ctx, char *dst, size_t n);
long ts_source_mem(void *ctx, char *dst, size_t n);

enum ts_item_kind ts_reader_next(struct ts_reader *r, struct ts_item *it);

#endif
