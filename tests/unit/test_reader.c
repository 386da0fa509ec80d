/*
 * test_reader.c — lib/reader.h.
 *
 * Every case is read through sources that hand over 1, 2, 3, 7, 64 bytes at
 * a time and everything at once: the items must not depend on how the input
 * arrives.  Items are written as one line each:
 *
 *	V3:17~ {...}     VALUE at line 3, offset 17, with whitespace inside
 *	E2:8/3 raw       ERROR at line 2, offset 8, damage on line 3
 *	T L X I          TEXT, TOO_LARGE, IO_ERROR (then errno)
 *	B2:13            BREAK at line 2, stream offset 13
 *
 * bytes outside printable ASCII as \xNN.  Each case is also read with the
 * CloudWatch Logs scanner installed (cwl.h): it must delimit values exactly
 * as ts_json_scan() does.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "cwl.h"
#include "reader.h"

struct src {
	const char *p;
	size_t n;
	size_t chunk;   /* most bytes handed over per call */
	int fail_errno; /* fail with this after the data (0: clean end) */
	int calls_after_end;
	int breaks;     /* a \x01 byte is a TS_SOURCE_BREAK, not data */
	int calls;
	int break_call; /* the number of the call that last returned a break */
};

static long src_read(void *ctx, char *dst, size_t n)
{
	struct src *s = ctx;

	s->calls++;
	if (s->breaks && s->n > 0 && s->p[0] == '\x01') {
		s->p++;
		s->n--;
		s->break_call = s->calls;
		return TS_SOURCE_BREAK;
	}
	if (s->n == 0) {
		s->calls_after_end++;
		if (s->fail_errno) {
			errno = s->fail_errno;
			return -1;
		}
		return 0;
	}
	if (n > s->chunk)
		n = s->chunk;
	if (n > s->n)
		n = s->n;
	if (s->breaks) {
		const char *b = memchr(s->p, '\x01', n);
		if (b)
			n = (size_t)(b - s->p);
	}
	memcpy(dst, s->p, n);
	s->p += n;
	s->n -= n;
	return (long)n;
}

static void put_bytes(struct ts_buf *b, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			ts_buf_addch(b, (char)c);
		else
			ts_buf_addf(b, "\\x%02x", c);
	}
}

/* The items read from in, as text (caller frees). */
static char *transcript(const char *in, size_t n, size_t chunk, size_t max_record,
			int max_depth, int text, int fail_errno, int cwl)
{
	struct ts_cwl_index x;
	struct src s = {.p = in, .n = n, .chunk = chunk, .fail_errno = fail_errno, .breaks = 1};
	struct ts_reader r;
	struct ts_item it;
	struct ts_buf out;
	enum ts_item_kind k;
	int guard = 0;

	ts_buf_init(&out, 0);
	ts_reader_init(&r, src_read, &s, max_record, max_depth);
	r.text = text;
	ts_cwl_index_init(&x);
	if (cwl) {
		r.scan = ts_cwl_scan;
		r.scan_ctx = &x;
	}
	while ((k = ts_reader_next(&r, &it)) != TS_ITEM_EOF && guard++ < 10000) {
		static const char kinds[] = "?VTELIB";
		ts_buf_addf(&out, "%c", kinds[k]);
		if (k == TS_ITEM_BREAK) {
			ts_buf_addf(&out, "%llu:%llu%s\n", (unsigned long long)it.line,
				    (unsigned long long)it.offset,
				    it.v.n ? " (a break with bytes)" : "");
			continue;
		}
		if (k == TS_ITEM_IO_ERROR) {
			ts_buf_addf(&out, " %s\n", strerror(it.sys_errno));
			continue;
		}
		ts_buf_addf(&out, "%llu:%llu", (unsigned long long)it.line,
			    (unsigned long long)it.offset);
		if (k == TS_ITEM_ERROR)
			ts_buf_addf(&out, "/%llu", (unsigned long long)it.err_line);
		if (k == TS_ITEM_VALUE && it.has_ws)
			ts_buf_addch(&out, '~');
		ts_buf_addch(&out, ' ');
		put_bytes(&out, it.v.p, it.v.n);
		ts_buf_addch(&out, '\n');
		if ((k == TS_ITEM_ERROR || k == TS_ITEM_TOO_LARGE) && !it.err)
			ts_buf_addstr(&out, "(no message)\n");
	}
	/* EOF is sticky */
	if (ts_reader_next(&r, &it) != TS_ITEM_EOF)
		ts_buf_addstr(&out, "(EOF not repeated)\n");
	ts_reader_release(&r);
	ts_cwl_index_release(&x);
	return ts_buf_detach(&out, NULL);
}

static const size_t chunks[] = {(size_t)1 << 30, 1, 2, 3, 7, 64};

/* Read in every way; each must give want. */
static void expect_(const char *in, size_t n, size_t max_record, int max_depth,
		    int text, int fail_errno, const char *want, int line)
{
	for (size_t i = 0; i < 2 * sizeof(chunks) / sizeof(chunks[0]); i++) {
		size_t chunk = chunks[i / 2];
		char *got = transcript(in, n, chunk, max_record, max_depth, text,
				       fail_errno, i & 1);
		char what[80];
		snprintf(what, sizeof(what), "items, reading %zu bytes at a time%s",
			 chunk, i & 1 ? ", cwl scanner" : "");
		if (!check_mem_(got, strlen(got), want, strlen(want), __FILE__, line,
				what)) {
			free(got);
			break; /* one report per case is enough */
		}
		free(got);
	}
}
/* In every case a \x01 byte stands for a TS_SOURCE_BREAK from the source. */
#define EXPECT(in, want) expect_((in), sizeof(in) - 1, 0, 0, 0, 0, (want), __LINE__)
#define EXPECT_TEXT(in, want) \
	expect_((in), sizeof(in) - 1, 0, 0, 1, 0, (want), __LINE__)
#define EXPECT_TEXT_MAX(in, max, want) \
	expect_((in), sizeof(in) - 1, (max), 0, 1, 0, (want), __LINE__)
#define EXPECT_MAX(in, max, want) \
	expect_((in), sizeof(in) - 1, (max), 0, 0, 0, (want), __LINE__)
#define EXPECT_DEPTH(in, max, depth, want) \
	expect_((in), sizeof(in) - 1, (max), (depth), 0, 0, (want), __LINE__)

static void test_ndjson(void)
{
	EXPECT("", "");
	EXPECT(" \n\t\r\n", "");
	EXPECT("{\"a\":1}\n{\"b\":2}\n[3]\n\"s\"\n4\n",
	       "V1:0 {\"a\":1}\n"
	       "V2:8 {\"b\":2}\n"
	       "V3:16 [3]\n"
	       "V4:20 \"s\"\n"
	       "V5:24 4\n");
	/* no newline at the end; a number at the very end */
	EXPECT("{\"a\":1}\n-5.5e3", "V1:0 {\"a\":1}\nV2:8 -5.5e3\n");
	EXPECT("true", "V1:0 true\n");
	/* blank lines count */
	EXPECT("\n\n{\"a\":1}\n\n[2]\n", "V3:2 {\"a\":1}\nV5:11 [2]\n");
	/* CRLF */
	EXPECT("{\"a\":1}\r\n{\"b\":2}\r\n", "V1:0 {\"a\":1}\nV2:9 {\"b\":2}\n");
	/* a BOM at the start is skipped */
	EXPECT("\xef\xbb\xbf{\"a\":1}\n", "V1:3 {\"a\":1}\n");
	EXPECT("\xef\xbb\xbf", "");
	EXPECT("\xef\xbb\xbf\n7\n", "V2:4 7\n");
	/* ... but only at the start */
	EXPECT("{}\n\xef\xbb\xbf{}\n",
	       "V1:0 {}\n"
	       "E2:3/2 \\xef\\xbb\\xbf{}\n");
	/* a partial BOM is not one */
	EXPECT("\xef\xbb", "E1:0/1 \\xef\\xbb\n");
	/* UTF-8 in values */
	EXPECT("[\"\xc3\xa9\"]\n", "V1:0 [\"\\xc3\\xa9\"]\n");
}

static void test_concatenated(void)
{
	EXPECT("{\"a\":1}{\"b\":2}[3]\"x\"",
	       "V1:0 {\"a\":1}\nV1:7 {\"b\":2}\nV1:14 [3]\nV1:17 \"x\"\n");
	EXPECT("1 2 3", "V1:0 1\nV1:2 2\nV1:4 3\n");
	EXPECT("{}{}\n{} {}", "V1:0 {}\nV1:2 {}\nV2:5 {}\nV2:8 {}\n");
	EXPECT("\"a\"\"b\"", "V1:0 \"a\"\nV1:3 \"b\"\n");
}

static void test_pretty(void)
{
	EXPECT("{\n  \"a\": 1,\n  \"b\": [\n    2\n  ]\n}\n{\"c\":3}\n",
	       "V1:0~ {\\x0a  \"a\": 1,\\x0a  \"b\": [\\x0a    2\\x0a  ]\\x0a}\n"
	       "V7:33 {\"c\":3}\n");
	EXPECT("[\r\n  1,\r\n  2\r\n]\r\n[3]",
	       "V1:0~ [\\x0d\\x0a  1,\\x0d\\x0a  2\\x0d\\x0a]\nV5:17 [3]\n");
	/* pretty-printed values one after the other */
	EXPECT("{\n\"a\":1\n}{\n\"b\":2\n}",
	       "V1:0~ {\\x0a\"a\":1\\x0a}\nV3:9~ {\\x0a\"b\":2\\x0a}\n");
}

static void test_errors(void)
{
	/* a malformed line, then reading resumes on the next line */
	EXPECT("{\"a\":1}\n{\"b\":x}\n{\"c\":3}\n",
	       "V1:0 {\"a\":1}\n"
	       "E2:8/2 {\"b\":x}\n"
	       "V3:16 {\"c\":3}\n");
	EXPECT("{\"a\":1} garbage\n{\"c\":3}\n",
	       "V1:0 {\"a\":1}\n"
	       "E1:8/1 garbage\n"
	       "V2:16 {\"c\":3}\n");
	/* raw is the bytes as they are: the '\r' of a CRLF line stays */
	EXPECT("not json at all\n[1]\r\nnor this\r\n[2]",
	       "E1:0/1 not json at all\n"
	       "V2:16 [1]\n"
	       "E3:21/3 nor this\\x0d\n"
	       "V4:31 [2]\n");
	EXPECT("truex\n1\n", "E1:0/1 truex\nV2:6 1\n");
	EXPECT("[1,]\n", "E1:0/1 [1,]\n");
	EXPECT("\"\xff\"\n{}\n", "E1:0/1 \"\\xff\"\n" "V2:4 {}\n");
	/* cut short by the end of input */
	EXPECT("{\"a\":1}\n{\"b\":", "V1:0 {\"a\":1}\nE2:8/2 {\"b\":\n");
	EXPECT("{\"a\":1}\n{\"b\":\n", "V1:0 {\"a\":1}\nE2:8/2 {\"b\":\n");
	EXPECT("[1.", "E1:0/1 [1.\n");
	EXPECT("\"abc", "E1:0/1 \"abc\n");
	EXPECT("1.", "E1:0/1 1.\n");
	/* a broken pretty-printed value is one error, up to the next value */
	EXPECT("{\n  \"a\": 1,\n  \"b\": x,\n  \"c\": 2\n}\n{\"d\":4}\n",
	       "E1:0/3 {\\x0a  \"a\": 1,\\x0a  \"b\": x,\\x0a  \"c\": 2\\x0a}\n"
	       "V6:33 {\"d\":4}\n");
	EXPECT("[\n  1,\n  2 3,\n  4\n]\n[5]\n",
	       "E1:0/3 [\\x0a  1,\\x0a  2 3,\\x0a  4\\x0a]\n"
	       "V6:20 [5]\n");
	/* an NDJSON line after a bad one stands alone, even when it could
	 * continue the value */
	EXPECT("{\"a\":1,\n{\"b\":2}\n", "E1:0/1 {\"a\":1,\nV2:8 {\"b\":2}\n");
	EXPECT("{\"a\":}\n{\"b\":2}\n", "E1:0/1 {\"a\":}\nV2:7 {\"b\":2}\n");
	EXPECT("{\"a\":\n{\"b\":2}\n", "E1:0/1 {\"a\":\nV2:6 {\"b\":2}\n");
	EXPECT("[1,\n[2]\n", "E1:0/1 [1,\nV2:4 [2]\n");
	/* ... also when the bad value starts in the middle of a line */
	EXPECT("1 {\"a\":\n{\"b\":2}\n", "V1:0 1\nE1:2/1 {\"a\":\nV2:8 {\"b\":2}\n");
	/* an unterminated string ends at its line */
	EXPECT("{\"a\":\"abc\n{\"b\":2}\n",
	       "E1:0/1 {\"a\":\"abc\nV2:10 {\"b\":2}\n");
	/* two errors in a row */
	EXPECT("x\ny\n1", "E1:0/1 x\\x0ay\nV3:4 1\n");
	EXPECT("x\n[y\n1", "E1:0/1 x\nE2:2/2 [y\nV3:5 1\n");
}

static void test_too_large(void)
{
	/* max_record 16: the long record goes, the next line is read */
	EXPECT_MAX("{\"a\":\"0123456789abcdef\"}\n{\"b\":1}\n", 16,
		   "L1:0 {\"a\":\"0123456789a\n"
		   "V2:25 {\"b\":1}\n");
	/* exactly max_record is fine */
	EXPECT_MAX("[\"0123456789ab\"]\n[1]\n", 16,
		   "V1:0 [\"0123456789ab\"]\nV2:17 [1]\n");
	/* a long line that is not JSON */
	EXPECT_MAX("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n[1]\n", 16,
		   "L1:0 xxxxxxxxxxxxxxxxx\nV2:38 [1]\n");
	/* a long error line */
	EXPECT_MAX("{\"a\":x,\"b\":\"0123456789abcdef\"}\n[1]\n", 16,
		   "L1:0 {\"a\":x,\"b\":\"01234\nV2:31 [1]\n");
	/* a long value at the end of input without a newline */
	EXPECT_MAX("[1]\n\"0123456789abcdefghijkl\"", 16,
		   "V1:0 [1]\nL2:4 \"0123456789abcdef\n");

	/* a 3 MB line with the default prefix */
	size_t big = 3u << 20;
	char *in = malloc(big + 16);
	if (!CHECK(in))
		return;
	in[0] = '"';
	memset(in + 1, 'a', big - 2);
	in[big - 1] = '"';
	memcpy(in + big, "\n{\"next\":1}\n", 12);
	for (int one = 0; one < 2; one++) {
		struct src s = {.p = in, .n = big + 12, .chunk = one ? 4096 : big};
		struct ts_reader r;
		struct ts_item it;

		ts_reader_init(&r, src_read, &s, 1 << 20, 0);
		CHECK(ts_reader_next(&r, &it) == TS_ITEM_TOO_LARGE);
		CHECK(it.v.n == TS_READER_RAW_PREFIX && it.v.p[0] == '"' &&
		      it.v.p[TS_READER_RAW_PREFIX - 1] == 'a');
		CHECK(it.line == 1 && it.offset == 0 && it.err);
		CHECK(ts_reader_next(&r, &it) == TS_ITEM_VALUE);
		CHECK_MEM(it.v.p, it.v.n, "{\"next\":1}", 10);
		CHECK(it.line == 2 && it.offset == big + 1);
		CHECK(ts_reader_next(&r, &it) == TS_ITEM_EOF);
		/* memory stayed bounded by max_record and one read */
		CHECK(r.buf.cap <= (1 << 20) + (1 << 20) + 2);
		ts_reader_release(&r);
	}
	free(in);
}

/* A record longer than a power-of-two buffer but under max_record. */
static void test_long_record(void)
{
	size_t max = (5u << 20) / 2, len = (9u << 20) / 4; /* 2.5 MiB, 2.25 MiB */
	char *in = malloc(len + 8);

	if (!CHECK(in))
		return;
	in[0] = '[';
	for (size_t i = 1; i + 1 < len; i += 2)
		memcpy(in + i, "1,", 2);
	in[len - 2] = '1';
	in[len - 1] = ']';
	memcpy(in + len, "\n[2]\n", 5);
	for (int k = 0; k < 3; k++) {
		static const size_t ck[] = {(size_t)1 << 30, 65536, 1000};
		struct src s = {.p = in, .n = len + 5, .chunk = ck[k]};
		struct ts_reader r;
		struct ts_item it;

		ts_reader_init(&r, src_read, &s, max, 0);
		CHECK(ts_reader_next(&r, &it) == TS_ITEM_VALUE);
		CHECK(it.v.n == len);
		CHECK(ts_reader_next(&r, &it) == TS_ITEM_VALUE);
		CHECK_MEM(it.v.p, it.v.n, "[2]", 3);
		CHECK(ts_reader_next(&r, &it) == TS_ITEM_EOF);
		ts_reader_release(&r);
	}
	free(in);
}

static void test_text(void)
{
	EXPECT_TEXT("hello world\n{\"a\":1}\n[1,2] x\n  \n{\"b\":\n 2}\nabc\r\n1 2 3\n",
		    "T1:0 hello world\n"
		    "V2:12 {\"a\":1}\n"
		    "T3:20 [1,2] x\n"
		    "V5:31~ {\"b\":\\x0a 2}\n"
		    "T7:41 abc\n"
		    "V8:46 1\nV8:48 2\nV8:50 3\n");
	EXPECT_TEXT("no newline at the end", "T1:0 no newline at the end\n");
	/* a text line keeps its leading blanks */
	EXPECT_TEXT("[1]\n  indented text\n\tx\n", "V1:0 [1]\nT2:4   indented text\nT3:20 \\x09x\n");
	EXPECT_TEXT("2024-05-01 12:00:00 INFO started\n",
		    "T1:0 2024-05-01 12:00:00 INFO started\n");
	EXPECT_TEXT("{\"a\":1} trailing\n", "T1:0 {\"a\":1} trailing\n");
	EXPECT_TEXT("\xff\xfe bytes\n", "T1:0 \\xff\\xfe bytes\n");
	/* too large in text mode: measured from the start of the line; the
	 * value is skipped whole, its last line too */
	EXPECT_TEXT_MAX("{\n  \"aaaaaaaaaaaaaaaaaaaa\": 1\n}\n  ok\n", 16,
			"L1:0 {\\x0a  \"aaaaaaaaaaaa\n"
			"T4:32   ok\n");
	EXPECT_TEXT_MAX("[1]\n                    \nabc\n", 16,
			"V1:0 [1]\nL2:4                  \nT3:25 abc\n");
	EXPECT_TEXT_MAX("              abc\nok\n", 16,
			"L1:0               abc\nT2:18 ok\n");
	EXPECT_TEXT_MAX("x\n                    ", 16, "T1:0 x\nL2:2                  \n");
	EXPECT_TEXT_MAX("0123456789abcdef\n0123456789abcdefg\n", 16,
			"T1:0 0123456789abcdef\nL2:17 0123456789abcdefg\n");
	EXPECT_TEXT_MAX("        \n[1]\n", 16, "V2:9 [1]\n");
	/* a multi-line value broken further down is an error, not text */
	EXPECT_TEXT("{\"a\":\n x}\nok\n", "E1:0/2 {\"a\":\\x0a x}\nT3:10 ok\n");
}

/* A source returning TS_SOURCE_BREAK (\x01 in the input here). */
static void test_break(void)
{
	/* a value cut by the break is an error with exactly its bytes; the
	 * data after the break starts a new line */
	EXPECT("{\"a\":1}\n{\"b\":\x01{\"c\":3}\n{\"d\":4}",
	       "V1:0 {\"a\":1}\n"
	       "E2:8/2 {\"b\":\n"
	       "B2:13\n"
	       "V3:13 {\"c\":3}\n"
	       "V4:21 {\"d\":4}\n");
	/* a number is complete at the break, as at the end of input */
	EXPECT("[1]\n123\x01" "456\n", "V1:0 [1]\nV2:4 123\nB2:7\nV3:7 456\n");
	/* a string cut short; what follows the break is read afresh */
	EXPECT("\"abc\x01" "def\"\n[1]",
	       "E1:0/1 \"abc\nB1:4\nE2:4/2 def\"\nV3:9 [1]\n");
	/* a pretty-printed value cut short, values at column 0 after it */
	EXPECT("{\n  \"a\": 1,\n\x01{\"b\":2}\n",
	       "E1:0/2 {\\x0a  \"a\": 1,\nB3:12\nV3:12 {\"b\":2}\n");
	/* an error does not reach past the break */
	EXPECT("x\n\x01  y\n", "E1:0/1 x\nB2:2\nE2:4/2 y\n");
	/* a '\r' cut off from its '\n' stays in the bytes */
	EXPECT("[1]\r\n{\"x\":\r\x01[2]",
	       "V1:0 [1]\nE2:5/2 {\"x\":\\x0d\nB2:11\nV3:11 [2]\n");
	/* at the very start, two in a row, right after a newline */
	EXPECT("\x01[1]\n", "B1:0\nV1:0 [1]\n");
	EXPECT("[1]\x01\x01[2]", "V1:0 [1]\nB1:3\nB2:3\nV2:3 [2]\n");
	EXPECT("[1]\n\x01[2]\n", "V1:0 [1]\nB2:4\nV2:4 [2]\n");
	EXPECT("[1]\n\n\x01\n[2]\n", "V1:0 [1]\nB3:5\nV4:6 [2]\n");
	/* breaks and nothing else, then the end */
	EXPECT("\x01\x01\x01", "B1:0\nB1:0\nB1:0\n");
	EXPECT("\xef\xbb\x01\xbf{}", "E1:0/1 \\xef\\xbb\nB1:2\nE2:2/2 \\xbf{}\n");
	/* a too-large value cut by the break */
	EXPECT_MAX("[1]\n\"0123456789abcdefghij\x01[2]\n", 16,
		   "V1:0 [1]\nL2:4 \"0123456789abcdef\nB2:25\nV3:25 [2]\n");
	/* text mode */
	EXPECT_TEXT("hello\nwor\x01ld\n[1]\n",
		    "T1:0 hello\nT2:6 wor\nB2:9\nT3:9 ld\nV4:12 [1]\n");
	EXPECT_TEXT("abc\r\x01\nx", "T1:0 abc\\x0d\nB1:4\nT3:5 x\n");
	EXPECT_TEXT("[1] {\"a\":\x01 x\n",
		    "V1:0 [1]\nE1:4/1 {\"a\":\nB1:9\nT2:9  x\n");

	/* The source is not called again before the BREAK item is out, and
	 * a source breaking again and again, then ending, ends the items. */
	struct src s = {.p = "[1]\x01\x01", .n = 5, .chunk = 64, .breaks = 1};
	struct ts_reader r;
	struct ts_item it;
	ts_reader_init(&r, src_read, &s, 0, 0);
	CHECK(ts_reader_next(&r, &it) == TS_ITEM_VALUE);
	CHECK(ts_reader_next(&r, &it) == TS_ITEM_BREAK && it.v.n == 0);
	CHECK(s.calls == s.break_call);
	CHECK(ts_reader_next(&r, &it) == TS_ITEM_BREAK);
	CHECK(s.calls == s.break_call);
	CHECK(ts_reader_next(&r, &it) == TS_ITEM_EOF);
	CHECK(ts_reader_next(&r, &it) == TS_ITEM_EOF);
	/* a failure after a break */
	struct src f = {.p = "[1]\x01[2", .n = 6, .chunk = 64, .fail_errno = EIO, .breaks = 1};
	ts_reader_reset(&r, src_read, &f);
	CHECK(ts_reader_next(&r, &it) == TS_ITEM_VALUE);
	CHECK(ts_reader_next(&r, &it) == TS_ITEM_BREAK && it.offset == 3);
	CHECK(ts_reader_next(&r, &it) == TS_ITEM_ERROR && it.line == 2 && it.offset == 3);
	CHECK(ts_reader_next(&r, &it) == TS_ITEM_IO_ERROR && it.sys_errno == EIO);
	CHECK(ts_reader_next(&r, &it) == TS_ITEM_EOF);
	ts_reader_release(&r);
}

/* A value rejected for its depth or size never leaks a part of itself. */
static void test_rejected_whole(void)
{
	/* inner lines at column 0 are part of the too-deep value */
	EXPECT_DEPTH("[[[\n[[[1]]]\n]]]\n{\"ok\":1}\n", 0, 3,
		     "E1:0/2 [[[\\x0a[[[1]]]\\x0a]]]\n"
		     "V4:16 {\"ok\":1}\n");
	/* the rest of its line after it is read as usual */
	EXPECT_DEPTH("[[[[1]]]] [2] x\n[3]", 0, 3,
		     "E1:0/1 [[[[1]]]]\nV1:10 [2]\nE1:14/1 x\nV2:16 [3]\n");
	/* as printed by jq */
	EXPECT_DEPTH("{\n  \"a\": {\n    \"b\": [\n      [1],\n      {\"c\": 2}\n"
		     "    ]\n  }\n}\n{\"ok\":1}\n", 0, 3,
		     "E1:0/4 {\\x0a  \"a\": {\\x0a    \"b\": [\\x0a      [1],\\x0a"
		     "      {\"c\": 2}\\x0a    ]\\x0a  }\\x0a}\n"
		     "V9:60 {\"ok\":1}\n");
	/* as printed with no indentation */
	EXPECT_DEPTH("{\n\"a\": [\n{\n\"b\": [1]\n},\n\"c\"\n]\n}\n[2]\n", 0, 3,
		     "E1:0/4 {\\x0a\"a\": [\\x0a{\\x0a\"b\": [1]\\x0a},\\x0a\"c\"\\x0a]\\x0a}\n"
		     "V9:31 [2]\n");
	/* brackets and quotes inside strings do not count */
	EXPECT_DEPTH("[[\"]]\\\"]]\",\n[[1]]]]\n[2]\n", 0, 2,
		     "E1:0/2 [[\"]]\\x5c\"]]\",\\x0a[[1]]]]\nV3:20 [2]\n");
	/* broken before it closes: it ends before the next line that starts
	 * a value at column 0 */
	EXPECT_DEPTH("[[[\n[[[1]]] x\n  2\n{\"ok\":1}\n", 0, 3,
		     "E1:0/2 [[[\\x0a[[[1]]] x\\x0a  2\n"
		     "V4:18 {\"ok\":1}\n");
	EXPECT_DEPTH("[[[[1]]\n{\"ok\":1}\n[2]\n", 0, 3,
		     "E1:0/1 [[[[1]]\nV2:8 {\"ok\":1}\nV3:17 [2]\n");
	EXPECT_DEPTH("[[[[\"a\n[1]\n", 0, 3, "E1:0/1 [[[[\"a\nV2:7 [1]\n");
	EXPECT_DEPTH("[[[[\"a\\\n[1]\n[2]", 0, 3, "E1:0/1 [[[[\"a\\x5c\nV2:8 [1]\nV3:12 [2]\n");
	EXPECT_DEPTH("[[[[1]]]}\n[1]\n", 0, 3, "E1:0/1 [[[[1]]]}\nV2:10 [1]\n");
	EXPECT_DEPTH("[[[[1]]\n\n  \n", 0, 3, "E1:0/1 [[[[1]]\n");
	/* blank lines at its end count towards the limit: read in small
	 * pieces, they are gone before the end shows */
	EXPECT_DEPTH("[[[[1]]\n\n\n\n\n\n\n\n\n\n", 16, 3, "L1:0 [[[[1]]\\x0a\\x0a\\x0a\\x0a\\x0a\\x0a\\x0a\\x0a\\x0a\\x0a\n");
	EXPECT_DEPTH("[[[[1]]\n\n\n\n\n\n\n\n\n", 16, 3, "E1:0/1 [[[[1]]\n");
	EXPECT_DEPTH("{\"a\":{\"b\":{\"c\":1} \"d\"}}\n[1]\n", 0, 2,
		     "E1:0/1 {\"a\":{\"b\":{\"c\":1} \"d\"}}\nV2:24 [1]\n");
	/* too deep and longer than max_record */
	EXPECT_DEPTH("[[[[1,2,3,4,5,6,7,8,9,10]]]]\n[1]\n", 16, 3,
		     "L1:0 [[[[1,2,3,4,5,6,7\nV2:29 [1]\n");

	/* too large, pretty-printed, good values after it */
	EXPECT_MAX("{\n  \"a\": \"0123456789abcdefghijklmnopqrstuvwxyz\",\n  \"b\": [\n"
		   "    1\n  ]\n}\n{\"ok\":1}\n[2]\n", 32,
		   "L1:0 {\\x0a  \"a\": \"0123456789abcdefghijklm\n"
		   "V7:70 {\"ok\":1}\nV8:79 [2]\n");
	/* too large, one line, more values on it */
	EXPECT_MAX("{\"a\":\"0123456789abcdef\"}{\"b\":1} [2]\n[3]", 16,
		   "L1:0 {\"a\":\"0123456789a\nV1:24 {\"b\":1}\nV1:32 [2]\nV2:36 [3]\n");
	/* too large, cut short: it takes at most the value after it along
	 * (here where an element may follow; where a string is open, the
	 * line end breaks it) */
	EXPECT_MAX("[1,2,3,4,5,6,7,8,9,10,11,12,\n{\"ok\":1}\n[2]\n", 16,
		   "L1:0 [1,2,3,4,5,6,7,8,\nV3:38 [2]\n");
	EXPECT_MAX("{\"a\":\"0123456789abcdefghij\n  x\n{\"ok\":1}\n", 16,
		   "L1:0 {\"a\":\"0123456789a\nV3:31 {\"ok\":1}\n");
	/* a long number */
	EXPECT_MAX("12345678901234567890 [1]\n", 16,
		   "L1:0 12345678901234567\nV1:21 [1]\n");
	/* too large with lines at column 0 inside */
	EXPECT_MAX("[\n\"0123456789abcdef\",\n[1],\n{\"a\":2}\n]\n[3]\n", 16,
		   "L1:0 [\\x0a\"0123456789abcd\nV6:37 [3]\n");

	/* 10,000 levels spread over lines, each a bracket at column 0 */
	struct ts_buf in;
	ts_buf_init(&in, 0);
	for (int i = 0; i < 1000; i++)
		ts_buf_addstr(&in, "[[[[[[[[[[\n");
	for (int i = 0; i < 1000; i++)
		ts_buf_addstr(&in, "]]]]]]]]]]\n");
	size_t nest = in.len - 1;
	ts_buf_addstr(&in, "{\"ok\":1}\n[2]\n");
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		for (size_t max = 0; max <= 8192; max += 8192) {
			struct src s = {.p = in.data, .n = in.len, .chunk = chunks[i]};
			struct ts_reader r;
			struct ts_item it;
			ts_reader_init(&r, src_read, &s, max, 0);
			enum ts_item_kind k = ts_reader_next(&r, &it);
			if (max == 0) {
				CHECK(k == TS_ITEM_ERROR && it.v.n == nest &&
				      memcmp(it.v.p, in.data, nest) == 0);
				CHECK(it.line == 1 && it.err_line == 52 &&
				      strstr(it.err, "deep"));
			} else {
				CHECK(k == TS_ITEM_TOO_LARGE && it.v.n == TS_READER_RAW_PREFIX);
			}
			CHECK(ts_reader_next(&r, &it) == TS_ITEM_VALUE &&
			      it.line == 2001 && it.offset == nest + 1);
			CHECK_MEM(it.v.p, it.v.n, "{\"ok\":1}", 8);
			CHECK(ts_reader_next(&r, &it) == TS_ITEM_VALUE && it.line == 2002);
			CHECK(ts_reader_next(&r, &it) == TS_ITEM_EOF);
			ts_reader_release(&r);
		}
	}
	/* the same nesting on one line, never closed: one item, no value */
	ts_buf_reset(&in);
	for (int i = 0; i < 100000; i++)
		ts_buf_addstr(&in, "[{\"a\":");
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		struct src s = {.p = in.data, .n = in.len, .chunk = chunks[i] < 7 ? 4096 : chunks[i]};
		struct ts_reader r;
		struct ts_item it;
		ts_reader_init(&r, src_read, &s, 4096, 0);
		CHECK(ts_reader_next(&r, &it) == TS_ITEM_TOO_LARGE);
		CHECK(ts_reader_next(&r, &it) == TS_ITEM_EOF);
		ts_reader_release(&r);
	}
	ts_buf_release(&in);
}

/* Bytes of a value delivered are never in an error item too. */
static void test_after_value(void)
{
	EXPECT("{\"a\":1} junk\n{\"b\":2}\n",
	       "V1:0 {\"a\":1}\nE1:8/1 junk\nV2:13 {\"b\":2}\n");
	EXPECT("{\"a\":1}{\"b\"\n{\"c\":2}\n",
	       "V1:0 {\"a\":1}\nE1:7/1 {\"b\"\nV2:12 {\"c\":2}\n");
	EXPECT("{\"a\":1}{\"b\"", "V1:0 {\"a\":1}\nE1:7/1 {\"b\"\n");
	EXPECT("[1] [2] {\"b\":\n  x}\n[3]\n",
	       "V1:0 [1]\nV1:4 [2]\nE1:8/2 {\"b\":\\x0a  x}\nV3:19 [3]\n");
	EXPECT("{\"a\":1} junk\r\n", "V1:0 {\"a\":1}\nE1:8/1 junk\\x0d\n");
}

/* raw is the original bytes exactly: a CRLF line keeps its '\r' */
static void test_crlf_raw(void)
{
	EXPECT("x\r\n{\"a\":1}\r\n", "E1:0/1 x\\x0d\nV2:3 {\"a\":1}\n");
	EXPECT("{\"d\" 4}\r\n[1]\r\n", "E1:0/1 {\"d\" 4}\\x0d\nV2:9 [1]\n");
	EXPECT("{\r\n  \"a\": x\r\n}\r\n[1]",
	       "E1:0/2 {\\x0d\\x0a  \"a\": x\\x0d\\x0a}\\x0d\nV4:16 [1]\n");
	EXPECT("{\"a\":\r\n{\"b\":1}\r\n", "E1:0/1 {\"a\":\\x0d\nV2:7 {\"b\":1}\n");
	EXPECT_DEPTH("[[[\r\n]]]\r\n[1]\r\n", 0, 2, "E1:0/1 [[[\\x0d\\x0a]]]\nV3:10 [1]\n");
	EXPECT_DEPTH("[[[\r\n\r\n", 0, 2, "E1:0/1 [[[\\x0d\n");
	/* text mode: a TEXT item is the line without its "\r\n" */
	EXPECT_TEXT("abc\r\nx y\r\n", "T1:0 abc\nT2:5 x y\n");
	EXPECT_TEXT("abc\r", "T1:0 abc\\x0d\n");
	EXPECT_TEXT("{\"a\":\r\n x}\r\nok", "E1:0/2 {\"a\":\\x0d\\x0a x}\\x0d\nT3:12 ok\n");
}

static void test_io_error(void)
{
	/* everything read before the failure comes out first */
	const char *in = "{\"a\":1}\n{\"b\":2}\n";
	char *got = transcript(in, strlen(in), 1 << 20, 0, 0, 0, EIO, 0);
	char want[256];
	snprintf(want, sizeof(want), "V1:0 {\"a\":1}\nV2:8 {\"b\":2}\nI %s\n",
		 strerror(EIO));
	CHECK_STR(got, want);
	free(got);
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		got = transcript(in, strlen(in), chunks[i], 0, 0, 0, EIO, 1);
		CHECK_STR(got, want);
		free(got);
	}

	/* a value cut short by the failure is an error, then the failure */
	in = "[1]\n{\"b\":";
	snprintf(want, sizeof(want), "V1:0 [1]\nE2:4/2 {\"b\":\nI %s\n",
		 strerror(ECONNRESET));
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		got = transcript(in, strlen(in), chunks[i], 0, 0, 0, ECONNRESET, 0);
		CHECK_STR(got, want);
		free(got);
	}

	/* failing at once */
	snprintf(want, sizeof(want), "I %s\n", strerror(EBADF));
	got = transcript("", 0, 1, 0, 0, 0, EBADF, 0);
	CHECK_STR(got, want);
	free(got);
}

static void test_sources(void)
{
	struct ts_reader r;
	struct ts_item it;
	struct ts_span m = {"[1]\n[2]", 7};
	int fds[2];

	/* memory */
	ts_reader_init(&r, ts_source_mem, &m, 0, 0);
	CHECK(ts_reader_next(&r, &it) == TS_ITEM_VALUE);
	CHECK(ts_reader_next(&r, &it) == TS_ITEM_VALUE);
	CHECK(ts_reader_next(&r, &it) == TS_ITEM_EOF);
	CHECK(m.n == 0);

	/* reset: a new source, line numbers and offsets start over */
	struct ts_span m2 = {"\n{\"x\":1}", 8};
	ts_reader_reset(&r, ts_source_mem, &m2);
	CHECK(ts_reader_next(&r, &it) == TS_ITEM_VALUE);
	CHECK(it.line == 2 && it.offset == 1);
	CHECK_MEM(it.v.p, it.v.n, "{\"x\":1}", 7);
	CHECK(ts_reader_next(&r, &it) == TS_ITEM_EOF);

	/* a file descriptor (a pipe) */
	if (CHECK(pipe(fds) == 0)) {
		CHECK(write(fds[1], "{\"p\":1}\n2", 9) == 9);
		close(fds[1]);
		ts_reader_reset(&r, ts_source_fd, &fds[0]);
		CHECK(ts_reader_next(&r, &it) == TS_ITEM_VALUE);
		CHECK(ts_reader_next(&r, &it) == TS_ITEM_VALUE);
		CHECK_MEM(it.v.p, it.v.n, "2", 1);
		CHECK(ts_reader_next(&r, &it) == TS_ITEM_EOF);
		close(fds[0]);
	}
	/* a bad descriptor */
	int bad = -1;
	ts_reader_reset(&r, ts_source_fd, &bad);
	CHECK(ts_reader_next(&r, &it) == TS_ITEM_IO_ERROR && it.sys_errno == EBADF);
	CHECK(ts_reader_next(&r, &it) == TS_ITEM_EOF);
	ts_reader_release(&r);

	/* max_depth applies */
	struct ts_span d = {"[[[1]]]\n[[1]]\n", 14};
	ts_reader_init(&r, ts_source_mem, &d, 0, 2);
	CHECK(ts_reader_next(&r, &it) == TS_ITEM_ERROR && strstr(it.err, "deep"));
	CHECK(ts_reader_next(&r, &it) == TS_ITEM_VALUE && it.line == 2);
	ts_reader_release(&r);
}

/* A CloudWatch Logs payload as it comes out of gzip: objects back to back. */
static void test_cwl_stream(void)
{
	static const char data[] =
		"{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"123456789123\","
		"\"logGroup\":\"testLogGroup\",\"logStream\":\"testLogStream\","
		"\"subscriptionFilters\":[\"testFilter\"],\"logEvents\":[{\"id\":"
		"\"eventId1\",\"timestamp\":1440442987000,\"message\":\"[ERROR] First "
		"test message\"}]}";
	static const char control[] =
		"{\"messageType\":\"CONTROL_MESSAGE\",\"owner\":\"CloudwatchLogs\","
		"\"logGroup\":\"\",\"logStream\":\"\",\"subscriptionFilters\":[],"
		"\"logEvents\":[]}";
	char in[sizeof(data) + sizeof(control)];
	const size_t n1 = sizeof(data) - 1, total = n1 + sizeof(control) - 1;

	memcpy(in, data, n1);
	memcpy(in + n1, control, sizeof(control));
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		struct src s = {.p = in, .n = total, .chunk = chunks[i]};
		struct ts_reader r;
		struct ts_item it;

		ts_reader_init(&r, src_read, &s, 0, 0);
		CHECK(ts_reader_next(&r, &it) == TS_ITEM_VALUE && it.v.n == n1);
		CHECK(ts_reader_next(&r, &it) == TS_ITEM_VALUE && it.offset == n1 &&
		      it.v.n == total - n1 && it.line == 1);
		CHECK(ts_reader_next(&r, &it) == TS_ITEM_EOF);
		ts_reader_release(&r);
	}
}

int main(void)
{
	test_ndjson();
	test_concatenated();
	test_pretty();
	test_errors();
	test_too_large();
	test_long_record();
	test_text();
	test_io_error();
	test_sources();
	test_cwl_stream();
	test_break();
	test_rejected_whole();
	test_after_value();
	test_crlf_raw();
	return check_done();
}
