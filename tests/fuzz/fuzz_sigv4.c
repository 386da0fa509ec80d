/*
 * fuzz_sigv4.c — Signature Version 4 (sigv4.h) on random requests.
 *
 * The input, split at newlines, is: the method, the path, the query, an
 * options line ('1' first for S3 rules; anything after its first byte is
 * the X-Amz-Date value, else a fixed one), then header lines.
 * ts_sigv4_sign() returns 0 or -1 and never crashes; when it signs:
 *   - the same request signs the same way again, with or without the
 *     canonical request and string to sign asked for;
 *   - the canonical request has its six parts: the method, a URI that
 *     starts with '/' (for other services than S3 encoded, without empty,
 *     "." or ".." segments), a query of name=value pairs in canonical
 *     encoding, sorted, one line per distinct header name, lower-case and
 *     strictly ascending, the signed-header list naming the same headers,
 *     and the payload hash;
 *   - the string to sign holds the SHA-256 of the canonical request, and
 *     the signature is the HMAC chain computed again here;
 *   - the order of header lines with different names, the case of header
 *     names and the order of the query's parts do not change the signature.
 * A header line without ':' is always refused.  Alongside, the hashes:
 * SHA-256 streamed in two pieces equals the one-shot digest, Content-MD5 is
 * 24 base64 characters, and ts_amz_date() of the input's first bytes is ""
 * or a well-formed date.
 */
#include <string.h>

#include "fuzz.h"
#include "sigv4.h"

#define MAX_LINES 40

static const char fixed_date[] = "20150830T123600Z";

static int is_unreserved(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

static int is_uhex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* p[0..n) is canonically encoded: unreserved bytes, %XX (upper-case) for
 * the others, plus the bytes of extra. */
static int canonical_text(const char *p, size_t n, const char *extra)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '%') {
			if (i + 2 >= n || !is_uhex(p[i + 1]) || !is_uhex(p[i + 2]))
				return 0;
			/* an unreserved byte is never escaped */
			int c = (p[i + 1] >= 'A' ? p[i + 1] - 'A' + 10 : p[i + 1] - '0') * 16 +
				(p[i + 2] >= 'A' ? p[i + 2] - 'A' + 10 : p[i + 2] - '0');
			if (is_unreserved((char)c))
				return 0;
			i += 2;
		} else if (!is_unreserved(p[i]) && !strchr(extra, p[i])) {
			return 0;
		}
	}
	return 1;
}

static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	return c ? c : (an > bn) - (an < bn);
}

static int sign(const struct ts_sigv4_req *rq, const struct ts_sigv4_scope *s,
		struct ts_buf *creq, struct ts_buf *sts, struct ts_buf *authz)
{
	static const struct ts_aws_cred c = {
		.access_key = (char *)"AKIDEXAMPLE",
		.secret_key = (char *)"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	};
	return ts_sigv4_sign(rq, &c, s, creq, sts, authz);
}

/* The lines of the canonical request, found by their newlines: there are
 * exactly nh + 5 of them (no field may hold a newline). */
static void check_creq(const struct ts_buf *creq, const struct ts_sigv4_req *rq,
		       const struct ts_sigv4_scope *s, const char *signed_hdrs)
{
	const char *p = creq->data, *end = creq->data + creq->len;
	const char *line[MAX_LINES + 8];
	size_t nl = 0;

	line[nl++] = p;
	for (const char *q = p; q < end; q++)
		if (*q == '\n') {
			FUZZ_CHECK(nl < MAX_LINES + 8);
			line[nl++] = q + 1;
		}
	FUZZ_CHECK(memchr(p, '\0', creq->len) == NULL);
	size_t nh = *signed_hdrs ? 1 : 0;
	for (const char *q = signed_hdrs; *q; q++)
		nh += *q == ';';
	FUZZ_CHECK(nl == nh + 6);
#define LEN(i) ((size_t)((i) + 1 < nl ? line[(i) + 1] - 1 - line[i] : end - line[i]))
	/* method */
	FUZZ_CHECK(LEN(0) == strlen(rq->method) &&
		   memcmp(line[0], rq->method, LEN(0)) == 0);
	/* URI */
	FUZZ_CHECK(LEN(1) >= 1 && line[1][0] == '/');
	if (s->s3) {
		FUZZ_CHECK(LEN(1) == (*rq->path ? strlen(rq->path) : 1));
	} else {
		FUZZ_CHECK(canonical_text(line[1], LEN(1), "/"));
		for (size_t i = 0; i + 1 < LEN(1); i++)
			FUZZ_CHECK(!(line[1][i] == '/' && line[1][i + 1] == '/'));
		/* no "." or ".." segment: '.' is unreserved, so both would
		 * show bare */
		const char *u = line[1];
		size_t un = LEN(1);
		for (size_t i = 0; i < un; i++) {
			if (u[i] != '/')
				continue;
			size_t j = i + 1;
			while (j < un && u[j] == '.')
				j++;
			FUZZ_CHECK(!((j - i - 1 == 1 || j - i - 1 == 2) &&
				     (j == un || u[j] == '/')));
		}
	}
	/* query: name=value pairs, canonical, in order */
	const char *qp = line[2];
	size_t qn = LEN(2);
	FUZZ_CHECK(canonical_text(qp, qn, "=&"));
	const char *pn = NULL, *pv = NULL;
	size_t pnn = 0, pvn = 0;
	for (size_t i = 0; i < qn;) {
		const char *amp = memchr(qp + i, '&', qn - i);
		size_t len = amp ? (size_t)(amp - qp - i) : qn - i;
		const char *eq = memchr(qp + i, '=', len);
		FUZZ_CHECK(len > 0 && eq); /* no empty pair, always '=' */
		size_t nn = (size_t)(eq - qp - i), vn = len - nn - 1;
		FUZZ_CHECK(memchr(eq + 1, '=', vn) == NULL);
		if (pn) {
			int c = bytes_cmp(pn, pnn, qp + i, nn);
			FUZZ_CHECK(c < 0 || (c == 0 && bytes_cmp(pv, pvn, eq + 1, vn) <= 0));
		}
		pn = qp + i;
		pnn = nn;
		pv = eq + 1;
		pvn = vn;
		i += len + 1;
	}
	/* headers: lower-case names, strictly ascending, as signed */
	const char *sh = signed_hdrs;
	for (size_t h = 0; h < nh; h++) {
		const char *l = line[3 + h];
		const char *colon = memchr(l, ':', LEN(3 + h));
		FUZZ_CHECK(colon && colon > l);
		size_t n = (size_t)(colon - l);
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK(!(l[i] >= 'A' && l[i] <= 'Z') && l[i] != ' ');
		FUZZ_CHECK(strncmp(sh, l, n) == 0 && (sh[n] == ';' || sh[n] == '\0'));
		sh += n + (sh[n] == ';');
		if (h) {
			const char *pl = line[2 + h];
			const char *pc = memchr(pl, ':', LEN(2 + h));
			FUZZ_CHECK(bytes_cmp(pl, (size_t)(pc - pl), l, n) < 0);
		}
		/* values trimmed, blanks squeezed */
		size_t vn = LEN(3 + h) - n - 1;
		const char *v = colon + 1;
		FUZZ_CHECK(vn == 0 || (v[0] != ' ' && v[vn - 1] != ' '));
		for (size_t i = 0; i + 1 < vn; i++)
			FUZZ_CHECK(!(v[i] == ' ' && v[i + 1] == ' ') && v[i] != '\t');
	}
	FUZZ_CHECK(*sh == '\0');
	FUZZ_CHECK(LEN(nh + 3) == 0);
	FUZZ_CHECK(LEN(nh + 4) == strlen(signed_hdrs) &&
		   memcmp(line[nh + 4], signed_hdrs, LEN(nh + 4)) == 0);
	FUZZ_CHECK(strcmp(line[nh + 5], rq->payload_hash) == 0);
#undef LEN
}

static void check_signature(const struct ts_buf *creq, const struct ts_buf *sts,
			    const struct ts_buf *authz,
			    const struct ts_sigv4_scope *s)
{
	char h[65], want[512], sig[65];
	unsigned char key[32], mac[32];
	static const char k0[] = "AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

	ts_sha256_hex(creq->data, creq->len, h);
	snprintf(want, sizeof want, "AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aws4_request\n%s",
		 s->amzdate, s->amzdate, s->region, s->service, h);
	FUZZ_CHECK(strcmp(sts->data, want) == 0);
	ts_hmac_sha256(k0, sizeof k0 - 1, s->amzdate, 8, key);
	ts_hmac_sha256(key, 32, s->region, strlen(s->region), key);
	ts_hmac_sha256(key, 32, s->service, strlen(s->service), key);
	ts_hmac_sha256(key, 32, "aws4_request", 12, key);
	ts_hmac_sha256(key, 32, sts->data, sts->len, mac);
	for (int i = 0; i < 32; i++)
		snprintf(sig + 2 * i, 3, "%02x", mac[i]);
	snprintf(want, sizeof want,
		 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/%.8s/%s/%s/aws4_request, "
		 "SignedHeaders=",
		 s->amzdate, s->region, s->service);
	FUZZ_CHECK(strncmp(authz->data, want, strlen(want)) == 0);
	const char *tail = strstr(authz->data, ", Signature=");
	FUZZ_CHECK(tail && strcmp(tail + 12, sig) == 0);
}

static int same_name_ci(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = *a, y = *b;
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return 0;
		if (x == ':' || x == '\0')
			return 1;
	}
}

static void hashes(const uint8_t *data, size_t size)
{
	char one[65], two[65], md5[25], d[17];
	struct ts_sha256 st;
	time_t t = 0;

	ts_sha256_hex(data, size, one);
	ts_sha256_init(&st);
	ts_sha256_update(&st, data, size / 2);
	ts_sha256_update(&st, data + size / 2, size - size / 2);
	ts_sha256_final_hex(&st, two);
	FUZZ_CHECK(strcmp(one, two) == 0 && strlen(one) == 64);
	ts_md5_base64(data, size, md5);
	FUZZ_CHECK(strlen(md5) == 24 && md5[22] == '=' && md5[23] == '=');
	memcpy(&t, data, size < sizeof t ? size : sizeof t);
	ts_amz_date(t, d);
	if (*d) {
		FUZZ_CHECK(strlen(d) == 16 && d[8] == 'T' && d[15] == 'Z');
		for (int i = 0; i < 15; i++)
			FUZZ_CHECK(i == 8 || (d[i] >= '0' && d[i] <= '9'));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy, *lines[MAX_LINES + 1];
	size_t n = 0;

	hashes(data, size);
	if (size > 4096)
		return 0;
	copy = malloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (char *p = copy; n < MAX_LINES;) {
		lines[n++] = p;
		char *nl = memchr(p, '\n', (size_t)(copy + size - p));
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	while (n < 4)
		lines[n++] = (char *)"";
	lines[n] = NULL;

	const char *const *hdrs = (const char *const *)lines + 4;
	size_t nh = n - 4;
	struct ts_sigv4_req rq = { .method = lines[0], .path = lines[1],
				   .query = lines[2], .headers = hdrs,
				   .payload_hash = "UNSIGNED-PAYLOAD" };
	struct ts_sigv4_scope s = { .region = "us-east-1",
				    .service = lines[3][0] == '1' ? "s3" : "service",
				    .amzdate = lines[3][0] && lines[3][1] ? lines[3] + 1 : fixed_date,
				    .s3 = lines[3][0] == '1' };
	struct ts_buf creq, sts, authz, again, creq2;
	ts_buf_init(&creq, 0);
	ts_buf_init(&sts, 0);
	ts_buf_init(&authz, 0);
	ts_buf_init(&again, 0);
	ts_buf_init(&creq2, 0);

	int rc = sign(&rq, &s, &creq, &sts, &authz);
	FUZZ_CHECK(rc == 0 || rc == -1);
	for (size_t i = 0; i < nh; i++)
		if (!strchr(hdrs[i], ':'))
			FUZZ_CHECK(rc == -1);
	if (rc == 0) {
		const char *sh = strstr(authz.data, "SignedHeaders=");
		FUZZ_CHECK(sh != NULL);
		sh += 14;
		char *signed_hdrs = strndup(sh, strcspn(sh, ","));
		check_creq(&creq, &rq, &s, signed_hdrs);
		free(signed_hdrs);
		check_signature(&creq, &sts, &authz, &s);

		/* deterministic, whichever buffers are asked for */
		FUZZ_CHECK(sign(&rq, &s, NULL, NULL, &again) == 0);
		FUZZ_CHECK(strcmp(again.data, authz.data) == 0);
		FUZZ_CHECK(sign(&rq, &s, &creq2, NULL, NULL) == 0);
		FUZZ_CHECK(creq2.len == creq.len &&
			   memcmp(creq2.data, creq.data, creq.len) == 0);

		/* header lines reversed: the same signature when their names
		 * are all different (a repeated name's values keep their
		 * order); names upper-cased: always the same */
		const char *rev[MAX_LINES + 1];
		char *upper[MAX_LINES];
		int distinct = 1;
		for (size_t i = 0; i < nh; i++) {
			rev[i] = hdrs[nh - 1 - i];
			for (size_t j = 0; j < i; j++)
				if (same_name_ci(hdrs[i], hdrs[j]))
					distinct = 0;
			upper[i] = strdup(hdrs[i]);
			for (char *p = upper[i]; *p && *p != ':'; p++)
				if (*p >= 'a' && *p <= 'z')
					*p = (char)(*p - 'a' + 'A');
		}
		rev[nh] = NULL;
		struct ts_sigv4_req r2 = rq;
		if (distinct) {
			r2.headers = rev;
			FUZZ_CHECK(sign(&r2, &s, NULL, NULL, &again) == 0);
			FUZZ_CHECK(strcmp(again.data, authz.data) == 0);
		}
		upper[nh] = NULL;
		r2.headers = (const char *const *)upper;
		FUZZ_CHECK(sign(&r2, &s, NULL, NULL, &again) == 0);
		FUZZ_CHECK(strcmp(again.data, authz.data) == 0);
		for (size_t i = 0; i < nh; i++)
			free(upper[i]);

		/* the query's parts reversed */
		struct ts_buf q;
		ts_buf_init(&q, 0);
		const char *qs = rq.query;
		const char *parts[4100];
		size_t np = 0;
		for (const char *p = qs; np < 4100;) {
			parts[np++] = p;
			p = strchr(p, '&');
			if (!p)
				break;
			p++;
		}
		for (size_t i = np; i-- > 0;) {
			if (i != np - 1)
				ts_buf_addch(&q, '&');
			ts_buf_add(&q, parts[i], strcspn(parts[i], "&"));
		}
		r2 = rq;
		r2.query = q.data;
		FUZZ_CHECK(sign(&r2, &s, NULL, NULL, &again) == 0);
		FUZZ_CHECK(strcmp(again.data, authz.data) == 0);
		ts_buf_release(&q);
	}
	ts_buf_release(&creq);
	ts_buf_release(&sts);
	ts_buf_release(&authz);
	ts_buf_release(&again);
	ts_buf_release(&creq2);
	free(copy);
	return 0;
}
