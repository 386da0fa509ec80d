/*
 * s3.h — the S3 client: PutObject, multipart upload, ListObjectsV2 and a
 * streamed GetObject, signed with AWS Signature Version 4 (sigv4.h) with the
 * credentials and region the AWS CLI would use (awscred.h), over one
 * struct ts_http (http.h).
 *
 * Addressing: with an endpoint (--endpoint, AWS_ENDPOINT_URL_S3,
 * AWS_ENDPOINT_URL, the profile's endpoint_url) requests are path-style,
 * ENDPOINT/BUCKET/KEY, as S3-compatible stores want; without one they go to
 * AWS, virtual-hosted (https://BUCKET.s3.REGION.amazonaws.com/KEY), or
 * path-style when the bucket name holds a dot (its certificate would not
 * match).  Keys are percent-encoded segment by segment, '/' kept.
 *
 * Integrity: every body is sent with its real SHA-256 in
 * x-amz-content-sha256 (UNSIGNED-PAYLOAD only with opts.unsigned_payload)
 * and its Content-MD5, so a body changed on the way is refused by the server
 * (BadDigest, XAmzContentSHA256Mismatch) instead of stored.
 *
 * Retries: each call retries what can succeed later — no answer, 5xx, 429,
 * 408, and S3's RequestTimeout, SlowDown, InternalError, BadDigest and
 * XAmzContentSHA256Mismatch — on the http.h schedule until
 * opts.retry_seconds are spent; anything else (AccessDenied,
 * SignatureDoesNotMatch, NoSuchBucket, ...) fails at once.  The outcome of
 * the last attempt is in struct ts_s3_status.  Every request here is
 * idempotent: a PUT of the same bytes to the same key, a part number of the
 * same upload.
 *
 * One struct ts_s3 is used by one thread at a time.
 */
#ifndef TS_S3_H
#define TS_S3_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "awscred.h"
#include "buf.h"
#include "http.h"

struct ts_s3_opts {
	const char *endpoint;      /* NULL: the config's, else AWS */
	int unsigned_payload;      /* x-amz-content-sha256: UNSIGNED-PAYLOAD */
	double retry_seconds;      /* retry budget of one call */
	const volatile sig_atomic_t *stop; /* set: no more retries */
};

struct ts_s3 {
	struct ts_http *http;
	struct ts_aws_config *cfg;
	struct ts_s3_opts o;
	char *endpoint;            /* scheme://host[:port][/path], no '/' at the end */
	struct ts_buf url, path, hdr, sts, tmp;
};

/* What the last attempt of a call got. */
struct ts_s3_status {
	long status;               /* HTTP status; 0: no answer */
	char code[64];             /* S3's error code, "" when none */
	char message[256];         /* the server's message or the transport error */
	unsigned attempts;
	int permanent;             /* the failure cannot pass by retrying */
};

/* s3://BUCKET[/PREFIX] into its parts (malloc'd; prefix "" when none).
 * 0, or -1 when it is not such a URL (err says why). */
int ts_s3_parse_url(const char *url, char **bucket, char **prefix, char *err, size_t errn);

/* 0, or -1 with err (an endpoint that is not an http(s) URL). */
int ts_s3_init(struct ts_s3 *s, struct ts_http *http, struct ts_aws_config *cfg,
	       const struct ts_s3_opts *o, char *err, size_t errn);
void ts_s3_release(struct ts_s3 *s);

/* Each returns 0 on success, -1 with st filled. */
int ts_s3_put(struct ts_s3 *s, const char *bucket, const char *key, const char *body,
	      size_t n, const char *content_type, struct ts_s3_status *st);

/* Multipart upload: create (upload_id malloc'd), parts numbered from 1
 * (etag: the part's ETag as the server gave it, quotes included), complete
 * with the parts in order, or abort. */
int ts_s3_mpu_create(struct ts_s3 *s, const char *bucket, const char *key,
		     const char *content_type, char **upload_id, struct ts_s3_status *st);
int ts_s3_mpu_part(struct ts_s3 *s, const char *bucket, const char *key,
		   const char *upload_id, unsigned partno, const char *body, size_t n,
		   char *etag, size_t etagn, struct ts_s3_status *st);
int ts_s3_mpu_complete(struct ts_s3 *s, const char *bucket, const char *key,
		       const char *upload_id, char *const *etags, unsigned nparts,
		       struct ts_s3_status *st);
int ts_s3_mpu_abort(struct ts_s3 *s, const char *bucket, const char *key,
		    const char *upload_id, struct ts_s3_status *st);

struct ts_s3_object {
	char *key;
	uint64_t size;
};
struct ts_s3_listing {
	struct ts_s3_object *v;
	size_t n, cap;
};
/* Every object under prefix, in key order (ListObjectsV2, page by page). */
int ts_s3_list(struct ts_s3 *s, const char *bucket, const char *prefix,
	       struct ts_s3_listing *out, struct ts_s3_status *st);
void ts_s3_listing_release(struct ts_s3_listing *l);
/* One ListObjectsV2 answer (XML) added to out: 0 the last page, 1 more
 * (token holds the continuation token), -1 (errno ENOMEM, or EINVAL: a
 * truncated page without a token).  Keys of an encoding-type=url answer
 * are decoded; a key holding NUL is left out. */
int ts_s3_list_page(const char *xml, size_t n, struct ts_s3_listing *out, struct ts_buf *token);

/* The object's bytes to write(), in order, each byte once: a transfer cut
 * short is resumed where it stopped (Range, If-Match on the ETag).  write
 * returning -1 ends the call (-1, st->code "Stopped"). */
int ts_s3_get(struct ts_s3 *s, const char *bucket, const char *key,
	      ts_http_write_fn write, void *ud, struct ts_s3_status *st);

/*
 * An object as a file descriptor to read, for the input loop: a thread
 * gets it into a pipe.  ts_s3_stream_open returns the read end (or -1 with
 * err); ts_s3_stream_close closes it, waits for the thread and returns 0
 * when the whole object came, -1 with st when it did not (also when the
 * reader stopped early).  The struct ts_s3 is the thread's until then.
 */
struct ts_s3_stream;
int ts_s3_stream_open(struct ts_s3 *s, const char *bucket, const char *key,
		      struct ts_s3_stream **out, char *err, size_t errn);
int ts_s3_stream_close(struct ts_s3_stream *t, struct ts_s3_status *st);

#endif
