/* fuzz_awslog.c — any bytes as VPC Flow Logs and ELB access log lines:
 * never a crash; the lines are the same however the input is cut; every
 * record is one valid JSON object, and a malformed line leaves the output
 * as it was. */
#include <string.h>

#include "awslog.h"
#include "buf.h"
#include "fuzz.h"
#include "json.h"

struct ctx {
	struct ts_buf trace; /* the lines as seen, to compare two cuttings */
	struct ts_buf out;
	struct ts_awslog_vpc vpc;
};

/* out holds one JSON object after at, or nothing. */
static void check_record(struct ctx *c, size_t at, int rc)
{
	struct ts_json_scan s;

	if (rc != 0) {
		FUZZ_CHECK(c->out.len == at);
		return;
	}
	FUZZ_CHECK(c->out.len > at && c->out.data[at] == '{');
	FUZZ_CHECK(ts_json_scan(c->out.data + at, c->out.data + c->out.len, 1, 0, &s) == TS_JSON_OK);
	FUZZ_CHECK(s.end == c->out.data + c->out.len);
}

static int on_line(void *ud, const struct ts_awslog_line *l)
{
	struct ctx *c = ud;
	char err[256];
	size_t at;
	int rc;

	FUZZ_CHECK(l->truncated ? l->n <= TS_AWSLOG_RAW_PREFIX : l->n <= 1 << 12);
	FUZZ_CHECK(!memchr(l->p, '\n', l->n));
	ts_buf_addf(&c->trace, "%llu %d %zu|", (unsigned long long)l->line, l->truncated, l->n);
	ts_buf_add(&c->trace, l->p, l->n);
	if (ts_awslog_vpc_is_header(l->p, l->n)) {
		rc = ts_awslog_vpc_set_header(&c->vpc, l->p, l->n, err, sizeof(err));
		FUZZ_CHECK(rc == 0 || rc == TS_AWSLOG_BAD);
	}
	ts_buf_reset(&c->out);
	ts_buf_addch(&c->out, 'x');
	at = c->out.len;
	rc = ts_awslog_vpc_record(&c->vpc, l->p, l->n, &c->out, err, sizeof(err));
	check_record(c, at, rc);
	ts_buf_addf(&c->trace, " v%d", rc);
	at = c->out.len;
	rc = ts_awslog_elb_record(l->p, l->n, &c->out, err, sizeof(err));
	check_record(c, at, rc);
	ts_buf_addf(&c->trace, " e%d\n", rc);
	return 0;
}

static void run(struct ctx *c, const char *p, size_t size, size_t step)
{
	struct ts_awslog_lines l;

	ts_buf_init(&c->trace, 0);
	ts_buf_init(&c->out, 0);
	ts_awslog_vpc_init(&c->vpc);
	ts_awslog_lines_init(&l, 1 << 12);
	for (size_t i = 0; i < size; i += step)
		ts_awslog_lines_feed(&l, p + i, i + step > size ? size - i : step, on_line, c);
	ts_awslog_lines_feed(&l, NULL, 0, on_line, c);
	ts_awslog_lines_release(&l);
	ts_awslog_vpc_release(&c->vpc);
	ts_buf_release(&c->out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctx a, b;

	run(&a, (const char *)data, size, size ? size : 1);
	run(&b, (const char *)data, size, 1);
	FUZZ_CHECK(a.trace.len == b.trace.len && memcmp(a.trace.data, b.trace.data, a.trace.len) == 0);
	ts_buf_release(&a.trace);
	ts_buf_release(&b.trace);
	return 0;
}
