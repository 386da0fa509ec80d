/*
 * fuzz_dqstate.c — ts-validate's state files (dq.h: ts_dq_state_merge).
 * The input is merged, as a state file, into a run of a fixed ruleset that
 * uses every kind of accumulator (counts, exact sums, min/max, lengths,
 * value sets, aggregates).  Invariants: a state that is refused leaves the
 * run able to evaluate; a state that is accepted evaluates, and written
 * back out and merged into a fresh run gives the same results.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dq.h"
#include "dqdl.h"
#include "fuzz.h"
#include "util.h"

static const char rules[] =
	"Rules = [ RowCount > 0, IsUnique \"id\", Mean \"n\" > 0, ColumnLength \"s\" < 9,\n"
	"  ColumnValues \"n\" between 0 and 9, IsPrimaryKey \"id\" \"s\", Entropy \"s\" > 0,\n"
	"  ColumnCorrelation \"n\" \"m\" > 0, ColumnCount > 1,\n"
	"  AggregateMatch \"sum(n)\" \"avg(m)\" > 0 ]\n"
	"Analyzers = [ AllStatistics \"s\" ]\n";

static struct ts_dq *fresh(const struct ts_dq_ruleset *rs)
{
	struct ts_dq_opts o = {.now = 1.7e9, .mem = 1 << 20};
	char err[256];
	return ts_dq_new(rs, &o, err, sizeof(err));
}

static void results(struct ts_dq *q, struct ts_buf *out)
{
	struct ts_dq_results res;
	FUZZ_CHECK(ts_dq_evaluate(q, &res) == 0);
	for (size_t i = 0; i < res.n; i++) {
		ts_buf_addf(out, "%d %s", (int)res.r[i].outcome, res.r[i].message ? res.r[i].message : "");
		for (size_t k = 0; k < res.r[i].nmetrics; k++)
			ts_buf_addf(out, " %s=%a", res.r[i].metrics[k].name, res.r[i].metrics[k].value);
		ts_buf_addch(out, '\n');
	}
	ts_dq_results_release(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ts_dq_ruleset *rs;
	static int fd = -1;
	char path[64], err[512], back[] = "/tmp/fuzz_dqstate.XXXXXX";

	if (!rs && ts_dqdl_parse(rules, sizeof(rules) - 1, &rs, err, sizeof(err)) < 0)
		FUZZ_CHECK(!"the fixed ruleset parses");
	if (fd < 0 && (fd = memfd_create("fuzz_dqstate", 0)) < 0)
		return 0;
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) != 0 ||
	    ts_write_all(fd, (const char *)data, size) < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	struct ts_dq *q = fresh(rs);
	FUZZ_CHECK(q);
	struct ts_buf a, b;
	ts_buf_init(&a, 0);
	ts_buf_init(&b, 0);
	int ok = ts_dq_state_merge(q, path, err, sizeof(err)) == 0;
	results(q, &a);
	if (ok) {
		int t = mkstemp(back);
		if (t >= 0) {
			close(t);
			FUZZ_CHECK(ts_dq_state_write(q, back, err, sizeof(err)) == 0);
			struct ts_dq *q2 = fresh(rs);
			FUZZ_CHECK(ts_dq_state_merge(q2, back, err, sizeof(err)) == 0);
			results(q2, &b);
			FUZZ_CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
			ts_dq_free(q2);
			unlink(back);
		}
	}
	ts_buf_release(&a);
	ts_buf_release(&b);
	ts_dq_free(q);
	return 0;
}
