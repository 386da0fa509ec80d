/*
 * hash.h — keyed hashing (SipHash-1-3) and an open-addressing table of
 * byte-string keys built for millions of entries.
 *
 * Hashing.  ts_hash() is SipHash-1-3 (one compression round per 8-byte
 * word, three finalisation rounds) with a 128-bit key, 64-bit output.  Two
 * kinds of key:
 *   ts_hkey_random()  per process, from getrandom(): for in-memory tables fed
 *                     by untrusted data (nobody can aim collisions at them).
 *                     Hashes differ from run to run: never write them out.
 *   ts_hkey_fixed     a documented constant, the same everywhere and forever:
 *                     for anything two processes must agree on (state files,
 *                     shards): k0 = 0x6b6c6f6f742d7374, k1 = 0x64657869662d7469
 *                     (the 16 bytes "ts-toolkit-fixed" as two little-endian
 *                     words).  Changing it changes every state file.
 * The streaming form (ts_hash_init/update/final) gives the same value as
 * ts_hash() over the concatenated bytes, however they are split.
 *
 * The table.  struct ts_htab maps byte strings (any bytes, any length below
 * 4 GiB) to one uint64_t each (a count, an index, or a pointer cast through
 * uintptr_t).  The caller supplies the 64-bit hash of each key — normally
 * ts_hash() with a random key — and must pass the same hash for the same key
 * every time.  The table uses the low 32 bits of the hash; a caller that
 * splits keys into groups by hash (spilling to disk) should split by the
 * high bits, so each group's table still sees well-spread low bits.
 *
 * Memory: one 8-byte slot per bucket (32 bits of hash and the key's place in
 * the arena), at most 3/4 full; keys and values live in an arena of 64 KiB
 * chunks, 12 bytes of header per key rounded up to 8 (a key of more than
 * 4 KiB gets an allocation of its own).  Past 2 MiB, the arena grows and
 * the slots are allocated in 2 MiB pieces advised as huge pages (a cold
 * insert costs 1.6 times less where the kernel grants them).  A 36-byte key costs 48 bytes of
 * arena plus 10.7-21.3 bytes of slots: 10 million of them take 614 MB,
 * 3 million 176 MB (the raw keys alone are 360 and 108 MB).  While the
 * slots grow, the old array and the new one (twice its size) are both
 * held.  ts_htab_bytes() says what the table holds allocated, so a caller
 * can spill at a budget.  Keys cannot be removed one by one.
 *
 * Ownership: the table owns copies of the keys; pointers it returns (value
 * slots, keys from iteration) stay valid until ts_htab_reset() or
 * ts_htab_release(): inserting more keys never moves them.
 */
#ifndef TS_HASH_H
#define TS_HASH_H

#include <stddef.h>
#include <stdint.h>

struct ts_hkey {
	uint64_t k0, k1;
};

/* A fresh random key from getrandom() (falls back to time and address
 * bits when getrandom() fails: never blocks, never fails). */
void ts_hkey_random(struct ts_hkey *k);
/* The random key of this process: made on first use, the same afterwards. */
const struct ts_hkey *ts_hkey_process(void);
extern const struct ts_hkey ts_hkey_fixed;

uint64_t ts_hash(const struct ts_hkey *k, const void *p, size_t n);

/* Streaming: init, update any number of times, final (once). */
struct ts_hstate {
	uint64_t v0, v1, v2, v3;
	uint64_t tail; /* up to 7 bytes not yet hashed, little-endian */
	size_t len;    /* bytes so far */
};
void ts_hash_init(struct ts_hstate *s, const struct ts_hkey *k);
void ts_hash_update(struct ts_hstate *s, const void *p, size_t n);
uint64_t ts_hash_final(struct ts_hstate *s);

/* --- the table ----------------------------------------------------------- */

struct ts_htab {
	uint64_t *slots;   /* 0 = empty; else hash low 32 bits << 32 | arena pos */
	size_t cap;        /* slots, a power of two (0 before the first insert) */
	size_t count;      /* keys */
	char **chunks;     /* chunk i holds arena bytes [i * 64 KiB, (i+1) * 64 KiB) */
	size_t nchunks, chunks_cap;
	size_t nlong;      /* keys of more than 4 KiB, allocated one by one */
	uint64_t used;     /* arena bytes handed out, chunk tails included */
	size_t bytes;      /* everything allocated, for ts_htab_bytes() */
};

void ts_htab_init(struct ts_htab *t);
/* Free everything and re-init. */
void ts_htab_release(struct ts_htab *t);
/* Forget every key but keep the memory for the next ones (after a spill). */
void ts_htab_reset(struct ts_htab *t);

/*
 * Find the key (n bytes at key, hash h) or insert it with value 0.  Returns
 * its value slot and sets *is_new (when is_new is not NULL) to 1 when the key
 * was inserted, 0 when it was there.  NULL with errno ENOMEM, or EFBIG for a
 * key of 4 GiB or more or a table past 32 GiB of keys; the table is unchanged
 * then.
 */
uint64_t *ts_htab_put(struct ts_htab *t, uint64_t h, const void *key, size_t n,
		      int *is_new);
/* The value slot of the key, or NULL when it is not there. */
uint64_t *ts_htab_get(const struct ts_htab *t, uint64_t h, const void *key,
		      size_t n);

static inline size_t ts_htab_count(const struct ts_htab *t) { return t->count; }
/* Bytes allocated: slots, arena, chunk table. */
static inline size_t ts_htab_bytes(const struct ts_htab *t) { return t->bytes; }
/* The most the table will hold allocated while inserting one more key of n
 * bytes that is not there yet (when the slots grow, the old and the new
 * array are both held for a moment): spill before it passes the budget. */
size_t ts_htab_bytes_if_new(const struct ts_htab *t, size_t n);

/*
 * Iterate in insertion order: start with pos = 0; each call returns 1 with
 * the next key (not NUL-terminated), its length and its value slot, or 0 at
 * the end.  Inserting while iterating is allowed; the new keys come later.
 */
int ts_htab_next(const struct ts_htab *t, uint64_t *pos, const char **key,
		 size_t *n, uint64_t **val);

#endif
