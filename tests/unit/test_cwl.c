/* test_cwl.c — lib/cwl.h: payloads, events, messages, the one-pass scan. */
#include <stdlib.h>

#include "check.h"
#include "cwl.h"

#define S(lit) (struct ts_span){(lit), sizeof(lit) - 1}
#define SPAN_IS(sp, lit) CHECK_MEM((sp).p, (sp).n, lit, sizeof(lit) - 1)

/* /work/shared/samples/cloudwatch_logs/aws-lambda-go/cloudwatch-logs-event.decoded.json */
static const char sample[] =
	"{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"123456789123\","
	"\"logGroup\":\"testLogGroup\",\"logStream\":\"testLogStream\","
	"\"subscriptionFilters\":[\"testFilter\"],\"logEvents\":[{\"id\":"
	"\"eventId1\",\"timestamp\":1440442987000,\"message\":\"[ERROR] First "
	"test message\"},{\"id\":\"eventId2\",\"timestamp\":1440442987001,"
	"\"message\":\"[ERROR] Second test message\"}]}";

/* awsdocs SubscriptionFilters example: pretty-printed, messages are
 * (truncated) JSON */
static const char awsdocs[] =
	"{\n"
	"    \"owner\": \"111111111111\",\n"
	"    \"logGroup\": \"CloudTrail/logs\",\n"
	"    \"logStream\": \"111111111111_CloudTrail/logs_us-east-1\",\n"
	"    \"subscriptionFilters\": [\n"
	"        \"Destination\"\n"
	"    ],\n"
	"    \"messageType\": \"DATA_MESSAGE\",\n"
	"    \"logEvents\": [\n"
	"        {\n"
	"            \"id\": \"31953106606966983378809025079804211143289615424298221568\",\n"
	"            \"timestamp\": 1432826855000,\n"
	"            \"message\": \"{\\\"eventVersion\\\":\\\"1.03\\\",\\\"userIdentity\\\":{\\\"type\\\":\\\"Root\\\"}\"\n"
	"        },\n"
	"        {\n"
	"            \"id\": \"31953106606966983378809025079804211143289615424298221569\",\n"
	"            \"timestamp\": 1432826855000,\n"
	"            \"message\": \"{\\\"eventVersion\\\":\\\"1.03\\\",\\\"userIdentity\\\":{\\\"type\\\":\\\"Root\\\"}}\"\n"
	"        }\n"
	"    ]\n"
	"}";

static const char control[] =
	"{\"messageType\":\"CONTROL_MESSAGE\",\"owner\":\"CloudwatchLogs\","
	"\"logGroup\":\"\",\"logStream\":\"\",\"subscriptionFilters\":[],"
	"\"logEvents\":[{\"id\":\"\",\"timestamp\":1432826855000,\"message\":"
	"\"CWL CONTROL MESSAGE: Checking health of destination Kinesis stream.\"}]}";

static void test_parse(void)
{
	struct ts_cwl c;
	struct ts_cwl_event ev;
	struct ts_json_iter it;
	const char *why = NULL;

	CHECK(ts_cwl_parse(&c, S(sample), &why) == 0);
	SPAN_IS(c.message_type, "\"DATA_MESSAGE\"");
	SPAN_IS(c.owner, "\"123456789123\"");
	SPAN_IS(c.log_group, "\"testLogGroup\"");
	SPAN_IS(c.log_stream, "\"testLogStream\"");
	CHECK(c.control == 0);
	CHECK(c.log_events.n > 0 && c.log_events.p[0] == '[');

	ts_json_iter_init(&it, c.log_events);
	CHECK(ts_cwl_next_event(&it, &ev, &why) == 1);
	SPAN_IS(ev.id, "\"eventId1\"");
	SPAN_IS(ev.timestamp, "1440442987000");
	SPAN_IS(ev.message, "\"[ERROR] First test message\"");
	CHECK(ev.raw.p[0] == '{' && ev.raw.p[ev.raw.n - 1] == '}');
	/* the metadata --meta adds, names and values in the same order */
	struct ts_span meta[TS_CWL_META_N];
	ts_cwl_event_meta(&c, &ev, meta);
	CHECK_STR(ts_cwl_meta_keys[0], "logGroup");
	SPAN_IS(meta[0], "\"testLogGroup\"");
	CHECK_STR(ts_cwl_meta_keys[1], "logStream");
	SPAN_IS(meta[1], "\"testLogStream\"");
	CHECK_STR(ts_cwl_meta_keys[2], "owner");
	SPAN_IS(meta[2], "\"123456789123\"");
	CHECK_STR(ts_cwl_meta_keys[3], "id");
	SPAN_IS(meta[3], "\"eventId1\"");
	CHECK_STR(ts_cwl_meta_keys[4], "timestamp");
	SPAN_IS(meta[4], "1440442987000");
	CHECK(ts_cwl_next_event(&it, &ev, &why) == 1);
	SPAN_IS(ev.id, "\"eventId2\"");
	SPAN_IS(ev.message, "\"[ERROR] Second test message\"");
	CHECK(ts_cwl_next_event(&it, &ev, &why) == 0);

	/* pretty-printed, fields in another order */
	CHECK(ts_cwl_parse(&c, S(awsdocs), &why) == 0);
	SPAN_IS(c.log_group, "\"CloudTrail/logs\"");
	SPAN_IS(c.message_type, "\"DATA_MESSAGE\"");
	ts_json_iter_init(&it, c.log_events);
	int n = 0;
	while (ts_cwl_next_event(&it, &ev, &why) == 1)
		n++;
	CHECK(n == 2);

	/* a control message */
	CHECK(ts_cwl_parse(&c, S(control), &why) == 0);
	CHECK(c.control == 1);
	SPAN_IS(c.owner, "\"CloudwatchLogs\"");
	SPAN_IS(c.log_group, "\"\"");

	/* account-level subscriptions add fields that are ignored */
	CHECK(ts_cwl_parse(&c, S("{\"policyLevel\":\"ACCOUNT_LEVEL_POLICY\","
				 "\"logEvents\":[],\"messageType\":\"DATA_MESSAGE\"}"),
			   &why) == 0);
	CHECK(c.control == 0 && c.owner.n == 0);
	/* a messageType that only looks like CONTROL_MESSAGE */
	CHECK(ts_cwl_parse(&c, S("{\"messageType\":\"CONTROL_MESSAGEX\",\"logEvents\":[]}"),
			   &why) == 0);
	CHECK(c.control == 0);
	/* escaped keys are still the keys */
	CHECK(ts_cwl_parse(&c, S("{\"log\\u0045vents\":[],\"owner\":\"o\"}"), &why) == 0);

	/* not payloads */
	why = NULL;
	CHECK(ts_cwl_parse(&c, S("[1]"), &why) == -1 && why && strstr(why, "object"));
	why = NULL;
	CHECK(ts_cwl_parse(&c, S("{\"owner\":\"x\"}"), &why) == -1 &&
	      why && strstr(why, "logEvents"));
	CHECK(ts_cwl_parse(&c, S("{\"logEvents\":{}}"), &why) == -1);
	CHECK(ts_cwl_parse(&c, S("{\"logEvents\":\"[]\"}"), &why) == -1);
	CHECK(ts_cwl_parse(&c, S("\"text\""), &why) == -1);
	CHECK(ts_cwl_parse(&c, (struct ts_span){"", 0}, &why) == -1);
}

static void test_bad_events(void)
{
	struct ts_cwl c;
	struct ts_cwl_event ev;
	struct ts_json_iter it;
	const char *why;
	static const char in[] =
		"{\"logEvents\":[{\"id\":\"1\",\"timestamp\":1},"
		"{\"id\":\"2\",\"message\":42},"
		"[\"not an object\"],"
		"{\"id\":\"4\",\"message\":{\"m\":1}},"
		"{\"id\":\"5\",\"message\":\"ok\"}]}";

	CHECK(ts_cwl_parse(&c, S(in), &why) == 0);
	ts_json_iter_init(&it, c.log_events);
	why = NULL;
	CHECK(ts_cwl_next_event(&it, &ev, &why) == -1);
	CHECK(why && strstr(why, "no message"));
	SPAN_IS(ev.raw, "{\"id\":\"1\",\"timestamp\":1}");
	why = NULL;
	CHECK(ts_cwl_next_event(&it, &ev, &why) == -1);
	CHECK(why && strstr(why, "not a string"));
	SPAN_IS(ev.id, "\"2\"");
	why = NULL;
	CHECK(ts_cwl_next_event(&it, &ev, &why) == -1);
	CHECK(why && strstr(why, "not an object"));
	SPAN_IS(ev.raw, "[\"not an object\"]");
	CHECK(ts_cwl_next_event(&it, &ev, &why) == -1);
	/* iteration goes on after bad events */
	CHECK(ts_cwl_next_event(&it, &ev, &why) == 1);
	SPAN_IS(ev.message, "\"ok\"");
	CHECK(ts_cwl_next_event(&it, &ev, &why) == 0);
}

static int msg_obj(const char *msg, size_t n, struct ts_buf *tmp,
		   struct ts_span *obj, int *ws, int depth, struct ts_json_keys *keys)
{
	*ws = -1;
	return ts_cwl_message_object((struct ts_span){msg, n}, tmp, obj, ws, depth,
				     keys);
}
#define MSG(lit) msg_obj((lit), sizeof(lit) - 1, &tmp, &obj, &ws, 0, &keys)
#define MSG_DEPTH(lit, d) msg_obj((lit), sizeof(lit) - 1, &tmp, &obj, &ws, (d), &keys)

static void test_message_object(void)
{
	struct ts_buf tmp;
	struct ts_span obj;
	struct ts_json_keys keys;
	int ws;

	ts_buf_init(&tmp, 0);
	CHECK(MSG("\"{\\\"a\\\":1}\"") == 1);
	SPAN_IS(obj, "{\"a\":1}");
	CHECK(ws == 0);
	CHECK(keys.n == 1);
	if (keys.n == 1)
		SPAN_IS(keys.k[0], "\"a\"");
	/* leading and trailing whitespace, escaped or not */
	CHECK(MSG("\" {\\\"a\\\": 1} \"") == 1);
	SPAN_IS(obj, "{\"a\": 1}");
	CHECK(ws == 1);
	CHECK(MSG("\"\\n{\\\"a\\\":1}\\n\"") == 1);
	CHECK(MSG("\"\\t\\r\\n {}\"") == 1);
	SPAN_IS(obj, "{}");
	CHECK(MSG("\"\\u0020{}\"") == 1);
	CHECK(MSG("\"\\u007b\\\"k\\\":\\\"\\u00e9\\\"}\"") == 1); /* \u007b is { */
	SPAN_IS(obj, "{\"k\":\"\xc3\xa9\"}");
	/* the keys of the top level only */
	CHECK(MSG("\"{\\\"a\\\":{\\\"x\\\":1},\\\"b\\\":[{\\\"y\\\":2}]}\"") == 1);
	CHECK(keys.n == 2);
	/* JSON that is not an object, text, broken objects */
	CHECK(MSG("\"[1,2]\"") == 0);
	CHECK(MSG("\"42\"") == 0);
	CHECK(MSG("\"\\\"str\\\"\"") == 0);
	CHECK(MSG("\"true\"") == 0);
	CHECK(MSG("\"null\"") == 0);
	CHECK(MSG("\"plain text\"") == 0);
	CHECK(MSG("\"[ERROR] First test message\"") == 0);
	CHECK(MSG("\"\"") == 0);
	CHECK(MSG("\" \"") == 0);
	CHECK(MSG("\"{\"") == 0);
	CHECK(MSG("\"{not json}\"") == 0);
	CHECK(MSG("\"{\\\"eventVersion\\\":\\\"1.03\\\",\\\"userIdentity\\\":{\\\"type\\\":\\\"Root\\\"}\"") == 0);
	CHECK(MSG("\"{\\\"a\\\":1} extra\"") == 0);
	CHECK(MSG("\"{\\\"a\\\":1}{\\\"b\\\":2}\"") == 0);
	CHECK(MSG("\"{} []\"") == 0);
	CHECK(MSG("\" x{}\"") == 0);
	/* the decoded object must itself be valid JSON */
	CHECK(MSG("\"{\\\"a\\\":\\\"\\u0001\\\"}\"") == 0);   /* raw control char */
	CHECK(MSG("\"{\\\"a\\\":\\\"\\ud800\\\"}\"") == 1);  /* U+FFFD, valid */
	CHECK(MSG("\"{\\\"a\\\":\\\"\\\\ud800\\\"}\"") == 1); /* an escape kept */
	/* the depth limit */
	CHECK(MSG_DEPTH("\"{\\\"a\\\":{\\\"b\\\":{}}}\"", 2) == 0);
	CHECK(MSG_DEPTH("\"{\\\"a\\\":{\\\"b\\\":{}}}\"", 3) == 1);
	/* the temporary buffer's limit: not an object, not a crash */
	struct ts_buf small;
	ts_buf_init(&small, 4);
	static const char m[] = "\"{\\\"abc\\\":1}\"";
	CHECK(msg_obj(m, sizeof(m) - 1, &small, &obj, &ws, 0, &keys) == 0);
	ts_buf_release(&small);
	ts_buf_release(&tmp);
}

/* The one-pass scanner must agree with ts_json_scan + ts_cwl_parse, under
 * any depth limit (0: the default). */
static void scan_agrees_depth(const char *in, size_t n, int depth, int line)
{
	struct ts_cwl_index x;
	struct ts_json_scan a, b;
	enum ts_json_status sa, sb;

	ts_cwl_index_init(&x);
	for (int eof = 0; eof < 2; eof++) {
		sa = ts_json_scan(in, in + n, eof, depth, &a);
		sb = ts_cwl_scan(&x, in, in + n, eof, depth, &b);
		check_(sa == sb, __FILE__, line, "same status");
		if (sa != sb)
			fprintf(stderr, "    json %d, cwl %d (eof %d, depth %d)\n", sa, sb, eof, depth);
		if (sa == TS_JSON_OK && sb == TS_JSON_OK) {
			check_(a.end == b.end && a.newlines == b.newlines &&
				       a.has_ws == b.has_ws,
			       __FILE__, line, "same end, newlines, whitespace");
		}
		if (sa == TS_JSON_ERROR && sb == TS_JSON_ERROR &&
		    !check_(a.err_at == b.err_at &&
				    (a.err == ts_json_too_deep) == (b.err == ts_json_too_deep),
			    __FILE__, line, "same error"))
			fprintf(stderr, "    json '%s' at %td, cwl '%s' at %td (depth %d)\n", a.err,
				a.err_at - in, b.err, b.err_at - in, depth);
		if (sa != TS_JSON_OK || sb != TS_JSON_OK)
			continue;

		struct ts_cwl c;
		const char *why;
		int is = ts_cwl_parse(&c, (struct ts_span){in, (size_t)(a.end - in)},
				      &why) == 0;
		if (!check_(is == x.is_cwl, __FILE__, line, "same is_cwl"))
			fprintf(stderr, "    depth %d\n", depth);
		if (!is || !x.is_cwl)
			continue;
		check_(c.control == x.env.control, __FILE__, line, "same control");
		check_(c.log_events.p == x.env.log_events.p &&
			       c.log_events.n == x.env.log_events.n &&
			       c.log_group.p == x.env.log_group.p &&
			       c.message_type.n == x.env.message_type.n,
		       __FILE__, line, "same envelope");
		struct ts_json_iter it;
		struct ts_cwl_event ev;
		size_t i = 0;
		int r;
		ts_json_iter_init(&it, c.log_events);
		while ((r = ts_cwl_next_event(&it, &ev, &why)) != 0) {
			if (!check_(i < x.nev, __FILE__, line, "as many events"))
				break;
			check_(ev.raw.p == x.ev[i].raw.p && ev.raw.n == x.ev[i].raw.n,
			       __FILE__, line, "same event");
			check_((r == 1) == (x.why[i] == NULL), __FILE__, line,
			       "same event verdict");
			if (r == 1)
				check_(ev.message.p == x.ev[i].message.p &&
					       ev.id.p == x.ev[i].id.p &&
					       ev.timestamp.p == x.ev[i].timestamp.p,
				       __FILE__, line, "same event fields");
			i++;
		}
		check_(i == x.nev, __FILE__, line, "no extra events");
	}
	ts_cwl_index_release(&x);
}

static void scan_agrees_(const char *in, size_t n, int line)
{
	for (int depth = 0; depth <= 6; depth++)
		scan_agrees_depth(in, n, depth, line);
}
#define SCAN_AGREES(lit) scan_agrees_((lit), sizeof(lit) - 1, __LINE__)

static void test_scan(void)
{
	SCAN_AGREES(sample);
	SCAN_AGREES(awsdocs);
	SCAN_AGREES(control);
	SCAN_AGREES("{}");
	SCAN_AGREES("{\"logEvents\":[]}");
	SCAN_AGREES("{\"logEvents\":[1,\"x\",{},{\"message\":1},{\"message\":\"m\"}]}");
	SCAN_AGREES("{\"logEvents\":{\"message\":\"m\"}}");
	SCAN_AGREES("{\"logEvents\" : [ { \"message\" : \"m\" } ] , \"owner\" : 1 }");
	SCAN_AGREES("{\"log\\u0045vents\":[{\"message\":\"m\"}]}");
	SCAN_AGREES("{\"logEvents\":[{\"message\":\"a\"}],\"logEvents\":[{\"message\":\"b\"}]}");
	SCAN_AGREES("{\"logEvents\":[{\"message\":\"a\"}],\"logEvents\":5}");
	SCAN_AGREES("{\"logEvents\":[{\"message\":\"a\"}],\"logEvents\":[]}");
	SCAN_AGREES("{\"logEvents\":5,\"logEvents\":[{\"message\":\"a\"}]}");
	SCAN_AGREES("{\"messageType\":\"CONTROL_MESSAGE\",\"logEvents\":[],"
		    "\"messageType\":\"DATA_MESSAGE\"}");
	SCAN_AGREES("[1,2]");
	SCAN_AGREES("42");
	SCAN_AGREES("\"s\"");
	SCAN_AGREES("{\"logEvents\":[{\"message\":\"m\"},]}");
	SCAN_AGREES("{\"logEvents\":[{\"message\":\"m\",}]}");
	SCAN_AGREES("{\"logEvents\":[{\"message\" \"m\"}]}");
	SCAN_AGREES("{\"logEvents\":[{\"message\":\"m\"}");
	SCAN_AGREES("{\"logEvents\":[{\"message\":\"m\"}]");
	SCAN_AGREES("{\"logEvents\":[{\"message\":\"\xff\"}]}");
	SCAN_AGREES("{\"logEvents\":[{\"message\":tru}]}");
	SCAN_AGREES("{\"logEvents\":[{\"message\":1}]}x");
	SCAN_AGREES("{\"a\":1,}");
	SCAN_AGREES("{\"logEvents\":[[[[]]]]}");
	SCAN_AGREES("{\"logEvents\":[{\"message\":\"m\",\"x\":[1,2,{\"y\":3}]}]}");
	SCAN_AGREES("{ }");
	SCAN_AGREES("{\n}\n");
	SCAN_AGREES("");
	/* depth limits around the three levels the scan walks itself */
	SCAN_AGREES("{\"logEvents\":[1,[],[[]],{},{\"message\":\"m\",\"x\":[{}]}],\"o\":[{}]}");
	SCAN_AGREES("{\"logEvents\":[{\"message\":[[1]]}]}");
	SCAN_AGREES("{\"logEvents\":[[[1]]]}");
	SCAN_AGREES("{\"a\":{},\"logEvents\":[]}");
	SCAN_AGREES("{\"logEvents\":[{}]}");
}

/* A payload as deep as the limit allows is a payload: with --max-depth 3
 * an envelope, its events and flat event objects are all there is. */
static void test_scan_depth(void)
{
	static const char flat[] = "{\"owner\":\"o\",\"logEvents\":[{\"id\":\"1\",\"message\":\"m\"}]}";
	struct ts_cwl_index x;
	struct ts_json_scan r;

	ts_cwl_index_init(&x);
	x.decode = 1;
	CHECK(ts_cwl_scan(&x, flat, flat + sizeof(flat) - 1, 1, 3, &r) == TS_JSON_OK);
	CHECK(x.is_cwl && x.nev == 1 && !x.why[0]);
	CHECK(x.nev == 1 && x.ev[0].dec_len == 1 && x.dec.data[x.ev[0].dec_off] == 'm');
	SPAN_IS(x.env.owner, "\"o\"");
	/* one level less is too deep, at the event's brace */
	CHECK(ts_cwl_scan(&x, flat, flat + sizeof(flat) - 1, 1, 2, &r) == TS_JSON_ERROR);
	CHECK(r.err_at == strchr(flat, '[') + 1 && r.err == ts_json_too_deep);
	/* and two less, at the array's bracket */
	CHECK(ts_cwl_scan(&x, flat, flat + sizeof(flat) - 1, 1, 1, &r) == TS_JSON_ERROR);
	CHECK(r.err_at == strchr(flat, '[') && r.err == ts_json_too_deep);
	ts_cwl_index_release(&x);
}

int main(void)
{
	test_parse();
	test_bad_events();
	test_message_object();
	test_scan();
	test_scan_depth();
	return check_done();
}
