#!/usr/bin/env bats
# renew_loop_network.bats - renew-loop on a real (namespaced) LAN: gateway
# announcements (RFC 6886 section 3.2.1) and a default route that moves.
# shellcheck disable=SC2154 # bats' run sets $output and $lines

load helpers
load netns

setup() {
	netns_lan_behind_router
}

teardown() {
	if [ -n "${LOOP_PID:-}" ]; then
		kill "$LOOP_PID" 2>/dev/null || true
		wait "$LOOP_PID" 2>/dev/null || true
	fi
	netns_destroy
}

start_lan_loop() {
	LOOP_OUT=$BATS_TEST_TMPDIR/loop.out
	LOOP_ERR=$BATS_TEST_TMPDIR/loop.err
	# shellcheck disable=SC2086 # a wrapper is a command with arguments
	ip netns exec "$NS_LAN" env -u NATPMP_GATEWAY ${NATPMP_WRAPPER:-} \
		"$NATPMP" "$@" >"$LOOP_OUT" 2>"$LOOP_ERR" 3>&- &
	LOOP_PID=$!
}

@test "an announcement of a restart makes renew-loop recreate its mappings at once" {
	netns_start_gateway 10.77.0.1 --epoch 5000
	start_lan_loop -v -l 1h renew-loop 8080 5353/udp
	wait_until file_has "$LOOP_OUT" ' mapped ' 2
	netns_ctl 10.77.0.1 restart
	netns_ctl 10.77.0.1 announce
	# an hour-long lifetime: nothing but the announcement can explain this
	wait_until file_has "$LOOP_OUT" ' gateway-reset 10\.77\.0\.1 epoch [0-9]+$' 1
	WAIT_LIMIT=8 wait_until file_has "$BATS_TEST_TMPDIR/gw1.log" 'reply .*op=map-(tcp|udp) .*lifetime=3600$' 4
	run netns_ctl 10.77.0.1 mappings
	[ "$output" = "ok 2" ]
}

@test "an announcement of a new external address is reported, with the mapping's change" {
	netns_start_gateway 10.77.0.1
	local hook_log=$BATS_TEST_TMPDIR/hook.log
	start_lan_loop -l 1h renew-loop 8080 --on-change \
		"echo \"\$NATPMP_EVENT \$NATPMP_EXTERNAL_ADDRESS\" >> '$hook_log'"
	wait_until file_has "$LOOP_OUT" ' mapped ' 1
	netns_ctl 10.77.0.1 external 44.9.9.9
	netns_ctl 10.77.0.1 announce
	wait_until file_has "$LOOP_OUT" ' address-changed 44\.9\.9\.9$' 1
	wait_until file_has "$LOOP_OUT" ' changed tcp 44\.9\.9\.9:8080 -> 10\.77\.0\.2:8080 lifetime 3600s$' 1
	wait_until file_has "$hook_log" '^changed 44\.9\.9\.9$' 1
	# the next renewal keeps the announced address
	kill -HUP "$LOOP_PID"
	wait_until file_has "$LOOP_OUT" ' renewed tcp 44\.9\.9\.9:8080 ' 1
	[ "$(grep -c ' changed ' "$LOOP_OUT")" -eq 1 ]
	[ "$(wc -l <"$hook_log")" -eq 2 ]
}

@test "announcements from any other address are ignored" {
	netns_start_gateway 10.77.0.1 --epoch 5000
	netns_start_gateway 10.77.0.3 --epoch 0 --external 44.6.6.6
	start_lan_loop -v -l 1h renew-loop 8080
	wait_until file_has "$LOOP_OUT" ' mapped ' 1
	netns_ctl 10.77.0.3 announce 3
	wait_until file_has "$LOOP_ERR" 'ignored announcement from 10\.77\.0\.3: not our gateway' 3
	[ "$(grep -cE 'gateway-reset|address-changed' "$LOOP_OUT")" -eq 0 ]
	[ "$(grep -c ' recv ' "$BATS_TEST_TMPDIR/gw1.log")" -eq 2 ]
}

@test "when the default route moves to another gateway, the mappings follow" {
	netns_start_gateway 10.77.0.1 --external 44.1.1.1
	netns_start_gateway 10.77.0.3 --external 44.3.3.3
	start_lan_loop -l 1h renew-loop 8080
	wait_until file_has "$LOOP_OUT" ' mapped tcp 44\.1\.1\.1:8080 ' 1
	ip -n "$NS_LAN" route replace default via 10.77.0.3
	wait_until file_has "$LOOP_OUT" ' gateway-changed 10\.77\.0\.3 interface veth-lan source 10\.77\.0\.2$' 1
	# the old gateway's mapping forwards nothing to us now: lost, then
	# made anew at the new one
	wait_until file_has "$LOOP_OUT" ' lost tcp 44\.1\.1\.1:8080 -> 10\.77\.0\.2:8080 lifetime 0s$' 1
	wait_until file_has "$LOOP_OUT" ' mapped tcp 44\.3\.3\.3:8080 -> 10\.77\.0\.2:8080 lifetime 3600s$' 1
	run netns_ctl 10.77.0.3 mappings
	[ "$output" = "ok 1" ]
}

# Milliseconds on the test's clock at which a file first has a line that
# matches (polled every 20 ms).
ms_when() {
	WAIT_LIMIT=${WAIT_LIMIT:-5} wait_until file_has "$1" "$2" "${3:-1}"
	now_ms
}

@test "a restart announced in PCP format is noticed while a request waits for its answer" {
	netns_start_gateway 10.77.0.1 --epoch 5000
	start_lan_loop -l 1h renew-loop 8080
	wait_until file_has "$LOOP_OUT" ' mapped ' 1
	# the gateway stops answering; SIGHUP sends a renewal that now waits
	netns_ctl 10.77.0.1 silent on
	kill -HUP "$LOOP_PID"
	wait_until file_has "$BATS_TEST_TMPDIR/gw1.log" 'drop from=.*silent' 2
	netns_ctl 10.77.0.1 restart
	netns_ctl 10.77.0.1 announce-pcp
	local sent at
	sent=$(now_ms)
	at=$(ms_when "$LOOP_OUT" ' gateway-reset 10\.77\.0\.1 ')
	echo "gateway-reset $((at - sent)) ms after the announcement"
	[ $((at - sent)) -lt 1000 ]
	netns_ctl 10.77.0.1 silent off
	# recreated after the RFC's random 0-5 s
	WAIT_LIMIT=8 wait_until file_has "$BATS_TEST_TMPDIR/gw1.log" 'reply .*op=map-tcp .*lifetime=3600$' 2
	run netns_ctl 10.77.0.1 mappings
	[ "$output" = "ok 1" ]
}

@test "a new source address is noticed within 2 s and the mappings re-created from it" {
	netns_start_gateway 10.77.0.1
	start_lan_loop -l 1h renew-loop 8080
	wait_until file_has "$LOOP_OUT" ' mapped tcp 44\.1\.2\.3:8080 -> 10\.77\.0\.2:8080 ' 1
	# a new DHCP lease: the old address goes, another comes
	local changed at
	changed=$(now_ms)
	ip -n "$NS_LAN" addr flush dev veth-lan
	ip -n "$NS_LAN" addr add 10.77.0.5/24 dev veth-lan
	ip -n "$NS_LAN" route add default via 10.77.0.1
	at=$(ms_when "$LOOP_OUT" ' network-changed 10\.77\.0\.1 interface veth-lan source 10\.77\.0\.5')
	echo "noticed after $((at - changed)) ms"
	[ $((at - changed)) -le 2000 ]
	# the old mapping forwards to an address the host no longer has: it
	# is lost, and made anew (the old one still holds 8080 on the
	# gateway, so another port is fine)
	wait_until file_has "$LOOP_OUT" ' lost tcp 44\.1\.2\.3:8080 -> 10\.77\.0\.2:8080 lifetime 0s$' 1
	wait_until file_has "$LOOP_OUT" ' mapped tcp 44\.1\.2\.3:[0-9]+ -> 10\.77\.0\.5:8080 lifetime 3600s$' 1
	wait_until file_has "$BATS_TEST_TMPDIR/gw1.log" 'recv from=10\.77\.0\.5:[0-9]+ len=12 op=map-tcp internal=8080' 1
}

@test "a default route that appears after start is used within 2 s" {
	ip -n "$NS_LAN" route del default
	netns_start_gateway 10.77.0.1
	start_lan_loop -l 1h renew-loop 8080
	wait_until file_has "$LOOP_ERR" '^[0-9T:-]+Z error no default route' 1
	local added at
	added=$(now_ms)
	ip -n "$NS_LAN" route add default via 10.77.0.1
	at=$(ms_when "$LOOP_OUT" ' mapped tcp 44\.1\.2\.3:8080 -> 10\.77\.0\.2:8080 ')
	echo "mapped $((at - added)) ms after the route appeared"
	[ $((at - added)) -le 2000 ]
}

# The link goes down and comes back (a cable, a Wi-Fi roam); the default
# route comes back with it, as a DHCP client would put it.
bounce_link() {
	ip -n "$NS_LAN" link set veth-lan down
	sleep 0.3
	ip -n "$NS_LAN" link set veth-lan up
	ip -n "$NS_LAN" route replace default via 10.77.0.1
}

@test "a link that goes down and up makes the loop re-create its mappings within 2 s" {
	netns_start_gateway 10.77.0.1
	start_lan_loop -l 1h renew-loop 8080
	wait_until file_has "$LOOP_OUT" ' mapped ' 1
	local before back at
	before=$(grep -c 'recv .*op=map-tcp' "$BATS_TEST_TMPDIR/gw1.log")
	bounce_link
	back=$(now_ms)
	at=$(ms_when "$LOOP_OUT" ' network-changed 10\.77\.0\.1 interface veth-lan source 10\.77\.0\.2')
	[ $((at - back)) -le 2000 ]
	wait_until file_has "$BATS_TEST_TMPDIR/gw1.log" 'recv .*op=map-tcp' $((before + 1))
}

@test "with --gateway the network is watched too" {
	netns_start_gateway 10.77.0.1
	start_lan_loop -g 10.77.0.1 -l 1h renew-loop 8080
	wait_until file_has "$LOOP_OUT" ' mapped ' 1
	local before back at
	before=$(grep -c 'recv .*op=map-tcp' "$BATS_TEST_TMPDIR/gw1.log")
	bounce_link
	back=$(now_ms)
	at=$(ms_when "$LOOP_OUT" ' network-changed 10\.77\.0\.1 interface veth-lan ')
	[ $((at - back)) -le 2000 ]
	wait_until file_has "$BATS_TEST_TMPDIR/gw1.log" 'recv .*op=map-tcp' $((before + 1))
}

@test "SIGTERM ends the loop within 2 s even when the route vanishes while it deletes" {
	netns_start_gateway 10.77.0.1
	start_lan_loop -l 1h renew-loop 8080 8081
	wait_until file_has "$LOOP_OUT" ' mapped ' 2
	netns_ctl 10.77.0.1 silent on
	local start status=0
	start=$(now_ms)
	kill -TERM "$LOOP_PID"
	ip -n "$NS_LAN" route del default
	wait "$LOOP_PID" || status=$?
	LOOP_PID=
	echo "exit $status after $(($(now_ms) - start)) ms"
	[ "$status" -eq 0 ]
	[ $(($(now_ms) - start)) -lt 2000 ]
}
