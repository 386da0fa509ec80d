/* cwl.c — see cwl.h. */
#include "cwl.h"

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

int ts_cwl_message_object(struct ts_span msg, struct ts_buf *tmp,
			  struct ts_span *obj, int *has_ws, int max_depth)
{
	struct ts_json_scan sc;
	char c = msg.n > 2 ? msg.p[1] : 0;

	/* An object starts with '{', maybe after blanks ("\n" escaped). */
	if (c != '{' && c != ' ' && c != '\\' && c != '\t')
		return 0;
	ts_buf_reset(tmp);
	if (ts_json_unescape(tmp, msg) < 0)
		return 0;
	const char *e = tmp->data + tmp->len;
	const char *p = ts_json_skip_ws(tmp->data, e);
	if (p == e || *p != '{')
		return 0;
	if (ts_json_scan(p, e, 1, max_depth, &sc) != TS_JSON_OK ||
	    ts_json_skip_ws(sc.end, e) != e)
		return 0;
	obj->p = p;
	obj->n = (size_t)(sc.end - p);
	*has_ws = sc.has_ws;
	return 1;
}
