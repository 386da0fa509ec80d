/* cwl.c — see cwl.h. */
#include "cwl.h"

#include <stdlib.h>
#include <string.h>

#define IS(k, s) ts_json_key_eq(k, s, sizeof(s) - 1)

const char *const ts_cwl_meta_keys[TS_CWL_META_N] = {"logGroup", "logStream", "owner", "id",
						     "timestamp"};

static int is_control(struct ts_span message_type)
{
	return message_type.n == sizeof("\"CONTROL_MESSAGE\"") - 1 &&
	       memcmp(message_type.p, "\"CONTROL_MESSAGE\"", message_type.n) == 0;
}

int ts_cwl_parse(struct ts_cwl *c, struct ts_span v, const char **why)
{
	struct ts_json_iter it;
	struct ts_span k, val;

	memset(c, 0, sizeof(*c));
	if (!v.n || v.p[0] != '{') {
		*why = "not a CloudWatch Logs payload: not an object";
		return -1;
	}
	ts_json_iter_init(&it, v);
	while (ts_json_obj_next(&it, &k, &val)) {
		if (IS(k, "logEvents"))
			c->log_events = val;
		else if (IS(k, "messageType"))
			c->message_type = val;
		else if (IS(k, "logGroup"))
			c->log_group = val;
		else if (IS(k, "logStream"))
			c->log_stream = val;
		else if (IS(k, "owner"))
			c->owner = val;
	}
	if (!c->log_events.n || c->log_events.p[0] != '[') {
		*why = "not a CloudWatch Logs payload: no logEvents array";
		return -1;
	}
	c->control = is_control(c->message_type);
	return 0;
}

int ts_cwl_next_event(struct ts_json_iter *it, struct ts_cwl_event *ev,
		      const char **why)
{
	struct ts_json_iter eit;
	struct ts_span k, val;

	memset(ev, 0, sizeof(*ev));
	if (!ts_json_arr_next(it, &ev->raw))
		return 0;
	if (ev->raw.p[0] != '{') {
		*why = "log event is not an object";
		return -1;
	}
	ts_json_iter_init(&eit, ev->raw);
	while (ts_json_obj_next(&eit, &k, &val)) {
		if (IS(k, "message"))
			ev->message = val;
		else if (IS(k, "timestamp"))
			ev->timestamp = val;
		else if (IS(k, "id"))
			ev->id = val;
	}
	if (!ev->message.n || ev->message.p[0] != '"') {
		*why = ev->message.n ? "log event message is not a string"
				     : "log event has no message";
		return -1;
	}
	return 1;
}

int ts_cwl_decoded_object(const char *d, size_t n, struct ts_span *obj,
			  int *has_ws, int max_depth, struct ts_json_keys *keys)
{
	struct ts_json_scan sc;
	const char *e = d + n;
	const char *p = ts_json_skip_ws(d, e);

	if (p == e || *p != '{')
		return 0;
	if (ts_json_scan_keys(p, e, 1, max_depth, keys, &sc) != TS_JSON_OK ||
	    ts_json_skip_ws(sc.end, e) != e)
		return 0;
	obj->p = p;
	obj->n = (size_t)(sc.end - p);
	*has_ws = sc.has_ws;
	return 1;
}

int ts_cwl_message_object(struct ts_span msg, struct ts_buf *tmp,
			  struct ts_span *obj, int *has_ws, int max_depth,
			  struct ts_json_keys *keys)
{
	char c = msg.n > 2 ? msg.p[1] : 0;

	/* An object starts with '{', maybe after blanks ("\n" escaped). */
	if (c != '{' && c != ' ' && c != '\\' && c != '\t')
		return 0;
	ts_buf_reset(tmp);
	if (ts_json_unescape(tmp, msg) < 0)
		return 0;
	return ts_cwl_decoded_object(tmp->data, tmp->len, obj, has_ws, max_depth, keys);
}

/* --- one-pass scan and index ------------------------------------------ */

void ts_cwl_index_init(struct ts_cwl_index *x)
{
	memset(x, 0, sizeof(*x));
	ts_buf_init(&x->dec, 0);
}

void ts_cwl_index_release(struct ts_cwl_index *x)
{
	free(x->ev);
	free(x->why);
	ts_buf_release(&x->dec);
	ts_cwl_index_init(x);
}

static struct ts_cwl_event *push_event(struct ts_cwl_index *x)
{
	if (x->nev == x->cap) {
		size_t nc = x->cap ? x->cap * 2 : 64;
		struct ts_cwl_event *ev = realloc(x->ev, nc * sizeof(*ev));
		const char **why = realloc(x->why, nc * sizeof(*why));
		if (ev)
			x->ev = ev;
		if (why)
			x->why = why;
		if (!ev || !why)
			return NULL;
		x->cap = nc;
	}
	x->why[x->nev] = NULL;
	memset(&x->ev[x->nev], 0, sizeof(x->ev[0]));
	return &x->ev[x->nev++];
}

/*
 * The scan below walks the three levels a payload has (the envelope object,
 * its logEvents array, the event objects) by hand, so it can note where
 * things are, and hands every other value to ts_json_scan_nested(): the
 * grammar is the validator's (json.c), and each byte is looked at once.
 * Each step leaves s->p after what it read and returns TS_JSON_OK, or the
 * status to return from ts_cwl_scan() (INCOMPLETE: ran off the end; ERROR:
 * with r->err_at and r->err set).  The envelope is depth 1, logEvents 2, an
 * event 3: a limit below that fails at the same bracket as the validator,
 * with the same ts_json_too_deep the reader looks for.
 */
struct scan {
	struct ts_cwl_index *x;
	const char *p, *e;
	size_t nl;     /* newlines between tokens and inside values */
	int ws;        /* any whitespace between tokens */
	int max_depth;
	struct ts_json_scan *r;
};

#define TRY(step)                                          \
	do {                                               \
		enum ts_json_status st_ = (step);          \
		if (st_ != TS_JSON_OK)                     \
			return st_;                        \
	} while (0)

static inline enum ts_json_status fail(struct scan *s, const char *at, const char *msg)
{
	s->r->err_at = at;
	s->r->err = msg;
	return TS_JSON_ERROR;
}

/* Whitespace, counted; INCOMPLETE when the input ends in it. */
static inline enum ts_json_status skip_ws(struct scan *s)
{
	while (s->p < s->e && ts_json_is_ws(*s->p)) {
		s->ws = 1;
		s->nl += *s->p == '\n';
		s->p++;
	}
	return s->p < s->e ? TS_JSON_OK : TS_JSON_INCOMPLETE;
}

/* A value the scan does not look into, nested depth levels at most (0 or
 * less: a scalar; for the validator 0 means its default). */
static inline enum ts_json_status skip_value(struct scan *s, int depth, struct ts_span *val)
{
	struct ts_json_scan sub;
	enum ts_json_status st;

	if (depth <= 0 && (*s->p == '{' || *s->p == '['))
		return fail(s, s->p, ts_json_too_deep);
	st = ts_json_scan_nested(s->p, s->e, depth, &sub);
	if (st == TS_JSON_ERROR)
		return fail(s, sub.err_at, sub.err);
	if (st != TS_JSON_OK)
		return st;
	s->nl += sub.newlines;
	s->ws |= sub.has_ws;
	*val = (struct ts_span){s->p, (size_t)(sub.end - s->p)};
	s->p = sub.end;
	return TS_JSON_OK;
}

/* A member's key and its ':', leaving p at the value. */
static inline enum ts_json_status read_key(struct scan *s, struct ts_span *key)
{
	if (*s->p != '"')
		return fail(s, s->p, "expected a string key");
	TRY(skip_value(s, 1, key));
	TRY(skip_ws(s));
	if (*s->p != ':')
		return fail(s, s->p, "expected ':' after object key");
	s->p++;
	return skip_ws(s);
}

/* After a member or an element: ',' and more (*more = 1), or the closing
 * bracket (*more = 0, p on it). */
static inline enum ts_json_status next_or_close(struct scan *s, char close, int *more)
{
	TRY(skip_ws(s));
	if (*s->p == ',') {
		s->p++;
		*more = 1;
		return skip_ws(s);
	}
	if (*s->p != close)
		return fail(s, s->p, close == '}' ? "expected ',' or '}' in object"
						  : "expected ',' or ']' in array");
	*more = 0;
	return TS_JSON_OK;
}

/* A message string, checked and decoded into x->dec in one pass. */
static enum ts_json_status read_message(struct scan *s, struct ts_cwl_event *ev)
{
	struct ts_json_scan sub;
	size_t at = s->x->dec.len;
	enum ts_json_status st = ts_json_scan_string_dec(s->p, s->e, &s->x->dec, &sub);

	if (st == TS_JSON_ERROR)
		return fail(s, sub.err_at, sub.err);
	if (st != TS_JSON_OK)
		return st;
	ev->message = (struct ts_span){s->p, (size_t)(sub.end - s->p)};
	ev->dec_off = at;
	ev->dec_len = s->x->dec.len - at;
	s->p = sub.end;
	return TS_JSON_OK;
}

/* One member of an event object: message, timestamp and id are noted. */
static enum ts_json_status read_event_member(struct scan *s, struct ts_cwl_event *ev)
{
	struct ts_span key, val;

	TRY(read_key(s, &key));
	if (s->x->decode && *s->p == '"' && IS(key, "message"))
		return read_message(s, ev);
	TRY(skip_value(s, s->max_depth - 3, &val));
	if (IS(key, "message"))
		ev->message = val;
	else if (IS(key, "timestamp"))
		ev->timestamp = val;
	else if (IS(key, "id"))
		ev->id = val;
	return TS_JSON_OK;
}

/* One element of logEvents, noted as the next event; one that is not an
 * object, or has no string message, gets why set. */
static enum ts_json_status read_event(struct scan *s)
{
	struct ts_cwl_index *x = s->x;
	struct ts_cwl_event *ev = push_event(x);
	const char *start = s->p;
	size_t i = x->nev - 1;
	struct ts_span val;
	int more = 1;

	if (!ev)
		return fail(s, s->p, "out of memory");
	if (*s->p == '{' && s->max_depth < 3)
		return fail(s, s->p, ts_json_too_deep);
	if (*s->p != '{') {
		TRY(skip_value(s, s->max_depth - 2, &val));
		x->why[i] = "log event is not an object";
		ev->raw = val;
		return TS_JSON_OK;
	}
	s->p++;
	TRY(skip_ws(s));
	if (*s->p == '}')
		more = 0;
	while (more) {
		TRY(read_event_member(s, ev));
		TRY(next_or_close(s, '}', &more));
	}
	s->p++;
	if (!ev->message.n)
		x->why[i] = "log event has no message";
	else if (ev->message.p[0] != '"')
		x->why[i] = "log event message is not a string";
	ev->raw = (struct ts_span){start, (size_t)(s->p - start)};
	return TS_JSON_OK;
}

/* The logEvents array: its events replace those of an earlier logEvents
 * (of duplicate keys the last one wins). */
static enum ts_json_status read_log_events(struct scan *s)
{
	const char *start = s->p;
	int more = 1;

	if (s->max_depth < 2)
		return fail(s, s->p, ts_json_too_deep);
	s->p++;
	s->x->nev = 0;
	TRY(skip_ws(s));
	if (*s->p == ']')
		more = 0;
	while (more) {
		TRY(read_event(s));
		TRY(next_or_close(s, ']', &more));
	}
	s->p++;
	s->x->env.log_events = (struct ts_span){start, (size_t)(s->p - start)};
	return TS_JSON_OK;
}

/* One member of the envelope: the fields of struct ts_cwl are noted. */
static enum ts_json_status read_envelope_member(struct scan *s)
{
	struct ts_cwl *env = &s->x->env;
	struct ts_span key, val;

	TRY(read_key(s, &key));
	if (*s->p == '[' && IS(key, "logEvents"))
		return read_log_events(s);
	TRY(skip_value(s, s->max_depth - 1, &val));
	if (IS(key, "logEvents")) { /* not an array */
		env->log_events = (struct ts_span){NULL, 0};
		s->x->nev = 0;
	} else if (IS(key, "messageType")) {
		env->message_type = val;
	} else if (IS(key, "logGroup")) {
		env->log_group = val;
	} else if (IS(key, "logStream")) {
		env->log_stream = val;
	} else if (IS(key, "owner")) {
		env->owner = val;
	}
	return TS_JSON_OK;
}

/* The envelope object, p at its '{'. */
static enum ts_json_status read_envelope(struct scan *s)
{
	int more = 1;

	s->p++;
	TRY(skip_ws(s));
	if (*s->p == '}')
		more = 0;
	while (more) {
		TRY(read_envelope_member(s));
		TRY(next_or_close(s, '}', &more));
	}
	s->p++;
	return TS_JSON_OK;
}

enum ts_json_status ts_cwl_scan(void *ctx, const char *start, const char *end,
				int eof, int max_depth, struct ts_json_scan *r)
{
	struct ts_cwl_index *x = ctx;
	struct scan s = {.x = x, .p = start, .e = end, .r = r};

	memset(&x->env, 0, sizeof(x->env));
	x->is_cwl = 0;
	x->nev = 0;
	ts_buf_reset(&x->dec);
	if (max_depth <= 0 || max_depth > TS_JSON_MAX_DEPTH)
		max_depth = TS_JSON_MAX_DEPTH;
	/* not an object: the validator's answer, and not a payload */
	if (start == end || *start != '{')
		return ts_json_scan(start, end, eof, max_depth, r);
	s.max_depth = max_depth;
	TRY(read_envelope(&s));
	r->end = s.p;
	r->newlines = s.nl;
	r->has_ws = s.ws;
	x->is_cwl = x->env.log_events.n != 0;
	x->env.control = is_control(x->env.message_type);
	return TS_JSON_OK;
}
