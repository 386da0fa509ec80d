/*
 * buf.h — the one growing byte buffer of the ts toolkit.
 *
 * A struct ts_buf is never in an invalid state: after ts_buf_init() data points
 * at a valid NUL-terminated empty string (a static one until the first growth),
 * so callers may read b->data without checking.  The buffer always keeps a NUL
 * after len bytes, which makes it safe to hand to functions that need one.
 *
 * Every buffer has a hard limit (max, 0 = TS_BUF_DEFAULT_MAX).  Growth past it
 * fails with -1 and errno = EFBIG instead of allocating: a 4 GB line without a
 * newline becomes an error record, not an out-of-memory kill.
 *
 * Lifecycle (git naming): _init sets up without allocating, _release frees the
 * contents and re-inits, _detach hands the allocation to the caller.
 */
#ifndef TS_BUF_H
#define TS_BUF_H

#include <stddef.h>
#include <string.h>

#define TS_BUF_DEFAULT_MAX ((size_t)1 << 32) /* 4 GiB */

struct ts_buf {
	char *data;
	size_t len;
	size_t cap; /* 0 while data points at the static empty string */
	size_t max;
};

void ts_buf_init(struct ts_buf *b, size_t max);
void ts_buf_release(struct ts_buf *b);
/* Returns the data (malloc'd, NUL-terminated, caller frees) and re-inits b. */
char *ts_buf_detach(struct ts_buf *b, size_t *len);

/* Make room for at least extra more bytes (+ the NUL).  0, or -1/EFBIG/ENOMEM. */
int ts_buf_grow(struct ts_buf *b, size_t extra);
int ts_buf_add_slow(struct ts_buf *b, const void *p, size_t n);
static inline int ts_buf_add(struct ts_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap)
		return ts_buf_add_slow(b, p, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}
int ts_buf_addstr(struct ts_buf *b, const char *s);
static inline int ts_buf_addch(struct ts_buf *b, char c)
{
	if (b->len + 2 > b->cap && ts_buf_grow(b, 1) < 0)
		return -1;
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
	return 0;
}
int ts_buf_addf(struct ts_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Set len (must be <= current len + room); keeps the NUL terminator. */
void ts_buf_setlen(struct ts_buf *b, size_t len);
static inline void ts_buf_reset(struct ts_buf *b) { ts_buf_setlen(b, 0); }
/* Remove the first n bytes (memmove the rest down). */
void ts_buf_consume(struct ts_buf *b, size_t n);
static inline size_t ts_buf_avail(const struct ts_buf *b)
{
	return b->cap ? b->cap - b->len - 1 : 0;
}

#endif
