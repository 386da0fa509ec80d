/*
 * template.h — S3 prefix templates in a delivery stream's own syntax, so an
 * existing dynamic-partitioning configuration copies over unchanged:
 *
 *	!{partitionKeyFromQuery:NAME}   the value of key NAME (--key NAME=PATH);
 *	!{partitionKeyFromLambda:NAME}  the same (an alias)
 *	!{timestamp:FMT}                the record time, FMT as tstime.h
 *	!{firehose:random-string}       11 random characters, fresh per file
 *	!{firehose:error-output-type}   the kind of failure (error prefix only)
 *
 * Everything else is literal text.  A template error (an unknown namespace,
 * a "!{" not closed, an unsupported pattern letter, "..") is reported with
 * its column at parse time.
 */
#ifndef TS_TEMPLATE_H
#define TS_TEMPLATE_H

#include "tstime.h"

enum ts_tpl_kind { TS_TPL_LIT, TS_TPL_KEY, TS_TPL_TIME, TS_TPL_RANDOM, TS_TPL_ERRTYPE };

struct ts_tpl_part {
	enum ts_tpl_kind kind;
	char *text; /* literal text, or the key name */
	struct ts_timefmt fmt;
};

struct ts_template {
	struct ts_tpl_part *parts;
	size_t n;
	int has_time, has_random, has_errtype;
};

#define TS_TPL_ALLOW_ERRTYPE 1

/* 0, or -1 with "column N: what" in err. */
int ts_template_parse(struct ts_template *t, const char *s, int flags,
		      char *err, size_t errlen);
void ts_template_release(struct ts_template *t);
/* Append the default time part "!{timestamp:yyyy/MM/dd/HH}/" (the service's
 * behaviour when a prefix has no timestamp). */
int ts_template_add_default_time(struct ts_template *t);

#endif
