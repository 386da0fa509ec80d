/*
 * reader.h — a stream of JSON values from a byte source.
 *
 * NDJSON is the fast path: large reads, one validating scan per value, no
 * per-line work.  Pretty-printed and concatenated values ("{..}{..}", as
 * decompressed CloudWatch Logs payloads arrive) are read as jq reads them.
 * CRLF is whitespace; a UTF-8 BOM at the start is skipped.
 *
 * What comes out does not depend on how the source hands the bytes over
 * (all at once or a byte at a time), and memory stays bounded by
 * max_record whatever the input.
 *
 * A malformed value becomes a TS_ITEM_ERROR item whose raw bytes run from the
 * start of the value to the end of the line holding the damage (a '\r'
 * before the '\n' included: raw is the bytes as they are), and over the
 * lines after it that cannot start a value (the indented rest of a broken
 * pretty-printed value); reading resumes on the next line.  A line that
 * starts with '{' or '[' always starts a new value: an NDJSON line cut short
 * does not take the next line with it.  Values delivered before the damage
 * on the same line are never part of the error's bytes.
 *
 * A value rejected for its nesting depth (deeper than max_depth) or its
 * size (longer than max_record) is skipped whole: no part of it ever comes
 * out as a value of its own, whatever lines inside it start with.  The
 * reader follows its structure (brackets, strings, keys, colons and commas;
 * numbers, escapes and UTF-8 unchecked) in constant memory to where it
 * closes, however long it is, and resumes right after it, on the same line.
 * When the structure breaks first (a string runs into a line end, a bracket
 * closes the wrong thing, a comma is missing, the data ends, or it nests a
 * million levels deep), the value was damaged: it runs up to the first line
 * that begins at or after the damage with the start of a value at column 0
 * ({ [ " - digit t f n), and reading resumes there.  So a damaged value
 * takes at most the value after it along: an NDJSON line cut inside a string
 * loses nothing after it, one cut where a value may follow (after a comma,
 * a colon, an opening bracket) takes the next line with it.  The item is a
 * TS_ITEM_ERROR (err "nesting too deep", err_line where it went too deep)
 * holding all its bytes when they fit in max_record, up to the end of its
 * last line that is not blank; else a TS_ITEM_TOO_LARGE carrying the first
 * bytes (no more than TS_READER_RAW_PREFIX).
 * A text line or malformed line longer than max_record is a TS_ITEM_TOO_LARGE
 * too; the rest of its line is skipped without being buffered.
 *
 * In text mode (ts-decompress --text), a line that is not entirely JSON values
 * is one TS_ITEM_TEXT item instead of an error: the line without its "\n" or
 * "\r\n" (a '\r' not followed by '\n' is text).
 *
 * A source may return TS_SOURCE_BREAK: the data is damaged there and more
 * may follow (a corrupt compressed member, say).  The reader delivers what it
 * has as if the input ended there (a complete value is a VALUE; a value or
 * line cut short is an ERROR with its bytes, or TEXT in text mode), then one
 * TS_ITEM_BREAK item: line is the line number at the break, offset the
 * stream offset of the break (the number of bytes the source gave before
 * it).  It does not call the source again before returning the BREAK item,
 * so what the source knows about the damage is still current then.  Reading
 * then goes on from the same source at the start of a new line: when the
 * break cut a line, the data after it is on the next line number; right
 * after a '\n' (or at the very start) it is on the break's line.  Line
 * numbers and offsets keep counting; a BOM is only skipped at the start.
 * Each TS_SOURCE_BREAK gives one BREAK item, two in a row give two.
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
	int brk;            /* the source returned TS_SOURCE_BREAK: reported
			     * after the data, as TS_ITEM_BREAK */
	int mid_line;       /* the last byte read is not a '\n' */
	struct ts_buf nest; /* the kinds of bracket open in a rejected value */
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

/* Was item it (just returned) cut short by a break: does a TS_ITEM_BREAK
 * come next, right after its bytes?  (The loop over inputs reports the two
 * as one fault.) */
int ts_reader_cut_by_break(const struct ts_reader *r, const struct ts_item *it);

#endif
