#!/usr/bin/env bats
# ts-partition: prefix templates, record times and zones, rolling, gzip,
# the manifest against the files on disk, partition values that try to leave
# the output directory, rejected records, 100,000 partitions under a small
# descriptor limit, kill -9, a full disk (LD_PRELOAD shim, tests/shim/faultfs.c,
# and a real tmpfs where mounting is allowed), bad output directories.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	# The fault-injection shim: write(2) fails with ENOSPC on marked files.
	cc -shared -fPIC -O2 -o "$BATS_FILE_TMPDIR/faultfs.so" \
		"$BATS_TEST_DIRNAME/shim/faultfs.c" -ldl
}

setup() {
	[ -x "$TS_BIN/ts-partition" ] || fail "$TS_BIN/ts-partition is missing: run make first (or set TS_BIN)"
	cd "$BATS_TEST_TMPDIR" || fail "cannot cd to $BATS_TEST_TMPDIR"
	BG_PIDS=
}

teardown() {
	local p
	for p in $BG_PIDS; do
		kill -9 "$p" 2> /dev/null || true
	done
}

FAULTFS="$BATS_FILE_TMPDIR/faultfs.so"

# One partition per value of .k, no time directories.
KP=(--prefix 'k=!{partitionKeyFromQuery:k}/' --key k=.k --no-default-time --no-fsync)

# File names: NAME-yyyy-MM-dd-HH-mm-ss-UUID (version 4) [.gz].
NAME_RE='^ts-partition-[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}(\.gz)?$'

# tsp ARGS...: ts-partition with the manifest in ./man and stderr in ./err.
tsp() {
	ts-partition "$@" > man 2> err
}

# --- checking the manifest against the disk -----------------------------------

# pdec: undo the Hive-style percent-encoding of a path component (only ASCII
# bytes are ever encoded).  kv: a path's name=value directories as an object.
# iso: a UTC time as the manifest writes it, 2024-05-01T10:00:00.000Z.
JQ_DEFS='
def pdec: if index("%") == null then . else [scan("%[0-9A-F]{2}|[^%]+|%")]
	| map(if test("^%[0-9A-F]{2}$")
	      then .[1:] | explode | map(if . >= 65 then . - 55 else . - 48 end)
		   | [.[0] * 16 + .[1]] | implode
	      else . end)
	| join("") end;
def kv: reduce (split("/") | .[:-1][] | select(index("=") != null) | split("=")) as $c
	({}; . + {($c[0]): ($c[1:] | join("=") | pdec)});
def iso: type == "string" and length == 24 and .[19:20] == "." and .[23:] == "Z"
	and (.[20:23] | test("^[0-9]{3}$")) and (.[0:19] + "Z" | fromdateiso8601 | type == "number");
'

# Reads NUL-separated paths; prints path, size, newline count (of the
# gunzipped content for .gz) and whether the content ends with a newline.
PERL_SCAN='
$/ = "\0";
while (defined(my $p = <STDIN>)) {
	chomp $p;
	my $fh;
	if ($p =~ /\.gz\z/) { open($fh, "-|", "gzip", "-dc", "--", $p) or die "$p: $!\n" }
	else { open($fh, "<", $p) or die "$p: $!\n" }
	binmode $fh;
	my ($n, $last) = (0, "");
	{
		local $/ = \65536;
		while (defined(my $b = <$fh>)) { $n += ($b =~ tr/\n//); $last = substr($b, -1) }
	}
	close $fh or die "$p: cannot read it to the end\n";
	printf "%s\t%d\t%d\t%s\n", $p, -s $p, $n, $last eq "\n" ? "nl" : "no-final-newline";
}
'

# check_manifest MANIFEST DIR: every line of MANIFEST is one JSON object that
# describes a file published under DIR: a relative path that exists, bytes =
# its size, records = its lines (gunzipped for .gz), partition = the decoded
# name=value directories of the path, first/last ISO times; every line of
# every file is one JSON value; every file under DIR that is not a temporary
# file is in MANIFEST exactly once.
check_manifest() {
	local man=$1 dir=$2
	jq -R 'fromjson' "$man" > /dev/null || fail "$man: a line is not one JSON value"
	jq -e -n "$JQ_DEFS"'all(inputs; type == "object"
		and (.path | type == "string" and (startswith("/") | not)
		     and (split("/") | all(. != "" and . != "." and . != "..")))
		and (.records | type == "number" and . > 0)
		and (.bytes | type == "number" and . > 0)
		and (.first | iso) and (.last | iso)
		and .partition == (.path | kv))' "$man" > /dev/null ||
		fail "$man: a line does not describe its file: $(head -c 3000 "$man")"
	jq -r '"\(.path)\t\(.bytes)\t\(.records)\tnl"' "$man" | sort > "$BATS_TEST_TMPDIR/.want"
	(cd "$dir" && find . -type f ! -name '.*' -printf '%P\0' | perl -e "$PERL_SCAN") |
		sort > "$BATS_TEST_TMPDIR/.got"
	diff "$BATS_TEST_TMPDIR/.want" "$BATS_TEST_TMPDIR/.got" > "$BATS_TEST_TMPDIR/.diff" ||
		fail "manifest (<) and files on disk (>) differ: $(head -c 3000 "$BATS_TEST_TMPDIR/.diff")"
	(cd "$dir" && find . -type f ! -name '.*' -print0 | xargs -0 -r gzip -dcf) |
		jq -R 'fromjson' > /dev/null || fail "$dir: a line of a file is not one JSON value"
}

# temp_files DIR: the temporary files under DIR, one per line.
temp_files() {
	find "$1" -type f -name '.*.ts-tmp'
}

# sum_records MANIFEST
sum_records() {
	jq -n '[inputs.records] | add // 0' "$1"
}

# by_partition MANIFEST DIR: "directory<TAB>record" for every record of every
# (uncompressed) file, files in manifest order, then stably sorted by
# directory: each partition's records in the order they were written.
by_partition() {
	# ./ first: awk takes an argument like k=1/file for an assignment
	jq -r '"./" + .path' "$1" | tr '\n' '\0' |
		(cd "$2" && xargs -0 -r awk '{ d = FILENAME; sub(/^[.]\//, "", d); sub(/\/[^\/]*$/, "", d); print d "\t" $0 }') |
		sort -s -t '	' -k1,1
}

# wait_for SECONDS CMD...: poll until CMD succeeds; fail after SECONDS.
wait_for() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 20; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	fail "timed out after ${limit}s waiting for: $*"
}

# temps_ge DIR N: DIR holds at least N temporary files.
temps_ge() {
	[ "$(temp_files "$1" | wc -l)" -ge "$2" ]
}

# lines_ge FILE N: FILE has at least N lines.
lines_ge() {
	[ -f "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ]
}

# wait_exit PID SECONDS: wait for a background job to end (fail, killing it,
# after SECONDS); its exit status in $bg_status.
wait_exit() {
	local pid=$1 limit=$2 i
	for ((i = 0; i < limit * 20; i++)); do
		kill -0 "$pid" 2> /dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2> /dev/null; then
		kill -9 "$pid"
		fail "process $pid still running after ${limit}s"
	fi
	bg_status=0
	wait "$pid" || bg_status=$?
}

# unprivileged CMD...: run CMD so that file permissions apply to it (as root:
# with every capability dropped, so a mode 555 directory is not writable).
unprivileged() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --bounding-set=-all --inh-caps=-all -- "$@"
	else
		"$@"
	fi
}

# --- usage and the output directory ------------------------------------------

@test "--help lists every option and exits 0; --version" {
	run -0 --separate-stderr ts-partition --help
	assert_line --index 0 --regexp '^Usage: ts-partition '
	for o in --output --prefix --key --time --time-zone --error-prefix --no-default-time \
		--name --compress --max-bytes --max-records --max-seconds --fsync --no-fsync \
		--clean-temp --max-open --errors --stats --max-record --max-depth; do
		assert_output --partial -- "$o"
	done
	[ -z "$stderr" ]
	run -0 ts-partition --version
	assert_output --regexp '^ts-partition \(ts toolkit\) [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "-o missing, an output that is a file, an unwritable directory: exit 2, nothing published" {
	echo '{"k":1}' > in
	run -2 --separate-stderr ts-partition "${KP[@]}" in
	[ -z "$output" ]
	assert_equal "$(head -n 1 <<< "$stderr")" "ts-partition: the output directory is required: -o DIR"

	echo data > afile
	run -2 --separate-stderr ts-partition -o afile "${KP[@]}" in
	[ -z "$output" ]
	[[ "$stderr" == *"'afile' is not a directory"* ]] || fail "stderr: $stderr"
	assert_equal "$(cat afile)" data

	if [ "$(id -u)" -eq 0 ]; then
		unprivileged true || skip "cannot drop capabilities (setpriv) to test permissions as root"
	fi
	mkdir ro && chmod 555 ro
	run -2 --separate-stderr unprivileged ts-partition -o ro "${KP[@]}" in
	[ -z "$output" ]
	[[ "$stderr" == *"cannot create directory 'ro/k=1'"*"Permission denied"* ]] || fail "stderr: $stderr"
	run -2 --separate-stderr unprivileged ts-partition -o ro/sub "${KP[@]}" in
	[[ "$stderr" == *"cannot create output directory 'ro/sub'"* ]] || fail "stderr: $stderr"
	[ -z "$(find ro -mindepth 1)" ]

	# the partition's directory exists but cannot be written
	mkdir -p w/k=1 && chmod 555 w/k=1
	run -2 --separate-stderr unprivileged ts-partition -o w "${KP[@]}" in
	[ -z "$output" ]
	[[ "$stderr" == *"cannot create 'w/k=1/.ts-partition-"*".ts-tmp': Permission denied"* ]] ||
		fail "stderr: $stderr"
	[ -z "$(find w -type f)" ]
	chmod 755 ro w/k=1
}

# --- prefix templates ----------------------------------------------------------

@test "partitionKeyFromQuery with several keys (strings, numbers, booleans, a nested path); partitionKeyFromLambda is the same" {
	cat > in <<-'EOF'
		{"acct":"111122223333","region":"us-east-1","n":42,"ok":true,"f":1.50,"user":{"name":"ann"}}
		{"acct":"444455556666","region":"eu-west-1","n":-7,"ok":false,"f":2,"user":{"name":"bob"}}
		{"acct":"111122223333","region":"us-east-1","n":42,"ok":true,"f":1.50,"user":{"name":"ann"},"x":3}
	EOF
	run -0 tsp -o out --no-default-time \
		--prefix 'acct=!{partitionKeyFromQuery:acct}/region=!{partitionKeyFromLambda:region}/n=!{partitionKeyFromQuery:n}/ok=!{partitionKeyFromLambda:ok}/f=!{partitionKeyFromQuery:f}/u=!{partitionKeyFromQuery:user}/' \
		--key acct=.acct --key region=.region --key n=.n --key ok=.ok --key f=.f --key user=.user.name in
	[ ! -s err ]
	check_manifest man out
	assert_equal "$(wc -l < man)" 2
	d1='acct=111122223333/region=us-east-1/n=42/ok=true/f=1.50/u=ann'
	d2='acct=444455556666/region=eu-west-1/n=-7/ok=false/f=2/u=bob'
	assert_equal "$(cd out && find . -type f -printf '%h\n' | sort)" "$(printf './%s\n' "$d1" "$d2")"
	sed -n '1p;3p' in > want1 && cmp want1 out/"$d1"/ts-partition-*
	sed -n 2p in > want2 && cmp want2 out/"$d2"/ts-partition-*
	jq -e -s 'map(.partition) | sort_by(.acct) == [
		{"acct":"111122223333","region":"us-east-1","n":"42","ok":"true","f":"1.50","u":"ann"},
		{"acct":"444455556666","region":"eu-west-1","n":"-7","ok":"false","f":"2","u":"bob"}]' man
	for f in out/*/*/*/*/*/*/*; do
		[[ "$(basename "$f")" =~ $NAME_RE ]] || fail "file name $f"
	done
}

@test "timestamp: yyyy yy MM dd HH mm ss SSS, quoted literal text, '' and other literal characters" {
	echo '{"t":"2024-03-07T08:09:05.123Z"}' > in
	run -0 tsp -o out --time .t \
		--prefix "!{timestamp:'year='yyyy'/month='MM}/day=!{timestamp:dd}/!{timestamp:HH-mm-ss}/!{timestamp:yy.SSS}/!{timestamp:'it''s' HH''mm}/" in
	[ ! -s err ]
	check_manifest man out
	run -0 jq -r '.path | sub("/[^/]*$"; "")' man
	assert_output "year=2024/month=03/day=07/08-09-05/24.123/it's 08'09"
	jq -e '.partition == {"year":"2024","month":"03","day":"07"}' man
	# yyyy/MM/dd/HH as the service writes it, zero-padded
	echo '{"t":"0987-01-02T03:04:05Z"}' > in2
	run -0 tsp -o out2 --time .t --prefix '!{timestamp:yyyy/MM/dd/HH/mm/ss}/' in2
	run -0 jq -r '.path | sub("/[^/]*$"; "")' man
	assert_output "0987/01/02/03/04/05"
}

@test "firehose:random-string: 11 characters [a-z0-9], new for every file" {
	printf '{"i":%d}\n' 1 2 3 4 > in
	run -0 tsp -o out --prefix 'r=!{firehose:random-string}/x!{firehose:random-string}y/' \
		--no-default-time --max-records 1 in
	check_manifest man out
	assert_equal "$(wc -l < man)" 4
	run -0 jq -r '.path' man
	for l in "${lines[@]}"; do
		[[ "$l" =~ ^r=([a-z0-9]{11})/x([a-z0-9]{11})y/[^/]+$ ]] || fail "path $l"
		[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] ||
			fail "one file, one random string: $l"
	done
	assert_equal "$(jq -r '.partition.r' man | sort -u | wc -l)" 4
	# each file holds its own record
	assert_equal "$(jq -r '.path' man | (cd out && xargs cat) | sort)" "$(sort in)"
}

@test "firehose:error-output-type is processing-failed in --error-prefix, a usage error in --prefix" {
	printf '%s\n' '{"k":"a","t":1714557600}' '{"t":1714557600}' > in
	before=$(date -u +%Y/%m/%d)
	run -1 tsp -o out --prefix 'k=!{partitionKeyFromQuery:k}/' --key k=.k --time .t \
		--error-prefix 'errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/' in
	[ ! -s err ]
	check_manifest man out
	run -0 jq -r '.path | sub("/[^/]*$"; "")' man
	assert_line --index 0 'k=a/2024/05/01/10'
	# the error prefix's timestamp is the arrival time, as the service does
	[[ "${lines[1]}" == "errors/processing-failed/$before" ||
		"${lines[1]}" == "errors/processing-failed/$(date -u +%Y/%m/%d)" ]] ||
		fail "error path ${lines[1]}"

	run -2 --separate-stderr ts-partition -o out2 --prefix 'x/!{firehose:error-output-type}/' in
	[ -z "$output" ]
	[[ "$stderr" == *"column 14"*"belongs in --error-prefix"* ]] || fail "stderr: $stderr"
	[ ! -e out2 ]
}

# bats test_tags=slow
@test "a prefix without a timestamp gets !{timestamp:yyyy/MM/dd/HH/} appended as it is, unless --no-default-time" {
	echo '{"k":"a","t":"2024-05-01T10:20:30Z"}' > in
	# the service appends the expression to the prefix: no '/' put between
	for prefix in 'logs' 'logs/' 'k=!{partitionKeyFromQuery:k}' 'k=!{partitionKeyFromQuery:k}/' ''; do
		rm -rf out
		run -0 tsp -o out --prefix "$prefix" --key k=.k --time .t in
		check_manifest man out
		want=${prefix/'!{partitionKeyFromQuery:k}'/a}2024/05/01/10
		assert_equal "$(jq -r '.path | sub("/[^/]*$"; "")' man)" "$want"
	done
	# no --prefix at all: the service's default
	rm -rf out
	run -0 tsp -o out --time .t in
	assert_equal "$(jq -r '.path | sub("/[^/]*$"; "")' man)" "2024/05/01/10"
	rm -rf out
	run -0 tsp -o out --prefix 'k=!{partitionKeyFromQuery:k}/' --key k=.k --time .t --no-default-time in
	assert_equal "$(jq -r '.path | sub("/[^/]*$"; "")' man)" "k=a"
	rm -rf out
	run -0 tsp -o out --prefix 'd=!{timestamp:yyyy}/' --time .t in
	assert_equal "$(jq -r '.path | sub("/[^/]*$"; "")' man)" "d=2024"
}

@test "template errors are usage errors (exit 2) that name their column" {
	echo '{"k":1,"t":1}' > in
	while IFS='|' read -r tpl col what; do
		run -2 --separate-stderr ts-partition -o out --key k=.k --time .t --prefix "$tpl" in
		[ -z "$output" ] || fail "$tpl: wrote $output"
		local first=${stderr%%$'\n'*}
		[[ "$first" == "ts-partition: --prefix '$tpl': column $col: "*"$what"* ]] ||
			fail "$tpl: want column $col and '$what', got: $stderr"
		[ ! -e out ] || fail "$tpl: created the output directory"
	done <<-'EOF'
		!{foo:bar}|3|unknown namespace 'foo'
		x/!{partitionKeyFromQueryy:k}/|5|unknown namespace
		!{timestamp}|3|namespace:argument
		a=!{partitionKeyFromQuery:k/|3|not closed
		dt=!{timestamp:yyyy-QQ}/|21|unsupported pattern letter
		!{timestamp:yyyy-MM-dd-EEE}|24|unsupported pattern letter
		!{timestamp:'year=yyyy}|13|quoted text not closed
		!{firehose:nope}|12|unknown firehose
		!{partitionKeyFromQuery:}|25|empty
		logs/../x/|6|'..'
		../x/|1|'..'
		x=!{partitionKeyFromQuery:k}/..|30|'..'
		./logs/|1|'.'
		!{timestamp:yyyy}/./x|19|'.'
		!{timestamp:'..'}/|1|'..'
		/abs/|1|no leading '/'
		a\b/|2|'\'
	EOF
}

@test "a key the template uses must be given with --key; --error-prefix cannot use keys" {
	echo '{"k":1}' > in
	run -2 --separate-stderr ts-partition -o out --prefix 'k=!{partitionKeyFromQuery:k}/a=!{partitionKeyFromLambda:acct}/' --key k=.k in
	[ -z "$output" ]
	[[ "$stderr" == *"partition key 'acct'"*"--key acct=PATH"* ]] || fail "stderr: $stderr"
	run -2 --separate-stderr ts-partition -o out "${KP[@]}" --error-prefix 'e/!{partitionKeyFromQuery:k}/' in
	[[ "$stderr" == *"--error-prefix cannot use partition keys"* ]] || fail "stderr: $stderr"
	for bad in 'k' '=.k' 'k=' 'k=.a[]'; do
		run -2 --separate-stderr ts-partition -o out "${KP[@]}" --key "$bad" in
		[[ "$stderr" == ts-partition:*--key* ]] || fail "--key $bad: $stderr"
	done
	[ ! -e out ]
}

# --- record times -----------------------------------------------------------------

@test "--time: epoch seconds, epoch milliseconds (number and digit string), ISO 8601 with Z, offsets and fractions" {
	cat > in <<-'EOF'
		{"id":"s","ev":{"t":1714557600}}
		{"id":"s-string","ev":{"t":"1714557600"}}
		{"id":"s-fraction","ev":{"t":1714557600.25}}
		{"id":"ms","ev":{"t":1714557600123}}
		{"id":"ms-string","ev":{"t":"1714557600123"}}
		{"id":"z","ev":{"t":"2024-05-01T10:00:00Z"}}
		{"id":"plus","ev":{"t":"2024-05-01T00:30:00+02:00"}}
		{"id":"minus","ev":{"t":"2024-04-30T23:30:00-01:00"}}
		{"id":"plus-basic","ev":{"t":"2024-05-01T15:30:00+0530"}}
		{"id":"fraction","ev":{"t":"2024-05-01T10:00:00.987654Z"}}
		{"id":"fraction-offset","ev":{"t":"2024-05-01T12:00:00.5+02:00"}}
		{"id":"end-of-year","ev":{"t":"2024-12-31T23:59:59.999Z"}}
	EOF
	run -0 tsp -o out --prefix 'id=!{partitionKeyFromQuery:id}/t=!{timestamp:yyyy-MM-dd HH.mm.ss.SSS}/' \
		--key id=.id --time .ev.t in
	[ ! -s err ]
	check_manifest man out
	run -0 jq -r -s 'sort_by(.partition.id)[] | "\(.partition.id) \(.partition.t) \(.first)"' man
	assert_output - <<-'EOF'
		end-of-year 2024-12-31 23.59.59.999 2024-12-31T23:59:59.999Z
		fraction 2024-05-01 10.00.00.987 2024-05-01T10:00:00.987Z
		fraction-offset 2024-05-01 10.00.00.500 2024-05-01T10:00:00.500Z
		minus 2024-05-01 00.30.00.000 2024-05-01T00:30:00.000Z
		ms 2024-05-01 10.00.00.123 2024-05-01T10:00:00.123Z
		ms-string 2024-05-01 10.00.00.123 2024-05-01T10:00:00.123Z
		plus 2024-04-30 22.30.00.000 2024-04-30T22:30:00.000Z
		plus-basic 2024-05-01 10.00.00.000 2024-05-01T10:00:00.000Z
		s 2024-05-01 10.00.00.000 2024-05-01T10:00:00.000Z
		s-fraction 2024-05-01 10.00.00.250 2024-05-01T10:00:00.250Z
		s-string 2024-05-01 10.00.00.000 2024-05-01T10:00:00.000Z
		z 2024-05-01 10.00.00.000 2024-05-01T10:00:00.000Z
	EOF
}

@test "--time-zone: UTC by default, fixed offsets (+05:30, +0530, -03:00)" {
	printf '%s\n' '{"t":"2024-05-01T20:00:00Z"}' > in
	while read -r tz want; do
		rm -rf out
		if [ "$tz" = default ]; then
			run -0 tsp -o out --prefix 'dt=!{timestamp:yyyy-MM-dd}/h=!{timestamp:HH:mm}/' --time .t in
		else
			run -0 tsp -o out --prefix 'dt=!{timestamp:yyyy-MM-dd}/h=!{timestamp:HH:mm}/' --time .t --time-zone "$tz" in
		fi
		[ ! -s err ]
		assert_equal "$(jq -r '.path | sub("/[^/]*$"; "")' man)" "$want"
		# first/last stay UTC whatever the zone of the prefix
		assert_equal "$(jq -r .first man)" 2024-05-01T20:00:00.000Z
	done <<-'EOF'
		default dt=2024-05-01/h=20:00
		UTC dt=2024-05-01/h=20:00
		+05:30 dt=2024-05-02/h=01:30
		+0530 dt=2024-05-02/h=01:30
		UTC+05:30 dt=2024-05-02/h=01:30
		-03:00 dt=2024-05-01/h=17:00
		-03 dt=2024-05-01/h=17:00
	EOF
}

@test "--time-zone: a zoneinfo name (Asia/Tokyo; Europe/Berlin in summer and winter)" {
	[ -f /usr/share/zoneinfo/Asia/Tokyo ] && [ -f /usr/share/zoneinfo/Europe/Berlin ] ||
		skip "no zoneinfo (tzdata) in /usr/share/zoneinfo"
	printf '%s\n' '{"t":"2024-05-01T20:00:00Z"}' '{"t":"2024-01-15T20:00:00Z"}' > in
	while read -r tz want; do
		rm -rf out
		run -0 tsp -o out --prefix 'dt=!{timestamp:yyyy-MM-dd}/h=!{timestamp:HH:mm}/' --time .t --time-zone "$tz" in
		[ ! -s err ]
		assert_equal "$(jq -r '.path | sub("/[^/]*$"; "")' man | sort | paste -sd ' ')" "$want"
	done <<-'EOF'
		Asia/Tokyo dt=2024-01-16/h=05:00 dt=2024-05-02/h=05:00
		Europe/Berlin dt=2024-01-15/h=21:00 dt=2024-05-01/h=22:00
	EOF
}

@test "--time-zone: an unknown zone, a directory of zoneinfo, a malformed offset: exit 2" {
	echo '{"t":1}' > in
	for tz in Nowhere/Land Asia +05:3 +24:00 +05:30x '+' ../../etc/passwd; do
		run -2 --separate-stderr ts-partition -o out --time .t --time-zone "$tz" in
		[ -z "$output" ] || fail "$tz: $output"
		[[ "$stderr" == *"unknown time zone '$tz'"* ]] || fail "$tz: $stderr"
	done
	[ ! -e out ]
}

@test "without --time the arrival time is used: today's UTC date, first/last while it ran" {
	printf '%s\n' '{"k":"a"}' '{"k":"b"}' > in
	before=$(date -u +%Y-%m-%d)
	t0=$(date -u +%s%3N)
	run -0 tsp -o out --prefix 'k=!{partitionKeyFromQuery:k}/dt=!{timestamp:yyyy-MM-dd}/' --key k=.k in
	t1=$(date -u +%s%3N)
	after=$(date -u +%Y-%m-%d)
	check_manifest man out
	run -0 jq -r '.partition.dt' man
	for l in "${lines[@]}"; do
		[ "$l" = "$before" ] || [ "$l" = "$after" ] || fail "dt=$l, today is $before"
	done
	run -0 jq -r '.first, .last | sub("[.][0-9]+Z$"; "Z") | fromdateiso8601' man
	for s in "${lines[@]}"; do
		[ "$s" -ge $((t0 / 1000)) ] && [ "$s" -le $((t1 / 1000)) ] || fail "time $s not in [$t0, $t1] ms"
	done
}

# --- rolling ------------------------------------------------------------------------

@test "--max-records: files of N records in input order, the rest in the last one" {
	seq 25 | awk '{printf "{\"k\":\"a\",\"i\":%d}\n",$1}' > in
	run -0 tsp -o out "${KP[@]}" --max-records 10 in
	check_manifest man out
	assert_equal "$(jq -r .records man | paste -sd ,)" 10,10,5
	jq -r .path man | (cd out && xargs cat) > got
	cmp in got
}

@test "--max-bytes: a file is finished once it reaches SIZE, not before" {
	# 100 records of 20..29 bytes, newline included
	seq 100 | awk '{printf "{\"k\":\"a\",\"p\":\"%s\"}\n", substr("xxxxxxxxxxx", 1, $1 % 10)}' > in
	run -0 tsp -o out "${KP[@]}" --max-bytes 100 in
	check_manifest man out
	jq -r .path man | (cd out && xargs cat) > got
	cmp in got
	n=$(wc -l < man)
	[ "$n" -gt 10 ]
	i=0
	while read -r path bytes; do
		i=$((i + 1))
		lastlen=$(tail -n 1 "out/$path" | wc -c)
		[ $((bytes - lastlen)) -lt 100 ] || fail "$path: $bytes bytes, was already at 100 before its last record"
		[ "$i" -eq "$n" ] || [ "$bytes" -ge 100 ] || fail "$path: $bytes bytes, finished before 100"
	done < <(jq -r '"\(.path) \(.bytes)"' man)
	# sizes take suffixes: 1K is 1024 bytes
	rm -rf out
	run -0 tsp -o out "${KP[@]}" --max-bytes 1K in
	want=$(awk '{ b += length($0) + 1; n++ } b >= 1024 { print n; exit }' in)
	assert_equal "$(jq -r .records man | head -n 1)" "$want"
}

@test "--max-seconds: checked as records arrive; a file past its time is finished and takes no more records" {
	mkfifo fifo
	ts-partition -o out "${KP[@]}" --max-seconds 1 < fifo > man 2> err 3>&- &
	pid=$!
	BG_PIDS=$pid
	exec 5<> fifo
	echo '{"k":1,"i":1}' >&5
	echo '{"k":2,"i":2}' >&5
	wait_for 5 temps_ge out 2
	sleep 1.3
	echo '{"k":1,"i":3}' >&5
	# both files are older than a second: finished as the record arrived,
	# while the input is still open
	wait_for 5 lines_ge man 2
	echo '{"k":1,"i":4}' >&5
	exec 5>&-
	wait_exit "$pid" 10
	[ "$bg_status" -eq 0 ]
	[ ! -s err ]
	check_manifest man out
	run -0 jq -r '.path' man
	assert_equal "${#lines[@]}" 3
	assert_equal "$(cd out && cat "${lines[0]}" "${lines[1]}" | sort)" \
		"$(printf '%s\n' '{"k":1,"i":1}' '{"k":2,"i":2}')"
	assert_equal "$(cat "out/${lines[2]}")" "$(printf '%s\n' '{"k":1,"i":3}' '{"k":1,"i":4}')"
}

@test "the end of the input finishes every file; nothing temporary is left" {
	seq 1000 | awk '{printf "{\"k\":%d,\"i\":%d}\n",$1%37,$1}' > in
	run -0 tsp -o out "${KP[@]}" --stats in
	check_manifest man out
	assert_equal "$(wc -l < man)" 37
	assert_equal "$(sum_records man)" 1000
	[ -z "$(temp_files out)" ]
	assert_equal "$(stat_field err files)" 37
	assert_equal "$(stat_field err partitions)" 37
}

@test "SIGTERM or SIGINT mid-stream: every file is finished and in the manifest, exit 0" {
	for sig in TERM INT; do
		rm -rf out fifo man err
		mkfifo fifo
		ts-partition -o out "${KP[@]}" --max-records 3 --stats < fifo > man 2> err 3>&- &
		pid=$!
		BG_PIDS=$pid
		exec 5<> fifo
		seq 10 | awk '{printf "{\"k\":%d,\"i\":%d}\n",$1%3,$1}' >&5
		# 3 files of 3 are finished; record 10 is in the fourth, still open
		wait_for 5 lines_ge man 3
		wait_for 5 temps_ge out 1
		kill -s "$sig" "$pid"
		wait_exit "$pid" 10
		exec 5>&-
		[ "$bg_status" -eq 0 ] || fail "SIG$sig: exit $bg_status: $(cat err)"
		check_manifest man out
		assert_equal "$(wc -l < man)" 4
		assert_equal "$(sum_records man)" 10
		[ -z "$(temp_files out)" ]
		assert_equal "$(tail -n 1 man | jq -r .path | (cd out && xargs cat))" '{"k":1,"i":10}'
		assert_equal "$(stat_field err records_in)" 10
	done
}

# --- gzip ---------------------------------------------------------------------------

@test "--compress gzip: .gz files that pass gzip -t and give back the records" {
	seq 500 | awk '{printf "{\"k\":%d,\"i\":%d,\"s\":\"record %d\"}\n",$1%4,$1,$1}' > in
	run -0 tsp -o out "${KP[@]}" --compress gzip in
	check_manifest man out
	run -0 jq -r .path man
	assert_equal "${#lines[@]}" 4
	for p in "${lines[@]}"; do
		[[ "$(basename "$p")" =~ $NAME_RE && "$p" == *.gz ]] || fail "name $p"
		gzip -t "out/$p"
		k=${p%%/*}
		k=${k#k=}
		cmp <(zcat "out/$p") <(grep "^{\"k\":$k," in)
	done
}

# bats test_tags=slow
@test "--compress gzip with --max-open 2 and 5 partitions interleaved: reopened files stay valid gzip in record order" {
	seq 5000 | awk '{printf "{\"k\":%d,\"i\":%d}\n",$1%5,$1}' > in
	run -0 tsp -o out "${KP[@]}" --compress gzip --max-open 2 --max-records 600 in
	check_manifest man out
	assert_equal "$(sum_records man)" 5000
	# 1000 records per partition: files of 600 and 400
	assert_equal "$(jq -r .records man | sort -n | uniq -c | awk '{print $1 "x" $2}' | paste -sd ' ')" "5x400 5x600"
	run -0 jq -r .path man
	for p in "${lines[@]}"; do
		gzip -t "out/$p"
	done
	for k in 0 1 2 3 4; do
		# the partition's files in manifest order, unzipped, give its records in input order
		jq -r --arg k "$k" 'select(.partition.k == $k) | .path' man | (cd out && xargs zcat) > got
		grep "^{\"k\":$k," in > want
		cmp want got
	done
}

# --- the manifest and the counts ------------------------------------------------------

@test "the manifest matches the files; records_in = records_out + rejected; pretty input is written compact" {
	{
		seq 200 | awk '{printf "{\"k\":\"%s\",\"i\":%d}\n", substr("abc", $1 % 3 + 1, 1), $1}'
		printf '{\n  "k": "a",\n  "i": 201\n}\n'
		echo '{"i":202}'
		echo '{"k":[1],"i":203}'
		echo '{"k":"b",'
	} > in
	run -1 tsp -o out "${KP[@]}" --max-records 30 --stats --errors errs in
	check_manifest man out
	assert_error_records errs 3
	[ "$(stat_field err records_in)" -eq 204 ]
	[ "$(stat_field err records_out)" -eq 201 ]
	[ "$(stat_field err rejected)" -eq 3 ]
	[ "$(stat_field err records_out)" -eq "$(sum_records man)" ]
	[ "$(stat_field err files)" -eq "$(wc -l < man)" ]
	[ "$(stat_field err partitions)" -eq 3 ]
	grep -qx '{"k":"a","i":201}' out/k=a/*
	# each record once, none lost or doubled
	jq -r .path man | (cd out && xargs cat) | jq -r .i | sort -n > got
	seq 201 | cmp - got
}

@test "with --error-prefix the error files are in the manifest too: its records add up to records_in" {
	{
		seq 50 | awk '{printf "{\"k\":%d}\n",$1%2}'
		echo '{"x":1}'
		echo 'not json'
	} > in
	run -1 tsp -o out "${KP[@]}" --error-prefix 'errors/' --stats in
	check_manifest man out
	[ "$(stat_field err records_in)" -eq 52 ]
	[ "$(stat_field err records_out)" -eq 50 ]
	[ "$(stat_field err rejected)" -eq 2 ]
	assert_equal "$(sum_records man)" 52
	assert_equal "$(jq -r 'select(.path | startswith("errors/")) | .records' man)" 2
}

@test "several inputs: one that cannot be read is exit 2, the others are still written; empty input: no files, exit 0" {
	printf '%s\n' '{"k":1}' '{"k":2}' > a
	printf '%s\n' '{"k":1}' 5 '"text"' '[1]' > b
	run -2 --separate-stderr ts-partition -o out "${KP[@]}" --errors errs a nonexistent b
	printf '%s\n' "$output" > man
	check_manifest man out
	assert_equal "$(sum_records man)" 3
	[[ "$stderr" == *"cannot open 'nonexistent'"* ]] || fail "stderr: $stderr"
	# records that are not objects have no key
	assert_error_records errs 3
	assert_error errs 0 '.error == "missing_key" and .file == "b" and .line == 2 and .raw == "5"'
	assert_error errs 2 '.raw == "[1]" and .line == 4'

	run -0 --separate-stderr ts-partition -o empty "${KP[@]}" < /dev/null
	[ -z "$output" ] && [ -z "$stderr" ]
	[ -d empty ] && [ -z "$(find empty -mindepth 1)" ]
}

@test "--name: the first part of file names; one that is not a plain name is a usage error" {
	echo '{"k":1}' > in
	run -0 tsp -o out "${KP[@]}" --name delivery-1 --compress gzip in
	[[ "$(jq -r .path man)" =~ ^k=1/delivery-1-[0-9]{4}(-[0-9]{2}){5}-[0-9a-f-]{36}\.gz$ ]] || fail "$(cat man)"
	for bad in '' a/b .hidden _x; do
		run -2 --separate-stderr ts-partition -o out2 "${KP[@]}" --name "$bad" in
		[[ "$stderr" == *--name* ]] || fail "--name '$bad': $stderr"
	done
	[ ! -e out2 ]
}

# --- partition values are data ----------------------------------------------------------

@test "partition values that try to leave the output directory are percent-encoded and stay inside it" {
	# a sandbox two levels down, to see what appears next to the output
	mkdir -p sandbox/top
	cd sandbox/top
	long=$(printf 'a%.0s' {1..300})
	{
		printf '{"k":%s}\n' '"../../x"' '"/etc"' '"a/../../b"' '".."' '"."' '"\u0000"' \
			'"\n"' '"_x"' '".x"' '"x.y_z-1~"' '""' '"%2F"' '"a\\b"' '"caf\u00e9"' '"a=b"' '" sp"'
		printf '{"k":"%s"}\n' "$long"
	} > in
	run -1 tsp -o lake "${KP[@]}" --errors errs in
	check_manifest man lake
	# nothing outside lake/ but the files this test made
	assert_equal "$(find . -path ./lake -prune -o -print | sort | paste -sd ' ')" ". ./err ./errs ./in ./man"
	assert_equal "$(find .. -mindepth 1 -maxdepth 1 | sort)" "../top"
	run -0 bash -c "cd lake && find . -mindepth 1 -maxdepth 1 -type d | sort"
	assert_output - <<-'EOF'
		./k=%00
		./k=%0A
		./k=%20sp
		./k=%252F
		./k=%2E
		./k=%2E.
		./k=%2E.%2F..%2Fx
		./k=%2Ex
		./k=%2Fetc
		./k=%5Fx
		./k=__HIVE_DEFAULT_PARTITION__
		./k=a%2F..%2F..%2Fb
		./k=a%3Db
		./k=a%5Cb
		./k=café
		./k=x.y_z-1~
	EOF
	# directly below each partition directory, one file
	[ -z "$(find lake -mindepth 3)" ]
	assert_equal "$(find lake -type f | wc -l)" 16
	# the manifest gives the values back as they were
	run -0 jq -r -s 'map(.partition.k | @json) | sort[]' man
	assert_output - <<-'EOF'
		" sp"
		"%2F"
		"."
		".."
		"../../x"
		".x"
		"/etc"
		"\n"
		"\u0000"
		"__HIVE_DEFAULT_PARTITION__"
		"_x"
		"a/../../b"
		"a=b"
		"a\\b"
		"café"
		"x.y_z-1~"
	EOF
	# the 300-character value is an error record, not a truncated directory
	assert_error_records errs 1
	assert_error errs 0 '.error == "key_too_long" and .line == 17'
	sed -n 17p in | tr -d '\n' > want17
	assert_raw errs 0 want17
}

@test "a value that is a whole path component can be neither . nor .., nor contain /" {
	mkdir -p sandbox/top
	cd sandbox/top
	printf '{"k":%s}\n' '"."' '".."' '"../.."' '"/"' > in
	run -0 tsp -o lake --prefix '!{partitionKeyFromQuery:k}/' --key k=.k --no-default-time in
	check_manifest man lake
	assert_equal "$(cd lake && find . -mindepth 1 -maxdepth 1 | sort | paste -sd ' ')" "./%2E ./%2E. ./%2E.%2F.. ./%2F"
	[ -z "$(find lake -mindepth 3)" ]
	assert_equal "$(find .. | sort | grep -v '^../top/lake/' | paste -sd ' ')" ".. ../top ../top/err ../top/in ../top/lake ../top/man"
}

@test "a component longer than 255 bytes is a key_too_long error record, never a truncated name" {
	a253=$(printf 'a%.0s' {1..253})
	a254=$(printf 'a%.0s' {1..254})
	slashes=$(printf '/%.0s' {1..100})
	printf '{"k":"%s","i":%d}\n' "$a253" 1 "$a254" 2 "$slashes" 3 > in
	run -1 tsp -o lake "${KP[@]}" --errors errs in
	check_manifest man lake
	# k= and 253 characters: exactly 255 bytes, accepted
	assert_equal "$(find lake -mindepth 1 -maxdepth 1 | sed 's|^lake/||')" "k=$a253"
	assert_equal "$(jq -r .records man)" 1
	assert_error_records errs 2
	assert_error errs 0 '.error == "key_too_long" and .line == 2'
	assert_error errs 1 '.error == "key_too_long" and .line == 3'
	sed -n 2p in | tr -d '\n' > want2
	assert_raw errs 0 want2
	sed -n 3p in | tr -d '\n' > want3
	assert_raw errs 1 want3
}

# --- rejected records ---------------------------------------------------------------------

# bats test_tags=slow
@test "missing key, null/object/array key, missing or unparsable time: error records with the original bytes, the rest written, exit 1" {
	cat > in <<-'EOF'
		{"k":"a","t":1714557600}
		{"t":1714557600}
		{"k":null,"t":1714557600}
		{"k":{"x":1},"t":1714557600}
		{"k":[1,2],"t":1714557600}
		{"k":"a"}
		{"k":"a","t":"yesterday"}
		{"k":"a","t":"2024-13-01T00:00:00Z"}
		{"k":"a","t":true}
		{"k":"b","t":"2024-05-01T10:00:00Z"}
	EOF
	printf '{ "t" : 1714557600,\n  "other": "pretty"  }\n' >> in
	run -1 tsp -o out --prefix 'k=!{partitionKeyFromQuery:k}/' --key k=.k --time .t --errors errs --stats in
	check_manifest man out
	assert_equal "$(sum_records man)" 2
	assert_equal "$(jq -r .path man | (cd out && xargs cat) | sort)" "$(sed -n '1p;10p' in | sort)"
	assert_error_records errs 9
	i=0
	for want in missing_key:2 bad_key_type:3 bad_key_type:4 bad_key_type:5 missing_time:6 \
		bad_time:7 bad_time:8 bad_time:9 missing_key:11; do
		assert_error errs "$i" ".error == \"${want%:*}\" and .line == ${want#*:} and .file == \"in\"
			and (.message | startswith(\"in:${want#*:}: \"))"
		if [ "${want#*:}" -eq 11 ]; then
			printf '{ "t" : 1714557600,\n  "other": "pretty"  }' > want.raw
		else
			sed -n "${want#*:}p" in | tr -d '\n' > want.raw
		fi
		assert_raw errs "$i" want.raw
		i=$((i + 1))
	done
	assert_error errs 1 '.message | test("null")'
	assert_error errs 2 '.message | test("an object")'
	assert_error errs 3 '.message | test("an array")'
	[ "$(stat_field err records_in)" -eq 11 ]
	[ "$(stat_field err rejected)" -eq 9 ]

	# without --errors, the error records go to standard error
	rm -rf out
	run -1 --separate-stderr ts-partition -o out --prefix 'k=!{partitionKeyFromQuery:k}/' --key k=.k --time .t in
	assert_equal "${#lines[@]}" 2
	assert_equal "$(grep -c '"error":' <<< "$stderr")" 9
}

@test "--error-prefix: rejected records are JSON lines with errorCode, errorMessage and rawData (base64 of the exact record)" {
	cat > in <<-'EOF'
		{"k":"a","t":1}
		{"t":1}
		{"k":null,"t":1}
		{"k":"a","t":"soon"}
	EOF
	printf '{\n  "t": 1,\n  "note": "caf\xc3\xa9 \\u0000"\n}\n' >> in
	echo '{"k":"b",' >> in
	run -1 tsp -o out --prefix 'k=!{partitionKeyFromQuery:k}/' --key k=.k --time .t \
		--error-prefix 'errors/!{firehose:error-output-type}/' in
	[ ! -s err ]
	check_manifest man out
	efile=$(jq -r 'select(.path | startswith("errors/processing-failed/")) | .path' man)
	[ -n "$efile" ]
	[[ "$efile" =~ ^errors/processing-failed/[0-9]{4}/[0-9]{2}/[0-9]{2}/[0-9]{2}/ts-partition- ]] || fail "$efile"
	assert_equal "$(jq -r 'select(.path | startswith("errors/")) | .records' man)" 5
	jq -e -s 'all(.[]; (keys_unsorted == ["attemptsMade","arrivalTimestamp","errorCode","errorMessage","rawData"])
		and .attemptsMade == 1 and (.arrivalTimestamp | type == "number"))' "out/$efile"
	assert_equal "$(jq -r .errorCode "out/$efile" | paste -sd ' ')" "missing_key bad_key_type bad_time missing_key bad_json"
	assert_equal "$(jq -r '.errorMessage | split(": ")[0]' "out/$efile" | paste -sd ' ')" "in:2 in:3 in:4 in:5 in:9"
	# rawData decodes to the exact bytes of each record (the pretty one spans lines 5-8)
	sed -n 2p in | tr -d '\n' > r1
	sed -n 3p in | tr -d '\n' > r2
	sed -n 4p in | tr -d '\n' > r3
	sed -n 5,8p in | head -c -1 > r4
	sed -n 9p in | tr -d '\n' > r5
	for i in 1 2 3 4 5; do
		sed -n "${i}p" "out/$efile" | jq -j .rawData | base64 -d > got
		cmp "r$i" got
	done
}

# --- scale ------------------------------------------------------------------------------------

# bats test_tags=slow
@test "100,000 distinct partitions under ulimit -n 256: exit 0, 100,000 files, every manifest line valid" {
	seq 100000 | awk '{printf "{\"k\":%d}\n",$1}' > in
	t0=$(date +%s%N)
	run -0 bash -c 'ulimit -n 256 && exec ts-partition -o out --prefix "k=!{partitionKeyFromQuery:k}/" --key k=.k --no-default-time --no-fsync --stats in > man 2> err'
	t1=$(date +%s%N)
	echo "# 100,000 partitions: ts-partition took $(((t1 - t0) / 1000000)) ms" >&3
	[ "$(stat_field err files)" -eq 100000 ]
	[ "$(stat_field err partitions)" -eq 100000 ]
	assert_equal "$(wc -l < man)" 100000
	assert_equal "$(find out -type f | wc -l)" 100000
	[ -z "$(temp_files out)" ]
	check_manifest man out
	# each k=N holds the record {"k":N}
	jq -r '"\(.partition.k) \(.records)"' man | sort -n | awk '$1 != NR || $2 != 1 { exit 1 }'
	[ "$(find out -type f -print0 | xargs -0 cat | sort -u | wc -l)" -eq 100000 ]
}

@test "open files stay under a small ulimit -n whatever --max-open says" {
	seq 300 | awk '{printf "{\"k\":%d}\n",$1}' > in
	for args in "" "--max-open 1000"; do
		rm -rf out
		run -0 bash -c 'ulimit -n 40 && exec ts-partition -o out "$@" --errors errs in > man 2> err' _ "${KP[@]}" $args
		[ ! -s err ] || fail "$args: $(cat err)"
		check_manifest man out
		assert_equal "$(wc -l < man)" 300
	done
}

# --- crashes and full disks ---------------------------------------------------------------------

@test "kill -9 mid-run: only temporary files are incomplete; a later run ignores them, --clean-temp removes them" {
	mkfifo fifo
	ts-partition -o out "${KP[@]}" --max-records 10 --max-open 2 < fifo > man 2> err 3>&- &
	pid=$!
	BG_PIDS=$pid
	exec 5<> fifo
	# three partitions interleaved with two open files: files are closed and
	# reopened, so the temporary files hold data when the process dies
	seq 65 | awk '{printf "{\"k\":%d,\"i\":%d,\"pad\":\"%0100d\"}\n",$1%3,$1,$1}' >&5
	wait_for 5 lines_ge man 6
	wait_for 5 temps_ge out 3
	kill -9 "$pid"
	wait_exit "$pid" 10
	exec 5>&-
	[ "$bg_status" -eq 137 ]
	# published files are whole: line count = manifest records, every line JSON
	check_manifest man out
	assert_equal "$(wc -l < man)" 6
	jq -e -s 'all(.[]; .records == 10)' man
	assert_equal "$(temp_files out | wc -l)" 3
	[ -n "$(temp_files out | xargs cat)" ]
	[[ "$(temp_files out | xargs -n 1 basename | head -n 1)" =~ ^\.ts-partition-.*\.ts-tmp$ ]]

	# a later run leaves them alone
	cp man man.1
	echo '{"k":7}' > in2
	run -0 tsp -o out "${KP[@]}" in2
	[ ! -s err ]
	assert_equal "$(temp_files out | wc -l)" 3
	cat man >> man.1

	# --clean-temp removes them, says so, and runs as usual; it does not
	# follow a symbolic link out of the directory
	mkdir elsewhere
	touch elsewhere/.not-ours.ts-tmp
	ln -s ../elsewhere out/link
	run -0 tsp -o out "${KP[@]}" --clean-temp in2
	assert_equal "$(cat err)" "ts-partition: removed 3 temporary files a previous run left under 'out'"
	[ -z "$(temp_files out)" ]
	[ -f elsewhere/.not-ours.ts-tmp ]
	rm out/link
	cat man >> man.1
	check_manifest man.1 out
	assert_equal "$(wc -l < man.1)" 8
}

@test "ENOSPC (LD_PRELOAD shim): a clear error naming the file, exit 2, no half file published, temporary files removed" {
	[ -f "$FAULTFS" ] || fail "the shim was not built"
	seq 2000 | awk '{printf "{\"k\":%d,\"i\":%d,\"pad\":\"%060d\"}\n",$1%3,$1,$1}' > in
	for compress in none gzip; do
		for after in 0 5000; do
			rm -rf full man err
			run -2 env FAULTFS_MARK="$PWD/full/" FAULTFS_AFTER="$after" LD_PRELOAD="$FAULTFS" ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" \
				bash -c 'exec ts-partition "$@" > man 2> err' _ \
				-o full "${KP[@]}" --max-records 50 --compress "$compress" --stats in
			grep -q "^ts-partition: cannot write 'full/k=[012]/\.ts-partition-[^']*\.ts-tmp': No space left on device$" err ||
				fail "$compress/$after: stderr: $(cat err)"
			[ -z "$(temp_files full)" ] || fail "$compress/$after: temporary files left: $(temp_files full)"
			check_manifest man full
			if [ "$after" -eq 0 ]; then
				[ ! -s man ] || fail "published with a full disk: $(cat man)"
			else
				[ -s man ] || fail "$compress/$after: nothing published before the disk filled"
			fi
			[ "$(stat_field err status)" -eq 2 ]
		done
	done
}

@test "ENOSPC on a real tmpfs (private mount namespace; skipped where mounting is not allowed)" {
	mkdir mnt
	unshare -m sh -c 'mount -t tmpfs -o size=64k tmpfs mnt' 2> /dev/null ||
		skip "cannot mount a tmpfs here (needs root and unshare -m)"
	seq 2000 | awk '{printf "{\"k\":%d,\"i\":%d,\"pad\":\"%060d\"}\n",$1%3,$1,$1}' > in
	mkdir snap
	run -2 unshare -m sh -c 'mount -t tmpfs -o size=64k tmpfs mnt || exit 99
		ts-partition -o mnt/lake "$@" > man 2> err; rc=$?
		cp -a mnt/. snap/
		exit $rc' sh --prefix 'k=!{partitionKeyFromQuery:k}/' --key k=.k --no-default-time --max-records 50 in
	grep -q "^ts-partition: cannot write 'mnt/lake/k=[012]/\.ts-partition-[^']*\.ts-tmp': No space left on device$" err ||
		fail "stderr: $(cat err)"
	[ -s man ]
	[ -z "$(temp_files snap/lake)" ]
	check_manifest man snap/lake
}

# --- determinism ------------------------------------------------------------------------------------

@test "the same input gives the same partitions, files and records whatever --max-open" {
	# 3000 records over 40 partitions in a scrambled order
	seq 3000 | awk '{x = ($1 * 7919) % 40; printf "{\"k\":%d,\"i\":%d}\n", x, $1}' > in
	awk -F'[:,]' '{print "k=" $2 "\t" $0}' in | sort -s -t '	' -k1,1 > want
	for n in 1 3 128; do
		rm -rf out
		run -0 tsp -o out "${KP[@]}" --max-records 7 --max-open "$n" in
		check_manifest man out
		by_partition man out > "got.$n"
		cmp want "got.$n"
		jq -r '"\(.path | sub("/[^/]*$"; "")) \(.records)"' man | sort > "files.$n"
	done
	cmp files.1 files.3
	cmp files.1 files.128
}

@test "--max-seconds rolls a file while the input is idle, not only when the next record comes" {
	( echo '{"k":1}'; sleep 3; find out -name 'ts-partition-*' ! -name '.*' > seen; echo '{"k":2}' ) |
		ts-partition -o out --prefix 'k=!{partitionKeyFromQuery:k}/' --key k=.k \
			--no-default-time --max-seconds 1 --no-fsync > man
	[ "$(wc -l < seen)" -eq 1 ]
	grep -q '^out/k=1/' seen
	[ "$(wc -l < man)" -eq 2 ]
}

# --- a hostile output directory -------------------------------------------------------

# no_files_in DIR: DIR holds nothing at all.
no_files_in() {
	[ -z "$(find "$1" -mindepth 1 -print -quit)" ] || fail "$1 is not empty: $(find "$1" -mindepth 1 | head)"
}

@test "a symbolic link where a partition directory goes: nothing is written through it, the record is an unsafe_path error, the rest goes on" {
	mkdir -p out outside/sub
	ln -s "$PWD/outside" out/k=evil
	echo '{"k":"evil"}' | ts-partition -o out --prefix 'k=!{partitionKeyFromQuery:k}/' --key k=.k \
		--no-default-time > man 2> err && status=0 || status=$?
	[ "$status" -eq 1 ] || fail "exit $status: $(cat err)"
	no_files_in outside/sub
	[ -z "$(find outside -type f)" ] || fail "written outside: $(find outside -type f)"
	[ ! -s man ]
	assert_error_records err 1
	assert_error err 0 '.error == "unsafe_path" and .line == 1 and (.message | contains("out/k=evil"))
		and .raw == "{\"k\":\"evil\"}"'

	# links to a file, dangling links, a link deeper down, a file in the way;
	# the good records around them are written
	ln -s "$PWD/outside/f" out/k=file-link
	touch outside/f
	ln -s "$PWD/outside/nothing" out/k=dangling
	ln -s /nonexistent/dir out/k=dangling2
	mkdir -p out/k=deep
	ln -s "$PWD/outside" out/k=deep/d=x
	echo plain > out/k=plain
	cat > in <<-'EOF2'
		{"k":"good","d":"x"}
		{"k":"evil","d":"x"}
		{"k":"file-link","d":"x"}
		{"k":"dangling","d":"x"}
		{"k":"dangling2","d":"x"}
		{"k":"deep","d":"x"}
		{"k":"plain","d":"x"}
		{"k":"good","d":"y"}
	EOF2
	run -1 tsp -o out --prefix 'k=!{partitionKeyFromQuery:k}/d=!{partitionKeyFromQuery:d}/' \
		--key k=.k --key d=.d --no-default-time --errors errs --stats in
	[ -z "$(find outside -type f ! -name f)" ] || fail "written outside: $(find outside -type f)"
	[ ! -s outside/f ]
	[ ! -e outside/nothing ] && [ ! -e /nonexistent/dir ]
	assert_equal "$(cat out/k=plain)" plain
	rm out/k=plain
	check_manifest man out
	assert_equal "$(jq -r .path man | sed 's|/[^/]*$||' | sort | paste -sd ' ')" "k=good/d=x k=good/d=y"
	assert_error_records errs 6
	i=0
	for want in 'out/k=evil:symbolic link' 'out/k=file-link:symbolic link' \
		'out/k=dangling:symbolic link' 'out/k=dangling2:symbolic link' \
		'out/k=deep/d=x:symbolic link' 'out/k=plain:not a directory'; do
		assert_error errs "$i" ".error == \"unsafe_path\" and .line == $((i + 2))
			and (.message | contains(\"'${want%%:*}' is\") and contains(\"${want#*:}\"))"
		i=$((i + 1))
	done
	[ "$(stat_field err records_in)" -eq 8 ]
	[ "$(stat_field err records_out)" -eq 2 ]
	[ "$(stat_field err rejected)" -eq 6 ]
}

@test "--error-prefix through a symbolic link: nothing written through it, the error record goes to the error output" {
	mkdir -p out outside
	ln -s "$PWD/outside" out/errors
	printf '%s\n' '{"k":"a"}' '{"x":1}' > in
	run -1 tsp -o out "${KP[@]}" --error-prefix 'errors/' --errors errs --stats in
	[ -z "$(find outside -mindepth 1)" ] || fail "written outside: $(find outside)"
	check_manifest man out
	assert_equal "$(jq -r .path man | sed 's|/[^/]*$||')" "k=a"
	# the record that could not go under the error prefix is in the error
	# output, counted once
	assert_error_records errs 1
	assert_error errs 0 '.error == "missing_key" and .line == 2 and .raw == "{\"x\":1}"'
	[ "$(stat_field err rejected)" -eq 1 ]
	[ "$(stat_field err records_in)" -eq 2 ]
	[ "$(stat_field err records_out)" -eq 1 ]

	# a data record whose path is unsafe, under an error prefix that is fine
	rm -rf out2 && mkdir -p out2 && ln -s "$PWD/outside" out2/k=evil
	echo '{"k":"evil"}' > in2
	run -1 tsp -o out2 "${KP[@]}" --error-prefix 'errors/' --stats in2
	[ -z "$(find outside -mindepth 1)" ]
	check_manifest man out2
	efile=$(jq -r 'select(.path | startswith("errors/")) | .path' man)
	[ -n "$efile" ]
	assert_equal "$(jq -r .errorCode "out2/$efile")" unsafe_path
	assert_equal "$(jq -r .rawData "out2/$efile" | base64 -d)" '{"k":"evil"}'
	[ "$(stat_field err rejected)" -eq 1 ]
}

@test "a directory swapped for a symbolic link while records are written (a race): nothing ever lands outside" {
	mkdir -p out outside
	# swap out/k=x between a directory and a link to outside/ as fast as
	# possible while every record starts a file of its own there
	( end=$((SECONDS + 30)); while [ "$SECONDS" -lt "$end" ] && [ ! -e stop ]; do
		rm -rf out/k=x; ln -s "$PWD/outside" out/k=x 2> /dev/null; sleep 0.01
		rm -f out/k=x; mkdir -p out/k=x; sleep 0.002
	done ) &
	BG_PIDS=$!
	# records arrive one by one, for about two seconds
	perl -e '$| = 1; for (1 .. 400) { print "{\"k\":\"x\",\"i\":$_}\n"; select(undef, undef, undef, 0.005) }' |
		ts-partition -o out "${KP[@]}" --max-records 1 --errors errs > man 2> err || true
	touch stop
	wait "$BG_PIDS" || true
	[ -z "$(find outside -mindepth 1)" ] || fail "written outside: $(find outside -mindepth 1 | head)"
	# whatever was refused says why
	if [ -s errs ]; then
		jq -e -s 'all(.[]; .error == "unsafe_path")' errs > /dev/null || fail "$(head -c 2000 errs)"
	fi
}

@test "the output directory itself may be a symbolic link (the user chose it)" {
	mkdir real
	ln -s real lake
	echo '{"k":"a"}' > in
	run -0 tsp -o lake "${KP[@]}" in
	check_manifest man real
	assert_equal "$(find real -type f ! -name '.*' | wc -l)" 1
	[ -L lake ]
}

@test "--clean-temp does not follow symbolic links and leaves a live run's temporary files alone" {
	mkdir -p out elsewhere
	touch elsewhere/.x.0123456789abcdef.ts-tmp elsewhere/.old.ts-tmp
	ln -s ../elsewhere out/link
	mkdir -p out/k=1
	ln -s ../../elsewhere out/k=1/deeper
	run -0 --separate-stderr ts-partition -o out "${KP[@]}" --clean-temp < /dev/null
	[ -f elsewhere/.x.0123456789abcdef.ts-tmp ] && [ -f elsewhere/.old.ts-tmp ]
	[ -z "$stderr" ] || fail "stderr: $stderr"
}

@test "a concurrent --clean-temp does not harm a live run: its temporary files stay, every record is published" {
	mkfifo fifo
	mkdir top
	ts-partition -o top/w "${KP[@]}" --max-open 2 --stats < fifo > man 2> err 3>&- &
	pid=$!
	BG_PIDS=$pid
	exec 5<> fifo
	seq 30 | awk '{printf "{\"k\":%d,\"i\":%d}\n",$1%3,$1}' >&5
	wait_for 5 temps_ge top/w 3
	# a killed run's leftovers next to the live run's files
	mkdir -p top/w/k=9
	touch top/w/k=9/.ts-partition-x.0123456789abcdef.ts-tmp top/w/k=9/.ts-partition-y.ts-tmp
	run -0 --separate-stderr ts-partition -o top/w "${KP[@]}" --clean-temp < /dev/null
	[[ "$stderr" == *"removed 2 temporary files a previous run left under 'top/w'"* ]] || fail "stderr: $stderr"
	[[ "$stderr" == *"left 3 temporary files of runs still writing under 'top/w'"* ]] || fail "stderr: $stderr"
	assert_equal "$(temp_files top | wc -l)" 3
	# a cleaner given a directory above the live run's root, or below it,
	# finds the run's lock too
	run -0 --separate-stderr ts-partition -o top "${KP[@]}" --clean-temp < /dev/null
	[[ "$stderr" == *"left 3 temporary files of runs still writing under 'top'"* ]] || fail "stderr: $stderr"
	run -0 --separate-stderr ts-partition -o top/w/k=1 "${KP[@]}" --clean-temp < /dev/null
	[[ "$stderr" == *"left 1 temporary file of runs still writing under 'top/w/k=1'"* ]] || fail "stderr: $stderr"
	assert_equal "$(temp_files top | wc -l)" 3
	seq 31 60 | awk '{printf "{\"k\":%d,\"i\":%d}\n",$1%3,$1}' >&5
	exec 5>&-
	wait_exit "$pid" 10
	[ "$bg_status" -eq 0 ] || fail "exit $bg_status: $(cat err)"
	check_manifest man top/w
	assert_equal "$(sum_records man)" 60
	[ -z "$(temp_files top)" ]
	[ "$(stat_field err records_out)" -eq 60 ]
	# the run removed its lock file; the cleaners left none
	[ -z "$(find top -name '.ts-run-*')" ] || fail "lock files left: $(find top -name '.ts-run-*')"
}

# --- the lifecycle: signals, a closed manifest --------------------------------------

@test "SIGHUP is SIGTERM: every file is finished and in the manifest, exit 0" {
	mkfifo fifo
	ts-partition -o out "${KP[@]}" --max-records 3 --stats < fifo > man 2> err 3>&- &
	pid=$!
	BG_PIDS=$pid
	exec 5<> fifo
	seq 10 | awk '{printf "{\"k\":%d,\"i\":%d}\n",$1%3,$1}' >&5
	wait_for 5 lines_ge man 3
	wait_for 5 temps_ge out 1
	kill -s HUP "$pid"
	wait_exit "$pid" 10
	exec 5>&-
	[ "$bg_status" -eq 0 ] || fail "exit $bg_status: $(cat err)"
	check_manifest man out
	assert_equal "$(sum_records man)" 10
	[ -z "$(temp_files out)" ]
	[ -z "$(find out -name '.ts-run-*')" ]
	assert_equal "$(stat_field err records_in)" 10
}

@test "a closed manifest pipe: every record still published, nothing left temporary, a message, exit 2" {
	seq 20000 | awk '{printf "{\"k\":%d,\"i\":%d}\n",$1%100,$1}' > in
	set -o pipefail
	ts-partition -o out "${KP[@]}" --max-records 50 --stats in 2> err | head -n 1 > first && status=0 || status=$?
	set +o pipefail
	[ "$status" -eq 2 ] || fail "exit $status: $(cat err)"
	# every record is in a published file, once
	assert_equal "$(find out -type f ! -name '.*' -print0 | xargs -0 cat | wc -l)" 20000
	assert_equal "$(find out -type f ! -name '.*' -print0 | xargs -0 cat | jq -r .i | sort -n | uniq | wc -l)" 20000
	[ -z "$(temp_files out)" ]
	[ -z "$(find out -name '.ts-run-*')" ]
	assert_equal "$(wc -l < first)" 1
	grep -q "^ts-partition: the manifest on standard output is incomplete (Broken pipe): every file was still published under 'out'$" err ||
		fail "stderr: $(cat err)"
	[ "$(stat_field err records_out)" -eq 20000 ]
	[ "$(stat_field err files)" -eq 400 ]
	[ "$(stat_field err status)" -eq 2 ]
}

# --- file names -------------------------------------------------------------------

@test "a prefix that does not end in '/' is the start of the file name: no '/' put in" {
	echo '{"k":"a","t":"2024-05-01T10:20:30Z"}' > in
	run -0 tsp -o out --prefix 'dt=!{timestamp:yyyy}' --time .t in
	check_manifest man out
	[[ "$(jq -r .path man)" =~ ^dt=2024ts-partition-[0-9]{4}(-[0-9]{2}){5}-[0-9a-f-]{36}$ ]] || fail "$(cat man)"
	run -0 tsp -o out2 --prefix 'k=!{partitionKeyFromQuery:k}/part-' --key k=.k --no-default-time --compress gzip in
	check_manifest man out2
	[[ "$(jq -r .path man)" =~ ^k=a/part-ts-partition-[0-9-]{19}-[0-9a-f-]{36}\.gz$ ]] || fail "$(cat man)"
	jq -e '.partition == {"k":"a"}' man
	# the temporary file is in the same directory, named after the file
	mkfifo fifo
	ts-partition -o out3 --prefix 'x/p-' --no-default-time --no-fsync < fifo > man3 2> err 3>&- &
	pid=$!
	BG_PIDS=$pid
	exec 5<> fifo
	echo '{}' >&5
	wait_for 5 temps_ge out3 1
	[[ "$(temp_files out3)" =~ ^out3/x/\.p-ts-partition-[0-9-]{19}-[0-9a-f-]{36}\.[0-9a-f]{16}\.ts-tmp$ ]] ||
		fail "temp file $(temp_files out3)"
	[ -f "$(find out3 -maxdepth 1 -name '.ts-run-*.lock')" ]
	exec 5>&-
	wait_exit "$pid" 10
	[ "$bg_status" -eq 0 ]
}

@test "the time in file names is in --time-zone, as the service's custom time zone" {
	echo '{}' > in
	# +14:00 is always a different day or hour than UTC
	before=$(date -u -d '+14 hours' +%Y-%m-%d-%H)
	run -0 tsp -o out --prefix 'x/' --no-default-time --time-zone +14:00 in
	after=$(date -u -d '+14 hours' +%Y-%m-%d-%H)
	name=$(jq -r '.path | sub("^x/ts-partition-"; "")' man)
	[[ "${name:0:13}" == "$before" || "${name:0:13}" == "$after" ]] || fail "file name $name, want $before"
	if [ -f /usr/share/zoneinfo/Asia/Tokyo ]; then
		before=$(TZ=Asia/Tokyo date +%Y-%m-%d-%H)
		run -0 tsp -o out2 --prefix 'x/' --no-default-time --time-zone Asia/Tokyo in
		after=$(TZ=Asia/Tokyo date +%Y-%m-%d-%H)
		name=$(jq -r '.path | sub("^x/ts-partition-"; "")' man)
		[[ "${name:0:13}" == "$before" || "${name:0:13}" == "$after" ]] || fail "file name $name, want $before"
	fi
}

@test "--name longer than 150 bytes is a usage error" {
	echo '{"k":1}' > in
	run -2 --separate-stderr ts-partition -o out "${KP[@]}" --name "$(printf 'n%.0s' {1..151})" in
	[[ "$stderr" == *"--name: a file name part of at most 150 bytes"* ]] || fail "$stderr"
	run -0 tsp -o out "${KP[@]}" --name "$(printf 'n%.0s' {1..150})" in
	check_manifest man out
}

@test "a prefix whose last part makes the file name too long: a key_too_long error record, the run goes on" {
	long=$(printf 'a%.0s' {1..200})
	printf '{"k":"%s"}\n' "$long" b > in
	run -1 tsp -o out --prefix 'd/!{partitionKeyFromQuery:k}-' --key k=.k --no-default-time --errors errs in
	check_manifest man out
	[[ "$(jq -r .path man)" == d/b-ts-partition-* ]] || fail "$(cat man)"
	assert_error_records errs 1
	assert_error errs 0 '.error == "key_too_long" and .line == 1 and (.message | contains("longer than"))'
}

# --- record times: the unit -----------------------------------------------------------------

@test "--time-unit s|ms|auto: numbers (and digit strings) in the unit said; ISO strings the same" {
	cat > in <<-'EOF2'
		{"id":"a","t":1714557600}
		{"id":"b","t":1714557600123}
		{"id":"c","t":"1714557600"}
		{"id":"d","t":60000}
		{"id":"e","t":"2024-05-01T10:00:00Z"}
		{"id":"f","t":1.5}
		{"id":"g","t":100000000000000}
	EOF2
	prefix='id=!{partitionKeyFromQuery:id}/!{timestamp:yyyy-MM-dd HH.mm.ss.SSS}/'
	run -0 tsp -o out-auto --prefix "$prefix" --key id=.id --time .t in
	assert_equal "$(jq -r -s 'sort_by(.partition.id)[] | .first' man | paste -sd ' ')" \
		"2024-05-01T10:00:00.000Z 2024-05-01T10:00:00.123Z 2024-05-01T10:00:00.000Z 1970-01-01T16:40:00.000Z 2024-05-01T10:00:00.000Z 1970-01-01T00:00:01.500Z 5138-11-16T09:46:40.000Z"
	# CloudWatch Logs timestamps are milliseconds, even small ones
	run -0 tsp -o out-ms --prefix "$prefix" --key id=.id --time .t --time-unit ms in
	assert_equal "$(jq -r -s 'sort_by(.partition.id)[] | .first' man | paste -sd ' ')" \
		"1970-01-20T20:15:57.600Z 2024-05-01T10:00:00.123Z 1970-01-20T20:15:57.600Z 1970-01-01T00:01:00.000Z 2024-05-01T10:00:00.000Z 1970-01-01T00:00:00.001Z 5138-11-16T09:46:40.000Z"
	# seconds, even large ones: 10^14 seconds is past the years rendered
	run -1 tsp -o out-s --prefix "$prefix" --key id=.id --time .t --time-unit s --errors errs in
	assert_equal "$(jq -r -s 'sort_by(.partition.id)[] | "\(.partition.id) \(.first)"' man | paste -sd ' ')" \
		"a 2024-05-01T10:00:00.000Z b 56302-03-03T16:02:03.000Z c 2024-05-01T10:00:00.000Z d 1970-01-01T16:40:00.000Z e 2024-05-01T10:00:00.000Z f 1970-01-01T00:00:01.500Z"
	assert_error_records errs 1
	assert_error errs 0 '.error == "bad_time" and .line == 7'
	run -2 --separate-stderr ts-partition -o out-x --time .t --time-unit us in
	[[ "$stderr" == *"--time-unit: s, ms or auto, not 'us'"* ]] || fail "$stderr"
	[ ! -e out-x ]
}

@test "!{timestamp:yyyy-mm-dd}: a warning at the start that mm is minutes, once; MM is not warned about" {
	printf '%s\n' '{"t":"2024-05-01T10:20:30Z"}' '{"t":"2024-05-02T10:21:30Z"}' > in
	run -0 tsp -o out --prefix 'dt=!{timestamp:yyyy-mm-dd}/' --time .t in
	assert_equal "$(cat err)" "ts-partition: --prefix !{timestamp:yyyy-mm-dd}: mm is minutes: write MM for the month (as in yyyy-MM-dd)"
	# it still does what it was told
	assert_equal "$(jq -r .partition.dt man | sort | paste -sd ' ')" "2024-20-01 2024-21-02"
	run -0 tsp -o out2 --prefix 'dt=!{timestamp:yyyy-MM-dd}/h=!{timestamp:HH:mm}/' --time .t in
	[ ! -s err ]
	run -1 tsp -o out3 "${KP[@]}" --error-prefix 'e/!{timestamp:dd.mm.yyyy}/' --time .t in
	grep -q "^ts-partition: --error-prefix !{timestamp:dd.mm.yyyy}: mm is minutes" err || fail "$(cat err)"
}

@test "--max-bytes 0 and --max-records 0 are usage errors, as split -b 0 is" {
	echo '{"k":1}' > in
	for opt in "--max-bytes 0" "--max-bytes 0K" "--max-records 0"; do
		run -2 --separate-stderr ts-partition -o out "${KP[@]}" $opt in
		[ -z "$output" ]
		[[ "$stderr" == *"invalid ${opt% *} '"*"above 0"* ]] || fail "$opt: $stderr"
	done
	[ ! -e out ]
	# --max-seconds 0 means never
	run -0 tsp -o out "${KP[@]}" --max-seconds 0 --max-bytes 1 --max-records 1 in
	check_manifest man out
}

# --- partition values: lone surrogates -----------------------------------------------------

@test "lone surrogate keys do not collapse into U+FFFD's partition: three values, three partitions" {
	printf '%s\n' '{"k":"\ud800","i":1}' '{"k":"\udfff","i":2}' '{"k":"\ufffd","i":3}' > in
	printf '{"k":"\xef\xbf\xbd","i":4}\n' >> in
	printf '%s\n' '{"k":"\uD800","i":5}' '{"k":"\\ud800","i":6}' >> in
	run -0 tsp -o out "${KP[@]}" in
	[ ! -s err ]
	assert_equal "$(cd out && find . -mindepth 1 -maxdepth 1 -type d | sort | paste -sd ' ')" \
		"./k=%5Cud800 ./k=%ED%A0%80 ./k=%ED%BF%BF ./k=$(printf '\xef\xbf\xbd')"
	# the records as they came (jq would not read the lone surrogates)
	assert_equal "$(cat out/k=%ED%A0%80/*)" "$(sed -n '1p;5p' in)"
	assert_equal "$(cat out/k=%ED%BF%BF/*)" "$(sed -n 2p in)"
	assert_equal "$(cat out/k=$'\xef\xbf\xbd'/*)" "$(sed -n 3,4p in)"
	assert_equal "$(cat out/k=%5Cud800/*)" "$(sed -n 6p in)"
	# the manifest: the decoded value where it is Unicode, the path's text where not
	assert_equal "$(jq -r .partition.k man | sort | paste -sd ' ')" \
		"%ED%A0%80 %ED%BF%BF \\ud800 $(printf '\xef\xbf\xbd')"
}

# --- counts -------------------------------------------------------------------------

@test "--stats: bytes_out is the bytes of the files, manifest_bytes the manifest's" {
	seq 300 | awk '{printf "{\"k\":%d,\"i\":%d}\n",$1%3,$1}' > in
	for compress in none gzip; do
		rm -rf out
		run -0 tsp -o out "${KP[@]}" --max-records 40 --compress "$compress" --stats in
		check_manifest man out
		assert_equal "$(stat_field err bytes_out)" "$(find out -type f ! -name '.*' -printf '%s\n' | awk '{ s += $1 } END { print s }')"
		assert_equal "$(stat_field err bytes_out)" "$(jq -n '[inputs.bytes] | add' man)"
		assert_equal "$(stat_field err manifest_bytes)" "$(wc -c < man)"
	done
}

@test "--error-prefix: a record whose error prefix renders too long is counted once, in the error output" {
	printf '%s\n' '{"k":"a"}' '{"x":1}' > in
	# "processing-failed" and 240 more bytes: a path component of 257
	run -1 tsp -o out "${KP[@]}" --error-prefix "errors/!{firehose:error-output-type}$(printf 'e%.0s' {1..240})/" \
		--errors errs --stats in
	[ "$(stat_field err records_in)" -eq 2 ]
	[ "$(stat_field err records_out)" -eq 1 ]
	[ "$(stat_field err rejected)" -eq 1 ]
	assert_error_records errs 1
	assert_error errs 0 '.error == "missing_key" and .line == 2'
}

# enospc_balance AFTER ARGS...: with the disk full after AFTER bytes, exit 2,
# no temporary file left, and --stats adds up: records_in = records_out +
# rejected + dropped_unpublished, each rejected record in an error file or
# the error output.  Input: in2 (every tenth record has no key).
enospc_balance() {
	local after=$1
	shift
	rm -rf full man err errs
	run -2 env FAULTFS_MARK="$PWD/full/" FAULTFS_AFTER="$after" LD_PRELOAD="$FAULTFS" ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" \
		bash -c 'exec ts-partition "$@" > man 2> err' _ \
		-o full "${KP[@]}" --max-records 50 --stats --errors errs "$@" in2
	check_manifest man full
	[ -z "$(temp_files full)" ] || fail "$*/$after: temporary files left"
	local in_ out_ rej drop
	in_=$(stat_field err records_in) out_=$(stat_field err records_out)
	rej=$(stat_field err rejected) drop=$(stat_field err dropped_unpublished)
	# reading stops at the fatal error: what was read adds up
	[ "$in_" -gt 0 ] && [ "$in_" -lt 2000 ] || fail "$*/$after: records_in $in_"
	[ "$drop" != null ] || fail "$*/$after: no dropped_unpublished: $(cat err)"
	[ $((out_ + rej + drop)) -eq "$in_" ] ||
		fail "$*/$after: $in_ in, $out_ out, $rej rejected, $drop dropped"
	[ "$out_" -eq "$(jq -n '[inputs | select(.path | startswith("errors/") | not) | .records] | add // 0' man)" ]
	[ "$rej" -eq $(($(wc -l < errs) + $(jq -n '[inputs | select(.path | startswith("errors/")) | .records] | add // 0' man))) ] ||
		fail "$*/$after: $rej rejected, $(wc -l < errs) error records"
}

# every tenth record has no key (rejected); pads that gzip cannot shrink much
make_in2() {
	awk 'BEGIN { srand(7); for (i = 1; i <= 2000; i++) { pad = "";
		for (j = 0; j < 8; j++) pad = pad sprintf("%08x", int(rand() * 4294967296));
		if (i % 10 == 0) printf "{\"x\":%d}\n", i;
		else printf "{\"k\":%d,\"i\":%d,\"pad\":\"%s\"}\n", i % 3, i, pad } }' > in2
}

# bats test_tags=slow
@test "ENOSPC: --stats still adds up, records in removed temporary files counted as dropped_unpublished" {
	[ -f "$FAULTFS" ] || fail "the shim was not built"
	make_in2
	enospc_balance 5000
	enospc_balance 50000 --error-prefix errors/
}

@test "ENOSPC while an error file rolls: the record that could not go there is in the error output, counted once as rejected" {
	[ -f "$FAULTFS" ] || fail "the shim was not built"
	printf '%s\n' '{"x":1}' '{"x":2}' > in
	run -2 env FAULTFS_MARK="$PWD/full/" FAULTFS_AFTER=0 LD_PRELOAD="$FAULTFS" ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" \
		bash -c 'exec ts-partition "$@" > man 2> err' _ \
		-o full "${KP[@]}" --error-prefix errors/ --max-records 1 --stats --errors errs in
	[ ! -s man ]
	[ -z "$(temp_files full)" ]
	assert_error_records errs 1
	assert_error errs 0 '.error == "missing_key" and .line == 1 and .raw == "{\"x\":1}"'
	[ "$(stat_field err records_in)" -eq 1 ]
	[ "$(stat_field err rejected)" -eq 1 ]
	[ "$(stat_field err dropped_unpublished)" = null ]
}

# bats test_tags=slow
@test "ENOSPC at several points, plain and gzip, with and without --error-prefix: --stats adds up" {
	[ -f "$FAULTFS" ] || fail "the shim was not built"
	make_in2
	for args in "" "--compress gzip" "--error-prefix errors/" "--error-prefix errors/ --compress gzip"; do
		for after in 0 5000 50000; do
			# shellcheck disable=SC2086
			enospc_balance "$after" $args
		done
	done
}
