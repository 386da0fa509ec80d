/* fuzz_s3list.c — a ListObjectsV2 answer from a hostile server: never a
 * crash, every key NUL-free, a truncated page always with a token. */
#include <string.h>

#include "fuzz.h"
#include "s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ts_s3_listing l = {0};
	struct ts_buf tok;

	ts_buf_init(&tok, 0);
	int rc = ts_s3_list_page((const char *)data, size, &l, &tok);
	FUZZ_CHECK(rc >= -1 && rc <= 1);
	if (rc == 1)
		FUZZ_CHECK(tok.len > 0);
	for (size_t i = 0; i < l.n; i++)
		FUZZ_CHECK(l.v[i].key != NULL);
	ts_s3_listing_release(&l);
	ts_buf_release(&tok);
	return 0;
}
