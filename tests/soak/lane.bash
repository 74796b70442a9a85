# lane.bash - one lane of the soak: renew-loop on a LAN host with two
# gateways (fake or miniupnpd), each in network namespaces of its own,
# faults drawn from a seed, and every record the oracle needs.
# shellcheck shell=bash
#
#   LAN host  lan0 192.168.77.2 --- gwlan0 192.168.77.1  gateway A
#             lan1 192.168.78.2 --- gwlan0 192.168.78.1  gateway B
# The default route goes via A at first; a miniupnpd gateway also has a
# wan0 (a veth pair inside its namespace) holding its public address.

readonly GW_A=192.168.77.1 GW_B=192.168.78.1
readonly NET_A=192.168.77 NET_B=192.168.78
readonly IF_A=lan0 IF_B=lan1
readonly SPECS=(8080 5353/udp)
readonly KEYS="tcp:8080 udp:5353"
# time compressed: mappings of 10 s, renewed every 5 s; each request gives
# up after 2 s; a hook may run for 2 s
readonly LIFETIME=10 TIMEOUT=2 HOOK_TIMEOUT=2
readonly NOBODY=65534

# --- records and randomness ---

record() {
	printf '%s %s\n' "$EPOCHREALTIME" "$*" >>"$LANE_DIR/records"
}

note() {
	printf '%s [%s] %s\n' "$(date +%T)" "$LANE" "$*" >>"$LANE_DIR/soak.log"
}

# draw N: REPLY becomes a number in 0..N-1 from the lane's own generator, so
# that one seed gives the same faults whatever the timing
draw() {
	rng=$(((rng * 1103515245 + 12345) & 0x7fffffff))
	REPLY=$(((rng >> 8) % $1))
}

# pick WORD...: REPLY becomes one of the words
pick() {
	local words=("$@")
	draw "${#words[@]}"
	REPLY=${words[$REPLY]}
}

in_lan() { ip netns exec "$NS_LAN" "$@"; }

# --- the network ---

build_network() {
	local ns
	for ns in "$NS_LAN" "$NS_A" "$NS_B"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	ip link add "$IF_A" netns "$NS_LAN" type veth peer name gwlan0 netns "$NS_A"
	ip link add "$IF_B" netns "$NS_LAN" type veth peer name gwlan0 netns "$NS_B"
	# no IPv6 chatter on the LAN host: the soak is about IPv4
	in_lan sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	# a forged announcement from another interface must reach the socket
	in_lan sysctl -qw net.ipv4.conf.all.rp_filter=0
	in_lan sysctl -qw net.ipv4.conf.default.rp_filter=0
	ip -n "$NS_LAN" addr add "$NET_A.2/24" dev "$IF_A"
	ip -n "$NS_LAN" addr add "$NET_B.2/24" dev "$IF_B"
	in_lan sysctl -qw "net.ipv4.conf.$IF_A.rp_filter=0" "net.ipv4.conf.$IF_B.rp_filter=0"
	ip -n "$NS_A" addr add "$GW_A/24" dev gwlan0
	ip -n "$NS_B" addr add "$GW_B/24" dev gwlan0
	ip -n "$NS_LAN" link set "$IF_A" up
	ip -n "$NS_LAN" link set "$IF_B" up
	for ns in "$NS_A" "$NS_B"; do
		ip -n "$ns" link set gwlan0 up
		# announcements leave through the LAN link
		ip -n "$ns" route add 224.0.0.0/4 dev gwlan0
	done
	# each gateway holds the other's address too, on lo, to forge its
	# announcements through the wrong link
	ip -n "$NS_A" addr add "$GW_B/32" dev lo
	ip -n "$NS_B" addr add "$GW_A/32" dev lo
	ip -n "$NS_LAN" route add default via "$GW_A"
	record N addr "$IF_A" "$NET_A.2"
	record N addr "$IF_B" "$NET_B.2"
	record N gw "$GW_A" "$IF_A"
	# shellcheck disable=SC2034 # faults.bash reads them
	CUR_GW=$GW_A CUR_IF=$IF_A HOST_A=2 HOST_B=2
}

destroy_network() {
	local ns pids tries
	for ns in "${NS_LAN:-}" "${NS_A:-}" "${NS_B:-}"; do
		[ -n "$ns" ] || continue
		ip netns pids "$ns" >/dev/null 2>&1 || continue
		tries=50
		while pids=$(ip netns pids "$ns" 2>/dev/null) && [ -n "$pids" ]; do
			# shellcheck disable=SC2086 # one pid per word
			kill -KILL $pids 2>/dev/null || true
			tries=$((tries - 1))
			[ "$tries" -gt 0 ] || break
			sleep 0.1
		done
		ip netns del "$ns" 2>/dev/null || true
	done
}

other_gateway() {
	if [ "$CUR_GW" = "$GW_A" ]; then REPLY=$GW_B; else REPLY=$GW_A; fi
}

ns_of() {
	if [ "$1" = "$GW_A" ]; then REPLY=$NS_A; else REPLY=$NS_B; fi
}

# gateway_name GATEWAY: REPLY becomes a or b, for file and variable names
gateway_name() {
	if [ "$1" = "$GW_A" ]; then REPLY=a; else REPLY=b; fi
}

# --- gateways ---

fake_start() {
	local gw=$1 external=$2 name
	gateway_name "$gw"
	name=$REPLY
	local ns ready=$LANE_DIR/fake$name.ready log=$LANE_DIR/fake$name.log
	ns_of "$gw"
	ns=$REPLY
	ip netns exec "$ns" "$FAKEGW" --bind "$gw" --port 5351 --ready-file "$ready" \
		--log "$log" --max-lifetime "$LIFETIME" --external "$external" \
		--seed "$rng" </dev/null >/dev/null 2>&1 &
	wait_for test -s "$ready" || return 1
	read -r _ CTL <"$ready"
	printf -v "CTL_$name" %s "$CTL"
	record X "$gw" "$external"
	ip netns exec "$ns" bash "$SOAK_DIR/sample.bash" fake "$gw" "$FAKEGW" "$CTL" \
		"$log" "$LANE_DIR/fake$name.wall.log" >>"$LANE_DIR/records" 2>/dev/null </dev/null &
}

# fake_ctl GATEWAY COMMAND...
fake_ctl() {
	local gw=$1 variable ns
	gateway_name "$gw"
	variable=CTL_$REPLY
	shift
	ns_of "$gw"
	ns=$REPLY
	ip netns exec "$ns" "$FAKEGW" --bind "$gw" --ctl "${!variable}" "$@" >/dev/null
}

miniupnpd_ruleset() {
	cat <<'EOF'
table inet filter {
	chain miniupnpd {
	}
	chain prerouting_miniupnpd {
	}
	chain postrouting_miniupnpd {
	}
	chain forward {
		type filter hook forward priority 0; policy drop;
		jump miniupnpd;
	}
	chain prerouting {
		type nat hook prerouting priority -100; policy accept;
		jump prerouting_miniupnpd;
	}
	chain postrouting {
		type nat hook postrouting priority 100; policy accept;
		jump postrouting_miniupnpd;
	}
}
EOF
}

# miniupnpd learns its external address from wan0 (no ext_ip), so that
# changing it is an external address change it sees; PCP lifetimes are
# clamped to the soak's, NAT-PMP ones are granted as asked
miniupnpd_config() {
	local net=$1
	cat <<EOF
ext_ifname=wan0
listening_ip=gwlan0
enable_natpmp=yes
enable_upnp=no
secure_mode=yes
min_lifetime=2
max_lifetime=$LIFETIME
uuid=6f1c7a52-5b0e-4d55-9a43-2f6d1e8c0a$((${net##*.} - 10))
allow 1024-65535 $net.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
EOF
}

miniupnpd_prepare() {
	local gw=$1 external=$2 ns name
	gateway_name "$gw"
	name=$REPLY
	ns_of "$gw"
	ns=$REPLY
	ip -n "$ns" link add wan0 type veth peer name wanpeer
	ip -n "$ns" addr add "$external/32" dev wan0
	ip -n "$ns" link set wan0 up
	ip -n "$ns" link set wanpeer up
	miniupnpd_ruleset | ip netns exec "$ns" nft -f -
	miniupnpd_config "${gw%.*}" >"$LANE_DIR/miniupnpd$name.conf"
	record X "$gw" "$external"
	ip netns exec "$ns" bash "$SOAK_DIR/sample.bash" miniupnpd "$gw" \
		>>"$LANE_DIR/records" 2>/dev/null </dev/null &
}

miniupnpd_listening() {
	awk -v n="$2" '/^--- miniupnpd started/ { run++ }
		run == n && /Listening for NAT-PMP\/PCP traffic on port 5351/ { found = 1 }
		END { exit !found }' "$1"
}

miniupnpd_start() {
	local gw=$1 ns name log started
	gateway_name "$gw"
	name=$REPLY
	ns_of "$gw"
	ns=$REPLY
	log=$LANE_DIR/miniupnpd$name.log
	rm -f "$LANE_DIR/miniupnpd$name.pid"
	echo "--- miniupnpd started" >>"$log"
	started=$(grep -c -- '--- miniupnpd started' "$log")
	ip netns exec "$ns" miniupnpd -f "$LANE_DIR/miniupnpd$name.conf" -d \
		-P "$LANE_DIR/miniupnpd$name.pid" >>"$log" 2>&1 </dev/null &
	printf -v "MINIUPNPD_$name" %s "$!"
	wait_for miniupnpd_listening "$log" "$started"
}

miniupnpd_stop() {
	local variable pid
	gateway_name "$1"
	variable=MINIUPNPD_$REPLY
	pid=${!variable}
	kill -TERM "$pid" 2>/dev/null || return 0
	wait "$pid" 2>/dev/null || true
}

# as on a gateway that rebooted: miniupnpd leaves its rules behind
miniupnpd_flush() {
	local ns chain
	ns_of "$1"
	ns=$REPLY
	for chain in miniupnpd prerouting_miniupnpd postrouting_miniupnpd; do
		ip netns exec "$ns" nft flush chain inet filter "$chain"
	done
}

# --- the client ---

start_watch() {
	in_lan "$UDP_WATCH" </dev/null 2>>"$LANE_DIR/udp_watch.err" |
		sed -u 's/^\([0-9.]*\) /\1 P /' >>"$LANE_DIR/records" &
}

# renew-loop as an unprivileged user (as the systemd unit runs it), so that
# a state directory without write permission means something; its stdout
# stamped with the wall-clock time and turned into E records
start_loop() {
	local private=$LANE_DIR/nobody protocol=()
	mkdir -p "$private/state"
	cp "$SOAK_DIR/hook.sh" "$private/hook.sh"
	echo ok >"$private/hook.mode"
	: >"$private/hook.log"
	chown -R "$NOBODY:$NOBODY" "$private"
	chmod 755 "$LANE_DIR" "$private"
	[ "$LANE_PROTOCOL" = pcp ] && protocol=(--pcp)
	mkfifo "$LANE_DIR/loop.fifo"
	stamp_events <"$LANE_DIR/loop.fifo" &
	ip netns exec "$NS_LAN" setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups \
		env -u NATPMP_GATEWAY NATPMP_STATE_DIR="$private/state" \
		"$NATPMP_COPY" -j -v -t "$TIMEOUT" -l "$LIFETIME" "${protocol[@]}" \
		renew-loop "${SPECS[@]}" --on-change "$private/hook.sh" \
		--hook-timeout "$HOOK_TIMEOUT" >"$LANE_DIR/loop.fifo" 2>"$LANE_DIR/loop.err" </dev/null &
	LOOP_PID=$!
}

stamp_events() {
	local line
	while IFS= read -r line; do
		printf '%s %s\n' "$EPOCHREALTIME" "$line"
	done | tee -a "$LANE_DIR/loop.jsonl" | events_to_records >>"$LANE_DIR/records"
}

# "TIME {json}" into "TIME E EVENT GATEWAY PROTO INT-ADDR INT-PORT EXT-ADDR
# EXT-PORT LIFETIME"
events_to_records() {
	jq --unbuffered -R -r '
		(index(" ")) as $space | .[:$space] as $t | (.[$space + 1:] | fromjson) as $e
		| [$t, "E", $e.event] + ([$e.gateway, $e.protocol, $e.internal_address,
			$e.internal_port, $e.external_address, $e.external_port, $e.lifetime]
			| map(if . == null then "-" else tostring end)) | join(" ")'
}

# --- the oracle, live: "HEALTHY DEADLINE" now ---

live_state() {
	local snapshots
	snapshots=$(grep -E "^[0-9.]+ S ($GW_A|$GW_B) " "$LANE_DIR/records" | tail -n 2)
	{
		grep -E '^[0-9.]+ [EFNXL] ' "$LANE_DIR/records"
		printf '%s\n' "$snapshots"
	} | sort -s -n -k1,1 | awk -v mode=live -v now="$EPOCHREALTIME" \
		-v keys="$KEYS" -v lifetime="$LIFETIME" -v timeout="$TIMEOUT" \
		-v gw_a="$GW_A" -v if_a="$IF_A" -v gw_b="$GW_B" -v if_b="$IF_B" \
		-f "$SOAK_DIR/oracle.awk"
}

healthy_now() {
	local healthy
	read -r healthy _ < <(live_state)
	[ "$healthy" = 1 ]
}

# Waits until every mapping is back and has been granted again since the
# fault returned (a fault can let a mapping run out later, at its next
# renewal: the next fault must not take the blame), or until the last
# fault's deadline (and 1 s more, for the last samples) has passed.
await_recovery() {
	local healthy fresh deadline now
	# the gateway's samples must show the fault first
	sleep 0.5
	while :; do
		read -r healthy fresh deadline < <(live_state)
		now=$EPOCHREALTIME
		[ "$healthy$fresh" = 11 ] && return 0
		if awk -v now="$now" -v deadline="$deadline" 'BEGIN { exit !(now > deadline + 1) }'; then
			note "fault $FAULT_ID: waited to its deadline"
			return 1
		fi
		sleep 0.3
	done
}

# --- growth ---

# children_of PID: REPLY becomes how many processes have PID as parent
children_of() {
	local stat line count=0
	for stat in /proc/[0-9]*/stat; do
		read -r line 2>/dev/null <"$stat" || continue
		# the fields after the command name, which may hold spaces
		line=${line##*) }
		read -r _ parent _ <<<"$line"
		[ "$parent" = "$1" ] && count=$((count + 1))
	done
	REPLY=$count
}

# "RSS-KIB FDS CHILDREN CPU-TICKS" of renew-loop, the least RSS, fds and
# children of five looks 0.2 s apart (a hook may be running for a moment)
measure() {
	local rss fds children cpu best_rss='' best_fds='' best_children='' stat
	for _ in 1 2 3 4 5; do
		rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$LOOP_PID/status")
		fds=$(find "/proc/$LOOP_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
		children_of "$LOOP_PID"
		children=$REPLY
		[ -z "$best_rss" ] || [ "$rss" -lt "$best_rss" ] && best_rss=$rss
		[ -z "$best_fds" ] || [ "$fds" -lt "$best_fds" ] && best_fds=$fds
		[ -z "$best_children" ] || [ "$children" -lt "$best_children" ] && best_children=$children
		sleep 0.2
	done
	stat=$(cat "/proc/$LOOP_PID/stat")
	stat=${stat##*) }
	read -r -a fields <<<"$stat"
	# utime and stime are fields 14 and 15 of stat, 12 and 13 after the name
	cpu=$((fields[11] + fields[12]))
	echo "$best_rss $best_fds $best_children $cpu $EPOCHREALTIME"
}
