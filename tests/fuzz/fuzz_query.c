/*
 * fuzz_query.c — the static part and the fast paths of lib/query.
 *
 * First byte even: the rest is a query text for ts_query_split() and
 * ts_query_path_len(): never a crash, entries that are names and values.
 * First byte odd: the rest is a record.  A query whose values are all
 * plain paths, slices and pipes (looked up natively) must give exactly
 * what the same query gives through the whole jq program: the same
 * success or failure, the same error code and message, the same values.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "json.h"
#include "query.h"

static const char fast_q[] =
	"{a: .a, b: .b.c, c: .d[0], e: .e | tostring | ascii_downcase, f: .f[1:3], g: (.g)}";
static const char whole_q[] =
	". as $r | {a: $r.a, b: $r.b.c, c: $r.d[0], e: ($r.e | tostring | ascii_downcase), "
	"f: $r.f[1:3], g: $r.g}";
static char na[] = "a", nb[] = "b", nc[] = "c", ne[] = "e", nf[] = "f", ng[] = "g";
static char *const names[] = {na, nb, nc, ne, nf, ng};
#define N (sizeof(names) / sizeof(names[0]))

static struct ts_query *fq, *wq;

/* jq's states hold memory LeakSanitizer cannot trace from a static
 * pointer: freed at exit, so a leak report is a real leak. */
static void free_queries(void)
{
	ts_query_free(fq);
	ts_query_free(wq);
}

/* A value's meaning: a string decoded, anything else as written. */
static void meaning(struct ts_buf *out, struct ts_span v)
{
	ts_buf_reset(out);
	if (v.n && v.p[0] == '"')
		ts_json_unescape(out, v);
	else
		ts_buf_add(out, v.p, v.n);
}

static void split_only(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	char **keys, **vals;

	if (!s)
		return;
	memcpy(s, p, n);
	s[n] = 0;
	long k = ts_query_split(s, &keys, &vals);
	for (long i = 0; i < k; i++) {
		FUZZ_CHECK(keys[i] && vals[i] && vals[i][0]);
		FUZZ_CHECK(ts_query_path_len(vals[i]) <= strlen(vals[i]));
		free(keys[i]);
		free(vals[i]);
	}
	if (k >= 0) {
		free(keys);
		free(vals);
	}
	FUZZ_CHECK(ts_query_path_len(s) <= n);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *p = (const char *)data + 1;
	size_t n = size - 1;

	if (!(data[0] & 1)) {
		split_only(p, n);
		return 0;
	}
	if (!fq) {
		char err[512];
		fq = ts_query_new(fast_q, err, sizeof(err));
		wq = ts_query_new(whole_q, err, sizeof(err));
		FUZZ_CHECK(fq && wq && !ts_query_paths_only(fq));
		atexit(free_queries);
	}
	struct ts_json_keys idx;
	struct ts_json_scan r;
	memset(&idx, 0, sizeof(idx));
	if (n == 0 || ts_json_scan_keys(p, p + n, 1, 0, &idx, &r) != TS_JSON_OK || r.end != p + n)
		return 0;
	struct ts_span rec = {p, n}, fv[N], wv[N];
	struct ts_buf fm, wm, a, b;
	const char *fc = NULL, *wc = NULL;
	ts_buf_init(&fm, 0);
	ts_buf_init(&wm, 0);
	ts_buf_init(&a, 0);
	ts_buf_init(&b, 0);
	int frc = ts_query_eval(fq, rec, &idx, N, names, fv, &fc, &fm);
	int wrc = ts_query_eval(wq, rec, NULL, N, names, wv, &wc, &wm);
	FUZZ_CHECK(frc == wrc);
	if (frc < 0) {
		FUZZ_CHECK(!strcmp(fc, wc));
		FUZZ_CHECK(fm.len == wm.len && !memcmp(fm.data, wm.data, fm.len));
	} else {
		for (size_t i = 0; i < N; i++) {
			meaning(&a, fv[i]);
			meaning(&b, wv[i]);
			FUZZ_CHECK(a.len == b.len && !memcmp(a.data, b.data, a.len));
		}
	}
	ts_buf_release(&fm);
	ts_buf_release(&wm);
	ts_buf_release(&a);
	ts_buf_release(&b);
	return 0;
}
