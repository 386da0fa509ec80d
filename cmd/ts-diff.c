/*
 * ts-diff — compare a source and a target dataset, as a migration
 * validation does: records only in the source (missing), only in the
 * target (extra), changed (with the fields that differ), and a report.
 *
 * How it runs.  The source is read into memory: its records' bytes in a
 * store, a table from key to the records with that key (in order).  The
 * target is then streamed against it: each record pairs with the next
 * unpaired source record of its key, is compared (lib/diff.h) and written
 * out as changed, or as extra when there is none; what is left unpaired in
 * the source at the end is missing.  Unkeyed, the key is the canonical form
 * of the whole record.  When the source does not fit in --memory, both
 * sides are split by a fixed hash of the key into parts on disk
 * (lib/spill.h) and compared part by part, each part as above.
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "diff.h"
#include "distinct.h"
#include "hash.h"
#include "input.h"
#include "jpath.h"
#include "opt.h"
#include "reader.h"
#include "spill.h"
#include "util.h"
#include "value.h"

#define MAX_KEYS 16
#define MAX_PATHS 256
#define DEFAULT_MEMORY ((uint64_t)256 << 20)
#define STORE_BLOCK ((size_t)2 << 20)
#define MAX_SHAPES 65536
#define MAX_COLUMNS 100000
#define SAMPLES 10

enum {
	OPT_KEY = 'k',
	OPT_IGNORE = 0x100,
	OPT_ONLY,
	OPT_ABS_TOL,
	OPT_REL_TOL,
	OPT_IGNORE_CASE,
	OPT_TRIM,
	OPT_ARRAY_ORDER,
	OPT_NULL_MISSING,
	OPT_COERCE,
	OPT_MAX_DIFFS,
	OPT_REPORT,
	OPT_MISS_RECORDS,
	OPT_FORMAT,
	OPT_SHARD,
	OPT_MERGE_REPORTS,
	OPT_MEMORY,
	OPT_THREADS,
};

static const struct ts_option options[] = {
	{"key", OPT_KEY, "PATHS", "compare records with the same key (comma-separated paths, repeatable); without: unkeyed"},
	{"ignore", OPT_IGNORE, "PATHS", "do not compare these fields (comma-separated, repeatable)"},
	{"only", OPT_ONLY, "PATHS", "compare only these fields (comma-separated, repeatable)"},
	{"abs-tol", OPT_ABS_TOL, "[PATH=]X", "numbers within X of each other are equal (for PATH only with PATH=)"},
	{"rel-tol", OPT_REL_TOL, "[PATH=]X", "relative tolerance: |s - t| <= abs + rel * |t|"},
	{"ignore-case", OPT_IGNORE_CASE, NULL, "strings compare case-insensitively"},
	{"trim", OPT_TRIM, NULL, "strings compare without leading and trailing white space"},
	{"array-order", OPT_ARRAY_ORDER, "keep|ignore", "ignore: arrays compare as multisets of their elements"},
	{"null-equals-missing", OPT_NULL_MISSING, NULL, "a null field equals a missing one"},
	{"coerce-numbers", OPT_COERCE, NULL, "a string holding a number compares as that number"},
	{"max-diffs", OPT_MAX_DIFFS, "N", "write at most N difference lines (the counts are never limited)"},
	{"report", OPT_REPORT, "FILE", "write the report line to FILE instead of standard output"},
	{"miss-records", OPT_MISS_RECORDS, "FILE", "write the source records with no exact match to FILE"},
	{"format", OPT_FORMAT, "FMT", "ndjson (default), or text: a report for people (default on a terminal)"},
	{"shard", OPT_SHARD, "I/N", "compare only the keys of shard I of N (a fixed hash of the key)"},
	{"merge-reports", OPT_MERGE_REPORTS, NULL, "the operands are files of report lines: merge them into one"},
	{"memory", OPT_MEMORY, "SIZE", "memory for the source side before both sides spill to disk (default 256M)"},
	{"threads", OPT_THREADS, "N", "1: one thread; 2 or more (default 2): read and compare in two, and compare spilled parts N at a time"},
	{0},
};

static const struct ts_cmd cmd = {
	.name = "ts-diff",
	.synopsis = "[OPTION]... SOURCE TARGET\n"
		    "   or: ts-diff --merge-reports [OPTION]... REPORT...",
	.summary = "Compare two datasets of records: what is missing from the target, what is\n"
		   "extra, what changed (field by field), and a report with the counts.",
	.opts = options,
	.exit_status = "Exit status: 0 the datasets are the same, 1 they differ or a record was\n"
		       "rejected, 2 trouble (usage, an input that cannot be read, output that\n"
		       "cannot be written).\n",
	.footer = "Examples:\n"
		  "  ts-diff --key id source.ndjson target.ndjson.gz\n"
		  "  ts-diff --key account,id --ignore updated_at --abs-tol amount=0.01 old.ndjson new.ndjson\n"
		  "  ts-diff --key id --format text before.ndjson after.ndjson\n",
};

enum fmt { FMT_AUTO, FMT_NDJSON, FMT_TEXT };

struct field_stat {
	char *name;
	uint64_t mismatches, null_diffs, type_changes;
	double max_diff; /* -1: no numeric difference */
};

struct sample {
	char *key;   /* the key object, JSON */
	char *field;
	char *a, *b; /* values, JSON; NULL: missing */
};

struct report {
	uint64_t source, target, matched, missing, extra, changed, dup_source, dup_target;
	struct ts_htab fields; /* name -> index + 1 into stat */
	struct field_stat *stat;
	size_t nstat, capstat;
	struct ts_htab columns; /* top-level key -> 1 source, 2 target (bits) */
	int columns_overflow;
	char *shard;            /* "I/N" or NULL */
	char *keydesc;          /* the key paths, JSON array text, or "null" */
	char *optdesc;          /* the options that change equality, a JSON object */
};

struct df {
	struct ts_run run;
	struct ts_input in;
	enum fmt fmt;
	struct ts_jpath keys[MAX_KEYS];
	size_t nkeys;
	struct ts_jpath ignore[MAX_PATHS], only[MAX_PATHS];
	struct ts_diff_tol tol[MAX_PATHS];
	struct ts_diff_opts o;
	int have_tol;
	uint64_t max_diffs;
	int have_max_diffs;
	const char *report_path;
	const char *miss_path;
	struct ts_afile report_af, miss_af; /* published whole at the end, or not at all */
	struct ts_out miss;
	uint64_t shard_i, shard_n;
	int merge_reports;
	uint64_t mem;

	struct ts_diff diff;      /* the comparing thread's */
	struct ts_diff rdiff;     /* the reading thread's (unkeyed: canonical forms) */
	struct pipe *pipe;        /* two threads: the queue between them */
	int threads;
	uint64_t src_size;        /* the source file's size, when known */
	uint64_t src_added;       /* bytes of source records added to memory */
	unsigned resident;        /* spilling: parts [0, resident) stay in memory */
	struct ts_buf wtmp;
	struct ts_json_keys idx; /* the record's members, noted as it is scanned */
	struct ts_buf key, tmp, line, name;

	/* the current part */
	char **blocks, **big;
	size_t *block_fill;     /* bytes used in each block but the current */
	size_t nblocks, capblocks, cur_block, block_used, nbig, capbig;
	uint64_t big_bytes;
	uint64_t *slots;        /* the table: hash tag << 32 | first entry */
	size_t cap, count;

	/* spilling */
	struct ts_spill *ss, *ts;
	unsigned nparts;
	struct ts_distinct *extra_keys; /* keyed: the keys only in the target, to count duplicates */

	/* columns: shapes (the sequence of top-level keys) already noted */
	struct ts_htab shapes[2];

	struct report rep;
	uint64_t lines;
	struct sample samples[SAMPLES];
	size_t nsamples;
	uint64_t *c_source, *c_target, *c_other;
	int side; /* 0 reading the source, 1 the target */
	_Atomic int failed;
	/* where the lines go: the run's output, or (a part on a worker
	 * thread) the part's temporary file */
	struct ts_out *out, *missout;
	struct df *main;          /* a worker's: the run's state; NULL in it */
};

/* ---- options ------------------------------------------------------------------ */

/* Split a comma-separated list of paths (a comma inside quotes is part of
 * a key) into out[]. */
static int add_paths(struct ts_jpath *out, size_t *n, size_t max, const char *arg, const char *opt)
{
	const char *p = arg;

	if (!*arg)
		return ts_usage_error(&cmd, "%s: an empty path", opt), -1;
	while (*p) {
		const char *q = p;
		int quoted = 0;
		for (; *q && (quoted || *q != ','); q++) {
			if (*q == '"')
				quoted = !quoted;
			else if (*q == '\\' && quoted && q[1])
				q++;
		}
		char *one = strndup(p, (size_t)(q - p));
		char err[256];
		if (!one)
			return ts_usage_error(&cmd, "out of memory"), -1;
		if (*n == max) {
			free(one);
			return ts_usage_error(&cmd, "%s: more than %zu paths", opt, max), -1;
		}
		if (ts_jpath_parse(&out[*n], one, err, sizeof(err)) < 0) {
			ts_usage_error(&cmd, "%s: '%s': %s", opt, one, err);
			free(one);
			return -1;
		}
		free(one);
		(*n)++;
		p = *q ? q + 1 : q;
	}
	return 0;
}

/* 12, 0.5, .5, 1e-3: digits, a point, an exponent; no sign, hex, inf. */
static int plain_decimal(const char *s)
{
	int digits = 0;

	while (*s >= '0' && *s <= '9')
		s++, digits++;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			digits++;
	if (!digits)
		return 0;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

static int parse_tol(struct df *x, const char *arg, int rel)
{
	const char *eq = strrchr(arg, '=');
	const char *num = eq ? eq + 1 : arg;
	char *end;
	double v;

	errno = 0;
	v = strtod(num, &end);
	if (!*num || *end || errno || !(v >= 0) || isinf(v) || !plain_decimal(num))
		return ts_usage_error(&cmd, "--%s: '%s' is not a decimal number of 0 or more",
				      rel ? "rel-tol" : "abs-tol", num), -1;
	x->have_tol = 1;
	if (!eq) {
		if (rel)
			x->o.rel = v, x->o.rel_text = num;
		else
			x->o.abs = v, x->o.abs_text = num;
		return 0;
	}
	if (x->o.ntol == MAX_PATHS)
		return ts_usage_error(&cmd, "too many tolerances"), -1;
	struct ts_diff_tol *t = &x->tol[x->o.ntol];
	char *path = strndup(arg, (size_t)(eq - arg)), err[256];
	if (!path)
		return ts_usage_error(&cmd, "out of memory"), -1;
	memset(t, 0, sizeof(*t));
	if (ts_jpath_parse(&t->path, path, err, sizeof(err)) < 0) {
		ts_usage_error(&cmd, "--%s: '%s': %s", rel ? "rel-tol" : "abs-tol", path, err);
		free(path);
		return -1;
	}
	free(path);
	if (rel)
		t->rel = v, t->rel_text = num, t->has_rel = 1;
	else
		t->abs = v, t->abs_text = num, t->has_abs = 1;
	x->o.ntol++;
	return 0;
}

static int set_opt(void *ud, int id, const char *arg)
{
	struct df *x = ud;

	switch (id) {
	case OPT_KEY:
		return add_paths(x->keys, &x->nkeys, MAX_KEYS, arg, "--key");
	case OPT_IGNORE:
		return add_paths(x->ignore, &x->o.nignore, MAX_PATHS, arg, "--ignore");
	case OPT_ONLY:
		return add_paths(x->only, &x->o.nonly, MAX_PATHS, arg, "--only");
	case OPT_ABS_TOL:
		return parse_tol(x, arg, 0);
	case OPT_REL_TOL:
		return parse_tol(x, arg, 1);
	case OPT_IGNORE_CASE:
		x->o.fold = 1;
		return 0;
	case OPT_TRIM:
		x->o.trim = 1;
		return 0;
	case OPT_ARRAY_ORDER:
		if (!strcmp(arg, "ignore"))
			x->o.unordered = 1;
		else if (!strcmp(arg, "keep"))
			x->o.unordered = 0;
		else
			return ts_usage_error(&cmd, "--array-order: '%s' is not keep or ignore", arg), -1;
		return 0;
	case OPT_NULL_MISSING:
		x->o.null_missing = 1;
		return 0;
	case OPT_COERCE:
		x->o.coerce = 1;
		return 0;
	case OPT_MAX_DIFFS:
		if (ts_parse_u64(arg, &x->max_diffs) < 0)
			return ts_usage_error(&cmd, "--max-diffs: '%s' is not a count", arg), -1;
		x->have_max_diffs = 1;
		return 0;
	case OPT_REPORT:
		x->report_path = arg;
		return 0;
	case OPT_MISS_RECORDS:
		x->miss_path = arg;
		return 0;
	case OPT_FORMAT:
		if (!strcmp(arg, "ndjson"))
			x->fmt = FMT_NDJSON;
		else if (!strcmp(arg, "text"))
			x->fmt = FMT_TEXT;
		else
			return ts_usage_error(&cmd, "--format: '%s' is not ndjson or text", arg), -1;
		return 0;
	case OPT_SHARD: {
		const char *slash = strchr(arg, '/');
		char *i = slash ? strndup(arg, (size_t)(slash - arg)) : NULL;
		int bad = !slash || !i || ts_parse_u64(i, &x->shard_i) < 0 ||
			  ts_parse_u64(slash + 1, &x->shard_n) < 0 || x->shard_n < 1 ||
			  x->shard_i >= x->shard_n || x->shard_n > 1000000;
		free(i);
		if (bad)
			return ts_usage_error(&cmd, "--shard: '%s' is not I/N with 0 <= I < N", arg), -1;
		return 0;
	}
	case OPT_MERGE_REPORTS:
		x->merge_reports = 1;
		return 0;
	case OPT_MEMORY:
		if (ts_parse_size(arg, &x->mem) < 0 || x->mem < ((uint64_t)1 << 20))
			return ts_usage_error(&cmd, "--memory: '%s' is not a size of 1M or more", arg), -1;
		return 0;
	case OPT_THREADS: {
		uint64_t n;
		if (ts_parse_u64(arg, &n) < 0 || n < 1 || n > 1024)
			return ts_usage_error(&cmd, "--threads: '%s' is not a number from 1 to 1024", arg), -1;
		x->threads = (int)n;
		return 0;
	}
	}
	return -1;
}

/* ---- output helpers ---------------------------------------------------------------- */

/* A validated value, compact. */
static int put_value(struct ts_buf *b, struct ts_span v)
{
	return ts_json_minify(b, v);
}

static int put_str(struct ts_buf *b, const char *s, size_t n)
{
	if (ts_json_escape(b, s, n) < 0)
		return ts_buf_add(b, "\"\"", 2); /* not UTF-8: cannot happen for our names */
	return 0;
}

static int put_u64(struct ts_buf *b, uint64_t v)
{
	return ts_buf_addf(b, "%llu", (unsigned long long)v);
}

static int put_double(struct ts_buf *b, double d)
{
	char t[40];

	if (!isfinite(d))
		return ts_buf_add(b, "null", 4);
	ts_fmt_double(d, t, sizeof(t));
	return ts_buf_addstr(b, t);
}

/* The key object {"path":value,...} of a record. */
static int put_key(struct df *x, struct ts_buf *b, struct ts_span rec)
{
	ts_buf_addch(b, '{');
	for (size_t i = 0; i < x->nkeys; i++) {
		struct ts_span v;
		if (i)
			ts_buf_addch(b, ',');
		put_str(b, x->keys[i].text, strlen(x->keys[i].text));
		ts_buf_addch(b, ':');
		if (ts_jpath_get(&x->keys[i], rec, &v))
			put_value(b, v);
		else
			ts_buf_add(b, "null", 4);
	}
	return ts_buf_addch(b, '}');
}

static int want_line(struct df *x)
{
	if (x->fmt == FMT_TEXT)
		return 0;
	if (x->have_max_diffs && x->lines >= x->max_diffs)
		return 0;
	x->lines++;
	return 1;
}

static void miss_record(struct df *x, struct ts_span rec)
{
	if (!x->miss_path)
		return;
	ts_buf_add(&x->missout->buf, rec.p, rec.n);
	ts_out_end_record(x->missout);
}

/* ---- the report ----------------------------------------------------------------------- */

static struct field_stat *field(struct report *r, const char *name, size_t n)
{
	uint64_t h = ts_hash(ts_hkey_process(), name, n);
	int is_new;
	uint64_t *slot = ts_htab_put(&r->fields, h, name, n, &is_new);

	if (!slot)
		return NULL;
	if (is_new) {
		if (r->nstat == r->capstat) {
			size_t nc = r->capstat ? r->capstat * 2 : 16;
			struct field_stat *s = realloc(r->stat, nc * sizeof(*s));
			if (!s)
				return NULL;
			r->stat = s;
			r->capstat = nc;
		}
		struct field_stat *f = &r->stat[r->nstat];
		memset(f, 0, sizeof(*f));
		f->name = strndup(name, n);
		f->max_diff = -1;
		*slot = ++r->nstat;
	}
	return &r->stat[*slot - 1];
}

static void column(struct report *r, const char *k, size_t n, uint64_t side_bit)
{
	uint64_t h = ts_hash(ts_hkey_process(), k, n);
	uint64_t *slot = ts_htab_get(&r->columns, h, k, n);

	if (!slot) {
		if (ts_htab_count(&r->columns) >= MAX_COLUMNS) {
			r->columns_overflow = 1;
			return;
		}
		slot = ts_htab_put(&r->columns, h, k, n, NULL);
		if (!slot)
			return;
	}
	*slot |= side_bit;
}

/* The top-level keys of a record, noted once per shape (the sequence of
 * its keys as written): most datasets have a handful of shapes. */
static void note_columns(struct df *x, struct ts_span rec, const struct ts_json_keys *idx)
{
	struct ts_json_iter it;
	struct ts_span k, v;
	struct ts_htab *shapes = &x->shapes[x->side];
	int is_new = 1;

	ts_buf_reset(&x->tmp);
	if (idx && !idx->overflow) {
		for (size_t i = 0; i < idx->n; i++)
			ts_buf_add(&x->tmp, idx->k[i].p, idx->k[i].n);
	} else {
		ts_json_iter_init(&it, rec);
		while (ts_json_obj_next(&it, &k, &v))
			ts_buf_add(&x->tmp, k.p, k.n);
	}
	uint64_t h = ts_hash(ts_hkey_process(), x->tmp.data, x->tmp.len);
	if (ts_htab_count(shapes) < MAX_SHAPES) {
		if (!ts_htab_put(shapes, h, x->tmp.data, x->tmp.len, &is_new))
			is_new = 1;
	} else if (ts_htab_get(shapes, h, x->tmp.data, x->tmp.len)) {
		is_new = 0;
	}
	if (!is_new)
		return;
	ts_json_iter_init(&it, rec);
	while (ts_json_obj_next(&it, &k, &v)) {
		ts_buf_reset(&x->name);
		if (ts_json_unescape(&x->name, k) == 0)
			column(&x->rep, x->name.data, x->name.len, x->side ? 2 : 1);
	}
}

static int strp_cmp(const void *a, const void *b)
{
	const struct field_stat *x = a, *y = b;
	return strcmp(x->name, y->name);
}

static int cstr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The column names with side bits matching (bits & mask) == want, sorted. */
static char **columns_of(const struct report *r, uint64_t mask, uint64_t want, size_t *n)
{
	size_t cnt = ts_htab_count(&r->columns), i = 0;
	char **out = calloc(cnt + 1, sizeof(*out));
	uint64_t pos = 0, *val;
	const char *k;
	size_t kn;

	if (!out)
		return NULL;
	while (ts_htab_next(&r->columns, &pos, &k, &kn, &val))
		if ((*val & mask) == want)
			out[i++] = strndup(k, kn);
	qsort(out, i, sizeof(*out), cstr_cmp);
	*n = i;
	return out;
}

static void free_strs(char **s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i]);
	free(s);
}

static void put_names(struct ts_buf *b, char **s, size_t n)
{
	ts_buf_addch(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			ts_buf_addch(b, ',');
		put_str(b, s[i], strlen(s[i]));
	}
	ts_buf_addch(b, ']');
}

static void report_line(struct report *r, struct ts_buf *b)
{
	ts_buf_addstr(b, "{\"type\":\"report\"");
	if (r->shard)
		ts_buf_addf(b, ",\"shard\":\"%s\"", r->shard);
	ts_buf_addstr(b, ",\"key\":");
	ts_buf_addstr(b, r->keydesc);
	ts_buf_addstr(b, ",\"options\":");
	ts_buf_addstr(b, r->optdesc ? r->optdesc : "{}");
	const struct {
		const char *name;
		uint64_t v;
	} counts[] = {{"source", r->source}, {"target", r->target}, {"matched", r->matched},
		      {"missing", r->missing}, {"extra", r->extra}, {"changed", r->changed}};
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		ts_buf_addf(b, ",\"%s\":%llu", counts[i].name, (unsigned long long)counts[i].v);
	ts_buf_addf(b, ",\"duplicateKeys\":{\"source\":%llu,\"target\":%llu},\"accuracy\":",
		    (unsigned long long)r->dup_source, (unsigned long long)r->dup_target);
	if (r->source)
		put_double(b, (double)r->matched / (double)r->source);
	else
		ts_buf_add(b, "null", 4);
	ts_buf_addstr(b, ",\"fields\":{");
	if (r->nstat)
		qsort(r->stat, r->nstat, sizeof(*r->stat), strp_cmp);
	/* the table's indexes are stale after the sort: rebuild it */
	ts_htab_release(&r->fields);
	for (size_t i = 0; i < r->nstat; i++) {
		struct field_stat *f = &r->stat[i];
		size_t n = strlen(f->name);
		uint64_t *slot = ts_htab_put(&r->fields, ts_hash(ts_hkey_process(), f->name, n), f->name, n, NULL);
		if (slot)
			*slot = i + 1;
		if (i)
			ts_buf_addch(b, ',');
		put_str(b, f->name, n);
		ts_buf_addstr(b, ":{\"mismatches\":");
		put_u64(b, f->mismatches);
		ts_buf_addstr(b, ",\"maxDiff\":");
		if (f->max_diff >= 0)
			put_double(b, f->max_diff);
		else
			ts_buf_add(b, "null", 4);
		ts_buf_addstr(b, ",\"nullDiffs\":");
		put_u64(b, f->null_diffs);
		ts_buf_addstr(b, ",\"typeChanges\":");
		put_u64(b, f->type_changes);
		ts_buf_addch(b, '}');
	}
	ts_buf_addch(b, '}');
	size_t n1, n2, ns, nt;
	char **so = columns_of(r, 3, 1, &n1), **to = columns_of(r, 3, 2, &n2);
	char **sa = columns_of(r, 1, 1, &ns), **ta = columns_of(r, 2, 2, &nt);
	ts_buf_addstr(b, ",\"sourceOnlyFields\":");
	put_names(b, so, so ? n1 : 0);
	ts_buf_addstr(b, ",\"targetOnlyFields\":");
	put_names(b, to, to ? n2 : 0);
	ts_buf_addstr(b, ",\"columns\":{\"source\":");
	put_names(b, sa, sa ? ns : 0);
	ts_buf_addstr(b, ",\"target\":");
	put_names(b, ta, ta ? nt : 0);
	ts_buf_addch(b, '}');
	if (r->columns_overflow)
		ts_buf_addstr(b, ",\"columnsTruncated\":true");
	ts_buf_addch(b, '}');
	free_strs(so, so ? n1 : 0);
	free_strs(to, to ? n2 : 0);
	free_strs(sa, sa ? ns : 0);
	free_strs(ta, ta ? nt : 0);
}

/* ---- the part in memory ------------------------------------------------------------------ */

/*
 * The part in memory.  Each source record is one entry in the store —
 * header, key bytes, record bytes, back to back in blocks of 2 MiB (huge
 * pages, kept from part to part) — so looking a key up and comparing its
 * record touches one place.  The table holds, per distinct key, a 32-bit
 * tag of its hash and a reference to its first entry; entries of one key
 * are chained in the order they came.  A reference is the entry's place in
 * 8-byte units, plus one (0 is none): 32 GiB of store at most.
 */
struct ent {
	uint32_t len;    /* record bytes */
	uint32_t keylen;
	uint32_t next;   /* the next source entry of its key */
	uint32_t occ;    /* 1 for the first record of its key, 2 for the next... */
	/* in the first entry of a key (the one the table points at): */
	uint32_t cursor; /* the next entry to pair, 0 none left */
	uint32_t last;   /* the last source entry */
	uint32_t scount, tcount;
	uint32_t extra;  /* unkeyed: an entry holding its first unpaired target record */
	uint8_t paired, target, big;
	/* then the key and the record, or with big a pointer to them */
};

#define ENT_HDR ((sizeof(struct ent) + 7) & ~(size_t)7)
#define BIG_ENTRY (STORE_BLOCK / 4) /* a key and record larger go outside the store */
#define UNITS_PER_BLOCK (STORE_BLOCK >> 3)

static inline struct ent *ent_at(const struct df *x, uint32_t ref)
{
	uint64_t u = (uint64_t)ref - 1;
	return (struct ent *)(x->blocks[u / UNITS_PER_BLOCK] + (u % UNITS_PER_BLOCK) * 8);
}

static inline const char *ent_key(const struct ent *e)
{
	if (e->big)
		return *(char *const *)((const char *)e + ENT_HDR);
	return (const char *)e + ENT_HDR;
}

static inline struct ts_span ent_rec(const struct ent *e)
{
	return (struct ts_span){ent_key(e) + e->keylen, e->len};
}

/* A new entry for key and record rec: its reference, 0 out of memory. */
static uint32_t ent_new(struct df *x, struct ts_span key, struct ts_span rec)
{
	size_t kn = key.n, body = kn + rec.n, big = body > BIG_ENTRY;
	size_t sz = (ENT_HDR + (big ? sizeof(char *) : body) + 7) & ~(size_t)7;
	char *blob = NULL;

	if (!x->nblocks || x->block_used + sz > STORE_BLOCK) {
		if (x->nblocks)
			x->block_fill[x->cur_block] = x->block_used;
		if (x->nblocks && x->cur_block + 1 < x->nblocks) {
			x->cur_block++;
		} else {
			if ((uint64_t)x->nblocks * UNITS_PER_BLOCK >= UINT32_MAX - UNITS_PER_BLOCK)
				return 0; /* 32 GiB in one part */
			if (x->nblocks == x->capblocks) {
				size_t nc = x->capblocks ? x->capblocks * 2 : 64;
				char **bl = realloc(x->blocks, nc * sizeof(*bl));
				size_t *fl = bl ? realloc(x->block_fill, nc * sizeof(*fl)) : NULL;
				if (bl)
					x->blocks = bl;
				if (!fl)
					return 0;
				x->block_fill = fl;
				x->capblocks = nc;
			}
			char *w = ts_alloc_huge(STORE_BLOCK);
			if (!w)
				return 0;
			x->blocks[x->nblocks] = w;
			x->cur_block = x->nblocks++;
		}
		x->block_used = 0;
	}
	if (big) {
		if (x->nbig == x->capbig) {
			size_t nc = x->capbig ? x->capbig * 2 : 16;
			char **bg = realloc(x->big, nc * sizeof(*bg));
			if (!bg)
				return 0;
			x->big = bg;
			x->capbig = nc;
		}
		if (!(blob = malloc(body)))
			return 0;
		x->big[x->nbig++] = blob;
		x->big_bytes += body;
	}
	struct ent *e = (struct ent *)(x->blocks[x->cur_block] + x->block_used);
	uint32_t ref = (uint32_t)((uint64_t)x->cur_block * UNITS_PER_BLOCK + x->block_used / 8 + 1);
	memset(e, 0, sizeof(*e));
	e->len = (uint32_t)rec.n;
	e->keylen = (uint32_t)kn;
	e->big = (uint8_t)big;
	char *body_at = big ? blob : (char *)e + ENT_HDR;
	if (big)
		memcpy((char *)e + ENT_HDR, &blob, sizeof(blob));
	memcpy(body_at, key.p, kn);
	memcpy(body_at + kn, rec.p, rec.n);
	x->block_used += sz;
	return ref;
}

/* The first entry of key (hash h), or 0. */
static uint32_t tab_get(const struct df *x, struct ts_span key, uint64_t h)
{
	uint32_t tag = (uint32_t)(h >> 32);
	size_t mask = x->cap - 1, i = tag & mask;

	if (!x->cap)
		return 0;
	for (;; i = (i + 1) & mask) {
		uint64_t sl = x->slots[i];
		if (!sl)
			return 0;
		if ((uint32_t)(sl >> 32) == tag) {
			const struct ent *e = ent_at(x, (uint32_t)sl);
			if (e->keylen == key.n && !memcmp(ent_key(e), key.p, key.n))
				return (uint32_t)sl;
		}
	}
}

static int tab_put(struct df *x, uint64_t h, uint32_t ref)
{
	if ((x->count + 1) * 4 > x->cap * 3) {
		size_t nc = x->cap ? x->cap * 2 : 1024;
		uint64_t *ns = nc * 8 >= ((size_t)2 << 20) ? ts_alloc_huge(nc * 8) : malloc(nc * 8);
		if (!ns)
			return -1;
		memset(ns, 0, nc * 8);
		for (size_t i = 0; i < x->cap; i++) {
			uint64_t sl = x->slots[i];
			if (!sl)
				continue;
			size_t j = (sl >> 32) & (nc - 1);
			while (ns[j])
				j = (j + 1) & (nc - 1);
			ns[j] = sl;
		}
		free(x->slots);
		x->slots = ns;
		x->cap = nc;
	}
	size_t mask = x->cap - 1, i = (h >> 32) & mask;
	while (x->slots[i])
		i = (i + 1) & mask;
	x->slots[i] = (h >> 32 << 32) | ref;
	x->count++;
	return 0;
}

/* Memory the part holds: the blocks in use (those past the current one
 * are kept for reuse), records outside them, the table. */
static uint64_t part_memory(const struct df *x)
{
	return (uint64_t)(x->nblocks ? x->cur_block + 1 : 0) * STORE_BLOCK + x->big_bytes + x->cap * 8;
}

/* Forget the part in memory; with keep, keep the blocks and the table's
 * slots for the next part. */
static void part_reset(struct df *x, int keep)
{
	for (size_t i = 0; i < x->nbig; i++)
		free(x->big[i]);
	x->nbig = 0;
	x->big_bytes = 0;
	if (x->cap)
		memset(x->slots, 0, x->cap * 8);
	x->count = 0;
	x->cur_block = x->block_used = 0;
	if (keep)
		return;
	for (size_t i = 0; i < x->nblocks; i++)
		free(x->blocks[i]);
	free(x->blocks);
	free(x->block_fill);
	free(x->big);
	free(x->slots);
	x->blocks = x->big = NULL;
	x->block_fill = NULL;
	x->slots = NULL;
	x->nblocks = x->capblocks = x->capbig = x->cap = 0;
}

/* Walk the entries in the order they were made: *ref 0 to start; 0 at the
 * end. */
static struct ent *ent_next_ref(struct df *x, uint64_t *pos, uint32_t *ref)
{
	for (;;) {
		size_t blk = *pos / STORE_BLOCK, off = *pos % STORE_BLOCK;
		if (!x->nblocks || blk > x->cur_block)
			return NULL;
		size_t fill = blk == x->cur_block ? x->block_used : x->block_fill[blk];
		if (off >= fill) {
			*pos = (uint64_t)(blk + 1) * STORE_BLOCK;
			continue;
		}
		struct ent *e = (struct ent *)(x->blocks[blk] + off);
		size_t body = e->big ? sizeof(char *) : (size_t)e->keylen + e->len;
		*pos += (ENT_HDR + body + 7) & ~(size_t)7;
		if (ref)
			*ref = (uint32_t)((uint64_t)blk * UNITS_PER_BLOCK + off / 8 + 1);
		return e;
	}
}

static struct ent *ent_next(struct df *x, uint64_t *pos)
{
	return ent_next_ref(x, pos, NULL);
}

/* Trouble that ends the run (exit 2): said once, by whichever thread. */
static int trouble(struct df *x, const char *msg)
{
	struct df *m = x->main ? x->main : x;

	if (!m->failed++)
		ts_error("%s", msg);
	x->failed = 1;
	return -1;
}

static int oom(struct df *x)
{
	return trouble(x, "out of memory");
}

/* The key of a record into x->key: the canonical forms of the key values
 * as a JSON array, or (unkeyed) the canonical form of the record.  -1
 * when a key path is not in the record (*missing names it). */
static int key_of(struct df *x, struct ts_span rec, const struct ts_json_keys *idx, size_t *missing)
{
	ts_buf_reset(&x->key);
	if (!x->nkeys)
		return ts_diff_canon(&x->rdiff, &x->key, rec);
	ts_buf_addch(&x->key, '[');
	for (size_t i = 0; i < x->nkeys; i++) {
		struct ts_span v;
		int got = idx ? ts_jpath_get_indexed(&x->keys[i], rec, idx, &v) : ts_jpath_get(&x->keys[i], rec, &v);
		if (!got) {
			*missing = i;
			return -1;
		}
		if (i)
			ts_buf_addch(&x->key, ',');
		if (ts_value_canon(&x->key, v) < 0)
			return -2;
	}
	return ts_buf_addch(&x->key, ']');
}

static uint64_t fixed_hash(const struct df *x)
{
	return ts_hash(&ts_hkey_fixed, x->key.data, x->key.len);
}

/* Which part a key goes to: the high bits of the fixed hash (--shard takes
 * it modulo N: the two stay independent). */
static unsigned part_of(const struct df *x, uint64_t fh)
{
	return (unsigned)(((fh >> 32) * (uint64_t)x->nparts) >> 32);
}

/* Add a source record (key, hash h) to the part in memory. */
/* Chain the source entry ref (key, hash h) after the others of its key. */
static int link_source(struct df *x, uint32_t ref, struct ts_span key, uint64_t h)
{
	uint32_t head = tab_get(x, key, h);
	struct ent *e = ent_at(x, ref), *hd;

	if (!head) {
		if (tab_put(x, h, ref) < 0)
			return oom(x);
		head = ref;
	}
	hd = ent_at(x, head);
	e->occ = ++hd->scount;
	if (hd->last)
		ent_at(x, hd->last)->next = ref;
	else
		hd->cursor = ref;
	hd->last = ref;
	if (e->occ > 1)
		x->rep.dup_source++;
	return 0;
}

static int add_source(struct df *x, struct ts_span rec, struct ts_span key, uint64_t h)
{
	uint32_t ref = ent_new(x, key, rec);

	x->src_added += rec.n + 1;
	if (!ref)
		return oom(x);
	return link_source(x, ref, key, h);
}

static void count_diffs(struct df *x)
{
	for (size_t i = 0; i < x->diff.nitems; i++) {
		size_t n;
		const char *path = ts_diff_path(&x->diff, i, &n);
		struct field_stat *f = field(&x->rep, path, n);
		const struct ts_diff_item *it = &x->diff.items[i];
		if (!f)
			continue;
		f->mismatches++;
		if (it->kind == TS_DIFF_NULL)
			f->null_diffs++;
		if (it->kind == TS_DIFF_TYPE)
			f->type_changes++;
		if (it->numeric && !(it->delta <= f->max_diff))
			f->max_diff = it->delta;
	}
}

static void sample_free(struct sample *s)
{
	free(s->key);
	free(s->field);
	free(s->a);
	free(s->b);
	memset(s, 0, sizeof(*s));
}

static void keep_samples(struct df *x, struct ts_span rec)
{
	for (size_t i = 0; i < x->diff.nitems && x->nsamples < SAMPLES; i++) {
		struct sample *s = &x->samples[x->nsamples++];
		size_t n;
		const char *path = ts_diff_path(&x->diff, i, &n);
		struct ts_buf b;
		ts_buf_init(&b, 0);
		put_key(x, &b, rec);
		s->key = ts_buf_detach(&b, NULL);
		s->field = strndup(path, n);
		if (x->diff.items[i].a.n) {
			ts_buf_init(&b, 0);
			put_value(&b, x->diff.items[i].a);
			s->a = ts_buf_detach(&b, NULL);
		}
		if (x->diff.items[i].b.n) {
			ts_buf_init(&b, 0);
			put_value(&b, x->diff.items[i].b);
			s->b = ts_buf_detach(&b, NULL);
		}
	}
}

static void put_diffs(struct df *x, struct ts_buf *b)
{
	ts_buf_addstr(b, ",\"diffs\":[");
	for (size_t i = 0; i < x->diff.nitems; i++) {
		const struct ts_diff_item *it = &x->diff.items[i];
		size_t n;
		const char *path = ts_diff_path(&x->diff, i, &n);
		if (i)
			ts_buf_addch(b, ',');
		ts_buf_addstr(b, "{\"field\":");
		put_str(b, path, n);
		if (it->a.n) {
			ts_buf_addstr(b, ",\"source\":");
			put_value(b, it->a);
		}
		if (it->b.n) {
			ts_buf_addstr(b, ",\"target\":");
			put_value(b, it->b);
		}
		ts_buf_addch(b, '}');
	}
	ts_buf_addstr(b, "]}");
}

/* A target record (key, hash h) against the part in memory. */
static int pair_target(struct df *x, struct ts_span rec, struct ts_span key, uint64_t h)
{
	uint32_t head = tab_get(x, key, h);
	struct ent *hd = head ? ent_at(x, head) : NULL;
	struct ts_buf *b = &x->out->buf;

	if (hd && ++hd->tcount > 1)
		x->rep.dup_target++;
	if (!hd || !hd->cursor) {
		x->rep.extra++;
		if (!x->nkeys) {
			/* unkeyed: counted per record, written once per distinct
			 * record at the end of the part */
			if (!hd) {
				uint32_t ref = ent_new(x, key, rec);
				if (!ref || tab_put(x, h, ref) < 0)
					return oom(x);
				hd = ent_at(x, ref);
				hd->target = 1;
				hd->tcount = 1;
				hd->extra = ref;
			} else if (!hd->extra) {
				uint32_t ref = ent_new(x, key, rec);
				if (!ref)
					return oom(x);
				ent_at(x, ref)->target = 1;
				ent_at(x, head)->extra = ref;
			}
			return 0;
		}
		if (!hd && ts_distinct_add(x->extra_keys, key.p, key.n) < 0) {
			/* only in the target: its key counted for duplicates */
			return trouble(x, ts_distinct_error(x->extra_keys));
		}
		if (want_line(x)) {
			ts_buf_addstr(b, "{\"type\":\"extra\",\"key\":");
			put_key(x, b, rec);
			if (hd && hd->tcount > 1)
				ts_buf_addf(b, ",\"occurrence\":%u", hd->tcount);
			ts_buf_addstr(b, ",\"target\":");
			ts_buf_add(b, rec.p, rec.n);
			ts_buf_addch(b, '}');
			ts_out_end_record(x->out);
		}
		return 0;
	}
	struct ent *e = ent_at(x, hd->cursor);
	hd->cursor = e->next;
	e->paired = 1;
	if (!x->nkeys) {
		x->rep.matched++;
		return 0;
	}
	struct ts_span src = ent_rec(e);
	long nd = ts_diff_compare(&x->diff, src, rec);
	if (nd < 0)
		return oom(x);
	if (nd == 0) {
		x->rep.matched++;
		return 0;
	}
	x->rep.changed++;
	count_diffs(x);
	keep_samples(x, rec);
	miss_record(x, src);
	if (!want_line(x))
		return 0;
	ts_buf_addstr(b, "{\"type\":\"changed\",\"key\":");
	put_key(x, b, rec);
	if (e->occ > 1)
		ts_buf_addf(b, ",\"occurrence\":%u", e->occ);
	ts_buf_addstr(b, ",\"source\":");
	ts_buf_add(b, src.p, src.n);
	ts_buf_addstr(b, ",\"target\":");
	ts_buf_add(b, rec.p, rec.n);
	put_diffs(x, b);
	ts_out_end_record(x->out);
	return 0;
}

/* The end of a part: what is left unpaired in the source is missing;
 * unkeyed, what the target had more of is extra. */
static void finish_part(struct df *x)
{
	struct ts_buf *b = &x->out->buf;
	uint64_t pos = 0;
	struct ent *e;

	while ((e = ent_next(x, &pos))) {
		struct ts_span src = ent_rec(e);
		if (e->target || e->paired)
			continue;
		x->rep.missing++;
		miss_record(x, src);
		if (!x->nkeys) {
			/* one line per distinct record, at its first unpaired one:
			 * records pair in order, so that is occurrence tcount + 1 */
			struct ts_span key = {ent_key(e), e->keylen};
			const struct ent *hd = ent_at(x, tab_get(x, key, ts_hash(ts_hkey_process(), key.p, key.n)));
			if (e->occ != hd->tcount + 1)
				continue;
			uint64_t left = hd->scount - hd->tcount;
			if (want_line(x)) {
				ts_buf_addstr(b, "{\"type\":\"missing\",\"count\":");
				put_u64(b, left);
				ts_buf_addstr(b, ",\"source\":");
				ts_buf_add(b, src.p, src.n);
				ts_buf_addch(b, '}');
				ts_out_end_record(x->out);
			}
			continue;
		}
		if (want_line(x)) {
			ts_buf_addstr(b, "{\"type\":\"missing\",\"key\":");
			put_key(x, b, src);
			if (e->occ > 1)
				ts_buf_addf(b, ",\"occurrence\":%u", e->occ);
			ts_buf_addstr(b, ",\"source\":");
			ts_buf_add(b, src.p, src.n);
			ts_buf_addch(b, '}');
			ts_out_end_record(x->out);
		}
	}
	if (x->nkeys)
		return;
	pos = 0;
	while ((e = ent_next(x, &pos))) {
		if (!e->extra || e->tcount <= e->scount || !want_line(x))
			continue;
		ts_buf_addstr(b, "{\"type\":\"extra\",\"count\":");
		put_u64(b, e->tcount - e->scount);
		ts_buf_addstr(b, ",\"target\":");
		struct ts_span t = ent_rec(ent_at(x, e->extra));
		ts_buf_add(b, t.p, t.n);
		ts_buf_addch(b, '}');
		ts_out_end_record(x->out);
	}
}

/* ---- spilling ---------------------------------------------------------------------------- */

static int spill_fail(struct df *x, struct ts_spill *s)
{
	return trouble(x, ts_spill_error(s));
}

/* A record to its part on disk: the key's length (4 bytes), the key, the
 * record. */
static int spill_put(struct df *x, struct ts_spill *s, struct ts_span key, uint64_t fh,
		     struct ts_span rec)
{
	unsigned char hdr[4 + 256];
	size_t hn = 4;

	for (int i = 0; i < 4; i++)
		hdr[i] = (unsigned char)(key.n >> (8 * i));
	if (key.n <= 256) { /* small keys: one piece with the length */
		memcpy(hdr + 4, key.p, key.n);
		hn += key.n;
		if (ts_spill_add(s, part_of(x, fh), hdr, hn, rec.p, rec.n) < 0)
			return spill_fail(x, s);
		return 0;
	}
	ts_buf_reset(&x->wtmp);
	if (ts_buf_add(&x->wtmp, hdr, 4) < 0 || ts_buf_add(&x->wtmp, key.p, key.n) < 0)
		return oom(x);
	if (ts_spill_add(s, part_of(x, fh), x->wtmp.data, x->wtmp.len, rec.p, rec.n) < 0)
		return spill_fail(x, s);
	return 0;
}

/* A spilled record back: key and record spans into buf. */
static int spill_get(struct ts_buf *buf, struct ts_span *key, struct ts_span *rec)
{
	const unsigned char *p = (const unsigned char *)buf->data;
	size_t kn;

	if (buf->len < 4)
		return -1;
	kn = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
	if (kn > buf->len - 4)
		return -1;
	*key = (struct ts_span){buf->data + 4, kn};
	*rec = (struct ts_span){buf->data + 4 + kn, buf->len - 4 - kn};
	return 0;
}

/* The source has outgrown --memory: from here on both sides go to parts on
 * disk, the records already in memory first. */
/* Keep in memory only the source records of parts [0, r): the others go
 * to their parts on disk, the kept ones are moved down over the gaps and
 * chained again. */
static int evict(struct df *x, unsigned r)
{
	uint64_t rpos = 0;
	size_t wblk = 0, wused = 0;
	struct ent *e;

	x->rep.dup_source = 0; /* counted again as records are chained, or parts read */
	while ((e = ent_next(x, &rpos))) {
		struct ts_span key = {ent_key(e), e->keylen};
		uint64_t fh = ts_hash(&ts_hkey_fixed, key.p, key.n);
		size_t body = e->big ? sizeof(char *) : (size_t)e->keylen + e->len;
		size_t sz = (ENT_HDR + body + 7) & ~(size_t)7;
		if (part_of(x, fh) >= r) {
			if (spill_put(x, x->ss, key, fh, ent_rec(e)) < 0)
				return -1;
			continue;
		}
		if (wused + sz > STORE_BLOCK) {
			x->block_fill[wblk] = wused;
			wblk++;
			wused = 0;
		}
		char *to = x->blocks[wblk] + wused;
		if (to != (char *)e)
			memmove(to, e, sz);
		wused += sz;
	}
	x->cur_block = wblk;
	x->block_used = wused;
	/* the table and the chains again, over the moved entries */
	if (x->cap)
		memset(x->slots, 0, x->cap * 8);
	x->count = 0;
	rpos = 0;
	uint32_t ref;
	while ((e = ent_next_ref(x, &rpos, &ref))) {
		struct ts_span key = {ent_key(e), e->keylen};
		e->next = e->occ = e->cursor = e->last = e->scount = e->tcount = 0;
		if (link_source(x, ref, key, ts_hash(ts_hkey_process(), key.p, key.n)) < 0)
			return -1;
	}
	x->resident = r;
	return 0;
}

/* The source has outgrown --memory: both sides are split into parts by
 * a hash of the key.  The parts that fit stay in memory (their target
 * records are compared as they come, as before); the others go to disk,
 * to be compared part by part at the end. */
static int start_spill(struct df *x, uint64_t size_hint)
{
	/* as many parts as keep every comparing thread's part in memory
	 * within its share of the budget, with room to spare: the source's
	 * size (when it is a file) times what a byte of it has cost in memory
	 * so far */
	uint64_t nw = x->threads < 2 ? 1 : (uint64_t)x->threads;
	double cost = x->src_added ? (double)part_memory(x) / (double)x->src_added : 1.5;
	double total = size_hint ? (double)size_hint * cost : 0;
	uint64_t want = size_hint ? (uint64_t)(total * (double)nw * 1.5 / (double)x->mem) + 1 : 64 * nw;
	if (want < 16)
		want = 16;
	if (want > TS_SPILL_MAX_PARTS)
		want = TS_SPILL_MAX_PARTS;
	x->nparts = (unsigned)want;
	if (!(x->ss = ts_spill_new(x->nparts, NULL)) || !(x->ts = ts_spill_new(x->nparts, NULL))) {
		char m[256];
		snprintf(m, sizeof(m), "cannot spill to disk: %s", strerror(errno));
		return trouble(x, m);
	}
	/* resident: the parts that fill two thirds of the budget, by the
	 * estimate (fewer are kept later if it was too hopeful) */
	unsigned r = 0;
	if (total > 0) {
		double per = total / (double)x->nparts;
		r = (unsigned)((double)x->mem * 2 / 3 / per);
		if (r > x->nparts)
			r = x->nparts;
	}
	return evict(x, r);
}

/* ---- reading ------------------------------------------------------------------------------- */

static void reject(struct df *x, const struct ts_item *it, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void reject(struct df *x, const struct ts_item *it, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ts_input_vreject(&x->in, it, code, (struct ts_span){0}, fmt, ap);
	va_end(ap);
}

/* One record, read and keyed, for the comparing side: the records of a
 * side in order. */
static int take(struct df *x, int side, struct ts_span rec, struct ts_span key, uint64_t h,
		uint64_t fh)
{
	if (!side) {
		if (x->ss && part_of(x, fh) >= x->resident)
			return spill_put(x, x->ss, key, fh, rec);
		if (add_source(x, rec, key, h) < 0)
			return -1;
		if (part_memory(x) > x->mem) {
			if (!x->ss)
				return start_spill(x, x->src_size);
			/* the resident parts outgrew the budget: a quarter fewer */
			return evict(x, x->resident - (x->resident + 3) / 4);
		}
		return 0;
	}
	if (x->ts && part_of(x, fh) >= x->resident)
		return spill_put(x, x->ts, key, fh, rec);
	return pair_target(x, rec, key, h);
}

/* ---- two threads: one reads, one compares ---------------------------------------------------- */

#define BATCH_RECORDS 2048
#define BATCH_BYTES ((size_t)1 << 20)
#define QUEUE 4

struct bitem {
	size_t rec, key; /* offsets in the batch's data */
	uint32_t rec_n, key_n;
	uint64_t h, fh;
};

struct batch {
	struct ts_buf data;
	struct bitem it[BATCH_RECORDS];
	size_t n;
	int side;
	int end; /* no more batches */
};

struct pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch *full[QUEUE], *free[QUEUE + 2];
	size_t nfull, head, nfree;
	struct batch *cur; /* the reader's */
};

static struct batch *batch_get(struct pipe *pp)
{
	struct batch *b;

	pthread_mutex_lock(&pp->mu);
	while (!pp->nfree)
		pthread_cond_wait(&pp->cv, &pp->mu);
	b = pp->free[--pp->nfree];
	pthread_mutex_unlock(&pp->mu);
	ts_buf_reset(&b->data);
	b->n = 0;
	b->end = 0;
	return b;
}

static void batch_send(struct pipe *pp, struct batch *b)
{
	pthread_mutex_lock(&pp->mu);
	while (pp->nfull == QUEUE)
		pthread_cond_wait(&pp->cv, &pp->mu);
	pp->full[(pp->head + pp->nfull++) % QUEUE] = b;
	pthread_cond_broadcast(&pp->cv);
	pthread_mutex_unlock(&pp->mu);
}

static struct batch *batch_recv(struct pipe *pp)
{
	struct batch *b;

	pthread_mutex_lock(&pp->mu);
	while (!pp->nfull)
		pthread_cond_wait(&pp->cv, &pp->mu);
	b = pp->full[pp->head];
	pp->head = (pp->head + 1) % QUEUE;
	pp->nfull--;
	pthread_cond_broadcast(&pp->cv);
	pthread_mutex_unlock(&pp->mu);
	return b;
}

static void batch_done(struct pipe *pp, struct batch *b)
{
	pthread_mutex_lock(&pp->mu);
	pp->free[pp->nfree++] = b;
	pthread_cond_broadcast(&pp->cv);
	pthread_mutex_unlock(&pp->mu);
}

/* The comparing thread: batches in order; the table's slots and entries
 * are asked for ahead of use (a lookup is a cache miss otherwise). */
static void *compare_thread(void *arg)
{
	struct df *x = arg;
	struct pipe *pp = x->pipe;

	for (;;) {
		struct batch *b = batch_recv(pp);
		int end = b->end;
		for (size_t i = 0; i < b->n && !x->failed; i++) {
			if (i + 8 < b->n && x->cap && !x->ss)
				__builtin_prefetch(&x->slots[(b->it[i + 8].h >> 32) & (x->cap - 1)]);
			if (b->side && i + 4 < b->n && x->cap && !x->ts) {
				uint64_t sl = x->slots[(b->it[i + 4].h >> 32) & (x->cap - 1)];
				if (sl && (uint32_t)(sl >> 32) == (uint32_t)(b->it[i + 4].h >> 32))
					__builtin_prefetch(ent_at(x, (uint32_t)sl));
			}
			const struct bitem *it = &b->it[i];
			struct ts_span rec = {b->data.data + it->rec, it->rec_n};
			struct ts_span key = {b->data.data + it->key, it->key_n};
			if (take(x, b->side, rec, key, it->h, it->fh) < 0)
				x->failed = 1;
		}
		batch_done(pp, b);
		if (end)
			return NULL;
	}
}

static int queue_record(struct df *x, struct ts_span rec, uint64_t h, uint64_t fh)
{
	struct pipe *pp = x->pipe;
	struct batch *b = pp->cur;

	if (b && (b->n == BATCH_RECORDS || b->data.len + rec.n + x->key.len > BATCH_BYTES) && b->n) {
		batch_send(pp, b);
		b = pp->cur = NULL;
	}
	if (!b)
		b = pp->cur = batch_get(pp);
	b->side = x->side;
	struct bitem *it = &b->it[b->n];
	it->rec = b->data.len;
	it->rec_n = (uint32_t)rec.n;
	if (ts_buf_add(&b->data, rec.p, rec.n) < 0)
		return oom(x);
	it->key = b->data.len;
	it->key_n = (uint32_t)x->key.len;
	if (ts_buf_add(&b->data, x->key.data, x->key.len) < 0)
		return oom(x);
	it->h = h;
	it->fh = fh;
	b->n++;
	return 0;
}

/* The end of a side: what is queued goes; at the end of both, the
 * comparing thread is told to stop. */
static void queue_flush(struct df *x, int end)
{
	struct pipe *pp = x->pipe;
	struct batch *b = pp->cur;

	if (!b && !end)
		return;
	if (!b) {
		b = batch_get(pp);
		b->side = x->side;
	}
	b->end = end;
	batch_send(pp, b);
	pp->cur = NULL;
}

/* ---- reading ---------------------------------------------------------------------------------- */

static int on_record(void *ud, struct ts_input *in, const struct ts_item *it)
{
	struct df *x = ud;
	struct ts_span rec = it->v;
	size_t missing = 0;
	int rc;

	(void)in;
	if (x->failed)
		return -1;
	if (rec.p[0] != '{') {
		reject(x, it, "not_an_object", "%s record is not an object", x->side ? "target" : "source");
		return 0;
	}
	if (it->has_ws) { /* kept and written compact */
		ts_buf_reset(&x->line);
		if (ts_json_minify(&x->line, rec) < 0)
			return oom(x);
		rec = (struct ts_span){x->line.data, x->line.len};
	}
	rc = key_of(x, rec, it->has_ws ? NULL : &x->idx, &missing);
	if (rc == -1 && x->nkeys) {
		reject(x, it, "missing_key", "the key %s is not in the %s record", x->keys[missing].text,
		       x->side ? "target" : "source");
		return 0;
	}
	if (rc < 0)
		return oom(x);
	uint64_t fh = fixed_hash(x);
	if (x->shard_n > 1 && fh % x->shard_n != x->shard_i) {
		(*x->c_other)++;
		return 0;
	}
	note_columns(x, rec, it->has_ws ? NULL : &x->idx);
	ts_run_tick(&x->run);
	if (!x->side) {
		(*x->c_source)++;
		x->rep.source++;
	} else {
		(*x->c_target)++;
		x->rep.target++;
	}
	uint64_t h = ts_hash(ts_hkey_process(), x->key.data, x->key.len);
	if (x->pipe)
		return queue_record(x, rec, h, fh);
	return take(x, x->side, rec, (struct ts_span){x->key.data, x->key.len}, h, fh) < 0 ? -1 : 0;
}

/* One part: its source records into memory, its target records against
 * them, then what is left. */
static int run_part(struct df *x, struct ts_spill *ss, struct ts_spill *ts, unsigned p)
{
	struct ts_buf rec;
	int rc;

	ts_buf_init(&rec, 0);
	if (ts_spill_rewind(ss, p) < 0 || ts_spill_rewind(ts, p) < 0) {
		ts_buf_release(&rec);
		return spill_fail(x, ss);
	}
	while ((rc = ts_spill_next(ss, p, &rec)) > 0) {
		struct ts_span r, k;
		if (spill_get(&rec, &k, &r) < 0 || add_source(x, r, k, ts_hash(ts_hkey_process(), k.p, k.n)) < 0)
			break;
	}
	if (rc < 0)
		spill_fail(x, ss);
	while (!x->failed && (rc = ts_spill_next(ts, p, &rec)) > 0) {
		struct ts_span r, k;
		if (spill_get(&rec, &k, &r) < 0 || pair_target(x, r, k, ts_hash(ts_hkey_process(), k.p, k.n)) < 0)
			break;
	}
	if (rc < 0)
		spill_fail(x, ts);
	ts_buf_release(&rec);
	if (x->failed)
		return -1;
	finish_part(x);
	part_reset(x, 1);
	return 0;
}

/* Parts on several threads: each worker has a part in memory of its own
 * and writes a part's lines to a temporary file; the main thread copies
 * the files out in part order, so the output is the one thread's. */
struct partres {
	int fd, mfd;        /* its lines, its --miss-records lines */
	struct sample samples[SAMPLES];
	size_t nsamples;
	int done;
};

struct pool {
	struct df *x;
	struct partres *res;
	unsigned next;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

struct worker {
	struct df w;
	struct pool *pool;
	pthread_t tid;
};

static void *part_worker(void *arg)
{
	struct worker *wk = arg;
	struct df *w = &wk->w;
	struct pool *pl = wk->pool;

	for (;;) {
		pthread_mutex_lock(&pl->mu);
		unsigned p = pl->next++;
		pthread_mutex_unlock(&pl->mu);
		if (p >= pl->x->nparts || pl->x->failed)
			break;
		struct partres *r = &pl->res[p];
		struct ts_out o, mo;
		r->fd = ts_tmpfile(NULL);
		r->mfd = pl->x->miss_path ? ts_tmpfile(NULL) : -1;
		if (r->fd < 0 || (pl->x->miss_path && r->mfd < 0)) {
			char m[256];
			snprintf(m, sizeof(m), "cannot create a temporary file in %s: %s", ts_tmpdir(),
				 strerror(errno));
			trouble(w, m);
		} else {
			ts_out_init(&o, r->fd);
			ts_out_init(&mo, r->mfd);
			w->out = &o;
			w->missout = &mo;
			w->nsamples = 0;
			run_part(w, pl->x->ss, pl->x->ts, p);
			if (ts_out_release(&o) < 0 || ts_out_release(&mo) < 0) {
				char m[256];
				snprintf(m, sizeof(m), "cannot write a temporary file in %s: %s", ts_tmpdir(),
					 strerror(o.err ? o.err : mo.err));
				trouble(w, m);
			}
			memcpy(r->samples, w->samples, sizeof(w->samples));
			r->nsamples = w->nsamples;
		}
		pthread_mutex_lock(&pl->mu);
		r->done = 1;
		pthread_cond_broadcast(&pl->cv);
		pthread_mutex_unlock(&pl->mu);
		if (w->failed)
			break;
	}
	return NULL;
}

/* Copy a part's lines to out, at most *left of them when limited. */
static int copy_lines(struct df *x, int fd, struct ts_out *out, int limited)
{
	char buf[1 << 16];
	long n;

	if (fd < 0)
		return 0;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return trouble(x, "cannot read a temporary file");
	while ((n = ts_read_full(fd, buf, sizeof(buf))) > 0) {
		const char *p = buf, *end = buf + n;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *stop = nl ? nl + 1 : end;
			if (limited && x->have_max_diffs && x->lines >= x->max_diffs)
				return 0;
			ts_buf_add(&out->buf, p, (size_t)(stop - p));
			if (nl) {
				ts_buf_setlen(&out->buf, out->buf.len - 1);
				ts_out_end_record(out);
				if (limited)
					x->lines++;
			}
			p = stop;
		}
	}
	return n < 0 ? trouble(x, "cannot read a temporary file") : 0;
}

static void worker_init(struct df *w, const struct df *x)
{
	*w = *x;
	w->main = (struct df *)x;
	w->failed = 0;
	w->blocks = w->big = NULL;
	w->block_fill = NULL;
	w->nblocks = w->capblocks = w->cur_block = w->block_used = w->nbig = w->capbig = 0;
	w->big_bytes = 0;
	w->slots = NULL;
	w->cap = w->count = 0;
	w->nsamples = 0;
	w->lines = 0;
	w->have_max_diffs = 0; /* the main thread limits the lines it copies */
	w->pipe = NULL;
	memset(&w->rep, 0, sizeof(w->rep));
	ts_htab_init(&w->rep.fields);
	ts_htab_init(&w->rep.columns);
	ts_diff_init(&w->diff, &x->o);
	ts_buf_init(&w->key, 0);
	ts_buf_init(&w->tmp, 0);
	ts_buf_init(&w->line, 0);
	ts_buf_init(&w->name, 0);
	ts_buf_init(&w->wtmp, 0);
	w->extra_keys = x->nkeys ? ts_distinct_new(&(struct ts_distinct_opts){x->mem / 8, NULL}) : NULL;
}

/* A worker's counts into the run's. */
static void worker_fold(struct df *x, struct df *w)
{
	struct report *r = &x->rep, *q = &w->rep;

	r->matched += q->matched;
	r->missing += q->missing;
	r->extra += q->extra;
	r->changed += q->changed;
	r->dup_source += q->dup_source;
	r->dup_target += q->dup_target;
	for (size_t i = 0; i < q->nstat; i++) {
		struct field_stat *g = &q->stat[i], *f = field(r, g->name, strlen(g->name));
		if (!f) {
			oom(x);
			break;
		}
		f->mismatches += g->mismatches;
		f->null_diffs += g->null_diffs;
		f->type_changes += g->type_changes;
		if (g->max_diff > f->max_diff)
			f->max_diff = g->max_diff;
		free(g->name);
	}
	free(q->stat);
	ts_htab_release(&q->fields);
	ts_htab_release(&q->columns);
	if (w->extra_keys && x->extra_keys && ts_distinct_take(x->extra_keys, w->extra_keys) < 0)
		trouble(x, ts_distinct_error(x->extra_keys));
	ts_distinct_free(w->extra_keys);
	part_reset(w, 0);
	ts_diff_release(&w->diff);
	ts_buf_release(&w->key);
	ts_buf_release(&w->tmp);
	ts_buf_release(&w->line);
	ts_buf_release(&w->name);
	ts_buf_release(&w->wtmp);
}

static int run_parts(struct df *x)
{
	unsigned nw = x->threads < 2 ? 1 : (unsigned)x->threads;

	if (nw > x->nparts - x->resident)
		nw = x->nparts - x->resident;
	if (nw < 2) {
		part_reset(x, 1); /* the resident parts are done */
		for (unsigned p = x->resident; p < x->nparts && !x->failed; p++) {
			run_part(x, x->ss, x->ts, p);
			ts_spill_drop(x->ss, p);
			ts_spill_drop(x->ts, p);
		}
		return x->failed ? -1 : 0;
	}
	/* the part in memory of the main thread is not needed any more */
	part_reset(x, 0);
	struct pool pl = {.x = x, .next = x->resident, .res = calloc(x->nparts, sizeof(struct partres))};
	struct worker *wk = calloc(nw, sizeof(*wk));
	unsigned started = 0;
	if (!pl.res || !wk) {
		free(pl.res);
		free(wk);
		return oom(x);
	}
	for (unsigned p = 0; p < x->nparts; p++)
		pl.res[p].fd = pl.res[p].mfd = -1;
	pthread_mutex_init(&pl.mu, NULL);
	pthread_cond_init(&pl.cv, NULL);
	for (unsigned i = 0; i < nw; i++) {
		worker_init(&wk[i].w, x);
		wk[i].pool = &pl;
		if (pthread_create(&wk[i].tid, NULL, part_worker, &wk[i]) == 0)
			started++;
		else
			break;
	}
	if (!started)
		part_worker(&wk[0]);
	/* the parts' lines, in part order, as they are done */
	for (unsigned p = x->resident; p < x->nparts; p++) {
		struct partres *r = &pl.res[p];
		pthread_mutex_lock(&pl.mu);
		while (!r->done && !x->failed)
			pthread_cond_wait(&pl.cv, &pl.mu);
		int done = r->done;
		pthread_mutex_unlock(&pl.mu);
		if (done && !x->failed) {
			copy_lines(x, r->fd, x->out, 1);
			if (x->miss_path)
				copy_lines(x, r->mfd, x->missout, 0);
			for (size_t i = 0; i < r->nsamples; i++) {
				if (x->nsamples < SAMPLES)
					x->samples[x->nsamples++] = r->samples[i];
				else
					sample_free(&r->samples[i]);
			}
		} else {
			for (size_t i = 0; i < r->nsamples; i++)
				sample_free(&r->samples[i]);
		}
		if (r->fd >= 0)
			close(r->fd);
		if (r->mfd >= 0)
			close(r->mfd);
		r->fd = r->mfd = -1;
		if (done) {
			ts_spill_drop(x->ss, p);
			ts_spill_drop(x->ts, p);
		}
		if (!done)
			break;
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(wk[i].tid, NULL);
	for (unsigned p = 0; p < x->nparts; p++) {
		if (pl.res[p].fd >= 0)
			close(pl.res[p].fd);
		if (pl.res[p].mfd >= 0)
			close(pl.res[p].mfd);
	}
	for (unsigned i = 0; i < nw; i++)
		worker_fold(x, &wk[i].w);
	free(pl.res);
	free(wk);
	pthread_mutex_destroy(&pl.mu);
	pthread_cond_destroy(&pl.cv);
	return x->failed ? -1 : 0;
}

/* ---- text ------------------------------------------------------------------------------------ */

static void text_report(struct df *x, struct ts_buf *b)
{
	struct report *r = &x->rep;
	size_t ns, nt, nboth, n1, n2;
	char **sa = columns_of(r, 1, 1, &ns), **ta = columns_of(r, 2, 2, &nt);
	char **both = columns_of(r, 3, 3, &nboth), **so = columns_of(r, 3, 1, &n1),
	     **to = columns_of(r, 3, 2, &n2);
	uint64_t unequal_vals = 0, cols_unequal = 0;
	char t[64];

	for (size_t i = 0; i < r->nstat; i++) {
		unequal_vals += r->stat[i].mismatches;
		cols_unequal += r->stat[i].mismatches > 0;
	}
	ts_buf_addstr(b, "ts-diff comparison\n------------------\n\n");
	ts_buf_addstr(b, "Dataset Summary\n---------------\n\n");
	ts_buf_addf(b, "%-8s %8s %12s\n", "Dataset", "Columns", "Records");
	ts_buf_addf(b, "%-8s %8zu %12llu\n", "source", ns, (unsigned long long)r->source);
	ts_buf_addf(b, "%-8s %8zu %12llu\n\n", "target", nt, (unsigned long long)r->target);
	ts_buf_addstr(b, "Column Summary\n--------------\n\n");
	ts_buf_addf(b, "Number of columns in common: %zu\n", nboth);
	ts_buf_addf(b, "Number of columns in source but not in target: %zu", n1);
	for (size_t i = 0; i < n1 && i < 20; i++)
		ts_buf_addf(b, "%s%s", i ? ", " : " (", so[i]);
	ts_buf_addstr(b, n1 ? (n1 > 20 ? ", ...)\n" : ")\n") : "\n");
	ts_buf_addf(b, "Number of columns in target but not in source: %zu", n2);
	for (size_t i = 0; i < n2 && i < 20; i++)
		ts_buf_addf(b, "%s%s", i ? ", " : " (", to[i]);
	ts_buf_addstr(b, n2 ? (n2 > 20 ? ", ...)\n" : ")\n") : "\n");
	ts_buf_addstr(b, "\nRecord Summary\n--------------\n\n");
	if (x->nkeys) {
		ts_buf_addstr(b, "Matched on: ");
		for (size_t i = 0; i < x->nkeys; i++)
			ts_buf_addf(b, "%s%s", i ? ", " : "", x->keys[i].text);
		ts_buf_addch(b, '\n');
	} else {
		ts_buf_addstr(b, "Matched on: whole records (unkeyed)\n");
	}
	ts_buf_addf(b, "Any duplicates on match values: %s\n",
		    r->dup_source || r->dup_target ? "Yes" : "No");
	ts_buf_addf(b, "Absolute tolerance: %s\n", ts_fmt_double(x->o.abs, t, sizeof(t)));
	ts_buf_addf(b, "Relative tolerance: %s\n", ts_fmt_double(x->o.rel, t, sizeof(t)));
	ts_buf_addf(b, "Number of records in common: %llu\n",
		    (unsigned long long)(r->matched + r->changed));
	ts_buf_addf(b, "Number of records in source but not in target: %llu\n",
		    (unsigned long long)r->missing);
	ts_buf_addf(b, "Number of records in target but not in source: %llu\n\n",
		    (unsigned long long)r->extra);
	ts_buf_addf(b, "Number of records with some compared columns unequal: %llu\n",
		    (unsigned long long)r->changed);
	ts_buf_addf(b, "Number of records with all compared columns equal: %llu\n",
		    (unsigned long long)r->matched);
	ts_buf_addf(b, "Accuracy (matched / source): %s\n\n",
		    r->source ? ts_fmt_double((double)r->matched / (double)r->source, t, sizeof(t)) : "-");
	ts_buf_addstr(b, "Column Comparison\n-----------------\n\n");
	ts_buf_addf(b, "Number of columns compared with some values unequal: %llu\n",
		    (unsigned long long)cols_unequal);
	ts_buf_addf(b, "Total number of values which compare unequal: %llu\n",
		    (unsigned long long)unequal_vals);
	if (r->nstat) {
		size_t w = 6;
		qsort(r->stat, r->nstat, sizeof(*r->stat), strp_cmp);
		for (size_t i = 0; i < r->nstat; i++)
			if (strlen(r->stat[i].name) > w)
				w = strlen(r->stat[i].name);
		if (w > 40)
			w = 40;
		ts_buf_addstr(b, "\nColumns with Unequal Values or Types\n------------------------------------\n\n");
		ts_buf_addf(b, "%-*s %10s %12s %12s %13s\n", (int)w, "Column", "# Unequal", "Max Diff",
			    "# Null Diff", "# Type Change");
		for (size_t i = 0; i < r->nstat; i++) {
			const struct field_stat *f = &r->stat[i];
			ts_buf_addf(b, "%-*s %10llu %12s %12llu %13llu\n", (int)w, f->name,
				    (unsigned long long)f->mismatches,
				    f->max_diff >= 0 ? (snprintf(t, sizeof(t), "%.6g", f->max_diff), t) : "-",
				    (unsigned long long)f->null_diffs, (unsigned long long)f->type_changes);
		}
	}
	if (x->nsamples) {
		ts_buf_addstr(b, "\nSample Records with Unequal Values\n----------------------------------\n\n");
		for (size_t i = 0; i < x->nsamples; i++) {
			const struct sample *s = &x->samples[i];
			ts_buf_addf(b, "%s  %s: %s -> %s\n", s->key, s->field, s->a ? s->a : "(missing)",
				    s->b ? s->b : "(missing)");
		}
	}
	free_strs(sa, sa ? ns : 0);
	free_strs(ta, ta ? nt : 0);
	free_strs(both, both ? nboth : 0);
	free_strs(so, so ? n1 : 0);
	free_strs(to, to ? n2 : 0);
}

/* ---- merging reports ---------------------------------------------------------------------------- */

static uint64_t jint(json_t *o, const char *k, int *bad)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		*bad = 1;
		return 0;
	}
	return (uint64_t)json_integer_value(v);
}

static int merge_one(struct df *x, json_t *o, const char *path, uint64_t line, unsigned char *seen,
		     uint64_t *nshards, int *first)
{
	struct report *r = &x->rep;
	int bad = 0;
	json_t *v;
	char *kd = json_dumps(json_object_get(o, "key"), JSON_COMPACT | JSON_ENCODE_ANY);
	json_t *ov = json_object_get(o, "options");
	char *od = json_is_object(ov) ? json_dumps(ov, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	if (!kd || !od) {
		free(kd);
		free(od);
		return ts_error("%s:%llu: not a ts-diff report line", path, (unsigned long long)line);
	}
	if (*first) {
		free(r->keydesc);
		free(r->optdesc);
		r->keydesc = kd;
		r->optdesc = od;
		*first = 0;
	} else if (strcmp(kd, r->keydesc) || strcmp(od, r->optdesc)) {
		int key = strcmp(kd, r->keydesc) != 0;
		free(kd);
		free(od);
		return ts_error("%s:%llu: a report of another %s than the first", path,
				(unsigned long long)line, key ? "key" : "comparison (other options)");
	} else {
		free(kd);
		free(od);
	}
	r->source += jint(o, "source", &bad);
	r->target += jint(o, "target", &bad);
	r->matched += jint(o, "matched", &bad);
	r->missing += jint(o, "missing", &bad);
	r->extra += jint(o, "extra", &bad);
	r->changed += jint(o, "changed", &bad);
	v = json_object_get(o, "duplicateKeys");
	r->dup_source += jint(v, "source", &bad);
	r->dup_target += jint(v, "target", &bad);
	v = json_object_get(o, "fields");
	if (!json_is_object(v))
		bad = 1;
	const char *name;
	json_t *fv;
	json_object_foreach(v, name, fv) {
		struct field_stat *f = field(r, name, strlen(name));
		json_t *md = json_object_get(fv, "maxDiff");
		if (!f)
			return oom(x);
		f->mismatches += jint(fv, "mismatches", &bad);
		f->null_diffs += jint(fv, "nullDiffs", &bad);
		f->type_changes += jint(fv, "typeChanges", &bad);
		if (json_is_number(md) && json_number_value(md) > f->max_diff)
			f->max_diff = json_number_value(md);
		else if (md && !json_is_null(md) && !json_is_number(md))
			bad = 1;
	}
	v = json_object_get(o, "columns");
	for (int side = 0; side < 2; side++) {
		json_t *a = json_object_get(v, side ? "target" : "source"), *e;
		size_t i;
		if (!json_is_array(a)) {
			bad = 1;
			break;
		}
		json_array_foreach(a, i, e)
			if (json_is_string(e))
				column(r, json_string_value(e), json_string_length(e), side ? 2 : 1);
	}
	if (json_is_true(json_object_get(o, "columnsTruncated")))
		r->columns_overflow = 1;
	v = json_object_get(o, "shard");
	if (v) {
		unsigned long long i, n;
		int off = 0;
		const char *s = json_string_value(v);
		if (!s || sscanf(s, "%llu/%llu%n", &i, &n, &off) != 2 || s[off] || i >= n ||
		    n > 1000000)
			bad = 1;
		else if (*nshards && *nshards != n)
			return ts_error("%s:%llu: shard %s of another count than the first (%llu)", path,
					(unsigned long long)line, s, (unsigned long long)*nshards);
		else {
			*nshards = n;
			if (seen[i])
				return ts_error("%s:%llu: shard %s twice", path, (unsigned long long)line, s);
			seen[i] = 1;
		}
	}
	if (bad)
		return ts_error("%s:%llu: not a ts-diff report line", path, (unsigned long long)line);
	return 0;
}

static int merge_reports(struct df *x, char **files)
{
	unsigned char *seen = calloc(1000000, 1);
	uint64_t nshards = 0, reports = 0;
	int first = 1, rc = 0;

	if (!seen)
		return oom(x);
	for (; *files && !rc; files++) {
		FILE *f = strcmp(*files, "-") ? fopen(*files, "r") : stdin;
		char *ln = NULL;
		size_t cap = 0;
		uint64_t line = 0;
		if (!f) {
			rc = ts_error("cannot open '%s': %s", *files, strerror(errno));
			break;
		}
		while (!rc && getline(&ln, &cap, f) >= 0) {
			json_error_t je;
			line++;
			json_t *o = json_loads(ln, 0, &je);
			json_t *t = json_object_get(o, "type");
			if (json_is_string(t) && !strcmp(json_string_value(t), "report")) {
				rc = merge_one(x, o, *files, line, seen, &nshards, &first);
				reports++;
			}
			json_decref(o);
		}
		if (ferror(f))
			rc = ts_error("cannot read '%s': %s", *files, strerror(errno));
		free(ln);
		if (f != stdin)
			fclose(f);
	}
	if (!rc && !reports)
		rc = ts_error("no report line in the operands");
	for (uint64_t i = 0; !rc && nshards && i < nshards; i++)
		if (!seen[i])
			rc = ts_error("the report of shard %llu/%llu is missing", (unsigned long long)i,
				      (unsigned long long)nshards);
	free(seen);
	if (rc)
		ts_run_fail(&x->run, 2);
	return rc;
}

/* ---- main ------------------------------------------------------------------------------------------- */

static void finish_report(struct df *x)
{
	struct ts_buf *b = &x->run.out.buf;

	if (x->extra_keys && x->nkeys) {
		struct ts_distinct_stats st;
		if (ts_distinct_stats(x->extra_keys, &st) == 0)
			x->rep.dup_target += st.n_rows - st.n_distinct;
	}
	if (x->report_path) {
		struct ts_buf rb;
		ts_buf_init(&rb, 0);
		report_line(&x->rep, &rb);
		ts_buf_addch(&rb, '\n');
		if ((!x->report_af.tmp && ts_afile_open(&x->report_af, x->report_path) < 0) ||
		    ts_write_all(x->report_af.fd, rb.data, rb.len) < 0) {
			ts_error("cannot write '%s': %s", x->report_path, strerror(errno));
			ts_run_fail(&x->run, 2);
		}
		ts_buf_release(&rb);
	}
	if (x->fmt == FMT_TEXT) {
		text_report(x, b);
		ts_out_write(&x->run.out, "", 0);
	} else if (!x->report_path) {
		report_line(&x->rep, b);
		ts_out_end_record(&x->run.out);
	}
}

static void put_paths(struct ts_buf *b, const char *name, const struct ts_jpath *p, size_t n, int *first)
{
	if (!n)
		return;
	ts_buf_addf(b, "%s\"%s\":[", *first ? "" : ",", name);
	for (size_t i = 0; i < n; i++) {
		if (i)
			ts_buf_addch(b, ',');
		put_str(b, p[i].text, strlen(p[i].text));
	}
	ts_buf_addch(b, ']');
	*first = 0;
}

/* The options that change what is equal, as a JSON object (only those
 * given, in a fixed order): reports merge only when these agree. */
static char *opt_desc(const struct df *x)
{
	const struct ts_diff_opts *o = &x->o;
	struct ts_buf b;
	int first = 1;

	ts_buf_init(&b, 0);
	ts_buf_addch(&b, '{');
	put_paths(&b, "ignore", o->ignore, o->nignore, &first);
	put_paths(&b, "only", o->only, o->nonly, &first);
	if (o->abs_text)
		ts_buf_addf(&b, "%s\"absTol\":\"%s\"", first ? "" : ",", o->abs_text), first = 0;
	if (o->rel_text)
		ts_buf_addf(&b, "%s\"relTol\":\"%s\"", first ? "" : ",", o->rel_text), first = 0;
	if (o->ntol) {
		ts_buf_addf(&b, "%s\"fieldTol\":[", first ? "" : ",");
		for (size_t i = 0; i < o->ntol; i++) {
			const struct ts_diff_tol *t = &o->tol[i];
			ts_buf_addf(&b, "%s[", i ? "," : "");
			put_str(&b, t->path.text, strlen(t->path.text));
			ts_buf_addf(&b, ",\"%s\",\"%s\"]", t->has_abs ? "abs" : "rel",
				    t->has_abs ? t->abs_text : t->rel_text);
		}
		ts_buf_addch(&b, ']');
		first = 0;
	}
	static const char *const flag[] = {"ignoreCase", "trim", "arrayOrderIgnore", "nullEqualsMissing",
					   "coerceNumbers"};
	int on[] = {o->fold, o->trim, o->unordered, o->null_missing, o->coerce};
	for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++)
		if (on[i])
			ts_buf_addf(&b, "%s\"%s\":true", first ? "" : ",", flag[i]), first = 0;
	ts_buf_addch(&b, '}');
	return ts_buf_detach(&b, NULL);
}

/* --report and --miss-records into place when the run went through,
 * else away: a run in trouble leaves no half file behind. */
static void finish_files(struct df *x)
{
	struct ts_afile *f[] = {&x->report_af, &x->miss_af};

	for (int i = 0; i < 2; i++) {
		if (!f[i]->tmp)
			continue;
		if (x->run.status >= 2) {
			ts_afile_abort(f[i]);
		} else if (ts_afile_commit(f[i]) < 0) {
			ts_error("cannot write '%s': %s", i ? x->miss_path : x->report_path, strerror(errno));
			ts_run_fail(&x->run, 2);
		}
	}
}

static char *key_desc(const struct df *x)
{
	struct ts_buf b;

	if (!x->nkeys)
		return strdup("null");
	ts_buf_init(&b, 0);
	ts_buf_addch(&b, '[');
	for (size_t i = 0; i < x->nkeys; i++) {
		if (i)
			ts_buf_addch(&b, ',');
		put_str(&b, x->keys[i].text, strlen(x->keys[i].text));
	}
	ts_buf_addch(&b, ']');
	return ts_buf_detach(&b, NULL);
}

int main(int argc, char **argv)
{
	static struct df x;
	int first, status;

	setlocale(LC_CTYPE, "C.UTF-8"); /* --ignore-case folds with towlower() */
	ts_run_init(&x.run, cmd.name);
	x.mem = DEFAULT_MEMORY;
	x.threads = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 2 : 1;
	x.shard_n = 1;
	first = ts_opt_parse(&cmd, &x.run, argc, argv, set_opt, &x);
	if (first == TS_OPT_EXIT)
		return ts_run_finish(&x.run) ? 2 : 0;
	if (first == TS_OPT_USAGE)
		return 2;
	x.o.ignore = x.ignore;
	x.o.only = x.only;
	x.o.tol = x.tol;
	if (x.fmt == FMT_AUTO)
		x.fmt = isatty(STDOUT_FILENO) ? FMT_TEXT : FMT_NDJSON;
	ts_htab_init(&x.rep.fields);
	ts_htab_init(&x.rep.columns);
	ts_htab_init(&x.shapes[0]);
	ts_htab_init(&x.shapes[1]);
	ts_buf_init(&x.key, 0);
	ts_buf_init(&x.tmp, 0);
	ts_buf_init(&x.line, 0);
	ts_buf_init(&x.name, 0);
	ts_diff_init(&x.diff, &x.o);
	ts_diff_init(&x.rdiff, &x.o);
	x.out = &x.run.out;
	x.missout = &x.miss;
	ts_buf_init(&x.wtmp, 0);
	x.rep.keydesc = key_desc(&x);
	x.rep.optdesc = opt_desc(&x);

	if (x.merge_reports) {
		if (argc - first < 1)
			return ts_usage_error(&cmd, "--merge-reports needs report files"), 2;
		merge_reports(&x, argv + first);
		if (x.run.status < 2) {
			finish_report(&x);
			if (x.rep.missing || x.rep.extra || x.rep.changed)
				ts_run_fail(&x.run, 1);
		}
		finish_files(&x);
		return ts_run_finish(&x.run);
	}
	if (argc - first != 2)
		return ts_usage_error(&cmd, "two datasets are compared: SOURCE and TARGET (%d given)",
				      argc - first), 2;
	if (!strcmp(argv[first], "-") && !strcmp(argv[first + 1], "-"))
		return ts_usage_error(&cmd, "standard input can be only one of SOURCE and TARGET"), 2;
	if (x.have_tol && !x.nkeys)
		return ts_usage_error(&cmd, "tolerances need --key (unkeyed records compare whole)"), 2;
	if (x.shard_n > 1) {
		char s[64];
		snprintf(s, sizeof(s), "%llu/%llu", (unsigned long long)x.shard_i,
			 (unsigned long long)x.shard_n);
		x.rep.shard = strdup(s);
	}
	/* the output files first: a path that cannot be written is said
	 * before anything is read */
	if (x.report_path && ts_afile_open(&x.report_af, x.report_path) < 0) {
		ts_error("cannot write '%s': %s", x.report_path, strerror(errno));
		return 2;
	}
	if (x.miss_path) {
		if (ts_afile_open(&x.miss_af, x.miss_path) < 0) {
			ts_error("cannot write '%s': %s", x.miss_path, strerror(errno));
			ts_afile_abort(&x.report_af);
			return 2;
		}
		ts_out_init(&x.miss, x.miss_af.fd);
	}
	x.c_source = ts_run_counter(&x.run, "source");
	x.c_target = ts_run_counter(&x.run, "target");
	if (x.shard_n > 1)
		x.c_other = ts_run_counter(&x.run, "other_shards");
	else {
		static uint64_t unused;
		x.c_other = &unused;
	}
	if (x.nkeys && !(x.extra_keys = ts_distinct_new(&(struct ts_distinct_opts){x.mem / 4, NULL}))) {
		ts_error("out of memory");
		return 2;
	}

	/* both datasets must be there before anything is compared: half a
	 * comparison (everything "missing") says nothing true */
	struct stat st;
	for (int side = 0; side < 2; side++) {
		const char *path = argv[first + side];
		/* (an s3:// dataset is checked by the input loop when read) */
		int fd = strcmp(path, "-") && strncmp(path, "s3://", 5) ? open(path, O_RDONLY | O_CLOEXEC) : -2;
		if (fd == -1 || (fd >= 0 && (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)))) {
			ts_error("cannot read %s '%s': %s", side ? "target" : "source", path,
				 fd == -1 ? strerror(errno) : "Is a directory");
			if (fd >= 0)
				close(fd);
			ts_afile_abort(&x.report_af);
			ts_afile_abort(&x.miss_af);
			return 2;
		}
		if (fd >= 0) {
			if (!side && S_ISREG(st.st_mode))
				x.src_size = (uint64_t)st.st_size;
			close(fd);
		}
	}
	ts_input_init(&x.in, &x.run);
	x.in.rd.scan = ts_json_scan_keys_hook;
	x.in.rd.scan_ctx = &x.idx;
	static struct pipe pp;
	static struct batch batches[QUEUE + 2];
	pthread_t tid;
	if (x.threads > 1) {
		pthread_mutex_init(&pp.mu, NULL);
		pthread_cond_init(&pp.cv, NULL);
		for (size_t i = 0; i < QUEUE + 2; i++) {
			ts_buf_init(&batches[i].data, 0);
			pp.free[pp.nfree++] = &batches[i];
		}
		x.pipe = &pp;
		if (pthread_create(&tid, NULL, compare_thread, &x) != 0)
			x.pipe = NULL;
	}
	for (int side = 0; side < 2 && !x.failed; side++) {
		char *one[2] = {argv[first + side], NULL};
		x.side = side;
		ts_input_run(&x.in, one, on_record, &x);
		if (x.pipe)
			queue_flush(&x, side == 1 || x.failed);
	}
	if (x.pipe) {
		pthread_join(tid, NULL);
		for (size_t i = 0; i < QUEUE + 2; i++)
			ts_buf_release(&batches[i].data);
	}
	ts_input_release(&x.in);
	if (!x.failed) {
		/* the part in memory (all of it, or the resident parts), then
		 * the parts on disk */
		finish_part(&x);
		if (x.ss)
			run_parts(&x);
	}
	if (x.failed)
		ts_run_fail(&x.run, 2);
	if (!x.failed && x.run.status < 2) {
		finish_report(&x);
		if (x.rep.missing || x.rep.extra || x.rep.changed)
			ts_run_fail(&x.run, 1);
	}
	if (x.miss_path && ts_out_release(&x.miss) < 0) {
		ts_error("cannot write '%s': %s", x.miss_path, strerror(x.miss.err));
		ts_run_fail(&x.run, 2);
	}
	finish_files(&x);
	part_reset(&x, 0);
	ts_spill_free(x.ss);
	ts_spill_free(x.ts);
	ts_distinct_free(x.extra_keys);
	ts_diff_release(&x.diff);
	ts_diff_release(&x.rdiff);
	status = ts_run_finish(&x.run);
	return status;
}
