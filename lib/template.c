/* template.c — see template.h. */
#include "template.h"

#include <stdint.h>
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

int ts_template_encode_value(struct ts_buf *out, const char *v, size_t n)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t start = out->len;

	if (n == 0)
		return ts_buf_addstr(out, "__HIVE_DEFAULT_PARTITION__");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		int safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-' || c == '~' || c >= 0x80 ||
			   ((c == '.' || c == '_') && i > 0);
		if (safe) {
			ts_buf_addch(out, (char)c);
		} else {
			char e[3] = {'%', hx[c >> 4], hx[c & 15]};
			ts_buf_add(out, e, 3);
		}
	}
	/* "." and ".." are already gone: a leading '.' is always encoded */
	if (out->len - start > TS_TPL_MAX_COMPONENT) {
		ts_buf_setlen(out, start);
		return -1;
	}
	return 0;
}

int ts_tpl_render_init(struct ts_tpl_render *r, const struct ts_template *t)
{
	ts_buf_init(&r->scratch, 0);
	r->n = t->n;
	r->cache = calloc(t->n + 1, sizeof(*r->cache));
	if (!r->cache)
		return -1;
	for (size_t i = 0; i < t->n; i++) {
		r->cache[i].key = INT64_MIN;
		ts_buf_init(&r->cache[i].text, 0);
	}
	return 0;
}

void ts_tpl_render_release(struct ts_tpl_render *r)
{
	for (size_t i = 0; r->cache && i < r->n; i++)
		ts_buf_release(&r->cache[i].text);
	free(r->cache);
	ts_buf_release(&r->scratch);
	r->cache = NULL;
	r->n = 0;
}

int ts_template_render(const struct ts_template *t, struct ts_tpl_render *r,
		       const struct ts_tpl_env *env, int64_t ms, struct ts_buf *out,
		       const char **code)
{
	struct ts_civil c;
	int have_civil = 0;
	int64_t sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);

	ts_buf_reset(out);
	for (size_t i = 0; i < t->n; i++) {
		const struct ts_tpl_part *p = &t->parts[i];
		switch (p->kind) {
		case TS_TPL_LIT:
			ts_buf_addstr(out, p->text);
			break;
		case TS_TPL_RANDOM:
			ts_buf_addch(out, TS_TPL_RANDOM_MARK);
			break;
		case TS_TPL_ERRTYPE:
			ts_buf_addstr(out, env->errtype ? env->errtype : "");
			break;
		case TS_TPL_TIME: {
			/* Records come more or less in time order: format once a
			 * second (a millisecond for patterns with S). */
			int64_t key = sec;
			for (size_t j = 0; j < p->fmt.n; j++)
				if (p->fmt.parts[j].field == 'S')
					key = ms;
			struct ts_tpl_cached *k = &r->cache[i];
			if (k->key != key) {
				if (!have_civil) {
					ts_tz_civil(env->tz, ms, &c);
					have_civil = 1;
				}
				ts_buf_reset(&k->text);
				ts_timefmt_format(&p->fmt, &c, &k->text);
				k->key = key;
			}
			ts_buf_add(out, k->text.data, k->text.len);
			break;
		}
		case TS_TPL_KEY: {
			size_t k = 0;
			while (k < env->nkeys && strcmp(env->names[k], p->text) != 0)
				k++;
			if (k == env->nkeys) { /* the caller checked: never */
				*code = "missing_key";
				return -1;
			}
			struct ts_span v = env->vals[k];
			if (v.n && v.p[0] == '"') {
				ts_buf_reset(&r->scratch);
				ts_json_unescape(&r->scratch, v);
				v = (struct ts_span){r->scratch.data, r->scratch.len};
			}
			if (ts_template_encode_value(out, v.p, v.n) < 0) {
				*code = "key_too_long";
				return -1;
			}
			break;
		}
		}
	}
	/* Every path component fits a file system name, none climbs out. */
	const char *s = out->data, *e = out->data + out->len;
	while (s < e) {
		const char *slash = memchr(s, '/', (size_t)(e - s));
		size_t n = (size_t)((slash ? slash : e) - s);
		if (n > TS_TPL_MAX_COMPONENT) {
			*code = "key_too_long";
			return -1;
		}
		if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) {
			*code = "bad_prefix";
			return -1;
		}
		s += n + 1;
	}
	if (env->max_len && out->len > env->max_len) {
		*code = "key_too_long";
		return -1;
	}
	return 0;
}
