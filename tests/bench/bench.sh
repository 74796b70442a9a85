#!/usr/bin/env bash
# bench.sh - natpmp against libnatpmp's natpmpc, side by side, on the same
# fake gateway inside a private network namespace; prints a markdown table.
# Run as root: sudo tests/bench/bench.sh  (RUNS=N, IDLE_SECONDS=N, LONG=1)
set -euo pipefail
cd "$(dirname "$0")/../.."

RUNS=${RUNS:-200}
SLOW_RUNS=${SLOW_RUNS:-15}
IDLE_SECONDS=${IDLE_SECONDS:-60}
LONG=${LONG:-0} # 1: also time a full 127.75 s give-up of both tools
BUILD=build-bench
NS=natpmp-bench-$$
GW=127.0.0.1
ROWS=()
STATE=$(mktemp -d)
# natpmp's state (PCP nonces) stays with the run, out of root's home
export NATPMP_STATE_DIR=$STATE/natpmp-state

die() { echo "bench.sh: $*" >&2; exit 1; }

cleanup() {
	[ -n "${LOOP_PID:-}" ] && kill "$LOOP_PID" 2>/dev/null
	[ -n "${GW_PID:-}" ] && kill "$GW_PID" 2>/dev/null
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$STATE"
}

in_ns() { ip netns exec "$NS" "$@"; }

ctl() { in_ns "$BUILD/tests/fakegw" --ctl "$CTL" "$@" >/dev/null; }

# row NAME NATPMP NATPMPC RATIO TARGET MET
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); }

# alternate RUNS A... -- B...: prints "medianA medianB ratio statusA statusB"
alternate() { in_ns "$BUILD/tests/alternate" "$@"; }

verdict() { if awk "BEGIN { exit !($1) }"; then echo yes; else echo "**no**"; fi; }

setup() {
	[ "$(id -u)" -eq 0 ] || die "needs root, for a network namespace of its own"
	command -v natpmpc >/dev/null || {
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq natpmpc >/dev/null
	}
	cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DNATPMP_TESTS=ON >/dev/null
	cmake --build "$BUILD" -j "$(nproc)" >/dev/null
	NATPMP=$PWD/$BUILD/natpmp
	NATPMPC=$(command -v natpmpc)
	trap cleanup EXIT
	ip netns add "$NS"
	in_ns ip link set lo up
	# natpmpc always talks to port 5351: the namespace gives us that port
	# started directly, not through in_ns, so that $! is the process itself
	ip netns exec "$NS" "$BUILD/tests/fakegw" --bind "$GW" --port 5351 \
		--log /dev/null --ready-file "$STATE/ready" &
	GW_PID=$!
	for _ in $(seq 100); do [ -s "$STATE/ready" ] && break; sleep 0.05; done
	read -r _ CTL <"$STATE/ready"
}

compare() { # compare NAME TARGET-EXPRESSION(r = ratio) RUNS A... -- B...
	local name=$1 target=$2 runs=$3 a b r sa sb
	shift 3
	read -r a b r sa sb < <(alternate "$runs" "$@")
	if [ "$sa" -ne 0 ] || [ "$sb" -ne 0 ]; then
		die "$name: a command failed ($sa, $sb)"
	fi
	row "$name" "$a ms" "$b ms" "$r" "$target" "$(verdict "${target//ratio/$r}")"
}

ports() { seq 10000 10019; }

bench_exchanges() {
	local maps=() calls=() p
	mapfile -t maps < <(ports)
	# the way a script maps 20 ports with natpmpc: 20 runs, one after the other
	for p in "${maps[@]}"; do
		calls+=(-- "$NATPMPC" -g "$GW" -a "$p" "$p" tcp 7200)
	done
	# rows 1, 2 and 4 make the same two round trips as natpmpc: parity, with
	# room for run-to-run noise (about 3% on a 2-core VM)
	compare "1. address, one call" "ratio <= 1.05" "$RUNS" \
		"$NATPMP" -g "$GW" address -- "$NATPMPC" -g "$GW"
	compare "2. map one TCP port (auto: NAT-PMP here)" "ratio <= 1.05" "$RUNS" \
		"$NATPMP" -g "$GW" map 8080 -- "$NATPMPC" -g "$GW" -a 8080 8080 tcp 7200
	compare "3. map 20 ports: 1 natpmp call, 20 natpmpc calls" "ratio <= 0.1" "$((RUNS / 4))" \
		"$NATPMP" -g "$GW" map "${maps[@]}" "${calls[@]}"
	# over PCP each mapping's nonce goes to the state file: one durable
	# write for the run, whatever the number of mappings
	compare "3c. map 20 ports over PCP (--pcp): 1 natpmp call, 20 natpmpc calls" "ratio <= 0.15" "$((RUNS / 4))" \
		"$NATPMP" --pcp -g "$GW" map "${maps[@]}" "${calls[@]}"
	ctl delay 20
	compare "4. map one TCP port (auto), gateway answers after 20 ms" "ratio <= 1.05" "$SLOW_RUNS" \
		"$NATPMP" -g "$GW" map 8080 -- "$NATPMPC" -g "$GW" -a 8080 8080 tcp 7200
	compare "3b. map 20 ports, gateway answers after 20 ms" "ratio <= 0.556" "$SLOW_RUNS" \
		"$NATPMP" -g "$GW" map "${maps[@]}" "${calls[@]}"
	# PCP's answer carries the address: one round trip where NAT-PMP needs
	# two (two would be a ratio near 1), plus the state file's synced write
	compare "8. map one TCP port over PCP (--pcp), gateway answers after 20 ms" "ratio <= 0.6" "$SLOW_RUNS" \
		"$NATPMP" --pcp -g "$GW" map 8090 -- "$NATPMPC" -g "$GW" -a 8080 8080 tcp 7200
	ctl delay 0
}

bench_give_up() {
	local a r
	ctl silent on
	read -r a _ r _ _ < <(alternate 5 "$NATPMP" -g "$GW" -t 2 address -- /bin/true)
	row "5. give up on a silent gateway, -t 2" "$a ms" "no --timeout" "-" \
		"2000 +- 50 ms" "$(verdict "$a >= 1950 && $a <= 2050")"
	if [ "$LONG" = 1 ]; then
		local b
		read -r a b r _ _ < <(alternate 1 "$NATPMP" -g "$GW" address -- "$NATPMPC" -g "$GW")
		row "5b. give up on a silent gateway, no timeout" "$a ms" "$b ms" "$r" \
			"RFC: 127750 ms" "$(verdict "$a >= 127700 && $a <= 128000")"
	fi
	ctl silent off
}

# Reads "cpu-ticks voluntary-switches involuntary-switches" of a process.
process_counters() {
	local ticks
	ticks=$(awk '{print $14 + $15}' "/proc/$1/stat")
	echo "$ticks $(awk '/^voluntary_ctxt/ {v=$2} /^nonvoluntary_ctxt/ {n=$2} END {print v, n}' "/proc/$1/status")"
}

bench_idle() {
	local out=$STATE/loop.out c0 v0 n0 c1 v1 n1 hwm anon
	ip netns exec "$NS" "$NATPMP" -g "$GW" -l 3600 renew-loop 80 81 82 \
		>"$out" 2>/dev/null &
	LOOP_PID=$!
	for _ in $(seq 200); do [ "$(grep -c mapped "$out")" -ge 3 ] && break; sleep 0.05; done
	# idle from when its start-up work is done: its three mappings in
	# the state file, and no writer of that file still running
	for _ in $(seq 200); do
		[ "$(grep -c -E '^mapping .* tcp .* 8[012] ' "$NATPMP_STATE_DIR/state" 2>/dev/null)" -ge 3 ] &&
			! pgrep -P "$LOOP_PID" >/dev/null && break
		sleep 0.05
	done
	[ "$(readlink "/proc/$LOOP_PID/exe")" = "$NATPMP" ] ||
		die "measuring the wrong process: $(readlink "/proc/$LOOP_PID/exe")"
	read -r c0 v0 n0 < <(process_counters "$LOOP_PID")
	sleep "$IDLE_SECONDS"
	read -r c1 v1 n1 < <(process_counters "$LOOP_PID")
	hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$LOOP_PID/status")
	anon=$(awk '/^RssAnon/ {print $2}' "/proc/$LOOP_PID/status")
	kill "$LOOP_PID"
	wait "$LOOP_PID" || true
	LOOP_PID=
	row "6. renew-loop idle ${IDLE_SECONDS} s, 3 mappings of 3600 s: CPU" \
		"$(awk "BEGIN { print ($c1 - $c0) / $(getconf CLK_TCK) }") s" "(no such mode)" "-" "~0" \
		"$(verdict "$c1 - $c0 <= 1")"
	row "6. same: wake-ups (context switches)" "$((v1 - v0 + n1 - n0))" "-" "-" "0" \
		"$(verdict "$v1 - $v0 == 0")"
	# resident pages of libc and of the binary are shared with every
	# process mapping them; what natpmp alone holds is its anonymous memory
	row "6. same: peak RSS (with shared libc and binary pages)" "$hwm KiB" "-" "-" "-" "-"
	row "6. same: private memory (RssAnon)" "$anon KiB" "-" "-" "< 512 KiB" "$(verdict "$anon < 512")"
}

bench_startup() {
	local a b r natpmp_size natpmpc_size libnatpmp
	read -r a b r _ _ < <(alternate "$((RUNS * 5))" "$NATPMP" --version -- /bin/true)
	row "7. start-up: natpmp --version vs /bin/true" "$a ms" "$b ms (true)" "$r" \
		"ratio <= 1.5" "$(verdict "$r <= 1.5")"
	strip -o "$STATE/natpmp" "$NATPMP"
	strip -o "$STATE/natpmpc" "$NATPMPC"
	natpmp_size=$(stat -c %s "$STATE/natpmp")
	natpmpc_size=$(stat -c %s "$STATE/natpmpc")
	libnatpmp=$(ldd "$NATPMPC" | awk '/libnatpmp/ {print $3}')
	if [ -n "$libnatpmp" ]; then
		strip -o "$STATE/libnatpmp" "$libnatpmp"
		natpmpc_size=$((natpmpc_size + $(stat -c %s "$STATE/libnatpmp")))
	fi
	row "7. stripped size (natpmpc: with libnatpmp.so)" "$natpmp_size B" \
		"$natpmpc_size B" "$(awk "BEGIN { printf \"%.2f\", $natpmp_size / $natpmpc_size }")" "-" "-"
}

report() {
	local cpu
	cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
	echo "natpmp $("$NATPMP" --version | cut -d' ' -f2) vs natpmpc $(dpkg-query -W -f='${Version}' natpmpc 2>/dev/null || echo '?')," \
		"$(date -u +%Y-%m-%d), $(nproc) x ${cpu:-unknown CPU}, Linux $(uname -r)," \
		"medians of $RUNS runs (map 20: $((RUNS / 4)); 20 ms gateway: $SLOW_RUNS), A and B alternated."
	echo
	echo "| measurement | natpmp | natpmpc | natpmp/natpmpc | target | met |"
	echo "|---|---|---|---|---|---|"
	printf '%s\n' "${ROWS[@]}"
}

setup
bench_exchanges
bench_give_up
bench_startup
bench_idle
report
