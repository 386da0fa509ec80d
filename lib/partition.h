/*
 * partition.h — files under hive-style prefixes, as a delivery stream's
 * dynamic partitioning writes them, in bounded memory and file descriptors.
 *
 * Each distinct prefix is a partition with at most one file being written.
 * The file's path is the prefix and the file name put together as they are
 * (a prefix that does not end in '/' gets no '/': "dt=2024" gives the file
 * "dt=2024<name>-..." in the output root, as the service names objects).
 * A file is written under a temporary name in its final directory, starting
 * with '.' (Hive, Spark, Athena and Presto skip such names) and ending in
 * ".<run id>" TS_PART_TMP_SUFFIX; when it rolls it is fsync'ed (unless told
 * not to) and renamed to <name>-<yyyy-MM-dd-HH-mm-ss>-<uuid>[.gz] (the time
 * in opts.tz, UTC when NULL, as the service uses its custom time zone for
 * prefix and file name alike), and one manifest line describes it.  A reader
 * never sees a half file; after a crash only temporary files remain, and
 * ts_part_clean_temp() removes them.
 *
 * The output directory may be hostile.  Everything under it is reached from
 * a descriptor of the root: in one openat2() that refuses any symbolic link
 * (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) where the kernel has it, else, and
 * to create directories, one path component at a time (openat, mkdirat with
 * O_NOFOLLOW | O_DIRECTORY), then renameat, unlinkat, fsync on that
 * directory's descriptor; so nothing is ever created, written, renamed or
 * removed through a symbolic link found under it, even one planted between
 * two steps.  The root itself may be a link
 * (the user named it).  A link, or a file, where a partition's directory
 * goes makes that record's write refused (TS_PART_REJECTED, code
 * "unsafe_path"): the caller rejects the record and the run goes on.
 *
 * Which temporary files are whose: every run that writes holds, for its
 * whole life, an exclusive flock(2) on a lock file in its root,
 * ".ts-run-<run id>.lock" (16 random hex digits), and its temporary files
 * carry the same run id in their names.  The kernel drops the lock when the
 * process ends however it ends (kill -9 included), across PID namespaces and
 * on NFS (as a POSIX lock), so "is that run alive" never depends on process
 * ids, which are reused and differ between containers.  ts_part_clean_temp()
 * removes a temporary file only when no directory between it and the file
 * system root holds its run's lock file locked by someone (the writer's root
 * is always one of them, whatever -o the cleaner was given); lock files of
 * dead runs are removed with their files.  The lock file is created before
 * the run's first temporary file and removed after its last one; a run whose
 * new lock file a cleaner removed while it waited for the lock (nlink 0)
 * takes a new run id.  Temporary names without a run id (older versions)
 * count as dead.
 *
 * At most max_open files are open: the least recently used one is flushed
 * and closed, and reopened for appending when its partition gets another
 * record (a gzip file gets another gzip member), so 100,000 partitions work
 * under `ulimit -n 256` and records keep their order within a partition.
 * Besides those, a partitioner holds the root and the lock file open.
 * Buffers are allocated only for open files and shrink as max_open grows.
 */
#ifndef TS_PARTITION_H
#define TS_PARTITION_H

#include <stdint.h>

#include "buf.h"
#include "out.h"
#include "parquet.h"
#include "template.h"
#include "tstime.h"

#define TS_PART_TMP_SUFFIX ".ts-tmp"
#define TS_PART_LOCK_PREFIX ".ts-run-"
#define TS_PART_LOCK_SUFFIX ".lock"
#define TS_PART_RANDOM_MARK TS_TPL_RANDOM_MARK /* replaced per file */
#define TS_PART_MAX_NAME 150   /* longest opts.name: file names stay < 256 */

/* ts_part_write(): the record was not written, the run goes on. */
#define TS_PART_REJECTED 1

struct ts_part_opts {
	const char *dir;       /* output root */
	const char *name;      /* first part of file names */
	int gzip;
	int fsync;
	uint64_t max_bytes;    /* roll when a file reaches this (0: never) */
	uint64_t max_records;  /* ... or holds this many records (0: never) */
	double max_seconds;    /* ... or has been open this long (0: never) */
	size_t max_open;       /* open files at most */
	/* Parquet (pq_schema not NULL): data records are shredded into Parquet
	 * files named .parquet, by the schema (which the caller may fill in
	 * after ts_part_new(), before the first write); records of an error
	 * prefix stay NDJSON.  A record a column cannot take is refused
	 * (TS_PART_REJECTED, "schema_mismatch").  Column data of all open
	 * files together stays within pq_budget (0: 256 MiB): past it, the
	 * open file holding the most writes a row group early.  A file that
	 * max_open closes is finished and published (Parquet cannot be
	 * appended to), counted in ts_part_closed_early(). */
	const struct ts_pq_schema *pq_schema;
	struct ts_pq_opts pq;
	int pq_case_sensitive;
	size_t pq_budget;
	const struct ts_tz *tz; /* zone of the time in file names; NULL: UTC */
	struct ts_out *manifest;
};

struct ts_partitioner;

/* NULL when out of memory; otherwise check ts_part_error() (the root cannot
 * be opened). */
struct ts_partitioner *ts_part_new(const struct ts_part_opts *o);
/*
 * Route one record (n bytes, no newline; minified when has_ws) to the
 * partition of this rendered prefix.  time_ms is the record's time (for the
 * manifest's first/last).  is_error: a rejected record for an error prefix
 * (counted apart).  Returns
 *   0                 written;
 *   TS_PART_REJECTED  not written, nothing else harmed: the partition's path
 *                     is unsafe or its file name too long;
 *                     ts_part_rejection() says why; the run goes on;
 *   -1                an I/O error: ts_part_error() says what, and the
 *                     caller should ts_part_abort().
 */
int ts_part_write(struct ts_partitioner *p, const char *prefix, size_t plen,
		  const char *rec, size_t n, int has_ws, int64_t time_ms, int is_error);
/* After TS_PART_REJECTED: the error code ("unsafe_path", "key_too_long")
 * and a message naming the path.  Valid until the next call. */
/*
 * A whole file to rel (a path under the root, "a/b/name"): its directories
 * made as ts_part_write() makes them, its bytes read from src into a
 * temporary file, fsync'ed when opts.fsync, renamed into place.  0,
 * TS_PART_REJECTED (an unsafe or too long path: nothing written), or -1 (an
 * I/O error, ts_part_error(); the temporary file is removed).  Counted in
 * ts_part_files() and ts_part_bytes(), no manifest line.
 */
int ts_part_copy(struct ts_partitioner *p, const char *rel, int src);
const char *ts_part_rejection(const struct ts_partitioner *p, const char **message);
/* Roll files open longer than max_seconds. */
int ts_part_tick(struct ts_partitioner *p);
/* Roll every file.  0 or -1. */
int ts_part_close_all(struct ts_partitioner *p);
/* After a fatal error: remove the temporary files, publish nothing more. */
void ts_part_abort(struct ts_partitioner *p);
/* Also removes the lock file. */
void ts_part_free(struct ts_partitioner *p);
const char *ts_part_error(const struct ts_partitioner *p);
/* Files published, records in them (not counting rejected records),
 * bytes in them (all files, error files too, compressed size), partitions
 * seen. */
uint64_t ts_part_files(const struct ts_partitioner *p);
uint64_t ts_part_records(const struct ts_partitioner *p);
uint64_t ts_part_bytes(const struct ts_partitioner *p);
uint64_t ts_part_count(const struct ts_partitioner *p);
/* Parquet: members of records that no column took; files max_open finished. */
uint64_t ts_part_fields_dropped(const struct ts_partitioner *p);
uint64_t ts_part_closed_early(const struct ts_partitioner *p);
/* Records given to ts_part_write() that are in no published file: those in
 * the temporary files ts_part_abort() removed (is_error 0: data records,
 * 1: rejected records), and data records whose write failed with -1 (a
 * rejected record whose write fails is the caller's to keep elsewhere). */
uint64_t ts_part_dropped(const struct ts_partitioner *p, int is_error);

/* Remove the temporary files that runs no longer alive left under dir (and
 * their lock files); leave those of live runs.  Counts in *removed and
 * *kept.  Never follows a symbolic link.  0, or -1 when something could not
 * be removed or read. */
int ts_part_clean_temp(const char *dir, uint64_t *removed, uint64_t *kept);

#endif
