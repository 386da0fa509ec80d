/*
 * awscred.h — where AWS settings come from: the profile, the region, the S3
 * endpoint and the credentials, looked for in the places and in the order the
 * AWS CLI (version 2) looks for them.
 *
 * Profile: the one the caller names (a --profile option: c->profile set
 * before ts_aws_config_load()), else AWS_PROFILE, else AWS_DEFAULT_PROFILE,
 * else "default".  A profile named in any of these ways must exist in the
 * config file or the credentials file (even "default"), as the CLI insists;
 * the implicit "default" need not.
 *
 * Files: AWS_CONFIG_FILE (else ~/.aws/config) holds [default] and
 * [profile NAME] sections, and [services NAME] sections; AWS_SHARED_
 * CREDENTIALS_FILE (else ~/.aws/credentials) holds [NAME] sections.  Both
 * paths get $VAR and ~ expanded.  A missing file is no file; a file that
 * cannot be read or does not parse is an error (the CLI fails on a
 * malformed one too; it would skip an unreadable one silently, we say so).
 * A profile's settings are its config-file section with its credentials-
 * file section laid over it (a region in ~/.aws/credentials counts, as in
 * the CLI).
 *
 * Credentials, the first source in this list that has them:
 *   1. "environment": AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, with
 *      AWS_SESSION_TOKEN (or the older AWS_SECURITY_TOKEN).  An access key
 *      without a secret is an error.  Environment keys beat AWS_PROFILE, as
 *      in the CLI (whose --profile, unlike AWS_PROFILE, skips them): they
 *      are skipped only when the caller named the profile.
 *   2. Sources the CLI would use next that ts does not implement — a
 *      profile that assumes a role (role_arn with source_profile or
 *      credential_source), web identity (web_identity_token_file with
 *      role_arn, or AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN), IAM
 *      Identity Center (sso_start_url, sso_session) — are an error naming
 *      the setting, rather than a silent fall-through to other credentials
 *      with other permissions.
 *   3. "shared-credentials-file": aws_access_key_id, aws_secret_access_key
 *      and aws_session_token (or aws_security_token) of [PROFILE].
 *   4. credential_process in the profile: an error (not implemented), as 2.
 *   5. "config-file": the same keys in the profile's config-file section.
 *   6. "container": AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (after
 *      http://169.254.170.2) or else AWS_CONTAINER_CREDENTIALS_FULL_URI
 *      (https, or http to a loopback address, localhost, 169.254.170.2,
 *      169.254.170.23 or fd00:ec2::23), GET with the Authorization header
 *      read from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or else
 *      AWS_CONTAINER_AUTHORIZATION_TOKEN.  Once one of these variables is
 *      set, its failure is an error (no fall-through), as in the CLI.
 *      2 s per attempt, 3 attempts 1 s apart (transport errors and 5xx).
 *   7. "instance-metadata": IMDSv2 at AWS_EC2_METADATA_SERVICE_ENDPOINT
 *      (else http://169.254.169.254): PUT /latest/api/token
 *      (X-aws-ec2-metadata-token-ttl-seconds: 21600), then with
 *      X-aws-ec2-metadata-token GET /latest/meta-data/iam/security-
 *      credentials/ (the role) and .../ROLE.  Skipped when
 *      AWS_EC2_METADATA_DISABLED=true.  IMDSv1 (no token) is never used.
 *      Each request is limited to AWS_METADATA_SERVICE_TIMEOUT seconds
 *      (default 1, so a machine without the service fails fast), tried
 *      AWS_METADATA_SERVICE_NUM_ATTEMPTS times (default 1).  Its failure
 *      is not an error by itself: it ends the search, and the message
 *      says why it failed.
 * Nothing found: -1, "no credentials found (...)".
 *
 * Region: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, else
 * "us-east-1".  Environment variables set to "" count as unset.
 *
 * S3 endpoint (endpoint_s3), NULL when none is configured: nothing when
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS or the profile's
 * ignore_configured_endpoint_urls is true; else AWS_ENDPOINT_URL_S3,
 * AWS_ENDPOINT_URL, the "s3 = endpoint_url = ..." sub-section of the
 * [services NAME] section the profile names with services = NAME, the
 * profile's own "s3 =" sub-section's endpoint_url (ts reads this one too),
 * the profile's endpoint_url.
 *
 * Messages (err) never hold a secret: no key, token or line of a file is
 * quoted; paths, profile and section names, setting names and HTTP
 * statuses are.
 */
#ifndef TS_AWSCRED_H
#define TS_AWSCRED_H

#include <stddef.h>

#include "buf.h"
#include "http.h"
#include "sigv4.h"

struct ts_aws_config {
	char *profile;        /* see above; always set after a load */
	char *region;         /* always set after a load */
	char *endpoint_s3;    /* or NULL */
	struct ts_aws_cred cred;
	const char *source;   /* "environment", "shared-credentials-file",
			       * "config-file", "container",
			       * "instance-metadata" (static strings) */
	int explicit_profile; /* private: the caller named the profile */
};

/*
 * Resolve everything.  c must be zeroed (`struct ts_aws_config c = {0};`)
 * or released; a caller that names the profile (a --profile option) sets
 * c->profile to a malloc'd name first, and c owns it from then on.  http
 * is used for container and instance metadata only; NULL skips both (as
 * if unset).  0, or -1 with a readable reason in err (n bytes) — c then
 * holds nothing but may be released either way.
 */
int ts_aws_config_load(struct ts_aws_config *c, struct ts_http *http, char *err,
		       size_t n);
/*
 * Fetch temporary credentials (container, instance metadata) again when
 * they expire within 5 minutes.  0 = still good or refreshed, -1 with err
 * (c->cred unchanged).  Credentials that do not expire are left alone.
 */
int ts_aws_cred_refresh(struct ts_aws_config *c, struct ts_http *http, char *err,
			size_t n);
/* Free everything (secrets wiped first) and zero c. */
void ts_aws_config_release(struct ts_aws_config *c);

/* The access key as it may be shown: all but its last 4 characters masked
 * ("****************WXYZ"), into out (cut to outn). */
void ts_aws_key_masked(const char *access_key, char *out, size_t outn);

/*
 * The settings files, parsed as the CLI parses them (botocore over Python's
 * configparser): "[name]" section headers (the text between the first '['
 * and the last ']'); "key = value" or "key: value" lines (the key before the
 * first '=' or ':', lower-cased; key and value trimmed); lines whose first
 * non-blank character is '#' or ';' are comments (nothing else is: "a = b
 * # c" has the value "b # c"); a line indented deeper than the key line
 * above it continues that value (joined with '\n'; blank lines inside are
 * kept, trailing ones dropped); a value that starts with a line break is a
 * sub-section whose lines are "key = value" (keys kept as written).
 * [DEFAULT] is configparser's: its keys show through every other section.
 * Errors: a key before any section, a line that is none of these, an empty
 * key, a section or a key repeated (in one section), a sub-section line
 * without '=', a NUL byte, text that is not UTF-8.
 */
struct ts_aws_ini_kv {
	char *key, *value;
	unsigned line;
};
struct ts_aws_ini_section {
	char *name;
	unsigned line;
	struct ts_aws_ini_kv *kv;
	size_t n, cap;
};
struct ts_aws_ini {
	struct ts_aws_ini_section *sec;  /* in file order, [DEFAULT] apart */
	size_t n, cap;
	struct ts_aws_ini_section defaults;
	unsigned err_line;               /* the line a failed parse stopped at */
};

/* 0, or -1 with the reason in err and its line (1-based) in ini->err_line
 * (ini then empty).  ini need not be initialised; release it either way. */
int ts_aws_ini_parse(struct ts_aws_ini *ini, const char *p, size_t n, char *err,
		     size_t errn);
void ts_aws_ini_release(struct ts_aws_ini *ini);
/* The section called name, or NULL. */
const struct ts_aws_ini_section *ts_aws_ini_section(const struct ts_aws_ini *ini,
						    const char *name);
/* key's value in section sec (falling back to [DEFAULT]); NULL when absent
 * (sec may be NULL: absent).  Points into ini. */
const char *ts_aws_ini_get(const struct ts_aws_ini *ini,
			   const struct ts_aws_ini_section *sec, const char *key);
/* subkey's value in a sub-section value ("\nendpoint_url = x\n..."),
 * copied into out: 1 found, 0 not (also when value is no sub-section), -1
 * out of memory. */
int ts_aws_ini_sub(const char *value, const char *subkey, struct ts_buf *out);
/* The name a config-file section header gives: "PREFIX NAME" (split as a
 * shell would: quotes, backslashes) with exactly one NAME after the word
 * that starts with PREFIX, into out: 1, or 0 when it is not such a
 * section ("profile" and "services" are the prefixes the CLI uses). */
int ts_aws_ini_section_name(const char *section, const char *prefix,
			    struct ts_buf *out);

/* A container or instance-metadata credential document
 * ({"AccessKeyId","SecretAccessKey","Token","Expiration", "Code"}) into
 * *c (malloc'd strings, expires from Expiration, 0 when absent).  0, or -1
 * with err (nothing of the document quoted); *c is then untouched. */
int ts_aws_cred_from_json(struct ts_aws_cred *c, const char *p, size_t n,
			  char *err, size_t errn);
/* Free the strings of c (the secret and token wiped first) and zero it. */
void ts_aws_cred_release(struct ts_aws_cred *c);

#endif
