#!/usr/bin/env bats
# ts-diff against two independent oracles on generated data:
#   - the generator's truth: scripts/gen-diff decides which records it
#     changes (and in which fields), leaves out, adds or duplicates, and
#     prints the counts that follow (source, target, matched, missing, extra,
#     changed, duplicateKeys, per-field mismatches and null differences);
#   - DuckDB (scripts/duckdb, the @duckdb/node-api package pinned in
#     tests/package.json): the benchmark's query, scripts/diff-bench.sql (a
#     full outer join on id, every field compared), and queries built on its
#     tables here: the ids of each kind of difference, and the unkeyed
#     multisets (EXCEPT ALL).
# The same comparisons hold on the spill path (--memory 1M).
#
# The DuckDB checks are skipped when node or the package is missing (scripts/
# setup installs both: in CI they run).

bats_require_minimum_version 1.5.0
load helpers

ROOT="$BATS_TEST_DIRNAME/.."
SQL="$ROOT/scripts/diff-bench.sql"

setup_file() {
	# Two cases made once for the file: 20,000 records a side with 2%
	# changed, 0.5% missing, 0.7% extra (400, 100, 140), and the same with 3%
	# of the keys duplicated (a third on both sides, a third in the source
	# only, a third in the target only).
	cd "$BATS_FILE_TMPDIR" || exit 1
	"$ROOT/scripts/gen-diff" --records 20000 --seed 7 --changed 2 --missing 0.5 --extra 0.7 \
		-o s.ndjson -t t.ndjson --truth truth.json
	"$ROOT/scripts/gen-diff" --records 20000 --seed 8 --changed 2 --missing 0.5 --extra 0.7 \
		--dups 3 -o sd.ndjson -t td.ndjson --truth truthd.json
}

setup() {
	[ -x "$TS_BIN/ts-diff" ] || fail "$TS_BIN/ts-diff is missing: run make first (or set TS_BIN)"
	cd "$BATS_TEST_TMPDIR" || fail "cannot cd to $BATS_TEST_TMPDIR"
	F=$BATS_FILE_TMPDIR
}

need_duckdb() {
	command -v node >/dev/null || skip "node is not installed (DuckDB runs in it)"
	[ -d "$ROOT/tests/node_modules/@duckdb/node-api" ] ||
		skip "DuckDB is not installed: run scripts/setup (npm ci --prefix tests)"
}

# duck SOURCE TARGET SQLFILE: DuckDB's rows for SQLFILE over the two files
duck() {
	"$ROOT/scripts/duckdb" -D "SOURCE=$1" -D "TARGET=$2" -f "$3" ||
		fail "DuckDB failed on $3: $(cat "$3")"
}

# with_tables SELECT > FILE: the tables s and t of diff-bench.sql, then SELECT
with_tables() {
	sed '/^select count/,$d' "$SQL"
	printf '%s\n' "$1"
}

# the report's counts, and the truth's, in one comparable form
report_counts() {
	jq -cS '{source, target, matched, missing, extra, changed, duplicateKeys,
		fields: (.fields | map_values({mismatches, nullDiffs}) | with_entries(select(.value.mismatches > 0)))}' "$1"
}
truth_counts() {
	jq -cS '{source, target, matched, missing, extra, changed, duplicateKeys, fields}' "$1"
}

# lines_by_field LINES: {FIELD: number of changed lines whose diffs name it}
lines_by_field() {
	jq -cS -s '[.[] | select(.type == "changed") | .diffs[].field] | group_by(.)
		| map({key: .[0], value: length}) | from_entries' "$1"
}

# check_lines LINES SOURCE: every difference line is sound: a changed line's
# diffs name each field once, with different values (or one side absent); a
# missing (extra) line has a source (target) record only; the key is the
# record's id
check_lines() {
	local bad
	bad=$(jq -c 'select(
		(.type == "changed" and ((.diffs | length) == 0 or (.diffs | map(.field) | unique | length) != (.diffs | length)
			or any(.diffs[]; has("source") and has("target") and .source == .target)
			or .source.id != .key.id or .target.id != .key.id))
		or (.type == "missing" and (has("target") or .source.id != .key.id))
		or (.type == "extra" and (has("source") or .target.id != .key.id)))' "$1" | head -n 3)
	[ -z "$bad" ] || fail "unsound difference lines: $bad"
}

# --- the oracle itself ---------------------------------------------------------------

@test "oracle: DuckDB's counts over generated data equal the generator's truth" {
	need_duckdb
	duck "$F/s.ndjson" "$F/t.ndjson" "$SQL" > duck.json
	assert_equal "$(jq -cS . duck.json)" "$(jq -cS '{missing, extra, changed, matched}' "$F/truth.json")"
	# and the truth is what the percentages ask for
	assert_equal "$(jq -c '[.source, .target, .missing, .extra, .changed]' "$F/truth.json")" \
		"[20000,20040,100,140,400]"
}

# --- keyed ---------------------------------------------------------------------------

@test "keyed: the report equals DuckDB's counts and the generator's truth, field by field" {
	need_duckdb
	run -1 --separate-stderr ts-diff --key id --report r.json --miss-records m.ndjson \
		"$F/s.ndjson" "$F/t.ndjson"
	printf '%s\n' "$output" > lines.ndjson
	assert_equal "$(report_counts r.json)" "$(truth_counts "$F/truth.json")"
	duck "$F/s.ndjson" "$F/t.ndjson" "$SQL" > duck.json
	assert_equal "$(jq -cS '{missing, extra, changed, matched}' r.json)" "$(jq -cS . duck.json)"
	jq -e '.accuracy == .matched / .source' r.json > /dev/null || fail "accuracy: $(cat r.json)"

	# the lines: the same ids of each kind as DuckDB's join finds
	with_tables "select case when t.id is null then 'missing' when s.id is null then 'extra'
			else 'changed' end as type, coalesce(s.id, t.id) as id
		from s full outer join t on s.id = t.id where s is distinct from t;" > ids.sql
	duck "$F/s.ndjson" "$F/t.ndjson" ids.sql | jq -r '"\(.type) \(.id)"' | sort > want
	jq -r '"\(.type) \(.key.id)"' lines.ndjson | sort > got
	[ "$(wc -l < want)" -eq 640 ] || fail "DuckDB found $(wc -l < want) differences, expected 640"
	cmp want got || fail "ids differ from DuckDB's: $(diff want got | head -n 5)"
	check_lines lines.ndjson
	assert_equal "$(lines_by_field lines.ndjson)" \
		"$(jq -cS '.fields | map_values(.mismatches)' "$F/truth.json")"

	# --miss-records: the missing and changed source records, byte for byte
	[ "$(wc -l < m.ndjson)" -eq 500 ] || fail "$(wc -l < m.ndjson) miss records, expected 100 + 400"
	[ "$(sort -u m.ndjson | wc -l)" -eq 500 ] || fail "repeated miss records"
	sort m.ndjson > ms
	sort "$F/s.ndjson" > ss
	[ -z "$(comm -23 ms ss)" ] || fail "a miss record is not a source line: $(comm -23 ms ss | head -n 1)"
}

@test "keyed, spilled: --memory 1M gives the report and the lines of the in-memory run" {
	run -1 --separate-stderr ts-diff --key id --report r1.json "$F/s.ndjson" "$F/t.ndjson"
	printf '%s\n' "$output" | sort > l1
	run -1 --separate-stderr ts-diff --key id --memory 1M --report r2.json "$F/s.ndjson" "$F/t.ndjson"
	printf '%s\n' "$output" | sort > l2
	cmp r1.json r2.json || fail "spilled report differs: $(cat r1.json r2.json)"
	cmp l1 l2 || fail "spilled lines differ: $(diff l1 l2 | head -n 4)"
	assert_equal "$(report_counts r2.json)" "$(truth_counts "$F/truth.json")"
	# 6.5 MB a side does spill at 1M: without a usable temporary directory
	# the run cannot go on; in memory it never needs one
	TMPDIR=/nonexistent run -2 --separate-stderr ts-diff --key id --memory 1M "$F/s.ndjson" "$F/t.ndjson"
	TMPDIR=/nonexistent run -1 --separate-stderr ts-diff --key id "$F/s.ndjson" "$F/t.ndjson"
}

@test "keyed, duplicate keys: in memory and spilled, the counts are the generator's" {
	run -1 --separate-stderr ts-diff --key id --report r1.json "$F/sd.ndjson" "$F/td.ndjson"
	printf '%s\n' "$output" > lines.ndjson
	assert_equal "$(report_counts r1.json)" "$(truth_counts "$F/truthd.json")"
	jq -e '.duplicateKeys == {"source": 400, "target": 400}' "$F/truthd.json" > /dev/null ||
		fail "the generator's duplicates: $(cat "$F/truthd.json")"
	check_lines lines.ndjson
	assert_equal "$(lines_by_field lines.ndjson)" \
		"$(jq -cS '.fields | map_values(.mismatches)' "$F/truthd.json")"
	# a key twice in the source and once in the target: its second source
	# record is missing, with "occurrence":2 (and twice in the target: extra)
	[ "$(jq -s '[.[] | select(.type == "missing" and .occurrence == 2)] | length' lines.ndjson)" -gt 0 ]
	[ "$(jq -s '[.[] | select(.type == "extra" and .occurrence == 2)] | length' lines.ndjson)" -gt 0 ]
	sort lines.ndjson > l1
	run -1 --separate-stderr ts-diff --key id --memory 1M --report r2.json "$F/sd.ndjson" "$F/td.ndjson"
	printf '%s\n' "$output" | sort > l2
	cmp r1.json r2.json || fail "spilled report differs: $(cat r1.json r2.json)"
	cmp l1 l2 || fail "spilled lines differ: $(diff l1 l2 | head -n 4)"
}

# --- unkeyed -------------------------------------------------------------------------

# unkeyed_case SUFFIX: ts-diff without --key over $F/s$SUFFIX.ndjson and
# $F/t$SUFFIX.ndjson.  A changed record is one missing and one extra record
# there; DuckDB's EXCEPT ALL subtracts multisets of rows the same way.
unkeyed_case() {
	local c=$1
	with_tables "select (select count(*) from (from s except all from t)) as missing,
		(select count(*) from (from t except all from s)) as extra;" > u.sql
	duck "$F/s$c.ndjson" "$F/t$c.ndjson" u.sql > duck.json
	run -1 --separate-stderr ts-diff --report r1.json "$F/s$c.ndjson" "$F/t$c.ndjson"
	printf '%s\n' "$output" | sort > l1
	assert_equal "$(jq -cS '{missing, extra}' r1.json)" "$(jq -cS . duck.json)"
	assert_equal "$(jq -cS '{missing, extra}' r1.json)" \
		"$(jq -cS '{missing: (.missing + .changed), extra: (.extra + .changed)}' "$F/truth$c.json")"
	jq -e '.matched + .missing == .source and .changed == 0' r1.json > /dev/null ||
		fail "unkeyed counts do not add up: $(cat r1.json)"
	# the lines' multiplicities add up to the counts
	assert_equal "$(jq -s '[.[] | select(.type == "missing") | .count] | add' l1)" "$(jq .missing r1.json)"
	assert_equal "$(jq -s '[.[] | select(.type == "extra") | .count] | add' l1)" "$(jq .extra r1.json)"
	run -1 --separate-stderr ts-diff --memory 1M --report r2.json "$F/s$c.ndjson" "$F/t$c.ndjson"
	printf '%s\n' "$output" | sort > l2
	cmp r1.json r2.json || fail "spilled unkeyed report differs: $(cat r1.json r2.json)"
	cmp l1 l2 || fail "spilled unkeyed lines differ"
}

@test "unkeyed: missing and extra multisets equal DuckDB's EXCEPT ALL, in memory and spilled" {
	need_duckdb
	unkeyed_case ""
}

@test "unkeyed, duplicated records: multiplicities equal DuckDB's EXCEPT ALL, in memory and spilled" {
	need_duckdb
	unkeyed_case d
	# a changed record twice on both sides: its source form is missing
	# twice, its target form extra twice
	jq -e -s 'any(.[]; .type == "missing" and .count == 2) and any(.[]; .type == "extra" and .count == 2)' l1 > /dev/null ||
		fail "no record missing or extra twice"
}

# --- larger ------------------------------------------------------------------------------

# bats test_tags=slow
@test "300,000 records a side, the benchmark's proportions, spilled at --memory 4M: DuckDB's counts and the truth" {
	need_duckdb
	"$ROOT/scripts/gen-diff" --records 300000 --seed 11 -o s.ndjson -t t.ndjson --truth truth.json
	run -1 --separate-stderr ts-diff --key id --memory 4M --report r.json s.ndjson t.ndjson
	assert_equal "$(report_counts r.json)" "$(truth_counts truth.json)"
	duck s.ndjson t.ndjson "$SQL" > duck.json
	assert_equal "$(jq -cS '{missing, extra, changed, matched}' r.json)" "$(jq -cS . duck.json)"
	assert_equal "$(jq -c '[.missing, .extra, .changed]' truth.json)" "[300,300,1500]"
}
