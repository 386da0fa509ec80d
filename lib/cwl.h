/*
 * cwl.h — CloudWatch Logs subscription payloads, as a subscription filter
 * delivers them (to Lambda, Kinesis, Firehose) once decompressed:
 *
 *	{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"...",
 *	 "logStream":"...","subscriptionFilters":["..."],
 *	 "logEvents":[{"id":"...","timestamp":1440442987000,"message":"..."}]}
 *
 * CONTROL_MESSAGE payloads are the service checking that the destination is
 * reachable; they carry no log data.  Fields this module does not know
 * (account-level subscriptions add "policyLevel") are ignored.
 * Everything is spans into the validated payload: no copies.
 */
#ifndef TS_CWL_H
#define TS_CWL_H

#include "json.h"

struct ts_cwl {
	struct ts_span message_type, owner, log_group, log_stream; /* len 0: absent */
	struct ts_span log_events; /* the array */
	int control;               /* messageType is CONTROL_MESSAGE */
};

struct ts_cwl_event {
	struct ts_span raw; /* the whole event object */
	struct ts_span id, timestamp, message; /* len 0: absent */
	size_t dec_off, dec_len; /* ts_cwl_index with decode: the decoded
				  * message in its dec buffer */
};

/*
 * An event's metadata, as ts-extract --meta adds it to each record: the
 * names, and the values (spans into the payload, n == 0 when absent) in the
 * same order.
 */
#define TS_CWL_META_N 5
extern const char *const ts_cwl_meta_keys[TS_CWL_META_N]; /* logGroup, logStream,
							   * owner, id, timestamp */
static inline void ts_cwl_event_meta(const struct ts_cwl *c, const struct ts_cwl_event *ev,
				     struct ts_span meta[TS_CWL_META_N])
{
	meta[0] = c->log_group;
	meta[1] = c->log_stream;
	meta[2] = c->owner;
	meta[3] = ev->id;
	meta[4] = ev->timestamp;
}

/*
 * The fast path: validate a payload and index it in one pass, as the
 * reader's scan hook (reader.h).  ctx is a struct ts_cwl_index; after an OK
 * scan it describes the value just read:
 *	is_cwl   it is a payload (an object with a logEvents array)
 *	env      the envelope fields
 *	ev[nev]  the events; a bad event has why set (not an object, no message)
 * Spans point into the reader's buffer, valid until the next read.
 */
struct ts_cwl_index {
	struct ts_cwl env;
	int is_cwl;
	struct ts_cwl_event *ev;
	const char **why; /* per event: NULL, or what is wrong with it */
	size_t nev, cap;
	int decode;         /* set by the caller: decode messages into dec ... */
	struct ts_buf dec;  /* ... in the same pass as validating them */
};
void ts_cwl_index_init(struct ts_cwl_index *x);
void ts_cwl_index_release(struct ts_cwl_index *x);
enum ts_json_status ts_cwl_scan(void *ctx, const char *p, const char *end,
				int eof, int max_depth, struct ts_json_scan *r);

/*
 * Walking a payload that is already validated, a second way to the same
 * answers: the unit tests and fuzz_cwl hold ts_cwl_scan() to these.
 * 0, or -1 with *why when v is not a CloudWatch Logs payload.
 */
int ts_cwl_parse(struct ts_cwl *c, struct ts_span v, const char **why);

/* Iterate events: it from ts_json_iter_init(&it, c->log_events).  1 with an
 * event, 0 at the end, -1 for an event without a string message (ev->raw is
 * set, *why says what is wrong). */
int ts_cwl_next_event(struct ts_json_iter *it, struct ts_cwl_event *ev,
		      const char **why);

/*
 * Is the message (a quoted JSON string span) a JSON object?  Decodes it into
 * tmp; 1 with *obj pointing into tmp (and *has_ws set, and its keys noted
 * in keys), 0 otherwise.  Cheap
 * for plain-text messages: they are rejected by their first byte.
 */
int ts_cwl_message_object(struct ts_span msg, struct ts_buf *tmp,
			  struct ts_span *obj, int *has_ws, int max_depth,
			  struct ts_json_keys *keys);
/* The same for a message already decoded (d, n bytes). */
int ts_cwl_decoded_object(const char *d, size_t n, struct ts_span *obj,
			  int *has_ws, int max_depth, struct ts_json_keys *keys);

#endif
