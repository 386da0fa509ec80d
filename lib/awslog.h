/*
 * awslog.h — AWS text logs read as records: VPC Flow Logs and Elastic Load
 * Balancing access logs (Application, Network and Classic Load Balancers).
 *
 * Pure functions over bytes: no I/O, no global state.  Three parts:
 *
 * Lines.  ts_awslog_lines_feed() cuts a stream handed over in chunks of any
 * size into lines, however the chunks fall: a line ends at LF, a CR before
 * the LF is dropped, a UTF-8 byte order mark at the very start is skipped,
 * a last line without a line break is a line.  Every line is handed over,
 * empty ones too, with its number (1-based).  A line longer than max is
 * handed over once, truncated to its first TS_AWSLOG_RAW_PREFIX bytes with
 * truncated set; the rest of it is skipped without being kept.
 *
 * VPC Flow Logs.  A record is one line of space-separated fields (a run of
 * spaces is one separator: no field is ever empty, "-" stands for none).
 * The field names come from a header line (ts_awslog_vpc_is_header():
 * one whose first word is "version", or whose every word is a flow log
 * field name) or are the default version 2 format.  Keys are the names as
 * written ("account-id"); "-" is null; the fields AWS types as integers
 * (version, srcport, dstport, protocol, packets, bytes, start, end,
 * tcp-flags, traffic-path, encryption-status) are JSON numbers when they
 * are integers as JSON writes them, else strings as written; every other
 * field is a string (an account id keeps its leading zeros).
 *
 * ELB access logs.  ts_awslog_elb_record() tells the three formats apart
 * by their first fields: "tls" is a Network Load Balancer entry; an
 * ISO 8601 time first is a Classic Load Balancer entry; a time second is
 * an Application Load Balancer entry (its type first).  Fields are
 * separated by spaces; a field that starts with '"' runs to the next '"'
 * followed by a space or the end of the line, and its value is what lies
 * between the quotes, byte for byte (ALB writes a '"' inside as \x22: it
 * stays so).  Keys are the field names of the AWS documentation; "ip:port"
 * fields become NAME_ip and NAME_port (split at the last ':'; "-" makes
 * both null); "-" and "\"-\"" are null; times, status codes, byte counts,
 * matched_rule_priority are numbers when they are JSON numbers (-1 stays
 * -1), else strings.  A line may end after the fields of the oldest format
 * (fields it does not have are left out of the record); fields after the
 * last known one (AWS adds new ones at the end) are kept as an array of
 * strings under "extra_fields".
 *
 * Results: 0 and a JSON object appended to out; TS_AWSLOG_BAD, nothing
 * appended and why in err (a malformed line: wrong field count, unbalanced
 * quotes, not UTF-8, not a known format); -1 with errno when out reached
 * its limit or memory ran out (out is left as it was).
 */
#ifndef TS_AWSLOG_H
#define TS_AWSLOG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define TS_AWSLOG_BAD 1
#define TS_AWSLOG_RAW_PREFIX 4096

/* --- lines ------------------------------------------------------------- */

struct ts_awslog_line {
	const char *p;      /* the line without its LF or CRLF; valid during */
	size_t n;           /* the callback */
	uint64_t line;      /* its number, 1-based */
	int truncated;      /* longer than max: p holds its first bytes */
};

/* Return 0 to go on, -1 to stop (ts_awslog_lines_feed then returns -1). */
typedef int (*ts_awslog_line_fn)(void *ud, const struct ts_awslog_line *l);

struct ts_awslog_lines {
	size_t max;
	struct ts_buf buf;  /* the line being put together */
	uint64_t line;
	size_t bom;         /* bytes of a byte order mark seen at the start */
	int started;        /* past the byte order mark check */
	int oversize;       /* skipping the rest of a line over max */
};

/* max 0: 64 MiB. */
void ts_awslog_lines_init(struct ts_awslog_lines *l, size_t max);
void ts_awslog_lines_release(struct ts_awslog_lines *l);
/* Feed n bytes; n == 0 is the end of the input (a last line without a line
 * break is handed over, and the state is ready for a new input, line
 * numbers from 1).  0, or -1 when fn stopped it or memory ran out. */
int ts_awslog_lines_feed(struct ts_awslog_lines *l, const char *p, size_t n,
			 ts_awslog_line_fn fn, void *ud);

/* Is the line blank (nothing but spaces and tabs)? */
int ts_awslog_blank(const char *p, size_t n);

/* --- VPC Flow Logs ----------------------------------------------------- */

struct ts_awslog_vpc {
	char **names;          /* the field names, in order (owned) */
	unsigned char *numeric; /* names[i] is an integer field */
	size_t n;
};

/* The default format (version 2).  0, or -1 (out of memory). */
int ts_awslog_vpc_init(struct ts_awslog_vpc *h);
void ts_awslog_vpc_release(struct ts_awslog_vpc *h);
/* Is the line a header line? */
int ts_awslog_vpc_is_header(const char *p, size_t n);
/* Take the field names from a header line.  0, TS_AWSLOG_BAD (a name that
 * is not UTF-8 or a line without one, err says why; the names are
 * unchanged), or -1 (out of memory). */
int ts_awslog_vpc_set_header(struct ts_awslog_vpc *h, const char *p, size_t n,
			     char *err, size_t errlen);
/* Is name a field a flow log record can have (version 2 to 10)? */
int ts_awslog_vpc_known(const char *name, size_t n);
/* One record line as a JSON object on out. */
int ts_awslog_vpc_record(const struct ts_awslog_vpc *h, const char *p, size_t n,
			 struct ts_buf *out, char *err, size_t errlen);

/* --- ELB access logs --------------------------------------------------- */

/* One access log line (ALB, NLB or CLB) as a JSON object on out. */
int ts_awslog_elb_record(const char *p, size_t n, struct ts_buf *out, char *err,
			 size_t errlen);

#endif
