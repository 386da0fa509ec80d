/* test_dqdl.c — lib/dqdl.h: the reference cases (tests/data/dqdl), the rule
 * type table against rules-config.json, our own parse/print/error cases and
 * the evaluation helpers. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "dqdl.h"

#define DATA "tests/data/dqdl/"

/* Parse text; on success the canonical print of the whole ruleset in *out
 * (caller frees).  The print must parse again and print the same. */
static struct ts_dq_ruleset *parse(const char *text, char *err, size_t errlen)
{
	struct ts_dq_ruleset *rs;
	if (ts_dqdl_parse(text, strlen(text), &rs, err, errlen) < 0)
		return NULL;
	return rs;
}

static char *print_all(const struct ts_dq_ruleset *rs)
{
	struct ts_buf b;
	ts_buf_init(&b, 0);
	CHECK(ts_dqdl_print(&b, rs) == 0);
	return ts_buf_detach(&b, NULL);
}

static char *print_rule(const struct ts_dq_rule *r)
{
	struct ts_buf b;
	ts_buf_init(&b, 0);
	CHECK(ts_dqdl_print_rule(&b, r) == 0);
	return ts_buf_detach(&b, NULL);
}

/* The print of a ruleset parses to the same print. */
static void check_idempotent(const struct ts_dq_ruleset *rs, const char *src)
{
	char err[256];
	char *p1 = print_all(rs);
	struct ts_dq_ruleset *rs2 = parse(p1, err, sizeof(err));
	if (!CHECK(rs2 != NULL)) {
		fprintf(stderr, "    source: %s\n    print: %s\n    error: %s\n", src, p1, err);
		free(p1);
		return;
	}
	char *p2 = print_all(rs2);
	if (!CHECK_STR(p2, p1))
		fprintf(stderr, "    source: %s\n", src);
	free(p1);
	free(p2);
	ts_dqdl_free(rs2);
}

/* "line L, column C: reason" with L, C >= 1 and a reason. */
static int well_formed_error(const char *err)
{
	unsigned l, c;
	int n = 0;
	if (sscanf(err, "line %u, column %u: %n", &l, &c, &n) != 2 || n == 0)
		return 0;
	return l >= 1 && c >= 1 && err[n] != '\0';
}

static void test_valid_roundtrip(void)
{
	json_error_t je;
	FILE *f = fopen(DATA "valid-rules-roundtrip.jsonl", "r");
	char line[8192];
	unsigned n = 0, ok = 0;

	if (!CHECK(f != NULL))
		return;
	while (fgets(line, sizeof(line), f)) {
		json_t *j = json_loads(line, 0, &je);
		if (!CHECK(j != NULL))
			continue;
		const char *rule = json_string_value(json_object_get(j, "rule"));
		const char *text = json_string_value(json_object_get(j, "ruleset"));
		char err[256];
		n++;
		struct ts_dq_ruleset *rs = parse(text, err, sizeof(err));
		if (!CHECK(rs != NULL)) {
			fprintf(stderr, "    %s\n    %s\n", text, err);
		} else if (CHECK(rs->nrules == 1 && rs->nanalyzers == 0)) {
			char *p = print_rule(rs->rules[0]);
			if (CHECK_STR(p, rule))
				ok++;
			free(p);
			check_idempotent(rs, text);
		}
		ts_dqdl_free(rs);
		json_decref(j);
	}
	fclose(f);
	fprintf(stderr, "valid roundtrip: %u of %u\n", ok, n);
	CHECK(n == 99 && ok == n);
}

static void test_invalid(void)
{
	json_error_t je;
	FILE *f = fopen(DATA "invalid-rulesets.jsonl", "r");
	char line[8192];
	unsigned n = 0, ok = 0;

	if (!CHECK(f != NULL))
		return;
	while (fgets(line, sizeof(line), f)) {
		json_t *j = json_loads(line, 0, &je);
		if (!CHECK(j != NULL))
			continue;
		const char *text = json_string_value(json_object_get(j, "ruleset"));
		char err[256];
		struct ts_dq_ruleset *rs = NULL;
		n++;
		int rc = ts_dqdl_parse(text, strlen(text), &rs, err, sizeof(err));
		if (!CHECK(rc == -1 && rs == NULL)) {
			char *p = rs ? print_all(rs) : NULL;
			fprintf(stderr, "    accepted: %s\n    as: %s\n", text, p ? p : "");
			free(p);
			ts_dqdl_free(rs);
		} else if (CHECK(well_formed_error(err))) {
			ok++;
		} else {
			fprintf(stderr, "    %s\n    error: %s\n", text, err);
		}
		if (getenv("DQDL_SHOW_ERRORS"))
			fprintf(stderr, "%-70.70s  %s\n", text, err);
		json_decref(j);
	}
	fclose(f);
	fprintf(stderr, "invalid rejected: %u of %u\n", ok, n);
	CHECK(n == 59 && ok == n);
}

static unsigned ret_bits(const char *s)
{
	static const struct {
		const char *name;
		unsigned bit;
	} map[] = {
		{"BOOLEAN", TS_DQ_RET_BOOLEAN}, {"NUMBER", TS_DQ_RET_NUMBER},
		{"NUMBER_ARRAY", TS_DQ_RET_NUMBER_ARRAY}, {"STRING", TS_DQ_RET_STRING},
		{"STRING_ARRAY", TS_DQ_RET_STRING_ARRAY}, {"DATE", TS_DQ_RET_DATE},
		{"DATE_ARRAY", TS_DQ_RET_DATE_ARRAY}, {"DURATION", TS_DQ_RET_DURATION},
		{"DURATION_ARRAY", TS_DQ_RET_DURATION_ARRAY}, {"SIZE", TS_DQ_RET_SIZE},
	};
	unsigned bits = 0;
	while (*s) {
		size_t n = strcspn(s, "|");
		unsigned bit = 0;
		for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (strlen(map[i].name) == n && !memcmp(map[i].name, s, n))
				bit = map[i].bit;
		CHECK(bit != 0);
		bits |= bit;
		s += n + (s[n] == '|');
	}
	return bits;
}

static bool jbool(json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

/* Every entry of rules-config.json is in the table, in the same order, with
 * the same parameters and flags; and nothing else is. */
static void test_table(void)
{
	json_error_t je;
	json_t *cfg = json_load_file(DATA "rules-config.json", 0, &je);
	if (!CHECK(cfg != NULL))
		return;
	json_t *types = json_object_get(cfg, "rule_types");
	if (!CHECK(json_array_size(types) == ts_dq_nruletypes))
		fprintf(stderr, "    %zu in the file, %zu in the table\n", json_array_size(types),
			ts_dq_nruletypes);
	for (size_t i = 0; i < json_array_size(types) && i < ts_dq_nruletypes; i++) {
		json_t *t = json_array_get(types, i);
		const struct ts_dq_ruletype *rt = &ts_dq_ruletypes[i];
		json_t *params = json_object_get(t, "parameters");
		const char *scope = json_string_value(json_object_get(t, "scope"));
		bool var_arg = false;

		CHECK_STR(rt->name, json_string_value(json_object_get(t, "rule_type_name")));
		CHECK_STR(rt->description, json_string_value(json_object_get(t, "description")));
		CHECK(rt->nparams == json_array_size(params));
		for (size_t p = 0; p < json_array_size(params); p++) {
			json_t *pj = json_array_get(params, p);
			CHECK_STR(rt->param_names[p], json_string_value(json_object_get(pj, "name")));
			CHECK_STR(json_string_value(json_object_get(pj, "type")), "String");
			var_arg |= jbool(pj, "is_var_arg");
		}
		CHECK(rt->var_arg == var_arg);
		CHECK(rt->returns == ret_bits(json_string_value(json_object_get(t, "return_type"))));
		CHECK(rt->threshold == jbool(t, "is_threshold_supported"));
		CHECK(rt->where == jbool(t, "is_where_clause_supported"));
		CHECK(rt->analyzer_only == jbool(t, "is_analyzer_only"));
		CHECK(rt->excluded_row_level_in_composite ==
		      jbool(t, "is_excluded_at_row_level_in_composite_rules"));
		CHECK(rt->experimental == jbool(t, "experimental"));
		CHECK(rt->scope == (!strcmp(scope, "table")    ? TS_DQ_SCOPE_TABLE
				    : !strcmp(scope, "column") ? TS_DQ_SCOPE_COLUMN
							       : TS_DQ_SCOPE_FILE));
		CHECK(ts_dq_ruletype_find(rt->name, rt->nparams) == rt);
		CHECK(rt->id < TS_DQ_NTYPES);
		if (i)
			CHECK(rt->id >= ts_dq_ruletypes[i - 1].id);
	}
	json_decref(cfg);
	CHECK(ts_dq_ruletype_find("Uniqueness", 5) != NULL);
	CHECK(ts_dq_ruletype_find("Uniqueness", 0) == NULL);
	CHECK(ts_dq_ruletype_find("Nope", 0) == NULL);
}

int main(void)
{
	test_table();
	test_valid_roundtrip();
	test_invalid();
	return check_done();
}
