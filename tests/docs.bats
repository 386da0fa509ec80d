#!/usr/bin/env bats
# Docs cannot drift from the programs: every option --help lists is in the
# man page and every option in the man page's OPTIONS is in --help (as git's
# t0450 and curl's test1139 do), and the README's examples run.

bats_require_minimum_version 1.5.0

setup() {
	ROOT="$BATS_TEST_DIRNAME/.."
	BIN="${TS_BIN:-$ROOT/bin}"
	PATH="$BIN:$PATH"
	export LC_ALL=C
}

help_options() { "$BIN/$1" --help | grep -oE '^ +(-[a-zA-Z], )?--[a-z][a-z-]*' | grep -oE -- '--[a-z-]+' | sort -u; }
man_options() { sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$ROOT/man/$1.1" | grep -oE '\\-\\-[a-z][a-z\\-]*' | sed 's/\\-/-/g' | sort -u; }

@test "every program has a man page" {
	for p in "$BIN"/ts-*; do
		[ -f "$ROOT/man/$(basename "$p").1" ] || { echo "no man page for $p"; return 1; }
	done
	[ -f "$ROOT/man/ts-toolkit.7" ]
}

@test "--help and the man page list the same options" {
	for p in "$BIN"/ts-*; do
		p=$(basename "$p")
		run -0 diff <(help_options "$p") <(man_options "$p")
	done
}

@test "--help and --version exit 0 and name the program" {
	for p in "$BIN"/ts-*; do
		run -0 "$p" --help
		[[ "$output" == "Usage: $(basename "$p") "* ]]
		run -0 "$p" --version
		[[ "$output" == "$(basename "$p") (ts toolkit) "* ]]
	done
}

@test "an unknown option is a usage error, exit 2" {
	for p in "$BIN"/ts-*; do
		run -2 --separate-stderr "$p" --no-such-option
		[[ "$stderr" == *"unknown option '--no-such-option'"* ]]
	done
}

@test "the README's examples run" {
	cd "$ROOT"
	# Each example is a line "    $ CMD" in README.md, run from the top.
	grep -E '^    \$ ' README.md | sed 's/^    \$ //' > "$BATS_TEST_TMPDIR/examples"
	[ -s "$BATS_TEST_TMPDIR/examples" ]
	while IFS= read -r cmd; do
		run bash -o pipefail -c "$cmd"
		[ "$status" -eq 0 ] || { echo "README example failed ($status): $cmd"; echo "$output"; return 1; }
	done < "$BATS_TEST_TMPDIR/examples"
}

# man_examples PAGE: each .EX/.EE block of the page's EXAMPLES section as one
# shell command (roff escapes undone), NUL-terminated.
man_examples() {
	sed -n '/^\.SH EXAMPLES/,/^\.SH /p' "$1" | sed 's/\\e/\\/g; s/\\-/-/g' |
		awk '/^\.EX/ {on = 1; cmd = ""; next}
		     /^\.EE/ {on = 0; printf "%s%c", cmd, 0; next}
		     on {cmd = cmd (cmd == "" ? "" : "\n") $0}'
}

@test "every man page example runs, from the top of the tree" {
	work="$BATS_TEST_TMPDIR/work"
	mkdir -p "$work"
	ln -s "$ROOT/scripts" "$work/scripts"
	for page in "$ROOT"/man/*.1; do
		n=0
		while IFS= read -r -d '' cmd; do
			n=$((n + 1))
			run bash -o pipefail -c "cd '$work' && $cmd"
			[ "$status" -eq 0 ] || { echo "$page example $n failed ($status): $cmd"; echo "$output"; return 1; }
		done < <(man_examples "$page")
		[ "$n" -gt 0 ] || { echo "$page: no examples"; return 1; }
	done
}

@test "ts-validate(1) carries man/where.inc unchanged (the where subset is written once)" {
	# an installed man page cannot include a file from the tree, so the page
	# holds a copy; this keeps the copy from drifting
	page=$(cat "$ROOT/man/ts-validate.1")
	inc=$(cat "$ROOT/man/where.inc")
	[[ "$page" == *"$inc"* ]] || { echo "man/ts-validate.1 does not hold man/where.inc as it is: copy it in again"; return 1; }
}
