#!/usr/bin/env bats
# exchange.bats - talking to the gateway: the RFC 6886 retransmission
# schedule, giving up on time, and never taking junk for an answer.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr and $stderr_lines

load helpers

teardown() {
	common_teardown
}

# Milliseconds of each of natpmp's -v lines that match, as natpmp stamped
# them when it sent: the schedule itself, without the gateway's reading
# delays on a busy machine.
sent_ms() {
	grep -E "$1" <<<"$stderr" | sed -E 's/^natpmp: \[ *([0-9]+) ms\].*/\1/'
}

# bats test_tags=timing
@test "retransmissions follow the RFC schedule: 0, 0.25, 0.75, 1.75, 3.75 s; PCP is asked too from the third" {
	start_gateway --silent
	run --separate-stderr natpmp -v -g "$GW" -t 4 address
	[ "$status" -eq 75 ]
	# each went out on the wire
	[ "$(gw_count ' recv .*op=address')" -eq 5 ]
	mapfile -t times < <(sent_ms 'send [0-9]/9 .*address request')
	[ "${#times[@]}" -eq 5 ]
	local expected=(0 250 750 1750 3750) i actual
	for i in 1 2 3 4; do
		actual=$((times[i] - times[0]))
		echo "send $((i + 1)): ${actual} ms, expected ${expected[$i]} ms"
		[ "$actual" -ge "${expected[i]}" ]
		[ "$actual" -le $((expected[i] + 200)) ]
	done
	# PCP's ANNOUNCE with the third send, then on PCP's own schedule: its
	# next 2.7-3.3 s later, if that comes before the 4 s timeout
	mapfile -t announced < <(sent_ms 'send [0-9] to .*PCP announce request')
	[ "${#announced[@]}" -ge 1 ] && [ "${#announced[@]}" -le 2 ]
	actual=$((announced[0] - times[0]))
	echo "PCP: ${actual} ms, expected 750 ms"
	[ "$actual" -ge 750 ] && [ "$actual" -le 950 ]
	if [ "${#announced[@]}" -eq 2 ]; then
		actual=$((announced[1] - announced[0]))
		echo "PCP again after ${actual} ms"
		[ "$actual" -ge 2700 ] && [ "$actual" -le 3500 ]
	fi
	[ "$(gw_count ' recv .*version=2 op=announce')" -eq "${#announced[@]}" ]
}

# bats test_tags=timing
@test "--timeout ends the wait on time" {
	start_gateway --silent
	local start elapsed
	start=$(now_ms)
	run natpmp -g "$GW" -t 0.5 address
	elapsed=$(($(now_ms) - start))
	echo "took $elapsed ms"
	[ "$status" -eq 75 ]
	[ "$elapsed" -ge 490 ]
	[ "$elapsed" -lt 900 ]
	[ "$(gw_count ' recv ')" -eq 2 ]
}

@test "a lost request is recovered by the retransmission" {
	start_gateway --drop 2
	run natpmp -g "$GW" -t 5 address
	[ "$status" -eq 0 ]
	[ "$output" = "44.1.2.3" ]
	[ "$(gw_count ' recv .*op=address')" -eq 3 ]
	[ "$(gw_count ' reply .*op=address')" -eq 1 ]
}

@test "junk datagrams before the real reply are ignored, never printed" {
	start_gateway --garbage 25 --external 44.9.8.7
	run --separate-stderr natpmp -g "$GW" -v map 8080/both
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "udp 44.9.8.7:8080 -> 127.0.0.1:8080 lifetime 7200s" ]
	[ "${lines[1]}" = "tcp 44.9.8.7:8080 -> 127.0.0.1:8080 lifetime 7200s" ]
	[ "${#lines[@]}" -eq 2 ]
	[ "$(grep -c 'ignored' <<<"$stderr")" -ge 70 ]
}

@test "replies from another address or port are never taken for the gateway's" {
	start_gateway --foreign 4
	run natpmp -g "$GW" -j map 8080
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.external_port == 8080 and .external_address == "44.1.2.3" and .lifetime == 7200'
	[ "$(gw_count 'foreign n=4')" -ge 2 ]
}

@test "a late answer to an earlier request does not pass for the current one" {
	# replies come 300 ms late, so every request is sent twice and the
	# second reply to each arrives while the next request is in flight
	start_gateway --delay 300
	run --separate-stderr natpmp -g "$GW" -v -t 10 map 80 81 82
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "tcp 44.1.2.3:80 -> 127.0.0.1:80 lifetime 7200s" ]
	[ "${lines[1]}" = "tcp 44.1.2.3:81 -> 127.0.0.1:81 lifetime 7200s" ]
	[ "${lines[2]}" = "tcp 44.1.2.3:82 -> 127.0.0.1:82 lifetime 7200s" ]
	[[ "$stderr" == *"answers another internal port"* ]]
}

@test "-v traces each datagram with elapsed milliseconds, stdout stays clean" {
	start_gateway
	run --separate-stderr natpmp -g "$GW" -v address
	[ "$status" -eq 0 ]
	[ "$output" = "44.1.2.3" ]
	# the gateway first, then each datagram out and in
	[[ "${stderr_lines[0]}" == "natpmp: ["*" ms] using the named gateway 127.0.0.1"* ]]
	[[ "${stderr_lines[1]}" =~ ^natpmp:\ \[\ *[0-9]+\ ms\]\ send\ 1/9\ to\ 127\.0\.0\.1:[0-9]+:\ address\ request\ \(2\ bytes\)$ ]]
	[[ "${stderr_lines[2]}" =~ ^natpmp:\ \[\ *[0-9]+\ ms\]\ received\ 12\ bytes:\ address\ reply:\ result\ 0\ \(success\),\ epoch\ [0-9]+,\ external\ address\ 44\.1\.2\.3$ ]]
}

# bats test_tags=timing
@test "on a terminal, a slow gateway shows progress on stderr" {
	start_gateway --silent
	run script -qec "$NATPMP -g $GW -t 2.2 address" /dev/null
	[[ "$output" == *"no answer from gateway $GW yet: attempt 4 of 9, 2s waited"* ]]
	[[ "$output" == *"no reply from gateway $GW within the 2.2 s timeout (4 attempts, and 1 in PCP)"* ]]
}

@test "with TERM=dumb there is no progress line and no escape byte, even on a terminal" {
	start_gateway --silent
	TERM=dumb run script -qec "$NATPMP -g $GW -t 1.2 address" /dev/null
	[[ "$output" == *"no reply from gateway $GW within the 1.2 s timeout"* ]]
	[[ "$output" != *$'\033'* ]]
	[[ "$output" != *"attempt "*"waited"* ]]
}

@test "without a terminal there is no progress line" {
	start_gateway --silent
	run --separate-stderr natpmp -g "$GW" -t 1.5 address
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" != *"attempt 4 of 9"* ]]
}
