/*
 * decomp.h — streaming decompression of whole inputs, in constant memory.
 *
 * The format comes from the magic bytes (codec.h) unless forced.  gzip, zlib
 * and raw DEFLATE are ours; bzip2, xz, zstd, lz4 and archives (tar, zip, ...)
 * go through libarchive, whose entries are read in order.  Uncompressed input
 * passes through unchanged.
 *
 * gzip is the hot path.  A delivery stream writes one gzip member per record,
 * so most members are small: each is decompressed in one call to libdeflate
 * (several times faster than zlib) from a 1 MiB input window into an output
 * buffer of at most 4 MiB.  A member too large for that, and a damaged
 * member, stream through zlib instead, which also tells exactly how far the
 * good data goes: everything before the damage is returned, then the error
 * with its byte offset in the compressed input.
 *
 * Usage:
 *	d = ts_decomp_open(fd, TS_FMT_AUTO, &limits);
 *	while (ts_decomp_next_entry(d, &entry) == 1)   // once unless an archive
 *		while ((n = ts_decomp_chunk(d, &p)) > 0)
 *			use n bytes at p;             // valid until the next call
 *	if ((msg = ts_decomp_error(d, &offset)))  report;
 *	ts_decomp_free(d);
 * ts_decomp_read() is the same stream as a ts_source_fn for reader.h.
 */
#ifndef TS_DECOMP_H
#define TS_DECOMP_H

#include <stdint.h>

#include "codec.h"

struct ts_decomp;

/* Reads the first bytes of fd to detect the format.  NULL only when out of
 * memory or when the read fails (errno set). The fd stays the caller's. */
struct ts_decomp *ts_decomp_open(int fd, enum ts_format fmt,
				 const struct ts_limits *lim);
void ts_decomp_free(struct ts_decomp *d);

enum ts_format ts_decomp_format(const struct ts_decomp *d);
/* Next entry: 1 (*name is the archive entry name, or NULL for a plain
 * compressed stream), 0 when there are no more, -1 on error. */
int ts_decomp_next_entry(struct ts_decomp *d, const char **name);
/* Next decompressed bytes of the current entry: count (> 0), 0 at its end,
 * -1 on error (ts_decomp_error says what). */
long ts_decomp_chunk(struct ts_decomp *d, const char **p);
long ts_decomp_read(void *d, char *dst, size_t n); /* a ts_source_fn */

/* The error that stopped decompression, or NULL; *offset is the byte offset
 * in the compressed input where it was found (-1 if unknown). */
const char *ts_decomp_error(const struct ts_decomp *d, int64_t *offset);
/* Was it reading the input that failed (exit 2), not the data (exit 1)? */
int ts_decomp_error_is_io(const struct ts_decomp *d);
/* Compressed bytes read so far / decompressed bytes produced so far. */
uint64_t ts_decomp_bytes_in(const struct ts_decomp *d);
uint64_t ts_decomp_bytes_out(const struct ts_decomp *d);

#endif
