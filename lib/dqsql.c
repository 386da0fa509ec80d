/* dqsql.c — see dqsql.h. */
#include "dqsql.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "util.h"

#define PLACEHOLDER "_"
#define RESULT_TABLE "ts_dqsql_r"
#define POS_CACHE 256 /* members whose column is remembered by position */

struct col {
	char *key;     /* the decoded key (may hold NUL bytes) */
	size_t keylen;
	char *name;    /* the column's name in SQL (NUL-free) */
};

/* One value of the record being added, ready to bind. */
struct val {
	int col;
	enum { V_NULL, V_INT, V_REAL, V_TEXT, V_SCRATCH } type;
	int64_t i;
	double d;
	const char *p; /* V_TEXT: into the record */
	size_t off, n; /* V_SCRATCH: into db->scratch; both: length */
};

struct ts_dqsql {
	sqlite3 *db;
	sqlite3_stmt *ins;    /* INSERT of all columns, NULL when stale */

	struct col *cols;
	size_t ncols, capcols;
	int32_t *slot;        /* open addressing: decoded key -> column, -1 empty */
	size_t nslot;         /* a power of two, > 2 * ncols */
	uint64_t seed;
	int32_t pos[POS_CACHE]; /* column of the i-th member of the last record */

	size_t sqlcols;       /* cols[] made in SQL so far */
	size_t maxcols;
	int table;            /* "primary" exists */
	int placeholder;      /* ... with the unclaimed column "_" */
	uint64_t pending;     /* records added before it existed */
	int in_txn;

	struct val *vals;     /* the record being added */
	size_t nvals, capvals;
	int *bound;           /* parameters bound for this row */
	size_t nbound, capbound;

	uint64_t nrows, dropped;
	double timeout, deadline;
	int timing, timed_out;
	const char *denied;   /* what the authorizer refused */
	int dead;
	char err[512];

	struct ts_buf scratch, key, num, sql;
};

/* --- errors -------------------------------------------------------------- */

static void set_msg(char *dst, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_msg(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}

/* A failure while loading: the handle is dead from now on. */
static int fail(struct ts_dqsql *db, const char *what)
{
	if (!db->dead)
		set_msg(db->err, sizeof(db->err), "%s: %s", what,
			db->db ? sqlite3_errmsg(db->db) : "out of memory");
	db->dead = 1;
	return -1;
}

static int exec(struct ts_dqsql *db, const char *sql)
{
	return sqlite3_exec(db->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* --- names --------------------------------------------------------------- */

static int add_quoted(struct ts_buf *b, const char *name)
{
	if (ts_buf_addch(b, '"') < 0)
		return -1;
	for (const char *p = name; *p; p++)
		if ((*p == '"' && ts_buf_addch(b, '"') < 0) || ts_buf_addch(b, *p) < 0)
			return -1;
	return ts_buf_addch(b, '"');
}

/* SQLite compares names ignoring ASCII case only. */
static int name_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
		if (x >= 'A' && x <= 'Z')
			x += 32;
		if (y >= 'A' && y <= 'Z')
			y += 32;
		if (x != y)
			return 0;
		if (!x)
			return 1;
	}
}

static long find_name(const struct ts_dqsql *db, const char *name)
{
	for (size_t i = 0; i < db->ncols; i++)
		if (name_eq(db->cols[i].name, name))
			return (long)i;
	return -1;
}

/* --- the key table ------------------------------------------------------- */

/* Keys come from the data, so the hash is seeded per handle; the table
 * never holds more than TS_DQSQL_MAX_COLUMNS keys. */
static uint64_t khash(const struct ts_dqsql *db, const char *p, size_t n)
{
	uint64_t h = db->seed ^ (n * 0x9e3779b97f4a7c15ull);

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ull;
	return h ^ (h >> 32);
}

static long lookup(const struct ts_dqsql *db, const char *k, size_t n)
{
	size_t mask = db->nslot - 1;

	if (!db->nslot)
		return -1;
	for (size_t i = khash(db, k, n) & mask;; i = (i + 1) & mask) {
		int32_t c = db->slot[i];
		if (c < 0)
			return -1;
		if (db->cols[c].keylen == n && memcmp(db->cols[c].key, k, n) == 0)
			return c;
	}
}

static int rehash(struct ts_dqsql *db)
{
	size_t n = db->nslot ? db->nslot : 64;

	while (n <= 2 * (db->ncols + 1))
		n *= 2;
	int32_t *s = malloc(n * sizeof(*s));
	if (!s)
		return -1;
	memset(s, 0xff, n * sizeof(*s));
	free(db->slot);
	db->slot = s;
	db->nslot = n;
	for (size_t c = 0; c < db->ncols; c++) {
		size_t i = khash(db, db->cols[c].key, db->cols[c].keylen) & (n - 1);
		while (s[i] >= 0)
			i = (i + 1) & (n - 1);
		s[i] = (int32_t)c;
	}
	return 0;
}

/* Note a column (key and SQL name) in the table; its index. */
static long note_col(struct ts_dqsql *db, const char *k, size_t n, const char *name)
{
	if (db->ncols == db->capcols) {
		size_t nc = db->capcols ? db->capcols * 2 : 16;
		struct col *c = realloc(db->cols, nc * sizeof(*c));
		if (!c)
			return -1;
		db->cols = c;
		db->capcols = nc;
	}
	struct col *c = &db->cols[db->ncols];
	c->key = malloc(n + 1);
	c->name = strdup(name);
	if (!c->key || !c->name) {
		free(c->key);
		free(c->name);
		return -1;
	}
	memcpy(c->key, k, n);
	c->key[n] = '\0';
	c->keylen = n;
	db->ncols++;
	if (rehash(db) < 0) {
		db->ncols--;
		free(c->key);
		free(c->name);
		return -1;
	}
	return (long)db->ncols - 1;
}

/* The column name for a key: U+0000 cannot be in a name, and a name
 * equal to an existing one but for ASCII case gets "#2", "#3", ... */
static int make_name(struct ts_dqsql *db, const char *k, size_t n, struct ts_buf *out)
{
	ts_buf_reset(out);
	for (size_t i = 0; i < n; i++)
		if (k[i] ? ts_buf_addch(out, k[i]) < 0
			 : ts_buf_add(out, "\xef\xbf\xbd", 3) < 0)
			return -1;
	size_t base = out->len;
	for (unsigned i = 2; find_name(db, out->data) >= 0; i++) {
		ts_buf_setlen(out, base);
		if (ts_buf_addf(out, "#%u", i) < 0)
			return -1;
	}
	return 0;
}

/* --- the table ----------------------------------------------------------- */

static int begin(struct ts_dqsql *db)
{
	if (!db->in_txn) {
		if (exec(db, "BEGIN") < 0)
			return fail(db, "cannot start a transaction");
		db->in_txn = 1;
	}
	return 0;
}

static int commit(struct ts_dqsql *db)
{
	if (db->in_txn) {
		if (exec(db, "COMMIT") < 0)
			return fail(db, "cannot commit the records");
		db->in_txn = 0;
	}
	return 0;
}

static void stale_insert(struct ts_dqsql *db)
{
	sqlite3_finalize(db->ins);
	db->ins = NULL;
	db->nbound = 0;
	for (size_t i = 0; i < POS_CACHE; i++)
		db->pos[i] = -1;
}

/* Columns noted since the last sync become columns of "primary": all in
 * one CREATE TABLE when it is new (the first record usually brings every
 * key: an ALTER TABLE each would reload a growing schema each time), then
 * the rows of the records added before (they had no keys). */
static int sync_columns(struct ts_dqsql *db)
{
	struct ts_buf *q = &db->sql;

	if (db->sqlcols == db->ncols)
		return 0;
	stale_insert(db);
	if (!db->table) {
		ts_buf_reset(q);
		ts_buf_addstr(q, "CREATE TABLE main.\"primary\"(");
		for (size_t i = 0; i < db->ncols; i++)
			if ((i && ts_buf_addch(q, ',') < 0) || add_quoted(q, db->cols[i].name) < 0)
				break;
		if (ts_buf_addch(q, ')') < 0 || exec(db, q->data) < 0)
			return fail(db, "cannot create the table");
		db->table = 1;
		db->sqlcols = db->ncols;
	}
	if (db->pending) {
		ts_buf_reset(q);
		if (ts_buf_addf(q, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
				   "SELECT i + 1 FROM n WHERE i < %llu) "
				   "INSERT INTO main.\"primary\"(rowid) SELECT NULL FROM n",
				(unsigned long long)db->pending) < 0 ||
		    exec(db, q->data) < 0)
			return fail(db, "cannot insert the records");
		db->pending = 0;
	}
	for (; db->sqlcols < db->ncols; db->sqlcols++) {
		ts_buf_reset(q);
		if (ts_buf_addstr(q, "ALTER TABLE main.\"primary\" ADD COLUMN ") < 0 ||
		    add_quoted(q, db->cols[db->sqlcols].name) < 0 || exec(db, q->data) < 0)
			return fail(db, "cannot add a column");
	}
	if (db->placeholder && db->ncols > 1) {
		/* the first real key: the stand-in column 0 goes, and the
		 * record being added (it has no value for it) follows */
		if (exec(db, "ALTER TABLE main.\"primary\" DROP COLUMN \"" PLACEHOLDER "\"") < 0)
			return fail(db, "cannot drop a column");
		free(db->cols[0].key);
		free(db->cols[0].name);
		memmove(db->cols, db->cols + 1, --db->ncols * sizeof(*db->cols));
		db->sqlcols--;
		db->placeholder = 0;
		for (size_t j = 0; j < db->nvals; j++)
			db->vals[j].col--;
		if (rehash(db) < 0)
			return fail(db, "cannot drop a column");
	}
	return 0;
}

/* A new key: a new column (made by sync_columns()), unless past the
 * limit (-2). */
static long add_column(struct ts_dqsql *db, const char *k, size_t n)
{
	struct ts_buf name;
	long c;

	if (db->ncols - (size_t)db->placeholder >= db->maxcols)
		return -2;
	ts_buf_init(&name, 0);
	c = make_name(db, k, n, &name) < 0 ? -1 : note_col(db, k, n, name.data);
	ts_buf_release(&name);
	return c < 0 ? fail(db, "cannot add a column") : c;
}

/* The column of a member, adding it when new; -2 past the limit. */
static long resolve(struct ts_dqsql *db, size_t i, struct ts_span key)
{
	const char *k = key.p + 1;
	size_t n = key.n - 2;
	long c;

	if (ts_json_str_has_escape(key)) {
		ts_buf_reset(&db->key);
		if (ts_json_unescape(&db->key, key) < 0)
			return fail(db, "cannot decode a key");
		k = db->key.data;
		n = db->key.len;
	}
	if (i < POS_CACHE && (c = db->pos[i]) >= 0 && db->cols[c].keylen == n &&
	    memcmp(db->cols[c].key, k, n) == 0)
		return c;
	c = lookup(db, k, n);
	if (c < 0 && (c = add_column(db, k, n)) == -1)
		return -1;
	if (c >= 0 && db->placeholder && c == 0)
		db->placeholder = 0; /* a real key "_" claims the stand-in */
	if (i < POS_CACHE && c >= 0)
		db->pos[i] = (int32_t)c;
	return c;
}

static int prepare_insert(struct ts_dqsql *db)
{
	struct ts_buf *q = &db->sql;

	ts_buf_reset(q);
	if (ts_buf_addstr(q, "INSERT INTO main.\"primary\"(") < 0)
		return fail(db, "cannot prepare the insert");
	for (size_t i = 0; i < db->ncols; i++)
		if ((i && ts_buf_addch(q, ',') < 0) || add_quoted(q, db->cols[i].name) < 0)
			return fail(db, "cannot prepare the insert");
	if (ts_buf_addstr(q, ") VALUES(") < 0)
		return fail(db, "cannot prepare the insert");
	for (size_t i = 0; i < db->ncols; i++)
		if (ts_buf_addstr(q, i ? ",?" : "?") < 0)
			return fail(db, "cannot prepare the insert");
	if (ts_buf_addch(q, ')') < 0 ||
	    sqlite3_prepare_v3(db->db, q->data, (int)q->len, SQLITE_PREPARE_PERSISTENT,
			       &db->ins, NULL) != SQLITE_OK)
		return fail(db, "cannot prepare the insert");
	return 0;
}

/* --- values -------------------------------------------------------------- */

/* Integer syntax that fits int64: 1 and *out. */
static int parse_int(struct ts_span v, int64_t *out)
{
	const char *p = v.p, *end = v.p + v.n;
	int neg = *p == '-';
	uint64_t u = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

	if (neg)
		p++;
	for (; p < end; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (d > 9)
			return 0; /* '.', 'e', 'E': a REAL */
		if (u > (lim - d) / 10)
			return 0; /* too large: a REAL */
		u = u * 10 + d;
	}
	*out = neg ? (int64_t)(0 - u) : (int64_t)u;
	return 1;
}

static int to_val(struct ts_dqsql *db, struct ts_span v, struct val *out)
{
	switch (*v.p) {
	case 'n':
		out->type = V_NULL;
		return 0;
	case 't':
	case 'f':
		out->type = V_INT;
		out->i = *v.p == 't';
		return 0;
	case '"':
		if (!ts_json_str_has_escape(v)) {
			out->type = V_TEXT;
			out->p = v.p + 1;
			out->n = v.n - 2;
			return 0;
		}
		out->type = V_SCRATCH;
		out->off = db->scratch.len;
		if (ts_json_unescape(&db->scratch, v) < 0)
			return -1;
		out->n = db->scratch.len - out->off;
		return 0;
	case '{':
	case '[':
		out->type = V_SCRATCH;
		out->off = db->scratch.len;
		if (ts_json_minify(&db->scratch, v) < 0)
			return -1;
		out->n = db->scratch.len - out->off;
		return 0;
	default:
		if (parse_int(v, &out->i)) {
			out->type = V_INT;
			return 0;
		}
		/* JSON number syntax is a subset of strtod()'s; 1e400 is Inf */
		ts_buf_reset(&db->num);
		if (ts_buf_add(&db->num, v.p, v.n) < 0)
			return -1;
		out->type = V_REAL;
		out->d = strtod(db->num.data, NULL);
		return 0;
	}
}

/* --- adding records ------------------------------------------------------ */

int ts_dqsql_add(struct ts_dqsql *db, struct ts_span record)
{
	struct ts_json_iter it;
	struct ts_span k, v;
	size_t i = 0;

	if (db->dead)
		return -1;
	if (begin(db) < 0)
		return -1;
	db->nvals = 0;
	ts_buf_reset(&db->scratch);
	if (record.n && *record.p == '{') {
		ts_json_iter_init(&it, record);
		for (; ts_json_obj_next(&it, &k, &v); i++) {
			long c = resolve(db, i, k);
			if (c == -1)
				return -1;
			if (c == -2) {
				db->dropped++;
				continue;
			}
			if (db->nvals == db->capvals) {
				size_t nc = db->capvals ? db->capvals * 2 : 32;
				struct val *nv = realloc(db->vals, nc * sizeof(*nv));
				if (!nv)
					return fail(db, "cannot add a record");
				db->vals = nv;
				db->capvals = nc;
			}
			struct val *x = &db->vals[db->nvals++];
			x->col = (int)c;
			if (to_val(db, v, x) < 0)
				return fail(db, "cannot add a record");
		}
	}
	if (sync_columns(db) < 0)
		return -1;
	if (!db->table) {
		/* no key yet: the row is written when the table exists */
		db->pending++;
		db->nrows++;
		return 0;
	}
	if (!db->ins && prepare_insert(db) < 0)
		return -1;
	if (db->capbound < db->nvals) {
		int *b = realloc(db->bound, db->capvals * sizeof(*b));
		if (!b)
			return fail(db, "cannot add a record");
		db->bound = b;
		db->capbound = db->capvals;
	}
	sqlite3_stmt *s = db->ins;
	int rc = SQLITE_OK;
	for (size_t j = 0; j < db->nvals && rc == SQLITE_OK; j++) {
		const struct val *x = &db->vals[j];
		int p = x->col + 1;
		switch (x->type) {
		case V_NULL:
			rc = sqlite3_bind_null(s, p);
			break;
		case V_INT:
			rc = sqlite3_bind_int64(s, p, x->i);
			break;
		case V_REAL:
			rc = sqlite3_bind_double(s, p, x->d);
			break;
		case V_TEXT:
			rc = sqlite3_bind_text64(s, p, x->p, x->n, SQLITE_STATIC,
						 SQLITE_UTF8);
			break;
		case V_SCRATCH:
			rc = sqlite3_bind_text64(s, p, db->scratch.data + x->off, x->n,
						 SQLITE_STATIC, SQLITE_UTF8);
			break;
		}
		db->bound[db->nbound++] = p;
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	sqlite3_reset(s);
	/* unbind at once: missing keys are NULL in the next row, and the
	 * statement keeps no pointer into the caller's record */
	for (size_t j = 0; j < db->nbound; j++)
		sqlite3_bind_null(s, db->bound[j]);
	db->nbound = 0;
	if (rc != SQLITE_OK && rc != SQLITE_DONE)
		return fail(db, "cannot insert a record");
	db->nrows++;
	return 0;
}

uint64_t ts_dqsql_count(const struct ts_dqsql *db)
{
	return db->nrows;
}

uint64_t ts_dqsql_dropped(const struct ts_dqsql *db)
{
	return db->dropped;
}

const char *ts_dqsql_error(const struct ts_dqsql *db)
{
	return db->err;
}

void ts_dqsql_set_timeout(struct ts_dqsql *db, double seconds)
{
	db->timeout = seconds > 0 ? seconds : 0;
}

/* --- the statement ------------------------------------------------------- */

/* Past whitespace and comments (and ';' when semi is set). */
static const char *skip_space(const char *p, int semi)
{
	for (;;) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
		    *p == '\f' || *p == '\v' || (semi && *p == ';')) {
			p++;
		} else if (p[0] == '-' && p[1] == '-') {
			while (*p && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");
			p = e ? e + 2 : p + strlen(p);
		} else {
			return p;
		}
	}
}

static int is_word_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static int is_word(unsigned char c)
{
	return is_word_start(c) || (c >= '0' && c <= '9') || c == '$';
}

/* Copy a quoted token ('...', "...", `...`, [...]) verbatim; the closing
 * quote doubled is an escape.  Returns the end. */
static const char *quoted(const char *p)
{
	char close = *p == '[' ? ']' : *p;

	for (p++; *p; p++)
		if (*p == close) {
			if (close != ']' && p[1] == close)
				p++;
			else
				return p + 1;
		}
	return p;
}

/*
 * Spark SQL as Glue rulesets write it, made SQLite's: a bare word
 * `primary` becomes the quoted name "primary" (a SELECT has no other use
 * for the keyword), and `a / b` becomes `a *1.0/ b` so division is done in
 * floating point: `*` and `/` bind alike and from the left, so the
 * multiplication applies to exactly the left operand.
 */
static int rewrite(const char *in, struct ts_buf *out)
{
	const char *p = in;

	ts_buf_reset(out);
	while (*p) {
		const char *s = p;
		unsigned char c = (unsigned char)*p;
		if (c == '\'' || c == '"' || c == '`' || c == '[') {
			p = quoted(p);
		} else if ((p[0] == '-' && p[1] == '-') || (p[0] == '/' && p[1] == '*')) {
			p = skip_space(p, 0);
			if (p == s) /* cannot happen; keep going all the same */
				p++;
		} else if (c == '/') {
			if (ts_buf_addstr(out, "*1.0/") < 0)
				return -1;
			p++;
			continue;
		} else if (c == ':' || c == '@' || c == '$' || c == '?' ||
			   (c >= '0' && c <= '9')) {
			/* a parameter or a number: its letters are no word */
			for (p++; is_word(*(const unsigned char *)p) ||
				  (c >= '0' && c <= '9' && *p == '.');)
				p++;
		} else if (is_word_start(c)) {
			while (is_word(*(const unsigned char *)p))
				p++;
			if (p - s == 7 && strncasecmp(s, "primary", 7) == 0) {
				if (ts_buf_addstr(out, "\"primary\"") < 0)
					return -1;
				continue;
			}
		} else {
			p++;
		}
		if (ts_buf_add(out, s, (size_t)(p - s)) < 0)
			return -1;
	}
	return 0;
}

/* The statement may only read: everything else is refused while it is
 * prepared, whatever the first word says. */
static int authorize(void *ctx, int action, const char *a, const char *b,
		     const char *c, const char *d)
{
	struct ts_dqsql *db = ctx;

	(void)a, (void)c, (void)d;
	switch (action) {
	case SQLITE_SELECT:
	case SQLITE_READ:
	case SQLITE_RECURSIVE:
		return SQLITE_OK;
	case SQLITE_FUNCTION:
		if (b && !name_eq(b, "load_extension") && !name_eq(b, "fts3_tokenizer"))
			return SQLITE_OK;
		db->denied = b ? b : "a function";
		return SQLITE_DENY;
	case SQLITE_PRAGMA:
		db->denied = "PRAGMA";
		return SQLITE_DENY;
	case SQLITE_ATTACH:
		db->denied = "ATTACH";
		return SQLITE_DENY;
	case SQLITE_DETACH:
		db->denied = "DETACH";
		return SQLITE_DENY;
	case SQLITE_TRANSACTION:
	case SQLITE_SAVEPOINT:
		db->denied = "a transaction";
		return SQLITE_DENY;
	default:
		db->denied = "a change";
		return SQLITE_DENY;
	}
}

static int progress(void *ctx)
{
	struct ts_dqsql *db = ctx;

	if (db->timing && ts_now() > db->deadline) {
		db->timed_out = 1;
		return 1;
	}
	return 0;
}

/* res->err from the last SQLite failure, or the timeout. */
static int sql_error(struct ts_dqsql *db, struct ts_dqsql_result *res)
{
	const char *m = sqlite3_errmsg(db->db);

	if (db->timed_out)
		set_msg(res->err, sizeof(res->err),
			"custom SQL stopped: it ran longer than %g s", db->timeout);
	else if (db->dropped && strstr(m, "no such column"))
		set_msg(res->err, sizeof(res->err),
			"%s (keys past the first %zu columns were not stored)", m,
			db->maxcols);
	else
		set_msg(res->err, sizeof(res->err), "%s", m);
	return -1;
}

/* Spark's cast of a string to double: surrounding whitespace ignored. */
static int text_number(const char *s, double *d)
{
	char *end;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (!*s || strpbrk(s, "xX"))
		return -1;
	errno = 0;
	*d = strtod(s, &end);
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	return *end ? -1 : 0;
}

static int run_value(struct ts_dqsql *db, sqlite3_stmt *st, struct ts_dqsql_result *res)
{
	int n = sqlite3_column_count(st), rc;

	if (n != 1) {
		set_msg(res->err, sizeof(res->err),
			"custom SQL must return one column, it returns %d", n);
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		set_msg(res->err, sizeof(res->err), "custom SQL returned no row");
		return -1;
	}
	if (rc != SQLITE_ROW)
		return sql_error(db, res);
	switch (sqlite3_column_type(st, 0)) {
	case SQLITE_INTEGER:
		res->is_int = 1;
		res->ivalue = sqlite3_column_int64(st, 0);
		res->value = (double)res->ivalue;
		break;
	case SQLITE_FLOAT:
		res->value = sqlite3_column_double(st, 0);
		break;
	case SQLITE_NULL:
		res->is_null = 1;
		break;
	case SQLITE_TEXT: {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		if (t && text_number(t, &res->value) == 0)
			break;
		set_msg(res->err, sizeof(res->err),
			"custom SQL returned '%.200s', not a number", t ? t : "");
		return -1;
	}
	default:
		set_msg(res->err, sizeof(res->err), "custom SQL returned a blob, not a number");
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		set_msg(res->err, sizeof(res->err), "custom SQL returned more than one row");
		return -1;
	}
	if (rc != SQLITE_DONE)
		return sql_error(db, res);
	return 0;
}

/* The columns of primary the returned columns are, by name; -1 with a
 * message (Glue's) when one is not. */
static int map_columns(struct ts_dqsql *db, sqlite3_stmt *st, long *map,
		       struct ts_dqsql_result *res)
{
	int n = sqlite3_column_count(st), found = 0;
	struct ts_buf miss;

	ts_buf_init(&miss, sizeof(res->err));
	for (int i = 0; i < n; i++) {
		const char *name = sqlite3_column_name(st, i);
		map[i] = name ? find_name(db, name) : -1;
		if (map[i] >= 0)
			found++;
		else if (miss.len < 200)
			ts_buf_addf(&miss, "%s%s", miss.len ? ", " : "", name ? name : "?");
	}
	if (!found)
		set_msg(res->err, sizeof(res->err),
			"the output of custom SQL must contain at least one column "
			"of primary, to say which records pass");
	else if (found < n)
		set_msg(res->err, sizeof(res->err),
			"the columns custom SQL returns must all be columns of "
			"primary; not found: %s", miss.data);
	ts_buf_release(&miss);
	return found == n ? 0 : -1;
}

static int run_rows(struct ts_dqsql *db, sqlite3_stmt *st, struct ts_dqsql_result *res)
{
	int n = sqlite3_column_count(st), rc, ret = -1;
	long *map = calloc((size_t)n + 1, sizeof(*map));
	struct ts_buf *q = &db->sql;
	sqlite3_stmt *ins = NULL, *cnt = NULL;

	res->total = db->nrows;
	if (!map) {
		set_msg(res->err, sizeof(res->err), "out of memory");
		return -1;
	}
	if (map_columns(db, st, map, res) < 0)
		goto out;

	/* The returned rows go into a temporary table with an index, so
	 * each record is looked up once: records x rows stays out. */
	exec(db, "DROP TABLE IF EXISTS temp." RESULT_TABLE);
	ts_buf_reset(q);
	ts_buf_addstr(q, "CREATE TEMP TABLE " RESULT_TABLE "(");
	for (int i = 0; i < n; i++)
		ts_buf_addf(q, "%sc%d", i ? "," : "", i);
	ts_buf_addstr(q, ")");
	if (exec(db, "BEGIN") < 0 || exec(db, q->data) < 0)
		goto sqlerr;
	ts_buf_reset(q);
	ts_buf_addstr(q, "INSERT INTO temp." RESULT_TABLE " VALUES(");
	for (int i = 0; i < n; i++)
		ts_buf_addstr(q, i ? ",?" : "?");
	if (ts_buf_addstr(q, ")") < 0 ||
	    sqlite3_prepare_v2(db->db, q->data, -1, &ins, NULL) != SQLITE_OK)
		goto sqlerr;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < n; i++)
			sqlite3_bind_value(ins, i + 1, sqlite3_column_value(st, i));
		rc = sqlite3_step(ins);
		sqlite3_reset(ins);
		if (rc != SQLITE_DONE)
			goto sqlerr;
		res->returned++;
	}
	if (rc != SQLITE_DONE)
		goto sqlerr;

	if (res->returned && res->total) {
		ts_buf_reset(q);
		ts_buf_addstr(q, "CREATE INDEX temp." RESULT_TABLE "_i ON " RESULT_TABLE "(");
		for (int i = 0; i < n; i++)
			ts_buf_addf(q, "%sc%d", i ? "," : "", i);
		ts_buf_addstr(q, ")");
		if (exec(db, q->data) < 0)
			goto sqlerr;
		ts_buf_reset(q);
		ts_buf_addstr(q, "SELECT count(*) FROM main.\"primary\" AS p WHERE EXISTS "
				 "(SELECT 1 FROM temp." RESULT_TABLE " AS r WHERE ");
		for (int i = 0; i < n; i++) {
			ts_buf_addf(q, "%sr.c%d IS p.", i ? " AND " : "", i);
			add_quoted(q, db->cols[map[i]].name);
		}
		if (ts_buf_addstr(q, ")") < 0 ||
		    sqlite3_prepare_v2(db->db, q->data, -1, &cnt, NULL) != SQLITE_OK ||
		    sqlite3_step(cnt) != SQLITE_ROW)
			goto sqlerr;
		res->passed = (uint64_t)sqlite3_column_int64(cnt, 0);
	}
	res->value = res->total ? (double)res->passed / (double)res->total : 0;
	ret = 0;
	goto out;
sqlerr:
	sql_error(db, res);
out:
	sqlite3_finalize(ins);
	sqlite3_finalize(cnt);
	sqlite3_reset(st);
	if (!sqlite3_get_autocommit(db->db))
		exec(db, "COMMIT");
	db->timing = 0; /* the clean-up must not be stopped */
	exec(db, "DROP TABLE IF EXISTS temp." RESULT_TABLE);
	free(map);
	return ret;
}

/* A table to query even before any key was seen: one column "_". */
static int ensure_table(struct ts_dqsql *db)
{
	if (db->table)
		return 0;
	if (note_col(db, PLACEHOLDER, 1, PLACEHOLDER) < 0)
		return fail(db, "cannot create the table");
	db->placeholder = 1;
	return sync_columns(db);
}

int ts_dqsql_query(struct ts_dqsql *db, const char *sql, enum ts_dqsql_kind kind,
		   struct ts_dqsql_result *res)
{
	sqlite3_stmt *st = NULL;
	const char *p, *tail = NULL;
	int rc, ret;

	memset(res, 0, sizeof(*res));
	res->kind = kind;
	if (db->dead || commit(db) < 0 || ensure_table(db) < 0) {
		set_msg(res->err, sizeof(res->err), "%s", db->err);
		return -1;
	}
	/* The first word says what it is; the authorizer makes sure. */
	p = skip_space(sql, 0);
	size_t w = 0;
	while (is_word(((const unsigned char *)p)[w]))
		w++;
	if (!*p) {
		set_msg(res->err, sizeof(res->err), "custom SQL is empty");
		return -1;
	}
	if (!((w == 6 && (strncasecmp(p, "select", 6) == 0 ||
			  strncasecmp(p, "values", 6) == 0)) ||
	      (w == 4 && strncasecmp(p, "with", 4) == 0))) {
		set_msg(res->err, sizeof(res->err),
			"custom SQL must be a query (SELECT or WITH), not '%.*s'",
			(int)(w ? (w < 40 ? w : 40) : 1), p);
		return -1;
	}
	if (rewrite(sql, &db->sql) < 0) {
		set_msg(res->err, sizeof(res->err), "custom SQL is too long");
		return -1;
	}

	db->timed_out = 0;
	db->timing = db->timeout > 0;
	db->deadline = ts_now() + db->timeout;
	db->denied = NULL;
	sqlite3_set_authorizer(db->db, authorize, db);
	rc = sqlite3_prepare_v3(db->db, db->sql.data, (int)db->sql.len, 0, &st, &tail);
	sqlite3_set_authorizer(db->db, NULL, NULL);
	if (rc != SQLITE_OK) {
		if (db->denied)
			set_msg(res->err, sizeof(res->err),
				"custom SQL may only read: %s is not allowed", db->denied);
		else
			sql_error(db, res);
		ret = -1;
	} else if (!st) {
		set_msg(res->err, sizeof(res->err), "custom SQL is empty");
		ret = -1;
	} else if (*skip_space(tail, 1)) {
		set_msg(res->err, sizeof(res->err), "custom SQL must be one statement");
		ret = -1;
	} else if (!sqlite3_stmt_readonly(st)) {
		set_msg(res->err, sizeof(res->err), "custom SQL may only read");
		ret = -1;
	} else {
		if (kind == TS_DQSQL_AUTO)
			kind = sqlite3_column_count(st) == 1 &&
					       find_name(db, sqlite3_column_name(st, 0)) < 0
				       ? TS_DQSQL_VALUE
				       : TS_DQSQL_ROWS;
		res->kind = kind;
		ret = kind == TS_DQSQL_VALUE ? run_value(db, st, res) : run_rows(db, st, res);
	}
	sqlite3_finalize(st);
	db->timing = 0;
	return ret;
}

/* --- Spark functions SQLite lacks ---------------------------------------- */

static void fn_nvl(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	(void)argc;
	sqlite3_result_value(cx, sqlite3_value_type(argv[0]) != SQLITE_NULL ? argv[0]
									  : argv[1]);
}

/* concat(a, ...): NULL when any argument is, as in Spark. */
static void fn_concat(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	sqlite3_str *s = sqlite3_str_new(sqlite3_context_db_handle(cx));

	for (int i = 0; i < argc; i++) {
		if (sqlite3_value_type(argv[i]) == SQLITE_NULL) {
			sqlite3_free(sqlite3_str_finish(s));
			sqlite3_result_null(cx);
			return;
		}
		const unsigned char *t = sqlite3_value_text(argv[i]);
		if (t)
			sqlite3_str_append(s, (const char *)t, sqlite3_value_bytes(argv[i]));
	}
	int err = sqlite3_str_errcode(s), n = sqlite3_str_length(s);
	char *r = sqlite3_str_finish(s);
	if (err == SQLITE_TOOBIG)
		sqlite3_result_error_toobig(cx);
	else if (err)
		sqlite3_result_error_nomem(cx);
	else
		sqlite3_result_text(cx, r ? r : "", n, r ? sqlite3_free : SQLITE_STATIC);
	if (err)
		sqlite3_free(r);
}

/* --- open and close ------------------------------------------------------ */

struct ts_dqsql *ts_dqsql_open(char *err, size_t errlen)
{
	struct ts_dqsql *db = calloc(1, sizeof(*db));
	const int fl = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
	char q[512];

	if (!db) {
		set_msg(err, errlen, "out of memory");
		return NULL;
	}
	ts_buf_init(&db->scratch, 0);
	ts_buf_init(&db->key, 0);
	ts_buf_init(&db->num, 0);
	ts_buf_init(&db->sql, 0);
	db->timeout = TS_DQSQL_DEFAULT_TIMEOUT;
	for (size_t i = 0; i < POS_CACHE; i++)
		db->pos[i] = -1;
	if (getrandom(&db->seed, sizeof(db->seed), GRND_NONBLOCK) != sizeof(db->seed))
		db->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^
			   (uint64_t)(uintptr_t)db;

	/* "": a private temporary database, in the page cache until it
	 * outgrows it, then in a file SQLite unlinks as soon as it opens it */
	if (sqlite3_open_v2("", &db->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_PRIVATECACHE,
			    NULL) != SQLITE_OK) {
		set_msg(err, errlen, "cannot open a temporary SQLite database: %s",
			db->db ? sqlite3_errmsg(db->db) : "out of memory");
		ts_dqsql_free(db);
		return NULL;
	}
	sqlite3_extended_result_codes(db->db, 1);
	sqlite3_db_config(db->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
	sqlite3_db_config(db->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_db_config(db->db, SQLITE_DBCONFIG_DQS_DDL, 0, NULL);
	/* a double-quoted word naming no column is a string, as in Spark */
	sqlite3_db_config(db->db, SQLITE_DBCONFIG_DQS_DML, 1, NULL);
	/* nothing here needs to survive a crash: no journal, no sync */
	snprintf(q, sizeof(q),
		 "PRAGMA main.journal_mode=OFF; PRAGMA synchronous=OFF;"
		 "PRAGMA temp_store=FILE; PRAGMA cache_size=-%u;"
		 "PRAGMA locking_mode=EXCLUSIVE; PRAGMA case_sensitive_like=ON",
		 TS_DQSQL_CACHE_BYTES / 1024);
	if (sqlite3_exec(db->db, q, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(db->db, "nvl", 2, fl, NULL, fn_nvl, NULL, NULL) ||
	    sqlite3_create_function(db->db, "concat", -1, fl, NULL, fn_concat, NULL,
				    NULL)) {
		set_msg(err, errlen, "cannot set up the SQLite database: %s",
			sqlite3_errmsg(db->db));
		ts_dqsql_free(db);
		return NULL;
	}
	sqlite3_progress_handler(db->db, 1000, progress, db);
	db->maxcols = (size_t)sqlite3_limit(db->db, SQLITE_LIMIT_COLUMN, -1);
	if (db->maxcols > TS_DQSQL_MAX_COLUMNS)
		db->maxcols = TS_DQSQL_MAX_COLUMNS;
	return db;
}

void ts_dqsql_free(struct ts_dqsql *db)
{
	if (!db)
		return;
	sqlite3_finalize(db->ins);
	sqlite3_close_v2(db->db);
	for (size_t i = 0; i < db->ncols; i++) {
		free(db->cols[i].key);
		free(db->cols[i].name);
	}
	free(db->cols);
	free(db->slot);
	free(db->vals);
	free(db->bound);
	ts_buf_release(&db->scratch);
	ts_buf_release(&db->key);
	ts_buf_release(&db->num);
	ts_buf_release(&db->sql);
	free(db);
}
