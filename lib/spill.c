/* spill.c — see spill.h. */
#include "spill.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define PART_BUF ((size_t)32 << 10)

struct part {
	FILE *f;
	char *buf;
	uint64_t count, bytes, left;
};

struct ts_spill {
	unsigned nparts, open;
	char *dir;
	struct part p[TS_SPILL_MAX_PARTS];
	char err[256];
};

static int fail(struct ts_spill *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct ts_spill *s, const char *fmt, ...)
{
	va_list ap;
	int e = errno ? errno : EIO;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}

struct ts_spill *ts_spill_new(unsigned nparts, const char *dir)
{
	struct ts_spill *s;

	if (nparts < 1 || nparts > TS_SPILL_MAX_PARTS) {
		errno = EINVAL;
		return NULL;
	}
	if (!(s = calloc(1, sizeof(*s))))
		return NULL;
	s->nparts = nparts;
	if (!(s->dir = strdup(dir && *dir ? dir : ts_tmpdir()))) {
		free(s);
		return NULL;
	}
	return s;
}

void ts_spill_drop(struct ts_spill *s, unsigned part)
{
	struct part *p = &s->p[part];

	if (p->f) {
		fclose(p->f);
		s->open--;
	}
	free(p->buf);
	memset(p, 0, sizeof(*p));
}

void ts_spill_free(struct ts_spill *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->nparts; i++)
		ts_spill_drop(s, i);
	free(s->dir);
	free(s);
}

unsigned ts_spill_parts(const struct ts_spill *s)
{
	return s->nparts;
}

uint64_t ts_spill_count(const struct ts_spill *s, unsigned part)
{
	return s->p[part].count;
}

uint64_t ts_spill_bytes(const struct ts_spill *s, unsigned part)
{
	return s->p[part].bytes;
}

uint64_t ts_spill_memory(const struct ts_spill *s)
{
	return (uint64_t)s->open * PART_BUF;
}

const char *ts_spill_error(const struct ts_spill *s)
{
	return s->err;
}

static int make(struct ts_spill *s, struct part *p)
{
	int fd = ts_tmpfile(s->dir);

	if (fd < 0 || !(p->buf = malloc(PART_BUF)) || !(p->f = fdopen(fd, "w+"))) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		free(p->buf);
		p->buf = NULL;
		errno = e;
		return fail(s, "cannot create a temporary file in %s: %s", s->dir, strerror(e));
	}
	setvbuf(p->f, p->buf, _IOFBF, PART_BUF);
	s->open++;
	return 0;
}

int ts_spill_add(struct ts_spill *s, unsigned part, const void *a, size_t an,
		 const void *b, size_t bn)
{
	struct part *p = &s->p[part];
	uint64_t n = (uint64_t)an + bn;
	unsigned char len[4];

	if (n > UINT32_MAX) {
		errno = EFBIG;
		return fail(s, "a record of %llu bytes is too long to spill", (unsigned long long)n);
	}
	if (!p->f && make(s, p) < 0)
		return -1;
	for (int i = 0; i < 4; i++)
		len[i] = (unsigned char)(n >> (8 * i));
	errno = 0;
	if (fwrite(len, 1, 4, p->f) != 4 || (an && fwrite(a, 1, an, p->f) != an) ||
	    (bn && fwrite(b, 1, bn, p->f) != bn))
		return fail(s, "cannot write a temporary file in %s: %s", s->dir,
			    strerror(errno ? errno : EIO));
	p->count++;
	p->bytes += 4 + n;
	return 0;
}

int ts_spill_rewind(struct ts_spill *s, unsigned part)
{
	struct part *p = &s->p[part];

	p->left = p->count;
	if (!p->f)
		return 0;
	errno = 0;
	if (fflush(p->f) != 0 || fseeko(p->f, 0, SEEK_SET) != 0)
		return fail(s, "cannot write a temporary file in %s: %s", s->dir,
			    strerror(errno ? errno : EIO));
	return 0;
}

int ts_spill_next(struct ts_spill *s, unsigned part, struct ts_buf *out)
{
	struct part *p = &s->p[part];
	unsigned char len[4];
	size_t n;

	if (!p->left)
		return 0;
	if (fread(len, 1, 4, p->f) != 4)
		goto bad;
	n = (size_t)len[0] | (size_t)len[1] << 8 | (size_t)len[2] << 16 | (size_t)len[3] << 24;
	ts_buf_reset(out);
	if (ts_buf_grow(out, n) < 0)
		return fail(s, "out of memory reading a temporary file");
	if (n && fread(out->data, 1, n, p->f) != n)
		goto bad;
	ts_buf_setlen(out, n);
	p->left--;
	return 1;
bad:
	if (!ferror(p->f))
		errno = EIO; /* our own file, cut short */
	return fail(s, "cannot read a temporary file in %s: %s", s->dir, strerror(errno));
}
