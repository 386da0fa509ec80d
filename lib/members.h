/*
 * members.h — assemble an output object from spans of input records without
 * re-parsing: the record's own members (quoted key spans, copied as they
 * are), plus members added under plain names (copied parent fields, CWL
 * metadata).  Values are validated spans; whitespace is dropped on output.
 *
 * The list lives in a caller-owned struct reused across records; it only
 * points into the records, so it is valid as long as they are.
 */
#ifndef TS_MEMBERS_H
#define TS_MEMBERS_H

#include "json.h"

struct ts_member {
	struct ts_span key; /* quoted JSON string, or a plain name */
	int quoted;
	struct ts_span val;
};

struct ts_members {
	struct ts_member *m;
	size_t n, cap;
};

void ts_members_init(struct ts_members *l);
void ts_members_release(struct ts_members *l);
static inline void ts_members_reset(struct ts_members *l) { l->n = 0; }

/* Does a member have this (decoded) name? */
int ts_member_is(const struct ts_member *m, const char *name, size_t n);
/* Index of the first member named name, or -1. */
long ts_members_find(const struct ts_members *l, const char *name, size_t n);

/* Add all members of a validated object span. */
int ts_members_add_object(struct ts_members *l, struct ts_span obj);
/* Add one member; a plain name is escaped on output. */
int ts_members_add(struct ts_members *l, struct ts_span key, int quoted,
		   struct ts_span val);

/* Append {"k":v,...} to out. */
int ts_members_write(const struct ts_members *l, struct ts_buf *out);

#endif
