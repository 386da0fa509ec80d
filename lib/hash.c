/*
 * hash.c — SipHash-1-3 and the key table.  See hash.h.
 */
#include "hash.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* ---- SipHash-1-3 ---------------------------------------------------------- */

const struct ts_hkey ts_hkey_fixed = {0x6b6c6f6f742d7374ull, 0x64657869662d7469ull};

#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND(v0, v1, v2, v3)                                       \
	do {                                                           \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                 \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                 \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
	} while (0)

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

/* The last 0-7 bytes as a little-endian word. */
static inline uint64_t load_tail(const unsigned char *p, size_t n)
{
	uint64_t w = 0;
	switch (n) {
	case 7: w |= (uint64_t)p[6] << 48; /* fall through */
	case 6: w |= (uint64_t)p[5] << 40; /* fall through */
	case 5: w |= (uint64_t)p[4] << 32; /* fall through */
	case 4: w |= (uint64_t)p[3] << 24; /* fall through */
	case 3: w |= (uint64_t)p[2] << 16; /* fall through */
	case 2: w |= (uint64_t)p[1] << 8;  /* fall through */
	case 1: w |= (uint64_t)p[0];       /* fall through */
	default: break;
	}
	return w;
}

void ts_hash_init(struct ts_hstate *s, const struct ts_hkey *k)
{
	s->v0 = k->k0 ^ 0x736f6d6570736575ull;
	s->v1 = k->k1 ^ 0x646f72616e646f6dull;
	s->v2 = k->k0 ^ 0x6c7967656e657261ull;
	s->v3 = k->k1 ^ 0x7465646279746573ull;
	s->tail = 0;
	s->len = 0;
}

static inline void compress(struct ts_hstate *s, uint64_t m)
{
	uint64_t v0 = s->v0, v1 = s->v1, v2 = s->v2, v3 = s->v3;
	v3 ^= m;
	SIPROUND(v0, v1, v2, v3);
	v0 ^= m;
	s->v0 = v0, s->v1 = v1, s->v2 = v2, s->v3 = v3;
}

void ts_hash_update(struct ts_hstate *s, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t have = s->len & 7;

	s->len += n;
	if (have) {
		/* fill the pending word first */
		while (have < 8 && n) {
			s->tail |= (uint64_t)*b++ << (8 * have++);
			n--;
		}
		if (have < 8)
			return;
		compress(s, s->tail);
		s->tail = 0;
	}
	for (; n >= 8; b += 8, n -= 8)
		compress(s, load64(b));
	s->tail = load_tail(b, n);
}

uint64_t ts_hash_final(struct ts_hstate *s)
{
	uint64_t v0, v1, v2, v3;

	compress(s, s->tail | (uint64_t)(s->len & 0xff) << 56);
	v0 = s->v0, v1 = s->v1, v2 = s->v2 ^ 0xff, v3 = s->v3;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t ts_hash(const struct ts_hkey *k, const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t v0 = k->k0 ^ 0x736f6d6570736575ull;
	uint64_t v1 = k->k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k->k0 ^ 0x6c7967656e657261ull;
	uint64_t v3 = k->k1 ^ 0x7465646279746573ull;
	uint64_t m;
	size_t len = n;

	for (; n >= 8; b += 8, n -= 8) {
		m = load64(b);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	m = load_tail(b, n) | (uint64_t)(len & 0xff) << 56;
	v3 ^= m;
	SIPROUND(v0, v1, v2, v3);
	v0 ^= m;
	v2 ^= 0xff;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

void ts_hkey_random(struct ts_hkey *k)
{
	unsigned char b[16];
	struct timespec ts;

	if (getrandom(b, sizeof(b), GRND_NONBLOCK) == (ssize_t)sizeof(b)) {
		k->k0 = load64(b);
		k->k1 = load64(b + 8);
		return;
	}
	/* no entropy to be had (very early boot, seccomp): still different
	 * from run to run and from process to process */
	clock_gettime(CLOCK_REALTIME, &ts);
	k->k0 = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	k->k1 = (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)&ts ^
		(uint64_t)(uintptr_t)k << 17;
	k->k0 = ts_hash(&ts_hkey_fixed, k, sizeof(*k));
	k->k1 ^= k->k0 * 0x9e3779b97f4a7c15ull;
}

const struct ts_hkey *ts_hkey_process(void)
{
	static struct ts_hkey key;
	static int have;

	/* the programs are single-threaded; a second thread racing here would
	 * at worst make the key twice before any table is built */
	if (!have) {
		ts_hkey_random(&key);
		have = 1;
	}
	return &key;
}

/* ---- the table ------------------------------------------------------------- */

/*
 * A slot is (hash low 32 bits) << 32 | (arena position / 8 + 1), 0 when
 * empty.  An arena record is [value u64][length u32][key bytes], padded to a
 * multiple of 8 so the next value is aligned; a key longer than LONG is
 * kept in an allocation of its own, the record holding a pointer to it
 * ([value][length][4 bytes unused][pointer]), so every record fits a chunk
 * and chunks are all alike.  A chunk that cannot take the next record ends
 * with a length of SKIP when there is room for one (less than a header's
 * room needs no mark): iteration goes on at the next chunk.
 */
#define CHUNK_BITS 16
#define CHUNK ((uint64_t)1 << CHUNK_BITS)
#define HDR 12
#define LONG 4096
#define SKIP 0xffffffffu
#define MAX_POS ((uint64_t)0xfffffffe << 3) /* pos / 8 + 1 fits 32 bits */

/*
 * Big tables are allocated in 2 MiB pieces the kernel may back with huge
 * pages: first touching fresh memory page by page is what a table of
 * millions of keys spends most of its time on (a 4 KiB fault per 85 keys),
 * and a huge page also spares the TLB the random probes.  The first 32
 * chunks are allocated one by one, so a small table stays small; after
 * them chunks come 32 at a time (a slab).
 */
#define HUGE ((size_t)2 << 20)
#define SLAB_CHUNKS 32 /* HUGE / CHUNK */

/* Does chunk entry i start an allocation of its own? */
static inline int chunk_owned(size_t i)
{
	return i < SLAB_CHUNKS || i % SLAB_CHUNKS == 0;
}

static inline char *at(const struct ts_htab *t, uint64_t pos)
{
	return t->chunks[pos >> CHUNK_BITS] + (pos & (CHUNK - 1));
}

static inline char *slot_rec(const struct ts_htab *t, uint64_t s)
{
	return at(t, ((s & 0xffffffffu) - 1) << 3);
}

static inline uint32_t rec_len(const char *r)
{
	uint32_t n;
	memcpy(&n, r + 8, 4);
	return n;
}

static inline const char *rec_key(const char *r, uint32_t n)
{
	const char *k;
	if (n <= LONG)
		return r + HDR;
	memcpy(&k, r + 16, sizeof(k));
	return k;
}

static inline uint64_t rec_size(size_t n)
{
	return n > LONG ? 24 : ((uint64_t)HDR + n + 7) & ~(uint64_t)7;
}

void ts_htab_init(struct ts_htab *t)
{
	memset(t, 0, sizeof(*t));
}

/* Free the long keys' allocations. */
static void free_long(struct ts_htab *t)
{
	uint64_t pos = 0, *v;
	const char *k;
	size_t n;

	if (!t->nlong)
		return;
	while (ts_htab_next(t, &pos, &k, &n, &v))
		if (n > LONG) {
			free((void *)(uintptr_t)k);
			t->bytes -= n;
		}
	t->nlong = 0;
}

void ts_htab_release(struct ts_htab *t)
{
	free_long(t);
	for (size_t i = 0; i < t->nchunks; i++)
		if (chunk_owned(i))
			free(t->chunks[i]);
	free(t->chunks);
	free(t->slots);
	ts_htab_init(t);
}

void ts_htab_reset(struct ts_htab *t)
{
	free_long(t);
	if (t->slots)
		memset(t->slots, 0, t->cap * sizeof(*t->slots));
	t->count = 0;
	t->used = 0;
}

static int grow_slots(struct ts_htab *t)
{
	size_t nc = t->cap ? t->cap * 2 : 64;
	uint64_t *ns;

	if (nc > ((size_t)1 << 32) || nc > SIZE_MAX / sizeof(*ns)) {
		errno = EFBIG;
		return -1;
	}
	if (nc * sizeof(*ns) >= HUGE) {
		if (!(ns = ts_alloc_huge(nc * sizeof(*ns))))
			return -1;
		memset(ns, 0, nc * sizeof(*ns));
	} else if (!(ns = calloc(nc, sizeof(*ns)))) {
		return -1;
	}
	/* the slots keep 32 bits of hash: no key is read to move them */
	for (size_t i = 0; i < t->cap; i++) {
		uint64_t s = t->slots[i];
		if (!s)
			continue;
		size_t j = (size_t)(s >> 32) & (nc - 1);
		while (ns[j])
			j = (j + 1) & (nc - 1);
		ns[j] = s;
	}
	free(t->slots);
	t->bytes += (nc - t->cap) * sizeof(*ns);
	t->slots = ns;
	t->cap = nc;
	return 0;
}

/* Room for a record of sz (<= CHUNK) bytes: its position, or UINT64_MAX
 * with errno set.  After a reset the chunks are used again. */
static uint64_t arena_take(struct ts_htab *t, uint64_t sz)
{
	uint64_t pos = t->used, off = pos & (CHUNK - 1);

	if (off && off + sz > CHUNK) {
		if (CHUNK - off >= HDR) {
			uint32_t skip = SKIP;
			memcpy(at(t, pos) + 8, &skip, 4);
		}
		pos += CHUNK - off;
		off = 0;
	}
	if (!off && (pos >> CHUNK_BITS) >= t->nchunks) {
		size_t k = t->nchunks < SLAB_CHUNKS ? 1 : SLAB_CHUNKS;
		if (pos + k * CHUNK > MAX_POS) {
			errno = EFBIG;
			return UINT64_MAX;
		}
		if (t->nchunks + k > t->chunks_cap) {
			size_t nc = t->chunks_cap ? t->chunks_cap * 2 : 8;
			while (nc < t->nchunks + k)
				nc *= 2;
			char **c = realloc(t->chunks, nc * sizeof(*c));
			if (!c)
				return UINT64_MAX;
			t->bytes += (nc - t->chunks_cap) * sizeof(*c);
			t->chunks = c;
			t->chunks_cap = nc;
		}
		char *c = k == 1 ? malloc(CHUNK) : ts_alloc_huge(HUGE);
		if (!c)
			return UINT64_MAX;
		for (size_t i = 0; i < k; i++)
			t->chunks[t->nchunks++] = c + i * CHUNK;
		t->bytes += k * CHUNK;
	}
	t->used = pos + sz;
	return pos;
}

size_t ts_htab_bytes_if_new(const struct ts_htab *t, size_t n)
{
	size_t b = t->bytes;
	uint64_t sz = rec_size(n), pos = t->used, off = pos & (CHUNK - 1);

	/* as ts_htab_put() and arena_take() will allocate */
	if ((t->count + 1) * 4 > t->cap * 3)
		b += (t->cap ? t->cap * 2 : 64) * sizeof(uint64_t);
	if (n > LONG)
		b += n;
	if (off && off + sz > CHUNK)
		pos += CHUNK - off, off = 0;
	if (!off && (pos >> CHUNK_BITS) >= t->nchunks) {
		size_t k = t->nchunks < SLAB_CHUNKS ? 1 : SLAB_CHUNKS;
		b += k * CHUNK;
		if (t->nchunks + k > t->chunks_cap) {
			size_t nc = t->chunks_cap ? t->chunks_cap * 2 : 8;
			while (nc < t->nchunks + k)
				nc *= 2;
			b += (nc - t->chunks_cap) * sizeof(char *);
		}
	}
	return b;
}

uint64_t *ts_htab_get(const struct ts_htab *t, uint64_t h, const void *key,
		      size_t n)
{
	uint32_t h32 = (uint32_t)h;

	if (!t->cap)
		return NULL;
	for (size_t i = h32 & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		uint64_t s = t->slots[i];
		if (!s)
			return NULL;
		if ((uint32_t)(s >> 32) != h32)
			continue;
		char *r = slot_rec(t, s);
		uint32_t len = rec_len(r);
		if (len == n && memcmp(rec_key(r, len), key, n) == 0)
			return (uint64_t *)(void *)r;
	}
}

uint64_t *ts_htab_put(struct ts_htab *t, uint64_t h, const void *key, size_t n,
		      int *is_new)
{
	uint32_t h32 = (uint32_t)h;
	size_t i = 0;

	if (n >= SKIP) {
		errno = EFBIG;
		return NULL;
	}
	if (t->cap) {
		for (i = h32 & (t->cap - 1); t->slots[i]; i = (i + 1) & (t->cap - 1)) {
			uint64_t s = t->slots[i];
			if ((uint32_t)(s >> 32) != h32)
				continue;
			char *r = slot_rec(t, s);
			uint32_t len = rec_len(r);
			if (len == n && memcmp(rec_key(r, len), key, n) == 0) {
				if (is_new)
					*is_new = 0;
				return (uint64_t *)(void *)r;
			}
		}
	}
	/* at most 3/4 full: linear probes stay short */
	if ((t->count + 1) * 4 > t->cap * 3) {
		if (grow_slots(t) < 0)
			return NULL;
		for (i = h32 & (t->cap - 1); t->slots[i]; i = (i + 1) & (t->cap - 1))
			;
	}
	char *own = NULL;
	if (n > LONG) {
		if (!(own = malloc(n)))
			return NULL;
		memcpy(own, key, n);
	}
	uint64_t pos = arena_take(t, rec_size(n));
	if (pos == UINT64_MAX) {
		free(own);
		return NULL;
	}
	char *r = at(t, pos);
	uint64_t zero = 0;
	uint32_t len = (uint32_t)n;
	memcpy(r, &zero, 8);
	memcpy(r + 8, &len, 4);
	if (own) {
		memcpy(r + 16, &own, sizeof(own));
		t->nlong++;
		t->bytes += n;
	} else if (n) {
		memcpy(r + HDR, key, n);
	}
	t->slots[i] = (uint64_t)h32 << 32 | ((pos >> 3) + 1);
	t->count++;
	if (is_new)
		*is_new = 1;
	return (uint64_t *)(void *)r;
}

int ts_htab_next(const struct ts_htab *t, uint64_t *pos, const char **key,
		 size_t *n, uint64_t **val)
{
	uint64_t p = *pos;

	while (p < t->used) {
		uint64_t off = p & (CHUNK - 1);
		if (off && CHUNK - off < HDR) { /* no room for a mark */
			p += CHUNK - off;
			continue;
		}
		char *r = at(t, p);
		uint32_t len = rec_len(r);
		if (len == SKIP) {
			p += CHUNK - off;
			continue;
		}
		*key = rec_key(r, len);
		*n = len;
		*val = (uint64_t *)(void *)r;
		*pos = p + rec_size(len);
		return 1;
	}
	*pos = p;
	return 0;
}
