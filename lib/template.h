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
	char *text; /* literal text, the key name, or the time pattern */
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
/*
 * Rendering, for each record.  A partition value is data: it is
 * percent-encoded (Hive-style) so that it cannot contain '/', NUL or control
 * characters, cannot be "." or "..", and cannot start with '.' or '_' (which
 * would hide it from query engines); "" becomes __HIVE_DEFAULT_PARTITION__.
 * Valid UTF-8 beyond ASCII is kept; any other byte is percent-encoded, and
 * a string's lone surrogate escape ("\ud800") is taken as its WTF-8 bytes,
 * so it is encoded ("%ED%A0%80") and distinct JSON strings never share a
 * path.
 * !{firehose:random-string} renders as TS_TPL_RANDOM_MARK, which the file
 * writer replaces per file.
 */
#define TS_TPL_RANDOM_MARK '\x01'
#define TS_TPL_MAX_COMPONENT 255

struct ts_tpl_env {
	const struct ts_tz *tz;
	size_t nkeys;
	char *const *names;         /* partition key names ... */
	const struct ts_span *vals; /* ... and their values: JSON strings,
				     * numbers or booleans from the record */
	const char *errtype;        /* !{firehose:error-output-type} */
	size_t max_len;             /* longest prefix allowed */
};

/* Per-template state: formatted times are reused within the same second. */
struct ts_tpl_render {
	struct ts_buf scratch;
	struct ts_tpl_cached {
		int64_t key;
		struct ts_buf text;
	} *cache;
	size_t n;
};
int ts_tpl_render_init(struct ts_tpl_render *r, const struct ts_template *t);
void ts_tpl_render_release(struct ts_tpl_render *r);

/*
 * Render t for a record of time ms into out.  0, or -1 with *code:
 * "key_too_long" (a path component over TS_TPL_MAX_COMPONENT bytes, or the
 * prefix over max_len) or "bad_prefix" (a "." or ".." component).
 */
int ts_template_render(const struct ts_template *t, struct ts_tpl_render *r,
		       const struct ts_tpl_env *env, int64_t ms, struct ts_buf *out,
		       const char **code);
/* Percent-encode one value (see above); -1 when longer than a component. */
int ts_template_encode_value(struct ts_buf *out, const char *v, size_t n);

/* Append the default time part !{timestamp:yyyy/MM/dd/HH/} as it is, no
 * '/' put before it (the service's rule when a prefix has no timestamp:
 * "logs" renders "logs2024/05/01/10/"). */
int ts_template_add_default_time(struct ts_template *t);

/* 1 with a warning in msg when a !{timestamp:...} pattern has mm (minutes)
 * next to a year or day field and no MM anywhere, where the month was
 * surely meant ("yyyy-mm-dd"); else 0. */
int ts_template_check_minutes(const struct ts_template *t, char *msg, size_t n);

#endif
