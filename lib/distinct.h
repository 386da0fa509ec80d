/*
 * distinct.h — a multiset of byte strings (value -> count) that spills to
 * disk, for the metrics of uniqueness: Uniqueness, UniqueValueRatio,
 * DistinctValuesCount, Entropy, IsUnique, IsPrimaryKey.
 *
 * Keys are opaque bytes: the caller passes canonical value bytes (equal by
 * meaning <=> equal bytes), and for a key over several columns an
 * unambiguous concatenation (length-prefixed parts, say).
 *
 * Memory.  Values are counted in a hash table whose hash is keyed per
 * process at random (keys come from untrusted data).  The table, with what
 * sorting it will need, stays within a memory budget (default 128 MiB):
 * when the next key would take it past, its entries are sorted by a fixed
 * order and written out as a run to a temporary file, and the table starts
 * again empty.  Runs live in $TMPDIR (or /tmp, or opts.tmpdir) as files
 * unlinked as soon as they are created (O_TMPFILE where the kernel has it),
 * so nothing is left behind on any path out, a crash included.  At most 64
 * runs are kept: the 65th folds them into one.  Statistics, writing and
 * merging read the runs and the table together in one k-way merge, never
 * loading more than the table and a 64 KiB buffer per run.  Measured: 10
 * million distinct 36-byte keys at the default budget peak at 117 MB RSS
 * (6 runs); reading four set streams of those back into one set, 2.4 MB.
 *
 * The fixed order ("set order"): by h = ts_hash(&ts_hkey_fixed, key) as an
 * unsigned 64-bit integer, then by the key bytes (memcmp, then length) —
 * the same in every process, which is what lets sets written by different
 * processes merge as sorted streams without a table.  (A stream written
 * under another fixed key reads as out of order and is refused.)
 *
 * Statistics depend only on the multiset of counts, never on the order of
 * additions, on the budget, on spilling or on how the input was split
 * between sets merged afterwards: merged sets give bit-identical stats to
 * one pass.
 *
 * Errors: functions returning int give 0, or -1 with errno set (ENOMEM,
 * an I/O error of a temporary file such as ENOSPC, EOVERFLOW when a count
 * would pass 2^64 - 1, EINVAL for a malformed set stream, E2BIG for a key
 * longer than TS_DISTINCT_KEY_MAX) and a message in ts_distinct_error().
 * A call that fails leaves the set as it was before the call: a value whose
 * addition failed (its spill could not be written, say) was not added, a
 * stream that failed to read added nothing.
 */
#ifndef TS_DISTINCT_H
#define TS_DISTINCT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TS_DISTINCT_DEFAULT_BUDGET ((uint64_t)128 << 20)
#define TS_DISTINCT_MIN_BUDGET ((uint64_t)1 << 20) /* smaller budgets are raised to this */
#define TS_DISTINCT_KEY_MAX ((size_t)1 << 28)

struct ts_distinct;

struct ts_distinct_opts {
	uint64_t budget;    /* bytes of memory; 0 = TS_DISTINCT_DEFAULT_BUDGET */
	const char *tmpdir; /* where runs go; NULL = $TMPDIR, else /tmp (copied) */
};

struct ts_distinct_stats {
	uint64_t n_rows;     /* values added: the sum of all counts */
	uint64_t n_distinct; /* different values */
	uint64_t n_once;     /* values whose count is 1 */
	uint64_t max_count;  /* the largest count; 0 for an empty set */
	/* -Σ p ln p over values, p = count / n_rows (natural logarithm; divide
	 * by ln 2 for bits); 0 for an empty set.  Summed exactly over the
	 * histogram of counts, so deterministic. */
	double entropy;
};

/* opts may be NULL (defaults).  NULL with errno on failure. */
struct ts_distinct *ts_distinct_new(const struct ts_distinct_opts *opts);
void ts_distinct_free(struct ts_distinct *d);

/* Count one more occurrence (count more occurrences) of the n bytes at key.
 * A count of 0 does nothing. */
int ts_distinct_add(struct ts_distinct *d, const void *key, size_t n);
int ts_distinct_add_count(struct ts_distinct *d, const void *key, size_t n,
			  uint64_t count);
/* The same with the key's hash supplied, to hash it once: h must be
 * ts_hash(ts_hkey_process(), key, n) — e.g. ts_value_hash(ts_hkey_process(),
 * v) for the value whose canonical bytes key holds. */
int ts_distinct_add_hashed(struct ts_distinct *d, const void *key, size_t n,
			   uint64_t h, uint64_t count);

/* The statistics of everything added so far.  The set stays usable:
 * adding may go on after. */
int ts_distinct_stats(struct ts_distinct *d, struct ts_distinct_stats *st);

/*
 * Set stream: the whole multiset, written to f at its current position as
 * one self-delimiting section (the reader stops at its last byte, so a
 * state file may hold several sets and other data around them):
 *
 *   "TSDSET1\n"                                  8 bytes
 *   per value, in set order, each value once:
 *     varint(len + 1)  len key bytes  varint(count)     count >= 1
 *   0x00                                         end of values
 *   varint(values)  varint(sum of counts)
 *   crc32 of every byte above (zlib's crc32), 4 bytes little-endian
 *
 * varint = unsigned LEB128, 7 bits a byte, least significant first, in its
 * shortest form, at most 64 bits.  The bytes depend only on the multiset:
 * equal sets give equal streams, however they were built.
 *
 * ts_distinct_write: 0, or -1 (errno from the write, or the set's failure).
 * ts_distinct_read: checks everything (form, order, lengths, counts,
 * totals, checksum) and merges the values into d (counts add); -1 with
 * errno = EINVAL on anything malformed or truncated, d unchanged.  The
 * stream is copied, checked as it goes, into a run of d (a temporary file),
 * which joins d's runs only once the whole stream proved good: memory does
 * not grow with the stream.
 */
int ts_distinct_write(struct ts_distinct *d, FILE *f);
int ts_distinct_read(struct ts_distinct *d, FILE *f);

/* Merge src into d (counts add): src's values, merged, become a run of d.
 * src keeps its values (its table may be sorted, not changed). */
int ts_distinct_merge(struct ts_distinct *d, struct ts_distinct *src);

/* Move src's values into d (counts add), leaving src empty: src's table
 * goes out as a run and its run files become d's, nothing is read or
 * copied again (runs are folded first when the two together would pass the
 * number kept).  What one thread's set hands to the run's.  On failure
 * both sets are as they were. */
int ts_distinct_take(struct ts_distinct *d, struct ts_distinct *src);

/* Bytes of memory held now (table, arena, buffers), and runs on disk. */
uint64_t ts_distinct_memory(const struct ts_distinct *d);
unsigned ts_distinct_runs(const struct ts_distinct *d);

/* The message of the last failure ("" if none), e.g. "cannot write a
 * temporary file in /tmp: No space left on device". */
const char *ts_distinct_error(const struct ts_distinct *d);

#endif
