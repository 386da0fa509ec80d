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
			part.text = strndup(arg, an); /* for messages */
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

	/* The service appends !{timestamp:yyyy/MM/dd/HH/} to the prefix as
	 * it is: "logs" becomes "logs2024/05/01/10/", no '/' put between. */
	if (ts_timefmt_parse(&part.fmt, "yyyy/MM/dd/HH/", 14, &why, &col) < 0)
		return -1;
	part.text = strdup("yyyy/MM/dd/HH/");
	t->has_time = 1;
	return add(t, part);
}

int ts_template_check_minutes(const struct ts_template *t, char *msg, size_t n)
{
	char prev = 0;
	const char *m_pat = NULL;
	int pending = 0; /* an 'm' whose next field is not known yet */

	for (size_t i = 0; i < t->n; i++)
		for (size_t j = 0; t->parts[i].kind == TS_TPL_TIME && j < t->parts[i].fmt.n; j++)
			if (t->parts[i].fmt.parts[j].field == 'M')
				return 0; /* the month is there: mm is meant */
	for (size_t i = 0; i < t->n; i++) {
		const struct ts_tpl_part *p = &t->parts[i];
		if (p->kind != TS_TPL_TIME)
			continue;
		for (size_t j = 0; j < p->fmt.n; j++) {
			char f = p->fmt.parts[j].field;
			if (!f)
				continue;
			if (pending && (f == 'y' || f == 'd'))
				goto warn;
			pending = 0;
			if (f == 'm') {
				m_pat = p->text;
				if (prev == 'y' || prev == 'd')
					goto warn;
				pending = 1;
			}
			prev = f;
		}
	}
	return 0;
warn:
	snprintf(msg, n, "!{timestamp:%s}: mm is minutes: write MM for the month "
		 "(as in yyyy-MM-dd)", m_pat ? m_pat : "");
	return 1;
}

/* The length of the valid UTF-8 sequence at s (at most n bytes), 0 when
 * it is not one (a stray byte, an overlong form, a surrogate). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp, min;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (n < len)
		return 0;
	cp = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int ts_template_encode_value(struct ts_buf *out, const char *v, size_t n)
{
	static const char hx[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)v;
	size_t start = out->len;

	if (n == 0)
		return ts_buf_addstr(out, "__HIVE_DEFAULT_PARTITION__");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = u[i];
		size_t seq;
		if (c >= 0x80 && (seq = utf8_seq(u + i, n - i)) > 0) {
			ts_buf_add(out, v + i, seq); /* Unicode beyond ASCII as it is */
			i += seq - 1;
			continue;
		}
		int safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-' || c == '~' ||
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

static int hex4(const char *p, uint32_t *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		*v = *v << 4 | (uint32_t)d;
	}
	return 0;
}

static void put_cp(struct ts_buf *b, uint32_t cp)
{
	char u[4];

	ts_buf_add(b, u, ts_utf8_put(u, cp));
}

/*
 * The bytes of a quoted, validated JSON string, except that a lone
 * surrogate escape ("\ud800") becomes its three-byte WTF-8 form instead of
 * U+FFFD: those bytes are never valid UTF-8, so the encoder percent-encodes
 * them ("%ED%A0%80"), and "\ud800", "\udfff" and "\ufffd" stay three
 * values.  (The reader lets no invalid UTF-8 through, so only an escape
 * gives these bytes.)
 */
static void unescape_value(struct ts_buf *out, struct ts_span s)
{
	const char *p = s.p + 1, *e = s.p + s.n - 1;

	while (p < e) {
		const char *bs = memchr(p, '\\', (size_t)(e - p));
		if (!bs) {
			ts_buf_add(out, p, (size_t)(e - p));
			break;
		}
		ts_buf_add(out, p, (size_t)(bs - p));
		if (bs + 1 >= e)
			break;
		char c = bs[1];
		p = bs + 2;
		switch (c) {
		case 'b': ts_buf_addch(out, '\b'); break;
		case 'f': ts_buf_addch(out, '\f'); break;
		case 'n': ts_buf_addch(out, '\n'); break;
		case 'r': ts_buf_addch(out, '\r'); break;
		case 't': ts_buf_addch(out, '\t'); break;
		case 'u': {
			uint32_t cp, lo;
			if (e - p < 4 || hex4(p, &cp) < 0)
				return;
			p += 4;
			if (cp >= 0xd800 && cp <= 0xdbff && e - p >= 6 && p[0] == '\\' &&
			    p[1] == 'u' && hex4(p + 2, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			}
			put_cp(out, cp); /* a lone surrogate as WTF-8 */
			break;
		}
		default: ts_buf_addch(out, c); break; /* " \\ / */
		}
	}
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
			if (v.n >= 2 && v.p[0] == '"') {
				if (ts_json_str_has_escape(v)) {
					ts_buf_reset(&r->scratch);
					unescape_value(&r->scratch, v);
					v = (struct ts_span){r->scratch.data, r->scratch.len};
				} else {
					v = (struct ts_span){v.p + 1, v.n - 2};
				}
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
