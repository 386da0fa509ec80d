/* distinct.c — see distinct.h. */
#include "distinct.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "buf.h"
#include "exact.h"
#include "hash.h"
#include "util.h"

#define MAX_RUNS 64
#define RUN_BUF ((size_t)64 << 10)   /* stdio buffer of a run file */
#define ARENA_CHUNK ((size_t)64 << 10) /* hash.h: the table's arena chunks */
#define MAGIC "TSDSET1\n"
#define HSMALL 4096 /* counts below this are histogrammed in an array */

/* One entry of the table in set order: its fixed hash and where it is. */
struct pair {
	uint64_t h;
	uint64_t pos; /* for ts_htab_next() */
};

struct run {
	FILE *f;   /* unlinked temporary file */
	char *buf; /* its stdio buffer (glibc would take st_blksize, 4 KiB) */
	uint64_t records;
};

struct ts_distinct {
	uint64_t budget;
	char *tmpdir;
	struct ts_htab tab;
	uint64_t rows; /* the sum of all counts, table and runs */
	struct run runs[MAX_RUNS];
	unsigned nruns;
	struct pair *pairs; /* the table sorted, while a merge reads it */
	size_t npairs, pairs_cap;
	char err[512];
};

static void tmp_close(struct run *r);
static int fail(struct ts_distinct *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct ts_distinct *d, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}

struct ts_distinct *ts_distinct_new(const struct ts_distinct_opts *opts)
{
	struct ts_distinct *d = calloc(1, sizeof(*d));
	const char *dir = opts ? opts->tmpdir : NULL;

	if (!d)
		return NULL;
	if (!dir || !*dir)
		dir = ts_tmpdir();
	if (!(d->tmpdir = strdup(dir))) {
		free(d);
		return NULL;
	}
	d->budget = opts && opts->budget ? opts->budget : TS_DISTINCT_DEFAULT_BUDGET;
	if (d->budget < TS_DISTINCT_MIN_BUDGET)
		d->budget = TS_DISTINCT_MIN_BUDGET;
	ts_htab_init(&d->tab);
	return d;
}

void ts_distinct_free(struct ts_distinct *d)
{
	if (!d)
		return;
	for (unsigned i = 0; i < d->nruns; i++)
		tmp_close(&d->runs[i]);
	ts_htab_release(&d->tab);
	free(d->pairs);
	free(d->tmpdir);
	free(d);
}

const char *ts_distinct_error(const struct ts_distinct *d)
{
	return d->err;
}

uint64_t ts_distinct_memory(const struct ts_distinct *d)
{
	return ts_htab_bytes(&d->tab) + d->pairs_cap * sizeof(struct pair) +
	       d->nruns * RUN_BUF;
}

unsigned ts_distinct_runs(const struct ts_distinct *d)
{
	return d->nruns;
}

/* ---- temporary files ------------------------------------------------------ */

/* A file nobody else can reach: O_TMPFILE has no name at all; elsewhere a
 * mkstemp() name is unlinked at once.  Either way the kernel frees it when
 * it is closed or the process dies. */
static int tmp_open(struct ts_distinct *d, struct run *r)
{
	int fd = ts_tmpfile(d->tmpdir);
	FILE *f = NULL;

	r->f = NULL;
	r->buf = NULL;
	r->records = 0;
	if (fd < 0 || !(r->buf = malloc(RUN_BUF)) || !(f = fdopen(fd, "w+"))) {
		fail(d, "cannot create a temporary file in %s: %s", d->tmpdir,
		     strerror(errno));
		if (fd >= 0) {
			int e = errno;
			close(fd);
			errno = e;
		}
		free(r->buf);
		r->buf = NULL;
		return -1;
	}
	setvbuf(f, r->buf, _IOFBF, RUN_BUF);
	r->f = f;
	r->records = 0;
	return 0;
}

static void tmp_close(struct run *r)
{
	if (r->f)
		fclose(r->f);
	free(r->buf);
	r->f = NULL;
	r->buf = NULL;
}

/* ---- bytes in and out -------------------------------------------------------- */

/* Writes go through here so a set stream gets its checksum; errors are
 * found with ferror() at the end. */
struct wr {
	FILE *f;
	uLong crc;
	int sum; /* keep crc (set streams, not runs) */
};

static void w_bytes(struct wr *w, const void *p, size_t n)
{
	if (!n)
		return;
	if (w->sum)
		w->crc = crc32(w->crc, p, (uInt)n);
	fwrite(p, 1, n, w->f);
}

static void w_varint(struct wr *w, uint64_t v)
{
	unsigned char b[10];
	size_t n = 0;

	do {
		b[n] = (unsigned char)(v & 127);
		v >>= 7;
		if (v)
			b[n] |= 128;
		n++;
	} while (v);
	w_bytes(w, b, n);
}

static void w_u64(struct wr *w, uint64_t v)
{
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	w_bytes(w, b, 8);
}

struct rd {
	FILE *f;
	uLong crc;
	int sum;
};

static int r_bytes(struct rd *r, void *p, size_t n)
{
	if (n && fread(p, 1, n, r->f) != n)
		return -1;
	if (n && r->sum)
		r->crc = crc32(r->crc, p, (uInt)n);
	return 0;
}

/* The shortest LEB128 form of a 64-bit value, nothing else. */
static int r_varint(struct rd *r, uint64_t *v)
{
	unsigned char b[10];
	uint64_t x = 0;

	for (int i = 0; i < 10; i++) {
		int c = getc(r->f);
		if (c == EOF)
			return -1;
		b[i] = (unsigned char)c;
		if (i == 9 && c > 1)
			return -1; /* past 64 bits */
		x |= (uint64_t)(c & 127) << (7 * i);
		if (!(c & 128)) {
			if (c == 0 && i > 0)
				return -1; /* a longer form than needed */
			if (r->sum)
				r->crc = crc32(r->crc, b, (uInt)(i + 1));
			*v = x;
			return 0;
		}
	}
	return -1;
}

static uint64_t r_u64le(const unsigned char *b)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

/* A key of n bytes into buf, read in pieces so that a length a stream
 * merely claims costs no memory before the bytes are there.  -1 when the
 * bytes are not there, -2 out of memory. */
static int r_key(struct rd *r, struct ts_buf *buf, size_t n)
{
	ts_buf_reset(buf);
	while (buf->len < n) {
		size_t k = n - buf->len;
		if (k > ((size_t)64 << 10))
			k = (size_t)64 << 10;
		if (ts_buf_grow(buf, k) < 0)
			return -2;
		if (r_bytes(r, buf->data + buf->len, k) < 0)
			return -1;
		ts_buf_setlen(buf, buf->len + k);
	}
	return 0;
}

/* ---- set order ----------------------------------------------------------------- */

static int keycmp(const char *a, size_t na, const char *b, size_t nb)
{
	int c = memcmp(a, b, na < nb ? na : nb);

	if (c)
		return c;
	return na < nb ? -1 : na > nb;
}

static int ordcmp(uint64_t ha, const char *a, size_t na, uint64_t hb,
		  const char *b, size_t nb)
{
	if (ha != hb)
		return ha < hb ? -1 : 1;
	return keycmp(a, na, b, nb);
}

static void entry_at(const struct ts_htab *t, uint64_t pos, const char **k,
		     size_t *n, uint64_t **v)
{
	ts_htab_next(t, &pos, k, n, v);
}

/* Ask for an entry's bytes ahead of use: the sorted order visits the
 * arena at random, a cache miss per entry otherwise.  A hint only (a
 * position in a chunk's skipped tail just fetches a useless line). */
static inline void prefetch(const struct ts_htab *t, uint64_t pos)
{
	size_t c = (size_t)(pos / ARENA_CHUNK);

	if (c < t->nchunks) {
		const char *p = t->chunks[c] + pos % ARENA_CHUNK;
		__builtin_prefetch(p);
		__builtin_prefetch(p + 63);
	}
}

static int pair_less(const struct ts_htab *t, const struct pair *a,
		     const struct pair *b)
{
	const char *ka, *kb;
	size_t na, nb;
	uint64_t *v;

	if (a->h != b->h)
		return a->h < b->h;
	entry_at(t, a->pos, &ka, &na, &v);
	entry_at(t, b->pos, &kb, &nb, &v);
	return keycmp(ka, na, kb, nb) < 0;
}

/* In-place radix sort (American flag) on the hash, a byte at a time from
 * the top, insertion sort for small groups.  Keys made to share hash bits
 * only make the recursion deeper (8 levels at most), never quadratic,
 * short of 64-bit collisions. */
static void sort_pairs(const struct ts_htab *t, struct pair *p, size_t n, int shift)
{
	size_t cnt[256] = { 0 }, next[256], end[256], s = 0;

	if (n <= 32 || shift < 0) {
		for (size_t i = 1; i < n; i++) {
			struct pair x = p[i];
			size_t j = i;
			for (; j > 0 && pair_less(t, &x, &p[j - 1]); j--)
				p[j] = p[j - 1];
			p[j] = x;
		}
		return;
	}
	for (size_t i = 0; i < n; i++)
		cnt[(p[i].h >> shift) & 255]++;
	for (int b = 0; b < 256; b++) {
		next[b] = s;
		s += cnt[b];
		end[b] = s;
	}
	for (unsigned b = 0; b < 256; b++)
		while (next[b] < end[b]) {
			unsigned db = (unsigned)(p[next[b]].h >> shift) & 255;
			if (db == b) {
				next[b]++;
				continue;
			}
			struct pair x = p[next[b]];
			p[next[b]] = p[next[db]];
			p[next[db]++] = x;
		}
	s = 0;
	for (int b = 0; b < 256; b++) {
		sort_pairs(t, p + s, cnt[b], shift - 8);
		s += cnt[b];
	}
}

/* The array stays allocated for the next sort (within the budget, which
 * counts it): allocating it afresh at every spill cost page faults. */
static void unsort(struct ts_distinct *d)
{
	d->npairs = 0;
}

static int sort_table(struct ts_distinct *d)
{
	size_t n = ts_htab_count(&d->tab), i = 0;
	uint64_t pos = 0, before = 0, *v;
	const char *k;
	size_t len;

	unsort(d);
	if (!n)
		return 0;
	if (n > d->pairs_cap) {
		free(d->pairs);
		d->pairs_cap = 0;
		if (!(d->pairs = malloc(n * sizeof(*d->pairs))))
			return fail(d, "out of memory sorting %zu values", n);
		d->pairs_cap = n;
	}
	while (ts_htab_next(&d->tab, &pos, &k, &len, &v) && i < n) {
		d->pairs[i].h = ts_hash(&ts_hkey_fixed, k, len);
		d->pairs[i].pos = before;
		before = pos;
		i++;
	}
	d->npairs = i;
	sort_pairs(&d->tab, d->pairs, i, 56);
	return 0;
}

/* ---- runs and the merge ------------------------------------------------------------ */

static void w_record(struct wr *w, uint64_t h, const char *k, size_t n, uint64_t c)
{
	w_u64(w, h);
	w_varint(w, n);
	w_bytes(w, k, n);
	w_varint(w, c);
}

/* A source of records in set order: a run or the sorted table. */
struct cursor {
	uint64_t h, count;
	const char *key;
	size_t n;
	struct run *run; /* NULL: the table */
	uint64_t left;
	struct ts_buf buf;
	const struct ts_distinct *d;
	size_t i;
};

/* 1 with the next record, 0 at the end, -1 on a read error. */
static int cur_next(struct cursor *c)
{
	if (!c->run) {
		uint64_t *v;
		if (c->i >= c->d->npairs)
			return 0;
		if (c->i + 32 < c->d->npairs)
			prefetch(&c->d->tab, c->d->pairs[c->i + 32].pos);
		c->h = c->d->pairs[c->i].h;
		entry_at(&c->d->tab, c->d->pairs[c->i].pos, &c->key, &c->n, &v);
		c->count = *v;
		c->i++;
		return 1;
	}
	if (!c->left)
		return 0;
	struct rd r = { c->run->f, 0, 0 };
	unsigned char hb[8];
	uint64_t n;
	if (r_bytes(&r, hb, 8) < 0 || r_varint(&r, &n) < 0 ||
	    n > TS_DISTINCT_KEY_MAX || r_key(&r, &c->buf, (size_t)n) < 0 ||
	    r_varint(&r, &c->count) < 0) {
		if (!ferror(c->run->f) && errno != ENOMEM)
			errno = EIO; /* our own file, cut short */
		return -1;
	}
	c->h = r_u64le(hb);
	c->key = c->buf.data;
	c->n = (size_t)n;
	c->left--;
	return 1;
}

struct merge {
	struct cursor cur[MAX_RUNS + 1];
	struct cursor *heap[MAX_RUNS + 1];
	size_t ncur, nheap;
	/* the current record */
	uint64_t h, count;
	struct ts_buf key;
};

static int cur_less(const struct cursor *a, const struct cursor *b)
{
	return ordcmp(a->h, a->key, a->n, b->h, b->key, b->n) < 0;
}

static void sift_down(struct merge *m, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, s = i;
		if (l < m->nheap && cur_less(m->heap[l], m->heap[s]))
			s = l;
		if (l + 1 < m->nheap && cur_less(m->heap[l + 1], m->heap[s]))
			s = l + 1;
		if (s == i)
			return;
		struct cursor *t = m->heap[i];
		m->heap[i] = m->heap[s];
		m->heap[s] = t;
		i = s;
	}
}

static void merge_close(struct merge *m)
{
	for (size_t i = 0; i < m->ncur; i++)
		ts_buf_release(&m->cur[i].buf);
	ts_buf_release(&m->key);
	free(m);
}

/* A merge of d's sorted table (with_table; sort_table() done) and runs
 * [0, nruns). */
static struct merge *merge_open(struct ts_distinct *d, int with_table, unsigned nruns)
{
	struct merge *m = calloc(1, sizeof(*m));

	if (!m) {
		fail(d, "out of memory");
		return NULL;
	}
	ts_buf_init(&m->key, (size_t)TS_DISTINCT_KEY_MAX + 1);
	for (unsigned i = 0; i <= nruns; i++) {
		struct cursor *c = &m->cur[m->ncur];
		if (i == nruns && !with_table)
			break;
		memset(c, 0, sizeof(*c));
		ts_buf_init(&c->buf, (size_t)TS_DISTINCT_KEY_MAX + 1);
		c->d = d;
		if (i < nruns) {
			c->run = &d->runs[i];
			c->left = c->run->records;
			if (fseek(c->run->f, 0, SEEK_SET) < 0) {
				fail(d, "cannot read a temporary file: %s", strerror(errno));
				m->ncur++;
				merge_close(m);
				return NULL;
			}
		}
		m->ncur++;
		int rc = cur_next(c);
		if (rc < 0) {
			fail(d, "cannot read a temporary file: %s", strerror(errno));
			merge_close(m);
			return NULL;
		}
		if (rc)
			m->heap[m->nheap++] = c;
	}
	for (size_t i = m->nheap / 2 + 1; i-- > 0;)
		sift_down(m, i);
	return m;
}

/* The next value of the merge, counts summed: 1, 0 at the end, -1. */
static int merge_next(struct ts_distinct *d, struct merge *m)
{
	int first = 1;

	while (m->nheap) {
		struct cursor *c = m->heap[0];
		if (first) {
			ts_buf_reset(&m->key);
			if (ts_buf_add(&m->key, c->key, c->n) < 0)
				return fail(d, "out of memory");
			m->h = c->h;
			m->count = c->count;
			first = 0;
		} else if (ordcmp(m->h, m->key.data, m->key.len, c->h, c->key, c->n) == 0) {
			if (c->count > UINT64_MAX - m->count) {
				errno = EOVERFLOW;
				return fail(d, "a count passes 2^64");
			}
			m->count += c->count;
		} else {
			return 1;
		}
		int rc = cur_next(c);
		if (rc < 0)
			return fail(d, "cannot read a temporary file: %s", strerror(errno));
		if (!rc)
			m->heap[0] = m->heap[--m->nheap];
		sift_down(m, 0);
	}
	return first ? 0 : 1;
}

static int finish_file(struct ts_distinct *d, FILE *f, const char *what)
{
	if (fflush(f) != 0 || ferror(f)) {
		if (!errno)
			errno = EIO;
		return fail(d, "cannot write %s in %s: %s", what, d->tmpdir,
			    strerror(errno));
	}
	return 0;
}

/* Runs [0, nruns) into one. */
static int fold(struct ts_distinct *d)
{
	struct merge *m;
	struct run nr;
	struct wr w;
	int rc;

	if (tmp_open(d, &nr) < 0)
		return -1;
	if (!(m = merge_open(d, 0, d->nruns))) {
		tmp_close(&nr);
		return -1;
	}
	w.f = nr.f;
	w.crc = 0;
	w.sum = 0;
	while ((rc = merge_next(d, m)) > 0) {
		w_record(&w, m->h, m->key.data, m->key.len, m->count);
		nr.records++;
	}
	merge_close(m);
	if (rc < 0 || finish_file(d, nr.f, "a temporary file") < 0) {
		tmp_close(&nr);
		return -1;
	}
	for (unsigned i = 0; i < d->nruns; i++)
		tmp_close(&d->runs[i]);
	d->runs[0] = nr;
	d->nruns = 1;
	return 0;
}

/* Take a new run (its file written and flushed); fold first when full.
 * On failure the caller still owns nr. */
static int add_run(struct ts_distinct *d, struct run *nr)
{
	if (d->nruns == MAX_RUNS && fold(d) < 0)
		return -1;
	d->runs[d->nruns++] = *nr;
	nr->f = NULL;
	nr->buf = NULL;
	return 0;
}

/* The table out to a new run; the table is empty after, unchanged on
 * failure. */
static int spill(struct ts_distinct *d)
{
	struct run nr;
	struct wr w;

	if (d->nruns == MAX_RUNS && fold(d) < 0)
		return -1;
	if (tmp_open(d, &nr) < 0)
		return -1;
	if (sort_table(d) < 0) {
		tmp_close(&nr);
		return -1;
	}
	w.f = nr.f;
	w.crc = 0;
	w.sum = 0;
	for (size_t i = 0; i < d->npairs; i++) {
		const char *k;
		size_t n;
		uint64_t *v;
		if (i + 32 < d->npairs)
			prefetch(&d->tab, d->pairs[i + 32].pos);
		entry_at(&d->tab, d->pairs[i].pos, &k, &n, &v);
		w_record(&w, d->pairs[i].h, k, n, *v);
	}
	nr.records = d->npairs;
	unsort(d);
	if (finish_file(d, nr.f, "a temporary file") < 0 || add_run(d, &nr) < 0) {
		tmp_close(&nr);
		return -1;
	}
	ts_htab_reset(&d->tab);
	return 0;
}

/* ---- adding ---------------------------------------------------------------- */

/* Whether one more key of n bytes must first send the table out to a run:
 * when taking it would allocate (arena, slot array doubled — the old one is
 * freed only after the new one is filled — or a longer sort array) and what
 * the table would then hold passes the budget.  A spill empties the table
 * but keeps what it allocated, to be filled again: asking only about new
 * allocation is what makes every run about as large as the budget allows
 * (asking about the total once made each key after the first fill a run of
 * its own when the table had been allowed one arena slab past the budget). */
static int must_spill(const struct ts_distinct *d, size_t n)
{
	const struct ts_htab *t = &d->tab;
	uint64_t now = ts_htab_bytes(t) + (uint64_t)d->pairs_cap * sizeof(struct pair);
	uint64_t then = ts_htab_bytes_if_new(t, n);

	if (t->count + 1 > d->pairs_cap)
		then += (uint64_t)(t->count + 1) * sizeof(struct pair);
	else
		then += (uint64_t)d->pairs_cap * sizeof(struct pair);
	return then > now && then > d->budget;
}

int ts_distinct_add_hashed(struct ts_distinct *d, const void *key, size_t n,
			   uint64_t h, uint64_t count)
{
	uint64_t *v;

	if (!count)
		return 0;
	if (n > TS_DISTINCT_KEY_MAX) {
		errno = E2BIG;
		return fail(d, "a value of %zu bytes is too long to count", n);
	}
	if (count > UINT64_MAX - d->rows) {
		errno = EOVERFLOW;
		return fail(d, "more than 2^64 values");
	}
	if (ts_htab_count(&d->tab) && must_spill(d, n) && spill(d) < 0)
		return -1;
	if (!(v = ts_htab_put(&d->tab, h, key, n, NULL)))
		return fail(d, "cannot count a value: %s", strerror(errno));
	*v += count;
	d->rows += count;
	return 0;
}

int ts_distinct_add_count(struct ts_distinct *d, const void *key, size_t n,
			  uint64_t count)
{
	/* a key too long is refused before it is read */
	uint64_t h = n > TS_DISTINCT_KEY_MAX ? 0 : ts_hash(ts_hkey_process(), key, n);

	return ts_distinct_add_hashed(d, key, n, h, count);
}

int ts_distinct_add(struct ts_distinct *d, const void *key, size_t n)
{
	return ts_distinct_add_count(d, key, n, 1);
}

/* ---- statistics ---------------------------------------------------------------- */

struct hist {
	struct ts_distinct_stats st;
	uint64_t *small; /* small[c]: values counted c times, c < HSMALL */
	uint64_t *big;   /* counts >= HSMALL, one per value */
	size_t nbig, capbig;
};

static int hist_add(struct hist *hs, uint64_t c)
{
	hs->st.n_rows += c;
	hs->st.n_distinct++;
	hs->st.n_once += c == 1;
	if (c > hs->st.max_count)
		hs->st.max_count = c;
	if (c < HSMALL) {
		hs->small[c]++;
		return 0;
	}
	if (hs->nbig == hs->capbig) {
		size_t nc = hs->capbig ? hs->capbig * 2 : 64;
		uint64_t *b = realloc(hs->big, nc * sizeof(*b));
		if (!b)
			return -1;
		hs->big = b;
		hs->capbig = nc;
	}
	hs->big[hs->nbig++] = c;
	return 0;
}

static int u64cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* One term of the entropy per distinct count c held by m values:
 * m·(c/N)·ln(N/c) — all terms >= 0, no cancellation, and a single value
 * gives ln 1 = 0 exactly.  The terms depend only on (c, m), and their sum
 * is exact: the entropy does not depend on any order. */
static void term(struct ts_exact *e, uint64_t c, uint64_t m, uint64_t total)
{
	ts_exact_add(e, ((double)(m * c) / (double)total) *
				log((double)total / (double)c));
}

static void hist_finish(struct hist *hs)
{
	struct ts_exact e;
	uint64_t N = hs->st.n_rows;

	ts_exact_init(&e);
	for (uint64_t c = 1; c < HSMALL; c++)
		if (hs->small[c])
			term(&e, c, hs->small[c], N);
	if (hs->nbig)
		qsort(hs->big, hs->nbig, sizeof(*hs->big), u64cmp);
	for (size_t i = 0; i < hs->nbig;) {
		size_t j = i;
		while (j < hs->nbig && hs->big[j] == hs->big[i])
			j++;
		term(&e, hs->big[i], j - i, N);
		i = j;
	}
	hs->st.entropy = N ? ts_exact_value(&e) : 0;
}

int ts_distinct_stats(struct ts_distinct *d, struct ts_distinct_stats *st)
{
	struct hist hs;
	int rc = 0;

	memset(&hs, 0, sizeof(hs));
	if (!(hs.small = calloc(HSMALL, sizeof(*hs.small))))
		return fail(d, "out of memory");
	if (!d->nruns) { /* all in the table: no order needed */
		uint64_t pos = 0, *v;
		const char *k;
		size_t n;
		while (ts_htab_next(&d->tab, &pos, &k, &n, &v))
			if (hist_add(&hs, *v) < 0) {
				rc = fail(d, "out of memory");
				break;
			}
	} else {
		struct merge *m = NULL;
		if (sort_table(d) < 0 || !(m = merge_open(d, 1, d->nruns))) {
			rc = -1;
		} else {
			while ((rc = merge_next(d, m)) > 0)
				if (hist_add(&hs, m->count) < 0) {
					rc = fail(d, "out of memory");
					break;
				}
		}
		if (m)
			merge_close(m);
		unsort(d);
	}
	if (rc == 0) {
		hist_finish(&hs);
		*st = hs.st;
	}
	free(hs.small);
	free(hs.big);
	return rc;
}

/* ---- set streams ------------------------------------------------------------------ */

int ts_distinct_write(struct ts_distinct *d, FILE *f)
{
	struct wr w = { f, 0, 1 };
	struct merge *m;
	uint64_t values = 0, total = 0;
	unsigned char crc[4];
	int rc;

	if (sort_table(d) < 0)
		return -1;
	if (!(m = merge_open(d, 1, d->nruns))) {
		unsort(d);
		return -1;
	}
	w_bytes(&w, MAGIC, 8);
	while ((rc = merge_next(d, m)) > 0) {
		w_varint(&w, (uint64_t)m->key.len + 1);
		w_bytes(&w, m->key.data, m->key.len);
		w_varint(&w, m->count);
		values++;
		total += m->count;
	}
	merge_close(m);
	unsort(d);
	if (rc < 0)
		return -1;
	w_varint(&w, 0);
	w_varint(&w, values);
	w_varint(&w, total);
	for (int i = 0; i < 4; i++)
		crc[i] = (unsigned char)(w.crc >> (8 * i));
	fwrite(crc, 1, 4, f);
	if (fflush(f) != 0 || ferror(f)) {
		if (!errno)
			errno = EIO;
		return fail(d, "cannot write a set: %s", strerror(errno));
	}
	return 0;
}

static int bad_stream(struct ts_distinct *d, FILE *in, const char *what)
{
	if (ferror(in))
		return fail(d, "cannot read a set: %s", strerror(errno));
	errno = EINVAL;
	return fail(d, "not a set stream: %s", what);
}

int ts_distinct_read(struct ts_distinct *d, FILE *in)
{
	struct rd r = { in, 0, 1 };
	struct wr w = { NULL, 0, 0 };
	struct run nr = { NULL, NULL, 0 };
	struct ts_buf key[2];
	unsigned char magic[8], crc[4];
	uint64_t len, count, values = 0, total = 0, want_values, want_total;
	uint64_t prev_h = 0, h;
	int cur = 0, rc = -1;
	uLong sum;

	ts_buf_init(&key[0], (size_t)TS_DISTINCT_KEY_MAX + 1);
	ts_buf_init(&key[1], (size_t)TS_DISTINCT_KEY_MAX + 1);
	if (r_bytes(&r, magic, 8) < 0 || memcmp(magic, MAGIC, 8) != 0) {
		bad_stream(d, in, "no TSDSET1 header");
		goto out;
	}
	for (;;) {
		if (r_varint(&r, &len) < 0) {
			bad_stream(d, in, "a malformed or missing length");
			goto out;
		}
		if (!len)
			break;
		len--;
		if (len > TS_DISTINCT_KEY_MAX) {
			bad_stream(d, in, "a value longer than any counted");
			goto out;
		}
		int got = r_key(&r, &key[cur], (size_t)len);
		if (got < 0) {
			if (got == -2)
				fail(d, "out of memory");
			else
				bad_stream(d, in, "cut short in a value");
			goto out;
		}
		if (r_varint(&r, &count) < 0 || count == 0) {
			bad_stream(d, in, "a malformed count");
			goto out;
		}
		h = ts_hash(&ts_hkey_fixed, key[cur].data, key[cur].len);
		if (values && ordcmp(prev_h, key[!cur].data, key[!cur].len, h,
				     key[cur].data, key[cur].len) >= 0) {
			bad_stream(d, in, "values out of order or repeated");
			goto out;
		}
		if (count > UINT64_MAX - total) { /* its own total cannot be written */
			bad_stream(d, in, "counts that add up past 2^64");
			goto out;
		}
		if (count > UINT64_MAX - d->rows - total) {
			errno = EOVERFLOW;
			fail(d, "more than 2^64 values");
			goto out;
		}
		if (!w.f) {
			if (tmp_open(d, &nr) < 0)
				goto out;
			w.f = nr.f;
		}
		w_record(&w, h, key[cur].data, key[cur].len, count);
		values++;
		total += count;
		prev_h = h;
		cur = !cur;
	}
	if (r_varint(&r, &want_values) < 0 || r_varint(&r, &want_total) < 0 ||
	    want_values != values || want_total != total) {
		bad_stream(d, in, "totals that do not match");
		goto out;
	}
	sum = r.crc;
	if (r_bytes(&r, crc, 4) < 0 ||
	    (crc[0] | crc[1] << 8 | crc[2] << 16 | (uLong)crc[3] << 24) != sum) {
		bad_stream(d, in, "a wrong checksum");
		goto out;
	}
	if (nr.f) {
		nr.records = values;
		if (finish_file(d, nr.f, "a temporary file") < 0 || add_run(d, &nr) < 0)
			goto out;
	}
	d->rows += total;
	rc = 0;
out:
	tmp_close(&nr);
	ts_buf_release(&key[0]);
	ts_buf_release(&key[1]);
	return rc;
}

int ts_distinct_merge(struct ts_distinct *d, struct ts_distinct *src)
{
	struct merge *m;
	struct wr w = { NULL, 0, 0 };
	struct run nr;
	int rc;

	if (d == src) {
		errno = EINVAL;
		return fail(d, "a set merged into itself");
	}
	if (src->rows > UINT64_MAX - d->rows) {
		errno = EOVERFLOW;
		return fail(d, "more than 2^64 values");
	}
	if (!src->rows)
		return 0;
	if (tmp_open(d, &nr) < 0)
		return -1;
	w.f = nr.f;
	if (sort_table(src) < 0 || !(m = merge_open(src, 1, src->nruns))) {
		unsort(src);
		tmp_close(&nr);
		snprintf(d->err, sizeof(d->err), "%s", src->err);
		return -1;
	}
	while ((rc = merge_next(src, m)) > 0) {
		w_record(&w, m->h, m->key.data, m->key.len, m->count);
		nr.records++;
	}
	merge_close(m);
	unsort(src);
	if (rc < 0) {
		snprintf(d->err, sizeof(d->err), "%s", src->err);
		tmp_close(&nr);
		return -1;
	}
	if (finish_file(d, nr.f, "a temporary file") < 0 || add_run(d, &nr) < 0) {
		tmp_close(&nr);
		return -1;
	}
	d->rows += src->rows;
	return 0;
}

int ts_distinct_take(struct ts_distinct *d, struct ts_distinct *src)
{
	if (d == src) {
		errno = EINVAL;
		return fail(d, "a set taken into itself");
	}
	if (src->rows > UINT64_MAX - d->rows) {
		errno = EOVERFLOW;
		return fail(d, "more than 2^64 values");
	}
	if (ts_htab_count(&src->tab) && spill(src) < 0) {
		snprintf(d->err, sizeof(d->err), "%s", src->err);
		return -1;
	}
	if (d->nruns + src->nruns > MAX_RUNS && d->nruns > 1 && fold(d) < 0)
		return -1;
	if (d->nruns + src->nruns > MAX_RUNS && fold(src) < 0) {
		snprintf(d->err, sizeof(d->err), "%s", src->err);
		return -1;
	}
	for (unsigned i = 0; i < src->nruns; i++)
		d->runs[d->nruns++] = src->runs[i];
	src->nruns = 0;
	d->rows += src->rows;
	src->rows = 0;
	return 0;
}
