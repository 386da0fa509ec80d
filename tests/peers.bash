# tests/peers.bash — the protocol peers of tests/peers/ in bats suites
# (`load peers`, after `load helpers`).
#
#   peer_start NAME [ARGS...]   NAME: hec, firehose, s3 or metadata.  Runs
#       node tests/peers/NAME.js --port-file F --log F [--requests F] ARGS...
#       in the background (s3: also --dir D unless ARGS has one, and node
#       --openssl-legacy-provider), waits until it listens, and exports, with
#       N the upper-case NAME: N_PORT, N_URL (http://127.0.0.1:PORT), N_LOG
#       (the accepted-events log), N_DIR (the peer's directory under
#       $BATS_TEST_TMPDIR, with its stderr); hec and firehose: N_REQUESTS (one
#       line per request); s3: S3_DATA (s3rver's directory), S3_ACCESS_KEY,
#       S3_SECRET_KEY, S3_SESSION_TOKEN and S3_REGION as ARGS set them.  Skips
#       the test when node or s3rver is missing; fails when the peer exits
#       first (its stderr in the message).
#   peer_stop NAME              SIGTERM, wait; fails if the peer had crashed or
#       exited non-zero (a peer bug), with its stderr.
#   peer_stop_all               every peer this test started (teardown).
#   peer_fault NAME JSON        queues a fault (POST /_fault); fails if refused.
#   peer_faults_clear NAME      drops the pending faults (DELETE /_fault).
#   peer_stats NAME [JQ]        GET /_stats, filtered by jq -r JQ if given.
#   peer_aws ARGS...            /usr/bin/aws (not a shim on PATH) against the
#       s3 peer: --endpoint-url $S3_URL, its credentials and region, no config
#       files, no instance metadata, no pager.  Skips when it is missing.
#   peer_require NAME           the skip checks of peer_start alone.
#
# This file defines teardown() as peer_stop_all; a suite with a teardown of its
# own calls peer_stop_all there.  Instance metadata is disabled for everything
# the tests run (AWS_EC2_METADATA_DISABLED=true): nothing may reach for
# 169.254.169.254.

export AWS_EC2_METADATA_DISABLED=true
PEERS_DIR="${PEERS_DIR:-$BATS_TEST_DIRNAME/peers}"
declare -gA _PEER_PIDS=()

peer_require() {
	local name=$1
	[ -f "$PEERS_DIR/$name.js" ] || fail "no peer $name ($PEERS_DIR/$name.js)" || return
	command -v node > /dev/null || skip "node is not installed: run scripts/setup"
	if [ "$name" = s3 ] && [ ! -d "$BATS_TEST_DIRNAME/node_modules/@20minutes/s3rver" ]; then
		skip "s3rver is not installed: run scripts/setup (npm ci --prefix tests)"
	fi
	return 0
}

peer_start() {
	local name=$1
	shift
	peer_require "$name"
	[ -z "${_PEER_PIDS[$name]:-}" ] || fail "peer $name is already running" || return
	local up dir
	up=$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]')
	dir="$BATS_TEST_TMPDIR/peer-$name"
	mkdir -p "$dir"
	rm -f "$dir/port"
	: > "$dir/log"
	local node=(node) args=(--port-file "$dir/port" --log "$dir/log")
	case $name in
	hec | firehose)
		: > "$dir/requests"
		args+=(--requests "$dir/requests")
		export "${up}_REQUESTS=$dir/requests"
		;;
	s3)
		node+=(--openssl-legacy-provider)
		local a data="$dir/data" key=S3RVER secret=S3RVER token="" region=us-east-1 prev=""
		for a in "$@"; do
			case $prev in
			--dir) data=$a ;;
			--access-key) key=$a ;;
			--secret-key) secret=$a ;;
			--session-token) token=$a ;;
			--region) region=$a ;;
			esac
			prev=$a
		done
		printf '%s\n' "$@" | grep -qx -- --dir || args+=(--dir "$data")
		export S3_DATA="$data" S3_ACCESS_KEY="$key" S3_SECRET_KEY="$secret" \
			S3_SESSION_TOKEN="$token" S3_REGION="$region"
		;;
	esac
	# fd 3 is bats' own: a background child holding it would hang the run.
	"${node[@]}" "$PEERS_DIR/$name.js" "${args[@]}" "$@" > "$dir/stdout" 2> "$dir/stderr" 3>&- &
	local pid=$! i=0 status
	_PEER_PIDS[$name]=$pid
	while [ ! -s "$dir/port" ]; do
		if ! kill -0 "$pid" 2> /dev/null; then
			status=0
			wait "$pid" || status=$?
			unset "_PEER_PIDS[$name]"
			fail "peer $name exited with status $status before listening:
$(cat "$dir/stderr")" || return
		fi
		i=$((i + 1))
		if [ "$i" -gt 400 ]; then
			_peer_stop_one "$name" || true
			fail "peer $name did not listen within 20 s" || return
		fi
		sleep 0.05
	done
	local port
	port=$(cat "$dir/port")
	export "${up}_PORT=$port" "${up}_URL=http://127.0.0.1:$port" "${up}_LOG=$dir/log" "${up}_DIR=$dir"
}

# Stops one peer; 0, or 1 with why on stderr.
_peer_stop_one() {
	local name=$1 pid=${_PEER_PIDS[$1]:-} i=0 status=0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2> /dev/null || true
	while kill -0 "$pid" 2> /dev/null; do
		i=$((i + 1))
		if [ "$i" -gt 100 ]; then
			kill -KILL "$pid" 2> /dev/null || true
			break
		fi
		sleep 0.05
	done
	wait "$pid" || status=$?
	unset "_PEER_PIDS[$name]"
	[ "$status" -eq 0 ] && return 0
	printf 'peer %s ended with status %s:\n%s\n' "$name" "$status" \
		"$(cat "$BATS_TEST_TMPDIR/peer-$name/stderr" 2> /dev/null)" >&2
	return 1
}

peer_stop() {
	_peer_stop_one "$1" || fail "peer $1 did not stop cleanly (see above)" || return
}

peer_stop_all() {
	local name failed=""
	for name in "${!_PEER_PIDS[@]}"; do
		_peer_stop_one "$name" || failed="$failed $name"
	done
	[ -z "$failed" ] || fail "peers that did not stop cleanly:$failed" || return
}

_peer_url() {
	local up
	up=$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')
	local var="${up}_URL"
	[ -n "${!var:-}" ] || fail "peer $1 is not running" || return
	printf '%s' "${!var}"
}

peer_fault() {
	local url out code
	url=$(_peer_url "$1") || return 1
	out=$(curl -sS --max-time 5 -X POST -H 'Content-Type: application/json' \
		--data-binary "$2" -w '\n%{http_code}' "$url/_fault") || fail "peer $1: POST /_fault failed" || return
	code=${out##*$'\n'}
	[ "$code" = 200 ] || fail "peer $1 refused the fault $2: ${out%$'\n'*}" || return
}

peer_faults_clear() {
	local url
	url=$(_peer_url "$1") || return 1
	curl -sS --max-time 5 -f -X DELETE "$url/_fault" > /dev/null || fail "peer $1: DELETE /_fault failed" || return
}

peer_stats() {
	local url out
	url=$(_peer_url "$1") || return 1
	out=$(curl -sS --max-time 5 -f "$url/_stats") || fail "peer $1: GET /_stats failed" || return
	if [ $# -ge 2 ]; then
		jq -r "$2" <<< "$out"
	else
		printf '%s\n' "$out"
	fi
}

peer_aws() {
	[ -x /usr/bin/aws ] || skip "the AWS CLI is not installed (/usr/bin/aws): run scripts/setup"
	[ -n "${S3_URL:-}" ] || fail "peer s3 is not running" || return
	local token=(-u AWS_SESSION_TOKEN)
	[ -z "${S3_SESSION_TOKEN:-}" ] || token=(AWS_SESSION_TOKEN="$S3_SESSION_TOKEN")
	env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_S3 \
		"${token[@]}" AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY" \
		AWS_REGION="$S3_REGION" AWS_DEFAULT_REGION="$S3_REGION" \
		AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
		AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" \
		/usr/bin/aws --endpoint-url "$S3_URL" "$@"
}

teardown() {
	peer_stop_all
}

# lines FILE N: FILE has N lines (else it is shown).
lines() {
	local got
	got=$(wc -l < "$1")
	[ "$got" -eq "$2" ] || fail "$1: $got lines, expected $2:
$(head -c 3000 "$1")"
}

# json [-s] FILE JQ: jq -e JQ holds on FILE (slurped with -s first).
json() {
	local s=()
	if [ "$1" = -s ]; then
		s=(-s)
		shift
	fi
	jq -e "${s[@]}" "$2" "$1" > /dev/null || fail "$1 does not satisfy $2:
$(head -c 3000 "$1")"
}
