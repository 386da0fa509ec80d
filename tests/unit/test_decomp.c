/*
 * test_decomp.c — lib/decomp.h: whole inputs read from a temporary file (so
 * that 7z can seek) and again from a source that hands over a few bytes at a
 * time through ts_decomp_read(): both must give the same bytes and the same
 * damage.  gzip and zlib inputs are built with zlib (zbytes.h), xz and zstd
 * with liblzma and libzstd; bzip2, lz4 and archives with their command-line
 * tools, which scripts/setup installs.
 */
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "check.h"
#include "decomp.h"
#include "reader.h"
#include "util.h"
#include "zbytes.h"

#define MAXDMG 16

struct dmg {
	const char *code;
	char msg[256];
	int64_t off;
	uint64_t member;
	struct ts_buf raw; /* empty when the damage had none */
	int has_raw, truncated, fatal;
	size_t at;         /* output bytes before it */
};

struct res {
	struct ts_buf out;
	enum ts_format fmt;
	int entries;
	char names[256];
	int ndmg;
	struct dmg dmg[MAXDMG];
	char err[256]; /* the I/O error, "" when none */
	int err_errno;
	uint64_t bytes_in, bytes_out;
};

/* How run_how() reads: from a file with ts_decomp_chunk(), or from a source
 * that hands over a few bytes per call, with ts_decomp_read(). */
enum { BY_FD = 0, BY_DRIBBLE = 1 };

struct dribble {
	const char *p;
	size_t n, step, given;
	int fail; /* at the end: EIO instead of 0 */
	unsigned calls;
};

static long dribble_read(void *ctx, char *dst, size_t n)
{
	struct dribble *s = ctx;
	size_t k = n < s->step ? n : s->step;

	s->calls++;
	if (s->n == 0) {
		if (s->fail) {
			errno = EIO;
			return -1;
		}
		return 0;
	}
	if (k > s->n)
		k = s->n;
	memcpy(dst, s->p, k);
	s->p += k;
	s->n -= k;
	s->given += k;
	return (long)k;
}

static int tmpfd(const void *p, size_t n)
{
	char path[] = "/tmp/ts-unit-decomp-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	unlink(path);
	if (ts_write_all(fd, p, n) < 0 || lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void res_release(struct res *r)
{
	ts_buf_release(&r->out);
	for (int i = 0; i < r->ndmg; i++)
		ts_buf_release(&r->dmg[i].raw);
	r->ndmg = 0;
}

static void note(struct ts_decomp *d, struct res *r)
{
	const struct ts_damage *g = ts_decomp_damage(d);

	if (!CHECK(g) || !CHECK(r->ndmg < MAXDMG))
		return;
	struct dmg *m = &r->dmg[r->ndmg++];
	ts_buf_init(&m->raw, 0);
	m->code = g->code;
	snprintf(m->msg, sizeof(m->msg), "%s", g->message);
	m->off = g->offset;
	m->member = g->member;
	m->has_raw = g->raw != NULL;
	CHECK(!g->raw || g->rawn > 0);
	CHECK(g->rawn <= (1 << 20));
	CHECK(!g->truncated || g->raw);
	if (g->raw)
		ts_buf_add(&m->raw, g->raw, g->rawn);
	m->truncated = g->truncated;
	m->fatal = g->fatal;
	m->at = r->out.len;
	CHECK(g->message[0] != '\0');
}

/* Everything one open gives; 0, or -1 if it could not run. */
static int run_how(const void *in, size_t n, enum ts_format fmt,
		   const struct ts_limits *lim, int how, struct res *r)
{
	struct dribble s = {in, n, n < (1 << 20) ? 7 : 4093, 0, 0, 0};
	struct ts_decomp *d;
	const char *name, *msg;
	int fd = -1, fatal = 0;

	memset(r, 0, sizeof(*r));
	ts_buf_init(&r->out, 0);
	if (how == BY_DRIBBLE) {
		d = ts_decomp_open(dribble_read, &s, fmt, lim);
	} else {
		if ((fd = tmpfd(in, n)) < 0)
			return -1;
		d = ts_decomp_open_fd(fd, fmt, lim);
	}
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	r->fmt = ts_decomp_format(d);
	for (int guard = 0; guard < 100000; guard++) {
		int e = ts_decomp_next_entry(d, &name);
		if (e == 0)
			break;
		if (e == TS_SOURCE_BREAK) {
			CHECK(!fatal);
			note(d, r);
			fatal = r->dmg[r->ndmg - 1].fatal;
			continue;
		}
		if (e < 0)
			break;
		r->entries++;
		if (name) {
			size_t l = strlen(r->names);
			snprintf(r->names + l, sizeof(r->names) - l, "%s;", name);
		}
		for (;;) {
			char buf[4096];
			const char *p = buf;
			long k = how == BY_DRIBBLE ? ts_decomp_read(d, buf, sizeof(buf))
						   : ts_decomp_chunk(d, &p);
			if (k == 0)
				break;
			if (k == TS_SOURCE_BREAK) {
				CHECK(!fatal); /* nothing after a fatal one */
				note(d, r);
				fatal = r->dmg[r->ndmg - 1].fatal;
				if (r->ndmg >= MAXDMG)
					break;
				continue;
			}
			if (k < 0) {
				r->err_errno = errno;
				goto done;
			}
			CHECK(!fatal);
			ts_buf_add(&r->out, p, (size_t)k);
		}
	}
done:
	if ((msg = ts_decomp_error(d, NULL))) {
		snprintf(r->err, sizeof(r->err), "%s", msg);
		CHECK(ts_decomp_error_is_io(d));
	}
	r->bytes_in = ts_decomp_bytes_in(d);
	r->bytes_out = ts_decomp_bytes_out(d);
	CHECK(r->bytes_out == r->out.len);
	ts_decomp_free(d);
	if (fd >= 0)
		close(fd);
	return 0;
}

/* Both ways, which must agree; the result is the file's.  same = 0 where
 * only the file can work (7z seeks). */
static int run2(const void *in, size_t n, enum ts_format fmt,
		const struct ts_limits *lim, int same, struct res *r)
{
	struct res o;

	if (run_how(in, n, fmt, lim, BY_FD, r) < 0)
		return -1;
	if (!same)
		return 0;
	if (run_how(in, n, fmt, lim, BY_DRIBBLE, &o) < 0)
		return -1;
	CHECK(o.fmt == r->fmt);
	CHECK(o.entries == r->entries);
	CHECK_STR(o.names, r->names);
	CHECK_MEM(o.out.data, o.out.len, r->out.data, r->out.len);
	/* Where a bomb is found depends on how much is decoded at a time,
	 * and libarchive stops reading archives where it likes. */
	int bomb = r->ndmg && strcmp(r->dmg[r->ndmg - 1].code, "decompression_bomb") == 0;
	if (CHECK(o.ndmg == r->ndmg))
		for (int i = 0; i < o.ndmg; i++) {
			if (bomb && i == o.ndmg - 1)
				o.dmg[i].off = r->dmg[i].off;
			if (o.dmg[i].off != r->dmg[i].off || o.dmg[i].at != r->dmg[i].at)
				fprintf(stderr, "    file: %s at %lld after %zu; source: %s at %lld after %zu\n",
					r->dmg[i].msg, (long long)r->dmg[i].off, r->dmg[i].at,
					o.dmg[i].msg, (long long)o.dmg[i].off, o.dmg[i].at);
			CHECK_STR(o.dmg[i].msg, r->dmg[i].msg);
			CHECK(o.dmg[i].off == r->dmg[i].off);
			CHECK(o.dmg[i].at == r->dmg[i].at);
			CHECK(o.dmg[i].fatal == r->dmg[i].fatal);
			CHECK_MEM(o.dmg[i].raw.data, o.dmg[i].raw.len, r->dmg[i].raw.data,
				  r->dmg[i].raw.len);
		}
	if (!CHECK(bomb || r->fmt == TS_FMT_ARCHIVE || o.bytes_in == r->bytes_in))
		fprintf(stderr, "    bytes_in: file %llu, source %llu\n",
			(unsigned long long)r->bytes_in, (unsigned long long)o.bytes_in);
	res_release(&o);
	return 0;
}

static int run(const void *in, size_t n, enum ts_format fmt, const struct ts_limits *lim,
	       struct res *r)
{
	return run2(in, n, fmt, lim, 1, r);
}

/* The one damage of r, checked to be there. */
static const struct dmg *one(const struct res *r)
{
	static const struct dmg none = {.code = "", .msg = "(no damage)", .off = -2};

	if (!CHECK(r->ndmg == 1)) {
		for (int i = 0; i < r->ndmg; i++)
			fprintf(stderr, "    damage %d: %s at %lld\n", i, r->dmg[i].msg,
				(long long)r->dmg[i].off);
		return r->ndmg ? &r->dmg[0] : &none;
	}
	return &r->dmg[0];
}

/* r had no damage (else say what it had). */
static int none(const struct res *r)
{
	if (CHECK(r->ndmg == 0))
		return 1;
	for (int i = 0; i < r->ndmg; i++)
		fprintf(stderr, "    damage %d: %s at %lld\n", i, r->dmg[i].msg,
			(long long)r->dmg[i].off);
	return 0;
}

static int has(const char *s, const char *sub)
{
	if (strstr(s, sub))
		return 1;
	fprintf(stderr, "    \"%s\" does not say \"%s\"\n", s, sub);
	return 0;
}

/* Run a shell command with in on its standard input; append its standard
 * output to out.  Its exit status (-1 if it could not run). */
static int tool(const char *cmd, const void *in, size_t n, struct ts_buf *out)
{
	char ip[] = "/tmp/ts-unit-tool-in-XXXXXX", op[] = "/tmp/ts-unit-tool-out-XXXXXX";
	int ifd = mkstemp(ip), ofd = mkstemp(op), st = -1;
	char sh[1024];

	if (ifd < 0 || ofd < 0)
		goto out;
	if (ts_write_all(ifd, in, n) < 0)
		goto out;
	snprintf(sh, sizeof(sh), "(%s) <%s >%s 2>/dev/null", cmd, ip, op);
	st = system(sh);
	for (;;) {
		char buf[65536];
		long k = ts_read_full(ofd, buf, sizeof(buf));
		if (k <= 0)
			break;
		ts_buf_add(out, buf, (size_t)k);
	}
out:
	if (ifd >= 0) {
		close(ifd);
		unlink(ip);
	}
	if (ofd >= 0) {
		close(ofd);
		unlink(op);
	}
	return st;
}

static void xz_bytes(struct ts_buf *out, const void *in, size_t n)
{
	size_t cap = lzma_stream_buffer_bound(n), pos = 0;

	if (ts_buf_grow(out, cap) < 0)
		return;
	CHECK(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, in, n,
				      (uint8_t *)out->data + out->len, &pos, cap) == LZMA_OK);
	ts_buf_setlen(out, out->len + pos);
}

static void zstd_bytes(struct ts_buf *out, const void *in, size_t n, int checksum)
{
	size_t cap = ZSTD_compressBound(n);
	ZSTD_CCtx *c = ZSTD_createCCtx();

	if (!c || ts_buf_grow(out, cap) < 0)
		return;
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, checksum);
	size_t k = ZSTD_compress2(c, out->data + out->len, cap, in, n);
	if (CHECK(!ZSTD_isError(k)))
		ts_buf_setlen(out, out->len + k);
	ZSTD_freeCCtx(c);
}

/* All that zlib gets out of a (maybe cut) gzip stream. */
static size_t gunzip_len(const char *p, size_t n)
{
	unsigned char buf[65536];
	size_t total = 0;
	z_stream z;
	int r;

	memset(&z, 0, sizeof(z));
	inflateInit2(&z, 16 + 15);
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	do {
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		r = inflate(&z, Z_NO_FLUSH);
		total += sizeof(buf) - z.avail_out;
	} while (r == Z_OK && (z.avail_in > 0 || z.avail_out == 0));
	inflateEnd(&z);
	return total;
}

static struct ts_buf plain; /* NDJSON lines, compressible */

/* ---- plain ----------------------------------------------------------------- */

static void test_plain(void)
{
	struct res r;

	CHECK(run("hello\n", 6, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.fmt == TS_FMT_PLAIN && r.entries == 1);
	CHECK_MEM(r.out.data, r.out.len, "hello\n", 6);
	none(&r);
	CHECK(r.err[0] == '\0');
	res_release(&r);

	/* longer than the bytes read to detect the format */
	CHECK(run(plain.data, plain.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.fmt == TS_FMT_PLAIN);
	CHECK_MEM(r.out.data, r.out.len, plain.data, plain.len);
	none(&r);
	CHECK(r.bytes_out == plain.len && r.bytes_in == plain.len);
	res_release(&r);

	CHECK(run("", 0, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.fmt == TS_FMT_PLAIN && r.out.len == 0 && r.entries == 1);
	none(&r);
	res_release(&r);

	/* binary data with no newline, longer than any peek: all of it */
	size_t bn = 100000;
	char *bin = malloc(bn);
	if (CHECK(bin)) {
		zbytes_noise(bin, bn, 99);
		bin[0] = 1; /* nothing's magic */
		CHECK(run(bin, bn, TS_FMT_AUTO, NULL, &r) == 0);
		CHECK(r.fmt == TS_FMT_PLAIN);
		CHECK_MEM(r.out.data, r.out.len, bin, bn);
		res_release(&r);
		free(bin);
	}

	/* --format plain on gzip bytes passes them through */
	struct ts_buf z;
	ts_buf_init(&z, 0);
	zbytes(&z, "x", 1, Z_GZIP, 6);
	CHECK(run(z.data, z.len, TS_FMT_PLAIN, NULL, &r) == 0);
	CHECK_MEM(r.out.data, r.out.len, z.data, z.len);
	res_release(&r);
	ts_buf_release(&z);

	/* --max-size counts plain bytes too: those up to it come out */
	struct ts_limits lim = {1000, 0};
	CHECK(run(plain.data, plain.len, TS_FMT_AUTO, &lim, &r) == 0);
	CHECK_MEM(r.out.data, r.out.len, plain.data, 1000);
	CHECK_STR(one(&r)->code, "decompression_bomb");
	CHECK(one(&r)->fatal && one(&r)->at == 1000);
	res_release(&r);
}

/* Plain input costs nothing extra: after the first line decides it, reads
 * go straight to the source, short reads as they come. */
static void test_plain_direct(void)
{
	struct dribble s = {plain.data, plain.len, 7, 0, 0, 0};
	struct ts_decomp *d = ts_decomp_open(dribble_read, &s, TS_FMT_AUTO, NULL);
	const char *name;
	char buf[8192];
	long k;

	if (!CHECK(d))
		return;
	/* the first line decided: no more was read */
	size_t first = (size_t)((char *)memchr(plain.data, '\n', plain.len) - plain.data) + 1;
	CHECK(s.given >= first && s.given < first + 7);
	CHECK(ts_decomp_next_entry(d, &name) == 1 && name == NULL);
	CHECK(ts_decomp_read(d, buf, sizeof(buf)) == (long)s.given); /* what was peeked */
	CHECK_MEM(buf, first, plain.data, first);
	for (int i = 0; i < 10; i++) {
		unsigned calls = s.calls;
		size_t at = s.given;
		k = ts_decomp_read(d, buf, sizeof(buf));
		CHECK(k == 7 && s.calls == calls + 1);
		CHECK_MEM(buf, (size_t)k, plain.data + at, 7);
	}
	ts_decomp_free(d);

	/* an error from the source is an I/O error, after the data */
	struct dribble f = {"{\"a\":1}\n", 8, 8, 0, 1, 0};
	d = ts_decomp_open(dribble_read, &f, TS_FMT_AUTO, NULL);
	if (CHECK(d)) {
		CHECK(ts_decomp_next_entry(d, &name) == 1);
		CHECK(ts_decomp_read(d, buf, sizeof(buf)) == 8);
		errno = 0;
		CHECK(ts_decomp_read(d, buf, sizeof(buf)) == -1 && errno == EIO);
		CHECK(ts_decomp_error(d, NULL) != NULL && ts_decomp_error_is_io(d));
		CHECK(ts_decomp_damage(d) == NULL);
		ts_decomp_free(d);
	}

	/* a file that cannot be read */
	int fd = open("/", O_RDONLY);
	if (fd >= 0) {
		errno = 0;
		CHECK(ts_decomp_open_fd(fd, TS_FMT_AUTO, NULL) == NULL && errno == EISDIR);
		CHECK(ts_decomp_open(ts_source_fd, &fd, TS_FMT_AUTO, NULL) == NULL &&
		      errno == EISDIR);
		close(fd);
	}
}

/* ---- gzip ------------------------------------------------------------------ */

static void test_gzip(void)
{
	struct ts_buf z;
	struct res r;

	ts_buf_init(&z, 0);
	/* members one after the other, an empty one among them */
	zbytes(&z, "{\"a\":1}\n", 8, Z_GZIP, 6);
	zbytes(&z, "", 0, Z_GZIP, 6);
	zbytes(&z, "{\"b\":2}\n", 8, Z_GZIP, 1);
	zbytes(&z, plain.data, plain.len, Z_GZIP, 9);
	CHECK(run(z.data, z.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.fmt == TS_FMT_GZIP && r.entries == 1);
	CHECK(r.out.len == 16 + plain.len);
	CHECK(memcmp(r.out.data, "{\"a\":1}\n{\"b\":2}\n", 16) == 0);
	CHECK(memcmp(r.out.data + 16, plain.data, plain.len) == 0);
	none(&r);
	CHECK(r.bytes_in == z.len && r.bytes_out == 16 + plain.len);
	res_release(&r);

	/* many small members, across the 1 MiB input window */
	struct ts_buf many, want;
	ts_buf_init(&many, 0);
	ts_buf_init(&want, 0);
	for (int i = 0; i < 40000; i++) {
		char rec[64];
		int n = snprintf(rec, sizeof(rec), "{\"record\":%d}\n", i);
		zbytes(&many, rec, (size_t)n, Z_GZIP, 6);
		ts_buf_add(&want, rec, (size_t)n);
	}
	CHECK(many.len > (1 << 20));
	CHECK(run(many.data, many.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.out.len == want.len && memcmp(r.out.data, want.data, want.len) == 0);
	none(&r);
	res_release(&r);
	ts_buf_release(&many);
	ts_buf_release(&want);

	/* trailing zero padding is not damage */
	size_t zlen = z.len;
	char zeros[3000] = {0};
	ts_buf_add(&z, zeros, sizeof(zeros));
	CHECK(run(z.data, z.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.out.len == 16 + plain.len);
	none(&r);
	res_release(&r);

	/* trailing garbage: all the data, then one fatal damage holding it */
	ts_buf_setlen(&z, zlen);
	ts_buf_addstr(&z, "garbage\n");
	CHECK(run(z.data, z.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.out.len == 16 + plain.len);
	const struct dmg *g = one(&r);
	CHECK(has(g->msg, "trailing garbage after gzip member 4"));
	CHECK_STR(g->code, "corrupt_input");
	CHECK(g->off == (int64_t)zlen && g->member == 0 && g->fatal && g->at == r.out.len);
	CHECK_MEM(g->raw.data, g->raw.len, "garbage\n", 8);
	CHECK(!g->truncated && r.err[0] == '\0');
	res_release(&r);
	/* ... also after zero padding, which is then part of it */
	ts_buf_setlen(&z, zlen);
	ts_buf_add(&z, zeros, 10);
	ts_buf_addstr(&z, "x");
	CHECK(run(z.data, z.len, TS_FMT_AUTO, NULL, &r) == 0);
	g = one(&r);
	CHECK(g->off == (int64_t)zlen && g->fatal);
	CHECK_MEM(g->raw.data, g->raw.len, z.data + zlen, 11);
	res_release(&r);
	/* garbage longer than what a damage keeps: its first MiB */
	ts_buf_setlen(&z, zlen);
	size_t gn = (3 << 20) / 2;
	char *junk = malloc(gn);
	if (CHECK(junk)) {
		memset(junk, 'j', gn);
		ts_buf_add(&z, junk, gn);
		CHECK(run(z.data, z.len, TS_FMT_AUTO, NULL, &r) == 0);
		g = one(&r);
		CHECK(g->raw.len == (1 << 20) && g->truncated && g->fatal);
		CHECK(memcmp(g->raw.data, junk, 1 << 20) == 0);
		res_release(&r);
		free(junk);
	}
	ts_buf_release(&z);
}

/* Members too large for one libdeflate call stream through zlib. */
static void test_gzip_large(void)
{
	size_t n = 1536 << 10; /* 1.5 MiB of noise: compresses to > 1 MiB */
	char *noise = malloc(n);
	struct ts_buf z;
	struct res r;

	if (!CHECK(noise))
		return;
	zbytes_noise(noise, n, 12345);
	ts_buf_init(&z, 0);
	zbytes(&z, "head\n", 5, Z_GZIP, 6);
	zbytes(&z, noise, n, Z_GZIP, 1);
	size_t big_end = z.len;
	zbytes(&z, "tail\n", 5, Z_GZIP, 6);
	CHECK(big_end - 25 > (1 << 20));
	CHECK(run(z.data, z.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.out.len == n + 10);
	CHECK(memcmp(r.out.data, "head\n", 5) == 0);
	CHECK(r.out.len == n + 10 && memcmp(r.out.data + 5, noise, n) == 0);
	CHECK(memcmp(r.out.data + r.out.len - 5, "tail\n", 5) == 0);
	none(&r);
	res_release(&r);

	/* a member that expands past the 4 MiB output buffer */
	size_t zn = 6 << 20;
	char *zs = calloc(1, zn);
	if (CHECK(zs)) {
		ts_buf_reset(&z);
		zbytes(&z, zs, zn, Z_GZIP, 9);
		zbytes(&z, "tail\n", 5, Z_GZIP, 6);
		CHECK(run(z.data, z.len, TS_FMT_AUTO, NULL, &r) == 0);
		CHECK(r.out.len == zn + 5);
		CHECK(memcmp(r.out.data + zn, "tail\n", 5) == 0);
		CHECK(r.out.len == zn + 5 && memcmp(r.out.data, zs, zn) == 0);
		none(&r);
		res_release(&r);
		free(zs);
	}

	/* the large member truncated: all that zlib could decode, then one
	 * fatal damage at the cut */
	ts_buf_reset(&z);
	zbytes(&z, noise, n, Z_GZIP, 1);
	size_t cut = z.len * 3 / 4;
	CHECK(run(z.data, cut, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.out.len > n / 2 && r.out.len < n);
	CHECK(memcmp(r.out.data, noise, r.out.len) == 0);
	CHECK(r.out.len == gunzip_len(z.data, cut));
	const struct dmg *g = one(&r);
	CHECK(has(g->msg, "truncated") && has(g->msg, "member 1"));
	CHECK(g->off == (int64_t)cut && g->member == 1 && g->fatal && !g->has_raw);
	res_release(&r);

	/* ... and damaged past its first MiB: what came before went on; the
	 * next member is found again */
	ts_buf_reset(&z);
	zbytes(&z, noise, n, Z_GZIP, 1);
	size_t bad = z.len - 1000;
	zbytes(&z, "tail\n", 5, Z_GZIP, 6);
	z.data[bad] ^= 0x55;
	z.data[bad + 1] ^= 0xaa;
	CHECK(run(z.data, z.len, TS_FMT_AUTO, NULL, &r) == 0);
	g = one(&r);
	CHECK(has(g->msg, "corrupt gzip member 1") && has(g->msg, "passed on"));
	CHECK(!g->fatal && g->member == 1 && g->off > (int64_t)bad - 100000);
	CHECK(g->at > (1 << 20) && memcmp(r.out.data, noise, g->at - 4096) == 0);
	CHECK(r.out.len > 5 && memcmp(r.out.data + r.out.len - 5, "tail\n", 5) == 0);
	res_release(&r);
	ts_buf_release(&z);
	free(noise);
}

static void test_gzip_truncated(void)
{
	struct ts_buf z;
	struct res r;

	ts_buf_init(&z, 0);
	zbytes(&z, "{\"first\":1}\n", 12, Z_GZIP, 6);
	size_t first = z.len;
	zbytes(&z, plain.data, plain.len, Z_GZIP, 6);

	/* the first member, then what the second gave up to the cut, then
	 * exactly one damage: the second member, at the cut, fatal */
	for (size_t cut = first + 1; cut < z.len; cut += (z.len - first) / 7) {
		CHECK(run(z.data, cut, TS_FMT_AUTO, NULL, &r) == 0);
		CHECK(r.out.len >= 12 && memcmp(r.out.data, "{\"first\":1}\n", 12) == 0);
		CHECK(r.out.len <= 12 + plain.len);
		CHECK(memcmp(r.out.data + 12, plain.data, r.out.len - 12) == 0);
		CHECK(r.out.len == 12 + gunzip_len(z.data + first, cut - first));
		const struct dmg *g = one(&r);
		CHECK(has(g->msg, "unexpected end of gzip member 2: the input is truncated"));
		CHECK(g->off == (int64_t)cut && g->member == 2 && g->fatal && !g->has_raw);
		CHECK(g->at == r.out.len);
		CHECK(r.err[0] == '\0');
		res_release(&r);
	}
	/* most of the data comes out before a cut near the end */
	CHECK(run(z.data, z.len - 20, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.out.len > plain.len / 2);
	one(&r);
	res_release(&r);

	/* only the magic: a cut-off first member */
	CHECK(run("\x1f\x8b", 2, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.fmt == TS_FMT_GZIP && r.out.len == 0);
	CHECK(one(&r)->member == 1 && one(&r)->fatal && has(one(&r)->msg, "truncated"));
	res_release(&r);
	/* forced gzip on plain text: not gzip, all of it in the damage */
	CHECK(run("hello\n", 6, TS_FMT_GZIP, NULL, &r) == 0);
	CHECK(r.out.len == 0);
	CHECK(has(one(&r)->msg, "not gzip data") && one(&r)->fatal && one(&r)->off == 0);
	CHECK_MEM(one(&r)->raw.data, one(&r)->raw.len, "hello\n", 6);
	res_release(&r);
	/* an empty input is empty, whatever the format */
	CHECK(run("", 0, TS_FMT_GZIP, NULL, &r) == 0);
	CHECK(r.out.len == 0 && r.ndmg == 0);
	res_release(&r);
	ts_buf_release(&z);
}

/* Flip bytes in the DEFLATE data of the member at [s, e). */
static void spoil(struct ts_buf *z, size_t s, size_t e)
{
	size_t mid = s + 10 + (e - s - 18) / 2;

	z->data[mid] ^= 0xff;
	z->data[mid + 1] ^= 0x5a;
}

/* A damaged member is one damage; every intact member after it comes out. */
static void test_gzip_resync(void)
{
	struct ts_buf z, want;
	struct res r;
	const struct dmg *g;

	ts_buf_init(&z, 0);
	zbytes(&z, "{\"first\":1}\n", 12, Z_GZIP, 6);
	size_t s2 = z.len;
	zbytes(&z, plain.data, plain.len, Z_GZIP, 6);
	size_t e2 = z.len;
	zbytes(&z, "{\"third\":3}\n", 12, Z_GZIP, 6);
	struct ts_buf orig;
	ts_buf_init(&orig, 0);
	ts_buf_add(&orig, z.data, z.len);

	/* structural damage, a wrong CRC, a wrong length: the same */
	static const char *const whys[] = {"", "incorrect data check", "incorrect length check"};
	for (int i = 0; i < 3; i++) {
		ts_buf_reset(&z);
		ts_buf_add(&z, orig.data, orig.len);
		if (i == 0)
			spoil(&z, s2, e2);
		else
			z.data[i == 1 ? e2 - 8 : e2 - 2] ^= 1;
		CHECK(run(z.data, z.len, TS_FMT_AUTO, NULL, &r) == 0);
		CHECK_MEM(r.out.data, r.out.len, "{\"first\":1}\n{\"third\":3}\n", 24);
		g = one(&r);
		CHECK(has(g->msg, "corrupt gzip member 2: ") && has(g->msg, whys[i]));
		CHECK_STR(g->code, "corrupt_input");
		CHECK(g->off == (int64_t)s2 && g->member == 2 && !g->fatal && g->at == 12);
		CHECK_MEM(g->raw.data, g->raw.len, z.data + s2, e2 - s2);
		CHECK(!g->truncated);
		CHECK(r.bytes_in == z.len);
		res_release(&r);
	}

	/* the damaged member is the last one: fatal, its bytes to the end */
	ts_buf_reset(&z);
	ts_buf_add(&z, orig.data, e2);
	spoil(&z, s2, e2);
	CHECK(run(z.data, z.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK_MEM(r.out.data, r.out.len, "{\"first\":1}\n", 12);
	g = one(&r);
	CHECK(g->member == 2 && g->fatal && g->off == (int64_t)s2);
	CHECK_MEM(g->raw.data, g->raw.len, z.data + s2, e2 - s2);
	res_release(&r);

	/* garbage between members, with a gzip header in it that is not a
	 * member: one damage holding all of it; not a bare 1f 8b scan */
	ts_buf_reset(&z);
	ts_buf_add(&z, orig.data, s2);
	const char fake[] = "junk\x1f\x8b\x08\x00\0\0\0\0\0\x03" "abcdefghijklmnopqrstuvwxyz more junk";
	ts_buf_add(&z, fake, sizeof(fake) - 1);
	ts_buf_add(&z, orig.data + e2, orig.len - e2);
	CHECK(run(z.data, z.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK_MEM(r.out.data, r.out.len, "{\"first\":1}\n{\"third\":3}\n", 24);
	g = one(&r);
	CHECK(has(g->msg, "garbage between gzip members 1 and 2"));
	CHECK(g->off == (int64_t)s2 && g->member == 0 && !g->fatal);
	CHECK_MEM(g->raw.data, g->raw.len, fake, sizeof(fake) - 1);
	res_release(&r);

	/* a member whose CRC fails inside the garbage is garbage too */
	ts_buf_reset(&z);
	ts_buf_add(&z, orig.data, s2);
	size_t gs = z.len;
	ts_buf_addstr(&z, "xx");
	zbytes(&z, "{\"lost\":1}\n", 11, Z_GZIP, 6);
	z.data[z.len - 8] ^= 1;
	size_t ge = z.len;
	ts_buf_add(&z, orig.data + e2, orig.len - e2);
	CHECK(run(z.data, z.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK_MEM(r.out.data, r.out.len, "{\"first\":1}\n{\"third\":3}\n", 24);
	CHECK_MEM(one(&r)->raw.data, one(&r)->raw.len, z.data + gs, ge - gs);
	res_release(&r);

	/* zero bytes between members: reported, and reading goes on */
	ts_buf_reset(&z);
	ts_buf_add(&z, orig.data, s2);
	char zeros[100] = {0};
	ts_buf_add(&z, zeros, sizeof(zeros));
	ts_buf_add(&z, orig.data + e2, orig.len - e2);
	CHECK(run(z.data, z.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK_MEM(r.out.data, r.out.len, "{\"first\":1}\n{\"third\":3}\n", 24);
	CHECK(one(&r)->raw.len == 100 && !one(&r)->fatal);
	res_release(&r);

	/* a delivery stream's file: 20,000 one-record members, three damaged
	 * (one of them the last): every other record comes out, in order */
	static const int damaged[] = {100, 5000, 20000};
	size_t starts[20001];
	ts_buf_reset(&z);
	ts_buf_init(&want, 0);
	for (int i = 1; i <= 20000; i++) {
		char rec[64];
		int n = snprintf(rec, sizeof(rec), "{\"record\":%d}\n", i);
		starts[i - 1] = z.len;
		zbytes(&z, rec, (size_t)n, Z_GZIP, 6);
		if (i != 100 && i != 5000 && i != 20000)
			ts_buf_add(&want, rec, (size_t)n);
	}
	starts[20000] = z.len;
	for (int k = 0; k < 3; k++) {
		int m = damaged[k];
		spoil(&z, starts[m - 1], starts[m]);
	}
	CHECK(run2(z.data, z.len, TS_FMT_AUTO, NULL, 0, &r) == 0);
	CHECK_MEM(r.out.data, r.out.len, want.data, want.len);
	if (CHECK(r.ndmg == 3))
		for (int k = 0; k < 3; k++) {
			int m = damaged[k];
			g = &r.dmg[k];
			CHECK(g->member == (uint64_t)m && g->off == (int64_t)starts[m - 1]);
			CHECK_MEM(g->raw.data, g->raw.len, z.data + starts[m - 1],
				  starts[m] - starts[m - 1]);
			CHECK(g->fatal == (m == 20000));
		}
	res_release(&r);
	ts_buf_release(&want);
	ts_buf_release(&orig);
	ts_buf_release(&z);
}

/* ---- zlib, raw deflate -------------------------------------------------------- */

static void test_zlib_deflate(void)
{
	struct ts_buf z;
	struct res r;

	ts_buf_init(&z, 0);
	zbytes(&z, plain.data, plain.len, Z_ZLIB, 6);
	CHECK(run(z.data, z.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.fmt == TS_FMT_ZLIB);
	CHECK_MEM(r.out.data, r.out.len, plain.data, plain.len);
	none(&r);
	CHECK(r.bytes_in == z.len);
	res_release(&r);

	size_t zlen = z.len;
	ts_buf_add(&z, "\0\0\0\0", 4);
	CHECK(run(z.data, z.len, TS_FMT_AUTO, NULL, &r) == 0);
	none(&r);
	CHECK(r.out.len == plain.len);
	res_release(&r);

	ts_buf_setlen(&z, zlen);
	ts_buf_addstr(&z, "more");
	CHECK(run(z.data, z.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.out.len == plain.len);
	CHECK(has(one(&r)->msg, "trailing garbage after zlib data"));
	CHECK(one(&r)->off == (int64_t)zlen && one(&r)->fatal);
	CHECK_MEM(one(&r)->raw.data, one(&r)->raw.len, "more", 4);
	res_release(&r);

	ts_buf_setlen(&z, zlen / 2);
	CHECK(run(z.data, z.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.out.len < plain.len);
	CHECK(memcmp(r.out.data, plain.data, r.out.len) == 0);
	CHECK(has(one(&r)->msg, "truncated") && one(&r)->off == (int64_t)(zlen / 2));
	CHECK(one(&r)->fatal && !one(&r)->has_raw);
	res_release(&r);

	/* raw DEFLATE has no magic: only by --format */
	ts_buf_reset(&z);
	zbytes(&z, plain.data, plain.len, Z_RAW, 6);
	CHECK(run(z.data, z.len, TS_FMT_DEFLATE, NULL, &r) == 0);
	CHECK(r.fmt == TS_FMT_DEFLATE);
	CHECK_MEM(r.out.data, r.out.len, plain.data, plain.len);
	none(&r);
	res_release(&r);
	/* ... cut off (damage inside raw DEFLATE need not show: it has no
	 * check): the data before, then one fatal damage */
	CHECK(run(z.data, z.len / 2, TS_FMT_DEFLATE, NULL, &r) == 0);
	CHECK(has(one(&r)->msg, "unexpected end of deflate data") && one(&r)->fatal);
	CHECK(r.out.len > 0 && memcmp(r.out.data, plain.data, r.out.len) == 0);
	res_release(&r);
	/* ... an invalid block type */
	CHECK(run("\x07\x00", 2, TS_FMT_DEFLATE, NULL, &r) == 0);
	CHECK(has(one(&r)->msg, "corrupt deflate data: invalid block type") && one(&r)->fatal);
	res_release(&r);
	ts_buf_release(&z);
}

/* ---- limits ------------------------------------------------------------------ */

static void test_limits(void)
{
	struct ts_buf z;
	struct res r;
	struct ts_limits lim = {1000, 0};

	/* the bytes up to the limit come out, then the bomb */
	ts_buf_init(&z, 0);
	zbytes(&z, plain.data, plain.len, Z_GZIP, 6);
	CHECK(run(z.data, z.len, TS_FMT_AUTO, &lim, &r) == 0);
	CHECK_MEM(r.out.data, r.out.len, plain.data, 1000);
	CHECK(has(one(&r)->msg, "decompression bomb: more than 1000 bytes"));
	CHECK_STR(one(&r)->code, "decompression_bomb");
	CHECK(one(&r)->fatal && one(&r)->at == 1000);
	res_release(&r);
	/* zlib's path too */
	ts_buf_reset(&z);
	zbytes(&z, plain.data, plain.len, Z_ZLIB, 6);
	CHECK(run(z.data, z.len, TS_FMT_AUTO, &lim, &r) == 0);
	CHECK_STR(one(&r)->code, "decompression_bomb");
	CHECK_MEM(r.out.data, r.out.len, plain.data, 1000);
	res_release(&r);

	/* good records, then a bomb: the records come out first */
	size_t zn = 8 << 20;
	char *zs = calloc(1, zn);
	if (CHECK(zs)) {
		struct ts_limits rl = {0, 100};
		ts_buf_reset(&z);
		for (int i = 0; i < 200; i++)
			zbytes(&z, "{\"good\":true}\n", 14, Z_GZIP, 6);
		zbytes(&z, zs, zn, Z_GZIP, 9);
		CHECK(run(z.data, z.len, TS_FMT_AUTO, &rl, &r) == 0);
		CHECK(r.out.len >= 200 * 14 && r.out.len < zn);
		CHECK(memcmp(r.out.data, "{\"good\":true}\n", 14) == 0);
		CHECK(memcmp(r.out.data + 199 * 14, "{\"good\":true}\n", 14) == 0);
		CHECK(has(one(&r)->msg, "expands more than 100 times"));
		CHECK_STR(one(&r)->code, "decompression_bomb");
		CHECK(one(&r)->fatal);
		res_release(&r);
		/* ... and in the same member as the bomb */
		ts_buf_reset(&z);
		memcpy(zs, plain.data, 50000);
		zbytes(&z, zs, zn, Z_GZIP, 9);
		CHECK(run(z.data, z.len, TS_FMT_AUTO, &rl, &r) == 0);
		CHECK(r.out.len >= 50000 && r.out.len < zn);
		CHECK(memcmp(r.out.data, plain.data, 50000) == 0);
		CHECK_STR(one(&r)->code, "decompression_bomb");
		res_release(&r);
		memset(zs, 0, 50000);
		/* xz too */
		ts_buf_reset(&z);
		xz_bytes(&z, zs, zn);
		CHECK(run(z.data, z.len, TS_FMT_AUTO, &rl, &r) == 0);
		CHECK(r.out.len >= TS_RATIO_GRACE && r.out.len < zn);
		CHECK_STR(one(&r)->code, "decompression_bomb");
		res_release(&r);
		/* under the limit it all comes out */
		rl.max_ratio = 100000;
		ts_buf_reset(&z);
		zbytes(&z, zs, zn, Z_GZIP, 9);
		CHECK(run(z.data, z.len, TS_FMT_AUTO, &rl, &r) == 0);
		none(&r);
		CHECK(r.out.len == zn);
		res_release(&r);
		free(zs);
	}
	ts_buf_release(&z);
}

/* ---- xz ---------------------------------------------------------------------- */

static void test_xz(void)
{
	struct ts_buf x, want;
	struct res r;
	const struct dmg *g;

	ts_buf_init(&x, 0);
	ts_buf_init(&want, 0);
	/* concatenated streams, with stream padding between them */
	xz_bytes(&x, "{\"a\":1}\n", 8);
	ts_buf_add(&x, "\0\0\0\0", 4);
	xz_bytes(&x, plain.data, plain.len);
	ts_buf_addstr(&want, "{\"a\":1}\n");
	ts_buf_add(&want, plain.data, plain.len);
	CHECK(run(x.data, x.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.fmt == TS_FMT_XZ);
	CHECK_MEM(r.out.data, r.out.len, want.data, want.len);
	none(&r);
	CHECK(r.bytes_in == x.len);
	res_release(&r);

	/* garbage after the stream: everything before it, then one damage */
	size_t xlen = x.len;
	ts_buf_addstr(&x, "GARBAGE\n");
	CHECK(run(x.data, x.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK_MEM(r.out.data, r.out.len, want.data, want.len);
	g = one(&r);
	CHECK(has(g->msg, "trailing garbage after xz data"));
	CHECK(g->off == (int64_t)xlen && g->fatal && g->at == want.len);
	CHECK_MEM(g->raw.data, g->raw.len, "GARBAGE\n", 8);
	res_release(&r);

	/* cut off: what xz -dc recovers, byte for byte, then one damage */
	ts_buf_reset(&x);
	CHECK(tool("xz -c --block-size=65536", plain.data, plain.len, &x) == 0);
	for (size_t cut = 100; cut < x.len; cut += x.len / 6 + 1) {
		struct ts_buf ref;
		ts_buf_init(&ref, 0);
		tool("xz -dc", x.data, cut, &ref);
		CHECK(run(x.data, cut, TS_FMT_AUTO, NULL, &r) == 0);
		CHECK_MEM(r.out.data, r.out.len, ref.data, ref.len);
		CHECK(ref.len > 0 || cut < 65536);
		g = one(&r);
		CHECK(has(g->msg, "unexpected end of xz data: the input is truncated"));
		CHECK(g->off == (int64_t)cut && g->fatal && !g->has_raw);
		res_release(&r);
		ts_buf_release(&ref);
	}

	/* corrupt in the middle: the blocks before it, then one damage */
	x.data[x.len / 2] ^= 0x10;
	CHECK(run(x.data, x.len, TS_FMT_AUTO, NULL, &r) == 0);
	g = one(&r);
	CHECK(has(g->msg, "corrupt xz data") && g->fatal);
	CHECK(r.out.len >= plain.len / 4 && r.out.len < plain.len);
	CHECK(memcmp(r.out.data, plain.data, plain.len / 4) == 0);
	res_release(&r);

	/* forced xz on what is not */
	CHECK(run("hello\n", 6, TS_FMT_XZ, NULL, &r) == 0);
	CHECK(r.out.len == 0 && has(one(&r)->msg, "not xz data") && one(&r)->fatal);
	CHECK_MEM(one(&r)->raw.data, one(&r)->raw.len, "hello\n", 6);
	res_release(&r);
	ts_buf_release(&want);
	ts_buf_release(&x);
}

/* ---- zstd ------------------------------------------------------------------------ */

static void test_zstd(void)
{
	struct ts_buf x, want;
	struct res r;
	const struct dmg *g;

	ts_buf_init(&x, 0);
	ts_buf_init(&want, 0);
	/* frames, a skippable frame among them (first, as pzstd writes) */
	ts_buf_add(&x, "\x50\x2a\x4d\x18\x05\0\0\0skip!", 13);
	zstd_bytes(&x, "{\"a\":1}\n", 8, 0);
	ts_buf_add(&x, "\x5e\x2a\x4d\x18\x00\0\0\0", 8);
	zstd_bytes(&x, plain.data, plain.len, 1);
	ts_buf_addstr(&want, "{\"a\":1}\n");
	ts_buf_add(&want, plain.data, plain.len);
	CHECK(run(x.data, x.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.fmt == TS_FMT_ZSTD);
	CHECK_MEM(r.out.data, r.out.len, want.data, want.len);
	none(&r);
	CHECK(r.bytes_in == x.len);
	res_release(&r);

	size_t xlen = x.len;
	ts_buf_addstr(&x, "GARBAGE\n");
	CHECK(run(x.data, x.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK_MEM(r.out.data, r.out.len, want.data, want.len);
	g = one(&r);
	CHECK(has(g->msg, "trailing garbage after zstd data"));
	CHECK(g->off == (int64_t)xlen && g->fatal);
	CHECK_MEM(g->raw.data, g->raw.len, "GARBAGE\n", 8);
	res_release(&r);

	/* cut off: a prefix of the data, then one damage at the cut */
	for (size_t cut = 45; cut < xlen; cut += xlen / 5) {
		CHECK(run(x.data, cut, TS_FMT_AUTO, NULL, &r) == 0);
		CHECK(r.out.len <= want.len && memcmp(r.out.data, want.data, r.out.len) == 0);
		g = one(&r);
		CHECK(has(g->msg, "unexpected end of zstd data") && g->fatal);
		CHECK(g->off == (int64_t)cut);
		res_release(&r);
	}

	/* corrupt: the frames before it, then one damage */
	ts_buf_reset(&x);
	for (int i = 0; i < 4; i++)
		zstd_bytes(&x, plain.data + i * (plain.len / 4), plain.len / 4, 1);
	x.data[x.len - 200] ^= 0x21;
	for (int how = BY_FD; how <= BY_DRIBBLE; how++) {
		/* libzstd keeps the output of the call that fails: how much of
		 * the damaged frame came out depends on the buffer */
		CHECK(run_how(x.data, x.len, TS_FMT_AUTO, NULL, how, &r) == 0);
		g = one(&r);
		CHECK(has(g->msg, "corrupt zstd data") && g->fatal);
		CHECK(r.out.len >= 3 * (plain.len / 4) && r.out.len < plain.len);
		CHECK(memcmp(r.out.data, plain.data, 3 * (plain.len / 4)) == 0);
		res_release(&r);
	}

	CHECK(run("hello\n", 6, TS_FMT_ZSTD, NULL, &r) == 0);
	CHECK(r.out.len == 0 && has(one(&r)->msg, "not zstd data"));
	res_release(&r);
	ts_buf_release(&want);
	ts_buf_release(&x);
}

/* ---- bzip2 and lz4 ------------------------------------------------------------------ */

static void bzlz_case(const char *what, const char *cmd, const char *tail,
		      size_t tailn, int damaged)
{
	struct ts_buf x;
	struct res r;

	ts_buf_init(&x, 0);
	CHECK(tool(cmd, plain.data, plain.len / 2, &x) == 0);
	CHECK(tool(cmd, plain.data + plain.len / 2, plain.len - plain.len / 2, &x) == 0);
	size_t xlen = x.len;
	ts_buf_add(&x, tail, tailn);
	CHECK(run(x.data, x.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK_MEM(r.out.data, r.out.len, plain.data, plain.len);
	if (damaged) {
		const struct dmg *g = one(&r);
		CHECK(has(g->msg, "trailing garbage after") && has(g->msg, what));
		CHECK(g->off == (int64_t)xlen && g->fatal);
		CHECK_MEM(g->raw.data, g->raw.len, tail, tailn);
	} else {
		none(&r);
	}
	CHECK(r.bytes_in == x.len || (damaged && r.bytes_in >= xlen));
	res_release(&r);
	ts_buf_release(&x);
}

static void test_bzip2_lz4(void)
{
	struct ts_buf x;
	struct res r;

	/* two streams (or frames), then: nothing, zeros, garbage */
	static const char *const cmds[] = {"bzip2 -c", "lz4 -q -c", "lz4 -q -c -BX --no-frame-crc",
					   "lz4 -q -c -l"};
	for (int i = 0; i < 4; i++) {
		const char *what = i ? "lz4" : "bzip2";
		bzlz_case(what, cmds[i], "", 0, 0);
		bzlz_case(what, cmds[i], "\0\0\0\0\0\0\0\0\0", 9, 0);
		bzlz_case(what, cmds[i], "GARBAGE\n", 8, 1);
		bzlz_case(what, cmds[i], "GARB", 4, 1); /* exactly what lz4 looks at */
		bzlz_case(what, cmds[i], "GA", 2, 1);
	}

	/* cut off: what lz4 -dc recovers, every whole bzip2 block (bzip2 -dc
	 * writes 5000 bytes at a time and drops the last of them), then one
	 * damage */
	ts_buf_init(&x, 0);
	for (int i = 0; i < 2; i++) {
		ts_buf_reset(&x);
		CHECK(tool(i ? "lz4 -q -c -B4" : "bzip2 -1 -c", plain.data, plain.len, &x) == 0);
		for (int pc = 20; pc < 100; pc += 23) {
			struct ts_buf ref;
			ts_buf_init(&ref, 0);
			tool(i ? "lz4 -q -dc" : "bzip2 -dc", x.data, x.len * pc / 100, &ref);
			CHECK(run(x.data, x.len * pc / 100, TS_FMT_AUTO, NULL, &r) == 0);
			if (i)
				CHECK_MEM(r.out.data, r.out.len, ref.data, ref.len);
			else
				CHECK(r.out.len >= ref.len && r.out.len < ref.len + 5000);
			CHECK(memcmp(r.out.data, plain.data, r.out.len) == 0);
			CHECK(r.out.len >= plain.len * (pc - 20) / 100);
			CHECK(one(&r)->fatal);
			CHECK(has(one(&r)->msg, i ? "corrupt lz4 data" : "unexpected end of bzip2 data"));
			res_release(&r);
			ts_buf_release(&ref);
		}
	}
	/* bzip2 damaged: the blocks before it, then one damage */
	ts_buf_reset(&x);
	CHECK(tool("bzip2 -1 -c", plain.data, plain.len, &x) == 0);
	x.data[x.len / 2] ^= 0x44;
	CHECK(run(x.data, x.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(has(one(&r)->msg, "corrupt bzip2 data") && one(&r)->fatal);
	CHECK(r.out.len >= plain.len / 4 && memcmp(r.out.data, plain.data, plain.len / 4) == 0);
	res_release(&r);
	/* every compression of nothing is nothing, no damage; with
	 * garbage after it, one damage */
	static const char *const all[] = {"gzip -c", "bzip2 -c", "xz -c", "zstd -q -c",
					  "lz4 -q -c", "lz4 -q -c -l"};
	for (int i = 0; i < 6; i++) {
		ts_buf_reset(&x);
		CHECK(tool(all[i], "", 0, &x) == 0 && x.len > 0);
		CHECK(run(x.data, x.len, TS_FMT_AUTO, NULL, &r) == 0);
		CHECK(r.fmt != TS_FMT_PLAIN && r.entries == 1 && r.out.len == 0);
		if (!none(&r))
			fprintf(stderr, "    (%s of nothing)\n", all[i]);
		CHECK(r.bytes_in == x.len);
		res_release(&r);
		size_t xlen = x.len;
		ts_buf_addstr(&x, "GARB");
		CHECK(run(x.data, x.len, TS_FMT_AUTO, NULL, &r) == 0);
		CHECK(one(&r)->off == (int64_t)xlen && one(&r)->fatal);
		CHECK_MEM(one(&r)->raw.data, one(&r)->raw.len, "GARB", 4);
		res_release(&r);
	}

	/* forced on what is not */
	CHECK(run("hello\n", 6, TS_FMT_BZIP2, NULL, &r) == 0);
	CHECK(r.out.len == 0 && one(&r)->fatal);
	res_release(&r);
	ts_buf_release(&x);
}

/* ---- archives ----------------------------------------------------------------------- */

static char dir[64];

static int mkfile(const char *name, const char *data, size_t n)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	int r = ts_write_all(fd, data, n);
	close(fd);
	return r;
}

/* An archive of files in dir, by `bsdtar --format fmt` (to a file: on a
 * pipe it pads every format to 10240 bytes), compressed by `filter` when not
 * NULL. */
static int archive(struct ts_buf *out, const char *fmt, const char *files, const char *filter)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cd %s && rm -f ../%s.a && bsdtar --format %s -cf ../%s.a %s && %s <../%s.a",
		 dir, dir + 5, fmt, dir + 5, files, filter ? filter : "cat", dir + 5);
	return tool(cmd, "", 0, out);
}

static void test_archives(void)
{
	static const char *const fmts[] = {"ustar", "v7tar", "pax", "gnutar", "cpio", "newc",
					   "odc", "bin", "pwb", "zip", "7zip", "ar", "arbsd",
					   "argnu", "iso9660", "xar", "warc"};
	static const char *const filters[] = {"gzip -c", "xz -c", "zstd -q -c", "bzip2 -c",
					      "lz4 -q -c"};
	struct ts_buf t;
	struct res r;

	snprintf(dir, sizeof(dir), "/tmp/ts-unit-archive-XXXXXX");
	if (!CHECK(mkdtemp(dir)))
		return;
	mkfile("a.json", "{\"a\":1}\n", 8);
	mkfile("b.json", "{\"b\":2}\n", 8);
	mkfile("big.ndjson", plain.data, plain.len);
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/logs", dir);
	mkdir(sub, 0755);
	ts_buf_init(&t, 0);

	/* every format the magic bytes tell, read without being told */
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		ts_buf_reset(&t);
		if (!CHECK(archive(&t, fmts[i], "a.json b.json", NULL) == 0))
			continue;
		int seeks = strcmp(fmts[i], "7zip") == 0;
		unsigned failed = check_failed;
		/* (bsdtar -xO pads the entries of warc and xar with zero bytes
		 * past their size) */
		CHECK(run2(t.data, t.len, TS_FMT_AUTO, NULL, !seeks, &r) == 0);
		CHECK(r.fmt == TS_FMT_ARCHIVE && r.entries == 2);
		CHECK_MEM(r.out.data, r.out.len, "{\"a\":1}\n{\"b\":2}\n", 16);
		none(&r);
		if (check_failed != failed)
			fprintf(stderr, "    (format %s: %d entries)\n", fmts[i], r.entries);
		res_release(&r);
	}
	/* 7z from a pipe cannot seek: damage, not a crash */
	ts_buf_reset(&t);
	archive(&t, "7zip", "a.json", NULL);
	CHECK(run_how(t.data, t.len, TS_FMT_AUTO, NULL, BY_DRIBBLE, &r) == 0);
	CHECK(r.fmt == TS_FMT_ARCHIVE && one(&r)->fatal);
	res_release(&r);

	/* compressed archives: the first decompressed bytes tell */
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		ts_buf_reset(&t);
		CHECK(archive(&t, "ustar", "logs a.json b.json", filters[i]) == 0);
		CHECK(run(t.data, t.len, TS_FMT_AUTO, NULL, &r) == 0);
		CHECK(r.fmt == TS_FMT_ARCHIVE);
		CHECK_STR(r.names, "a.json;b.json;");
		CHECK_MEM(r.out.data, r.out.len, "{\"a\":1}\n{\"b\":2}\n", 16);
		none(&r);
		res_release(&r);
	}
	/* ... but --format gzip gives the tar bytes */
	ts_buf_reset(&t);
	archive(&t, "ustar", "a.json", NULL);
	struct ts_buf z;
	ts_buf_init(&z, 0);
	zbytes(&z, t.data, t.len, Z_GZIP, 6);
	CHECK(run(z.data, z.len, TS_FMT_GZIP, NULL, &r) == 0);
	CHECK(r.fmt == TS_FMT_GZIP);
	CHECK_MEM(r.out.data, r.out.len, t.data, t.len);
	res_release(&r);

	/* empty tars: no entries, no damage */
	char zeros[10240] = {0};
	CHECK(run(zeros, 1024, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.fmt == TS_FMT_ARCHIVE && r.entries == 0 && r.ndmg == 0);
	res_release(&r);
	CHECK(run(zeros, sizeof(zeros), TS_FMT_AUTO, NULL, &r) == 0); /* tar's */
	CHECK(r.fmt == TS_FMT_ARCHIVE && r.entries == 0 && r.ndmg == 0);
	res_release(&r);
	/* ... but compressed zero bytes are data, whatever their number */
	ts_buf_reset(&z);
	zbytes(&z, zeros, sizeof(zeros), Z_GZIP, 6);
	CHECK(run(z.data, z.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.fmt == TS_FMT_GZIP && r.entries == 1 && r.ndmg == 0);
	CHECK_MEM(r.out.data, r.out.len, zeros, sizeof(zeros));
	res_release(&r);
	ts_buf_reset(&t);
	archive(&t, "ustar", "logs", "xz -c");
	CHECK(run(t.data, t.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.fmt == TS_FMT_ARCHIVE && r.entries == 0 && r.ndmg == 0);
	res_release(&r);
	/* other zero bytes are data: never an empty success */
	size_t zn = 100000;
	char *zs = calloc(1, zn);
	if (CHECK(zs)) {
		static const char *const zf[] = {"bzip2 -c", "xz -c", "zstd -q -c", "gzip -c"};
		for (int i = 0; i < 4; i++) {
			ts_buf_reset(&t);
			tool(zf[i], zs, zn, &t);
			CHECK(run(t.data, t.len, TS_FMT_AUTO, NULL, &r) == 0);
			CHECK(r.fmt != TS_FMT_ARCHIVE && r.entries == 1);
			CHECK_MEM(r.out.data, r.out.len, zs, zn);
			res_release(&r);
		}
		CHECK(run(zs, 1000, TS_FMT_AUTO, NULL, &r) == 0);
		CHECK(r.fmt == TS_FMT_PLAIN && r.out.len == 1000);
		res_release(&r);
		free(zs);
	}

	/* a cut-off .tgz: every byte of the entry up to the cut, as tar xzOf
	 * gives, then one fatal damage at the cut */
	ts_buf_reset(&t);
	archive(&t, "ustar", "big.ndjson", "gzip -c");
	size_t cut = t.len / 2;
	size_t got = gunzip_len(t.data, cut);
	CHECK(run(t.data, cut, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.fmt == TS_FMT_ARCHIVE && r.entries == 1);
	CHECK_STR(r.names, "big.ndjson;");
	CHECK(r.out.len == got - 512);
	CHECK(r.out.len > 0 && memcmp(r.out.data, plain.data, r.out.len) == 0);
	CHECK(has(one(&r)->msg, "truncated") && one(&r)->fatal);
	CHECK(one(&r)->off == (int64_t)cut);
	res_release(&r);

	/* damage in the archive itself */
	ts_buf_reset(&t);
	archive(&t, "ustar", "a.json big.ndjson", NULL);
	CHECK(run(t.data, 3000, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.entries == 2 && r.out.len == 8 + 3000 - 1536);
	CHECK(has(one(&r)->msg, "damaged archive") && one(&r)->fatal);
	res_release(&r);
	/* --format archive on what is not one */
	CHECK(run(plain.data, 5000, TS_FMT_ARCHIVE, NULL, &r) == 0);
	CHECK(r.fmt == TS_FMT_ARCHIVE && r.entries == 0);
	CHECK(has(one(&r)->msg, "damaged archive") && one(&r)->fatal);
	res_release(&r);

	/* a bomb inside an entry */
	struct ts_limits lim = {4096, 0};
	ts_buf_reset(&t);
	archive(&t, "ustar", "a.json big.ndjson", "zstd -q -c");
	CHECK(run(t.data, t.len, TS_FMT_AUTO, &lim, &r) == 0);
	CHECK(r.out.len == 4096);
	CHECK_STR(one(&r)->code, "decompression_bomb");
	res_release(&r);

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	ts_buf_release(&z);
	ts_buf_release(&t);
}

/* ---- as a source ------------------------------------------------------------------- */

/* ---- what a first line of text decides ---------------------------------- */

/* A ustar header for a file of size bytes named name, appended to out. */
static void ustar_header(struct ts_buf *out, const char *name, size_t size)
{
	char h[512];
	unsigned sum = 0;

	memset(h, 0, sizeof(h));
	memcpy(h, name, strlen(name));
	memcpy(h + 100, "0000644", 7);
	memcpy(h + 108, "0000000", 7);
	memcpy(h + 116, "0000000", 7);
	snprintf(h + 124, 12, "%011o", (unsigned)size);
	memcpy(h + 136, "00000000000", 11);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < sizeof(h); i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	ts_buf_add(out, h, sizeof(h));
}

/* An old binary cpio header (little-endian) and its name, padded. */
static void cpio_bin(struct ts_buf *out, unsigned dev, const char *name, size_t size)
{
	size_t nl = strlen(name) + 1;
	unsigned mode = size || strcmp(name, "TRAILER!!!") ? 0100644 : 0;
	unsigned v[13] = {070707, dev, 1, mode, 0, 0, 1, 0, 0, 0, (unsigned)nl,
			  (unsigned)(size >> 16), (unsigned)(size & 0xffff)};

	for (int i = 0; i < 13; i++) {
		char b[2] = {(char)(v[i] & 0xff), (char)(v[i] >> 8)};
		ts_buf_add(out, b, 2);
	}
	ts_buf_add(out, name, nl);
	if (nl % 2)
		ts_buf_add(out, "", 1);
}

/*
 * From a file the first read holds 512 bytes; from a pipe it may hold only
 * the first line.  What the input is must not depend on that: a tar whose
 * first name holds a newline was an archive from a file and text from a
 * pipe, and binary headers holding a newline byte (a cpio device number,
 * a skippable frame's size) were text from a pipe.
 */
static void test_first_line(void)
{
	static const char zeros[1024];
	struct ts_buf t;
	struct res r;

	ts_buf_init(&t, 0);
	ustar_header(&t, "a\nb.json", 8);
	ts_buf_add(&t, "{\"a\":1}\n", 8);
	ts_buf_add(&t, zeros, 504);
	ts_buf_add(&t, zeros, sizeof(zeros));
	CHECK(run(t.data, t.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.fmt == TS_FMT_PLAIN && r.entries == 1);
	CHECK_MEM(r.out.data, r.out.len, t.data, t.len);
	none(&r);
	res_release(&r);
	/* (told, it is one) */
	CHECK(run(t.data, t.len, TS_FMT_ARCHIVE, NULL, &r) == 0);
	CHECK(r.fmt == TS_FMT_ARCHIVE && r.entries == 1);
	CHECK_STR(r.names, "a\nb.json;");
	CHECK_MEM(r.out.data, r.out.len, "{\"a\":1}\n", 8);
	none(&r);
	res_release(&r);

	/* old binary cpio of a file on device 10: c7 71 0a 00 */
	ts_buf_reset(&t);
	cpio_bin(&t, 10, "a.json", 8);
	ts_buf_add(&t, "{\"a\":1}\n", 8);
	cpio_bin(&t, 0, "TRAILER!!!", 0);
	ts_buf_add(&t, zeros, 512 - t.len % 512);
	CHECK(run(t.data, t.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.fmt == TS_FMT_ARCHIVE && r.entries == 1);
	CHECK_STR(r.names, "a.json;");
	CHECK_MEM(r.out.data, r.out.len, "{\"a\":1}\n", 8);
	none(&r);
	res_release(&r);

	/* a skippable frame of 10 bytes, then zstd */
	ts_buf_reset(&t);
	ts_buf_add(&t, "\x50\x2a\x4d\x18\n\0\0\0" "0123456789", 18);
	zstd_bytes(&t, plain.data, 5000, 1);
	CHECK(run(t.data, t.len, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.fmt == TS_FMT_ZSTD);
	CHECK_MEM(r.out.data, r.out.len, plain.data, 5000);
	none(&r);
	res_release(&r);

	/* text whose first line could start a binary header still comes
	 * out as it is once the next bytes say it does not */
	CHECK(run("1\n2\n", 4, TS_FMT_AUTO, NULL, &r) == 0);
	CHECK(r.fmt == TS_FMT_PLAIN);
	CHECK_MEM(r.out.data, r.out.len, "1\n2\n", 4);
	res_release(&r);
	ts_buf_release(&t);
}

static void test_as_source(void)
{
	struct ts_buf z;
	int fd;

	ts_buf_init(&z, 0);
	zbytes(&z, "{\"a\":1}{\"b\":", 12, Z_GZIP, 6); /* a value split */
	zbytes(&z, "2}\n[3]\n", 7, Z_GZIP, 6);        /* across members */
	fd = tmpfd(z.data, z.len);
	if (CHECK(fd >= 0)) {
		struct ts_decomp *d = ts_decomp_open(ts_source_fd, &fd, TS_FMT_AUTO, NULL);
		struct ts_reader rd;
		struct ts_item it;
		const char *name;

		CHECK(d && ts_decomp_next_entry(d, &name) == 1);
		ts_reader_init(&rd, ts_decomp_read, d, 0, 0);
		CHECK(ts_reader_next(&rd, &it) == TS_ITEM_VALUE);
		CHECK_MEM(it.v.p, it.v.n, "{\"a\":1}", 7);
		CHECK(ts_reader_next(&rd, &it) == TS_ITEM_VALUE);
		CHECK_MEM(it.v.p, it.v.n, "{\"b\":2}", 7);
		CHECK(ts_reader_next(&rd, &it) == TS_ITEM_VALUE);
		CHECK(it.line == 2 && it.offset == 15);
		CHECK(ts_reader_next(&rd, &it) == TS_ITEM_EOF);
		CHECK(ts_decomp_error(d, NULL) == NULL && ts_decomp_damage(d) == NULL);
		ts_reader_release(&rd);
		ts_decomp_free(d);
		close(fd);
	}

	/* damage in the middle: the bytes before it, TS_SOURCE_BREAK once,
	 * the bytes after it, the end */
	ts_buf_reset(&z);
	zbytes(&z, "{\"a\":1}\n", 8, Z_GZIP, 6);
	size_t s = z.len;
	zbytes(&z, "{\"b\":2}\n", 8, Z_GZIP, 6);
	size_t e = z.len;
	zbytes(&z, "{\"c\":3}\n", 8, Z_GZIP, 6);
	z.data[e - 5] ^= 1;
	struct dribble src = {z.data, z.len, 5, 0, 0, 0};
	struct ts_decomp *d = ts_decomp_open(dribble_read, &src, TS_FMT_AUTO, NULL);
	char buf[64];
	const char *name;
	if (CHECK(d)) {
		CHECK(ts_decomp_next_entry(d, &name) == 1);
		CHECK(ts_decomp_read(d, buf, sizeof(buf)) == 8);
		CHECK(ts_decomp_read(d, buf, sizeof(buf)) == TS_SOURCE_BREAK);
		const struct ts_damage *g = ts_decomp_damage(d);
		if (CHECK(g)) {
			CHECK(g->member == 2 && g->offset == (int64_t)s && !g->fatal);
			CHECK_MEM(g->raw, g->rawn, z.data + s, e - s);
		}
		CHECK(ts_decomp_read(d, buf, 3) == 3);
		CHECK_MEM(buf, 3, "{\"c", 3);
		CHECK(ts_decomp_read(d, buf, sizeof(buf)) == 5);
		CHECK(ts_decomp_read(d, buf, sizeof(buf)) == 0);
		CHECK(ts_decomp_bytes_in(d) == z.len && ts_decomp_bytes_out(d) == 16);
		ts_decomp_free(d);
	}

	/* ... as the reader sees it: one BREAK item where the member was */
	src = (struct dribble){z.data, z.len, 5, 0, 0, 0};
	d = ts_decomp_open(dribble_read, &src, TS_FMT_AUTO, NULL);
	if (CHECK(d)) {
		struct ts_reader rd;
		struct ts_item it;
		CHECK(ts_decomp_next_entry(d, &name) == 1);
		ts_reader_init(&rd, ts_decomp_read, d, 0, 0);
		CHECK(ts_reader_next(&rd, &it) == TS_ITEM_VALUE);
		CHECK_MEM(it.v.p, it.v.n, "{\"a\":1}", 7);
		CHECK(ts_reader_next(&rd, &it) == TS_ITEM_BREAK);
		CHECK(it.line == 2 && it.offset == 8);
		CHECK(ts_decomp_damage(d) && ts_decomp_damage(d)->member == 2);
		CHECK(ts_reader_next(&rd, &it) == TS_ITEM_VALUE);
		CHECK_MEM(it.v.p, it.v.n, "{\"c\":3}", 7);
		CHECK(ts_reader_next(&rd, &it) == TS_ITEM_EOF);
		ts_reader_release(&rd);
		ts_decomp_free(d);
	}

	/* a cut inside a record: the good records, the piece, one BREAK */
	ts_buf_reset(&z);
	zbytes(&z, "{\"a\":1}\n{\"b\":", 13, Z_GZIP, 6);
	size_t cut = z.len + 11; /* just into the second one's data */
	zbytes(&z, "2}\n", 3, Z_GZIP, 6);
	src = (struct dribble){z.data, cut, 5, 0, 0, 0};
	d = ts_decomp_open(dribble_read, &src, TS_FMT_AUTO, NULL);
	if (CHECK(d)) {
		struct ts_reader rd;
		struct ts_item it;
		CHECK(ts_decomp_next_entry(d, &name) == 1);
		ts_reader_init(&rd, ts_decomp_read, d, 0, 0);
		CHECK(ts_reader_next(&rd, &it) == TS_ITEM_VALUE);
		CHECK(ts_reader_next(&rd, &it) == TS_ITEM_ERROR);
		CHECK(it.line == 2);
		CHECK(ts_reader_next(&rd, &it) == TS_ITEM_BREAK);
		const struct ts_damage *g = ts_decomp_damage(d);
		CHECK(g && g->fatal && g->member == 2 && g->offset == (int64_t)cut);
		CHECK(ts_reader_next(&rd, &it) == TS_ITEM_EOF);
		ts_reader_release(&rd);
		ts_decomp_free(d);
	}
	ts_buf_release(&z);
}

int main(void)
{
	ts_buf_init(&plain, 0);
	for (int i = 0; i < 20000; i++)
		ts_buf_addf(&plain, "{\"n\":%d,\"msg\":\"line %d of the log\"}\n", i,
			    i * 7919 % 10007);
	test_plain();
	test_plain_direct();
	test_gzip();
	test_gzip_large();
	test_gzip_truncated();
	test_gzip_resync();
	test_zlib_deflate();
	test_limits();
	test_xz();
	test_zstd();
	test_bzip2_lz4();
	test_archives();
	test_first_line();
	test_as_source();
	ts_buf_release(&plain);
	return check_done();
}
