#!/usr/bin/env bats
# address.bats - `natpmp address`: the external address alone on stdout,
# JSON with -j, and an exit status that says what went wrong.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr and $stderr_lines

load helpers

teardown() {
	common_teardown
}

@test "address prints the external address alone, so \$(natpmp address) works" {
	start_gateway --external 44.1.2.3
	run --separate-stderr natpmp -g "$GW" address
	[ "$status" -eq 0 ]
	[ "$output" = "44.1.2.3" ]
	[ -z "$stderr" ]
	ip=$(natpmp -g "$GW" address)
	[ "$ip" = "44.1.2.3" ]
}

@test "address sends exactly one 2-byte request" {
	start_gateway
	natpmp -g "$GW" address
	[ "$(gw_count ' recv ')" -eq 1 ]
	[ "$(gw_count 'recv from=127\.0\.0\.1:[0-9]+ len=2 op=address$')" -eq 1 ]
}

@test "toward a named IPv4 gateway, address and map ask the kernel for no route, as natpmpc does not (parity in tests/bench)" {
	start_gateway
	local trace=$BATS_TEST_TMPDIR/trace
	# LeakSanitizer cannot work under ptrace (the ASan stage runs this too)
	export ASAN_OPTIONS=detect_leaks=0
	strace -f -qq -e trace=socket -o "$trace" "$NATPMP" -g "$GW" address
	grep -q 'SOCK_DGRAM' "$trace"
	[ "$(grep -c AF_NETLINK "$trace")" -eq 0 ]
	strace -f -qq -e trace=socket -o "$trace" "$NATPMP" -g "$GW" map 8080
	grep -q 'SOCK_DGRAM' "$trace"
	[ "$(grep -c AF_NETLINK "$trace")" -eq 0 ]
	# -v traces the route, so it asks
	strace -f -qq -e trace=socket -o "$trace" "$NATPMP" -v -g "$GW" address 2>/dev/null
	grep -q 'AF_NETLINK' "$trace"
}

@test "address -j prints one JSON object with gateway, external_address and epoch" {
	start_gateway --external 44.1.2.3 --epoch 5000
	run --separate-stderr natpmp -g "$GW" -j address
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	echo "$output" | jq -e --arg port "$GW_PORT" '
		.gateway == "127.0.0.1" and .gateway_port == ($port | tonumber) and
		.external_address == "44.1.2.3" and (.epoch | . >= 5000 and . < 5010)'
}

@test "address -q prints nothing and still exits 0" {
	start_gateway
	run natpmp -g "$GW" -q address
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "a private external address is printed with a double-NAT warning" {
	start_gateway --external 192.168.178.20
	run --separate-stderr natpmp -g "$GW" address
	[ "$status" -eq 0 ]
	[ "$output" = "192.168.178.20" ]
	[ "$stderr" = "natpmp: warning: external address 192.168.178.20 is private: the gateway is itself behind NAT (double NAT), so mappings will not be reachable from the internet" ]
}

@test "a shared (100.64/10) external address is warned about too" {
	start_gateway --external 100.72.1.9
	run --separate-stderr natpmp -g "$GW" address
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"100.72.1.9 is shared (carrier-grade NAT)"* ]]
}

@test "result 3 with 0.0.0.0 reads 'gateway has no external address yet' and exits 75" {
	start_gateway --address-result 3
	run --separate-stderr natpmp -g "$GW" address
	[ "$status" -eq 75 ]
	[ -z "$output" ]
	[ "$stderr" = "natpmp: address: gateway $GW has no external address yet (network failure)" ]
}

@test "success with 0.0.0.0 is not an address either: exit 75" {
	start_gateway --external 0.0.0.0
	run --separate-stderr natpmp -g "$GW" address
	[ "$status" -eq 75 ]
	[ -z "$output" ]
	[[ "$stderr" == *"has no external address yet (it reported 0.0.0.0)" ]]
}

@test "each result code maps to its documented exit status and JSON error" {
	start_gateway
	local code expected_status expected_error
	while read -r code expected_status expected_error; do
		gw_ctl result "$code"
		run --separate-stderr natpmp -g "$GW" -j address
		echo "result $code: status $status, $output"
		[ "$status" -eq "$expected_status" ]
		echo "$output" | jq -e --arg e "$expected_error" '.error == $e and (.message | length > 0)'
		[ "${#stderr_lines[@]}" -eq 1 ]
	done <<-EOF
		1 69 unsupported
		2 77 not-authorized
		3 75 network-failure
		4 75 out-of-resources
		5 69 unsupported
		6 76 bad-reply
		65535 76 bad-reply
	EOF
}

@test "result 2 reads 'refused (not authorized)'" {
	start_gateway --result 2
	run --separate-stderr natpmp -g "$GW" address
	[ "$status" -eq 77 ]
	[ "$stderr" = "natpmp: address: gateway $GW refused (not authorized)" ]
}

@test "an unknown result code is named in the error" {
	start_gateway --result 42
	run --separate-stderr natpmp -g "$GW" address
	[ "$status" -eq 76 ]
	[ "$stderr" = "natpmp: address: gateway $GW answered with unknown result code 42" ]
}

@test "8-byte error replies are understood" {
	start_gateway --result 4 --short-errors
	run --separate-stderr natpmp -g "$GW" -t 2 address
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"out of resources"* ]]
}

# bats test_tags=timing
@test "with no gateway on the port, ICMP port unreachable ends at once with 69" {
	start_gateway
	gw_ctl close
	local start
	start=$(now_ms)
	run --separate-stderr natpmp -g "$GW" address
	[ "$status" -eq 69 ]
	[ "$stderr" = "natpmp: address: gateway $GW does not speak NAT-PMP (ICMP port unreachable)" ]
	[ $(($(now_ms) - start)) -lt 1000 ]
}

@test "a silent gateway times out at --timeout with exit 75" {
	start_gateway --silent
	run --separate-stderr natpmp -g "$GW" -t 1 -j address
	[ "$status" -eq 75 ]
	[ "$stderr" = "natpmp: address: no reply from gateway $GW within the 1 s timeout (3 attempts, and 1 in PCP)" ]
	echo "$output" | jq -e '.error == "timeout"'
}
