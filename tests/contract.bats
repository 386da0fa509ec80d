#!/usr/bin/env bats
# The contract every program keeps (man/ts-toolkit.7): descriptors 0-2,
# closed pipes, compressed input everywhere, documented error codes.

bats_require_minimum_version 1.5.0
load helpers

PROGS="ts-decompress ts-extract ts-partition"

# run_prog P ARGS...: P with the arguments it needs to write records.
prog_args() {
	case $1 in
	ts-partition) echo "-o lake --prefix k=!{partitionKeyFromQuery:k}/ --key k=.n --no-default-time --no-fsync" ;;
	*) echo "" ;;
	esac
}

@test "closed standard output: good records never land in --errors FILE; a write error, exit 2" {
	printf '%s\n' '{"a":1}' '{"b":2}' 'bad' > in.json
	run -2 bash -c 'ts-extract --errors e.err in.json >&-'
	[[ "$output" == *"write error on standard output"* ]]
	assert_error_records e.err 1
	assert_error e.err 0 '.error == "bad_json" and .raw == "bad"'
	run -2 bash -c 'ts-decompress --errors e2.err in.json >&-'
	assert_error_records e2.err 1
}

@test "descriptors 0-2 closed at start: the first file opened is not taken for standard error" {
	ndjson_lines 3 > in.json
	echo 'bad' >> in.json
	# the error record cannot be written (standard error is closed): exit 2,
	# and it is not in a data file either
	# shellcheck disable=SC2086
	run -2 bash -c 'ts-partition $1 in.json > manifest <&- 2>&-' _ "$(prog_args ts-partition)"
	for f in lake/k=*/ts-partition-*; do
		[ "$(wc -l < "$f")" -eq 1 ] || fail "$f: $(cat "$f")"
		jq -e . "$f" > /dev/null
	done
	[ "$(jq -s 'map(.records) | add' manifest)" -eq 3 ]
	run -2 bash -c 'ts-extract in.json > out <&- 2>&-'
	[ "$(wc -l < out)" -eq 3 ]
	run -1 bash -c 'ts-extract --errors e.err in.json > out <&- 2>&-'
	[ "$(wc -l < out)" -eq 3 ]
	assert_error_records e.err 1
	# standard input closed: an empty input
	run -0 bash -c 'ts-extract > out <&-'
	[ ! -s out ]
}

@test "a closed pipe (| head) ends ts-decompress and ts-extract quietly, exit 0" {
	ndjson_lines 200000 > big.json
	gzip -c big.json > big.json.gz
	for p in ts-decompress ts-extract; do
		run -0 --separate-stderr bash -o pipefail -c "$p big.json.gz | head -1"
		assert_equal "$output" '{"n":1,"s":"record 1"}'
		assert_equal "$stderr" ""
	done
}

# bats test_tags=slow
@test "every program reads compressed input by its magic bytes" {
	ndjson_lines 50 > in.json
	gzip -c in.json > in.gz
	xz -c in.json > in.xz
	zstd -q -c in.json > in.zst
	bzip2 -c in.json > in.bz2
	lz4 -q -c in.json > in.lz4
	for f in in.gz in.xz in.zst in.bz2 in.lz4; do
		run -0 --separate-stderr ts-extract "$f"
		cmp <(printf '%s\n' "$output") in.json || fail "ts-extract $f"
		rm -rf lake
		# shellcheck disable=SC2046
		run -0 --separate-stderr ts-partition $(prog_args ts-partition) "$f"
		[ "$(cat lake/*/* | wc -l)" -eq 50 ] || fail "ts-partition $f"
	done
	run -0 --separate-stderr ts-extract --records .Records "$DATA/cloudtrail/awsdocs/02-ec2-StartInstances.json"
	want=$output
	gzip -c "$DATA/cloudtrail/awsdocs/02-ec2-StartInstances.json" > trail.json.gz
	run -0 --separate-stderr ts-extract --records .Records trail.json.gz
	assert_equal "$output" "$want"
}

@test "every error code the programs write is in ts-toolkit(7) ERRORS, and every listed code is used" {
	root="$BATS_TEST_DIRNAME/.."
	# codes are string literals handed to a reject function or set as a code
	codes=$(cat "$root"/cmd/*.c "$root"/lib/*.c | tr '\n' ' ' | tr ';' '\n' |
		grep -E 'reject[a-z_]*\(|field_failed\(|code = |\.code = ' |
		grep -oE '(reject[a-z_]*\([^"]*|field_failed\([^"]*|code = |\.code = )"[a-z][a-z0-9_]*"' |
		grep -oE '"[a-z][a-z0-9_]*"$' | tr -d '"' | sort -u)
	[ -n "$codes" ]
	listed=$(sed -n '/^\.SH ERRORS/,/^\.SH /p' "$root/man/ts-toolkit.7" |
		grep -A1 '^\.TP' | grep '^\.B ' | sed 's/^\.B //' | sort -u)
	missing=$(comm -23 <(echo "$codes") <(echo "$listed"))
	[ -z "$missing" ] || fail "error codes not in ts-toolkit(7) ERRORS: $missing"
	unused=$(comm -13 <(echo "$codes") <(echo "$listed"))
	for c in $unused; do
		grep -q "\"$c\"" "$root"/cmd/*.c "$root"/lib/*.c || fail "ERRORS lists $c, which nothing writes"
	done
}
