#!/usr/bin/env bats
# status.bats - `natpmp status`: the mappings of the renew-loops running
# with the same state directory, read from what each publishes there; a
# health check whose exit status says whether all of them are active.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $output, $lines and $stderr

load helpers

teardown() {
	local pid
	for pid in ${LOOP_PID:-} ${OTHER_PID:-}; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [ -n "${UNIT_ROOT:-}" ]; then rm -rf "$UNIT_ROOT"; fi
	common_teardown
}

# start_loop OUT ARGS...: renew-loop in the background, its stdout in
# OUT and stderr in OUT.err; sets STARTED_PID.
start_loop() {
	local out=$1
	shift
	# shellcheck disable=SC2086 # a wrapper is a command with arguments
	${NATPMP_WRAPPER:-} "$NATPMP" "$@" >"$out" 2>"$out.err" 3>&- &
	STARTED_PID=$!
}

# The published state of the loop PID has N mappings in STATE.
published() {
	local file=$NATPMP_STATE_DIR/renew-loop.$1
	[ "$(grep -c " state=$3 " "$file" 2>/dev/null)" = "$2" ]
}

STATUS_LINE='^(udp|tcp) 44\.1\.2\.3:[0-9]+ -> 127\.0\.0\.1:[0-9]+ active, renewal in [0-9]+s, gateway 127\.0\.0\.1:[0-9]+ \(nat-pmp\)$'

@test "status prints each mapping of the running loop, a line each, and exits 0 when all are active" {
	start_gateway --random-port --max-lifetime 60
	start_loop "$BATS_TEST_TMPDIR/loop" -g "$GW" -l 60 renew-loop 0/both 8080
	LOOP_PID=$STARTED_PID
	wait_until published "$LOOP_PID" 3 active
	local received
	received=$(gw_count ' recv ')
	run --separate-stderr natpmp status
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 3 ]
	local line
	for line in "${lines[@]}"; do
		[[ $line =~ $STATUS_LINE ]]
	done
	[[ ${lines[0]} == "udp 44.1.2.3:"*" -> 127.0.0.1:0 active, renewal in "* ]]
	[[ ${lines[2]} == "tcp 44.1.2.3:"*" -> 127.0.0.1:8080 active, renewal in "* ]]
	# renewed at half of 60 s: 30 s at most to go
	[[ ${lines[0]} =~ renewal\ in\ ([0-9]+)s ]]
	[ "${BASH_REMATCH[1]}" -ge 28 ] && [ "${BASH_REMATCH[1]}" -le 30 ]
	# the ports are those the loop reported
	local port
	port=$(sed -nE 's/.* mapped udp 44\.1\.2\.3:([0-9]+) -> 127\.0\.0\.1:0 .*/\1/p' "$BATS_TEST_TMPDIR/loop")
	[[ ${lines[0]} == "udp 44.1.2.3:$port -> "* ]]
	# asking sent the gateway nothing: the loop's renewals are 30 s off
	[ "$(gw_count ' recv ')" -eq "$received" ]
}

@test "status -j: an object per mapping, every key, null where unknown" {
	start_gateway --max-lifetime 60
	start_loop "$BATS_TEST_TMPDIR/loop" -g "$GW" -l 60 renew-loop 8080/udp
	LOOP_PID=$STARTED_PID
	wait_until published "$LOOP_PID" 1 active
	run --separate-stderr natpmp -j status
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	local o=${lines[0]}
	[ "$(jq -r .pid <<<"$o")" = "$LOOP_PID" ]
	[ "$(jq -r .family <<<"$o")" = inet ]
	[ "$(jq -r .protocol <<<"$o")" = udp ]
	[ "$(jq -r .internal_address <<<"$o")" = 127.0.0.1 ]
	[ "$(jq -r .internal_port <<<"$o")" = 8080 ]
	[ "$(jq -r .external_address <<<"$o")" = 44.1.2.3 ]
	[ "$(jq -r .external_port <<<"$o")" = 8080 ]
	[ "$(jq -r .state <<<"$o")" = active ]
	[ "$(jq -r .lifetime <<<"$o")" = 60 ]
	[ "$(jq -r .next_request_in <<<"$o")" -le 30 ]
	[ "$(jq -r .expires_in <<<"$o")" -le 60 ]
	[ "$(jq -r .expires_in <<<"$o")" -ge 58 ]
	[ "$(jq -r .gateway <<<"$o")" = 127.0.0.1 ]
	[ "$(jq -r .gateway_port <<<"$o")" = "$GW_PORT" ]
	[ "$(jq -r .via <<<"$o")" = nat-pmp ]
	[ "$(jq -r .problem <<<"$o")" = null ]
}

@test "a mapping not granted yet is waiting, one that ran out is lost: exit 75" {
	start_gateway --max-lifetime 2
	gw_ctl ignore-port 9090
	start_loop "$BATS_TEST_TMPDIR/loop" -g "$GW" -l 60 renew-loop 8080 9090
	LOOP_PID=$STARTED_PID
	wait_until published "$LOOP_PID" 1 waiting
	run --separate-stderr natpmp status
	[ "$status" -eq 75 ]
	[[ ${lines[0]} =~ ^tcp\ 44\.1\.2\.3:8080\ -\>\ 127\.0\.0\.1:8080\ active, ]]
	[[ ${lines[1]} =~ ^tcp\ \?\ -\>\ 127\.0\.0\.1:9090\ waiting,\ next\ attempt\ in\ [0-9]+s,\ gateway\ 127\.0\.0\.1:[0-9]+ ]]

	# the gateway falls silent: the 2 s grant runs out
	gw_ctl silent on
	wait_until published "$LOOP_PID" 1 lost
	run --separate-stderr natpmp status
	[ "$status" -eq 75 ]
	[[ ${lines[0]} =~ ^tcp\ 44\.1\.2\.3:8080\ -\>\ 127\.0\.0\.1:8080\ lost, ]]
	run natpmp -q status
	[ "$status" -eq 75 ]
	[ -z "$output" ]
}

@test "with no renew-loop running, status exits 69 with one line on stderr; -q says nothing" {
	run --separate-stderr natpmp status
	[ "$status" -eq 69 ]
	[ -z "$output" ]
	[ "$stderr" = "natpmp: status: no renew-loop runs with the state directory $NATPMP_STATE_DIR" ]
	run --separate-stderr natpmp -q status
	[ "$status" -eq 69 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
	run natpmp status extra
	[ "$status" -eq 64 ]
}

@test "a loop that exits removes its state; one killed leaves files that status ignores and the next loop removes" {
	start_gateway
	start_loop "$BATS_TEST_TMPDIR/loop" -g "$GW" -l 60 renew-loop 8080
	LOOP_PID=$STARTED_PID
	wait_until published "$LOOP_PID" 1 active
	[ -f "$NATPMP_STATE_DIR/renew-loop.$LOOP_PID.lock" ]
	kill -TERM "$LOOP_PID"
	wait "$LOOP_PID"
	[ ! -e "$NATPMP_STATE_DIR/renew-loop.$LOOP_PID" ]
	[ ! -e "$NATPMP_STATE_DIR/renew-loop.$LOOP_PID.lock" ]

	start_loop "$BATS_TEST_TMPDIR/killed" -g "$GW" -l 60 renew-loop 8081
	local killed=$STARTED_PID
	wait_until published "$killed" 1 active
	kill -KILL "$killed"
	wait "$killed" || true
	[ -f "$NATPMP_STATE_DIR/renew-loop.$killed" ]
	run --separate-stderr natpmp status
	[ "$status" -eq 69 ]

	start_loop "$BATS_TEST_TMPDIR/next" -g "$GW" -l 60 renew-loop 8082
	LOOP_PID=$STARTED_PID
	wait_until published "$LOOP_PID" 1 active
	[ ! -e "$NATPMP_STATE_DIR/renew-loop.$killed" ]
	[ ! -e "$NATPMP_STATE_DIR/renew-loop.$killed.lock" ]
	run --separate-stderr natpmp status
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ ${lines[0]} == "tcp 44.1.2.3:8082 -> "* ]]
}

@test "two loops with one state directory: both shown, the first loop's first; one not active is exit 75" {
	start_gateway
	start_loop "$BATS_TEST_TMPDIR/first" -g "$GW" -l 60 renew-loop 8080
	LOOP_PID=$STARTED_PID
	wait_until published "$LOOP_PID" 1 active
	gw_ctl ignore-port 9191
	start_loop "$BATS_TEST_TMPDIR/second" -g "$GW" -l 60 renew-loop 9191/udp
	OTHER_PID=$STARTED_PID
	wait_until published "$OTHER_PID" 1 waiting
	run --separate-stderr natpmp -j status
	[ "$status" -eq 75 ]
	[ "${#lines[@]}" -eq 2 ]
	[ "$(jq -r .pid <<<"${lines[0]}")" -lt "$(jq -r .pid <<<"${lines[1]}")" ]
	[ "$(jq -r '.internal_port, .state' <<<"${lines[0]}" | paste -sd ' ')" = "8080 active" ]
	[ "$(jq -r '.internal_port, .state' <<<"${lines[1]}" | paste -sd ' ')" = "9191 waiting" ]
}

@test "as root, status reads the state of a loop run by another user, as natpmp-renew@NAME's" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to run the loop as another user"
	start_gateway
	# systemd makes StateDirectory= for the unit's dynamic user, 0700,
	# where that user can reach it (bats' own directories are root's)
	UNIT_ROOT=$(mktemp -d /tmp/natpmp-status.XXXXXX)
	chmod 755 "$UNIT_ROOT"
	local unit_state=$UNIT_ROOT/natpmp/vpn
	mkdir -p "$unit_state"
	chown nobody "$unit_state"
	chmod 700 "$unit_state"
	# shellcheck disable=SC2086 # a wrapper is a command with arguments
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env -u NATPMP_STATE_DIR STATE_DIRECTORY="$unit_state" \
		${NATPMP_WRAPPER:-} "$NATPMP" -g "$GW" -l 60 renew-loop 8080 \
		>"$BATS_TEST_TMPDIR/loop" 2>&1 3>&- &
	LOOP_PID=$!
	# setpriv and env exec natpmp: the pid is the loop's
	wait_until file_has "$unit_state/renew-loop.$LOOP_PID" ' state=active ' 1
	[ "$(stat -c %U "$unit_state/renew-loop.$LOOP_PID.lock")" = nobody ]
	NATPMP_STATE_DIR=$unit_state run --separate-stderr natpmp status
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ ${lines[0]} =~ ^tcp\ 44\.1\.2\.3:8080\ -\>\ 127\.0\.0\.1:8080\ active, ]]
}
