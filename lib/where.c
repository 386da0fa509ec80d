/* where.c — see where.h. */
#include "where.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "value.h"

/* Parser recursion (parentheses, NOT, signs in a row) and the depth of the
 * tree evaluation recurses into: both bounded so neither overflows the
 * stack, whatever the input. */
#define MAX_NEST 200
#define MAX_TREE 400

/* --- values at evaluation time ------------------------------------------ */

enum vkind {
	V_NULL,  /* SQL NULL: JSON null, a missing field, a failed cast */
	V_BOOL,  /* b */
	V_NUM,   /* exact: s/n is JSON number text */
	V_DBL,   /* an arithmetic result: d */
	V_STR,   /* s/n decoded bytes */
	V_OTHER, /* an array or object: s/n its JSON */
};

struct val {
	enum vkind k;
	int b;
	double d;
	const char *s;
	size_t n;
};

static const struct val v_null = {V_NULL, 0, 0, NULL, 0};

static struct val v_bool(int b)
{
	struct val v = {V_BOOL, b, 0, NULL, 0};
	return v;
}

/* A truth value (1, 0, -1 UNKNOWN) as a value. */
static struct val v_truth(int t)
{
	return t < 0 ? v_null : v_bool(t);
}

/* --- the tree -------------------------------------------------------- */

enum op {
	OP_LIT,
	OP_COL,
	OP_NEG,
	OP_ARITH, /* kids with kops[i] in + - * / % (kops[0] unused) */
	OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_NSEQ,
	OP_AND,
	OP_OR,
	OP_NOT,
	OP_IN,      /* kids[0] IN (kids[1..]) */
	OP_BETWEEN, /* kids[0] BETWEEN kids[1] AND kids[2] */
	OP_LIKE,    /* kids[0] LIKE pattern */
	OP_ISNULL,
	OP_ISTRUE,
	OP_ISFALSE,
	OP_ISUNKNOWN,
};

/* What the parser knows of a node's type, to reject what Spark rejects
 * before any record is read. */
enum skind { S_ANY, S_BOOL, S_NUM, S_STR, S_NULL };

/* LIKE patterns compile to elements: a byte (0-255), one character, or any
 * run of characters. */
#define LK_ONE 256
#define LK_ANY 257

struct node {
	enum op op;
	enum skind sk;
	unsigned depth;
	size_t at;     /* byte offset of the node in the text, for messages */
	size_t *kids;  /* node indexes */
	char *kops;    /* OP_ARITH: the operator before each kid */
	size_t nkids;
	struct val lit; /* OP_LIT (s points into own) */
	char *own;
	size_t col;     /* OP_COL: index into cols */
	short *like;    /* OP_LIKE: the compiled pattern */
	size_t nlike;
};

struct part {
	size_t off, n; /* into the column's bytes */
};

struct col {
	char *bytes;      /* the parts, decoded, one after another */
	struct part *parts;
	size_t nparts;
	char *joined;     /* parts joined by '.', NUL-terminated */
	size_t joinedn;
	char *first;      /* the first part, NUL-terminated (several parts) */
};

/* Per-record state, behind a pointer so that evaluation can take a const
 * predicate. */
struct colstate {
	uint64_t gen; /* == scratch.gen: fetched for this record */
	struct val v;
	struct ts_buf dec; /* the decoded string when it had escapes */
};

struct scratch {
	uint64_t gen;
	struct colstate *cs;
	struct ts_buf cast; /* a string cast to a number, for one comparison */
};

struct ts_where {
	char *text;
	size_t textn;
	struct node *nodes;
	size_t nnodes;
	size_t root;
	struct col *cols;
	size_t ncols;
	struct ts_span *names; /* for ts_where_columns() */
	size_t nnames;
	struct scratch *sc;
};

/* --- errors and columns of the text ------------------------------------ */

struct parser {
	struct ts_where *w;
	const char *s;
	size_t n;
	size_t i;        /* next byte to lex */
	char *err;
	size_t errlen;
	int failed;
	int nest;
	/* the current token */
	int tok;
	size_t at, end;  /* its bytes in s */
	int op;          /* T_OP: which; T_KW: which */
	struct ts_buf tb; /* T_STR: decoded; T_NUM: JSON text; T_NAME: parts */
	struct part *parts;
	size_t nparts, partcap;
	int quoted;      /* T_NAME: some part was backquoted */
};

enum tok { T_END, T_NUM, T_STR, T_NAME, T_KW, T_OP, T_LP, T_RP, T_COMMA };

enum kw { KW_AND, KW_OR, KW_NOT, KW_IN, KW_IS, KW_NULL, KW_TRUE, KW_FALSE,
	  KW_LIKE, KW_BETWEEN };
static const char *const keywords[] = {"and", "or", "not", "in", "is", "null",
				       "true", "false", "like", "between"};

enum opc { O_EQ, O_NE, O_LT, O_LE, O_GT, O_GE, O_NSEQ, O_PLUS, O_MINUS,
	   O_STAR, O_SLASH, O_PCT, O_BANG };

static size_t column_of(const struct parser *P, size_t off)
{
	size_t c = 1;

	for (size_t i = 0; i < off && i < P->n; i++)
		c += ((unsigned char)P->s[i] & 0xC0) != 0x80;
	return c;
}

static int perr(struct parser *P, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int perr(struct parser *P, size_t off, const char *fmt, ...)
{
	va_list ap;

	if (P->failed++)
		return -1;
	if (P->errlen) {
		char why[160];
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
		snprintf(P->err, P->errlen, "%s at column %zu", why, column_of(P, off));
	}
	return -1;
}

static int oom(struct parser *P)
{
	if (!P->failed++ && P->errlen)
		snprintf(P->err, P->errlen, "out of memory");
	return -1;
}

/* --- lexer ----------------------------------------------------------- */

static int is_word(unsigned char c)
{
	return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int ieq(const char *a, size_t an, const char *b)
{
	size_t bn = strlen(b);

	if (an != bn)
		return 0;
	for (size_t i = 0; i < an; i++)
		if (lower((unsigned char)a[i]) != b[i])
			return 0;
	return 1;
}

/* Skip whitespace and comments: -- to the end of the line, and bracketed
 * comments, which nest as in Spark. */
static int skip_space(struct parser *P)
{
	while (P->i < P->n) {
		char c = P->s[P->i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
		    c == '\v') {
			P->i++;
		} else if (c == '-' && P->i + 1 < P->n && P->s[P->i + 1] == '-') {
			while (P->i < P->n && P->s[P->i] != '\n')
				P->i++;
		} else if (c == '/' && P->i + 1 < P->n && P->s[P->i + 1] == '*') {
			size_t start = P->i, level = 0;
			do {
				if (P->i + 1 < P->n && P->s[P->i] == '/' &&
				    P->s[P->i + 1] == '*') {
					level++;
					P->i += 2;
				} else if (P->i + 1 < P->n && P->s[P->i] == '*' &&
					   P->s[P->i + 1] == '/') {
					level--;
					P->i += 2;
				} else if (P->i >= P->n) {
					return perr(P, start, "unterminated comment");
				} else {
					P->i++;
				}
			} while (level);
		} else {
			break;
		}
	}
	return 0;
}

static int put_utf8(struct ts_buf *b, uint32_t cp)
{
	char u[4];

	return ts_buf_add(b, u, ts_utf8_put(u, cp));
}

static int hex4(const char *p, uint32_t *v)
{
	*v = 0;
	for (int k = 0; k < 4; k++) {
		char c = p[k];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return -1;
		*v = *v << 4 | (uint32_t)d;
	}
	return 0;
}

/* A string literal at P->i (the quote) decoded into P->tb. */
static int lex_string(struct parser *P)
{
	const char *s = P->s;
	char q = s[P->i];
	size_t start = P->i;

	P->i++;
	for (;;) {
		if (P->i >= P->n)
			return perr(P, start, "unterminated string");
		char c = s[P->i];
		if (c == q) {
			if (P->i + 1 < P->n && s[P->i + 1] == q) { /* '' is ' */
				if (ts_buf_addch(&P->tb, q) < 0)
					return oom(P);
				P->i += 2;
				continue;
			}
			P->i++;
			return 0;
		}
		if (c != '\\') {
			if (ts_buf_addch(&P->tb, c) < 0)
				return oom(P);
			P->i++;
			continue;
		}
		/* a backslash escape, read the way Spark reads them */
		size_t esc = P->i;
		if (P->i + 1 >= P->n)
			return perr(P, start, "unterminated string");
		c = s[P->i + 1];
		int r = 0;
		if (P->i + 3 < P->n && c >= '0' && c <= '3' && s[P->i + 2] >= '0' &&
		    s[P->i + 2] <= '7' && s[P->i + 3] >= '0' && s[P->i + 3] <= '7') {
			uint32_t cp = (uint32_t)(c - '0') << 6 |
				      (uint32_t)(s[P->i + 2] - '0') << 3 |
				      (uint32_t)(s[P->i + 3] - '0');
			r = put_utf8(&P->tb, cp);
			P->i += 4;
		} else if (c == 'u') {
			uint32_t cp, lo;
			if (P->i + 6 > P->n || hex4(s + P->i + 2, &cp) < 0)
				return perr(P, esc, "\\u needs four hex digits");
			P->i += 6;
			if (cp >= 0xD800 && cp < 0xDC00 && P->i + 6 <= P->n &&
			    s[P->i] == '\\' && s[P->i + 1] == 'u' &&
			    hex4(s + P->i + 2, &lo) == 0 && lo >= 0xDC00 &&
			    lo < 0xE000) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				P->i += 6;
			} else if (cp >= 0xD800 && cp < 0xE000) {
				cp = 0xFFFD; /* a lone surrogate, as json.h decodes it */
			}
			r = put_utf8(&P->tb, cp);
		} else {
			const char *rep;
			char one[2] = {c, 0};
			switch (c) {
			case '0': rep = "\0"; break;
			case 'b': rep = "\b"; break;
			case 'n': rep = "\n"; break;
			case 'r': rep = "\r"; break;
			case 't': rep = "\t"; break;
			case 'Z': rep = "\032"; break;
			case '%': rep = "\\%"; break;
			case '_': rep = "\\_"; break;
			default: rep = one; break;
			}
			/* "\0" is one NUL byte: strlen would say none */
			r = ts_buf_add(&P->tb, rep, c == '0' ? 1 : strlen(rep));
			P->i += 2;
			/* a multi-byte character after the backslash: the rest of
			 * its bytes follow as ordinary bytes */
		}
		if (r < 0)
			return oom(P);
	}
}

/* A backquoted name part at P->i, appended to P->tb. */
static int lex_backquoted(struct parser *P)
{
	size_t start = P->i;

	P->i++;
	for (;;) {
		if (P->i >= P->n)
			return perr(P, start, "unterminated `name`");
		char c = P->s[P->i++];
		if (c == '`') {
			if (P->i < P->n && P->s[P->i] == '`') {
				P->i++;
			} else {
				return 0;
			}
		}
		if (ts_buf_addch(&P->tb, c) < 0)
			return oom(P);
	}
}

/* The length of a number at p (0 when none), and whether it has a point. */
static size_t number_len(const char *p, size_t n, int *point, size_t *mant,
			 size_t *explen)
{
	size_t i = 0, digits = 0;

	*point = 0;
	*explen = 0;
	while (i < n && is_digit((unsigned char)p[i]))
		i++, digits++;
	if (i < n && p[i] == '.') {
		size_t j = i + 1;
		while (j < n && is_digit((unsigned char)p[j]))
			j++, digits++;
		if (digits) {
			*point = 1;
			i = j;
		}
	}
	if (!digits)
		return 0;
	*mant = i;
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		size_t j = i + 1;
		if (j < n && (p[j] == '+' || p[j] == '-'))
			j++;
		if (j < n && is_digit((unsigned char)p[j])) {
			while (j < n && is_digit((unsigned char)p[j]))
				j++;
			*explen = j - i;
			i = j;
		}
	}
	/* Spark's type suffixes */
	if (i + 1 < n && lower((unsigned char)p[i]) == 'b' &&
	    lower((unsigned char)p[i + 1]) == 'd')
		i += 2;
	else if (i < n && strchr("lsydfLSYDF", p[i]) && p[i] != '\0')
		i++;
	return i;
}

/* The number p[0..mant) with exponent p[mant..mant+explen) as JSON text. */
static int number_json(struct ts_buf *b, const char *p, size_t mant, size_t explen)
{
	size_t i = 0, ie;

	while (i < mant && p[i] == '0' && i + 1 < mant && is_digit((unsigned char)p[i + 1]))
		i++; /* leading zeros of the integer part */
	ie = i;
	while (ie < mant && is_digit((unsigned char)p[ie]))
		ie++;
	if (ie == i) {
		if (ts_buf_addch(b, '0') < 0)
			return -1;
	} else if (ts_buf_add(b, p + i, ie - i) < 0) {
		return -1;
	}
	if (ie < mant && mant - ie > 1 && ts_buf_add(b, p + ie, mant - ie) < 0)
		return -1; /* "." and the fraction; "5." has none */
	if (explen && ts_buf_add(b, p + mant, explen) < 0)
		return -1;
	return 0;
}

static int next(struct parser *P)
{
	const char *s = P->s;

	ts_buf_reset(&P->tb);
	P->nparts = 0;
	P->quoted = 0;
	if (skip_space(P) < 0)
		return -1;
	P->at = P->i;
	if (P->i >= P->n) {
		P->tok = T_END;
		P->end = P->i;
		return 0;
	}
	unsigned char c = (unsigned char)s[P->i];
	size_t rest = P->n - P->i;

	if (is_digit(c) || (c == '.' && rest > 1 && is_digit((unsigned char)s[P->i + 1]))) {
		int point;
		size_t mant = 0, explen, word = 0;
		size_t len = number_len(s + P->i, rest, &point, &mant, &explen);
		while (word < rest && is_word((unsigned char)s[P->i + word]))
			word++;
		/* the longer reading wins, a number on a tie (as Spark's
		 * lexer: 1e3 is a number, 1e3x and 1a are names) */
		if (point || word <= len) {
			if (number_json(&P->tb, s + P->i, mant, explen) < 0)
				return oom(P);
			P->i += len;
			P->tok = T_NUM;
			P->end = P->i;
			return 0;
		}
	}
	if (is_word(c) || c == '`') {
		/* a name: parts separated by dots */
		for (;;) {
			struct part pt = {P->tb.len, 0};
			if (s[P->i] == '`') {
				if (lex_backquoted(P) < 0)
					return -1;
				P->quoted = 1;
			} else {
				size_t j = P->i;
				while (j < P->n && is_word((unsigned char)s[j]))
					j++;
				if (ts_buf_add(&P->tb, s + P->i, j - P->i) < 0)
					return oom(P);
				P->i = j;
			}
			pt.n = P->tb.len - pt.off;
			if (P->nparts == P->partcap) {
				size_t cap = P->partcap ? 2 * P->partcap : 8;
				struct part *np = realloc(P->parts, cap * sizeof(*np));
				if (!np)
					return oom(P);
				P->parts = np;
				P->partcap = cap;
			}
			P->parts[P->nparts++] = pt;
			if (P->i + 1 < P->n && s[P->i] == '.' &&
			    (is_word((unsigned char)s[P->i + 1]) || s[P->i + 1] == '`'))
				P->i++;
			else
				break;
		}
		P->end = P->i;
		P->tok = T_NAME;
		if (P->nparts == 1 && !P->quoted)
			for (int k = 0; k < (int)(sizeof(keywords) / sizeof(*keywords)); k++)
				if (ieq(P->tb.data, P->tb.len, keywords[k])) {
					P->tok = T_KW;
					P->op = k;
				}
		return 0;
	}
	if (c == '\'' || c == '"') {
		if (lex_string(P) < 0)
			return -1;
		P->tok = T_STR;
		P->end = P->i;
		return 0;
	}
	P->tok = T_OP;
	char c1 = rest > 1 ? s[P->i + 1] : 0, c2 = rest > 2 ? s[P->i + 2] : 0;
	size_t len = 1;
	switch (c) {
	case '(': P->tok = T_LP; break;
	case ')': P->tok = T_RP; break;
	case ',': P->tok = T_COMMA; break;
	case '+': P->op = O_PLUS; break;
	case '-': P->op = O_MINUS; break;
	case '*': P->op = O_STAR; break;
	case '/': P->op = O_SLASH; break;
	case '%': P->op = O_PCT; break;
	case '=':
		P->op = O_EQ;
		len = c1 == '=' ? 2 : 1;
		break;
	case '!':
		P->op = c1 == '=' ? O_NE : O_BANG;
		len = c1 == '=' ? 2 : 1;
		break;
	case '<':
		if (c1 == '=' && c2 == '>')
			P->op = O_NSEQ, len = 3;
		else if (c1 == '=')
			P->op = O_LE, len = 2;
		else if (c1 == '>')
			P->op = O_NE, len = 2;
		else
			P->op = O_LT;
		break;
	case '>':
		P->op = c1 == '=' ? O_GE : O_GT;
		len = c1 == '=' ? 2 : 1;
		break;
	default: {
		/* one whole character in the message */
		size_t cl = 1;
		while (cl < rest && ((unsigned char)s[P->i + cl] & 0xC0) == 0x80)
			cl++;
		return perr(P, P->i, "unexpected '%.*s'", (int)cl, s + P->i);
	}
	}
	P->i += len;
	P->end = P->i;
	return 0;
}

/* --- parser ---------------------------------------------------------- */

static int unexpected(struct parser *P, const char *wanted)
{
	const char *what;
	char buf[64];

	switch (P->tok) {
	case T_END:
		what = "end";
		break;
	case T_STR:
		what = wanted ? "a string" : "string";
		break;
	default: {
		size_t n = P->end - P->at;
		if (n > 40) { /* cut at a character boundary */
			n = 40;
			while (n && ((unsigned char)P->s[P->at + n] & 0xC0) == 0x80)
				n--;
		}
		snprintf(buf, sizeof(buf), "'%.*s%s'", (int)n, P->s + P->at,
			 n < P->end - P->at ? "..." : "");
		what = buf;
	}
	}
	if (wanted)
		return perr(P, P->at, "expected %s, got %s", wanted, what);
	return perr(P, P->at, "unexpected %s", what);
}

static long new_node(struct parser *P, enum op op, enum skind sk, size_t at)
{
	struct ts_where *w = P->w;

	if ((w->nnodes & (w->nnodes - 1)) == 0) { /* 0, 1, 2, 4, ...: grow */
		size_t cap = w->nnodes ? 2 * w->nnodes : 1;
		struct node *nn = realloc(w->nodes, cap * sizeof(*nn));
		if (!nn)
			return oom(P);
		w->nodes = nn;
	}
	struct node *nd = &w->nodes[w->nnodes];
	memset(nd, 0, sizeof(*nd));
	nd->op = op;
	nd->sk = sk;
	nd->at = at;
	nd->depth = 1;
	return (long)w->nnodes++;
}

static int add_kid(struct parser *P, long parent, long kid)
{
	struct node *nd = &P->w->nodes[parent];

	if ((nd->nkids & (nd->nkids - 1)) == 0) {
		size_t cap = nd->nkids ? 2 * nd->nkids : 1;
		size_t *nk = realloc(nd->kids, cap * sizeof(*nk));
		if (!nk)
			return oom(P);
		nd->kids = nk;
		if (nd->op == OP_ARITH) {
			char *no = realloc(nd->kops, cap);
			if (!no)
				return oom(P);
			nd->kops = no;
		}
	}
	nd->kids[nd->nkids++] = (size_t)kid;
	unsigned d = P->w->nodes[kid].depth + 1;
	if (d > nd->depth)
		nd->depth = d;
	if (nd->depth > MAX_TREE)
		return perr(P, nd->at, "expression nested too deep");
	return 0;
}

/* A node with the given kids (-1 ends the list). */
static long node_of(struct parser *P, enum op op, enum skind sk, size_t at,
		    long a, long b, long c)
{
	long nd = new_node(P, op, sk, at);

	if (nd < 0 || add_kid(P, nd, a) < 0 || (b >= 0 && add_kid(P, nd, b) < 0) ||
	    (c >= 0 && add_kid(P, nd, c) < 0))
		return -1;
	return nd;
}

static const char *skind_name(enum skind k)
{
	return k == S_NUM ? "a number" : "a string";
}

/* Spark rejects a number or a string where a condition belongs. */
static int need_cond(struct parser *P, long nd)
{
	const struct node *x = &P->w->nodes[nd];

	if (x->sk == S_NUM || x->sk == S_STR)
		return perr(P, x->at, "%s is not a condition", skind_name(x->sk));
	return 0;
}

static long p_or(struct parser *P);
static long p_cmp(struct parser *P);

static int enter(struct parser *P)
{
	if (++P->nest > MAX_NEST)
		return perr(P, P->at, "expression nested too deep");
	return 0;
}

static int expect(struct parser *P, int tok, const char *what)
{
	if (P->tok != tok)
		return unexpected(P, what);
	return next(P);
}

static long add_col(struct parser *P, size_t at)
{
	struct ts_where *w = P->w;
	size_t i, k;

	for (i = 0; i < w->ncols; i++) {
		struct col *c = &w->cols[i];
		if (c->nparts != P->nparts)
			continue;
		for (k = 0; k < c->nparts; k++)
			if (c->parts[k].n != P->parts[k].n ||
			    memcmp(c->bytes + c->parts[k].off, P->tb.data + P->parts[k].off,
				   c->parts[k].n) != 0)
				break;
		if (k == c->nparts)
			break;
	}
	if (i == w->ncols) {
		struct col *nc = realloc(w->cols, (w->ncols + 1) * sizeof(*nc));
		if (!nc)
			return oom(P);
		w->cols = nc;
		struct col *c = &w->cols[w->ncols];
		memset(c, 0, sizeof(*c));
		w->ncols++;
		c->bytes = malloc(P->tb.len + 1);
		c->parts = malloc(P->nparts * sizeof(*c->parts));
		c->joined = malloc(P->tb.len + P->nparts);
		if (!c->bytes || !c->parts || !c->joined)
			return oom(P);
		memcpy(c->bytes, P->tb.data, P->tb.len + 1);
		memcpy(c->parts, P->parts, P->nparts * sizeof(*c->parts));
		c->nparts = P->nparts;
		for (k = 0; k < c->nparts; k++) {
			if (k)
				c->joined[c->joinedn++] = '.';
			memcpy(c->joined + c->joinedn, c->bytes + c->parts[k].off,
			       c->parts[k].n);
			c->joinedn += c->parts[k].n;
		}
		c->joined[c->joinedn] = '\0';
		if (c->nparts > 1) {
			c->first = malloc(c->parts[0].n + 1);
			if (!c->first)
				return oom(P);
			memcpy(c->first, c->bytes + c->parts[0].off, c->parts[0].n);
			c->first[c->parts[0].n] = '\0';
		}
	}
	long nd = new_node(P, OP_COL, S_ANY, at);
	if (nd >= 0)
		w->nodes[nd].col = i;
	return nd;
}

/* A literal node owning a copy of P->tb. */
static long lit_node(struct parser *P, enum vkind k, enum skind sk)
{
	long nd = new_node(P, OP_LIT, sk, P->at);

	if (nd < 0)
		return -1;
	struct node *x = &P->w->nodes[nd];
	x->lit.k = k;
	if (k == V_NUM || k == V_STR) {
		x->own = malloc(P->tb.len + 1);
		if (!x->own)
			return oom(P);
		memcpy(x->own, P->tb.data, P->tb.len + 1);
		x->lit.s = x->own;
		x->lit.n = P->tb.len;
	}
	return nd;
}

static long p_primary(struct parser *P)
{
	long nd;
	size_t at = P->at;

	switch (P->tok) {
	case T_NUM:
		nd = lit_node(P, V_NUM, S_NUM);
		return nd < 0 || next(P) < 0 ? -1 : nd;
	case T_STR:
		nd = lit_node(P, V_STR, S_STR);
		return nd < 0 || next(P) < 0 ? -1 : nd;
	case T_KW:
		if (P->op == KW_TRUE || P->op == KW_FALSE) {
			nd = lit_node(P, V_BOOL, S_BOOL);
			if (nd >= 0)
				P->w->nodes[nd].lit.b = P->op == KW_TRUE;
		} else if (P->op == KW_NULL) {
			nd = lit_node(P, V_NULL, S_NULL);
		} else {
			return unexpected(P, "a value");
		}
		return nd < 0 || next(P) < 0 ? -1 : nd;
	case T_NAME: {
		nd = add_col(P, at);
		if (nd < 0)
			return -1;
		/* a name( is a function call */
		size_t nameend = P->end;
		if (next(P) < 0)
			return -1;
		int namen = (int)(nameend - at > 40 ? 40 : nameend - at);
		if (P->tok == T_LP)
			return perr(P, at, "functions are not supported: '%.*s'",
				    namen, P->s + at);
		if (P->tok == T_STR) /* DATE '2024-01-01' and the like */
			return perr(P, at, "typed literals are not supported: '%.*s'",
				    namen, P->s + at);
		return nd;
	}
	case T_LP:
		if (enter(P) < 0 || next(P) < 0)
			return -1;
		nd = p_or(P);
		if (nd < 0 || expect(P, T_RP, "')'") < 0)
			return -1;
		P->nest--;
		return nd;
	default:
		return unexpected(P, "a value");
	}
}

static long p_unary(struct parser *P)
{
	if (P->tok == T_OP && (P->op == O_MINUS || P->op == O_PLUS)) {
		int minus = P->op == O_MINUS;
		size_t at = P->at;
		if (enter(P) < 0 || next(P) < 0)
			return -1;
		long k = p_unary(P);
		if (k < 0)
			return -1;
		P->nest--;
		struct node *x = &P->w->nodes[k];
		if (x->sk == S_BOOL)
			return perr(P, x->at, "a condition is not a number");
		if (!minus)
			return k;
		if (x->op == OP_LIT && x->lit.k == V_NUM) {
			/* -5 stays an exact literal */
			if (x->own[0] == '-') {
				memmove(x->own, x->own + 1, x->lit.n);
				x->lit.n--;
			} else {
				char *o = malloc(x->lit.n + 2);
				if (!o)
					return oom(P);
				o[0] = '-';
				memcpy(o + 1, x->own, x->lit.n + 1);
				free(x->own);
				x->own = o;
				x->lit.n++;
			}
			x->lit.s = x->own;
			x->at = at;
			return k;
		}
		return node_of(P, OP_NEG, x->sk == S_NULL ? S_NULL : S_NUM, at, k, -1, -1);
	}
	return p_primary(P);
}

/* + - or * / %: one node for the chain, so that a long sum is not deep. */
static long p_chain(struct parser *P, int mul)
{
	long a = mul ? p_unary(P) : p_chain(P, 1);

	if (a < 0)
		return -1;
	long nd = -1;
	while (P->tok == T_OP &&
	       (mul ? (P->op == O_STAR || P->op == O_SLASH || P->op == O_PCT)
		    : (P->op == O_PLUS || P->op == O_MINUS))) {
		char opc = "+-*/%"[P->op - O_PLUS];
		if (nd < 0) {
			if (P->w->nodes[a].sk == S_BOOL)
				return perr(P, P->w->nodes[a].at,
					    "a condition is not a number");
			nd = node_of(P, OP_ARITH, S_NUM, P->w->nodes[a].at, a, -1, -1);
			if (nd < 0)
				return -1;
		}
		if (next(P) < 0)
			return -1;
		long b = mul ? p_unary(P) : p_chain(P, 1);
		if (b < 0)
			return -1;
		if (P->w->nodes[b].sk == S_BOOL)
			return perr(P, P->w->nodes[b].at, "a condition is not a number");
		if (add_kid(P, nd, b) < 0)
			return -1;
		P->w->nodes[nd].kops[P->w->nodes[nd].nkids - 1] = opc;
	}
	return nd < 0 ? a : nd;
}

static long p_cmp(struct parser *P)
{
	long a = p_chain(P, 0);

	while (a >= 0 && P->tok == T_OP && P->op <= O_NSEQ) {
		static const enum op ops[] = {OP_EQ, OP_NE, OP_LT, OP_LE,
					      OP_GT, OP_GE, OP_NSEQ};
		enum op op = ops[P->op];
		size_t at = P->w->nodes[a].at;
		if (next(P) < 0)
			return -1;
		long b = p_chain(P, 0);
		if (b < 0)
			return -1;
		a = node_of(P, op, S_BOOL, at, a, b, -1);
	}
	return a;
}

/* A LIKE pattern (P->tb) with its escape character compiled into x. */
static int compile_like(struct parser *P, struct node *x, const char *esc,
			size_t escn, size_t at)
{
	const unsigned char *p = (const unsigned char *)P->tb.data;
	size_t n = P->tb.len, i = 0, k = 0;

	x->like = malloc((n + 1) * sizeof(*x->like));
	if (!x->like)
		return oom(P);
	while (i < n) {
		size_t cl = 1;
		while (i + cl < n && (p[i + cl] & 0xC0) == 0x80)
			cl++;
		if (cl == escn && memcmp(p + i, esc, escn) == 0) {
			i += cl;
			if (i >= n)
				return perr(P, at, "the pattern ends with the escape character");
			cl = 1;
			while (i + cl < n && (p[i + cl] & 0xC0) == 0x80)
				cl++;
			if (!((cl == 1 && (p[i] == '%' || p[i] == '_')) ||
			      (cl == escn && memcmp(p + i, esc, escn) == 0)))
				return perr(P, at,
					    "the escape character must come before %%, _ "
					    "or itself in the pattern");
			while (cl--)
				x->like[k++] = p[i++];
		} else if (p[i] == '%') {
			if (!k || x->like[k - 1] != LK_ANY)
				x->like[k++] = LK_ANY;
			i++;
		} else if (p[i] == '_') {
			x->like[k++] = LK_ONE;
			i++;
		} else {
			while (cl--)
				x->like[k++] = p[i++];
		}
	}
	x->nlike = k;
	return 0;
}

static long p_test(struct parser *P)
{
	long x = p_cmp(P), nd;
	int neg = 0;

	if (x < 0)
		return -1;
	size_t at = P->w->nodes[x].at;
	if (P->tok == T_KW && P->op == KW_NOT) {
		if (next(P) < 0)
			return -1;
		neg = 1;
		if (P->tok != T_KW ||
		    (P->op != KW_IN && P->op != KW_LIKE && P->op != KW_BETWEEN))
			return unexpected(P, "IN, LIKE or BETWEEN after NOT");
	}
	if (P->tok != T_KW)
		return x;
	switch (P->op) {
	case KW_IN:
		if (next(P) < 0 || expect(P, T_LP, "'(' after IN") < 0 || enter(P) < 0)
			return -1;
		nd = node_of(P, OP_IN, S_BOOL, at, x, -1, -1);
		if (nd < 0)
			return -1;
		for (;;) {
			long item = p_or(P);
			if (item < 0 || add_kid(P, nd, item) < 0)
				return -1;
			if (P->tok == T_RP)
				break;
			if (expect(P, T_COMMA, "',' or ')'") < 0)
				return -1;
		}
		P->nest--;
		if (next(P) < 0)
			return -1;
		break;
	case KW_BETWEEN: {
		if (next(P) < 0)
			return -1;
		long lo = p_cmp(P);
		if (lo < 0)
			return -1;
		if (P->tok != T_KW || P->op != KW_AND)
			return unexpected(P, "AND");
		if (next(P) < 0)
			return -1;
		long hi = p_cmp(P);
		if (hi < 0)
			return -1;
		nd = node_of(P, OP_BETWEEN, S_BOOL, at, x, lo, hi);
		break;
	}
	case KW_LIKE: {
		if (next(P) < 0)
			return -1;
		if (P->tok != T_STR)
			return unexpected(P, "a string literal as the LIKE pattern");
		size_t pat_at = P->at;
		struct ts_buf pat = P->tb; /* keep the pattern while lexing on */
		ts_buf_init(&P->tb, 0);
		if (next(P) < 0) {
			ts_buf_release(&pat);
			return -1;
		}
		char escbuf[8] = "\\";
		size_t escn = 1;
		if (P->tok == T_NAME && P->nparts == 1 && !P->quoted &&
		    ieq(P->tb.data, P->tb.len, "escape")) {
			if (next(P) < 0) {
				ts_buf_release(&pat);
				return -1;
			}
			size_t cl = 0;
			while (P->tok == T_STR && cl < P->tb.len &&
			       (cl == 0 || ((unsigned char)P->tb.data[cl] & 0xC0) == 0x80))
				cl++;
			if (P->tok != T_STR || cl == 0 || cl != P->tb.len) {
				ts_buf_release(&pat);
				return P->tok == T_STR
					       ? perr(P, P->at, "ESCAPE needs one character")
					       : unexpected(P, "a string after ESCAPE");
			}
			memcpy(escbuf, P->tb.data, cl);
			escn = cl;
			if (next(P) < 0) {
				ts_buf_release(&pat);
				return -1;
			}
		}
		nd = node_of(P, OP_LIKE, S_BOOL, at, x, -1, -1);
		struct ts_buf cur = P->tb;
		P->tb = pat;
		int r = nd < 0 ? -1 : compile_like(P, &P->w->nodes[nd], escbuf, escn, pat_at);
		P->tb = cur;
		ts_buf_release(&pat);
		if (r < 0)
			return -1;
		break;
	}
	case KW_IS: {
		if (neg)
			return unexpected(P, "IN, LIKE or BETWEEN after NOT");
		if (next(P) < 0)
			return -1;
		if (P->tok == T_KW && P->op == KW_NOT) {
			neg = 1;
			if (next(P) < 0)
				return -1;
		}
		if (P->tok == T_KW && (P->op == KW_NULL || P->op == KW_TRUE ||
				       P->op == KW_FALSE)) {
			enum op op = P->op == KW_NULL ? OP_ISNULL
				     : P->op == KW_TRUE ? OP_ISTRUE
							: OP_ISFALSE;
			if (op != OP_ISNULL && need_cond(P, x) < 0)
				return -1;
			nd = node_of(P, op, S_BOOL, at, x, -1, -1);
			if (nd < 0 || next(P) < 0)
				return -1;
		} else if (P->tok == T_NAME && P->nparts == 1 && !P->quoted &&
			   ieq(P->tb.data, P->tb.len, "unknown")) {
			if (need_cond(P, x) < 0)
				return -1;
			nd = node_of(P, OP_ISUNKNOWN, S_BOOL, at, x, -1, -1);
			if (nd < 0 || next(P) < 0)
				return -1;
		} else if (P->tok == T_NAME && P->nparts == 1 && !P->quoted &&
			   ieq(P->tb.data, P->tb.len, "distinct")) {
			if (next(P) < 0)
				return -1;
			if (!(P->tok == T_NAME && P->nparts == 1 && !P->quoted &&
			      ieq(P->tb.data, P->tb.len, "from")))
				return unexpected(P, "FROM");
			if (next(P) < 0)
				return -1;
			long y = p_cmp(P);
			if (y < 0)
				return -1;
			/* IS DISTINCT FROM is NOT <=> */
			nd = node_of(P, OP_NSEQ, S_BOOL, at, x, y, -1);
			neg = !neg;
		} else {
			return unexpected(P, "NULL, TRUE, FALSE, UNKNOWN or DISTINCT FROM");
		}
		break;
	}
	default:
		if (neg)
			return unexpected(P, "IN, LIKE or BETWEEN after NOT");
		return x;
	}
	if (nd >= 0 && neg)
		nd = node_of(P, OP_NOT, S_BOOL, at, nd, -1, -1);
	return nd;
}

static long p_not(struct parser *P)
{
	if ((P->tok == T_KW && P->op == KW_NOT) || (P->tok == T_OP && P->op == O_BANG)) {
		size_t at = P->at;
		if (enter(P) < 0 || next(P) < 0)
			return -1;
		long k = p_not(P);
		if (k < 0 || need_cond(P, k) < 0)
			return -1;
		P->nest--;
		return node_of(P, OP_NOT, S_BOOL, at, k, -1, -1);
	}
	return p_test(P);
}

/* AND (and = 1) or OR chains: one node for the chain. */
static long p_logic(struct parser *P, int and)
{
	long a = and ? p_not(P) : p_logic(P, 1);
	long nd = -1;

	if (a < 0)
		return -1;
	while (P->tok == T_KW && P->op == (and ? KW_AND : KW_OR)) {
		if (nd < 0) {
			if (need_cond(P, a) < 0)
				return -1;
			nd = node_of(P, and ? OP_AND : OP_OR, S_BOOL, P->w->nodes[a].at,
				     a, -1, -1);
			if (nd < 0)
				return -1;
		}
		if (next(P) < 0)
			return -1;
		long b = and ? p_not(P) : p_logic(P, 1);
		if (b < 0 || need_cond(P, b) < 0 || add_kid(P, nd, b) < 0)
			return -1;
	}
	return nd < 0 ? a : nd;
}

static long p_or(struct parser *P)
{
	return p_logic(P, 0);
}

static void free_nodes(struct ts_where *w)
{
	for (size_t i = 0; i < w->nnodes; i++) {
		free(w->nodes[i].kids);
		free(w->nodes[i].kops);
		free(w->nodes[i].own);
		free(w->nodes[i].like);
	}
	free(w->nodes);
}

void ts_where_free(struct ts_where *w)
{
	if (!w)
		return;
	free_nodes(w);
	for (size_t i = 0; i < w->ncols; i++) {
		free(w->cols[i].bytes);
		free(w->cols[i].parts);
		free(w->cols[i].joined);
		free(w->cols[i].first);
	}
	free(w->cols);
	free(w->names);
	if (w->sc) {
		for (size_t i = 0; i < w->ncols && w->sc->cs; i++)
			ts_buf_release(&w->sc->cs[i].dec);
		free(w->sc->cs);
		ts_buf_release(&w->sc->cast);
		free(w->sc);
	}
	free(w->text);
	free(w);
}

static int add_name(struct ts_where *w, const char *p, size_t n)
{
	for (size_t i = 0; i < w->nnames; i++)
		if (w->names[i].n == n && memcmp(w->names[i].p, p, n) == 0)
			return 0;
	w->names[w->nnames++] = (struct ts_span){p, n};
	return 0;
}

/* What evaluation needs beside the tree: the names, the scratch. */
static int finish(struct parser *P)
{
	struct ts_where *w = P->w;

	w->names = malloc((2 * w->ncols + 1) * sizeof(*w->names));
	w->sc = calloc(1, sizeof(*w->sc));
	if (!w->names || !w->sc)
		return oom(P);
	w->sc->cs = calloc(w->ncols + 1, sizeof(*w->sc->cs));
	if (!w->sc->cs)
		return oom(P);
	for (size_t i = 0; i < w->ncols; i++)
		ts_buf_init(&w->sc->cs[i].dec, 0);
	ts_buf_init(&w->sc->cast, 0);
	for (size_t i = 0; i < w->ncols; i++) {
		struct col *c = &w->cols[i];
		add_name(w, c->joined, c->joinedn);
		if (c->nparts > 1)
			add_name(w, c->first, c->parts[0].n);
	}
	return 0;
}

struct ts_where *ts_where_parse(const char *s, size_t n, char *err, size_t errlen)
{
	struct parser P;
	struct ts_where *w = calloc(1, sizeof(*w));

	memset(&P, 0, sizeof(P));
	P.s = s;
	P.n = n;
	P.err = err;
	P.errlen = errlen;
	P.w = w;
	ts_buf_init(&P.tb, 0);
	if (errlen)
		err[0] = '\0';
	if (!w || !(w->text = malloc(n + 1))) {
		oom(&P);
		free(w);
		return NULL;
	}
	memcpy(w->text, s, n);
	w->text[n] = '\0';
	w->textn = n;

	const char *nul = memchr(s, '\0', n);
	size_t valid = ts_utf8_valid_prefix(s, n);
	if (nul && (size_t)(nul - s) <= valid)
		perr(&P, (size_t)(nul - s), "a NUL byte");
	else if (valid < n)
		perr(&P, valid, "not valid UTF-8");
	else if (next(&P) == 0) {
		if (P.tok == T_END) {
			perr(&P, 0, "empty predicate");
		} else {
			long root = p_or(&P);
			if (root >= 0 && P.tok != T_END)
				unexpected(&P, NULL);
			else if (root >= 0 && need_cond(&P, root) == 0)
				w->root = (size_t)root;
		}
	}
	if (!P.failed)
		finish(&P);
	ts_buf_release(&P.tb);
	free(P.parts);
	if (P.failed) {
		ts_where_free(w);
		return NULL;
	}
	return w;
}

struct ts_where *ts_where_clone(const struct ts_where *w)
{
	char err[8];

	return ts_where_parse(w->text, w->textn, err, sizeof(err));
}

size_t ts_where_columns(const struct ts_where *w, const struct ts_span **names)
{
	*names = w->names;
	return w->nnames;
}

/* --- evaluation ------------------------------------------------------ */

struct ctx {
	const struct ts_where *w;
	struct ts_span rec;
	const struct ts_json_keys *idx;
	int err; /* errno of a failure, 0 */
};

static int top_get(const struct ctx *cx, const char *name, size_t n, struct ts_span *v)
{
	if (cx->idx && !cx->idx->overflow)
		return ts_json_keys_get(cx->idx, name, n, v);
	return ts_json_obj_get(cx->rec, name, n, v);
}

static struct val fetch(struct ctx *cx, size_t i)
{
	const struct col *c = &cx->w->cols[i];
	struct colstate *st = &cx->w->sc->cs[i];
	struct ts_span v = {NULL, 0};

	if (st->gen == cx->w->sc->gen)
		return st->v;
	st->gen = cx->w->sc->gen;
	st->v = v_null;
	if (!cx->rec.n || cx->rec.p[0] != '{')
		return st->v;
	if (!top_get(cx, c->joined, c->joinedn, &v)) {
		if (c->nparts == 1 ||
		    !top_get(cx, c->bytes + c->parts[0].off, c->parts[0].n, &v))
			return st->v;
		for (size_t k = 1; k < c->nparts; k++)
			if (!ts_json_obj_get(v, c->bytes + c->parts[k].off,
					     c->parts[k].n, &v))
				return st->v;
	}
	switch (v.p[0]) {
	case 'n':
		break;
	case 't':
	case 'f':
		st->v = v_bool(v.p[0] == 't');
		break;
	case '"':
		st->v.k = V_STR;
		if (!ts_json_str_has_escape(v)) {
			st->v.s = v.p + 1;
			st->v.n = v.n - 2;
			break;
		}
		ts_buf_reset(&st->dec);
		if (ts_json_unescape(&st->dec, v) < 0) {
			cx->err = errno ? errno : ENOMEM;
			st->v = v_null;
			break;
		}
		st->v.s = st->dec.data;
		st->v.n = st->dec.len;
		break;
	case '[':
	case '{':
		st->v.k = V_OTHER;
		st->v.s = v.p;
		st->v.n = v.n;
		break;
	default:
		st->v.k = V_NUM;
		st->v.s = v.p;
		st->v.n = v.n;
		break;
	}
	return st->v;
}

static void trim(const char **s, size_t *n)
{
	while (*n && (unsigned char)(*s)[0] <= 0x20)
		(*s)++, (*n)--;
	while (*n && (unsigned char)(*s)[*n - 1] <= 0x20)
		(*n)--;
}

/* A string cast to a boolean as Spark casts it: 1, 0, or -1 (NULL). */
static int str_bool(const char *s, size_t n)
{
	static const char *const t[] = {"t", "true", "y", "yes", "1"};
	static const char *const f[] = {"f", "false", "n", "no", "0"};

	trim(&s, &n);
	for (size_t i = 0; i < 5; i++) {
		if (ieq(s, n, t[i]))
			return 1;
		if (ieq(s, n, f[i]))
			return 0;
	}
	return -1;
}

/* A string cast to a number: V_NUM with JSON text in the cast buffer, V_DBL
 * for Infinity and NaN, or NULL. */
static struct val str_num(struct ctx *cx, const char *s, size_t n)
{
	struct val v = v_null;
	struct ts_buf *b = &cx->w->sc->cast;
	int neg = 0;

	trim(&s, &n);
	if (n && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		s++, n--;
	}
	if (ieq(s, n, "inf") || ieq(s, n, "infinity") || (ieq(s, n, "nan") && !neg)) {
		v.k = V_DBL;
		v.d = lower((unsigned char)s[0]) == 'n' ? NAN : neg ? -INFINITY : INFINITY;
		return v;
	}
	int point;
	size_t mant = 0, explen;
	/* number_len also takes Spark's literal suffixes: not in a cast */
	size_t len = number_len(s, n, &point, &mant, &explen);
	if (!len || mant + explen != n)
		return v;
	ts_buf_reset(b);
	if ((neg && ts_buf_addch(b, '-') < 0) || number_json(b, s, mant, explen) < 0) {
		cx->err = errno ? errno : ENOMEM;
		return v;
	}
	v.k = V_NUM;
	v.s = b->data;
	v.n = b->len;
	return v;
}

static double num_double(struct val v)
{
	double d = 0;

	if (v.k == V_DBL)
		return v.d;
	if (v.k == V_BOOL)
		return v.b;
	ts_value_number((struct ts_span){v.s, v.n}, &d);
	return d;
}

/* NaN equals NaN and is above every other number, as in Spark. */
static int dcmp(double a, double b)
{
	if (isnan(a))
		return isnan(b) ? 0 : 1;
	if (isnan(b))
		return -1;
	return (a > b) - (a < b);
}

/* Compare two values after Spark's coercions: 0 with *r (<0, 0, >0), or
 * -1 when the comparison is UNKNOWN. */
static int compare(struct ctx *cx, struct val a, struct val b, int *r)
{
	if (a.k == V_NULL || b.k == V_NULL || a.k == V_OTHER || b.k == V_OTHER)
		return -1;
	if (a.k == V_STR && b.k == V_STR) {
		size_t m = a.n < b.n ? a.n : b.n;
		int c = m ? memcmp(a.s, b.s, m) : 0;
		*r = c ? c : (a.n > b.n) - (a.n < b.n);
		return 0;
	}
	if (a.k == V_STR || b.k == V_STR) {
		int swap = a.k != V_STR;
		struct val s = swap ? b : a, o = swap ? a : b;
		if (o.k == V_BOOL) {
			int t = str_bool(s.s, s.n);
			if (t < 0)
				return -1;
			s = v_bool(t);
		} else {
			s = str_num(cx, s.s, s.n);
			if (s.k == V_NULL)
				return -1;
		}
		int rc = compare(cx, swap ? o : s, swap ? s : o, r);
		return rc;
	}
	if (a.k == V_BOOL && b.k == V_BOOL) {
		*r = a.b - b.b;
		return 0;
	}
	/* numbers, or a boolean (1 or 0) and a number */
	if (a.k == V_BOOL)
		a = (struct val){V_NUM, 0, 0, a.b ? "1" : "0", 1};
	if (b.k == V_BOOL)
		b = (struct val){V_NUM, 0, 0, b.b ? "1" : "0", 1};
	if (a.k == V_NUM && b.k == V_NUM) {
		*r = ts_value_cmp((struct ts_span){a.s, a.n}, (struct ts_span){b.s, b.n});
		return 0;
	}
	*r = dcmp(num_double(a), num_double(b));
	return 0;
}

/* A value as a condition: 1, 0, -1 UNKNOWN. */
static int truth(struct val v)
{
	if (v.k == V_BOOL)
		return v.b;
	if (v.k == V_STR)
		return str_bool(v.s, v.n);
	return -1;
}

/* A value as an arithmetic operand: 0 and *d, or -1 for NULL. */
static int arith_operand(struct ctx *cx, struct val v, double *d)
{
	if (v.k == V_STR)
		v = str_num(cx, v.s, v.n);
	if (v.k != V_NUM && v.k != V_DBL)
		return -1;
	*d = num_double(v);
	return 0;
}

static int like_match(const short *p, size_t pn, const unsigned char *s, size_t sn)
{
	size_t i = 0, j = 0, star = (size_t)-1, si = 0;

	while (i < sn) {
		if (j < pn && p[j] == LK_ONE) {
			i++;
			while (i < sn && (s[i] & 0xC0) == 0x80)
				i++;
			j++;
		} else if (j < pn && p[j] == LK_ANY) {
			star = j++;
			si = i;
		} else if (j < pn && p[j] == s[i]) {
			i++;
			j++;
		} else if (star != (size_t)-1) {
			/* let the last % take one more character */
			j = star + 1;
			si++;
			while (si < sn && (s[si] & 0xC0) == 0x80)
				si++;
			i = si;
		} else {
			return 0;
		}
	}
	while (j < pn && p[j] == LK_ANY)
		j++;
	return j == pn;
}

static struct val eval(struct ctx *cx, size_t ni);

static struct val eval_like(struct ctx *cx, const struct node *x)
{
	struct val v = eval(cx, x->kids[0]);
	char num[40];

	switch (v.k) {
	case V_STR:
	case V_NUM:
		break;
	case V_BOOL:
		v.s = v.b ? "true" : "false";
		v.n = strlen(v.s);
		break;
	case V_DBL: {
		/* the shortest text that reads back as the same double */
		int prec = 1;
		do
			snprintf(num, sizeof(num), "%.*g", prec, v.d);
		while (prec++ < 17 && !isnan(v.d) && strtod(num, NULL) != v.d);
		v.s = num;
		v.n = strlen(num);
		break;
	}
	default:
		return v_null;
	}
	return v_bool(like_match(x->like, x->nlike, (const unsigned char *)v.s, v.n));
}

static struct val eval(struct ctx *cx, size_t ni)
{
	const struct node *x = &cx->w->nodes[ni];
	struct val a, b;
	int r, t;

	switch (x->op) {
	case OP_LIT:
		return x->lit;
	case OP_COL:
		return fetch(cx, x->col);
	case OP_NEG: {
		double d;
		a = eval(cx, x->kids[0]);
		if (arith_operand(cx, a, &d) < 0)
			return v_null;
		a = (struct val){V_DBL, 0, -d, NULL, 0};
		return a;
	}
	case OP_ARITH: {
		double acc, d;
		if (arith_operand(cx, eval(cx, x->kids[0]), &acc) < 0)
			return v_null;
		for (size_t k = 1; k < x->nkids; k++) {
			if (arith_operand(cx, eval(cx, x->kids[k]), &d) < 0)
				return v_null;
			switch (x->kops[k]) {
			case '+': acc += d; break;
			case '-': acc -= d; break;
			case '*': acc *= d; break;
			case '/':
				if (d == 0)
					return v_null;
				acc /= d;
				break;
			default:
				if (d == 0)
					return v_null;
				acc = fmod(acc, d);
				break;
			}
		}
		return (struct val){V_DBL, 0, acc, NULL, 0};
	}
	case OP_EQ: case OP_NE: case OP_LT: case OP_LE: case OP_GT: case OP_GE:
		a = eval(cx, x->kids[0]);
		b = eval(cx, x->kids[1]);
		if (compare(cx, a, b, &r) < 0)
			return v_null;
		switch (x->op) {
		case OP_EQ: return v_bool(r == 0);
		case OP_NE: return v_bool(r != 0);
		case OP_LT: return v_bool(r < 0);
		case OP_LE: return v_bool(r <= 0);
		case OP_GT: return v_bool(r > 0);
		default: return v_bool(r >= 0);
		}
	case OP_NSEQ:
		a = eval(cx, x->kids[0]);
		b = eval(cx, x->kids[1]);
		if (a.k == V_NULL || b.k == V_NULL)
			return v_bool(a.k == b.k);
		return v_bool(compare(cx, a, b, &r) == 0 && r == 0);
	case OP_AND:
	case OP_OR: {
		int stop = x->op == OP_OR; /* the value that decides the chain */
		int unknown = 0;
		for (size_t k = 0; k < x->nkids; k++) {
			t = truth(eval(cx, x->kids[k]));
			if (t == stop)
				return v_bool(stop);
			unknown |= t < 0;
		}
		return unknown ? v_null : v_bool(!stop);
	}
	case OP_NOT:
		t = truth(eval(cx, x->kids[0]));
		return v_truth(t < 0 ? -1 : !t);
	case OP_IN: {
		int unknown = 0;
		a = eval(cx, x->kids[0]);
		if (a.k == V_NULL)
			return v_null;
		for (size_t k = 1; k < x->nkids; k++) {
			b = eval(cx, x->kids[k]);
			if (compare(cx, a, b, &r) < 0)
				unknown = 1;
			else if (r == 0)
				return v_bool(1);
		}
		return unknown ? v_null : v_bool(0);
	}
	case OP_BETWEEN: {
		int ge, le;
		a = eval(cx, x->kids[0]);
		b = eval(cx, x->kids[1]);
		ge = compare(cx, a, b, &r) < 0 ? -1 : r >= 0;
		if (ge == 0)
			return v_bool(0);
		b = eval(cx, x->kids[2]);
		le = compare(cx, a, b, &r) < 0 ? -1 : r <= 0;
		if (le == 0)
			return v_bool(0);
		return v_truth(ge < 0 || le < 0 ? -1 : 1);
	}
	case OP_LIKE:
		return eval_like(cx, x);
	case OP_ISNULL:
		return v_bool(eval(cx, x->kids[0]).k == V_NULL);
	case OP_ISTRUE:
		return v_bool(truth(eval(cx, x->kids[0])) == 1);
	case OP_ISFALSE:
		return v_bool(truth(eval(cx, x->kids[0])) == 0);
	case OP_ISUNKNOWN:
		return v_bool(truth(eval(cx, x->kids[0])) < 0);
	}
	return v_null;
}

int ts_where_eval(const struct ts_where *w, struct ts_span record,
		  const struct ts_json_keys *idx_or_null)
{
	struct ctx cx = {w, record, idx_or_null, 0};

	w->sc->gen++; /* every column is fetched again */
	int t = truth(eval(&cx, w->root));
	if (cx.err) {
		errno = cx.err;
		return -1;
	}
	return t == 1;
}
