/*
 * parquet.c — the Parquet file writer and the schema tree it writes.
 * See parquet.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parquet.h"

/* --- the schema tree -------------------------------------------------------- */

void ts_pq_schema_init(struct ts_pq_schema *s)
{
	memset(s, 0, sizeof(*s));
}

void ts_pq_schema_release(struct ts_pq_schema *s)
{
	for (size_t i = 0; i < s->nn; i++)
		free(s->n[i].name);
	free(s->n);
	free(s->leaf_node);
	memset(s, 0, sizeof(*s));
}

int ts_pq_schema_add(struct ts_pq_schema *s, const char *name, enum ts_pq_kind kind,
		     enum ts_pq_rep rep, int parent)
{
	if (s->nn == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct ts_pq_node *n = realloc(s->n, cap * sizeof(*n));
		if (!n)
			return -1;
		s->n = n;
		s->cap = cap;
	}
	struct ts_pq_node *n = &s->n[s->nn];
	memset(n, 0, sizeof(*n));
	if (!(n->name = strdup(name)))
		return -1;
	n->kind = kind;
	n->rep = rep;
	n->parent = parent;
	n->leaf = -1;
	if (parent >= 0)
		s->n[parent].nchildren++;
	s->nn++;
	return 0;
}

static int is_group(enum ts_pq_kind k)
{
	return k == TS_PQK_STRUCT || k == TS_PQK_ARRAY || k == TS_PQK_MAP ||
	       k == TS_PQK_LIST_REPEATED || k == TS_PQK_MAP_KEY_VALUE;
}

/* The fewest bytes that hold every unscaled value of `precision` digits. */
static int decimal_bytes(int precision)
{
	int b = 1;
	/* 10^p - 1 must fit in 8b - 1 bits: compare with 2^(8b-1) */
	for (; b < 32; b++) {
		long double lim = 1;
		for (int i = 0; i < 8 * b - 1; i++)
			lim *= 2;
		long double v = 1;
		for (int i = 0; i < precision; i++)
			v *= 10;
		if (v - 1 < lim)
			break;
	}
	return b;
}

int ts_pq_schema_finish(struct ts_pq_schema *s, char *err, size_t errlen)
{
	free(s->leaf_node);
	s->leaf_node = NULL;
	s->nleaves = 0;
	for (size_t i = 0; i < s->nn; i++) {
		struct ts_pq_node *n = &s->n[i];
		int def = 0, rep = 0;
		if (n->parent >= 0) {
			const struct ts_pq_node *p = &s->n[n->parent];
			def = p->max_def;
			rep = p->max_rep;
		}
		if (i > 0) {
			def += n->rep != TS_PQ_REQUIRED;
			rep += n->rep == TS_PQ_REPEATED;
		}
		n->max_def = def;
		n->max_rep = rep;
		if (i == 0 || is_group(n->kind)) {
			if (i > 0 && n->nchildren == 0) {
				snprintf(err, errlen, "%s: a group with no fields", n->name);
				return -1;
			}
			n->leaf = -1;
			continue;
		}
		switch (n->kind) {
		case TS_PQK_STRING: n->phys = TS_PQ_BYTE_ARRAY; break;
		case TS_PQK_BIGINT:
		case TS_PQK_TIMESTAMP: n->phys = TS_PQ_INT64; break;
		case TS_PQK_INT:
		case TS_PQK_SMALLINT:
		case TS_PQK_TINYINT:
		case TS_PQK_DATE: n->phys = TS_PQ_INT32; break;
		case TS_PQK_DOUBLE: n->phys = TS_PQ_DOUBLE; break;
		case TS_PQK_FLOAT: n->phys = TS_PQ_FLOAT; break;
		case TS_PQK_BOOLEAN: n->phys = TS_PQ_BOOLEAN; break;
		case TS_PQK_DECIMAL:
			if (n->precision < 1 || n->precision > 38 || n->scale < 0 ||
			    n->scale > n->precision) {
				snprintf(err, errlen, "%s: decimal(%d,%d): precision 1 to 38, scale "
					 "0 to precision", n->name, n->precision, n->scale);
				return -1;
			}
			if (n->precision <= 9) {
				n->phys = TS_PQ_INT32;
			} else if (n->precision <= 18) {
				n->phys = TS_PQ_INT64;
			} else {
				n->phys = TS_PQ_FIXED;
				n->type_length = decimal_bytes(n->precision);
			}
			break;
		default:
			snprintf(err, errlen, "%s: not a leaf type", n->name);
			return -1;
		}
		n->leaf = (int)s->nleaves++;
	}
	if (s->nleaves == 0) {
		snprintf(err, errlen, "no columns");
		return -1;
	}
	if (!(s->leaf_node = malloc(s->nleaves * sizeof(*s->leaf_node)))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < s->nn; i++)
		if (s->n[i].leaf >= 0)
			s->leaf_node[s->n[i].leaf] = (int)i;
	return 0;
}


/* --- the writer --------------------------------------------------------------
 *
 * Each leaf column buffers its open row group as definition levels and
 * repetition levels (a byte each, only when the column has them) and its
 * present values: fixed-width values little-endian back to back (booleans a
 * byte each), byte arrays already in PLAIN form (4-byte length, bytes).  A
 * row group is encoded when it is flushed: per column, a dictionary is tried
 * (an open-addressing table over the buffered values), then the chunk is cut
 * into data pages at record boundaries, each page's levels and values are
 * compressed together, and the column's metadata (offsets, sizes,
 * statistics) goes into the footer being built as Thrift compact bytes.
 */

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "hash.h"

#define PQ_DEF_ROW_GROUP ((size_t)64 << 20)
#define PQ_DEF_PAGE ((size_t)1 << 20)
#define PQ_DEF_DICT ((size_t)1 << 20)
#define PQ_DICT_ENTRIES 65536
#define PQ_OUT_FLUSH ((size_t)1 << 20)
#define PQ_STAT_MAX 64          /* byte-array statistics longer are truncated */

/* Encodings and page types, as numbered in parquet.thrift. */
enum { ENC_PLAIN = 0, ENC_RLE = 3, ENC_RLE_DICTIONARY = 8 };
enum { PAGE_DATA = 0, PAGE_DICTIONARY = 2 };

/* Thrift compact protocol type codes. */
enum {
	CT_TRUE = 1, CT_FALSE = 2, CT_BYTE = 3, CT_I16 = 4, CT_I32 = 5, CT_I64 = 6,
	CT_BINARY = 8, CT_LIST = 9, CT_STRUCT = 12,
};

struct pq_col {
	const struct ts_pq_node *node;
	int max_def, max_rep;
	enum ts_pq_phys phys;
	size_t width;           /* bytes per value; 0 for BYTE_ARRAY */
	struct ts_buf def, rep, val;
	size_t nlev, nval;      /* levels and present values buffered */
	/* as of the last ts_pq_row_end() */
	size_t mark_lev, mark_val, mark_bytes;
	int no_dict;            /* a dictionary overflowed: PLAIN for the file */
};

/* What a column chunk came to, for its ColumnMetaData. */
struct pq_chunk {
	int64_t start, data_off, dict_off; /* dict_off -1: none */
	int64_t usize, csize;
	int dict;
	int64_t nulls;
	int has_minmax, min_inexact, max_inexact;
	struct ts_buf min, max;
};

struct ts_pq_writer {
	const struct ts_pq_schema *s;
	struct ts_pq_opts o;
	ts_pq_sink sink;
	void *ctx;
	struct pq_col *c;
	struct pq_chunk *ch;
	size_t ncol;
	uint64_t rows, rg_rows;  /* all committed, in the open row group */
	uint64_t sunk;           /* bytes given to the sink */
	struct ts_buf out;       /* file bytes not yet given to the sink */
	struct ts_buf rgs;       /* the footer's RowGroup structs so far */
	size_t nrg;
	double ratio;            /* file bytes per buffered byte, as seen */
	char *err;
	int failed, finished;
	/* scratch, reused across columns and row groups */
	struct ts_buf page, cmp, hdr;
	uint32_t *idx;           /* dictionary index per value */
	size_t idxcap;
	uint32_t *tab;           /* hash slots: entry + 1, 0 empty */
	size_t tabcap;
	size_t *ent;             /* entry -> value index (fixed) or offset (bytes) */
	uint32_t *enth;
	size_t nent;
	uint64_t seed;
	z_stream z;
	int zinit;
	ZSTD_CCtx *zc;
};

static int fail(struct ts_pq_writer *w, const char *fmt, const char *arg)
{
	if (!w->failed) {
		char msg[512];
		snprintf(msg, sizeof(msg), fmt, arg);
		w->err = strdup(msg);
		w->failed = 1;
	}
	return -1;
}

static int oom(struct ts_pq_writer *w)
{
	return fail(w, "%s", "out of memory");
}

/* --- Thrift compact protocol ------------------------------------------------ */

struct tc {
	struct ts_buf *b;
	int16_t last[16];
	int depth;
	int err;
};

static void tc_raw(struct tc *t, const void *p, size_t n)
{
	if (ts_buf_add(t->b, p, n) < 0)
		t->err = 1;
}

static void tc_byte(struct tc *t, unsigned c)
{
	if (ts_buf_addch(t->b, (char)(unsigned char)c) < 0)
		t->err = 1;
}

static void tc_varint(struct tc *t, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;
	while (v >= 0x80) {
		tmp[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (unsigned char)v;
	tc_raw(t, tmp, n);
}

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static void tc_field(struct tc *t, int id, int type)
{
	int d = id - t->last[t->depth];
	if (d > 0 && d <= 15) {
		tc_byte(t, (unsigned)(d << 4 | type));
	} else {
		tc_byte(t, (unsigned)type);
		tc_varint(t, zigzag(id));
	}
	t->last[t->depth] = (int16_t)id;
}

static void tc_i32(struct tc *t, int id, int32_t v)
{
	tc_field(t, id, CT_I32);
	tc_varint(t, zigzag(v));
}

static void tc_i64(struct tc *t, int id, int64_t v)
{
	tc_field(t, id, CT_I64);
	tc_varint(t, zigzag(v));
}

static void tc_i8(struct tc *t, int id, int v)
{
	tc_field(t, id, CT_BYTE);
	tc_byte(t, (unsigned)v & 0xff);
}

static void tc_bool(struct tc *t, int id, int v)
{
	tc_field(t, id, v ? CT_TRUE : CT_FALSE);
}

static void tc_bin(struct tc *t, int id, const void *p, size_t n)
{
	tc_field(t, id, CT_BINARY);
	tc_varint(t, n);
	tc_raw(t, p, n);
}

static void tc_str(struct tc *t, int id, const char *s)
{
	tc_bin(t, id, s, strlen(s));
}

static void tc_push(struct tc *t)
{
	if (t->depth + 1 >= (int)(sizeof(t->last) / sizeof(t->last[0]))) {
		t->err = 1;
		return;
	}
	t->last[++t->depth] = 0;
}

/* A struct field: its fields follow, then tc_end(). */
static void tc_struct(struct tc *t, int id)
{
	tc_field(t, id, CT_STRUCT);
	tc_push(t);
}

static void tc_end(struct tc *t)
{
	tc_byte(t, 0);
	if (t->depth > 0)
		t->depth--;
}

static void tc_list_header(struct tc *t, int elem, size_t n)
{
	if (n < 15) {
		tc_byte(t, (unsigned)(n << 4 | (size_t)elem));
	} else {
		tc_byte(t, (unsigned)(0xf0 | elem));
		tc_varint(t, n);
	}
}

static void tc_list(struct tc *t, int id, int elem, size_t n)
{
	tc_field(t, id, CT_LIST);
	tc_list_header(t, elem, n);
}

/* --- the RLE / bit-packed hybrid -------------------------------------------- */

static int bit_width(uint64_t max)
{
	int b = 0;
	while (max) {
		b++;
		max >>= 1;
	}
	return b;
}

static unsigned char *put_varint(unsigned char *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	return p;
}

/*
 * Append the hybrid encoding of n values of bw bits (1..32).  Runs of 8 or
 * more equal values become RLE runs, the rest bit-packed groups of 8 (the
 * last group padded with zeros: the page header gives the count).
 */
#define DEFINE_HYBRID(NAME, T)                                                       \
	static int NAME(struct ts_buf *b, const T *v, size_t n, int bw)              \
	{                                                                            \
		size_t vbytes = ((size_t)bw + 7) / 8;                                \
		if (ts_buf_grow(b, (n / 8 + 2) * ((size_t)bw + 16)) < 0)             \
			return -1;                                                   \
		unsigned char *p = (unsigned char *)b->data + b->len;                \
		size_t i = 0;                                                        \
		while (i < n) {                                                      \
			T x = v[i];                                                  \
			size_t j = i + 1;                                            \
			while (j < n && v[j] == x)                                   \
				j++;                                                 \
			if (j - i >= 8) {                                            \
				p = put_varint(p, (uint64_t)(j - i) << 1);           \
				uint64_t xv = (uint64_t)x;                           \
				for (size_t k = 0; k < vbytes; k++)                  \
					*p++ = (unsigned char)(xv >> (8 * k));       \
				i = j;                                               \
				continue;                                            \
			}                                                            \
			size_t s = i;                                                \
			for (;;) {                                                   \
				i += 8;                                              \
				if (i >= n)                                          \
					break;                                       \
				size_t k = i + 1;                                    \
				while (k < n && k < i + 8 && v[k] == v[i])           \
					k++;                                         \
				if (k - i >= 8)                                      \
					break;                                       \
			}                                                            \
			size_t end = i < n ? i : n;                                  \
			p = put_varint(p, (uint64_t)((i - s) / 8) << 1 | 1);         \
			uint64_t acc = 0;                                            \
			int nb = 0;                                                  \
			for (size_t k = s; k < i; k++) {                             \
				uint64_t y = k < end ? (uint64_t)v[k] : 0;           \
				acc |= y << nb;                                      \
				nb += bw;                                            \
				while (nb >= 8) {                                    \
					*p++ = (unsigned char)acc;                   \
					acc >>= 8;                                   \
					nb -= 8;                                     \
				}                                                    \
			}                                                            \
			i = end;                                                     \
		}                                                                    \
		ts_buf_setlen(b, (size_t)(p - (unsigned char *)b->data));            \
		return 0;                                                            \
	}

DEFINE_HYBRID(hybrid8, uint8_t)
DEFINE_HYBRID(hybrid32, uint32_t)

/* Levels of a v1 data page: 4-byte little-endian length, then the hybrid. */
static int put_levels(struct ts_buf *b, const uint8_t *v, size_t n, int max)
{
	size_t at = b->len;
	if (ts_buf_add(b, "\0\0\0\0", 4) < 0 || hybrid8(b, v, n, bit_width((uint64_t)max)) < 0)
		return -1;
	uint32_t len = (uint32_t)(b->len - at - 4);
	unsigned char *p = (unsigned char *)b->data + at;
	p[0] = (unsigned char)len;
	p[1] = (unsigned char)(len >> 8);
	p[2] = (unsigned char)(len >> 16);
	p[3] = (unsigned char)(len >> 24);
	return 0;
}

/* --- the writer's life ------------------------------------------------------ */

struct ts_pq_writer *ts_pq_writer_new(const struct ts_pq_schema *s, const struct ts_pq_opts *o,
				      ts_pq_sink sink, void *ctx)
{
	struct ts_pq_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->s = s;
	if (o)
		w->o = *o;
	if (!w->o.row_group_bytes)
		w->o.row_group_bytes = PQ_DEF_ROW_GROUP;
	if (!w->o.page_bytes)
		w->o.page_bytes = PQ_DEF_PAGE;
	if (!w->o.dict_max)
		w->o.dict_max = PQ_DEF_DICT;
	w->sink = sink;
	w->ctx = ctx;
	w->ncol = s->nleaves;
	w->seed = ts_hkey_process()->k0 | 1;
	switch (w->o.codec) {
	case TS_PQ_UNCOMPRESSED: w->ratio = 0.7; break;
	case TS_PQ_SNAPPY: w->ratio = 0.35; break;
	default: w->ratio = 0.25; break;
	}
	ts_buf_init(&w->out, 0);
	ts_buf_init(&w->rgs, 0);
	ts_buf_init(&w->page, 0);
	ts_buf_init(&w->cmp, 0);
	ts_buf_init(&w->hdr, 0);
	w->c = calloc(w->ncol ? w->ncol : 1, sizeof(*w->c));
	w->ch = calloc(w->ncol ? w->ncol : 1, sizeof(*w->ch));
	if (!w->c || !w->ch)
		goto nomem;
	for (size_t i = 0; i < w->ncol; i++) {
		struct pq_col *c = &w->c[i];
		c->node = &s->n[s->leaf_node[i]];
		c->max_def = c->node->max_def;
		c->max_rep = c->node->max_rep;
		c->phys = c->node->phys;
		switch (c->phys) {
		case TS_PQ_BOOLEAN: c->width = 1; break;
		case TS_PQ_INT32:
		case TS_PQ_FLOAT: c->width = 4; break;
		case TS_PQ_INT64:
		case TS_PQ_DOUBLE: c->width = 8; break;
		case TS_PQ_FIXED: c->width = (size_t)c->node->type_length; break;
		default: c->width = 0; break;
		}
		ts_buf_init(&c->def, 0);
		ts_buf_init(&c->rep, 0);
		ts_buf_init(&c->val, 0);
		ts_buf_init(&w->ch[i].min, 0);
		ts_buf_init(&w->ch[i].max, 0);
	}
	if (ts_buf_add(&w->out, "PAR1", 4) < 0)
		goto nomem;
	return w;
nomem:
	ts_pq_writer_free(w);
	return NULL;
}

void ts_pq_writer_free(struct ts_pq_writer *w)
{
	if (!w)
		return;
	for (size_t i = 0; w->c && i < w->ncol; i++) {
		ts_buf_release(&w->c[i].def);
		ts_buf_release(&w->c[i].rep);
		ts_buf_release(&w->c[i].val);
	}
	for (size_t i = 0; w->ch && i < w->ncol; i++) {
		ts_buf_release(&w->ch[i].min);
		ts_buf_release(&w->ch[i].max);
	}
	free(w->c);
	free(w->ch);
	ts_buf_release(&w->out);
	ts_buf_release(&w->rgs);
	ts_buf_release(&w->page);
	ts_buf_release(&w->cmp);
	ts_buf_release(&w->hdr);
	free(w->idx);
	free(w->tab);
	free(w->ent);
	free(w->enth);
	if (w->zinit)
		deflateEnd(&w->z);
	ZSTD_freeCCtx(w->zc);
	free(w->err);
	free(w);
}

const char *ts_pq_error(const struct ts_pq_writer *w)
{
	return w->failed ? (w->err ? w->err : "out of memory") : NULL;
}

uint64_t ts_pq_rows(const struct ts_pq_writer *w)
{
	return w->rows;
}

uint64_t ts_pq_bytes_written(const struct ts_pq_writer *w)
{
	return w->sunk;
}

/* --- adding values ---------------------------------------------------------- */

/* The column for a value of type phys (or any type: phys < 0), after the
 * checks that catch a caller's mistake before it becomes a corrupt file. */
static struct pq_col *col_for(struct ts_pq_writer *w, int leaf, int rep, int phys)
{
	if (w->failed || w->finished)
		return NULL;
	if (leaf < 0 || (size_t)leaf >= w->ncol) {
		fail(w, "%s", "no such leaf column");
		return NULL;
	}
	struct pq_col *c = &w->c[leaf];
	if (rep < 0 || rep > c->max_rep) {
		fail(w, "column %s: repetition level out of range", c->node->name);
		return NULL;
	}
	if (phys >= 0 && (int)c->phys != phys) {
		fail(w, "column %s: value of the wrong physical type", c->node->name);
		return NULL;
	}
	return c;
}

static int add_levels(struct ts_pq_writer *w, struct pq_col *c, int def, int rep)
{
	if (c->max_def && ts_buf_addch(&c->def, (char)def) < 0)
		return oom(w);
	if (c->max_rep && ts_buf_addch(&c->rep, (char)rep) < 0)
		return oom(w);
	c->nlev++;
	return 0;
}

static int add_value(struct ts_pq_writer *w, struct pq_col *c, int rep, const void *p, size_t n)
{
	if (add_levels(w, c, c->max_def, rep) < 0)
		return -1;
	if (ts_buf_add(&c->val, p, n) < 0)
		return oom(w);
	c->nval++;
	return 0;
}

int ts_pq_add_null(struct ts_pq_writer *w, int leaf, int def, int rep)
{
	struct pq_col *c = col_for(w, leaf, rep, -1);
	if (!c)
		return -1;
	if (def < 0 || def >= c->max_def)
		return fail(w, "column %s: definition level of a null out of range", c->node->name);
	return add_levels(w, c, def, rep);
}

int ts_pq_add_bool(struct ts_pq_writer *w, int leaf, int rep, int v)
{
	struct pq_col *c = col_for(w, leaf, rep, TS_PQ_BOOLEAN);
	unsigned char b = v != 0;
	return c ? add_value(w, c, rep, &b, 1) : -1;
}

static inline void le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static inline void le64(unsigned char *p, uint64_t v)
{
	le32(p, (uint32_t)v);
	le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

int ts_pq_add_i32(struct ts_pq_writer *w, int leaf, int rep, int32_t v)
{
	struct pq_col *c = col_for(w, leaf, rep, TS_PQ_INT32);
	unsigned char b[4];
	le32(b, (uint32_t)v);
	return c ? add_value(w, c, rep, b, 4) : -1;
}

int ts_pq_add_i64(struct ts_pq_writer *w, int leaf, int rep, int64_t v)
{
	struct pq_col *c = col_for(w, leaf, rep, TS_PQ_INT64);
	unsigned char b[8];
	le64(b, (uint64_t)v);
	return c ? add_value(w, c, rep, b, 8) : -1;
}

int ts_pq_add_float(struct ts_pq_writer *w, int leaf, int rep, float v)
{
	struct pq_col *c = col_for(w, leaf, rep, TS_PQ_FLOAT);
	uint32_t u;
	unsigned char b[4];
	memcpy(&u, &v, 4);
	le32(b, u);
	return c ? add_value(w, c, rep, b, 4) : -1;
}

int ts_pq_add_double(struct ts_pq_writer *w, int leaf, int rep, double v)
{
	struct pq_col *c = col_for(w, leaf, rep, TS_PQ_DOUBLE);
	uint64_t u;
	unsigned char b[8];
	memcpy(&u, &v, 8);
	le64(b, u);
	return c ? add_value(w, c, rep, b, 8) : -1;
}

int ts_pq_add_bytes(struct ts_pq_writer *w, int leaf, int rep, const void *p, size_t n)
{
	struct pq_col *c = col_for(w, leaf, rep, -1);
	if (!c)
		return -1;
	if (c->phys == TS_PQ_FIXED) {
		if (n != c->width)
			return fail(w, "column %s: fixed-length value of the wrong length",
				    c->node->name);
		return add_value(w, c, rep, p, n);
	}
	if (c->phys != TS_PQ_BYTE_ARRAY)
		return fail(w, "column %s: value of the wrong physical type", c->node->name);
	if (n > UINT32_MAX - 4)
		return fail(w, "column %s: value too long", c->node->name);
	unsigned char len[4];
	le32(len, (uint32_t)n);
	if (add_levels(w, c, c->max_def, rep) < 0)
		return -1;
	if (ts_buf_grow(&c->val, n + 4) < 0)
		return oom(w);
	memcpy(c->val.data + c->val.len, len, 4);
	if (n)
		memcpy(c->val.data + c->val.len + 4, p, n);
	ts_buf_setlen(&c->val, c->val.len + 4 + n);
	c->nval++;
	return 0;
}

void ts_pq_row_abort(struct ts_pq_writer *w)
{
	for (size_t i = 0; i < w->ncol; i++) {
		struct pq_col *c = &w->c[i];
		c->nlev = c->mark_lev;
		c->nval = c->mark_val;
		if (c->max_def)
			ts_buf_setlen(&c->def, c->mark_lev);
		if (c->max_rep)
			ts_buf_setlen(&c->rep, c->mark_lev);
		ts_buf_setlen(&c->val, c->mark_bytes);
	}
}

size_t ts_pq_buffered(const struct ts_pq_writer *w)
{
	size_t n = 0;
	for (size_t i = 0; i < w->ncol; i++)
		n += w->c[i].def.len + w->c[i].rep.len + w->c[i].val.len;
	return n;
}

static int flush_row_group(struct ts_pq_writer *w);

int ts_pq_row_end(struct ts_pq_writer *w)
{
	if (w->failed || w->finished)
		return -1;
	size_t buffered = 0;
	for (size_t i = 0; i < w->ncol; i++) {
		struct pq_col *c = &w->c[i];
		if (c->nlev == c->mark_lev) {
			fail(w, "column %s: no value in the row", c->node->name);
			ts_pq_row_abort(w);
			return -1;
		}
		if (c->max_rep && c->rep.data[c->mark_lev] != 0) {
			fail(w, "column %s: a row must start at repetition level 0", c->node->name);
			ts_pq_row_abort(w);
			return -1;
		}
		c->mark_lev = c->nlev;
		c->mark_val = c->nval;
		c->mark_bytes = c->val.len;
		buffered += c->def.len + c->rep.len + c->val.len;
	}
	w->rows++;
	w->rg_rows++;
	if (buffered >= w->o.row_group_bytes)
		return flush_row_group(w);
	return 0;
}

/* --- output ----------------------------------------------------------------- */

static int64_t out_pos(const struct ts_pq_writer *w)
{
	return (int64_t)(w->sunk + w->out.len);
}

static int out_flush(struct ts_pq_writer *w)
{
	if (!w->out.len)
		return 0;
	if (w->sink(w->ctx, w->out.data, w->out.len) < 0) {
		int e = errno;
		return fail(w, "write: %s", strerror(e ? e : EIO));
	}
	w->sunk += w->out.len;
	ts_buf_reset(&w->out);
	return 0;
}

static int out_add(struct ts_pq_writer *w, const void *p, size_t n)
{
	if (ts_buf_add(&w->out, p, n) < 0)
		return oom(w);
	if (w->out.len >= PQ_OUT_FLUSH)
		return out_flush(w);
	return 0;
}

/* Compress w->page into w->cmp with the writer's codec; *body and *n say
 * which bytes to write. */
static int compress_page(struct ts_pq_writer *w, const char **body, size_t *n)
{
	const char *src = w->page.data;
	size_t len = w->page.len;
	switch (w->o.codec) {
	case TS_PQ_SNAPPY: {
		size_t cap = snappy_max_compressed_length(len);
		ts_buf_reset(&w->cmp);
		if (ts_buf_grow(&w->cmp, cap) < 0)
			return oom(w);
		if (snappy_compress(src, len, w->cmp.data, &cap) != SNAPPY_OK)
			return fail(w, "%s", "snappy: cannot compress");
		ts_buf_setlen(&w->cmp, cap);
		break;
	}
	case TS_PQ_GZIP: {
		if (!w->zinit) {
			memset(&w->z, 0, sizeof(w->z));
			if (deflateInit2(&w->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
					 Z_DEFAULT_STRATEGY) != Z_OK)
				return oom(w);
			w->zinit = 1;
		} else if (deflateReset(&w->z) != Z_OK) {
			return fail(w, "%s", "gzip: cannot compress");
		}
		size_t cap = deflateBound(&w->z, (uLong)len) + 32;
		ts_buf_reset(&w->cmp);
		if (ts_buf_grow(&w->cmp, cap) < 0)
			return oom(w);
		w->z.next_in = (Bytef *)(uintptr_t)src;
		w->z.avail_in = (uInt)len;
		w->z.next_out = (Bytef *)w->cmp.data;
		w->z.avail_out = (uInt)cap;
		if (deflate(&w->z, Z_FINISH) != Z_STREAM_END)
			return fail(w, "%s", "gzip: cannot compress");
		ts_buf_setlen(&w->cmp, cap - w->z.avail_out);
		break;
	}
	case TS_PQ_ZSTD: {
		if (!w->zc && !(w->zc = ZSTD_createCCtx()))
			return oom(w);
		size_t cap = ZSTD_compressBound(len);
		ts_buf_reset(&w->cmp);
		if (ts_buf_grow(&w->cmp, cap) < 0)
			return oom(w);
		size_t r = ZSTD_compressCCtx(w->zc, w->cmp.data, cap, src, len, ZSTD_CLEVEL_DEFAULT);
		if (ZSTD_isError(r))
			return fail(w, "zstd: %s", ZSTD_getErrorName(r));
		ts_buf_setlen(&w->cmp, r);
		break;
	}
	default:
		*body = src;
		*n = len;
		return 0;
	}
	*body = w->cmp.data;
	*n = w->cmp.len;
	return 0;
}

/* Write w->page as a page of chunk ch: its header, then its bytes. */
static int write_page(struct ts_pq_writer *w, struct pq_chunk *ch, int type, size_t nvalues,
		      int encoding)
{
	const char *body;
	size_t n;
	if (w->page.len > INT32_MAX)
		return fail(w, "%s", "a page over 2 GiB");
	if (compress_page(w, &body, &n) < 0)
		return -1;
	if (n > INT32_MAX)
		return fail(w, "%s", "a page over 2 GiB");
	struct tc t = { .b = &w->hdr };
	ts_buf_reset(&w->hdr);
	tc_i32(&t, 1, type);
	tc_i32(&t, 2, (int32_t)w->page.len);
	tc_i32(&t, 3, (int32_t)n);
	if (type == PAGE_DATA) {
		tc_struct(&t, 5);
		tc_i32(&t, 1, (int32_t)nvalues);
		tc_i32(&t, 2, encoding);
		tc_i32(&t, 3, ENC_RLE);
		tc_i32(&t, 4, ENC_RLE);
		tc_end(&t);
	} else {
		tc_struct(&t, 7);
		tc_i32(&t, 1, (int32_t)nvalues);
		tc_i32(&t, 2, encoding);
		tc_end(&t);
	}
	tc_end(&t);
	if (t.err)
		return oom(w);
	if (type == PAGE_DATA && ch->data_off < 0)
		ch->data_off = out_pos(w);
	if (type == PAGE_DICTIONARY)
		ch->dict_off = out_pos(w);
	ch->usize += (int64_t)(w->hdr.len + w->page.len);
	ch->csize += (int64_t)(w->hdr.len + n);
	if (out_add(w, w->hdr.data, w->hdr.len) < 0)
		return -1;
	if (n < PQ_OUT_FLUSH / 4)
		return out_add(w, body, n);
	/* a big page goes straight to the sink, not through w->out */
	if (out_flush(w) < 0)
		return -1;
	if (w->sink(w->ctx, body, n) < 0) {
		int e = errno;
		return fail(w, "write: %s", strerror(e ? e : EIO));
	}
	w->sunk += n;
	return 0;
}

/* --- dictionaries ----------------------------------------------------------- */

static inline uint64_t fmix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* A fast keyed hash for the dictionary table (the key is per process, so
 * records cannot aim collisions at it). */
static uint64_t hash_bytes(const unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t h = seed ^ ((uint64_t)n * 0x9e3779b97f4a7c15ULL);
	while (n >= 8) {
		uint64_t k;
		memcpy(&k, p, 8);
		k *= 0x87c37b91114253d5ULL;
		k = k << 31 | k >> 33;
		h ^= k * 0x4cf5ad432745937fULL;
		h = (h << 27 | h >> 37) * 5 + 0x52dce729;
		p += 8;
		n -= 8;
	}
	uint64_t k = 0;
	for (size_t i = 0; i < n; i++)
		k |= (uint64_t)p[i] << (8 * i);
	h ^= k * 0x87c37b91114253d5ULL;
	return fmix(h);
}

static int grow_scratch(struct ts_pq_writer *w, size_t nval, size_t slots)
{
	if (w->idxcap < nval) {
		uint32_t *p = realloc(w->idx, nval * sizeof(*p));
		if (!p)
			return -1;
		w->idx = p;
		w->idxcap = nval;
	}
	if (w->tabcap < slots) {
		uint32_t *t = realloc(w->tab, slots * sizeof(*t));
		size_t *e = realloc(w->ent, (slots / 2) * sizeof(*e));
		if (t)
			w->tab = t;
		if (e)
			w->ent = e;
		if (!t || !e)
			return -1;
		uint32_t *h = realloc(w->enth, (slots / 2) * sizeof(*h));
		if (!h)
			return -1;
		w->enth = h;
		w->tabcap = slots;
	}
	return 0;
}

/* A column whose dictionary overflowed once (unique ids, free text) is
 * not hashed again in later row groups. */
static int overflow(struct pq_col *c)
{
	c->no_dict = 1;
	return 0;
}

/*
 * Try a dictionary for column c: 1 (w->ent holds the entries, w->idx each
 * value's index), 0 (PLAIN is better, or the dictionary grew too big), -1
 * out of memory.  *dict_bytes is the dictionary page's size.
 */
static int build_dict(struct ts_pq_writer *w, struct pq_col *c, size_t *dict_bytes)
{
	size_t nv = c->nval;
	if (c->phys == TS_PQ_BOOLEAN || nv == 0 || c->no_dict)
		return 0;
	size_t maxent = nv < PQ_DICT_ENTRIES ? nv : PQ_DICT_ENTRIES;
	size_t slots = 16;
	while (slots < maxent * 2)
		slots *= 2;
	if (grow_scratch(w, nv, slots) < 0)
		return -1;
	memset(w->tab, 0, slots * sizeof(*w->tab));
	size_t mask = slots - 1, ne = 0, bytes = 0;
	const unsigned char *v = (const unsigned char *)c->val.data;
	uint64_t seed = w->seed;
	if (c->width == 4 || c->width == 8) {
		size_t wd = c->width;
		for (size_t i = 0; i < nv; i++) {
			uint64_t x = wd == 4 ? get32(v + 4 * i) : get64(v + 8 * i);
			size_t h = (size_t)fmix(x ^ seed);
			size_t sl = h & mask;
			uint32_t e;
			while ((e = w->tab[sl]) != 0) {
				uint64_t y = wd == 4 ? get32(v + 4 * w->ent[e - 1])
						     : get64(v + 8 * w->ent[e - 1]);
				if (y == x)
					break;
				sl = (sl + 1) & mask;
			}
			if (!e) {
				if (ne == maxent || (bytes += wd) > w->o.dict_max)
					return overflow(c);
				w->ent[ne] = i;
				w->tab[sl] = e = (uint32_t)++ne;
			}
			w->idx[i] = e - 1;
		}
	} else if (c->width) {
		size_t wd = c->width;
		for (size_t i = 0; i < nv; i++) {
			const unsigned char *x = v + wd * i;
			uint64_t hh = hash_bytes(x, wd, seed);
			size_t sl = (size_t)hh & mask;
			uint32_t e;
			while ((e = w->tab[sl]) != 0) {
				if (w->enth[e - 1] == (uint32_t)(hh >> 32) &&
				    memcmp(v + wd * w->ent[e - 1], x, wd) == 0)
					break;
				sl = (sl + 1) & mask;
			}
			if (!e) {
				if (ne == maxent || (bytes += wd) > w->o.dict_max)
					return overflow(c);
				w->ent[ne] = i;
				w->enth[ne] = (uint32_t)(hh >> 32);
				w->tab[sl] = e = (uint32_t)++ne;
			}
			w->idx[i] = e - 1;
		}
	} else {
		size_t off = 0;
		for (size_t i = 0; i < nv; i++) {
			size_t len = get32(v + off);
			const unsigned char *x = v + off + 4;
			uint64_t hh = hash_bytes(x, len, seed);
			size_t sl = (size_t)hh & mask;
			uint32_t e;
			while ((e = w->tab[sl]) != 0) {
				const unsigned char *y = v + w->ent[e - 1];
				if (w->enth[e - 1] == (uint32_t)(hh >> 32) && get32(y) == len &&
				    memcmp(y + 4, x, len) == 0)
					break;
				sl = (sl + 1) & mask;
			}
			if (!e) {
				if (ne == maxent || (bytes += 4 + len) > w->o.dict_max)
					return overflow(c);
				w->ent[ne] = off;
				w->enth[ne] = (uint32_t)(hh >> 32);
				w->tab[sl] = e = (uint32_t)++ne;
			}
			w->idx[i] = e - 1;
			off += 4 + len;
		}
	}
	w->nent = ne;
	*dict_bytes = bytes;
	/* worth it only when the dictionary and the indices beat PLAIN */
	int bw = bit_width(ne > 1 ? ne - 1 : 1);
	size_t est = bytes + (nv * (size_t)bw + 7) / 8;
	return est < c->val.len;
}

static int dict_page(struct ts_pq_writer *w, struct pq_col *c, struct pq_chunk *ch, size_t bytes)
{
	ts_buf_reset(&w->page);
	if (ts_buf_grow(&w->page, bytes) < 0)
		return oom(w);
	char *p = w->page.data;
	const char *v = c->val.data;
	for (size_t i = 0; i < w->nent; i++) {
		if (c->width) {
			memcpy(p, v + c->width * w->ent[i], c->width);
			p += c->width;
		} else {
			size_t n = 4 + get32((const unsigned char *)v + w->ent[i]);
			memcpy(p, v + w->ent[i], n);
			p += n;
		}
	}
	ts_buf_setlen(&w->page, (size_t)(p - w->page.data));
	return write_page(w, ch, PAGE_DICTIONARY, w->nent, ENC_PLAIN);
}

/* --- statistics --------------------------------------------------------------- */

/* Value k of the values statistics look at: the dictionary's entries, or
 * every value. */
static const unsigned char *stat_value(const struct ts_pq_writer *w, const struct pq_col *c,
				       int dict, size_t k, size_t *off, size_t *len)
{
	const unsigned char *v = (const unsigned char *)c->val.data;
	if (c->width) {
		*len = c->width;
		return v + c->width * (dict ? w->ent[k] : k);
	}
	size_t o = dict ? w->ent[k] : *off;
	*len = get32(v + o);
	*off = o + 4 + *len;
	return v + o + 4;
}

/* Sort order of the column's type: <0, 0, >0.  Strings unsigned bytewise,
 * fixed-length decimals signed big-endian, the rest signed numbers. */
static int stat_cmp(const struct pq_col *c, const unsigned char *a, size_t an,
		    const unsigned char *b, size_t bn)
{
	switch (c->phys) {
	case TS_PQ_BOOLEAN: return (int)a[0] - (int)b[0];
	case TS_PQ_INT32: {
		int32_t x = (int32_t)get32(a), y = (int32_t)get32(b);
		return (x > y) - (x < y);
	}
	case TS_PQ_INT64: {
		int64_t x = (int64_t)get64(a), y = (int64_t)get64(b);
		return (x > y) - (x < y);
	}
	case TS_PQ_FLOAT: {
		float x, y;
		uint32_t u = get32(a), v = get32(b);
		memcpy(&x, &u, 4);
		memcpy(&y, &v, 4);
		return (x > y) - (x < y);
	}
	case TS_PQ_DOUBLE: {
		double x, y;
		uint64_t u = get64(a), v = get64(b);
		memcpy(&x, &u, 8);
		memcpy(&y, &v, 8);
		return (x > y) - (x < y);
	}
	case TS_PQ_FIXED:
		if (an && (signed char)a[0] != (signed char)b[0])
			return (signed char)a[0] < (signed char)b[0] ? -1 : 1;
		return an > 1 ? memcmp(a + 1, b + 1, an - 1) : 0;
	default: {
		int r = memcmp(a, b, an < bn ? an : bn);
		return r ? r : (an > bn) - (an < bn);
	}
	}
}

static int is_nan(const struct pq_col *c, const unsigned char *p)
{
	if (c->phys == TS_PQ_FLOAT) {
		uint32_t u = get32(p);
		return (u & 0x7f800000u) == 0x7f800000u && (u & 0x7fffffu);
	}
	if (c->phys == TS_PQ_DOUBLE) {
		uint64_t u = get64(p);
		return (u & 0x7ff0000000000000ull) == 0x7ff0000000000000ull &&
		       (u & 0xfffffffffffffull);
	}
	return 0;
}

static int compute_stats(struct ts_pq_writer *w, struct pq_col *c, struct pq_chunk *ch, int dict)
{
	ch->nulls = (int64_t)(c->nlev - c->nval);
	ch->has_minmax = ch->min_inexact = ch->max_inexact = 0;
	ts_buf_reset(&ch->min);
	ts_buf_reset(&ch->max);
	size_t n = dict ? w->nent : c->nval, off = 0, minn = 0, maxn = 0;
	const unsigned char *mn = NULL, *mx = NULL;
	if (c->phys == TS_PQ_INT32 || c->phys == TS_PQ_INT64) {
		/* the common case, without the generic comparison */
		int64_t lo = INT64_MAX, hi = INT64_MIN;
		size_t ilo = 0, ihi = 0;
		for (size_t k = 0; k < n; k++) {
			size_t i = dict ? w->ent[k] : k;
			int64_t x = c->width == 4 ? (int64_t)(int32_t)get32((const unsigned char *)c->val.data + 4 * i)
						  : (int64_t)get64((const unsigned char *)c->val.data + 8 * i);
			if (x < lo) {
				lo = x;
				ilo = i;
			}
			if (x > hi) {
				hi = x;
				ihi = i;
			}
		}
		if (n) {
			mn = (const unsigned char *)c->val.data + c->width * ilo;
			mx = (const unsigned char *)c->val.data + c->width * ihi;
			minn = maxn = c->width;
		}
	} else {
		for (size_t k = 0; k < n; k++) {
			size_t len;
			const unsigned char *p = stat_value(w, c, dict, k, &off, &len);
			if (is_nan(c, p))
				continue;
			if (!mn || stat_cmp(c, p, len, mn, minn) < 0) {
				mn = p;
				minn = len;
			}
			if (!mx || stat_cmp(c, p, len, mx, maxn) > 0) {
				mx = p;
				maxn = len;
			}
		}
	}
	if (!mn)
		return 0;
	unsigned char zero[8];
	if (c->phys == TS_PQ_FLOAT || c->phys == TS_PQ_DOUBLE) {
		/* a zero bound is written as -0.0 (min) and +0.0 (max), so that
		 * either zero in the data falls inside */
		size_t wd = c->width;
		uint64_t sign = wd == 4 ? 0x80000000u : 0x8000000000000000ull;
		uint64_t a = wd == 4 ? get32(mn) : get64(mn);
		if ((a & ~sign) == 0) {
			memset(zero, 0, sizeof(zero));
			zero[wd - 1] = 0x80;
			mn = zero;
		}
		uint64_t b = wd == 4 ? get32(mx) : get64(mx);
		if ((b & ~sign) == 0) {
			static const unsigned char pz[8];
			mx = pz;
		}
	}
	if (c->phys == TS_PQ_BYTE_ARRAY && minn > PQ_STAT_MAX) {
		/* a prefix is still a lower bound; cut where a UTF-8 character
		 * starts, so the bound stays a valid string */
		minn = PQ_STAT_MAX;
		while (minn > 0 && (mn[minn] & 0xc0) == 0x80)
			minn--;
		ch->min_inexact = 1;
	}
	if (c->phys == TS_PQ_BYTE_ARRAY && maxn > PQ_STAT_MAX) {
		/* an upper bound: a prefix with its last ASCII byte raised by
		 * one, cut after it (still valid UTF-8) */
		size_t k = PQ_STAT_MAX;
		while (k > 0 && (mx[k - 1] >= 0x7f))
			k--;
		if (k == 0)
			return 0; /* no bounds rather than a wrong one */
		if (ts_buf_add(&ch->max, mx, k) < 0)
			return oom(w);
		ch->max.data[k - 1]++;
		ch->max_inexact = 1;
	} else if (ts_buf_add(&ch->max, mx, maxn) < 0) {
		return oom(w);
	}
	if (ts_buf_add(&ch->min, mn, minn) < 0)
		return oom(w);
	ch->has_minmax = 1;
	return 0;
}

/* --- row groups ----------------------------------------------------------------- */

static int data_pages(struct ts_pq_writer *w, struct pq_col *c, struct pq_chunk *ch, int dict)
{
	const uint8_t *def = (const uint8_t *)c->def.data, *rep = (const uint8_t *)c->rep.data;
	const unsigned char *v = (const unsigned char *)c->val.data;
	int bw = dict ? bit_width(w->nent > 1 ? w->nent - 1 : 1) : 0;
	uint64_t limit = (uint64_t)w->o.page_bytes * 8;
	uint64_t vbits = dict ? (uint64_t)bw : c->phys == TS_PQ_BOOLEAN ? 1 : (uint64_t)c->width * 8;
	size_t lv = 0, vi = 0, boff = 0;
	while (lv < c->nlev) {
		size_t ls = lv, vs = vi, bs = boff;
		uint64_t bits = 0;
		for (; lv < c->nlev; lv++) {
			if (bits >= limit && lv > ls && (!c->max_rep || rep[lv] == 0))
				break;
			if (c->max_def && def[lv] != c->max_def)
				continue;
			if (vbits) {
				bits += vbits;
			} else {
				size_t len = get32(v + boff);
				boff += 4 + len;
				bits += (uint64_t)(4 + len) * 8;
			}
			vi++;
		}
		ts_buf_reset(&w->page);
		if (c->max_rep && put_levels(&w->page, rep + ls, lv - ls, c->max_rep) < 0)
			return oom(w);
		if (c->max_def && put_levels(&w->page, def + ls, lv - ls, c->max_def) < 0)
			return oom(w);
		size_t nv = vi - vs;
		if (dict) {
			if (ts_buf_addch(&w->page, (char)bw) < 0 ||
			    hybrid32(&w->page, w->idx + vs, nv, bw) < 0)
				return oom(w);
		} else if (c->phys == TS_PQ_BOOLEAN) {
			if (ts_buf_grow(&w->page, nv / 8 + 1) < 0)
				return oom(w);
			unsigned char *p = (unsigned char *)w->page.data + w->page.len;
			memset(p, 0, (nv + 7) / 8);
			for (size_t k = 0; k < nv; k++)
				p[k >> 3] |= (unsigned char)(v[vs + k] << (k & 7));
			ts_buf_setlen(&w->page, w->page.len + (nv + 7) / 8);
		} else if (c->width) {
			if (ts_buf_add(&w->page, v + c->width * vs, c->width * nv) < 0)
				return oom(w);
		} else if (ts_buf_add(&w->page, v + bs, boff - bs) < 0) {
			return oom(w);
		}
		if (write_page(w, ch, PAGE_DATA, lv - ls, dict ? ENC_RLE_DICTIONARY : ENC_PLAIN) < 0)
			return -1;
	}
	return 0;
}

static void put_path(struct tc *t, const struct ts_pq_schema *s, int node)
{
	int depth = 0;
	for (int i = node; i > 0; i = s->n[i].parent)
		depth++;
	tc_list(t, 3, CT_BINARY, (size_t)depth);
	/* root-first: walk down by collecting the chain */
	int chain[64];
	int k = depth;
	for (int i = node; i > 0 && k > 0; i = s->n[i].parent)
		if (--k < 64)
			chain[k] = i;
	for (int j = 0; j < depth; j++) {
		const char *nm = j < 64 ? s->n[chain[j]].name : "";
		size_t len = strlen(nm);
		tc_varint(t, len);
		tc_raw(t, nm, len);
	}
}

static int flush_row_group(struct ts_pq_writer *w)
{
	if (w->failed)
		return -1;
	if (w->rg_rows == 0)
		return 0;
	size_t raw = ts_pq_buffered(w);
	int64_t usize = 0, csize = 0, first = out_pos(w);
	for (size_t i = 0; i < w->ncol; i++) {
		struct pq_col *c = &w->c[i];
		struct pq_chunk *ch = &w->ch[i];
		ch->start = out_pos(w);
		ch->data_off = ch->dict_off = -1;
		ch->usize = ch->csize = 0;
		size_t dbytes = 0;
		int dict = build_dict(w, c, &dbytes);
		if (dict < 0)
			return oom(w);
		ch->dict = dict;
		if (compute_stats(w, c, ch, dict) < 0)
			return -1;
		if (dict && dict_page(w, c, ch, dbytes) < 0)
			return -1;
		if (data_pages(w, c, ch, dict) < 0)
			return -1;
		usize += ch->usize;
		csize += ch->csize;
	}

	struct tc t = { .b = &w->rgs };
	tc_list(&t, 1, CT_STRUCT, w->ncol);
	for (size_t i = 0; i < w->ncol; i++) {
		struct pq_col *c = &w->c[i];
		struct pq_chunk *ch = &w->ch[i];
		tc_push(&t);
		tc_i64(&t, 2, ch->start);
		tc_struct(&t, 3);
		tc_i32(&t, 1, (int32_t)c->phys);
		int levels = c->max_def || c->max_rep;
		tc_list(&t, 2, CT_I32, 1 + (size_t)levels + (size_t)ch->dict);
		tc_varint(&t, zigzag(ENC_PLAIN));
		if (levels)
			tc_varint(&t, zigzag(ENC_RLE));
		if (ch->dict)
			tc_varint(&t, zigzag(ENC_RLE_DICTIONARY));
		put_path(&t, w->s, w->s->leaf_node[i]);
		tc_i32(&t, 4, (int32_t)w->o.codec);
		tc_i64(&t, 5, (int64_t)c->nlev);
		tc_i64(&t, 6, ch->usize);
		tc_i64(&t, 7, ch->csize);
		tc_i64(&t, 9, ch->data_off);
		if (ch->dict_off >= 0)
			tc_i64(&t, 11, ch->dict_off);
		tc_struct(&t, 12);
		tc_i64(&t, 3, ch->nulls);
		if (ch->has_minmax) {
			tc_bin(&t, 5, ch->max.data, ch->max.len);
			tc_bin(&t, 6, ch->min.data, ch->min.len);
			if (ch->max_inexact)
				tc_bool(&t, 7, 0);
			if (ch->min_inexact)
				tc_bool(&t, 8, 0);
		}
		tc_end(&t); /* Statistics */
		tc_end(&t); /* ColumnMetaData */
		tc_end(&t); /* ColumnChunk */
	}
	tc_i64(&t, 2, usize);
	tc_i64(&t, 3, (int64_t)w->rg_rows);
	tc_i64(&t, 5, first);
	tc_i64(&t, 6, csize);
	if (w->nrg < 32768) {
		tc_field(&t, 7, CT_I16);
		tc_varint(&t, zigzag((int64_t)w->nrg));
	}
	tc_end(&t);
	if (t.err)
		return oom(w);
	w->nrg++;

	/* what a buffered byte came to, for ts_pq_bytes_estimate() */
	if (raw)
		w->ratio = 0.5 * w->ratio + 0.5 * (double)csize / (double)raw;
	for (size_t i = 0; i < w->ncol; i++) {
		struct pq_col *c = &w->c[i];
		ts_buf_reset(&c->def);
		ts_buf_reset(&c->rep);
		ts_buf_reset(&c->val);
		c->nlev = c->nval = c->mark_lev = c->mark_val = c->mark_bytes = 0;
	}
	w->rg_rows = 0;
	return out_flush(w);
}

/* --- the footer --------------------------------------------------------------- */

static void put_schema(struct tc *t, const struct ts_pq_schema *s)
{
	tc_list(t, 2, CT_STRUCT, s->nn);
	for (size_t i = 0; i < s->nn; i++) {
		const struct ts_pq_node *n = &s->n[i];
		tc_push(t);
		if (i == 0) {
			tc_str(t, 4, n->name);
			tc_i32(t, 5, n->nchildren);
			tc_end(t);
			continue;
		}
		if (n->leaf < 0) {
			tc_i32(t, 3, (int32_t)n->rep);
			tc_str(t, 4, n->name);
			tc_i32(t, 5, n->nchildren);
			if (n->kind == TS_PQK_ARRAY || n->kind == TS_PQK_MAP) {
				int list = n->kind == TS_PQK_ARRAY;
				tc_i32(t, 6, list ? 3 : 1); /* ConvertedType LIST, MAP */
				tc_struct(t, 10);
				tc_struct(t, list ? 3 : 2);
				tc_end(t);
				tc_end(t);
			}
			tc_end(t);
			continue;
		}
		tc_i32(t, 1, (int32_t)n->phys);
		if (n->phys == TS_PQ_FIXED)
			tc_i32(t, 2, n->type_length);
		tc_i32(t, 3, (int32_t)n->rep);
		tc_str(t, 4, n->name);
		switch (n->kind) {
		case TS_PQK_STRING:
			tc_i32(t, 6, 0); /* UTF8 */
			tc_struct(t, 10);
			tc_struct(t, 1);
			tc_end(t);
			tc_end(t);
			break;
		case TS_PQK_TINYINT:
		case TS_PQK_SMALLINT: {
			int tiny = n->kind == TS_PQK_TINYINT;
			tc_i32(t, 6, tiny ? 15 : 16); /* INT_8, INT_16 */
			tc_struct(t, 10);
			tc_struct(t, 10);
			tc_i8(t, 1, tiny ? 8 : 16);
			tc_bool(t, 2, 1);
			tc_end(t);
			tc_end(t);
			break;
		}
		case TS_PQK_TIMESTAMP:
			tc_i32(t, 6, 10); /* TIMESTAMP_MICROS */
			tc_struct(t, 10);
			tc_struct(t, 8);
			tc_bool(t, 1, 1);
			tc_struct(t, 2);
			tc_struct(t, 2); /* MICROS */
			tc_end(t);
			tc_end(t);
			tc_end(t);
			tc_end(t);
			break;
		case TS_PQK_DATE:
			tc_i32(t, 6, 6); /* DATE */
			tc_struct(t, 10);
			tc_struct(t, 6);
			tc_end(t);
			tc_end(t);
			break;
		case TS_PQK_DECIMAL:
			tc_i32(t, 6, 5); /* DECIMAL */
			tc_i32(t, 7, n->scale);
			tc_i32(t, 8, n->precision);
			tc_struct(t, 10);
			tc_struct(t, 5);
			tc_i32(t, 1, n->scale);
			tc_i32(t, 2, n->precision);
			tc_end(t);
			tc_end(t);
			break;
		default:
			break;
		}
		tc_end(t);
	}
}

int ts_pq_finish(struct ts_pq_writer *w)
{
	if (w->failed)
		return -1;
	if (w->finished)
		return 0;
	ts_pq_row_abort(w);
	if (flush_row_group(w) < 0)
		return -1;
	struct ts_buf meta;
	ts_buf_init(&meta, 0);
	struct tc t = { .b = &meta };
	tc_i32(&t, 1, 2);
	put_schema(&t, w->s);
	tc_i64(&t, 3, (int64_t)w->rows);
	tc_list(&t, 4, CT_STRUCT, w->nrg);
	tc_raw(&t, w->rgs.data, w->rgs.len);
	tc_str(&t, 6, w->o.created_by ? w->o.created_by : "ts-toolkit");
	tc_list(&t, 7, CT_STRUCT, w->ncol);
	for (size_t i = 0; i < w->ncol; i++) {
		tc_push(&t);
		tc_struct(&t, 1); /* TYPE_ORDER */
		tc_end(&t);
		tc_end(&t);
	}
	tc_end(&t);
	unsigned char tail[8];
	le32(tail, (uint32_t)meta.len);
	memcpy(tail + 4, "PAR1", 4);
	if (t.err || meta.len > UINT32_MAX) {
		ts_buf_release(&meta);
		return oom(w);
	}
	int r = out_add(w, meta.data, meta.len);
	ts_buf_release(&meta);
	if (r < 0 || out_add(w, tail, 8) < 0 || out_flush(w) < 0)
		return -1;
	w->finished = 1;
	return 0;
}

uint64_t ts_pq_bytes_estimate(const struct ts_pq_writer *w)
{
	uint64_t est = w->sunk + w->out.len;
	size_t raw = ts_pq_buffered(w);
	est += (uint64_t)((double)raw * w->ratio);
	/* the footer: the row groups so far, the open one, the schema */
	uint64_t foot = w->rgs.len + 64;
	for (size_t i = 0; i < w->s->nn; i++)
		foot += strlen(w->s->n[i].name) + 16;
	if (w->rg_rows)
		foot += w->ncol * (uint64_t)(96 + 2 * PQ_STAT_MAX);
	return est + foot + 8;
}

int ts_pq_flush(struct ts_pq_writer *w)
{
	if (w->failed || w->finished)
		return -1;
	ts_pq_row_abort(w); /* values of a row not ended go nowhere */
	return flush_row_group(w);
}
