/*
 * fuzz_members.c — assembling output objects (members.h), with jansson as
 * the oracle.
 *
 * When the input is one JSON value, it is used as the object whose members
 * are copied (when it is an object) and as the value of members added under
 * plain names, some hostile ("a\"b", a backslash, control bytes, "", a
 * name that is not UTF-8, the input's first bytes).  The object written is
 * what jansson reads as the same members in the same order: the copied keys
 * and values as they were (whitespace dropped), the plain names as the
 * names.  A name that is not UTF-8 makes the write fail, nothing more.
 * ts_members_find() finds the first member of each name.
 */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "fuzz.h"
#include "members.h"

static const struct ts_span plain_names[] = {
	{"id", 2}, {"a\"b", 3}, {"\\", 1}, {"\x01\n\x1f", 3}, {"", 0},
	{"\xc3\xa9t\xc3\xa9", 6},
	{"a\0b", 3}, /* last: jansson cannot read a NUL in a name */
};

/* Decoded name of member i, in a fresh jansson string. */
static json_t *name_of(const struct ts_member *m)
{
	if (!m->quoted)
		return json_stringn(m->key.p, m->key.n);
	struct ts_buf b;
	json_t *s;
	ts_buf_init(&b, 0);
	FUZZ_CHECK(ts_json_unescape(&b, m->key) == 0);
	s = json_stringn(b.data, b.len);
	ts_buf_release(&b);
	return s;
}

/* The written object, member by member, against the list. */
static void check_written(const struct ts_members *l, const char *p, size_t n)
{
	struct ts_json_scan sc;
	struct ts_json_iter it;
	struct ts_span k, v;
	size_t i = 0;

	FUZZ_CHECK(ts_json_scan(p, p + n, 1, 0, &sc) == TS_JSON_OK && sc.end == p + n);
	FUZZ_CHECK(!sc.has_ws);
	ts_json_iter_init(&it, (struct ts_span){p, n});
	while (ts_json_obj_next(&it, &k, &v)) {
		FUZZ_CHECK(i < l->n);
		const struct ts_member *m = &l->m[i];
		if (m->quoted) {
			FUZZ_CHECK(k.n == m->key.n && memcmp(k.p, m->key.p, k.n) == 0);
		} else {
			struct ts_buf b;
			ts_buf_init(&b, 0);
			FUZZ_CHECK(ts_json_unescape(&b, k) == 0);
			FUZZ_CHECK(b.len == m->key.n && memcmp(b.data, m->key.p, b.len) == 0);
			ts_buf_release(&b);
		}
		struct ts_buf mv;
		ts_buf_init(&mv, 0);
		FUZZ_CHECK(ts_json_minify(&mv, m->val) == 0);
		FUZZ_CHECK(v.n == mv.len && memcmp(v.p, mv.data, v.n) == 0);
		ts_buf_release(&mv);
		i++;
	}
	FUZZ_CHECK(i == l->n);

	/* jansson: an object; when it can read every name, each of them is a
	 * member (the last of equal names wins) */
	json_error_t err;
	json_t *o = json_loadb(p, n, JSON_ALLOW_NUL, &err);
	if (!o) {
		/* only what jansson rejects by design: a lone surrogate
		 * escape, a number too big, nesting past its depth, a NUL
		 * in a name */
		FUZZ_CHECK(strstr(err.text, "Unicode") || strstr(err.text, "too big") ||
			   strstr(err.text, "overflow") || strstr(err.text, "depth") ||
			   strstr(err.text, "NUL byte in object key"));
		return;
	}
	FUZZ_CHECK(json_is_object(o));
	for (i = 0; i < l->n; i++) {
		json_t *name = name_of(&l->m[i]);
		if (name)
			FUZZ_CHECK(json_object_getn(o, json_string_value(name),
						    json_string_length(name)) != NULL);
		json_decref(name);
	}
	json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct ts_json_scan sc;
	struct ts_members l;
	struct ts_buf out;
	struct ts_span v = {in, size};

	if (ts_json_scan(in, in + size, 1, 0, &sc) != TS_JSON_OK || sc.end != in + size)
		return 0;
	ts_members_init(&l);
	ts_buf_init(&out, 0);
	if (in[0] == '{') {
		FUZZ_CHECK(ts_members_add_object(&l, v) == 0);
		/* each member is found by its decoded name, first one first */
		for (size_t i = 0; i < l.n; i++) {
			struct ts_buf b;
			ts_buf_init(&b, 0);
			FUZZ_CHECK(ts_json_unescape(&b, l.m[i].key) == 0);
			long at = ts_members_find(&l, b.data, b.len);
			FUZZ_CHECK(at >= 0 && (size_t)at <= i);
			FUZZ_CHECK(ts_member_is(&l.m[at], b.data, b.len));
			ts_buf_release(&b);
		}
		FUZZ_CHECK(ts_members_write(&l, &out) == 0);
		check_written(&l, out.data, out.len);
	}
	size_t np = sizeof(plain_names) / sizeof(plain_names[0]);
	for (size_t i = 0; i < np; i++) {
		FUZZ_CHECK(ts_members_add(&l, plain_names[i], 0, v) == 0);
		if (i < np - 2)
			continue;
		ts_buf_reset(&out);
		FUZZ_CHECK(ts_members_write(&l, &out) == 0);
		check_written(&l, out.data, out.len);
	}
	FUZZ_CHECK(ts_members_find(&l, "a\"b", 3) >= 0);

	/* a name from the input's first bytes: written when UTF-8 */
	struct ts_span raw = {in, size < 8 ? size : 8};
	FUZZ_CHECK(ts_members_add(&l, raw, 0, (struct ts_span){"1", 1}) == 0);
	ts_buf_reset(&out);
	ts_buf_addstr(&out, "pre");
	json_t *utf8 = json_stringn(raw.p, raw.n);
	errno = 0;
	int rc = ts_members_write(&l, &out);
	if (utf8) {
		FUZZ_CHECK(rc == 0 && memcmp(out.data, "pre", 3) == 0);
		check_written(&l, out.data + 3, out.len - 3);
	} else {
		FUZZ_CHECK(rc == -1 && errno == EILSEQ);
	}
	json_decref(utf8);
	ts_buf_release(&out);
	ts_members_release(&l);
	return 0;
}
