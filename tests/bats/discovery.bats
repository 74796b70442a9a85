#!/usr/bin/env bats
# discovery.bats - finding the gateway from the kernel's routes, inside
# network namespaces this file creates and removes; nothing here can reach
# the machine's real network.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr and $stderr_lines

load helpers
load netns

DISCOVER=$BUILD/tests/discover

setup() {
	netns_create
}

teardown() {
	common_teardown
	netns_destroy
}

# The test tool that prints what gateway discovery finds, on the LAN host.
lan_discover() {
	ip netns exec "$NS_LAN" "$DISCOVER" "$@"
}

# natpmp address, as users run it (no -g, no -t), on a LAN numbered HOST
# whose router ROUTER runs the fake gateway: discovery must find it.
lan_reaches_its_router() {
	local host=$1 router=$2
	netns_wire_net "$host" "$router"
	ip -n "$NS_LAN" route add default via "$router"
	netns_start_gateway "$router" --external 44.5.6.7
	run --separate-stderr lan_natpmp address
	[ "$status" -eq 0 ]
	[ "$output" = "44.5.6.7" ]
	[ "$(gw_count "recv from=${host%/*}:[0-9]+ len=2 op=address")" -eq 1 ]
}

# Starts the network watch on the LAN host for INTERFACE, printing into
# $WATCH_LOG, and waits until it listens. A plain `ip netns exec`, not
# lan_discover: a function put in the background is a subshell, and
# killing it would leave the watch running (and writing to $WATCH_LOG).
start_watch() {
	WATCH_LOG=$BATS_TEST_TMPDIR/watch.log
	empty_logs "$WATCH_LOG"
	ip netns exec "$NS_LAN" "$DISCOVER" --watch "$1" >"$WATCH_LOG" 2>&1 3>&- &
	WATCH_PID=$!
	track_background "$WATCH_PID"
	wait_until grep -q '^watching$' "$WATCH_LOG"
}

stop_watch() {
	if [ -n "${WATCH_PID:-}" ]; then
		end_process "$WATCH_PID"
	fi
	WATCH_PID=
}

watch_saw() {
	grep -q "$1" "$WATCH_LOG"
}

@test "without --gateway, natpmp asks the default route's gateway" {
	netns_wire_lan
	ip -n "$NS_LAN" route add default via 10.77.0.1
	netns_start_gateway 10.77.0.1 --external 44.5.6.7
	run --separate-stderr lan_natpmp -t 3 address
	[ "$status" -eq 0 ]
	[ "$output" = "44.5.6.7" ]
	[ "$(gw_count 'recv from=10\.77\.0\.2:[0-9]+ len=2 op=address')" -eq 1 ]
}

@test "map output shows the LAN address the request went out from" {
	netns_wire_lan
	ip -n "$NS_LAN" route add default via 10.77.0.1
	netns_start_gateway 10.77.0.1
	run lan_natpmp -t 3 map 8080
	[ "$status" -eq 0 ]
	[ "$output" = "tcp 44.1.2.3:8080 -> 10.77.0.2:8080 lifetime 7200s" ]
}

@test "policy routing is honoured: a rule's table wins over the main table" {
	netns_wire_lan
	ip -n "$NS_LAN" route add default via 10.77.0.1
	ip -n "$NS_LAN" route add default via 10.77.0.3 table 100
	ip -n "$NS_LAN" rule add lookup 100 priority 100
	netns_start_gateway 10.77.0.3 --external 44.3.3.3
	run lan_natpmp -t 3 address
	[ "$status" -eq 0 ]
	[ "$output" = "44.3.3.3" ]
}

@test "-v names the route, table, gateway, interface, metric and source address" {
	netns_wire_lan
	ip -n "$NS_LAN" route add default via 10.77.0.1 metric 100
	netns_start_gateway 10.77.0.1
	run --separate-stderr lan_natpmp -v -t 3 address
	[ "$status" -eq 0 ]
	[[ "${stderr_lines[0]}" =~ ^natpmp:\ \[\ *[0-9]+\ ms\]\ (.*)$ ]]
	[ "${BASH_REMATCH[1]}" = "gateway 10.77.0.1, from the default route 0.0.0.0/0 in table main via 10.77.0.1 dev veth-lan metric 100, source 10.77.0.2" ]
}

@test "NATPMP_GATEWAY is used instead of discovery" {
	netns_wire_lan
	ip -n "$NS_LAN" route add default via 10.77.0.1
	netns_start_gateway 10.77.0.3 --external 44.3.3.3
	run ip netns exec "$NS_LAN" env NATPMP_GATEWAY=10.77.0.3 "$NATPMP" -t 3 address
	[ "$status" -eq 0 ]
	[ "$output" = "44.3.3.3" ]
}

@test "a point-to-point default route names its interface and asks for --gateway" {
	ip link add wg-test0 netns "$NS_LAN" type veth peer name wg-peer0 netns "$NS_GW"
	ip -n "$NS_LAN" addr add 10.2.0.2/32 dev wg-test0
	ip -n "$NS_LAN" link set wg-test0 up
	ip -n "$NS_LAN" route add default dev wg-test0
	run --separate-stderr lan_natpmp -t 1 address
	[ "$status" -eq 68 ]
	[ -z "$output" ]
	[ "$stderr" = "natpmp: the default route goes through wg-test0, which has no gateway address (a point-to-point link such as a VPN tunnel): name the gateway with --gateway ADDR" ]
}

@test "no default route at all is exit 68 with a clear line" {
	run --separate-stderr lan_natpmp -t 1 map 8080
	[ "$status" -eq 68 ]
	[ "$stderr" = "natpmp: no default route: connect to a network, or name the gateway with --gateway ADDR" ]
}

@test "no gateway in JSON mode is one error object" {
	run --separate-stderr lan_natpmp -j -t 1 map 8080 8081
	[ "$status" -eq 68 ]
	[ "${#lines[@]}" -eq 1 ]
	echo "$output" | jq -e '.error == "no-gateway" and .gateway == null and has("gateway_port") and .gateway_port == null and (.message | test("no default route"))'
}

@test "a LAN numbered from TEST-NET-1 whose router is 192.0.2.1 is an ordinary LAN" {
	lan_reaches_its_router 192.0.2.2/24 192.0.2.1
}

@test "a LAN numbered from TEST-NET-2 finds its router" {
	lan_reaches_its_router 198.51.100.7/24 198.51.100.1
}

@test "a private 10.x LAN finds its router" {
	lan_reaches_its_router 10.20.30.40/24 10.20.30.254
}

@test "of several default routes the lowest metric wins, as in the kernel" {
	netns_wire_lan
	ip -n "$NS_LAN" route add default via 10.77.0.1 metric 200
	ip -n "$NS_LAN" route add default via 10.77.0.3 metric 50
	netns_start_gateway 10.77.0.3 --external 44.3.3.3
	run --separate-stderr lan_natpmp -t 3 address
	[ "$status" -eq 0 ]
	[ "$output" = "44.3.3.3" ]
}

@test "rules on the source address route as the host's own connections do" {
	netns_wire_lan
	ip -n "$NS_LAN" route add default via 10.77.0.1
	ip -n "$NS_LAN" route add default via 10.77.0.3 table 100
	ip -n "$NS_LAN" rule add from 10.77.0.2 lookup 100 priority 100
	netns_start_gateway 10.77.0.3 --external 44.3.3.3
	run --separate-stderr lan_natpmp -v -t 3 address
	[ "$status" -eq 0 ]
	[ "$output" = "44.3.3.3" ]
	[[ "${stderr_lines[0]}" == *"from the default route 0.0.0.0/0 in table 100 via 10.77.0.3 dev veth-lan metric 0, source 10.77.0.2" ]]
}

@test "OpenVPN's def1 routes override the default route they leave in place" {
	netns_wire_lan
	ip -n "$NS_LAN" route add default via 10.77.0.1
	ip -n "$NS_LAN" route add 0.0.0.0/1 via 10.77.0.3
	ip -n "$NS_LAN" route add 128.0.0.0/1 via 10.77.0.3
	netns_start_gateway 10.77.0.3 --external 44.3.3.3
	run --separate-stderr lan_natpmp -v -t 3 address
	[ "$status" -eq 0 ]
	[ "$output" = "44.3.3.3" ]
	[[ "${stderr_lines[0]}" == *"gateway 10.77.0.3, from the route 0.0.0.0/1 in table main via 10.77.0.3 dev veth-lan metric 0, source 10.77.0.2" ]]
}

@test "wg-quick's tunnel table wins over the LAN's router, and its interface is named" {
	netns_wire_lan
	ip -n "$NS_LAN" route add default via 10.77.0.1
	ip link add wg0 netns "$NS_LAN" type veth peer name wg-peer0 netns "$NS_GW"
	ip -n "$NS_LAN" addr add 10.2.0.2/32 dev wg0
	ip -n "$NS_LAN" link set wg0 up
	ip -n "$NS_LAN" route add default dev wg0 table 51820
	ip -n "$NS_LAN" rule add not fwmark 51820 table 51820
	ip -n "$NS_LAN" rule add table main suppress_prefixlength 0
	run --separate-stderr lan_natpmp -t 1 address
	[ "$status" -eq 68 ]
	[ -z "$output" ]
	[ "$stderr" = "natpmp: the default route goes through wg0, which has no gateway address (a point-to-point link such as a VPN tunnel): name the gateway with --gateway ADDR" ]
}

@test "a default route that rejects traffic is named by its type" {
	local type
	for type in unreachable blackhole prohibit; do
		ip -n "$NS_LAN" route replace "$type" default
		run --separate-stderr lan_natpmp -t 1 address
		[ "$status" -eq 68 ]
		[ "$stderr" = "natpmp: the default route is of type $type, which leads nowhere beyond this host: name the gateway with --gateway ADDR" ]
	done
}

@test "IPv6: a default route via a link-local router gives it with its interface, and the global source" {
	ip netns exec "$NS_LAN" sysctl -qw net.ipv6.conf.default.accept_dad=0
	netns_wire_lan
	ip -n "$NS_LAN" addr add 2001:db8:77::2/64 dev veth-lan
	ip -n "$NS_GW" addr add fe80::1/64 dev veth-gw nodad
	ip -n "$NS_LAN" route add default via fe80::1 dev veth-lan
	run --separate-stderr lan_discover -6
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "gateway fe80::1%veth-lan" ]
	[ "${lines[1]}" = "interface veth-lan" ]
	[ "${lines[2]}" = "source 2001:db8:77::2" ]
	[ "${lines[3]}" = "origin default route ::/0 in table main via fe80::1 dev veth-lan metric 1024, source 2001:db8:77::2" ]
}

@test "IPv6: no default route is a clear error" {
	netns_wire_lan
	run --separate-stderr lan_discover -6
	[ "$status" -eq 1 ]
	[ "$stderr" = "discover: no IPv6 default route: connect to a network, or name the gateway with --gateway ADDR" ]
}

@test "a named gateway gets the interface and source address the kernel would use" {
	netns_wire_lan
	ip -n "$NS_LAN" route add default via 10.77.0.1
	ip link add wg0 netns "$NS_LAN" type veth peer name wg-peer0 netns "$NS_GW"
	ip -n "$NS_LAN" addr add 10.2.0.2/24 dev wg0
	ip -n "$NS_LAN" link set wg0 up
	run --separate-stderr lan_discover --to 10.2.0.1
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "interface wg0" ]
	[ "${lines[2]}" = "source 10.2.0.2" ]
	[ "${lines[3]}" = "origin named gateway 10.2.0.1 dev wg0, source 10.2.0.2" ]
}

@test "a named gateway behind a router names that router as the next hop" {
	netns_wire_lan
	ip -n "$NS_LAN" route add default via 10.77.0.1
	run --separate-stderr lan_discover --to 198.51.100.1
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "interface veth-lan" ]
	[ "${lines[3]}" = "origin named gateway 198.51.100.1 via 10.77.0.1 dev veth-lan, source 10.77.0.2" ]
	[ "${lines[4]}" = "next-hop 10.77.0.1" ]
	[ "${lines[5]}" = "tunnel no" ]
	# a neighbour on the LAN has none, and a LAN is no tunnel
	run --separate-stderr lan_discover --to 10.77.0.3
	[ "$status" -eq 0 ]
	[ "${lines[4]}" = "next-hop none" ]
	[ "${lines[5]}" = "tunnel no" ]
}

@test "a named gateway at the far end of a tun device is reached directly over a tunnel" {
	netns_wire_lan
	ip -n "$NS_LAN" route add default via 10.77.0.1
	ip -n "$NS_LAN" tuntap add dev vpn0 mode tun
	ip -n "$NS_LAN" link set vpn0 up
	ip -n "$NS_LAN" addr add 10.2.0.2/24 dev vpn0
	run --separate-stderr lan_discover --to 10.2.0.1
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "interface vpn0" ]
	[ "${lines[3]}" = "origin named gateway 10.2.0.1 dev vpn0 (a tunnel), source 10.2.0.2" ]
	[ "${lines[4]}" = "next-hop none" ]
	[ "${lines[5]}" = "tunnel yes" ]
	# the tunnel gone, the same gateway is behind the LAN's router
	ip -n "$NS_LAN" link del vpn0
	run --separate-stderr lan_discover --to 10.2.0.1
	[ "$status" -eq 0 ]
	[ "${lines[4]}" = "next-hop 10.77.0.1" ]
	[ "${lines[5]}" = "tunnel no" ]
}

@test "the network watch reports a new route, address or rule of either family" {
	netns_quiet_lan
	netns_wire_lan
	local change
	for change in "route add 203.0.113.0/24 via 10.77.0.1" \
		"addr add 10.77.0.9/24 dev veth-lan" \
		"rule add to 198.51.100.0/24 lookup 100" \
		"-6 rule add to 2001:db8::/32 lookup 100" \
		"-6 route add unreachable 2001:db8::/32"; do
		start_watch veth-lan
		echo "ip $change"
		# shellcheck disable=SC2086 # the change is ip's arguments
		ip -n "$NS_LAN" $change
		# a notification, not a time: the limit only bounds a failure
		WAIT_LIMIT=15 wait_until watch_saw '^changed$'
		stop_watch
	done
}

@test "the network watch says when the interface in use loses its carrier" {
	netns_quiet_lan
	netns_wire_lan
	start_watch veth-lan
	ip -n "$NS_GW" link set veth-gw down
	wait_until watch_saw '^changed interface-down$'
}

@test "the network watch says when the interface in use is set down or removed" {
	netns_quiet_lan
	netns_wire_lan
	start_watch veth-lan
	ip -n "$NS_LAN" link set veth-lan down
	wait_until watch_saw '^changed interface-down$'
	stop_watch
	ip -n "$NS_LAN" link set veth-lan up
	start_watch veth-lan
	ip -n "$NS_LAN" link del veth-lan
	wait_until watch_saw '^changed interface-down$'
}

@test "another interface going down is a change, not the interface in use going down" {
	netns_quiet_lan
	netns_wire_lan
	ip link add other0 netns "$NS_LAN" type veth peer name other1 netns "$NS_GW"
	ip -n "$NS_LAN" link set other0 up
	start_watch veth-lan
	ip -n "$NS_LAN" link set other0 down
	wait_until watch_saw '^changed'
	run watch_saw 'interface-down'
	[ "$status" -ne 0 ]
}
