/*
 * codec.h — base64, compression format detection, and in-memory
 * decompression of record fields (a Kinesis/Firehose record's `data`, a
 * Lambda event's `awslogs.data`).  Whole files stream through decomp.h.
 */
#ifndef TS_CODEC_H
#define TS_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum ts_format {
	TS_FMT_AUTO = 0,
	TS_FMT_PLAIN,   /* not compressed */
	TS_FMT_GZIP,
	TS_FMT_ZLIB,
	TS_FMT_DEFLATE, /* raw DEFLATE: no magic, only by --format */
	TS_FMT_BZIP2,
	TS_FMT_XZ,
	TS_FMT_ZSTD,
	TS_FMT_LZ4,
	TS_FMT_ARCHIVE, /* tar, zip, 7z, cpio, ar, iso9660, rar, cab, lha, xar,
			 * warc (libarchive) */
};

/*
 * Detect by magic bytes: the compressions first (gzip, xz, zstd, lz4, their
 * skippable frames, bzip2, zlib), then archives, recognised positively only
 * (tar by "ustar" or a v7 header checksum, cpio by a whole header, ...).
 * n may be short: 512 bytes see a tar header, 32774 an iso9660 one.
 */
enum ts_format ts_format_detect(const unsigned char *p, size_t n);
const char *ts_format_name(enum ts_format f);
/* "gzip", "zlib", "deflate", "bzip2", "xz", "zstd", "lz4", "archive", "plain". */
int ts_format_parse(const char *name, enum ts_format *f);

/* Append standard base64 of s, padded.  0 or -1 (buffer limit). */
int ts_base64_encode(struct ts_buf *out, const char *s, size_t n);

/*
 * Decode standard base64 (RFC 4648; padding optional, CR/LF ignored) and
 * append to out.  -1 when s is not base64, with *bad = offset of the first
 * bad character (n when the end is), or errno EFBIG at out's limit; out is
 * then as it was.
 */
int ts_base64_decode(struct ts_buf *out, const char *s, size_t n, size_t *bad);

struct ts_limits {
	uint64_t max_size;  /* decompressed bytes (0 = out's own limit) */
	uint64_t max_ratio; /* decompressed/compressed (0 = none) */
};
/* The default --max-ratio of every program. */
#define TS_DEFAULT_MAX_RATIO 1000
/* Ratio is judged only past this much output: tiny inputs expand a lot. */
#define TS_RATIO_GRACE ((uint64_t)1 << 20)

/*
 * Decompress a whole gzip (all members) or zlib buffer into out with
 * libdeflate.  -1 with a static message in *why on corrupt data or when a
 * limit is crossed (*why then starts "decompression bomb").
 */
struct libdeflate_decompressor;
int ts_inflate_mem(struct libdeflate_decompressor *d, enum ts_format f,
		   const char *in, size_t n, struct ts_buf *out,
		   const struct ts_limits *lim, const char **why);

#endif
