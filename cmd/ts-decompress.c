/*
 * ts-decompress — decompress what log pipelines carry and write NDJSON.
 * See man/ts-decompress.1.
 */
#include <errno.h>
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "decomp.h"
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
	OPT_MAX_SIZE,
	OPT_MAX_RATIO,
};

static const struct ts_option options[] = {
	{"format", OPT_FORMAT, "FMT", "input format instead of detecting it: gzip, zlib, deflate, "
				      "bzip2, xz, zstd, lz4, archive, plain"},
	{"field", OPT_FIELD, "PATH", "decode the base64 field PATH of each record (decompressing "
				     "gzip/zlib) and write its content"},
	{"keep", OPT_KEEP, NULL, "with --field: write the record with the field replaced by its content"},
	{"text", OPT_TEXT, NULL, "write lines that are not JSON as JSON strings (default with --field)"},
	{"raw", OPT_RAW, NULL, "write the decompressed bytes unchanged"},
	{"max-size", OPT_MAX_SIZE, "SIZE", "stop an input, entry or field decompressing to more than SIZE"},
	{"max-ratio", OPT_MAX_RATIO, "N", "stop one that expands more than N times (default 1000)"},
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

	struct ts_reader rd;       /* the input stream of records or content */
	struct ts_reader inner;    /* --field: the decoded content */
	struct libdeflate_decompressor *ld;
	struct ts_buf decoded, inflated, tmp;
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
	case OPT_MAX_SIZE:
		if (ts_parse_size(arg, &z->lim.max_size) < 0 || !z->lim.max_size)
			return ts_usage_error(&cmd, "invalid --max-size '%s'", arg), -1;
		return 0;
	case OPT_MAX_RATIO:
		if (ts_parse_u64(arg, &z->lim.max_ratio) < 0)
			return ts_usage_error(&cmd, "invalid --max-ratio '%s'", arg), -1;
		return 0;
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

/*
 * Whole-input mode: one stream of decompressed bytes named `name`.
 */
static void normalise_stream(struct dz *z, struct ts_decomp *d, const char *name)
{
	struct ts_item it;
	struct ts_where w = {.file = name, .offset = -1};

	ts_reader_reset(&z->rd, ts_decomp_read, d);
	while (ts_reader_next(&z->rd, &it) != TS_ITEM_EOF) {
		w.line = it.line;
		switch (it.kind) {
		case TS_ITEM_VALUE:
			z->run.records_in++;
			emit_value(z, &it);
			break;
		case TS_ITEM_TEXT:
			z->run.records_in++;
			if (emit_text(z, it.v) < 0)
				ts_reject(&z->run, "invalid_utf8", &w, it.v.p, it.v.n, 0,
					  "%s:%llu: line is not valid UTF-8 text", name,
					  (unsigned long long)it.line);
			break;
		case TS_ITEM_ERROR:
		case TS_ITEM_TOO_LARGE:
			z->run.records_in++;
			ts_reject_item(&z->run, name, &z->rd, &it);
			break;
		case TS_ITEM_IO_ERROR: /* reported by the caller from d */
		case TS_ITEM_EOF:
			return;
		}
		ts_run_tick(&z->run);
	}
}

static void raw_stream(struct dz *z, struct ts_decomp *d)
{
	const char *p;
	long n;

	while ((n = ts_decomp_chunk(d, &p)) > 0)
		if (ts_out_write(&z->run.out, p, (size_t)n) < 0)
			return;
}

static void do_file(struct dz *z, const char *path)
{
	const char *name = ts_input_name(path);
	int fd = ts_open_input(path);
	struct ts_decomp *d;
	const char *entry;
	int64_t off;

	if (fd < 0) {
		ts_error("cannot open '%s': %s", path, strerror(errno));
		ts_run_fail(&z->run, 2);
		return;
	}
	d = ts_decomp_open(ts_source_fd, &fd, z->format, &z->lim);
	if (!d) {
		ts_error("%s: %s", name, strerror(errno));
		ts_run_fail(&z->run, 2);
		goto out;
	}
	int rc;
	while ((rc = ts_decomp_next_entry(d, &entry)) == 1) {
		char ename[4096];
		const char *n = name;
		if (entry) {
			snprintf(ename, sizeof(ename), "%s:%s", name, entry);
			n = ename;
		}
		if (z->raw)
			raw_stream(z, d);
		else
			normalise_stream(z, d, n);
		if (ts_decomp_error(d, NULL))
			break;
	}
	const char *msg = ts_decomp_error(d, &off);
	if (msg) {
		struct ts_where w = {.file = name, .offset = off};
		if (ts_decomp_error_is_io(d)) {
			ts_error("%s: %s", name, msg);
			ts_run_fail(&z->run, 2);
		} else {
			if (z->run.errors_path || z->raw)
				ts_warn("%s: %s at byte offset %lld", name, msg, (long long)off);
			ts_reject(&z->run, strncmp(msg, "decompression bomb", 18) == 0
						   ? "decompression_bomb" : "corrupt_input",
				  &w, NULL, 0, 0, "%s: %s at byte offset %lld", name, msg,
				  (long long)off);
		}
	}
	z->run.bytes_in += ts_decomp_bytes_in(d);
	ts_decomp_free(d);
out:
	if (fd > 0)
		close(fd);
}

/* --- --field ------------------------------------------------------------ */

struct field_ctx {
	struct dz *z;
	const struct ts_item *rec;
	const char *name;
	size_t matches;
	/* --keep: where the output of this record starts, how far the record
	 * has been copied, and whether a field failed */
	size_t mark;
	const char *cursor;
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
			lim.max_size = z->rd.max_record;
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

static int on_field(void *ud, struct ts_span v)
{
	struct field_ctx *fc = ud;
	struct dz *z = fc->z;
	const struct ts_item *rec = fc->rec;
	struct ts_where w = {.file = fc->name, .line = rec->line, .offset = -1,
			     .path = z->field.text};
	struct ts_out *o = &z->run.out;
	struct ts_span content, src;
	const char *code, *why;
	size_t bad = 0, mark = o->buf.len;
	struct ts_item it;

	fc->matches++;
	if (decode_field(z, v, &content, &code, &why, &bad) < 0) {
		if (z->keep) {
			ts_buf_setlen(&o->buf, fc->mark);
			fc->failed = 1;
		}
		if (strcmp(code, "bad_base64") == 0)
			ts_reject(&z->run, code, &w, rec->v.p, rec->v.n, 0,
				  "%s:%llu: %s: not valid base64 at character %zu", fc->name,
				  (unsigned long long)rec->line, z->field.text, bad + 1);
		else
			ts_reject(&z->run, code, &w, rec->v.p, rec->v.n, 0, "%s:%llu: %s: %s",
				  fc->name, (unsigned long long)rec->line, z->field.text, why);
		return z->keep; /* --keep: the whole record is rejected */
	}
	if (z->raw) {
		ts_out_write(o, content.p, content.n);
		return 0;
	}
	if (z->keep) {
		/* The record up to this field, then its content in its place;
		 * field_stream() writes the rest. */
		struct ts_json_scan sc;
		const char *s = ts_json_skip_ws(content.p, content.p + content.n);
		int one = s < content.p + content.n &&
			  ts_json_scan(s, content.p + content.n, 1, z->rd.max_depth, &sc) == TS_JSON_OK &&
			  ts_json_skip_ws(sc.end, content.p + content.n) == content.p + content.n;
		ts_json_minify(&o->buf, (struct ts_span){fc->cursor, (size_t)(v.p - fc->cursor)});
		fc->cursor = v.p + v.n;
		if (one)
			ts_json_minify(&o->buf, (struct ts_span){s, (size_t)(sc.end - s)});
		else if (ts_json_escape(&o->buf, content.p, content.n) < 0) {
			ts_buf_setlen(&o->buf, fc->mark);
			ts_reject(&z->run, "binary_data", &w, rec->v.p, rec->v.n, 0,
				  "%s:%llu: %s: decoded content is neither JSON nor UTF-8 text",
				  fc->name, (unsigned long long)rec->line, z->field.text);
			fc->failed = 1;
			return 1;
		}
		return 0;
	}
	/* Each JSON value of the content one per line, other lines as strings. */
	src = content;
	ts_reader_reset(&z->inner, ts_source_mem, &src);
	while (ts_reader_next(&z->inner, &it) != TS_ITEM_EOF) {
		if (it.kind == TS_ITEM_VALUE) {
			emit_value(z, &it);
		} else if (it.kind == TS_ITEM_TEXT && emit_text(z, it.v) == 0) {
			;
		} else {
			/* Drop what this record already wrote: the whole
			 * record goes to the error output instead. */
			ts_buf_setlen(&o->buf, mark >= o->buf.len ? o->buf.len : mark);
			ts_reject(&z->run, it.kind == TS_ITEM_TEXT ? "binary_data" : "bad_json",
				  &w, rec->v.p, rec->v.n, 0, "%s:%llu: %s: decoded content %s",
				  fc->name, (unsigned long long)rec->line, z->field.text,
				  it.kind == TS_ITEM_TEXT ? "is neither JSON nor UTF-8 text"
							  : it.err ? it.err : "is not JSON");
			return 0;
		}
	}
	return 0;
}

static void field_stream(struct dz *z, struct ts_decomp *d, const char *name)
{
	struct ts_item it;
	struct ts_where w = {.file = name, .offset = -1};
	struct field_ctx fc = {.z = z, .name = name};

	ts_reader_reset(&z->rd, ts_decomp_read, d);
	while (ts_reader_next(&z->rd, &it) != TS_ITEM_EOF) {
		w.line = it.line;
		if (it.kind == TS_ITEM_IO_ERROR)
			return;
		z->run.records_in++;
		ts_run_tick(&z->run);
		if (ts_reject_item(&z->run, name, &z->rd, &it))
			continue;
		fc.rec = &it;
		fc.matches = 0;
		fc.mark = z->run.out.buf.len;
		fc.cursor = it.v.p;
		fc.failed = 0;
		ts_jpath_each(&z->field, it.v, on_field, &fc);
		if (z->keep && fc.matches && !fc.failed) {
			ts_json_minify(&z->run.out.buf,
				       (struct ts_span){fc.cursor, (size_t)(it.v.p + it.v.n - fc.cursor)});
			ts_out_end_record(&z->run.out);
		}
		if (!fc.matches) {
			w.path = z->field.text;
			ts_reject(&z->run, "missing_field", &w, it.v.p, it.v.n, 0,
				  "%s:%llu: no field %s in record", name,
				  (unsigned long long)it.line, z->field.text);
			w.path = NULL;
		}
	}
}

int main(int argc, char **argv)
{
	static struct dz z;
	int first;

	ts_run_init(&z.run, cmd.name);
	z.lim.max_ratio = 1000;
	first = ts_opt_parse(&cmd, &z.run, argc, argv, set_opt, &z);
	if (first == TS_OPT_EXIT)
		return ts_run_finish(&z.run) ? 2 : 0;
	if (first == TS_OPT_USAGE)
		return 2;
	if (z.keep && !z.have_field)
		return ts_usage_error(&cmd, "--keep needs --field"), 2;
	if (z.raw && (z.text || z.keep))
		return ts_usage_error(&cmd, "--raw cannot be combined with --text or --keep"), 2;

	ts_reader_init(&z.rd, ts_source_fd, NULL, z.run.max_record, z.run.max_depth);
	z.rd.text = z.text && !z.have_field;
	ts_reader_init(&z.inner, ts_source_mem, NULL, z.run.max_record, z.run.max_depth);
	z.inner.text = 1;
	ts_buf_init(&z.decoded, 0);
	ts_buf_init(&z.inflated, 0);
	ts_buf_init(&z.tmp, 0);
	if (z.have_field && !(z.ld = libdeflate_alloc_decompressor())) {
		ts_error("out of memory");
		return 2;
	}

	char *dash[] = {(char *)"-", NULL};
	char **files = first < argc ? argv + first : dash;
	for (; *files; files++) {
		if (!z.have_field) {
			do_file(&z, *files);
			continue;
		}
		/* --field: the records themselves may be compressed, too */
		const char *name = ts_input_name(*files);
		int fd = ts_open_input(*files);
		if (fd < 0) {
			ts_error("cannot open '%s': %s", *files, strerror(errno));
			ts_run_fail(&z.run, 2);
			continue;
		}
		struct ts_decomp *d = ts_decomp_open(ts_source_fd, &fd, TS_FMT_AUTO, &z.lim);
		const char *entry, *msg;
		int64_t off;
		if (!d) {
			ts_error("%s: %s", name, strerror(errno));
			ts_run_fail(&z.run, 2);
		} else {
			while (ts_decomp_next_entry(d, &entry) == 1 && !ts_decomp_error(d, NULL))
				field_stream(&z, d, name);
			if ((msg = ts_decomp_error(d, &off))) {
				ts_error("%s: %s at byte offset %lld", name, msg, (long long)off);
				ts_run_fail(&z.run, ts_decomp_error_is_io(d) ? 2 : 1);
			}
			z.run.bytes_in += ts_decomp_bytes_in(d);
			ts_decomp_free(d);
		}
		if (fd > 0)
			close(fd);
	}

	if (z.ld)
		libdeflate_free_decompressor(z.ld);
	ts_reader_release(&z.rd);
	ts_reader_release(&z.inner);
	ts_buf_release(&z.decoded);
	ts_buf_release(&z.inflated);
	ts_buf_release(&z.tmp);
	if (z.have_field)
		ts_jpath_release(&z.field);
	return ts_run_finish(&z.run);
}
