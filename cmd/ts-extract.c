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
	{0},
};

static const struct ts_cmd cmd = {
	.name = "ts-extract",
	.synopsis = "[OPTION]... [FILE]...",
	.summary = "Turn envelopes into the records inside them: CloudWatch Logs payloads into\n"
		   "log events, arrays such as CloudTrail's Records into one record each.",
	.opts = options,
	.footer = "Examples:\n"
		  "  ts-decompress firehose/*.gz | ts-extract --cwl --meta\n"
		  "  ts-extract --records .Records --fields eventTime,eventName,awsRegion trail.json\n"
		  "  ts-extract --cwl --raw payloads.ndjson > messages.log\n",
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
	const struct ts_item *item; /* the input record being worked on */
};

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

	if (c && ev) {
		struct ts_span meta[TS_CWL_META_N];
		ts_cwl_event_meta(c, ev, meta);
		rc = ts_fields_write(&x->fields, &o->buf, &r, meta);
	} else {
		rc = ts_fields_write(&x->fields, &o->buf, &r, NULL);
	}
	if (rc == TS_FIELDS_NOT_OBJECT)
		reject(x, "not_an_object", rec, "record is not an object, cannot select or add fields");
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
	if ((x.fields.add_meta || x.raw) && !x.cwl)
		return ts_usage_error(&cmd, "%s needs --cwl", x.raw ? "--raw" : "--meta"), 2;
	if (ts_fields_ready(&x.fields) < 0)
		return ts_usage_error(&cmd, "out of memory"), 2;
	if (x.raw && x.fields.shaping)
		return ts_usage_error(&cmd, "--raw writes bare messages: no fields to add, select or rename"), 2;
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
	ts_input_run(&x.in, argv + first, on_value, &x);

	ts_input_release(&x.in);
	ts_cwl_index_release(&x.cwlx);
	ts_fields_release(&x.fields);
	if (x.have_records)
		ts_jpath_release(&x.records);
	return ts_run_finish(&x.run);
}
