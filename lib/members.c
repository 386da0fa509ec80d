/* members.c — see members.h. */
#include "members.h"

#include <stdlib.h>
#include <string.h>

void ts_members_init(struct ts_members *l)
{
	memset(l, 0, sizeof(*l));
}

void ts_members_release(struct ts_members *l)
{
	free(l->m);
	ts_members_init(l);
}

int ts_member_is(const struct ts_member *m, const char *name, size_t n)
{
	if (m->quoted)
		return ts_json_key_eq(m->key, name, n);
	return m->key.n == n && memcmp(m->key.p, name, n) == 0;
}

long ts_members_find(const struct ts_members *l, const char *name, size_t n)
{
	for (size_t i = 0; i < l->n; i++)
		if (ts_member_is(&l->m[i], name, n))
			return (long)i;
	return -1;
}

int ts_members_add(struct ts_members *l, struct ts_span key, int quoted,
		   struct ts_span val)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 16;
		struct ts_member *m = realloc(l->m, nc * sizeof(*m));
		if (!m)
			return -1;
		l->m = m;
		l->cap = nc;
	}
	l->m[l->n++] = (struct ts_member){key, quoted, val};
	return 0;
}

int ts_members_add_object(struct ts_members *l, struct ts_span obj)
{
	struct ts_json_iter it;
	struct ts_span k, v;

	ts_json_iter_init(&it, obj);
	while (ts_json_obj_next(&it, &k, &v))
		if (ts_members_add(l, k, 1, v) < 0)
			return -1;
	return 0;
}

int ts_members_write(const struct ts_members *l, struct ts_buf *out)
{
	if (ts_buf_addch(out, '{') < 0)
		return -1;
	for (size_t i = 0; i < l->n; i++) {
		const struct ts_member *m = &l->m[i];
		if (i && ts_buf_addch(out, ',') < 0)
			return -1;
		if (m->quoted ? ts_buf_add(out, m->key.p, m->key.n)
			      : ts_json_escape(out, m->key.p, m->key.n))
			return -1;
		if (ts_buf_addch(out, ':') < 0 || ts_json_minify(out, m->val) < 0)
			return -1;
	}
	return ts_buf_addch(out, '}');
}
