# e2e_helpers.bash - a sealed LAN / gateway / WAN network made of network
# namespaces, miniupnpd on the gateway, natpmp and listeners on the LAN host.
# shellcheck shell=bash

bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
# each test keeps natpmp's state to itself, never in the user's own
export NATPMP_STATE_DIR=$BATS_TEST_TMPDIR/state
NATPMP=${NATPMP_BIN:-$TOP/build/natpmp}
# an optional wrapper such as "valgrind --error-exitcode=99 -q", split on spaces
read -r -a NATPMP_WRAPPER_WORDS <<<"${NATPMP_WRAPPER:-}"

# unique per bats run, so that parallel runs never share a namespace
NS_PREFIX=natpmp-e2e-${BATS_ROOT_PID:-$$}
NS_LAN=$NS_PREFIX-lan
NS_GW=$NS_PREFIX-gw
NS_WAN=$NS_PREFIX-wan

# made-up addresses: nothing is routed out of the namespaces
# IPv6 from the documentation prefix: the LAN's and the internet's
LAN6_HOST=2001:db8:77::2
LAN6_GW=2001:db8:77::1
WAN6_GW=2001:db8:78::1
WAN6_HOST=2001:db8:78::2
LAN_HOST=192.168.77.2
LAN_GW=192.168.77.1
WAN_GW=198.18.77.1
WAN_HOST=198.18.77.2
# miniupnpd refuses private and reserved external addresses, so it is told
# this one with ext_ip; the gateway also holds it and the WAN host routes it
# to the gateway, so clients on the WAN can dial what natpmp reports
EXT_IP=45.77.7.7

# interface names live inside the namespaces, so they need not be unique
IF_LAN=lan0
IF_GW_LAN=gwlan0
IF_GW_WAN=gwwan0
IF_WAN=wan0

MINIUPNPD_CONF=$BATS_FILE_TMPDIR/miniupnpd.conf

# Runs a command in one namespace. Background processes are started with a
# plain "ip netns exec" instead: a shell function put in the background runs
# in a subshell, and $! would name the subshell, not the process to signal.
in_lan() { ip netns exec "$NS_LAN" "$@"; }
in_gw() { ip netns exec "$NS_GW" "$@"; }
in_wan() { ip netns exec "$NS_WAN" "$@"; }

# natpmp on the LAN host, with discovery from the default route: no -g and
# no NATPMP_GATEWAY from the environment of the caller
natpmp() {
	in_lan env -u NATPMP_GATEWAY "${NATPMP_WRAPPER_WORDS[@]}" "$NATPMP" "$@"
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

# Polls a command every 0.1 s until it succeeds, for up to WAIT_LIMIT
# seconds (default 5).
wait_until() {
	local tries=$((${WAIT_LIMIT:-5} * 10))
	until "$@"; do
		tries=$((tries - 1))
		if [ "$tries" -le 0 ]; then
			echo "timed out after ${WAIT_LIMIT:-5} s waiting for: $*" >&2
			return 1
		fi
		sleep 0.1
	done
}

# True when a file has at least COUNT lines matching an extended regex.
file_has() {
	local file=$1 pattern=$2 count=${3:-1} found
	found=$(grep -cE -- "$pattern" "$file" 2>/dev/null) || found=0
	[ "$found" -ge "$count" ]
}

# True when no line of a file matches an extended regex. (A bare "! grep"
# would not fail a bats test: errexit ignores negated commands.)
file_lacks() {
	! grep -qE -- "$2" "$1"
}

# Tries to create the first namespace. When that is impossible, sets and
# exports NO_NAMESPACES to the reason, for setup to skip every test with it
# (bats 1.8 reports a skip in setup_file as a failure).
make_first_namespace() {
	local why
	if [ "$(id -u)" -ne 0 ]; then
		export NO_NAMESPACES="needs root to create network namespaces"
		return 1
	fi
	if ! why=$(ip netns add "$NS_LAN" 2>&1); then
		export NO_NAMESPACES="cannot create network namespaces (ip netns add: $why)"
		return 1
	fi
}

# The gateway's firewall: a stateful forward policy that lets nothing in
# from the WAN unless miniupnpd opened it, the three chains miniupnpd 2.3.1
# (nftables backend) fills by default, all in table inet filter, and a
# counter of UDP datagrams from the WAN that the gateway kept for itself.
gateway_ruleset() {
	cat <<EOF
table inet filter {
	counter wan_udp_to_gateway {
	}
	chain miniupnpd {
	}
	chain prerouting_miniupnpd {
	}
	chain postrouting_miniupnpd {
	}
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept;
		iifname "$IF_GW_LAN" accept;
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
	chain input {
		type filter hook input priority 0; policy accept;
		iifname "$IF_GW_WAN" meta l4proto udp counter name "wan_udp_to_gateway";
	}
}
EOF
}

miniupnpd_config() {
	cat <<EOF
ext_ifname=$IF_GW_WAN
ext_ip=$EXT_IP
listening_ip=$IF_GW_LAN
enable_natpmp=yes
enable_upnp=no
secure_mode=yes
ext_ifname6=$IF_GW_WAN
min_lifetime=2
uuid=6f1c7a52-5b0e-4d55-9a43-2f6d1e8c0a77
allow 1024-65535 192.168.77.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
EOF
}

# Builds the three namespaces (the LAN one exists already) and the links:
#   LAN host lan0 192.168.77.2 --- gwlan0 192.168.77.1 gateway
#   gateway gwwan0 198.18.77.1 + 45.77.7.7 --- wan0 198.18.77.2 WAN host
build_network() {
	ip netns add "$NS_GW"
	ip netns add "$NS_WAN"
	ip link add "$IF_LAN" netns "$NS_LAN" type veth peer name "$IF_GW_LAN" netns "$NS_GW"
	ip link add "$IF_GW_WAN" netns "$NS_GW" type veth peer name "$IF_WAN" netns "$NS_WAN"
	ip -n "$NS_LAN" addr add "$LAN_HOST/24" dev "$IF_LAN"
	ip -n "$NS_GW" addr add "$LAN_GW/24" dev "$IF_GW_LAN"
	# the reserved address first: it is the interface's primary one, which
	# miniupnpd would refuse without ext_ip
	ip -n "$NS_GW" addr add "$WAN_GW/24" dev "$IF_GW_WAN"
	ip -n "$NS_GW" addr add "$EXT_IP/32" dev "$IF_GW_WAN"
	ip -n "$NS_WAN" addr add "$WAN_HOST/24" dev "$IF_WAN"
	local ns
	for ns in "$NS_LAN" "$NS_GW" "$NS_WAN"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$NS_LAN" link set "$IF_LAN" up
	ip -n "$NS_GW" link set "$IF_GW_LAN" up
	ip -n "$NS_GW" link set "$IF_GW_WAN" up
	ip -n "$NS_WAN" link set "$IF_WAN" up
	ip -n "$NS_LAN" route add default via "$LAN_GW"
	ip -n "$NS_WAN" route add "$EXT_IP/32" via "$WAN_GW"
	in_gw sysctl -q -w net.ipv4.ip_forward=1
	build_ipv6
	gateway_ruleset | in_gw nft -f -
	miniupnpd_config >"$MINIUPNPD_CONF"
}

# IPv6 on the same links, routed, not translated: the gateway's firewall
# lets in what a PCP pinhole opens. The LAN host's default route goes via
# the gateway's link-local address, as router advertisements give it.
build_ipv6() {
	local link_local
	in_gw sysctl -q -w net.ipv6.conf.all.forwarding=1
	ip -n "$NS_LAN" addr add "$LAN6_HOST/64" dev "$IF_LAN" nodad
	ip -n "$NS_GW" addr add "$LAN6_GW/64" dev "$IF_GW_LAN" nodad
	ip -n "$NS_GW" addr add "$WAN6_GW/64" dev "$IF_GW_WAN" nodad
	ip -n "$NS_WAN" addr add "$WAN6_HOST/64" dev "$IF_WAN" nodad
	ip -n "$NS_WAN" route add 2001:db8:77::/64 via "$WAN6_GW"
	# miniupnpd sends its IPv6 ANNOUNCE to ff02::1 with no interface: it
	# leaves by the kernel's multicast route, which here would be the WAN
	# link; on this router the LAN is the one to announce to
	ip -n "$NS_GW" -6 route add multicast ff02::1/128 dev "$IF_GW_LAN" \
		table local metric 1
	wait_until gateway_link_local
	link_local=$(gateway_link_local)
	ip -n "$NS_LAN" -6 route add default via "$link_local" dev "$IF_LAN"
}

# The gateway's link-local address on the LAN, once it has one that
# finished duplicate address detection: until then the LAN host's
# neighbour solicitations go unanswered and its first datagrams to the
# router wait for seconds in the neighbour queue.
gateway_link_local() {
	ip -n "$NS_GW" -6 addr show dev "$IF_GW_LAN" scope link -tentative |
		awk '/inet6/ { sub("/.*", "", $2); print $2; found = 1 } END { exit !found }'
}

# Kills every process left in one of our namespaces (they can only be ours)
# and waits, up to 5 s, until none is left.
kill_namespace_processes() {
	local ns=$1 pids tries=50
	while pids=$(ip netns pids "$ns" 2>/dev/null) && [ -n "$pids" ]; do
		# shellcheck disable=SC2086 # one pid per word
		kill -KILL $pids 2>/dev/null || true
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.1
	done
}

destroy_network() {
	local ns
	for ns in "$NS_LAN" "$NS_GW" "$NS_WAN"; do
		ip netns pids "$ns" >/dev/null 2>&1 || continue
		kill_namespace_processes "$ns" || true
		ip netns del "$ns" || true
	done
}

# Empties miniupnpd's chains, as on a gateway that just booted: miniupnpd
# does not remove its rules when it exits.
flush_miniupnpd_rules() {
	in_gw nft flush chain inet filter miniupnpd
	in_gw nft flush chain inet filter prerouting_miniupnpd
	in_gw nft flush chain inet filter postrouting_miniupnpd
}

# Starts miniupnpd in the foreground (-d) on the gateway, logging to
# MINIUPNPD_LOG, and waits until its NAT-PMP socket is open.
start_miniupnpd() {
	MINIUPNPD_LOG=$BATS_TEST_TMPDIR/miniupnpd.log
	local pidfile=$BATS_TEST_TMPDIR/miniupnpd.pid
	# a stale pid file of a live process makes miniupnpd refuse to start
	rm -f "$pidfile"
	echo "--- miniupnpd started" >>"$MINIUPNPD_LOG"
	ip netns exec "$NS_GW" miniupnpd -f "$MINIUPNPD_CONF" -d -P "$pidfile" >>"$MINIUPNPD_LOG" 2>&1 3>&- &
	MINIUPNPD_PID=$!
	local started
	started=$(grep -c -- '--- miniupnpd started' "$MINIUPNPD_LOG")
	# its socket is bound before it logs this line
	if ! wait_until miniupnpd_listening "$started"; then
		echo "miniupnpd did not start:" >&2
		cat "$MINIUPNPD_LOG" >&2
		return 1
	fi
	# its epoch started before this: its age is at least what this says
	MINIUPNPD_STARTED_NS=$(date +%s%N)
}

# True once the latest miniupnpd (the Nth start) logged that it listens.
miniupnpd_listening() {
	awk -v n="$1" '/^--- miniupnpd started/ { run++ }
		run == n && /Listening for NAT-PMP\/PCP traffic on port 5351/ { found = 1 }
		END { exit !found }' "$MINIUPNPD_LOG"
}

# True while a child of this shell runs: it may have exited and still wait
# to be reaped, which kill -0 would not tell.
running() {
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) && [ "$state" != Z ]
}

stopped() {
	! running "$1"
}

# Ends a child process of this shell: SIGTERM, SIGKILL if it still runs
# after 5 s, then reaps it. Its pid cannot have been reused meanwhile,
# since it is only reaped here.
end_process() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || return 0
	if ! WAIT_LIMIT=5 wait_until stopped "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

stop_miniupnpd() {
	if [ -n "${MINIUPNPD_PID:-}" ]; then
		end_process "$MINIUPNPD_PID"
		MINIUPNPD_PID=
	fi
}

# Starts a LAN listener that appends whatever it receives on a TCP or UDP
# port to a file, and waits until the port is open.
start_listener() {
	local proto=$1 port=$2 file=$3 address
	: >"$file"
	# one socket for both families
	case $proto in
	tcp) address=TCP6-LISTEN:$port,ipv6only=0,reuseaddr,fork ;;
	udp) address=UDP6-RECV:$port,ipv6only=0 ;;
	esac
	ip netns exec "$NS_LAN" socat -u "$address" "OPEN:$file,creat,append" 3>&- &
	BACKGROUND_PIDS+=("$!")
	wait_until lan_port_open "$proto" "$port"
}

lan_port_open() {
	local flag=-ltn
	[ "$1" = udp ] && flag=-lun
	[ -n "$(in_lan ss -H "$flag" "sport = :$2")" ]
}

# Sends a line from the WAN host over a new TCP connection; fails if the
# connection is refused or not made within 2 s.
wan_send_tcp() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	in_wan timeout 2 bash -c 'printf "%s\n" "$3" >"/dev/tcp/$1/$2"' _ "$@"
}

# Sends a line as one UDP datagram from the WAN host, from a fresh port.
wan_send_udp() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	in_wan timeout 2 bash -c 'printf "%s\n" "$3" >"/dev/udp/$1/$2"' _ "$@"
}

# UDP datagrams from the WAN that the gateway delivered to itself, because
# nothing forwarded them.
udp_kept_by_gateway() {
	in_gw nft -j list counter inet filter wan_udp_to_gateway |
		jq '.nftables[] | select(.counter) | .counter.packets'
}

# True once the gateway has kept more than N datagrams for itself.
udp_kept_more_than() {
	[ "$(udp_kept_by_gateway)" -gt "$1" ]
}

# True once miniupnpd's forwarding (DNAT) chain holds a rule again.
miniupnpd_has_rule() {
	[ "$(miniupnpd_rule_count prerouting_miniupnpd)" -ge 1 ]
}

# Number of rules in one of miniupnpd's chains on the gateway.
miniupnpd_rule_count() {
	in_gw nft -j list chain inet filter "$1" |
		jq '[.nftables[] | select(.rule)] | length'
}

# unmap_closes INTERNAL EXT_ADDR EXT_PORT: `natpmp unmap INTERNAL` in a run
# of its own succeeds quietly, leaves miniupnpd no forwarding rule, and a
# WAN host can no longer reach EXT_ADDR:EXT_PORT
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $output and $stderr
unmap_closes() {
	run --separate-stderr natpmp unmap "$1"
	[ "$status" -eq 0 ]
	[ "$output" = "tcp $1 unmapped" ]
	[ "$stderr" = "" ]
	[ "$(miniupnpd_rule_count prerouting_miniupnpd)" -eq 0 ]
	run ! wan_send_tcp "$2" "$3" "unmapped-$$"
}

# let_miniupnpd_age: a restart shows in the gateway's epoch only once the
# gateway has run longer than the drift RFC 6886 section 3.6 and RFC 6887
# section 8.5 forgive (2 s, on whole-second epochs, plus 1/8 or 1/16 of
# the client's time): restarted in its first seconds, miniupnpd answers
# with an epoch its predecessor could have given, and no client can tell.
# Waits until the running miniupnpd is 6 s old; call before a restart.
let_miniupnpd_age() {
	local left_ms seconds
	left_ms=$((6000 - ($(date +%s%N) - MINIUPNPD_STARTED_NS) / 1000000))
	if [ "$left_ms" -gt 0 ]; then
		printf -v seconds '%d.%03d' $((left_ms / 1000)) $((left_ms % 1000))
		sleep "$seconds"
	fi
}

# restart_and_await_rule: starts miniupnpd again after stop_miniupnpd and
# flush_miniupnpd_rules; the running loop must hear the restart and have
# its rule back within 8 s
restart_and_await_rule() {
	local started elapsed
	started=$(date +%s%N)
	start_miniupnpd
	WAIT_LIMIT=8 wait_until file_has "$LOOP_OUT" " gateway-reset $LAN_GW "
	WAIT_LIMIT=8 wait_until miniupnpd_has_rule
	elapsed=$((($(date +%s%N) - started) / 1000000))
	echo "rule back $elapsed ms after the restart"
	[ "$elapsed" -le 8000 ]
}

# Starts natpmp renew-loop on the LAN host with stdout and stderr in files.
start_loop() {
	LOOP_OUT=$BATS_TEST_TMPDIR/loop.out
	LOOP_ERR=$BATS_TEST_TMPDIR/loop.err
	empty_logs "$LOOP_OUT" "$LOOP_ERR"
	ip netns exec "$NS_LAN" env -u NATPMP_GATEWAY "${NATPMP_WRAPPER_WORDS[@]}" "$NATPMP" "$@" >"$LOOP_OUT" 2>"$LOOP_ERR" 3>&- &
	LOOP_PID=$!
}

# Stops renew-loop with SIGTERM and fails unless it exits 0, as it must
# (under a wrapper such as valgrind, this also catches its reports).
stop_loop() {
	kill -TERM "$LOOP_PID"
	local status=0
	wait "$LOOP_PID" || status=$?
	LOOP_PID=
	echo "renew-loop exited with status $status"
	[ "$status" -eq 0 ]
}

loop_count() {
	grep -cE -- "$1" "$LOOP_OUT" || true
}

# No background process yet: the state each test starts from.
forget_background() {
	BACKGROUND_PIDS=()
	LOOP_PID=
	MINIUPNPD_PID=
}

# Ends everything a test started in the background, then anything else
# left in the namespaces (socat's per-connection children).
stop_background() {
	local pid
	for pid in ${LOOP_PID:-} "${BACKGROUND_PIDS[@]}"; do
		end_process "$pid"
	done
	stop_miniupnpd
	forget_background
	kill_namespace_processes "$NS_LAN" || true
	kill_namespace_processes "$NS_WAN" || true
	kill_namespace_processes "$NS_GW" || true
}

# On failure, shows what miniupnpd and renew-loop said.
show_logs_on_failure() {
	[ -z "${BATS_TEST_COMPLETED:-}" ] || return 0
	local file
	for file in "${MINIUPNPD_LOG:-}" "${LOOP_OUT:-}" "${LOOP_ERR:-}"; do
		if [ -z "$file" ] || [ ! -s "$file" ]; then
			continue
		fi
		echo "--- last lines of $file"
		grep -v 'is not a IGD pinhole' "$file" | tail -n 40
	done
}

# --- the hooks of every e2e file ---

setup_file() {
	# the tests share one network and one miniupnpd: never run them at once
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
	if make_first_namespace; then
		build_network
	fi
}

teardown_file() {
	destroy_network
}

setup() {
	if [ -n "${NO_NAMESPACES:-}" ]; then
		skip "$NO_NAMESPACES"
	fi
	forget_background
	# every test meets a freshly started gateway with no mappings
	flush_miniupnpd_rules
	start_miniupnpd
}

teardown() {
	show_logs_on_failure
	stop_background
}
