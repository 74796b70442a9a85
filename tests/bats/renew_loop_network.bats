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
	common_teardown
	netns_destroy
}

start_lan_loop() {
	LOOP_OUT=$BATS_TEST_TMPDIR/loop.out
	LOOP_ERR=$BATS_TEST_TMPDIR/loop.err
	empty_logs "$LOOP_OUT" "$LOOP_ERR"
	# shellcheck disable=SC2086 # a wrapper is a command with arguments
	ip netns exec "$NS_LAN" env -u NATPMP_GATEWAY ${NATPMP_WRAPPER:-} \
		"$NATPMP" "$@" >"$LOOP_OUT" 2>"$LOOP_ERR" 3>&- &
	LOOP_PID=$!
	track_background "$LOOP_PID"
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

# Milliseconds on a gateway's clock of the first line of its log (gwN.log)
# that matches.
gw_log_ms() {
	local line
	line=$(grep -E "$2" "$BATS_TEST_TMPDIR/gw$1.log" | head -1 | cut -d' ' -f1 | tr -d .)
	[ -n "$line" ]
	echo $((10#$line))
}

# bats test_tags=timing
@test "moved to a gateway that answers PCP and drops NAT-PMP, renew-loop maps there within 2 s of its first datagram" {
	netns_start_gateway 10.77.0.1 --external 44.1.1.1
	netns_start_gateway 10.77.0.3 --external 44.3.3.3 --natpmp-silent
	start_lan_loop -l 1h renew-loop 8080
	wait_until file_has "$LOOP_OUT" ' mapped tcp 44\.1\.1\.1:8080 ' 1
	ip -n "$NS_LAN" route replace default via 10.77.0.3
	wait_until file_has "$LOOP_OUT" ' mapped tcp 44\.3\.3\.3:8080 -> 10\.77\.0\.2:8080 lifetime 3600s$' 1
	local took
	took=$(($(gw_log_ms 3 'reply .*format=pcp op=map ') - $(gw_log_ms 3 ' recv ')))
	echo "mapped at the new gateway $took ms after its first datagram"
	[ "$took" -le 2000 ]
	grep -q 'recv .*version=2 op=announce' "$BATS_TEST_TMPDIR/gw3.log"
	# and the first gateway, which answers NAT-PMP, never heard PCP
	[ "$(grep -c 'recv .*version=2' "$BATS_TEST_TMPDIR/gw1.log")" -eq 0 ]
}

# Milliseconds on the test's clock at which a file first has a line that
# matches (polled every 20 ms).
ms_when() {
	WAIT_LIMIT=${WAIT_LIMIT:-5} wait_until file_has "$1" "$2" "${3:-1}"
	now_ms
}

@test "a restart announced while the gateway is silent is reported once the gateway itself answers, not before" {
	netns_start_gateway 10.77.0.1 --epoch 5000
	start_lan_loop -l 1h renew-loop 8080
	wait_until file_has "$LOOP_OUT" ' mapped ' 1
	# the gateway stops answering; SIGHUP sends a renewal that now waits
	netns_ctl 10.77.0.1 silent on
	kill -HUP "$LOOP_PID"
	wait_until file_has "$GW_LOG" 'drop from=.*silent' 3
	netns_ctl 10.77.0.1 restart
	netns_ctl 10.77.0.1 announce-pcp
	# the announcement sends the waiting renewal again at once...
	wait_until file_has "$GW_LOG" 'drop from=.*silent' 4
	# ...but is not itself the answer: nobody has confirmed a restart
	[ "$(grep -c 'gateway-reset' "$LOOP_OUT")" -eq 0 ]
	netns_ctl 10.77.0.1 silent off
	# the gateway's own answer, epoch 0, is the restart, on the schedule
	WAIT_LIMIT=8 wait_until file_has "$LOOP_OUT" ' gateway-reset 10\.77\.0\.1 ' 1
	# recreated after the RFC's random 0-5 s
	WAIT_LIMIT=8 wait_until file_has "$GW_LOG" 'reply .*op=map-tcp .*lifetime=3600$' 2
	run netns_ctl 10.77.0.1 mappings
	[ "$output" = "ok 1" ]
}

@test "announcements that lie about a restart or an address change nothing: the gateway's own answer is asked for and believed" {
	netns_start_gateway 10.77.0.1 --epoch 5000
	local hook_log=$BATS_TEST_TMPDIR/hook.log
	start_lan_loop -v -l 1h renew-loop 8080 --on-change "echo \"\$NATPMP_EVENT\" >> '$hook_log'"
	wait_until file_has "$LOOP_OUT" ' mapped ' 1
	wait_until file_has "$hook_log" '^mapped$' 1
	local asked
	asked=$(gw_count 'recv .*op=address')
	# from the gateway's own address and port: a restart (epoch 0) in
	# PCP format, then another external address in NAT-PMP format
	netns_ctl 10.77.0.1 lie-epoch 0
	wait_until file_has "$GW_LOG" 'recv .*op=address' $((asked + 1))
	netns_ctl 10.77.0.1 lie-address 6.6.6.6
	# a second question, no sooner than 2 s after the first
	WAIT_LIMIT=6 wait_until file_has "$GW_LOG" 'recv .*op=address' $((asked + 2))
	wait_until file_has "$LOOP_ERR" 'received [0-9]+ bytes: address reply' $((asked + 2))
	[ "$(grep -cE 'gateway-reset|address-changed|changed|lost' "$LOOP_OUT")" -eq 0 ]
	[ "$(grep -c 6\.6\.6\.6 "$LOOP_OUT")" -eq 0 ]
	[ "$(wc -l <"$hook_log")" -eq 1 ]
	# the gateway kept its mapping, and natpmp did not make it again
	[ "$(grep -c 'reply .*op=map-tcp' "$GW_LOG")" -eq 1 ]
}

@test "an announcement from the gateway's address but another port is ignored" {
	netns_start_gateway 10.77.0.1 --epoch 5000
	start_lan_loop -v -l 1h renew-loop 8080
	wait_until file_has "$LOOP_OUT" ' mapped ' 1
	# version 2, R + ANNOUNCE, epoch 0: a restart, from port 5999
	printf '\002\200\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000' |
		ip netns exec "$NS_GW" socat -u - \
			UDP4-DATAGRAM:224.0.0.1:5350,bind=10.77.0.1:5999,ip-multicast-if=10.77.0.1
	wait_until file_has "$LOOP_ERR" 'ignored announcement from 10\.77\.0\.1:5999: not from the gateway.s port' 1
	[ "$(grep -c 'gateway-reset' "$LOOP_OUT")" -eq 0 ]
	[ "$(grep -c 'recv .*op=address' "$GW_LOG")" -eq 1 ]
}

# bats test_tags=timing
@test "under a flood of forged announcements renewals keep their time, and SIGTERM is acted on within a second" {
	netns_start_gateway 10.77.0.1 --max-lifetime 4
	start_lan_loop -l 60 renew-loop 8080
	wait_until file_has "$LOOP_OUT" ' mapped ' 1
	# as fast as socat can send: 12-byte datagrams to 224.0.0.1:5350 from
	# another host of the LAN and from the gateway's address on another
	# port, each refused
	local floods=()
	ip netns exec "$NS_GW" socat -u -b 12 /dev/zero \
		UDP4-DATAGRAM:224.0.0.1:5350,bind=10.77.0.3:5351,ip-multicast-if=10.77.0.3 3>&- &
	floods+=("$!")
	ip netns exec "$NS_GW" socat -u -b 12 /dev/zero \
		UDP4-DATAGRAM:224.0.0.1:5350,bind=10.77.0.1:5999,ip-multicast-if=10.77.0.1 3>&- &
	floods+=("$!")
	local renewals
	renewals=$(grep -c ' renewed ' "$LOOP_OUT" || true)
	# renewed every 2 s (the grant is 4 s): three renewals in 6 s, with
	# a second of slack each for a busy machine
	WAIT_LIMIT=9 wait_until file_has "$LOOP_OUT" ' renewed ' $((renewals + 3))
	[ "$(grep -c ' lost ' "$LOOP_OUT")" -eq 0 ]
	local sent at
	sent=$(now_ms)
	kill -TERM "$LOOP_PID"
	wait "$LOOP_PID" || true
	at=$(now_ms)
	kill "${floods[@]}" 2>/dev/null || true
	wait "${floods[@]}" 2>/dev/null || true
	echo "exited $((at - sent)) ms after SIGTERM"
	[ $((at - sent)) -lt 1000 ]
	wait_until file_has "$LOOP_OUT" ' unmapped ' 1
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
