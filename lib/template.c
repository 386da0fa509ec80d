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

/*
 * The skeleton of a template: the text every rendering has, with each value
 * replaced by one byte that is neither '.' nor '/' (a key value is encoded
 * so that it is never empty and never starts with '.', a time field is
 * digits), and the template column of each byte.  A component of it that is
 * "." or "..", or a leading '/', would be one in every rendered prefix.
 */
struct skel {
	char *b;
	size_t *col, n, cap;
	int oom;
};

static int skel_add(struct skel *k, const char *p, size_t n, size_t col, int same_col)
{
	if (k->n + n > k->cap) {
		size_t nc = (k->n + n) * 2 + 16;
		char *nb = realloc(k->b, nc);
		if (nb)
			k->b = nb;
		size_t *ncol = realloc(k->col, nc * sizeof(*ncol));
		if (ncol)
			k->col = ncol;
		if (!nb || !ncol)
			return k->oom = 1, -1;
		k->cap = nc;
	}
	for (size_t i = 0; i < n; i++) {
		k->b[k->n] = p[i];
		k->col[k->n++] = same_col ? col : col + i;
	}
	return 0;
}

/* -1 with *col at the first byte of a component that leaves the output
 * directory. */
static int skel_check(const struct skel *k, size_t *col)
{
	if (k->n && k->b[0] == '/') {
		*col = k->col[0];
		return -1;
	}
	for (size_t i = 0; i < k->n;) {
		size_t j = i;
		while (j < k->n && k->b[j] != '/')
			j++;
		if ((j - i == 1 || j - i == 2) && k->b[i] == '.' && k->b[j - 1] == '.') {
			*col = k->col[i];
			return -1;
		}
		i = j + 1;
	}
	return 0;
}

int ts_template_parse(struct ts_template *t, const char *s, int flags,
		      char *err, size_t errlen)
{
	const char *p = s, *lit = s, *bs;
	struct skel sk = {0};
	size_t bad;

	memset(t, 0, sizeof(*t));
#define TERR(at, ...)                                                      \
	do {                                                               \
		int k_ = snprintf(err, errlen, "column %d: ", (int)((at) - s) + 1); \
		if (k_ > 0 && (size_t)k_ < errlen)                         \
			snprintf(err + k_, errlen - (size_t)k_, __VA_ARGS__); \
		ts_template_release(t);                                    \
		free(sk.b);                                                \
		free(sk.col);                                              \
		return -1;                                                 \
	} while (0)
	if ((bs = strchr(s, '\\')) != NULL)
		TERR(bs, "'\\' is not allowed in a prefix");
	while ((p = strstr(p, "!{")) != NULL) {
		add_lit(t, lit, (size_t)(p - lit));
		skel_add(&sk, lit, (size_t)(p - lit), (size_t)(lit - s), 0);
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
			skel_add(&sk, "k", 1, (size_t)(open - s), 1);
		} else if (NS("timestamp")) {
			const char *why;
			size_t col;
			part.kind = TS_TPL_TIME;
			if (ts_timefmt_parse(&part.fmt, arg, an, &why, &col) < 0)
				TERR(arg + col, "%s", why);
			t->has_time = 1;
			for (size_t i = 0; i < part.fmt.n; i++) {
				const char *ft = part.fmt.parts[i].field ? "0" : part.fmt.parts[i].text;
				skel_add(&sk, ft, strlen(ft), (size_t)(open - s), 1);
			}
		} else if (NS("firehose")) {
			if (an == 13 && !memcmp(arg, "random-string", 13)) {
				part.kind = TS_TPL_RANDOM;
				t->has_random = 1;
				skel_add(&sk, "r", 1, (size_t)(open - s), 1);
			} else if (an == 17 && !memcmp(arg, "error-output-type", 17)) {
				if (!(flags & TS_TPL_ALLOW_ERRTYPE))
					TERR(arg, "!{firehose:error-output-type} belongs in --error-prefix");
				part.kind = TS_TPL_ERRTYPE;
				t->has_errtype = 1;
				skel_add(&sk, "e", 1, (size_t)(open - s), 1);
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
	add_lit(t, lit, rest);
	if (skel_add(&sk, lit, rest, (size_t)(lit - s), 0) < 0 || sk.oom)
		TERR(s, "out of memory");
	if (skel_check(&sk, &bad) < 0)
		TERR(s + bad, sk.n && sk.b[0] == '/'
			      ? "a prefix is relative to the output directory: no leading '/'"
			      : "a '.' or '..' path component is not allowed in a prefix");
	free(sk.b);
	free(sk.col);
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
