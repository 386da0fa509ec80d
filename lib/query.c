/*
 * query.c — MetadataExtractionQuery programs on libjq 1.6, with the plain
 * paths of a query looked up natively.  See query.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jq.h>

#include "jpath.h"
#include "query.h"

enum kind {
	E_PATH, /* .a.b: looked up */
	E_PIPE, /* .a.b | rest: looked up, then rest runs in jq on the value */
	E_JQ,   /* anything else: the whole program runs */
};

struct entry {
	char *name, *val;
	enum kind kind;
	struct ts_jpath path;
	jq_state *rest;
	size_t off, len; /* its text in q->text, for this record */
	int is_null;
};

struct ts_query {
	jq_state *whole;
	struct entry *e;
	long n;            /* entries, -1 when the names are not known */
	int fast;          /* every entry E_PATH or E_PIPE */
	int paths_only;    /* every entry E_PATH */
	const char **names;
	struct ts_buf text; /* the values of this record, back to back */
	struct ts_buf msg;  /* compile messages */
};

/* --- the static part: a scanner for jq text ------------------------------ */

static int is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* Skip whitespace and # comments (to the end of the line). */
static size_t skip_blank(const char *s, size_t i)
{
	for (;;) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++;
		} else if (s[i] == '#') {
			while (s[i] && s[i] != '\n')
				i++;
		} else {
			return i;
		}
	}
}

/* Is the word at s[i..i+n) the keyword kw, standing alone (not .kw, $kw or
 * part of a longer name)? */
static int keyword_at(const char *s, size_t i, const char *kw)
{
	size_t n = strlen(kw);

	if (strncmp(s + i, kw, n) != 0 || is_ident(s[i + n]))
		return 0;
	return i == 0 || (!is_ident(s[i - 1]) && s[i - 1] != '.' && s[i - 1] != '$');
}

#define MAX_NEST 256

/*
 * From s[i], in code, find the first byte at nesting depth 0 that is one of
 * stops (or the NUL at the end): brackets, strings with their \( ... )
 * interpolations, comments and if ... end are stepped over.  The index, or
 * -1 on a closing bracket that does not match or nesting too deep.
 */
static long scan_to(const char *s, size_t i, const char *stops)
{
	char st[MAX_NEST];
	size_t d = 0;

	for (;;) {
		char c = s[i];
		if (c == 0)
			return d == 0 ? (long)i : -1;
		if (d && st[d - 1] == '"') { /* in a string */
			if (c == '\\' && s[i + 1] == '(') {
				if (d == MAX_NEST)
					return -1;
				st[d++] = 'I';
				i += 2;
			} else if (c == '\\') {
				i += s[i + 1] ? 2 : 1;
			} else {
				if (c == '"')
					d--;
				i++;
			}
			continue;
		}
		if (d == 0 && strchr(stops, c))
			return (long)i;
		if (c == '#') {
			i = skip_blank(s, i);
			continue;
		}
		if (c == '"' || c == '(' || c == '[' || c == '{') {
			if (d == MAX_NEST)
				return -1;
			st[d++] = c;
		} else if (c == ')' || c == ']' || c == '}') {
			char want = c == ')' ? '(' : c == ']' ? '[' : '{';
			if (d == 0 || (st[d - 1] != want && !(c == ')' && st[d - 1] == 'I')))
				return -1;
			d--; /* an interpolation's ')' goes back into its string */
		} else if (is_ident_start(c) && keyword_at(s, i, "if")) {
			if (d == MAX_NEST)
				return -1;
			st[d++] = 'f';
			i += 2;
			continue;
		} else if (is_ident_start(c) && keyword_at(s, i, "end")) {
			if (d == 0 || st[d - 1] != 'f')
				return -1;
			d--;
			i += 3;
			continue;
		} else if (is_ident_start(c)) {
			while (is_ident(s[i]))
				i++;
			continue;
		}
		i++;
	}
}

/* Trimmed copy of s[a..b) (blanks and comments at both ends). */
static char *trimmed(const char *s, size_t a, size_t b)
{
	a = skip_blank(s, a);
	if (a > b)
		a = b;
	while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\n' ||
			 s[b - 1] == '\r'))
		b--;
	return strndup(s + a, b - a);
}

/* A string literal without interpolation at s[i]: its decoded text and the
 * index past it, or NULL. */
static char *string_lit(const char *s, size_t i, size_t *next)
{
	struct ts_buf b;
	struct ts_json_scan r;
	size_t n = strlen(s + i);

	ts_buf_init(&b, 0);
	if (ts_json_scan_string_dec(s + i, s + i + n, &b, &r) != TS_JSON_OK ||
	    memchr(b.data, 0, b.len)) {
		ts_buf_release(&b);
		return NULL;
	}
	*next = (size_t)(r.end - s);
	return ts_buf_detach(&b, NULL);
}

static void free_strings(char **v, long n)
{
	for (long i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

long ts_query_split(const char *text, char ***keysp, char ***valsp)
{
	char **keys = NULL, **vals = NULL;
	long n = 0;
	size_t i = skip_blank(text, 0);

	*keysp = *valsp = NULL;
	if (text[i] != '{')
		return -1;
	i = skip_blank(text, i + 1);
	if (text[i] == '}')
		goto fail; /* {}: no keys, nothing to partition by */
	for (;;) {
		char *k, *v;
		size_t j = i;
		i = skip_blank(text, i);
		if (is_ident_start(text[i])) {
			while (is_ident(text[i]))
				i++;
			k = strndup(text + j, i - j);
			if (k) {
				char *t = trimmed(k, 0, strlen(k));
				free(k);
				k = t;
			}
		} else if (text[i] == '"') {
			j = i;
			if (!(k = string_lit(text, i, &i)))
				goto fail;
		} else {
			goto fail; /* ($x), @base64, "\(...)": computed */
		}
		if (!k)
			goto fail;
		size_t after = skip_blank(text, i);
		if (text[after] == ':') {
			long end = scan_to(text, after + 1, ",}");
			if (end < 0 || !text[end]) {
				free(k);
				goto fail;
			}
			v = trimmed(text, after + 1, (size_t)end);
			i = (size_t)end;
		} else if (text[after] == ',' || text[after] == '}') {
			/* {a} is {a: .a}; {"a b"} is {"a b": ."a b"} */
			size_t m = i - j;
			v = malloc(m + 2);
			if (v) {
				v[0] = '.';
				memcpy(v + 1, text + j, m);
				v[m + 1] = 0;
			}
			i = after;
		} else {
			free(k);
			goto fail;
		}
		char **nk = realloc(keys, (size_t)(n + 1) * sizeof(*nk));
		if (nk)
			keys = nk;
		char **nv = realloc(vals, (size_t)(n + 1) * sizeof(*nv));
		if (nv)
			vals = nv;
		if (!nk || !nv || !v || !*v) {
			free(k);
			free(v);
			goto fail;
		}
		for (long m = 0; m < n; m++)
			if (!strcmp(keys[m], k)) { /* jq keeps the last: let it */
				free(k);
				free(v);
				goto fail;
			}
		keys[n] = k;
		vals[n] = v;
		n++;
		if (text[i] == '}')
			break;
		i++; /* the ',' */
	}
	if (text[skip_blank(text, i + 1)] != 0)
		goto fail; /* {...} | more, {...} + {...} */
	*keysp = keys;
	*valsp = vals;
	return n;
fail:
	free_strings(keys, n);
	free_strings(vals, n);
	return -1;
}

/* .a  ."a b"  .a[0]  .a["b"]  .[1]  (jq's meaning: the same as ts_jpath's). */
size_t ts_query_path_len(const char *s)
{
	size_t i = 0;

	if (s[0] != '.')
		return 0;
	for (;;) {
		if (s[i] == '.' && is_ident_start(s[i + 1])) {
			i++;
			while (is_ident(s[i]))
				i++;
		} else if (s[i] == '.' && s[i + 1] == '"') {
			size_t next;
			char *k = string_lit(s, i + 1, &next);
			if (!k)
				return 0;
			free(k);
			i = next;
		} else if (s[i] == '[' || (s[i] == '.' && s[i + 1] == '[' && i == 0)) {
			size_t j = s[i] == '.' ? i + 2 : i + 1;
			if (s[j] == '"') {
				char *k = string_lit(s, j, &j);
				if (!k)
					break;
				free(k);
			} else {
				if (s[j] == '-')
					j++;
				size_t d = j;
				while (s[j] >= '0' && s[j] <= '9' && j - d < 9)
					j++;
				if (j == d || (s[d] == '0' && j - d > 1))
					break;
			}
			if (s[j] != ']')
				break; /* a slice, an expression: not part of the path */
			i = j + 1;
		} else {
			break;
		}
	}
	/* "." alone is the record: an object, which jq's tostring writes */
	return i;
}

/* --- jq -------------------------------------------------------------------- */

static void on_compile_error(void *ud, jv msg)
{
	struct ts_buf *b = ud;

	if (jv_get_kind(msg) == JV_KIND_INVALID && jv_invalid_has_msg(jv_copy(msg)))
		msg = jv_invalid_get_msg(msg);
	if (jv_get_kind(msg) == JV_KIND_STRING) {
		const char *s = jv_string_value(msg);
		size_t n = strlen(s);
		if (!strncmp(s, "jq: ", 4))
			s += 4, n -= 4;
		if (!strncmp(s, "error: ", 7))
			s += 7, n -= 7;
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\n'))
			n--;
		if (b->len)
			ts_buf_addstr(b, "; ");
		ts_buf_add(b, s, n);
	}
	jv_free(msg);
}

static jq_state *compile(const char *text, struct ts_buf *msg)
{
	jq_state *jq = jq_init();

	if (!jq)
		return NULL;
	jq_set_error_cb(jq, on_compile_error, msg);
	if (!jq_compile(jq, text)) {
		jq_teardown(&jq);
		return NULL;
	}
	return jq;
}

/* A slice with literal bounds at s ("[2:5]", "[:10]", "[-3:]"): its
 * length, or 0. */
static size_t slice_len(const char *s)
{
	size_t i = 0;

	if (s[0] != '[')
		return 0;
	for (int side = 0; side < 2; side++) {
		i = skip_blank(s, side ? i + 1 : 1);
		if (s[i] == '-')
			i++;
		while (s[i] >= '0' && s[i] <= '9')
			i++;
		i = skip_blank(s, i);
		if (s[i] != (side ? ']' : ':'))
			return 0;
	}
	return i + 1;
}

/*
 * How an entry's value runs: a plain path (E_PATH); a plain path, then
 * literal slices or a pipe into more jq (E_PIPE: ".ts | strftime(...)",
 * ".t[0:10]", "(.a | f)"), where what follows the path only ever sees the
 * value at the path, so it runs on that value alone; or the whole program.
 * $__loc__ is left to the whole program: it names lines of the program.
 */
static void classify(struct entry *e)
{
	char jerr[128];
	const char *v = e->val;
	size_t n = strlen(v);
	struct ts_buf rest, ignore;

	e->kind = E_JQ;
	/* (X) is X */
	while (n >= 2 && v[0] == '(') {
		long close = scan_to(v, 1, ")");
		if (close < 0 || (size_t)close != n - 1)
			break;
		v++;
		n -= 2;
		size_t a = skip_blank(v, 0);
		v += a;
		n -= a;
		while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\n' || v[n - 1] == '\r'))
			n--;
	}
	char *t = strndup(v, n);
	if (!t || strstr(t, "$__loc__")) {
		free(t);
		return;
	}
	size_t pl = ts_query_path_len(t);
	if (!pl) {
		free(t);
		return;
	}
	if (pl == n) {
		if (ts_jpath_parse(&e->path, t, jerr, sizeof(jerr)) == 0)
			e->kind = E_PATH;
		free(t);
		return;
	}
	ts_buf_init(&rest, 0);
	ts_buf_init(&ignore, 0);
	ts_buf_addch(&rest, '.');
	size_t j = pl, sl;
	while ((sl = slice_len(t + j))) {
		ts_buf_add(&rest, t + j, sl);
		j += sl;
	}
	j = skip_blank(t, j);
	int ok = 0;
	if (t[j] == 0 && rest.len > 1) {
		ok = 1;
	} else if (t[j] == '|' && t[j + 1] != '=') {
		if (rest.len == 1)
			ts_buf_reset(&rest);
		else
			ts_buf_addstr(&rest, " | ");
		ts_buf_addstr(&rest, t + j + 1);
		ok = 1;
	}
	t[pl] = 0;
	if (ok && ts_jpath_parse(&e->path, t, jerr, sizeof(jerr)) == 0) {
		if ((e->rest = compile(rest.data, &ignore)))
			e->kind = E_PIPE;
		else
			ts_jpath_release(&e->path);
	}
	ts_buf_release(&rest);
	ts_buf_release(&ignore);
	free(t);
}

struct ts_query *ts_query_new(const char *text, char *err, size_t errlen)
{
	struct ts_query *q = calloc(1, sizeof(*q));
	char **keys = NULL, **vals = NULL;

	if (!q) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ts_buf_init(&q->text, 0);
	ts_buf_init(&q->msg, 0);
	if (!(q->whole = compile(text, &q->msg))) {
		/* jq's lines: "error: syntax error, ... line 1:", the program,
		 * "1 compile error" */
		for (size_t i = 0; i < q->msg.len; i++)
			if (q->msg.data[i] == '\n')
				q->msg.data[i] = ' ';
		snprintf(err, errlen, "%s", q->msg.len ? q->msg.data : "jq cannot compile it");
		ts_query_free(q);
		return NULL;
	}
	q->n = ts_query_split(text, &keys, &vals);
	if (q->n > 0 && !(q->e = calloc((size_t)q->n, sizeof(*q->e))))
		q->n = -1;
	if (q->n < 0) {
		free_strings(keys, 0);
		free_strings(vals, 0);
		if (keys || vals) {
			snprintf(err, errlen, "out of memory");
			ts_query_free(q);
			return NULL;
		}
		return q;
	}
	q->names = calloc((size_t)q->n + 1, sizeof(*q->names));
	q->fast = q->paths_only = 1;
	for (long i = 0; i < q->n; i++) {
		struct entry *e = &q->e[i];
		e->name = keys[i];
		e->val = vals[i];
		if (q->names)
			q->names[i] = e->name;
		e->kind = E_JQ;
		classify(e);
		if (e->kind != E_PATH)
			q->paths_only = 0;
		if (e->kind == E_JQ)
			q->fast = 0;
	}
	free(keys);
	free(vals);
	if (!q->names) {
		snprintf(err, errlen, "out of memory");
		ts_query_free(q);
		return NULL;
	}
	return q;
}

void ts_query_free(struct ts_query *q)
{
	if (!q)
		return;
	for (long i = 0; i < q->n; i++) {
		struct entry *e = &q->e[i];
		if (e->kind != E_JQ)
			ts_jpath_release(&e->path);
		if (e->rest)
			jq_teardown(&e->rest);
		free(e->name);
		free(e->val);
	}
	free(q->e);
	free(q->names);
	if (q->whole)
		jq_teardown(&q->whole);
	ts_buf_release(&q->text);
	ts_buf_release(&q->msg);
	free(q);
}

long ts_query_names(const struct ts_query *q, const char *const **names)
{
	*names = q->names;
	return q->n;
}

int ts_query_paths_only(const struct ts_query *q)
{
	return q->n > 0 && q->paths_only;
}

/* Append v (consumed) as the JSON text of its tostring: a string, number
 * or boolean as jq writes it, an object or array as the string of its JSON.
 * 1 for null (nothing appended), 0, -1 out of memory. */
static int add_tostring(struct ts_buf *out, jv v)
{
	jv_kind k = jv_get_kind(v);
	int rc = 0;

	if (k == JV_KIND_NULL) {
		jv_free(v);
		return 1;
	}
	jv d = jv_dump_string(v, 0);
	const char *s = jv_string_value(d);
	size_t n = (size_t)jv_string_length_bytes(jv_copy(d));
	if (k == JV_KIND_OBJECT || k == JV_KIND_ARRAY)
		rc = ts_json_escape(out, s, n);
	else
		rc = ts_buf_add(out, s, n);
	jv_free(d);
	return rc < 0 ? -1 : 0;
}

/* Would jq write this value of the record exactly as it is written?  A
 * string without \u escapes (jq makes lone surrogates U+FFFD), a boolean,
 * or an integer it holds exactly. */
static int as_written(struct ts_span v)
{
	const char *p = v.p;
	size_t n = v.n, i = 0;

	switch (p[0]) {
	case '"':
		for (const char *b = memchr(p, '\\', n); b; b = memchr(b + 2, '\\', n - (size_t)(b + 2 - p)))
			if (b[1] == 'u')
				return 0;
			else if (b + 2 >= p + n)
				break;
		return 1;
	case 't':
	case 'f':
		return 1;
	case '-':
		i = 1;
		break;
	case 'n':
	case '{':
	case '[':
		return 0;
	}
	if (i >= n || p[i] < '1' || p[i] > '9') /* 0, -0, 0.5: through jq */
		return 0;
	if (n - i > 15)
		return 0;
	for (; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/* Append the value's text to q->text for entry e: from the record, or
 * through jq.  0, 1 to run the whole program instead, -1 out of memory. */
static int fast_entry(struct ts_query *q, struct entry *e, struct ts_span rec,
		      const struct ts_json_keys *idx)
{
	struct ts_span v;
	int found = idx ? ts_jpath_get_indexed(&e->path, rec, idx, &v)
			: ts_jpath_get(&e->path, rec, &v);

	if (!found)
		return 1; /* null, or an error: jq says which */
	e->off = q->text.len;
	e->is_null = 0;
	if (e->kind == E_PATH) {
		if (v.p[0] == 'n') {
			e->is_null = 1;
			return 0;
		}
		if (as_written(v)) {
			if (ts_buf_add(&q->text, v.p, v.n) < 0)
				return -1;
		} else {
			jv x = jv_parse_sized(v.p, (int)v.n);
			if (!jv_is_valid(x)) {
				jv_free(x);
				return 1;
			}
			if (add_tostring(&q->text, x) < 0)
				return -1;
		}
	} else {
		if (v.n > (size_t)0x7fffffff)
			return 1;
		jv in = jv_parse_sized(v.p, (int)v.n);
		if (!jv_is_valid(in)) { /* jq cannot parse it: its message */
			jv_free(in);
			return 1;
		}
		jq_start(e->rest, in, 0);
		jv r = jq_next(e->rest);
		if (!jv_is_valid(r)) {
			jv_free(r);
			return 1;
		}
		int rc = add_tostring(&q->text, r);
		if (rc < 0)
			return -1;
		e->is_null = rc == 1;
	}
	e->len = q->text.len - e->off;
	return 0;
}

static int fail(const char **code, const char *c, struct ts_buf *msg, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(const char **code, const char *c, struct ts_buf *msg, const char *fmt, ...)
{
	va_list ap;
	char m[512];

	*code = c;
	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	ts_buf_reset(msg);
	ts_buf_addstr(msg, m);
	return -1;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : (c | 32) >= 'a' && (c | 32) <= 'f' ? (c | 32) - 'a' + 10 : -1;
}

/*
 * Would jq 1.6's parser take this record, which ts_json_scan() took?  It
 * refuses what ts accepts in two ways: a \u escape of a UTF-16 surrogate
 * that is not part of a well-formed pair, and nesting deeper than 256.
 * Records with a surrogate escape at all, or deeper than 256, are left to
 * the whole program (which fails them with jq's message); the fast path
 * must not succeed where the service fails.
 */
#define JQ_MAX_DEPTH 256
static int jq_parses(struct ts_span rec)
{
	const char *p = rec.p, *end = rec.p + rec.n;
	size_t opens = 0;

	for (const char *b = p; (b = memchr(b, '\\', (size_t)(end - b))); b += 2) {
		if (end - b >= 6 && b[1] == 'u' && (b[2] | 32) == 'd' && hexval(b[3]) >= 8)
			return 0;
		if (end - b < 2)
			break;
	}
	for (size_t i = 0; i < rec.n; i++)
		opens += p[i] == '{' || p[i] == '[';
	if (opens <= JQ_MAX_DEPTH)
		return 1;
	/* many brackets: measure the depth, outside strings */
	size_t depth = 0;
	for (const char *c = p; c < end; c++) {
		if (*c == '"') {
			for (c++; c < end && *c != '"'; c++)
				if (*c == '\\')
					c++;
		} else if (*c == '{' || *c == '[') {
			if (++depth > JQ_MAX_DEPTH)
				return 0;
		} else if (*c == '}' || *c == ']') {
			depth--;
		}
	}
	return 1;
}

static int fast(struct ts_query *q, struct ts_span rec, const struct ts_json_keys *idx,
		size_t n, char *const *names, struct ts_span *vals, const char **code,
		struct ts_buf *msg)
{
	ts_buf_reset(&q->text);
	for (long i = 0; i < q->n; i++) {
		int rc = fast_entry(q, &q->e[i], rec, idx);
		if (rc)
			return rc < 0 ? fail(code, "too_large", msg, "out of memory") : 1;
	}
	for (size_t k = 0; k < n; k++) {
		long i = 0;
		while (i < q->n && strcmp(q->e[i].name, names[k]) != 0)
			i++;
		if (i == q->n)
			return fail(code, "missing_key", msg, "partition key %s: the query gives no %s",
				    names[k], names[k]);
		struct entry *e = &q->e[i];
		if (e->is_null)
			return fail(code, "bad_key_type", msg, "partition key %s: the query gives null",
				    names[k]);
		vals[k] = (struct ts_span){q->text.data + e->off, e->len};
	}
	return 0;
}

/* The message of a jq error value (consumed). */
static void jq_message(struct ts_buf *msg, jv err)
{
	jv m = jv_invalid_get_msg(err);

	if (jv_get_kind(m) == JV_KIND_STRING) {
		ts_buf_addstr(msg, jv_string_value(m));
		jv_free(m);
	} else {
		jv d = jv_dump_string(m, 0);
		ts_buf_addf(msg, "%s (not a string)", jv_string_value(d));
		jv_free(d);
	}
}

static int whole(struct ts_query *q, struct ts_span rec, size_t n, char *const *names,
		 struct ts_span *vals, const char **code, struct ts_buf *msg)
{
	if (rec.n > (size_t)0x7fffffff)
		return fail(code, "query_failed", msg, "partition query: record too large for jq");
	jv in = jv_parse_sized(rec.p, (int)rec.n);
	if (!jv_is_valid(in)) {
		/* jq's parser quotes the whole record after its message: the
		 * error record holds it already */
		fail(code, "query_failed", msg, "partition query: ");
		jq_message(msg, in);
		char *w = strstr(msg->data, " (while parsing '");
		if (w)
			ts_buf_setlen(msg, (size_t)(w - msg->data));
		return -1;
	}
	jq_start(q->whole, in, 0);
	jv r = jq_next(q->whole);
	if (!jv_is_valid(r)) {
		if (jv_invalid_has_msg(jv_copy(r))) {
			fail(code, "query_failed", msg, "partition query: ");
			jq_message(msg, r);
			return -1;
		}
		jv_free(r);
		return fail(code, "query_failed", msg, "partition query: %s",
			    jq_halted(q->whole) ? "the program halted" : "no result");
	}
	if (jv_get_kind(r) != JV_KIND_OBJECT) {
		jv_kind k = jv_get_kind(r);
		jv_free(r);
		return fail(code, "query_failed", msg, "partition query: the result is %s %s, "
			    "not an object", k == JV_KIND_ARRAY ? "an" : "a", jv_kind_name(k));
	}
	ts_buf_reset(&q->text);
	size_t *off = NULL, offs[16];
	off = n <= 16 ? offs : malloc(n * sizeof(*off));
	int rc = 0;
	if (!off) {
		jv_free(r);
		return fail(code, "too_large", msg, "out of memory");
	}
	for (size_t k = 0; k < n && rc == 0; k++) {
		jv v = jv_object_get(jv_copy(r), jv_string(names[k]));
		off[k] = q->text.len;
		if (!jv_is_valid(v)) {
			jv_free(v);
			rc = fail(code, "missing_key", msg, "partition key %s: the query gives no %s",
				  names[k], names[k]);
		} else {
			int t = add_tostring(&q->text, v);
			if (t == 1)
				rc = fail(code, "bad_key_type", msg,
					  "partition key %s: the query gives null", names[k]);
			else if (t < 0)
				rc = fail(code, "too_large", msg, "out of memory");
		}
	}
	jv_free(r);
	for (size_t k = 0; k < n && rc == 0; k++)
		vals[k] = (struct ts_span){q->text.data + off[k],
					   (k + 1 < n ? off[k + 1] : q->text.len) - off[k]};
	if (off != offs)
		free(off);
	return rc;
}

int ts_query_eval(struct ts_query *q, struct ts_span rec, const struct ts_json_keys *idx,
		  size_t n, char *const *names, struct ts_span *vals, const char **code,
		  struct ts_buf *msg)
{
	/* the reader's index says how deep the record is and whether it has a
	 * surrogate escape, for free */
	if (q->fast && (idx ? !idx->surrogate && idx->deepest <= JQ_MAX_DEPTH : jq_parses(rec))) {
		int rc = fast(q, rec, idx, n, names, vals, code, msg);
		if (rc <= 0)
			return rc;
	}
	return whole(q, rec, n, names, vals, code, msg);
}
