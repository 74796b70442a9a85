#!/usr/bin/env bats
# renew_loop_vpn.bats - renew-loop as VPN users run it, against the fake
# gateway with a VPN provider's personality (NAT-PMP only, 60 s at most, a
# random port per internal port): the port file other programs read,
# several ports at once, and the hook at every renewal.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr and $lines

load helpers

teardown() {
	stop_loop
	common_teardown
}

VPN_PERSONALITY=(--speaks nat-pmp --max-lifetime 60 --random-port)

start_loop() {
	LOOP_OUT=$BATS_TEST_TMPDIR/loop.out
	LOOP_ERR=$BATS_TEST_TMPDIR/loop.err
	empty_logs "$LOOP_OUT" "$LOOP_ERR"
	# shellcheck disable=SC2086 # a wrapper is a command with arguments
	${NATPMP_WRAPPER:-} "$NATPMP" "$@" >"$LOOP_OUT" 2>"$LOOP_ERR" 3>&- &
	LOOP_PID=$!
}

stop_loop() {
	if [ -n "${LOOP_PID:-}" ]; then
		kill -TERM "$LOOP_PID" 2>/dev/null || true
		wait "$LOOP_PID" 2>/dev/null || true
		LOOP_PID=
	fi
}

# Stops the loop with SIGTERM; fails unless it exits 0.
stop_loop_cleanly() {
	kill -TERM "$LOOP_PID"
	local status=0
	wait "$LOOP_PID" || status=$?
	LOOP_PID=
	[ "$status" -eq 0 ]
}

loop_wait_for() {
	wait_until file_has "$LOOP_OUT" "$1" "${2:-1}"
}

# The external ports of the loop's last events of kind EVENT, sorted, each
# once: what the port file must hold.
ports_of() {
	sed -nE "s/.* $1 (udp|tcp) [0-9.]+:([0-9]+) -> .*/\\2/p" "$LOOP_OUT" |
		sort -n -u
}

# True when the file holds exactly N lines.
lines_in() {
	[ -f "$1" ] && [ "$(wc -l <"$1")" -eq "$2" ]
}

# True when the file exists and is empty.
empty_file() {
	[ -f "$1" ] && [ ! -s "$1" ]
}

@test "--port-file holds each active mapping's external port once, ascending: ProtonVPN's 0/both 56789-56790:0/both" {
	start_gateway "${VPN_PERSONALITY[@]}"
	local port_file=$BATS_TEST_TMPDIR/run/port
	mkdir "$BATS_TEST_TMPDIR/run"
	start_loop -g "$GW" -l 60 renew-loop 0/both 56789-56790:0/both \
		--port-file "$port_file"
	loop_wait_for ' mapped ' 6
	wait_until lines_in "$port_file" 3
	# each internal port's UDP and TCP share one random port: 3 lines
	[ "$(ports_of mapped | wc -l)" -eq 3 ]
	[ "$(cat "$port_file")" = "$(ports_of mapped)" ]
	sort -n -c "$port_file"
	grep -qxE '[0-9]+' "$port_file"
	[ "$(stat -c %a "$port_file")" = 644 ]
	# what the gateway was asked: internal 0, 56789, 56790, the port left
	# to it, for 60 s
	[ "$(gw_count 'recv .*op=map-(udp|tcp) internal=(0|56789|56790) suggested=0 lifetime=60$')" -eq 6 ]
	# written by rename: nothing else is left in its directory
	[ "$(find "$BATS_TEST_TMPDIR/run" -type f | wc -l)" -eq 1 ]
}

@test "a range granted in a burst ends with every port in the port file" {
	start_gateway --max-lifetime 60
	start_loop -g "$GW" -l 60 renew-loop 20000-20149/both --port-file "$BATS_TEST_TMPDIR/port"
	loop_wait_for ' mapped ' 300
	wait_until lines_in "$BATS_TEST_TMPDIR/port" 150
	[ "$(cat "$BATS_TEST_TMPDIR/port")" = "$(seq 20000 20149)" ]
}

@test "the port file is empty while nothing is active, follows the ports, and is emptied on exit; --keep leaves it" {
	start_gateway --speaks nat-pmp --max-lifetime 2 --random-port
	local port_file=$BATS_TEST_TMPDIR/port first
	start_loop -g "$GW" -l 60 renew-loop 0/udp --port-file "$port_file"
	loop_wait_for ' mapped udp '
	wait_until lines_in "$port_file" 1
	first=$(ports_of mapped)
	[ "$(cat "$port_file")" = "$first" ]
	# a reader that opened it keeps what it read whole: each version is a
	# new file renamed over the old, never the old one rewritten
	exec 4<"$port_file"

	# the gateway goes silent: the 2 s grant runs out, nothing is active
	gw_ctl silent on
	loop_wait_for ' lost udp '
	wait_until empty_file "$port_file"
	[ "$(cat <&4)" = "$first" ]
	exec 4<&-
	# it comes back having forgotten the mapping: another port
	gw_ctl forget
	gw_ctl silent off
	loop_wait_for ' mapped udp ' 2
	wait_until lines_in "$port_file" 1
	[ "$(cat "$port_file")" = "$(sed -nE 's/.* mapped udp [0-9.]+:([0-9]+) -> .*/\1/p' "$LOOP_OUT" | tail -1)" ]

	stop_loop_cleanly
	empty_file "$port_file"

	start_loop -g "$GW" -l 60 renew-loop 0/udp --port-file "$port_file" --keep
	wait_until lines_in "$port_file" 1
	stop_loop_cleanly
	lines_in "$port_file" 1
}

@test "a --port-file that cannot be written is exit 73 at start, one line, and nothing is sent" {
	start_gateway
	run --separate-stderr natpmp -g "$GW" renew-loop 8080 \
		--port-file "$BATS_TEST_TMPDIR/no/such/dir/port"
	[ "$status" -eq 73 ]
	[ -z "$output" ]
	[ "$stderr" = "natpmp: renew-loop: --port-file $BATS_TEST_TMPDIR/no/such/dir/port: cannot write it: No such file or directory" ]
	mkdir "$BATS_TEST_TMPDIR/a-directory"
	run --separate-stderr natpmp -g "$GW" renew-loop 8080 \
		--port-file "$BATS_TEST_TMPDIR/a-directory"
	[ "$status" -eq 73 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ $stderr == *"cannot write it: Is a directory" ]]
	assert_nothing_sent
	run --separate-stderr natpmp -g "$GW" renew-loop 8080 --port-file ''
	[ "$status" -eq 64 ]
	run --separate-stderr natpmp -g "$GW" map 8080 --port-file "$BATS_TEST_TMPDIR/port"
	[ "$status" -eq 64 ]
	[ "$stderr" = "natpmp: option --port-file does not apply to map" ]
}

@test "a port file that cannot be written later is a warning, and the loop goes on and writes it again" {
	start_gateway --max-lifetime 2
	local dir=$BATS_TEST_TMPDIR/run
	mkdir "$dir"
	start_loop -g "$GW" -l 60 renew-loop 8080 9090 --port-file "$dir/port"
	wait_until lines_in "$dir/port" 2
	rm -r "$dir"
	gw_ctl silent on
	loop_wait_for ' lost ' 1
	wait_until file_has "$LOOP_ERR" "warning: --port-file $dir/port: cannot write it: No such file or directory; the loop goes on" 1
	mkdir "$dir"
	gw_ctl silent off
	wait_until lines_in "$dir/port" 2
	[ "$(cat "$dir/port")" = "$(printf '8080\n9090')" ]
	[ "$(grep -c 'warning: --port-file' "$LOOP_ERR")" -eq 1 ]
	grep -q "note: --port-file $dir/port: written again" "$LOOP_ERR"
	kill -0 "$LOOP_PID"
}

# A hook that appends "EVENT PROTOCOL EXTERNAL-PORT" to HOOK_LOG, and
# exits with the status in $BATS_TEST_TMPDIR/hook.status if there is one.
make_hook() {
	HOOK=$BATS_TEST_TMPDIR/hook
	HOOK_LOG=$BATS_TEST_TMPDIR/hook.events
	cat >"$HOOK" <<-EOF
		#!/bin/sh
		echo "\$NATPMP_EVENT \$NATPMP_PROTOCOL \$NATPMP_EXTERNAL_PORT" >>'$HOOK_LOG'
		exit \$(cat '$BATS_TEST_TMPDIR/hook.status' 2>/dev/null || echo 0)
	EOF
	chmod 755 "$HOOK"
}

@test "--hook-renewals runs the hook at every renewal, with NATPMP_EVENT=renewed and the port; even with -q" {
	start_gateway "${VPN_PERSONALITY[@]}" --max-lifetime 2
	make_hook
	start_loop -q -g "$GW" -l 60 renew-loop 0/both --on-change "$HOOK" --hook-renewals
	wait_until file_has "$HOOK_LOG" '^renewed udp ' 2
	wait_until file_has "$HOOK_LOG" '^renewed tcp ' 2
	local udp tcp
	udp=$(gw_log 'reply .*op=map-udp' | head -1 | sed 's/.* external=\([0-9]*\).*/\1/')
	tcp=$(gw_log 'reply .*op=map-tcp' | head -1 | sed 's/.* external=\([0-9]*\).*/\1/')
	[ "$(head -2 "$HOOK_LOG" | sort | paste -sd ' ')" = "mapped tcp $tcp mapped udp $udp" ]
	[ "$(grep -c '^renewed ' "$HOOK_LOG")" -eq "$(grep -cE "^renewed (udp $udp|tcp $tcp)\$" "$HOOK_LOG")" ]
	# -q keeps the renewals off stdout, not from the hook
	[ "$(grep -c ' renewed ' "$LOOP_OUT")" -eq 0 ]
}

@test "without --hook-renewals, renewals run no hook; a failed hook is run again with its own event" {
	start_gateway "${VPN_PERSONALITY[@]}" --max-lifetime 2
	make_hook
	start_loop -g "$GW" -l 60 renew-loop 0/udp --on-change "$HOOK"
	loop_wait_for ' renewed udp ' 2
	[ "$(cat "$HOOK_LOG")" = "mapped udp $(ports_of mapped)" ]
	stop_loop_cleanly

	# with it, a hook that fails is run again as it was, mapped, not renewed
	rm "$HOOK_LOG"
	echo 1 >"$BATS_TEST_TMPDIR/hook.status"
	start_loop -g "$GW" -l 60 renew-loop 0/udp --on-change "$HOOK" --hook-renewals
	wait_until file_has "$HOOK_LOG" '^mapped udp ' 2
	rm "$BATS_TEST_TMPDIR/hook.status"
	wait_until file_has "$HOOK_LOG" '^renewed udp ' 1
	[ "$(grep -c '^renewed ' "$HOOK_LOG")" -ge 1 ]
	[ "$(sed -n 1p "$HOOK_LOG" | cut -d' ' -f1)" = mapped ]
	[ "$(grep -c 'exited with status 1' "$LOOP_ERR")" -eq 1 ]
}

@test "--hook-renewals without --on-change is a usage error" {
	run --separate-stderr natpmp renew-loop 0/both --hook-renewals
	[ "$status" -eq 64 ]
	[ "$stderr" = "natpmp: option --hook-renewals needs --on-change (the hook to run)" ]
	run --separate-stderr natpmp map 80 --hook-renewals
	[ "$status" -eq 64 ]
}

@test "a hook that cannot run is a start-up error, one line, exit 64, and nothing is sent" {
	start_gateway
	local dir=$BATS_TEST_TMPDIR
	printf '#!/bin/sh\nexit 0\n' >"$dir/not-executable"
	run --separate-stderr natpmp -g "$GW" renew-loop 8080 --on-change "$dir/no-such-hook"
	[ "$status" -eq 64 ]
	[ -z "$output" ]
	[ "$stderr" = "natpmp: renew-loop: --on-change $dir/no-such-hook: No such file or directory" ]
	run --separate-stderr natpmp -g "$GW" renew-loop 8080 --on-change "$dir/not-executable --flag"
	[ "$status" -eq 64 ]
	[ "$stderr" = "natpmp: renew-loop: --on-change $dir/not-executable: it is not executable (chmod +x it, or run it with sh PATH)" ]
	run --separate-stderr natpmp -g "$GW" renew-loop 8080 --on-change "$dir"
	[ "$status" -eq 64 ]
	[ "$stderr" = "natpmp: renew-loop: --on-change $dir: it is a directory" ]
	# shellcheck disable=SC2016 # the hook's shell would expand it
	run --separate-stderr natpmp -g "$GW" renew-loop 8080 --on-change 'no-such-program-anywhere "$NATPMP_EXTERNAL_PORT"'
	[ "$status" -eq 64 ]
	[ "$stderr" = "natpmp: renew-loop: --on-change no-such-program-anywhere: no such program in PATH" ]
	# a shipped hook's path with a name no install has: where they are
	run --separate-stderr natpmp -g "$GW" renew-loop 8080 --on-change /usr/share/natpmp/hooks/no-such-hook
	[ "$status" -eq 64 ]
	[ "$stderr" = "natpmp: renew-loop: --on-change /usr/share/natpmp/hooks/no-such-hook: No such file or directory (natpmp's hooks are in /usr/share/natpmp/hooks from a package, /usr/local/share/natpmp/hooks from cmake --install)" ]
	assert_nothing_sent
}

@test "hooks only the shell can judge are left to it: builtins, quoted words, variables, assignments" {
	start_gateway
	local out=$BATS_TEST_TMPDIR/told
	# shellcheck disable=SC2016 # the hook's shell expands them
	start_loop -g "$GW" -l 60 renew-loop 8080 --on-change \
		"echo \"\$NATPMP_EVENT\" >>'$out'"
	wait_until file_has "$out" '^mapped$' 1
	stop_loop_cleanly
	# shellcheck disable=SC2016 # the hooks' shell would expand them
	for hook in 'PORT=1 true' '"$HOME/x"' 'cd /; true' "sh $BATS_TEST_TMPDIR/not-a-file" ': ${NATPMP_EVENT}'; do
		start_loop -g "$GW" -l 60 renew-loop 8080 --on-change "$hook"
		loop_wait_for ' mapped tcp '
		stop_loop_cleanly
	done
}

# bats test_tags=timing
@test "a closed port is asked once per retry: one error line each, with the time, in the events' shape; reopened, everything is mapped" {
	start_gateway "${VPN_PERSONALITY[@]}"
	gw_ctl close
	start_loop -g "$GW" -l 60 renew-loop 0/both 56789/both
	# retries 1 s, then 2 s apart: three rounds in about 3 s
	WAIT_LIMIT=8 wait_until file_has "$LOOP_ERR" ' error ' 3
	local line
	while IFS= read -r line; do
		[[ $line =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z\ error\ address:\ gateway\ $GW\ does\ not\ speak\ NAT-PMP\ \(ICMP\ port\ unreachable\)$ ]]
	done <"$LOOP_ERR"
	# the mappings waited their turn: not one request for them
	[ "$(grep -c 'map ' "$LOOP_ERR")" -eq 0 ]
	gw_ctl reopen
	# at the next retry, 4 s after the last
	WAIT_LIMIT=10 loop_wait_for ' mapped ' 4
	[ "$(grep -c ' mapped ' "$LOOP_OUT")" -eq 4 ]
}
