/* exact.c — see exact.h. */
#include "exact.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define BASE 2148 /* limb bit 0 weighs 2^-BASE */
#define MASK UINT64_C(0xffffffff)
#define TOP (TS_EXACT_LIMBS - 1)
/* A sum read from a state text stays below 2^READ_TOP (bit BASE+READ_TOP
 * is in limb 134): 31 doublings of headroom below the sign limb. */
#define READ_TOP 2172
/* Digits of a magnitude: the limbs, the sign limb split in two. */
#define ND (TS_EXACT_LIMBS + 1)
/* Digits of a product of two magnitudes, or of n times one shifted by BASE. */
#define NBIG (2 * ND + 2)

void ts_exact_init(struct ts_exact *a)
{
	memset(a, 0, sizeof(*a));
}

/* Bring limbs 0..TOP-1 to [0, 2^32), the carries into the sign limb.  The
 * division is exact (v - low is a multiple of 2^32), so this is an
 * arithmetic shift without relying on how >> treats negative numbers. */
static void carry(struct ts_exact *a)
{
	int64_t c = 0;

	for (int i = 0; i < TOP; i++) {
		int64_t v = a->limb[i] + c;
		int64_t low = (int64_t)((uint64_t)v & MASK);
		a->limb[i] = low;
		c = (v - low) / ((int64_t)1 << 32);
	}
	a->limb[TOP] += c;
	a->pending = 0;
}

/* Add ±m·2^(p - BASE), m < 2^53.  Limb i gets the low 32 - s bits shifted
 * up, limb i+1 the rest (< 2^52): each limb moves by less than 2^53 per
 * operation (a product's two halves included), so TS_EXACT_BATCH = 512
 * operations stay below 2^62 on top of a carried limb. */
static inline void add_at(struct ts_exact *a, uint64_t m, unsigned p, int64_t neg)
{
	unsigned i = p >> 5, s = p & 31;
	int64_t lo = (int64_t)((m << s) & MASK);
	int64_t hi = (int64_t)(m >> (32 - s));

	/* neg is 0 or -1: (x ^ neg) - neg is x or -x */
	a->limb[i] += (lo ^ neg) - neg;
	a->limb[i + 1] += (hi ^ neg) - neg;
}

static inline void done_op(struct ts_exact *a)
{
	if (++a->pending >= TS_EXACT_BATCH)
		carry(a);
}

static void count_special(struct ts_exact *a, double r)
{
	if (isnan(r))
		a->n_nan++;
	else if (r > 0)
		a->n_pinf++;
	else
		a->n_ninf++;
}

void ts_exact_add(struct ts_exact *a, double x)
{
	uint64_t b, m, e;

	memcpy(&b, &x, sizeof(b));
	e = (b >> 52) & 0x7ff;
	m = b & ((UINT64_C(1) << 52) - 1);
	if (e == 0x7ff) {
		count_special(a, x);
		return;
	}
	a->n++;
	if (e)
		m |= UINT64_C(1) << 52;
	else
		e = 1; /* subnormal: m·2^(1-1075) */
	if (!m)
		return;
	/* x = m·2^(e-1075): the lowest bit at e - 1075 + BASE */
	add_at(a, m, (unsigned)(e + BASE - 1075), -(int64_t)(b >> 63));
	done_op(a);
}

/* m·2^(e-1075) with e >= 1 (subnormals given e = 1, no hidden bit). */
static uint64_t split(double x, uint64_t *e, uint64_t *sign)
{
	uint64_t b, m;

	memcpy(&b, &x, sizeof(b));
	*sign = b >> 63;
	*e = (b >> 52) & 0x7ff;
	m = b & ((UINT64_C(1) << 52) - 1);
	if (*e)
		m |= UINT64_C(1) << 52;
	else
		*e = 1;
	return m;
}

void ts_exact_add_product(struct ts_exact *a, double x, double y)
{
	uint64_t ex, ey, sx, sy, mx, my, lo, hi;
	unsigned __int128 p;
	unsigned pos;
	int64_t neg;

	if (!isfinite(x) || !isfinite(y)) {
		count_special(a, x * y);
		return;
	}
	a->n++;
	mx = split(x, &ex, &sx);
	my = split(y, &ey, &sy);
	if (!mx || !my)
		return;
	/* x·y = mx·my·2^(ex+ey-2150): the lowest bit at ex + ey - 2 */
	p = (unsigned __int128)mx * my; /* < 2^106 */
	lo = (uint64_t)p & ((UINT64_C(1) << 53) - 1);
	hi = (uint64_t)(p >> 53);
	pos = (unsigned)(ex + ey + BASE - 2150);
	neg = -(int64_t)(sx ^ sy);
	add_at(a, lo, pos, neg);
	add_at(a, hi, pos + 53, neg);
	done_op(a);
}

void ts_exact_add_square(struct ts_exact *a, double x)
{
	ts_exact_add_product(a, x, x);
}

void ts_exact_merge(struct ts_exact *a, const struct ts_exact *b)
{
	struct ts_exact t = *b;

	carry(a);
	carry(&t);
	for (int i = 0; i < TS_EXACT_LIMBS; i++)
		a->limb[i] += t.limb[i];
	carry(a);
	a->n += t.n;
	a->n_pinf += t.n_pinf;
	a->n_ninf += t.n_ninf;
	a->n_nan += t.n_nan;
}

uint64_t ts_exact_count(const struct ts_exact *a)
{
	return a->n > UINT64_MAX ? UINT64_MAX : (uint64_t)a->n;
}

/* ---- big magnitudes ------------------------------------------------------ */

/* A magnitude: little-endian 32-bit digits, nd of them (no bound on leading
 * zeros). */

/* The sign (1 negative) and magnitude of the sum, ND digits. */
static int magnitude(const struct ts_exact *a, uint32_t *d)
{
	struct ts_exact t = *a;
	int64_t top;
	int neg;

	carry(&t);
	for (int i = 0; i < TOP; i++)
		d[i] = (uint32_t)t.limb[i];
	top = t.limb[TOP];
	d[TOP] = (uint32_t)((uint64_t)top & MASK);
	d[TOP + 1] = (uint32_t)((uint64_t)top >> 32);
	neg = top < 0;
	if (neg) { /* two's complement: invert and add one */
		uint64_t c = 1;
		for (int i = 0; i < ND; i++) {
			c += (uint32_t)~d[i];
			d[i] = (uint32_t)c;
			c >>= 32;
		}
	}
	return neg;
}

static long top_bit(const uint32_t *d, size_t nd)
{
	for (size_t i = nd; i-- > 0;)
		if (d[i])
			return (long)(i * 32) + 31 - __builtin_clz(d[i]);
	return -1;
}

static int bit(const uint32_t *d, size_t nd, long k)
{
	if (k < 0 || (size_t)(k >> 5) >= nd)
		return 0;
	return (d[k >> 5] >> (k & 31)) & 1;
}

/* Bits [lo, lo+count) as an integer, count <= 64, lo >= 0. */
static uint64_t bits(const uint32_t *d, size_t nd, long lo, int count)
{
	uint64_t v = 0;

	for (int k = count - 1; k >= 0; k--)
		v = (v << 1) | (uint64_t)bit(d, nd, lo + k);
	return v;
}

static int any_below(const uint32_t *d, size_t nd, long k)
{
	if (k <= 0)
		return 0;
	for (long i = 0; i < (k >> 5) && (size_t)i < nd; i++)
		if (d[i])
			return 1;
	if ((size_t)(k >> 5) < nd && (k & 31))
		return (d[k >> 5] & ((UINT32_C(1) << (k & 31)) - 1)) != 0;
	return 0;
}

/* Round the magnitude to q·2^u, q <= 2^53, u >= umin, to nearest, ties to
 * even (q = 2^53 when rounding carried out).  0 for a zero magnitude. */
static uint64_t round_big(const uint32_t *d, size_t nd, long umin, long *u)
{
	long h = top_bit(d, nd), k;
	uint64_t q;

	if (h < 0) {
		*u = 0;
		return 0;
	}
	k = h - 52;
	if (k < umin)
		k = umin;
	*u = k;
	if (k <= 0) /* every bit kept, exactly */
		return bits(d, nd, 0, (int)(h + 1)) << -k;
	if (k > h) /* all below the last place kept: only rounding is left */
		q = 0;
	else
		q = bits(d, nd, k, (int)(h - k + 1));
	if (bit(d, nd, k - 1) && (any_below(d, nd, k - 1) || (q & 1)))
		q++;
	return q;
}

double ts_exact_value(const struct ts_exact *a)
{
	uint32_t d[ND];
	uint64_t q;
	long u;
	int neg;

	if (a->n_nan || (a->n_pinf && a->n_ninf))
		return NAN;
	if (a->n_pinf)
		return INFINITY;
	if (a->n_ninf)
		return -INFINITY;
	neg = magnitude(a, d);
	/* the last place of a double is 2^-1074 at least: bit BASE - 1074 */
	q = round_big(d, ND, BASE - 1074, &u);
	if (!q) /* exact zero: +0; a product sum too small to show: ±0 */
		return neg ? -0.0 : 0.0;
	/* q <= 2^53 converts exactly; ldexp is exact or overflows to inf,
	 * which is what rounding to nearest gives past the largest double */
	double v = ldexp((double)q, (int)(u - BASE));
	return neg ? -v : v;
}

int ts_exact_is_zero(const struct ts_exact *a)
{
	struct ts_exact t = *a;

	if (a->n_nan || a->n_pinf || a->n_ninf)
		return 0;
	carry(&t);
	for (int i = 0; i < TS_EXACT_LIMBS; i++)
		if (t.limb[i])
			return 0;
	return 1;
}

/* ---- moments --------------------------------------------------------------- */

/* r = a·b (magnitudes), r has na + nb digits. */
static void mul(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, uint32_t *r)
{
	memset(r, 0, (na + nb) * sizeof(*r));
	for (size_t i = 0; i < na; i++) {
		uint64_t c = 0;
		if (!a[i])
			continue;
		for (size_t j = 0; j < nb; j++) {
			c += (uint64_t)a[i] * b[j] + r[i + j];
			r[i + j] = (uint32_t)c;
			c >>= 32;
		}
		for (size_t k = i + nb; c; k++) {
			c += r[k];
			r[k] = (uint32_t)c;
			c >>= 32;
		}
	}
}

static int cmp(const uint32_t *a, const uint32_t *b, size_t n)
{
	for (size_t i = n; i-- > 0;)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* r = a - b, a >= b, n digits each. */
static void sub(const uint32_t *a, const uint32_t *b, uint32_t *r, size_t n)
{
	int64_t c = 0;

	for (size_t i = 0; i < n; i++) {
		c += (int64_t)a[i] - b[i];
		r[i] = (uint32_t)c;
		c = c < 0 ? -1 : 0;
	}
}

/* The exact n·Sab − Sa·Sb as sign and magnitude, scaled by 2^-2·BASE,
 * rounded to q·2^u (q <= 2^53, u unbounded).  Returns q, 0 for zero. */
static uint64_t cross(unsigned __int128 n, const struct ts_exact *sab,
		      const struct ts_exact *sa, const struct ts_exact *sb,
		      int *neg, long *u)
{
	uint32_t da[ND], db[ND], dab[ND], nn[4];
	uint32_t p[NBIG], q[NBIG], r[NBIG];
	int nega, negb, negab, negq;
	uint64_t res;

	memset(p, 0, sizeof(p));
	nega = magnitude(sa, da);
	negb = magnitude(sb, db);
	negab = magnitude(sab, dab);
	/* q = |Sa·Sb|: 2·ND digits, then zeros */
	mul(da, ND, db, ND, q);
	memset(q + 2 * ND, 0, (NBIG - 2 * ND) * sizeof(*q));
	negq = nega ^ negb;
	/* p = |n·Sab|·2^BASE: BASE = 67·32 + 4 bits */
	for (int i = 0; i < 4; i++)
		nn[i] = (uint32_t)(n >> (32 * i));
	{
		uint32_t t[ND + 4];
		uint64_t c = 0;

		mul(nn, 4, dab, ND, t);
		for (size_t i = 0; i < ND + 4; i++) {
			c |= (uint64_t)t[i] << (BASE % 32);
			p[i + BASE / 32] = (uint32_t)c;
			c >>= 32;
		}
		p[ND + 4 + BASE / 32] = (uint32_t)c;
	}
	/* r = p − q with signs negab and negq */
	if (negab != negq) { /* magnitudes add */
		uint64_t c = 0;
		for (size_t i = 0; i < NBIG; i++) {
			c += (uint64_t)p[i] + q[i];
			r[i] = (uint32_t)c;
			c >>= 32;
		}
		*neg = negab;
	} else if (cmp(p, q, NBIG) >= 0) {
		sub(p, q, r, NBIG);
		*neg = negab;
	} else {
		sub(q, p, r, NBIG);
		*neg = !negab;
	}
	res = round_big(r, NBIG, -1000000, u);
	*u -= 2 * BASE;
	if (!res)
		*neg = 0;
	return res;
}

static int special(const struct ts_exact *a)
{
	return a->n_nan || a->n_pinf || a->n_ninf;
}

double ts_exact_mean(const struct ts_exact *s1)
{
	uint32_t d[ND];
	uint64_t q;
	long u;
	int neg;

	if (special(s1))
		return ts_exact_value(s1);
	if (!s1->n)
		return NAN;
	neg = magnitude(s1, d);
	q = round_big(d, ND, -1000000, &u);
	/* divide before scaling: the sum may be beyond the double range
	 * where the mean is not */
	double m = ldexp((double)q / (double)s1->n, (int)(u - BASE));
	return neg ? -m : m;
}

double ts_exact_variance(const struct ts_exact *s1, const struct ts_exact *s2,
			 int sample)
{
	unsigned __int128 n = s1->n;
	uint64_t q;
	long u;
	int neg;

	if (special(s1) || special(s2) || n == 0 || s2->n != n || (sample && n < 2))
		return NAN;
	q = cross(n, s2, s1, s1, &neg, &u);
	if (neg) /* n·Σx² >= (Σx)² always (Cauchy–Schwarz): s2 is not Σx² */
		return NAN;
	double den = (double)n * (double)(n - (sample ? 1 : 0));
	return ldexp((double)q / den, (int)u);
}

double ts_exact_stddev(const struct ts_exact *s1, const struct ts_exact *s2,
		       int sample)
{
	return sqrt(ts_exact_variance(s1, s2, sample));
}

double ts_exact_correlation(const struct ts_exact *sx, const struct ts_exact *sy,
			    const struct ts_exact *sxx, const struct ts_exact *syy,
			    const struct ts_exact *sxy)
{
	unsigned __int128 n = sx->n;
	uint64_t qa, qb, qc;
	long ua, ub, uc, e;
	int nega, negb, negc;
	double r;

	if (special(sx) || special(sy) || special(sxx) || special(syy) ||
	    special(sxy))
		return NAN;
	if (n < 2 || sy->n != n || sxx->n != n || syy->n != n || sxy->n != n)
		return NAN;
	qa = cross(n, sxy, sx, sy, &nega, &ua);
	qb = cross(n, sxx, sx, sx, &negb, &ub);
	qc = cross(n, syy, sy, sy, &negc, &uc);
	if (!qb || !qc || negb || negc)
		return NAN;
	/* a / sqrt(b·c) with b·c = qb·qc·2^(ub+uc): make the exponent even */
	e = ub + uc;
	double b = (double)qb;
	if (e & 1) {
		b *= 2;
		e--;
	}
	r = ldexp((double)qa / sqrt(b * (double)qc), (int)(ua - e / 2));
	if (r > 1)
		r = 1;
	if (nega)
		r = -r;
	if (r < -1)
		r = -1;
	return r;
}

/* ---- state text ------------------------------------------------------------- */

static int put_u128(struct ts_buf *out, unsigned __int128 v)
{
	char t[40];
	int i = sizeof(t);

	do {
		t[--i] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v);
	return ts_buf_add(out, t + i, sizeof(t) - (size_t)i);
}

int ts_exact_write(const struct ts_exact *a, struct ts_buf *out)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t d[ND];
	long lo, hi;
	int neg;

	neg = magnitude(a, d);
	if (ts_buf_add(out, "x1:", 3) < 0 || put_u128(out, a->n) < 0 ||
	    ts_buf_addf(out, ":%llu:%llu:%llu:", (unsigned long long)a->n_pinf,
			(unsigned long long)a->n_ninf,
			(unsigned long long)a->n_nan) < 0)
		return -1;
	hi = top_bit(d, ND);
	if (hi < 0)
		return ts_buf_addch(out, '0');
	for (lo = 0; !bit(d, ND, lo); lo++)
		;
	if (neg && ts_buf_addch(out, '-') < 0)
		return -1;
	/* M = bits [lo, hi], in hex from the top: the first digit takes
	 * what is left over of a multiple of four */
	long len = hi - lo + 1;
	int first = (int)(len % 4 ? len % 4 : 4);
	for (long k = len - first; k >= 0; k -= 4) {
		int w = k == len - first ? first : 4;
		if (ts_buf_addch(out, hex[bits(d, ND, lo + k, w)]) < 0)
			return -1;
	}
	return ts_buf_addf(out, "p%ld", lo - BASE);
}

/* A decimal without leading zeros into *v (< limit); advances *p. */
static int get_dec(const char **p, const char *end, unsigned __int128 limit,
		   unsigned __int128 *v)
{
	const char *s = *p;
	unsigned __int128 x = 0;

	if (s == end || *s < '0' || *s > '9' || (*s == '0' && s + 1 < end &&
						 s[1] >= '0' && s[1] <= '9'))
		return -1;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		unsigned dgt = (unsigned)(*s - '0');
		if (x > (limit - dgt) / 10)
			return -1;
		x = x * 10 + dgt;
	}
	*p = s;
	*v = x;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int expect(const char **p, const char *end, char c)
{
	if (*p == end || **p != c)
		return -1;
	(*p)++;
	return 0;
}

int ts_exact_read(struct ts_exact *a, const char *s, size_t n)
{
	const char *p = s, *end = s + n, *h0, *h1;
	unsigned __int128 cnt, pinf, ninf, nan, ev;
	struct ts_exact t;
	long e, len;
	int neg = 0, eneg = 0;

	ts_exact_init(&t);
	if (n < 3 || memcmp(p, "x1:", 3) != 0)
		goto bad;
	p += 3;
	if (get_dec(&p, end, ~(unsigned __int128)0, &cnt) < 0 ||
	    expect(&p, end, ':') < 0 ||
	    get_dec(&p, end, UINT64_MAX, &pinf) < 0 || expect(&p, end, ':') < 0 ||
	    get_dec(&p, end, UINT64_MAX, &ninf) < 0 || expect(&p, end, ':') < 0 ||
	    get_dec(&p, end, UINT64_MAX, &nan) < 0 || expect(&p, end, ':') < 0)
		goto bad;
	t.n = cnt;
	t.n_pinf = (uint64_t)pinf;
	t.n_ninf = (uint64_t)ninf;
	t.n_nan = (uint64_t)nan;
	if (end - p == 1 && *p == '0')
		goto good;
	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	h0 = p;
	while (p < end && hexval(*p) >= 0)
		p++;
	h1 = p;
	/* no leading zero, an odd last digit, at most the bits that fit */
	if (h1 == h0 || *h0 == '0' || !(hexval(h1[-1]) & 1) ||
	    h1 - h0 > (BASE + READ_TOP) / 4 + 1)
		goto bad;
	if (expect(&p, end, 'p') < 0)
		goto bad;
	if (p < end && *p == '-') {
		eneg = 1;
		p++;
	}
	if (get_dec(&p, end, 100000, &ev) < 0 || p != end || (eneg && ev == 0))
		goto bad;
	e = eneg ? -(long)ev : (long)ev;
	len = 4 * (h1 - h0 - 1) + (32 - __builtin_clz((unsigned)hexval(*h0)));
	if (e < -BASE || e + len > READ_TOP)
		goto bad;
	/* M·2^e: hex digit k from the end sits at bit e + BASE + 4k */
	for (const char *c = h1; c-- > h0;) {
		long b = e + BASE + 4 * (h1 - 1 - c);
		int64_t v = hexval(*c);
		t.limb[b >> 5] += v << (b & 31) & (int64_t)MASK;
		if ((b & 31) > 28)
			t.limb[(b >> 5) + 1] += v >> (32 - (b & 31));
	}
	if (neg)
		for (int i = 0; i < TS_EXACT_LIMBS; i++)
			t.limb[i] = -t.limb[i];
	carry(&t);
good:
	*a = t;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}
