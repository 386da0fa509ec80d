/* test_buf.c — lib/buf.h: growth, the hard limit, detach, addf. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "check.h"

static void test_init(void)
{
	struct ts_buf b;

	ts_buf_init(&b, 0);
	CHECK(b.data != NULL && b.data[0] == '\0');
	CHECK(b.len == 0 && b.cap == 0);
	CHECK(b.max == TS_BUF_DEFAULT_MAX);
	CHECK(ts_buf_avail(&b) == 0);
	ts_buf_setlen(&b, 0); /* on the static empty string: a no-op */
	ts_buf_consume(&b, 5);
	CHECK(b.len == 0 && b.data[0] == '\0');
	ts_buf_release(&b);
	CHECK(b.cap == 0 && b.data[0] == '\0');
}

static void test_growth(void)
{
	struct ts_buf b;
	char want[256];

	ts_buf_init(&b, 0);
	CHECK(ts_buf_add(&b, "", 0) == 0);
	CHECK(b.len == 0 && b.data[0] == '\0');
	for (int i = 0; i < 100000; i++)
		if (ts_buf_addch(&b, (char)('a' + i % 26)) < 0)
			break;
	CHECK(b.len == 100000);
	CHECK(b.cap > b.len);
	CHECK(b.data[b.len] == '\0');
	CHECK(b.data[0] == 'a' && b.data[25] == 'z' && b.data[99999] == 'a' + 99999 % 26);
	CHECK(ts_buf_avail(&b) == b.cap - b.len - 1);

	ts_buf_reset(&b);
	CHECK(b.len == 0 && b.data[0] == '\0' && b.cap > 0);
	for (int i = 0; i < 256; i++)
		want[i] = (char)i;
	for (int i = 0; i < 1000; i++)
		ts_buf_add(&b, want, sizeof(want));
	CHECK(b.len == 256000);
	CHECK(memcmp(b.data + 255 * 256, want, 256) == 0);
	CHECK(ts_buf_addstr(&b, "tail") == 0);
	CHECK_STR(b.data + 256000, "tail");

	/* grow() reserves room without changing the content */
	size_t len = b.len;
	CHECK(ts_buf_grow(&b, 1 << 20) == 0);
	CHECK(b.len == len && ts_buf_avail(&b) >= 1 << 20);
	ts_buf_release(&b);
	CHECK(b.len == 0 && b.cap == 0 && b.max == TS_BUF_DEFAULT_MAX);
}

static void test_limit(void)
{
	struct ts_buf b;

	ts_buf_init(&b, 10);
	CHECK(ts_buf_add(&b, "0123456789", 10) == 0);
	CHECK(b.len == 10);
	errno = 0;
	CHECK(ts_buf_addch(&b, 'x') == -1 && errno == EFBIG);
	errno = 0;
	CHECK(ts_buf_add(&b, "x", 1) == -1 && errno == EFBIG);
	errno = 0;
	CHECK(ts_buf_addf(&b, "%d", 1) == -1 && errno == EFBIG);
	CHECK_STR(b.data, "0123456789"); /* unchanged by the failures */
	CHECK(b.cap <= 11);
	CHECK(ts_buf_add(&b, "", 0) == 0);

	/* the limit survives release and reset */
	ts_buf_release(&b);
	CHECK(b.max == 10);
	errno = 0;
	CHECK(ts_buf_add(&b, "01234567890", 11) == -1 && errno == EFBIG);
	CHECK(b.len == 0);
	CHECK(ts_buf_add(&b, "012345", 6) == 0);
	errno = 0;
	CHECK(ts_buf_addstr(&b, "6789x") == -1 && errno == EFBIG);
	CHECK(ts_buf_addstr(&b, "6789") == 0);
	ts_buf_release(&b);

	/* requests whose size would overflow size_t */
	ts_buf_init(&b, 0);
	ts_buf_addch(&b, 'x');
	errno = 0;
	CHECK(ts_buf_grow(&b, SIZE_MAX) == -1 && errno == EFBIG);
	errno = 0;
	CHECK(ts_buf_grow(&b, SIZE_MAX - 1) == -1 && errno == EFBIG);
	errno = 0;
	CHECK(ts_buf_grow(&b, TS_BUF_DEFAULT_MAX) == -1 && errno == EFBIG);
	CHECK(b.len == 1 && b.data[0] == 'x');
	ts_buf_release(&b);
}

static void test_detach(void)
{
	struct ts_buf b;
	size_t n = 99;
	char *p;

	/* an empty buffer still hands over a malloc'd "" */
	ts_buf_init(&b, 100);
	p = ts_buf_detach(&b, &n);
	CHECK(p != NULL && p[0] == '\0' && n == 0);
	free(p);
	CHECK(b.max == 100 && b.cap == 0);

	ts_buf_addstr(&b, "hello");
	p = ts_buf_detach(&b, &n);
	CHECK(n == 5);
	CHECK_STR(p, "hello");
	CHECK(b.len == 0 && b.cap == 0 && b.data[0] == '\0' && b.max == 100);
	/* the buffer is usable again and independent of p */
	ts_buf_addstr(&b, "world");
	CHECK_STR(p, "hello");
	CHECK_STR(b.data, "world");
	free(p);
	p = ts_buf_detach(&b, NULL);
	CHECK_STR(p, "world");
	free(p);
}

static void test_addf(void)
{
	struct ts_buf b;
	char big[300];

	ts_buf_init(&b, 0);
	CHECK(ts_buf_addf(&b, "%s=%d", "a", 1) == 0);
	CHECK_STR(b.data, "a=1");
	CHECK(ts_buf_addf(&b, "%s", "") == 0);
	CHECK(b.len == 3);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	/* longer than the room left: formatted a second time after growing */
	CHECK(ts_buf_addf(&b, ",%s,%llu", big, 18446744073709551615ULL) == 0);
	CHECK(b.len == 3 + 1 + 299 + 1 + 20);
	CHECK(memcmp(b.data, "a=1,xxx", 7) == 0);
	CHECK_STR(b.data + b.len - 21, ",18446744073709551615");
	CHECK(strlen(b.data) == b.len);
	ts_buf_release(&b);

	/* exactly to the limit, then one past it */
	ts_buf_init(&b, 8);
	CHECK(ts_buf_addf(&b, "%08d", 42) == 0);
	CHECK_STR(b.data, "00000042");
	errno = 0;
	CHECK(ts_buf_addf(&b, "x") == -1 && errno == EFBIG);
	CHECK_STR(b.data, "00000042");
	ts_buf_release(&b);
}

static void test_consume(void)
{
	struct ts_buf b;

	ts_buf_init(&b, 0);
	ts_buf_addstr(&b, "abcdef");
	ts_buf_consume(&b, 2);
	CHECK_STR(b.data, "cdef");
	CHECK(b.len == 4);
	ts_buf_setlen(&b, 2);
	CHECK_STR(b.data, "cd");
	ts_buf_consume(&b, 10);
	CHECK(b.len == 0 && b.data[0] == '\0');
	ts_buf_release(&b);
}

int main(void)
{
	test_init();
	test_growth();
	test_limit();
	test_detach();
	test_addf();
	test_consume();
	return check_done();
}
