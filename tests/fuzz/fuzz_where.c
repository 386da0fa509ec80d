/*
 * fuzz_where.c — where predicates (where.h): the input is parsed as a
 * predicate.  One that does not parse leaves nothing allocated and says why,
 * ending " at column N" with N inside the text or just past its end.  One
 * that parses is evaluated on fixed records, walking each record and through
 * its index, and as a clone: all agree, never an error; and SQL's logic
 * holds: exactly one of P, NOT (P) and (P) IS UNKNOWN is TRUE.
 */
#include <string.h>

#include "fuzz.h"
#include "where.h"

static const char *const records[] = {
	("{\"a\":1,\"b\":\"x\",\"c\":true,\"d\":null,\"e\":[1,2],\"f\":{\"g\":{\"h\":2.5}},"
	 "\"s\":\" 12 \",\"t\":\"it's\",\"u\":\"\\u00e9\\\"\\n\",\"a.b\":3,"
	 "\"n\":-1e400,\"z\":0,\"x\":\"Infinity\",\"y\":\"NaN\",\"w\":\"yes\","
	 "\"k\":12345678901234567891,\"\":\"empty\",\"`q\":\"back\"}"),
	("{\"a\":\"1.0\",\"b\":null,\"c\":\"false\",\"f\":{\"g\":[]},\"a\":2,"
	 "\"s\":\"abc%_\\\\\",\"t\":\"\xe6\x97\xa5\xe6\x9c\xac\",\"u\":0.1,\"z\":-0,"
	 "\"x\":{\"y\":{\"z\":\"deep\"}},\"w\":false}"),
	"{}",
	"[1,{\"a\":1}]",
	"\"a\"",
	"null",
	("{\"a\":{},\"b\":[],\"c\":\"\",\"d\":\"   \",\"e\":\"\\u0000\",\"f\":1e-400,"
	 "\"s\":\"\\ud800\",\"t\":true,\"u\":\"T\",\"v\":\"9e999999999999999999999\"}"),
};

/* The message ends " at column N" with 1 <= N <= characters + 1. */
static void check_error(const char *err, const uint8_t *s, size_t n)
{
	static const char tag[] = " at column ";
	const char *col = NULL, *q;

	FUZZ_CHECK(err[0] != '\0');
	if (strcmp(err, "out of memory") == 0)
		return;
	for (q = strstr(err, tag); q; q = strstr(q + 1, tag))
		col = q; /* the last: a quoted token may hold the words too */
	FUZZ_CHECK(col != NULL);
	col += sizeof(tag) - 1;
	FUZZ_CHECK(*col >= '1' && *col <= '9');
	size_t c = 0, chars = 0;
	for (; *col >= '0' && *col <= '9'; col++) {
		FUZZ_CHECK(c < (size_t)1 << 40);
		c = c * 10 + (size_t)(*col - '0');
	}
	FUZZ_CHECK(*col == '\0');
	for (size_t i = 0; i < n; i++)
		chars += (s[i] & 0xC0) != 0x80;
	FUZZ_CHECK(c >= 1 && c <= chars + 1);
}

/* wrap = "NOT (", P, "\n)" and the like: NULL when it does not parse (too
 * deep once wrapped). */
static struct ts_where *wrapped(const char *pre, const uint8_t *s, size_t n,
				const char *post)
{
	size_t a = strlen(pre), b = strlen(post);
	char *t = malloc(a + n + b);
	char err[16];
	struct ts_where *w;

	if (!t)
		return NULL;
	memcpy(t, pre, a);
	memcpy(t + a, s, n);
	memcpy(t + a + n, post, b);
	w = ts_where_parse(t, a + n + b, err, sizeof(err));
	free(t);
	return w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct ts_where *w = ts_where_parse((const char *)data, size, err, sizeof(err));

	if (!w) {
		check_error(err, data, size);
		return 0;
	}
	FUZZ_CHECK(memchr(data, '\0', size) == NULL);

	const struct ts_span *names;
	size_t nn = ts_where_columns(w, &names);
	for (size_t i = 0; i < nn; i++) {
		FUZZ_CHECK(names[i].p && names[i].p[names[i].n] == '\0');
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(names[j].n != names[i].n ||
				   memcmp(names[j].p, names[i].p, names[i].n) != 0);
	}

	struct ts_where *c = ts_where_clone(w);
	struct ts_where *not = wrapped("NOT (", data, size, "\n)");
	struct ts_where *unk = wrapped("(", data, size, "\n) IS UNKNOWN");
	FUZZ_CHECK(c != NULL);
	for (size_t i = 0; i < sizeof(records) / sizeof(*records); i++) {
		struct ts_span r = {records[i], strlen(records[i])};
		struct ts_json_keys idx;
		struct ts_json_scan sc;
		FUZZ_CHECK(ts_json_scan_keys(r.p, r.p + r.n, 1, 0, &idx, &sc) ==
			   TS_JSON_OK);
		int x = ts_where_eval(w, r, NULL);
		FUZZ_CHECK(x == 0 || x == 1);
		FUZZ_CHECK(ts_where_eval(w, r, &idx) == x);
		FUZZ_CHECK(ts_where_eval(c, r, &idx) == x);
		if (not && unk) {
			int y = ts_where_eval(not, r, &idx);
			int z = ts_where_eval(unk, r, NULL);
			FUZZ_CHECK((y == 0 || y == 1) && (z == 0 || z == 1));
			FUZZ_CHECK(x + y + z == 1);
		}
	}
	ts_where_free(not);
	ts_where_free(unk);
	ts_where_free(c);
	ts_where_free(w);
	return 0;
}
