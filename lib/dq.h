/*
 * dq.h — evaluating a DQDL ruleset (dqdl.h) over a stream of records.
 *
 * One pass: every record is handed to ts_dq_add(), which feeds the
 * accumulators the rules need (counts, exact sums, min/max, value sets,
 * lengths, compliance counts) and, for row-level output, says which rules
 * the record passed, failed or skipped.  ts_dq_evaluate() then turns the
 * accumulators into one result per rule and analyzer.
 *
 * Scale-out: ts_dq_state_write() saves the accumulators (a state file);
 * ts_dq_state_merge() adds a saved state into a run.  Every accumulator is
 * exact and order-independent (integers, exact sums of doubles, value
 * multisets), so evaluating merged states gives byte-identical results to
 * one run over the whole input, however it was split.
 *
 * Columns: a rule's column name is a top-level key of the record when the
 * record has that key, else a dotted path into nested objects.  A missing
 * field and JSON null are both NULL.  (The man page, ts-validate(1), has the
 * per-rule semantics.)
 */
#ifndef TS_DQ_H
#define TS_DQ_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "dqdl.h"
#include "json.h"

struct ts_dq;

struct ts_dq_ref {
	const char *alias; /* the name rules use: RowCountMatch "ref" */
	const char *path;  /* an NDJSON file, read as every input is */
};

struct ts_dq_opts {
	double now;               /* now(), in seconds since the epoch */
	const char *history;      /* --history FILE: earlier runs' metrics, or NULL */
	const struct ts_dq_ref *refs;
	size_t nrefs;
	const char *const *inputs; /* the input files: file rules without a path */
	size_t ninputs;
	size_t mem;               /* memory budget of the value sets (0: default) */
	int row_level;            /* --annotate/--pass/--fail: row outcomes */
	int max_depth;
	size_t max_record;
};

/* NULL with a message in err when the ruleset cannot be evaluated here
 * (a where clause that does not parse, a bad regular expression, ...). */
struct ts_dq *ts_dq_new(const struct ts_dq_ruleset *rs, const struct ts_dq_opts *o,
			char *err, size_t errlen);
void ts_dq_free(struct ts_dq *q);

/* Row-level outcome of one record: the rules (by their output names)
 * it passed, failed and skipped.  Valid until the next ts_dq_add(). */
struct ts_dq_row {
	const char **pass, **fail, **skip;
	size_t npass, nfail, nskip;
};

/* Add one record (an object ts_json_scan() accepted).  idx, when not NULL,
 * is the index of its members ts_json_scan_keys() made.  row may be NULL.
 * -1 when an accumulator cannot grow: the run is over. */
int ts_dq_add(struct ts_dq *q, struct ts_span rec, const struct ts_json_keys *idx,
	      struct ts_dq_row *row);

/* One record of reference dataset refi (an index into opts.refs), read
 * before the primary dataset.  -1: out of memory. */
int ts_dq_ref_add(struct ts_dq *q, size_t refi, struct ts_span rec);

/* Save the accumulators to path; add the ones saved in path.  -1 and a
 * message in err. */
int ts_dq_state_write(struct ts_dq *q, const char *path, char *err, size_t errlen);
int ts_dq_state_merge(struct ts_dq *q, const char *path, char *err, size_t errlen);
/* 1 when the ruleset needs every record in one run (CustomSql loads them
 * into SQLite): no splitting into threads. */
int ts_dq_wants_one_pass(const struct ts_dq *q);
/* Add the accumulators of other (a run of the same ruleset, e.g. another
 * thread's) into q, as a state file would.  other's value sets are moved,
 * not copied: other is left with empty sets. */
int ts_dq_absorb(struct ts_dq *q, struct ts_dq *other, char *err, size_t errlen);

enum ts_dq_outcome { TS_DQ_PASS, TS_DQ_FAIL, TS_DQ_ERROR, TS_DQ_ANALYZED };

struct ts_dq_metric {
	char *name;   /* "Column.id.Completeness" */
	double value;
};

struct ts_dq_result {
	char *name;        /* "Rule_1", "Analyzer_1" */
	char *description; /* the rule as written (canonical form) */
	char *evaluated;   /* dynamic rules: with the history values put in */
	enum ts_dq_outcome outcome;
	int is_analyzer;
	char *message;     /* why it failed or errored, or NULL */
	struct ts_dq_metric *metrics;
	size_t nmetrics;
	char **label_keys, **label_values;
	size_t nlabels;
	char **fields;     /* the columns the rule reads */
	size_t nfields;
	const char **types;/* its rule types (a composite: every leaf's) */
	size_t ntypes;
	const struct ts_dq_rule *rule;
};

struct ts_dq_results {
	struct ts_dq_result *r;
	size_t n;
	size_t passed, failed, errored, total; /* rules, not analyzers */
	uint64_t rows;
};

/* Evaluate every rule and analyzer.  The results live until
 * ts_dq_results_release(). */
int ts_dq_evaluate(struct ts_dq *q, struct ts_dq_results *out);
void ts_dq_results_release(struct ts_dq_results *res);

/* Append this run's metrics as one history line (--save-history). */
int ts_dq_history_append(const struct ts_dq_results *res, const char *path, double now,
			 char *err, size_t errlen);

#endif
