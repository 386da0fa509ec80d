#!/usr/bin/env bats
# ts-diff: a source and a target dataset compared, as a migration validation
# compares them.
#
# 1. Public cases (tests/data/diff, see its SOURCE.md): Apache Griffin's
#    accuracy measure over users_info (its expected metrics), datacompy's
#    pandas example (its sample report) and its report snapshots (every
#    count of each snapshot read from the snapshot's text).
# 2. Small exact cases, one option or edge each: empty sides, all different,
#    duplicate keys, null vs missing, nested paths, --ignore/--only,
#    tolerance boundaries, case, blanks, array order, numeric strings,
#    numbers by value (beyond double precision), unicode, composite and
#    nested keys, the unkeyed multiset, --max-diffs, --report,
#    --miss-records, --format text.
# 3. The input contract: malformed and non-object records, a missing key,
#    unreadable inputs, compressed inputs, standard input, --stats, usage.
# 4. Size: the spill path forced with a tiny --memory gives the bytes of the
#    in-memory run; --shard I/N for N = 1, 2, 3, 7 and --merge-reports give
#    the lines and the report line of one run.
#
# The expected values are worked out by hand in the comment above each check.
# jq 1.6 reads numbers as doubles: numbers beyond double precision are
# checked on the raw bytes, never through jq.

bats_require_minimum_version 1.5.0
load helpers

DD="$BATS_TEST_DIRNAME/data/diff"
GR="$DD/griffin"
DC="$DD/datacompy"

setup() {
	[ -x "$TS_BIN/ts-diff" ] || fail "$TS_BIN/ts-diff is missing: run make first (or set TS_BIN)"
	cd "$BATS_TEST_TMPDIR" || fail "cannot cd to $BATS_TEST_TMPDIR"
}

# --- helpers -------------------------------------------------------------------

# mk FILE LINE...: FILE holds these lines.
mk() {
	local f=$1
	shift
	printf '%s\n' "$@" > "$f"
}

# report_line: the report line of the last `run` (the last line of its
# standard output that is a report).
report_line() {
	printf '%s\n' "$output" | grep -F '"type":"report"' | tail -n 1
}

# rep JQ-FILTER [FILE]: the report line (of the last run, or the last line of
# FILE) satisfies the jq boolean filter.
rep() {
	local line
	if [ $# -ge 2 ]; then line=$(tail -n 1 "$2"); else line=$(report_line); fi
	[ -n "$line" ] || fail "no report line in: $(printf '%s' "$output" | head -c 3000)"
	jq -e "select(.type == \"report\") | $1" <<< "$line" > /dev/null ||
		fail "report does not satisfy: $1
$line"
}

# counts SOURCE TARGET MATCHED MISSING EXTRA CHANGED [FILE]: the report's counts.
counts() {
	rep ".source == $1 and .target == $2 and .matched == $3 and .missing == $4
	     and .extra == $5 and .changed == $6" "${@:7}"
}

# diffs JQ-FILTER: the difference lines of the last run (every line but the
# report), as one array, satisfy the jq boolean filter.
diffs() {
	printf '%s\n' "$output" | grep -vF '"type":"report"' | grep . > lines.ndjson || :
	jq -e -s "$1" lines.ndjson > /dev/null ||
		fail "difference lines do not satisfy: $1
$(head -c 3000 lines.ndjson)"
}

# ndiff N: the last run wrote exactly N difference lines.
ndiff() {
	diffs "length == $1"
}

# line TYPE KEY-JSON JQ-FILTER: the one difference line of TYPE whose key is
# KEY-JSON (compared by meaning) satisfies the filter.
line() {
	diffs "[.[] | select(.type == \"$1\" and .key == $2)] | length == 1 and (.[0] | $3)"
}

# one_line FILE N: the N-th line of FILE compact, as ts-diff writes a record
# it read (every token's bytes as read, the blanks between tokens dropped):
# Griffin's lines have a blank after each ':' and ',', never in a string.
one_line() {
	sed -n "${2}p" "$1" | compact
}

# compact < Griffin's lines: the blanks after ':' and ',' dropped.
compact() {
	sed -e 's/": /":/g' -e 's/, "/,"/g'
}

# === 1. public cases ==========================================================

# Griffin's "accuracy batch job" measures data.source = target against
# ref.source = source on all seven columns: total 50, miss 4, matched 46,
# matchedFraction 0.92.  Unkeyed ts-diff with Griffin's data.source as SOURCE
# is the same measure.  The four target records found nowhere in the source:
# lines 39 (address 239 DisneyCity, source has ...123), 44 (Tom044, source
# has Tom049), 49 (user 10049: the source has 10050 twice) and 50 (Tom050,
# source has Tom0).
@test "griffin: accuracy of users_info_target against users_info_src is 46/50, as Griffin's test expects" {
	run -1 --separate-stderr ts-diff --miss-records miss.ndjson "$GR/users_info_target.ndjson" "$GR/users_info_src.ndjson"
	counts 50 50 46 4 4 0
	rep '.accuracy == 0.92'
	diffs 'map(select(.type == "missing")) | length == 4 and all(.[]; .count == 1)'
	diffs 'map(select(.type == "extra")) | length == 4 and all(.[]; .count == 1)'
	diffs 'map(select(.type == "missing") | .source.user_id) | sort == [10039, 10044, 10049, 10050]'
	diffs 'map(select(.type == "missing") | .source.first_name) | sort == ["Tom039", "Tom044", "Tom049", "Tom050"]'
	# Griffin's __missRecords: the records as they were read, byte for byte
	sed -n '39p;44p;49p;50p' "$GR/users_info_target.ndjson" | compact | sort > want
	sort miss.ndjson > got
	cmp want got || fail "miss records: $(cat miss.ndjson)"
	assert_equal "$stderr" ""
}

@test "griffin: the other direction (source measured against target) also misses 4 of 50" {
	run -1 --separate-stderr ts-diff --miss-records miss.ndjson "$GR/users_info_src.ndjson" "$GR/users_info_target.ndjson"
	counts 50 50 46 4 4 0
	rep '.accuracy == 0.92'
	sed -n '39p;44p;49p;50p' "$GR/users_info_src.ndjson" | compact | sort > want
	sort miss.ndjson > got
	cmp want got
}

# Keyed on user_id: 10039 (address) and 10044 (first_name) changed; the
# source's two 10050 records pair in order with the target's one: the first
# (Tom049, 249, tomajerrya049, 10000049) is changed in four fields, the
# second (Tom0) is missing; the target's 10049 is extra.
# matched = 50 - 3 changed - 1 missing = 46.
@test "griffin: keyed on user_id, the changed fields of each record and the duplicate 10050" {
	run -1 --separate-stderr ts-diff --key user_id --miss-records miss.ndjson \
		"$GR/users_info_src.ndjson" "$GR/users_info_target.ndjson"
	counts 50 50 46 1 1 3
	rep '.accuracy == 0.92'
	rep '.duplicateKeys.source == 1 and .duplicateKeys.target == 0'
	ndiff 5
	line changed '{"user_id":10039}' '.diffs == [{"field":"address","source":"239 DisneyCity123","target":"239 DisneyCity"}]'
	line changed '{"user_id":10044}' '.diffs == [{"field":"first_name","source":"Tom049","target":"Tom044"}]'
	line changed '{"user_id":10050}' '(.diffs | map(.field) | sort) == ["address", "email", "first_name", "phone"]
		and (.diffs[] | select(.field == "phone")) == {"field":"phone","source":"10000049","target":"10000050"}
		and .source.first_name == "Tom049" and .target.first_name == "Tom050"'
	line missing '{"user_id":10050}' '.source.first_name == "Tom0" and .occurrence == 2 and has("target") == false'
	line extra '{"user_id":10049}' '.target.first_name == "Tom049" and has("source") == false'
	# per field: address 10039 and 10050, first_name 10044 and 10050
	rep '.fields.address.mismatches == 2 and .fields.first_name.mismatches == 2
	     and .fields.email.mismatches == 1 and .fields.phone.mismatches == 1
	     and (.fields.last_name.mismatches // 0) == 0 and (.fields.post_code.mismatches // 0) == 0'
	rep '.sourceOnlyFields == [] and .targetOnlyFields == []'
	# the records are written as read, compact (Griffin's blanks after : and , dropped)
	grep -F -- "$(one_line "$GR/users_info_src.ndjson" 39)" <<< "$output" > /dev/null
	grep -F -- "$(one_line "$GR/users_info_target.ndjson" 39)" <<< "$output" > /dev/null
	# no exact match: 10039, 10044, the first 10050 (changed), the second (missing)
	sed -n '39p;44p;49p;50p' "$GR/users_info_src.ndjson" | compact | sort > want
	sort miss.ndjson > got
	cmp want got
}

# Griffin's CSV copy of the source, converted with numbers as numbers, against
# the Avro source (phone and post_code strings): every phone and post_code is
# a type change (post_code of row 42 is missing in the CSV), 49 addresses
# carry trailing blanks (row 7 is 207 DisneyCity111 in the CSV), row 50's
# first name is "Tom0  ".  With --trim and --coerce-numbers only row 7's
# address and row 42's post_code remain: missing in the CSV, null in the Avro
# file (the one incomplete record of Griffin's completeness test); with
# --null-equals-missing too, row 7 alone.
@test "griffin: the CSV copy of the source equals the Avro one under --trim --coerce-numbers but for two rows" {
	run -1 --separate-stderr ts-diff --key user_id "$GR/users_info_src.csv.ndjson" "$GR/users_info_src.ndjson"
	counts 50 50 0 0 0 50
	rep '.fields.phone.mismatches == 50 and .fields.phone.typeChanges == 50'
	rep '.fields.post_code.mismatches == 50 and .fields.post_code.typeChanges == 49 and .fields.post_code.nullDiffs == 1'
	rep '.fields.address.mismatches == 49 and .fields.first_name.mismatches == 1'
	rep '.duplicateKeys.source == 1 and .duplicateKeys.target == 1'
	run -1 --separate-stderr ts-diff --key user_id --trim --coerce-numbers "$GR/users_info_src.csv.ndjson" "$GR/users_info_src.ndjson"
	counts 50 50 48 0 0 2
	ndiff 2
	line changed '{"user_id":10007}' '.diffs == [{"field":"address","source":"207 DisneyCity111","target":"207 DisneyCity"}]'
	line changed '{"user_id":10042}' '.diffs == [{"field":"post_code","target":null}]'
	rep '.fields.post_code == {"mismatches":1,"maxDiff":null,"nullDiffs":1,"typeChanges":0}'
	run -1 --separate-stderr ts-diff --key user_id --trim --coerce-numbers --null-equals-missing \
		"$GR/users_info_src.csv.ndjson" "$GR/users_info_src.ndjson"
	counts 50 50 49 0 0 1
	line changed '{"user_id":10007}' '.diffs == [{"field":"address","source":"207 DisneyCity111","target":"207 DisneyCity"}]'
}

# datacompy's sample report joins data1/data2 on acct_id with abs_tol 0.0001;
# datacompy compares the columns in common only (date_fld is in df1 only), so
# --ignore date_fld.  Duplicates: acct_id 10000001238 twice in data1.
# datacompy pairs duplicates after sorting by the other columns (Loose Seal
# with Loose Seal, Lucille only in df1); ts-diff pairs them in the order read:
# Lucille with Loose Seal (name changed, float_fld null vs 111), the second
# (Loose Seal) missing.  Rows in common 5, only in data1 1, only in data2 0,
# all 5 in common unequal, as datacompy.  Per column:
#   dollar_amt  1 unequal, max diff 0.05 (123.45 vs 123.4), 0 null diffs
#   float_fld   4 unequal (14530.1555 vs 14530.155: 0.0005 > 0.0001; 1 vs
#               null; null vs 1; null vs 111), max diff 0.0005, 3 null diffs
#   name        datacompy 2 (George, Bob); here 3 (+ Lucille vs Loose Seal)
@test "datacompy: data1 vs data2 on acct_id gives the counts of datacompy's sample report" {
	grep -qxF 'Number of rows in common: 5' "$DC/report_acct_id.txt"
	grep -qxF 'Number of rows in original but not in new: 1' "$DC/report_acct_id.txt"
	grep -qxF 'Number of rows with some compared columns unequal: 5' "$DC/report_acct_id.txt"
	grep -qE '^1 +float_fld +float64 +float64 +4 +0.0005 +3$' "$DC/report_acct_id.txt"
	run -1 --separate-stderr ts-diff --key acct_id --abs-tol 0.0001 --ignore date_fld --miss-records miss.ndjson \
		"$DC/data1.ndjson" "$DC/data2.ndjson"
	counts 6 5 0 1 0 5
	rep '.accuracy == 0'
	rep '.duplicateKeys.source == 1 and .duplicateKeys.target == 0'
	rep '.fields.dollar_amt.mismatches == 1 and .fields.dollar_amt.nullDiffs == 0
	     and (.fields.dollar_amt.maxDiff - 0.05 | fabs) < 1e-12'
	rep '.fields.float_fld.mismatches == 4 and .fields.float_fld.nullDiffs == 3
	     and (.fields.float_fld.maxDiff - 0.0005 | fabs) < 1e-12'
	rep '.fields.name.mismatches == 3 and .fields.name.nullDiffs == 0'
	rep '[.fields[] | .mismatches] | add == 8'
	line changed '{"acct_id":10000001234}' '(.diffs | map(.field)) == ["dollar_amt", "float_fld", "name"]'
	line changed '{"acct_id":10000001235}' '.diffs == [{"field":"float_fld","source":1,"target":null}]'
	line changed '{"acct_id":10000001236}' '.diffs == [{"field":"float_fld","source":null,"target":1}]'
	line changed '{"acct_id":10000001237}' '.diffs == [{"field":"name","source":"Bob Loblaw","target":"Robert Loblaw"}]'
	line changed '{"acct_id":10000001238}' '.diffs == [{"field":"float_fld","source":null,"target":111},
		{"field":"name","source":"Lucille Bluth","target":"Loose Seal Bluth"}]'
	line missing '{"acct_id":10000001238}' '.source.name == "Loose Seal Bluth" and .occurrence == 2'
	# every source record lacks an exact match
	cmp "$DC/data1.ndjson" miss.ndjson || { sort "$DC/data1.ndjson" > want; sort miss.ndjson > got; cmp want got; }
}

# Without --ignore, date_fld is a column of data1 only: reported as such, and
# a difference of every pair (the target lacks it).
@test "datacompy: date_fld is a source-only field" {
	run -1 --separate-stderr ts-diff --key acct_id --abs-tol 0.0001 "$DC/data1.ndjson" "$DC/data2.ndjson"
	counts 6 5 0 1 0 5
	rep '.sourceOnlyFields == ["date_fld"] and .targetOnlyFields == []'
	line changed '{"acct_id":10000001235}' '.diffs == [{"field":"date_fld","source":"2017-01-01"},
		{"field":"float_fld","source":1,"target":null}]'
}

# datacompy's other join of the page: on acct_id and name.  In common:
# (1235 Michael Bluth), (1236 George Bluth), (1238 Loose Seal Bluth), each
# with a float_fld null difference; only in data1: (1234 George Maharis),
# (1237 Bob Loblaw), (1238 Lucille Bluth); only in data2: (1234 George
# Michael Bluth), (1237 Robert Loblaw).  No duplicates.
@test "datacompy: data1 vs data2 on acct_id,name" {
	run -1 --separate-stderr ts-diff --key acct_id,name --ignore date_fld "$DC/data1.ndjson" "$DC/data2.ndjson"
	counts 6 5 0 3 2 3
	rep '.duplicateKeys.source == 0 and .duplicateKeys.target == 0'
	line changed '{"acct_id":10000001238,"name":"Loose Seal Bluth"}' '.diffs == [{"field":"float_fld","source":null,"target":111}]'
	line missing '{"acct_id":10000001238,"name":"Lucille Bluth"}' '.source.dollar_amt == 1.05'
	line extra '{"acct_id":10000001237,"name":"Robert Loblaw"}' '.target.float_fld == 345.12'
	rep '.fields.float_fld.mismatches == 3 and .fields.float_fld.nullDiffs == 3'
}

# snapshot NAME: datacompy's report snapshot pandas_NAME.txt read for its
# numbers, and ts-diff over the same DataFrames (cases/NAME.df1/df2) with the
# snapshot's join column and tolerances, comparing the columns in common
# (as datacompy does): rows per side, rows in common, only in each, rows
# equal and unequal, duplicates, columns only in one side, and the table of
# columns with unequal values (# unequal, max diff to the 4 decimals printed,
# # null diff); the columns not in the table have no mismatch.
snapshot() {
	local snap="$DC/snapshots/pandas_$1.txt" key abs rel want_rc ign
	local -a args=()
	key=$(sed -n 's/^Matched on: //p' "$snap")
	abs=$(sed -n 's/^Default Absolute Tolerance: //p' "$snap")
	rel=$(sed -n 's/^Default Relative Tolerance: //p' "$snap")
	args=(--key "$key")
	[ "$abs" = 0 ] || args+=(--abs-tol "$abs")
	[ "$rel" = 0 ] || args+=(--rel-tol "$rel")
	ign=$(sed -n "s/^Number of columns in df[12] but not in df[12]: [0-9]* \[\(.*\)\]\$/\1/p" "$snap" |
		tr -d "' " | paste -sd, -)
	[ -z "$ign" ] || args+=(--ignore "$ign")
	num() { sed -n "s/^$1: *\([0-9]*\).*/\1/p" "$snap"; }
	local common only1 only2 unequal equal dups ncolsneq total rows1 rows2
	common=$(num 'Number of rows in common')
	only1=$(num 'Number of rows in [a-z0-9]* but not in [a-z0-9]*' | sed -n 1p)
	only2=$(num 'Number of rows in [a-z0-9]* but not in [a-z0-9]*' | sed -n 2p)
	unequal=$(num 'Number of rows with some compared columns unequal')
	equal=$(num 'Number of rows with all compared columns equal')
	ncolsneq=$(num 'Number of columns compared with some values unequal')
	total=$(num 'Total number of values which compare unequal')
	dups=$(sed -n 's/^Any duplicates on match values: //p' "$snap")
	# DataFrame Summary: the two lines after the dashes, "name columns rows"
	rows1=$(awk '/^DataFrame +Columns +Rows/ {getline; getline; print $3; exit}' "$snap")
	rows2=$(awk '/^DataFrame +Columns +Rows/ {getline; getline; getline; print $3; exit}' "$snap")
	for v in "$key" "$common" "$only1" "$only2" "$unequal" "$equal" "$ncolsneq" "$total" "$dups" "$rows1" "$rows2"; do
		[ -n "$v" ] || fail "cannot read $snap"
	done
	[ $((only1 + only2 + unequal)) -eq 0 ] && want_rc=0 || want_rc=1
	run "-$want_rc" --separate-stderr ts-diff "${args[@]}" "$DC/cases/$1.df1.ndjson" "$DC/cases/$1.df2.ndjson"
	counts "$rows1" "$rows2" "$equal" "$only1" "$only2" "$unequal"
	rep ".matched + .changed == $common"
	if [ "$dups" = Yes ]; then
		rep '.duplicateKeys.source + .duplicateKeys.target > 0'
	else
		rep '.duplicateKeys.source + .duplicateKeys.target == 0'
	fi
	rep "([.fields[] | select(.mismatches > 0)] | length) == $ncolsneq"
	rep "([.fields[] | .mismatches] | add // 0) == $total"
	# the table: Column dtype1 dtype2 #unequal maxdiff #nulldiff reltol abstol
	awk '/^Columns with Unequal Values or Types/ {t = 1; next}
	     t && /^---/ {n++; next}
	     t && n >= 2 && NF == 0 {exit}
	     t && n >= 2 {print $1, $4, $5, $6}' "$snap" > table
	local col ne md nd seen=""
	while read -r col ne md nd; do
		rep ".fields[\"$col\"].mismatches == $ne and .fields[\"$col\"].nullDiffs == $nd
		     and ((.fields[\"$col\"].maxDiff // 0) - $md | fabs) <= 0.00005"
		seen+="\"$col\","
	done < table
	rep "[.fields | to_entries[] | select(.value.mismatches > 0) | .key] - [${seen%,}] == []"
}

@test "datacompy snapshot: no_mismatches" {
	snapshot no_mismatches
	ndiff 0
}

@test "datacompy snapshot: with_mismatches (val 20 vs 99, score 2.0 vs 2.5)" {
	snapshot with_mismatches
	line changed '{"id":2}' '.diffs == [{"field":"score","source":2.0,"target":2.5},{"field":"val","source":20,"target":99}]'
	rep '.fields.val.maxDiff == 79 and .fields.score.maxDiff == 0.5'
}

@test "datacompy snapshot: unique_rows" {
	snapshot unique_rows
	line missing '{"id":3}' '.source == {"id":3,"val":30}'
	line extra '{"id":4}' '.target == {"id":4,"val":40}'
}

@test "datacompy snapshot: unique_columns (compared on the columns in common)" {
	snapshot unique_columns
	rep '.sourceOnlyFields == ["only_1"] and .targetOnlyFields == ["only_2"]'
}

@test "datacompy: unique_columns without --ignore: each pair differs in only_1 and only_2" {
	run -1 --separate-stderr ts-diff --key id "$DC/cases/unique_columns.df1.ndjson" "$DC/cases/unique_columns.df2.ndjson"
	counts 2 2 0 0 0 2
	rep '.sourceOnlyFields == ["only_1"] and .targetOnlyFields == ["only_2"]'
	line changed '{"id":1}' '.diffs == [{"field":"only_1","source":9},{"field":"only_2","target":8}]'
}

@test "datacompy snapshot: with_tolerances (1.0 vs 1.0001 within abs 0.001)" {
	snapshot with_tolerances
	ndiff 0
}

@test "datacompy snapshot: duplicates" {
	snapshot duplicates
	rep '.duplicateKeys.source == 1 and .duplicateKeys.target == 1'
}

@test "datacompy snapshot: sample_count_zero (every val off)" {
	snapshot sample_count_zero
	rep '.fields.val.maxDiff == 3'
}

# === 2. small exact cases =======================================================

@test "empty: both sides empty are the same, keyed and unkeyed; accuracy is null" {
	: > s
	: > t
	run -0 --separate-stderr ts-diff --key id s t
	counts 0 0 0 0 0 0
	rep '.accuracy == null'
	ndiff 0
	run -0 --separate-stderr ts-diff s t
	counts 0 0 0 0 0 0
	rep '.accuracy == null'
	ndiff 0
	assert_equal "$stderr" ""
}

@test "empty: an empty target makes every source record missing, accuracy 0" {
	mk s '{"id":1,"v":"a"}' '{"id":2,"v":"b"}'
	: > t
	run -1 --separate-stderr ts-diff --key id s t
	counts 2 0 0 2 0 0
	rep '.accuracy == 0'
	ndiff 2
	line missing '{"id":1}' '.source == {"id":1,"v":"a"}'
	line missing '{"id":2}' '.source == {"id":2,"v":"b"}'
	run -1 --separate-stderr ts-diff s t
	counts 2 0 0 2 0 0
	diffs 'map(.type) == ["missing", "missing"] and all(.[]; .count == 1)'
}

@test "empty: an empty source makes every target record extra, accuracy null" {
	: > s
	mk t '{"id":1}' '{"id":2}' '{"id":3}'
	run -1 --separate-stderr ts-diff --key id s t
	counts 0 3 0 0 3 0
	rep '.accuracy == null'
	diffs 'map(.type) == ["extra", "extra", "extra"] and (map(.key.id) | sort) == [1, 2, 3]'
}

@test "all different: no key in common, then every value different" {
	mk s '{"id":1,"v":1}' '{"id":2,"v":2}' '{"id":3,"v":3}'
	mk t '{"id":4,"v":1}' '{"id":5,"v":2}' '{"id":6,"v":3}'
	run -1 --separate-stderr ts-diff --key id s t
	counts 3 3 0 3 3 0
	rep '.accuracy == 0'
	ndiff 6
	mk t '{"id":3,"v":"3"}' '{"id":2,"v":20}' '{"id":1,"v":null}'
	run -1 --separate-stderr ts-diff --key id s t
	counts 3 3 0 0 0 3
	# v: 3 mismatches; max diff 18 (2 vs 20); 1 null diff; 1 type change (3 vs "3")
	rep '.fields.v == {"mismatches":3,"maxDiff":18,"nullDiffs":1,"typeChanges":1}'
	line changed '{"id":3}' '.diffs == [{"field":"v","source":3,"target":"3"}]'
	line changed '{"id":1}' '.diffs == [{"field":"v","source":1,"target":null}]'
}

@test "same: records in another order, members in another order, exit 0" {
	mk s '{"id":1,"a":"x","b":[1,2]}' '{"id":2,"a":"y","b":{"c":1,"d":2}}'
	mk t '{"b":{"d":2,"c":1},"id":2,"a":"y"}' '{"a":"x","b":[1,2],"id":1}'
	run -0 --separate-stderr ts-diff --key id s t
	counts 2 2 2 0 0 0
	rep '.accuracy == 1'
	ndiff 0
	run -0 --separate-stderr ts-diff s t
	counts 2 2 2 0 0 0
	assert_equal "$stderr" ""
}

# id 1: three in the source (a, b, c), two in the target (a, x): a = a,
# b vs x changed (occurrence 2), c missing (occurrence 3).  id 2: one in the
# source, two in the target: the second is extra.  duplicateKeys counts the
# records that repeat a key read before (occurrence 2 and up): 2 in the
# source (b, c), 2 in the target (x, q).
@test "duplicate keys: paired in the order read, counted, the occurrence on each line" {
	mk s '{"id":1,"v":"a"}' '{"id":2,"v":"p"}' '{"id":1,"v":"b"}' '{"id":1,"v":"c"}'
	mk t '{"id":2,"v":"p"}' '{"id":1,"v":"a"}' '{"id":1,"v":"x"}' '{"id":2,"v":"q"}'
	run -1 --separate-stderr ts-diff --key id s t
	counts 4 4 2 1 1 1
	rep '.duplicateKeys.source == 2 and .duplicateKeys.target == 2'
	ndiff 3
	line changed '{"id":1}' '.occurrence == 2 and .diffs == [{"field":"v","source":"b","target":"x"}]'
	line missing '{"id":1}' '.occurrence == 3 and .source.v == "c"'
	line extra '{"id":2}' '.occurrence == 2 and .target.v == "q"'
}

@test "duplicate keys: the first occurrence carries no occurrence member" {
	mk s '{"id":1,"v":"a"}' '{"id":1,"v":"b"}'
	mk t '{"id":1,"v":"z"}' '{"id":1,"v":"b"}'
	run -1 --separate-stderr ts-diff --key id s t
	counts 2 2 1 0 0 1
	line changed '{"id":1}' 'has("occurrence") == false or .occurrence == 1'
}

# Under --null-equals-missing a null still is a value: null vs 0 differs, and
# the difference shows the null that was read ("source":null), not a missing
# member.
@test "null vs missing: different unless --null-equals-missing; null vs 0 always different" {
	mk s '{"id":1,"a":null}' '{"id":2}' '{"id":3,"a":null}' '{"id":4,"a":null}'
	mk t '{"id":1}' '{"id":2,"a":null}' '{"id":3,"a":null}' '{"id":4,"a":0}'
	run -1 --separate-stderr ts-diff --key id s t
	counts 4 4 1 0 0 3
	line changed '{"id":1}' '.diffs == [{"field":"a","source":null}]'
	line changed '{"id":2}' '.diffs == [{"field":"a","target":null}]'
	line changed '{"id":4}' '.diffs == [{"field":"a","source":null,"target":0}]'
	rep '.fields.a.mismatches == 3'
	run -1 --separate-stderr ts-diff --key id --null-equals-missing s t
	counts 4 4 3 0 0 1
	ndiff 1
	line changed '{"id":4}' '.diffs == [{"field":"a","source":null,"target":0}]'
	rep '.fields.a.mismatches == 1 and .fields.a.nullDiffs == 1'
}

@test "null vs missing: --null-equals-missing in nested objects and unkeyed" {
	mk s '{"id":1,"a":{"b":null,"c":1}}'
	mk t '{"id":1,"a":{"c":1}}'
	run -1 --separate-stderr ts-diff --key id s t
	line changed '{"id":1}' '.diffs == [{"field":"a.b","source":null}]'
	run -0 --separate-stderr ts-diff --key id --null-equals-missing s t
	counts 1 1 1 0 0 0
	run -0 --separate-stderr ts-diff --null-equals-missing s t
	counts 1 1 1 0 0 0
}

@test "nested: a change at depth is one diff named by its path" {
	mk s '{"id":1,"a":{"b":[{"c":1},{"c":2,"d":"x"}]},"e":[1,2],"odd key":{"k":1}}'
	mk t '{"id":1,"a":{"b":[{"c":1},{"c":3,"d":"x"}]},"e":[1,2,3],"odd key":{"k":2}}'
	run -1 --separate-stderr ts-diff --key id s t
	counts 1 1 0 0 0 1
	line changed '{"id":1}' '.diffs == [{"field":"a.b[1].c","source":2,"target":3},
		{"field":"e[2]","target":3},{"field":"\"odd key\".k","source":1,"target":2}]
		or .diffs == [{"field":"a.b[1].c","source":2,"target":3},
		{"field":"e[2]","target":3},{"field":".\"odd key\".k","source":1,"target":2}]'
	rep '.fields["a.b[1].c"].mismatches == 1 and .fields["e[2]"].mismatches == 1'
}

@test "nested: an object on one side and a scalar on the other is one type change" {
	mk s '{"id":1,"a":{"b":1}}'
	mk t '{"id":1,"a":"b"}'
	run -1 --separate-stderr ts-diff --key id s t
	line changed '{"id":1}' '.diffs == [{"field":"a","source":{"b":1},"target":"b"}]'
	rep '.fields.a.typeChanges == 1'
}

@test "--ignore: the named fields are not compared (comma-separated, repeatable, nested)" {
	mk s '{"id":1,"a":1,"b":2,"c":{"x":1,"y":1}}'
	mk t '{"id":1,"a":1,"b":3,"c":{"x":2,"y":1},"d":4}'
	run -1 --separate-stderr ts-diff --key id s t
	line changed '{"id":1}' '(.diffs | map(.field)) == ["b", "c.x", "d"]'
	run -1 --separate-stderr ts-diff --key id --ignore b s t
	line changed '{"id":1}' '(.diffs | map(.field)) == ["c.x", "d"]'
	run -0 --separate-stderr ts-diff --key id --ignore b,c.x,d s t
	counts 1 1 1 0 0 0
	run -0 --separate-stderr ts-diff --key id --ignore b --ignore c.x --ignore .d s t
	counts 1 1 1 0 0 0
	run -0 --separate-stderr ts-diff --key id --ignore b,c,d s t
	counts 1 1 1 0 0 0
	# unkeyed too: the records compare without the ignored fields
	run -0 --separate-stderr ts-diff --ignore b,c,d s t
	counts 1 1 1 0 0 0
}

@test "--only: only the named fields (and the key) are compared" {
	mk s '{"id":1,"a":1,"b":2,"c":{"x":1,"y":1}}'
	mk t '{"id":1,"a":1,"b":3,"c":{"x":2,"y":1},"d":4}'
	run -0 --separate-stderr ts-diff --key id --only a s t
	counts 1 1 1 0 0 0
	run -0 --separate-stderr ts-diff --key id --only a,c.y s t
	counts 1 1 1 0 0 0
	run -1 --separate-stderr ts-diff --key id --only a,b s t
	line changed '{"id":1}' '.diffs == [{"field":"b","source":2,"target":3}]'
	run -1 --separate-stderr ts-diff --key id --only a --only c s t
	line changed '{"id":1}' '.diffs == [{"field":"c.x","source":1,"target":2}]'
}

@test "option paths: [] matches every element, [N] one, in --ignore, --only and --abs-tol" {
	mk s '{"id":1,"items":[{"sku":"a","price":1,"qty":1},{"sku":"b","price":2,"qty":5}]}'
	mk t '{"id":1,"items":[{"sku":"a","price":9,"qty":1.5},{"sku":"b","price":8,"qty":5}]}'
	run -1 --separate-stderr ts-diff --key id s t
	line changed '{"id":1}' '(.diffs | map(.field)) == ["items[0].price", "items[0].qty", "items[1].price"]'
	rep '.fields["items[0].price"].mismatches == 1 and .fields["items[1].price"].maxDiff == 6'
	run -1 --separate-stderr ts-diff --key id --ignore 'items[].price' s t
	line changed '{"id":1}' '.diffs == [{"field":"items[0].qty","source":1,"target":1.5}]'
	run -1 --separate-stderr ts-diff --key id --ignore 'items[1].price' s t
	line changed '{"id":1}' '(.diffs | map(.field)) == ["items[0].price", "items[0].qty"]'
	run -0 --separate-stderr ts-diff --key id --ignore 'items[].price' --abs-tol 'items[].qty=0.5' s t
	counts 1 1 1 0 0 0
	run -1 --separate-stderr ts-diff --key id --only 'items[].qty' s t
	line changed '{"id":1}' '.diffs == [{"field":"items[0].qty","source":1,"target":1.5}]'
}

@test "option paths: a negative index counts from the end (ts-toolkit(7) paths)" {
	mk s '{"id":1,"items":[{"price":1},{"price":2}]}'
	mk t '{"id":1,"items":[{"price":9},{"price":8}]}'
	run -1 --separate-stderr ts-diff --key id --ignore 'items[-1].price' s t
	line changed '{"id":1}' '.diffs == [{"field":"items[0].price","source":1,"target":9}]'
}

# |s - t| <= abs: with binary fractions the boundary is exact in any arithmetic.
@test "--abs-tol: exactly at the tolerance is equal, just over is not" {
	mk s '{"id":1,"v":10}' '{"id":2,"v":10}' '{"id":3,"v":10}' '{"id":4,"v":10.5}'
	mk t '{"id":1,"v":10.5}' '{"id":2,"v":9.5}' '{"id":3,"v":10.5000001}' '{"id":4,"v":10}'
	run -1 --separate-stderr ts-diff --key id --abs-tol 0.5 s t
	counts 4 4 3 0 0 1
	line changed '{"id":3}' '.diffs == [{"field":"v","source":10,"target":10.5000001}]'
	rep '.fields.v.mismatches == 1'
	run -1 --separate-stderr ts-diff --key id --abs-tol 0.25 s t
	counts 4 4 0 0 0 4
	run -0 --separate-stderr ts-diff --key id --abs-tol 1 s t
	counts 4 4 4 0 0 0
}

# The tolerance is a decimal as written, and so are the values: 100.01 vs
# 100 is exactly 0.01 apart (in doubles 100.01 - 100 = 0.010000000000005116,
# over the double nearest 0.01).  A user writing --abs-tol 0.01 expects the
# boundary to hold.
@test "--abs-tol: a decimal boundary holds (100.01 vs 100 within 0.01)" {
	mk s '{"id":1,"v":100.01}' '{"id":2,"v":1.1}' '{"id":3,"v":100.02}'
	mk t '{"id":1,"v":100}' '{"id":2,"v":1.0}' '{"id":3,"v":100}'
	# 0.01: 100.01 (at the boundary) equal; 1.1 vs 1.0 and 100.02 vs 100 not
	run -1 --separate-stderr ts-diff --key id --abs-tol 0.01 s t
	counts 3 3 1 0 0 2
	line changed '{"id":2}' '.diffs[0].field == "v"'
	line changed '{"id":3}' '.diffs[0].field == "v"'
	run -1 --separate-stderr ts-diff --key id --abs-tol v=0.01 s t
	counts 3 3 1 0 0 2
	# 0.1: 1.1 vs 1.0 at the boundary, all equal
	run -0 --separate-stderr ts-diff --key id --abs-tol 0.1 s t
	counts 3 3 3 0 0 0
	# relative: 100.01 vs 100 within 0.0001 * 100 = 0.01
	run -1 --separate-stderr ts-diff --key id --rel-tol 0.0001 s t
	counts 3 3 1 0 0 2
}

# |s - t| <= abs + rel * |t| (t = the target's value):
#   s 3, t 2, rel 0.5:   1 <= 1        equal (at the boundary)
#   s 3.25, t 2:         1.25 > 1      not
#   s 2, t 4, rel 0.5:   2 <= 2        equal
#   s 4, t 2:            2 > 1         not (the target's value is the scale)
@test "--rel-tol: relative to the target's value, boundary included" {
	mk s '{"id":1,"v":3}' '{"id":2,"v":3.25}' '{"id":3,"v":2}' '{"id":4,"v":4}'
	mk t '{"id":1,"v":2}' '{"id":2,"v":2}' '{"id":3,"v":4}' '{"id":4,"v":2}'
	run -1 --separate-stderr ts-diff --key id --rel-tol 0.5 s t
	counts 4 4 2 0 0 2
	diffs 'map(select(.type == "changed") | .key.id) | sort == [2, 4]'
	# abs + rel: 1 + 0.5 * 2 = 2 admits s 4 vs t 2 (2), not 4.25 vs 2
	mk s2 '{"id":1,"v":4}' '{"id":2,"v":4.25}'
	mk t2 '{"id":1,"v":2}' '{"id":2,"v":2}'
	run -1 --separate-stderr ts-diff --key id --rel-tol 0.5 --abs-tol 1 s2 t2
	counts 2 2 1 0 0 1
	line changed '{"id":2}' '.diffs == [{"field":"v","source":4.25,"target":2}]'
}

@test "--abs-tol PATH=X overrides the global tolerance for that field, either way" {
	mk s '{"id":1,"a":10,"b":10,"c":{"d":10}}' '{"id":2,"a":10,"b":10,"c":{"d":10}}'
	mk t '{"id":1,"a":10.5,"b":12,"c":{"d":10.5}}' '{"id":2,"a":11,"b":12.5,"c":{"d":10.25}}'
	# a: global 0.5; b: 2; c.d: 0 (stricter than the global)
	run -1 --separate-stderr ts-diff --key id --abs-tol 0.5 --abs-tol b=2 --abs-tol c.d=0 s t
	counts 2 2 0 0 0 2
	line changed '{"id":1}' '.diffs == [{"field":"c.d","source":10,"target":10.5}]'
	line changed '{"id":2}' '(.diffs | map(.field)) == ["a", "b", "c.d"]'
	# the order of the options does not matter
	run -1 --separate-stderr ts-diff --key id --abs-tol b=2 --abs-tol c.d=0 --abs-tol 0.5 s t
	line changed '{"id":1}' '.diffs == [{"field":"c.d","source":10,"target":10.5}]'
	# per-field relative tolerance: b within 25% of 12 (3)
	run -1 --separate-stderr ts-diff --key id --rel-tol b=0.25 s t
	diffs 'all(.[]; .diffs | map(.field) | index("b") == null)'
}

@test "--ignore-case: ASCII letters compare without case" {
	mk s '{"id":1,"v":"Hello World"}' '{"id":2,"v":"abc"}'
	mk t '{"id":1,"v":"hello WORLD"}' '{"id":2,"v":"abd"}'
	run -1 --separate-stderr ts-diff --key id s t
	counts 2 2 0 0 0 2
	run -1 --separate-stderr ts-diff --key id --ignore-case s t
	counts 2 2 1 0 0 1
	line changed '{"id":2}' '.diffs == [{"field":"v","source":"abc","target":"abd"}]'
}

# Folding is per code point (towlower in a UTF-8 locale, whatever the
# caller's locale): É/é and Ä/ä fold, ß stays itself.
@test "--ignore-case: non-ASCII letters fold too, in any locale" {
	mk s '{"id":1,"v":"ÉCOLE Ä"}' '{"id":2,"v":"\u00c9t\u00c9"}' '{"id":3,"v":"straße"}'
	mk t '{"id":1,"v":"école ä"}' '{"id":2,"v":"été"}' '{"id":3,"v":"STRASSE"}'
	LC_ALL=C run -1 --separate-stderr ts-diff --key id --ignore-case s t
	counts 3 3 2 0 0 1
	line changed '{"id":3}' '.diffs == [{"field":"v","source":"straße","target":"STRASSE"}]'
}

@test "--trim: leading and trailing white space is not compared, inner is" {
	mk s '{"id":1,"v":"  a b\t"}' '{"id":2,"v":"a  b"}' '{"id":3,"v":" \n x \r\n"}'
	mk t '{"id":1,"v":"a b"}' '{"id":2,"v":"a b"}' '{"id":3,"v":"x"}'
	run -1 --separate-stderr ts-diff --key id s t
	counts 3 3 0 0 0 3
	run -1 --separate-stderr ts-diff --key id --trim s t
	counts 3 3 2 0 0 1
	line changed '{"id":2}' '.diffs == [{"field":"v","source":"a  b","target":"a b"}]'
}

@test "--trim with --ignore-case: both apply" {
	mk s '{"id":1,"v":" ABC "}'
	mk t '{"id":1,"v":"abc"}'
	run -0 --separate-stderr ts-diff --key id --trim --ignore-case s t
	counts 1 1 1 0 0 0
}

@test "--array-order ignore: arrays compare as multisets, at any depth" {
	mk s '{"id":1,"a":[1,2,2,3]}' '{"id":2,"a":[1,2,2]}' '{"id":3,"a":[{"x":1},{"y":[3,4]}]}'
	mk t '{"id":1,"a":[3,2,1,2]}' '{"id":2,"a":[1,1,2]}' '{"id":3,"a":[{"y":[4,3]},{"x":1}]}'
	run -1 --separate-stderr ts-diff --key id s t
	counts 3 3 0 0 0 3
	run -1 --separate-stderr ts-diff --key id --array-order ignore s t
	counts 3 3 2 0 0 1
	line changed '{"id":2}' '.diffs | length >= 1'
	run -1 --separate-stderr ts-diff --key id --array-order keep s t
	counts 3 3 0 0 0 3
	# unkeyed: the records' canonical forms sort the arrays
	run -1 --separate-stderr ts-diff --array-order ignore s t
	counts 3 3 2 1 1 0
}

# The difference lines show the values as read: the source's "2" stays a
# string there (coercion is how values compare, not what they are).
@test "--coerce-numbers: a string holding a JSON number compares as that number" {
	mk s '{"id":1,"v":"1"}' '{"id":2,"v":"1.0"}' '{"id":3,"v":"abc"}' '{"id":4,"v":"2"}' '{"id":5,"v":"1e2"}'
	mk t '{"id":1,"v":1}' '{"id":2,"v":1}' '{"id":3,"v":"abc"}' '{"id":4,"v":3}' '{"id":5,"v":100}'
	run -1 --separate-stderr ts-diff --key id s t
	counts 5 5 1 0 0 4
	rep '.fields.v.typeChanges == 4 and .fields.v.mismatches == 4'
	run -1 --separate-stderr ts-diff --key id --coerce-numbers s t
	counts 5 5 4 0 0 1
	line changed '{"id":4}' '.diffs == [{"field":"v","source":"2","target":3}]'
	# coerced, the difference is a number: max diff 1
	rep '.fields.v.mismatches == 1 and .fields.v.maxDiff == 1'
}

@test "numbers by value: 1, 1.0, 10e-1, 0.1e1, 1E0 are one number; -0 is 0" {
	mk s '{"id":1,"v":1}' '{"id":2,"v":1}' '{"id":3,"v":1}' '{"id":4,"v":1}' '{"id":5,"v":0}' '{"id":6,"v":[1.50]}'
	mk t '{"id":1,"v":1.0}' '{"id":2,"v":10e-1}' '{"id":3,"v":0.1e1}' '{"id":4,"v":1E0}' '{"id":5,"v":-0}' '{"id":6,"v":[15e-1]}'
	run -0 --separate-stderr ts-diff --key id s t
	counts 6 6 6 0 0 0
	run -0 --separate-stderr ts-diff s t
	counts 6 6 6 0 0 0
	# and keys by value: 1 and 1.0 are one key
	mk t '{"id":1.0,"v":1}' '{"id":20e-1,"v":1}' '{"id":3,"v":1}' '{"id":4,"v":1}' '{"id":5,"v":0}' '{"id":6,"v":[1.5]}'
	run -0 --separate-stderr ts-diff --key id s t
	counts 6 6 6 0 0 0
}

# 12345678901234567890123 and ...124 are one double; exactly they differ, and
# the output carries both as the text read.
@test "numbers beyond double precision compare exactly and are written as read" {
	mk s '{"id":12345678901234567890123,"v":12345678901234567890123}' '{"id":2,"v":1e400}' '{"id":3,"v":1e400}' '{"id":4,"v":0.30000000000000000001}'
	mk t '{"id":12345678901234567890123,"v":12345678901234567890124}' '{"id":2,"v":1e400}' '{"id":3,"v":2e400}' '{"id":4,"v":0.3}'
	run -1 --separate-stderr ts-diff --key id s t
	counts 4 4 1 0 0 3
	grep -F '"diffs":[{"field":"v","source":12345678901234567890123,"target":12345678901234567890124}]' <<< "$output"
	grep -F '"key":{"id":12345678901234567890123}' <<< "$output"
	grep -F '"diffs":[{"field":"v","source":1e400,"target":2e400}]' <<< "$output"
	grep -F '"diffs":[{"field":"v","source":0.30000000000000000001,"target":0.3}]' <<< "$output"
	# the key beyond double precision is its own: ...124 is another key
	mk t '{"id":12345678901234567890124,"v":12345678901234567890123}'
	mk s '{"id":12345678901234567890123,"v":12345678901234567890123}'
	run -1 --separate-stderr ts-diff --key id s t
	counts 1 1 0 1 1 0
	grep -F '"key":{"id":12345678901234567890123}' <<< "$output"
	grep -F '"key":{"id":12345678901234567890124}' <<< "$output"
	# unkeyed too
	run -1 --separate-stderr ts-diff s t
	counts 1 1 0 1 1 0
	run -0 --separate-stderr ts-diff s s
	counts 1 1 1 0 0 0
}

@test "unicode: escaped and raw UTF-8 are equal, in values, member names and keys" {
	mk s '{"id":"caf\u00e9","v":"\u00e9","caf\u00e9":1,"e":"\ud83d\ude00"}' '{"id":"x","v":"\u00c9"}'
	mk t '{"id":"café","v":"é","café":1,"e":"😀"}' '{"id":"x","v":"é"}'
	run -1 --separate-stderr ts-diff --key id s t
	counts 2 2 1 0 0 1
	line changed '{"id":"x"}' '.diffs == [{"field":"v","source":"É","target":"é"}]'
	run -1 --separate-stderr ts-diff s t
	counts 2 2 1 1 1 0
}

@test "unicode: non-ASCII member names appear in field paths" {
	mk s '{"id":1,"é":{"ü":1}}'
	mk t '{"id":1,"é":{"ü":2}}'
	run -1 --separate-stderr ts-diff --key id s t
	line changed '{"id":1}' '.diffs == [{"field":"é.ü","source":1,"target":2}] or .diffs == [{"field":"\"é\".\"ü\"","source":1,"target":2}]'
}

@test "composite keys: --key a,b equals --key a --key b; the key object names both" {
	mk s '{"a":1,"b":"x","v":1}' '{"a":1,"b":"y","v":2}' '{"a":2,"b":"x","v":3}'
	mk t '{"a":1,"b":"y","v":2}' '{"a":1,"b":"x","v":9}' '{"a":2,"b":"z","v":3}'
	run -1 --separate-stderr ts-diff --key a,b s t
	counts 3 3 1 1 1 1
	line changed '{"a":1,"b":"x"}' '.diffs == [{"field":"v","source":1,"target":9}] and (.key | keys_unsorted) == ["a", "b"]'
	line missing '{"a":2,"b":"x"}' '.source.v == 3'
	line extra '{"a":2,"b":"z"}' '.target.v == 3'
	local one=$output
	run -1 --separate-stderr ts-diff --key a --key b s t
	assert_equal "$output" "$one"
	# on a alone: a 1 twice on both sides, paired in order
	run -1 --separate-stderr ts-diff --key a s t
	counts 3 3 0 0 0 3
	rep '.duplicateKeys.source == 1 and .duplicateKeys.target == 1'
}

@test "nested keys: --key .user.id, the key member named as written" {
	mk s '{"user":{"id":1},"v":1}' '{"user":{"id":2},"v":2}'
	mk t '{"user":{"id":2},"v":3}' '{"user":{"id":1},"v":1}'
	run -1 --separate-stderr ts-diff --key .user.id s t
	counts 2 2 1 0 0 1
	line changed '{".user.id":2}' '.diffs == [{"field":"v","source":2,"target":3}]'
	run -1 --separate-stderr ts-diff --key user.id s t
	line changed '{"user.id":2}' '.diffs == [{"field":"v","source":2,"target":3}]'
}

# source A A A B, target A B B C (A = {"a":1,"b":2} in other forms):
# matched A once and B once = 2; missing A x2; extra B x1, C x1.
@test "unkeyed: a multiset of canonical records, multiplicities counted" {
	mk s '{"a":1,"b":2}' '{"b":2,"a":1}' '{"a":1.0,"b":2}' '{"k":[1,{"z":1,"y":2}]}'
	mk t '{"b":2.0,"a":1}' '{"k":[1,{"y":2,"z":1}]}' '{"k":[1,{"y":2,"z":1}]}' '{"c":null}'
	run -1 --separate-stderr ts-diff --miss-records miss.ndjson s t
	counts 4 4 2 2 2 0
	rep '.accuracy == 0.5'
	ndiff 3
	diffs 'map(select(.type == "missing")) == [{"type":"missing","count":2,"source":{"a":1,"b":2}}]'
	diffs '[.[] | select(.type == "extra") | [.count, .target]] | sort == [[1, {"c":null}], [1, {"k":[1,{"y":2,"z":1}]}]]'
	# two of the three source A records have no match: two lines, each one of A's forms
	[ "$(wc -l < miss.ndjson)" -eq 2 ] || fail "miss records: $(cat miss.ndjson)"
	jq -e -s 'all(.[]; . == {"a":1,"b":2})' miss.ndjson > /dev/null
	[ -z "$(grep -vxF -f s miss.ndjson)" ] || fail "miss records not as read: $(cat miss.ndjson)"
}

@test "--max-diffs N limits the difference lines, never the counts" {
	seq 1 10 | sed 's/.*/{"id":&}/' > s
	seq 6 15 | sed 's/.*/{"id":&,"x":1}/' > t
	run -1 --separate-stderr ts-diff --key id s t
	counts 10 10 0 5 5 5
	ndiff 15
	run -1 --separate-stderr ts-diff --key id --max-diffs 4 s t
	counts 10 10 0 5 5 5
	ndiff 4
	run -1 --separate-stderr ts-diff --key id --max-diffs 0 s t
	counts 10 10 0 5 5 5
	ndiff 0
	run -1 --separate-stderr ts-diff --max-diffs 3 s t
	counts 10 10 0 10 10 0
	ndiff 3
}

@test "--report FILE: the report line goes there, the same bytes as on standard output" {
	mk s '{"id":1,"v":1}' '{"id":2,"v":2}'
	mk t '{"id":1,"v":1}' '{"id":2,"v":3}'
	run -1 --separate-stderr ts-diff --key id s t
	local all=$output
	run -1 --separate-stderr ts-diff --key id --report rep.ndjson s t
	[ "$(wc -l < rep.ndjson)" -eq 1 ] || fail "report file: $(cat rep.ndjson)"
	assert_equal "$(cat rep.ndjson)" "$(printf '%s\n' "$all" | tail -n 1)"
	assert_equal "$output" "$(printf '%s\n' "$all" | head -n -1)"
	counts 2 2 1 0 0 1 rep.ndjson
	# a report to a directory that does not exist is trouble
	run -2 --separate-stderr ts-diff --key id --report no/such/dir/rep s t
	[ -n "$stderr" ]
}

# A record comes out compact: every token's bytes as read (numbers and
# escapes unchanged), the blanks between tokens dropped, so that a record
# read over several lines is one line.
@test "--miss-records FILE: missing and changed source records, their tokens as read" {
	printf '%s\n' '{ "id" : 1 , "v":"\u00e9" }' '{"id":2,"v":2}' '{"v":3,   "id":3, "n":1.50, "e":"\u00e9"}' '{"id":4,"v":[1, 2]}' \
		'{' '  "id": 6,' '  "v": 1e0' '}' > s
	printf '%s\n' '{"id":1,"v":"é"}' '{"id":2,"v":20}' '{"id":4,"v":[1,2]}' '{"id":5}' > t
	run -1 --separate-stderr ts-diff --key id --miss-records miss.ndjson s t
	counts 5 4 2 2 1 1
	printf '%s\n' '{"id":2,"v":2}' '{"v":3,"id":3,"n":1.50,"e":"\u00e9"}' '{"id":6,"v":1e0}' > want
	cmp want miss.ndjson || { sort want > w; sort miss.ndjson > g; cmp w g; }
	line missing '{"id":6}' '.source == {"id":6,"v":1}'
	grep -qF '"source":{"id":6,"v":1e0}' <<< "$output"
	# nothing to miss: the file is there and empty
	run -0 --separate-stderr ts-diff --key id --miss-records miss2.ndjson s s
	[ -f miss2.ndjson ] && [ ! -s miss2.ndjson ]
}

@test "--format text: a report for people with datacompy's sections and the counts" {
	run -1 --separate-stderr ts-diff --key acct_id --abs-tol 0.0001 --ignore date_fld --format text \
		"$DC/data1.ndjson" "$DC/data2.ndjson"
	! jq -e . <<< "$output" > /dev/null 2>&1 || fail "text output parses as JSON"
	# datacompy's sections, named for records rather than rows
	local l
	for l in 'Dataset Summary' 'Column Summary' 'Record Summary' 'Column Comparison' \
		'Columns with Unequal Values or Types' 'Matched on: acct_id' \
		'Any duplicates on match values: Yes' 'Absolute tolerance: 0.0001' \
		'Number of columns in source but not in target: 1 (date_fld)' \
		'Number of records in common: 5' 'Number of records in source but not in target: 1' \
		'Number of records in target but not in source: 0' \
		'Number of records with some compared columns unequal: 5' \
		'Number of records with all compared columns equal: 0' \
		'Total number of values which compare unequal: 8'; do
		grep -qxF "$l" <<< "$output" || fail "no line '$l' in: $output"
	done
	grep -qE '^source +5 +6$' <<< "$output"
	grep -qE '^target +4 +5$' <<< "$output"
	# the table: column, # unequal, max diff, # null diff, # type change
	grep -qE '^float_fld +4 +0\.0005[0-9]* +3 +0$' <<< "$output"
	grep -qE '^dollar_amt +1 +0\.0(50*|49+[0-9]*) +0 +0$' <<< "$output"
	grep -qE '^name +3 +- +0 +0$' <<< "$output"
	# sample differences
	grep -qF 'name: "Lucille Bluth" -> "Loose Seal Bluth"' <<< "$output"
	# not a terminal: the default is ndjson
	run -1 --separate-stderr ts-diff --key acct_id "$DC/data1.ndjson" "$DC/data2.ndjson"
	report_line | jq -e '.type == "report"' > /dev/null
}

@test "--format text: the default when standard output is a terminal" {
	command -v script > /dev/null || skip "script(1) is not installed"
	mk s '{"id":1}'
	mk t '{"id":2}'
	run -0 script -qec "ts-diff --key id s t; echo rc=\$?" /dev/null
	assert_output --partial 'Record Summary'
	assert_output --partial 'rc=1'
}

# === 3. the input contract ======================================================

@test "malformed lines: bad_json error records name the file and line; counts leave them out" {
	printf '%s\n' '{"id":1,"v":1}' '{"id":2,' '{"id":3,"v":3}' 'nope' > s
	printf '%s\n' '{"id":1,"v":1}' '{"id":3,"v":3}' '{"id":4 "v":4}' > t
	run -1 --separate-stderr ts-diff --key id --errors errs.ndjson s t
	counts 2 2 2 0 0 0
	ndiff 0
	assert_error_records errs.ndjson 3
	assert_error errs.ndjson 0 '.error == "bad_json" and .program == "ts-diff" and .file == "s" and .line == 2 and .raw == "{\"id\":2,"'
	assert_error errs.ndjson 1 '.error == "bad_json" and .file == "s" and .line == 4 and .raw == "nope"'
	assert_error errs.ndjson 2 '.error == "bad_json" and .file == "t" and .line == 3 and .raw == "{\"id\":4 \"v\":4}"'
	jq -e -s 'all(.[]; .message | test("^ts-diff: [st]:[0-9]+: ") or test("^[st]:[0-9]+: "))' errs.ndjson > /dev/null
	# unkeyed the same
	run -1 --separate-stderr ts-diff --errors errs2.ndjson s t
	counts 2 2 2 0 0 0
	assert_error_records errs2.ndjson 3
}

@test "malformed lines: without --errors the error records go to standard error" {
	printf '%s\n' '{"id":1}' '{"id":' > s
	printf '%s\n' '{"id":1}' > t
	run -1 --separate-stderr ts-diff --key id s t
	counts 1 1 1 0 0 0
	printf '%s\n' "$stderr" > err.ndjson
	assert_error_records err.ndjson 1
	assert_error err.ndjson 0 '.error == "bad_json" and .line == 2'
}

@test "a record that is not an object, or lacks the key, is an error record, not a row" {
	printf '%s\n' '{"id":1}' '[1,2]' '"text"' '{"v":1}' '{"id":2}' > s
	printf '%s\n' '{"id":1}' '{"id":2}' '42' '{"user":1}' > t
	run -1 --separate-stderr ts-diff --key id --errors errs.ndjson s t
	counts 2 2 2 0 0 0
	assert_error_records errs.ndjson 5
	jq -e -s '[.[] | .error] == ["not_an_object", "not_an_object", "missing_key", "not_an_object", "missing_key"]
	          or ([.[] | .error] | sort) == ["missing_key", "missing_key", "not_an_object", "not_an_object", "not_an_object"]' errs.ndjson > /dev/null ||
		fail "$(cat errs.ndjson)"
	jq -e -s 'all(.[]; .raw != null and .line != null and (.file == "s" or .file == "t"))' errs.ndjson > /dev/null
	assert_error errs.ndjson 0 '.line == 2 and .raw == "[1,2]"'
	# unkeyed: a non-object is still an error record (the multiset is of records)
	run -1 --separate-stderr ts-diff --errors errs2.ndjson s t
	assert_error_records errs2.ndjson 3
	counts 3 3 2 1 1 0
}

# An input that cannot be opened is found before anything is compared: no
# difference lines claiming every record of the other side missing or extra.
@test "unreadable input: a missing file or a directory is trouble (exit 2), however the other side is" {
	mk s '{"id":1}'
	run -2 --separate-stderr ts-diff --key id s no-such-file
	assert_equal "$output" ""
	[[ "$stderr" == *no-such-file* ]] || fail "stderr does not name the file: $stderr"
	run -2 --separate-stderr ts-diff --key id no-such-file s
	[[ "$stderr" == *no-such-file* ]]
	mkdir d
	run -2 --separate-stderr ts-diff --key id s d
	run -2 --separate-stderr ts-diff s no-such-file
}

@test "compressed inputs: gzip and zstd read as plain ones" {
	cp "$GR/users_info_src.ndjson" s
	cp "$GR/users_info_target.ndjson" t
	run -1 --separate-stderr ts-diff --key user_id s t
	local plain=$output
	gzip -c s > s.gz
	zstd -q -c t > t.zst
	run -1 --separate-stderr ts-diff --key user_id s.gz t.zst
	assert_equal "$output" "$plain"
	zstd -q -c s > s.zst
	gzip -c t > t.gz
	run -1 --separate-stderr ts-diff --key user_id s.zst t.gz
	assert_equal "$output" "$plain"
	counts 50 50 46 1 1 3
}

@test "standard input: - for either side, not both" {
	cp "$DC/data1.ndjson" s
	cp "$DC/data2.ndjson" t
	run -1 --separate-stderr ts-diff --key acct_id s t
	local plain=$output
	run -1 --separate-stderr ts-diff --key acct_id - t < s
	assert_equal "$output" "$plain"
	run -1 --separate-stderr ts-diff --key acct_id s - < t
	assert_equal "$output" "$plain"
	gzip -c t | { run -1 --separate-stderr ts-diff --key acct_id s -; assert_equal "$output" "$plain"; }
	run -2 --separate-stderr ts-diff --key acct_id - - < s
}

# records_in counts the records of both sides; every one is compared (the
# report's source and target) or rejected.
@test "--stats: records in = source + target + rejected" {
	printf '%s\n' '{"id":1}' '{"id":' '[1]' '{"id":2}' > s
	printf '%s\n' '{"id":1}' '{"x":1}' '{"id":3}' > t
	run -1 --separate-stderr ts-diff --key id --stats --errors errs.ndjson s t
	counts 2 2 1 1 1 0
	printf '%s\n' "$stderr" > err
	assert_error_records errs.ndjson 3
	[ "$(stat_field err records_in)" -eq 7 ] || fail "$stderr"
	[ "$(stat_field err rejected)" -eq 3 ] || fail "$stderr"
	grep '"records_in"' err | tail -n 1 | jq -e '.records_in == .source + .target + .rejected and .source == 2 and .target == 2' > /dev/null ||
		fail "stats do not balance: $stderr"
}

@test "usage errors: exit 2 with a message, nothing on standard output" {
	mk s '{"id":1}'
	run -2 --separate-stderr ts-diff s
	assert_equal "$output" ""
	[ -n "$stderr" ]
	run -2 --separate-stderr ts-diff s s s
	run -2 --separate-stderr ts-diff
	for bad in 3/3 0/0 -1/2 x 1 1/ /2 a/b 1/2/3; do
		run -2 --separate-stderr ts-diff --key id --shard "$bad" s s
		assert_equal "$output" ""
	done
	run -2 --separate-stderr ts-diff --abs-tol 0.1 s s
	[[ "$stderr" == *key* ]] || fail "the message should say a tolerance needs --key: $stderr"
	run -2 --separate-stderr ts-diff --rel-tol 0.1 s s
	run -2 --separate-stderr ts-diff --abs-tol v=0.1 s s
	run -2 --separate-stderr ts-diff --key id --array-order random s s
	run -2 --separate-stderr ts-diff --key id --abs-tol abc s s
	run -2 --separate-stderr ts-diff --key id --abs-tol -1 s s
	run -2 --separate-stderr ts-diff --key id --max-diffs -1 s s
	run -2 --separate-stderr ts-diff --key id --format xml s s
	# an empty key (--key "$UNSET") is not a silent unkeyed run
	run -2 --separate-stderr ts-diff --key '' s s
	run -2 --separate-stderr ts-diff --no-such-option s s
}

@test "--help and --version exit 0" {
	run -0 ts-diff --help
	assert_output --partial 'ts-diff'
	assert_output --partial '--key'
	assert_output --partial '--merge-reports'
	run -0 ts-diff --version
	assert_output --partial 'ts-diff'
}

@test "deterministic: the same inputs and options give the same bytes" {
	gen_pair 2000
	run -1 --separate-stderr ts-diff --key id --miss-records m1 s t
	local a=$output
	run -1 --separate-stderr ts-diff --key id --miss-records m2 s t
	assert_equal "$output" "$a"
	cmp m1 m2
	run -1 --separate-stderr ts-diff s t
	a=$output
	run -1 --separate-stderr ts-diff s t
	assert_equal "$output" "$a"
}

# === 4. size: spill, shards, merge ==============================================

# gen_pair N: ./s and ./t, records of ~400 bytes (so N = 6000 is ~2.4 MB a
# side, over a 1M budget):
#   source: ids 1..N in order, then ids 1..5 again (occurrence 2, "dup":1)
#   target: ids 1..N but every 97th (missing), every 50th with v + 1
#           (changed), ids N+1..N+40 (extra), shuffled; then ids 1..3 again
#           exactly as in the source (occurrence 2 matched)
# counts for N = 6000: changed 120 - 1 (4850 is a multiple of 97) = 119;
# missing 61 + 2 (ids 4, 5 occurrence 2) = 63; extra 40;
# matched 6005 - 119 - 63 = 5823; target 6000 - 61 + 40 + 3 = 5982.
gen_pair() {
	local n=$1
	awk -v n="$n" 'BEGIN {
		pad = sprintf("%0300d", 0)
		for (i = 1; i <= n; i++)
			printf "{\"id\":%d,\"name\":\"user %d\",\"v\":%d,\"nested\":{\"a\":[%d,%d]},\"pad\":\"%s\"}\n", i, i, i, i, i % 7, pad
		for (i = 1; i <= 5; i++)
			printf "{\"id\":%d,\"dup\":1,\"pad\":\"%s\"}\n", i, pad
	}' > s
	awk -v n="$n" 'BEGIN {
		srand(7)
		pad = sprintf("%0300d", 0)
		for (i = 1; i <= n + 40; i++) {
			if (i <= n && i % 97 == 0) continue
			v = (i <= n && i % 50 == 0) ? i + 1 : i
			printf "%.9f\t{\"name\":\"user %d\",\"id\":%d,\"v\":%d,\"nested\":{\"a\":[%d,%d]},\"pad\":\"%s\"}\n", rand(), i, i, v, i, i % 7, pad
		}
	}' | sort -n | cut -f 2 > t
	awk 'BEGIN { pad = sprintf("%0300d", 0); for (i = 1; i <= 3; i++) printf "{\"id\":%d,\"dup\":1,\"pad\":\"%s\"}\n", i, pad }' >> t
}

@test "spill: a tiny --memory gives the report and the lines of the in-memory run" {
	gen_pair 6000
	run -1 --separate-stderr ts-diff --key id --miss-records m1 s t
	counts 6005 5982 5823 63 40 119
	rep '.duplicateKeys.source == 5 and .duplicateKeys.target == 3'
	rep '.fields.v.mismatches == 119 and .fields.v.maxDiff == 1 and (.fields.dup.mismatches // 0) == 0'
	report_line > r1
	printf '%s\n' "$output" | grep -vF '"type":"report"' | sort > l1
	[ "$(wc -l < l1)" -eq 222 ] || fail "$(wc -l < l1) lines, expected 119 + 63 + 40"
	run -1 --separate-stderr ts-diff --key id --memory 1M --miss-records m2 s t
	report_line > r2
	printf '%s\n' "$output" | grep -vF '"type":"report"' | sort > l2
	cmp r1 r2 || fail "spilled report differs: $(cat r1 r2)"
	cmp l1 l2 || fail "spilled lines differ"
	sort m1 > m1s
	sort m2 > m2s
	cmp m1s m2s
	[ "$(wc -l < m1)" -eq 182 ] || fail "$(wc -l < m1) miss records, expected 119 + 63"
	# nothing left behind in the temporary directory
	mkdir tmp
	TMPDIR=$PWD/tmp run -1 --separate-stderr ts-diff --key id --memory 1M s t
	[ -z "$(ls -A tmp)" ] || fail "left behind: $(ls -A tmp)"
	# the spill files were needed: without a temporary directory the run with
	# --memory 1M cannot go on (exit 2), the one in memory can
	TMPDIR=$PWD/no-such-dir run -2 --separate-stderr ts-diff --key id --memory 1M s t
	[[ "$stderr" == *no-such-dir* ]] || fail "$stderr"
	TMPDIR=$PWD/no-such-dir run -1 --separate-stderr ts-diff --key id s t
	counts 6005 5982 5823 63 40 119
}

@test "spill: occurrences of a duplicated key keep their order through the spill files" {
	# id 1: 400 source records v=0..399 in order, target the same; a shuffled
	# target would pair them otherwise
	awk 'BEGIN { pad = sprintf("%0500d", 0); for (i = 0; i < 4000; i++) printf "{\"id\":%d,\"v\":%d,\"pad\":\"%s\"}\n", i % 10, i, pad }' > s
	cp s t
	run -0 --separate-stderr ts-diff --key id --memory 1M s t
	counts 4000 4000 4000 0 0 0
	rep '.duplicateKeys.source == 3990 and .duplicateKeys.target == 3990'
}

@test "spill: unkeyed, a tiny --memory gives the same report and lines" {
	gen_pair 6000
	run -1 --separate-stderr ts-diff s t
	counts 6005 5982 5823 182 159 0
	report_line > r1
	printf '%s\n' "$output" | grep -vF '"type":"report"' | sort > l1
	run -1 --separate-stderr ts-diff --memory 1M s t
	report_line > r2
	printf '%s\n' "$output" | grep -vF '"type":"report"' | sort > l2
	cmp r1 r2
	cmp l1 l2
	TMPDIR=$PWD/no-such-dir run -2 --separate-stderr ts-diff --memory 1M s t
}

@test "--threads: 1, 2 and 4 threads give the same bytes, in memory and spilled" {
	gen_pair 6000
	run -1 --separate-stderr ts-diff --key id --threads 1 --miss-records m1 s t
	local one=$output
	counts 6005 5982 5823 63 40 119
	for n in 2 4; do
		run -1 --separate-stderr ts-diff --key id --threads "$n" --miss-records "m$n" s t
		assert_equal "$output" "$one"
		cmp m1 "m$n"
	done
	run -1 --separate-stderr ts-diff --key id --threads 1 --memory 1M --miss-records s1 s t
	one=$output
	for n in 2 4; do
		run -1 --separate-stderr ts-diff --key id --threads "$n" --memory 1M --miss-records "s$n" s t
		assert_equal "$output" "$one"
		cmp s1 "s$n"
	done
	run -1 --separate-stderr ts-diff --threads 1 --memory 1M s t
	one=$output
	run -1 --separate-stderr ts-diff --threads 4 --memory 1M s t
	assert_equal "$output" "$one"
	run -2 --separate-stderr ts-diff --key id --threads 0 s t
	run -2 --separate-stderr ts-diff --key id --threads x s t
}

# shards N KEY-ARGS...: run the N shards of s vs t (each with --report
# rI.ndjson), check that their lines together are the lines of one run and
# that --merge-reports of their reports is the report line of one run.
shards() {
	local n=$1 k
	shift
	run -1 --separate-stderr ts-diff "$@" s t
	report_line > one.report
	printf '%s\n' "$output" | grep -vF '"type":"report"' | sort > one.lines
	: > all.lines
	local -a reps=()
	# (not i: bats' own functions assign a global i)
	for ((k = 0; k < n; k++)); do
		run --separate-stderr ts-diff "$@" --shard "$k/$n" --report "r$k.ndjson" s t
		[ "$status" -le 1 ] || fail "shard $k/$n exited $status: $stderr"
		[ -z "$output" ] || printf '%s\n' "$output" >> all.lines
		reps+=("r$k.ndjson")
	done
	sort all.lines > all.sorted
	cmp one.lines all.sorted || fail "the lines of $n shards differ from one run's: $(diff one.lines all.sorted | head -c 3000)"
	run -1 --separate-stderr ts-diff --merge-reports "${reps[@]}"
	printf '%s\n' "$output" > merged
	cmp one.report merged || fail "merged report of $n shards:
$(cat merged)
one run:
$(cat one.report)"
}

@test "shards: --shard I/N for N = 1, 2, 3, 7 split the keys; merged reports are one run's" {
	gen_pair 300
	for n in 1 2 3 7; do
		shards "$n" --key id
	done
	# a shard does hold a part: shard 0/2 compares fewer than all source records
	run -1 --separate-stderr ts-diff --key id --shard 0/2 s t
	rep '.source > 0 and .source < 305'
}

@test "shards: unkeyed and with options, merged reports are one run's" {
	gen_pair 300
	shards 3
	shards 7
	shards 2 --key id --ignore pad --abs-tol v=0.5
	shards 7 --key id --ignore pad --abs-tol v=0.5
}

@test "shards: the shard of a key is the same in every process and for the spilled run" {
	gen_pair 3000
	run -1 --separate-stderr ts-diff --key id --shard 1/3 s t
	local a=$output
	run -1 --separate-stderr ts-diff --key id --shard 1/3 s t
	assert_equal "$output" "$a"
	run -1 --separate-stderr ts-diff --key id --shard 1/3 --memory 1M s t
	assert_equal "$(printf '%s\n' "$output" | sort)" "$(printf '%s\n' "$a" | sort)"
}

@test "--merge-reports: with the datacompy case split by hand into two shards' reports" {
	cp "$DC/data1.ndjson" s
	cp "$DC/data2.ndjson" t
	shards 2 --key acct_id --abs-tol 0.0001 --ignore date_fld
	shards 3 --key acct_id --abs-tol 0.0001
	# a file that holds no report is trouble
	mk bad '{"type":"missing"}'
	run -2 --separate-stderr ts-diff --merge-reports bad
	run -2 --separate-stderr ts-diff --merge-reports no-such-report
}

@test "--merge-reports: reports that are not one run's shards are trouble" {
	cp "$DC/data1.ndjson" s
	cp "$DC/data2.ndjson" t
	ts-diff --key acct_id --shard 0/2 --report k0 s t > /dev/null || :
	ts-diff --key acct_id --shard 1/2 --report k1 s t > /dev/null || :
	ts-diff --shard 1/2 --report u1 s t > /dev/null || :
	ts-diff --key acct_id --shard 1/3 --report k13 s t > /dev/null || :
	ts-diff --key acct_id --ignore name --shard 1/2 --report i1 s t > /dev/null || :
	run -1 --separate-stderr ts-diff --merge-reports k0 k1
	counts 6 5 0 1 0 5
	# another key
	run -2 --separate-stderr ts-diff --merge-reports k0 u1
	assert_equal "$output" ""
	# a shard twice, another shard count, a shard missing
	run -2 --separate-stderr ts-diff --merge-reports k0 k0
	run -2 --separate-stderr ts-diff --merge-reports k0 k13
	run -2 --separate-stderr ts-diff --merge-reports k0
	[[ "$stderr" == *1/2* ]] || fail "the message should name the missing shard: $stderr"
}

# Shards compared under other options (here --ignore name) do not add up to
# one run: the merge should say so, as it does for another key (ts-validate
# --merge does for other --ref options).
@test "--merge-reports: shards compared with other options are trouble" {
	cp "$DC/data1.ndjson" s
	cp "$DC/data2.ndjson" t
	ts-diff --key acct_id --shard 0/2 --report k0 s t > /dev/null || :
	ts-diff --key acct_id --ignore name --shard 1/2 --report i1 s t > /dev/null || :
	ts-diff --key acct_id --abs-tol 0.0001 --shard 1/2 --report a1 s t > /dev/null || :
	run -2 --separate-stderr ts-diff --merge-reports k0 i1
	run -2 --separate-stderr ts-diff --merge-reports k0 a1
}

# 1M records a side (44 MB each): in memory the run takes ~120 MB; at
# --memory 8M it spills and stays under 64 MB, with the same bytes.
# bats test_tags=slow
@test "spill: 1M records a side at --memory 8M, the in-memory run's bytes in bounded memory" {
	[ -x /usr/bin/time ] || skip "/usr/bin/time is not installed"
	awk 'BEGIN { for (i = 1; i <= 1000000; i++) printf "{\"id\":%d,\"v\":%d,\"s\":\"value %d\"}\n", i, i, i }' > s
	awk 'BEGIN { for (i = 1000000; i >= 3; i--) printf "{\"id\":%d,\"v\":%d,\"s\":\"value %d\"}\n", i, (i % 1000 ? i : -i), i }' > t
	# missing 1, 2; changed the 1000 multiples of 1000 (v negated: max diff 2000000)
	run -1 --separate-stderr ts-diff --key id s t
	counts 1000000 999998 998998 2 0 1000
	rep '.fields.v == {"mismatches":1000,"maxDiff":2000000,"nullDiffs":0,"typeChanges":0}'
	report_line > r1
	printf '%s\n' "$output" | sort > l1
	run -1 --separate-stderr /usr/bin/time -f 'rss_kb=%M' ts-diff --key id --memory 8M s t
	report_line > r2
	printf '%s\n' "$output" | sort > l2
	cmp r1 r2
	cmp l1 l2
	# (a sanitizer build's shadow memory is not the program's to bound)
	ldd "$TS_BIN/ts-diff" 2> /dev/null | grep -q libasan && return 0
	local rss
	rss=$(sed -n 's/^rss_kb=//p' <<< "$stderr")
	[ -n "$rss" ] && [ "$rss" -lt 65536 ] || fail "RSS ${rss} KB at --memory 8M"
}

# --report and --miss-records are published whole when the run ends, or not
# at all: a stop at any moment leaves no half file and no temporary one.
@test "--report, --miss-records: SIGTERM at any moment leaves the whole files or none" {
	awk 'BEGIN { for (i = 1; i <= 300000; i++) printf "{\"id\":%d,\"v\":%d,\"s\":\"value %d\"}\n", i, i, i }' > s
	awk 'BEGIN { for (i = 300000; i >= 1; i--) printf "{\"id\":%d,\"v\":%d,\"s\":\"value %d\"}\n", i, (i % 7 ? i : -i), i }' > t
	ts-diff --key id --report whole.json --miss-records whole.miss s t > /dev/null || [ $? -eq 1 ]
	local ms left=0
	for ms in 30 80 150 250 400 600 900; do
		rm -f r.json m.ndjson
		ts-diff --key id --report r.json --miss-records m.ndjson s t > /dev/null 2>&1 &
		local pid=$!
		sleep "0.$(printf '%03d' "$ms")"
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" || true
		[ -z "$(find . -name '*.tmp-*')" ] || fail "a temporary file is left after a stop at ${ms} ms: $(ls)"
		if [ -e r.json ] || [ -e m.ndjson ]; then
			left=$((left + 1))
			cmp r.json whole.json
			cmp m.ndjson whole.miss
		fi
	done
	echo "# $left of 7 stopped runs had finished" >&3
	# an input that cannot be read: no files at all
	run -2 --separate-stderr ts-diff --key id --report r2.json --miss-records m2 s no-such-file
	[ ! -e r2.json ] && [ ! -e m2 ] && [ -z "$(find . -name '*.tmp-*')" ]
	# the files take the umask, as every output file does
	(umask 027 && ts-diff --key id --report r3.json s t > /dev/null) || true
	[ "$(stat -c %a r3.json)" = 640 ]
}

# The key holds at most 16 paths: the 17th is refused before it is stored.
@test "usage: more than 16 --key paths is a usage error, exit 2" {
	mk s '{"a":1}'
	mk t '{"a":1}'
	run -2 --separate-stderr ts-diff --key a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q s t
	[[ $stderr == *'--key: more than 16 paths'* ]] || fail "stderr: $stderr"
	run -2 --separate-stderr ts-diff --key a,b,c,d,e,f,g,h --key i,j,k,l,m,n,o,p --key q s t
	[[ $stderr == *'--key: more than 16 paths'* ]] || fail "stderr: $stderr"
	[ -z "$output" ]
}
