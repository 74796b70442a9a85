#!/usr/bin/env bats
# renew_loop_network.bats - renew-loop on a real (namespaced) LAN: gateway
# announcements (RFC 6886 section 3.2.1) and a default route that moves.
# shellcheck disable=SC2154 # bats' run sets $output and $lines

load helpers

NS_LAN=natpmp-alan-$$
NS_GW=natpmp-agw-$$

setup() {
	[ "$(id -u)" -eq 0 ] || skip "creating network namespaces needs root"
	ip netns add "$NS_LAN"
	ip netns add "$NS_GW"
	ip -n "$NS_LAN" link set lo up
	ip -n "$NS_GW" link set lo up
	ip link add veth-lan netns "$NS_LAN" type veth peer name veth-gw netns "$NS_GW"
	ip -n "$NS_LAN" addr add 10.77.0.2/24 dev veth-lan
	ip -n "$NS_GW" addr add 10.77.0.1/24 dev veth-gw
	ip -n "$NS_GW" addr add 10.77.0.3/24 dev veth-gw
	ip -n "$NS_LAN" link set veth-lan up
	ip -n "$NS_GW" link set veth-gw up
	ip -n "$NS_LAN" route add default via 10.77.0.1
}

teardown() {
	if [ -n "${LOOP_PID:-}" ]; then
		kill "$LOOP_PID" 2>/dev/null || true
		wait "$LOOP_PID" 2>/dev/null || true
	fi
	local pid
	for pid in ${GW_PIDS:-}; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	ip netns del "$NS_LAN" 2>/dev/null || true
	ip netns del "$NS_GW" 2>/dev/null || true
}

# Starts a fake gateway on ADDR:5351 in the gateway namespace; its control
# port lands in CTL_<last octet>.
start_gateway_at() {
	local address=$1 name=${1##*.}
	shift
	ip netns exec "$NS_GW" "$FAKEGW" --bind "$address" --port 5351 \
		--ready-file "$BATS_TEST_TMPDIR/gw$name.ready" \
		--log "$BATS_TEST_TMPDIR/gw$name.log" "$@" 3>&- &
	GW_PIDS="${GW_PIDS:-} $!"
	wait_until test -s "$BATS_TEST_TMPDIR/gw$name.ready"
	read -r _ "CTL_$name" <"$BATS_TEST_TMPDIR/gw$name.ready"
}

# ctl ADDR COMMAND...: a control command to the fake gateway at ADDR.
ctl() {
	local address=$1 port_var=CTL_${1##*.}
	shift
	ip netns exec "$NS_GW" "$FAKEGW" --bind "$address" --ctl "${!port_var}" "$@"
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
	start_gateway_at 10.77.0.1 --epoch 5000
	start_lan_loop -v -l 1h renew-loop 8080 5353/udp
	wait_until file_has "$LOOP_OUT" ' mapped ' 2
	ctl 10.77.0.1 restart
	ctl 10.77.0.1 announce
	# an hour-long lifetime: nothing but the announcement can explain this
	wait_until file_has "$LOOP_OUT" ' gateway-reset 10\.77\.0\.1 epoch [0-9]+$' 1
	WAIT_LIMIT=8 wait_until file_has "$BATS_TEST_TMPDIR/gw1.log" 'reply .*op=map-(tcp|udp) .*lifetime=3600$' 4
	run ctl 10.77.0.1 mappings
	[ "$output" = "ok 2" ]
}

@test "an announcement of a new external address is reported, with the mapping's change" {
	start_gateway_at 10.77.0.1
	local hook_log=$BATS_TEST_TMPDIR/hook.log
	start_lan_loop -l 1h renew-loop 8080 --on-change \
		"echo \"\$NATPMP_EVENT \$NATPMP_EXTERNAL_ADDRESS\" >> '$hook_log'"
	wait_until file_has "$LOOP_OUT" ' mapped ' 1
	ctl 10.77.0.1 external 44.9.9.9
	ctl 10.77.0.1 announce
	wait_until file_has "$LOOP_OUT" ' address-changed 44\.9\.9\.9$' 1
	wait_until file_has "$LOOP_OUT" ' changed tcp 44\.9\.9\.9:8080 -> 10\.77\.0\.2:8080 lifetime 3600s$' 1
	wait_until file_has "$hook_log" '^changed 44\.9\.9\.9$' 1
}

@test "announcements from any other address are ignored" {
	start_gateway_at 10.77.0.1 --epoch 5000
	start_gateway_at 10.77.0.3 --epoch 0 --external 44.6.6.6
	start_lan_loop -v -l 1h renew-loop 8080
	wait_until file_has "$LOOP_OUT" ' mapped ' 1
	ctl 10.77.0.3 announce 3
	wait_until file_has "$LOOP_ERR" 'ignored announcement from 10\.77\.0\.3: not our gateway' 3
	[ "$(grep -cE 'gateway-reset|address-changed' "$LOOP_OUT")" -eq 0 ]
	[ "$(grep -c ' recv ' "$BATS_TEST_TMPDIR/gw1.log")" -eq 2 ]
}

@test "when the default route moves to another gateway, the mappings follow" {
	start_gateway_at 10.77.0.1 --external 44.1.1.1
	start_gateway_at 10.77.0.3 --external 44.3.3.3
	start_lan_loop -l 1h renew-loop 8080
	wait_until file_has "$LOOP_OUT" ' mapped tcp 44\.1\.1\.1:8080 ' 1
	ip -n "$NS_LAN" route replace default via 10.77.0.3
	wait_until file_has "$LOOP_OUT" ' gateway-changed 10\.77\.0\.3$' 1
	wait_until file_has "$LOOP_OUT" ' changed tcp 44\.3\.3\.3:8080 -> 10\.77\.0\.2:8080 lifetime 3600s$' 1
	run ctl 10.77.0.3 mappings
	[ "$output" = "ok 1" ]
}
