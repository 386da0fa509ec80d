/* jpath.c — see jpath.h. */
#include "jpath.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add_step(struct ts_jpath *jp, struct ts_jpath_step st)
{
	struct ts_jpath_step *n = realloc(jp->steps, (jp->n + 1) * sizeof(*n));

	if (!n)
		return -1;
	jp->steps = n;
	jp->steps[jp->n++] = st;
	return 0;
}

/* A quoted key at s ('"'): decoded into st, *end past the closing quote. */
static int parse_quoted(const char *s, struct ts_jpath_step *st, const char **end)
{
	struct ts_json_scan sc;
	struct ts_buf b;

	if (ts_json_scan(s, s + strlen(s), 1, 1, &sc) != TS_JSON_OK)
		return -1;
	ts_buf_init(&b, 0);
	if (ts_json_unescape(&b, (struct ts_span){s, (size_t)(sc.end - s)}) < 0) {
		ts_buf_release(&b);
		return -1;
	}
	st->kind = TS_JP_KEY;
	st->key = ts_buf_detach(&b, &st->keylen);
	*end = sc.end;
	return 0;
}

static int is_ident(char c)
{
	return c == '_' || c == '-' || c == '$' || c == '@' || c == ':' ||
	       (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (unsigned char)c >= 0x80;
}

int ts_jpath_parse(struct ts_jpath *jp, const char *s, char *err, size_t errlen)
{
	const char *p = s;
	const char *why = NULL;

	memset(jp, 0, sizeof(*jp));
	jp->text = strdup(s);
	if (!jp->text) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (*p == '\0') {
		snprintf(err, errlen, "empty path (use . for the whole record)");
		ts_jpath_release(jp);
		return -1;
	}
	if (*p == '.' && p[1] == '\0')
		return 0;
	int bare = *p != '.' && *p != '['; /* "a.b" is read as ".a.b" */
	while (*p) {
		struct ts_jpath_step st = {0};
		if (*p == '.' || bare) {
			if (!bare)
				p++;
			bare = 0;
			if (*p == '"') {
				if (parse_quoted(p, &st, &p) < 0) {
					why = "invalid quoted key";
					goto fail;
				}
			} else if (*p == '[') {
				continue;
			} else {
				const char *q = p;
				while (is_ident(*q))
					q++;
				if (q == p) {
					why = "expected a key name";
					goto fail;
				}
				st.kind = TS_JP_KEY;
				st.keylen = (size_t)(q - p);
				st.key = strndup(p, st.keylen);
				p = q;
			}
		} else if (*p == '[') {
			p++;
			if (*p == ']') {
				st.kind = TS_JP_ITER;
				p++;
			} else if (*p == '"') {
				if (parse_quoted(p, &st, &p) < 0 || *p != ']') {
					free(st.key);
					why = "invalid [\"key\"]";
					goto fail;
				}
				p++;
			} else {
				char *q;
				long v = strtol(p, &q, 10);
				if (q == p || *q != ']') {
					why = "expected an index, \"key\" or ] after [";
					goto fail;
				}
				st.kind = TS_JP_INDEX;
				st.index = v;
				p = q + 1;
			}
		} else {
			why = "expected '.' or '['";
			goto fail;
		}
		if (add_step(jp, st) < 0) {
			free(st.key);
			why = "out of memory";
			goto fail;
		}
	}
	return 0;
fail:
	snprintf(err, errlen, "invalid path '%s': %s at column %d", s, why,
		 (int)(p - s) + 1);
	ts_jpath_release(jp);
	return -1;
}

void ts_jpath_release(struct ts_jpath *jp)
{
	for (size_t i = 0; i < jp->n; i++)
		free(jp->steps[i].key);
	free(jp->steps);
	free(jp->text);
	memset(jp, 0, sizeof(*jp));
}

int ts_jpath_is_multi(const struct ts_jpath *jp)
{
	for (size_t i = 0; i < jp->n; i++)
		if (jp->steps[i].kind == TS_JP_ITER)
			return 1;
	return 0;
}

const char *ts_jpath_last_key(const struct ts_jpath *jp, size_t *len)
{
	for (size_t i = jp->n; i-- > 0;)
		if (jp->steps[i].kind == TS_JP_KEY) {
			*len = jp->steps[i].keylen;
			return jp->steps[i].key;
		}
	return NULL;
}

static int each(const struct ts_jpath *jp, size_t i, struct ts_span v,
		ts_jpath_fn fn, void *ud)
{
	struct ts_json_iter it;
	struct ts_span k, e;
	int rc;

	if (i == jp->n)
		return fn(ud, v);
	const struct ts_jpath_step *st = &jp->steps[i];
	switch (st->kind) {
	case TS_JP_KEY:
		if (!ts_json_obj_get(v, st->key, st->keylen, &e))
			return 0;
		return each(jp, i + 1, e, fn, ud);
	case TS_JP_INDEX: {
		if (!v.n || v.p[0] != '[')
			return 0;
		long idx = st->index, n = 0;
		if (idx < 0) { /* count first */
			ts_json_iter_init(&it, v);
			while (ts_json_arr_next(&it, &e))
				n++;
			idx += n;
			if (idx < 0)
				return 0;
		}
		ts_json_iter_init(&it, v);
		for (long j = 0; ts_json_arr_next(&it, &e); j++)
			if (j == idx)
				return each(jp, i + 1, e, fn, ud);
		return 0;
	}
	case TS_JP_ITER:
		if (!v.n || (v.p[0] != '[' && v.p[0] != '{'))
			return 0;
		ts_json_iter_init(&it, v);
		if (v.p[0] == '[') {
			while (ts_json_arr_next(&it, &e))
				if ((rc = each(jp, i + 1, e, fn, ud)) != 0)
					return rc;
		} else {
			while (ts_json_obj_next(&it, &k, &e))
				if ((rc = each(jp, i + 1, e, fn, ud)) != 0)
					return rc;
		}
		return 0;
	}
	return 0;
}

int ts_jpath_each(const struct ts_jpath *jp, struct ts_span v, ts_jpath_fn fn,
		  void *ud)
{
	return each(jp, 0, v, fn, ud);
}

static int first(void *ud, struct ts_span v)
{
	*(struct ts_span *)ud = v;
	return 1;
}

int ts_jpath_get(const struct ts_jpath *jp, struct ts_span v, struct ts_span *out)
{
	return each(jp, 0, v, first, out) == 1;
}

int ts_jpath_get_indexed(const struct ts_jpath *jp, struct ts_span v,
			 const struct ts_json_keys *idx, struct ts_span *out)
{
	struct ts_span first_val;

	if (!jp->n || jp->steps[0].kind != TS_JP_KEY || idx->overflow || !v.n ||
	    v.p[0] != '{')
		return ts_jpath_get(jp, v, out);
	if (!ts_json_keys_get(idx, jp->steps[0].key, jp->steps[0].keylen, &first_val))
		return 0;
	return each(jp, 1, first_val, first, out) == 1;
}
