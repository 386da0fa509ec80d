/* test_hash.c — lib/hash.h: SipHash-1-3 against the reference vectors, the
 * streaming form, keys, and the key table (growth, long keys, iteration in
 * insertion order, reset, memory accounting). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hash.h"

/*
 * SipHash-1-3 of the bytes 00 01 02 .. (len-1) under the all-zero key, as
 * the reference implementation (with one compression and three
 * finalisation rounds) computes them: published vectors.
 */
static const uint64_t zero_key_vectors[] = {
	0xd1fba762150c532cull, 0x68a914128e01e473ull, 0x010bac45c41e3669ull,
	0x4d4c9a4a8ef6e0adull, 0x7cc43f98813e4dbdull, 0x5abe2169dff36275ull,
	0xe3c25f87624f1cdbull, 0x2f098ab0c751325aull, 0xead411e67ebe2eeaull,
	0x75927f9d95124362ull, 0xaf9f77a65ab51a1dull, 0xfe64ce8b6617fcffull,
	0xa6baf4fb0f9fe1c2ull, 0xa0cf3211850f8e0dull, 0x7f86049379fbfe67ull,
	0xf30eb725bb91c9eaull, 0x8972188433a5c5b7ull, 0x4883c49a2c009c1dull,
	0xadc2c0b63044067dull, 0x091f4a3329f87d19ull, 0x639e355ae68c0100ull,
	0xb17bef2cb5213239ull, 0xf8aeb1066236ccfeull, 0x37332b1389daa4ffull,
	0x31185a47af932f3aull, 0xebf352e82ae23e2full, 0xed36ff242fe478b2ull,
	0x2454d97d299299dfull, 0x8cd57fe8130d0ac7ull, 0xbe98eb2faf0a0e85ull,
	0xd427c34ee09470c6ull, 0x169739443111d49bull, 0x31ef8061c910629bull,
	0x7fb71d24dfa4c9f6ull, 0x92771f49e836d389ull, 0x3c393cf6f0853bc3ull,
	0xac77921fcc642bd3ull,
};

static void test_vectors(void)
{
	const struct ts_hkey zero = {0, 0};
	unsigned char msg[64];
	size_t nv = sizeof(zero_key_vectors) / sizeof(zero_key_vectors[0]);

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)i;
	for (size_t len = 0; len < nv; len++) {
		uint64_t h = ts_hash(&zero, msg, len);
		if (!CHECK(h == zero_key_vectors[len]))
			fprintf(stderr, "    length %zu: %016llx\n", len,
				(unsigned long long)h);
	}
	/* the key matters, and the fixed key is what the header says */
	CHECK(ts_hkey_fixed.k0 == 0x6b6c6f6f742d7374ull);
	CHECK(ts_hkey_fixed.k1 == 0x64657869662d7469ull);
	CHECK(ts_hash(&ts_hkey_fixed, msg, 8) != ts_hash(&zero, msg, 8));
	/* pinned: a change here changes every state file and shard */
	CHECK(ts_hash(&ts_hkey_fixed, "", 0) == 0x415ae90cf662132full);
	CHECK(ts_hash(&ts_hkey_fixed, "\"eventID\"", 9) == 0xf9e701e97379f9feull);
}

static void test_streaming(void)
{
	struct ts_hkey k = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
	unsigned char msg[100];
	struct ts_hstate s;

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)(i * 7 + 3);
	for (size_t len = 0; len <= sizeof(msg); len++) {
		uint64_t want = ts_hash(&k, msg, len);
		/* every split into two, and byte by byte */
		for (size_t cut = 0; cut <= len; cut += 3) {
			ts_hash_init(&s, &k);
			ts_hash_update(&s, msg, cut);
			ts_hash_update(&s, msg + cut, len - cut);
			if (!CHECK(ts_hash_final(&s) == want))
				fprintf(stderr, "    len %zu cut %zu\n", len, cut);
		}
		ts_hash_init(&s, &k);
		for (size_t i = 0; i < len; i++)
			ts_hash_update(&s, msg + i, 1);
		ts_hash_update(&s, msg, 0);
		CHECK(ts_hash_final(&s) == want);
	}
}

static void test_keys(void)
{
	struct ts_hkey a, b;

	ts_hkey_random(&a);
	ts_hkey_random(&b);
	CHECK(a.k0 != b.k0 || a.k1 != b.k1);
	const struct ts_hkey *p = ts_hkey_process(), *q = ts_hkey_process();
	CHECK(p == q && p->k0 == q->k0);
	CHECK(ts_hash(&a, "abc", 3) != ts_hash(&b, "abc", 3));
}

/* A deliberately poor hash: many keys share the low bits. */
static uint64_t weak(const char *k, size_t n)
{
	return n ? (uint64_t)(unsigned char)k[0] % 3 : 0;
}

static void test_table_basic(void)
{
	struct ts_htab t;
	const struct ts_hkey *k = ts_hkey_process();
	char key[32];
	int is_new = -1;

	ts_htab_init(&t);
	CHECK(ts_htab_count(&t) == 0 && ts_htab_bytes(&t) == 0);
	CHECK(ts_htab_get(&t, 1, "a", 1) == NULL);

	uint64_t *v = ts_htab_put(&t, ts_hash(k, "a", 1), "a", 1, &is_new);
	CHECK(v && is_new == 1 && *v == 0);
	*v = 42;
	uint64_t *w = ts_htab_put(&t, ts_hash(k, "a", 1), "a", 1, &is_new);
	CHECK(w == v && is_new == 0 && *w == 42);
	/* the empty key is a key like any other; bytes with NULs too */
	v = ts_htab_put(&t, ts_hash(k, "", 0), "", 0, &is_new);
	CHECK(v && is_new == 1);
	*v = 7;
	v = ts_htab_put(&t, ts_hash(k, "a\0b", 3), "a\0b", 3, NULL);
	CHECK(v && *v == 0);
	*v = 9;
	CHECK(ts_htab_count(&t) == 3);
	CHECK(*ts_htab_get(&t, ts_hash(k, "", 0), "", 0) == 7);
	CHECK(*ts_htab_get(&t, ts_hash(k, "a\0b", 3), "a\0b", 3) == 9);
	CHECK(ts_htab_get(&t, ts_hash(k, "a\0c", 3), "a\0c", 3) == NULL);
	/* same hash, different key: both kept */
	v = ts_htab_put(&t, 5, "x", 1, NULL);
	w = ts_htab_put(&t, 5, "y", 1, NULL);
	CHECK(v && w && v != w);
	*v = 1, *w = 2;
	CHECK(*ts_htab_get(&t, 5, "x", 1) == 1 && *ts_htab_get(&t, 5, "y", 1) == 2);
	ts_htab_release(&t);
	CHECK(ts_htab_count(&t) == 0 && ts_htab_bytes(&t) == 0);

	/* a weak hash: everything collides, still correct */
	ts_htab_init(&t);
	for (int i = 0; i < 3000; i++) {
		int n = snprintf(key, sizeof(key), "%d", i);
		v = ts_htab_put(&t, weak(key, (size_t)n), key, (size_t)n, &is_new);
		CHECK(v && is_new);
		*v = (uint64_t)i;
	}
	int bad = 0;
	for (int i = 0; i < 3000; i++) {
		int n = snprintf(key, sizeof(key), "%d", i);
		v = ts_htab_get(&t, weak(key, (size_t)n), key, (size_t)n);
		bad += !v || *v != (uint64_t)i;
	}
	CHECK(bad == 0);
	ts_htab_release(&t);
}

static void test_table_many(void)
{
	struct ts_htab t;
	const struct ts_hkey *k = ts_hkey_process();
	char key[64];
	const size_t N = 200000;
	int is_new;
	uint64_t *first = NULL;

	ts_htab_init(&t);
	for (size_t i = 0; i < N; i++) {
		/* 36-byte keys like UUIDs, of varying length around them */
		int n = snprintf(key, sizeof(key), "%08zx-0000-4000-8000-%012zx%.*s", i,
				 i * 2654435761u, (int)(i % 5), "abcde");
		uint64_t *v = ts_htab_put(&t, ts_hash(k, key, (size_t)n), key,
					  (size_t)n, &is_new);
		if (!v || !is_new) {
			CHECK(v && is_new);
			break;
		}
		*v = i;
		if (!first)
			first = v;
	}
	CHECK(ts_htab_count(&t) == N);
	CHECK(*first == 0); /* value slots never move */
	size_t bad = 0;
	for (size_t i = 0; i < N; i++) {
		int n = snprintf(key, sizeof(key), "%08zx-0000-4000-8000-%012zx%.*s", i,
				 i * 2654435761u, (int)(i % 5), "abcde");
		uint64_t *v = ts_htab_put(&t, ts_hash(k, key, (size_t)n), key,
					  (size_t)n, &is_new);
		bad += !v || is_new || *v != i;
	}
	CHECK(bad == 0);
	/* iteration: insertion order, every key once */
	uint64_t pos = 0, *v;
	const char *kp;
	size_t kn, seen = 0;
	bad = 0;
	while (ts_htab_next(&t, &pos, &kp, &kn, &v)) {
		int n = snprintf(key, sizeof(key), "%08zx-0000-4000-8000-%012zx%.*s",
				 seen, seen * 2654435761u, (int)(seen % 5), "abcde");
		bad += *v != seen || kn != (size_t)n || memcmp(kp, key, kn) != 0;
		seen++;
	}
	CHECK(seen == N && bad == 0);
	CHECK(ts_htab_next(&t, &pos, &kp, &kn, &v) == 0);
	/* memory: 40-byte keys take 56 bytes of arena, slots at most 3/4 full */
	size_t b = ts_htab_bytes(&t);
	CHECK(b >= N * 48 + N * 8 * 4 / 3);
	/* (+ the last 2 MiB slab of arena, partly used) */
	CHECK(b <= N * 56 + N * 8 * 8 / 3 + ((size_t)3 << 20));
	fprintf(stderr, "    %zu keys of ~38 bytes: %zu bytes (%.1f per key)\n", N, b,
		(double)b / (double)N);

	/* reset: empty, the memory kept and used again */
	ts_htab_reset(&t);
	CHECK(ts_htab_count(&t) == 0 && ts_htab_bytes(&t) == b);
	pos = 0;
	CHECK(ts_htab_next(&t, &pos, &kp, &kn, &v) == 0);
	CHECK(ts_htab_get(&t, ts_hash(k, key, 5), key, 5) == NULL);
	for (size_t i = 0; i < 1000; i++) {
		int n = snprintf(key, sizeof(key), "again %zu", i);
		v = ts_htab_put(&t, ts_hash(k, key, (size_t)n), key, (size_t)n, &is_new);
		CHECK(v && is_new);
		*v = i + 1;
	}
	CHECK(ts_htab_count(&t) == 1000 && ts_htab_bytes(&t) == b);
	pos = 0;
	seen = 0;
	while (ts_htab_next(&t, &pos, &kp, &kn, &v))
		seen += *v == seen + 1 && kn >= 7 && !memcmp(kp, "again ", 6);
	CHECK(seen == 1000);
	ts_htab_release(&t);
}

/* Keys of every length around the chunk end and the long-key limit. */
static void test_table_lengths(void)
{
	struct ts_htab t;
	const struct ts_hkey *k = ts_hkey_process();
	size_t maxlen = 70000;
	char *buf = malloc(maxlen);
	int is_new;

	if (!CHECK(buf))
		return;
	for (size_t i = 0; i < maxlen; i++)
		buf[i] = (char)('a' + i % 26);
	ts_htab_init(&t);
	size_t lens[] = {0, 1, 4, 5, 11, 12, 13, 4083, 4084, 4095, 4096, 4097,
			 65000, 65524, 65535, 65536, 69999, 3, 20000, 7, 100};
	size_t nl = sizeof(lens) / sizeof(lens[0]), count = 0;
	/* many rounds, so records land at every offset of a chunk */
	for (size_t r = 0; r < 40; r++)
		for (size_t i = 0; i < nl; i++) {
			size_t n = lens[i] + (lens[i] > 30 ? 0 : r), off = r;
			if (n + off > maxlen)
				n = maxlen - off;
			uint64_t *v = ts_htab_put(&t, ts_hash(k, buf + off, n), buf + off,
						  n, &is_new);
			if (!CHECK(v))
				goto out;
			if (is_new)
				*v = ++count;
		}
	CHECK(ts_htab_count(&t) == count);
	uint64_t pos = 0, *v;
	const char *kp;
	size_t kn, seen = 0, bad = 0;
	while (ts_htab_next(&t, &pos, &kp, &kn, &v)) {
		seen++;
		bad += *v != seen;
		uint64_t *g = ts_htab_get(&t, ts_hash(k, kp, kn), kp, kn);
		bad += g != v;
	}
	CHECK(seen == count && bad == 0);
	ts_htab_reset(&t);
	CHECK(ts_htab_count(&t) == 0);
	v = ts_htab_put(&t, ts_hash(k, buf, 5000), buf, 5000, &is_new);
	CHECK(v && is_new);
out:
	ts_htab_release(&t);
	free(buf);
}

/* What ts_htab_bytes_if_new() promises, through growth of slots, chunks,
 * slabs and the chunk table, and for long keys. */
static void test_table_budget(void)
{
	struct ts_htab t;
	const struct ts_hkey *k = ts_hkey_process();
	static char key[6000];
	size_t bad = 0, exact = 0, grown = 0;

	ts_htab_init(&t);
	CHECK(ts_htab_bytes_if_new(&t, 0) > 0);
	for (size_t i = 0; i < 150000; i++) {
		size_t n = i % 997 == 0 ? 4097 + i % 1500 : 20 + i % 40;
		snprintf(key, sizeof(key), "%zu", i);
		memset(key + strlen(key), 'x', n - strlen(key));
		size_t cap = t.cap, want = ts_htab_bytes_if_new(&t, n);
		int is_new;
		if (!ts_htab_put(&t, ts_hash(k, key, n), key, n, &is_new) || !is_new) {
			bad++;
			break;
		}
		if (t.cap == cap) {
			/* no slot growth: exactly what was said */
			bad += ts_htab_bytes(&t) != want;
			exact++;
		} else {
			/* the old slots are gone again: less than the peak */
			bad += ts_htab_bytes(&t) != want - cap * sizeof(uint64_t);
			grown++;
		}
	}
	CHECK(bad == 0 && grown > 8 && exact > 100000);
	ts_htab_release(&t);
}

static void test_table_errors(void)
{
	struct ts_htab t;

	ts_htab_init(&t);
	errno = 0;
	/* a key of 4 GiB or more is refused before anything is read */
	CHECK(ts_htab_put(&t, 1, "x", (size_t)0xffffffffu, NULL) == NULL &&
	      errno == EFBIG);
	CHECK(ts_htab_count(&t) == 0);
	ts_htab_release(&t);
	ts_htab_release(&t); /* twice is fine */
}

int main(void)
{
	test_vectors();
	test_streaming();
	test_keys();
	test_table_basic();
	test_table_many();
	test_table_lengths();
	test_table_budget();
	test_table_errors();
	return check_done();
}
