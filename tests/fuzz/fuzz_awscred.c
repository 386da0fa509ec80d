/*
 * fuzz_awscred.c — the settings-file reader and the credential documents of
 * awscred.h.  An input starting with '{' is a container or instance-metadata
 * credential document; anything else is a config or credentials file.
 *
 * File: one that does not parse leaves nothing and says why on a line of the
 * input (1 to lines + 1).  One that parses holds unique non-empty section
 * names, unique lower-case trimmed keys, values whose lines are trimmed and
 * none after the first a comment, each found again by ts_aws_ini_get(), each sub-section key
 * found by ts_aws_ini_sub(); written back out canonically it parses to the
 * same thing.
 *
 * Document: accepted, it gives a non-empty key and secret and a token with
 * no control character; refused, it says so in one of the fixed messages
 * (nothing of the document, which may hold a secret) and leaves the
 * credentials as they were.
 */
#include <string.h>

#include "awscred.h"
#include "fuzz.h"

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1f);
}

static void check_value(const char *v)
{
	/* every line trimmed, none a comment; a sub-section's lines are
	 * "key = value" */
	int nested = v[0] == '\n';
	const char *p = v;

	FUZZ_CHECK(!strchr(v, '\r'));
	for (;;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l) {
			FUZZ_CHECK(!is_ws(p[0]) && !is_ws(p[l - 1]));
			/* a continuation line is never a comment (the first line
			 * may start with either) */
			FUZZ_CHECK(p == v || (p[0] != '#' && p[0] != ';'));
			if (nested) {
				FUZZ_CHECK(memchr(p, '=', l) != NULL);
			}
		}
		if (!e)
			break;
		p = e + 1;
	}
	FUZZ_CHECK(v[0] == '\0' || v[strlen(v) - 1] != '\n');
}

static void check_section(const struct ts_aws_ini *ini, const struct ts_aws_ini_section *s)
{
	struct ts_buf b;

	ts_buf_init(&b, 0);
	for (size_t k = 0; k < s->n; k++) {
		const char *key = s->kv[k].key;
		size_t l = strlen(key);
		FUZZ_CHECK(l > 0 && !is_ws(key[0]) && !is_ws(key[l - 1]));
		FUZZ_CHECK(!strpbrk(key, "=:\n\r"));
		for (size_t i = 0; i < l; i++)
			FUZZ_CHECK(!(key[i] >= 'A' && key[i] <= 'Z'));
		for (size_t j = 0; j < k; j++)
			FUZZ_CHECK(strcmp(s->kv[j].key, key) != 0);
		check_value(s->kv[k].value);
		if (s != &ini->defaults)
			FUZZ_CHECK(ts_aws_ini_get(ini, s, key) == s->kv[k].value);
		/* each sub-section key is found (its last value) */
		const char *v = s->kv[k].value;
		if (v[0] == '\n') {
			for (const char *p = v + 1; *p;) {
				const char *e = strchr(p, '\n');
				if (!e)
					e = p + strlen(p);
				const char *eq = memchr(p, '=', (size_t)(e - p));
				if (eq) {
					const char *kb = eq;
					while (kb > p && is_ws(kb[-1]))
						kb--;
					char sk[256];
					if ((size_t)(kb - p) < sizeof(sk)) {
						memcpy(sk, p, (size_t)(kb - p));
						sk[kb - p] = '\0';
						FUZZ_CHECK(ts_aws_ini_sub(v, sk, &b) == 1);
					}
				}
				p = *e ? e + 1 : e;
			}
		}
	}
	ts_buf_release(&b);
}

static void write_section(struct ts_buf *out, const struct ts_aws_ini_section *s,
			  const char *name)
{
	ts_buf_addf(out, "[%s]\n", name);
	for (size_t k = 0; k < s->n; k++) {
		ts_buf_addf(out, "%s = ", s->kv[k].key);
		for (const char *p = s->kv[k].value; *p; p++) {
			if (*p == '\n')
				ts_buf_addstr(out, "\n  ");
			else
				ts_buf_addch(out, *p);
		}
		ts_buf_addch(out, '\n');
	}
}

static void same(const struct ts_aws_ini_section *a, const struct ts_aws_ini_section *b)
{
	FUZZ_CHECK(a->n == b->n);
	for (size_t k = 0; k < a->n; k++) {
		FUZZ_CHECK(strcmp(a->kv[k].key, b->kv[k].key) == 0);
		FUZZ_CHECK(strcmp(a->kv[k].value, b->kv[k].value) == 0);
	}
}

static void fuzz_ini(const uint8_t *data, size_t size)
{
	struct ts_aws_ini ini, again;
	struct ts_buf text, name;
	char err[256] = "";
	const char *p = (const char *)data;

	if (ts_aws_ini_parse(&ini, p, size, err, sizeof(err)) < 0) {
		size_t lines = 1;
		for (size_t i = 0; i < size; i++)
			lines += p[i] == '\n' || (p[i] == '\r' && (i + 1 >= size || p[i + 1] != '\n'));
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(ini.err_line >= 1 && ini.err_line <= lines);
		FUZZ_CHECK(ini.n == 0 && ini.sec == NULL && ini.defaults.n == 0);
		ts_aws_ini_release(&ini);
		return;
	}
	ts_buf_init(&text, 0);
	ts_buf_init(&name, 0);
	for (size_t i = 0; i < ini.n; i++) {
		const struct ts_aws_ini_section *s = &ini.sec[i];
		FUZZ_CHECK(s->name[0] != '\0' && strcmp(s->name, "DEFAULT") != 0);
		FUZZ_CHECK(!strpbrk(s->name, "\n\r"));
		FUZZ_CHECK(ts_aws_ini_section(&ini, s->name) == s);
		check_section(&ini, s);
		int r = ts_aws_ini_section_name(s->name, "profile", &name);
		FUZZ_CHECK(r == 0 || r == 1);
		if (r == 1)
			FUZZ_CHECK(strlen(name.data) == name.len);
	}
	check_section(&ini, &ini.defaults);

	/* written back out, the same settings */
	if (ini.defaults.n)
		write_section(&text, &ini.defaults, "DEFAULT");
	for (size_t i = 0; i < ini.n; i++)
		write_section(&text, &ini.sec[i], ini.sec[i].name);
	if (ts_aws_ini_parse(&again, text.data, text.len, err, sizeof(err)) < 0) {
		fprintf(stderr, "canonical text does not parse: line %u: %s\n%s\n", again.err_line,
			err, text.data);
		FUZZ_CHECK(0);
	}
	FUZZ_CHECK(again.n == ini.n);
	for (size_t i = 0; i < ini.n; i++) {
		FUZZ_CHECK(strcmp(again.sec[i].name, ini.sec[i].name) == 0);
		same(&again.sec[i], &ini.sec[i]);
	}
	same(&again.defaults, &ini.defaults);
	ts_aws_ini_release(&again);
	ts_aws_ini_release(&ini);
	ts_buf_release(&text);
	ts_buf_release(&name);
}

static int safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static void fuzz_json(const uint8_t *data, size_t size)
{
	struct ts_aws_cred c = { (char *)"untouched", NULL, NULL, 7 };
	char err[256] = "";

	if (ts_aws_cred_from_json(&c, (const char *)data, size, err, sizeof(err)) == 0) {
		FUZZ_CHECK(c.access_key && *c.access_key && safe(c.access_key));
		FUZZ_CHECK(c.secret_key && *c.secret_key && safe(c.secret_key));
		FUZZ_CHECK(!c.token || (*c.token && safe(c.token)));
		FUZZ_CHECK(c.expires == c.expires);
		ts_aws_cred_release(&c);
		FUZZ_CHECK(!c.access_key && !c.secret_key && !c.token && c.expires == 0);
		return;
	}
	FUZZ_CHECK(strcmp(c.access_key, "untouched") == 0 && !c.secret_key && c.expires == 7);
	FUZZ_CHECK(strncmp(err, "the credential document", 23) == 0 ||
		   strcmp(err, "out of memory") == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	if (size && data[0] == '{')
		fuzz_json(data, size);
	else
		fuzz_ini(data, size);
	return 0;
}
