/*
 * awslog.c — see awslog.h.
 */
#include "awslog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define DEFAULT_MAX ((size_t)64 << 20)
#define MAX_FIELDS 128

/* --- lines ------------------------------------------------------------- */

void ts_awslog_lines_init(struct ts_awslog_lines *l, size_t max)
{
	memset(l, 0, sizeof(*l));
	l->max = max ? max : DEFAULT_MAX;
	ts_buf_init(&l->buf, 0);
	l->line = 1;
}

void ts_awslog_lines_release(struct ts_awslog_lines *l)
{
	ts_buf_release(&l->buf);
}

static int hand_over(struct ts_awslog_lines *l, ts_awslog_line_fn fn, void *ud)
{
	struct ts_awslog_line x = {l->buf.data, l->buf.len, l->line, l->oversize};
	int rc;

	if (!x.truncated && x.n && x.p[x.n - 1] == '\r')
		x.n--;
	rc = fn(ud, &x);
	ts_buf_reset(&l->buf);
	l->oversize = 0;
	l->line++;
	return rc;
}

/* Add the k bytes of a line at p, keeping only a prefix of one over max. */
static int add_part(struct ts_awslog_lines *l, const char *p, size_t k)
{
	size_t keep = l->max < TS_AWSLOG_RAW_PREFIX ? l->max : TS_AWSLOG_RAW_PREFIX;

	if (l->oversize)
		return 0;
	if (l->buf.len + k <= l->max)
		return ts_buf_add(&l->buf, p, k);
	l->oversize = 1;
	if (l->buf.len < keep)
		return ts_buf_add(&l->buf, p, keep - l->buf.len);
	ts_buf_setlen(&l->buf, keep);
	return 0;
}

int ts_awslog_lines_feed(struct ts_awslog_lines *l, const char *p, size_t n,
			 ts_awslog_line_fn fn, void *ud)
{
	static const char bom[] = "\xef\xbb\xbf";

	if (!n) {
		int rc = 0;
		if (!l->started && l->bom && add_part(l, bom, l->bom) < 0)
			rc = -1;
		if (!rc && (l->buf.len || l->oversize))
			rc = hand_over(l, fn, ud);
		ts_buf_reset(&l->buf);
		l->line = 1;
		l->bom = 0;
		l->started = l->oversize = 0;
		return rc;
	}
	while (!l->started && n) {
		if (*p == bom[l->bom]) {
			p++, n--;
			if (++l->bom == 3)
				l->started = 1;
			continue;
		}
		/* not a byte order mark: what looked like one is data */
		l->started = 1;
		if (add_part(l, bom, l->bom) < 0)
			return -1;
	}
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;

		if (add_part(l, p, k) < 0)
			return -1;
		if (!nl)
			break;
		if (hand_over(l, fn, ud) < 0)
			return -1;
		p += k + 1;
		n -= k + 1;
	}
	return 0;
}

int ts_awslog_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return 0;
	return 1;
}

/* --- fields ------------------------------------------------------------ */

struct tok {
	const char *p;   /* the value: between the quotes of a quoted field */
	size_t n;
	const char *raw; /* the field as written */
	size_t rawn;
};

/*
 * Split a line at runs of spaces into t (at most MAX_FIELDS).  With quotes,
 * a field starting with '"' runs to the next '"' followed by a space or the
 * end.  The number of fields, or -1 (err set).
 */
static long split(const char *p, size_t n, int quotes, struct tok *t, char *err,
		  size_t errlen)
{
	const char *end = p + n;
	long k = 0;

	for (;;) {
		while (p < end && *p == ' ')
			p++;
		if (p == end)
			return k;
		if (k == MAX_FIELDS) {
			snprintf(err, errlen, "more than %d fields", MAX_FIELDS);
			return -1;
		}
		struct tok *f = &t[k++];
		f->raw = p;
		if (quotes && *p == '"') {
			const char *q = p + 1;
			for (;;) {
				q = memchr(q, '"', (size_t)(end - q));
				if (!q) {
					snprintf(err, errlen, "unbalanced quotes: field %ld "
						 "is not closed", k);
					return -1;
				}
				if (q + 1 == end || q[1] == ' ')
					break;
				q++;
			}
			f->p = p + 1;
			f->n = (size_t)(q - p - 1);
			p = q + 1;
		} else {
			while (p < end && *p != ' ')
				p++;
			f->p = f->raw;
			f->n = (size_t)(p - f->raw);
		}
		f->rawn = (size_t)(p - f->raw);
	}
}

static int is_dash(const char *p, size_t n)
{
	return n == 1 && p[0] == '-';
}

/* An integer as JSON writes it: -?(0|[1-9][0-9]*). */
static int is_int(const char *p, size_t n)
{
	size_t i = 0;

	if (i < n && p[i] == '-')
		i++;
	if (i == n)
		return 0;
	if (p[i] == '0')
		return i + 1 == n;
	for (; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/* "key": */
static int put_key(struct ts_buf *out, const char *key)
{
	if (out->data[out->len - 1] != '{' && ts_buf_addch(out, ',') < 0)
		return -1;
	if (ts_buf_addch(out, '"') < 0 || ts_buf_addstr(out, key) < 0)
		return -1;
	return ts_buf_add(out, "\":", 2);
}

/* A string value, or null for "-".  -1: EILSEQ (not UTF-8) or EFBIG. */
static int put_str(struct ts_buf *out, const char *p, size_t n)
{
	if (is_dash(p, n))
		return ts_buf_add(out, "null", 4);
	return ts_json_escape(out, p, n);
}

/* A number when it reads as one (integers only, or any JSON number). */
static int put_num(struct ts_buf *out, const char *p, size_t n, int int_only)
{
	if (is_dash(p, n))
		return ts_buf_add(out, "null", 4);
	if (int_only ? is_int(p, n) : ts_json_is_number(p, n))
		return ts_buf_add(out, p, n);
	return ts_json_escape(out, p, n);
}

/* The end of a record: 0, or the result for a failed append. */
static int finish(struct ts_buf *out, size_t at, int rc, char *err, size_t errlen)
{
	if (rc == 0 && ts_buf_addch(out, '}') == 0)
		return 0;
	ts_buf_setlen(out, at);
	if (errno == EILSEQ) {
		snprintf(err, errlen, "not UTF-8");
		return TS_AWSLOG_BAD;
	}
	return -1;
}

/* --- VPC Flow Logs ----------------------------------------------------- */

static const struct {
	const char *name;
	int numeric; /* int or bigint in AWS's Athena table, INT_32/INT_64 in Parquet */
} vpc_fields[] = {
	/* version 2: the default format, in its order */
	{"version", 1}, {"account-id", 0}, {"interface-id", 0}, {"srcaddr", 0},
	{"dstaddr", 0}, {"srcport", 1}, {"dstport", 1}, {"protocol", 1},
	{"packets", 1}, {"bytes", 1}, {"start", 1}, {"end", 1}, {"action", 0},
	{"log-status", 0},
	/* 3 */
	{"vpc-id", 0}, {"subnet-id", 0}, {"instance-id", 0}, {"tcp-flags", 1},
	{"type", 0}, {"pkt-srcaddr", 0}, {"pkt-dstaddr", 0},
	/* 4 */
	{"region", 0}, {"az-id", 0}, {"sublocation-type", 0}, {"sublocation-id", 0},
	/* 5 */
	{"pkt-src-aws-service", 0}, {"pkt-dst-aws-service", 0},
	{"flow-direction", 0}, {"traffic-path", 1},
	/* 7 */
	{"ecs-cluster-arn", 0}, {"ecs-cluster-name", 0},
	{"ecs-container-instance-arn", 0}, {"ecs-container-instance-id", 0},
	{"ecs-container-id", 0}, {"ecs-second-container-id", 0},
	{"ecs-service-name", 0}, {"ecs-task-definition-arn", 0},
	{"ecs-task-arn", 0}, {"ecs-task-id", 0},
	/* 8 */
	{"reject-reason", 0},
	/* 10 */
	{"resource-id", 0}, {"encryption-status", 1},
};
#define VPC_NFIELDS (sizeof(vpc_fields) / sizeof(vpc_fields[0]))
#define VPC_DEFAULT_N 14

static int vpc_lookup(const char *name, size_t n)
{
	for (size_t i = 0; i < VPC_NFIELDS; i++)
		if (strlen(vpc_fields[i].name) == n && !memcmp(vpc_fields[i].name, name, n))
			return (int)i;
	return -1;
}

int ts_awslog_vpc_known(const char *name, size_t n)
{
	return vpc_lookup(name, n) >= 0;
}

static void vpc_free(char **names, unsigned char *numeric, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(numeric);
}

void ts_awslog_vpc_release(struct ts_awslog_vpc *h)
{
	vpc_free(h->names, h->numeric, h->n);
	h->names = NULL;
	h->numeric = NULL;
	h->n = 0;
}

/* Replace the names with the n of t. */
static int vpc_set(struct ts_awslog_vpc *h, const struct tok *t, size_t n)
{
	char **names = calloc(n ? n : 1, sizeof(*names));
	unsigned char *numeric = calloc(n ? n : 1, 1);

	if (!names || !numeric)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		int k = vpc_lookup(t[i].p, t[i].n);
		if (!(names[i] = malloc(t[i].n + 1)))
			goto oom;
		memcpy(names[i], t[i].p, t[i].n);
		names[i][t[i].n] = '\0';
		numeric[i] = k >= 0 && vpc_fields[k].numeric;
	}
	ts_awslog_vpc_release(h);
	h->names = names;
	h->numeric = numeric;
	h->n = n;
	return 0;
oom:
	if (names)
		vpc_free(names, numeric, n);
	else
		free(numeric);
	errno = ENOMEM;
	return -1;
}

int ts_awslog_vpc_init(struct ts_awslog_vpc *h)
{
	struct tok t[VPC_DEFAULT_N];

	memset(h, 0, sizeof(*h));
	for (size_t i = 0; i < VPC_DEFAULT_N; i++) {
		t[i].p = t[i].raw = vpc_fields[i].name;
		t[i].n = t[i].rawn = strlen(vpc_fields[i].name);
	}
	return vpc_set(h, t, VPC_DEFAULT_N);
}

int ts_awslog_vpc_is_header(const char *p, size_t n)
{
	struct tok t[MAX_FIELDS];
	char err[64];
	const char *end = p + n, *w = p, *we;
	long k;

	/* a record's first field is never a field name: look no further */
	while (w < end && *w == ' ')
		w++;
	for (we = w; we < end && *we != ' ';)
		we++;
	if (we - w == 7 && !memcmp(w, "version", 7))
		return 1;
	if (w == end || vpc_lookup(w, (size_t)(we - w)) < 0)
		return 0;
	if ((k = split(p, n, 0, t, err, sizeof(err))) <= 0)
		return 0;
	for (long i = 0; i < k; i++)
		if (vpc_lookup(t[i].p, t[i].n) < 0)
			return 0;
	return 1;
}

int ts_awslog_vpc_set_header(struct ts_awslog_vpc *h, const char *p, size_t n,
			     char *err, size_t errlen)
{
	struct tok t[MAX_FIELDS];
	long k = split(p, n, 0, t, err, errlen);

	if (k < 0)
		return TS_AWSLOG_BAD;
	if (k == 0) {
		snprintf(err, errlen, "a header line without field names");
		return TS_AWSLOG_BAD;
	}
	for (long i = 0; i < k; i++)
		if (ts_utf8_valid_prefix(t[i].p, t[i].n) != t[i].n) {
			snprintf(err, errlen, "a field name that is not UTF-8");
			return TS_AWSLOG_BAD;
		}
	return vpc_set(h, t, (size_t)k);
}

int ts_awslog_vpc_record(const struct ts_awslog_vpc *h, const char *p, size_t n,
			 struct ts_buf *out, char *err, size_t errlen)
{
	struct tok t[MAX_FIELDS];
	long k = split(p, n, 0, t, err, errlen);
	size_t at = out->len;
	int rc = 0;

	if (k < 0)
		return TS_AWSLOG_BAD;
	if ((size_t)k != h->n) {
		snprintf(err, errlen, "%ld field%s, the header has %zu", k, k == 1 ? "" : "s", h->n);
		return TS_AWSLOG_BAD;
	}
	rc = ts_buf_addch(out, '{');
	for (size_t i = 0; i < h->n && !rc; i++) {
		if ((i && ts_buf_addch(out, ',') < 0) ||
		    ts_json_escape(out, h->names[i], strlen(h->names[i])) < 0 ||
		    ts_buf_addch(out, ':') < 0)
			rc = -1;
		else if (h->numeric[i])
			rc = put_num(out, t[i].p, t[i].n, 1);
		else
			rc = put_str(out, t[i].p, t[i].n);
	}
	return finish(out, at, rc, err, errlen);
}

/* --- ELB access logs --------------------------------------------------- */

enum kind { STR, NUM, IPPORT, RAW };

struct elb_field {
	const char *name; /* IPPORT: the prefix of NAME_ip and NAME_port */
	enum kind kind;
};

struct elb_format {
	const char *what;
	const struct elb_field *f;
	size_t n, min; /* fields known; fields of the oldest format */
};

/* The Application Load Balancer access log entry, in order. */
static const struct elb_field alb_fields[] = {
	{"type", STR}, {"time", STR}, {"elb", STR}, {"client", IPPORT}, {"target", IPPORT},
	{"request_processing_time", NUM}, {"target_processing_time", NUM},
	{"response_processing_time", NUM}, {"elb_status_code", NUM},
	{"target_status_code", NUM}, {"received_bytes", NUM}, {"sent_bytes", NUM},
	{"request", STR}, {"user_agent", STR}, {"ssl_cipher", STR}, {"ssl_protocol", STR},
	{"target_group_arn", STR}, {"trace_id", STR},
	/* later additions, each at the end */
	{"domain_name", STR}, {"chosen_cert_arn", STR}, {"matched_rule_priority", NUM},
	{"request_creation_time", STR}, {"actions_executed", STR}, {"redirect_url", STR},
	{"error_reason", STR}, {"target_port_list", STR}, {"target_status_code_list", STR},
	{"classification", STR}, {"classification_reason", STR}, {"conn_trace_id", STR},
	{"transformed_host", STR}, {"transformed_uri", STR},
	{"request_transform_status", STR},
};

/* The Network Load Balancer (TLS listener) access log entry. */
static const struct elb_field nlb_fields[] = {
	{"type", STR}, {"version", STR}, {"time", STR}, {"elb", STR}, {"listener", STR},
	{"client", IPPORT}, {"destination", IPPORT}, {"connection_time", NUM},
	{"tls_handshake_time", NUM}, {"received_bytes", NUM}, {"sent_bytes", NUM},
	{"incoming_tls_alert", NUM}, {"chosen_cert_arn", STR}, {"chosen_cert_serial", STR},
	{"tls_cipher", STR}, {"tls_protocol_version", STR}, {"tls_named_group", STR},
	{"domain_name", STR},
	/* later additions */
	{"alpn_fe_protocol", STR}, {"alpn_be_protocol", STR},
	{"alpn_client_preference_list", RAW}, {"tls_connection_creation_time", STR},
};

/* The Classic Load Balancer access log entry. */
static const struct elb_field clb_fields[] = {
	{"time", STR}, {"elb", STR}, {"client", IPPORT}, {"backend", IPPORT},
	{"request_processing_time", NUM}, {"backend_processing_time", NUM},
	{"response_processing_time", NUM}, {"elb_status_code", NUM},
	{"backend_status_code", NUM}, {"received_bytes", NUM}, {"sent_bytes", NUM},
	{"request", STR},
	/* later additions */
	{"user_agent", STR}, {"ssl_cipher", STR}, {"ssl_protocol", STR},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
static const struct elb_format alb = {"an ALB", alb_fields, N_OF(alb_fields), 18};
static const struct elb_format nlb = {"an NLB", nlb_fields, N_OF(nlb_fields), 18};
static const struct elb_format clb = {"a Classic ELB", clb_fields, N_OF(clb_fields), 12};

/* Does the field start as an ISO 8601 time does (yyyy-mm-ddT)? */
static int looks_time(const struct tok *t)
{
	static const char shape[] = "dddd-dd-ddT";

	if (t->n < sizeof(shape) - 1)
		return 0;
	for (size_t i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? t->p[i] < '0' || t->p[i] > '9' : t->p[i] != shape[i])
			return 0;
	return 1;
}

/* NAME_ip and NAME_port from "ip:port" (the last ':'; an IPv6 address in
 * brackets loses them); "-" makes both null. */
static int put_ipport(struct ts_buf *out, const char *name, const struct tok *t)
{
	char key[64];
	const char *p = t->p, *colon = NULL;
	size_t n = t->n, ipn;

	for (size_t i = n; i-- > 0;)
		if (p[i] == ':') {
			colon = p + i;
			break;
		}
	snprintf(key, sizeof(key), "%s_ip", name);
	if (put_key(out, key) < 0)
		return -1;
	if (is_dash(p, n) || !colon) {
		if (put_str(out, p, n) < 0)
			return -1;
		snprintf(key, sizeof(key), "%s_port", name);
		return put_key(out, key) < 0 ? -1 : ts_buf_add(out, "null", 4);
	}
	ipn = (size_t)(colon - p);
	if (ipn >= 2 && p[0] == '[' && p[ipn - 1] == ']') {
		if (put_str(out, p + 1, ipn - 2) < 0)
			return -1;
	} else if (put_str(out, p, ipn) < 0) {
		return -1;
	}
	snprintf(key, sizeof(key), "%s_port", name);
	if (put_key(out, key) < 0)
		return -1;
	return put_num(out, colon + 1, n - ipn - 1, 1);
}

int ts_awslog_elb_record(const char *p, size_t n, struct ts_buf *out, char *err,
			 size_t errlen)
{
	struct tok t[MAX_FIELDS];
	long k = split(p, n, 1, t, err, errlen);
	const struct elb_format *fmt;
	size_t at = out->len, i;
	int rc = 0;

	if (k < 0)
		return TS_AWSLOG_BAD;
	if (k >= 1 && t[0].n == 3 && !memcmp(t[0].p, "tls", 3))
		fmt = &nlb;
	else if (k >= 1 && looks_time(&t[0]))
		fmt = &clb;
	else if (k >= 2 && looks_time(&t[1]))
		fmt = &alb;
	else {
		snprintf(err, errlen, "not an ELB access log entry: no time where ALB, NLB "
			 "or Classic ELB entries have it");
		return TS_AWSLOG_BAD;
	}
	if ((size_t)k < fmt->min) {
		snprintf(err, errlen, "%ld field%s, %s entry has at least %zu", k,
			 k == 1 ? "" : "s", fmt->what, fmt->min);
		return TS_AWSLOG_BAD;
	}
	rc = ts_buf_addch(out, '{');
	for (i = 0; i < (size_t)k && i < fmt->n && !rc; i++) {
		const struct elb_field *f = &fmt->f[i];
		if (f->kind == IPPORT) {
			rc = put_ipport(out, f->name, &t[i]);
			continue;
		}
		if (put_key(out, f->name) < 0)
			rc = -1;
		else if (f->kind == NUM)
			rc = put_num(out, t[i].p, t[i].n, 0);
		else if (f->kind == RAW)
			rc = put_str(out, t[i].raw, t[i].rawn);
		else
			rc = put_str(out, t[i].p, t[i].n);
	}
	if (!rc && (size_t)k > fmt->n) {
		rc = put_key(out, "extra_fields") < 0 || ts_buf_addch(out, '[') < 0 ? -1 : 0;
		for (i = fmt->n; i < (size_t)k && !rc; i++)
			if ((i > fmt->n && ts_buf_addch(out, ',') < 0) ||
			    ts_json_escape(out, t[i].p, t[i].n) < 0)
				rc = -1;
		if (!rc)
			rc = ts_buf_addch(out, ']');
	}
	return finish(out, at, rc, err, errlen);
}
