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


/* `Rules = [ in ]` parses to one rule printed as want (NULL: as in). */
static void rt_(const char *in, const char *want, int line)
{
	char text[4096], err[256];
	snprintf(text, sizeof(text), "Rules = [ %s ]", in);
	struct ts_dq_ruleset *rs = parse(text, err, sizeof(err));
	if (!check_(rs != NULL, __FILE__, line, "parses")) {
		fprintf(stderr, "    %s\n    %s\n", in, err);
		return;
	}
	if (check_(rs->nrules == 1, __FILE__, line, "one rule")) {
		char *p = print_rule(rs->rules[0]);
		check_str_(p, want ? want : in, __FILE__, line, "canonical form");
		free(p);
		check_idempotent(rs, text);
	}
	ts_dqdl_free(rs);
}
#define RT(in, want) rt_((in), (want), __LINE__)

/* text is rejected with an error that contains want (which starts with
 * "line L, column C: " when the place matters). */
static void rej_(const char *text, const char *want, int line)
{
	char err[256];
	struct ts_dq_ruleset *rs = NULL;
	int rc = ts_dqdl_parse(text, strlen(text), &rs, err, sizeof(err));
	if (!check_(rc == -1 && rs == NULL, __FILE__, line, "rejected")) {
		fprintf(stderr, "    accepted: %s\n", text);
		ts_dqdl_free(rs);
		return;
	}
	check_(well_formed_error(err), __FILE__, line, "line, column: reason");
	if (!check_(strstr(err, want) != NULL, __FILE__, line, "message"))
		fprintf(stderr, "    %s\n    got:  %s\n    want: %s\n", text, err, want);
}
#define REJ(text, want) rej_((text), (want), __LINE__)

static void test_document(void)
{
	static const char text[] =
		"# a comment before everything\r\n"
		"Metadata = { \"Version\": \"1.0\" }\n"
		"DataSources = { \"Primary\": \"orders\", \"AdditionalDataSources\": [\"ref\", \"b\"] }\n"
		"DefaultLabels = [\"team\"=\"data\", \"tier\"=\"1\"]\n"
		"codes = [\"A\", \"B\", NULL]   # a list variable\n"
		"col = \"order \\\"id\\\"\"\n"
		"Rules = [\n"
		"    IsComplete $col,\n"
		"\tColumnValues \"code\" in $codes where \"x > 1\" labels=[\"k\"=\"v\"], # trailing comment\n"
		"    (RowCount > 0) and (Mean \"price\" between 1 and 2.50)\n"
		"]\n"
		"Analyzers = [ AllStatistics \"price\", RowCount ]\n";
	char err[256];
	struct ts_dq_ruleset *rs = parse(text, err, sizeof(err));
	if (!CHECK(rs != NULL)) {
		fprintf(stderr, "    %s\n", err);
		return;
	}
	CHECK_STR(rs->version, "1.0");
	CHECK_STR(rs->primary_source, "orders");
	CHECK(rs->nadditional_sources == 2 && !strcmp(rs->additional_sources[1], "b"));
	CHECK(rs->ndefault_labels == 2 && !strcmp(rs->default_labels[1].value, "1"));
	CHECK(rs->nrules == 3 && rs->nanalyzers == 2);
	CHECK(rs->has_rules && rs->has_analyzers);
	struct ts_dq_rule *r = rs->rules[0];
	CHECK(r->line == 8 && r->column == 5);
	CHECK(r->type->id == TS_DQ_ISCOMPLETE && r->nparams == 1 && r->params[0].quoted);
	CHECK_STR(r->params[0].text, "order \\\"id\\\"");
	CHECK_MEM(r->params[0].val, r->params[0].vlen, "order \"id\"", 10);
	r = rs->rules[1];
	CHECK(r->line == 9 && r->column == 2);
	CHECK(r->cond && r->cond->kind == TS_DQ_CK_STRING && r->cond->op == TS_DQ_OP_IN &&
	      r->cond->noperands == 3 && r->cond->operands[2]->kind == TS_DQ_E_NULL);
	CHECK_STR(r->where, "x > 1");
	CHECK(r->nlabels == 1);
	r = rs->rules[2];
	CHECK(r->logic == TS_DQ_AND && r->nchildren == 2 && r->line == 10 && r->column == 5);
	CHECK(r->children[1]->column == 25 && r->children[1]->type->id == TS_DQ_MEAN);
	CHECK(rs->analyzers[0]->type->id == TS_DQ_ALLSTATISTICS && !rs->analyzers[0]->cond);

	char *p = print_all(rs);
	CHECK_STR(p, "DefaultLabels = [\"team\"=\"data\",\"tier\"=\"1\"]\n"
		     "Rules = [\n"
		     "    IsComplete \"order \\\"id\\\"\",\n"
		     "    ColumnValues \"code\" in [\"A\",\"B\",NULL] where \"x > 1\" "
		     "labels=[\"k\"=\"v\"],\n"
		     "    (RowCount > 0) AND (Mean \"price\" between 1 and 2.50)\n"
		     "]\n"
		     "Analyzers = [\n"
		     "    AllStatistics \"price\",\n"
		     "    RowCount\n"
		     "]\n");
	free(p);
	check_idempotent(rs, text);
	ts_dqdl_free(rs);

	/* only analyzers: no Rules section printed */
	rs = parse("Analyzers = [ Completeness \"a\" ]", err, sizeof(err));
	if (CHECK(rs != NULL)) {
		p = print_all(rs);
		CHECK_STR(p, "Analyzers = [\n    Completeness \"a\"\n]\n");
		free(p);
		CHECK(!rs->has_rules && rs->nrules == 0);
		ts_dqdl_free(rs);
	}
	/* empty Rules next to analyzers is fine */
	rs = parse("Rules = [] Analyzers = [ RowCount ]", err, sizeof(err));
	if (CHECK(rs != NULL)) {
		p = print_all(rs);
		CHECK_STR(p, "Rules = [\n]\nAnalyzers = [\n    RowCount\n]\n");
		free(p);
		check_idempotent(rs, "Rules = [] Analyzers = [ RowCount ]");
		ts_dqdl_free(rs);
	}
	/* a comment on the last line without a newline */
	rs = parse("Rules = [ RowCount > 1 ] # end", err, sizeof(err));
	CHECK(rs != NULL);
	ts_dqdl_free(rs);
}

static void test_forms(void)
{
	/* composite rules: and binds tighter; chains of one operator flatten */
	RT("(RowCount > 0) and (IsComplete \"a\") and (IsUnique \"a\")",
	   "(RowCount > 0) AND (IsComplete \"a\") AND (IsUnique \"a\")");
	RT("((RowCount > 0) or (IsComplete \"a\")) or (IsUnique \"a\")",
	   "(RowCount > 0) OR (IsComplete \"a\") OR (IsUnique \"a\")");
	RT("(RowCount > 0) or (IsComplete \"a\") and (IsUnique \"a\")",
	   "(RowCount > 0) OR ((IsComplete \"a\") AND (IsUnique \"a\"))");
	RT("(RowCount > 0) and ((IsComplete \"a\") or (IsUnique \"a\"))",
	   "(RowCount > 0) AND ((IsComplete \"a\") OR (IsUnique \"a\"))");
	RT("((((RowCount > 0))))", "RowCount > 0");
	RT("RowCount > 0 and IsComplete \"a\"", "(RowCount > 0) AND (IsComplete \"a\")");
	RT("IsComplete \"a\" and IsUnique \"b\" or ColumnExists \"c\"",
	   "((IsComplete \"a\") AND (IsUnique \"b\")) OR (ColumnExists \"c\")");
	/* `and` before a parameter that is not a rule type connects it */
	RT("ColumnCorrelation of \"a\" and \"b\" > 0.5", NULL);
	RT("ColumnCorrelation OF a AND b between -1 and 1", NULL);
	RT("IsUnique \"a\" \"b\" \"c\" \"d\"", NULL);

	/* numbers: one precedence, left to right; parentheses kept around
	 * operations only; literals exactly as written */
	RT("RowCount > 1 + 2 * 3", NULL);
	RT("RowCount > (1 + 2) * 3", NULL);
	RT("RowCount > 1 + (2 * 3)", NULL);
	RT("RowCount > ((1 + 2))", "RowCount > (1 + 2)");
	RT("RowCount > (5)", "RowCount > 5");
	RT("RowCount > (avg(last(3)))", "RowCount > avg(last(3))");
	RT("RowCount = - 5", "RowCount = -5");
	RT("RowCount = 5--3", "RowCount = 5 - -3");
	RT("RowCount > 0007.500", NULL);
	RT("RowCount in [1,2.0,-3]", NULL);
	RT("RowCount not in [ 1 , 2 ]", "RowCount not in [1,2]");
	RT("RowCount not between 1 and 10", NULL);
	RT("RowCount ! = 3", "RowCount != 3");
	RT("RowCount > index(last(5), 1) / max(last(5),1)", "RowCount > index(last(5),1) / max(last(5),1)");
	RT("RowCount > foo()", NULL);
	RT("RowCount = null", "RowCount = NULL");
	RT("Completeness \"a\" > 0.5 where \"a = \\\"x\\\"\"", NULL);

	/* strings and keywords */
	RT("ColumnValues \"a\" = empty", "ColumnValues \"a\" = EMPTY");
	RT("ColumnValues \"a\" in [whitespaces_only,null,\"x\"]",
	   "ColumnValues \"a\" in [WHITESPACES_ONLY,NULL,\"x\"]");
	RT("ColumnValues \"a\" matches \"\\\\d+\"", NULL);
	RT("ColumnValues \"a\" = \"with \\\"quotes\\\"\"", NULL);
	RT("ColumnDataType \"a\" = \"Integer\" with threshold >= 0.9", NULL);
	RT("ColumnDataType \"a\" = \"Integer\" with THRESHOLD >= 0.9",
	   "ColumnDataType \"a\" = \"Integer\" with threshold >= 0.9");
	RT("ColumnValues \"a\" > 5 with threshold > 0.5 where \"b > 1\"",
	   "ColumnValues \"a\" > 5 where \"b > 1\" with threshold > 0.5");
	RT("CustomSql \"select count(*) from primary\" between 10 and 20", NULL);
	RT("CustomSql \"select id from primary where id > 0\" with threshold > 0.9", NULL);
	RT("CustomSql \"select 1\"", NULL);

	/* dates, durations, sizes */
	RT("ColumnValues \"d\" > \"2024-02-29\"", NULL);
	RT("ColumnValues \"d\" between (now() - 7 days) and (now() + 30 minutes)", NULL);
	RT("ColumnValues \"d\" not in [\"2024-01-01\",NULL]", NULL);
	RT("ColumnValues \"d\" > \"12:00 AM\" with timeZone = \"+05:30\"", NULL);
	RT("DataFreshness \"d\" not between 1 hours and 2 days", NULL);
	RT("DataFreshness \"d\" in [1 days,2 days]", NULL);
	RT("FileSize > 5", "FileSize > 5 B");
	RT("FileSize \"/data/x.json\" between 1 KB and 2 TB", NULL);
	RT("FileFreshness > (now() - 3 hours) with threshold > 0.5", NULL);
	RT("FileMatch \"a\" \"b\" with hash = \"SHA-256\" with n = 5", NULL);

	/* labels */
	RT("RowCount > 1 labels=[\"a\"=\"1\",\"b\"=\"2\"]", NULL);
	RT("RowCount > 1 labels = [ \"a\" = \"1\" ] where \"x > 1\"",
	   "RowCount > 1 where \"x > 1\" labels=[\"a\"=\"1\"]");

	/* parameters: quoted or not, connectors kept */
	RT("DetectAnomalies of Completeness of \"colA\"", NULL);
	RT("Completeness of a.b_c between 0.1 and 0.2", NULL);
}

static void test_variables(void)
{
	char err[256];
	static const char text[] =
		"list = [\"A\", EMPTY]\n"
		"one = \"x\"\n"
		"nul = NULL\n"
		"Rules = [ ColumnValues \"a\" not in $list, ColumnValues $one = $one,"
		" ColumnValues \"b\" in [$one, \"y\"], ColumnValues \"c\" = $nul ]";
	struct ts_dq_ruleset *rs = parse(text, err, sizeof(err));
	if (!CHECK(rs != NULL)) {
		fprintf(stderr, "    %s\n", err);
		return;
	}
	char *p = print_all(rs);
	CHECK_STR(p, "Rules = [\n"
		     "    ColumnValues \"a\" not in [\"A\",EMPTY],\n"
		     "    ColumnValues \"x\" = \"x\",\n"
		     "    ColumnValues \"b\" in [\"x\",\"y\"],\n"
		     "    ColumnValues \"c\" = NULL\n"
		     "]\n");
	free(p);
	/* a variable is its value written in place: NULL is a number NULL */
	CHECK(rs->rules[3]->cond->kind == TS_DQ_CK_NUMBER);
	CHECK(rs->rules[0]->cond->kind == TS_DQ_CK_STRING);
	ts_dqdl_free(rs);
	REJ("n = NULL\nRules = [ ColumnDataType \"a\" = $n ]",
	    "ColumnDataType needs a string condition, not a number");
	rs = parse("n = [NULL]\nRules = [ ColumnValues \"a\" in $n ]", err, sizeof(err));
	if (CHECK(rs != NULL))
		CHECK(rs->rules[0]->cond->kind == TS_DQ_CK_NUMBER);
	ts_dqdl_free(rs);

	REJ("l = [\"a\"]\nRules = [ ColumnValues \"a\" = $l ]",
	    "line 2, column 30: variable 'l' is a list");
	REJ("l = [\"a\"]\nRules = [ IsComplete $l ]", "line 2, column 22: variable 'l' is not a quoted");
	REJ("l = [$m]\nRules = [ RowCount > 1 ]", "line 1, column 6: nested variables");
	REJ("Rules = [ ColumnValues \"a\" in $nope ]", "line 1, column 31: undefined variable 'nope'");
	REJ("Rules = [ RowCount > 1 ]\nx = \"a\"", "line 2, column 1: expected Analyzers");
	REJ("_x = \"a\"\nRules = [ RowCount > 1 ]", "cannot start with '.' or '_'");
}

static void test_errors(void)
{
	REJ("", "line 1, column 1: no Rules");
	REJ("# only a comment\n", "line 2, column 1: no Rules");
	REJ("Rules = [\n  RowCount > 1,\n  Nope \"x\"\n]", "line 3, column 3: unknown rule type 'Nope'");
	REJ("Rules = [\n  IsUnique \"a\" > 1\n]", "line 2, column 16: IsUnique takes no condition");
	REJ("Rules = [ RowCount > \"x ]", "line 1, column 22: string not closed");
	REJ("Rules = [ RowCount > 1 ]\x01", "line 1, column 25: unexpected byte 0x01");
	REJ("Rules = [ RowCount ~ 1 ]", "unexpected character '~'");
	{
		/* a NUL inside a string would cut its printed form short */
		static const char nul[] = "Rules = [ IsUnique \"a\0b\" ]";
		struct ts_dq_ruleset *rs;
		char err[128];
		CHECK(ts_dqdl_parse(nul, sizeof(nul) - 1, &rs, err, sizeof(err)) == -1);
		CHECK_STR(err, "line 1, column 22: a string cannot hold a NUL byte");
	}
	REJ("Rules = [ ColumnValues \"a\" > \"x\" ]", "strings are compared only with");
	REJ("Rules = [ ColumnValues \"a\" between \"x\" and 5 ]", "different types");
	REJ("Rules = [ ColumnValues \"a\" = \"2024-02-30\" ]", "no such date \"2024-02-30\"");
	REJ("Rules = [ ColumnValues \"a\" = \"13:50 AM\" ]", "no such time \"13:50 AM\"");
	REJ("Rules = [ ColumnValues \"a\" = \"24:00\" ]", "no such time \"24:00\"");
	REJ("Rules = [ ColumnValues \"a\" > (now() * 3 days) ]", "expected '+' or '-'");
	REJ("Rules = [ ColumnValues \"a\" > (now() - 3 weeks) ]", "expected days, hours or minutes");
	REJ("Rules = [ DataFreshness \"a\" > 3000000000 days ]", "number too large");
	REJ("Rules = [ FileSize > 1.5 ]", "a size is a whole number");
	REJ("Rules = [ ColumnDataType \"a\" = 5 ]", "ColumnDataType needs a string condition, not a number");
	REJ("Rules = [ RowCount > 1 with threshold > 0.5 ]", "RowCount does not take a threshold");
	REJ("Rules = [ ColumnValues \"a\" = 1 with threshold = \"x\" ]", "a threshold is a number");
	REJ("Rules = [ ColumnValues \"a\" = 1 with tz = 1 with tz = 2 ]", "duplicate tag 'tz'");
	REJ("Rules = [ FileFreshness > \"21:45\" with timeZone = \"Nowhere/Zone\" ]",
	    "unknown time zone \"Nowhere/Zone\"");
	REJ("Rules = [ RowCount > 1 where \"x\" where \"y\" ]", "one where clause");
	REJ("Rules = [ RowCount > 1 where \"\" ]", "empty where clause");
	REJ("Rules = [ RowCount > 1 labels=[] ]", "at least one label");
	REJ("Rules = [ RowCount > 1 labels=[\"a\"=\"1\",\"a\"=\"2\"] ]", "duplicate label key \"a\"");
	REJ("Rules = [ RowCount > 1 labels=[\"a\"=\"\"] ]", "cannot be empty");
	REJ("DefaultLabels = [\"1\"=\"1\",\"2\"=\"2\",\"3\"=\"3\",\"4\"=\"4\",\"5\"=\"5\",\"6\"=\"6\"]\n"
	    "Rules = [ RowCount > 1 labels=[\"a\"=\"1\",\"b\"=\"1\",\"c\"=\"1\",\"d\"=\"1\",\"e\"=\"1\"] ]",
	    "line 2, column 24: more than 10 labels");
	REJ("Rules = [ RowCount > 1 ] Rules = [ RowCount > 2 ]", "Rules comes once");
	REJ("Rules = [ RowCount > 1 ] Metadata = { \"Version\": \"1\" }", "before Rules");
	REJ("Metadata = { \"Owner\": \"me\" } Rules = [ RowCount > 1 ]", "unsupported key \"Owner\"");
	REJ("DataSources = { \"AdditionalDataSources\": \"x\" } Rules = [ RowCount > 1 ]",
	    "AdditionalDataSources is a list");
	REJ("Analyzers = [ IsComplete \"a\" ]", "IsComplete is not an analyzer");
	REJ("Analyzers = [ Nope ]", "unknown analyzer type 'Nope'");
	REJ("Rules = [ (RowCount > 1 ]", "line 1, column 25: expected ')' after the rule");
	REJ("Rules = [ RowCount > avg(1,] ]", "expected a number");
	REJ("Rules = [ RowCount > - x ]", "expected a number after '-'");

	/* nesting far past any real rule is an error, not a deep recursion */
	char deep[3000];
	size_t o = (size_t)snprintf(deep, sizeof(deep), "Rules = [ ");
	for (int i = 0; i < 1000; i++)
		deep[o++] = '(';
	snprintf(deep + o, sizeof(deep) - o, "RowCount > 1");
	REJ(deep, "nesting too deep");
	o = (size_t)snprintf(deep, sizeof(deep), "Rules = [ RowCount > ");
	for (int i = 0; i < 1000; i++)
		deep[o++] = '(';
	snprintf(deep + o, sizeof(deep) - o, "1");
	REJ(deep, "nesting too deep");

	/* a short error buffer is cut, not overrun */
	char small[12];
	struct ts_dq_ruleset *rs;
	CHECK(ts_dqdl_parse("Rules = [ ]", 11, &rs, small, sizeof(small)) == -1);
	CHECK_STR(small, "line 1, col");
	CHECK(ts_dqdl_parse("Rules = [ ]", 11, &rs, NULL, 0) == -1);
	/* the text needs no NUL */
	CHECK(ts_dqdl_parse("Rules = [ RowCount > 1 ]xyz", 24, &rs, small, sizeof(small)) == 0);
	ts_dqdl_free(rs);
	ts_dqdl_free(NULL);
}

/* The condition of `Rules = [ rule ]` (the ruleset in *keep, to free). */
static const struct ts_dq_cond *cond_of(const char *rule, struct ts_dq_ruleset **keep,
					int threshold)
{
	char text[1024], err[256];
	snprintf(text, sizeof(text), "Rules = [ %s ]", rule);
	*keep = parse(text, err, sizeof(err));
	if (!CHECK(*keep != NULL)) {
		fprintf(stderr, "    %s\n    %s\n", rule, err);
		return NULL;
	}
	return threshold ? (*keep)->rules[0]->threshold : (*keep)->rules[0]->cond;
}

static int num_(const char *rule, double x, const struct ts_dq_env *env)
{
	struct ts_dq_ruleset *rs;
	char err[128];
	const struct ts_dq_cond *c = cond_of(rule, &rs, 0);
	int r = c ? ts_dq_cond_num(c, x, env, err, sizeof(err)) : -2;
	if (r == -1)
		CHECK(err[0] != '\0');
	ts_dqdl_free(rs);
	return r;
}

static int str_(const char *rule, const char *s)
{
	struct ts_dq_ruleset *rs;
	const struct ts_dq_cond *c = cond_of(rule, &rs, 0);
	int r = c ? ts_dq_cond_str(c, s, strlen(s)) : -2;
	ts_dqdl_free(rs);
	return r;
}

static int null_(const char *rule)
{
	struct ts_dq_ruleset *rs;
	const struct ts_dq_cond *c = cond_of(rule, &rs, 0);
	int r = c ? ts_dq_cond_null(c) : -2;
	ts_dqdl_free(rs);
	return r;
}

/* The value of the one operand of `RowCount = expr`. */
static double val_(const char *expr, const struct ts_dq_env *env, int *rc)
{
	char rule[512], err[128];
	struct ts_dq_ruleset *rs;
	double v = NAN;
	snprintf(rule, sizeof(rule), "%s", expr);
	const struct ts_dq_cond *c = cond_of(rule, &rs, 0);
	*rc = c ? ts_dq_expr_eval(c->operands[0], env, &v, err, sizeof(err)) : -2;
	ts_dqdl_free(rs);
	return v;
}

static void test_eval(void)
{
	static const double hist[] = {10, 20, 30, 40};
	/* 2024-01-01T12:00:00Z */
	struct ts_dq_env env = {.now_ms = 1704110400000, .history = hist, .nhistory = 4};
	struct ts_dq_env none = {.now_ms = 1704110400000};
	int rc;

	/* between is exclusive at both ends */
	CHECK(num_("RowCount between 1 and 3", 1, &env) == 0);
	CHECK(num_("RowCount between 1 and 3", 2, &env) == 1);
	CHECK(num_("RowCount between 1 and 3", 3, &env) == 0);
	CHECK(num_("RowCount not between 1 and 3", 3, &env) == 1);
	CHECK(num_("RowCount not between 1 and 3", 2, &env) == 0);
	CHECK(num_("RowCount >= 2", 2, &env) == 1);
	CHECK(num_("RowCount > 2", 2, &env) == 0);
	CHECK(num_("RowCount <= 2", 2, &env) == 1);
	CHECK(num_("RowCount < 2", 2, &env) == 0);
	CHECK(num_("RowCount = 2.0", 2, &env) == 1);
	CHECK(num_("RowCount != 2", 2, &env) == 0);
	CHECK(num_("RowCount in [1,NULL,3]", 3, &env) == 1);
	CHECK(num_("RowCount not in [1,NULL,3]", 2, &env) == 1);
	CHECK(num_("RowCount = NULL", 2, &env) == 0);
	CHECK(num_("RowCount != NULL", 2, &env) == 1);
	/* one precedence, left to right */
	CHECK(num_("RowCount = 1 + 2 * 3", 9, &env) == 1);
	CHECK(num_("RowCount = 1 + (2 * 3)", 7, &env) == 1);
	CHECK(num_("RowCount = 5 - -3", 8, &env) == 1);
	CHECK(num_("RowCount = 7 / 2", 3.5, &env) == 1);
	/* dynamic functions over the history, most recent first */
	CHECK(num_("RowCount = avg(last(3))", 20, &env) == 1);
	CHECK(num_("RowCount = average(last(10))", 25, &env) == 1);
	CHECK(num_("RowCount = max(last(2))", 20, &env) == 1);
	CHECK(num_("RowCount = min(last(4))", 10, &env) == 1);
	CHECK(num_("RowCount = sum(last(4))", 100, &env) == 1);
	CHECK(num_("RowCount = median(last(4))", 25, &env) == 1);
	CHECK(num_("RowCount = index(last(4),2)", 30, &env) == 1);
	CHECK(num_("RowCount = last(1)", 10, &env) == 1);
	CHECK(num_("RowCount = abs(-3)", 3, &env) == 1);
	CHECK(num_("RowCount between 0.9 * avg(last(2)) and 1.1 * avg(last(2))", 15, &env) == 1);
	double sd = val_("RowCount = std(last(4))", &env, &rc);
	CHECK(rc == 0 && fabs(sd - sqrt(125.0)) < 1e-12);
	CHECK(num_("RowCount = avg(std(last(4)))", sd, &env) == 1);
	CHECK(num_("RowCount = avg(last(3))", 20, &none) == -1);
	CHECK(num_("RowCount = last(3)", 20, &env) == -1);
	CHECK(num_("RowCount = index(last(4),4)", 20, &env) == -1);
	CHECK(num_("RowCount = frobnicate(1)", 20, &env) == -1);
	CHECK(num_("RowCount = last(0)", 20, &env) == -1);

	/* dates in ms since the epoch; durations in ms; sizes in bytes */
	CHECK(val_("ColumnValues \"d\" = \"2024-01-01\"", &env, &rc) == 1704067200000.0 && rc == 0);
	CHECK(val_("ColumnValues \"d\" = now()", &env, &rc) == 1704110400000.0 && rc == 0);
	CHECK(val_("ColumnValues \"d\" = (now() - 3 days)", &env, &rc) ==
	      1704110400000.0 - 3 * 86400e3);
	CHECK(val_("ColumnValues \"d\" = (now() + 30 minutes)", &env, &rc) ==
	      1704110400000.0 + 1800e3);
	CHECK(val_("ColumnValues \"d\" = \"9:30 PM\"", &env, &rc) == 1704144600000.0 && rc == 0);
	CHECK(val_("ColumnValues \"d\" = \"12:05 AM\"", &env, &rc) == 1704067500000.0);
	CHECK(val_("ColumnValues \"d\" = \"12:05 PM\"", &env, &rc) == 1704110700000.0);
	CHECK(val_("ColumnValues \"d\" = \"07:00\"", &env, &rc) == 1704092400000.0);
	CHECK(val_("DataFreshness \"d\" = 2 hours", &env, &rc) == 7200e3);
	CHECK(val_("FileSize = 3 KB", &env, &rc) == 3072);
	CHECK(val_("FileSize = 1 TB", &env, &rc) == 1099511627776.0);
	CHECK(val_("FileSize = 7", &env, &rc) == 7);
	CHECK(num_("DataFreshness \"d\" <= 1 days", 86400e3, &env) == 1);
	/* a time is today in the rule's time zone (21:45 at +02:00 is 19:45Z) */
	{
		struct ts_dq_ruleset *rs;
		const struct ts_dq_cond *c =
			cond_of("FileFreshness > \"21:45\" with timeZone = \"+02:00\"", &rs, 0);
		if (c) {
			struct ts_dq_env e2 = env;
			double v;
			char err[128];
			e2.time_zone = ts_dq_rule_time_zone(rs->rules[0]);
			CHECK_STR(e2.time_zone, "+02:00");
			CHECK(ts_dq_expr_eval(c->operands[0], &e2, &v, err, sizeof(err)) == 0 &&
			      v == 1704138300000.0);
			/* 01:00 at +05:00 on the 1st, UTC noon: the local date is
			 * still the 1st: 2023-12-31T20:00Z */
			e2.time_zone = "+05:00";
			struct ts_dq_ruleset *rs2;
			const struct ts_dq_cond *c2 = cond_of("FileFreshness > \"01:00\"", &rs2, 0);
			if (c2)
				CHECK(ts_dq_expr_eval(c2->operands[0], &e2, &v, err, sizeof(err)) == 0 &&
				      v == 1704052800000.0);
			ts_dqdl_free(rs2);
			CHECK(ts_dq_rule_time_zone(rs->rules[0]) != NULL);
		}
		ts_dqdl_free(rs);
	}

	/* strings */
	CHECK(str_("ColumnValues \"a\" = \"x\"", "x") == 1);
	CHECK(str_("ColumnValues \"a\" = \"x\"", "x ") == 0);
	CHECK(str_("ColumnValues \"a\" != \"x\"", "y") == 1);
	CHECK(str_("ColumnValues \"a\" = \"q\\\"\"", "q\"") == 1);
	CHECK(str_("ColumnValues \"a\" = EMPTY", "") == 1);
	CHECK(str_("ColumnValues \"a\" = EMPTY", " ") == 0);
	CHECK(str_("ColumnValues \"a\" = WHITESPACES_ONLY", " \t\r\n") == 1);
	CHECK(str_("ColumnValues \"a\" = WHITESPACES_ONLY", "") == 0);
	CHECK(str_("ColumnValues \"a\" = WHITESPACES_ONLY", " a ") == 0);
	CHECK(str_("ColumnValues \"a\" in [\"a\",\"b\",EMPTY]", "b") == 1);
	CHECK(str_("ColumnValues \"a\" not in [\"a\",\"b\",EMPTY]", "") == 0);
	CHECK(str_("ColumnValues \"a\" not in [\"a\",NULL]", "c") == 1);
	CHECK(str_("ColumnValues \"a\" matches \"x\"", "x") == -1);
	CHECK(str_("ColumnValues \"a\" = 5", "5") == -1);
	/* nulls */
	CHECK(null_("ColumnValues \"a\" = NULL") == 1);
	CHECK(null_("ColumnValues \"a\" != NULL") == 0);
	CHECK(null_("ColumnValues \"a\" in [\"x\",NULL]") == 1);
	CHECK(null_("ColumnValues \"a\" not in [\"x\",NULL]") == 0);
	CHECK(null_("ColumnValues \"a\" not in [\"x\"]") == 0);
	CHECK(null_("ColumnValues \"a\" != \"x\"") == 0);
	CHECK(null_("ColumnValues \"a\" > 3") == 0);
	CHECK(null_("ColumnValues \"a\" not between 1 and 2") == 0);
	CHECK(null_("ColumnValues \"a\" in [NULL,\"2024-01-01\"]") == 1);
}

int main(void)
{
	test_table();
	test_valid_roundtrip();
	test_invalid();
	test_document();
	test_forms();
	test_variables();
	test_errors();
	test_eval();
	return check_done();
}
