#!/usr/bin/env bats
# renew_loop.bats - `natpmp renew-loop`: mappings kept alive at half the
# granted lifetime, through restarts and outages, with events on stdout,
# hooks on changes, and clean deletion on SIGTERM. Lifetimes are 2-4 s so
# the suite stays fast.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr and $stderr_lines

load helpers
load netns

teardown() {
	stop_loop
	if [ -n "${LISTENER:-}" ]; then
		kill "$LISTENER" 2>/dev/null || true
	fi
	if [ -n "${NOBODY_HOME:-}" ]; then
		rm -rf "$NOBODY_HOME"
	fi
	common_teardown
	if [ -n "${NETNS_USED:-}" ]; then netns_destroy; fi
}

# Starts renew-loop in the background with stdout and stderr in files;
# with LOOP_NETNS set, in that network namespace.
start_loop() {
	LOOP_OUT=$BATS_TEST_TMPDIR/loop.out
	LOOP_ERR=$BATS_TEST_TMPDIR/loop.err
	empty_logs "$LOOP_OUT" "$LOOP_ERR"
	# the binary itself, not the natpmp() wrapper function, so that
	# LOOP_PID is natpmp's own pid and signals reach it
	# shellcheck disable=SC2086
	${LOOP_NETNS:+ip netns exec "$LOOP_NETNS"} ${NATPMP_WRAPPER:-} \
		"$NATPMP" "$@" >"$LOOP_OUT" 2>"$LOOP_ERR" 3>&- &
	LOOP_PID=$!
	track_background "$LOOP_PID"
}

stop_loop() {
	if [ -n "${LOOP_PID:-}" ]; then
		end_process "$LOOP_PID"
		LOOP_PID=
	fi
}

# Stops the loop with a signal and returns its exit status.
signal_loop() {
	kill "-$1" "$LOOP_PID"
	local status=0
	wait "$LOOP_PID" || status=$?
	LOOP_PID=
	return "$status"
}

loop_count() {
	grep -cE "$1" "$LOOP_OUT" || true
}

loop_wait_for() {
	wait_until file_has "$LOOP_OUT" "$1" "${2:-1}"
}

# True once the loop has no child process: a state writer ended and reaped.
loop_has_no_child() {
	[ -z "$(cat /proc/"$LOOP_PID"/task/*/children 2>/dev/null)" ]
}

# Milliseconds of the gateway's log lines matching a pattern.
gw_times_ms() {
	gw_log "$1" | cut -d' ' -f1 | tr -d . | sed 's/^0*//; s/^$/0/'
}

# bats test_tags=timing
@test "renew-loop maps, then renews at half the granted lifetime" {
	start_gateway
	start_loop -g "$GW" -l 4 renew-loop 8080
	gw_wait_for 'recv .*op=map-tcp' 3
	mapfile -t times < <(gw_times_ms 'recv .*op=map-tcp')
	local gap1=$((times[1] - times[0])) gap2=$((times[2] - times[1]))
	echo "gaps: $gap1 ms, $gap2 ms (expected 2000)"
	[ "$gap1" -ge 1950 ] && [ "$gap1" -le 2200 ]
	[ "$gap2" -ge 1950 ] && [ "$gap2" -le 2200 ]
	[[ "$(head -1 "$LOOP_OUT")" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z\ mapped\ tcp\ 44\.1\.2\.3:8080\ -\>\ 127\.0\.0\.1:8080\ lifetime\ 4s$ ]]
	loop_wait_for ' renewed tcp 44\.1\.2\.3:8080 -> 127\.0\.0\.1:8080 lifetime 4s$' 2
}

# bats test_tags=timing
@test "renewals follow the lifetime granted, not the one asked for" {
	start_gateway --max-lifetime 2
	start_loop -g "$GW" -l 1h renew-loop 8080
	gw_wait_for 'recv .*op=map-tcp' 3
	mapfile -t times < <(gw_times_ms 'recv .*op=map-tcp')
	local gap=$((times[2] - times[1]))
	echo "gap: $gap ms (expected 1000)"
	[ "$gap" -ge 950 ] && [ "$gap" -le 1200 ]
	[ "$(gw_count 'recv .*op=map-tcp .*lifetime=3600$')" -ge 3 ]
}

@test "a new port is reported as changed, and renewals then suggest it" {
	start_gateway
	start_loop -g "$GW" -l 2 renew-loop 8080
	loop_wait_for ' mapped tcp '
	gw_ctl forget >/dev/null           # the gateway drops the mapping...
	gw_ctl grant-port 40404 >/dev/null # ...and grants a new port next time
	loop_wait_for ' changed tcp 44\.1\.2\.3:40404 -> 127\.0\.0\.1:8080 lifetime 2s$'
	gw_wait_for 'recv .*op=map-tcp internal=8080 suggested=40404 ' 1
}

@test "a shorter lifetime on renewal is reported as changed" {
	start_gateway
	start_loop -g "$GW" -l 4 renew-loop 8080
	loop_wait_for ' mapped tcp .* lifetime 4s$'
	gw_ctl max-lifetime 2 >/dev/null
	loop_wait_for ' changed tcp 44\.1\.2\.3:8080 -> 127\.0\.0\.1:8080 lifetime 2s$'
}

@test "a gateway restart (epoch reset) loses every mapping at once, and each is mapped again when re-created" {
	start_gateway --epoch 5000
	start_loop -g "$GW" -l 60 renew-loop 8080 9090/udp
	loop_wait_for ' mapped ' 2
	gw_ctl restart >/dev/null
	[ "$(gw_ctl mappings)" = "ok 0" ]
	kill -HUP "$LOOP_PID" # the next reply carries the new epoch
	loop_wait_for ' gateway-reset 127\.0\.0\.1:[0-9]+ epoch [0-9]+$'
	# the gateway holds nothing now: nothing is claimed active
	loop_wait_for ' lost ' 2
	# re-created after the 0-5 s spread, one request at a time
	WAIT_LIMIT=8 wait_until gw_holds 2
	WAIT_LIMIT=8 loop_wait_for ' mapped ' 4
	[ "$(loop_count ' lost ')" -eq 2 ]
}

# Milliseconds from the start of the test until a line matching a pattern
# first appears in the loop's output (polled every 20 ms).
ms_until_line() {
	local pattern=$1 count=${2:-1}
	WAIT_LIMIT=${WAIT_LIMIT:-10} loop_wait_for "$pattern" "$count"
	echo $(($(now_ms) - TEST_START_MS))
}

# bats test_tags=timing
@test "a mapping that runs out unrenewed is lost within 1 s of expiry, then mapped again" {
	start_gateway --max-lifetime 4
	local hook_log=$BATS_TEST_TMPDIR/hook.log
	TEST_START_MS=$(now_ms)
	start_loop -g "$GW" renew-loop 8080 --on-change \
		"echo \"\$NATPMP_EVENT \$NATPMP_EXTERNAL_PORT\" >> '$hook_log'"
	local mapped_at lost_at
	mapped_at=$(ms_until_line ' mapped tcp ')
	gw_ctl silent on >/dev/null
	lost_at=$(ms_until_line ' lost tcp 44\.1\.2\.3:8080 -> 127\.0\.0\.1:8080 lifetime 0s$')
	echo "mapped at $mapped_at ms, lost at $lost_at ms (expiry at $((mapped_at + 4000)))"
	[ "$lost_at" -ge $((mapped_at + 3900)) ]
	[ "$lost_at" -le $((mapped_at + 5000)) ]
	wait_until file_has "$hook_log" '^lost 8080$' 1
	# one error per attempt, naming the request that was really sent
	grep -qE "^[0-9T:-]+Z error map 8080/tcp: no reply from gateway $GW before the mapping ran out" "$LOOP_ERR"
	gw_ctl silent off >/dev/null
	WAIT_LIMIT=8 loop_wait_for ' mapped tcp ' 2
	wait_until file_has "$hook_log" '^mapped 8080$' 2
	# never "renewed" after a lapse: the next grant is a new mapping
	[ "$(sed -n '/ lost /,$p' "$LOOP_OUT" | grep -E ' (mapped|renewed) ' | head -1 | cut -d' ' -f2)" = mapped ]
	kill -0 "$LOOP_PID"
}

# bats test_tags=timing
@test "every mapping of a silent gateway is reported lost on time, not after the RFC schedule" {
	start_gateway --max-lifetime 4
	TEST_START_MS=$(now_ms)
	start_loop -g "$GW" -l 4 renew-loop 8080 8081 8082/udp
	local mapped_at lost_at
	mapped_at=$(ms_until_line ' mapped ' 3)
	gw_ctl silent on >/dev/null
	lost_at=$(ms_until_line ' lost ' 3)
	echo "all mapped by $mapped_at ms, all lost by $lost_at ms"
	[ "$lost_at" -le $((mapped_at + 5000)) ]
}

# bats test_tags=timing
@test "after a failure, retries back off from 1 s, doubling" {
	start_gateway --map-result 2
	start_loop -g "$GW" -j -l 60 renew-loop 8080
	# the fourth attempt comes 1 + 2 + 4 = 7 s after the first
	WAIT_LIMIT=10 gw_wait_for 'recv .*op=map-tcp' 4
	mapfile -t times < <(gw_times_ms 'recv .*op=map-tcp')
	local gap1=$((times[1] - times[0])) gap2=$((times[2] - times[1])) gap3=$((times[3] - times[2]))
	echo "gaps: $gap1, $gap2, $gap3 ms (expected 1000, 2000, 4000)"
	[ "$gap1" -ge 950 ] && [ "$gap1" -le 1250 ]
	[ "$gap2" -ge 1950 ] && [ "$gap2" -le 2250 ]
	[ "$gap3" -ge 3950 ] && [ "$gap3" -le 4250 ]
	# one error event per failed attempt
	[ "$(grep -c '"event":"error"' "$LOOP_OUT")" -ge 4 ]
	grep '"event":"error"' "$LOOP_OUT" | head -1 | jq -e '.error == "not-authorized" and .internal_port == 8080'
}

@test "a NAT-PMP error's lifetime field is no wait: a refused renewal of a 2-hour mapping is tried again a second later" {
	# miniupnpd, too, copies the lifetime asked for into its errors
	start_gateway --errors-copy-lifetime
	start_loop -g "$GW" -l 2h renew-loop 8080
	loop_wait_for ' mapped ' 1
	gw_ctl map-result 3 >/dev/null
	kill -HUP "$LOOP_PID"
	gw_wait_for 'reply .*op=map-tcp result=3 .*lifetime=7200$' 1
	gw_ctl map-result -1 >/dev/null
	# on the back-off, not after the 7200 s the error's field says
	WAIT_LIMIT=4 loop_wait_for ' renewed tcp ' 1
}

# bats test_tags=timing
@test "a PCP error's lifetime is honoured, but a mapping still granted is asked for again before it runs out" {
	start_gateway --speaks pcp --pcp-error-lifetime 600
	start_loop -g "$GW" -l 6 renew-loop 8080
	loop_wait_for ' mapped tcp .* lifetime 6s$' 1
	# the renewal, due at 3 to 3.75 s, meets NO_RESOURCES "for 600 s"
	gw_ctl pcp-result 8 >/dev/null
	WAIT_LIMIT=6 gw_wait_for 'result=8' 1
	gw_ctl pcp-result -1 >/dev/null
	# asked again halfway to the end of the grant: renewed, never lost
	WAIT_LIMIT=4 loop_wait_for ' renewed tcp ' 1
	[ "$(loop_count ' lost ')" -eq 0 ]
}

# two-second grants: under valgrind the renewals themselves come late
# bats test_tags=timing
@test "a mapping the gateway never answers does not starve the others" {
	start_gateway --max-lifetime 2
	gw_ctl ignore-port 9999 >/dev/null
	start_loop -g "$GW" -l 2 renew-loop 9999 8080
	# 8080 is mapped, then renewed again and again while 9999 goes unanswered
	WAIT_LIMIT=10 loop_wait_for ' renewed tcp 44\.1\.2\.3:8080 ' 3
	[ "$(loop_count ' lost tcp 44\.1\.2\.3:8080 ')" -eq 0 ]
	[ "$(loop_count ' mapped tcp [^ ]*:9999 ')" -eq 0 ]
	grep -qE "^[0-9T:-]+Z error map 9999/tcp: no reply from gateway .*giving way to other requests" "$LOOP_ERR"
}

@test "SIGTERM deletes the mappings and exits 0" {
	start_gateway
	start_loop -g "$GW" -l 60 renew-loop 8080 5353/udp
	loop_wait_for ' mapped ' 2
	local status=0
	signal_loop TERM || status=$?
	[ "$status" -eq 0 ]
	[ "$(gw_count 'recv .*op=map-tcp internal=8080 suggested=0 lifetime=0$')" -eq 1 ]
	[ "$(gw_count 'recv .*op=map-udp internal=5353 suggested=0 lifetime=0$')" -eq 1 ]
	[ "$(gw_ctl mappings)" = "ok 0" ]
	grep -qE ' unmapped tcp 8080$' "$LOOP_OUT"
	grep -qE ' unmapped udp 5353$' "$LOOP_OUT"
}

# bats test_tags=timing
@test "SIGINT with a silent gateway still exits 0 within about two seconds" {
	start_gateway
	start_loop -g "$GW" -l 60 renew-loop 8080 8081
	loop_wait_for ' mapped ' 2
	gw_ctl silent on >/dev/null
	local start elapsed status=0
	start=$(now_ms)
	signal_loop INT || status=$?
	elapsed=$(($(now_ms) - start))
	echo "took $elapsed ms"
	[ "$status" -eq 0 ]
	[ "$elapsed" -lt 2600 ]
}

# bats test_tags=timing
@test "SIGTERM deletes every mapping of a range while the gateway answers, even past 1.5 s in all" {
	start_gateway --speaks pcp
	start_loop -g "$GW" -l 60 renew-loop 7000-7003
	loop_wait_for ' mapped tcp ' 4
	gw_ctl delay 450 >/dev/null # 1.8 s for the four deletions
	local start status=0
	start=$(now_ms)
	signal_loop TERM || status=$?
	echo "took $(($(now_ms) - start)) ms"
	[ "$status" -eq 0 ]
	[ "$(loop_count ' unmapped tcp 700[0-3]$')" -eq 4 ]
	gw_holds 0
	[ ! -s "$LOOP_ERR" ]
}

# bats test_tags=timing
@test "while a request waits unanswered, SIGUSR1 and SIGHUP are acted on and SIGTERM ends the loop" {
	start_gateway --silent
	start_loop -g "$GW" renew-loop 8080
	gw_wait_for 'recv .*op=address' 2
	kill -USR1 "$LOOP_PID"
	wait_until grep -qE 'natpmp: state: waiting for the reply to the address request: attempt [0-9]+' "$LOOP_ERR"
	grep -q 'natpmp: state: tcp 8080: not mapped' "$LOOP_ERR"
	# the fourth attempt, 1.75 s in; the schedule waits 2 s for the fifth,
	# and SIGHUP sends at once
	gw_wait_for 'recv .*op=address' 4
	local before
	before=$(gw_count 'recv .*op=address')
	kill -HUP "$LOOP_PID"
	wait_until gw_has 'recv .*op=address' $((before + 1))
	local start elapsed status=0
	start=$(now_ms)
	signal_loop TERM || status=$?
	elapsed=$(($(now_ms) - start))
	echo "took $elapsed ms"
	[ "$status" -eq 0 ]
	[ "$elapsed" -lt 2000 ]
}

@test "--keep leaves the mappings to expire" {
	start_gateway
	start_loop -g "$GW" -l 60 renew-loop --keep 8080
	loop_wait_for ' mapped '
	local status=0
	signal_loop TERM || status=$?
	[ "$status" -eq 0 ]
	[ "$(gw_count 'lifetime=0$')" -eq 0 ]
	[ "$(gw_ctl mappings)" = "ok 1" ]
}

@test "SIGHUP renews at once; SIGUSR1 prints the state on stderr" {
	start_gateway
	start_loop -g "$GW" -l 1h renew-loop 8080
	loop_wait_for ' mapped '
	kill -HUP "$LOOP_PID"
	loop_wait_for ' renewed tcp '
	kill -USR1 "$LOOP_PID"
	wait_until grep -q 'state: tcp 8080: external port 8080, lifetime 3600s' "$LOOP_ERR"
	grep -q "natpmp: state: gateway $GW (NAT-PMP, interface lo, source 127.0.0.1), external address 44.1.2.3" "$LOOP_ERR"
}

@test "-j prints one JSON event per line with time, event and the mapping" {
	start_gateway --max-lifetime 2
	start_loop -g "$GW" -j -l 60 renew-loop 8080/udp
	loop_wait_for '"event":"renewed"'
	head -2 "$LOOP_OUT" | jq -e -s '
		(.[0] | .event == "mapped" and (.time | test("^[0-9-]+T[0-9:]+Z$")) and
			.protocol == "udp" and .internal_port == 8080 and
			.external_port == 8080 and .lifetime == 2 and
			.external_address == "44.1.2.3" and .gateway == "127.0.0.1") and
		(.[1] | .event == "renewed")'
}

@test "-q silences routine renewals but not the first mapping" {
	start_gateway --max-lifetime 2
	start_loop -g "$GW" -q -l 60 renew-loop 8080
	gw_wait_for 'recv .*op=map-tcp' 3
	[ "$(loop_count ' mapped ')" -eq 1 ]
	[ "$(loop_count ' renewed ')" -eq 0 ]
}

@test "errors are reported as JSON events with -j, and the loop goes on" {
	start_gateway --map-result 4
	start_loop -g "$GW" -j -l 2 renew-loop 8080
	loop_wait_for '"event":"error"' 2
	grep '"event":"error"' "$LOOP_OUT" | head -1 | jq -e '.error == "out-of-resources" and .internal_port == 8080'
	gw_ctl map-result -1 >/dev/null
	WAIT_LIMIT=4 loop_wait_for '"event":"mapped"'
}

@test "the hook gets the facts in its environment, once per change" {
	start_gateway --external 44.7.7.7
	local hook_log=$BATS_TEST_TMPDIR/hook.log
	# systemd's socket is natpmp's, not the hook's: it is not passed on
	NOTIFY_SOCKET=$BATS_TEST_TMPDIR/no-such.sock start_loop -g "$GW" -l 2 renew-loop 0/udp --on-change \
		"env | grep -E '^(NATPMP_(EVENT|PROTOCOL|INTERNAL_PORT|INTERNAL_ADDRESS|EXTERNAL_PORT|EXTERNAL_ADDRESS|LIFETIME|GATEWAY|GATEWAY_PORT)|NOTIFY_SOCKET)=' | sort >> '$hook_log'; echo --- >> '$hook_log'"
	gw_wait_for 'recv .*op=map-udp' 3
	wait_until grep -q -- --- "$hook_log"
	diff -u - <(sed -n '1,/^---$/p' "$hook_log") <<-EOF
		NATPMP_EVENT=mapped
		NATPMP_EXTERNAL_ADDRESS=44.7.7.7
		NATPMP_EXTERNAL_PORT=$(gw_log 'reply .*op=map-udp' | head -1 | sed 's/.* external=\([0-9]*\).*/\1/')
		NATPMP_GATEWAY=127.0.0.1
		NATPMP_GATEWAY_PORT=$GW_PORT
		NATPMP_INTERNAL_ADDRESS=127.0.0.1
		NATPMP_INTERNAL_PORT=0
		NATPMP_LIFETIME=2
		NATPMP_PROTOCOL=udp
		---
	EOF
	# renewals that change nothing run no hook
	[ "$(grep -c -- --- "$hook_log")" -eq 1 ]
}

@test "the hook runs on a port change and on loss, never for plain renewals" {
	start_gateway
	local hook_log=$BATS_TEST_TMPDIR/hook.log
	start_loop -g "$GW" -t 0.5 -l 2 renew-loop 8080 --on-change \
		"echo \"\$NATPMP_EVENT \$NATPMP_EXTERNAL_PORT\" >> '$hook_log'"
	loop_wait_for ' mapped '
	gw_ctl forget >/dev/null
	gw_ctl grant-port 41000 >/dev/null
	loop_wait_for ' changed '
	gw_ctl silent on >/dev/null
	WAIT_LIMIT=6 loop_wait_for ' lost '
	wait_until file_has "$hook_log" . 3
	run cat "$hook_log"
	[ "${lines[0]}" = "mapped 8080" ]
	[ "${lines[1]}" = "changed 41000" ]
	[ "${lines[2]}" = "lost 41000" ]
	[ "${#lines[@]}" -eq 3 ]
}

@test "data in the hook's environment is never run as shell code" {
	start_gateway
	local marker=$BATS_TEST_TMPDIR/injected hook_log=$BATS_TEST_TMPDIR/hook.log
	# the command text itself holds $(...) and ';': it runs as the user
	# wrote it, and the values arrive as inert strings
	start_loop -g "$GW" -l 60 renew-loop 8080 --on-change \
		"printf '%s;%s\n' \"\$NATPMP_EVENT\" \"\$(printf %s \"\$NATPMP_EXTERNAL_ADDRESS\")\" >> '$hook_log'; export NATPMP_EVENT='\$(touch $marker)'; eval 'echo \"\$NATPMP_EVENT\"' >> '$hook_log'"
	wait_until file_has "$hook_log" . 2
	run cat "$hook_log"
	[ "${lines[0]}" = "mapped;44.1.2.3" ]
	[ "${lines[1]}" = "\$(touch $marker)" ]
	[ ! -e "$marker" ]
}

# bats test_tags=timing
@test "a slow hook never delays renewals; events queued behind it collapse to the newest" {
	start_gateway
	local hook_log=$BATS_TEST_TMPDIR/hook.log
	# -v: the loop says when it starts a hook and when one has ended
	start_loop -v -g "$GW" -l 2 renew-loop 8080 --on-change \
		"echo \"start \$NATPMP_EVENT \$NATPMP_EXTERNAL_PORT\" >> '$hook_log'; sleep 3; echo end >> '$hook_log'"
	loop_wait_for ' mapped '
	local port
	# both changes come while the first hook still sleeps
	for port in 41001 41002; do
		gw_ctl forget >/dev/null
		gw_ctl grant-port "$port" >/dev/null
		loop_wait_for " changed tcp 44\\.1\\.2\\.3:$port "
	done
	# renewals went on every second while the first hook slept
	[ "$(gw_count 'recv .*op=map-tcp')" -ge 3 ]
	WAIT_LIMIT=8 wait_until file_has "$hook_log" '^end$' 2
	# a third hook would start as the second is reaped; a renewal the loop
	# reports after that shows it has moved on
	wait_until grep -q 'hook for changed 8080/tcp exited with status 0' "$LOOP_ERR"
	local renewals
	renewals=$(loop_count ' renewed ')
	loop_wait_for ' renewed ' $((renewals + 1))
	[ "$(grep -c 'hook started for ' "$LOOP_ERR")" -eq 2 ]
	run cat "$hook_log"
	# 41001 was overtaken by 41002 while the first hook ran
	[ "${lines[0]}" = "start mapped 8080" ]
	[ "${lines[1]}" = "end" ]
	[ "${lines[2]}" = "start changed 41002" ]
	[ "${lines[3]}" = "end" ]
	[ "${#lines[@]}" -eq 4 ]
}

# True while the process whose pid is in a file exists and is no zombie.
pid_in_file_alive() {
	local pid state
	pid=$(cat "$1" 2>/dev/null) || return 1
	state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

pid_in_file_gone() {
	! pid_in_file_alive "$1"
}

@test "a hook that outlives --hook-timeout is ended with its whole process group, and later events still get theirs" {
	start_gateway
	local hook_log=$BATS_TEST_TMPDIR/hook.log pid_file=$BATS_TEST_TMPDIR/child.pid
	# the hook leaves a child behind in its group: both must go
	start_loop -g "$GW" -l 60 renew-loop 8080 --hook-timeout 1 --on-change \
		"echo \"\$NATPMP_EVENT \$NATPMP_EXTERNAL_PORT\" >> '$hook_log'; if [ \"\$NATPMP_EVENT\" = mapped ]; then sleep 30 & echo \$! > '$pid_file'; sleep 30; fi"
	wait_until file_has "$hook_log" '^mapped 8080$' 1
	# the child's pid, written once it was started: it then lives 1 s at
	# most, which polling on a busy machine can miss, so the test does not
	# wait to see it alive, only to see it gone
	wait_until test -s "$pid_file"
	wait_until grep -q 'natpmp: warning: --on-change hook for mapped 8080/tcp still running after 1s: ending it' "$LOOP_ERR"
	wait_until pid_in_file_gone "$pid_file"
	gw_ctl forget >/dev/null
	gw_ctl grant-port 41000 >/dev/null
	kill -HUP "$LOOP_PID"
	wait_until file_has "$hook_log" '^changed 41000$' 1
}

@test "a state lock another program holds never stalls renew-loop: it goes on renewing, and writes once the lock is free" {
	start_gateway --speaks pcp
	mkdir -p "$NATPMP_STATE_DIR"
	chmod 700 "$NATPMP_STATE_DIR"
	# flock holds the lock while its command runs; -o keeps it from that
	# command, so that ending both ends the hold
	flock -o "$NATPMP_STATE_DIR/state.lock" sleep 60 3>&- &
	local holder=$!
	wait_until test -e "$NATPMP_STATE_DIR/state.lock"
	start_loop -g "$GW" -l 4 renew-loop 8080
	loop_wait_for ' mapped ' 1
	# renewals every 2 to 2.5 s, while the writer waits for the lock
	WAIT_LIMIT=10 loop_wait_for ' renewed ' 2
	[ ! -e "$NATPMP_STATE_DIR/state" ]
	pkill -P "$holder" sleep
	wait "$holder" || true
	wait_until grep -q '^mapping .* tcp .* 8080 ' "$NATPMP_STATE_DIR/state"
	[ "$(loop_count ' lost ')" -eq 0 ]
}

# The most hooks that ran at once, from a log where each writes "start"
# when it begins and "end" before it exits (short appends do not mix).
most_at_once() {
	awk '$1 == "start" { n++; if (n > most) most = n }
		$1 == "end" { n-- } END { print most + 0 }' "$1"
}

@test "at most 8 hooks run at once; the others wait their turn and every event is told" {
	start_gateway
	local log=$BATS_TEST_TMPDIR/hooks.log
	start_loop -g "$GW" -l 1h renew-loop 8001-8020 --on-change \
		"echo start >> '$log'; sleep 0.5; echo end >> '$log'"
	loop_wait_for ' mapped ' 20
	WAIT_LIMIT=20 wait_until file_has "$log" '^end$' 20
	[ "$(grep -c '^start$' "$log")" -eq 20 ]
	echo "most at once: $(most_at_once "$log")"
	[ "$(most_at_once "$log")" -le 8 ]
	[ "$(most_at_once "$log")" -ge 2 ]
}

# start_loop_as UID NPROC ARG...: start_loop as that user, allowed that
# many processes.
start_loop_as() {
	local uid=$1 nproc=$2
	shift 2
	LOOP_OUT=$BATS_TEST_TMPDIR/loop.out
	LOOP_ERR=$BATS_TEST_TMPDIR/loop.err
	empty_logs "$LOOP_OUT" "$LOOP_ERR"
	# shellcheck disable=SC2086 # a wrapper is a command with arguments
	prlimit --nproc="$nproc" \
		setpriv --reuid="$uid" --regid="$uid" --clear-groups \
		${NATPMP_WRAPPER:-} "$NATPMP" "$@" >"$LOOP_OUT" 2>"$LOOP_ERR" 3>&- &
	LOOP_PID=$!
}

# A user id of its own (no account needed), with no process yet: a task
# limit then counts only the processes of the test.
unused_uid() {
	local uid
	for uid in $(seq $((60000 + $$ % 1000)) 62000); do
		if ! getent passwd "$uid" >/dev/null && ! pgrep -u "$uid" >/dev/null; then
			echo "$uid"
			return
		fi
	done
	return 1
}

@test "when fork fails under a task limit, the hook's event waits and runs later, never dropped" {
	start_gateway
	# allowed two processes: natpmp and one hook; its files where it can
	# reach them (bats' own directories are root's)
	local uid
	uid=$(unused_uid)
	NOBODY_HOME=$(mktemp -d /tmp/natpmp-nproc.XXXXXX)
	local home=$NOBODY_HOME log=$NOBODY_HOME/hooks.log
	mkdir -p "$home/state"
	chown -R "$uid:$uid" "$home"
	chmod 755 "$home"
	chmod 700 "$home/state"
	# the first hook waits, without a process of its own, until told
	mkfifo -m 666 "$home/go"
	NATPMP_STATE_DIR=$home/state start_loop_as "$uid" 2 \
		-g "$GW" -l 1h renew-loop 8001 8002 8003 --on-change \
		"echo \"\$NATPMP_EVENT \$NATPMP_INTERNAL_PORT\" >> '$log'; [ -e '$home/released' ] || read -r go < '$home/go'"
	loop_wait_for ' mapped ' 3
	# one hook runs and waits; the next fork fails
	wait_until file_has "$LOOP_ERR" 'cannot start the --on-change hook' 1
	[ "$(wc -l <"$log")" -eq 1 ]
	# let it go: the waiting events run after all
	touch "$home/released"
	timeout 10 sh -c "echo go > '$home/go'"
	wait_until file_has "$log" '^mapped 800[123]$' 3
	[ "$(sort -u "$log" | wc -l)" -eq 3 ]
	[ "$(grep -c 'warning: cannot start the --on-change hook' "$LOOP_ERR")" -eq 1 ]
}

@test "hooks still running at exit are ended, and the loop still exits at once" {
	start_gateway
	local pid_file=$BATS_TEST_TMPDIR/child.pid
	start_loop -g "$GW" -l 60 renew-loop 8080 --on-change \
		"sleep 60 & echo \$! > '$pid_file'; wait"
	wait_until pid_in_file_alive "$pid_file"
	local start elapsed status=0
	start=$(now_ms)
	signal_loop TERM || status=$?
	elapsed=$(($(now_ms) - start))
	[ "$status" -eq 0 ]
	[ "$elapsed" -lt 2000 ]
	wait_until pid_in_file_gone "$pid_file"
}

@test "a failing hook's exit status is reported on stderr" {
	start_gateway
	start_loop -g "$GW" -l 60 renew-loop 8080 --on-change 'exit 3'
	wait_until grep -q 'natpmp: warning: --on-change hook for mapped 8080/tcp exited with status 3; it runs again at each renewal until it succeeds' "$LOOP_ERR"
}

@test "a failed hook runs again at each renewal until it succeeds, and its failure is told once" {
	start_gateway --max-lifetime 4
	local app=$BATS_TEST_TMPDIR/app-running told=$BATS_TEST_TMPDIR/told
	# the application the hook tells is not running yet: the hook fails
	start_loop -g "$GW" -l 4 renew-loop 8080 --on-change \
		"[ -e '$app' ] && echo \"\$NATPMP_EVENT \$NATPMP_EXTERNAL_PORT\" >> '$told'"
	WAIT_LIMIT=8 loop_wait_for ' renewed ' 2
	[ ! -e "$told" ]
	touch "$app"
	# the next renewal runs it again, with the event it failed on
	WAIT_LIMIT=8 wait_until file_has "$told" '^mapped 8080$' 1
	local renewals
	renewals=$(loop_count ' renewed ')
	# once it succeeded, renewals run it no more
	WAIT_LIMIT=8 loop_wait_for ' renewed ' $((renewals + 2))
	[ "$(wc -l <"$told")" -eq 1 ]
	[ "$(grep -c 'exited with status 1' "$LOOP_ERR")" -eq 1 ]
}

@test "the VPN shape: 0/both, a random port, 60 s at most, hook told the port" {
	start_gateway --random-port --max-lifetime 60
	local hook_log=$BATS_TEST_TMPDIR/hook.log
	start_loop -g "$GW" -l 60 renew-loop 0/both --on-change \
		"echo \"\$NATPMP_PROTOCOL \$NATPMP_EXTERNAL_PORT \$NATPMP_LIFETIME\" >> '$hook_log'"
	loop_wait_for ' mapped ' 2
	wait_until file_has "$hook_log" . 2
	local udp_port tcp_port
	udp_port=$(gw_log 'reply .*op=map-udp' | head -1 | sed 's/.* external=\([0-9]*\).*/\1/')
	tcp_port=$(gw_log 'reply .*op=map-tcp' | head -1 | sed 's/.* external=\([0-9]*\).*/\1/')
	grep -qx "udp $udp_port 60" "$hook_log"
	grep -qx "tcp $tcp_port 60" "$hook_log"
	grep -qE " mapped udp 44\\.1\\.2\\.3:$udp_port -> 127\\.0\\.0\\.1:0 lifetime 60s$" "$LOOP_OUT"
}

@test "with short VPN lifetimes the random port is kept across renewals" {
	start_gateway --random-port --max-lifetime 2
	start_loop -g "$GW" -l 60 renew-loop 0/udp
	loop_wait_for ' renewed udp ' 2
	local port
	port=$(gw_log 'reply .*op=map-udp' | head -1 | sed 's/.* external=\([0-9]*\).*/\1/')
	[ "$(loop_count " (mapped|renewed) udp 44\\.1\\.2\\.3:$port ")" -ge 3 ]
	[ "$(loop_count ' changed ')" -eq 0 ]
}

# bats test_tags=timing
@test "idle, the loop sleeps in the kernel: no wake-ups, no CPU" {
	# renew-loop wakes for every link, address and route change it sees
	# (as it should): a network namespace of its own, where nothing but
	# this test changes anything, and where the gateway is on loopback
	NETNS_USED=1
	netns_create
	GW_NETNS=$NS_LAN start_gateway
	LOOP_NETNS=$NS_LAN start_loop -g "$GW" -l 1h renew-loop 80 81 82
	loop_wait_for ' mapped ' 3
	# the burst of grants is written to the state file by a child, which
	# the loop reaps: then nothing is left to do
	wait_until file_has "$NATPMP_STATE_DIR/state" '^mapping ' 3
	wait_until loop_has_no_child
	local before after cpu_before cpu_after
	before=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$LOOP_PID/status")
	cpu_before=$(awk '{print $14 + $15}' "/proc/$LOOP_PID/stat")
	sleep 2
	after=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$LOOP_PID/status")
	cpu_after=$(awk '{print $14 + $15}' "/proc/$LOOP_PID/stat")
	echo "context switches: $before -> $after, CPU ticks: $cpu_before -> $cpu_after"
	[ "$after" -eq "$before" ]
	[ "$cpu_after" -eq "$cpu_before" ]
	# and nothing is due before the first renewal, half an hour away: the
	# kernel shows the loop's one timer and when it fires next
	local fd seconds
	for fd in /proc/"$LOOP_PID"/fd/*; do
		[ "$(readlink "$fd")" = "anon_inode:[timerfd]" ] || continue
		seconds=$(sed -n 's/^it_value: (\([0-9]*\),.*/\1/p' "/proc/$LOOP_PID/fdinfo/${fd##*/}")
	done
	echo "next wake-up in $seconds s"
	[ "$seconds" -ge 1790 ] && [ "$seconds" -le 1800 ]
}


@test "under systemd it reports READY=1 once every mapping is made" {
	start_gateway
	start_notify_listener
	NOTIFY_SOCKET=$NOTIFY_SOCKET_PATH start_loop -g "$GW" -l 60 renew-loop 8080 8081
	wait_until grep -q '^READY=1$' "$NOTES"
	wait_until grep -q '^STATUS=2 of 2 mappings active via' "$NOTES"
	[ "$(grep -c '^READY=1$' "$NOTES")" -eq 1 ]
	signal_loop TERM
	wait_until grep -q '^STOPPING=1$' "$NOTES"
	kill "$LISTENER"
}

# bats test_tags=timing
@test "under systemd a range's grants make a few STATUS= messages, not one each, the last exact and before READY=1" {
	start_gateway
	start_notify_listener
	NOTIFY_SOCKET=$NOTIFY_SOCKET_PATH start_loop -g "$GW" -l 60 renew-loop 1-100/both
	wait_until grep -q '^READY=1$' "$NOTES"
	local statuses
	statuses=$(grep -c '^STATUS=' "$NOTES")
	echo "$statuses STATUS= for 200 mappings"
	[ "$statuses" -le 10 ]
	# its ports as many as fit, the rest counted
	[[ "$(grep -B1 '^READY=1$' "$NOTES" | head -1)" =~ ^STATUS=200\ of\ 200\ mappings\ active\ via\ $GW,\ external\ ports\ 1\ 2\ 3\ [0-9\ ]+\ \.\.\.\ and\ [0-9]+\ more$ ]]
	kill "$LISTENER"
}

@test "under systemd STATUS= says which gateway it waits for, and when the wait is over" {
	start_gateway --silent
	start_notify_listener
	NOTIFY_SOCKET=$NOTIFY_SOCKET_PATH start_loop -g "$GW" -l 60 renew-loop 8080
	wait_until grep -qF "STATUS=waiting for gateway $GW; 0 of 1 mappings active" "$NOTES"
	gw_ctl silent off >/dev/null
	WAIT_LIMIT=10 wait_until grep -q '^STATUS=1 of 1 mappings active via' "$NOTES"
	# the wait is over: the last word is the active mapping, not the wait
	[[ "$(grep '^STATUS=' "$NOTES" | tail -1)" == "STATUS=1 of 1 mappings active via $GW, external port 8080" ]]
	kill "$LISTENER"
}

@test "under systemd STATUS= names the external ports, each once, and drops them when the grants run out" {
	start_gateway --random-port --max-lifetime 2
	start_notify_listener
	# 0/both: one random port for UDP and TCP (the fake gateway pairs them)
	NOTIFY_SOCKET=$NOTIFY_SOCKET_PATH start_loop -g "$GW" -l 60 renew-loop 0/both 8080/udp
	wait_until grep -q '^READY=1$' "$NOTES"
	# the events reach stdout through the loop, READY=1 at once: wait for
	# the three lines rather than read them as READY=1 comes
	wait_until file_has "$LOOP_OUT" ' mapped ' 3
	local ports
	ports=$(sed -nE 's/.* mapped (udp|tcp) [0-9.]+:([0-9]+) -> .*/\2/p' "$LOOP_OUT" | head -3 | sort -n -u | paste -sd ' ')
	echo "ports: $ports"
	[ "$(wc -w <<<"$ports")" -eq 2 ]
	wait_until grep -qx "STATUS=3 of 3 mappings active via $GW, external ports $ports" "$NOTES"
	# the grants run out: none active, no ports
	gw_ctl silent on >/dev/null
	WAIT_LIMIT=8 wait_until grep -q "^STATUS=waiting for gateway $GW; 0 of 3 mappings active\$" "$NOTES"
	kill "$LISTENER"
}

# screen_shows FILE TEXT MORE: true once FILE holds TEXT, later MORE
screen_shows() {
	[[ "$(cat "$1")" == *"$2"*"$3"* ]]
}

@test "on a terminal renew-loop shows the same progress line as the one-shots while it waits" {
	start_gateway --silent
	local screen=$BATS_TEST_TMPDIR/screen
	# script(1) gives it a terminal; what that terminal shows goes to $screen
	script -qec "$NATPMP -g $GW renew-loop 8080" /dev/null >"$screen" 3>&- &
	track_background "$!"
	wait_until screen_shows "$screen" "no answer from gateway $GW yet: attempt " " waited"
}

@test "READY=1 comes once every mapping was tried, even when one is refused" {
	start_gateway --map-result 2
	start_notify_listener
	NOTIFY_SOCKET=$NOTIFY_SOCKET_PATH start_loop -g "$GW" -l 60 renew-loop 8080
	WAIT_LIMIT=3 wait_until grep -q '^READY=1$' "$NOTES"
	grep -q '^STATUS=0 of 1 mappings active via' "$NOTES"
	kill "$LISTENER"
}

# bats test_tags=timing
@test "READY=1 comes within 10 s even when the gateway is silent from the start" {
	start_gateway --silent
	start_notify_listener
	local start elapsed
	start=$(now_ms)
	NOTIFY_SOCKET=$NOTIFY_SOCKET_PATH start_loop -g "$GW" renew-loop 8080 8081 8082
	WAIT_LIMIT=12 wait_until grep -q '^READY=1$' "$NOTES"
	elapsed=$(($(now_ms) - start))
	echo "READY after $elapsed ms"
	[ "$elapsed" -le 10500 ]
	grep -q '^STATUS=0 of 3 mappings active via' "$NOTES"
	kill "$LISTENER"
}

@test "on exit an internal-port-0 mapping is left to expire: delete-all would take the host's other mappings" {
	start_gateway --random-port
	natpmp -q -g "$GW" map 9090/udp # another program's mapping
	start_loop -g "$GW" -l 60 renew-loop 0/udp 8080/udp
	loop_wait_for ' mapped ' 2
	signal_loop TERM
	[ "$(gw_count 'recv .*op=map-udp internal=8080 suggested=0 lifetime=0$')" -eq 1 ]
	[ "$(gw_count 'recv .*op=map-udp internal=0 suggested=0 lifetime=0$')" -eq 0 ]
	# the other program's mapping and the port-0 one are still there
	gw_holds 2
}

@test "--unmap-all-on-exit deletes an internal-port-0 mapping with delete-all" {
	start_gateway --random-port
	start_loop -g "$GW" -l 60 renew-loop 0/udp --unmap-all-on-exit
	loop_wait_for ' mapped '
	signal_loop TERM
	[ "$(gw_count 'recv .*op=map-udp internal=0 suggested=0 lifetime=0$')" -eq 1 ]
	gw_holds 0
	grep -qE ' unmapped udp all$' "$LOOP_OUT"
}

@test "a reader that goes away ends the loop as SIGTERM does, mappings deleted, but exit 74 for a service manager to restart it" {
	start_gateway
	start_notify_listener
	local status
	# head exits after the first event; natpmp must notice, not die of SIGPIPE
	# shellcheck disable=SC2016 # the inner shell expands its arguments
	NOTIFY_SOCKET=$NOTIFY_SOCKET_PATH timeout 10 bash -c \
		'"$1" -g "$2" -l 60 renew-loop 8080 2>"$3" | head -1 >/dev/null; exit "${PIPESTATUS[0]}"' \
		_ "$NATPMP" "$GW" "$BATS_TEST_TMPDIR/err" && status=0 || status=$?
	[ "$status" -eq 74 ]
	[ "$(gw_count 'recv .*op=map-tcp internal=8080 suggested=0 lifetime=0$')" -eq 1 ]
	wait_until grep -q '^STOPPING=1$' "$NOTES"
	kill "$LISTENER"
}

@test "deadlines live on CLOCK_BOOTTIME, so time asleep counts" {
	start_gateway
	start_loop -g "$GW" -l 60 renew-loop 8080
	loop_wait_for ' mapped '
	local fd info found=no
	for fd in /proc/"$LOOP_PID"/fd/*; do
		[ "$(readlink "$fd")" = "anon_inode:[timerfd]" ] || continue
		info=/proc/$LOOP_PID/fdinfo/${fd##*/}
		# clock 7 is CLOCK_BOOTTIME; flag 1 an absolute deadline
		grep -q '^clockid: 7$' "$info" && grep -q '^settime flags: 01$' "$info" && found=yes
	done
	[ "$found" = yes ]
}

@test "0.0.0.0 from the gateway means no address yet: shown as ?, and no change is reported for it" {
	start_gateway --external 0.0.0.0
	local hook_log=$BATS_TEST_TMPDIR/hook.log
	start_loop -g "$GW" -l 60 renew-loop 8080 --on-change \
		"echo \"\$NATPMP_EVENT \$NATPMP_EXTERNAL_ADDRESS\" >> '$hook_log'"
	loop_wait_for ' mapped tcp \?:8080 -> 127\.0\.0\.1:8080 lifetime 60s$'
	wait_until file_has "$hook_log" '^mapped $' 1
	# the address appears: the mapping changes once, to it
	gw_ctl external 44.5.5.5 >/dev/null
	kill -HUP "$LOOP_PID"
	loop_wait_for ' changed tcp 44\.5\.5\.5:8080 '
	wait_until file_has "$hook_log" '^changed 44\.5\.5\.5$' 1
	# and flickers back to 0.0.0.0: nothing changes for that
	gw_ctl external 0.0.0.0 >/dev/null
	kill -HUP "$LOOP_PID"
	loop_wait_for ' renewed tcp 44\.5\.5\.5:8080 '
	gw_ctl external 44.5.5.5 >/dev/null
	kill -HUP "$LOOP_PID"
	loop_wait_for ' renewed tcp 44\.5\.5\.5:8080 ' 2
	[ "$(loop_count ' (changed|address-changed) ')" -eq 1 ]
	[ "$(loop_count '0\.0\.0\.0')" -eq 0 ]
	[ "$(wc -l <"$hook_log")" -eq 2 ]
}

# bats test_tags=timing
@test "a reader that stalls never stalls the loop: renewals go on, and SIGTERM still ends it" {
	start_gateway --max-lifetime 2
	local pid_file=$BATS_TEST_TMPDIR/pid
	# stdout is a 4 KiB pipe nobody reads; JSON events fill it in seconds
	"$BUILD/tests/stalled_reader" "$NATPMP" -g "$GW" -j -l 2 renew-loop \
		8080/both 8081/both 8082/both >"$pid_file" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	local reader=$!
	track_background "$reader"
	wait_until test -s "$pid_file"
	LOOP_PID=$(cat "$pid_file")
	# 40 requests mean far more than 4 KiB of events: the pipe is full,
	# and a loop that blocked on it would send nothing more
	WAIT_LIMIT=12 gw_wait_for 'recv .*op=map' 40
	local before
	before=$(gw_count 'recv .*op=map')
	wait_until gw_has 'recv .*op=map' $((before + 12))
	local start status=0
	start=$(now_ms)
	kill -TERM "$LOOP_PID"
	wait "$reader" || status=$?
	LOOP_PID=
	echo "exit $status after $(($(now_ms) - start)) ms"
	[ "$status" -eq 0 ]
	[ $(($(now_ms) - start)) -lt 2500 ]
	[ "$(gw_count 'recv .*op=map.* lifetime=0$')" -ge 6 ]
}

@test "SIGTERM while the first mapping request waits for its answer deletes that mapping too" {
	start_gateway --delay 800
	start_loop -g "$GW" renew-loop 8080
	# the address is answered at 0.8 s, the map request waits until 1.6 s
	gw_wait_for 'recv .*op=map-tcp internal=8080 suggested=8080'
	signal_loop TERM
	gw_wait_for 'recv .*op=map-tcp internal=8080 suggested=0 lifetime=0$'
	wait_until gw_holds 0
}

@test "renew-loop that cannot start says why and exits 71" {
	start_gateway
	# four descriptors: stdin, stdout, stderr and one more
	# shellcheck disable=SC2016 # the inner shell expands its arguments
	run --separate-stderr bash -c 'ulimit -n 4; exec "$1" -g "$2" renew-loop 8080' _ "$NATPMP" "$GW" 3>&-
	[ "$status" -eq 71 ]
	[[ "${stderr_lines[-1]}" == "natpmp: renew-loop: cannot start: "* ]]
}

# bats test_tags=timing
@test "over PCP, a range of 1024 ports, TCP and UDP, is mapped in moments, kept in the state, and all deleted on SIGTERM" {
	start_gateway --speaks pcp
	local start elapsed status=0
	start=$(now_ms)
	start_loop -g "$GW" -l 600 renew-loop 1-1024/both
	loop_wait_for ' mapped (udp|tcp) ' 2048
	elapsed=$(($(now_ms) - start))
	echo "2048 mappings in $elapsed ms"
	[ "$elapsed" -lt 3000 ]
	# every nonce reaches the file, for a later run to renew or delete with
	wait_until file_has "$NATPMP_STATE_DIR/state" '^mapping ' 2048
	signal_loop TERM || status=$?
	[ "$status" -eq 0 ]
	[ "$(loop_count ' unmapped (udp|tcp) ')" -eq 2048 ]
	gw_holds 0
}

@test "renew-loop keeps every port of a range mapped, each its own mapping and event" {
	start_gateway
	start_loop -g "$GW" -l 2 renew-loop 7000-7002/both
	loop_wait_for ' mapped (udp|tcp) ' 6
	loop_wait_for ' renewed (udp|tcp) ' 6
	local port protocol
	for port in 7000 7001 7002; do
		for protocol in udp tcp; do
			[ "$(loop_count " mapped $protocol 44\.1\.2\.3:$port -> 127\.0\.0\.1:$port lifetime 2s\$")" -eq 1 ]
		done
	done
	gw_holds 6
	signal_loop TERM
	gw_holds 0
}
