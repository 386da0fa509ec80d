/*
 * fuzz_dqdl.c — the DQDL parser (dqdl.h): any bytes either parse or are
 * rejected with "line L, column C: reason" inside the text (or just past
 * its end).  A ruleset that parses prints to a canonical form that parses
 * again and prints the same (the printer and parser agree); every rule's
 * condition can be handed to the evaluation helpers without a crash.
 */
#include <string.h>

#include "dqdl.h"
#include "fuzz.h"

static void check_error(const char *err, const uint8_t *data, size_t size)
{
	unsigned line, col;
	int n = 0;

	FUZZ_CHECK(sscanf(err, "line %u, column %u: %n", &line, &col, &n) == 2 && n > 0);
	FUZZ_CHECK(err[n] != '\0');
	FUZZ_CHECK(line >= 1 && col >= 1);
	unsigned lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	FUZZ_CHECK(line <= lines);
	FUZZ_CHECK(col <= size + 1);
}

static void poke_cond(const struct ts_dq_cond *c, const struct ts_dq_env *env)
{
	char err[128];
	if (!c)
		return;
	FUZZ_CHECK(c->noperands >= 1);
	if (c->kind == TS_DQ_CK_STRING) {
		int r = ts_dq_cond_str(c, "a", 1);
		FUZZ_CHECK(r == (c->op == TS_DQ_OP_MATCHES ? -1 : r) && r >= -1 && r <= 1);
	} else {
		int r = ts_dq_cond_num(c, 1.5, env, err, sizeof(err));
		FUZZ_CHECK(r >= -1 && r <= 1);
		if (r < 0)
			FUZZ_CHECK(err[0] != '\0');
	}
	int r = ts_dq_cond_null(c);
	FUZZ_CHECK(r == 0 || r == 1);
}

static void poke_rule(const struct ts_dq_rule *r, const struct ts_dq_env *env, int depth)
{
	FUZZ_CHECK(depth < 1000);
	if (r->logic != TS_DQ_LEAF) {
		FUZZ_CHECK(r->nchildren >= 2);
		for (size_t i = 0; i < r->nchildren; i++) {
			FUZZ_CHECK(r->children[i]->logic != r->logic);
			poke_rule(r->children[i], env, depth + 1);
		}
		return;
	}
	FUZZ_CHECK(r->type && ts_dq_ruletype_find(r->type->name, r->nparams) == r->type);
	poke_cond(r->cond, env);
	poke_cond(r->threshold, env);
	if (r->threshold)
		FUZZ_CHECK(r->threshold->kind == TS_DQ_CK_NUMBER);
}

static char *print(const struct ts_dq_ruleset *rs, size_t *n)
{
	struct ts_buf b;
	ts_buf_init(&b, 0);
	FUZZ_CHECK(ts_dqdl_print(&b, rs) == 0);
	return ts_buf_detach(&b, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const double hist[] = {3, 1, 4, 1, 5};
	struct ts_dq_env env = {.now_ms = 1704110400000, .history = hist, .nhistory = 5};
	struct ts_dq_ruleset *rs, *rs2;
	char err[256];
	size_t n1, n2;

	if (ts_dqdl_parse((const char *)data, size, &rs, err, sizeof(err)) < 0) {
		FUZZ_CHECK(rs == NULL);
		check_error(err, data, size);
		return 0;
	}
	FUZZ_CHECK(rs->nrules + rs->nanalyzers > 0);
	for (size_t i = 0; i < rs->nrules; i++)
		poke_rule(rs->rules[i], &env, 0);
	char *p1 = print(rs, &n1);
	if (ts_dqdl_parse(p1, n1, &rs2, err, sizeof(err)) < 0) {
		fprintf(stderr, "the canonical form does not parse: %s\n%s\n", err, p1);
		FUZZ_CHECK(0);
	}
	char *p2 = print(rs2, &n2);
	if (n1 != n2 || memcmp(p1, p2, n1) != 0) {
		fprintf(stderr, "printed twice differently:\n%s\n%s\n", p1, p2);
		FUZZ_CHECK(0);
	}
	FUZZ_CHECK(rs2->nrules == rs->nrules && rs2->nanalyzers == rs->nanalyzers);
	free(p1);
	free(p2);
	ts_dqdl_free(rs2);
	ts_dqdl_free(rs);
	return 0;
}
