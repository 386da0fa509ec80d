/*
 * jpath.h — JSON path expressions, the one syntax every program uses to name
 * a part of a record (a subset of jq's path syntax):
 *
 *	.              the record itself
 *	.a.b           member b of member a ("a.b" without the dot works too)
 *	.a[0] .a[-1]   an array element (negative counts from the end)
 *	.a[]           every element of an array (or every member value)
 *	."a key" .["a key"]   keys with any characters, JSON string escapes
 *
 * Paths are evaluated on values that ts_json_scan() accepted, without
 * copying: results are spans into the record.
 */
#ifndef TS_JPATH_H
#define TS_JPATH_H

#include <stddef.h>

#include "json.h"

enum ts_jpath_kind { TS_JP_KEY, TS_JP_INDEX, TS_JP_ITER };

struct ts_jpath_step {
	enum ts_jpath_kind kind;
	char *key; /* TS_JP_KEY: decoded, NUL-terminated (may hold NULs: keylen) */
	size_t keylen;
	long index;
};

struct ts_jpath {
	struct ts_jpath_step *steps;
	size_t n;
	char *text; /* the expression as written */
};

/*
 * Parse s into jp.  -1 on a syntax error, with a message naming the column
 * in err (errlen bytes).  ts_jpath_release() frees what parse allocated.
 */
int ts_jpath_parse(struct ts_jpath *jp, const char *s, char *err, size_t errlen);
void ts_jpath_release(struct ts_jpath *jp);

/* Does the path contain [] (can yield several values)? */
int ts_jpath_is_multi(const struct ts_jpath *jp);
/* The last key of the path (a name for the value it selects), or NULL. */
const char *ts_jpath_last_key(const struct ts_jpath *jp, size_t *len);

/*
 * Call fn for every value the path selects in v.  Missing keys, indexes out
 * of range and steps into the wrong type select nothing.  Stops early and
 * returns fn's value when fn returns non-zero; otherwise 0.
 */
typedef int (*ts_jpath_fn)(void *ud, struct ts_span v);
int ts_jpath_each(const struct ts_jpath *jp, struct ts_span v, ts_jpath_fn fn,
		  void *ud);
/* The same, looking the first key up in an index of the record's members
 * (ts_json_scan_keys) instead of walking the record. */
int ts_jpath_get_indexed(const struct ts_jpath *jp, struct ts_span v,
			 const struct ts_json_keys *idx, struct ts_span *out);
/* The first value selected: 1 and *out, or 0 when nothing is selected. */
int ts_jpath_get(const struct ts_jpath *jp, struct ts_span v,
		 struct ts_span *out);

#endif
