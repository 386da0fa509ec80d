/*
 * dqfile.c — the DQDL file rules on local paths (the contract is in
 * dqfile.h).
 *
 * A rule runs in three steps: list the files of its path(s) (stat only),
 * narrow the list with the recentFiles / uriRegex tags, then decide: from
 * the stat data (FileFreshness, FileSize) or from checksums (FileMatch,
 * FileUniqueness), each file read once as a stream.
 */
#include "dqfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "tstime.h"
#include "util.h"

enum { PASS = 0, FAIL = 1, ERROR = 2 };

/* Deeper than any real data tree; each level holds one descriptor open. */
#define MAX_DEPTH 128
#define READ_BLOCK (64 * 1024)

struct finfo {
	char *path;            /* as shown in messages: root "/" relative */
	size_t rel;            /* offset of the path below the given one */
	int64_t mtime_ms;
	uint64_t size;
	unsigned char md[EVP_MAX_MD_SIZE];
};

struct flist {
	struct finfo *v;
	size_t n, cap;
};

struct ctx {
	const struct ts_dq_rule *r;
	const struct ts_dq_env *env;
	struct ts_dqfile_result *res;
	const EVP_MD *md;      /* NULL until a rule needs checksums */
	unsigned mdlen;
	const char *md_name;
	unsigned char *block;  /* READ_BLOCK bytes, for hashing */
};

/* ---- results ------------------------------------------------------------- */

static void vset(struct ts_dqfile_result *res, int outcome, const char *fmt, va_list ap)
{
	res->outcome = outcome;
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
}

static int set(struct ts_dqfile_result *res, int outcome, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int set(struct ts_dqfile_result *res, int outcome, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(res, outcome, fmt, ap);
	va_end(ap);
	return -1;
}

static void metric(struct ts_dqfile_result *res, const char *name, double v)
{
	if (res->nmetrics >= sizeof(res->metrics) / sizeof(res->metrics[0]))
		return;
	struct ts_dqfile_metric *m = &res->metrics[res->nmetrics++];
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->value = v;
}

static void fmt_time(char *out, size_t n, int64_t ms)
{
	struct ts_civil c;
	ts_civil_from_ms(ms, &c);
	snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year, c.month, c.day,
		 c.hour, c.min, c.sec, c.msec);
}

static void fmt_hex(char *out, const unsigned char *md, unsigned n)
{
	static const char hex[] = "0123456789abcdef";
	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- tags ------------------------------------------------------------------ */

static const char *tag(const struct ts_dq_rule *r, const char *key)
{
	for (size_t i = 0; i < r->ntags; i++)
		if (strcasecmp(r->tags[i].key, key) == 0)
			return r->tags[i].value;
	return NULL;
}

static int tag_true(const struct ts_dq_rule *r, const char *key)
{
	const char *v = tag(r, key);
	return v && strcasecmp(v, "true") == 0;
}

/* "MD5", "SHA-1", "SHA-256", also without the hyphen and in any case. */
static int pick_md(struct ctx *c)
{
	const char *v = tag(c->r, "hashAlgorithm");
	char norm[16];
	size_t n = 0;

	for (const char *p = v ? v : "SHA-256"; *p && n + 1 < sizeof(norm); p++)
		if (*p != '-' && *p != '_')
			norm[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
	norm[n] = '\0';
	if (strcmp(norm, "MD5") == 0) {
		c->md = EVP_md5();
		c->md_name = "MD5";
	} else if (strcmp(norm, "SHA1") == 0) {
		c->md = EVP_sha1();
		c->md_name = "SHA-1";
	} else if (strcmp(norm, "SHA256") == 0) {
		c->md = EVP_sha256();
		c->md_name = "SHA-256";
	} else {
		return set(c->res, ERROR,
			   "hashAlgorithm \"%s\" is not supported: MD5, SHA-1 or SHA-256", v);
	}
	c->mdlen = (unsigned)EVP_MD_get_size(c->md);
	return 0;
}

/* ---- listing --------------------------------------------------------------- */

/* "s3://..." and any other "scheme://": 1 and the scheme in lower case. */
static int url_scheme(const char *p, char *scheme, size_t n)
{
	size_t i = 0;
	if (!((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')))
		return 0;
	while ((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z') ||
	       (p[i] >= '0' && p[i] <= '9') || p[i] == '+' || p[i] == '-' || p[i] == '.')
		i++;
	if (strncmp(p + i, "://", 3) != 0)
		return 0;
	size_t k;
	for (k = 0; k < i && k + 1 < n; k++)
		scheme[k] = (char)(p[k] >= 'A' && p[k] <= 'Z' ? p[k] - 'A' + 'a' : p[k]);
	scheme[k] = '\0';
	return 1;
}

static int64_t mtime_ms(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

static int add_file(struct flist *l, const char *path, size_t pathlen, size_t rel,
		    const struct stat *st, struct ts_dqfile_result *res)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct finfo *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return set(res, ERROR, "out of memory listing files");
		l->v = v;
		l->cap = cap;
	}
	struct finfo *f = &l->v[l->n];
	memset(f, 0, sizeof(*f));
	f->path = malloc(pathlen + 1);
	if (!f->path)
		return set(res, ERROR, "out of memory listing files");
	memcpy(f->path, path, pathlen);
	f->path[pathlen] = '\0';
	f->rel = rel;
	f->mtime_ms = mtime_ms(st);
	f->size = (uint64_t)st->st_size;
	l->n++;
	return 0;
}

static void flist_release(struct flist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

struct walk {
	char path[PATH_MAX];
	size_t rel;            /* where the part below the root starts */
	struct flist *l;
	struct ts_dqfile_result *res;
};

/* The regular files below the directory open as dfd, whose path is
 * w->path[0..len).  Entries are opened relative to dfd, directories with
 * O_NOFOLLOW, so a link swapped in for a directory is never entered. */
static int walk_dir(struct walk *w, int dfd, size_t len, int depth)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		int e = errno;
		close(dfd);
		return set(w->res, ERROR, "cannot read directory %.*s: %s", (int)len, w->path,
			   strerror(e));
	}
	int rc = 0;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				rc = set(w->res, ERROR, "cannot read directory %.*s: %s", (int)len,
					 w->path, strerror(errno));
			break;
		}
		const char *name = de->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		size_t nlen = strlen(name);
		size_t sep = len > 0 && w->path[len - 1] != '/';
		if (len + sep + nlen + 1 > sizeof(w->path)) {
			rc = set(w->res, ERROR, "path too long below %.*s", (int)len, w->path);
			break;
		}
		if (sep)
			w->path[len] = '/';
		memcpy(w->path + len + sep, name, nlen + 1);
		size_t plen = len + sep + nlen;

		struct stat st;
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = set(w->res, ERROR, "cannot stat %s: %s", w->path, strerror(errno));
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			if (fstatat(dfd, name, &st, 0) < 0) {
				rc = set(w->res, ERROR, "cannot follow the link %s: %s", w->path,
					 strerror(errno));
				break;
			}
			if (S_ISREG(st.st_mode) &&
			    (rc = add_file(w->l, w->path, plen, w->rel, &st, w->res)) < 0)
				break;
			continue; /* links to directories are not entered */
		}
		if (S_ISREG(st.st_mode)) {
			if ((rc = add_file(w->l, w->path, plen, w->rel, &st, w->res)) < 0)
				break;
		} else if (S_ISDIR(st.st_mode)) {
			if (depth >= MAX_DEPTH) {
				rc = set(w->res, ERROR, "%s: directories nested deeper than %d",
					 w->path, MAX_DEPTH);
				break;
			}
			int sub = openat(dfd, name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				rc = set(w->res, ERROR, "cannot open directory %s: %s", w->path,
					 strerror(errno));
				break;
			}
			if ((rc = walk_dir(w, sub, plen, depth + 1)) < 0)
				break;
		}
		/* fifos, sockets and devices are not data files */
	}
	closedir(d);
	w->path[len] = '\0';
	return rc;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct finfo *)a)->path, ((const struct finfo *)b)->path);
}

/*
 * Append the files of path to l.  0; 1 when the path does not exist (res
 * holds the FAIL); -1 with an ERROR in res.
 */
static int list_path(const char *path, struct flist *l, struct ts_dqfile_result *res)
{
	char scheme[32];
	struct stat st;

	if (url_scheme(path, scheme, sizeof(scheme))) {
		set(res, ERROR, "%s:// paths are not supported here: give a local path", scheme);
		return -1;
	}
	if (!*path) {
		set(res, ERROR, "an empty path: give a local path");
		return -1;
	}
	if (stat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			set(res, FAIL, "%s does not exist", path);
			return 1;
		}
		set(res, ERROR, "cannot stat %s: %s", path, strerror(errno));
		return -1;
	}
	size_t len = strlen(path);
	if (S_ISREG(st.st_mode)) {
		const char *base = strrchr(path, '/');
		size_t rel = base ? (size_t)(base - path) + 1 : 0;
		return add_file(l, path, len, rel, &st, res);
	}
	if (!S_ISDIR(st.st_mode)) {
		set(res, ERROR, "%s is not a regular file or a directory", path);
		return -1;
	}

	struct walk *w = malloc(sizeof(*w));
	if (!w) {
		set(res, ERROR, "out of memory listing files");
		return -1;
	}
	if (len + 1 >= sizeof(w->path)) {
		free(w);
		set(res, ERROR, "path too long: %s", path);
		return -1;
	}
	memcpy(w->path, path, len + 1);
	w->rel = len + (len > 0 && path[len - 1] != '/');
	w->l = l;
	w->res = res;
	/* the path given is followed even when it is a link */
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;
	if (dfd < 0)
		rc = set(res, ERROR, "cannot open directory %s: %s", path, strerror(errno));
	else
		rc = walk_dir(w, dfd, len, 1);
	free(w);
	return rc < 0 ? -1 : 0;
}

/* ---- filters (recentFiles, uriRegex) ----------------------------------- */

static int by_recent(const void *a, const void *b)
{
	const struct finfo *x = a, *y = b;
	if (x->mtime_ms != y->mtime_ms)
		return x->mtime_ms > y->mtime_ms ? -1 : 1;
	return strcmp(x->path, y->path);
}

static int keep_recent(struct flist *l, const char *v, struct ts_dqfile_result *res)
{
	uint64_t n;
	if (ts_parse_u64(v, &n) < 0 || n == 0)
		return set(res, ERROR, "recentFiles = \"%s\": give a whole number of files, 1 or more",
			   v);
	if (n >= l->n)
		return 0;
	qsort(l->v, l->n, sizeof(*l->v), by_recent);
	for (size_t i = (size_t)n; i < l->n; i++)
		free(l->v[i].path);
	l->n = (size_t)n;
	qsort(l->v, l->n, sizeof(*l->v), by_path);
	return 0;
}

static int keep_matching(struct flist *l, const char *re, struct ts_dqfile_result *res)
{
	regex_t rx;
	int e = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);
	if (e != 0) {
		char msg[128];
		regerror(e, &rx, msg, sizeof(msg));
		return set(res, ERROR, "uriRegex \"%s\" is not a POSIX extended regular expression: %s",
			   re, msg);
	}
	size_t k = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (regexec(&rx, l->v[i].path, 0, NULL, 0) == 0)
			l->v[k++] = l->v[i];
		else
			free(l->v[i].path);
	}
	l->n = k;
	regfree(&rx);
	return 0;
}

static int filter(const struct ts_dq_rule *r, struct flist *l, struct ts_dqfile_result *res)
{
	const char *recent = tag(r, "recentFiles");
	const char *re = tag(r, "uriRegex");
	const char *order = tag(r, "filterOrder");
	int regex_first = 0;

	if (order) {
		const char *a = strstr(order, "uriRegex"), *b = strstr(order, "recentFiles");
		regex_first = a && (!b || a < b);
	}
	if (regex_first && re && keep_matching(l, re, res) < 0)
		return -1;
	if (recent && keep_recent(l, recent, res) < 0)
		return -1;
	if (!regex_first && re && keep_matching(l, re, res) < 0)
		return -1;
	return 0;
}

/*
 * The files a rule's paths (params[first..]) stand for, or the inferred
 * ones when it has none.  0; 1 FAIL (missing) in res; -1 ERROR in res.
 */
static int collect(const struct ts_dq_rule *r, size_t param, const char *const *inferred,
		   size_t ninferred, struct flist *l, struct ts_dqfile_result *res)
{
	int rc;
	if (param < r->nparams) {
		rc = list_path(r->params[param].val, l, res);
	} else {
		if (ninferred == 0) {
			set(res, ERROR, "%s without a path applies to the input files, and there "
				"are none here: give a path", r->type->name);
			return -1;
		}
		rc = 0;
		for (size_t i = 0; i < ninferred && rc == 0; i++) {
			if (strcmp(inferred[i], "-") == 0) {
				set(res, ERROR, "%s without a path applies to the input files, and "
					"standard input is not a file: give a path", r->type->name);
				return -1;
			}
			rc = list_path(inferred[i], l, res);
		}
	}
	if (rc != 0)
		return rc;
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), by_path);
	return filter(r, l, res) < 0 ? -1 : 0;
}

/* ---- checksums ------------------------------------------------------------ */

static int hash_file(struct ctx *c, struct finfo *f)
{
	/* O_NONBLOCK: a fifo put in the file's place must not hang the run */
	int fd = open(f->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return set(c->res, ERROR, "cannot open %s: %s", f->path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return set(c->res, ERROR, "%s is no longer a regular file", f->path);
	}
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	if (!mc || EVP_DigestInit_ex(mc, c->md, NULL) != 1) {
		EVP_MD_CTX_free(mc);
		close(fd);
		return set(c->res, ERROR, "cannot start a %s checksum", c->md_name);
	}
	int rc = 0;
	for (;;) {
		ssize_t n = read(fd, c->block, READ_BLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = set(c->res, ERROR, "cannot read %s: %s", f->path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(mc, c->block, (size_t)n) != 1) {
			rc = set(c->res, ERROR, "%s checksum of %s failed", c->md_name, f->path);
			break;
		}
	}
	unsigned got = 0;
	if (rc == 0 && (EVP_DigestFinal_ex(mc, f->md, &got) != 1 || got != c->mdlen))
		rc = set(c->res, ERROR, "%s checksum of %s failed", c->md_name, f->path);
	EVP_MD_CTX_free(mc);
	close(fd);
	return rc;
}

static int hash_all(struct ctx *c, struct flist *l)
{
	if (!c->block && !(c->block = malloc(READ_BLOCK)))
		return set(c->res, ERROR, "out of memory");
	for (size_t i = 0; i < l->n; i++)
		if (hash_file(c, &l->v[i]) < 0)
			return -1;
	return 0;
}

/* qsort has no context argument: every digest of one rule has the same
 * length, and unused bytes are zero, so comparing the whole array works. */
static int by_md(const void *a, const void *b)
{
	const struct finfo *x = a, *y = b;
	int d = memcmp(x->md, y->md, sizeof(x->md));
	return d ? d : strcmp(x->path, y->path);
}

static int by_rel(const void *a, const void *b)
{
	const struct finfo *x = a, *y = b;
	return strcmp(x->path + x->rel, y->path + y->rel);
}

/* ---- the rules ------------------------------------------------------------- */

static int no_files(struct ctx *c, const struct ts_dq_rule *r)
{
	metric(c->res, "Dataset.*.FileCount", 0);
	if (r->nparams > 0)
		return set(c->res, FAIL, "no files in %s", r->params[0].val);
	return set(c->res, FAIL, "no files in the inputs");
}

/* FileFreshness and FileSize: every file, or a share of them with a
 * threshold, satisfies the condition on its mtime / size. */
static int eval_each(struct ctx *c, struct flist *l, int size)
{
	const struct ts_dq_rule *r = c->r;
	char err[256] = "";
	size_t ok = 0, first_bad = (size_t)-1;
	uint64_t mn = UINT64_MAX, mx = 0;

	if (!r->cond)
		return set(c->res, ERROR, "%s needs a condition", r->type->name);
	if (l->n == 0)
		return no_files(c, r);
	for (size_t i = 0; i < l->n; i++) {
		const struct finfo *f = &l->v[i];
		double x = size ? (double)f->size : (double)f->mtime_ms;
		int t = ts_dq_cond_num(r->cond, x, c->env, err, sizeof(err));
		if (t < 0)
			return set(c->res, ERROR, "%s", err);
		if (t)
			ok++;
		else if (first_bad == (size_t)-1)
			first_bad = i;
		if (f->size < mn)
			mn = f->size;
		if (f->size > mx)
			mx = f->size;
	}
	double compliance = (double)ok / (double)l->n;
	metric(c->res, size ? "Dataset.*.FileSize.Compliance" : "Dataset.*.FileFreshness.Compliance",
	       compliance);
	metric(c->res, "Dataset.*.FileCount", (double)l->n);
	if (size) {
		metric(c->res, "Dataset.*.MaximumFileSize", (double)mx);
		metric(c->res, "Dataset.*.MinimumFileSize", (double)mn);
	}

	int pass;
	if (r->threshold) {
		int t = ts_dq_cond_num(r->threshold, compliance, c->env, err, sizeof(err));
		if (t < 0)
			return set(c->res, ERROR, "%s", err);
		pass = t;
	} else {
		pass = ok == l->n;
	}
	if (pass)
		return 0;

	char what[96] = "";
	if (first_bad != (size_t)-1 && size) {
		snprintf(what, sizeof(what), "%llu bytes",
			 (unsigned long long)l->v[first_bad].size);
	} else if (first_bad != (size_t)-1) {
		char t[40];
		fmt_time(t, sizeof(t), l->v[first_bad].mtime_ms);
		snprintf(what, sizeof(what), "last modified %s", t);
	}
	if (r->threshold && first_bad == (size_t)-1)
		return set(c->res, FAIL,
			   "all %zu files satisfy the condition, which does not satisfy the threshold",
			   l->n);
	if (r->threshold)
		return set(c->res, FAIL,
			   "%zu of %zu files satisfy the condition (%.4g), which does not satisfy "
			   "the threshold; first that does not: %s, %s",
			   ok, l->n, compliance, l->v[first_bad].path, what);
	if (l->n == 1)
		return set(c->res, FAIL, "%s %s %s", l->v[0].path, size ? "is" : "was", what);
	return set(c->res, FAIL, "%zu of %zu files do not satisfy the condition; first: %s, %s",
		   l->n - ok, l->n, l->v[first_bad].path, what);
}

/* Is the hex digest in the condition's strings (letter case ignored)? */
static int digest_in(const struct ts_dq_cond *cond, const char *hex)
{
	for (size_t i = 0; i < cond->noperands; i++) {
		const struct ts_dq_expr *e = cond->operands[i];
		if (e->kind == TS_DQ_E_STR && e->vlen == strlen(hex) &&
		    strncasecmp(e->val, hex, e->vlen) == 0)
			return 1;
	}
	return 0;
}

static int eval_match_list(struct ctx *c, struct flist *l)
{
	const struct ts_dq_cond *cond = c->r->cond;
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	if (cond->kind != TS_DQ_CK_STRING ||
	    (cond->op != TS_DQ_OP_IN && cond->op != TS_DQ_OP_EQ))
		return set(c->res, ERROR,
			   "FileMatch compares checksums with in [...] or = \"...\"");
	if (l->n == 0)
		return no_files(c, c->r);
	if (hash_all(c, l) < 0)
		return -1;
	metric(c->res, "Dataset.*.FileCount", (double)l->n);
	size_t bad = 0, first_bad = 0;
	for (size_t i = 0; i < l->n; i++) {
		fmt_hex(hex, l->v[i].md, c->mdlen);
		if (digest_in(cond, hex) == cond->negated && bad++ == 0)
			first_bad = i;
	}
	if (bad == 0)
		return 0;
	fmt_hex(hex, l->v[first_bad].md, c->mdlen);
	const char *how = cond->negated ? "is one of the checksums given"
					: "matches none of the checksums given";
	if (l->n == 1)
		return set(c->res, FAIL, "%s: %s checksum %s %s", l->v[0].path, c->md_name, hex,
			   how);
	return set(c->res, FAIL, "%zu of %zu files do not match; first: %s, %s checksum %s %s",
		   bad, l->n, l->v[first_bad].path, c->md_name, hex, how);
}

static int eval_match_paths(struct ctx *c, struct flist *a, struct flist *b)
{
	const char *pa = c->r->params[0].val, *pb = c->r->params[1].val;
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	if (a->n == 0 || b->n == 0) {
		metric(c->res, "Dataset.*.FileCount", (double)(a->n + b->n));
		return set(c->res, FAIL, "no files in %s", a->n == 0 ? pa : pb);
	}
	if (hash_all(c, a) < 0 || hash_all(c, b) < 0)
		return -1;
	metric(c->res, "Dataset.*.FileCount", (double)(a->n + b->n));

	if (tag_true(c->r, "matchFileName")) {
		/* pair by the path below the one given */
		qsort(a->v, a->n, sizeof(*a->v), by_rel);
		qsort(b->v, b->n, sizeof(*b->v), by_rel);
		size_t i = 0, j = 0;
		while (i < a->n || j < b->n) {
			int d = i == a->n ? 1 : j == b->n ? -1 : by_rel(&a->v[i], &b->v[j]);
			if (d < 0)
				return set(c->res, FAIL, "%s has no file of the same name in %s",
					   a->v[i].path, pb);
			if (d > 0)
				return set(c->res, FAIL, "%s has no file of the same name in %s",
					   b->v[j].path, pa);
			if (memcmp(a->v[i].md, b->v[j].md, c->mdlen) != 0) {
				char hb[2 * EVP_MAX_MD_SIZE + 1];
				fmt_hex(hex, a->v[i].md, c->mdlen);
				fmt_hex(hb, b->v[j].md, c->mdlen);
				return set(c->res, FAIL, "%s and %s differ (%s %s and %s)",
					   a->v[i].path, b->v[j].path, c->md_name, hex, hb);
			}
			i++;
			j++;
		}
		return 0;
	}

	/* the same contents as multisets: merge the two lists sorted by digest */
	qsort(a->v, a->n, sizeof(*a->v), by_md);
	qsort(b->v, b->n, sizeof(*b->v), by_md);
	size_t i = 0, j = 0, missing_b = 0, missing_a = 0;
	const struct finfo *first_a = NULL, *first_b = NULL; /* least paths */
	while (i < a->n || j < b->n) {
		int d = i == a->n ? 1 : j == b->n ? -1 : memcmp(a->v[i].md, b->v[j].md, c->mdlen);
		if (d == 0) {
			i++;
			j++;
		} else if (d < 0) {
			if (!first_a || strcmp(a->v[i].path, first_a->path) < 0)
				first_a = &a->v[i];
			missing_b++;
			i++;
		} else {
			if (!first_b || strcmp(b->v[j].path, first_b->path) < 0)
				first_b = &b->v[j];
			missing_a++;
			j++;
		}
	}
	const struct finfo *first = first_a ? first_a : first_b;
	const char *other = first_a ? pb : pa;
	if (!first)
		return 0;
	return set(c->res, FAIL,
		   "the files differ: %zu in %s and %zu in %s have no identical file in the "
		   "other; first: %s has no identical file in %s",
		   missing_b, pa, missing_a, pb, first->path, other);
}

/* Union-find over file indexes, for FileUniqueness with matchFileName. */
static size_t uf_find(size_t *p, size_t i)
{
	while (p[i] != i) {
		p[i] = p[p[i]];
		i = p[i];
	}
	return i;
}

static const char *base_name(const struct finfo *f)
{
	const char *s = strrchr(f->path, '/');
	return s ? s + 1 : f->path;
}

/* For an array of pointers to files. */
static int by_base(const void *a, const void *b)
{
	const struct finfo *x = *(const struct finfo *const *)a;
	const struct finfo *y = *(const struct finfo *const *)b;
	int d = strcmp(base_name(x), base_name(y));
	return d ? d : strcmp(x->path, y->path);
}

static int eval_unique(struct ctx *c, struct flist *l)
{
	const struct ts_dq_rule *r = c->r;
	char err[256] = "";

	if (!r->cond)
		return set(c->res, ERROR, "FileUniqueness needs a condition");
	if (l->n == 0)
		return no_files(c, r);
	if (hash_all(c, l) < 0)
		return -1;

	size_t distinct = 0;
	const struct finfo *dup_a = NULL, *dup_b = NULL;
	qsort(l->v, l->n, sizeof(*l->v), by_md);
	if (!tag_true(r, "matchFileName")) {
		for (size_t i = 0; i < l->n; i++) {
			if (i == 0 || memcmp(l->v[i].md, l->v[i - 1].md, c->mdlen) != 0)
				distinct++;
			else if (!dup_a || strcmp(l->v[i].path, dup_b->path) < 0) {
				dup_a = &l->v[i - 1];
				dup_b = &l->v[i];
			}
		}
	} else {
		/* files with the same contents or the same base name are one group */
		size_t *p = malloc(l->n * sizeof(*p));
		const struct finfo **byname = malloc(l->n * sizeof(*byname));
		if (!p || !byname) {
			free(p);
			free(byname);
			return set(c->res, ERROR, "out of memory");
		}
		for (size_t i = 0; i < l->n; i++) {
			p[i] = i;
			byname[i] = &l->v[i];
		}
		for (size_t i = 1; i < l->n; i++)
			if (memcmp(l->v[i].md, l->v[i - 1].md, c->mdlen) == 0)
				p[uf_find(p, i)] = uf_find(p, i - 1);
		qsort(byname, l->n, sizeof(*byname), by_base);
		for (size_t k = 1; k < l->n; k++)
			if (strcmp(base_name(byname[k]), base_name(byname[k - 1])) == 0)
				p[uf_find(p, (size_t)(byname[k] - l->v))] =
					uf_find(p, (size_t)(byname[k - 1] - l->v));
		for (size_t i = 0; i < l->n; i++) {
			if (uf_find(p, i) == i) {
				distinct++;
				continue;
			}
			const struct finfo *x = &l->v[uf_find(p, i)], *y = &l->v[i];
			if (strcmp(x->path, y->path) > 0) {
				const struct finfo *t = x;
				x = y;
				y = t;
			}
			if (!dup_a || strcmp(y->path, dup_b->path) < 0) {
				dup_a = x;
				dup_b = y;
			}
		}
		free(p);
		free(byname);
	}

	double ratio = (double)distinct / (double)l->n;
	metric(c->res, "Dataset.*.FileUniquenessRatio", ratio);
	metric(c->res, "Dataset.*.FileCount", (double)l->n);
	int t = ts_dq_cond_num(r->cond, ratio, c->env, err, sizeof(err));
	if (t < 0)
		return set(c->res, ERROR, "%s", err);
	if (t)
		return 0;
	if (dup_a)
		return set(c->res, FAIL,
			   "uniqueness ratio %.4g (%zu distinct of %zu files) does not satisfy the "
			   "condition; duplicates: %s and %s",
			   ratio, distinct, l->n, dup_a->path, dup_b->path);
	return set(c->res, FAIL,
		   "uniqueness ratio %.4g (%zu distinct of %zu files) does not satisfy the condition",
		   ratio, distinct, l->n);
}

/* ---- entry ----------------------------------------------------------------- */

int ts_dqfile_eval_inferred(const struct ts_dq_rule *r, const struct ts_dq_env *env,
			    const char *const *inferred, size_t ninferred,
			    struct ts_dqfile_result *res)
{
	struct ts_dq_env now_env;
	struct flist a = {0}, b = {0};
	struct ctx c = {.r = r, .env = env, .res = res};
	int rc = 0;

	memset(res, 0, sizeof(*res));
	if (!r || r->logic != TS_DQ_LEAF || !r->type ||
	    r->type->scope != TS_DQ_SCOPE_FILE) {
		set(res, ERROR, "not a file rule");
		return -1;
	}
	if (!env) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		memset(&now_env, 0, sizeof(now_env));
		now_env.now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		now_env.time_zone = ts_dq_rule_time_zone(r);
		c.env = &now_env;
	}

	switch (r->type->id) {
	case TS_DQ_FILEFRESHNESS:
	case TS_DQ_FILESIZE:
		if (collect(r, 0, inferred, ninferred, &a, res) == 0)
			eval_each(&c, &a, r->type->id == TS_DQ_FILESIZE);
		else
			metric(res, "Dataset.*.FileCount", 0);
		break;
	case TS_DQ_FILEUNIQUENESS:
		if (pick_md(&c) < 0)
			break;
		if (collect(r, 0, inferred, ninferred, &a, res) == 0)
			eval_unique(&c, &a);
		else
			metric(res, "Dataset.*.FileCount", 0);
		break;
	case TS_DQ_FILEMATCH:
		if (pick_md(&c) < 0)
			break;
		if (r->nparams == 2) {
			int ra = collect(r, 0, NULL, 0, &a, res);
			int rb = ra == 0 ? collect(r, 1, NULL, 0, &b, res) : 0;
			if (ra == 0 && rb == 0)
				eval_match_paths(&c, &a, &b);
			else
				metric(res, "Dataset.*.FileCount", 0);
		} else if (!r->cond) {
			set(res, ERROR, "FileMatch needs two paths or a list of checksums");
		} else if (collect(r, 0, inferred, ninferred, &a, res) == 0) {
			eval_match_list(&c, &a);
		} else {
			metric(res, "Dataset.*.FileCount", 0);
		}
		break;
	default:
		set(res, ERROR, "%s is not a file rule", r->type->name);
		rc = -1;
		break;
	}
	/* an ERROR reports no metrics: none of them were measured */
	if (res->outcome == ERROR)
		res->nmetrics = 0;
	else if (res->outcome == PASS)
		res->message[0] = '\0';
	flist_release(&a);
	flist_release(&b);
	free(c.block);
	return rc;
}

int ts_dqfile_eval(const struct ts_dq_rule *r, const struct ts_dq_env *env,
		   struct ts_dqfile_result *res)
{
	return ts_dqfile_eval_inferred(r, env, NULL, 0, res);
}
