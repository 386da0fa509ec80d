/*
 * gen-cwl — deterministic generator of CloudWatch Logs subscription data as a
 * Firehose delivery stream stores it in S3: a multi-member gzip file, one gzip
 * member per CloudWatch Logs payload, each payload a compact JSON object with
 * no newline after it (so the decompressed stream is `{...}{...}{...}`).
 *
 *   gen-cwl [--seed N] [--size MB] [--plain] [-o FILE]
 *
 * --size is the target size of the compressed output in MiB (default 100;
 * decimals allowed); generation stops after the first member that reaches it.
 * --plain writes the very same payloads uncompressed, one per line (NDJSON),
 * so `gen-cwl --plain` equals `gen-cwl | ts-decompress` for the same seed/size.
 * The output depends only on the seed and size: it uses its own PRNG
 * (splitmix64), a fixed gzip header (mtime 0, OS 3) and no clock or locale.
 *
 * Build: cc -std=c11 -O2 scripts/gen-cwl.c -lz
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define MIB 1048576.0

static const char *prog = "gen-cwl";

/* ---- PRNG --------------------------------------------------------------- */

#include "prng.h"

/* ---- growing buffer ----------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

static void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
	exit(2);
}

static void reserve(struct buf *b, size_t extra)
{
	if (b->len + extra <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + extra)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p)
		die("out of memory");
	b->p = p;
	b->cap = cap;
}

static void put(struct buf *b, const char *s, size_t n)
{
	reserve(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

#define PUTS(b, lit) put((b), (lit), sizeof(lit) - 1)

static void putstr(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void putc1(struct buf *b, char c)
{
	reserve(b, 1);
	b->p[b->len++] = c;
}

static void putu(struct buf *b, uint64_t v)
{
	char tmp[24];
	int i = 24;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(b, tmp + i, (size_t)(24 - i));
}

/* v padded with zeros to width digits */
static void putu0(struct buf *b, uint64_t v, int width)
{
	char tmp[24];
	int i = 24;
	while (width-- > 0 || v) {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	}
	put(b, tmp + i, (size_t)(24 - i));
}

static void puthex(struct buf *b, uint64_t v, int digits)
{
	static const char hx[] = "0123456789abcdef";
	reserve(b, (size_t)digits);
	for (int i = digits - 1; i >= 0; i--) {
		b->p[b->len + (size_t)i] = hx[v & 15];
		v >>= 4;
	}
	b->len += (size_t)digits;
}

static void putuuid(struct buf *b, const uint64_t u[2])
{
	puthex(b, u[0] >> 32, 8);
	putc1(b, '-');
	puthex(b, u[0] >> 16, 4);
	putc1(b, '-');
	puthex(b, 0x4000 | (u[0] & 0x0fff), 4);
	putc1(b, '-');
	puthex(b, 0x8000 | (u[1] >> 48 & 0x3fff), 4);
	putc1(b, '-');
	puthex(b, u[1], 12);
}

static void newuuid(uint64_t u[2])
{
	u[0] = rnd();
	u[1] = rnd();
}

/* Append s[0..n) as the inside of a JSON string (no quotes). */
static void esc(struct buf *b, const char *s, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	reserve(b, n + 16);
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && (unsigned char)s[j] >= 0x20 && s[j] != '"' && s[j] != '\\')
			j++;
		put(b, s + i, j - i);
		if (j == n)
			break;
		unsigned char c = (unsigned char)s[j];
		switch (c) {
		case '"': PUTS(b, "\\\""); break;
		case '\\': PUTS(b, "\\\\"); break;
		case '\n': PUTS(b, "\\n"); break;
		case '\t': PUTS(b, "\\t"); break;
		case '\r': PUTS(b, "\\r"); break;
		default: {
			char u[6] = {'\\', 'u', '0', '0', hx[c >> 4], hx[c & 15]};
			put(b, u, 6);
		}
		}
		i = j + 1;
	}
}

static void putjs(struct buf *b, const char *s)
{
	putc1(b, '"');
	esc(b, s, strlen(s));
	putc1(b, '"');
}

/* ---- time --------------------------------------------------------------- */

/* days since 1970-01-01 -> civil date (Howard Hinnant's algorithm) */
static void civil(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

/* ISO 8601 UTC with milliseconds: 2024-05-01T00:00:00.123Z */
static void putiso(struct buf *b, uint64_t ms)
{
	uint64_t s = ms / 1000, days = s / 86400, sod = s % 86400;
	int y;
	unsigned mo, d;
	civil((int64_t)days, &y, &mo, &d);
	putu0(b, (uint64_t)y, 4);
	putc1(b, '-');
	putu0(b, mo, 2);
	putc1(b, '-');
	putu0(b, d, 2);
	putc1(b, 'T');
	putu0(b, sod / 3600, 2);
	putc1(b, ':');
	putu0(b, sod / 60 % 60, 2);
	putc1(b, ':');
	putu0(b, sod % 60, 2);
	putc1(b, '.');
	putu0(b, ms % 1000, 3);
	putc1(b, 'Z');
}

/* ---- content ------------------------------------------------------------ */

#define NFUNCS 6
#define NSTREAMS 3

struct stream {
	char group[32];
	char name[80];
	uint64_t req[2]; /* current request id */
	uint64_t idmid; /* event ids: middle digits fixed per stream */
	uint64_t idseq; /* event ids: last digits count up, as CloudWatch's do */
};

static struct stream streams[NFUNCS * NSTREAMS];
static uint64_t clock_ms = 1714521600000ULL; /* 2024-05-01T00:00:00Z */

static const char *const levels[] = {"INFO", "INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"};
static const char *const paths[] = {
	"/api/orders", "/api/orders/{id}", "/api/users", "/api/users/{id}/settings",
	"/api/cart", "/api/search", "/health", "/api/payments/charge",
	"/api/x", "/v2/items?page=2&sort=desc",
};
static const char *const msgs[] = {
	"request completed",
	"request started",
	"cache miss",
	"cache hit",
	"fetched items from DynamoDB",
	"retrying after throttling",
	"user said \"hello\" twice",
	"path C:\\temp\\out.log not found",
	"column\tseparated\tvalues",
	"multi-line\nsecond line\nthird line",
	"caf\xc3\xa9 na\xc3\xafve r\xc3\xa9sum\xc3\xa9 \xe2\x9c\x93",
	"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\xad\xe3\x82\xb0 \xf0\x9f\x9a\x80",
	"control char \x01 and bell \x07 inside",
	"slashes / and \\/ and braces {} [] in text",
	"",
};
static const char *const errors[] = {
	"something failed: \"quoted\" \t tab",
	"ConditionalCheckFailedException: The conditional request failed",
	"Task timed out after 3.00 seconds",
	"TypeError: Cannot read properties of undefined (reading 'id')",
	"connection reset by peer (host \"db.internal:5432\")",
};
static const char *const infos[] = {
	"processing item",
	"Received event with records:",
	"wrote batch to s3://bucket/prefix/part-",
	"Loaded config from /var/task/config.json, keys=",
};

static void init_streams(void)
{
	for (int f = 0; f < NFUNCS; f++)
		for (int s = 0; s < NSTREAMS; s++) {
			struct stream *st = &streams[f * NSTREAMS + s];
			struct buf b = {0};
			PUTS(&b, "/aws/lambda/fn-");
			putu(&b, (uint64_t)f);
			putc1(&b, 0);
			memcpy(st->group, b.p, b.len);
			b.len = 0;
			int y;
			unsigned m, d;
			civil((int64_t)(clock_ms / 86400000), &y, &m, &d);
			putu0(&b, (uint64_t)y, 4);
			putc1(&b, '/');
			putu0(&b, m, 2);
			putc1(&b, '/');
			putu0(&b, d, 2);
			PUTS(&b, "/[$LATEST]");
			puthex(&b, rnd(), 16);
			puthex(&b, rnd(), 16);
			putc1(&b, 0);
			memcpy(st->name, b.p, b.len);
			free(b.p);
			newuuid(st->req);
			st->idmid = rnd() % 10000000000000000000ULL;
			st->idseq = rnd() % 1000000000000000000ULL;
		}
}

/* One JSON-object log line (structured logging), serialized compactly. */
static void json_message(struct buf *m, struct stream *st, uint64_t ts)
{
	uint32_t bits = (uint32_t)rnd();
	PUTS(m, "{");
	if (bits & 1) {
		PUTS(m, "\"time\":\"");
		putiso(m, ts);
		PUTS(m, "\",");
	}
	PUTS(m, "\"level\":");
	putjs(m, levels[below(sizeof levels / sizeof *levels)]);
	PUTS(m, ",\"requestId\":\"");
	putuuid(m, st->req);
	PUTS(m, "\",\"latencyMs\":");
	putu(m, below(2000));
	PUTS(m, ",\"path\":");
	putjs(m, paths[below(sizeof paths / sizeof *paths)]);
	if (bits & 2) {
		PUTS(m, ",\"status\":");
		static const unsigned codes[] = {200, 200, 200, 201, 204, 400, 404, 429, 500};
		putu(m, codes[below(sizeof codes / sizeof *codes)]);
	}
	if ((bits & 12) == 12) {
		PUTS(m, ",\"user\":{\"id\":");
		putu(m, below(100000));
		PUTS(m, ",\"roles\":[");
		if (bits & 16)
			PUTS(m, "\"admin\",");
		PUTS(m, "\"dev\"],\"beta\":");
		if (bits & 32)
			PUTS(m, "true");
		else
			PUTS(m, "false");
		PUTS(m, "}");
	}
	if ((bits & 192) == 192) {
		PUTS(m, ",\"cost\":");
		if (bits & 256)
			putc1(m, '-');
		/* numbers in shortest form, as jq prints them, so outputs compare */
		uint32_t c = 1 + below(9999), w = 4;
		while (c % 10 == 0) {
			c /= 10;
			w--;
		}
		PUTS(m, "0.");
		putu0(m, c, (int)w);
		PUTS(m, ",\"error\":null,\"tags\":[]");
	}
	if ((bits & 0x600) == 0x600) {
		PUTS(m, ",\"bytes\":");
		putu(m, rnd() >> 12);
		PUTS(m, ",\"ratio\":0.0015");
	}
	PUTS(m, ",\"msg\":");
	putjs(m, msgs[below(sizeof msgs / sizeof *msgs)]);
	PUTS(m, "}");
}

/* One plain-text line of the kinds a Lambda function writes. */
static void text_message(struct buf *m, struct stream *st, uint64_t ts, uint32_t kind)
{
	int nl = 1;
	if (kind < 10) { /* START: a new invocation */
		newuuid(st->req);
		PUTS(m, "START RequestId: ");
		putuuid(m, st->req);
		PUTS(m, " Version: $LATEST");
	} else if (kind < 15) {
		PUTS(m, "END RequestId: ");
		putuuid(m, st->req);
	} else if (kind < 20) {
		PUTS(m, "REPORT RequestId: ");
		putuuid(m, st->req);
		uint32_t dur = below(300000);
		PUTS(m, "\tDuration: ");
		putu(m, dur / 100);
		putc1(m, '.');
		putu0(m, dur % 100, 2);
		PUTS(m, " ms\tBilled Duration: ");
		putu(m, dur / 100 + 1);
		PUTS(m, " ms\tMemory Size: 128 MB\tMax Memory Used: ");
		putu(m, 60 + below(60));
		PUTS(m, " MB\t");
		if (below(8) == 0) {
			PUTS(m, "Init Duration: ");
			putu(m, 100 + below(400));
			PUTS(m, ".");
			putu0(m, below(100), 2);
			PUTS(m, " ms\t");
		}
	} else if (kind < 35) { /* console.log */
		putiso(m, ts);
		putc1(m, '\t');
		putuuid(m, st->req);
		PUTS(m, "\tINFO\t");
		putstr(m, infos[below(sizeof infos / sizeof *infos)]);
		putc1(m, ' ');
		putu(m, below(100000));
		nl = below(4) != 0;
	} else if (kind < 45) { /* [ERROR] */
		PUTS(m, "[ERROR] ");
		putiso(m, ts);
		putc1(m, ' ');
		putuuid(m, st->req);
		putc1(m, ' ');
		putstr(m, errors[below(sizeof errors / sizeof *errors)]);
		nl = below(2) != 0;
	} else { /* stack trace, odd bytes */
		switch (below(3)) {
		case 0:
			PUTS(m, "[WARN] ");
			putiso(m, ts);
			PUTS(m, " Error: boom\n    at handler (/var/task/index.js:");
			putu(m, 1 + below(300));
			PUTS(m, ":17)\n    at Runtime.handleOnceNonStreaming "
			        "(file:///var/runtime/index.mjs:1173:29)");
			break;
		case 1:
			PUTS(m, "Unicode \xe2\x80\x94 caf\xc3\xa9 \xe2\x82\xac 12 \xf0\x9f\x98\x80, "
			        "backslash \\ slash / ctrl \x1b[31mred\x1b[0m\r");
			break;
		default:
			PUTS(m, "INIT_START Runtime Version: nodejs:20.v22\tRuntime Version ARN: "
			        "arn:aws:lambda:us-east-1::runtime:");
			puthex(m, rnd(), 16);
			break;
		}
	}
	if (nl)
		putc1(m, '\n');
}

/* 56 decimal digits, like CloudWatch's: consecutive events of a stream share
 * a long prefix and differ in a counter at the end. */
static void event_id(struct buf *b, struct stream *st)
{
	putc1(b, '3');
	putu0(b, clock_ms, 15);
	putu0(b, st->idmid, 20);
	putu0(b, st->idseq++, 20);
}

static void control_payload(struct buf *b)
{
	clock_ms += below(1000);
	PUTS(b, "{\"messageType\":\"CONTROL_MESSAGE\",\"owner\":\"CloudwatchLogs\","
	        "\"logGroup\":\"\",\"logStream\":\"\",\"subscriptionFilters\":[],"
	        "\"logEvents\":[{\"id\":\"\",\"timestamp\":");
	putu(b, clock_ms);
	PUTS(b, ",\"message\":\"CWL CONTROL MESSAGE: Checking health of destination Firehose.\"}]}");
}

static void data_payload(struct buf *b, struct buf *m)
{
	struct stream *st = &streams[below(NFUNCS * NSTREAMS)];
	PUTS(b, "{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"123456789012\",\"logGroup\":");
	putjs(b, st->group);
	PUTS(b, ",\"logStream\":");
	putjs(b, st->name);
	PUTS(b, ",\"subscriptionFilters\":[\"filter-1\"],\"logEvents\":[");
	uint32_t n = 10 + below(91);
	for (uint32_t i = 0; i < n; i++) {
		clock_ms += below(50);
		if (i)
			putc1(b, ',');
		PUTS(b, "{\"id\":\"");
		event_id(b, st);
		PUTS(b, "\",\"timestamp\":");
		putu(b, clock_ms);
		PUTS(b, ",\"message\":\"");
		m->len = 0;
		uint32_t kind = below(100);
		if (kind < 50)
			json_message(m, st, clock_ms);
		else
			text_message(m, st, clock_ms, kind - 50);
		esc(b, m->p, m->len);
		PUTS(b, "\"}");
	}
	PUTS(b, "]}");
}

/* ---- main --------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: %s [--seed N] [--size MB] [--plain] [-o FILE]\n"
	        "Write CloudWatch Logs subscription payloads as a Firehose delivery stream\n"
	        "stores them: a multi-member gzip file, one member per payload.\n"
	        "  --seed N     PRNG seed (default 1); same seed and size, same bytes\n"
	        "  --size MB    target compressed size in MiB (default 100)\n"
	        "  --plain      write the same payloads uncompressed, one per line\n"
	        "  -o FILE      output file (default standard output)\n",
	        prog);
}

static void bad_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "%s: %s%s%s\n", prog, msg, arg ? ": " : "", arg ? arg : "");
	usage(stderr);
	exit(2);
}

static void write_all(FILE *out, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, out) != n)
		die("write error");
}

int main(int argc, char **argv)
{
	uint64_t seed = 1;
	double size_mb = 100;
	int plain = 0;
	const char *outpath = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--plain")) {
			plain = 1;
			continue;
		} else if (!strncmp(a, "--seed=", 7) || !strncmp(a, "--size=", 7)) {
			v = a + 7;
		} else if (!strcmp(a, "--seed") || !strcmp(a, "--size") || !strcmp(a, "-o")) {
			if (++i >= argc)
				bad_usage("option needs a value", a);
			v = argv[i];
		} else {
			bad_usage("unknown argument", a);
		}
		char *end;
		errno = 0;
		if (!strncmp(a, "--seed", 6)) {
			seed = strtoull(v, &end, 10);
			if (errno || end == v || *end || *v == '-')
				bad_usage("bad --seed", v);
		} else if (!strncmp(a, "--size", 6)) {
			size_mb = strtod(v, &end);
			if (errno || end == v || *end || !(size_mb > 0) || size_mb > 1e7)
				bad_usage("bad --size", v);
		} else {
			outpath = v;
		}
	}

	FILE *out = stdout;
	if (outpath && strcmp(outpath, "-")) {
		out = fopen(outpath, "wb");
		if (!out)
			die(outpath);
	} else if (!plain && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "%s: not writing compressed data to a terminal (use -o FILE)\n", prog);
		return 2;
	}
	static char obuf[1 << 20];
	setvbuf(out, obuf, _IOFBF, sizeof obuf);

	rng_state = seed;
	init_streams();

	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		fprintf(stderr, "%s: deflateInit2 failed\n", prog);
		return 2;
	}
	gz_header hdr;
	memset(&hdr, 0, sizeof hdr);
	hdr.os = 3; /* Unix, whatever the build platform's zlib would say */

	uint64_t target = (uint64_t)(size_mb * MIB);
	uint64_t zbytes = 0;
	struct buf payload = {0}, msg = {0}, z = {0};

	while (zbytes < target) {
		payload.len = 0;
		if (below(50) == 0)
			control_payload(&payload);
		else
			data_payload(&payload, &msg);

		if (deflateReset(&zs) != Z_OK || deflateSetHeader(&zs, &hdr) != Z_OK) {
			fprintf(stderr, "%s: deflateReset failed\n", prog);
			return 2;
		}
		size_t bound = deflateBound(&zs, (uLong)payload.len) + 64;
		if (z.cap < bound)
			reserve(&z, bound - z.len);
		zs.next_in = (Bytef *)payload.p;
		zs.avail_in = (uInt)payload.len;
		zs.next_out = (Bytef *)z.p;
		zs.avail_out = (uInt)z.cap;
		if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
			fprintf(stderr, "%s: deflate failed\n", prog);
			return 2;
		}
		size_t zn = z.cap - zs.avail_out;
		zbytes += zn;
		if (plain) {
			putc1(&payload, '\n');
			write_all(out, payload.p, payload.len);
		} else {
			write_all(out, z.p, zn);
		}
	}
	deflateEnd(&zs);
	free(payload.p);
	free(msg.p);
	free(z.p);
	if (fflush(out) || ferror(out))
		die("write error");
	if (out != stdout && fclose(out))
		die(outpath);
	return 0;
}
