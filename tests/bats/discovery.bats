#!/usr/bin/env bats
# discovery.bats - finding the gateway from the kernel's routes, inside
# network namespaces this file creates and removes; nothing here can reach
# the machine's real network.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr and $stderr_lines

load helpers
load netns

setup() {
	netns_create
}

teardown() {
	netns_destroy
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

@test "-v says which gateway discovery found" {
	netns_wire_lan
	ip -n "$NS_LAN" route add default via 10.77.0.1
	netns_start_gateway 10.77.0.1
	run --separate-stderr lan_natpmp -v -t 3 address
	[ "$status" -eq 0 ]
	[[ "${stderr_lines[0]}" == *"gateway 10.77.0.1, from the default route dev veth-lan" ]]
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
	echo "$output" | jq -e '.error == "no-gateway" and .gateway == null and (.message | test("no default route"))'
}
