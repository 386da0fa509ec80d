/*
 * diff.h — comparing two records field by field, and the canonical form of
 * a record under the same options: what ts-diff does to one pair.
 *
 * Values mean what value.h says (numbers exact, strings decoded, object
 * members unordered, the last of a repeated key wins).  The options relax
 * equality, never tighten it:
 *
 *   ignore     paths not compared (a path and everything under it)
 *   only       compare only under these paths
 *   tolerance  two numbers a (source) and b (target) are equal when
 *              |a - b| <= abs + rel * |b|, computed exactly on the decimals
 *              (in doubles when they are more than 2000 digits apart in
 *              scale); per path (the last matching one given) or for
 *              every number
 *   fold       strings compare case-insensitively: each code point through
 *              towlower() (the program sets a UTF-8 LC_CTYPE; in a plain C
 *              locale only ASCII folds)
 *   trim       strings compare without leading and trailing white space
 *              (space, \t, \n, \v, \f, \r)
 *   unordered  arrays compare as multisets of their elements
 *   null_missing  a member whose value is null equals a missing one
 *   coerce     a string holding a JSON number is that number
 *
 * Paths are jpath.h paths; [] in an option path matches any index or key
 * (`items[].price`).  A difference is reported at the deepest path where the
 * two records differ (`a.b[2].c`); arrays compared as multisets differ as a
 * whole.  Paths are written in the toolkit's path syntax without the
 * leading dot: `val`, `address.city`, `items[2]`, `."odd key".x`.
 *
 * ts_diff_canon() writes the canonical form (value.h) of what the options
 * leave of a value — ignored members dropped, strings folded and trimmed,
 * numeric strings as numbers, null members dropped, array elements sorted
 * by their canonical bytes — so two values are equal under the options
 * (tolerance aside, which is not an equivalence) exactly when their
 * canonical forms are equal bytes.  An array whose elements the options
 * may leave out (an --ignore path ending at its elements, an --only path
 * under it) is written as the elements left with their places,
 * [[0,x],[2,y]], since elements compare by place: such a form is not its
 * own canonical form under the same options.  Tolerances do not apply
 * inside arrays compared as multisets.
 *
 * A struct ts_diff holds the options and scratch space reused from pair to
 * pair: one per thread.
 */
#ifndef TS_DIFF_H
#define TS_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "json.h"
#include "jpath.h"

struct ts_diff_tol {
	struct ts_jpath path; /* no steps: every number */
	double abs, rel;
	const char *abs_text, *rel_text; /* the same as decimal text (the test
					  * is exact on decimals) */
	int has_abs, has_rel;
};

struct ts_diff_opts {
	struct ts_jpath *ignore;
	size_t nignore;
	struct ts_jpath *only;
	size_t nonly;
	struct ts_diff_tol *tol; /* in the order given: the last match wins */
	size_t ntol;
	double abs, rel;         /* for every number without a path of its own */
	const char *abs_text, *rel_text; /* the same as decimal text; NULL: "0" */
	int fold, trim, unordered, null_missing, coerce;
};

/* How two values at one path differ. */
enum ts_diff_kind {
	TS_DIFF_VALUE,   /* both there, same type (or both containers), unequal */
	TS_DIFF_TYPE,    /* both there and not null, of different types */
	TS_DIFF_NULL,    /* one side null or missing, the other not */
};

struct ts_diff_item {
	size_t path_off, path_len; /* the path, in ts_diff.paths */
	struct ts_span a, b;       /* the two values; n == 0: missing */
	enum ts_diff_kind kind;
	int numeric;               /* both numbers: delta is |a - b| */
	double delta;
};

struct ts_diff {
	const struct ts_diff_opts *o;
	int plain;                 /* no option changes equality */
	int neg_index;             /* an option path has a negative index */
	struct ts_diff_item *items; /* the differences of the last compare */
	size_t nitems, cap;
	struct ts_buf paths;       /* their paths, back to back */
	/* scratch */
	struct ts_buf path;        /* the path being walked */
	struct ts_buf tmp;
	struct ts_jpath_step *stack; /* the steps to here, for option matching */
	size_t depth, stack_cap;
	void *mem;                 /* member lists, per level */
	size_t mem_cap, mem_used;
};

/* o must outlive d. */
void ts_diff_init(struct ts_diff *d, const struct ts_diff_opts *o);
void ts_diff_release(struct ts_diff *d);

/* Compare two validated values (records): 0 when equal under the options,
 * else the number of differences, listed in d->items (in path order).  -1
 * when out of memory. */
long ts_diff_compare(struct ts_diff *d, struct ts_span a, struct ts_span b);

/* The path of item i as text (not NUL-terminated). */
static inline const char *ts_diff_path(const struct ts_diff *d, size_t i, size_t *n)
{
	*n = d->items[i].path_len;
	return d->paths.data + d->items[i].path_off;
}

/* Append the canonical form under the options (above).  0, or -1 (buffer
 * limit or out of memory; out keeps its length). */
int ts_diff_canon(struct ts_diff *d, struct ts_buf *out, struct ts_span v);

/* Append the text of a path of n steps in the toolkit's syntax, as
 * differences are reported: "a.b[2]", ".\"odd key\".c", "." for none. */
int ts_diff_path_text(struct ts_buf *out, const struct ts_jpath_step *steps, size_t n);

#endif
