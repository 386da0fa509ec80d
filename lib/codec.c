/* codec.c — see codec.h. */
#include "codec.h"

#include <errno.h>
#include <libdeflate.h>
#include <string.h>
#include <zlib.h>

/*
 * Two header bytes are a weak magic: one plain-text start in 31 passes the
 * checksum ("x marks", "80 GET", "hCat").  Believe them only when the first
 * bytes also inflate without error.  A preset dictionary (FDICT) could not
 * be decoded anyway, and "x " sets that bit.
 */
static int zlib_plausible(const unsigned char *p, size_t n)
{
	unsigned char out[4096];
	z_stream z;
	int r = Z_OK;

	if (p[1] & 0x20)
		return 0;
	memset(&z, 0, sizeof(z));
	if (inflateInit(&z) != Z_OK)
		return 1; /* cannot tell: trust the header */
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)(n < 512 ? n : 512);
	for (int i = 0; i < 16 && r == Z_OK && z.avail_in > 0; i++) {
		z.next_out = out;
		z.avail_out = sizeof(out);
		r = inflate(&z, Z_NO_FLUSH);
	}
	inflateEnd(&z);
	return r == Z_OK || r == Z_STREAM_END || r == Z_BUF_ERROR;
}

/* A tar header: the "ustar" magic, or (v7) a checksum that adds up over a
 * header with a name and an octal mode. */
static int tar_header(const unsigned char *p, size_t n)
{
	unsigned long want = 0, sum = 0;
	size_t i;
	int digits = 0;

	if (n >= 262 && memcmp(p + 257, "ustar", 5) == 0)
		return 1;
	if (n < 512 || p[0] == 0)
		return 0;
	for (i = 100; i < 108; i++)
		if (!(p[i] >= '0' && p[i] <= '7') && p[i] != ' ' && p[i] != 0)
			return 0;
	for (i = 148; i < 156 && p[i] == ' '; i++)
		;
	for (; i < 156 && p[i] >= '0' && p[i] <= '7'; i++, digits++)
		want = want * 8 + (unsigned long)(p[i] - '0');
	for (; i < 156; i++)
		if (p[i] != ' ' && p[i] != 0)
			return 0;
	for (i = 0; i < 512; i++)
		sum += i >= 148 && i < 156 ? ' ' : p[i];
	return digits && sum == want;
}

static int all_of(const unsigned char *p, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (!p[i] || !strchr(set, p[i]))
			return 0;
	return 1;
}

/* cpio in all its variants: odc ("070707", octal), newc and crc ("070701",
 * "070702", hex), and the old binary header in either byte order. */
static int cpio_header(const unsigned char *p, size_t n)
{
	if (n >= 76 && memcmp(p, "070707", 6) == 0)
		return all_of(p + 6, 70, "01234567");
	if (n >= 110 && (memcmp(p, "070701", 6) == 0 || memcmp(p, "070702", 6) == 0))
		return all_of(p + 6, 104, "0123456789abcdefABCDEF");
	if (n >= 26 && ((p[0] == 0xc7 && p[1] == 0x71) || (p[0] == 0x71 && p[1] == 0xc7))) {
		size_t namesize = p[0] == 0xc7 ? (size_t)p[20] | (size_t)p[21] << 8
					       : (size_t)p[20] << 8 | (size_t)p[21];
		unsigned mode = p[0] == 0xc7 ? (unsigned)p[6] | (unsigned)p[7] << 8
					     : (unsigned)p[6] << 8 | (unsigned)p[7];
		/* a file type, and a NUL-terminated name where it says */
		if (namesize < 1 || namesize > 4096 || (mode & 0170000) == 0)
			return 0;
		return n < 26 + namesize || p[26 + namesize - 1] == 0;
	}
	return 0;
}

/* LHA: a method such as "-lh5-" at offset 2, a header level 0 to 3. */
static int lha_header(const unsigned char *p, size_t n)
{
	if (n < 22 || p[2] != '-' || p[3] != 'l' || p[6] != '-' || p[20] > 3)
		return 0;
	if (p[4] == 'h')
		return strchr("01234567d", p[5]) && p[5];
	return p[4] == 'z' && p[5] && strchr("s45", p[5]);
}

static int is_archive(const unsigned char *p, size_t n)
{
	if (tar_header(p, n) || cpio_header(p, n) || lha_header(p, n))
		return 1;
	if (n >= 4 && (memcmp(p, "PK\3\4", 4) == 0 || memcmp(p, "PK\5\6", 4) == 0))
		return 1; /* zip, empty zip */
	if (n >= 6 && memcmp(p, "7z\xbc\xaf\x27\x1c", 6) == 0)
		return 1;
	if (n >= 8 && memcmp(p, "!<arch>\n", 8) == 0)
		return 1; /* ar */
	if (n >= 7 && memcmp(p, "Rar!\x1a\x07\x00", 7) == 0)
		return 1;
	if (n >= 8 && memcmp(p, "Rar!\x1a\x07\x01\x00", 8) == 0)
		return 1; /* rar 5 */
	if (n >= 8 && memcmp(p, "MSCF\0\0\0\0", 8) == 0)
		return 1; /* cab */
	if (n >= 6 && memcmp(p, "xar!\0\x1c", 6) == 0)
		return 1;
	if (n >= 7 && memcmp(p, "WARC/", 5) == 0 && p[5] >= '0' && p[5] <= '9' && p[6] == '.')
		return 1;
	if (n >= 0x8001 + 5 && memcmp(p + 0x8001, "CD001", 5) == 0)
		return 1; /* iso9660: its first volume descriptor */
	return 0;
}

enum ts_format ts_format_detect(const unsigned char *p, size_t n)
{
	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return TS_FMT_GZIP;
	if (n >= 6 && memcmp(p, "\xfd" "7zXZ\0", 6) == 0)
		return TS_FMT_XZ;
	if (n >= 4 && memcmp(p, "\x28\xb5\x2f\xfd", 4) == 0)
		return TS_FMT_ZSTD;
	if (n >= 4 && (memcmp(p, "\x04\x22\x4d\x18", 4) == 0 ||
		       memcmp(p, "\x02\x21\x4c\x18", 4) == 0)) /* lz4, legacy lz4 */
		return TS_FMT_LZ4;
	if (n >= 8 && (p[0] & 0xf0) == 0x50 && memcmp(p + 1, "\x2a\x4d\x18", 3) == 0) {
		/* A skippable frame (pzstd starts with one): zstd and lz4 share
		 * the magic; the frame after it says which. */
		size_t skip = (size_t)p[4] | (size_t)p[5] << 8 | (size_t)p[6] << 16 |
			      (size_t)p[7] << 24;
		if (skip <= n - 8 && n - 8 - skip >= 4 &&
		    ts_format_detect(p + 8 + skip, n - 8 - skip) == TS_FMT_LZ4)
			return TS_FMT_LZ4;
		return TS_FMT_ZSTD;
	}
	if (is_archive(p, n))
		return TS_FMT_ARCHIVE;
	/* bzip2: "BZh", the block size, then a block or the end of stream */
	if (n >= 4 && memcmp(p, "BZh", 3) == 0 && p[3] >= '1' && p[3] <= '9' &&
	    (n < 10 || memcmp(p + 4, "1AY&SY", 6) == 0 ||
	     memcmp(p + 4, "\x17\x72\x45\x38\x50\x90", 6) == 0))
		return TS_FMT_BZIP2;
	/* zlib: CM 8, window <= 32K, header checksum */
	if (n >= 2 && (p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 &&
	    ((p[0] << 8) | p[1]) % 31 == 0 && zlib_plausible(p, n))
		return TS_FMT_ZLIB;
	return TS_FMT_PLAIN;
}

static const char *const fmt_names[] = {
	[TS_FMT_AUTO] = "auto",   [TS_FMT_PLAIN] = "plain",
	[TS_FMT_GZIP] = "gzip",   [TS_FMT_ZLIB] = "zlib",
	[TS_FMT_DEFLATE] = "deflate", [TS_FMT_BZIP2] = "bzip2",
	[TS_FMT_XZ] = "xz",       [TS_FMT_ZSTD] = "zstd",
	[TS_FMT_LZ4] = "lz4",     [TS_FMT_ARCHIVE] = "archive",
};

const char *ts_format_name(enum ts_format f)
{
	return fmt_names[f];
}

int ts_format_parse(const char *name, enum ts_format *f)
{
	for (size_t i = 0; i < sizeof(fmt_names) / sizeof(fmt_names[0]); i++)
		if (strcmp(name, fmt_names[i]) == 0) {
			*f = (enum ts_format)i;
			return 0;
		}
	return -1;
}

static const signed char b64val[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6,
	['G'] = 7, ['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12,
	['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18,
	['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
	['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
	['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
	['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
	['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
	['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54,
	['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60,
	['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
}; /* value + 1; 0 = not base64 */

int ts_base64_encode(struct ts_buf *out, const char *s, size_t n)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = (const unsigned char *)s;

	if (ts_buf_grow(out, (n + 2) / 3 * 4) < 0)
		return -1;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		char q[4] = {b64[v >> 18], b64[(v >> 12) & 63],
			     i + 1 < n ? b64[(v >> 6) & 63] : '=',
			     i + 2 < n ? b64[v & 63] : '='};
		ts_buf_add(out, q, 4);
	}
	return 0;
}

int ts_base64_decode(struct ts_buf *out, const char *s, size_t n, size_t *bad)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t start = out->len;
	unsigned acc = 0;
	int nbits = 0;
	size_t i, pad = 0, nchars = 0;

	if (ts_buf_grow(out, n / 4 * 3 + 3) < 0)
		return -1;
	/* Bytes are stored as they come (no NUL after each); every return
	 * below ends the buffer with its NUL again, and a failure takes back
	 * what this call appended, so out is as it was. */
	for (i = 0; i < n; i++) {
		unsigned c = p[i];
		if (c == '\n' || c == '\r')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad || !b64val[c]) /* data after padding, or a stray byte */
			goto fail;
		acc = (acc << 6) | (unsigned)(b64val[c] - 1);
		nchars++;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			out->data[out->len++] = (char)(acc >> nbits);
		}
	}
	/* 6 leftover bits cannot encode a byte: a truncated quantum; padding
	 * only completes a quantum that has data ("=" alone is not base64) */
	if (nbits >= 6 || pad > 2 || (pad && nchars % 4 == 0))
		goto fail;
	ts_buf_setlen(out, out->len);
	return 0;
fail:
	*bad = i;
	ts_buf_setlen(out, start);
	errno = EINVAL;
	return -1;
}

int ts_inflate_mem(struct libdeflate_decompressor *d, enum ts_format f,
		   const char *in, size_t n, struct ts_buf *out,
		   const struct ts_limits *lim, const char **why)
{
	uint64_t max = lim && lim->max_size ? lim->max_size : out->max;
	size_t start = out->len;
	uint64_t n0 = n;

	while (n > 0) {
		size_t guess = n * 4 + 1024, ain = 0, aout = 0;
		if (f == TS_FMT_GZIP && n >= 18) {
			/* ISIZE in the trailer: exact for a single member */
			const unsigned char *t = (const unsigned char *)in + n - 4;
			size_t isize = (size_t)t[0] | (size_t)t[1] << 8 |
				       (size_t)t[2] << 16 | (size_t)t[3] << 24;
			if (isize > guess)
				guess = isize;
		}
		for (;;) {
			if (guess > max - (out->len - start))
				guess = (size_t)(max - (out->len - start));
			if (ts_buf_grow(out, guess) < 0) {
				*why = "decompression bomb: output over the size limit";
				goto fail;
			}
			/* The buffer may have more room than the limit leaves
			 * (capacity rounds up, or it was used before). */
			size_t room = out->cap - out->len - 1;
			if (room > max - (out->len - start))
				room = (size_t)(max - (out->len - start));
			enum libdeflate_result r =
				f == TS_FMT_GZIP
					? libdeflate_gzip_decompress_ex(d, in, n, out->data + out->len,
									room, &ain, &aout)
					: libdeflate_zlib_decompress_ex(d, in, n, out->data + out->len,
									room, &ain, &aout);
			if (r == LIBDEFLATE_SUCCESS)
				break;
			if (r != LIBDEFLATE_INSUFFICIENT_SPACE) {
				*why = f == TS_FMT_GZIP ? "not valid gzip data (corrupt or truncated)"
							: "not valid zlib data (corrupt or truncated)";
				goto fail;
			}
			if (out->len - start + room >= max) {
				*why = "decompression bomb: output over the size limit";
				goto fail;
			}
			guess = room * 2;
		}
		out->len += aout;
		in += ain;
		n -= ain;
		/* Trailing zero padding after the last member is tolerated. */
		size_t z = 0;
		while (z < n && in[z] == 0)
			z++;
		if (z == n)
			break;
		if (f != TS_FMT_GZIP) {
			*why = "trailing data after the zlib stream";
			goto fail;
		}
	}
	uint64_t total = out->len - start;
	if (lim && lim->max_ratio && total > TS_RATIO_GRACE &&
	    total / lim->max_ratio > n0) {
		*why = "decompression bomb: expansion ratio over the limit";
		goto fail;
	}
	ts_buf_setlen(out, out->len);
	return 0;
fail:
	ts_buf_setlen(out, start);
	return -1;
}
