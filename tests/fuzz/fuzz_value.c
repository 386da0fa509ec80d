/*
 * fuzz_value.c — values by meaning (value.h): canonical form, equality,
 * order and hash agree with one another on anything the scanner accepts.
 *
 * The input is up to three JSON values separated by a 0xff byte (a byte no
 * JSON text holds).  Each must be accepted by ts_json_scan() (trailing
 * whitespace allowed), or the input is skipped.  For each value: its
 * canonical form is a value the scanner accepts, without whitespace, whose
 * own canonical form is itself; the value equals it (equal, cmp 0 both
 * ways) and hashes as ts_hash() of it under any key.  For each pair:
 * equal <=> equal canonical bytes <=> cmp 0; cmp is antisymmetric; equal
 * values hash equal; numbers whose doubles differ order the same way, and
 * the doubles are strtod()'s.
 * For the three: cmp is transitive.  The accessors agree with the type.
 */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "value.h"

static int sgn(int c)
{
	return c < 0 ? -1 : c > 0;
}

static void check_one(struct ts_span v, struct ts_buf *canon)
{
	static const struct ts_hkey k2 = {1, 2};
	struct ts_json_scan sc;
	struct ts_buf again;
	enum ts_vtype t = ts_value_type(v);

	ts_buf_reset(canon);
	FUZZ_CHECK(ts_value_canon(canon, v) == 0);
	struct ts_span c = {canon->data, canon->len};
	if (t == TS_VT_MISSING) {
		FUZZ_CHECK(c.n == 0);
	} else {
		FUZZ_CHECK(ts_json_scan(c.p, c.p + c.n, 1, 0, &sc) == TS_JSON_OK);
		FUZZ_CHECK(sc.end == c.p + c.n && !sc.has_ws);
	}
	ts_buf_init(&again, 0);
	FUZZ_CHECK(ts_value_canon(&again, c) == 0);
	FUZZ_CHECK(again.len == c.n && memcmp(again.data, c.p, c.n) == 0);
	ts_buf_release(&again);

	FUZZ_CHECK(ts_value_type(c) == t);
	FUZZ_CHECK(ts_value_equal(v, c) && ts_value_equal(c, v));
	FUZZ_CHECK(ts_value_cmp(v, c) == 0 && ts_value_cmp(c, v) == 0);
	FUZZ_CHECK(ts_value_cmp(v, v) == 0);
	FUZZ_CHECK(ts_value_hash(&ts_hkey_fixed, v) == ts_hash(&ts_hkey_fixed, c.p, c.n));
	FUZZ_CHECK(ts_value_hash(&k2, v) == ts_hash(&k2, c.p, c.n));
	FUZZ_CHECK(ts_value_hash(&k2, c) == ts_hash(&k2, c.p, c.n));

	double d = 0;
	int64_t i = 0;
	int rn = ts_value_number(v, &d), ri = ts_value_int64(v, &i);
	int rb = ts_value_bool(v);
	FUZZ_CHECK((rn == -1) == (t != TS_VT_NUMBER));
	FUZZ_CHECK((ri == -1) == (t != TS_VT_NUMBER));
	FUZZ_CHECK((rb == -1) == (t != TS_VT_BOOL));
	if (rn >= 0) {
		/* 1 exactly when out of range: infinite, or zero from nonzero */
		FUZZ_CHECK(!isnan(d));
		if (isinf(d))
			FUZZ_CHECK(rn == 1);
		else if (d != 0)
			FUZZ_CHECK(rn == 0);
		if (d == 0)
			FUZZ_CHECK(rn == (c.n != 1 || c.p[0] != '0'));
		double dc;
		FUZZ_CHECK(ts_value_number(c, &dc) == rn && dc == d);
		/* the oracle: strtod() rounds correctly (in the C locale) */
		char *z = malloc(v.n + 1);
		FUZZ_CHECK(z != NULL);
		memcpy(z, v.p, v.n);
		z[v.n] = '\0';
		FUZZ_CHECK(d == strtod(z, NULL));
		free(z);
	}
	if (ri == 0) {
		/* an int64 prints as its own canonical form */
		char b[32];
		int n = snprintf(b, sizeof(b), "%lld", (long long)i);
		FUZZ_CHECK((size_t)n == c.n && memcmp(b, c.p, c.n) == 0);
		FUZZ_CHECK(rn == 0 && d == (double)i);
	}
	struct ts_span s;
	int rv = ts_value_string_view(v, &s);
	FUZZ_CHECK((rv == -1) == (t != TS_VT_STRING));
	if (rv >= 0) {
		struct ts_buf dec;
		ts_buf_init(&dec, 0);
		FUZZ_CHECK(ts_value_string(&dec, v) == 0);
		if (rv == 1)
			FUZZ_CHECK(dec.len == s.n && memcmp(dec.data, s.p, s.n) == 0);
		/* the canonical form is the decoded bytes escaped one way */
		struct ts_buf esc;
		ts_buf_init(&esc, 0);
		FUZZ_CHECK(ts_json_escape(&esc, dec.data, dec.len) == 0);
		FUZZ_CHECK(esc.len == c.n && memcmp(esc.data, c.p, c.n) == 0);
		ts_buf_release(&esc);
		ts_buf_release(&dec);
	}
}

static void check_pair(struct ts_span a, struct ts_span b, const struct ts_buf *ca,
		       const struct ts_buf *cb)
{
	int eq = ts_value_equal(a, b);
	int ab = sgn(ts_value_cmp(a, b)), ba = sgn(ts_value_cmp(b, a));
	int ceq = ca->len == cb->len && memcmp(ca->data, cb->data, ca->len) == 0;

	FUZZ_CHECK(eq == ts_value_equal(b, a));
	FUZZ_CHECK(ab == -ba);
	FUZZ_CHECK(eq == (ab == 0));
	FUZZ_CHECK(eq == ceq);
	if (eq)
		FUZZ_CHECK(ts_value_hash(ts_hkey_process(), a) ==
			   ts_value_hash(ts_hkey_process(), b));
	double da, db;
	if (ts_value_number(a, &da) >= 0 && ts_value_number(b, &db) >= 0) {
		/* rounding may make different numbers one double, never swap
		 * them */
		if (da < db)
			FUZZ_CHECK(ab < 0);
		if (da > db)
			FUZZ_CHECK(ab > 0);
		if (ab < 0)
			FUZZ_CHECK(da <= db);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ts_span v[3];
	struct ts_buf canon[3];
	const char *p = (const char *)data, *end = p + size;
	size_t n = 0;

	while (n < 3) {
		const char *q = memchr(p, 0xff, (size_t)(end - p));
		const char *e = q ? q : end;
		struct ts_json_scan sc;
		if (e > p) {
			if (ts_json_scan(p, e, 1, 0, &sc) != TS_JSON_OK)
				return 0;
			for (const char *w = sc.end; w < e; w++)
				if (!ts_json_is_ws(*w))
					return 0;
			v[n++] = (struct ts_span){p, (size_t)(sc.end - p)};
		} else {
			v[n++] = (struct ts_span){p, 0}; /* MISSING */
		}
		if (!q)
			break;
		p = q + 1;
	}
	for (size_t i = 0; i < n; i++) {
		ts_buf_init(&canon[i], 0);
		check_one(v[i], &canon[i]);
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			check_pair(v[i], v[j], &canon[i], &canon[j]);
	if (n == 3) {
		for (size_t i = 0; i < 3; i++)
			for (size_t j = 0; j < 3; j++)
				for (size_t k = 0; k < 3; k++) {
					if (ts_value_cmp(v[i], v[j]) <= 0 &&
					    ts_value_cmp(v[j], v[k]) <= 0)
						FUZZ_CHECK(ts_value_cmp(v[i], v[k]) <= 0);
				}
	}
	for (size_t i = 0; i < n; i++)
		ts_buf_release(&canon[i]);
	return 0;
}
