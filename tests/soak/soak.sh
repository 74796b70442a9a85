#!/usr/bin/env bash
# tests/soak/soak.sh - renew-loop for SOAK_SECONDS (default 120) against
# miniupnpd and against the fake gateway, side by side, each in network
# namespaces of its own, with a fault every few seconds drawn from
# SOAK_SEED; an oracle counts lies, missed recoveries and growth and the
# summary goes to stdout and to SOAK_OUT/summary.md. Exits 1 on any
# finding (a lie, a missed recovery, an unfounded event, an overdue hook,
# growth: README, "Soak test"), 64 on a bad setting. Needs root and a
# build (tests/run build).
set -euo pipefail

SOAK_DIR=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$SOAK_DIR/../.." && pwd)
BUILD=${NATPMP_BUILD_DIR:-$TOP/build}
NATPMP=${NATPMP_BIN:-$BUILD/natpmp}
FAKEGW=$BUILD/tests/fakegw
UDP_WATCH=$BUILD/tests/udp_watch
SOAK_SECONDS=${SOAK_SECONDS:-120}
SOAK_SEED=${SOAK_SEED:-$(($(date +%s%N) / 1000 % 1000000000))}
# KIND/PROTOCOL: miniupnpd or fake, pcp or nat-pmp (renew-loop's --pcp or
# its default, which stays with NAT-PMP against both)
SOAK_LANES=${SOAK_LANES:-miniupnpd/pcp fake/nat-pmp}
SOAK_OUT=${SOAK_OUT:-$BUILD/soak/$SOAK_SEED}

usage_error() {
	echo "soak: $*" >&2
	exit 64
}

[[ $SOAK_SECONDS =~ ^[1-9][0-9]*$ ]] || usage_error "SOAK_SECONDS must be a whole number of seconds, not '$SOAK_SECONDS'"
[[ $SOAK_SEED =~ ^[0-9]+$ ]] || usage_error "SOAK_SEED must be a number, not '$SOAK_SEED'"
for lane in $SOAK_LANES; do
	case $lane in
	miniupnpd/pcp | miniupnpd/nat-pmp | fake/pcp | fake/nat-pmp) ;;
	*) usage_error "unknown lane '$lane' in SOAK_LANES (KIND/PROTOCOL: miniupnpd or fake, pcp or nat-pmp)" ;;
	esac
done
[ "$(id -u)" -eq 0 ] || usage_error "needs root, to build network namespaces"
for binary in "$NATPMP" "$FAKEGW" "$UDP_WATCH"; do
	[ -x "$binary" ] || usage_error "$binary is missing: run tests/run build first"
done

# shellcheck source=tests/soak/lane.bash
. "$SOAK_DIR/lane.bash"
# shellcheck source=tests/soak/faults.bash
. "$SOAK_DIR/faults.bash"

for kind in ${SOAK_FAULTS:-}; do
	case " ${FAULT_KINDS_FAKE[*]} " in
	*" $kind "*) ;;
	*) usage_error "unknown fault kind '$kind' in SOAK_FAULTS (kinds: ${FAULT_KINDS_FAKE[*]})" ;;
	esac
done

# Polls a command every 0.1 s for up to WAIT_LIMIT seconds (default 10).
wait_for() {
	local tries=$((${WAIT_LIMIT:-10} * 10))
	until "$@"; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.1
	done
}

# True once a child of this shell has exited (a zombie counts: it waits to
# be reaped).
stopped() {
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 0
	[ "$state" = Z ]
}

# Processes left in the LAN namespace that are neither renew-loop, its
# children nor the witness: a hook that outlived its process group.
strays() {
	local pid count=0 parent comm
	for pid in $(ip netns pids "$NS_LAN"); do
		[ "$pid" = "$LOOP_PID" ] && continue
		comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
		parent=$(awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null) || continue
		[ "$comm" = udp_watch ] || [ "$parent" = "$LOOP_PID" ] && continue
		count=$((count + 1))
	done
	echo "$count"
}

# run_lane INDEX KIND/PROTOCOL: one lane, from its namespaces to the
# oracle's verdict in LANE_DIR/result
run_lane() {
	local index=$1 spec=$2
	LANE_KIND=${spec%/*} LANE_PROTOCOL=${spec#*/}
	LANE=$LANE_KIND-$LANE_PROTOCOL
	LANE_DIR=$RUNTIME/$LANE
	NS_LAN=natpmp-soak-$$-$index-lan
	NS_A=natpmp-soak-$$-$index-gwa
	NS_B=natpmp-soak-$$-$index-gwb
	rng=$(((SOAK_SEED * 7919 + index) & 0x7fffffff))
	FAULT_ID=0
	lane_fault_kinds
	mkdir -p "$LANE_DIR"
	: >"$LANE_DIR/records"
	trap destroy_network EXIT
	trap 'exit 143' TERM INT
	build_network
	if [ "$LANE_KIND" = fake ]; then
		fake_start "$GW_A" 44.77.0.1
		fake_start "$GW_B" 44.78.0.1
	else
		miniupnpd_prepare "$GW_A" 45.77.7.7
		miniupnpd_prepare "$GW_B" 45.78.8.8
		miniupnpd_start "$GW_A"
		miniupnpd_start "$GW_B"
	fi
	start_watch
	start_loop
	if ! WAIT_LIMIT=20 wait_for healthy_now; then
		note "renew-loop did not map within 20 s"
		echo "setup_failed renew-loop did not map within 20 s" >"$LANE_DIR/result"
		return 1
	fi
	record F begin
	local before after status=0 end=$((SECONDS + SOAK_SECONDS))
	before=$(measure)
	while [ "$SECONDS" -lt "$end" ]; do
		inject_one || note "fault $FAULT_ID did not go as planned"
		await_recovery || true
		record F settled "$FAULT_ID"
		draw 30
		sleep_for "$((10 + REPLY))"
	done
	echo ok >"$LANE_DIR/nobody/hook.mode"
	WAIT_LIMIT=30 wait_for healthy_now || note "not healthy at the end"
	# a failed hook runs again at the next renewal; let it
	sleep "$((LIFETIME * 5 / 8 + HOOK_TIMEOUT + 1))"
	after=$(measure)
	record F end
	local stray_count
	stray_count=$(strays)
	# SIGTERM deletes the mappings: a few seconds at most, else it is stuck
	kill -TERM "$LOOP_PID"
	if ! WAIT_LIMIT=10 wait_for stopped "$LOOP_PID"; then
		note "renew-loop still runs 10 s after SIGTERM"
		kill -KILL "$LOOP_PID"
	fi
	wait "$LOOP_PID" || status=$?
	destroy_network
	trap - EXIT
	wait
	sort -s -n -k1,1 "$LANE_DIR/records" | awk -v mode=final \
		-v keys="$KEYS" -v lifetime="$LIFETIME" -v timeout="$TIMEOUT" \
		-v gw_a="$GW_A" -v if_a="$IF_A" -v gw_b="$GW_B" -v if_b="$IF_B" \
		-f "$SOAK_DIR/oracle.awk" >"$LANE_DIR/result"
	{
		echo "measure_start $before"
		echo "measure_end $after"
		echo "strays $stray_count"
		echo "exit_status $status"
		echo "clock_ticks $(getconf CLK_TCK)"
	} >>"$LANE_DIR/result"
	hook_figures "$LANE_DIR/nobody/hook.log" >>"$LANE_DIR/result"
}

# The hook's runs from its log: how many, failed, hung, and overdue (a run
# that ended more than 1 s after --hook-timeout: renew-loop should have
# ended it; a hung run logs no end when it is ended in time).
hook_figures() {
	awk -v limit="$((HOOK_TIMEOUT + 1))" '
		$2 == "start" { runs++; start[$3] = $1; if ($4 == "fail") failed++; if ($4 == "hang") hung++ }
		$2 == "end" && ($3 in start) && $1 - start[$3] > limit { overdue++ }
		END { printf "hooks_run %d\nhooks_failed %d\nhooks_hung %d\nhooks_overdue %d\n", runs, failed, hung, overdue }' "$1"
}

# value LANE KEY [FIELD]: a field of a line of a lane's result
value() {
	awk -v key="$2" -v field="${3:-2}" '$1 == key { print $field; exit }' "$RUNTIME/$1/result"
}

lane_figures() {
	local lane=$1 ticks cpu seconds
	read -r _ RSS0 FDS0 _ CPU0 T0 < <(grep '^measure_start ' "$RUNTIME/$lane/result")
	read -r _ RSS1 FDS1 CHILDREN1 CPU1 T1 < <(grep '^measure_end ' "$RUNTIME/$lane/result")
	ticks=$(value "$lane" clock_ticks)
	cpu=$((CPU1 - CPU0))
	seconds=$(awk -v a="$T0" -v b="$T1" 'BEGIN { print b - a }')
	CPU_PER_HOUR=$(awk -v c="$cpu" -v t="$ticks" -v s="$seconds" 'BEGIN { printf "%.1f", c / t / s * 3600 }')
}

# The table, then a FAIL line for each finding and what happened in each lane.
summarise() {
	local lanes=() lane kind row failures=0 line
	for lane in $SOAK_LANES; do
		lanes+=("${lane/\//-}")
	done
	echo "natpmp soak: seed $SOAK_SEED, $SOAK_SECONDS s per lane, $(date -u +%Y-%m-%dT%H:%MZ), natpmp $("$NATPMP" --version | awk '{ print $2 }')"
	echo
	row="| figure |"
	for lane in "${lanes[@]}"; do row="$row $lane |"; done
	echo "$row"
	row="|---|"
	for lane in "${lanes[@]}"; do row="$row---|"; done
	echo "$row"
	local kinds
	kinds=$(for lane in "${lanes[@]}"; do awk '$1 == "kind" { print $2 }' "$RUNTIME/$lane/result"; done | sort -u)
	for kind in $kinds; do
		row="| faults: $kind |"
		for lane in "${lanes[@]}"; do
			row="$row $(awk -v k="$kind" '$1 == "kind" && $2 == k { print $3; found = 1 } END { if (!found) print 0 }' "$RUNTIME/$lane/result") |"
		done
		echo "$row"
	done
	table_row "faults in all" faults
	table_row "lies (mapping-seconds)" lie_seconds
	for kind in expired restart address port internal gateway; do
		row="| lies: $kind |"
		for lane in "${lanes[@]}"; do
			row="$row $(awk -v k="$kind" '$1 == "lie_rule" && $2 == k { print $3; found = 1 } END { if (!found) print 0 }' "$RUNTIME/$lane/result") |"
		done
		echo "$row"
	done
	table_row "recoveries in time" recovered
	table_row "missed recoveries" missed
	table_row "faults not judged (the next came first)" unjudged
	row="| longest recovery (s) |"
	for lane in "${lanes[@]}"; do
		row="$row $(value "$lane" longest 2) ($(value "$lane" longest 4)) |"
	done
	echo "$row"
	table_row "outage before the first fault (s)" outage_seconds
	table_row "unfounded gateway-reset or address-changed" unfounded_events
	table_row "hook runs" hooks_run
	table_row "hook runs failing" hooks_failed
	table_row "hook runs hanging" hooks_hung
	table_row "hook runs outliving --hook-timeout" hooks_overdue
	row="| RSS start / end (KiB) |"
	local rss_row="" fds_row="" children_row="" cpu_row=""
	for lane in "${lanes[@]}"; do
		lane_figures "$lane"
		rss_row="$rss_row $RSS0 / $RSS1 |"
		fds_row="$fds_row $FDS0 / $FDS1 |"
		children_row="$children_row $CHILDREN1 |"
		cpu_row="$cpu_row $CPU_PER_HOUR |"
	done
	echo "$row$rss_row"
	echo "| open descriptors start / end |$fds_row"
	echo "| children at the end |$children_row"
	table_row "stray processes at the end" strays
	echo "| CPU seconds per hour |$cpu_row"
	table_row "exit status on SIGTERM" exit_status
	echo
	for lane in "${lanes[@]}"; do
		lane_figures "$lane"
		line=$(value "$lane" lie_seconds)
		[ "$line" = 0.0 ] || { echo "FAIL $lane: renew-loop lied for $line mapping-seconds"; failures=$((failures + 1)); }
		line=$(value "$lane" missed)
		[ "$line" = 0 ] || { echo "FAIL $lane: $line missed recoveries"; failures=$((failures + 1)); }
		line=$(value "$lane" outage_seconds)
		[ "$line" = 0.0 ] || { echo "FAIL $lane: mappings down for $line s before the first fault"; failures=$((failures + 1)); }
		line=$(value "$lane" unfounded_events)
		[ "$line" = 0 ] || { echo "FAIL $lane: $line events that no genuine datagram backs (a forgery believed)"; failures=$((failures + 1)); }
		line=$(value "$lane" hooks_overdue)
		[ "$line" = 0 ] || { echo "FAIL $lane: $line hook runs outlived --hook-timeout"; failures=$((failures + 1)); }
		[ "$RSS1" -le $((RSS0 * 110 / 100)) ] || { echo "FAIL $lane: RSS grew from $RSS0 to $RSS1 KiB (more than 10%)"; failures=$((failures + 1)); }
		[ "$FDS1" -le "$FDS0" ] || { echo "FAIL $lane: open descriptors grew from $FDS0 to $FDS1"; failures=$((failures + 1)); }
		[ "$CHILDREN1" -eq 0 ] || { echo "FAIL $lane: $CHILDREN1 children at the end"; failures=$((failures + 1)); }
		line=$(value "$lane" strays)
		[ "$line" = 0 ] || { echo "FAIL $lane: $line stray processes at the end"; failures=$((failures + 1)); }
		line=$(value "$lane" exit_status)
		[ "$line" = 0 ] || { echo "FAIL $lane: renew-loop exited $line on SIGTERM"; failures=$((failures + 1)); }
	done
	for lane in "${lanes[@]}"; do
		echo
		echo "$lane:"
		grep -E '^(fault|lie|outage|unfounded) ' "$RUNTIME/$lane/result" | sed 's/^/  /'
	done
	echo
	if [ "$failures" -eq 0 ]; then
		echo "soak passed (seed $SOAK_SEED)"
	else
		echo "soak FAILED: $failures finding(s); replay with SOAK_SEED=$SOAK_SEED SOAK_SECONDS=$SOAK_SECONDS; records in $SOAK_OUT"
	fi
}

table_row() {
	local title=$1 key=$2 lane row
	row="| $title |"
	for lane in $SOAK_LANES; do
		row="$row $(value "${lane/\//-}" "$key") |"
	done
	echo "$row"
}

cleanup() {
	local pid
	for pid in "${LANE_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	# whatever a lane could not tear down
	local ns
	for ns in $(ip netns list | awk -v prefix="natpmp-soak-$$-" 'index($1, prefix) == 1 { print $1 }'); do
		NS_LAN=$ns NS_A='' NS_B='' destroy_network
	done
	if [ -n "${RUNTIME:-}" ] && [ -d "$RUNTIME" ]; then
		# a replay of a seed replaces its records
		rm -rf "$SOAK_OUT"
		mkdir -p "$SOAK_OUT"
		cp -r "$RUNTIME"/. "$SOAK_OUT"/
		rm -rf "$RUNTIME"
	fi
}

main() {
	local index=0 lane failed=0 pid
	# renew-loop runs as nobody: its directories must be reachable
	RUNTIME=$(mktemp -d /tmp/natpmp-soak.XXXXXX)
	chmod 755 "$RUNTIME"
	NATPMP_COPY=$RUNTIME/natpmp
	cp "$NATPMP" "$NATPMP_COPY"
	chmod 755 "$NATPMP_COPY"
	LANE_PIDS=()
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	echo "soak: seed $SOAK_SEED, $SOAK_SECONDS s, lanes: $SOAK_LANES (replay: SOAK_SEED=$SOAK_SEED)"
	for lane in $SOAK_LANES; do
		index=$((index + 1))
		run_lane "$index" "$lane" >"$RUNTIME/lane$index.log" 2>&1 &
		LANE_PIDS+=("$!")
	done
	index=0
	for pid in "${LANE_PIDS[@]}"; do
		index=$((index + 1))
		if ! wait "$pid"; then
			echo "soak: lane $index failed to run:" >&2
			tail -n 20 "$RUNTIME/lane$index.log" >&2
			failed=1
		fi
	done
	LANE_PIDS=()
	[ "$failed" -eq 0 ] || exit 1
	summarise >"$RUNTIME/summary.md"
	cat "$RUNTIME/summary.md"
	if grep -q "^FAIL " "$RUNTIME/summary.md"; then exit 1; fi
}

main "$@"
