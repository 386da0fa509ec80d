/*
 * tstime.h — record times: reading them from records, time zones, and
 * formatting with the Java DateTimeFormatter patterns a delivery stream's
 * prefix uses (`!{timestamp:yyyy-MM-dd}`, `'year='yyyy'/month='MM`).
 *
 * Times are milliseconds since the epoch (int64), UTC.
 */
#ifndef TS_TSTIME_H
#define TS_TSTIME_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "json.h"

/*
 * A record's time from a JSON value: a number of epoch seconds or
 * milliseconds (told apart by size: above 10^11 it is milliseconds), the
 * same as a string of digits, or an ISO 8601 string
 * ("2024-05-01T12:34:56Z", ".123", "+02:00", "+0200", a date alone).
 * 0, or -1 with *why.
 */
int ts_time_from_json(struct ts_span v, int64_t *ms, const char **why);
/* The same with the unit of numbers said: auto (as above), s (seconds, a
 * fraction allowed) or ms (milliseconds: CloudWatch Logs timestamps).
 * ISO 8601 strings are read the same whatever the unit. */
enum ts_time_unit { TS_TIME_AUTO, TS_TIME_S, TS_TIME_MS };
int ts_time_from_json_unit(struct ts_span v, enum ts_time_unit unit, int64_t *ms,
			   const char **why);
/* "auto", "s" or "ms": 0, or -1 for anything else. */
int ts_time_unit_parse(const char *s, enum ts_time_unit *unit);
int ts_time_parse_iso(const char *s, size_t n, int64_t *ms);

/* Broken-down civil time (proleptic Gregorian). */
struct ts_civil {
	int year, month, day, hour, min, sec, msec;
};
void ts_civil_from_ms(int64_t ms, struct ts_civil *c);
int64_t ts_ms_from_civil(const struct ts_civil *c);

/* A time zone: UTC, a fixed offset ("+05:30", "UTC-3"), or a zoneinfo name
 * ("Europe/Berlin", read through the C library with TZ). */
struct ts_tz {
	int named;
	int offset_s;
};
int ts_tz_parse(struct ts_tz *tz, const char *s, char *err, size_t errlen);
void ts_tz_civil(const struct ts_tz *tz, int64_t ms, struct ts_civil *c);

/* A compiled pattern: y M d H m s S; 'quoted text'; '' a quote; other
 * non-letters literal.  Other letters are an error naming their column. */
struct ts_timefmt_part {
	char field; /* 0: literal */
	int width;
	char *text;
};
struct ts_timefmt {
	struct ts_timefmt_part *parts;
	size_t n;
};
/* -1 with *why and *col (0-based, in pat) on an error. */
int ts_timefmt_parse(struct ts_timefmt *f, const char *pat, size_t n,
		     const char **why, size_t *col);
void ts_timefmt_release(struct ts_timefmt *f);
int ts_timefmt_format(const struct ts_timefmt *f, const struct ts_civil *c,
		      struct ts_buf *out);

#endif
