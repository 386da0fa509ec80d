/* sigv4.c — hashing on OpenSSL's EVP interface and AWS Signature Version 4
 * (see sigv4.h for the contract). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sigv4.h"
#include "util.h"

/* OpenSSL fails here only when it cannot allocate a few hundred bytes or its
 * default provider is missing; no request can be signed then, and carrying
 * on with a zero digest would send wrong data silently. */
static void crypto_fail(const char *what)
{
	fprintf(stderr, "ts: openssl: %s failed\n", what);
	abort();
}

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void ts_sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdn = 0;

	if (!EVP_Digest(p, n, md, &mdn, EVP_sha256(), NULL) || mdn != 32)
		crypto_fail("sha256");
	hex(md, 32, out);
}

void ts_sha256_init(struct ts_sha256 *h)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		crypto_fail("sha256 init");
	h->ctx = ctx;
}

void ts_sha256_update(struct ts_sha256 *h, const void *p, size_t n)
{
	if (n && !EVP_DigestUpdate(h->ctx, p, n))
		crypto_fail("sha256 update");
}

void ts_sha256_final_hex(struct ts_sha256 *h, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdn = 0;

	if (!EVP_DigestFinal_ex(h->ctx, md, &mdn) || mdn != 32)
		crypto_fail("sha256 final");
	hex(md, 32, out);
	ts_sha256_release(h);
}

void ts_sha256_release(struct ts_sha256 *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

void ts_md5_base64(const void *p, size_t n, char out[25])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdn = 0;

	if (!EVP_Digest(p, n, md, &mdn, EVP_md5(), NULL) || mdn != 16)
		crypto_fail("md5");
	if (EVP_EncodeBlock((unsigned char *)out, md, 16) != 24)
		crypto_fail("base64");
}

void ts_hmac_sha256(const void *key, size_t keyn, const void *msg, size_t msgn,
		    unsigned char out[32])
{
	unsigned int outn = 0;

	/* HMAC() takes the key length as an int */
	if (keyn > INT32_MAX)
		crypto_fail("hmac key length");
	if (!HMAC(EVP_sha256(), key, (int)keyn, msg, msgn, out, &outn) ||
	    outn != 32)
		crypto_fail("hmac-sha256");
}

static char *digits(char *p, int v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + width;
}

void ts_amz_date(time_t t, char out[17])
{
	struct tm tm;
	char *p = out;

	/* years past 9999 would not fit the field: those (and times gmtime_r
	 * cannot represent) give "" rather than a wrong date */
	out[0] = '\0';
	if (!gmtime_r(&t, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
		return;
	p = digits(p, tm.tm_year + 1900, 4);
	p = digits(p, tm.tm_mon + 1, 2);
	p = digits(p, tm.tm_mday, 2);
	*p++ = 'T';
	p = digits(p, tm.tm_hour, 2);
	p = digits(p, tm.tm_min, 2);
	p = digits(p, tm.tm_sec, 2);
	*p++ = 'Z';
	*p = '\0';
}

/* ---- signing ---- */

/* Decode %XX in p[0..n) then encode canonically: one query name or value
 * reaches the same form however the client chose to escape it. */
static int requote(struct ts_buf *b, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '%') {
			int hi, lo;
			if (n - i < 3)
				return -1;
			hi = ts_hexval(p[i + 1]);
			lo = ts_hexval(p[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (ts_pct_encode(b, &c, 1, 0) < 0)
			return -1;
	}
	return 0;
}

/* The canonical URI of a service other than S3: RFC 3986 dot segments
 * removed, empty segments dropped (the services treat "a//b" as "a/b"), a
 * trailing slash kept, then every byte encoded once more. */
static int canonical_path(struct ts_buf *out, const char *path)
{
	struct ts_buf segs; /* the kept segments, each followed by a NUL */
	size_t n = strlen(path);
	int rc = -1;

	ts_buf_init(&segs, 0);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && path[j] != '/')
			j++;
		size_t len = j - i;
		if (len == 0 || (len == 1 && path[i] == '.')) {
			/* nothing */
		} else if (len == 2 && path[i] == '.' && path[i + 1] == '.') {
			/* drop the last kept segment */
			if (segs.len) {
				size_t k = segs.len - 1;
				while (k > 0 && segs.data[k - 1] != '\0')
					k--;
				ts_buf_setlen(&segs, k);
			}
		} else if (ts_buf_add(&segs, path + i, len) < 0 ||
			   ts_buf_addch(&segs, '\0') < 0) {
			goto out;
		}
		i = j + 1;
	}
	if (ts_buf_addch(out, '/') < 0)
		goto out;
	for (size_t i = 0; i < segs.len;) {
		size_t len = strlen(segs.data + i);
		if (i && ts_buf_addch(out, '/') < 0)
			goto out;
		if (ts_pct_encode(out, segs.data + i, len, 0) < 0)
			goto out;
		i += len + 1;
	}
	if (segs.len && n && path[n - 1] == '/' && ts_buf_addch(out, '/') < 0)
		goto out;
	rc = 0;
out:
	ts_buf_release(&segs);
	return rc;
}

/* One name=value pair of the query, both in canonical form: offsets into
 * the text buffer while it grows, then pointers for sorting (no global
 * state: signing may run in several threads at once). */
struct qpair {
	size_t name, namen, value, valuen;
	const char *n, *v;
};

static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	if (c)
		return c;
	return an < bn ? -1 : an > bn;
}

static int qp_cmp(const void *a, const void *b)
{
	const struct qpair *x = a, *y = b;
	int c = bytes_cmp(x->n, x->namen, y->n, y->namen);

	return c ? c : bytes_cmp(x->v, x->valuen, y->v, y->valuen);
}

static int canonical_query(struct ts_buf *out, const char *q)
{
	struct ts_buf text;
	struct qpair *pairs = NULL;
	size_t npairs = 0, cap = 0;
	int rc = -1;

	ts_buf_init(&text, 0);
	while (q && *q) {
		const char *end = strchr(q, '&');
		size_t len = end ? (size_t)(end - q) : strlen(q);
		if (len) {
			const char *eq = memchr(q, '=', len);
			size_t nl = eq ? (size_t)(eq - q) : len;
			struct qpair p;
			if (npairs == cap) {
				size_t ncap = cap ? 2 * cap : 16;
				struct qpair *np = realloc(pairs, ncap * sizeof *np);
				if (!np)
					goto out;
				pairs = np;
				cap = ncap;
			}
			p.name = text.len;
			if (requote(&text, q, nl) < 0)
				goto out;
			p.namen = text.len - p.name;
			p.value = text.len;
			if (eq && requote(&text, eq + 1, len - nl - 1) < 0)
				goto out;
			p.valuen = text.len - p.value;
			pairs[npairs++] = p;
		}
		q = end ? end + 1 : q + len;
	}
	/* pairs equal in name and value are equal bytes: qsort's instability
	 * cannot show */
	for (size_t i = 0; i < npairs; i++) {
		pairs[i].n = text.data + pairs[i].name;
		pairs[i].v = text.data + pairs[i].value;
	}
	if (npairs > 1)
		qsort(pairs, npairs, sizeof *pairs, qp_cmp);
	for (size_t i = 0; i < npairs; i++) {
		if ((i && ts_buf_addch(out, '&') < 0) ||
		    ts_buf_add(out, text.data + pairs[i].name, pairs[i].namen) < 0 ||
		    ts_buf_addch(out, '=') < 0 ||
		    ts_buf_add(out, text.data + pairs[i].value, pairs[i].valuen) < 0)
			goto out;
	}
	rc = 0;
out:
	free(pairs);
	ts_buf_release(&text);
	return rc;
}

/* One header line: its lower-cased name and its squeezed value, offsets
 * into the text buffer; idx keeps the caller's order among equal names. */
struct hdr {
	size_t name, namen, value, valuen, idx;
	const char *n;
};

static int hd_cmp(const void *a, const void *b)
{
	const struct hdr *x = a, *y = b;
	int c = bytes_cmp(x->n, x->namen, y->n, y->namen);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int tchar(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int blank(char c)
{
	return c == ' ' || c == '\t';
}

static int has_crlf(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

/* Parse rq->headers into hs (sorted) and text.  -1 for a line that is not
 * "Name: value". */
static int parse_headers(const char *const *lines, struct hdr **hsp,
			 size_t *np, struct ts_buf *text)
{
	size_t n = 0;
	struct hdr *hs;

	while (lines[n])
		n++;
	*hsp = hs = calloc(n ? n : 1, sizeof *hs);
	*np = n;
	if (!hs)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *l = lines[i], *colon = strchr(l, ':');
		if (!colon || colon == l || has_crlf(l))
			return -1;
		hs[i].idx = i;
		hs[i].name = text->len;
		for (const char *p = l; p < colon; p++) {
			unsigned char c = (unsigned char)*p;
			/* a field name is a token (RFC 9110): that also keeps
			 * ';' and ',' out of SignedHeaders */
			if (!tchar(c))
				return -1;
			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c - 'A' + 'a');
			if (ts_buf_addch(text, (char)c) < 0)
				return -1;
		}
		hs[i].namen = text->len - hs[i].name;
		hs[i].value = text->len;
		const char *v = colon + 1;
		int gap = 0;
		while (blank(*v))
			v++;
		for (; *v; v++) {
			if (blank(*v)) {
				gap = 1;
				continue;
			}
			if ((gap && ts_buf_addch(text, ' ') < 0) ||
			    ts_buf_addch(text, *v) < 0)
				return -1;
			gap = 0;
		}
		hs[i].valuen = text->len - hs[i].value;
	}
	for (size_t i = 0; i < n; i++)
		hs[i].n = text->data + hs[i].name;
	if (n > 1)
		qsort(hs, n, sizeof *hs, hd_cmp);
	return 0;
}

static int same_name(const char *base, const struct hdr *a, const struct hdr *b)
{
	return a->namen == b->namen &&
	       memcmp(base + a->name, base + b->name, a->namen) == 0;
}

static int valid_inputs(const struct ts_sigv4_req *rq,
			const struct ts_aws_cred *c,
			const struct ts_sigv4_scope *s)
{
	if (!rq || !c || !s || !rq->method || !*rq->method || !rq->path ||
	    (*rq->path && *rq->path != '/') ||
	    !rq->headers || !rq->payload_hash || !c->access_key ||
	    !c->secret_key || !s->region || !s->service || !s->amzdate)
		return 0;
	if (has_crlf(rq->method) || has_crlf(rq->path) ||
	    (rq->query && has_crlf(rq->query)) || has_crlf(rq->payload_hash) ||
	    has_crlf(c->access_key) || has_crlf(s->region) ||
	    has_crlf(s->service))
		return 0;
	/* the scope is split at '/' by whoever checks it */
	if (strchr(s->region, '/') || strchr(s->service, '/') ||
	    strchr(c->access_key, '/') || strchr(c->access_key, ',') ||
	    strchr(c->access_key, ' '))
		return 0;
	const char *d = s->amzdate;
	if (strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z')
		return 0;
	for (int i = 0; i < 15; i++)
		if (i != 8 && (d[i] < '0' || d[i] > '9'))
			return 0;
	return 1;
}

/* The signing key: four HMACs chained from "AWS4" + secret over the date,
 * region, service and "aws4_request". */
static int signing_key(const char *secret, const struct ts_sigv4_scope *s,
		       unsigned char key[32])
{
	size_t sn = strlen(secret);
	char *k0 = malloc(sn + 4);

	if (!k0)
		return -1;
	memcpy(k0, "AWS4", 4);
	memcpy(k0 + 4, secret, sn);
	ts_hmac_sha256(k0, sn + 4, s->amzdate, 8, key);
	OPENSSL_cleanse(k0, sn + 4);
	free(k0);
	ts_hmac_sha256(key, 32, s->region, strlen(s->region), key);
	ts_hmac_sha256(key, 32, s->service, strlen(s->service), key);
	ts_hmac_sha256(key, 32, "aws4_request", 12, key);
	return 0;
}

int ts_sigv4_sign(const struct ts_sigv4_req *rq, const struct ts_aws_cred *c,
		  const struct ts_sigv4_scope *s, struct ts_buf *creq,
		  struct ts_buf *sts, struct ts_buf *authz)
{
	struct ts_buf mycreq, mysts, text, signed_hdrs;
	struct hdr *hs = NULL;
	size_t nh = 0;
	unsigned char key[32], sig[32];
	char h[65], sighex[65];
	int rc = -1;

	ts_buf_init(&mycreq, 0);
	ts_buf_init(&mysts, 0);
	ts_buf_init(&text, 0);
	ts_buf_init(&signed_hdrs, 0);
	if (!creq)
		creq = &mycreq;
	if (!sts)
		sts = &mysts;
	ts_buf_reset(creq);
	ts_buf_reset(sts);
	if (authz)
		ts_buf_reset(authz);
	if (!valid_inputs(rq, c, s))
		goto out;

	/* canonical request: method, URI, query, headers, signed headers,
	 * payload hash */
	if (ts_buf_addstr(creq, rq->method) < 0 || ts_buf_addch(creq, '\n') < 0)
		goto out;
	if (s->s3) {
		if (ts_buf_addstr(creq, *rq->path ? rq->path : "/") < 0)
			goto out;
	} else if (canonical_path(creq, rq->path) < 0) {
		goto out;
	}
	if (ts_buf_addch(creq, '\n') < 0 || canonical_query(creq, rq->query) < 0 ||
	    ts_buf_addch(creq, '\n') < 0)
		goto out;
	if (parse_headers(rq->headers, &hs, &nh, &text) < 0)
		goto out;
	for (size_t i = 0; i < nh; i++) {
		const struct hdr *x = &hs[i];
		if (i && same_name(text.data, &hs[i - 1], x)) {
			/* a repeated name: its values joined in the order given */
			if (ts_buf_addch(creq, ',') < 0)
				goto out;
		} else {
			if ((i && ts_buf_addch(creq, '\n') < 0) ||
			    ts_buf_add(creq, text.data + x->name, x->namen) < 0 ||
			    ts_buf_addch(creq, ':') < 0)
				goto out;
			if ((i && ts_buf_addch(&signed_hdrs, ';') < 0) ||
			    ts_buf_add(&signed_hdrs, text.data + x->name, x->namen) < 0)
				goto out;
		}
		if (ts_buf_add(creq, text.data + x->value, x->valuen) < 0)
			goto out;
	}
	if ((nh && ts_buf_addch(creq, '\n') < 0) || ts_buf_addch(creq, '\n') < 0 ||
	    ts_buf_add(creq, signed_hdrs.data, signed_hdrs.len) < 0 ||
	    ts_buf_addch(creq, '\n') < 0 ||
	    ts_buf_addstr(creq, rq->payload_hash) < 0)
		goto out;

	/* string to sign */
	ts_sha256_hex(creq->data, creq->len, h);
	if (ts_buf_addf(sts, "AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aws4_request\n%s",
			s->amzdate, s->amzdate, s->region, s->service, h) < 0)
		goto out;

	if (signing_key(c->secret_key, s, key) < 0)
		goto out;
	ts_hmac_sha256(key, sizeof key, sts->data, sts->len, sig);
	OPENSSL_cleanse(key, sizeof key);
	hex(sig, sizeof sig, sighex);
	if (authz &&
	    ts_buf_addf(authz,
			"AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request, "
			"SignedHeaders=%s, Signature=%s",
			c->access_key, s->amzdate, s->region, s->service,
			signed_hdrs.data, sighex) < 0)
		goto out;
	rc = 0;
out:
	free(hs);
	ts_buf_release(&text);
	ts_buf_release(&signed_hdrs);
	ts_buf_release(&mycreq);
	ts_buf_release(&mysts);
	return rc;
}
