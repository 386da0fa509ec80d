/*
 * gen-diff — deterministic SOURCE and TARGET NDJSON datasets for ts-diff's
 * benchmark and oracle tests: a migration where the target lost a few
 * records, gained a few and changed a few, both sides in their own order.
 *
 *   gen-diff [--records N] [--seed S] [--changed PCT] [--missing PCT]
 *            [--extra PCT] [--dups PCT] [--no-shuffle] [--truth FILE]
 *            -o SOURCE -t TARGET
 *
 * --records  source records (default 1,000,000); --seed  PRNG seed (default
 * 1); --changed / --missing / --extra  percentages of N (defaults 0.5, 0.1,
 * 0.1): exactly round(N * PCT / 100) source records are changed in the
 * target, as many are left out of it, as many new ids are added to it;
 * --dups PCT (default 0)  as many keys are duplicated: a third of them twice
 * on both sides, a third twice in the source only, a third twice in the
 * target only (the copies of a record are identical, so however a tool
 * pairs them the counts are the same); --no-shuffle  source in id order,
 * target in source order with the extra records last (each side is shuffled
 * on its own otherwise).
 *
 * A record (about 330 bytes):
 *   {"id":1000003,"name":"José Müller","email":"jose.muller42@example.com",
 *    "country":"DE","status":"active","amount":1234.50,"rate":0.0125,
 *    "qty":17,"active":true,"note":null,"created":"2024-05-03T12:34:56Z",
 *    "address":{"street":"12 Rue de la Paix","city":"Lyon","zip":"69001",
 *    "geo":{"lat":45.7578,"lon":-4.8320}}}
 * ids are distinct integers (1,000,000 + 4i + 0..2 for source record i; an
 * extra record takes an id 1,000,000 + 4j + 3); names hold UTF-8 and a few
 * \u escapes; notes are null in 20% of the records and sometimes hold an
 * escaped quote or tab; amounts are written with two decimals (12.50),
 * rates and coordinates with four.
 *
 * A changed record differs in one or two of these fields (each draw really
 * changes the value, by meaning as well as by bytes): name, email, status,
 * amount, rate, qty, active, note (null to text, text to null or other
 * text), address.city, address.zip, address.geo.lat.  Keys are in the same
 * order and numbers written the same way on both sides, so byte-level tools
 * (sort | comm) see exactly the differences a by-meaning comparison sees.
 *
 * The truth goes to standard error (or --truth FILE) as one JSON line named
 * like ts-diff's report: source, target (records per side), matched,
 * missing, extra, changed (record pairs, a duplicated key counting each of
 * its pairs), duplicateKeys {source, target} (keys that occur more than once
 * on that side), fields {PATH: {mismatches, nullDiffs}} (changed pairs in
 * which PATH differs; of those, the ones where one side is null).
 *
 * The output depends only on the options: own PRNG (scripts/prng.h), no
 * clock, no locale.  Every record is a function of the seed and its id, so
 * the sides are written without holding records in memory (the orders take
 * 4 bytes a record).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prng.h"

static const char *prog = "gen-diff";

#define ID0 1000000u

/* ---- errors and arguments ----------------------------------------------- */

static void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
	exit(2);
}

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: %s [--records N] [--seed S] [--changed PCT] [--missing PCT] [--extra PCT]\n"
		"       [--dups PCT] [--no-shuffle] [--truth FILE] -o SOURCE -t TARGET\n",
		prog);
	exit(status);
}

/* a percentage of n, rounded to the nearest record */
static uint32_t pct_arg(const char *opt, const char *v, uint32_t n)
{
	char *end;
	errno = 0;
	double p = strtod(v, &end);
	if (errno || end == v || *end || !(p >= 0) || p > 100) {
		fprintf(stderr, "%s: bad %s '%s' (a percentage)\n", prog, opt, v);
		exit(2);
	}
	return (uint32_t)(p / 100 * n + 0.5);
}

/* ---- PRNG streams --------------------------------------------------------
 * prng.h has one global state; each use below sets it from a hash of the
 * seed, a stream number and an index, so a record is the same whatever else
 * is drawn. */

enum { S_REC = 1, S_CHANGE, S_ID, S_PICK, S_EXTRA, S_SRC_ORDER, S_TGT_ORDER };

static uint64_t seed;

static void stream(uint64_t which, uint64_t index)
{
	rng_state = seed * 0x9e3779b97f4a7c15ULL ^ which << 56 ^ index;
	rng_state = rnd() ^ index * 0xd1b54a32d192ed03ULL;
	(void)rnd();
}

/* a different value in [0, n) than old (n >= 2) */
static uint32_t other(uint32_t old, uint32_t n)
{
	return (old + 1 + below(n - 1)) % n;
}

/* ---- the world ---------------------------------------------------------- */

#define N_OF(a) ((uint32_t)(sizeof(a) / sizeof *(a)))

/* display name, the email's ASCII form */
static const char *const firsts[][2] = {
	{"José", "jose"}, {"Anna", "anna"}, {"Zoë", "zoe"}, {"Li", "li"},
	{"Mohammed", "mohammed"}, {"Olivia", "olivia"}, {"Sven", "sven"},
	{"Ana\\u00efs", "anais"}, {"Kenji", "kenji"}, {"Fatima", "fatima"},
	{"Lucas", "lucas"}, {"Priya", "priya"}, {"Chloé", "chloe"},
	{"Mateo", "mateo"}, {"Ingrid", "ingrid"}, {"Noah", "noah"},
};
static const char *const lasts[][2] = {
	{"Müller", "muller"}, {"García", "garcia"}, {"O'Brien", "obrien"},
	{"Nguyen", "nguyen"}, {"Smith", "smith"}, {"Kowalski", "kowalski"},
	{"Rossi", "rossi"}, {"Dubois", "dubois"}, {"Yamamoto", "yamamoto"},
	{"Andersson", "andersson"}, {"\\u674e", "li"}, {"Okafor", "okafor"},
	{"Silva", "silva"}, {"Novák", "novak"}, {"Haddad", "haddad"},
	{"van der Berg", "vanderberg"}, {"Ivanova", "ivanova"}, {"Brown", "brown"},
};
static const char *const domains[] = {
	"example.com", "mail.example.org", "corp.example.net", "example.co.uk",
};
static const char *const countries[] = {
	"DE", "FR", "US", "GB", "JP", "BR", "IN", "NG", "SE", "PL", "IT", "ES",
};
static const char *const statuses[] = {"active", "pending", "suspended", "closed"};
static const char *const notes[] = {
	"", "VIP", "called twice", "prefers email", "said \\\"call me later\\\"",
	"address\\tverified", "migrated from legacy CRM", "caf\\u00e9 owner",
	"duplicate of 1000417?", "do not contact", "payment plan", "müll",
};
static const char *const streets[] = {
	"Main St", "Rue de la Paix", "Hauptstraße", "High Street", "Avenida Paulista",
	"Nowy Świat", "Via Roma", "Calle Mayor", "Sveavägen", "Elm Road",
};
/* city, its rough latitude and longitude (1e-4 degrees) */
static const struct {
	const char *name;
	int32_t lat, lon;
} cities[] = {
	{"Lyon", 457578, 48320}, {"Berlin", 525200, 134050}, {"Austin", 302672, -977431},
	{"Leeds", 538008, -15491}, {"Osaka", 346937, 1355023}, {"São Paulo", -235505, -466333},
	{"Pune", 185204, 738567}, {"Lagos", 65244, 33792}, {"Malmö", 556050, 130038},
	{"Kraków", 500647, 199450}, {"Torino", 450703, 76869}, {"Sevilla", 373891, -59845},
	{"Zürich", 473769, 85417}, {"Québec", 468139, -712080},
};

/* ---- a record ----------------------------------------------------------- */

enum field {
	F_NAME, F_EMAIL, F_STATUS, F_AMOUNT, F_RATE, F_QTY, F_ACTIVE, F_NOTE,
	F_CITY, F_ZIP, F_LAT, NFIELDS
};
static const char *const field_path[NFIELDS] = {
	"name", "email", "status", "amount", "rate", "qty", "active", "note",
	"address.city", "address.zip", "address.geo.lat",
};

struct rec {
	uint64_t id;
	uint32_t first, last, mailno, domain, country, status;
	uint32_t mail_last; /* the email's last name: changing the name keeps it */
	uint64_t cents;     /* amount * 100 */
	uint32_t rate;      /* rate * 10000, < 10000 */
	uint32_t qty;
	uint32_t active;
	int32_t note;       /* -1: null */
	uint32_t created;   /* seconds after 2024-01-01T00:00:00Z */
	uint32_t houseno, street, city, zip;
	int32_t lat, lon;   /* 1e-4 degrees */
};

static void make_rec(struct rec *r, uint64_t id)
{
	stream(S_REC, id);
	r->id = id;
	r->first = below(N_OF(firsts));
	r->last = below(N_OF(lasts));
	r->mail_last = r->last;
	r->mailno = below(1000);
	r->domain = below(N_OF(domains));
	r->country = below(N_OF(countries));
	r->status = below(10) < 7 ? 0 : 1 + below(N_OF(statuses) - 1);
	r->cents = below(10) ? below(2000000) : (uint64_t)below(100000) * 100;
	r->rate = 1 + below(2500);
	r->qty = below(10) ? below(50) : below(5000);
	r->active = below(100) < 85;
	r->note = below(100) < 20 ? -1 : (int32_t)below(N_OF(notes));
	r->created = below(366 * 86400);
	r->houseno = 1 + below(250);
	r->street = below(N_OF(streets));
	r->city = below(N_OF(cities));
	r->zip = 10000 + below(90000);
	r->lat = cities[r->city].lat + (int32_t)below(2001) - 1000;
	r->lon = cities[r->city].lon + (int32_t)below(2001) - 1000;
}

/* Change one or two fields of r, the same way every time for its id; the
 * fields changed are set in mask (bit per enum field), null differences in
 * nullmask. */
static void change_rec(struct rec *r, uint32_t *mask, uint32_t *nullmask)
{
	stream(S_CHANGE, r->id);
	uint32_t n = 1 + below(2);
	*mask = *nullmask = 0;
	while (n) {
		enum field f = (enum field)below(NFIELDS);
		if (*mask & 1u << f)
			continue;
		*mask |= 1u << f;
		n--;
		switch (f) {
		case F_NAME:
			r->last = other(r->last, N_OF(lasts));
			/* "Li \u674e" and "Li Li" are different names; no two
			 * display names in lasts are equal by meaning */
			break;
		case F_EMAIL:
			r->mailno = other(r->mailno, 1000);
			break;
		case F_STATUS:
			r->status = other(r->status, N_OF(statuses));
			break;
		case F_AMOUNT:
			r->cents = other((uint32_t)(r->cents % 2000000), 2000000);
			break;
		case F_RATE:
			r->rate = 1 + other(r->rate - 1, 2500);
			break;
		case F_QTY:
			r->qty = other(r->qty % 5000, 5000);
			break;
		case F_ACTIVE:
			r->active = !r->active;
			break;
		case F_NOTE:
			if (r->note < 0) {
				r->note = (int32_t)below(N_OF(notes));
				*nullmask |= 1u << f;
			} else if (below(2)) {
				r->note = -1;
				*nullmask |= 1u << f;
			} else {
				r->note = (int32_t)other((uint32_t)r->note, N_OF(notes));
			}
			break;
		case F_CITY:
			r->city = other(r->city, N_OF(cities));
			break;
		case F_ZIP:
			r->zip = 10000 + other(r->zip - 10000, 90000);
			break;
		case F_LAT:
			r->lat += (int32_t)(1 + below(500)) * (below(2) ? 1 : -1);
			break;
		case NFIELDS:
			break;
		}
	}
}

/* ---- writing ------------------------------------------------------------ */

struct out {
	FILE *fp;
	const char *name;
	char line[1024];
	size_t n;
};

static void ap(struct out *o, const char *s)
{
	size_t k = strlen(s);
	memcpy(o->line + o->n, s, k);
	o->n += k;
}

static void apu(struct out *o, uint64_t v, int width)
{
	char tmp[24];
	int i = 24;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v || 24 - i < width);
	memcpy(o->line + o->n, tmp + i, (size_t)(24 - i));
	o->n += (size_t)(24 - i);
}

/* v / 10^places, written with exactly that many decimals */
static void apfix(struct out *o, int64_t v, int places)
{
	uint64_t p = 1, a = v < 0 ? (uint64_t)-v : (uint64_t)v;
	for (int i = 0; i < places; i++)
		p *= 10;
	if (v < 0)
		ap(o, "-");
	apu(o, a / p, 1);
	ap(o, ".");
	apu(o, a % p, places);
}

static void write_rec(struct out *o, const struct rec *r)
{
	o->n = 0;
	ap(o, "{\"id\":");
	apu(o, r->id, 1);
	ap(o, ",\"name\":\"");
	ap(o, firsts[r->first][0]);
	ap(o, " ");
	ap(o, lasts[r->last][0]);
	ap(o, "\",\"email\":\"");
	ap(o, firsts[r->first][1]);
	ap(o, ".");
	ap(o, lasts[r->mail_last][1]);
	apu(o, r->mailno, 1);
	ap(o, "@");
	ap(o, domains[r->domain]);
	ap(o, "\",\"country\":\"");
	ap(o, countries[r->country]);
	ap(o, "\",\"status\":\"");
	ap(o, statuses[r->status]);
	ap(o, "\",\"amount\":");
	apfix(o, (int64_t)r->cents, 2);
	ap(o, ",\"rate\":");
	apfix(o, r->rate, 4);
	ap(o, ",\"qty\":");
	apu(o, r->qty, 1);
	ap(o, r->active ? ",\"active\":true" : ",\"active\":false");
	if (r->note < 0) {
		ap(o, ",\"note\":null");
	} else {
		ap(o, ",\"note\":\"");
		ap(o, notes[r->note]);
		ap(o, "\"");
	}
	uint32_t day = r->created / 86400, s = r->created % 86400;
	/* day of 2024 (a leap year) to month and day */
	static const uint32_t mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	uint32_t m = 0;
	while (day >= mdays[m]) {
		day -= mdays[m];
		m++;
	}
	ap(o, ",\"created\":\"2024-");
	apu(o, m + 1, 2);
	ap(o, "-");
	apu(o, day + 1, 2);
	ap(o, "T");
	apu(o, s / 3600, 2);
	ap(o, ":");
	apu(o, s / 60 % 60, 2);
	ap(o, ":");
	apu(o, s % 60, 2);
	ap(o, "Z\",\"address\":{\"street\":\"");
	apu(o, r->houseno, 1);
	ap(o, " ");
	ap(o, streets[r->street]);
	ap(o, "\",\"city\":\"");
	ap(o, cities[r->city].name);
	ap(o, "\",\"zip\":\"");
	apu(o, r->zip, 1);
	ap(o, "\",\"geo\":{\"lat\":");
	apfix(o, r->lat, 4);
	ap(o, ",\"lon\":");
	apfix(o, r->lon, 4);
	ap(o, "}}}\n");
	if (fwrite(o->line, 1, o->n, o->fp) != o->n)
		die(o->name);
}

static void open_out(struct out *o, const char *path)
{
	o->name = path;
	o->fp = fopen(path, "wb");
	if (!o->fp)
		die(path);
	static char bufs[2][1 << 20];
	static int used;
	setvbuf(o->fp, bufs[used++ & 1], _IOFBF, sizeof bufs[0]);
}

static void close_out(struct out *o)
{
	if (fclose(o->fp))
		die(o->name);
}

/* ---- the datasets ------------------------------------------------------- */

/* what happens to source record i */
enum fate { SAME, CHANGED, MISSING };
enum dup { D_NONE, D_BOTH, D_SRC, D_TGT };

static uint8_t *fate, *dupkind;
static uint32_t N;

static uint64_t src_id(uint32_t i)
{
	stream(S_ID, i);
	return ID0 + 4 * (uint64_t)i + below(3);
}

static uint32_t *extra_slot; /* extra record k has id ID0 + 4 * extra_slot[k] + 3 */

/* entry v of an order: source record v (v < N) or extra record v - N */
static void write_entry(struct out *o, uint32_t v, int target)
{
	struct rec r;
	if (v >= N) {
		make_rec(&r, ID0 + 4 * (uint64_t)extra_slot[v - N] + 3);
	} else {
		make_rec(&r, src_id(v));
		if (target && fate[v] == CHANGED) {
			uint32_t m, nm;
			change_rec(&r, &m, &nm);
		}
	}
	write_rec(o, &r);
}

static void shuffle(uint32_t *a, size_t n, uint64_t which)
{
	stream(which, 0);
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(((rnd() >> 11) * (double)i) / 9007199254740992.0);
		uint32_t t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}

/* perm: a permutation of 0..N-1 whose first k entries are uniformly drawn */
static void pick(uint32_t *perm, uint32_t k, uint64_t which)
{
	for (uint32_t i = 0; i < N; i++)
		perm[i] = i;
	stream(which, 0);
	for (uint32_t i = 0; i < k; i++) {
		uint32_t j = i + (uint32_t)(((rnd() >> 11) * (double)(N - i)) / 9007199254740992.0);
		uint32_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

int main(int argc, char **argv)
{
	const char *src_path = NULL, *tgt_path = NULL, *truth_path = NULL;
	const char *pc = "0.5", *pm = "0.1", *pe = "0.1", *pd = "0";
	int no_shuffle = 0;
	uint64_t records = 1000000;
	seed = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *end;
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			usage(0);
		if (!strcmp(a, "--no-shuffle")) {
			no_shuffle = 1;
			continue;
		}
		if (i + 1 >= argc)
			usage(2);
		const char *v = argv[++i];
		errno = 0;
		if (!strcmp(a, "--records") || !strcmp(a, "--seed")) {
			uint64_t x = strtoull(v, &end, 10);
			if (errno || end == v || *end || *v == '-' ||
			    (a[2] == 'r' && (x == 0 || x > 400000000))) {
				fprintf(stderr, "%s: bad %s '%s'\n", prog, a, v);
				return 2;
			}
			*(a[2] == 'r' ? &records : &seed) = x;
		} else if (!strcmp(a, "--changed")) {
			pc = v;
		} else if (!strcmp(a, "--missing")) {
			pm = v;
		} else if (!strcmp(a, "--extra")) {
			pe = v;
		} else if (!strcmp(a, "--dups")) {
			pd = v;
		} else if (!strcmp(a, "-o")) {
			src_path = v;
		} else if (!strcmp(a, "-t")) {
			tgt_path = v;
		} else if (!strcmp(a, "--truth")) {
			truth_path = v;
		} else {
			usage(2);
		}
	}
	if (!src_path || !tgt_path)
		usage(2);
	N = (uint32_t)records;
	uint32_t C = pct_arg("--changed", pc, N), M = pct_arg("--missing", pm, N);
	uint32_t E = pct_arg("--extra", pe, N), D = pct_arg("--dups", pd, N);
	uint32_t Dc = D / 4 < C ? D / 4 : C; /* duplicated keys among the changed */
	if ((uint64_t)C + M + (D - Dc) > N || E > N) {
		fprintf(stderr, "%s: --changed + --missing + --dups or --extra exceed 100%%\n", prog);
		return 2;
	}

	/* A permutation of the source records decides their fates: the first
	 * C are changed, the next M missing; duplicated keys are taken from
	 * the last Dc changed and the unchanged after the missing.  The extra
	 * records' ids go into the slots of the first E of another one. */
	uint32_t *perm = xmalloc((size_t)N * sizeof *perm);
	pick(perm, C + M + (D - Dc), S_PICK);
	fate = xmalloc(N);
	dupkind = xmalloc(N);
	memset(fate, SAME, N);
	memset(dupkind, D_NONE, N);
	for (uint32_t k = 0; k < C; k++)
		fate[perm[k]] = CHANGED;
	for (uint32_t k = C; k < C + M; k++)
		fate[perm[k]] = MISSING;
	for (uint32_t k = 0; k < D; k++) {
		uint32_t i = k < Dc ? perm[C - 1 - k] : perm[C + M + (k - Dc)];
		dupkind[i] = (uint8_t)(D_BOTH + k % 3);
	}
	pick(perm, E, S_EXTRA);
	extra_slot = xmalloc((size_t)E * sizeof *extra_slot + 1);
	memcpy(extra_slot, perm, (size_t)E * sizeof *extra_slot);
	free(perm);

	/* the truth, and the two orders */
	uint64_t S = 0, T = 0, matched = 0, missing = 0, extra = E, changed = 0;
	uint64_t dks = 0, dkt = 0, mism[NFIELDS] = {0}, nulld[NFIELDS] = {0};
	for (uint32_t i = 0; i < N; i++) {
		uint32_t cs = 1 + (dupkind[i] == D_BOTH || dupkind[i] == D_SRC);
		uint32_t ct = fate[i] == MISSING ? 0 : 1 + (dupkind[i] == D_BOTH || dupkind[i] == D_TGT);
		S += cs;
		T += ct;
		dks += cs > 1;
		dkt += ct > 1;
		uint32_t pairs = cs < ct ? cs : ct;
		missing += cs - pairs;
		extra += ct - pairs;
		if (fate[i] == CHANGED) {
			struct rec r;
			uint32_t m, nm;
			make_rec(&r, src_id(i));
			change_rec(&r, &m, &nm);
			changed += pairs;
			for (int f = 0; f < NFIELDS; f++) {
				mism[f] += (m >> f & 1) * pairs;
				nulld[f] += (nm >> f & 1) * pairs;
			}
		} else {
			matched += pairs;
		}
	}
	T += E;
	uint32_t *so = xmalloc((size_t)S * sizeof *so), *to = xmalloc((size_t)T * sizeof *to);
	size_t ns = 0, nt = 0;
	for (uint32_t i = 0; i < N; i++) {
		so[ns++] = i;
		if (dupkind[i] == D_BOTH || dupkind[i] == D_SRC)
			so[ns++] = i;
		if (fate[i] != MISSING) {
			to[nt++] = i;
			if (dupkind[i] == D_BOTH || dupkind[i] == D_TGT)
				to[nt++] = i;
		}
	}
	for (uint32_t k = 0; k < E; k++)
		to[nt++] = N + k;
	if (!no_shuffle) {
		shuffle(so, ns, S_SRC_ORDER);
		shuffle(to, nt, S_TGT_ORDER);
	}

	struct out src, tgt;
	open_out(&src, src_path);
	for (size_t k = 0; k < ns; k++)
		write_entry(&src, so[k], 0);
	close_out(&src);
	open_out(&tgt, tgt_path);
	for (size_t k = 0; k < nt; k++)
		write_entry(&tgt, to[k], 1);
	close_out(&tgt);

	FILE *tf = stderr;
	if (truth_path && !(tf = fopen(truth_path, "w")))
		die(truth_path);
	fprintf(tf,
		"{\"source\":%llu,\"target\":%llu,\"matched\":%llu,\"missing\":%llu,"
		"\"extra\":%llu,\"changed\":%llu,\"duplicateKeys\":{\"source\":%llu,\"target\":%llu},"
		"\"fields\":{",
		(unsigned long long)S, (unsigned long long)T, (unsigned long long)matched,
		(unsigned long long)missing, (unsigned long long)extra, (unsigned long long)changed,
		(unsigned long long)dks, (unsigned long long)dkt);
	int first = 1;
	for (int f = 0; f < NFIELDS; f++) {
		if (!mism[f])
			continue;
		fprintf(tf, "%s\"%s\":{\"mismatches\":%llu,\"nullDiffs\":%llu}", first ? "" : ",",
			field_path[f], (unsigned long long)mism[f], (unsigned long long)nulld[f]);
		first = 0;
	}
	fprintf(tf, "}}\n");
	if (tf != stderr && fclose(tf))
		die(truth_path);
	free(so);
	free(to);
	free(fate);
	free(dupkind);
	free(extra_slot);
	return 0;
}
