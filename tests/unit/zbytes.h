/*
 * zbytes.h — compressed test inputs built in memory with zlib, so unit tests
 * neither shell out nor ship binary fixtures.
 */
#ifndef TS_ZBYTES_H
#define TS_ZBYTES_H

#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "buf.h"

enum { Z_GZIP = 16 + 15, Z_ZLIB = 15, Z_RAW = -15 };

/* Append one compressed stream (a gzip member for Z_GZIP) of in to out. */
static inline int zbytes(struct ts_buf *out, const void *in, size_t n,
			 int wbits, int level)
{
	z_stream z;
	int r = Z_STREAM_ERROR;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, level, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	do {
		if (ts_buf_grow(out, 65536) < 0)
			break;
		z.next_out = (Bytef *)out->data + out->len;
		z.avail_out = (uInt)ts_buf_avail(out);
		r = deflate(&z, Z_FINISH);
		ts_buf_setlen(out, out->len + (ts_buf_avail(out) - z.avail_out));
	} while (r == Z_OK || r == Z_BUF_ERROR);
	deflateEnd(&z);
	return r == Z_STREAM_END ? 0 : -1;
}

/* Bytes that do not compress (xorshift), for members larger than a window. */
static inline void zbytes_noise(char *p, size_t n, uint32_t seed)
{
	uint32_t x = seed ? seed : 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (char)(x >> 24);
	}
}

#endif
