#!/usr/bin/env bats
# renew_loop_network.bats - renew-loop on a real (namespaced) LAN: gateway
# announcements (RFC 6886 section 3.2.1) and a default route that moves.
# shellcheck disable=SC2154 # bats' run sets $output and $lines

load helpers
load netns

setup() {
	netns_create
	netns_wire_lan
	ip -n "$NS_LAN" route add default via 10.77.0.1
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
	wait_until file_has "$LOOP_OUT" ' changed tcp 44\.3\.3\.3:8080 -> 10\.77\.0\.2:8080 lifetime 3600s$' 1
	run netns_ctl 10.77.0.3 mappings
	[ "$output" = "ok 1" ]
}
