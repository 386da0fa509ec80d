#!/usr/bin/env bats
# ts-partition --format parquet: every file read back by DuckDB (the
# @duckdb/node-api package pinned in tests/package.json, through
# scripts/duckdb), the independent reader: row counts, column names and
# types, and every value equal to the input record as the schema maps it.

bats_require_minimum_version 1.5.0
load helpers

ROOT="$BATS_TEST_DIRNAME/.."
export TZ=UTC

setup() {
	[ -x "$TS_BIN/ts-partition" ] || fail "$TS_BIN/ts-partition is missing: run make first (or set TS_BIN)"
	command -v node > /dev/null || skip "node is not installed (DuckDB runs in it)"
	[ -d "$ROOT/tests/node_modules/@duckdb/node-api" ] ||
		skip "DuckDB is not installed: run scripts/setup (npm ci --prefix tests)"
	cd "$BATS_TEST_TMPDIR" || fail "cannot cd to $BATS_TEST_TMPDIR"
}

# duck SQL: DuckDB's rows as NDJSON (exact values).
duck() {
	node "$ROOT/scripts/duckdb" "$@"
}

# tsp OUT ARGS...: ts-partition into OUT, manifest in OUT.man, stderr in OUT.err.
tsp() {
	local out=$1
	shift
	ts-partition -o "$out" --no-default-time --no-fsync --format parquet "$@" > "$out.man" 2> "$out.err"
}

# files OUT: the published Parquet files, as DuckDB's list literal.
files() {
	jq -r --arg d "$1" '"\($d)/\(.path)"' "$1.man" | jq -R . | jq -s -c .
}

FLAT='[{"Name":"s","Type":"string"},{"Name":"big","Type":"bigint"},{"Name":"i","Type":"int"},
 {"Name":"sm","Type":"smallint"},{"Name":"ti","Type":"tinyint"},{"Name":"d","Type":"double"},
 {"Name":"f","Type":"float"},{"Name":"b","Type":"boolean"},{"Name":"ts","Type":"timestamp"},
 {"Name":"dt","Type":"date"},{"Name":"d52","Type":"decimal(5,2)"},{"Name":"d184","Type":"decimal(18,4)"},
 {"Name":"d3810","Type":"decimal(38,10)"}]'

@test "every flat type: DuckDB reads the types the Glue schema names and every value as the schema maps it" {
	printf '%s\n' "$FLAT" > schema.json
	cat > in.ndjson <<-'EOF'
	{"s":"plain","big":9007199254740993,"i":-2147483648,"sm":32767,"ti":-128,"d":0.1,"f":1.5,"b":true,"ts":"2024-05-01T10:00:00.123456Z","dt":"2024-05-01","d52":"123.45","d184":12345678901234.5678,"d3810":"1234567890123456789012345678.0123456789"}
	{"s":"é日本 \"q\" \\ \n","big":-1,"i":0,"sm":-32768,"ti":127,"d":-1e300,"f":-0.25,"b":false,"ts":1714557600,"dt":"1970-01-01","d52":-0.01,"d184":"-0.0001","d3810":-1}
	{"s":null,"big":null,"ts":1714557600123,"d52":999.99}
	{}
	{"s":12.50,"big":"42","d":"3.25","b":"true","ts":"2024-05-01T12:00:00+02:00","dt":"2024-02-29","d52":"5"}
	EOF
	run -0 tsp out --schema schema.json --prefix 'p/' in.ndjson
	f=$(files out)
	duck "DESCRIBE SELECT * FROM read_parquet($f)" | jq -r '"\(.column_name) \(.column_type)"' > types
	cat > want-types <<-'EOF'
	s VARCHAR
	big BIGINT
	i INTEGER
	sm SMALLINT
	ti TINYINT
	d DOUBLE
	f FLOAT
	b BOOLEAN
	ts TIMESTAMP WITH TIME ZONE
	dt DATE
	d52 DECIMAL(5,2)
	d184 DECIMAL(18,4)
	d3810 DECIMAL(38,10)
	EOF
	diff want-types types
	duck "SELECT * FROM read_parquet($f)" > got
	cat > want <<-'EOF'
	{"s":"plain","big":9007199254740993,"i":-2147483648,"sm":32767,"ti":-128,"d":0.1,"f":1.5,"b":true,"ts":"2024-05-01 10:00:00.123456+00","dt":"2024-05-01","d52":123.45,"d184":12345678901234.5678,"d3810":1234567890123456789012345678.0123456789}
	{"s":"é日本 \"q\" \\ \n","big":-1,"i":0,"sm":-32768,"ti":127,"d":-1e+300,"f":-0.25,"b":false,"ts":"2024-05-01 10:00:00+00","dt":"1970-01-01","d52":-0.01,"d184":-0.0001,"d3810":-1.0000000000}
	{"s":null,"big":null,"i":null,"sm":null,"ti":null,"d":null,"f":null,"b":null,"ts":"2024-05-01 10:00:00.123+00","dt":null,"d52":999.99,"d184":null,"d3810":null}
	{"s":null,"big":null,"i":null,"sm":null,"ti":null,"d":null,"f":null,"b":null,"ts":null,"dt":null,"d52":null,"d184":null,"d3810":null}
	{"s":"12.50","big":42,"i":null,"sm":null,"ti":null,"d":3.25,"f":null,"b":true,"ts":"2024-05-01 10:00:00+00","dt":"2024-02-29","d52":5.00,"d184":null,"d3810":null}
	EOF
	# compare by meaning (DuckDB writes decimals and doubles its own way)
	diff <(jq -cS . want) <(jq -cS . got)
	[ "$(jq -s 'map(.records) | add' out.man)" -eq 5 ]
}

@test "nested columns (arrays, structs, maps, lists of structs) are real nested Parquet columns, nulls and empty lists kept" {
	cat > schema.json <<-'EOF'
	{"Columns":[{"Name":"id","Type":"bigint"},{"Name":"tags","Type":"array<string>"},
	 {"Name":"items","Type":"array<struct<a:string,b:array<double>>>"},
	 {"Name":"attrs","Type":"map<string,bigint>"},{"Name":"x","Type":"struct<y:struct<z:string>,n:int>"}]}
	EOF
	cat > in.ndjson <<-'EOF'
	{"id":1,"tags":["a","b"],"items":[{"a":"p","b":[1.5,2]},{"a":null,"b":[]},{"b":null}],"attrs":{"k":1,"l":2},"x":{"y":{"z":"deep"},"n":7}}
	{"id":2,"tags":[],"items":[],"attrs":{},"x":{"y":null}}
	{"id":3,"tags":null,"items":null,"attrs":null,"x":null}
	{"id":4}
	{"id":5,"tags":["é",null,""],"items":[{"a":"q","b":[null,3]}],"x":{"n":-1}}
	EOF
	run -0 tsp out --schema schema.json --prefix 'p/' in.ndjson
	f=$(files out)
	duck "DESCRIBE SELECT * FROM read_parquet($f)" | jq -r '"\(.column_name) \(.column_type)"' > types
	cat > want-types <<-'EOF'
	id BIGINT
	tags VARCHAR[]
	items STRUCT(a VARCHAR, b DOUBLE[])[]
	attrs MAP(VARCHAR, BIGINT)
	x STRUCT(y STRUCT(z VARCHAR), n INTEGER)
	EOF
	diff want-types types
	duck "SELECT * FROM read_parquet($f) ORDER BY id" > got
	cat > want <<-'EOF'
	{"id":1,"tags":["a","b"],"items":[{"a":"p","b":[1.5,2]},{"a":null,"b":[]},{"a":null,"b":null}],"attrs":[{"key":"k","value":1},{"key":"l","value":2}],"x":{"y":{"z":"deep"},"n":7}}
	{"id":2,"tags":[],"items":[],"attrs":[],"x":{"y":null,"n":null}}
	{"id":3,"tags":null,"items":null,"attrs":null,"x":null}
	{"id":4,"tags":null,"items":null,"attrs":null,"x":null}
	{"id":5,"tags":["é",null,""],"items":[{"a":"q","b":[null,3]}],"attrs":null,"x":{"y":null,"n":-1}}
	EOF
	diff <(jq -cS . want) <(jq -cS . got)
}

@test "keys match columns case-insensitively as the JSON SerDe does; --case-sensitive does not; members without a column are dropped and counted" {
	printf '%s\n' '[{"Name":"eventname","Type":"string"},{"Name":"n","Type":"bigint"}]' > schema.json
	printf '%s\n' '{"eventName":"A","N":1,"extra":true,"more":{"x":1}}' '{"EVENTNAME":"B","n":2}' > in.ndjson
	run -0 tsp out --schema schema.json --prefix 'p/' --stats in.ndjson
	duck "SELECT * FROM read_parquet($(files out)) ORDER BY eventname" > got
	printf '%s\n' '{"eventname":"A","n":1}' '{"eventname":"B","n":2}' | diff - got
	[ "$(stat_field out.err fields_dropped)" -eq 2 ]
	run -0 tsp cs --schema schema.json --prefix 'p/' --case-sensitive --stats in.ndjson
	duck "SELECT * FROM read_parquet($(files cs)) ORDER BY n NULLS FIRST" > got
	printf '%s\n' '{"eventname":null,"n":null}' '{"eventname":null,"n":2}' | diff - got
	[ "$(stat_field cs.err fields_dropped)" -eq 5 ]
}

@test "a value its column cannot take makes the record a schema_mismatch error record naming the column; the file holds the rest; --stats adds up" {
	printf '%s\n' '[{"Name":"n","Type":"bigint"},{"Name":"x","Type":"struct<l:array<int>>"},{"Name":"d","Type":"decimal(5,2)"}]' > schema.json
	printf '%s\n' '{"n":1}' '{"n":"abc"}' '{"n":2,"x":{"l":[1,"two"]}}' '{"n":3,"d":1.234}' '{"n":4,"d":12345}' '{"n":1.5}' '{"n":5}' > in.ndjson
	run -1 tsp out --schema schema.json --prefix 'p/' --stats in.ndjson
	grep -v records_in out.err > errs
	assert_error_records errs 5
	assert_error errs 0 '.error == "schema_mismatch" and .line == 2 and (.message | test("column n"))'
	assert_error errs 1 '.line == 3 and (.message | test("column x.l"))'
	assert_error errs 2 '.line == 4 and (.message | test("column d"))'
	assert_error errs 3 '.line == 5 and (.message | test("column d"))'
	assert_error errs 4 '.line == 6 and (.message | test("column n"))'
	duck "SELECT n FROM read_parquet($(files out)) ORDER BY n" | jq -c .n | tr '\n' ' ' > got
	[ "$(cat got)" = "1 5 " ]
	[ "$(stat_field out.err records_in)" -eq 7 ]
	[ "$(stat_field out.err records_out)" -eq 2 ]
	[ "$(stat_field out.err rejected)" -eq 5 ]
}

@test "every compression (snappy by default, gzip, zstd, none): DuckDB reads the same rows and names the codec" {
	printf '%s\n' '[{"Name":"k","Type":"string"},{"Name":"v","Type":"bigint"}]' > schema.json
	for i in $(seq 1 3000); do printf '{"k":"key%d","v":%d}\n' $((i % 7)) "$i"; done > in.ndjson
	for c in default snappy gzip zstd none; do
		if [ $c = default ]; then run -0 tsp $c --schema schema.json --prefix 'p/' in.ndjson
		else run -0 tsp $c --schema schema.json --prefix 'p/' --compress $c in.ndjson; fi
		f=$(files $c)
		[ "$(duck "SELECT count(*) AS n, sum(v) AS s, count(DISTINCT k) AS d FROM read_parquet($f)" | jq -c .)" = '{"n":3000,"s":4501500,"d":7}' ]
		want=$(case $c in default|snappy) echo SNAPPY ;; gzip) echo GZIP ;; zstd) echo ZSTD ;; none) echo UNCOMPRESSED ;; esac)
		duck "SELECT DISTINCT compression FROM parquet_metadata($f)" | jq -r .compression > codec
		[ "$(cat codec)" = "$want" ] || fail "$c: codec $(cat codec), not $want"
		jq -r .path $c.man | grep -q '\.parquet$'
	done
}

@test "a low-cardinality column is dictionary-encoded and every column chunk has statistics engines can skip by" {
	printf '%s\n' '[{"Name":"k","Type":"string"},{"Name":"v","Type":"bigint"},{"Name":"o","Type":"double"}]' > schema.json
	for i in $(seq 1 2000); do printf '{"k":"key%d","v":%d,"o":%s}\n' $((i % 5)) "$i" "$([ $((i % 10)) = 0 ] && echo null || echo "$i.5")"; done > in.ndjson
	run -0 tsp out --schema schema.json --prefix 'p/' in.ndjson
	f=$(files out)
	duck "SELECT path_in_schema AS c, encodings AS e, stats_min_value AS lo, stats_max_value AS hi, stats_null_count AS nulls FROM parquet_metadata($f) ORDER BY c" > meta
	jq -e -s '.[0].c == "k" and (.[0].e | test("DICTIONARY")) and .[0].lo == "key0" and .[0].hi == "key4" and .[0].nulls == 0' meta
	jq -e -s '.[1].c == "o" and .[1].lo == "1.5" and .[1].hi == "1999.5" and .[1].nulls == 200' meta
	jq -e -s '.[2].c == "v" and .[2].lo == "1" and .[2].hi == "2000" and .[2].nulls == 0' meta
	# DuckDB skips what the statistics exclude, and answers right
	[ "$(duck "SELECT count(*) AS n FROM read_parquet($f) WHERE v > 1990" | jq .n)" -eq 10 ]
}

@test "--schema infer: the schema it chose on standard error in the --schema format; given back as --schema it writes the same data" {
	cat > in.ndjson <<-'EOF'
	{"eventName":"A","n":1,"x":{"a":1,"b":[1,2]},"tags":["t"],"maybe":null}
	{"eventName":"B","n":2.5,"x":{"a":2,"c":"new"},"tags":[],"maybe":null}
	{"eventName":"C","n":3,"late":true}
	EOF
	run -0 tsp out --schema infer --infer-records 2 --prefix 'p/' in.ndjson
	# the line that is a JSON array is the schema
	grep '^\[' out.err > chosen.json
	jq -e 'map(.Name) == ["eventName","n","x","tags","maybe"]' chosen.json
	jq -e 'map({(.Name): .Type}) | add | .n == "double" and .x == "struct<a:bigint,b:array<bigint>,c:string>" and .tags == "array<string>" and .maybe == "string" and .eventName == "string"' chosen.json
	grep -q "ts-partition: --schema infer" out.err
	run -0 tsp again --schema chosen.json --prefix 'p/' in.ndjson
	diff <(duck "SELECT * FROM read_parquet($(files out)) ORDER BY eventName") <(duck "SELECT * FROM read_parquet($(files again)) ORDER BY eventName")
	[ "$(duck "SELECT count(*) AS n FROM read_parquet($(files out))" | jq .n)" -eq 3 ]
}

@test "partitions, rolling by --max-records and files --max-open must close early: each a complete file, counts in the manifest, nothing lost" {
	printf '%s\n' '[{"Name":"k","Type":"string"},{"Name":"i","Type":"bigint"}]' > schema.json
	# runs of 40 records per partition: --max-open 1 closes a file at each change
	for i in $(seq 1 1000); do printf '{"k":"p%d","i":%d}\n' $(((i / 40) % 3)) "$i"; done > in.ndjson
	run -0 tsp out --schema schema.json --key k=.k --prefix 'k=!{partitionKeyFromQuery:k}/' --max-records 100 --max-open 1 --stats in.ndjson
	# every manifest line's count and partition is what DuckDB finds in that file
	jq -c '{f: "out/\(.path)", n: .records, k: .partition.k}' out.man | sort > want
	duck "SELECT filename AS f, count(*) AS n, min(k) AS k FROM read_parquet($(files out), filename = true) GROUP BY f HAVING min(k) = max(k)" | jq -c '{f, n, k}' | sort > got
	diff want got
	[ "$(wc -l < want)" -gt 25 ]
	[ "$(duck "SELECT count(*) AS n, sum(i) AS s FROM read_parquet($(files out))" | jq -c .)" = '{"n":1000,"s":500500}' ]
	[ "$(stat_field out.err closed_early)" -gt 0 ]
	[ "$(stat_field out.err records_out)" -eq 1000 ]
	[ -z "$(find out -name '.*ts-tmp')" ]
}

@test "error records under --error-prefix stay NDJSON next to the Parquet files; a partition whose every record was refused leaves no file" {
	printf '%s\n' '[{"Name":"n","Type":"bigint"}]' > schema.json
	printf '%s\n' '{"k":"good","n":1}' '{"k":"bad","n":"x"}' > in.ndjson
	run -1 tsp out --schema schema.json --key k=.k --prefix 'k=!{partitionKeyFromQuery:k}/' --error-prefix 'errors/' in.ndjson
	[ -z "$(find out -path '*k=bad*' -type f)" ]
	e=$(find out/errors -type f)
	jq -e '.errorCode == "schema_mismatch"' "$e"
	[ "$(duck "SELECT n FROM read_parquet($(files out | jq -c 'map(select(test("parquet$")))'))" | jq .n)" -eq 1 ]
}

@test "usage errors: --schema without parquet, parquet without --schema, a bad type with the column named, snappy for NDJSON" {
	printf '{"a":1}\n' > in.ndjson
	run -2 ts-partition -o o --schema x.json in.ndjson
	[[ $output == *"--schema goes with --format parquet"* ]]
	run -2 ts-partition -o o --format parquet in.ndjson
	[[ $output == *"needs --schema"* ]]
	printf '%s\n' '[{"Name":"a","Type":"array<bigint"}]' > bad.json
	run -2 ts-partition -o o --format parquet --schema bad.json in.ndjson
	[[ $output == *"column a"* ]]
	run -2 ts-partition -o o --compress snappy in.ndjson
	[[ $output == *"for --format parquet"* ]]
	[ ! -e o ] || [ -z "$(find o -type f -name '*.parquet')" ]
}

# bats test_tags=slow
@test "1,000,000 rows: DuckDB counts them all and sums every column the same as the input" {
	printf '%s\n' '[{"Name":"id","Type":"bigint"},{"Name":"k","Type":"string"},{"Name":"v","Type":"double"},{"Name":"l","Type":"array<int>"}]' > schema.json
	awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "{\"id\":%d,\"k\":\"key%d\",\"v\":%d.25,\"l\":[%d,%d]}\n", i, i % 100, i % 1000, i % 3, i % 5 }' > in.ndjson
	run -0 tsp out --schema schema.json --prefix 'p/' in.ndjson
	duck "SELECT count(*) AS n, sum(id) AS s, count(DISTINCT k) AS d, sum(v) AS v, sum(len(l)) AS l, sum(list_sum(l)) AS ls FROM read_parquet($(files out))" > got
	[ "$(jq -c . got)" = '{"n":1000000,"s":499999500000,"d":100,"v":499750000,"l":2000000,"ls":2999999}' ] || fail "$(cat got)"
}

@test "--max-bytes rolls Parquet files by their size as written: several complete files near the limit, every row in one of them" {
	printf '%s\n' '[{"Name":"id","Type":"bigint"},{"Name":"s","Type":"string"}]' > schema.json
	awk 'BEGIN { srand(3); for (i = 0; i < 60000; i++) { s = ""; for (j = 0; j < 8; j++) s = s sprintf("%08x", int(rand() * 4294967295)); printf "{\"id\":%d,\"s\":\"%s\"}\n", i, s } }' > in.ndjson
	run -0 tsp out --schema schema.json --prefix 'p/' --max-bytes 1M --compress none in.ndjson
	n=$(wc -l < out.man)
	[ "$n" -ge 3 ] || fail "$n files"
	# each file near 1 MiB (the estimate runs ahead of the page being filled)
	jq -e -s 'all(.[:-1][]; .bytes > 500000 and .bytes < 1600000)' out.man
	jq -e -s 'map(.records) | add == 60000' out.man
	[ "$(duck "SELECT count(DISTINCT id) AS n FROM read_parquet($(files out))" | jq .n)" -eq 60000 ]
}
