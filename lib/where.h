/*
 * where.h — the predicate of a DQDL rule's `where "..."`: a subset of Spark
 * SQL boolean expressions, parsed once and evaluated natively on each record
 * (a JSON object the scanner accepted), without allocating per record.
 *
 * A record passes when the predicate is TRUE.  SQL's three-valued logic
 * holds throughout: a comparison with NULL is UNKNOWN, and UNKNOWN is not
 * TRUE, so a record whose field is null or missing never passes `x > 1`
 * (nor `NOT x > 1`).
 *
 * Grammar (keywords in any case; spaces, tabs, newlines, -- comments to the
 * end of the line and bracketed comments, which nest, between tokens):
 *
 *	predicate  := or
 *	or         := and { OR and }
 *	and        := not { AND not }
 *	not        := NOT not | '!' not | test
 *	test       := cmp [ [NOT] IN '(' predicate { ',' predicate } ')'
 *	                  | [NOT] BETWEEN cmp AND cmp
 *	                  | [NOT] LIKE string [ESCAPE string]
 *	                  | IS [NOT] (NULL | TRUE | FALSE | UNKNOWN)
 *	                  | IS [NOT] DISTINCT FROM cmp ]
 *	cmp        := sum { ('=' | '==' | '!=' | '<>' | '<' | '<=' | '>' | '>='
 *	                    | '<=>') sum }
 *	sum        := product { ('+' | '-') product }
 *	product    := unary { ('*' | '/' | '%') unary }
 *	unary      := ('-' | '+') unary | primary
 *	primary    := number | string | TRUE | FALSE | NULL | column
 *	              | '(' predicate ')'
 *
 * As in Spark, NOT binds looser than a comparison (NOT a = 1 is
 * NOT (a = 1)), AND tighter than OR, and comparisons are left-associative
 * values like any other (a > 1 = TRUE is (a > 1) = TRUE).
 *
 * Literals
 *   numbers   123, -4, 1.5, .5, 5., 1e3, 2.5E-3; Spark's type suffixes
 *             (10L 10S 10Y 1.5D 1.5F 1.5BD) are accepted and ignored.
 *             Numbers are exact decimals, compared by value as value.h
 *             defines (1 = 1.0, 1e400 > 1e399).
 *   strings   'single' or "double" quoted.  A doubled quote is one quote
 *             ('it''s' is it's: standard SQL; Spark would read two adjacent
 *             literals and concatenate them to its).  Backslash escapes as
 *             Spark reads them: \' \" \\ \n \t \r \b \0 \Z (0x1A), \uXXXX,
 *             three octal digits \ooo; \% and \_ keep their backslash (so a
 *             LIKE pattern sees the escape); a backslash before any other
 *             character is that character.  Must be valid UTF-8.
 *   TRUE FALSE NULL
 *
 * Columns
 *   name                 letters, digits, _ (not a number: 1a is a name,
 *                        1e3 a number); a keyword (AND OR NOT IN IS NULL
 *                        TRUE FALSE LIKE BETWEEN) needs backquotes
 *   `any name`           backquoted, `` for a backquote inside; any UTF-8
 *   a.b.c  `a`.`b c`     parts separated by dots
 *   A one-part name is the record's top-level member of exactly that name
 *   (even `a.b` in backquotes: the member "a.b").  A name of several parts
 *   is the top-level member whose name is the parts joined by dots when the
 *   record has one, else the path: member a, its member b, its member c
 *   (objects only).  Names match exactly, case and all (Spark matches
 *   column names case-insensitively by default; JSON keys are not).  When
 *   a key occurs twice in an object the last one wins, as everywhere in the
 *   toolkit.  A record that is not an object has no columns.
 *   Function calls (lower(x), ...) are not supported: a parse error.
 *
 * Values and types.  A column is MISSING when the record lacks it; MISSING
 * and JSON null are both SQL NULL.  Otherwise it is what the JSON holds:
 * boolean, number (its exact text), string (decoded), or a nested array
 * or object.  What each operation does with each type:
 *
 *   comparison (= != <> < <= > >=; <=> and IS [NOT] DISTINCT FROM are the
 *   null-safe forms: NULL <=> NULL is TRUE, NULL <=> 1 FALSE)
 *     NULL with anything         UNKNOWN
 *     number  / number           by exact value
 *     string  / string           by decoded UTF-8 bytes (code point order),
 *                                case-sensitive
 *     boolean / boolean          FALSE < TRUE
 *     string  / number           the string is cast to a number, as Spark
 *                                casts a string compared with a number:
 *                                surrounding whitespace (bytes <= 0x20)
 *                                ignored, then [+-] digits [. digits]
 *                                [e [+-] digits] (.5 and 5. too), or
 *                                Infinity / NaN in any case; anything else
 *                                is NULL, so the comparison is UNKNOWN
 *                                ("12" = 12 and " 12 " = 12.0 are TRUE;
 *                                "12abc" = 12 is UNKNOWN).  Spark casts to
 *                                the integer type when the number is an
 *                                integer, truncating "1.5" to 1; here the
 *                                string's exact value is compared.
 *     string  / boolean          the string is cast to a boolean, as Spark
 *                                does: t true y yes 1 are TRUE, f false n no
 *                                0 FALSE (any case, whitespace ignored),
 *                                anything else NULL
 *     boolean / number           the boolean is 1 or 0
 *     array or object / any      UNKNOWN (never equal, never ordered)
 *   arithmetic (+ - * / %, unary -)
 *     in double precision: operands that are strings are cast to numbers
 *     as above; NULL, booleans, arrays and objects give NULL.  x / 0 and
 *     x % 0 are NULL, as in Spark.  A result compares with an exact number
 *     through that number's nearest double.  (Spark adds integers exactly;
 *     here integers beyond 2^53 round.)  A negated number literal (-5) is
 *     still an exact literal.
 *   AND OR NOT, and the predicate as a whole
 *     booleans are themselves; NULL is UNKNOWN; a string is cast to a
 *     boolean as above; a number, array or object is UNKNOWN.  Literal
 *     numbers and strings used as conditions are parse errors, as in Spark.
 *     UNKNOWN AND FALSE is FALSE, UNKNOWN OR TRUE is TRUE.
 *   IS NULL / IS NOT NULL
 *     TRUE for JSON null, a missing field, and an operation whose result is
 *     NULL (a / 0); arrays, objects and the empty string are not null.
 *   IS [NOT] TRUE / FALSE / UNKNOWN: never UNKNOWN themselves.
 *   x IN (a, b, ...)
 *     x = a OR x = b OR ..., each pair compared as above: TRUE when one is
 *     equal, else UNKNOWN when x or some comparison is NULL, else FALSE;
 *     NOT IN is NOT of that, so x NOT IN (1, NULL) is never TRUE.  (Spark
 *     first finds one type for x and all items, which with a string among
 *     numbers compares as strings: "1.0" IN (1) is FALSE there, TRUE here.)
 *   x BETWEEN a AND b
 *     x >= a AND x <= b (both ends included, as in SQL; unlike DQDL's own
 *     between, which excludes them).  NOT BETWEEN is NOT of that.
 *   x LIKE 'pattern' [ESCAPE 'c']
 *     the pattern must be a string literal.  % matches any run of
 *     characters (none too), _ exactly one character (a code point), the
 *     rest itself, case-sensitive, over the whole value.  The escape
 *     character (default \) makes the next % _ or itself literal; before
 *     anything else, or at the end of the pattern, it is a parse error
 *     (as in Spark).  A number is matched as its JSON text (as the record
 *     wrote it: 1e5 is "1e5", where Spark would print 100000.0), an
 *     arithmetic result as the shortest %g text that reads back the same, a
 *     boolean as true / false; NULL, an array or an object gives UNKNOWN.
 *
 * Not supported (each a parse error naming its column): function calls,
 * CASE, CAST, DATE '...' and TIMESTAMP '...' literals (a date column
 * compares with a plain 'YYYY-MM-DD' string as strings, which orders ISO
 * dates correctly), || and the bit operators, RLIKE, ILIKE, subqueries.
 *
 * Errors name the place: "<reason> at column N", N counting characters
 * (UTF-8 code points) from 1; an unexpected end is at the column just past
 * the last character.
 */
#ifndef TS_WHERE_H
#define TS_WHERE_H

#include <stddef.h>

#include "json.h"

struct ts_where;

/*
 * Parse the predicate s (n bytes, no NUL needed; a NUL byte inside is an
 * error).  Returns a new predicate, or NULL with the reason and column in
 * err (errlen bytes, always NUL-terminated when errlen > 0; "out of memory"
 * when that is why).  More than 200 parentheses, NOTs, signs or IN lists
 * inside each other, or an expression tree deeper than 400 (a chain of 400
 * comparisons), is an error ("expression nested too deep"), so neither
 * parsing nor evaluation recurses without bound.
 */
struct ts_where *ts_where_parse(const char *s, size_t n, char *err, size_t errlen);

/* A copy that can be evaluated in another thread (NULL: out of memory). */
struct ts_where *ts_where_clone(const struct ts_where *w);

/* Free a predicate (NULL is fine). */
void ts_where_free(struct ts_where *w);

/*
 * Evaluate on one record: 1 when the predicate is TRUE, 0 when FALSE or
 * UNKNOWN, -1 with errno (ENOMEM, or EFBIG for a string past a buffer's
 * limit) when it could not be evaluated.
 *
 * record is one JSON value ts_json_scan() accepted (no whitespace around
 * it).  idx, when not NULL, is the index ts_json_scan_keys() made of that
 * same record: top-level members are then found there instead of by
 * walking the record (an index that overflowed is not trusted, the record
 * is walked).
 *
 * The predicate itself is not changed, but w holds the scratch buffers
 * evaluation uses (decoded strings; they grow to the largest value seen and
 * are then reused): evaluate one struct in one thread at a time, and clone
 * it for others.
 */
int ts_where_eval(const struct ts_where *w, struct ts_span record,
		  const struct ts_json_keys *idx_or_null);

/*
 * The top-level members evaluation may look up, each once, in order of
 * first use: for a.b.c both "a.b.c" and "a" (it reads whichever the record
 * has).  *names points at *count spans of decoded names (each also followed
 * by a NUL; a name may hold NUL bytes, so use n), owned by w and valid until
 * ts_where_free().  A record that lacks all of them evaluates as if every
 * column were NULL.
 */
size_t ts_where_columns(const struct ts_where *w, const struct ts_span **names);

#endif
