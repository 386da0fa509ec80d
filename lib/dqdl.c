/*
 * dqdl.c — the DQDL parser, canonical printer and condition helpers.
 *
 * The text is cut into tokens first (the way the reference lexer does:
 * longest match, keywords win over names of the same length), then a
 * recursive-descent parser builds the tree in an arena, so an error at any
 * depth just returns and ts_dqdl_parse() frees the arena once.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dqdl.h"
#include "tstime.h"

/* ---- the rule type table (mirrors rules-config.json; a unit test checks
 * every entry against that file) --------------------------------------------- */

static const char *const pn_rowcountmatch_1[] = {"ReferenceDatasetAlias"};
static const char *const pn_target[] = {"TargetColumn"};
static const char *const pn_pattern[] = {"PatternToMatch"};
static const char *const pn_columncorrelation_2[] = {"TargetColumn1", "TargetColumn2"};
static const char *const pn_customsql_1[] = {"CustomSqlStatement"};
static const char *const pn_referentialintegrity_2[] = {"PrimaryDatasetColumns",
							"ReferenceDatasetColumns"};
static const char *const pn_datasetmatch_3[] = {"ReferenceDatasetAlias", "KeyColumnMappings",
						"MatchColumnMappings"};
static const char *const pn_aggregatematch_2[] = {"AggregateExpression1",
						  "AggregateExpression2"};
static const char *const pn_detectanomalies_1[] = {"MetricParameter"};
static const char *const pn_filematch_2[] = {"DataPath", "CompareDataPath"};

#define T_ TS_DQ_SCOPE_TABLE
#define C_ TS_DQ_SCOPE_COLUMN
#define F_ TS_DQ_SCOPE_FILE
#define NUM_ TS_DQ_RET_NUMBER
#define BOOL_ TS_DQ_RET_BOOLEAN

/* name, id, nparams, var_arg, param names, returns, threshold, where,
 * analyzer_only, excluded_row_level_in_composite, experimental, scope */
const struct ts_dq_ruletype ts_dq_ruletypes[] = {
	{"RowCount", TS_DQ_ROWCOUNT, 0, false, NULL, NUM_, false, true, false, false, false, T_,
	 "Check the number of rows in the dataset"},
	{"RowCountMatch", TS_DQ_ROWCOUNTMATCH, 1, false, pn_rowcountmatch_1, NUM_, false, false,
	 false, false, false, C_,
	 "Checks the percentage match of the row count of the primary dataset against a "
	 "reference dataset"},
	{"ColumnCount", TS_DQ_COLUMNCOUNT, 0, false, NULL, NUM_, false, false, false, false, false,
	 T_, "Checks the number of columns in the dataset"},
	{"Completeness", TS_DQ_COMPLETENESS, 1, false, pn_target, NUM_, false, true, false, true,
	 false, C_, "Check the percentage of complete (non-null) values in a given column"},
	{"IsComplete", TS_DQ_ISCOMPLETE, 1, false, pn_target, BOOL_, false, true, false, false,
	 false, C_, "Check if all values in a given column are complete (non-null)"},
	{"ColumnDataType", TS_DQ_COLUMNDATATYPE, 1, false, pn_target, TS_DQ_RET_STRING, true, true,
	 false, false, false, C_,
	 "Check the data type of the given column. Supported values: Boolean, Date, Timestamp, "
	 "Integer, Double, Float, Long"},
	{"ColumnNamesMatchPattern", TS_DQ_COLUMNNAMESMATCHPATTERN, 1, false, pn_pattern, BOOL_,
	 false, false, false, false, false, T_,
	 "Checks if the names of the columns in the dataset match a given pattern"},
	{"ColumnExists", TS_DQ_COLUMNEXISTS, 1, false, pn_target, BOOL_, false, false, false,
	 false, false, C_, "Check the existence of a given column"},
	{"ColumnCorrelation", TS_DQ_COLUMNCORRELATION, 2, false, pn_columncorrelation_2, NUM_,
	 false, true, false, false, false, C_, "Check the correlation between two given columns"},
	{"Uniqueness", TS_DQ_UNIQUENESS, 1, true, pn_target, NUM_, false, true, false, true, false,
	 C_, "Check the percentage of unique values in a given column"},
	{"IsUnique", TS_DQ_ISUNIQUE, 1, true, pn_target, BOOL_, false, true, false, false, false,
	 C_, "Check if all values in a given column are unique"},
	{"Mean", TS_DQ_MEAN, 1, false, pn_target, NUM_, false, true, false, false, false, C_,
	 "Check the mean (average) of all values in a given column"},
	{"Sum", TS_DQ_SUM, 1, false, pn_target, NUM_, false, true, false, false, false, C_,
	 "Check the sum of all values in a given column"},
	{"StandardDeviation", TS_DQ_STANDARDDEVIATION, 1, false, pn_target, NUM_, false, true,
	 false, false, false, C_, "Check the standard deviation of all values in a given column"},
	{"Variance", TS_DQ_VARIANCE, 1, false, pn_target, NUM_, false, true, false, false, false,
	 C_, "Check the variance of all values in a given column"},
	{"Entropy", TS_DQ_ENTROPY, 1, false, pn_target, NUM_, false, true, false, false, false, C_,
	 "Check the entropy of all values in a given column"},
	{"DistinctValuesCount", TS_DQ_DISTINCTVALUESCOUNT, 1, false, pn_target, NUM_, false, true,
	 false, false, false, C_, "Check the number of distinct values in a given column"},
	{"UniqueValueRatio", TS_DQ_UNIQUEVALUERATIO, 1, false, pn_target, NUM_, false, true, false,
	 false, false, C_, "Check the ratio of unique values in a given column"},
	{"ColumnLength", TS_DQ_COLUMNLENGTH, 1, false, pn_target, NUM_, false, true, false, false,
	 false, C_, "Check the length of values of a given column"},
	{"IsPrimaryKey", TS_DQ_ISPRIMARYKEY, 1, true, pn_target, BOOL_, false, true, false, false,
	 false, C_,
	 "Check if a given column contains a primary key, by checking for uniqueness and "
	 "completeness"},
	{"ColumnValues", TS_DQ_COLUMNVALUES, 1, false, pn_target,
	 TS_DQ_RET_STRING_ARRAY | TS_DQ_RET_NUMBER_ARRAY | TS_DQ_RET_DATE_ARRAY, true, true, false,
	 false, false, C_, "Returns the column values of a given column"},
	{"DataFreshness", TS_DQ_DATAFRESHNESS, 1, false, pn_target, TS_DQ_RET_DURATION_ARRAY,
	 false, true, false, false, false, C_, "Check the freshness of a date column"},
	{"CustomSql", TS_DQ_CUSTOMSQL, 1, false, pn_customsql_1, NUM_ | BOOL_, true, false, false,
	 false, false, T_, "Runs a custom SQL against the dataset and returns a single value"},
	{"ReferentialIntegrity", TS_DQ_REFERENTIALINTEGRITY, 2, false, pn_referentialintegrity_2,
	 NUM_, false, false, false, true, false, T_,
	 "Check the referential integrity of given columns against a reference dataset"},
	{"DatasetMatch", TS_DQ_DATASETMATCH, 2, false, pn_datasetmatch_3, NUM_, false, false,
	 false, true, false, T_,
	 "Check the percentage of records in the primary dataset that are equal to records in "
	 "the reference dataset by joining the datasets using a primary/composite key"},
	{"DatasetMatch", TS_DQ_DATASETMATCH, 3, false, pn_datasetmatch_3, NUM_, false, false,
	 false, false, false, T_,
	 "Check the percentage of records in the primary dataset that are equal to records in "
	 "the reference dataset by joining the datasets using a primary/composite key"},
	{"SchemaMatch", TS_DQ_SCHEMAMATCH, 1, false, pn_rowcountmatch_1, NUM_, false, false, false,
	 false, false, T_,
	 "Checks the percentage match of the schema of the primary dataset against a reference "
	 "dataset"},
	{"AggregateMatch", TS_DQ_AGGREGATEMATCH, 2, false, pn_aggregatematch_2, NUM_, false, false,
	 false, false, false, C_, "Checks the percentage match of two aggregate expressions"},
	{"DetectAnomalies", TS_DQ_DETECTANOMALIES, 1, true, pn_detectanomalies_1, BOOL_, false,
	 false, false, false, false, C_,
	 "Checks if the current value of the metric is anomalous with respect to the historical "
	 "values"},
	{"AllStatistics", TS_DQ_ALLSTATISTICS, 1, false, pn_target, NUM_, false, false, true,
	 false, false, C_, "Analyzer Only. Produces a collection of statistics."},
	{"FileMatch", TS_DQ_FILEMATCH, 2, false, pn_filematch_2, BOOL_, false, false, false, false,
	 true, F_, "Match Files/Directories against Files/Directories."},
	{"FileMatch", TS_DQ_FILEMATCH, 1, false, pn_filematch_2, TS_DQ_RET_STRING, false, false,
	 false, false, true, F_,
	 "Match Files/Directories inferred from DataFrames against a list of checksum values."},
	{"FileMatch", TS_DQ_FILEMATCH, 0, false, NULL, TS_DQ_RET_STRING, false, false, false,
	 false, true, F_,
	 "Match Files/Directories inferred from DataFrames against a list of checksum values."},
	{"FileUniqueness", TS_DQ_FILEUNIQUENESS, 1, false, pn_filematch_2, NUM_, false, false,
	 false, false, true, F_,
	 "Checks the contents of a folder and the uniqueness of each file within."},
	{"FileUniqueness", TS_DQ_FILEUNIQUENESS, 0, false, NULL, NUM_, false, false, false, false,
	 true, F_, "Checks the contents of an inferred folder and the uniqueness of each file within."},
	{"FileFreshness", TS_DQ_FILEFRESHNESS, 1, false, pn_filematch_2, TS_DQ_RET_DATE, true,
	 false, false, false, true, F_, "Checks the age of a filepath against a specified date."},
	{"FileFreshness", TS_DQ_FILEFRESHNESS, 0, false, NULL, TS_DQ_RET_DATE, true, false, false,
	 false, true, F_, "Checks the age of an inferred file against a specified date."},
	{"FileSize", TS_DQ_FILESIZE, 1, false, pn_filematch_2, TS_DQ_RET_SIZE, true, false, false,
	 false, true, F_, "Checks the size of a filepath."},
	{"FileSize", TS_DQ_FILESIZE, 0, false, NULL, TS_DQ_RET_SIZE, true, false, false, false,
	 true, F_, "Checks the size of an inferred file."},
};
const size_t ts_dq_nruletypes = sizeof(ts_dq_ruletypes) / sizeof(ts_dq_ruletypes[0]);

#undef T_
#undef C_
#undef F_
#undef NUM_
#undef BOOL_

const struct ts_dq_ruletype *ts_dq_ruletype_find(const char *name, size_t nparams)
{
	for (size_t i = 0; i < ts_dq_nruletypes; i++) {
		const struct ts_dq_ruletype *t = &ts_dq_ruletypes[i];
		if (strcmp(t->name, name) != 0)
			continue;
		if (t->var_arg ? nparams >= t->nparams : nparams == t->nparams)
			return t;
	}
	return NULL;
}

static int ruletype_known(const char *name)
{
	for (size_t i = 0; i < ts_dq_nruletypes; i++)
		if (!strcmp(ts_dq_ruletypes[i].name, name))
			return 1;
	return 0;
}

/* ---- arena -------------------------------------------------------------- */

struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct arena {
	struct chunk *head;
};

static void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (!a->head || a->head->cap - a->head->used < n) {
		size_t cap = n > 16384 ? n : 16384;
		struct chunk *c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->next = a->head;
		c->used = 0;
		c->cap = cap;
		a->head = c;
	}
	void *p = (char *)a->head->data + a->head->used;
	a->head->used += n;
	memset(p, 0, n);
	return p;
}

static void arena_free(struct arena *a)
{
	while (a->head) {
		struct chunk *c = a->head;
		a->head = c->next;
		free(c);
	}
}

static char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* Append one element to an arena array, doubling it when full (the old
 * copy stays in the arena: at most as much again is wasted). */
static void *arena_push(struct arena *a, void *arr, size_t *n, size_t *cap, size_t size)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		char *na = arena_alloc(a, ncap * size);
		if (!na)
			return NULL;
		if (*n)
			memcpy(na, arr, *n * size);
		arr = na;
		*cap = ncap;
	}
	(*n)++;
	return arr;
}

/* ---- tokens ------------------------------------------------------------- */

enum tk {
	TK_EOF,
	TK_LBRACK, TK_RBRACK, TK_LPAREN, TK_RPAREN, TK_LBRACE, TK_RBRACE,
	TK_COMMA, TK_COLON, TK_EQ, TK_BANG, TK_LT, TK_LE, TK_GT, TK_GE,
	TK_PLUS, TK_MINUS, TK_STAR, TK_SLASH, TK_DOLLAR,
	TK_NOW,     /* now() */
	TK_INT, TK_DECIMAL,
	TK_STRING,  /* quoted; sub says DATE, TIME, MILTIME or plain */
	TK_IDENT,   /* [A-Za-z0-9_.]+ that is not a number or a keyword */
	TK_KW,      /* a keyword: kw says which */
};

enum kw {
	KW_NONE,
	KW_AND, KW_OR, KW_OF, KW_NULL, KW_EMPTY, KW_WHITESPACES_ONLY,
	KW_BETWEEN, KW_IN, KW_NOT, KW_MATCHES, KW_WHERE, KW_WITH,
	KW_DAYS, KW_HOURS, KW_MINUTES,
	KW_B, KW_KB, KW_MB, KW_GB, KW_TB,
	KW_METADATA, KW_DATASOURCES, KW_RULES, KW_ANALYZERS,
};

static const struct {
	const char *s;
	enum kw kw;
} keywords[] = {
	{"and", KW_AND}, {"AND", KW_AND}, {"or", KW_OR}, {"OR", KW_OR},
	{"of", KW_OF}, {"OF", KW_OF}, {"null", KW_NULL}, {"NULL", KW_NULL},
	{"empty", KW_EMPTY}, {"EMPTY", KW_EMPTY},
	{"whitespaces_only", KW_WHITESPACES_ONLY}, {"WHITESPACES_ONLY", KW_WHITESPACES_ONLY},
	{"between", KW_BETWEEN}, {"in", KW_IN}, {"not", KW_NOT}, {"matches", KW_MATCHES},
	{"where", KW_WHERE}, {"with", KW_WITH},
	{"days", KW_DAYS}, {"hours", KW_HOURS}, {"minutes", KW_MINUTES},
	{"B", KW_B}, {"KB", KW_KB}, {"MB", KW_MB}, {"GB", KW_GB}, {"TB", KW_TB},
	{"Metadata", KW_METADATA}, {"DataSources", KW_DATASOURCES}, {"Rules", KW_RULES},
	{"Analyzers", KW_ANALYZERS},
};

enum strsub { STR_PLAIN, STR_DATE, STR_TIME, STR_MILTIME };

struct tok {
	enum tk t;
	enum kw kw;
	enum strsub sub;
	const char *p;   /* the token's bytes in the text (a string: with quotes) */
	size_t n;
	unsigned line, col;
};

struct parser {
	const char *text;
	size_t len;
	struct arena *a;
	struct tok *toks;
	size_t ntoks, ntokcap, i;
	char *err;
	size_t errlen;
	int failed;
	int depth;

	/* variables */
	struct var *vars;
	size_t nvars, varcap;

	struct ts_dq_ruleset *rs;
};

struct var {
	const char *name;
	bool list;
	struct ts_dq_expr **vals;
	size_t nvals;
};

#define MAX_DEPTH 200

static int failf(struct parser *ps, unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int failf(struct parser *ps, unsigned line, unsigned col, const char *fmt, ...)
{
	if (ps->failed)
		return -1;
	ps->failed = 1;
	if (!ps->errlen)
		return -1;
	int k = snprintf(ps->err, ps->errlen, "line %u, column %u: ", line, col);
	if (k >= 0 && (size_t)k < ps->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ps->err + k, ps->errlen - (size_t)k, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int oom(struct parser *ps)
{
	return failf(ps, 1, 1, "out of memory");
}

/* A token shown in a message: its text, cut at 40 bytes, non-printable
 * bytes as \xNN; the end as "the end of the text". */
static const char *tokdesc(const struct tok *t, char *buf, size_t size)
{
	if (t->t == TK_EOF)
		return "the end of the text";
	size_t o = 0;
	buf[o++] = '\'';
	for (size_t i = 0; i < t->n && o + 8 < size; i++) {
		unsigned char c = (unsigned char)t->p[i];
		if (i == 40) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f) {
			buf[o++] = (char)c;
		} else {
			snprintf(buf + o, size - o, "\\x%02x", c);
			o += 4;
		}
	}
	buf[o++] = '\'';
	buf[o] = '\0';
	return buf;
}

static int fail_tok(struct parser *ps, const struct tok *t, const char *what)
{
	char b[96];
	return failf(ps, t->line, t->col, "expected %s, got %s", what, tokdesc(t, b, sizeof(b)));
}

static int is_ident_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.';
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static enum strsub classify_string(const char *s, size_t n)
{
	/* s, n: between the quotes */
	if (n == 10 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) &&
	    s[4] == '-' && is_digit(s[5]) && is_digit(s[6]) && s[7] == '-' && is_digit(s[8]) &&
	    is_digit(s[9]))
		return STR_DATE;
	if (n == 5 && is_digit(s[0]) && is_digit(s[1]) && s[2] == ':' && is_digit(s[3]) &&
	    is_digit(s[4]))
		return STR_MILTIME;
	size_t h = n >= 7 && is_digit(s[0]) && is_digit(s[1]) ? 2 : n >= 7 && is_digit(s[0]) ? 1 : 0;
	if (h && n == h + 6 && s[h] == ':' && is_digit(s[h + 1]) && is_digit(s[h + 2]) &&
	    s[h + 3] == ' ' && (s[h + 4] == 'A' || s[h + 4] == 'P') && s[h + 5] == 'M')
		return STR_TIME;
	return STR_PLAIN;
}

static int push_tok(struct parser *ps, const struct tok *t)
{
	struct tok *nt = arena_push(ps->a, ps->toks, &ps->ntoks, &ps->ntokcap, sizeof(*nt));
	if (!nt)
		return oom(ps);
	ps->toks = nt;
	ps->toks[ps->ntoks - 1] = *t;
	return 0;
}

static int lex(struct parser *ps)
{
	const char *s = ps->text;
	size_t n = ps->len, i = 0;
	unsigned line = 1, col = 1;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		struct tok t = {.p = s + i, .n = 1, .line = line, .col = col};

		if (c == ' ' || c == '\t' || c == '\r') {
			i++, col++;
			continue;
		}
		if (c == '\n') {
			i++, line++, col = 1;
			continue;
		}
		if (c == '#') {
			while (i < n && s[i] != '\n')
				i++, col++;
			continue;
		}
		if (c == '"') {
			/* to the first quote not escaped; \" and \\ are escapes,
			 * other backslashes are themselves */
			size_t j = i + 1;
			unsigned l2 = line, c2 = col + 1;
			while (j < n && s[j] != '"') {
				if (s[j] == '\\' && j + 1 < n && (s[j + 1] == '"' || s[j + 1] == '\\')) {
					j += 2, c2 += 2;
					continue;
				}
				if (s[j] == '\0')
					return failf(ps, l2, c2, "a string cannot hold a NUL byte");
				if (s[j] == '\n')
					l2++, c2 = 1;
				else
					c2++;
				j++;
			}
			if (j >= n)
				return failf(ps, line, col, "string not closed (a '\"' is missing)");
			t.t = TK_STRING;
			t.n = j + 1 - i;
			t.sub = classify_string(s + i + 1, j - i - 1);
			if (push_tok(ps, &t) < 0)
				return -1;
			i = j + 1;
			line = l2;
			col = c2 + 1;
			continue;
		}
		if (is_ident_char(c)) {
			size_t j = i;
			while (j < n && is_ident_char((unsigned char)s[j]))
				j++;
			size_t k = i, nd = 0;
			while (k < j && is_digit((unsigned char)s[k]))
				k++, nd++;
			if (k == j) {
				t.t = TK_INT;
			} else if (nd && s[k] == '.') {
				size_t m = k + 1;
				while (m < j && is_digit((unsigned char)s[m]))
					m++;
				t.t = m == j && m > k + 1 ? TK_DECIMAL : TK_IDENT;
			} else {
				t.t = TK_IDENT;
			}
			t.n = j - i;
			if (t.t == TK_IDENT && t.n == 3 && !memcmp(s + i, "now", 3) && j + 1 < n &&
			    s[j] == '(' && s[j + 1] == ')') {
				t.t = TK_NOW;
				t.n = 5;
				j += 2;
			} else if (t.t == TK_IDENT) {
				for (size_t q = 0; q < sizeof(keywords) / sizeof(keywords[0]); q++)
					if (strlen(keywords[q].s) == t.n &&
					    !memcmp(keywords[q].s, s + i, t.n)) {
						t.t = TK_KW;
						t.kw = keywords[q].kw;
						break;
					}
			}
			if (push_tok(ps, &t) < 0)
				return -1;
			col += (unsigned)(j - i);
			i = j;
			continue;
		}
		switch (c) {
		case '[': t.t = TK_LBRACK; break;
		case ']': t.t = TK_RBRACK; break;
		case '(': t.t = TK_LPAREN; break;
		case ')': t.t = TK_RPAREN; break;
		case '{': t.t = TK_LBRACE; break;
		case '}': t.t = TK_RBRACE; break;
		case ',': t.t = TK_COMMA; break;
		case ':': t.t = TK_COLON; break;
		case '=': t.t = TK_EQ; break;
		case '!': t.t = TK_BANG; break;
		case '+': t.t = TK_PLUS; break;
		case '-': t.t = TK_MINUS; break;
		case '*': t.t = TK_STAR; break;
		case '/': t.t = TK_SLASH; break;
		case '$': t.t = TK_DOLLAR; break;
		case '<':
		case '>':
			t.t = c == '<' ? TK_LT : TK_GT;
			if (i + 1 < n && s[i + 1] == '=') {
				t.t = c == '<' ? TK_LE : TK_GE;
				t.n = 2;
			}
			break;
		default:
			if (c >= 0x20 && c < 0x7f)
				return failf(ps, line, col, "unexpected character '%c'", c);
			return failf(ps, line, col, "unexpected byte 0x%02x", c);
		}
		if (push_tok(ps, &t) < 0)
			return -1;
		i += t.n;
		col += (unsigned)t.n;
	}
	struct tok e = {.t = TK_EOF, .p = s + n, .line = line, .col = col};
	return push_tok(ps, &e);
}

/* ---- parser helpers ------------------------------------------------------- */

static struct tok *peek(struct parser *ps)
{
	return &ps->toks[ps->i];
}

static struct tok *peek2(struct parser *ps, size_t k)
{
	size_t j = ps->i + k;
	return &ps->toks[j < ps->ntoks ? j : ps->ntoks - 1];
}

static struct tok *next(struct parser *ps)
{
	struct tok *t = &ps->toks[ps->i];
	if (t->t != TK_EOF)
		ps->i++;
	return t;
}

static int is_kw(const struct tok *t, enum kw k)
{
	return t->t == TK_KW && t->kw == k;
}

static int is_ident(const struct tok *t, const char *s)
{
	return t->t == TK_IDENT && strlen(s) == t->n && !memcmp(t->p, s, t->n);
}

static int expect(struct parser *ps, enum tk t, const char *what)
{
	if (peek(ps)->t != t)
		return fail_tok(ps, peek(ps), what);
	next(ps);
	return 0;
}

static char *tok_str(struct parser *ps, const struct tok *t)
{
	char *s = arena_strndup(ps->a, t->p, t->n);
	if (!s)
		oom(ps);
	return s;
}

/* The text between a string token's quotes, and its value with \" and \\
 * undone. */
static int string_parts(struct parser *ps, const struct tok *t, const char **text,
			const char **val, size_t *vlen)
{
	const char *in = t->p + 1;
	size_t n = t->n - 2;
	char *raw = arena_strndup(ps->a, in, n);
	char *v = arena_alloc(ps->a, n + 1);
	if (!raw || !v)
		return oom(ps);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\\' && i + 1 < n && (in[i + 1] == '"' || in[i + 1] == '\\'))
			i++;
		v[o++] = in[i];
	}
	v[o] = '\0';
	*text = raw;
	if (val)
		*val = v;
	if (vlen)
		*vlen = o;
	return 0;
}

static struct ts_dq_expr *new_expr(struct parser *ps, enum ts_dq_ek kind)
{
	struct ts_dq_expr *e = arena_alloc(ps->a, sizeof(*e));
	if (!e) {
		oom(ps);
		return NULL;
	}
	e->kind = kind;
	return e;
}

static int push_expr(struct parser *ps, struct ts_dq_expr ***arr, size_t *n, size_t *cap,
		     struct ts_dq_expr *e)
{
	struct ts_dq_expr **na = arena_push(ps->a, *arr, n, cap, sizeof(*na));
	if (!na)
		return oom(ps);
	*arr = na;
	na[*n - 1] = e;
	return 0;
}

/* ---- operands ---------------------------------------------------------------
 *
 * Each operand is parsed with the set of condition kinds it can belong to;
 * the condition takes the first kind (number, string, date, duration, size)
 * that all its operands share and that has its operator.
 */
enum {
	K_NUMBER = 1 << TS_DQ_CK_NUMBER,
	K_STRING = 1 << TS_DQ_CK_STRING,
	K_DATE = 1 << TS_DQ_CK_DATE,
	K_DURATION = 1 << TS_DQ_CK_DURATION,
	K_SIZE = 1 << TS_DQ_CK_SIZE,
};

static struct ts_dq_expr *num_expr(struct parser *ps);

static int is_numop(const struct tok *t)
{
	return t->t == TK_PLUS || t->t == TK_MINUS || t->t == TK_STAR || t->t == TK_SLASH;
}

static struct ts_dq_expr *num_atom(struct parser *ps)
{
	struct tok *t = peek(ps);
	struct ts_dq_expr *e;

	if (t->t == TK_MINUS || t->t == TK_INT || t->t == TK_DECIMAL) {
		int neg = t->t == TK_MINUS;
		if (neg) {
			next(ps);
			t = peek(ps);
			if (t->t != TK_INT && t->t != TK_DECIMAL) {
				fail_tok(ps, t, "a number after '-'");
				return NULL;
			}
		}
		next(ps);
		if (!(e = new_expr(ps, TS_DQ_E_NUM)))
			return NULL;
		char *txt = arena_alloc(ps->a, t->n + 2);
		if (!txt) {
			oom(ps);
			return NULL;
		}
		if (neg)
			txt[0] = '-';
		memcpy(txt + neg, t->p, t->n);
		txt[t->n + (size_t)neg] = '\0';
		e->text = txt;
		e->num = strtod(txt, NULL);
		return e;
	}
	if (is_kw(t, KW_NULL)) {
		next(ps);
		return new_expr(ps, TS_DQ_E_NULL);
	}
	if (t->t == TK_LPAREN) {
		if (++ps->depth > MAX_DEPTH) {
			failf(ps, t->line, t->col, "nesting too deep");
			return NULL;
		}
		next(ps);
		e = num_expr(ps);
		ps->depth--;
		if (!e || expect(ps, TK_RPAREN, "')'") < 0)
			return NULL;
		/* the reference keeps parentheses only around an operation */
		if (e->kind == TS_DQ_E_BINOP)
			e->paren = true;
		return e;
	}
	if (t->t == TK_IDENT && peek2(ps, 1)->t == TK_LPAREN) {
		next(ps);
		next(ps);
		if (!(e = new_expr(ps, TS_DQ_E_CALL)) || !(e->text = tok_str(ps, t)))
			return NULL;
		size_t cap = 0;
		if (peek(ps)->t == TK_RPAREN) {
			next(ps);
			return e;
		}
		if (++ps->depth > MAX_DEPTH) {
			failf(ps, t->line, t->col, "nesting too deep");
			return NULL;
		}
		for (;;) {
			struct ts_dq_expr *a = num_expr(ps);
			if (!a || push_expr(ps, &e->args, &e->nargs, &cap, a) < 0)
				return NULL;
			if (peek(ps)->t == TK_COMMA) {
				next(ps);
				continue;
			}
			if (expect(ps, TK_RPAREN, "',' or ')' in the arguments") < 0)
				return NULL;
			break;
		}
		ps->depth--;
		return e;
	}
	fail_tok(ps, t, "a number");
	return NULL;
}

/* + - * / all of one precedence, left to right (the reference grammar has
 * them in one alternative). */
static struct ts_dq_expr *num_expr(struct parser *ps)
{
	struct ts_dq_expr *e = num_atom(ps);

	while (e && is_numop(peek(ps))) {
		struct tok *op = next(ps);
		struct ts_dq_expr *b = num_atom(ps), *bin;
		if (!b || !(bin = new_expr(ps, TS_DQ_E_BINOP)))
			return NULL;
		bin->op = *op->p;
		bin->args = arena_alloc(ps->a, 2 * sizeof(*bin->args));
		if (!bin->args) {
			oom(ps);
			return NULL;
		}
		bin->args[0] = e;
		bin->args[1] = b;
		bin->nargs = 2;
		e = bin;
	}
	return e;
}

static enum ts_dq_unit duration_unit(const struct tok *t)
{
	if (t->t != TK_KW)
		return TS_DQ_UNIT_NONE;
	switch (t->kw) {
	case KW_DAYS: return TS_DQ_UNIT_DAYS;
	case KW_HOURS: return TS_DQ_UNIT_HOURS;
	case KW_MINUTES: return TS_DQ_UNIT_MINUTES;
	default: return TS_DQ_UNIT_NONE;
	}
}

static enum ts_dq_unit size_unit(const struct tok *t)
{
	if (t->t != TK_KW)
		return TS_DQ_UNIT_NONE;
	switch (t->kw) {
	case KW_B: return TS_DQ_UNIT_B;
	case KW_KB: return TS_DQ_UNIT_KB;
	case KW_MB: return TS_DQ_UNIT_MB;
	case KW_GB: return TS_DQ_UNIT_GB;
	case KW_TB: return TS_DQ_UNIT_TB;
	default: return TS_DQ_UNIT_NONE;
	}
}

/* An integer amount (a duration or size): 0 and *v, or -1 (too big). */
static int int_amount(struct parser *ps, const struct tok *t, int64_t *v)
{
	int64_t x = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (x > (INT64_MAX - 9) / 10)
			return failf(ps, t->line, t->col, "number too large");
		x = x * 10 + (t->p[i] - '0');
	}
	/* the reference reads amounts as a Java int */
	if (x > INT32_MAX)
		return failf(ps, t->line, t->col, "number too large");
	*v = x;
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

static struct var *find_var(struct parser *ps, const char *p, size_t n)
{
	for (size_t i = 0; i < ps->nvars; i++)
		if (strlen(ps->vars[i].name) == n && !memcmp(ps->vars[i].name, p, n))
			return &ps->vars[i];
	return NULL;
}

/* `$name`: the variable, or NULL after an error. */
static struct var *var_ref(struct parser *ps)
{
	struct tok *d = next(ps), *t = peek(ps);
	if (t->t != TK_IDENT && t->t != TK_KW) {
		fail_tok(ps, t, "a variable name after '$'");
		return NULL;
	}
	next(ps);
	struct var *v = find_var(ps, t->p, t->n);
	if (!v) {
		char b[96];
		failf(ps, d->line, d->col, "undefined variable %s", tokdesc(t, b, sizeof(b)));
		return NULL;
	}
	return v;
}

/* The kinds a variable's value fits (a variable holds strings or NULL). */
static unsigned var_kinds(const struct ts_dq_expr *e)
{
	return e->kind == TS_DQ_E_NULL ? K_NUMBER | K_STRING | K_DATE : K_STRING;
}

/* One operand with the kinds it fits in *kinds; or NULL.  With list_var,
 * a list variable may stand here: then *list_var is set and NULL returned
 * without an error. */
static struct ts_dq_expr *operand(struct parser *ps, unsigned *kinds, struct var **list_var)
{
	struct tok *t = peek(ps), *t2 = peek2(ps, 1);
	struct ts_dq_expr *e;
	enum ts_dq_unit u;

	if (list_var)
		*list_var = NULL;
	if (t->t == TK_INT && (u = duration_unit(t2)) != TS_DQ_UNIT_NONE) {
		if (!(e = new_expr(ps, TS_DQ_E_DURATION)) || int_amount(ps, t, &e->amount) < 0)
			return NULL;
		e->unit = u;
		next(ps), next(ps);
		*kinds = K_DURATION;
		return e;
	}
	if (t->t == TK_INT && (u = size_unit(t2)) != TS_DQ_UNIT_NONE) {
		if (!(e = new_expr(ps, TS_DQ_E_SIZE)) || int_amount(ps, t, &e->amount) < 0)
			return NULL;
		e->unit = u;
		next(ps), next(ps);
		*kinds = K_SIZE;
		return e;
	}
	if (t->t == TK_STRING) {
		next(ps);
		if (t->sub == STR_PLAIN) {
			if (!(e = new_expr(ps, TS_DQ_E_STR)) ||
			    string_parts(ps, t, &e->text, &e->val, &e->vlen) < 0)
				return NULL;
			*kinds = K_STRING;
			return e;
		}
		if (t->sub == STR_DATE) {
			if (!(e = new_expr(ps, TS_DQ_E_DATE)) ||
			    string_parts(ps, t, &e->text, NULL, NULL) < 0)
				return NULL;
			const char *d = e->text;
			e->year = (d[0] - '0') * 1000 + (d[1] - '0') * 100 + (d[2] - '0') * 10 +
				  (d[3] - '0');
			e->month = (d[5] - '0') * 10 + (d[6] - '0');
			e->day = (d[8] - '0') * 10 + (d[9] - '0');
			if (e->month < 1 || e->month > 12 || e->day < 1 ||
			    e->day > days_in_month(e->year, e->month)) {
				failf(ps, t->line, t->col, "no such date \"%s\"", d);
				return NULL;
			}
			*kinds = K_DATE;
			return e;
		}
		/* "9:30 PM" (h:mm a, h 1-12) or "21:45" (HH:mm) */
		if (!(e = new_expr(ps, TS_DQ_E_TIME)) ||
		    string_parts(ps, t, &e->text, NULL, NULL) < 0)
			return NULL;
		const char *s = e->text;
		size_t hl = s[1] == ':' ? 1 : 2;
		int h = hl == 1 ? s[0] - '0' : (s[0] - '0') * 10 + (s[1] - '0');
		int m = (s[hl + 1] - '0') * 10 + (s[hl + 2] - '0');
		if (t->sub == STR_TIME) {
			if (h < 1 || h > 12 || m > 59) {
				failf(ps, t->line, t->col, "no such time \"%s\" (h:mm AM or PM)", s);
				return NULL;
			}
			h = h % 12 + (s[hl + 4] == 'P' ? 12 : 0);
		} else if (h > 23 || m > 59) {
			failf(ps, t->line, t->col, "no such time \"%s\" (HH:mm, 00:00 to 23:59)", s);
			return NULL;
		}
		e->hour = h;
		e->minute = m;
		*kinds = K_DATE;
		return e;
	}
	if ((is_kw(t, KW_EMPTY) || is_kw(t, KW_WHITESPACES_ONLY))) {
		next(ps);
		*kinds = K_STRING;
		return new_expr(ps, t->kw == KW_EMPTY ? TS_DQ_E_EMPTY : TS_DQ_E_WHITESPACES_ONLY);
	}
	if (is_kw(t, KW_NULL) && !is_numop(t2)) {
		next(ps);
		*kinds = K_NUMBER | K_STRING | K_DATE;
		return new_expr(ps, TS_DQ_E_NULL);
	}
	if (t->t == TK_DOLLAR) {
		struct tok *at = t;
		struct var *v = var_ref(ps);
		if (!v)
			return NULL;
		/* as if its value were written here */
		*kinds = 0;
		for (size_t i = 0; i < v->nvals; i++)
			*kinds |= var_kinds(v->vals[i]);
		for (size_t i = 0; i < v->nvals; i++)
			*kinds &= var_kinds(v->vals[i]);
		if (v->list) {
			if (!list_var) {
				failf(ps, at->line, at->col,
				      "variable '%s' is a list: use it as 'in $%s'", v->name, v->name);
				return NULL;
			}
			*list_var = v;
			return NULL;
		}
		return v->vals[0];
	}
	if (t->t == TK_NOW) {
		next(ps);
		*kinds = K_DATE;
		return new_expr(ps, TS_DQ_E_NOW);
	}
	if (t->t == TK_LPAREN && t2->t == TK_NOW) {
		/* (now() - 3 days) */
		next(ps), next(ps);
		struct tok *op = next(ps), *amt = next(ps), *unit = next(ps);
		if (op->t != TK_PLUS && op->t != TK_MINUS) {
			fail_tok(ps, op, "'+' or '-' after '(now()'");
			return NULL;
		}
		if (amt->t != TK_INT) {
			fail_tok(ps, amt, "a whole number of days, hours or minutes");
			return NULL;
		}
		if ((u = duration_unit(unit)) == TS_DQ_UNIT_NONE) {
			fail_tok(ps, unit, "days, hours or minutes");
			return NULL;
		}
		if (!(e = new_expr(ps, TS_DQ_E_NOW)) || int_amount(ps, amt, &e->amount) < 0)
			return NULL;
		e->sign = op->t == TK_PLUS ? 1 : -1;
		e->unit = u;
		if (expect(ps, TK_RPAREN, "')' after the date expression") < 0)
			return NULL;
		*kinds = K_DATE;
		return e;
	}
	if (t->t == TK_INT || t->t == TK_DECIMAL || t->t == TK_MINUS || t->t == TK_LPAREN ||
	    is_kw(t, KW_NULL) || (t->t == TK_IDENT && t2->t == TK_LPAREN)) {
		if (!(e = num_expr(ps)))
			return NULL;
		*kinds = K_NUMBER;
		return e;
	}
	fail_tok(ps, t, "a value (a number, a quoted string, a date, a duration, a size, "
			"NULL, EMPTY, WHITESPACES_ONLY or $variable)");
	return NULL;
}

static int op_fits(enum ts_dq_ckind k, enum ts_dq_op op)
{
	if (k == TS_DQ_CK_STRING)
		return op == TS_DQ_OP_EQ || op == TS_DQ_OP_IN || op == TS_DQ_OP_MATCHES;
	return op != TS_DQ_OP_MATCHES;
}

static const char *kind_name(enum ts_dq_ckind k)
{
	switch (k) {
	case TS_DQ_CK_NUMBER: return "number";
	case TS_DQ_CK_STRING: return "string";
	case TS_DQ_CK_DATE: return "date";
	case TS_DQ_CK_DURATION: return "duration";
	case TS_DQ_CK_SIZE: return "size";
	}
	return "?";
}

static int starts_condition(const struct tok *t)
{
	return t->t == TK_EQ || t->t == TK_BANG || t->t == TK_LT || t->t == TK_LE ||
	       t->t == TK_GT || t->t == TK_GE || is_kw(t, KW_BETWEEN) || is_kw(t, KW_IN) ||
	       is_kw(t, KW_NOT) || is_kw(t, KW_MATCHES);
}

static struct ts_dq_cond *condition(struct parser *ps)
{
	struct tok *start = peek(ps);
	struct ts_dq_cond *c = arena_alloc(ps->a, sizeof(*c));
	size_t cap = 0;
	unsigned kinds = K_NUMBER | K_STRING | K_DATE | K_DURATION | K_SIZE, k;
	struct ts_dq_expr *e;

	if (!c) {
		oom(ps);
		return NULL;
	}
	struct tok *t = next(ps);
	switch (t->t) {
	case TK_EQ: c->op = TS_DQ_OP_EQ; break;
	case TK_LT: c->op = TS_DQ_OP_LT; break;
	case TK_LE: c->op = TS_DQ_OP_LE; break;
	case TK_GT: c->op = TS_DQ_OP_GT; break;
	case TK_GE: c->op = TS_DQ_OP_GE; break;
	case TK_BANG:
		if (expect(ps, TK_EQ, "'=' after '!'") < 0)
			return NULL;
		c->op = TS_DQ_OP_EQ;
		c->negated = true;
		break;
	default:
		if (is_kw(t, KW_NOT)) {
			c->negated = true;
			t = next(ps);
			if (!is_kw(t, KW_BETWEEN) && !is_kw(t, KW_IN) && !is_kw(t, KW_MATCHES)) {
				fail_tok(ps, t, "between, in or matches after 'not'");
				return NULL;
			}
		}
		c->op = is_kw(t, KW_BETWEEN) ? TS_DQ_OP_BETWEEN
			: is_kw(t, KW_IN)    ? TS_DQ_OP_IN
					     : TS_DQ_OP_MATCHES;
	}

	if (c->op == TS_DQ_OP_MATCHES) {
		t = peek(ps);
		if (t->t != TK_STRING) {
			fail_tok(ps, t, "a quoted regular expression after 'matches'");
			return NULL;
		}
		next(ps);
		if (!(e = new_expr(ps, TS_DQ_E_STR)) ||
		    string_parts(ps, t, &e->text, &e->val, &e->vlen) < 0 ||
		    push_expr(ps, &c->operands, &c->noperands, &cap, e) < 0)
			return NULL;
		c->kind = TS_DQ_CK_STRING;
		return c;
	}
	if (c->op == TS_DQ_OP_IN) {
		t = peek(ps);
		if (t->t == TK_DOLLAR) {
			struct var *lv;
			if (!(e = operand(ps, &k, &lv)) && !lv)
				return NULL;
			kinds &= k;
			if (lv) {
				for (size_t i = 0; i < lv->nvals; i++)
					if (push_expr(ps, &c->operands, &c->noperands, &cap,
						      lv->vals[i]) < 0)
						return NULL;
			} else if (push_expr(ps, &c->operands, &c->noperands, &cap, e) < 0) {
				return NULL;
			}
		} else {
			if (expect(ps, TK_LBRACK, "'[' after 'in'") < 0)
				return NULL;
			if (peek(ps)->t == TK_RBRACK) {
				fail_tok(ps, peek(ps), "a value (an empty list matches nothing)");
				return NULL;
			}
			for (;;) {
				struct tok *et = peek(ps);
				if (!(e = operand(ps, &k, NULL)) ||
				    push_expr(ps, &c->operands, &c->noperands, &cap, e) < 0)
					return NULL;
				if (!(kinds & k)) {
					failf(ps, et->line, et->col,
					      "the list mixes values of different types");
					return NULL;
				}
				kinds &= k;
				if (peek(ps)->t == TK_COMMA) {
					next(ps);
					continue;
				}
				if (expect(ps, TK_RBRACK, "',' or ']' in the list") < 0)
					return NULL;
				break;
			}
		}
	} else {
		int nops = c->op == TS_DQ_OP_BETWEEN ? 2 : 1;
		for (int i = 0; i < nops; i++) {
			struct tok *et = peek(ps);
			if (i == 1) {
				if (!is_kw(et, KW_AND)) {
					fail_tok(ps, et, "'and' between the two bounds");
					return NULL;
				}
				next(ps);
				et = peek(ps);
			}
			if (!(e = operand(ps, &k, NULL)) ||
			    push_expr(ps, &c->operands, &c->noperands, &cap, e) < 0)
				return NULL;
			if (!(kinds & k)) {
				failf(ps, et->line, et->col,
				      "the two bounds are values of different types");
				return NULL;
			}
			kinds &= k;
		}
	}
	for (int ck = TS_DQ_CK_NUMBER; ck <= TS_DQ_CK_SIZE; ck++)
		if ((kinds & (1u << ck)) && op_fits((enum ts_dq_ckind)ck, c->op)) {
			c->kind = (enum ts_dq_ckind)ck;
			return c;
		}
	/* only strings are left, and the operator does not take strings */
	failf(ps, start->line, start->col,
	      "strings are compared only with =, !=, in, not in, matches and not matches");
	return NULL;
}

/* ---- labels ---------------------------------------------------------------- */

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* `[ "k"="v", ... ]` after the caller consumed `labels =` or
 * `DefaultLabels =`; have: labels already there (DefaultLabels), max 10
 * in all. */
static int label_list(struct parser *ps, const struct tok *start, size_t have,
		      struct ts_dq_label **out, size_t *nout)
{
	size_t cap = 0;
	if (expect(ps, TK_LBRACK, "'[' to start the labels") < 0)
		return -1;
	if (peek(ps)->t == TK_RBRACK)
		return failf(ps, peek(ps)->line, peek(ps)->col, "labels must have at least one label");
	for (;;) {
		struct tok *k = peek(ps), *v;
		struct ts_dq_label *nl;
		if (k->t != TK_STRING)
			return fail_tok(ps, k, "a quoted label key");
		next(ps);
		if (expect(ps, TK_EQ, "'=' after the label key") < 0)
			return -1;
		v = peek(ps);
		if (v->t != TK_STRING)
			return fail_tok(ps, v, "a quoted label value");
		next(ps);
		if (!(nl = arena_push(ps->a, *out, nout, &cap, sizeof(*nl))))
			return oom(ps);
		*out = nl;
		struct ts_dq_label *l = &nl[*nout - 1];
		if (string_parts(ps, k, &l->key, NULL, NULL) < 0 ||
		    string_parts(ps, v, &l->value, NULL, NULL) < 0)
			return -1;
		if (!*l->key || !*l->value)
			return failf(ps, k->line, k->col, "a label key or value cannot be empty");
		if (utf8_chars(l->key) > 128)
			return failf(ps, k->line, k->col,
				     "a label key is at most 128 characters long");
		if (utf8_chars(l->value) > 256)
			return failf(ps, v->line, v->col,
				     "a label value is at most 256 characters long");
		for (size_t i = 0; i + 1 < *nout; i++)
			if (!strcmp((*out)[i].key, l->key))
				return failf(ps, k->line, k->col, "duplicate label key \"%s\"",
					     l->key);
		if (peek(ps)->t == TK_COMMA) {
			next(ps);
			continue;
		}
		if (expect(ps, TK_RBRACK, "',' or ']' in the labels") < 0)
			return -1;
		break;
	}
	if (have + *nout > 10)
		return failf(ps, start->line, start->col,
			     "more than 10 labels for a rule (default labels included)");
	return 0;
}

/* ---- rules ----------------------------------------------------------------- */

/* Can t start a parameter?  `labels =` ends the parameters. */
static int is_param_start(struct parser *ps, size_t k)
{
	struct tok *t = peek2(ps, k);
	if (t->t == TK_STRING || t->t == TK_DOLLAR)
		return 1;
	if (t->t == TK_IDENT)
		return !(is_ident(t, "labels") && peek2(ps, k + 1)->t == TK_EQ);
	return 0;
}

static int accepts(const struct ts_dq_ruletype *rt, enum ts_dq_ckind k)
{
	unsigned r = rt->returns;
	switch (k) {
	case TS_DQ_CK_NUMBER:
		return (r & (TS_DQ_RET_NUMBER | TS_DQ_RET_NUMBER_ARRAY | TS_DQ_RET_SIZE)) != 0;
	case TS_DQ_CK_STRING:
		return (r & (TS_DQ_RET_STRING | TS_DQ_RET_STRING_ARRAY)) != 0;
	case TS_DQ_CK_DATE:
		return (r & (TS_DQ_RET_DATE | TS_DQ_RET_DATE_ARRAY)) != 0;
	case TS_DQ_CK_DURATION:
		return (r & (TS_DQ_RET_DURATION | TS_DQ_RET_DURATION_ARRAY)) != 0;
	case TS_DQ_CK_SIZE:
		return (r & TS_DQ_RET_SIZE) != 0;
	}
	return 0;
}

static const char *wanted(const struct ts_dq_ruletype *rt)
{
	unsigned r = rt->returns;
	if (r & (TS_DQ_RET_STRING_ARRAY | TS_DQ_RET_NUMBER_ARRAY))
		return "a number, string or date condition";
	if (r & (TS_DQ_RET_NUMBER | TS_DQ_RET_NUMBER_ARRAY))
		return "a number condition";
	if (r & (TS_DQ_RET_STRING | TS_DQ_RET_STRING_ARRAY))
		return "a string condition";
	if (r & (TS_DQ_RET_DATE | TS_DQ_RET_DATE_ARRAY))
		return "a date condition";
	if (r & (TS_DQ_RET_DURATION | TS_DQ_RET_DURATION_ARRAY))
		return "a duration condition (like '> 3 days')";
	if (r & TS_DQ_RET_SIZE)
		return "a size condition (like '< 5 MB')";
	return "no condition";
}

/* A number condition on a file size: each operand a whole number of bytes. */
static int number_to_size(struct parser *ps, struct ts_dq_cond *c, const struct tok *at)
{
	for (size_t i = 0; i < c->noperands; i++) {
		struct ts_dq_expr *e = c->operands[i];
		if (e->kind != TS_DQ_E_NUM || strchr(e->text, '.') || e->text[0] == '-')
			return failf(ps, at->line, at->col,
				     "a size is a whole number of B, KB, MB, GB or TB");
		struct ts_dq_expr *s = new_expr(ps, TS_DQ_E_SIZE);
		if (!s)
			return -1;
		struct tok t = {.p = e->text, .n = strlen(e->text), .line = at->line,
				.col = at->col};
		if (int_amount(ps, &t, &s->amount) < 0)
			return -1;
		s->unit = TS_DQ_UNIT_B;
		c->operands[i] = s;
	}
	c->kind = TS_DQ_CK_SIZE;
	return 0;
}

static struct ts_dq_rule *rule_or(struct parser *ps);
static int ruletype_known_n(const struct tok *t);

static struct ts_dq_rule *leaf(struct parser *ps, int analyzer)
{
	struct tok *start = peek(ps);
	struct ts_dq_rule *r = arena_alloc(ps->a, sizeof(*r));
	size_t pcap = 0, tcap = 0;
	char b[96];

	if (!r) {
		oom(ps);
		return NULL;
	}
	r->line = start->line;
	r->column = start->col;
	if (start->t != TK_IDENT) {
		fail_tok(ps, start, analyzer ? "an analyzer type" : "a rule type");
		return NULL;
	}
	next(ps);
	char *name = tok_str(ps, start);
	if (!name)
		return NULL;

	/* parameters, each maybe after `of` or `and` */
	for (;;) {
		struct tok *t = peek(ps);
		const char *conn = NULL;
		size_t k = 0;
		if (is_kw(t, KW_OF) || is_kw(t, KW_AND)) {
			/* `and IsComplete ...` starts another rule, not a parameter */
			struct tok *t2 = peek2(ps, 1);
			if (!is_param_start(ps, 1) ||
			    (t->kw == KW_AND && t2->t == TK_IDENT && ruletype_known_n(t2)))
				break;
			k = 1;
		} else if (!is_param_start(ps, 0)) {
			break;
		}
		if (k) {
			if (!(conn = tok_str(ps, t)))
				return NULL;
			next(ps);
			t = peek(ps);
		}
		struct ts_dq_param *np = arena_push(ps->a, r->params, &r->nparams, &pcap,
						    sizeof(*np));
		if (!np) {
			oom(ps);
			return NULL;
		}
		r->params = np;
		struct ts_dq_param *p = &np[r->nparams - 1];
		p->connector = conn;
		if (t->t == TK_STRING) {
			next(ps);
			if (string_parts(ps, t, &p->text, &p->val, &p->vlen) < 0)
				return NULL;
			p->quoted = true;
		} else if (t->t == TK_DOLLAR) {
			struct var *v = var_ref(ps);
			if (!v)
				return NULL;
			if (v->list || v->vals[0]->kind != TS_DQ_E_STR) {
				failf(ps, t->line, t->col,
				      "variable '%s' is not a quoted string: it cannot be a parameter",
				      v->name);
				return NULL;
			}
			p->text = v->vals[0]->text;
			p->val = v->vals[0]->val;
			p->vlen = v->vals[0]->vlen;
			p->quoted = true;
		} else {
			next(ps);
			if (!(p->text = p->val = tok_str(ps, t)))
				return NULL;
			p->vlen = t->n;
		}
	}

	const struct ts_dq_ruletype *rt = ts_dq_ruletype_find(name, r->nparams);
	if (!rt) {
		if (ruletype_known(name))
			failf(ps, start->line, start->col,
			      "%s does not take %zu parameter%s", name, r->nparams,
			      r->nparams == 1 ? "" : "s");
		else
			failf(ps, start->line, start->col, "unknown %s type %s",
			      analyzer ? "analyzer" : "rule", tokdesc(start, b, sizeof(b)));
		return NULL;
	}
	r->type = rt;
	if (analyzer) {
		if (rt->returns == TS_DQ_RET_BOOLEAN) {
			failf(ps, start->line, start->col, "%s is not an analyzer (it only passes or fails)",
			      name);
			return NULL;
		}
		return r;
	}
	if (rt->analyzer_only) {
		failf(ps, start->line, start->col,
		      "%s is an analyzer: it goes in Analyzers = [ ... ], not in Rules", name);
		return NULL;
	}

	struct tok *ct = peek(ps);
	if (starts_condition(ct) && !(r->cond = condition(ps)))
		return NULL;

	/* where, with ..., labels=[...] — in any order, canonically printed as
	 * where, threshold, tags, labels */
	bool have_labels = false;
	for (;;) {
		struct tok *t = peek(ps);
		if (is_kw(t, KW_WHERE)) {
			next(ps);
			struct tok *w = peek(ps);
			if (r->where) {
				failf(ps, t->line, t->col, "a rule has one where clause");
				return NULL;
			}
			if (w->t != TK_STRING) {
				fail_tok(ps, w, "a quoted predicate after 'where'");
				return NULL;
			}
			next(ps);
			if (string_parts(ps, w, &r->where, &r->where_val, &r->where_len) < 0)
				return NULL;
			if (!rt->where) {
				failf(ps, t->line, t->col, "%s does not take a where clause", name);
				return NULL;
			}
			if (!*r->where) {
				failf(ps, w->line, w->col, "empty where clause");
				return NULL;
			}
			continue;
		}
		if (is_kw(t, KW_WITH)) {
			next(ps);
			struct tok *key = peek(ps);
			if (key->t != TK_IDENT) {
				fail_tok(ps, key, "a tag name (threshold, timeZone, ...) after 'with'");
				return NULL;
			}
			next(ps);
			struct tok *cst = peek(ps);
			if (!starts_condition(cst)) {
				fail_tok(ps, cst, "a condition after the tag name");
				return NULL;
			}
			struct ts_dq_cond *c = condition(ps);
			if (!c)
				return NULL;
			if (key->n == 9 && !strncasecmp(key->p, "threshold", 9)) {
				if (!rt->threshold) {
					failf(ps, t->line, t->col,
					      "%s does not take a threshold", name);
					return NULL;
				}
				if (r->threshold) {
					failf(ps, t->line, t->col,
					      "only one threshold condition at a time");
					return NULL;
				}
				if (c->kind != TS_DQ_CK_NUMBER) {
					failf(ps, cst->line, cst->col,
					      "a threshold is a number condition");
					return NULL;
				}
				r->threshold = c;
				continue;
			}
			if (c->op != TS_DQ_OP_EQ || c->negated ||
			    (c->operands[0]->kind != TS_DQ_E_STR &&
			     c->operands[0]->kind != TS_DQ_E_NUM &&
			     c->operands[0]->kind != TS_DQ_E_DATE &&
			     c->operands[0]->kind != TS_DQ_E_TIME)) {
				failf(ps, cst->line, cst->col,
				      "a tag takes '=' and one quoted string or number");
				return NULL;
			}
			struct ts_dq_tag *nt = arena_push(ps->a, r->tags, &r->ntags, &tcap,
							  sizeof(*nt));
			if (!nt) {
				oom(ps);
				return NULL;
			}
			r->tags = nt;
			struct ts_dq_tag *tg = &nt[r->ntags - 1];
			if (!(tg->key = tok_str(ps, key)))
				return NULL;
			tg->value = c->operands[0]->text;
			tg->number = c->operands[0]->kind == TS_DQ_E_NUM;
			for (size_t i = 0; i + 1 < r->ntags; i++)
				if (!strcmp(r->tags[i].key, tg->key)) {
					failf(ps, key->line, key->col, "duplicate tag '%s'", tg->key);
					return NULL;
				}
			if (!strcmp(tg->key, "timeZone")) {
				struct ts_tz tz;
				char e2[160];
				if (tg->number || ts_tz_parse(&tz, tg->value, e2, sizeof(e2)) < 0) {
					failf(ps, cst->line, cst->col, "unknown time zone \"%s\"",
					      tg->value);
					return NULL;
				}
			}
			continue;
		}
		if (is_ident(t, "labels") && peek2(ps, 1)->t == TK_EQ) {
			if (have_labels) {
				failf(ps, t->line, t->col, "a rule has one list of labels");
				return NULL;
			}
			next(ps), next(ps);
			have_labels = true;
			if (label_list(ps, t, ps->rs->ndefault_labels, &r->labels, &r->nlabels) < 0)
				return NULL;
			continue;
		}
		break;
	}

	/* what may follow a rule: a syntax error there says more than a
	 * complaint about the condition cut short before it */
	struct tok *ft = peek(ps);
	if (ft->t != TK_COMMA && ft->t != TK_RBRACK && ft->t != TK_RPAREN &&
	    !is_kw(ft, KW_AND) && !is_kw(ft, KW_OR) && ft->t != TK_EOF) {
		fail_tok(ps, ft, r->cond ? "where, with, labels, ',' or ']' after the condition"
					 : "a condition, where, with, labels, ',' or ']'");
		return NULL;
	}

	/* the condition the rule type returns */
	if (!r->cond) {
		if (!(rt->returns & TS_DQ_RET_BOOLEAN)) {
			failf(ps, ct->line, ct->col, "%s needs %s", name, wanted(rt));
			return NULL;
		}
	} else if (rt->returns == TS_DQ_RET_BOOLEAN) {
		failf(ps, ct->line, ct->col, "%s takes no condition (it passes or fails)", name);
		return NULL;
	} else if (!accepts(rt, r->cond->kind)) {
		failf(ps, ct->line, ct->col, "%s needs %s, not a %s condition", name, wanted(rt),
		      kind_name(r->cond->kind));
		return NULL;
	} else if ((rt->returns & TS_DQ_RET_SIZE) && r->cond->kind == TS_DQ_CK_NUMBER &&
		   number_to_size(ps, r->cond, ct) < 0) {
		return NULL;
	}
	return r;
}

/* Is t the name of a rule type? (t an IDENT token) */
static int ruletype_known_n(const struct tok *t)
{
	for (size_t i = 0; i < ts_dq_nruletypes; i++)
		if (strlen(ts_dq_ruletypes[i].name) == t->n &&
		    !memcmp(ts_dq_ruletypes[i].name, t->p, t->n))
			return 1;
	return 0;
}

static struct ts_dq_rule *primary(struct parser *ps)
{
	struct tok *t = peek(ps);
	if (t->t != TK_LPAREN)
		return leaf(ps, 0);
	if (++ps->depth > MAX_DEPTH) {
		failf(ps, t->line, t->col, "nesting too deep");
		return NULL;
	}
	next(ps);
	struct ts_dq_rule *r = rule_or(ps);
	ps->depth--;
	if (!r || expect(ps, TK_RPAREN, "')' after the rule") < 0)
		return NULL;
	return r;
}

/* Join rules with one logic, flattening children of the same logic. */
static int join(struct parser *ps, struct ts_dq_rule *parent, size_t *cap,
		struct ts_dq_rule *child)
{
	if (child->logic == parent->logic) {
		for (size_t i = 0; i < child->nchildren; i++)
			if (join(ps, parent, cap, child->children[i]) < 0)
				return -1;
		return 0;
	}
	struct ts_dq_rule **nc = arena_push(ps->a, parent->children, &parent->nchildren, cap,
					    sizeof(*nc));
	if (!nc)
		return oom(ps);
	parent->children = nc;
	nc[parent->nchildren - 1] = child;
	return 0;
}

static struct ts_dq_rule *rule_logic(struct parser *ps, enum ts_dq_logic logic)
{
	struct tok *start = peek(ps);
	struct ts_dq_rule *first = logic == TS_DQ_OR ? rule_logic(ps, TS_DQ_AND) : primary(ps);
	enum kw kw = logic == TS_DQ_OR ? KW_OR : KW_AND;

	if (!first || !is_kw(peek(ps), kw))
		return first;
	struct ts_dq_rule *r = arena_alloc(ps->a, sizeof(*r));
	size_t cap = 0;
	if (!r) {
		oom(ps);
		return NULL;
	}
	r->logic = logic;
	r->line = start->line;
	r->column = start->col;
	if (join(ps, r, &cap, first) < 0)
		return NULL;
	while (is_kw(peek(ps), kw)) {
		next(ps);
		struct ts_dq_rule *c = logic == TS_DQ_OR ? rule_logic(ps, TS_DQ_AND) : primary(ps);
		if (!c || join(ps, r, &cap, c) < 0)
			return NULL;
	}
	return r;
}

static struct ts_dq_rule *rule_or(struct parser *ps)
{
	return rule_logic(ps, TS_DQ_OR);
}

/* `[ item, item ]` after `Rules =` / `Analyzers =`. */
static int rule_list(struct parser *ps, int analyzers, struct ts_dq_rule ***out, size_t *nout)
{
	size_t cap = 0;
	if (expect(ps, TK_LBRACK, "'['") < 0)
		return -1;
	if (peek(ps)->t == TK_RBRACK) {
		next(ps);
		return 0;
	}
	for (;;) {
		struct ts_dq_rule *r = analyzers ? leaf(ps, 1) : rule_or(ps);
		if (!r)
			return -1;
		struct ts_dq_rule **na = arena_push(ps->a, *out, nout, &cap, sizeof(*na));
		if (!na)
			return oom(ps);
		*out = na;
		na[*nout - 1] = r;
		if (peek(ps)->t == TK_COMMA) {
			next(ps);
			continue;
		}
		return expect(ps, TK_RBRACK,
			      analyzers ? "',' or ']' after an analyzer" : "',' or ']' after a rule");
	}
}

/* ---- the document ----------------------------------------------------------- */

/* `{ "key": "value" | ["v", ...], ... }` of Metadata or DataSources (their
 * keys checked, their values stored in the ruleset). */
static int dictionary(struct parser *ps, int sources)
{
	struct tok *open = peek(ps);
	if (expect(ps, TK_LBRACE, "'{'") < 0)
		return -1;
	if (peek(ps)->t == TK_RBRACE)
		return failf(ps, open->line, open->col, "empty dictionary");
	for (;;) {
		struct tok *k = peek(ps);
		const char *key, *val;
		if (k->t != TK_STRING)
			return fail_tok(ps, k, "a quoted key");
		next(ps);
		if (string_parts(ps, k, &key, NULL, NULL) < 0 ||
		    expect(ps, TK_COLON, "':' after the key") < 0)
			return -1;
		struct tok *v = peek(ps);
		int is_list = v->t == TK_LBRACK;
		if (!sources && strcmp(key, "Version"))
			return failf(ps, k->line, k->col,
				     "unsupported key \"%s\" in Metadata (only \"Version\")", key);
		if (sources && strcmp(key, "Primary") && strcmp(key, "AdditionalDataSources"))
			return failf(ps, k->line, k->col,
				     "unsupported key \"%s\" in DataSources (\"Primary\", "
				     "\"AdditionalDataSources\")", key);
		if (sources && !strcmp(key, "AdditionalDataSources") && !is_list)
			return failf(ps, v->line, v->col,
				     "AdditionalDataSources is a list of quoted names");
		if (is_list) {
			size_t cap = 0;
			next(ps);
			for (;;) {
				struct tok *e = peek(ps);
				if (e->t != TK_STRING)
					return fail_tok(ps, e, "a quoted string");
				next(ps);
				if (string_parts(ps, e, &val, NULL, NULL) < 0)
					return -1;
				if (sources && !strcmp(key, "AdditionalDataSources")) {
					const char **na = arena_push(
						ps->a, ps->rs->additional_sources,
						&ps->rs->nadditional_sources, &cap, sizeof(*na));
					if (!na)
						return oom(ps);
					ps->rs->additional_sources = na;
					na[ps->rs->nadditional_sources - 1] = val;
				}
				if (peek(ps)->t == TK_COMMA) {
					next(ps);
					continue;
				}
				if (expect(ps, TK_RBRACK, "',' or ']'") < 0)
					return -1;
				break;
			}
		} else {
			if (v->t != TK_STRING)
				return fail_tok(ps, v, "a quoted value or a list");
			next(ps);
			if (string_parts(ps, v, &val, NULL, NULL) < 0)
				return -1;
			if (!sources)
				ps->rs->version = val;
			else
				ps->rs->primary_source = val;
		}
		if (peek(ps)->t == TK_COMMA) {
			next(ps);
			continue;
		}
		return expect(ps, TK_RBRACE, "',' or '}'");
	}
}

/* name = "text" | NULL | EMPTY | WHITESPACES_ONLY | [ those, ... ] */
static int variable(struct parser *ps)
{
	struct tok *nt = next(ps);
	size_t cap = 0;

	if (nt->p[0] == '.' || nt->p[0] == '_')
		return failf(ps, nt->line, nt->col,
			     "a variable name cannot start with '.' or '_'");
	if (find_var(ps, nt->p, nt->n)) {
		char b[96];
		return failf(ps, nt->line, nt->col, "variable %s is already defined",
			     tokdesc(nt, b, sizeof(b)));
	}
	if (expect(ps, TK_EQ, "'=' after the variable name") < 0)
		return -1;
	struct var *nv = arena_push(ps->a, ps->vars, &ps->nvars, &ps->varcap, sizeof(*nv));
	if (!nv)
		return oom(ps);
	ps->vars = nv;
	struct var *v = &nv[ps->nvars - 1];
	if (!(v->name = tok_str(ps, nt)))
		return -1;
	int list = peek(ps)->t == TK_LBRACK;
	v->list = list;
	if (list)
		next(ps);
	for (;;) {
		struct tok *t = peek(ps);
		struct ts_dq_expr *e;
		if (t->t == TK_STRING) {
			next(ps);
			if (!(e = new_expr(ps, TS_DQ_E_STR)) ||
			    string_parts(ps, t, &e->text, &e->val, &e->vlen) < 0)
				return -1;
		} else if (is_kw(t, KW_NULL) || is_kw(t, KW_EMPTY) ||
			   is_kw(t, KW_WHITESPACES_ONLY)) {
			next(ps);
			if (!(e = new_expr(ps, t->kw == KW_NULL    ? TS_DQ_E_NULL
					       : t->kw == KW_EMPTY ? TS_DQ_E_EMPTY
								   : TS_DQ_E_WHITESPACES_ONLY)))
				return -1;
		} else if (t->t == TK_DOLLAR) {
			return failf(ps, t->line, t->col, "nested variables are not supported");
		} else {
			return fail_tok(ps, t,
					list ? "a quoted string, NULL, EMPTY or WHITESPACES_ONLY"
					     : "a quoted string or a list of them (variables hold strings)");
		}
		if (push_expr(ps, &v->vals, &v->nvals, &cap, e) < 0)
			return -1;
		if (!list)
			return 0;
		if (peek(ps)->t == TK_COMMA) {
			next(ps);
			continue;
		}
		return expect(ps, TK_RBRACK, "',' or ']' in the list");
	}
}

static int document(struct parser *ps)
{
	struct ts_dq_ruleset *rs = ps->rs;
	int seen_meta = 0, seen_src = 0, seen_labels = 0, seen_rules = 0, seen_an = 0;
	struct tok *rules_at = NULL;

	for (;;) {
		struct tok *t = peek(ps), *t2 = peek2(ps, 1);
		if (t->t == TK_EOF)
			break;
		if (is_kw(t, KW_METADATA) || is_kw(t, KW_DATASOURCES)) {
			int src = t->kw == KW_DATASOURCES;
			if ((src ? seen_src : seen_meta) || seen_rules || seen_an)
				return failf(ps, t->line, t->col,
					     "%s comes once, before Rules and Analyzers",
					     src ? "DataSources" : "Metadata");
			if (src ? 0 : seen_src)
				return failf(ps, t->line, t->col, "Metadata comes before DataSources");
			next(ps);
			if (expect(ps, TK_EQ, "'='") < 0 || dictionary(ps, src) < 0)
				return -1;
			*(src ? &seen_src : &seen_meta) = 1;
			continue;
		}
		if (is_kw(t, KW_RULES) || is_kw(t, KW_ANALYZERS)) {
			int an = t->kw == KW_ANALYZERS;
			if (an ? seen_an : (seen_rules || seen_an))
				return failf(ps, t->line, t->col,
					     an ? "a second Analyzers section"
						: "Rules comes once, before Analyzers");
			next(ps);
			if (!rules_at)
				rules_at = t;
			if (expect(ps, TK_EQ, "'='") < 0 ||
			    rule_list(ps, an, an ? &rs->analyzers : &rs->rules,
				      an ? &rs->nanalyzers : &rs->nrules) < 0)
				return -1;
			*(an ? &seen_an : &seen_rules) = 1;
			*(an ? &rs->has_analyzers : &rs->has_rules) = true;
			continue;
		}
		if (seen_rules || seen_an)
			return fail_tok(ps, t, seen_an ? "the end of the rules"
						       : "Analyzers or the end of the rules");
		if (is_ident(t, "DefaultLabels") && t2->t == TK_EQ) {
			if (seen_labels)
				return failf(ps, t->line, t->col, "a second DefaultLabels");
			seen_labels = 1;
			next(ps), next(ps);
			if (label_list(ps, t, 0, &rs->default_labels, &rs->ndefault_labels) < 0)
				return -1;
			continue;
		}
		if (t->t == TK_IDENT) {
			if (variable(ps) < 0)
				return -1;
			continue;
		}
		return fail_tok(ps, t, "Rules = [ ... ]");
	}
	if (!seen_rules && !seen_an) {
		struct tok *e = peek(ps);
		return failf(ps, e->line, e->col, "no Rules = [ ... ] or Analyzers = [ ... ]");
	}
	if (!rs->nrules && !rs->nanalyzers)
		return failf(ps, rules_at->line, rules_at->col, "no rules or analyzers provided");
	return 0;
}

int ts_dqdl_parse(const char *text, size_t n, struct ts_dq_ruleset **out, char *err,
		  size_t errlen)
{
	struct arena *a = malloc(sizeof(*a));
	struct parser ps = {.text = text, .len = n, .err = err, .errlen = errlen};

	*out = NULL;
	if (errlen)
		err[0] = '\0';
	if (!a) {
		if (errlen)
			snprintf(err, errlen, "line 1, column 1: out of memory");
		return -1;
	}
	a->head = NULL;
	ps.a = a;
	ps.rs = arena_alloc(a, sizeof(*ps.rs));
	if (!ps.rs) {
		oom(&ps);
		free(a);
		return -1;
	}
	ps.rs->arena_ = a;
	if (lex(&ps) < 0 || document(&ps) < 0) {
		arena_free(a);
		free(a);
		return -1;
	}
	*out = ps.rs;
	return 0;
}

void ts_dqdl_free(struct ts_dq_ruleset *rs)
{
	if (!rs)
		return;
	struct arena *a = rs->arena_;
	arena_free(a);
	free(a);
}

/* ---- printing ---------------------------------------------------------------- */

static const char *unit_name(enum ts_dq_unit u)
{
	switch (u) {
	case TS_DQ_UNIT_MINUTES: return "minutes";
	case TS_DQ_UNIT_HOURS: return "hours";
	case TS_DQ_UNIT_DAYS: return "days";
	case TS_DQ_UNIT_B: return "B";
	case TS_DQ_UNIT_KB: return "KB";
	case TS_DQ_UNIT_MB: return "MB";
	case TS_DQ_UNIT_GB: return "GB";
	case TS_DQ_UNIT_TB: return "TB";
	case TS_DQ_UNIT_NONE: break;
	}
	return "";
}

static int quoted(struct ts_buf *out, const char *s)
{
	return ts_buf_addch(out, '"') | ts_buf_addstr(out, s) | ts_buf_addch(out, '"');
}

int ts_dqdl_print_expr(struct ts_buf *out, const struct ts_dq_expr *e)
{
	int rc = 0;
	switch (e->kind) {
	case TS_DQ_E_NUM:
		return ts_buf_addstr(out, e->text);
	case TS_DQ_E_BINOP:
		if (e->paren)
			rc |= ts_buf_addch(out, '(');
		rc |= ts_dqdl_print_expr(out, e->args[0]);
		rc |= ts_buf_addf(out, " %c ", e->op);
		rc |= ts_dqdl_print_expr(out, e->args[1]);
		if (e->paren)
			rc |= ts_buf_addch(out, ')');
		return rc ? -1 : 0;
	case TS_DQ_E_CALL:
		rc |= ts_buf_addstr(out, e->text);
		rc |= ts_buf_addch(out, '(');
		for (size_t i = 0; i < e->nargs; i++) {
			if (i)
				rc |= ts_buf_addch(out, ',');
			rc |= ts_dqdl_print_expr(out, e->args[i]);
		}
		rc |= ts_buf_addch(out, ')');
		return rc ? -1 : 0;
	case TS_DQ_E_NULL:
		return ts_buf_addstr(out, "NULL");
	case TS_DQ_E_EMPTY:
		return ts_buf_addstr(out, "EMPTY");
	case TS_DQ_E_WHITESPACES_ONLY:
		return ts_buf_addstr(out, "WHITESPACES_ONLY");
	case TS_DQ_E_STR:
	case TS_DQ_E_DATE:
	case TS_DQ_E_TIME:
		return quoted(out, e->text);
	case TS_DQ_E_NOW:
		if (!e->sign)
			return ts_buf_addstr(out, "now()");
		return ts_buf_addf(out, "(now() %c %lld %s)", e->sign < 0 ? '-' : '+',
				   (long long)e->amount, unit_name(e->unit));
	case TS_DQ_E_DURATION:
	case TS_DQ_E_SIZE:
		return ts_buf_addf(out, "%lld %s", (long long)e->amount, unit_name(e->unit));
	}
	return -1;
}

int ts_dqdl_print_cond(struct ts_buf *out, const struct ts_dq_cond *c)
{
	int rc = 0;
	const char *op = "";

	switch (c->op) {
	case TS_DQ_OP_EQ: op = c->negated ? "!= " : "= "; break;
	case TS_DQ_OP_LT: op = "< "; break;
	case TS_DQ_OP_LE: op = "<= "; break;
	case TS_DQ_OP_GT: op = "> "; break;
	case TS_DQ_OP_GE: op = ">= "; break;
	case TS_DQ_OP_BETWEEN: op = c->negated ? "not between " : "between "; break;
	case TS_DQ_OP_IN: op = c->negated ? "not in [" : "in ["; break;
	case TS_DQ_OP_MATCHES: op = c->negated ? "not matches " : "matches "; break;
	}
	rc |= ts_buf_addstr(out, op);
	for (size_t i = 0; i < c->noperands; i++) {
		if (i)
			rc |= ts_buf_addstr(out, c->op == TS_DQ_OP_BETWEEN ? " and " : ",");
		rc |= ts_dqdl_print_expr(out, c->operands[i]);
	}
	if (c->op == TS_DQ_OP_IN)
		rc |= ts_buf_addch(out, ']');
	return rc ? -1 : 0;
}

int ts_dqdl_print_rule(struct ts_buf *out, const struct ts_dq_rule *r)
{
	int rc = 0;

	if (r->logic != TS_DQ_LEAF) {
		for (size_t i = 0; i < r->nchildren; i++) {
			if (i)
				rc |= ts_buf_addstr(out, r->logic == TS_DQ_AND ? " AND " : " OR ");
			rc |= ts_buf_addch(out, '(');
			rc |= ts_dqdl_print_rule(out, r->children[i]);
			rc |= ts_buf_addch(out, ')');
		}
		return rc ? -1 : 0;
	}
	rc |= ts_buf_addstr(out, r->type->name);
	for (size_t i = 0; i < r->nparams; i++) {
		const struct ts_dq_param *p = &r->params[i];
		rc |= ts_buf_addch(out, ' ');
		if (p->connector)
			rc |= ts_buf_addf(out, "%s ", p->connector);
		rc |= p->quoted ? quoted(out, p->text) : ts_buf_addstr(out, p->text);
	}
	if (r->cond) {
		rc |= ts_buf_addch(out, ' ');
		rc |= ts_dqdl_print_cond(out, r->cond);
	}
	if (r->where) {
		rc |= ts_buf_addstr(out, " where ");
		rc |= quoted(out, r->where);
	}
	if (r->threshold) {
		rc |= ts_buf_addstr(out, " with threshold ");
		rc |= ts_dqdl_print_cond(out, r->threshold);
	}
	for (size_t i = 0; i < r->ntags; i++) {
		rc |= ts_buf_addf(out, " with %s = ", r->tags[i].key);
		rc |= r->tags[i].number ? ts_buf_addstr(out, r->tags[i].value)
					: quoted(out, r->tags[i].value);
	}
	if (r->nlabels) {
		rc |= ts_buf_addstr(out, " labels=[");
		for (size_t i = 0; i < r->nlabels; i++) {
			if (i)
				rc |= ts_buf_addch(out, ',');
			rc |= quoted(out, r->labels[i].key);
			rc |= ts_buf_addch(out, '=');
			rc |= quoted(out, r->labels[i].value);
		}
		rc |= ts_buf_addch(out, ']');
	}
	return rc ? -1 : 0;
}

static int print_section(struct ts_buf *out, const char *name, struct ts_dq_rule *const *rules,
			 size_t n)
{
	int rc = ts_buf_addf(out, "%s = [\n", name);
	for (size_t i = 0; i < n; i++) {
		rc |= ts_buf_addstr(out, "    ");
		rc |= ts_dqdl_print_rule(out, rules[i]);
		rc |= ts_buf_addstr(out, i + 1 < n ? ",\n" : "\n");
	}
	rc |= ts_buf_addstr(out, "]\n");
	return rc ? -1 : 0;
}

int ts_dqdl_print(struct ts_buf *out, const struct ts_dq_ruleset *rs)
{
	int rc = 0;
	if (rs->ndefault_labels) {
		rc |= ts_buf_addstr(out, "DefaultLabels = [");
		for (size_t i = 0; i < rs->ndefault_labels; i++) {
			if (i)
				rc |= ts_buf_addch(out, ',');
			rc |= quoted(out, rs->default_labels[i].key);
			rc |= ts_buf_addch(out, '=');
			rc |= quoted(out, rs->default_labels[i].value);
		}
		rc |= ts_buf_addstr(out, "]\n");
	}
	if (rs->has_rules || !rs->has_analyzers)
		rc |= print_section(out, "Rules", rs->rules, rs->nrules);
	if (rs->has_analyzers)
		rc |= print_section(out, "Analyzers", rs->analyzers, rs->nanalyzers);
	return rc ? -1 : 0;
}

/* ---- evaluation ---------------------------------------------------------------- */

const char *ts_dq_rule_time_zone(const struct ts_dq_rule *r)
{
	for (size_t i = 0; r->logic == TS_DQ_LEAF && i < r->ntags; i++)
		if (!strcmp(r->tags[i].key, "timeZone"))
			return r->tags[i].value;
	return NULL;
}

static int evalf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int evalf(char *err, size_t errlen, const char *fmt, ...)
{
	if (errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static double unit_scale(enum ts_dq_unit u)
{
	switch (u) {
	case TS_DQ_UNIT_MINUTES: return 60e3;
	case TS_DQ_UNIT_HOURS: return 3600e3;
	case TS_DQ_UNIT_DAYS: return 86400e3;
	case TS_DQ_UNIT_B: return 1;
	case TS_DQ_UNIT_KB: return 1024.0;
	case TS_DQ_UNIT_MB: return 1024.0 * 1024;
	case TS_DQ_UNIT_GB: return 1024.0 * 1024 * 1024;
	case TS_DQ_UNIT_TB: return 1024.0 * 1024 * 1024 * 1024;
	case TS_DQ_UNIT_NONE: break;
	}
	return 1;
}

/* Today's date in the zone at now, at h:m, as epoch ms. */
static int time_today(const struct ts_dq_expr *e, const struct ts_dq_env *env, double *out,
		      char *err, size_t errlen)
{
	struct ts_tz tz = {0, 0};
	struct ts_civil c;
	char e2[160];

	if (env->time_zone && ts_tz_parse(&tz, env->time_zone, e2, sizeof(e2)) < 0)
		return evalf(err, errlen, "%s", e2);
	ts_tz_civil(&tz, env->now_ms, &c);
	c.hour = e->hour;
	c.min = e->minute;
	c.sec = c.msec = 0;
	int64_t local = ts_ms_from_civil(&c), t = local;
	/* the instant whose local time is `local`: two corrections cover an
	 * offset that changes at t */
	for (int i = 0; i < 2; i++) {
		struct ts_civil lc;
		ts_tz_civil(&tz, t, &lc);
		t -= ts_ms_from_civil(&lc) - local;
	}
	*out = (double)t;
	return 0;
}

struct vals {
	double *v;
	size_t n, cap;
};

static int vals_push(struct vals *vs, double x)
{
	if (vs->n == vs->cap) {
		size_t nc = vs->cap ? vs->cap * 2 : 16;
		double *nv = realloc(vs->v, nc * sizeof(*nv));
		if (!nv)
			return -1;
		vs->v = nv;
		vs->cap = nc;
	}
	vs->v[vs->n++] = x;
	return 0;
}

static int eval_list(const struct ts_dq_expr *e, const struct ts_dq_env *env, struct vals *vs,
		     char *err, size_t errlen);

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int eval_call(const struct ts_dq_expr *e, const struct ts_dq_env *env, double *out,
		     char *err, size_t errlen)
{
	const char *f = e->text;
	struct vals vs = {0};
	int rc = 0;

	if (!strcmp(f, "last")) {
		if (eval_list(e, env, &vs, err, errlen) < 0)
			return -1;
		if (vs.n != 1) {
			free(vs.v);
			return evalf(err, errlen,
				     "last(k) is a list of values: use avg(), min(), max(), ... on it");
		}
		*out = vs.v[0];
		free(vs.v);
		return 0;
	}
	if (!strcmp(f, "index")) {
		if (e->nargs != 2)
			return evalf(err, errlen, "index(list, i) takes two arguments");
		double i;
		if (eval_list(e->args[0], env, &vs, err, errlen) < 0 ||
		    ts_dq_expr_eval(e->args[1], env, &i, err, errlen) < 0) {
			free(vs.v);
			return -1;
		}
		if (!(i >= 0 && i < (double)vs.n) || i != floor(i))
			rc = evalf(err, errlen, "index %g is outside the %zu values", i, vs.n);
		else
			*out = vs.v[(size_t)i];
		free(vs.v);
		return rc;
	}
	for (size_t i = 0; i < e->nargs; i++)
		if (eval_list(e->args[i], env, &vs, err, errlen) < 0) {
			free(vs.v);
			return -1;
		}
	if (!vs.n) {
		free(vs.v);
		return evalf(err, errlen, "%s() of no values", f);
	}
	double acc = 0;
	if (!strcmp(f, "avg") || !strcmp(f, "average") || !strcmp(f, "sum")) {
		for (size_t i = 0; i < vs.n; i++)
			acc += vs.v[i];
		*out = f[0] == 's' ? acc : acc / (double)vs.n;
	} else if (!strcmp(f, "min") || !strcmp(f, "max")) {
		acc = vs.v[0];
		for (size_t i = 1; i < vs.n; i++)
			if (f[1] == 'i' ? vs.v[i] < acc : vs.v[i] > acc)
				acc = vs.v[i];
		*out = acc;
	} else if (!strcmp(f, "std") || !strcmp(f, "stddev")) {
		double mean = 0, ss = 0;
		for (size_t i = 0; i < vs.n; i++)
			mean += vs.v[i];
		mean /= (double)vs.n;
		for (size_t i = 0; i < vs.n; i++)
			ss += (vs.v[i] - mean) * (vs.v[i] - mean);
		*out = sqrt(ss / (double)vs.n);
	} else if (!strcmp(f, "median")) {
		qsort(vs.v, vs.n, sizeof(double), cmp_double);
		*out = vs.n % 2 ? vs.v[vs.n / 2] : (vs.v[vs.n / 2 - 1] + vs.v[vs.n / 2]) / 2;
	} else if (!strcmp(f, "abs") && vs.n == 1) {
		*out = fabs(vs.v[0]);
	} else {
		rc = evalf(err, errlen, "unknown function %s() with %zu values", f, vs.n);
	}
	free(vs.v);
	return rc;
}

/* The values e stands for: last(k) gives several, anything else one. */
static int eval_list(const struct ts_dq_expr *e, const struct ts_dq_env *env, struct vals *vs,
		     char *err, size_t errlen)
{
	if (e->kind == TS_DQ_E_CALL && !strcmp(e->text, "last")) {
		double k;
		if (e->nargs != 1)
			return evalf(err, errlen, "last(k) takes one argument");
		if (ts_dq_expr_eval(e->args[0], env, &k, err, errlen) < 0)
			return -1;
		if (!(k >= 1) || k != floor(k))
			return evalf(err, errlen, "last(k) needs a whole k >= 1, not %g", k);
		if (!env->nhistory)
			return evalf(err, errlen, "no history for last(%g)", k);
		for (size_t i = 0; i < env->nhistory && (double)i < k; i++)
			if (vals_push(vs, env->history[i]) < 0)
				return evalf(err, errlen, "out of memory");
		return 0;
	}
	double x;
	if (ts_dq_expr_eval(e, env, &x, err, errlen) < 0)
		return -1;
	if (vals_push(vs, x) < 0)
		return evalf(err, errlen, "out of memory");
	return 0;
}

int ts_dq_expr_eval(const struct ts_dq_expr *e, const struct ts_dq_env *env, double *out,
		    char *err, size_t errlen)
{
	double a, b;

	switch (e->kind) {
	case TS_DQ_E_NUM:
		*out = e->num;
		return 0;
	case TS_DQ_E_BINOP:
		if (ts_dq_expr_eval(e->args[0], env, &a, err, errlen) < 0 ||
		    ts_dq_expr_eval(e->args[1], env, &b, err, errlen) < 0)
			return -1;
		*out = e->op == '+' ? a + b : e->op == '-' ? a - b : e->op == '*' ? a * b : a / b;
		return 0;
	case TS_DQ_E_CALL:
		return eval_call(e, env, out, err, errlen);
	case TS_DQ_E_DATE: {
		struct ts_civil c = {e->year, e->month, e->day, 0, 0, 0, 0};
		*out = (double)ts_ms_from_civil(&c);
		return 0;
	}
	case TS_DQ_E_TIME:
		return time_today(e, env, out, err, errlen);
	case TS_DQ_E_NOW:
		*out = (double)env->now_ms + e->sign * (double)e->amount * unit_scale(e->unit);
		return 0;
	case TS_DQ_E_DURATION:
	case TS_DQ_E_SIZE:
		*out = (double)e->amount * unit_scale(e->unit);
		return 0;
	case TS_DQ_E_NULL:
		return evalf(err, errlen, "NULL has no value");
	case TS_DQ_E_EMPTY:
	case TS_DQ_E_WHITESPACES_ONLY:
	case TS_DQ_E_STR:
		break;
	}
	return evalf(err, errlen, "a string is not a number");
}

int ts_dq_cond_num(const struct ts_dq_cond *c, double x, const struct ts_dq_env *env,
		   char *err, size_t errlen)
{
	double v[2];
	int r = 0;

	if (c->kind == TS_DQ_CK_STRING)
		return evalf(err, errlen, "a string condition on a number");
	switch (c->op) {
	case TS_DQ_OP_EQ:
	case TS_DQ_OP_IN:
		for (size_t i = 0; i < c->noperands && !r; i++) {
			if (c->operands[i]->kind == TS_DQ_E_NULL)
				continue;
			if (ts_dq_expr_eval(c->operands[i], env, v, err, errlen) < 0)
				return -1;
			r = x == v[0];
		}
		break;
	case TS_DQ_OP_BETWEEN:
		if (ts_dq_expr_eval(c->operands[0], env, &v[0], err, errlen) < 0 ||
		    ts_dq_expr_eval(c->operands[1], env, &v[1], err, errlen) < 0)
			return -1;
		r = x > v[0] && x < v[1];
		break;
	case TS_DQ_OP_LT:
	case TS_DQ_OP_LE:
	case TS_DQ_OP_GT:
	case TS_DQ_OP_GE:
		if (ts_dq_expr_eval(c->operands[0], env, v, err, errlen) < 0)
			return -1;
		r = c->op == TS_DQ_OP_LT   ? x < v[0]
		    : c->op == TS_DQ_OP_LE ? x <= v[0]
		    : c->op == TS_DQ_OP_GT ? x > v[0]
					   : x >= v[0];
		break;
	case TS_DQ_OP_MATCHES:
		return evalf(err, errlen, "matches on a number");
	}
	return c->negated ? !r : r;
}

int ts_dq_cond_null(const struct ts_dq_cond *c)
{
	if (c->op != TS_DQ_OP_EQ && c->op != TS_DQ_OP_IN)
		return 0;
	for (size_t i = 0; i < c->noperands; i++)
		if (c->operands[i]->kind == TS_DQ_E_NULL)
			return !c->negated;
	return 0;
}

static int all_space(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \t\n\r\f\v", s[i]) || !s[i])
			return 0;
	return 1;
}

int ts_dq_cond_str(const struct ts_dq_cond *c, const char *s, size_t n)
{
	int r = 0;

	if (c->kind != TS_DQ_CK_STRING || c->op == TS_DQ_OP_MATCHES)
		return -1;
	for (size_t i = 0; i < c->noperands && !r; i++) {
		const struct ts_dq_expr *e = c->operands[i];
		switch (e->kind) {
		case TS_DQ_E_STR:
			r = e->vlen == n && (n == 0 || !memcmp(e->val, s, n));
			break;
		case TS_DQ_E_EMPTY:
			r = n == 0;
			break;
		case TS_DQ_E_WHITESPACES_ONLY:
			r = all_space(s, n);
			break;
		default:
			break;
		}
	}
	return c->negated ? !r : r;
}
