/*
 * ts-validate — check records against Glue DQDL data-quality rules.
 * See man/ts-validate.1.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <pthread.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "distinct.h"
#include "dq.h"
#include "hash.h"
#include "dqdl.h"
#include "input.h"
#include "opt.h"
#include "reader.h"
#include "tstime.h"
#include "util.h"

#define MAX_RULES_FILE ((size_t)16 << 20)
#define MAX_REFS 64
#define MAX_THREADS 64
#define PARALLEL_MIN ((off_t)8 << 20) /* smaller files: one thread */

enum {
	OPT_RULES = 'r',
	OPT_FORMAT = 0x100,
	OPT_ANNOTATE,
	OPT_PASS,
	OPT_FAIL,
	OPT_REPORT,
	OPT_REF,
	OPT_HISTORY,
	OPT_SAVE_HISTORY,
	OPT_STATE_OUT,
	OPT_MERGE,
	OPT_PRINT_RULES,
	OPT_NOW,
	OPT_MEMORY,
	OPT_THREADS,
};

static const struct ts_option options[] = {
	{"rules", OPT_RULES, "FILE", "the DQDL ruleset (required)"},
	{"format", OPT_FORMAT, "FMT", "results as ndjson (default), datazone or text (default on a terminal)"},
	{"annotate", OPT_ANNOTATE, NULL, "pass every record through with its row-level outcome added"},
	{"pass", OPT_PASS, NULL, "pass through only the records that satisfy every row-level rule"},
	{"fail", OPT_FAIL, NULL, "pass through only the records that break a row-level rule"},
	{"report", OPT_REPORT, "FILE", "with --annotate/--pass/--fail: write the results to FILE (default: standard error)"},
	{"ref", OPT_REF, "ALIAS=FILE", "a reference dataset for RowCountMatch, ReferentialIntegrity, ... (repeatable)"},
	{"history", OPT_HISTORY, "FILE", "earlier runs' metrics for dynamic rules and DetectAnomalies (NDJSON)"},
	{"save-history", OPT_SAVE_HISTORY, NULL, "append this run's metrics to the --history file"},
	{"state-out", OPT_STATE_OUT, "FILE", "save this run's metric states to FILE, for --merge"},
	{"merge", OPT_MERGE, NULL, "the operands are state files: evaluate the rules over all of them"},
	{"print-rules", OPT_PRINT_RULES, NULL, "print the parsed ruleset in canonical form and exit"},
	{"now", OPT_NOW, "TIME", "the time now() means (RFC 3339 or epoch seconds; default: the clock)"},
	{"memory", OPT_MEMORY, "SIZE", "memory for exact value sets before they spill to disk (default 128M)"},
	{"threads", OPT_THREADS, "N", "read a large uncompressed NDJSON file with N threads (default: the cores)"},
	{0},
};

static const struct ts_cmd cmd = {
	.name = "ts-validate",
	.synopsis = "-r RULES [OPTION]... [FILE]...",
	.summary = "Check records against data-quality rules written in AWS Glue DQDL: one result\n"
		   "per rule, exit 0 when all pass, 1 when one fails.",
	.opts = options,
	.exit_status = "Exit status: 0 every rule passed, 1 a rule failed or a record was rejected,\n"
		       "2 trouble (a rule could not be evaluated, the ruleset does not parse, usage,\n"
		       "unreadable input, unwritable output).\n",
	.footer = "Examples:\n"
		  "  ts-validate -r rules.dqdl orders.ndjson.gz\n"
		  "  ts-validate -r rules.dqdl --fail --report results.ndjson < in.ndjson > quarantine.ndjson\n"
		  "  ts-validate -r rules.dqdl --print-rules\n",
};

enum fmt { FMT_AUTO, FMT_NDJSON, FMT_DATAZONE, FMT_TEXT };
enum rowmode { ROW_NONE, ROW_ANNOTATE, ROW_PASS, ROW_FAIL };

struct va {
	struct ts_run run;
	const char *rules_path;
	enum fmt fmt;
	enum rowmode rows;
	const char *report;
	struct ts_dq_ref refs[MAX_REFS];
	size_t nrefs;
	const char *history;
	int save_history;
	const char *state_out;
	int merge;
	int print_rules;
	double now;
	int have_now;
	uint64_t mem;
	int threads;
	struct ts_dq_opts dqo;
	const struct ts_dq_ruleset *rs;
	struct ts_input in;
	struct ts_json_keys keys; /* the record's members, noted as it is scanned */
	struct ts_dq *dq;
	struct ts_dq_row row;
	uint64_t *nrows, *dropped, *ref_rows;
	int failed_add, merge_failed;
	struct ts_buf tmp;
};

static int set_opt(void *ud, int id, const char *arg)
{
	struct va *v = ud;

	switch (id) {
	case OPT_RULES: v->rules_path = arg; return 0;
	case OPT_FORMAT:
		if (!strcmp(arg, "ndjson") || !strcmp(arg, "json"))
			v->fmt = FMT_NDJSON;
		else if (!strcmp(arg, "datazone"))
			v->fmt = FMT_DATAZONE;
		else if (!strcmp(arg, "text"))
			v->fmt = FMT_TEXT;
		else
			return ts_usage_error(&cmd, "--format: '%s' is not ndjson, datazone or text", arg), -1;
		return 0;
	case OPT_ANNOTATE:
	case OPT_PASS:
	case OPT_FAIL: {
		enum rowmode m = id == OPT_ANNOTATE ? ROW_ANNOTATE : id == OPT_PASS ? ROW_PASS : ROW_FAIL;
		if (v->rows != ROW_NONE && v->rows != m)
			return ts_usage_error(&cmd, "--annotate, --pass and --fail exclude each other"), -1;
		v->rows = m;
		return 0;
	}
	case OPT_REPORT: v->report = arg; return 0;
	case OPT_REF: {
		const char *eq = strchr(arg, '=');
		if (!eq || eq == arg || !eq[1])
			return ts_usage_error(&cmd, "--ref: '%s' is not ALIAS=FILE", arg), -1;
		if (v->nrefs == MAX_REFS)
			return ts_usage_error(&cmd, "--ref: more than %d reference datasets", MAX_REFS), -1;
		char *alias = strndup(arg, (size_t)(eq - arg));
		if (!alias)
			return ts_usage_error(&cmd, "out of memory"), -1;
		v->refs[v->nrefs].alias = alias;
		v->refs[v->nrefs].path = eq + 1;
		v->nrefs++;
		return 0;
	}
	case OPT_HISTORY: v->history = arg; return 0;
	case OPT_SAVE_HISTORY: v->save_history = 1; return 0;
	case OPT_STATE_OUT: v->state_out = arg; return 0;
	case OPT_MERGE: v->merge = 1; return 0;
	case OPT_PRINT_RULES: v->print_rules = 1; return 0;
	case OPT_NOW: {
		int64_t ms;
		char *end;
		double d = strtod(arg, &end);
		if (end != arg && *end == '\0' && isfinite(d)) {
			v->now = d;
		} else if (ts_time_parse_iso(arg, strlen(arg), &ms) == 0) {
			v->now = (double)ms / 1000.0;
		} else {
			return ts_usage_error(&cmd, "--now: '%s' is not a time (RFC 3339 or epoch seconds)", arg), -1;
		}
		v->have_now = 1;
		return 0;
	}
	case OPT_THREADS: {
		uint64_t n;
		if (ts_parse_u64(arg, &n) < 0 || n < 1 || n > MAX_THREADS)
			return ts_usage_error(&cmd, "--threads: '%s' is not a number from 1 to %d", arg,
					      MAX_THREADS), -1;
		v->threads = (int)n;
		return 0;
	}
	case OPT_MEMORY:
		if (ts_parse_size(arg, &v->mem) < 0 || v->mem < ((uint64_t)1 << 20))
			return ts_usage_error(&cmd, "--memory: '%s' is not a size of 1M or more", arg), -1;
		return 0;
	}
	return -1;
}

/* The whole rules file, NUL-terminated.  NULL after reporting. */
static char *read_rules(const char *path, size_t *n)
{
	char *r = ts_read_small(path, MAX_RULES_FILE, n);

	if (!r && errno == EFBIG)
		ts_error("rules '%s': over %zu bytes", path, MAX_RULES_FILE);
	else if (!r)
		ts_error("cannot read rules '%s': %s", path, strerror(errno));
	return r;
}

/* --- row level ---------------------------------------------------------- */

static void add_names(struct ts_buf *b, const char *sep, const char *key, const char **names,
		      size_t n)
{
	ts_buf_addf(b, "%s\"%s\":[", sep, key);
	for (size_t i = 0; i < n; i++) {
		if (i)
			ts_buf_addch(b, ',');
		ts_json_escape(b, names[i], strlen(names[i]));
	}
	ts_buf_addch(b, ']');
}

static const char *const row_keys[] = {"DataQualityRulesPass", "DataQualityRulesFail",
				       "DataQualityRulesSkip", "DataQualityEvaluationResult"};

static int is_row_key(struct ts_span k)
{
	for (size_t i = 0; i < 4; i++)
		if (ts_json_key_eq(k, row_keys[i], strlen(row_keys[i])))
			return 1;
	return 0;
}

static int has_row_keys(struct ts_span rec)
{
	struct ts_json_iter j;
	struct ts_span k, v;

	if (!memmem(rec.p, rec.n, "DataQuality", 11))
		return 0;
	ts_json_iter_init(&j, rec);
	while (ts_json_obj_next(&j, &k, &v))
		if (is_row_key(k))
			return 1;
	return 0;
}

/* The record with the four row-level fields added before its closing
 * brace. */
static void annotate(struct va *v, const struct ts_item *it)
{
	struct ts_buf *b = &v->run.out.buf;
	size_t at = b->len;
	const struct ts_dq_row *r = &v->row;

	if (has_row_keys(it->v)) {
		/* the fields are replaced, not written twice */
		struct ts_json_iter j;
		struct ts_span k, val;
		int n = 0;
		ts_buf_addch(b, '{');
		ts_json_iter_init(&j, it->v);
		while (ts_json_obj_next(&j, &k, &val)) {
			if (is_row_key(k))
				continue;
			if (n++)
				ts_buf_addch(b, ',');
			ts_buf_add(b, k.p, k.n);
			ts_buf_addch(b, ':');
			ts_json_minify(b, val);
		}
		ts_buf_addch(b, '}');
	} else if (it->has_ws) {
		ts_json_minify(b, it->v);
	} else {
		ts_buf_add(b, it->v.p, it->v.n);
	}
	/* drop the closing brace; an empty object takes no comma */
	ts_buf_setlen(b, b->len - 1);
	add_names(b, b->len == at + 1 ? "" : ",", "DataQualityRulesPass", r->pass, r->npass);
	add_names(b, ",", "DataQualityRulesFail", r->fail, r->nfail);
	add_names(b, ",", "DataQualityRulesSkip", r->skip, r->nskip);
	ts_buf_addf(b, ",\"DataQualityEvaluationResult\":\"%s\"}", r->nfail ? "Failed" : "Passed");
	ts_out_end_record(&v->run.out);
}

static void reject(struct va *v, const struct ts_item *it, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void reject(struct va *v, const struct ts_item *it, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ts_input_vreject(&v->in, it, code, (struct ts_span){0}, fmt, ap);
	va_end(ap);
}

static int on_value(void *ud, struct ts_input *in, const struct ts_item *it)
{
	struct va *v = ud;

	(void)in;
	if (it->v.p[0] != '{') {
		reject(v, it, "not_an_object", "record is not an object: not a row");
		return 0;
	}
	(*v->nrows)++;
	if (ts_dq_add(v->dq, it->v, &v->keys, v->rows != ROW_NONE ? &v->row : NULL) < 0) {
		ts_error("cannot keep the metric state: out of memory or temporary space");
		ts_run_fail(&v->run, 2);
		v->failed_add = 1;
		return -1;
	}
	switch (v->rows) {
	case ROW_NONE:
		break;
	case ROW_ANNOTATE:
		annotate(v, it);
		break;
	case ROW_PASS:
	case ROW_FAIL:
		if ((v->row.nfail == 0) == (v->rows == ROW_PASS)) {
			struct ts_buf *b = &v->run.out.buf;
			if (it->has_ws)
				ts_json_minify(b, it->v);
			else
				ts_buf_add(b, it->v.p, it->v.n);
			ts_out_end_record(&v->run.out);
		} else {
			(*v->dropped)++;
		}
		break;
	}
	ts_run_tick(&v->run);
	return 0;
}

struct refctx {
	struct va *v;
	size_t i;
};

static int on_ref(void *ud, struct ts_input *in, const struct ts_item *it)
{
	struct refctx *rc = ud;
	struct va *v = rc->v;

	(void)in;
	if (it->v.p[0] != '{') {
		reject(v, it, "not_an_object", "reference record is not an object: not a row");
		return 0;
	}
	(*v->ref_rows)++;
	if (ts_dq_ref_add(v->dq, rc->i, it->v) < 0) {
		ts_error("%s: out of memory", v->refs[rc->i].path);
		ts_run_fail(&v->run, 2);
		return -1;
	}
	return 0;
}

/* --- threads ---------------------------------------------------------------
 *
 * A large regular file of NDJSON is cut at line boundaries into one part per
 * thread; each thread feeds its own run of the ruleset, and the runs are
 * added into the main one (ts_dq_absorb, exact: the results are the bytes
 * one thread would give).  Only clean input takes this path: a part that
 * holds anything but one object per line (bad JSON, a pretty-printed value,
 * a BOM, an oversized record, compressed bytes) gives the whole file back to
 * the input loop, which reads it again on one thread and reports what is
 * wrong with file, line and bytes.
 */

struct part {
	struct va *v;
	struct ts_dq *dq;
	int fd;
	off_t off, end;         /* whole lines of the file */
	uint64_t rows;
	int bad;
	struct ts_json_keys keys;
};

#define PART_BLOCK ((size_t)4 << 20)

/* One line (no newline): 0, or -1 when it is not a clean object. */
static int part_line(struct part *c, const char *a, const char *b, size_t max)
{
	struct ts_json_scan r;

	while (a < b && ts_json_is_ws(*a))
		a++;
	while (b > a && ts_json_is_ws(b[-1]))
		b--;
	if (a == b)
		return 0;
	if (*a != '{' || (size_t)(b - a) > max ||
	    ts_json_scan_keys(a, b, 1, c->v->run.max_depth, &c->keys, &r) != TS_JSON_OK ||
	    r.end != b || ts_dq_add(c->dq, (struct ts_span){a, (size_t)(b - a)}, &c->keys, NULL) < 0)
		return -1;
	c->rows++;
	return 0;
}

/* A thread: its part read in blocks (memory stays flat however large the
 * file), line by line. */
static void *read_part(void *arg)
{
	struct part *c = arg;
	size_t max = c->v->run.max_record ? c->v->run.max_record : TS_READER_DEFAULT_MAX_RECORD;
	struct ts_buf buf;
	off_t at = c->off;

	ts_buf_init(&buf, max + PART_BLOCK + 1);
	while (!c->bad) {
		size_t want = c->end - at < (off_t)PART_BLOCK ? (size_t)(c->end - at) : PART_BLOCK;
		if (ts_buf_grow(&buf, want) < 0) {
			c->bad = 1; /* a line over the limit: the input loop says so */
			break;
		}
		ssize_t k = want ? pread(c->fd, buf.data + buf.len, want, at) : 0;
		if (k < 0 || (k == 0 && want)) {
			c->bad = 1;
			break;
		}
		buf.len += (size_t)k;
		at += k;
		const char *p = buf.data, *e = buf.data + buf.len, *nl;
		while ((nl = memchr(p, '\n', (size_t)(e - p)))) {
			if (part_line(c, p, nl, max) < 0) {
				c->bad = 1;
				break;
			}
			p = nl + 1;
		}
		if (at == c->end) {
			if (!c->bad && p < e && part_line(c, p, e, max) < 0)
				c->bad = 1;
			break;
		}
		memmove(buf.data, p, (size_t)(e - p));
		ts_buf_setlen(&buf, (size_t)(e - p));
	}
	ts_buf_release(&buf);
	return NULL;
}

/* The offset just past the first newline at or after off (or size). */
static off_t line_end(int fd, off_t off, off_t size)
{
	char b[65536];

	while (off < size) {
		ssize_t k = pread(fd, b, sizeof(b), off);
		if (k <= 0)
			return size;
		const char *nl = memchr(b, '\n', (size_t)k);
		if (nl)
			return off + (nl - b) + 1;
		off += k;
	}
	return size;
}

/* 1: the file was read on threads and added to the run; 0: read it the
 * usual way. */
static int read_parallel(struct va *v, const char *path)
{
	struct part parts[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	struct stat st;
	char err[512];
	int n = v->threads, fd, ok = 1, started = 0;

	if (n < 2 || !strcmp(path, "-") || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < PARALLEL_MIN) {
		close(fd);
		return 0;
	}
	off_t at = 0;
	/* the threads share the run's budget (--memory): n threads' value
	 * sets take together what one thread's would */
	struct ts_dq_opts o = v->dqo;
	o.mem = (size_t)((o.mem ? o.mem : TS_DISTINCT_DEFAULT_BUDGET) / (uint64_t)n);
	if (o.mem < TS_DISTINCT_MIN_BUDGET)
		o.mem = TS_DISTINCT_MIN_BUDGET;
	memset(parts, 0, sizeof(parts));
	for (int i = 0; i < n && ok; i++) {
		off_t end = i == n - 1 ? st.st_size : line_end(fd, st.st_size / n * (i + 1), st.st_size);
		if (end < at)
			end = at;
		parts[i].v = v;
		parts[i].fd = fd;
		parts[i].off = at;
		parts[i].end = end;
		at = end;
		if (!(parts[i].dq = ts_dq_new(v->rs, &o, err, sizeof(err))))
			ok = 0;
	}
	for (int i = 1; i < n && ok; i++, started++)
		if (pthread_create(&tid[i], NULL, read_part, &parts[i]) != 0)
			ok = 0;
	if (ok)
		read_part(&parts[0]);
	for (int i = 1; i <= started; i++)
		pthread_join(tid[i], NULL);
	close(fd);
	uint64_t rows = 0;
	for (int i = 0; i < n && ok; i++) {
		ok &= !parts[i].bad;
		rows += parts[i].rows;
	}
	for (int i = 0; i < n && ok; i++)
		if (ts_dq_absorb(v->dq, parts[i].dq, err, sizeof(err)) < 0) {
			/* half added: the run cannot be trusted any more */
			ts_error("%s: %s", path, err);
			ts_run_fail(&v->run, 2);
			v->failed_add = 1;
			break;
		}
	for (int i = 0; i < n; i++)
		ts_dq_free(parts[i].dq);
	if (!ok)
		return 0;
	v->run.records_in += rows;
	v->run.bytes_in += (uint64_t)st.st_size;
	*v->nrows += rows;
	return 1;
}

/* Every input: large clean files on threads, the rest through the input
 * loop. */
static void read_inputs(struct va *v, char **files)
{
	char *one[2] = {NULL, NULL};
	char *dash[] = {(char *)"-", NULL};

	if (!files[0])
		files = dash;
	for (int i = 0; files[i] && !v->failed_add; i++) {
		if (read_parallel(v, files[i]))
			continue;
		one[0] = files[i];
		ts_input_init(&v->in, &v->run);
		v->in.rd.scan = ts_json_scan_keys_hook;
		v->in.rd.scan_ctx = &v->keys;
		int stop = ts_input_run(&v->in, one, on_value, v);
		ts_input_release(&v->in);
		if (stop < 0)
			break;
	}
}

/* --- results -------------------------------------------------------------- */

static const char *outcome_name(enum ts_dq_outcome o)
{
	switch (o) {
	case TS_DQ_PASS: return "PASS";
	case TS_DQ_FAIL: return "FAIL";
	case TS_DQ_ERROR: return "ERROR";
	case TS_DQ_ANALYZED: return "ANALYZED";
	}
	return "ERROR";
}

/* A number as JSON: an integer without a fraction, else the shortest text
 * that reads back as the same double; NaN and infinities as null. */
static void add_num(struct ts_buf *b, double d)
{
	char t[64];

	if (isnan(d) || isinf(d)) {
		ts_buf_addstr(b, "null");
		return;
	}
	if (d == floor(d) && fabs(d) < 9007199254740992.0) {
		ts_buf_addf(b, "%.0f", d == 0 ? 0.0 : d);
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(t, sizeof(t), "%.*g", prec, d);
		if (strtod(t, NULL) == d)
			break;
	}
	ts_buf_addstr(b, t);
}

static void add_str(struct ts_buf *b, const char *s)
{
	if (!s) {
		ts_buf_addstr(b, "null");
		return;
	}
	if (ts_json_escape(b, s, strlen(s)) < 0) {
		/* not UTF-8 (a column name from the data): readable, replaced */
		struct ts_buf t;
		ts_buf_init(&t, 0);
		for (const char *p = s; *p; p++) {
			size_t ok = ts_utf8_valid_prefix(p, strlen(p));
			ts_buf_add(&t, p, ok);
			p += ok;
			if (!*p)
				break;
			ts_buf_addstr(&t, "\xef\xbf\xbd");
		}
		ts_json_escape(b, t.data, t.len);
		ts_buf_release(&t);
	}
}

static void add_key(struct ts_buf *b, const char *k, int first)
{
	if (!first)
		ts_buf_addch(b, ',');
	add_str(b, k);
	ts_buf_addch(b, ':');
}

static void add_metrics(struct ts_buf *b, const struct ts_dq_result *r)
{
	ts_buf_addch(b, '{');
	for (size_t i = 0; i < r->nmetrics; i++) {
		add_key(b, r->metrics[i].name, i == 0);
		add_num(b, r->metrics[i].value);
	}
	ts_buf_addch(b, '}');
}

static void add_labels(struct ts_buf *b, const struct ts_dq_result *r)
{
	ts_buf_addch(b, '{');
	for (size_t i = 0; i < r->nlabels; i++) {
		add_key(b, r->label_keys[i], i == 0);
		add_str(b, r->label_values[i]);
	}
	ts_buf_addch(b, '}');
}

static double score(const struct ts_dq_results *res)
{
	return res->total ? (double)res->passed / (double)res->total : 1.0;
}

static void write_ndjson(struct ts_out *o, const struct ts_dq_results *res)
{
	struct ts_buf *b = &o->buf;

	for (size_t i = 0; i < res->n; i++) {
		const struct ts_dq_result *r = &res->r[i];

		ts_buf_addstr(b, "{\"type\":");
		add_str(b, r->is_analyzer ? "analyzer" : "rule");
		add_key(b, "Name", 0);
		add_str(b, r->name);
		add_key(b, "Description", 0);
		add_str(b, r->description);
		if (!r->is_analyzer) {
			add_key(b, "Result", 0);
			add_str(b, outcome_name(r->outcome));
			add_key(b, "EvaluationMessage", 0);
			add_str(b, r->message);
		} else if (r->message) {
			add_key(b, "EvaluationMessage", 0);
			add_str(b, r->message);
		}
		add_key(b, "EvaluatedMetrics", 0);
		add_metrics(b, r);
		if (r->evaluated) {
			add_key(b, "EvaluatedRule", 0);
			add_str(b, r->evaluated);
		}
		add_key(b, "Labels", 0);
		add_labels(b, r);
		ts_buf_addch(b, '}');
		ts_out_end_record(o);
	}
	ts_buf_addstr(b, "{\"type\":\"summary\",\"Score\":");
	add_num(b, score(res));
	ts_buf_addf(b, ",\"passed\":%zu,\"failed\":%zu,\"errored\":%zu,\"total\":%zu,\"rows\":%llu}",
		    res->passed, res->failed, res->errored, res->total, (unsigned long long)res->rows);
	ts_out_end_record(o);
}

static void dump(struct ts_out *o, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));

	if (s) {
		ts_buf_addstr(&o->buf, s);
		ts_out_end_record(o);
		free(s);
	}
	json_decref(j);
}

static void write_datazone(struct ts_out *o, const struct ts_dq_results *res, double now)
{
	json_t *d = json_object(), *ev = json_array();
	char when[64];

	for (size_t i = 0; i < res->n; i++) {
		const struct ts_dq_result *r = &res->r[i];
		if (r->is_analyzer)
			continue;
		json_t *e = json_object(), *types = json_array(), *det = json_object();
		json_object_set_new(e, "description", json_string(r->description));
		json_t *fields = json_array();
		for (size_t k = 0; k < r->ntypes; k++)
			json_array_append_new(types, json_string(r->types[k]));
		for (size_t k = 0; k < r->nfields; k++)
			json_array_append_new(fields, json_string(r->fields[k]));
		json_object_set_new(e, "types", types);
		json_object_set_new(e, "applicableFields", fields);
		json_object_set_new(e, "status", json_string(r->outcome == TS_DQ_PASS ? "PASS"
							      : r->outcome == TS_DQ_FAIL ? "FAIL" : "ERROR"));
		for (size_t k = 0; k < r->nmetrics; k++) {
			char val[64];
			snprintf(val, sizeof(val), "%.17g", r->metrics[k].value);
			json_object_set_new(det, r->metrics[k].name, json_string(val));
		}
		if (r->message)
			json_object_set_new(det, "EvaluationMessage", json_string(r->message));
		json_object_set_new(e, "details", det);
		json_array_append_new(ev, e);
	}
	struct ts_civil c;
	ts_civil_from_ms((int64_t)floor(now * 1000.0), &c);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year, c.month,
		 c.day, c.hour, c.min, c.sec, c.msec);
	json_object_set_new(d, "evaluationsCount", json_integer((json_int_t)res->total));
	json_object_set_new(d, "evaluations", ev);
	json_object_set_new(d, "passingPercentage", json_real(score(res) * 100.0));
	json_object_set_new(d, "evaluatedAt", json_string(when));
	dump(o, d);
}

static void write_text(struct ts_out *o, const struct ts_dq_results *res)
{
	struct ts_buf *b = &o->buf;
	size_t w = 4;

	for (size_t i = 0; i < res->n; i++) {
		size_t l = strlen(res->r[i].description);
		if (l > w)
			w = l;
	}
	if (w > 60)
		w = 60;
	ts_buf_addf(b, "%-*s  %-8s  %s\n", (int)w, "RULE", "RESULT", "METRICS");
	for (size_t i = 0; i < res->n; i++) {
		const struct ts_dq_result *r = &res->r[i];
		size_t l = strlen(r->description);
		if (l > w)
			ts_buf_addf(b, "%.*s...", (int)w - 3, r->description);
		else
			ts_buf_addf(b, "%-*s", (int)w, r->description);
		ts_buf_addf(b, "  %-8s ", outcome_name(r->outcome));
		for (size_t k = 0; k < r->nmetrics; k++)
			ts_buf_addf(b, " %s=%.6g", r->metrics[k].name, r->metrics[k].value);
		if (r->message)
			ts_buf_addf(b, "%s%s", r->nmetrics ? "  " : " ", r->message);
		ts_buf_addch(b, '\n');
	}
	ts_buf_addf(b, "%zu of %zu rules passed (score %.4g), %zu failed, %zu errored; %llu rows\n",
		    res->passed, res->total, score(res), res->failed, res->errored,
		    (unsigned long long)res->rows);
	ts_out_flush(o);
}

static int write_results(struct va *v, const struct ts_dq_results *res)
{
	struct ts_out rep, *o = &v->run.out;
	int fd = -1, rc = 0;
	enum fmt f = v->fmt;

	if (v->rows != ROW_NONE) {
		/* the records go to standard output: the results elsewhere */
		if (v->report) {
			fd = open(v->report, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
			if (fd < 0)
				return ts_error("cannot create report '%s': %s", v->report, strerror(errno));
		}
		ts_out_init(&rep, fd >= 0 ? fd : 2);
		o = &rep;
		if (f == FMT_AUTO)
			f = fd < 0 && isatty(2) ? FMT_TEXT : FMT_NDJSON;
	} else if (f == FMT_AUTO) {
		f = isatty(1) ? FMT_TEXT : FMT_NDJSON;
	}
	switch (f) {
	case FMT_TEXT: write_text(o, res); break;
	case FMT_DATAZONE: write_datazone(o, res, v->now); break;
	default: write_ndjson(o, res); break;
	}
	if (o == &rep) {
		if (ts_out_release(&rep) < 0)
			rc = ts_error("cannot write report '%s': %s", v->report ? v->report : "<stderr>",
				      strerror(rep.err));
		if (fd >= 0 && close(fd) < 0 && !rc)
			rc = ts_error("cannot write report '%s': %s", v->report, strerror(errno));
	} else {
		/* results are the output: records_out counts their lines */
		v->run.records_out = -1;
	}
	return rc;
}

int main(int argc, char **argv)
{
	static struct va v;
	struct ts_dq_ruleset *rs = NULL;
	struct ts_dq_results res = {0};
	char err[1024];
	char *text;
	size_t n;
	int first;

	ts_run_init(&v.run, cmd.name);
	/* regular expressions match characters of UTF-8, not bytes */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "C.utf8");
	first = ts_opt_parse(&cmd, &v.run, argc, argv, set_opt, &v);
	if (first == TS_OPT_EXIT)
		return ts_run_finish(&v.run) ? 2 : 0;
	if (first == TS_OPT_USAGE)
		return 2;
	if (!v.rules_path)
		return ts_usage_error(&cmd, "no ruleset: give one with -r RULES"), 2;
	if (v.save_history && !v.history)
		return ts_usage_error(&cmd, "--save-history needs --history FILE"), 2;
	if (v.report && v.rows == ROW_NONE)
		return ts_usage_error(&cmd, "--report goes with --annotate, --pass or --fail"), 2;
	if (v.merge && v.rows != ROW_NONE)
		return ts_usage_error(&cmd, "--merge reads state files, not records: no row-level output"), 2;
	if (v.merge && !argv[first])
		return ts_usage_error(&cmd, "--merge needs the state files as operands"), 2;
	if (!v.have_now) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts); /* now(): the wall clock */
		v.now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	}

	if (!(text = read_rules(v.rules_path, &n)))
		return 2;
	if (ts_dqdl_parse(text, n, &rs, err, sizeof(err)) < 0) {
		ts_error("%s:%s", v.rules_path, err);
		free(text);
		return 2;
	}
	free(text);
	if (v.print_rules) {
		struct ts_buf *b = &v.run.out.buf;
		ts_dqdl_print(b, rs);
		v.run.records_out = 0;
		ts_dqdl_free(rs);
		return ts_run_finish(&v.run) ? 2 : 0;
	}

	struct ts_dq_opts o = {
		.now = v.now,
		.history = v.history,
		.refs = v.refs,
		.nrefs = v.nrefs,
		/* file rules without a path check the inputs, never state files */
		.inputs = v.merge ? NULL : (const char *const *)(argv + first),
		.ninputs = v.merge ? 0 : (size_t)(argc - first),
		.mem = (size_t)v.mem,
		.row_level = v.rows != ROW_NONE,
		.max_depth = v.run.max_depth,
		.max_record = v.run.max_record,
	};
	v.dqo = o;
	v.rs = rs;
	if (!v.threads) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		v.threads = c < 1 ? 1 : c > MAX_THREADS ? MAX_THREADS : (int)c;
	}
	if (!(v.dq = ts_dq_new(rs, &o, err, sizeof(err)))) {
		ts_error("%s: %s", v.rules_path, err);
		ts_dqdl_free(rs);
		return 2;
	}
	v.nrows = ts_run_counter(&v.run, "rows");
	if (v.rows == ROW_PASS || v.rows == ROW_FAIL)
		v.dropped = ts_run_counter(&v.run, v.rows == ROW_PASS ? "dropped_failed" : "dropped_passed");

	/* reference datasets first: rules on the primary look them up */
	if (v.nrefs)
		v.ref_rows = ts_run_counter(&v.run, "ref_rows");
	for (size_t i = 0; i < v.nrefs; i++) {
		struct refctx rc = {&v, i};
		char *files[] = {(char *)v.refs[i].path, NULL};
		ts_input_init(&v.in, &v.run);
		ts_input_run(&v.in, files, on_ref, &rc);
		ts_input_release(&v.in);
	}
	if (v.merge) {
		for (int i = first; argv[i]; i++) {
			if (ts_dq_state_merge(v.dq, argv[i], err, sizeof(err)) < 0) {
				ts_error("%s: %s", argv[i], err);
				ts_run_fail(&v.run, 2);
				v.merge_failed = 1; /* results without it would be wrong */
			}
		}
	} else {
		/* threads only where every record may go anywhere */
		if (v.rows != ROW_NONE || v.nrefs || ts_dq_wants_one_pass(v.dq))
			v.threads = 1;
		ts_hkey_process(); /* the per-process key, made before any thread */
		read_inputs(&v, argv + first);
	}

	if (!v.failed_add && !v.merge_failed) {
		if (v.state_out && v.run.status >= 2) {
			/* a state missing an input would merge into wrong metrics */
			ts_error("%s: not written: an input could not be read", v.state_out);
		} else if (v.state_out && ts_dq_state_write(v.dq, v.state_out, err, sizeof(err)) < 0) {
			ts_error("%s: %s", v.state_out, err);
			ts_run_fail(&v.run, 2);
		}
		if (ts_dq_evaluate(v.dq, &res) < 0) {
			ts_error("cannot evaluate the rules: out of memory");
			ts_run_fail(&v.run, 2);
		} else {
			if (write_results(&v, &res) < 0)
				ts_run_fail(&v.run, 2);
			/* a rule that could not be evaluated is trouble, not a verdict */
			if (res.failed)
				ts_run_fail(&v.run, 1);
			if (res.errored)
				ts_run_fail(&v.run, 2);
			if (v.save_history &&
			    ts_dq_history_append(&res, v.history, v.now, err, sizeof(err)) < 0) {
				ts_error("%s: %s", v.history, err);
				ts_run_fail(&v.run, 2);
			}
			ts_dq_results_release(&res);
		}
	}
	ts_dq_free(v.dq);
	ts_dqdl_free(rs);
	for (size_t i = 0; i < v.nrefs; i++)
		free((char *)v.refs[i].alias);
	return ts_run_finish(&v.run);
}
