#!/usr/bin/env bats
# ts-decompress: real payloads from AWS SDK test suites, and streams generated
# here with the reference tools (gzip, bzip2, xz, zstd, lz4, bsdtar).

bats_require_minimum_version 1.5.0
load helpers

# to_files CMD...: CMD's standard output in ./out, standard error in ./err,
# byte for byte (run's $output drops trailing newlines).
to_files() {
	"$@" > out 2> err
}

CWL="$BATS_TEST_DIRNAME/data/cloudwatch_logs"

# --- usage ------------------------------------------------------------------

@test "--help prints usage on stdout and exits 0" {
	run -0 --separate-stderr ts-decompress --help
	assert_line --index 0 --regexp '^Usage: ts-decompress '
	for o in --format --field --keep --text --raw --max-size --max-ratio \
		--errors --stats --max-record --max-depth --help --version; do
		assert_output --partial -- "$o"
	done
	[ -z "$stderr" ]
}

@test "--version prints name and version" {
	run -0 ts-decompress --version
	assert_output --regexp '^ts-decompress \(ts toolkit\) [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "an unknown option exits 2 with a message on stderr only" {
	run -2 --separate-stderr ts-decompress --no-such-option
	[ -z "$output" ]
	assert_equal "$(head -n 1 <<< "$stderr")" "ts-decompress: unknown option '--no-such-option'"
}

@test "usage errors exit 2: --keep without --field, --raw with --keep, bad values" {
	printf '{"data":"e30="}\n' > in.ndjson
	run -2 --separate-stderr ts-decompress --keep in.ndjson
	assert_equal "$(head -n 1 <<< "$stderr")" "ts-decompress: --keep needs --field"
	[ -z "$output" ]
	run -2 ts-decompress --field data --keep --raw in.ndjson
	run -2 ts-decompress --format rar5 in.ndjson
	run -2 ts-decompress --max-size lots in.ndjson
	run -2 ts-decompress --max-record 0 in.ndjson
	run -2 ts-decompress --field
}

# --- base64 fields: real CloudWatch Logs deliveries ---------------------------

@test "aws-lambda-go CloudWatch Logs event: awslogs.data decodes to the exact payload" {
	run -0 to_files ts-decompress --field awslogs.data "$CWL/aws-lambda-go/cloudwatch-logs-event.json"
	{ cat "$CWL/aws-lambda-go/cloudwatch-logs-event.decoded.json"; echo; } > want
	cmp want out
	[ ! -s err ]
}

@test "powertools cloudWatchLogEvent: awslogs.data decodes to the exact payload" {
	run -0 to_files ts-decompress --field awslogs.data "$CWL/powertools-python/cloudWatchLogEvent.json"
	{ cat "$CWL/powertools-python/cloudWatchLogEvent.decoded.json"; echo; } > want
	cmp want out
}

@test "powertools cloudWatchLogEventWithPolicyLevel: zlib payload, pretty-printed, comes out as one compact line" {
	run -0 to_files ts-decompress --field awslogs.data \
		"$CWL/powertools-python/cloudWatchLogEventWithPolicyLevel.json"
	jq -c . "$CWL/powertools-python/cloudWatchLogEventWithPolicyLevel.decoded.json" > want
	cmp want out
	assert_equal "$(jq -r .policyLevel out)" ACCOUNT_LEVEL_POLICY
}

@test "powertools Kinesis capture: Records[].kinesis.data gives the decoded records in order" {
	run -0 to_files ts-decompress --field 'Records[].kinesis.data' \
		"$CWL/powertools-python/kinesisStreamCloudWatchLogsEvent.json"
	cmp "$CWL/powertools-python/kinesisStreamCloudWatchLogsEvent.decoded-records.txt" out
	[ "$(wc -l < out)" -eq "$(jq '.Records | length' "$CWL/powertools-python/kinesisStreamCloudWatchLogsEvent.json")" ]
}

@test "SAM Firehose test event: records[].data gives the decoded records in order" {
	run -0 to_files ts-decompress --field 'records[].data' "$CWL/sam-firehose-cwl-processor/testEvent.json"
	cmp "$CWL/sam-firehose-cwl-processor/testEvent.decoded-records.txt" out
	[ ! -s err ]
}

@test "the Firehose event works as NDJSON on standard input too, and gzipped" {
	jq -c '.records[]' "$CWL/sam-firehose-cwl-processor/testEvent.json" > records.ndjson
	run -0 to_files sh -c 'ts-decompress --field data < records.ndjson'
	cmp "$CWL/sam-firehose-cwl-processor/testEvent.decoded-records.txt" out
	gzip -c records.ndjson > records.ndjson.gz
	run -0 to_files ts-decompress --field data records.ndjson.gz
	cmp "$CWL/sam-firehose-cwl-processor/testEvent.decoded-records.txt" out
}

@test "--keep writes the original record with the field replaced by the decoded JSON value" {
	ev="$CWL/aws-lambda-go/cloudwatch-logs-event.json"
	run -0 to_files ts-decompress --field awslogs.data --keep "$ev"
	[ "$(wc -l < out)" -eq 1 ]
	jq -c --slurpfile d "$CWL/aws-lambda-go/cloudwatch-logs-event.decoded.json" \
		'.awslogs.data = $d[0]' "$ev" > want
	cmp want out
}

@test "--keep with a [] path replaces the field in every element" {
	ev="$CWL/sam-firehose-cwl-processor/testEvent.json"
	run -0 to_files ts-decompress --field 'records[].data' --keep "$ev"
	[ "$(wc -l < out)" -eq 1 ]
	jq -c --slurpfile d "$CWL/sam-firehose-cwl-processor/testEvent.decoded-records.txt" \
		'.records = [range(0; .records | length) as $i | .records[$i] | .data = $d[$i]]' "$ev" > want
	cmp want out
}

@test "--keep: other fields and their order stay, text content becomes a JSON string" {
	j=$(printf '{"x":1,"y":[1,2]}' | gzip | base64 -w0)
	t=$(printf 'plain text\nline 2' | gzip | base64 -w0)
	p=$(printf '{"p":true}' | base64 -w0)
	printf '{"id":1,"data":"%s","z":0}\n{"id":2,"data":"%s"}\n{"data":"%s","id":3}\n' "$j" "$t" "$p" > in.ndjson
	run -0 to_files ts-decompress --field data --keep in.ndjson
	printf '%s\n' '{"id":1,"data":{"x":1,"y":[1,2]},"z":0}' \
		'{"id":2,"data":"plain text\nline 2"}' '{"data":{"p":true},"id":3}' > want
	cmp want out
}

@test "--field: decoded text that is not JSON comes out as JSON strings, line by line" {
	t=$(printf 'first line\r\n{"j":1}\nlast' | gzip | base64 -w0)
	printf '{"data":"%s"}\n' "$t" > in.ndjson
	run -0 to_files ts-decompress --field data in.ndjson
	printf '%s\n' '"first line"' '{"j":1}' '"last"' > want
	cmp want out
}

@test "invalid base64 in a field: bad_base64 error record holding the original record, others flow, exit 1" {
	good=$(printf '{"ok":1}' | gzip | base64 -w0)
	printf '{"id":1,"data":"%s"}\n{"id":2,"data":"not*base64!"}\n{"id":3,"data":"%s"}\n' \
		"$good" "$good" > in.ndjson
	run -1 to_files ts-decompress --field data in.ndjson
	printf '{"ok":1}\n{"ok":1}\n' > want
	cmp want out
	assert_error_records err 1
	assert_error err 0 '.error == "bad_base64" and .file == "in.ndjson" and .line == 2 and .path == "data"'
	sed -n 2p in.ndjson | head -c -1 > line2
	assert_raw err 0 line2
}

@test "a missing field is missing_field, a field that is not a string is field_not_string" {
	printf '{"id":1}\n{"id":2,"data":12}\n{"id":3,"data":"%s"}\n' "$(printf '[3]' | base64 -w0)" > in.ndjson
	run -1 to_files ts-decompress --field data in.ndjson
	assert_equal "$(cat out)" "[3]"
	assert_error_records err 2
	assert_error err 0 '.error == "missing_field" and .line == 1 and .raw == "{\"id\":1}"'
	assert_error err 1 '.error == "field_not_string" and .line == 2 and .raw == "{\"id\":2,\"data\":12}"'
}

@test "a corrupt gzip payload in a field is an error record, not a crash" {
	bad=$( { printf '{"x":1}' | gzip | head -c 15; } | base64 -w0)
	printf '{"data":"%s"}\n{"data":"%s"}\n' "$bad" "$(printf '{"y":2}' | base64 -w0)" > in.ndjson
	run -1 to_files ts-decompress --field data in.ndjson
	assert_equal "$(cat out)" '{"y":2}'
	assert_error_records err 1
	assert_error err 0 '.error == "bad_compressed_data" and .line == 1'
}

# --- whole inputs ---------------------------------------------------------------

@test "multi-member gzip: one line per member" {
	{ printf '{"a":1}' | gzip; printf '{"b":2}' | gzip; } > f.gz
	run -0 to_files ts-decompress f.gz
	printf '{"a":1}\n{"b":2}\n' > want
	cmp want out
	[ ! -s err ]
}

# bats test_tags=slow
@test "many small members, as a delivery stream writes them, all come out in order" {
	for i in $(seq 1 300); do printf '{"n":%d}\n' "$i" | gzip; done > many.gz
	run -0 to_files ts-decompress many.gz
	seq 1 300 | sed 's/.*/{"n":&}/' > want
	cmp want out
}

@test "concatenated JSON values without separators come out one per line" {
	printf '{"a":1}{"b":{"c":[1,2]}}[3] "s" 4{"d":null}' | gzip > cat.gz
	run -0 to_files ts-decompress cat.gz
	printf '%s\n' '{"a":1}' '{"b":{"c":[1,2]}}' '[3]' '"s"' '4' '{"d":null}' > want
	cmp want out
}

@test "pretty-printed JSON is normalised to one compact line" {
	printf '{\n  "a": 1,\n  "b": [ 1, 2 ,\n 3 ],\n\t"s": "x y  z"\n}\n{ "next" : true }\n' > pretty.json
	run -0 to_files ts-decompress pretty.json
	jq -c . pretty.json > want
	cmp want out
}

@test "zlib whole input (the PolicyLevel payload's own bytes) is detected and decompressed" {
	jq -r .awslogs.data "$CWL/powertools-python/cloudWatchLogEventWithPolicyLevel.json" | base64 -d > payload.zlib
	[ "$(head -c 1 payload.zlib | od -An -tx1 | tr -d ' ')" = 78 ]
	run -0 to_files ts-decompress payload.zlib
	jq -c . "$CWL/powertools-python/cloudWatchLogEventWithPolicyLevel.decoded.json" > want
	cmp want out
}

@test "zlib whole input generated here: lines come out" {
	ndjson_lines 20 > in.json
	zlib_compress in.json > in.zz
	run -0 to_files ts-decompress in.zz
	cmp in.json out
}

@test "raw deflate is only read with --format deflate" {
	ndjson_lines 5 > in.json
	raw_deflate < in.json > in.deflate
	run -0 to_files ts-decompress --format deflate in.deflate
	cmp in.json out
	# No magic bytes: without --format it is taken as plain bytes, not JSON.
	run -1 to_files ts-decompress in.deflate
	[ ! -s out ]
	assert_error err 0 '.error == "bad_json"'
}

@test "--format overrides detection: gzip bytes read as plain are not decompressed" {
	printf '{"a":1}\n' | gzip -n > f.gz
	run -1 to_files ts-decompress --format plain f.gz
	[ ! -s out ]
	assert_error err 0 '.error == "bad_json" and .file == "f.gz"'
	run -1 to_files ts-decompress --format gzip "$CWL/aws-lambda-go/cloudwatch-logs-event.json"
	[ ! -s out ]
	assert_error err 0 '.error == "corrupt_input"'
}

@test "bzip2 input" {
	ndjson_lines 1000 > in.json
	bzip2 -c in.json > in.json.bz2
	run -0 to_files ts-decompress in.json.bz2
	cmp in.json out
	[ ! -s err ]
}

@test "xz input" {
	ndjson_lines 1000 > in.json
	xz -c in.json > in.json.xz
	run -0 to_files ts-decompress in.json.xz
	cmp in.json out
	[ ! -s err ]
}

@test "zstd input" {
	ndjson_lines 1000 > in.json
	zstd -q -c in.json > in.json.zst
	run -0 to_files ts-decompress in.json.zst
	cmp in.json out
	[ ! -s err ]
}

@test "lz4 input" {
	ndjson_lines 1000 > in.json
	lz4 -q -c in.json > in.json.lz4
	run -0 to_files ts-decompress in.json.lz4
	cmp in.json out
	[ ! -s err ]
}

@test "a large lz4 file is not mistaken for a decompression bomb" {
	# lz4 blocks are 4 MiB: libarchive consumes one only after decoding it.
	ndjson_lines 250000 > in.json
	lz4 -q -c in.json > in.json.lz4
	run -0 to_files ts-decompress in.json.lz4
	cmp in.json out
	[ ! -s err ]
}

@test "compressed empty inputs give no output and exit 0" {
	: > empty
	for c in "gzip -c" "bzip2 -c" "xz -c" "zstd -q -c" "lz4 -q -c"; do
		$c < empty > empty.c
		run -0 to_files ts-decompress empty.c
		[ ! -s out ] || fail "$c: output on empty input"
		[ ! -s err ] || fail "$c: $(cat err)"
	done
}

@test "tar archive: entries come out in archive order" {
	printf '{"e":"b1"}\n{"e":"b2"}\n' > b.json
	printf '{"e":"a"}\n' > a.json
	printf '{"e":"c"}' > c.json
	bsdtar -cf x.tar b.json a.json c.json
	run -0 to_files ts-decompress x.tar
	printf '%s\n' '{"e":"b1"}' '{"e":"b2"}' '{"e":"a"}' '{"e":"c"}' > want
	cmp want out
}

@test "zip archive: entries come out in archive order" {
	printf '{"e":"b"}\n' > b.json
	printf '{"e":"a1"}\n{"e":"a2"}\n' > a.json
	bsdtar --format zip -cf x.zip b.json a.json
	run -0 to_files ts-decompress x.zip
	printf '%s\n' '{"e":"b"}' '{"e":"a1"}' '{"e":"a2"}' > want
	cmp want out
}

@test "compressed tar archives (.tar.gz, .tar.xz, .tar.zst) are read entry by entry" {
	printf '{"e":1}\n' > one.json
	printf '{"e":2}\n' > two.json
	printf '{"e":1}\n{"e":2}\n' > want
	for z in -z -J --zstd; do
		bsdtar $z -cf x.tar.c one.json two.json
		run -0 to_files ts-decompress x.tar.c
		cmp want out || fail "bsdtar $z: $(head -c 300 out err)"
	done
}

@test "a bad entry in an archive is an error record naming archive and entry" {
	printf '{"e":1}\n' > good.json
	printf 'not json\n' > bad.txt
	bsdtar -cf x.tar good.json bad.txt
	run -1 to_files ts-decompress x.tar
	assert_equal "$(cat out)" '{"e":1}'
	assert_error_records err 1
	assert_error err 0 '.error == "bad_json" and .file == "x.tar:bad.txt" and .line == 1 and .raw == "not json"'
}

@test "--raw writes the decompressed bytes unchanged" {
	{ printf 'not json\r\n{"a":1}\n'; garbage 5000; printf 'no newline at end'; } > mixed.bin
	{ head -c 3000 mixed.bin | gzip; tail -c +3001 mixed.bin | gzip; } > mixed.gz
	run -0 to_files ts-decompress --raw mixed.gz
	gzip -dc mixed.gz > want
	cmp want out
	cmp mixed.bin out
	xz -c mixed.bin > mixed.xz
	run -0 to_files ts-decompress --raw mixed.xz
	cmp mixed.bin out
}

@test "--text turns lines that are not JSON into JSON strings" {
	printf 'hello world\n{"a":1}\nwith "quote" \\ back\n[1,2]\ntab\there\n' | gzip > t.gz
	run -0 to_files ts-decompress --text t.gz
	printf '%s\n' '"hello world"' '{"a":1}' '"with \"quote\" \\ back"' '[1,2]' '"tab\there"' > want
	cmp want out
	[ ! -s err ]
	# without --text those lines are rejected, and nothing is lost
	run -1 to_files ts-decompress t.gz
	printf '%s\n' '{"a":1}' '[1,2]' > want
	cmp want out
	assert_error_records err 3
	assert_error err 0 '.raw == "hello world" and .line == 1'
	assert_error err 2 '.raw == "tab\there" and .line == 5'
}

@test "--text keeps a line's leading blanks (a Java stack trace)" {
	printf 'java.lang.IllegalStateException: boom\n\tat com.example.App.run(App.java:42)\n    at com.example.Main.main(Main.java:7)\n' > trace.txt
	run -0 to_files ts-decompress --text trace.txt
	printf '%s\n' '"java.lang.IllegalStateException: boom"' '"\tat com.example.App.run(App.java:42)"' \
		'"    at com.example.Main.main(Main.java:7)"' > want
	cmp want out || fail "got: $(cat out)"
	# the same inside a base64 field
	printf '{"data":"%s"}\n' "$(base64 -w0 trace.txt)" > rec.ndjson
	run -0 to_files ts-decompress --field data rec.ndjson
	cmp want out || fail "--field got: $(cat out)"
}

@test "empty input: no output, exit 0" {
	: > empty
	run -0 to_files ts-decompress empty
	[ ! -s out ]
	[ ! -s err ]
	run -0 to_files sh -c 'ts-decompress < /dev/null'
	[ ! -s out ]
	[ ! -s err ]
	printf '\n\n  \n' > blank
	run -0 to_files ts-decompress blank
	[ ! -s out ]
	[ ! -s err ]
}

@test "CRLF line endings are accepted" {
	printf '{"a":1}\r\n{"b":2}\r\n' | gzip > crlf.gz
	run -0 to_files ts-decompress crlf.gz
	printf '{"a":1}\n{"b":2}\n' > want
	cmp want out
}

@test "a UTF-8 byte order mark at the start is skipped" {
	printf '\xef\xbb\xbf{"a":"\xc3\xa9"}\n{"b":2}\n' > bom.json
	run -0 to_files ts-decompress bom.json
	printf '{"a":"\xc3\xa9"}\n{"b":2}\n' > want
	cmp want out
	gzip -c bom.json > bom.json.gz
	run -0 to_files ts-decompress bom.json.gz
	cmp want out
}

@test "several files: output in order, exit status is the worst" {
	printf '{"f":1}\n' > one.json
	printf '{"f":2}\n' | gzip > two.gz
	printf '{"f":3\n' > three.json
	run -1 to_files ts-decompress one.json two.gz three.json
	printf '{"f":1}\n{"f":2}\n' > want
	cmp want out
	assert_error err 0 '.file == "three.json"'
}

# --- damaged streams ------------------------------------------------------------

# bats test_tags=slow
@test "truncated multi-member gzip: everything before the damage, then an error with its byte offset, exit 1" {
	for i in $(seq 1 40); do printf '{"i":%d,"pad":"%s"}\n' "$i" "$(printf 'x%.0s' $(seq 1 $i))" | gzip; done > m.gz
	size=$(stat -c %s m.gz)
	cut=$((size / 2 + 7))
	head -c "$cut" m.gz > trunc.gz
	run -1 to_files ts-decompress trunc.gz
	# gzip's own decoder sets the standard: every complete line it recovers
	gzip -dc trunc.gz 2>/dev/null | sed '$!b; /}$/!d' > want || true
	[ "$(wc -l < want)" -ge 15 ]
	head -n "$(wc -l < want)" out | cmp want -
	grep -q '"error":"corrupt_input"' err
	grep '"corrupt_input"' err | jq -e --argjson c "$cut" \
		'.offset == $c and .file == "trunc.gz" and (.message | test("byte offset [0-9]+"))' > /dev/null
}

@test "truncated gzip cut inside a record: the partial record is an error record, nothing is lost" {
	printf '{"a":1}\n{"b":"%s"}\n' "$(head -c 20000 /dev/zero | tr '\0' y)" | gzip > f.gz
	head -c "$(( $(stat -c %s f.gz) - 30 ))" f.gz > t.gz
	run -1 to_files ts-decompress t.gz
	assert_equal "$(cat out)" '{"a":1}'
	# one fault, one record: the cut, with the record it cut short as raw
	assert_error_records err 1
	assert_error err 0 '.error == "corrupt_input" and .line == 2 and (.offset | type == "number") and (.raw | startswith("{\"b\":\"yyy"))'
}

@test "corrupt gzip (bytes flipped): members before the damage come out, error with byte offset, exit 1" {
	for i in $(seq 1 10); do printf '{"i":%d}\n' "$i" | gzip -n; done > first.gz
	for i in $(seq 11 20); do printf '{"i":%d}\n' "$i" | gzip -n; done > rest.gz
	cat first.gz rest.gz > c.gz
	# damage the deflate data of member 11 (its header is 10 bytes)
	printf '\xff\xff\xff\xff' | dd of=c.gz bs=1 seek=$(($(stat -c %s first.gz) + 11)) conv=notrunc 2> /dev/null
	run -1 to_files ts-decompress c.gz
	seq 1 10 | sed 's/.*/{"i":&}/' > want
	head -n 10 out | cmp want -
	grep -q '"error":"corrupt_input"' err
	grep '"corrupt_input"' err | jq -e '(.offset | type == "number") and (.message | test("byte offset"))' > /dev/null
	# nothing made up: every line out is one that went in
	seq 1 20 | sed 's/.*/{"i":&}/' > all
	run -1 grep -vxFf all out
}

# bats test_tags=slow
@test "a member that fails its CRC check is not written out as good records" {
	# Find a bit flip in one member's deflate data that still decodes, by
	# gzip's own account, to a different JSON line (only the CRC catches it).
	printf '{"n":1234567890}\n' | gzip -n > bad.gz
	size=$(stat -c %s bad.gz)
	found=
	for off in $(seq 10 $((size - 9))); do
		for bit in 1 2 4 8 16 32 64 128; do
			cp bad.gz try.gz
			b=$(od -An -tu1 -j "$off" -N 1 bad.gz | tr -d ' ')
			printf "\\$(printf %03o $((b ^ bit)))" | dd of=try.gz bs=1 seek="$off" conv=notrunc 2> /dev/null
			line=$(gzip -dc try.gz 2> /dev/null | tr -d '\0') || true
			if [ "$line" != '{"n":1234567890}' ] && [[ $line =~ ^\{\"[a-z]\":[0-9]+\}$ ]]; then
				found=$line
				break 2
			fi
		done
	done
	[ -n "$found" ] || skip "no silent bit flip found with this gzip"
	{ printf '{"n":1}\n' | gzip -n; cat try.gz; printf '{"n":3}\n' | gzip -n; } > m.gz
	run -1 to_files ts-decompress m.gz
	grep -q '"error":"corrupt_input"' err
	! grep -qxF "$found" out || fail "corrupt member written as a good record: $found"
	assert_equal "$(head -n 1 out)" '{"n":1}'
}

@test "a corrupt gzip member in the middle costs only itself: every later member comes out, its bytes are in the error record" {
	for i in $(seq 1 10); do printf '{"i":%d}\n' "$i" | gzip -n; done > first.gz
	printf '{"i":11}\n' | gzip -n > eleven.gz
	for i in $(seq 12 20); do printf '{"i":%d}\n' "$i" | gzip -n; done > rest.gz
	cp eleven.gz bad11.gz
	printf '\xff\xff\xff\xff' | dd of=bad11.gz bs=1 seek=11 conv=notrunc 2> /dev/null
	cat first.gz bad11.gz rest.gz > c.gz
	run -1 to_files ts-decompress --stats c.gz
	seq 1 20 | grep -vx 11 | sed 's/.*/{"i":&}/' > want
	cmp want out
	grep '"error"' err > errs
	assert_error_records errs 1
	assert_error errs 0 ".error == \"corrupt_input\" and .member == 11 and .offset == $(stat -c %s first.gz) and .line == 11"
	jq -j .raw_base64 errs | base64 -d | cmp - bad11.gz
	# one damaged member: one record in, one rejected
	[ "$(stat_field err records_in)" -eq 20 ]
	[ "$(stat_field err records_out)" -eq 19 ]
	[ "$(stat_field err rejected)" -eq 1 ]
}

@test "resynchronising after damage needs a real gzip header: 1f 8b inside the damage is not taken for one" {
	for i in 1 2 3; do printf '{"i":%d}\n' "$i" | gzip -n; done > a.gz
	{ cat a.gz; printf '\x1f\x8b\x08\x00garbage that is not a member\x1f\x8b'; printf '{"i":4}\n' | gzip -n; } > c.gz
	run -1 to_files ts-decompress c.gz
	printf '%s\n' '{"i":1}' '{"i":2}' '{"i":3}' '{"i":4}' > want
	cmp want out
	assert_error_records err 1
	assert_error err 0 '.error == "corrupt_input" and .member == 4'
}

@test "a truncated last member: one error record for the one fault, with its member number" {
	for i in $(seq 1 5); do printf '{"i":%d,"pad":"%s"}\n' "$i" "$(head -c 3000 /dev/zero | tr '\0' z)" | gzip -n; done > m.gz
	head -c "$(( $(stat -c %s m.gz) - 40 ))" m.gz > t.gz
	run -1 to_files ts-decompress --stats t.gz
	[ "$(wc -l < out)" -eq 4 ]
	grep '"error"' err > errs
	# one fault, one record: the cut, holding the decoded part of the record
	assert_error_records errs 1
	assert_error errs 0 '.error == "corrupt_input" and .member == 5 and .line == 5 and (.raw | startswith("{\"i\":5,"))'
	[ "$(stat_field err records_in)" -eq 5 ]
	[ "$(stat_field err rejected)" -eq 1 ]
}

@test "a cut-off member that libdeflate gives up on sooner than zlib: every line before the cut, one error record" {
	# So compressible that libdeflate stops a few input bytes short of the
	# cut, some KiB of output before zlib does, and zlib, decoding it
	# again, grows the output buffer: the bytes were handed over from
	# where the buffer had been (a crash)
	awk 'BEGIN { for (i = 0; i < 375000; i++) print "{\"a\":1}" }' | gzip -9n > a.gz
	for cut in $(seq 227 234); do
		head -c "$cut" a.gz > t.gz
		run -1 to_files ts-decompress t.gz
		# at least every whole line gzip -dc recovers (zlib decodes a
		# little further), and nothing else
		want=$(gzip -dc t.gz 2>/dev/null | wc -l || true)
		[ "$want" -gt 10000 ]
		[ "$(wc -l < out)" -ge "$want" ] || fail "cut at $cut: $(head -c 300 err)"
		[ "$(grep -cvx '{"a":1}' out)" -eq 0 ]
		assert_error_records err 1
		assert_error err 0 ".error == \"corrupt_input\" and .offset == $cut and .member == 1"
	done
}

# bats test_tags=slow
@test "garbage after an xz, zstd, bzip2 or lz4 stream: all the data, then one error record, exit 1" {
	ndjson_lines 20000 > base.ndjson
	for c in "xz -c" "zstd -q -c" "bzip2 -c" "lz4 -q -c"; do
		{ $c < base.ndjson; echo GARBAGE; } > g.c
		run -1 to_files ts-decompress --stats g.c
		cmp base.ndjson out || fail "$c: records lost"
		grep '"error"' err > errs
		assert_error_records errs 1
		assert_error errs 0 '.error == "corrupt_input" and .raw == "GARBAGE\n" and (.offset | type == "number")'
		[ "$(stat_field err records_in)" -eq 20001 ] || fail "$c: $(cat err)"
	done
}

@test "a truncated xz recovers what xz -dc recovers" {
	ndjson_lines 40000 > in.json
	xz -c in.json > in.xz
	head -c "$(( $(stat -c %s in.xz) * 9 / 10 ))" in.xz > t.xz
	run -1 to_files ts-decompress --raw t.xz
	xz -dc t.xz > want 2> /dev/null || true
	cmp want out
}

@test "compressed zero bytes are never an empty success: the bytes come out as what they are" {
	# (1024 to 10240 zero bytes in whole 512-byte blocks are an empty tar)
	for c in "xz -c" "zstd -q -c" "bzip2 -c"; do
		head -c 100000 /dev/zero | $c > z.c
		run -1 to_files ts-decompress z.c
		grep -q '"error":"bad_json"' err || fail "$c: $(head -c 300 err)"
		run -0 to_files ts-decompress --raw z.c
		[ "$(wc -c < out)" -eq 100000 ] || fail "$c --raw: $(wc -c < out) bytes"
	done
}

@test "a decompression bomb after good records: the good records come out first" {
	# within the first MiB: the limit is hit before the first read ends
	{ ndjson_lines 1000; head -c 5M /dev/zero; } | gzip -9 > bomb.gz
	run -1 to_files ts-decompress --max-record 64k --max-size 512k --stats bomb.gz
	ndjson_lines 1000 | cmp - out
	grep -q '"error":"decompression_bomb"' err
	[ "$(stat_field err records_out)" -eq 1000 ]
}

@test "--field: an empty field is counted (dropped_empty), a damaged compressed input is an error record" {
	echo '{"data":""}' > e.json
	run -0 to_files ts-decompress --stats --field data e.json
	[ ! -s out ]
	[ "$(stat_field err dropped_empty)" -eq 1 ]
	[ "$(stat_field err records_in)" -eq 1 ]
	printf '{"data":"%s"}\n' "$(printf '{"ok":1}' | gzip | base64 -w0)" | gzip > f.gz
	printf 'garbage' >> f.gz
	run -1 to_files ts-decompress --stats --field data f.gz
	assert_equal "$(cat out)" '{"ok":1}'
	grep '"error"' err > errs
	assert_error_records errs 1
	assert_error errs 0 '.error == "corrupt_input" and .raw == "garbage"'
}

@test "a cut-off .tgz keeps every complete line before the cut, as tar does" {
	ndjson_lines 20000 > big.ndjson
	tar czf a.tgz big.ndjson
	head -c "$(( $(stat -c %s a.tgz) / 2 ))" a.tgz > cut.tgz
	run -1 to_files ts-decompress cut.tgz
	tar xzOf cut.tgz 2> /dev/null | sed '$!b; /}$/!d' > want || true
	[ "$(wc -l < want)" -gt 5000 ]
	# at least what tar recovers, and only the original lines, in order
	[ "$(wc -l < out)" -ge "$(wc -l < want)" ]
	head -n "$(wc -l < out)" big.ndjson | cmp - out
	grep -q '"error":"corrupt_input"' err
}

@test "every archive format the man page lists is read: 7z, cpio (detected), and an empty tar is no error" {
	ndjson_lines 3 > a.json
	bsdtar --format 7zip -cf a.7z a.json
	run -0 to_files ts-decompress a.7z
	cmp a.json out
	bsdtar --format newc -cf a.cpio a.json
	run -0 to_files ts-decompress a.cpio
	cmp a.json out
	tar cf empty.tar --files-from /dev/null
	run -0 to_files ts-decompress empty.tar
	[ ! -s out ] && [ ! -s err ]
}

@test "truncated xz: what comes out is a prefix of the data, exit 1" {
	# libarchive's xz reader hands data over in 1 MiB blocks, so the tail
	# of the last block before the cut is lost (xz -dc recovers a little
	# more); everything written must still be exactly the original prefix.
	ndjson_lines 40000 > in.json
	xz -c in.json > in.xz
	head -c "$(( $(stat -c %s in.xz) * 9 / 10 ))" in.xz > t.xz
	run -1 to_files ts-decompress t.xz
	[ "$(wc -l < out)" -gt 30000 ]
	head -n "$(wc -l < out)" in.json | cmp - out
	grep -q '"error":"corrupt_input"' err
}

@test "a missing file exits 2 with a message naming it; other files are still read" {
	printf '{"a":1}\n' > ok.json
	run -2 to_files ts-decompress no-such-file.gz ok.json
	assert_equal "$(cat out)" '{"a":1}'
	grep -q "no-such-file.gz" err
	run -2 to_files ts-decompress .
	grep -q "ts-decompress: \." err
	if [ "$(id -u)" -ne 0 ]; then
		cp ok.json secret.json
		chmod 000 secret.json
		run -2 to_files ts-decompress secret.json
		grep -q "secret.json" err
	fi
}

# --- malformed records and accounting -------------------------------------------

@test "malformed JSON lines: error records with file, line and the exact bytes; good records flow" {
	printf '{"a":1}\n{"b":2,,}\n{"c":3}\n{"d" 4}\r\n{"e":"\xff"}\n{"f":6}\n' > in.ndjson
	run -1 --separate-stderr ts-decompress --stats --errors errs.ndjson in.ndjson
	assert_output $'{"a":1}\n{"c":3}\n{"f":6}'
	assert_error_records errs.ndjson 3
	assert_error errs.ndjson 0 '.error == "bad_json" and .file == "in.ndjson" and .line == 2 and .program == "ts-decompress"'
	assert_error errs.ndjson 1 '.line == 4'
	assert_error errs.ndjson 2 '.line == 5 and (.raw_base64 | type == "string")'
	sed -n 2p in.ndjson | head -c -1 > l2
	assert_raw errs.ndjson 0 l2
	printf '{"d" 4}\r' > l4 # the original bytes: CR included
	assert_raw errs.ndjson 1 l4
	jq -s -j '.[2].raw_base64' errs.ndjson | base64 -d > l5
	sed -n 5p in.ndjson | head -c -1 | cmp - l5
	# the counts add up: in = out + rejected
	grep -q '"records_in"' <<< "$stderr" || fail "no --stats line: $stderr"
	echo "$stderr" > err
	[ "$(stat_field err records_in)" -eq 6 ]
	[ "$(stat_field err records_out)" -eq 3 ]
	[ "$(stat_field err rejected)" -eq 3 ]
	[ "$(stat_field err status)" -eq 1 ]
}

@test "--errors FILE appends error records and prints a summary line on stderr" {
	printf '{"ok":1}\nnope\n' > in.ndjson
	printf '{"earlier":"content"}\n' > errs.ndjson
	run -1 to_files ts-decompress --errors errs.ndjson in.ndjson
	assert_equal "$(cat out)" '{"ok":1}'
	assert_equal "$(head -n 1 errs.ndjson)" '{"earlier":"content"}'
	[ "$(wc -l < errs.ndjson)" -eq 2 ]
	assert_error errs.ndjson 1 '.error == "bad_json" and .raw == "nope" and .line == 2'
	assert_equal "$(cat err)" "ts-decompress: 1 record rejected, see errs.ndjson"
	run -1 to_files ts-decompress --errors errs.ndjson in.ndjson
	[ "$(wc -l < errs.ndjson)" -eq 3 ]
}

@test "a 10 MB line passes by default; with --max-record 1M it is a too_large error record and the next line comes out" {
	{ printf '{"a":1}\n{"big":"'; head -c 10000000 /dev/zero | tr '\0' a; printf '"}\n{"b":2}\n'; } > long.ndjson
	run -0 to_files ts-decompress long.ndjson
	cmp long.ndjson out
	run -1 to_files ts-decompress --max-record 1M long.ndjson
	printf '{"a":1}\n{"b":2}\n' > want
	cmp want out
	assert_error_records err 1
	assert_error err 0 '.error == "too_large" and .truncated == true and .line == 2 and (.raw | startswith("{\"big\":\"aaaa"))'
	# the same inside a gzip stream (whose ratio is over 1000, so allow it)
	gzip -c long.ndjson > long.gz
	run -1 to_files ts-decompress --max-ratio 0 --max-record 1M long.gz
	cmp want out
	assert_error err 0 '.error == "too_large" and .truncated == true'
}

# bats test_tags=slow
@test "binary garbage does not crash: exit 0 or 1, never more" {
	garbage 100000 > g.bin
	for magic in '' '\x1f\x8b' '\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03' 'BZh9' '\xfd7zXZ\x00' \
		'\x28\xb5\x2f\xfd' '\x04\x22\x4d\x18' 'PK\x03\x04' '\x78\x9c' '7z\xbc\xaf\x27\x1c' '{"a":"'; do
		{ printf "$magic"; cat g.bin; } > in.bin
		for opt in "" --text --raw "--field data" "--format deflate"; do
			run to_files ts-decompress $opt in.bin
			[ "$status" -le 1 ] || fail "magic '$magic' $opt: exit $status: $(head -c 300 err)"
		done
	done
}

@test "decompression bomb: --max-size stops a stream decompressing to more" {
	head -c 10M /dev/zero | gzip -c > zero.gz
	run -1 to_files ts-decompress --max-size 1M --max-ratio 0 zero.gz
	# one fault, one record: what decoded before the limit (zero bytes,
	# not JSON) is its raw
	assert_error_records err 1
	assert_error err 0 '.error == "decompression_bomb" and (.message | contains("decompression bomb")) and (.offset | type == "number") and (.raw | length) <= 1048576'
	head -c 10M /dev/zero > zero.plain
	run -1 to_files ts-decompress --max-size 1M zero.plain
	grep -q '"error":"decompression_bomb"' err
}

# bats test_tags=slow
@test "decompression bomb: the default --max-ratio 1000 stops 50 MB of zeros in a 50 KB gzip" {
	head -c 50M /dev/zero | gzip -9 -c > bomb.gz
	run -1 to_files ts-decompress --max-record 64k bomb.gz
	[ ! -s out ]
	assert_error_records err 2
	assert_error err 0 '.error == "too_large" and .truncated'
	assert_error err 1 '.error == "decompression_bomb" and (.message | contains("decompression bomb")) and .file == "bomb.gz"'
}

@test "decompression bomb in a base64 field: an error record, the next record still comes out" {
	b=$(head -c 10M /dev/zero | gzip -c | base64 -w0)
	printf '{"data":"%s"}\n{"data":"%s"}\n' "$b" "$(printf '{"ok":1}' | gzip | base64 -w0)" > in.ndjson
	run -1 to_files ts-decompress --field data in.ndjson
	assert_equal "$(cat out)" '{"ok":1}'
	assert_error_records err 1
	assert_error err 0 '.error == "decompression_bomb" and .line == 1'
}

# --- output ---------------------------------------------------------------------

@test "writing to a closed pipe is quiet" {
	ndjson_lines 300000 | gzip -c > big.gz
	run -0 bash -c 'set -o pipefail; ts-decompress big.gz 2> err | head -n 1 > first; echo "${PIPESTATUS[0]}" > st'
	assert_equal "$(cat first)" '{"n":1,"s":"record 1"}'
	[ ! -s err ] || fail "stderr: $(cat err)"
	# killed by SIGPIPE (141) or, when SIGPIPE is ignored, a quiet exit 0
	st=$(cat st)
	[ "$st" -eq 141 ] || [ "$st" -eq 0 ]
	run -0 bash -c 'trap "" PIPE; ts-decompress big.gz 2> err | head -n 1 > /dev/null; echo "${PIPESTATUS[0]}" > st'
	[ ! -s err ] || fail "stderr: $(cat err)"
	assert_equal "$(cat st)" 0
}

@test "output to /dev/full exits 2 with a write error on stderr" {
	[ -w /dev/full ] || skip "no /dev/full"
	ndjson_lines 1000 | gzip -c > in.gz
	run -2 --separate-stderr sh -c 'ts-decompress in.gz > /dev/full'
	assert_equal "$stderr" "ts-decompress: write error on standard output: No space left on device"
	printf '{"a":1}\n' > small.json
	run -2 --separate-stderr sh -c 'ts-decompress small.json > /dev/full'
	[[ "$stderr" == *"write error"* ]]
	run -2 sh -c 'ts-decompress --help > /dev/full'
}

@test "--stats prints one JSON line on stderr with counts and bytes" {
	ndjson_lines 10 | gzip -c > in.gz
	run -0 to_files ts-decompress --stats in.gz
	[ "$(wc -l < err)" -eq 1 ]
	jq -e --argjson b "$(stat -c %s in.gz)" --argjson o "$(stat -c %s out)" \
		'.program == "ts-decompress" and .records_in == 10 and .records_out == 10 and .rejected == 0
		 and .bytes_in == $b and .bytes_out == $o and .status == 0 and (.elapsed_s | type == "number")' err > /dev/null
}
