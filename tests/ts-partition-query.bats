#!/usr/bin/env bats
# ts-partition --query: a delivery stream's MetadataExtractionQuery run by
# libjq 1.6.  The oracle is Debian's jq 1.6 command: every partition value
# must be what `jq -r '... | tostring'` makes of the record, whether the
# query takes the native path lookup, a path piped into jq, or the whole
# program through jq.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	[ -x "$TS_BIN/ts-partition" ] || fail "$TS_BIN/ts-partition is missing: run make first (or set TS_BIN)"
	cd "$BATS_TEST_TMPDIR" || fail "cannot cd to $BATS_TEST_TMPDIR"
	jq --version | grep -q '^jq-1\.6' || skip "the oracle must be jq 1.6, not $(jq --version)"
}

# tsq OUT ARGS...: ts-partition into OUT, manifest in OUT.man, stderr in OUT.err.
tsq() {
	local out=$1
	shift
	ts-partition -o "$out" --no-default-time --no-fsync "$@" > "$out.man" 2> "$out.err"
}

# placed OUT KEY: {"v": VALUE, "r": RECORD} for every record in OUT's files,
# VALUE being the manifest's partition value KEY of the file it is in.
placed() {
	local out=$1 key=$2 line path
	while IFS= read -r line; do
		path=$(jq -r .path <<< "$line")
		jq -c --argjson m "$line" --arg k "$key" '{v: $m.partition[$k], r: .}' "$out/$path"
	done < "$out.man"
}

@test "the service's documented example: .customer_id, .type.device and strftime of an epoch, each record under its keys" {
	cat > in.ndjson <<-'EOF'
	{"type":{"device":"mobile","event":"user_clicked_submit_button"},"customer_id":"1234567890","event_timestamp":1565382027,"region":"sample_region"}
	{"type":{"device":"desktop","event":"page_view"},"customer_id":"42","event_timestamp":1609459199,"region":"eu"}
	{"type":{"device":"mobile","event":"page_view"},"customer_id":"42","event_timestamp":1609459200,"region":"eu"}
	EOF
	run -0 tsq out --query '{customer_id: .customer_id, device: .type.device, year: .event_timestamp| strftime("%Y"), month: .event_timestamp| strftime("%m"), day: .event_timestamp| strftime("%d"), hour: .event_timestamp| strftime("%H")}' \
		--prefix 'customer_id=!{partitionKeyFromQuery:customer_id}/device=!{partitionKeyFromQuery:device}/year=!{partitionKeyFromQuery:year}/month=!{partitionKeyFromQuery:month}/day=!{partitionKeyFromQuery:day}/hour=!{partitionKeyFromQuery:hour}/' \
		in.ndjson
	[ "$(wc -l < out.man)" -eq 3 ]
	# each record's directory is what jq computes from it
	jq -r '"customer_id=\(.customer_id)/device=\(.type.device)/year=\(.event_timestamp|strftime("%Y"))/month=\(.event_timestamp|strftime("%m"))/day=\(.event_timestamp|strftime("%d"))/hour=\(.event_timestamp|strftime("%H"))/"' in.ndjson | sort > want
	jq -r '.path | sub("[^/]*$"; "")' out.man | sort > got
	diff want got
	grep -rh . out | sort > all
	sort in.ndjson | diff - all
}

@test "every kind of value becomes the text jq's tostring makes, on the native path, through a pipe and through the whole program" {
	# numbers jq rewrites (1.50, 1e3, -0, 1e400, 17 digits), strings with
	# escapes, booleans, objects, arrays, unicode
	python3 - <<-'EOF' > in.ndjson
	import json
	vals = ['"plain"', '"caf\u00e9 \\u00e9"', '"tab\\there"', '"\\"quoted\\""',
	    '"a/b"', '""', '".."', '"\u65e5\u672c"', '1', '-7', '0', '-0', '1.50', '1e3', '1E-7',
	    '0.1', '123456789012345', '1234567890123456', '12345678901234567', '100000000000000000000',
	    '1e400', '-1.0e-2', 'true', 'false', '{"k":[1,2.0,"x"]}', '[]', '{}', '[1,{"a":null}]']
	for i, v in enumerate(vals):
	    print('{"i":%d,"v":%s,"w":{"x":%s}}' % (i, v, v))
	EOF
	local q
	for q in '{v: .v}' '{v: .w.x}' '{v: .w["x"]}' '{v: .v | .}' '{v: .w | .x}' '. as $r | {v: $r.v}' '{v: (.v)}'; do
		rm -rf out
		run -0 tsq out --query "$q" --prefix 'v=!{partitionKeyFromQuery:v}/' in.ndjson
		placed out v > placed.ndjson
		# "" is written as Hive's default partition
		jq -e -s --arg q "$q" 'map(select((.r.v | tostring | if . == "" then "__HIVE_DEFAULT_PARTITION__" else . end) != .v))
			| if length == 0 then true else error("query \($q): \(.)") end' placed.ndjson
		[ "$(grep -rh . out | wc -l)" -eq 28 ] || fail "query $q: not every record placed"
	done
	# jq 1.6 cannot parse a lone surrogate escape: the record fails, with
	# jq's message (without the record in it), however the query is written
	printf '%s\n' '{"v":"\ud800 lone","w":{"x":"\ud800"}}' > lone.ndjson
	for q in '{v: .v}' '{v: .w | .x}' '. as $r | {v: $r.v}'; do
		run -1 tsq lone --query "$q" --prefix 'v=!{partitionKeyFromQuery:v}/' lone.ndjson
		assert_error_records lone.err 1
		assert_error lone.err 0 '.error == "query_failed" and (.message | test("surrogate pair escape")) and (.message | test("while parsing") | not)'
	done
}

@test "path-only and whole-program queries place every record alike (1,000 generated records)" {
	python3 - <<-'EOF' > in.ndjson
	import json, random
	r = random.Random(7)
	pick = [lambda: r.choice(["a", "b", "\u00e9t\u00e9", "x y", "1"]), lambda: r.randint(-5, 5),
	    lambda: r.choice([0.5, 1.25, 2.0]), lambda: r.choice([True, False]),
	    lambda: {"k": r.randint(0, 2)}, lambda: [r.randint(0, 1)]]
	for i in range(1000):
	    print(json.dumps({"i": i, "a": r.choice(pick)(), "n": {"b": r.choice(pick)()}}))
	EOF
	run -0 tsq fast --query '{a: .a, b: .n.b}' --prefix 'a=!{partitionKeyFromQuery:a}/b=!{partitionKeyFromQuery:b}/' in.ndjson
	run -0 tsq slow --query '. as $r | {a: $r.a, b: $r.n.b}' --prefix 'a=!{partitionKeyFromQuery:a}/b=!{partitionKeyFromQuery:b}/' in.ndjson
	for d in fast slow; do
		(cd $d && for f in $(find . -type f | sort); do printf '%s\t%s\n' "$(dirname "$f")" "$(sort "$f" | sha256sum)"; done) > $d.sum
	done
	diff fast.sum slow.sum
	[ "$(grep -rh . fast | wc -l)" -eq 1000 ]
}

@test "a query that fails on a record makes it an error record with jq's message; the rest are written, --stats adds up, exit 1" {
	cat > in.ndjson <<-'EOF'
	{"c":"ok","ts":1565382027}
	{"c":"bad time","ts":"yesterday"}
	{"c":null,"ts":1}
	[1,2]
	{"ts":1}
	EOF
	run -1 tsq out --query '{c: .c, y: .ts | strftime("%Y")}' --prefix 'c=!{partitionKeyFromQuery:c}/y=!{partitionKeyFromQuery:y}/' --stats in.ndjson
	grep -v records_in out.err > errs
	assert_error_records errs 4
	assert_error errs 0 '.error == "query_failed" and .line == 2 and (.message | test("in.ndjson:2: partition query: strftime/1 requires parsed datetime inputs"))'
	assert_error errs 1 '.error == "bad_key_type" and .line == 3 and (.message | test("partition key c: the query gives null"))'
	assert_error errs 2 '.error == "query_failed" and .line == 4 and (.message | test("Cannot index array with string \\\"c\\\""))'
	assert_error errs 3 '.error == "bad_key_type" and .line == 5'
	assert_error errs 1 '.raw == "{\"c\":null,\"ts\":1}"'
	[ "$(stat_field out.err records_in)" -eq 5 ]
	[ "$(stat_field out.err records_out)" -eq 1 ]
	[ "$(stat_field out.err rejected)" -eq 4 ]
	[ -f out/c=ok/y=2019/"$(jq -r '.path | split("/")[-1]' out.man)" ]
}

@test "a key the record's result lacks, a result that is not an object, no result at all: error records" {
	printf '%s\n' '{"k":"a"}' '{"k":"b","skip":true}' '{"k":"c","num":true}' > in.ndjson
	run -1 tsq out --query 'if .skip then empty elif .num then 5 else {(.k): 1, key: .k} end' \
		--prefix 'key=!{partitionKeyFromQuery:key}/' in.ndjson
	assert_error_records out.err 2
	assert_error out.err 0 '.error == "query_failed" and .line == 2 and (.message | test("no result"))'
	assert_error out.err 1 '.error == "query_failed" and .line == 3 and (.message | test("the result is a number, not an object"))'
	[ -d out/key=a ]
	printf '%s\n' '{"k":"a"}' > one.ndjson
	run -1 tsq out2 --query '{(.k): 1}' --prefix 'key=!{partitionKeyFromQuery:key}/' one.ndjson
	assert_error out2.err 0 '.error == "missing_key" and (.message | test("partition key key: the query gives no key"))'
	run -1 tsq out3 --query '{key: error("custom stop")}' --prefix 'key=!{partitionKeyFromQuery:key}/' one.ndjson
	assert_error out3.err 0 '.error == "query_failed" and (.message | test("partition query: custom stop"))'
	run -1 tsq out4 --query '{key: error({why: 1})}' --prefix 'key=!{partitionKeyFromQuery:key}/' one.ndjson
	assert_error out4.err 0 '.error == "query_failed" and (.message | test("\\{\"why\":1\\} \\(not a string\\)"))'
}

@test "a record nested deeper than jq 1.6 parses (256 levels) fails the query, as in the service" {
	{ printf '{"k":"a","d":'; printf '[%.0s' $(seq 300); printf ']%.0s' $(seq 300); printf '}\n'; } > deep.ndjson
	printf '{"k":"b"}\n' >> deep.ndjson
	run -1 tsq out --query '. as $r | {k: $r.k}' --prefix 'k=!{partitionKeyFromQuery:k}/' deep.ndjson
	assert_error_records out.err 1
	assert_error out.err 0 '.error == "query_failed" and .line == 1 and (.message | test("depth"))'
	[ -d out/k=b ]
}

@test "usage errors: a query jq cannot compile (with jq's message), a key defined twice, a key nobody defines, --query twice" {
	printf '{"a":1}\n' > in.ndjson
	run -2 tsq out --query '{a: .a ||| b}' --prefix '!{partitionKeyFromQuery:a}/' in.ndjson
	grep -q "ts-partition: --query: syntax error, unexpected '|'" out.err
	grep -q "compile error" out.err
	run -2 tsq out --query '{a: undefined_fn}' --prefix '!{partitionKeyFromQuery:a}/' in.ndjson
	grep -q "undefined_fn/0 is not defined" out.err
	run -2 tsq out --query '{a: .a}' --key a=.a --prefix '!{partitionKeyFromQuery:a}/' in.ndjson
	grep -q "partition key 'a' is defined twice: by --key and by --query" out.err
	run -2 tsq out --query '{a: .a}' --prefix '!{partitionKeyFromQuery:b}/' in.ndjson
	grep -q "partition key 'b', which neither --key nor --query defines" out.err
	run -2 tsq out --query '{a: .a}' --query '{b: .a}' --prefix '!{partitionKeyFromQuery:a}/' in.ndjson
	grep -q -- "--query is given once" out.err
	run -2 tsq out --key a=.a --key a=.b --prefix '!{partitionKeyFromQuery:a}/' in.ndjson
	grep -q -- "--key a is given twice" out.err
	[ ! -e out ] || [ -z "$(find out -type f)" ]
}

@test "--query with --key, --time and --error-prefix: keys from both, failed queries in the error prefix with errorCode" {
	cat > in.ndjson <<-'EOF'
	{"acct":"111","region":"eu-west-1","t":"2024-05-01T10:00:00Z","ua":"Mozilla/5.0 (X11)"}
	{"acct":"222","region":"us-east-1","t":"2024-05-02T11:00:00Z","ua":"curl/8.0"}
	{"acct":"333","region":7,"t":"2024-05-02T11:00:00Z"}
	EOF
	run -1 tsq out --key acct=.acct --query '{region: .region | ascii_upcase, agent: .ua | split("/")[0]}' \
		--time .t --prefix 'acct=!{partitionKeyFromQuery:acct}/region=!{partitionKeyFromQuery:region}/agent=!{partitionKeyFromQuery:agent}/!{timestamp:yyyy-MM-dd}/' \
		--error-prefix 'errors/!{firehose:error-output-type}/' in.ndjson
	[ -d out/acct=111/region=EU-WEST-1/agent=Mozilla/2024-05-01 ]
	[ -d out/acct=222/region=US-EAST-1/agent=curl/2024-05-02 ]
	f=$(find out/errors/processing-failed -type f)
	jq -e -s 'length == 1 and .[0].errorCode == "query_failed"
		  and (.[0].errorMessage | test("partition query: explode input must be a string"))
		  and (.[0].rawData | @base64d | fromjson | .acct == "333")' "$f"
}

@test "slices and parenthesised pipes after a path give what jq gives, errors included" {
	printf '%s\n' '{"i":1,"x":"abcdef"}' '{"i":2,"x":[1,2,3,4]}' '{"i":3,"x":"é日本語"}' '{"i":4,"x":12}' \
		'{"i":5}' '{"i":6,"x":{"a":1}}' '{"i":7,"x":"a"}' > in.ndjson
	local q jqv
	for q in '{v: .x[1:3]}' '{v: .x[-2:]}' '{v: .x[:2] | length}' '{v: (.x | .[0:2])}' '{v: ( .x[1:] )}' '. as $r | {v: $r.x[1:3]}'; do
		rm -rf out
		run tsq out --query "$q" --prefix 'v=!{partitionKeyFromQuery:v}/' in.ndjson
		jqv=$(jq -rn --arg q "$q" '$q')
		# what jq says, record by record: the value's text, NULL or ERR
		jq -r "try ($jqv | .v | if . == null then \"NULL\" else tostring | if . == \"\" then \"__HIVE_DEFAULT_PARTITION__\" else . end end) catch \"ERR\"" in.ndjson > want
		placed out v > placed.ndjson
		jq -r -s --slurpfile err out.err '[.[] | {key: (.r.i | tostring), value: .v}]
			+ [$err[] | {key: (.raw | fromjson | .i | tostring), value: (if .error == "bad_key_type" then "NULL" else "ERR" end)}]
			| from_entries | to_entries | sort_by(.key | tonumber) | .[].value' placed.ndjson > got
		diff want got || fail "query $q differs from jq"
	done
}
