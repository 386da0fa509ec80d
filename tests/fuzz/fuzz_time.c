/*
 * fuzz_time.c — record times, time zones and time patterns (tstime.h).
 *
 * The input is tried as:
 *   - an ISO 8601 string (ts_time_parse_iso): a time it accepts lies within
 *     years 0000-9999 (a day either side for the offset), and its date and
 *     time of day are the digits written when no offset follows (the
 *     fraction to the millisecond, a leap second filed under :59);
 *   - a record's time field (ts_time_from_json), both as a JSON string
 *     holding the input and as the input itself when it is one JSON value:
 *     a string of ISO 8601 gives what ts_time_parse_iso gives; a failure
 *     says why;
 *   - a time zone (ts_tz_parse): a fixed offset is under a day, a failure
 *     says why, and converting times with the zone gives a valid date;
 *   - a time pattern (ts_timefmt_parse): an error names a column inside the
 *     pattern; a pattern that parses formats any date without failing.
 * Every time accepted goes back and forth through ts_civil_from_ms() and
 * ts_ms_from_civil() unchanged.
 */
#include <string.h>

#include "fuzz.h"
#include "json.h"
#include "tstime.h"

#define MS_YEAR0 (-62167219200000LL)   /* 0000-01-01T00:00:00Z */
#define MS_YEAR10K (253402300800000LL) /* 10000-01-01T00:00:00Z */
#define MS_DAY 86400000LL

static const int64_t probes[] = {0, 1, -1, 999, -1001, 1714557600123LL, MS_YEAR0,
				 MS_YEAR10K - 1, 951782400000LL /* 2000-02-29 */};

static void check_civil(const struct ts_civil *c)
{
	FUZZ_CHECK(c->month >= 1 && c->month <= 12);
	FUZZ_CHECK(c->day >= 1 && c->day <= 31);
	FUZZ_CHECK(c->hour >= 0 && c->hour <= 23);
	FUZZ_CHECK(c->min >= 0 && c->min <= 59);
	FUZZ_CHECK(c->sec >= 0 && c->sec <= 60);
	FUZZ_CHECK(c->msec >= 0 && c->msec <= 999);
}

/* ms -> civil -> ms is the identity. */
static void round_trip(int64_t ms)
{
	struct ts_civil c;

	ts_civil_from_ms(ms, &c);
	check_civil(&c);
	FUZZ_CHECK(ts_ms_from_civil(&c) == ms);
}

static int num(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static void iso(const char *s, size_t n)
{
	int64_t ms;
	struct ts_civil c;

	if (ts_time_parse_iso(s, n, &ms) < 0)
		return;
	FUZZ_CHECK(ms >= MS_YEAR0 - MS_DAY && ms < MS_YEAR10K + MS_DAY);
	round_trip(ms);
	/* "YYYY-MM-DD", then "THH:MM", ":SS", ".fff...", then "Z" or an
	 * offset; with no offset the civil time is the one written */
	FUZZ_CHECK(n >= 10 && s[4] == '-' && s[7] == '-');
	size_t i = 10;
	int hh = 0, mi = 0, ss = 0, msec = 0;
	if (n > 10) {
		FUZZ_CHECK(n >= 16 && s[13] == ':');
		hh = num(s + 11, 2);
		mi = num(s + 14, 2);
		i = 16;
		if (i < n && s[i] == ':') {
			ss = num(s + 17, 2);
			i = 19;
			if (i < n && (s[i] == '.' || s[i] == ',')) {
				int scale = 100;
				for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
					msec += (s[i] - '0') * scale;
			}
		}
		if (ss == 60)
			ss = 59;
	}
	if (i < n && (s[i] == 'Z' || s[i] == 'z'))
		i++;
	if (i != n)
		return; /* an offset: the civil time moved */
	ts_civil_from_ms(ms, &c);
	FUZZ_CHECK(c.year == num(s, 4) && c.month == num(s + 5, 2) && c.day == num(s + 8, 2));
	FUZZ_CHECK(c.hour == hh && c.min == mi && c.sec == ss && c.msec == msec);
}

static void from_json(struct ts_span v, const char *plain, size_t plainn)
{
	int64_t ms = 0, ms2;
	const char *why = NULL;

	if (ts_time_from_json(v, &ms, &why) < 0) {
		FUZZ_CHECK(why && why[0]);
		return;
	}
	/* numbers up to 1e16 (milliseconds), ISO times within years 0-9999 */
	FUZZ_CHECK(ms >= -10000000000000000LL - 1000 && ms <= 10000000000000000LL + 1000);
	round_trip(ms);
	/* a string that is not all digits is read as ISO 8601 */
	if (plain && plainn && strspn(plain, "0123456789") < plainn) {
		FUZZ_CHECK(ts_time_parse_iso(plain, plainn, &ms2) == 0);
		FUZZ_CHECK(ms2 == ms);
	}
}

static void tz(const char *s, size_t n)
{
	struct ts_tz z;
	struct ts_civil c;
	char err[600];

	if (memchr(s, '\0', n) || n > 200)
		return; /* a C string naming a zone */
	err[0] = '\0';
	if (ts_tz_parse(&z, s, err, sizeof(err)) < 0) {
		FUZZ_CHECK(err[0] != '\0');
		return;
	}
	if (!z.named)
		FUZZ_CHECK(z.offset_s > -86400 && z.offset_s < 86400);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		ts_tz_civil(&z, probes[i], &c);
		check_civil(&c);
	}
}

static void pattern(const char *s, size_t n)
{
	struct ts_timefmt f;
	struct ts_buf out;
	struct ts_civil c;
	const char *why = NULL;
	size_t col = (size_t)-1;

	if (ts_timefmt_parse(&f, s, n, &why, &col) < 0) {
		FUZZ_CHECK(why && why[0]);
		FUZZ_CHECK(col < n);
		return;
	}
	ts_buf_init(&out, 0);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		ts_civil_from_ms(probes[i], &c);
		ts_buf_reset(&out);
		FUZZ_CHECK(ts_timefmt_format(&f, &c, &out) == 0);
		FUZZ_CHECK(out.data[out.len] == '\0');
	}
	ts_buf_release(&out);
	ts_timefmt_release(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct ts_buf q;
	struct ts_json_scan sc;
	char *s;

	if (size > 4096)
		return 0;
	if (!(s = malloc(size + 1)))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	iso(in, size);
	/* the input inside a JSON string, when it can be one */
	ts_buf_init(&q, 0);
	if (ts_json_escape(&q, in, size) == 0) {
		int escaped = q.len != size + 2;
		from_json((struct ts_span){q.data, q.len}, escaped ? NULL : s, size);
	}
	ts_buf_release(&q);
	/* the input as a value of its own */
	if (size && ts_json_scan(in, in + size, 1, 0, &sc) == TS_JSON_OK &&
	    sc.end == in + size)
		from_json((struct ts_span){in, size}, NULL, 0);
	tz(s, size);
	pattern(in, size);
	if (size >= 8) {
		int64_t ms;
		memcpy(&ms, data, sizeof(ms));
		/* within the years the scheme covers */
		if (ms > -(1LL << 52) && ms < (1LL << 52))
			round_trip(ms);
	}
	free(s);
	return 0;
}
