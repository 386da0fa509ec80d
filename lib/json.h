/*
 * json.h — the zero-copy JSON scanner shared by every program.
 *
 * jansson builds, edits and prints values; this module is for the hot paths
 * that only need value boundaries, a few fields, or to copy a nested value
 * through unchanged.  It never allocates and never copies input.
 *
 * Two levels:
 *   ts_json_scan()   validates one value (RFC 8259: grammar, string escapes,
 *                    UTF-8, nesting depth) and finds where it ends.  Input it
 *                    accepts is exactly what jansson accepts.
 *   everything else  walks a value that ts_json_scan() has already accepted
 *                    (iterating members, skipping values, unescaping strings).
 *                    Those functions trust their input: never call them on
 *                    bytes that were not validated.
 *
 * Spans point into the caller's memory and live as long as it does.
 */
#ifndef TS_JSON_H
#define TS_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"

#define TS_JSON_MAX_DEPTH 512

struct ts_span {
	const char *p;
	size_t n;
};

enum ts_json_status {
	TS_JSON_OK = 0,
	TS_JSON_INCOMPLETE = 1, /* ran off the end: more input may complete it */
	TS_JSON_ERROR = 2,
};

struct ts_json_scan {
	const char *end;    /* OK: one past the last byte of the value */
	const char *err_at; /* ERROR: the offending byte */
	const char *err;    /* ERROR: what is wrong (static text); the value is
			     * nested deeper than max_depth, and err_at is the
			     * bracket too many, exactly when err == ts_json_too_deep
			     * (compare the pointers) */
	size_t newlines;    /* '\n' bytes inside the value (pretty-printed input) */
	int has_ws;         /* whitespace between tokens: minify before output */
	int deepest;        /* OK: the deepest nesting (0 for a scalar) */
	int surrogate;      /* OK: a \u escape of a UTF-16 surrogate somewhere */
};

extern const char ts_json_too_deep[];

/*
 * Scan the value starting at p (no leading whitespace) and ending before end.
 * eof says no more input follows end, so a number running up to end is
 * complete.  max_depth bounds nesting (0 = TS_JSON_MAX_DEPTH).
 */
enum ts_json_status ts_json_scan(const char *p, const char *end, int eof,
				 int max_depth, struct ts_json_scan *r);

/*
 * The same, noting the members of a top-level object as it goes: keys->k[i]
 * (quoted) and keys->v[i] for i < keys->n, in order.  Past TS_JSON_KEYS_MAX
 * members keys->overflow is set and the rest are not noted.  An index of the
 * first level costs nothing extra, and makes looking up a few fields of a
 * record free of a second pass over it.
 */
#define TS_JSON_KEYS_MAX 64
struct ts_json_keys {
	struct ts_span k[TS_JSON_KEYS_MAX];
	struct ts_span v[TS_JSON_KEYS_MAX];
	size_t n;
	int pending, overflow;
	int deepest, surrogate; /* of the whole value, as struct ts_json_scan */
};
enum ts_json_status ts_json_scan_keys(const char *p, const char *end, int eof,
				      int max_depth, struct ts_json_keys *keys,
				      struct ts_json_scan *r);
/* The same shaped as a reader scan hook (reader.h); ctx is the keys. */
enum ts_json_status ts_json_scan_keys_hook(void *keys, const char *p,
					   const char *end, int eof, int max_depth,
					   struct ts_json_scan *r);
/* Look a member up in the index: 1 and *val when there. */
int ts_json_keys_get(const struct ts_json_keys *keys, const char *name, size_t n,
		     struct ts_span *val);

/* The same for a value inside a container: no check of what follows it. */
enum ts_json_status ts_json_scan_nested(const char *p, const char *end,
					int max_depth, struct ts_json_scan *r);

static inline int ts_json_is_ws(char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* --- walking validated values ------------------------------------------ */

/* One past the end of the validated value at p. */
const char *ts_json_skip(const char *p, const char *end);
const char *ts_json_skip_ws(const char *p, const char *end);

/* Iterate an object's members or an array's elements.  Start with
 * it.p = value (pointing at '{' or '['). Returns 1 with a member, 0 at the end.
 * key spans include the quotes. */
struct ts_json_iter {
	const char *p;
	const char *end;
};
void ts_json_iter_init(struct ts_json_iter *it, struct ts_span v);
int ts_json_obj_next(struct ts_json_iter *it, struct ts_span *key,
		     struct ts_span *val);
int ts_json_arr_next(struct ts_json_iter *it, struct ts_span *val);

/* Is the quoted key span equal to the plain name (n bytes)? */
int ts_json_key_eq_slow(struct ts_span key, const char *name, size_t n);
static inline int ts_json_key_eq(struct ts_span key, const char *name, size_t n)
{
	/* The same bytes are the same name unless they hold an escape: the
	 * key "a\n" is not the name a, backslash, n. */
	if (key.n == n + 2 && memcmp(key.p + 1, name, n) == 0)
		return memchr(name, '\\', n) == NULL;
	/* an escaped key is longer than its name: only then decode */
	return key.n > n + 2 && ts_json_key_eq_slow(key, name, n);
}
/* Find a member by name; 1 and *val when found. */
int ts_json_obj_get(struct ts_span obj, const char *name, size_t n,
		    struct ts_span *val);

/* Does a quoted string span hold a backslash escape? */
static inline int ts_json_str_has_escape(struct ts_span s)
{
	return s.n > 2 && memchr(s.p + 1, '\\', s.n - 2) != NULL;
}

/* Validate the string value at p (a '"') and append its decoded bytes to
 * out in one pass; on OK r->end is past the closing quote.  Anything but
 * OK leaves out as it was.  Decodes exactly as ts_json_unescape(). */
enum ts_json_status ts_json_scan_string_dec(const char *p, const char *end,
					    struct ts_buf *out, struct ts_json_scan *r);

/* Append the decoded bytes of a quoted, validated string span to out.
 * Lone surrogates decode as U+FFFD, as jq does.  0 or -1 (buffer limit). */
int ts_json_unescape(struct ts_buf *out, struct ts_span s);

/* Append s as a quoted JSON string.  -1 with errno EILSEQ when s is not
 * valid UTF-8 (nothing appended), -1 EFBIG at the buffer limit. */
int ts_json_escape(struct ts_buf *out, const char *s, size_t n);

/* Append a validated value without insignificant whitespace. */
int ts_json_minify(struct ts_buf *out, struct ts_span v);

/* Is the text exactly a JSON number, as written?  (No "+1", ".5", "1." or
 * "007": text that reads as a number only loosely is not one.) */
int ts_json_is_number(const char *p, size_t n);

/* Number of valid UTF-8 bytes at the start of s (== n when all valid). */
size_t ts_utf8_valid_prefix(const char *s, size_t n);

/* Write code point cp (any value below 0x110000, surrogates included: WTF-8)
 * as UTF-8 at w, which has room for 4 bytes; returns the length (1-4). */
size_t ts_utf8_put(char *w, uint32_t cp);

#endif
