#!/usr/bin/env bats
# Counts add up: every program, in every mode, over a corpus of damaged inputs
# (scripts/damage: bad JSON, CRLF, NUL, invalid UTF-8, records over the size
# and depth limits, corrupt, truncated and garbage-ended gzip/xz/zstd/bzip2/lz4,
# a cut-off .tgz, decompression bombs, damaged Kinesis fields, bad CloudWatch
# Logs events, CloudTrail files whose Records is empty or not an array).
#
# Each run is checked against ts-toolkit(7), "Error records" and "STATISTICS":
# the --stats equation of its mode; rejected = the error records written, each
# well-formed, with a documented code, a message starting "file:", and raw
# bytes cut from the input (or from what it decompresses to); records_out =
# the lines written (ts-partition: the lines of the published files, and the
# manifest's counts); bytes_out = the bytes written; exit status 1 exactly when
# something was rejected, never a crash or a sanitizer report; input with data
# in it never vanishes; no inner fragment of a rejected value comes out; and
# the intact records of a damaged stream come out (at least what gzip -dc,
# xz -dc, ..., tar xzO recover).
#
# The runs are cases as data (MODES x the corpus); all of them run first, then
# one jq pass turns their JSON into lines and one perl script (perl-base, which
# every Debian system has) checks them all, so a failure lists every broken
# case with a command that reproduces it.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	export CORPUS="$BATS_FILE_TMPDIR/corpus"
	"$BATS_TEST_DIRNAME/../scripts/damage" "$CORPUS"
}

setup() {
	for p in ts-decompress ts-extract ts-partition; do
		[ -x "$TS_BIN/$p" ] || fail "$TS_BIN/$p is missing: run make first (or set TS_BIN)"
	done
	cd "$BATS_TEST_TMPDIR" || fail "cannot cd to $BATS_TEST_TMPDIR"
	RUNS="$BATS_TEST_TMPDIR/runs"
	mkdir -p "$RUNS"
}

# program | mode (how failures name it) | inputs | options
# Inputs: the corpus files each run reads alone ("*": all of them); a mode that
# differs from the one above it only in how it writes reads alone only the
# inputs it has records in, and every input in the test that reads them all
# at once (each program start costs ~20 ms of CPU here, most of it loading
# libraries).  @OUT in the options is the run's own output directory.
MODES='
ts-decompress | plain                     | *         |
ts-decompress | --text                    | *         | --text
ts-decompress | --raw                     | *         | --raw
ts-decompress | --field data              | *         | --field data
ts-decompress | --field data --keep       | kinesis-* | --field data --keep
ts-extract    | plain                     | *         |
ts-extract    | --cwl                     | *         | --cwl
ts-extract    | --cwl --meta              | cwl-*     | --cwl --meta
ts-extract    | --cwl --raw               | cwl-*     | --cwl --raw
ts-extract    | --records .Records        | *         | --records .Records
ts-extract    | --records .Records --fields eventName | c[tl]* | --records .Records --fields eventName
ts-partition  | --key/--time              | *         | -o @OUT --prefix k=!{partitionKeyFromQuery:k}/dt=!{timestamp:yyyy-MM-dd}/ --key k=.k --time .t --max-records 100 --no-fsync
ts-partition  | --query                   | *         | -o @OUT --prefix k=!{partitionKeyFromQuery:k}/y=!{partitionKeyFromQuery:y}/ --query {k:.k,y:(.k|tostring|length)} --time .t --max-records 100 --no-fsync
ts-partition  | --error-prefix            | *         | -o @OUT --prefix k=!{partitionKeyFromQuery:k}/ --key k=.k --time .t --no-default-time --error-prefix errors/!{firehose:error-output-type}/ --max-records 100 --no-fsync
'

# input_opts PROGRAM INPUT: sets IOPTS, the limits a corpus file is made for.
input_opts() {
	IOPTS=()
	case $2 in
	too-large.ndjson) IOPTS=(--max-record 1k) ;;
	deep.json) IOPTS=(--max-depth 16) ;;
	bomb-size.gz) [ "$1" != ts-decompress ] || IOPTS=(--max-size 1M) ;;
	bomb-ratio.gz) [ "$1" != ts-decompress ] || IOPTS=(--max-ratio 100) ;;
	esac
}

# What must come out of a damaged stream in the modes that write one record
# per value (all generated records have a key and a time, so ts-partition
# publishes them too): records_out and rejected, exact or at least (>=N);
# "ref" is what the reference tool recovers (scripts/damage, ref/index).
# "values" = ts-decompress plain, ts-extract plain and both ts-partition modes.
INTACT='
members-badblock.gz   values                   180    1
members-flipped.gz    values                   180    1
members-truncated.gz  values                   >=ref  >=1
truncated.gz          values                   >=ref  >=1
garbage-after.gz      values                   ref    1
garbage-after.xz      values                   ref    1
garbage-after.zst     values                   ref    1
garbage-after.bz2     values                   ref    1
garbage-after.lz4     values                   ref    1
truncated.xz          values                   >=ref  >=1
truncated.zst         values                   >=ref  >=1
truncated.bz2         values                   >=ref  >=1
truncated.lz4         values                   >=ref  >=1
cut.tgz               values                   >=ref  >=1
zeros.xz              ts-decompress:plain      >=0    >=1
zeros.zst             ts-decompress:plain      >=0    >=1
zeros.bz2             ts-decompress:plain      >=0    >=1
bomb-size.gz          ts-decompress:plain      200    1
bomb-ratio.gz         ts-decompress:plain      200    1
bomb.bz2              values                   200    1
cwl-members.gz        ts-decompress:plain      6      1
cwl-members.gz        ts-extract:plain         6      1
'

# The malformed values of some inputs, in the same modes: input | code | the
# raw of each such error record, in order (\r is a carriage return).  A value
# followed by junk on its line is a record and the junk an error; a CRLF line
# keeps its \r.
RAWS='
trailing-junk.ndjson | bad_json | junk | ] | x
crlf.ndjson          | bad_json | bad\r | {"k":"a",\r
'

# inputs: the corpus files (not what is under ref/), in INPUTS.
inputs() {
	local f
	INPUTS=()
	for f in "$CORPUS"/*; do
		[ ! -f "$f" ] || INPUTS+=("${f##*/}")
	done
}

# run_modes PROGRAM [all]: every mode of PROGRAM over every input (or, with
# "all", once over all inputs together, without per-input limits).  Each run
# N leaves runs/N.out (stdout), N.err (stderr), N.errs (--errors) and N.o (the
# output directory), and a line in runs/cases: N, program, mode, exit status,
# inputs, options.
run_modes() {
	local prog=$1 together=${2:-} p mode only opts id rc input
	local -a args
	inputs
	id=1
	[ ! -f "$RUNS/cases" ] || id=$(($(wc -l < "$RUNS/cases") + 1))
	cd "$CORPUS" || return 1
	while IFS='|' read -r p mode only opts; do
		p=${p// /}
		only=${only// /}
		[ "$p" = "$prog" ] || continue
		mode=${mode#"${mode%%[! ]*}"}
		mode=${mode%"${mode##*[! ]}"}
		for input in "${INPUTS[@]}"; do
			# shellcheck disable=SC2053 # $only is a pattern
			[ -n "$together" ] || [[ $input == $only ]] || continue
			[ -z "$together" ] || input="${INPUTS[*]}"
			set -f
			# shellcheck disable=SC2206 # options are words without quotes
			args=(${opts//@OUT/$RUNS/$id.o})
			set +f
			IOPTS=()
			[ -n "$together" ] || input_opts "$prog" "$input"
			# shellcheck disable=SC2086 # several inputs together
			"$prog" "${args[@]}" "${IOPTS[@]}" --errors "$RUNS/$id.errs" --stats $input \
				> "$RUNS/$id.out" 2> "$RUNS/$id.err" && rc=0 || rc=$?
			printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$prog" "$mode" "$rc" "$input" \
				"${args[*]//$RUNS\//} ${IOPTS[*]}" >> "$RUNS/cases"
			id=$((id + 1))
			[ -z "$together" ] || break
		done
	done <<< "$MODES"
	cd "$BATS_TEST_TMPDIR" || return 1
}

# to_lines FILE...: the JSON the runs wrote, as tab-separated lines for the
# checker (N = the run, from the file name):
#   S N key=value...                        the --stats line (N.err)
#   E N problems code program message file raw bad line   an error record (N.errs)
#   P N problems code - message - raw - -   a record under --error-prefix
#   M N problems path records bytes         a manifest line (ts-partition's N.out)
# problems: "ok" or what is wrong, ";"-separated; message and file as JSON;
# raw: "b:" and the base64 of its bytes (raw, raw_base64 or rawData), or "-";
# bad: the line when it is not a JSON object.
to_lines() {
	jq -R -r '
	def run: input_filename | capture("/(?<n>[0-9]+)\\.(err|errs|out|o/)").n;
	def str(f): if (f | type) == "string" then empty else "\(f | tostring | .[0:40]) is not a string" end;
	(try (fromjson | [.]) catch []) as $p
	| ($p[0] | if type == "object" then . else {} end) as $o
	| ($p | if . == [] then ["not JSON"] elif (.[0] | type) != "object" then ["not an object"] else [] end) as $bad
	| input_filename as $f
	| if ($f | endswith(".err")) then
		select($o | has("records_in"))
		| ["S", run] + [$o | to_entries[] | "\(.key)=\(.value | tostring)"]
	elif ($f | endswith(".errs")) then
		($bad + [str($o.error), str($o.message), str($o.program),
			(if ($o.message | type) == "string" and ($o.message | length) == 0 then "empty message" else empty end),
			(if $o | has("raw") then str($o.raw) else empty end),
			(if $o | has("raw_base64") then str($o.raw_base64) else empty end)]) as $pr
		| ["E", run, (if $pr == [] then "ok" else $pr | join(";") end),
		   ($o.error // "-" | tostring), ($o.program // "-" | tostring),
		   ($o.message // "" | tostring | @json), ($o.file // "" | tostring | @json),
		   (if ($o.raw | type) == "string" then "b:" + ($o.raw | @base64)
		    elif ($o.raw_base64 | type) == "string" then "b:" + $o.raw_base64 else "-" end),
		   (if $bad != [] then "not JSON: " + (.[0:200] | @json) else "" end),
		   ($o.line // "-" | tostring)]
	elif ($f | test("\\.o/errors/")) then
		($bad + (if ($o | keys_unsorted) != ["attemptsMade", "arrivalTimestamp", "errorCode", "errorMessage", "rawData"]
			then ["keys are \($o | keys_unsorted | join(","))"] else [] end)
		  + [str($o.errorCode), str($o.errorMessage), str($o.rawData)]) as $pr
		| ["P", run, (if $pr == [] then "ok" else $pr | join(";") end),
		   ($o.errorCode // "-" | tostring), "-", ($o.errorMessage // "" | tostring | @json), "\"\"",
		   (if ($o.rawData | type) == "string" then "b:" + $o.rawData else "-" end), "", "-"]
	else
		($bad + [str($o.path), (if ($o.records | type) != "number" then "records is not a number" else empty end)]) as $pr
		| ["M", run, (if $pr == [] then "ok" else $pr | join(";") end),
		   ($o.path // "" | tostring), ($o.records // -1 | tostring), ($o.bytes // -1 | tostring)]
	end
	| join("\t")' "$@"
}

# table TEXT: TEXT without blank lines.
table() {
	local line
	while read -r line; do
		[ -z "$line" ] || printf '%s\n' "$line"
	done <<< "$1"
}

# times_say PHASE: with BALANCE_TIMES=1 in the environment, say how long the
# test has taken so far (bats --verbose-run, or the TAP stream on fd 3).
times_say() {
	[ -z "${BALANCE_TIMES:-}" ] || echo "# $BATS_TEST_NUMBER: $1 done after ${SECONDS}s" >&3
}

# check_runs: check every run in runs/cases; fail listing each broken case.
check_runs() {
	local -a files=()
	local f id p
	shopt -s nullglob globstar
	for f in "$RUNS"/*.err "$RUNS"/*.errs "$RUNS"/*.o/errors/**; do
		[ -f "$f" ] && files+=("$f")
	done
	shopt -u nullglob globstar
	# ts-partition's standard output is its manifest
	while IFS=$'\t' read -r id p _; do
		[ "$p" != ts-partition ] || files+=("$RUNS/$id.out")
	done < "$RUNS/cases"
	times_say runs
	to_lines "${files[@]}" > "$RUNS/facts" || fail "jq could not read what the runs wrote"
	times_say jq
	table "$INTACT" > "$RUNS/intact"
	table "$RAWS" > "$RUNS/raws"
	checker > "$RUNS/checker.pl"
	perl "$RUNS/checker.pl" "$CORPUS" "$RUNS" "$BATS_TEST_DIRNAME/../man/ts-toolkit.7" \
		> "$RUNS/failures" 2>&1 || fail "the checker failed: $(cat "$RUNS/failures")"
	times_say checker
	if [ -s "$RUNS/failures" ]; then
		fail "$(grep -c '^case ' "$RUNS/failures") of $(wc -l < "$RUNS/cases") runs break the contract.
Each command runs in the directory scripts/damage DIR writes.
$(cat "$RUNS/failures")"
	fi
}

# checker: the perl script check_runs runs (perl-base: no modules but strict
# and warnings).  Arguments: the corpus, the runs directory, ts-toolkit.7.
checker() {
	cat <<-'PERL'
	use strict;
	use warnings;
	my ($corpus, $runs, $manpage) = @ARGV;

	sub slurp {
		my ($f) = @_;
		open(my $h, '<:raw', $f) or return undef;
		local $/;
		my $d = <$h>;
		return defined $d ? $d : '';
	}

	sub unbase64 {
		my ($s) = @_;
		$s =~ tr{A-Za-z0-9+/}{}cd;
		return '' if $s eq '';           # (rawData "" of a record with no bytes)
		$s =~ tr{A-Za-z0-9+/}{ -_};    # uuencode's alphabet, then unpack "u"
		my $uu = '';
		while (length $s) {
			my $chunk = substr($s, 0, 60, '');
			$uu .= chr(32 + int(length($chunk) * 3 / 4)) . $chunk . "\n";
		}
		return unpack('u', $uu);
	}

	# The error codes ts-toolkit(7) documents: ".TP" then ".B code" under ERRORS.
	my (%codes, $in, $prev);
	for (split /\n/, slurp($manpage)) {
		$in = /^\.SH ERRORS/ ? 1 : 0 if /^\.SH /;
		$codes{$1} = 1 if $in && $prev eq '.TP' && /^\.B (\w+)\s*$/;
		$prev = $_;
	}

	my (@cases, %stats, %errs, %pref, %man);
	for (split /\n/, slurp("$runs/cases")) {
		my ($id, $prog, $mode, $rc, $inputs, $opts) = split /\t/;
		push @cases, { id => $id, prog => $prog, mode => $mode, rc => $rc,
			inputs => [split / /, $inputs], opts => $opts };
	}
	for (split /\n/, slurp("$runs/facts")) {
		my ($kind, $id, @f) = split /\t/, $_, -1;
		if ($kind eq 'S') { $stats{$id} = { map { split /=/, $_, 2 } @f } }
		elsif ($kind eq 'E') { push @{$errs{$id}}, [@f] }
		elsif ($kind eq 'P') { push @{$pref{$id}}, [@f] }
		elsif ($kind eq 'M') { push @{$man{$id}}, [@f] }
	}
	my @intact = map { [split ' '] } split /\n/, slurp("$runs/intact");
	my @rawtab = map { [map { s/\\r/\r/gr } split / *\| */] } split /\n/, slurp("$runs/raws");

	# ref/index (scripts/damage): compressed input, what it was made from, the
	# complete lines a reference tool recovers from it
	my %ref;
	for (split /\n/, slurp("$corpus/ref/index") // '') {
		my ($name, $plain, $lines) = split ' ';
		$ref{$name} = [$plain, $lines eq '-' ? undef : $lines];
	}
	my %input;    # name => [its bytes, what it was made from or undef, reference count]
	sub input {
		my ($name) = @_;
		my ($plain, $lines) = @{$ref{$name} // []};
		$input{$name} //= [slurp("$corpus/$name"), defined $plain ? slurp("$corpus/$plain") : undef, $lines];
		return @{$input{$name}};
	}
	sub compressed { my ($name) = @_; return exists $ref{$name} }

	# every regular file under DIR, recursively
	sub files_under {
		my ($dir) = @_;
		opendir(my $d, $dir) or return ();
		my @all;
		for my $e (sort grep { $_ ne '.' && $_ ne '..' } readdir $d) {
			my $p = "$dir/$e";
			if (-d $p && !-l $p) { push @all, files_under($p) } else { push @all, $p }
		}
		return @all;
	}

	sub nlines { my ($s) = @_; return ($s =~ tr/\n//) }

	# whether BYTES occur in INPUT's bytes or what it was made from.  With
	# $at_eol, only an occurrence followed by a newline or the end of the data
	# counts; with $line, only one that starts on that line.  Error records
	# come in input order, so the search starts where the last one was found.
	my (%from, %starts);
	sub occurs {
		my ($bytes, $at_eol, $line, $name) = @_;
		my @hay = input($name);
		my $ok = sub {
			my ($h, $i) = @_;
			my $end = $i + length $bytes;
			return !$at_eol || $end == length($h) || substr($h, $end, 1) eq "\n";
		};
		if (defined $line) {
			for my $k (0, 1) {
				my $h = $hay[$k] // next;
				$starts{"$name/$k"} //= do { my @s = (0); push @s, pos($h) while $h =~ /\n/g; \@s };
				my $s = $starts{"$name/$k"};
				next if $line < 1 || $line > @$s;
				my ($i, $stop) = ($s->[$line - 1] - 1, $line < @$s ? $s->[$line] : length($h) + 1);
				while (($i = index($h, $bytes, $i + 1)) >= 0 && $i < $stop) {
					return 1 if $ok->($h, $i);
				}
			}
			return 0;
		}
		for my $k (0, 1) {
			my $h = $hay[$k];
			next if !defined $h || ($at_eol && $k);
			for my $start ($from{"$name/$k"} // 0, 0) {
				my $i = $start - 1;
				while (($i = index($h, $bytes, $i + 1)) >= 0) {
					next if !$ok->($h, $i);
					$from{"$name/$k"} = $i;
					return 1;
				}
				last if $start == 0;
			}
		}
		return 0;
	}

	sub short {
		my ($s) = @_;
		$s = substr($s, 0, 120) . '...' if length $s > 120;
		$s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
		return $s;
	}

	my $broken = 0;
	for my $c (@cases) {
		my ($id, $prog, $mode, $rc) = @$c{qw(id prog mode rc)};
		my @inputs = @{$c->{inputs}};
		my $single = @inputs == 1 ? $inputs[0] : undef;
		my @f;
		my $s = $stats{$id};
		my $n = sub { my $v = $s->{$_[0]}; return defined $v && $v =~ /^-?[0-9]+$/ ? $v : undef };
		my $out = slurp("$runs/$id.out") // '';
		my $err = slurp("$runs/$id.err") // '';
		my $raw_out = $prog eq 'ts-decompress' && $mode eq '--raw';
		my $values = ($prog eq 'ts-decompress' && $mode eq 'plain') || ($prog eq 'ts-extract' && $mode eq 'plain')
			|| $prog eq 'ts-partition';

		if ($rc >= 128 || $rc == 98 || $rc == 99) {
			push @f, "crashed: exit status $rc; stderr ends: " . short(substr($err, -300));
		}
		if (!$s) {
			push @f, 'no --stats line on stderr' . ($rc == 2 ? '; exit 2: ' . short((split /\n/, $err)[0] // '') : '');
		} else {
			my @need = qw(records_in records_out rejected bytes_out);
			push @need, qw(payloads events) if $mode =~ /^--cwl/;
			push @need, qw(arrays elements) if $mode =~ /^--records/;
			push @need, qw(decoded dropped_empty) if $mode =~ /^--field/;
			my @missing = grep { !defined $n->($_) } @need;
			push @f, 'no counter ' . join(', ', @missing) . ' on the --stats line' if @missing;
			my ($in, $o, $rej) = map { $n->($_) // 0 } qw(records_in records_out rejected);
			my $dropped = 0;
			$dropped += $n->($_) // 0 for grep { /^dropped/ } keys %$s;
			my $line = join(' ', map { "$_=$s->{$_}" } grep { $_ ne 'program' && $_ ne 'elapsed_s' } sort keys %$s);
			my $eq = sub {
				my ($what, $l, $r) = @_;
				push @f, "$what: $l != $r ($line)" if $l != $r;
			};
			my ($ev, $pl, $el, $ar, $de, $dem) = map { $n->($_) // 0 } qw(events payloads elements arrays decoded dropped_empty);
			if (!@missing && $mode =~ /^--cwl/) {
				$eq->('records_in + events = payloads + records_out + rejected', $in + $ev, $pl + $o + $rej);
			} elsif (!@missing && $mode =~ /^--records/) {
				$eq->('records_in + elements = arrays + records_out + rejected', $in + $el, $ar + $o + $rej);
			} elsif (!@missing && $mode =~ /^--field/) {
				$eq->('records_in = decoded + rejected + dropped_empty', $in, $de + $rej + $dem);
			}
			if ($mode !~ /^--(cwl|records)/ && $mode ne '--field data') {
				$eq->('records_in = records_out + rejected + dropped*', $in, $o + $rej + $dropped);
			}

			# rejected = the error records written
			my @e = @{$errs{$id} // []};
			my @p = @{$pref{$id} // []};
			my $nerr = nlines(slurp("$runs/$id.errs") // '');
			push @f, "rejected $rej but $nerr error records and " . scalar(@p) . ' under --error-prefix'
				if $rej != $nerr + @p;

			# exit status: 1 exactly when something was rejected
			my $want = $rej > 0 ? 1 : 0;
			push @f, "exit status $rc, expected $want (rejected $rej)"
				. ($rc == 2 ? '; stderr: ' . short(join(' | ', grep { !/"records_in"/ } split /\n/, $err)) : '')
				if $rc != $want && $rc < 128 && $rc != 98 && $rc != 99;

			# what was written
			if ($prog eq 'ts-partition') {
				my (@data, @efiles, @tmp);
				for my $p (files_under("$runs/$id.o")) {
					my $rel = substr($p, length("$runs/$id.o/"));
					if ($rel =~ m{(^|/)\.[^/]*$} || $rel =~ /\.ts-tmp$/) { push @tmp, $rel }
					elsif ($rel =~ m{^errors/}) { push @efiles, $rel }
					else { push @data, $rel }
				}
				push @f, 'temporary files left: ' . join(' ', @tmp) if @tmp;
				my ($lines, $bytes, $leak) = (0, 0, 0);
				for my $rel (@data, @efiles) {
					my $d = slurp("$runs/$id.o/$rel");
					$bytes += length $d;
					next if $rel =~ m{^errors/};
					$lines += nlines($d);
					$leak ||= index($d, 'LEAKED-FRAGMENT') >= 0;
				}
				push @f, "records_out $o but the published files hold $lines lines" if $o != $lines;
				push @f, "bytes_out $s->{bytes_out} but the published files hold $bytes bytes"
					if defined $n->('bytes_out') && $n->('bytes_out') != $bytes;
				push @f, "manifest_bytes $s->{manifest_bytes} but the manifest has " . length($out) . ' bytes'
					if defined $n->('manifest_bytes') && $n->('manifest_bytes') != length $out;
				my %listed;
				my ($mdata, $merr) = (0, 0);
				for my $m (@{$man{$id} // []}) {
					my ($pr, $path, $recs, $mbytes) = @$m;
					push @f, "manifest line: $pr" if $pr ne 'ok';
					$listed{$path} = 1;
					if ($path =~ m{^errors/}) { $merr += $recs } else { $mdata += $recs }
					my $d = slurp("$runs/$id.o/$path");
					if (!defined $d) { push @f, "manifest names $path, which does not exist"; next }
					push @f, "manifest says $path holds $recs records, it has " . nlines($d) if nlines($d) != $recs;
				}
				push @f, "the manifest counts $mdata records in data files, records_out is $o" if $mdata != $o;
				push @f, "the manifest counts $merr records under --error-prefix, " . scalar(@p) . ' are there'
					if $merr != @p;
				push @f, 'published but not in the manifest: ' . join(' ', grep { !$listed{$_} } @data, @efiles)
					if grep { !$listed{$_} } @data, @efiles;
				push @f, 'an inner fragment of a rejected value was published as a record' if $single && $leak;
			} else {
				my $lines = nlines($out);
				push @f, "bytes_out $s->{bytes_out} but " . length($out) . ' bytes were written'
					if defined $n->('bytes_out') && $n->('bytes_out') != length $out;
				if ($raw_out) {
					push @f, "records_out $o with --raw (only damaged stretches count)" if $o != 0;
				} elsif ($mode eq '--cwl --raw') {
					push @f, "records_out $o but only $lines lines were written" if $lines < $o;
				} else {
					push @f, "records_out $o but $lines lines were written" if $lines != $o;
					push @f, 'the output does not end in a newline' if length($out) && substr($out, -1) ne "\n";
				}
				push @f, 'an inner fragment of a rejected value came out as a record'
					if $single && !$raw_out && $mode ne '--text' && index($out, 'LEAKED-FRAGMENT') >= 0;
			}

			# input with data in it never vanishes
			for my $name (@inputs) {
				my ($bytes, $plain) = input($name);
				my $has = length($bytes) && (compressed($name) || $bytes =~ /[^ \t\r\n]/);
				if ($single && $has) {
					if ($raw_out) {
						push @f, 'nothing written and nothing rejected' if !length($out) && !$rej;
					} elsif (!$in) {
						push @f, "records_in 0 for an input of " . length($bytes) . ' bytes';
					}
				}
			}

			# the intact records of a damaged stream come out
			if ($single) {
				for my $t (grep { $_->[0] eq $single } @intact) {
					my (undef, $which, $wout, $wrej) = @$t;
					next unless $which eq 'values' ? $values : $which eq "$prog:$mode";
					my (undef, undef, $ref) = input($single);
					for ([records_out => $wout, $o], [rejected => $wrej, $rej]) {
						my ($name, $w, $got) = @$_;
						(my $num = $w) =~ s/^>=//;
						$num = $ref if $num eq 'ref';
						my $ok = $w =~ /^>=/ ? $got >= $num : $got == $num;
						push @f, "$name $got, expected $w" . ($w =~ /ref/ ? " ($num)" : '') if !$ok;
					}
				}
			}
		}

		# each error record
		my $i = 0;
		my %raws;    # code => the raw bytes of its records, in order
		my @records = ((map { my $x = $_; ['E', @$x] } @{$errs{$id} // []}),
			(map { my $x = $_; ['P', @$x] } @{$pref{$id} // []}));
		for my $r (@records) {
			my ($kind, $pr, $code, $program, $msg, $file, $raw, $bad, $line) = @$r;
			$i++;
			my $what = ($kind eq 'P' ? 'error-prefix record ' : 'error record ') . $i . " ($code)";
			if ($pr ne 'ok') { push @f, "$what: $pr" . ($bad ? " $bad" : ''); next }
			push @f, "$what: code not in ts-toolkit(7) ERRORS" if !$codes{$code};
			push @f, "$what: program is $program" if $kind eq 'E' && $program ne $prog;
			$file =~ s/^"(.*)"$/$1/;
			# an archive's entry is named INPUT:ENTRY
			my ($src) = grep { $file eq $_ || index($file, "$_:") == 0 } @inputs;
			push @f, "$what: file \"$file\" is not an input of the run" if $kind eq 'E' && !defined $src;
			$src //= $single // '';
			next if $src eq '';
			my $named = $file ne '' ? $file : $src;
			push @f, "$what: message does not start with \"$named:\": " . short($msg) if index($msg, "\"$named:") != 0;
			if ($raw eq '-') {
				push @f, "$what: no raw bytes" if $code ne 'corrupt_input' && $code ne 'decompression_bomb';
				next;
			}
			my $bytes = unbase64(substr($raw, 2));
			next if $bytes eq '' && ($code eq 'corrupt_input' || $code eq 'decompression_bomb');
			push @{$raws{$code}}, $bytes;
			# a malformed line is kept with the rest of its line, exactly
			my $eol = !compressed($src) && ($code eq 'bad_json' || $code eq 'invalid_utf8');
			# where the record starts: .line, or the line in the message
			$line = $1 if $line eq '-' && $msg =~ /^"\Q$named\E:(\d+):/;
			# (in a compressed stream damaged only at its end, lines still match
			# what it was made from)
			$line = undef if $line !~ /^\d+$/ || $file ne $src
				|| (compressed($src) && $src !~ /^(truncated|garbage-after|members-truncated|bomb)/)
				|| $code =~ /^(bad_log_event|not_an_object|corrupt_input|decompression_bomb)$/;
			if (!occurs($bytes, 0, undef, $src)) {
				push @f, "$what: raw is not bytes of the input: " . short($bytes);
			} elsif ($eol && !occurs($bytes, 1, undef, $src)) {
				push @f, "$what: raw is not the rest of a line of the input: " . short($bytes);
			} elsif (defined $line && !occurs($bytes, $eol, $line, $src)) {
				push @f, "$what: raw does not start on the line it names: line $line, raw " . short($bytes);
			}
		}

		# the exact raws of the malformed values of some inputs
		if ($single && $values) {
			for my $t (grep { $_->[0] eq $single } @rawtab) {
				my (undef, $code, @want) = @$t;
				my $got = join(' | ', map { short($_) } @{$raws{$code} // []});
				my $exp = join(' | ', map { short($_) } @want);
				push @f, "$code raws are [$got], expected [$exp]" if $got ne $exp;
			}
		}

		next unless @f;
		$broken++;
		my $cmd = "$prog $c->{opts} --errors e --stats " . join(' ', @inputs);
		$cmd =~ s/  +/ /g;
		print "case $prog $mode < " . ($single // 'all inputs') . ": $cmd\n";
		# one line for each kind of failure, with how many records share it
		my (%seen, @kinds);
		for (@f) {
			(my $kind = $_) =~ s/^(error(-prefix)? record) \d+ \(([^)]*)\): ([^:]*).*/$1 ($3): $4/s;
			push @kinds, $kind if !$seen{$kind}++ && ($seen{"$kind\0text"} = $_);
		}
		for (@kinds) {
			print "    $seen{\"$_\0text\"}" . ($seen{$_} > 1 ? " (and " . ($seen{$_} - 1) . " more like it)" : '') . "\n";
		}
	}
	PERL
}

# bats test_tags=slow
@test "ts-decompress (plain, --text, --raw, --field data, --field data --keep): the counts add up over every damaged input" {
	run_modes ts-decompress
	check_runs
}

# bats test_tags=slow
@test "ts-extract (plain, --cwl, --cwl --meta, --cwl --raw, --records .Records, with --fields): the counts add up over every damaged input" {
	run_modes ts-extract
	check_runs
}

# bats test_tags=slow
@test "ts-partition (--key/--time, --error-prefix): the counts add up over every damaged input, in the files and in the manifest" {
	run_modes ts-partition
	check_runs
}

@test "every program, every mode, all damaged inputs in one run: the counts add up" {
	run_modes ts-decompress all
	run_modes ts-extract all
	run_modes ts-partition all
	check_runs
}
