/* test_dqsql.c — lib/dqsql.h: CustomSql over a temporary SQLite table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dqsql.h"
#include "util.h"

static int add(struct ts_dqsql *db, const char *json)
{
	struct ts_json_scan r;
	size_t n = strlen(json);

	/* the library takes validated values only */
	if (ts_json_scan(json, json + n, 1, 0, &r) != TS_JSON_OK || r.end != json + n) {
		fprintf(stderr, "bad test record: %s\n", json);
		return -1;
	}
	return ts_dqsql_add(db, (struct ts_span){json, n});
}

static struct ts_dqsql *open_db(void)
{
	char err[256] = "";
	struct ts_dqsql *db = ts_dqsql_open(err, sizeof(err));

	if (!db)
		fprintf(stderr, "open: %s\n", err);
	return db;
}

/* A VALUE query that must succeed; its value (NAN on failure). */
static double value(struct ts_dqsql *db, const char *sql)
{
	struct ts_dqsql_result res;

	if (ts_dqsql_query(db, sql, TS_DQSQL_VALUE, &res) < 0) {
		fprintf(stderr, "    %s: %s\n", sql, res.err);
		return NAN;
	}
	if (res.is_null) {
		fprintf(stderr, "    %s: NULL\n", sql);
		return NAN;
	}
	return res.value;
}

/* A query that must fail; its message. */
static const char *error(struct ts_dqsql *db, const char *sql, enum ts_dqsql_kind kind)
{
	static struct ts_dqsql_result res;

	if (ts_dqsql_query(db, sql, kind, &res) == 0)
		return "(no error)";
	return res.err;
}

#define HAS(msg, part) (strstr((msg), (part)) != NULL || \
			(fprintf(stderr, "    message: %s\n", (msg)), 0))

static void test_types(void)
{
	struct ts_dqsql *db = open_db();
	struct ts_dqsql_result res;

	if (!CHECK(db))
		return;
	CHECK(add(db, "{\"id\":1,\"x\":5,\"price\":2.5,\"s\":\"abc\",\"flag\":true,"
		      "\"n\":null,\"o\":{\"a\":1, \"b\":[1, 2]},\"arr\":[1,\"x\"]}") == 0);
	CHECK(add(db, "{\"id\":2,\"x\":-3,\"price\":1e1,\"s\":\"a\\u0062c\\n\",\"flag\":false,"
		      "\"n\":1,\"o\":{\"a\":\"z\"}}") == 0);
	CHECK(add(db, "{\"id\":3,\"price\":1.0,\"s\":\"\\ud800\",\"big\":9223372036854775808,"
		      "\"inf\":1e400,\"min\":-9223372036854775808}") == 0);
	/* missing keys, a late key, a repeated key, a record that is no object */
	CHECK(add(db, "{\"id\":4,\"late\":\"L\",\"x\":1,\"x\":7}") == 0);
	CHECK(add(db, "[1,2]") == 0);
	CHECK(add(db, "{}") == 0);
	CHECK(ts_dqsql_count(db) == 6);

	CHECK(value(db, "select count(*) from primary") == 6);
	CHECK(value(db, "select count(*) from primary where x > 0") == 2);
	CHECK(value(db, "select sum(x) from primary") == 9);
	CHECK(value(db, "select avg(price) from primary where id <= 3") == 4.5);
	CHECK(value(db, "select count(*) from primary where x is null") == 3);
	CHECK(value(db, "select count(late) from primary") == 1);
	/* types as stored */
	CHECK(value(db, "select count(*) from primary where typeof(x) = 'integer'") == 3);
	CHECK(value(db, "select count(*) from primary where typeof(price) = 'real'") == 3);
	CHECK(value(db, "select count(*) from primary where typeof(s) = 'text'") == 3);
	CHECK(value(db, "select count(*) from primary where s = 'abc\n'") == 1);
	CHECK(value(db, "select count(*) from primary where s = char(65533)") == 1);
	CHECK(value(db, "select count(*) from primary where flag = true") == 1);
	CHECK(value(db, "select count(*) from primary where flag = false") == 1);
	CHECK(value(db, "select count(*) from primary where flag") == 1);
	CHECK(value(db, "select count(*) from primary where typeof(big) = 'real' "
			"and big = 9223372036854775808.0") == 1);
	CHECK(value(db, "select count(*) from primary where min = -9223372036854775808 "
			"and typeof(min) = 'integer'") == 1);
	CHECK(value(db, "select count(*) from primary where inf > 1e308") == 1);
	/* nested values are their JSON text, so json_extract() works */
	CHECK(value(db, "select count(*) from primary where o = '{\"a\":1,\"b\":[1,2]}'") == 1);
	CHECK(value(db, "select sum(json_extract(o, '$.b[1]')) from primary") == 2);
	CHECK(value(db, "select count(*) from primary where json_extract(o, '$.a') = 'z'") == 1);
	CHECK(value(db, "select sum(json_array_length(arr)) from primary") == 2);

	/* the record's bytes may go away after the call */
	char *tmp = strdup("{ \"id\" : 5 , \"s\" : \"gone\" }");
	CHECK(tmp && add(db, tmp) == 0);
	memset(tmp, 'x', strlen(tmp));
	free(tmp);
	CHECK(add(db, "{\"id\":6}") == 0);
	CHECK(value(db, "select count(*) from primary where s = 'gone' and id = 5") == 1);
	CHECK(value(db, "select count(*) from primary where id = 6 and s is null") == 1);

	/* an integer result keeps its exact value */
	CHECK(ts_dqsql_query(db, "select max(id) from primary", TS_DQSQL_VALUE, &res) == 0);
	CHECK(res.kind == TS_DQSQL_VALUE && res.is_int && res.ivalue == 6 && res.value == 6);
	ts_dqsql_free(db);
}

static void test_names(void)
{
	struct ts_dqsql *db = open_db();

	if (!CHECK(db))
		return;
	CHECK(add(db, "{\"col-A\":1,\"a b\":2,\"x\\\"y\":3,\"\":4,\"select\":5,"
		      "\"primary\":6,\"id\":7,\"ID\":8,\"nul\\u0000\":9,\"é\":10}") == 0);
	CHECK(add(db, "{\"col-A\":1,\"ID\":80,\"Id\":90,\"ID#2\":100}") == 0);
	CHECK(value(db, "select sum(`col-A`) from primary") == 2);
	CHECK(value(db, "select sum(\"col-A\") from primary") == 2);
	CHECK(value(db, "select sum(\"a b\") from primary") == 2);
	CHECK(value(db, "select sum(\"x\"\"y\") from primary") == 3);
	CHECK(value(db, "select sum(\"\") from primary") == 4);
	CHECK(value(db, "select sum(\"select\") from primary") == 5);
	/* a column named primary, bare and qualified */
	CHECK(value(db, "select sum(primary) from primary") == 6);
	CHECK(value(db, "select sum(primary.primary) from primary") == 6);
	/* keys differing only in case: the later ones get #2, #3, ... */
	CHECK(value(db, "select sum(id) from primary") == 7);
	CHECK(value(db, "select sum(\"ID#2\") from primary") == 88);
	CHECK(value(db, "select sum(\"Id#3\") from primary") == 90);
	CHECK(value(db, "select sum(\"ID#2#2\") from primary") == 100);
	CHECK(value(db, "select sum(\"nul\xef\xbf\xbd\") from primary") == 9);
	CHECK(value(db, "select sum(\"é\") from primary") == 10);
	ts_dqsql_free(db);
}

static void test_spark(void)
{
	struct ts_dqsql *db = open_db();
	struct ts_dqsql_result res;

	if (!CHECK(db))
		return;
	CHECK(add(db, "{\"name\":\"Ann\",\"age\":30,\"n\":5}") == 0);
	CHECK(add(db, "{\"name\":\"ann\",\"age\":17,\"n\":2}") == 0);
	CHECK(add(db, "{\"name\":\"primary\",\"age\":null,\"n\":null}") == 0);

	/* primary, however written, outside strings, names and comments */
	CHECK(value(db, "SELECT COUNT(*) FROM PRIMARY") == 3);
	CHECK(value(db, "select count(*) from Primary p where p.age > 18") == 1);
	CHECK(value(db, "select count(*) from primary where name = 'primary'") == 1);
	CHECK(value(db, "select count(*) /* from primary */ from primary -- primary\n") == 3);
	CHECK(value(db, "select count(*) from primary where name = \"primary\"") == 1);
	CHECK(value(db, "with t as (select * from primary where age is not null) "
			"select count(*) from t") == 2);
	CHECK(value(db, "select count(*) from primary a join primary b on a.age = b.age") == 2);
	CHECK(value(db, "select (select count(*) from primary where age > 18) * 10") == 10);
	/* division is Spark's */
	CHECK(value(db, "select 5/2") == 2.5);
	CHECK(value(db, "select sum(n)/count(n) from primary") == 3.5);
	CHECK(value(db, "select 7 / 2 / 2") == 1.75);
	CHECK(value(db, "select 1 + 6 / 4 * 2") == 4);
	CHECK(value(db, "select 7 % 4") == 3);
	CHECK(value(db, "select count(*) from primary where '1/2' = '1/2'") == 3);
	CHECK(ts_dqsql_query(db, "select 1/0", TS_DQSQL_VALUE, &res) == 0 &&
	      res.is_null); /* NULL, as in Spark */
	/* LIKE is case-sensitive */
	CHECK(value(db, "select count(*) from primary where name like 'A%'") == 1);
	CHECK(value(db, "select count(*) from primary where name like 'a%'") == 1);
	/* Spark functions SQLite lacks */
	CHECK(value(db, "select count(*) from primary where nvl(age, 0) = 0") == 1);
	CHECK(value(db, "select count(*) from primary where concat(name, '-', age) = 'Ann-30'") == 1);
	CHECK(value(db, "select count(concat(name, age)) from primary") == 2);
	CHECK(value(db, "select length(concat())") == 0);
	ts_dqsql_free(db);
}

static void test_value(void)
{
	struct ts_dqsql *db = open_db();
	struct ts_dqsql_result res;

	if (!CHECK(db))
		return;
	CHECK(add(db, "{\"x\":1,\"s\":\" 12.5 \",\"t\":\"abc\"}") == 0);
	CHECK(add(db, "{\"x\":2}") == 0);

	/* numeric text converts as Spark's cast does; other text is an error */
	CHECK(value(db, "select s from primary where x = 1") == 12.5);
	CHECK(HAS(error(db, "select t from primary where x = 1", TS_DQSQL_VALUE),
		  "returned 'abc', not a number"));
	CHECK(HAS(error(db, "select x'00'", TS_DQSQL_VALUE), "blob"));
	CHECK(HAS(error(db, "select count(*), 1 from primary", TS_DQSQL_VALUE),
		  "one column, it returns 2"));
	CHECK(HAS(error(db, "select x from primary where x > 5", TS_DQSQL_VALUE), "no row"));
	CHECK(HAS(error(db, "select x from primary", TS_DQSQL_VALUE), "more than one row"));
	/* NULL is said, not made a number */
	CHECK(ts_dqsql_query(db, "select max(x) from primary where x > 5", TS_DQSQL_VALUE,
			     &res) == 0);
	CHECK(res.is_null && res.kind == TS_DQSQL_VALUE);
	/* AUTO: one column not of primary is a value */
	CHECK(ts_dqsql_query(db, "select count(*) from primary", TS_DQSQL_AUTO, &res) == 0);
	CHECK(res.kind == TS_DQSQL_VALUE && res.value == 2);
	CHECK(ts_dqsql_query(db, "select x from primary where x = 2", TS_DQSQL_AUTO, &res) == 0);
	CHECK(res.kind == TS_DQSQL_ROWS && res.passed == 1 && res.total == 2);
	ts_dqsql_free(db);
}

static void test_rows(void)
{
	struct ts_dqsql *db = open_db();
	struct ts_dqsql_result res;

	if (!CHECK(db))
		return;
	/* ten records; names repeat and one is null */
	for (int i = 0; i < 10; i++) {
		char rec[128];
		if (i == 9)
			snprintf(rec, sizeof(rec), "{\"id\":%d,\"age\":%d,\"x\":null}", i, i * 5);
		else
			snprintf(rec, sizeof(rec), "{\"id\":%d,\"Name\":\"n%d\",\"age\":%d,\"x\":%s}",
				 i, i % 3, i * 5, i % 2 ? "1" : "null");
		CHECK(add(db, rec) == 0);
	}
	CHECK(ts_dqsql_query(db, "select id from primary where age > 18", TS_DQSQL_ROWS,
			     &res) == 0);
	CHECK(res.kind == TS_DQSQL_ROWS && res.returned == 6 && res.passed == 6 &&
	      res.total == 10 && res.value == 0.6);
	CHECK(ts_dqsql_query(db, "select id from primary where x is null", TS_DQSQL_ROWS,
			     &res) == 0);
	CHECK(res.returned == 6 && res.passed == 6 && res.value == 0.6);
	/* a record passes when a returned row equals it on the returned
	 * columns: ages > 30 are Names n1 (id 7), n2 (id 8) and NULL (id 9);
	 * Names n1 and n2 are 6 records, the NULL one matches itself */
	CHECK(ts_dqsql_query(db, "select Name from primary where age > 30", TS_DQSQL_ROWS,
			     &res) == 0);
	CHECK(res.returned == 3 && res.passed == 7 && res.value == 0.7);
	/* each record counts once, however many rows match it */
	CHECK(ts_dqsql_query(db, "select id from primary union all select id from primary",
			     TS_DQSQL_ROWS, &res) == 0);
	CHECK(res.returned == 20 && res.passed == 10 && res.value == 1);
	CHECK(ts_dqsql_query(db, "select * from primary", TS_DQSQL_ROWS, &res) == 0);
	CHECK(res.passed == 10 && res.value == 1);
	/* 1 matches 1.0, as in a join */
	CHECK(ts_dqsql_query(db, "select id * 1.0 as id from primary where id < 2",
			     TS_DQSQL_ROWS, &res) == 0);
	CHECK(res.passed == 2);
	/* names match as SQLite's do, ignoring ASCII case */
	CHECK(ts_dqsql_query(db, "select name, ID from primary where id = 4", TS_DQSQL_ROWS,
			     &res) == 0);
	CHECK(res.passed == 1);
	CHECK(ts_dqsql_query(db, "select id from primary where 0", TS_DQSQL_ROWS, &res) == 0);
	CHECK(res.returned == 0 && res.passed == 0 && res.value == 0);
	/* the columns returned must be columns of primary */
	CHECK(HAS(error(db, "select count(*) from primary", TS_DQSQL_ROWS),
		  "at least one column of primary"));
	CHECK(HAS(error(db, "select id, age + 1, 2 as two from primary", TS_DQSQL_ROWS),
		  "not found: age + 1, two"));
	ts_dqsql_free(db);

	/* no records: total 0 */
	db = open_db();
	if (!CHECK(db))
		return;
	CHECK(ts_dqsql_query(db, "select * from primary", TS_DQSQL_ROWS, &res) == 0);
	CHECK(res.total == 0 && res.passed == 0 && res.value == 0);
	CHECK(value(db, "select count(*) from primary") == 0);
	ts_dqsql_free(db);
}

static void test_errors(void)
{
	struct ts_dqsql *db = open_db();
	const char *m;

	if (!CHECK(db))
		return;
	CHECK(add(db, "{\"x\":1}") == 0);
	/* SQLite's own message */
	CHECK(HAS(error(db, "select count(* from primary", TS_DQSQL_VALUE), "syntax error"));
	CHECK(HAS(error(db, "select count(*) from nosuch", TS_DQSQL_VALUE),
		  "no such table: nosuch"));
	CHECK(HAS(error(db, "select count(y) from primary", TS_DQSQL_VALUE),
		  "no such column: y"));
	CHECK(HAS(error(db, "select nosuch(x) from primary", TS_DQSQL_VALUE),
		  "no such function: nosuch"));
	CHECK(HAS(error(db, "", TS_DQSQL_VALUE), "empty"));
	CHECK(HAS(error(db, "  -- nothing\n", TS_DQSQL_VALUE), "empty"));
	/* only one read-only query */
	CHECK(HAS(error(db, "delete from primary", TS_DQSQL_VALUE), "not 'delete'"));
	CHECK(HAS(error(db, "drop table primary", TS_DQSQL_VALUE), "not 'drop'"));
	CHECK(HAS(error(db, "pragma table_info(primary)", TS_DQSQL_VALUE), "not 'pragma'"));
	CHECK(HAS(error(db, "attach 'x.db' as x", TS_DQSQL_VALUE), "not 'attach'"));
	CHECK(HAS(error(db, "explain select 1", TS_DQSQL_VALUE), "not 'explain'"));
	CHECK(HAS(error(db, "select 1; delete from primary", TS_DQSQL_VALUE),
		  "one statement"));
	CHECK(HAS(error(db, "select 1; select 2", TS_DQSQL_VALUE), "one statement"));
	CHECK(HAS(error(db, "with t as (select 1) delete from primary", TS_DQSQL_VALUE),
		  "may only read"));
	CHECK(HAS(error(db, "with t as (select 1) insert into primary select * from t",
			TS_DQSQL_VALUE), "may only read"));
	CHECK(HAS(error(db, "select load_extension('/tmp/x')", TS_DQSQL_VALUE),
		  "load_extension is not allowed"));
	/* a trailing semicolon and comments are fine */
	CHECK(value(db, "select count(*) from primary; -- done\n;") == 1);
	/* nothing changed */
	CHECK(value(db, "select count(*) from primary") == 1);

	/* a runaway query is stopped, and the handle goes on */
	ts_dqsql_set_timeout(db, 0.2);
	double t0 = ts_now();
	m = error(db, "with recursive c(i) as (select 1 union all select i + 1 from c) "
		      "select count(*) from c", TS_DQSQL_VALUE);
	CHECK(HAS(m, "custom SQL stopped: it ran longer than 0.2 s"));
	CHECK(ts_now() - t0 < 5);
	m = error(db, "with recursive c(i) as (select 1 union all select i + 1 from c) "
		      "select x from primary, c", TS_DQSQL_ROWS);
	CHECK(HAS(m, "custom SQL stopped"));
	CHECK(value(db, "select count(*) from primary") == 1);
	CHECK(add(db, "{\"x\":2}") == 0);
	CHECK(value(db, "select sum(x) from primary") == 3);
	ts_dqsql_free(db);
}

static void test_shape(void)
{
	struct ts_dqsql *db = open_db();
	struct ts_dqsql_result res;

	if (!CHECK(db))
		return;
	/* before any key: a stand-in column; it goes with the first key */
	CHECK(add(db, "{}") == 0);
	CHECK(add(db, "7") == 0);
	CHECK(value(db, "select count(*) from primary") == 2);
	CHECK(value(db, "select count(*) from primary where _ is null") == 2);
	CHECK(add(db, "{\"a\":1}") == 0);
	CHECK(value(db, "select count(*) from primary") == 3);
	CHECK(HAS(error(db, "select count(_) from primary", TS_DQSQL_VALUE),
		  "no such column: _"));
	/* records added after a query are there */
	CHECK(add(db, "{\"b\":2}") == 0);
	CHECK(value(db, "select count(*) from primary where b = 2 and a is null") == 1);
	ts_dqsql_free(db);

	/* a real key "_" claims the stand-in */
	db = open_db();
	if (!CHECK(db))
		return;
	CHECK(add(db, "{}") == 0);
	CHECK(value(db, "select count(*) from primary") == 1);
	CHECK(add(db, "{\"_\":5}") == 0);
	CHECK(add(db, "{\"a\":1}") == 0);
	CHECK(value(db, "select sum(_) + sum(a) from primary") == 6);
	ts_dqsql_free(db);

	/* rows without keys before the first key are kept */
	db = open_db();
	if (!CHECK(db))
		return;
	for (int i = 0; i < 1000; i++)
		CHECK(add(db, "{}") == 0);
	CHECK(add(db, "{\"a\":1}") == 0);
	CHECK(value(db, "select count(*) from primary") == 1001);
	CHECK(value(db, "select count(a) from primary") == 1);
	ts_dqsql_free(db);

	/* past the column limit keys are dropped and counted */
	db = open_db();
	if (!CHECK(db))
		return;
	struct ts_buf b;
	ts_buf_init(&b, 0);
	for (int r = 0; r < 2; r++) {
		ts_buf_reset(&b);
		ts_buf_addch(&b, '{');
		for (int i = r * 1000; i < 2100 + r * 100; i++)
			ts_buf_addf(&b, "%s\"k%d\":%d", i > r * 1000 ? "," : "", i, i);
		ts_buf_addch(&b, '}');
		CHECK(add(db, b.data) == 0);
	}
	/* k0..k1999 are columns: k2000..k2099 of the first record and
	 * k2000..k2199 of the second are dropped */
	CHECK(ts_dqsql_dropped(db) == 300);
	CHECK(value(db, "select count(k1999) + count(k1000) + count(k0) from primary") == 5);
	CHECK(HAS(error(db, "select count(k2050) from primary", TS_DQSQL_VALUE),
		  "no such column: k2050 (keys past the first 2000 columns were not stored)"));
	CHECK(ts_dqsql_query(db, "select k0 from primary where k0 = 0", TS_DQSQL_ROWS,
			     &res) == 0);
	CHECK(res.passed == 1 && res.total == 2);
	ts_buf_release(&b);
	ts_dqsql_free(db);
}

/* More records than the page cache holds (100000 x ~450 bytes): one
 * transaction, the cache spilling to a file. */
static void test_many(void)
{
	struct ts_dqsql *db = open_db();
	struct ts_dqsql_result res;
	char rec[640];
	int n = 100000;

	if (!CHECK(db))
		return;
	for (int i = 0; i < n; i++) {
		snprintf(rec, sizeof(rec),
			 "{\"id\":%d,\"user\":\"user-%d\",\"v\":%d.5,\"ok\":%s,"
			 "\"tags\":[\"a\",\"b\"],\"pad\":\"%0400d\"}",
			 i, i % 1000, i % 7, i % 3 ? "true" : "false", i);
		if (add(db, rec) < 0) {
			CHECK(!"add");
			break;
		}
	}
	CHECK(value(db, "select count(*) from primary") == n);
	CHECK(value(db, "select count(distinct user) from primary") == 1000);
	CHECK(ts_dqsql_query(db, "select id from primary where ok", TS_DQSQL_ROWS, &res) == 0);
	CHECK(res.passed == (uint64_t)(n - (n + 2) / 3) && res.total == (uint64_t)n);
	ts_dqsql_free(db);
}

int main(void)
{
	ts_progname = "test_dqsql";
	test_types();
	test_names();
	test_spark();
	test_value();
	test_rows();
	test_errors();
	test_shape();
	test_many();
	return check_done();
}
