/* test_csv.c — lib/csv.h: RFC 4180 CSV and TSV records from a stream cut
 * anywhere: quoting, CRLF, BOM, empty lines, TSV escapes, malformed
 * records and where they are. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "csv.h"

/* Each record as one line of text: "L<line>:[a|b|c]" with quoted fields
 * marked Q, or "L<line>:ERR(<raw>)". */
static int collect(void *ud, const struct ts_csv_rec *r)
{
	struct ts_buf *b = ud;
	ts_buf_addf(b, "L%llu:", (unsigned long long)r->line);
	if (r->err) {
		ts_buf_addstr(b, "ERR(");
		ts_buf_add(b, r->raw, r->rawn);
		ts_buf_addstr(b, ")\n");
		return 0;
	}
	ts_buf_addch(b, '[');
	for (size_t i = 0; i < r->n; i++) {
		if (i)
			ts_buf_addch(b, '|');
		if (r->f[i].quoted)
			ts_buf_addch(b, 'Q');
		ts_buf_add(b, r->data + r->f[i].off, r->f[i].len);
	}
	ts_buf_addstr(b, "]\n");
	return 0;
}

/* The records of s read in chunks of step bytes (0: whole). */
static char *parse(char sep, const char *s, size_t n, size_t step)
{
	struct ts_csv c;
	struct ts_buf b;

	ts_buf_init(&b, 0);
	ts_csv_init(&c, sep, 0);
	if (!step)
		step = n ? n : 1;
	for (size_t i = 0; i < n; i += step)
		ts_csv_feed(&c, s + i, i + step > n ? n - i : step, collect, &b);
	ts_csv_feed(&c, NULL, 0, collect, &b);
	ts_csv_release(&c);
	return ts_buf_detach(&b, NULL);
}

/* The same records however the input is cut. */
static void expect(char sep, const char *in, const char *want)
{
	size_t n = strlen(in);
	for (size_t step = 0; step <= 7; step++) {
		char *got = parse(sep, in, n, step);
		if (!CHECK_STR(got, want))
			fprintf(stderr, "  input %s, chunks of %zu\n", in, step);
		free(got);
	}
}

int main(void)
{
	expect(',', "a,b,c\n1,2,3\n", "L1:[a|b|c]\nL2:[1|2|3]\n");
	expect(',', "a,b\r\n1,2\r\n", "L1:[a|b]\nL2:[1|2]\n");
	expect(',', "a,b\n1,2", "L1:[a|b]\nL2:[1|2]\n");          /* no final line break */
	expect(',', "\xef\xbb\xbf" "a,b\n", "L1:[a|b]\n");            /* BOM */
	expect(',', "\xef\xbb" "a\n", "L1:[\xef\xbb" "a]\n");             /* half a BOM is data */
	expect(',', "\xef", "L1:[\xef]\n");
	expect(',', "a\n\n\nb\n", "L1:[a]\nL4:[b]\n");                 /* empty lines skipped */
	expect(',', ",,\n", "L1:[||]\n");                              /* empty fields */
	expect(',', "\"a,b\",\"c\"\"d\"\n", "L1:[Qa,b|Qc\"d]\n");
	expect(',', "\"\"\n", "L1:[Q]\n");                             /* a quoted empty field */
	expect(',', "\"x\ny\",z\nnext\n", "L1:[Qx\ny|z]\nL3:[next]\n"); /* a line break inside quotes */
	expect(',', "\"x\r\ny\"\r\nq\r\n", "L1:[Qx\r\ny]\nL3:[q]\n");
	expect(',', "a\"b,c\n", "L1:[a\"b|c]\n");                      /* a quote inside an unquoted field */
	expect(',', "\"ab\"c,d\nok\n", "L1:ERR(\"ab\"c,d)\nL2:[ok]\n"); /* text after a closing quote */
	expect(',', "ok\n\"open,x\n", "L1:[ok]\nL2:ERR(\"open,x\n)\n"); /* never closed */
	expect(',', "\"a\"\rb\nok\n", "L1:ERR(\"a\"\rb)\nL2:[ok]\n");
	expect('\t', "a\tb\n1\t2\n", "L1:[a|b]\nL2:[1|2]\n");
	expect('\t', "a\\tb\tc\\nd\\\\e\\x\n", "L1:[a\tb|c\nd\\e\\x]\n");
	expect('\t', "\"q\"\tx\n", "L1:[\"q\"|x]\n");                  /* TSV: quotes are data */
	expect('\t', "a\\", "L1:[a\\]\n");

	/* A record over the limit is handed over as malformed, cut. */
	struct ts_csv c;
	struct ts_buf b;
	ts_buf_init(&b, 0);
	ts_csv_init(&c, ',', 8);
	CHECK(ts_csv_feed(&c, "0123456789abc,d\nok\n", 19, collect, &b) == 0);
	ts_csv_feed(&c, NULL, 0, collect, &b);
	CHECK_STR(b.data, "L1:ERR(01234567)\nL2:[ok]\n");
	ts_csv_release(&c);
	ts_buf_release(&b);
	return check_done();
}
