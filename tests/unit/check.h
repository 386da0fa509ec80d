/*
 * check.h — the unit tests' whole framework.
 *
 *	CHECK(cond)                 count a check; on failure print file:line and
 *	                            the expression (evaluates to cond, so tests
 *	                            can write `if (!CHECK(p)) return;`)
 *	CHECK_STR(got, want)        NUL-terminated strings (NULL allowed)
 *	CHECK_MEM(got, gotn, want, wantn)  byte ranges; shows both on failure
 *	check_done()                print the tally; the exit status for main()
 */
#ifndef TS_CHECK_H
#define TS_CHECK_H

#include <stdio.h>
#include <string.h>

static unsigned check_run, check_failed;

static inline int check_(int ok, const char *file, int line, const char *expr)
{
	check_run++;
	if (!ok) {
		check_failed++;
		fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
	}
	return ok;
}

static inline void check_show_(const char *what, const char *p, size_t n)
{
	fprintf(stderr, "    %s (%zu bytes): \"", what, n);
	for (size_t i = 0; p && i < n && i < 400; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x", c);
	}
	fprintf(stderr, "%s\"\n", n > 400 ? "..." : "");
}

static inline int check_mem_(const void *got, size_t gotn, const void *want,
			     size_t wantn, const char *file, int line,
			     const char *expr)
{
	int ok = gotn == wantn && (gotn == 0 || memcmp(got, want, gotn) == 0);

	if (!check_(ok, file, line, expr)) {
		check_show_("got ", got, gotn);
		check_show_("want", want, wantn);
	}
	return ok;
}

static inline int check_str_(const char *got, const char *want,
			     const char *file, int line, const char *expr)
{
	if (!got || !want) {
		int ok = got == want;
		if (!check_(ok, file, line, expr))
			fprintf(stderr, "    got %s, want %s\n", got ? got : "NULL",
				want ? want : "NULL");
		return ok;
	}
	return check_mem_(got, strlen(got), want, strlen(want), file, line, expr);
}

#define CHECK(cond) check_((cond) != 0, __FILE__, __LINE__, #cond)
#define CHECK_STR(got, want) \
	check_str_((got), (want), __FILE__, __LINE__, #got " == " #want)
#define CHECK_MEM(got, gotn, want, wantn)                            \
	check_mem_((got), (gotn), (want), (wantn), __FILE__, __LINE__, \
		   #got " == " #want)

static inline int check_done(void)
{
	fprintf(stderr, "%u checks, %u failed\n", check_run, check_failed);
	return check_failed ? 1 : 0;
}

#endif
