#!/usr/bin/env bats
# field.bats - gateways as users meet them, each a personality of the fake
# gateway: a PCP router that drops NAT-PMP, libpcp's test server that
# answers NAT-PMP in neither protocol, a router that grants only devices
# allowed to open ports (FRITZ!Box), one that will not choose a port
# (RouterOS), and one that cannot renew what it granted (miniupnpd on pf).
# Everything in the default configuration: no -t, no forced protocol.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helpers

teardown() {
	if [ -n "${LOOP_PID:-}" ]; then
		kill "$LOOP_PID" 2>/dev/null || true
		wait "$LOOP_PID" 2>/dev/null || true
	fi
	common_teardown
}

start_loop() {
	LOOP_OUT=$BATS_TEST_TMPDIR/loop.out
	LOOP_ERR=$BATS_TEST_TMPDIR/loop.err
	empty_logs "$LOOP_OUT" "$LOOP_ERR"
	# shellcheck disable=SC2086 # a wrapper is a command with arguments
	${NATPMP_WRAPPER:-} "$NATPMP" "$@" >"$LOOP_OUT" 2>"$LOOP_ERR" 3>&- &
	LOOP_PID=$!
}

# SIGTERM, and its exit status (0: the mappings deleted)
stop_loop() {
	kill -TERM "$LOOP_PID"
	local status=0
	wait "$LOOP_PID" || status=$?
	LOOP_PID=
	return "$status"
}

# Milliseconds on the gateway's clock of the Nth (default first) log line
# that matches.
gw_ms() {
	local line
	line=$(gw_log "$1" | sed -n "${2:-1}p" | cut -d' ' -f1 | tr -d .)
	[ -n "$line" ]
	echo $((10#$line))
}

# Milliseconds from the gateway's first datagram to the line that matches.
ms_after_first_datagram() {
	echo $(($(gw_ms "$1" "${2:-1}") - $(gw_ms ' recv ')))
}

# --- a PCP router that drops NAT-PMP ---

# bats test_tags=timing
@test "a gateway that answers PCP and drops NAT-PMP: map succeeds within 2 s with no state, and the next map goes straight to PCP" {
	start_gateway --natpmp-silent
	run --separate-stderr natpmp -g "$GW" map 8080
	[ "$status" -eq 0 ]
	[ "$output" = "tcp 44.1.2.3:8080 -> 127.0.0.1:8080 lifetime 7200s" ]
	[ "$stderr" = "" ]
	local took
	took=$(ms_after_first_datagram 'reply .*format=pcp op=map ')
	echo "mapped $took ms after the first datagram"
	[ "$took" -le 2000 ]
	# the address request went unanswered past its first retransmission,
	# then PCP's ANNOUNCE found the gateway
	[ "$(gw_count ' recv .*op=address')" -eq 3 ]
	[ "$(gw_count ' recv .*version=2 op=announce')" -eq 1 ]
	grep -q "^gateway 127.0.0.1 $GW_PORT pcp " "$NATPMP_STATE_DIR/state"
	run natpmp -g "$GW" map 8081
	[ "$status" -eq 0 ]
	[ "$(gw_count ' recv ')" -eq 6 ]
	[ "$(gw_count ' recv .*version=2 op=map proto=tcp internal=8081')" -eq 1 ]
}

# bats test_tags=timing
@test "a gateway that answers PCP and drops NAT-PMP: unmap and address succeed within 2 s with no state" {
	start_gateway --natpmp-silent
	run --separate-stderr natpmp -g "$GW" unmap 8080
	[ "$status" -eq 0 ]
	[ "$output" = "tcp 8080 unmapped" ]
	local took
	took=$(ms_after_first_datagram 'reply .*format=pcp op=map .*lifetime=0$')
	echo "unmapped $took ms after the first datagram"
	[ "$took" -le 2000 ]
	rm -r "$NATPMP_STATE_DIR"
	: >"$GW_LOG"
	run --separate-stderr natpmp -g "$GW" address
	[ "$status" -eq 0 ]
	[ "$output" = "44.1.2.3" ]
	# PCP has no address request: a mapping of our own port, deleted
	took=$(ms_after_first_datagram 'reply .*format=pcp op=map .*lifetime=0$')
	echo "address known $took ms after the first datagram"
	[ "$took" -le 2000 ]
	gw_holds 0
}

# bats test_tags=timing
@test "a gateway that answers PCP and drops NAT-PMP: renew-loop maps within 2 s with no state" {
	start_gateway --natpmp-silent
	start_loop -g "$GW" -l 60 renew-loop 8080 5353/udp
	wait_until file_has "$LOOP_OUT" ' mapped ' 2
	local took
	took=$(ms_after_first_datagram 'reply .*format=pcp op=map ' 2)
	echo "both mapped $took ms after the first datagram"
	[ "$took" -le 2000 ]
	grep -qE ' mapped tcp 44\.1\.2\.3:8080 -> 127\.0\.0\.1:8080 lifetime 60s$' "$LOOP_OUT"
	# once PCP answered, every request goes in PCP
	[ "$(gw_count ' recv .*op=map-(tcp|udp)')" -eq 0 ]
}

# open_descriptors: how many descriptors renew-loop holds now
open_descriptors() {
	find "/proc/$LOOP_PID/fd" -mindepth 1 -maxdepth 1 | wc -l
}

descriptors_are() {
	[ "$(open_descriptors)" -eq "$1" ]
}

# A loop that runs for months through many silences must not keep what it
# opened for one: the socket that asked in PCP is closed once the gateway
# answers NAT-PMP again (the soak counted it as a descriptor grown).
@test "renew-loop gives back the socket it asked PCP from once the silent gateway answers NAT-PMP again" {
	start_gateway
	start_loop -g "$GW" -l 4 renew-loop 8080
	wait_until file_has "$LOOP_OUT" ' mapped tcp ' 1
	local before
	before=$(open_descriptors)
	gw_ctl silent on >/dev/null
	# the renewal, unanswered at its third send, is asked in PCP too
	WAIT_LIMIT=10 gw_wait_for 'recv .*version=2 op=announce'
	[ "$(open_descriptors)" -eq $((before + 1)) ]
	gw_ctl silent off >/dev/null
	WAIT_LIMIT=10 wait_until file_has "$LOOP_OUT" ' renewed tcp ' 1
	wait_until descriptors_are "$before"
}

# bats test_tags=timing
@test "a gateway that answers NAT-PMP within 250 ms never receives a PCP datagram" {
	start_gateway --delay 250
	run natpmp -g "$GW" map 8080 5353/udp
	[ "$status" -eq 0 ]
	run natpmp -g "$GW" address
	[ "$status" -eq 0 ]
	run natpmp -g "$GW" unmap 8080
	[ "$status" -eq 0 ]
	start_loop -g "$GW" -l 4 renew-loop 8080
	wait_until file_has "$LOOP_OUT" ' renewed ' 1
	stop_loop
	grep -q ' unmapped tcp 8080$' "$LOOP_OUT"
	gw_log ' recv '
	[ "$(gw_count ' recv .*version=2')" -eq 0 ]
	# no protocol to remember: NAT-PMP is where auto mode starts; of the
	# mappings, only 5353/udp was not deleted, and is remembered
	[ "$(grep -c '^gateway ' "$NATPMP_STATE_DIR/state")" -eq 0 ]
	[ "$(grep -c '^mapping ' "$NATPMP_STATE_DIR/state")" -eq 1 ]
	grep -Eq '^mapping .* udp 127\.0\.0\.1 5353 - [0-9]+$' "$NATPMP_STATE_DIR/state"
}

@test "doctor finds PCP behind a silent NAT-PMP, and its verdict holds for the next map" {
	start_gateway --natpmp-silent
	run --separate-stderr natpmp -g "$GW" doctor
	[ "$status" -eq 0 ]
	[[ "${lines[8]}" == "verdict           warn  port forwarding works over PCP, which natpmp uses by itself;"* ]]
	grep -q "^gateway 127.0.0.1 $GW_PORT pcp " "$NATPMP_STATE_DIR/state"
	local before
	before=$(gw_count ' recv ')
	run --separate-stderr natpmp -g "$GW" map 8080
	[ "$status" -eq 0 ]
	# one datagram: the mapping, in PCP
	[ "$(gw_count ' recv ')" -eq $((before + 1)) ]
	[ "$(gw_log ' recv ' | tail -1 | grep -c 'version=2 op=map proto=tcp internal=8080 ')" -eq 1 ]
}

@test "doctor remembers a gateway that came back to NAT-PMP, as map would" {
	start_gateway --speaks pcp
	natpmp -q -g "$GW" map 8080
	grep -q "^gateway 127.0.0.1 $GW_PORT pcp " "$NATPMP_STATE_DIR/state"
	gw_ctl speaks nat-pmp >/dev/null
	run --separate-stderr natpmp -g "$GW" doctor
	[ "$status" -eq 0 ]
	grep -q "^gateway 127.0.0.1 $GW_PORT nat-pmp " "$NATPMP_STATE_DIR/state"
	local before
	before=$(gw_count ' recv ')
	run natpmp -g "$GW" map 8081
	[ "$status" -eq 0 ]
	# NAT-PMP at once: its address request and the mapping
	[ "$(gw_count ' recv ')" -eq $((before + 2)) ]
	[ "$(gw_count ' recv .*len=12 op=map-tcp internal=8081 ')" -eq 1 ]
}

# bats test_tags=timing
@test "a gateway remembered as PCP that now drops PCP is found in NAT-PMP at PCP's first retransmission, and remembered so" {
	start_gateway --speaks pcp
	natpmp -q -g "$GW" map 8080
	grep -q "^gateway 127.0.0.1 $GW_PORT pcp " "$NATPMP_STATE_DIR/state"
	gw_ctl speaks both >/dev/null
	gw_ctl pcp-silent on >/dev/null
	: >"$GW_LOG"
	run --separate-stderr natpmp -g "$GW" map 8081
	[ "$status" -eq 0 ]
	[ "$output" = "tcp 44.1.2.3:8081 -> 127.0.0.1:8081 lifetime 7200s" ]
	# the PCP request, unanswered at about 3 s, asked NAT-PMP's address
	local took
	took=$(ms_after_first_datagram 'reply .*op=map-tcp ')
	echo "mapped over NAT-PMP $took ms after the first datagram"
	[ "$took" -ge 2600 ] && [ "$took" -le 4000 ]
	[ "$(gw_count ' recv .*len=2 op=address')" -eq 1 ]
	grep -q "^gateway 127.0.0.1 $GW_PORT nat-pmp " "$NATPMP_STATE_DIR/state"
}

# --- libpcp's test server: NAT-PMP answered in neither protocol ---

# -t: NAT-PMP's own schedule would take 127.75 s to say the same
@test "a gateway that answers NAT-PMP only with junk is described, not called silent" {
	start_gateway --natpmp-junk-reply 12 --pcp-silent
	run --separate-stderr natpmp -g "$GW" -t 2 -j address
	[ "$status" -eq 75 ]
	# the junk came back to each NAT-PMP send, nothing to PCP's ANNOUNCE
	local n
	n=$(gw_count ' recv .*op=address')
	[ "$(gw_count 'reply .* junk len=12')" -eq "$n" ]
	[ "$(gw_count ' recv .*version=2 op=announce')" -eq 1 ]
	[ "$stderr" = "natpmp: address: gateway $GW answered $n times to $n attempts (and 1 in PCP) within the 2 s timeout, never in NAT-PMP or PCP: 12-byte datagrams of version 2" ]
	jq -e '.error == "timeout"' <<<"$output"
}

@test "libpcp's 2-byte answer to NAT-PMP is named as such; forced NAT-PMP asks nothing in PCP" {
	start_gateway --natpmp-junk-reply 2
	run --separate-stderr natpmp --nat-pmp -g "$GW" -t 1 address
	[ "$status" -eq 75 ]
	[ "$stderr" = "natpmp: address: gateway $GW answered 3 times to 3 attempts within the 1 s timeout, never in NAT-PMP or PCP: 2-byte datagrams of version 0" ]
	[ "$(gw_count ' recv .*version=2')" -eq 0 ]
}

@test "a gateway that answers NAT-PMP with junk and PCP properly: map goes over PCP, doctor says what NAT-PMP sent" {
	start_gateway --natpmp-junk-reply 12
	run --separate-stderr natpmp -g "$GW" map 8080
	[ "$status" -eq 0 ]
	[ "$output" = "tcp 44.1.2.3:8080 -> 127.0.0.1:8080 lifetime 7200s" ]
	rm -r "$NATPMP_STATE_DIR"
	run --separate-stderr natpmp -g "$GW" -j doctor
	[ "$status" -eq 0 ]
	jq -e 'select(.check == "nat-pmp") | .status == "warn" and .outcome == "unusable" and
		(.text | test("^gateway 127\\.0\\.0\\.1:[0-9]+ answered 3 times to 3 attempts within the 1\\.5 s timeout, never in NAT-PMP or PCP: 12-byte datagrams of version 2$"))' <<<"${lines[1]}"
	jq -e '.verdict == "warn" and (.advice | startswith("port forwarding works over PCP"))' <<<"${lines[8]}"
}

@test "a gateway answering in neither protocol: doctor fails naming what came back" {
	start_gateway --natpmp-junk-reply 12 --pcp-silent
	run --separate-stderr natpmp -g "$GW" doctor
	[ "$status" -eq 75 ]
	[[ "${lines[8]}" == "verdict           fail  something answers on port $GW_PORT, but in neither NAT-PMP nor PCP: gateway $GW answered 3 times to 3 attempts within the 1.5 s timeout, never in NAT-PMP or PCP: 12-byte datagrams of version 2" ]]
}

# --- FRITZ!Box: NOT_AUTHORIZED until the device may open ports ---

@test "a router that refuses this device names the per-device permission, in map and in doctor" {
	start_gateway --speaks pcp --pcp-result 2
	run --separate-stderr natpmp -g "$GW" map 8080
	[ "$status" -eq 77 ]
	[ "$stderr" = "natpmp: map 8080/tcp: gateway $GW refused (NOT_AUTHORIZED): allow this device to open ports by itself in the router's settings (a permission many routers give per device), or turn PCP on there" ]
	run --separate-stderr natpmp -g "$GW" doctor
	[ "$status" -eq 77 ]
	[ "${lines[8]}" = "verdict           fail  the router refused this device: allow it to open ports by itself in the router's settings (a permission many routers give per device, often next to UPnP), or turn NAT-PMP or PCP on there" ]
	# once allowed, the same command works
	gw_ctl pcp-result -1 >/dev/null
	run natpmp -g "$GW" map 8080
	[ "$status" -eq 0 ]
}

@test "an IPv6 pinhole refused for this device says the same" {
	start_gateway6 --pcp-result 2
	run --separate-stderr natpmp -g "$GW" map 8080
	[ "$status" -eq 77 ]
	[ "$stderr" = "natpmp: map 8080/tcp: gateway $GW refused (NOT_AUTHORIZED): allow this device to open ports by itself in the router's settings (a permission many routers give per device), or turn PCP on there" ]
}

# --- RouterOS: no port chosen by the gateway ---

@test "a router that will not choose a port: map suggests the internal port and works; :0 is refused with advice to suggest one" {
	# NAT-PMP's out of resources is 4, PCP's NO_RESOURCES 8
	for personality in "--speaks both --port-zero-result 4" "--speaks pcp --port-zero-result 8"; do
		stop_gateway
		# shellcheck disable=SC2086 # options and their values
		start_gateway $personality
		run --separate-stderr natpmp -g "$GW" map 8080
		[ "$status" -eq 0 ]
		[ "$output" = "tcp 44.1.2.3:8080 -> 127.0.0.1:8080 lifetime 7200s" ]
		run --separate-stderr natpmp -g "$GW" map 9090:0
		echo "$personality: $stderr"
		[ "$status" -eq 75 ]
		[[ "$stderr" == "natpmp: map 9090/tcp: gateway $GW is out of resources "*"; external port 0 asks the gateway to choose one, which some refuse: suggest a port (9090:9090)" ]]
	done
}

# --- miniupnpd on pf: renewals refused, new mappings granted ---

# renew_refused START-GATEWAY: renew-loop on a gateway that refuses every
# renewal with NO_RESOURCES; each renewal deletes and makes it anew
renew_refused() {
	"$@" --pcp-renew-result 8
	start_loop -g "$GW" -l 4 renew-loop 8080
	WAIT_LIMIT=10 wait_until file_has "$LOOP_OUT" ' renewed tcp ' 2
	# each refused renewal: one deletion, then the mapping made anew (the
	# last refusal's deletion may still be on its way)
	local refused deleted
	refused=$(gw_count 'reply .*op=map .*result=8 ')
	deleted=$(gw_count 'recv .*op=map proto=tcp internal=8080 .*lifetime=0 ')
	echo "$refused refused, $deleted deleted"
	[ "$deleted" -ge 2 ]
	[ "$deleted" -eq "$refused" ] || [ "$deleted" -eq $((refused - 1)) ]
	grep -qF " error map 8080/tcp: gateway $GW is out of resources (NO_RESOURCES); it granted this mapping before: deleting it and making it anew" "$LOOP_ERR"
	# never lost meanwhile: mapped once, renewed since
	[ "$(grep -cE ' (lost|mapped) ' "$LOOP_OUT")" -eq 1 ]
}

@test "a gateway that refuses renewals (NO_RESOURCES) has the IPv6 pinhole deleted and made anew, reported" {
	renew_refused start_gateway6
	grep -qE ' renewed tcp \[::1\]:8080 -> \[::1\]:8080 lifetime 4s$' "$LOOP_OUT"
}

@test "a gateway that refuses renewals (NO_RESOURCES) over PCP on IPv4 has the mapping made anew too" {
	renew_refused start_gateway --speaks pcp
}

@test "when the mapping made anew is refused too, renew-loop does not delete again: one deletion per grant" {
	# each refusal holds for 1 s
	start_gateway6 --pcp-renew-result 8 --pcp-error-lifetime 1
	start_loop -g "$GW" -l 4 renew-loop 8080
	wait_until file_has "$LOOP_OUT" ' mapped tcp ' 1
	gw_ctl pcp-result 8 >/dev/null # from now on every request is refused
	WAIT_LIMIT=10 wait_until file_has "$LOOP_OUT" ' lost tcp ' 1
	WAIT_LIMIT=10 gw_wait_for 'reply .*result=8 ' 5
	gw_log 'recv '
	[ "$(gw_count 'recv .*lifetime=0 ')" -eq 1 ]
	kill -0 "$LOOP_PID"
}
