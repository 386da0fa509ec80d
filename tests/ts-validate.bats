#!/usr/bin/env bats
# ts-validate: DQDL rulesets over NDJSON records.
#
# 1. Deequ's evaluation cases (tests/data/deequ, see its SOURCE.md), one test
#    per case, run by scripts/deequ-cases: outcomes per rule and the metric
#    values the Scala tests expect.
# 2. Our own cases (tests/data/validate): every rule type, thresholds,
#    composites, where clauses, NULL/missing/EMPTY/WHITESPACES_ONLY, numbers
#    in strings, booleans, nested objects, reference datasets, history,
#    DetectAnomalies, file rules; the input contract (empty input, malformed
#    and non-object records, exit statuses, --stats, compressed input); the
#    output formats (--print-rules, text, datazone); row level (--annotate,
#    --pass, --fail, --report).
# 3. Scale-out: an input split into parts, a --state-out per part and --merge
#    give the bytes of one run over the whole input (also under GNU parallel).
#
# A metric is checked as a number within 1e-9 relative of the value worked out
# by hand in the comment above the check (or as a jq expression that computes
# it).

bats_require_minimum_version 1.5.0
load helpers

ROOT="$BATS_TEST_DIRNAME/.."
DEEQU="$BATS_TEST_DIRNAME/data/deequ"
VD="$BATS_TEST_DIRNAME/data/validate"
ORDERS="$VD/orders.ndjson"

setup_file() {
	# Deequ's cases, all in one run of scripts/deequ-cases (one process per
	# case would cost more than the cases): each test below reads its lines.
	DEEQU_RC=0
	"$ROOT/scripts/deequ-cases" "$DEEQU/dqdl_evaluate_cases.jsonl" > "$BATS_FILE_TMPDIR/deequ.log" 2>&1 ||
		DEEQU_RC=$?
	export DEEQU_RC
}

setup() {
	[ -x "$TS_BIN/ts-validate" ] || fail "$TS_BIN/ts-validate is missing: run make first (or set TS_BIN)"
	cd "$BATS_TEST_TMPDIR" || fail "cannot cd to $BATS_TEST_TMPDIR"
}

# --- helpers -------------------------------------------------------------------

# tsv RULES [ARG]...: RULES (the text of a ruleset) to ./rules.dqdl, then
# ts-validate -r rules.dqdl ARG... with standard output in ./out, standard
# error in ./err and the exit status in $rc.
tsv() {
	printf '%s\n' "$1" > rules.dqdl
	shift
	rc=0
	ts-validate -r rules.dqdl "$@" > out 2> err || rc=$?
}

# assert_rc N: the last tsv exited N.
assert_rc() {
	[ "$rc" -eq "$1" ] || fail "exit status $rc, expected $1
stderr: $(head -c 3000 err)
stdout: $(head -c 3000 out)"
}

# check RULE-NUMBER RESULT [METRIC=VALUE]...: the RULE-NUMBER-th (1-based) rule
# result of ./out has Result RESULT and these EvaluatedMetrics: VALUE is a jq
# expression for a number (compared within 1e-9 relative), or - for "absent".
# One jq process per call: starting one is the cost of these tests.
check() {
	local n=$1 want=$2 i=0 kv v f='' msg
	local -a args=()
	shift 2
	for kv; do
		i=$((i + 1))
		args+=(--arg "k$i" "${kv%%=*}")
		v=${kv#*=}
		if [ "$v" = - ]; then
			f+=", (if .EvaluatedMetrics | has(\$k$i) then \"metric \\(\$k$i) should be absent\" else empty end)"
		else
			f+=", (.EvaluatedMetrics[\$k$i] as \$g | ($v) as \$w
				| if (\$g | type) == \"number\" and ((\$g - \$w) | fabs) <= 1e-9 * ([1, (\$g | fabs), (\$w | fabs)] | max)
				  then empty else \"metric \\(\$k$i): expected \\(\$w), got \\(\$g)\" end)"
		fi
	done
	msg=$(jq -n -r --argjson n "$n" --arg want "$want" "${args[@]}" "
		[inputs | select(.type == \"rule\")][\$n - 1] as \$r
		| if \$r == null then \"no rule result \\(\$n)\"
		  else \$r | (if .Result != \$want then \"Result \\(.Result), expected \\(\$want)\" else empty end)$f
		       | . + \"\\n  in: \\(\$r | tojson)\" end" out) || fail "check: jq failed: $msg"
	[ -z "$msg" ] || fail "rule $n: $msg"
}

# message RULE-NUMBER ERE: that rule's EvaluationMessage matches ERE.
message() {
	local line
	line=$(jq -c 'select(.type == "rule")' out | sed -n "${1}p")
	jq -e --arg re "$2" '.EvaluationMessage | type == "string" and test($re)' <<< "$line" > /dev/null ||
		fail "rule $1: message does not match /$2/: $line"
}

# summary JQ-FILTER: the summary line (the last line of ./out) satisfies it.
summary() {
	tail -n 1 out | jq -e "select(.type == \"summary\") | $1" > /dev/null ||
		fail "summary does not satisfy $1: $(tail -n 1 out)"
}

# nrules N: ./out holds exactly N rule results, then the summary.
nrules() {
	local got
	got=$(jq -c 'select(.type == "rule")' out | wc -l)
	[ "$got" -eq "$1" ] || fail "$got rule results, expected $1:
$(cat out)"
	summary ".total == $1"
}

# gen_records N [SEED]: N records, the same bytes for the same SEED:
#   id    1..N, ~2% repeating the one before
#   x     a decimal -100..100 with two digits, written as 1.50, 150e-2,
#         "1.50" (a string) or 1.500
#   y     3x + noise, 4 digits
#   c     red, green, blue, grey, écru (the é \u-escaped)
#   s     "ab NNN" when c is red, else "word NNN"
#   n     0..49, null 5%, a numeric string 5%
#   o     {"p": 0..999} or null (30%): o.p is a nested column
#   flag  true / false
#   d     a date of 2024
#   big   an integer of 13 digits (sums past 2^53)
gen_records() {
	awk -v n="$1" -v seed="${2:-1}" '
	function rnd() { st = (st * 48271) % 2147483647; return st / 2147483647 }
	function below(k) { return int(rnd() * k) }
	BEGIN {
		st = seed * 7919 + 1
		split("red green blue grey \\u00e9cru", col, " ")
		for (i = 1; i <= n; i++) {
			id = (below(100) < 2 && i > 1) ? i - 1 : i
			k = below(20001) - 10000
			form = below(4)
			if (form == 0) x = sprintf("%.2f", k / 100)
			else if (form == 1) x = sprintf("%de-2", k)
			else if (form == 2) x = sprintf("\"%.2f\"", k / 100)
			else x = sprintf("%.3f", k / 100)
			y = sprintf("%.4f", 3 * k / 100 + below(1000) / 100)
			r = below(20)
			nv = r == 0 ? "null" : (r == 1 ? "\"" below(50) "\"" : below(50))
			c = col[below(5) + 1]
			o = below(10) < 3 ? "null" : "{\"p\":" below(1000) "}"
			printf "{\"id\":%d,\"x\":%s,\"y\":%s,\"c\":\"%s\",\"s\":\"%s %d\",", id, x, y, c, c == "red" ? "ab" : "word", below(1000)
			printf "\"n\":%s,\"o\":%s,\"flag\":%s,\"d\":\"2024-%02d-%02d\",\"big\":%d%06d}\n", nv, o, below(2) ? "true" : "false", below(12) + 1, below(28) + 1, below(9000000) + 1000000, below(1000000)
		}
	}'
}

# deequ_case NAME: every check of Deequ's case NAME holds (in the log of
# setup_file; `scripts/deequ-cases --test NAME` reproduces it).
deequ_case() {
	local log=$BATS_FILE_TMPDIR/deequ.log
	[ "$DEEQU_RC" -le 1 ] || fail "scripts/deequ-cases exited $DEEQU_RC: $(head -c 3000 "$log")"
	grep -qF "ok - $1 :: " "$log" || fail "no checks of '$1' ran: $(head -c 3000 "$log")"
	if grep -F "not ok - $1 :: " "$log"; then
		fail "Deequ's case '$1' does not hold (scripts/deequ-cases --test '$1')"
	fi
}

# === 1. Deequ's evaluation cases ===============================================

@test "deequ: every case of dqdl_evaluate_cases.jsonl has its test here" {
	local names n=0
	names=$("$ROOT/scripts/deequ-cases" --list "$DEEQU/dqdl_evaluate_cases.jsonl")
	while IFS= read -r t; do
		n=$((n + 1))
		grep -qF "deequ_case \"$t\"" "$BATS_TEST_FILENAME" || fail "no test runs the case '$t'"
		[[ "$t" != *" :: "* ]] || fail "the name '$t' holds the separator of the log"
	done <<< "$names"
	[ "$n" -eq "$(wc -l < "$DEEQU/dqdl_evaluate_cases.jsonl")" ] || fail "$n names for the cases"
	[ "$n" -ge 36 ] || fail "only $n cases"
}

@test "deequ-cases: a wrong expectation is reported, and an unknown case is trouble" {
	# the same case with the outcome and the metric turned around must fail
	jq -c 'select(.test == "support ColumnCount rule")
	       | .expected_outcomes = ["Failed"] | .expected_metrics["Dataset.*.ColumnCount"] = 4' \
		"$DEEQU/dqdl_evaluate_cases.jsonl" > cases.jsonl
	mkdir -p fixtures
	cp "$DEEQU/fixtures/getDfFull.ndjson" fixtures/
	run -1 "$ROOT/scripts/deequ-cases" cases.jsonl
	assert_output --partial 'not ok - support ColumnCount rule :: ColumnCount = 3: outcome: expected "Failed", got "Passed"'
	assert_output --partial 'not ok - support ColumnCount rule :: metric Dataset.*.ColumnCount: expected 4, got 3'
	run -2 "$ROOT/scripts/deequ-cases" --test "no such case" "$DEEQU/dqdl_evaluate_cases.jsonl"
	assert_output --partial "no case named 'no such case'"
}

@test "deequ: an inline dataset becomes one record per row, keys in column order" {
	# what deequ-cases feeds ts-validate for "support ColumnCount with DataFrame
	# containing null values": Spark's None is JSON null
	run -0 "$ROOT/scripts/deequ-cases" --test "support ColumnCount with DataFrame containing null values"
	jq -c 'select(.test == "support ColumnCount with DataFrame containing null values")
	       | .dataset as $d | $d.rows[] | [$d.columns, .] | transpose
	       | map({key: .[0], value: .[1]}) | from_entries' "$DEEQU/dqdl_evaluate_cases.jsonl" > got
	printf '%s\n' '{"c1":"a","c2":null,"c3":"c"}' '{"c1":null,"c2":"b","c3":null}' > want
	cmp want got
}

@test "deequ: support ColumnCount rule" { deequ_case "support ColumnCount rule"; }
@test "deequ: support ColumnCount rule with all operators" { deequ_case "support ColumnCount rule with all operators"; }
@test "deequ: support ColumnCount with negative thresholds" { deequ_case "support ColumnCount with negative thresholds"; }
@test "deequ: support ColumnCount combined with other rules" { deequ_case "support ColumnCount combined with other rules"; }
@test "deequ: support ColumnCount with DataFrame containing null values" { deequ_case "support ColumnCount with DataFrame containing null values"; }
@test "deequ: support ColumnCount with special column names" { deequ_case "support ColumnCount with special column names"; }
@test "deequ: support ColumnCount rule with FailureReason on failure" { deequ_case "support ColumnCount rule with FailureReason on failure"; }
@test "deequ: support Completeness rule" { deequ_case "support Completeness rule"; }
@test "deequ: support Uniqueness rule" { deequ_case "support Uniqueness rule"; }
@test "deequ: support ColumnCorrelation rule" { deequ_case "support ColumnCorrelation rule"; }
@test "deequ: support Entropy rule" { deequ_case "support Entropy rule"; }
@test "deequ: support Sum rule" { deequ_case "support Sum rule"; }
@test "deequ: support CustomSql rule when Passed" { deequ_case "support CustomSql rule when Passed"; }
@test "deequ: support both types: deequ and custom rules" { deequ_case "support both types: deequ and custom rules"; }
@test "deequ: support IsPrimaryKey rule when failed" { deequ_case "support IsPrimaryKey rule when failed"; }
@test "deequ: support ColumnLength rule with GREATER_THAN" { deequ_case "support ColumnLength rule with GREATER_THAN"; }
@test "deequ: support ColumnLength rule with LESS_THAN" { deequ_case "support ColumnLength rule with LESS_THAN"; }
@test "deequ: support ColumnLength rule with EQUALS" { deequ_case "support ColumnLength rule with EQUALS"; }
@test "deequ: support ColumnLength rule with NOT IN" { deequ_case "support ColumnLength rule with NOT IN"; }
@test "deequ: support ColumnLength rule between with where clause" { deequ_case "support ColumnLength rule between with where clause"; }
@test "deequ: support ColumnExists rule fail" { deequ_case "support ColumnExists rule fail"; }
@test "deequ: support ColumnValues numeric LESS_THAN" { deequ_case "support ColumnValues numeric LESS_THAN"; }
@test "deequ: support ColumnValues numeric IN" { deequ_case "support ColumnValues numeric IN"; }
@test "deequ: support ColumnValues string IN" { deequ_case "support ColumnValues string IN"; }
@test "deequ: support ColumnValues when failed" { deequ_case "support ColumnValues when failed"; }
@test "deequ: evaluate simple OR composite rule with one passing" { deequ_case "evaluate simple OR composite rule with one passing"; }
@test "deequ: evaluate composite rule with AND failure" { deequ_case "evaluate composite rule with AND failure"; }
@test "deequ: evaluate complex nested composite rule" { deequ_case "evaluate complex nested composite rule"; }
@test "deequ: support AggregateMatch rule with avg" { deequ_case "support AggregateMatch rule with avg"; }
@test "deequ: support AggregateMatch rule with same column name" { deequ_case "support AggregateMatch rule with same column name"; }
@test "deequ: support ColumnValues date GREATER_THAN" { deequ_case "support ColumnValues date GREATER_THAN"; }
@test "deequ: support ColumnValues date BETWEEN" { deequ_case "support ColumnValues date BETWEEN"; }
@test "deequ: support ColumnValues date when failed" { deequ_case "support ColumnValues date when failed"; }
@test "deequ: support ColumnValues date with column name containing spaces" { deequ_case "support ColumnValues date with column name containing spaces"; }
@test "deequ: pass ColumnValues date NOT_EQUALS when column has NULLs" { deequ_case "pass ColumnValues date NOT_EQUALS when column has NULLs"; }
@test "deequ: support ColumnValues date with dynamic now() expression" {
	deequ_case "support ColumnValues date with dynamic now() expression"
}

@test "deequ: the metrics the Scala tests check beyond the extracted cases" {
	# EvaluateDataQualitySpec also checks these values on getDfWithNumericValues
	# (att2 = 0,0,0,5,6,7): DistinctValuesCount 4, Entropy*100 -> 124,
	# Mean 3, StandardDeviation*100 -> 305, UniqueValueRatio 0.75, the
	# correlation of att2 and att3 *100 -> 99; IsPrimaryKey "item" passes
	# with two metrics; CustomSql over getDfFull fails with Value: 4.
	tsv 'Rules=[DistinctValuesCount "att2" = 4, Entropy "att2" > 1, Mean "att2" = 3, StandardDeviation "att2" > 3, UniqueValueRatio "att2" > 0.7, ColumnCorrelation "att2" "att3" > 0.8, IsPrimaryKey "item", IsPrimaryKey "att2" where "att1 > 2"]' \
		"$DEEQU/fixtures/getDfWithNumericValues.ndjson"
	assert_rc 0
	check 1 PASS 'Column.att2.DistinctValuesCount=4'
	# -(3/6 ln 3/6 + 3 * 1/6 ln 1/6)
	check 2 PASS 'Column.att2.Entropy=-(0.5 * (0.5 | log) + 0.5 * (1 / 6 | log))'
	check 3 PASS 'Column.att2.Mean=3'
	# population: sqrt((3*9 + 4 + 9 + 16) / 6)
	check 4 PASS 'Column.att2.StandardDeviation=(56 / 6 | sqrt)'
	check 5 PASS 'Column.att2.UniqueValueRatio=0.75'
	check 6 PASS 'Multicolumn.att2,att3.ColumnCorrelation=0.992763360363403'
	check 7 PASS 'Column.item.Completeness=1' 'Column.item.Uniqueness=1'
	# att1 > 2: att2 = 0,5,6,7
	check 8 PASS 'Column.att2.Completeness=1' 'Column.att2.Uniqueness=1'
	tsv 'Rules=[CustomSql "select count(*) from primary" > 4]' "$DEEQU/fixtures/getDfFull.ndjson"
	assert_rc 1
	check 1 FAIL 'Dataset.*.CustomSQL=4'
	message 1 '^Value: 4(\.0)? does not meet the constraint requirement!$'
}

@test "deequ: AggregateMatch across datasets, the reference built as the Scala test does" {
	# "support AggregateMatch rule with sum across datasets": primary amount
	# 100, 200; Map("ref" -> 150, 250): 300 / 400 = 0.75
	printf '{"amount":100.0}\n{"amount":200.0}\n' > primary.ndjson
	printf '{"amount":150.0}\n{"amount":250.0}\n' > ref.ndjson
	tsv 'Rules=[AggregateMatch "sum(amount)" "sum(ref.amount)" > 0.7, AggregateMatch "sum(amount)" "sum(ref.amount)" between 0.7 and 0.8]' \
		--ref ref=ref.ndjson primary.ndjson
	assert_rc 0
	check 1 PASS 'Column.amount.AggregateMatch=0.75'
	check 2 PASS 'Column.amount.AggregateMatch=0.75'
	# "with NULL values ignored": avg(10, NULL, 20, NULL) / avg(15, 15) = 1
	printf '{"value":10.0}\n{"value":null}\n{"value":20.0}\n{}\n' > primary.ndjson
	printf '{"value":15.0}\n{"value":15.0}\n' > ref.ndjson
	tsv 'Rules=[AggregateMatch "avg(value)" "avg(ref.value)" = 1.0]' --ref ref=ref.ndjson primary.ndjson
	assert_rc 0
	check 1 PASS 'Column.value.AggregateMatch=1'
	# "when failed": sum(colA) / sum(colB) = 200 / 400
	printf '{"colA":100.0,"colB":200.0}\n{"colA":100.0,"colB":200.0}\n' > primary.ndjson
	tsv 'Rules=[AggregateMatch "sum(colA)" "sum(colB)" > 0.9]' primary.ndjson
	assert_rc 1
	check 1 FAIL 'Column.colA,colB.AggregateMatch=0.5'
	message 1 'does not meet the constraint requirement'
}

# === 2. Our own cases ==========================================================
#
# orders.ndjson (8 rows, see tests/data/validate/README.md):
#   id        1 2 3 4 5.0 6 7 8
#   customer  C1 C2 C1 C3 "\u0043\u0034"(=C4) C1 null C4
#   status    shipped pending shipped cancelled shipped returned pending shipped
#   total     10.5 "20" 5 0 100 -5.25 null "12.75"
#   qty       1 2 "3" 0 10 1 2 4
#   paid      true false true "true" false true null false
#   ship      {Paris,75001} {Berlin,10115} {Paris} null {Rome,00118}
#             {Paris,75002} {Oslo,zip null} {Berlin,10117}
#   note      "" "  " null (missing) gift late x y
#   placed    2024-05-01 05-02 05-03T10:00:00Z 04-30 05-04 05-05 null 05-06

@test "RowCount and ColumnCount: rows, where, distinct top-level keys" {
	tsv "Rules=[RowCount = 8, RowCount between 7 and 9, RowCount = 4 where \"status = 'shipped'\", ColumnCount = 9, ColumnCount > 9, RowCount = 0 where \"nosuch = 1\"]" "$ORDERS"
	assert_rc 1
	nrules 6
	check 1 PASS 'Dataset.*.RowCount=8'
	check 2 PASS 'Dataset.*.RowCount=8'
	check 3 PASS 'Dataset.*.RowCount=4'
	check 4 PASS 'Dataset.*.ColumnCount=9'
	check 5 FAIL 'Dataset.*.ColumnCount=9'
	message 5 '^Value: 9 does not meet the constraint requirement!$'
	check 6 PASS 'Dataset.*.RowCount=0'
	summary '.passed == 5 and .failed == 1 and .errored == 0 and .rows == 8 and .Score == 5 / 6'
}

@test "Completeness and IsComplete: null and missing are both incomplete, nested columns" {
	tsv 'Rules=[Completeness "customer" = 0.875, Completeness "note" = 0.75, Completeness "ship.city" = 0.875, Completeness "ship.zip" = 0.625, IsComplete "id", IsComplete "customer", Completeness "nosuch" = 0, Completeness "ship" > 0.8]' "$ORDERS"
	assert_rc 1
	# customer: row 7 null; note: row 3 null, row 4 missing ("" and "  " are
	# values); ship.city: row 4's ship is null; ship.zip: rows 3 (missing), 4
	# and 7 (null)
	check 1 PASS 'Column.customer.Completeness=7/8'
	check 2 PASS 'Column.note.Completeness=6/8'
	check 3 PASS 'Column.ship.city.Completeness=7/8'
	check 4 PASS 'Column.ship.zip.Completeness=5/8'
	check 5 PASS 'Column.id.Completeness=1'
	check 6 FAIL 'Column.customer.Completeness=7/8'
	check 7 PASS 'Column.nosuch.Completeness=0'
	check 8 PASS 'Column.ship.Completeness=7/8'
}

@test "Uniqueness, IsUnique, UniqueValueRatio, DistinctValuesCount, Entropy: values equal by meaning" {
	tsv 'Rules=[IsUnique "id", Uniqueness "customer" < 0.3, UniqueValueRatio "customer" = 0.5, Entropy "customer" > 1.2, IsUnique "status", Uniqueness "nosuch" > 0, DistinctValuesCount "status" = 4]' "$ORDERS"
	assert_rc 1
	# id 5.0 is one value with 5 and differs from the rest: unique
	check 1 PASS 'Column.id.Uniqueness=1'
	# customer, non-null n = 7: C1 x3, C2, C3, C4 x2 ("\u0043\u0034" is C4):
	# once: C2, C3 -> 2/7; 2 of 4 distinct; entropy over counts 3,1,1,2
	check 2 PASS 'Column.customer.Uniqueness=2/7'
	check 3 PASS 'Column.customer.UniqueValueRatio=0.5'
	check 4 PASS 'Column.customer.Entropy=-([3, 1, 1, 2] | map(. / 7 | . * log) | add)'
	# shipped x4, pending x2, cancelled, returned: 2 of 8
	check 5 FAIL 'Column.status.Uniqueness=2/8'
	# no values: no metric, FAIL
	check 6 FAIL 'Column.nosuch.Uniqueness=-'
	check 7 PASS 'Column.status.DistinctValuesCount=4'
}

@test "DistinctValuesCount: values equal by meaning, NULL one more value (Deequ's histogram)" {
	printf '%s\n' '{"c":"C4","n":1}' '{"c":"\u0043\u0034","n":1.0}' '{"c":null,"n":null}' '{"n":10e-1}' '{"c":"C1","n":"1"}' > d.ndjson
	tsv 'Rules=[DistinctValuesCount "c" = 3, DistinctValuesCount "n" = 3, UniqueValueRatio "c" = 0.5]' d.ndjson
	# C4 (twice, one escaped), C1 and NULL; 1, 1.0, 10e-1 are one number,
	# "1" a string, and NULL; UniqueValueRatio sees only the non-null values
	assert_rc 0
	check 1 PASS 'Column.c.DistinctValuesCount=3'
	check 2 PASS 'Column.n.DistinctValuesCount=3'
	check 3 PASS 'Column.c.UniqueValueRatio=0.5'
	# orders: customer has a null; ship.city is missing in row 4
	tsv 'Rules=[DistinctValuesCount "customer" = 5, DistinctValuesCount "ship.city" = 5]' "$ORDERS"
	assert_rc 0
	check 1 PASS 'Column.customer.DistinctValuesCount=5'
	check 2 PASS 'Column.ship.city.DistinctValuesCount=5'
}

@test "IsPrimaryKey: one column, several columns" {
	tsv 'Rules=[IsPrimaryKey "id", IsPrimaryKey "customer", IsPrimaryKey "customer" "status", IsPrimaryKey "id" "status"]' "$ORDERS"
	assert_rc 1
	check 1 PASS 'Column.id.Completeness=1' 'Column.id.Uniqueness=1'
	check 2 FAIL 'Column.customer.Completeness=7/8' 'Column.customer.Uniqueness=2/7'
	# (customer, status), named as Deequ names them: the key's Uniqueness and
	# each column's Completeness.  8 rows with a value in some key column,
	# (C1,shipped) and (C4,shipped) twice: 4 of 8 occur once; customer is
	# complete in 7 of 8 rows
	check 3 FAIL 'Multicolumn.customer,status.Uniqueness=0.5' 'Column.customer.Completeness=7/8' \
		'Column.status.Completeness=1'
	check 4 PASS 'Multicolumn.id,status.Uniqueness=1' 'Column.id.Completeness=1' 'Column.status.Completeness=1'
	# no other metrics
	[ "$(sed -n 4p out | jq -c '.EvaluatedMetrics | keys')" = \
		'["Column.id.Completeness","Column.status.Completeness","Multicolumn.id,status.Uniqueness"]' ]
}

@test "Mean, Sum, StandardDeviation, Variance: numbers in strings count, other values are an ERROR" {
	tsv 'Rules=[Mean "total" > 20, Sum "qty" = 23, StandardDeviation "qty" between 2.9 and 3, Variance "qty" = 8.609375, Sum "total" = 143, Mean "paid" > 0, Sum "status" > 0, Mean "nosuch" > 0, Sum "qty" = 18 where "status = '"'shipped'"'"]' "$ORDERS"
	assert_rc 2
	# total: 10.5 + "20" + 5 + 0 + 100 - 5.25 + "12.75" = 143 over 7 values
	check 1 PASS 'Column.total.Mean=143/7'
	check 2 PASS 'Column.qty.Sum=23'
	# qty 1,2,3,0,10,1,2,4: mean 2.875, population variance 68.875/8
	check 3 PASS 'Column.qty.StandardDeviation=(8.609375 | sqrt)'
	check 4 PASS 'Column.qty.Variance=8.609375'
	check 5 PASS 'Column.total.Sum=143'
	# booleans and words are not numbers
	check 6 ERROR 'Column.paid.Mean=-'
	message 6 'not numbers'
	check 7 ERROR
	# no numbers at all: FAIL, no metric
	check 8 FAIL 'Column.nosuch.Mean=-'
	# shipped rows 1, 3, 5, 8: 1 + "3" + 10 + 4
	check 9 PASS 'Column.qty.Sum=18'
	summary '.errored == 2 and .failed == 1 and .passed == 6'
}

@test "Sum: exact, whatever the order of the values" {
	# 0.1 + 0.2 - 0.3 in floating point is 5.55e-17; exactly it is 0
	printf '{"v":0.1}\n{"v":0.2}\n{"v":-0.3}\n{"v":1e16}\n{"v":1}\n{"v":-1e16}\n' > a.ndjson
	tac a.ndjson > b.ndjson
	tsv 'Rules=[Sum "v" = 1, Mean "v" > 0]' a.ndjson
	assert_rc 0
	check 1 PASS 'Column.v.Sum=1'
	check 2 PASS 'Column.v.Mean=1/6'
	cp out a.out
	tsv 'Rules=[Sum "v" = 1, Mean "v" > 0]' b.ndjson
	cmp a.out out
}

@test "ColumnCorrelation: Pearson over the rows where both are numbers" {
	tsv 'Rules=[ColumnCorrelation "qty" "total" > 0.9, ColumnCorrelation "qty" "nosuch" > 0]' "$ORDERS"
	assert_rc 1
	# pairs without row 7 (total null); "20", "3", "12.75" are numbers
	check 1 PASS 'Multicolumn.qty,total.ColumnCorrelation=0.9365435414725324'
	check 2 FAIL
}

@test "ColumnLength: characters not bytes, NULL has length 0, where" {
	printf '%s\n' '{"s":"日本"}' '{"s":"a\u00e9"}' '{"s":"ab"}' '{"s":"\ud83d\ude00x"}' > s.ndjson
	tsv 'Rules=[ColumnLength "s" = 2, ColumnLength "s" between 1 and 3]' s.ndjson
	assert_rc 0
	check 1 PASS 'Column.s.MinimumLength=2' 'Column.s.MaximumLength=2'
	check 2 PASS
	tsv 'Rules=[ColumnLength "customer" = 2, ColumnLength "customer" = 2 where "customer IS NOT NULL", ColumnLength "ship.city" between 3 and 7, ColumnLength "status" <= 9, ColumnLength "status" in [7, 9], ColumnLength "status" not in [8]]' "$ORDERS"
	assert_rc 1
	# row 7's customer is NULL: length 0
	check 1 FAIL 'Column.customer.MinimumLength=0' 'Column.customer.MaximumLength=2'
	message 1 '1 of 8 rows'
	check 2 PASS 'Column.customer.MinimumLength=2' 'Column.customer.MaximumLength=2'
	# row 4 has no city; between is exclusive
	check 3 FAIL 'Column.ship.city.MinimumLength=0' 'Column.ship.city.MaximumLength=6'
	check 4 PASS 'Column.status.MaximumLength=9'
	# shipped 7, pending 7, cancelled 9, returned 8
	check 5 FAIL
	message 5 '^1 of 8 rows'
	check 6 FAIL
	message 6 '^1 of 8 rows'
}

@test "ColumnValues: sets, ranges, comparisons, regex, numbers in strings, booleans, nested" {
	tsv 'Rules=[ColumnValues "status" in ["shipped","pending","cancelled","returned"], ColumnValues "qty" > 2, ColumnValues "qty" in [1,2,3], ColumnValues "total" between 0 and 20, ColumnValues "total" >= 0 with threshold >= 0.7, ColumnValues "ship.city" in ["Paris","Berlin","Rome","Oslo"], ColumnValues "ship.zip" matches "[0-9]{5}", ColumnValues "customer" matches "C[0-9]", ColumnValues "id" <= 8, ColumnValues "total" = 5.0, ColumnValues "total" != 20, ColumnValues "qty" = "3", ColumnValues "id" in [5], ColumnValues "total" in [20, 12.75], ColumnValues "paid" = "true", ColumnValues "paid" in ["true","false"], ColumnValues "status" matches "ship", ColumnValues "status" not in ["pending"]]' "$ORDERS"
	assert_rc 1
	check 1 PASS 'Column.status.ColumnValues.Compliance=1'
	# "3", 10, 4
	check 2 FAIL 'Column.qty.ColumnValues.Compliance=3/8' 'Column.qty.Minimum=0' 'Column.qty.Maximum=10'
	check 3 FAIL 'Column.qty.ColumnValues.Compliance=5/8'
	# between is exclusive: 10.5, 5, "12.75" (not "20", 0)
	check 4 FAIL 'Column.total.ColumnValues.Compliance=3/8' 'Column.total.Minimum=-5.25' 'Column.total.Maximum=100'
	check 5 PASS 'Column.total.ColumnValues.Compliance=6/8'
	# row 4 has no city: NULL fails
	check 6 FAIL 'Column.ship.city.ColumnValues.Compliance=7/8'
	check 7 FAIL 'Column.ship.zip.ColumnValues.Compliance=5/8'
	# the \u-escaped C4 matches; the null does not
	check 8 FAIL 'Column.customer.ColumnValues.Compliance=7/8'
	# 5.0 is a number like the others
	check 9 PASS 'Column.id.ColumnValues.Compliance=1' 'Column.id.Maximum=8'
	check 10 FAIL 'Column.total.ColumnValues.Compliance=1/8'
	# "20" is 20; NULL passes a negated condition
	check 11 FAIL 'Column.total.ColumnValues.Compliance=7/8'
	check 12 FAIL 'Column.qty.ColumnValues.Compliance=1/8'
	check 13 FAIL 'Column.id.ColumnValues.Compliance=1/8'
	check 14 FAIL 'Column.total.ColumnValues.Compliance=2/8'
	# true and "true" are both "true"
	check 15 FAIL 'Column.paid.ColumnValues.Compliance=4/8'
	check 16 FAIL 'Column.paid.ColumnValues.Compliance=7/8'
	# matches is the whole value: "shipped" does not match "ship"
	check 17 FAIL 'Column.status.ColumnValues.Compliance=0'
	check 18 FAIL 'Column.status.ColumnValues.Compliance=6/8'
}

@test "ColumnValues: NULL, missing, EMPTY and WHITESPACES_ONLY" {
	printf '%s\n' '{"s":"a"}' '{"s":""}' '{"s":"   "}' '{"s":null}' '{}' '{"s":"\t "}' > s.ndjson
	tsv 'Rules=[ColumnValues "s" = EMPTY, ColumnValues "s" = WHITESPACES_ONLY, ColumnValues "s" = NULL, ColumnValues "s" != NULL, ColumnValues "s" in ["a", NULL], ColumnValues "s" != "a", ColumnValues "s" not in ["a"], ColumnValues "s" in ["a", NULL, EMPTY, WHITESPACES_ONLY], ColumnValues "s" != EMPTY, ColumnValues "s" = "a", ColumnValues "s" in ["a", EMPTY] with threshold between 0.3 and 0.4]' s.ndjson
	assert_rc 1
	check 1 FAIL 'Column.s.ColumnValues.Compliance=1/6'
	check 2 FAIL 'Column.s.ColumnValues.Compliance=2/6'
	# null and the missing field
	check 3 FAIL 'Column.s.ColumnValues.Compliance=2/6'
	check 4 FAIL 'Column.s.ColumnValues.Compliance=4/6'
	check 5 FAIL 'Column.s.ColumnValues.Compliance=3/6'
	# negated forms without NULL pass NULL
	check 6 FAIL 'Column.s.ColumnValues.Compliance=5/6'
	check 7 FAIL 'Column.s.ColumnValues.Compliance=5/6'
	check 8 PASS 'Column.s.ColumnValues.Compliance=1'
	check 9 FAIL 'Column.s.ColumnValues.Compliance=5/6'
	check 10 FAIL 'Column.s.ColumnValues.Compliance=1/6'
	check 11 PASS 'Column.s.ColumnValues.Compliance=2/6'
}

@test "ColumnValues: dates by day, date expressions against --now" {
	tsv 'Rules=[ColumnValues "placed" > "2024-04-30", ColumnValues "placed" between "2024-04-29" and "2024-05-07", ColumnValues "placed" <= (now() - 1 days), ColumnValues "placed" > (now() - 7 days) with threshold >= 0.5]' \
		--now 2024-05-06T08:00:00Z "$ORDERS"
	assert_rc 1
	# 2024-05-03T10:00:00Z is the day 2024-05-03; row 4 is 04-30; row 7 NULL
	check 1 FAIL 'Column.placed.ColumnValues.Compliance=6/8'
	check 2 FAIL 'Column.placed.ColumnValues.Compliance=7/8'
	# now - 1 day = 2024-05-05: all but 05-06 and the NULL
	check 3 FAIL 'Column.placed.ColumnValues.Compliance=6/8'
	# now - 7 days = 2024-04-29: all but the NULL
	check 4 PASS 'Column.placed.ColumnValues.Compliance=7/8'
}

@test "ColumnDataType: over non-null values, strings holding the type count" {
	printf '%s\n' '{"i":1,"f":1.5,"s":"x","b":true,"d":"2024-05-01","t":"2024-05-01T10:00:00Z"}' \
		'{"i":"2","f":"2.5","s":"y","b":"false","d":"2024-05-02","t":"2024-05-01T20:00:00Z"}' \
		'{"i":3.0,"f":3,"s":7,"b":false,"d":"not a date","t":1714600000}' \
		'{"i":null,"f":null,"s":null,"b":null,"d":null,"t":null}' > t.ndjson
	tsv 'Rules=[ColumnDataType "i" = "INTEGER", ColumnDataType "f" = "FLOAT", ColumnDataType "s" = "STRING", ColumnDataType "b" = "BOOLEAN", ColumnDataType "d" = "DATE", ColumnDataType "t" = "TIMESTAMP", ColumnDataType "s" = "STRING" with threshold > 0.6]' t.ndjson
	assert_rc 1
	check 1 PASS 'Column.i.ColumnDataType.Compliance=1'
	check 2 PASS 'Column.f.ColumnDataType.Compliance=1'
	# 7 is not a string
	check 3 FAIL 'Column.s.ColumnDataType.Compliance=2/3'
	check 4 PASS 'Column.b.ColumnDataType.Compliance=1'
	check 5 FAIL 'Column.d.ColumnDataType.Compliance=2/3'
	check 6 FAIL 'Column.t.ColumnDataType.Compliance=2/3'
	check 7 PASS 'Column.s.ColumnDataType.Compliance=2/3'
}

@test "ColumnNamesMatchPattern: the ratio of top-level keys that match" {
	tsv 'Rules=[ColumnNamesMatchPattern "[a-z]+", ColumnNamesMatchPattern "[a-z]{2,4}"]' "$ORDERS"
	assert_rc 1
	check 1 PASS 'Dataset.*.ColumnNamesPatternMatchRatio=1'
	# id qty paid ship note of id customer status total qty paid ship note placed
	check 2 FAIL 'Dataset.*.ColumnNamesPatternMatchRatio=5/9'
}

@test "ColumnExists: a key some record has" {
	tsv 'Rules=[ColumnExists "nosuch"]' "$ORDERS"
	assert_rc 1
	check 1 FAIL
	# note is missing from row 4, present elsewhere; ship.city is nested
	tsv 'Rules=[ColumnExists "id", ColumnExists "note", ColumnExists "ship.city"]' "$ORDERS"
	assert_rc 0
	check 1 PASS
	check 2 PASS
	check 3 PASS
}

@test "DataFreshness: the age of each row against --now" {
	printf '%s\n' '{"t":"2024-05-01T10:00:00Z"}' '{"t":"2024-05-01T20:00:00Z"}' '{"t":1714600000}' '{"t":null}' > t.ndjson
	tsv 'Rules=[DataFreshness "t" <= 24 hours, DataFreshness "t" <= 12 hours, DataFreshness "t" > 11 hours, DataFreshness "t" between 1 hours and 1 days]' \
		--now 2024-05-02T08:00:00Z t.ndjson
	assert_rc 1
	# ages 22 h, 12 h, 1714600000 = 2024-05-01T21:46:40Z -> 10.2 h; NULL fails
	check 1 FAIL 'Column.t.DataFreshness.Compliance=3/4'
	check 2 FAIL 'Column.t.DataFreshness.Compliance=2/4'
	check 3 FAIL 'Column.t.DataFreshness.Compliance=2/4'
	check 4 FAIL 'Column.t.DataFreshness.Compliance=3/4'
	# epoch seconds as --now give the same
	cp out a.out
	tsv 'Rules=[DataFreshness "t" <= 24 hours, DataFreshness "t" <= 12 hours, DataFreshness "t" > 11 hours, DataFreshness "t" between 1 hours and 1 days]' \
		--now 1714636800 t.ndjson
	cmp a.out out
}

@test "CustomSql: counts, where, rows with a threshold; SQLite's error is an ERROR, exit 2" {
	tsv 'Rules=[CustomSql "select count(*) from primary" = 8, CustomSql "select count(*) from primary where status = '"'shipped'"'" = 4, CustomSql "select sum(qty) from primary" = 23, CustomSql "select id from primary where qty > 1" with threshold > 0.5]' "$ORDERS"
	assert_rc 0
	check 1 PASS 'Dataset.*.CustomSQL=8'
	check 2 PASS 'Dataset.*.CustomSQL=4'
	check 3 PASS 'Dataset.*.CustomSQL=23'
	# qty > 1: rows 2, 3, 5, 7, 8
	check 4 PASS 'Dataset.*.CustomSQL.Compliance=5/8'
	tsv 'Rules=[RowCount = 8, CustomSql "select nosuchfn(1) from primary" > 0, CustomSql "select count(*) from nosuchtable" > 0]' "$ORDERS"
	assert_rc 2
	check 1 PASS
	check 2 ERROR 'Dataset.*.CustomSQL=-'
	message 2 'no such function: nosuchfn'
	check 3 ERROR
	message 3 'no such table: nosuchtable'
	summary '.errored == 2 and .passed == 1 and .Score == 1 / 3'
}

@test "composites: and/or, nesting, ERROR between FAIL and PASS, metrics of the children" {
	tsv 'Rules=[(RowCount = 8) and (Mean "paid" > 0), (RowCount = 7) or (Mean "paid" > 0), (RowCount = 8) or (Mean "paid" > 0), (RowCount = 7) and (Mean "paid" > 0), (RowCount = 8) and (IsComplete "id") and (Sum "qty" = 23), (RowCount = 1) or (RowCount = 2) or (Sum "qty" = 23), ((RowCount = 1) or (IsComplete "id")) and (ColumnValues "qty" > 2 where "qty > 0"), (RowCount = 1) or (RowCount = 2)]' "$ORDERS"
	assert_rc 2
	check 1 ERROR 'Dataset.*.RowCount=8'
	message 1 'Mean "paid" > 0: '
	check 2 ERROR
	check 3 PASS
	check 4 FAIL
	check 5 PASS 'Dataset.*.RowCount=8' 'Column.id.Completeness=1' 'Column.qty.Sum=23'
	check 6 PASS 'Column.qty.Sum=23'
	# qty > 0: 7 rows, > 2 in 3 of them
	check 7 FAIL 'Column.id.Completeness=1' 'Column.qty.ColumnValues.Compliance=3/7'
	check 8 FAIL 'Dataset.*.RowCount=8'
	summary '.passed == 3 and .failed == 3 and .errored == 2'
}

@test "where: IN, LIKE, IS NULL, NOT, OR, nested columns, numbers in strings, booleans" {
	tsv "Rules=[RowCount = 3 where \"status IN ('pending','cancelled')\", RowCount = 3 where \"ship.city = 'Paris'\", RowCount = 1 where \"customer IS NULL\", RowCount = 3 where \"status LIKE 'p%' OR total > 50\", RowCount = 5 where \"NOT (status = 'shipped') OR qty >= 10\", RowCount = 4 where \"total > 10\", RowCount = 3 where \"paid = true and qty < 2\", Completeness \"customer\" = 0.5 where \"status = 'pending'\", IsComplete \"ship.zip\" where \"ship.city = 'Berlin'\"]" "$ORDERS"
	assert_rc 0
	nrules 9
	check 1 PASS 'Dataset.*.RowCount=3'
	check 2 PASS 'Dataset.*.RowCount=3'
	check 3 PASS 'Dataset.*.RowCount=1'
	check 4 PASS 'Dataset.*.RowCount=3'
	check 5 PASS 'Dataset.*.RowCount=5'
	# 10.5, "20", 100, "12.75"
	check 6 PASS 'Dataset.*.RowCount=4'
	# rows 1, 4 ("true"), 6
	check 7 PASS 'Dataset.*.RowCount=3'
	check 8 PASS 'Column.customer.Completeness=0.5'
	check 9 PASS 'Column.ship.zip.Completeness=1'
}

@test "where: a predicate that does not parse is a ruleset error naming line and column" {
	tsv "Rules=[RowCount > 0 where \"status = \"]" "$ORDERS"
	assert_rc 2
	[ ! -s out ] || fail "results for a ruleset that does not parse: $(cat out)"
	grep -Eq '^ts-validate: rules\.dqdl: ?line 1, column [0-9]+: ' err || fail "$(cat err)"
}

@test "thresholds on every rule that takes one" {
	mkdir d
	head -c 2048 /dev/zero > d/big
	head -c 100 /dev/zero > d/small
	tsv "Rules=[ColumnValues \"qty\" in [1,2] with threshold = 0.5, ColumnValues \"qty\" in [1,2] with threshold > 0.5, ColumnDataType \"total\" = \"FLOAT\" with threshold >= 0.5, CustomSql \"select id from primary where paid\" with threshold between 0.3 and 0.6, FileSize \"$PWD/d/\" > 1 KB with threshold >= 0.5, FileSize \"$PWD/d/\" > 1 KB with threshold > 0.5, ColumnDataType \"total\" = \"INTEGER\" with threshold >= 0.5]" "$ORDERS"
	assert_rc 1
	# qty 1,2,_,_,_,1,2,_
	check 1 PASS 'Column.qty.ColumnValues.Compliance=0.5'
	check 2 FAIL 'Column.qty.ColumnValues.Compliance=0.5'
	message 2 'Value: 0.5 does not meet the constraint requirement'
	# 10.5 "20" 5 0 100 -5.25 "12.75" are all numbers a FLOAT holds
	check 3 PASS 'Column.total.ColumnDataType.Compliance=1'
	check 4 PASS
	# one of the two files is over 1 KB
	check 5 PASS 'Dataset.*.FileSize.Compliance=0.5' 'Dataset.*.FileCount=2'
	check 6 FAIL 'Dataset.*.FileSize.Compliance=0.5'
	# "20" 5 0 100: 4 of 7 non-null values are integers
	check 7 PASS 'Column.total.ColumnDataType.Compliance=4/7'
}

@test "variables, DefaultLabels and labels" {
	cat > rules.dqdl <<-'EOF'
	# a comment
	codes = ["shipped", "pending", "cancelled", "returned"]
	DefaultLabels = ["team"="sales"]
	Rules = [
	    ColumnValues "status" in $codes labels=["severity"="high"],
	    RowCount > 0
	]
	EOF
	rc=0
	ts-validate -r rules.dqdl "$ORDERS" > out 2> err || rc=$?
	assert_rc 0
	check 1 PASS 'Column.status.ColumnValues.Compliance=1'
	jq -e -s '.[0].Labels == {"team": "sales", "severity": "high"} and .[1].Labels == {"team": "sales"}' out > /dev/null ||
		fail "labels: $(cat out)"
}

@test "Analyzers: metrics without a result, AllStatistics" {
	tsv 'Rules=[RowCount > 0]
Analyzers=[AllStatistics "qty", Completeness "customer", RowCount]' "$ORDERS"
	assert_rc 0
	nrules 1
	jq -e -s '[.[] | select(.type == "analyzer")] | length == 3 and all(has("Result") | not)
		and .[0].Name == "Analyzer_1" and .[0].Description == "AllStatistics \"qty\""' out > /dev/null ||
		fail "$(cat out)"
	jq -e -s '[.[] | select(.type == "analyzer")]
		| .[0].EvaluatedMetrics["Column.qty.Sum"] == 23 and .[0].EvaluatedMetrics["Column.qty.Mean"] == 2.875
		  and .[0].EvaluatedMetrics["Column.qty.Minimum"] == 0 and .[0].EvaluatedMetrics["Column.qty.Maximum"] == 10
		  and .[1].EvaluatedMetrics["Column.customer.Completeness"] == 0.875
		  and .[2].EvaluatedMetrics["Dataset.*.RowCount"] == 8' out > /dev/null || fail "$(cat out)"
}

# --- reference datasets -------------------------------------------------------

@test "reference datasets: RowCountMatch, ReferentialIntegrity, DatasetMatch, SchemaMatch, AggregateMatch" {
	printf '%s\n' '{"id":10,"name":"a","total":5.5}' '{"id":11,"name":"b","total":7.0}' '{"id":13,"name":"c","total":1}' > cust.ndjson
	printf '%s\n' '{"oid":1,"cid":10,"total":5.5}' '{"oid":2,"cid":11,"total":7}' '{"oid":3,"cid":12,"total":1}' '{"oid":4,"cid":null,"total":2}' > o.ndjson
	tsv 'Rules=[RowCountMatch "cust" > 1.3, ReferentialIntegrity "cid" "cust.id" = 0.5, ReferentialIntegrity "cid" "cust.{id}" >= 0.5, DatasetMatch "cust" "cid->id" "total" = 0.5, SchemaMatch "cust" < 0.5, AggregateMatch "sum(total)" "sum(cust.total)" > 1, AggregateMatch "count(oid)" "count(cust.id)" > 1]' \
		--ref cust=cust.ndjson --stats o.ndjson
	assert_rc 0
	check 1 PASS 'Dataset.cust.RowCountMatch=4/3'
	# cid 10, 11 are ids of cust; 12 is not, null is not
	check 2 PASS 'Column.cust.ReferentialIntegrity=0.5'
	check 3 PASS 'Column.cust.ReferentialIntegrity=0.5'
	# 10 and 11 match with equal totals (7 == 7.0)
	check 4 PASS 'Dataset.cust.DatasetMatch=0.5'
	# keys oid cid total id name: only total has the same type in both
	check 5 PASS 'Dataset.cust.SchemaMatch=1/5'
	check 6 PASS 'Column.total.AggregateMatch=15.5/13.5'
	check 7 PASS
	[ "$(stat_field err ref_rows)" = 3 ] || fail "$(cat err)"
	[ "$(stat_field err rows)" = 4 ] || fail "$(cat err)"
}

@test "reference datasets: a rule naming an alias without --ref is an ERROR, exit 2" {
	tsv 'Rules=[RowCount > 0, RowCountMatch "cust" = 1.0]' "$ORDERS"
	assert_rc 2
	check 1 PASS
	check 2 ERROR
	message 2 'cust'
	tsv 'Rules=[RowCountMatch "cust" = 1.0]' --ref cust=/nonexistent.ndjson "$ORDERS"
	assert_rc 2
	grep -q nonexistent err || fail "$(cat err)"
}

# --- history ------------------------------------------------------------------

@test "dynamic rules: RowCount > avg(last(2)) over a history file, --save-history appends" {
	printf '%s\n' '{"time":"2024-05-01T00:00:00Z","metrics":{"Dataset.*.RowCount":10}}' \
		'{"time":"2024-05-02T00:00:00Z","metrics":{"Dataset.*.RowCount":2}}' \
		'{"time":"2024-05-03T00:00:00Z","metrics":{"Dataset.*.RowCount":12}}' > hist.ndjson
	cp hist.ndjson before.ndjson
	# last(2) = 2, 12: avg 7 < 8; max(last(3)) = 12; min(last(10)) = 2
	tsv 'Rules=[RowCount > avg(last(2)), RowCount > max(last(3)), RowCount >= min(last(10)), RowCount < avg(last(1))]' \
		--history hist.ndjson "$ORDERS"
	assert_rc 1
	check 1 PASS 'Dataset.*.RowCount=8'
	check 2 FAIL 'Dataset.*.RowCount=8'
	check 3 PASS
	check 4 PASS
	cmp before.ndjson hist.ndjson
	tsv 'Rules=[RowCount > avg(last(2))]' --history hist.ndjson --save-history --now 2024-05-04T00:00:00Z "$ORDERS"
	assert_rc 0
	[ "$(wc -l < hist.ndjson)" -eq 4 ] || fail "$(cat hist.ndjson)"
	head -n 3 hist.ndjson | cmp - before.ndjson
	tail -n 1 hist.ndjson | jq -e '.metrics["Dataset.*.RowCount"] == 8 and (.time | startswith("2024-05-04T00:00:00"))' > /dev/null ||
		fail "$(tail -n 1 hist.ndjson)"
	# now last(2) = 12, 8: avg 10 > 8
	tsv 'Rules=[RowCount > avg(last(2))]' --history hist.ndjson "$ORDERS"
	assert_rc 1
	check 1 FAIL
	# no history: ERROR
	tsv 'Rules=[RowCount > avg(last(2))]' "$ORDERS"
	assert_rc 2
	check 1 ERROR
}

@test "DetectAnomalies: outside mean +- 3 standard deviations of the history; fewer than 3 runs pass" {
	for i in 1 2 3 4; do
		printf '{"time":"2024-05-0%dT00:00:00Z","metrics":{"Dataset.*.RowCount":%d,"Column.customer.Completeness":0.875}}\n' \
			"$i" $((99 + i % 3))
	done > hist.ndjson
	tsv 'Rules=[DetectAnomalies "RowCount", DetectAnomalies "Completeness" "customer"]' --history hist.ndjson "$ORDERS"
	assert_rc 1
	# 100, 101, 99, 100: 8 is far outside 100 +- 3 * 0.707
	check 1 FAIL 'Dataset.*.RowCount=8'
	message 1 'anomaly'
	check 2 PASS 'Column.customer.Completeness=0.875'
	head -n 2 hist.ndjson > two.ndjson
	tsv 'Rules=[DetectAnomalies "RowCount"]' --history two.ndjson "$ORDERS"
	assert_rc 0
	check 1 PASS 'Dataset.*.RowCount=8'
	message 1 '3 needed'
}

# --- file rules ---------------------------------------------------------------

@test "FileSize on a file of 2048 bytes; a missing file fails; s3:// is an ERROR" {
	head -c 2048 /dev/zero > f.bin
	tsv "Rules=[FileSize \"$PWD/f.bin\" = 2 KB, FileSize \"$PWD/f.bin\" > 3 KB, FileSize \"$PWD/f.bin\" between 2000 B and 2100 B, FileSize \"$PWD/nope\" > 0 B]" "$ORDERS"
	assert_rc 1
	check 1 PASS 'Dataset.*.MaximumFileSize=2048' 'Dataset.*.MinimumFileSize=2048' 'Dataset.*.FileCount=1'
	check 2 FAIL 'Dataset.*.FileSize.Compliance=0'
	check 3 PASS
	check 4 FAIL 'Dataset.*.FileCount=0'
	tsv 'Rules=[FileSize "s3://bucket/key" > 1 B]' "$ORDERS"
	assert_rc 2
	check 1 ERROR
	message 1 's3://'
}

@test "FileFreshness, FileMatch, FileUniqueness on a directory of our own" {
	mkdir d
	printf 'one\n' > d/a
	printf 'one\n' > d/b
	printf 'two\n' > d/c
	touch -d 2024-05-01T00:00:00Z d/a d/b
	touch -d 2024-04-01T00:00:00Z d/c
	cp d/c c.copy
	local sum_one sum_two
	sum_one=$(sha256sum < d/a | cut -c1-64)
	sum_two=$(sha256sum < d/c | cut -c1-64)
	tsv "Rules=[FileFreshness \"$PWD/d/\" > \"2024-04-15\", FileFreshness \"$PWD/d/\" > \"2024-04-15\" with threshold > 0.6, FileFreshness \"$PWD/d/a\" > (now() - 2 days), FileMatch \"$PWD/d/\" in [\"$sum_one\", \"$sum_two\"], FileMatch \"$PWD/d/a\" in [\"$sum_two\"], FileMatch \"$PWD/d/c\" \"$PWD/c.copy\", FileMatch \"$PWD/d/a\" \"$PWD/c.copy\", FileUniqueness \"$PWD/d/\" = 2/3, FileUniqueness \"$PWD/d/\" > 0.9]" \
		--now 2024-05-02T00:00:00Z "$ORDERS"
	assert_rc 1
	# d/c is older than 2024-04-15: 2 of 3 files
	check 1 FAIL 'Dataset.*.FileFreshness.Compliance=2/3' 'Dataset.*.FileCount=3'
	check 2 PASS 'Dataset.*.FileFreshness.Compliance=2/3'
	check 3 PASS 'Dataset.*.FileFreshness.Compliance=1'
	check 4 PASS 'Dataset.*.FileCount=3'
	check 5 FAIL
	check 6 PASS
	check 7 FAIL
	# two distinct contents in three files
	check 8 PASS 'Dataset.*.FileUniquenessRatio=2/3' 'Dataset.*.FileCount=3'
	check 9 FAIL 'Dataset.*.FileUniquenessRatio=2/3'
}

@test "row level: which rule types judge rows and which are skipped" {
	printf '%s\n' '{"a":1,"s":"xy","t":"2024-05-01T00:00:00Z"}' '{"a":"x","s":"xyz","t":"2024-04-01T00:00:00Z"}' > in.ndjson
	tsv 'Rules=[Completeness "a" > 0.5, ColumnValues "a" in [1], ColumnLength "s" < 3, ColumnDataType "a" = "INTEGER", DataFreshness "t" <= 7 days, IsUnique "a", Mean "a" > 0, RowCount > 0, ColumnCount = 3, CustomSql "select count(*) from primary" > 0, Entropy "s" > 0, (ColumnValues "a" in [1]) or (ColumnLength "s" < 3)]' \
		--annotate --report rep.ndjson --now 2024-05-02T00:00:00Z in.ndjson
	jq -c '[.DataQualityRulesPass, .DataQualityRulesFail, .DataQualityRulesSkip, .DataQualityEvaluationResult]' out > got
	jq -n -c '["Completeness \"a\" > 0.5", "ColumnValues \"a\" in [1]", "ColumnLength \"s\" < 3",
		   "ColumnDataType \"a\" = \"INTEGER\"", "DataFreshness \"t\" <= 7 days",
		   "(ColumnValues \"a\" in [1]) OR (ColumnLength \"s\" < 3)"] as [$c, $v, $l, $d, $f, $o]
		| ["IsUnique \"a\"", "Mean \"a\" > 0", "RowCount > 0", "ColumnCount = 3",
		   "CustomSql \"select count(*) from primary\" > 0", "Entropy \"s\" > 0"] as $skip
		| [[$c, $v, $l, $d, $f, $o], [], $skip, "Passed"],
		  [[$c], [$v, $l, $d, $f, $o], $skip, "Failed"]' > want
	diff want got
}

# --- the input ----------------------------------------------------------------

@test "empty input: no rows; RowCount = 0 passes, rules needing values fail" {
	: > empty.ndjson
	tsv 'Rules=[RowCount = 0, ColumnCount = 0, IsComplete "a", Completeness "a" >= 0, ColumnValues "a" > 0, Mean "a" > 0, Uniqueness "a" > 0, Entropy "a" >= 0, ColumnLength "a" > 0]' --stats empty.ndjson
	assert_rc 1
	nrules 9
	check 1 PASS 'Dataset.*.RowCount=0'
	check 2 PASS 'Dataset.*.ColumnCount=0'
	local i
	for i in 3 4 5 6 7 8 9; do check "$i" FAIL; done
	summary '.rows == 0 and .passed == 2 and .failed == 7'
	[ "$(stat_field err rows)" = 0 ] || fail "$(cat err)"
	[ "$(stat_field err records_in)" = 0 ] || fail "$(cat err)"
	# standard input, empty
	rc=0
	ts-validate -r rules.dqdl < /dev/null > out2 2> err || rc=$?
	assert_rc 1
	cmp out out2
}

@test "malformed records are error records, not rows, and exit 1 even when every rule passes" {
	printf '{"a":1}\n{"a":\n{"a":2}\n{"a":3,}\n' > m.ndjson
	tsv 'Rules=[RowCount = 2, IsComplete "a"]' --stats --errors errs.ndjson m.ndjson
	assert_rc 1
	check 1 PASS 'Dataset.*.RowCount=2'
	check 2 PASS
	summary '.rows == 2 and .passed == 2'
	assert_error_records errs.ndjson 2
	assert_error errs.ndjson 0 '.error == "bad_json" and .line == 2 and .program == "ts-validate" and .raw == "{\"a\":"'
	assert_error errs.ndjson 1 '.error == "bad_json" and .line == 4 and .raw == "{\"a\":3,}"'
	# records in = rows + rejected
	[ "$(stat_field err records_in)" = 4 ] || fail "$(cat err)"
	[ "$(stat_field err rows)" = 2 ] || fail "$(cat err)"
	[ "$(stat_field err rejected)" = 2 ] || fail "$(cat err)"
}

@test "non-object records are error records not_an_object, not rows" {
	printf '%s\n' '{"a":1}' '[1,2]' '"str"' '42' 'null' '{"a":2}' > m.ndjson
	tsv 'Rules=[RowCount = 2, ColumnCount = 1]' --stats m.ndjson
	assert_rc 1
	check 1 PASS 'Dataset.*.RowCount=2'
	check 2 PASS 'Dataset.*.ColumnCount=1'
	grep '"error"' err > errs.ndjson || true
	assert_error_records errs.ndjson 4
	local i
	for i in 0 1 2 3; do assert_error errs.ndjson "$i" ".error == \"not_an_object\" and .line == $((i + 2))"; done
	assert_error errs.ndjson 0 '.raw == "[1,2]"'
	[ "$(stat_field err records_in)" = 6 ] || fail "$(cat err)"
	[ "$(stat_field err rows)" = 2 ] || fail "$(cat err)"
	[ "$(stat_field err rejected)" = 4 ] || fail "$(cat err)"
}

@test "values beyond jansson: 1e400 and a lone surrogate (as ts-validate(1) says)" {
	printf '%s\n' '{"v":1e400,"s":"\ud800"}' '{"v":2e400,"s":"\ufffd"}' '{"v":1,"s":"x"}' > e.ndjson
	tsv 'Rules=[Sum "v" > 0, StandardDeviation "v" >= 0, DistinctValuesCount "v" = 3, IsUnique "v", DistinctValuesCount "s" = 2, ColumnLength "s" = 1, ColumnValues "v" > 5 with threshold = 2/3]' e.ndjson
	assert_rc 1
	# infinite: satisfies > 0, written null
	check 1 PASS
	jq -e -s '.[0].EvaluatedMetrics["Column.v.Sum"] == null and .[1].EvaluatedMetrics["Column.v.StandardDeviation"] == null' out > /dev/null ||
		fail "$(cat out)"
	# NaN satisfies nothing
	check 2 FAIL
	# 1e400 and 2e400 are different numbers
	check 3 PASS 'Column.v.DistinctValuesCount=3'
	check 4 PASS 'Column.v.Uniqueness=1'
	# the lone surrogate is U+FFFD, one character
	check 5 PASS 'Column.s.DistinctValuesCount=2'
	check 6 PASS 'Column.s.MinimumLength=1' 'Column.s.MaximumLength=1'
	check 7 PASS 'Column.v.ColumnValues.Compliance=2/3'
}

@test "a key repeated in a record: the last value counts, whatever else the ruleset reads" {
	printf '%s\n' '{"k":1,"k":2}' '{"k":3}' '{"k":5,"k":null}' > e.ndjson
	# with four columns in the ruleset the last value counts: 2, 3, null
	tsv 'Rules=[ColumnValues "k" in [2, 3], Completeness "k" = 2/3, Sum "a" = 0, Sum "b" = 0, Sum "c" = 0]' e.ndjson
	assert_rc 1
	check 1 FAIL 'Column.k.ColumnValues.Compliance=2/3'
	check 2 PASS 'Column.k.Completeness=2/3'
	tsv 'Rules=[ColumnValues "k" in [2, 3], Completeness "k" = 2/3]' e.ndjson
	assert_rc 1
	check 1 FAIL 'Column.k.ColumnValues.Compliance=2/3'
	check 2 PASS 'Column.k.Completeness=2/3'
}

@test "exit status: 0 all pass, 1 a rule fails, 2 a rule errors or the ruleset, usage or input is unusable" {
	tsv 'Rules=[RowCount = 8]' "$ORDERS"
	assert_rc 0
	tsv 'Rules=[RowCount = 8, RowCount = 9]' "$ORDERS"
	assert_rc 1
	tsv 'Rules=[RowCount = 9, Mean "paid" > 0]' "$ORDERS"
	assert_rc 2
	tsv 'Rules=[RowCount = ]' "$ORDERS"
	assert_rc 2
	tsv 'Rules=[RowCount = 8]' /nonexistent.ndjson
	assert_rc 2
	grep -q "cannot open '/nonexistent.ndjson'" err || fail "$(cat err)"
	tsv 'Rules=[RowCount = 8]' --format nosuch "$ORDERS"
	assert_rc 2
	tsv 'Rules=[RowCount = 8]' --pass --fail "$ORDERS"
	assert_rc 2
	tsv 'Rules=[RowCount = 8]' --report r.out "$ORDERS"
	assert_rc 2
	tsv 'Rules=[RowCount = 8]' --save-history "$ORDERS"
	assert_rc 2
	rc=0
	ts-validate "$ORDERS" > out 2> err || rc=$?
	assert_rc 2
	grep -q 'no ruleset' err || fail "$(cat err)"
	rc=0
	ts-validate -r /nonexistent.dqdl "$ORDERS" > out 2> err || rc=$?
	assert_rc 2
	[ ! -s out ] || fail "$(cat out)"
}

@test "--stats: records_in, rows, records_out (the result lines)" {
	tsv 'Rules=[RowCount = 8, IsComplete "id"]' --stats "$ORDERS"
	assert_rc 0
	[ "$(stat_field err records_in)" = 8 ] || fail "$(cat err)"
	[ "$(stat_field err rows)" = 8 ] || fail "$(cat err)"
	[ "$(stat_field err rejected)" = 0 ] || fail "$(cat err)"
	[ "$(stat_field err records_out)" = "$(wc -l < out)" ] || fail "$(cat err)"
	[ "$(stat_field err bytes_out)" = "$(wc -c < out)" ] || fail "$(cat err)"
	[ "$(stat_field err status)" = 0 ] || fail "$(cat err)"
}

@test "compressed input: gzip from a file, from standard input, several files" {
	gen_records 500 3 > g.ndjson
	gzip -c g.ndjson > g.ndjson.gz
	head -n 200 g.ndjson > p1.ndjson
	tail -n +201 g.ndjson | gzip -c > p2.ndjson.gz
	local r='Rules=[RowCount = 500, IsComplete "id", Sum "x" > -1000000, Entropy "c" > 1, IsUnique "id"]'
	tsv "$r" g.ndjson
	cp out plain.out
	summary '.rows == 500'
	tsv "$r" g.ndjson.gz
	cmp plain.out out
	rc=0
	ts-validate -r rules.dqdl < g.ndjson.gz > out 2> err || rc=$?
	cmp plain.out out
	tsv "$r" p1.ndjson p2.ndjson.gz
	cmp plain.out out
}

# --- output formats -------------------------------------------------------------

@test "--print-rules: canonical form, one rule a line, exit 0; prints back unchanged" {
	cat > rules.dqdl <<-'EOF'
	# comment
	Rules = [
	  RowCount > 0,
	    IsComplete "item",   ColumnValues "att1" in [ "a","b" ] with threshold >= 0.5,
	  (Mean "x" > 1) or (Sum "x" < 2), ColumnLength "s" between 1 and 4 where "a > 1"
	]
	EOF
	run -0 ts-validate -r rules.dqdl --print-rules
	printf '%s\n' 'Rules = [' \
		'    RowCount > 0,' \
		'    IsComplete "item",' \
		'    ColumnValues "att1" in ["a","b"] with threshold >= 0.5,' \
		'    (Mean "x" > 1) OR (Sum "x" < 2),' \
		'    ColumnLength "s" between 1 and 4 where "a > 1"' \
		']' > want
	printf '%s\n' "$output" > got
	diff want got
	# the canonical form is a fixed point
	run -0 ts-validate -r got --print-rules
	printf '%s\n' "$output" > got2
	diff got got2
	# every ruleset of our own prints back to itself after one round
	ts-validate -r "$VD/scale.dqdl" --print-rules > s1
	ts-validate -r s1 --print-rules > s2
	diff s1 s2
}

@test "--print-rules: an invalid ruleset is exit 2 with line, column and reason" {
	printf 'Rules = [\n  RowCount > 0,\n  Foo "x"\n]\n' > bad.dqdl
	run -2 --separate-stderr ts-validate -r bad.dqdl --print-rules
	[ -z "$output" ] || fail "stdout: $output"
	[ "$stderr" = "ts-validate: bad.dqdl:line 3, column 3: unknown rule type 'Foo'" ] || fail "$stderr"
	printf 'Rules = [\n  RowCount >\n]\n' > bad.dqdl
	run -2 --separate-stderr ts-validate -r bad.dqdl --print-rules
	[[ "$stderr" =~ ^ts-validate:\ bad\.dqdl:line\ 3,\ column\ 1:\ expected\ a\ value ]] || fail "$stderr"
	printf 'Rules = [ ColumnValues "a" in [1, "x"] ]\n' > bad.dqdl
	run -2 --separate-stderr ts-validate -r bad.dqdl "$ORDERS"
	[ -z "$output" ] || fail "stdout: $output"
	[[ "$stderr" =~ ^ts-validate:\ bad\.dqdl:line\ 1,\ column\ [0-9]+:\ .+ ]] || fail "$stderr"
}

@test "--format text: a row per rule with result and metrics, then the totals" {
	tsv 'Rules=[RowCount = 8, IsComplete "customer", Mean "paid" > 0]' --format text "$ORDERS"
	assert_rc 2
	[ "$(wc -l < out)" -eq 5 ] || fail "$(cat out)"
	head -n 1 out | grep -Eq '^RULE +RESULT +METRICS$' || fail "$(cat out)"
	sed -n 2p out | grep -Eq '^RowCount = 8 +PASS +Dataset\.\*\.RowCount=8$' || fail "$(cat out)"
	sed -n 3p out | grep -Eq '^IsComplete "customer" +FAIL +Column\.customer\.Completeness=0\.875 ' || fail "$(cat out)"
	sed -n 4p out | grep -Eq '^Mean "paid" > 0 +ERROR +.*not numbers' || fail "$(cat out)"
	# the columns line up
	[ "$(head -n 4 out | awk '{ print index($0, "RESULT") + index($0, "PASS") + index($0, "FAIL") + index($0, "ERROR") }' | sort -u | wc -l)" -eq 1 ] ||
		fail "columns do not line up: $(cat out)"
	tail -n 1 out | grep -q '1 of 3 rules passed' || fail "$(cat out)"
}

@test "--format datazone: passingPercentage 0-100, evaluationsCount, evaluations[]" {
	tsv 'Rules=[RowCount = 8, IsComplete "customer", Mean "total" > 0, ColumnValues "ship.city" in ["Paris"] with threshold > 0.3, Uniqueness "id" = 1]' \
		--format datazone --now 2024-05-10T12:00:00Z "$ORDERS"
	assert_rc 1
	[ "$(wc -l < out)" -eq 1 ] || fail "$(cat out)"
	jq -e '.passingPercentage == 80 and .evaluationsCount == 5 and (.evaluations | length) == 5
		and .evaluatedAt == "2024-05-10T12:00:00.000Z"
		and all(.evaluations[]; (.description | type) == "string" and (.types | type) == "array"
			and (.applicableFields | type) == "array" and (.status | IN("PASS", "FAIL", "ERROR"))
			and (.details | type) == "object")' out > /dev/null || fail "$(cat out)"
	jq -e '.evaluations[0] == {"description": "RowCount = 8", "types": ["RowCount"], "applicableFields": [],
			"status": "PASS", "details": {"Dataset.*.RowCount": "8"}}
		and .evaluations[1].types == ["IsComplete"] and .evaluations[1].applicableFields == ["customer"]
		and .evaluations[1].status == "FAIL"
		and .evaluations[1].details["Column.customer.Completeness"] == "0.875"
		and (.evaluations[1].details.EvaluationMessage | test("0.875"))
		and .evaluations[3].applicableFields == ["ship.city"]' out > /dev/null || fail "$(cat out)"
}

@test "--format datazone: applicableFields of multi-column and errored rules, types of composites" {
	tsv 'Rules=[Mean "paid" > 0, IsPrimaryKey "customer" "status", ColumnCorrelation "qty" "total" > 0, (IsComplete "id") and (Sum "qty" > 0)]' \
		--format datazone --now 0 "$ORDERS"
	assert_rc 2
	jq -e '.evaluations[0].applicableFields == ["paid"]
		and .evaluations[1].applicableFields == ["customer", "status"]
		and .evaluations[2].applicableFields == ["qty", "total"]
		and .evaluations[3].types == ["IsComplete", "Sum"]' out > /dev/null || fail "$(cat out)"
}

@test "--format datazone: evaluatedAt is the time of day without --now" {
	tsv 'Rules=[RowCount = 8]' --format datazone "$ORDERS"
	assert_rc 0
	local now t
	now=$(date -u +%s)
	t=$(jq -r '.evaluatedAt | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601' out)
	[ $((now - t)) -lt 120 ] && [ $((t - now)) -lt 120 ] || fail "evaluatedAt $(jq -r .evaluatedAt out), now $now"
}

# --- row level ----------------------------------------------------------------

@test "--annotate: the four fields added, the record otherwise byte-identical" {
	printf '%s\n' '{"a":1.0,"b":"\u0041","c":{"d":[1,2,{"e":null}]},"big":1e400,"s":"日本","n":-0}' \
		'{}' '{"a":null}' '{"x":"y","a":2}' '{"a":"","z":[]}' > in.ndjson
	tsv 'Rules=[IsComplete "a", RowCount > 0, ColumnValues "a" in [1, 2] with threshold > 0.1]' --annotate --report rep.ndjson in.ndjson
	assert_rc 1
	[ "$(wc -l < out)" -eq 5 ] || fail "$(cat out)"
	local i=0 inl outl head
	while IFS= read -r inl; do
		i=$((i + 1))
		outl=$(sed -n "${i}p" out)
		head=${inl%\}}
		[ "$head" = "{" ] || head="$head,"
		[ "${outl#"$head"}" != "$outl" ] || fail "record $i changed: $inl -> $outl"
		# what follows is exactly the four fields
		printf '{%s\n' "${outl#"$head"}" | jq -e 'keys == ["DataQualityEvaluationResult", "DataQualityRulesFail", "DataQualityRulesPass", "DataQualityRulesSkip"]' > /dev/null ||
			fail "record $i: not the four fields: $outl"
	done < in.ndjson
	jq -s -c 'map([.DataQualityRulesPass, .DataQualityRulesFail, .DataQualityRulesSkip, .DataQualityEvaluationResult])' out > got
	# ColumnValues with a threshold is still judged per row
	jq -n -c '["IsComplete \"a\"", "ColumnValues \"a\" in [1,2] with threshold > 0.1"] as [$c, $v]
		| [[[$c, $v], [], ["RowCount > 0"], "Passed"],
		   [[], [$c, $v], ["RowCount > 0"], "Failed"],
		   [[], [$c, $v], ["RowCount > 0"], "Failed"],
		   [[$c, $v], [], ["RowCount > 0"], "Passed"],
		   [[$c], [$v], ["RowCount > 0"], "Failed"]]' > want
	diff want got
	# the results went to --report
	jq -e -s '.[-1].type == "summary" and .[-1].rows == 5' rep.ndjson > /dev/null || fail "$(cat rep.ndjson)"
}

@test "--annotate: a record that already has one of the four fields" {
	printf '%s\n' '{"a":3,"DataQualityEvaluationResult":"old"}' > in.ndjson
	tsv 'Rules=[IsComplete "a"]' --annotate --report /dev/null in.ndjson
	assert_rc 0
	[ "$(grep -o '"DataQualityEvaluationResult"' out | wc -l)" -eq 1 ] || fail "$(cat out)"
	jq -e '.DataQualityEvaluationResult == "Passed"' out > /dev/null || fail "$(cat out)"
}

@test "--pass and --fail split one stream: pass + fail = every row, dropped_* balance" {
	local r='Rules=[IsComplete "customer", ColumnValues "qty" <= 4, RowCount = 8, (IsComplete "note") or (ColumnLength "status" < 8)]'
	cat "$ORDERS" > in.ndjson
	printf '%s\n' '{"bad":' '[1]' >> in.ndjson
	tsv "$r" --pass --stats --report pass.rep --errors pass.err in.ndjson
	assert_rc 1
	mv out pass.out
	mv err pass.stats
	tsv "$r" --fail --stats --report fail.rep --errors fail.err in.ndjson
	assert_rc 1
	mv out fail.out
	mv err fail.stats
	# customer null: row 7; qty > 4: row 5 (10); note NULL and status of 8+
	# letters: row 4 (cancelled; note missing).  Rows 1-3, 6, 8 pass.
	sed -n '1p;2p;3p;6p;8p' "$ORDERS" > want.pass
	sed -n '4p;5p;7p' "$ORDERS" > want.fail
	cmp want.pass pass.out
	cmp want.fail fail.out
	cmp pass.rep fail.rep
	[ "$(jq -c 'select(.type == "summary")' pass.rep)" = '{"type":"summary","Score":0.25,"passed":1,"failed":3,"errored":0,"total":4,"rows":8}' ] ||
		fail "$(cat pass.rep)"
	# records in = out + dropped + rejected, in both runs; the malformed and
	# the non-object record are error records in both
	[ "$(stat_field pass.stats records_in)" = 10 ] || fail "$(cat pass.stats)"
	[ "$(stat_field pass.stats records_out)" = 5 ] || fail "$(cat pass.stats)"
	[ "$(stat_field pass.stats dropped_failed)" = 3 ] || fail "$(cat pass.stats)"
	[ "$(stat_field pass.stats rejected)" = 2 ] || fail "$(cat pass.stats)"
	[ "$(stat_field fail.stats records_out)" = 3 ] || fail "$(cat fail.stats)"
	[ "$(stat_field fail.stats dropped_passed)" = 5 ] || fail "$(cat fail.stats)"
	[ "$(stat_field fail.stats rejected)" = 2 ] || fail "$(cat fail.stats)"
	assert_error_records pass.err 2
	assert_error_records fail.err 2
	# held-back records are not error records
	run -1 grep -q '"customer"' pass.err fail.err
}

@test "--pass without --report: the results go to standard error" {
	tsv 'Rules=[IsComplete "customer"]' --pass "$ORDERS"
	assert_rc 1
	[ "$(wc -l < out)" -eq 7 ] || fail "$(cat out)"
	run -1 grep -q '"type"' out
	jq -e -s 'map(select(.type == "rule")) | length == 1 and .[0].Result == "FAIL"' err > /dev/null || fail "$(cat err)"
	grep -q '"type":"summary"' err || fail "$(cat err)"
}

@test "--pass with no row-level rule: every row passes, the rules still judge the data" {
	tsv 'Rules=[RowCount = 9, IsUnique "id"]' --pass --report rep.ndjson "$ORDERS"
	assert_rc 1
	cmp "$ORDERS" out
	jq -e -s '.[0].Result == "FAIL" and .[1].Result == "PASS"' rep.ndjson > /dev/null || fail "$(cat rep.ndjson)"
}

# === 3. Scale-out ==============================================================

# scale.dqdl has DataFreshness: every run of it gets the same now.
SCALE_NOW=(--now 2024-12-31T00:00:00Z)

@test "scale-out: split -n l/3, --state-out each, --merge gives the bytes of one run" {
	gen_records 3000 7 > in.ndjson
	ts-validate -r "$VD/scale.dqdl" "${SCALE_NOW[@]}" in.ndjson > whole.out || [ $? -eq 1 ]
	tail -n 1 whole.out | jq -e '.type == "summary" and .rows == 3000' > /dev/null || fail "$(tail -n 1 whole.out)"
	split -n l/3 in.ndjson part.
	[ "$(cat part.* | wc -l)" -eq 3000 ]
	local p
	for p in part.aa part.ab part.ac; do
		ts-validate -r "$VD/scale.dqdl" "${SCALE_NOW[@]}" --state-out "$p.state" "$p" > "$p.out" || [ $? -eq 1 ]
		[ -s "$p.state" ] || fail "no state for $p"
	done
	rc=0
	ts-validate -r "$VD/scale.dqdl" "${SCALE_NOW[@]}" --merge part.aa.state part.ab.state part.ac.state > merged.out 2> err || rc=$?
	[ "$rc" -eq 1 ] || fail "merge exit $rc: $(cat err)"
	cmp whole.out merged.out
	# in any order
	ts-validate -r "$VD/scale.dqdl" "${SCALE_NOW[@]}" --merge part.ac.state part.aa.state part.ab.state > merged2.out || [ $? -eq 1 ]
	cmp whole.out merged2.out
	# and a part alone differs from the whole (the test can tell)
	run -1 cmp -s whole.out part.aa.out
}

@test "scale-out: other splits, a part with no rows, spilled value sets" {
	gen_records 2000 11 > in.ndjson
	ts-validate -r "$VD/scale.dqdl" "${SCALE_NOW[@]}" in.ndjson > whole.out || [ $? -eq 1 ]
	split -n l/7 in.ndjson part.
	: > part.zz
	local p
	for p in part.*; do
		case $p in *.state) continue ;; esac
		ts-validate -r "$VD/scale.dqdl" "${SCALE_NOW[@]}" --memory 1M --state-out "$p.state" "$p" > /dev/null || [ $? -eq 1 ]
	done
	ts-validate -r "$VD/scale.dqdl" "${SCALE_NOW[@]}" --merge part.*.state > merged.out || [ $? -eq 1 ]
	cmp whole.out merged.out
}

@test "scale-out: reference datasets and history under --merge" {
	gen_records 400 9 > in.ndjson
	# the reference: every third record's id and x
	awk 'NR % 3 == 0' in.ndjson | jq -c '{id, x, c}' > ref.ndjson
	printf '%s\n' '{"time":"2024-05-01T00:00:00Z","metrics":{"Dataset.*.RowCount":390,"Column.id.Completeness":1}}' \
		'{"time":"2024-05-02T00:00:00Z","metrics":{"Dataset.*.RowCount":410,"Column.id.Completeness":1}}' \
		'{"time":"2024-05-03T00:00:00Z","metrics":{"Dataset.*.RowCount":400,"Column.id.Completeness":1}}' > hist.ndjson
	cat > r.dqdl <<-'EOF'
	Rules = [
	    RowCountMatch "ref" between 2.9 and 3.1,
	    ReferentialIntegrity "id" "ref.id" > 0.3,
	    DatasetMatch "ref" "id->id" "x" > 0.3,
	    SchemaMatch "ref" > 0,
	    AggregateMatch "sum(x)" "sum(ref.x)" > 0,
	    RowCount >= avg(last(3)),
	    DetectAnomalies "RowCount",
	    DetectAnomalies "Completeness" "id"
	]
	EOF
	local opts=(-r r.dqdl --ref ref=ref.ndjson --history hist.ndjson)
	ts-validate "${opts[@]}" in.ndjson > whole.out || [ $? -eq 1 ]
	jq -e -s 'map(select(.type == "rule")) | length == 8 and all(.Result != "ERROR")' whole.out > /dev/null ||
		fail "$(cat whole.out)"
	split -n l/3 in.ndjson part.
	local p
	for p in part.aa part.ab part.ac; do
		ts-validate "${opts[@]}" --state-out "$p.state" "$p" > /dev/null || [ $? -eq 1 ]
	done
	ts-validate "${opts[@]}" --merge part.aa.state part.ab.state part.ac.state > merged.out || [ $? -eq 1 ]
	cmp whole.out merged.out
}

# bats test_tags=slow
@test "scale-out: GNU parallel --pipe, one state per job ({#}), merged = one run" {
	command -v parallel > /dev/null || skip "GNU parallel is not installed (scripts/setup)"
	gen_records 6000 5 > in.ndjson
	ts-validate -r "$VD/scale.dqdl" "${SCALE_NOW[@]}" in.ndjson > whole.out || [ $? -eq 1 ]
	rc=0
	parallel --will-cite --pipe --block 60k -j 3 \
		"ts-validate -r '$VD/scale.dqdl' ${SCALE_NOW[*]} --state-out '$PWD/job.{#}.state' > /dev/null; [ \$? -le 1 ]" \
		< in.ndjson || rc=$?
	[ "$rc" -eq 0 ] || fail "parallel: $rc jobs failed"
	local n
	local jobs=(job.*.state)
	n=${#jobs[@]}
	[ "$n" -ge 3 ] || fail "only $n jobs: the input was not split"
	ts-validate -r "$VD/scale.dqdl" "${SCALE_NOW[@]}" --merge job.*.state > merged.out || [ $? -eq 1 ]
	cmp whole.out merged.out
}

@test "scale-out: a state written for another ruleset is refused, exit 2" {
	gen_records 300 2 > in.ndjson
	split -n l/2 in.ndjson part.
	ts-validate -r "$VD/scale.dqdl" "${SCALE_NOW[@]}" --state-out a.state part.aa > /dev/null || [ $? -eq 1 ]
	printf 'Rules=[RowCount > 0]\n' > other.dqdl
	ts-validate -r other.dqdl --state-out b.state part.ab > /dev/null
	run -2 --separate-stderr ts-validate -r "$VD/scale.dqdl" "${SCALE_NOW[@]}" --merge a.state b.state
	[[ "$stderr" == *"b.state: not a state file of this ruleset"* ]] || fail "$stderr"
	run -2 --separate-stderr ts-validate -r other.dqdl --merge a.state
	[[ "$stderr" == *"a.state: not a state file of this ruleset"* ]] || fail "$stderr"
	echo garbage > g.state
	run -2 --separate-stderr ts-validate -r other.dqdl --merge g.state
	[[ "$stderr" == *"g.state: not a state file"* ]] || fail "$stderr"
	run -2 --separate-stderr ts-validate -r other.dqdl --merge
	[[ "$stderr" == *"--merge needs the state files"* ]] || fail "$stderr"
}

@test "scale-out: a refused merge writes no results" {
	gen_records 300 2 > in.ndjson
	ts-validate -r "$VD/scale.dqdl" "${SCALE_NOW[@]}" --state-out a.state in.ndjson > /dev/null || [ $? -eq 1 ]
	printf 'Rules=[RowCount > 0]\n' > other.dqdl
	run -2 --separate-stderr ts-validate -r other.dqdl --merge a.state
	[ -z "$output" ] || fail "results of a refused merge: $output"
}

@test "scale-out: states and a merge with different --ref options: refused, saying which" {
	printf 'Rules=[AggregateMatch "sum(qty)" "sum(ref.qty)" >= 0.9]\n' > r.dqdl
	ts-validate -r r.dqdl --ref ref="$ORDERS" --state-out with.state "$ORDERS" > /dev/null
	run -2 --separate-stderr ts-validate -r r.dqdl --merge with.state
	[ -z "$output" ]
	[[ $stderr == *'with.state: AggregateMatch "sum(qty)" "sum(ref.qty)" >= 0.9 was written with --ref ref=FILE: give the merging run the same --ref options'* ]] ||
		fail "stderr: $stderr"
	ts-validate -r r.dqdl --state-out without.state "$ORDERS" > /dev/null || [ $? -eq 1 ]
	run -2 --separate-stderr ts-validate -r r.dqdl --ref ref="$ORDERS" --merge without.state
	[[ $stderr == *'without.state: '*'written without --ref ref=FILE, which this run has'* ]] ||
		fail "stderr: $stderr"
	# and without any state: the missing reference is named
	tsv 'Rules=[AggregateMatch "sum(qty)" "sum(ref.qty)" >= 0.9]' "$ORDERS"
	assert_rc 1
	message 1 'no reference dataset "ref" \(give it with --ref ref=FILE\)'
	# the same states merged with the same options: one run's bytes
	ts-validate -r r.dqdl --ref ref="$ORDERS" "$ORDERS" > one.out
	ts-validate -r r.dqdl --ref ref="$ORDERS" --merge with.state > merged.out
	cmp one.out merged.out
}

@test "scale-out: CustomSql under --merge is an ERROR" {
	printf 'Rules=[RowCount = 8, CustomSql "select count(*) from primary" = 8]\n' > r.dqdl
	ts-validate -r r.dqdl --state-out a.state "$ORDERS" > /dev/null
	rc=0
	ts-validate -r r.dqdl --merge a.state > out 2> err || rc=$?
	assert_rc 2
	check 1 PASS 'Dataset.*.RowCount=8'
	check 2 ERROR
}

# --- faults ------------------------------------------------------------------

@test "--state-out: written under a temporary name and renamed; nothing is left when it cannot be" {
	tsv 'Rules=[RowCount > 0, IsUnique "id"]' --state-out s.state "$ORDERS"
	assert_rc 0
	[ -s s.state ]
	[ -z "$(find . -name 's.state.tmp-*')" ] || fail "temporary state left: $(ls)"
	mkdir ro && chmod 555 ro
	if [ -w ro ]; then
		skip "running as root: a read-only directory is writable"
	fi
	tsv 'Rules=[RowCount > 0]' --state-out ro/s.state "$ORDERS"
	assert_rc 2
	grep -q 'cannot create state file' err
	[ -z "$(ls ro)" ]
}

@test "--state-out: SIGTERM at any moment leaves the whole state or none, never a temporary file" {
	# 400,000 distinct ids: the state takes a good part of the run to
	# write, so some of the stops below land while it is written
	awk 'BEGIN { for (i = 0; i < 400000; i++) printf "{\"id\":\"id-%024d\"}\n", i }' > in.ndjson
	printf 'Rules = [ IsUnique "id" ]\n' > rules.dqdl
	ts-validate -r rules.dqdl --threads 1 in.ndjson > whole.out
	local ms states=0
	for ms in 20 60 100 130 160 190 220 250 280 310 350 400 500; do
		rm -f s.state
		ts-validate -r rules.dqdl --threads 1 --state-out s.state in.ndjson > /dev/null 2>&1 &
		local pid=$!
		sleep "0.$(printf '%03d' "$ms")"
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" || true
		[ -z "$(find . -name 's.state.tmp-*')" ] || fail "a temporary state is left after a stop at ${ms} ms: $(ls)"
		if [ -e s.state ]; then
			states=$((states + 1))
			ts-validate -r rules.dqdl --merge s.state > merged.out ||
				fail "the state left by a stop at ${ms} ms does not merge"
			cmp whole.out merged.out
		fi
	done
	echo "# $states of 13 stopped runs left a state" >&3
	# the state takes the umask, as every output file does
	rm -f s.state
	(umask 027 && ts-validate -r rules.dqdl --state-out s.state "$ORDERS" > /dev/null) || true
	[ "$(stat -c %a s.state)" = 640 ]
}

@test "descriptors 0-2 closed, standard output closed: exit 2, the error records still reach --errors" {
	printf '%s\n' '{"a":1}' 'bad' '{"a":2}' > in.ndjson
	printf 'Rules = [ RowCount = 2 ]\n' > rules.dqdl
	# standard output closed: the results cannot be written
	run -2 bash -c 'ts-validate -r rules.dqdl --errors e.err in.ndjson >&-'
	assert_error_records e.err 1
	# 0 and 2 closed at start: the error record is not written into the
	# first file the program opens, and standard input is empty
	run -1 bash -c 'ts-validate -r rules.dqdl --errors e2.err in.ndjson > out <&- 2>&-'
	jq -e 'select(.type == "summary") | .rows == 2' out
	assert_error_records e2.err 1
	run -1 bash -c 'ts-validate -r rules.dqdl > out2 <&-'
	jq -e 'select(.type == "summary") | .rows == 0' out2
}

# --- threads -------------------------------------------------------------------

@test "--threads: a large file read on threads gives the bytes of one thread; a damaged one falls back to the input loop" {
	"$ROOT/scripts/gen-cloudtrail" --seed 21 --size 10 --holes 5 --dups 2 -o big.ndjson
	cat > r.dqdl <<'RULES'
Rules = [
    RowCount > 0, IsComplete "eventID", IsUnique "eventID", Entropy "eventName" > 0,
    Mean "eventVersion" > 0, ColumnLength "eventID" between 0 and 100,
    ColumnValues "awsRegion" in ["us-east-1"] with threshold > 0.01, ColumnCount > 3,
    DistinctValuesCount "awsRegion" > 1, RowCount > 1 where "awsRegion = 'us-west-2'"
]
Analyzers = [ AllStatistics "eventName" ]
RULES
	run -1 --separate-stderr ts-validate -r r.dqdl --threads 1 --stats big.ndjson
	one=$output
	stats1=$(jq -c 'del(.elapsed_s)' <<<"$stderr")
	run -1 --separate-stderr ts-validate -r r.dqdl --threads 2 --stats big.ndjson
	[ "$output" = "$one" ] || fail "threads 2 differ from threads 1"
	[ "$(jq -c 'del(.elapsed_s)' <<<"$stderr")" = "$stats1" ] || fail "stats differ: $stderr"
	# and the bytes are right, not only equal: the row count, and the
	# eventIDs that occur once (sort | uniq) over those present
	local rows once present
	rows=$(wc -l < big.ndjson)
	read -r once present < <(jq -r 'select(.eventID != null) | .eventID' big.ndjson |
		sort | uniq -c | awk '$1 == 1 { u++ } { t += $1 } END { print u + 0, t }')
	[ "$once" -lt "$present" ] || fail "the data has no duplicate eventIDs"
	printf '%s\n' "$output" > out
	check 1 PASS "Dataset.*.RowCount=$rows"
	check 3 FAIL "Column.eventID.Uniqueness=$once/$present"
	# a bad line in the middle: the file is read again on one thread, the
	# error record names its line, and no row is counted twice
	n=$(wc -l < big.ndjson)
	mid=$((n / 2))
	sed "${mid}s/.*/{broken/" big.ndjson > bad.ndjson
	run -1 --separate-stderr ts-validate -r r.dqdl --threads 1 --errors e1.err bad.ndjson
	one=$output
	run -1 --separate-stderr ts-validate -r r.dqdl --threads 2 --errors e2.err --stats bad.ndjson
	[ "$output" = "$one" ] || fail "threads 2 differ from threads 1 on damaged input"
	cmp e1.err e2.err
	assert_error e2.err 0 ".error == \"bad_json\" and .line == $mid"
	[[ "$stderr" == *"1 record rejected, see e2.err"* ]]
	jq -e ".records_in == $n and .rows == $((n - 1)) and .rejected == 1" <<<"${stderr##*$'\n'}"
}
