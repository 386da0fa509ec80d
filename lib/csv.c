/*
 * csv.c — see csv.h.  A byte-at-a-time state machine; the states carry
 * over between chunks, so a record may be cut anywhere.
 */
#include "csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum {
	S_FIELD,     /* at the start of a field */
	S_PLAIN,     /* in an unquoted field */
	S_QUOTED,    /* in a quoted field */
	S_QUOTE,     /* a '"' in a quoted field: doubled, or the end */
	S_QUOTE_CR,  /* "...\r: the line break must follow */
	S_ESC,       /* TSV: after a backslash */
};

#define DEFAULT_MAX ((size_t)64 << 20)

void ts_csv_init(struct ts_csv *c, char sep, size_t max_record)
{
	memset(c, 0, sizeof(*c));
	c->sep = sep;
	c->tsv = sep == '\t';
	c->max_record = max_record ? max_record : DEFAULT_MAX;
	c->line = 1;
	c->rec_line = 1;
	ts_buf_init(&c->data, 0);
	ts_buf_init(&c->raw, 0);
}

void ts_csv_release(struct ts_csv *c)
{
	ts_buf_release(&c->data);
	ts_buf_release(&c->raw);
	free(c->f);
	c->f = NULL;
	c->nf = c->capf = 0;
}

static int new_field(struct ts_csv *c, int quoted)
{
	if (c->nf == c->capf) {
		size_t cap = c->capf ? c->capf * 2 : 32;
		struct ts_csv_field *f = realloc(c->f, cap * sizeof(*f));
		if (!f)
			return -1;
		c->f = f;
		c->capf = cap;
	}
	c->f[c->nf].off = c->data.len;
	c->f[c->nf].len = 0;
	c->f[c->nf].quoted = quoted;
	c->nf++;
	return 0;
}

static int add(struct ts_csv *c, char ch)
{
	if (c->data.len >= c->max_record) {
		c->oversize = 1;
		return 0;
	}
	if (ts_buf_addch(&c->data, ch) < 0)
		return -1;
	c->f[c->nf - 1].len++;
	return 0;
}

/* Hand the record over and start the next one. */
static int emit(struct ts_csv *c, ts_csv_fn fn, void *ud)
{
	int rc = 0;

	/* An unquoted field ending in CR before LF: CRLF. */
	if (c->nf && !c->f[c->nf - 1].quoted && c->f[c->nf - 1].len &&
	    c->data.data[c->f[c->nf - 1].off + c->f[c->nf - 1].len - 1] == '\r' && !c->err) {
		c->f[c->nf - 1].len--;
		ts_buf_setlen(&c->data, c->data.len - 1);
	}
	if (c->raw.len && c->raw.data[c->raw.len - 1] == '\r')
		ts_buf_setlen(&c->raw, c->raw.len - 1);
	if (c->oversize && !c->err)
		c->err = "record too large";
	int empty = !c->err && c->nf == 1 && c->f[0].len == 0 && !c->f[0].quoted && c->raw.len == 0;
	if (empty) {
		c->empty_lines++;
	} else if (c->nf || c->err) {
		struct ts_csv_rec r = {c->data.data, c->f, c->nf, c->rec_line, c->raw.data, c->raw.len, c->err};
		rc = fn(ud, &r);
	}
	ts_buf_reset(&c->data);
	ts_buf_reset(&c->raw);
	c->nf = 0;
	c->err = NULL;
	c->oversize = 0;
	c->skipping = 0;
	c->st = S_FIELD;
	c->rec_line = c->line;
	return rc;
}

static int fault(struct ts_csv *c, const char *why)
{
	if (!c->err)
		c->err = why;
	c->skipping = 1;
	return 0;
}

int ts_csv_feed(struct ts_csv *c, const char *p, size_t n, ts_csv_fn fn, void *ud)
{
	size_t i = 0;

	if (n == 0) {
		if (!c->started) {
			c->started = 1;
			if (c->bom && ts_csv_feed(c, "\xef\xbb\xbf", c->bom, fn, ud) < 0)
				return -1;
		}
		if (c->st == S_QUOTED || c->st == S_QUOTE_CR)
			fault(c, c->st == S_QUOTED ? "quoted field not closed" : "a line break must follow the closing quote");
		if (c->st == S_ESC && add(c, '\\') < 0)
			return -1;
		if (c->nf || c->raw.len || c->err)
			return emit(c, fn, ud) < 0 ? -1 : 0;
		return 0;
	}
	/* A byte order mark at the very start is skipped, however the input
	 * is cut; its first bytes followed by something else are data. */
	while (!c->started && i < n) {
		if (p[i] == "\xef\xbb\xbf"[c->bom]) {
			i++;
			if (++c->bom == 3)
				c->started = 1;
			continue;
		}
		c->started = 1;
		if (c->bom && ts_csv_feed(c, "\xef\xbb\xbf", c->bom, fn, ud) < 0)
			return -1;
	}
	for (; i < n; i++) {
		char ch = p[i];

		if (ch == '\n') {
			c->line++;
			/* a line break inside quotes is data */
			if (!c->skipping && c->st == S_QUOTED) {
				if (ts_buf_addch(&c->raw, ch) < 0 || add(c, ch) < 0)
					return -1;
				continue;
			}
			if (c->nf == 0 && !c->skipping && new_field(c, 0) < 0)
				return -1;
			if (c->st == S_ESC && add(c, '\\') < 0)
				return -1;
			if (emit(c, fn, ud) < 0)
				return -1;
			continue;
		}
		if (c->raw.len < c->max_record && ts_buf_addch(&c->raw, ch) < 0)
			return -1;
		if (c->skipping)
			continue;
		if (c->nf == 0 && new_field(c, 0) < 0)
			return -1;
		switch (c->st) {
		case S_FIELD:
			if (ch == c->sep) {
				if (new_field(c, 0) < 0)
					return -1;
			} else if (ch == '"' && !c->tsv) {
				c->f[c->nf - 1].quoted = 1;
				c->st = S_QUOTED;
			} else if (ch == '\\' && c->tsv) {
				c->st = S_ESC;
			} else {
				if (add(c, ch) < 0)
					return -1;
				c->st = S_PLAIN;
			}
			break;
		case S_PLAIN:
			if (ch == c->sep) {
				if (new_field(c, 0) < 0)
					return -1;
				c->st = S_FIELD;
			} else if (ch == '\\' && c->tsv) {
				c->st = S_ESC;
			} else if (add(c, ch) < 0) {
				return -1;
			}
			break;
		case S_ESC: {
			char d = ch == 't' ? '\t' : ch == 'n' ? '\n' : ch == 'r' ? '\r' : ch == '\\' ? '\\' : 0;
			if (d) {
				if (add(c, d) < 0)
					return -1;
				c->st = S_PLAIN;
			} else {
				if (add(c, '\\') < 0)
					return -1;
				c->st = S_PLAIN;
				i--; /* this byte again, as itself */
				if (c->raw.len)
					ts_buf_setlen(&c->raw, c->raw.len - 1);
			}
			break;
		}
		case S_QUOTED:
			if (ch == '"')
				c->st = S_QUOTE;
			else if (add(c, ch) < 0)
				return -1;
			break;
		case S_QUOTE:
			if (ch == '"') {
				if (add(c, '"') < 0)
					return -1;
				c->st = S_QUOTED;
			} else if (ch == c->sep) {
				if (new_field(c, 0) < 0)
					return -1;
				c->st = S_FIELD;
			} else if (ch == '\r') {
				c->st = S_QUOTE_CR;
			} else {
				fault(c, "only a separator or the end of the line may follow a closing quote");
			}
			break;
		case S_QUOTE_CR:
			fault(c, "a line break must follow the closing quote");
			break;
		}
	}
	return 0;
}
