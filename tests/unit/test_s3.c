/* test_s3.c — lib/s3.h and lib/http.h without a network: s3:// URLs, the
 * ListObjectsV2 answer, percent-encoding, and the backoff schedule. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "http.h"
#include "s3.h"
#include "util.h"

static void test_parse_url(void)
{
	char *b, *p, err[128];

	CHECK(ts_s3_parse_url("s3://my-bucket/logs/2024/", &b, &p, err, sizeof(err)) == 0);
	CHECK_STR(b, "my-bucket");
	CHECK_STR(p, "logs/2024/");
	free(b);
	free(p);
	CHECK(ts_s3_parse_url("s3://my.bucket", &b, &p, err, sizeof(err)) == 0);
	CHECK_STR(b, "my.bucket");
	CHECK_STR(p, "");
	free(b);
	free(p);
	CHECK(ts_s3_parse_url("s3://ab/x", &b, &p, err, sizeof(err)) < 0);
	CHECK(b == NULL && p == NULL);
	CHECK(ts_s3_parse_url("s3://bad bucket/x", &b, &p, err, sizeof(err)) < 0);
	CHECK(ts_s3_parse_url("http://bucket/x", &b, &p, err, sizeof(err)) < 0);
	CHECK(ts_s3_parse_url("s3:///x", &b, &p, err, sizeof(err)) < 0);
}

static void test_list_page(void)
{
	struct ts_s3_listing l = {0};
	struct ts_buf tok;
	ts_buf_init(&tok, 0);

	/* Two keys, URL-encoded as encoding-type=url asks, entities too. */
	const char *page1 =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult>"
		"<Name>b</Name><Prefix>p%2F</Prefix><EncodingType>url</EncodingType>"
		"<KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>"
		"<NextContinuationToken>t&amp;1==</NextContinuationToken>"
		"<Contents><Key>p/a%20b.gz</Key><Size>12</Size></Contents>"
		"<Contents><Key>p/%C3%A9t%C3%A9+x</Key><LastModified>x</LastModified>"
		"<Size>3</Size></Contents></ListBucketResult>";
	CHECK(ts_s3_list_page(page1, strlen(page1), &l, &tok) == 1);
	CHECK_STR(tok.data, "t&1==");
	CHECK(l.n == 2);
	if (l.n == 2) {
		CHECK_STR(l.v[0].key, "p/a b.gz");
		CHECK(l.v[0].size == 12);
		CHECK_STR(l.v[1].key, "p/\xc3\xa9t\xc3\xa9 x");
		CHECK(l.v[1].size == 3);
	}
	/* A last page, not encoded: '%' and '+' are the key's own. */
	const char *page2 = "<ListBucketResult><IsTruncated>false</IsTruncated>"
			    "<Contents><Key>p/100%+&lt;1&gt;</Key><Size>0</Size></Contents>"
			    "</ListBucketResult>";
	CHECK(ts_s3_list_page(page2, strlen(page2), &l, &tok) == 0);
	CHECK(l.n == 3);
	if (l.n == 3)
		CHECK_STR(l.v[2].key, "p/100%+<1>");
	/* Truncated without a token: refused, not an endless loop. */
	const char *bad = "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>";
	ts_buf_reset(&tok);
	CHECK(ts_s3_list_page(bad, strlen(bad), &l, &tok) < 0);
	/* A key with an encoded NUL is left out. */
	const char *nul = "<ListBucketResult><EncodingType>url</EncodingType><Contents>"
			  "<Key>a%00b</Key><Size>1</Size></Contents></ListBucketResult>";
	size_t before = l.n;
	CHECK(ts_s3_list_page(nul, strlen(nul), &l, &tok) == 0);
	CHECK(l.n == before);
	ts_s3_listing_release(&l);
	ts_buf_release(&tok);
}

static void test_urlencode(void)
{
	struct ts_buf b;
	ts_buf_init(&b, 0);
	CHECK(ts_pct_encode(&b, "a b/c~d_e-f.g+h=\xc3\xa9", 18, 1) == 0);
	CHECK_STR(b.data, "a%20b/c~d_e-f.g%2Bh%3D%C3%A9");
	ts_buf_reset(&b);
	CHECK(ts_pct_encode(&b, "x/y", 3, 0) == 0);
	CHECK_STR(b.data, "x%2Fy");
	ts_buf_release(&b);
}

static void test_backoff(void)
{
	struct ts_backoff b;

	/* 1 s, 2 s, 4 s ... each within ±15%, capped, until the budget. */
	ts_backoff_init(&b, 1e6);
	double want = 1;
	for (int i = 0; i < 10; i++) {
		double d = ts_backoff_next(&b);
		CHECK(d >= want * 0.85 - 1e-9 && d <= want * 1.15 + 1e-9);
		want = want * 2 > TS_BACKOFF_CAP ? TS_BACKOFF_CAP : want * 2;
	}
	CHECK(b.attempts == 10);
	/* A budget smaller than the first delay: give up at once. */
	ts_backoff_init(&b, 0.5);
	CHECK(ts_backoff_next(&b) < 0);
	ts_backoff_init(&b, 0);
	CHECK(ts_backoff_next(&b) < 0);
}

static void test_header(void)
{
	struct ts_http_resp r;
	char v[64];

	ts_http_resp_init(&r);
	const char *h = "Content-Type: text/xml\r\nETag:   \"abc\"  \r\nx-amz-id: 1\r\n\r\n";
	ts_buf_add(&r.headers, h, strlen(h));
	CHECK(ts_http_header(&r, "etag", v, sizeof(v)) == 1);
	CHECK_STR(v, "\"abc\"");
	CHECK(ts_http_header(&r, "X-AMZ-ID", v, sizeof(v)) == 1);
	CHECK_STR(v, "1");
	CHECK(ts_http_header(&r, "Content", v, sizeof(v)) == 0);
	CHECK(ts_http_header(&r, "missing", v, sizeof(v)) == 0);
	CHECK_STR(v, "");
	ts_http_resp_release(&r);
}

int main(void)
{
	test_parse_url();
	test_list_page();
	test_urlencode();
	test_backoff();
	test_header();
	return check_done();
}
