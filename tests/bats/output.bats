#!/usr/bin/env bats
# output.bats - results that cannot be written: a closed stdout never lets
# result text reach the network, and a one-shot command says it failed.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr
# shellcheck disable=SC2016 # the inner shells expand their own arguments

load helpers

teardown() {
	common_teardown
}

@test "map with stdout closed exits 74, and only NAT-PMP requests reach the gateway" {
	start_gateway
	run --separate-stderr bash -c '"$1" -g "$2" map 8080 >&-' _ "$NATPMP" "$GW"
	[ "$status" -eq 74 ]
	[ "$stderr" = "natpmp: cannot write the results: Bad file descriptor" ]
	# the address request and the map request, nothing else: no text
	[ "$(gw_count ' recv ')" -eq 2 ]
	[ "$(gw_count ' recv .*len=2 op=address$')" -eq 1 ]
	[ "$(gw_count ' recv .*len=12 op=map-tcp internal=8080 ')" -eq 1 ]
	# the mapping itself was made: the failure is the report's alone
	gw_holds 1
}

@test "with -q and stdout closed there is nothing to write, and map succeeds" {
	start_gateway
	run --separate-stderr bash -c '"$1" -q -g "$2" map 8080 >&-' _ "$NATPMP" "$GW"
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
}

@test "address into a full disk exits 74 with the reason" {
	start_gateway
	run --separate-stderr bash -c '"$1" -g "$2" address >/dev/full' _ "$NATPMP" "$GW"
	[ "$status" -eq 74 ]
	[ "$stderr" = "natpmp: cannot write the results: No space left on device" ]
}

@test "stdin and stderr closed at start do not disturb a request" {
	start_gateway
	run bash -c '"$1" -g "$2" address <&- 2>&-' _ "$NATPMP" "$GW"
	[ "$status" -eq 0 ]
	[ "$output" = "44.1.2.3" ]
	[ "$(gw_count ' recv ')" -eq 1 ]
}

@test "with --nat-pmp, a gateway that answers in PCP format ends the request at once: it speaks PCP" {
	start_gateway --pcp-only
	local start elapsed
	start=$(now_ms)
	run --separate-stderr natpmp --nat-pmp -g "$GW" -j address
	elapsed=$(($(now_ms) - start))
	[ "$status" -eq 69 ]
	[ "$stderr" = "natpmp: address: gateway $GW answered in PCP format: it speaks PCP, not NAT-PMP" ]
	jq -e '.error == "unsupported"' <<<"$output"
	[ "$(gw_count ' recv ')" -eq 1 ]
	[ "$elapsed" -lt 1000 ]
}

@test "renew-loop with stdout closed keeps the mapping, says so, and exits 74" {
	start_gateway
	bash -c 'exec "$1" -g "$2" -l 60 renew-loop 8080 >&- 2>"$3"' _ "$NATPMP" "$GW" "$BATS_TEST_TMPDIR/err" 3>&- &
	local loop=$!
	track_background "$loop"
	wait_until gw_holds 1
	wait_until grep -q 'natpmp: warning: cannot write events to stdout: Bad file descriptor' "$BATS_TEST_TMPDIR/err"
	kill -TERM "$loop"
	local status=0
	wait "$loop" || status=$?
	[ "$status" -eq 74 ]
	gw_holds 0
}
