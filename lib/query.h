/*
 * query.h — a delivery stream's MetadataExtractionQuery: a jq 1.6 program
 * that builds an object of partition keys from a record, run by libjq so
 * that every query means what it means in the service:
 *
 *	{customer_id: .customer_id, year: .ts | strftime("%Y")}
 *
 * The program runs on each record and its first result must be an object;
 * a key's value becomes text as jq's tostring makes it (a string as it is,
 * 1.50 as "1.5", an object as its compact JSON).  null, a missing key, a jq
 * error, no result or a result that is not an object fail the record.
 *
 * Fast paths that give the same answers: when the program is an object
 * whose values are plain paths (.a.b, ."k", .a[0]) or a plain path piped
 * into more jq (.ts | strftime("%Y")), each path is looked up in the record
 * without parsing it into jq values, and only what follows the pipe runs in
 * jq, on the value found.  Whenever a lookup finds nothing or a value jq
 * would write differently, the record runs through the whole program
 * instead, so errors and messages are jq's own.
 *
 * Ownership: ts_query_new() returns a query the caller frees with
 * ts_query_free(); value spans handed out live until the next
 * ts_query_eval() on the same query.
 */
#ifndef TS_QUERY_H
#define TS_QUERY_H

#include <stddef.h>

#include "buf.h"
#include "json.h"

struct ts_query;

/*
 * Compile text.  NULL with jq's message in err (a program jq rejects) or
 * "out of memory".
 */
struct ts_query *ts_query_new(const char *text, char *err, size_t errlen);
void ts_query_free(struct ts_query *q);

/*
 * The key names the program defines when it is an object with literal
 * keys ({a: ..., "b c": ...}), in order: their number, or -1 when they are
 * only known from results (a computed key, a program that is not an object
 * literal).  Names are decoded and NUL-terminated.
 */
long ts_query_names(const struct ts_query *q, const char *const **names);

/* Is every value a plain path (no jq at run time)? */
int ts_query_paths_only(const struct ts_query *q);

/*
 * Evaluate q on rec (a JSON value ts_json_scan() accepted; idx its
 * top-level members or NULL) and set vals[i] to the JSON text of key
 * names[i] (a string, number or boolean; objects and arrays come as the
 * string of their JSON).  0, or -1 with *code ("query_failed",
 * "missing_key" or "bad_key_type") and a message in msg.
 */
int ts_query_eval(struct ts_query *q, struct ts_span rec, const struct ts_json_keys *idx,
		  size_t n, char *const *names, struct ts_span *vals, const char **code,
		  struct ts_buf *msg);

/*
 * The top-level object of a query, for the static part (exposed for the
 * fuzz harness): split text "{k: v, ...}" into entries.  Returns the number
 * of entries (the caller frees *keys and *vals and each string in them with
 * free()), or -1 when text is not one object literal with literal keys.
 * *vals are the value texts, trimmed; a shorthand {a} yields ".a".
 */
long ts_query_split(const char *text, char ***keys, char ***vals);

/* The length of the plain path (see above) at the start of s, 0 if none. */
size_t ts_query_path_len(const char *s);

#endif
