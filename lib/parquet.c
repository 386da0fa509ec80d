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

/* --- the writer (stubs: being written) ------------------------------------- */

struct ts_pq_writer {
	int dummy;
};

struct ts_pq_writer *ts_pq_writer_new(const struct ts_pq_schema *s, const struct ts_pq_opts *o,
				      ts_pq_sink sink, void *ctx)
{
	(void)s; (void)o; (void)sink; (void)ctx;
	return NULL;
}

void ts_pq_writer_free(struct ts_pq_writer *w) { free(w); }
int ts_pq_add_null(struct ts_pq_writer *w, int leaf, int def, int rep)
{ (void)w; (void)leaf; (void)def; (void)rep; return -1; }
int ts_pq_add_bool(struct ts_pq_writer *w, int leaf, int rep, int v)
{ (void)w; (void)leaf; (void)rep; (void)v; return -1; }
int ts_pq_add_i32(struct ts_pq_writer *w, int leaf, int rep, int32_t v)
{ (void)w; (void)leaf; (void)rep; (void)v; return -1; }
int ts_pq_add_i64(struct ts_pq_writer *w, int leaf, int rep, int64_t v)
{ (void)w; (void)leaf; (void)rep; (void)v; return -1; }
int ts_pq_add_float(struct ts_pq_writer *w, int leaf, int rep, float v)
{ (void)w; (void)leaf; (void)rep; (void)v; return -1; }
int ts_pq_add_double(struct ts_pq_writer *w, int leaf, int rep, double v)
{ (void)w; (void)leaf; (void)rep; (void)v; return -1; }
int ts_pq_add_bytes(struct ts_pq_writer *w, int leaf, int rep, const void *p, size_t n)
{ (void)w; (void)leaf; (void)rep; (void)p; (void)n; return -1; }
int ts_pq_row_end(struct ts_pq_writer *w) { (void)w; return -1; }
void ts_pq_row_abort(struct ts_pq_writer *w) { (void)w; }
uint64_t ts_pq_rows(const struct ts_pq_writer *w) { (void)w; return 0; }
uint64_t ts_pq_bytes_written(const struct ts_pq_writer *w) { (void)w; return 0; }
uint64_t ts_pq_bytes_estimate(const struct ts_pq_writer *w) { (void)w; return 0; }
size_t ts_pq_buffered(const struct ts_pq_writer *w) { (void)w; return 0; }
int ts_pq_finish(struct ts_pq_writer *w) { (void)w; return -1; }
const char *ts_pq_error(const struct ts_pq_writer *w) { (void)w; return "not implemented"; }
