#!/usr/bin/env bats
# map.bats - `natpmp map`: what the gateway granted, one request at a time,
# one address request per command, and per-item failures.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr and $stderr_lines

load helpers

teardown() {
	common_teardown
}

@test "map prints external -> internal with the granted lifetime" {
	start_gateway --external 44.1.2.3
	run --separate-stderr natpmp -g "$GW" map 8080
	[ "$status" -eq 0 ]
	[ "$output" = "tcp 44.1.2.3:8080 -> 127.0.0.1:8080 lifetime 7200s" ]
	[ -z "$stderr" ]
}

@test "map sends the request RFC 6886 describes: internal, suggested, lifetime" {
	start_gateway
	natpmp -g "$GW" -l 3600 map 8080:80/udp
	[ "$(gw_count 'recv .* len=12 op=map-udp internal=8080 suggested=80 lifetime=3600$')" -eq 1 ]
}

@test "map reports the port the gateway granted, not the one asked for, with a note" {
	start_gateway --grant-port 40123
	run --separate-stderr natpmp -g "$GW" map 8080:80
	[ "$status" -eq 0 ]
	[ "$output" = "tcp 44.1.2.3:40123 -> 127.0.0.1:8080 lifetime 7200s" ]
	[ "$stderr" = "natpmp: note: map 8080/tcp: the gateway granted external port 40123 instead of 80" ]
}

@test "map reports the shorter lifetime the gateway granted, and notes when to renew, even with -q" {
	start_gateway --max-lifetime 60
	run --separate-stderr natpmp -g "$GW" -l 2h map 8080
	[ "$status" -eq 0 ]
	[ "$output" = "tcp 44.1.2.3:8080 -> 127.0.0.1:8080 lifetime 60s" ]
	[ "$stderr" = "natpmp: note: map 8080/tcp: the gateway granted 60 s instead of 7200 s; renew within 30 s" ]
	run --separate-stderr natpmp -q -g "$GW" -l 2h map 8080
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$stderr" = "natpmp: note: map 8080/tcp: the gateway granted 60 s instead of 7200 s; renew within 30 s" ]
}

@test "a port left to the gateway has no note" {
	start_gateway --random-port
	run --separate-stderr natpmp -g "$GW" map 0/udp 8081:0
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[ -z "$stderr" ]
}

@test "both maps UDP first, then TCP" {
	start_gateway
	run natpmp -g "$GW" map 51413/both
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "udp 44.1.2.3:51413 -> 127.0.0.1:51413 lifetime 7200s" ]
	[ "${lines[1]}" = "tcp 44.1.2.3:51413 -> 127.0.0.1:51413 lifetime 7200s" ]
	run gw_log ' recv '
	[[ "${lines[1]}" == *"op=map-udp"* ]]
	[[ "${lines[2]}" == *"op=map-tcp"* ]]
}

@test "several SPECs: one address request, then one mapping request after another" {
	start_gateway --delay 30
	run natpmp -g "$GW" map 80 81/udp 82
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[ "$(gw_count 'recv .*op=address')" -eq 1 ]
	# one in flight at a time: every request follows the previous reply
	run gw_log ' (recv|reply) '
	[ "${#lines[@]}" -eq 8 ]
	local i
	for i in 0 2 4 6; do
		[[ "${lines[$i]}" == *" recv "* ]]
		[[ "${lines[$((i + 1))]}" == *" reply "* ]]
	done
}

@test "map -j prints one JSON object per mapping with every field" {
	start_gateway --grant-port 40000 --max-lifetime 600 --epoch 77
	run --separate-stderr natpmp -g "$GW" -j map 8080/both
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	echo "${lines[0]}" | jq -e --arg port "$GW_PORT" '
		.gateway == "127.0.0.1" and .gateway_port == ($port | tonumber) and
		.protocol == "udp" and .internal_address == "127.0.0.1" and
		.internal_port == 8080 and .external_address == "44.1.2.3" and
		.external_port == 40000 and .lifetime == 600 and (.epoch | . >= 77)'
	echo "${lines[1]}" | jq -e '.protocol == "tcp"'
}

@test "the VPN shape: internal port 0, both protocols, a random port, 60 seconds" {
	start_gateway --random-port --max-lifetime 60
	run --separate-stderr natpmp -g "$GW" -l 60 -j map 0/both
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	echo "${lines[0]}" | jq -e '.protocol == "udp" and .internal_port == 0 and .lifetime == 60 and .external_port >= 1024'
	echo "${lines[1]}" | jq -e '.protocol == "tcp" and .internal_port == 0 and .lifetime == 60 and .external_port >= 1024'
	[ "$(gw_count 'recv .*internal=0 suggested=0 lifetime=60$')" -eq 2 ]
}

@test "a refusal is one line on stderr naming the item, exit 77" {
	start_gateway --map-result 2
	run --separate-stderr natpmp -g "$GW" map 8080
	[ "$status" -eq 77 ]
	[ -z "$output" ]
	[ "$stderr" = "natpmp: map 8080/tcp: gateway $GW refused (not authorized): allow this device to open ports by itself in the router's settings (a permission many routers give per device), or turn NAT-PMP on there" ]
}

@test "a failed item in JSON carries error, message, protocol and internal_port" {
	start_gateway --map-result 4
	run --separate-stderr natpmp -g "$GW" -j map 8080/udp
	[ "$status" -eq 75 ]
	echo "$output" | jq -e '.error == "out-of-resources" and .protocol == "udp" and
		.internal_port == 8080 and (.message | test("out of resources"))'
	[ "$stderr" = "natpmp: map 8080/udp: gateway $GW is out of resources (no more mappings for now)" ]
}

@test "with several items, the exit status is the first failure's" {
	# the address and the first mapping are answered (the mapping refused),
	# then the port closes: the second mapping meets ICMP port unreachable
	start_gateway --map-result 2 --close-after 2
	run --separate-stderr natpmp -g "$GW" -t 3 map 80 81
	[ "$status" -eq 77 ]
	[ "${#stderr_lines[@]}" -eq 2 ]
	[[ "${stderr_lines[0]}" == "natpmp: map 80/tcp: "*"not authorized"* ]]
	[[ "${stderr_lines[1]}" == "natpmp: map 81/tcp: "*"ICMP port unreachable"* ]]
}

@test "a refused address request does not stop the mappings" {
	start_gateway --address-result 3
	run --separate-stderr natpmp -g "$GW" map 8080
	[ "$status" -eq 0 ]
	[ "$output" = "tcp ?:8080 -> 127.0.0.1:8080 lifetime 7200s" ]
	[ "$stderr" = "natpmp: warning: cannot learn the external address: gateway $GW has no external address yet (network failure)" ]
	run --separate-stderr natpmp -g "$GW" -j map 8080
	echo "$output" | jq -e '.external_address == null and .external_port == 8080'
}

# bats test_tags=timing
@test "after one unanswered request the rest fail at once, saying they were not sent" {
	start_gateway --silent
	local start elapsed
	start=$(now_ms)
	run --separate-stderr natpmp -g "$GW" -t 1 map 80 81 82/both
	elapsed=$(($(now_ms) - start))
	[ "$status" -eq 75 ]
	# only the first request (the address) was ever sent: 3 attempts in 1 s,
	# and at the third one PCP's ANNOUNCE
	[ "$(gw_count ' recv ')" -eq 4 ]
	[ "$(gw_count ' recv .*op=address')" -eq 3 ]
	[ "$(gw_count ' recv .*version=2 op=announce')" -eq 1 ]
	[ "$elapsed" -lt 1500 ]
	# one line per mapping, each naming the request that went unanswered
	[ "${#stderr_lines[@]}" -eq 4 ]
	[ "${stderr_lines[0]}" = "natpmp: map 80/tcp: not sent after the address request had no reply from gateway $GW within the 1 s timeout (3 attempts, and 1 in PCP)" ]
	[ "${stderr_lines[1]}" = "natpmp: map 81/tcp: not sent after the address request had no reply from gateway $GW within the 1 s timeout (3 attempts, and 1 in PCP)" ]
	[[ "${stderr_lines[2]}" == "natpmp: map 82/udp: not sent after the address request had no reply"* ]]
	[[ "${stderr_lines[3]}" == "natpmp: map 82/tcp: not sent after the address request had no reply"* ]]
}

@test "a success that grants lifetime 0 is not reported as a mapping" {
	start_gateway --grant-lifetime 0
	run --separate-stderr natpmp -g "$GW" map 8080
	[ "$status" -eq 76 ]
	[ -z "$output" ]
	[ "$stderr" = "natpmp: map 8080/tcp: gateway $GW reported success but granted a lifetime of 0 s (no mapping was made)" ]
}

@test "map warns when the external address is private, and still maps" {
	start_gateway --external 10.20.30.40
	run --separate-stderr natpmp -g "$GW" map 8080
	[ "$status" -eq 0 ]
	[ "$output" = "tcp 10.20.30.40:8080 -> 127.0.0.1:8080 lifetime 7200s" ]
	[[ "$stderr" == "natpmp: warning: external address 10.20.30.40 is private: "* ]]
}

@test "map -q prints nothing on success" {
	start_gateway
	run --separate-stderr natpmp -q -g "$GW" map 8080/both
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ] # granted as asked: no note
	[ "$(gw_count 'reply .*op=map')" -eq 2 ]
}

@test "a port range maps each port, one request and one line at a time, TCP and UDP with /both" {
	start_gateway
	run --separate-stderr natpmp -g "$GW" map 6881-6883/both
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 6 ]
	[ "${lines[0]}" = "udp 44.1.2.3:6881 -> 127.0.0.1:6881 lifetime 7200s" ]
	[ "${lines[1]}" = "tcp 44.1.2.3:6881 -> 127.0.0.1:6881 lifetime 7200s" ]
	[ "${lines[5]}" = "tcp 44.1.2.3:6883 -> 127.0.0.1:6883 lifetime 7200s" ]
	[ "$(gw_log 'recv .*op=map' | sed -E 's/.* op=(map-[a-z]+) internal=([0-9]+) suggested=([0-9]+).*/\1 \2 \3/' | paste -sd,)" = "map-udp 6881 6881,map-tcp 6881 6881,map-udp 6882 6882,map-tcp 6882 6882,map-udp 6883 6883,map-tcp 6883 6883" ]
	gw_holds 6
}

@test "a range with an external range maps port to port, and -j gives one object per port" {
	start_gateway
	run --separate-stderr natpmp -j -g "$GW" map 27015-27017:37015-37017/udp
	[ "$status" -eq 0 ]
	[ "$(jq -r '"\(.internal_port)>\(.external_port)"' <<<"$output" | paste -sd,)" = "27015>37015,27016>37016,27017>37017" ]
}

@test "a malformed range, or a port named twice, is exit 64 with one line naming it, and nothing is sent" {
	start_gateway
	local spec expected
	while IFS='|' read -r spec expected; do
		run --separate-stderr natpmp -g "$GW" map 80 "$spec"
		echo "$spec: $stderr"
		[ "$status" -eq 64 ]
		[ "$stderr" = "natpmp: invalid SPEC '$spec': $expected" ]
	done <<'SPECS'
6889-6881|the range 6889-6881 is reversed (the last port is below the first)
6881-6889:7000-7001|the internal range has 9 ports and the external range 2; they must match
6881-6889:7000|9 internal ports need an external range of 9 too (7000-7008), or 0
65530-65540|port 65540 is out of range (0-65535)
1-9:65530|9 internal ports need an external range of 9 too, or 0
70-90/both|port 80/tcp is also in '80'; name each port once
SPECS
	run --separate-stderr natpmp -g "$GW" map 1-1000 2000-2030/both
	[ "$status" -eq 64 ]
	[ "$stderr" = "natpmp: too many ports: map names more than 1024 in all; split them across commands" ]
	assert_nothing_sent
}
