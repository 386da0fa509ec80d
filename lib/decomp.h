/*
 * decomp.h — streaming decompression of whole inputs, in constant memory.
 *
 * Two layers.  First the compression, recognised by its magic bytes
 * (codec.h) unless forced: gzip, zlib and raw DEFLATE are decoded here
 * (libdeflate, zlib), xz with liblzma, zstd with libzstd, bzip2 with libbz2,
 * lz4 through libarchive; anything else is read as it is ("plain").  Then,
 * unless a compression format was forced, the first decompressed bytes say
 * whether the content is an archive: only one positively recognised by
 * ts_format_detect() (tar, zip, 7z, cpio, ar, iso9660, rar, cab, lha, xar,
 * warc), or an uncompressed input of 1024 to 10240 zero bytes in whole
 * 512-byte blocks (an empty tar), is read as entries, through libarchive, in
 * order, regular files only.  Anything else is the decompressed stream
 * itself: one entry with no name.  So a .tar.gz is an archive, and xz of
 * zero bytes gives those zero bytes, however many: compressed zeros are
 * data (an empty .tar.gz too), never an empty success.
 *
 * gzip is the hot path.  A delivery stream writes one gzip member per
 * record, so most members are small: each is decompressed in one call to
 * libdeflate, straight into the caller's buffer when it fits (1 MiB input
 * window, at most 4 MiB of output per call).  A member too large for that,
 * or one libdeflate finds damaged, streams through zlib instead.
 *
 * Damage.  Reads return every good byte before damage, then TS_SOURCE_BREAK
 * (reader.h) once; ts_decomp_damage() says what and where.  After a fatal
 * damage reads return 0; after another one they go on with the next good
 * data.  Per format:
 *
 *   gzip     A damaged member (bad data, or a wrong CRC or length: the damage
 *            may then be anywhere in it) is one damage, code corrupt_input,
 *            offset and number of the member, raw = its compressed bytes up
 *            to the next real member; none of its output is passed on.
 *            Reading resumes at the next real member: magic, CM 8, no
 *            reserved flag, and a member that inflates and passes its CRC
 *            (or inflates without error through a whole 1 MiB window), not
 *            a bare 1f 8b.  If none follows, the damage is fatal.  A member
 *            larger than the window (1 MiB compressed) or than 4 MiB of
 *            output cannot be held back: its output up to the damage has
 *            gone on, and raw starts where zlib found the damage.  Bytes
 *            between members, or after the last, are one damage (raw = the
 *            bytes; fatal when no member follows); zero padding at the end
 *            is not damage.  An input that ends inside a member: its output
 *            up to the cut, then one fatal damage at the cut (raw NULL).
 *   zlib, deflate, xz, zstd, bzip2, lz4
 *            Concatenated xz streams and zstd frames (skippable ones too),
 *            bzip2 streams and lz4 frames are read as their tools read
 *            them.  Data before damage comes out; damage inside a stream
 *            is one fatal damage at the decoder's position (raw NULL); a
 *            cut-off stream gives what its tool gives (byte for byte what
 *            xz -dc and lz4 -dc give; every whole bzip2 block, which is a
 *            little more than bzip2 -dc writes), then a fatal damage at the
 *            cut; bytes after the last stream that are not all zero are one
 *            fatal damage, raw = those bytes.  (How much of a corrupt block
 *            comes out before its check fails can depend on the size of
 *            the reads: the decoders' own output units.)
 *   archives Damage in the compression under an archive ends the archive
 *            there: libarchive gets everything decoded before it (a cut-off
 *            .tgz gives every byte of the entry up to the cut, as tar xzOf
 *            does), then that damage is reported once, fatal.  libarchive's
 *            own errors are damage too (fatal unless it can go on).  Only
 *            7z, which keeps its index at the end, is read with seeks (a
 *            regular file opened by ts_decomp_open_fd); from a pipe it is
 *            damage.  Holes in sparse entries come out as zero bytes.
 *   limits   Output past lim->max_size, or more than max_ratio times the
 *            compressed bytes read (judged past TS_RATIO_GRACE), stops the
 *            input: the bytes up to the limit come out, then one fatal
 *            damage with code "decompression_bomb".  Plain input counts
 *            against max_size too.
 *
 * xz needs at most 256 MiB to decode (a larger dictionary is damage: xz -9
 * needs 65 MiB) and zstd at most a 128 MiB window (libzstd's default).
 *
 * I/O errors (the source failing), and running out of memory, are not
 * damage: -1 with errno, ts_decomp_error() says what; the caller stops.
 *
 * Usage:
 *	d = ts_decomp_open_fd(fd, TS_FMT_AUTO, &limits);
 *	while ((r = ts_decomp_next_entry(d, &entry)) != 0) { // once unless an archive
 *		if (r == TS_SOURCE_BREAK) { report ts_decomp_damage(d); continue; }
 *		if (r < 0) { report ts_decomp_error(d, NULL); break; }
 *		while ((n = ts_decomp_chunk(d, &p)) != 0) {
 *			if (n == TS_SOURCE_BREAK) report ts_decomp_damage(d);
 *			else if (n < 0) I/O error: stop;
 *			else use n bytes at p;        // valid until the next call
 *		}
 *	}
 *	ts_decomp_free(d);
 * ts_decomp_read() is the same stream as a ts_source_fn for reader.h.
 */
#ifndef TS_DECOMP_H
#define TS_DECOMP_H

#include <stdint.h>

#include "codec.h"
#include "reader.h"

struct ts_decomp;

/*
 * Reads through read(ctx, ...) (ts_source_fd with a pointer to an int fd
 * reads a file descriptor).  The first bytes are read here to recognise the
 * format (up to 40 KiB of decompressed bytes when it could be an archive;
 * a plain stream whose first line is text is decided after that line, or
 * the few bytes more that tell a binary archive header from text: it is
 * an archive only when that line shows one, so a tar whose first name holds
 * a newline is text, however the input comes; TS_FMT_ARCHIVE reads it).
 * NULL only when out of memory or when that first read fails (errno set).
 * The source stays the caller's.
 */
struct ts_decomp *ts_decomp_open(ts_source_fn read, void *ctx, enum ts_format fmt,
				 const struct ts_limits *lim);
/* The same on a file descriptor (kept by the caller).  When it is a regular
 * file, libarchive may seek in it (7z needs to). */
struct ts_decomp *ts_decomp_open_fd(int fd, enum ts_format fmt, const struct ts_limits *lim);
void ts_decomp_free(struct ts_decomp *d);

/* The compression format, or TS_FMT_ARCHIVE when read as entries. */
enum ts_format ts_decomp_format(const struct ts_decomp *d);
/* Next entry: 1 (*name is the archive entry name, or NULL for a stream that
 * is not an archive), 0 when there are no more, TS_SOURCE_BREAK on damage
 * (ts_decomp_damage; call again), -1 on an I/O error. */
int ts_decomp_next_entry(struct ts_decomp *d, const char **name);
/* Next decompressed bytes of the current entry: count (> 0), 0 at its end,
 * TS_SOURCE_BREAK on damage (call again: 0 after a fatal one), -1 on an I/O
 * error.  The bytes stay valid until the next call. */
long ts_decomp_chunk(struct ts_decomp *d, const char **p);
/* The same as a ts_source_fn: decodes straight into dst when it can (a whole
 * gzip member, xz, zstd, plain input: no copy). */
long ts_decomp_read(void *d, char *dst, size_t n);

struct ts_damage {
	const char *code;  /* "corrupt_input" or "decompression_bomb" */
	char message[256]; /* what is wrong, no file name and no offset:
			    * "corrupt gzip member 3: invalid block type" */
	int64_t offset;    /* byte offset of the damage in the compressed
			    * input (a damaged gzip member: where it starts),
			    * -1 unknown */
	uint64_t member;   /* gzip: 1-based number of the damaged member; 0
			    * otherwise */
	const char *raw;   /* the damaged compressed bytes (a whole damaged
			    * member, the garbage after a stream), or NULL */
	size_t rawn;
	int truncated;     /* raw is only a prefix (capped at 1 MiB) */
	int fatal;         /* nothing more comes from this input */
};
/* The damage the last TS_SOURCE_BREAK reported (NULL before any): owned by
 * d, valid until the next call on d. */
const struct ts_damage *ts_decomp_damage(const struct ts_decomp *d);

/* The I/O error (or out of memory) that stopped reading, or NULL; *offset
 * (when not NULL) is the compressed input offset where it happened. */
const char *ts_decomp_error(const struct ts_decomp *d, int64_t *offset);
/* Did reading stop on such an error (exit status 2)?  Always so when
 * ts_decomp_error() is not NULL: damage is never an error. */
int ts_decomp_error_is_io(const struct ts_decomp *d);
/* Compressed bytes consumed so far (plain input: read so far) /
 * decompressed bytes handed over so far. */
uint64_t ts_decomp_bytes_in(const struct ts_decomp *d);
uint64_t ts_decomp_bytes_out(const struct ts_decomp *d);

#endif
