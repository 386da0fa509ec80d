/*
 * partition.h — files under hive-style prefixes, as a delivery stream's
 * dynamic partitioning writes them, in bounded memory and file descriptors.
 *
 * Each distinct prefix is a partition with at most one file being written.
 * A file is written under a temporary name in its final directory, starting
 * with '.' (Hive, Spark, Athena and Presto skip such names) and ending in
 * TS_PART_TMP_SUFFIX; when it rolls it is fsync'ed (unless told not to) and
 * renamed to <name>-<yyyy-MM-dd-HH-mm-ss>-<uuid>[.gz], and one manifest line
 * describes it.  A reader never sees a half file; after a crash only
 * temporary files remain, and ts_part_clean_temp() removes them.
 *
 * At most max_open files are open: the least recently used one is flushed
 * and closed, and reopened for appending when its partition gets another
 * record (a gzip file gets another gzip member), so 100,000 partitions work
 * under `ulimit -n 256` and records keep their order within a partition.
 * Buffers are allocated only for open files and shrink as max_open grows.
 */
#ifndef TS_PARTITION_H
#define TS_PARTITION_H

#include <stdint.h>

#include "buf.h"
#include "out.h"
#include "template.h"

#define TS_PART_TMP_SUFFIX ".ts-tmp"
#define TS_PART_RANDOM_MARK TS_TPL_RANDOM_MARK /* replaced per file */

struct ts_part_opts {
	const char *dir;       /* output root */
	const char *name;      /* first part of file names */
	int gzip;
	int fsync;
	uint64_t max_bytes;    /* roll when a file reaches this (0: never) */
	uint64_t max_records;  /* ... or holds this many records (0: never) */
	double max_seconds;    /* ... or has been open this long (0: never) */
	size_t max_open;       /* open files at most */
	struct ts_out *manifest;
};

struct ts_partitioner;

struct ts_partitioner *ts_part_new(const struct ts_part_opts *o);
/* Route one record (n bytes, no newline; minified when has_ws) to the
 * partition of this rendered prefix.  time_ms is the record's time (for the
 * manifest's first/last).  0, or -1 on an I/O error: ts_part_error() says
 * what, and the caller should ts_part_abort(). */
int ts_part_write(struct ts_partitioner *p, const char *prefix, size_t plen,
		  const char *rec, size_t n, int has_ws, int64_t time_ms, int is_error);
/* Roll files open longer than max_seconds. */
int ts_part_tick(struct ts_partitioner *p);
/* Roll every file.  0 or -1. */
int ts_part_close_all(struct ts_partitioner *p);
/* After a fatal error: remove the temporary files, publish nothing more. */
void ts_part_abort(struct ts_partitioner *p);
void ts_part_free(struct ts_partitioner *p);
const char *ts_part_error(const struct ts_partitioner *p);
/* Files published, records in them (not counting rejected records),
 * partitions seen. */
uint64_t ts_part_files(const struct ts_partitioner *p);
uint64_t ts_part_records(const struct ts_partitioner *p);
uint64_t ts_part_count(const struct ts_partitioner *p);

/* Remove temporary files a killed run left under dir.  Count in *removed. */
int ts_part_clean_temp(const char *dir, uint64_t *removed);



#endif
