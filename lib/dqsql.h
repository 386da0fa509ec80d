/*
 * dqsql.h — DQDL's CustomSql rule over SQLite.
 *
 * The records of a run are loaded into a temporary SQLite table named
 * `primary`, and a rule's SQL statement runs against it:
 *
 *	CustomSql "select count(*) from primary where x > 0" between 10 and 20
 *	CustomSql "select id from primary where x is null" with threshold > 0.9
 *
 * The table.  One row per record; the columns are the union of the records'
 * top-level keys in the order first seen (a key first seen late is NULL in
 * the rows before it).  Values are stored so the common Spark SQL queries
 * give Spark's answers:
 *	integer syntax (no '.', no exponent) that fits int64   INTEGER
 *	any other number (1.0, 1e2, 2^64, 1e400 = Inf)         REAL
 *	string                                                 TEXT, decoded
 *	                                   (a lone surrogate becomes U+FFFD)
 *	true / false                                           INTEGER 1 / 0
 *	null, or the key missing from the record               NULL
 *	object, array                                          TEXT: the value
 *	                     as JSON without whitespace (json_extract() works)
 * A record that is not an object is a row of NULLs (it still counts).  A
 * key repeated inside one record: the last value wins.  Columns carry no
 * declared type, so a value keeps its own type and numbers in strings stay
 * strings.  SQLite column names ignore ASCII case: a key differing only in
 * case from an earlier one ("ID" after "id") gets the column "ID#2" ("#3",
 * ... if that is taken too).  A key holding U+0000 is stored with U+FFFD in
 * its place.  Past TS_DQSQL_MAX_COLUMNS columns (SQLite's limit) further
 * new keys are not stored (their values are counted, ts_dqsql_dropped();
 * a query naming one fails with "no such column", and the message says
 * keys were dropped).  A table queried before any key was seen has one
 * all-NULL column named `_`, since SQLite tables need a column; the first
 * other key replaces it (a key "_" takes it over).
 *
 * The statement.  Exactly one SELECT (or WITH ... SELECT, or VALUES);
 * anything else — several statements, PRAGMA, ATTACH, writes — is refused
 * before it runs.  Spark SQL as written in Glue rulesets works unchanged:
 *	- a bare `primary` (a keyword in SQLite) is read as the table's name,
 *	  everywhere outside string literals, quoted names and comments;
 *	- `/` divides as Spark does, in floating point (5/2 = 2.5, not 2);
 *	- LIKE is case-sensitive, as in Spark;
 *	- nvl(a, b) and concat(a, ...) (NULL when an argument is NULL) exist;
 *	- names are quoted with `backticks` (or "double quotes"); a double-
 *	  quoted word that names no column is a string, as in Spark.
 * Everything else is SQLite's dialect: json_extract() for nested values
 * (no struct.field access), no rlike.  Where SQLite still answers otherwise
 * than Spark: a string compared with a number is not converted ('5' > 0
 * holds because text sorts after numbers; cast(x as double) does it);
 * sum() over integers that overflows int64 is an error, not a wrap.
 *
 * Results (DQDL's two uses of CustomSql, as Glue evaluates them):
 *	TS_DQSQL_VALUE — the rule has a condition (`between 10 and 20`): the
 *	  query must return exactly one row of one column, and that value is
 *	  the metric (Dataset.*.CustomSQL).  Numeric text converts as Spark's
 *	  cast to double does; other text or a blob is an error.  NULL sets
 *	  is_null: there is no metric to compare, the caller says what the
 *	  rule's result is (Glue's Deequ turns NULL into 0 by accident).
 *	TS_DQSQL_ROWS — no condition, or `with threshold`: the query returns
 *	  rows of primary.  Every column it returns must be a column of
 *	  primary (by name; `select id, x from primary where ...`).  A record
 *	  passes when some returned row equals it on those columns (NULL
 *	  matches NULL, 1 matches 1.0); value = passed records / all records
 *	  (Dataset.*.CustomSQL.Compliance), which must be 1 without a
 *	  threshold.  Each record counts once however many returned rows match
 *	  it.  With no records total = 0, value = 0 and the caller reports FAIL
 *	  ("no rows to evaluate"), as Glue does.
 *	TS_DQSQL_AUTO — VALUE when the query returns one column that is not a
 *	  column of primary, ROWS otherwise.
 *
 * Errors: SQL that SQLite cannot prepare or run returns -1 with SQLite's
 * message in res->err ("near \"from\": syntax error", "no such column: y"):
 * Result ERROR.  A refused statement says why ("custom SQL must be a query
 * (SELECT or WITH), not 'delete'", "custom SQL must be one statement",
 * "custom SQL may only read: ATTACH is not allowed").  A query running
 * longer than the timeout (default TS_DQSQL_DEFAULT_TIMEOUT seconds) is
 * stopped: "custom SQL stopped: it ran longer than 300 s".  Nothing
 * crashes, and the handle stays usable after any of these.
 *
 * Storage: a private temporary SQLite database (temp_store=FILE): pages stay
 * in a cache of TS_DQSQL_CACHE_BYTES and spill to files SQLite creates in
 * $SQLITE_TMPDIR or $TMPDIR (else /var/tmp, /tmp) and unlinks at once, so
 * millions of records take disk, not memory, and nothing is left behind.
 * Records are inserted in one transaction with a prepared statement.  The
 * table gets the first record's keys in one CREATE TABLE; a key first seen
 * later costs an ALTER TABLE, which reloads the schema (about 1 ms at 1000
 * columns).  1 M records of 9 keys load in about 5 s in 70 MB of memory.
 * A handle is used by one thread.
 */
#ifndef TS_DQSQL_H
#define TS_DQSQL_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"

#define TS_DQSQL_MAX_COLUMNS 2000           /* SQLite's own limit */
#define TS_DQSQL_DEFAULT_TIMEOUT 300.0      /* seconds */
#define TS_DQSQL_CACHE_BYTES (32u << 20)

struct ts_dqsql;

enum ts_dqsql_kind {
	TS_DQSQL_AUTO = 0,
	TS_DQSQL_VALUE = 1,
	TS_DQSQL_ROWS = 2,
};

struct ts_dqsql_result {
	enum ts_dqsql_kind kind; /* what was computed (never AUTO) */
	double value;            /* VALUE: the number; ROWS: passed / total */
	int is_null;             /* VALUE: the query returned NULL */
	int is_int;              /* VALUE: the value is the integer ivalue */
	int64_t ivalue;
	uint64_t returned;       /* ROWS: rows the query returned */
	uint64_t passed;         /* ROWS: records equal to a returned row */
	uint64_t total;          /* ROWS: records in primary */
	char err[512];           /* -1: what went wrong (SQLite's message) */
};

/* A new, empty table.  NULL on failure with a message in err. */
struct ts_dqsql *ts_dqsql_open(char *err, size_t errlen);

/* Stop queries after this many seconds (0: never). */
void ts_dqsql_set_timeout(struct ts_dqsql *db, double seconds);

/*
 * Add one record (a validated JSON value; copied, the span may go away
 * after the call).  0, or -1 when SQLite failed (disk full, ...): the
 * message is ts_dqsql_error(), the handle is dead from then on (every
 * later add and query fails with the same message).
 */
int ts_dqsql_add(struct ts_dqsql *db, struct ts_span record);

/* Records added, and values not stored (their key came past
 * TS_DQSQL_MAX_COLUMNS columns). */
uint64_t ts_dqsql_count(const struct ts_dqsql *db);
uint64_t ts_dqsql_dropped(const struct ts_dqsql *db);

/* The message of the last failure of ts_dqsql_add() ("" if none). */
const char *ts_dqsql_error(const struct ts_dqsql *db);

/*
 * Run one statement (NUL-terminated) as kind says (see above).  0 with res
 * filled, or -1 with res->err.  Records may be added after a query, and
 * queried again.
 */
int ts_dqsql_query(struct ts_dqsql *db, const char *sql,
		   enum ts_dqsql_kind kind, struct ts_dqsql_result *res);

/* Close and free (the temporary files go with it).  NULL is fine. */
void ts_dqsql_free(struct ts_dqsql *db);

#endif
