/*
 * pqschema.c — the schema of a Parquet file from a Glue table's columns
 * (Hive type strings) or inferred from records, and records shredded into
 * the writer's columns (Dremel definition and repetition levels).  See
 * parquet.h.
 *
 * Glue schemas are read with jansson (once per run); records are walked
 * with lib/json's iterators, never copied (this runs for every record).
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "parquet.h"
#include "tstime.h"

/* array<array<...>> deeper than this is refused: every level is three
 * nodes, and readers (and our recursion) want a bound. */
#define TYPE_MAX_DEPTH 64
/* Inferred values nested deeper than this become string columns (their
 * JSON). */
#define INFER_MAX_DEPTH 32

static inline unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Is the NUL-terminated name equal to the n bytes m (ASCII case folded
 * unless cs)?  m may hold NUL bytes: they never match. */
static int name_eq(const char *name, const char *m, size_t n, int cs)
{
	const unsigned char *a = (const unsigned char *)name;
	const unsigned char *b = (const unsigned char *)m;
	size_t i = 0;

	if (cs) {
		for (; i < n; i++)
			if (!a[i] || a[i] != b[i])
				return 0;
	} else {
		for (; i < n; i++)
			if (!a[i] || lower(a[i]) != lower(b[i]))
				return 0;
	}
	return a[i] == '\0';
}

static const char *kind_name(enum ts_pq_kind k)
{
	switch (k) {
	case TS_PQK_STRING: return "string";
	case TS_PQK_BIGINT: return "bigint";
	case TS_PQK_INT: return "int";
	case TS_PQK_SMALLINT: return "smallint";
	case TS_PQK_TINYINT: return "tinyint";
	case TS_PQK_DOUBLE: return "double";
	case TS_PQK_FLOAT: return "float";
	case TS_PQK_BOOLEAN: return "boolean";
	case TS_PQK_TIMESTAMP: return "timestamp";
	case TS_PQK_DATE: return "date";
	case TS_PQK_DECIMAL: return "decimal";
	case TS_PQK_STRUCT: return "struct";
	case TS_PQK_ARRAY: return "array";
	case TS_PQK_MAP: return "map";
	case TS_PQK_LIST_REPEATED: return "list";
	case TS_PQK_MAP_KEY_VALUE: return "key_value";
	}
	return "?";
}

/* One past the subtree of every node (nodes are in depth-first order). */
static void subtree_ends(const struct ts_pq_schema *s, int *end)
{
	for (size_t i = 0; i < s->nn; i++)
		end[i] = (int)i + 1;
	for (size_t i = s->nn; i-- > 1;) {
		int p = s->n[i].parent;
		if (end[i] > end[p])
			end[p] = end[i];
	}
}

/* --- Hive type strings ---------------------------------------------------- */

struct tparse {
	struct ts_pq_schema *s;
	const char *t; /* the type string */
	size_t n, i;
	int depth;
	const char *col;
	struct ts_buf name; /* a struct field's name */
	char *err;
	size_t errlen;
};

static int tp_fail(struct tparse *tp, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int tp_fail(struct tparse *tp, size_t at, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(tp->err, tp->errlen, "column %s: %.*s: %s at %zu", tp->col,
		 (int)(tp->n > 400 ? 400 : tp->n), tp->t, msg, at + 1);
	return -1;
}

static int tp_oom(struct tparse *tp)
{
	snprintf(tp->err, tp->errlen, "column %s: out of memory", tp->col);
	return -1;
}

static void tp_ws(struct tparse *tp)
{
	while (tp->i < tp->n && ts_json_is_ws(tp->t[tp->i]))
		tp->i++;
}

static int is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static int tp_expect(struct tparse *tp, char c)
{
	tp_ws(tp);
	if (tp->i < tp->n && tp->t[tp->i] == c) {
		tp->i++;
		return 0;
	}
	if (tp->i >= tp->n)
		return tp_fail(tp, tp->i, "expected '%c'", c);
	return tp_fail(tp, tp->i, "expected '%c', not '%c'", c, tp->t[tp->i]);
}

/* A small decimal integer in [lo, hi]. */
static int tp_int(struct tparse *tp, const char *what, int lo, int hi, int *v)
{
	size_t at;
	long x = 0;

	tp_ws(tp);
	at = tp->i;
	while (tp->i < tp->n && tp->t[tp->i] >= '0' && tp->t[tp->i] <= '9') {
		if (x < 1000000)
			x = x * 10 + (tp->t[tp->i] - '0');
		tp->i++;
	}
	if (tp->i == at)
		return tp_fail(tp, at, "expected the %s", what);
	if (x < lo || x > hi)
		return tp_fail(tp, at, "%s %ld is not %d to %d", what, x, lo, hi);
	*v = (int)x;
	return 0;
}

static int tp_add(struct tparse *tp, const char *name, enum ts_pq_kind k, enum ts_pq_rep rep,
		  int parent)
{
	if (ts_pq_schema_add(tp->s, name, k, rep, parent) < 0)
		return tp_oom(tp);
	return (int)tp->s->nn - 1;
}

/* A struct field's name into tp->name: `quoted` (`` a backquote) or a run
 * of anything but the type string's punctuation and whitespace. */
static int tp_field_name(struct tparse *tp)
{
	size_t at;

	tp_ws(tp);
	at = tp->i;
	ts_buf_reset(&tp->name);
	if (tp->i < tp->n && tp->t[tp->i] == '`') {
		for (tp->i++;; tp->i++) {
			if (tp->i >= tp->n)
				return tp_fail(tp, at, "unterminated `name`");
			if (tp->t[tp->i] == '`') {
				if (tp->i + 1 < tp->n && tp->t[tp->i + 1] == '`')
					tp->i++;
				else
					break;
			}
			if (ts_buf_addch(&tp->name, tp->t[tp->i]) < 0)
				return tp_oom(tp);
		}
		tp->i++;
	} else {
		while (tp->i < tp->n && !strchr(":,<>`() \t\r\n", tp->t[tp->i]))
			tp->i++;
		if (ts_buf_add(&tp->name, tp->t + at, tp->i - at) < 0)
			return tp_oom(tp);
	}
	if (tp->name.len == 0)
		return tp_fail(tp, at, "expected a field name");
	return 0;
}

static int tp_type(struct tparse *tp, const char *name, enum ts_pq_rep rep, int parent);

static int tp_struct(struct tparse *tp, int g)
{
	tp_ws(tp);
	if (tp->i < tp->n && tp->t[tp->i] == '>')
		return tp_fail(tp, tp->i, "a struct needs a field");
	for (;;) {
		size_t at;
		tp_ws(tp);
		at = tp->i;
		if (tp_field_name(tp) < 0)
			return -1;
		for (size_t j = (size_t)g + 1; j < tp->s->nn; j++)
			if (tp->s->n[j].parent == g &&
			    name_eq(tp->s->n[j].name, tp->name.data, tp->name.len, 0))
				return tp_fail(tp, at, "field %s again (names are "
					       "case-insensitive)", tp->name.data);
		if (strlen(tp->name.data) != tp->name.len)
			return tp_fail(tp, at, "a field name with a NUL byte");
		if (tp_expect(tp, ':') < 0)
			return -1;
		/* the name buffer is reused below: copy it into the node first */
		char *fname = strdup(tp->name.data);
		if (!fname)
			return tp_oom(tp);
		int r = tp_type(tp, fname, TS_PQ_OPTIONAL, g);
		free(fname);
		if (r < 0)
			return -1;
		tp_ws(tp);
		if (tp->i < tp->n && tp->t[tp->i] == ',') {
			tp->i++;
			continue;
		}
		return tp_expect(tp, '>');
	}
}

static int tp_type(struct tparse *tp, const char *name, enum ts_pq_rep rep, int parent)
{
	char w[16];
	size_t at, len;
	int idx;

	tp_ws(tp);
	at = tp->i;
	while (tp->i < tp->n && is_ident(tp->t[tp->i]))
		tp->i++;
	len = tp->i - at;
	if (len == 0) {
		if (tp->i >= tp->n)
			return tp_fail(tp, at, "expected a type");
		return tp_fail(tp, at, "expected a type, not '%c'", tp->t[at]);
	}
	if (len >= sizeof(w))
		len = sizeof(w) - 1; /* too long for any type name: unknown */
	for (size_t j = 0; j < len; j++)
		w[j] = (char)lower((unsigned char)tp->t[at + j]);
	w[len] = '\0';
	if (tp->depth >= TYPE_MAX_DEPTH)
		return tp_fail(tp, at, "types nested deeper than %d", TYPE_MAX_DEPTH);
	tp->depth++;

	if (!strcmp(w, "array")) {
		if (tp_expect(tp, '<') < 0 ||
		    (idx = tp_add(tp, name, TS_PQK_ARRAY, rep, parent)) < 0)
			return -1;
		int l = tp_add(tp, "list", TS_PQK_LIST_REPEATED, TS_PQ_REPEATED, idx);
		if (l < 0 || tp_type(tp, "element", TS_PQ_OPTIONAL, l) < 0 ||
		    tp_expect(tp, '>') < 0)
			return -1;
	} else if (!strcmp(w, "map")) {
		if (tp_expect(tp, '<') < 0 ||
		    (idx = tp_add(tp, name, TS_PQK_MAP, rep, parent)) < 0)
			return -1;
		int kv = tp_add(tp, "key_value", TS_PQK_MAP_KEY_VALUE, TS_PQ_REPEATED, idx);
		if (kv < 0)
			return -1;
		tp_ws(tp);
		size_t kat = tp->i;
		int k = (int)tp->s->nn;
		if (tp_type(tp, "key", TS_PQ_REQUIRED, kv) < 0)
			return -1;
		if (tp->s->n[k].kind != TS_PQK_STRING)
			return tp_fail(tp, kat, "map keys must be string, varchar or char "
				       "(JSON keys are strings)");
		if (tp_expect(tp, ',') < 0 || tp_type(tp, "value", TS_PQ_OPTIONAL, kv) < 0 ||
		    tp_expect(tp, '>') < 0)
			return -1;
	} else if (!strcmp(w, "struct")) {
		if (tp_expect(tp, '<') < 0 ||
		    (idx = tp_add(tp, name, TS_PQK_STRUCT, rep, parent)) < 0 ||
		    tp_struct(tp, idx) < 0)
			return -1;
	} else {
		static const struct {
			const char *w;
			enum ts_pq_kind k;
		} prim[] = {
			{"string", TS_PQK_STRING}, {"varchar", TS_PQK_STRING},
			{"char", TS_PQK_STRING}, {"bigint", TS_PQK_BIGINT},
			{"int", TS_PQK_INT}, {"integer", TS_PQK_INT},
			{"smallint", TS_PQK_SMALLINT}, {"tinyint", TS_PQK_TINYINT},
			{"double", TS_PQK_DOUBLE}, {"float", TS_PQK_FLOAT},
			{"real", TS_PQK_FLOAT}, {"boolean", TS_PQK_BOOLEAN},
			{"timestamp", TS_PQK_TIMESTAMP}, {"date", TS_PQK_DATE},
			{"decimal", TS_PQK_DECIMAL}, {"numeric", TS_PQK_DECIMAL},
		};
		size_t j;
		for (j = 0; j < sizeof(prim) / sizeof(prim[0]); j++)
			if (!strcmp(w, prim[j].w))
				break;
		if (j == sizeof(prim) / sizeof(prim[0])) {
			if (!strcmp(w, "binary") || !strcmp(w, "uniontype") ||
			    !strcmp(w, "interval"))
				return tp_fail(tp, at, "type %s is not supported", w);
			return tp_fail(tp, at, "unknown type '%.*s'", (int)(tp->i - at),
				       tp->t + at);
		}
		int p = 10, sc = 0; /* Hive's decimal without arguments */
		tp_ws(tp);
		if (tp->i < tp->n && tp->t[tp->i] == '(') {
			tp->i++;
			if (prim[j].k == TS_PQK_DECIMAL) {
				if (tp_int(tp, "precision", 1, 38, &p) < 0)
					return -1;
				tp_ws(tp);
				if (tp->i < tp->n && tp->t[tp->i] == ',') {
					tp->i++;
					if (tp_int(tp, "scale", 0, p, &sc) < 0)
						return -1;
				}
			} else if (!strcmp(w, "varchar") || !strcmp(w, "char")) {
				int len_;
				if (tp_int(tp, "length", 1, 65535, &len_) < 0)
					return -1;
			} else {
				return tp_fail(tp, tp->i - 1, "%s takes no arguments", w);
			}
			if (tp_expect(tp, ')') < 0)
				return -1;
		}
		if ((idx = tp_add(tp, name, prim[j].k, rep, parent)) < 0)
			return -1;
		tp->s->n[idx].precision = prim[j].k == TS_PQK_DECIMAL ? p : 0;
		tp->s->n[idx].scale = prim[j].k == TS_PQK_DECIMAL ? sc : 0;
	}
	tp->depth--;
	return 0;
}

/* The member of a Glue column object, whatever its case ("Name", "name"). */
static json_t *member(json_t *o, const char *name)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v)
		if (!strcasecmp(k, name))
			return v;
	return NULL;
}

static json_t *glue_columns(json_t *j)
{
	json_t *c;

	if (json_is_array(j))
		return j;
	if (!json_is_object(j))
		return NULL;
	if ((c = member(j, "Columns")))
		return json_is_array(c) ? c : NULL;
	if ((c = member(j, "StorageDescriptor")))
		return glue_columns(c);
	if ((c = member(j, "Table")))
		return glue_columns(c);
	return NULL;
}

int ts_pq_schema_from_glue(struct ts_pq_schema *s, const char *json, size_t n,
			   char *err, size_t errlen)
{
	json_error_t je;
	json_t *j, *cols, *c;
	size_t ci;
	struct tparse tp = {.s = s, .err = err, .errlen = errlen};
	char colname[32];

	ts_pq_schema_init(s);
	ts_buf_init(&tp.name, 1 << 20);
	if (!(j = json_loadb(json, n, 0, &je))) {
		snprintf(err, errlen, "not JSON: %s (line %d, column %d)", je.text, je.line,
			 je.column);
		return -1;
	}
	if (!(cols = glue_columns(j))) {
		snprintf(err, errlen, "expected the columns as [{\"Name\": ..., \"Type\": ...}, ...]");
		goto fail;
	}
	if (json_array_size(cols) == 0) {
		snprintf(err, errlen, "no columns");
		goto fail;
	}
	if (ts_pq_schema_add(s, "schema", TS_PQK_STRUCT, TS_PQ_REQUIRED, -1) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	json_array_foreach(cols, ci, c) {
		json_t *jn = json_is_object(c) ? member(c, "Name") : NULL;
		json_t *jt = json_is_object(c) ? member(c, "Type") : NULL;
		const char *name = json_string_value(jn);

		snprintf(colname, sizeof(colname), "%zu", ci + 1);
		if (!name) {
			snprintf(err, errlen, "column %s: expected an object with a \"Name\" string",
				 colname);
			goto fail;
		}
		if (!*name) {
			snprintf(err, errlen, "column %s: an empty name", colname);
			goto fail;
		}
		if (!json_is_string(jt)) {
			snprintf(err, errlen, "column %s: expected a \"Type\" string", name);
			goto fail;
		}
		for (size_t k = 1; k < s->nn; k++)
			if (s->n[k].parent == 0 && name_eq(s->n[k].name, name, strlen(name), 0)) {
				snprintf(err, errlen, "column %s: the same name as column %s "
					 "(names are case-insensitive)", name, s->n[k].name);
				goto fail;
			}
		tp.col = name;
		tp.t = json_string_value(jt);
		tp.n = json_string_length(jt);
		tp.i = 0;
		tp.depth = 0;
		if (tp_type(&tp, name, TS_PQ_OPTIONAL, 0) < 0)
			goto fail;
		tp_ws(&tp);
		if (tp.i < tp.n) {
			tp_fail(&tp, tp.i, "unexpected '%c' after the type", tp.t[tp.i]);
			goto fail;
		}
	}
	if (ts_pq_schema_finish(s, err, errlen) < 0)
		goto fail;
	json_decref(j);
	ts_buf_release(&tp.name);
	return 0;
fail:
	json_decref(j);
	ts_buf_release(&tp.name);
	ts_pq_schema_release(s);
	return -1;
}

/* --- printing a schema back --------------------------------------------- */

static int plain_name(const char *p)
{
	if (!*p)
		return 0;
	for (; *p; p++)
		if (!is_ident(*p))
			return 0;
	return 1;
}

/* The Hive type of node i into out; returns the node past its subtree, or
 * -1 (out of memory, or not a layout this module builds). */
static int type_str(const struct ts_pq_schema *s, int i, struct ts_buf *out)
{
	const struct ts_pq_node *n = &s->n[i];
	int j, r = 0;

	switch (n->kind) {
	case TS_PQK_DECIMAL:
		return ts_buf_addf(out, "decimal(%d,%d)", n->precision, n->scale) < 0 ? -1 : i + 1;
	case TS_PQK_STRUCT:
		r |= ts_buf_addstr(out, "struct<");
		j = i + 1;
		for (int c = 0; c < n->nchildren && j > 0; c++) {
			const char *name = s->n[j].name;
			if (c)
				r |= ts_buf_addch(out, ',');
			if (plain_name(name)) {
				r |= ts_buf_addstr(out, name);
			} else {
				r |= ts_buf_addch(out, '`');
				for (; *name; name++)
					r |= *name == '`' ? ts_buf_addstr(out, "``")
							  : ts_buf_addch(out, *name);
				r |= ts_buf_addch(out, '`');
			}
			r |= ts_buf_addch(out, ':');
			j = type_str(s, j, out);
		}
		r |= ts_buf_addch(out, '>');
		return r < 0 || j < 0 ? -1 : j;
	case TS_PQK_ARRAY:
		if (n->nchildren != 1 || (size_t)i + 2 >= s->nn ||
		    s->n[i + 1].kind != TS_PQK_LIST_REPEATED || s->n[i + 1].nchildren != 1)
			return -1;
		r |= ts_buf_addstr(out, "array<");
		j = type_str(s, i + 2, out);
		r |= ts_buf_addch(out, '>');
		return r < 0 || j < 0 ? -1 : j;
	case TS_PQK_MAP:
		if (n->nchildren != 1 || (size_t)i + 2 >= s->nn ||
		    s->n[i + 1].kind != TS_PQK_MAP_KEY_VALUE || s->n[i + 1].nchildren != 2)
			return -1;
		r |= ts_buf_addstr(out, "map<");
		j = type_str(s, i + 2, out);
		r |= ts_buf_addch(out, ',');
		if (j > 0)
			j = type_str(s, j, out);
		r |= ts_buf_addch(out, '>');
		return r < 0 || j < 0 ? -1 : j;
	case TS_PQK_LIST_REPEATED:
	case TS_PQK_MAP_KEY_VALUE:
		return -1;
	default:
		return ts_buf_addstr(out, kind_name(n->kind)) < 0 ? -1 : i + 1;
	}
}

int ts_pq_schema_to_glue(const struct ts_pq_schema *s, struct ts_buf *out)
{
	struct ts_buf t;
	int j = 1, r = 0;

	if (s->nn == 0)
		return -1;
	ts_buf_init(&t, 0);
	r |= ts_buf_addch(out, '[');
	for (int c = 0; c < s->n[0].nchildren && j > 0; c++) {
		ts_buf_reset(&t);
		if (c)
			r |= ts_buf_addch(out, ',');
		r |= ts_buf_addstr(out, "{\"Name\":");
		r |= ts_json_escape(out, s->n[j].name, strlen(s->n[j].name));
		r |= ts_buf_addstr(out, ",\"Type\":");
		j = type_str(s, j, &t);
		r |= ts_json_escape(out, t.data, t.len);
		r |= ts_buf_addch(out, '}');
	}
	r |= ts_buf_addch(out, ']');
	ts_buf_release(&t);
	return r < 0 || j < 0 ? -1 : 0;
}

/* --- exact numbers ---------------------------------------------------------- */

#define NUM_BAD (-1)     /* not a number */
#define NUM_RANGE (-2)   /* 10^38 or more (scaled) */
#define NUM_INEXACT (-3) /* more decimals than the scale */

/*
 * The number written in t (n bytes: JSON's grammar, leading zeros allowed)
 * times 10^scale, exactly, into *v: 0, or NUM_*.  With trunc, decimals past
 * the scale are cut off (towards zero) instead of NUM_INEXACT.
 */
static int exact_num(const char *t, size_t n, int scale, int trunc, __int128 *v)
{
	size_t i = 0, ip, in, fp = 0, fn = 0;
	long long e = 0;
	int neg = 0;

	if (i < n && t[i] == '-') {
		neg = 1;
		i++;
	}
	ip = i;
	while (i < n && t[i] >= '0' && t[i] <= '9')
		i++;
	in = i - ip;
	if (in == 0)
		return NUM_BAD;
	if (i < n && t[i] == '.') {
		fp = ++i;
		while (i < n && t[i] >= '0' && t[i] <= '9')
			i++;
		fn = i - fp;
		if (fn == 0)
			return NUM_BAD;
	}
	if (i < n && (t[i] == 'e' || t[i] == 'E')) {
		int eneg = 0;
		size_t es;
		i++;
		if (i < n && (t[i] == '+' || t[i] == '-'))
			eneg = t[i++] == '-';
		es = i;
		while (i < n && t[i] >= '0' && t[i] <= '9') {
			if (e < 1000000000)
				e = e * 10 + (t[i] - '0');
			i++;
		}
		if (i == es)
			return NUM_BAD;
		if (eneg)
			e = -e;
	}
	if (i != n)
		return NUM_BAD;

	/* the digits D = integer part then fraction; value = D * 10^k */
	size_t nd = in + fn, lo = 0, hi = nd;
#define DIGIT(j) ((j) < in ? t[ip + (j)] : t[fp + (j) - in])
	long long k = e - (long long)fn + scale;
	while (hi > lo && DIGIT(hi - 1) == '0') {
		hi--;
		k++;
	}
	while (lo < hi && DIGIT(lo) == '0')
		lo++;
	*v = 0;
	if (lo == hi)
		return 0;
	if (k < 0) {
		if (!trunc)
			return NUM_INEXACT;
		if ((unsigned long long)-k >= hi - lo)
			return 0;
		hi -= (size_t)-k;
		k = 0;
	}
	if ((long long)(hi - lo) + k > 38)
		return NUM_RANGE;
	__int128 x = 0;
	for (size_t j = lo; j < hi; j++)
		x = x * 10 + (DIGIT(j) - '0');
#undef DIGIT
	for (long long j = 0; j < k; j++)
		x *= 10;
	*v = neg ? -x : x;
	return 0;
}

/* Does t hold a number in JSON's grammar (leading zeros allowed)? */
static int is_number(const char *t, size_t n)
{
	__int128 v;
	return exact_num(t, n, 0, 1, &v) != NUM_BAD;
}

static int is_integer_text(struct ts_span v)
{
	return !memchr(v.p, '.', v.n) && !memchr(v.p, 'e', v.n) && !memchr(v.p, 'E', v.n);
}

/* strtod of n bytes; 0, or -1 when it is no finite double. */
static int to_double(const char *t, size_t n, double *d)
{
	char tmp[128];
	char *heap = NULL, *s = tmp, *end;

	if (n >= sizeof(tmp)) {
		if (!(heap = malloc(n + 1)))
			return -1;
		s = heap;
	}
	memcpy(s, t, n);
	s[n] = '\0';
	*d = strtod(s, &end);
	free(heap);
	return isinf(*d) ? -1 : 0;
}

/* --- inference --------------------------------------------------------------- */

enum itype { IT_NONE, IT_BOOL, IT_BIGINT, IT_DOUBLE, IT_STRING, IT_STRUCT, IT_ARRAY };

struct ifield;
struct inode {
	enum itype t;
	struct inode *elem;  /* IT_ARRAY */
	struct ifield *f;    /* IT_STRUCT: fields in order of first appearance */
	size_t nf, cap;
};
struct ifield {
	char *name;
	size_t len;
	struct inode ty;
};

struct ts_pq_infer {
	struct inode root;
	struct ts_buf tmp;
	int oom;
};

static void inode_release(struct inode *n)
{
	if (n->elem) {
		inode_release(n->elem);
		free(n->elem);
	}
	for (size_t i = 0; i < n->nf; i++) {
		free(n->f[i].name);
		inode_release(&n->f[i].ty);
	}
	free(n->f);
	memset(n, 0, sizeof(*n));
}

/* A conflict: the column takes anything as text. */
static void to_string(struct inode *n)
{
	inode_release(n);
	n->t = IT_STRING;
}

static void infer_value(struct ts_pq_infer *inf, struct inode *n, struct ts_span v, int depth);

static void infer_object(struct ts_pq_infer *inf, struct inode *n, struct ts_span v, int depth)
{
	struct ts_json_iter it;
	struct ts_span k, mv;

	ts_json_iter_init(&it, v);
	while (ts_json_obj_next(&it, &k, &mv)) {
		const char *name = k.p + 1;
		size_t len = k.n - 2, i;

		if (ts_json_str_has_escape(k)) {
			ts_buf_reset(&inf->tmp);
			if (ts_json_unescape(&inf->tmp, k) < 0) {
				inf->oom = 1;
				return;
			}
			name = inf->tmp.data;
			len = inf->tmp.len;
		}
		/* no column can have an empty name or one with a NUL: such
		 * members are dropped when shredded */
		if (len == 0 || memchr(name, '\0', len))
			continue;
		for (i = 0; i < n->nf; i++)
			if (name_eq(n->f[i].name, name, len, 0))
				break;
		if (i == n->nf) {
			if (n->nf == n->cap) {
				size_t cap = n->cap ? n->cap * 2 : 8;
				struct ifield *f = realloc(n->f, cap * sizeof(*f));
				if (!f) {
					inf->oom = 1;
					return;
				}
				n->f = f;
				n->cap = cap;
			}
			struct ifield *f = &n->f[n->nf];
			memset(f, 0, sizeof(*f));
			if (!(f->name = malloc(len + 1))) {
				inf->oom = 1;
				return;
			}
			memcpy(f->name, name, len);
			f->name[len] = '\0';
			f->len = len;
			n->nf++;
		}
		infer_value(inf, &n->f[i].ty, mv, depth + 1);
		if (inf->oom)
			return;
	}
}

static void infer_value(struct ts_pq_infer *inf, struct inode *n, struct ts_span v, int depth)
{
	enum itype want;

	if (inf->oom || n->t == IT_STRING || *v.p == 'n')
		return; /* null decides nothing; a string takes anything */
	switch (*v.p) {
	case '"':
		want = IT_STRING;
		break;
	case 't':
	case 'f':
		want = IT_BOOL;
		break;
	case '{':
		want = IT_STRUCT;
		break;
	case '[':
		want = IT_ARRAY;
		break;
	default: {
		__int128 x;
		double d;
		/* integers past 64 bits are doubles; numbers past a double's
		 * range only fit a string column */
		if (to_double(v.p, v.n, &d) < 0)
			want = IT_STRING;
		else if (is_integer_text(v) && exact_num(v.p, v.n, 0, 0, &x) == 0 &&
			 x >= INT64_MIN && x <= INT64_MAX)
			want = IT_BIGINT;
		else
			want = IT_DOUBLE;
	}
	}
	if ((want == IT_STRUCT || want == IT_ARRAY) && depth >= INFER_MAX_DEPTH)
		want = IT_STRING;
	if (n->t == IT_NONE) {
		n->t = want;
	} else if (n->t == IT_BIGINT && want == IT_DOUBLE) {
		n->t = IT_DOUBLE;
	} else if (n->t == IT_DOUBLE && want == IT_BIGINT) {
		;
	} else if (n->t != want) {
		to_string(n);
		return;
	}
	if (want == IT_STRUCT) {
		infer_object(inf, n, v, depth);
	} else if (want == IT_ARRAY) {
		/* an empty array says it is an array, not of what */
		struct ts_json_iter it;
		struct ts_span ev;
		if (!n->elem && !(n->elem = calloc(1, sizeof(*n->elem)))) {
			inf->oom = 1;
			return;
		}
		ts_json_iter_init(&it, v);
		while (ts_json_arr_next(&it, &ev) && !inf->oom)
			infer_value(inf, n->elem, ev, depth + 1);
	}
}

struct ts_pq_infer *ts_pq_infer_new(void)
{
	struct ts_pq_infer *inf = calloc(1, sizeof(*inf));

	if (inf) {
		inf->root.t = IT_STRUCT;
		ts_buf_init(&inf->tmp, 0);
	}
	return inf;
}

int ts_pq_infer_add(struct ts_pq_infer *inf, struct ts_span rec)
{
	if (!rec.n || *rec.p != '{') {
		errno = EINVAL;
		return -1;
	}
	infer_object(inf, &inf->root, rec, 0);
	if (inf->oom) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/*
 * Note: strings are never inferred as timestamps or dates (nor numbers as
 * decimals): guessing from a sample would turn a later record that does
 * not parse into an error record.  A schema file is the way to get them.
 */
static int infer_build(struct ts_pq_schema *s, const struct inode *n, const char *name,
		       int parent)
{
	int idx;

	switch (n->t) {
	case IT_BOOL:
		return ts_pq_schema_add(s, name, TS_PQK_BOOLEAN, TS_PQ_OPTIONAL, parent);
	case IT_BIGINT:
		return ts_pq_schema_add(s, name, TS_PQK_BIGINT, TS_PQ_OPTIONAL, parent);
	case IT_DOUBLE:
		return ts_pq_schema_add(s, name, TS_PQK_DOUBLE, TS_PQ_OPTIONAL, parent);
	case IT_STRUCT:
		if (n->nf == 0) /* only {}: a group needs a field */
			break;
		if (ts_pq_schema_add(s, name, TS_PQK_STRUCT, TS_PQ_OPTIONAL, parent) < 0)
			return -1;
		idx = (int)s->nn - 1;
		for (size_t i = 0; i < n->nf; i++)
			if (infer_build(s, &n->f[i].ty, n->f[i].name, idx) < 0)
				return -1;
		return 0;
	case IT_ARRAY:
		if (ts_pq_schema_add(s, name, TS_PQK_ARRAY, TS_PQ_OPTIONAL, parent) < 0 ||
		    ts_pq_schema_add(s, "list", TS_PQK_LIST_REPEATED, TS_PQ_REPEATED,
				     (int)s->nn - 1) < 0)
			return -1;
		idx = (int)s->nn - 1;
		if (n->elem)
			return infer_build(s, n->elem, "element", idx);
		return ts_pq_schema_add(s, "element", TS_PQK_STRING, TS_PQ_OPTIONAL, idx);
	case IT_NONE: /* only ever null */
	case IT_STRING:
		break;
	}
	return ts_pq_schema_add(s, name, TS_PQK_STRING, TS_PQ_OPTIONAL, parent);
}

int ts_pq_infer_schema(struct ts_pq_infer *inf, struct ts_pq_schema *s, char *err, size_t errlen)
{
	ts_pq_schema_init(s);
	if (inf->oom) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (inf->root.nf == 0) {
		snprintf(err, errlen, "no columns: the sample records have no members");
		return -1;
	}
	if (ts_pq_schema_add(s, "schema", TS_PQK_STRUCT, TS_PQ_REQUIRED, -1) < 0)
		goto oom;
	for (size_t i = 0; i < inf->root.nf; i++)
		if (infer_build(s, &inf->root.f[i].ty, inf->root.f[i].name, 0) < 0)
			goto oom;
	if (ts_pq_schema_finish(s, err, errlen) < 0) {
		ts_pq_schema_release(s);
		return -1;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	ts_pq_schema_release(s);
	return -1;
}

void ts_pq_infer_free(struct ts_pq_infer *inf)
{
	if (!inf)
		return;
	inode_release(&inf->root);
	ts_buf_release(&inf->tmp);
	free(inf);
}

/* --- shredding ------------------------------------------------------------- */

struct shred {
	const struct ts_pq_schema *s;
	const struct ts_pq_emit *e;
	void *ctx;
	int cs;
	int *end;            /* node -> one past its subtree */
	struct ts_span *val; /* node -> the member a struct gave it */
	struct ts_buf tmp;   /* decoded names and values, minified JSON */
	uint64_t dropped;
	char *why;
	size_t whyn;
};

#define SH_BAD (-1)  /* the record is refused: why says which column */
#define SH_EMIT (-2) /* the emitter failed */

/* The column's path: detail.items[].price, m{} for a map's values. */
static void path(const struct ts_pq_schema *s, int i, struct ts_buf *b)
{
	const struct ts_pq_node *n = &s->n[i];
	const struct ts_pq_node *p = &s->n[n->parent];

	if (n->parent > 0 && p->kind != TS_PQK_LIST_REPEATED && p->kind != TS_PQK_MAP_KEY_VALUE)
		path(s, n->parent, b);
	if (p->kind == TS_PQK_LIST_REPEATED) {
		path(s, p->parent, b);
		ts_buf_addstr(b, "[]");
	} else if (p->kind == TS_PQK_MAP_KEY_VALUE) {
		path(s, p->parent, b);
		ts_buf_addstr(b, strcmp(n->name, "key") ? "{}" : "{key}");
	} else {
		if (n->parent > 0)
			ts_buf_addch(b, '.');
		ts_buf_addstr(b, n->name);
	}
}

/* "column PATH: VALUE WHAT", the value cut at 40 bytes (on a UTF-8
 * boundary). */
static int sh_fail(struct shred *sh, int i, struct ts_span v, const char *what, const char *arg)
{
	struct ts_buf b;
	size_t n = v.n;

	ts_buf_init(&b, 0);
	path(sh->s, i, &b);
	if (n > 40) {
		n = 40;
		while (n > 0 && ((unsigned char)v.p[n] & 0xc0) == 0x80)
			n--;
	}
	snprintf(sh->why, sh->whyn, "column %s: %.*s%s %s%s", b.data, (int)n, v.p,
		 n < v.n ? "..." : "", what, arg ? arg : "");
	ts_buf_release(&b);
	return SH_BAD;
}

static int sh_oom(struct shred *sh)
{
	snprintf(sh->why, sh->whyn, "out of memory");
	return SH_EMIT;
}

static int sh_emitted(struct shred *sh, int r)
{
	if (r < 0) {
		snprintf(sh->why, sh->whyn, "the writer failed");
		return SH_EMIT;
	}
	return 0;
}

/* Every leaf of node i's subtree: null at def, rep. */
static int sh_nulls(struct shred *sh, int i, int def, int rep)
{
	for (int j = i; j < sh->end[i]; j++) {
		int leaf = sh->s->n[j].leaf;
		if (leaf >= 0 && sh->e->null(sh->ctx, leaf, def, rep) < 0)
			return sh_emitted(sh, -1);
	}
	return 0;
}

/* Does the quoted string span hold a backslash?  Inline for the short
 * strings most are: memchr's call costs more than the search. */
static inline int has_escape(struct ts_span v)
{
	if (v.n < 34) {
		for (size_t i = 1; i + 1 < v.n; i++)
			if (v.p[i] == '\\')
				return 1;
		return 0;
	}
	return memchr(v.p + 1, '\\', v.n - 2) != NULL;
}

/* The text of a string or number value: the string's decoded bytes. */
static int scalar_text(struct shred *sh, struct ts_span v, struct ts_span *t)
{
	if (*v.p != '"') {
		*t = v;
		return 0;
	}
	if (!has_escape(v)) {
		t->p = v.p + 1;
		t->n = v.n - 2;
		return 0;
	}
	ts_buf_reset(&sh->tmp);
	if (ts_json_unescape(&sh->tmp, v) < 0)
		return -1;
	t->p = sh->tmp.data;
	t->n = sh->tmp.len;
	return 0;
}

static int is_num_or_str(struct ts_span v)
{
	return *v.p == '"' || *v.p == '-' || (*v.p >= '0' && *v.p <= '9');
}

/* Microseconds since the epoch, UTC, from what --time takes. */
static int to_micros(struct shred *sh, int i, struct ts_span v, int64_t *us)
{
	const char *why;
	int64_t ms;
	__int128 x;
	struct ts_span q = v;

	if (*v.p == '"' && has_escape(v)) {
		/* ts_time_* reads the bytes between the quotes */
		struct ts_span t;
		if (scalar_text(sh, v, &t) < 0 || ts_buf_addch(&sh->tmp, '"') < 0)
			return sh_oom(sh);
		memmove(sh->tmp.data + 1, sh->tmp.data, sh->tmp.len - 1);
		sh->tmp.data[0] = '"';
		if (ts_buf_addch(&sh->tmp, '"') < 0)
			return sh_oom(sh);
		q.p = sh->tmp.data;
		q.n = sh->tmp.len;
	}
	if (ts_time_from_json_unit(q, TS_TIME_AUTO, &ms, &why) < 0)
		return sh_fail(sh, i, v, "is not a ", sh->s->n[i].kind == TS_PQK_DATE
			       ? "date" : "timestamp");
	const char *s = q.p + (*q.p == '"');
	size_t n = q.n - 2 * (*q.p == '"');
	if (*q.p == '"' && strspn(s, "0123456789") < n) {
		/* ISO 8601: milliseconds, plus the fraction's next three digits */
		x = (__int128)ms * 1000;
		if (n > 20 && (s[10] == 'T' || s[10] == 't' || s[10] == ' ') &&
		    (s[19] == '.' || s[19] == ',')) {
			size_t dn = 0;
			int scale = 100;
			while (20 + dn < n && s[20 + dn] >= '0' && s[20 + dn] <= '9')
				dn++;
			for (size_t j = 3; j < dn && j < 6; j++, scale /= 10)
				x += (s[20 + j] - '0') * scale;
		}
	} else {
		/* epoch seconds or milliseconds, exactly, as ts_time tells them apart */
		if (exact_num(s, n, 6, 1, &x) < 0)
			return sh_fail(sh, i, v, "is not a ", "timestamp");
		if (x > (__int128)100000000000 * 1000000 || x < -(__int128)100000000000 * 1000000)
			x /= 1000;
	}
	if (x > INT64_MAX || x < INT64_MIN)
		return sh_fail(sh, i, v, "is out of range for a ", "timestamp");
	*us = (int64_t)x;
	return 0;
}

static int sh_leaf(struct shred *sh, int i, struct ts_span v, int rep)
{
	const struct ts_pq_node *n = &sh->s->n[i];
	const struct ts_pq_emit *e = sh->e;
	struct ts_span t;
	__int128 x;
	int r;

	switch (n->kind) {
	case TS_PQK_STRING:
		if (*v.p == '{' || *v.p == '[') {
			ts_buf_reset(&sh->tmp);
			if (ts_json_minify(&sh->tmp, v) < 0)
				return sh_oom(sh);
			t.p = sh->tmp.data;
			t.n = sh->tmp.len;
		} else if (scalar_text(sh, v, &t) < 0) {
			return sh_oom(sh);
		}
		return sh_emitted(sh, e->bytes(sh->ctx, n->leaf, rep, t.p, t.n));
	case TS_PQK_BIGINT:
	case TS_PQK_INT:
	case TS_PQK_SMALLINT:
	case TS_PQK_TINYINT: {
		static const int64_t lim[] = {INT64_MAX, INT32_MAX, INT16_MAX, INT8_MAX};
		int64_t hi = lim[n->kind - TS_PQK_BIGINT];
		if (!is_num_or_str(v))
			return sh_fail(sh, i, v, "is not a", n->kind == TS_PQK_INT ? "n int"
				       : n->kind == TS_PQK_BIGINT ? " bigint"
				       : n->kind == TS_PQK_SMALLINT ? " smallint" : " tinyint");
		if (scalar_text(sh, v, &t) < 0)
			return sh_oom(sh);
		r = exact_num(t.p, t.n, 0, 0, &x);
		if (r == NUM_BAD || r == NUM_INEXACT)
			return sh_fail(sh, i, v, "is not a", n->kind == TS_PQK_INT ? "n int"
				       : n->kind == TS_PQK_BIGINT ? " bigint"
				       : n->kind == TS_PQK_SMALLINT ? " smallint" : " tinyint");
		if (r == NUM_RANGE || x > hi || x < -(__int128)hi - 1)
			return sh_fail(sh, i, v, "is out of range for ",
				       n->kind == TS_PQK_INT ? "an int" : n->kind == TS_PQK_BIGINT
				       ? "a bigint" : n->kind == TS_PQK_SMALLINT ? "a smallint"
				       : "a tinyint");
		if (n->kind == TS_PQK_BIGINT)
			return sh_emitted(sh, e->i64(sh->ctx, n->leaf, rep, (int64_t)x));
		return sh_emitted(sh, e->i32(sh->ctx, n->leaf, rep, (int32_t)x));
	}
	case TS_PQK_DOUBLE:
	case TS_PQK_FLOAT: {
		const char *tn = n->kind == TS_PQK_DOUBLE ? "double" : "float";
		double d;
		if (!is_num_or_str(v))
			return sh_fail(sh, i, v, "is not a ", tn);
		if (scalar_text(sh, v, &t) < 0)
			return sh_oom(sh);
		if (*v.p == '"' && t.n == 3 && !memcmp(t.p, "NaN", 3))
			d = NAN;
		else if (*v.p == '"' && t.n == 8 && !memcmp(t.p, "Infinity", 8))
			d = INFINITY;
		else if (*v.p == '"' && t.n == 9 && !memcmp(t.p, "-Infinity", 9))
			d = -INFINITY;
		else if (!is_number(t.p, t.n))
			return sh_fail(sh, i, v, "is not a ", tn);
		else if (to_double(t.p, t.n, &d) < 0 ||
			 (n->kind == TS_PQK_FLOAT && (d > FLT_MAX || d < -FLT_MAX)))
			return sh_fail(sh, i, v, "is out of range for a ", tn);
		if (n->kind == TS_PQK_DOUBLE)
			return sh_emitted(sh, e->f64(sh->ctx, n->leaf, rep, d));
		return sh_emitted(sh, e->f32(sh->ctx, n->leaf, rep, (float)d));
	}
	case TS_PQK_BOOLEAN: {
		int b;
		if (*v.p == 't' || *v.p == 'f') {
			b = *v.p == 't';
		} else if (*v.p == '"') {
			if (scalar_text(sh, v, &t) < 0)
				return sh_oom(sh);
			if (t.n == 4 && !strncasecmp(t.p, "true", 4))
				b = 1;
			else if (t.n == 5 && !strncasecmp(t.p, "false", 5))
				b = 0;
			else
				return sh_fail(sh, i, v, "is not a ", "boolean");
		} else {
			return sh_fail(sh, i, v, "is not a ", "boolean");
		}
		return sh_emitted(sh, e->boolean(sh->ctx, n->leaf, rep, b));
	}
	case TS_PQK_TIMESTAMP:
	case TS_PQK_DATE: {
		int64_t us = 0;
		if (!is_num_or_str(v))
			return sh_fail(sh, i, v, "is not a ", n->kind == TS_PQK_DATE ? "date"
				       : "timestamp");
		if ((r = to_micros(sh, i, v, &us)) < 0)
			return r;
		if (n->kind == TS_PQK_TIMESTAMP)
			return sh_emitted(sh, e->i64(sh->ctx, n->leaf, rep, us));
		int64_t day = 86400LL * 1000000;
		int64_t days = us >= 0 ? us / day : -((-(us + 1)) / day) - 1;
		if (days > INT32_MAX || days < INT32_MIN)
			return sh_fail(sh, i, v, "is out of range for a ", "date");
		return sh_emitted(sh, e->i32(sh->ctx, n->leaf, rep, (int32_t)days));
	}
	case TS_PQK_DECIMAL: {
		char ty[32];
		snprintf(ty, sizeof(ty), "decimal(%d,%d)", n->precision, n->scale);
		if (!is_num_or_str(v))
			return sh_fail(sh, i, v, "is not a ", ty);
		if (scalar_text(sh, v, &t) < 0)
			return sh_oom(sh);
		r = exact_num(t.p, t.n, n->scale, 0, &x);
		if (r == NUM_BAD)
			return sh_fail(sh, i, v, "is not a ", ty);
		if (r == NUM_INEXACT)
			return sh_fail(sh, i, v, "has too many decimals for ", ty);
		__int128 lim = 1;
		for (int j = 0; j < n->precision; j++)
			lim *= 10;
		if (r == NUM_RANGE || x >= lim || x <= -lim)
			return sh_fail(sh, i, v, "has too many digits for ", ty);
		if (n->phys == TS_PQ_INT32)
			return sh_emitted(sh, e->i32(sh->ctx, n->leaf, rep, (int32_t)x));
		if (n->phys == TS_PQ_INT64)
			return sh_emitted(sh, e->i64(sh->ctx, n->leaf, rep, (int64_t)x));
		unsigned char be[32];
		unsigned __int128 u = (unsigned __int128)x;
		int len = n->type_length;
		if (len < 1 || len > (int)sizeof(be))
			return sh_fail(sh, i, v, "cannot be written: ", "bad type_length");
		for (int b = 0; b < len; b++)
			be[len - 1 - b] = b < 16 ? (unsigned char)(u >> (8 * b)) : x < 0 ? 0xff : 0;
		return sh_emitted(sh, e->bytes(sh->ctx, n->leaf, rep, be, (size_t)len));
	}
	default:
		return sh_fail(sh, i, v, "cannot be written: ", "not a leaf");
	}
}

static int sh_node(struct shred *sh, int i, struct ts_span v, int rep);

/* The child of group g named name (n bytes), or -1.  Members mostly come in
 * the columns' order: look from cur (the one after the last found), round
 * to it.  raw: name is a key's bytes between its quotes, where a backslash
 * never matches (it is an escape: the key is decoded and looked up again). */
static int find_child(struct shred *sh, int g, int cur, const char *name, size_t n, int raw)
{
	const struct ts_pq_node *nodes = sh->s->n;
	int first = g + 1, end = sh->end[g], c = cur;

	do {
		if (name_eq(nodes[c].name, name, n, sh->cs)) {
			if (!raw)
				return c;
			size_t i = 0;
			while (i < n && name[i] != '\\')
				i++;
			if (i == n)
				return c;
		}
		if ((c = sh->end[c]) >= end)
			c = first;
	} while (c != cur);
	return -1;
}

/* The members of object v into the children of group g. */
static int sh_struct(struct shred *sh, int g, struct ts_span v, int rep)
{
	int first = g + 1, end = sh->end[g], cur = first;
	struct ts_json_iter it;
	struct ts_span k, mv;
	int r;

	for (int c = first; c < end; c = sh->end[c])
		sh->val[c].p = NULL;
	ts_json_iter_init(&it, v);
	while (ts_json_obj_next(&it, &k, &mv)) {
		int c = find_child(sh, g, cur, k.p + 1, k.n - 2, 1);

		if (c < 0 && has_escape(k)) {
			/* an escaped name: decoded, it may still be a column's */
			ts_buf_reset(&sh->tmp);
			if (ts_json_unescape(&sh->tmp, k) < 0)
				return sh_oom(sh);
			c = find_child(sh, g, cur, sh->tmp.data, sh->tmp.len, 0);
		}
		if (c < 0) {
			sh->dropped++;
			continue;
		}
		sh->val[c] = mv; /* a later duplicate wins */
		cur = sh->end[c] >= end ? first : sh->end[c];
	}
	for (int c = first; c < end; c = sh->end[c])
		if ((r = sh_node(sh, c, sh->val[c], rep)) < 0)
			return r;
	return 0;
}

/* Is the member key at it's current position repeated later in the object? */
static int key_again(struct shred *sh, struct ts_json_iter it, struct ts_span k)
{
	struct ts_span k2, v2;
	int esc = ts_json_str_has_escape(k);

	while (ts_json_obj_next(&it, &k2, &v2)) {
		if (k2.n == k.n && !memcmp(k2.p, k.p, k.n))
			return 1;
		if (esc || ts_json_str_has_escape(k2)) {
			ts_buf_reset(&sh->tmp);
			if (ts_json_unescape(&sh->tmp, k) < 0)
				return -1;
			if (ts_json_key_eq(k2, sh->tmp.data, sh->tmp.len))
				return 1;
		}
	}
	return 0;
}

static int sh_node(struct shred *sh, int i, struct ts_span v, int rep)
{
	const struct ts_pq_schema *s = sh->s;
	const struct ts_pq_node *n = &s->n[i];
	struct ts_json_iter it;
	struct ts_span k, ev;
	int r, count = 0;

	if (!v.p || *v.p == 'n') {
		if (n->rep == TS_PQ_REQUIRED)
			return sh_fail(sh, i, (struct ts_span){"null", 4}, "in a required field", NULL);
		return sh_nulls(sh, i, s->n[n->parent].max_def, rep);
	}
	switch (n->kind) {
	case TS_PQK_STRUCT:
		if (*v.p != '{')
			return sh_fail(sh, i, v, "is not a struct", NULL);
		return sh_struct(sh, i, v, rep);
	case TS_PQK_ARRAY: {
		if (*v.p != '[')
			return sh_fail(sh, i, v, "is not an array", NULL);
		if (n->nchildren != 1 || s->n[i + 1].kind != TS_PQK_LIST_REPEATED ||
		    s->n[i + 1].nchildren != 1)
			return sh_fail(sh, i, v, "cannot be written: ", "not the LIST layout");
		int lrep = s->n[i + 1].max_rep;
		ts_json_iter_init(&it, v);
		while (ts_json_arr_next(&it, &ev))
			if ((r = sh_node(sh, i + 2, ev, count++ ? lrep : rep)) < 0)
				return r;
		return count ? 0 : sh_nulls(sh, i, n->max_def, rep);
	}
	case TS_PQK_MAP: {
		if (*v.p != '{')
			return sh_fail(sh, i, v, "is not a map", NULL);
		if (n->nchildren != 1 || s->n[i + 1].kind != TS_PQK_MAP_KEY_VALUE ||
		    s->n[i + 1].nchildren != 2 || s->n[i + 2].leaf < 0 ||
		    s->n[i + 2].phys != TS_PQ_BYTE_ARRAY)
			return sh_fail(sh, i, v, "cannot be written: ", "not the MAP layout");
		int kvrep = s->n[i + 1].max_rep, key = i + 2, val = sh->end[key];
		ts_json_iter_init(&it, v);
		while (ts_json_obj_next(&it, &k, &ev)) {
			struct ts_span t;
			int r2 = count ? kvrep : rep;
			if ((r = key_again(sh, it, k)) < 0)
				return sh_oom(sh);
			if (r)
				continue; /* the last duplicate wins */
			if (scalar_text(sh, k, &t) < 0)
				return sh_oom(sh);
			if (sh->e->bytes(sh->ctx, s->n[key].leaf, r2, t.p, t.n) < 0)
				return sh_emitted(sh, -1);
			if ((r = sh_node(sh, val, ev, r2)) < 0)
				return r;
			count++;
		}
		return count ? 0 : sh_nulls(sh, i, n->max_def, rep);
	}
	case TS_PQK_LIST_REPEATED:
	case TS_PQK_MAP_KEY_VALUE:
		return sh_fail(sh, i, v, "cannot be written: ", "a misplaced repeated group");
	default:
		return sh_leaf(sh, i, v, rep);
	}
}

int ts_pq_shred_to(const struct ts_pq_schema *s, const struct ts_pq_emit *e, void *ctx,
		   struct ts_span rec, int case_sensitive, uint64_t *dropped, char *why,
		   size_t whyn)
{
	enum { STACK_NODES = 256 };
	int end_s[STACK_NODES];
	struct ts_span val_s[STACK_NODES];
	struct shred sh = {
		.s = s, .e = e, .ctx = ctx, .cs = case_sensitive, .why = why, .whyn = whyn,
		.end = end_s, .val = val_s,
	};
	int r;

	if (s->nn < 2 || !s->leaf_node) {
		snprintf(why, whyn, "the schema is not finished");
		return -2;
	}
	if (!rec.n || *rec.p != '{') {
		snprintf(why, whyn, "the record is not an object");
		e->row_abort(ctx);
		return -1;
	}
	if (s->nn > STACK_NODES) {
		sh.end = malloc(s->nn * sizeof(*sh.end));
		sh.val = malloc(s->nn * sizeof(*sh.val));
		if (!sh.end || !sh.val) {
			free(sh.end);
			free(sh.val);
			snprintf(why, whyn, "out of memory");
			return -2;
		}
	}
	ts_buf_init(&sh.tmp, 0);
	subtree_ends(s, sh.end);
	r = sh_struct(&sh, 0, rec, 0);
	if (r == 0)
		r = sh_emitted(&sh, e->row_end(ctx));
	else
		e->row_abort(ctx);
	if (r == 0 && dropped)
		*dropped += sh.dropped;
	ts_buf_release(&sh.tmp);
	if (sh.end != end_s) {
		free(sh.end);
		free(sh.val);
	}
	return r;
}

static int w_null(void *c, int leaf, int def, int rep)
{
	return ts_pq_add_null(c, leaf, def, rep);
}
static int w_bool(void *c, int leaf, int rep, int v)
{
	return ts_pq_add_bool(c, leaf, rep, v);
}
static int w_i32(void *c, int leaf, int rep, int32_t v)
{
	return ts_pq_add_i32(c, leaf, rep, v);
}
static int w_i64(void *c, int leaf, int rep, int64_t v)
{
	return ts_pq_add_i64(c, leaf, rep, v);
}
static int w_f32(void *c, int leaf, int rep, float v)
{
	return ts_pq_add_float(c, leaf, rep, v);
}
static int w_f64(void *c, int leaf, int rep, double v)
{
	return ts_pq_add_double(c, leaf, rep, v);
}
static int w_bytes(void *c, int leaf, int rep, const void *p, size_t n)
{
	return ts_pq_add_bytes(c, leaf, rep, p, n);
}
static int w_end(void *c)
{
	return ts_pq_row_end(c);
}
static void w_abort(void *c)
{
	ts_pq_row_abort(c);
}

const struct ts_pq_emit ts_pq_emit_writer = {
	.null = w_null, .boolean = w_bool, .i32 = w_i32, .i64 = w_i64,
	.f32 = w_f32, .f64 = w_f64, .bytes = w_bytes,
	.row_end = w_end, .row_abort = w_abort,
};

int ts_pq_shred(const struct ts_pq_schema *s, struct ts_pq_writer *w, struct ts_span rec,
		int case_sensitive, uint64_t *dropped, char *why, size_t whyn)
{
	int r;

	why[0] = '\0';
	r = ts_pq_shred_to(s, &ts_pq_emit_writer, w, rec, case_sensitive, dropped, why, whyn);
	if (r == SH_EMIT && ts_pq_error(w))
		snprintf(why, whyn, "%s", ts_pq_error(w));
	return r;
}
