/* input.c — see input.h. */
#include "input.h"

#include <stdlib.h>

#include "s3.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

void ts_input_init(struct ts_input *in, struct ts_run *run)
{
	memset(in, 0, sizeof(*in));
	in->run = run;
	in->format = TS_FMT_AUTO;
	in->lim = run->lim;
	ts_reader_init(&in->rd, ts_source_fd, NULL, run->max_record, run->max_depth);
	ts_buf_init(&in->cut, 0);
}

/* The S3 client of s3:// inputs, made at the first one. */
struct s3_inputs {
	struct ts_http http;
	struct ts_aws_config aws;
	struct ts_s3 s3;
	char name[2048];
};

void ts_input_release(struct ts_input *in)
{
	ts_reader_release(&in->rd);
	ts_buf_release(&in->cut);
	if (in->s3) {
		ts_s3_release(&in->s3->s3);
		ts_aws_config_release(&in->s3->aws);
		ts_http_release(&in->s3->http);
		free(in->s3);
		in->s3 = NULL;
	}
}

struct ts_where ts_input_where(const struct ts_input *in, const struct ts_item *it)
{
	struct ts_where w = {.file = in->name, .offset = -1, .path = in->path};

	if (it)
		w.line = it->line;
	return w;
}

void ts_input_vreject(struct ts_input *in, const struct ts_item *it, const char *code,
		      struct ts_span raw, const char *fmt, va_list ap)
{
	char cause[1024];
	struct ts_where w = ts_input_where(in, it);
	int truncated = 0;

	vsnprintf(cause, sizeof(cause), fmt, ap);
	if (!raw.p) {
		raw = it->v;
		truncated = it->kind == TS_ITEM_TOO_LARGE;
	}
	ts_reject(in->run, code, &w, raw.p, raw.n, truncated, "%s", cause);
}

void ts_input_reject(struct ts_input *in, const struct ts_item *it, const char *code,
		     struct ts_span raw, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ts_input_vreject(in, it, code, raw, fmt, ap);
	va_end(ap);
}

/* A record cut short by a break: kept until the break is reported. */
static void hold_cut(struct ts_input *in, const struct ts_item *it)
{
	ts_buf_reset(&in->cut);
	in->has_cut = ts_buf_add(&in->cut, it->v.p, it->v.n) == 0;
	in->cut_line = it->line;
}

/* A cut record whose break never came (it cannot, but nothing is lost). */
static void flush_cut(struct ts_input *in)
{
	struct ts_where w = {.file = in->name, .line = in->cut_line, .offset = -1};

	if (!in->has_cut)
		return;
	in->has_cut = 0;
	in->run->records_in++;
	ts_reject(in->run, "bad_json", &w, in->cut.data, in->cut.len, 0,
		  "value not complete at the end of the input");
}

/*
 * A damaged stretch of the input: one record in, one rejected.  A record
 * the damage cut short is the same fault: its decoded bytes are the raw of
 * the record when the damage brings no bytes of its own (a cut-off end);
 * otherwise it gets a record of its own.
 */
static void reject_damage(struct ts_input *in, uint64_t line)
{
	const struct ts_damage *dmg = ts_decomp_damage(in->d);
	struct ts_where w = {.file = in->name, .line = line, .offset = -1};
	const char *raw = NULL;
	size_t rawn = 0;
	int truncated = 0, merged = 0;
	char cause[400];

	if (in->has_cut && (!dmg || !dmg->raw)) {
		raw = in->cut.data;
		rawn = in->cut.len;
		w.line = in->cut_line;
		in->has_cut = 0;
		merged = 1;
	}
	flush_cut(in);
	in->run->records_in++;
	if (!dmg) {
		ts_reject(in->run, "corrupt_input", &w, raw, rawn, 0, "damaged input");
		return;
	}
	if (dmg->raw) {
		raw = dmg->raw;
		rawn = dmg->rawn;
		truncated = dmg->truncated;
	}
	w.offset = dmg->offset;
	w.member = dmg->member;
	snprintf(cause, sizeof(cause), "%s", dmg->message);
	if (dmg->offset >= 0)
		snprintf(cause + strlen(cause), sizeof(cause) - strlen(cause),
			 " (at byte offset %lld)", (long long)dmg->offset);
	if (merged)
		snprintf(cause + strlen(cause), sizeof(cause) - strlen(cause),
			 "; raw is the record it cut short");
	ts_reject(in->run, dmg->code, &w, raw, rawn, truncated, "%s", cause);
}

/* Reading the input failed: trouble, not data (exit 2). */
static void read_failed(struct ts_input *in, int err)
{
	int64_t off;
	const char *msg = ts_decomp_error(in->d, &off);

	if (msg)
		ts_error("%s: %s", in->name, msg);
	else
		ts_error("%s: read error: %s", in->name, strerror(err ? err : EIO));
	ts_run_fail(in->run, 2);
}

static void account(struct ts_input *in)
{
	in->run->bytes_in = in->done + ts_decomp_bytes_in(in->d);
}

/* Is the run over because nobody reads standard output any more? */
static int output_gone(const struct ts_input *in)
{
	return in->run->out.err && !in->keep_going;
}

static int read_values(struct ts_input *in, ts_input_fn fn, void *ud)
{
	struct ts_run *run = in->run;
	struct ts_item it;
	enum ts_item_kind k;

	ts_reader_reset(&in->rd, ts_decomp_read, in->d);
	while ((k = ts_reader_next(&in->rd, &it)) != TS_ITEM_EOF) {
		switch (k) {
		case TS_ITEM_IO_ERROR:
			read_failed(in, it.sys_errno);
			return 0;
		case TS_ITEM_BREAK:
			reject_damage(in, it.line);
			break;
		case TS_ITEM_ERROR:
			if (ts_reader_cut_by_break(&in->rd, &it)) {
				hold_cut(in, &it);
				continue; /* counted with the break */
			}
			/* fall through */
		case TS_ITEM_TOO_LARGE:
			run->records_in++;
			ts_reject_item(run, in->name, &in->rd, &it);
			break;
		case TS_ITEM_VALUE:
		case TS_ITEM_TEXT:
			run->records_in++;
			if (fn(ud, in, &it) < 0)
				return -1;
			break;
		case TS_ITEM_EOF:
			break;
		}
		if ((run->ticks & 0xff) == 0)
			account(in);
		ts_run_tick(run);
		if (output_gone(in))
			return -1;
	}
	flush_cut(in);
	return 0;
}

static int read_bytes(struct ts_input *in, void *ud)
{
	const char *p;
	long n;

	while ((n = ts_decomp_chunk(in->d, &p)) != 0) {
		if (n == TS_SOURCE_BREAK) {
			reject_damage(in, 0);
			continue;
		}
		if (n < 0) {
			read_failed(in, errno);
			return 0;
		}
		if (in->on_bytes(ud, in, p, (size_t)n) < 0)
			return -1;
		account(in);
		ts_run_progress(in->run);
		if (output_gone(in))
			return -1;
	}
	return 0;
}

/* One input: its entries (one unless an archive), each read in turn. */
static int read_input(struct ts_input *in, int fd, const char *name, ts_input_fn fn,
		      void *ud)
{
	struct stat st;
	const char *entry;
	int rc = 0, more;

	in->regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	if (!in->source || in->regular)
		in->d = ts_decomp_open_fd(fd, in->format, &in->lim);
	else
		in->d = ts_decomp_open(in->source, &fd, in->format, &in->lim);
	if (!in->d) {
		ts_error("%s: %s", name, strerror(errno));
		ts_run_fail(in->run, 2);
		return 0;
	}
	in->name = name;
	while (rc == 0 && (more = ts_decomp_next_entry(in->d, &entry)) != 0) {
		if (more == TS_SOURCE_BREAK) {
			reject_damage(in, 0);
			continue;
		}
		if (more < 0) {
			int64_t off;
			const char *msg = ts_decomp_error(in->d, &off);
			if (!msg || ts_decomp_error_is_io(in->d)) {
				read_failed(in, errno);
			} else {
				struct ts_where w = {.file = name, .offset = off};
				in->run->records_in++;
				ts_reject(in->run, "corrupt_input", &w, NULL, 0, 0, "%s", msg);
			}
			break;
		}
		in->name = name;
		if (entry) {
			snprintf(in->namebuf, sizeof(in->namebuf), "%s:%s", name, entry);
			in->name = in->namebuf;
		}
		rc = in->on_bytes ? read_bytes(in, ud) : read_values(in, fn, ud);
		if (in->on_bytes && in->on_end && in->on_end(ud, in) < 0)
			rc = -1;
	}
	account(in);
	in->done = in->run->bytes_in;
	ts_decomp_free(in->d);
	in->d = NULL;
	in->name = name;
	return rc;
}

static struct s3_inputs *s3_client(struct ts_input *in)
{
	char err[512];
	struct s3_inputs *c = in->s3;

	if (c)
		return c;
	if (!(c = calloc(1, sizeof(*c)))) {
		ts_error("out of memory");
		return NULL;
	}
	struct ts_s3_opts so = {.endpoint = in->run->s3_endpoint, .retry_seconds = 120};
	if (ts_http_init(&c->http, NULL) < 0) {
		free(c);
		return NULL;
	}
	if (ts_aws_config_load(&c->aws, &c->http, err, sizeof(err)) < 0) {
		ts_error("s3:// inputs: AWS credentials: %s", err);
	} else if (ts_s3_init(&c->s3, &c->http, &c->aws, &so, err, sizeof(err)) < 0) {
		ts_error("s3:// inputs: %s", err);
	} else {
		in->s3 = c;
		return c;
	}
	ts_aws_config_release(&c->aws);
	ts_http_release(&c->http);
	free(c);
	return NULL;
}

/*
 * s3://BUCKET/PREFIX: the object of that key, when there is one and the
 * prefix does not end in '/'; else every object under the prefix, in key
 * order (folder markers, keys ending in '/', left out).  Each is read as a
 * file is, streamed through a pipe.
 */
static int read_s3(struct ts_input *in, const char *url, ts_input_fn fn, void *ud)
{
	struct s3_inputs *c = s3_client(in);
	struct ts_s3_listing l;
	struct ts_s3_status st;
	char *bucket, *prefix, err[512];
	int rc = 0;

	if (!c) {
		ts_run_fail(in->run, 2);
		return 0;
	}
	if (ts_s3_parse_url(url, &bucket, &prefix, err, sizeof(err)) < 0) {
		ts_error("'%s': %s", url, err);
		ts_run_fail(in->run, 2);
		return 0;
	}
	if (ts_s3_list(&c->s3, bucket, prefix, &l, &st) < 0) {
		ts_error("cannot list '%s': %s%s%s", url, st.code, st.message[0] ? ": " : "", st.message);
		ts_run_fail(in->run, 2);
		goto out;
	}
	size_t plen = strlen(prefix), from = 0, to = l.n;
	for (size_t i = 0; plen && prefix[plen - 1] != '/' && i < l.n; i++)
		if (strcmp(l.v[i].key, prefix) == 0) {
			from = i;
			to = i + 1;
		}
	size_t read = 0;
	for (size_t i = from; i < to && rc == 0 && !in->stop; i++) {
		const char *k = l.v[i].key;
		if (k[0] && k[strlen(k) - 1] == '/')
			continue;
		struct ts_s3_stream *t;
		snprintf(c->name, sizeof(c->name), "s3://%s/%s", bucket, k);
		int fd = ts_s3_stream_open(&c->s3, bucket, k, &t, err, sizeof(err));
		if (fd < 0) {
			ts_error("%s: %s", c->name, err);
			ts_run_fail(in->run, 2);
			break;
		}
		rc = read_input(in, fd, c->name, fn, ud);
		int stopped = rc < 0 || in->stop || output_gone(in);
		if (ts_s3_stream_close(t, &st) < 0 && !stopped) {
			ts_error("%s: %s%s%s", c->name, st.code, st.message[0] ? ": " : "", st.message);
			ts_run_fail(in->run, 2);
		}
		read++;
	}
	if (read == 0 && rc == 0) {
		ts_error("'%s': no objects there", url);
		ts_run_fail(in->run, 2);
	}
out:
	ts_s3_listing_release(&l);
	free(bucket);
	free(prefix);
	return rc;
}

int ts_input_run(struct ts_input *in, char *const *files, ts_input_fn fn, void *ud)
{
	static char *const dash[] = {(char *)"-", NULL};

	if (!files || !*files)
		files = dash;
	for (; *files && !in->stop; files++) {
		if (strncmp(*files, "s3://", 5) == 0) {
			if (read_s3(in, *files, fn, ud) < 0)
				in->stop = 1;
			continue;
		}
		const char *name = ts_input_name(*files);
		int fd = ts_open_input(*files);

		if (fd < 0) {
			ts_error("cannot open '%s': %s", *files, strerror(errno));
			ts_run_fail(in->run, 2);
			continue;
		}
		if (read_input(in, fd, name, fn, ud) < 0)
			in->stop = 1;
		if (fd > 0)
			close(fd);
	}
	return in->stop ? -1 : 0;
}
