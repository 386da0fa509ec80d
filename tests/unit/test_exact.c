/* test_exact.c — lib/exact.h: exact sums, correct rounding, order and split
 * independence, moments, the state text. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "exact.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	/* xorshift64*: reproducible and good enough to scatter bits */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

/* Any finite double: random bits, exponents over the whole range. */
static double any_double(void)
{
	for (;;) {
		uint64_t b = next();
		double d;
		memcpy(&d, &b, sizeof(d));
		if (isfinite(d))
			return d;
	}
}

/* A finite double of moderate exponent (products stay finite). */
static double mid_double(void)
{
	return ldexp((double)(next() >> 11) * (next() & 1 ? 1 : -1), (int)(next() % 200) - 150);
}

static int same(double a, double b)
{
	return memcmp(&a, &b, sizeof(a)) == 0 || (isnan(a) && isnan(b));
}

static double sum_of(const double *v, size_t n)
{
	struct ts_exact a;

	ts_exact_init(&a);
	for (size_t i = 0; i < n; i++)
		ts_exact_add(&a, v[i]);
	return ts_exact_value(&a);
}

static void text_of(const struct ts_exact *a, char *out, size_t cap)
{
	struct ts_buf b;

	ts_buf_init(&b, 0);
	if (ts_exact_write(a, &b) < 0)
		b.len = 0;
	snprintf(out, cap, "%s", b.data);
	ts_buf_release(&b);
}

static void test_simple(void)
{
	struct ts_exact a;
	double v1[] = { 1e308, 1, -1e308 };
	double v2[] = { 1e308, 1e308, -1e308 };
	double v3[] = { 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1 };
	double v4[] = { 0x1p53, 1 };            /* a tie: to even */
	double v5[] = { 0x1p53, 1, 0x1p-100 };  /* just above the tie */
	double v6[] = { 0x1p53, 3 };            /* a tie: to even, upwards */
	double v7[] = { DBL_MAX, DBL_MAX };
	double v8[] = { DBL_MAX, DBL_MAX, -DBL_MAX };
	double v9[] = { 0x1p-1074, 0x1p-1074, 0x1p-1074 };
	double v10[] = { 1, 0x1p-1074, -1 };
	double v11[] = { -0.0, -0.0 };
	double v12[] = { 1e-300, -1e-300, 5, -3 };

	ts_exact_init(&a);
	CHECK(same(ts_exact_value(&a), 0.0));
	CHECK(ts_exact_count(&a) == 0);
	CHECK(ts_exact_is_zero(&a));
	CHECK(isnan(ts_exact_mean(&a)));

	CHECK(sum_of(v1, 3) == 1);
	CHECK(sum_of(v2, 3) == 1e308);
	CHECK(sum_of(v3, 10) == 1.0); /* the naive sum is 0.9999999999999999 */
	CHECK(sum_of(v4, 2) == 0x1p53);
	CHECK(sum_of(v5, 3) == 0x1p53 + 2);
	CHECK(sum_of(v6, 2) == 0x1p53 + 4);
	CHECK(sum_of(v7, 2) == INFINITY);
	CHECK(sum_of(v8, 3) == DBL_MAX);
	CHECK(sum_of(v9, 3) == 0x1.8p-1073);
	CHECK(sum_of(v10, 3) == 0x1p-1074);
	CHECK(same(sum_of(v11, 2), 0.0)); /* an exact zero is +0 */
	CHECK(sum_of(v12, 4) == 2);
	/* -DBL_MAX - half an ulp rounds to -inf (the tie goes to the even
	 * significand, which is 2^1024) */
	{
		double v[] = { -DBL_MAX, -0x1p970 };
		CHECK(sum_of(v, 2) == -INFINITY);
		double w[] = { -DBL_MAX, -0x1p969 };
		CHECK(sum_of(w, 2) == -DBL_MAX);
	}

	ts_exact_init(&a);
	for (int i = 0; i < 5; i++)
		ts_exact_add(&a, 0.0);
	CHECK(ts_exact_count(&a) == 5 && ts_exact_is_zero(&a));
	CHECK(ts_exact_mean(&a) == 0);
}

/* Two terms: the exact sum correctly rounded is what IEEE addition gives.
 * A product: what IEEE multiplication gives.  A product and a term: fma. */
static void test_rounding_against_ieee(void)
{
	struct ts_exact a;
	unsigned bad_add = 0, bad_mul = 0, bad_fma = 0;

	for (int i = 0; i < 200000; i++) {
		double x = any_double(), y = any_double(), z = any_double();

		if (i % 3 == 0) /* near each other: cancellation and ties */
			y = -x * (1 + ldexp((double)(next() % 64), -52)) * (next() & 1 ? 1 : -1);
		if (i % 5 == 0) /* subnormals */
			x = ldexp((double)(next() >> 12), -1074 - (int)(next() % 30));
		if (!isfinite(y) || x == 0)
			continue;
		ts_exact_init(&a);
		ts_exact_add(&a, x);
		ts_exact_add(&a, y);
		bad_add += !same(ts_exact_value(&a), x + y) && x + y != 0;

		/* scale a product into range some of the time */
		if (i % 2)
			x = ldexp(x, -ilogb(x) + (int)(next() % 2000) - 1000);
		ts_exact_init(&a);
		ts_exact_add_product(&a, x, y);
		bad_mul += !same(ts_exact_value(&a), x * y) && x * y != 0;

		ts_exact_add(&a, z);
		bad_fma += !same(ts_exact_value(&a), fma(x, y, z)) && fma(x, y, z) != 0;
	}
	CHECK(bad_add == 0);
	CHECK(bad_mul == 0);
	CHECK(bad_fma == 0);

	/* x*x of a large x is beyond the double range, and exact here */
	ts_exact_init(&a);
	ts_exact_add_square(&a, 1e300);
	ts_exact_add_square(&a, 1e300);
	ts_exact_add_product(&a, -1e300, 1e300);
	ts_exact_add_product(&a, 1e300, -1e300);
	CHECK(ts_exact_is_zero(&a));
	ts_exact_add_square(&a, 0x1p-1074); /* 2^-2148 */
	CHECK(!ts_exact_is_zero(&a));
	CHECK(same(ts_exact_value(&a), 0.0));
	ts_exact_add_product(&a, -0x1p-1074, 0x1p-1073);
	CHECK(same(ts_exact_value(&a), -0.0)); /* -2^-2148, rounded: -0 */
	ts_exact_add_square(&a, 1e300);
	CHECK(ts_exact_value(&a) == INFINITY);
	ts_exact_add_product(&a, -1e300, 1e300);
	ts_exact_add(&a, 3);
	CHECK(ts_exact_value(&a) == 3);
}

static void test_specials(void)
{
	struct ts_exact a, b;

	ts_exact_init(&a);
	ts_exact_add(&a, 1);
	ts_exact_add(&a, INFINITY);
	CHECK(ts_exact_value(&a) == INFINITY);
	CHECK(ts_exact_count(&a) == 1 && a.n_pinf == 1);
	CHECK(!ts_exact_is_zero(&a));
	ts_exact_add(&a, -INFINITY);
	CHECK(isnan(ts_exact_value(&a)));
	ts_exact_init(&b);
	ts_exact_add(&b, -INFINITY);
	CHECK(ts_exact_value(&b) == -INFINITY);
	CHECK(ts_exact_mean(&b) == -INFINITY);
	ts_exact_add(&b, NAN);
	CHECK(isnan(ts_exact_value(&b)) && b.n_nan == 1);
	ts_exact_init(&b);
	ts_exact_add_product(&b, 0, INFINITY);
	CHECK(b.n_nan == 1 && b.n == 0);
	ts_exact_add_product(&b, -2, INFINITY);
	ts_exact_add_square(&b, -INFINITY);
	CHECK(b.n_ninf == 1 && b.n_pinf == 1);
	ts_exact_merge(&a, &b);
	CHECK(a.n_pinf == 2 && a.n_ninf == 2 && a.n_nan == 1 && ts_exact_count(&a) == 1);
}

static void shuffle(double *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = next() % i;
		double t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

/* The same multiset, any order, any split into merged parts: the same
 * value, the same text, the same moments. */
static void test_order_and_split(void)
{
	enum { N = 20000 };
	static double v[N];
	struct ts_exact one, one2, parts[7], m, m2;
	char t1[8192], t2[8192];
	double want, want_var, want_sd;

	for (size_t i = 0; i < N; i++)
		v[i] = i % 4 ? any_double() : mid_double();
	ts_exact_init(&one);
	for (size_t i = 0; i < N; i++)
		ts_exact_add(&one, v[i]);
	want = ts_exact_value(&one);
	text_of(&one, t1, sizeof(t1));
	CHECK(strlen(t1) > 100);

	/* moments on moderate values: sums of squares stay finite */
	for (size_t i = 0; i < N; i++)
		v[i] = mid_double();
	ts_exact_init(&one);
	ts_exact_init(&one2);
	for (size_t i = 0; i < N; i++) {
		ts_exact_add(&one, v[i]);
		ts_exact_add_square(&one2, v[i]);
	}
	want = ts_exact_value(&one);
	want_var = ts_exact_variance(&one, &one2, 1);
	want_sd = ts_exact_stddev(&one, &one2, 0);
	text_of(&one2, t1, sizeof(t1));
	CHECK(want_var > 0 && isfinite(want_var));

	for (int round = 0; round < 20; round++) {
		struct ts_exact sq[7];
		shuffle(v, N);
		for (int p = 0; p < 7; p++) {
			ts_exact_init(&parts[p]);
			ts_exact_init(&sq[p]);
		}
		for (size_t i = 0; i < N; i++) {
			int p = (int)(next() % 7);
			ts_exact_add(&parts[p], v[i]);
			ts_exact_add_square(&sq[p], v[i]);
		}
		ts_exact_init(&m);
		ts_exact_init(&m2);
		for (int p = 6; p >= 0; p--) {
			ts_exact_merge(&m, &parts[(p * 3 + round) % 7]);
			ts_exact_merge(&m2, &sq[(p * 5 + round) % 7]);
		}
		CHECK(same(ts_exact_value(&m), want));
		CHECK(same(ts_exact_variance(&m, &m2, 1), want_var));
		CHECK(same(ts_exact_stddev(&m, &m2, 0), want_sd));
		CHECK(ts_exact_count(&m) == N);
		text_of(&m2, t2, sizeof(t2));
		CHECK_STR(t2, t1);
	}
}

static void test_moments(void)
{
	struct ts_exact s1, s2, sx, sy, sxx, syy, sxy;
	double big = 1e9;

	/* 1e9+1, 1e9+2, 1e9+3: the naive n·Σx² − (Σx)² in doubles is noise */
	ts_exact_init(&s1);
	ts_exact_init(&s2);
	for (int i = 1; i <= 3; i++) {
		ts_exact_add(&s1, big + i);
		ts_exact_add_square(&s2, big + i);
	}
	CHECK(ts_exact_variance(&s1, &s2, 1) == 1.0);
	CHECK(ts_exact_variance(&s1, &s2, 0) == 2.0 / 3);
	CHECK(ts_exact_stddev(&s1, &s2, 1) == 1.0);
	CHECK(ts_exact_mean(&s1) == big + 2);

	/* constant values: exactly 0 */
	ts_exact_init(&s1);
	ts_exact_init(&s2);
	for (int i = 0; i < 1000; i++) {
		ts_exact_add(&s1, 0.1);
		ts_exact_add_square(&s2, 0.1);
	}
	CHECK(same(ts_exact_variance(&s1, &s2, 0), 0.0));
	CHECK(ts_exact_mean(&s1) == 0.1);

	/* one value: population 0, sample undefined; none: undefined */
	ts_exact_init(&s1);
	ts_exact_init(&s2);
	CHECK(isnan(ts_exact_variance(&s1, &s2, 0)));
	ts_exact_add(&s1, 7);
	ts_exact_add_square(&s2, 7);
	CHECK(ts_exact_variance(&s1, &s2, 0) == 0);
	CHECK(isnan(ts_exact_variance(&s1, &s2, 1)));
	/* counts that do not match */
	ts_exact_add(&s1, 7);
	CHECK(isnan(ts_exact_variance(&s1, &s2, 0)));
	ts_exact_add(&s2, INFINITY);
	ts_exact_add_square(&s2, 7);
	CHECK(isnan(ts_exact_variance(&s1, &s2, 0)));

	/* the mean of values whose sum overflows */
	ts_exact_init(&s1);
	ts_exact_add(&s1, DBL_MAX);
	ts_exact_add(&s1, DBL_MAX);
	CHECK(ts_exact_value(&s1) == INFINITY);
	CHECK(ts_exact_mean(&s1) == DBL_MAX);
	/* variance beyond the double range */
	ts_exact_init(&s2);
	ts_exact_add_square(&s2, DBL_MAX);
	ts_exact_add_square(&s2, DBL_MAX);
	ts_exact_add(&s1, -DBL_MAX);
	ts_exact_add_square(&s2, DBL_MAX);
	CHECK(ts_exact_variance(&s1, &s2, 0) == INFINITY);

	/* correlation */
	ts_exact_init(&sx);
	ts_exact_init(&sy);
	ts_exact_init(&sxx);
	ts_exact_init(&syy);
	ts_exact_init(&sxy);
	for (int i = 1; i <= 100; i++) {
		double x = 1e8 + i, y = 2 * x + 3;
		ts_exact_add(&sx, x);
		ts_exact_add(&sy, y);
		ts_exact_add_square(&sxx, x);
		ts_exact_add_square(&syy, y);
		ts_exact_add_product(&sxy, x, y);
	}
	CHECK(ts_exact_correlation(&sx, &sy, &sxx, &syy, &sxy) == 1.0);
	CHECK(ts_exact_correlation(&sx, &sx, &sxx, &sxx, &sxx) == 1.0);
	ts_exact_init(&sy);
	ts_exact_init(&syy);
	ts_exact_init(&sxy);
	for (int i = 1; i <= 100; i++) {
		double x = 1e8 + i, y = i % 2 ? -x : -x + 0.5;
		ts_exact_add(&sy, y);
		ts_exact_add_square(&syy, y);
		ts_exact_add_product(&sxy, x, y);
	}
	double r = ts_exact_correlation(&sx, &sy, &sxx, &syy, &sxy);
	CHECK(r < -0.99 && r > -1);
	/* x against a constant: undefined */
	ts_exact_init(&sy);
	ts_exact_init(&syy);
	ts_exact_init(&sxy);
	for (int i = 1; i <= 100; i++) {
		double x = 1e8 + i;
		ts_exact_add(&sy, 5);
		ts_exact_add_square(&syy, 5);
		ts_exact_add_product(&sxy, x, 5);
	}
	CHECK(isnan(ts_exact_correlation(&sx, &sy, &sxx, &syy, &sxy)));

	/* a known small case: x = 1,2,3,4; y = 2,1,4,3: r = 0.6 */
	ts_exact_init(&sx);
	ts_exact_init(&sy);
	ts_exact_init(&sxx);
	ts_exact_init(&syy);
	ts_exact_init(&sxy);
	{
		double xs[] = { 1, 2, 3, 4 }, ys[] = { 2, 1, 4, 3 };
		for (int i = 0; i < 4; i++) {
			ts_exact_add(&sx, xs[i]);
			ts_exact_add(&sy, ys[i]);
			ts_exact_add_square(&sxx, xs[i]);
			ts_exact_add_square(&syy, ys[i]);
			ts_exact_add_product(&sxy, xs[i], ys[i]);
		}
	}
	r = ts_exact_correlation(&sx, &sy, &sxx, &syy, &sxy);
	CHECK(fabs(r - 0.6) < 1e-15);
}

/* Integer data: n·Σx² − (Σx)² and n·Σxy − Σx·Σy fit in 128 bits and can
 * be computed exactly another way; the results must be the same bits as
 * rounding those integers once and dividing. */
static void test_moments_against_integers(void)
{
	for (int round = 0; round < 200; round++) {
		struct ts_exact sx, sy, sxx, syy, sxy;
		__int128 n = 2 + round % 50, Sx = 0, Sy = 0, Sxx = 0, Syy = 0, Sxy = 0;
		ts_exact_init(&sx);
		ts_exact_init(&sy);
		ts_exact_init(&sxx);
		ts_exact_init(&syy);
		ts_exact_init(&sxy);
		for (int i = 0; i < (int)n; i++) {
			int64_t x = (int64_t)(next() % 2000001) - 1000000;
			int64_t y = round % 3 ? (int64_t)(next() % 2001) - 1000 : 3 * x - 7;
			Sx += x;
			Sy += y;
			Sxx += (__int128)x * x;
			Syy += (__int128)y * y;
			Sxy += (__int128)x * y;
			ts_exact_add(&sx, (double)x);
			ts_exact_add(&sy, (double)y);
			ts_exact_add_square(&sxx, (double)x);
			ts_exact_add_square(&syy, (double)y);
			ts_exact_add_product(&sxy, (double)x, (double)y);
		}
		__int128 A = n * Sxy - Sx * Sy, B = n * Sxx - Sx * Sx, C = n * Syy - Sy * Sy;
		double want_pop = (double)B / ((double)n * (double)n);
		double want_samp = (double)B / ((double)n * (double)(n - 1));
		CHECK(same(ts_exact_variance(&sx, &sxx, 0), want_pop));
		CHECK(same(ts_exact_variance(&sx, &sxx, 1), want_samp));
		CHECK(same(ts_exact_stddev(&sx, &sxx, 1), sqrt(want_samp)));
		CHECK(same(ts_exact_mean(&sx), (double)Sx / (double)n));
		double r = (double)A / sqrt((double)B * (double)C);
		if (r > 1)
			r = 1;
		if (r < -1)
			r = -1;
		if (B && C)
			CHECK(same(ts_exact_correlation(&sx, &sy, &sxx, &syy, &sxy), r));
		if (round % 3 == 0)
			CHECK(ts_exact_correlation(&sx, &sy, &sxx, &syy, &sxy) == 1);
	}
}

static void test_text(void)
{
	struct ts_exact a, b;
	struct ts_buf buf;
	char t[8192], t2[8192];

	ts_exact_init(&a);
	text_of(&a, t, sizeof(t));
	CHECK_STR(t, "x1:0:0:0:0:0");
	ts_exact_add(&a, 3.5);
	text_of(&a, t, sizeof(t));
	CHECK_STR(t, "x1:1:0:0:0:7p-1");
	ts_exact_add(&a, -10);
	ts_exact_add(&a, INFINITY);
	ts_exact_add(&a, NAN);
	ts_exact_add(&a, NAN);
	text_of(&a, t, sizeof(t));
	CHECK_STR(t, "x1:2:1:0:2:-dp-1"); /* 3.5 - 10 = -13/2 */
	ts_exact_init(&a);
	ts_exact_add(&a, 0x1p-1074);
	text_of(&a, t, sizeof(t));
	CHECK_STR(t, "x1:1:0:0:0:1p-1074");
	ts_exact_add_square(&a, 0x1p-1074);
	text_of(&a, t, sizeof(t));
	/* (2^1074 + 1)·2^-2148: 2^1074 = 4·16^268 */
	ts_buf_init(&buf, 0);
	ts_buf_addstr(&buf, "x1:2:0:0:0:4");
	for (int i = 0; i < 267; i++)
		ts_buf_addch(&buf, '0');
	ts_buf_addstr(&buf, "1p-2148");
	CHECK_STR(t, buf.data);
	ts_buf_release(&buf);

	/* round trips: random sums and products, both ways */
	for (int i = 0; i < 2000; i++) {
		ts_exact_init(&a);
		for (int k = 0; k < i % 17; k++) {
			if (k % 3 == 2)
				ts_exact_add_product(&a, mid_double(), any_double());
			else
				ts_exact_add(&a, any_double());
		}
		if (i % 50 == 0)
			ts_exact_add(&a, -INFINITY);
		text_of(&a, t, sizeof(t));
		CHECK(ts_exact_read(&b, t, strlen(t)) == 0);
		text_of(&b, t2, sizeof(t2));
		CHECK_STR(t2, t);
		CHECK(same(ts_exact_value(&a), ts_exact_value(&b)) ||
		      (isnan(ts_exact_value(&a)) && isnan(ts_exact_value(&b))));
	}

	/* the limits of what is read */
	const char *good[] = {
		"x1:0:0:0:0:0",
		"x1:340282366920938463463374607431768211455:18446744073709551615:0:0:0",
		"x1:1:0:0:0:1p2171",
		"x1:1:0:0:0:-3p2170",
		"x1:1:0:0:0:1p-2148",
		"x1:1:0:0:0:fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffp-2148",
		"x1:9:0:0:0:-abcdef1p0",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK(ts_exact_read(&b, good[i], strlen(good[i])) == 0);
		text_of(&b, t, sizeof(t));
		CHECK_STR(t, good[i]);
	}
	ts_exact_read(&b, "x1:9:0:0:0:-abcdef1p0", 21);
	CHECK(ts_exact_value(&b) == -(double)0xabcdef1);
	ts_exact_read(&b, "x1:1:0:0:0:1p2171", 17);
	ts_exact_read(&a, "x1:1:0:0:0:1p2171", 17);
	for (int i = 0; i < 30; i++)
		ts_exact_merge(&a, &a); /* 2^30 copies: still exact */
	text_of(&a, t, sizeof(t));
	CHECK_STR(t, "x1:1073741824:0:0:0:1p2201");

	const char *bad[] = {
		"", "x", "x1", "x1:", "x2:0:0:0:0:0", "x1:0:0:0:0", "x1:0:0:0:0:",
		"x1:0:0:0:0:00", "x1:00:0:0:0:0", "x1:01:0:0:0:0", "x1:-1:0:0:0:0",
		"x1:0:0:0:0:0 ", " x1:0:0:0:0:0", "x1:0:0:0:0:0\n", "x1:0:0:0:0:-0",
		"x1:1:0:0:0:2p0", "x1:1:0:0:0:1", "x1:1:0:0:0:1p", "x1:1:0:0:0:1p-",
		"x1:1:0:0:0:1p-0", "x1:1:0:0:0:1p01", "x1:1:0:0:0:1p+1", "x1:1:0:0:0:01p0",
		"x1:1:0:0:0:Ap0", "x1:1:0:0:0:1P0", "x1:1:0:0:0:1p-2149",
		"x1:1:0:0:0:1p2172", "x1:1:0:0:0:3p2171", "x1:1:0:0:0:1p99999999999",
		"x1:1:0:0:0:--1p0", "x1:1:0:0:0:-p0", "x1:1:0:0:0:p0", "x1:1:0:0:0:1p0p0",
		"x1:340282366920938463463374607431768211456:0:0:0:0",
		"x1:0:18446744073709551616:0:0:0", "x1:0:0:99999999999999999999:0:0",
		"x1:0:0:0:18446744073709551616:0", "x1:0:0:0:0:1p0:", "x1:0::0:0:0",
		"x1:0:0:0:0:0\0",
	};
	ts_exact_init(&a);
	ts_exact_add(&a, 42);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = strlen(bad[i]) + (i == sizeof(bad) / sizeof(bad[0]) - 1);
		errno = 0;
		if (!CHECK(ts_exact_read(&a, bad[i], n) == -1 && errno == EINVAL))
			fprintf(stderr, "    accepted: \"%s\"\n", bad[i]);
		CHECK(ts_exact_value(&a) == 42 && ts_exact_count(&a) == 1); /* untouched */
	}
	/* a long run of digits is refused before it is looked at bit by bit */
	ts_buf_init(&buf, 0);
	ts_buf_addstr(&buf, "x1:1:0:0:0:1");
	for (int i = 0; i < 2000; i++)
		ts_buf_addch(&buf, '0');
	ts_buf_addstr(&buf, "1p-2148");
	CHECK(ts_exact_read(&a, buf.data, buf.len) == -1);
	ts_buf_release(&buf);
}

/* Carry passes: many terms of the same sign and of alternating signs land
 * exactly (the batch boundary crossed many times). */
static void test_many(void)
{
	struct ts_exact a, b;
	char t[8192];

	ts_exact_init(&a);
	for (int i = 0; i < 1000003; i++)
		ts_exact_add(&a, DBL_MAX);
	CHECK(ts_exact_mean(&a) == DBL_MAX);
	for (int i = 0; i < 1000003; i++)
		ts_exact_add(&a, -DBL_MAX);
	CHECK(ts_exact_is_zero(&a));
	ts_exact_init(&b);
	for (int i = 0; i < 300001; i++)
		ts_exact_add_square(&b, i % 2 ? -DBL_MAX : 0x1p-1074);
	ts_exact_add(&b, 1);
	CHECK(ts_exact_value(&b) == INFINITY);
	for (int i = 0; i < 150000; i++)
		ts_exact_add_product(&b, -DBL_MAX, DBL_MAX);
	text_of(&b, t, sizeof(t));
	/* 150001 · 2^-2148 + 1: odd M, exponent -2148 */
	CHECK(strncmp(t, "x1:450002:0:0:0:", 16) == 0);
	ts_exact_add(&b, -1);
	text_of(&b, t, sizeof(t));
	CHECK_STR(t, "x1:450003:0:0:0:249f1p-2148");
}

int main(void)
{
	test_simple();
	test_rounding_against_ieee();
	test_specials();
	test_order_and_split();
	test_moments();
	test_moments_against_integers();
	test_text();
	test_many();
	return check_done();
}
