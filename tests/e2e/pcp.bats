#!/usr/bin/env bats
# pcp.bats - natpmp speaking PCP (RFC 6887) to a real server, miniupnpd, in
# the sealed LAN / gateway / internet network: IPv4 mappings and IPv6
# firewall pinholes carrying real traffic, nonces kept between runs,
# renewals and a restart heard from miniupnpd's ANNOUNCE.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load e2e_helpers

@test "over PCP a TCP and a UDP port become reachable from the internet, in one round trip each" {
	local tcp=$BATS_TEST_TMPDIR/tcp udp=$BATS_TEST_TMPDIR/udp
	start_listener tcp 8080 "$tcp"
	start_listener udp 5353 "$udp"
	run --separate-stderr natpmp --pcp -v map 8080 5353/udp
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "tcp $EXT_IP:8080 -> $LAN_HOST:8080 lifetime 7200s" ]
	[ "${lines[1]}" = "udp $EXT_IP:5353 -> $LAN_HOST:5353 lifetime 7200s" ]
	# no address request: PCP's answers carry the address
	[ "$(grep -c ' send 1 to ' <<<"$stderr")" -eq 2 ]
	[ "$(grep -c ' send ' <<<"$stderr")" -eq 2 ]
	local token=pcp-$$-$RANDOM
	wan_send_tcp "$EXT_IP" 8080 "tcp-$token"
	wait_until file_has "$tcp" "^tcp-$token\$"
	wan_send_udp "$EXT_IP" 5353 "udp-$token"
	wait_until file_has "$udp" "^udp-$token\$"
}

@test "map and unmap in two runs: the second deletes with the first's nonce, and the rule is gone" {
	local received=$BATS_TEST_TMPDIR/received
	start_listener tcp 8080 "$received"
	run --separate-stderr natpmp --pcp -j map 8080
	[ "$status" -eq 0 ]
	[ "$(jq -r .via <<<"$output")" = pcp ]
	wan_send_tcp "$EXT_IP" 8080 "mapped-$$"
	wait_until file_has "$received" "^mapped-$$\$"
	# a separate run, told nothing: the state says PCP, and the nonce
	unmap_closes 8080 "$EXT_IP" 8080
}

@test "a PCP deletion without the mapping's nonce is refused, says why, and the rule stays" {
	NATPMP_STATE_DIR=$BATS_TEST_TMPDIR/one natpmp --pcp -q map 8080
	NATPMP_STATE_DIR=$BATS_TEST_TMPDIR/other run --separate-stderr natpmp --pcp unmap 8080
	[ "$status" -eq 77 ]
	[ "$stderr" = "natpmp: unmap 8080/tcp: gateway $LAN_GW refused to delete it (NOT_AUTHORIZED): it was made with another nonce, by another program or without natpmp's state directory" ]
	[ "$(miniupnpd_rule_count prerouting_miniupnpd)" -eq 1 ]
}

@test "address over PCP reads the address from a moment's mapping, and leaves no rule behind" {
	run --separate-stderr natpmp --pcp address
	[ "$status" -eq 0 ]
	[ "$output" = "$EXT_IP" ]
	[ "$stderr" = "" ]
	[ "$(miniupnpd_rule_count prerouting_miniupnpd)" -eq 0 ]
}

@test "-6 opens an IPv6 pinhole that carries real traffic through a firewall dropping all else" {
	local received=$BATS_TEST_TMPDIR/received
	start_listener tcp 8080 "$received"
	# the firewall drops what nothing opened
	run ! wan_send_tcp "$LAN6_HOST" 8080 "too-early-$$"
	# (mapped once only: miniupnpd 2.3.1 refuses to delete a pinhole
	# once it was renewed; see RFC-NOTES)
	run --separate-stderr natpmp -6 map 8080
	[ "$status" -eq 0 ]
	[ "$output" = "tcp [$LAN6_HOST]:8080 -> [$LAN6_HOST]:8080 lifetime 7200s" ]
	local token=v6-$$-$RANDOM
	wan_send_tcp "$LAN6_HOST" 8080 "$token"
	wait_until file_has "$received" "^$token\$"
	file_lacks "$received" too-early
	# and closed again
	run natpmp -6 unmap 8080
	[ "$status" -eq 0 ]
	run ! wan_send_tcp "$LAN6_HOST" 8080 "after-$$"
}

@test "-4 -6 maps both families in one run" {
	run --separate-stderr natpmp -4 -6 -j map 8080
	[ "$status" -eq 0 ]
	jq -e -s --arg ext "$EXT_IP" --arg host "$LAN6_HOST" '
		(.[0] | .external_address == $ext and .external_port == 8080) and
		(.[1] | .via == "pcp" and .internal_address == $host and
			.external_address == $host and .external_port == 8080)' <<<"$output"
	[ "$(miniupnpd_rule_count miniupnpd)" -eq 2 ]
}

@test "renew-loop -4 -6 holds an IPv4 mapping and an IPv6 pinhole at once, and removes both on exit" {
	local received=$BATS_TEST_TMPDIR/received
	start_listener tcp 8080 "$received"
	start_loop -4 -6 -l 60 renew-loop 8080
	wait_until file_has "$LOOP_OUT" " mapped tcp $EXT_IP:8080 -> $LAN_HOST:8080 lifetime 60s\$"
	wait_until file_has "$LOOP_OUT" " mapped tcp \[$LAN6_HOST\]:8080 -> \[$LAN6_HOST\]:8080 lifetime 60s\$"
	[ "$(miniupnpd_rule_count miniupnpd)" -eq 2 ]
	wan_send_tcp "$EXT_IP" 8080 "v4-$$"
	wan_send_tcp "$LAN6_HOST" 8080 "v6-$$"
	wait_until file_has "$received" "^v4-$$\$"
	wait_until file_has "$received" "^v6-$$\$"
	stop_loop
	[ "$(loop_count ' unmapped ')" -eq 2 ]
	[ "$(miniupnpd_rule_count miniupnpd)" -eq 0 ]
}

@test "renew-loop keeps a short PCP mapping alive across three lifetimes" {
	local received=$BATS_TEST_TMPDIR/received
	start_listener tcp 8080 "$received"
	local started=$SECONDS
	# miniupnpd here grants PCP lifetimes down to 2 s (min_lifetime), but
	# counts them from the start of the current second: 4 s, not 2, leaves
	# a renewal at 5/8 of it clear of a grant up to 1 s shorter than told
	start_loop --pcp -l 4 renew-loop 8080
	wait_until file_has "$LOOP_OUT" " mapped tcp $EXT_IP:8080 -> $LAN_HOST:8080 lifetime 4s\$"
	# a renewal every 2 to 2.5 s: six span three lifetimes
	WAIT_LIMIT=20 wait_until file_has "$LOOP_OUT" " renewed tcp $EXT_IP:8080 -> $LAN_HOST:8080 lifetime 4s\$" 6
	[ $((SECONDS - started)) -ge 12 ]
	wan_send_tcp "$EXT_IP" 8080 "still-there-$$"
	wait_until file_has "$received" "^still-there-$$\$"
	[ "$(loop_count ' (lost|changed) ')" -eq 0 ]
	file_lacks "$MINIUPNPD_LOG" "because it has expired"
	stop_loop
	[ "$(miniupnpd_rule_count prerouting_miniupnpd)" -eq 0 ]
}

@test "renew-loop over PCP hears miniupnpd's restart from its ANNOUNCE and has the rule back within 8 s" {
	start_loop --pcp -l 1h renew-loop 8080
	wait_until file_has "$LOOP_OUT" " mapped tcp $EXT_IP:8080 "
	let_miniupnpd_age
	stop_miniupnpd
	flush_miniupnpd_rules
	restart_and_await_rule
	stop_loop
}

# The field case: miniupnpd announces from its link-local address while the
# host knows the gateway by its global one. The announcement is only a
# reason to ask; the gateway's own answer shows the restart.
@test "-6 renew-loop hears miniupnpd's restart announced from its link-local address, the gateway named by its global one, and has the pinhole back within 8 s" {
	start_loop -6 -g "$LAN6_GW" -l 1h renew-loop 8080
	wait_until file_has "$LOOP_OUT" " mapped tcp \[$LAN6_HOST\]:8080 "
	[ "$(miniupnpd_rule_count miniupnpd)" -eq 1 ]
	let_miniupnpd_age
	stop_miniupnpd
	flush_miniupnpd_rules
	local started elapsed
	started=$(date +%s%N)
	start_miniupnpd
	WAIT_LIMIT=8 wait_until file_has "$LOOP_OUT" " gateway-reset $LAN6_GW "
	WAIT_LIMIT=8 wait_until pinhole_is_back
	elapsed=$((($(date +%s%N) - started) / 1000000))
	echo "pinhole back $elapsed ms after the restart"
	[ "$elapsed" -le 8000 ]
	stop_loop
}

pinhole_is_back() {
	[ "$(miniupnpd_rule_count miniupnpd)" -ge 1 ]
}

@test "doctor with no options: every check ok against miniupnpd, IPv4 and IPv6, and no rule left behind" {
	run --separate-stderr natpmp doctor
	printf '%s\n' "${lines[@]}"
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	[ "${#lines[@]}" -eq 9 ]
	local line
	for line in "${lines[@]}"; do
		[ "$(awk '{ print $2 }' <<<"$line")" = ok ]
	done
	[ "${lines[0]}" = "route             ok    gateway $LAN_GW from the default route, interface $IF_LAN, source $LAN_HOST" ]
	[ "${lines[3]}" = "external-address  ok    $EXT_IP, public" ]
	[[ "${lines[7]}" == "ipv6              ok    router fe80::"*"%$IF_LAN, global address $LAN6_HOST; a TCP pinhole for port "*" was granted and deleted" ]]
	[ "$(miniupnpd_rule_count prerouting_miniupnpd)" -eq 0 ]
	[ "$(miniupnpd_rule_count miniupnpd)" -eq 0 ]
}
