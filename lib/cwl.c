/* cwl.c — see cwl.h. */
#include "cwl.h"

#include <stdlib.h>
#include <string.h>

#define IS(k, s) ts_json_key_eq(k, s, sizeof(s) - 1)

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
	c->control = c->message_type.n == sizeof("\"CONTROL_MESSAGE\"") - 1 &&
		     memcmp(c->message_type.p, "\"CONTROL_MESSAGE\"", c->message_type.n) == 0;
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
 * The grammar is the validator's (json.c); this walks the three levels a
 * payload has (envelope, logEvents array, event objects) by hand, so it can
 * note where things are, and hands every other value to
 * ts_json_scan_nested().  Each byte is looked at once.
 */
enum ts_json_status ts_cwl_scan(void *ctx, const char *start, const char *end,
				int eof, int max_depth, struct ts_json_scan *r)
{
	struct ts_cwl_index *x = ctx;
	const char *p = start, *e = end;
	struct ts_json_scan sub;
	enum ts_json_status st;
	size_t nl = 0;
	int ws = 0;

	memset(&x->env, 0, sizeof(x->env));
	x->is_cwl = 0;
	x->nev = 0;
	ts_buf_reset(&x->dec);
	if (max_depth <= 0 || max_depth > TS_JSON_MAX_DEPTH)
		max_depth = TS_JSON_MAX_DEPTH;
	if (*p != '{' || max_depth < 4)
		return ts_json_scan(start, end, eof, max_depth, r);

#define NEED()                                             \
	do {                                               \
		if (p >= e)                                \
			return TS_JSON_INCOMPLETE;         \
	} while (0)
#define SKIP_WS()                                          \
	do {                                               \
		while (p < e && ts_json_is_ws(*p)) {       \
			ws = 1;                            \
			nl += *p == '\n';                  \
			p++;                               \
		}                                          \
		NEED();                                    \
	} while (0)
#define FAIL(at, msg)                                      \
	do {                                               \
		r->err_at = (at);                          \
		r->err = (msg);                            \
		return TS_JSON_ERROR;                      \
	} while (0)
#define SUB(depth)                                         \
	do {                                               \
		st = ts_json_scan_nested(p, e, (depth), &sub); \
		if (st == TS_JSON_ERROR)                   \
			FAIL(sub.err_at, sub.err);         \
		if (st != TS_JSON_OK)                      \
			return st;                         \
		nl += sub.newlines;                        \
		ws |= sub.has_ws;                          \
	} while (0)
/* a key, then ':' — leaves key set and p at the value */
#define KEY()                                                       \
	do {                                                        \
		if (*p != '"')                                      \
			FAIL(p, "expected a string key");           \
		SUB(1);                                             \
		key = (struct ts_span){p, (size_t)(sub.end - p)};   \
		p = sub.end;                                        \
		SKIP_WS();                                          \
		if (*p != ':')                                      \
			FAIL(p, "expected ':' after object key");   \
		p++;                                                \
		SKIP_WS();                                          \
	} while (0)

	struct ts_span key, val;
	p++;
	SKIP_WS();
	if (*p != '}') {
		for (;;) {
			KEY();
			if (*p == '[' && IS(key, "logEvents")) {
				const char *arr = p++;
				x->nev = 0; /* a duplicate key: the last one wins */
				SKIP_WS();
				if (*p != ']') {
					for (;;) {
						struct ts_cwl_event *ev = push_event(x);
						if (!ev)
							FAIL(p, "out of memory");
						size_t evi = x->nev - 1;
						const char *evs = p;
						if (*p != '{') {
							SUB(max_depth - 2);
							p = sub.end;
							x->why[evi] = "log event is not an object";
						} else {
							p++;
							SKIP_WS();
							if (*p != '}') {
								for (;;) {
									KEY();
									if (x->decode && *p == '"' && IS(key, "message")) {
										/* read the message once: check and decode */
										size_t at = x->dec.len;
										st = ts_json_scan_string_dec(p, e, &x->dec, &sub);
										if (st == TS_JSON_ERROR)
											FAIL(sub.err_at, sub.err);
										if (st != TS_JSON_OK)
											return st;
										ev->message = (struct ts_span){p, (size_t)(sub.end - p)};
										ev->dec_off = at;
										ev->dec_len = x->dec.len - at;
										p = sub.end;
										goto member_done;
									}
									SUB(max_depth - 3);
									val = (struct ts_span){p, (size_t)(sub.end - p)};
									p = sub.end;
									if (IS(key, "message"))
										ev->message = val;
									else if (IS(key, "timestamp"))
										ev->timestamp = val;
									else if (IS(key, "id"))
										ev->id = val;
								member_done:
									SKIP_WS();
									if (*p == ',') {
										p++;
										SKIP_WS();
										continue;
									}
									if (*p != '}')
										FAIL(p, "expected ',' or '}' in object");
									break;
								}
							}
							p++;
							if (!ev->message.n)
								x->why[evi] = "log event has no message";
							else if (ev->message.p[0] != '"')
								x->why[evi] = "log event message is not a string";
						}
						ev->raw = (struct ts_span){evs, (size_t)(p - evs)};
						SKIP_WS();
						if (*p == ',') {
							p++;
							SKIP_WS();
							continue;
						}
						if (*p != ']')
							FAIL(p, "expected ',' or ']' in array");
						break;
					}
				}
				p++;
				x->env.log_events = (struct ts_span){arr, (size_t)(p - arr)};
			} else {
				SUB(max_depth - 1);
				val = (struct ts_span){p, (size_t)(sub.end - p)};
				p = sub.end;
				if (IS(key, "logEvents")) { /* not an array */
					x->env.log_events = (struct ts_span){NULL, 0};
					x->nev = 0;
				} else if (IS(key, "messageType"))
					x->env.message_type = val;
				else if (IS(key, "logGroup"))
					x->env.log_group = val;
				else if (IS(key, "logStream"))
					x->env.log_stream = val;
				else if (IS(key, "owner"))
					x->env.owner = val;
			}
			SKIP_WS();
			if (*p == ',') {
				p++;
				SKIP_WS();
				continue;
			}
			if (*p != '}')
				FAIL(p, "expected ',' or '}' in object");
			break;
		}
	}
	p++;
#undef NEED
#undef SKIP_WS
#undef FAIL
#undef SUB
#undef KEY
	r->end = p;
	r->newlines = nl;
	r->has_ws = ws;
	x->is_cwl = x->env.log_events.n != 0;
	x->env.control = x->env.message_type.n == sizeof("\"CONTROL_MESSAGE\"") - 1 &&
			 memcmp(x->env.message_type.p, "\"CONTROL_MESSAGE\"",
				x->env.message_type.n) == 0;
	return TS_JSON_OK;
}
