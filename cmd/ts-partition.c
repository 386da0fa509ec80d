/*
 * ts-partition — route each record to a file under a prefix computed from
 * it, as a delivery stream's dynamic partitioning does.
 * See man/ts-partition.1.
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "input.h"
#include "jpath.h"
#include "opt.h"
#include "parquet.h"
#include "partition.h"
#include "query.h"
#include "reader.h"
#include "template.h"
#include "tstime.h"
#include "util.h"

enum {
	OPT_OUTPUT = 'o',
	OPT_PREFIX = 'p',
	OPT_KEY = 'k',
	OPT_TIME = 't',
	OPT_TZ = 0x100,
	OPT_TIME_UNIT,
	OPT_ERROR_PREFIX,
	OPT_NO_DEFAULT_TIME,
	OPT_NAME,
	OPT_COMPRESS,
	OPT_MAX_BYTES,
	OPT_MAX_RECORDS,
	OPT_MAX_SECONDS,
	OPT_FSYNC,
	OPT_NO_FSYNC,
	OPT_CLEAN_TEMP,
	OPT_MAX_OPEN,
	OPT_QUERY,
	OPT_FORMAT,
	OPT_SCHEMA,
	OPT_INFER_RECORDS,
	OPT_CASE_SENSITIVE,
};

static const struct ts_option options[] = {
	{"output", OPT_OUTPUT, "DIR", "write the partitioned files under DIR (required)"},
	{"prefix", OPT_PREFIX, "TEMPLATE", "the prefix of each record's file, e.g. "
					   "'acct=!{partitionKeyFromQuery:acct}/dt=!{timestamp:yyyy-MM-dd}/'"},
	{"key", OPT_KEY, "NAME=PATH", "partition key NAME is the value at PATH (repeatable)"},
	{"query", OPT_QUERY, "JQ", "partition keys from a jq 1.6 program that makes an object, "
				   "e.g. '{acct: .recipientAccountId, day: .eventTime[0:10]}'"},
	{"time", OPT_TIME, "PATH", "the record time: epoch seconds or milliseconds, or ISO 8601 "
				   "(default: arrival time)"},
	{"time-unit", OPT_TIME_UNIT, "s|ms|auto", "unit of a numeric --time (default auto: "
						  "above 10^11 it is milliseconds)"},
	{"time-zone", OPT_TZ, "TZ", "time zone of !{timestamp:...} and of the time in file names: "
				    "UTC (default), +HH:MM, or a zoneinfo name"},
	{"error-prefix", OPT_ERROR_PREFIX, "TEMPLATE", "write rejected records under this prefix "
						       "instead of to the error output"},
	{"no-default-time", OPT_NO_DEFAULT_TIME, NULL, "do not append yyyy/MM/dd/HH/ to a prefix "
						       "without a timestamp"},
	{"name", OPT_NAME, "NAME", "first part of file names (default ts-partition)"},
	{"format", OPT_FORMAT, "ndjson|parquet", "the files' format (default ndjson)"},
	{"schema", OPT_SCHEMA, "FILE|infer", "with --format parquet: the columns, as a Glue table's "
					     "StorageDescriptor.Columns, or inferred from the first records"},
	{"infer-records", OPT_INFER_RECORDS, "N", "with --schema infer: infer from the first N records "
						  "(default 1000)"},
	{"case-sensitive", OPT_CASE_SENSITIVE, NULL, "with --format parquet: JSON keys match columns "
						     "only with the same case"},
	{"compress", OPT_COMPRESS, "CODEC", "ndjson: gzip or none (default none); parquet pages: "
					    "snappy (default), gzip, zstd or none"},
	{"max-bytes", OPT_MAX_BYTES, "SIZE", "roll a file when it reaches SIZE (default 128M; not 0)"},
	{"max-records", OPT_MAX_RECORDS, "N", "roll a file when it holds N records (default: no "
					      "limit; not 0)"},
	{"max-seconds", OPT_MAX_SECONDS, "N", "roll a file open N seconds (default 300; 0: never)"},
	{"fsync", OPT_FSYNC, NULL, "fsync each file before publishing it (default)"},
	{"no-fsync", OPT_NO_FSYNC, NULL, "do not fsync: faster, not crash-safe"},
	{"clean-temp", OPT_CLEAN_TEMP, NULL, "first remove the temporary files that runs no longer "
					     "alive left under DIR"},
	{"max-open", OPT_MAX_OPEN, "N", "keep at most N files open (default 128)"},
	{0},
};

static const struct ts_cmd cmd = {
	.name = "ts-partition",
	.synopsis = "-o DIR --prefix TEMPLATE [OPTION]... [FILE]...",
	.summary = "Write each record to a file under a prefix computed from it (dynamic\n"
		   "partitioning); print one manifest line per finished file.",
	.opts = options,
	.footer = "Examples:\n"
		  "  ts-partition -o lake --prefix 'acct=!{partitionKeyFromQuery:acct}/dt=!{timestamp:yyyy-MM-dd}/' \\\n"
		  "               --key acct=.recipientAccountId --time .eventTime events.ndjson\n",
};

struct key {
	char *name;
	struct ts_jpath path;
};

struct pt {
	struct ts_run run;
	const char *dir;
	const char *prefix_arg, *error_prefix_arg;
	struct ts_template prefix, eprefix;
	struct ts_tpl_render prender, erender;
	struct ts_tpl_env env;
	char **names; /* the keys' names, for env */
	struct key *keys;
	size_t nkeys;
	const char *query_arg;
	struct ts_query *query;
	char **qnames;  /* the keys the prefix takes from the query */
	size_t nq;
	struct ts_buf qmsg;
	/* --format parquet */
	int parquet, codec_set;
	const char *schema_arg;
	uint64_t infer_records;
	struct ts_pq_schema schema;
	struct ts_pq_infer *infer;     /* while the first records are held */
	struct ts_buf held;            /* their bytes */
	struct held { size_t off, len; uint64_t line; int has_ws; size_t name; } *hold;
	size_t nhold;
	char **names_held;             /* the inputs they came from */
	size_t nnames_held;
	char no_schema[600];           /* inference failed: why */
	struct ts_jpath time;
	enum ts_time_unit time_unit;
	int have_time, no_default_time, clean_temp;
	struct ts_tz tz;
	struct ts_part_opts po;

	struct ts_partitioner *part;
	struct ts_input in;
	struct ts_buf pbuf, ebuf;
	struct ts_span *kvals;
	struct ts_json_keys idx; /* the record's members, noted by the reader */
	uint64_t written;
};

static volatile sig_atomic_t stop;
static sigset_t wait_mask; /* while waiting for input: the stopping signals let in */
static uint64_t reads; /* successful reads of the input so far */

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int set_opt(void *ud, int id, const char *arg)
{
	struct pt *x = ud;
	char err[256];
	uint64_t v;

	switch (id) {
	case OPT_OUTPUT: x->dir = arg; return 0;
	case OPT_PREFIX: x->prefix_arg = arg; return 0;
	case OPT_QUERY:
		if (x->query_arg)
			return ts_usage_error(&cmd, "--query is given once: one program makes every key"), -1;
		x->query_arg = arg;
		return 0;
	case OPT_ERROR_PREFIX: x->error_prefix_arg = arg; return 0;
	case OPT_KEY: {
		const char *eq = strchr(arg, '=');
		if (!eq || eq == arg || !eq[1])
			return ts_usage_error(&cmd, "--key wants NAME=PATH, got '%s'", arg), -1;
		struct key *nk = realloc(x->keys, (x->nkeys + 1) * sizeof(*nk));
		if (!nk)
			return -1;
		x->keys = nk;
		if (ts_jpath_parse(&nk[x->nkeys].path, eq + 1, err, sizeof(err)) < 0)
			return ts_usage_error(&cmd, "--key %.*s: %s", (int)(eq - arg), arg, err), -1;
		if (ts_jpath_is_multi(&nk[x->nkeys].path)) {
			ts_jpath_release(&nk[x->nkeys].path);
			return ts_usage_error(&cmd, "--key %s: a key path selects one value: no []", arg), -1;
		}
		nk[x->nkeys].name = strndup(arg, (size_t)(eq - arg));
		for (size_t k = 0; k < x->nkeys; k++)
			if (nk[x->nkeys].name && !strcmp(nk[k].name, nk[x->nkeys].name)) {
				ts_usage_error(&cmd, "--key %s is given twice", nk[k].name);
				free(nk[x->nkeys].name);
				ts_jpath_release(&nk[x->nkeys].path);
				return -1;
			}
		x->nkeys++;
		return 0;
	}
	case OPT_TIME:
		if (x->have_time)
			ts_jpath_release(&x->time);
		if (ts_jpath_parse(&x->time, arg, err, sizeof(err)) < 0)
			return ts_usage_error(&cmd, "--time: %s", err), -1;
		x->have_time = 1;
		return 0;
	case OPT_TZ:
		if (ts_tz_parse(&x->tz, arg, err, sizeof(err)) < 0)
			return ts_usage_error(&cmd, "--time-zone: %s", err), -1;
		return 0;
	case OPT_TIME_UNIT:
		if (ts_time_unit_parse(arg, &x->time_unit) < 0)
			return ts_usage_error(&cmd, "--time-unit: s, ms or auto, not '%s'", arg), -1;
		return 0;
	case OPT_NO_DEFAULT_TIME: x->no_default_time = 1; return 0;
	case OPT_NAME:
		if (!*arg || strchr(arg, '/') || arg[0] == '.' || arg[0] == '_' ||
		    strlen(arg) > TS_PART_MAX_NAME)
			return ts_usage_error(&cmd, "--name: a file name part of at most %d bytes, "
					      "not starting with '.' or '_'", TS_PART_MAX_NAME), -1;
		x->po.name = arg;
		return 0;
	case OPT_COMPRESS:
		x->codec_set = 1;
		x->po.gzip = 0;
		if (!strcmp(arg, "gzip")) {
			x->po.gzip = 1;
			x->po.pq.codec = TS_PQ_GZIP;
		} else if (!strcmp(arg, "none")) {
			x->po.pq.codec = TS_PQ_UNCOMPRESSED;
		} else if (!strcmp(arg, "snappy")) {
			x->po.pq.codec = TS_PQ_SNAPPY;
		} else if (!strcmp(arg, "zstd")) {
			x->po.pq.codec = TS_PQ_ZSTD;
		} else {
			return ts_usage_error(&cmd, "--compress: gzip, snappy, zstd or none, not '%s'", arg), -1;
		}
		return 0;
	case OPT_FORMAT:
		if (!strcmp(arg, "parquet"))
			x->parquet = 1;
		else if (!strcmp(arg, "ndjson"))
			x->parquet = 0;
		else
			return ts_usage_error(&cmd, "--format: ndjson or parquet, not '%s'", arg), -1;
		return 0;
	case OPT_SCHEMA: x->schema_arg = arg; return 0;
	case OPT_INFER_RECORDS:
		if (ts_parse_u64(arg, &x->infer_records) < 0 || x->infer_records == 0 ||
		    x->infer_records > 10000000)
			return ts_usage_error(&cmd, "invalid --infer-records '%s' (1 to 10000000)", arg), -1;
		return 0;
	case OPT_CASE_SENSITIVE: x->po.pq_case_sensitive = 1; return 0;
	/* A file of at most 0 bytes or records can hold nothing: an error, as
	 * split -b 0 is (the defaults already mean "no limit" where there is
	 * none). */
	case OPT_MAX_BYTES:
		if (ts_parse_size(arg, &x->po.max_bytes) < 0 || x->po.max_bytes == 0)
			return ts_usage_error(&cmd, "invalid --max-bytes '%s' (a size above 0)", arg), -1;
		return 0;
	case OPT_MAX_RECORDS:
		if (ts_parse_u64(arg, &x->po.max_records) < 0 || x->po.max_records == 0)
			return ts_usage_error(&cmd, "invalid --max-records '%s' (a count above 0)", arg), -1;
		return 0;
	case OPT_MAX_SECONDS:
		if (ts_parse_u64(arg, &v) < 0)
			return ts_usage_error(&cmd, "invalid --max-seconds '%s'", arg), -1;
		x->po.max_seconds = (double)v;
		return 0;
	case OPT_FSYNC: x->po.fsync = 1; return 0;
	case OPT_NO_FSYNC: x->po.fsync = 0; return 0;
	case OPT_CLEAN_TEMP: x->clean_temp = 1; return 0;
	case OPT_MAX_OPEN:
		if (ts_parse_u64(arg, &v) < 0 || v < 1 || v > 100000)
			return ts_usage_error(&cmd, "invalid --max-open '%s'", arg), -1;
		x->po.max_open = (size_t)v;
		return 0;
	}
	return -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The error sink of --error-prefix: a rejected record in the service's
 * processing-failed layout.  0, or -1 when it cannot go there (its prefix
 * renders too long, its path is unsafe, the disk is full): ts_reject() then
 * writes it to the error output instead, counted once either way. */
static int to_error_prefix(void *ctx, const struct ts_rejection *r)
{
	struct pt *x = ctx;
	int64_t ms = now_ms();
	const char *why;
	struct ts_buf *b = &x->ebuf;

	ts_buf_reset(b);
	ts_buf_addf(b, "{\"attemptsMade\":1,\"arrivalTimestamp\":%lld,\"errorCode\":",
		    (long long)ms);
	ts_json_escape(b, r->code, strlen(r->code));
	ts_buf_add(b, ",\"errorMessage\":", 16);
	if (ts_json_escape(b, r->message, strlen(r->message)) < 0)
		ts_buf_add(b, "\"\"", 2);
	ts_buf_add(b, ",\"rawData\":\"", 12);
	ts_base64_encode(b, r->raw ? r->raw : "", r->raw ? r->rawn : 0);
	ts_buf_add(b, "\"}", 2);
	x->env.errtype = "processing-failed";
	if (ts_template_render(&x->eprefix, &x->erender, &x->env, ms, &x->pbuf, &why) < 0)
		return -1;
	return ts_part_write(x->part, x->pbuf.data, x->pbuf.len, b->data, b->len, 0, ms, 1) == 0
		       ? 0 : -1;
}

/* A rejected record: to the run's one sink (--error-prefix, else the error
 * output). */
static void reject(struct pt *x, const char *code, const struct ts_item *it,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void reject(struct pt *x, const char *code, const struct ts_item *it,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ts_input_vreject(&x->in, it, code, (struct ts_span){0}, fmt, ap);
	va_end(ap);
}

static void do_record(struct pt *x, const struct ts_item *it)
{
	const char *why;
	int64_t ms;

	for (size_t k = 0; k < x->nkeys; k++) {
		struct ts_span *v = &x->kvals[k];
		if (!ts_jpath_get_indexed(&x->keys[k].path, it->v, &x->idx, v)) {
			reject(x, "missing_key", it, "partition key %s: no %s in record",
			       x->keys[k].name, x->keys[k].path.text);
			return;
		}
		char c = v->p[0];
		if (c == '{' || c == '[' || c == 'n') {
			reject(x, "bad_key_type", it, "partition key %s: %s is %s, not a string, "
			       "number or boolean", x->keys[k].name, x->keys[k].path.text,
			       c == '{' ? "an object" : c == '[' ? "an array" : "null");
			return;
		}
	}
	if (x->query) {
		const char *code;
		if (ts_query_eval(x->query, it->v, &x->idx, x->nq, x->qnames, x->kvals + x->nkeys,
				  &code, &x->qmsg) < 0) {
			reject(x, code, it, "%s", x->qmsg.data);
			return;
		}
	}
	if (x->have_time) {
		struct ts_span tv;
		if (!ts_jpath_get_indexed(&x->time, it->v, &x->idx, &tv)) {
			reject(x, "missing_time", it, "no time %s in record", x->time.text);
			return;
		}
		if (ts_time_from_json_unit(tv, x->time_unit, &ms, &why) < 0) {
			reject(x, "bad_time", it, "%s: %s", x->time.text, why);
			return;
		}
	} else {
		ms = now_ms();
	}
	x->env.errtype = NULL;
	if (ts_template_render(&x->prefix, &x->prender, &x->env, ms, &x->pbuf, &why) < 0) {
		reject(x, why, it, "%s", !strcmp(why, "key_too_long")
			   ? "a partition value makes a path component longer than 255 bytes"
			   : "the prefix would leave the output directory");
		return;
	}
	int rc = ts_part_write(x->part, x->pbuf.data, x->pbuf.len, it->v.p, it->v.n, it->has_ws,
			       ms, 0);
	if (rc == TS_PART_REJECTED) { /* a link in the way, a name too long */
		const char *why_msg, *rcode = ts_part_rejection(x->part, &why_msg);
		char m[512];
		snprintf(m, sizeof(m), "%s", why_msg); /* reject() writes again */
		reject(x, rcode, it, "%s", m);
		return;
	}
	if (rc < 0)
		return;
	x->written++;
}

/* With --max-seconds, files also roll while the input is idle. */
static struct ts_partitioner *idle_part;

/* Standard input stops at SIGTERM/SIGINT as if it had ended. */
static long source(void *ctx, char *dst, size_t n)
{
	int fd = *(int *)ctx;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	struct timespec second = {1, 0};

	for (;;) {
		if (stop)
			return 0;
		/* SIGTERM and SIGINT are blocked but while waiting here: one that
		 * comes after the test above still ends the wait */
		int ready = ppoll(&pfd, 1, idle_part ? &second : NULL, &wait_mask);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (ready == 0) { /* a quiet second: roll what is due */
			if (ts_part_tick(idle_part) < 0)
				return 0; /* do_file() reports the error */
			continue;
		}
		ssize_t r = read(fd, dst, n);
		if (r > 0)
			reads++;
		if (r >= 0)
			return (long)r;
		if (errno != EINTR)
			return -1;
	}
}

/* A stopping signal that came while records were being read from a regular
 * file (signals are let in only while waiting for input): stop too. */
static int stop_pending(void)
{
	sigset_t pending;

	if (stop)
		return 1;
	if (sigpending(&pending) == 0)
		for (int sig = 1; sig < NSIG; sig++)
			if (sigismember(&pending, sig) == 1 && sigismember(&wait_mask, sig) == 0) {
				stop = 1;
				return 1;
			}
	return 0;
}

/* --schema infer: the first records are held until the schema is known. */
static int end_inference(struct pt *x);

static int hold(struct pt *x, const struct ts_item *it)
{
	const char *name = x->in.name ? x->in.name : "";

	if (!x->nnames_held || strcmp(x->names_held[x->nnames_held - 1], name) != 0) {
		char **v = realloc(x->names_held, (x->nnames_held + 1) * sizeof(*v));
		if (!v || !(v[x->nnames_held] = strdup(name)))
			return ts_error("out of memory"), -1;
		x->names_held = v;
		x->nnames_held++;
	}
	struct held *h = realloc(x->hold, (x->nhold + 1) * sizeof(*h));
	if (!h)
		return ts_error("out of memory"), -1;
	x->hold = h;
	h[x->nhold] = (struct held){x->held.len, it->v.n, it->line, it->has_ws, x->nnames_held - 1};
	if (ts_buf_add(&x->held, it->v.p, it->v.n) < 0 || ts_pq_infer_add(x->infer, it->v) < 0)
		return ts_error("out of memory"), -1;
	x->nhold++;
	return x->nhold >= x->infer_records ? end_inference(x) : 0;
}

/* The schema from the records held, said on standard error in the --schema
 * file's format; then the held records go their way. */
static int end_inference(struct pt *x)
{
	char err[512];
	struct ts_buf b;

	if (!x->infer)
		return 0;
	int rc = x->nhold ? ts_pq_infer_schema(x->infer, &x->schema, err, sizeof(err)) : 0;
	ts_pq_infer_free(x->infer);
	x->infer = NULL;
	if (!x->nhold)
		return 0; /* no records: no files */
	if (rc < 0) {
		/* no schema, no files: every record is refused, counted */
		snprintf(x->no_schema, sizeof(x->no_schema), "--schema infer: %s", err);
		ts_error("%s", x->no_schema);
	}
	ts_buf_init(&b, 0);
	ts_pq_schema_to_glue(&x->schema, &b);
	ts_warn("--schema infer: the columns of the first %zu record%s:", x->nhold,
		x->nhold == 1 ? "" : "s");
	fprintf(stderr, "%s\n", b.data);
	ts_buf_release(&b);
	const char *saved = x->in.name;
	for (size_t i = 0; i < x->nhold; i++) {
		struct held *h = &x->hold[i];
		struct ts_item it = {.kind = TS_ITEM_VALUE, .v = {x->held.data + h->off, h->len},
				     .line = h->line, .has_ws = h->has_ws};
		struct ts_json_scan r;
		x->in.name = x->names_held[h->name];
		if (x->no_schema[0]) {
			reject(x, "no_schema", &it, "%s", x->no_schema);
			continue;
		}
		ts_json_scan_keys(it.v.p, it.v.p + it.v.n, 1, 0, &x->idx, &r);
		do_record(x, &it);
		if (ts_part_error(x->part))
			break;
	}
	x->in.name = saved;
	return ts_part_error(x->part) ? -1 : 0;
}

/* One good record of the input loop. */
static int on_record(void *ud, struct ts_input *in, const struct ts_item *it)
{
	struct pt *x = ud;
	static uint64_t ticked;

	(void)in;
	if (x->infer)
		return hold(x, it);
	if (x->no_schema[0]) {
		reject(x, "no_schema", it, "%s", x->no_schema);
		return 0;
	}
	/* --max-seconds is checked as records arrive (after each read of the
	 * input, and every 256 records), before the record is written: a file
	 * past its time takes no more records */
	if (reads != ticked || (x->run.records_in & 255) == 0) {
		ticked = reads;
		if (ts_part_tick(x->part) < 0 || stop_pending())
			return -1;
	}
	do_record(x, it);
	return ts_part_error(x->part) ? -1 : 0;
}

/* Is name one of the query's keys?  1, 0, or -1: not known before it runs. */
static int query_defines(const struct pt *x, const char *name)
{
	const char *const *names;
	long n = ts_query_names(x->query, &names);

	if (n < 0)
		return -1;
	for (long i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return 1;
	return 0;
}

/*
 * Every key the template names is given with --key or made by --query (the
 * query's, in x->qnames, in the order of the template), and no key is
 * defined by both.
 */
static int check_keys(struct pt *x, const struct ts_template *t, const char *opt)
{
	for (size_t k = 0; x->query && k < x->nkeys; k++)
		if (query_defines(x, x->keys[k].name) == 1)
			return ts_usage_error(&cmd, "partition key '%s' is defined twice: by --key and "
					      "by --query", x->keys[k].name), -1;
	for (size_t i = 0; i < t->n; i++) {
		if (t->parts[i].kind != TS_TPL_KEY)
			continue;
		const char *name = t->parts[i].text;
		size_t k = 0;
		while (k < x->nkeys && strcmp(x->keys[k].name, name) != 0)
			k++;
		if (k < x->nkeys)
			continue;
		if (!x->query)
			return ts_usage_error(&cmd, "%s uses partition key '%s': give it with --key %s=PATH "
					      "or --query", opt, name, name), -1;
		if (query_defines(x, name) == 0)
			return ts_usage_error(&cmd, "%s uses partition key '%s', which neither --key nor "
					      "--query defines", opt, name), -1;
		size_t q = 0;
		while (q < x->nq && strcmp(x->qnames[q], name) != 0)
			q++;
		if (q < x->nq)
			continue;
		char **nq = realloc(x->qnames, (x->nq + 1) * sizeof(*nq));
		if (!nq)
			return ts_usage_error(&cmd, "out of memory"), -1;
		x->qnames = nq;
		x->qnames[x->nq++] = t->parts[i].text;
	}
	return 0;
}

/* The templates: parsed, the default time appended, keys checked.  A
 * minutes-for-month slip is worth a warning before any file is written. */
static int parse_templates(struct pt *x)
{
	char err[512];

	if (!x->prefix_arg)
		x->prefix_arg = "";
	if (x->query_arg && !(x->query = ts_query_new(x->query_arg, err, sizeof(err))))
		return ts_usage_error(&cmd, "--query: %s", err), -1;
	if (ts_template_parse(&x->prefix, x->prefix_arg, 0, err, sizeof(err)) < 0)
		return ts_usage_error(&cmd, "--prefix '%s': %s", x->prefix_arg, err), -1;
	if (!x->prefix.has_time && !x->no_default_time)
		ts_template_add_default_time(&x->prefix);
	if (check_keys(x, &x->prefix, "--prefix") < 0)
		return -1;
	if (ts_template_check_minutes(&x->prefix, err, sizeof(err)))
		ts_warn("--prefix %s", err);
	if (!x->error_prefix_arg)
		return 0;
	if (ts_template_parse(&x->eprefix, x->error_prefix_arg, TS_TPL_ALLOW_ERRTYPE, err,
			      sizeof(err)) < 0)
		return ts_usage_error(&cmd, "--error-prefix '%s': %s", x->error_prefix_arg, err), -1;
	for (size_t i = 0; i < x->eprefix.n; i++)
		if (x->eprefix.parts[i].kind == TS_TPL_KEY)
			return ts_usage_error(&cmd, "--error-prefix cannot use partition keys: "
					      "the records there may not have them"), -1;
	if (!x->eprefix.has_time && !x->no_default_time)
		ts_template_add_default_time(&x->eprefix);
	if (ts_template_check_minutes(&x->eprefix, err, sizeof(err)))
		ts_warn("--error-prefix %s", err);
	return 0;
}

/* --format, --schema, --compress: what the files are. */
static int prepare_format(struct pt *x)
{
	char err[512];

	if (!x->parquet) {
		if (x->schema_arg || x->infer_records || x->po.pq_case_sensitive)
			return ts_usage_error(&cmd, "%s goes with --format parquet",
					      x->schema_arg ? "--schema" : x->infer_records
					      ? "--infer-records" : "--case-sensitive"), -1;
		if (x->codec_set && !x->po.gzip && x->po.pq.codec != TS_PQ_UNCOMPRESSED)
			return ts_usage_error(&cmd, "--compress snappy and zstd are for --format parquet "
					      "(NDJSON files: gzip or none)"), -1;
		return 0;
	}
	if (!x->schema_arg)
		return ts_usage_error(&cmd, "--format parquet needs --schema FILE or --schema infer"), -1;
	if (!x->codec_set)
		x->po.pq.codec = TS_PQ_SNAPPY; /* the service's default */
	x->po.gzip = 0; /* error files are NDJSON, uncompressed */
	x->po.pq.created_by = "ts-partition version " TS_VERSION;
	x->po.pq_schema = &x->schema;
	ts_pq_schema_init(&x->schema);
	if (!strcmp(x->schema_arg, "infer")) {
		if (!x->infer_records)
			x->infer_records = 1000;
		ts_buf_init(&x->held, 0);
		if (!(x->infer = ts_pq_infer_new()))
			return ts_usage_error(&cmd, "out of memory"), -1;
		return 0;
	}
	if (x->infer_records)
		return ts_usage_error(&cmd, "--infer-records goes with --schema infer"), -1;
	size_t n;
	char *text = ts_read_small(x->schema_arg, (size_t)16 << 20, &n);
	if (!text)
		return ts_usage_error(&cmd, "--schema '%s': %s", x->schema_arg,
				      errno == EFBIG ? "over 16 MiB" : strerror(errno)), -1;
	int rc = ts_pq_schema_from_glue(&x->schema, text, n, err, sizeof(err));
	free(text);
	if (rc < 0)
		return ts_usage_error(&cmd, "--schema '%s': %s", x->schema_arg, err), -1;
	return 0;
}

/* The output directory: created, checked, cleaned if asked; the number of
 * open files fitted to the descriptor limit. */
static int prepare_output(struct pt *x)
{
	struct stat st;

	if (ts_mkdir_p(x->dir) < 0) {
		ts_error("cannot create output directory '%s': %s", x->dir, strerror(errno));
		return -1;
	}
	if (stat(x->dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		ts_error("'%s' is not a directory", x->dir);
		return -1;
	}
	if (x->clean_temp) {
		uint64_t removed, kept;
		if (ts_part_clean_temp(x->dir, &removed, &kept) < 0)
			ts_warn("could not remove every temporary file under '%s'", x->dir);
		else if (removed)
			ts_warn("removed %llu temporary file%s a previous run left under '%s'",
				(unsigned long long)removed, removed == 1 ? "" : "s", x->dir);
		if (kept)
			ts_warn("left %llu temporary file%s of runs still writing under '%s'",
				(unsigned long long)kept, kept == 1 ? "" : "s", x->dir);
	}
	/* Open files stay within the descriptor limit, whatever --max-open
	 * says: room for the standard streams, the input, --errors, the output
	 * root, the run's lock file, two directories being walked and a file
	 * being finished. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		size_t room = rl.rlim_cur > 32 ? (size_t)rl.rlim_cur - 16 : (size_t)rl.rlim_cur / 4;
		if (x->po.max_open > room)
			x->po.max_open = room ? room : 1;
	}
	x->po.dir = x->dir;
	x->po.tz = &x->tz; /* the service names files in its custom zone too */
	x->po.manifest = &x->run.out;
	x->part = ts_part_new(&x->po);
	if (x->part && ts_part_error(x->part)) {
		ts_error("%s", ts_part_error(x->part));
		return -1;
	}
	return 0;
}

/*
 * Signals that would kill the process with records in temporary files end
 * the input instead, so every file is published: SIGTERM, SIGINT, SIGHUP
 * (a closed terminal or session) and SIGXCPU (the soft CPU limit).  They are
 * blocked but while waiting for input.  A closed manifest pipe or a file
 * over the size limit is an error on the write (EPIPE, EFBIG), not a death.
 */
static void install_signals(void)
{
	static const int stops[] = {SIGTERM, SIGINT, SIGHUP, SIGXCPU};
	struct sigaction sa;
	sigset_t block;

	signal(SIGXFSZ, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: a blocked wait returns */
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
		sigaction(stops[i], &sa, NULL);
		sigaddset(&block, stops[i]);
	}
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
}

/*
 * The counts for --stats: records_out are the records in published files;
 * after a fatal error those in removed temporary files are dropped_unpublished
 * (rejected records among them leave "rejected"), so that records_in =
 * records_out + rejected + dropped_unpublished.  bytes_out are the bytes of
 * the published files, manifest_bytes those of the manifest.
 */
static void count(struct pt *x)
{
	uint64_t lost_err = ts_part_dropped(x->part, 1);
	uint64_t dropped = ts_part_dropped(x->part, 0) + lost_err;

	x->run.records_out = (int64_t)ts_part_records(x->part);
	x->run.rejected -= lost_err < x->run.rejected ? lost_err : x->run.rejected;
	*ts_run_counter(&x->run, "files") = ts_part_files(x->part);
	*ts_run_counter(&x->run, "partitions") = ts_part_count(x->part);
	if (x->parquet) {
		*ts_run_counter(&x->run, "fields_dropped") = ts_part_fields_dropped(x->part);
		*ts_run_counter(&x->run, "closed_early") = ts_part_closed_early(x->part);
	}
	if (dropped)
		*ts_run_counter(&x->run, "dropped_unpublished") = dropped;
	/* The manifest is flushed after every line: out.bytes is all of it. */
	*ts_run_counter(&x->run, "manifest_bytes") = x->run.out.bytes;
	x->run.bytes_out = (int64_t)ts_part_bytes(x->part);
	/* The manifest is not the data: its reader going away stops nothing,
	 * but whoever reads it must know it is not whole. */
	if (x->run.out.err) {
		ts_error("the manifest on standard output is incomplete (%s): every file was "
			 "still published under '%s'", strerror(x->run.out.err), x->dir);
		ts_run_fail(&x->run, 2);
	}
}

static void release(struct pt *x)
{
	ts_part_free(x->part);
	ts_input_release(&x->in);
	ts_tpl_render_release(&x->prender);
	ts_tpl_render_release(&x->erender);
	free(x->kvals);
	free(x->names);
	free(x->qnames);
	ts_query_free(x->query);
	if (x->parquet) {
		ts_pq_infer_free(x->infer);
		ts_pq_schema_release(&x->schema);
		ts_buf_release(&x->held);
		free(x->hold);
		for (size_t i = 0; i < x->nnames_held; i++)
			free(x->names_held[i]);
		free(x->names_held);
	}
	ts_buf_release(&x->qmsg);
	ts_buf_release(&x->pbuf);
	ts_buf_release(&x->ebuf);
	ts_template_release(&x->prefix);
	ts_template_release(&x->eprefix);
	for (size_t k = 0; k < x->nkeys; k++) {
		free(x->keys[k].name);
		ts_jpath_release(&x->keys[k].path);
	}
	free(x->keys);
	if (x->have_time)
		ts_jpath_release(&x->time);
}

int main(int argc, char **argv)
{
	static struct pt x;
	int first;

	ts_run_init(&x.run, cmd.name);
	x.po.name = "ts-partition";
	x.po.fsync = 1;
	x.po.max_bytes = (uint64_t)128 << 20;
	x.po.max_seconds = 300;
	x.po.max_open = 128;
	first = ts_opt_parse(&cmd, &x.run, argc, argv, set_opt, &x);
	if (first == TS_OPT_EXIT)
		return ts_run_finish(&x.run) ? 2 : 0;
	if (first == TS_OPT_USAGE)
		return 2;
	if (!x.dir)
		return ts_usage_error(&cmd, "the output directory is required: -o DIR"), 2;
	if (parse_templates(&x) < 0 || prepare_format(&x) < 0)
		return 2;
	if (prepare_output(&x) < 0)
		return 2;
	x.kvals = calloc(x.nkeys + x.nq + 1, sizeof(*x.kvals));
	x.names = calloc(x.nkeys + x.nq + 1, sizeof(*x.names));
	if (!x.part || !x.kvals || !x.names || ts_tpl_render_init(&x.prender, &x.prefix) < 0 ||
	    ts_tpl_render_init(&x.erender, &x.eprefix) < 0) {
		ts_error("out of memory");
		return 2;
	}
	for (size_t k = 0; k < x.nkeys; k++)
		x.names[k] = x.keys[k].name;
	for (size_t k = 0; k < x.nq; k++)
		x.names[x.nkeys + k] = x.qnames[k];
	ts_buf_init(&x.qmsg, 0);
	x.env = (struct ts_tpl_env){.tz = &x.tz, .nkeys = x.nkeys + x.nq, .names = x.names,
				    .vals = x.kvals, .max_len = PATH_MAX - 128 - strlen(x.dir)};
	ts_buf_init(&x.pbuf, 0);
	ts_buf_init(&x.ebuf, 0);
	ts_input_init(&x.in, &x.run);
	x.in.source = source;   /* pipes: idle ticks, signals end the input */
	x.in.keep_going = 1;    /* the manifest is not the data */
	x.in.rd.scan = ts_json_scan_keys_hook;
	x.in.rd.scan_ctx = &x.idx;
	if (x.po.max_seconds)
		idle_part = x.part;
	if (x.error_prefix_arg) {
		x.run.sink = to_error_prefix;
		x.run.sink_ctx = &x;
	}
	install_signals();

	int rc = 0;
	ts_input_run(&x.in, argv + first, on_record, &x);
	if (x.infer)
		end_inference(&x);
	if (x.no_schema[0])
		ts_run_fail(&x.run, 2);
	if (ts_part_error(x.part))
		rc = -1;
	if (rc == 0)
		rc = ts_part_close_all(x.part);
	if (rc < 0) {
		ts_error("%s", ts_part_error(x.part));
		ts_part_abort(x.part);
		ts_run_fail(&x.run, 2);
	}
	count(&x);
	release(&x);
	return ts_run_finish(&x.run);
}
