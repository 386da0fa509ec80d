/*
 * dq.c — one pass over the records feeding each rule's accumulators, then
 * one result per rule (see dq.h).
 *
 * Every leaf rule (and analyzer) gets a struct leaf: its columns (indexes
 * into the ruleset's column table, so each column is looked up once per
 * record however many rules read it), its where predicate, its condition's
 * operands evaluated once up front, and only the accumulators its type
 * needs.  Composite rules are evaluated from their leaves.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "distinct.h"
#include "dq.h"
#include "dqfile.h"
#include "dqsql.h"
#include "exact.h"
#include "hash.h"
#include "jpath.h"
#include "tstime.h"
#include "util.h"
#include "value.h"
#include "where.h"

#define MAX_COLS_PER_RULE 16
#define MAX_NAMES 100000 /* distinct top-level keys kept for ColumnCount */
#define DAY_MS 86400000.0
#define STATE_MAGIC "ts-validate state 1\n"

/* what a leaf accumulates */
enum {
	A_NONNULL = 1 << 0, /* rows, non-null values */
	A_NUM = 1 << 1,     /* exact sums, min, max of numeric values */
	A_SET = 1 << 2,     /* value multiset */
	A_LEN = 1 << 3,     /* min/max length */
	A_OK = 1 << 4,      /* rows satisfying the row condition */
	A_CORR = 1 << 5,    /* sums of two columns and their product */
	A_SQL = 1 << 6,     /* the rows go to SQLite */
};

struct col {
	char *name;
	size_t n;
	int dotted;           /* name has a '.': a path when the key is absent */
	struct ts_jpath path;
};

struct leaf {
	const struct ts_dq_rule *r;
	enum ts_dq_type t;    /* the type measured (DetectAnomalies: the inner one) */
	int anomalies;        /* DetectAnomalies over t */
	int is_analyzer;
	char *desc;
	char name[32];
	int c[MAX_COLS_PER_RULE];
	size_t nc;
	const char *ref;      /* reference dataset alias */
	int refi;
	struct ts_where *where;
	unsigned acc;
	int row_level;        /* decides a row outcome */

	/* the row condition, evaluated once */
	const struct ts_dq_cond *rc;
	double *ov;
	size_t nov;
	int has_null;         /* NULL among the operands */
	int day;              /* compare dates by day */
	regex_t re;
	int have_re;
	char cerr[256];       /* the condition cannot be evaluated */
	int data_type;        /* ColumnDataType: which */

	/* accumulators */
	uint64_t rows, nonnull, ok, checked, nonnum;
	uint64_t cnn[MAX_COLS_PER_RULE]; /* IsPrimaryKey: non-null per column */
	struct ts_exact *s;   /* Σx Σx² (Σy Σy² Σxy) */
	double min, max;
	uint64_t nminmax;
	uint64_t minlen, maxlen, nlen;
	struct ts_distinct *set;
	int row;              /* this record: 1 pass, 0 fail, -1 skip */

	/* reference datasets (refi: index into opts.refs) */
	char *rcol[MAX_COLS_PER_RULE]; /* the reference's key/compare columns */
	size_t nrc;
	size_t nkey;          /* DatasetMatch: the first nkey of c[]/rcol[] are keys */
	struct ts_htab rkeys; /* key tuple -> row hash (DatasetMatch) or 1 */
	uint64_t rrows;       /* rows of the reference */
	struct ts_htab rnames;/* SchemaMatch: the reference's keys -> types */
	struct agg {
		char func[8];
		int refi;     /* -1: the primary dataset */
		char *col;
		int c;        /* primary: column index */
		struct ts_exact s;
		uint64_t n;
		double min, max;
	} agg[2];
};

struct hist_metric {
	char *name;
	double *v;            /* most recent first */
	size_t n;
};

struct ref {
	const char *alias;
	uint64_t rows;
	struct ts_htab names;     /* key -> JSON types seen (bits) */
	struct ts_htab keys;      /* ReferentialIntegrity / DatasetMatch keys */
};

struct ts_dq {
	const struct ts_dq_ruleset *rs;
	struct ts_dq_opts o;
	struct col *cols;
	size_t ncols;
	struct leaf *leaves;
	size_t nleaves;
	struct ts_span *val;      /* this record's value of each column */
	uint64_t rows;
	int want_names;
	struct ts_htab names;     /* top-level keys -> JSON types seen */
	int names_overflow;
	struct ts_dqsql *sql;
	int sql_failed;
	char sql_err[256];
	int merged;               /* states were merged: no rows for SQL */
	struct ts_buf tmp, key;
	struct hist_metric *hist;
	size_t nhist;
	struct ts_dq_ref *refs;
	char **tdesc;             /* each top-level rule's text */
	const char **rp, **rf, **rsk;
	size_t npass, nfail, nskip;
	struct ts_dq_env env;
	char err[600];
};

/* --- small helpers --------------------------------------------------------- */

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		abort();
	return d;
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);
	if (!p)
		abort();
	return p;
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

static int col_index(struct ts_dq *q, const char *name, size_t n)
{
	for (size_t i = 0; i < q->ncols; i++)
		if (q->cols[i].n == n && !memcmp(q->cols[i].name, name, n))
			return (int)i;
	q->cols = realloc(q->cols, (q->ncols + 1) * sizeof(*q->cols));
	if (!q->cols)
		abort();
	struct col *c = &q->cols[q->ncols];
	memset(c, 0, sizeof(*c));
	c->name = malloc(n + 1);
	if (!c->name)
		abort();
	memcpy(c->name, name, n);
	c->name[n] = '\0';
	c->n = n;
	if (memchr(name, '.', n)) {
		struct ts_buf p;
		char e[128];
		ts_buf_init(&p, 0);
		/* a.b.c → ."a"."b"."c": any character but the dot may be in a key */
		const char *s = name, *end = name + n;
		while (s <= end) {
			const char *d = memchr(s, '.', (size_t)(end - s));
			if (!d)
				d = end;
			ts_buf_addch(&p, '.');
			ts_json_escape(&p, s, (size_t)(d - s));
			s = d + 1;
		}
		if (ts_jpath_parse(&c->path, p.data, e, sizeof(e)) == 0)
			c->dotted = 1;
		ts_buf_release(&p);
	}
	return (int)q->ncols++;
}

/* Split "a,b , c" into columns of the leaf. */
static int add_col_list(struct ts_dq *q, struct leaf *l, const char *s, size_t n)
{
	const char *end = s + n;

	while (s <= end) {
		const char *d = memchr(s, ',', (size_t)(end - s));
		if (!d)
			d = end;
		const char *a = s, *b = d;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if (l->nc == MAX_COLS_PER_RULE)
			return -1;
		l->c[l->nc++] = col_index(q, a, (size_t)(b - a));
		s = d + 1;
	}
	return 0;
}

/* Does the record value v count as NULL? */
static int is_null(struct ts_span v)
{
	return v.n == 0 || (v.n == 4 && !memcmp(v.p, "null", 4));
}

/* A number from a value: a JSON number, or a string holding one (as Spark
 * casts a string to a number; surrounding spaces allowed).  1 and *d, 0 when
 * the value is not a number. */
static int num_of(struct ts_dq *q, struct ts_span v, double *d)
{
	if (v.n == 0)
		return 0;
	if (v.p[0] == '-' || (v.p[0] >= '0' && v.p[0] <= '9'))
		return ts_value_number(v, d) >= 0;
	if (v.p[0] != '"')
		return 0;
	ts_buf_reset(&q->tmp);
	if (ts_value_string(&q->tmp, v) < 0)
		return 0;
	const char *s = q->tmp.data, *e = s + q->tmp.len;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (s == e)
		return 0;
	/* the number grammar of JSON (and a leading '+'): no hex, inf or nan */
	const char *p = s;
	if (*p == '-' || *p == '+')
		p++;
	int digits = 0;
	while (p < e && *p >= '0' && *p <= '9')
		p++, digits++;
	if (p < e && *p == '.') {
		p++;
		while (p < e && *p >= '0' && *p <= '9')
			p++, digits++;
	}
	if (!digits)
		return 0;
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '-' || *p == '+'))
			p++;
		int ed = 0;
		while (p < e && *p >= '0' && *p <= '9')
			p++, ed++;
		if (!ed)
			return 0;
	}
	if (p != e)
		return 0;
	char buf[128];
	size_t k = (size_t)(e - s);
	if (k >= sizeof(buf))
		return 0;
	memcpy(buf, s, k);
	buf[k] = '\0';
	*d = strtod(buf, NULL);
	return 1;
}

/* The text of a value as a string condition sees it: a string's decoded
 * bytes; anything else its JSON text (a number as written). */
static struct ts_span text_of(struct ts_dq *q, struct ts_span v)
{
	struct ts_span s;

	if (v.p[0] != '"')
		return v;
	if (ts_value_string_view(v, &s) == 1)
		return s;
	ts_buf_reset(&q->tmp);
	ts_value_string(&q->tmp, v);
	return (struct ts_span){q->tmp.data, q->tmp.len};
}

/* Characters (code points) of a string value; other values: of their text. */
static uint64_t length_of(struct ts_dq *q, struct ts_span v)
{
	struct ts_span s = text_of(q, v);
	uint64_t n = 0;

	for (size_t i = 0; i < s.n; i++)
		n += ((unsigned char)s.p[i] & 0xC0) != 0x80;
	return n;
}

/* A time from a value (ISO 8601 string or epoch number), ms. */
static int time_of(struct ts_span v, double *ms)
{
	int64_t t;
	const char *why;

	if (ts_time_from_json(v, &t, &why) < 0)
		return 0;
	*ms = (double)t;
	return 1;
}

static double day_of(double ms)
{
	return floor(ms / DAY_MS) * DAY_MS;
}

/* x against the operands: op, negation, values. */
static int cmp_vals(const struct leaf *l, double x)
{
	const double *v = l->ov;
	int r = 0;

	switch (l->rc->op) {
	case TS_DQ_OP_EQ: r = l->nov && x == v[0]; break;
	case TS_DQ_OP_LT: r = l->nov && x < v[0]; break;
	case TS_DQ_OP_LE: r = l->nov && x <= v[0]; break;
	case TS_DQ_OP_GT: r = l->nov && x > v[0]; break;
	case TS_DQ_OP_GE: r = l->nov && x >= v[0]; break;
	case TS_DQ_OP_BETWEEN: r = l->nov == 2 && x > v[0] && x < v[1]; break;
	case TS_DQ_OP_IN:
		for (size_t i = 0; i < l->nov; i++)
			r |= x == v[i];
		break;
	case TS_DQ_OP_MATCHES: r = 0; break;
	}
	return l->rc->negated ? !r : r;
}

/* Does a NULL satisfy the row condition?  As the reference defines it:
 * `= NULL`, `in [.., NULL]` and the negated forms without NULL (`!= 5`,
 * `not in [1, 2]`) pass a NULL; every other condition fails it. */
static int null_ok(const struct leaf *l)
{
	enum ts_dq_op op = l->rc->op;

	if (op != TS_DQ_OP_EQ && op != TS_DQ_OP_IN)
		return 0;
	return l->rc->negated ? !l->has_null : l->has_null;
}

static int str_in(const struct leaf *l, struct ts_span s)
{
	const struct ts_dq_cond *c = l->rc;

	for (size_t i = 0; i < c->noperands; i++) {
		const struct ts_dq_expr *e = c->operands[i];
		switch (e->kind) {
		case TS_DQ_E_STR:
			if (e->vlen == s.n && !memcmp(e->val, s.p, s.n))
				return 1;
			break;
		case TS_DQ_E_EMPTY:
			if (s.n == 0)
				return 1;
			break;
		case TS_DQ_E_WHITESPACES_ONLY: {
			size_t k = 0;
			while (k < s.n && strchr(" \t\n\r\f\v", s.p[k]) && s.p[k])
				k++;
			if (s.n > 0 && k == s.n)
				return 1;
			break;
		}
		default:
			break;
		}
	}
	return 0;
}

/* --- data types (ColumnDataType) ------------------------------------------- */

enum { DT_STRING, DT_INTEGER, DT_FLOAT, DT_BOOLEAN, DT_DATE, DT_TIMESTAMP, DT_UNKNOWN };

static int data_type(const char *s)
{
	static const struct { const char *name; int t; } m[] = {
		{"STRING", DT_STRING}, {"VARCHAR", DT_STRING}, {"CHAR", DT_STRING},
		{"INTEGER", DT_INTEGER}, {"INT", DT_INTEGER}, {"LONG", DT_INTEGER},
		{"BIGINT", DT_INTEGER}, {"SHORT", DT_INTEGER}, {"SMALLINT", DT_INTEGER},
		{"TINYINT", DT_INTEGER}, {"BYTE", DT_INTEGER},
		{"FLOAT", DT_FLOAT}, {"DOUBLE", DT_FLOAT}, {"DECIMAL", DT_FLOAT},
		{"NUMBER", DT_FLOAT}, {"NUMERIC", DT_FLOAT}, {"REAL", DT_FLOAT},
		{"BOOLEAN", DT_BOOLEAN}, {"BOOL", DT_BOOLEAN},
		{"DATE", DT_DATE}, {"TIMESTAMP", DT_TIMESTAMP},
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (!strcasecmp(s, m[i].name))
			return m[i].t;
	return DT_UNKNOWN;
}

static int is_date_text(struct ts_span s)
{
	if (s.n != 10 || s.p[4] != '-' || s.p[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s.p[i] < '0' || s.p[i] > '9'))
			return 0;
	int64_t ms;
	return ts_time_parse_iso(s.p, s.n, &ms) == 0;
}

/* Does value v (not null) have the type, or read as it (a string holding
 * an integer is an INTEGER, as a cast would take it)? */
static int has_type(struct ts_dq *q, struct ts_span v, int t)
{
	double d;
	struct ts_span s;
	int64_t ms;

	switch (t) {
	case DT_STRING: return v.p[0] == '"';
	case DT_INTEGER:
		if (!num_of(q, v, &d))
			return 0;
		return d == floor(d) && fabs(d) < 9.3e18;
	case DT_FLOAT: return num_of(q, v, &d);
	case DT_BOOLEAN:
		if (v.p[0] == 't' || v.p[0] == 'f')
			return 1;
		if (v.p[0] != '"')
			return 0;
		s = text_of(q, v);
		return (s.n == 4 && !strncasecmp(s.p, "true", 4)) ||
		       (s.n == 5 && !strncasecmp(s.p, "false", 5));
	case DT_DATE:
		if (v.p[0] != '"')
			return 0;
		return is_date_text(text_of(q, v));
	case DT_TIMESTAMP:
		if (v.p[0] != '"')
			return 0;
		s = text_of(q, v);
		return s.n > 10 && ts_time_parse_iso(s.p, s.n, &ms) == 0;
	}
	return 0;
}

/* --- setting up ---------------------------------------------------------- */

static int leaf_error(struct leaf *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int leaf_error(struct leaf *l, const char *fmt, ...)
{
	va_list ap;

	if (!l->cerr[0]) {
		va_start(ap, fmt);
		vsnprintf(l->cerr, sizeof(l->cerr), fmt, ap);
		va_end(ap);
	}
	return 0;
}

/* Evaluate the row condition's operands once. */
static void prepare_row_cond(struct ts_dq *q, struct leaf *l, const struct ts_dq_cond *c)
{
	char e[256];

	l->rc = c;
	l->ov = xcalloc(c->noperands, sizeof(double));
	if (c->op == TS_DQ_OP_MATCHES) {
		const struct ts_dq_expr *x = c->noperands ? c->operands[0] : NULL;
		if (!x || x->kind != TS_DQ_E_STR)
			return (void)leaf_error(l, "matches needs a quoted regular expression");
		char *pat = xprintf("^(%s)$", x->val);
		int rc = regcomp(&l->re, pat, REG_EXTENDED | REG_NOSUB);
		free(pat);
		if (rc) {
			regerror(rc, &l->re, e, sizeof(e));
			return (void)leaf_error(l, "bad regular expression \"%s\": %s", x->val, e);
		}
		l->have_re = 1;
		return;
	}
	l->day = c->kind == TS_DQ_CK_DATE;
	for (size_t i = 0; i < c->noperands; i++) {
		const struct ts_dq_expr *x = c->operands[i];
		if (x->kind == TS_DQ_E_NULL) {
			l->has_null = 1;
			continue;
		}
		if (c->kind == TS_DQ_CK_STRING)
			continue;
		if (x->kind == TS_DQ_E_TIME)
			l->day = 0;
		double d;
		if (ts_dq_expr_eval(x, &q->env, &d, e, sizeof(e)) < 0) {
			leaf_error(l, "%s", e);
			continue;
		}
		l->ov[l->nov++] = d;
	}
	if (l->day)
		for (size_t i = 0; i < l->nov; i++)
			l->ov[i] = day_of(l->ov[i]);
	/* between with NULL: the bounds shift; keep them in order as written */
}

static const struct ts_dq_param *param(const struct ts_dq_rule *r, size_t i)
{
	return i < r->nparams ? &r->params[i] : NULL;
}

static int find_ref(const struct ts_dq *q, const char *alias)
{
	for (size_t i = 0; i < q->o.nrefs; i++)
		if (!strcmp(q->o.refs[i].alias, alias))
			return (int)i;
	return -1;
}

static char *trimmed(const char *a, const char *b)
{
	while (a < b && (*a == ' ' || *a == '\t'))
		a++;
	while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
		b--;
	char *s = xcalloc((size_t)(b - a) + 1, 1);
	memcpy(s, a, (size_t)(b - a));
	return s;
}

/* "id1->id2,k" : primary columns into c[], reference columns into rcol[] */
static int add_mappings(struct ts_dq *q, struct leaf *l, const char *s)
{
	const char *end = s + strlen(s);

	while (s < end) {
		const char *d = memchr(s, ',', (size_t)(end - s));
		if (!d)
			d = end;
		const char *arrow = NULL;
		for (const char *p = s; p + 1 < d; p++)
			if (p[0] == '-' && p[1] == '>')
				arrow = p;
		if (l->nc == MAX_COLS_PER_RULE)
			return -1;
		char *a = trimmed(s, arrow ? arrow : d);
		char *b = trimmed(arrow ? arrow + 2 : s, d);
		if (!*a || !*b) {
			free(a);
			free(b);
			return -1;
		}
		l->c[l->nc++] = col_index(q, a, strlen(a));
		l->rcol[l->nrc++] = b;
		free(a);
		s = d + 1;
	}
	return 0;
}

static int setup_dataset_match(struct ts_dq *q, struct leaf *l)
{
	const struct ts_dq_rule *r = l->r;

	if (add_mappings(q, l, param(r, 1)->val) < 0 || !l->nc)
		return -1;
	l->nkey = l->nc;
	if (r->nparams > 2 && add_mappings(q, l, param(r, 2)->val) < 0)
		return -1;
	return 0;
}

/* ReferentialIntegrity "a,b" "ref.{x,y}" (or "ref.x") */
static void setup_ri(struct ts_dq *q, struct leaf *l)
{
	const char *p = param(l->r, 0)->val, *rp = param(l->r, 1)->val;
	const char *dot = strchr(rp, '.');

	if (add_col_list(q, l, p, strlen(p)) < 0 || !dot) {
		leaf_error(l, "ReferentialIntegrity: the second parameter is \"alias.column\" or "
			      "\"alias.{col1,col2}\"");
		return;
	}
	char *alias = trimmed(rp, dot);
	l->refi = find_ref(q, alias);
	if (l->refi < 0) {
		leaf_error(l, "no reference dataset \"%s\": give it with --ref %s=FILE", alias, alias);
		free(alias);
		return;
	}
	l->ref = q->o.refs[l->refi].alias;
	free(alias);
	const char *cols = dot + 1, *cend = cols + strlen(cols);
	if (*cols == '{' && cend > cols && cend[-1] == '}')
		cols++, cend--;
	while (cols <= cend) {
		const char *d = memchr(cols, ',', (size_t)(cend - cols));
		if (!d)
			d = cend;
		if (l->nrc < MAX_COLS_PER_RULE)
			l->rcol[l->nrc++] = trimmed(cols, d);
		cols = d + 1;
	}
	if (l->nrc != l->nc)
		leaf_error(l, "ReferentialIntegrity: %zu column(s) against %zu", l->nc, l->nrc);
}

/* "sum(col)" or "avg(ref.col)" */
static int setup_agg(struct ts_dq *q, struct leaf *l, struct agg *a, const char *s)
{
	const char *open = strchr(s, '('), *close = strrchr(s, ')');
	static const char *const fns[] = {"sum", "avg", "count", "min", "max"};

	a->refi = -1;
	a->c = -1;
	a->min = INFINITY;
	a->max = -INFINITY;
	ts_exact_init(&a->s);
	if (!open || !close || close < open || (size_t)(open - s) >= sizeof(a->func))
		return leaf_error(l, "AggregateMatch: \"%s\" is not sum(), avg(), count(), min() "
				     "or max() of a column", s), -1;
	for (size_t i = 0; i < (size_t)(open - s); i++)
		a->func[i] = (char)(s[i] | 0x20);
	size_t k;
	for (k = 0; k < sizeof(fns) / sizeof(fns[0]); k++)
		if (!strcmp(a->func, fns[k]))
			break;
	if (k == sizeof(fns) / sizeof(fns[0]))
		return leaf_error(l, "AggregateMatch: %s() is not sum, avg, count, min or max",
				  a->func), -1;
	a->col = trimmed(open + 1, close);
	const char *dot = strchr(a->col, '.');
	if (dot) {
		char *alias = trimmed(a->col, dot);
		int ri = find_ref(q, alias);
		free(alias);
		if (ri >= 0) {
			a->refi = ri;
			memmove(a->col, dot + 1, strlen(dot + 1) + 1);
			return 0;
		}
	}
	a->c = col_index(q, a->col, strlen(a->col));
	return 0;
}

static int setup_leaf(struct ts_dq *q, struct leaf *l, const struct ts_dq_rule *r, int analyzer)
{
	char e[256];
	size_t first = 0;

	l->r = r;
	l->t = r->type->id;
	l->is_analyzer = analyzer;
	l->row = -1;
	l->refi = -1;
	struct ts_buf b;
	ts_buf_init(&b, 0);
	ts_dqdl_print_rule(&b, r);
	l->desc = ts_buf_detach(&b, NULL);

	if (l->t == TS_DQ_DETECTANOMALIES) {
		/* DetectAnomalies "RowCount" / "Completeness" "col": the first
		 * parameter names the metric's rule type */
		const struct ts_dq_param *p = param(r, 0);
		const struct ts_dq_ruletype *rt = p ? ts_dq_ruletype_find(p->val, r->nparams - 1) : NULL;
		if (!rt || rt->id == TS_DQ_DETECTANOMALIES || rt->id == TS_DQ_CUSTOMSQL ||
		    !(rt->returns & TS_DQ_RET_NUMBER)) {
			leaf_error(l, "DetectAnomalies: \"%s\" with %zu column(s) is not a metric",
				   p ? p->val : "", r->nparams ? r->nparams - 1 : 0);
			return 0;
		}
		l->anomalies = 1;
		l->t = rt->id;
		first = 1;
	}
	if (r->where) {
		l->where = ts_where_parse(r->where_val, r->where_len, e, sizeof(e));
		if (!l->where)
			return snprintf(q->err, sizeof(q->err), "line %u, column %u: where \"%s\": %s",
					r->line, r->column, r->where, e), -1;
	}

	switch (l->t) {
	case TS_DQ_ROWCOUNT:
		break;
	case TS_DQ_COLUMNCOUNT:
	case TS_DQ_COLUMNNAMESMATCHPATTERN:
		q->want_names = 1;
		if (l->t == TS_DQ_COLUMNNAMESMATCHPATTERN) {
			char *pat = xprintf("^(%s)$", param(r, 0)->val);
			int rc = regcomp(&l->re, pat, REG_EXTENDED | REG_NOSUB);
			free(pat);
			if (rc) {
				regerror(rc, &l->re, e, sizeof(e));
				leaf_error(l, "bad regular expression \"%s\": %s", param(r, 0)->val, e);
			} else {
				l->have_re = 1;
			}
		}
		break;
	case TS_DQ_COLUMNEXISTS:
	case TS_DQ_COMPLETENESS:
	case TS_DQ_ISCOMPLETE:
		add_col_list(q, l, param(r, first)->val, param(r, first)->vlen);
		l->nc = 1;
		l->acc = A_NONNULL;
		l->row_level = l->t != TS_DQ_COLUMNEXISTS;
		break;
	case TS_DQ_UNIQUENESS:
	case TS_DQ_ISUNIQUE:
	case TS_DQ_UNIQUEVALUERATIO:
	case TS_DQ_DISTINCTVALUESCOUNT:
	case TS_DQ_ENTROPY:
		/* one column, or several: the tuple of their values */
		for (size_t i = first; i < r->nparams && l->nc < MAX_COLS_PER_RULE; i++)
			l->c[l->nc++] = col_index(q, r->params[i].val, r->params[i].vlen);
		l->acc = A_NONNULL | A_SET;
		break;
	case TS_DQ_ISPRIMARYKEY:
		for (size_t i = first; i < r->nparams && l->nc < MAX_COLS_PER_RULE; i++)
			l->c[l->nc++] = col_index(q, r->params[i].val, r->params[i].vlen);
		l->acc = A_NONNULL | A_SET;
		break;
	case TS_DQ_MEAN:
	case TS_DQ_SUM:
	case TS_DQ_STANDARDDEVIATION:
	case TS_DQ_VARIANCE:
		l->c[l->nc++] = col_index(q, param(r, first)->val, param(r, first)->vlen);
		l->acc = A_NONNULL | A_NUM;
		break;
	case TS_DQ_COLUMNCORRELATION:
		l->c[l->nc++] = col_index(q, param(r, first)->val, param(r, first)->vlen);
		l->c[l->nc++] = col_index(q, param(r, first + 1)->val, param(r, first + 1)->vlen);
		l->acc = A_CORR;
		break;
	case TS_DQ_COLUMNLENGTH:
		l->c[l->nc++] = col_index(q, param(r, first)->val, param(r, first)->vlen);
		l->acc = A_NONNULL | A_LEN | (r->cond ? A_OK : 0);
		if (r->cond && !l->anomalies && !analyzer) {
			prepare_row_cond(q, l, r->cond);
			l->row_level = 1;
		}
		break;
	case TS_DQ_COLUMNVALUES:
		l->c[l->nc++] = col_index(q, param(r, first)->val, param(r, first)->vlen);
		l->acc = A_NONNULL | A_NUM | (r->cond ? A_OK : 0);
		if (r->cond && !l->anomalies && !analyzer) {
			prepare_row_cond(q, l, r->cond);
			l->row_level = 1;
		}
		break;
	case TS_DQ_COLUMNDATATYPE:
		l->c[l->nc++] = col_index(q, param(r, first)->val, param(r, first)->vlen);
		l->acc = A_NONNULL | A_OK;
		l->data_type = DT_UNKNOWN;
		if (r->cond && r->cond->noperands && r->cond->operands[0]->kind == TS_DQ_E_STR)
			l->data_type = data_type(r->cond->operands[0]->val);
		if (l->data_type == DT_UNKNOWN)
			leaf_error(l, "ColumnDataType: not a type this tool knows (STRING, INTEGER, "
				      "FLOAT, BOOLEAN, DATE, TIMESTAMP and their aliases)");
		l->row_level = !analyzer;
		break;
	case TS_DQ_DATAFRESHNESS:
		l->c[l->nc++] = col_index(q, param(r, first)->val, param(r, first)->vlen);
		l->acc = A_NONNULL | A_OK;
		if (r->cond) {
			prepare_row_cond(q, l, r->cond);
			l->day = 0;
			l->row_level = !analyzer;
		}
		break;
	case TS_DQ_CUSTOMSQL:
		l->acc = A_SQL;
		if (!q->sql && !q->sql_failed) {
			q->sql = ts_dqsql_open(q->sql_err, sizeof(q->sql_err));
			if (!q->sql)
				q->sql_failed = 1;
		}
		break;
	case TS_DQ_ALLSTATISTICS:
		l->c[l->nc++] = col_index(q, param(r, first)->val, param(r, first)->vlen);
		l->acc = A_NONNULL | A_NUM | A_SET | A_LEN;
		break;
	case TS_DQ_ROWCOUNTMATCH:
	case TS_DQ_SCHEMAMATCH:
	case TS_DQ_DATASETMATCH:
		l->refi = find_ref(q, param(r, 0)->val);
		if (l->refi < 0) {
			leaf_error(l, "no reference dataset \"%s\": give it with --ref %s=FILE",
				   param(r, 0)->val, param(r, 0)->val);
			break;
		}
		l->ref = param(r, 0)->val;
		if (l->t == TS_DQ_SCHEMAMATCH)
			q->want_names = 1;
		if (l->t == TS_DQ_DATASETMATCH && setup_dataset_match(q, l) < 0)
			leaf_error(l, "DatasetMatch: key mappings are \"id\" or \"id1->id2\", "
				      "separated by commas");
		break;
	case TS_DQ_REFERENTIALINTEGRITY:
		setup_ri(q, l);
		break;
	case TS_DQ_AGGREGATEMATCH:
		for (int i = 0; i < 2; i++)
			if (setup_agg(q, l, &l->agg[i], param(r, (size_t)i)->val) < 0)
				break;
		break;
	default:
		break;
	}
	if (l->acc & (A_NUM | A_CORR))
		l->s = xcalloc(5, sizeof(struct ts_exact));
	if (l->s)
		for (int i = 0; i < 5; i++)
			ts_exact_init(&l->s[i]);
	l->min = INFINITY;
	l->max = -INFINITY;
	return 0;
}

static int collect(struct ts_dq *q, const struct ts_dq_rule *r, int analyzer, size_t *cap)
{
	if (r->logic != TS_DQ_LEAF) {
		for (size_t i = 0; i < r->nchildren; i++)
			if (collect(q, r->children[i], analyzer, cap) < 0)
				return -1;
		return 0;
	}
	if (q->nleaves == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		q->leaves = realloc(q->leaves, *cap * sizeof(*q->leaves));
		if (!q->leaves)
			abort();
	}
	struct leaf *l = &q->leaves[q->nleaves++];
	memset(l, 0, sizeof(*l));
	ts_htab_init(&l->rkeys);
	ts_htab_init(&l->rnames);
	return setup_leaf(q, l, r, analyzer);
}

static struct leaf *leaf_of(struct ts_dq *q, const struct ts_dq_rule *r)
{
	for (size_t i = 0; i < q->nleaves; i++)
		if (q->leaves[i].r == r)
			return &q->leaves[i];
	return NULL;
}

/* --- history ------------------------------------------------------------- */

static int load_history(struct ts_dq *q, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t k;
	unsigned long ln = 0;

	if (!f) {
		if (errno == ENOENT)
			return 0; /* no runs yet */
		return snprintf(q->err, sizeof(q->err), "cannot open history '%s': %s", path,
				strerror(errno)), -1;
	}
	while ((k = getline(&line, &cap, f)) > 0) {
		json_error_t je;
		ln++;
		json_t *j = json_loadb(line, (size_t)k, 0, &je);
		json_t *m = j ? json_object_get(j, "metrics") : NULL;
		if (!json_is_object(m)) {
			json_decref(j);
			if (k == 1)
				continue;
			snprintf(q->err, sizeof(q->err), "history '%s' line %lu: not a run's metrics", path, ln);
			free(line);
			fclose(f);
			return -1;
		}
		const char *key;
		json_t *v;
		json_object_foreach(m, key, v) {
			if (!json_is_number(v))
				continue;
			size_t i;
			for (i = 0; i < q->nhist; i++)
				if (!strcmp(q->hist[i].name, key))
					break;
			if (i == q->nhist) {
				q->hist = realloc(q->hist, (q->nhist + 1) * sizeof(*q->hist));
				if (!q->hist)
					abort();
				q->hist[i] = (struct hist_metric){xstrdup(key), NULL, 0};
				q->nhist++;
			}
			struct hist_metric *h = &q->hist[i];
			h->v = realloc(h->v, (h->n + 1) * sizeof(double));
			if (!h->v)
				abort();
			/* most recent first: later lines go in front */
			memmove(h->v + 1, h->v, h->n * sizeof(double));
			h->v[0] = json_number_value(v);
			h->n++;
		}
		json_decref(j);
	}
	free(line);
	fclose(f);
	return 0;
}

static const struct hist_metric *history_of(const struct ts_dq *q, const char *name)
{
	for (size_t i = 0; i < q->nhist; i++)
		if (!strcmp(q->hist[i].name, name))
			return &q->hist[i];
	return NULL;
}

/* --- the public face -------------------------------------------------------- */

struct ts_dq *ts_dq_new(const struct ts_dq_ruleset *rs, const struct ts_dq_opts *o,
			char *err, size_t errlen)
{
	struct ts_dq *q = xcalloc(1, sizeof(*q));
	size_t cap = 0;

	q->rs = rs;
	q->o = *o;
	q->env.now_ms = (int64_t)floor(o->now * 1000.0);
	ts_buf_init(&q->tmp, 0);
	ts_buf_init(&q->key, 0);
	ts_htab_init(&q->names);
	if (o->history && load_history(q, o->history) < 0)
		goto fail;
	for (size_t i = 0; i < rs->nrules; i++)
		if (collect(q, rs->rules[i], 0, &cap) < 0)
			goto fail;
	for (size_t i = 0; i < rs->nanalyzers; i++)
		if (collect(q, rs->analyzers[i], 1, &cap) < 0)
			goto fail;
	/* the value sets share the memory budget */
	size_t nsets = 0;
	for (size_t i = 0; i < q->nleaves; i++)
		nsets += (q->leaves[i].acc & A_SET) != 0;
	for (size_t i = 0; i < q->nleaves; i++) {
		if (!(q->leaves[i].acc & A_SET))
			continue;
		uint64_t mem = o->mem ? o->mem : TS_DISTINCT_DEFAULT_BUDGET;
		struct ts_distinct_opts dopt = {mem / nsets, NULL};
		if (!(q->leaves[i].set = ts_distinct_new(&dopt))) {
			snprintf(q->err, sizeof(q->err), "out of memory");
			goto fail;
		}
	}
	q->val = xcalloc(q->ncols, sizeof(*q->val));
	q->tdesc = xcalloc(rs->nrules, sizeof(char *));
	for (size_t i = 0; i < rs->nrules; i++) {
		struct ts_buf b;
		ts_buf_init(&b, 0);
		ts_dqdl_print_rule(&b, rs->rules[i]);
		q->tdesc[i] = ts_buf_detach(&b, NULL);
	}
	q->rp = xcalloc(rs->nrules, sizeof(char *));
	q->rf = xcalloc(rs->nrules, sizeof(char *));
	q->rsk = xcalloc(rs->nrules, sizeof(char *));
	return q;
fail:
	snprintf(err, errlen, "%s", q->err);
	ts_dq_free(q);
	return NULL;
}

void ts_dq_free(struct ts_dq *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->nleaves; i++) {
		struct leaf *l = &q->leaves[i];
		free(l->desc);
		free(l->ov);
		free(l->s);
		if (l->have_re)
			regfree(&l->re);
		ts_where_free(l->where);
		ts_distinct_free(l->set);
		for (size_t k = 0; k < l->nrc; k++)
			free(l->rcol[k]);
		free(l->agg[0].col);
		free(l->agg[1].col);
		ts_htab_release(&l->rkeys);
		ts_htab_release(&l->rnames);
	}
	free(q->leaves);
	for (size_t i = 0; i < q->ncols; i++) {
		free(q->cols[i].name);
		if (q->cols[i].dotted)
			ts_jpath_release(&q->cols[i].path);
	}
	free(q->cols);
	free(q->val);
	for (size_t i = 0; i < q->nhist; i++) {
		free(q->hist[i].name);
		free(q->hist[i].v);
	}
	free(q->hist);
	if (q->tdesc)
		for (size_t i = 0; i < q->rs->nrules; i++)
			free(q->tdesc[i]);
	free(q->tdesc);
	free(q->rp);
	free(q->rf);
	free(q->rsk);
	ts_dqsql_free(q->sql);
	ts_htab_release(&q->names);
	ts_buf_release(&q->tmp);
	ts_buf_release(&q->key);
	free(q);
}

static unsigned type_bit(struct ts_span v)
{
	return 1u << ts_value_type(v);
}

static void note_name(struct ts_dq *q, struct ts_span k, struct ts_span v)
{
	ts_buf_reset(&q->key);
	ts_json_unescape(&q->key, k);
	uint64_t h = ts_hash(ts_hkey_process(), q->key.data, q->key.len);
	uint64_t *slot = ts_htab_get(&q->names, h, q->key.data, q->key.len);
	if (!slot && ts_htab_count(&q->names) < MAX_NAMES)
		slot = ts_htab_put(&q->names, h, q->key.data, q->key.len, NULL);
	if (slot)
		*slot |= type_bit(v);
	else
		q->names_overflow = 1;
}

/* Find every column's value in the record: from the index of its
 * members the scanner made while validating it, when there is one. */
static void resolve(struct ts_dq *q, struct ts_span rec, const struct ts_json_keys *idx)
{
	struct ts_json_iter it;
	struct ts_span k, v;
	size_t found = 0, n = 0;

	for (size_t i = 0; i < q->ncols; i++)
		q->val[i] = (struct ts_span){0};
	if (idx && !idx->overflow)
		n = idx->n;
	else
		ts_json_iter_init(&it, rec);
	for (size_t m = 0; idx && !idx->overflow ? m < n : ts_json_obj_next(&it, &k, &v); m++) {
		if (idx && !idx->overflow)
			k = idx->k[m], v = idx->v[m];
		if (q->want_names && !q->names_overflow)
			note_name(q, k, v);
		/* no early end: a repeated key's last value is the one that counts */
		for (size_t i = 0; i < q->ncols; i++) {
			/* the last duplicate key wins, as jansson has it */
			if (ts_json_key_eq(k, q->cols[i].name, q->cols[i].n)) {
				if (!q->val[i].n)
					found++;
				q->val[i] = v;
			}
		}
	}
	for (size_t i = 0; i < q->ncols; i++)
		if (!q->val[i].n && q->cols[i].dotted)
			ts_jpath_get(&q->cols[i].path, rec, &q->val[i]);
}

/* A tuple of values as bytes: length-prefixed canonical forms, so that no
 * two tuples share bytes (NULL as null). */
static int tuple_key(struct ts_dq *q, const struct ts_span *v, size_t n)
{
	ts_buf_reset(&q->key);
	for (size_t i = 0; i < n; i++) {
		size_t at = q->key.len;
		uint32_t len;
		ts_buf_add(&q->key, "\0\0\0\0", 4);
		if (is_null(v[i]))
			ts_buf_add(&q->key, "null", 4);
		else if (ts_value_canon(&q->key, v[i]) < 0)
			return -1;
		len = (uint32_t)(q->key.len - at - 4);
		memcpy(q->key.data + at, &len, 4);
	}
	return 0;
}

/* The key of a value set: one column's canonical bytes (a string without
 * escapes is its own), several columns as a tuple. */
static int set_key(struct ts_dq *q, const struct leaf *l)
{
	struct ts_span t[MAX_COLS_PER_RULE];

	if (l->nc == 1) {
		struct ts_span v = q->val[l->c[0]], s;
		ts_buf_reset(&q->key);
		if (v.p[0] == '"' && ts_value_string_view(v, &s) == 1)
			return ts_buf_add(&q->key, v.p, v.n);
		return ts_value_canon(&q->key, v);
	}
	for (size_t i = 0; i < l->nc; i++)
		t[i] = q->val[l->c[i]];
	return tuple_key(q, t, l->nc);
}

/* DatasetMatch's hash of a row's compared values: over the named columns
 * in order, or (none named) over every member but the keys, whatever their
 * order. */
static uint64_t row_hash(struct ts_dq *q, struct ts_span rec, const struct ts_span *cmp, size_t ncmp,
			 char *const *skip, const size_t *skipn, size_t nskip)
{
	uint64_t h = 0;
	struct ts_buf b;

	ts_buf_init(&b, 0);
	if (ncmp) {
		for (size_t i = 0; i < ncmp; i++) {
			ts_buf_reset(&b);
			ts_buf_addf(&b, "%zu:", i);
			if (is_null(cmp[i]))
				ts_buf_addstr(&b, "null");
			else
				ts_value_canon(&b, cmp[i]);
			h += ts_hash(&ts_hkey_fixed, b.data, b.len);
		}
	} else {
		struct ts_json_iter it;
		struct ts_span k, v;
		ts_json_iter_init(&it, rec);
		while (ts_json_obj_next(&it, &k, &v)) {
			int is_key = 0;
			for (size_t i = 0; i < nskip; i++)
				is_key |= ts_json_key_eq(k, skip[i], skipn[i]);
			if (is_key || is_null(v))
				continue;
			ts_buf_reset(&b);
			ts_json_unescape(&b, k);
			ts_buf_addch(&b, '\0');
			ts_value_canon(&b, v);
			h += ts_hash(&ts_hkey_fixed, b.data, b.len);
		}
	}
	ts_buf_release(&b);
	(void)q;
	return h;
}

static void agg_add(struct agg *a, struct ts_dq *q, struct ts_span v)
{
	double d;

	if (is_null(v))
		return;
	if (!strcmp(a->func, "count")) {
		a->n++;
		return;
	}
	if (!num_of(q, v, &d))
		return;
	ts_exact_add(&a->s, d);
	a->n++;
	if (d < a->min)
		a->min = d;
	if (d > a->max)
		a->max = d;
}

static double agg_value(const struct agg *a)
{
	if (!strcmp(a->func, "count"))
		return (double)a->n;
	if (!a->n)
		return NAN;
	if (!strcmp(a->func, "sum"))
		return ts_exact_value(&a->s);
	if (!strcmp(a->func, "avg"))
		return ts_exact_mean(&a->s);
	return !strcmp(a->func, "min") ? a->min : a->max;
}

/* Primary side of the reference rules. */
static void add_ref_primary(struct ts_dq *q, struct leaf *l, struct ts_span rec)
{
	struct ts_span t[MAX_COLS_PER_RULE];

	if (l->t == TS_DQ_AGGREGATEMATCH) {
		for (int i = 0; i < 2; i++)
			if (l->agg[i].col && l->agg[i].refi < 0)
				agg_add(&l->agg[i], q, q->val[l->agg[i].c]);
		return;
	}
	if (l->cerr[0] || (l->t != TS_DQ_REFERENTIALINTEGRITY && l->t != TS_DQ_DATASETMATCH))
		return;
	size_t nk = l->t == TS_DQ_DATASETMATCH ? l->nkey : l->nc;
	for (size_t i = 0; i < nk; i++)
		t[i] = q->val[l->c[i]];
	if (tuple_key(q, t, nk) < 0)
		return;
	uint64_t h = ts_hash(ts_hkey_process(), q->key.data, q->key.len);
	uint64_t *slot = ts_htab_get(&l->rkeys, h, q->key.data, q->key.len);
	if (!slot)
		return;
	if (l->t == TS_DQ_REFERENTIALINTEGRITY) {
		l->ok++;
		return;
	}
	char *names[MAX_COLS_PER_RULE];
	size_t lens[MAX_COLS_PER_RULE];
	for (size_t i = 0; i < nk; i++)
		names[i] = q->cols[l->c[i]].name, lens[i] = q->cols[l->c[i]].n;
	for (size_t i = nk; i < l->nc; i++)
		t[i - nk] = q->val[l->c[i]];
	l->ok += *slot == row_hash(q, rec, t, l->nc - nk, names, lens, nk);
}

int ts_dq_ref_add(struct ts_dq *q, size_t refi, struct ts_span rec)
{
	struct ts_span t[MAX_COLS_PER_RULE];

	for (size_t i = 0; i < q->nleaves; i++) {
		struct leaf *l = &q->leaves[i];
		if (l->t == TS_DQ_AGGREGATEMATCH) {
			for (int k = 0; k < 2; k++) {
				struct ts_span v = {0};
				if (l->agg[k].col && l->agg[k].refi == (int)refi) {
					ts_json_obj_get(rec, l->agg[k].col, strlen(l->agg[k].col), &v);
					agg_add(&l->agg[k], q, v);
				}
			}
			continue;
		}
		if (l->refi != (int)refi || l->cerr[0])
			continue;
		l->rrows++;
		if (l->t == TS_DQ_SCHEMAMATCH) {
			struct ts_json_iter it;
			struct ts_span k, v;
			ts_json_iter_init(&it, rec);
			while (ts_json_obj_next(&it, &k, &v)) {
				ts_buf_reset(&q->key);
				ts_json_unescape(&q->key, k);
				uint64_t h = ts_hash(ts_hkey_process(), q->key.data, q->key.len);
				uint64_t *slot = ts_htab_put(&l->rnames, h, q->key.data, q->key.len, NULL);
				if (!slot)
					return -1;
				*slot |= type_bit(v);
			}
			continue;
		}
		if (l->t != TS_DQ_REFERENTIALINTEGRITY && l->t != TS_DQ_DATASETMATCH)
			continue;
		size_t nk = l->t == TS_DQ_DATASETMATCH ? l->nkey : l->nrc;
		for (size_t c = 0; c < l->nrc; c++) {
			t[c] = (struct ts_span){0};
			ts_json_obj_get(rec, l->rcol[c], strlen(l->rcol[c]), &t[c]);
		}
		if (tuple_key(q, t, nk) < 0)
			return -1;
		uint64_t h = ts_hash(ts_hkey_process(), q->key.data, q->key.len);
		uint64_t *slot = ts_htab_put(&l->rkeys, h, q->key.data, q->key.len, NULL);
		if (!slot)
			return -1;
		if (l->t == TS_DQ_DATASETMATCH) {
			size_t lens[MAX_COLS_PER_RULE];
			for (size_t c = 0; c < nk; c++)
				lens[c] = strlen(l->rcol[c]);
			*slot = row_hash(q, rec, t + nk, l->nrc - nk, l->rcol, lens, nk);
		} else {
			*slot = 1;
		}
	}
	return 0;
}

/* The row condition on one value: 1 pass, 0 fail. */
static int row_check(struct ts_dq *q, struct leaf *l, struct ts_span v)
{
	double d;

	if (l->cerr[0])
		return 0;
	if (l->t == TS_DQ_COLUMNLENGTH) {
		/* NULL is the empty string, length 0 */
		d = is_null(v) ? 0.0 : (double)length_of(q, v);
		return cmp_vals(l, d);
	}
	if (is_null(v))
		return null_ok(l);
	if (l->t == TS_DQ_DATAFRESHNESS) {
		if (!time_of(v, &d))
			return 0;
		return cmp_vals(l, (double)q->env.now_ms - d);
	}
	switch (l->rc->kind) {
	case TS_DQ_CK_NUMBER:
		if (l->rc->op == TS_DQ_OP_EQ && !l->nov) /* = NULL / != NULL */
			return l->rc->negated;
		if (!num_of(q, v, &d))
			return 0;
		return cmp_vals(l, d);
	case TS_DQ_CK_DATE:
		if (!time_of(v, &d))
			return 0;
		if (l->rc->op == TS_DQ_OP_EQ && !l->nov)
			return l->rc->negated;
		return cmp_vals(l, l->day ? day_of(d) : d);
	case TS_DQ_CK_STRING: {
		struct ts_span s = text_of(q, v);
		if (l->rc->op == TS_DQ_OP_MATCHES) {
			if (!l->have_re)
				return 0;
			if (s.p != q->tmp.data) {
				ts_buf_reset(&q->tmp);
				ts_buf_add(&q->tmp, s.p, s.n);
			}
			int m = regexec(&l->re, q->tmp.data, 0, NULL, 0) == 0;
			return l->rc->negated ? !m : m;
		}
		int m = str_in(l, s);
		return l->rc->negated ? !m : m;
	}
	default:
		return 0;
	}
}

static int add_leaf(struct ts_dq *q, struct leaf *l, struct ts_span rec,
		    const struct ts_json_keys *idx)
{
	l->row = -1;
	if (l->cerr[0] && !l->acc)
		return 0;
	if (l->where) {
		int w = ts_where_eval(l->where, rec, idx);
		if (w < 0)
			return -1; /* out of memory: the run cannot go on */
		if (w == 0)
			return 0; /* the rule does not apply to this row */
	}
	l->rows++;
	if (l->refi >= 0 || l->t == TS_DQ_AGGREGATEMATCH) {
		add_ref_primary(q, l, rec);
		return 0;
	}
	if (!l->nc)
		return 0;
	struct ts_span v = q->val[l->c[0]];
	int null = is_null(v);
	double d;

	if (l->t == TS_DQ_COLUMNEXISTS)
		l->checked += v.n != 0; /* present, null or not */
	if (l->acc & A_NONNULL) {
		int all = !null;
		for (size_t i = 1; i < l->nc; i++)
			all &= !is_null(q->val[l->c[i]]);
		if (l->t == TS_DQ_ISPRIMARYKEY) {
			/* every key column complete, and each column */
			l->nonnull += all;
			for (size_t i = 0; i < l->nc; i++)
				l->cnn[i] += !is_null(q->val[l->c[i]]);
		} else {
			l->nonnull += !null;
		}
		if (l->t == TS_DQ_COMPLETENESS || l->t == TS_DQ_ISCOMPLETE)
			l->row = !null;
	}
	if ((l->acc & A_SET)) {
		int any = 0;
		for (size_t i = 0; i < l->nc; i++)
			any |= !is_null(q->val[l->c[i]]);
		if (any && set_key(q, l) == 0)
			ts_distinct_add(l->set, q->key.data, q->key.len);
	}
	if ((l->acc & A_NUM) && !null) {
		if (num_of(q, v, &d)) {
			ts_exact_add(&l->s[0], d);
			ts_exact_add_square(&l->s[1], d);
			if (d < l->min)
				l->min = d;
			if (d > l->max)
				l->max = d;
			l->nminmax++;
		} else {
			l->nonnum++;
		}
	}
	if (l->acc & A_CORR) {
		double y;
		if (num_of(q, v, &d) && num_of(q, q->val[l->c[1]], &y)) {
			ts_exact_add(&l->s[0], d);
			ts_exact_add_square(&l->s[1], d);
			ts_exact_add(&l->s[2], y);
			ts_exact_add_square(&l->s[3], y);
			ts_exact_add_product(&l->s[4], d, y);
		}
	}
	if (l->acc & A_LEN) {
		uint64_t n = null ? 0 : length_of(q, v);
		if (!l->nlen || n < l->minlen)
			l->minlen = n;
		if (!l->nlen || n > l->maxlen)
			l->maxlen = n;
		l->nlen++;
	}
	if (l->acc & A_OK) {
		int ok;
		if (l->t == TS_DQ_COLUMNDATATYPE) {
			if (null)
				return 0; /* a NULL has every type */
			l->checked++;
			ok = l->cerr[0] ? 0 : has_type(q, v, l->data_type);
		} else if (l->rc) {
			l->checked++;
			ok = row_check(q, l, v);
		} else {
			return 0;
		}
		l->ok += ok;
		if (l->row_level)
			l->row = ok;
	}
	return 0;
}

/* Row outcome of a rule tree: 1 pass, 0 fail, -1 skip. */
/* Row outcome of a rule tree: 1 pass, 0 fail, -1 skip.  *k walks the
 * leaves in the order collect() made them (depth first, rule by rule). */
static int row_of(struct ts_dq *q, const struct ts_dq_rule *r, size_t *k)
{
	if (r->logic == TS_DQ_LEAF) {
		struct leaf *l = &q->leaves[(*k)++];
		return l->row_level ? l->row : -1;
	}
	int any_pass = 0, any_fail = 0;
	for (size_t i = 0; i < r->nchildren; i++) {
		int c = row_of(q, r->children[i], k);
		any_pass |= c == 1;
		any_fail |= c == 0;
	}
	if (!any_pass && !any_fail)
		return -1;
	if (r->logic == TS_DQ_AND)
		return !any_fail;
	return any_pass;
}

int ts_dq_add(struct ts_dq *q, struct ts_span rec, const struct ts_json_keys *idx,
	      struct ts_dq_row *row)
{
	q->rows++;
	resolve(q, rec, idx);
	for (size_t i = 0; i < q->nleaves; i++)
		if (add_leaf(q, &q->leaves[i], rec, idx) < 0)
			return -1;
	if (q->sql && !q->sql_failed && ts_dqsql_add(q->sql, rec) < 0) {
		q->sql_failed = 1;
		snprintf(q->sql_err, sizeof(q->sql_err), "%s", ts_dqsql_error(q->sql));
	}
	if (row) {
		q->npass = q->nfail = q->nskip = 0;
		size_t k = 0;
		for (size_t i = 0; i < q->rs->nrules; i++) {
			int o = row_of(q, q->rs->rules[i], &k);
			if (o == 1)
				q->rp[q->npass++] = q->tdesc[i];
			else if (o == 0)
				q->rf[q->nfail++] = q->tdesc[i];
			else
				q->rsk[q->nskip++] = q->tdesc[i];
		}
		row->pass = q->rp, row->npass = q->npass;
		row->fail = q->rf, row->nfail = q->nfail;
		row->skip = q->rsk, row->nskip = q->nskip;
	}
	return 0;
}

/* --- evaluation ------------------------------------------------------------ */


static void add_metric(struct ts_dq_result *r, char *name, double v)
{
	for (size_t i = 0; i < r->nmetrics; i++)
		if (!strcmp(r->metrics[i].name, name)) {
			free(name);
			return;
		}
	r->metrics = realloc(r->metrics, (r->nmetrics + 1) * sizeof(*r->metrics));
	if (!r->metrics)
		abort();
	r->metrics[r->nmetrics++] = (struct ts_dq_metric){name, v};
}

static void set_message(struct ts_dq_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_message(struct ts_dq_result *r, const char *fmt, ...)
{
	va_list ap;

	free(r->message);
	va_start(ap, fmt);
	if (vasprintf(&r->message, fmt, ap) < 0)
		abort();
	va_end(ap);
}

/* "Column.<name>." */
static char *colm(const struct ts_dq *q, const struct leaf *l, size_t i, const char *what)
{
	return xprintf("Column.%s.%s", q->cols[l->c[i]].name, what);
}

static char *multim(const struct ts_dq *q, const struct leaf *l, const char *what)
{
	struct ts_buf b;

	if (l->nc == 1)
		return colm(q, l, 0, what);
	ts_buf_init(&b, 0);
	ts_buf_addstr(&b, "Multicolumn.");
	for (size_t i = 0; i < l->nc; i++)
		ts_buf_addf(&b, "%s%s", i ? "," : "", q->cols[l->c[i]].name);
	ts_buf_addf(&b, ".%s", what);
	return ts_buf_detach(&b, NULL);
}

/* Decide cond on the metric value v (named name, for its history). */
static void judge(struct ts_dq *q, const struct ts_dq_cond *c, const char *name, double v,
		  struct ts_dq_result *r)
{
	char e[256], t[32];
	struct ts_dq_env env = q->env;
	const struct hist_metric *h = name ? history_of(q, name) : NULL;

	if (!c) {
		r->outcome = TS_DQ_PASS;
		return;
	}
	env.history = h ? h->v : NULL;
	env.nhistory = h ? h->n : 0;
	int ok = ts_dq_cond_num(c, v, &env, e, sizeof(e));
	if (ok < 0) {
		r->outcome = TS_DQ_ERROR;
		set_message(r, "%s", e);
	} else if (ok) {
		r->outcome = TS_DQ_PASS;
	} else {
		r->outcome = TS_DQ_FAIL;
		set_message(r, "Value: %s does not meet the constraint requirement!", ts_fmt_double(v, t, sizeof(t)));
	}
}

/* DetectAnomalies: v against the metric's history, mean ± 3 standard
 * deviations of the earlier runs (at least 3 of them). */
static void anomalies(struct ts_dq *q, const char *name, double v, struct ts_dq_result *r)
{
	const struct hist_metric *h = history_of(q, name);
	size_t n = h ? h->n : 0;

	if (n < 3) {
		r->outcome = TS_DQ_PASS;
		set_message(r, "%s: %zu earlier run(s) in the history, 3 needed to detect anomalies",
			    name, n);
		return;
	}
	struct ts_exact s1, s2;
	ts_exact_init(&s1);
	ts_exact_init(&s2);
	for (size_t i = 0; i < n; i++) {
		ts_exact_add(&s1, h->v[i]);
		ts_exact_add_square(&s2, h->v[i]);
	}
	double m = ts_exact_mean(&s1), sd = ts_exact_stddev(&s1, &s2, 0);
	double lo = m - 3 * sd, hi = m + 3 * sd;
	if (v < lo || v > hi) {
		r->outcome = TS_DQ_FAIL;
		char t1[32], t2[32], t3[32];
		set_message(r, "Value: %s is an anomaly: the last %zu runs give %s to %s "
			       "(mean ± 3 standard deviations)", ts_fmt_double(v, t1, sizeof(t1)), n,
			    ts_fmt_double(lo, t2, sizeof(t2)), ts_fmt_double(hi, t3, sizeof(t3)));
	} else {
		r->outcome = TS_DQ_PASS;
	}
}

/* A compliance rule: every row (or as many as the threshold says). */
static void judge_compliance(struct ts_dq *q, const struct leaf *l, uint64_t ok, uint64_t of,
			     const char *name, struct ts_dq_result *r)
{
	char t[32];
	double v = of ? (double)ok / (double)of : 0.0;

	if (!of) {
		r->outcome = TS_DQ_FAIL;
		set_message(r, "no rows to check");
		return;
	}
	if (l->r->threshold) {
		judge(q, l->r->threshold, name, v, r);
		if (r->outcome == TS_DQ_FAIL)
			set_message(r, "Value: %s does not meet the constraint requirement! "
				       "(%llu of %llu rows passed)", ts_fmt_double(v, t, sizeof(t)), (unsigned long long)ok,
				    (unsigned long long)of);
		return;
	}
	if (ok == of) {
		r->outcome = TS_DQ_PASS;
	} else {
		r->outcome = TS_DQ_FAIL;
		set_message(r, "%llu of %llu rows do not meet the constraint requirement",
			    (unsigned long long)(of - ok), (unsigned long long)of);
	}
}

/* A compliance metric name (owned: freed here): reported when report
 * (none its value with no rows), and the rule decided on it when decide. */
static void compliance(struct ts_dq *q, const struct leaf *l, struct ts_dq_result *r, char *name,
		       uint64_t ok, uint64_t of, double none, int report, int decide)
{
	if (report)
		add_metric(r, xstrdup(name), of ? (double)ok / (double)of : none);
	if (decide)
		judge_compliance(q, l, ok, of, name, r);
	free(name);
}

static void eval_leaf(struct ts_dq *q, struct leaf *l, struct ts_dq_result *r)
{
	const struct ts_dq_cond *c = l->anomalies || l->is_analyzer ? NULL : l->r->cond;
	char *main_name = NULL, t[32];
	double v = NAN;
	int have = 0;
	struct ts_distinct_stats st;

	r->rule = l->r;
	r->outcome = TS_DQ_PASS;
	if (l->cerr[0]) {
		r->outcome = TS_DQ_ERROR;
		set_message(r, "%s", l->cerr);
		return;
	}
	switch (l->t) {
	case TS_DQ_ROWCOUNT:
		main_name = xstrdup("Dataset.*.RowCount");
		v = (double)l->rows;
		have = 1;
		break;
	case TS_DQ_COLUMNCOUNT:
		if (q->names_overflow) {
			r->outcome = TS_DQ_ERROR;
			set_message(r, "more than %d different top-level keys", MAX_NAMES);
			return;
		}
		main_name = xstrdup("Dataset.*.ColumnCount");
		v = (double)ts_htab_count(&q->names);
		have = 1;
		break;
	case TS_DQ_COLUMNNAMESMATCHPATTERN: {
		uint64_t pos = 0, *val, n = 0, m = 0;
		const char *k;
		size_t kn;
		while (ts_htab_next(&q->names, &pos, &k, &kn, &val)) {
			ts_buf_reset(&q->tmp);
			ts_buf_add(&q->tmp, k, kn);
			n++;
			m += regexec(&l->re, q->tmp.data, 0, NULL, 0) == 0;
		}
		v = n ? (double)m / (double)n : 1.0;
		add_metric(r, xstrdup("Dataset.*.ColumnNamesPatternMatchRatio"), v);
		if (m != n) {
			r->outcome = TS_DQ_FAIL;
			set_message(r, "%llu of %llu column names do not match the pattern",
				    (unsigned long long)(n - m), (unsigned long long)n);
		}
		return;
	}
	case TS_DQ_COLUMNEXISTS:
		if (!l->checked) {
			r->outcome = TS_DQ_FAIL;
			set_message(r, "no record has a column %s", q->cols[l->c[0]].name);
		}
		return;
	case TS_DQ_COMPLETENESS:
	case TS_DQ_ISCOMPLETE:
		if (!l->rows) {
			r->outcome = TS_DQ_FAIL;
			set_message(r, "no rows: Completeness has no value");
			return;
		}
		main_name = colm(q, l, 0, "Completeness");
		v = (double)l->nonnull / (double)l->rows;
		have = 1;
		break;
	case TS_DQ_UNIQUENESS:
	case TS_DQ_ISUNIQUE:
	case TS_DQ_UNIQUEVALUERATIO:
	case TS_DQ_DISTINCTVALUESCOUNT:
	case TS_DQ_ENTROPY:
	case TS_DQ_ISPRIMARYKEY:
		if (ts_distinct_stats(l->set, &st) < 0) {
			r->outcome = TS_DQ_ERROR;
			set_message(r, "%s", ts_distinct_error(l->set));
			return;
		}
		if (l->t == TS_DQ_ISPRIMARYKEY) {
			/* named as Deequ's DQDL translation names them: the key's
			 * Uniqueness, and each key column's Completeness; it holds
			 * when every column is complete and the key unique */
			double comp = l->rows ? (double)l->nonnull / (double)l->rows : 0.0;
			double uniq = st.n_rows ? (double)st.n_once / (double)st.n_rows : 0.0;
			add_metric(r, multim(q, l, "Uniqueness"), uniq);
			for (size_t i = 0; i < l->nc; i++)
				add_metric(r, colm(q, l, i, "Completeness"),
					   l->rows ? (double)l->cnn[i] / (double)l->rows : 0.0);
			if (!l->rows || comp != 1.0 || uniq != 1.0) {
				r->outcome = TS_DQ_FAIL;
				set_message(r, "%s%s", l->rows ? "Value: " : "no rows",
					    l->rows ? ts_fmt_double(comp != 1.0 ? comp : uniq, t, sizeof(t)) : "");
				if (l->rows)
					set_message(r, "Value: %s does not meet the constraint requirement!",
						    ts_fmt_double(comp != 1.0 ? comp : uniq, t, sizeof(t)));
			}
			return;
		}
		if (l->t == TS_DQ_DISTINCTVALUESCOUNT) {
			/* as Deequ's histogram counts them: NULL is a value too */
			main_name = multim(q, l, "DistinctValuesCount");
			v = (double)st.n_distinct + (st.n_rows < l->rows);
			have = 1;
			break;
		}
		if (!st.n_rows) {
			r->outcome = TS_DQ_FAIL;
			set_message(r, "no non-null values: %s has no value", l->r->type->name);
			return;
		}
		if (l->t == TS_DQ_UNIQUEVALUERATIO) {
			main_name = multim(q, l, "UniqueValueRatio");
			v = (double)st.n_once / (double)st.n_distinct;
		} else if (l->t == TS_DQ_ENTROPY) {
			main_name = multim(q, l, "Entropy");
			v = st.entropy;
		} else {
			main_name = multim(q, l, "Uniqueness");
			v = (double)st.n_once / (double)st.n_rows;
		}
		have = 1;
		break;
	case TS_DQ_MEAN:
	case TS_DQ_SUM:
	case TS_DQ_STANDARDDEVIATION:
	case TS_DQ_VARIANCE:
		if (l->nonnum) {
			r->outcome = TS_DQ_ERROR;
			set_message(r, "column %s has %llu value(s) that are not numbers",
				    q->cols[l->c[0]].name, (unsigned long long)l->nonnum);
			return;
		}
		if (!ts_exact_count(&l->s[0]) && !l->s[0].n_pinf && !l->s[0].n_ninf && !l->s[0].n_nan) {
			r->outcome = TS_DQ_FAIL;
			set_message(r, "no numeric values: %s has no value", l->r->type->name);
			return;
		}
		main_name = colm(q, l, 0, l->r->type->name);
		if (l->t == TS_DQ_MEAN)
			v = ts_exact_mean(&l->s[0]);
		else if (l->t == TS_DQ_SUM)
			v = ts_exact_value(&l->s[0]);
		else if (l->t == TS_DQ_VARIANCE)
			v = ts_exact_variance(&l->s[0], &l->s[1], 0);
		else
			v = ts_exact_stddev(&l->s[0], &l->s[1], 0);
		have = 1;
		break;
	case TS_DQ_COLUMNCORRELATION:
		v = ts_exact_correlation(&l->s[0], &l->s[2], &l->s[1], &l->s[3], &l->s[4]);
		if (isnan(v)) {
			r->outcome = TS_DQ_FAIL;
			set_message(r, "correlation has no value: fewer than 2 rows with both numbers, "
				       "or a column does not vary");
			return;
		}
		main_name = multim(q, l, "ColumnCorrelation");
		have = 1;
		break;
	case TS_DQ_COLUMNLENGTH:
		if (!l->rows) {
			r->outcome = l->is_analyzer ? TS_DQ_ANALYZED : TS_DQ_FAIL;
			set_message(r, "no rows to check");
			return;
		}
		add_metric(r, colm(q, l, 0, "MinimumLength"), (double)l->minlen);
		add_metric(r, colm(q, l, 0, "MaximumLength"), (double)l->maxlen);
		if (l->rc)
			compliance(q, l, r, colm(q, l, 0, "LengthCompliance"), l->ok, l->rows, 0,
				   l->r->threshold != NULL, 1);
		return;
	case TS_DQ_COLUMNVALUES:
		if (l->nminmax && !l->nonnum && (!l->rc || l->rc->kind == TS_DQ_CK_NUMBER)) {
			add_metric(r, colm(q, l, 0, "Minimum"), l->min);
			add_metric(r, colm(q, l, 0, "Maximum"), l->max);
		}
		if (l->rc)
			compliance(q, l, r, colm(q, l, 0, "ColumnValues.Compliance"), l->ok, l->rows, 0,
				   1, 1);
		return;
	case TS_DQ_COLUMNDATATYPE: /* NULLs have every type: none checked is 1 */
		compliance(q, l, r, colm(q, l, 0, "ColumnDataType.Compliance"), l->ok, l->checked,
			   1.0, 1, l->checked != 0);
		return;
	case TS_DQ_DATAFRESHNESS:
		compliance(q, l, r, colm(q, l, 0, "DataFreshness.Compliance"), l->ok, l->rows, 0, 1,
			   l->rc != NULL);
		return;
	case TS_DQ_CUSTOMSQL: {
		struct ts_dqsql_result sr;
		if (q->merged) {
			r->outcome = TS_DQ_ERROR;
			set_message(r, "CustomSql needs the records themselves: it cannot be evaluated "
				       "from merged states");
			return;
		}
		if (q->sql_failed || !q->sql) {
			r->outcome = TS_DQ_ERROR;
			set_message(r, "%s", q->sql_err[0] ? q->sql_err : "SQLite is not available");
			return;
		}
		const char *sql = param(l->r, 0)->val;
		enum ts_dqsql_kind k = l->r->threshold || !l->r->cond ? TS_DQSQL_ROWS : TS_DQSQL_VALUE;
		if (ts_dqsql_query(q->sql, sql, k, &sr) < 0) {
			r->outcome = TS_DQ_ERROR;
			set_message(r, "%s", sr.err);
			return;
		}
		if (sr.kind == TS_DQSQL_ROWS) {
			compliance(q, l, r, xstrdup("Dataset.*.CustomSQL.Compliance"), sr.passed,
				   sr.total, sr.value, 1, 1);
			return;
		}
		if (sr.is_null) {
			r->outcome = TS_DQ_FAIL;
			set_message(r, "the query returned NULL");
			return;
		}
		main_name = xstrdup("Dataset.*.CustomSQL");
		v = sr.value;
		have = 1;
		break;
	}
	case TS_DQ_FILEFRESHNESS:
	case TS_DQ_FILESIZE:
	case TS_DQ_FILEMATCH:
	case TS_DQ_FILEUNIQUENESS: {
		struct ts_dqfile_result fr;
		memset(&fr, 0, sizeof(fr));
		struct ts_dq_env env = q->env;
		env.time_zone = ts_dq_rule_time_zone(l->r);
		ts_dqfile_eval_inferred(l->r, &env, q->o.inputs, q->o.ninputs, &fr);
		for (size_t i = 0; i < fr.nmetrics; i++)
			add_metric(r, xstrdup(fr.metrics[i].name), fr.metrics[i].value);
		r->outcome = fr.outcome == 0 ? TS_DQ_PASS : fr.outcome == 1 ? TS_DQ_FAIL : TS_DQ_ERROR;
		if (fr.message[0])
			set_message(r, "%s", fr.message);
		return;
	}
	case TS_DQ_ROWCOUNTMATCH:
		if (!l->rrows) {
			r->outcome = TS_DQ_ERROR;
			set_message(r, "the reference dataset %s has no rows", l->ref);
			return;
		}
		main_name = xprintf("Dataset.%s.RowCountMatch", l->ref);
		v = (double)l->rows / (double)l->rrows;
		have = 1;
		break;
	case TS_DQ_REFERENTIALINTEGRITY:
	case TS_DQ_DATASETMATCH:
		if (!l->rows) {
			r->outcome = TS_DQ_FAIL;
			set_message(r, "no rows to check");
			return;
		}
		main_name = l->t == TS_DQ_DATASETMATCH ? xprintf("Dataset.%s.DatasetMatch", l->ref)
						       : xprintf("Column.%s.ReferentialIntegrity", l->ref);
		v = (double)l->ok / (double)l->rows;
		have = 1;
		break;
	case TS_DQ_SCHEMAMATCH: {
		uint64_t pos = 0, *val, *other, uni = 0, same = 0;
		const char *k;
		size_t kn;
		while (ts_htab_next(&q->names, &pos, &k, &kn, &val)) {
			uni++;
			other = ts_htab_get(&l->rnames, ts_hash(ts_hkey_process(), k, kn), k, kn);
			same += other && *other == *val;
		}
		pos = 0;
		while (ts_htab_next(&l->rnames, &pos, &k, &kn, &val))
			uni += !ts_htab_get(&q->names, ts_hash(ts_hkey_process(), k, kn), k, kn);
		main_name = xprintf("Dataset.%s.SchemaMatch", l->ref);
		v = uni ? (double)same / (double)uni : 1.0;
		have = 1;
		break;
	}
	case TS_DQ_AGGREGATEMATCH: {
		double a = agg_value(&l->agg[0]), b = agg_value(&l->agg[1]);
		if (isnan(a) || isnan(b) || b == 0) {
			r->outcome = TS_DQ_FAIL;
			set_message(r, "an aggregate has no value (no numbers, or the second is 0)");
			/* "ref.col" read as a column of this dataset: most likely a
			 * reference dataset not given */
			for (int i = 0; i < 2; i++) {
				const struct agg *g = &l->agg[i];
				const char *dot = g->refi < 0 ? strchr(g->col, '.') : NULL;
				if (dot && isnan(i ? b : a))
					set_message(r, "no numbers in column \"%s\", and no "
						       "reference dataset \"%.*s\" (give it with --ref %.*s=FILE)",
						    g->col, (int)(dot - g->col), g->col,
						    (int)(dot - g->col), g->col);
			}
			return;
		}
		main_name = !strcmp(l->agg[0].col, l->agg[1].col)
				    ? xprintf("Column.%s.AggregateMatch", l->agg[0].col)
				    : xprintf("Column.%s,%s.AggregateMatch", l->agg[0].col, l->agg[1].col);
		v = a / b;
		have = 1;
		break;
	}
	case TS_DQ_ALLSTATISTICS:
		add_metric(r, xstrdup("Dataset.*.RowCount"), (double)l->rows);
		if (l->rows)
			add_metric(r, colm(q, l, 0, "Completeness"), (double)l->nonnull / (double)l->rows);
		if (ts_distinct_stats(l->set, &st) == 0 && st.n_rows) {
			add_metric(r, colm(q, l, 0, "Uniqueness"), (double)st.n_once / (double)st.n_rows);
			add_metric(r, colm(q, l, 0, "DistinctValuesCount"), (double)st.n_distinct + (st.n_rows < l->rows));
			add_metric(r, colm(q, l, 0, "UniqueValueRatio"),
				   (double)st.n_once / (double)st.n_distinct);
			add_metric(r, colm(q, l, 0, "Entropy"), st.entropy);
		}
		if (l->nminmax && !l->nonnum) {
			add_metric(r, colm(q, l, 0, "Mean"), ts_exact_mean(&l->s[0]));
			add_metric(r, colm(q, l, 0, "Sum"), ts_exact_value(&l->s[0]));
			add_metric(r, colm(q, l, 0, "StandardDeviation"),
				   ts_exact_stddev(&l->s[0], &l->s[1], 0));
			add_metric(r, colm(q, l, 0, "Minimum"), l->min);
			add_metric(r, colm(q, l, 0, "Maximum"), l->max);
		} else if (l->nlen) {
			add_metric(r, colm(q, l, 0, "MinimumLength"), (double)l->minlen);
			add_metric(r, colm(q, l, 0, "MaximumLength"), (double)l->maxlen);
		}
		r->outcome = TS_DQ_ANALYZED;
		return;
	default:
		r->outcome = TS_DQ_ERROR;
		set_message(r, "%s is not supported", l->r->type->name);
		return;
	}
	if (have) {
		add_metric(r, xstrdup(main_name), v);
		if (l->is_analyzer)
			r->outcome = TS_DQ_ANALYZED;
		else if (l->anomalies)
			anomalies(q, main_name, v, r);
		else if (!c && (l->t == TS_DQ_ISCOMPLETE || l->t == TS_DQ_ISUNIQUE)) {
			r->outcome = v == 1.0 ? TS_DQ_PASS : TS_DQ_FAIL;
			if (v != 1.0)
				set_message(r, "Value: %s does not meet the constraint requirement!", ts_fmt_double(v, t, sizeof(t)));
		} else
			judge(q, c, main_name, v, r);
	}
	free(main_name);
}

static void result_free(struct ts_dq_result *r)
{
	free(r->name);
	free(r->description);
	free(r->evaluated);
	free(r->message);
	for (size_t i = 0; i < r->nmetrics; i++)
		free(r->metrics[i].name);
	free(r->metrics);
	for (size_t i = 0; i < r->nlabels; i++) {
		free(r->label_keys[i]);
		free(r->label_values[i]);
	}
	free(r->label_keys);
	free(r->label_values);
	for (size_t i = 0; i < r->nfields; i++)
		free(r->fields[i]);
	free(r->fields);
	free(r->types);
	memset(r, 0, sizeof(*r));
}

/* A rule tree's result: leaves evaluated, composites combined. */
static void add_field(struct ts_dq_result *r, const char *f)
{
	for (size_t i = 0; i < r->nfields; i++)
		if (!strcmp(r->fields[i], f))
			return;
	r->fields = realloc(r->fields, (r->nfields + 1) * sizeof(char *));
	if (!r->fields)
		abort();
	r->fields[r->nfields++] = xstrdup(f);
}

static void add_type(struct ts_dq_result *r, const char *t)
{
	for (size_t i = 0; i < r->ntypes; i++)
		if (!strcmp(r->types[i], t))
			return;
	r->types = realloc(r->types, (r->ntypes + 1) * sizeof(char *));
	if (!r->types)
		abort();
	r->types[r->ntypes++] = t;
}

static void eval_rule(struct ts_dq *q, const struct ts_dq_rule *rule, struct ts_dq_result *r)
{
	if (rule->logic == TS_DQ_LEAF) {
		struct leaf *l = leaf_of(q, rule);
		eval_leaf(q, l, r);
		add_type(r, rule->type->name);
		for (size_t i = 0; i < l->nc; i++)
			add_field(r, q->cols[l->c[i]].name);
		for (int i = 0; i < 2; i++)
			if (l->agg[i].col && l->agg[i].refi < 0)
				add_field(r, l->agg[i].col);
		return;
	}
	int any_pass = 0, any_fail = 0, any_err = 0;
	struct ts_buf msg;
	ts_buf_init(&msg, 0);
	r->rule = rule;
	for (size_t i = 0; i < rule->nchildren; i++) {
		struct ts_dq_result c;
		memset(&c, 0, sizeof(c));
		eval_rule(q, rule->children[i], &c);
		any_pass |= c.outcome == TS_DQ_PASS;
		any_fail |= c.outcome == TS_DQ_FAIL;
		any_err |= c.outcome == TS_DQ_ERROR;
		for (size_t k = 0; k < c.nmetrics; k++) {
			add_metric(r, c.metrics[k].name, c.metrics[k].value);
			c.metrics[k].name = NULL;
		}
		for (size_t k = 0; k < c.nfields; k++)
			add_field(r, c.fields[k]);
		for (size_t k = 0; k < c.ntypes; k++)
			add_type(r, c.types[k]);
		c.nmetrics = 0;
		if (c.message) {
			struct ts_buf d;
			ts_buf_init(&d, 0);
			ts_dqdl_print_rule(&d, rule->children[i]);
			ts_buf_addf(&msg, "%s%s: %s", msg.len ? "; " : "", d.data, c.message);
			ts_buf_release(&d);
		}
		result_free(&c);
	}
	if (rule->logic == TS_DQ_AND)
		r->outcome = any_fail ? TS_DQ_FAIL : any_err ? TS_DQ_ERROR : TS_DQ_PASS;
	else
		r->outcome = any_pass ? TS_DQ_PASS : any_err ? TS_DQ_ERROR : TS_DQ_FAIL;
	if (r->outcome != TS_DQ_PASS && msg.len)
		r->message = ts_buf_detach(&msg, NULL);
	ts_buf_release(&msg);
}

static void add_labels(const struct ts_dq *q, const struct ts_dq_rule *rule, struct ts_dq_result *r)
{
	size_t n = q->rs->ndefault_labels + (rule->logic == TS_DQ_LEAF ? rule->nlabels : 0);

	r->label_keys = xcalloc(n, sizeof(char *));
	r->label_values = xcalloc(n, sizeof(char *));
	for (size_t pass = 0; pass < 2; pass++) {
		const struct ts_dq_label *lb = pass ? rule->labels : q->rs->default_labels;
		size_t m = pass ? (rule->logic == TS_DQ_LEAF ? rule->nlabels : 0) : q->rs->ndefault_labels;
		for (size_t i = 0; i < m; i++) {
			size_t k;
			for (k = 0; k < r->nlabels; k++)
				if (!strcmp(r->label_keys[k], lb[i].key))
					break;
			if (k < r->nlabels) { /* the rule's own label wins */
				free(r->label_values[k]);
				r->label_values[k] = xstrdup(lb[i].value);
				continue;
			}
			r->label_keys[r->nlabels] = xstrdup(lb[i].key);
			r->label_values[r->nlabels++] = xstrdup(lb[i].value);
		}
	}
}

int ts_dq_evaluate(struct ts_dq *q, struct ts_dq_results *out)
{
	size_t n = q->rs->nrules + q->rs->nanalyzers;

	memset(out, 0, sizeof(*out));
	out->r = xcalloc(n, sizeof(*out->r));
	out->rows = q->rows;
	for (size_t i = 0; i < n; i++) {
		int an = i >= q->rs->nrules;
		const struct ts_dq_rule *rule = an ? q->rs->analyzers[i - q->rs->nrules] : q->rs->rules[i];
		struct ts_dq_result *r = &out->r[out->n++];
		struct ts_buf d;

		eval_rule(q, rule, r);
		r->rule = rule;
		r->is_analyzer = an;
		r->name = an ? xprintf("Analyzer_%zu", i - q->rs->nrules + 1) : xprintf("Rule_%zu", i + 1);
		ts_buf_init(&d, 0);
		ts_dqdl_print_rule(&d, rule);
		r->description = ts_buf_detach(&d, NULL);
		add_labels(q, rule, r);
		if (an) {
			r->outcome = TS_DQ_ANALYZED;
			continue;
		}
		out->total++;
		if (r->outcome == TS_DQ_PASS)
			out->passed++;
		else if (r->outcome == TS_DQ_FAIL)
			out->failed++;
		else
			out->errored++;
	}
	return 0;
}

void ts_dq_results_release(struct ts_dq_results *res)
{
	for (size_t i = 0; i < res->n; i++)
		result_free(&res->r[i]);
	free(res->r);
	memset(res, 0, sizeof(*res));
}

/* --- history ------------------------------------------------------------- */

int ts_dq_history_append(const struct ts_dq_results *res, const char *path, double now,
			 char *err, size_t errlen)
{
	json_t *j = json_object(), *m = json_object();
	struct ts_civil c;
	char when[64];
	FILE *f;

	ts_civil_from_ms((int64_t)floor(now * 1000.0), &c);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year, c.month, c.day,
		 c.hour, c.min, c.sec, c.msec);
	for (size_t i = 0; i < res->n; i++)
		for (size_t k = 0; k < res->r[i].nmetrics; k++)
			if (isfinite(res->r[i].metrics[k].value)) {
				double v = res->r[i].metrics[k].value;
				/* integers as integers, as the results print them */
				json_object_set_new(m, res->r[i].metrics[k].name,
						    v == floor(v) && fabs(v) < 9007199254740992.0
							    ? json_integer((json_int_t)v)
							    : json_real(v));
			}
	json_object_set_new(j, "time", json_string(when));
	json_object_set_new(j, "metrics", m);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
	json_decref(j);
	if (!s)
		return snprintf(err, errlen, "out of memory"), -1;
	f = fopen(path, "a");
	if (!f || fprintf(f, "%s\n", s) < 0 || fclose(f) != 0) {
		snprintf(err, errlen, "cannot append to history: %s", strerror(errno));
		free(s);
		return -1;
	}
	free(s);
	return 0;
}

/* --- state files ----------------------------------------------------------
 *
 *	ts-validate state 1
 *	ruleset <bytes>\n<the canonical ruleset>
 *	rows <n>
 *	names <k> <overflow>, then k lines "<types> <name as a JSON string>"
 *	leaf <i> <rows> <nonnull> <ok> <checked> <nonnum> <nminmax> <min> <max>
 *	     <nlen> <minlen> <maxlen> <sums: 0 or 5> <has a set>
 *	then the five exact sums (exact.h's tokens, a line each) and the value
 *	set (distinct.h's stream)
 *	end
 *
 * min and max are written as C99 hex floats: exact.
 */

/* with_sets 0: the value sets are left out (marked absent), for a caller
 * that moves them itself. */
static int write_all_state(struct ts_dq *q, FILE *f, int with_sets)
{
	struct ts_buf b;
	uint64_t pos = 0, *val;
	const char *k;
	size_t kn;

	ts_buf_init(&b, 0);
	ts_dqdl_print(&b, q->rs);
	fprintf(f, STATE_MAGIC "ruleset %zu\n", b.len);
	fwrite(b.data, 1, b.len, f);
	fprintf(f, "rows %llu\nnames %zu %d\n", (unsigned long long)q->rows,
		ts_htab_count(&q->names), q->names_overflow);
	while (ts_htab_next(&q->names, &pos, &k, &kn, &val)) {
		ts_buf_reset(&b);
		ts_json_escape(&b, k, kn);
		if (!b.len) { /* not UTF-8: as bytes, escaped one by one */
			ts_buf_addch(&b, '"');
			for (size_t i = 0; i < kn; i++)
				ts_buf_addf(&b, "\\u%04x", (unsigned char)k[i]);
			ts_buf_addch(&b, '"');
		}
		fprintf(f, "%llu %s\n", (unsigned long long)*val, b.data);
	}
	for (size_t i = 0; i < q->nleaves; i++) {
		struct leaf *l = &q->leaves[i];
		fprintf(f, "leaf %zu %llu %llu %llu %llu %llu %llu %a %a %llu %llu %llu %d %d\n", i,
			(unsigned long long)l->rows, (unsigned long long)l->nonnull,
			(unsigned long long)l->ok, (unsigned long long)l->checked,
			(unsigned long long)l->nonnum, (unsigned long long)l->nminmax, l->min, l->max,
			(unsigned long long)l->nlen, (unsigned long long)l->minlen,
			(unsigned long long)l->maxlen, l->s ? 5 : 0, with_sets && l->set != NULL);
		if (l->t == TS_DQ_ISPRIMARYKEY) {
			fprintf(f, "cols %zu", l->nc);
			for (size_t c = 0; c < l->nc; c++)
				fprintf(f, " %llu", (unsigned long long)l->cnn[c]);
			fprintf(f, "\n");
		}
		for (int s = 0; l->s && s < 5; s++) {
			ts_buf_reset(&b);
			ts_exact_write(&l->s[s], &b);
			fprintf(f, "%s\n", b.data);
		}
		for (int a = 0; a < 2; a++) {
			if (!l->agg[a].col)
				continue;
			if (l->agg[a].refi >= 0) { /* read again by the merging run */
				fprintf(f, "agg ref\n");
				continue;
			}
			ts_buf_reset(&b);
			ts_exact_write(&l->agg[a].s, &b);
			fprintf(f, "agg %llu %a %a %s\n", (unsigned long long)l->agg[a].n, l->agg[a].min,
				l->agg[a].max, b.data);
		}
		if (with_sets && l->set && ts_distinct_write(l->set, f) < 0) {
			ts_buf_release(&b);
			return -1;
		}
	}
	fprintf(f, "end\n");
	ts_buf_release(&b);
	return ferror(f) ? -1 : 0;
}

/* Published whole or not at all (util.h, ts_afile): a run stopped
 * mid-write leaves no half state for a merge to read, and no temporary
 * file (SIGKILL aside). */
int ts_dq_state_write(struct ts_dq *q, const char *path, char *err, size_t errlen)
{
	struct ts_afile af;
	FILE *f;
	int bad, e;

	if (ts_afile_open(&af, path) < 0 || !(f = fdopen(dup(af.fd), "w"))) {
		snprintf(err, errlen, "cannot create state file: %s", strerror(errno));
		ts_afile_abort(&af);
		return -1;
	}
	errno = 0;
	bad = write_all_state(q, f, 1) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0;
	e = errno ? errno : EIO;
	if (fclose(f) != 0 && !bad)
		bad = 1, e = errno;
	if (!bad && ts_afile_commit(&af) < 0)
		bad = 1, e = errno;
	if (bad) {
		snprintf(err, errlen, "cannot write state file: %s", strerror(e));
		ts_afile_abort(&af);
		return -1;
	}
	return 0;
}

static int bad_state(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "not a state file of this ruleset: %s", what);
	return -1;
}

static int read_line(FILE *f, struct ts_buf *b)
{
	int ch;

	ts_buf_reset(b);
	while ((ch = getc(f)) != EOF && ch != '\n')
		if (ts_buf_addch(b, (char)ch) < 0)
			return -1;
	return ch == '\n' ? 0 : -1;
}

static int merge_stream(struct ts_dq *q, FILE *f, int with_sets, char *err, size_t errlen);

int ts_dq_state_merge(struct ts_dq *q, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return snprintf(err, errlen, "cannot open state file: %s", strerror(errno)), -1;
	int rc = merge_stream(q, f, 1, err, errlen);
	fclose(f);
	if (rc == 0)
		q->merged = 1; /* the records themselves are not here */
	return rc;
}

int ts_dq_wants_one_pass(const struct ts_dq *q)
{
	return q->sql != NULL || q->sql_failed;
}

int ts_dq_absorb(struct ts_dq *q, struct ts_dq *other, char *err, size_t errlen)
{
	FILE *f = tmpfile();
	int rc;

	if (!f)
		return snprintf(err, errlen, "cannot create a temporary file: %s", strerror(errno)), -1;
	/* the counters go through a state stream; the value sets, the bulk,
	 * move as they are (their runs change hands, nothing is copied) */
	if (write_all_state(other, f, 0) < 0 || fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0) {
		snprintf(err, errlen, "cannot write a temporary file: %s", strerror(errno ? errno : EIO));
		fclose(f);
		return -1;
	}
	rc = merge_stream(q, f, 0, err, errlen);
	fclose(f);
	for (size_t i = 0; rc == 0 && i < q->nleaves; i++)
		if (q->leaves[i].set && other->leaves[i].set &&
		    ts_distinct_take(q->leaves[i].set, other->leaves[i].set) < 0) {
			snprintf(err, errlen, "cannot keep a value set: %s",
				 ts_distinct_error(q->leaves[i].set));
			rc = -1;
		}
	return rc;
}

/* with_sets 0: a stream written without the value sets (ts_dq_absorb). */
static int merge_stream(struct ts_dq *q, FILE *f, int with_sets, char *err, size_t errlen)
{
	struct ts_buf b, rs;
	unsigned long long rows, nnames;
	int overflow, rc = -1;
	size_t len;

	ts_buf_init(&b, (size_t)1 << 28);
	ts_buf_init(&rs, 0);
	ts_dqdl_print(&rs, q->rs);
	if (read_line(f, &b) < 0 || strcmp(b.data, "ts-validate state 1")) {
		bad_state(err, errlen, "no header");
		goto out;
	}
	if (read_line(f, &b) < 0 || sscanf(b.data, "ruleset %zu", &len) != 1 || len != rs.len) {
		bad_state(err, errlen, "it was written for another ruleset");
		goto out;
	}
	ts_buf_reset(&b);
	if (ts_buf_grow(&b, len) < 0 || fread(b.data, 1, len, f) != len ||
	    memcmp(b.data, rs.data, len)) {
		bad_state(err, errlen, "it was written for another ruleset");
		goto out;
	}
	if (read_line(f, &b) < 0 || sscanf(b.data, "rows %llu", &rows) != 1 ||
	    read_line(f, &b) < 0 || sscanf(b.data, "names %llu %d", &nnames, &overflow) != 2) {
		bad_state(err, errlen, "bad counts");
		goto out;
	}
	q->rows += rows;
	q->names_overflow |= overflow;
	for (unsigned long long i = 0; i < nnames; i++) {
		unsigned long long types;
		int off = 0;
		if (read_line(f, &b) < 0 || sscanf(b.data, "%llu %n", &types, &off) != 1 || !off) {
			bad_state(err, errlen, "bad column name");
			goto out;
		}
		json_t *s = json_loads(b.data + off, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		if (!json_is_string(s)) {
			json_decref(s);
			bad_state(err, errlen, "bad column name");
			goto out;
		}
		const char *k = json_string_value(s);
		size_t kn = json_string_length(s);
		uint64_t h = ts_hash(ts_hkey_process(), k, kn);
		uint64_t *slot = ts_htab_get(&q->names, h, k, kn);
		if (!slot && ts_htab_count(&q->names) < MAX_NAMES)
			slot = ts_htab_put(&q->names, h, k, kn, NULL);
		if (slot)
			*slot |= types;
		else
			q->names_overflow = 1;
		json_decref(s);
	}
	for (size_t i = 0; i < q->nleaves; i++) {
		struct leaf *l = &q->leaves[i];
		unsigned long long a[9];
		size_t li;
		double mn, mx;
		int ns, hs;
		char smin[64], smax[64];
		if (read_line(f, &b) < 0 ||
		    sscanf(b.data, "leaf %zu %llu %llu %llu %llu %llu %llu %63s %63s %llu %llu %llu %d %d",
			   &li, &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], smin, smax, &a[6], &a[7],
			   &a[8], &ns, &hs) != 14 ||
		    li != i || ns != (l->s ? 5 : 0) || hs != (with_sets && l->set != NULL)) {
			bad_state(err, errlen, "bad rule state");
			goto out;
		}
		mn = strtod(smin, NULL);
		mx = strtod(smax, NULL);
		l->rows += a[0];
		l->nonnull += a[1];
		l->ok += a[2];
		l->checked += a[3];
		l->nonnum += a[4];
		l->nminmax += a[5];
		if (mn < l->min)
			l->min = mn;
		if (mx > l->max)
			l->max = mx;
		if (a[6]) {
			if (!l->nlen || a[7] < l->minlen)
				l->minlen = a[7];
			if (!l->nlen || a[8] > l->maxlen)
				l->maxlen = a[8];
			l->nlen += a[6];
		}
		if (l->t == TS_DQ_ISPRIMARYKEY) {
			const char *p;
			char *end;
			size_t nc;
			int off = 0;
			if (read_line(f, &b) < 0 || sscanf(b.data, "cols %zu%n", &nc, &off) != 1 ||
			    nc != l->nc) {
				bad_state(err, errlen, "bad key columns");
				goto out;
			}
			p = b.data + off;
			for (size_t c = 0; c < nc; c++) {
				unsigned long long x;
				errno = 0;
				if (*p != ' ' || p[1] < '0' || p[1] > '9' ||
				    (x = strtoull(p + 1, &end, 10), errno)) {
					bad_state(err, errlen, "bad key columns");
					goto out;
				}
				l->cnn[c] += x;
				p = end;
			}
			if (*p) {
				bad_state(err, errlen, "bad key columns");
				goto out;
			}
		}
		for (int s = 0; s < ns; s++) {
			struct ts_exact e;
			if (read_line(f, &b) < 0 || ts_exact_read(&e, b.data, b.len) < 0) {
				bad_state(err, errlen, "bad sum");
				goto out;
			}
			ts_exact_merge(&l->s[s], &e);
		}
		for (int ag = 0; ag < 2; ag++) {
			struct agg *g = &l->agg[ag];
			unsigned long long gn;
			char s1[64], s2[64];
			int off = 0;
			struct ts_exact e;
			if (!g->col)
				continue;
			if (read_line(f, &b) < 0) {
				bad_state(err, errlen, "bad aggregate");
				goto out;
			}
			if (!strcmp(b.data, "agg ref") || g->refi >= 0) {
				/* the same reference dataset, or a clear word why not */
				const char *col = g->col, *dot = strchr(col, '.');
				if (!strcmp(b.data, "agg ref") && g->refi >= 0)
					continue;
				if (g->refi >= 0)
					snprintf(err, errlen, "%s was written without --ref %s=FILE, "
						 "which this run has: merge with the --ref options "
						 "of the runs that wrote the states", l->desc,
						 q->o.refs[g->refi].alias);
				else
					snprintf(err, errlen, "%s was written with --ref %.*s=FILE: "
						 "give the merging run the same --ref options", l->desc,
						 dot ? (int)(dot - col) : 0, col);
				goto out;
			}
			if (sscanf(b.data, "agg %llu %63s %63s %n", &gn, s1, s2, &off) != 3 || !off ||
			    ts_exact_read(&e, b.data + off, b.len - (size_t)off) < 0) {
				bad_state(err, errlen, "bad aggregate");
				goto out;
			}
			g->n += gn;
			ts_exact_merge(&g->s, &e);
			if (strtod(s1, NULL) < g->min)
				g->min = strtod(s1, NULL);
			if (strtod(s2, NULL) > g->max)
				g->max = strtod(s2, NULL);
		}
		if (hs && ts_distinct_read(l->set, f) < 0) {
			snprintf(err, errlen, "bad value set: %s", ts_distinct_error(l->set));
			goto out;
		}
	}
	if (read_line(f, &b) < 0 || strcmp(b.data, "end")) {
		bad_state(err, errlen, "no end");
		goto out;
	}
	rc = 0;
out:
	ts_buf_release(&b);
	ts_buf_release(&rs);
	return rc;
}
