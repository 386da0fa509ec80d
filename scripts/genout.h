/*
 * genout.h — the buffered output both record generators write through
 * (gen-cloudtrail, gen-csv): 1 MiB at a time to ofp (standard output unless
 * the generator opens a file), the bytes counted in `written` so that
 * --size can stop at a size.  Header-only, as prng.h; the generator
 * defines `prog` (its name, for messages) before including it.
 */
#ifndef TS_SCRIPTS_GENOUT_H
#define TS_SCRIPTS_GENOUT_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OCAP (1u << 20)

static char obuf[OCAP];
static size_t olen;
static FILE *ofp;
static const char *oname = "standard output";
static uint64_t written; /* bytes handed to obuf so far */

static inline void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
	exit(2);
}

static inline void flush(void)
{
	if (olen && fwrite(obuf, 1, olen, ofp) != olen)
		die(oname);
	olen = 0;
}

static inline void put(const char *s, size_t n)
{
	if (olen + n > OCAP) {
		flush();
		if (n > OCAP) {
			if (fwrite(s, 1, n, ofp) != n)
				die(oname);
			written += n;
			return;
		}
	}
	memcpy(obuf + olen, s, n);
	olen += n;
	written += n;
}

static inline void putch(char c)
{
	if (olen == OCAP)
		flush();
	obuf[olen++] = c;
	written++;
}

static inline void puts_(const char *s)
{
	put(s, strlen(s));
}

#endif
