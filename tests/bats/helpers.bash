# helpers.bash - shared by every bats file: where the binaries are, a fake
# gateway per test on 127.0.0.1, and waits on events instead of sleeps.
# shellcheck shell=bash

bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
BUILD=${NATPMP_BUILD_DIR:-$TOP/build}
NATPMP=${NATPMP_BIN:-$BUILD/natpmp}
FAKEGW=${FAKEGW_BIN:-$BUILD/tests/fakegw}

# Safety net: a test that forgets --gateway talks to a closed port on
# loopback, never to this machine's real router.
export NATPMP_GATEWAY=127.0.0.1:9
# Each test keeps its state (protocols, PCP nonces) to itself, never in
# the user's own state directory.
export NATPMP_STATE_DIR=$BATS_TEST_TMPDIR/state

# The natpmp binary under test, possibly through a wrapper such as valgrind
# (a command with arguments, hence split on purpose).
natpmp() {
	# shellcheck disable=SC2086
	${NATPMP_WRAPPER:-} "$NATPMP" "$@"
}

# Every process a test starts in the background, as track_background
# records it, is ended by common_teardown (the latest first, so a loop
# goes before the gateway it deletes its mappings on), whether the test
# passed or failed. Start them with fd 3 closed (3>&-): bats waits for
# every holder of that descriptor before it reports.
BACKGROUND_PIDS=

# track_background PID: PID, a child of the test's shell, is to be ended
# at teardown.
track_background() {
	BACKGROUND_PIDS="$1 $BACKGROUND_PIDS"
}

# process_status PID: its state (R, S, Z...) and its parent's pid, from
# /proc/PID/stat (after the name, which may hold spaces and parentheses)
process_status() {
	sed -n 's/^.*) \([A-Za-z]\) \([0-9]*\) .*/\1 \2/p' "/proc/$1/stat" 2>/dev/null
}

# True while a process exists and is no zombie (kill -0 counts zombies).
process_running() {
	local status
	status=$(process_status "$1")
	[ -n "$status" ] && [ "${status%% *}" != Z ]
}

process_gone() {
	! process_running "$1"
}

# end_process PID: ends PID and every process under it, children first
# (so strace's tracee goes before strace, which would otherwise let it
# run on), each with SIGTERM and, still there after 10 s, SIGKILL; then
# reaps PID if it is a child of this shell.
end_process() {
	local pid=$1 children child
	if process_running "$pid"; then
		children=$(cat /proc/"$pid"/task/*/children 2>/dev/null)
		for child in $children; do
			end_process "$child"
		done
		kill -TERM "$pid" 2>/dev/null || true
		if ! WAIT_LIMIT=10 wait_until process_gone "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	wait "$pid" 2>/dev/null || true
}

# Ends what track_background recorded. Only children of this shell: a pid
# the test already reaped may since name another program's process.
end_background() {
	local pid status
	for pid in $BACKGROUND_PIDS; do
		status=$(process_status "$pid")
		if [ "${status#* }" = "$BASHPID" ]; then
			end_process "$pid"
		fi
	done
	BACKGROUND_PIDS=
}

# Empties the logs a background process is about to write, here and now:
# its start is asynchronous, and what an earlier process of the same test
# left there must not pass for what this one says.
empty_logs() {
	local log
	for log in "$@"; do
		: >"$log"
	done
}

# Polls for a condition every 20 ms, up to a limit in seconds (default 5).
wait_until() {
	local limit=${WAIT_LIMIT:-5} waited=0
	until "$@"; do
		sleep 0.02
		waited=$((waited + 1))
		if [ "$waited" -ge $((limit * 50)) ]; then
			echo "timed out waiting for: $*" >&2
			return 1
		fi
	done
}

# Starts a fake gateway with the given options; sets GW (addr:port),
# GW_PORT, GW_CTL and GW_LOG. With GW_NETNS set, in that network
# namespace, on its loopback.
start_gateway() {
	GW_LOG=$BATS_TEST_TMPDIR/gw.log
	local ready=$BATS_TEST_TMPDIR/gw.ready
	rm -f "$ready"
	${GW_NETNS:+ip netns exec "$GW_NETNS"} \
		"$FAKEGW" --ready-file "$ready" --log "$GW_LOG" "$@" 3>&- &
	GW_PID=$!
	track_background "$GW_PID"
	wait_until test -s "$ready"
	read -r GW_PORT GW_CTL <"$ready"
	GW=127.0.0.1:$GW_PORT
	GW_BIND=
}

# Ends the fake gateway start_gateway started, before the test's end.
stop_gateway() {
	if [ -n "${GW_PID:-}" ]; then
		end_process "$GW_PID"
		GW_PID=
	fi
}

# The same on [::1], an IPv6 firewall: GW is [::1]:PORT.
start_gateway6() {
	start_gateway --bind ::1 "$@"
	GW="[::1]:$GW_PORT"
	GW_BIND=::1
}

# Sends a control command to the fake gateway and waits for its "ok".
gw_ctl() {
	"$FAKEGW" ${GW_BIND:+--bind "$GW_BIND"} --ctl "$GW_CTL" "$@"
}

# Lines of the gateway log that match an extended regular expression.
gw_log() {
	grep -E "$1" "$GW_LOG" || true
}

gw_count() {
	grep -cE "$1" "$GW_LOG" || true
}

# True when the gateway log has at least N lines matching a pattern.
gw_has() {
	[ "$(gw_count "$1")" -ge "$2" ]
}

gw_wait_for() {
	wait_until gw_has "$1" "${2:-1}"
}

# True when a file has at least N lines matching a pattern (0 if absent).
file_has() {
	local found
	found=$(grep -cE "$2" "$1" 2>/dev/null) || true
	[ "${found:-0}" -ge "$3" ]
}

# True when the fake gateway holds exactly N live mappings.
gw_holds() {
	[ "$(gw_ctl mappings)" = "ok $1" ]
}

# Proves the gateway received nothing before this point: a sentinel
# address request goes through the same socket after anything queued.
assert_nothing_sent() {
	natpmp -q -g "$GW" -t 2 address
	[ "$(gw_count ' recv ')" -eq 1 ]
}

# Milliseconds on a clock, for measuring how long a run took.
now_ms() {
	local us=${EPOCHREALTIME/[.,]/}
	echo $((us / 1000))
}

# Starts a listener for sd_notify messages, as systemd would hear them;
# sets NOTIFY_SOCKET_PATH (its socket), NOTES (what it heard, a line per
# message) and LISTENER (its pid).
# shellcheck disable=SC2034 # the tests read what it sets
start_notify_listener() {
	local socket=$BATS_TEST_TMPDIR/notify.sock
	NOTES=$BATS_TEST_TMPDIR/notes
	empty_logs "$NOTES"
	rm -f "$socket"
	# fd 3 closed: a test that fails before killing it does not hang bats
	"$BUILD/tests/notify_listen" "$socket" >"$NOTES" 3>&- &
	LISTENER=$!
	track_background "$LISTENER"
	wait_until test -S "$socket"
	NOTIFY_SOCKET_PATH=$socket
}

common_teardown() {
	end_background
}
