# tests/helpers.bash — loaded by every bats suite (`load helpers`).
#
# TS_BIN: directory of the programs under test (the Makefile sets it; default
# ../bin next to this file), put first on PATH.  DATA: the fixtures, see
# data/SOURCE.md.  Every test runs in its own $BATS_TEST_TMPDIR.

load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

export LC_ALL=C
# Under `make asan` a sanitizer report must not pass for "exit 1, records
# rejected": give it an exit status of its own.
export ASAN_OPTIONS="${ASAN_OPTIONS:-exitcode=99}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-exitcode=98:print_stacktrace=1}"
TS_BIN="${TS_BIN:-$BATS_TEST_DIRNAME/../bin}"
export TS_BIN
PATH="$TS_BIN:$PATH"
DATA="$BATS_TEST_DIRNAME/data"

setup() {
	for p in ts-decompress ts-extract; do
		[ -x "$TS_BIN/$p" ] || fail "$TS_BIN/$p is missing: run make first (or set TS_BIN)"
	done
	cd "$BATS_TEST_TMPDIR" || fail "cannot cd to $BATS_TEST_TMPDIR"
}

# --- error records ----------------------------------------------------------

# assert_error_records FILE N: FILE holds exactly N lines, each one compact
# JSON object with the fields every error record has.
assert_error_records() {
	local file=$1 n=$2 got
	got=$(wc -l < "$file")
	[ "$got" -eq "$n" ] || fail "$file: expected $n error records, got $got:
$(head -c 2000 "$file")"
	[ "$n" -eq 0 ] && return 0
	jq -e -s 'all(.[]; type == "object" and (.error | type == "string")
			   and (.message | type == "string" and length > 0)
			   and (.program | type == "string"))' "$file" > /dev/null ||
		fail "$file: not well-formed error records:
$(head -c 2000 "$file")"
}

# assert_error FILE INDEX JQ-FILTER: the INDEX-th (0-based) record of FILE
# satisfies the jq boolean filter, e.g. '.error == "bad_json" and .line == 2'.
assert_error() {
	local file=$1 i=$2 filter=$3
	jq -e -s --argjson i "$i" ".[\$i] | $filter" "$file" > /dev/null ||
		fail "error record $i of $file does not satisfy: $filter
$(jq -c -s --argjson i "$i" '.[$i]' "$file" 2>&1 | head -c 2000)"
}

# assert_raw FILE INDEX EXPECTED-BYTES-FILE: the raw field of that error
# record decodes to exactly the bytes of EXPECTED-BYTES-FILE.
assert_raw() {
	local file=$1 i=$2 want=$3
	jq -j -s --argjson i "$i" '.[$i].raw' "$file" > "$BATS_TEST_TMPDIR/raw.out" ||
		fail "cannot read raw of record $i in $file"
	cmp "$want" "$BATS_TEST_TMPDIR/raw.out" ||
		fail "raw of record $i in $file differs from $want"
}

# stat_field STDERR-FILE KEY: a field of the --stats line (the last line
# of the file that is a JSON object with "records_in").
stat_field() {
	grep '"records_in"' "$1" | tail -n 1 | jq -r ".$2"
}

# --- generated inputs ----------------------------------------------------------

# adler32 of standard input, as 8 hex digits.
adler32() {
	local a=1 b=0 x
	for x in $(od -An -v -tu1); do
		a=$(((a + x) % 65521))
		b=$(((b + a) % 65521))
	done
	printf '%08x' $(((b << 16) | a))
}

# raw_deflate < in > out: a raw DEFLATE stream (gzip minus its 10-byte header
# and 8-byte trailer; gzip -n writes no name, so the header is 10 bytes).
raw_deflate() {
	gzip -n -c | tail -c +11 | head -c -8
}

# zlib_compress FILE > out: a zlib stream (RFC 1950) built from gzip's deflate
# data, so nothing but gzip and coreutils is needed.  For small files only.
zlib_compress() {
	local h
	h=$(adler32 < "$1")
	printf '\x78\x9c'
	raw_deflate < "$1"
	printf "\\x${h:0:2}\\x${h:2:2}\\x${h:4:2}\\x${h:6:2}"
}

# garbage N > out: N deterministic bytes that look random (the deflate data of
# a counting sequence), with NUL, newline and every other byte in them.
garbage() {
	seq 1 200000 | gzip -9 -n -c | tail -c +11 | head -c "$1"
}

# ndjson_lines N [START]: N small distinct records, one per line.
ndjson_lines() {
	seq "${2:-1}" "$((${2:-1} + $1 - 1))" | sed 's/.*/{"n":&,"s":"record &"}/'
}
