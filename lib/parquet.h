/*
 * parquet.h — Apache Parquet files written from records, in C, from the
 * format specification (no Parquet library is packaged for Debian 12).
 *
 * Two halves, two modules:
 *
 *   lib/parquet.c   the file writer: a schema tree, column chunks buffered
 *                   in memory as values and definition/repetition levels,
 *                   data pages (v1) with RLE/bit-packed levels, PLAIN or
 *                   dictionary (RLE_DICTIONARY) values, statistics per
 *                   chunk (min, max, null count), page compression
 *                   (snappy, gzip, zstd, none), row groups, and the footer
 *                   (FileMetaData) in the Thrift compact protocol.
 *   lib/pqschema.c  the schema a Glue table gives (Hive type strings), or
 *                   one inferred from records; and records shredded into
 *                   the writer's columns, each value converted to its
 *                   column's type or the record refused naming the column.
 *
 * Mapping of Hive types (what Glue, Athena and the delivery stream's
 * conversion write):
 *	string            BYTE_ARRAY, logical STRING
 *	bigint / int      INT64 / INT32 (smallint, tinyint: INT32 INT(16|8))
 *	double / float    DOUBLE / FLOAT
 *	boolean           BOOLEAN
 *	timestamp         INT64, TIMESTAMP(isAdjustedToUTC, MICROS)
 *	date              INT32, DATE (days since 1970-01-01)
 *	decimal(p,s)      DECIMAL(p,s): INT32 p <= 9, INT64 p <= 18, else
 *	                  FIXED_LEN_BYTE_ARRAY of the fewest bytes (two's
 *	                  complement, big-endian)
 *	array<T>          optional group (LIST) { repeated group list {
 *	                  optional T element } }
 *	map<string,T>     optional group (MAP) { repeated group key_value {
 *	                  required binary key (STRING); optional T value } }
 *	struct<a:T,...>   optional group { optional a ... }
 * Every top-level column is optional (a record may lack it).
 *
 * Memory: a writer holds its open row group's column data; it writes a row
 * group to the sink when that passes opts.row_group_bytes, so a file of any
 * size needs about one row group of memory.
 */
#ifndef TS_PARQUET_H
#define TS_PARQUET_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "json.h"

/* Physical types, as numbered in parquet.thrift. */
enum ts_pq_phys {
	TS_PQ_BOOLEAN = 0,
	TS_PQ_INT32 = 1,
	TS_PQ_INT64 = 2,
	TS_PQ_FLOAT = 4,
	TS_PQ_DOUBLE = 5,
	TS_PQ_BYTE_ARRAY = 6,
	TS_PQ_FIXED = 7, /* FIXED_LEN_BYTE_ARRAY */
};

/* What a node is, from the Hive type. */
enum ts_pq_kind {
	TS_PQK_STRING, TS_PQK_BIGINT, TS_PQK_INT, TS_PQK_SMALLINT, TS_PQK_TINYINT,
	TS_PQK_DOUBLE, TS_PQK_FLOAT, TS_PQK_BOOLEAN, TS_PQK_TIMESTAMP, TS_PQK_DATE,
	TS_PQK_DECIMAL,
	TS_PQK_STRUCT, TS_PQK_ARRAY, TS_PQK_MAP,
	/* the inner nodes of the LIST and MAP layouts */
	TS_PQK_LIST_REPEATED, TS_PQK_MAP_KEY_VALUE,
};

enum ts_pq_rep { TS_PQ_REQUIRED = 0, TS_PQ_OPTIONAL = 1, TS_PQ_REPEATED = 2 };

/*
 * The schema: nodes in depth-first order, as Parquet's SchemaElement list
 * (node 0 is the root, a group named "schema").  A node's children follow
 * it; nchildren says how many direct children.
 */
struct ts_pq_node {
	char *name;             /* as the Glue table spells it (output) */
	enum ts_pq_kind kind;
	enum ts_pq_rep rep;
	int nchildren;          /* > 0 for groups */
	int parent;             /* index of the parent, -1 for the root */
	enum ts_pq_phys phys;   /* leaves */
	int precision, scale;   /* decimal */
	int type_length;        /* FIXED: bytes */
	/* derived by ts_pq_schema_finish() */
	int max_def, max_rep;   /* leaves: the levels of a present value */
	int leaf;               /* column index for leaves, -1 for groups */
};

struct ts_pq_schema {
	struct ts_pq_node *n;
	size_t nn, cap;
	size_t nleaves;
	int *leaf_node;         /* column index -> node index */
};

void ts_pq_schema_init(struct ts_pq_schema *s);
void ts_pq_schema_release(struct ts_pq_schema *s);
/* Append a node; -1 out of memory.  name is copied. */
int ts_pq_schema_add(struct ts_pq_schema *s, const char *name, enum ts_pq_kind kind,
		     enum ts_pq_rep rep, int parent);
/* Fill in phys, levels and leaf numbering once every node is there.
 * 0, or -1 with a message in err. */
int ts_pq_schema_finish(struct ts_pq_schema *s, char *err, size_t errlen);

/* --- the writer (lib/parquet.c) ------------------------------------------ */

enum ts_pq_codec { TS_PQ_UNCOMPRESSED = 0, TS_PQ_SNAPPY = 1, TS_PQ_GZIP = 2, TS_PQ_ZSTD = 6 };

struct ts_pq_opts {
	enum ts_pq_codec codec;
	size_t row_group_bytes;  /* 0: 64 MiB of buffered column data */
	size_t page_bytes;       /* 0: 1 MiB of values per data page */
	size_t dict_max;         /* 0: dictionary up to 1 MiB / 64k entries, else PLAIN */
	const char *created_by;  /* "ts-partition version ..." */
};

/* Where the file's bytes go, in order.  0, or -1 (errno set): the writer
 * then fails. */
typedef int (*ts_pq_sink)(void *ctx, const void *p, size_t n);

struct ts_pq_writer;

/* The schema must outlive the writer.  NULL: out of memory. */
struct ts_pq_writer *ts_pq_writer_new(const struct ts_pq_schema *s, const struct ts_pq_opts *o,
				      ts_pq_sink sink, void *ctx);
void ts_pq_writer_free(struct ts_pq_writer *w);

/*
 * A row is added value by value, for each leaf column in any order, each
 * column's values in record order: def and rep are the definition and
 * repetition levels (Dremel); a value is present exactly when def equals
 * the column's max_def.  ts_pq_row_end() commits the row; ts_pq_row_abort()
 * takes back everything added since the last ts_pq_row_end() (a record
 * refused half way leaves no trace).  All return 0, or -1 (out of memory,
 * or the sink failed: ts_pq_error()).
 */
int ts_pq_add_null(struct ts_pq_writer *w, int leaf, int def, int rep);
int ts_pq_add_bool(struct ts_pq_writer *w, int leaf, int rep, int v);
int ts_pq_add_i32(struct ts_pq_writer *w, int leaf, int rep, int32_t v);
int ts_pq_add_i64(struct ts_pq_writer *w, int leaf, int rep, int64_t v);
int ts_pq_add_float(struct ts_pq_writer *w, int leaf, int rep, float v);
int ts_pq_add_double(struct ts_pq_writer *w, int leaf, int rep, double v);
/* BYTE_ARRAY, and FIXED (n must be type_length). */
int ts_pq_add_bytes(struct ts_pq_writer *w, int leaf, int rep, const void *p, size_t n);
int ts_pq_row_end(struct ts_pq_writer *w);
void ts_pq_row_abort(struct ts_pq_writer *w);

/* Rows committed so far; bytes already given to the sink; and an estimate
 * of the bytes the file will have if finished now (the sink's bytes, the
 * open row group compressed as it stands, and the footer). */
uint64_t ts_pq_rows(const struct ts_pq_writer *w);
uint64_t ts_pq_bytes_written(const struct ts_pq_writer *w);
uint64_t ts_pq_bytes_estimate(const struct ts_pq_writer *w);
/* Bytes of memory the open row group holds. */
size_t ts_pq_buffered(const struct ts_pq_writer *w);

/* Write the open row group now (if it has rows), as if it had reached
 * row_group_bytes: the caller keeps several writers within one memory
 * budget.  0 or -1. */
int ts_pq_flush(struct ts_pq_writer *w);
/* Write the open row group and the footer: the file is complete.  0 or -1. */
int ts_pq_finish(struct ts_pq_writer *w);
/* Why the writer failed, or NULL. */
const char *ts_pq_error(const struct ts_pq_writer *w);

/* --- schemas and records (lib/pqschema.c) -------------------------------- */

/*
 * A Glue table's columns, as StorageDescriptor.Columns holds them:
 *	[{"Name": "eventname", "Type": "string"}, {"Name": "x", "Type":
 *	 "array<struct<a:bigint,b:map<string,double>>>", "Comment": ...}, ...]
 * (other members ignored; an object with a "Columns" array, or a whole
 * table with StorageDescriptor.Columns, is taken too).  Type names are
 * case-insensitive; struct field names keep their spelling.  0, or -1 with
 * "column NAME: what is wrong" in err.
 */
int ts_pq_schema_from_glue(struct ts_pq_schema *s, const char *json, size_t n,
			   char *err, size_t errlen);
/* The schema as the same JSON (one line), to print what --schema infer chose. */
int ts_pq_schema_to_glue(const struct ts_pq_schema *s, struct ts_buf *out);

/* Infer a schema from sample records: each top-level member a column, in
 * order of first appearance; types widen across records (bigint, double,
 * string), objects become structs, arrays arrays of their elements' type,
 * a member only ever null is a string. */
struct ts_pq_infer;
struct ts_pq_infer *ts_pq_infer_new(void);
int ts_pq_infer_add(struct ts_pq_infer *inf, struct ts_span rec);
int ts_pq_infer_schema(struct ts_pq_infer *inf, struct ts_pq_schema *s, char *err, size_t errlen);
void ts_pq_infer_free(struct ts_pq_infer *inf);

/*
 * Shred one record (a JSON object ts_json_scan() accepted) into w: every
 * column gets its values, members are matched to columns case-insensitively
 * unless case_sensitive (as the JSON SerDe does: eventName fills eventname),
 * members no column takes are counted in *dropped.  Conversions: a string
 * column takes any scalar (numbers and booleans as written, objects and
 * arrays as their JSON); integers take integers in range (or strings of
 * them); double/float any number (or its string); boolean true/false (or
 * "true"/"false"); timestamp what --time takes (ISO 8601 with a zone, epoch
 * seconds or milliseconds); date "yyyy-MM-dd" (or a timestamp: its UTC
 * day); decimal(p,s) a number or numeric string with at most s decimals and
 * p digits, exactly (never through a double).  On a value that cannot take
 * its type: -1, the row aborted, and "column a.b[]: "abc" is not a bigint"
 * in why (whyn bytes).  -2: the writer failed.
 */
int ts_pq_shred(const struct ts_pq_schema *s, struct ts_pq_writer *w, struct ts_span rec,
		int case_sensitive, uint64_t *dropped, char *why, size_t whyn);

/*
 * The same, emitting through callbacks instead of a writer: what the unit
 * tests and the fuzzer use to see every (leaf, def, rep, value) a record
 * gives.  The callbacks have the writer's meaning (ts_pq_add_*, and
 * row_end / row_abort); each returns 0 or -1 (then the record fails with
 * -2).  ts_pq_shred() is this with ts_pq_emit_writer and the writer as ctx.
 * Paths in messages: a.b for struct fields, a[] for an array's elements,
 * m{} for a map's values.
 */
struct ts_pq_emit {
	int (*null)(void *ctx, int leaf, int def, int rep);
	int (*boolean)(void *ctx, int leaf, int rep, int v);
	int (*i32)(void *ctx, int leaf, int rep, int32_t v);
	int (*i64)(void *ctx, int leaf, int rep, int64_t v);
	int (*f32)(void *ctx, int leaf, int rep, float v);
	int (*f64)(void *ctx, int leaf, int rep, double v);
	int (*bytes)(void *ctx, int leaf, int rep, const void *p, size_t n);
	int (*row_end)(void *ctx);
	void (*row_abort)(void *ctx);
};
extern const struct ts_pq_emit ts_pq_emit_writer;
int ts_pq_shred_to(const struct ts_pq_schema *s, const struct ts_pq_emit *e, void *ctx,
		   struct ts_span rec, int case_sensitive, uint64_t *dropped, char *why,
		   size_t whyn);

#endif
