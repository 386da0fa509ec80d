/*
 * exact.h — exact, order-independent sums of doubles (and of their squares
 * and products), for metrics that must not depend on how the input was split.
 *
 * A struct ts_exact is a fixed-point superaccumulator: a two's complement
 * integer of 136 limbs of 32 bits whose lowest bit weighs 2^-2148, the
 * weight of the smallest product of two subnormal doubles.  Every finite
 * double, every exact product of two finite doubles and every sum of up to
 * 2^64 of them fits without rounding, so the sum held is the exact
 * mathematical sum of the multiset of terms added: the same whatever the
 * order of the additions and however the terms were split between
 * accumulators that are merged afterwards.  Rounding happens once, when a
 * result is asked for.
 *
 * Non-finite terms are not summed but counted (n_pinf, n_ninf, n_nan); the
 * value is then NaN if there was a NaN or both infinities, else the
 * infinity seen.  n counts the finite terms (zeros included), exactly, in
 * 128 bits.
 *
 * Speed: adding a term touches two limbs (four for a product) and an
 * occasional pass over all limbs propagates carries (every
 * TS_EXACT_BATCH operations), a few ns per term.
 *
 * The struct is plain data (about 1.1 KB): no allocation, copy it with =,
 * no _release needed.  Nothing here sets errno except ts_exact_read().
 */
#ifndef TS_EXACT_H
#define TS_EXACT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define TS_EXACT_LIMBS 136
#define TS_EXACT_BATCH 512 /* operations between carry passes */

struct ts_exact {
	/* limb[i] weighs 2^(32 i - 2148); between carry passes limbs hold
	 * more than 32 bits (signed), the pass brings limbs 0..134 back to
	 * [0, 2^32) and leaves the sign in limb 135. */
	int64_t limb[TS_EXACT_LIMBS];
	unsigned __int128 n;            /* finite terms added */
	uint64_t n_pinf, n_ninf, n_nan; /* non-finite terms */
	unsigned pending;               /* operations since the last carry pass */
};

void ts_exact_init(struct ts_exact *a);
/* Add x; ±inf and NaN are counted, not summed. */
void ts_exact_add(struct ts_exact *a, double x);
/* Add x*x exactly (the 106-bit product, not the rounded double). */
void ts_exact_add_square(struct ts_exact *a, double x);
/* Add x*y exactly; a non-finite product (inf*x, 0*inf, NaN) is counted as
 * the IEEE product would be: +inf, -inf or NaN. */
void ts_exact_add_product(struct ts_exact *a, double x, double y);
/* a += b (sums, counts, non-finite counts).  b is not changed. */
void ts_exact_merge(struct ts_exact *a, const struct ts_exact *b);

/* The sum correctly rounded to the nearest double (ties to even; a sum
 * beyond the double range is ±inf); NaN/±inf as described above.  The sum
 * of no terms is +0; an exact zero sum is +0. */
double ts_exact_value(const struct ts_exact *a);
/* 1 when the sum is an exact zero (and no non-finite term was seen). */
int ts_exact_is_zero(const struct ts_exact *a);
/* The count of finite terms, saturated to UINT64_MAX. */
uint64_t ts_exact_count(const struct ts_exact *a);

/*
 * Moments from exact sums.  s1 holds Σx (ts_exact_add), s2 Σx² (add_square),
 * sxy Σxy (add_product); n is taken from s1 (the finite terms).  What the
 * result depends on is computed exactly as a big integer first —
 * n·Σx² − (Σx)², n·Σxy − Σx·Σy — and only then rounded: no cancellation,
 * and the same bits for the same multiset of values however it was split.
 * The last steps (a division, a square root) are done in double arithmetic
 * on correctly rounded operands, so the results are within a few ulps of
 * the true value, not necessarily correctly rounded, but deterministic.
 *
 *   mean      Σx / n                          NaN when n = 0
 *   variance  (n Σx² − (Σx)²) / (n·d),  d = n (population, sample = 0)
 *             or n − 1 (sample = 1)           NaN when n = 0, or n = 1 and sample
 *   stddev    sqrt(variance)
 *   correlation (n Σxy − Σx Σy) / sqrt((n Σx² − (Σx)²)(n Σy² − (Σy)²)),
 *             clamped to [-1, 1]              NaN when n < 2 or either
 *             variance is 0, or the counts of the five sums differ
 * Any non-finite term in an input gives NaN (mean: the value of s1 / n,
 * i.e. ±inf or NaN).
 */
double ts_exact_mean(const struct ts_exact *s1);
double ts_exact_variance(const struct ts_exact *s1, const struct ts_exact *s2,
			 int sample);
double ts_exact_stddev(const struct ts_exact *s1, const struct ts_exact *s2,
		       int sample);
double ts_exact_correlation(const struct ts_exact *sx, const struct ts_exact *sy,
			    const struct ts_exact *sxx, const struct ts_exact *syy,
			    const struct ts_exact *sxy);

/*
 * State text: one line-safe ASCII token, appended to out without a NUL
 * or newline:
 *
 *   x1:N:PINF:NINF:NAN:SUM
 *
 * N (finite terms, < 2^128), PINF, NINF, NAN (< 2^64) in decimal without
 * leading zeros; SUM is "0", or an optional "-", lowercase hex digits
 * without leading zeros of an odd integer M, "p" and a decimal exponent E
 * (optional "-", no leading zeros): the exact sum is M·2^E.  Example: 3.5
 * summed once is "x1:1:0:0:0:7p-1".  The form is canonical: one sum, one
 * text.  ts_exact_read() accepts exactly this form (and a sum that fits:
 * 2^-2148 ≤ |M·2^E| < 2^2172, so merges of up to 2^31 states cannot
 * overflow) and nothing else, from the n bytes at s (no NUL needed).
 *
 * ts_exact_write: 0, or -1 (the buffer's limit; errno from ts_buf).
 * ts_exact_read: 0, or -1 with errno = EINVAL and *a untouched.
 */
int ts_exact_write(const struct ts_exact *a, struct ts_buf *out);
int ts_exact_read(struct ts_exact *a, const char *s, size_t n);

#endif
