/*
 * prng.h — the seeded generator both data generators use (splitmix64), so a
 * seed gives the same bytes on every machine.  Header-only: each generator
 * is one file compiled on its own by the bench scripts.
 */
#ifndef TS_SCRIPTS_PRNG_H
#define TS_SCRIPTS_PRNG_H

#include <stdint.h>

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform in [0, n), n > 0; the tiny modulo bias is irrelevant here */
static uint32_t below(uint32_t n)
{
	return (uint32_t)(((rnd() >> 32) * (uint64_t)n) >> 32);
}

/* true with probability num/den */
static inline int chance(uint32_t num, uint32_t den)
{
	return below(den) < num;
}

#define PICK(arr) ((arr)[below((uint32_t)(sizeof(arr) / sizeof *(arr)))])

#endif
