/* test_awslog.c — lib/awslog.h: lines from a stream cut anywhere (CRLF,
 * BOM, no final line break, lines over the limit), VPC Flow Logs records
 * (default format, headers, "-", numbers, field counts) and ELB access log
 * entries (ALB, NLB, Classic: quoting, ip:port, older and newer formats). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awslog.h"
#include "buf.h"
#include "check.h"

/* --- lines ------------------------------------------------------------- */

static int collect(void *ud, const struct ts_awslog_line *l)
{
	struct ts_buf *b = ud;
	ts_buf_addf(b, "L%llu%s:[", (unsigned long long)l->line, l->truncated ? "T" : "");
	ts_buf_add(b, l->p, l->n);
	ts_buf_addstr(b, "]\n");
	return 0;
}

static char *lines(const char *s, size_t n, size_t step, size_t max)
{
	struct ts_awslog_lines l;
	struct ts_buf b;

	ts_buf_init(&b, 0);
	ts_awslog_lines_init(&l, max);
	if (!step)
		step = n ? n : 1;
	for (size_t i = 0; i < n; i += step)
		ts_awslog_lines_feed(&l, s + i, i + step > n ? n - i : step, collect, &b);
	ts_awslog_lines_feed(&l, NULL, 0, collect, &b);
	/* a second input: numbered from 1 again */
	ts_awslog_lines_feed(&l, "z", 1, collect, &b);
	ts_awslog_lines_feed(&l, NULL, 0, collect, &b);
	ts_awslog_lines_release(&l);
	return ts_buf_detach(&b, NULL);
}

static void expect_lines(const char *in, size_t max, const char *want)
{
	size_t n = strlen(in);
	char w[4096];

	snprintf(w, sizeof(w), "%sL1:[z]\n", want);
	for (size_t step = 0; step <= 7; step++) {
		char *got = lines(in, n, step, max);
		if (!CHECK_STR(got, w))
			fprintf(stderr, "  input %s, chunks of %zu\n", in, step);
		free(got);
	}
}

static void test_lines(void)
{
	expect_lines("", 0, "");
	expect_lines("a\nb\n", 0, "L1:[a]\nL2:[b]\n");
	expect_lines("a\r\nb", 0, "L1:[a]\nL2:[b]\n");          /* CRLF, no final break */
	expect_lines("a\n\n  \nb\n", 0, "L1:[a]\nL2:[]\nL3:[  ]\nL4:[b]\n");
	expect_lines("a\rb\n", 0, "L1:[a\rb]\n");               /* a lone CR is data */
	expect_lines("\xef\xbb\xbf" "a\n", 0, "L1:[a]\n");       /* BOM */
	expect_lines("\xef\xbb" "a\n", 0, "L1:[\xef\xbb" "a]\n"); /* half a BOM is data */
	expect_lines("\xef", 0, "L1:[\xef]\n");
	expect_lines("x\n\xef\xbb\xbf\n", 0, "L1:[x]\nL2:[\xef\xbb\xbf]\n"); /* only at the start */
	expect_lines("0123456789\nab\n", 4, "L1T:[0123]\nL2:[ab]\n"); /* over the limit */
	expect_lines("abcd\nabcde", 4, "L1:[abcd]\nL2T:[abcd]\n");
}

/* --- VPC Flow Logs ----------------------------------------------------- */

/* The record for line under h, or "BAD:<why>". */
static char *vpc(struct ts_awslog_vpc *h, const char *line)
{
	struct ts_buf b;
	char err[256];
	int rc;

	ts_buf_init(&b, 0);
	ts_buf_addstr(&b, "prefix "); /* what was there stays */
	rc = ts_awslog_vpc_record(h, line, strlen(line), &b, err, sizeof(err));
	if (rc == TS_AWSLOG_BAD) {
		CHECK(b.len == 7);
		ts_buf_reset(&b);
		ts_buf_addf(&b, "BAD:%s", err);
	} else if (rc < 0) {
		ts_buf_reset(&b);
		ts_buf_addstr(&b, "ERROR");
	} else {
		ts_buf_consume(&b, 7);
	}
	return ts_buf_detach(&b, NULL);
}

#define CHECK_VPC(h, line, want)                                                \
	do {                                                                    \
		char *got_ = vpc(h, line);                                      \
		CHECK_STR(got_, want);                                          \
		free(got_);                                                     \
	} while (0)

static void set_header(struct ts_awslog_vpc *h, const char *line)
{
	char err[256];
	CHECK(ts_awslog_vpc_is_header(line, strlen(line)));
	CHECK(ts_awslog_vpc_set_header(h, line, strlen(line), err, sizeof(err)) == 0);
}

static void test_vpc(void)
{
	struct ts_awslog_vpc h;
	char err[256];

	if (!CHECK(ts_awslog_vpc_init(&h) == 0))
		return;
	CHECK(h.n == 14);
	CHECK_VPC(&h, "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
		  "{\"version\":2,\"account-id\":\"123456789010\",\"interface-id\":\"eni-1235b8ca123456789\","
		  "\"srcaddr\":\"172.31.16.139\",\"dstaddr\":\"172.31.16.21\",\"srcport\":20641,\"dstport\":22,"
		  "\"protocol\":6,\"packets\":20,\"bytes\":4249,\"start\":1418530010,\"end\":1418530070,"
		  "\"action\":\"ACCEPT\",\"log-status\":\"OK\"}");
	/* NODATA: nulls; an account id keeps its leading zero; runs of spaces */
	CHECK_VPC(&h, "  2 012345678901 eni-1 - - - - - - - 1431280876 1431280934 - NODATA ",
		  "{\"version\":2,\"account-id\":\"012345678901\",\"interface-id\":\"eni-1\","
		  "\"srcaddr\":null,\"dstaddr\":null,\"srcport\":null,\"dstport\":null,\"protocol\":null,"
		  "\"packets\":null,\"bytes\":null,\"start\":1431280876,\"end\":1431280934,"
		  "\"action\":null,\"log-status\":\"NODATA\"}");
	CHECK_VPC(&h, "2 1 eni-1", "BAD:3 fields, the header has 14");
	CHECK_VPC(&h, "", "BAD:0 fields, the header has 14");

	/* headers: "version" first, or every word a field name */
	CHECK(!ts_awslog_vpc_is_header("", 0));
	CHECK(!ts_awslog_vpc_is_header("2 123 eni-1", 11));
	CHECK(!ts_awslog_vpc_is_header("srcaddr dstaddr nope", 20));
	CHECK(ts_awslog_vpc_is_header("version newfield", 16));
	CHECK(ts_awslog_vpc_known("ecs-task-id", 11));
	CHECK(!ts_awslog_vpc_known("ecs-task", 8));
	set_header(&h, "srcport dstaddr tcp-flags traffic-path region");
	CHECK_VPC(&h, "007 10.0.0.1 -1 x1 us-east-1",
		  "{\"srcport\":\"007\",\"dstaddr\":\"10.0.0.1\",\"tcp-flags\":-1,\"traffic-path\":\"x1\","
		  "\"region\":\"us-east-1\"}");
	/* an unknown field after version: a string */
	set_header(&h, "version future-field bytes");
	CHECK_VPC(&h, "9 12 34", "{\"version\":9,\"future-field\":\"12\",\"bytes\":34}");
	CHECK_VPC(&h, "9 \xff 34", "BAD:not UTF-8");
	CHECK(ts_awslog_vpc_set_header(&h, "version \xff", 9, err, sizeof(err)) == TS_AWSLOG_BAD);
	CHECK(h.n == 3); /* unchanged */
	ts_awslog_vpc_release(&h);
}

/* --- ELB --------------------------------------------------------------- */

static char *elb(const char *line)
{
	struct ts_buf b;
	char err[256];
	int rc;

	ts_buf_init(&b, 0);
	rc = ts_awslog_elb_record(line, strlen(line), &b, err, sizeof(err));
	if (rc == TS_AWSLOG_BAD) {
		CHECK(b.len == 0);
		ts_buf_addf(&b, "BAD:%s", err);
	} else if (rc < 0) {
		ts_buf_addstr(&b, "ERROR");
	}
	return ts_buf_detach(&b, NULL);
}

#define CHECK_ELB(line, want)                                                   \
	do {                                                                    \
		char *got_ = elb(line);                                         \
		CHECK_STR(got_, want);                                          \
		free(got_);                                                     \
	} while (0)

static void test_elb(void)
{
	/* ALB, the oldest format (18 fields): -1 times, "-" target */
	CHECK_ELB("http 2018-07-02T22:23:00.186641Z app/lb/50dc 192.168.131.39:2817 - -1 -1 -1 "
		  "504 - 34 366 \"GET http://x:80/ HTTP/1.1\" \"curl/7.46.0\" - - arn:tg \"Root=1-5\"",
		  "{\"type\":\"http\",\"time\":\"2018-07-02T22:23:00.186641Z\",\"elb\":\"app/lb/50dc\","
		  "\"client_ip\":\"192.168.131.39\",\"client_port\":2817,\"target_ip\":null,\"target_port\":null,"
		  "\"request_processing_time\":-1,\"target_processing_time\":-1,\"response_processing_time\":-1,"
		  "\"elb_status_code\":504,\"target_status_code\":null,\"received_bytes\":34,\"sent_bytes\":366,"
		  "\"request\":\"GET http://x:80/ HTTP/1.1\",\"user_agent\":\"curl/7.46.0\",\"ssl_cipher\":null,"
		  "\"ssl_protocol\":null,\"target_group_arn\":\"arn:tg\",\"trace_id\":\"Root=1-5\"}");
	/* one field short of the oldest format */
	CHECK_ELB("http 2018-07-02T22:23:00Z app/lb 1.2.3.4:1 - 0 0 0 200 200 1 1 \"GET / HTTP/1.1\" \"ua\" - - arn",
		  "BAD:17 fields, an ALB entry has at least 18");
	/* quoting: spaces inside, "-" quoted is null, \x22 stays, a quote not
	 * followed by a space is data, IPv6 in brackets */
	CHECK_ELB("h2 2024-01-01T00:00:00Z app/lb [2001:db8::1]:443 10.0.0.1:80 0.001 0.002 0.000 "
		  "200 200 5 6 \"GET /a?b=\\x22c d HTTP/2.0\" \"Mozilla/5.0 (X; \"Y\") z\" - - arn \"-\"",
		  "{\"type\":\"h2\",\"time\":\"2024-01-01T00:00:00Z\",\"elb\":\"app/lb\","
		  "\"client_ip\":\"2001:db8::1\",\"client_port\":443,\"target_ip\":\"10.0.0.1\",\"target_port\":80,"
		  "\"request_processing_time\":0.001,\"target_processing_time\":0.002,"
		  "\"response_processing_time\":0.000,\"elb_status_code\":200,\"target_status_code\":200,"
		  "\"received_bytes\":5,\"sent_bytes\":6,\"request\":\"GET /a?b=\\\\x22c d HTTP/2.0\","
		  "\"user_agent\":\"Mozilla/5.0 (X; \\\"Y\\\") z\",\"ssl_cipher\":null,\"ssl_protocol\":null,"
		  "\"target_group_arn\":\"arn\",\"trace_id\":null}");
	CHECK_ELB("http 2018-07-02T22:23:00Z app/lb 1.2.3.4:1 - 0 0 0 200 200 1 1 \"GET / HTTP/1.1",
		  "BAD:unbalanced quotes: field 13 is not closed");
	CHECK_ELB("http 2018-07-02T22:23:00Z app/lb 1.2.3.4:1 - 0 0 0 200 200 1 1 \"GET\"x",
		  "BAD:unbalanced quotes: field 13 is not closed");
	/* the newest format, then two fields AWS may add */
	CHECK_ELB("https 2025-01-01T00:00:00Z app/lb 1.2.3.4:1 5.6.7.8:80 0 0 0 200 200 1 1 \"GET / HTTP/1.1\" \"ua\" "
		  "c p arn \"t\" \"d\" \"cert\" 7 2025-01-01T00:00:00Z \"forward\" \"-\" \"-\" \"5.6.7.8:80\" \"200\" "
		  "\"-\" \"-\" TID_1 \"h\" \"/u\" \"OriginalRetrieved\" new1 \"new 2\"",
		  "{\"type\":\"https\",\"time\":\"2025-01-01T00:00:00Z\",\"elb\":\"app/lb\",\"client_ip\":\"1.2.3.4\","
		  "\"client_port\":1,\"target_ip\":\"5.6.7.8\",\"target_port\":80,\"request_processing_time\":0,"
		  "\"target_processing_time\":0,\"response_processing_time\":0,\"elb_status_code\":200,"
		  "\"target_status_code\":200,\"received_bytes\":1,\"sent_bytes\":1,\"request\":\"GET / HTTP/1.1\","
		  "\"user_agent\":\"ua\",\"ssl_cipher\":\"c\",\"ssl_protocol\":\"p\",\"target_group_arn\":\"arn\","
		  "\"trace_id\":\"t\",\"domain_name\":\"d\",\"chosen_cert_arn\":\"cert\",\"matched_rule_priority\":7,"
		  "\"request_creation_time\":\"2025-01-01T00:00:00Z\",\"actions_executed\":\"forward\","
		  "\"redirect_url\":null,\"error_reason\":null,\"target_port_list\":\"5.6.7.8:80\","
		  "\"target_status_code_list\":\"200\",\"classification\":null,\"classification_reason\":null,"
		  "\"conn_trace_id\":\"TID_1\",\"transformed_host\":\"h\",\"transformed_uri\":\"/u\","
		  "\"request_transform_status\":\"OriginalRetrieved\",\"extra_fields\":[\"new1\",\"new 2\"]}");
	/* NLB: the ALPN list keeps its quotes */
	CHECK_ELB("tls 2.0 2020-04-01T08:51:42 net/lb/c6e7 g3d4 72.21.218.154:51341 172.100.100.185:443 5 2 98 246 "
		  "- arn:cert - ECDHE tlsv12 - example.com h2 h2 \"h2\",\"http/1.1\"",
		  "{\"type\":\"tls\",\"version\":\"2.0\",\"time\":\"2020-04-01T08:51:42\",\"elb\":\"net/lb/c6e7\","
		  "\"listener\":\"g3d4\",\"client_ip\":\"72.21.218.154\",\"client_port\":51341,"
		  "\"destination_ip\":\"172.100.100.185\",\"destination_port\":443,\"connection_time\":5,"
		  "\"tls_handshake_time\":2,\"received_bytes\":98,\"sent_bytes\":246,\"incoming_tls_alert\":null,"
		  "\"chosen_cert_arn\":\"arn:cert\",\"chosen_cert_serial\":null,\"tls_cipher\":\"ECDHE\","
		  "\"tls_protocol_version\":\"tlsv12\",\"tls_named_group\":null,\"domain_name\":\"example.com\","
		  "\"alpn_fe_protocol\":\"h2\",\"alpn_be_protocol\":\"h2\","
		  "\"alpn_client_preference_list\":\"\\\"h2\\\",\\\"http/1.1\\\"\"}");
	/* Classic, its oldest format (12 fields); a TCP listener's request */
	CHECK_ELB("2015-05-13T23:39:43.945958Z my-lb 192.168.131.39:2817 10.0.0.1:80 0.001069 0.000028 0.000041 - - 82 305 \"- - - \"",
		  "{\"time\":\"2015-05-13T23:39:43.945958Z\",\"elb\":\"my-lb\",\"client_ip\":\"192.168.131.39\","
		  "\"client_port\":2817,\"backend_ip\":\"10.0.0.1\",\"backend_port\":80,"
		  "\"request_processing_time\":0.001069,\"backend_processing_time\":0.000028,"
		  "\"response_processing_time\":0.000041,\"elb_status_code\":null,\"backend_status_code\":null,"
		  "\"received_bytes\":82,\"sent_bytes\":305,\"request\":\"- - - \"}");
	CHECK_ELB("2015-05-13T23:39:43Z my-lb 1.2.3.4:5 - -1 -1 -1 503 0 0 0",
		  "BAD:11 fields, a Classic ELB entry has at least 12");
	/* not ELB at all: a flow log line, an empty one */
	CHECK_ELB("2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - NODATA",
		  "BAD:not an ELB access log entry: no time where ALB, NLB or Classic ELB entries have it");
	CHECK_ELB("", "BAD:not an ELB access log entry: no time where ALB, NLB or Classic ELB entries have it");
	/* a port that is not a number stays a string; no port at all is null */
	CHECK_ELB("2015-05-13T23:39:43Z my-lb 1.2.3.4:x host 1 1 1 200 200 0 0 \"r\"",
		  "{\"time\":\"2015-05-13T23:39:43Z\",\"elb\":\"my-lb\",\"client_ip\":\"1.2.3.4\",\"client_port\":\"x\","
		  "\"backend_ip\":\"host\",\"backend_port\":null,\"request_processing_time\":1,"
		  "\"backend_processing_time\":1,\"response_processing_time\":1,\"elb_status_code\":200,"
		  "\"backend_status_code\":200,\"received_bytes\":0,\"sent_bytes\":0,\"request\":\"r\"}");
	CHECK_ELB("2015-05-13T23:39:43Z my-lb 1.2.3.4:5 - 1 1 1 200 200 0 0 \"\xc3\x28\"", "BAD:not UTF-8");

	/* at the buffer's limit: -1, nothing left behind */
	struct ts_buf b;
	char err[64];
	ts_buf_init(&b, 16);
	CHECK(ts_awslog_elb_record("2015-05-13T23:39:43Z my-lb 1.2.3.4:5 - 1 1 1 200 200 0 0 \"r\"", 60,
				   &b, err, sizeof(err)) == -1);
	CHECK(errno == EFBIG && b.len == 0);
	ts_buf_release(&b);
}

int main(void)
{
	test_lines();
	test_vpc();
	test_elb();
	return check_done();
}
