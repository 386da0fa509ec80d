/* tstime.c — see tstime.h. */
#include "tstime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Howard Hinnant's days_from_civil / civil_from_days. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*m <= 2));
}

void ts_civil_from_ms(int64_t ms, struct ts_civil *c)
{
	int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	int64_t days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
	int64_t rem = s - days * 86400;

	c->msec = (int)(ms - s * 1000);
	civil_from_days(days, &c->year, &c->month, &c->day);
	c->hour = (int)(rem / 3600);
	c->min = (int)(rem / 60 % 60);
	c->sec = (int)(rem % 60);
}

int64_t ts_ms_from_civil(const struct ts_civil *c)
{
	int64_t days = days_from_civil(c->year, (unsigned)c->month, (unsigned)c->day);
	return ((days * 86400) + c->hour * 3600 + c->min * 60 + c->sec) * 1000 + c->msec;
}

static int digits(const char *s, size_t n, size_t at, int count, int *v)
{
	if (at + (size_t)count > n)
		return -1;
	*v = 0;
	for (int i = 0; i < count; i++) {
		char c = s[at + (size_t)i];
		if (c < '0' || c > '9')
			return -1;
		*v = *v * 10 + (c - '0');
	}
	return 0;
}

static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

int ts_time_parse_iso(const char *s, size_t n, int64_t *ms)
{
	struct ts_civil c = {0};
	size_t i = 10;
	int off = 0;

	if (n < 10 || digits(s, n, 0, 4, &c.year) || s[4] != '-' ||
	    digits(s, n, 5, 2, &c.month) || s[7] != '-' || digits(s, n, 8, 2, &c.day))
		return -1;
	if (c.month < 1 || c.month > 12 || c.day < 1 || c.day > mdays[c.month - 1])
		return -1;
	if (c.month == 2 && c.day == 29 &&
	    !(c.year % 4 == 0 && (c.year % 100 != 0 || c.year % 400 == 0)))
		return -1;
	if (i < n && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
		if (digits(s, n, 11, 2, &c.hour) || n < 14 || s[13] != ':' ||
		    digits(s, n, 14, 2, &c.min))
			return -1;
		i = 16;
		if (i < n && s[i] == ':') {
			if (digits(s, n, 17, 2, &c.sec))
				return -1;
			i = 19;
			if (i < n && (s[i] == '.' || s[i] == ',')) {
				int scale = 100;
				i++;
				if (i >= n || s[i] < '0' || s[i] > '9')
					return -1;
				for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
					c.msec += (s[i] - '0') * scale;
			}
		}
		if (c.hour > 23 || c.min > 59 || c.sec > 60)
			return -1;
		if (c.sec == 60)
			c.sec = 59; /* a leap second files under its minute */
		if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
			i++;
		} else if (i < n && (s[i] == '+' || s[i] == '-')) {
			int hh, mm = 0;
			int sign = s[i] == '-' ? -1 : 1;
			if (digits(s, n, i + 1, 2, &hh))
				return -1;
			i += 3;
			if (i < n && s[i] == ':')
				i++;
			if (i < n && digits(s, n, i, 2, &mm) == 0)
				i += 2;
			if (hh > 23 || mm > 59)
				return -1;
			off = sign * (hh * 3600 + mm * 60);
		}
	}
	if (i != n)
		return -1;
	*ms = ts_ms_from_civil(&c) - (int64_t)off * 1000;
	return 0;
}

int ts_time_from_json_unit(struct ts_span v, enum ts_time_unit unit, int64_t *ms,
			   const char **why)
{
	char tmp[64];
	const char *s = v.p;
	size_t n = v.n;

	if (n && s[0] == '"') {
		s++;
		n -= 2;
		if (n >= sizeof(tmp) || memchr(s, '\\', n)) {
			*why = "time is not a recognised time string";
			return -1;
		}
		if (n && s[0] >= '0' && s[0] <= '9' && n < 20 &&
		    strspn(s, "0123456789") >= n)
			goto number;
		if (ts_time_parse_iso(s, n, ms) == 0)
			return 0;
		*why = "time is not ISO 8601 or epoch seconds/milliseconds";
		return -1;
	}
	if (!n || !((s[0] >= '0' && s[0] <= '9') || s[0] == '-')) {
		*why = "time is neither a number nor a string";
		return -1;
	}
number:
	if (n >= sizeof(tmp)) {
		*why = "time number out of range";
		return -1;
	}
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	char *end;
	double d = strtod(tmp, &end);
	if (unit == TS_TIME_S)
		d *= 1000;
	else if (unit == TS_TIME_AUTO && d <= 1e11 && d >= -1e11)
		d *= 1000; /* seconds until the year 5138, milliseconds past 1973 */
	/* about 300,000 years either way: years stay in an int */
	if (*end || d != d || d > 1e16 || d < -1e16) {
		*why = "time number out of range";
		return -1;
	}
	*ms = (int64_t)d;
	return 0;
}

int ts_time_from_json(struct ts_span v, int64_t *ms, const char **why)
{
	return ts_time_from_json_unit(v, TS_TIME_AUTO, ms, why);
}

int ts_time_unit_parse(const char *s, enum ts_time_unit *unit)
{
	if (!strcmp(s, "auto"))
		*unit = TS_TIME_AUTO;
	else if (!strcmp(s, "s"))
		*unit = TS_TIME_S;
	else if (!strcmp(s, "ms"))
		*unit = TS_TIME_MS;
	else
		return -1;
	return 0;
}

int ts_tz_parse(struct ts_tz *tz, const char *s, char *err, size_t errlen)
{
	memset(tz, 0, sizeof(*tz));
	if (!strcmp(s, "UTC") || !strcmp(s, "Z") || !strcmp(s, "GMT") ||
	    !strcmp(s, "Etc/UTC"))
		return 0;
	const char *p = s;
	if (!strncmp(p, "UTC", 3) || !strncmp(p, "GMT", 3))
		p += 3;
	if (*p == '+' || *p == '-') {
		/* +H, +HH, +HH:MM or +HHMM, nothing after: "+0530" is not +05:00 */
		int sign = *p == '-' ? -1 : 1, hh = 0, mm = 0, nd = 0;
		const char *q = p + 1;
		for (; nd < 2 && *q >= '0' && *q <= '9'; q++, nd++)
			hh = hh * 10 + (*q - '0');
		if (nd && *q) {
			if (*q == ':')
				q++;
			if (q[0] >= '0' && q[0] <= '9' && q[1] >= '0' && q[1] <= '9') {
				mm = (q[0] - '0') * 10 + (q[1] - '0');
				q += 2;
			} else {
				nd = 0;
			}
		}
		if (nd && !*q && hh <= 23 && mm <= 59) {
			tz->offset_s = sign * (hh * 3600 + mm * 60);
			return 0;
		}
	}
	/* A zoneinfo name: check it is a zoneinfo file (not a directory such
	 * as "Asia", which the C library would quietly take for UTC), then
	 * let the C library use it. */
	char path[512], magic[4];
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", s);
	FILE *f = strstr(s, "..") ? NULL : fopen(path, "rb");
	if (!f || fread(magic, 1, 4, f) != 4 || memcmp(magic, "TZif", 4) != 0) {
		if (f)
			fclose(f);
		snprintf(err, errlen, "unknown time zone '%s' (use UTC, +HH:MM or a zoneinfo name)", s);
		return -1;
	}
	fclose(f);
	setenv("TZ", s, 1);
	tzset();
	tz->named = 1;
	return 0;
}

void ts_tz_civil(const struct ts_tz *tz, int64_t ms, struct ts_civil *c)
{
	if (!tz->named) {
		ts_civil_from_ms(ms + (int64_t)tz->offset_s * 1000, c);
		return;
	}
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
	struct tm tm;
	localtime_r(&t, &tm);
	c->year = tm.tm_year + 1900;
	c->month = tm.tm_mon + 1;
	c->day = tm.tm_mday;
	c->hour = tm.tm_hour;
	c->min = tm.tm_min;
	c->sec = tm.tm_sec;
	c->msec = (int)(ms - (int64_t)t * 1000);
}

static int add_part(struct ts_timefmt *f, char field, int width, const char *text, size_t n)
{
	struct ts_timefmt_part *np = realloc(f->parts, (f->n + 1) * sizeof(*np));

	if (!np)
		return -1;
	f->parts = np;
	np[f->n].field = field;
	np[f->n].width = width;
	np[f->n].text = text ? strndup(text, n) : NULL;
	f->n++;
	return 0;
}

int ts_timefmt_parse(struct ts_timefmt *f, const char *pat, size_t n,
		     const char **why, size_t *col)
{
	size_t i = 0;

	memset(f, 0, sizeof(*f));
	while (i < n) {
		char c = pat[i];
		if (c == '\'') {
			if (i + 1 < n && pat[i + 1] == '\'') {
				add_part(f, 0, 0, "'", 1);
				i += 2;
				continue;
			}
			size_t j = i + 1;
			struct ts_buf lit;
			ts_buf_init(&lit, 0);
			for (;;) {
				if (j >= n) {
					ts_buf_release(&lit);
					*why = "quoted text not closed with '";
					*col = i;
					ts_timefmt_release(f);
					return -1;
				}
				if (pat[j] == '\'') {
					if (j + 1 < n && pat[j + 1] == '\'') {
						ts_buf_addch(&lit, '\'');
						j += 2;
						continue;
					}
					break;
				}
				ts_buf_addch(&lit, pat[j++]);
			}
			add_part(f, 0, 0, lit.data, lit.len);
			ts_buf_release(&lit);
			i = j + 1;
			continue;
		}
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			size_t j = i;
			while (j < n && pat[j] == c)
				j++;
			int w = (int)(j - i);
			if (!strchr("yMdHmsS", c) || (c == 'M' && w > 2) ||
			    (c != 'y' && c != 'S' && w > 2) || w > 9) {
				*why = strchr("yMdHmsS", c) ? "pattern letter repeated too often"
							    : "unsupported pattern letter (use y M d H m s S)";
				*col = i;
				ts_timefmt_release(f);
				return -1;
			}
			add_part(f, c, w, NULL, 0);
			i = j;
			continue;
		}
		size_t j = i;
		while (j < n && pat[j] != '\'' &&
		       !((pat[j] >= 'a' && pat[j] <= 'z') || (pat[j] >= 'A' && pat[j] <= 'Z')))
			j++;
		add_part(f, 0, 0, pat + i, j - i);
		i = j;
	}
	return 0;
}

void ts_timefmt_release(struct ts_timefmt *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->parts[i].text);
	free(f->parts);
	memset(f, 0, sizeof(*f));
}

int ts_timefmt_format(const struct ts_timefmt *f, const struct ts_civil *c,
		      struct ts_buf *out)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct ts_timefmt_part *p = &f->parts[i];
		int v, w = p->width;
		switch (p->field) {
		case 0:
			if (ts_buf_addstr(out, p->text) < 0)
				return -1;
			continue;
		case 'y':
			v = w == 2 ? c->year % 100 : c->year;
			break;
		case 'M': v = c->month; break;
		case 'd': v = c->day; break;
		case 'H': v = c->hour; break;
		case 'm': v = c->min; break;
		case 's': v = c->sec; break;
		case 'S': {
			/* fraction of a second, w digits (milliseconds, then 0s) */
			char frac[16];
			snprintf(frac, sizeof(frac), "%03d000000", c->msec);
			if (ts_buf_add(out, frac, (size_t)w) < 0)
				return -1;
			continue;
		}
		default:
			continue;
		}
		if (ts_buf_addf(out, "%0*d", w, v) < 0)
			return -1;
	}
	return 0;
}
