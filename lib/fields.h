/*
 * fields.h — record shaping: the output record a program writes for one
 * input record, from four requests a user may make of it:
 *
 *	select   keep only these fields, in the order given, each named by
 *	         the last key of its path (ts-extract --fields a,b.c)
 *	meta     add values the caller has for each record (ts-extract --cwl
 *	         --meta: logGroup, logStream, owner, id, timestamp), each
 *	         under its own name, another one, or left out
 *	parents  copy fields of the value the record came out of (--keep-parent)
 *	renames  rename output fields (--rename OLD=NEW)
 *
 * The output is the record's own fields (all, or the selected ones), then
 * the metadata, then the parent fields, then renames.  An added field whose
 * name the record's own fields already have is left out: the record's own
 * field wins.  Added fields are not checked against each other, and a
 * rename onto a name already there gives two members of that name.  A
 * rename applies to the first field of the old name, own or added.
 *
 * A record is a validated value (json.h), or a message: a string that
 * stands for the record {"message": <the string>} (ts-extract --cwl, a log
 * message that is not a JSON object).  Without any request the record is
 * copied (minified when it has whitespace); with one, a record that is
 * neither an object nor a message cannot be shaped (TS_FIELDS_NOT_OBJECT).
 *
 * Lifecycle: ts_fields_init(), then the requests (ts_fields_add_select(),
 * ..., parsed from the option arguments the user gave; each -1 with a
 * message in err, which names no option: the caller adds that), then
 * ts_fields_ready() once, then ts_fields_set_parent() for each value the
 * records come out of and ts_fields_write() for each record, then
 * ts_fields_release().  The struct owns copies of everything it was given
 * except the metadata keys (static strings of the caller); its members are
 * read-only outside this module.  Nothing it keeps points into a record
 * after ts_fields_write() returns; it keeps spans into the parent (see
 * ts_fields_set_parent()).
 */
#ifndef TS_FIELDS_H
#define TS_FIELDS_H

#include <stddef.h>

#include "buf.h"
#include "jpath.h"
#include "json.h"
#include "members.h"

#define TS_FIELDS_META_MAX 8

struct ts_fields_rename {
	char *from, *to; /* decoded names */
};

struct ts_fields_meta {
	const char *key;      /* the caller's name for the value (static) */
	char *name;           /* the output name; "" leaves it out; NULL: key */
	size_t namelen;       /* ts_fields_ready: strlen of the output name */
	struct ts_buf quoted; /* ts_fields_ready: "name": */
};

struct ts_fields {
	struct ts_jpath *select, *parents;
	size_t nselect, nparents;
	struct ts_fields_rename *renames;
	size_t nrenames;
	struct ts_fields_meta meta[TS_FIELDS_META_MAX];
	size_t nmeta;
	int add_meta;  /* metadata is added to records that come with some */
	struct ts_span *parent_vals; /* the parents in the current parent */

	/* set by ts_fields_ready() */
	int shaping;   /* any request: records are rebuilt */
	int meta_only; /* metadata and nothing else: spliced into the record */
	struct ts_members mem; /* scratch, one record's members */
};

/* One record handed to ts_fields_write(). */
struct ts_fields_rec {
	struct ts_span v;   /* a validated value, or a quoted string (message) */
	int message;        /* v is a message: the record is {"message": v} */
	int has_ws;         /* v has whitespace between tokens (ts_json_scan) */
	const struct ts_json_keys *keys; /* the members of v when the scan noted
					  * them (ts_json_scan_keys), or NULL:
					  * then a field is found without a walk */
};

void ts_fields_init(struct ts_fields *f);
void ts_fields_release(struct ts_fields *f);

/*
 * Call fn for each item of a comma-separated list, in order, skipping empty
 * items.  A comma between double quotes (not after a backslash) is part of
 * the item: ."a,b",c is two items.  Stops at the first fn that returns
 * less than 0 and returns that; -1 when out of memory; else 0.
 */
int ts_fields_split(const char *list, int (*fn)(void *ud, const char *item), void *ud);

/* A comma-separated list of paths (jpath.h) that each end in a key and
 * have no []: the fields to keep, or the parent fields to copy.  Several
 * calls add up. */
int ts_fields_add_select(struct ts_fields *f, const char *list, char *err, size_t errlen);
int ts_fields_add_parents(struct ts_fields *f, const char *list, char *err, size_t errlen);
/* A comma-separated list of OLD=NEW; NEW must be UTF-8. */
int ts_fields_add_renames(struct ts_fields *f, const char *list, char *err, size_t errlen);

/*
 * Metadata: ts_fields_meta_key() declares a value the caller may have for
 * each record, in the order the values are passed to ts_fields_write() and
 * written; named key until told otherwise.  Returns its index, or -1 past
 * TS_FIELDS_META_MAX.  ts_fields_meta_on() asks for the metadata;
 * ts_fields_meta_name("KEY=NAME") asks for it too, under NAME ("" leaves
 * KEY out).
 */
int ts_fields_meta_key(struct ts_fields *f, const char *key);
void ts_fields_meta_on(struct ts_fields *f);
int ts_fields_meta_name(struct ts_fields *f, const char *arg, char *err, size_t errlen);

/* After the requests, before the first record.  0, or -1 (out of memory). */
int ts_fields_ready(struct ts_fields *f);

/*
 * The value the next records come out of (a CloudTrail file, a CloudWatch
 * Logs payload; a record itself when it comes out of nothing), or {NULL, 0}
 * for none: the parent fields are looked up here once, not per record.
 * The spans kept point into parent, which must live until the last record
 * written from it.  Before the first call there is none.
 */
void ts_fields_set_parent(struct ts_fields *f, struct ts_span parent);

/*
 * Append the output record for rec to out (no newline).  meta holds a
 * value for each declared key (n == 0: the record has none), or is NULL
 * when the record comes with no metadata.
 * 0, or TS_FIELDS_NOT_OBJECT (nothing appended), or -1 when out's limit is
 * reached (out is left as it was).
 */
#define TS_FIELDS_NOT_OBJECT 1
int ts_fields_write(struct ts_fields *f, struct ts_buf *out,
		    const struct ts_fields_rec *rec, const struct ts_span *meta);

#endif
