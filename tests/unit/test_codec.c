/* test_codec.c — lib/codec.h: base64, format detection, ts_inflate_mem. */
#include <errno.h>
#include <libdeflate.h>
#include <stdlib.h>

#include "check.h"
#include "codec.h"
#include "zbytes.h"

static struct ts_buf out;
static size_t bad;

static int b64(const char *s)
{
	ts_buf_reset(&out);
	bad = (size_t)-1;
	return ts_base64_decode(&out, s, strlen(s), &bad);
}

#define B64_OK(in, want)                                              \
	do {                                                          \
		CHECK(b64(in) == 0);                                  \
		CHECK_MEM(out.data, out.len, want, sizeof(want) - 1); \
	} while (0)
#define B64_BAD(in, at)                                             \
	do {                                                        \
		errno = 0;                                          \
		CHECK(b64(in) == -1 && errno == EINVAL && bad == (at)); \
	} while (0)

static void encode(struct ts_buf *b, const unsigned char *p, size_t n, int pad)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		ts_buf_addch(b, tab[v >> 18]);
		ts_buf_addch(b, tab[(v >> 12) & 63]);
		if (i + 1 < n)
			ts_buf_addch(b, tab[(v >> 6) & 63]);
		else if (pad)
			ts_buf_addch(b, '=');
		if (i + 2 < n)
			ts_buf_addch(b, tab[v & 63]);
		else if (pad)
			ts_buf_addch(b, '=');
	}
}

static void test_base64(void)
{
	ts_buf_init(&out, 0);
	B64_OK("", "");
	B64_OK("aGVsbG8=", "hello");
	B64_OK("aGVsbG8", "hello");   /* padding optional */
	B64_OK("aGVsbA==", "hell");
	B64_OK("aGVsbA=", "hell");
	B64_OK("aGVsbA", "hell");
	B64_OK("aGVs", "hel");
	B64_OK("aGVsbG8gd29ybGQ=", "hello world");
	B64_OK("aGVs\nbG8=\r\n", "hello");  /* CR/LF ignored anywhere */
	B64_OK("\r\naG\nVs\r\nbG8", "hello");
	B64_OK("+/+/", "\xfb\xff\xbf");
	B64_OK("AA==", "\0");
	B64_OK("AAAA", "\0\0\0");
	/* the sample Lambda event's data starts with gzip's magic */
	B64_OK("H4sIAAAAAAAAAHWP", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x00\x75\x8f");

	B64_BAD("aGV*", 3);
	B64_BAD("aGVsbG8=aGVs", 8);       /* data after padding */
	B64_BAD("=", 1);                  /* padding with no data before it */
	B64_BAD("aGVs=", 5);
	B64_BAD("aGVsbA==x", 8);
	B64_BAD("a", 1);                  /* 6 bits: not a byte */
	B64_BAD("aGVsb", 5);
	B64_BAD("aGVsbG8===", 10);        /* three pad characters */
	B64_BAD("aGVs bG8=", 4);          /* spaces are not ignored */
	B64_BAD("aGVs\tbG8=", 4);
	B64_BAD("aGVs-_", 4);             /* base64url is not base64 */
	B64_BAD("\xc3\xa9", 0);
	B64_BAD("====", 4);

	/* the decoded bytes are appended */
	ts_buf_reset(&out);
	ts_buf_addstr(&out, ">");
	CHECK(ts_base64_decode(&out, "eA==", 4, &bad) == 0);
	CHECK_STR(out.data, ">x");

	/* round trip of every byte value, every length mod 3, padded or not */
	unsigned char all[256];
	struct ts_buf enc;
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	ts_buf_init(&enc, 0);
	for (size_t n = 250; n <= 256; n++)
		for (int pad = 0; pad < 2; pad++) {
			ts_buf_reset(&enc);
			encode(&enc, all, n, pad);
			ts_buf_reset(&out);
			CHECK(ts_base64_decode(&out, enc.data, enc.len, &bad) == 0);
			CHECK_MEM(out.data, out.len, all, n);
		}
	ts_buf_release(&enc);
	ts_buf_release(&out);

	/* the output limit */
	ts_buf_init(&out, 4);
	errno = 0;
	CHECK(ts_base64_decode(&out, "aGVsbG8=", 8, &bad) == -1 && errno == EFBIG);
	ts_buf_release(&out);
}

static void test_detect(void)
{
#define DETECT(lit) ts_format_detect((const unsigned char *)(lit), sizeof(lit) - 1)
	CHECK(DETECT("\x1f\x8b\x08\x00") == TS_FMT_GZIP);
	CHECK(DETECT("\x1f\x8b") == TS_FMT_GZIP);
	CHECK(DETECT("\x78\x9c\xcb\x48") == TS_FMT_ZLIB);
	CHECK(DETECT("\x78\x01") == TS_FMT_ZLIB);
	CHECK(DETECT("\x78\xda") == TS_FMT_ZLIB);
	CHECK(DETECT("\x78\x5e") == TS_FMT_ZLIB);
	CHECK(DETECT("\x58\x85") == TS_FMT_ZLIB); /* a 16K window */
	CHECK(DETECT("\x78\x9d") == TS_FMT_PLAIN); /* bad header checksum */
	CHECK(DETECT("\x88\x98") == TS_FMT_PLAIN); /* window > 32K */
	/* text that passes zlib's header checksum is still text */
	CHECK(DETECT("x marks the spot\n") == TS_FMT_PLAIN); /* FDICT set */
	CHECK(DETECT("80 GET /index.html\n") == TS_FMT_PLAIN);
	CHECK(DETECT("hCat sat on the mat\n") == TS_FMT_PLAIN);
	CHECK(DETECT("XGBoost model loaded\n") == TS_FMT_PLAIN);
	CHECK(DETECT("(Sun) 12:00 started\n") == TS_FMT_PLAIN);
	CHECK(DETECT("x^2 + y^2\n") == TS_FMT_PLAIN);
	/* real zlib data of every size still is zlib */
	struct ts_buf zb;
	ts_buf_init(&zb, 0);
	for (size_t len = 0; len < 3000; len += 250) {
		char *src = malloc(len + 1);
		zbytes_noise(src, len, (uint32_t)len + 1);
		for (int level = 0; level <= 9; level += 3) {
			ts_buf_reset(&zb);
			zbytes(&zb, src, len, Z_ZLIB, level);
			CHECK(ts_format_detect((unsigned char *)zb.data, zb.len) == TS_FMT_ZLIB);
			CHECK(ts_format_detect((unsigned char *)zb.data, 3) == TS_FMT_ZLIB);
		}
		free(src);
	}
	ts_buf_reset(&zb);
	zbytes(&zb, "x marks the spot\n", 17, Z_ZLIB, 9);
	CHECK(ts_format_detect((unsigned char *)zb.data, zb.len) == TS_FMT_ZLIB);
	ts_buf_release(&zb);
	CHECK(DETECT("BZh91AY&SY") == TS_FMT_BZIP2);
	CHECK(DETECT("\xfd" "7zXZ\0\0\4") == TS_FMT_XZ);
	CHECK(DETECT("\xfd" "7zXZ") == TS_FMT_PLAIN); /* too short to tell */
	CHECK(DETECT("\x28\xb5\x2f\xfd\x24") == TS_FMT_ZSTD);
	CHECK(DETECT("\x04\x22\x4d\x18\x64") == TS_FMT_LZ4);
	CHECK(DETECT("PK\3\4\x14\0") == TS_FMT_ARCHIVE);
	CHECK(DETECT("PK\5\6\0\0") == TS_FMT_ARCHIVE);
	CHECK(DETECT("7z\xbc\xaf\x27\x1c\0\4") == TS_FMT_ARCHIVE);
	CHECK(DETECT("{\"a\":1}\n") == TS_FMT_PLAIN);
	CHECK(DETECT("[1,2]") == TS_FMT_PLAIN);
	CHECK(DETECT("2024-05-01 text") == TS_FMT_PLAIN);
	CHECK(DETECT("\xef\xbb\xbf{}") == TS_FMT_PLAIN);
	CHECK(DETECT("\x1f") == TS_FMT_PLAIN);
	CHECK(ts_format_detect(NULL, 0) == TS_FMT_PLAIN);
	unsigned char tar[512] = "file.json";
	memcpy(tar + 257, "ustar\0" "00", 8);
	CHECK(ts_format_detect(tar, sizeof(tar)) == TS_FMT_ARCHIVE);
	CHECK(ts_format_detect(tar, 261) == TS_FMT_PLAIN);
	memcpy(tar + 257, "ustar  ", 8); /* GNU tar */
	CHECK(ts_format_detect(tar, sizeof(tar)) == TS_FMT_ARCHIVE);

	/* a v7 tar header: no magic, a checksum that adds up */
	unsigned char v7[512] = "file.json";
	unsigned sum = 0;
	memcpy(v7 + 100, "0000644", 8);
	memset(v7 + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += v7[i];
	snprintf((char *)v7 + 148, 8, "%06o", sum);
	CHECK(ts_format_detect(v7, sizeof(v7)) == TS_FMT_ARCHIVE);
	v7[0] = 'F';
	CHECK(ts_format_detect(v7, sizeof(v7)) == TS_FMT_PLAIN); /* sum is off */
	unsigned char zero[512] = {0};
	CHECK(ts_format_detect(zero, sizeof(zero)) == TS_FMT_PLAIN);

	/* cpio, every variant; a bare magic is not enough */
	char odc[80] = "070707";
	memset(odc + 6, '0', 70);
	CHECK(ts_format_detect((unsigned char *)odc, 76) == TS_FMT_ARCHIVE);
	odc[40] = 'x';
	CHECK(ts_format_detect((unsigned char *)odc, 76) == TS_FMT_PLAIN);
	char newc[112] = "070701";
	memset(newc + 6, 'a', 104);
	CHECK(ts_format_detect((unsigned char *)newc, 110) == TS_FMT_ARCHIVE);
	newc[5] = '2'; /* crc */
	CHECK(ts_format_detect((unsigned char *)newc, 110) == TS_FMT_ARCHIVE);
	CHECK(DETECT("070701 is not cpio") == TS_FMT_PLAIN);
	unsigned char bin[40] = {0xc7, 0x71};
	bin[6] = 0xa4, bin[7] = 0x81;  /* mode 0100644, little-endian */
	bin[20] = 2;                    /* namesize */
	bin[26] = 'a';
	CHECK(ts_format_detect(bin, sizeof(bin)) == TS_FMT_ARCHIVE);
	bin[27] = 'b';                  /* name not terminated */
	CHECK(ts_format_detect(bin, sizeof(bin)) == TS_FMT_PLAIN);
	unsigned char binbe[40] = {0x71, 0xc7, 0, 0, 0, 0, 0x81, 0xa4};
	binbe[21] = 2;
	binbe[26] = 'a';
	CHECK(ts_format_detect(binbe, sizeof(binbe)) == TS_FMT_ARCHIVE);
	CHECK(DETECT("q\xc7\x80 text") == TS_FMT_PLAIN);

	CHECK(DETECT("!<arch>\n") == TS_FMT_ARCHIVE);
	CHECK(DETECT("Rar!\x1a\x07\x00\xcf") == TS_FMT_ARCHIVE);
	CHECK(DETECT("Rar!\x1a\x07\x01\x00") == TS_FMT_ARCHIVE);
	CHECK(DETECT("MSCF\0\0\0\0\x10") == TS_FMT_ARCHIVE);
	CHECK(DETECT("xar!\0\x1c\0\1") == TS_FMT_ARCHIVE);
	CHECK(DETECT("WARC/1.0\r\n") == TS_FMT_ARCHIVE);
	CHECK(DETECT("WARC/ is a word\n") == TS_FMT_PLAIN);
	unsigned char lha[24] = {0x20, 0x5a, '-', 'l', 'h', '5', '-'};
	lha[20] = 1;
	CHECK(ts_format_detect(lha, sizeof(lha)) == TS_FMT_ARCHIVE);
	lha[20] = 'x';
	CHECK(ts_format_detect(lha, sizeof(lha)) == TS_FMT_PLAIN);
	unsigned char *iso = calloc(1, 0x8001 + 5);
	if (CHECK(iso)) {
		memcpy(iso + 0x8001, "CD001", 5);
		CHECK(ts_format_detect(iso, 0x8001 + 5) == TS_FMT_ARCHIVE);
		CHECK(ts_format_detect(iso, 0x8001 + 4) == TS_FMT_PLAIN);
		free(iso);
	}

	/* lz4 legacy frames; skippable frames tell by what follows them */
	CHECK(DETECT("\x02\x21\x4c\x18\x10") == TS_FMT_LZ4);
	CHECK(DETECT("\x50\x2a\x4d\x18\x02\0\0\0ab\x28\xb5\x2f\xfd") == TS_FMT_ZSTD);
	CHECK(DETECT("\x5f\x2a\x4d\x18\x02\0\0\0ab\x04\x22\x4d\x18") == TS_FMT_LZ4);
	CHECK(DETECT("\x50\x2a\x4d\x18\xff\0\0\0") == TS_FMT_ZSTD);
	/* bzip2: "BZh", a level, a block */
	CHECK(DETECT("BZh9\x17\x72\x45\x38\x50\x90") == TS_FMT_BZIP2); /* empty */
	CHECK(DETECT("BZhello world\n") == TS_FMT_PLAIN);
	CHECK(DETECT("BZh1 is a level\n") == TS_FMT_PLAIN);
#undef DETECT

	/* names */
	enum ts_format f;
	static const char *const names[] = {"plain", "gzip", "zlib", "deflate",
					    "bzip2", "xz", "zstd", "lz4", "archive"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		CHECK(ts_format_parse(names[i], &f) == 0);
		CHECK_STR(ts_format_name(f), names[i]);
	}
	CHECK(ts_format_parse("gz", &f) == -1);
	CHECK(ts_format_parse("", &f) == -1);
	CHECK(ts_format_parse("GZIP", &f) == -1);
}

static void test_inflate(void)
{
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	struct ts_buf z, o, plain;
	const char *why;
	const char *a = "{\"a\":1}\n", *b = "{\"b\":2}\n";

	if (!CHECK(d))
		return;
	ts_buf_init(&z, 0);
	ts_buf_init(&o, 0);
	ts_buf_init(&plain, 0);
	for (int i = 0; i < 2000; i++)
		ts_buf_addf(&plain, "{\"n\":%d,\"msg\":\"line %d\"}\n", i, i * 7);

	/* gzip: one member, several members, empty members, zero padding */
	CHECK(zbytes(&z, plain.data, plain.len, Z_GZIP, 6) == 0);
	CHECK(ts_inflate_mem(d, TS_FMT_GZIP, z.data, z.len, &o, NULL, &why) == 0);
	CHECK_MEM(o.data, o.len, plain.data, plain.len);

	ts_buf_reset(&z);
	zbytes(&z, a, strlen(a), Z_GZIP, 6);
	zbytes(&z, "", 0, Z_GZIP, 6);
	zbytes(&z, b, strlen(b), Z_GZIP, 1);
	zbytes(&z, plain.data, plain.len, Z_GZIP, 9);
	ts_buf_reset(&o);
	ts_buf_addstr(&o, ">"); /* it appends */
	CHECK(ts_inflate_mem(d, TS_FMT_GZIP, z.data, z.len, &o, NULL, &why) == 0);
	CHECK(o.len == 1 + 16 + plain.len);
	CHECK(memcmp(o.data, ">{\"a\":1}\n{\"b\":2}\n", 17) == 0);
	CHECK(memcmp(o.data + 17, plain.data, plain.len) == 0);
	CHECK(o.data[o.len] == '\0');

	size_t zlen = z.len;
	ts_buf_add(&z, "\0\0\0\0\0\0\0\0", 8);
	ts_buf_reset(&o);
	CHECK(ts_inflate_mem(d, TS_FMT_GZIP, z.data, z.len, &o, NULL, &why) == 0);
	CHECK(o.len == 16 + plain.len);

	/* trailing garbage after the last member */
	ts_buf_setlen(&z, zlen);
	ts_buf_addstr(&z, "garbage");
	ts_buf_reset(&o);
	ts_buf_addstr(&o, "keep");
	why = NULL;
	CHECK(ts_inflate_mem(d, TS_FMT_GZIP, z.data, z.len, &o, NULL, &why) == -1);
	CHECK(why && strstr(why, "gzip"));
	CHECK_STR(o.data, "keep"); /* nothing appended on failure */

	/* zlib */
	ts_buf_reset(&z);
	zbytes(&z, plain.data, plain.len, Z_ZLIB, 6);
	ts_buf_reset(&o);
	CHECK(ts_inflate_mem(d, TS_FMT_ZLIB, z.data, z.len, &o, NULL, &why) == 0);
	CHECK_MEM(o.data, o.len, plain.data, plain.len);
	ts_buf_add(&z, "\0\0", 2);
	ts_buf_reset(&o);
	CHECK(ts_inflate_mem(d, TS_FMT_ZLIB, z.data, z.len, &o, NULL, &why) == 0);
	ts_buf_setlen(&z, z.len - 2);
	ts_buf_addstr(&z, "x");
	ts_buf_reset(&o);
	CHECK(ts_inflate_mem(d, TS_FMT_ZLIB, z.data, z.len, &o, NULL, &why) == -1);
	CHECK(why && strstr(why, "trailing"));
	CHECK(o.len == 0);

	/* gzip data given as zlib and the other way round */
	ts_buf_reset(&z);
	zbytes(&z, a, strlen(a), Z_GZIP, 6);
	ts_buf_reset(&o);
	CHECK(ts_inflate_mem(d, TS_FMT_ZLIB, z.data, z.len, &o, NULL, &why) == -1);
	ts_buf_reset(&z);
	zbytes(&z, a, strlen(a), Z_ZLIB, 6);
	CHECK(ts_inflate_mem(d, TS_FMT_GZIP, z.data, z.len, &o, NULL, &why) == -1);

	/* corrupt and truncated data */
	ts_buf_reset(&z);
	zbytes(&z, plain.data, plain.len, Z_GZIP, 6);
	for (size_t cut = 1; cut < z.len; cut += z.len / 7) {
		ts_buf_reset(&o);
		why = NULL;
		CHECK(ts_inflate_mem(d, TS_FMT_GZIP, z.data, cut, &o, NULL, &why) == -1);
		CHECK(why != NULL && o.len == 0);
	}
	z.data[z.len / 2] ^= 0x55;
	z.data[z.len / 2 + 1] ^= 0xff;
	ts_buf_reset(&o);
	CHECK(ts_inflate_mem(d, TS_FMT_GZIP, z.data, z.len, &o, NULL, &why) == -1);
	z.data[z.len / 2] ^= 0x55;
	z.data[z.len / 2 + 1] ^= 0xff;
	z.data[z.len - 5] ^= 1; /* the CRC */
	CHECK(ts_inflate_mem(d, TS_FMT_GZIP, z.data, z.len, &o, NULL, &why) == -1);
	CHECK(ts_inflate_mem(d, TS_FMT_GZIP, "\x1f\x8b", 2, &o, NULL, &why) == -1);
	CHECK(ts_inflate_mem(d, TS_FMT_ZLIB, "\x78\x9c", 2, &o, NULL, &why) == -1);

	/* the size limit: over it fails, at it passes */
	struct ts_limits lim = {plain.len - 1, 0};
	ts_buf_reset(&z);
	zbytes(&z, plain.data, plain.len, Z_GZIP, 6);
	ts_buf_reset(&o);
	why = NULL;
	CHECK(ts_inflate_mem(d, TS_FMT_GZIP, z.data, z.len, &o, &lim, &why) == -1);
	CHECK(why && strncmp(why, "decompression bomb", 18) == 0);
	CHECK(o.len == 0);
	lim.max_size = plain.len;
	CHECK(ts_inflate_mem(d, TS_FMT_GZIP, z.data, z.len, &o, &lim, &why) == 0);
	CHECK(o.len == plain.len);

	/* ... whatever room the buffer already has (a reused buffer) */
	ts_buf_reset(&z);
	zbytes(&z, plain.data, 120, Z_GZIP, 6);
	lim.max_size = 100;
	ts_buf_reset(&o);
	ts_buf_grow(&o, 1 << 20);
	why = NULL;
	CHECK(ts_inflate_mem(d, TS_FMT_GZIP, z.data, z.len, &o, &lim, &why) == -1);
	CHECK(why && strncmp(why, "decompression bomb", 18) == 0);
	CHECK(o.len == 0);
	ts_buf_reset(&z);
	zbytes(&z, plain.data, 120, Z_ZLIB, 6);
	CHECK(ts_inflate_mem(d, TS_FMT_ZLIB, z.data, z.len, &o, &lim, &why) == -1);
	CHECK(o.len == 0);
	/* ... and the limit counts all members together */
	ts_buf_reset(&z);
	zbytes(&z, plain.data, 60, Z_GZIP, 6);
	zbytes(&z, plain.data, 60, Z_GZIP, 6);
	CHECK(ts_inflate_mem(d, TS_FMT_GZIP, z.data, z.len, &o, &lim, &why) == -1);
	CHECK(o.len == 0);

	/* the output buffer's own limit */
	struct ts_buf small;
	ts_buf_init(&small, 1000);
	ts_buf_reset(&z);
	zbytes(&z, plain.data, plain.len, Z_GZIP, 6);
	CHECK(ts_inflate_mem(d, TS_FMT_GZIP, z.data, z.len, &small, NULL, &why) == -1);
	CHECK(small.len == 0);
	ts_buf_release(&small);

	/* the expansion ratio: judged past TS_RATIO_GRACE only */
	size_t zn = (size_t)4 << 20;
	char *zeros = calloc(1, zn);
	if (CHECK(zeros)) {
		struct ts_limits rl = {0, 100};
		ts_buf_reset(&z);
		zbytes(&z, zeros, zn, Z_GZIP, 9);
		CHECK(z.len * 100 < zn);
		ts_buf_reset(&o);
		why = NULL;
		CHECK(ts_inflate_mem(d, TS_FMT_GZIP, z.data, z.len, &o, &rl, &why) == -1);
		CHECK(why && strstr(why, "ratio"));
		rl.max_ratio = 10000;
		CHECK(ts_inflate_mem(d, TS_FMT_GZIP, z.data, z.len, &o, &rl, &why) == 0);
		CHECK(o.len == zn);
		ts_buf_reset(&z);
		zbytes(&z, zeros, 100000, Z_GZIP, 9); /* under the grace */
		ts_buf_reset(&o);
		rl.max_ratio = 2;
		CHECK(ts_inflate_mem(d, TS_FMT_GZIP, z.data, z.len, &o, &rl, &why) == 0);
		free(zeros);
	}

	/* the Lambda sample's awslogs.data, decoded then inflated */
	static const char sample[] =
		"H4sIAAAAAAAAAHWPwQqCQBCGX0Xm7EFtK+smZBEUgXoLCdMhFtKV3akI8d0bLYmibvPPN3wz00CJxmQnTO41whwWQRIctmEcB6sQbFC3CjW3XW8kxpOpP+OC22d1Wml1qZkQGtoMsScxaczKN3plG8zlaHIta5KqWsozoTYw3/djzwhpLwivWFGHGpAFe7DL68JlBUk+l7KSN7tCOEJ4M3/qOI49vMHj+zCKdlFqLaU2ZHV2a4Ct/an0/ivdX8oYc1UVX860fQDQiMdxRQEAAA==";
	static const char decoded[] =
		"{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"123456789123\","
		"\"logGroup\":\"testLogGroup\",\"logStream\":\"testLogStream\","
		"\"subscriptionFilters\":[\"testFilter\"],\"logEvents\":[{\"id\":"
		"\"eventId1\",\"timestamp\":1440442987000,\"message\":\"[ERROR] First "
		"test message\"},{\"id\":\"eventId2\",\"timestamp\":1440442987001,"
		"\"message\":\"[ERROR] Second test message\"}]}";
	ts_buf_reset(&z);
	CHECK(ts_base64_decode(&z, sample, sizeof(sample) - 1, &bad) == 0);
	CHECK(ts_format_detect((unsigned char *)z.data, z.len) == TS_FMT_GZIP);
	ts_buf_reset(&o);
	CHECK(ts_inflate_mem(d, TS_FMT_GZIP, z.data, z.len, &o, NULL, &why) == 0);
	CHECK_MEM(o.data, o.len, decoded, sizeof(decoded) - 1);

	ts_buf_release(&z);
	ts_buf_release(&o);
	ts_buf_release(&plain);
	libdeflate_free_decompressor(d);
}

/*
 * A decode that fails, midway or at the end, leaves the buffer as it was:
 * the same length, the NUL after it (buf.h), the bytes before untouched.
 * The room past the end is filled with junk first, so a missing NUL shows.
 */
static void test_base64_failure_keeps_buffer(void)
{
	static const char *const bad_inputs[] = {
		"aGVsbG8gd29ybGQ!",  /* stray byte after 11 decoded bytes */
		"aGVsbG8gd29ybGQhX", /* truncated quantum at the end */
		"aGVsbG8=d29y",      /* data after padding */
		"aGVsbG8gd29ybGQ===", /* too much padding */
		"!",                 /* stray first byte */
	};
	struct ts_buf b;
	size_t at;

	ts_buf_init(&b, 0);
	for (size_t i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++) {
		const char *in = bad_inputs[i];
		ts_buf_reset(&b);
		ts_buf_addstr(&b, "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
		ts_buf_setlen(&b, 1);
		b.data[0] = '>';
		at = (size_t)-1;
		errno = 0;
		CHECK(ts_base64_decode(&b, in, strlen(in), &at) == -1 && errno == EINVAL);
		CHECK(at <= strlen(in));
		CHECK(b.len == 1 && b.data[0] == '>');
		CHECK(b.data[b.len] == '\0');
		/* the buffer goes on working */
		CHECK(ts_base64_decode(&b, "eA==", 4, &at) == 0);
		CHECK_STR(b.data, ">x");
	}
	ts_buf_release(&b);

	/* the same on a buffer that had no allocation yet */
	ts_buf_init(&b, 0);
	CHECK(ts_base64_decode(&b, "aGVsbG8gd29ybGQ!", 16, &at) == -1 && at == 15);
	CHECK(b.len == 0 && b.data[0] == '\0');
	ts_buf_release(&b);
}

int main(void)
{
	test_base64();
	test_detect();
	test_inflate();
	test_base64_failure_keeps_buffer();
	return check_done();
}
