/*
 * awscred.c — the AWS CLI's settings and credential chain (see awscred.h for
 * the order; it follows the CLI's own resolver, provider by provider).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "awscred.h"
#include "tstime.h"
#include "util.h"

#define FILE_MAX ((size_t)1 << 20)   /* a settings file larger is a mistake */
#define REFRESH_WINDOW 300.0         /* seconds before expiry */
#define CONTAINER_HOST "http://169.254.170.2"
#define IMDS_BASE "http://169.254.169.254"

static void seterr(char *err, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (!err || !n)
		return;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
}

/* Environment variables set to "" count as unset. */
static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static int is_true(const char *v)
{
	return v && strcasecmp(v, "true") == 0;
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* ------------------------------------------------------------------ */
/* The INI reader.  It follows Python's configparser as botocore drives it
 * (RawConfigParser, strict, no inline comments), so a file means the same
 * to ts as to the CLI. */

/* configparser's whitespace, ASCII part (str.strip(), \S). */
static int ini_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1f);
}

/* Strict UTF-8 (what Python's decoder accepts): the offset of the first
 * bad byte, or n. */
static size_t utf8_check(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = p[i];
		size_t k;
		unsigned min, cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xC2 && c <= 0xDF) {
			k = 1, min = 0x80, cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			k = 2, min = 0x800, cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			k = 3, min = 0x10000, cp = c & 0x07;
		} else {
			return i;
		}
		if (n - i <= k)
			return i;
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xC0) != 0x80)
				return i;
			cp = cp << 6 | (p[i + j] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return i;
		i += k + 1;
	}
	return n;
}

static char *dupn(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

static void section_release(struct ts_aws_ini_section *s)
{
	free(s->name);
	for (size_t i = 0; i < s->n; i++) {
		free(s->kv[i].key);
		wipe_free(s->kv[i].value);
	}
	free(s->kv);
	memset(s, 0, sizeof(*s));
}

void ts_aws_ini_release(struct ts_aws_ini *ini)
{
	for (size_t i = 0; i < ini->n; i++)
		section_release(&ini->sec[i]);
	free(ini->sec);
	section_release(&ini->defaults);
	unsigned line = ini->err_line;
	memset(ini, 0, sizeof(*ini));
	ini->err_line = line;
}

const struct ts_aws_ini_section *ts_aws_ini_section(const struct ts_aws_ini *ini,
						    const char *name)
{
	for (size_t i = 0; i < ini->n; i++)
		if (strcmp(ini->sec[i].name, name) == 0)
			return &ini->sec[i];
	return NULL;
}

static const struct ts_aws_ini_kv *section_find(const struct ts_aws_ini_section *s,
						const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->kv[i].key, key) == 0)
			return &s->kv[i];
	return NULL;
}

const char *ts_aws_ini_get(const struct ts_aws_ini *ini,
			   const struct ts_aws_ini_section *sec, const char *key)
{
	const struct ts_aws_ini_kv *kv;

	if (!sec)
		return NULL;
	if ((kv = section_find(sec, key)) || (kv = section_find(&ini->defaults, key)))
		return kv->value;
	return NULL;
}

struct ini_state {
	struct ts_aws_ini *ini;
	struct ts_aws_ini_section *cur;  /* NULL before the first header */
	struct ts_aws_ini_kv *opt;       /* the key whose value may go on */
	struct ts_buf val;               /* that value so far */
	int nested;                      /* it began empty: a sub-section */
	size_t indent;                   /* the indentation of its key line */
	char *err;
	size_t errn;
};

/* The value being gathered is complete: trailing blank lines dropped. */
static int ini_flush(struct ini_state *st)
{
	if (!st->opt)
		return 0;
	while (st->val.len && (ini_ws((unsigned char)st->val.data[st->val.len - 1]) ||
				st->val.data[st->val.len - 1] == '\n'))
		st->val.len--;
	char *v = dupn(st->val.data, st->val.len);
	explicit_bzero(st->val.data, st->val.len);
	ts_buf_reset(&st->val);
	if (!v)
		return -1;
	st->opt->value = v;
	st->opt = NULL;
	return 0;
}

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 8;
	void *q = realloc(*p, c * size);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

static int ini_header(struct ini_state *st, const char *name, size_t n, unsigned line)
{
	struct ts_aws_ini *ini = st->ini;

	if (n == 7 && memcmp(name, "DEFAULT", 7) == 0) {
		/* configparser's default section: repeatable, its keys show
		 * through every other section. */
		if (!ini->defaults.name && !(ini->defaults.name = dupn(name, n)))
			return -1;
		if (!ini->defaults.line)
			ini->defaults.line = line;
		st->cur = &ini->defaults;
		return 0;
	}
	for (size_t i = 0; i < ini->n; i++) {
		if (strlen(ini->sec[i].name) == n && memcmp(ini->sec[i].name, name, n) == 0) {
			seterr(st->err, st->errn, "section '%s' repeated (first on line %u)",
			       ini->sec[i].name, ini->sec[i].line);
			return -2;
		}
	}
	if (grow((void **)&ini->sec, &ini->cap, ini->n, sizeof(*ini->sec)) < 0)
		return -1;
	struct ts_aws_ini_section *s = &ini->sec[ini->n];
	memset(s, 0, sizeof(*s));
	if (!(s->name = dupn(name, n)))
		return -1;
	s->line = line;
	ini->n++;
	st->cur = s;
	return 0;
}

static int ini_option(struct ini_state *st, const char *t, size_t n, size_t indent,
		      unsigned line)
{
	size_t d = 0;

	while (d < n && t[d] != '=' && t[d] != ':')
		d++;
	if (d == n) {
		seterr(st->err, st->errn, "expected 'key = value'");
		return -2;
	}
	size_t ke = d;
	while (ke > 0 && ini_ws((unsigned char)t[ke - 1]))
		ke--;
	if (ke == 0) {
		seterr(st->err, st->errn, "a setting without a name");
		return -2;
	}
	struct ts_aws_ini_section *s = st->cur;
	char *key = dupn(t, ke);
	if (!key)
		return -1;
	for (size_t i = 0; i < ke; i++)
		if (key[i] >= 'A' && key[i] <= 'Z')
			key[i] = (char)(key[i] - 'A' + 'a');
	const struct ts_aws_ini_kv *old = section_find(s, key);
	if (old) {
		seterr(st->err, st->errn, "a setting repeated in section '%s' (first on line %u)",
		       s->name, old->line);
		free(key);
		return -2;
	}
	if (grow((void **)&s->kv, &s->cap, s->n, sizeof(*s->kv)) < 0) {
		free(key);
		return -1;
	}
	struct ts_aws_ini_kv *kv = &s->kv[s->n++];
	kv->key = key;
	kv->value = NULL;
	kv->line = line;
	size_t vs = d + 1;
	while (vs < n && ini_ws((unsigned char)t[vs]))
		vs++;
	st->opt = kv;
	st->indent = indent;
	st->nested = vs == n;
	return ts_buf_add(&st->val, t + vs, n - vs) < 0 ? -1 : 0;
}

/* One line (without its line break). */
static int ini_line(struct ini_state *st, const char *p, size_t n, unsigned line)
{
	size_t a = 0, b = n;

	while (a < b && ini_ws((unsigned char)p[a]))
		a++;
	while (b > a && ini_ws((unsigned char)p[b - 1]))
		b--;
	if (a < b && (p[a] == '#' || p[a] == ';'))
		return 0; /* a comment leaves a value open */
	if (a == b) {
		/* configparser keeps blank lines inside a value */
		if (st->opt && ts_buf_addch(&st->val, '\n') < 0)
			return -1;
		return 0;
	}
	const char *t = p + a;
	size_t tn = b - a;
	if (st->opt && a > st->indent) {
		/* indented deeper than its key: the value goes on */
		if (st->nested && !memchr(t, '=', tn)) {
			seterr(st->err, st->errn,
			       "expected 'key = value' in the sub-section of '%s'", st->opt->key);
			return -2;
		}
		if (ts_buf_addch(&st->val, '\n') < 0 || ts_buf_add(&st->val, t, tn) < 0)
			return -1;
		return 0;
	}
	if (ini_flush(st) < 0)
		return -1;
	if (t[0] == '[') {
		/* "[" anything "]" up to the last ']' (configparser's
		 * permissive header; text after it is ignored) */
		size_t j = tn;
		while (j > 1 && t[j - 1] != ']')
			j--;
		if (j >= 3)
			return ini_header(st, t + 1, j - 2, line);
	}
	if (!st->cur) {
		seterr(st->err, st->errn, "a setting before any [section]");
		return -2;
	}
	return ini_option(st, t, tn, a, line);
}

int ts_aws_ini_parse(struct ts_aws_ini *ini, const char *p, size_t n, char *err,
		     size_t errn)
{
	struct ini_state st = { .ini = ini, .err = err, .errn = errn };
	unsigned line = 1;
	int rc = 0;

	memset(ini, 0, sizeof(*ini));
	ts_buf_init(&st.val, FILE_MAX);
	size_t bad = utf8_check((const unsigned char *)p, n);
	const char *nul = memchr(p, '\0', n);
	if (bad < n || nul) {
		size_t at = nul && (size_t)(nul - p) < bad ? (size_t)(nul - p) : bad;
		for (size_t i = 0; i < at; i++)
			line += p[i] == '\n' || (p[i] == '\r' && (i + 1 >= n || p[i + 1] != '\n'));
		seterr(err, errn, nul && (size_t)(nul - p) == at ? "a NUL byte" : "not UTF-8 text");
		rc = -2;
		goto out;
	}
	if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
		seterr(err, errn, "a byte order mark before the first section (the AWS CLI cannot "
		       "read this file either)");
		rc = -2;
		goto out;
	}
	for (size_t i = 0; i < n;) {
		size_t e = i;
		while (e < n && p[e] != '\n' && p[e] != '\r')
			e++;
		rc = ini_line(&st, p + i, e - i, line);
		if (rc < 0)
			goto out;
		/* universal newlines: \n, \r\n and \r each end a line */
		if (e < n && p[e] == '\r' && e + 1 < n && p[e + 1] == '\n')
			e++;
		i = e + 1;
		line++;
	}
	if (ini_flush(&st) < 0)
		rc = -1;
out:
	if (rc == -1)
		seterr(err, errn, "out of memory");
	if (rc < 0) {
		if (st.opt)
			st.opt->value = NULL;
		ini->err_line = line;
		ts_aws_ini_release(ini);
	}
	explicit_bzero(st.val.data, st.val.len);
	ts_buf_release(&st.val);
	return rc < 0 ? -1 : 0;
}

int ts_aws_ini_sub(const char *value, const char *subkey, struct ts_buf *out)
{
	int found = 0;

	if (!value || value[0] != '\n')
		return 0;
	for (const char *p = value + 1; *p;) {
		const char *e = strchr(p, '\n');
		if (!e)
			e = p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(e - p));
		if (eq) {
			const char *ka = p, *kb = eq, *va = eq + 1, *vb = e;
			while (ka < kb && ini_ws((unsigned char)*ka))
				ka++;
			while (kb > ka && ini_ws((unsigned char)kb[-1]))
				kb--;
			while (va < vb && ini_ws((unsigned char)*va))
				va++;
			while (vb > va && ini_ws((unsigned char)vb[-1]))
				vb--;
			/* the last one wins, as in the dict botocore builds */
			if ((size_t)(kb - ka) == strlen(subkey) &&
			    memcmp(ka, subkey, (size_t)(kb - ka)) == 0) {
				ts_buf_reset(out);
				if (ts_buf_add(out, va, (size_t)(vb - va)) < 0)
					return -1;
				found = 1;
			}
		}
		p = *e ? e + 1 : e;
	}
	return found;
}

/* shlex.split() in POSIX mode, as botocore splits "profile NAME": the
 * number of words, the second one in out.  -1 on unbalanced quotes or a
 * trailing backslash (botocore then ignores the section). */
static int shell_words(const char *s, struct ts_buf *second)
{
	int words = 0, inword = 0;
	char q = 0;

	ts_buf_reset(second);
	for (const char *p = s; *p; p++) {
		char c = *p, add = 0;
		int have = 0;

		if (q == '\'') {
			if (c == '\'')
				q = 0;
			else
				add = c, have = 1;
		} else if (q == '"') {
			if (c == '"') {
				q = 0;
			} else if (c == '\\') {
				if (!p[1])
					return -1;
				if (p[1] == '"' || p[1] == '\\')
					add = *++p, have = 1;
				else
					add = c, have = 1;
			} else {
				add = c, have = 1;
			}
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			inword = 0;
			continue;
		} else {
			if (!inword)
				words++;
			inword = 1;
			if (c == '\\') {
				if (!p[1])
					return -1;
				add = *++p, have = 1;
			} else if (c == '\'' || c == '"') {
				q = c;
			} else {
				add = c, have = 1;
			}
		}
		if (have && words == 2 && ts_buf_addch(second, add) < 0)
			return -1;
	}
	return q ? -1 : words;
}

int ts_aws_ini_section_name(const char *section, const char *prefix, struct ts_buf *out)
{
	if (strncmp(section, prefix, strlen(prefix)) != 0)
		return 0;
	return shell_words(section, out) == 2;
}

/* ------------------------------------------------------------------ */
/* Credential documents. */

static int header_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

void ts_aws_cred_release(struct ts_aws_cred *c)
{
	wipe_free(c->access_key);
	wipe_free(c->secret_key);
	wipe_free(c->token);
	memset(c, 0, sizeof(*c));
}

int ts_aws_cred_from_json(struct ts_aws_cred *c, const char *p, size_t n, char *err,
			  size_t errn)
{
	json_error_t je;
	json_t *j = json_loadb(p, n, 0, &je);
	struct ts_aws_cred t = { 0 };
	int rc = -1;

	if (!j || !json_is_object(j)) {
		seterr(err, errn, "the credential document is not a JSON object");
		goto out;
	}
	json_t *code = json_object_get(j, "Code");
	if (code && (!json_is_string(code) || strcmp(json_string_value(code), "Success") != 0)) {
		seterr(err, errn, "the credential document's Code is not \"Success\"");
		goto out;
	}
	static const char *const names[] = { "AccessKeyId", "SecretAccessKey", "Token" };
	char **dst[] = { &t.access_key, &t.secret_key, &t.token };
	for (int i = 0; i < 3; i++) {
		json_t *v = json_object_get(j, names[i]);
		if (!v || json_is_null(v)) {
			if (i == 2)
				continue;
			seterr(err, errn, "the credential document has no %s", names[i]);
			goto out;
		}
		const char *s = json_string_value(v);
		if (!s || (!*s && i < 2) || !header_safe(s)) {
			seterr(err, errn, "the credential document's %s is not a usable string",
			       names[i]);
			goto out;
		}
		if (*s && !(*dst[i] = strdup(s))) {
			seterr(err, errn, "out of memory");
			goto out;
		}
	}
	json_t *ex = json_object_get(j, "Expiration");
	if (ex && !json_is_null(ex)) {
		const char *s = json_string_value(ex);
		int64_t ms;
		if (!s || ts_time_parse_iso(s, strlen(s), &ms) < 0) {
			seterr(err, errn, "the credential document's Expiration is not an ISO 8601 time");
			goto out;
		}
		t.expires = (double)ms / 1000.0;
		if (t.expires == 0)
			t.expires = 1e-3; /* 0 means "never" */
	}
	*c = t;
	memset(&t, 0, sizeof(t));
	rc = 0;
out:
	ts_aws_cred_release(&t);
	if (j) {
		/* the secret's text lives in the tree too */
		json_t *s = json_object_get(j, "SecretAccessKey");
		if (json_is_string(s))
			explicit_bzero((char *)json_string_value(s), json_string_length(s));
		s = json_object_get(j, "Token");
		if (json_is_string(s))
			explicit_bzero((char *)json_string_value(s), json_string_length(s));
		json_decref(j);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Files. */

struct settings {
	char *cfg_path, *cred_path;
	struct ts_aws_ini cfg, cred;
	const struct ts_aws_ini_section *cfg_prof;  /* the profile's sections */
	const struct ts_aws_ini_section *cred_prof;
	struct ts_buf tmp;
};

static const char *home_dir(void)
{
	const char *h = env("HOME");
	if (h)
		return h;
	struct passwd *pw = getpwuid(getuid());
	return pw && pw->pw_dir ? pw->pw_dir : NULL;
}

/* os.path.expandvars then expanduser, as botocore expands both paths:
 * $NAME and ${NAME} (left as written when unset), a leading ~ or ~/. */
static char *expand_path(const char *s)
{
	struct ts_buf b;

	ts_buf_init(&b, 0);
	for (const char *p = s; *p;) {
		if (*p == '$') {
			const char *a = p + 1, *e;
			int brace = *a == '{';
			if (brace)
				a++;
			for (e = a; *e == '_' || (*e >= '0' && *e <= '9') || (*e >= 'a' && *e <= 'z') ||
				    (*e >= 'A' && *e <= 'Z');
			     e++)
				;
			if (e > a && (!brace || *e == '}')) {
				char *name = dupn(a, (size_t)(e - a));
				const char *v = name ? getenv(name) : NULL;
				free(name);
				if (v) {
					if (ts_buf_addstr(&b, v) < 0)
						goto oom;
					p = e + brace;
					continue;
				}
			}
		}
		if (ts_buf_addch(&b, *p++) < 0)
			goto oom;
	}
	if (b.data[0] == '~' && (b.data[1] == '/' || b.data[1] == '\0')) {
		const char *h = home_dir();
		if (h) {
			struct ts_buf t;
			ts_buf_init(&t, 0);
			if (ts_buf_addstr(&t, h) < 0 || ts_buf_addstr(&t, b.data + 1) < 0) {
				ts_buf_release(&t);
				goto oom;
			}
			ts_buf_release(&b);
			b = t;
		}
	}
	return ts_buf_detach(&b, NULL);
oom:
	ts_buf_release(&b);
	return NULL;
}

/* Read and parse one settings file: 0 (a missing file, or one that is not a
 * regular file, as the CLI's isfile() test, leaves ini empty) or -1. */
static int load_file(const char *path, struct ts_aws_ini *ini, char *err, size_t n)
{
	struct stat st;
	char *text = NULL;
	int fd, rc = -1;

	memset(ini, 0, sizeof(*ini));
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if ((size_t)st.st_size > FILE_MAX) {
		seterr(err, n, "%s: larger than 1 MiB, not a settings file", path);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		seterr(err, n, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	text = malloc(FILE_MAX + 1);
	long got = text ? ts_read_full(fd, text, FILE_MAX + 1) : -1;
	int e = errno;
	close(fd);
	if (!text) {
		seterr(err, n, "out of memory");
	} else if (got < 0) {
		seterr(err, n, "cannot read %s: %s", path, strerror(e));
	} else if ((size_t)got > FILE_MAX) {
		seterr(err, n, "%s: larger than 1 MiB, not a settings file", path);
	} else {
		char why[200];
		if (ts_aws_ini_parse(ini, text, (size_t)got, why, sizeof(why)) == 0)
			rc = 0;
		else
			seterr(err, n, "%s:%u: %s", path, ini->err_line, why);
		explicit_bzero(text, (size_t)got);
	}
	free(text);
	return rc;
}

/* The config-file section of a profile: [default] or [profile NAME]; when
 * several name it, the last (botocore builds a dict in file order). */
static const struct ts_aws_ini_section *config_profile(struct settings *s, const char *name)
{
	const struct ts_aws_ini_section *found = NULL;

	for (size_t i = 0; i < s->cfg.n; i++) {
		const char *sn = s->cfg.sec[i].name;
		if (strncmp(sn, "profile", 7) == 0) {
			if (ts_aws_ini_section_name(sn, "profile", &s->tmp) == 1 &&
			    strcmp(s->tmp.data, name) == 0)
				found = &s->cfg.sec[i];
		} else if (strcmp(sn, "default") == 0 && strcmp(name, "default") == 0) {
			found = &s->cfg.sec[i];
		}
	}
	return found;
}

/* A profile setting: the credentials file's section laid over the config
 * file's (botocore's full_config merges them that way). */
static const char *prof_get(const struct settings *s, const char *key)
{
	const char *v = ts_aws_ini_get(&s->cred, s->cred_prof, key);
	return v ? v : ts_aws_ini_get(&s->cfg, s->cfg_prof, key);
}

static void settings_release(struct settings *s)
{
	free(s->cfg_path);
	free(s->cred_path);
	ts_aws_ini_release(&s->cfg);
	ts_aws_ini_release(&s->cred);
	ts_buf_release(&s->tmp);
}

/* ------------------------------------------------------------------ */
/* Static credentials. */

static int set_static(struct ts_aws_cred *c, const char *ak, const char *sk, const char *tok)
{
	memset(c, 0, sizeof(*c));
	if (!(c->access_key = strdup(ak)) || !(c->secret_key = strdup(sk)) ||
	    (tok && *tok && !(c->token = strdup(tok)))) {
		ts_aws_cred_release(c);
		return -1;
	}
	return 0;
}

/* Keys from one file's section: 1 found, 0 none, -1 error. */
static int from_section(struct ts_aws_cred *c, const struct ts_aws_ini *ini,
			const struct ts_aws_ini_section *sec, const char *path, char *err,
			size_t n)
{
	const char *ak = ts_aws_ini_get(ini, sec, "aws_access_key_id");
	if (!ak)
		return 0;
	const char *sk = ts_aws_ini_get(ini, sec, "aws_secret_access_key");
	const char *tok = ts_aws_ini_get(ini, sec, "aws_session_token");
	if (!tok)
		tok = ts_aws_ini_get(ini, sec, "aws_security_token");
	if (!*ak || !sk || !*sk) {
		seterr(err, n, "%s: [%s]: aws_access_key_id %s", path, sec->name,
		       !*ak ? "is empty" : "without aws_secret_access_key");
		return -1;
	}
	if (!header_safe(ak) || !header_safe(sk) || (tok && !header_safe(tok))) {
		seterr(err, n, "%s: [%s]: a key holds a control character", path, sec->name);
		return -1;
	}
	if (set_static(c, ak, sk, tok) < 0) {
		seterr(err, n, "out of memory");
		return -1;
	}
	return 1;
}

/* ------------------------------------------------------------------ */
/* Container and instance metadata. */

static int url_host(const char *url, char *host, size_t n, int *https)
{
	const char *p;

	if (strncasecmp(url, "http://", 7) == 0)
		p = url + 7, *https = 0;
	else if (strncasecmp(url, "https://", 8) == 0)
		p = url + 8, *https = 1;
	else
		return -1;
	const char *at = p;
	const char *e = p + strcspn(p, "/?#");
	for (const char *q = p; q < e; q++)
		if (*q == '@')
			at = q + 1;
	p = at;
	size_t len;
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(e - p));
		if (!rb)
			return -1;
		p++;
		len = (size_t)(rb - p);
	} else {
		const char *colon = memchr(p, ':', (size_t)(e - p));
		len = (size_t)((colon ? colon : e) - p);
	}
	if (len == 0 || len >= n)
		return -1;
	memcpy(host, p, len);
	host[len] = '\0';
	return 0;
}

/* botocore's rule for a full URI: https anywhere, http only to a loopback
 * address or the hosts ECS and EKS serve credentials from. */
static int container_host_ok(const char *url)
{
	char host[256];
	int https;

	if (url_host(url, host, sizeof(host), &https) < 0)
		return 0;
	if (https)
		return 1;
	if (strcmp(host, "169.254.170.2") == 0 || strcmp(host, "169.254.170.23") == 0 ||
	    strcasecmp(host, "fd00:ec2::23") == 0 || strcasecmp(host, "localhost") == 0 ||
	    strcmp(host, "::1") == 0)
		return 1;
	/* 127.0.0.0/8, written as a dotted quad */
	unsigned a, b, c, d;
	char tail;
	return sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 && b < 256 &&
	       c < 256 && d < 256;
}

/* One GET or PUT with retries on transport failures and 5xx: 0 with resp
 * holding an answer (any status), -1 with err. */
static int fetch(struct ts_http *http, const char *method, const char *url,
		 const char *const *headers, long timeout_ms, int attempts, double pause,
		 struct ts_http_resp *resp, const char *what, char *err, size_t n)
{
	struct ts_http_req rq = {
		.method = method,
		.url = url,
		.headers = headers,
		.max_body = 64 * 1024,
		.timeout_ms = timeout_ms,
	};

	for (int i = 1;; i++) {
		int rc = ts_http_do(http, &rq, resp);
		if (rc == 0 && resp->status < 500)
			return 0;
		if (i >= attempts) {
			if (rc == 0)
				return 0;
			seterr(err, n, "%s: %s", what, resp->err);
			return -1;
		}
		if (pause > 0 && ts_backoff_sleep(pause, NULL) < 0) {
			seterr(err, n, "%s: interrupted", what);
			return -1;
		}
	}
}

static int container_fetch(struct ts_http *http, struct ts_aws_cred *c, char *err, size_t n)
{
	const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *tokfile = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *tokenv = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	struct ts_buf url, auth;
	struct ts_http_resp resp;
	int rc = -1;

	ts_buf_init(&url, 0);
	ts_buf_init(&auth, 64 * 1024);
	ts_http_resp_init(&resp);
	if (rel) {
		if (ts_buf_addstr(&url, CONTAINER_HOST) < 0 ||
		    (rel[0] != '/' && ts_buf_addch(&url, '/') < 0) || ts_buf_addstr(&url, rel) < 0)
			goto oom;
	} else {
		if (!container_host_ok(full)) {
			seterr(err, n, "container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI must be "
			       "https, or http to a loopback address, 169.254.170.2, 169.254.170.23 or "
			       "fd00:ec2::23");
			goto out;
		}
		if (ts_buf_addstr(&url, full) < 0)
			goto oom;
	}
	if (tokfile || tokenv) {
		if (ts_buf_addstr(&auth, "Authorization: ") < 0)
			goto oom;
		if (tokfile) {
			int fd = open(tokfile, O_RDONLY | O_CLOEXEC);
			char tb[8192];
			long got = fd < 0 ? -1 : ts_read_full(fd, tb, sizeof(tb));
			int e = errno;
			if (fd >= 0)
				close(fd);
			if (got < 0) {
				seterr(err, n, "container credentials: cannot read %s: %s", tokfile,
				       strerror(e));
				goto out;
			}
			if ((size_t)got == sizeof(tb)) {
				seterr(err, n, "container credentials: %s: the token is too long", tokfile);
				goto out;
			}
			int bad = ts_buf_add(&auth, tb, (size_t)got) < 0;
			explicit_bzero(tb, sizeof(tb));
			if (bad)
				goto oom;
		} else if (ts_buf_addstr(&auth, tokenv) < 0) {
			goto oom;
		}
		/* as botocore: a token with a line break is refused, not cut */
		if (!header_safe(auth.data)) {
			seterr(err, n, "container credentials: the authorization token%s%s is not a "
			       "header value (a line break or control character)",
			       tokfile ? " in " : "", tokfile ? tokfile : "");
			goto out;
		}
	}
	const char *hdrs[] = { "Accept: application/json", auth.len ? auth.data : NULL, NULL };
	if (fetch(http, "GET", url.data, hdrs, 2000, 3, 1.0, &resp, "container credentials", err,
		  n) < 0)
		goto out;
	if (resp.status != 200) {
		seterr(err, n, "container credentials: the endpoint answered HTTP %ld", resp.status);
		goto out;
	}
	char why[160];
	if (ts_aws_cred_from_json(c, resp.body.data, resp.body.len, why, sizeof(why)) < 0) {
		seterr(err, n, "container credentials: %s", why);
		goto out;
	}
	rc = 0;
	goto out;
oom:
	seterr(err, n, "out of memory");
out:
	explicit_bzero(auth.data, auth.len);
	explicit_bzero(resp.body.data, resp.body.len);
	ts_buf_release(&url);
	ts_buf_release(&auth);
	ts_http_resp_release(&resp);
	return rc;
}

static int container_configured(void)
{
	return env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") ||
	       env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
}

static long env_long(const char *name, long def, long min, long max)
{
	const char *v = env(name);
	uint64_t u;

	if (!v || ts_parse_u64(v, &u) < 0 || (long long)u < min || (long long)u > max)
		return def;
	return (long)u;
}

/* The role name IMDS lists: IAM's characters only, so it can go into the
 * URL as it is. */
static int role_ok(const char *s, size_t n)
{
	if (n == 0 || n > 128)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("+=,.@_-", c)))
			return 0;
	}
	return 1;
}

static int imds_fetch(struct ts_http *http, struct ts_aws_cred *c, char *err, size_t n)
{
	const char *base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	long tmo = env_long("AWS_METADATA_SERVICE_TIMEOUT", 1, 1, 3600) * 1000;
	int attempts = (int)env_long("AWS_METADATA_SERVICE_NUM_ATTEMPTS", 1, 1, 100);
	struct ts_buf url, tokh;
	struct ts_http_resp resp;
	int rc = -1;

	if (!base)
		base = IMDS_BASE;
	size_t bl = strlen(base);
	while (bl && base[bl - 1] == '/')
		bl--;
	ts_buf_init(&url, 0);
	ts_buf_init(&tokh, 0);
	ts_http_resp_init(&resp);

	if (ts_buf_add(&url, base, bl) < 0 || ts_buf_addstr(&url, "/latest/api/token") < 0)
		goto oom;
	const char *put_h[] = { "X-aws-ec2-metadata-token-ttl-seconds: 21600", NULL };
	if (fetch(http, "PUT", url.data, put_h, tmo, attempts, 0, &resp, "instance metadata", err,
		  n) < 0)
		goto out;
	if (resp.status != 200) {
		seterr(err, n, "instance metadata: the token request (PUT) answered HTTP %ld "
		       "(IMDSv1 is not used)", resp.status);
		goto out;
	}
	if (!resp.body.len || !header_safe(resp.body.data) || strlen(resp.body.data) != resp.body.len) {
		seterr(err, n, "instance metadata: the session token is not a header value");
		goto out;
	}
	if (ts_buf_addstr(&tokh, "X-aws-ec2-metadata-token: ") < 0 ||
	    ts_buf_add(&tokh, resp.body.data, resp.body.len) < 0)
		goto oom;
	explicit_bzero(resp.body.data, resp.body.len);
	const char *get_h[] = { tokh.data, NULL };

	ts_buf_setlen(&url, bl);
	if (ts_buf_addstr(&url, "/latest/meta-data/iam/security-credentials/") < 0)
		goto oom;
	if (fetch(http, "GET", url.data, get_h, tmo, attempts, 0, &resp, "instance metadata", err,
		  n) < 0)
		goto out;
	if (resp.status == 404) {
		seterr(err, n, "instance metadata: no IAM role is attached to this instance");
		goto out;
	}
	if (resp.status != 200) {
		seterr(err, n, "instance metadata: the role list answered HTTP %ld", resp.status);
		goto out;
	}
	const char *r = resp.body.data;
	size_t rn = strcspn(r, "\r\n");
	while (rn && (r[rn - 1] == ' ' || r[rn - 1] == '\t'))
		rn--;
	while (rn && (*r == ' ' || *r == '\t'))
		r++, rn--;
	if (!role_ok(r, rn)) {
		seterr(err, n, rn ? "instance metadata: the role list holds no IAM role name"
				  : "instance metadata: no IAM role is attached to this instance");
		goto out;
	}
	if (ts_buf_add(&url, r, rn) < 0)
		goto oom;
	if (fetch(http, "GET", url.data, get_h, tmo, attempts, 0, &resp, "instance metadata", err,
		  n) < 0)
		goto out;
	if (resp.status != 200) {
		seterr(err, n, "instance metadata: the role's credentials answered HTTP %ld",
		       resp.status);
		goto out;
	}
	char why[160];
	if (ts_aws_cred_from_json(c, resp.body.data, resp.body.len, why, sizeof(why)) < 0) {
		seterr(err, n, "instance metadata: %s", why);
		goto out;
	}
	rc = 0;
	goto out;
oom:
	seterr(err, n, "out of memory");
out:
	explicit_bzero(tokh.data, tokh.len);
	explicit_bzero(resp.body.data, resp.body.len);
	ts_buf_release(&url);
	ts_buf_release(&tokh);
	ts_http_resp_release(&resp);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The chain. */

static const char *unsupported(const struct settings *s, int explicit_profile, const char **how)
{
	const char *arn = prof_get(s, "role_arn");

	if (arn && (prof_get(s, "source_profile") || prof_get(s, "credential_source"))) {
		*how = "assumes a role";
		return "role_arn";
	}
	if (arn && prof_get(s, "web_identity_token_file")) {
		*how = "uses web identity";
		return "web_identity_token_file";
	}
	if (!explicit_profile && env("AWS_WEB_IDENTITY_TOKEN_FILE") && env("AWS_ROLE_ARN")) {
		*how = NULL;
		return "AWS_WEB_IDENTITY_TOKEN_FILE";
	}
	static const char *const sso[] = { "sso_session", "sso_start_url", "sso_account_id",
					   "sso_role_name" };
	for (size_t i = 0; i < sizeof(sso) / sizeof(*sso); i++) {
		if (prof_get(s, sso[i])) {
			*how = "uses IAM Identity Center";
			return sso[i];
		}
	}
	return NULL;
}

static int unsupported_err(const char *profile, const char *key, const char *how, char *err,
			   size_t n)
{
	if (how)
		seterr(err, n, "profile '%s' %s (%s), which ts does not do: give it credentials "
		       "another way (e.g. the environment, from `aws configure export-credentials "
		       "--format env`)", profile, how, key);
	else
		seterr(err, n, "web identity credentials (%s with AWS_ROLE_ARN) are not supported: "
		       "give ts credentials another way (e.g. the environment, from `aws configure "
		       "export-credentials --format env`)", key);
	return -1;
}

static int resolve_cred(struct ts_aws_config *c, struct settings *s, struct ts_http *http,
			char *err, size_t n)
{
	const char *how, *key;
	char imds_why[256] = "";
	int r;

	if (!c->explicit_profile && env("AWS_ACCESS_KEY_ID")) {
		const char *sk = env("AWS_SECRET_ACCESS_KEY");
		const char *tok = env("AWS_SESSION_TOKEN");
		if (!tok)
			tok = env("AWS_SECURITY_TOKEN");
		if (!sk) {
			seterr(err, n, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
			return -1;
		}
		if (!header_safe(env("AWS_ACCESS_KEY_ID")) || !header_safe(sk) ||
		    (tok && !header_safe(tok))) {
			seterr(err, n, "the AWS credentials in the environment hold a control character");
			return -1;
		}
		if (set_static(&c->cred, env("AWS_ACCESS_KEY_ID"), sk, tok) < 0) {
			seterr(err, n, "out of memory");
			return -1;
		}
		c->source = "environment";
		return 0;
	}
	if ((key = unsupported(s, c->explicit_profile, &how)))
		return unsupported_err(c->profile, key, how, err, n);
	r = from_section(&c->cred, &s->cred, s->cred_prof, s->cred_path, err, n);
	if (r) {
		c->source = "shared-credentials-file";
		return r < 0 ? -1 : 0;
	}
	if (prof_get(s, "credential_process"))
		return unsupported_err(c->profile, "credential_process", "runs a credential process",
				       err, n);
	r = from_section(&c->cred, &s->cfg, s->cfg_prof, s->cfg_path, err, n);
	if (r) {
		c->source = "config-file";
		return r < 0 ? -1 : 0;
	}
	if (http && container_configured()) {
		if (container_fetch(http, &c->cred, err, n) < 0)
			return -1;
		c->source = "container";
		return 0;
	}
	if (is_true(getenv("AWS_EC2_METADATA_DISABLED"))) {
		snprintf(imds_why, sizeof(imds_why), "instance metadata: disabled by "
			 "AWS_EC2_METADATA_DISABLED");
	} else if (!http) {
		snprintf(imds_why, sizeof(imds_why), "instance metadata: not consulted");
	} else {
		if (imds_fetch(http, &c->cred, imds_why, sizeof(imds_why)) == 0) {
			c->source = "instance-metadata";
			return 0;
		}
	}
	seterr(err, n, "no credentials found for profile '%s': none in the environment, %s or %s; "
	       "container credentials %s; %s", c->profile, s->cred_path, s->cfg_path,
	       container_configured() ? "not consulted" : "not configured", imds_why);
	return -1;
}

/* endpoint_s3 in the CLI's order (its configured endpoint URL provider). */
static int resolve_endpoint(struct ts_aws_config *c, struct settings *s, char *err, size_t n)
{
	const char *v = NULL;
	int r;

	if (is_true(env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) ||
	    (!env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") &&
	     is_true(prof_get(s, "ignore_configured_endpoint_urls"))))
		return 0;
	if ((v = env("AWS_ENDPOINT_URL_S3")) || (v = env("AWS_ENDPOINT_URL")))
		return (c->endpoint_s3 = strdup(v)) ? 0 : -1;
	const char *svc = prof_get(s, "services");
	if (svc) {
		const struct ts_aws_ini_section *found = NULL;
		for (size_t i = 0; i < s->cfg.n; i++) {
			if (ts_aws_ini_section_name(s->cfg.sec[i].name, "services", &s->tmp) == 1 &&
			    strcmp(s->tmp.data, svc) == 0)
				found = &s->cfg.sec[i];
		}
		/* an empty section is missing too, as botocore has it */
		if (!found || (!found->n && !s->cfg.defaults.n)) {
			seterr(err, n, "%s: profile '%s' names services '%s', which has no "
			       "[services %s] section with settings", s->cfg_path, c->profile, svc, svc);
			return -2;
		}
		r = ts_aws_ini_sub(ts_aws_ini_get(&s->cfg, found, "s3"), "endpoint_url", &s->tmp);
		if (r)
			return r < 0 || !(c->endpoint_s3 = strdup(s->tmp.data)) ? -1 : 0;
	}
	r = ts_aws_ini_sub(prof_get(s, "s3"), "endpoint_url", &s->tmp);
	if (r)
		return r < 0 || !(c->endpoint_s3 = strdup(s->tmp.data)) ? -1 : 0;
	if ((v = prof_get(s, "endpoint_url")))
		return (c->endpoint_s3 = strdup(v)) ? 0 : -1;
	return 0;
}

int ts_aws_config_load(struct ts_aws_config *c, struct ts_http *http, char *err, size_t n)
{
	struct settings s;
	char *named = c->profile;
	const char *v;
	int rc = -1;

	memset(&s, 0, sizeof(s));
	ts_buf_init(&s.tmp, 0);
	memset(c, 0, sizeof(*c));
	if (named) {
		c->profile = named;
		c->explicit_profile = 1;
	} else if ((v = env("AWS_PROFILE")) || (v = env("AWS_DEFAULT_PROFILE"))) {
		if (!(c->profile = strdup(v)))
			goto oom;
	} else if (!(c->profile = strdup("default"))) {
		goto oom;
	}
	int named_any = named || env("AWS_PROFILE") || env("AWS_DEFAULT_PROFILE");

	v = env("AWS_CONFIG_FILE");
	if (!(s.cfg_path = expand_path(v ? v : "~/.aws/config")))
		goto oom;
	v = env("AWS_SHARED_CREDENTIALS_FILE");
	if (!(s.cred_path = expand_path(v ? v : "~/.aws/credentials")))
		goto oom;
	if (load_file(s.cfg_path, &s.cfg, err, n) < 0 || load_file(s.cred_path, &s.cred, err, n) < 0)
		goto fail;
	s.cfg_prof = config_profile(&s, c->profile);
	s.cred_prof = ts_aws_ini_section(&s.cred, c->profile);
	if (named_any && !s.cfg_prof && !s.cred_prof) {
		seterr(err, n, "profile '%s' not found in %s or %s", c->profile, s.cfg_path,
		       s.cred_path);
		goto fail;
	}

	if ((v = env("AWS_REGION")) || (v = env("AWS_DEFAULT_REGION")) ||
	    ((v = prof_get(&s, "region")) && *v))
		c->region = strdup(v);
	else
		c->region = strdup("us-east-1");
	if (!c->region)
		goto oom;
	int r = resolve_endpoint(c, &s, err, n);
	if (r == -1)
		goto oom;
	if (r < 0)
		goto fail;
	if (resolve_cred(c, &s, http, err, n) < 0)
		goto fail;
	rc = 0;
	goto out;
oom:
	seterr(err, n, "out of memory");
fail:
	ts_aws_config_release(c);
out:
	settings_release(&s);
	return rc;
}

int ts_aws_cred_refresh(struct ts_aws_config *c, struct ts_http *http, char *err, size_t n)
{
	struct ts_aws_cred fresh = { 0 };
	int rc;

	if (c->cred.expires == 0 || !c->source)
		return 0;
	if (c->cred.expires - (double)time(NULL) > REFRESH_WINDOW)
		return 0;
	if (!http) {
		seterr(err, n, "%s credentials expire and there is no HTTP client to renew them",
		       c->source);
		return -1;
	}
	if (strcmp(c->source, "container") == 0)
		rc = container_fetch(http, &fresh, err, n);
	else if (strcmp(c->source, "instance-metadata") == 0)
		rc = imds_fetch(http, &fresh, err, n);
	else
		return 0;
	if (rc < 0)
		return -1;
	ts_aws_cred_release(&c->cred);
	c->cred = fresh;
	return 0;
}

void ts_aws_config_release(struct ts_aws_config *c)
{
	free(c->profile);
	free(c->region);
	free(c->endpoint_s3);
	ts_aws_cred_release(&c->cred);
	memset(c, 0, sizeof(*c));
}

void ts_aws_key_masked(const char *access_key, char *out, size_t outn)
{
	size_t l = access_key ? strlen(access_key) : 0;

	if (!outn)
		return;
	/* as `aws configure list`: sixteen stars and the last four */
	snprintf(out, outn, "****************%s", l > 4 ? access_key + l - 4 : "");
}
