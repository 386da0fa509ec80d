/* opt.c — see opt.h. */
#define _GNU_SOURCE
#include "opt.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

enum {
	OPT_ERRORS = 0x1000,
	OPT_STATS,
	OPT_MAX_RECORD,
	OPT_MAX_DEPTH,
	OPT_MAX_SIZE,
	OPT_MAX_RATIO,
	OPT_ENDPOINT,
	OPT_HELP = 'h',
	OPT_VERSION = 'V',
};

static const struct ts_option common_opts[] = {
	{"errors", OPT_ERRORS, "FILE", "append error records to FILE (default: standard error)"},
	{"stats", OPT_STATS, NULL, "print one JSON line of counts to standard error at the end"},
	{"max-record", OPT_MAX_RECORD, "SIZE", "largest record accepted, e.g. 64M (default 64M)"},
	{"max-depth", OPT_MAX_DEPTH, "N", "deepest JSON nesting accepted (default 512)"},
	{"max-size", OPT_MAX_SIZE, "SIZE", "stop an input, entry or field decompressing to more than SIZE"},
	{"max-ratio", OPT_MAX_RATIO, "N", "stop one that expands more than N times (default 1000; 0: no limit)"},
	{"endpoint", OPT_ENDPOINT, "URL", "S3-compatible endpoint of s3:// inputs and destinations, "
					  "path-style (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, "
					  "the profile's endpoint_url, else AWS)"},
	{"help", OPT_HELP, NULL, "show this help and exit"},
	{"version", OPT_VERSION, NULL, "show the version and exit"},
	{0},
};

/* Print help text in a column from col, wrapped at 79. */
static void print_wrapped(const char *t, int col)
{
	int x = col;

	while (*t) {
		size_t w = strcspn(t, " ");
		if (x > col && x + 1 + (int)w > 79) {
			printf("\n%*s", col, "");
			x = col;
		} else if (x > col) {
			putchar(' ');
			x++;
		}
		printf("%.*s", (int)w, t);
		x += (int)w;
		t += w;
		while (*t == ' ')
			t++;
	}
	putchar('\n');
}

static void print_opts(const struct ts_option *o)
{
	for (; o->name; o++) {
		char left[64];
		if (o->id < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->id, o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		if (strlen(left) <= 24)
			printf("  %-24s  ", left);
		else
			printf("  %s\n%28s", left, "");
		print_wrapped(o->help, 28);
	}
}

static void print_help(const struct ts_cmd *cmd)
{
	printf("Usage: %s %s\n%s\n\nOptions:\n", cmd->name, cmd->synopsis,
	       cmd->summary);
	print_opts(cmd->opts);
	printf("\nCommon options:\n");
	print_opts(common_opts);
	if (cmd->footer)
		printf("\n%s", cmd->footer);
	if (cmd->exit_status)
		printf("\n%s", cmd->exit_status);
	else
		printf("\nExit status: 0 all records went through, 1 some were rejected "
		       "(see the error\noutput), 2 trouble (usage, unreadable input, "
		       "unwritable output).\n");
	printf("See %s(1) and ts-toolkit(7).\n", cmd->name);
}

int ts_usage_error(const struct ts_cmd *cmd, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n",
		cmd->name, msg, cmd->name);
	return TS_OPT_USAGE;
}

static size_t count_opts(const struct ts_option *o)
{
	size_t n = 0;

	while (o[n].name)
		n++;
	return n;
}

static const char *opt_name(const struct ts_option *o, int id)
{
	for (; o->name; o++)
		if (o->id == id)
			return o->name;
	return NULL;
}

static void add_opts(const struct ts_option *o, struct option *lo, size_t *nl,
		     char *so, size_t *ns)
{
	for (; o->name; o++) {
		lo[*nl].name = o->name;
		lo[*nl].has_arg = o->arg ? required_argument : no_argument;
		lo[*nl].flag = NULL;
		lo[*nl].val = o->id;
		(*nl)++;
		if (o->id < 256) {
			so[(*ns)++] = (char)o->id;
			if (o->arg)
				so[(*ns)++] = ':';
		}
	}
}

int ts_opt_parse(const struct ts_cmd *cmd, struct ts_run *run, int argc,
		 char **argv, int (*set)(void *ud, int id, const char *arg),
		 void *ud)
{
	size_t n = count_opts(cmd->opts) + count_opts(common_opts);
	struct option *lo = calloc(n + 1, sizeof(*lo));
	char *so = calloc(2 * n + 3, 1);
	size_t nl = 0, ns = 0;
	int rc = 0, c;
	uint64_t v;
	const char *name;

	if (!lo || !so) {
		free(lo);
		free(so);
		return ts_usage_error(cmd, "out of memory");
	}
	so[ns++] = ':';
	add_opts(cmd->opts, lo, &nl, so, &ns);
	add_opts(common_opts, lo, &nl, so, &ns);
	opterr = 0;
	optind = 0; /* 0, not 1: glibc then forgets the last parse (a half-read cluster) */
	while (rc == 0 && (c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		switch (c) {
		case OPT_HELP:
			print_help(cmd);
			rc = TS_OPT_EXIT;
			break;
		case OPT_VERSION:
			printf("%s (ts toolkit) %s\n", cmd->name, TS_VERSION);
			rc = TS_OPT_EXIT;
			break;
		case OPT_ERRORS:
			if (ts_run_open_errors(run, optarg) < 0)
				rc = TS_OPT_USAGE;
			break;
		case OPT_STATS:
			run->want_stats = 1;
			break;
		case OPT_MAX_RECORD:
			if (ts_parse_size(optarg, &v) < 0 || v == 0 || v > ((uint64_t)1 << 40))
				rc = ts_usage_error(cmd, "invalid --max-record '%s'", optarg);
			else
				run->max_record = (size_t)v;
			break;
		case OPT_MAX_DEPTH:
			if (ts_parse_u64(optarg, &v) < 0 || v == 0 || v > 512)
				rc = ts_usage_error(cmd, "invalid --max-depth '%s' (1 to 512)", optarg);
			else
				run->max_depth = (int)v;
			break;
		case OPT_MAX_SIZE:
			if (ts_parse_size(optarg, &v) < 0 || v == 0)
				rc = ts_usage_error(cmd, "invalid --max-size '%s'", optarg);
			else
				run->lim.max_size = v;
			break;
		case OPT_MAX_RATIO:
			if (ts_parse_u64(optarg, &v) < 0)
				rc = ts_usage_error(cmd, "invalid --max-ratio '%s'", optarg);
			else
				run->lim.max_ratio = v;
			break;
		case OPT_ENDPOINT:
			if (strncmp(optarg, "http://", 7) != 0 && strncmp(optarg, "https://", 8) != 0)
				rc = ts_usage_error(cmd, "invalid --endpoint '%s': an http:// or https:// URL", optarg);
			else
				run->s3_endpoint = optarg;
			break;
		case ':':
			rc = ts_usage_error(cmd, "option '%s' needs an argument",
					    argv[optind - 1]);
			break;
		case '?':
			/* getopt_long sets optopt to a known option's id when
			 * its long form was given "=ARG" it does not take */
			if (optopt && (name = opt_name(cmd->opts, optopt)) != NULL)
				rc = ts_usage_error(cmd, "option '--%s' takes no argument", name);
			else if (optopt && (name = opt_name(common_opts, optopt)) != NULL)
				rc = ts_usage_error(cmd, "option '--%s' takes no argument", name);
			else if (optopt)
				rc = ts_usage_error(cmd, "unknown option '-%c'", optopt);
			else
				rc = ts_usage_error(cmd, "unknown option '%s'",
						    argv[optind - 1]);
			break;
		default:
			if (set(ud, c, optarg) < 0)
				rc = TS_OPT_USAGE;
		}
	}
	free(lo);
	free(so);
	return rc ? rc : optind;
}
