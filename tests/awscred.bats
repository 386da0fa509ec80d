#!/usr/bin/env bats
# awscred.bats — where ts-put finds AWS credentials, region and endpoint
# (lib/awscred.h), seen through `ts-put --show-credentials`: the environment,
# the shared files, and the two HTTP sources driven by the metadata peer
# (tests/peers/metadata.js): container credentials and IMDSv2.  Every run
# starts from an environment without AWS_* variables and with HOME in the
# test directory; instance metadata is only ever the loopback peer.

bats_require_minimum_version 1.5.0
load helpers
load peers

SECRET=metadataSecretKeyEXAMPLE/0123456789abcd
TOKEN=metadataSessionTokenEXAMPLE==

setup() {
	[ -x "$TS_BIN/ts-put" ] || skip "ts-put is not built"
	cd "$BATS_TEST_TMPDIR" || fail "cannot cd to $BATS_TEST_TMPDIR"
	local v
	for v in $(compgen -e); do
		case $v in AWS_*) unset "$v" ;; esac
	done
	unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
	export HOME="$BATS_TEST_TMPDIR"
	export AWS_CONFIG_FILE="$BATS_TEST_TMPDIR/config"
	export AWS_SHARED_CREDENTIALS_FILE="$BATS_TEST_TMPDIR/credentials"
	export AWS_EC2_METADATA_DISABLED=true
}

# show [VAR=VALUE...]: ts-put --show-credentials with those variables
# added; stdout in $output, stderr in $stderr.
show() {
	run --separate-stderr env "$@" ts-put --show-credentials s3://bucket/
}

# No secret of the metadata peer or the files in anything ts-put said.
assert_no_secrets() {
	local s
	for s in "$SECRET" "$TOKEN" filesecret envsecret; do
		[[ "$output$stderr" != *"$s"* ]] || fail "a secret was printed: $output $stderr"
	done
}

# imds [VAR=VALUE...]: show with instance metadata at the peer.
imds() {
	show -u AWS_EC2_METADATA_DISABLED AWS_EC2_METADATA_SERVICE_ENDPOINT="$METADATA_URL" "$@"
}

@test "awscred: environment keys, AWS_REGION before AWS_DEFAULT_REGION" {
	show AWS_ACCESS_KEY_ID=AKIAENVEXAMPLEABCD AWS_SECRET_ACCESS_KEY=envsecret \
		AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=us-west-2
	[ "$status" -eq 0 ] || fail "status $status: $stderr"
	assert_equal "$(jq -c '{source, region, profile, accessKeyId}' <<< "$output")" \
		'{"source":"environment","region":"eu-west-1","profile":"default","accessKeyId":"****************ABCD"}'
	assert_no_secrets
}

@test "awscred: the credentials file, the profile from AWS_PROFILE, its region from the config file" {
	printf '[default]\naws_access_key_id = AKIADEFAULT0000\naws_secret_access_key = filesecret\n[work]\naws_access_key_id = AKIAWORK00001111\naws_secret_access_key = filesecret\n' > credentials
	printf '[profile work]\nregion = ap-south-1\n' > config
	show AWS_PROFILE=work
	[ "$status" -eq 0 ] || fail "status $status: $stderr"
	assert_equal "$(jq -c '[.source, .profile, .region, .accessKeyId]' <<< "$output")" \
		'["shared-credentials-file","work","ap-south-1","****************1111"]'
	# environment keys beat AWS_PROFILE, as in the AWS CLI
	show AWS_PROFILE=work AWS_ACCESS_KEY_ID=AKIAENVIRONMENT9 AWS_SECRET_ACCESS_KEY=envsecret
	[ "$status" -eq 0 ] || fail "status $status: $stderr"
	assert_equal "$(jq -c '[.source, .profile, .region, .accessKeyId]' <<< "$output")" \
		'["environment","work","ap-south-1","****************ENT9"]'
	assert_no_secrets
}

@test "awscred: the S3 endpoint from the profile's services section" {
	printf '[default]\naws_access_key_id = AKIADEFAULT0000\naws_secret_access_key = filesecret\nservices = local\nendpoint_url = http://global.invalid\n[services local]\ns3 =\n  endpoint_url = http://127.0.0.1:9000\n' > config
	show
	[ "$status" -eq 0 ] || fail "status $status: $stderr"
	assert_equal "$(jq -r '.source + " " + .endpoint' <<< "$output")" "config-file http://127.0.0.1:9000"
	show AWS_ENDPOINT_URL_S3=http://127.0.0.1:9001
	[ "$status" -eq 0 ] || fail "status $status: $stderr"
	assert_equal "$(jq -r .endpoint <<< "$output")" "http://127.0.0.1:9001"
}

@test "awscred: a named profile that does not exist, a malformed file: exit 2, said, no secret" {
	printf '[default]\naws_access_key_id = AKIADEFAULT0000\naws_secret_access_key = filesecret\n' > credentials
	show AWS_PROFILE=nope
	[ "$status" -eq 2 ] || fail "status $status: $output $stderr"
	assert_equal "$output" ""
	[[ "$stderr" == *"profile 'nope' not found in $AWS_CONFIG_FILE or $AWS_SHARED_CREDENTIALS_FILE"* ]] ||
		fail "stderr: $stderr"
	printf '[default]\naws_access_key_id = AKIADEFAULT0000\nfilesecret\n' > credentials
	show
	[ "$status" -eq 2 ] || fail "status $status: $output $stderr"
	[[ "$stderr" == *"$AWS_SHARED_CREDENTIALS_FILE:3: expected 'key = value'"* ]] || fail "stderr: $stderr"
	assert_no_secrets
}

@test "awscred: nothing anywhere: exit 2 with where it looked" {
	show
	[ "$status" -eq 2 ] || fail "status $status: $output $stderr"
	[[ "$stderr" == *"no credentials found for profile 'default'"*"disabled by AWS_EC2_METADATA_DISABLED"* ]] ||
		fail "stderr: $stderr"
}

@test "awscred: container credentials from the full URI with the authorization token" {
	peer_start metadata --auth-token container-auth-token
	show AWS_CONTAINER_CREDENTIALS_FULL_URI="$METADATA_URL/v2/credentials" \
		AWS_CONTAINER_AUTHORIZATION_TOKEN=container-auth-token AWS_REGION=eu-west-1
	[ "$status" -eq 0 ] || fail "status $status: $stderr"
	assert_equal "$(jq -c '{source, region, profile, accessKeyId}' <<< "$output")" \
		'{"source":"container","region":"eu-west-1","profile":"default","accessKeyId":"****************PLE1"}'
	assert_no_secrets
	assert_equal "$(jq -c '[.kind, .authorization, .status]' "$METADATA_LOG")" '["container","right",200]'
	# the token file wins over the variable
	printf 'container-auth-token' > token
	show AWS_CONTAINER_CREDENTIALS_FULL_URI="$METADATA_URL/v2/credentials" \
		AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$PWD/token" AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong
	[ "$status" -eq 0 ] || fail "status $status: $stderr"
	assert_equal "$(jq -r .source <<< "$output")" container
}

@test "awscred: container credentials refused: exit 2, no fall-through to instance metadata" {
	peer_start metadata --auth-token container-auth-token
	show -u AWS_EC2_METADATA_DISABLED AWS_EC2_METADATA_SERVICE_ENDPOINT="$METADATA_URL" \
		AWS_CONTAINER_CREDENTIALS_FULL_URI="$METADATA_URL/v2/credentials" \
		AWS_CONTAINER_AUTHORIZATION_TOKEN=not-the-token
	[ "$status" -eq 2 ] || fail "status $status: $output $stderr"
	[[ "$stderr" == *"container credentials: the endpoint answered HTTP 403"* ]] || fail "stderr: $stderr"
	[[ "$stderr" != *not-the-token* ]] || fail "the token was printed: $stderr"
	assert_equal "$(jq -s -c 'map([.kind, .status])' "$METADATA_LOG")" '[["container",403]]'
	# a token with a line break is no header value: refused before sending
	printf 'container-auth-token\n' > token
	show AWS_CONTAINER_CREDENTIALS_FULL_URI="$METADATA_URL/v2/credentials" \
		AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$PWD/token"
	[ "$status" -eq 2 ] || fail "status $status: $output $stderr"
	[[ "$stderr" == *"is not a header value"* ]] || fail "stderr: $stderr"
	assert_equal "$(wc -l < "$METADATA_LOG")" 1
}

@test "awscred: a container URI over plain http must stay on the machine" {
	show AWS_CONTAINER_CREDENTIALS_FULL_URI=http://192.0.2.1/creds
	[ "$status" -eq 2 ] || fail "status $status: $output $stderr"
	[[ "$stderr" == *"AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a loopback address"* ]] ||
		fail "stderr: $stderr"
}

@test "awscred: container credentials: a 500 is tried again, a bad document is refused" {
	peer_start metadata
	peer_fault metadata '{"kind":"status","status":500}'
	show AWS_CONTAINER_CREDENTIALS_FULL_URI="$METADATA_URL/v2/credentials"
	[ "$status" -eq 0 ] || fail "status $status: $stderr"
	assert_equal "$(jq -s -c 'map(.status)' "$METADATA_LOG")" '[500,200]'
	peer_fault metadata '{"kind":"body","body":"{\"SecretAccessKey\":\"docsecret\"}"}'
	show AWS_CONTAINER_CREDENTIALS_FULL_URI="$METADATA_URL/v2/credentials"
	[ "$status" -eq 2 ] || fail "status $status: $output $stderr"
	[[ "$stderr" == *"container credentials: the credential document has no AccessKeyId"* ]] ||
		fail "stderr: $stderr"
	[[ "$stderr" != *docsecret* ]] || fail "the document was printed: $stderr"
}

@test "awscred: IMDSv2: a session token first, then the role and its credentials with it" {
	peer_start metadata --role ts-role
	imds AWS_DEFAULT_REGION=eu-north-1
	[ "$status" -eq 0 ] || fail "status $status: $stderr"
	assert_equal "$(jq -c '{source, region, profile, accessKeyId}' <<< "$output")" \
		'{"source":"instance-metadata","region":"eu-north-1","profile":"default","accessKeyId":"****************PLE1"}'
	assert_no_secrets
	assert_equal "$(jq -s -c 'map([.method, .path, .withToken, .status])' "$METADATA_LOG")" \
		'[["PUT","/latest/api/token",false,200],["GET","/latest/meta-data/iam/security-credentials/",true,200],["GET","/latest/meta-data/iam/security-credentials/ts-role",true,200]]'
}

@test "awscred: IMDSv2: a refused token request is the end (no IMDSv1 request)" {
	peer_start metadata
	peer_fault metadata '{"kind":"status","status":403,"match":"PUT /latest/api/token"}'
	imds
	[ "$status" -eq 2 ] || fail "status $status: $output $stderr"
	[[ "$stderr" == *"instance metadata: the token request (PUT) answered HTTP 403 (IMDSv1 is not used)"* ]] ||
		fail "stderr: $stderr"
	assert_equal "$(jq -s -c 'map([.method, .kind])' "$METADATA_LOG")" '[["PUT","token"]]'
}

@test "awscred: IMDSv2: no role attached" {
	peer_start metadata --no-role
	imds
	[ "$status" -eq 2 ] || fail "status $status: $output $stderr"
	[[ "$stderr" == *"instance metadata: no IAM role is attached to this instance"* ]] || fail "stderr: $stderr"
}

@test "awscred: IMDSv2: a service that does not answer fails within the 1 s timeout" {
	peer_start metadata
	peer_fault metadata '{"kind":"slow","ms":8000,"match":"PUT /latest/api/token"}'
	local t0 t1
	t0=$(date +%s%N)
	imds
	t1=$(date +%s%N)
	[ "$status" -eq 2 ] || fail "status $status: $output $stderr"
	[[ "$stderr" == *"instance metadata:"*"imed out"* ]] || fail "stderr: $stderr"
	[ $(((t1 - t0) / 1000000)) -lt 5000 ] || fail "took $(((t1 - t0) / 1000000)) ms"
}

@test "awscred: IMDSv2 skipped when disabled; container before instance metadata" {
	peer_start metadata
	show AWS_EC2_METADATA_DISABLED=true AWS_EC2_METADATA_SERVICE_ENDPOINT="$METADATA_URL"
	[ "$status" -eq 2 ] || fail "status $status: $output $stderr"
	assert_equal "$(wc -l < "$METADATA_LOG")" 0
	imds AWS_CONTAINER_CREDENTIALS_FULL_URI="$METADATA_URL/v2/credentials"
	[ "$status" -eq 0 ] || fail "status $status: $stderr"
	assert_equal "$(jq -r .source <<< "$output")" container
	assert_equal "$(jq -s -c 'map(.kind)' "$METADATA_LOG")" '["container"]'
}

@test "awscred: temporary credentials near their end are fetched again before S3 requests" {
	# they expire in 2 minutes, within the 5 minutes before their end that
	# a refresh is due: every request fetches them again
	peer_start metadata --expires-in 120 --secret-key "$SECRET" --session-token "$TOKEN"
	peer_start s3 --bucket bkt --access-key ASIAMETADATAEXAMPLE1 --secret-key "$SECRET" \
		--session-token "$TOKEN"
	printf '{"a":1}\n{"a":2}\n{"a":3}\n' > in.ndjson
	run --separate-stderr env AWS_CONTAINER_CREDENTIALS_FULL_URI="$METADATA_URL/v2/credentials" \
		ts-put --endpoint "$S3_URL" s3://bkt/r/ --max-records 1 in.ndjson
	[ "$status" -eq 0 ] || fail "status $status: $stderr"
	assert_equal "$(wc -l <<< "$output")" 3
	assert_no_secrets
	# one fetch when ts-put starts, then one before each of the 3 uploads
	local n
	n=$(jq -s 'map(select(.kind == "container" and .status == 200)) | length' "$METADATA_LOG")
	[ "$n" -ge 4 ] || fail "credentials fetched $n times: $(cat "$METADATA_LOG")"
}

@test "awscred: credentials far from their end are not fetched again" {
	peer_start metadata --secret-key "$SECRET" --session-token "$TOKEN"
	peer_start s3 --bucket bkt --access-key ASIAMETADATAEXAMPLE1 --secret-key "$SECRET" \
		--session-token "$TOKEN"
	printf '{"a":1}\n{"a":2}\n{"a":3}\n' > in.ndjson
	run --separate-stderr env AWS_CONTAINER_CREDENTIALS_FULL_URI="$METADATA_URL/v2/credentials" \
		ts-put --endpoint "$S3_URL" s3://bkt/r/ --max-records 1 in.ndjson
	[ "$status" -eq 0 ] || fail "status $status: $stderr"
	assert_equal "$(wc -l <<< "$output")" 3
	assert_equal "$(jq -s 'map(select(.kind == "container")) | length' "$METADATA_LOG")" 1
}
