/*
 * opt.h — one option table drives both parsing and --help.
 *
 * A program lists its options once; ts_opt_parse() adds the options every
 * program shares (--errors, --stats, --max-record, --max-depth, --max-size,
 * --max-ratio, --help, --version), applies those to the ts_run, and hands the rest to the
 * program's set() callback.  The parser never exits: it returns a code and
 * cmd/ maps it to an exit status.  tests/ check that every option --help
 * prints appears in the man page.
 */
#ifndef TS_OPT_H
#define TS_OPT_H

#include "run.h"

#ifndef TS_VERSION
#define TS_VERSION "0.0.0"
#endif

struct ts_option {
	const char *name; /* long name, without "--" */
	int id;           /* its short letter, or an id >= 256 */
	const char *arg;  /* argument name for --help; NULL: takes none */
	const char *help;
};

struct ts_cmd {
	const char *name;
	const char *synopsis; /* after the name: "[OPTION]... [FILE]..." */
	const char *summary;  /* one line */
	const struct ts_option *opts; /* ends with a zeroed entry */
	const char *footer;   /* examples, printed after the options */
	const char *exit_status; /* NULL: the records' contract (0 all went
				  * through, 1 some rejected, 2 trouble) */
};

enum {
	TS_OPT_EXIT = -1,  /* --help or --version was printed: exit 0 */
	TS_OPT_USAGE = -2, /* bad usage was reported: exit 2 */
};

/* set() returns 0, or -1 after reporting a usage error.  Returns the index of
 * the first operand, TS_OPT_EXIT or TS_OPT_USAGE. */
int ts_opt_parse(const struct ts_cmd *cmd, struct ts_run *run, int argc,
		 char **argv, int (*set)(void *ud, int id, const char *arg),
		 void *ud);

/* "try 'ts-foo --help'" — after a usage error found by the program itself. */
int ts_usage_error(const struct ts_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
