/*
 * http.h — the one HTTP client of the ts toolkit: ts-put's destinations (S3,
 * Splunk HEC, HTTP endpoints), the credential providers (container and
 * instance metadata) and s3:// inputs all go through it.
 *
 * A struct ts_http is one libcurl easy handle, reused so connections are kept
 * alive between requests.  TLS is verified unless opts.insecure; opts.ca_file
 * replaces the system's CA bundle.  Proxies come from the environment as
 * libcurl reads them (http_proxy, https_proxy, no_proxy, ALL_PROXY).
 *
 * Secrets: the --verbose trace (opts.verbose, on standard error) shows the
 * request line, the status and the header names; the values of
 * Authorization, X-Amz-Security-Token, X-Amz-Firehose-Access-Key and
 * X-aws-ec2-metadata-token headers are never written anywhere.
 *
 * Retries are the caller's: ts_http_do() makes one attempt, and struct
 * ts_backoff is the schedule every caller follows (1 s, doubling, ±15%
 * jitter, capped at TS_BACKOFF_CAP seconds, until the budget is spent).
 */
#ifndef TS_HTTP_H
#define TS_HTTP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct ts_http_opts {
	int insecure;              /* do not verify the peer's certificate */
	const char *ca_file;       /* CA bundle (PEM), NULL: the system's */
	long connect_timeout_ms;   /* 0: 10 s */
	long timeout_ms;           /* the whole request; 0: no limit */
	long idle_timeout_s;       /* abort when no byte moved for this long;
				    * 0: 60 s */
	int verbose;               /* trace requests on standard error */
	const volatile sig_atomic_t *abort_if; /* set (by a signal handler):
				    * the transfer under way stops at once */
};

struct ts_http {
	void *curl;                /* CURL * */
	struct ts_http_opts o;
	char errbuf[256];
};

/* 0, or -1 (libcurl could not start) with a message on standard error. */
int ts_http_init(struct ts_http *h, const struct ts_http_opts *o);
void ts_http_release(struct ts_http *h);

/* Streaming bodies.  A request body source returns the bytes it wrote (0 at
 * its end, -1 to abort the request); a response sink returns 0 to go on, -1
 * to abort. */
typedef long (*ts_http_read_fn)(void *ud, char *dst, size_t n);
typedef int (*ts_http_write_fn)(void *ud, const char *p, size_t n);

struct ts_http_req {
	const char *method;           /* "GET", "PUT", "POST", "HEAD", "DELETE" */
	const char *url;
	const char *const *headers;   /* "Name: value" lines, NULL-terminated;
				       * may be NULL */
	const char *body;             /* the request body, bodyn bytes ... */
	size_t bodyn;
	ts_http_read_fn read;         /* ... or streamed (bodyn is then its
				       * length, sent as Content-Length) */
	void *read_ud;
	ts_http_write_fn write;       /* the response body streamed (only for
				       * a 2xx answer; other bodies are kept
				       * in resp.body); NULL: kept */
	void *write_ud;
	size_t max_body;              /* kept body limit; 0: 1 MiB (more is
				       * cut, resp.body_cut set) */
	long timeout_ms;              /* this request; 0: opts.timeout_ms */
};

struct ts_http_resp {
	long status;                  /* HTTP status, 0 when none came */
	struct ts_buf body;           /* kept response body */
	struct ts_buf headers;        /* the final response's header lines */
	int body_cut;
	int transport;                /* 0, or the CURLcode of a failure */
	int timed_out;                /* the failure was a timeout */
	char err[256];                /* the failure, readable */
	uint64_t sent, received;      /* body bytes */
};

void ts_http_resp_init(struct ts_http_resp *r);
void ts_http_resp_release(struct ts_http_resp *r);

/* One attempt.  0 when an HTTP answer came (any status: resp.status), -1
 * when none did (resp.err, resp.transport; also when a body callback
 * aborted).  resp is reset first. */
int ts_http_do(struct ts_http *h, const struct ts_http_req *rq, struct ts_http_resp *resp);

/* The value of response header name (case-insensitive), trimmed, copied
 * into out (NUL-terminated, cut to outn); 1 when present, 0 when not. */
int ts_http_header(const struct ts_http_resp *resp, const char *name, char *out, size_t outn);

/* The retry schedule. */
#define TS_BACKOFF_FIRST 1.0
#define TS_BACKOFF_CAP 60.0
struct ts_backoff {
	double start, budget;  /* seconds (ts_now()) */
	double delay;          /* the next delay before jitter */
	unsigned attempts;     /* attempts made so far */
	uint64_t rng;
};
void ts_backoff_init(struct ts_backoff *b, double budget_s);
/* Count an attempt that failed and say how long to wait before the next:
 * seconds, or -1 when the budget would be spent by then (give up). */
double ts_backoff_next(struct ts_backoff *b);
/* Sleep that long; -1 early when a signal interrupted it and *stop is set
 * (stop may be NULL). */
int ts_backoff_sleep(double seconds, const volatile sig_atomic_t *stop);

#endif
