/*
 * fuzz_opt.c — the option parser (opt.h).  The input, split at NUL and
 * newline bytes, is the argument list of a program with a small option
 * table.  ts_opt_parse() must return a code (TS_OPT_EXIT, TS_OPT_USAGE or
 * the index of the first operand, within argc); only reorder argv; call
 * set() only with ids from the table, with an argument exactly when the
 * option takes one; leave the shared settings in their ranges; and give the
 * same answer when asked again, and the usual answer for a fixed argument
 * list right after (no state kept from one parse to the next).
 *
 * --errors FILE would create files named by the input: every argument that
 * could name --errors becomes --errors=/dev/null.  What the parser prints
 * (help, usage errors) goes to /dev/null.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "opt.h"

#define MAX_ARGS 64
#define MAX_CALLS 256

/* Where sanitizer reports go while standard error is /dev/null. */
void __sanitizer_set_report_fd(void *fd) __attribute__((weak));

enum { OPT_LONG_ONLY = 300, OPT_LONG_ARG };

static const struct ts_option opts[] = {
	{"flag", 'f', NULL, "a flag"},
	{"name", 'n', "NAME", "a name"},
	{"x", 'x', NULL, "a one-letter long name"},
	{"long-only", OPT_LONG_ONLY, NULL, "no short form"},
	{"long-arg", OPT_LONG_ARG, "ARG", "no short form, an argument"},
	{"fla", 'F', NULL, "a prefix of another name"},
	{0},
};
static const struct ts_cmd cmd = {"ts-fuzz", "[OPTION]... [FILE]...", "fuzzing",
				  opts, NULL, NULL};

struct calls {
	int n;
	int id[MAX_CALLS];
	const char *arg[MAX_CALLS];
};

static int set(void *ud, int id, const char *arg)
{
	struct calls *c = ud;
	const struct ts_option *o;

	for (o = opts; o->name; o++)
		if (o->id == id)
			break;
	FUZZ_CHECK(o->name != NULL);         /* an id from the table */
	FUZZ_CHECK((arg != NULL) == (o->arg != NULL));
	if (c->n < MAX_CALLS) {
		c->id[c->n] = id;
		c->arg[c->n] = arg;
	}
	c->n++;
	return arg && strcmp(arg, "bad") == 0 ? -1 : 0;
}

/* Could getopt_long take this argument for --errors (a unique prefix)? */
static int names_errors(const char *a)
{
	size_t n;

	if (a[0] != '-' || a[1] != '-')
		return 0;
	n = strcspn(a + 2, "=");
	return n > 0 && n <= 6 && strncmp(a + 2, "errors", n) == 0;
}

static int quiet(int *saved)
{
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (null < 0)
		return -1;
	fflush(stdout);
	fflush(stderr);
	saved[0] = dup(1);
	saved[1] = dup(2);
	if (__sanitizer_set_report_fd)
		__sanitizer_set_report_fd((void *)(intptr_t)saved[1]);
	dup2(null, 1);
	dup2(null, 2);
	close(null);
	return 0;
}

static void loud(const int *saved)
{
	fflush(stdout);
	fflush(stderr);
	dup2(saved[0], 1);
	dup2(saved[1], 2);
	if (__sanitizer_set_report_fd)
		__sanitizer_set_report_fd((void *)(intptr_t)2);
	close(saved[0]);
	close(saved[1]);
}

static int parse(char **argv, int argc, struct calls *c, struct ts_run *run)
{
	int saved[2], rc;

	memset(c, 0, sizeof(*c));
	ts_run_init(run, "ts-fuzz");
	if (quiet(saved) < 0)
		return -100;
	rc = ts_opt_parse(&cmd, run, argc, argv, set, c);
	loud(saved);
	if (run->errs.fd > 2)
		close(run->errs.fd);
	return rc;
}

static int cmp_ptr(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;

	return x < y ? -1 : x > y;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *args[MAX_ARGS + 2], *argv[MAX_ARGS + 2];
	char *before[MAX_ARGS + 2];
	int argc = 1, rc, rc2;
	struct calls c1, c2;
	struct ts_run run;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	args[0] = (char *)"ts-fuzz";
	for (char *p = copy, *end = copy + size; p <= end && argc < MAX_ARGS;) {
		char *q = p;
		while (q < end && *q != '\0' && *q != '\n')
			q++;
		*q = '\0';
		args[argc++] = names_errors(p) ? (char *)"--errors=/dev/null" : p;
		p = q + 1;
	}
	if (size == 0)
		argc = 1;
	args[argc] = NULL;

	memcpy(argv, args, sizeof(args));
	rc = parse(argv, argc, &c1, &run);
	FUZZ_CHECK(rc == TS_OPT_EXIT || rc == TS_OPT_USAGE || (rc >= 1 && rc <= argc));
	FUZZ_CHECK(argv[argc] == NULL && argv[0] == args[0]);
	/* argv is only reordered */
	memcpy(before, args, sizeof(args));
	qsort(before, (size_t)argc, sizeof(char *), cmp_ptr);
	qsort(argv, (size_t)argc, sizeof(char *), cmp_ptr);
	FUZZ_CHECK(memcmp(before, argv, (size_t)argc * sizeof(char *)) == 0);
	FUZZ_CHECK(run.max_depth >= 0 && run.max_depth <= 512);
	FUZZ_CHECK(run.max_record <= ((size_t)1 << 40));

	/* again: the same answer */
	memcpy(argv, args, sizeof(args));
	rc2 = parse(argv, argc, &c2, &run);
	FUZZ_CHECK(rc2 == rc && c2.n == c1.n);
	for (int i = 0; i < c1.n && i < MAX_CALLS; i++)
		FUZZ_CHECK(c1.id[i] == c2.id[i] &&
			   (c1.arg[i] == NULL) == (c2.arg[i] == NULL) &&
			   (!c1.arg[i] || strcmp(c1.arg[i], c2.arg[i]) == 0));

	/* and a fixed list right after is read as always */
	char *fixed[] = {(char *)"ts-fuzz", (char *)"-fx", (char *)"in", (char *)"-n",
			 (char *)"v", (char *)"--long-arg=a", NULL};
	rc = parse(fixed, 6, &c1, &run);
	FUZZ_CHECK(rc == 5 && strcmp(fixed[5], "in") == 0);
	FUZZ_CHECK(c1.n == 4 && c1.id[0] == 'f' && c1.id[1] == 'x' && c1.id[2] == 'n' &&
		   strcmp(c1.arg[2], "v") == 0 && c1.id[3] == OPT_LONG_ARG &&
		   strcmp(c1.arg[3], "a") == 0);
	free(copy);
	return 0;
}
