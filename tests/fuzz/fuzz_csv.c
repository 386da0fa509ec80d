/* fuzz_csv.c — any bytes as CSV and as TSV: never a crash; the records and
 * their faults are the same however the input is cut; every field lies
 * inside its record's data. */
#include <string.h>

#include "buf.h"
#include "csv.h"
#include "fuzz.h"

static int sum(void *ud, const struct ts_csv_rec *r)
{
	struct ts_buf *b = ud;
	size_t end = 0;
	for (size_t i = 0; i < r->n; i++) {
		FUZZ_CHECK(r->f[i].off >= end);
		end = r->f[i].off + r->f[i].len;
	}
	ts_buf_addf(b, "%llu %zu %d ", (unsigned long long)r->line, r->n, r->err != NULL);
	if (!r->err)
		for (size_t i = 0; i < r->n; i++) {
			ts_buf_add(b, r->data + r->f[i].off, r->f[i].len);
			ts_buf_addch(b, '\x1f');
		}
	ts_buf_addch(b, '\n');
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;

	for (int t = 0; t < 2; t++) {
		struct ts_buf a, b;
		struct ts_csv c;
		char sep = t ? '\t' : ',';

		ts_buf_init(&a, 0);
		ts_buf_init(&b, 0);
		ts_csv_init(&c, sep, 1 << 16);
		ts_csv_feed(&c, p, size, sum, &a);
		ts_csv_feed(&c, NULL, 0, sum, &a);
		ts_csv_release(&c);
		/* byte by byte */
		ts_csv_init(&c, sep, 1 << 16);
		for (size_t i = 0; i < size; i++)
			ts_csv_feed(&c, p + i, 1, sum, &b);
		ts_csv_feed(&c, NULL, 0, sum, &b);
		ts_csv_release(&c);
		FUZZ_CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
		ts_buf_release(&a);
		ts_buf_release(&b);
	}
	return 0;
}
