/*
 * ts-extract — turn envelopes into the records inside them.
 * See man/ts-extract.1.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "awslog.h"
#include "csv.h"
#include "cwl.h"
#include "fields.h"
#include "input.h"
#include "jpath.h"
#include "opt.h"
#include "reader.h"
#include "util.h"

enum {
	OPT_CWL = 0x100,
	OPT_META,
	OPT_META_NAME,
	OPT_RAW,
	OPT_RECORDS,
	OPT_KEEP_PARENT,
	OPT_FIELDS,
	OPT_RENAME,
	OPT_CSV,
	OPT_TSV,
	OPT_COLUMNS,
	OPT_INFER,
	OPT_TO_CSV,
	OPT_TO_TSV,
	OPT_VPC_FLOW,
	OPT_ELB,
	OPT_ALB,
};

static const struct ts_option options[] = {
	{"cwl", OPT_CWL, NULL, "CloudWatch Logs subscription payloads: one record per log event"},
	{"meta", OPT_META, NULL, "with --cwl: add logGroup, logStream, owner, id and timestamp"},
	{"meta-name", OPT_META_NAME, "KEY=NAME", "with --meta: call field KEY NAME (empty NAME: leave it out)"},
	{"raw", OPT_RAW, NULL, "with --cwl: write the bare messages, one per line"},
	{"records", OPT_RECORDS, "PATH", "one record per element of the array at PATH (e.g. .Records)"},
	{"keep-parent", OPT_KEEP_PARENT, "FIELDS", "copy these fields of the enclosing record into each record"},
	{"fields", OPT_FIELDS, "FIELDS", "keep only these fields (comma-separated paths)"},
	{"rename", OPT_RENAME, "OLD=NEW,...", "rename output fields"},
	{"csv", OPT_CSV, NULL, "the input is CSV (RFC 4180) with a header row: one record per row"},
	{"tsv", OPT_TSV, NULL, "the input is tab-separated values with a header row"},
	{"columns", OPT_COLUMNS, "A,B,...", "with --csv/--tsv: the column names; every row is data"},
	{"infer", OPT_INFER, NULL, "with --csv/--tsv: numbers, true/false and empty (null) as JSON "
				   "types; else every value is a string"},
	{"vpc-flow", OPT_VPC_FLOW, NULL, "the input is VPC Flow Logs lines: one record per line, named "
					 "by the header line (or the default format)"},
	{"elb", OPT_ELB, NULL, "the input is Elastic Load Balancing access log lines (ALB, NLB, "
			       "Classic): one record per line"},
	{"alb", OPT_ALB, NULL, "the same as --elb"},
	{"to-csv", OPT_TO_CSV, "FIELDS", "write these fields (comma-separated paths) as CSV with a "
					 "header row, not NDJSON"},
	{"to-tsv", OPT_TO_TSV, "FIELDS", "the same as tab-separated values"},
	{0},
};

static const struct ts_cmd cmd = {
	.name = "ts-extract",
	.synopsis = "[OPTION]... [FILE]...",
	.summary = "Turn envelopes into the records inside them: CloudWatch Logs payloads into\n"
		   "log events, arrays such as CloudTrail's Records into one record each;\n"
		   "CSV, TSV, VPC Flow Logs and ELB access logs into one record per row or line.",
	.opts = options,
	.footer = "Examples:\n"
		  "  ts-decompress firehose/*.gz | ts-extract --cwl --meta\n"
		  "  ts-extract --records .Records --fields eventTime,eventName,awsRegion trail.json\n"
		  "  ts-extract --cwl --raw payloads.ndjson > messages.log\n"
		  "  ts-extract --csv --infer export.csv\n"
		  "  ts-extract --vpc-flow --fields srcaddr,dstaddr,bytes,action flows.log.gz\n"
		  "  ts-extract --elb --to-csv time,client_ip,elb_status_code,request alb.log.gz > requests.csv\n",
};

struct ex {
	struct ts_run run;
	int cwl, raw;
	int have_records;
	struct ts_jpath records;
	struct ts_fields fields; /* --fields, --keep-parent, --meta, --rename */

	struct ts_input in;
	struct ts_cwl_index cwlx;
	struct ts_json_keys keys; /* of the last message object */
	uint64_t *events, *dropped, *payloads; /* --cwl */
	uint64_t *arrays, *elements;            /* --records */
	uint64_t *rows;                         /* --csv, --tsv */
	uint64_t *lines;                        /* --vpc-flow, --elb */
	const struct ts_item *item; /* the input record being worked on */

	/* --csv, --tsv */
	char sep;
	int infer;
	char **columns;               /* --columns, or this input's header */
	size_t ncolumns;
	int fixed_columns, have_header;
	struct ts_csv csv;
	struct ts_buf json;
	struct ts_item csv_item;      /* where the CSV record is, for reject() */

	/* --vpc-flow, --elb */
	int vpc, elb;
	struct ts_awslog_lines loglines;
	struct ts_awslog_vpc vpch;    /* this input's field names */

	/* --to-csv, --to-tsv */
	char out_sep;                 /* 0: NDJSON out */
	struct ts_jpath *cols;
	char **col_names;             /* as given */
	size_t ncols;
	struct ts_buf shaped, cell;
};

static void free_columns(struct ex *x)
{
	for (size_t i = 0; i < x->ncolumns; i++)
		free(x->columns[i]);
	free(x->columns);
	x->columns = NULL;
	x->ncolumns = 0;
}

/* A column name, made unique: the second "a" is "a_2" (as mlr names it),
 * an empty one its column number. */
static int add_column_n(struct ex *x, const char *name, size_t n)
{
	char **v = realloc(x->columns, (x->ncolumns + 1) * sizeof(*v));
	struct ts_buf b;

	if (!v)
		return -1;
	x->columns = v;
	ts_buf_init(&b, 0);
	if (n)
		ts_buf_add(&b, name, n);
	else
		ts_buf_addf(&b, "%zu", x->ncolumns + 1);
	for (int k = 2;; k++) {
		size_t i = 0;
		while (i < x->ncolumns && strcmp(x->columns[i], b.data) != 0)
			i++;
		if (i == x->ncolumns)
			break;
		ts_buf_setlen(&b, 0);
		if (n)
			ts_buf_add(&b, name, n);
		else
			ts_buf_addf(&b, "%zu", x->ncolumns + 1);
		ts_buf_addf(&b, "_%d", k);
	}
	if (!(x->columns[x->ncolumns] = ts_buf_detach(&b, NULL)))
		return -1;
	x->ncolumns++;
	return 0;
}

static int add_column(void *ud, const char *item)
{
	return add_column_n(ud, item, strlen(item));
}

/* One --to-csv path: one value per record, named in the header as given. */
static int add_out_col(void *ud, const char *item)
{
	struct ex *x = ud;
	struct ts_jpath *v = realloc(x->cols, (x->ncols + 1) * sizeof(*v));
	char **names;
	char err[512];

	if (!v)
		return ts_usage_error(&cmd, "out of memory"), -1;
	x->cols = v;
	if (!(names = realloc(x->col_names, (x->ncols + 1) * sizeof(*names))))
		return ts_usage_error(&cmd, "out of memory"), -1;
	x->col_names = names;
	if (ts_jpath_parse(&v[x->ncols], item, err, sizeof(err)) < 0)
		return ts_usage_error(&cmd, "--to-%s: %s", x->out_sep == ',' ? "csv" : "tsv", err), -1;
	if (ts_jpath_is_multi(&v[x->ncols])) {
		ts_jpath_release(&v[x->ncols]);
		return ts_usage_error(&cmd, "--to-%s: '%s': a path with [] selects several values",
				      x->out_sep == ',' ? "csv" : "tsv", item), -1;
	}
	if (!(names[x->ncols] = strdup(item))) {
		ts_jpath_release(&v[x->ncols]);
		return ts_usage_error(&cmd, "out of memory"), -1;
	}
	x->ncols++;
	return 0;
}

static void free_out_cols(struct ex *x)
{
	for (size_t i = 0; i < x->ncols; i++) {
		ts_jpath_release(&x->cols[i]);
		free(x->col_names[i]);
	}
	free(x->cols);
	free(x->col_names);
	ts_buf_release(&x->shaped);
	ts_buf_release(&x->cell);
}

/*
 * One cell of --to-csv/--to-tsv output, appended to b.  CSV (RFC 4180):
 * quoted when it holds the separator, a quote, CR or LF, or starts or ends
 * with a space (quotes doubled).  TSV: tab, LF, CR and backslash written
 * \t \n \r \\, the escapes lib/csv decodes (and mlr writes).
 */
static int put_cell(struct ex *x, struct ts_buf *b, const char *p, size_t n)
{
	int rc = 0;

	if (x->out_sep == '\t') {
		for (size_t i = 0; i < n && !rc; i++) {
			switch (p[i]) {
			case '\t': rc = ts_buf_add(b, "\\t", 2); break;
			case '\n': rc = ts_buf_add(b, "\\n", 2); break;
			case '\r': rc = ts_buf_add(b, "\\r", 2); break;
			case '\\': rc = ts_buf_add(b, "\\\\", 2); break;
			default: rc = ts_buf_addch(b, p[i]);
			}
		}
		return rc;
	}
	int quote = n && (p[0] == ' ' || p[n - 1] == ' ');
	for (size_t i = 0; i < n && !quote; i++)
		quote = p[i] == ',' || p[i] == '"' || p[i] == '\r' || p[i] == '\n';
	if (!quote)
		return ts_buf_add(b, p, n);
	rc = ts_buf_addch(b, '"');
	for (size_t i = 0; i < n && !rc; i++)
		rc = p[i] == '"' ? ts_buf_add(b, "\"\"", 2) : ts_buf_addch(b, p[i]);
	return rc ? rc : ts_buf_addch(b, '"');
}

/* The header row: the paths as given. */
static int put_header(struct ex *x)
{
	struct ts_out *o = &x->run.out;

	for (size_t i = 0; i < x->ncols; i++)
		if ((i && ts_buf_addch(&o->buf, x->out_sep) < 0) ||
		    put_cell(x, &o->buf, x->col_names[i], strlen(x->col_names[i])) < 0)
			return -1;
	if (x->out_sep == ',')
		ts_buf_addch(&o->buf, '\r');
	return ts_buf_addch(&o->buf, '\n');
}

/*
 * One row for the record rec (a validated object): each path's value as
 * text: a string's characters, a number as written, true/false, a
 * container's compact JSON; null and a missing field an empty cell.
 * -1 at the size limit (the output buffer is left as it was).
 */
static int put_row(struct ex *x, struct ts_span rec)
{
	struct ts_buf *b = &x->run.out.buf;
	size_t at = b->len;

	for (size_t i = 0; i < x->ncols; i++) {
		struct ts_span v;
		int rc = 0;

		if (i && ts_buf_addch(b, x->out_sep) < 0)
			goto fail;
		if (!ts_jpath_get(&x->cols[i], rec, &v) || v.p[0] == 'n')
			continue;
		ts_buf_reset(&x->cell);
		if (v.p[0] == '"')
			rc = ts_json_unescape(&x->cell, v);
		else if (v.p[0] == '{' || v.p[0] == '[')
			rc = ts_json_minify(&x->cell, v);
		else
			rc = ts_buf_add(&x->cell, v.p, v.n);
		if (rc < 0 || put_cell(x, b, x->cell.data, x->cell.len) < 0)
			goto fail;
	}
	if (x->out_sep == ',' && ts_buf_addch(b, '\r') < 0)
		goto fail;
	return 0;
fail:
	ts_buf_setlen(b, at);
	return -1;
}

static int set_opt(void *ud, int id, const char *arg)
{
	struct ex *x = ud;
	char err[512];

	switch (id) {
	case OPT_CWL: x->cwl = 1; return 0;
	case OPT_META: ts_fields_meta_on(&x->fields); return 0;
	case OPT_RAW: x->raw = 1; return 0;
	case OPT_META_NAME:
		if (ts_fields_meta_name(&x->fields, arg, err, sizeof(err)) < 0)
			return ts_usage_error(&cmd, "--meta-name: %s", err), -1;
		return 0;
	case OPT_RECORDS:
		if (x->have_records)
			ts_jpath_release(&x->records);
		if (ts_jpath_parse(&x->records, arg, err, sizeof(err)) < 0)
			return ts_usage_error(&cmd, "--records: %s", err), -1;
		x->have_records = 1;
		/* ".Records[]" means ".Records": the array's elements, with the
		 * same errors for a missing array or one that is not */
		if (x->records.n && x->records.steps[x->records.n - 1].kind == TS_JP_ITER) {
			x->records.n--;
			if (ts_jpath_is_multi(&x->records))
				x->records.n++;
		}
		return 0;
	case OPT_KEEP_PARENT:
		if (ts_fields_add_parents(&x->fields, arg, err, sizeof(err)) < 0)
			return ts_usage_error(&cmd, "--keep-parent: %s", err), -1;
		return 0;
	case OPT_FIELDS:
		if (ts_fields_add_select(&x->fields, arg, err, sizeof(err)) < 0)
			return ts_usage_error(&cmd, "--fields: %s", err), -1;
		return 0;
	case OPT_RENAME:
		if (ts_fields_add_renames(&x->fields, arg, err, sizeof(err)) < 0)
			return ts_usage_error(&cmd, "--rename: %s", err), -1;
		return 0;
	case OPT_VPC_FLOW: x->vpc = 1; return 0;
	case OPT_ELB:
	case OPT_ALB: x->elb = 1; return 0;
	case OPT_CSV: x->sep = ','; return 0;
	case OPT_TSV: x->sep = '\t'; return 0;
	case OPT_INFER: x->infer = 1; return 0;
	case OPT_TO_CSV:
	case OPT_TO_TSV:
		if (x->out_sep)
			return ts_usage_error(&cmd, "one --to-csv or --to-tsv"), -1;
		x->out_sep = id == OPT_TO_CSV ? ',' : '\t';
		if (ts_fields_split(arg, add_out_col, x) < 0)
			return -1;
		if (!x->ncols)
			return ts_usage_error(&cmd, "--to-%s: a comma-separated list of paths",
					      id == OPT_TO_CSV ? "csv" : "tsv"), -1;
		return 0;
	case OPT_COLUMNS:
		free_columns(x);
		if (ts_fields_split(arg, add_column, x) < 0 || !x->ncolumns)
			return ts_usage_error(&cmd, "--columns: a comma-separated list of names"), -1;
		x->fixed_columns = 1;
		return 0;
	}
	return -1;
}

static void reject(struct ex *x, const char *code, struct ts_span raw, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void reject(struct ex *x, const char *code, struct ts_span raw, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ts_input_vreject(&x->in, x->item, code, raw, fmt, ap);
	va_end(ap);
}

/*
 * Write one output record: rec is the record (an object, or with --cwl a
 * message that is not one, then `{"message": <rec>}`), c and ev the
 * CloudWatch Logs payload and event (or NULL).  Parent fields come from the
 * input value (do_value).
 */
static void emit(struct ex *x, struct ts_span rec, int rec_is_message, int has_ws,
		 const struct ts_cwl *c, const struct ts_cwl_event *ev)
{
	struct ts_out *o = &x->run.out;
	/* the last message object's keys were noted as it was checked */
	const struct ts_fields_rec r = {rec, rec_is_message, has_ws,
					c && !rec_is_message ? &x->keys : NULL};
	int rc;

	/* --to-csv: the record as shaped, then the row from it */
	struct ts_buf *out = x->out_sep ? &x->shaped : &o->buf;

	if (x->out_sep)
		ts_buf_reset(out);
	if (c && ev) {
		struct ts_span meta[TS_CWL_META_N];
		ts_cwl_event_meta(c, ev, meta);
		rc = ts_fields_write(&x->fields, out, &r, meta);
	} else {
		rc = ts_fields_write(&x->fields, out, &r, NULL);
	}
	if (x->out_sep && rc == 0) {
		if (out->data[0] != '{')
			rc = TS_FIELDS_NOT_OBJECT;
		else
			rc = put_row(x, (struct ts_span){out->data, out->len});
	}
	if (rc == TS_FIELDS_NOT_OBJECT)
		reject(x, "not_an_object", rec, "record is not an object, %s",
		       x->out_sep ? "it has no fields to write as columns" : "cannot select or add fields");
	else if (rc < 0)
		reject(x, "too_large", rec, "output record over the size limit");
	else
		ts_out_end_record(o);
}

/* The payload just read, indexed by ts_cwl_scan() as the reader scanned it. */
static void do_cwl(struct ex *x, struct ts_span v)
{
	const struct ts_cwl_index *ix = &x->cwlx;

	if (!ix->is_cwl) {
		reject(x, "not_cwl", v, "not a CloudWatch Logs payload: %s",
		       v.p[0] == '{' ? "no logEvents array" : "not an object");
		return;
	}
	(*x->payloads)++;
	if (ix->env.control) {
		/* Health checks from the service: dropped, and counted. */
		*x->dropped += ix->nev;
		return;
	}
	for (size_t i = 0; i < ix->nev; i++) {
		const struct ts_cwl_event *ev = &ix->ev[i];
		(*x->events)++;
		if (ix->why[i]) {
			reject(x, "bad_log_event", ev->raw, "%s", ix->why[i]);
			continue;
		}
		if (x->raw) {
			/* message and newline, as jq -r writes it: a message
			 * ending in a newline leaves an empty line */
			struct ts_buf *b = &x->run.out.buf;
			ts_buf_add(b, ix->dec.data + ev->dec_off, ev->dec_len);
			ts_buf_addch(b, '\n');
			x->run.out.records++;
			if (b->len >= TS_OUT_CHUNK)
				ts_out_flush(&x->run.out);
			continue;
		}
		struct ts_span obj;
		int has_ws = 0;
		if (ts_cwl_decoded_object(ix->dec.data + ev->dec_off, ev->dec_len, &obj, &has_ws,
					  x->in.rd.max_depth, &x->keys))
			emit(x, obj, 0, has_ws, &ix->env, ev);
		else
			emit(x, ev->message, 1, 0, &ix->env, ev);
	}
}

struct rec_ctx {
	struct ex *x;
	struct ts_span parent;
	int has_ws;
	size_t n;
	int whole_rejected;
};

static int each_record(struct rec_ctx *rc, struct ts_span e)
{
	rc->n++;
	(*rc->x->elements)++;
	emit(rc->x, e, 0, rc->has_ws, NULL, NULL);
	ts_run_tick(&rc->x->run);
	return 0;
}

static int on_records(void *ud, struct ts_span v)
{
	struct rec_ctx *rc = ud;
	struct ts_json_iter it;
	struct ts_span e;

	if (ts_jpath_is_multi(&rc->x->records))
		return each_record(rc, v);
	if (v.p[0] != '[') {
		rc->n++;
		rc->whole_rejected = 1;
		reject(rc->x, "not_an_array", rc->parent, "%s is not an array", rc->x->records.text);
		return 0;
	}
	ts_json_iter_init(&it, v);
	rc->n++; /* an empty array is a record with nothing inside, not an error:
		  * counted in arrays, with no elements */
	while (ts_json_arr_next(&it, &e))
		each_record(rc, e);
	return 0;
}

static void do_value(struct ex *x, const struct ts_item *it)
{
	ts_fields_set_parent(&x->fields, it->v); /* --keep-parent */
	if (x->cwl) {
		do_cwl(x, it->v);
		return;
	}
	if (x->have_records) {
		struct rec_ctx rc = {.x = x, .parent = it->v, .has_ws = it->has_ws};
		ts_jpath_each(&x->records, it->v, on_records, &rc);
		if (!rc.n)
			reject(x, "missing_field", it->v, "no %s in record", x->records.text);
		else if (!rc.whole_rejected)
			(*x->arrays)++;
		return;
	}
	emit(x, it->v, 0, it->has_ws, NULL, NULL);
}

/* One field as a JSON value: a string, or with --infer (unquoted fields
 * only) a number, a boolean or null.  -1: not UTF-8. */
static int csv_value(struct ex *x, const char *p, size_t n, int quoted)
{
	if (x->infer && !quoted) {
		if (n == 0)
			return ts_buf_addstr(&x->json, "null");
		if (ts_json_is_number(p, n))
			return ts_buf_add(&x->json, p, n);
		if ((n == 4 && (!memcmp(p, "true", 4) || !memcmp(p, "TRUE", 4) || !memcmp(p, "True", 4))))
			return ts_buf_addstr(&x->json, "true");
		if ((n == 5 && (!memcmp(p, "false", 5) || !memcmp(p, "FALSE", 5) || !memcmp(p, "False", 5))))
			return ts_buf_addstr(&x->json, "false");
	}
	return ts_json_escape(&x->json, p, n);
}

static int on_csv(void *ud, const struct ts_csv_rec *r)
{
	struct ex *x = ud;
	struct ts_span raw = {r->raw, r->rawn};

	x->csv_item = (struct ts_item){.kind = TS_ITEM_TEXT, .v = raw, .line = r->line};
	x->item = &x->csv_item;
	if (!x->have_header && !x->fixed_columns && !r->err) {
		for (size_t i = 0; i < r->n; i++)
			if (add_column_n(x, r->data + r->f[i].off, r->f[i].len) < 0)
				return ts_error("out of memory");
		x->have_header = 1;
		return 0;
	}
	x->run.records_in++;
	(*x->rows)++;
	if (r->err) {
		reject(x, "bad_csv", raw, "%s", r->err);
		return 0;
	}
	if (r->n != x->ncolumns) {
		reject(x, "bad_csv", raw, "%zu field%s, the %s %zu", r->n, r->n == 1 ? "" : "s",
		       x->fixed_columns ? "columns are" : "header has", x->ncolumns);
		return 0;
	}
	ts_buf_reset(&x->json);
	ts_buf_addch(&x->json, '{');
	for (size_t i = 0; i < r->n; i++) {
		if (i)
			ts_buf_addch(&x->json, ',');
		if (ts_json_escape(&x->json, x->columns[i], strlen(x->columns[i])) < 0 ||
		    ts_buf_addch(&x->json, ':') < 0 ||
		    csv_value(x, r->data + r->f[i].off, r->f[i].len, r->f[i].quoted) < 0) {
			reject(x, errno == EILSEQ ? "bad_csv" : "too_large", raw, "%s",
			       errno == EILSEQ ? "not UTF-8" : "record over the size limit");
			return 0;
		}
	}
	ts_buf_addch(&x->json, '}');
	emit(x, (struct ts_span){x->json.data, x->json.len}, 0, 0, NULL, NULL);
	return 0;
}

static int on_csv_bytes(void *ud, struct ts_input *in, const char *p, size_t n)
{
	struct ex *x = ud;
	(void)in;
	return ts_csv_feed(&x->csv, p, n, on_csv, x) < 0 ? -1 : 0;
}

/* The end of one input: its last record; the next has its own header. */
static int on_csv_end(void *ud, struct ts_input *in)
{
	struct ex *x = ud;
	int rc = ts_csv_feed(&x->csv, NULL, 0, on_csv, x);

	(void)in;
	ts_csv_release(&x->csv);
	ts_csv_init(&x->csv, x->sep, x->run.max_record);
	if (!x->fixed_columns) {
		free_columns(x);
		x->have_header = 0;
	}
	return rc < 0 ? -1 : 0;
}

/* Trouble: stop reading, exit status 2. */
static int out_of_memory(struct ex *x)
{
	ts_run_fail(&x->run, 2);
	return ts_error("out of memory");
}

/* One line of a VPC Flow Logs or ELB access log input. */
static int on_log_line(void *ud, const struct ts_awslog_line *l)
{
	struct ex *x = ud;
	struct ts_span raw = {l->p, l->n};
	char err[256];
	int rc = 0;

	x->csv_item = (struct ts_item){.kind = l->truncated ? TS_ITEM_TOO_LARGE : TS_ITEM_TEXT,
				       .v = raw, .line = l->line};
	x->item = &x->csv_item;
	if (!l->truncated && ts_awslog_blank(l->p, l->n))
		return 0;
	if (x->vpc && !l->truncated && ts_awslog_vpc_is_header(l->p, l->n)) {
		/* the field names of the lines after it; a header is no record */
		rc = ts_awslog_vpc_set_header(&x->vpch, l->p, l->n, err, sizeof(err));
		if (rc < 0)
			return out_of_memory(x);
		if (rc == 0)
			return 0;
	}
	x->run.records_in++;
	(*x->lines)++;
	ts_run_tick(&x->run);
	if (l->truncated) {
		reject(x, "too_large", (struct ts_span){NULL, 0}, "line over the size limit");
		return 0;
	}
	if (x->vpc && rc == TS_AWSLOG_BAD) {
		reject(x, "bad_log_line", raw, "%s", err);
		return 0;
	}
	ts_buf_reset(&x->json);
	rc = x->vpc ? ts_awslog_vpc_record(&x->vpch, l->p, l->n, &x->json, err, sizeof(err))
		    : ts_awslog_elb_record(l->p, l->n, &x->json, err, sizeof(err));
	if (rc == TS_AWSLOG_BAD)
		reject(x, "bad_log_line", raw, "%s", err);
	else if (rc < 0 && errno == ENOMEM)
		return out_of_memory(x);
	else if (rc < 0)
		reject(x, "too_large", raw, "record over the size limit");
	else
		emit(x, (struct ts_span){x->json.data, x->json.len}, 0, 0, NULL, NULL);
	return 0;
}

static int on_log_bytes(void *ud, struct ts_input *in, const char *p, size_t n)
{
	struct ex *x = ud;
	(void)in;
	return n ? ts_awslog_lines_feed(&x->loglines, p, n, on_log_line, x) : 0;
}

/* The end of one input: its last line; the next has its own header. */
static int on_log_end(void *ud, struct ts_input *in)
{
	struct ex *x = ud;
	int rc = ts_awslog_lines_feed(&x->loglines, NULL, 0, on_log_line, x);

	(void)in;
	if (x->vpc) {
		ts_awslog_vpc_release(&x->vpch);
		if (ts_awslog_vpc_init(&x->vpch) < 0)
			return out_of_memory(x);
	}
	return rc;
}

static int on_value(void *ud, struct ts_input *in, const struct ts_item *it)
{
	struct ex *x = ud;

	(void)in;
	x->item = it;
	do_value(x, it);
	return 0;
}

int main(int argc, char **argv)
{
	static struct ex x;
	int first;

	ts_run_init(&x.run, cmd.name);
	ts_fields_init(&x.fields);
	for (int i = 0; i < TS_CWL_META_N; i++)
		ts_fields_meta_key(&x.fields, ts_cwl_meta_keys[i]);
	first = ts_opt_parse(&cmd, &x.run, argc, argv, set_opt, &x);
	if (first == TS_OPT_EXIT)
		return ts_run_finish(&x.run) ? 2 : 0;
	if (first == TS_OPT_USAGE)
		return 2;
	if (x.cwl && x.have_records)
		return ts_usage_error(&cmd, "--cwl and --records cannot be combined"), 2;
	if (x.sep && (x.cwl || x.have_records))
		return ts_usage_error(&cmd, "--csv and --tsv read text, not JSON: no --cwl or --records"), 2;
	if (x.vpc + x.elb + !!x.sep > 1)
		return ts_usage_error(&cmd, "one input format: --csv, --tsv, --vpc-flow or --elb"), 2;
	if ((x.vpc || x.elb) && (x.cwl || x.have_records))
		return ts_usage_error(&cmd, "--%s reads text, not JSON: no --cwl or --records",
				      x.vpc ? "vpc-flow" : "elb"), 2;
	if (!x.sep && (x.infer || x.fixed_columns))
		return ts_usage_error(&cmd, "%s needs --csv or --tsv", x.infer ? "--infer" : "--columns"), 2;
	if ((x.fields.add_meta || x.raw) && !x.cwl)
		return ts_usage_error(&cmd, "%s needs --cwl", x.raw ? "--raw" : "--meta"), 2;
	if (ts_fields_ready(&x.fields) < 0)
		return ts_usage_error(&cmd, "out of memory"), 2;
	if (x.raw && x.fields.shaping)
		return ts_usage_error(&cmd, "--raw writes bare messages: no fields to add, select or rename"), 2;
	if (x.raw && x.out_sep)
		return ts_usage_error(&cmd, "--raw writes bare messages, not %s",
				      x.out_sep == ',' ? "CSV" : "TSV"), 2;
	if (x.cwl) {
		x.events = ts_run_counter(&x.run, "events");
		x.dropped = ts_run_counter(&x.run, "dropped");
		x.payloads = ts_run_counter(&x.run, "payloads");
	}
	if (x.have_records) {
		x.arrays = ts_run_counter(&x.run, "arrays");
		x.elements = ts_run_counter(&x.run, "elements");
	}

	ts_input_init(&x.in, &x.run);
	ts_cwl_index_init(&x.cwlx);
	if (x.cwl) {
		x.in.rd.scan = ts_cwl_scan;
		x.in.rd.scan_ctx = &x.cwlx;
		x.cwlx.decode = 1; /* messages are read once, decoded as checked */
	}
	if (x.sep) {
		ts_csv_init(&x.csv, x.sep, x.run.max_record);
		ts_buf_init(&x.json, 0);
		x.in.on_bytes = on_csv_bytes;
		x.in.on_end = on_csv_end;
		x.rows = ts_run_counter(&x.run, "rows");
	}
	if (x.out_sep) {
		ts_buf_init(&x.shaped, x.run.out.buf.max);
		ts_buf_init(&x.cell, 0);
		if (put_header(&x) < 0)
			ts_run_fail(&x.run, 2);
	}
	if (x.vpc || x.elb) {
		ts_awslog_lines_init(&x.loglines, x.run.max_record);
		if (x.vpc && ts_awslog_vpc_init(&x.vpch) < 0)
			return ts_error("out of memory"), 2;
		ts_buf_init(&x.json, 0);
		x.in.on_bytes = on_log_bytes;
		x.in.on_end = on_log_end;
		x.lines = ts_run_counter(&x.run, "lines");
	}
	ts_input_run(&x.in, argv + first, on_value, &x);
	if (x.sep) {
		ts_csv_release(&x.csv);
		ts_buf_release(&x.json);
		free_columns(&x);
	}

	if (x.vpc || x.elb) {
		ts_awslog_lines_release(&x.loglines);
		ts_awslog_vpc_release(&x.vpch);
		ts_buf_release(&x.json);
	}
	if (x.out_sep)
		free_out_cols(&x);
	ts_input_release(&x.in);
	ts_cwl_index_release(&x.cwlx);
	ts_fields_release(&x.fields);
	if (x.have_records)
		ts_jpath_release(&x.records);
	return ts_run_finish(&x.run);
}
