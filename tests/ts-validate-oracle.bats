#!/usr/bin/env bats
# ts-validate against an independent oracle: on generated data, every metric
# ts-validate reports in EvaluatedMetrics equals what DuckDB (scripts/duckdb,
# the @duckdb/node-api package pinned in tests/package.json) computes in SQL
# under the same definition: counts exactly, everything else within 1e-9
# relative.
#
# The definitions are Deequ's, which is what Glue's DQDL rules run on (the
# analyzers behind the rule types, and the metric names the DQDL translation
# gives them).  Each is one SQL function below, with its source.  A column is a
# record field: a top-level key if the record has it, else a dotted path into
# nested objects; a missing field and JSON null are both NULL.
#
# Without bin/ts-validate (or $TS_BIN/ts-validate) the comparisons are
# skipped; the test of the oracle itself on a hand-computed example runs
# whenever DuckDB is installed (scripts/setup: npm ci --prefix tests).

bats_require_minimum_version 1.5.0
load helpers

ROOT="$BATS_TEST_DIRNAME/.."

setup_file() {
	# gen-numeric.js SEED N: N records of numbers, strings and holes, the same
	# bytes for the same SEED.  Columns (each NULL in ~5% of the records and
	# missing in ~5%, unless said otherwise):
	#   id   integers 0..N-1, ~3% repeating an earlier one, no holes; written
	#        as 12, 12.0, 1.2e1 or 1.2E+1 (one value by meaning)
	#   i    integers -500..500
	#   f    decimals with 0-4 fraction digits, |f| <= 1000, written in the same
	#        several ways
	#   big  integers up to 2^52 in magnitude (exact sums)
	#   x, y decimals, y = 3x + noise (correlation); holes independent
	#   s    strings of 0-12 code points: ASCII, é, 日, an emoji (one code point,
	#        two UTF-16 units, four bytes), quotes, backslashes, newlines;
	#        some written as \u escapes (surrogate pairs for the emoji)
	#   c    five colours, skewed (entropy), some with an escaped first letter
	#   n    0..20 as a number or a numeric string ("7", 7, "7.0", 7.0)
	#   a, b integers 0..30, 10% NULL each (multi-column uniqueness)
	#   o.p  a nested integer; o or o.p may be missing or null
	cat >"$BATS_FILE_TMPDIR/gen-numeric.js" <<'EOF'
'use strict';
const seed = Number(process.argv[2]) >>> 0, n = Number(process.argv[3]);
let st = seed || 1;
function rnd() { // mulberry32
	st = (st + 0x6d2b79f5) >>> 0;
	let t = st;
	t = Math.imul(t ^ (t >>> 15), t | 1);
	t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
	return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const below = (k) => Math.floor(rnd() * k);
// the exact decimal k * 10^-d, written one of four ways when varied
function dec(k, d, varied) {
	const neg = k < 0, digits = String(Math.abs(k));
	let plain = digits;
	if (d > 0) {
		const p = digits.padStart(d + 1, '0');
		plain = `${p.slice(0, p.length - d)}.${p.slice(p.length - d)}`;
	}
	let out = plain;
	const r = varied ? below(4) : 0;
	if (r === 1) out = plain.includes('.') ? `${plain}0` : `${plain}.0`;
	if (r >= 2) {
		const e = digits.length - 1 - d;
		const m = digits[0] + (digits.length > 1 ? `.${digits.slice(1)}` : '');
		out = r === 2 ? `${m}e${e}` : `${m}E${e >= 0 ? '+' : ''}${e}`;
	}
	return (neg ? '-' : '') + out;
}
// key:value, or key:null, or nothing (holes in per-mille: null, missing)
function field(out, key, text, nul = 50, mis = 50) {
	const r = below(1000);
	if (r < nul) out.push(`"${key}":null`);
	else if (r >= nul + mis) out.push(`"${key}":${text}`);
}
const CHARS = ['a', 'b', 'Z', ' ', '\u00e9', '\u65e5', '\u{1f600}', '"', '\\', '\n'];
function jstr(s, escapeSome) {
	let o = '"';
	for (const ch of s) {
		const cp = ch.codePointAt(0);
		if (ch === '"' || ch === '\\') o += `\\${ch}`;
		else if (ch === '\n') o += '\\n';
		else if ((cp > 127 || (escapeSome && below(4) === 0)) && below(2) === 0) {
			for (let i = 0; i < ch.length; i++)
				o += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
		} else o += ch;
	}
	return `${o}"`;
}
const COLOURS = ['red', 'green', 'blue', 'amber', 'violet'], CW = [50, 25, 12, 8, 5];
const lines = [];
for (let i = 0; i < n; i++) {
	const o = [];
	const id = i > 0 && below(100) < 3 ? below(i) : i;
	o.push(`"id":${dec(id, 0, true)}`);
	field(o, 'i', String(below(1001) - 500));
	field(o, 'f', dec(below(20000001) - 10000000, below(5), true));
	field(o, 'big', String(Math.floor(rnd() * 2 ** 53) - 2 ** 52));
	const xk = below(2000001) - 1000000;
	field(o, 'x', dec(xk, 3, true));
	field(o, 'y', dec(3 * xk + below(400001) - 200000, 3, true));
	let s = '';
	for (let k = below(13); k > 0; k--) s += CHARS[below(CHARS.length)];
	field(o, 's', jstr(s, false));
	let w = below(100), ci = 0;
	while (w >= CW[ci]) w -= CW[ci++];
	field(o, 'c', jstr(COLOURS[ci], true));
	const nv = below(21), nf = below(4);
	field(o, 'n', nf === 0 ? String(nv) : nf === 1 ? `"${nv}"` : nf === 2 ? `${nv}.0` : `"${nv}.0"`);
	field(o, 'a', String(below(31)), 100, 0);
	field(o, 'b', String(below(31)), 100, 0);
	const inner = [];
	field(inner, 'p', String(below(1000)));
	field(o, 'o', `{${inner.join(',')}}`);
	lines.push(`{${o.join(',')}}`);
}
process.stdout.write(`${lines.join('\n')}\n`);
EOF
}

setup() {
	command -v node >/dev/null || skip "node is not installed (DuckDB runs in it)"
	[ -d "$ROOT/tests/node_modules/@duckdb/node-api" ] ||
		skip "DuckDB is not installed: run scripts/setup (npm ci --prefix tests)"
	cd "$BATS_TEST_TMPDIR" || fail "cannot cd to $BATS_TEST_TMPDIR"
}

need_ts_validate() {
	[ -x "$TS_BIN/ts-validate" ] || skip "ts-validate is not built yet ($TS_BIN/ts-validate)"
}

gen_numeric() { # gen_numeric SEED N > FILE
	node "$BATS_FILE_TMPDIR/gen-numeric.js" "$@"
}

# --- the oracle: one SQL expression per metric -----------------------------------

# The records are the table r, one JSON value j per line.  Macros:
#   vnn(v)  JSON null as SQL NULL (a missing field is NULL already)
#   vkey(v) equality by meaning, the value layer's: numbers by value (12 = 12.0
#           = 1.2e1, -0 = 0), strings by decoded text ("\u0041" = "A"), and a
#           string never equals a number ("7" != 7)
#   vnum(v) a JSON number as DOUBLE, NULL for anything else (a numeric string
#           is not a number)
#   vdec(v) the same number as an exact DECIMAL (the generators write at most
#           15 significant digits, so DuckDB's DOUBLE text of it is exact)
#   vlen(v) a string's length in code points (Spark's length(), DuckDB's too)
ORACLE_MACROS="
create macro vnn(v) as case when json_type(v) = 'NULL' then NULL else v end;
create macro vkey(v) as case
	when json_type(v) = 'VARCHAR' then 's' || (v ->> '\$')
	when json_type(v) in ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
		then 'n' || cast(cast(v as double) + 0.0 as varchar)
	else 'j' || cast(v as varchar) end;
create macro vnum(v) as case when json_type(v) in ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
	then cast(v as double) end;
create macro vdec(v) as case when json_type(v) in ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
	then cast(cast(v as varchar) as decimal(38, 10)) end;
create macro vlen(v) as length(v ->> '\$');
"

# fld COL: SQL for the field COL of the record j: the top-level key if the
# record has it, else the dotted path; NULL when missing or JSON null.
fld() {
	local c=$1 top path seg segs
	top="'\$.\"$c\"'"
	if [[ $c != *.* ]]; then
		echo "vnn(json_extract(j, $top))"
		return
	fi
	path="'\$"
	IFS=. read -ra segs <<<"$c"
	for seg in "${segs[@]}"; do path+=".\"$seg\""; done
	path+="'"
	echo "vnn(case when json_exists(j, $top) then json_extract(j, $top) else json_extract(j, $path) end)"
}

# metric_sql KEY: a scalar SQL expression for the metric KEY, named as Glue
# names it (Dataset.*.RowCount, Column.<col>.<metric>,
# Multicolumn.<a>,<b>.<metric>).
metric_sql() {
	local key=$1 rest m c v a b
	case $key in
	Dataset.\*.RowCount)
		echo "(select count(*) from r)"
		return ;;
	Multicolumn.*)
		rest=${key#Multicolumn.}
		m=${rest##*.}
		c=${rest%.*}
		a=$(fld "${c%%,*}")
		b=$(fld "${c#*,}")
		case $m in
		# Deequ Uniqueness over several columns: the rows with at least one of
		# them non-null, grouped by the tuple (NULL a value of its own); the
		# share of those rows whose tuple occurs once.
		Uniqueness)
			echo "(select count(*) filter (where n = 1) / sum(n) from
				(select count(*) as n from r where $a is not null or $b is not null
				 group by vkey($a), vkey($b)))" ;;
		# Deequ Correlation (Glue ColumnCorrelation): Pearson's coefficient over
		# the rows where both are numbers.
		ColumnCorrelation)
			echo "(select corr(vnum($a), vnum($b)) from r)" ;;
		*) fail "metric_sql: no definition for $key" ;;
		esac
		return ;;
	Column.*)
		rest=${key#Column.}
		m=${rest##*.}
		c=${rest%.*}
		v=$(fld "$c") ;;
	*) fail "metric_sql: no definition for $key" ;;
	esac
	case $m in
	# Deequ Completeness: non-null values / all rows.
	Completeness)
		echo "(select count($v) / count(*) from r)" ;;
	# Deequ Uniqueness (also IsUnique, IsPrimaryKey): values that occur exactly
	# once / rows with a non-null value (FrequencyBasedAnalyzer drops the rows
	# where the column is NULL, for the frequencies and for the row count).
	Uniqueness)
		echo "(select count(*) filter (where n = 1) / sum(n) from
			(select count(*) as n from r where $v is not null group by vkey($v)))" ;;
	# Deequ UniqueValueRatio: values that occur exactly once / distinct values
	# (both over the non-null values).
	UniqueValueRatio)
		echo "(select count(*) filter (where n = 1) / count(*) from
			(select count(*) as n from r where $v is not null group by vkey($v)))" ;;
	# Deequ's Histogram.bins, which Glue's DistinctValuesCount reports: the
	# distinct values, NULL counting as one more when there is any (the
	# histogram puts NULLs in a bin of their own).
	DistinctValuesCount)
		echo "(select count(distinct vkey($v)) + (count(*) > count($v))::int from r)" ;;
	# Deequ Entropy: -sum p ln p (natural log) over the distinct non-null values,
	# p = occurrences / rows with a non-null value.
	Entropy)
		echo "(select -sum(n / t * ln(n / t)) from
			(select count(*) as n, sum(count(*)) over () as t from r
			 where $v is not null group by vkey($v)))" ;;
	# Deequ Mean, Sum: over the numbers; other rows do not count.
	Mean)
		echo "(select cast(sum(vdec($v)) as double) / count(vnum($v)) from r)" ;;
	Sum)
		echo "(select sum(vdec($v)) from r)" ;;
	# Deequ StandardDeviation and Variance: the population ones (m2 / n).
	StandardDeviation)
		echo "(select stddev_pop(vnum($v)) from r)" ;;
	Variance)
		echo "(select var_pop(vnum($v)) from r)" ;;
	# Deequ MinLength/MaxLength with NullBehavior.EmptyString, as the DQDL
	# ColumnLength rule runs them: NULL (and a missing field) is length 0.
	MinimumLength)
		echo "(select min(coalesce(vlen($v), 0)) from r)" ;;
	MaximumLength)
		echo "(select max(coalesce(vlen($v), 0)) from r)" ;;
	*) fail "metric_sql: no definition for $key" ;;
	esac
}

# oracle FILE KEY...: one NDJSON line {KEY: DuckDB's value, ...}
oracle() {
	local file=$1 key sel=""
	shift
	for key in "$@"; do
		[ -z "$sel" ] || sel+=", "
		sel+="$(metric_sql "$key") as \"$key\""
	done
	{
		echo "create temp table r as select json as j from read_ndjson_objects('$file');"
		echo "$ORACLE_MACROS"
		echo "select $sel;"
	} >oracle.sql
	"$ROOT/scripts/duckdb" -f oracle.sql || fail "the oracle's SQL failed: $(cat oracle.sql)"
}

# compare EXPECTED ACTUAL: every metric of the EXPECTED line (the oracle's)
# appears in the EvaluatedMetrics of ACTUAL (ts-validate's output) with the
# same value: exactly for counts and lengths, within 1e-9 relative otherwise.
compare() {
	node - "$1" "$2" <<'EOF'
'use strict';
const fs = require('fs');
const want = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const got = {};
for (const line of fs.readFileSync(process.argv[3], 'utf8').split('\n')) {
	if (!line.trim()) continue;
	const o = JSON.parse(line);
	for (const [k, v] of Object.entries(o.EvaluatedMetrics || {})) {
		if (k in got && got[k] !== v) {
			console.log(`${k}: reported twice, ${got[k]} and ${v}`);
			process.exitCode = 1;
		}
		got[k] = v;
	}
}
const exact = /\.(RowCount|DistinctValuesCount|MinimumLength|MaximumLength)$/;
for (const [k, w] of Object.entries(want)) {
	const e = Number(w), g = got[k];
	let ok;
	if (w === null) ok = false;
	else if (typeof g !== 'number') ok = false;
	else if (exact.test(k)) ok = g === e;
	else ok = Math.abs(g - e) <= 1e-9 * Math.abs(e) || (e === 0 && Math.abs(g) <= 1e-12);
	if (!ok) {
		console.log(`${k}: ts-validate ${g === undefined ? 'does not report it' : g}, oracle ${w}`);
		process.exitCode = 1;
	}
}
EOF
}

# check_metrics DATA RULES KEY...: ts-validate -r RULES DATA exits 0 (the
# rules are built to pass), every rule's Result is PASS, and every KEY it
# reports equals the oracle's.
check_metrics() {
	local data=$1 rules=$2
	shift 2
	oracle "$data" "$@" >expected.json
	run ts-validate -r "$rules" "$data"
	printf '%s\n' "$output" >actual.ndjson
	[ "$status" -eq 0 ] || fail "ts-validate exit $status (expected 0): $(head -c 3000 actual.ndjson)"
	jq -e -s '[.[] | select(has("Result"))] | length > 0 and all(.Result == "PASS")' \
		actual.ndjson >/dev/null || fail "not every rule passed: $(head -c 3000 actual.ndjson)"
	jq -e -s 'last | .type == "summary" and .failed == 0 and .errored == 0' \
		actual.ndjson >/dev/null || fail "no clean summary line last: $(tail -n 1 actual.ndjson)"
	run compare expected.json actual.ndjson
	[ "$status" -eq 0 ] || fail "metrics differ from DuckDB's:
$output
oracle: $(cat expected.json)"
}

# --- the oracle itself ----------------------------------------------------------

@test "oracle: its SQL gives the hand-computed metrics of a small example" {
	# k: a, a, b, null, missing, "\u0061" (= a): 4 of 6 non-null, a x3, b x1.
	# v: 1, 2.0, null, missing, "3" (a string, not a number), 4.
	cat >small.ndjson <<'EOF'
{"k":"a","v":1,"w":{"u":"xy"}}
{"k":"a","v":2.0,"w.u":"top"}
{"k":"b","v":null,"w":{"u":null}}
{"k":null}
{"v":"3"}
{"k":"\u0061","v":4,"w":{"u":"\u65e5\ud83d\ude00"}}
EOF
	oracle small.ndjson Dataset.*.RowCount Column.k.Completeness Column.k.Uniqueness \
		Column.k.UniqueValueRatio Column.k.DistinctValuesCount Column.k.Entropy \
		Column.k.MinimumLength Column.k.MaximumLength Column.v.Completeness Column.v.Mean \
		Column.v.Sum Column.v.Variance Column.v.StandardDeviation Column.v.DistinctValuesCount \
		Column.w.u.MaximumLength Column.w.u.Completeness >got.json
	node - got.json <<'EOF'
'use strict';
const got = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
const want = {
	'Dataset.*.RowCount': 6,
	'Column.k.Completeness': 4 / 6,
	'Column.k.Uniqueness': 1 / 4,          // b occurs once, of 4 non-null rows
	'Column.k.UniqueValueRatio': 1 / 2,    // b, of the distinct a and b
	'Column.k.DistinctValuesCount': 3,     // a, b and NULL
	'Column.k.Entropy': -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25)),
	'Column.k.MinimumLength': 0,           // NULL is length 0
	'Column.k.MaximumLength': 1,
	'Column.v.Completeness': 4 / 6,        // "3" is a value
	'Column.v.Mean': 7 / 3,                // 1, 2.0, 4
	'Column.v.Sum': 7,
	'Column.v.Variance': 14 / 9,
	'Column.v.StandardDeviation': Math.sqrt(14 / 9),
	'Column.v.DistinctValuesCount': 5,     // 1, 2, "3", 4 and NULL
	'Column.w.u.MaximumLength': 3,         // "top", the top-level key "w.u"
	'Column.w.u.Completeness': 3 / 6,      // "xy", "top", the two code points
};
let bad = 0;
for (const [k, w] of Object.entries(want)) {
	const g = Number(got[k]);
	if (!(Math.abs(g - w) <= 1e-12 * Math.max(1, Math.abs(w)))) {
		console.log(`${k}: oracle ${got[k]}, by hand ${w}`);
		bad = 1;
	}
}
process.exit(bad);
EOF
}

@test "oracle: equal by meaning is one value, a numeric string is not a number" {
	printf '%s\n' '{"x":12}' '{"x":12.0}' '{"x":1.2e1}' '{"x":"12"}' '{"x":-0}' '{"x":0.0}' \
		'{"x":"A"}' '{"x":"\u0041"}' >eq.ndjson
	run -0 oracle eq.ndjson Column.x.DistinctValuesCount Column.x.Sum Column.x.Uniqueness
	# 12 (x3), "12", 0 (x2), "A" (x2): 4 values, one of them ("12") once
	assert_output '{"Column.x.DistinctValuesCount":4,"Column.x.Sum":36.0000000000,"Column.x.Uniqueness":0.125}'
}

# --- ts-validate against the oracle ------------------------------------------------

# The metrics whose definitions do not depend on how NULL is counted beyond
# "NULL is not a value": over every kind of column the generator makes.
@test "numbers, strings, nested paths: every metric equals DuckDB's" {
	need_ts_validate
	gen_numeric 1 4000 >num.ndjson
	cat >rules.dqdl <<'EOF'
Rules = [
    RowCount > 0,
    Completeness "id" >= 0,
    Completeness "i" >= 0,
    Completeness "s" >= 0,
    Completeness "o.p" >= 0,
    Uniqueness "id" >= 0,
    Uniqueness "i" >= 0,
    Uniqueness "f" >= 0,
    Uniqueness "s" >= 0,
    UniqueValueRatio "id" >= 0,
    UniqueValueRatio "f" >= 0,
    UniqueValueRatio "c" >= 0,
    DistinctValuesCount "id" > 0,
    Entropy "c" >= 0,
    Entropy "i" >= 0,
    Entropy "s" >= 0,
    Mean "i" > -1000,
    Mean "f" > -100000,
    Mean "big" != 0.123,
    Mean "o.p" >= 0,
    Sum "i" > -100000000,
    Sum "f" > -100000000000,
    Sum "big" != 0.123,
    StandardDeviation "i" >= 0,
    StandardDeviation "f" >= 0,
    StandardDeviation "o.p" >= 0,
    Variance "f" >= 0,
    Variance "x" >= 0,
    ColumnCorrelation "x" "y" > 0.5
]
EOF
	check_metrics num.ndjson rules.dqdl Dataset.*.RowCount \
		Column.id.Completeness Column.i.Completeness Column.s.Completeness Column.o.p.Completeness \
		Column.id.Uniqueness Column.i.Uniqueness Column.f.Uniqueness Column.s.Uniqueness \
		Column.id.UniqueValueRatio Column.f.UniqueValueRatio Column.c.UniqueValueRatio \
		Column.id.DistinctValuesCount \
		Column.c.Entropy Column.i.Entropy Column.s.Entropy \
		Column.i.Mean Column.f.Mean Column.big.Mean Column.o.p.Mean \
		Column.i.Sum Column.f.Sum Column.big.Sum \
		Column.i.StandardDeviation Column.f.StandardDeviation Column.o.p.StandardDeviation \
		Column.f.Variance Column.x.Variance \
		Multicolumn.x,y.ColumnCorrelation
}

@test "CloudTrail events with holes and duplicate eventIDs: every metric equals DuckDB's" {
	need_ts_validate
	"$ROOT/scripts/gen-cloudtrail" --seed 11 --records 3000 --holes 6 --dups 2 -o ct.ndjson
	cat >rules.dqdl <<'EOF'
Rules = [
    RowCount > 0,
    Completeness "eventID" >= 0,
    Completeness "eventTime" >= 0,
    Completeness "eventName" >= 0,
    Completeness "awsRegion" >= 0,
    Completeness "userIdentity.userName" >= 0,
    Uniqueness "eventID" >= 0,
    UniqueValueRatio "eventID" >= 0,
    Uniqueness "requestID" >= 0,
    DistinctValuesCount "eventSource" > 0,
    DistinctValuesCount "userIdentity.type" > 0,
    Entropy "eventName" >= 0,
    Entropy "awsRegion" >= 0,
    Entropy "recipientAccountId" >= 0,
    ColumnLength "eventSource" between 0 and 100
]
EOF
	check_metrics ct.ndjson rules.dqdl Dataset.*.RowCount \
		Column.eventID.Completeness Column.eventTime.Completeness Column.eventName.Completeness \
		Column.awsRegion.Completeness Column.userIdentity.userName.Completeness \
		Column.eventID.Uniqueness Column.eventID.UniqueValueRatio Column.requestID.Uniqueness \
		Column.eventSource.DistinctValuesCount Column.userIdentity.type.DistinctValuesCount \
		Column.eventName.Entropy Column.awsRegion.Entropy Column.recipientAccountId.Entropy \
		Column.eventSource.MinimumLength Column.eventSource.MaximumLength
}

@test "the benchmark's ruleset on clean CloudTrail events: IsComplete, IsUnique, ColumnLength pass with DuckDB's metrics" {
	need_ts_validate
	"$ROOT/scripts/gen-cloudtrail" --seed 12 --records 2000 -o ct.ndjson
	cat >rules.dqdl <<'EOF'
Rules = [
    RowCount >= 1000,
    IsComplete "eventID",
    IsComplete "eventTime",
    IsComplete "eventName",
    IsComplete "awsRegion",
    IsUnique "eventID",
    ColumnLength "eventID" between 35 and 37
]
EOF
	check_metrics ct.ndjson rules.dqdl Dataset.*.RowCount \
		Column.eventID.Completeness Column.eventTime.Completeness Column.eventName.Completeness \
		Column.awsRegion.Completeness Column.eventID.Uniqueness \
		Column.eventID.MinimumLength Column.eventID.MaximumLength
}

# The definitions where NULL counts as something (Deequ's own choices):
# kept apart so that a disagreement names the definition.

@test "DistinctValuesCount counts NULL (JSON null or missing) as one more value" {
	need_ts_validate
	gen_numeric 2 3000 >num.ndjson
	"$ROOT/scripts/gen-cloudtrail" --seed 13 --records 2000 --holes 10 --dups 5 -o ct.ndjson
	printf 'Rules = [\n    DistinctValuesCount "i" > 0,\n    DistinctValuesCount "c" > 0,\n    DistinctValuesCount "o.p" > 0\n]\n' >num.dqdl
	printf 'Rules = [\n    DistinctValuesCount "eventID" > 0,\n    DistinctValuesCount "awsRegion" > 0\n]\n' >ct.dqdl
	check_metrics num.ndjson num.dqdl Column.i.DistinctValuesCount Column.c.DistinctValuesCount \
		Column.o.p.DistinctValuesCount
	check_metrics ct.ndjson ct.dqdl Column.eventID.DistinctValuesCount Column.awsRegion.DistinctValuesCount
}

@test "ColumnLength counts code points, and NULL as length 0" {
	need_ts_validate
	gen_numeric 3 3000 >num.ndjson
	"$ROOT/scripts/gen-cloudtrail" --seed 14 --records 2000 --holes 10 -o ct.ndjson
	printf 'Rules = [\n    ColumnLength "s" between -1 and 100\n]\n' >num.dqdl
	printf 'Rules = [\n    ColumnLength "eventName" between -1 and 100\n]\n' >ct.dqdl
	check_metrics num.ndjson num.dqdl Column.s.MinimumLength Column.s.MaximumLength
	check_metrics ct.ndjson ct.dqdl Column.eventName.MinimumLength Column.eventName.MaximumLength
}

@test "a numeric string is a value but not a number: 7 and \"7\" are two values" {
	need_ts_validate
	gen_numeric 4 3000 >num.ndjson
	cat >rules.dqdl <<'EOF'
Rules = [
    Completeness "n" >= 0,
    Uniqueness "n" >= 0,
    UniqueValueRatio "n" >= 0,
    Entropy "n" >= 0
]
EOF
	check_metrics num.ndjson rules.dqdl Column.n.Completeness Column.n.Uniqueness \
		Column.n.UniqueValueRatio Column.n.Entropy
}

@test "Uniqueness over two columns: rows with either non-null, NULL a value of its own" {
	need_ts_validate
	gen_numeric 5 3000 >num.ndjson
	printf 'Rules = [\n    Uniqueness "a" "b" >= 0\n]\n' >rules.dqdl
	check_metrics num.ndjson rules.dqdl Multicolumn.a,b.Uniqueness
}

@test "IsUnique and IsPrimaryKey over two columns: the tuple's Uniqueness" {
	need_ts_validate
	# Deequ's DQDL translation names the metrics of IsPrimaryKey "a" "b"
	# Multicolumn.a,b.Uniqueness and Column.a.Completeness, Column.b.Completeness.
	"$ROOT/scripts/gen-cloudtrail" --seed 16 --records 2000 -o ct.ndjson
	cat >rules.dqdl <<'EOF'
Rules = [
    IsUnique "eventID" "awsRegion",
    IsPrimaryKey "eventID" "requestID"
]
EOF
	check_metrics ct.ndjson rules.dqdl Multicolumn.eventID,awsRegion.Uniqueness \
		Multicolumn.eventID,requestID.Uniqueness Column.eventID.Completeness \
		Column.requestID.Completeness
}

# bats test_tags=slow
@test "200,000 generated records and 100,000 CloudTrail events: the metrics equal DuckDB's" {
	need_ts_validate
	gen_numeric 6 200000 >num.ndjson
	cat >num.dqdl <<'EOF'
Rules = [
    RowCount > 0,
    Completeness "f" >= 0,
    Uniqueness "id" >= 0,
    UniqueValueRatio "f" >= 0,
    Entropy "s" >= 0,
    Mean "f" > -100000,
    Sum "big" != 0.123,
    StandardDeviation "x" >= 0,
    Variance "i" >= 0,
    ColumnCorrelation "x" "y" > 0.5
]
EOF
	check_metrics num.ndjson num.dqdl Dataset.*.RowCount Column.f.Completeness Column.id.Uniqueness \
		Column.f.UniqueValueRatio Column.s.Entropy Column.f.Mean Column.big.Sum \
		Column.x.StandardDeviation Column.i.Variance Multicolumn.x,y.ColumnCorrelation
	"$ROOT/scripts/gen-cloudtrail" --seed 15 --records 100000 --holes 4 --dups 1 -o ct.ndjson
	cat >ct.dqdl <<'EOF'
Rules = [
    RowCount > 0,
    Completeness "eventID" >= 0,
    Uniqueness "eventID" >= 0,
    UniqueValueRatio "eventID" >= 0,
    Entropy "eventName" >= 0,
    DistinctValuesCount "eventSource" > 0
]
EOF
	check_metrics ct.ndjson ct.dqdl Dataset.*.RowCount Column.eventID.Completeness \
		Column.eventID.Uniqueness Column.eventID.UniqueValueRatio Column.eventName.Entropy \
		Column.eventSource.DistinctValuesCount
}
