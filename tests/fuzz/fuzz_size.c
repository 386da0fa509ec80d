/*
 * fuzz_size.c — sizes and integers from the command line (util.h).
 *
 * The input, up to its first NUL, is parsed with ts_parse_u64() and
 * ts_parse_size() and the answers are compared with a plain reading of the
 * rules written here again: u64 is one or more decimal digits whose value
 * fits in 64 bits; a size is such a number with an optional unit k, M, G, T
 * (either case, powers of 1024, optionally followed by B or b), whose value
 * times the unit still fits, written in fewer than 32 bytes.  A value that
 * parses is printed back (in decimal, and in the largest unit that divides
 * it) and parses to the same value.
 */
#include <inttypes.h>
#include <string.h>

#include "fuzz.h"
#include "util.h"

/* The rules, again: 0 and *v, or -1. */
static int want_u64(const char *s, size_t n, uint64_t *v)
{
	unsigned __int128 x = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (unsigned)(s[i] - '0');
		if (x > UINT64_MAX)
			return -1;
	}
	*v = (uint64_t)x;
	return 0;
}

static int want_size(const char *s, size_t n, uint64_t *v)
{
	static const char units[] = "kmgt";
	unsigned shift = 0;
	uint64_t x;

	if (n == 0 || n >= 32)
		return -1;
	if (n >= 2 && (s[n - 1] == 'B' || s[n - 1] == 'b') &&
	    strchr("kKmMgGtT", s[n - 2]))
		n--;
	for (int u = 0; u < 4; u++)
		if (n && (s[n - 1] == units[u] || s[n - 1] == units[u] - 'a' + 'A')) {
			shift = 10 * (unsigned)(u + 1);
			n--;
			break;
		}
	if (want_u64(s, n, &x) < 0)
		return -1;
	if (shift && x > (UINT64_MAX >> shift))
		return -1;
	*v = x << shift;
	return 0;
}

static void again(uint64_t v)
{
	static const char units[] = "kMGT";
	char text[40];
	uint64_t w;

	snprintf(text, sizeof(text), "%" PRIu64, v);
	FUZZ_CHECK(ts_parse_u64(text, &w) == 0 && w == v);
	FUZZ_CHECK(ts_parse_size(text, &w) == 0 && w == v);
	for (int u = 3; u >= 0; u--) {
		unsigned shift = 10 * (unsigned)(u + 1);
		if (v && (v & ((UINT64_C(1) << shift) - 1)) == 0) {
			snprintf(text, sizeof(text), "%" PRIu64 "%c", v >> shift, units[u]);
			FUZZ_CHECK(ts_parse_size(text, &w) == 0 && w == v);
			snprintf(text, sizeof(text), "%" PRIu64 "%cB", v >> shift, units[u]);
			FUZZ_CHECK(ts_parse_size(text, &w) == 0 && w == v);
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[64];
	size_t n = strnlen((const char *)data, size);
	uint64_t got = 12345, want = 0;
	int rc;

	if (n >= sizeof(s))
		return 0;
	memcpy(s, data, n);
	s[n] = '\0';

	rc = ts_parse_u64(s, &got);
	FUZZ_CHECK(rc == want_u64(s, n, &want));
	if (rc == 0) {
		FUZZ_CHECK(got == want);
		again(got);
	} else {
		FUZZ_CHECK(rc == -1 && got == 12345); /* untouched on failure */
	}

	got = 12345;
	rc = ts_parse_size(s, &got);
	FUZZ_CHECK(rc == want_size(s, n, &want));
	if (rc == 0) {
		FUZZ_CHECK(got == want);
		again(got);
	} else {
		FUZZ_CHECK(rc == -1 && got == 12345);
	}
	return 0;
}
