/* decomp.c — see decomp.h. */
#include "decomp.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <libdeflate.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "util.h"

#define IN_CAP ((size_t)1 << 20)
#define OUT_MIN ((size_t)256 << 10)
#define OUT_MAX ((size_t)4 << 20) /* largest member decoded in one call */
#define PEEK 512

struct ts_decomp {
	int fd;
	enum ts_format fmt;
	struct ts_limits lim;

	char *in; /* input window: [consumed | in_pos .. in_len | free] */
	size_t in_pos, in_len;
	uint64_t in_base; /* stream offset of in[0] */
	int in_eof;

	char *out;
	size_t out_cap;
	uint64_t total_out;

	struct libdeflate_decompressor *ld;
	z_stream z;
	int z_inited, z_active;
	int z_hold;  /* holding a damaged member's output back (z_step) */
	size_t held;

	struct archive *ar;
	int ar_raw;

	int entries; /* entries started */
	int entry_done;
	int failed;  /* an error stopped decompression */
	int err_io;  /* ... and it was reading the input that failed */
	const char *pend; /* ts_decomp_read: rest of the last chunk */
	size_t pend_n;
	char err[256];
	int64_t err_off;
};

static void set_error(struct ts_decomp *d, int64_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_error(struct ts_decomp *d, int64_t off, const char *fmt, ...)
{
	va_list ap;

	if (d->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
	d->err_off = off;
	d->failed = 1;
}

/* Refill the window: keep the unread bytes, read until full or EOF. */
static int top_up(struct ts_decomp *d)
{
	if (d->in_eof)
		return 0;
	if (d->in_pos > 0) {
		memmove(d->in, d->in + d->in_pos, d->in_len - d->in_pos);
		d->in_base += d->in_pos;
		d->in_len -= d->in_pos;
		d->in_pos = 0;
	}
	long n = ts_read_full(d->fd, d->in + d->in_len, IN_CAP - d->in_len);
	if (n < 0) {
		set_error(d, (int64_t)(d->in_base + d->in_len), "read error: %s",
			  strerror(errno));
		d->err_io = 1;
		return -1;
	}
	if ((size_t)n < IN_CAP - d->in_len)
		d->in_eof = 1;
	d->in_len += (size_t)n;
	return 0;
}

static la_ssize_t ar_read(struct archive *a, void *ud, const void **buf)
{
	struct ts_decomp *d = ud;

	(void)a;
	if (d->in_pos >= d->in_len) {
		d->in_base += d->in_len;
		d->in_pos = d->in_len = 0;
		if (d->in_eof)
			return 0;
		long n = ts_read_full(d->fd, d->in, IN_CAP);
		if (n < 0) {
			archive_set_error(a, errno, "read error: %s", strerror(errno));
			d->err_io = 1;
			return -1;
		}
		if ((size_t)n < IN_CAP)
			d->in_eof = 1;
		d->in_len = (size_t)n;
	}
	*buf = d->in + d->in_pos;
	la_ssize_t n = (la_ssize_t)(d->in_len - d->in_pos);
	d->in_pos = d->in_len;
	return n;
}

/* Does the gzip stream starting at p hold a tar archive (.tar.gz)?  Only the
 * first 512 bytes of the first member are looked at. */
static int gzip_holds_tar(const char *p, size_t n)
{
	unsigned char out[512];
	z_stream z;
	size_t got;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + 15) != Z_OK)
		return 0;
	z.next_in = (Bytef *)p;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = sizeof(out);
	inflate(&z, Z_SYNC_FLUSH);
	got = sizeof(out) - z.avail_out;
	inflateEnd(&z);
	return ts_format_detect(out, got) == TS_FMT_ARCHIVE;
}

struct ts_decomp *ts_decomp_open(int fd, enum ts_format fmt,
				 const struct ts_limits *lim)
{
	struct ts_decomp *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->fd = fd;
	d->err_off = -1;
	if (lim)
		d->lim = *lim;
	d->in = malloc(IN_CAP);
	d->out_cap = OUT_MIN;
	d->out = malloc(d->out_cap);
	if (!d->in || !d->out)
		goto fail;
	long n = ts_read_full(fd, d->in, PEEK);
	if (n < 0)
		goto fail;
	d->in_len = (size_t)n;
	if ((size_t)n < PEEK)
		d->in_eof = 1;
	d->fmt = fmt == TS_FMT_AUTO
			 ? ts_format_detect((unsigned char *)d->in, d->in_len)
			 : fmt;
	/* A .tar.gz goes to libarchive, which reads the tar entries in order. */
	if (fmt == TS_FMT_AUTO && d->fmt == TS_FMT_GZIP && gzip_holds_tar(d->in, d->in_len))
		d->fmt = TS_FMT_ARCHIVE;
	switch (d->fmt) {
	case TS_FMT_GZIP:
		d->ld = libdeflate_alloc_decompressor();
		if (!d->ld)
			goto fail;
		break;
	case TS_FMT_BZIP2: case TS_FMT_XZ: case TS_FMT_ZSTD: case TS_FMT_LZ4:
	case TS_FMT_ARCHIVE:
		d->ar = archive_read_new();
		if (!d->ar)
			goto fail;
		archive_read_support_filter_all(d->ar);
		/* Every archive format but mtree: its text bidder claims plain
		 * NDJSON ("{..} {..}" reads as mtree entries with no type), so a
		 * compressed NDJSON file came out empty, with exit status 0. */
		archive_read_support_format_7zip(d->ar);
		archive_read_support_format_ar(d->ar);
		archive_read_support_format_cab(d->ar);
		archive_read_support_format_cpio(d->ar);
		archive_read_support_format_empty(d->ar);
		archive_read_support_format_iso9660(d->ar);
		archive_read_support_format_lha(d->ar);
		archive_read_support_format_rar(d->ar);
		archive_read_support_format_rar5(d->ar);
		archive_read_support_format_tar(d->ar);
		archive_read_support_format_warc(d->ar);
		archive_read_support_format_xar(d->ar);
		archive_read_support_format_zip(d->ar);
		if (d->fmt != TS_FMT_ARCHIVE)
			archive_read_support_format_raw(d->ar);
		if (archive_read_open(d->ar, d, NULL, ar_read, NULL) != ARCHIVE_OK)
			set_error(d, 0, "%s", archive_error_string(d->ar));
		break;
	default:
		break;
	}
	return d;
fail:
	ts_decomp_free(d);
	return NULL;
}

void ts_decomp_free(struct ts_decomp *d)
{
	if (!d)
		return;
	if (d->ld)
		libdeflate_free_decompressor(d->ld);
	if (d->z_inited)
		inflateEnd(&d->z);
	if (d->ar)
		archive_read_free(d->ar);
	free(d->in);
	free(d->out);
	free(d);
}

enum ts_format ts_decomp_format(const struct ts_decomp *d)
{
	return d->fmt;
}

int ts_decomp_error_is_io(const struct ts_decomp *d)
{
	return d->err_io;
}

const char *ts_decomp_error(const struct ts_decomp *d, int64_t *offset)
{
	if (!d->failed)
		return NULL;
	if (offset)
		*offset = d->err_off;
	return d->err;
}

uint64_t ts_decomp_bytes_in(const struct ts_decomp *d)
{
	return d->in_base + d->in_pos;
}

uint64_t ts_decomp_bytes_out(const struct ts_decomp *d)
{
	return d->total_out;
}

int ts_decomp_next_entry(struct ts_decomp *d, const char **name)
{
	struct archive_entry *ae;

	*name = NULL;
	if (d->failed)
		return d->entries ? 0 : -1;
	if (!d->ar) {
		if (d->entries++)
			return 0;
		d->entry_done = 0;
		return 1;
	}
	for (;;) {
		int r = archive_read_next_header(d->ar, &ae);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN) {
			set_error(d, archive_filter_bytes(d->ar, -1), "%s",
				  archive_error_string(d->ar));
			return -1;
		}
		d->ar_raw = archive_format(d->ar) == ARCHIVE_FORMAT_RAW;
		if (!d->ar_raw && archive_entry_filetype(ae) != AE_IFREG)
			continue; /* directories, links, devices: no data */
		d->entries++;
		d->entry_done = 0;
		*name = d->ar_raw ? NULL : archive_entry_pathname(ae);
		return 1;
	}
}

/* Decompressed-size limits; -1 after setting the error. */
static int check_limits(struct ts_decomp *d)
{
	if (d->lim.max_size && d->total_out > d->lim.max_size) {
		set_error(d, (int64_t)ts_decomp_bytes_in(d),
			  "decompression bomb: more than %llu bytes decompressed (--max-size)",
			  (unsigned long long)d->lim.max_size);
		return -1;
	}
	/* Compressed bytes read so far.  Not archive_filter_bytes(): libarchive
	 * counts only what a filter has consumed, and its lz4 reader consumes a
	 * block (up to 4 MiB) only after decoding all of it, so a plain lz4 file
	 * looked like a 1:150000 bomb after 1 MiB of output. */
	uint64_t in = ts_decomp_bytes_in(d);
	if (d->lim.max_ratio && d->total_out > TS_RATIO_GRACE &&
	    d->total_out / d->lim.max_ratio > in) {
		set_error(d, (int64_t)in,
			  "decompression bomb: expands more than %llu times (--max-ratio)",
			  (unsigned long long)d->lim.max_ratio);
		return -1;
	}
	return 0;
}

/* Is everything from in_pos to the end of input zero bytes (padding)? */
static int rest_is_zero(struct ts_decomp *d)
{
	for (;;) {
		for (size_t i = d->in_pos; i < d->in_len; i++)
			if (d->in[i])
				return 0;
		d->in_pos = d->in_len;
		if (d->in_eof)
			return 1;
		if (top_up(d) < 0)
			return 0;
	}
}

static int z_start(struct ts_decomp *d)
{
	int wbits = d->fmt == TS_FMT_GZIP ? 16 + 15 : d->fmt == TS_FMT_ZLIB ? 15 : -15;
	int r = d->z_inited ? inflateReset2(&d->z, wbits) : inflateInit2(&d->z, wbits);

	if (r != Z_OK) {
		set_error(d, (int64_t)ts_decomp_bytes_in(d), "zlib: cannot initialise");
		return -1;
	}
	d->z_inited = 1;
	d->z_active = 1;
	return 0;
}

/*
 * Stream the current member/stream through zlib: bytes produced, 0 at its
 * end, -1 on error.
 *
 * A gzip member libdeflate found damaged is decoded while holding its output
 * back (up to OUT_MAX): if only its CRC or length check fails at the end, the
 * damage could be anywhere in it, so none of it is passed on.  Structural
 * damage and truncation release what decoded before them.
 */
static long z_step(struct ts_decomp *d)
{
	for (;;) {
		size_t base = d->z_hold ? d->held : 0;
		if (d->in_pos == d->in_len) {
			if (d->in_eof) {
				set_error(d, (int64_t)ts_decomp_bytes_in(d),
					  "unexpected end of %s data: input is truncated",
					  ts_format_name(d->fmt));
				d->z_hold = 0;
				d->held = 0;
				return base > 0 ? (long)base : -1;
			}
			if (top_up(d) < 0)
				return -1;
			continue;
		}
		d->z.next_in = (Bytef *)d->in + d->in_pos;
		d->z.avail_in = (uInt)(d->in_len - d->in_pos);
		d->z.next_out = (Bytef *)d->out + base;
		d->z.avail_out = (uInt)(d->out_cap - base);
		int r = inflate(&d->z, Z_NO_FLUSH);
		d->in_pos = d->in_len - d->z.avail_in;
		size_t got = d->out_cap - d->z.avail_out;
		if (r == Z_STREAM_END) {
			d->z_active = 0;
			d->z_hold = 0;
			d->held = 0;
			return (long)got;
		}
		if (r == Z_OK || r == Z_BUF_ERROR) {
			if (d->z_hold) {
				d->held = got;
				if (got < d->out_cap)
					continue;
				if (d->out_cap < OUT_MAX) {
					char *n = realloc(d->out, d->out_cap * 2);
					if (n) {
						d->out = n;
						d->out_cap *= 2;
						continue;
					}
				}
				d->z_hold = 0; /* too large to hold back */
				d->held = 0;
				return (long)got;
			}
			if (got > 0)
				return (long)got;
			continue;
		}
		int check = d->z_hold && d->z.msg && strstr(d->z.msg, "check");
		d->z_hold = 0;
		d->held = 0;
		if (check) {
			set_error(d, (int64_t)ts_decomp_bytes_in(d),
				  "corrupt %s data: %s (the member's %zu decoded bytes are dropped)",
				  ts_format_name(d->fmt), d->z.msg, got);
			return -1;
		}
		/* Damage: hand back what was decoded; the next call reports. */
		set_error(d, (int64_t)ts_decomp_bytes_in(d), "corrupt %s data: %s",
			  ts_format_name(d->fmt), d->z.msg ? d->z.msg : "invalid stream");
		return got > 0 ? (long)got : -1;
	}
}

/*
 * The next member (or the next part of a large one).  *dst/cap is where a
 * whole member may be decoded directly (the reader's own buffer, saving a
 * copy); when it does not fit there, or zlib takes over, the data is in
 * d->out instead and *dst says so.
 */
static long gzip_step(struct ts_decomp *d, char **dst, size_t cap)
{
	for (;;) {
		if (d->z_active) {
			long k = z_step(d); /* may move d->out */
			*dst = d->out;
			return k;
		}
		if (d->in_len - d->in_pos < IN_CAP / 2 && top_up(d) < 0)
			return -1;
		if (d->in_pos == d->in_len)
			return 0;
		if ((unsigned char)d->in[d->in_pos] != 0x1f) {
			uint64_t at = ts_decomp_bytes_in(d);
			if (rest_is_zero(d))
				return 0;
			set_error(d, (int64_t)at, "trailing garbage after gzip data");
			return -1;
		}
		size_t ain = 0, aout = 0;
		int retried = 0;
		for (;;) {
			enum libdeflate_result r = libdeflate_gzip_decompress_ex(
				d->ld, d->in + d->in_pos, d->in_len - d->in_pos, *dst,
				*dst == d->out ? d->out_cap : cap, &ain, &aout);
			if (r == LIBDEFLATE_SUCCESS) {
				d->in_pos += ain;
				if (aout)
					return (long)aout;
				break; /* an empty member */
			}
			if (r == LIBDEFLATE_INSUFFICIENT_SPACE && *dst != d->out) {
				*dst = d->out; /* does not fit there: ours, then copy */
				continue;
			}
			if (r == LIBDEFLATE_INSUFFICIENT_SPACE && d->out_cap < OUT_MAX) {
				char *n = realloc(d->out, d->out_cap * 2);
				if (!n) {
					set_error(d, -1, "out of memory");
					return -1;
				}
				d->out = n;
				d->out_cap *= 2;
				*dst = d->out;
				continue;
			}
			/* Bad data may only mean the member runs past the
			 * window: fill it once and try again. */
			if (r == LIBDEFLATE_BAD_DATA && !retried && !d->in_eof &&
			    (d->in_pos > 0 || d->in_len < IN_CAP)) {
				retried = 1;
				if (top_up(d) < 0)
					return -1;
				continue;
			}
			/* Too large or damaged: zlib streams it and finds the
			 * damage exactly. */
			if (z_start(d) < 0)
				return -1;
			d->z_hold = r == LIBDEFLATE_BAD_DATA;
			d->held = 0;
			long k = z_step(d);
			*dst = d->out;
			return k;
		}
	}
}

static long zlib_step(struct ts_decomp *d)
{
	if (!d->z_active) {
		if (d->entry_done)
			return 0;
		if (z_start(d) < 0)
			return -1;
	}
	long n = z_step(d);
	if (n >= 0 && !d->z_active) {
		d->entry_done = 1;
		uint64_t at = ts_decomp_bytes_in(d);
		if (!rest_is_zero(d)) {
			set_error(d, (int64_t)at, "trailing garbage after %s data",
				  ts_format_name(d->fmt));
		}
	}
	return n;
}

static long plain_step(struct ts_decomp *d)
{
	if (d->in_pos < d->in_len) { /* the bytes read to detect the format */
		long n = (long)(d->in_len - d->in_pos);
		memcpy(d->out, d->in + d->in_pos, (size_t)n);
		d->in_pos = d->in_len;
		return n;
	}
	if (d->in_eof)
		return 0;
	long n = ts_read_full(d->fd, d->out, d->out_cap);
	if (n < 0) {
		set_error(d, (int64_t)ts_decomp_bytes_in(d), "read error: %s",
			  strerror(errno));
		d->err_io = 1;
		return -1;
	}
	d->in_base += (uint64_t)n;
	if (n == 0)
		d->in_eof = 1;
	return n;
}

/* The next decompressed bytes, in *dst (cap bytes there) or in d->out. */
static long next_chunk(struct ts_decomp *d, char **dst, size_t cap)
{
	long n;

	if (d->failed)
		return -1; /* the data before the damage was returned already */
	switch (d->fmt) {
	case TS_FMT_GZIP:
		n = gzip_step(d, dst, cap);
		break;
	case TS_FMT_ZLIB:
	case TS_FMT_DEFLATE:
		n = zlib_step(d);
		*dst = d->out;
		break;
	case TS_FMT_PLAIN:
	case TS_FMT_AUTO:
		*dst = d->out;
		n = plain_step(d);
		break;
	default:
		*dst = d->out;
		n = archive_read_data(d->ar, d->out, d->out_cap);
		if (n < 0)
			set_error(d, archive_filter_bytes(d->ar, -1), "%s",
				  archive_error_string(d->ar));
		break;
	}
	if (n > 0) {
		d->total_out += (uint64_t)n;
		if (check_limits(d) < 0)
			return -1;
	}
	return n;
}

long ts_decomp_chunk(struct ts_decomp *d, const char **p)
{
	char *dst = d->out;
	long n = next_chunk(d, &dst, d->out_cap);

	*p = dst;
	return n;
}

long ts_decomp_read(void *ctx, char *dst, size_t n)
{
	struct ts_decomp *d = ctx;

	if (!d->pend_n) {
		/* A whole gzip member goes straight into the caller's buffer
		 * when it fits: the hot path makes no copy here. */
		char *p = dst;
		long got = next_chunk(d, &p, n);
		if (got <= 0 || p == dst)
			return got;
		d->pend = p;
		d->pend_n = (size_t)got;
	}
	if (n > d->pend_n)
		n = d->pend_n;
	memcpy(dst, d->pend, n);
	d->pend += n;
	d->pend_n -= n;
	return (long)n;
}
