/* buf.c — see buf.h. */
#include "buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char buf_empty[1];

void ts_buf_init(struct ts_buf *b, size_t max)
{
	b->data = buf_empty;
	b->len = 0;
	b->cap = 0;
	b->max = max ? max : TS_BUF_DEFAULT_MAX;
}

void ts_buf_release(struct ts_buf *b)
{
	if (b->cap)
		free(b->data);
	ts_buf_init(b, b->max);
}

char *ts_buf_detach(struct ts_buf *b, size_t *len)
{
	char *r;

	if (len)
		*len = b->len;
	if (!b->cap) {
		r = calloc(1, 1);
	} else {
		r = b->data;
	}
	ts_buf_init(b, b->max);
	return r;
}

int ts_buf_grow(struct ts_buf *b, size_t extra)
{
	size_t need, ncap;
	char *n;

	if (extra > b->max || b->len > b->max - extra) {
		errno = EFBIG;
		return -1;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap < ((size_t)1 << 62) ? ncap * 2 : need;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	n = b->cap ? realloc(b->data, ncap) : malloc(ncap);
	if (!n) {
		errno = ENOMEM;
		return -1;
	}
	if (!b->cap)
		n[0] = '\0';
	b->data = n;
	b->cap = ncap;
	return 0;
}

int ts_buf_add_slow(struct ts_buf *b, const void *p, size_t n)
{
	if (ts_buf_grow(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int ts_buf_addstr(struct ts_buf *b, const char *s)
{
	return ts_buf_add(b, s, strlen(s));
}

int ts_buf_addf(struct ts_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if (b->len + (size_t)n + 1 > b->cap) {
		if (ts_buf_grow(b, (size_t)n) < 0)
			return -1;
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
	return 0;
}

void ts_buf_setlen(struct ts_buf *b, size_t len)
{
	if (!b->cap)
		return;
	b->len = len;
	b->data[len] = '\0';
}

void ts_buf_consume(struct ts_buf *b, size_t n)
{
	if (n >= b->len) {
		ts_buf_setlen(b, 0);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	ts_buf_setlen(b, b->len - n);
}
