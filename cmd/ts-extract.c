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
#include "jpath.h"
#include "members.h"
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

enum meta_key { M_GROUP, M_STREAM, M_OWNER, M_ID, M_TS, M_N };
static const char *const meta_keys[M_N] = {"logGroup", "logStream", "owner", "id", "timestamp"};

struct rename {
	char *from, *to;
};

struct ex {
	struct ts_run run;
	int cwl, meta, raw;
	const char *meta_names[M_N];
	int have_records;
	struct ts_jpath records;
	struct ts_jpath *parents, *fields;
	size_t nparents, nfields;
	struct rename *renames;
	size_t nrenames;
	int transform; /* any of meta, parents, fields, renames */
	int meta_fast; /* only --meta: see emit_meta() */
	struct ts_buf meta_quoted[M_N]; /* "name": */

	struct ts_reader rd;
	struct ts_members mem;
	struct ts_cwl_index cwlx;
	struct ts_json_keys keys; /* of the last message object */
	struct ts_buf tmp;
	uint64_t *events, *dropped;
	const char *name; /* current input */
	const struct ts_item *item;
};

/* Split a comma-separated list, keeping commas inside double quotes. */
static int split_list(const char *arg, int (*add)(struct ex *, const char *), struct ex *x)
{
	char *copy = strdup(arg), *p = copy, *start = copy;
	int inq = 0, rc = 0;

	if (!copy)
		return -1;
	for (;; p++) {
		if (*p == '"' && (p == copy || p[-1] != '\\'))
			inq = !inq;
		if ((*p == ',' && !inq) || !*p) {
			char end = *p;
			*p = '\0';
			if (*start && (rc = add(x, start)) < 0)
				break;
			if (!end)
				break;
			start = p + 1;
		}
	}
	free(copy);
	return rc;
}

static int add_path(struct ts_jpath **v, size_t *n, const char *s)
{
	char err[256];
	struct ts_jpath *nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -1;
	*v = nv;
	if (ts_jpath_parse(&nv[*n], s, err, sizeof(err)) < 0)
		return ts_usage_error(&cmd, "%s", err), -1;
	if (ts_jpath_is_multi(&nv[*n]) || !ts_jpath_last_key(&nv[*n], &(size_t){0})) {
		ts_jpath_release(&nv[*n]);
		return ts_usage_error(&cmd, "'%s': a field path must end in a key and have no []", s), -1;
	}
	(*n)++;
	return 0;
}

static int add_parent(struct ex *x, const char *s) { return add_path(&x->parents, &x->nparents, s); }
static int add_field(struct ex *x, const char *s) { return add_path(&x->fields, &x->nfields, s); }

static int add_rename(struct ex *x, const char *s)
{
	const char *eq = strchr(s, '=');
	struct rename *nv;

	if (!eq || eq == s || !eq[1])
		return ts_usage_error(&cmd, "--rename wants OLD=NEW, got '%s'", s), -1;
	nv = realloc(x->renames, (x->nrenames + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	x->renames = nv;
	nv[x->nrenames].from = strndup(s, (size_t)(eq - s));
	nv[x->nrenames].to = strdup(eq + 1);
	x->nrenames++;
	return 0;
}

static int set_opt(void *ud, int id, const char *arg)
{
	struct ex *x = ud;
	char err[256];

	switch (id) {
	case OPT_CWL: x->cwl = 1; return 0;
	case OPT_META: x->meta = 1; return 0;
	case OPT_RAW: x->raw = 1; return 0;
	case OPT_META_NAME: {
		const char *eq = strchr(arg, '=');
		for (int i = 0; eq && i < M_N; i++)
			if ((size_t)(eq - arg) == strlen(meta_keys[i]) &&
			    strncmp(arg, meta_keys[i], (size_t)(eq - arg)) == 0) {
				x->meta_names[i] = eq + 1;
				x->meta = 1;
				return 0;
			}
		return ts_usage_error(&cmd, "--meta-name wants KEY=NAME with KEY one of "
				      "logGroup, logStream, owner, id, timestamp; got '%s'", arg), -1;
	}
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
	case OPT_KEEP_PARENT: return split_list(arg, add_parent, x);
	case OPT_FIELDS: return split_list(arg, add_field, x);
	case OPT_RENAME: return split_list(arg, add_rename, x);
	}
	return -1;
}

static void reject(struct ex *x, const char *code, struct ts_span raw, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void reject(struct ex *x, const char *code, struct ts_span raw, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	struct ts_where w = {.file = x->name, .line = x->item->line, .offset = -1};

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ts_reject(&x->run, code, &w, raw.p, raw.n, 0, "%s:%llu: %s", x->name,
		  (unsigned long long)x->item->line, msg);
}

static void add_unless_present(struct ex *x, const char *name, size_t n, struct ts_span v,
			       size_t own)
{
	/* The record's own field of the same name wins over added ones. */
	for (size_t i = 0; i < own; i++)
		if (ts_member_is(&x->mem.m[i], name, n))
			return;
	ts_members_add(&x->mem, (struct ts_span){name, n}, 0, v);
}

/*
 * Write one output record: rec is the record (an object, or with
 * --cwl a message that is not one, then `{"message": <rec>}`), parent the
 * value it came out of, ev the CloudWatch Logs event (or NULL).
 */
/* Does the object have a member of this name?  keys lists its keys when the
 * scan noted them all; otherwise look. */
static int has_member(struct ts_span obj, const struct ts_json_keys *keys,
		      const char *name, size_t n)
{
	if (!keys->overflow) {
		for (size_t i = 0; i < keys->n; i++)
			if (ts_json_key_eq(keys->k[i], name, n))
				return 1;
		return 0;
	}
	return ts_json_obj_get(obj, name, n, &(struct ts_span){0});
}

/* --cwl --meta alone, the common case: the record's bytes, then the metadata
 * members appended before the closing brace. */
static void emit_meta(struct ex *x, struct ts_span rec, int rec_is_message, int has_ws,
		      const struct ts_cwl *c, const struct ts_cwl_event *ev)
{
	struct ts_buf *b = &x->run.out.buf;
	const struct ts_span vals[M_N] = {c->log_group, c->log_stream, c->owner,
					  ev->id, ev->timestamp};
	int first;

	if (rec_is_message) {
		ts_buf_add(b, "{\"message\":", 11);
		ts_buf_add(b, rec.p, rec.n);
		first = 0;
	} else {
		size_t at = b->len;
		if (has_ws)
			ts_json_minify(b, rec);
		else
			ts_buf_add(b, rec.p, rec.n);
		ts_buf_setlen(b, b->len - 1); /* the closing brace */
		first = b->len - at == 1;     /* it was {} */
	}
	for (int i = 0; i < M_N; i++) {
		if (!vals[i].n || !x->meta_names[i][0])
			continue;
		if (!rec_is_message && has_member(rec, &x->keys, x->meta_names[i],
						  strlen(x->meta_names[i])))
			continue; /* the record's own field wins */
		if (!first)
			ts_buf_addch(b, ',');
		first = 0;
		ts_buf_add(b, x->meta_quoted[i].data, x->meta_quoted[i].len);
		ts_buf_add(b, vals[i].p, vals[i].n);
	}
	ts_buf_addch(b, '}');
	ts_out_end_record(&x->run.out);
}

static void emit(struct ex *x, struct ts_span rec, int rec_is_message, int has_ws,
		 struct ts_span parent, const struct ts_cwl *c, const struct ts_cwl_event *ev)
{
	struct ts_out *o = &x->run.out;
	struct ts_span v;

	if (x->meta_fast && c && ev) {
		emit_meta(x, rec, rec_is_message, has_ws, c, ev);
		return;
	}

	if (!x->transform) {
		if (rec_is_message) {
			ts_buf_add(&o->buf, "{\"message\":", 11);
			ts_buf_add(&o->buf, rec.p, rec.n);
			ts_buf_addch(&o->buf, '}');
		} else if (has_ws) {
			ts_json_minify(&o->buf, rec);
		} else {
			ts_buf_add(&o->buf, rec.p, rec.n);
		}
		ts_out_end_record(o);
		return;
	}
	if (!rec_is_message && rec.p[0] != '{') {
		reject(x, "not_an_object", rec, "record is not an object, cannot select or add fields");
		return;
	}
	ts_members_reset(&x->mem);
	if (x->nfields) {
		for (size_t i = 0; i < x->nfields; i++) {
			size_t kn;
			const char *k = ts_jpath_last_key(&x->fields[i], &kn);
			if (rec_is_message) {
				if (kn == 7 && memcmp(k, "message", 7) == 0)
					ts_members_add(&x->mem, (struct ts_span){k, kn}, 0, rec);
			} else if (ts_jpath_get(&x->fields[i], rec, &v)) {
				ts_members_add(&x->mem, (struct ts_span){k, kn}, 0, v);
			}
		}
	} else if (rec_is_message) {
		ts_members_add(&x->mem, (struct ts_span){"message", 7}, 0, rec);
	} else {
		ts_members_add_object(&x->mem, rec);
	}
	size_t own = x->mem.n;
	if (x->meta && c && ev) {
		const struct ts_span vals[M_N] = {c->log_group, c->log_stream, c->owner,
						  ev->id, ev->timestamp};
		for (int i = 0; i < M_N; i++)
			if (vals[i].n && x->meta_names[i][0])
				add_unless_present(x, x->meta_names[i], strlen(x->meta_names[i]),
						   vals[i], own);
	}
	for (size_t i = 0; i < x->nparents; i++) {
		size_t kn;
		const char *k = ts_jpath_last_key(&x->parents[i], &kn);
		if (ts_jpath_get(&x->parents[i], parent, &v))
			add_unless_present(x, k, kn, v, own);
	}
	for (size_t r = 0; r < x->nrenames; r++) {
		long i = ts_members_find(&x->mem, x->renames[r].from, strlen(x->renames[r].from));
		if (i >= 0) {
			x->mem.m[i].key = (struct ts_span){x->renames[r].to, strlen(x->renames[r].to)};
			x->mem.m[i].quoted = 0;
		}
	}
	ts_members_write(&x->mem, &o->buf);
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
					  x->rd.max_depth, &x->keys))
			emit(x, obj, 0, has_ws, v, &ix->env, ev);
		else
			emit(x, ev->message, 1, 0, v, &ix->env, ev);
	}
}

struct rec_ctx {
	struct ex *x;
	struct ts_span parent;
	int has_ws;
	size_t n;
};

static int each_record(struct rec_ctx *rc, struct ts_span e)
{
	rc->n++;
	emit(rc->x, e, 0, rc->has_ws, rc->parent, NULL, NULL);
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
		reject(rc->x, "not_an_array", rc->parent, "%s is not an array", rc->x->records.text);
		return 0;
	}
	ts_json_iter_init(&it, v);
	rc->n++; /* an empty array is a record with nothing inside, not an error */
	while (ts_json_arr_next(&it, &e))
		each_record(rc, e);
	return 0;
}

static void do_value(struct ex *x, const struct ts_item *it)
{
	if (x->cwl) {
		do_cwl(x, it->v);
		return;
	}
	if (x->have_records) {
		struct rec_ctx rc = {.x = x, .parent = it->v, .has_ws = it->has_ws};
		ts_jpath_each(&x->records, it->v, on_records, &rc);
		if (!rc.n)
			reject(x, "missing_field", it->v, "no %s in record", x->records.text);
		return;
	}
	emit(x, it->v, 0, it->has_ws, it->v, NULL, NULL);
}

static void do_file(struct ex *x, const char *path)
{
	int fd = ts_open_input(path);
	struct ts_item it;
	uint64_t done = x->run.bytes_in; /* bytes of the inputs before this one */

	x->name = ts_input_name(path);
	if (fd < 0) {
		ts_error("cannot open '%s': %s", path, strerror(errno));
		ts_run_fail(&x->run, 2);
		return;
	}
	x->item = &it;
	ts_reader_reset(&x->rd, ts_source_fd, &fd);
	while (ts_reader_next(&x->rd, &it) != TS_ITEM_EOF) {
		if (it.kind == TS_ITEM_IO_ERROR) {
			ts_error("%s: read error: %s", x->name, strerror(it.sys_errno));
			ts_run_fail(&x->run, 2);
			break;
		}
		x->run.records_in++;
		x->run.bytes_in = done + x->rd.base + x->rd.pos; /* progress */
		ts_run_tick(&x->run);
		if (!ts_reject_item(&x->run, x->name, &x->rd, &it))
			do_value(x, &it);
	}
	x->run.bytes_in = done + x->rd.base + x->rd.pos;
	if (fd > 0)
		close(fd);
}

int main(int argc, char **argv)
{
	static struct ex x;
	int first;

	ts_run_init(&x.run, cmd.name);
	memcpy(x.meta_names, meta_keys, sizeof(meta_keys));
	first = ts_opt_parse(&cmd, &x.run, argc, argv, set_opt, &x);
	if (first == TS_OPT_EXIT)
		return ts_run_finish(&x.run) ? 2 : 0;
	if (first == TS_OPT_USAGE)
		return 2;
	if (x.cwl && x.have_records)
		return ts_usage_error(&cmd, "--cwl and --records cannot be combined"), 2;
	if ((x.meta || x.raw) && !x.cwl)
		return ts_usage_error(&cmd, "%s needs --cwl", x.raw ? "--raw" : "--meta"), 2;
	if (x.raw && (x.meta || x.nfields || x.nparents || x.nrenames))
		return ts_usage_error(&cmd, "--raw writes bare messages: no fields to add, select or rename"), 2;
	x.transform = x.meta || x.nfields || x.nparents || x.nrenames;
	x.meta_fast = x.meta && !x.nfields && !x.nparents && !x.nrenames;
	for (int i = 0; i < M_N; i++) {
		ts_buf_init(&x.meta_quoted[i], 0);
		if (strcmp(x.meta_names[i], "message") == 0)
			x.meta_fast = 0; /* may collide with {"message": ...} */
		if (ts_json_escape(&x.meta_quoted[i], x.meta_names[i], strlen(x.meta_names[i])) < 0)
			return ts_usage_error(&cmd, "--meta-name: '%s' is not UTF-8", x.meta_names[i]), 2;
		ts_buf_addch(&x.meta_quoted[i], ':');
	}
	if (x.cwl) {
		x.events = ts_run_counter(&x.run, "events");
		x.dropped = ts_run_counter(&x.run, "dropped");
	}

	ts_reader_init(&x.rd, ts_source_fd, NULL, x.run.max_record, x.run.max_depth);
	ts_cwl_index_init(&x.cwlx);
	if (x.cwl) {
		x.rd.scan = ts_cwl_scan;
		x.rd.scan_ctx = &x.cwlx;
		x.cwlx.decode = 1; /* messages are read once, decoded as checked */
	}
	ts_members_init(&x.mem);
	ts_buf_init(&x.tmp, 0);
	char *dash[] = {(char *)"-", NULL};
	for (char **f = first < argc ? argv + first : dash; *f; f++)
		do_file(&x, *f);

	ts_reader_release(&x.rd);
	ts_members_release(&x.mem);
	ts_cwl_index_release(&x.cwlx);
	for (int i = 0; i < M_N; i++)
		ts_buf_release(&x.meta_quoted[i]);
	ts_buf_release(&x.tmp);
	for (size_t i = 0; i < x.nparents; i++)
		ts_jpath_release(&x.parents[i]);
	for (size_t i = 0; i < x.nfields; i++)
		ts_jpath_release(&x.fields[i]);
	for (size_t i = 0; i < x.nrenames; i++) {
		free(x.renames[i].from);
		free(x.renames[i].to);
	}
	free(x.parents);
	free(x.fields);
	free(x.renames);
	if (x.have_records)
		ts_jpath_release(&x.records);
	return ts_run_finish(&x.run);
}
