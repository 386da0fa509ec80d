/* template.c — see template.h. */
#include "template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add(struct ts_template *t, struct ts_tpl_part p)
{
	struct ts_tpl_part *np = realloc(t->parts, (t->n + 1) * sizeof(*np));

	if (!np)
		return -1;
	t->parts = np;
	np[t->n++] = p;
	return 0;
}

static int add_lit(struct ts_template *t, const char *s, size_t n)
{
	if (!n)
		return 0;
	return add(t, (struct ts_tpl_part){.kind = TS_TPL_LIT, .text = strndup(s, n)});
}

/* A literal may not climb out of the output directory. */
static int lit_ok(const char *s, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (s[i] == '.' && s[i + 1] == '.' && (i == 0 || s[i - 1] == '/') &&
		    (i + 2 == n || s[i + 2] == '/'))
			return 0;
	return !memchr(s, '\\', n);
}

int ts_template_parse(struct ts_template *t, const char *s, int flags,
		      char *err, size_t errlen)
{
	const char *p = s, *lit = s;

	memset(t, 0, sizeof(*t));
#define TERR(at, ...)                                                      \
	do {                                                               \
		int k_ = snprintf(err, errlen, "column %d: ", (int)((at) - s) + 1); \
		if (k_ > 0 && (size_t)k_ < errlen)                         \
			snprintf(err + k_, errlen - (size_t)k_, __VA_ARGS__); \
		ts_template_release(t);                                    \
		return -1;                                                 \
	} while (0)
	if (*s == '/')
		TERR(s, "a prefix is relative to the output directory: no leading '/'");
	while ((p = strstr(p, "!{")) != NULL) {
		if (!lit_ok(lit, (size_t)(p - lit)))
			TERR(lit, "'..' and '\\' are not allowed in a prefix");
		add_lit(t, lit, (size_t)(p - lit));
		const char *open = p, *close = strchr(p + 2, '}');
		if (!close)
			TERR(open, "'!{' is not closed with '}'");
		const char *colon = memchr(p + 2, ':', (size_t)(close - p - 2));
		if (!colon)
			TERR(open + 2, "expected namespace:argument inside !{...}");
		size_t nl = (size_t)(colon - p - 2);
		const char *arg = colon + 1;
		size_t an = (size_t)(close - arg);
		struct ts_tpl_part part = {0};
#define NS(name) (nl == sizeof(name) - 1 && !memcmp(p + 2, name, nl))
		if (NS("partitionKeyFromQuery") || NS("partitionKeyFromLambda")) {
			if (!an)
				TERR(arg, "partition key name is empty");
			part.kind = TS_TPL_KEY;
			part.text = strndup(arg, an);
		} else if (NS("timestamp")) {
			const char *why;
			size_t col;
			part.kind = TS_TPL_TIME;
			if (ts_timefmt_parse(&part.fmt, arg, an, &why, &col) < 0)
				TERR(arg + col, "%s", why);
			t->has_time = 1;
		} else if (NS("firehose")) {
			if (an == 13 && !memcmp(arg, "random-string", 13)) {
				part.kind = TS_TPL_RANDOM;
				t->has_random = 1;
			} else if (an == 17 && !memcmp(arg, "error-output-type", 17)) {
				if (!(flags & TS_TPL_ALLOW_ERRTYPE))
					TERR(arg, "!{firehose:error-output-type} belongs in --error-prefix");
				part.kind = TS_TPL_ERRTYPE;
				t->has_errtype = 1;
			} else {
				TERR(arg, "unknown firehose: expression (random-string, error-output-type)");
			}
		} else {
			TERR(open + 2, "unknown namespace '%.*s' (partitionKeyFromQuery, "
				       "partitionKeyFromLambda, timestamp, firehose)", (int)nl, p + 2);
		}
#undef NS
		add(t, part);
		p = lit = close + 1;
	}
	size_t rest = strlen(lit);
	if (!lit_ok(lit, rest))
		TERR(lit, "'..' and '\\' are not allowed in a prefix");
	add_lit(t, lit, rest);
#undef TERR
	return 0;
}

void ts_template_release(struct ts_template *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->parts[i].text);
		ts_timefmt_release(&t->parts[i].fmt);
	}
	free(t->parts);
	memset(t, 0, sizeof(*t));
}

int ts_template_add_default_time(struct ts_template *t)
{
	struct ts_tpl_part part = {.kind = TS_TPL_TIME};
	const char *why;
	size_t col;

	if (ts_timefmt_parse(&part.fmt, "yyyy/MM/dd/HH", 13, &why, &col) < 0)
		return -1;
	if (t->n && t->parts[t->n - 1].kind == TS_TPL_LIT) {
		const char *l = t->parts[t->n - 1].text;
		if (*l && l[strlen(l) - 1] != '/')
			add_lit(t, "/", 1);
	} else if (t->n) {
		add_lit(t, "/", 1);
	}
	t->has_time = 1;
	return add(t, part) < 0 ? -1 : add_lit(t, "/", 1);
}
