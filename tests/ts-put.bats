#!/usr/bin/env bats
# ts-put against real peers on 127.0.0.1 (tests/peers/: s3rver behind a
# checking proxy, a strict Splunk HTTP Event Collector, a strict HTTP
# endpoint of the delivery stream protocol) and a local directory.  What was
# delivered is read back independently — the AWS CLI (/usr/bin/aws, through
# peer_aws) and s3rver's own store for S3, the peers' logs of what they
# accepted for HEC and HTTP, the files for a directory — and compared byte
# for byte or record for record.  Faults are injected through the peers'
# control endpoints; for each one the tests prove that no record is lost,
# that a record is accepted twice only when the peer marked the first
# acceptance "faulted" (the sender could not know it had landed: at-least-
# once), that the --stats counts add up (delivered + dead-lettered = read),
# and that secrets never appear in any output.
#
# Retry budgets are kept small (the backoff starts at 1 s); tests that need
# more than a few seconds are tagged slow.

bats_require_minimum_version 1.5.0
load helpers
load peers

BUCKET=bkt
# Credentials distinctive enough to be grepped for in every output.
S3_KEY_ID=AKIAPUTTEST0000K3Y42
S3_SECRET='pUtSecret/9f8e7d6c5b4a+3210zyxwvUTSRQ'
S3_TOKEN='IQoPutSessionToken/abc123+def456=='
TOKEN=5b1e7c2a-9d3f-4e8a-b6c1-0f2e3d4c5b6a
WRONG_TOKEN=7a7a7a7a-1111-4222-8333-944444444444
ACCESS_KEY='fh-AccessKey-Q2wX9zP7'
WRONG_ACCESS_KEY='fh-WrongKey-L0l0l0'
GUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'

setup() {
	cd "$BATS_TEST_TMPDIR" || fail "cannot cd to $BATS_TEST_TMPDIR"
	[ -x "$TS_BIN/ts-put" ] || fail "$TS_BIN/ts-put is missing: run make first (or set TS_BIN)"
	# Nothing of the host's AWS settings may matter, nothing may reach for
	# instance metadata.
	unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 \
		AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_REGION \
		AWS_DEFAULT_REGION AWS_CONTAINER_CREDENTIALS_FULL_URI \
		AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_AUTHORIZATION_TOKEN \
		AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE AWS_EC2_METADATA_SERVICE_ENDPOINT \
		TS_SPLUNK_TOKEN TS_HTTP_ACCESS_KEY
	export AWS_EC2_METADATA_DISABLED=true HOME="$BATS_TEST_TMPDIR/home"
	mkdir -p "$HOME"
	: > aws-none
	export AWS_CONFIG_FILE="$PWD/aws-none" AWS_SHARED_CREDENTIALS_FILE="$PWD/aws-none"
	BG_PID=""
}

teardown() {
	if [ -n "${BG_PID:-}" ]; then
		kill -KILL "$BG_PID" 2> /dev/null || true
		wait "$BG_PID" 2> /dev/null || true
	fi
	exec 7>&- || true
	peer_stop_all
}

# --- helpers ----------------------------------------------------------------------

# put ARGS...: ts-put ARGS... with standard output in out and standard error in
# err; $status is its exit status.
put() {
	status=0
	ts-put "$@" > out 2> err || status=$?
}

# expect_status N: the last put/bg_wait ended with N.
expect_status() {
	[ "$status" -eq "$1" ] || fail "exit status $status, expected $1
stdout: $(head -c 2000 out bg.out 2> /dev/null)
stderr: $(head -c 3000 err bg.err 2> /dev/null)"
}

# balance ERR IN DELIVERED DEAD [REFUSED]: the --stats line in ERR counts IN
# records read, DELIVERED delivered (= records_out) and DEAD dead-lettered
# (every record in the error output: = rejected), REFUSED of them refused by
# the destination (default DEAD), and delivered + dead-lettered = read.
balance() {
	local f=$1 in=$2 d=$3 x=$4 r=${5:-$4} s
	s=$(grep '"records_in"' "$f" | tail -n 1)
	[ -n "$s" ] || fail "no --stats line in $f:
$(head -c 3000 "$f")"
	jq -e --argjson i "$in" --argjson d "$d" --argjson x "$x" --argjson r "$r" \
		'.program == "ts-put" and .records_in == $i and .delivered == $d and
		 .records_out == $d and .dead_lettered == $x and .rejected == $x and
		 .refused == $r and .delivered + .dead_lettered == .records_in' <<< "$s" > /dev/null ||
		fail "--stats: expected records_in $in, delivered $d, dead_lettered $x, refused $r: $s"
}

# stat ERR KEY: a counter of the --stats line in ERR.
stat() {
	stat_field "$1" "$2"
}

# no_secret SECRET FILE...: SECRET appears in none of the FILEs.
no_secret() {
	local s=$1 f
	shift
	for f in "$@"; do
		[ -e "$f" ] || continue
		if grep -qF -- "$s" "$f"; then
			fail "a secret is in $f:
$(grep -F -- "$s" "$f" | head -c 2000)"
		fi
	done
}

# wait_until SECONDS CMD...: CMD succeeds within SECONDS (polled every 50 ms).
wait_until() {
	local n=$(($1 * 20)) i=0
	shift
	until "$@"; do
		i=$((i + 1))
		[ "$i" -le "$n" ] || fail "still not true after ${n}x50 ms: $*"
		sleep 0.05
	done
}

# has_lines FILE N: FILE has at least N lines.
has_lines() {
	[ -e "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ]
}

# bg_put ARGS...: ts-put ARGS... in the background, its standard input a pipe
# this shell writes with feed (fd 7), stdout in bg.out, stderr in bg.err.
bg_put() {
	rm -f feed.fifo
	mkfifo feed.fifo
	ts-put "$@" < feed.fifo > bg.out 2> bg.err 3>&- &
	BG_PID=$!
	exec 7> feed.fifo
}

# feed LINE...: each LINE to the background ts-put.
feed() {
	printf '%s\n' "$@" >&7
}

# bg_running: the background ts-put has not ended.
bg_running() {
	kill -0 "$BG_PID" 2> /dev/null
}

# bg_wait [SIGNAL]: (sends SIGNAL,) closes the pipe and waits for the
# background ts-put; $status is its exit status.
bg_wait() {
	[ $# -eq 0 ] || kill "-$1" "$BG_PID"
	exec 7>&-
	status=0
	wait "$BG_PID" || status=$?
	BG_PID=""
}

# elapsed_since T0: whole seconds since T0 (date +%s.%N), rounded down.
elapsed_since() {
	awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%d", b - a }'
}

# sha256_of FILE / md5b64_of FILE: the hashes S3 is sent.
sha256_of() {
	sha256sum "$1" | cut -d' ' -f1
}
md5b64_of() {
	openssl dgst -md5 -binary "$1" | base64
}

# --- S3 helpers ---

# s3_up [PEER-ARGS...]: the S3 peer with bucket bkt and distinctive
# credentials, and the environment ts-put takes them from.
s3_up() {
	peer_start s3 --bucket "$BUCKET" --access-key "$S3_KEY_ID" --secret-key "$S3_SECRET" "$@"
	export AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY" \
		AWS_REGION="$S3_REGION"
	[ -z "$S3_SESSION_TOKEN" ] || export AWS_SESSION_TOKEN="$S3_SESSION_TOKEN"
}

# s3_keys [PREFIX]: the keys s3rver stored in bkt (its own files on disk, not
# through ts-put), sorted.
s3_keys() {
	[ -d "$S3_DATA/$BUCKET" ] || return 0
	(cd "$S3_DATA/$BUCKET" && find . -type f -name '*._S3rver_object') |
		sed -e 's#^\./##' -e 's#\._S3rver_object$##' | grep "^${1:-}" | LC_ALL=C sort || true
}

# s3_body KEY: the stored bytes of object KEY.
s3_body() {
	cat "$S3_DATA/$BUCKET/$1._S3rver_object"
}

# s3_upload FILE KEY: FILE stored as KEY by curl (an independent client,
# signing with the peer's credentials; KEY must need no percent-encoding).
s3_upload() {
	curl -sS --fail-with-body --aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
		-H "x-amz-content-sha256: $(sha256_of "$1")" -T "$1" "$S3_URL/$BUCKET/$2" > /dev/null ||
		fail "curl could not store $2"
}

# s3_ops: the S3 operations the proxy saw, one "OP STATUS" per line.
s3_ops() {
	jq -r '"\(.op) \(.status)"' "$S3_LOG"
}

# objects_of OUT: the keys of the objects ts-put reported on OUT, in order.
objects_of() {
	jq -r '.object | sub("^s3://bkt/"; "")' "$1"
}

# Records whose minified form is known: an escape, UTF-8, a pretty-printed
# record (minified on the way) and a number written as it was read.
records() {
	printf '%s\n' '{"n":1,"s":"caf\u00e9 \"q\" \\ / é"}' '{ "pretty" : [1, 2,' \
		'   {"x": null, "y" : true}] }' '{"n":3,"big":12345678901234567890,"f":1.50}'
}
records_min() {
	printf '%s\n' '{"n":1,"s":"caf\u00e9 \"q\" \\ / é"}' '{"pretty":[1,2,{"x":null,"y":true}]}' \
		'{"n":3,"big":12345678901234567890,"f":1.50}'
}

# The object key of a record batch: PREFIX, the default yyyy/MM/dd/HH/ (UTC),
# then ts-put-yyyy-MM-dd-HH-mm-ss-UUID (a version 4 UUID).
KEY_RE='[0-9]{4}/[0-9]{2}/[0-9]{2}/[0-9]{2}/ts-put-[0-9]{4}(-[0-9]{2}){5}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'

# --- usage ------------------------------------------------------------------------------

@test "usage: bad options and destinations are trouble (exit 2) before anything is read or sent" {
	ndjson_lines 1 > in
	: > empty
	for args in "" "--max-bytes 0 d" "--part-size 4M s3://bkt/" "--compress bz2 d" \
		"--splunk ftp://127.0.0.1:9 --token t" "--http 127.0.0.1:9" \
		"--splunk http://127.0.0.1:9 --token t --manifest" \
		"--splunk http://127.0.0.1:9 --http http://127.0.0.1:9 --token t" \
		"--splunk http://127.0.0.1:9 --token-file missing" "--splunk http://127.0.0.1:9 --token-file empty" \
		"--max-seconds -1 d" "--timeout 0 d" "--name a/b d" "--attribute =x --http http://127.0.0.1:9" \
		"s3://b/" "s3://"; do
		# shellcheck disable=SC2086
		put $args in
		expect_status 2
		[ ! -s out ] || fail "ts-put $args wrote: $(cat out)"
		[ -s err ] || fail "ts-put $args said nothing"
	done
}

@test "an empty input sends nothing and is not an error, to any destination" {
	peer_start hec --token "$TOKEN"
	peer_start firehose
	mkdir lake
	put --splunk "$HEC_URL" --token "$TOKEN" --stats < /dev/null
	expect_status 0
	balance err 0 0 0
	put --http "$FIREHOSE_URL" --stats < /dev/null
	expect_status 0
	put lake --stats < /dev/null
	expect_status 0
	[ ! -s out ]
	[ ! -s "$HEC_REQUESTS" ] && [ ! -s "$FIREHOSE_REQUESTS" ]
	[ -z "$(find lake -type f)" ]
}

@test "nobody listening: a connection error is retried, then each record dead-lettered with no status, exit 1" {
	ndjson_lines 2 > in
	export AWS_ACCESS_KEY_ID="$S3_KEY_ID" AWS_SECRET_ACCESS_KEY="$S3_SECRET" AWS_REGION=us-east-1
	put --endpoint http://127.0.0.1:9 s3://bkt/x/ --retry-seconds 1.5 --connect-timeout 1 --errors errors --stats in
	json -s errors 'length == 2 and all(.[]; .errorCode == "S3.ConnectionError" and .status == null and .attempts == 2)'
	expect_status 1
	balance err 2 0 2
	rm errors
	put --splunk http://127.0.0.1:9 --token "$TOKEN" --retry-seconds 0 --errors errors --stats in
	expect_status 1
	json -s errors 'length == 2 and all(.[]; .errorCode == "Splunk.ConnectionError" and .status == null and .attempts == 1)'
	no_secret "$TOKEN" out err errors
	rm errors
	put --http http://127.0.0.1:9 --access-key "$ACCESS_KEY" --retry-seconds 0 --errors errors --stats in
	expect_status 1
	json -s errors 'length == 2 and all(.[]; .errorCode == "HttpEndpoint.ConnectionFailed" and .status == null and .attempts == 1)'
	no_secret "$ACCESS_KEY" out err errors
}

@test "malformed input is dead-lettered by file and line beside the delivered records; gzip inputs are read; the counts balance" {
	peer_start firehose
	printf '%s\n' '{"n":1}' '{"n":2' '{"n":3}' > a.ndjson
	printf '%s\n' '{"n":4}' '[5]' | gzip > b.ndjson.gz
	put --http "$FIREHOSE_URL" --stats --errors errors a.ndjson b.ndjson.gz
	expect_status 1
	assert_error_records errors 1
	assert_error errors 0 '.error == "bad_json" and .file == "a.ndjson" and .line == 2 and .raw == "{\"n\":2"'
	json -s "$FIREHOSE_LOG" '[.[].data] == ["{\"n\":1}", "{\"n\":3}", "{\"n\":4}", "[5]"]'
	balance err 5 4 1 0
}

# --- S3: records ----------------------------------------------------------------

@test "s3: a batch of records is one object holding them minified, read back by the AWS CLI and ts-decompress" {
	s3_up
	records > in.ndjson
	records_min > want
	before=$(date -u +%Y/%m/%d/%H)
	put --endpoint "$S3_URL" s3://bkt/logs/ --stats --errors errors in.ndjson
	after=$(date -u +%Y/%m/%d/%H)
	expect_status 0
	[ ! -s errors ]
	lines out 1
	key=$(objects_of out)
	[[ $key =~ ^logs/$KEY_RE$ ]] || fail "object key $key"
	# The time in the prefix is the batch's (UTC), the same as in the name.
	hour=${key:5:13}
	[ "$hour" = "$before" ] || [ "$hour" = "$after" ] || fail "prefix time $hour, now $before..$after"
	name=${key##*/ts-put-}
	[ "${name:0:13}" = "$(tr / - <<< "$hour")" ] || fail "name time ${name:0:13} vs prefix $hour"
	json out ". == {\"object\":\"s3://bkt/$key\",\"records\":3,\"bytes\":$(wc -c < want)}"
	# Independent readers: the AWS CLI, s3rver's store, ts-decompress s3://.
	peer_aws s3 cp "s3://bkt/$key" got --only-show-errors
	cmp want got
	[ "$(s3_keys)" = "$key" ]
	ts-decompress --endpoint "$S3_URL" s3://bkt/logs/ > decompressed
	cmp want decompressed
	# One PutObject with the body's real SHA-256 and Content-MD5, signed.
	jq -s -e --arg sha "$(sha256_of want)" --arg md5 "$(md5b64_of want)" \
		'[.[] | select(.op == "PutObject")] | length == 1 and (.[0] | .status == 200 and
		 .contentSha256 == $sha and .sha256 == $sha and .contentMd5 == $md5 and .auth == "header")' \
		"$S3_LOG" > /dev/null || fail "PutObject: $(cat "$S3_LOG")"
	balance err 3 3 0
	[ "$(stat err requests)" -eq 1 ] && [ "$(stat err retries)" -eq 0 ]
}

@test "s3: the endpoint comes from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL as the CLI reads it; standard input is read" {
	s3_up
	ndjson_lines 2 > want
	AWS_ENDPOINT_URL_S3="$S3_URL" AWS_ENDPOINT_URL=http://127.0.0.1:9 put s3://bkt/a/ < want
	expect_status 0
	AWS_ENDPOINT_URL="$S3_URL" put s3://bkt/b/ - < want
	expect_status 0
	[ "$(s3_keys | wc -l)" -eq 2 ]
	for k in $(s3_keys); do
		[[ $k =~ ^[ab]/$KEY_RE$ ]] || fail "key $k"
		s3_body "$k" | cmp want -
	done
}

@test "s3: --max-records N makes objects of N records, in order, none lost" {
	s3_up
	ndjson_lines 10 > want
	put --endpoint "$S3_URL" s3://bkt/p/ --max-records 3 --stats want
	expect_status 0
	lines out 4
	[ "$(jq -r .records out | tr '\n' ' ')" = "3 3 3 1 " ]
	for k in $(objects_of out); do s3_body "$k"; done > got
	cmp want got
	[ "$(s3_keys | wc -l)" -eq 4 ]
	balance err 10 10 0
	[ "$(stat err requests)" -eq 4 ]
}

@test "s3: --max-bytes: a batch goes before a record would pass it; a larger record goes alone" {
	s3_up
	# 11 bytes a record with its newline; the big one 51.
	big='{"big":"'$(printf 'x%.0s' $(seq 40))'"}'
	[ "${#big}" -eq 50 ]
	printf '%s\n' '{"n":1001}' '{"n":1002}' '{"n":1003}' '{"n":1004}' "$big" '{"n":1006}' '{"n":1007}' > want
	put --endpoint "$S3_URL" s3://bkt/p/ --max-bytes 33 --stats want
	expect_status 0
	[ "$(jq -c '[.records, .bytes]' out | tr '\n' ' ')" = "[3,33] [1,11] [1,51] [2,22] " ]
	for k in $(objects_of out); do s3_body "$k"; done > got
	cmp want got
	balance err 7 7 0
}

@test "s3: --max-seconds sends a batch from a quiet pipe while it is still open" {
	s3_up
	bg_put --endpoint "$S3_URL" s3://bkt/q/ --max-seconds 1 --stats
	t0=$(date +%s.%N)
	feed '{"n":1}' '{"n":2}'
	wait_until 5 has_lines bg.out 1
	bg_running || fail "ts-put ended: $(cat bg.err)"
	[ "$(elapsed_since "$t0")" -le 4 ]
	k=$(objects_of bg.out)
	[ "$(s3_body "$k")" = $'{"n":1}\n{"n":2}' ]
	feed '{"n":3}'
	bg_wait
	expect_status 0
	lines bg.out 2
	[ "$(jq -r .records bg.out | tr '\n' ' ')" = "2 1 " ]
	balance bg.err 3 3 0
}

@test "s3: --compress gzip: a gzip object named .gz, read back decompressed by ts-decompress s3://" {
	s3_up
	records > in.ndjson
	records_min > want
	put --endpoint "$S3_URL" s3://bkt/z/ --compress gzip --stats in.ndjson
	expect_status 0
	key=$(objects_of out)
	[[ $key =~ ^z/$KEY_RE\.gz$ ]] || fail "key $key"
	s3_body "$key" > got.gz
	[ "$(head -c 2 got.gz | od -An -tx1 | tr -d ' ')" = 1f8b ]
	json out ".records == 3 and .bytes == $(wc -c < got.gz)"
	gzip -dc got.gz | cmp want -
	ts-decompress --endpoint "$S3_URL" "s3://bkt/$key" | cmp want -
	jq -s -e '.[0].op == "PutObject" and .[0].status == 200' "$S3_LOG" > /dev/null
	balance err 3 3 0
}

# bats test_tags=slow
@test "s3: --unsigned-payload sends UNSIGNED-PAYLOAD (Content-MD5 still guards the body)" {
	s3_up
	ndjson_lines 3 > want
	put --endpoint "$S3_URL" s3://bkt/u/ --unsigned-payload want
	expect_status 0
	s3_body "$(objects_of out)" | cmp want -
	jq -e --arg md5 "$(md5b64_of want)" 'select(.op == "PutObject") |
		.contentSha256 == "UNSIGNED-PAYLOAD" and .contentMd5 == $md5 and .status == 200' "$S3_LOG" > /dev/null ||
		fail "$(cat "$S3_LOG")"
}

@test "s3: a prefix with a timestamp template replaces the default time part; --name names the objects; a partition key is a usage error" {
	s3_up
	ndjson_lines 1 > want
	put --endpoint "$S3_URL" 's3://bkt/y=!{timestamp:yyyy}/m=!{timestamp:MM}/' --name app want
	expect_status 0
	key=$(objects_of out)
	[[ $key =~ ^y=[0-9]{4}/m=[0-9]{2}/app-[0-9]{4}(-[0-9]{2}){5}-[0-9a-f-]{36}$ ]] || fail "key $key"
	[ "${key:2:4}" = "$(date -u +%Y)" ]
	s3_body "$key" | cmp want -
	# A partition key is ts-partition's: a usage error, nothing sent.
	: > "$S3_LOG"
	put --endpoint "$S3_URL" 's3://bkt/k=!{partitionKeyFromQuery:k}/' want
	expect_status 2
	grep -q 'ts-partition' err
	[ ! -s out ]
	[ ! -s "$S3_LOG" ]
}

@test "s3: a prefix with spaces, '+', '=', '%', '~' and UTF-8 is encoded once and signed as S3 checks it" {
	s3_up
	ndjson_lines 2 > want
	put --endpoint "$S3_URL" 's3://bkt/odd key+plus=eq%pct~t/é/' want
	expect_status 0
	key=$(objects_of out)
	[[ $key == 'odd key+plus=eq%pct~t/é/'* ]] || fail "key $key"
	[ "$(s3_keys)" = "$key" ]
	s3_body "$key" | cmp want -
	ts-decompress --endpoint "$S3_URL" 's3://bkt/odd key+plus=eq%pct~t/' | cmp want -
	mkdir -p 'root/a b+c'
	cp want 'root/a b+c/ü=1.ndjson'
	printf '%s\n' '{"path":"a b+c/ü=1.ndjson"}' | put --endpoint "$S3_URL" --manifest --root root 's3://bkt/m p/'
	expect_status 0
	s3_body 'm p/a b+c/ü=1.ndjson' | cmp want -
	json -s "$S3_LOG" 'all(.[]; .status == 200)'
}


# --- S3: files of a manifest ------------------------------------------------------

# bats test_tags=slow
@test "s3: --parallel uploads files at once; the lines and error records come out in manifest order" {
	s3_up
	mkdir -p lake
	for i in 01 02 03 04 05 06 07 08 09 10 11 12; do
		head -c $((20000 + 10#$i * 1000)) /dev/urandom | base64 > "lake/f$i"
		printf '{"path":"f%s"}\n' "$i" >> manifest
		[ "$i" != 06 ] || printf '%s\n' '{"path":"missing"}' '{"nopath":1}' >> manifest
	done
	put --endpoint "$S3_URL" --manifest --root lake --parallel 4 --stats --errors errors \
		s3://bkt/p/ manifest
	expect_status 1
	jq -r .path out > got
	printf 'f%s\n' 01 02 03 04 05 06 07 08 09 10 11 12 > want
	diff want got
	[ "$(s3_keys p/ | wc -l)" -eq 12 ]
	for i in 01 07 12; do cmp "lake/f$i" "$S3_DATA/bkt/p/f$i._S3rver_object"; done
	json -s errors '[.[] | [.line, .error]] == [[7, "delivery_failed"], [8, "bad_manifest"]]'
	# Several uploads were under way at once.
	json -s "$S3_LOG" '[.[] | select(.op == "PutObject")] | length == 12'
	balance err 14 12 2 1
	put --endpoint "$S3_URL" --manifest --parallel 0 s3://bkt/p/ manifest
	expect_status 2
}

@test "s3: --manifest uploads a 17 MB file in parts (memory bounded) and a small one whole; the AWS CLI reads both back" {
	s3_up
	mkdir -p lake/dt=1 lake/dt=2
	head -c $((17 * 1024 * 1024 + 12345)) /dev/urandom > lake/dt=1/big.bin
	ndjson_lines 5 > lake/dt=2/small.ndjson
	printf '%s\n' '{"path":"dt=1/big.bin","records":1}' '{"path":"dt=2/small.ndjson"}' > manifest
	status=0
	/usr/bin/time -v -o rss ts-put --endpoint "$S3_URL" --manifest --root lake s3://bkt/lake/ \
		--stats manifest > out 2> err || status=$?
	expect_status 0
	json -s out "[.[] | [.object, .path, .bytes]] == [
		[\"s3://bkt/lake/dt=1/big.bin\", \"dt=1/big.bin\", $((17 * 1024 * 1024 + 12345))],
		[\"s3://bkt/lake/dt=2/small.ndjson\", \"dt=2/small.ndjson\", $(wc -c < lake/dt=2/small.ndjson)]]"
	# Create, three parts of 8 MiB, 8 MiB and the rest, complete; one
	# PutObject (the two files go up at once: the small one may come first).
	[ "$(s3_ops | grep -v PutObject | tr '\n' ',')" = "CreateMultipartUpload 200,UploadPart 200,UploadPart 200,UploadPart 200,CompleteMultipartUpload 200," ]
	[ "$(s3_ops | grep -c 'PutObject 200')" -eq 1 ]
	json -s "$S3_LOG" '[.[] | select(.op == "UploadPart") | [(.partNumber | tonumber), .bytes,
		(.contentSha256 == .sha256), (.contentMd5 != null)]] ==
		[[1, 8388608, true, true], [2, 8388608, true, true], [3, 12345 + 1048576, true, true]]'
	peer_aws s3 cp --recursive s3://bkt/lake/ got --only-show-errors
	cmp lake/dt=1/big.bin got/dt=1/big.bin
	cmp lake/dt=2/small.ndjson got/dt=2/small.ndjson
	[ "$(s3_keys | tr '\n' ' ')" = "lake/dt=1/big.bin lake/dt=2/small.ndjson " ]
	rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' rss)
	[ "$rss" -lt $((64 * 1024)) ] || fail "max RSS $rss kB"
	balance err 2 2 0
	[ "$(stat err requests)" -eq 6 ]
}

# bats test_tags=slow
@test "s3: ts-partition | ts-put --manifest: the lake lands under the prefix and reads back whole with ts-decompress s3://" {
	s3_up
	for i in $(seq 1 30); do
		printf '{"acct":"a%d","t":"2024-05-0%dT10:00:00Z","i":%d}\n' $((i % 3)) $((i % 2 + 1)) "$i"
	done > in.ndjson
	status=0
	ts-partition -o lake --prefix 'acct=!{partitionKeyFromQuery:acct}/dt=!{timestamp:yyyy-MM-dd}/' \
		--key acct=.acct --time .t --compress gzip in.ndjson |
		ts-put --endpoint "$S3_URL" --manifest --root lake s3://bkt/lake/ --stats > out 2> err || status=$?
	expect_status 0
	lines out 6
	[ "$(s3_keys | wc -l)" -eq 6 ]
	s3_keys | grep -Eqv '^lake/acct=a[012]/dt=2024-05-0[12]/ts-partition-.*\.gz$' && fail "keys: $(s3_keys)"
	(cd lake && find . -type f | sed 's#^\./##' | sort) > local
	s3_keys | sed 's#^lake/##' | cmp local -
	for p in $(cat local); do s3_body "lake/$p" | cmp "lake/$p" -; done
	ts-decompress --endpoint "$S3_URL" s3://bkt/lake/ | sort > got
	sort in.ndjson | cmp - got
	balance err 6 6 0
}

@test "s3: --manifest: lines without a path, absolute or .. paths and missing files are refused by file and line; the rest is delivered" {
	s3_up
	mkdir -p root/d
	echo '{"ok":1}' > root/d/one.ndjson
	echo '{"ok":2}' > root/two.ndjson
	ln -s /etc/hostname root/link
	printf '%s\n' '{"path":"d/one.ndjson"}' '{"nopath":1}' '{"path":"/etc/hostname"}' '{"path":"../x"}' \
		'{"path":"d/../../x"}' '{"path":"missing.ndjson"}' '{bad json' '{"path":"link"}' '{"path":"two.ndjson"}' > manifest
	put --endpoint "$S3_URL" --manifest --root root s3://bkt/m/ --stats --errors errors manifest
	expect_status 1
	json -s out '[.[].path] == ["d/one.ndjson", "two.ndjson"]'
	[ "$(s3_keys | tr '\n' ' ')" = "m/d/one.ndjson m/two.ndjson " ]
	assert_error_records errors 7
	json -s errors '[.[] | [.error, .file, .line]] == [["bad_manifest","manifest",2],
		["bad_manifest","manifest",3], ["bad_manifest","manifest",4], ["bad_manifest","manifest",5],
		["delivery_failed","manifest",6], ["bad_json","manifest",7], ["delivery_failed","manifest",8]]'
	json -s errors 'all(.[]; . as $e | .message | startswith("manifest:\($e.line): "))'
	for i in 0 1 2 3 4 5 6; do
		printf '%s' "$(sed -n "$((i + 2))p" manifest)" > want
		assert_raw errors "$i" want
	done
	balance err 9 2 7 2
}

# bats test_tags=slow
@test "s3: a batch of records larger than --part-size goes as a multipart upload, byte for byte" {
	s3_up
	seq 1 150000 | sed 's/.*/{"n":&,"pad":"abcdefghijklmnopqrstuvwxyz0123456789"}/' > want
	size=$(wc -c < want)
	[ "$size" -gt $((6 * 1024 * 1024)) ]
	put --endpoint "$S3_URL" s3://bkt/mp/ --part-size 5M --max-bytes 64M --stats want
	expect_status 0
	json out ".records == 150000 and .bytes == $size"
	[ "$(s3_ops | tr '\n' ',')" = "CreateMultipartUpload 200,UploadPart 200,UploadPart 200,CompleteMultipartUpload 200," ]
	s3_body "$(objects_of out)" | cmp want -
	balance err 150000 150000 0
}

# bats test_tags=slow
@test "s3: multipart: a tampered part is sent again alone; a part refused for good aborts the upload, nothing stored" {
	s3_up
	mkdir root
	head -c $((11 * 1024 * 1024)) /dev/urandom > root/big.bin
	echo '{"path":"big.bin"}' > manifest
	peer_fault s3 '{"kind":"tamper","match":"partNumber=2"}'
	put --endpoint "$S3_URL" --manifest --root root --part-size 5M --retry-seconds 5 s3://bkt/a/ --stats manifest
	expect_status 0
	s3_body a/big.bin | cmp root/big.bin -
	[ "$(s3_ops | tr '\n' ',')" = "CreateMultipartUpload 200,UploadPart 200,UploadPart 400,UploadPart 200,UploadPart 200,CompleteMultipartUpload 200," ]
	balance err 1 1 0
	: > "$S3_LOG"
	peer_fault s3 '{"kind":"status","status":403,"s3Code":"AccessDenied","message":"Access Denied","match":"partNumber=2"}'
	put --endpoint "$S3_URL" --manifest --root root --part-size 5M --retry-seconds 5 s3://bkt/b/ --stats --errors errors manifest
	expect_status 2
	# The upload is aborted (s3rver 4.0.4 has no AbortMultipartUpload and
	# answers 405 after the proxy checked the request; S3 answers 204).
	[ "$(s3_ops | sed 's/ .*//' | tr '\n' ',')" = "CreateMultipartUpload,UploadPart,UploadPart,AbortMultipartUpload," ]
	json -s "$S3_LOG" '.[2].status == 403 and (.[3] | .method == "DELETE" and .key == "b/big.bin" and
		(.status == 204 or (.status == 405 and .detail == "s3rver refused"))) and .[3].uploadId == .[1].uploadId'
	[ "$(s3_keys b/)" = "" ]
	json errors '.error == "delivery_failed" and .errorCode == "S3.AccessDenied" and .object == "b/big.bin" and .line == 1 and .raw == "{\"path\":\"big.bin\"}"'
	balance err 1 0 1
}

# --- S3: refusals, integrity, faults ---------------------------------------------------

@test "s3: a wrong secret key: every record dead-lettered by file and line with S3's answer, exit 2, no secret in any output" {
	s3_up
	export AWS_SECRET_ACCESS_KEY='wrongSecret/Zz9+Yy8Xx7Ww6Vv5'
	printf '%s\n' '{"a":1}' '{ "a" : 2 }' > a.ndjson
	printf '%s\n' '{"b":1}' > b.ndjson
	put --endpoint "$S3_URL" s3://bkt/w/ --max-records 2 --stats --errors errors --verbose a.ndjson b.ndjson
	expect_status 2
	[ ! -s out ]
	[ -z "$(s3_keys)" ]
	assert_error_records errors 3
	json -s errors '[.[] | [.file, .line, .raw]] == [["a.ndjson",1,"{\"a\":1}"], ["a.ndjson",2,"{\"a\":2}"], ["b.ndjson",1,"{\"b\":1}"]]'
	json -s errors 'all(.[]; .error == "delivery_failed" and .program == "ts-put" and
		.destination == "s3://bkt/w/" and (.object | test("^w/[0-9]{4}/")) and
		.status == 403 and .errorCode == "S3.SignatureDoesNotMatch" and (.response | length > 0))'
	json -s errors '.[0:2] | all(.[]; .attempts == 1 and (. as $e | .message |
		startswith("\($e.file):\($e.line): not delivered after 1 attempt: S3.SignatureDoesNotMatch: ")))'
	# The later batch is not sent: the destination refused us already.
	json -s errors '.[2] | .attempts == 0 and (.message |
		startswith("b.ndjson:1: not sent: the destination refused an earlier batch: S3.SignatureDoesNotMatch: "))'
	[ "$(grep -c '^> PUT' err)" -eq 1 ]
	grep -q 'refused the first delivery' err
	grep -q 'Authorization: \[hidden\]' err
	balance err 3 0 3
	no_secret "$S3_SECRET" out err errors
	no_secret "$AWS_SECRET_ACCESS_KEY" out err errors
}

@test "s3: an unknown access key or bucket is refused for good: exit 2, S3's error codes" {
	s3_up
	ndjson_lines 2 > in
	AWS_ACCESS_KEY_ID=AKIANOSUCHKEY0000000 put --endpoint "$S3_URL" s3://bkt/k/ --errors errors in
	expect_status 2
	json -s errors 'length == 2 and all(.[]; .errorCode == "S3.InvalidAccessKeyId" and .status == 403 and .attempts == 1)'
	rm errors
	put --endpoint "$S3_URL" s3://nosuchbucket/k/ --errors errors --stats in
	expect_status 2
	json -s errors 'length == 2 and all(.[]; .errorCode == "S3.NoSuchBucket" and .status == 404 and
		.destination == "s3://nosuchbucket/k/")'
	balance err 2 0 2
	[ -z "$(s3_keys)" ]
	no_secret "$S3_SECRET" out err errors
}

# bats test_tags=slow
@test "s3: refused after a first object went through: exit 1, the later records dead-lettered, the first stored" {
	s3_up
	bg_put --endpoint "$S3_URL" s3://bkt/r/ --max-records 1 --stats --errors errors
	feed '{"n":1}'
	wait_until 10 has_lines bg.out 1
	peer_fault s3 '{"kind":"status","status":403,"s3Code":"AccessDenied","message":"Access Denied","count":-1}'
	feed '{"n":2}' '{"n":3}'
	bg_wait
	expect_status 1
	[ "$(s3_body "$(objects_of bg.out)")" = '{"n":1}' ]
	[ "$(s3_keys | wc -l)" -eq 1 ]
	json -s errors '[.[] | [.raw, .line, .errorCode, .status, .attempts, .file]] ==
		[["{\"n\":2}", 2, "S3.AccessDenied", 403, 1, "<stdin>"], ["{\"n\":3}", 3, "S3.AccessDenied", 403, 1, "<stdin>"]]'
	balance bg.err 3 1 2
	grep -q 'refused the first delivery' bg.err && fail "exit 1 is not 'unusable from the start'"
	true
}

@test "s3: a body tampered on the way is refused by the proxy and sent again, once per fault (SHA-256 and Content-MD5)" {
	s3_up
	records > in.ndjson
	records_min > want
	peer_fault s3 '{"kind":"tamper","count":1}'
	put --endpoint "$S3_URL" s3://bkt/t/ --retry-seconds 5 --stats in.ndjson
	expect_status 0
	s3_body "$(objects_of out)" | cmp want -
	json -s "$S3_LOG" '[.[] | [.op, .status, .error, .tampered]] ==
		[["PutObject", 400, "XAmzContentSHA256Mismatch", true], ["PutObject", 200, null, false]]'
	balance err 3 3 0
	[ "$(stat err retries)" -eq 1 ]
	# Without the payload hash, Content-MD5 catches it.
	: > "$S3_LOG"
	peer_fault s3 '{"kind":"tamper","count":1}'
	put --endpoint "$S3_URL" s3://bkt/t2/ --unsigned-payload --retry-seconds 5 --stats in.ndjson
	expect_status 0
	s3_body "$(objects_of out)" | cmp want -
	json -s "$S3_LOG" '[.[] | [.op, .status, .error, .tampered]] ==
		[["PutObject", 400, "BadDigest", true], ["PutObject", 200, null, false]]'
	[ "$(s3_keys | wc -l)" -eq 2 ]
}

@test "s3: a body tampered every time is never stored: dead-lettered after the retry budget, exit 1" {
	s3_up
	ndjson_lines 3 > in
	peer_fault s3 '{"kind":"tamper","count":-1}'
	put --endpoint "$S3_URL" s3://bkt/t/ --retry-seconds 1.5 --stats --errors errors in
	expect_status 1
	[ ! -s out ]
	[ -z "$(s3_keys)" ]
	json -s errors 'length == 3 and all(.[]; .errorCode == "S3.XAmzContentSHA256Mismatch" and
		.status == 400 and .attempts == 2 and .error == "delivery_failed")'
	json -s "$S3_LOG" 'length == 2 and all(.[]; .tampered and .status == 400)'
	balance err 3 0 3
}

# bats test_tags=slow
@test "s3: 503 SlowDown and a connection reset are retried; the object is stored once" {
	s3_up
	ndjson_lines 2 > want
	for f in '{"kind":"status","status":503}' '{"kind":"reset"}'; do
		: > "$S3_LOG"
		peer_fault s3 "$f"
		put --endpoint "$S3_URL" s3://bkt/f/ --retry-seconds 5 --stats want
		expect_status 0
		s3_body "$(objects_of out)" | cmp want -
		json -s "$S3_LOG" 'length == 2 and .[1].status == 200 and (.[0].status != 200)'
		balance err 2 2 0
		[ "$(stat err retries)" -eq 1 ] && [ "$(stat err requests)" -eq 2 ]
	done
	[ "$(s3_keys | wc -l)" -eq 2 ]
}

# bats test_tags=slow
@test "s3: an answer slower than --timeout is retried; the same key is written again, not a second object" {
	s3_up
	ndjson_lines 2 > want
	peer_fault s3 '{"kind":"slow","ms":2500}'
	put --endpoint "$S3_URL" s3://bkt/s/ --timeout 1 --retry-seconds 6 --stats want
	expect_status 0
	[ "$(s3_keys | wc -l)" -eq 1 ]
	s3_body "$(objects_of out)" | cmp want -
	json -s "$S3_LOG" 'length == 2 and (.[0].key == .[1].key) and .[1].status == 200'
	balance err 2 2 0
}

@test "s3: SIGTERM mid-run: what was read is delivered, the counts balance" {
	s3_up
	bg_put --endpoint "$S3_URL" s3://bkt/sig/ --max-records 3 --max-seconds 0 --stats --errors errors
	ndjson_lines 5 > sent
	feed "$(sed -n 1,5p sent)"
	wait_until 10 has_lines bg.out 1
	sleep 0.3
	bg_wait TERM
	expect_status 0
	grep -q 'stopped by a signal' bg.err
	n=$(stat bg.err records_in)
	[ "$n" -ge 3 ] && [ "$n" -le 5 ]
	balance bg.err "$n" "$n" 0
	for k in $(objects_of bg.out); do s3_body "$k"; done > got
	head -n "$n" sent | cmp - got
	[ ! -s errors ]
}

# bats test_tags=slow
@test "s3: SIGTERM while a batch is being retried: no more retries, the batch is dead-lettered, the counts balance" {
	s3_up
	peer_fault s3 '{"kind":"status","status":503,"count":-1}'
	bg_put --endpoint "$S3_URL" s3://bkt/sig/ --max-records 2 --retry-seconds 120 --stats --errors errors
	feed '{"n":1}' '{"n":2}'
	wait_until 10 has_lines "$S3_LOG" 1
	t0=$(date +%s.%N)
	bg_wait TERM
	[ "$(elapsed_since "$t0")" -le 2 ] || fail "ts-put took $(elapsed_since "$t0") s to stop"
	expect_status 1
	json -s errors '[.[] | [.raw, .errorCode, .status]] == [["{\"n\":1}","S3.SlowDown",503], ["{\"n\":2}","S3.SlowDown",503]]'
	balance bg.err 2 0 2
	[ -z "$(s3_keys)" ]
}

# --- Splunk HTTP Event Collector ---------------------------------------------------------

# hec_up [PEER-ARGS...]: the HEC peer taking $TOKEN (and refusing others).
hec_up() {
	peer_start hec --token "$TOKEN" "$@"
	printf '%s\n' "$TOKEN" > token
}

# once LOG FILTER WANT: the entries of a peer's LOG not marked "faulted" give,
# through the jq FILTER, exactly the lines of WANT, each once (in any order);
# an entry marked faulted (accepted by a request the sender could not know
# had succeeded) may repeat one of them, and nothing else.  $faulted is how
# many faulted entries there were.
once() {
	local log=$1 filter=$2 want=$3
	jq -r "select(.faulted | not) | $filter" "$log" | LC_ALL=C sort > once.got
	LC_ALL=C sort "$want" > once.want
	diff once.want once.got > once.diff || fail "accepted once (<) vs accepted (>):
$(cat once.diff)"
	jq -r "select(.faulted) | $filter" "$log" | LC_ALL=C sort -u > once.dup
	if [ -n "$(LC_ALL=C comm -23 once.dup once.want)" ]; then
		fail "faulted entries that were never sent: $(LC_ALL=C comm -23 once.dup once.want)"
	fi
	faulted=$(jq -r 'select(.faulted) | 1' "$log" | wc -l)
}

# events_of FILE: each record of FILE as jq -c writes it (as the HEC log's
# "event" reads back through jq).
events_of() {
	jq -c . "$1"
}

@test "hec: events carry each record, the arrival time and --host/--source/--sourcetype/--index; the answer is on stdout" {
	hec_up --indexes main,web
	records > in.ndjson
	events_of in.ndjson > want
	t0=$(date +%s)
	put --splunk "$HEC_URL" --token-file token --host web-01 --source 'app "x"' --sourcetype st:json \
		--index web --stats --errors errors --verbose in.ndjson
	t1=$(date +%s)
	expect_status 0
	[ ! -s errors ]
	once "$HEC_LOG" '.event | tojson' want
	[ "$faulted" -eq 0 ]
	jq -s -e --argjson t0 "$t0" --argjson t1 "$((t1 + 1))" 'all(.[];
		.host == "web-01" and .source == "app \"x\"" and .sourcetype == "st:json" and .index == "web" and
		.endpoint == "event" and .request == 1 and .unknown == [] and .fields == null and
		(.time | type == "number" and . >= $t0 and . <= $t1))' "$HEC_LOG" > /dev/null || fail "$(cat "$HEC_LOG")"
	# The event order is the records' order.
	jq -c .event "$HEC_LOG" | cmp want -
	lines "$HEC_REQUESTS" 1
	chan=$(jq -r .channel "$HEC_REQUESTS")
	[[ $chan =~ $GUID_RE ]] || fail "channel $chan"
	json out ". == {\"destination\":\"$HEC_URL\",\"records\":3,\"bytes\":$(jq .bytes "$HEC_REQUESTS")}"
	json "$HEC_REQUESTS" '.path == "/services/collector/event" and .status == 200 and .code == 0 and .events == 3'
	balance err 3 3 0
	no_secret "$TOKEN" out err errors
}

@test "hec: the token from TS_SPLUNK_TOKEN; a URL that already names the endpoint; sourcetype _json by default" {
	hec_up
	ndjson_lines 2 > in
	events_of in > want
	TS_SPLUNK_TOKEN="$TOKEN" put --splunk "$HEC_URL/services/collector/event" in
	expect_status 0
	once "$HEC_LOG" '.event | tojson' want
	json -s "$HEC_LOG" 'all(.[]; .sourcetype == "_json" and .host == null and .source == null and .index == null)'
	json "$HEC_REQUESTS" '.path == "/services/collector/event"'
	# Without any token: a usage error, nothing sent.
	put --splunk "$HEC_URL" in
	expect_status 2
	lines "$HEC_REQUESTS" 1
}

@test "hec: --raw sends the records as lines to the raw endpoint with the channel and the metadata in the query" {
	hec_up
	records > in.ndjson
	records_min > want
	put --splunk "$HEC_URL" --token "$TOKEN" --raw --channel 0d2c5c6e-3a8b-4f21-9a77-5f1e2b3c4d5e --stats in.ndjson
	expect_status 0
	jq -r .event "$HEC_LOG" | cmp want -
	json -s "$HEC_LOG" 'all(.[]; .endpoint == "raw" and .channel == "0d2c5c6e-3a8b-4f21-9a77-5f1e2b3c4d5e" and (.faulted | not))'
	json "$HEC_REQUESTS" '.path == "/services/collector/raw" and (.query | test("channel=0d2c5c6e-3a8b-4f21-9a77-5f1e2b3c4d5e")) and .events == 3'
	json out ".records == 3 and .bytes == $(wc -c < want)"
	balance err 3 3 0
	# --host, --source, --sourcetype and --index go in the raw endpoint's query.
	: > "$HEC_LOG"
	put --splunk "$HEC_URL" --token "$TOKEN" --raw --host h1 --source s1 --sourcetype st1 --index main in.ndjson
	expect_status 0
	json -s "$HEC_LOG" 'length == 3 and all(.[]; .host == "h1" and .source == "s1" and .sourcetype == "st1" and .index == "main")'
}

@test "hec: any JSON value is an event (string, number, array, boolean); in --raw they are lines of JSON text" {
	hec_up
	printf '%s\n' '"just text"' '42' '[1,{"a":"b"}]' 'true' '{"e":{}}' > in
	put --splunk "$HEC_URL" --token "$TOKEN" in
	expect_status 0
	jq -c .event "$HEC_LOG" | cmp in -
	: > "$HEC_LOG"
	put --splunk "$HEC_URL" --token "$TOKEN" --raw in
	expect_status 0
	jq -r .event "$HEC_LOG" | cmp in -
}

@test "hec: a record HEC can never take as an event (null, \"\") is dead-lettered alone; the rest of its batch is delivered" {
	hec_up
	printf '%s\n' '{"n":1}' 'null' '{"n":3}' '""' '{"n":5}' > in
	put --splunk "$HEC_URL" --token "$TOKEN" --retry-seconds 2 --stats --errors errors in
	expect_status 1
	json -s errors '[.[] | [.line, .raw]] == [[2, "null"], [4, "\"\""]]'
	printf '%s\n' '{"n":1}' '{"n":3}' '{"n":5}' > want
	once "$HEC_LOG" '.event | tojson' want
	balance err 5 3 2
}

@test "hec: --ack waits for each request's acknowledgement and reports its ackId; --max-records batches" {
	hec_up --ack --ack-delay 200
	ndjson_lines 5 > in
	events_of in > want
	put --splunk "$HEC_URL" --token-file token --ack --max-records 2 --stats in
	expect_status 0
	once "$HEC_LOG" '.event | tojson' want
	json -s out '[.[] | [.ackId, .records]] == [[0,2],[1,2],[2,1]]'
	# Each data request is followed by ack polls on its channel until true.
	json -s "$HEC_REQUESTS" '[.[] | select(.path == "/services/collector/event")] | length == 3 and all(.[]; .status == 200)'
	json -s "$HEC_REQUESTS" '[.[] | select(.path == "/services/collector/ack")] | length >= 3 and all(.[]; .status == 200)'
	json -s "$HEC_LOG" '[.[] | .ackId] == [0,0,1,1,2]'
	balance err 5 5 0
	# The raw endpoint is acknowledged the same way.
	: > "$HEC_LOG"
	put --splunk "$HEC_URL" --token-file token --ack --raw --stats in
	expect_status 0
	jq -r .event "$HEC_LOG" | cmp in -
	json out '.ackId == 0 and .records == 5'
	balance err 5 5 0
}

@test "hec: --max-bytes batches by the records' size; --max-seconds sends from a quiet pipe" {
	hec_up
	printf '%s\n' '{"n":1001}' '{"n":1002}' '{"n":1003}' '{"n":1004}' > in
	put --splunk "$HEC_URL" --token "$TOKEN" --max-bytes 22 in
	expect_status 0
	json -s "$HEC_REQUESTS" '[.[].events] == [2,2]'
	: > "$HEC_LOG"
	bg_put --splunk "$HEC_URL" --token "$TOKEN" --max-seconds 1 --stats
	feed '{"q":1}'
	wait_until 5 has_lines bg.out 1
	bg_running
	json "$HEC_LOG" '.event == {"q":1}'
	bg_wait
	expect_status 0
	balance bg.err 1 1 0
}

@test "hec: a wrong or disabled token is refused for good: exit 2, dead letters by file and line, no token anywhere" {
	hec_up
	printf '%s\n' "$WRONG_TOKEN" > wrong
	ndjson_lines 3 > in
	put --splunk "$HEC_URL" --token-file wrong --verbose --stats --errors errors in
	expect_status 2
	[ ! -s out ]
	[ ! -s "$HEC_LOG" ]
	lines "$HEC_REQUESTS" 1
	assert_error_records errors 3
	json -s errors "[.[] | [.file, .line, .raw]] == [[\"in\",1,$(sed -n 1p in | jq -R .)],
		[\"in\",2,$(sed -n 2p in | jq -R .)], [\"in\",3,$(sed -n 3p in | jq -R .)]]"
	json -s errors "all(.[]; .error == \"delivery_failed\" and .destination == \"$HEC_URL\" and
		.errorCode == \"Splunk.InvalidToken\" and .status == 403 and .attempts == 1 and
		.response == \"Invalid token\" and (.object == null) and
		(. as \$e | .message | startswith(\"in:\(\$e.line): not delivered after 1 attempt: Splunk.InvalidToken\")))"
	grep -q 'Authorization: \[hidden\]' err
	balance err 3 0 3
	no_secret "$WRONG_TOKEN" out err errors
	no_secret "$TOKEN" out err errors
	# A disabled token: Splunk.TokenDisabled.
	peer_stop hec
	hec_up --disabled-token "$WRONG_TOKEN"
	rm errors
	put --splunk "$HEC_URL" --token-file wrong --errors errors in
	expect_status 2
	json -s errors 'length == 3 and all(.[]; .errorCode == "Splunk.TokenDisabled" and .status == 403 and .attempts == 1)'
	no_secret "$WRONG_TOKEN" out err errors
	# An index HEC does not know refuses us as well.
	peer_stop hec
	hec_up --indexes main
	rm errors
	put --splunk "$HEC_URL" --token-file token --index nosuch --errors errors in
	expect_status 2
	json -s errors 'length == 3 and all(.[]; .errorCode == "Splunk.IncorrectIndex" and .status == 400 and .attempts == 1)'
	[ ! -s "$HEC_LOG" ]
}

@test "hec: a token revoked after a first batch went through: exit 1, the rest dead-lettered" {
	hec_up
	bg_put --splunk "$HEC_URL" --token "$TOKEN" --max-records 1 --stats --errors errors
	feed '{"n":1}'
	wait_until 10 has_lines bg.out 1
	peer_fault hec '{"kind":"status","status":403,"hecCode":4,"count":-1}'
	feed '{"n":2}' '{"n":3}'
	bg_wait
	expect_status 1
	json "$HEC_LOG" '.event == {"n":1}'
	lines "$HEC_LOG" 1
	json -s errors '[.[] | [.raw, .errorCode, .status]] == [["{\"n\":2}","Splunk.InvalidToken",403], ["{\"n\":3}","Splunk.InvalidToken",403]]'
	balance bg.err 3 1 2
}

@test "hec: 500 (code 8) and 503 (code 9, busy) are retried to success: every event indexed once" {
	hec_up
	ndjson_lines 4 > in
	events_of in > want
	peer_fault hec '{"kind":"status","status":500,"hecCode":8}'
	put --splunk "$HEC_URL" --token "$TOKEN" --retry-seconds 5 --stats in
	expect_status 0
	peer_fault hec '{"kind":"status","status":503,"hecCode":9}'
	put --splunk "$HEC_URL" --token "$TOKEN" --retry-seconds 5 --stats in
	expect_status 0
	cat want want > want2
	once "$HEC_LOG" '.event | tojson' want2
	json -s "$HEC_REQUESTS" '[.[] | [.status, .code]] == [[500,8],[200,0],[503,9],[200,0]]'
	balance err 4 4 0
	[ "$(stat err retries)" -eq 1 ] && [ "$(stat err requests)" -eq 2 ]
}

@test "hec: busy past the retry budget: dead-lettered as Splunk.ServerBusy, exit 1, nothing indexed" {
	hec_up
	ndjson_lines 2 > in
	peer_fault hec '{"kind":"status","status":503,"hecCode":9,"count":-1}'
	put --splunk "$HEC_URL" --token "$TOKEN" --retry-seconds 1.5 --stats --errors errors in
	expect_status 1
	[ ! -s "$HEC_LOG" ]
	json -s errors 'length == 2 and all(.[]; .errorCode == "Splunk.ServerBusy" and .status == 503 and .attempts == 2)'
	balance err 2 0 2
	# --retry-seconds 0: one attempt.
	rm errors
	put --splunk "$HEC_URL" --token "$TOKEN" --retry-seconds 0 --stats --errors errors in
	expect_status 1
	json -s errors 'length == 2 and all(.[]; .errorCode == "Splunk.ServerBusy" and .attempts == 1)'
	[ ! -s "$HEC_LOG" ]
}

@test "hec: 413 is not retried: that batch is dead-lettered, the next one delivered, exit 1" {
	hec_up
	ndjson_lines 3 > in
	peer_fault hec '{"kind":"status","status":413}'
	put --splunk "$HEC_URL" --token "$TOKEN" --max-records 2 --retry-seconds 5 --stats --errors errors in
	expect_status 1
	json -s errors '[.[] | [.line, .status, .attempts]] == [[1,413,1],[2,413,1]]'
	json -s errors 'all(.[]; .errorCode | startswith("Splunk."))'
	sed -n 3p in | events_of /dev/stdin > want
	once "$HEC_LOG" '.event | tojson' want
	balance err 3 1 2
}

@test "hec: an answer slower than --timeout: the batch is sent again; only the faulted acceptance repeats" {
	hec_up
	ndjson_lines 3 > in
	events_of in > want
	peer_fault hec '{"kind":"slow","ms":2500}'
	put --splunk "$HEC_URL" --token "$TOKEN" --timeout 1 --retry-seconds 5 --stats --errors errors in
	expect_status 0
	once "$HEC_LOG" '.event | tojson' want
	[ "$faulted" -eq 3 ]
	[ "$(stat err retries)" -eq 1 ]
	balance err 3 3 0
}

@test "hec: a connection reset before or after the events were taken: sent again, none lost, repeats only where faulted" {
	hec_up
	ndjson_lines 3 > in
	events_of in > want
	peer_fault hec '{"kind":"reset"}'
	put --splunk "$HEC_URL" --token "$TOKEN" --retry-seconds 5 --stats in
	expect_status 0
	once "$HEC_LOG" '.event | tojson' want
	[ "$faulted" -eq 0 ]
	: > "$HEC_LOG"
	peer_fault hec '{"kind":"reset","when":"response"}'
	put --splunk "$HEC_URL" --token "$TOKEN" --retry-seconds 5 --stats in
	expect_status 0
	once "$HEC_LOG" '.event | tojson' want
	[ "$faulted" -eq 3 ]
	balance err 3 3 0
	json -s "$HEC_REQUESTS" '[.[].status] == [null, 200, null, 200]'
}

@test "hec: an ack that never comes: the request is sent again after --ack-timeout and acknowledged" {
	hec_up --ack
	ndjson_lines 3 > in
	events_of in > want
	peer_fault hec '{"kind":"ackNever","count":1}'
	put --splunk "$HEC_URL" --token "$TOKEN" --ack --ack-timeout 1 --retry-seconds 8 --stats in
	expect_status 0
	once "$HEC_LOG" '.event | tojson' want
	[ "$faulted" -eq 3 ]
	json out '.ackId == 1 and .records == 3'
	balance err 3 3 0
}

# bats test_tags=slow
@test "hec: acks that never come: dead-lettered as Splunk.AckTimeout after the retry budget, exit 1" {
	hec_up --ack
	ndjson_lines 2 > in
	events_of in > want
	peer_fault hec '{"kind":"ackNever"}'
	put --splunk "$HEC_URL" --token "$TOKEN" --ack --ack-timeout 0.5 --retry-seconds 2 --stats --errors errors in
	expect_status 1
	json -s errors 'length == 2 and all(.[]; .errorCode == "Splunk.AckTimeout" and .attempts == 2)'
	# Indexed perhaps (at-least-once), but never acknowledged: only faulted acceptances.
	[ "$(jq -r 'select(.faulted | not)' "$HEC_LOG")" = "" ]
	balance err 2 0 2
}

@test "hec: SIGTERM while waiting for an ack or retrying: prompt stop, dead-lettered, the counts balance" {
	hec_up --ack
	peer_fault hec '{"kind":"ackNever"}'
	bg_put --splunk "$HEC_URL" --token "$TOKEN" --ack --max-records 2 --stats --errors errors
	feed '{"n":1}' '{"n":2}'
	wait_until 10 has_lines "$HEC_LOG" 2
	t0=$(date +%s.%N)
	bg_wait TERM
	[ "$(elapsed_since "$t0")" -le 2 ] || fail "ts-put took $(elapsed_since "$t0") s to stop"
	expect_status 1
	json -s errors '[.[].raw] == ["{\"n\":1}", "{\"n\":2}"]'
	balance bg.err 2 0 2
	peer_faults_clear hec
	peer_fault hec '{"kind":"status","status":503,"hecCode":9,"count":-1}'
	bg_put --splunk "$HEC_URL" --token "$TOKEN" --max-records 1 --retry-seconds 100 --stats --errors errors2
	feed '{"n":3}'
	wait_until 10 grep -q '"status":503' "$HEC_REQUESTS"
	bg_wait TERM
	expect_status 1
	json errors2 '.raw == "{\"n\":3}" and .errorCode == "Splunk.ServerBusy"'
	balance bg.err 1 0 1
}

# --- HTTP endpoint (delivery stream protocol) --------------------------------------------

# fh_up [PEER-ARGS...]: the HTTP endpoint peer checking $ACCESS_KEY.
fh_up() {
	peer_start firehose --access-key "$ACCESS_KEY" "$@"
	printf '%s\n' "$ACCESS_KEY" > key
}

@test "http: each record is one base64 data item, byte for byte; request id, access key and common attributes as the protocol says" {
	fh_up
	records > in.ndjson
	records_min > want
	put --http "$FIREHOSE_URL" --access-key-file key --attribute env=test --attribute 'team=a=b' \
		--stats --errors errors --verbose in.ndjson
	expect_status 0
	[ ! -s errors ]
	# The decoded data is each record exactly, no newline added.
	jq -r .data "$FIREHOSE_LOG" | cmp want -
	json -s "$FIREHOSE_LOG" '[.[].dataBase64 | @base64d | endswith("\n")] == [false, false, false]'
	json -s "$FIREHOSE_LOG" 'all(.[]; .attempt == 1 and .request == 1 and (.faulted | not) and
		.commonAttributes == {"env":"test","team":"a=b"})'
	lines "$FIREHOSE_REQUESTS" 1
	id=$(jq -r .requestId "$FIREHOSE_REQUESTS")
	[[ $id =~ $GUID_RE ]] || fail "request id $id"
	json out ". == {\"destination\":\"$FIREHOSE_URL\",\"requestId\":\"$id\",\"records\":3,\"bytes\":$(jq .bytes "$FIREHOSE_REQUESTS")}"
	json "$FIREHOSE_REQUESTS" '.status == 200 and .records == 3 and .encoding == null'
	balance err 3 3 0
	no_secret "$ACCESS_KEY" out err errors
}

@test "http: the access key from TS_HTTP_ACCESS_KEY; --content-encoding gzip compresses the body" {
	fh_up
	ndjson_lines 50 > want
	TS_HTTP_ACCESS_KEY="$ACCESS_KEY" put --http "$FIREHOSE_URL" --content-encoding gzip --stats want
	expect_status 0
	jq -r .data "$FIREHOSE_LOG" | cmp want -
	json "$FIREHOSE_REQUESTS" '.encoding == "gzip" and .records == 50 and .status == 200'
	json out ".bytes == $(jq .bytes "$FIREHOSE_REQUESTS")"
	balance err 50 50 0
}

@test "http: at most 10,000 records a request whatever --max-records says; --max-records and --max-bytes batch" {
	fh_up
	seq 1 10001 > want
	TS_HTTP_ACCESS_KEY="$ACCESS_KEY" put --http "$FIREHOSE_URL" --max-records 50000 --stats want
	expect_status 0
	json -s "$FIREHOSE_REQUESTS" '[.[].records] == [10000, 1]'
	jq -r .data "$FIREHOSE_LOG" | cmp want -
	balance err 10001 10001 0
	: > "$FIREHOSE_REQUESTS"
	: > "$FIREHOSE_LOG"
	printf '%s\n' '{"n":1001}' '{"n":1002}' '{"n":1003}' '{"n":1004}' '{"n":1005}' > want
	TS_HTTP_ACCESS_KEY="$ACCESS_KEY" put --http "$FIREHOSE_URL" --max-records 2 want
	expect_status 0
	json -s "$FIREHOSE_REQUESTS" '[.[].records] == [2, 2, 1]'
	json -s out '[.[].records] == [2, 2, 1]'
	: > "$FIREHOSE_REQUESTS"
	TS_HTTP_ACCESS_KEY="$ACCESS_KEY" put --http "$FIREHOSE_URL" --max-bytes 33 want
	expect_status 0
	json -s "$FIREHOSE_REQUESTS" '[.[].records] == [3, 2]'
}

@test "http: --max-seconds sends a batch from a quiet pipe" {
	fh_up
	bg_put --http "$FIREHOSE_URL" --access-key "$ACCESS_KEY" --max-seconds 1 --stats
	feed '{"q":1}' '{"q":2}'
	wait_until 5 has_lines bg.out 1
	bg_running
	json -s "$FIREHOSE_LOG" '[.[].data] == ["{\"q\":1}", "{\"q\":2}"]'
	feed '{"q":3}'
	bg_wait
	expect_status 0
	json -s bg.out '[.[].records] == [2, 1]'
	balance bg.err 3 3 0
}

@test "http: a wrong access key: every record dead-lettered by file and line, exit 2, no key in any output" {
	fh_up
	printf '%s\n' "$WRONG_ACCESS_KEY" > wrong
	ndjson_lines 2 > in
	put --http "$FIREHOSE_URL" --access-key-file wrong --retry-seconds 1.5 --verbose --stats --errors errors in
	[ ! -s "$FIREHOSE_LOG" ]
	assert_error_records errors 2
	json -s errors "all(.[]; .error == \"delivery_failed\" and .destination == \"$FIREHOSE_URL\" and
		.errorCode == \"HttpEndpoint.ResponseStatus403\" and .status == 403 and .attempts >= 1 and
		(.response | test(\"access key\")) and .file == \"in\" and
		(. as \$e | .message | startswith(\"in:\(\$e.line): not delivered after\")))"
	json -s errors '[.[].line] == [1, 2]'
	grep -q 'X-Amz-Firehose-Access-Key: \[hidden\]' err
	balance err 2 0 2
	no_secret "$WRONG_ACCESS_KEY" out err errors
	no_secret "$ACCESS_KEY" out err errors
	# Nothing could ever be delivered: the destination was unusable.
	expect_status 2
	# A path the endpoint does not serve (404) is the same.
	peer_stop firehose
	fh_up --path /in
	rm errors
	put --http "$FIREHOSE_URL/elsewhere" --access-key-file key --retry-seconds 1.5 --errors errors in
	expect_status 2
	json -s errors 'length == 2 and all(.[]; .status == 404)'
	[ ! -s "$FIREHOSE_LOG" ]
}

@test "http: a record over the protocol's 1,024,000 bytes is dead-lettered unsent; one of exactly that size and its neighbours go" {
	fh_up
	{
		echo '{"a":1}'
		printf '"%s"\n' "$(head -c 1023998 /dev/zero | tr '\0' y)"
		printf '"%s"\n' "$(head -c 1023999 /dev/zero | tr '\0' z)"
		echo '{"a":4}'
	} > in
	put --http "$FIREHOSE_URL" --access-key "$ACCESS_KEY" --retry-seconds 0 --stats --errors errors in
	expect_status 1
	assert_error_records errors 1
	assert_error errors 0 '.error == "delivery_failed" and .line == 3 and .errorCode == "HttpEndpoint.RecordTooLarge" and
		(.raw | length) == 1024001 and .destination == "'"$FIREHOSE_URL"'"'
	json -s "$FIREHOSE_LOG" '[.[].bytes] == [7, 1024000, 7] and all(.[]; .faulted | not)'
	balance err 4 3 1
}

@test "http: common attributes of any size go whole in their header (or are refused before anything is sent)" {
	fh_up
	big=$(head -c 5000 /dev/zero | tr '\0' x)
	ndjson_lines 1 > in
	put --http "$FIREHOSE_URL" --access-key "$ACCESS_KEY" --attribute "big=$big" --attribute 'ü=1' \
		--retry-seconds 0 --errors errors in
	if [ "$status" -eq 2 ]; then
		[ ! -s "$FIREHOSE_REQUESTS" ] || fail "refused, but after sending: $(cat "$FIREHOSE_REQUESTS")"
	else
		expect_status 0
		jq -e --arg big "$big" '.commonAttributes == {"big": $big, "ü": "1"}' "$FIREHOSE_LOG" > /dev/null ||
			fail "attributes: $(head -c 500 "$FIREHOSE_LOG")"
	fi
}

@test "http: 500 and 503 are retried with the same request id; every record delivered once" {
	fh_up
	ndjson_lines 3 > in
	peer_fault firehose '{"kind":"status","status":500}'
	put --http "$FIREHOSE_URL" --access-key "$ACCESS_KEY" --retry-seconds 5 --stats in
	expect_status 0
	peer_fault firehose '{"kind":"status","status":503}'
	put --http "$FIREHOSE_URL" --access-key "$ACCESS_KEY" --retry-seconds 5 --stats in
	expect_status 0
	cat in in > want
	once "$FIREHOSE_LOG" .data want
	[ "$faulted" -eq 0 ]
	json -s "$FIREHOSE_REQUESTS" '[.[] | [.status, .attempt]] == [[500,1],[200,2],[503,1],[200,2]] and
		.[0].requestId == .[1].requestId and .[2].requestId == .[3].requestId and .[0].requestId != .[2].requestId'
	json out ".requestId == \"$(jq -r -s '.[3].requestId' "$FIREHOSE_REQUESTS")\""
	balance err 3 3 0
	[ "$(stat err retries)" -eq 1 ]
}

@test "http: 413 fails at once: that batch dead-lettered as HttpEndpoint.ResponseStatus413, the next delivered, exit 1" {
	fh_up
	ndjson_lines 3 > in
	peer_fault firehose '{"kind":"status","status":413}'
	put --http "$FIREHOSE_URL" --access-key "$ACCESS_KEY" --max-records 2 --retry-seconds 5 --stats --errors errors in
	expect_status 1
	json -s errors '[.[] | [.line, .status, .attempts, .errorCode]] == [[1,413,1,"HttpEndpoint.ResponseStatus413"],[2,413,1,"HttpEndpoint.ResponseStatus413"]]'
	sed -n 3p in > want
	once "$FIREHOSE_LOG" .data want
	balance err 3 1 2
}

@test "http: slower than --timeout: sent again with the same request id; only the faulted acceptance repeats" {
	fh_up
	ndjson_lines 3 > in
	peer_fault firehose '{"kind":"slow","ms":2500}'
	put --http "$FIREHOSE_URL" --access-key "$ACCESS_KEY" --timeout 1 --retry-seconds 5 --stats in
	expect_status 0
	once "$FIREHOSE_LOG" .data in
	[ "$faulted" -eq 3 ]
	json -s "$FIREHOSE_LOG" '[.[] | [.attempt, .faulted]] == [[1,true],[1,true],[1,true],[2,false],[2,false],[2,false]]'
	json -s "$FIREHOSE_LOG" '[.[].requestId] | unique | length == 1'
	balance err 3 3 0
}

@test "http: a connection reset before or after the records were taken: sent again, none lost, repeats only where faulted" {
	fh_up
	ndjson_lines 3 > in
	peer_fault firehose '{"kind":"reset"}'
	put --http "$FIREHOSE_URL" --access-key "$ACCESS_KEY" --retry-seconds 5 --stats in
	expect_status 0
	once "$FIREHOSE_LOG" .data in
	[ "$faulted" -eq 0 ]
	: > "$FIREHOSE_LOG"
	peer_fault firehose '{"kind":"reset","when":"response"}'
	put --http "$FIREHOSE_URL" --access-key "$ACCESS_KEY" --retry-seconds 5 --stats in
	expect_status 0
	once "$FIREHOSE_LOG" .data in
	[ "$faulted" -eq 3 ]
	balance err 3 3 0
}

@test "http: an answer with the wrong request id is not a success: sent again; forever, dead-lettered" {
	fh_up
	ndjson_lines 3 > in
	peer_fault firehose '{"kind":"wrongRequestId"}'
	put --http "$FIREHOSE_URL" --access-key "$ACCESS_KEY" --retry-seconds 5 --stats in
	expect_status 0
	once "$FIREHOSE_LOG" .data in
	[ "$faulted" -eq 3 ]
	json -s "$FIREHOSE_REQUESTS" '[.[] | [.status, .attempt]] == [[200,1],[200,2]]'
	[ "$(stat err retries)" -eq 1 ]
	: > "$FIREHOSE_LOG"
	peer_fault firehose '{"kind":"wrongRequestId","count":-1}'
	put --http "$FIREHOSE_URL" --access-key "$ACCESS_KEY" --retry-seconds 1.5 --stats --errors errors in
	expect_status 1
	json -s errors 'length == 3 and all(.[]; .errorCode == "HttpEndpoint.InvalidResponseFromDestination" and
		.status == 200 and .attempts == 2)'
	[ "$(jq -r 'select(.faulted | not)' "$FIREHOSE_LOG")" = "" ]
	balance err 3 0 3
}

@test "http: SIGINT during a retry wait: prompt stop, dead-lettered, the counts balance" {
	fh_up
	peer_fault firehose '{"kind":"status","status":503,"count":-1}'
	bg_put --http "$FIREHOSE_URL" --access-key "$ACCESS_KEY" --max-records 2 --retry-seconds 100 --stats --errors errors
	feed '{"n":1}' '{"n":2}' '{"n":3}'
	wait_until 10 has_lines "$FIREHOSE_REQUESTS" 1
	t0=$(date +%s.%N)
	bg_wait INT
	[ "$(elapsed_since "$t0")" -le 2 ] || fail "ts-put took $(elapsed_since "$t0") s to stop"
	expect_status 1
	n=$(stat bg.err records_in)
	[ "$n" -ge 2 ] && [ "$n" -le 3 ]
	balance bg.err "$n" 0 "$n"
	json -s errors "[.[].raw] == ([\"{\\\"n\\\":1}\", \"{\\\"n\\\":2}\", \"{\\\"n\\\":3}\"] | .[:$n])"
	grep -q 'stopped by a signal' bg.err
}

@test "http: a stopping signal lets the request under way finish; a second one stops it at once" {
	fh_up
	peer_fault firehose '{"kind":"slow","ms":2000}'
	bg_put --http "$FIREHOSE_URL" --access-key "$ACCESS_KEY" --max-records 1 --timeout 30 --stats --errors errors
	feed '{"n":1}'
	wait_until 10 has_lines "$FIREHOSE_LOG" 1
	bg_wait TERM
	expect_status 0
	json bg.out '.records == 1'
	json "$FIREHOSE_LOG" '.data == "{\"n\":1}" and .faulted'
	balance bg.err 1 1 0
	: > "$FIREHOSE_LOG"
	peer_fault firehose '{"kind":"slow","ms":20000}'
	bg_put --http "$FIREHOSE_URL" --access-key "$ACCESS_KEY" --max-records 1 --timeout 30 --stats --errors errors
	feed '{"n":2}'
	wait_until 10 has_lines "$FIREHOSE_LOG" 1
	kill -TERM "$BG_PID"
	sleep 0.3
	t0=$(date +%s.%N)
	bg_wait TERM
	[ "$(elapsed_since "$t0")" -le 2 ] || fail "ts-put took $(elapsed_since "$t0") s to stop"
	expect_status 1
	json errors '.raw == "{\"n\":2}" and .error == "delivery_failed"'
	balance bg.err 1 0 1
}

# --- directory ------------------------------------------------------------------------------

@test "dir: records to DIR and file://DIR, as ts-partition writes them: the same bytes, one manifest line per file" {
	records > in.ndjson
	records_min > want
	mkdir lake lake2
	put lake --stats --errors errors in.ndjson
	expect_status 0
	[ ! -s errors ]
	lines out 1
	p=$(jq -r .path out)
	[[ $p =~ ^$KEY_RE$ ]] || fail "path $p"
	json out '.records == 3 and .partition == {}'
	cmp want "lake/$p"
	[ "$(find lake -type f | wc -l)" -eq 1 ]
	balance err 3 3 0
	put "file://$PWD/lake2" --compress gzip --max-records 2 --stats in.ndjson
	expect_status 0
	json -s out '[.[].records] == [2, 1] and all(.[]; .path | endswith(".gz"))'
	for q in $(jq -r .path out); do gzip -dc "lake2/$q"; done | cmp want -
	[ "$(find lake2 -type f | wc -l)" -eq 2 ]
	balance err 3 3 0
}

@test "dir: --max-seconds publishes a file from a quiet pipe; SIGTERM publishes what was read, nothing half-written left" {
	mkdir lake
	bg_put lake --max-seconds 1 --stats
	feed '{"q":1}'
	wait_until 5 has_lines bg.out 1
	bg_running
	[ "$(cat "lake/$(jq -r .path bg.out)")" = '{"q":1}' ]
	feed '{"q":2}' '{"q":3}'
	sleep 0.3
	bg_wait TERM
	expect_status 0
	n=$(stat bg.err records_in)
	[ "$n" -ge 1 ] && [ "$n" -le 3 ]
	balance bg.err "$n" "$n" 0
	for q in $(jq -r .path bg.out); do cat "lake/$q"; done > got
	printf '%s\n' '{"q":1}' '{"q":2}' '{"q":3}' | head -n "$n" | cmp - got
	[ "$(find lake -type f | wc -l)" -eq "$(wc -l < bg.out)" ] || fail "files: $(find lake -type f)"
}

@test "dir: --manifest copies each file under DIR at its relative path, byte for byte; files under a planted link are refused" {
	mkdir -p root/dt=1 lake planted elsewhere
	head -c 100000 /dev/urandom > root/dt=1/blob.bin
	ndjson_lines 3 > root/dt=1/recs.ndjson
	printf '%s\n' '{"path":"dt=1/blob.bin"}' '{"path":"dt=1/recs.ndjson"}' > manifest
	put --manifest --root root lake --stats manifest
	expect_status 0
	json -s out '[.[] | [.object, .path, .bytes]] == [["lake/dt=1/blob.bin", "dt=1/blob.bin", 100000],
		["lake/dt=1/recs.ndjson", "dt=1/recs.ndjson", '"$(wc -c < root/dt=1/recs.ndjson)"']]'
	cmp root/dt=1/blob.bin lake/dt=1/blob.bin
	cmp root/dt=1/recs.ndjson lake/dt=1/recs.ndjson
	[ "$(find lake -type f | wc -l)" -eq 2 ]
	balance err 2 2 0
	# A link planted in the destination refuses the files under it, not the
	# directory (exit 1); nothing is written through it.
	ln -s ../elsewhere planted/dt=1
	put --manifest --root root planted --stats --errors errors manifest
	expect_status 1
	[ -z "$(find elsewhere -type f)" ]
	json -s errors 'length == 2 and all(.[]; .error == "delivery_failed" and (.errorCode | startswith("Directory.")))'
	json -s errors '[.[].line] == [1, 2]'
	balance err 2 0 2
}

@test "dir: a destination that is not a directory is trouble: exit 2" {
	: > afile
	ndjson_lines 1 > in
	put afile in
	expect_status 2
	[ ! -s out ]
	grep -q afile err
}

# --- credentials ----------------------------------------------------------------------------

@test "s3: credentials from a profile of the shared credentials file, the endpoint from the config file: delivered" {
	s3_up
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
	printf '[default]\naws_access_key_id = AKIAWRONGDEFAULT0000\naws_secret_access_key = nope\n[put]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
		"$S3_KEY_ID" "$S3_SECRET" > credentials
	printf '[profile put]\nregion = us-east-1\ns3 =\n  endpoint_url = %s\n' "$S3_URL" > config
	export AWS_SHARED_CREDENTIALS_FILE="$PWD/credentials" AWS_CONFIG_FILE="$PWD/config" AWS_PROFILE=put
	put --show-credentials s3://bkt/p/
	expect_status 0
	json out ".source == \"shared-credentials-file\" and .profile == \"put\" and .region == \"us-east-1\" and
			.accessKeyId == \"****************3Y42\" and .endpoint == \"$S3_URL\""
	ndjson_lines 2 > want
	put s3://bkt/p/ --stats want
	expect_status 0
	s3_body "$(objects_of out)" | cmp want -
	no_secret "$S3_SECRET" out err
}

@test "s3: --show-credentials masks the key id and never shows the secret; without credentials it says why, exit 2" {
	export AWS_ACCESS_KEY_ID="$S3_KEY_ID" AWS_SECRET_ACCESS_KEY="$S3_SECRET" AWS_SESSION_TOKEN="$S3_TOKEN" AWS_REGION=eu-west-3
	put --show-credentials --endpoint http://127.0.0.1:9 s3://bkt/
	expect_status 0
	json out '.source == "environment" and .region == "eu-west-3" and .profile == "default" and
		.accessKeyId == "****************3Y42"'
	json out '.endpoint == "http://127.0.0.1:9"'
	no_secret "$S3_SECRET" out err
	no_secret "$S3_TOKEN" out err
	no_secret AKIAPUTTEST out err
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
	put --show-credentials s3://bkt/
	expect_status 2
	grep -q 'credentials' err
	# Delivering without credentials is trouble before anything is read.
	ndjson_lines 1 > in
	put --endpoint http://127.0.0.1:9 s3://bkt/ in
	expect_status 2
}

@test "s3: temporary credentials: the session token is sent (signed) and never shown, even with --verbose" {
	s3_up --session-token "$S3_TOKEN"
	ndjson_lines 2 > want
	put --endpoint "$S3_URL" s3://bkt/tok/ --verbose --stats --errors errors want
	expect_status 0
	s3_body "$(objects_of out)" | cmp want -
	grep -q 'X-Amz-Security-Token: \[hidden\]' err
	no_secret "$S3_TOKEN" out err errors
	no_secret "$S3_SECRET" out err errors
	# Without the token the proxy refuses: for good.
	unset AWS_SESSION_TOKEN
	put --endpoint "$S3_URL" s3://bkt/tok/ --errors errors want
	expect_status 2
	json -s errors 'length == 2 and all(.[]; .status >= 400 and .attempts == 1)'
	no_secret "$S3_SECRET" out err errors
}

# --- s3:// inputs -------------------------------------------------------------------------------

@test "s3:// inputs: every object under a prefix in key order, gzip objects decompressed; one key alone; an empty prefix is trouble" {
	s3_up
	mkdir -p src/c
	printf '%s\n' '{"k":"10"}' > src/10.ndjson
	printf '%s\n' '{"k":"a1"}' '{"k":"a2"}' > src/a.ndjson
	printf '%s\n' '{"k":"b"}' | gzip -n > src/b.ndjson.gz
	printf '{\n  "k": "d",\n  "v": [1, 2]\n}\n' > src/c/d.json
	for f in 10.ndjson a.ndjson b.ndjson.gz c/d.json; do s3_upload "src/$f" "in/$f"; done
	printf '%s\n' '{"k":"x"}' > inx.ndjson
	s3_upload inx.ndjson inx.ndjson
	printf '%s\n' '{"k":"10"}' '{"k":"a1"}' '{"k":"a2"}' '{"k":"b"}' '{"k":"d","v":[1,2]}' > want
	ts-decompress --endpoint "$S3_URL" s3://bkt/in/ > got
	cmp want got
	AWS_ENDPOINT_URL_S3="$S3_URL" ts-decompress s3://bkt/in/b.ndjson.gz > got
	[ "$(cat got)" = '{"k":"b"}' ]
	# Mixed with a local file, in the order named.
	status=0
	ts-decompress --endpoint "$S3_URL" inx.ndjson s3://bkt/in/c/ > got 2> err || status=$?
	expect_status 0
	printf '%s\n' '{"k":"x"}' '{"k":"d","v":[1,2]}' | cmp - got
	status=0
	ts-decompress --endpoint "$S3_URL" s3://bkt/nothing/ > got 2> err || status=$?
	expect_status 2
	grep -q 'no objects there' err
	[ ! -s got ]
}

@test "s3:// inputs: ts-extract --cwl reads gzip CloudWatch Logs payloads where they lie; ts-diff compares a prefix with a file" {
	s3_up
	payload="$DATA/cloudwatch_logs/awsdocs/decoded-payload-example1.json"
	mkdir src
	jq -c . "$payload" | gzip -n > src/part-1.gz
	jq -c '.logEvents |= map(.message = "second: " + .message)' "$payload" | gzip -n > src/part-2.gz
	s3_upload src/part-1.gz cwl/2024/part-1.gz
	s3_upload src/part-2.gz cwl/2024/part-2.gz
	for f in src/part-1.gz src/part-2.gz; do ts-extract --cwl "$f"; done > want
	[ "$(wc -l < want)" -eq 6 ]
	status=0
	ts-extract --cwl --endpoint "$S3_URL" --stats s3://bkt/cwl/ > got 2> err || status=$?
	expect_status 0
	cmp want got
	# ts-diff: the same records on S3 and locally are equal; one changed is a difference.
	jq -c '.logEvents[] | {id, message}' "$payload" > local.ndjson
	gzip -n -c local.ndjson > local.gz
	s3_upload local.gz events/one.gz
	status=0
	ts-diff --endpoint "$S3_URL" -k .id s3://bkt/events/ local.ndjson > report 2> err || status=$?
	expect_status 0
	sed '2s/Root/Other/' local.ndjson > changed.ndjson
	status=0
	ts-diff --endpoint "$S3_URL" -k .id s3://bkt/events/ changed.ndjson > report 2> err || status=$?
	expect_status 1
}

# bats test_tags=slow
@test "s3:// inputs: wrong credentials are trouble (exit 2), and the secret is not in the message" {
	s3_up
	ndjson_lines 1 > in
	put --endpoint "$S3_URL" s3://bkt/x/ in
	expect_status 0
	status=0
	AWS_SECRET_ACCESS_KEY=wrongSecretForReading ts-decompress --endpoint "$S3_URL" s3://bkt/x/ > got 2> err || status=$?
	expect_status 2
	grep -q 'SignatureDoesNotMatch\|403' err
	[ ! -s got ]
	no_secret wrongSecretForReading got err
	no_secret "$S3_SECRET" got err
}

# bats test_tags=slow
@test "s3:// inputs: more than one page of objects (ListObjectsV2 continuation), every one read in key order" {
	s3_up
	seq -w 1 1005 | sed 's/.*/{"n":"&"}/' > want
	put --endpoint "$S3_URL" s3://bkt/many/ --max-records 1 --stats want
	expect_status 0
	balance err 1005 1005 0
	# Key order is the order of the objects' names, which is not the order
	# sent; compare with the records sorted by their keys.
	paste -d ' ' <(objects_of out) want | LC_ALL=C sort | cut -d' ' -f2- > want.bykey
	ts-decompress --endpoint "$S3_URL" s3://bkt/many/ > got
	cmp want.bykey got
	json -s "$S3_LOG" '[.[] | select(.op == "ListObjectsV2")] | length >= 2'
}
