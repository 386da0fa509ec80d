/* test_parquet.c — lib/parquet.h's writer, checked on the bytes it writes:
 * the footer decoded by a Thrift compact reader written here, every column
 * chunk walked page by page (headers, sizes, decompression with the codec),
 * and every page's levels and values decoded back (RLE/bit-packed hybrid,
 * PLAIN, dictionaries) and compared with what was added: flat schemas with
 * every type, nested lists, structs and maps, nulls, empty lists, unicode,
 * every codec, several row groups and pages, aborted rows, statistics.
 *
 * TS_PQ_KEEP=DIR leaves the files in DIR (NAME.parquet), with
 * NAME.expected.ndjson: each row as `scripts/duckdb` prints
 * SELECT * FROM 'DIR/NAME.parquet' after the casts in NAME.sql. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "buf.h"
#include "check.h"
#include "parquet.h"

/* --- a Thrift compact reader ---------------------------------------------- */

struct tv {
	int type;               /* compact type code: 1/2 bool, 3 byte, 5 i32, 6 i64, 8 binary, 9 list, 12 struct */
	int id;                 /* field id in its struct */
	int64_t i;
	const unsigned char *p;
	size_t n;
	struct tv *k;           /* fields or elements */
	size_t nk;
};

struct rd {
	const unsigned char *p, *e;
	int err;
};

static unsigned rbyte(struct rd *r)
{
	if (r->p >= r->e) {
		r->err = 1;
		return 0;
	}
	return *r->p++;
}

static uint64_t rvarint(struct rd *r)
{
	uint64_t v = 0;
	for (int s = 0; s < 64; s += 7) {
		unsigned b = rbyte(r);
		v |= (uint64_t)(b & 0x7f) << s;
		if (!(b & 0x80))
			return v;
	}
	r->err = 1;
	return v;
}

static int64_t rzz(struct rd *r)
{
	uint64_t v = rvarint(r);
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static void rvalue(struct rd *r, struct tv *v, int type, int depth);

static struct tv *tv_push(struct tv *v)
{
	struct tv *k = realloc(v->k, (v->nk + 1) * sizeof(*k));
	if (!k)
		abort();
	v->k = k;
	memset(&k[v->nk], 0, sizeof(*k));
	return &k[v->nk++];
}

static void rstruct(struct rd *r, struct tv *v, int depth)
{
	int last = 0;
	v->type = 12;
	while (!r->err) {
		unsigned b = rbyte(r);
		if (b == 0)
			break;
		int t = (int)(b & 15), d = (int)(b >> 4);
		int id = d ? last + d : (int)rzz(r);
		last = id;
		struct tv *f = tv_push(v);
		f->id = id;
		if (t == 1 || t == 2) {
			f->type = t;
			f->i = t == 1;
		} else {
			rvalue(r, f, t, depth + 1);
		}
	}
}

static void rvalue(struct rd *r, struct tv *v, int type, int depth)
{
	if (depth > 32) {
		r->err = 1;
		return;
	}
	v->type = type;
	switch (type) {
	case 3: v->i = (signed char)rbyte(r); break;
	case 4: case 5: case 6: v->i = rzz(r); break;
	case 7:
		if (r->e - r->p < 8)
			r->err = 1;
		else
			r->p += 8;
		break;
	case 8:
		v->n = rvarint(r);
		if ((size_t)(r->e - r->p) < v->n) {
			r->err = 1;
			v->n = 0;
		}
		v->p = r->p;
		r->p += v->n;
		break;
	case 9: {
		unsigned b = rbyte(r);
		size_t n = b >> 4;
		int et = (int)(b & 15);
		if (n == 15)
			n = rvarint(r);
		for (size_t i = 0; i < n && !r->err; i++) {
			struct tv *e = tv_push(v);
			if (et == 1 || et == 2) {
				e->type = et;
				e->i = rbyte(r) == 1;
			} else {
				rvalue(r, e, et, depth + 1);
			}
		}
		break;
	}
	case 12: rstruct(r, v, depth); break;
	default: r->err = 1; break;
	}
}

static void tv_free(struct tv *v)
{
	for (size_t i = 0; i < v->nk; i++)
		tv_free(&v->k[i]);
	free(v->k);
	v->k = NULL;
	v->nk = 0;
}

static const struct tv *fld(const struct tv *s, int id)
{
	static const struct tv none = { .type = -1 };
	for (size_t i = 0; s && i < s->nk; i++)
		if (s->k[i].id == id)
			return &s->k[i];
	return &none;
}

static int has(const struct tv *s, int id)
{
	return fld(s, id)->type != -1;
}

/* Decode a struct at p; the bytes it took in *used. */
static int tv_read(struct tv *v, const unsigned char *p, size_t n, size_t *used)
{
	struct rd r = { p, p + n, 0 };
	memset(v, 0, sizeof(*v));
	rstruct(&r, v, 0);
	if (used)
		*used = (size_t)(r.p - p);
	return r.err ? -1 : 0;
}

/* --- recording what the test adds ----------------------------------------- */

/*
 * Each leaf's expected stream: per level, def byte, rep byte, 4-byte length
 * and the value's bytes (present values only).  The decoder below builds the
 * same stream from the file.
 */
#define MAXLEAF 32
struct tw {
	struct ts_pq_writer *w;
	const struct ts_pq_schema *s;
	struct ts_buf exp[MAXLEAF];
	size_t mark[MAXLEAF];
	struct ts_buf file;
	int sink_fail_at;      /* make the sink fail at its n-th call (0: never) */
	int sink_calls;
};

static void log_level(struct ts_buf *b, int def, int rep, const void *p, size_t n, int present)
{
	unsigned char h[6] = { (unsigned char)def, (unsigned char)rep, 0, 0, 0, 0 };
	if (present) {
		h[2] = (unsigned char)n;
		h[3] = (unsigned char)(n >> 8);
		h[4] = (unsigned char)(n >> 16);
		h[5] = (unsigned char)(n >> 24);
	}
	ts_buf_add(b, h, present ? 6 : 2);
	if (present && n)
		ts_buf_add(b, p, n);
}

static int sink(void *ctx, const void *p, size_t n)
{
	struct tw *t = ctx;
	if (t->sink_fail_at && ++t->sink_calls >= t->sink_fail_at) {
		errno = ENOSPC;
		return -1;
	}
	return ts_buf_add(&t->file, p, n);
}

static void tw_open(struct tw *t, const struct ts_pq_schema *s, const struct ts_pq_opts *o)
{
	memset(t, 0, sizeof(*t));
	t->s = s;
	for (int i = 0; i < MAXLEAF; i++)
		ts_buf_init(&t->exp[i], 0);
	ts_buf_init(&t->file, 0);
	t->w = ts_pq_writer_new(s, o, sink, t);
	if (!t->w)
		abort();
}

static void tw_close(struct tw *t)
{
	ts_pq_writer_free(t->w);
	for (int i = 0; i < MAXLEAF; i++)
		ts_buf_release(&t->exp[i]);
	ts_buf_release(&t->file);
}

static int maxdef(const struct tw *t, int leaf)
{
	return t->s->n[t->s->leaf_node[leaf]].max_def;
}

static void null_(struct tw *t, int leaf, int def, int rep)
{
	CHECK(ts_pq_add_null(t->w, leaf, def, rep) == 0);
	log_level(&t->exp[leaf], def, rep, NULL, 0, 0);
}

static void i64_(struct tw *t, int leaf, int rep, int64_t v)
{
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)((uint64_t)v >> (8 * i));
	CHECK(ts_pq_add_i64(t->w, leaf, rep, v) == 0);
	log_level(&t->exp[leaf], maxdef(t, leaf), rep, b, 8, 1);
}

static void i32_(struct tw *t, int leaf, int rep, int32_t v)
{
	unsigned char b[4];
	for (int i = 0; i < 4; i++)
		b[i] = (unsigned char)((uint32_t)v >> (8 * i));
	CHECK(ts_pq_add_i32(t->w, leaf, rep, v) == 0);
	log_level(&t->exp[leaf], maxdef(t, leaf), rep, b, 4, 1);
}

static void f64_(struct tw *t, int leaf, int rep, double v)
{
	uint64_t u;
	unsigned char b[8];
	memcpy(&u, &v, 8);
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(u >> (8 * i));
	CHECK(ts_pq_add_double(t->w, leaf, rep, v) == 0);
	log_level(&t->exp[leaf], maxdef(t, leaf), rep, b, 8, 1);
}

static void f32_(struct tw *t, int leaf, int rep, float v)
{
	uint32_t u;
	unsigned char b[4];
	memcpy(&u, &v, 4);
	for (int i = 0; i < 4; i++)
		b[i] = (unsigned char)(u >> (8 * i));
	CHECK(ts_pq_add_float(t->w, leaf, rep, v) == 0);
	log_level(&t->exp[leaf], maxdef(t, leaf), rep, b, 4, 1);
}

static void bool_(struct tw *t, int leaf, int rep, int v)
{
	unsigned char b = v != 0;
	CHECK(ts_pq_add_bool(t->w, leaf, rep, v) == 0);
	log_level(&t->exp[leaf], maxdef(t, leaf), rep, &b, 1, 1);
}

static void bytes_(struct tw *t, int leaf, int rep, const void *p, size_t n)
{
	CHECK(ts_pq_add_bytes(t->w, leaf, rep, p, n) == 0);
	log_level(&t->exp[leaf], maxdef(t, leaf), rep, p, n, 1);
}

static void str_(struct tw *t, int leaf, int rep, const char *s)
{
	bytes_(t, leaf, rep, s, strlen(s));
}

static int lenient; /* the writer is expected to fail */

static void end_(struct tw *t)
{
	int r = ts_pq_row_end(t->w);
	if (!lenient)
		CHECK(r == 0);
	for (size_t i = 0; i < t->s->nleaves; i++)
		t->mark[i] = t->exp[i].len;
}

static void abort_(struct tw *t)
{
	ts_pq_row_abort(t->w);
	for (size_t i = 0; i < t->s->nleaves; i++)
		ts_buf_setlen(&t->exp[i], t->mark[i]);
}

/* --- reading the file back -------------------------------------------------- */

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The RLE / bit-packed hybrid: count values of bw bits into out.  0, or -1
 * when the bytes run out or are malformed. */
static int hyb_decode(const unsigned char *p, size_t n, int bw, uint32_t *out, size_t count)
{
	struct rd r = { p, p + n, 0 };
	size_t got = 0, vb = ((size_t)bw + 7) / 8;
	while (got < count) {
		uint64_t h = rvarint(&r);
		if (r.err)
			return -1;
		if (h & 1) {
			size_t nv = (size_t)(h >> 1) * 8;
			if (nv == 0 || (size_t)(r.e - r.p) < nv * (size_t)bw / 8)
				return -1;
			uint64_t acc = 0;
			int nb = 0;
			for (size_t k = 0; k < nv; k++) {
				while (nb < bw) {
					acc |= (uint64_t)*r.p++ << nb;
					nb += 8;
				}
				uint32_t x = (uint32_t)(acc & ((1ull << bw) - 1));
				acc >>= bw;
				nb -= bw;
				if (got < count)
					out[got++] = x;
			}
		} else {
			size_t run = (size_t)(h >> 1);
			uint32_t x = 0;
			for (size_t k = 0; k < vb; k++)
				x |= rbyte(&r) << (8 * k);
			if (r.err || run == 0 || run > count - got)
				return -1;
			while (run--)
				out[got++] = x;
		}
	}
	return 0;
}

static int bits_for(int max)
{
	int b = 0;
	while (max >> b)
		b++;
	return b;
}

static unsigned char *decompress(int codec, const unsigned char *src, size_t n, size_t un)
{
	unsigned char *dst = malloc(un + 1);
	if (!dst)
		abort();
	switch (codec) {
	case 0:
		if (n != un)
			goto bad;
		memcpy(dst, src, n);
		return dst;
	case 1: {
		size_t len = un;
		if (snappy_uncompress((const char *)src, n, (char *)dst, &len) != SNAPPY_OK ||
		    len != un)
			goto bad;
		return dst;
	}
	case 2: {
		z_stream z;
		memset(&z, 0, sizeof(z));
		if (n < 2 || src[0] != 0x1f || src[1] != 0x8b) /* gzip, not zlib */
			goto bad;
		if (inflateInit2(&z, 15 + 16) != Z_OK)
			goto bad;
		z.next_in = (Bytef *)(uintptr_t)src;
		z.avail_in = (uInt)n;
		z.next_out = dst;
		z.avail_out = (uInt)un + 1;
		int r = inflate(&z, Z_FINISH);
		size_t len = un + 1 - z.avail_out;
		inflateEnd(&z);
		if (r != Z_STREAM_END || len != un)
			goto bad;
		return dst;
	}
	case 6: {
		size_t r = ZSTD_decompress(dst, un + 1, src, n);
		if (ZSTD_isError(r) || r != un)
			goto bad;
		return dst;
	}
	}
bad:
	free(dst);
	return NULL;
}

struct dictent {
	const unsigned char *p;
	size_t n;
};

/* One value of PLAIN data at *pp: its bytes and length. */
static const unsigned char *plain_value(const struct ts_pq_node *nd, const unsigned char **pp,
					const unsigned char *e, size_t *len)
{
	const unsigned char *p = *pp;
	size_t w = nd->phys == TS_PQ_INT32 || nd->phys == TS_PQ_FLOAT ? 4
		 : nd->phys == TS_PQ_INT64 || nd->phys == TS_PQ_DOUBLE ? 8
		 : nd->phys == TS_PQ_FIXED ? (size_t)nd->type_length : 0;
	if (!w) {
		if (e - p < 4)
			return NULL;
		w = rd32(p);
		p += 4;
	}
	if ((size_t)(e - p) < w)
		return NULL;
	*len = w;
	*pp = p + w;
	return p;
}

struct filecheck {
	int64_t rows;
	size_t row_groups;
	size_t pages, dict_chunks, plain_chunks;
	struct tv meta;         /* the footer, for more checks */
};

/*
 * Check everything about t->file, and decode each leaf's levels and values
 * into the same stream t->exp holds.  codec: what every chunk must say.
 */
static void verify(struct tw *t, const char *name, int codec, struct filecheck *fc)
{
	const unsigned char *f = (const unsigned char *)t->file.data;
	size_t n = t->file.len;
	const struct ts_pq_schema *s = t->s;
	memset(fc, 0, sizeof(*fc));

	const char *keep = getenv("TS_PQ_KEEP");
	if (keep && *keep) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s.parquet", keep, name);
		FILE *fp = fopen(path, "wb");
		if (fp) {
			fwrite(f, 1, n, fp);
			fclose(fp);
		}
	}

	if (!CHECK(n >= 12 && memcmp(f, "PAR1", 4) == 0 && memcmp(f + n - 4, "PAR1", 4) == 0)) {
		fprintf(stderr, "  %s: not a Parquet file\n", name);
		return;
	}
	size_t mlen = rd32(f + n - 8);
	if (!CHECK(mlen <= n - 12))
		return;
	size_t used;
	struct tv *m = &fc->meta;
	if (!CHECK(tv_read(m, f + n - 8 - mlen, mlen, &used) == 0 && used == mlen)) {
		fprintf(stderr, "  %s: the footer does not decode\n", name);
		return;
	}
	CHECK(fld(m, 1)->i == 1 || fld(m, 1)->i == 2);
	fc->rows = fld(m, 3)->i;
	const struct tv *sch = fld(m, 2);
	CHECK(sch->nk == s->nn);
	for (size_t i = 1; i < sch->nk && i < s->nn; i++) {
		const struct tv *nm = fld(&sch->k[i], 4);
		CHECK_MEM(nm->p, nm->n, s->n[i].name, strlen(s->n[i].name));
		CHECK(fld(&sch->k[i], 3)->i == (int64_t)s->n[i].rep);
		if (s->n[i].leaf >= 0)
			CHECK(fld(&sch->k[i], 1)->i == (int64_t)s->n[i].phys);
		else
			CHECK(fld(&sch->k[i], 5)->i == s->n[i].nchildren);
	}
	CHECK(fld(&sch->k[0], 5)->i == s->n[0].nchildren);
	CHECK(fld(m, 7)->nk == s->nleaves); /* column orders */

	struct ts_buf got[MAXLEAF];
	for (int i = 0; i < MAXLEAF; i++)
		ts_buf_init(&got[i], 0);
	const struct tv *rgs = fld(m, 4);
	fc->row_groups = rgs->nk;
	int64_t rows = 0;
	for (size_t g = 0; g < rgs->nk; g++) {
		const struct tv *rg = &rgs->k[g];
		int64_t rg_rows = fld(rg, 3)->i;
		CHECK(rg_rows > 0);
		rows += rg_rows;
		CHECK(fld(rg, 7)->i == (int64_t)g);
		const struct tv *cols = fld(rg, 1);
		if (!CHECK(cols->nk == s->nleaves))
			break;
		int64_t rg_usize = 0, rg_csize = 0;
		for (size_t c = 0; c < cols->nk; c++) {
			const struct ts_pq_node *nd = &s->n[s->leaf_node[c]];
			const struct tv *cm = fld(&cols->k[c], 3);
			CHECK(fld(cm, 1)->i == (int64_t)nd->phys);
			CHECK(fld(cm, 4)->i == codec);
			/* path_in_schema: the names from below the root */
			const struct tv *path = fld(cm, 3);
			int node = s->leaf_node[c];
			for (size_t k = path->nk; k-- > 0 && node > 0; node = s->n[node].parent)
				CHECK_MEM(path->k[k].p, path->k[k].n, s->n[node].name,
					  strlen(s->n[node].name));
			CHECK(node == 0);
			int64_t data_off = fld(cm, 9)->i;
			int64_t dict_off = has(cm, 11) ? fld(cm, 11)->i : -1;
			int64_t start = dict_off >= 0 ? dict_off : data_off;
			CHECK(fld(&cols->k[c], 2)->i == start);
			int64_t csize = fld(cm, 7)->i, usize = fld(cm, 6)->i;
			rg_usize += usize;
			rg_csize += csize;
			if (!CHECK(start >= 4 && csize > 0 && (size_t)(start + csize) <= n - 8 - mlen))
				continue;
			int64_t pos = start, u = 0, nvalues = 0, nulls = 0;
			struct dictent *dict = NULL;
			size_t ndict = 0;
			unsigned char *dictpage = NULL;
			int seen_data = 0, ok = 1;
			while (ok && pos < start + csize) {
				struct tv ph;
				if (!CHECK(tv_read(&ph, f + pos, (size_t)(start + csize - pos), &used) == 0)) {
					tv_free(&ph);
					ok = 0;
					break;
				}
				int type = (int)fld(&ph, 1)->i;
				size_t pu = (size_t)fld(&ph, 2)->i, pc = (size_t)fld(&ph, 3)->i;
				const unsigned char *body = f + pos + used;
				u += (int64_t)(used + pu);
				if (!CHECK(pos + (int64_t)(used + pc) <= start + csize)) {
					tv_free(&ph);
					ok = 0;
					break;
				}
				unsigned char *page = decompress(codec, body, pc, pu);
				if (!CHECK(page != NULL)) {
					tv_free(&ph);
					ok = 0;
					break;
				}
				if (type == 2) {
					CHECK(pos == dict_off && !seen_data && !dict);
					const struct tv *dh = fld(&ph, 7);
					ndict = (size_t)fld(dh, 1)->i;
					CHECK(fld(dh, 2)->i == 0 || fld(dh, 2)->i == 2);
					dict = calloc(ndict + 1, sizeof(*dict));
					const unsigned char *q = page, *e = page + pu;
					for (size_t k = 0; k < ndict; k++)
						if (!CHECK((dict[k].p = plain_value(nd, &q, e, &dict[k].n)) != NULL))
							break;
					CHECK(q == e);
					dictpage = page;
					page = NULL;
				} else {
					CHECK(type == 0);
					if (!seen_data)
						CHECK(pos == data_off);
					seen_data = 1;
					fc->pages++;
					const struct tv *dh = fld(&ph, 5);
					size_t nl = (size_t)fld(dh, 1)->i;
					int enc = (int)fld(dh, 2)->i;
					nvalues += (int64_t)nl;
					uint32_t *rep = calloc(nl + 1, sizeof(*rep)), *def = calloc(nl + 1, sizeof(*def));
					const unsigned char *q = page, *e = page + pu;
					if (nd->max_rep) {
						CHECK(fld(dh, 4)->i == 3);
						size_t ll = rd32(q);
						CHECK(hyb_decode(q + 4, ll, bits_for(nd->max_rep), rep, nl) == 0);
						q += 4 + ll;
						CHECK(nl == 0 || rep[0] == 0); /* a page starts a record */
					}
					if (nd->max_def) {
						CHECK(fld(dh, 3)->i == 3);
						size_t ll = rd32(q);
						CHECK(hyb_decode(q + 4, ll, bits_for(nd->max_def), def, nl) == 0);
						q += 4 + ll;
					}
					size_t nv = 0;
					for (size_t k = 0; k < nl; k++) {
						if ((int)def[k] == nd->max_def)
							nv++;
						else
							nulls++;
					}
					uint32_t *ix = NULL;
					if (enc == 8 || enc == 2) {
						CHECK(dict != NULL);
						int bw = *q++;
						ix = calloc(nv + 1, sizeof(*ix));
						CHECK(hyb_decode(q, (size_t)(e - q), bw, ix, nv) == 0);
					} else {
						CHECK(enc == 0);
					}
					size_t vi = 0;
					for (size_t k = 0; k < nl; k++) {
						if ((int)def[k] != nd->max_def) {
							log_level(&got[c], (int)def[k], (int)rep[k], NULL, 0, 0);
							continue;
						}
						const unsigned char *vp;
						size_t vn;
						unsigned char bit;
						if (ix) {
							if (!CHECK(ix[vi] < ndict))
								break;
							vp = dict[ix[vi]].p;
							vn = dict[ix[vi]].n;
						} else if (nd->phys == TS_PQ_BOOLEAN) {
							bit = (q[vi >> 3] >> (vi & 7)) & 1;
							vp = &bit;
							vn = 1;
						} else if (!CHECK((vp = plain_value(nd, &q, e, &vn)) != NULL)) {
							break;
						}
						vi++;
						log_level(&got[c], (int)def[k], (int)rep[k], vp, vn, 1);
					}
					free(ix);
					free(rep);
					free(def);
				}
				free(page);
				tv_free(&ph);
				pos += (int64_t)(used + pc);
			}
			CHECK(pos == start + csize);
			CHECK(u == usize);
			CHECK(nvalues == fld(cm, 5)->i);
			CHECK(fld(fld(cm, 12), 3)->i == nulls);
			if (dict)
				fc->dict_chunks++;
			else
				fc->plain_chunks++;
			free(dict);
			free(dictpage);
		}
		CHECK(fld(rg, 2)->i == rg_usize);
		CHECK(fld(rg, 6)->i == rg_csize);
	}
	CHECK(rows == fc->rows);
	for (size_t c = 0; c < s->nleaves; c++)
		if (!CHECK_MEM(got[c].data, got[c].len, t->exp[c].data, t->exp[c].len))
			fprintf(stderr, "  %s: column %zu (%s) reads back differently\n", name, c,
				s->n[s->leaf_node[c]].name);
	for (int i = 0; i < MAXLEAF; i++)
		ts_buf_release(&got[i]);
}

/* --- schemas -------------------------------------------------------------------- */

static int node(struct ts_pq_schema *s, const char *name, enum ts_pq_kind k, enum ts_pq_rep r,
		int parent)
{
	if (ts_pq_schema_add(s, name, k, r, parent) < 0)
		abort();
	return (int)s->nn - 1;
}

static void decimal(struct ts_pq_schema *s, const char *name, int p, int sc)
{
	int i = node(s, name, TS_PQK_DECIMAL, TS_PQ_OPTIONAL, 0);
	s->n[i].precision = p;
	s->n[i].scale = sc;
}

static void finish(struct ts_pq_schema *s)
{
	char err[200];
	if (ts_pq_schema_finish(s, err, sizeof(err)) < 0) {
		fprintf(stderr, "schema: %s\n", err);
		abort();
	}
}

enum { F_S, F_U, F_B, F_I, F_SM, F_TI, F_D, F_F, F_BO, F_TS, F_DT, F_D1, F_D2, F_D3, F_N };

static void flat_schema(struct ts_pq_schema *s)
{
	ts_pq_schema_init(s);
	node(s, "schema", TS_PQK_STRUCT, TS_PQ_REQUIRED, -1);
	node(s, "s", TS_PQK_STRING, TS_PQ_OPTIONAL, 0);
	node(s, "u", TS_PQK_STRING, TS_PQ_OPTIONAL, 0);
	node(s, "b", TS_PQK_BIGINT, TS_PQ_OPTIONAL, 0);
	node(s, "i", TS_PQK_INT, TS_PQ_OPTIONAL, 0);
	node(s, "sm", TS_PQK_SMALLINT, TS_PQ_OPTIONAL, 0);
	node(s, "ti", TS_PQK_TINYINT, TS_PQ_OPTIONAL, 0);
	node(s, "d", TS_PQK_DOUBLE, TS_PQ_OPTIONAL, 0);
	node(s, "f", TS_PQK_FLOAT, TS_PQ_OPTIONAL, 0);
	node(s, "bo", TS_PQK_BOOLEAN, TS_PQ_OPTIONAL, 0);
	node(s, "ts", TS_PQK_TIMESTAMP, TS_PQ_OPTIONAL, 0);
	node(s, "dt", TS_PQK_DATE, TS_PQ_OPTIONAL, 0);
	decimal(s, "d1", 5, 2);
	decimal(s, "d2", 18, 4);
	decimal(s, "d3", 38, 10);
	finish(s);
}

enum { N_A, N_ASA, N_ASB, N_MK, N_MV, N_STY, N_N };

static void nested_schema(struct ts_pq_schema *s)
{
	ts_pq_schema_init(s);
	node(s, "schema", TS_PQK_STRUCT, TS_PQ_REQUIRED, -1);
	int a = node(s, "a", TS_PQK_ARRAY, TS_PQ_OPTIONAL, 0);
	int l = node(s, "list", TS_PQK_LIST_REPEATED, TS_PQ_REPEATED, a);
	node(s, "element", TS_PQK_BIGINT, TS_PQ_OPTIONAL, l);
	int as = node(s, "as", TS_PQK_ARRAY, TS_PQ_OPTIONAL, 0);
	l = node(s, "list", TS_PQK_LIST_REPEATED, TS_PQ_REPEATED, as);
	int el = node(s, "element", TS_PQK_STRUCT, TS_PQ_OPTIONAL, l);
	node(s, "a", TS_PQK_STRING, TS_PQ_OPTIONAL, el);
	int b = node(s, "b", TS_PQK_ARRAY, TS_PQ_OPTIONAL, el);
	l = node(s, "list", TS_PQK_LIST_REPEATED, TS_PQ_REPEATED, b);
	node(s, "element", TS_PQK_DOUBLE, TS_PQ_OPTIONAL, l);
	int m = node(s, "m", TS_PQK_MAP, TS_PQ_OPTIONAL, 0);
	int kv = node(s, "key_value", TS_PQK_MAP_KEY_VALUE, TS_PQ_REPEATED, m);
	node(s, "key", TS_PQK_STRING, TS_PQ_REQUIRED, kv);
	node(s, "value", TS_PQK_BIGINT, TS_PQ_OPTIONAL, kv);
	int st = node(s, "st", TS_PQK_STRUCT, TS_PQ_OPTIONAL, 0);
	int x = node(s, "x", TS_PQK_STRUCT, TS_PQ_OPTIONAL, st);
	node(s, "y", TS_PQK_STRING, TS_PQ_OPTIONAL, x);
	finish(s);
}

/* --- data ------------------------------------------------------------------------- */

/* JSON text of a string (the test's strings need only quotes escaped). */
static void jstr(struct ts_buf *j, const char *s)
{
	ts_buf_addch(j, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			ts_buf_addch(j, '\\');
		ts_buf_addch(j, *s);
	}
	ts_buf_addch(j, '"');
}

/* An unscaled decimal as DuckDB prints it: "-12.34" (as a JSON string). */
static void jdec(struct ts_buf *j, __int128 v, int scale)
{
	char dig[64];
	int n = 0, neg = v < 0;
	unsigned __int128 u = neg ? -(unsigned __int128)v : (unsigned __int128)v;
	do {
		dig[n++] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u);
	while (n <= scale)
		dig[n++] = '0';
	ts_buf_addch(j, '"');
	if (neg)
		ts_buf_addch(j, '-');
	for (int k = n - 1; k >= 0; k--) {
		ts_buf_addch(j, dig[k]);
		if (k == scale && k > 0)
			ts_buf_addch(j, '.');
	}
	ts_buf_addch(j, '"');
}

static const char *const words[] = {
	"alpha", "beta", "gamma", "h\xc3\xa9llo w\xc3\xb6rld", "\xe2\x9c\x93 \xf0\x9f\x8e\x89",
	"", "with \"quotes\"", "zeta",
};

/* Row i of the flat file, added to t and as JSON to j. */
static void flat_row(struct tw *t, struct ts_buf *j, int i)
{
	char tmp[64];
	ts_buf_addch(j, '{');
	/* s: a few distinct words (dictionary), nulls */
	ts_buf_addstr(j, "\"s\":");
	if (i % 7 == 3) {
		null_(t, F_S, 0, 0);
		ts_buf_addstr(j, "null");
	} else {
		str_(t, F_S, 0, words[i % 8]);
		jstr(j, words[i % 8]);
	}
	/* u: unique (PLAIN) */
	snprintf(tmp, sizeof(tmp), "row-%d-\xce\xbb", i);
	str_(t, F_U, 0, tmp);
	ts_buf_addstr(j, ",\"u\":");
	jstr(j, tmp);
	int64_t b = (int64_t)i * 1000003 - 500000000 + (i % 11 == 0 ? INT64_MIN / 2 : 0);
	ts_buf_addstr(j, ",\"b\":");
	if (i % 13 == 5) {
		null_(t, F_B, 0, 0);
		ts_buf_addstr(j, "null");
	} else {
		i64_(t, F_B, 0, b);
		ts_buf_addf(j, "%lld", (long long)b);
	}
	int32_t iv = i % 100 - 50;
	i32_(t, F_I, 0, iv);
	ts_buf_addf(j, ",\"i\":%d", iv);
	int32_t sm = i % 600 - 300, ti = i % 256 - 128;
	i32_(t, F_SM, 0, sm);
	i32_(t, F_TI, 0, ti);
	ts_buf_addf(j, ",\"sm\":%d,\"ti\":%d", sm, ti);
	double d = i * 0.25 - 100;
	ts_buf_addstr(j, ",\"d\":");
	if (i % 9 == 4) {
		null_(t, F_D, 0, 0);
		ts_buf_addstr(j, "null");
	} else {
		f64_(t, F_D, 0, d);
		ts_buf_addf(j, "%.17g", d);
	}
	float f = (float)(i % 10) / 4 - 1;
	f32_(t, F_F, 0, f);
	ts_buf_addf(j, ",\"f\":%.9g", (double)f);
	ts_buf_addstr(j, ",\"bo\":");
	if (i % 5 == 2) {
		null_(t, F_BO, 0, 0);
		ts_buf_addstr(j, "null");
	} else {
		bool_(t, F_BO, 0, i % 3 == 0);
		ts_buf_addstr(j, i % 3 == 0 ? "true" : "false");
	}
	int64_t ts = 1700000000000000LL + (int64_t)i * 1000001;
	i64_(t, F_TS, 0, ts);
	ts_buf_addf(j, ",\"ts\":%lld", (long long)ts);
	int32_t dt = 19000 + i % 400 - (i % 17 == 0 ? 25000 : 0);
	i32_(t, F_DT, 0, dt);
	ts_buf_addf(j, ",\"dt\":%d", dt);
	int32_t d1 = i % 19999 - 9999;
	i32_(t, F_D1, 0, d1);
	ts_buf_addstr(j, ",\"d1\":");
	jdec(j, d1, 2);
	int64_t d2 = (int64_t)(i % 1000) * 123456789012345LL * (i % 2 ? -1 : 1);
	ts_buf_addstr(j, ",\"d2\":");
	if (i % 6 == 1) {
		null_(t, F_D2, 0, 0);
		ts_buf_addstr(j, "null");
	} else {
		i64_(t, F_D2, 0, d2);
		jdec(j, d2, 4);
	}
	/* d3: FIXED of 16 bytes, two's complement big-endian */
	__int128 d3 = (__int128)((int64_t)i * 7919 - 20000) * 1000000000000000000LL + i;
	if (i % 10 == 7)
		d3 = -d3 * 1000000;
	unsigned char be[16];
	for (int k = 0; k < 16; k++)
		be[15 - k] = (unsigned char)((unsigned __int128)d3 >> (8 * k));
	bytes_(t, F_D3, 0, be, 16);
	ts_buf_addstr(j, ",\"d3\":");
	jdec(j, d3, 10);
	ts_buf_addstr(j, "}\n");
	end_(t);
}

/* Row i of the nested file. */
static void nested_row(struct tw *t, struct ts_buf *j, int i)
{
	char tmp[64];
	ts_buf_addstr(j, "{\"a\":");
	if (i % 5 == 0) {
		null_(t, N_A, 0, 0);
		ts_buf_addstr(j, "null");
	} else if (i % 5 == 1) {
		null_(t, N_A, 1, 0);
		ts_buf_addstr(j, "[]");
	} else {
		ts_buf_addch(j, '[');
		for (int k = 0; k < i % 4 + 1; k++) {
			int r = k ? 1 : 0;
			if (k)
				ts_buf_addch(j, ',');
			if (k == 1 && i % 3 == 0) {
				null_(t, N_A, 2, r);
				ts_buf_addstr(j, "null");
			} else {
				i64_(t, N_A, r, (int64_t)i * 10 + k);
				ts_buf_addf(j, "%lld", (long long)i * 10 + k);
			}
		}
		ts_buf_addch(j, ']');
	}

	ts_buf_addstr(j, ",\"as\":");
	if (i % 6 == 0) {
		null_(t, N_ASA, 0, 0);
		null_(t, N_ASB, 0, 0);
		ts_buf_addstr(j, "null");
	} else if (i % 6 == 1) {
		null_(t, N_ASA, 1, 0);
		null_(t, N_ASB, 1, 0);
		ts_buf_addstr(j, "[]");
	} else {
		ts_buf_addch(j, '[');
		for (int k = 0; k < i % 3 + 1; k++) {
			int r = k ? 1 : 0, ik = i + k;
			if (k)
				ts_buf_addch(j, ',');
			if (ik % 7 == 0) {
				null_(t, N_ASA, 2, r);
				null_(t, N_ASB, 2, r);
				ts_buf_addstr(j, "null");
				continue;
			}
			ts_buf_addstr(j, "{\"a\":");
			if (ik % 4 == 0) {
				null_(t, N_ASA, 3, r);
				ts_buf_addstr(j, "null");
			} else {
				snprintf(tmp, sizeof(tmp), "s%d-%d%s", i, k, ik % 4 == 1 ? " \xe2\x82\xac" : "");
				str_(t, N_ASA, r, tmp);
				jstr(j, tmp);
			}
			ts_buf_addstr(j, ",\"b\":");
			if (ik % 5 == 0) {
				null_(t, N_ASB, 3, r);
				ts_buf_addstr(j, "null");
			} else if (ik % 5 == 1) {
				null_(t, N_ASB, 4, r);
				ts_buf_addstr(j, "[]");
			} else {
				ts_buf_addch(j, '[');
				for (int q = 0; q < ik % 4 + 1; q++) {
					int rr = q ? 2 : r;
					if (q)
						ts_buf_addch(j, ',');
					if (q == 1 && k % 2) {
						null_(t, N_ASB, 5, rr);
						ts_buf_addstr(j, "null");
					} else {
						double v = ik * 0.5 + q;
						f64_(t, N_ASB, rr, v);
						ts_buf_addf(j, "%.17g", v);
					}
				}
				ts_buf_addch(j, ']');
			}
			ts_buf_addch(j, '}');
		}
		ts_buf_addch(j, ']');
	}

	ts_buf_addstr(j, ",\"m\":");
	if (i % 4 == 0) {
		null_(t, N_MK, 0, 0);
		null_(t, N_MV, 0, 0);
		ts_buf_addstr(j, "null");
	} else if (i % 4 == 1) {
		null_(t, N_MK, 1, 0);
		null_(t, N_MV, 1, 0);
		ts_buf_addstr(j, "[]");
	} else {
		ts_buf_addch(j, '[');
		for (int k = 0; k <= i % 3; k++) {
			int r = k ? 1 : 0;
			snprintf(tmp, sizeof(tmp), "k%d", k);
			str_(t, N_MK, r, tmp);
			ts_buf_addf(j, "%s{\"key\":\"%s\",\"value\":", k ? "," : "", tmp);
			if (k == 1) {
				null_(t, N_MV, 2, r);
				ts_buf_addstr(j, "null}");
			} else {
				i64_(t, N_MV, r, i + k);
				ts_buf_addf(j, "%d}", i + k);
			}
		}
		ts_buf_addch(j, ']');
	}

	ts_buf_addstr(j, ",\"st\":");
	switch (i % 5) {
	case 0:
		null_(t, N_STY, 0, 0);
		ts_buf_addstr(j, "null");
		break;
	case 1:
		null_(t, N_STY, 1, 0);
		ts_buf_addstr(j, "{\"x\":null}");
		break;
	case 2:
		null_(t, N_STY, 2, 0);
		ts_buf_addstr(j, "{\"x\":{\"y\":null}}");
		break;
	default:
		snprintf(tmp, sizeof(tmp), "y%d", i);
		str_(t, N_STY, 0, tmp);
		ts_buf_addf(j, "{\"x\":{\"y\":\"%s\"}}", tmp);
		break;
	}
	ts_buf_addstr(j, "}\n");
	end_(t);
}

static void keep_text(const char *name, const char *ext, const char *text)
{
	const char *keep = getenv("TS_PQ_KEEP");
	if (!keep || !*keep)
		return;
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s.%s", keep, name, ext);
	FILE *fp = fopen(path, "w");
	if (fp) {
		fputs(text, fp);
		fclose(fp);
	}
}

static const char *const FLAT_SQL =
	"SELECT s, u, b, i, sm, ti, d, f, bo, epoch_us(ts) AS ts, (dt - DATE '1970-01-01') AS dt, "
	"d1::VARCHAR AS d1, d2::VARCHAR AS d2, d3::VARCHAR AS d3 FROM 'FILE'";
static const char *const NESTED_SQL =
	"SELECT a, \"as\", map_entries(m) AS m, st FROM 'FILE'";

/* A file of n rows of a schema, written with opts, checked, and kept. */
static void file_test(const char *name, int nested, int n, const struct ts_pq_opts *o,
		      struct filecheck *fc)
{
	struct ts_pq_schema s;
	struct tw t;
	struct ts_buf j;
	if (nested)
		nested_schema(&s);
	else
		flat_schema(&s);
	tw_open(&t, &s, o);
	ts_buf_init(&j, 0);
	for (int i = 0; i < n; i++) {
		if (i % 97 == 50) {
			/* a row taken back half way leaves no trace */
			null_(&t, 0, 0, 0);
			null_(&t, 1, 0, 0);
			abort_(&t);
		}
		if (nested)
			nested_row(&t, &j, i);
		else
			flat_row(&t, &j, i);
	}
	CHECK(ts_pq_finish(t.w) == 0);
	CHECK(ts_pq_error(t.w) == NULL);
	CHECK(ts_pq_bytes_written(t.w) == t.file.len);
	verify(&t, name, o ? (int)o->codec : 0, fc);
	CHECK(fc->rows == n);
	keep_text(name, "expected.ndjson", j.data);
	keep_text(name, "sql", nested ? NESTED_SQL : FLAT_SQL);
	tw_close(&t);
	ts_buf_release(&j);
	ts_pq_schema_release(&s);
}

static const struct {
	const char *name;
	enum ts_pq_codec codec;
} codecs[] = {
	{ "none", TS_PQ_UNCOMPRESSED }, { "snappy", TS_PQ_SNAPPY },
	{ "gzip", TS_PQ_GZIP }, { "zstd", TS_PQ_ZSTD },
};

static void test_files(void)
{
	for (size_t c = 0; c < sizeof(codecs) / sizeof(codecs[0]); c++) {
		char name[64];
		struct filecheck fc;
		/* defaults: one row group, dictionary and PLAIN chunks */
		struct ts_pq_opts o = { .codec = codecs[c].codec, .created_by = "ts test" };
		snprintf(name, sizeof(name), "flat-%s", codecs[c].name);
		file_test(name, 0, 3000, &o, &fc);
		CHECK(fc.row_groups == 1);
		CHECK(fc.dict_chunks > 0 && fc.plain_chunks > 0);
		tv_free(&fc.meta);
		snprintf(name, sizeof(name), "nested-%s", codecs[c].name);
		file_test(name, 1, 3000, &o, &fc);
		CHECK(fc.row_groups == 1);
		tv_free(&fc.meta);
		/* small row groups and pages */
		o.row_group_bytes = 20000;
		o.page_bytes = 300;
		snprintf(name, sizeof(name), "flat-small-%s", codecs[c].name);
		file_test(name, 0, 3000, &o, &fc);
		CHECK(fc.row_groups > 5);
		CHECK(fc.pages > 10 * fc.row_groups);
		tv_free(&fc.meta);
		snprintf(name, sizeof(name), "nested-small-%s", codecs[c].name);
		file_test(name, 1, 3000, &o, &fc);
		CHECK(fc.row_groups > 5);
		CHECK(fc.pages > 10 * fc.row_groups);
		tv_free(&fc.meta);
	}
	/* a dictionary that grows too big falls back to PLAIN */
	struct ts_pq_opts o = { .codec = TS_PQ_SNAPPY, .dict_max = 16 };
	struct filecheck fc;
	file_test("flat-nodict", 0, 500, &o, &fc);
	CHECK(fc.dict_chunks == 0);
	tv_free(&fc.meta);
}

/* The statistics of column c in row group g. */
static const struct tv *stats(const struct filecheck *fc, size_t g, size_t c)
{
	const struct tv *rg = &fld(&fc->meta, 4)->k[g];
	return fld(fld(&fld(rg, 1)->k[c], 3), 12);
}

static void check_stat(const struct tv *st, int id, const void *want, size_t n)
{
	const struct tv *v = fld(st, id);
	CHECK(v->type == 8);
	CHECK_MEM(v->p, v->n, want, n);
}

/* Statistics in each type's sort order: strings unsigned bytewise, NaN
 * skipped, zero bounds signed so both zeros fall inside, decimals signed,
 * long strings truncated to bounds, nothing but a null count for a column
 * of nulls. */
static void test_stats(void)
{
	struct ts_pq_schema s;
	ts_pq_schema_init(&s);
	node(&s, "schema", TS_PQK_STRUCT, TS_PQ_REQUIRED, -1);
	node(&s, "s", TS_PQK_STRING, TS_PQ_OPTIONAL, 0);
	node(&s, "long", TS_PQK_STRING, TS_PQ_OPTIONAL, 0);
	node(&s, "d", TS_PQK_DOUBLE, TS_PQ_OPTIONAL, 0);
	node(&s, "f", TS_PQK_FLOAT, TS_PQ_OPTIONAL, 0);
	node(&s, "bo", TS_PQK_BOOLEAN, TS_PQ_OPTIONAL, 0);
	decimal(&s, "d3", 38, 10);
	node(&s, "nul", TS_PQK_BIGINT, TS_PQ_OPTIONAL, 0);
	node(&s, "i", TS_PQK_INT, TS_PQ_OPTIONAL, 0);
	node(&s, "nan", TS_PQK_DOUBLE, TS_PQ_OPTIONAL, 0);
	finish(&s);
	struct tw t;
	struct ts_pq_opts o = { .codec = TS_PQ_SNAPPY };
	tw_open(&t, &s, &o);
	static const char *const sv[] = { "zz", "\xc3\xa9", "b", "" };
	char a100[101], b72[73];
	/* UTF-8: a bound cut at 64 bytes must not split the 2-byte é at 63 */
	memset(a100, 'a', 100);
	memcpy(a100 + 63, "\xc3\xa9", 2);
	a100[100] = 0;
	memset(b72, 'b', 70);
	memcpy(b72 + 69, "\xe2\x82\xac", 3);
	b72[72] = 0;
	const double dv[] = { NAN, 2.5, -0.0, 1.0 };
	const float fv[] = { 0.0f, NAN, -3.5f, 0.0f };
	const int32_t iv[] = { -5, 7, 0, 3 };
	for (int r = 0; r < 4; r++) {
		str_(&t, 0, 0, sv[r]);
		if (r < 2)
			str_(&t, 1, 0, r ? b72 : a100);
		else
			null_(&t, 1, 0, 0);
		f64_(&t, 2, 0, dv[r]);
		f32_(&t, 3, 0, fv[r]);
		bool_(&t, 4, 0, 1);
		unsigned char be[16];
		memset(be, r == 1 ? 0xff : 0, 16);
		if (r != 1)
			be[15] = (unsigned char)(r * 2 + 1); /* 1, -1, 5, 7 */
		bytes_(&t, 5, 0, be, 16);
		null_(&t, 6, 0, 0);
		if (r == 2)
			null_(&t, 7, 0, 0);
		else
			i32_(&t, 7, 0, iv[r]);
		f64_(&t, 8, 0, NAN);
		end_(&t);
	}
	CHECK(ts_pq_finish(t.w) == 0);
	struct filecheck fc;
	verify(&t, "stats", TS_PQ_SNAPPY, &fc);
	const struct tv *st = stats(&fc, 0, 0);
	check_stat(st, 6, "", 0);
	check_stat(st, 5, "\xc3\xa9", 2);
	CHECK(!has(st, 7) && !has(st, 8));
	st = stats(&fc, 0, 1);
	check_stat(st, 6, a100, 63);
	CHECK(has(st, 8) && fld(st, 8)->i == 0);
	char bmax[64];
	memset(bmax, 'b', 63);
	bmax[63] = 'c';
	check_stat(st, 5, bmax, 64);
	CHECK(has(st, 7) && fld(st, 7)->i == 0);
	CHECK(fld(st, 3)->i == 2);
	st = stats(&fc, 0, 2);
	check_stat(st, 6, "\0\0\0\0\0\0\0\x80", 8); /* -0.0 */
	check_stat(st, 5, "\0\0\0\0\0\0\x04\x40", 8); /* 2.5 */
	st = stats(&fc, 0, 3);
	check_stat(st, 6, "\0\0\x60\xc0", 4); /* -3.5 */
	check_stat(st, 5, "\0\0\0\0", 4);     /* +0.0 */
	st = stats(&fc, 0, 4);
	check_stat(st, 6, "\x01", 1);
	check_stat(st, 5, "\x01", 1);
	st = stats(&fc, 0, 5);
	check_stat(st, 6, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 16);
	check_stat(st, 5, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x07", 16);
	st = stats(&fc, 0, 6);
	CHECK(fld(st, 3)->i == 4);
	CHECK(!has(st, 5) && !has(st, 6));
	st = stats(&fc, 0, 7);
	check_stat(st, 6, "\xfb\xff\xff\xff", 4);
	check_stat(st, 5, "\x07\0\0\0", 4);
	CHECK(fld(st, 3)->i == 1);
	st = stats(&fc, 0, 8);
	CHECK(fld(st, 3)->i == 0);
	CHECK(!has(st, 5) && !has(st, 6)); /* only NaN: no bounds */
	/* the schema's annotations */
	const struct tv *sch = fld(&fc.meta, 2);
	CHECK(fld(&sch->k[1], 6)->i == 0);               /* UTF8 */
	CHECK(has(fld(&sch->k[1], 10), 1));              /* STRING */
	CHECK(fld(&sch->k[6], 2)->i == 16);              /* type_length */
	CHECK(fld(&sch->k[6], 6)->i == 5);               /* DECIMAL */
	CHECK(fld(&sch->k[6], 7)->i == 10 && fld(&sch->k[6], 8)->i == 38);
	const struct tv *dl = fld(fld(&sch->k[6], 10), 5);
	CHECK(fld(dl, 1)->i == 10 && fld(dl, 2)->i == 38);
	tv_free(&fc.meta);
	tw_close(&t);
	ts_pq_schema_release(&s);
}

/* A file without rows: the schema, num_rows 0, no row groups. */
static void test_empty(void)
{
	struct ts_pq_schema s;
	struct tw t;
	struct filecheck fc;
	flat_schema(&s);
	tw_open(&t, &s, NULL);
	/* a row begun and never ended is not written */
	str_(&t, F_S, 0, "x");
	abort_(&t);
	CHECK(ts_pq_finish(t.w) == 0);
	verify(&t, "empty", 0, &fc);
	CHECK(fc.rows == 0 && fc.row_groups == 0);
	CHECK(fld(&fc.meta, 4)->type == 9);
	keep_text("empty", "expected.ndjson", "");
	keep_text("empty", "sql", FLAT_SQL);
	tv_free(&fc.meta);
	tw_close(&t);
	ts_pq_schema_release(&s);
}

/* The sink failing, and a caller's mistakes: the writer fails, says why,
 * and refuses what follows. */
static void test_errors(void)
{
	struct ts_pq_schema s;
	struct tw t;
	struct ts_buf j;
	ts_buf_init(&j, 0);
	flat_schema(&s);
	struct ts_pq_opts o = { .row_group_bytes = 1000 };
	tw_open(&t, &s, &o);
	t.sink_fail_at = 1;
	lenient = 1;
	int r = 0;
	for (int i = 0; i < 100 && r == 0; i++) {
		flat_row(&t, &j, i);
		r = ts_pq_error(t.w) != NULL;
	}
	lenient = 0;
	CHECK(r == 1);
	CHECK(ts_pq_error(t.w) && strstr(ts_pq_error(t.w), "write: ") != NULL);
	CHECK(ts_pq_add_i64(t.w, F_B, 0, 1) == -1);
	CHECK(ts_pq_row_end(t.w) == -1);
	CHECK(ts_pq_finish(t.w) == -1);
	tw_close(&t);

	/* a row without a value in some column */
	tw_open(&t, &s, NULL);
	CHECK(ts_pq_add_bytes(t.w, F_S, 0, "x", 1) == 0);
	CHECK(ts_pq_row_end(t.w) == -1);
	CHECK(ts_pq_error(t.w) && strstr(ts_pq_error(t.w), "column u") != NULL);
	tw_close(&t);
	/* a value of the wrong type, a fixed value of the wrong length */
	tw_open(&t, &s, NULL);
	CHECK(ts_pq_add_i32(t.w, F_B, 0, 1) == -1);
	CHECK(ts_pq_error(t.w) != NULL);
	tw_close(&t);
	tw_open(&t, &s, NULL);
	CHECK(ts_pq_add_bytes(t.w, F_D3, 0, "abc", 3) == -1);
	tw_close(&t);
	tw_open(&t, &s, NULL);
	CHECK(ts_pq_add_null(t.w, F_S, 1, 0) == -1); /* def 1 is a present value */
	tw_close(&t);
	ts_buf_release(&j);
	ts_pq_schema_release(&s);
}

/* ts_pq_flush() writes a row group early; the estimate of the size tracks
 * the file. */
static void test_flush_estimate(void)
{
	struct ts_pq_schema s;
	struct tw t;
	struct ts_buf j;
	struct filecheck fc;
	ts_buf_init(&j, 0);
	flat_schema(&s);
	struct ts_pq_opts o = { .codec = TS_PQ_SNAPPY };
	tw_open(&t, &s, &o);
	uint64_t est = 0;
	for (int i = 0; i < 1000; i++) {
		flat_row(&t, &j, i);
		if (i % 100 == 99 && i < 900)
			CHECK(ts_pq_flush(t.w) == 0);
		if (i == 999)
			est = ts_pq_bytes_estimate(t.w);
		CHECK(ts_pq_rows(t.w) == (uint64_t)i + 1);
	}
	CHECK(ts_pq_bytes_written(t.w) > 0);
	CHECK(ts_pq_buffered(t.w) > 0);
	CHECK(ts_pq_finish(t.w) == 0);
	CHECK(ts_pq_buffered(t.w) == 0);
	CHECK(est > t.file.len * 8 / 10 && est < t.file.len * 12 / 10);
	if (getenv("TS_PQ_VERBOSE"))
		fprintf(stderr, "estimate %llu, file %zu\n", (unsigned long long)est, t.file.len);
	verify(&t, "flushed", TS_PQ_SNAPPY, &fc);
	CHECK(fc.row_groups == 10);
	tv_free(&fc.meta);
	tw_close(&t);

	/* one row group, nothing learnt yet: within a factor of two */
	tw_open(&t, &s, &o);
	for (int i = 0; i < 5000; i++)
		flat_row(&t, &j, i);
	est = ts_pq_bytes_estimate(t.w);
	CHECK(ts_pq_finish(t.w) == 0);
	CHECK(est > t.file.len / 2 && est < t.file.len * 2);
	if (getenv("TS_PQ_VERBOSE"))
		fprintf(stderr, "estimate %llu, file %zu\n", (unsigned long long)est, t.file.len);
	tw_close(&t);
	ts_buf_release(&j);
	ts_pq_schema_release(&s);
}

int main(void)
{
	test_files();
	test_stats();
	test_empty();
	test_errors();
	test_flush_estimate();
	return check_done();
}
