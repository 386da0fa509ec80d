/*
 * fuzz_cwl.c — CloudWatch Logs payloads (cwl.h).  The input is scanned as
 * JSON; a valid value goes through ts_cwl_parse(), its events and each
 * message's object test.  The one-pass scanner ts_cwl_scan() must agree
 * with all of that: same status and end as ts_json_scan(), same envelope,
 * same events with the same verdicts, under the same depth limit (taken
 * from the input's length, so small limits that cut into the levels the
 * scanner walks itself are tried too).
 */
#include <string.h>

#include "cwl.h"
#include "fuzz.h"

static void message(struct ts_span msg, struct ts_buf *tmp)
{
	struct ts_span obj;
	struct ts_json_keys keys;
	struct ts_json_scan sc;
	int ws = -1;

	if (ts_cwl_message_object(msg, tmp, &obj, &ws, 0, &keys) != 1)
		return;
	FUZZ_CHECK(obj.p >= tmp->data && obj.p + obj.n <= tmp->data + tmp->len);
	FUZZ_CHECK(obj.n >= 2 && obj.p[0] == '{' && obj.p[obj.n - 1] == '}');
	FUZZ_CHECK(ts_json_scan(obj.p, obj.p + obj.n, 1, 0, &sc) == TS_JSON_OK);
	FUZZ_CHECK(sc.end == obj.p + obj.n && sc.has_ws == ws);
	FUZZ_CHECK(keys.n <= TS_JSON_KEYS_MAX);
	for (size_t i = 0; i < keys.n; i++)
		FUZZ_CHECK(keys.k[i].p > obj.p && keys.k[i].p < obj.p + obj.n &&
			   keys.k[i].p[0] == '"');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *e = in + size;
	struct ts_json_scan a, b;
	struct ts_cwl_index x;
	struct ts_cwl c;
	const char *why;

	int depth = (int)(size >> 1) % 6; /* 0: the default */

	ts_cwl_index_init(&x);
	x.decode = size & 1; /* both ways: the index is the same */
	for (int eof = 0; eof < 2; eof++) {
		enum ts_json_status sa = ts_json_scan(in, e, eof, depth, &a);
		enum ts_json_status sb = ts_cwl_scan(&x, in, e, eof, depth, &b);
		FUZZ_CHECK(sa == sb);
		if (sa == TS_JSON_ERROR)
			FUZZ_CHECK(a.err_at == b.err_at &&
				   (a.err == ts_json_too_deep) == (b.err == ts_json_too_deep));
		if (sa == TS_JSON_OK)
			FUZZ_CHECK(a.end == b.end && a.newlines == b.newlines &&
				   a.has_ws == b.has_ws);
	}
	if (ts_json_scan(in, e, 1, depth, &a) != TS_JSON_OK) {
		ts_cwl_index_release(&x);
		return 0;
	}
	struct ts_span v = {in, (size_t)(a.end - in)};
	int is = ts_cwl_parse(&c, v, &why) == 0;
	FUZZ_CHECK(is == x.is_cwl);
	if (is) {
		struct ts_json_iter it;
		struct ts_cwl_event ev;
		struct ts_buf tmp;
		size_t i = 0;
		int r;

		FUZZ_CHECK(c.control == x.env.control);
		FUZZ_CHECK(c.log_events.p == x.env.log_events.p &&
			   c.log_events.n == x.env.log_events.n);
		FUZZ_CHECK(c.message_type.p == x.env.message_type.p &&
			   c.owner.p == x.env.owner.p &&
			   c.log_group.p == x.env.log_group.p &&
			   c.log_stream.p == x.env.log_stream.p);
		ts_buf_init(&tmp, 1 << 20);
		ts_json_iter_init(&it, c.log_events);
		while ((r = ts_cwl_next_event(&it, &ev, &why)) != 0) {
			FUZZ_CHECK(i < x.nev);
			FUZZ_CHECK(ev.raw.p == x.ev[i].raw.p && ev.raw.n == x.ev[i].raw.n);
			FUZZ_CHECK((r == 1) == (x.why[i] == NULL));
			if (r == 1) {
				FUZZ_CHECK(ev.message.p == x.ev[i].message.p &&
					   ev.message.n == x.ev[i].message.n &&
					   ev.id.p == x.ev[i].id.p &&
					   ev.timestamp.p == x.ev[i].timestamp.p);
				message(ev.message, &tmp);
				if (x.decode) { /* decoded in the scan = unescaped after */
					ts_buf_reset(&tmp);
					ts_json_unescape(&tmp, ev.message);
					FUZZ_CHECK(tmp.len == x.ev[i].dec_len &&
						   !memcmp(tmp.data, x.dec.data + x.ev[i].dec_off, tmp.len));
				}
			}
			i++;
		}
		FUZZ_CHECK(i == x.nev);
		ts_buf_release(&tmp);
	}
	ts_cwl_index_release(&x);
	return 0;
}
