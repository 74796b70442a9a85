#!/usr/bin/env bats
# unmap.bats - `natpmp unmap`: deletions as RFC 6886 section 3.4 words
# them, and "already gone" counted as success.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr and $stderr_lines

load helpers

teardown() {
	common_teardown
}

@test "unmap sends lifetime 0 and suggested port 0, and prints 'unmapped'" {
	start_gateway
	natpmp -q -g "$GW" map 8080:80
	run --separate-stderr natpmp -g "$GW" unmap 8080:80
	[ "$status" -eq 0 ]
	[ "$output" = "tcp 8080 unmapped" ]
	[ -z "$stderr" ]
	[ "$(gw_count 'recv .*op=map-tcp internal=8080 suggested=0 lifetime=0$')" -eq 1 ]
	[ "$(gw_count 'deleted proto=tcp client=127\.0\.0\.1 internal=8080')" -eq 1 ]
}

@test "unmap does not ask for the external address" {
	start_gateway
	natpmp -q -g "$GW" unmap 8080
	[ "$(gw_count 'recv .*op=address')" -eq 0 ]
}

@test "unmapping a mapping that does not exist succeeds" {
	start_gateway
	run natpmp -g "$GW" unmap 9999/udp
	[ "$status" -eq 0 ]
	[ "$output" = "udp 9999 unmapped" ]
}

@test "unmap both deletes UDP, then TCP" {
	start_gateway
	run natpmp -g "$GW" unmap 51413/both
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "udp 51413 unmapped" ]
	[ "${lines[1]}" = "tcp 51413 unmapped" ]
}

@test "unmap --all sends internal port 0 once per protocol" {
	start_gateway
	natpmp -q -g "$GW" map 80 81/udp
	run natpmp -g "$GW" unmap --all
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "udp all unmapped" ]
	[ "${lines[1]}" = "tcp all unmapped" ]
	[ "$(gw_count 'recv .*op=map-udp internal=0 suggested=0 lifetime=0$')" -eq 1 ]
	[ "$(gw_count 'recv .*op=map-tcp internal=0 suggested=0 lifetime=0$')" -eq 1 ]
	[ "$(gw_count 'deleted-all proto=(tcp|udp) .*count=1')" -eq 2 ]
}

@test "unmap --all --proto udp touches UDP only" {
	start_gateway
	run natpmp -g "$GW" unmap -a -p udp
	[ "$status" -eq 0 ]
	[ "$output" = "udp all unmapped" ]
	[ "$(gw_count 'recv .*op=map-tcp')" -eq 0 ]
}

@test "unmap -j prints gateway, protocol, internal_port and epoch" {
	start_gateway --epoch 123
	run --separate-stderr natpmp -g "$GW" -j unmap 8080
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.gateway == "127.0.0.1" and .protocol == "tcp" and
		.internal_port == 8080 and (.epoch | . >= 123) and (has("lifetime") | not)'
	run --separate-stderr natpmp -g "$GW" -j unmap -a -p tcp
	echo "$output" | jq -e '.internal_port == 0 and .protocol == "tcp"'
}

@test "a refused deletion exits 77 and names the item" {
	start_gateway --map-result 2
	run --separate-stderr natpmp -g "$GW" unmap 8080/udp
	[ "$status" -eq 77 ]
	[ "$stderr" = "natpmp: unmap 8080/udp: gateway $GW refused (not authorized)" ]
}

@test "unmap of a range deletes each port, one line each" {
	start_gateway
	natpmp -q -g "$GW" map 5000-5002/udp
	gw_holds 3
	run --separate-stderr natpmp -g "$GW" unmap 5000-5002/udp
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "${lines[@]}" | paste -sd,)" = "udp 5000 unmapped,udp 5001 unmapped,udp 5002 unmapped" ]
	gw_holds 0
}
