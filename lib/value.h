/*
 * value.h — typed values over the scanner's spans: type, number, decoded
 * string, a canonical form, equality and order by meaning, a keyed hash.
 *
 * Every function takes a struct ts_span holding exactly one JSON value that
 * ts_json_scan() accepted (a record, or a member or element found by the
 * json.h walkers; whitespace inside containers is fine, around the value it
 * is not).  They trust it: never pass bytes that were not validated.  An
 * empty span (n == 0) is a MISSING value (a field that is not there).
 * Nothing here allocates except where a buffer is passed in, and large
 * objects (see "Objects"); nothing keeps pointers into the span.
 *
 * What values mean — the rules equality, order, canonical form and hash
 * follow (the same rules everywhere, so a value means one thing to every
 * rule and to ts-diff):
 *
 * Numbers are exact decimals: the value is the decimal the text writes,
 * however long, never a double.  1, 1.0, 10e-1 and 0.1e1 are the same
 * number; -0, 0.0 and 0e5 are all zero (zero has no sign); 1e400 is a
 * finite number ten to the 400, greater than 1e399 and less than 2e400, even
 * though ts_value_number() can only give +inf for it.  Exponents of any
 * length are compared exactly (1e99999999999999999999 is less than
 * 1e100000000000000000000).
 *
 * Strings mean their decoded bytes (UTF-8): "\u0041" equals "A", "\/" equals
 * "/".  A lone surrogate escape (\ud800 without its pair, which jansson
 * rejects and the scanner accepts) decodes to U+FFFD exactly as
 * ts_json_unescape() does, so "\ud800" equals "\ufffd" and the raw bytes
 * EF BF BD.  Strings order by their decoded bytes, unsigned (which is code
 * point order).
 *
 * Arrays are equal when they have equal elements in the same order; they
 * order element by element, a proper prefix first.
 *
 * Objects are sets of members: key order does not matter.  When a key occurs
 * more than once the last member wins and the others are ignored, as
 * jansson does when it parses such an object ({"a":1,"a":2} equals
 * {"a":2}).  Keys compare as decoded strings.  Objects order as their
 * members sorted by key, compared pair by pair (key, then value), a proper
 * prefix first.  Sorting the members of an object of more than 16 members
 * takes a temporary array (malloc); if that fails, a slower walk that needs
 * no memory (quadratic in the members) gives the same answer.
 *
 * Nesting is followed by recursion: about 2 KB of stack per level of
 * objects, 0.4 KB per level of arrays (1 MB at most at the scanner's
 * default depth limit of 512).
 *
 * Order across types: MISSING < null < false < true < number < string <
 * array < object.  ts_value_cmp() is a total order: antisymmetric,
 * transitive, and 0 exactly when ts_value_equal() says equal.
 *
 * Canonical form (ts_value_canon): JSON text, no whitespace, with
 *   null, true, false as such;
 *   numbers as the shortest exact decimal, the way ECMAScript prints a
 *     double (but with every digit the text had): with n the position of the
 *     decimal point relative to the first significant digit (value =
 *     0.d1d2...dk x 10^n, d1 and dk not 0) and k significant digits —
 *       k <= n <= 21:   the digits then n-k zeros       (1000, 123)
 *       0 < n <= 21:    d1..dn "." the rest             (1.5, 12.25)
 *       -6 < n <= 0:    "0." -n zeros, the digits       (0.001, 0.5)
 *       otherwise:      d1 ["." d2..dk] "e" sign n-1    (1e+21, 1.5e-7, 1e+400)
 *     and zero as 0;
 *   strings decoded and escaped again the one way ts_json_escape() does
 *     (only " \ and control characters escaped: \b \f \n \r \t, else \u00xx);
 *   arrays element by element;
 *   objects with one member per key, the last of each key, sorted by the
 *     key's decoded bytes.
 * Equal by meaning <=> equal canonical bytes.  A string without a backslash
 * and an integer of at most 21 digits (not -0) are their own canonical form:
 * those paths copy nothing.  The canonical form of MISSING is empty.
 *
 * ts_value_hash() is ts_hash() of the canonical bytes (computed without
 * building them), so equal values hash equal under any key; with
 * ts_hkey_fixed the hash of a value is stable across processes and
 * versions.
 */
#ifndef TS_VALUE_H
#define TS_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "hash.h"
#include "json.h"

enum ts_vtype {
	TS_VT_MISSING,
	TS_VT_NULL,
	TS_VT_BOOL,
	TS_VT_NUMBER,
	TS_VT_STRING,
	TS_VT_ARRAY,
	TS_VT_OBJECT,
};

/* n == 0: MISSING; otherwise told by the first byte. */
enum ts_vtype ts_value_type(struct ts_span v);
/* A boolean: 1 for true, 0 for false, -1 when v is not a boolean. */
int ts_value_bool(struct ts_span v);

/*
 * A number as the nearest double (round to nearest, ties to even).
 * Returns 0 when the number is within the range of doubles, 1 when it is
 * not: *d is then +-inf for a magnitude too large (1e400, -1e400) or +-0 for
 * a nonzero magnitude too small (1e-400).  (Numbers that need rounding, such
 * as 0.1, and subnormal results return 0: a double is an approximation by
 * nature.)  The result is what strtod() gives in the C locale.  -1 with *d
 * untouched when v is not a number.
 */
int ts_value_number(struct ts_span v, double *d);

/*
 * A number that is an integer in int64 range (1, -7, 1.0, 1e3, 12.50e1)
 * into *i: returns 0.  1 when v is a number but not such an integer
 * (1.5, 1e19), -1 when not a number; *i untouched then.
 */
int ts_value_int64(struct ts_span v, int64_t *i);

/*
 * Append the decoded bytes of a string value to out.  0, or -1 with errno
 * EFBIG (buffer limit, nothing appended) or EINVAL (not a string).
 */
int ts_value_string(struct ts_buf *out, struct ts_span v);
/* When the string value holds no escape its decoded bytes are the bytes
 * between the quotes: returns 1 with *s pointing there (into v), no copy.
 * 0 when it holds an escape (use ts_value_string), -1 when not a string. */
int ts_value_string_view(struct ts_span v, struct ts_span *s);

/* Append the canonical form (above).  0, or -1 with errno EFBIG (buffer
 * limit; out keeps its old length). */
int ts_value_canon(struct ts_buf *out, struct ts_span v);

/* 1 when equal by meaning, else 0. */
int ts_value_equal(struct ts_span a, struct ts_span b);
/* Total order by meaning: <0, 0, >0. */
int ts_value_cmp(struct ts_span a, struct ts_span b);
/* ts_hash(k, canonical form).  Never fails. */
uint64_t ts_value_hash(const struct ts_hkey *k, struct ts_span v);
/*
 * Feed the canonical form to a running hash: for keys of several values
 * (a composite key).  Canonical forms do not delimit themselves (1 then 2
 * reads as 12): put a separator between them, such as ','; then "[" + the
 * values with ',' + "]" hashes as the array of them would.
 */
void ts_value_hash_update(struct ts_hstate *s, struct ts_span v);

#endif
