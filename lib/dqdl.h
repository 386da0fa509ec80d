/*
 * dqdl.h — the Data Quality Definition Language (AWS Glue DQDL): a parser
 * into a syntax tree, the canonical printer, and the pure helpers an
 * evaluator needs to decide a condition on a number, a time, a string or a
 * null.
 *
 * A document is
 *
 *	[Metadata = { "Version": "1.0" }]
 *	[DataSources = { "Primary": "...", "AdditionalDataSources": ["..."] }]
 *	[DefaultLabels = ["team"="data", ...]] and variables, in any order:
 *	    name = "text" | name = ["a", "b", NULL, EMPTY, WHITESPACES_ONLY]
 *	Rules = [ rule, rule, ... ]  and/or  Analyzers = [ analyzer, ... ]
 *
 * with `#` comments to the end of a line.  A rule is
 *
 *	Type [of|and] param ... [condition] [where "predicate"]
 *	     [with threshold <number condition>] [with key = "value"] ...
 *	     [labels=["key"="value", ...]]
 *
 * or rules joined with `and` / `or` (written with each rule in
 * parentheses; without them `and` before a rule type's name starts the next
 * rule, elsewhere it joins parameters; `and` binds tighter than `or`, as in
 * the reference grammar).  A condition is one of
 *
 *	= X   != X   < X   <= X   > X   >= X   between X and Y
 *	not between X and Y   in [X, ...]   not in [X, ...]
 *	matches "regex"   not matches "regex"   in $var   not in $var
 *
 * and is of one kind, decided by its operands as the reference grammar
 * decides it (first that fits: number, string, date, duration, size):
 *
 *	number    1, -2.5, NULL, avg(last(10)) * 0.9, (1 + 2) / 3
 *	string    "text", NULL, EMPTY, WHITESPACES_ONLY, $var
 *	date      "2024-01-31", "9:30 PM", "21:45", now(), (now() - 3 days), NULL
 *	duration  3 days, 12 hours, 30 minutes
 *	size      5 B, 1 KB, 2 MB, 3 GB, 4 TB (a plain integer n is n B)
 *
 * Every rule's type and parameter count must match an entry of the rule
 * type table (ts_dq_ruletypes[], which mirrors the reference catalogue
 * rules-config.json); its return type decides which condition kinds it
 * takes (BOOLEAN: none), and its flags whether `where` and `with threshold`
 * are allowed.  Variables are resolved while parsing: the tree holds their
 * values, never a `$name`.
 *
 * Numbers: `+ - * /` all have the same precedence and associate to the left,
 * as in the reference grammar (`1 + 2 * 3` is 9): write parentheses.
 * A number literal keeps its exact text (`1.0` prints as `1.0`).
 *
 * Canonical form (ts_dqdl_print_rule): the reference implementation's
 * toString — single spaces, quoted parameters quoted, unquoted ones not,
 * connector words (`of`, `and`) kept as written, lists without spaces
 * (`in ["a","b"]`), `!=`, `not in`, binary operators spaced, parentheses
 * kept where they were written, `where` before `with threshold` before
 * other `with` tags before `labels=[...]`, composite rules as
 * `(A) AND (B)` / `(A) OR (B)` with chains of one operator flattened.
 *
 * Ownership: ts_dqdl_parse() allocates the whole tree in one arena owned by
 * the returned struct ts_dq_ruleset; ts_dqdl_free() frees all of it.  All
 * strings in the tree are NUL-terminated and hold no NUL byte (a quoted
 * string with one is an error).  The rule type table is static.
 */
#ifndef TS_DQDL_H
#define TS_DQDL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* ---- the rule type table ------------------------------------------------ */

enum ts_dq_scope { TS_DQ_SCOPE_TABLE, TS_DQ_SCOPE_COLUMN, TS_DQ_SCOPE_FILE };

/* Return types (a rule type may have several: ColumnValues has
 * STRING_ARRAY|NUMBER_ARRAY|DATE_ARRAY).  The _ARRAY forms are row-level
 * (one value per record: ColumnValues, DataFreshness). */
enum {
	TS_DQ_RET_BOOLEAN = 1 << 0,
	TS_DQ_RET_NUMBER = 1 << 1,
	TS_DQ_RET_NUMBER_ARRAY = 1 << 2,
	TS_DQ_RET_STRING = 1 << 3,
	TS_DQ_RET_STRING_ARRAY = 1 << 4,
	TS_DQ_RET_DATE = 1 << 5,
	TS_DQ_RET_DATE_ARRAY = 1 << 6,
	TS_DQ_RET_DURATION = 1 << 7,
	TS_DQ_RET_DURATION_ARRAY = 1 << 8,
	TS_DQ_RET_SIZE = 1 << 9,
};

/* Rule type ids, one per name (types with several parameter counts, like
 * FileMatch, have one table entry per count, all with the same id). */
enum ts_dq_type {
	TS_DQ_ROWCOUNT,
	TS_DQ_ROWCOUNTMATCH,
	TS_DQ_COLUMNCOUNT,
	TS_DQ_COMPLETENESS,
	TS_DQ_ISCOMPLETE,
	TS_DQ_COLUMNDATATYPE,
	TS_DQ_COLUMNNAMESMATCHPATTERN,
	TS_DQ_COLUMNEXISTS,
	TS_DQ_COLUMNCORRELATION,
	TS_DQ_UNIQUENESS,
	TS_DQ_ISUNIQUE,
	TS_DQ_MEAN,
	TS_DQ_SUM,
	TS_DQ_STANDARDDEVIATION,
	TS_DQ_VARIANCE,
	TS_DQ_ENTROPY,
	TS_DQ_DISTINCTVALUESCOUNT,
	TS_DQ_UNIQUEVALUERATIO,
	TS_DQ_COLUMNLENGTH,
	TS_DQ_ISPRIMARYKEY,
	TS_DQ_COLUMNVALUES,
	TS_DQ_DATAFRESHNESS,
	TS_DQ_CUSTOMSQL,
	TS_DQ_REFERENTIALINTEGRITY,
	TS_DQ_DATASETMATCH,
	TS_DQ_SCHEMAMATCH,
	TS_DQ_AGGREGATEMATCH,
	TS_DQ_DETECTANOMALIES,
	TS_DQ_ALLSTATISTICS,
	TS_DQ_FILEMATCH,
	TS_DQ_FILEUNIQUENESS,
	TS_DQ_FILEFRESHNESS,
	TS_DQ_FILESIZE,
	TS_DQ_NTYPES
};

struct ts_dq_ruletype {
	const char *name;            /* "ColumnValues" */
	enum ts_dq_type id;
	unsigned nparams;            /* exactly this many, or at least this
	                                many when var_arg */
	bool var_arg;                /* the last parameter repeats */
	const char *const *param_names; /* nparams names ("TargetColumn") */
	unsigned returns;            /* TS_DQ_RET_* bits */
	bool threshold;              /* `with threshold` allowed */
	bool where;                  /* `where "..."` allowed */
	bool analyzer_only;          /* only in Analyzers (AllStatistics) */
	bool excluded_row_level_in_composite;
	bool experimental;           /* the file rules */
	enum ts_dq_scope scope;
	const char *description;
};

extern const struct ts_dq_ruletype ts_dq_ruletypes[];
extern const size_t ts_dq_nruletypes;

/* The entry for name with nparams parameters, or NULL. */
const struct ts_dq_ruletype *ts_dq_ruletype_find(const char *name, size_t nparams);

/* ---- expressions (condition operands) ------------------------------------ */

enum ts_dq_unit {
	TS_DQ_UNIT_NONE,
	TS_DQ_UNIT_MINUTES, TS_DQ_UNIT_HOURS, TS_DQ_UNIT_DAYS,   /* durations */
	TS_DQ_UNIT_B, TS_DQ_UNIT_KB, TS_DQ_UNIT_MB, TS_DQ_UNIT_GB,
	TS_DQ_UNIT_TB                                           /* sizes */
};

enum ts_dq_ek {
	TS_DQ_E_NUM,      /* number literal: text (exact, "-0.5"), num */
	TS_DQ_E_BINOP,    /* op ('+' '-' '*' '/'), args[0] op args[1] */
	TS_DQ_E_CALL,     /* text = function name, args[0..nargs) */
	TS_DQ_E_NULL,     /* NULL (in any kind of condition) */
	TS_DQ_E_EMPTY,    /* EMPTY: a string of no characters */
	TS_DQ_E_WHITESPACES_ONLY, /* a non-empty string of only white space */
	TS_DQ_E_STR,      /* quoted string: text = as written between the
	                     quotes, val/vlen = with \" and \\ undone */
	TS_DQ_E_DATE,     /* "YYYY-MM-DD": text = the date; year, month, day */
	TS_DQ_E_TIME,     /* "9:30 PM" or "21:45": text as written; hour
	                     (0-23), minute; today in the rule's timeZone tag */
	TS_DQ_E_NOW,      /* now() (sign 0) or (now() - amount unit) (sign -1)
	                     or (now() + amount unit) (sign +1) */
	TS_DQ_E_DURATION, /* amount unit (minutes, hours, days) */
	TS_DQ_E_SIZE,     /* amount unit (B ... TB) */
};

struct ts_dq_expr {
	enum ts_dq_ek kind;
	bool paren;               /* written in parentheses (numbers) */
	char op;                  /* BINOP */
	const char *text;
	const char *val;          /* STR */
	size_t vlen;
	double num;               /* NUM: strtod of text */
	struct ts_dq_expr **args; /* BINOP (2), CALL (nargs) */
	size_t nargs;
	int sign;                 /* NOW */
	int64_t amount;           /* NOW, DURATION, SIZE */
	enum ts_dq_unit unit;     /* NOW, DURATION, SIZE */
	int year, month, day;     /* DATE */
	int hour, minute;         /* TIME */
};

/* ---- conditions ------------------------------------------------------------ */

enum ts_dq_ckind {
	TS_DQ_CK_NUMBER,
	TS_DQ_CK_STRING,
	TS_DQ_CK_DATE,
	TS_DQ_CK_DURATION,
	TS_DQ_CK_SIZE
};

enum ts_dq_op {
	TS_DQ_OP_EQ,      /* =  (negated: !=) */
	TS_DQ_OP_LT,
	TS_DQ_OP_LE,
	TS_DQ_OP_GT,
	TS_DQ_OP_GE,
	TS_DQ_OP_BETWEEN, /* exclusive: lo < x < hi (negated: not between) */
	TS_DQ_OP_IN,      /* negated: not in */
	TS_DQ_OP_MATCHES, /* strings only; negated: not matches */
};

struct ts_dq_cond {
	enum ts_dq_ckind kind;
	enum ts_dq_op op;
	bool negated;
	struct ts_dq_expr **operands; /* 1; BETWEEN 2; IN 1 or more */
	size_t noperands;
};

/* ---- rules ------------------------------------------------------------------ */

struct ts_dq_param {
	const char *text;      /* as written (between the quotes if quoted) */
	const char *val;       /* the value: \" and \\ undone when quoted */
	size_t vlen;
	bool quoted;
	const char *connector; /* "of", "OF", "and", "AND", or NULL */
};

/* `with key = "value"` (or a number); threshold is not a tag. */
struct ts_dq_tag {
	const char *key;
	const char *value;     /* quoted: as written between the quotes */
	bool number;           /* value was a number literal */
};

struct ts_dq_label {
	const char *key, *value; /* as written between the quotes */
};

enum ts_dq_logic { TS_DQ_LEAF, TS_DQ_AND, TS_DQ_OR };

struct ts_dq_rule {
	enum ts_dq_logic logic;
	/* composite (AND / OR): two or more children, flattened so that no
	 * child has the same logic as its parent */
	struct ts_dq_rule **children;
	size_t nchildren;

	/* leaf: */
	const struct ts_dq_ruletype *type;
	struct ts_dq_param *params;
	size_t nparams;
	struct ts_dq_cond *cond;       /* NULL when none (BOOLEAN rules) */
	struct ts_dq_cond *threshold;  /* `with threshold`: NUMBER kind */
	const char *where;             /* as written between the quotes, or NULL */
	const char *where_val;         /* with \" and \\ undone */
	size_t where_len;
	struct ts_dq_tag *tags;
	size_t ntags;
	struct ts_dq_label *labels;    /* this rule's own labels */
	size_t nlabels;

	unsigned line, column;         /* where the rule starts (1-based; the
	                                  column counts bytes) */
};

struct ts_dq_ruleset {
	struct ts_dq_rule **rules;     /* top level, in order */
	size_t nrules;
	struct ts_dq_rule **analyzers; /* leaves with params only */
	size_t nanalyzers;
	bool has_rules, has_analyzers; /* the sections were present */

	struct ts_dq_label *default_labels; /* DefaultLabels, apply to every
	                                       rule (a rule's own win) */
	size_t ndefault_labels;
	const char *version;           /* Metadata "Version", or NULL */
	const char *primary_source;    /* DataSources "Primary", or NULL */
	const char **additional_sources;
	size_t nadditional_sources;

	void *arena_;                  /* private */
};

/*
 * Parse text[0..n) (need not be NUL-terminated).  0 and *out set, or -1 with
 * err = "line L, column C: reason" (1-based, column in bytes) and *out =
 * NULL.  Semantic errors (unknown rule type, wrong parameter count, a
 * condition the rule type does not take, an undefined variable) point at the
 * rule or the token concerned.
 */
int ts_dqdl_parse(const char *text, size_t n, struct ts_dq_ruleset **out,
		  char *err, size_t errlen);
void ts_dqdl_free(struct ts_dq_ruleset *rs);

/* Append the canonical form of one rule (or analyzer) to out, no newline.
 * 0, or -1 (buffer limit). */
int ts_dqdl_print_rule(struct ts_buf *out, const struct ts_dq_rule *r);
int ts_dqdl_print_cond(struct ts_buf *out, const struct ts_dq_cond *c);
int ts_dqdl_print_expr(struct ts_buf *out, const struct ts_dq_expr *e);

/*
 * The whole ruleset:
 *
 *	DefaultLabels = ["k"="v"]        (only when there are default labels)
 *	Rules = [
 *	    Rule1,
 *	    Rule2
 *	]
 *	Analyzers = [                    (only when the section was present)
 *	    Analyzer1
 *	]
 *
 * four spaces before each rule, a comma after all but the last, a newline
 * after every line.  Metadata and DataSources are not printed (they do not
 * change what a rule means); variables are printed resolved inside the
 * rules.  An empty section prints as `Rules = [` `]` on two lines.
 */
int ts_dqdl_print(struct ts_buf *out, const struct ts_dq_ruleset *rs);

/* ---- evaluation helpers (pure) ---------------------------------------------
 *
 * Scales: a number condition compares numbers; a date condition compares
 * times in milliseconds since the epoch (UTC); a duration condition compares
 * durations in milliseconds; a size condition compares bytes (1 KB = 1024 B,
 * and so on).  Equality is exact (==) on those doubles.
 */

struct ts_dq_env {
	int64_t now_ms;          /* now(), ms since the epoch */
	/* Earlier values of the metric the rule checks, most recent first
	 * (last(k) takes the first k; fewer when there are fewer). */
	const double *history;
	size_t nhistory;
	const char *time_zone;   /* for TIME operands ("9:30 PM"): the rule's
	                            timeZone tag, NULL = UTC; see
	                            ts_dq_rule_time_zone() */
};

/* The value of the timeZone tag of a leaf rule, or NULL. */
const char *ts_dq_rule_time_zone(const struct ts_dq_rule *r);

/*
 * Evaluate an operand to one number in the condition's scale (above).
 * Functions: last(k) (the k most recent history values, a list),
 * avg/average, min, max, sum, std/stddev (population), median, abs (of one
 * value), index(list, i) (0-based, 0 = most recent); a function of a list
 * takes the values of all its arguments together.  0, or -1 with err (no
 * history, unknown function, NULL, division by zero gives inf/nan not an
 * error).
 */
int ts_dq_expr_eval(const struct ts_dq_expr *e, const struct ts_dq_env *env,
		    double *out, char *err, size_t errlen);

/*
 * Does x satisfy c (a NUMBER, DATE, DURATION or SIZE condition), with x in
 * the condition's scale?  1 yes, 0 no, -1 error (err says why: an operand
 * that cannot be evaluated).  NULL operands never equal a number: `= NULL`
 * is false and `!= NULL` true for any number x; `in [1, NULL]` is x == 1.
 */
int ts_dq_cond_num(const struct ts_dq_cond *c, double x,
		   const struct ts_dq_env *env, char *err, size_t errlen);

/*
 * Does a null (JSON null or a missing field) satisfy c, of any kind?
 * `= NULL` and `in [..., NULL, ...]` are true, their negations false;
 * every other condition is false for a null, negated or not (a null is not
 * a number, a string, or a time: `!= "a"`, `not in ["a"]` and
 * `not between 1 and 2` fail on it too, as comparisons with SQL NULL do).
 */
int ts_dq_cond_null(const struct ts_dq_cond *c);

/*
 * Does the string s[0..n) satisfy c (a STRING condition with op EQ or IN)?
 * EMPTY matches n == 0; WHITESPACES_ONLY matches n > 0 of only ' ', \t, \n,
 * \r, \f, \v; NULL matches nothing here (see ts_dq_cond_null); a quoted
 * string matches byte for byte its val.  1 yes, 0 no, -1 for MATCHES (the
 * evaluator compiles and caches regular expressions; the pattern is
 * operands[0]->val) or a non-string condition.
 */
int ts_dq_cond_str(const struct ts_dq_cond *c, const char *s, size_t n);

#endif
