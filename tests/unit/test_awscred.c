/*
 * test_awscred.c — lib/awscred.h: the INI reader (cases whose expected
 * results are what Python's configparser and botocore make of the same
 * bytes), the profile, region, endpoint and credential order of the AWS CLI,
 * malformed and unreadable files, unsupported sources, credential documents,
 * masking and refresh.  No network: http is NULL throughout (container and
 * instance metadata are driven by tests/awscred.bats).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "awscred.h"
#include "check.h"

extern char **environ;

static char dir[4096];

static int make_dir(void)
{
	const char *d = getenv("TMPDIR");

	if ((size_t)snprintf(dir, sizeof(dir), "%s/ts-awscred-XXXXXX", d && *d ? d : "/tmp") >=
	    sizeof(dir))
		return -1;
	return mkdtemp(dir) ? 0 : -1;
}

static void remove_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char p[8192];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, "..")))
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		chmod(p, 0700);
		if (unlink(p) < 0)
			remove_tree(p);
	}
	closedir(d);
	rmdir(path);
}

static const char *path_of(const char *name)
{
	static char p[4][8192];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static void put(const char *name, const char *text)
{
	FILE *f = fopen(path_of(name), "wb");

	if (!CHECK(f != NULL))
		return;
	fputs(text, f);
	fclose(f);
}

/* A clean slate: no AWS_* variable, HOME in the test directory, the two
 * files named by the environment and absent. */
static void fresh(void)
{
	for (;;) {
		char name[256];
		int found = 0;
		for (char **e = environ; *e; e++) {
			if (strncmp(*e, "AWS_", 4) == 0) {
				size_t l = strcspn(*e, "=");
				snprintf(name, sizeof(name), "%.*s", (int)l, *e);
				found = 1;
				break;
			}
		}
		if (!found)
			break;
		unsetenv(name);
	}
	setenv("HOME", dir, 1);
	setenv("AWS_CONFIG_FILE", path_of("config"), 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", path_of("credentials"), 1);
	unlink(path_of("config"));
	unlink(path_of("credentials"));
}

static char err[1024];

static int load(struct ts_aws_config *c)
{
	err[0] = '\0';
	memset(c, 0, sizeof(*c));
	return ts_aws_config_load(c, NULL, err, sizeof(err));
}

static int load_named(struct ts_aws_config *c, const char *profile)
{
	err[0] = '\0';
	memset(c, 0, sizeof(*c));
	c->profile = strdup(profile);
	return ts_aws_config_load(c, NULL, err, sizeof(err));
}

/* ------------------------------------------------------------------ */

/* "[sec]key=value|..." with line breaks in values shown as "\n"; the
 * [DEFAULT] keys last when there are any. */
static void dump(const struct ts_aws_ini *ini, struct ts_buf *out)
{
	ts_buf_reset(out);
	for (size_t i = 0; i <= ini->n; i++) {
		const struct ts_aws_ini_section *s = i < ini->n ? &ini->sec[i] : &ini->defaults;
		if (i == ini->n && !s->n)
			break;
		ts_buf_addf(out, "[%s]", s->name);
		for (size_t k = 0; k < s->n; k++) {
			ts_buf_addf(out, "%s=", s->kv[k].key);
			for (const char *p = s->kv[k].value; *p; p++)
				if (*p == '\n')
					ts_buf_addstr(out, "\\n");
				else
					ts_buf_addch(out, *p);
			ts_buf_addch(out, '|');
		}
	}
}

struct ini_case {
	const char *text;
	size_t n;        /* 0: strlen */
	const char *want; /* NULL: an error on line `line` */
	unsigned line;
};

static void test_ini_cases(void)
{
	static const struct ini_case cases[] = {
		{ "[default]\naws_access_key_id = AK\n", 0, "[default]aws_access_key_id=AK|", 0 },
		/* comments are whole lines only */
		{ "# top\n[a]\n; c\nk = v # not a comment\n  # indented\n", 0,
		  "[a]k=v # not a comment|", 0 },
		/* ':' delimits too; keys lower-cased, values not */
		{ "[a]\nRegion: EU\nX=y:z\n", 0, "[a]region=EU|x=y:z|", 0 },
		/* continuation lines, blank lines inside kept, trailing dropped */
		{ "[a]\nk = one\n  two\n\n  three\nn = 1\n\n\n", 0, "[a]k=one\\ntwo\\n\\nthree|n=1|", 0 },
		/* a value indented under a key continues it, whatever it looks like */
		{ "[a]\nk = v\n  j = w\n", 0, "[a]k=v\\nj = w|", 0 },
		{ "[a]\n  k = v\n  j = w\n", 0, "[a]k=v|j=w|", 0 },
		/* a sub-section: the value starts with a line break */
		{ "[p]\ns3 =\n  endpoint_url = http://h\n  Addressing_Style = path\n", 0,
		  "[p]s3=\\nendpoint_url = http://h\\nAddressing_Style = path|", 0 },
		{ "[a]\nk =\n", 0, "[a]k=|", 0 },
		/* \r\n and a lone \r end lines */
		{ "[a]\r\nk = v\r\n[b]\rk = w\r", 0, "[a]k=v|[b]k=w|", 0 },
		/* configparser's permissive header */
		{ "[a] x\nk=v\n[b]]\n[ c ]\n", 0, "[a]k=v|[b]][ c ]", 0 },
		/* [DEFAULT] apart, repeatable */
		{ "[DEFAULT]\nregion = r\n[a]\n[DEFAULT]\nx = 1\n", 0, "[a][DEFAULT]region=r|x=1|", 0 },
		{ "", 0, "", 0 },
		{ "\n\n# only comments\n", 0, "", 0 },
		{ "[a]\nk = \xc3\xa9t\xc3\xa9\n", 0, "[a]k=\xc3\xa9t\xc3\xa9|", 0 },
		{ "[a]\n\tk\t=\tv\t\n", 0, "[a]k=v|", 0 },
		/* errors */
		{ "k = v\n[a]\n", 0, NULL, 1 },
		{ "\n# c\n  k = v\n", 0, NULL, 3 },
		{ "[a]\njunk\n", 0, NULL, 2 },
		{ "[a]\nk=1\nK=2\n", 0, NULL, 3 },
		{ "[a]\n[b]\n[a]\n", 0, NULL, 3 },
		{ "[a]\n= v\n", 0, NULL, 2 },
		{ "[a]\ns3 =\n  endpoint_url = x\n  nokey\n", 0, NULL, 4 },
		{ "[a]\nk = \xff\n", 0, NULL, 2 },
		{ "[a]\nk = \xed\xa0\x80\n", 0, NULL, 2 },   /* a surrogate */
		{ "[a]\nk = \xc0\xaf\n", 0, NULL, 2 },       /* overlong */
		{ "[a]\nk = v\0w\n", 12, NULL, 2 },
		{ "\xef\xbb\xbf[a]\n", 0, NULL, 1 },
		{ "[]\n", 0, NULL, 1 },
		{ "[DEFAULT]\nk=1\n[DEFAULT]\nk=2\n", 0, NULL, 4 },
		{ "[a]\r\n\r\nk\r\n", 0, NULL, 3 },
	};
	struct ts_buf got;

	ts_buf_init(&got, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const struct ini_case *c = &cases[i];
		struct ts_aws_ini ini;
		char why[256] = "";
		size_t n = c->n ? c->n : strlen(c->text);
		int rc = ts_aws_ini_parse(&ini, c->text, n, why, sizeof(why));
		if (c->want) {
			if (!CHECK(rc == 0)) {
				fprintf(stderr, "    case %zu: %s (line %u)\n", i, why, ini.err_line);
			} else {
				dump(&ini, &got);
				if (!CHECK_STR(got.data, c->want))
					fprintf(stderr, "    case %zu\n", i);
			}
		} else {
			if (!CHECK(rc == -1) || !CHECK(ini.err_line == c->line))
				fprintf(stderr, "    case %zu: line %u, want %u\n", i, ini.err_line, c->line);
			CHECK(why[0] != '\0');
			CHECK(ini.n == 0 && ini.sec == NULL && ini.defaults.n == 0);
		}
		ts_aws_ini_release(&ini);
	}
	ts_buf_release(&got);
}

static void test_ini_lookup(void)
{
	static const char text[] = "[DEFAULT]\nregion = dr\n[a]\nk = v\n"
				   "s3 =\n  endpoint_url = one\n  x = 1\n  endpoint_url = two\n"
				   "plain = not nested\n";
	struct ts_aws_ini ini;
	struct ts_buf b;

	ts_buf_init(&b, 0);
	if (!CHECK(ts_aws_ini_parse(&ini, text, strlen(text), err, sizeof(err)) == 0))
		return;
	const struct ts_aws_ini_section *a = ts_aws_ini_section(&ini, "a");
	CHECK(a != NULL);
	CHECK(ts_aws_ini_section(&ini, "DEFAULT") == NULL);
	CHECK(ts_aws_ini_section(&ini, "A") == NULL); /* section names keep their case */
	CHECK_STR(ts_aws_ini_get(&ini, a, "k"), "v");
	CHECK_STR(ts_aws_ini_get(&ini, a, "region"), "dr"); /* through [DEFAULT] */
	CHECK(ts_aws_ini_get(&ini, a, "nope") == NULL);
	CHECK(ts_aws_ini_get(&ini, NULL, "region") == NULL);
	/* the last one wins, as in the dict botocore builds */
	CHECK(ts_aws_ini_sub(ts_aws_ini_get(&ini, a, "s3"), "endpoint_url", &b) == 1);
	CHECK_STR(b.data, "two");
	CHECK(ts_aws_ini_sub(ts_aws_ini_get(&ini, a, "s3"), "x", &b) == 1);
	CHECK_STR(b.data, "1");
	CHECK(ts_aws_ini_sub(ts_aws_ini_get(&ini, a, "s3"), "y", &b) == 0);
	CHECK(ts_aws_ini_sub(ts_aws_ini_get(&ini, a, "plain"), "x", &b) == 0);
	CHECK(ts_aws_ini_sub(NULL, "x", &b) == 0);
	ts_aws_ini_release(&ini);

	/* section names split as botocore does (shlex) */
	CHECK(ts_aws_ini_section_name("profile a", "profile", &b) == 1);
	CHECK_STR(b.data, "a");
	CHECK(ts_aws_ini_section_name("profile   \"c d\"", "profile", &b) == 1);
	CHECK_STR(b.data, "c d");
	CHECK(ts_aws_ini_section_name("profile 'it''s'", "profile", &b) == 1);
	CHECK_STR(b.data, "its");
	CHECK(ts_aws_ini_section_name("profile a\\ b", "profile", &b) == 1);
	CHECK_STR(b.data, "a b");
	CHECK(ts_aws_ini_section_name("profile \"\"", "profile", &b) == 1);
	CHECK_STR(b.data, "");
	CHECK(ts_aws_ini_section_name("profilex y", "profile", &b) == 1); /* botocore's quirk */
	CHECK_STR(b.data, "y");
	CHECK(ts_aws_ini_section_name("profile a b", "profile", &b) == 0);
	CHECK(ts_aws_ini_section_name("profile", "profile", &b) == 0);
	CHECK(ts_aws_ini_section_name("profile \"a", "profile", &b) == 0);
	CHECK(ts_aws_ini_section_name("profile a\\", "profile", &b) == 0);
	CHECK(ts_aws_ini_section_name("default", "profile", &b) == 0);
	CHECK(ts_aws_ini_section_name("services s3x", "services", &b) == 1);
	CHECK_STR(b.data, "s3x");
	ts_buf_release(&b);
}

/* ------------------------------------------------------------------ */

static void test_env_keys(void)
{
	struct ts_aws_config c;

	fresh();
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV0000000001234", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	setenv("AWS_SESSION_TOKEN", "envtoken", 1);
	if (CHECK(load(&c) == 0)) {
		CHECK_STR(c.source, "environment");
		CHECK_STR(c.cred.access_key, "AKIAENV0000000001234");
		CHECK_STR(c.cred.secret_key, "envsecret");
		CHECK_STR(c.cred.token, "envtoken");
		CHECK(c.cred.expires == 0);
		CHECK_STR(c.profile, "default");
		CHECK_STR(c.region, "us-east-1");
		CHECK(c.endpoint_s3 == NULL);
	}
	ts_aws_config_release(&c);
	CHECK(c.profile == NULL && c.cred.secret_key == NULL);

	/* the older token name */
	unsetenv("AWS_SESSION_TOKEN");
	setenv("AWS_SECURITY_TOKEN", "oldtoken", 1);
	if (CHECK(load(&c) == 0))
		CHECK_STR(c.cred.token, "oldtoken");
	ts_aws_config_release(&c);
	unsetenv("AWS_SECURITY_TOKEN");
	if (CHECK(load(&c) == 0))
		CHECK(c.cred.token == NULL);
	ts_aws_config_release(&c);

	/* a key without its secret is an error, not a fall-through */
	put("credentials", "[default]\naws_access_key_id = AKFILE\naws_secret_access_key = s\n");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	CHECK(load(&c) == -1);
	CHECK(strstr(err, "AWS_SECRET_ACCESS_KEY") != NULL);
	CHECK(c.profile == NULL);
	ts_aws_config_release(&c);

	/* a secret alone is nothing: the files are next */
	unsetenv("AWS_ACCESS_KEY_ID");
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	if (CHECK(load(&c) == 0)) {
		CHECK_STR(c.source, "shared-credentials-file");
		CHECK_STR(c.cred.access_key, "AKFILE");
	}
	ts_aws_config_release(&c);

	/* set to "" counts as unset */
	setenv("AWS_ACCESS_KEY_ID", "", 1);
	if (CHECK(load(&c) == 0))
		CHECK_STR(c.source, "shared-credentials-file");
	ts_aws_config_release(&c);

	/* a line break in a key would split a header */
	setenv("AWS_ACCESS_KEY_ID", "AK\nX-Evil: 1", 1);
	CHECK(load(&c) == -1);
	CHECK(strstr(err, "X-Evil") == NULL && strstr(err, "envsecret") == NULL);
	ts_aws_config_release(&c);
}

static void test_profile_order(void)
{
	struct ts_aws_config c;

	fresh();
	put("credentials", "[default]\naws_access_key_id = AKDEF\naws_secret_access_key = sdef\n"
			   "[work]\naws_access_key_id = AKWORK\naws_secret_access_key = swork\n"
			   "aws_session_token = twork\n"
			   "[profile other]\naws_access_key_id = AKNOTOTHER\naws_secret_access_key = x\n");
	put("config", "[profile cfgonly]\naws_access_key_id = AKCFG\naws_secret_access_key = scfg\n"
		      "[profile work]\naws_access_key_id = AKWORKCFG\naws_secret_access_key = s\n"
		      "[plain]\naws_access_key_id = AKPLAIN\naws_secret_access_key = s\n");

	if (CHECK(load(&c) == 0)) {
		CHECK_STR(c.profile, "default");
		CHECK_STR(c.cred.access_key, "AKDEF");
		CHECK(c.cred.token == NULL);
	}
	ts_aws_config_release(&c);

	/* the credentials file beats the config file */
	setenv("AWS_PROFILE", "work", 1);
	if (CHECK(load(&c) == 0)) {
		CHECK_STR(c.profile, "work");
		CHECK_STR(c.source, "shared-credentials-file");
		CHECK_STR(c.cred.access_key, "AKWORK");
		CHECK_STR(c.cred.token, "twork");
	}
	ts_aws_config_release(&c);

	setenv("AWS_PROFILE", "cfgonly", 1);
	if (CHECK(load(&c) == 0)) {
		CHECK_STR(c.source, "config-file");
		CHECK_STR(c.cred.access_key, "AKCFG");
	}
	ts_aws_config_release(&c);

	/* [plain] in the config file and [profile other] in the credentials
	 * file are not the profiles "plain" and "other" */
	setenv("AWS_PROFILE", "plain", 1);
	CHECK(load(&c) == -1);
	CHECK(strstr(err, "profile 'plain' not found") != NULL);
	ts_aws_config_release(&c);
	setenv("AWS_PROFILE", "other", 1);
	CHECK(load(&c) == -1);
	CHECK(strstr(err, "profile 'other' not found") != NULL);
	ts_aws_config_release(&c);

	/* AWS_PROFILE before AWS_DEFAULT_PROFILE */
	setenv("AWS_PROFILE", "work", 1);
	setenv("AWS_DEFAULT_PROFILE", "cfgonly", 1);
	if (CHECK(load(&c) == 0))
		CHECK_STR(c.profile, "work");
	ts_aws_config_release(&c);
	unsetenv("AWS_PROFILE");
	if (CHECK(load(&c) == 0)) {
		CHECK_STR(c.profile, "cfgonly");
		CHECK_STR(c.cred.access_key, "AKCFG");
	}
	ts_aws_config_release(&c);
	setenv("AWS_PROFILE", "", 1); /* "" is unset */
	if (CHECK(load(&c) == 0))
		CHECK_STR(c.profile, "cfgonly");
	ts_aws_config_release(&c);
	unsetenv("AWS_DEFAULT_PROFILE");

	/* environment keys beat AWS_PROFILE ... */
	setenv("AWS_PROFILE", "work", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "senv", 1);
	if (CHECK(load(&c) == 0)) {
		CHECK_STR(c.source, "environment");
		CHECK_STR(c.cred.access_key, "AKENV");
		CHECK_STR(c.profile, "work");
	}
	ts_aws_config_release(&c);
	/* ... but not a profile the caller names (the CLI's --profile) */
	if (CHECK(load_named(&c, "cfgonly") == 0)) {
		CHECK_STR(c.profile, "cfgonly");
		CHECK_STR(c.source, "config-file");
		CHECK_STR(c.cred.access_key, "AKCFG");
	}
	ts_aws_config_release(&c);
	/* which must exist too, and a missing one does not fall back */
	CHECK(load_named(&c, "nope") == -1);
	CHECK(strstr(err, "profile 'nope' not found") != NULL);
	CHECK(c.profile == NULL);
	ts_aws_config_release(&c);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");

	/* even "default" must exist once named, not when implied */
	fresh();
	CHECK(load(&c) == -1);
	CHECK(strstr(err, "no credentials found for profile 'default'") != NULL);
	ts_aws_config_release(&c);
	setenv("AWS_PROFILE", "default", 1);
	CHECK(load(&c) == -1);
	CHECK(strstr(err, "profile 'default' not found") != NULL);
	ts_aws_config_release(&c);
}

static void test_config_sections(void)
{
	struct ts_aws_config c;

	fresh();
	/* [default] and [profile default] both: the later one, whole */
	put("config", "[default]\naws_access_key_id = AKONE\naws_secret_access_key = s\n"
		      "region = r1\n"
		      "[profile default]\naws_access_key_id = AKTWO\naws_secret_access_key = s\n");
	if (CHECK(load(&c) == 0)) {
		CHECK_STR(c.cred.access_key, "AKTWO");
		CHECK_STR(c.region, "us-east-1");
	}
	ts_aws_config_release(&c);

	/* a quoted profile name */
	put("config", "[profile \"c d\"]\naws_access_key_id = AKCD\naws_secret_access_key = s\n");
	setenv("AWS_PROFILE", "c d", 1);
	if (CHECK(load(&c) == 0))
		CHECK_STR(c.cred.access_key, "AKCD");
	ts_aws_config_release(&c);
	unsetenv("AWS_PROFILE");

	/* [DEFAULT] in the credentials file shows through [a] but is no
	 * profile of its own */
	put("config", "");
	put("credentials", "[DEFAULT]\naws_access_key_id = AKDEFAULT\naws_secret_access_key = s\n"
			   "[a]\nregion = ra\n");
	CHECK(load(&c) == -1);
	ts_aws_config_release(&c);
	setenv("AWS_PROFILE", "a", 1);
	if (CHECK(load(&c) == 0)) {
		CHECK_STR(c.cred.access_key, "AKDEFAULT");
		CHECK_STR(c.region, "ra");
	}
	ts_aws_config_release(&c);
	setenv("AWS_PROFILE", "DEFAULT", 1);
	CHECK(load(&c) == -1);
	CHECK(strstr(err, "profile 'DEFAULT' not found") != NULL);
	ts_aws_config_release(&c);

	/* keys present but unusable */
	fresh();
	put("credentials", "[default]\naws_access_key_id = AKNOSECRET\n");
	CHECK(load(&c) == -1);
	CHECK(strstr(err, "[default]: aws_access_key_id without aws_secret_access_key") != NULL);
	CHECK(strstr(err, path_of("credentials")) != NULL);
	ts_aws_config_release(&c);
	put("credentials", "[default]\naws_access_key_id =\naws_secret_access_key = s\n");
	CHECK(load(&c) == -1);
	CHECK(strstr(err, "is empty") != NULL);
	ts_aws_config_release(&c);
	/* a secret without a key is no credentials: the config file is next */
	put("credentials", "[default]\naws_secret_access_key = s\n");
	put("config", "[default]\naws_access_key_id = AKCFG\naws_secret_access_key = s\n");
	if (CHECK(load(&c) == 0))
		CHECK_STR(c.source, "config-file");
	ts_aws_config_release(&c);
}

static void test_region(void)
{
	struct ts_aws_config c;

	fresh();
	put("credentials", "[default]\naws_access_key_id = AK\naws_secret_access_key = s\n"
			   "[p]\naws_access_key_id = AK\naws_secret_access_key = s\nregion = r-cred\n");
	put("config", "[default]\nregion = r-cfg\n[profile p]\nregion = r-pcfg\n"
		      "[profile q]\naws_access_key_id = AK\naws_secret_access_key = s\nregion =\n");
	setenv("AWS_REGION", "r-env", 1);
	setenv("AWS_DEFAULT_REGION", "r-default-env", 1);
	if (CHECK(load(&c) == 0))
		CHECK_STR(c.region, "r-env");
	ts_aws_config_release(&c);
	unsetenv("AWS_REGION");
	if (CHECK(load(&c) == 0))
		CHECK_STR(c.region, "r-default-env");
	ts_aws_config_release(&c);
	unsetenv("AWS_DEFAULT_REGION");
	if (CHECK(load(&c) == 0))
		CHECK_STR(c.region, "r-cfg");
	ts_aws_config_release(&c);
	/* the credentials file's region is laid over the config file's */
	setenv("AWS_PROFILE", "p", 1);
	if (CHECK(load(&c) == 0))
		CHECK_STR(c.region, "r-cred");
	ts_aws_config_release(&c);
	setenv("AWS_PROFILE", "q", 1);
	if (CHECK(load(&c) == 0))
		CHECK_STR(c.region, "us-east-1");
	ts_aws_config_release(&c);
}

static void test_endpoint(void)
{
	struct ts_aws_config c;

	fresh();
	/* keys from the environment whatever the profile */
	setenv("AWS_ACCESS_KEY_ID", "AK", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
	put("config", "[default]\nendpoint_url = http://profile\nservices = local\n"
		      "s3 =\n  endpoint_url = http://nested\n"
		      "[services local]\ns3 =\n  endpoint_url = http://services-s3\n"
		      "sqs =\n  endpoint_url = http://services-sqs\n"
		      "[profile nos3]\nservices = other\nendpoint_url = http://profile-nos3\n"
		      "[services other]\nsqs =\n  endpoint_url = http://other-sqs\n"
		      "[profile plain]\nendpoint_url = http://plain\n"
		      "[profile broken]\nservices = missing\n"
		      "[profile ignoring]\nendpoint_url = http://ignored\n"
		      "ignore_configured_endpoint_urls = true\n");
	setenv("AWS_ENDPOINT_URL_S3", "http://env-s3", 1);
	setenv("AWS_ENDPOINT_URL", "http://env", 1);
	if (CHECK(load(&c) == 0))
		CHECK_STR(c.endpoint_s3, "http://env-s3");
	ts_aws_config_release(&c);
	unsetenv("AWS_ENDPOINT_URL_S3");
	if (CHECK(load(&c) == 0))
		CHECK_STR(c.endpoint_s3, "http://env");
	ts_aws_config_release(&c);
	unsetenv("AWS_ENDPOINT_URL");
	if (CHECK(load(&c) == 0))
		CHECK_STR(c.endpoint_s3, "http://services-s3");
	ts_aws_config_release(&c);

	/* the services section has no s3: the profile's own */
	setenv("AWS_PROFILE", "nos3", 1);
	if (CHECK(load(&c) == 0))
		CHECK_STR(c.endpoint_s3, "http://profile-nos3");
	ts_aws_config_release(&c);
	setenv("AWS_PROFILE", "plain", 1);
	if (CHECK(load(&c) == 0))
		CHECK_STR(c.endpoint_s3, "http://plain");
	ts_aws_config_release(&c);
	setenv("AWS_PROFILE", "broken", 1);
	CHECK(load(&c) == -1);
	CHECK(strstr(err, "services 'missing'") != NULL);
	ts_aws_config_release(&c);

	/* ignore_configured_endpoint_urls: the profile's, unless the
	 * environment says otherwise */
	setenv("AWS_PROFILE", "ignoring", 1);
	setenv("AWS_ENDPOINT_URL", "http://env", 1);
	if (CHECK(load(&c) == 0))
		CHECK(c.endpoint_s3 == NULL);
	ts_aws_config_release(&c);
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false", 1);
	if (CHECK(load(&c) == 0))
		CHECK_STR(c.endpoint_s3, "http://env");
	ts_aws_config_release(&c);
	setenv("AWS_PROFILE", "plain", 1);
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE", 1);
	if (CHECK(load(&c) == 0))
		CHECK(c.endpoint_s3 == NULL);
	ts_aws_config_release(&c);

	/* the profile's own "s3 =" sub-section (without services) */
	fresh();
	put("config", "[default]\naws_access_key_id = AK\naws_secret_access_key = s\n"
		      "endpoint_url = http://global\ns3 =\n  addressing_style = path\n"
		      "  endpoint_url = http://nested\n");
	if (CHECK(load(&c) == 0))
		CHECK_STR(c.endpoint_s3, "http://nested");
	ts_aws_config_release(&c);
}

static void test_unsupported(void)
{
	struct ts_aws_config c;

	fresh();
	put("credentials", "[withkeys]\naws_access_key_id = AKWITH\naws_secret_access_key = s\n");
	put("config", "[profile role]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = withkeys\n"
		      "[profile sso]\nsso_session = corp\nsso_account_id = 1\n"
		      "[profile proc]\ncredential_process = /bin/true\n"
		      "[profile withkeys]\ncredential_process = /bin/true\n"
		      "[profile webid]\nrole_arn = arn:aws:iam::1:role/r\n"
		      "web_identity_token_file = /t\n"
		      "[profile lonearn]\nrole_arn = arn:aws:iam::1:role/r\n"
		      "aws_access_key_id = AKLONE\naws_secret_access_key = s\n");
	setenv("AWS_PROFILE", "role", 1);
	CHECK(load(&c) == -1);
	CHECK(strstr(err, "profile 'role' assumes a role (role_arn)") != NULL);
	ts_aws_config_release(&c);
	setenv("AWS_PROFILE", "sso", 1);
	CHECK(load(&c) == -1);
	CHECK(strstr(err, "IAM Identity Center (sso_session)") != NULL);
	ts_aws_config_release(&c);
	setenv("AWS_PROFILE", "proc", 1);
	CHECK(load(&c) == -1);
	CHECK(strstr(err, "credential_process") != NULL);
	ts_aws_config_release(&c);
	setenv("AWS_PROFILE", "webid", 1);
	CHECK(load(&c) == -1);
	CHECK(strstr(err, "web_identity_token_file") != NULL);
	ts_aws_config_release(&c);
	/* credential_process comes after the credentials file */
	setenv("AWS_PROFILE", "withkeys", 1);
	if (CHECK(load(&c) == 0))
		CHECK_STR(c.cred.access_key, "AKWITH");
	ts_aws_config_release(&c);
	/* role_arn alone assumes nothing */
	setenv("AWS_PROFILE", "lonearn", 1);
	if (CHECK(load(&c) == 0))
		CHECK_STR(c.cred.access_key, "AKLONE");
	ts_aws_config_release(&c);
	/* environment keys come before all of these */
	setenv("AWS_PROFILE", "role", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
	if (CHECK(load(&c) == 0))
		CHECK_STR(c.source, "environment");
	ts_aws_config_release(&c);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_PROFILE");

	/* web identity from the environment, unless a profile is named */
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token", 1);
	setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/r", 1);
	put("credentials", "[default]\naws_access_key_id = AKDEF\naws_secret_access_key = s\n"
			   "[withkeys]\naws_access_key_id = AKWITH\naws_secret_access_key = s\n");
	CHECK(load(&c) == -1);
	CHECK(strstr(err, "AWS_WEB_IDENTITY_TOKEN_FILE") != NULL);
	ts_aws_config_release(&c);
	if (CHECK(load_named(&c, "withkeys") == 0))
		CHECK_STR(c.cred.access_key, "AKWITH");
	ts_aws_config_release(&c);
}

static void test_files(void)
{
	struct ts_aws_config c;
	char p[8192];

	/* ~/.aws/ when the variables are unset */
	fresh();
	unsetenv("AWS_CONFIG_FILE");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	snprintf(p, sizeof(p), "%s/.aws", dir);
	mkdir(p, 0700);
	put(".aws/credentials", "[default]\naws_access_key_id = AKHOME\naws_secret_access_key = s\n");
	put(".aws/config", "[default]\nregion = r-home\n");
	if (CHECK(load(&c) == 0)) {
		CHECK_STR(c.cred.access_key, "AKHOME");
		CHECK_STR(c.region, "r-home");
	}
	ts_aws_config_release(&c);
	/* $VAR and ~ in the variables */
	setenv("TS_AWSCRED_TEST_DIR", dir, 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "${TS_AWSCRED_TEST_DIR}/alt", 1);
	setenv("AWS_CONFIG_FILE", "~/.aws/config", 1);
	put("alt", "[default]\naws_access_key_id = AKALT\naws_secret_access_key = s\n");
	if (CHECK(load(&c) == 0)) {
		CHECK_STR(c.cred.access_key, "AKALT");
		CHECK_STR(c.region, "r-home");
	}
	ts_aws_config_release(&c);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "$TS_AWSCRED_TEST_DIR/alt", 1);
	if (CHECK(load(&c) == 0))
		CHECK_STR(c.cred.access_key, "AKALT");
	ts_aws_config_release(&c);
	unsetenv("TS_AWSCRED_TEST_DIR");
	unlink(path_of(".aws/config"));
	unlink(path_of(".aws/credentials"));
	rmdir(p);

	/* a directory is no file (the CLI's isfile()) */
	fresh();
	put("config", "[default]\naws_access_key_id = AKCFG\naws_secret_access_key = s\n");
	mkdir(path_of("credentials"), 0700);
	if (CHECK(load(&c) == 0))
		CHECK_STR(c.source, "config-file");
	ts_aws_config_release(&c);
	rmdir(path_of("credentials"));

	/* malformed: path and line, never the line's text */
	put("credentials", "[default]\naws_access_key_id = AKIA\nwJalrXUtnFEMI/K7MDENG/SECRETLINE\n");
	CHECK(load(&c) == -1);
	snprintf(p, sizeof(p), "%s:3: expected 'key = value'", path_of("credentials"));
	CHECK_STR(err, p);
	CHECK(strstr(err, "SECRETLINE") == NULL);
	ts_aws_config_release(&c);
	put("credentials", "[default]\naws_secret_access_key = SECRETONE\n"
			   "aws_secret_access_key = SECRETTWO\n");
	CHECK(load(&c) == -1);
	snprintf(p, sizeof(p), "%s:3: a setting repeated in section 'default' (first on line 2)",
		 path_of("credentials"));
	CHECK_STR(err, p);
	ts_aws_config_release(&c);
	/* a malformed file fails even when the environment has keys (the
	 * CLI reads both files whatever it uses) */
	put("credentials", "");
	put("config", "region = r\n");
	setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
	CHECK(load(&c) == -1);
	snprintf(p, sizeof(p), "%s:1: a setting before any [section]", path_of("config"));
	CHECK_STR(err, p);
	ts_aws_config_release(&c);

	/* too large */
	FILE *f = fopen(path_of("config"), "wb");
	if (CHECK(f != NULL)) {
		fputs("[default]\n", f);
		for (int i = 0; i < 120000; i++)
			fputs("# padding\n", f);
		fclose(f);
	}
	CHECK(load(&c) == -1);
	CHECK(strstr(err, "larger than 1 MiB") != NULL);
	ts_aws_config_release(&c);

	/* unreadable: said, not skipped (root reads anything: no test) */
	put("config", "[default]\n");
	if (geteuid() != 0 && CHECK(chmod(path_of("config"), 0) == 0)) {
		CHECK(load(&c) == -1);
		CHECK(strstr(err, "cannot read") != NULL);
		ts_aws_config_release(&c);
		chmod(path_of("config"), 0600);
	}
}

static void test_no_http(void)
{
	struct ts_aws_config c;

	fresh();
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/creds", 1);
	CHECK(load(&c) == -1);
	CHECK(strstr(err, "container credentials not consulted") != NULL);
	CHECK(strstr(err, "instance metadata: not consulted") != NULL);
	ts_aws_config_release(&c);
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	setenv("AWS_EC2_METADATA_DISABLED", "True", 1);
	CHECK(load(&c) == -1);
	CHECK(strstr(err, "container credentials not configured") != NULL);
	CHECK(strstr(err, "disabled by AWS_EC2_METADATA_DISABLED") != NULL);
	ts_aws_config_release(&c);
}

/* ------------------------------------------------------------------ */

static int from_json(struct ts_aws_cred *c, const char *text)
{
	err[0] = '\0';
	memset(c, 0, sizeof(*c));
	return ts_aws_cred_from_json(c, text, strlen(text), err, sizeof(err));
}

static void test_cred_json(void)
{
	struct ts_aws_cred c;

	if (CHECK(from_json(&c, "{\"Code\":\"Success\",\"LastUpdated\":\"2012-04-26T16:39:16Z\","
				"\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIAEXAMPLE\","
				"\"SecretAccessKey\":\"sec/ret+\",\"Token\":\"tok==\","
				"\"Expiration\":\"2017-05-17T15:09:54Z\"}") == 0)) {
		CHECK_STR(c.access_key, "ASIAEXAMPLE");
		CHECK_STR(c.secret_key, "sec/ret+");
		CHECK_STR(c.token, "tok==");
		CHECK(c.expires == 1495033794.0);
	}
	ts_aws_cred_release(&c);
	CHECK(c.access_key == NULL && c.expires == 0);
	/* the container form: no Code; fractional seconds and an offset */
	if (CHECK(from_json(&c, "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":\"T\","
				"\"Expiration\":\"2017-05-17T17:09:54.500+02:00\",\"RoleArn\":\"x\"}") ==
		  0))
		CHECK(c.expires == 1495033794.5);
	ts_aws_cred_release(&c);
	/* no token, no expiry */
	if (CHECK(from_json(&c, "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":null}") ==
		  0)) {
		CHECK(c.token == NULL);
		CHECK(c.expires == 0);
	}
	ts_aws_cred_release(&c);

	static const char *const bad[] = {
		"",
		"[]",
		"{\"AccessKeyId\":\"A\"",
		"{\"Code\":\"Failure\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}",
		"{\"Code\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}",
		"{\"SecretAccessKey\":\"SECRETVALUE\"}",
		"{\"AccessKeyId\":\"A\"}",
		"{\"AccessKeyId\":\"\",\"SecretAccessKey\":\"S\"}",
		"{\"AccessKeyId\":1,\"SecretAccessKey\":\"S\"}",
		"{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"SECRET\\nVALUE\"}",
		"{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":5}",
		"{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Expiration\":\"tomorrow\"}",
		"{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Expiration\":17}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		c.access_key = (char *)"untouched";
		if (!CHECK(ts_aws_cred_from_json(&c, bad[i], strlen(bad[i]), err, sizeof(err)) == -1))
			fprintf(stderr, "    case %zu\n", i);
		CHECK(err[0] != '\0');
		CHECK(strstr(err, "SECRET") == NULL);
		CHECK_STR(c.access_key, "untouched");
	}
}

static void test_masked(void)
{
	char m[64];

	ts_aws_key_masked("AKIAIOSFODNN7EXAMPLE", m, sizeof(m));
	CHECK_STR(m, "****************MPLE");
	ts_aws_key_masked("ABCD", m, sizeof(m));
	CHECK_STR(m, "****************");
	ts_aws_key_masked(NULL, m, sizeof(m));
	CHECK_STR(m, "****************");
	ts_aws_key_masked("AKIAIOSFODNN7EXAMPLE", m, 5);
	CHECK_STR(m, "****");
}

static void test_refresh(void)
{
	struct ts_aws_config c;

	fresh();
	setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
	if (CHECK(load(&c) == 0)) {
		/* static credentials never expire */
		CHECK(ts_aws_cred_refresh(&c, NULL, err, sizeof(err)) == 0);
		CHECK_STR(c.cred.access_key, "AKENV");
		/* temporary ones far from their end are kept */
		c.source = "container";
		c.cred.expires = (double)time(NULL) + 3600;
		CHECK(ts_aws_cred_refresh(&c, NULL, err, sizeof(err)) == 0);
		CHECK_STR(c.cred.access_key, "AKENV");
		/* within 5 minutes they must be fetched again: no client, no
		 * renewal, and the old ones stay as they were */
		c.cred.expires = (double)time(NULL) + 200;
		CHECK(ts_aws_cred_refresh(&c, NULL, err, sizeof(err)) == -1);
		CHECK(strstr(err, "container credentials expire") != NULL);
		CHECK_STR(c.cred.access_key, "AKENV");
		CHECK_STR(c.cred.secret_key, "s");
	}
	ts_aws_config_release(&c);
}

int main(void)
{
	if (make_dir() < 0) {
		perror("mkdtemp");
		return 1;
	}
	test_ini_cases();
	test_ini_lookup();
	test_env_keys();
	test_profile_order();
	test_config_sections();
	test_region();
	test_endpoint();
	test_unsupported();
	test_files();
	test_no_http();
	test_cred_json();
	test_masked();
	test_refresh();
	remove_tree(dir);
	return check_done();
}
