/* decomp.c — see decomp.h. */
#include "decomp.h"

#include <archive.h>
#include <archive_entry.h>
#include <bzlib.h>
#include <errno.h>
#include <libdeflate.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "util.h"

/* Buffers start small and grow as the input needs them: an input of a few
 * bytes does not cost megabytes (nor an open under ASan milliseconds). */
#define IN_CAP ((size_t)1 << 20)  /* compressed input window, at most */
#define IN_MIN ((size_t)64 << 10)
#define OUT_MIN ((size_t)64 << 10)
#define OUT_MAX ((size_t)4 << 20) /* largest member decoded in one call */
#define RAW_PEEK 512              /* raw bytes that decide the compression */
#define PEEK_MAX ((size_t)40 << 10) /* decoded bytes that may decide an archive */
#define PEEK_STEP ((size_t)4 << 10)
#define RAW_CAP ((size_t)1 << 20) /* damaged bytes kept for the caller */
#define KEEP_BACK 64              /* bytes libarchive was given, kept (ar1_read) */
#define XZ_MEMLIMIT ((uint64_t)256 << 20)
/* A gzip header found while resynchronising is believed when its member
 * inflates and passes its CRC; one cut off by the end of input, when at
 * least this much of it inflates; one longer than the window, when it
 * inflates through all of it (or to this much output). */
#define VALID_MIN ((size_t)64 << 10)
#define VALID_OUT ((size_t)16 << 20)

/* What an empty tar is: two zero blocks, padded to a 10240-byte record (not
 * compressed: see decomp.h). */
#define EMPTY_TAR_MIN 1024
#define EMPTY_TAR_MAX 10240
#define ISO_MAGIC_END (0x8001 + 5)

struct ar_blocks {
	const char *p; /* a block waiting behind a hole */
	size_t n;
	uint64_t off;  /* ... its offset in the entry */
	uint64_t pos;  /* offset in the entry handed over so far */
	int64_t size;  /* the entry's size, -1 unknown */
	int eof;       /* the end came, after the hole before it */
};

struct ts_decomp {
	ts_source_fn src;
	void *src_ctx;
	int fd;          /* ts_decomp_open_fd: src_ctx points here */
	int seekable;    /* ... a regular file */
	int64_t fd_start;

	enum ts_format codec; /* the compression, TS_FMT_PLAIN for none */
	int archive;          /* the content is read as entries */
	struct ts_limits lim;

	/* compressed input: [consumed | in_pos .. in_len | free] */
	char *in;
	size_t in_pos, in_len, in_cap;
	uint64_t in_base; /* stream offset of in[0] */
	int in_eof;
	uint64_t nread;   /* plain: bytes read from the source ... */
	uint64_t handed;  /* ... and handed over (to the caller or libarchive) */

	char *out;
	size_t out_cap;

	/* decoded but not handed over: the peek, then the rest of a chunk,
	 * then (ts_decomp_read) what did not fit the caller's buffer */
	char *peek;
	size_t peek_len, peek_pos;
	const char *pend;
	size_t pend_n;
	const char *cpy;
	size_t cpy_n;
	uint64_t total_out;

	struct ts_damage dmg;
	char *raw;
	size_t raw_len, raw_cap;
	uint64_t raw_total;
	int raw_zero;   /* every byte added to raw so far was zero */
	int brk;        /* dmg is filled in; TS_SOURCE_BREAK is due */
	int shown;      /* dmg was reported */
	int done;       /* nothing more: after a fatal damage */
	int l1_end;     /* the compressed stream is over */
	int l1_broken;  /* archives: dmg (from the compression) is due when
			 * libarchive stops */

	int failed;     /* an I/O error (or out of memory) stopped reading */
	int err_errno;
	char err[256];
	int64_t err_off;

	/* gzip, zlib, deflate */
	struct libdeflate_decompressor *ld;
	z_stream z;
	int z_inited, z_active;
	int z_whole;    /* the member from mstart is all in the window and its
			 * output is held back in out[0 .. held] */
	size_t held;
	uint64_t member, mstart, mout;

	lzma_stream xz;
	int xz_inited, xz_active;
	ZSTD_DStream *zs;
	int zs_active;
	bz_stream bz;
	int bz_inited, bz_active;
	uint64_t streams; /* xz, bzip2 streams / zstd frames started */

	/* lz4: libarchive's raw reader */
	struct archive *ar1;
	int ar1_open;
	struct ar_blocks b1;
	struct lz4_walk {
		uint64_t at;    /* bytes before this are whole lz4 frames */
		uint64_t skip;  /* block bytes to pass before the next header */
		int state, flg;
	} w;

	/* archives */
	struct archive *ar;
	int ar_open;
	struct ar_blocks b2;
	uint64_t ar_pos, ar_hi; /* plain archive: offset handed on, highest read */
	int entries;
	int entry_done;
};

/* ---- errors and damage ---------------------------------------------------- */

static long fail(struct ts_decomp *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static long fail(struct ts_decomp *d, int err, const char *fmt, ...)
{
	va_list ap;

	if (!d->failed) {
		va_start(ap, fmt);
		vsnprintf(d->err, sizeof(d->err), fmt, ap);
		va_end(ap);
		d->err_errno = err;
		d->err_off = (int64_t)ts_decomp_bytes_in(d);
		d->failed = 1;
	}
	errno = d->err_errno;
	return -1;
}

static long read_failed(struct ts_decomp *d)
{
	int e = errno ? errno : EIO;

	return fail(d, e, "read error: %s", strerror(e));
}

static void raw_reset(struct ts_decomp *d)
{
	d->raw_len = 0;
	d->raw_total = 0;
	d->raw_zero = 1;
}

/* Bytes passed over as damaged: the first RAW_CAP are kept for the caller. */
static void raw_add(struct ts_decomp *d, const char *p, size_t n)
{
	if (d->raw_zero)
		for (size_t i = 0; i < n; i++)
			if (p[i]) {
				d->raw_zero = 0;
				break;
			}
	d->raw_total += n;
	size_t k = RAW_CAP - d->raw_len;
	if (k > n)
		k = n;
	if (k == 0)
		return;
	if (d->raw_len + k > d->raw_cap) {
		size_t cap = d->raw_cap ? d->raw_cap : 4096;
		while (cap < d->raw_len + k)
			cap *= 2;
		char *r = realloc(d->raw, cap);
		if (!r)
			return; /* out of memory: the damage keeps fewer bytes */
		d->raw = r;
		d->raw_cap = cap;
	}
	memcpy(d->raw + d->raw_len, p, k);
	d->raw_len += k;
}

static void damage(struct ts_decomp *d, const char *code, uint64_t off, uint64_t member,
		   int with_raw, int fatal, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
static void damage(struct ts_decomp *d, const char *code, uint64_t off, uint64_t member,
		   int with_raw, int fatal, const char *fmt, ...)
{
	struct ts_damage *g = &d->dmg;
	va_list ap;

	g->code = code;
	va_start(ap, fmt);
	vsnprintf(g->message, sizeof(g->message), fmt, ap);
	va_end(ap);
	g->offset = (int64_t)off;
	g->member = member;
	g->raw = with_raw && d->raw && d->raw_len ? d->raw : NULL;
	g->rawn = g->raw ? d->raw_len : 0;
	g->truncated = g->raw && d->raw_total > d->raw_len;
	g->fatal = fatal;
	if (fatal)
		d->l1_end = 1;
	d->brk = 1;
}

/* Report the damage that is due. */
static long report_due(struct ts_decomp *d)
{
	d->brk = 0;
	d->shown = 1;
	if (d->dmg.fatal)
		d->done = 1;
	return TS_SOURCE_BREAK;
}

/* ---- the compressed input window ---------------------------------------- */

/* Read into in[in_len ..] until the window (grown up to IN_CAP) is full or
 * the input ends. */
static int fill(struct ts_decomp *d)
{
	while (!d->in_eof) {
		if (d->in_len == d->in_cap) {
			char *w;
			if (d->in_cap >= IN_CAP)
				break;
			if (!(w = realloc(d->in, d->in_cap * 2)))
				return (int)fail(d, ENOMEM, "out of memory");
			d->in = w;
			d->in_cap *= 2;
		}
		long n = d->src(d->src_ctx, d->in + d->in_len, d->in_cap - d->in_len);
		if (n < 0) {
			if (n != -1)
				errno = EIO; /* a source that breaks: compressed data cannot */
			return (int)read_failed(d);
		}
		if (n == 0)
			d->in_eof = 1;
		d->in_len += (size_t)n;
	}
	return 0;
}

/* Refill the window, keeping the unread bytes and `back` bytes before them. */
static int top_up_keep(struct ts_decomp *d, size_t back)
{
	if (d->in_eof)
		return 0;
	size_t s = d->in_pos > back ? d->in_pos - back : 0;
	if (s > 0) {
		memmove(d->in, d->in + s, d->in_len - s);
		d->in_base += s;
		d->in_len -= s;
		d->in_pos -= s;
	}
	return fill(d);
}

static int top_up(struct ts_decomp *d)
{
	return top_up_keep(d, 0);
}

static uint64_t in_at(const struct ts_decomp *d)
{
	return d->in_base + d->in_pos;
}

/*
 * At the end of a stream, from in_pos: zero padding to the end of input is
 * fine; anything else is garbage: one fatal damage holding it (the first
 * RAW_CAP bytes of it).  `what` names the stream, or is NULL when no stream
 * has been seen at all.
 */
static int trailing(struct ts_decomp *d, const char *what)
{
	uint64_t at = in_at(d);

	raw_reset(d);
	for (;;) {
		raw_add(d, d->in + d->in_pos, d->in_len - d->in_pos);
		d->in_pos = d->in_len;
		if (d->in_eof || (!d->raw_zero && d->raw_len >= RAW_CAP))
			break;
		if (top_up(d) < 0)
			return -1;
	}
	d->l1_end = 1;
	if (d->raw_zero && d->in_eof)
		return 0;
	if (what)
		damage(d, "corrupt_input", at, 0, 1, 1, "trailing garbage after %s data", what);
	else
		damage(d, "corrupt_input", at, 0, 1, 1, "not %s data", ts_format_name(d->codec));
	return 0;
}

static int grow_out(struct ts_decomp *d)
{
	char *n = realloc(d->out, d->out_cap * 2);

	if (!n)
		return -1;
	d->out = n;
	d->out_cap *= 2;
	return 0;
}

/* ---- zlib: damaged or large gzip members, zlib and raw DEFLATE ---------- */

static int z_begin(struct ts_decomp *d, int whole)
{
	int wbits = d->codec == TS_FMT_GZIP ? 16 + 15 : d->codec == TS_FMT_ZLIB ? 15 : -15;
	int r = d->z_inited ? inflateReset2(&d->z, wbits) : inflateInit2(&d->z, wbits);

	if (r != Z_OK)
		return (int)fail(d, ENOMEM, "zlib: cannot initialise");
	d->z_inited = 1;
	d->z_active = 1;
	d->z_whole = whole;
	d->held = 0;
	return 0;
}

enum { ZR_DATA, ZR_END, ZR_CUT, ZR_BAD, ZR_FAIL };

/*
 * Run zlib on the current member or stream.  ZR_DATA: *got bytes in out,
 * more follow.  ZR_END: its end, *got (maybe 0) bytes are its last.  ZR_CUT,
 * ZR_BAD: the input ends inside it / it is damaged; *got bytes decoded before
 * that are in out (the held ones included).  ZR_FAIL: an I/O error.
 *
 * While z_whole, output is held back (up to OUT_MAX) and the window is not
 * moved, so that the member can still be given up as a whole.
 */
static int z_run(struct ts_decomp *d, size_t *got)
{
	for (;;) {
		size_t base = d->z_whole ? d->held : 0;
		if (d->in_pos == d->in_len) {
			if (d->in_eof) {
				d->z_active = 0;
				*got = base;
				return ZR_CUT;
			}
			if (d->z_whole) { /* longer than the window: let it go */
				d->z_whole = 0;
				d->held = 0;
				if (base) {
					*got = base;
					return ZR_DATA;
				}
			}
			if (top_up(d) < 0)
				return ZR_FAIL;
			continue;
		}
		d->z.next_in = (Bytef *)d->in + d->in_pos;
		d->z.avail_in = (uInt)(d->in_len - d->in_pos);
		d->z.next_out = (Bytef *)d->out + base;
		d->z.avail_out = (uInt)(d->out_cap - base);
		int r = inflate(&d->z, Z_NO_FLUSH);
		d->in_pos = d->in_len - d->z.avail_in;
		size_t n = d->out_cap - d->z.avail_out;
		if (r == Z_STREAM_END) {
			d->z_active = 0;
			d->z_whole = 0;
			d->held = 0;
			*got = n;
			return ZR_END;
		}
		if (r == Z_OK || r == Z_BUF_ERROR) {
			if (d->z_whole) {
				d->held = n;
				if (n < d->out_cap || (d->out_cap < OUT_MAX && grow_out(d) == 0))
					continue;
				d->z_whole = 0; /* too large to hold back */
				d->held = 0;
			}
			if (n) {
				*got = n;
				return ZR_DATA;
			}
			continue;
		}
		d->z_active = 0;
		*got = n;
		return ZR_BAD;
	}
}

/* zlib and raw DEFLATE: one stream, then only zero padding. */
static long zl_step(struct ts_decomp *d, char **dst)
{
	size_t got = 0;
	int r;

	if (!d->z_active && z_begin(d, 0) < 0)
		return -1;
	r = z_run(d, &got);
	*dst = d->out; /* after z_run, which may move out (holding a member back) */
	switch (r) {
	case ZR_FAIL:
		return -1;
	case ZR_DATA:
		return (long)got;
	case ZR_END:
		if (trailing(d, ts_format_name(d->codec)) < 0)
			return -1;
		d->l1_end = 1;
		return (long)got;
	case ZR_CUT:
		damage(d, "corrupt_input", in_at(d), 0, 0, 1,
		       "unexpected end of %s data: the input is truncated",
		       ts_format_name(d->codec));
		return (long)got;
	default:
		damage(d, "corrupt_input", in_at(d), 0, 0, 1, "corrupt %s data: %s",
		       ts_format_name(d->codec), d->z.msg ? d->z.msg : "invalid data");
		return (long)got;
	}
}

/* ---- gzip ------------------------------------------------------------------ */

/* A gzip member header: magic, CM 8, no reserved flag.  At the end of input
 * a shorter rest that starts like one is a cut-off member. */
static int gz_head_ok(const unsigned char *p, size_t n, int eof)
{
	static const unsigned char magic[3] = {0x1f, 0x8b, 8};

	if (memcmp(p, magic, n < 3 ? n : 3) != 0)
		return 0;
	if (n < 4)
		return eof;
	return (p[3] & 0xe0) == 0;
}

/* Is there a real member at in_pos?  See VALID_MIN. */
static int gz_member_ok(struct ts_decomp *d)
{
	unsigned char sink[16384];
	size_t out = 0;
	int r;

	if (d->in_pos > 0 && !d->in_eof && top_up(d) < 0)
		return -1;
	if (d->z_inited ? inflateReset2(&d->z, 16 + 15) != Z_OK
			: inflateInit2(&d->z, 16 + 15) != Z_OK)
		return (int)fail(d, ENOMEM, "zlib: cannot initialise");
	d->z_inited = 1;
	d->z.next_in = (Bytef *)d->in + d->in_pos;
	d->z.avail_in = (uInt)(d->in_len - d->in_pos);
	do {
		d->z.next_out = sink;
		d->z.avail_out = sizeof(sink);
		r = inflate(&d->z, Z_NO_FLUSH);
		out += sizeof(sink) - d->z.avail_out;
		if (r == Z_STREAM_END || out >= VALID_OUT)
			return 1;
	} while (r == Z_OK && d->z.avail_in > 0);
	if (r != Z_OK && r != Z_BUF_ERROR)
		return 0;
	/* The input ran out without an error. */
	if (!d->in_eof)
		return 1; /* through a whole window */
	return d->in_len - d->in_pos - d->z.avail_in >= VALID_MIN;
}

/* Scan from in_pos for the next real gzip member, adding the bytes passed
 * over to raw: 1 found (at in_pos), 0 none before the end, -1 error. */
static int gz_resync(struct ts_decomp *d)
{
	for (;;) {
		if (d->in_len - d->in_pos < 32 && !d->in_eof && top_up(d) < 0)
			return -1;
		size_t n = d->in_len - d->in_pos;
		if (n == 0)
			return 0;
		const char *p = d->in + d->in_pos;
		const char *c = memchr(p, 0x1f, n);
		size_t k = c ? (size_t)(c - p) : n;
		raw_add(d, p, k);
		d->in_pos += k;
		if (!c)
			continue;
		if (d->in_len - d->in_pos < 32 && !d->in_eof) {
			if (top_up(d) < 0)
				return -1;
			continue;
		}
		if (d->in_len - d->in_pos >= 18 &&
		    gz_head_ok((unsigned char *)d->in + d->in_pos, d->in_len - d->in_pos, 0)) {
			int ok = gz_member_ok(d);
			if (ok != 0)
				return ok;
		}
		raw_add(d, d->in + d->in_pos, 1);
		d->in_pos++;
	}
}

/* Bytes at a member boundary that do not start a member. */
static int gz_garbage(struct ts_decomp *d)
{
	uint64_t at = in_at(d);
	int r;

	raw_reset(d);
	if ((r = gz_resync(d)) < 0)
		return -1;
	if (r == 0 && d->raw_zero)
		return 0; /* zero padding to the end */
	if (r == 1)
		damage(d, "corrupt_input", at, 0, 1, 0,
		       d->member ? "%llu bytes of garbage between gzip members %llu and %llu"
				 : "%llu bytes of garbage before the first gzip member",
		       (unsigned long long)d->raw_total, (unsigned long long)d->member,
		       (unsigned long long)d->member + 1);
	else if (d->member)
		damage(d, "corrupt_input", at, 0, 1, 1,
		       "trailing garbage after gzip member %llu",
		       (unsigned long long)d->member);
	else
		damage(d, "corrupt_input", at, 0, 1, 1, "not gzip data");
	return 0;
}

/* zlib stopped inside member d->member (cut or damaged, got bytes decoded
 * before): the damage, then (returned) what may still go on. */
static long gz_damage(struct ts_decomp *d, int cut, size_t got)
{
	const char *why = d->z.msg ? d->z.msg : "invalid data";
	unsigned long long m = d->member;
	uint64_t at = in_at(d);
	int r;

	raw_reset(d);
	if (d->z_whole) {
		/* The whole member is in the window: start again after its
		 * first byte and look for the next real member. */
		d->z_whole = 0;
		d->held = 0;
		d->in_pos = (size_t)(d->mstart - d->in_base);
		raw_add(d, d->in + d->in_pos, 1);
		d->in_pos++;
		if ((r = gz_resync(d)) < 0)
			return -1;
		if (r == 1 || !cut) {
			/* None of its output goes on: with a wrong CRC the
			 * damage may be anywhere in it. */
			damage(d, "corrupt_input", d->mstart, m, 1, r == 0,
			       "corrupt gzip member %llu: %s", m,
			       cut ? "it runs into the next member" : why);
			return 0;
		}
		damage(d, "corrupt_input", at, m, 0, 1,
		       "unexpected end of gzip member %llu: the input is truncated", m);
		return (long)got;
	}
	/* A large member: its output went on as it was decoded. */
	if (cut) {
		damage(d, "corrupt_input", at, m, 0, 1,
		       "unexpected end of gzip member %llu: the input is truncated", m);
		return (long)got;
	}
	if ((r = gz_resync(d)) < 0)
		return -1;
	damage(d, "corrupt_input", at, m, 1, r == 0,
	       "corrupt gzip member %llu: %s (too large to hold back: its %llu bytes "
	       "decoded before the damage were passed on)",
	       m, why, (unsigned long long)(d->mout + got));
	return (long)got;
}

/* The current member through zlib: bytes, or 0 when it ended with nothing
 * more to give (or with damage: d->brk). */
static long gz_zlib(struct ts_decomp *d)
{
	size_t got = 0;

	switch (z_run(d, &got)) {
	case ZR_FAIL:
		return -1;
	case ZR_DATA:
	case ZR_END:
		d->mout += got;
		return (long)got;
	case ZR_CUT:
		return gz_damage(d, 1, got);
	default:
		return gz_damage(d, 0, got);
	}
}

/*
 * The next member (or the next part of a large one).  *dst/cap is where a
 * whole member may be decoded directly (the caller's buffer, saving a copy);
 * when it does not fit there, or zlib takes over, the data is in d->out and
 * *dst says so.
 */
static long gz_step(struct ts_decomp *d, char **dst, size_t cap)
{
	for (;;) {
		if (d->z_active) {
			/* After the call: holding a member back may move out. */
			long k = gz_zlib(d);
			*dst = d->out;
			if (k != 0 || d->brk)
				return k;
			continue;
		}
		if (d->in_len - d->in_pos < d->in_cap / 2 && top_up(d) < 0)
			return -1;
		size_t avail = d->in_len - d->in_pos;
		if (avail == 0)
			return 0;
		if (!gz_head_ok((unsigned char *)d->in + d->in_pos, avail, d->in_eof)) {
			if (gz_garbage(d) < 0)
				return -1;
			if (d->brk)
				return 0;
			continue; /* zero padding: the end */
		}
		d->member++;
		d->mstart = in_at(d);
		d->mout = 0;
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
				if (grow_out(d) < 0)
					return fail(d, ENOMEM, "out of memory");
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
			/* Too large, or damaged: zlib streams it and says. */
			if (z_begin(d, r == LIBDEFLATE_BAD_DATA) < 0)
				return -1;
			break;
		}
	}
}

/* ---- xz ------------------------------------------------------------------ */

static const char *xz_why(lzma_ret r)
{
	switch (r) {
	case LZMA_MEM_ERROR:
		return "out of memory";
	case LZMA_MEMLIMIT_ERROR:
		return "it needs more than 256 MiB of memory to decode";
	case LZMA_FORMAT_ERROR:
		return "not an xz stream";
	case LZMA_OPTIONS_ERROR:
		return "unsupported options";
	case LZMA_DATA_ERROR:
		return "compressed data is corrupt";
	default:
		return "invalid data";
	}
}

static long xz_step(struct ts_decomp *d, char **dst, size_t cap)
{
	for (;;) {
		if (!d->xz_active) { /* between streams */
			if (d->in_len - d->in_pos < 6 && top_up(d) < 0)
				return -1;
			/* stream padding (zero bytes) before another stream */
			while (d->streams && d->in_pos < d->in_len && d->in[d->in_pos] == 0)
				if (++d->in_pos == d->in_len && top_up(d) < 0)
					return -1;
			if (d->in_len - d->in_pos < 6 && top_up(d) < 0)
				return -1;
			size_t n = d->in_len - d->in_pos;
			if (n == 0 || n < 6 || memcmp(d->in + d->in_pos, "\xfd" "7zXZ\0", 6) != 0) {
				if (n && trailing(d, d->streams ? "xz" : NULL) < 0)
					return -1;
				d->l1_end = 1;
				return 0;
			}
			lzma_ret r = lzma_stream_decoder(&d->xz, XZ_MEMLIMIT, 0);
			if (r != LZMA_OK)
				return fail(d, ENOMEM, "xz: cannot initialise");
			d->xz_inited = 1;
			d->xz_active = 1;
			d->streams++;
		}
		if (d->in_pos == d->in_len && !d->in_eof && top_up(d) < 0)
			return -1;
		d->xz.next_in = (const uint8_t *)d->in + d->in_pos;
		d->xz.avail_in = d->in_len - d->in_pos;
		d->xz.next_out = (uint8_t *)*dst;
		d->xz.avail_out = cap;
		lzma_ret r = lzma_code(&d->xz, d->in_eof ? LZMA_FINISH : LZMA_RUN);
		d->in_pos = d->in_len - d->xz.avail_in;
		size_t n = cap - d->xz.avail_out;
		if (r == LZMA_STREAM_END)
			d->xz_active = 0;
		else if (r == LZMA_BUF_ERROR && d->in_eof) {
			d->xz_active = 0;
			damage(d, "corrupt_input", in_at(d), 0, 0, 1,
			       "unexpected end of xz data: the input is truncated");
		} else if (r != LZMA_OK && r != LZMA_BUF_ERROR) {
			d->xz_active = 0;
			if (r == LZMA_MEM_ERROR)
				return fail(d, ENOMEM, "out of memory");
			damage(d, "corrupt_input", in_at(d), 0, 0, 1, "corrupt xz data: %s",
			       xz_why(r));
		}
		if (n || d->brk)
			return (long)n;
	}
}

/* ---- zstd ---------------------------------------------------------------- */

static int zstd_magic(const unsigned char *p)
{
	return memcmp(p, "\x28\xb5\x2f\xfd", 4) == 0 ||
	       ((p[0] & 0xf0) == 0x50 && memcmp(p + 1, "\x2a\x4d\x18", 3) == 0);
}

static long zs_step(struct ts_decomp *d, char **dst, size_t cap)
{
	for (;;) {
		if (!d->zs_active) { /* between frames */
			if (d->in_len - d->in_pos < 4 && top_up(d) < 0)
				return -1;
			size_t n = d->in_len - d->in_pos;
			if (n < 4 || !zstd_magic((unsigned char *)d->in + d->in_pos)) {
				if (n && trailing(d, d->streams ? "zstd" : NULL) < 0)
					return -1;
				d->l1_end = 1;
				return 0;
			}
			ZSTD_DCtx_reset(d->zs, ZSTD_reset_session_only);
			d->zs_active = 1;
			d->streams++;
		}
		ZSTD_inBuffer ib = {d->in + d->in_pos, d->in_len - d->in_pos, 0};
		ZSTD_outBuffer ob = {*dst, cap, 0};
		size_t r = ZSTD_decompressStream(d->zs, &ob, &ib);
		d->in_pos += ib.pos;
		if (ZSTD_isError(r)) {
			d->zs_active = 0;
			if (ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation)
				return fail(d, ENOMEM, "out of memory");
			damage(d, "corrupt_input", in_at(d), 0, 0, 1, "corrupt zstd data: %s",
			       ZSTD_getErrorName(r));
			return (long)ob.pos;
		}
		if (r == 0)
			d->zs_active = 0;
		if (ob.pos)
			return (long)ob.pos;
		if (d->zs_active && d->in_pos == d->in_len) {
			if (d->in_eof) {
				d->zs_active = 0;
				damage(d, "corrupt_input", in_at(d), 0, 0, 1,
				       "unexpected end of zstd data: the input is truncated");
				return 0;
			}
			if (top_up(d) < 0)
				return -1;
		}
	}
}

/* ---- bzip2 ----------------------------------------------------------------- */

/*
 * libbz2, not libarchive: libarchive's bzip2 reader drops the block it was
 * filling when the input ends, so a cut-off file gave up to 64 KiB less
 * than bzip2 -dc.
 */
static const char *bz_why(int r)
{
	switch (r) {
	case BZ_DATA_ERROR_MAGIC:
		return "not a bzip2 stream";
	case BZ_DATA_ERROR:
		return "compressed data is corrupt";
	default:
		return "invalid data";
	}
}

static long bz_step(struct ts_decomp *d, char **dst, size_t cap)
{
	if (cap > UINT32_MAX)
		cap = UINT32_MAX;
	for (;;) {
		if (!d->bz_active) { /* between streams */
			if (d->in_len - d->in_pos < 4 && top_up(d) < 0)
				return -1;
			size_t n = d->in_len - d->in_pos;
			const char *p = d->in + d->in_pos;
			if (n < 4 || memcmp(p, "BZh", 3) != 0 || p[3] < '1' || p[3] > '9') {
				if (n && trailing(d, d->streams ? "bzip2" : NULL) < 0)
					return -1;
				d->l1_end = 1;
				return 0;
			}
			if (d->bz_inited)
				BZ2_bzDecompressEnd(&d->bz);
			memset(&d->bz, 0, sizeof(d->bz));
			d->bz_inited = BZ2_bzDecompressInit(&d->bz, 0, 0) == BZ_OK;
			if (!d->bz_inited)
				return fail(d, ENOMEM, "bzip2: cannot initialise");
			d->bz_active = 1;
			d->streams++;
		}
		d->bz.next_in = d->in + d->in_pos;
		d->bz.avail_in = (unsigned)(d->in_len - d->in_pos);
		d->bz.next_out = *dst;
		d->bz.avail_out = (unsigned)cap;
		int r = BZ2_bzDecompress(&d->bz);
		d->in_pos = d->in_len - d->bz.avail_in;
		size_t n = cap - d->bz.avail_out;
		if (r == BZ_STREAM_END) {
			d->bz_active = 0;
		} else if (r != BZ_OK) {
			d->bz_active = 0;
			if (r == BZ_MEM_ERROR)
				return fail(d, ENOMEM, "out of memory");
			damage(d, "corrupt_input", in_at(d), 0, 0, 1, "corrupt bzip2 data: %s",
			       bz_why(r));
		} else if (!n && d->in_pos == d->in_len) {
			if (d->in_eof) {
				d->bz_active = 0;
				damage(d, "corrupt_input", in_at(d), 0, 0, 1,
				       "unexpected end of bzip2 data: the input is truncated");
			} else if (top_up(d) < 0) {
				return -1;
			}
		}
		if (n || d->brk)
			return (long)n;
	}
}

/* ---- libarchive's data, block by block ------------------------------------ */

/*
 * archive_read_data() copies several blocks into one buffer and, when one
 * fails, returns the error and drops what it had copied: the data before
 * damage would depend on the buffer's size.  Blocks are taken one at a time
 * instead, holes in sparse entries filled with zero bytes as
 * archive_read_data() fills them.
 */

/* The next bytes of the entry at *p: > 0, 0 at its end, or libarchive's
 * status (< 0). */
static la_ssize_t ar_block(struct archive *a, struct ar_blocks *b, const char **p)
{
	static const char zeros[65536];

	for (;;) {
		if (b->off > b->pos) { /* a hole before the block */
			uint64_t gap = b->off - b->pos;
			size_t k = gap < sizeof(zeros) ? (size_t)gap : sizeof(zeros);
			*p = zeros;
			b->pos += k;
			return (la_ssize_t)k;
		}
		if (b->eof)
			return 0;
		if (b->n) {
			*p = b->p;
			la_ssize_t n = (la_ssize_t)b->n;
			b->pos += b->n;
			b->n = 0;
			return n;
		}
		const void *q;
		size_t n;
		la_int64_t off;
		int r = archive_read_data_block(a, &q, &n, &off);
		if (r == ARCHIVE_EOF) {
			/* A hole at the end, up to the entry's size: warc and
			 * xar put the end past it (libarchive 3.6). */
			if (off >= 0 && b->size >= 0 && off > b->size)
				off = b->size;
			if (off >= 0 && (uint64_t)off > b->pos)
				b->off = (uint64_t)off;
			b->eof = 1;
			continue;
		}
		if (r == ARCHIVE_RETRY)
			continue;
		if (r < ARCHIVE_WARN)
			return r;
		if (n == 0)
			continue;
		b->p = q;
		b->n = n;
		b->off = off >= 0 && (uint64_t)off > b->pos ? (uint64_t)off : b->pos;
	}
}

/* ---- lz4 through libarchive ------------------------------------------------ */

/*
 * libarchive's lz4 reader looks for another frame after each one and takes
 * the four bytes it looked at even when they are not one, so where the
 * data ended is lost.  This walks the frames (headers and block sizes, not
 * the data) and hands libarchive only whole frames: the first bytes that
 * are not a frame stay ours, for trailing().
 */
enum { W_MAGIC, W_BLOCK, W_LEGACY, W_DONE, W_OFF };
#define LZ4_LEGACY_BOUND (((uint64_t)8 << 20) + ((uint64_t)8 << 20) / 255 + 16)

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* How far into the window libarchive may read. */
static size_t lz4_gate(struct ts_decomp *d)
{
	struct lz4_walk *w = &d->w;
	uint64_t end = d->in_base + d->in_len;

	if (w->at < in_at(d))
		w->at = in_at(d);
	while (w->state != W_DONE && w->state != W_OFF) {
		if (w->skip) {
			uint64_t k = end - w->at < w->skip ? end - w->at : w->skip;
			w->at += k;
			w->skip -= k;
			if (w->skip)
				break;
		}
		const unsigned char *p = (unsigned char *)d->in + (w->at - d->in_base);
		uint64_t avail = end - w->at;
		if (avail < 4) {
			if (d->in_eof) /* the end, or a cut-off block header */
				w->state = w->state == W_BLOCK ? W_OFF : W_DONE;
			break;
		}
		uint32_t v = le32(p);
		if (w->state == W_BLOCK) {
			w->at += 4;
			if (v == 0) { /* end mark, then the content checksum */
				w->skip = w->flg & 4 ? 4 : 0;
				w->state = W_MAGIC;
			} else {
				w->skip = (v & 0x7fffffffu) + (w->flg & 0x10 ? 4 : 0);
			}
			continue;
		}
		if (w->state == W_LEGACY) {
			if (v && v <= LZ4_LEGACY_BOUND) {
				w->at += 4;
				w->skip = v;
				continue;
			}
			w->state = W_MAGIC; /* not a block: maybe the next frame, or
					     * zero padding */
		}
		if (v == 0x184D2204) {
			if (avail < 7 && !d->in_eof)
				break;
			int flg = avail >= 5 ? p[4] : 0;
			if (avail < 7 || (flg >> 6) != 1) {
				w->state = W_OFF; /* let libarchive say what is wrong */
				break;
			}
			size_t hlen = 7 + (flg & 8 ? 8 : 0) + (flg & 1 ? 4 : 0);
			if (avail < hlen) {
				if (d->in_eof)
					w->state = W_OFF;
				break;
			}
			w->at += hlen;
			w->flg = flg;
			w->state = W_BLOCK;
		} else if (v == 0x184C2102) {
			w->at += 4;
			w->state = W_LEGACY;
		} else if ((v & 0xfffffff0u) == 0x184D2A50) {
			if (avail < 8) {
				if (d->in_eof)
					w->state = W_OFF;
				break;
			}
			w->skip = le32(p + 4);
			w->at += 8;
		} else {
			w->state = W_DONE;
		}
	}
	if (w->state == W_OFF || (d->in_eof && w->state != W_DONE))
		return d->in_len;
	return (size_t)(w->at - d->in_base);
}

static la_ssize_t ar1_read(struct archive *a, void *ud, const void **buf)
{
	struct ts_decomp *d = ud;

	for (;;) {
		size_t lim = d->codec == TS_FMT_LZ4 ? lz4_gate(d) : d->in_len;
		if (lim > d->in_pos) {
			*buf = d->in + d->in_pos;
			la_ssize_t n = (la_ssize_t)(lim - d->in_pos);
			d->in_pos = lim;
			return n;
		}
		if (d->in_eof || (d->codec == TS_FMT_LZ4 && d->w.state == W_DONE))
			return 0;
		if (top_up_keep(d, KEEP_BACK) < 0) {
			archive_set_error(a, d->err_errno, "%s", d->err);
			return ARCHIVE_FATAL;
		}
	}
}

/* libarchive stopped reading lz4: damage at its position. */
static long ar1_damage(struct ts_decomp *d, const char *what)
{
	if (d->failed)
		return -1;
	const char *why = archive_error_string(d->ar1);
	if (!why || strstr(why, "Unrecognized archive format"))
		why = "corrupt or truncated data"; /* its first block did not decode */
	damage(d, "corrupt_input", (uint64_t)archive_filter_bytes(d->ar1, -1), 0, 0, 1,
	       "corrupt %s data: %s", what, why);
	return 0;
}

/* An lz4 frame that holds nothing, at the start of the input: its length,
 * else 0. */
static size_t empty_stream(const struct ts_decomp *d)
{
	const unsigned char *p = (const unsigned char *)d->in;
	size_t n = d->in_len;

	if (d->in_base != 0 || d->failed)
		return 0;
	if (n >= 4 && le32(p) == 0x184C2102) /* legacy: no block after it */
		return n < 8 || le32(p + 4) == 0 || le32(p + 4) > LZ4_LEGACY_BOUND ? 4 : 0;
	if (n < 7 || le32(p) != 0x184D2204)
		return 0;
	size_t h = 7 + (p[4] & 8 ? 8 : 0) + (p[4] & 1 ? 4 : 0);
	size_t end = h + 4 + (p[4] & 4 ? 4 : 0);
	return n >= end && le32(p + h) == 0 ? end : 0;
}

/* libarchive's end of the data: its own count says where the data ended
 * (it only looked at the bytes after it); what follows is for trailing(). */
static long ar1_end(struct ts_decomp *d, const char *what)
{
	uint64_t end = (uint64_t)archive_filter_bytes(d->ar1, -1);

	if (end >= d->in_base && end <= d->in_base + d->in_len)
		d->in_pos = (size_t)(end - d->in_base);
	d->l1_end = 1;
	return trailing(d, what) < 0 ? -1 : 0;
}

static long ar1_step(struct ts_decomp *d, char **dst, size_t cap)
{
	const char *what = ts_format_name(d->codec);

	if (!d->ar1_open) {
		struct archive_entry *ae;
		d->ar1_open = 1;
		d->b1.size = -1;
		if (!(d->ar1 = archive_read_new()))
			return fail(d, ENOMEM, "out of memory");
		archive_read_append_filter(d->ar1, ARCHIVE_FILTER_LZ4);
		archive_read_support_format_raw(d->ar1);
		if (archive_read_open(d->ar1, d, NULL, ar1_read, NULL) != ARCHIVE_OK ||
		    archive_read_next_header(d->ar1, &ae) != ARCHIVE_OK) {
			/* The raw reader wants one byte at least: an empty
			 * stream fails as a damaged one does.  Tell them apart. */
			size_t end = empty_stream(d);
			if (!end)
				return ar1_damage(d, what);
			d->in_pos = end;
			d->l1_end = 1;
			return trailing(d, what) < 0 ? -1 : 0;
		}
	}
	(void)cap;
	for (;;) {
		const char *p;
		la_ssize_t n = ar_block(d->ar1, &d->b1, &p);
		if (n > 0) {
			*dst = (char *)p;
			return (long)n;
		}
		if (n < 0)
			return ar1_damage(d, what);
		return ar1_end(d, what);
	}
}

/* ---- the compressed (or plain) stream ------------------------------------ */

/* Next bytes of the stream under any archive: n > 0 at *dst (cap bytes
 * there, or in d->out), 0 at the end or with damage due (d->brk), -1. */
static long l1_step(struct ts_decomp *d, char **dst, size_t cap)
{
	if (d->l1_end || d->failed)
		return d->failed ? -1 : 0;
	if (*dst == d->out)
		cap = d->out_cap;
	switch (d->codec) {
	case TS_FMT_GZIP:
		return gz_step(d, dst, cap);
	case TS_FMT_ZLIB:
	case TS_FMT_DEFLATE:
		return zl_step(d, dst);
	case TS_FMT_XZ:
		return xz_step(d, dst, cap);
	case TS_FMT_ZSTD:
		return zs_step(d, dst, cap);
	case TS_FMT_BZIP2:
		return bz_step(d, dst, cap);
	case TS_FMT_LZ4:
		return ar1_step(d, dst, cap);
	default: {
		long n = d->src(d->src_ctx, *dst, cap);
		if (n == TS_SOURCE_BREAK) { /* the source's own damage */
			damage(d, "corrupt_input", d->nread, 0, 0, 0, "damaged input");
			return 0;
		}
		if (n < 0)
			return read_failed(d);
		if (n == 0)
			d->l1_end = 1;
		d->nread += (uint64_t)n;
		return n;
	}
	}
}

/* ---- limits --------------------------------------------------------------- */

/* n more bytes are to be handed over: how many the limits allow.  Past
 * them, the bomb is the damage due and nothing queued goes on. */
static long give(struct ts_decomp *d, long n)
{
	uint64_t room = UINT64_MAX, by_ratio = UINT64_MAX;
	int size_hit;

	if (d->lim.max_size)
		room = d->lim.max_size > d->total_out ? d->lim.max_size - d->total_out : 0;
	if (d->lim.max_ratio && d->codec != TS_FMT_PLAIN) {
		uint64_t in = ts_decomp_bytes_in(d);
		uint64_t cap = in > UINT64_MAX / d->lim.max_ratio ? UINT64_MAX
								    : in * d->lim.max_ratio;
		if (cap < TS_RATIO_GRACE)
			cap = TS_RATIO_GRACE;
		by_ratio = cap > d->total_out ? cap - d->total_out : 0;
	}
	if ((uint64_t)n <= room && (uint64_t)n <= by_ratio) {
		d->total_out += (uint64_t)n;
		if (d->codec == TS_FMT_PLAIN && !d->archive)
			d->handed += (uint64_t)n;
		return n;
	}
	size_hit = room <= by_ratio;
	n = (long)(size_hit ? room : by_ratio);
	d->total_out += (uint64_t)n;
	if (d->codec == TS_FMT_PLAIN && !d->archive)
		d->handed += (uint64_t)n;
	d->peek_pos = d->peek_len;
	d->pend_n = 0;
	d->l1_broken = 0;
	if (size_hit)
		damage(d, "decompression_bomb", ts_decomp_bytes_in(d), 0, 0, 1,
		       "decompression bomb: more than %llu bytes decompressed (--max-size)",
		       (unsigned long long)d->lim.max_size);
	else
		damage(d, "decompression_bomb", ts_decomp_bytes_in(d), 0, 0, 1,
		       "decompression bomb: expands more than %llu times (--max-ratio)",
		       (unsigned long long)d->lim.max_ratio);
	return n > 0 ? n : report_due(d);
}

/* ---- archives --------------------------------------------------------------- */

/* libarchive reads the stream: the peeked bytes, then the rest.  Damage in
 * the compression ends the archive there; it is reported when libarchive
 * stops (ar_stopped). */
static la_ssize_t ar_read(struct archive *a, void *ud, const void **buf)
{
	struct ts_decomp *d = ud;
	long n;

	if (d->peek_pos < d->peek_len) {
		*buf = d->peek + d->peek_pos;
		n = (long)(d->peek_len - d->peek_pos);
		d->peek_pos = d->peek_len;
	} else if (d->pend_n) {
		*buf = d->pend;
		n = (long)d->pend_n;
		d->pend_n = 0;
	} else if (d->brk || d->l1_broken) {
		if (d->brk) {
			d->brk = 0;
			d->l1_broken = 1;
			d->dmg.fatal = 1;
		}
		return 0;
	} else if (d->codec == TS_FMT_PLAIN) {
		if (d->l1_end)
			return 0;
		n = d->src(d->src_ctx, d->in, d->in_cap);
		if (n < 0) {
			if (n != -1)
				errno = EIO;
			read_failed(d);
			archive_set_error(a, d->err_errno, "%s", d->err);
			return ARCHIVE_FATAL;
		}
		if (n == 0)
			d->l1_end = 1;
		d->nread += (uint64_t)n;
		*buf = d->in;
	} else {
		char *p = d->out;
		n = l1_step(d, &p, d->out_cap);
		if (n < 0) {
			archive_set_error(a, d->err_errno, "%s", d->err);
			return ARCHIVE_FATAL;
		}
		if (d->brk) {
			d->brk = 0;
			d->l1_broken = 1;
			d->dmg.fatal = 1;
		}
		*buf = p;
	}
	/* bytes_in counts what was read once: 7z reads its end first, and
	 * a seek past the end of input reads nothing */
	uint64_t end = d->ar_pos + (uint64_t)n;
	if (end > d->ar_hi) {
		if (d->codec == TS_FMT_PLAIN)
			d->handed += end - (d->ar_pos > d->ar_hi ? d->ar_pos : d->ar_hi);
		d->ar_hi = end;
	}
	d->ar_pos = end;
	return (la_ssize_t)n;
}

/* 7z keeps its index at the end: a regular file lets libarchive seek. */
static la_int64_t ar_seek(struct archive *a, void *ud, la_int64_t off, int whence)
{
	struct ts_decomp *d = ud;
	struct stat st;
	int64_t to = off;

	if (whence == SEEK_CUR)
		to += (int64_t)d->ar_pos;
	else if (whence == SEEK_END) {
		if (fstat(d->fd, &st) < 0)
			goto fail;
		to += (int64_t)st.st_size - d->fd_start;
	}
	if (to < 0 || lseek(d->fd, d->fd_start + to, SEEK_SET) < 0)
		goto fail;
	d->peek_pos = d->peek_len;
	d->l1_end = 0;
	d->ar_pos = (uint64_t)to;
	return to;
fail:
	archive_set_error(a, errno, "cannot seek: %s", strerror(errno));
	return ARCHIVE_FATAL;
}

static int ar_start(struct ts_decomp *d, int forced)
{
	if (!(d->ar = archive_read_new()))
		return (int)fail(d, ENOMEM, "out of memory");
	if (forced) /* whatever libarchive makes of it, compressed or not */
		archive_read_support_filter_all(d->ar);
	/* Every archive format but mtree and raw: mtree's text bidder claims
	 * plain NDJSON. */
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
	archive_read_set_callback_data(d->ar, d);
	archive_read_set_read_callback(d->ar, ar_read);
	/* Only 7z, which cannot do without: with a seek callback libarchive
	 * reads zip by its central directory, which can disagree with the
	 * entries (a damaged zip then lost them silently), and a file would
	 * read differently from a pipe. */
	if (d->seekable && d->codec == TS_FMT_PLAIN && d->peek_len >= 6 &&
	    memcmp(d->peek, "7z\xbc\xaf\x27\x1c", 6) == 0)
		archive_read_set_seek_callback(d->ar, ar_seek);
	return 0;
}

/* libarchive failed (fatal or not): the damage due.  When the compression
 * under it broke first, that is the damage, and it ends the archive. */
static void ar_stopped(struct ts_decomp *d, int fatal)
{
	const char *why;

	if (d->l1_broken) {
		d->l1_broken = 0;
		d->brk = 1;
		d->dmg.fatal = 1;
		return;
	}
	why = archive_error_string(d->ar);
	damage(d, "corrupt_input", ts_decomp_bytes_in(d), 0, 0, fatal, "damaged archive: %s",
	       why ? why : "unreadable");
}

static long ar_data(struct ts_decomp *d, char **p)
{
	const char *q = NULL;
	la_ssize_t n = ar_block(d->ar, &d->b2, &q);

	*p = (char *)q;
	if (n > 0)
		return (long)n;
	d->entry_done = 1;
	if (n == 0)
		return 0;
	if (d->failed)
		return -1;
	ar_stopped(d, n == ARCHIVE_FATAL);
	return 0;
}

int ts_decomp_next_entry(struct ts_decomp *d, const char **name)
{
	struct archive_entry *ae;

	*name = NULL;
	d->cpy_n = 0; /* the rest of the last entry is skipped */
	if (!d->archive) /* one stream: its damage comes after its data */
		return d->entries++ ? 0 : 1;
	if (d->brk)
		return (int)report_due(d);
	if (d->done)
		return 0;
	if (d->failed)
		return (int)fail(d, d->err_errno, "%s", d->err);
	if (!d->ar_open) {
		d->ar_open = 1;
		if (archive_read_open1(d->ar) != ARCHIVE_OK) {
			if (d->failed)
				return -1;
			ar_stopped(d, 1);
			return (int)report_due(d);
		}
	}
	for (;;) {
		int r = archive_read_next_header(d->ar, &ae);
		if (r == ARCHIVE_RETRY)
			continue;
		if (r == ARCHIVE_EOF) {
			if (d->l1_broken) {
				ar_stopped(d, 1);
				return (int)report_due(d);
			}
			d->done = 1;
			return 0;
		}
		if (r < ARCHIVE_WARN) {
			if (d->failed)
				return -1;
			ar_stopped(d, r == ARCHIVE_FATAL);
			return (int)report_due(d);
		}
		if (archive_entry_filetype(ae) != AE_IFREG)
			continue; /* directories, links, devices: no data */
		d->entries++;
		d->entry_done = 0;
		memset(&d->b2, 0, sizeof(d->b2));
		d->b2.size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : -1;
		*name = archive_entry_pathname(ae);
		if (!*name)
			*name = "";
		return 1;
	}
}

/* ---- reading ----------------------------------------------------------------- */

/* The next bytes of the current entry, at *p: in dst (cap bytes) when a
 * decoder could write there, else in d's own buffers (dst NULL: always). */
static long next(struct ts_decomp *d, char **p, char *dst, size_t cap)
{
	long n;

	for (;;) {
		if (!d->archive && d->peek_pos < d->peek_len) {
			*p = d->peek + d->peek_pos;
			n = (long)(d->peek_len - d->peek_pos);
			d->peek_pos = d->peek_len;
			return give(d, n);
		}
		if (!d->archive && d->pend_n) {
			*p = (char *)d->pend;
			n = (long)d->pend_n;
			d->pend_n = 0;
			return give(d, n);
		}
		if (d->brk)
			return report_due(d);
		if (d->done || d->entry_done)
			return 0;
		if (d->failed)
			return fail(d, d->err_errno, "%s", d->err);
		if (d->archive) {
			n = ar_data(d, p);
		} else {
			*p = dst ? dst : d->out;
			n = l1_step(d, p, dst ? cap : d->out_cap);
			if (n == 0 && !d->brk && !d->failed)
				d->entry_done = 1;
		}
		if (n > 0)
			return give(d, n);
		if (n < 0)
			return n;
	}
}

long ts_decomp_chunk(struct ts_decomp *d, const char **p)
{
	char *q = NULL;
	long n;

	if (d->cpy_n) {
		*p = d->cpy;
		n = (long)d->cpy_n;
		d->cpy_n = 0;
		return n;
	}
	n = next(d, &q, NULL, 0);
	*p = q;
	return n;
}

long ts_decomp_read(void *ctx, char *dst, size_t n)
{
	struct ts_decomp *d = ctx;
	char *p = NULL;
	long k;

	if (n == 0)
		return 0;
	if (!d->cpy_n) {
		k = next(d, &p, dst, n);
		if (k <= 0 || p == dst)
			return k;
		d->cpy = p;
		d->cpy_n = (size_t)k;
	}
	if (n > d->cpy_n)
		n = d->cpy_n;
	memcpy(dst, d->cpy, n);
	d->cpy += n;
	d->cpy_n -= n;
	return (long)n;
}

/* ---- opening ---------------------------------------------------------------- */

/* The length of the first line (its newline included) when it is text: a
 * newline with no NUL before it; else 0. */
static size_t text_line(const char *p, size_t n)
{
	const char *nl = memchr(p, '\n', n);

	if (!nl || memchr(p, 0, (size_t)(nl - p)))
		return 0;
	return (size_t)(nl - p) + 1;
}

/*
 * Could p[0 .. n) still be one of the binary headers that may hold a
 * newline byte before any NUL, and that ts_format_detect() knows only from
 * more bytes than such a first line: an old binary cpio (its device number
 * 10), LHA (a header size or checksum of 10), a skippable frame (zstd, or
 * lz4 after it; a frame size of 10)?  Only their first bytes are looked
 * at, so the answer goes from yes to no as bytes come, never back: the
 * first line decides the same however the input was cut into reads.
 */
static int binary_head(const char *s, size_t n)
{
	static const unsigned char skip[4] = {0x50, 0x2a, 0x4d, 0x18};
	const unsigned char *p = (const unsigned char *)s;
	int cpio = n < 1 || p[0] == 0xc7 || p[0] == 0x71;
	int lha = (n < 3 || p[2] == '-') && (n < 4 || p[3] == 'l') && (n < 7 || p[6] == '-');
	int frame = n < 1 || (p[0] & 0xf0) == skip[0];

	if (n >= 2)
		cpio = cpio && (p[0] == 0xc7 ? p[1] == 0x71 : p[1] == 0xc7);
	for (size_t i = 1; i < 4 && i < n; i++)
		frame = frame && p[i] == skip[i];
	return cpio || lha || frame;
}

/* Does the first line of p[0 .. n) decide what the bytes are?  When it is
 * text and no binary header can follow, they are an archive only when the
 * line itself shows one (ar, warc), so a tar whose first name holds a
 * newline is text, from a file as from a pipe giving a few bytes a read. */
static int text_decides(const char *p, size_t n)
{
	return text_line(p, n) && !binary_head(p, n);
}

/* Is the content that starts with p[0 .. n) an archive?  1 yes, 0 no, -1
 * more bytes are needed (eof: there are no more). */
static int peek_decide(const char *p, size_t n, int eof, int compressed)
{
	size_t z = 0;

	if (!compressed && text_decides(p, n))
		return ts_format_detect((const unsigned char *)p, text_line(p, n)) ==
		       TS_FMT_ARCHIVE;
	if (ts_format_detect((const unsigned char *)p, n) == TS_FMT_ARCHIVE)
		return 1;
	while (z < n && p[z] == 0)
		z++;
	if (z == n) { /* all zero so far: an empty tar, or zero bytes */
		if (eof) /* (compressed zeros are data: see decomp.h) */
			return !compressed && n >= EMPTY_TAR_MIN && n <= EMPTY_TAR_MAX &&
			       n % 512 == 0;
		return n >= PEEK_MAX ? 0 : -1;
	}
	if (eof || n >= PEEK_MAX)
		return 0;
	/* A first line of text (a newline, no NUL before it) rules out every
	 * archive the magic bytes would not already have shown. */
	const char *nl = memchr(p, '\n', n);
	if (nl && !memchr(p, 0, (size_t)(nl - p)))
		return 0;
	return n >= ISO_MAGIC_END ? 0 : -1; /* every magic has been looked at */
}

/* Decode (or read) the first bytes into peek until they decide. */
static int peek_fill(struct ts_decomp *d)
{
	int eof = d->codec == TS_FMT_PLAIN && d->l1_end;

	for (;;) {
		int r = peek_decide(d->peek, d->peek_len, eof, d->codec != TS_FMT_PLAIN);
		if (r >= 0)
			return r;
		if (d->codec == TS_FMT_PLAIN) {
			size_t want = PEEK_MAX - d->peek_len;
			if (want > PEEK_STEP)
				want = PEEK_STEP;
			long n = d->src(d->src_ctx, d->peek + d->peek_len, want);
			if (n == TS_SOURCE_BREAK) {
				damage(d, "corrupt_input", d->nread, 0, 0, 0, "damaged input");
				eof = 1;
				continue;
			}
			if (n < 0) { /* reported after what was read */
				read_failed(d);
				eof = 1;
				continue;
			}
			if (n == 0) {
				d->l1_end = 1;
				eof = 1;
			}
			d->peek_len += (size_t)n;
			d->nread += (uint64_t)n;
			continue;
		}
		char *p = d->out;
		long n = l1_step(d, &p, d->out_cap);
		if (n < 0) { /* reported after what was decoded */
			eof = 1;
			continue;
		}
		if (n == 0 || d->brk) /* the end, or damage: decide on what came */
			eof = 1;
		size_t k = PEEK_MAX - d->peek_len;
		if (k > (size_t)n)
			k = (size_t)n;
		memcpy(d->peek + d->peek_len, p, k);
		d->peek_len += k;
		if (k < (size_t)n) {
			d->pend = p + k;
			d->pend_n = (size_t)n - k;
		}
	}
}

static struct ts_decomp *setup(struct ts_decomp *d, enum ts_format fmt)
{
	enum ts_format raw;
	long n;

	d->err_off = -1;
	if (!(d->peek = malloc(PEEK_MAX)))
		goto fail;
	while (d->peek_len < RAW_PEEK) {
		n = d->src(d->src_ctx, d->peek + d->peek_len, RAW_PEEK - d->peek_len);
		if (n == TS_SOURCE_BREAK)
			errno = EIO;
		if (n < 0 && d->peek_len == 0)
			goto fail; /* nothing to read at all */
		if (n < 0) { /* reported after the bytes read before it */
			read_failed(d);
			d->in_eof = 1;
			break;
		}
		if (n == 0) {
			d->in_eof = 1;
			break;
		}
		d->peek_len += (size_t)n;
		/* A first line of text is neither compressed nor an archive:
		 * a live stream of NDJSON is not held up waiting for more. */
		if (fmt == TS_FMT_AUTO && text_decides(d->peek, d->peek_len) &&
		    ts_format_detect((unsigned char *)d->peek, d->peek_len) == TS_FMT_PLAIN)
			break;
	}
	d->nread = d->peek_len;
	raw = ts_format_detect((unsigned char *)d->peek, d->peek_len);
	/* ... whatever the bytes after it would show (a tar header): the
	 * same as when the line came in a read of its own */
	if (fmt == TS_FMT_AUTO && raw == TS_FMT_ARCHIVE && text_decides(d->peek, d->peek_len) &&
	    ts_format_detect((unsigned char *)d->peek, text_line(d->peek, d->peek_len)) !=
		    TS_FMT_ARCHIVE)
		raw = TS_FMT_PLAIN;
	if (fmt == TS_FMT_AUTO || fmt == TS_FMT_ARCHIVE) {
		d->codec = raw == TS_FMT_ARCHIVE ? TS_FMT_PLAIN : raw;
		d->archive = fmt == TS_FMT_ARCHIVE || raw == TS_FMT_ARCHIVE ? 1 : -1;
	} else {
		d->codec = fmt;
	}
	d->out_cap = OUT_MIN;
	if (!(d->out = malloc(d->out_cap)))
		goto fail;
	d->in_cap = IN_MIN;
	if (d->codec != TS_FMT_PLAIN && !(d->in = malloc(d->in_cap)))
		goto fail;
	if (d->codec != TS_FMT_PLAIN) {
		memcpy(d->in, d->peek, d->peek_len);
		d->in_len = d->peek_len;
		d->peek_len = 0;
		if (d->in_len == 0) /* nothing at all: nothing to decode */
			d->l1_end = 1;
	} else if (d->in_eof) {
		d->l1_end = 1;
	}
	switch (d->codec) {
	case TS_FMT_GZIP:
		if (!(d->ld = libdeflate_alloc_decompressor()))
			goto fail;
		break;
	case TS_FMT_ZSTD:
		if (!(d->zs = ZSTD_createDStream()))
			goto fail;
		break;
	default:
		break;
	}
	if (d->archive == -1) {
		int r = peek_fill(d);
		if (r < 0)
			goto fail;
		d->archive = r;
	}
	if (d->archive) {
		if (!d->in && !(d->in = malloc(d->in_cap)))
			goto fail;
		if (d->brk) { /* the compression broke already: after the archive */
			d->brk = 0;
			d->l1_broken = 1;
			d->dmg.fatal = 1;
		}
		if (ar_start(d, fmt == TS_FMT_ARCHIVE) < 0)
			goto fail;
	}
	return d;
fail:
	if (!errno)
		errno = ENOMEM;
	{
		int e = errno;
		ts_decomp_free(d);
		errno = e;
	}
	return NULL;
}

struct ts_decomp *ts_decomp_open(ts_source_fn read, void *ctx, enum ts_format fmt,
				 const struct ts_limits *lim)
{
	struct ts_decomp *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->fd = -1;
	d->src = read;
	d->src_ctx = ctx;
	if (lim)
		d->lim = *lim;
	return setup(d, fmt);
}

struct ts_decomp *ts_decomp_open_fd(int fd, enum ts_format fmt, const struct ts_limits *lim)
{
	struct ts_decomp *d = calloc(1, sizeof(*d));
	struct stat st;

	if (!d)
		return NULL;
	d->fd = fd;
	d->src = ts_source_fd;
	d->src_ctx = &d->fd;
	if (lim)
		d->lim = *lim;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (d->fd_start = lseek(fd, 0, SEEK_CUR)) >= 0)
		d->seekable = 1;
	return setup(d, fmt);
}

void ts_decomp_free(struct ts_decomp *d)
{
	if (!d)
		return;
	if (d->ld)
		libdeflate_free_decompressor(d->ld);
	if (d->z_inited)
		inflateEnd(&d->z);
	if (d->xz_inited)
		lzma_end(&d->xz);
	if (d->bz_inited)
		BZ2_bzDecompressEnd(&d->bz);
	if (d->zs)
		ZSTD_freeDStream(d->zs);
	if (d->ar1)
		archive_read_free(d->ar1);
	if (d->ar)
		archive_read_free(d->ar);
	free(d->in);
	free(d->out);
	free(d->peek);
	free(d->raw);
	free(d);
}

/* ---- questions ---------------------------------------------------------------- */

enum ts_format ts_decomp_format(const struct ts_decomp *d)
{
	return d->archive == 1 ? TS_FMT_ARCHIVE : d->codec;
}

const struct ts_damage *ts_decomp_damage(const struct ts_decomp *d)
{
	return d->shown ? &d->dmg : NULL;
}

const char *ts_decomp_error(const struct ts_decomp *d, int64_t *offset)
{
	if (!d->failed)
		return NULL;
	if (offset)
		*offset = d->err_off;
	return d->err;
}

int ts_decomp_error_is_io(const struct ts_decomp *d)
{
	return d->failed;
}

uint64_t ts_decomp_bytes_in(const struct ts_decomp *d)
{
	if (d->codec != TS_FMT_PLAIN)
		return in_at(d);
	return d->handed;
}

uint64_t ts_decomp_bytes_out(const struct ts_decomp *d)
{
	return d->total_out;
}
