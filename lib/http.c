/*
 * http.c — one attempt of one HTTP request over a reused libcurl handle, and
 * the retry schedule.  See http.h.
 */
#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "util.h"

static int curl_ready;

int ts_http_init(struct ts_http *h, const struct ts_http_opts *o)
{
	memset(h, 0, sizeof(*h));
	if (o)
		h->o = *o;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
			return ts_error("libcurl could not start");
		curl_ready = 1;
	}
	h->curl = curl_easy_init();
	if (!h->curl)
		return ts_error("libcurl could not start");
	return 0;
}

void ts_http_release(struct ts_http *h)
{
	if (h->curl)
		curl_easy_cleanup(h->curl);
	h->curl = NULL;
}

void ts_http_resp_init(struct ts_http_resp *r)
{
	memset(r, 0, sizeof(*r));
	ts_buf_init(&r->body, 0);
	ts_buf_init(&r->headers, 64 * 1024);
}

void ts_http_resp_release(struct ts_http_resp *r)
{
	ts_buf_release(&r->body);
	ts_buf_release(&r->headers);
}

struct call {
	const struct ts_http_req *rq;
	struct ts_http_resp *resp;
	size_t max_body;
	size_t off;      /* request body bytes sent from rq->body */
	int aborted;     /* a callback said stop */
	int verbose;
	int interrupted; /* abort_if was set */
	const volatile sig_atomic_t *abort_if;
	CURL *c;
};

/* The status is known once the headers are in: a 2xx body may stream. */
static long call_status(struct call *k)
{
	long st = 0;
	curl_easy_getinfo(k->c, CURLINFO_RESPONSE_CODE, &st);
	return st;
}

static size_t on_write(char *p, size_t sz, size_t nm, void *ud)
{
	struct call *k = ud;
	size_t n = sz * nm;
	long st = call_status(k);

	k->resp->received += n;
	if (k->rq->write && st >= 200 && st < 300) {
		if (k->rq->write(k->rq->write_ud, p, n) < 0) {
			k->aborted = 1;
			return 0;
		}
		return n;
	}
	size_t room = k->max_body > k->resp->body.len ? k->max_body - k->resp->body.len : 0;
	size_t take = n < room ? n : room;
	if (take < n)
		k->resp->body_cut = 1;
	if (take && ts_buf_add(&k->resp->body, p, take) < 0) {
		k->aborted = 1;
		return 0;
	}
	return n;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
	struct call *k = ud;
	size_t n = sz * nm;

	/* A new status line (after a 100 Continue or a redirect): keep only
	 * the final response's headers. */
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0)
		ts_buf_reset(&k->resp->headers);
	else
		ts_buf_add(&k->resp->headers, p, n);
	return n;
}

static size_t on_read(char *dst, size_t sz, size_t nm, void *ud)
{
	struct call *k = ud;
	size_t n = sz * nm;
	const struct ts_http_req *rq = k->rq;

	if (rq->read) {
		long r = rq->read(rq->read_ud, dst, n);
		if (r < 0) {
			k->aborted = 1;
			return CURL_READFUNC_ABORT;
		}
		k->resp->sent += (uint64_t)r;
		return (size_t)r;
	}
	size_t left = rq->bodyn - k->off;
	if (n > left)
		n = left;
	memcpy(dst, rq->body + k->off, n);
	k->off += n;
	k->resp->sent += n;
	return n;
}

/* libcurl rewinds a body to resend it (a redirect, an auth retry). */
static int on_seek(void *ud, curl_off_t off, int origin)
{
	struct call *k = ud;
	if (k->rq->read || origin != SEEK_SET || off < 0 || (size_t)off > k->rq->bodyn)
		return CURL_SEEKFUNC_CANTSEEK;
	k->off = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct call *k = ud;
	(void)dt, (void)dn, (void)ut, (void)un;
	if (k->abort_if && *k->abort_if) {
		k->interrupted = 1;
		return 1;
	}
	return 0;
}

static int secret_header(const char *line, size_t n)
{
	static const char *const names[] = {
		"authorization", "x-amz-security-token", "x-amz-firehose-access-key",
		"x-aws-ec2-metadata-token", "proxy-authorization", "x-splunk-token",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t l = strlen(names[i]);
		if (n > l && line[l] == ':' && strncasecmp(line, names[i], l) == 0)
			return 1;
	}
	return 0;
}

/* The --verbose trace: request and response lines and header names; values
 * only of headers that cannot hold a secret. */
static int on_debug(CURL *c, curl_infotype type, char *p, size_t n, void *ud)
{
	(void)c;
	(void)ud;
	if (type != CURLINFO_HEADER_OUT && type != CURLINFO_HEADER_IN && type != CURLINFO_TEXT)
		return 0;
	const char *mark = type == CURLINFO_HEADER_OUT ? "> " : type == CURLINFO_HEADER_IN ? "< " : "* ";
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t l = nl ? (size_t)(nl - p) + 1 : n;
		size_t t = l;
		while (t > 0 && (p[t - 1] == '\n' || p[t - 1] == '\r'))
			t--;
		if (t > 0) {
			if (secret_header(p, t)) {
				const char *colon = memchr(p, ':', t);
				fprintf(stderr, "%s%.*s: [hidden]\n", mark, (int)(colon - p), p);
			} else {
				fprintf(stderr, "%s%.*s\n", mark, (int)t, p);
			}
		}
		p += l;
		n -= l;
	}
	return 0;
}

int ts_http_do(struct ts_http *h, const struct ts_http_req *rq, struct ts_http_resp *resp)
{
	CURL *c = h->curl;
	struct curl_slist *hl = NULL;
	struct call k = { .rq = rq, .resp = resp, .c = c, .verbose = h->o.verbose,
			  .abort_if = h->o.abort_if };
	int rc = -1;

	resp->status = 0;
	resp->body_cut = 0;
	resp->transport = 0;
	resp->timed_out = 0;
	resp->err[0] = '\0';
	resp->sent = resp->received = 0;
	ts_buf_reset(&resp->body);
	ts_buf_reset(&resp->headers);
	k.max_body = rq->max_body ? rq->max_body : (size_t)1 << 20;

	curl_easy_reset(c);
	for (const char *const *p = rq->headers; p && *p; p++) {
		struct curl_slist *t = curl_slist_append(hl, *p);
		if (!t)
			goto oom;
		hl = t;
	}
	/* No "Expect: 100-continue" round trip: the peers answer at once. */
	struct curl_slist *t = curl_slist_append(hl, "Expect:");
	if (!t)
		goto oom;
	hl = t;

	long connect = h->o.connect_timeout_ms ? h->o.connect_timeout_ms : 10000;
	long total = rq->timeout_ms ? rq->timeout_ms : h->o.timeout_ms;
	long idle = h->o.idle_timeout_s ? h->o.idle_timeout_s : 60;

	curl_easy_setopt(c, CURLOPT_URL, rq->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, total);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, idle);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &k);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &k);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	if (h->o.insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (h->o.ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->o.ca_file);
	if (h->o.abort_if) {
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, &k);
	}
	if (h->o.verbose) {
		curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
		curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug);
	}

	const char *m = rq->method ? rq->method : "GET";
	int has_body = rq->read || rq->body || rq->bodyn;
	if (strcmp(m, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(m, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)(has_body ? rq->bodyn : 0));
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &k);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, &k);
		if (strcmp(m, "PUT") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
	}
	h->errbuf[0] = '\0';
	CURLcode cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	if (cc == CURLE_OK && !k.aborted) {
		rc = 0;
	} else {
		resp->transport = cc == CURLE_OK ? CURLE_ABORTED_BY_CALLBACK : (int)cc;
		resp->timed_out = cc == CURLE_OPERATION_TIMEDOUT;
		if (k.interrupted)
			snprintf(resp->err, sizeof(resp->err), "interrupted by a signal: the destination may or may not have taken it");
		else if (k.aborted)
			snprintf(resp->err, sizeof(resp->err), "transfer stopped by the program");
		else
			snprintf(resp->err, sizeof(resp->err), "%s", h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc));
		/* A status that came before the failure is not an answer. */
		resp->status = 0;
	}
	curl_slist_free_all(hl);
	return rc;
oom:
	curl_slist_free_all(hl);
	resp->transport = CURLE_OUT_OF_MEMORY;
	snprintf(resp->err, sizeof(resp->err), "out of memory");
	return -1;
}

int ts_http_header(const struct ts_http_resp *resp, const char *name, char *out, size_t outn)
{
	const char *p = resp->headers.data, *end = p + resp->headers.len;
	size_t l = strlen(name);

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if ((size_t)(le - p) > l && p[l] == ':' && strncasecmp(p, name, l) == 0) {
			const char *v = p + l + 1;
			while (v < le && (*v == ' ' || *v == '\t'))
				v++;
			const char *ve = le;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			if (outn) {
				size_t n = (size_t)(ve - v) < outn - 1 ? (size_t)(ve - v) : outn - 1;
				memcpy(out, v, n);
				out[n] = '\0';
			}
			return 1;
		}
		p = le + 1;
	}
	if (outn)
		out[0] = '\0';
	return 0;
}

void ts_backoff_init(struct ts_backoff *b, double budget_s)
{
	memset(b, 0, sizeof(*b));
	b->start = ts_now();
	b->budget = budget_s;
	b->delay = TS_BACKOFF_FIRST;
	if (getrandom(&b->rng, sizeof(b->rng), GRND_NONBLOCK) != (ssize_t)sizeof(b->rng))
		b->rng = (uint64_t)(b->start * 1e6) ^ (uint64_t)(uintptr_t)b;
	b->rng |= 1;
}

double ts_backoff_next(struct ts_backoff *b)
{
	/* xorshift64: jitter only, no secret. */
	b->rng ^= b->rng << 13;
	b->rng ^= b->rng >> 7;
	b->rng ^= b->rng << 17;
	double u = (double)(b->rng >> 11) / 9007199254740992.0; /* [0, 1) */
	double d = b->delay * (0.85 + 0.30 * u);

	b->attempts++;
	b->delay = fmin(b->delay * 2, TS_BACKOFF_CAP);
	if (ts_now() + d > b->start + b->budget)
		return -1;
	return d;
}

int ts_backoff_sleep(double seconds, const volatile sig_atomic_t *stop)
{
	struct timespec ts = { .tv_sec = (time_t)seconds,
			       .tv_nsec = (long)((seconds - floor(seconds)) * 1e9) };
	while (nanosleep(&ts, &ts) < 0) {
		if (errno != EINTR)
			return -1;
		if (stop && *stop)
			return -1;
	}
	return 0;
}
