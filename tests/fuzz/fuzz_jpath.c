/*
 * fuzz_jpath.c — path expressions (jpath.h): the input is parsed as a path;
 * a path that parses is evaluated on a fixed document, and every value it
 * selects must be a whole valid value inside that document.  A path that
 * does not parse leaves nothing allocated and says why; when the message
 * names a column, that column is inside the path or just past its end.
 */
#include <string.h>

#include "fuzz.h"
#include "jpath.h"

static const char doc[] =
	"{\"a\":{\"b\":[10,20,{\"c\":\"x\"}]},\"k y\":1,\"e\\\"q\":2,"
	"\"arr\":[1, 2 ,3],\"o\":{\"x\":1,\"y\":{\"z\":[true,false,null]}},"
	"\"empty\":[],\"eo\":{},\"n\":null,\"\\u00e9\":\"accent\",\"dup\":1,"
	"\"dup\":[2],\"\":\"empty key\",\"a\\u0000b\":\"nul\","
	"\"Records\":[{\"id\":\"r1\",\"tags\":[\"p\",\"q\"]},{\"id\":\"r2\"},"
	"[[[[1]]]],\"s\",-1.5e3],\"0\":\"zero\",\"-1\":\"minus\"}";

/* The message is there; " at column N" ends it, if anywhere, with
 * 1 <= N <= strlen(path) + 1 (an unexpected end points past the last byte). */
static void check_error(const char *err, const char *path)
{
	static const char tag[] = " at column ";
	const char *col = NULL, *q;

	FUZZ_CHECK(err[0] != '\0');
	for (q = strstr(err, tag); q; q = strstr(q + 1, tag))
		col = q; /* the last one: the quoted path may hold the words too */
	if (!col) {
		/* no column only for a message that is not about a place */
		FUZZ_CHECK(path[0] == '\0' || strcmp(err, "out of memory") == 0);
		return;
	}
	col += sizeof(tag) - 1;
	FUZZ_CHECK(*col >= '1' && *col <= '9');
	size_t c = 0;
	for (; *col >= '0' && *col <= '9'; col++) {
		FUZZ_CHECK(c < (size_t)1 << 40);
		c = c * 10 + (size_t)(*col - '0');
	}
	FUZZ_CHECK(*col == '\0');
	FUZZ_CHECK(c >= 1 && c <= strlen(path) + 1);
}

struct seen {
	unsigned n;
	int stop;
};

static int each(void *ud, struct ts_span v)
{
	struct seen *s = ud;
	struct ts_json_scan sc;

	FUZZ_CHECK(v.p >= doc && v.n > 0 && v.p + v.n <= doc + sizeof(doc) - 1);
	FUZZ_CHECK(ts_json_scan(v.p, v.p + v.n, 1, 0, &sc) == TS_JSON_OK);
	FUZZ_CHECK(sc.end == v.p + v.n);
	s->n++;
	return s->stop && s->n == (unsigned)s->stop ? 7 : 0;
}

static int count(void *ud, struct ts_span v)
{
	(void)v;
	++*(unsigned *)ud;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = malloc(size + 1);
	struct ts_jpath jp;
	/* the message quotes the whole path before the column */
	size_t errlen = size + 256;
	char *err = malloc(errlen);

	if (!path || !err) {
		free(path);
		free(err);
		return 0;
	}
	memcpy(path, data, size);
	path[size] = '\0';
	if (ts_jpath_parse(&jp, path, err, errlen) < 0) {
		check_error(err, path);
		FUZZ_CHECK(jp.steps == NULL && jp.n == 0 && jp.text == NULL);
		free(path);
		free(err);
		return 0;
	}
	free(err);
	FUZZ_CHECK(jp.text && strcmp(jp.text, path) == 0);
	for (size_t i = 0; i < jp.n; i++)
		if (jp.steps[i].kind == TS_JP_KEY)
			FUZZ_CHECK(jp.steps[i].key &&
				   jp.steps[i].key[jp.steps[i].keylen] == '\0');

	struct ts_span v = {doc, sizeof(doc) - 1}, first;
	struct seen all = {0, 0}, one = {0, 1};
	FUZZ_CHECK(ts_jpath_each(&jp, v, each, &all) == 0);
	FUZZ_CHECK(all.n <= 1 || ts_jpath_is_multi(&jp));
	int got = ts_jpath_get(&jp, v, &first);
	FUZZ_CHECK(got == (all.n > 0));
	/* the same through the first-level index */
	struct ts_json_keys idx;
	struct ts_json_scan sc;
	struct ts_span viaidx;
	FUZZ_CHECK(ts_json_scan_keys(doc, doc + sizeof(doc) - 1, 1, 0, &idx, &sc) ==
		   TS_JSON_OK);
	FUZZ_CHECK(ts_jpath_get_indexed(&jp, v, &idx, &viaidx) == got);
	if (got)
		FUZZ_CHECK(viaidx.p == first.p && viaidx.n == first.n);
	if (all.n > 0)
		FUZZ_CHECK(ts_jpath_each(&jp, v, each, &one) == 7 && one.n == 1);
	size_t kl;
	const char *k = ts_jpath_last_key(&jp, &kl);
	FUZZ_CHECK(!k || k[kl] == '\0');
	/* on a scalar, a path with steps selects nothing */
	unsigned none = 0;
	ts_jpath_each(&jp, (struct ts_span){"42", 2}, count, &none);
	FUZZ_CHECK(none == (jp.n == 0));
	ts_jpath_release(&jp);
	free(path);
	return 0;
}
