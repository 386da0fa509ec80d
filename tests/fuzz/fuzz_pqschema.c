/* fuzz_pqschema.c — the input as a Glue columns JSON: parsing never
 * crashes, and a schema printed back parses to the same schema.  When the
 * input is "schema\nrecord", the record is shredded and every leaf's
 * entries keep the Dremel invariants (at least one per record, the first
 * with rep 0 and only the first, def <= max_def, rep <= max_rep, a value
 * exactly when def == max_def); and the schema inferred from the record
 * prints back to itself and takes the record. */
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "json.h"
#include "parquet.h"

struct rec {
	const struct ts_pq_schema *s;
	size_t *count; /* entries of the open record, per leaf */
	int rows, aborts;
};

static void check_entry(struct rec *r, int leaf, int def, int rep, int value)
{
	FUZZ_CHECK(leaf >= 0 && (size_t)leaf < r->s->nleaves);
	const struct ts_pq_node *n = &r->s->n[r->s->leaf_node[leaf]];
	FUZZ_CHECK(def >= 0 && def <= n->max_def);
	FUZZ_CHECK(rep >= 0 && rep <= n->max_rep);
	FUZZ_CHECK(value == (def == n->max_def));
	FUZZ_CHECK((r->count[leaf] == 0) == (rep == 0));
	r->count[leaf]++;
}

static int max_def(struct rec *r, int leaf)
{
	FUZZ_CHECK(leaf >= 0 && (size_t)leaf < r->s->nleaves);
	return r->s->n[r->s->leaf_node[leaf]].max_def;
}

static int e_null(void *c, int leaf, int def, int rep)
{
	check_entry(c, leaf, def, rep, 0);
	return 0;
}
static int e_val(void *c, int leaf, int rep, enum ts_pq_phys phys)
{
	struct rec *r = c;
	check_entry(r, leaf, max_def(r, leaf), rep, 1);
	FUZZ_CHECK(r->s->n[r->s->leaf_node[leaf]].phys == phys);
	return 0;
}
static int e_bool(void *c, int leaf, int rep, int v)
{
	FUZZ_CHECK(v == 0 || v == 1);
	return e_val(c, leaf, rep, TS_PQ_BOOLEAN);
}
static int e_i32(void *c, int leaf, int rep, int32_t v)
{
	(void)v;
	return e_val(c, leaf, rep, TS_PQ_INT32);
}
static int e_i64(void *c, int leaf, int rep, int64_t v)
{
	(void)v;
	return e_val(c, leaf, rep, TS_PQ_INT64);
}
static int e_f32(void *c, int leaf, int rep, float v)
{
	(void)v;
	return e_val(c, leaf, rep, TS_PQ_FLOAT);
}
static int e_f64(void *c, int leaf, int rep, double v)
{
	(void)v;
	return e_val(c, leaf, rep, TS_PQ_DOUBLE);
}
static int e_bytes(void *c, int leaf, int rep, const void *p, size_t n)
{
	struct rec *r = c;
	FUZZ_CHECK(leaf >= 0 && (size_t)leaf < r->s->nleaves);
	const struct ts_pq_node *nd = &r->s->n[r->s->leaf_node[leaf]];
	FUZZ_CHECK(p != NULL || n == 0);
	if (nd->phys == TS_PQ_FIXED) {
		FUZZ_CHECK(n == (size_t)nd->type_length);
		return e_val(c, leaf, rep, TS_PQ_FIXED);
	}
	return e_val(c, leaf, rep, TS_PQ_BYTE_ARRAY);
}
static int e_end(void *c)
{
	struct rec *r = c;
	for (size_t i = 0; i < r->s->nleaves; i++) {
		FUZZ_CHECK(r->count[i] >= 1);
		r->count[i] = 0;
	}
	r->rows++;
	return 0;
}
static void e_abort(void *c)
{
	struct rec *r = c;
	memset(r->count, 0, r->s->nleaves * sizeof(*r->count));
	r->aborts++;
}

static const struct ts_pq_emit recorder = {
	.null = e_null, .boolean = e_bool, .i32 = e_i32, .i64 = e_i64, .f32 = e_f32,
	.f64 = e_f64, .bytes = e_bytes, .row_end = e_end, .row_abort = e_abort,
};

static void same_schema(const struct ts_pq_schema *a, const struct ts_pq_schema *b)
{
	FUZZ_CHECK(a->nn == b->nn && a->nleaves == b->nleaves);
	for (size_t i = 0; i < a->nn; i++) {
		const struct ts_pq_node *x = &a->n[i], *y = &b->n[i];
		FUZZ_CHECK(strcmp(x->name, y->name) == 0);
		FUZZ_CHECK(x->kind == y->kind && x->rep == y->rep && x->parent == y->parent);
		FUZZ_CHECK(x->nchildren == y->nchildren && x->phys == y->phys);
		FUZZ_CHECK(x->precision == y->precision && x->scale == y->scale);
		FUZZ_CHECK(x->type_length == y->type_length && x->leaf == y->leaf);
		FUZZ_CHECK(x->max_def == y->max_def && x->max_rep == y->max_rep);
	}
}

/* Printed back, the schema parses to itself and prints the same. */
static void round_trip(const struct ts_pq_schema *s)
{
	struct ts_buf a, b;
	struct ts_pq_schema s2;
	char err[512];

	ts_buf_init(&a, 0);
	ts_buf_init(&b, 0);
	FUZZ_CHECK(ts_pq_schema_to_glue(s, &a) == 0);
	if (ts_pq_schema_from_glue(&s2, a.data, a.len, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n%s\n", a.data, err);
		FUZZ_CHECK(!"the printed schema parses");
	}
	same_schema(s, &s2);
	FUZZ_CHECK(ts_pq_schema_to_glue(&s2, &b) == 0);
	FUZZ_CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	ts_pq_schema_release(&s2);
	ts_buf_release(&a);
	ts_buf_release(&b);
}

/* Shred rec: the invariants hold; the result. */
static int shred(const struct ts_pq_schema *s, struct ts_span rec, int cs)
{
	struct rec r = {.s = s};
	char why[256] = "";
	uint64_t dropped = 0;

	r.count = calloc(s->nleaves, sizeof(*r.count));
	FUZZ_CHECK(r.count != NULL);
	int ret = ts_pq_shred_to(s, &recorder, &r, rec, cs, &dropped, why, sizeof(why));
	FUZZ_CHECK(ret == 0 || ret == -1);
	if (ret == 0) {
		FUZZ_CHECK(r.rows == 1 && r.aborts == 0);
	} else {
		FUZZ_CHECK(r.rows == 0 && r.aborts == 1 && dropped == 0);
		FUZZ_CHECK(strncmp(why, "column ", 7) == 0 ||
			   strcmp(why, "the record is not an object") == 0);
		FUZZ_CHECK(ts_utf8_valid_prefix(why, strlen(why)) == strlen(why) ||
			   strlen(why) == sizeof(why) - 1);
	}
	free(r.count);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	const char *nl = memchr(p, '\n', size);
	struct ts_pq_schema s;
	char err[512];

	if (ts_pq_schema_from_glue(&s, p, size, err, sizeof(err)) == 0) {
		round_trip(&s);
		ts_pq_schema_release(&s);
	} else {
		FUZZ_CHECK(s.nn == 0 && s.n == NULL);
	}
	if (!nl)
		return 0;

	const char *rp = nl + 1, *end = p + size;
	struct ts_json_scan sc;
	while (rp < end && ts_json_is_ws(*rp))
		rp++;
	if (rp >= end || ts_json_scan(rp, end, 1, 0, &sc) != TS_JSON_OK)
		return 0;
	struct ts_span rec = {rp, (size_t)(sc.end - rp)};

	if (ts_pq_schema_from_glue(&s, p, (size_t)(nl - p), err, sizeof(err)) == 0) {
		shred(&s, rec, 0);
		shred(&s, rec, 1);
		ts_pq_schema_release(&s);
	}

	/* what is inferred from a record takes it */
	struct ts_pq_infer *inf = ts_pq_infer_new();
	FUZZ_CHECK(inf != NULL);
	if (ts_pq_infer_add(inf, rec) == 0 &&
	    ts_pq_infer_schema(inf, &s, err, sizeof(err)) == 0) {
		round_trip(&s);
		FUZZ_CHECK(shred(&s, rec, 0) == 0);
		ts_pq_schema_release(&s);
	}
	ts_pq_infer_free(inf);
	return 0;
}
