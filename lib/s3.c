/*
 * s3.c — the S3 client.  See s3.h.
 *
 * Every call goes through s3_call(): build the URL and the headers, sign
 * them, make one attempt, classify the answer, and retry on the backoff
 * schedule while the failure can pass.  Error answers are S3's XML
 * (<Error><Code>..</Code><Message>..</Message></Error>): read with the small
 * tag finder below, which is all the XML S3 needs.
 */
#define _GNU_SOURCE /* memmem */
#include "s3.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "sigv4.h"
#include "util.h"

int ts_s3_parse_url(const char *url, char **bucket, char **prefix, char *err, size_t errn)
{
	*bucket = *prefix = NULL;
	if (strncmp(url, "s3://", 5) != 0) {
		snprintf(err, errn, "not an s3:// URL");
		return -1;
	}
	const char *b = url + 5, *slash = strchr(b, '/');
	size_t bn = slash ? (size_t)(slash - b) : strlen(b);
	if (bn < 3 || bn > 63) {
		snprintf(err, errn, "bucket name must be 3 to 63 characters");
		return -1;
	}
	for (size_t i = 0; i < bn; i++) {
		char c = b[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      c == '_' || (c >= 'A' && c <= 'Z'))) {
			snprintf(err, errn, "bad character in bucket name");
			return -1;
		}
	}
	*bucket = strndup(b, bn);
	*prefix = strdup(slash ? slash + 1 : "");
	if (!*bucket || !*prefix) {
		free(*bucket);
		free(*prefix);
		*bucket = *prefix = NULL;
		snprintf(err, errn, "out of memory");
		return -1;
	}
	return 0;
}

int ts_s3_init(struct ts_s3 *s, struct ts_http *http, struct ts_aws_config *cfg,
	       const struct ts_s3_opts *o, char *err, size_t errn)
{
	memset(s, 0, sizeof(*s));
	s->http = http;
	s->cfg = cfg;
	if (o)
		s->o = *o;
	ts_buf_init(&s->url, 0);
	ts_buf_init(&s->path, 0);
	ts_buf_init(&s->hdr, 0);
	ts_buf_init(&s->sts, 0);
	ts_buf_init(&s->tmp, 0);
	const char *ep = s->o.endpoint ? s->o.endpoint : cfg ? cfg->endpoint_s3 : NULL;
	if (ep && *ep) {
		if (strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0) {
			snprintf(err, errn, "endpoint '%s' is not an http:// or https:// URL", ep);
			return -1;
		}
		s->endpoint = strdup(ep);
		if (!s->endpoint) {
			snprintf(err, errn, "out of memory");
			return -1;
		}
		size_t l = strlen(s->endpoint);
		while (l > 8 && s->endpoint[l - 1] == '/')
			s->endpoint[--l] = '\0';
	}
	return 0;
}

void ts_s3_release(struct ts_s3 *s)
{
	free(s->endpoint);
	ts_buf_release(&s->url);
	ts_buf_release(&s->path);
	ts_buf_release(&s->hdr);
	ts_buf_release(&s->sts);
	ts_buf_release(&s->tmp);
	s->endpoint = NULL;
}

/* --- a little XML ------------------------------------------------------ */

/* Text of the first <tag>...</tag> at or after *pos in p[0..n), entities
 * decoded, into out; *pos moves past it.  1 found, 0 not. */
static int xml_text(const char *p, size_t n, const char *tag, size_t *pos, struct ts_buf *out)
{
	char open[80], close[80];
	int ol = snprintf(open, sizeof(open), "<%s>", tag);
	int cl = snprintf(close, sizeof(close), "</%s>", tag);
	size_t at = pos ? *pos : 0;

	ts_buf_reset(out);
	const char *a = at < n ? memmem(p + at, n - at, open, (size_t)ol) : NULL;
	if (!a)
		return 0;
	a += ol;
	const char *e = memmem(a, (size_t)(p + n - a), close, (size_t)cl);
	if (!e)
		return 0;
	if (pos)
		*pos = (size_t)(e - p) + (size_t)cl;
	for (const char *q = a; q < e; q++) {
		if (*q != '&') {
			ts_buf_addch(out, *q);
			continue;
		}
		const char *semi = memchr(q, ';', (size_t)(e - q));
		if (!semi || semi - q > 10) {
			ts_buf_addch(out, *q);
			continue;
		}
		size_t l = (size_t)(semi - q - 1);
		const char *name = q + 1;
		unsigned long cp = 0;
		if (l == 3 && memcmp(name, "amp", 3) == 0)
			cp = '&';
		else if (l == 2 && memcmp(name, "lt", 2) == 0)
			cp = '<';
		else if (l == 2 && memcmp(name, "gt", 2) == 0)
			cp = '>';
		else if (l == 4 && memcmp(name, "quot", 4) == 0)
			cp = '"';
		else if (l == 4 && memcmp(name, "apos", 4) == 0)
			cp = '\'';
		else if (l >= 2 && name[0] == '#')
			cp = name[1] == 'x' ? strtoul(name + 2, NULL, 16) : strtoul(name + 1, NULL, 10);
		if (cp == 0 || cp > 0x10ffff) {
			ts_buf_addch(out, *q);
			continue;
		}
		char u[4];
		int un;
		if (cp < 0x80) {
			u[0] = (char)cp;
			un = 1;
		} else if (cp < 0x800) {
			u[0] = (char)(0xc0 | (cp >> 6));
			u[1] = (char)(0x80 | (cp & 0x3f));
			un = 2;
		} else if (cp < 0x10000) {
			u[0] = (char)(0xe0 | (cp >> 12));
			u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
			u[2] = (char)(0x80 | (cp & 0x3f));
			un = 3;
		} else {
			u[0] = (char)(0xf0 | (cp >> 18));
			u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
			u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
			u[3] = (char)(0x80 | (cp & 0x3f));
			un = 4;
		}
		ts_buf_add(out, u, (size_t)un);
		q = semi;
	}
	return 1;
}

/* The inner bytes of the next <tag>...</tag> at or after *pos, as they are. */
static int xml_raw(const char *p, size_t n, const char *tag, size_t *pos, struct ts_buf *out)
{
	char open[80], close[80];
	int ol = snprintf(open, sizeof(open), "<%s>", tag);
	int cl = snprintf(close, sizeof(close), "</%s>", tag);

	ts_buf_reset(out);
	const char *a = *pos < n ? memmem(p + *pos, n - *pos, open, (size_t)ol) : NULL;
	if (!a)
		return 0;
	a += ol;
	const char *e = memmem(a, (size_t)(p + n - a), close, (size_t)cl);
	if (!e)
		return 0;
	*pos = (size_t)(e - p) + (size_t)cl;
	return ts_buf_add(out, a, (size_t)(e - a)) == 0;
}

/* Percent-decoding in place (keys of an encoding-type=url listing). */
static void url_decode(struct ts_buf *b)
{
	size_t j = 0;
	for (size_t i = 0; i < b->len; i++) {
		int h, l;
		if (b->data[i] == '%' && i + 2 < b->len && (h = ts_hexval(b->data[i + 1])) >= 0 &&
		    (l = ts_hexval(b->data[i + 2])) >= 0) {
			b->data[j++] = (char)(h * 16 + l);
			i += 2;
		} else if (b->data[i] == '+') {
			b->data[j++] = ' ';
		} else {
			b->data[j++] = b->data[i];
		}
	}
	ts_buf_setlen(b, j);
}

/* --- one signed call, retried ------------------------------------------ */

struct s3_req {
	const char *method;
	const char *bucket, *key;  /* key NULL: the bucket itself */
	const char *query;         /* as sent, or NULL */
	const char *body;
	size_t bodyn;
	const char *content_type;
	int md5;                   /* send Content-MD5 */
	const char *range_if;      /* GET resume: If-Match value */
	uint64_t range_from;
	ts_http_write_fn write;
	void *write_ud;
};

static int retryable(long status, const char *code)
{
	static const char *const codes[] = {
		"RequestTimeout", "SlowDown", "InternalError", "BadDigest",
		"XAmzContentSHA256Mismatch", "ServiceUnavailable", "RequestTimeTooSkewed_",
		"OperationAborted", "ExpiredToken",
	};
	if (status == 0 || status >= 500 || status == 429 || status == 408)
		return 1;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(code, codes[i]) == 0)
			return 1;
	return 0;
}

/* Host (and port) of a URL, for the signed Host header. */
static void url_host(const char *url, char *out, size_t outn)
{
	const char *h = strstr(url, "://");
	h = h ? h + 3 : url;
	size_t l = strcspn(h, "/?#");
	snprintf(out, outn, "%.*s", (int)l, h);
}

static int build_url(struct ts_s3 *s, const struct s3_req *rq)
{
	int dotted = strchr(rq->bucket, '.') != NULL;

	ts_buf_reset(&s->url);
	ts_buf_reset(&s->path);
	if (s->endpoint) {
		/* The endpoint's own path (a store under a prefix) comes first. */
		const char *h = strstr(s->endpoint, "://") + 3;
		const char *p = strchr(h, '/');
		ts_buf_add(&s->url, s->endpoint, p ? (size_t)(p - s->endpoint) : strlen(s->endpoint));
		if (p)
			ts_buf_addstr(&s->path, p);
		ts_buf_addch(&s->path, '/');
		ts_pct_encode(&s->path, rq->bucket, strlen(rq->bucket), 0);
		if (rq->key) {
			ts_buf_addch(&s->path, '/');
			ts_pct_encode(&s->path, rq->key, strlen(rq->key), 1);
		}
	} else if (dotted) {
		ts_buf_addf(&s->url, "https://s3.%s.amazonaws.com", s->cfg->region);
		ts_buf_addch(&s->path, '/');
		ts_pct_encode(&s->path, rq->bucket, strlen(rq->bucket), 0);
		if (rq->key) {
			ts_buf_addch(&s->path, '/');
			ts_pct_encode(&s->path, rq->key, strlen(rq->key), 1);
		}
	} else {
		ts_buf_addf(&s->url, "https://%s.s3.%s.amazonaws.com", rq->bucket, s->cfg->region);
		ts_buf_addch(&s->path, '/');
		if (rq->key)
			ts_pct_encode(&s->path, rq->key, strlen(rq->key), 1);
	}
	ts_buf_add(&s->url, s->path.data, s->path.len);
	if (rq->query && *rq->query) {
		ts_buf_addch(&s->url, '?');
		ts_buf_addstr(&s->url, rq->query);
	}
	return s->url.len && !(s->url.max && s->url.len >= s->url.max) ? 0 : -1;
}

static void fill_status(struct ts_s3_status *st, const struct ts_http_resp *r, struct ts_buf *tmp)
{
	st->status = r->status;
	st->code[0] = st->message[0] = '\0';
	if (r->status == 0) {
		snprintf(st->message, sizeof(st->message), "%s", r->err);
		if (r->transport)
			snprintf(st->code, sizeof(st->code), "%s", r->timed_out ? "Timeout" : "ConnectionError");
		return;
	}
	if (xml_text(r->body.data, r->body.len, "Code", NULL, tmp))
		snprintf(st->code, sizeof(st->code), "%s", tmp->data);
	if (xml_text(r->body.data, r->body.len, "Message", NULL, tmp))
		snprintf(st->message, sizeof(st->message), "%s", tmp->data);
	if (!st->code[0] && (r->status < 200 || r->status >= 300)) {
		/* A HEAD or an empty error body: the status says it. */
		static const struct { long s; const char *c; } by[] = {
			{ 403, "AccessDenied" }, { 404, "NotFound" }, { 400, "BadRequest" },
			{ 503, "ServiceUnavailable" }, { 500, "InternalError" },
		};
		for (size_t i = 0; i < sizeof(by) / sizeof(by[0]); i++)
			if (by[i].s == r->status)
				snprintf(st->code, sizeof(st->code), "%s", by[i].c);
		if (!st->code[0])
			snprintf(st->code, sizeof(st->code), "Http%ld", r->status);
	}
}

static int s3_attempt(struct ts_s3 *s, const struct s3_req *rq, struct ts_http_resp *resp,
		      struct ts_s3_status *st)
{
	char host[256], date[17], hash[65], md5[25], err[256];
	const char *hv[12];
	size_t off[12];
	int nh = 0, rc = -1;
	struct ts_aws_cred *cred = &s->cfg->cred;
	struct ts_buf *L = &s->sts; /* the header lines, NUL-separated */

	if (ts_aws_cred_refresh(s->cfg, s->http, err, sizeof(err)) < 0) {
		st->status = 0;
		snprintf(st->code, sizeof(st->code), "CredentialsError");
		snprintf(st->message, sizeof(st->message), "%s", err);
		return -1;
	}
	if (build_url(s, rq) < 0) {
		snprintf(st->code, sizeof(st->code), "InvalidRequest");
		snprintf(st->message, sizeof(st->message), "URL too long");
		return -1;
	}
	url_host(s->url.data, host, sizeof(host));
	ts_amz_date(time(NULL), date);
	if (s->o.unsigned_payload && rq->bodyn)
		snprintf(hash, sizeof(hash), "UNSIGNED-PAYLOAD");
	else
		ts_sha256_hex(rq->body ? rq->body : "", rq->bodyn, hash);

	ts_buf_reset(L);
#define HDR(...)                                                                      \
	do {                                                                          \
		off[nh++] = L->len;                                                   \
		ts_buf_addf(L, __VA_ARGS__);                                          \
		ts_buf_addch(L, '\0');                                                \
	} while (0)
	HDR("Host: %s", host);
	HDR("X-Amz-Date: %s", date);
	HDR("X-Amz-Content-Sha256: %s", hash);
	if (cred->token && *cred->token)
		HDR("X-Amz-Security-Token: %s", cred->token);
	if (rq->md5) {
		ts_md5_base64(rq->body ? rq->body : "", rq->bodyn, md5);
		HDR("Content-MD5: %s", md5);
	}
	if (rq->content_type)
		HDR("Content-Type: %s", rq->content_type);
	if (rq->range_from) {
		HDR("Range: bytes=%llu-", (unsigned long long)rq->range_from);
		if (rq->range_if)
			HDR("If-Match: %s", rq->range_if);
	}
	for (int i = 0; i < nh; i++)
		hv[i] = L->data + off[i];
	hv[nh] = NULL;

	struct ts_sigv4_req sr = {
		.method = rq->method, .path = s->path.data, .query = rq->query,
		.headers = hv, .payload_hash = hash,
	};
	struct ts_sigv4_scope sc = { .region = s->cfg->region, .service = "s3", .amzdate = date, .s3 = 1 };
	ts_buf_reset(&s->hdr);
	if (ts_sigv4_sign(&sr, cred, &sc, NULL, NULL, &s->hdr) < 0) {
		snprintf(st->code, sizeof(st->code), "InvalidRequest");
		snprintf(st->message, sizeof(st->message), "request could not be signed");
		return -1;
	}
	HDR("Authorization: %s", s->hdr.data);
#undef HDR
	for (int i = 0; i < nh; i++)
		hv[i] = L->data + off[i];
	hv[nh] = NULL;
	if (L->max && L->len >= L->max)
		return -1;

	struct ts_http_req hr = {
		.method = rq->method, .url = s->url.data, .headers = hv,
		.body = rq->body, .bodyn = rq->bodyn,
		.write = rq->write, .write_ud = rq->write_ud,
	};
	ts_http_do(s->http, &hr, resp);
	fill_status(st, resp, &s->tmp);
	/* CompleteMultipartUpload can fail inside a 200 answer. */
	if (resp->status == 200 && strstr(resp->body.data, "<Error>")) {
		if (!st->code[0])
			snprintf(st->code, sizeof(st->code), "InternalError");
		rc = -1;
	} else {
		rc = resp->status >= 200 && resp->status < 300 ? 0 : -1;
	}
	return rc;
}

/* The retried call.  resp holds the last answer. */
static int s3_call(struct ts_s3 *s, struct s3_req *rq, struct ts_http_resp *resp,
		   struct ts_s3_status *st, uint64_t *got)
{
	struct ts_backoff b;
	char etag[128] = "";

	ts_backoff_init(&b, s->o.retry_seconds);
	memset(st, 0, sizeof(*st));
	for (;;) {
		uint64_t before = resp->received;
		st->attempts++;
		int rc = s3_attempt(s, rq, resp, st);
		if (rc == 0)
			return 0;
		if (got && resp->transport == 42 /* CURLE_ABORTED_BY_CALLBACK */ &&
		    strcmp(resp->err, "transfer stopped by the program") == 0) {
			snprintf(st->code, sizeof(st->code), "Stopped");
			return -1;
		}
		if (!retryable(st->status, st->code) || strcmp(st->code, "CredentialsError") == 0) {
			st->permanent = 1;
			return -1;
		}
		if (s->o.stop && *s->o.stop)
			return -1;
		/* A GET cut short goes on where it stopped, from the same
		 * version of the object. */
		if (got && *got > 0) {
			if (!etag[0])
				ts_http_header(resp, "ETag", etag, sizeof(etag));
			rq->range_from = *got;
			rq->range_if = etag[0] ? etag : NULL;
		}
		(void)before;
		double d = ts_backoff_next(&b);
		if (d < 0 || ts_backoff_sleep(d, s->o.stop) < 0)
			return -1;
	}
}

int ts_s3_put(struct ts_s3 *s, const char *bucket, const char *key, const char *body,
	      size_t n, const char *content_type, struct ts_s3_status *st)
{
	struct ts_http_resp resp;
	struct s3_req rq = {
		.method = "PUT", .bucket = bucket, .key = key, .body = body, .bodyn = n,
		.content_type = content_type, .md5 = 1,
	};
	ts_http_resp_init(&resp);
	int rc = s3_call(s, &rq, &resp, st, NULL);
	ts_http_resp_release(&resp);
	return rc;
}

int ts_s3_mpu_create(struct ts_s3 *s, const char *bucket, const char *key,
		     const char *content_type, char **upload_id, struct ts_s3_status *st)
{
	struct ts_http_resp resp;
	struct s3_req rq = {
		.method = "POST", .bucket = bucket, .key = key, .query = "uploads",
		.content_type = content_type,
	};
	*upload_id = NULL;
	ts_http_resp_init(&resp);
	int rc = s3_call(s, &rq, &resp, st, NULL);
	if (rc == 0) {
		if (xml_text(resp.body.data, resp.body.len, "UploadId", NULL, &s->tmp) && s->tmp.len)
			*upload_id = strdup(s->tmp.data);
		if (!*upload_id) {
			snprintf(st->code, sizeof(st->code), "InvalidResponse");
			snprintf(st->message, sizeof(st->message), "no UploadId in the answer");
			rc = -1;
		}
	}
	ts_http_resp_release(&resp);
	return rc;
}

/* "partNumber=N&uploadId=ID" with the id encoded. */
static char *upload_query(struct ts_s3 *s, unsigned partno, const char *upload_id)
{
	ts_buf_reset(&s->tmp);
	if (partno)
		ts_buf_addf(&s->tmp, "partNumber=%u&", partno);
	ts_buf_addstr(&s->tmp, "uploadId=");
	ts_pct_encode(&s->tmp, upload_id, strlen(upload_id), 0);
	return strdup(s->tmp.data);
}

int ts_s3_mpu_part(struct ts_s3 *s, const char *bucket, const char *key,
		   const char *upload_id, unsigned partno, const char *body, size_t n,
		   char *etag, size_t etagn, struct ts_s3_status *st)
{
	struct ts_http_resp resp;
	char *q = upload_query(s, partno, upload_id);
	if (!q) {
		memset(st, 0, sizeof(*st));
		snprintf(st->message, sizeof(st->message), "out of memory");
		return -1;
	}
	struct s3_req rq = {
		.method = "PUT", .bucket = bucket, .key = key, .query = q,
		.body = body, .bodyn = n, .md5 = 1,
	};
	ts_http_resp_init(&resp);
	int rc = s3_call(s, &rq, &resp, st, NULL);
	if (rc == 0 && !ts_http_header(&resp, "ETag", etag, etagn)) {
		snprintf(st->code, sizeof(st->code), "InvalidResponse");
		snprintf(st->message, sizeof(st->message), "no ETag for part %u", partno);
		rc = -1;
	}
	ts_http_resp_release(&resp);
	free(q);
	return rc;
}

int ts_s3_mpu_complete(struct ts_s3 *s, const char *bucket, const char *key,
		       const char *upload_id, char *const *etags, unsigned nparts,
		       struct ts_s3_status *st)
{
	struct ts_http_resp resp;
	struct ts_buf body;
	char *q = upload_query(s, 0, upload_id);

	ts_buf_init(&body, 0);
	ts_buf_addstr(&body, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	for (unsigned i = 0; i < nparts; i++) {
		ts_buf_addf(&body, "<Part><PartNumber>%u</PartNumber><ETag>", i + 1);
		for (const char *e = etags[i]; *e; e++) {
			if (*e == '"')
				ts_buf_addstr(&body, "&quot;");
			else if (*e == '&')
				ts_buf_addstr(&body, "&amp;");
			else if (*e == '<')
				ts_buf_addstr(&body, "&lt;");
			else
				ts_buf_addch(&body, *e);
		}
		ts_buf_addstr(&body, "</ETag></Part>");
	}
	ts_buf_addstr(&body, "</CompleteMultipartUpload>");
	struct s3_req rq = {
		.method = "POST", .bucket = bucket, .key = key, .query = q,
		.body = body.data, .bodyn = body.len, .content_type = "application/xml", .md5 = 1,
	};
	ts_http_resp_init(&resp);
	int rc = q ? s3_call(s, &rq, &resp, st, NULL) : -1;
	ts_http_resp_release(&resp);
	ts_buf_release(&body);
	free(q);
	return rc;
}

int ts_s3_mpu_abort(struct ts_s3 *s, const char *bucket, const char *key,
		    const char *upload_id, struct ts_s3_status *st)
{
	struct ts_http_resp resp;
	char *q = upload_query(s, 0, upload_id);
	struct s3_req rq = { .method = "DELETE", .bucket = bucket, .key = key, .query = q };
	ts_http_resp_init(&resp);
	int rc = q ? s3_call(s, &rq, &resp, st, NULL) : -1;
	ts_http_resp_release(&resp);
	free(q);
	return rc;
}

void ts_s3_listing_release(struct ts_s3_listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].key);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int listing_add(struct ts_s3_listing *l, const char *key, uint64_t size)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct ts_s3_object *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n].key = strdup(key)))
		return -1;
	l->v[l->n++].size = size;
	return 0;
}

int ts_s3_list_page(const char *p, size_t n, struct ts_s3_listing *out, struct ts_buf *token)
{
	struct ts_buf key, tmp, c;
	size_t pos = 0;
	int rc = 0;

	ts_buf_init(&key, 0);
	ts_buf_init(&tmp, 0);
	ts_buf_init(&c, 0);
	int encoded = xml_text(p, n, "EncodingType", NULL, &tmp) && strcmp(tmp.data, "url") == 0;
	/* Each <Contents> holds a <Key> and a <Size>. */
	while (xml_raw(p, n, "Contents", &pos, &c)) {
		size_t kpos = 0, spos = 0;
		uint64_t size = 0;
		if (!xml_text(c.data, c.len, "Key", &kpos, &key))
			continue;
		if (encoded)
			url_decode(&key);
		if (xml_text(c.data, c.len, "Size", &spos, &tmp))
			size = strtoull(tmp.data, NULL, 10);
		if (key.len != strlen(key.data))
			continue; /* a NUL in a key: not a key anyone can name */
		if (listing_add(out, key.data, size) < 0) {
			errno = ENOMEM;
			rc = -1;
			goto out;
		}
	}
	if (xml_text(p, n, "IsTruncated", NULL, &tmp) && strcmp(tmp.data, "true") == 0) {
		if (!xml_text(p, n, "NextContinuationToken", NULL, token) || !token->len) {
			errno = EINVAL;
			rc = -1;
		} else {
			rc = 1;
		}
	}
out:
	ts_buf_release(&key);
	ts_buf_release(&tmp);
	ts_buf_release(&c);
	return rc;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct ts_s3_object *)a)->key, ((const struct ts_s3_object *)b)->key);
}

int ts_s3_list(struct ts_s3 *s, const char *bucket, const char *prefix,
	       struct ts_s3_listing *out, struct ts_s3_status *st)
{
	struct ts_http_resp resp;
	struct ts_buf q, token;
	int rc = 0;

	ts_http_resp_init(&resp);
	ts_buf_init(&q, 0);
	ts_buf_init(&token, 0);
	memset(out, 0, sizeof(*out));
	for (int page = 0; rc == 0; page++) {
		/* Parameters in sorted order, encoded as they are signed. */
		ts_buf_reset(&q);
		if (page > 0) {
			ts_buf_addstr(&q, "continuation-token=");
			ts_pct_encode(&q, token.data, token.len, 0);
			ts_buf_addch(&q, '&');
		}
		ts_buf_addstr(&q, "encoding-type=url&list-type=2&prefix=");
		ts_pct_encode(&q, prefix, strlen(prefix), 0);
		struct s3_req rq = { .method = "GET", .bucket = bucket, .query = q.data };
		if ((rc = s3_call(s, &rq, &resp, st, NULL)) < 0)
			break;
		int more = ts_s3_list_page(resp.body.data, resp.body.len, out, &token);
		if (more < 0) {
			snprintf(st->code, sizeof(st->code), "InvalidResponse");
			snprintf(st->message, sizeof(st->message), "%s",
				 errno == ENOMEM ? "out of memory"
						 : "truncated listing without a continuation token");
			rc = -1;
		}
		if (more <= 0)
			break;
	}
	if (rc == 0 && out->n > 1)
		qsort(out->v, out->n, sizeof(out->v[0]), by_key);
	if (rc < 0)
		ts_s3_listing_release(out);
	ts_http_resp_release(&resp);
	ts_buf_release(&q);
	ts_buf_release(&token);
	return rc;
}

struct get_ctx {
	ts_http_write_fn write;
	void *ud;
	uint64_t got;
};

static int get_write(void *ud, const char *p, size_t n)
{
	struct get_ctx *g = ud;
	if (g->write(g->ud, p, n) < 0)
		return -1;
	g->got += n;
	return 0;
}

int ts_s3_get(struct ts_s3 *s, const char *bucket, const char *key,
	      ts_http_write_fn write, void *ud, struct ts_s3_status *st)
{
	struct ts_http_resp resp;
	struct get_ctx g = { .write = write, .ud = ud };
	struct s3_req rq = {
		.method = "GET", .bucket = bucket, .key = key, .write = get_write, .write_ud = &g,
	};
	ts_http_resp_init(&resp);
	int rc = s3_call(s, &rq, &resp, st, &g.got);
	ts_http_resp_release(&resp);
	return rc;
}

/* --- an object as a pipe ----------------------------------------------- */

struct ts_s3_stream {
	struct ts_s3 *s;
	char *bucket, *key;
	int wfd, rfd;
	pthread_t th;
	int rc;
	struct ts_s3_status st;
};

static int pipe_write(void *ud, const char *p, size_t n)
{
	struct ts_s3_stream *t = ud;
	return ts_write_all(t->wfd, p, n);
}

static void *stream_main(void *arg)
{
	struct ts_s3_stream *t = arg;
	t->rc = ts_s3_get(t->s, t->bucket, t->key, pipe_write, t, &t->st);
	close(t->wfd);
	t->wfd = -1;
	return NULL;
}

int ts_s3_stream_open(struct ts_s3 *s, const char *bucket, const char *key,
		      struct ts_s3_stream **out, char *err, size_t errn)
{
	struct ts_s3_stream *t = calloc(1, sizeof(*t));
	int fds[2];

	*out = NULL;
	if (!t || !(t->bucket = strdup(bucket)) || !(t->key = strdup(key))) {
		snprintf(err, errn, "out of memory");
		goto fail;
	}
	if (pipe(fds) < 0) {
		snprintf(err, errn, "pipe: %s", strerror(errno));
		goto fail;
	}
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	t->s = s;
	t->rfd = fds[0];
	t->wfd = fds[1];
	if ((errno = pthread_create(&t->th, NULL, stream_main, t)) != 0) {
		snprintf(err, errn, "thread: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		goto fail;
	}
	*out = t;
	return t->rfd;
fail:
	if (t) {
		free(t->bucket);
		free(t->key);
		free(t);
	}
	return -1;
}

int ts_s3_stream_close(struct ts_s3_stream *t, struct ts_s3_status *st)
{
	/* Closing the read end first ends a transfer nobody reads any more
	 * (EPIPE in the thread's write: SIGPIPE is ignored by every program). */
	close(t->rfd);
	pthread_join(t->th, NULL);
	int rc = t->rc;
	if (st)
		*st = t->st;
	free(t->bucket);
	free(t->key);
	free(t);
	return rc;
}
