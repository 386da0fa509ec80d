/* fields.c — see fields.h. */
#include "fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ts_fields_init(struct ts_fields *f)
{
	memset(f, 0, sizeof(*f));
	ts_members_init(&f->mem);
}

void ts_fields_release(struct ts_fields *f)
{
	for (size_t i = 0; i < f->nselect; i++)
		ts_jpath_release(&f->select[i]);
	for (size_t i = 0; i < f->nparents; i++)
		ts_jpath_release(&f->parents[i]);
	for (size_t i = 0; i < f->nrenames; i++) {
		free(f->renames[i].from);
		free(f->renames[i].to);
	}
	for (size_t i = 0; i < f->nmeta; i++) {
		free(f->meta[i].name);
		ts_buf_release(&f->meta[i].quoted);
	}
	free(f->select);
	free(f->parents);
	free(f->parent_vals);
	free(f->renames);
	ts_members_release(&f->mem);
	ts_fields_init(f);
}

int ts_fields_split(const char *list, int (*fn)(void *ud, const char *item), void *ud)
{
	char *copy = strdup(list), *p = copy, *start = copy;
	int inq = 0, rc = 0;

	if (!copy)
		return -1;
	for (;; p++) {
		if (*p == '"' && (p == copy || p[-1] != '\\'))
			inq = !inq;
		if ((*p == ',' && !inq) || !*p) {
			char end = *p;
			*p = '\0';
			if (*start && (rc = fn(ud, start)) < 0)
				break;
			if (!end)
				break;
			start = p + 1;
		}
	}
	free(copy);
	return rc;
}

/* What ts_fields_split() calls back with: one request being parsed. */
struct add_ctx {
	struct ts_fields *f;
	struct ts_jpath **v; /* add_path: the list it adds to */
	size_t *n;
	char *err;
	size_t errlen;
};

static int add_path(void *ud, const char *s)
{
	struct add_ctx *a = ud;
	struct ts_jpath *nv = realloc(*a->v, (*a->n + 1) * sizeof(**a->v));
	size_t kn;

	if (!nv)
		return snprintf(a->err, a->errlen, "out of memory"), -1;
	*a->v = nv;
	if (ts_jpath_parse(&nv[*a->n], s, a->err, a->errlen) < 0)
		return -1;
	/* the path names the output field: it needs a last key, and one value */
	if (ts_jpath_is_multi(&nv[*a->n]) || !ts_jpath_last_key(&nv[*a->n], &kn)) {
		ts_jpath_release(&nv[*a->n]);
		snprintf(a->err, a->errlen, "'%s': a field path must end in a key and have no []", s);
		return -1;
	}
	(*a->n)++;
	return 0;
}

int ts_fields_add_select(struct ts_fields *f, const char *list, char *err, size_t errlen)
{
	struct add_ctx a = {f, &f->select, &f->nselect, err, errlen};

	return ts_fields_split(list, add_path, &a) < 0 ? -1 : 0;
}

int ts_fields_add_parents(struct ts_fields *f, const char *list, char *err, size_t errlen)
{
	struct add_ctx a = {f, &f->parents, &f->nparents, err, errlen};

	return ts_fields_split(list, add_path, &a) < 0 ? -1 : 0;
}

static int utf8_ok(const char *s)
{
	size_t n = strlen(s);

	return ts_utf8_valid_prefix(s, n) == n;
}

static int add_rename(void *ud, const char *s)
{
	struct add_ctx *a = ud;
	struct ts_fields *f = a->f;
	const char *eq = strchr(s, '=');
	struct ts_fields_rename *nv, r;

	if (!eq || eq == s || !eq[1])
		return snprintf(a->err, a->errlen, "wants OLD=NEW, got '%s'", s), -1;
	/* NEW is written as it is given: bytes that are not UTF-8 would make
	 * a record that is not JSON */
	if (!utf8_ok(eq + 1))
		return snprintf(a->err, a->errlen, "'%s' is not UTF-8", eq + 1), -1;
	nv = realloc(f->renames, (f->nrenames + 1) * sizeof(*nv));
	if (!nv)
		return snprintf(a->err, a->errlen, "out of memory"), -1;
	f->renames = nv;
	r.from = strndup(s, (size_t)(eq - s));
	r.to = strdup(eq + 1);
	if (!r.from || !r.to) {
		free(r.from);
		free(r.to);
		return snprintf(a->err, a->errlen, "out of memory"), -1;
	}
	nv[f->nrenames++] = r;
	return 0;
}

int ts_fields_add_renames(struct ts_fields *f, const char *list, char *err, size_t errlen)
{
	struct add_ctx a = {.f = f, .err = err, .errlen = errlen};

	return ts_fields_split(list, add_rename, &a) < 0 ? -1 : 0;
}

int ts_fields_meta_key(struct ts_fields *f, const char *key)
{
	if (f->nmeta == TS_FIELDS_META_MAX)
		return -1;
	f->meta[f->nmeta].key = key;
	f->meta[f->nmeta].name = NULL;
	ts_buf_init(&f->meta[f->nmeta].quoted, 0);
	return (int)f->nmeta++;
}

void ts_fields_meta_on(struct ts_fields *f)
{
	f->add_meta = 1;
}

static const char *meta_name(const struct ts_fields_meta *m)
{
	return m->name ? m->name : m->key;
}

int ts_fields_meta_name(struct ts_fields *f, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');

	for (size_t i = 0; eq && i < f->nmeta; i++) {
		struct ts_fields_meta *m = &f->meta[i];
		char *name;
		if ((size_t)(eq - arg) != strlen(m->key) ||
		    strncmp(arg, m->key, (size_t)(eq - arg)) != 0)
			continue;
		if (!utf8_ok(eq + 1))
			return snprintf(err, errlen, "'%s' is not UTF-8", eq + 1), -1;
		if (!(name = strdup(eq + 1)))
			return snprintf(err, errlen, "out of memory"), -1;
		free(m->name);
		m->name = name;
		f->add_meta = 1;
		return 0;
	}
	/* the message lists the keys: "... one of logGroup, logStream; got 'x'" */
	size_t at = (size_t)snprintf(err, errlen, "wants KEY=NAME with KEY one of ");
	for (size_t i = 0; i < f->nmeta && at < errlen; i++)
		at += (size_t)snprintf(err + at, errlen - at, "%s%s", i ? ", " : "", f->meta[i].key);
	if (at < errlen)
		snprintf(err + at, errlen - at, "; got '%s'", arg);
	return -1;
}

int ts_fields_ready(struct ts_fields *f)
{
	if (f->nparents && !f->parent_vals &&
	    !(f->parent_vals = calloc(f->nparents, sizeof(*f->parent_vals))))
		return -1;
	f->shaping = f->add_meta || f->nselect || f->nparents || f->nrenames;
	f->meta_only = f->add_meta && !f->nselect && !f->nparents && !f->nrenames;
	for (size_t i = 0; i < f->nmeta; i++) {
		struct ts_fields_meta *m = &f->meta[i];
		const char *name = meta_name(m);
		/* a field named message may be the message record's own one,
		 * which the splice does not look for */
		if (strcmp(name, "message") == 0)
			f->meta_only = 0;
		m->namelen = strlen(name);
		ts_buf_reset(&m->quoted);
		if (ts_json_escape(&m->quoted, name, strlen(name)) < 0 ||
		    ts_buf_addch(&m->quoted, ':') < 0)
			return -1;
	}
	return 0;
}

/* --- writing records -------------------------------------------------- */

/* Does the object have a member of this name?  keys lists its members when
 * the scan noted them all; otherwise look. */
static int has_member(struct ts_span obj, const struct ts_json_keys *keys,
		      const char *name, size_t n)
{
	if (keys && !keys->overflow) {
		for (size_t i = 0; i < keys->n; i++)
			if (ts_json_key_eq(keys->k[i], name, n))
				return 1;
		return 0;
	}
	return ts_json_obj_get(obj, name, n, &(struct ts_span){0});
}

/* No request: the record as it is, compact. */
static int write_copy(struct ts_buf *b, const struct ts_fields_rec *rec)
{
	if (rec->message)
		return -(ts_buf_add(b, "{\"message\":", 11) < 0 ||
			 ts_buf_add(b, rec->v.p, rec->v.n) < 0 || ts_buf_addch(b, '}') < 0);
	if (rec->has_ws)
		return ts_json_minify(b, rec->v);
	return ts_buf_add(b, rec->v.p, rec->v.n);
}

/* Metadata alone, the common case of ts-extract --cwl --meta: the record's
 * bytes, then the metadata members spliced in before its closing brace.
 * No member list is built. */
static int write_meta_only(const struct ts_fields *f, struct ts_buf *b,
			   const struct ts_fields_rec *rec, const struct ts_span *meta)
{
	int first, bad = 0;

	if (rec->message) {
		bad |= ts_buf_add(b, "{\"message\":", 11);
		bad |= ts_buf_add(b, rec->v.p, rec->v.n);
		first = 0;
	} else {
		size_t at = b->len;
		bad |= rec->has_ws ? ts_json_minify(b, rec->v) : ts_buf_add(b, rec->v.p, rec->v.n);
		if (bad)
			return -1;
		ts_buf_setlen(b, b->len - 1); /* the closing brace */
		first = b->len - at == 1;     /* it was {} */
	}
	for (size_t i = 0; i < f->nmeta; i++) {
		const struct ts_fields_meta *m = &f->meta[i];
		if (!meta[i].n || !m->namelen)
			continue;
		if (!rec->message && has_member(rec->v, rec->keys, meta_name(m), m->namelen))
			continue; /* the record's own field wins */
		if (!first)
			bad |= ts_buf_addch(b, ',');
		first = 0;
		bad |= ts_buf_add(b, m->quoted.data, m->quoted.len);
		/* only an array or object can hold whitespace to drop */
		if (meta[i].p[0] == '{' || meta[i].p[0] == '[')
			bad |= ts_json_minify(b, meta[i]);
		else
			bad |= ts_buf_add(b, meta[i].p, meta[i].n);
	}
	bad |= ts_buf_addch(b, '}');
	return bad ? -1 : 0;
}

/* Add a member unless one of the record's own (the first own) has its name. */
static int add_unless_present(struct ts_members *l, const char *name, size_t n,
			      struct ts_span v, size_t own)
{
	for (size_t i = 0; i < own; i++)
		if (ts_member_is(&l->m[i], name, n))
			return 0;
	return ts_members_add(l, (struct ts_span){name, n}, 0, v);
}

/* The record's own members: all, or the selected ones. */
static int own_members(struct ts_fields *f, const struct ts_fields_rec *rec)
{
	struct ts_members *l = &f->mem;
	struct ts_span v;

	if (!f->nselect) {
		if (rec->message)
			return ts_members_add(l, (struct ts_span){"message", 7}, 0, rec->v);
		return ts_members_add_object(l, rec->v);
	}
	for (size_t i = 0; i < f->nselect; i++) {
		size_t kn;
		const char *k = ts_jpath_last_key(&f->select[i], &kn);
		/* a message record has one field, message */
		if (rec->message) {
			if (kn == 7 && memcmp(k, "message", 7) == 0 &&
			    ts_members_add(l, (struct ts_span){k, kn}, 0, rec->v) < 0)
				return -1;
		} else if ((rec->keys ? ts_jpath_get_indexed(&f->select[i], rec->v, rec->keys, &v)
				      : ts_jpath_get(&f->select[i], rec->v, &v)) &&
			   ts_members_add(l, (struct ts_span){k, kn}, 0, v) < 0) {
			return -1;
		}
	}
	return 0;
}

static int add_meta(struct ts_fields *f, const struct ts_span *meta, size_t own)
{
	for (size_t i = 0; i < f->nmeta; i++) {
		const struct ts_fields_meta *m = &f->meta[i];
		if (meta[i].n && m->namelen &&
		    add_unless_present(&f->mem, meta_name(m), m->namelen, meta[i], own) < 0)
			return -1;
	}
	return 0;
}

void ts_fields_set_parent(struct ts_fields *f, struct ts_span parent)
{
	/* Looked up once for all the records inside: a field of a large
	 * parent (a CloudTrail file's, after its Records) is found by walking
	 * the whole parent, and doing that for each record is quadratic. */
	for (size_t i = 0; i < f->nparents && f->parent_vals; i++)
		if (!parent.n || !ts_jpath_get(&f->parents[i], parent, &f->parent_vals[i]))
			f->parent_vals[i] = (struct ts_span){NULL, 0};
}

static int add_parents(struct ts_fields *f, size_t own)
{
	for (size_t i = 0; i < f->nparents && f->parent_vals; i++) {
		size_t kn;
		const char *k = ts_jpath_last_key(&f->parents[i], &kn);
		if (f->parent_vals[i].n &&
		    add_unless_present(&f->mem, k, kn, f->parent_vals[i], own) < 0)
			return -1;
	}
	return 0;
}

static void apply_renames(struct ts_fields *f)
{
	for (size_t r = 0; r < f->nrenames; r++) {
		const struct ts_fields_rename *rn = &f->renames[r];
		long i = ts_members_find(&f->mem, rn->from, strlen(rn->from));
		if (i >= 0) {
			f->mem.m[i].key = (struct ts_span){rn->to, strlen(rn->to)};
			f->mem.m[i].quoted = 0;
		}
	}
}

int ts_fields_write(struct ts_fields *f, struct ts_buf *out,
		    const struct ts_fields_rec *rec, const struct ts_span *meta)
{
	size_t at = out->len;
	int rc;

	if (!f->shaping) {
		rc = write_copy(out, rec);
	} else if (!rec->message && rec->v.p[0] != '{') {
		return TS_FIELDS_NOT_OBJECT;
	} else if (f->meta_only && meta) {
		rc = write_meta_only(f, out, rec, meta);
	} else {
		ts_members_reset(&f->mem);
		rc = own_members(f, rec);
		size_t own = f->mem.n;
		if (!rc && f->add_meta && meta)
			rc = add_meta(f, meta, own);
		if (!rc)
			rc = add_parents(f, own);
		if (!rc) {
			apply_renames(f);
			rc = ts_members_write(&f->mem, out);
		}
	}
	if (rc < 0) {
		ts_buf_setlen(out, at);
		return -1;
	}
	return 0;
}
