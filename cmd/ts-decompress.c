/*
 * ts-decompress — decompress what log pipelines carry and write NDJSON.
 * See man/ts-decompress.1.
 */
#include <errno.h>
#include <libdeflate.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "decomp.h"
#include "input.h"
#include "jpath.h"
#include "opt.h"
#include "reader.h"
#include "util.h"

enum {
	OPT_FORMAT = 'f',
	OPT_FIELD = 0x100,
	OPT_KEEP,
	OPT_TEXT,
	OPT_RAW,
};

static const struct ts_option options[] = {
	{"format", OPT_FORMAT, "FMT", "input format instead of detecting it: gzip, zlib, deflate, "
				      "bzip2, xz, zstd, lz4, archive, plain"},
	{"field", OPT_FIELD, "PATH", "decode the base64 field PATH of each record (decompressing "
				     "gzip/zlib) and write its content"},
	{"keep", OPT_KEEP, NULL, "with --field: write the record with the field replaced by its content"},
	{"text", OPT_TEXT, NULL, "write lines that are not JSON as JSON strings (default with --field)"},
	{"raw", OPT_RAW, NULL, "write the decompressed bytes unchanged"},
	{0},
};

static const struct ts_cmd cmd = {
	.name = "ts-decompress",
	.synopsis = "[OPTION]... [FILE]...",
	.summary = "Decompress gzip (multi-member), zlib, deflate, bzip2, xz, zstd, lz4 and\n"
		   "archives, or base64 fields of records, and write one JSON value per line.",
	.opts = options,
	.footer = "Examples:\n"
		  "  ts-decompress firehose/*.gz | ts-extract --cwl\n"
		  "  ts-decompress --field awslogs.data lambda-event.json\n"
		  "  ts-decompress --field data --keep kinesis-records.ndjson\n",
};

struct dz {
	struct ts_run run;
	enum ts_format format;
	struct ts_jpath field;
	int have_field, keep, text, raw;
	struct ts_limits lim;

	struct ts_input in;        /* the inputs: records or whole content */
	struct ts_reader inner;    /* --field: the decoded content */
	uint64_t *n_decoded, *dropped_empty; /* --field: counters */
	struct libdeflate_decompressor *ld;
	struct ts_buf decoded, inflated, tmp;
	struct ts_buf rec;         /* --field: what one record gives */
};

static int set_opt(void *ud, int id, const char *arg)
{
	struct dz *z = ud;
	char err[256];

	switch (id) {
	case OPT_FORMAT:
		if (ts_format_parse(arg, &z->format) < 0)
			return ts_usage_error(&cmd, "unknown --format '%s'", arg), -1;
		return 0;
	case OPT_FIELD:
		if (z->have_field)
			ts_jpath_release(&z->field);
		if (ts_jpath_parse(&z->field, arg, err, sizeof(err)) < 0)
			return ts_usage_error(&cmd, "--field: %s", err), -1;
		z->have_field = 1;
		return 0;
	case OPT_KEEP: z->keep = 1; return 0;
	case OPT_TEXT: z->text = 1; return 0;
	case OPT_RAW: z->raw = 1; return 0;
	}
	return -1;
}

/* Write one value: compact, one line. */
static void emit_value(struct dz *z, const struct ts_item *it)
{
	struct ts_out *o = &z->run.out;

	if (it->has_ws)
		ts_json_minify(&o->buf, it->v);
	else
		ts_buf_add(&o->buf, it->v.p, it->v.n);
	ts_out_end_record(o);
}

/* A text line as a JSON string; 0, or -1 when it is not UTF-8. */
static int emit_text(struct dz *z, struct ts_span s)
{
	struct ts_out *o = &z->run.out;

	if (ts_json_escape(&o->buf, s.p, s.n) < 0)
		return -1;
	ts_out_end_record(o);
	return 0;
}

/* Whole-input mode: each value or text line of the decompressed inputs. */
static int on_value(void *ud, struct ts_input *in, const struct ts_item *it)
{
	struct dz *z = ud;

	if (it->kind == TS_ITEM_VALUE)
		emit_value(z, it);
	else if (emit_text(z, it->v) < 0)
		ts_input_reject(in, it, "invalid_utf8", (struct ts_span){0},
				"line is not valid UTF-8 text");
	return 0;
}

/* --raw: the decompressed bytes as they are. */
static int on_bytes(void *ud, struct ts_input *in, const char *p, size_t n)
{
	struct dz *z = ud;

	(void)in;
	ts_out_write(&z->run.out, p, n);
	return 0;
}

/* --- --field ------------------------------------------------------------ */

/*
 * One input record: each field the path selects is decoded in turn.  What a
 * record gives is built in z->rec first and written only when all of it
 * decoded, so a record is either written whole or rejected whole.
 */
struct field_ctx {
	struct dz *z;
	struct ts_input *in;
	const struct ts_item *rec;
	size_t matches;
	uint64_t lines;     /* values written into z->rec */
	const char *cursor; /* --keep: how far the record has been copied */
	int failed;
};

/* Decode one field value into z->inflated (or z->decoded); returns the
 * content span, or sets *code and *why. */
static int decode_field(struct dz *z, struct ts_span v, struct ts_span *content,
			const char **code, const char **why, size_t *bad)
{
	struct ts_span b64 = {v.p + 1, v.n - 2};

	if (v.n < 2 || v.p[0] != '"') {
		*code = "field_not_string";
		*why = "field is not a string";
		return -1;
	}
	ts_buf_reset(&z->decoded);
	if (ts_json_str_has_escape(v)) {
		ts_buf_reset(&z->tmp);
		ts_json_unescape(&z->tmp, v);
		b64.p = z->tmp.data;
		b64.n = z->tmp.len;
	}
	if (ts_base64_decode(&z->decoded, b64.p, b64.n, bad) < 0) {
		*code = "bad_base64";
		*why = "field is not valid base64";
		return -1;
	}
	enum ts_format f = ts_format_detect((unsigned char *)z->decoded.data, z->decoded.len);
	if (f == TS_FMT_GZIP || f == TS_FMT_ZLIB) {
		struct ts_limits lim = z->lim;
		if (!lim.max_size)
			lim.max_size = z->in.rd.max_record;
		ts_buf_reset(&z->inflated);
		if (ts_inflate_mem(z->ld, f, z->decoded.data, z->decoded.len, &z->inflated,
				   &lim, why) < 0) {
			*code = strncmp(*why, "decompression bomb", 18) == 0
					? "decompression_bomb" : "bad_compressed_data";
			return -1;
		}
		content->p = z->inflated.data;
		content->n = z->inflated.len;
	} else {
		content->p = z->decoded.data;
		content->n = z->decoded.len;
	}
	return 0;
}

static int field_failed(struct field_ctx *fc, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int field_failed(struct field_ctx *fc, const char *code, const char *fmt, ...)
{
	char cause[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cause, sizeof(cause), fmt, ap);
	va_end(ap);
	fc->failed = 1;
	ts_input_reject(fc->in, fc->rec, code, (struct ts_span){0}, "%s: %s",
			fc->z->field.text, cause);
	return 1; /* no more fields of this record */
}

/* --keep: the record up to this field, then its content in its place. */
static int keep_field(struct field_ctx *fc, struct ts_span v, struct ts_span content)
{
	struct dz *z = fc->z;
	struct ts_json_scan sc;
	const char *end = content.p + content.n;
	const char *s = ts_json_skip_ws(content.p, end);
	int one = s < end && ts_json_scan(s, end, 1, z->in.rd.max_depth, &sc) == TS_JSON_OK &&
		  ts_json_skip_ws(sc.end, end) == end;

	ts_json_minify(&z->rec, (struct ts_span){fc->cursor, (size_t)(v.p - fc->cursor)});
	fc->cursor = v.p + v.n;
	if (one)
		ts_json_minify(&z->rec, (struct ts_span){s, (size_t)(sc.end - s)});
	else if (ts_json_escape(&z->rec, content.p, content.n) < 0)
		return field_failed(fc, "binary_data", "decoded content is neither JSON nor UTF-8 text");
	return 0;
}

/* Each JSON value of the content one per line, other lines as strings. */
static int expand_field(struct field_ctx *fc, struct ts_span content)
{
	struct dz *z = fc->z;
	struct ts_span src = content;
	struct ts_item it;

	ts_reader_reset(&z->inner, ts_source_mem, &src);
	while (ts_reader_next(&z->inner, &it) != TS_ITEM_EOF) {
		if (it.kind == TS_ITEM_VALUE) {
			if (it.has_ws)
				ts_json_minify(&z->rec, it.v);
			else
				ts_buf_add(&z->rec, it.v.p, it.v.n);
		} else if (it.kind != TS_ITEM_TEXT || ts_json_escape(&z->rec, it.v.p, it.v.n) < 0) {
			return field_failed(fc, it.kind == TS_ITEM_TEXT ? "binary_data" : "bad_json",
					    "decoded content %s",
					    it.kind == TS_ITEM_TEXT ? "is neither JSON nor UTF-8 text"
					    : it.err ? it.err : "is not JSON");
		}
		ts_buf_addch(&z->rec, '\n');
		fc->lines++;
	}
	return 0;
}

static int on_field(void *ud, struct ts_span v)
{
	struct field_ctx *fc = ud;
	struct dz *z = fc->z;
	struct ts_span content;
	const char *code, *why;
	size_t bad = 0;

	fc->matches++;
	if (decode_field(z, v, &content, &code, &why, &bad) < 0) {
		if (strcmp(code, "bad_base64") == 0)
			return field_failed(fc, code, "not valid base64 at character %zu", bad + 1);
		return field_failed(fc, code, "%s", why);
	}
	if (z->keep)
		return keep_field(fc, v, content);
	if (z->raw) {
		ts_buf_add(&z->rec, content.p, content.n);
		fc->lines += content.n > 0;
		return 0;
	}
	return expand_field(fc, content);
}

static int on_record(void *ud, struct ts_input *in, const struct ts_item *it)
{
	struct dz *z = ud;
	struct field_ctx fc = {.z = z, .in = in, .rec = it, .cursor = it->v.p};

	ts_buf_reset(&z->rec);
	ts_jpath_each(&z->field, it->v, on_field, &fc);
	if (fc.failed)
		return 0;
	if (!fc.matches) {
		ts_input_reject(in, it, "missing_field", (struct ts_span){0}, "no field %s in record",
				z->field.text);
		return 0;
	}
	if (z->keep) {
		ts_json_minify(&z->rec, (struct ts_span){fc.cursor,
							 (size_t)(it->v.p + it->v.n - fc.cursor)});
		ts_buf_addch(&z->rec, '\n');
		fc.lines = 1;
	}
	if (!fc.lines) { /* every field was empty: nothing to write */
		(*z->dropped_empty)++;
		return 0;
	}
	(*z->n_decoded)++;
	ts_out_write(&z->run.out, z->rec.data, z->rec.len);
	if (!z->run.out.err)
		z->run.out.records += fc.lines;
	return 0;
}

int main(int argc, char **argv)
{
	static struct dz z;
	int first;

	ts_run_init(&z.run, cmd.name);
	first = ts_opt_parse(&cmd, &z.run, argc, argv, set_opt, &z);
	if (first == TS_OPT_EXIT)
		return ts_run_finish(&z.run) ? 2 : 0;
	if (first == TS_OPT_USAGE)
		return 2;
	if (z.keep && !z.have_field)
		return ts_usage_error(&cmd, "--keep needs --field"), 2;
	if (z.raw && (z.text || z.keep))
		return ts_usage_error(&cmd, "--raw cannot be combined with --text or --keep"), 2;

	ts_input_init(&z.in, &z.run);
	z.lim = z.run.lim; /* also for --field contents */
	ts_reader_init(&z.inner, ts_source_mem, NULL, z.run.max_record, z.run.max_depth);
	z.inner.text = 1;
	ts_buf_init(&z.decoded, 0);
	ts_buf_init(&z.inflated, 0);
	ts_buf_init(&z.tmp, 0);
	ts_buf_init(&z.rec, 0);
	if (z.have_field) {
		/* the records themselves may be compressed, too */
		if (!(z.ld = libdeflate_alloc_decompressor())) {
			ts_error("out of memory");
			return 2;
		}
		z.in.path = z.field.text;
		z.n_decoded = ts_run_counter(&z.run, "decoded");
		z.dropped_empty = ts_run_counter(&z.run, "dropped_empty");
		ts_input_run(&z.in, argv + first, on_record, &z);
	} else {
		z.in.format = z.format;
		z.in.rd.text = z.text;
		if (z.raw)
			z.in.on_bytes = on_bytes;
		ts_input_run(&z.in, argv + first, on_value, &z);
	}

	if (z.ld)
		libdeflate_free_decompressor(z.ld);
	ts_input_release(&z.in);
	ts_reader_release(&z.inner);
	ts_buf_release(&z.rec);
	ts_buf_release(&z.decoded);
	ts_buf_release(&z.inflated);
	ts_buf_release(&z.tmp);
	if (z.have_field)
		ts_jpath_release(&z.field);
	return ts_run_finish(&z.run);
}
