/*
 * fuzz_fields.c — record shaping (fields.h).  The input is lines: a flags
 * byte, then the --fields, --keep-parent, --rename and --meta-name lists,
 * then a record.  Lists that do not parse are left out.  Whatever was
 * asked, a record written is one valid JSON value appended to what the
 * buffer held (an object whenever anything was asked); a record that cannot
 * be shaped leaves the buffer as it was; without any request the record
 * comes out as it went in, minified.  Metadata alone, spliced into the
 * record, must write the same bytes as the same request rebuilt member by
 * member.
 */
#include <string.h>

#include "fields.h"
#include "fuzz.h"

static const char *const keys[] = {"logGroup", "logStream", "owner", "id", "timestamp"};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))
static const struct ts_span meta[NKEYS] = {
	{"\"g\"", 3}, {"\"s\\n\"", 5}, {"", 0}, {"\"1\"", 3}, {"[ 7 ]", 5}};

/* The next line of the input, NUL-terminated in line (cut to its size). */
static const char *next_line(const char **p, const char *e, char *line, size_t size)
{
	const char *nl = memchr(*p, '\n', (size_t)(e - *p));
	size_t n = (size_t)((nl ? nl : e) - *p);

	if (n >= size)
		n = size - 1;
	memcpy(line, *p, n);
	line[n] = '\0';
	*p = nl ? nl + 1 : e;
	return line;
}

/* Each request the lines make, on f; rebuild adds one that forces the
 * member-by-member path without changing the output. */
static void setup(struct ts_fields *f, unsigned flags, char lines[4][256], int rebuild)
{
	char err[256];

	ts_fields_init(f);
	for (size_t i = 0; i < NKEYS; i++)
		FUZZ_CHECK(ts_fields_meta_key(f, keys[i]) == (int)i);
	if (flags & 1)
		ts_fields_meta_on(f);
	if (ts_fields_add_select(f, lines[0], err, sizeof(err)) < 0)
		FUZZ_CHECK(err[0]);
	if (ts_fields_add_parents(f, lines[1], err, sizeof(err)) < 0)
		FUZZ_CHECK(err[0]);
	if (ts_fields_add_renames(f, lines[2], err, sizeof(err)) < 0)
		FUZZ_CHECK(err[0]);
	if (lines[3][0] && ts_fields_meta_name(f, lines[3], err, sizeof(err)) < 0)
		FUZZ_CHECK(err[0]);
	if (rebuild)
		FUZZ_CHECK(ts_fields_add_renames(f, "\xffnosuch=x", err, sizeof(err)) == 0);
	FUZZ_CHECK(ts_fields_ready(f) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *e = p + size;
	char flagline[8], lines[4][256];
	struct ts_json_scan sc;
	struct ts_json_keys idx;
	struct ts_fields f;
	struct ts_buf out, min;

	if (!size)
		return 0;
	unsigned flags = (unsigned char)next_line(&p, e, flagline, sizeof(flagline))[0];
	for (int i = 0; i < 4; i++)
		next_line(&p, e, lines[i], sizeof(lines[i]));
	if (p == e || ts_json_scan_keys(p, e, 1, 0, &idx, &sc) != TS_JSON_OK)
		return 0;

	struct ts_span v = {p, (size_t)(sc.end - p)};
	struct ts_fields_rec rec = {v, 0, sc.has_ws, flags & 2 ? NULL : &idx};
	if ((flags & 4) && v.p[0] == '"')
		rec = (struct ts_fields_rec){v, 1, 0, NULL};
	const struct ts_span *m = flags & 8 ? meta : NULL;

	setup(&f, flags, lines, 0);
	ts_fields_set_parent(&f, v);
	ts_buf_init(&out, 0);
	ts_buf_init(&min, 0);
	ts_buf_addstr(&out, "x");
	int rc = ts_fields_write(&f, &out, &rec, m);
	FUZZ_CHECK(rc == 0 || rc == TS_FIELDS_NOT_OBJECT);
	if (rc == TS_FIELDS_NOT_OBJECT) {
		FUZZ_CHECK(f.shaping && !rec.message && v.p[0] != '{');
		FUZZ_CHECK(out.len == 1);
	} else {
		const char *o = out.data + 1, *oe = out.data + out.len;
		struct ts_json_scan osc;
		FUZZ_CHECK(out.data[0] == 'x');
		FUZZ_CHECK(ts_json_scan(o, oe, 1, 0, &osc) == TS_JSON_OK && osc.end == oe);
		FUZZ_CHECK(!osc.has_ws);
		if (f.shaping || rec.message) {
			FUZZ_CHECK(o[0] == '{');
		} else {
			ts_json_minify(&min, v);
			FUZZ_CHECK(min.len == out.len - 1 && !memcmp(min.data, o, min.len));
		}
	}
	if (f.meta_only && m) {
		struct ts_fields g;
		setup(&g, flags, lines, 1);
		ts_fields_set_parent(&g, v);
		FUZZ_CHECK(!g.meta_only);
		ts_buf_reset(&min);
		ts_buf_addstr(&min, "x");
		FUZZ_CHECK(ts_fields_write(&g, &min, &rec, m) == rc);
		FUZZ_CHECK(min.len == out.len && !memcmp(min.data, out.data, out.len));
		ts_fields_release(&g);
	}
	ts_buf_release(&out);
	ts_buf_release(&min);
	ts_fields_release(&f);
	return 0;
}
