/* test_opt.c — lib/opt.h: one option table for parsing and --help. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "opt.h"

enum { OPT_LEVEL = 300, OPT_DRY_RUN };

static const struct ts_option opts[] = {
	{"quiet", 'q', NULL, "say nothing"},
	{"output", 'o', "FILE", "write to FILE"},
	{"level", OPT_LEVEL, "N", "compression level, 1 to 9"},
	{"dry-run", OPT_DRY_RUN, NULL,
	 "show what would be done without doing it; this help line is long "
	 "enough that it has to wrap onto a second line"},
	{0},
};

static const struct ts_cmd cmd = {
	"ts-test", "[OPTION]... [FILE]...", "Test the option parser.", opts,
	"Examples:\n  ts-test -q in.json\n", NULL,
};

/* What set() saw. */
struct seen {
	int n;
	int id[16];
	char arg[16][64];
};

static int set(void *ud, int id, const char *arg)
{
	struct seen *s = ud;

	if (s->n < 16) {
		s->id[s->n] = id;
		snprintf(s->arg[s->n], sizeof(s->arg[0]), "%s", arg ? arg : "(null)");
		s->n++;
	}
	if (id == OPT_LEVEL && (strlen(arg) != 1 || arg[0] < '1' || arg[0] > '9'))
		return ts_usage_error(&cmd, "invalid --level '%s'", arg) == TS_OPT_USAGE ? -1 : 0;
	return 0;
}

static char dir[4096];

/* One parse: copies args (getopt permutes argv), captures stdout and stderr
 * into *out and *err (malloc'd) when asked, and copies the operands. */
struct result {
	int rc;
	struct seen seen;
	struct ts_run run;
	int nops;
	char ops[8][64];
	char *argv[32]; /* kept until done(): --errors keeps its argument */
	int argc;
	char *out, *err;
};

static char *slurp(const char *path)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	char *p = NULL;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && (p = malloc((size_t)st.st_size + 1)) != NULL) {
		ssize_t r = read(fd, p, (size_t)st.st_size);
		p[r > 0 ? r : 0] = '\0';
	}
	close(fd);
	return p;
}

static int redirect(int fd, const char *path)
{
	int saved = dup(fd), t = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	dup2(t, fd);
	close(t);
	return saved;
}

static void restore(int fd, int saved)
{
	dup2(saved, fd);
	close(saved);
}

static void parse(struct result *r, const char *const *args)
{
	char **argv = r->argv;
	char outp[8192], errp[8192];
	int argc = 0, s1, s2;

	memset(r, 0, sizeof(*r));
	argv[argc++] = strdup("ts-test");
	while (*args && argc < 31)
		argv[argc++] = strdup(*args++);
	argv[argc] = NULL;
	ts_run_init(&r->run, "ts-test");
	snprintf(outp, sizeof(outp), "%s/stdout", dir);
	snprintf(errp, sizeof(errp), "%s/stderr", dir);
	fflush(stdout);
	fflush(stderr);
	s1 = redirect(1, outp);
	s2 = redirect(2, errp);
	r->rc = ts_opt_parse(&cmd, &r->run, argc, argv, set, &r->seen);
	fflush(stdout);
	fflush(stderr);
	restore(1, s1);
	restore(2, s2);
	r->out = slurp(outp);
	r->err = slurp(errp);
	for (int i = r->rc; r->rc > 0 && i < argc && r->nops < 8; i++)
		snprintf(r->ops[r->nops++], sizeof(r->ops[0]), "%s", argv[i]);
	r->argc = argc;
}

static void done(struct result *r)
{
	if (r->run.errs.fd > 2)
		close(r->run.errs.fd);
	ts_out_release(&r->run.out);
	ts_out_release(&r->run.errs);
	free(r->out);
	free(r->err);
	for (int i = 0; i < r->argc; i++)
		free(r->argv[i]);
}

static void test_options(void)
{
	struct result r;

	/* nothing at all */
	parse(&r, (const char *const[]){NULL});
	CHECK(r.rc == 1);
	CHECK(r.seen.n == 0 && r.nops == 0);
	CHECK_STR(r.out, "");
	CHECK_STR(r.err, "");
	done(&r);

	/* long and short forms, arguments attached or separate */
	parse(&r, (const char *const[]){"-q", "--output", "a.json", "--level=3", "-ob.json",
					 "-o", "c.json", "--output=d.json", "--dry-run", "--quiet",
					 "--level", "9", NULL});
	CHECK(r.rc == 13);
	if (CHECK(r.seen.n == 9)) {
		CHECK(r.seen.id[0] == 'q');
		CHECK_STR(r.seen.arg[0], "(null)");
		CHECK(r.seen.id[1] == 'o');
		CHECK_STR(r.seen.arg[1], "a.json");
		CHECK(r.seen.id[2] == OPT_LEVEL);
		CHECK_STR(r.seen.arg[2], "3");
		CHECK(r.seen.id[3] == 'o');
		CHECK_STR(r.seen.arg[3], "b.json");
		CHECK(r.seen.id[4] == 'o');
		CHECK_STR(r.seen.arg[4], "c.json");
		CHECK(r.seen.id[5] == 'o');
		CHECK_STR(r.seen.arg[5], "d.json");
		CHECK(r.seen.id[6] == OPT_DRY_RUN);
		CHECK(r.seen.id[7] == 'q');
		CHECK(r.seen.id[8] == OPT_LEVEL);
		CHECK_STR(r.seen.arg[8], "9");
	}
	CHECK(r.nops == 0);
	CHECK_STR(r.err, "");
	done(&r);

	/* a cluster of short options, the last taking the next word */
	parse(&r, (const char *const[]){"-qqo", "out", NULL});
	CHECK(r.rc == 3);
	CHECK(r.seen.n == 3 && r.seen.id[0] == 'q' && r.seen.id[1] == 'q' &&
	      r.seen.id[2] == 'o');
	CHECK_STR(r.seen.arg[2], "out");
	done(&r);

	/* an argument that looks like an option is still the argument */
	parse(&r, (const char *const[]){"-o", "-q", "--output", "--level", NULL});
	CHECK(r.rc == 5);
	CHECK(r.seen.n == 2);
	CHECK_STR(r.seen.arg[0], "-q");
	CHECK_STR(r.seen.arg[1], "--level");
	done(&r);
}

static void test_operands(void)
{
	struct result r;

	/* operands in order, wherever they are; "--" ends the options; "-"
	 * is an operand */
	parse(&r, (const char *const[]){"one", "-q", "two", "-", "--level", "2", "three", "--",
					 "-o", "--four", NULL});
	CHECK(r.rc > 0);
	CHECK(r.seen.n == 2 && r.seen.id[0] == 'q' && r.seen.id[1] == OPT_LEVEL);
	if (CHECK(r.nops == 6)) {
		CHECK_STR(r.ops[0], "one");
		CHECK_STR(r.ops[1], "two");
		CHECK_STR(r.ops[2], "-");
		CHECK_STR(r.ops[3], "three");
		CHECK_STR(r.ops[4], "-o");
		CHECK_STR(r.ops[5], "--four");
	}
	done(&r);

	parse(&r, (const char *const[]){"a.json", "b.json", NULL});
	CHECK(r.rc == 1 && r.nops == 2);
	CHECK_STR(r.ops[0], "a.json");
	CHECK_STR(r.ops[1], "b.json");
	done(&r);
}

static void test_common(void)
{
	struct result r;
	char errs[8192];
	struct stat st;

	snprintf(errs, sizeof(errs), "%s/errors.ndjson", dir);
	parse(&r, (const char *const[]){"--errors", errs, "--stats", "--max-record", "1M",
					 "--max-depth", "10", "x", NULL});
	CHECK(r.rc == 8);
	CHECK(r.seen.n == 0); /* common options are not the program's */
	CHECK(r.run.errs.fd > 2);
	CHECK_STR(r.run.errors_path, errs);
	CHECK(stat(errs, &st) == 0 && S_ISREG(st.st_mode));
	CHECK(r.run.want_stats == 1);
	CHECK(r.run.max_record == 1048576);
	CHECK(r.run.max_depth == 10);
	CHECK(r.nops == 1 && !strcmp(r.ops[0], "x"));
	done(&r);

	parse(&r, (const char *const[]){"--max-record=64M", "--max-depth=512", NULL});
	CHECK(r.rc == 3);
	CHECK(r.run.max_record == (size_t)64 << 20);
	CHECK(r.run.max_depth == 512);
	CHECK(r.run.want_stats == 0);
	CHECK(r.run.errs.fd == 2);
	done(&r);

	static const char *const bad[][3] = {
		{"--max-record", "0", NULL},   {"--max-record", "1.5M", NULL},
		{"--max-record", "2T", NULL},  {"--max-depth", "0", NULL},
		{"--max-depth", "513", NULL},  {"--max-depth", "-1", NULL},
		{"--max-depth", "ten", NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse(&r, bad[i]);
		CHECK(r.rc == TS_OPT_USAGE);
		CHECK(r.err && strstr(r.err, bad[i][1]) != NULL);
		CHECK(r.err && strstr(r.err, "Try 'ts-test --help'") != NULL);
		CHECK(r.run.max_record == 0 && r.run.max_depth == 0);
		done(&r);
	}

	/* --errors into a directory that does not exist: reported, usage */
	snprintf(errs, sizeof(errs), "%s/no/such/dir", dir);
	parse(&r, (const char *const[]){"--errors", errs, NULL});
	CHECK(r.rc == TS_OPT_USAGE);
	CHECK(r.err && strstr(r.err, "cannot open error output") != NULL);
	CHECK(r.run.errs.fd == 2);
	done(&r);
}

static void test_usage(void)
{
	struct result r;

	parse(&r, (const char *const[]){"--bogus", NULL});
	CHECK(r.rc == TS_OPT_USAGE);
	CHECK(r.err && strstr(r.err, "ts-test: unknown option '--bogus'\n") != NULL);
	CHECK(r.err && strstr(r.err, "Try 'ts-test --help' for more information.") != NULL);
	CHECK_STR(r.out, "");
	done(&r);

	parse(&r, (const char *const[]){"-q", "-z", "-o", "x", NULL});
	CHECK(r.rc == TS_OPT_USAGE);
	CHECK(r.err && strstr(r.err, "unknown option '-z'") != NULL);
	CHECK(r.seen.n == 1); /* parsing stops at the error */
	done(&r);

	/* missing arguments */
	parse(&r, (const char *const[]){"-o", NULL});
	CHECK(r.rc == TS_OPT_USAGE);
	CHECK(r.err && strstr(r.err, "option '-o' needs an argument") != NULL);
	CHECK(r.seen.n == 0);
	done(&r);

	parse(&r, (const char *const[]){"-q", "--output", NULL});
	CHECK(r.rc == TS_OPT_USAGE);
	CHECK(r.err && strstr(r.err, "option '--output' needs an argument") != NULL);
	done(&r);

	parse(&r, (const char *const[]){"--errors", NULL});
	CHECK(r.rc == TS_OPT_USAGE);
	CHECK(r.err && strstr(r.err, "'--errors' needs an argument") != NULL);
	done(&r);

	parse(&r, (const char *const[]){"--level", NULL});
	CHECK(r.rc == TS_OPT_USAGE);
	done(&r);

	/* an argument to an option that takes none: named in the message */
	parse(&r, (const char *const[]){"--stats=1", NULL});
	CHECK(r.rc == TS_OPT_USAGE);
	CHECK(r.err && strstr(r.err, "option '--stats' takes no argument") != NULL);
	done(&r);

	parse(&r, (const char *const[]){"--quiet=yes", NULL});
	CHECK(r.rc == TS_OPT_USAGE);
	CHECK(r.err && strstr(r.err, "option '--quiet' takes no argument") != NULL);
	CHECK(r.seen.n == 0);
	done(&r);

	/* set() says no */
	parse(&r, (const char *const[]){"--level", "0", "x", NULL});
	CHECK(r.rc == TS_OPT_USAGE);
	CHECK(r.seen.n == 1);
	CHECK(r.err && strstr(r.err, "invalid --level '0'") != NULL);
	done(&r);

	/* an error in the middle of a cluster, then a fresh parse: nothing of
	 * the first argv is left over */
	parse(&r, (const char *const[]){"-zq", NULL});
	CHECK(r.rc == TS_OPT_USAGE);
	CHECK(r.seen.n == 0);
	done(&r);
	parse(&r, (const char *const[]){"file", NULL});
	CHECK(r.rc == 1);
	CHECK(r.seen.n == 0);
	CHECK(r.nops == 1);
	done(&r);
	parse(&r, (const char *const[]){"-hq", NULL});
	CHECK(r.rc == TS_OPT_EXIT);
	done(&r);
	parse(&r, (const char *const[]){"-o", "x", NULL});
	CHECK(r.rc == 3);
	CHECK(r.seen.n == 1 && r.seen.id[0] == 'o');
	done(&r);
}

static void test_help(void)
{
	struct result r;
	static const char *const want[] = {
		"Usage: ts-test [OPTION]... [FILE]...\nTest the option parser.\n",
		"  -q, --quiet",
		"say nothing",
		"  -o, --output FILE",
		"write to FILE",
		"      --level N",
		"compression level, 1 to 9",
		"      --dry-run",
		"show what would be done",
		"second line",
		"      --errors FILE",
		"      --stats",
		"      --max-record SIZE",
		"      --max-depth N",
		"  -h, --help",
		"  -V, --version",
		"Examples:\n  ts-test -q in.json\n",
		"Exit status: 0",
		"See ts-test(1)",
	};

	const char *const forms[][2] = {{"--help", NULL}, {"-h", NULL}};
	for (int f = 0; f < 2; f++) {
		parse(&r, forms[f]);
		CHECK(r.rc == TS_OPT_EXIT);
		CHECK_STR(r.err, "");
		if (CHECK(r.out)) {
			for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
				if (!CHECK(strstr(r.out, want[i]) != NULL))
					fprintf(stderr, "    missing: %s\n", want[i]);
			/* no line over 79 columns */
			int maxw = 0, w = 0;
			for (const char *p = r.out; *p; p++) {
				w = *p == '\n' ? 0 : w + 1;
				if (w > maxw)
					maxw = w;
			}
			CHECK(maxw <= 79);
		}
		done(&r);
	}

	/* --help wins over what follows, and operands are not returned */
	parse(&r, (const char *const[]){"-q", "--help", "-o", NULL});
	CHECK(r.rc == TS_OPT_EXIT);
	CHECK(r.seen.n == 1);
	done(&r);

	parse(&r, (const char *const[]){"--version", NULL});
	CHECK(r.rc == TS_OPT_EXIT);
	CHECK_STR(r.out, "ts-test (ts toolkit) " TS_VERSION "\n");
	done(&r);
	parse(&r, (const char *const[]){"-V", "x", NULL});
	CHECK(r.rc == TS_OPT_EXIT);
	CHECK_STR(r.out, "ts-test (ts toolkit) " TS_VERSION "\n");
	done(&r);
}

int main(void)
{
	const char *t = getenv("TMPDIR");
	char p[8192];

	snprintf(dir, sizeof(dir), "%s/ts-opt-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_options();
	test_operands();
	test_common();
	test_usage();
	test_help();
	static const char *const files[] = {"stdout", "stderr", "errors.ndjson"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	CHECK(rmdir(dir) == 0);
	return check_done();
}
