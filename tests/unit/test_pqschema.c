/* test_pqschema.c — lib/parquet.h, schemas and records: Glue columns with
 * Hive type strings (layouts, levels, errors at their position, printed
 * back), schemas inferred from records, and records shredded into
 * (value, repetition, definition) per leaf column, checked against the
 * Dremel paper's Document example and the conversions the header lists. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "parquet.h"

/* --- a recording emitter: each leaf's entries as "value rR dD" --------------- */

#define MAXLEAF 320

struct rec {
	const struct ts_pq_schema *s;
	struct ts_buf col[MAXLEAF];
	size_t mark[MAXLEAF];
	int rows, aborts, fail_after; /* fail_after: make the n-th call fail */
};

static int entry(struct rec *r, int leaf, int def, int rep, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int entry(struct rec *r, int leaf, int def, int rep, const char *fmt, ...)
{
	char v[256];
	va_list ap;

	if (r->fail_after && --r->fail_after == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	if (leaf < 0 || leaf >= MAXLEAF || (size_t)leaf >= r->s->nleaves)
		return -1;
	ts_buf_addf(&r->col[leaf], "%s%s r%d d%d", r->col[leaf].len ? ", " : "", v, rep, def);
	return 0;
}

static int max_def(struct rec *r, int leaf)
{
	return r->s->n[r->s->leaf_node[leaf]].max_def;
}

static int e_null(void *c, int leaf, int def, int rep)
{
	return entry(c, leaf, def, rep, "NULL");
}
static int e_bool(void *c, int leaf, int rep, int v)
{
	return entry(c, leaf, max_def(c, leaf), rep, "%s", v ? "true" : "false");
}
static int e_i32(void *c, int leaf, int rep, int32_t v)
{
	return entry(c, leaf, max_def(c, leaf), rep, "%" PRId32, v);
}
static int e_i64(void *c, int leaf, int rep, int64_t v)
{
	return entry(c, leaf, max_def(c, leaf), rep, "%" PRId64, v);
}
static int e_f32(void *c, int leaf, int rep, float v)
{
	return entry(c, leaf, max_def(c, leaf), rep, "%.9gf", (double)v);
}
static int e_f64(void *c, int leaf, int rep, double v)
{
	return entry(c, leaf, max_def(c, leaf), rep, "%.17g", v);
}
static int e_bytes(void *c, int leaf, int rep, const void *p, size_t n)
{
	struct rec *r = c;
	char v[200];
	size_t k = 0;
	const unsigned char *b = p;

	if (r->s->n[r->s->leaf_node[leaf]].phys == TS_PQ_FIXED) {
		k += (size_t)snprintf(v, sizeof(v), "0x");
		for (size_t i = 0; i < n && k + 3 < sizeof(v); i++)
			k += (size_t)snprintf(v + k, sizeof(v) - k, "%02x", b[i]);
	} else {
		k = (size_t)snprintf(v, sizeof(v), "'%.*s'", (int)n, (const char *)p);
	}
	return entry(c, leaf, max_def(c, leaf), rep, "%s", v);
}
static int e_end(void *c)
{
	struct rec *r = c;
	for (int i = 0; i < MAXLEAF; i++)
		r->mark[i] = r->col[i].len;
	r->rows++;
	return 0;
}
static void e_abort(void *c)
{
	struct rec *r = c;
	for (int i = 0; i < MAXLEAF; i++)
		ts_buf_setlen(&r->col[i], r->mark[i]);
	r->aborts++;
}

static const struct ts_pq_emit recorder = {
	.null = e_null, .boolean = e_bool, .i32 = e_i32, .i64 = e_i64, .f32 = e_f32,
	.f64 = e_f64, .bytes = e_bytes, .row_end = e_end, .row_abort = e_abort,
};

static void rec_init(struct rec *r, const struct ts_pq_schema *s)
{
	memset(r, 0, sizeof(*r));
	r->s = s;
	for (int i = 0; i < MAXLEAF; i++)
		ts_buf_init(&r->col[i], 0);
}

static void rec_release(struct rec *r)
{
	for (int i = 0; i < MAXLEAF; i++)
		ts_buf_release(&r->col[i]);
}

/* The leaf's dotted path (list and key_value levels left out). */
static void leaf_path(const struct ts_pq_schema *s, int i, struct ts_buf *b)
{
	const struct ts_pq_node *n = &s->n[i];
	if (n->parent > 0)
		leaf_path(s, n->parent, b);
	if (n->kind == TS_PQK_LIST_REPEATED || n->kind == TS_PQK_MAP_KEY_VALUE ||
	    !strcmp(n->name, "element"))
		return;
	if (n->parent > 0 && b->len)
		ts_buf_addch(b, '.');
	ts_buf_addstr(b, n->name);
}

/* Every leaf as "path: entries\n". */
static char *columns(struct rec *r)
{
	struct ts_buf b;
	ts_buf_init(&b, 0);
	for (size_t l = 0; l < r->s->nleaves; l++) {
		leaf_path(r->s, r->s->leaf_node[l], &b);
		ts_buf_addf(&b, ": %s\n", r->col[l].data);
	}
	return ts_buf_detach(&b, NULL);
}

static int glue(struct ts_pq_schema *s, const char *json)
{
	char err[256];
	int r = ts_pq_schema_from_glue(s, json, strlen(json), err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "    from_glue: %s\n", err);
	return r;
}

/* The schema printed back. */
static char *to_glue(const struct ts_pq_schema *s)
{
	struct ts_buf b;
	ts_buf_init(&b, 0);
	if (ts_pq_schema_to_glue(s, &b) < 0)
		ts_buf_addstr(&b, "(to_glue failed)");
	return ts_buf_detach(&b, NULL);
}

static void glue_prints(const char *json, const char *want)
{
	struct ts_pq_schema s;
	if (!CHECK(glue(&s, json) == 0))
		return;
	char *got = to_glue(&s);
	CHECK_STR(got, want);
	/* and that parses to the same */
	struct ts_pq_schema s2;
	if (CHECK(glue(&s2, got) == 0)) {
		char *again = to_glue(&s2);
		CHECK_STR(again, want);
		free(again);
		ts_pq_schema_release(&s2);
	}
	free(got);
	ts_pq_schema_release(&s);
}

static void glue_fails(const char *json, const char *want)
{
	struct ts_pq_schema s;
	char err[256] = "";
	int r = ts_pq_schema_from_glue(&s, json, strlen(json), err, sizeof(err));
	CHECK(r == -1);
	if (!CHECK_STR(err, want))
		fprintf(stderr, "    schema %s\n", json);
	CHECK(s.nn == 0 && s.n == NULL);
}

/* Every node: name kind rep def/rep leaf, one a line. */
static char *dump(const struct ts_pq_schema *s)
{
	static const char *const rep[] = {"required", "optional", "repeated"};
	struct ts_buf b;
	ts_buf_init(&b, 0);
	for (size_t i = 0; i < s->nn; i++) {
		const struct ts_pq_node *n = &s->n[i];
		ts_buf_addf(&b, "%d %s %s k%d d%d r%d", n->parent, n->name, rep[n->rep], n->kind,
			    n->max_def, n->max_rep);
		if (n->leaf >= 0)
			ts_buf_addf(&b, " leaf%d phys%d", n->leaf, n->phys);
		if (n->kind == TS_PQK_DECIMAL)
			ts_buf_addf(&b, " (%d,%d) len%d", n->precision, n->scale, n->type_length);
		ts_buf_addch(&b, '\n');
	}
	return ts_buf_detach(&b, NULL);
}

static void test_glue(void)
{
	struct ts_pq_schema s;

	glue_prints("[{\"Name\":\"a\",\"Type\":\"BIGINT\",\"Comment\":\"x\"},"
		    "{\"Name\":\"B\",\"Type\":\" array < struct< x : Int , `y z`:map<string,"
		    "decimal(20, 2)> > > \"}]",
		    "[{\"Name\":\"a\",\"Type\":\"bigint\"},{\"Name\":\"B\",\"Type\":"
		    "\"array<struct<x:int,`y z`:map<string,decimal(20,2)>>>\"}]");
	glue_prints("[{\"Name\":\"a\",\"Type\":\"decimal\"},{\"Name\":\"b\",\"Type\":\"varchar(10)\"},"
		    "{\"Name\":\"c\",\"Type\":\"char(3)\"},{\"Name\":\"d\",\"Type\":\"integer\"},"
		    "{\"Name\":\"e\",\"Type\":\"real\"},{\"Name\":\"f\",\"Type\":\"numeric(7)\"},"
		    "{\"Name\":\"g\",\"Type\":\"smallint\"},{\"Name\":\"h\",\"Type\":\"tinyint\"},"
		    "{\"Name\":\"i\",\"Type\":\"double\"},{\"Name\":\"j\",\"Type\":\"boolean\"},"
		    "{\"Name\":\"k\",\"Type\":\"timestamp\"},{\"Name\":\"l\",\"Type\":\"date\"},"
		    "{\"Name\":\"m\",\"Type\":\"string\"}]",
		    "[{\"Name\":\"a\",\"Type\":\"decimal(10,0)\"},{\"Name\":\"b\",\"Type\":\"string\"},"
		    "{\"Name\":\"c\",\"Type\":\"string\"},{\"Name\":\"d\",\"Type\":\"int\"},"
		    "{\"Name\":\"e\",\"Type\":\"float\"},{\"Name\":\"f\",\"Type\":\"decimal(7,0)\"},"
		    "{\"Name\":\"g\",\"Type\":\"smallint\"},{\"Name\":\"h\",\"Type\":\"tinyint\"},"
		    "{\"Name\":\"i\",\"Type\":\"double\"},{\"Name\":\"j\",\"Type\":\"boolean\"},"
		    "{\"Name\":\"k\",\"Type\":\"timestamp\"},{\"Name\":\"l\",\"Type\":\"date\"},"
		    "{\"Name\":\"m\",\"Type\":\"string\"}]");
	/* the ways a table definition holds its columns */
	const char *want = "[{\"Name\":\"x\",\"Type\":\"int\"}]";
	glue_prints("{\"Columns\":[{\"Name\":\"x\",\"Type\":\"int\"}]}", want);
	glue_prints("{\"Name\":\"t\",\"StorageDescriptor\":{\"Columns\":[{\"Name\":\"x\","
		    "\"Type\":\"int\"}]}}", want);
	glue_prints("{\"Table\":{\"StorageDescriptor\":{\"Columns\":[{\"name\":\"x\","
		    "\"type\":\"int\"}]},\"PartitionKeys\":[{\"Name\":\"dt\",\"Type\":\"string\"}]}}",
		    want);
	/* struct field names: as written, backquoted when they need it */
	glue_prints("[{\"Name\":\"s\",\"Type\":\"struct<`a:b`:int,`x``y`:string,eventName:string,"
		    "a-b:int>\"}]",
		    "[{\"Name\":\"s\",\"Type\":\"struct<`a:b`:int,`x``y`:string,eventName:string,"
		    "`a-b`:int>\"}]");
	/* unicode names and top-level names needing no quoting */
	glue_prints("[{\"Name\":\"h\\u00e9 \\\"q\\\"\",\"Type\":\"struct<`\\u00e9`:int>\"}]",
		    "[{\"Name\":\"h\xc3\xa9 \\\"q\\\"\",\"Type\":\"struct<`\xc3\xa9`:int>\"}]");

	/* the layouts of parquet.h and their levels */
	if (CHECK(glue(&s, "[{\"Name\":\"id\",\"Type\":\"bigint\"},"
		       "{\"Name\":\"tags\",\"Type\":\"array<string>\"},"
		       "{\"Name\":\"m\",\"Type\":\"map<string,array<int>>\"},"
		       "{\"Name\":\"s\",\"Type\":\"struct<a:decimal(9,2),b:decimal(18,0),"
		       "c:decimal(19,0),d:decimal(38,10)>\"}]") == 0)) {
		char *d = dump(&s);
		CHECK_STR(d, "-1 schema required k11 d0 r0\n"
			     "0 id optional k1 d1 r0 leaf0 phys2\n"
			     "0 tags optional k12 d1 r0\n"
			     "2 list repeated k14 d2 r1\n"
			     "3 element optional k0 d3 r1 leaf1 phys6\n"
			     "0 m optional k13 d1 r0\n"
			     "5 key_value repeated k15 d2 r1\n"
			     "6 key required k0 d2 r1 leaf2 phys6\n"
			     "6 value optional k12 d3 r1\n"
			     "8 list repeated k14 d4 r2\n"
			     "9 element optional k2 d5 r2 leaf3 phys1\n"
			     "0 s optional k11 d1 r0\n"
			     "11 a optional k10 d2 r0 leaf4 phys1 (9,2) len0\n"
			     "11 b optional k10 d2 r0 leaf5 phys2 (18,0) len0\n"
			     "11 c optional k10 d2 r0 leaf6 phys7 (19,0) len9\n"
			     "11 d optional k10 d2 r0 leaf7 phys7 (38,10) len16\n");
		free(d);
		ts_pq_schema_release(&s);
	}

	/* errors: the column, the type, what is wrong and where (1-based) */
	glue_fails("[{\"Name\":\"x\",\"Type\":\"array<bigint\"}]",
		   "column x: array<bigint: expected '>' at 13");
	glue_fails("[{\"Name\":\"x\",\"Type\":\"array<bigint,\"}]",
		   "column x: array<bigint,: expected '>', not ',' at 13");
	glue_fails("[{\"Name\":\"m\",\"Type\":\"map<int,string>\"}]",
		   "column m: map<int,string>: map keys must be string, varchar or char "
		   "(JSON keys are strings) at 5");
	glue_fails("[{\"Name\":\"m\",\"Type\":\"map< struct<a:int>,string>\"}]",
		   "column m: map< struct<a:int>,string>: map keys must be string, varchar or "
		   "char (JSON keys are strings) at 6");
	glue_fails("[{\"Name\":\"x\",\"Type\":\"bigint\"},{\"Name\":\"X\",\"Type\":\"int\"}]",
		   "column X: the same name as column x (names are case-insensitive)");
	glue_fails("[{\"Name\":\"x\",\"Type\":\"struct<a:int,A:int>\"}]",
		   "column x: struct<a:int,A:int>: field A again (names are case-insensitive) "
		   "at 14");
	glue_fails("[{\"Name\":\"x\",\"Type\":\"bigin\"}]", "column x: bigin: unknown type 'bigin' at 1");
	glue_fails("[{\"Name\":\"x\",\"Type\":\"binary\"}]",
		   "column x: binary: type binary is not supported at 1");
	glue_fails("[{\"Name\":\"x\",\"Type\":\"struct<>\"}]",
		   "column x: struct<>: a struct needs a field at 8");
	glue_fails("[{\"Name\":\"x\",\"Type\":\"struct<:int>\"}]",
		   "column x: struct<:int>: expected a field name at 8");
	glue_fails("[{\"Name\":\"x\",\"Type\":\"struct<a int>\"}]",
		   "column x: struct<a int>: expected ':', not 'i' at 10");
	glue_fails("[{\"Name\":\"x\",\"Type\":\"struct<`a:int>\"}]",
		   "column x: struct<`a:int>: unterminated `name` at 8");
	glue_fails("[{\"Name\":\"x\",\"Type\":\"decimal(39,0)\"}]",
		   "column x: decimal(39,0): precision 39 is not 1 to 38 at 9");
	glue_fails("[{\"Name\":\"x\",\"Type\":\"decimal(5,6)\"}]",
		   "column x: decimal(5,6): scale 6 is not 0 to 5 at 11");
	glue_fails("[{\"Name\":\"x\",\"Type\":\"decimal(5,)\"}]",
		   "column x: decimal(5,): expected the scale at 11");
	glue_fails("[{\"Name\":\"x\",\"Type\":\"int(5)\"}]",
		   "column x: int(5): int takes no arguments at 4");
	glue_fails("[{\"Name\":\"x\",\"Type\":\"bigint x\"}]",
		   "column x: bigint x: unexpected 'x' after the type at 8");
	glue_fails("[{\"Name\":\"x\",\"Type\":\"\"}]", "column x: : expected a type at 1");
	glue_fails("[{\"Name\":\"x\",\"Type\":\"<int>\"}]",
		   "column x: <int>: expected a type, not '<' at 1");
	glue_fails("[{\"Name\":\"\",\"Type\":\"int\"}]", "column 1: an empty name");
	glue_fails("[{\"Name\":\"a\",\"Type\":\"int\"},{\"Type\":\"int\"}]",
		   "column 2: expected an object with a \"Name\" string");
	glue_fails("[{\"Name\":\"a\",\"Type\":3}]", "column a: expected a \"Type\" string");
	glue_fails("[]", "no columns");
	glue_fails("{\"Columns\":{}}",
		   "expected the columns as [{\"Name\": ..., \"Type\": ...}, ...]");
	glue_fails("[{\"Name\":", "not JSON: unexpected token near end of file (line 1, column 9)");
	{
		struct ts_buf b;
		ts_buf_init(&b, 0);
		ts_buf_addstr(&b, "[{\"Name\":\"deep\",\"Type\":\"");
		for (int i = 0; i < 65; i++)
			ts_buf_addstr(&b, "array<");
		ts_buf_addstr(&b, "int");
		for (int i = 0; i < 65; i++)
			ts_buf_addch(&b, '>');
		ts_buf_addstr(&b, "\"}]");
		char err[1024];
		CHECK(ts_pq_schema_from_glue(&s, b.data, b.len, err, sizeof(err)) == -1);
		CHECK(strstr(err, ": types nested deeper than 64 at 385") != NULL);
		ts_buf_release(&b);
	}
}

/* --- inference ------------------------------------------------------------ */

static char *infer(const char *const *recs, size_t n)
{
	struct ts_pq_infer *inf = ts_pq_infer_new();
	struct ts_pq_schema s;
	char err[256];
	char *out;

	for (size_t i = 0; i < n; i++)
		CHECK(ts_pq_infer_add(inf, (struct ts_span){recs[i], strlen(recs[i])}) == 0);
	if (ts_pq_infer_schema(inf, &s, err, sizeof(err)) < 0) {
		ts_pq_infer_free(inf);
		return strdup(err);
	}
	ts_pq_infer_free(inf);
	out = to_glue(&s);
	/* the schema takes every record it was inferred from */
	struct rec r;
	rec_init(&r, &s);
	for (size_t i = 0; i < n; i++) {
		char why[256] = "";
		uint64_t dropped = 0;
		int rr = ts_pq_shred_to(&s, &recorder, &r, (struct ts_span){recs[i], strlen(recs[i])},
				       0, &dropped, why, sizeof(why));
		if (!CHECK(rr == 0))
			fprintf(stderr, "    %s: %s\n", recs[i], why);
	}
	rec_release(&r);
	ts_pq_schema_release(&s);
	return out;
}

#define INFER(want, ...)                                                          \
	do {                                                                      \
		const char *const recs_[] = {__VA_ARGS__};                        \
		char *got_ = infer(recs_, sizeof(recs_) / sizeof(recs_[0]));      \
		CHECK_STR(got_, want);                                            \
		free(got_);                                                       \
	} while (0)

static void test_infer(void)
{
	INFER("[{\"Name\":\"a\",\"Type\":\"double\"},{\"Name\":\"b\",\"Type\":\"string\"},"
	      "{\"Name\":\"c\",\"Type\":\"string\"},{\"Name\":\"d\",\"Type\":\"array<bigint>\"},"
	      "{\"Name\":\"e\",\"Type\":\"struct<f:boolean,g:bigint>\"},"
	      "{\"Name\":\"h\",\"Type\":\"array<string>\"},{\"Name\":\"i\",\"Type\":\"string\"}]",
	      "{\"a\":1,\"b\":\"x\",\"c\":null}",
	      "{\"a\":2.5,\"B\":\"y\",\"d\":[1,2],\"e\":{\"f\":true}}",
	      "{\"c\":null,\"d\":[],\"e\":{\"g\":-1,\"F\":null},\"h\":[],\"i\":{}}");
	/* conflicts make strings, bigint widens to double */
	INFER("[{\"Name\":\"x\",\"Type\":\"string\"},{\"Name\":\"y\",\"Type\":\"string\"},"
	      "{\"Name\":\"z\",\"Type\":\"array<double>\"},{\"Name\":\"w\",\"Type\":"
	      "\"array<string>\"},{\"Name\":\"v\",\"Type\":\"string\"}]",
	      "{\"x\":1,\"y\":{\"a\":1},\"z\":[1],\"w\":[1],\"v\":[1]}",
	      "{\"x\":\"s\",\"y\":5,\"z\":[1.5e0],\"w\":[\"s\"],\"v\":true}");
	INFER("[{\"Name\":\"x\",\"Type\":\"string\"}]", "{\"x\":true}", "{\"x\":1}");
	INFER("[{\"Name\":\"n\",\"Type\":\"array<array<bigint>>\"}]",
	      "{\"n\":[[],[null]]}", "{\"n\":[[1,2],[]]}");
	/* integers past 64 bits are doubles; past a double strings */
	INFER("[{\"Name\":\"big\",\"Type\":\"double\"},{\"Name\":\"huge\",\"Type\":\"string\"},"
	      "{\"Name\":\"top\",\"Type\":\"bigint\"}]",
	      "{\"big\":9223372036854775808,\"huge\":1e400,\"top\":9223372036854775807}",
	      "{\"top\":-9223372036854775808}");
	/* case-insensitive: the first spelling wins */
	INFER("[{\"Name\":\"Name\",\"Type\":\"bigint\"},{\"Name\":\"s\",\"Type\":"
	      "\"struct<Ab:bigint>\"}]",
	      "{\"Name\":1,\"s\":{\"Ab\":1}}", "{\"name\":2,\"S\":{\"aB\":2},\"NAME\":3}");
	/* escaped keys are their decoded names; no empty names */
	INFER("[{\"Name\":\"a\\\"b\",\"Type\":\"string\"},{\"Name\":\"\xc3\xa9\",\"Type\":"
	      "\"bigint\"}]",
	      "{\"a\\\"b\":\"q\",\"\":1,\"\\u00e9\":1,\"x\\u0000\":2}");
	/* never timestamps from strings */
	INFER("[{\"Name\":\"t\",\"Type\":\"string\"}]", "{\"t\":\"2024-05-01T00:00:00Z\"}");
	INFER("no columns: the sample records have no members", "{}");
	/* nesting past the bound is a string */
	{
		struct ts_buf b;
		ts_buf_init(&b, 0);
		ts_buf_addstr(&b, "{\"a\":");
		for (int i = 0; i < 40; i++)
			ts_buf_addstr(&b, "[");
		for (int i = 0; i < 40; i++)
			ts_buf_addstr(&b, "]");
		ts_buf_addstr(&b, "}");
		const char *recs[] = {b.data};
		char *got = infer(recs, 1);
		CHECK(strstr(got, "array<array<") != NULL && strstr(got, "<string>") != NULL);
		free(got);
		ts_buf_release(&b);
	}
	struct ts_pq_infer *inf = ts_pq_infer_new();
	CHECK(ts_pq_infer_add(inf, (struct ts_span){"[1]", 3}) == -1);
	ts_pq_infer_free(inf);
}

/* --- shredding --------------------------------------------------------------- */

/* Shred the records (each may fail: its message is listed); the columns
 * after them, then "rows N dropped D" and the messages. */
static char *shred(const char *schema, int cs, const char *const *recs, size_t n)
{
	struct ts_pq_schema s;
	struct rec r;
	struct ts_buf msgs;
	uint64_t dropped = 0;
	char *cols, *out;

	if (glue(&s, schema) < 0)
		return strdup("bad schema");
	rec_init(&r, &s);
	ts_buf_init(&msgs, 0);
	for (size_t i = 0; i < n; i++) {
		char why[256] = "";
		int rr = ts_pq_shred_to(&s, &recorder, &r, (struct ts_span){recs[i], strlen(recs[i])},
				       cs, &dropped, why, sizeof(why));
		if (rr < 0)
			ts_buf_addf(&msgs, "%d %s\n", rr, why);
	}
	cols = columns(&r);
	struct ts_buf b;
	ts_buf_init(&b, 0);
	ts_buf_addf(&b, "%srows %d dropped %" PRIu64 "\n%s", cols, r.rows, dropped, msgs.data);
	out = ts_buf_detach(&b, NULL);
	free(cols);
	ts_buf_release(&msgs);
	rec_release(&r);
	ts_pq_schema_release(&s);
	return out;
}

#define SHRED(schema, cs, want, ...)                                               \
	do {                                                                       \
		const char *const recs_[] = {__VA_ARGS__};                         \
		char *got_ = shred(schema, cs, recs_, sizeof(recs_) / sizeof(recs_[0])); \
		if (!CHECK_STR(got_, want))                                        \
			fprintf(stderr, "----\n%s----\n", got_);                  \
		free(got_);                                                        \
	} while (0)

/* The Document of the Dremel paper (Melnik et al. 2010, figure 2) as a Glue
 * table: every level the paper has required or repeated is optional here,
 * and each list has its LIST group, so the definition levels are higher,
 * but the repetition levels are the paper's and the definition levels tell
 * the same nulls apart. */
static const char document[] =
	"[{\"Name\":\"DocId\",\"Type\":\"bigint\"},"
	"{\"Name\":\"Links\",\"Type\":\"struct<Backward:array<bigint>,Forward:array<bigint>>\"},"
	"{\"Name\":\"Name\",\"Type\":\"array<struct<Language:array<struct<Code:string,"
	"Country:string>>,Url:string>>\"}]";

static void test_dremel(void)
{
	SHRED(document, 0,
	      /* paper: DocId 10 r0 d0, 20 r0 d0 (required there) */
	      "DocId: 10 r0 d1, 20 r0 d1\n"
	      /* paper: NULL r0 d1, 10 r0 d2, 30 r1 d2 */
	      "Links.Backward: NULL r0 d1, 10 r0 d4, 30 r1 d4\n"
	      /* paper: 20 r0 d2, 40 r1 d2, 60 r1 d2, 80 r0 d2 */
	      "Links.Forward: 20 r0 d4, 40 r1 d4, 60 r1 d4, 80 r0 d4\n"
	      /* paper: en-us r0 d2, en r2 d2, NULL r1 d1, en-gb r1 d2, NULL r0 d1 */
	      "Name.Language.Code: 'en-us' r0 d7, 'en' r2 d7, NULL r1 d3, 'en-gb' r1 d7, "
	      "NULL r0 d3\n"
	      /* paper: us r0 d3, NULL r2 d2, NULL r1 d1, gb r1 d3, NULL r0 d1 */
	      "Name.Language.Country: 'us' r0 d7, NULL r2 d6, NULL r1 d3, 'gb' r1 d7, "
	      "NULL r0 d3\n"
	      /* paper: http://A r0 d2, http://B r1 d2, NULL r1 d1, http://C r0 d2 */
	      "Name.Url: 'http://A' r0 d4, 'http://B' r1 d4, NULL r1 d3, 'http://C' r0 d4\n"
	      "rows 2 dropped 0\n",
	      "{\"DocId\":10,\"Links\":{\"Forward\":[20,40,60]},\"Name\":["
	      "{\"Language\":[{\"Code\":\"en-us\",\"Country\":\"us\"},{\"Code\":\"en\"}],"
	      "\"Url\":\"http://A\"},{\"Url\":\"http://B\"},"
	      "{\"Language\":[{\"Code\":\"en-gb\",\"Country\":\"gb\"}]}]}",
	      "{\"DocId\":20,\"Links\":{\"Backward\":[10,30],\"Forward\":[80]},"
	      "\"Name\":[{\"Url\":\"http://C\"}]}");
	/* every way of being absent: missing, null, an empty list, a null element,
	 * an element without the field */
	SHRED(document, 0,
	      "DocId: NULL r0 d0, NULL r0 d0, NULL r0 d0, NULL r0 d0, NULL r0 d0\n"
	      "Links.Backward: NULL r0 d0, NULL r0 d0, NULL r0 d2, NULL r0 d3, 1 r0 d4, "
	      "NULL r1 d3\n"
	      "Links.Forward: NULL r0 d0, NULL r0 d0, NULL r0 d1, NULL r0 d1, NULL r0 d1\n"
	      "Name.Language.Code: NULL r0 d0, NULL r0 d0, NULL r0 d1, NULL r0 d2, "
	      "NULL r0 d4, NULL r1 d5, NULL r1 d6\n"
	      "Name.Language.Country: NULL r0 d0, NULL r0 d0, NULL r0 d1, NULL r0 d2, "
	      "NULL r0 d4, NULL r1 d5, NULL r1 d6\n"
	      "Name.Url: NULL r0 d0, NULL r0 d0, NULL r0 d1, NULL r0 d2, NULL r0 d3, NULL r1 d3, "
	      "NULL r1 d3\n"
	      "rows 5 dropped 0\n",
	      "{}", "{\"DocId\":null,\"Links\":null,\"Name\":null}",
	      "{\"Links\":{\"Backward\":[]},\"Name\":[]}",
	      "{\"Links\":{\"Backward\":[null]},\"Name\":[null]}",
	      "{\"Links\":{\"Backward\":[1,null]},\"Name\":[{\"Language\":[]},"
	      "{\"Language\":[null]}, {\"Language\":[{}]}]}");
}

static void test_maps(void)
{
	const char *schema = "[{\"Name\":\"m\",\"Type\":\"map<string,array<int>>\"},"
			     "{\"Name\":\"n\",\"Type\":\"map<varchar(5),struct<a:int>>\"}]";
	SHRED(schema, 0,
	      "m.key: 'a' r0 d2, 'b' r1 d2, 'c' r1 d2, NULL r0 d1, NULL r0 d0, 'z' r0 d2\n"
	      "m.value: 1 r0 d5, 2 r2 d5, NULL r1 d2, NULL r1 d3, NULL r0 d1, NULL r0 d0, "
	      "9 r0 d5\n"
	      "n.key: NULL r0 d0, 'k' r0 d2, NULL r0 d0, NULL r0 d0\n"
	      "n.value.a: NULL r0 d0, NULL r0 d3, NULL r0 d0, NULL r0 d0\n"
	      "rows 4 dropped 0\n",
	      "{\"m\":{\"a\":[1,2],\"b\":null,\"c\":[]}}",
	      "{\"m\":{},\"n\":{\"k\":{}}}",
	      "{}",
	      /* a duplicate key: the last wins, as everywhere else */
	      "{\"m\":{\"z\":[1],\"\\u007a\":[9]}}");
}

static void test_conversions(void)
{
	const char *schema =
		"[{\"Name\":\"s\",\"Type\":\"string\"},{\"Name\":\"b\",\"Type\":\"bigint\"},"
		"{\"Name\":\"i\",\"Type\":\"int\"},{\"Name\":\"sm\",\"Type\":\"smallint\"},"
		"{\"Name\":\"ti\",\"Type\":\"tinyint\"},{\"Name\":\"d\",\"Type\":\"double\"},"
		"{\"Name\":\"f\",\"Type\":\"float\"},{\"Name\":\"bo\",\"Type\":\"boolean\"}]";
	SHRED(schema, 0,
	      "s: 'x\"\\y' r0 d1, '12.50' r0 d1, 'true' r0 d1, '{\"a\":[1,2]}' r0 d1, "
	      "'\xc3\xa9' r0 d1\n"
	      "b: -9223372036854775808 r0 d1, 9223372036854775807 r0 d1, 1000 r0 d1, "
	      "12 r0 d1, NULL r0 d0\n"
	      "i: 2147483647 r0 d1, -2147483648 r0 d1, 5 r0 d1, NULL r0 d0, NULL r0 d0\n"
	      "sm: 32767 r0 d1, -32768 r0 d1, NULL r0 d0, NULL r0 d0, NULL r0 d0\n"
	      "ti: 127 r0 d1, -128 r0 d1, NULL r0 d0, NULL r0 d0, NULL r0 d0\n"
	      "d: 0.10000000000000001 r0 d1, 1.0000000000000001e+300 r0 d1, 3 r0 d1, nan r0 d1, "
	      "-inf r0 d1\n"
	      "f: 0.100000001f r0 d1, -2.5f r0 d1, NULL r0 d0, NULL r0 d0, NULL r0 d0\n"
	      "bo: true r0 d1, false r0 d1, true r0 d1, NULL r0 d0, NULL r0 d0\n"
	      "rows 5 dropped 0\n"
	      "-1 column b: \"abc\" is not a bigint\n"
	      "-1 column b: 1.5 is not a bigint\n"
	      "-1 column b: 9223372036854775808 is out of range for a bigint\n"
	      "-1 column b: true is not a bigint\n"
	      "-1 column i: 2147483648 is out of range for an int\n"
	      "-1 column sm: -32769 is out of range for a smallint\n"
	      "-1 column ti: \"128\" is out of range for a tinyint\n"
	      "-1 column d: 1e400 is out of range for a double\n"
	      "-1 column d: \"0x10\" is not a double\n"
	      "-1 column d: [1] is not a double\n"
	      "-1 column f: 1e39 is out of range for a float\n"
	      "-1 column bo: 1 is not a boolean\n"
	      "-1 column bo: \"yes\" is not a boolean\n",
	      "{\"s\":\"x\\\"\\\\y\",\"b\":-9223372036854775808,\"i\":2147483647,\"sm\":32767,"
	      "\"ti\":127,\"d\":0.1,\"f\":0.1,\"bo\":true}",
	      "{\"s\":12.50,\"b\":\"9223372036854775807\",\"i\":\"-2147483648\",\"sm\":-32768,"
	      "\"ti\":-128,\"d\":1e300,\"f\":\"-2.5\",\"bo\":false}",
	      "{\"s\":true,\"b\":1e3,\"i\":5.000,\"d\":\"3\",\"bo\":\"TRUE\"}",
	      "{\"s\":{ \"a\" : [1, 2] },\"b\":\"12\",\"d\":\"NaN\"}",
	      "{\"s\":\"\\u00e9\",\"d\":\"-Infinity\"}",
	      "{\"b\":\"abc\"}", "{\"b\":1.5}", "{\"b\":9223372036854775808}", "{\"b\":true}",
	      "{\"i\":2147483648}", "{\"sm\":-32769}", "{\"ti\":\"128\"}", "{\"d\":1e400}",
	      "{\"d\":\"0x10\"}", "{\"d\":[1]}", "{\"f\":1e39}", "{\"bo\":1}", "{\"bo\":\"yes\"}");
}

static void test_times_decimals(void)
{
	const char *schema =
		"[{\"Name\":\"t\",\"Type\":\"timestamp\"},{\"Name\":\"d\",\"Type\":\"date\"},"
		"{\"Name\":\"x\",\"Type\":\"decimal(5,2)\"},{\"Name\":\"y\",\"Type\":\"decimal(18,3)\"},"
		"{\"Name\":\"z\",\"Type\":\"decimal(38,2)\"},{\"Name\":\"w\",\"Type\":\"decimal(20,0)\"}]";
	SHRED(schema, 0,
	      /* an escaped Z is a Z */
	      "t: 1714566896123456 r0 d1, 1714566896000000 r0 d1, 1714559696120000 r0 d1, "
	      "1700000000123456 r0 d1, 1700000000123000 r0 d1, -1000000 r0 d1, "
	      "1714521600000000 r0 d1, 1714566896000000 r0 d1\n"
	      "d: 19844 r0 d1, 19844 r0 d1, 0 r0 d1, -1 r0 d1, -1 r0 d1, NULL r0 d0, "
	      "NULL r0 d0, NULL r0 d0\n"
	      "x: 12345 r0 d1, -12345 r0 d1, 150 r0 d1, 0 r0 d1, 10 r0 d1, NULL r0 d0, "
	      "NULL r0 d0, NULL r0 d0\n"
	      "y: 999999999999999999 r0 d1, -1 r0 d1, NULL r0 d0, NULL r0 d0, NULL r0 d0, "
	      "NULL r0 d0, NULL r0 d0, NULL r0 d0\n"
	      /* 10^38 - 1 is 0x4b3b4ca85a86c47a098a224000000000 - 1 */
	      "z: 0x4b3b4ca85a86c47a098a223fffffffff r0 d1, "
	      "0xb4c4b357a5793b85f675ddc000000001 r0 d1, 0x00000000000000000000000000000001 r0 d1, "
	      "NULL r0 d0, NULL r0 d0, NULL r0 d0, NULL r0 d0, NULL r0 d0\n"
	      /* 20 digits take 9 bytes */
	      "w: 0x000000000000000001 r0 d1, 0xffffffffffffffffff r0 d1, NULL r0 d0, "
	      "NULL r0 d0, NULL r0 d0, NULL r0 d0, NULL r0 d0, NULL r0 d0\n"
	      "rows 8 dropped 0\n"
	      "-1 column t: \"yesterday\" is not a timestamp\n"
	      "-1 column d: \"2024-02-30\" is not a date\n"
	      "-1 column x: 1.234 has too many decimals for decimal(5,2)\n"
	      "-1 column x: 1000 has too many digits for decimal(5,2)\n"
	      "-1 column x: \"1,5\" is not a decimal(5,2)\n"
	      "-1 column z: 1e37 has too many digits for decimal(38,2)\n"
	      "-1 column t: {} is not a timestamp\n",
	      "{\"t\":\"2024-05-01T12:34:56.123456Z\",\"d\":\"2024-05-01\",\"x\":123.45,"
	      "\"y\":\"999999999999999.999\",\"z\":999999999999999999999999999999999999.99,"
	      "\"w\":1}",
	      "{\"t\":\"2024-05-01T12:34:56Z\",\"d\":\"2024-05-01T23:59:59.999Z\",\"x\":\"-123.45\","
	      "\"y\":-0.001,\"z\":-999999999999999999999999999999999999.99,\"w\":-1}",
	      "{\"t\":\"2024-05-01T12:34:56.12+02:00\",\"d\":0,\"x\":1.5,\"z\":0.01}",
	      "{\"t\":1700000000.1234567,\"d\":-1,\"x\":-0.000}",
	      "{\"t\":\"1700000000123\",\"d\":\"1969-12-31\",\"x\":1e-1}",
	      "{\"t\":-1}",
	      "{\"t\":\"2024-05-01\"}",
	      "{\"t\":\"yesterday\"}",
	      "{\"t\":\"2024-05-01T12:34:56\\u005a\"}",
	      "{\"d\":\"2024-02-30\"}",
	      "{\"x\":1.234}", "{\"x\":1000}", "{\"x\":\"1,5\"}", "{\"z\":1e37}", "{\"t\":{}}");
}

static void test_structs_paths(void)
{
	const char *schema =
		"[{\"Name\":\"eventName\",\"Type\":\"string\"},"
		"{\"Name\":\"detail\",\"Type\":\"struct<items:array<struct<price:decimal(5,2),"
		"qty:int>>,tags:map<string,bigint>>\"}]";
	SHRED(schema, 0,
	      "eventName: 'a' r0 d1, 'B' r0 d1, NULL r0 d0\n"
	      "detail.items.price: 150 r0 d5, NULL r1 d4, NULL r0 d1, NULL r0 d2\n"
	      "detail.items.qty: 2 r0 d5, 3 r1 d5, NULL r0 d1, NULL r0 d2\n"
	      "detail.tags.key: NULL r0 d1, NULL r0 d1, NULL r0 d1\n"
	      "detail.tags.value: NULL r0 d1, NULL r0 d1, NULL r0 d1\n"
	      "rows 3 dropped 4\n"
	      "-1 column detail.items[].price: \"abc\" is not a decimal(5,2)\n"
	      "-1 column detail.tags{}: \"x\" is not a bigint\n"
	      "-1 column detail.items: {\"price\":1} is not an array\n"
	      "-1 column detail: [] is not a struct\n"
	      "-1 column detail.tags: 5 is not a map\n"
	      "-1 the record is not an object\n",
	      /* EventName fills eventName; x, detail.other and items[].note are dropped */
	      "{\"EventName\":\"a\",\"x\":1,\"detail\":{\"items\":[{\"price\":1.5,\"qty\":2},"
	      "{\"qty\":3,\"note\":\"n\"}],\"other\":{\"deep\":[1,2,3]}}}",
	      /* duplicates: the last wins and is not counted as dropped */
	      "{\"eventname\":\"x\",\"EVENTNAME\":\"B\",\"detail\":{},\"y\":[]}",
	      "{\"detail\":{\"items\":[]}}",
	      "{\"detail\":{\"items\":[{\"price\":\"abc\"}]}}",
	      "{\"detail\":{\"tags\":{\"k\":\"x\"}}}",
	      "{\"detail\":{\"items\":{\"price\":1}}}",
	      "{\"detail\":[]}",
	      "{\"detail\":{\"tags\":5}}",
	      "[1]");
	/* case-sensitive: only the exact spelling */
	SHRED(schema, 1,
	      "eventName: NULL r0 d0, 'b' r0 d1\n"
	      "detail.items.price: NULL r0 d0, NULL r0 d0\n"
	      "detail.items.qty: NULL r0 d0, NULL r0 d0\n"
	      "detail.tags.key: NULL r0 d0, NULL r0 d0\n"
	      "detail.tags.value: NULL r0 d0, NULL r0 d0\n"
	      "rows 2 dropped 1\n",
	      "{\"EventName\":\"a\"}", "{\"eventName\":\"b\"}");
	/* a refused record counts nothing as dropped */
	SHRED(schema, 0,
	      "eventName: \ndetail.items.price: \ndetail.items.qty: \ndetail.tags.key: \n"
	      "detail.tags.value: \nrows 0 dropped 0\n"
	      "-1 column detail.items[].qty: \"q\" is not an int\n",
	      "{\"junk\":1,\"eventName\":\"a\",\"detail\":{\"items\":[{\"qty\":1},{\"qty\":\"q\"}]}}");
	/* long values are cut in the message, on a character boundary */
	SHRED("[{\"Name\":\"n\",\"Type\":\"int\"}]", 0,
	      "n: \nrows 0 dropped 0\n"
	      "-1 column n: \"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	      "\xc3\xa9\xc3\xa9\xc3\xa9... is not an int\n",
	      "{\"n\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}");
}

/* Keys are matched decoded: an escape is never taken for its raw bytes. */
static void test_escaped_keys(void)
{
	/* columns "a\nb" (a backslash and an n) and "eventName" */
	const char *schema = "[{\"Name\":\"a\\\\nb\",\"Type\":\"int\"},"
			     "{\"Name\":\"eventName\",\"Type\":\"string\"}]";
	SHRED(schema, 0,
	      "a\\nb: NULL r0 d0, 2 r0 d1, 3 r0 d1\n"
	      "eventName: 'x' r0 d1, NULL r0 d0, NULL r0 d0\n"
	      "rows 3 dropped 1\n",
	      /* \u0074 is t; "a\nb" holds a newline: not the column */
	      "{\"even\\u0074NAME\":\"x\",\"a\\nb\":1}",
	      "{\"a\\\\nb\":2}",
	      "{\"\\u0061\\\\nb\":3}");
}

/* A failing emitter: -2, and the row taken back. */
static void test_emit_failure(void)
{
	struct ts_pq_schema s;
	struct rec r;
	char why[128] = "";
	uint64_t dropped = 0;
	const char *rec1 = "{\"a\":1,\"b\":[1,2,3],\"zz\":1}";

	if (!CHECK(glue(&s, "[{\"Name\":\"a\",\"Type\":\"bigint\"},"
		       "{\"Name\":\"b\",\"Type\":\"array<int>\"}]") == 0))
		return;
	rec_init(&r, &s);
	r.fail_after = 3;
	CHECK(ts_pq_shred_to(&s, &recorder, &r, (struct ts_span){rec1, strlen(rec1)}, 0,
			     &dropped, why, sizeof(why)) == -2);
	CHECK_STR(why, "the writer failed");
	CHECK(r.aborts == 1 && r.rows == 0 && dropped == 0);
	CHECK(r.col[0].len == 0 && r.col[1].len == 0);
	CHECK(ts_pq_shred_to(&s, &recorder, &r, (struct ts_span){rec1, strlen(rec1)}, 0,
			     &dropped, why, sizeof(why)) == 0);
	CHECK(r.rows == 1 && dropped == 1);
	CHECK_STR(r.col[1].data, "1 r0 d3, 2 r1 d3, 3 r1 d3");
	rec_release(&r);
	ts_pq_schema_release(&s);
}

static int contains(const char *h, size_t hn, const char *n)
{
	size_t nn = strlen(n);
	for (size_t i = 0; i + nn <= hn; i++)
		if (!memcmp(h + i, n, nn))
			return 1;
	return 0;
}

static int buf_sink(void *ctx, const void *p, size_t n)
{
	return ts_buf_add(ctx, p, n);
}

/* Through the real writer: a refused record leaves no row behind. */
static void test_writer(void)
{
	struct ts_pq_schema s;
	struct ts_buf file;
	struct ts_pq_opts o = {.codec = TS_PQ_UNCOMPRESSED};
	const char *recs[] = {
		"{\"a\":1,\"b\":[{\"c\":\"x\"},null],\"junk\":true}",
		"{\"a\":2,\"b\":[{\"c\":\"y\"},{\"c\":{\"deep\":1}},{\"c\":5}],\"d\":\"nope\"}",
		"{\"b\":[]}",
	};
	uint64_t dropped = 0;
	char why[256];

	if (!CHECK(glue(&s, "[{\"Name\":\"a\",\"Type\":\"bigint\"},{\"Name\":\"b\",\"Type\":"
		       "\"array<struct<c:string>>\"},{\"Name\":\"d\",\"Type\":\"date\"}]") == 0))
		return;
	ts_buf_init(&file, 0);
	struct ts_pq_writer *w = ts_pq_writer_new(&s, &o, buf_sink, &file);
	if (!CHECK(w != NULL))
		return;
	CHECK(ts_pq_shred(&s, w, (struct ts_span){recs[0], strlen(recs[0])}, 0, &dropped, why,
			  sizeof(why)) == 0);
	CHECK(ts_pq_shred(&s, w, (struct ts_span){recs[1], strlen(recs[1])}, 0, &dropped, why,
			  sizeof(why)) == -1);
	CHECK_STR(why, "column d: \"nope\" is not a date");
	CHECK(ts_pq_shred(&s, w, (struct ts_span){recs[2], strlen(recs[2])}, 0, &dropped, why,
			  sizeof(why)) == 0);
	CHECK(ts_pq_rows(w) == 2 && dropped == 1);
	CHECK(ts_pq_finish(w) == 0);
	CHECK(file.len > 8 && !memcmp(file.data, "PAR1", 4) &&
	      !memcmp(file.data + file.len - 4, "PAR1", 4));
	/* the refused record's values are nowhere in the file */
	CHECK(contains(file.data, file.len, "x"));
	CHECK(!contains(file.data, file.len, "{\"deep\":1}"));
	ts_pq_writer_free(w);
	ts_buf_release(&file);
	ts_pq_schema_release(&s);
}

/* Many columns (past the shredder's stack arrays). */
static void test_wide(void)
{
	struct ts_buf sch, rec;
	struct ts_pq_schema s;
	struct rec r;
	char why[128];
	uint64_t dropped = 0;

	ts_buf_init(&sch, 0);
	ts_buf_init(&rec, 0);
	ts_buf_addstr(&sch, "[{\"Name\":\"first\",\"Type\":\"int\"}");
	for (int i = 0; i < 300; i++)
		ts_buf_addf(&sch, ",{\"Name\":\"c%d\",\"Type\":\"struct<x:int>\"}", i);
	ts_buf_addstr(&sch, ",{\"Name\":\"last\",\"Type\":\"int\"}]");
	/* members in the reverse order of the columns */
	ts_buf_addstr(&rec, "{\"last\":7");
	for (int i = 299; i >= 0; i -= 3)
		ts_buf_addf(&rec, ",\"C%d\":{\"x\":%d}", i, i);
	ts_buf_addstr(&rec, ",\"first\":1}");
	if (CHECK(glue(&s, sch.data) == 0)) {
		rec_init(&r, &s);
		CHECK(s.nleaves == 302);
		CHECK(ts_pq_shred_to(&s, &recorder, &r, (struct ts_span){rec.data, rec.len}, 0,
				     &dropped, why, sizeof(why)) == 0);
		CHECK_STR(r.col[0].data, "1 r0 d1");
		CHECK_STR(r.col[1 + 299].data, "299 r0 d2");
		CHECK_STR(r.col[1 + 298].data, "NULL r0 d0");
		CHECK_STR(r.col[1 + 2].data, "2 r0 d2");
		CHECK(dropped == 0);
		rec_release(&r);
		ts_pq_schema_release(&s);
	}
	ts_buf_release(&sch);
	ts_buf_release(&rec);
}

int main(void)
{
	test_glue();
	test_infer();
	test_dremel();
	test_maps();
	test_conversions();
	test_times_decimals();
	test_structs_paths();
	test_escaped_keys();
	test_emit_failure();
	test_writer();
	test_wide();
	return check_done();
}
