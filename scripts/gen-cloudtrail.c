/*
 * gen-cloudtrail — deterministic generator of CloudTrail-like events as
 * NDJSON: one event per line, in the shape CloudTrail delivers them
 * (eventVersion, userIdentity with sessionContext, eventTime, eventSource,
 * eventName, awsRegion, requestParameters, responseElements, ...), 1-2 KB a
 * line, for benchmarking ts-partition and friends.
 *
 *   gen-cloudtrail [--seed N] [--size MB | --records N] [--holes PCT]
 *                  [--dups PCT] [--slim] [-o FILE]
 *
 * --seed  PRNG seed (default 1); --size  target output size in MiB (default
 * 300, decimals allowed; generation stops after the line that reaches it);
 * --records  exactly N events instead (with --size too: whichever comes
 * first); -o  output file (default standard output).
 *
 * For data-quality tests (ts-validate), all off by default:
 * --holes PCT  each of eventID, eventTime, eventName and awsRegion is null
 *              in PCT/2 % of the events and missing in another PCT/2 %;
 * --dups PCT   PCT % of the events repeat the eventID of one of the 4096
 *              events before them;
 * --slim       events of those four fields only (about 130 bytes a line:
 *              ten million distinct eventIDs in 1.3 GB).
 * Holes and duplicates are drawn from a second PRNG stream, so with them
 * the rest of each event stays byte for byte what it is without them.
 *
 * The data: 20 accounts (recipientAccountId, skewed: a few busy accounts,
 * many quiet ones), 8 regions, 7 days (2024-05-01 .. 2024-05-07; eventTime
 * grows through the file with a few minutes of jitter, as a merged trail
 * does). Strings contain what real trails contain and naive parsers get
 * wrong: escaped quotes (\"), escaped slashes (\/), \uXXXX escapes, IAM
 * policy documents as JSON-in-a-string. About 1% of the events carry a
 * nested object with its own "recipientAccountId" (an EventBridge event
 * forwarded from another account) before the top-level one, so a regex that
 * takes the first "recipientAccountId":"..." puts them in the wrong
 * partition. Every line is valid JSON with a string recipientAccountId,
 * awsRegion and eventTime at the top level.
 *
 * The output depends only on the seed and size: own PRNG (splitmix64), no
 * clock, no locale.
 *
 * Build: cc -std=c11 -O2 scripts/gen-cloudtrail.c -o gen-cloudtrail
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB 1048576.0
#define NACCT 20
#define NDAYS 7

static const char *prog = "gen-cloudtrail";

/* ---- PRNG --------------------------------------------------------------- */

#include "prng.h"

#include "genout.h"

static void putu(uint64_t v)
{
	char tmp[24];
	int i = 24;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(tmp + i, (size_t)(24 - i));
}

static void putu0(uint64_t v, int width)
{
	char tmp[24];
	int i = 24;
	while (width-- > 0 || v) {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	}
	put(tmp + i, (size_t)(24 - i));
}

static void puthex(uint64_t v, int digits, int upper)
{
	const char *hx = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[16];
	for (int i = digits - 1; i >= 0; i--) {
		tmp[i] = hx[v & 15];
		v >>= 4;
	}
	put(tmp, (size_t)digits);
}

/* n characters from set */
static void putrand(const char *set, int n)
{
	size_t k = strlen(set);
	for (int i = 0; i < n; i++)
		putch(set[below((uint32_t)k)]);
}

#define UPPER36 "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

#define UUID_LEN 36

/* a random version-4 UUID into dst (UUID_LEN bytes, no terminator) */
static void fmtuuid(char *dst)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t a = rnd(), b = rnd();
	uint64_t part[5] = {a >> 32, a >> 16 & 0xffff, 0x4000 | (a & 0x0fff),
			    0x8000 | (b >> 48 & 0x3fff), b & 0xffffffffffffULL};
	static const int digits[5] = {8, 4, 4, 4, 12};
	for (int p = 0; p < 5; p++) {
		if (p)
			*dst++ = '-';
		for (int i = digits[p] - 1; i >= 0; i--)
			*dst++ = hex[part[p] >> (4 * i) & 15];
	}
}

static void putuuid(void)
{
	char u[UUID_LEN];
	fmtuuid(u);
	put(u, UUID_LEN);
}

/* ---- compact JSON writer -------------------------------------------------
 * Tracks commas per nesting level. Keys and string values are written as
 * given, between quotes: the caller passes valid JSON string contents, which
 * is how the escapes (\" \/ \uXXXX) get into the data on purpose. */

static int depth;
static unsigned char need_comma[64];

static void sep(const char *key)
{
	if (need_comma[depth])
		putch(',');
	need_comma[depth] = 1;
	if (key) {
		putch('"');
		puts_(key);
		put("\":", 2);
	}
}

static void obj(const char *key)
{
	sep(key);
	putch('{');
	need_comma[++depth] = 0;
}

static void arr(const char *key)
{
	sep(key);
	putch('[');
	need_comma[++depth] = 0;
}

static void endo(void)
{
	depth--;
	putch('}');
}

static void enda(void)
{
	depth--;
	putch(']');
}

/* "key":"  ... caller writes contents ... then sclose() */
static void sopen(const char *key)
{
	sep(key);
	putch('"');
}

static void sclose(void)
{
	putch('"');
}

static void str(const char *key, const char *val)
{
	sopen(key);
	puts_(val);
	sclose();
}

static void num(const char *key, uint64_t v)
{
	sep(key);
	putu(v);
}

static void boolean(const char *key, int v)
{
	sep(key);
	puts_(v ? "true" : "false");
}

static void null(const char *key)
{
	sep(key);
	puts_("null");
}

/* ---- holes and duplicates (--holes, --dups) ------------------------------
 * Drawn from their own PRNG stream (aux_state), so turning them on changes
 * nothing else in an event. */

static uint64_t aux_state;
static uint32_t hole_ppm, dup_ppm; /* parts per million */

static uint32_t aux_below(uint32_t n)
{
	uint64_t main_state = rng_state;
	rng_state = aux_state;
	uint32_t r = below(n);
	aux_state = rng_state;
	rng_state = main_state;
	return r;
}

enum hole { H_NONE, H_NULL, H_MISSING };

static enum hole hole(void)
{
	if (!hole_ppm)
		return H_NONE;
	uint32_t r = aux_below(2000000);
	return r < hole_ppm ? H_NULL : r < 2 * hole_ppm ? H_MISSING : H_NONE;
}

/* key: val, or null, or nothing */
static void str_or_hole(const char *key, const char *val)
{
	switch (hole()) {
	case H_NONE:
		str(key, val);
		break;
	case H_NULL:
		null(key);
		break;
	case H_MISSING:
		break;
	}
}

#define DUP_RING 4096

static char dup_ring[DUP_RING][UUID_LEN];
static uint64_t dup_n; /* eventIDs written so far */

/* "eventID": a fresh UUID (always drawn from the main stream, so the rest
 * of the event is the same whatever happens to it), an earlier one, null,
 * or nothing. */
static void event_id(void)
{
	char u[UUID_LEN];
	fmtuuid(u);
	if (dup_ppm && dup_n && aux_below(1000000) < dup_ppm) {
		uint32_t back = aux_below(dup_n < DUP_RING ? (uint32_t)dup_n : DUP_RING);
		memcpy(u, dup_ring[(dup_n - 1 - back) % DUP_RING], UUID_LEN);
	}
	switch (hole()) {
	case H_NONE:
		sopen("eventID");
		put(u, UUID_LEN);
		sclose();
		memcpy(dup_ring[dup_n++ % DUP_RING], u, UUID_LEN);
		break;
	case H_NULL:
		null("eventID");
		break;
	case H_MISSING:
		break;
	}
}

/* ---- the world ---------------------------------------------------------- */

static char accounts[NACCT][13];
static uint32_t acct_weight[NACCT], acct_total;

static const char *const regions[] = {
	"us-east-1", "us-east-2", "us-west-2", "eu-west-1",
	"eu-central-1", "ap-southeast-1", "ap-northeast-1", "sa-east-1",
};
static const uint32_t region_weight[] = {30, 12, 16, 14, 10, 7, 7, 4};

static const char *const users[] = {
	"alice", "bob", "carol", "deploy-bot", "ci-runner", "Jos\\u00e9.Garc\\u00eda",
	"\\u5f20\\u4f1f", "ops+oncall", "m\\u00fcller", "svc_backup",
	"o'brien", "analytics_ro",
};
static const char *const roles[] = {
	"OrganizationAccountAccessRole", "AWSReservedSSO_AdministratorAccess_8d4e5f6a7b8c9d0e",
	"AWSReservedSSO_ReadOnly_1a2b3c4d5e6f7a8b", "lambda-exec-orders",
	"ecs-task-api", "GitHubActionsDeploy", "DataPipelineRole",
	"eks-nodegroup-NodeInstanceRole-1XK2Y3Z4", "aws-service-role\\/elasticloadbalancing",
};
static const char *const agents[] = {
	"aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79-99.167.amzn2023.x86_64 exe/x86_64.amzn.2023 prompt/off command/s3.cp",
	"aws-cli/2.13.4 Python/3.11.4 Darwin/23.4.0 exe/x86_64 prompt/off command/ec2.describe-instances",
	"Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#5.10.214-202.855.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.84",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
	"[aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64 api/s3#1.53.1]",
	"aws-sdk-java/2.25.35 Linux/5.10.215-203.850.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
	"APN/1.0 HashiCorp/1.0 Terraform/1.8.2 (+https:\\/\\/www.terraform.io) terraform-provider-aws/5.47.0 (+https:\\/\\/registry.terraform.io\\/providers\\/hashicorp\\/aws)",
	"curl/8.5.0 \\\"custom-agent; build=\\\\\\\"nightly\\\\\\\"\\\"",
	"console.amazonaws.com",
	"AWS Internal",
	"aws-sdk-js/3.569.0 ua/2.0 os/linux#5.10.216 lang/js md/nodejs#20.12.2 api/dynamodb#3.569.0 caf\\u00e9-app\\/2.1",
};
static const char *const buckets[] = {
	"acme-data-lake-raw", "acme-logs-archive", "prod-assets-cdn",
	"ml-training-sets", "terraform-state-7f3a", "reports.example.com",
};
static const char *const keyparts[] = {
	"events", "year=2024", "photos", "caf\\u00e9", "r\\u00e9sum\\u00e9s",
	"tmp", "exports\\/daily", "\\u65e5\\u672c", "part-00017", "a b+c", "quote\\\"d",
};
static const char *const exts[] = {".parquet", ".json.gz", ".csv", ".jpg", ".tfstate", ".txt"};
static const char *const ciphers[] = {
	"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "ECDHE-RSA-AES128-GCM-SHA256",
};
static const char *const itypes[] = {"t3.micro", "m7g.large", "c6i.2xlarge", "r6a.xlarge"};
static const char *const tagvals[] = {
	"prod", "staging", "team \\\"payments\\\"", "caf\\u00e9 \\u2615", "C:\\\\builds\\\\nightly",
	"https:\\/\\/wiki.example.com\\/runbook", "\\u00fcber-service", "tab\\tseparated",
};

static void init_world(void)
{
	for (int i = 0; i < NACCT; i++) {
		snprintf(accounts[i], sizeof accounts[i], "%012llu",
			 (unsigned long long)(100000000000ULL + rnd() % 899999999999ULL));
		/* skewed: account i gets weight ~ 1/(i/3+1) */
		acct_weight[i] = 120 / (uint32_t)(i / 3 + 1);
		acct_total += acct_weight[i];
	}
}

static int pick_weighted(const uint32_t *w, int n, uint32_t total)
{
	uint32_t r = below(total);
	for (int i = 0; i < n; i++) {
		if (r < w[i])
			return i;
		r -= w[i];
	}
	return n - 1;
}

/* ---- time --------------------------------------------------------------- */

/* seconds since 2024-05-01T00:00:00Z, may be a little negative */
static void put_time(int64_t t, int ms)
{
	static const int mdays[] = {31, 28 + 1, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}; /* 2024 */
	int64_t day = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t sod = t - day * 86400;
	int month = 4, dom = (int)day; /* index 4 = May, dom 0-based */
	while (dom < 0)
		dom += mdays[--month];
	while (dom >= mdays[month])
		dom -= mdays[month++];
	puts_("2024-");
	putu0((uint64_t)month + 1, 2);
	putch('-');
	putu0((uint64_t)dom + 1, 2);
	putch('T');
	putu0((uint64_t)(sod / 3600), 2);
	putch(':');
	putu0((uint64_t)(sod / 60 % 60), 2);
	putch(':');
	putu0((uint64_t)(sod % 60), 2);
	if (ms) {
		putch('.');
		putu0(below(1000), 3);
	}
	putch('Z');
}

/* the top-level "eventTime" (or its hole) */
static void event_time(int64_t t)
{
	switch (hole()) {
	case H_NONE:
		sopen("eventTime");
		put_time(t, 0);
		sclose();
		break;
	case H_NULL:
		null("eventTime");
		break;
	case H_MISSING:
		break;
	}
}

/* ---- event pieces ------------------------------------------------------- */

enum idtype { ID_USER, ID_ROLE, ID_SERVICE, ID_ROOT };

struct ev {
	const char *acct;   /* recipient account */
	const char *actor;  /* account of the caller */
	const char *region;
	int64_t t;
	enum idtype idt;
	const char *user;
	const char *role;
	const char *session;
	char akid[21];
};

static void akid(char *dst, const char *prefix)
{
	memcpy(dst, prefix, 4);
	for (int i = 4; i < 20; i++)
		dst[i] = UPPER36[below(32)];
	dst[20] = 0;
}

static void user_identity(struct ev *e, const char *service)
{
	obj("userIdentity");
	switch (e->idt) {
	case ID_USER:
		str("type", "IAMUser");
		sopen("principalId");
		puts_("AIDA");
		putrand(UPPER36, 17);
		sclose();
		sopen("arn");
		puts_("arn:aws:iam::");
		puts_(e->actor);
		puts_(":user/");
		puts_(e->user);
		sclose();
		str("accountId", e->actor);
		str("accessKeyId", e->akid);
		str("userName", e->user);
		break;
	case ID_ROLE:
		str("type", "AssumedRole");
		sopen("principalId");
		puts_("AROA");
		putrand(UPPER36, 17);
		putch(':');
		puts_(e->session);
		sclose();
		sopen("arn");
		puts_("arn:aws:sts::");
		puts_(e->actor);
		puts_(":assumed-role/");
		puts_(e->role);
		putch('/');
		puts_(e->session);
		sclose();
		str("accountId", e->actor);
		str("accessKeyId", e->akid);
		break;
	case ID_ROOT:
		str("type", "Root");
		str("principalId", e->actor);
		sopen("arn");
		puts_("arn:aws:iam::");
		puts_(e->actor);
		puts_(":root");
		sclose();
		str("accountId", e->actor);
		str("accessKeyId", e->akid);
		break;
	case ID_SERVICE:
		str("type", "AWSService");
		str("invokedBy", service);
		endo();
		return;
	}
	obj("sessionContext");
	if (e->idt == ID_ROLE) {
		obj("sessionIssuer");
		str("type", "Role");
		sopen("principalId");
		puts_("AROA");
		putrand(UPPER36, 17);
		sclose();
		sopen("arn");
		puts_("arn:aws:iam::");
		puts_(e->actor);
		puts_(":role/");
		puts_(e->role);
		sclose();
		str("accountId", e->actor);
		str("userName", e->role);
		endo();
		obj("webIdFederationData");
		endo();
	}
	obj("attributes");
	sopen("creationDate");
	put_time(e->t - below(3600), 0);
	sclose();
	str("mfaAuthenticated", e->idt == ID_ROOT || chance(1, 4) ? "true" : "false");
	endo();
	if (e->idt == ID_ROLE && chance(1, 3))
		str("sourceIdentity", e->user);
	endo();
	if (e->idt == ID_ROLE && chance(1, 5))
		str("invokedBy", "cloudformation.amazonaws.com");
	endo();
}

static void resources_s3(const char *bucket, const char *acct)
{
	arr("resources");
	obj(NULL);
	str("type", "AWS::S3::Object");
	sopen("ARN");
	puts_("arn:aws:s3:::");
	puts_(bucket);
	puts_("/");
	putrand(ALNUM, 12);
	sclose();
	endo();
	obj(NULL);
	str("accountId", acct);
	str("type", "AWS::S3::Bucket");
	sopen("ARN");
	puts_("arn:aws:s3:::");
	puts_(bucket);
	sclose();
	endo();
	enda();
}

static void s3_key(void)
{
	int n = 1 + (int)below(4);
	for (int i = 0; i < n; i++) {
		puts_(PICK(keyparts));
		if (chance(1, 6))
			putch('\\'); /* an escaped slash: \/ */
		putch('/');
	}
	putrand(ALNUM, 10);
	puts_(PICK(exts));
}

static void tls(const char *service, const char *region)
{
	obj("tlsDetails");
	str("tlsVersion", chance(3, 4) ? "TLSv1.3" : "TLSv1.2");
	str("cipherSuite", PICK(ciphers));
	sopen("clientProvidedHostHeader");
	puts_(service);
	if (strncmp(service, "iam", 3) && strncmp(service, "signin", 6)) {
		putch('.');
		puts_(region);
	}
	puts_(".amazonaws.com");
	sclose();
	endo();
}

static void policy_doc(const char *key, const char *acct)
{
	/* a policy document as a JSON string: escaped quotes and slashes */
	sopen(key);
	puts_("{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[{\\\"Sid\\\":\\\"");
	putrand(ALNUM, 8);
	puts_("\\\",\\\"Effect\\\":\\\"Allow\\\",\\\"Action\\\":[\\\"s3:GetObject\\\",\\\"s3:PutObject\\\"],"
	      "\\\"Resource\\\":\\\"arn:aws:s3:::");
	puts_(PICK(buckets));
	puts_("\\/*\\\",\\\"Condition\\\":{\\\"StringEquals\\\":{\\\"aws:PrincipalAccount\\\":\\\"");
	puts_(acct);
	puts_("\\\",\\\"aws:RequestedRegion\\\":\\\"eu-west-1\\\"}}},{\\\"Effect\\\":\\\"Deny\\\","
	      "\\\"Action\\\":\\\"*\\\",\\\"Resource\\\":\\\"*\\\",\\\"Condition\\\":{\\\"Bool\\\":"
	      "{\\\"aws:SecureTransport\\\":\\\"false\\\"}}}]}");
	sclose();
}

/* ---- events ------------------------------------------------------------- */

enum kind {
	K_S3GET, K_S3PUT, K_S3LIST, K_EC2DESC, K_EC2RUN, K_EC2TAGS, K_STS, K_STSWHO,
	K_KMSDEC, K_KMSGDK, K_IAMPOL, K_IAMGET, K_LAMBDA, K_LOGS, K_DDB, K_LOGIN,
	K_EVENTS, NKINDS
};
static const uint32_t kind_weight[NKINDS] = {
	190, 90, 50, 80, 20, 20, 100, 30, 100, 40, 20, 20, 50, 30, 40, 10, 10,
};
static uint32_t kind_total;

static const char *const kind_source[NKINDS] = {
	"s3", "s3", "s3", "ec2", "ec2", "ec2", "sts", "sts", "kms", "kms", "iam", "iam",
	"lambda", "logs", "dynamodb", "signin", "events",
};
static const char *const kind_name[NKINDS] = {
	"GetObject", "PutObject", "ListObjects", "DescribeInstances", "RunInstances", "CreateTags",
	"AssumeRole", "GetCallerIdentity", "Decrypt", "GenerateDataKey", "PutRolePolicy", "GetRole",
	"Invoke", "CreateLogStream", "GetItem", "ConsoleLogin", "PutEvents",
};

static void event(struct ev *e, enum kind k)
{
	const char *src = kind_source[k];
	char service[40];
	snprintf(service, sizeof service, "%s.amazonaws.com", src);
	int data = k == K_S3GET || k == K_S3PUT || k == K_S3LIST || k == K_LAMBDA || k == K_DDB;
	int ro = k == K_S3GET || k == K_S3LIST || k == K_EC2DESC || k == K_STSWHO || k == K_KMSDEC ||
		 k == K_IAMGET || k == K_DDB || k == K_KMSGDK;
	int svc = e->idt == ID_SERVICE;
	const char *bucket = PICK(buckets);

	depth = 0;
	need_comma[0] = 0;
	obj(NULL);
	str("eventVersion", data ? "1.09" : "1.10");
	user_identity(e, k == K_KMSDEC ? "lambda.amazonaws.com" : "ec2.amazonaws.com");
	event_time(e->t);
	str("eventSource", service);
	str_or_hole("eventName", kind_name[k]);
	str_or_hole("awsRegion", k == K_LOGIN ? "us-east-1" : e->region);
	sopen("sourceIPAddress");
	if (svc)
		puts_(k == K_KMSDEC ? "lambda.amazonaws.com" : "ec2.amazonaws.com");
	else if (chance(1, 8))
		puts_("2600:1f18:24e6:b900:");
	if (!svc) {
		putu(below(223) + 1);
		putch('.');
		putu(below(256));
		putch('.');
		putu(below(256));
		putch('.');
		putu(below(254) + 1);
	}
	sclose();
	str("userAgent", svc ? (k == K_KMSDEC ? "lambda.amazonaws.com" : "ec2.amazonaws.com")
			     : PICK(agents));

	switch (k) {
	case K_S3GET:
	case K_S3PUT:
		obj("requestParameters");
		str("bucketName", bucket);
		sopen("Host");
		puts_(bucket);
		puts_(".s3.");
		puts_(e->region);
		puts_(".amazonaws.com");
		sclose();
		sopen("key");
		s3_key();
		sclose();
		if (k == K_S3PUT) {
			str("x-amz-server-side-encryption", "aws:kms");
			sopen("x-amz-server-side-encryption-aws-kms-key-id");
			puts_("arn:aws:kms:");
			puts_(e->region);
			putch(':');
			puts_(e->acct);
			puts_(":key\\/");
			putuuid();
			sclose();
		} else if (chance(1, 3)) {
			str("x-id", "GetObject");
		}
		endo();
		if (k == K_S3PUT) {
			obj("responseElements");
			str("x-amz-server-side-encryption", "aws:kms");
			sopen("x-amz-version-id");
			putrand(ALNUM, 32);
			sclose();
			endo();
		} else {
			null("responseElements");
		}
		obj("additionalEventData");
		str("SignatureVersion", "SigV4");
		str("CipherSuite", "TLS_AES_128_GCM_SHA256");
		num("bytesTransferredIn", k == K_S3PUT ? below(5000000) : 0);
		str("AuthenticationMethod", "AuthHeader");
		sopen("x-amz-id-2");
		putrand(ALNUM "+/", 56);
		puts_("=");
		sclose();
		num("bytesTransferredOut", k == K_S3GET ? below(5000000) : 0);
		endo();
		resources_s3(bucket, e->acct);
		break;
	case K_S3LIST:
		obj("requestParameters");
		str("list-type", "2");
		str("bucketName", bucket);
		str("encoding-type", "url");
		sopen("prefix");
		puts_(PICK(keyparts));
		puts_("/");
		sclose();
		str("delimiter", "\\/");
		num("max-keys", 1000);
		sopen("Host");
		puts_(bucket);
		puts_(".s3.amazonaws.com");
		sclose();
		endo();
		null("responseElements");
		obj("additionalEventData");
		str("SignatureVersion", "SigV4");
		str("AuthenticationMethod", "AuthHeader");
		num("bytesTransferredOut", below(200000));
		endo();
		break;
	case K_EC2DESC:
		obj("requestParameters");
		obj("instancesSet");
		arr("items");
		for (int i = (int)below(4); i >= 0; i--) {
			obj(NULL);
			sopen("instanceId");
			puts_("i-0");
			puthex(rnd(), 16, 0);
			sclose();
			endo();
		}
		enda();
		endo();
		obj("filterSet");
		arr("items");
		obj(NULL);
		str("name", "tag:Name");
		obj("valueSet");
		arr("items");
		obj(NULL);
		str("value", PICK(tagvals));
		endo();
		enda();
		endo();
		endo();
		enda();
		endo();
		endo();
		null("responseElements");
		break;
	case K_EC2RUN:
	case K_EC2TAGS:
		obj("requestParameters");
		if (k == K_EC2RUN) {
			obj("instancesSet");
			arr("items");
			obj(NULL);
			sopen("imageId");
			puts_("ami-0");
			puthex(rnd(), 16, 0);
			sclose();
			num("minCount", 1);
			num("maxCount", 1 + below(3));
			endo();
			enda();
			endo();
			str("instanceType", PICK(itypes));
			boolean("disableApiTermination", 0);
			obj("monitoring");
			boolean("enabled", 0);
			endo();
		} else {
			obj("resourcesSet");
			arr("items");
			obj(NULL);
			sopen("resourceId");
			puts_("i-0");
			puthex(rnd(), 16, 0);
			sclose();
			endo();
			enda();
			endo();
		}
		obj(k == K_EC2RUN ? "tagSpecificationSet" : "tagSet");
		arr("items");
		for (int i = (int)below(3); i >= 0; i--) {
			obj(NULL);
			str("key", i == 0 ? "Name" : i == 1 ? "Owner" : "CostCenter");
			str("value", PICK(tagvals));
			endo();
		}
		enda();
		endo();
		endo();
		if (k == K_EC2RUN) {
			obj("responseElements");
			str("requestId", "00000000-0000-0000-0000-000000000000");
			sopen("reservationId");
			puts_("r-0");
			puthex(rnd(), 16, 0);
			sclose();
			str("ownerId", e->acct);
			obj("groupSet");
			endo();
			obj("instancesSet");
			arr("items");
			obj(NULL);
			sopen("instanceId");
			puts_("i-0");
			puthex(rnd(), 16, 0);
			sclose();
			obj("instanceState");
			num("code", 0);
			str("name", "pending");
			endo();
			sopen("privateDnsName");
			puts_("ip-10-0-");
			putu(below(256));
			putch('-');
			putu(below(256));
			putch('.');
			puts_(e->region);
			puts_(".compute.internal");
			sclose();
			num("amiLaunchIndex", 0);
			arr("productCodes");
			enda();
			str("instanceType", PICK(itypes));
			endo();
			enda();
			endo();
			endo();
		} else {
			obj("responseElements");
			str("requestId", "11111111-2222-4333-8444-555555555555");
			boolean("_return", 1);
			endo();
		}
		break;
	case K_STS:
		obj("requestParameters");
		sopen("roleArn");
		puts_("arn:aws:iam::");
		puts_(e->acct);
		puts_(":role/");
		puts_(PICK(roles));
		sclose();
		str("roleSessionName", e->session);
		num("durationSeconds", 3600);
		endo();
		obj("responseElements");
		obj("credentials");
		sopen("accessKeyId");
		puts_("ASIA");
		putrand(UPPER36, 16);
		sclose();
		sopen("sessionToken");
		putrand(ALNUM, 48);
		puts_("\\/");
		putrand(ALNUM, 40);
		puts_("\\u002b==");
		sclose();
		str("expiration", "May 3, 2024, 10:00:00 PM");
		endo();
		obj("assumedRoleUser");
		sopen("assumedRoleId");
		puts_("AROA");
		putrand(UPPER36, 17);
		putch(':');
		puts_(e->session);
		sclose();
		sopen("arn");
		puts_("arn:aws:sts::");
		puts_(e->acct);
		puts_(":assumed-role/");
		puts_(PICK(roles));
		putch('/');
		puts_(e->session);
		sclose();
		endo();
		endo();
		arr("resources");
		obj(NULL);
		sopen("ARN");
		puts_("arn:aws:iam::");
		puts_(e->acct);
		puts_(":role/");
		puts_(PICK(roles));
		sclose();
		str("accountId", e->acct);
		str("type", "AWS::IAM::Role");
		endo();
		enda();
		break;
	case K_STSWHO:
	case K_IAMGET:
		if (k == K_STSWHO) {
			null("requestParameters");
		} else {
			obj("requestParameters");
			str("roleName", PICK(roles));
			endo();
		}
		null("responseElements");
		break;
	case K_KMSDEC:
	case K_KMSGDK:
		obj("requestParameters");
		if (k == K_KMSGDK) {
			sopen("keyId");
			puts_("alias\\/");
			puts_(PICK(buckets));
			sclose();
			str("keySpec", "AES_256");
		}
		obj("encryptionContext");
		if (chance(1, 2)) {
			sopen("aws:lambda:FunctionArn");
			puts_("arn:aws:lambda:");
			puts_(e->region);
			putch(':');
			puts_(e->acct);
			puts_(":function:orders-");
			putrand("abcdefghijklmnopqrstuvwxyz", 6);
			sclose();
		} else {
			sopen("aws:s3:arn");
			puts_("arn:aws:s3:::");
			puts_(bucket);
			puts_("\\/");
			s3_key();
			sclose();
		}
		endo();
		str("encryptionAlgorithm", "SYMMETRIC_DEFAULT");
		endo();
		null("responseElements");
		arr("resources");
		obj(NULL);
		str("accountId", e->acct);
		str("type", "AWS::KMS::Key");
		sopen("ARN");
		puts_("arn:aws:kms:");
		puts_(e->region);
		putch(':');
		puts_(e->acct);
		puts_(":key/");
		putuuid();
		sclose();
		endo();
		enda();
		break;
	case K_IAMPOL:
		obj("requestParameters");
		str("roleName", PICK(roles));
		sopen("policyName");
		puts_("inline-");
		putrand(ALNUM, 6);
		sclose();
		policy_doc("policyDocument", e->acct);
		endo();
		null("responseElements");
		break;
	case K_LAMBDA:
		obj("requestParameters");
		sopen("functionName");
		puts_("arn:aws:lambda:");
		puts_(e->region);
		putch(':');
		puts_(e->acct);
		puts_(":function:orders-");
		putrand("abcdefghijklmnopqrstuvwxyz", 6);
		sclose();
		str("invocationType", chance(1, 2) ? "Event" : "RequestResponse");
		null("qualifier");
		endo();
		null("responseElements");
		obj("additionalEventData");
		str("functionVersion", "$LATEST");
		endo();
		break;
	case K_LOGS:
		obj("requestParameters");
		sopen("logGroupName");
		puts_("\\/aws\\/lambda\\/orders-");
		putrand("abcdefghijklmnopqrstuvwxyz", 6);
		sclose();
		sopen("logStreamName");
		puts_("2024\\/05\\/0");
		putu(1 + (uint64_t)(e->t / 86400 % 7));
		puts_("\\/[$LATEST]");
		puthex(rnd(), 16, 0);
		puthex(rnd(), 16, 0);
		sclose();
		endo();
		null("responseElements");
		break;
	case K_DDB:
		obj("requestParameters");
		str("tableName", "orders");
		obj("key");
		obj("pk");
		sopen("S");
		puts_("user#");
		puts_(PICK(users));
		sclose();
		endo();
		obj("sk");
		sopen("S");
		puts_("order#");
		putu(rnd() % 1000000);
		sclose();
		endo();
		endo();
		boolean("consistentRead", chance(1, 3));
		arr("projectionExpression");
		str(NULL, "#s");
		str(NULL, "total");
		str(NULL, "items[0].sku");
		enda();
		endo();
		null("responseElements");
		obj("additionalEventData");
		str("throughput", "ThroughputConsumed");
		endo();
		arr("resources");
		obj(NULL);
		str("accountId", e->acct);
		str("type", "AWS::DynamoDB::Table");
		sopen("ARN");
		puts_("arn:aws:dynamodb:");
		puts_(e->region);
		putch(':');
		puts_(e->acct);
		puts_(":table/orders");
		sclose();
		endo();
		enda();
		break;
	case K_LOGIN:
		null("requestParameters");
		obj("responseElements");
		str("ConsoleLogin", chance(9, 10) ? "Success" : "Failure");
		endo();
		obj("additionalEventData");
		sopen("LoginTo");
		puts_("https:\\/\\/console.aws.amazon.com\\/console\\/home?hashArgs=%23&isauthcode=true&state=");
		putrand(ALNUM, 24);
		sclose();
		str("MobileVersion", "No");
		str("MFAUsed", chance(1, 2) ? "Yes" : "No");
		endo();
		break;
	case K_EVENTS: {
		/* an event forwarded from another account: its own recipientAccountId,
		 * awsRegion and eventTime, nested, before the top-level ones */
		const char *other = accounts[below(NACCT)];
		if (other == e->acct)
			other = accounts[(e->acct == accounts[0]) ? 1 : 0];
		obj("requestParameters");
		arr("entries");
		obj(NULL);
		str("source", "aws.cloudtrail.forwarder");
		str("detailType", "AWS API Call via CloudTrail");
		obj("detail");
		str("eventSource", "s3.amazonaws.com");
		str("eventName", "DeleteBucketPolicy");
		str("recipientAccountId", other);
		str("awsRegion", regions[below(8)]);
		sopen("eventTime");
		put_time(e->t - 86400 * (1 + below(3)), 0);
		sclose();
		str("note", "forwarded \\\"as is\\\" by rule \\/org\\/forward-all \\u2192 central bus");
		endo();
		sopen("eventBusName");
		puts_("arn:aws:events:");
		puts_(e->region);
		putch(':');
		puts_(e->acct);
		puts_(":event-bus\\/central");
		sclose();
		endo();
		enda();
		endo();
		obj("responseElements");
		num("failedEntryCount", 0);
		arr("entries");
		obj(NULL);
		sopen("eventId");
		putuuid();
		sclose();
		endo();
		enda();
		endo();
		break;
	}
	case NKINDS:
		break;
	}

	sopen("requestID");
	if (!strcmp(src, "s3"))
		puthex(rnd(), 16, 1);
	else
		putuuid();
	sclose();
	event_id();
	boolean("readOnly", ro);
	str("eventType", svc ? "AwsServiceEvent" : k == K_LOGIN ? "AwsConsoleSignIn" : "AwsApiCall");
	boolean("managementEvent", !data);
	str("recipientAccountId", e->acct);
	if (e->acct != e->actor && !svc)
		str("sharedEventID", "c4a7b1de-0f3e-4b7a-9a6c-2d8e5f1a3b9c");
	if (data && chance(1, 5)) {
		sopen("vpcEndpointId");
		puts_("vpce-");
		puthex(rnd(), 17, 0);
		sclose();
	}
	str("eventCategory", data ? "Data" : "Management");
	if (!svc)
		tls(src, e->region);
	endo();
	putch('\n');
}

/* --slim: the four fields a data-quality ruleset checks, nothing else */
static void slim_event(const struct ev *e, enum kind k)
{
	depth = 0;
	need_comma[0] = 0;
	obj(NULL);
	event_id();
	event_time(e->t);
	str_or_hole("eventName", kind_name[k]);
	str_or_hole("awsRegion", k == K_LOGIN ? "us-east-1" : e->region);
	endo();
	putch('\n');
}

/* ---- main --------------------------------------------------------------- */

/* a percentage in [0, 100] as parts per million, or exit 2 */
static uint32_t ppm_arg(const char *opt, const char *v)
{
	char *end;
	errno = 0;
	double pct = strtod(v, &end);
	if (errno || end == v || *end || !(pct >= 0 && pct <= 100)) {
		fprintf(stderr, "%s: bad %s '%s' (a percentage, 0-100)\n", prog, opt, v);
		exit(2);
	}
	return (uint32_t)(pct * 10000 + 0.5);
}

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"Usage: %s [--seed N] [--size MB | --records N] [--holes PCT] [--dups PCT]\n"
		"       [--slim] [-o FILE]\n"
		"Write CloudTrail-like events as NDJSON (default 300 MiB, seed 1) to FILE\n"
		"or standard output. --holes: null or missing eventID/eventTime/eventName/\n"
		"awsRegion in PCT %% of the events; --dups: repeated eventIDs in PCT %%;\n"
		"--slim: only those four fields.\n",
		prog);
	exit(status);
}

int main(int argc, char **argv)
{
	uint64_t seed = 1;
	double size_mb = 300;
	int size_given = 0, slim = 0;
	uint64_t records = 0; /* 0: no limit */
	const char *out = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *end;
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			usage(0);
		if (!strcmp(a, "--slim")) {
			slim = 1;
			continue;
		}
		if (i + 1 >= argc || (strcmp(a, "--seed") && strcmp(a, "--size") && strcmp(a, "-o") &&
				      strcmp(a, "--records") && strcmp(a, "--holes") && strcmp(a, "--dups")))
			usage(2);
		const char *v = argv[++i];
		errno = 0;
		if (!strcmp(a, "--holes")) {
			hole_ppm = ppm_arg(a, v) / 2;
		} else if (!strcmp(a, "--dups")) {
			dup_ppm = ppm_arg(a, v);
		} else if (!strcmp(a, "--records")) {
			records = strtoull(v, &end, 10);
			if (errno || end == v || *end || *v == '-' || !records) {
				fprintf(stderr, "%s: bad --records '%s'\n", prog, v);
				return 2;
			}
		} else if (!strcmp(a, "--seed")) {
			seed = strtoull(v, &end, 10);
			if (errno || end == v || *end || *v == '-') {
				fprintf(stderr, "%s: bad --seed '%s'\n", prog, v);
				return 2;
			}
		} else if (!strcmp(a, "--size")) {
			size_mb = strtod(v, &end);
			if (errno || end == v || *end || !(size_mb > 0) || size_mb > 1e7) {
				fprintf(stderr, "%s: bad --size '%s'\n", prog, v);
				return 2;
			}
			size_given = 1;
		} else {
			out = v;
		}
	}

	ofp = stdout;
	if (out && strcmp(out, "-")) {
		ofp = fopen(out, "wb");
		if (!ofp)
			die(out);
		oname = out;
	}

	rng_state = seed;
	aux_state = seed ^ 0x5bd1e9955bd1e995ULL;
	init_world();
	for (int k = 0; k < NKINDS; k++)
		kind_total += kind_weight[k];
	uint32_t region_total = 0;
	for (size_t r = 0; r < sizeof region_weight / sizeof *region_weight; r++)
		region_total += region_weight[r];

	const uint64_t target = records && !size_given ? UINT64_MAX : (uint64_t)(size_mb * MIB);
	const int64_t span = (int64_t)NDAYS * 86400;
	static const char *const sessions[] = {
		"alice@example.com", "bob", "botocore-session-1714557600", "GitHubActions",
		"i-0a1b2c3d4e5f67890", "terraform-run-8841", "caf\\u00e9-ops",
	};

	for (uint64_t n = 0; written < target && (!records || n < records); n++) {
		struct ev e;
		/* time grows through the file, +-4 minutes of jitter, clamped to
		 * the 7 days */
		double done = records ? (double)n / (double)records : (double)written / (double)target;
		if (records && size_given && (double)written / (double)target > done)
			done = (double)written / (double)target;
		int64_t t = (int64_t)(done * (double)span) + (int64_t)below(481) - 240;
		e.t = t < 0 ? 0 : t >= span ? span - 1 : t;
		e.acct = accounts[pick_weighted(acct_weight, NACCT, acct_total)];
		e.region = regions[pick_weighted(region_weight, 8, region_total)];
		e.actor = chance(1, 10) ? accounts[below(NACCT)] : e.acct;
		uint32_t r = below(100);
		e.idt = r < 30 ? ID_USER : r < 92 ? ID_ROLE : r < 99 ? ID_SERVICE : ID_ROOT;
		e.user = PICK(users);
		e.role = PICK(roles);
		e.session = PICK(sessions);
		akid(e.akid, e.idt == ID_USER || e.idt == ID_ROOT ? "AKIA" : "ASIA");
		enum kind k = (enum kind)pick_weighted(kind_weight, NKINDS, kind_total);
		if (e.idt == ID_SERVICE && k != K_KMSDEC && k != K_EC2DESC)
			e.idt = ID_ROLE;
		if (slim)
			slim_event(&e, k);
		else
			event(&e, k);
	}
	flush();
	if (fflush(ofp) || (ofp != stdout && fclose(ofp)))
		die(oname);
	return 0;
}
