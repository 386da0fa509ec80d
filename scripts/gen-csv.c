/*
 * gen-csv — deterministic generator of a CSV export as spreadsheets,
 * databases and migration tools write them: RFC 4180, a header row, LF line
 * ends, 16 columns of an order table, about 200 bytes a row, for
 * benchmarking ts-extract --csv against Miller.
 *
 *   gen-csv [--seed N] [--size MB | --rows N] [-o FILE]
 *
 * --seed  PRNG seed (default 1); --size  target output size in MiB (default
 * 300, decimals allowed; generation stops after the row that reaches it);
 * --rows  exactly N data rows instead (with --size too: whichever comes
 * first); -o  output file (default standard output).
 *
 * The columns: order_id (integer), customer_id (ten digits, leading zeros:
 * a string to every CSV reader), created_at (ISO 8601), customer_name
 * (unicode; "Last, First" quoted), email, country, city (some quoted for
 * their comma), quantity (integer, 2% empty), unit_price, discount and
 * total (decimals with the trailing zeros an export writes: 19.90; total
 * negative for refunds; discount mostly empty), paid (true/false),
 * gift_wrap (TRUE/FALSE or empty), rating (one decimal), notes (mostly
 * empty; else text, quoted when it holds commas, doubled quotes or, in 2%
 * of the rows, a line break) and tags (semicolon lists, or quoted comma
 * lists). Every value is one a CSV reader must read the same way: no
 * hex, no leading '+', '.5' or 'NaN', no spaces around fields.
 *
 * The output depends only on the seed and size: own PRNG (splitmix64), no
 * clock, no locale.
 *
 * Build: cc -std=c11 -O2 scripts/gen-csv.c -o gen-csv
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB 1048576.0

static const char *prog = "gen-csv";

#include "prng.h"

#include "genout.h"

static void putf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void putf(const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		fprintf(stderr, "%s: internal error: field too long\n", prog);
		exit(2);
	}
	put(tmp, (size_t)n);
}

/* s as one CSV field: quoted (inner quotes doubled) when it holds a comma,
 * quote, CR or LF, else as is */
static void field(const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		puts_(s);
		return;
	}
	put("\"", 1);
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			put("\"", 1);
		put(p, 1);
	}
	put("\"", 1);
}

/* ---- the data ------------------------------------------------------------ */

static const char *const first[] = {
	"Anna", "Zoë", "José", "Mary", "Łukasz", "Chloé", "Søren", "Aiko", "Björn", "Priya",
	"Mohammed", "Olga", "Jürgen", "Wei", "Siobhán", "Tomás", "Émilie", "Kwame", "Noa", "John",
};
static const char *const firsta[] = { /* the same, as mail user names */
	"anna", "zoe", "jose", "mary", "lukasz", "chloe", "soren", "aiko", "bjorn", "priya",
	"mohammed", "olga", "juergen", "wei", "siobhan", "tomas", "emilie", "kwame", "noa", "john",
};
static const char *const last[] = {
	"Müller", "García", "Smith", "O'Brien", "Nowak", "Dubois", "Andersen", "Tanaka",
	"Öberg", "Patel", "Al-Sayed", "Ivanova", "Schröder", "Li", "Ní Bhriain", "Ruiz",
	"Lefèvre", "Mensah", "Cohen", "Doe",
};
static const char *const domains[] = {
	"example.com", "example.org", "mail.example.net", "corp.example", "example.co.uk",
};
static const struct {
	const char *country, *city;
} places[] = {
	{"US", "Seattle"}, {"US", "Washington, D.C."}, {"US", "New York"}, {"DE", "München"},
	{"DE", "Berlin"}, {"FR", "Paris"}, {"BR", "São Paulo"}, {"CH", "Zürich"},
	{"JP", "東京"}, {"PL", "Kraków"}, {"GB", "London"}, {"IN", "Bengaluru"},
	{"GH", "Accra"}, {"IE", "Baile Átha Cliath"}, {"SE", "Malmö"}, {"MX", "Ciudad de México"},
};
static const char *const words[] = {
	"please", "deliver", "before", "noon", "leave", "at", "the", "door", "gift", "for",
	"mum", "call", "on", "arrival", "fragile", "back", "entrance", "ring", "twice", "thanks",
};
static const char *const quips[] = {
	"Customer said \"ASAP\", twice",
	"Box was \"slightly\" damaged",
	"Deliver to reception, 3rd floor",
	"Size: 42, colour: \"navy\"",
	"Rückruf erbeten, bitte",
	"ギフト包装をお願いします",
	"Merci beaucoup ! 🎁",
	"Ref. order 1042, see \"notes\"",
};
static const char *const multiline[] = {
	"Line one\nLine two",
	"Address:\n12 High Street, Flat 3\nLondon",
	"Customer wrote:\n\"Please, no plastic\"",
};
static const char *const tags[] = {
	"new", "vip", "promo", "b2b", "wholesale", "returning", "eu", "priority",
};

/* days from 1970-01-01 to y-m-d (proleptic Gregorian) */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static void row(uint64_t n, int64_t t)
{
	char buf[512];

	putf("%llu,", (unsigned long long)(1000000 + n));
	putf("%010u,", below(100000000));

	int y;
	unsigned mo, d;
	civil_from_days(t / 86400, &y, &mo, &d);
	unsigned s = (unsigned)(t % 86400);
	putf("%04d-%02u-%02uT%02u:%02u:%02uZ,", y, mo, d, s / 3600, s / 60 % 60, s % 60);

	unsigned fi = below(sizeof first / sizeof *first);
	const char *ln = PICK(last);
	if (chance(1, 10))
		snprintf(buf, sizeof buf, "%s, %s", ln, first[fi]);
	else
		snprintf(buf, sizeof buf, "%s %s", first[fi], ln);
	field(buf);
	putf(",%s.%u@%s,", firsta[fi], below(1000), PICK(domains));

	unsigned pi = below(sizeof places / sizeof *places);
	puts_(places[pi].country);
	put(",", 1);
	field(places[pi].city);
	put(",", 1);

	unsigned qty = 1 + below(20);
	if (chance(1, 50))
		put(",", 1); /* quantity unknown */
	else
		putf("%u,", qty);
	unsigned price = 99 + below(50000); /* cents */
	putf("%u.%02u,", price / 100, price % 100);
	unsigned disc = 0; /* percent */
	if (chance(3, 10)) {
		static const unsigned discs[] = {5, 10, 15, 20, 25};
		disc = PICK(discs);
		putf("0.%02u,", disc);
	} else {
		put(",", 1);
	}
	uint64_t total = (uint64_t)qty * price * (100 - disc) / 100;
	putf("%s%llu.%02u,", chance(3, 100) ? "-" : "", (unsigned long long)(total / 100),
	     (unsigned)(total % 100));
	puts_(chance(9, 10) ? "true," : "false,");
	uint32_t g = below(10);
	puts_(g < 2 ? "TRUE," : g < 8 ? "FALSE," : ",");
	unsigned r = 10 + below(41);
	putf("%u.%u,", r / 10, r % 10);

	uint32_t k = below(100);
	if (k < 60) {
		/* no notes */
	} else if (k < 88) {
		unsigned nw = 2 + below(8), o = 0;
		for (unsigned i = 0; i < nw; i++)
			o += (unsigned)snprintf(buf + o, sizeof buf - o, "%s%s", i ? " " : "", PICK(words));
		field(buf);
	} else if (k < 98) {
		field(PICK(quips));
	} else {
		field(PICK(multiline));
	}
	put(",", 1);

	unsigned nt = below(4), o = 0;
	const char *sep = chance(1, 4) ? "," : ";";
	buf[0] = 0;
	for (unsigned i = 0; i < nt; i++)
		o += (unsigned)snprintf(buf + o, sizeof buf - o, "%s%s", i ? sep : "", PICK(tags));
	field(buf);
	put("\n", 1);
}

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"Usage: %s [--seed N] [--size MB | --rows N] [-o FILE]\n", prog);
	exit(status);
}

int main(int argc, char **argv)
{
	uint64_t seed = 1;
	double size_mb = 300;
	int size_given = 0;
	uint64_t rows = 0; /* 0: no limit */
	const char *out = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *end;
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			usage(0);
		if (i + 1 >= argc || (strcmp(a, "--seed") && strcmp(a, "--size") && strcmp(a, "-o") &&
				      strcmp(a, "--rows")))
			usage(2);
		const char *v = argv[++i];
		errno = 0;
		if (!strcmp(a, "--rows")) {
			rows = strtoull(v, &end, 10);
			if (errno || end == v || *end || *v == '-' || !rows) {
				fprintf(stderr, "%s: bad --rows '%s'\n", prog, v);
				return 2;
			}
		} else if (!strcmp(a, "--seed")) {
			seed = strtoull(v, &end, 10);
			if (errno || end == v || *end || *v == '-') {
				fprintf(stderr, "%s: bad --seed '%s'\n", prog, v);
				return 2;
			}
		} else if (!strcmp(a, "--size")) {
			size_mb = strtod(v, &end);
			if (errno || end == v || *end || !(size_mb > 0) || size_mb > 1e7) {
				fprintf(stderr, "%s: bad --size '%s'\n", prog, v);
				return 2;
			}
			size_given = 1;
		} else {
			out = v;
		}
	}

	ofp = stdout;
	if (out && strcmp(out, "-")) {
		ofp = fopen(out, "wb");
		if (!ofp)
			die(out);
		oname = out;
	}

	rng_state = seed;
	const uint64_t target = rows && !size_given ? UINT64_MAX : (uint64_t)(size_mb * MIB);
	const int64_t start = days_from_civil(2024, 1, 1) * 86400, span = 366 * 86400;

	puts_("order_id,customer_id,created_at,customer_name,email,country,city,quantity,"
	      "unit_price,discount,total,paid,gift_wrap,rating,notes,tags\n");
	for (uint64_t n = 0; written < target && (!rows || n < rows); n++) {
		/* time grows through the file (a year), with jitter */
		double done = rows ? (double)n / (double)rows : (double)written / (double)target;
		int64_t t = (int64_t)(done * (double)span) + (int64_t)below(3601) - 1800;
		row(n, start + (t < 0 ? 0 : t >= span ? span - 1 : t));
	}
	flush();
	if (fflush(ofp) || (ofp != stdout && fclose(ofp)))
		die(oname);
	return 0;
}
