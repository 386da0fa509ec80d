#!/usr/bin/env bats
# ts-extract: CloudWatch Logs payloads from AWS SDK test suites and the
# CloudTrail documentation examples, checked against jq.

bats_require_minimum_version 1.5.0
load helpers

# to_files CMD...: CMD's standard output in ./out, standard error in ./err.
to_files() {
	"$@" > out 2> err
}

CWL="$BATS_TEST_DIRNAME/data/cloudwatch_logs"
CT="$BATS_TEST_DIRNAME/data/cloudtrail/awsdocs"
LAMBDA_EVENT="$CWL/aws-lambda-go/cloudwatch-logs-event.json"

# --- usage ------------------------------------------------------------------

@test "--help prints usage on stdout and exits 0" {
	run -0 --separate-stderr ts-extract --help
	assert_line --index 0 --regexp '^Usage: ts-extract '
	for o in --cwl --meta --meta-name --raw --records --keep-parent --fields --rename \
		--csv --tsv --columns --infer --vpc-flow --elb --alb --to-csv --to-tsv \
		--errors --stats --max-record --max-depth --help --version; do
		assert_output --partial -- "$o"
	done
	[ -z "$stderr" ]
}

@test "--version prints name and version" {
	run -0 ts-extract --version
	assert_output --regexp '^ts-extract \(ts toolkit\) [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "an unknown option exits 2 with a message on stderr only" {
	run -2 --separate-stderr ts-extract --frobnicate
	[ -z "$output" ]
	assert_equal "$(head -n 1 <<< "$stderr")" "ts-extract: unknown option '--frobnicate'"
}

@test "usage errors exit 2 and write nothing on stdout" {
	printf '{}\n' > in.json
	for args in "--meta" "--raw" "--cwl --records .Records" "--cwl --raw --meta" \
		"--cwl --raw --fields a" "--meta-name nosuch=x --cwl" "--rename a" "--rename =b" \
		"--fields a[]" "--max-depth 0" "--records .a["; do
		run -2 --separate-stderr ts-extract $args in.json
		[ -z "$output" ] || fail "$args: wrote $output"
		[[ "$stderr" == ts-extract:* ]] || fail "$args: stderr: $stderr"
	done
}

# --- --cwl: real CloudWatch Logs deliveries -----------------------------------------

@test "aws-lambda-go event: ts-decompress --field awslogs.data | ts-extract --cwl gives its two log events" {
	run -0 to_files bash -c 'set -o pipefail; ts-decompress --field awslogs.data "$1" | ts-extract --cwl' _ "$LAMBDA_EVENT"
	printf '%s\n' '{"message":"[ERROR] First test message"}' '{"message":"[ERROR] Second test message"}' > want
	cmp want out
	[ ! -s err ]
}

@test "--meta adds logGroup, logStream, owner, id and timestamp after the message fields" {
	ts-decompress --field awslogs.data "$LAMBDA_EVENT" > payload.ndjson
	run -0 to_files ts-extract --cwl --meta payload.ndjson
	printf '%s\n' \
		'{"message":"[ERROR] First test message","logGroup":"testLogGroup","logStream":"testLogStream","owner":"123456789123","id":"eventId1","timestamp":1440442987000}' \
		'{"message":"[ERROR] Second test message","logGroup":"testLogGroup","logStream":"testLogStream","owner":"123456789123","id":"eventId2","timestamp":1440442987001}' > want
	cmp want out
}

@test "--meta-name: an empty name drops a field, another name renames it (and implies --meta)" {
	ts-decompress --field awslogs.data "$LAMBDA_EVENT" > payload.ndjson
	run -0 to_files ts-extract --cwl --meta-name owner= --meta-name logGroup=group payload.ndjson
	printf '%s\n' \
		'{"message":"[ERROR] First test message","group":"testLogGroup","logStream":"testLogStream","id":"eventId1","timestamp":1440442987000}' \
		'{"message":"[ERROR] Second test message","group":"testLogGroup","logStream":"testLogStream","id":"eventId2","timestamp":1440442987001}' > want
	cmp want out
	run -0 to_files ts-extract --cwl --meta --meta-name id=eventId --meta-name timestamp=@ts \
		--meta-name logStream= --meta-name logGroup= --meta-name owner= payload.ndjson
	printf '%s\n' '{"message":"[ERROR] First test message","eventId":"eventId1","@ts":1440442987000}' \
		'{"message":"[ERROR] Second test message","eventId":"eventId2","@ts":1440442987001}' > want
	cmp want out
}

@test "--raw writes the bare messages, each ending in a newline" {
	ts-decompress --field awslogs.data "$LAMBDA_EVENT" > payload.ndjson
	run -0 to_files ts-extract --cwl --raw payload.ndjson
	printf '[ERROR] First test message\n[ERROR] Second test message\n' > want
	cmp want out
}

@test "--raw writes each message and a newline, as jq -r does, unescaping JSON strings" {
	k="$CWL/powertools-python/kinesisStreamCloudWatchLogsEvent.decoded-records.txt"
	run -0 to_files ts-extract --cwl --raw "$k"
	jq -r 'select(.messageType=="DATA_MESSAGE") | .logEvents[].message' "$k" > want
	cmp want out
	grep -q "$(printf '\tDuration: 9.14 ms\t')" out
}

@test "powertools cloudWatchLogEvent and the PolicyLevel variant (zlib, unknown field policyLevel) give the same events" {
	for f in cloudWatchLogEvent cloudWatchLogEventWithPolicyLevel; do
		ts-decompress --field awslogs.data "$CWL/powertools-python/$f.json" > "$f.ndjson"
		run -0 to_files ts-extract --cwl --meta "$f.ndjson"
		mv out "$f.out"
		[ ! -s err ]
	done
	cmp cloudWatchLogEvent.out cloudWatchLogEventWithPolicyLevel.out
	[ "$(wc -l < cloudWatchLogEvent.out)" -eq 2 ]
	# the decoded pretty-printed payload is accepted as it is
	run -0 to_files ts-extract --cwl --meta "$CWL/powertools-python/cloudWatchLogEventWithPolicyLevel.decoded.json"
	cmp cloudWatchLogEvent.out out
}

@test "Kinesis capture: one record per log event, equal to jq's" {
	k="$CWL/powertools-python/kinesisStreamCloudWatchLogsEvent.decoded-records.txt"
	run -0 to_files ts-extract --cwl "$k"
	jq -c '.logEvents[] | {message}' "$k" > want
	cmp want out
	run -0 to_files ts-extract --cwl --meta "$k"
	jq -c '. as $p | .logEvents[] | {message, logGroup: $p.logGroup, logStream: $p.logStream,
		owner: $p.owner, id, timestamp}' "$k" > want
	cmp want out
}

@test "Firehose test event: the CONTROL_MESSAGE is dropped and counted in --stats" {
	ev="$CWL/sam-firehose-cwl-processor/testEvent.json"
	run -0 to_files bash -c 'set -o pipefail; ts-decompress --field "records[].data" "$1" | ts-extract --cwl --stats' _ "$ev"
	jq -c 'select(.messageType == "DATA_MESSAGE") | .logEvents[] | {message}' \
		"$CWL/sam-firehose-cwl-processor/testEvent.decoded-records.txt" > want
	cmp want out
	run -1 grep -q CONTROL out
	[ "$(wc -l < err)" -eq 1 ]
	grep -q '"dropped":1' err
	[ "$(stat_field err records_in)" -eq 4 ]
	[ "$(stat_field err records_out)" -eq "$(wc -l < want)" ]
	[ "$(stat_field err events)" -eq "$(wc -l < want)" ]
	[ "$(stat_field err rejected)" -eq 0 ]
}

@test "--cwl: a JSON message becomes the record, other messages {\"message\": ...}, cut-short JSON stays a string" {
	cat > payload.json <<-'EOF'
	{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":[],"logEvents":[
	 {"id":"1","timestamp":1,"message":"plain text"},
	 {"id":"2","timestamp":2,"message":"{\"k\":\"v\",\"n\":[1, 2]}"},
	 {"id":"3","timestamp":3,"message":"{\"cut\":"},
	 {"id":"4","timestamp":4,"message":"[1,2]"},
	 {"id":"5","timestamp":5,"message":"caf\u00e9 \"q\"\n"}]}
	EOF
	run -0 to_files ts-extract --cwl payload.json
	printf '%s\n' '{"message":"plain text"}' '{"k":"v","n":[1,2]}' '{"message":"{\"cut\":"}' \
		'{"message":"[1,2]"}' '{"message":"caf\u00e9 \"q\"\n"}' > want
	cmp want out
	# the CloudWatch Logs documentation's own payload, whose messages are cut-short JSON
	run -0 to_files ts-extract --cwl "$CWL/awsdocs/decoded-payload-example1.json"
	jq -c '.logEvents[] | {message}' "$CWL/awsdocs/decoded-payload-example1.json" > want
	cmp want out
}

@test "--cwl with --meta: the message object's own fields win over the added ones" {
	printf '%s\n' '{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":7,"message":"{\"id\":\"mine\",\"x\":1}"}]}' > p.json
	run -0 to_files ts-extract --cwl --meta p.json
	assert_equal "$(cat out)" '{"id":"mine","x":1,"logGroup":"g","logStream":"s","owner":"o","timestamp":7}'
}

@test "--cwl errors: bad events and payloads are error records; events = out + rejected events; dropped apart" {
	cat > in.ndjson <<-'EOF'
	{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":1,"message":"a"},{"id":"2","timestamp":2,"message":42},{"id":"3","timestamp":3},{"id":"4","timestamp":4,"message":"b"}]}
	{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health"},{"id":"","timestamp":2,"message":"again"}]}
	{"not":"a payload"}
	{"logEvents":"nope"}
	{broken
	EOF
	run -1 to_files ts-extract --cwl --stats --errors errs.ndjson in.ndjson
	printf '%s\n' '{"message":"a"}' '{"message":"b"}' > want
	cmp want out
	assert_error_records errs.ndjson 5
	assert_error errs.ndjson 0 '.error == "bad_log_event" and .line == 1 and .raw == "{\"id\":\"2\",\"timestamp\":2,\"message\":42}"'
	assert_error errs.ndjson 1 '.error == "bad_log_event" and .raw == "{\"id\":\"3\",\"timestamp\":3}"'
	assert_error errs.ndjson 2 '.error == "not_cwl" and .line == 3 and .raw == "{\"not\":\"a payload\"}"'
	assert_error errs.ndjson 3 '.error == "not_cwl" and .line == 4'
	assert_error errs.ndjson 4 '.error == "bad_json" and .line == 5 and .raw == "{broken" and .file == "in.ndjson"'
	bad_events=$(jq -s 'map(select(.error == "bad_log_event")) | length' errs.ndjson)
	[ "$(stat_field err events)" -eq $(( $(stat_field err records_out) + bad_events )) ]
	[ "$(stat_field err records_out)" -eq 2 ]
	[ "$(stat_field err dropped)" -eq 2 ]
	[ "$(stat_field err rejected)" -eq 5 ]
	[ "$(stat_field err records_in)" -eq 5 ]
	grep -qx 'ts-extract: 5 records rejected, see errs.ndjson' err
}

# --- --records: CloudTrail log files -------------------------------------------

@test "CloudTrail examples explode with --records .Records into exactly their records" {
	n=0
	for f in "$CT"/0*.json; do
		case $f in */07-iam-CreateRole.json) continue ;; esac
		run -0 to_files ts-extract --records .Records "$f"
		[ ! -s err ] || fail "$f: $(cat err)"
		[ "$(wc -l < out)" -eq "$(jq '.Records | length' "$f")" ] || fail "$f: count"
		# same values as jq's (ts-extract keeps escapes such as \u003c as written)
		jq -c . out > got
		jq -c '.Records[]' "$f" > want
		cmp want got || fail "$f: content"
		n=$((n + 1))
	done
	[ "$n" -eq 7 ]
}

@test "CloudTrail records keep their bytes: compact output, key order and escapes as in the file" {
	f="$CT/04-ec2-CreateKeyPair.json"
	run -0 to_files ts-extract --records .Records "$f"
	grep -qF '"keyMaterial":"\u003csensitiveDataRemoved\u003e"' out
	# compact: no whitespace outside strings, the same as jq -c modulo escapes
	[ "$(jq -c . out)" = "$(jq -c '.Records[]' "$f")" ]
	[ "$(jq -r 'keys_unsorted | join(",")' out)" = "$(jq -r '.Records[0] | keys_unsorted | join(",")' "$f")" ]
}

@test "07-iam-CreateRole.json, invalid JSON as printed in the docs: one bad_json error record with the file's exact bytes" {
	f="$CT/07-iam-CreateRole.json"
	run ! jq . "$f"
	run -1 to_files ts-extract --records .Records "$f"
	[ ! -s out ]
	assert_error_records err 1
	assert_error err 0 ".error == \"bad_json\" and .file == \"$f\" and .line == 1"
	if [ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" = '\n' ]; then
		head -c -1 "$f" > want
	else
		cp "$f" want
	fi
	assert_raw err 0 want
}

@test "all CloudTrail examples in one run: the good ones flow, the bad one is one error record, exit 1" {
	run -1 to_files ts-extract --stats --records .Records "$CT"/0*.json
	want=0
	for f in "$CT"/0*.json; do
		want=$((want + $(jq '.Records | length' "$f" 2> /dev/null || echo 0)))
	done
	[ "$(wc -l < out)" -eq "$want" ]
	[ "$(grep -c '"error"' err)" -eq 1 ]
	grep '"error"' err | jq -e '.error == "bad_json" and (.file | endswith("07-iam-CreateRole.json"))' > /dev/null
	[ "$(stat_field err records_in)" -eq 8 ]
	[ "$(stat_field err rejected)" -eq 1 ]
}

@test "--keep-parent copies parent fields after the record's own; the record's own field wins" {
	printf '%s\n' '{"acct":"1","region":"eu","Records":[{"a":1},{"a":2,"region":"own"}]}' > env.json
	run -0 to_files ts-extract --records .Records --keep-parent acct,region,absent env.json
	printf '%s\n' '{"a":1,"acct":"1","region":"eu"}' '{"a":2,"region":"own","acct":"1"}' > want
	cmp want out
}

@test "--keep-parent with CloudTrail: each record gets the file-level field" {
	f="$CT/09-insights-UpdateInstanceInformation.json"
	jq -c '. + {"digest":"d1"}' "$f" > with-digest.json
	run -0 to_files ts-extract --records .Records --keep-parent digest --fields eventType,eventTime with-digest.json
	jq -c '.Records[] | {eventType, eventTime, digest: "d1"}' "$f" > want
	cmp want out
}

@test "--fields keeps only the named fields, in the order given, nested paths named by their last key" {
	printf '%s\n' '{"a":1,"b":{"c":2,"d":3},"e":4}' '{"e":5}' > in.json
	run -0 to_files ts-extract --fields e,b.c,a,zz in.json
	printf '%s\n' '{"e":4,"c":2,"a":1}' '{"e":5}' > want
	cmp want out
}

@test "--fields with CloudTrail: the usual columns" {
	f="$CT/02-ec2-StartInstances.json"
	run -0 to_files ts-extract --records .Records --fields eventTime,eventName,awsRegion,userIdentity.accountId "$f"
	jq -c '.Records[] | {eventTime, eventName, awsRegion, accountId: .userIdentity.accountId}' "$f" > want
	cmp want out
}

@test "--rename renames output fields, after --fields and --keep-parent" {
	printf '%s\n' '{"p":"x","R":[{"a":1,"b":2}]}' > in.json
	run -0 to_files ts-extract --records .R --keep-parent p --rename a=A,p=parent,nosuch=y in.json
	assert_equal "$(cat out)" '{"A":1,"b":2,"parent":"x"}'
	run -0 to_files ts-extract --fields b --rename b=beta in.json
	assert_equal "$(cat out)" '{}'
	printf '{"b":"v"}\n' > b.json
	run -0 to_files ts-extract --fields b --rename b=beta b.json
	assert_equal "$(cat out)" '{"beta":"v"}'
}

@test "not_an_object: a record that is not an object cannot have fields selected or added" {
	printf '%s\n' '{"R":[{"a":1},5,"s",[1],null,{"a":2}]}' > in.json
	run -1 to_files ts-extract --records .R --fields a in.json
	printf '%s\n' '{"a":1}' '{"a":2}' > want
	cmp want out
	assert_error_records err 4
	assert_error err 0 '.error == "not_an_object" and .raw == "5" and .line == 1'
	assert_error err 1 '.error == "not_an_object" and .raw == "\"s\""'
	assert_error err 2 '.error == "not_an_object" and .raw == "[1]"'
	assert_error err 3 '.error == "not_an_object" and .raw == "null"'
	# without field selection any value passes through
	run -0 to_files ts-extract --records .R in.json
	printf '%s\n' '{"a":1}' 5 '"s"' '[1]' null '{"a":2}' > want
	cmp want out
	# top-level values that are not objects, with --rename
	printf '[1,2]\n{"a":1}\n' > top.json
	run -1 to_files ts-extract --rename a=b top.json
	assert_equal "$(cat out)" '{"b":1}'
	assert_error err 0 '.error == "not_an_object" and .raw == "[1,2]"'
}

@test "--records: a missing array is missing_field, a value that is not an array not_an_array, [] is fine" {
	printf '%s\n' '{"id":1,"Records":[{"x":1}]}' '{"id":2}' '{"id":3,"Records":"x"}' '{"id":4,"Records":[]}' > in.json
	run -1 to_files ts-extract --records .Records in.json
	assert_equal "$(cat out)" '{"x":1}'
	assert_error_records err 2
	assert_error err 0 '.error == "missing_field" and .line == 2 and .raw == "{\"id\":2}"'
	assert_error err 1 '.error == "not_an_array" and .line == 3 and .raw == "{\"id\":3,\"Records\":\"x\"}"'
}

@test "--records with a pretty-printed multi-record file on standard input" {
	f="$CT/09-insights-UpdateInstanceInformation.json"
	run -0 to_files sh -c 'ts-extract --records .Records < "$1"' _ "$f"
	jq -c . out > got
	jq -c '.Records[]' "$f" > want
	cmp want got
	[ "$(wc -l < out)" -eq 2 ]
}

# --- malformed input and accounting ------------------------------------------------

@test "malformed JSON lines: file, line and exact bytes in the error records; good records flow; counts add up" {
	printf '{"a":1}\n{"b":2,,}\n{"c":3}\n{"d" 4}\r\n["e"}\n{"f":6}\n' > in.ndjson
	run -1 to_files ts-extract --stats in.ndjson
	printf '%s\n' '{"a":1}' '{"c":3}' '{"f":6}' > want
	cmp want out
	grep '"error"' err > errs.ndjson
	assert_error_records errs.ndjson 3
	assert_error errs.ndjson 0 '.error == "bad_json" and .file == "in.ndjson" and .line == 2 and .program == "ts-extract"'
	assert_error errs.ndjson 1 '.line == 4'
	assert_error errs.ndjson 2 '.line == 5'
	for i in 0 1 2; do
		line=$(jq -s ".[$i].line" errs.ndjson)
		sed -n "${line}p" in.ndjson | head -c -1 > want.raw # a CR stays
		assert_raw errs.ndjson "$i" want.raw
	done
	[ "$(stat_field err records_in)" -eq 6 ]
	[ "$(stat_field err records_in)" -eq $(( $(stat_field err records_out) + $(stat_field err rejected) )) ]
}

@test "a truncated NDJSON line does not swallow the good lines after it" {
	printf '{"a":1}\n{"b":2,"cut":\n{"c":3}\n{"d":4}\n{"e":\n{"f":6}\n' > in.ndjson
	run -1 to_files ts-extract in.ndjson
	printf '%s\n' '{"a":1}' '{"c":3}' '{"d":4}' '{"f":6}' > want
	cmp want out || fail "good records lost into error records: $(cat err)"
	assert_error_records err 2
	assert_error err 0 '.line == 2 and .raw == "{\"b\":2,\"cut\":"'
	assert_error err 1 '.line == 5 and .raw == "{\"e\":"'
}

@test "--errors FILE appends and leaves one summary line on stderr" {
	printf 'x\n{"ok":true}\ny\n' > in.ndjson
	: > errs.ndjson
	run -1 to_files ts-extract --errors errs.ndjson in.ndjson
	assert_equal "$(cat out)" '{"ok":true}'
	assert_equal "$(cat err)" "ts-extract: 2 records rejected, see errs.ndjson"
	assert_error_records errs.ndjson 2
	run -1 to_files ts-extract --errors errs.ndjson in.ndjson
	assert_error_records errs.ndjson 4
	run -2 to_files ts-extract --errors /nonexistent-dir/errs in.ndjson
	grep -q "/nonexistent-dir/errs" err
}

@test "a 10 MB line passes; with --max-record 1M it is too_large, truncated, and the next line comes out" {
	{ printf '{"a":1}\n{"big":"'; head -c 10000000 /dev/zero | tr '\0' a; printf '"}\n{"b":2}\n'; } > long.ndjson
	run -0 to_files ts-extract long.ndjson
	cmp long.ndjson out
	run -1 to_files ts-extract --max-record 1M long.ndjson
	printf '{"a":1}\n{"b":2}\n' > want
	cmp want out
	assert_error_records err 1
	assert_error err 0 '.error == "too_large" and .truncated == true and .line == 2'
}

@test "--max-depth: nesting deeper than the limit is an error record" {
	printf '{"a":[[[1]]]}\n{"b":1}\n' > in.json
	run -1 to_files ts-extract --max-depth 3 in.json
	assert_equal "$(cat out)" '{"b":1}'
	assert_error err 0 '.error == "bad_json" and .line == 1'
	run -0 to_files ts-extract --max-depth 4 in.json
}

@test "empty input: no output, exit 0" {
	: > empty
	for args in "" "--cwl" "--records .Records" "--cwl --raw"; do
		run -0 to_files ts-extract $args empty
		[ ! -s out ]
		[ ! -s err ]
		run -0 to_files sh -c "ts-extract $args < /dev/null"
		[ ! -s out ]
		[ ! -s err ]
	done
}

@test "CRLF line endings are accepted and a UTF-8 BOM at the start is skipped" {
	printf '\xef\xbb\xbf{"a":1}\r\n{"b":"\xc3\xa9"}\r\n' > in.json
	run -0 to_files ts-extract in.json
	printf '{"a":1}\n{"b":"\xc3\xa9"}\n' > want
	cmp want out
	printf '\xef\xbb\xbf{"R":[{"x":1}]}\r\n' > r.json
	run -0 to_files ts-extract --records .R r.json
	assert_equal "$(cat out)" '{"x":1}'
}

@test "binary garbage does not crash: exit 0 or 1, never more" {
	garbage 100000 > g.bin
	{ printf '{"Records":['; garbage 50000; } > g2.bin
	for f in g.bin g2.bin; do
		for args in "" "--cwl" "--cwl --raw" "--cwl --meta" "--records .Records" "--fields a --rename a=b"; do
			run to_files ts-extract $args "$f"
			[ "$status" -le 1 ] || fail "$f $args: exit $status: $(head -c 300 err)"
			case $args in *--raw*) continue ;; esac
			[ ! -s out ] || jq -e -s . out > /dev/null || fail "$f $args: output is not JSON"
		done
	done
}

@test "a missing file exits 2 with a message naming it; other files are still read" {
	printf '{"a":1}\n' > ok.json
	run -2 to_files ts-extract ok.json missing.json
	assert_equal "$(cat out)" '{"a":1}'
	grep -q "missing.json" err
}

@test "writing to a closed pipe is quiet" {
	ndjson_lines 300000 > big.ndjson
	run -0 bash -c 'ts-extract big.ndjson 2> err | head -n 1 > first; echo "${PIPESTATUS[0]}" > st'
	assert_equal "$(cat first)" '{"n":1,"s":"record 1"}'
	[ ! -s err ] || fail "stderr: $(cat err)"
	st=$(cat st)
	[ "$st" -eq 141 ] || [ "$st" -eq 0 ]
	run -0 bash -c 'trap "" PIPE; ts-extract big.ndjson 2> err | head -n 1 > /dev/null; echo "${PIPESTATUS[0]}" > st'
	[ ! -s err ] || fail "stderr: $(cat err)"
	assert_equal "$(cat st)" 0
}

@test "output to /dev/full exits 2 with a write error on stderr" {
	[ -w /dev/full ] || skip "no /dev/full"
	printf '{"a":1}\n' > in.json
	run -2 --separate-stderr sh -c 'ts-extract in.json > /dev/full'
	assert_equal "$stderr" "ts-extract: write error on standard output: No space left on device"
	ndjson_lines 100000 > big.ndjson
	run -2 --separate-stderr sh -c 'ts-extract big.ndjson > /dev/full'
	[[ "$stderr" == *"write error"* ]]
	run -2 --separate-stderr sh -c 'printf "x\n" | ts-extract --errors /dev/full'
	[[ "$stderr" == *"write error on error output /dev/full"* ]]
}

@test "the pipeline is deterministic: same input, same bytes" {
	ev="$CWL/sam-firehose-cwl-processor/testEvent.json"
	ts-decompress --field 'records[].data' "$ev" | ts-extract --cwl --meta > one
	ts-decompress --field 'records[].data' "$ev" | ts-extract --cwl --meta > two
	cmp one two
	[ -s one ]
}

@test "--records .Records[] is the same as .Records: empty arrays give nothing, a string is not_an_array" {
	printf '{"Records":[]}\n{"Records":"x"}\n{"a":1}\n{"Records":[{"b":1}]}\n' > in.json
	run -1 to_files ts-extract --records '.Records[]' in.json
	assert_equal "$(cat out)" '{"b":1}'
	assert_equal "$(jq -r .error err | tr '\n' ' ')" "not_an_array missing_field "
}

# --- damaged input: nothing leaks, nothing counted twice -------------------------

@test "'{\"a\":1} junk' on one line: the value comes out, the error record holds only the junk" {
	printf '{"a":1} junk\n{"b":2}\n' > in.json
	run -1 to_files ts-extract --stats in.json
	printf '%s\n' '{"a":1}' '{"b":2}' > want
	cmp want out
	grep '"error"' err > errs
	assert_error_records errs 1
	assert_error errs 0 '.error == "bad_json" and .raw == "junk" and .line == 1'
	[ "$(stat_field err records_in)" -eq 3 ]
	# a value cut short after a good one on the same line: only its bytes,
	# and the next line is not swallowed
	printf '%s\n' '{"a":1} {"b"' '{"z":0}' > cut.json
	run -1 to_files ts-extract cut.json
	printf '%s\n' '{"a":1}' '{"z":0}' > want
	cmp want out
	assert_error err 0 '.error == "bad_json" and .raw == "{\"b\"" and .line == 1'
}

@test "a pretty-printed value deeper than --max-depth is rejected whole: no inner fragment comes out" {
	{
		echo '{"ok":1}'
		printf '{"a":'; for i in $(seq 40); do printf '[\n'; done; printf '{"inner":1}'
		for i in $(seq 40); do printf '\n]'; done; echo '}'
		echo '{"ok":2}'
	} > deep.json
	run -1 to_files ts-extract --max-depth 10 --stats deep.json
	printf '%s\n' '{"ok":1}' '{"ok":2}' > want
	cmp want out
	grep '"error"' err > errs
	assert_error_records errs 1
	assert_error errs 0 '.error == "bad_json" and .line == 2'
}

@test "record shaping: a --rename target that is not UTF-8 is a usage error; --meta values are compact; a shallow --max-depth still reads a flat payload" {
	run -2 --separate-stderr ts-extract --rename $'a=\xff' /dev/null
	echo '{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","message":"m","timestamp":[ 1 ]}]}' > ws.json
	run -0 --separate-stderr ts-extract --cwl --meta --meta-name id= ws.json
	assert_output '{"message":"m","timestamp":[1]}'
	echo '{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","timestamp":1,"message":"m"}]}' > flat.json
	run -0 --separate-stderr ts-extract --cwl --max-depth 3 flat.json
	assert_output '{"message":"m"}'
}

# --- CSV and TSV ---------------------------------------------------------------

@test "--csv: a header row names the fields; quoted commas, doubled quotes, line breaks, CRLF, BOM and empty lines" {
	cd "$BATS_TEST_TMPDIR"
	printf '\xef\xbb\xbfid,name,note\r\n1,"Smith, J","said ""hi"""\r\n\r\n2,Ann,"two\nlines"\r\n3,,\n' > in.csv
	run -0 --separate-stderr ts-extract --csv --stats in.csv
	assert_equal "${lines[0]}" '{"id":"1","name":"Smith, J","note":"said \"hi\""}'
	assert_equal "${lines[1]}" '{"id":"2","name":"Ann","note":"two\nlines"}'
	assert_equal "${lines[2]}" '{"id":"3","name":"","note":""}'
	[ "${#lines[@]}" -eq 3 ]
	[[ "$stderr" == *'"records_in":3,"records_out":3,"rejected":0,"rows":3'* ]]
}

@test "--csv --infer: numbers with the digits written, booleans, null for empty; quoted fields stay strings" {
	cd "$BATS_TEST_TMPDIR"
	printf 'a,b,c,d,e,f,g,h\n100.50,-0,1e-3,007,+1,TRUE,,"12"\n' > in.csv
	run -0 ts-extract --csv --infer in.csv
	assert_output '{"a":100.50,"b":-0,"c":1e-3,"d":"007","e":"+1","f":true,"g":null,"h":"12"}'
	printf 'n\n12345678901234567890123.4500\n' > big.csv
	run -0 ts-extract --csv --infer big.csv
	assert_output '{"n":12345678901234567890123.4500}'
}

@test "--csv: a malformed row is an error record with its line and bytes; the rows after it are read; --stats balances" {
	cd "$BATS_TEST_TMPDIR"
	printf 'a,b\n1,2\n3\n"x"y,4\n5,6\n7,"never closed\n8,9\n' > in.csv
	run -1 --separate-stderr ts-extract --csv --errors errors --stats in.csv
	assert_equal "$output" "$(printf '%s\n' '{"a":"1","b":"2"}' '{"a":"5","b":"6"}')"
	run -0 jq -c '[.error, .line, .raw]' errors
	assert_equal "${lines[0]}" '["bad_csv",3,"3"]'
	assert_equal "${lines[1]}" '["bad_csv",4,"\"x\"y,4"]'
	assert_equal "${lines[2]}" '["bad_csv",6,"7,\"never closed\n8,9\n"]'
	run -0 jq -r .message errors
	assert_line --index 0 'in.csv:3: 1 field, the header has 2'
	[[ "$stderr" == *'"records_in":5,"records_out":2,"rejected":3'* ]]
}

@test "--tsv: tabs separate, escapes decode, quotes are data; --columns names headerless rows" {
	cd "$BATS_TEST_TMPDIR"
	printf 'k\tv\nx\ta\\tb\\nc\\\\\n"q"\t1\n' > in.tsv
	run -0 ts-extract --tsv --infer in.tsv
	assert_line --index 0 '{"k":"x","v":"a\tb\nc\\"}'
	assert_line --index 1 '{"k":"\"q\"","v":1}'
	printf '1,2\n3,4\n' > nohdr.csv
	run -0 ts-extract --csv --columns x,y nohdr.csv
	assert_output "$(printf '%s\n' '{"x":"1","y":"2"}' '{"x":"3","y":"4"}')"
}

@test "--csv: each input has its own header; gzip input; repeated and empty names; --fields and --rename apply" {
	cd "$BATS_TEST_TMPDIR"
	printf 'a,b\n1,2\n' | gzip > one.csv.gz
	printf 'c,c,\n9,8,7\n' > two.csv
	run -0 ts-extract --csv one.csv.gz two.csv
	assert_output "$(printf '%s\n' '{"a":"1","b":"2"}' '{"c":"9","c_2":"8","3":"7"}')"
	run -0 ts-extract --csv --fields a --rename a=A one.csv.gz
	assert_output '{"A":"1"}'
}

@test "--csv usage: not with --cwl or --records; --infer and --columns need it" {
	run -2 ts-extract --csv --cwl /dev/null
	run -2 ts-extract --tsv --records .R /dev/null
	run -2 ts-extract --infer /dev/null
	run -2 ts-extract --columns a /dev/null
}

@test "--csv agrees with Python's csv module on generated files (quotes, commas, line breaks, unicode)" {
	[ -x /usr/bin/python3 ] || skip "no python3"
	cd "$BATS_TEST_TMPDIR"
	/usr/bin/python3 - <<'PY'
import csv, json, random
random.seed(7)
alphabet = ['a', 'b', ',', '"', '\n', '\r\n', ' ', 'é', '日', '\t', "'", 'x' * 5]
with open('gen.csv', 'w', newline='') as f:
    w = csv.writer(f, lineterminator='\r\n')
    cols = ['id', 'text', 'more']
    w.writerow(cols)
    for i in range(2000):
        row = [str(i)] + [''.join(random.choice(alphabet) for _ in range(random.randint(0, 8)))
                          for _ in range(2)]
        w.writerow(row)
with open('gen.csv', newline='') as f, open('want', 'w') as out:
    for r in csv.DictReader(f):
        out.write(json.dumps(r, ensure_ascii=False, separators=(',', ':')) + '\n')
PY
	run -0 ts-extract --csv gen.csv
	printf '%s\n' "$output" > got
	cmp <(jq -c -S . want) <(jq -c -S . got)
	[ "$(wc -l < got)" -eq 2000 ]
}

# --- --to-csv, --to-tsv -----------------------------------------------------

@test "--to-csv: a header row as given, then one CRLF row per record: strings, numbers as written, booleans, null and missing empty, containers as compact JSON" {
	printf '%s\n' '{"a":"x,y","b":1.50,"c":{"d":[1, 2]},"e":null,"f":true,"g":" sp","h":"q\"uote\nnl","i":"plain"}' > in.json
	run -0 to_files ts-extract --to-csv a,b,c,e,f,g,h,missing,c.d,i in.json
	printf 'a,b,c,e,f,g,h,missing,c.d,i\r\n"x,y",1.50,"{""d"":[1,2]}",,true," sp","q""uote\nnl",,"[1,2]",plain\r\n' > want
	cmp want out
	[ ! -s err ]
}

@test "--to-csv: empty input gives the header alone; --stats counts rows, not the header" {
	run -0 --separate-stderr ts-extract --to-csv 'a,."b c"' --stats /dev/null
	assert_equal "$output" "$(printf 'a,".""b c"""\r')"
	[[ "$stderr" == *'"records_in":0,"records_out":0,"rejected":0'* ]]
}

@test "--to-csv: records that are not objects are error records in NDJSON; the rows still come; --stats balances" {
	printf '%s\n' '{"a":1}' '[1]' '"s"' '{"a":2' '{"a":3}' > in.json
	run -1 to_files ts-extract --to-csv a --errors errs --stats in.json
	printf 'a\r\n1\r\n3\r\n' > want
	cmp want out
	run -0 jq -c '[.error, .line]' errs
	assert_output "$(printf '%s\n' '["not_an_object",2]' '["not_an_object",3]' '["bad_json",4]')"
	assert_equal "$(stat_field err records_in)" 5
	assert_equal "$(stat_field err records_out)" 2
	assert_equal "$(stat_field err rejected)" 3
}

@test "--to-csv applies to the record --fields and --rename leave" {
	printf '%s\n' '{"a":1,"b":2,"c":3}' > in.json
	run -0 ts-extract --fields a,b --rename a=x --to-csv x,b,c in.json
	assert_output "$(printf 'x,b,c\r\n1,2,\r')"
}

@test "--to-csv after --cwl (with --meta), --records and --csv" {
	ts-decompress --field awslogs.data "$LAMBDA_EVENT" > payload.ndjson
	run -0 to_files ts-extract --cwl --meta --to-csv timestamp,id,message payload.ndjson
	printf 'timestamp,id,message\r\n1440442987000,eventId1,[ERROR] First test message\r\n1440442987001,eventId2,[ERROR] Second test message\r\n' > want
	cmp want out
	f="$CT/02-ec2-StartInstances.json"
	run -0 to_files ts-extract --records .Records --to-csv eventName,userIdentity.accountId,requestParameters.instancesSet "$f"
	{ printf 'eventName,userIdentity.accountId,requestParameters.instancesSet\r\n'
	  jq -r '.Records[] | [.eventName, .userIdentity.accountId, (.requestParameters.instancesSet | tojson)] | @csv' "$f" |
		sed 's/^"\([^"]*\)","\([^"]*\)",/\1,\2,/; s/$/\r/'; } > want
	cmp want out
	printf 'id,name\n1,"Smith, J"\n' > in.csv
	run -0 ts-extract --csv --to-csv name,id in.csv
	assert_output "$(printf 'name,id\r\n"Smith, J",1\r')"
}

@test "--to-tsv: tab, newline, CR and backslash escaped as lib/csv reads them: ts-extract --tsv gives the strings back" {
	printf '%s\n' '{"k":"a\tb","v":"l1\nl2\r\\x","n":7}' '{"k":"\"q\"","v":"","n":null}' > in.json
	run -0 to_files ts-extract --to-tsv k,v,n in.json
	printf 'k\tv\tn\na\\tb\tl1\\nl2\\r\\\\x\t7\n"q"\t\t\n' > want
	cmp want out
	run -0 ts-extract --tsv out
	assert_output "$(printf '%s\n' '{"k":"a\tb","v":"l1\nl2\r\\x","n":"7"}' '{"k":"\"q\"","v":"","n":""}')"
}

@test "--to-csv usage: one of --to-csv/--to-tsv, no [] paths, not with --raw, a list needed" {
	run -2 ts-extract --to-csv a --to-tsv b /dev/null
	run -2 ts-extract --to-csv '.a[]' /dev/null
	run -2 ts-extract --to-csv ',' /dev/null
	run -2 ts-extract --cwl --raw --to-csv a /dev/null
	run -2 --separate-stderr ts-extract --to-csv '.a[' /dev/null
	[[ "$stderr" == *"--to-csv:"* ]]
}

@test "--to-csv round trip: Python's csv module reads exactly the values; ts-extract --csv gives the strings back" {
	[ -x /usr/bin/python3 ] || skip "no python3"
	/usr/bin/python3 - <<'PY'
import json, random
random.seed(11)
alphabet = ['a', 'b', ',', '"', '\n', '\r\n', '\r', ' ', 'é', '日', '\t', "'", '\\', 'x' * 5]
with open('in.json', 'w') as f:
    for i in range(2000):
        s = ''.join(random.choice(alphabet) for _ in range(random.randint(0, 8)))
        r = {'id': i, 's': s, 'num': random.choice([0, -1, 2.5, 10**20, 1e-7]),
             'b': random.choice([True, False, None]), 'o': {'k': [s, 1]}}
        if i % 7 == 0:
            del r['s']
        f.write(json.dumps(r, ensure_ascii=False) + '\n')
PY
	run -0 ts-extract --to-csv id,s,num,b,o in.json
	printf '%s\n' "$output" > out.csv
	/usr/bin/python3 - <<'PY'
import csv, json
def text(v):
    if v is None: return ''
    if v is True: return 'true'
    if v is False: return 'false'
    if isinstance(v, str): return v
    return json.dumps(v, ensure_ascii=False, separators=(',', ':'))
want = [['id', 's', 'num', 'b', 'o']]
with open('in.json', encoding='utf-8') as f:
    for line in f:
        r = json.loads(line)
        raw = json.loads(line, parse_float=str, parse_int=str)
        want.append([raw['id'], text(r.get('s')), raw['num'], text(r['b']), text(r['o'])])
with open('out.csv', newline='', encoding='utf-8') as f:
    got = list(csv.reader(f))
assert got == want, next((i, g, w) for i, (g, w) in enumerate(zip(got, want)) if g != w) if len(got) == len(want) else (len(got), len(want))
PY
	# and back: every string as it was
	run -0 ts-extract --csv out.csv
	printf '%s\n' "$output" | jq -c '.s' > got
	jq -c '.s // ""' in.json > want
	cmp want got
}

# --- --vpc-flow -------------------------------------------------------------

AWSLOG="$BATS_TEST_DIRNAME/data/awslog"

# vpc_oracle FILE...: each file's records as Python reads the documentation:
# the first line names the fields, words split at spaces, "-" null, the
# integer fields of AWS's Athena table as numbers.
vpc_oracle() {
	/usr/bin/python3 - "$@" <<'PY'
import json, sys
ints = {'version', 'srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start', 'end',
        'tcp-flags', 'traffic-path'}
for path in sys.argv[1:]:
    with open(path) as f:
        names = f.readline().split()
        for line in f:
            w = line.split()
            if len(w) != len(names):
                continue
            print(json.dumps({k: None if v == '-' else int(v) if k in ints else v
                              for k, v in zip(names, w)}, sort_keys=True, separators=(",", ":")))
PY
}

@test "--vpc-flow: every documentation example, value by value; the header line names the fields" {
	[ -x /usr/bin/python3 ] || skip "no python3"
	for f in default-format-v2 custom-tcp-flags-v3 custom-tgw-v3 custom-v5-traffic-path; do
		run -0 to_files ts-extract --vpc-flow --stats "$AWSLOG/$f.log"
		jq -c -S . out > got
		vpc_oracle "$AWSLOG/$f.log" > want
		cmp want got || { echo "$f"; diff want got; return 1; }
		n=$(($(wc -l < "$AWSLOG/$f.log") - 1))
		assert_equal "$(stat_field err lines)" "$n"
		assert_equal "$(stat_field err records_out)" "$n"
	done
}

@test "--vpc-flow: the default format, exactly: numbers, strings, NODATA and SKIPDATA kept with their nulls" {
	run -0 to_files ts-extract --vpc-flow "$AWSLOG/default-format-v2.log"
	assert_equal "$(sed -n 1p out)" '{"version":2,"account-id":"123456789010","interface-id":"eni-1235b8ca123456789","srcaddr":"172.31.16.139","dstaddr":"172.31.16.21","srcport":20641,"dstport":22,"protocol":6,"packets":20,"bytes":4249,"start":1418530010,"end":1418530070,"action":"ACCEPT","log-status":"OK"}'
	assert_equal "$(sed -n 3p out)" '{"version":2,"account-id":"123456789010","interface-id":"eni-1235b8ca123456789","srcaddr":null,"dstaddr":null,"srcport":null,"dstport":null,"protocol":null,"packets":null,"bytes":null,"start":1431280876,"end":1431280934,"action":null,"log-status":"NODATA"}'
	assert_equal "$(sed -n 4p out | jq -c '[."interface-id", ."log-status", .bytes]')" '["eni-11111111aaaaaaaaa","SKIPDATA",null]'
	assert_equal "$(sed -n 7p out | jq -c '[.srcaddr, .dstaddr, .srcport]')" '["2001:db8:1234:a100:8d6e:3477:df66:f105","2001:db8:1234:a102:3304:8879:34cf:4071",34892]'
	# without a header line: the default format; the same records
	tail -n +2 "$AWSLOG/default-format-v2.log" > nohdr.log
	run -0 ts-extract --vpc-flow nohdr.log
	printf '%s\n' "$output" | cmp - out
}

@test "--vpc-flow: the NAT gateway example: a header without version, nulls, and the page's two annotated lines are bad_log_line with file, line and bytes" {
	run -1 to_files ts-extract --vpc-flow --errors errs --stats "$AWSLOG/custom-nat-gateway.log"
	assert_equal "$(wc -l < out)" 4
	assert_equal "$(sed -n 1p out)" '{"instance-id":null,"interface-id":"eni-1235b8ca123456789","srcaddr":"10.0.1.5","dstaddr":"10.0.0.220","pkt-srcaddr":"10.0.1.5","pkt-dstaddr":"203.0.113.5"}'
	assert_error_records errs 2
	assert_error errs 0 '.error == "bad_log_line" and .line == 6 and (.file | endswith("custom-nat-gateway.log")) and (.message | endswith(":6: 16 fields, the header has 6"))'
	assert_equal "$(jq -r .raw errs | sed -n 1p)" "$(sed -n 6p "$AWSLOG/custom-nat-gateway.log")"
	assert_equal "$(stat_field err records_in)" 6
	assert_equal "$(stat_field err lines)" 6
	assert_equal "$(stat_field err records_out)" 4
	assert_equal "$(stat_field err rejected)" 2
}

@test "--vpc-flow: a header line in the middle switches the names; each input starts with the default format; gzip input" {
	{ printf '2 111 eni-a - - - - - - - 1 2 - NODATA\n'
	  printf 'version srcport action\n3 80 ACCEPT\n'
	  printf 'srcaddr bytes\n10.0.0.1 99\n'; } > a.log
	printf '2 222 eni-b 1.1.1.1 2.2.2.2 1 2 6 3 4 5 6 REJECT OK\n' | gzip > b.log.gz
	run -0 to_files ts-extract --vpc-flow --stats a.log b.log.gz
	printf '%s\n' \
		'{"version":2,"account-id":"111","interface-id":"eni-a","srcaddr":null,"dstaddr":null,"srcport":null,"dstport":null,"protocol":null,"packets":null,"bytes":null,"start":1,"end":2,"action":null,"log-status":"NODATA"}' \
		'{"version":3,"srcport":80,"action":"ACCEPT"}' \
		'{"srcaddr":"10.0.0.1","bytes":99}' \
		'{"version":2,"account-id":"222","interface-id":"eni-b","srcaddr":"1.1.1.1","dstaddr":"2.2.2.2","srcport":1,"dstport":2,"protocol":6,"packets":3,"bytes":4,"start":5,"end":6,"action":"REJECT","log-status":"OK"}' > want
	cmp want out
	assert_equal "$(stat_field err records_in)" 4
	assert_equal "$(stat_field err lines)" 4
}

@test "--vpc-flow: numbers only where AWS has integers; account ids keep leading zeros; odd numbers stay strings; unknown fields after version are strings" {
	printf 'version account-id srcport bytes future-field\n2 012345678901 007 -5 12\n' > in.log
	run -0 ts-extract --vpc-flow in.log
	assert_output '{"version":2,"account-id":"012345678901","srcport":"007","bytes":-5,"future-field":"12"}'
}

@test "--vpc-flow: CRLF lines, runs of spaces, blank lines, no trailing newline, a BOM" {
	printf '\xef\xbb\xbfversion srcport  dstport\r\n\r\n  2   80 443 \r\n\n2 - 22' > in.log
	run -0 --separate-stderr ts-extract --vpc-flow --stats in.log
	assert_output "$(printf '%s\n' '{"version":2,"srcport":80,"dstport":443}' '{"version":2,"srcport":null,"dstport":22}')"
	[[ "$stderr" == *'"records_in":2,"records_out":2,"rejected":0,"lines":2'* ]]
}

@test "--vpc-flow: malformed lines are error records (line number, bytes, CR left out); good lines flow; --stats balances" {
	printf 'version srcport action\r\n2 80 ACCEPT\r\n2 80\r\n2 80 ACCEPT extra\r\n2 \xff ACCEPT\r\n2 81 REJECT\r\n' > in.log
	run -1 to_files ts-extract --vpc-flow --errors errs --stats in.log
	assert_equal "$(cat out)" "$(printf '%s\n' '{"version":2,"srcport":80,"action":"ACCEPT"}' '{"version":2,"srcport":81,"action":"REJECT"}')"
	assert_error_records errs 3
	run -0 jq -c '[.error, .line, .raw // .raw_base64]' errs
	assert_line --index 0 '["bad_log_line",3,"2 80"]'
	assert_line --index 1 '["bad_log_line",4,"2 80 ACCEPT extra"]'
	assert_line --index 2 '["bad_log_line",5,"MiD/IEFDQ0VQVA=="]'
	run -0 jq -r .message errs
	assert_line --index 0 'in.log:3: 2 fields, the header has 3'
	assert_line --index 2 'in.log:5: not UTF-8'
	assert_equal "$(stat_field err records_in)" 5
	assert_equal "$(( $(stat_field err records_out) + $(stat_field err rejected) ))" 5
}

@test "--vpc-flow: a line over --max-record is too_large, truncated; the next line comes out" {
	{ printf '2 1 eni-a 1.1.1.1 2.2.2.2 1 2 6 3 4 5 6 ACCEPT '; head -c 200000 /dev/zero | tr '\0' 'x'; printf '\n'
	  printf '2 1 eni-b - - - - - - - 1 2 - NODATA\n'; } > in.log
	run -1 to_files ts-extract --vpc-flow --max-record 64k --errors errs in.log
	assert_equal "$(jq -r '."interface-id"' out)" eni-b
	assert_error_records errs 1
	assert_error errs 0 '.error == "too_large" and .truncated == true and .line == 1 and (.raw | length) == 4096'
}

@test "--vpc-flow with --fields, --rename and --to-csv" {
	run -0 ts-extract --vpc-flow --fields srcaddr,dstaddr,log-status --rename log-status=status "$AWSLOG/default-format-v2.log"
	assert_line --index 2 '{"srcaddr":null,"dstaddr":null,"status":"NODATA"}'
	run -0 ts-extract --vpc-flow --to-csv srcaddr,dstport,bytes,log-status "$AWSLOG/default-format-v2.log"
	assert_line --index 0 "$(printf 'srcaddr,dstport,bytes,log-status\r')"
	assert_line --index 1 "$(printf '172.31.16.139,22,4249,OK\r')"
	assert_line --index 3 "$(printf ',,,NODATA\r')"
}

@test "--vpc-flow and --elb usage: one input format, not with --cwl or --records" {
	run -2 ts-extract --vpc-flow --csv /dev/null
	run -2 ts-extract --vpc-flow --elb /dev/null
	run -2 ts-extract --elb --cwl /dev/null
	run -2 ts-extract --vpc-flow --records .R /dev/null
	run -2 ts-extract --alb --infer /dev/null
}

# --- --elb ------------------------------------------------------------------

# elb_oracle KIND FILE: the records of FILE as Python reads the documentation
# of KIND (alb, nlb, clb): fields split at spaces, a quoted field whole
# without its quotes (nlb: no quoted fields), "-" null, ip:port split,
# numbers exactly as written.
elb_oracle() {
	/usr/bin/python3 - "$@" <<'PY'
import json, re, sys
kind, path = sys.argv[1:]
N, S, P = 'num', 'str', 'ipport'
fields = {
 'alb': [('type', S), ('time', S), ('elb', S), ('client', P), ('target', P),
         ('request_processing_time', N), ('target_processing_time', N),
         ('response_processing_time', N), ('elb_status_code', N), ('target_status_code', N),
         ('received_bytes', N), ('sent_bytes', N), ('request', S), ('user_agent', S),
         ('ssl_cipher', S), ('ssl_protocol', S), ('target_group_arn', S), ('trace_id', S),
         ('domain_name', S), ('chosen_cert_arn', S), ('matched_rule_priority', N),
         ('request_creation_time', S), ('actions_executed', S), ('redirect_url', S),
         ('error_reason', S), ('target_port_list', S), ('target_status_code_list', S),
         ('classification', S), ('classification_reason', S)],
 'nlb': [('type', S), ('version', S), ('time', S), ('elb', S), ('listener', S),
         ('client', P), ('destination', P), ('connection_time', N), ('tls_handshake_time', N),
         ('received_bytes', N), ('sent_bytes', N), ('incoming_tls_alert', N),
         ('chosen_cert_arn', S), ('chosen_cert_serial', S), ('tls_cipher', S),
         ('tls_protocol_version', S), ('tls_named_group', S), ('domain_name', S),
         ('alpn_fe_protocol', S), ('alpn_be_protocol', S), ('alpn_client_preference_list', S)],
 'clb': [('time', S), ('elb', S), ('client', P), ('backend', P),
         ('request_processing_time', N), ('backend_processing_time', N),
         ('response_processing_time', N), ('elb_status_code', N), ('backend_status_code', N),
         ('received_bytes', N), ('sent_bytes', N), ('request', S), ('user_agent', S),
         ('ssl_cipher', S), ('ssl_protocol', S)],
}[kind]
def val(v, t):
    if v == '-':
        return 'null'
    if t == N:
        float(v)
        return v
    return json.dumps(v)
for line in open(path):
    if kind == 'nlb':
        words = line.split()
    else:
        words = [m[1:-1] if m.startswith('"') else m for m in re.findall(r'"[^"]*"|[^ \n]+', line)]
    assert len(words) == len(fields), (len(words), line)
    out = []
    for (name, t), v in zip(fields, words):
        if t == P:
            ip, port = (None, None) if v == '-' else v.rsplit(':', 1)
            out.append('"%s_ip":%s' % (name, json.dumps(ip)))
            out.append('"%s_port":%s' % (name, 'null' if port is None else port))
        else:
            out.append('"%s":%s' % (name, val(v, t)))
    print('{' + ','.join(out) + '}')
PY
}

@test "--elb: every ALB, NLB and Classic ELB documentation example, value by value" {
	[ -x /usr/bin/python3 ] || skip "no python3"
	for k in alb:alb-access-log-examples nlb:nlb-access-log-examples clb:classic-elb-access-log-examples; do
		f="$AWSLOG/${k#*:}.log"
		run -0 to_files ts-extract --elb --stats "$f"
		elb_oracle "${k%%:*}" "$f" > want
		cmp want out || { echo "$f"; diff want out; return 1; }
		assert_equal "$(stat_field err lines)" "$(wc -l < "$f")"
		assert_equal "$(stat_field err records_out)" "$(wc -l < "$f")"
	done
}

@test "--elb: ALB entries exactly: ip:port split, - and \"-\" null, times and codes as written, the quoted request and user agent whole" {
	run -0 to_files ts-extract --alb "$AWSLOG/alb-access-log-examples.log"
	assert_equal "$(sed -n 2p out)" '{"type":"https","time":"2018-07-02T22:23:00.186641Z","elb":"app/my-loadbalancer/50dc6c495c0c9188","client_ip":"192.168.131.39","client_port":2817,"target_ip":"10.0.0.1","target_port":80,"request_processing_time":0.086,"target_processing_time":0.048,"response_processing_time":0.037,"elb_status_code":200,"target_status_code":200,"received_bytes":0,"sent_bytes":57,"request":"GET https://www.example.com:443/ HTTP/1.1","user_agent":"curl/7.46.0","ssl_cipher":"ECDHE-RSA-AES128-GCM-SHA256","ssl_protocol":"TLSv1.2","target_group_arn":"arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067","trace_id":"Root=1-58337281-1d84f3d73c47ec4e58577259","domain_name":"www.example.com","chosen_cert_arn":"arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012","matched_rule_priority":1,"request_creation_time":"2018-07-02T22:22:48.364000Z","actions_executed":"authenticate,forward","redirect_url":null,"error_reason":null,"target_port_list":"10.0.0.1:80","target_status_code_list":"200","classification":null,"classification_reason":null}'
	# the Lambda target that failed: no target, no target status
	assert_equal "$(sed -n 7p out | jq -c '[.target_ip, .target_port, .elb_status_code, .target_status_code, .error_reason, .user_agent]')" '[null,null,502,null,"LambdaInvalidResponse","curl/7.46.0"]'
	# websockets without a user agent: "-" is null
	assert_equal "$(sed -n 4p out | jq -c '[.type, .user_agent, .elb_status_code]')" '["ws",null,101]'
}

@test "--elb: NLB entries keep the ALPN list as written; Classic TCP entries keep their \"- - - \" request; --elb and --alb are the same" {
	run -0 to_files ts-extract --elb "$AWSLOG/nlb-access-log-examples.log"
	assert_equal "$(sed -n 2p out | jq -c '[.type, .version, .destination_port, .connection_time, .incoming_tls_alert, .alpn_client_preference_list]')" '["tls","2.0",443,5,null,"\"h2\",\"http/1.1\""]'
	run -0 to_files ts-extract --alb "$AWSLOG/classic-elb-access-log-examples.log"
	assert_equal "$(sed -n 3p out)" '{"time":"2015-05-13T23:39:43.945958Z","elb":"my-loadbalancer","client_ip":"192.168.131.39","client_port":2817,"backend_ip":"10.0.0.1","backend_port":80,"request_processing_time":0.001069,"backend_processing_time":0.000028,"response_processing_time":0.000041,"elb_status_code":null,"backend_status_code":null,"received_bytes":82,"sent_bytes":305,"request":"- - - ","user_agent":null,"ssl_cipher":null,"ssl_protocol":null}'
}

@test "--elb: the oldest ALB format (18 fields) leaves later fields out; fields past the newest are kept in extra_fields; -1 times stay -1" {
	old='http 2016-08-10T22:08:42.945958Z app/lb/50dc 192.168.131.39:2817 - -1 -1 -1 460 - 34 0 "GET http://x:80/ HTTP/1.1" "curl/7.46.0" - - arn:tg "Root=1-58337262"'
	new="$(sed -n 1p "$AWSLOG/alb-access-log-examples.log") TID_abc \"-\" \"-\" \"-\" future \"x y\""
	printf '%s\n' "$old" "$new" > in.log
	run -0 to_files ts-extract --elb in.log
	assert_equal "$(sed -n 1p out)" '{"type":"http","time":"2016-08-10T22:08:42.945958Z","elb":"app/lb/50dc","client_ip":"192.168.131.39","client_port":2817,"target_ip":null,"target_port":null,"request_processing_time":-1,"target_processing_time":-1,"response_processing_time":-1,"elb_status_code":460,"target_status_code":null,"received_bytes":34,"sent_bytes":0,"request":"GET http://x:80/ HTTP/1.1","user_agent":"curl/7.46.0","ssl_cipher":null,"ssl_protocol":null,"target_group_arn":"arn:tg","trace_id":"Root=1-58337262"}'
	assert_equal "$(sed -n 2p out | jq -c '[.conn_trace_id, .transformed_host, .request_transform_status, .extra_fields]')" '["TID_abc",null,null,["future","x y"]]'
}

@test "--elb: unbalanced quotes, too few fields and lines of no ELB format are bad_log_line with their line; CRLF, no final newline, gzip" {
	good="$(sed -n 1p "$AWSLOG/alb-access-log-examples.log")"
	{ printf '%s\r\n' "$good"
	  printf '%s\r\n' 'http 2018-07-02T22:23:00.186641Z app/lb 1.2.3.4:5 - 0 0 0 200 200 1 1 "GET / HTTP/1.1 "ua" - - arn "t'
	  printf '%s\r\n' 'http 2018-07-02T22:23:00.186641Z app/lb 1.2.3.4:5 - 0 0 0 200 200 1 1 "GET / HTTP/1.1"'
	  printf '%s\r\n' '2 123456789010 eni-1 - - - - - - - 1 2 - NODATA'
	  printf '%s' "$good"; } | gzip > in.log.gz
	run -1 to_files ts-extract --elb --errors errs --stats in.log.gz
	assert_equal "$(wc -l < out)" 2
	assert_equal "$(sed -n 1p out)" "$(sed -n 2p out)"
	assert_error_records errs 3
	run -0 jq -r '"\(.error) \(.line) \(.message)"' errs
	assert_line --index 0 'bad_log_line 2 in.log.gz:2: unbalanced quotes: field 17 is not closed'
	assert_line --index 1 'bad_log_line 3 in.log.gz:3: 13 fields, an ALB entry has at least 18'
	assert_line --index 2 'bad_log_line 4 in.log.gz:4: not an ELB access log entry: no time where ALB, NLB or Classic ELB entries have it'
	assert_equal "$(jq -r .raw errs | sed -n 2p)" 'http 2018-07-02T22:23:00.186641Z app/lb 1.2.3.4:5 - 0 0 0 200 200 1 1 "GET / HTTP/1.1"'
	assert_equal "$(stat_field err records_in)" 5
	assert_equal "$(stat_field err lines)" 5
	assert_equal "$(stat_field err rejected)" 3
}

@test "--elb with --to-csv: a spreadsheet of requests" {
	run -0 ts-extract --elb --to-csv time,client_ip,elb_status_code,request,user_agent "$AWSLOG/alb-access-log-examples.log"
	assert_line --index 0 "$(printf 'time,client_ip,elb_status_code,request,user_agent\r')"
	assert_line --index 4 "$(printf '2018-07-02T22:23:00.186641Z,10.0.0.140,101,GET http://10.0.0.30:80/ HTTP/1.1,\r')"
}

@test "--csv on a slow pipe: no progress line on an error output that is not a terminal" {
	{ printf 'a,b\n1,2\n'; sleep 1; printf '3,4\n'; } | ts-extract --csv > out 2> err
	[ "$(wc -l < out)" -eq 2 ]
	[ ! -s err ] || fail "standard error is not empty: $(od -c err | head -3)"
}
