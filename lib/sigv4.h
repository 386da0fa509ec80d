/*
 * sigv4.h — hashing (SHA-256, MD5, HMAC-SHA256 on OpenSSL's EVP) and AWS
 * Signature Version 4 for requests signed in their headers.
 *
 * Hashing.  Hex digests are lower-case and NUL-terminated (out[64] = '\0');
 * the MD5 digest is standard base64 with padding (Content-MD5), 24
 * characters and a NUL.  Streamed SHA-256: ts_sha256_init(), any number of
 * ts_sha256_update(), then ts_sha256_final_hex(), which also frees the
 * context; ts_sha256_release() frees one abandoned before its final.
 * These functions cannot fail short of OpenSSL failing to allocate, which
 * aborts the process (there is no sane way to sign without a hash).
 *
 * Signing.  ts_sigv4_sign() builds the canonical request, the string to sign
 * and the Authorization header value of AWS4-HMAC-SHA256:
 *   - headers: every line of rq->headers is signed.  Names are lower-cased,
 *     values trimmed and their inner runs of blanks squeezed to one space;
 *     a name given twice has its values joined by ',' in the order given.
 *     The caller includes Host, X-Amz-Date (== s->amzdate), and, with a
 *     session token, X-Amz-Security-Token; S3 also wants
 *     X-Amz-Content-Sha256 (== rq->payload_hash), which the caller adds too.
 *     Sign only headers that are sent unchanged: not User-Agent when a proxy
 *     may rewrite it, never Authorization itself.
 *   - path: s->s3 set: used as given (S3 object keys are signed exactly as
 *     sent, "a//b/../c" included).  Unset (every other service): dot
 *     segments removed, repeated slashes collapsed, then each byte but the
 *     unreserved ones (A-Z a-z 0-9 - . _ ~) and '/' percent-encoded once
 *     more (so "%20" becomes "%2520", as the other services verify).
 *     An empty path is "/"; any other must start with '/'.
 *   - query: split at '&', each part at its first '=' (a missing value is
 *     ""), names and values decoded and re-encoded in the canonical form
 *     (unreserved bytes bare, the rest %XX upper-case; '+' is kept a
 *     literal '+', sent encoded as %2B), sorted by name then value.
 *   - credential scope: date (the first 8 characters of s->amzdate)
 *     /region/service/aws4_request; the signing key is derived from
 *     c->secret_key.  c->token is not read: the caller puts it in a header.
 * Any of creq, sts, authz may be NULL; those given are reset and filled
 * (not appended to).  Returns 0, or -1 for bad input or when a buffer
 * reaches its limit (the buffers' contents are then unspecified).  Bad
 * input: a missing field or an empty method; a CR or LF anywhere; a header
 * line without ':' or whose name is not an HTTP token; a path that is
 * neither empty nor starts with '/'; a bad %XX in the query; an amzdate not
 * of the form 20150830T123600Z; a '/' in the region or service; a '/', ','
 * or blank in the access key.
 * The caller owns every buffer; nothing is kept between calls.
 */
#ifndef TS_SIGV4_H
#define TS_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

/* AWS credentials.  Owned by whoever fills them (ts_aws_config_release()
 * frees those of a resolved configuration). */
struct ts_aws_cred {
	char *access_key, *secret_key;
	char *token;               /* session token, NULL when none */
	double expires;            /* epoch seconds, 0 = never */
};

void ts_sha256_hex(const void *p, size_t n, char out[65]);

struct ts_sha256 {
	void *ctx;                 /* EVP_MD_CTX * */
};
void ts_sha256_init(struct ts_sha256 *h);
void ts_sha256_update(struct ts_sha256 *h, const void *p, size_t n);
void ts_sha256_final_hex(struct ts_sha256 *h, char out[65]);
void ts_sha256_release(struct ts_sha256 *h);

/* Content-MD5: the base64 of the 16-byte MD5 digest. */
void ts_md5_base64(const void *p, size_t n, char out[25]);

void ts_hmac_sha256(const void *key, size_t keyn, const void *msg, size_t msgn,
		    unsigned char out[32]);

/* t as UTC in the ISO 8601 basic form of X-Amz-Date: 20150830T123600Z;
 * "" for a time outside the years 0000-9999. */
void ts_amz_date(time_t t, char out[17]);

struct ts_sigv4_req {
	const char *method;
	const char *path;          /* as sent on the request line, already
				    * percent-encoded */
	const char *query;         /* as sent, without '?'; NULL or "" = none */
	const char *const *headers; /* "Name: value" lines, NULL-terminated */
	const char *payload_hash;  /* lower-case hex SHA-256 of the body, or
				    * "UNSIGNED-PAYLOAD" */
};

struct ts_sigv4_scope {
	const char *region, *service;
	const char *amzdate;       /* the X-Amz-Date value */
	int s3;                    /* S3 rules: the path is neither
				    * normalised nor encoded again */
};

/* Canonical request, string to sign and the Authorization header VALUE
 * ("AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request,
 * SignedHeaders=host;x-amz-date, Signature=<64 hex>").  Any of the three
 * bufs may be NULL.  0, or -1 (bad input: header line without ':' etc.). */
int ts_sigv4_sign(const struct ts_sigv4_req *rq, const struct ts_aws_cred *c,
		  const struct ts_sigv4_scope *s, struct ts_buf *creq,
		  struct ts_buf *sts, struct ts_buf *authz);

#endif
