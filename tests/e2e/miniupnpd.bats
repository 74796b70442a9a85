#!/usr/bin/env bats
# miniupnpd.bats - natpmp against a real NAT-PMP server, miniupnpd, in a sealed
# network of namespaces: a LAN host, the gateway and a host on the "internet".
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load e2e_helpers

# Maps SPEC with -j and sets EXT_ADDR and EXT_PORT from the reply.
map_json() {
	run --separate-stderr natpmp -j map "$@"
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	EXT_ADDR=$(jq -r .external_address <<<"$output")
	EXT_PORT=$(jq -r .external_port <<<"$output")
}

@test "address prints the gateway's external address, found from the default route" {
	run --separate-stderr natpmp address
	[ "$status" -eq 0 ]
	[ "$output" = "$EXT_IP" ]
	[ "$stderr" = "" ]

	run --separate-stderr natpmp -j address
	[ "$status" -eq 0 ]
	[ "$(jq -r .external_address <<<"$output")" = "$EXT_IP" ]
	[ "$(jq -r .gateway <<<"$output")" = "$LAN_GW" ]
	[ "$(jq -r .gateway_port <<<"$output")" = 5351 ]
}

@test "map makes a TCP port reachable from the internet" {
	local received=$BATS_TEST_TMPDIR/received
	start_listener tcp 8080 "$received"
	# closed before the mapping: the gateway refuses the connection itself
	run ! wan_send_tcp "$EXT_IP" 8080 "too-early-$$"

	run --separate-stderr natpmp map 8080
	[ "$status" -eq 0 ]
	[ "$output" = "tcp $EXT_IP:8080 -> $LAN_HOST:8080 lifetime 7200s" ]
	[ "$stderr" = "" ]

	local token=tcp-token-$$-$RANDOM
	wan_send_tcp "$EXT_IP" 8080 "$token"
	wait_until file_has "$received" "^$token\$"
	file_lacks "$received" too-early
}

@test "unmap makes the TCP port unreachable again" {
	local received=$BATS_TEST_TMPDIR/received
	start_listener tcp 8080 "$received"
	map_json 8080
	wan_send_tcp "$EXT_ADDR" "$EXT_PORT" "mapped-$$"
	wait_until file_has "$received" "^mapped-$$\$"

	unmap_closes 8080 "$EXT_ADDR" "$EXT_PORT"
	file_lacks "$received" unmapped
}

@test "map makes a UDP port reachable, and unmap closes it again" {
	local received=$BATS_TEST_TMPDIR/received
	start_listener udp 5353 "$received"

	map_json 5353/udp
	[ "$(jq -r .protocol <<<"$output")" = udp ]
	[ "$EXT_ADDR" = "$EXT_IP" ]
	[ "$EXT_PORT" -eq 5353 ]
	local token=udp-token-$$-$RANDOM
	wan_send_udp "$EXT_ADDR" "$EXT_PORT" "$token"
	wait_until file_has "$received" "^$token\$"

	run --separate-stderr natpmp unmap 5353/udp
	[ "$status" -eq 0 ]
	[ "$output" = "udp 5353 unmapped" ]
	[ "$stderr" = "" ]
	# once the gateway has counted the datagram as its own, it was not
	# forwarded, and the listener cannot get it any more
	local kept
	kept=$(udp_kept_by_gateway)
	wan_send_udp "$EXT_ADDR" "$EXT_PORT" "late-$token"
	wait_until udp_kept_more_than "$kept"
	file_lacks "$received" late-
}

@test "unmap --all deletes every mapping of this host" {
	run --separate-stderr natpmp map 8080 8081 5353/udp 6000/both
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 5 ]
	[ "$(miniupnpd_rule_count miniupnpd)" -eq 5 ]
	[ "$(miniupnpd_rule_count prerouting_miniupnpd)" -eq 5 ]

	run --separate-stderr natpmp unmap --all
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "udp all unmapped" ]
	[ "${lines[1]}" = "tcp all unmapped" ]
	[ "${#lines[@]}" -eq 2 ]
	[ "$stderr" = "" ]
	[ "$(miniupnpd_rule_count miniupnpd)" -eq 0 ]
	[ "$(miniupnpd_rule_count prerouting_miniupnpd)" -eq 0 ]
	start_listener tcp 8080 "$BATS_TEST_TMPDIR/received"
	run ! wan_send_tcp "$EXT_IP" 8080 "after-all-$$"
}

@test "renew-loop keeps a short-lived mapping alive past several lifetimes" {
	local received=$BATS_TEST_TMPDIR/received
	start_listener tcp 8080 "$received"
	local started=$SECONDS
	start_loop -l 3 renew-loop 8080
	wait_until file_has "$LOOP_OUT" " mapped tcp $EXT_IP:8080 -> $LAN_HOST:8080 lifetime 3s\$"
	# a renewal every 1.5 s: six of them span three lifetimes
	WAIT_LIMIT=15 wait_until file_has "$LOOP_OUT" " renewed tcp $EXT_IP:8080 -> $LAN_HOST:8080 lifetime 3s\$" 6
	[ $((SECONDS - started)) -ge 8 ]

	local token=still-there-$$
	wan_send_tcp "$EXT_IP" 8080 "$token"
	wait_until file_has "$received" "^$token\$"
	[ "$(loop_count ' (lost|changed) ')" -eq 0 ]
	# miniupnpd never had to expire it
	file_lacks "$MINIUPNPD_LOG" "because it has expired"
	stop_loop
}

@test "renew-loop hears miniupnpd's restart from its PCP ANNOUNCE, reports the port lost, and has the rules back within 8 s" {
	local received=$BATS_TEST_TMPDIR/received
	start_listener tcp 8080 "$received"
	# an hour-long lifetime: no renewal can explain what follows
	start_loop -l 1h renew-loop 8080
	wait_until file_has "$LOOP_OUT" " mapped tcp $EXT_IP:8080 "
	wan_send_tcp "$EXT_IP" 8080 "before-$$"
	wait_until file_has "$received" "^before-$$\$"

	# a reboot: the daemon goes, its rules with it, then it comes back
	let_miniupnpd_age
	stop_miniupnpd
	[ -z "$(ip netns pids "$NS_GW")" ]
	flush_miniupnpd_rules
	run ! wan_send_tcp "$EXT_IP" 8080 "while-down-$$"
	# it announces the restart in PCP format only (epoch 0)
	restart_and_await_rule
	wan_send_tcp "$EXT_IP" 8080 "after-$$"
	wait_until file_has "$received" "^after-$$\$"
	# the port forwarded nothing while the gateway was down: renew-loop says
	# so once, then has the same port mapped again, never another
	wait_until file_has "$LOOP_OUT" " mapped tcp $EXT_IP:8080 " 2
	[ "$(loop_count ' lost tcp ')" -eq 1 ]
	[ "$(loop_count ' changed ')" -eq 0 ]
	stop_loop
}

@test "SIGTERM makes renew-loop delete its mappings on the gateway and exit 0" {
	start_loop renew-loop 8080 5353/udp
	WAIT_LIMIT=8 wait_until file_has "$LOOP_OUT" " mapped " 2
	[ "$(miniupnpd_rule_count miniupnpd)" -eq 2 ]
	[ "$(miniupnpd_rule_count prerouting_miniupnpd)" -eq 2 ]

	stop_loop
	file_has "$LOOP_OUT" ' unmapped tcp 8080$'
	file_has "$LOOP_OUT" ' unmapped udp 5353$'
	[ "$(miniupnpd_rule_count miniupnpd)" -eq 0 ]
	[ "$(miniupnpd_rule_count prerouting_miniupnpd)" -eq 0 ]
}

@test "a port range is a rule per port on miniupnpd, each port reachable, and unmapping the range removes them all" {
	run --separate-stderr natpmp map 7000-7004/both
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	[ "${#lines[@]}" -eq 10 ]
	[ "${lines[0]}" = "udp $EXT_IP:7000 -> $LAN_HOST:7000 lifetime 7200s" ]
	[ "${lines[9]}" = "tcp $EXT_IP:7004 -> $LAN_HOST:7004 lifetime 7200s" ]
	[ "$(miniupnpd_rule_count miniupnpd)" -eq 10 ]
	[ "$(miniupnpd_rule_count prerouting_miniupnpd)" -eq 10 ]
	local received=$BATS_TEST_TMPDIR/received
	start_listener tcp 7004 "$received"
	wan_send_tcp "$EXT_IP" 7004 "last-of-range-$$"
	wait_until file_has "$received" "^last-of-range-$$\$"

	run --separate-stderr natpmp unmap 7000-7004/both
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	[ "${#lines[@]}" -eq 10 ]
	[ "${lines[9]}" = "tcp 7004 unmapped" ]
	[ "$(miniupnpd_rule_count miniupnpd)" -eq 0 ]
	[ "$(miniupnpd_rule_count prerouting_miniupnpd)" -eq 0 ]
	run ! wan_send_tcp "$EXT_IP" 7004 "after-unmap-$$"
}

# miniupnpd logs each of its rules at each request in debug mode (-d), as
# here: 20 mappings are quick, 200 take it minutes (without -d, 0.15 s)
@test "renew-loop holds a range of 10 ports, TCP and UDP, and SIGTERM deletes every rule" {
	start_loop -l 60 renew-loop 7000-7009/both
	WAIT_LIMIT=15 wait_until file_has "$LOOP_OUT" " mapped " 20
	[ "$(miniupnpd_rule_count prerouting_miniupnpd)" -eq 20 ]
	stop_loop
	[ "$(loop_count ' unmapped (tcp|udp) 70[01][0-9]$')" -eq 20 ]
	[ ! -s "$LOOP_ERR" ]
	[ "$(miniupnpd_rule_count miniupnpd)" -eq 0 ]
	[ "$(miniupnpd_rule_count prerouting_miniupnpd)" -eq 0 ]
}
