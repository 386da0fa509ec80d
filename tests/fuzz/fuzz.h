/*
 * fuzz.h — what every harness shares.  A harness defines
 * LLVMFuzzerTestOneInput(); it is linked either with libFuzzer (make fuzz)
 * or with replay_main.c, which runs it over a corpus (make replay).
 * FUZZ_CHECK aborts on a broken invariant, so both report it as a crash.
 */
#ifndef TS_FUZZ_H
#define TS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: invariant broken: %s\n",   \
				__FILE__, __LINE__, #cond);                \
			abort();                                           \
		}                                                          \
	} while (0)

#endif
