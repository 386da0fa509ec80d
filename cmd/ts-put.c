/*
 * ts-put — deliver records (batched) or finished files (a ts-partition
 * manifest) to S3, a Splunk HTTP Event Collector, an HTTP endpoint of the
 * delivery stream protocol, or a local directory, with retries and a
 * dead-letter for what still fails.  See man/ts-put.1.
 *
 * Records are read by the input loop (input.h) into one batch: the records'
 * bytes, each followed by a newline, and where each came from.  A batch
 * goes out when the next record would take it past --max-bytes, when it
 * holds --max-records, or when it is --max-seconds old (checked as records
 * arrive and, on a quiet pipe, every second), and at the end.  Sending a
 * batch is one request (S3: one object, multipart above --part-size),
 * retried on the backoff schedule of http.h until --retry-seconds are spent;
 * then every record of it goes to the error output with what the
 * destination said.  So at the end delivered + dead-lettered = read.
 *
 * A directory destination is ts-partition's writer (partition.h): the same
 * names, atomic publication and refusal of planted links.
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libdeflate.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "awscred.h"
#include "codec.h"
#include "http.h"
#include "input.h"
#include "json.h"
#include "opt.h"
#include "partition.h"
#include "s3.h"
#include "template.h"
#include "tstime.h"
#include "util.h"

enum {
	OPT_SPLUNK = 0x100,
	OPT_HTTP,
	OPT_TOKEN,
	OPT_TOKEN_FILE,
	OPT_ACCESS_KEY,
	OPT_ACCESS_KEY_FILE,
	OPT_MANIFEST,
	OPT_ROOT,
	OPT_MAX_BYTES,
	OPT_MAX_RECORDS,
	OPT_MAX_SECONDS,
	OPT_RETRY_SECONDS,
	OPT_TIMEOUT,
	OPT_CONNECT_TIMEOUT,
	OPT_PART_SIZE,
	OPT_UNSIGNED,
	OPT_COMPRESS,
	OPT_NAME,
	OPT_RAW,
	OPT_ACK,
	OPT_ACK_TIMEOUT,
	OPT_CHANNEL,
	OPT_HOST,
	OPT_SOURCE,
	OPT_SOURCETYPE,
	OPT_INDEX,
	OPT_CONTENT_ENCODING,
	OPT_ATTRIBUTE,
	OPT_INSECURE,
	OPT_CA_FILE,
	OPT_VERBOSE,
	OPT_SHOW_CREDENTIALS,
	OPT_PARALLEL,
};

static const struct ts_option options[] = {
	{"splunk", OPT_SPLUNK, "URL", "send to a Splunk HTTP Event Collector at URL"},
	{"http", OPT_HTTP, "URL", "send to an HTTP endpoint (the delivery stream HTTP endpoint "
				  "protocol)"},
	{"token-file", OPT_TOKEN_FILE, "FILE", "the HEC token, read from FILE (or TS_SPLUNK_TOKEN)"},
	{"token", OPT_TOKEN, "TOKEN", "the HEC token (visible in ps: prefer --token-file)"},
	{"access-key-file", OPT_ACCESS_KEY_FILE, "FILE", "the HTTP endpoint's access key, read "
							 "from FILE (or TS_HTTP_ACCESS_KEY)"},
	{"access-key", OPT_ACCESS_KEY, "KEY", "the HTTP endpoint's access key (visible in ps)"},
	{"manifest", OPT_MANIFEST, NULL, "the input is a ts-partition manifest: upload each file "
					 "it lists"},
	{"root", OPT_ROOT, "DIR", "manifest paths are relative to DIR (default: .)"},
	{"max-bytes", OPT_MAX_BYTES, "SIZE", "send a batch before it passes SIZE bytes (default: "
					     "5M; 1M for Splunk, 4M for HTTP)"},
	{"max-records", OPT_MAX_RECORDS, "N", "send a batch when it holds N records (1: each "
					      "record at once; default: no limit)"},
	{"max-seconds", OPT_MAX_SECONDS, "S", "send a batch when it is S seconds old (default: "
					      "300; 60 for Splunk and HTTP; 0: no limit)"},
	{"retry-seconds", OPT_RETRY_SECONDS, "S", "keep retrying a batch for S seconds (default: "
						  "300; 0: one attempt)"},
	{"timeout", OPT_TIMEOUT, "S", "one request's time limit (default: 60)"},
	{"connect-timeout", OPT_CONNECT_TIMEOUT, "S", "time limit to connect (default: 10)"},
	{"part-size", OPT_PART_SIZE, "SIZE", "S3: multipart upload above SIZE, in parts of SIZE "
					     "(default: 8M, at least 5M)"},
	{"parallel", OPT_PARALLEL, "N", "S3 --manifest: upload N files at once (default 4)"},
	{"unsigned-payload", OPT_UNSIGNED, NULL, "S3: send UNSIGNED-PAYLOAD instead of the body's "
						 "SHA-256"},
	{"compress", OPT_COMPRESS, "gzip|none", "S3 and directory: gzip each object (name ends in "
						".gz)"},
	{"name", OPT_NAME, "NAME", "first part of object names (default: ts-put)"},
	{"raw", OPT_RAW, NULL, "Splunk: the raw endpoint (records as lines) instead of events"},
	{"ack", OPT_ACK, NULL, "Splunk: wait for indexer acknowledgement of each request"},
	{"ack-timeout", OPT_ACK_TIMEOUT, "S", "Splunk: resend a request not acknowledged in S "
					      "seconds (default: 180)"},
	{"channel", OPT_CHANNEL, "GUID", "Splunk: the request channel (default: a random GUID)"},
	{"host", OPT_HOST, "HOST", "Splunk: the events' host"},
	{"source", OPT_SOURCE, "SOURCE", "Splunk: the events' source"},
	{"sourcetype", OPT_SOURCETYPE, "TYPE", "Splunk: the events' sourcetype (default: _json)"},
	{"index", OPT_INDEX, "INDEX", "Splunk: the events' index"},
	{"content-encoding", OPT_CONTENT_ENCODING, "gzip|none", "HTTP: gzip request bodies"},
	{"attribute", OPT_ATTRIBUTE, "NAME=VALUE", "HTTP: a common attribute (repeatable)"},
	{"insecure", OPT_INSECURE, NULL, "do not verify TLS certificates"},
	{"ca-file", OPT_CA_FILE, "FILE", "trust the CA certificates in FILE"},
	{"verbose", OPT_VERBOSE, NULL, "trace requests on standard error (secrets hidden)"},
	{"show-credentials", OPT_SHOW_CREDENTIALS, NULL, "print where the AWS credentials and "
							 "region come from, and exit"},
	{0},
};

static const struct ts_cmd cmd = {
	.name = "ts-put",
	.synopsis = "DESTINATION [OPTION]... [FILE]...\n"
		    "       ts-put --splunk URL [OPTION]... [FILE]...\n"
		    "       ts-put --http URL [OPTION]... [FILE]...",
	.summary = "Deliver records, batched, or the files of a ts-partition manifest to S3\n"
		   "(s3://BUCKET/PREFIX), a directory (file://DIR or DIR), a Splunk HTTP Event\n"
		   "Collector or an HTTP endpoint; what still fails after retries goes to the\n"
		   "error output.  Prints one line per object or request delivered.",
	.opts = options,
	.footer = "Examples:\n"
		  "  ts-extract --cwl logs.gz | ts-put s3://bucket/logs/ --max-bytes 64M\n"
		  "  ts-partition -o lake --prefix 'dt=!{timestamp:yyyy-MM-dd}/' ... |\n"
		  "    ts-put --manifest --root lake s3://bucket/lake/\n"
		  "  TS_SPLUNK_TOKEN=... ts-put --splunk https://splunk:8088 --ack events.ndjson\n",
};

enum kind { K_DIR, K_S3, K_SPLUNK, K_HTTP };

/* One record of the batch: where its bytes are, where it came from. */
struct rec {
	size_t off, len;     /* in batch (len without the newline) */
	uint32_t file;       /* index into names */
	uint64_t line;
	int64_t ms;          /* arrival time */
};

/* What the last attempt of a failed delivery got, for its error records. */
struct failure {
	unsigned attempts;
	long status;            /* 0: no answer */
	char code[96];          /* errorCode, in the service's style */
	char message[512];      /* the server's message or the transport error */
	char object[1024];      /* S3 key or URL, "" when none */
	int permanent;          /* retrying could not help */
	int unusable;           /* the destination refused us, not the data:
				 * credentials, a bucket, a token, an index */
};

struct put {
	struct ts_run run;
	struct ts_input in;
	enum kind kind;
	const char *dest;            /* as the user wrote it */
	const char *url;             /* --splunk / --http */
	char *token, *access_key;
	const char *endpoint, *root, *name;
	int manifest, gzip, raw, ack, unsigned_payload, gzip_body, show_creds;
	const char *channel_arg, *host, *source, *sourcetype, *index;
	char channel[40];
	json_t *attributes;
	uint64_t max_bytes, max_records, part_size;
	double max_seconds, retry_seconds, ack_timeout;
	int have_max_bytes, have_max_seconds;
	struct ts_http_opts hopts;

	/* the batch */
	struct ts_buf batch;
	struct rec *recs;
	size_t nrec, caprec;
	double batch_t0;
	char **names;
	size_t nnames;

	/* destinations */
	struct ts_http http;
	struct ts_aws_config aws;
	struct ts_s3 s3;
	char *bucket, *prefix, *dir;
	char *h_secret;              /* the Authorization or access key header */
	char *h_attr;                /* the common attributes header */
	struct pool *pool;           /* --manifest to S3: the upload workers */
	int parallel;
	struct ts_template tpl;
	struct ts_tpl_render render;
	struct ts_tz tz;
	struct ts_partitioner *part;
	struct ts_part_opts po;
	uint64_t seq;

	struct ts_buf body, key, tmp, file;
	struct libdeflate_compressor *gz;

	uint64_t *delivered, *dead, *requests, *retries;
	uint64_t *lettered;          /* every record in the error output */
	char unusable[700];          /* why the destination refused from the start */
	struct failure refusal;      /* ... as the error records say it */
};

/* The first stopping signal ends the input: what was read is still
 * delivered, the request under way finishes, nothing is retried.  A second
 * one stops the request under way too. */
static volatile sig_atomic_t stop, stop_now;

static void on_signal(int sig)
{
	(void)sig;
	if (stop)
		stop_now = 1;
	stop = 1;
}

/* --- options ----------------------------------------------------------- */

static int read_secret(const char *path, char **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[4096];
	long n;

	if (fd < 0)
		return ts_error("cannot open '%s': %s", path, strerror(errno));
	n = ts_read_full(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return ts_error("cannot read '%s': %s", path, strerror(errno));
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	if (n == 0)
		return ts_error("'%s' is empty", path);
	free(*out);
	*out = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return *out ? 0 : ts_error("out of memory");
}

static int seconds_arg(const char *arg, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(arg, &end);
	if (errno || end == arg || *end || !(d >= 0) || d > 1e9)
		return -1;
	*out = d;
	return 0;
}

/* Characters (code points) of UTF-8 text. */
static size_t chars(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

static int set_opt(void *ud, int id, const char *arg)
{
	struct put *x = ud;
	uint64_t u;

	switch (id) {
	case OPT_SPLUNK:
	case OPT_HTTP:
		if (x->url)
			return ts_usage_error(&cmd, "--splunk and --http name one destination");
		x->url = arg;
		x->kind = id == OPT_SPLUNK ? K_SPLUNK : K_HTTP;
		return 0;
	case OPT_TOKEN:
		free(x->token);
		return (x->token = strdup(arg)) ? 0 : -1;
	case OPT_TOKEN_FILE:
		return read_secret(arg, &x->token);
	case OPT_ACCESS_KEY:
		free(x->access_key);
		return (x->access_key = strdup(arg)) ? 0 : -1;
	case OPT_ACCESS_KEY_FILE:
		return read_secret(arg, &x->access_key);
	case OPT_MANIFEST:
		x->manifest = 1;
		return 0;
	case OPT_ROOT:
		x->root = arg;
		return 0;
	case OPT_MAX_BYTES:
		if (ts_parse_size(arg, &x->max_bytes) < 0 || x->max_bytes == 0)
			return ts_usage_error(&cmd, "--max-bytes: '%s' is not a size", arg);
		x->have_max_bytes = 1;
		return 0;
	case OPT_MAX_RECORDS:
		if (ts_parse_u64(arg, &x->max_records) < 0)
			return ts_usage_error(&cmd, "--max-records: '%s' is not a number", arg);
		return 0;
	case OPT_MAX_SECONDS:
		if (seconds_arg(arg, &x->max_seconds) < 0)
			return ts_usage_error(&cmd, "--max-seconds: '%s' is not a number of seconds", arg);
		x->have_max_seconds = 1;
		return 0;
	case OPT_RETRY_SECONDS:
		if (seconds_arg(arg, &x->retry_seconds) < 0)
			return ts_usage_error(&cmd, "--retry-seconds: '%s' is not a number of seconds", arg);
		return 0;
	case OPT_TIMEOUT:
	case OPT_CONNECT_TIMEOUT: {
		double d;
		if (seconds_arg(arg, &d) < 0 || d <= 0)
			return ts_usage_error(&cmd, "--%s: '%s' is not a number of seconds",
					      id == OPT_TIMEOUT ? "timeout" : "connect-timeout", arg);
		if (id == OPT_TIMEOUT)
			x->hopts.timeout_ms = (long)(d * 1000);
		else
			x->hopts.connect_timeout_ms = (long)(d * 1000);
		return 0;
	}
	case OPT_PART_SIZE:
		if (ts_parse_size(arg, &u) < 0 || u < ((uint64_t)5 << 20) || u > ((uint64_t)5 << 30))
			return ts_usage_error(&cmd, "--part-size: '%s' is not a size from 5M to 5G", arg);
		x->part_size = u;
		return 0;
	case OPT_UNSIGNED:
		x->unsigned_payload = 1;
		return 0;
	case OPT_PARALLEL:
		if (ts_parse_u64(arg, &u) < 0 || u < 1 || u > 64)
			return ts_usage_error(&cmd, "--parallel: a number from 1 to 64, not '%s'", arg);
		x->parallel = (int)u;
		return 0;
	case OPT_COMPRESS:
	case OPT_CONTENT_ENCODING: {
		int gz = strcmp(arg, "gzip") == 0;
		if (!gz && strcmp(arg, "none") != 0)
			return ts_usage_error(&cmd, "--%s: 'gzip' or 'none', not '%s'",
					      id == OPT_COMPRESS ? "compress" : "content-encoding", arg);
		if (id == OPT_COMPRESS)
			x->gzip = gz;
		else
			x->gzip_body = gz;
		return 0;
	}
	case OPT_NAME:
		if (!*arg || strchr(arg, '/') || arg[0] == '.' || arg[0] == '_' ||
		    strlen(arg) > TS_PART_MAX_NAME)
			return ts_usage_error(&cmd, "--name: a name without '/', not starting with '.' "
					      "or '_' (hidden from query engines), at most %d bytes",
					      TS_PART_MAX_NAME);
		x->name = arg;
		return 0;
	case OPT_RAW:
		x->raw = 1;
		return 0;
	case OPT_ACK:
		x->ack = 1;
		return 0;
	case OPT_ACK_TIMEOUT:
		if (seconds_arg(arg, &x->ack_timeout) < 0 || x->ack_timeout <= 0)
			return ts_usage_error(&cmd, "--ack-timeout: '%s' is not a number of seconds", arg);
		return 0;
	case OPT_CHANNEL:
		x->channel_arg = arg;
		return 0;
	case OPT_HOST:
		x->host = arg;
		return 0;
	case OPT_SOURCE:
		x->source = arg;
		return 0;
	case OPT_SOURCETYPE:
		x->sourcetype = arg;
		return 0;
	case OPT_INDEX:
		x->index = arg;
		return 0;
	case OPT_ATTRIBUTE: {
		const char *eq = strchr(arg, '=');
		if (!eq || eq == arg)
			return ts_usage_error(&cmd, "--attribute: NAME=VALUE, not '%s'", arg);
		/* The protocol's schema: at most 50, names of 1 to 256
		 * characters, values of at most 1024. */
		if (chars(arg, (size_t)(eq - arg)) > 256 || chars(eq + 1, strlen(eq + 1)) > 1024)
			return ts_usage_error(&cmd, "--attribute: a name of at most 256 characters and a "
					      "value of at most 1024");
		if (!x->attributes)
			x->attributes = json_object();
		if (json_object_size(x->attributes) >= 50)
			return ts_usage_error(&cmd, "--attribute: at most 50 common attributes");
		char *k = strndup(arg, (size_t)(eq - arg));
		json_t *v = json_string(eq + 1);
		if (!k || !v || json_object_set_new(x->attributes, k, v) < 0) {
			free(k);
			return ts_usage_error(&cmd, "--attribute: '%s' is not UTF-8 text", arg);
		}
		free(k);
		return 0;
	}
	case OPT_INSECURE:
		x->hopts.insecure = 1;
		return 0;
	case OPT_CA_FILE:
		x->hopts.ca_file = arg;
		return 0;
	case OPT_VERBOSE:
		x->hopts.verbose = 1;
		return 0;
	case OPT_SHOW_CREDENTIALS:
		x->show_creds = 1;
		return 0;
	}
	return -1;
}

/* --- the batch and the dead-letter -------------------------------------- */

static uint32_t intern_name(struct put *x, const char *name)
{
	if (x->nnames && strcmp(x->names[x->nnames - 1], name) == 0)
		return (uint32_t)(x->nnames - 1);
	char **v = realloc(x->names, (x->nnames + 1) * sizeof(*v));
	if (!v)
		return 0;
	x->names = v;
	v[x->nnames] = strdup(name);
	if (!v[x->nnames])
		return 0;
	return (uint32_t)x->nnames++;
}


/* Records [from, to) of the batch to the error output. */
static void dead_letter_range(struct put *x, const struct failure *f, size_t from, size_t to)
{
	json_t *extra = json_object();

	json_object_set_new(extra, "destination", json_string(x->kind == K_S3 || x->kind == K_DIR ? x->dest : x->url));
	if (f->object[0])
		json_object_set_new(extra, "object", json_string(f->object));
	json_object_set_new(extra, "attempts", json_integer(f->attempts));
	if (f->status)
		json_object_set_new(extra, "status", json_integer(f->status));
	json_object_set_new(extra, "errorCode", json_string(f->code));
	if (f->message[0]) {
		json_t *m = json_string(f->message);
		json_object_set_new(extra, "response", m ? m : json_string("(not UTF-8)"));
	}
	for (size_t i = from; i < to; i++) {
		const struct rec *r = &x->recs[i];
		struct ts_where w = {.file = x->names[r->file], .line = r->line, .offset = -1};
		if (f->attempts == 0)
			ts_reject_more(&x->run, extra, "delivery_failed", &w, x->batch.data + r->off,
				       r->len, 0, "not sent: the destination refused an earlier batch: %s%s%s",
				       f->code, f->message[0] ? ": " : "", f->message);
		else
			ts_reject_more(&x->run, extra, "delivery_failed", &w, x->batch.data + r->off,
				       r->len, 0, "not delivered after %u attempt%s: %s%s%s", f->attempts,
				       f->attempts == 1 ? "" : "s", f->code, f->message[0] ? ": " : "",
				       f->message);
	}
	*x->dead += to - from;
	json_decref(extra);
}

/* Every record of the batch to the error output. */
static void dead_letter(struct put *x, const struct failure *f)
{
	dead_letter_range(x, f, 0, x->nrec);
}

/* Record i alone to the error output, and out of the batch. */
static void dead_letter_one(struct put *x, const struct failure *f, size_t i)
{
	dead_letter_range(x, f, i, i + 1);
	memmove(&x->recs[i], &x->recs[i + 1], (x->nrec - i - 1) * sizeof(x->recs[0]));
	x->nrec--;
}

/* A destination that refuses the first delivery for good (a wrong key, no
 * such bucket, a bad token) was unusable from the start: exit status 2,
 * said once on standard error at the end. */
static void note_unusable(struct put *x, const struct failure *f)
{
	if (f->unusable && *x->delivered == 0 && !x->unusable[0]) {
		snprintf(x->unusable, sizeof(x->unusable), "%s%s%s", f->code,
			 f->message[0] ? ": " : "", f->message);
		x->refusal = *f;
	}
}

/* One line on standard output per object or request delivered. */
static void announce(struct put *x, const char *what, const char *where, json_t *id, size_t bytes)
{
	json_t *o = json_object();
	json_object_set_new(o, what, json_string(where));
	if (id)
		json_object_set_new(o, x->kind == K_SPLUNK ? "ackId" : "requestId", id);
	json_object_set_new(o, "records", json_integer((json_int_t)x->nrec));
	json_object_set_new(o, "bytes", json_integer((json_int_t)bytes));
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s) {
		ts_out_write(&x->run.out, s, strlen(s));
		ts_out_write(&x->run.out, "\n", 1);
		free(s);
	}
	json_decref(o);
}

static int gzip_body(struct put *x, const char *p, size_t n)
{
	if (!x->gz && !(x->gz = libdeflate_alloc_compressor(6)))
		return -1;
	size_t bound = libdeflate_gzip_compress_bound(x->gz, n);
	ts_buf_reset(&x->body);
	if (ts_buf_grow(&x->body, bound) < 0)
		return -1;
	size_t z = libdeflate_gzip_compress(x->gz, p, n, x->body.data, bound);
	if (!z)
		return -1;
	ts_buf_setlen(&x->body, z);
	return 0;
}

static void random_hex(char *out, size_t nbytes)
{
	unsigned char b[32];
	static const char hex[] = "0123456789abcdef";
	if (nbytes > sizeof(b))
		nbytes = sizeof(b);
	if (getrandom(b, nbytes, 0) != (ssize_t)nbytes)
		for (size_t i = 0; i < nbytes; i++)
			b[i] = (unsigned char)rand();
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * nbytes] = '\0';
}

static void uuid4(char out[37])
{
	char h[33];
	random_hex(h, 16);
	h[12] = '4';
	h[16] = "89ab"[h[16] % 4];
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

/* --- S3 ---------------------------------------------------------------- */

static void s3_failure(struct failure *f, const struct ts_s3_status *st, const char *key)
{
	f->attempts = st->attempts;
	f->status = st->status;
	snprintf(f->code, sizeof(f->code), "S3.%s", st->code[0] ? st->code : "Error");
	snprintf(f->message, sizeof(f->message), "%s", st->message);
	snprintf(f->object, sizeof(f->object), "%s", key);
	f->permanent = st->permanent;
	f->unusable = st->permanent && st->status >= 400 && st->status < 500 &&
		      strcmp(st->code, "EntityTooLarge") != 0;
}

/* What uploads with: a client, a part buffer, and the counts of the
 * requests made (the main thread's own, or an upload worker's). */
struct uploader {
	struct ts_s3 *s3;
	struct ts_buf *buf;
	uint64_t requests, retries;
};

/* Every attempt is a request; all but the first of a call are retries. */
static void count_attempts(struct uploader *u, const struct ts_s3_status *st)
{
	u->requests += st->attempts;
	u->retries += st->attempts ? st->attempts - 1 : 0;
}

/* One object: n bytes at p, or total bytes read from fd (fd >= 0);
 * multipart above --part-size.  0 or -1 (f says why).  Only reads x. */
static int s3_upload(const struct put *x, struct uploader *u, const char *key, const char *p,
		     size_t n, int fd, uint64_t total, struct failure *f)
{
	struct ts_s3_status st;
	size_t kl = strlen(key);
	int gz = x->manifest ? kl > 3 && strcmp(key + kl - 3, ".gz") == 0 : x->gzip;
	const char *ctype = gz ? "application/gzip" : "application/x-ndjson";

	int more = fd >= 0;

	if (!more && n <= x->part_size) {
		int rc = ts_s3_put(u->s3, x->bucket, key, p, n, ctype, &st);
		count_attempts(u, &st);
		if (rc == 0)
			return 0;
		s3_failure(f, &st, key);
		return -1;
	}
	/* Multipart: parts of part_size, from memory or read in turn into
	 * one buffer (bounded memory whatever the file's size). */
	char *id = NULL;
	char **etags = NULL;
	unsigned nparts = 0;
	int rc = -1;
	uint64_t left = more ? total : n;
	/* S3 takes at most 10,000 parts: a larger object gets larger parts
	 * (whole MiB), never a failure at part 10,001. */
	uint64_t psz = x->part_size;
	if (left / psz >= 10000)
		psz = ((left / 10000) | ((1u << 20) - 1)) + 1;
	int crc = ts_s3_mpu_create(u->s3, x->bucket, key, ctype, &id, &st);
	count_attempts(u, &st);
	if (crc < 0) {
		s3_failure(f, &st, key);
		return -1;
	}
	while (left > 0 || nparts == 0) {
		size_t take = left < psz ? (size_t)left : (size_t)psz;
		const char *part = p;
		if (more) {
			ts_buf_reset(u->buf);
			if (ts_buf_grow(u->buf, take) < 0) {
				snprintf(f->code, sizeof(f->code), "S3.OutOfMemory");
				goto abort;
			}
			long r = ts_read_full(fd, u->buf->data, take);
			if (r != (long)take) {
				snprintf(f->code, sizeof(f->code), "FileChanged");
				snprintf(f->message, sizeof(f->message), "the file was shorter than its size");
				f->attempts = 1;
				goto abort;
			}
			part = u->buf->data;
		}
		char **v = realloc(etags, (nparts + 1) * sizeof(*v));
		char etag[160];
		if (!v)
			goto abort;
		etags = v;
		int prc = ts_s3_mpu_part(u->s3, x->bucket, key, id, nparts + 1, part, take, etag,
					 sizeof(etag), &st);
		count_attempts(u, &st);
		if (prc < 0) {
			s3_failure(f, &st, key);
			goto abort;
		}
		if (!(etags[nparts] = strdup(etag)))
			goto abort;
		nparts++;
		left -= take;
		if (!more)
			p += take;
	}
	int mrc = ts_s3_mpu_complete(u->s3, x->bucket, key, id, etags, nparts, &st);
	count_attempts(u, &st);
	if (mrc < 0) {
		s3_failure(f, &st, key);
		goto abort;
	}
	rc = 0;
	goto out;
abort:
	if (!f->code[0])
		snprintf(f->code, sizeof(f->code), "S3.Error");
	{
		struct ts_s3_status ab;
		ts_s3_mpu_abort(u->s3, x->bucket, key, id, &ab);
		count_attempts(u, &ab);
	}
out:
	for (unsigned i = 0; i < nparts; i++)
		free(etags[i]);
	free(etags);
	free(id);
	return rc;
}

/* The object key of this batch: prefix (rendered at the batch's time) and
 * name-time-uuid[.gz], as ts-partition names files. */
static int batch_key(struct put *x, struct ts_buf *out)
{
	const char *code;
	struct ts_tpl_env env = {.tz = &x->tz, .max_len = 900};
	int64_t ms = x->nrec ? x->recs[0].ms : ts_wall_ms();
	char uuid[37], rnd[16];
	struct ts_civil c;

	ts_buf_reset(out);
	if (ts_template_render(&x->tpl, &x->render, &env, ms, out, &code) < 0)
		return -1;
	/* !{firehose:random-string}: fresh per object. */
	random_hex(rnd, 6);
	for (size_t i = 0, k = 0; i < out->len; i++)
		if (out->data[i] == TS_TPL_RANDOM_MARK) {
			out->data[i] = rnd[k % 11];
			k++;
		}
	ts_civil_from_ms(ms, &c);
	uuid4(uuid);
	ts_buf_addf(out, "%s-%04d-%02d-%02d-%02d-%02d-%02d-%s%s", x->name, c.year, c.month, c.day,
		    c.hour, c.min, c.sec, uuid, x->gzip ? ".gz" : "");
	return 0;
}

static int send_s3(struct put *x, struct failure *f)
{
	const char *p = x->batch.data;
	size_t n = x->batch.len;

	if (batch_key(x, &x->key) < 0) {
		f->attempts = 0;
		snprintf(f->code, sizeof(f->code), "S3.InvalidKey");
		snprintf(f->message, sizeof(f->message), "the object key could not be made");
		return -1;
	}
	if (x->gzip) {
		if (gzip_body(x, p, n) < 0) {
			snprintf(f->code, sizeof(f->code), "S3.OutOfMemory");
			return -1;
		}
		p = x->body.data;
		n = x->body.len;
	}
	struct uploader u = {.s3 = &x->s3, .buf = &x->file};
	int rc = s3_upload(x, &u, x->key.data, p, n, -1, 0, f);
	*x->requests += u.requests;
	*x->retries += u.retries;
	if (rc < 0)
		return -1;
	ts_buf_reset(&x->tmp);
	ts_buf_addf(&x->tmp, "s3://%s/%s", x->bucket, x->key.data);
	announce(x, "object", x->tmp.data, NULL, n);
	return 0;
}

/* --- Splunk HEC -------------------------------------------------------- */

static const char *hec_code_name(long code)
{
	static const char *const names[] = {
		"Success", "TokenDisabled", "TokenRequired", "InvalidAuthorization",
		"InvalidToken", "NoData", "InvalidDataFormat", "IncorrectIndex",
		"InternalServerError", "ServerBusy", "DataChannelMissing",
		"InvalidDataChannel", "EventFieldRequired", "EventFieldBlank",
		"AckDisabled", "IndexedFieldsError", "QueryStringAuthorizationDisabled",
	};
	return code >= 0 && code < (long)(sizeof(names) / sizeof(names[0])) ? names[code] : NULL;
}

/* The events body: one event object per record, concatenated. */
static int hec_body(struct put *x)
{
	ts_buf_reset(&x->body);
	for (size_t i = 0; i < x->nrec; i++) {
		const struct rec *r = &x->recs[i];
		if (x->raw) {
			ts_buf_add(&x->body, x->batch.data + r->off, r->len + 1);
			continue;
		}
		char t[32];
		snprintf(t, sizeof(t), "%lld.%03lld", (long long)(r->ms / 1000), (long long)(r->ms % 1000));
		ts_buf_addf(&x->body, "{\"time\":%s", t);
		if (x->host) {
			ts_buf_addstr(&x->body, ",\"host\":");
			ts_json_escape(&x->body, x->host, strlen(x->host));
		}
		if (x->source) {
			ts_buf_addstr(&x->body, ",\"source\":");
			ts_json_escape(&x->body, x->source, strlen(x->source));
		}
		ts_buf_addstr(&x->body, ",\"sourcetype\":");
		const char *st = x->sourcetype ? x->sourcetype : "_json";
		ts_json_escape(&x->body, st, strlen(st));
		if (x->index) {
			ts_buf_addstr(&x->body, ",\"index\":");
			ts_json_escape(&x->body, x->index, strlen(x->index));
		}
		ts_buf_addstr(&x->body, ",\"event\":");
		if (ts_buf_add(&x->body, x->batch.data + r->off, r->len) < 0 ||
		    ts_buf_addch(&x->body, '}') < 0)
			return -1;
	}
	return 0;
}

/* HEC's answer {"text":..,"code":N[,"ackId":N]}: code, or -1 when none. */
static long hec_answer(const struct ts_http_resp *rs, char *text, size_t textn, long long *ack,
		       long long *bad)
{
	json_error_t je;
	json_t *j = json_loadb(rs->body.data, rs->body.len, 0, &je);
	long code = -1;

	text[0] = '\0';
	if (ack)
		*ack = -1;
	if (bad)
		*bad = -1;
	if (j && json_is_object(j)) {
		json_t *b = json_object_get(j, "invalid-event-number");
		if (bad && json_is_integer(b))
			*bad = json_integer_value(b);
		json_t *c = json_object_get(j, "code"), *t = json_object_get(j, "text");
		json_t *a = json_object_get(j, "ackId");
		if (json_is_integer(c))
			code = (long)json_integer_value(c);
		if (json_is_string(t))
			snprintf(text, textn, "%s", json_string_value(t));
		if (ack && json_is_integer(a))
			*ack = json_integer_value(a);
	} else if (rs->body.len) {
		snprintf(text, textn, "%.*s", (int)(rs->body.len < 200 ? rs->body.len : 200), rs->body.data);
	}
	json_decref(j);
	return code;
}

/* Poll the ack endpoint until ack is true: 1 acked, 0 not within
 * --ack-timeout, -1 when the endpoint refused (f says). */
static int hec_wait_ack(struct put *x, const char *base, const char *const *hv, long long ack,
			struct failure *f)
{
	char url[2400], body[64], text[256];
	struct ts_http_resp rs;
	double until = ts_now() + x->ack_timeout, wait = 0.1;
	int rc = 0;

	snprintf(url, sizeof(url), "%s/services/collector/ack?channel=%s", base, x->channel);
	snprintf(body, sizeof(body), "{\"acks\":[%lld]}", ack);
	ts_http_resp_init(&rs);
	while (!stop) {
		struct ts_http_req rq = {.method = "POST", .url = url, .headers = hv,
					 .body = body, .bodyn = strlen(body)};
		(*x->requests)++;
		if (ts_http_do(&x->http, &rq, &rs) == 0 && rs.status == 200) {
			json_t *j = json_loadb(rs.body.data, rs.body.len, 0, NULL);
			char k[32];
			snprintf(k, sizeof(k), "%lld", ack);
			json_t *v = json_object_get(json_object_get(j, "acks"), k);
			int yes = json_is_true(v);
			json_decref(j);
			if (yes) {
				rc = 1;
				break;
			}
		} else if (rs.status >= 400 && rs.status < 500 && rs.status != 429) {
			long code = hec_answer(&rs, text, sizeof(text), NULL, NULL);
			const char *nm = hec_code_name(code);
			f->status = rs.status;
			snprintf(f->code, sizeof(f->code), "Splunk.%s", nm ? nm : "AckFailed");
			snprintf(f->message, sizeof(f->message), "%s", text);
			rc = -1;
			break;
		}
		if (ts_now() + wait > until)
			break;
		ts_backoff_sleep(wait, &stop);
		wait = wait * 2 > 2 ? 2 : wait * 2;
	}
	ts_http_resp_release(&rs);
	return rc;
}

/* The base URL: scheme://host[:port] and any path before /services. */
static void hec_base(const char *url, char *out, size_t n)
{
	snprintf(out, n, "%s", url);
	char *s = strstr(out, "/services/collector");
	if (s)
		*s = '\0';
	size_t l = strlen(out);
	while (l > 0 && out[l - 1] == '/')
		out[--l] = '\0';
}

static int send_splunk(struct put *x, struct failure *f)
{
	char base[2048], url[2300], chan[80], text[256];
	long long acked = -1;
	const char *hv[5];
	struct ts_http_resp rs;
	struct ts_backoff b;
	int rc = -1;

	if (hec_body(x) < 0) {
		snprintf(f->code, sizeof(f->code), "Splunk.RequestTooLarge");
		return -1;
	}
	hec_base(x->url, base, sizeof(base));
	if (x->raw) {
		/* The raw endpoint takes the events' metadata in its query. */
		ts_buf_reset(&x->tmp);
		ts_buf_addf(&x->tmp, "%s/services/collector/raw?channel=%s", base, x->channel);
		const char *names[] = {"host", "source", "sourcetype", "index"};
		const char *vals[] = {x->host, x->source, x->sourcetype, x->index};
		for (int i = 0; i < 4; i++)
			if (vals[i]) {
				ts_buf_addf(&x->tmp, "&%s=", names[i]);
				ts_pct_encode(&x->tmp, vals[i], strlen(vals[i]), 0);
			}
		if (x->tmp.len >= sizeof(url)) {
			snprintf(f->code, sizeof(f->code), "Splunk.InvalidURL");
			snprintf(f->message, sizeof(f->message), "the raw endpoint's URL is too long");
			f->permanent = 1;
			return -1;
		}
		memcpy(url, x->tmp.data, x->tmp.len + 1);
	} else
		snprintf(url, sizeof(url), "%s/services/collector/event", base);
	snprintf(chan, sizeof(chan), "X-Splunk-Request-Channel: %s", x->channel);
	hv[0] = x->h_secret;
	hv[1] = chan;
	hv[2] = "Content-Type: application/json";
	hv[3] = NULL;
	ts_http_resp_init(&rs);
	ts_backoff_init(&b, x->retry_seconds);
	for (;;) {
		struct ts_http_req rq = {.method = "POST", .url = url, .headers = hv,
					 .body = x->body.data, .bodyn = x->body.len};
		int retry = 1;
		long long ack = -1, bad = -1;
		(*x->requests)++;
		f->attempts++;
		f->unusable = 0;
		if (ts_http_do(&x->http, &rq, &rs) < 0) {
			f->status = 0;
			snprintf(f->code, sizeof(f->code), "Splunk.%s", rs.timed_out ? "ConnectionTimeout" : "ConnectionError");
			snprintf(f->message, sizeof(f->message), "%s", rs.err);
		} else {
			long code = hec_answer(&rs, text, sizeof(text), &ack, &bad);
			const char *nm = hec_code_name(code);
			f->status = rs.status;
			snprintf(f->message, sizeof(f->message), "%s", text);
			if (nm)
				snprintf(f->code, sizeof(f->code), "Splunk.%s", nm);
			else
				snprintf(f->code, sizeof(f->code), "Splunk.ResponseStatus%ld", rs.status);
			if (rs.status == 200 && (code == 0 || code == -1)) {
				if (!x->ack) {
					rc = 0;
					break;
				}
				if (ack < 0) {
					snprintf(f->code, sizeof(f->code), "Splunk.AckIdMissing");
					f->unusable = 1;
					snprintf(f->message, sizeof(f->message), "no ackId in the answer: is indexer acknowledgement on for this token?");
					retry = 0;
				} else {
					int a = hec_wait_ack(x, base, hv, ack, f);
					if (a == 1) {
						acked = ack;
						rc = 0;
						break;
					}
					if (a == 0) {
						snprintf(f->code, sizeof(f->code), "Splunk.AckTimeout");
						snprintf(f->message, sizeof(f->message), "ack %lld not received within %g s", ack, x->ack_timeout);
					} else {
						retry = 0;
					}
				}
			} else if ((code == 6 || code == 12 || code == 13 || code == 15) && bad >= 0 &&
				   (unsigned long long)bad < x->nrec && x->nrec > 1 && !x->raw) {
				/* One event of the batch is at fault: it alone is
				 * dead-lettered, the rest go again at once. */
				f->permanent = 1;
				dead_letter_one(x, f, (size_t)bad);
				if (hec_body(x) < 0)
					break;
				unsigned tried = f->attempts;
				memset(f, 0, sizeof(*f));
				f->attempts = tried;
				continue;
			} else {
				/* Splunk's table: 8 internal error, 9 busy, 5xx and 429
				 * pass; token and format errors do not. */
				retry = code == 8 || code == 9 || rs.status >= 500 || rs.status == 429 ||
					rs.status == 408;
				/* The token, the channel, the index, acks off: the
				 * destination refuses us, whatever the data. */
				f->unusable = code == 1 || code == 2 || code == 3 || code == 4 || code == 7 ||
					      code == 10 || code == 11 || code == 14 || code == 16 ||
					      rs.status == 401 || rs.status == 403 || rs.status == 404;
			}
		}
		if (!retry || stop) {
			f->permanent = !retry;
			break;
		}
		double d = ts_backoff_next(&b);
		if (d < 0 || ts_backoff_sleep(d, &stop) < 0)
			break;
		(*x->retries)++;
	}
	ts_http_resp_release(&rs);
	if (rc == 0)
		announce(x, "destination", x->url, x->ack ? json_integer(acked) : NULL, x->body.len);
	return rc;
}

/* --- HTTP endpoint ----------------------------------------------------- */

static int http_body(struct put *x, const char *reqid, int64_t ms)
{
	ts_buf_reset(&x->tmp);
	ts_buf_addf(&x->tmp, "{\"requestId\":\"%s\",\"timestamp\":%lld,\"records\":[", reqid, (long long)ms);
	for (size_t i = 0; i < x->nrec; i++) {
		const struct rec *r = &x->recs[i];
		ts_buf_addstr(&x->tmp, i ? ",{\"data\":\"" : "{\"data\":\"");
		/* The record's bytes as read (minified), no delimiter added. */
		if (ts_base64_encode(&x->tmp, x->batch.data + r->off, r->len) < 0)
			return -1;
		ts_buf_addstr(&x->tmp, "\"}");
	}
	if (ts_buf_addstr(&x->tmp, "]}") < 0)
		return -1;
	if (x->gzip_body)
		return gzip_body(x, x->tmp.data, x->tmp.len);
	ts_buf_reset(&x->body);
	return ts_buf_add(&x->body, x->tmp.data, x->tmp.len);
}

static int send_http(struct put *x, struct failure *f)
{
	char reqid[37], h_id[80], text[256];
	const char *hv[8];
	int nh = 0, rc = -1;
	struct ts_http_resp rs;
	struct ts_backoff b;

	uuid4(reqid);
	if (http_body(x, reqid, ts_wall_ms()) < 0) {
		snprintf(f->code, sizeof(f->code), "HttpEndpoint.RequestTooLarge");
		return -1;
	}
	snprintf(h_id, sizeof(h_id), "X-Amz-Firehose-Request-Id: %s", reqid);
	hv[nh++] = "X-Amz-Firehose-Protocol-Version: 1.0";
	hv[nh++] = h_id;
	hv[nh++] = "Content-Type: application/json";
	if (x->h_secret)
		hv[nh++] = x->h_secret;
	if (x->h_attr)
		hv[nh++] = x->h_attr;
	if (x->gzip_body)
		hv[nh++] = "Content-Encoding: gzip";
	hv[nh] = NULL;
	ts_http_resp_init(&rs);
	ts_backoff_init(&b, x->retry_seconds);
	for (;;) {
		struct ts_http_req rq = {.method = "POST", .url = x->url, .headers = hv,
					 .body = x->body.data, .bodyn = x->body.len};
		int retry = 1;
		(*x->requests)++;
		f->attempts++;
		f->unusable = 0;
		if (ts_http_do(&x->http, &rq, &rs) < 0) {
			f->status = 0;
			snprintf(f->code, sizeof(f->code), "HttpEndpoint.%s",
				 rs.timed_out ? "RequestTimeout" : "ConnectionFailed");
			snprintf(f->message, sizeof(f->message), "%s", rs.err);
		} else {
			json_t *j = json_loadb(rs.body.data, rs.body.len, 0, NULL);
			json_t *id = json_object_get(j, "requestId"), *em = json_object_get(j, "errorMessage");
			text[0] = '\0';
			if (json_is_string(em))
				snprintf(text, sizeof(text), "%s", json_string_value(em));
			else if (!j && rs.body.len)
				snprintf(text, sizeof(text), "%.*s", (int)(rs.body.len < 200 ? rs.body.len : 200), rs.body.data);
			f->status = rs.status;
			snprintf(f->message, sizeof(f->message), "%s", text);
			if (rs.status == 200 && json_is_string(id) && strcmp(json_string_value(id), reqid) == 0) {
				json_decref(j);
				rc = 0;
				break;
			}
			if (rs.status == 200) {
				snprintf(f->code, sizeof(f->code), "HttpEndpoint.InvalidResponseFromDestination");
				if (!text[0])
					snprintf(f->message, sizeof(f->message), "the answer does not echo requestId %s", reqid);
			} else {
				snprintf(f->code, sizeof(f->code), "HttpEndpoint.ResponseStatus%ld", rs.status);
				f->unusable = rs.status == 401 || rs.status == 403 || rs.status == 404;
			}
			json_decref(j);
			retry = rs.status != 413;
		}
		if (!retry || stop) {
			f->permanent = !retry && f->status != 413;
			break;
		}
		double d = ts_backoff_next(&b);
		if (d < 0 || ts_backoff_sleep(d, &stop) < 0)
			break;
		(*x->retries)++;
	}
	ts_http_resp_release(&rs);
	if (rc == 0)
		announce(x, "destination", x->url, json_string(reqid), x->body.len);
	return rc;
}

/* --- batches ----------------------------------------------------------- */

static void flush_batch(struct put *x)
{
	struct failure f;

	if (x->nrec == 0)
		return;
	memset(&f, 0, sizeof(f));
	/* A destination that refused us before anything went through is not
	 * asked again: the rest is dead-lettered with its answer, unsent. */
	if (x->unusable[0] && *x->delivered == 0) {
		f = x->refusal;
		f.attempts = 0;
		dead_letter(x, &f);
		x->nrec = 0;
		ts_buf_reset(&x->batch);
		return;
	}
	int rc = x->kind == K_S3 ? send_s3(x, &f) : x->kind == K_SPLUNK ? send_splunk(x, &f) : send_http(x, &f);
	if (rc == 0) {
		*x->delivered += x->nrec;
	} else {
		dead_letter(x, &f);
		note_unusable(x, &f);
	}
	ts_out_flush(&x->run.out);
	x->nrec = 0;
	ts_buf_reset(&x->batch);
}

static int add_record(struct put *x, struct ts_input *in, const struct ts_item *it)
{
	size_t need = it->v.n + 1;

	/* The HTTP endpoint protocol takes records of at most 1,000 KiB. */
	if (x->kind == K_HTTP && it->v.n > 1024000) {
		json_t *extra = json_pack("{s:s,s:i,s:s}", "destination", x->url, "attempts", 0,
					  "errorCode", "HttpEndpoint.RecordTooLarge");
		struct ts_where w = ts_input_where(in, it);
		ts_reject_more(&x->run, extra, "delivery_failed", &w, it->v.p, it->v.n, 0,
			       "not sent: %zu bytes, over the 1,024,000 a record may have", it->v.n);
		json_decref(extra);
		*x->dead += 1;
		return 0;
	}
	/* HEC never takes a null or empty event: that record alone is
	 * dead-lettered, as Splunk would answer for it. */
	if (x->kind == K_SPLUNK && !x->raw && !it->has_ws &&
	    ((it->v.n == 4 && memcmp(it->v.p, "null", 4) == 0) ||
	     (it->v.n == 2 && memcmp(it->v.p, "\"\"", 2) == 0))) {
		int blank = it->v.n == 2;
		json_t *extra = json_pack("{s:s,s:i,s:s}", "destination", x->url, "attempts", 0,
					  "errorCode", blank ? "Splunk.EventFieldBlank"
							     : "Splunk.EventFieldRequired");
		struct ts_where w = ts_input_where(in, it);
		ts_reject_more(&x->run, extra, "delivery_failed", &w, it->v.p, it->v.n, 0,
			       "not sent: HEC takes no %s event", blank ? "empty" : "null");
		json_decref(extra);
		*x->dead += 1;
		return 0;
	}

	if (x->nrec && (x->batch.len + need > x->max_bytes))
		flush_batch(x);
	if (x->nrec == x->caprec) {
		size_t cap = x->caprec ? x->caprec * 2 : 1024;
		struct rec *v = realloc(x->recs, cap * sizeof(*v));
		if (!v)
			return ts_error("out of memory");
		x->recs = v;
		x->caprec = cap;
	}
	struct rec *r = &x->recs[x->nrec];
	r->off = x->batch.len;
	if (it->has_ws) {
		if (ts_json_minify(&x->batch, it->v) < 0)
			return ts_error("out of memory");
	} else if (ts_buf_add(&x->batch, it->v.p, it->v.n) < 0) {
		return ts_error("out of memory");
	}
	r->len = x->batch.len - r->off;
	ts_buf_addch(&x->batch, '\n');
	r->file = intern_name(x, in->name);
	r->line = it->line;
	r->ms = ts_wall_ms();
	if (x->nrec++ == 0)
		x->batch_t0 = ts_now();
	if ((x->max_records && x->nrec >= x->max_records) || x->batch.len >= x->max_bytes)
		flush_batch(x);
	return 0;
}

static void tick(struct put *x)
{
	if (x->nrec && x->max_seconds > 0 && ts_now() - x->batch_t0 >= x->max_seconds)
		flush_batch(x);
}

/* --- manifest mode: ship the files ------------------------------------- */

/* One JSON line on standard output. */
static void print_json(struct put *x, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s) {
		ts_out_write(&x->run.out, s, strlen(s));
		ts_out_write(&x->run.out, "\n", 1);
		free(s);
	}
	json_decref(o);
}

/* A manifest line whose file was not delivered, to the error output. */
static void report_file_failure(struct put *x, const struct failure *f, const char *file,
				uint64_t line, const char *raw, size_t rawn, const char *rel,
				const char *key)
{
	json_t *extra = json_object();
	struct ts_where w = {.file = file, .line = line, .offset = -1};

	json_object_set_new(extra, "destination", json_string(x->dest));
	json_object_set_new(extra, "object", json_string(key));
	json_object_set_new(extra, "attempts", json_integer(f->attempts));
	if (f->status)
		json_object_set_new(extra, "status", json_integer(f->status));
	json_object_set_new(extra, "errorCode", json_string(f->code));
	if (f->message[0]) {
		json_t *m = json_string(f->message);
		json_object_set_new(extra, "response", m ? m : json_string("(not UTF-8)"));
	}
	ts_reject_more(&x->run, extra, "delivery_failed", &w, raw, rawn, 0,
		       "'%s' not delivered after %u attempt%s: %s%s%s", rel, f->attempts,
		       f->attempts == 1 ? "" : "s", f->code, f->message[0] ? ": " : "", f->message);
	json_decref(extra);
	*x->dead += 1;
	note_unusable(x, f);
}

/*
 * Files go to S3 on --parallel upload workers, each with its own client and
 * part buffer (at most --parallel parts in memory).  The main thread reads
 * the manifest, queues each file (its descriptor already open), and writes
 * the outcomes in manifest order: standard output, the error output and the
 * counts are the main thread's alone.
 */
struct job {
	int fd;
	uint64_t size;
	char *key, *rel, *raw, *file;   /* S3 key, manifest path, the line */
	size_t rawn;
	uint64_t line;
	int done, rc;
	struct failure f;
	uint64_t requests, retries;
};

struct worker {
	struct put *x;
	struct ts_http http;
	struct ts_aws_config aws;
	struct ts_s3 s3;
	struct ts_buf buf;
	pthread_t th;
	int started;
};

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct job **ring;
	size_t cap, emit, take, add; /* counters: emit <= take <= add */
	int quit;
	struct worker *w;
	int n;
};

static void job_free(struct job *j)
{
	if (j->fd >= 0)
		close(j->fd);
	free(j->key);
	free(j->rel);
	free(j->raw);
	free(j->file);
	free(j);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->x->pool;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->take == p->add && !p->quit)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->take == p->add) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		struct job *j = p->ring[p->take++ % p->cap];
		pthread_mutex_unlock(&p->mu);

		struct uploader u = {.s3 = &w->s3, .buf = &w->buf};
		if (j->size <= w->x->part_size) {
			ts_buf_reset(&w->buf);
			if (ts_buf_grow(&w->buf, (size_t)j->size) < 0 ||
			    ts_read_full(j->fd, w->buf.data, (size_t)j->size) != (long)j->size) {
				j->rc = -1;
				j->f.attempts = 1;
				snprintf(j->f.code, sizeof(j->f.code), "FileChanged");
				snprintf(j->f.message, sizeof(j->f.message), "'%.400s' could not be read whole", j->rel);
			} else {
				j->rc = s3_upload(w->x, &u, j->key, w->buf.data, (size_t)j->size, -1, 0, &j->f);
			}
		} else {
			j->rc = s3_upload(w->x, &u, j->key, NULL, 0, j->fd, j->size, &j->f);
		}
		close(j->fd);
		j->fd = -1;
		j->requests = u.requests;
		j->retries = u.retries;
		pthread_mutex_lock(&p->mu);
		j->done = 1;
		pthread_cond_broadcast(&p->done);
		pthread_mutex_unlock(&p->mu);
	}
}

/* One finished file: its line on standard output, or its error record. */
static void job_report(struct put *x, struct job *j)
{
	*x->requests += j->requests;
	*x->retries += j->retries;
	if (j->rc == 0) {
		json_t *o = json_object();
		ts_buf_reset(&x->file);
		ts_buf_addf(&x->file, "s3://%s/%s", x->bucket, j->key);
		json_object_set_new(o, "object", json_string(x->file.data));
		json_object_set_new(o, "path", json_string(j->rel));
		json_object_set_new(o, "bytes", json_integer((json_int_t)j->size));
		print_json(x, o);
		*x->delivered += 1;
		return;
	}
	report_file_failure(x, &j->f, j->file, j->line, j->raw, j->rawn, j->rel, j->key);
}

/* Report every finished job at the head of the queue, in order; with all,
 * wait until every queued one is. */
static void pool_drain(struct put *x, int all)
{
	struct pool *p = x->pool;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->emit < p->add && p->ring[p->emit % p->cap]->done) {
			struct job *j = p->ring[p->emit % p->cap];
			p->emit++;
			pthread_mutex_unlock(&p->mu);
			job_report(x, j);
			job_free(j);
			pthread_mutex_lock(&p->mu);
		}
		if (!all || p->emit == p->add)
			break;
		pthread_cond_wait(&p->done, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	ts_out_flush(&x->run.out);
}

static int pool_add(struct put *x, struct job *j)
{
	struct pool *p = x->pool;

	pthread_mutex_lock(&p->mu);
	while (p->add - p->emit == p->cap) {
		pthread_mutex_unlock(&p->mu);
		pool_drain(x, 0);
		pthread_mutex_lock(&p->mu);
		if (p->add - p->emit == p->cap)
			pthread_cond_wait(&p->done, &p->mu);
	}
	p->ring[p->add++ % p->cap] = j;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
	pool_drain(x, 0);
	return 0;
}

static int pool_start(struct put *x, int n)
{
	struct pool *p = calloc(1, sizeof(*p));
	char err[512];

	if (!p)
		return ts_error("out of memory");
	x->pool = p;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	p->cap = (size_t)n * 2;
	p->ring = calloc(p->cap, sizeof(*p->ring));
	p->w = calloc((size_t)n, sizeof(*p->w));
	if (!p->ring || !p->w)
		return ts_error("out of memory");
	for (int i = 0; i < n; i++) {
		struct worker *w = &p->w[i];
		struct ts_s3_opts so = {.endpoint = x->endpoint, .unsigned_payload = x->unsigned_payload,
					.retry_seconds = x->retry_seconds, .stop = &stop};
		w->x = x;
		ts_buf_init(&w->buf, 0);
		/* Each worker finds the credentials itself: temporary ones
		 * are refreshed by whoever uses them, never shared. */
		if (ts_http_init(&w->http, &x->hopts) < 0)
			return -1;
		if (ts_aws_config_load(&w->aws, &w->http, err, sizeof(err)) < 0)
			return ts_error("AWS credentials: %s", err);
		if (ts_s3_init(&w->s3, &w->http, &w->aws, &so, err, sizeof(err)) < 0)
			return ts_error("%s", err);
		if ((errno = pthread_create(&w->th, NULL, worker_main, w)) != 0)
			return ts_error("cannot start an upload worker: %s", strerror(errno));
		w->started = 1;
		p->n = i + 1;
	}
	return 0;
}

static void pool_stop(struct put *x)
{
	struct pool *p = x->pool;

	if (!p)
		return;
	pool_drain(x, 1);
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->n; i++) {
		struct worker *w = &p->w[i];
		if (w->started)
			pthread_join(w->th, NULL);
		ts_s3_release(&w->s3);
		ts_aws_config_release(&w->aws);
		ts_http_release(&w->http);
		ts_buf_release(&w->buf);
	}
	free(p->w);
	free(p->ring);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p);
	x->pool = NULL;
}

static int ship_file(struct put *x, struct ts_input *in, const struct ts_item *it)
{
	struct ts_span path;
	struct failure f;
	char errbuf[PATH_MAX + 64];

	memset(&f, 0, sizeof(f));
	/* What is refused here is reported after the files before it. */
	if (ts_json_obj_get(it->v, "path", 4, &path) != 1 || path.n < 2 || path.p[0] != '"') {
		pool_drain(x, 1);
		ts_input_reject(in, it, "bad_manifest", (struct ts_span){0}, "no \"path\" string in the manifest line");
		return 0;
	}
	ts_buf_reset(&x->tmp);
	if (ts_json_unescape(&x->tmp, path) < 0 || memchr(x->tmp.data, '\0', x->tmp.len)) {
		pool_drain(x, 1);
		ts_input_reject(in, it, "bad_manifest", (struct ts_span){0}, "bad \"path\"");
		return 0;
	}
	const char *rel = x->tmp.data;
	if (rel[0] == '/' || strstr(rel, "../") || strcmp(rel, "..") == 0 ||
	    (strlen(rel) >= 3 && strcmp(rel + strlen(rel) - 3, "/..") == 0)) {
		pool_drain(x, 1);
		ts_input_reject(in, it, "bad_manifest", (struct ts_span){0},
				"path '%s' is not relative to --root", rel);
		return 0;
	}
	ts_buf_reset(&x->key);
	ts_buf_addstr(&x->key, x->prefix);
	ts_buf_addstr(&x->key, rel);
	char full[PATH_MAX];
	snprintf(full, sizeof(full), "%s/%s", x->root ? x->root : ".", rel);
	int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(errbuf, sizeof(errbuf), "cannot read '%s': %s", full,
			 fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		pool_drain(x, 1);
		ts_input_reject(in, it, "delivery_failed", (struct ts_span){0}, "%s", errbuf);
		*x->dead += 1;
		return 0;
	}
	if (x->kind == K_S3) {
		struct job *j = calloc(1, sizeof(*j));
		if (!j || !(j->key = strdup(x->key.data)) || !(j->rel = strdup(rel)) ||
		    !(j->raw = malloc(it->v.n + 1)) || !(j->file = strdup(in->name))) {
			close(fd);
			if (j) {
				j->fd = -1;
				job_free(j);
			}
			return ts_error("out of memory");
		}
		memcpy(j->raw, it->v.p, it->v.n);
		j->rawn = it->v.n;
		j->fd = fd;
		j->size = (uint64_t)st.st_size;
		j->line = it->line;
		return pool_add(x, j);
	}
	/* A directory: copied here, in turn (the partitioner is one thread's). */
	int rc = ts_part_copy(x->part, x->key.data, fd);
	close(fd);
	if (rc < 0) {
		ts_error("%s", ts_part_error(x->part));
		ts_run_fail(&x->run, 2);
		/* This line is read but neither delivered nor dead-lettered:
		 * it goes to the error output too. */
		ts_input_reject(in, it, "delivery_failed", (struct ts_span){0}, "%s",
				ts_part_error(x->part));
		*x->dead += 1;
		return -1;
	}
	if (rc == TS_PART_REJECTED) {
		const char *msg, *code = ts_part_rejection(x->part, &msg);
		f.attempts = 1;
		f.permanent = 1;
		snprintf(f.code, sizeof(f.code), "Directory.%s", code);
		snprintf(f.message, sizeof(f.message), "%s", msg);
		report_file_failure(x, &f, in->name, it->line, it->v.p, it->v.n, rel, x->key.data);
		return 0;
	}
	json_t *o = json_object();
	ts_buf_reset(&x->file);
	ts_buf_addf(&x->file, "%s/%s", x->po.dir, x->key.data);
	json_object_set_new(o, "object", json_string(x->file.data));
	json_object_set_new(o, "path", json_string(rel));
	json_object_set_new(o, "bytes", json_integer((json_int_t)st.st_size));
	print_json(x, o);
	*x->delivered += 1;
	ts_out_flush(&x->run.out);
	return 0;
}

/* --- directory --------------------------------------------------------- */

static int dir_record(struct put *x, struct ts_input *in, const struct ts_item *it)
{
	const char *code;
	struct ts_tpl_env env = {.tz = &x->tz, .max_len = PATH_MAX - 128 - strlen(x->po.dir)};
	int64_t ms = ts_wall_ms();

	if (ts_template_render(&x->tpl, &x->render, &env, ms, &x->key, &code) < 0) {
		ts_input_reject(in, it, code, (struct ts_span){0}, "the prefix could not be made");
		*x->dead += 1;
		return 0;
	}
	int rc = ts_part_write(x->part, x->key.data, x->key.len, it->v.p, it->v.n, it->has_ws, ms, 0);
	if (rc == TS_PART_REJECTED) {
		const char *msg;
		const char *c = ts_part_rejection(x->part, &msg);
		ts_input_reject(in, it, c, (struct ts_span){0}, "%s", msg);
		*x->dead += 1;
		return 0;
	}
	if (rc < 0) {
		ts_error("%s", ts_part_error(x->part));
		return -1;
	}
	return 0;
}

/* --- the input --------------------------------------------------------- */

static struct put *ticking;

/* Standard input waits at most a second at a time, so --max-seconds holds
 * on a quiet pipe; a stopping signal ends the input as its end would. */
static long source(void *ctx, char *dst, size_t n)
{
	int fd = *(int *)ctx;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	for (;;) {
		if (stop)
			return 0;
		int ready = poll(&pfd, 1, 1000);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (ready == 0) {
			if (ticking->kind == K_DIR)
				ts_part_tick(ticking->part);
			else
				tick(ticking);
			continue;
		}
		ssize_t r = read(fd, dst, n);
		if (r >= 0)
			return (long)r;
		if (errno != EINTR)
			return -1;
	}
}

static int on_record(void *ud, struct ts_input *in, const struct ts_item *it)
{
	struct put *x = ud;
	int rc;

	/* This record is counted as read: it is delivered or dead-lettered
	 * even when a stopping signal came.  Then a file stops here; a pipe
	 * gives what was read from it already (source() ends it), so nothing
	 * taken from a pipe is lost. */
	if (x->manifest)
		rc = ship_file(x, in, it);
	else if (x->kind == K_DIR)
		rc = dir_record(x, in, it);
	else {
		tick(x);
		rc = add_record(x, in, it);
	}
	return stop && in->regular ? -1 : rc;
}

static void install_signals(void)
{
	static const int stops[] = {SIGTERM, SIGINT, SIGHUP};
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: a wait returns */
	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		sigaction(stops[i], &sa, NULL);
}

/* --- setup ------------------------------------------------------------- */

static int setup_aws(struct put *x, int need_creds)
{
	char err[512];

	if (ts_aws_config_load(&x->aws, &x->http, err, sizeof(err)) < 0) {
		if (need_creds)
			return ts_error("AWS credentials: %s", err);
	}
	if (x->show_creds) {
		char masked[64] = "";
		if (x->aws.cred.access_key)
			ts_aws_key_masked(x->aws.cred.access_key, masked, sizeof(masked));
		json_t *o = json_pack("{s:s?,s:s?,s:s?,s:s?,s:s?}", "source", x->aws.source, "region",
				      x->aws.region, "profile", x->aws.profile, "accessKeyId",
				      masked[0] ? masked : NULL, "endpoint",
				      x->endpoint ? x->endpoint : x->aws.endpoint_s3);
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("%s\n", s ? s : "{}");
		free(s);
		json_decref(o);
		return x->aws.cred.access_key ? 1 : ts_error("AWS credentials: %s", err);
	}
	struct ts_s3_opts so = {.endpoint = x->endpoint, .unsigned_payload = x->unsigned_payload,
				.retry_seconds = x->retry_seconds, .stop = &stop};
	if (ts_s3_init(&x->s3, &x->http, &x->aws, &so, err, sizeof(err)) < 0)
		return ts_error("%s", err);
	return 0;
}

/* "Name: value" in a new string; a value with a line break is refused
 * (it would end the header there). */
static int header_line(char **out, const char *name, const char *value)
{
	if (strpbrk(value, "\r\n"))
		return ts_error("%.*s: the value holds a line break", (int)strcspn(name, ":"), name);
	size_t n = strlen(name) + strlen(value) + 1;
	free(*out);
	if (!(*out = malloc(n)))
		return ts_error("out of memory");
	snprintf(*out, n, "%s%s", name, value);
	return 0;
}

static int setup_dest(struct put *x)
{
	char err[512];

	if (x->kind == K_SPLUNK || x->kind == K_HTTP) {
		if (strncmp(x->url, "http://", 7) != 0 && strncmp(x->url, "https://", 8) != 0)
			return ts_usage_error(&cmd, "'%s' is not an http:// or https:// URL", x->url);
		if (x->manifest)
			return ts_usage_error(&cmd, "--manifest ships files to S3 or a directory");
		if (x->kind == K_SPLUNK) {
			const char *env = getenv("TS_SPLUNK_TOKEN");
			if (!x->token && env && *env)
				x->token = strdup(env);
			if (!x->token)
				return ts_usage_error(&cmd, "the HEC token is needed: --token-file FILE or TS_SPLUNK_TOKEN");
			if (header_line(&x->h_secret, "Authorization: Splunk ", x->token) < 0)
				return -1;
			if (x->channel_arg) {
				snprintf(x->channel, sizeof(x->channel), "%s", x->channel_arg);
			} else {
				uuid4(x->channel);
			}
		} else {
			const char *env = getenv("TS_HTTP_ACCESS_KEY");
			if (!x->access_key && env && *env)
				x->access_key = strdup(env);
			if (x->access_key &&
			    header_line(&x->h_secret, "X-Amz-Firehose-Access-Key: ", x->access_key) < 0)
				return -1;
			if (x->attributes) {
				json_t *ca = json_pack("{s:O}", "commonAttributes", x->attributes);
				char *a = json_dumps(ca, JSON_COMPACT | JSON_PRESERVE_ORDER);
				json_decref(ca);
				int r = a ? header_line(&x->h_attr, "X-Amz-Firehose-Common-Attributes: ", a) : -1;
				free(a);
				if (r < 0)
					return ts_error("out of memory");
			}
		}
		return 0;
	}
	if (strncmp(x->dest, "s3://", 5) == 0) {
		x->kind = K_S3;
		if (ts_s3_parse_url(x->dest, &x->bucket, &x->prefix, err, sizeof(err)) < 0)
			return ts_usage_error(&cmd, "'%s': %s", x->dest, err);
	} else {
		x->kind = K_DIR;
		const char *d = strncmp(x->dest, "file://", 7) == 0 ? x->dest + 7 : x->dest;
		size_t dl = strlen(d);
		while (dl > 1 && d[dl - 1] == '/')
			dl--;
		if (!dl)
			return ts_usage_error(&cmd, "'%s': no directory", x->dest);
		if (!(x->dir = strndup(d, dl)))
			return ts_error("out of memory");
		x->po.dir = x->dir;
		x->prefix = strdup("");
	}
	if (!x->manifest) {
		/* The object key template: the URL's prefix, with the
		 * service's default time part when it has no timestamp. */
		if (ts_template_parse(&x->tpl, x->prefix, 0, err, sizeof(err)) < 0)
			return ts_usage_error(&cmd, "prefix '%s': %s", x->prefix, err);
		for (size_t i = 0; i < x->tpl.n; i++)
			if (x->tpl.parts[i].kind == TS_TPL_KEY)
				return ts_usage_error(&cmd, "prefix '%s': partition keys need ts-partition "
							    "(then ts-put --manifest)", x->prefix);
		if (!x->tpl.has_time && ts_template_add_default_time(&x->tpl) < 0)
			return ts_error("out of memory");
		if (ts_tpl_render_init(&x->render, &x->tpl) < 0)
			return ts_error("out of memory");
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct put x;
	int first;

	ts_run_init(&x.run, cmd.name);
	x.name = "ts-put";
	x.retry_seconds = 300;
	x.ack_timeout = 180;
	x.part_size = (uint64_t)8 << 20;
	x.parallel = 4;
	x.hopts.timeout_ms = 60000;
	first = ts_opt_parse(&cmd, &x.run, argc, argv, set_opt, &x);
	if (first == TS_OPT_EXIT)
		return ts_run_finish(&x.run) ? 2 : 0;
	if (first == TS_OPT_USAGE)
		return 2;
	if (!x.url) {
		if (first >= argc)
			return ts_usage_error(&cmd, "a destination is needed: s3://BUCKET/PREFIX, "
						    "file://DIR, DIR, --splunk URL or --http URL"), 2;
		x.dest = argv[first++];
	} else {
		x.dest = x.url;
	}
	if (setup_dest(&x) < 0)
		return 2;
	if (!x.have_max_bytes)
		x.max_bytes = x.kind == K_SPLUNK ? (1u << 20) : x.kind == K_HTTP ? (4u << 20) : (5u << 20);
	/* The HTTP endpoint protocol takes at most 10,000 records a request. */
	if (x.kind == K_HTTP && (x.max_records == 0 || x.max_records > 10000))
		x.max_records = 10000;
	if (!x.have_max_seconds)
		x.max_seconds = x.kind == K_SPLUNK || x.kind == K_HTTP ? 60 : 300;
	ts_tz_parse(&x.tz, "UTC", NULL, 0);
	x.hopts.abort_if = &stop_now;
	if (ts_http_init(&x.http, &x.hopts) < 0)
		return 2;
	x.endpoint = x.run.s3_endpoint;
	if (x.kind == K_S3 || x.show_creds) {
		int r = setup_aws(&x, 1);
		if (r != 0)
			return r > 0 ? 0 : 2;
	}
	if (x.kind == K_DIR) {
		x.po.name = x.name;
		x.po.gzip = x.gzip;
		x.po.fsync = 1;
		x.po.max_bytes = x.max_bytes;
		x.po.max_records = x.max_records;
		x.po.max_seconds = x.max_seconds;
		x.po.max_open = 64;
		x.po.manifest = &x.run.out;
		struct stat st;
		if (ts_mkdir_p(x.po.dir) < 0) {
			ts_error("cannot create directory '%s': %s", x.po.dir, strerror(errno));
			return 2;
		}
		if (stat(x.po.dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			ts_error("'%s' is not a directory", x.po.dir);
			return 2;
		}
		if (!(x.part = ts_part_new(&x.po))) {
			ts_error("cannot write under '%s': %s", x.po.dir, strerror(errno));
			return 2;
		}
		if (ts_part_error(x.part)) {
			ts_error("%s", ts_part_error(x.part));
			return 2;
		}
	}
	x.delivered = ts_run_counter(&x.run, "delivered");
	x.dead = ts_run_counter(&x.run, "refused");
	x.lettered = ts_run_counter(&x.run, "dead_lettered");
	x.requests = ts_run_counter(&x.run, "requests");
	x.retries = ts_run_counter(&x.run, "retries");
	ts_buf_init(&x.batch, 0);
	ts_buf_init(&x.body, 0);
	ts_buf_init(&x.key, 0);
	ts_buf_init(&x.tmp, 0);
	ts_buf_init(&x.file, 0);
	ts_input_init(&x.in, &x.run);
	ticking = &x;
	x.in.source = source;
	x.in.keep_going = 1; /* standard output is a report, not the data */
	install_signals();

	if (x.manifest && x.kind == K_S3 && pool_start(&x, x.parallel) < 0) {
		pool_stop(&x);
		return 2;
	}
	ts_input_run(&x.in, argv + first, on_record, &x);
	pool_stop(&x);
	if (x.kind == K_DIR) {
		if (ts_part_close_all(x.part) < 0 || ts_part_error(x.part)) {
			ts_error("%s", ts_part_error(x.part));
			ts_part_abort(x.part);
			ts_run_fail(&x.run, 2);
		}
		if (!x.manifest)
			*x.delivered = ts_part_records(x.part);
		ts_part_free(x.part);
	} else {
		flush_batch(&x);
	}
	if (x.unusable[0] && *x.delivered == 0) {
		ts_error("%s: the destination refused the first delivery: %s", x.dest, x.unusable);
		ts_run_fail(&x.run, 2);
	}
	if (stop)
		ts_warn("stopped by a signal: what was read is delivered or in the error output");
	ts_input_release(&x.in);
	if (x.kind == K_S3)
		ts_s3_release(&x.s3);
	ts_aws_config_release(&x.aws);
	ts_http_release(&x.http);
	ts_template_release(&x.tpl);
	ts_tpl_render_release(&x.render);
	if (x.gz)
		libdeflate_free_compressor(x.gz);
	for (size_t i = 0; i < x.nnames; i++)
		free(x.names[i]);
	free(x.names);
	free(x.recs);
	free(x.bucket);
	free(x.dir);
	free(x.prefix);
	if (x.token)
		explicit_bzero(x.token, strlen(x.token));
	if (x.h_secret)
		explicit_bzero(x.h_secret, strlen(x.h_secret));
	free(x.h_secret);
	free(x.h_attr);
	free(x.token);
	free(x.access_key);
	json_decref(x.attributes);
	ts_buf_release(&x.batch);
	ts_buf_release(&x.body);
	ts_buf_release(&x.key);
	ts_buf_release(&x.tmp);
	ts_buf_release(&x.file);
	/* records_out: what was delivered (standard output is a report);
	 * dead_lettered: every record in the error output, those the
	 * destination refused ("refused") and those that never got to it
	 * (bad JSON, a bad manifest line, an unsafe path), so that
	 * delivered + dead_lettered = records_in. */
	x.run.records_out = (int64_t)*x.delivered;
	*x.lettered = x.run.rejected;
	return ts_run_finish(&x.run);
}
