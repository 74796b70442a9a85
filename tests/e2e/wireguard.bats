#!/usr/bin/env bats
# wireguard.bats - natpmp through a real WireGuard tunnel, as VPN users with
# port forwarding have it: wg-quick's policy routing on the client, and the
# VPN's NAT-PMP gateway on 10.2.0.1 inside the tunnel (ProtonVPN's setup:
# NAT-PMP only, 60 s leases, a random external port).
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load wg_helpers

# Writes a hook that appends "EVENT PROTOCOL EXTERNAL-PORT" to HOOK_LOG.
make_hook() {
	HOOK=$BATS_TEST_TMPDIR/hook
	HOOK_LOG=$BATS_TEST_TMPDIR/hook.events
	cat >"$HOOK" <<-EOF
		#!/bin/sh
		echo "\$NATPMP_EVENT \$NATPMP_PROTOCOL \$NATPMP_EXTERNAL_PORT" >>'$HOOK_LOG'
	EOF
	chmod 755 "$HOOK"
}

# The external port of the last line of renew-loop's output with EVENT
# for PROTOCOL.
loop_port() {
	grep -E " $1 $2 " "$LOOP_OUT" | tail -n 1 |
		sed -E 's/.* [0-9.]+:([0-9]+) -> .*/\1/'
}

@test "without -g, discovery follows wg-quick's rules to wg0, asks for the gateway to be named, exits 68 and sends nothing" {
	# a home router that speaks NAT-PMP, at the main table's default
	# route, and the VPN's gateway: neither must hear a word
	start_fakegw "$NS_ROUTER" "$ROUTER_LAN" router
	start_vpn_gateway

	run --separate-stderr natpmp address
	[ "$status" -eq 68 ]
	[ "$output" = "" ]
	[[ $stderr =~ ^natpmp:\ .*wg0.*no\ gateway\ address.*(-g|--gateway) ]]
	[ "${#stderr_lines[@]}" -eq 1 ]

	run --separate-stderr natpmp -j map 0/both
	[ "$status" -eq 68 ]
	[ "$(jq -r .error <<<"$output")" = no-gateway ]
	[[ $(jq -r .message <<<"$output") =~ wg0 ]]

	run --separate-stderr natpmp doctor
	[ "$status" -eq 68 ]
	[[ ${lines[-1]} =~ ^verdict\ +fail\ .*tunnel\ wg0.*-g ]]

	# a datagram sent earlier would be there before each sentinel, sent
	# the same way once natpmp is done
	natpmp -q -t 2 -g "$ROUTER_LAN" address
	[ "$(received_count "$BATS_TEST_TMPDIR/router.log")" -eq 1 ]
	natpmp -q -t 2 -g "$TUNNEL_GATEWAY" address
	[ "$(received_count "$VPN_GW_LOG")" -eq 1 ]
}

@test "with -g 10.2.0.1, address and map 0/both reach the VPN's gateway through the tunnel" {
	start_vpn_gateway

	run --separate-stderr natpmp -g "$TUNNEL_GATEWAY" address
	[ "$status" -eq 0 ]
	[ "$output" = "$VPN_EXIT" ]
	[ "$stderr" = "" ]

	run --separate-stderr natpmp -g "$TUNNEL_GATEWAY" -l 60 -j map 0/both
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	[ "${#lines[@]}" -eq 2 ]
	local line protocols=() ports=()
	for line in "${lines[@]}"; do
		[ "$(jq -r .gateway <<<"$line")" = "$TUNNEL_GATEWAY" ]
		[ "$(jq -r .via <<<"$line")" = nat-pmp ]
		[ "$(jq -r .internal_address <<<"$line")" = "$TUNNEL_CLIENT" ]
		[ "$(jq -r .internal_port <<<"$line")" -eq 0 ]
		[ "$(jq -r .external_address <<<"$line")" = "$VPN_EXIT" ]
		[ "$(jq -r .lifetime <<<"$line")" -eq 60 ]
		protocols+=("$(jq -r .protocol <<<"$line")")
		ports+=("$(jq -r .external_port <<<"$line")")
	done
	[ "${protocols[*]}" = "udp tcp" ]
	# the ports the gateway picked, not asked for: natpmp suggested none
	grep -qE "recv from=$TUNNEL_CLIENT:[0-9]+ len=12 op=map-udp internal=0 suggested=0 lifetime=60$" "$VPN_GW_LOG"
	grep -qE "reply .* op=map-udp result=0 .* internal=0 external=${ports[0]} lifetime=60$" "$VPN_GW_LOG"
	grep -qE "reply .* op=map-tcp result=0 .* internal=0 external=${ports[1]} lifetime=60$" "$VPN_GW_LOG"
	[ "${ports[0]}" -ge 1024 ]
	[ "${ports[1]}" -ge 1024 ]

	# asked again, as cron would renew: the same ports
	run --separate-stderr natpmp -g "$TUNNEL_GATEWAY" -l 60 -j map 0/both
	[ "$status" -eq 0 ]
	[ "$(jq -r .external_port <<<"${lines[0]}")" = "${ports[0]}" ]
	[ "$(jq -r .external_port <<<"${lines[1]}")" = "${ports[1]}" ]
}

@test "renew-loop -g 10.2.0.1 maps 0/both through the tunnel, renews at half the granted lease, and tells the hook the external ports" {
	# leases of 4 s rather than 60, to see renewals within seconds
	start_vpn_gateway --max-lifetime 4
	make_hook
	start_loop -g "$TUNNEL_GATEWAY" -l 60 renew-loop 0/both --on-change "$HOOK"
	wait_until file_has "$LOOP_OUT" " mapped udp $VPN_EXIT:[0-9]+ -> $TUNNEL_CLIENT:0 lifetime 4s\$"
	wait_until file_has "$LOOP_OUT" " mapped tcp $VPN_EXIT:[0-9]+ -> $TUNNEL_CLIENT:0 lifetime 4s\$"
	local udp tcp
	udp=$(loop_port mapped udp)
	tcp=$(loop_port mapped tcp)
	# a renewal every 2 s keeps each port
	WAIT_LIMIT=10 wait_until file_has "$LOOP_OUT" " renewed udp $VPN_EXIT:$udp -> $TUNNEL_CLIENT:0 lifetime 4s\$" 2
	WAIT_LIMIT=10 wait_until file_has "$LOOP_OUT" " renewed tcp $VPN_EXIT:$tcp -> $TUNNEL_CLIENT:0 lifetime 4s\$" 2
	[ "$(loop_count ' (lost|changed|error) ')" -eq 0 ]
	# asked for 60 s each time, granted 4
	[ "$(grep -cE 'recv .* op=map-(udp|tcp) internal=0 .* lifetime=60$' "$VPN_GW_LOG")" -ge 6 ]

	# the hook ran once per mapping, on mapped, with its external port
	wait_until file_has "$HOOK_LOG" . 2
	grep -qx "mapped udp $udp" "$HOOK_LOG"
	grep -qx "mapped tcp $tcp" "$HOOK_LOG"
	[ "$(wc -l <"$HOOK_LOG")" -eq 2 ]

	# a mapping of port 0 is left to expire: NAT-PMP could only delete it
	# with every other mapping of the host
	stop_loop
	[ "$(vpn_gateway_ctl mappings)" = "ok 2" ]
	[ "$(grep -c 'lifetime=0' "$VPN_GW_LOG")" -eq 0 ]
}

@test "ProtonVPN's setup end to end: three ports, the hook at every renewal, the port file and status" {
	start_vpn_gateway --max-lifetime 4
	make_hook
	local port_file=$BATS_TEST_TMPDIR/port
	start_loop -g "$TUNNEL_GATEWAY" -l 60 renew-loop 0/both 56789-56790:0/both \
		--on-change "$HOOK" --hook-renewals --port-file "$port_file"
	wait_until file_has "$LOOP_OUT" " mapped (udp|tcp) $VPN_EXIT:[0-9]+ -> $TUNNEL_CLIENT:(0|56789|56790) lifetime 4s\$" 6
	# a port per internal port, UDP and TCP alike: three lines, ascending
	local ports
	ports=$(sed -nE 's/.* mapped (udp|tcp) [0-9.]+:([0-9]+) -> .*/\2/p' "$LOOP_OUT" | sort -n -u)
	[ "$(wc -l <<<"$ports")" -eq 3 ]
	# status through the same state directory: healthy once all six are
	# (the three ports are in the file as soon as one protocol of each is)
	wait_until natpmp -q status
	[ "$(cat "$port_file")" = "$ports" ]
	run --separate-stderr natpmp status
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 6 ]
	[ "$(grep -c " active, renewal in [0-9]s, gateway $TUNNEL_GATEWAY (nat-pmp)\$" <<<"$output")" -eq 6 ]
	# the hook hears of each grant, then of each renewal
	WAIT_LIMIT=10 wait_until file_has "$HOOK_LOG" '^renewed (udp|tcp) [0-9]+$' 6
	[ "$(grep -c '^mapped ' "$HOOK_LOG")" -eq 6 ]
	stop_loop
	[ ! -s "$port_file" ]
	run natpmp -q status
	[ "$status" -eq 69 ]
}

# bats test_tags=timing
@test "with port forwarding off (10.2.0.1:5351 closed), map, renew-loop and doctor say so in VPN terms at once, on the ICMP that comes back through the tunnel" {
	local started elapsed off="port forwarding is not enabled for this VPN connection"
	started=$(now_ms)
	run --separate-stderr natpmp -g "$TUNNEL_GATEWAY" map 0/both
	elapsed=$(($(now_ms) - started))
	echo "exit $status after $elapsed ms: $stderr"
	[ "$status" -eq 69 ]
	[ "$elapsed" -lt 2000 ]
	[ "$output" = "" ]
	[[ ${stderr_lines[0]} == *"(ICMP port unreachable through the tunnel wg0): $off; enable it with the provider" ]]

	run --separate-stderr natpmp -g "$TUNNEL_GATEWAY" -j map 0/both
	[ "$status" -eq 69 ]
	[ "$(jq -r .error <<<"${lines[0]}")" = port-unreachable ]
	[[ $(jq -r .message <<<"${lines[0]}") == *"$off; enable it with the provider" ]]

	started=$(now_ms)
	start_loop -g "$TUNNEL_GATEWAY" -l 60 renew-loop 0/both
	wait_until file_has "$LOOP_ERR" "tunnel wg0\): $off; enable it with the provider"
	echo "renew-loop said it after $(($(now_ms) - started)) ms"
	[ $(($(now_ms) - started)) -lt 2000 ]
	stop_loop

	run --separate-stderr natpmp -g "$TUNNEL_GATEWAY" doctor
	[ "$status" -eq 69 ]
	[[ ${lines[-1]} == "verdict "*"fail  $off ($TUNNEL_GATEWAY closes port 5351 through the tunnel wg0): enable it with the provider"* ]]
}

# bats test_tags=timing
@test "renew-loop reports the tunnel going down, waits idly sending nothing outside the tunnel, and maps again soon after it comes back" {
	start_vpn_gateway --max-lifetime 4
	make_hook
	local port_file=$BATS_TEST_TMPDIR/port
	start_loop -v -g "$TUNNEL_GATEWAY" -l 60 renew-loop 0/both --on-change "$HOOK" \
		--port-file "$port_file"
	wait_until file_has "$LOOP_OUT" " mapped (udp|tcp) " 2
	wait_until file_has "$port_file" '^[0-9]+$' 1
	WAIT_LIMIT=10 wait_until file_has "$LOOP_OUT" " renewed (udp|tcp) " 2
	local mapped_before
	mapped_before=$(loop_count " mapped (udp|tcp) ")

	# wg-quick down
	local leaked_before
	leaked_before=$(leaked_to_router)
	tunnel_down
	local down_at
	down_at=$(now_ms)
	wait_until file_has "$LOOP_ERR" "gateway $TUNNEL_GATEWAY was reached directly over wg0, and its route now goes via $ROUTER_LAN on eth0"
	echo "loss reported $(($(now_ms) - down_at)) ms after the tunnel went down"

	# the outage lasts 6 s; meanwhile the loop waits, it does not spin
	local ticks_before ticks_after
	ticks_before=$(cpu_ticks "$LOOP_PID")
	sleep 6
	ticks_after=$(cpu_ticks "$LOOP_PID")
	echo "CPU over 6 s of outage: $((ticks_after - ticks_before)) ticks of $(getconf CLK_TCK) per s"
	[ $((ticks_after - ticks_before)) -lt $(($(getconf CLK_TCK) / 5)) ]
	running "$LOOP_PID"
	# and claims no mapping while nothing can answer: the grants of 4 s
	# ran out, and were reported lost
	[ "$(loop_count " mapped (udp|tcp) ")" -eq "$mapped_before" ]
	[ "$(loop_count " lost (udp|tcp) ")" -eq 2 ]

	# not one datagram for 10.2.0.1 went out of eth0 meanwhile
	[ "$(leaked_to_router)" -eq "$leaked_before" ]
	# nothing is active: an empty port file, and status says why
	[ ! -s "$port_file" ]
	run --separate-stderr natpmp status
	[ "$status" -eq 75 ]
	[[ ${lines[0]} == "udp $VPN_EXIT:"*" -> $TUNNEL_CLIENT:0 lost, no gateway: gateway $TUNNEL_GATEWAY was reached directly over wg0, "* ]]

	# wg-quick up
	local up_at mapped_at
	tunnel_up
	up_at=$(now_ms)
	WAIT_LIMIT=15 wait_until file_has "$LOOP_OUT" " mapped (udp|tcp) $VPN_EXIT:[0-9]+ -> $TUNNEL_CLIENT:0 " $((mapped_before + 2))
	mapped_at=$(now_ms)
	echo "mapped again $((mapped_at - up_at)) ms after the tunnel came back"
	[ $((mapped_at - up_at)) -lt 10000 ]
	# the hook heard of the new ports, which the gateway holds
	wait_until file_has "$HOOK_LOG" "^mapped (udp|tcp) [0-9]+\$" $((mapped_before + 2))
	grep -qx "mapped udp $(loop_port mapped udp)" "$HOOK_LOG"
	grep -qx "mapped tcp $(loop_port mapped tcp)" "$HOOK_LOG"
	[ "$(vpn_gateway_ctl mappings)" = "ok 2" ]
	wait_until file_has "$port_file" "^$(loop_port mapped udp)\$" 1
	stop_loop
}
