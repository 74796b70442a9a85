#!/usr/bin/env bats
# vpn.bats - natpmp over a point-to-point tunnel, in network namespaces this
# file creates: a LAN host behind its home router, and a tunnel from it to
# a VPN server whose gateway is 10.2.0.1 at the tunnel's far end. The tunnel
# is two tun devices joined by socat over a link of their own, which is all
# natpmp can tell of WireGuard or OpenVPN; tests/e2e/wireguard.bats has
# the real thing. The home router holds 10.2.0.1 too, with a gateway of its
# own, to catch what leaks out of the tunnel.
# shellcheck disable=SC2154 # bats' run sets $output, $stderr and $lines

load helpers
load netns

NS_VPN=natpmp-vpn-$$
TUNNEL_GATEWAY=10.2.0.1
TUNNEL_CLIENT=10.2.0.2
VPN_EXIT=45.77.72.2

setup() {
	netns_lan_behind_router
	ip netns add "$NS_VPN"
	ip -n "$NS_VPN" link set lo up
	# the link the tunnel's datagrams travel on
	ip link add carrier0 netns "$NS_LAN" type veth peer name carrier0 netns "$NS_VPN"
	ip -n "$NS_LAN" addr add 198.18.72.1/30 dev carrier0
	ip -n "$NS_VPN" addr add 198.18.72.2/30 dev carrier0
	ip -n "$NS_LAN" link set carrier0 up
	ip -n "$NS_VPN" link set carrier0 up
	# the home router answers for the VPN's address as well
	ip -n "$NS_GW" addr add "$TUNNEL_GATEWAY/32" dev lo
	TUNNEL_PIDS=()
	tunnel_end "$NS_VPN" "$TUNNEL_GATEWAY" 198.18.72.2:9999 198.18.72.1:9998
	tunnel_up
}

teardown() {
	if [ -n "${LOOP_PID:-}" ]; then
		kill "$LOOP_PID" 2>/dev/null || true
		wait "$LOOP_PID" 2>/dev/null || true
	fi
	local pid
	for pid in "${TUNNEL_PIDS[@]}" ${VPN_GW_PID:-}; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	netns_destroy
	ip netns del "$NS_VPN" 2>/dev/null || true
}

# tunnel_end NS ADDRESS LOCAL REMOTE: a tun device vpn0 with ADDRESS/24 in
# NS, its packets carried in UDP datagrams from LOCAL to REMOTE; sets
# TUNNEL_PID once the device is up.
tunnel_end() {
	local ns=$1 address=$2 local=$3 remote=$4
	ip netns exec "$ns" socat "TUN:$address/24,tun-name=vpn0,tun-type=tun,iff-up" \
		"UDP-DATAGRAM:$remote,bind=$local" 3>&- 2>/dev/null &
	TUNNEL_PID=$!
	TUNNEL_PIDS+=("$TUNNEL_PID")
	wait_until tunnel_device_up "$ns"
}

tunnel_device_up() {
	ip -n "$1" link show vpn0 2>/dev/null | grep -q 'UP,LOWER_UP'
}

tunnel_device_gone() {
	! ip -n "$1" link show vpn0 >/dev/null 2>&1
}

# The client's end, as a VPN client brings it up.
tunnel_up() {
	tunnel_end "$NS_LAN" "$TUNNEL_CLIENT" 198.18.72.1:9998 198.18.72.2:9999
	CLIENT_TUNNEL_PID=$TUNNEL_PID
}

# ... and takes it down: its device and routes go with it.
tunnel_down() {
	kill "$CLIENT_TUNNEL_PID"
	wait "$CLIENT_TUNNEL_PID" 2>/dev/null || true
	wait_until tunnel_device_gone "$NS_LAN"
}

# start_vpn_gateway [OPTION...]: the VPN's port forwarding on 10.2.0.1
# inside the tunnel (NAT-PMP only, 60 s at most, random ports); its log
# is VPN_GW_LOG.
start_vpn_gateway() {
	VPN_GW_LOG=$BATS_TEST_TMPDIR/vpngw.log
	ip netns exec "$NS_VPN" "$FAKEGW" --bind "$TUNNEL_GATEWAY" --port 5351 \
		--ready-file "$BATS_TEST_TMPDIR/vpngw.ready" --log "$VPN_GW_LOG" \
		--external "$VPN_EXIT" --speaks nat-pmp --max-lifetime 60 \
		--random-port "$@" 3>&- &
	VPN_GW_PID=$!
	wait_until test -s "$BATS_TEST_TMPDIR/vpngw.ready"
}

start_lan_loop() {
	LOOP_OUT=$BATS_TEST_TMPDIR/loop.out
	LOOP_ERR=$BATS_TEST_TMPDIR/loop.err
	empty_logs "$LOOP_OUT" "$LOOP_ERR"
	# shellcheck disable=SC2086 # a wrapper is a command with arguments
	ip netns exec "$NS_LAN" env -u NATPMP_GATEWAY ${NATPMP_WRAPPER:-} \
		"$NATPMP" "$@" >"$LOOP_OUT" 2>"$LOOP_ERR" 3>&- &
	LOOP_PID=$!
}

stop_lan_loop() {
	kill -TERM "$LOOP_PID"
	local status=0
	wait "$LOOP_PID" || status=$?
	LOOP_PID=
	[ "$status" -eq 0 ]
}

VPN_TERMS="port forwarding is not enabled for this VPN connection"

# bats test_tags=timing
@test "through a tunnel, a closed port 5351 is a VPN connection without port forwarding, said at once by map" {
	local started elapsed
	started=$(now_ms)
	run --separate-stderr lan_natpmp -g "$TUNNEL_GATEWAY" map 0/both
	elapsed=$(($(now_ms) - started))
	[ "$status" -eq 69 ]
	[ "$elapsed" -lt 2000 ]
	[ -z "$output" ]
	[ "${stderr_lines[0]}" = "natpmp: map 0/udp: not sent: gateway $TUNNEL_GATEWAY does not speak NAT-PMP (ICMP port unreachable through the tunnel vpn0): $VPN_TERMS; enable it with the provider" ]

	run --separate-stderr lan_natpmp -g "$TUNNEL_GATEWAY" -j map 0/udp
	[ "$status" -eq 69 ]
	[ "$(jq -r .error <<<"$output")" = port-unreachable ]
	[[ $(jq -r .message <<<"$output") == *"$VPN_TERMS; enable it with the provider" ]]
}

@test "through a tunnel, renew-loop's first error and the doctor's verdict say the same" {
	start_lan_loop -g "$TUNNEL_GATEWAY" -l 60 renew-loop 0/both
	wait_until file_has "$LOOP_ERR" "$VPN_TERMS; enable it with the provider" 1
	stop_lan_loop

	run --separate-stderr lan_natpmp -g "$TUNNEL_GATEWAY" doctor
	[ "$status" -eq 69 ]
	[[ ${lines[0]} == "route "*"interface vpn0 (a tunnel), source $TUNNEL_CLIENT" ]]
	[[ ${lines[1]} == "nat-pmp "*"fail  port 5351 of $TUNNEL_GATEWAY is closed (ICMP port unreachable through the tunnel vpn0): $VPN_TERMS" ]]
	[[ ${lines[-1]} == "verdict "*"fail  $VPN_TERMS ($TUNNEL_GATEWAY closes port 5351 through the tunnel vpn0): enable it with the provider"* ]]
}

@test "a closed port on a LAN router says nothing of VPNs" {
	run --separate-stderr lan_natpmp -g 10.77.0.1 map 8080
	[ "$status" -eq 69 ]
	[ "$stderr" = "natpmp: map 8080/tcp: not sent: gateway 10.77.0.1 does not speak NAT-PMP (ICMP port unreachable)" ]
	run --separate-stderr lan_natpmp -g 10.77.0.1 doctor
	[ "$status" -eq 69 ]
	[[ $output != *VPN* ]]
	[[ ${lines[-1]} == "verdict "*"the router does not speak NAT-PMP or PCP (port 5351 closed)"* ]]
}

@test "with port forwarding on, the gateway at the tunnel's far end maps 0/both" {
	start_vpn_gateway --max-lifetime 45
	run --separate-stderr lan_natpmp -g "$TUNNEL_GATEWAY" -l 60 map 0/both
	[ "$status" -eq 0 ]
	[[ ${lines[0]} =~ ^udp\ $VPN_EXIT:[0-9]+\ -\>\ $TUNNEL_CLIENT:0\ lifetime\ 45s$ ]]
	[[ ${lines[1]} =~ ^tcp\ $VPN_EXIT:[0-9]+\ -\>\ $TUNNEL_CLIENT:0\ lifetime\ 45s$ ]]
}

# Datagrams the home router's gateway on 10.2.0.1 has received.
router_received() {
	grep -c ' recv ' "$BATS_TEST_TMPDIR/gw1.log" || true
}

@test "the tunnel down, renew-loop -g 10.2.0.1 reports its gateway lost and sends the home router nothing, then maps again through the tunnel" {
	start_vpn_gateway --max-lifetime 4
	# what leaks out of the tunnel would reach this one and be granted
	netns_start_gateway "$TUNNEL_GATEWAY" --external 44.7.7.7
	start_lan_loop -g "$TUNNEL_GATEWAY" -l 60 renew-loop 0/both
	wait_until file_has "$LOOP_OUT" " mapped (udp|tcp) $VPN_EXIT:" 2

	tunnel_down
	wait_until file_has "$LOOP_ERR" "gateway $TUNNEL_GATEWAY was reached directly over vpn0, and its route now goes via 10\\.77\\.0\\.1 on veth-lan \\(a tunnel down\\?\\): sending it nothing until that route is back" 1
	# a renewal comes due every 2 s, and the grants run out: the loop
	# waits, and says what ran out
	WAIT_LIMIT=8 wait_until file_has "$LOOP_OUT" " lost (udp|tcp) $VPN_EXIT:" 2
	sleep 1
	[ "$(router_received)" -eq 0 ]
	[ "$(grep -c ' mapped ' "$LOOP_OUT")" -eq 2 ]
	[ "$(grep -c 'sending it nothing' "$LOOP_ERR")" -eq 1 ]

	tunnel_up
	WAIT_LIMIT=8 wait_until file_has "$LOOP_OUT" " mapped (udp|tcp) $VPN_EXIT:[0-9]+ -> $TUNNEL_CLIENT:0 " 4
	[ "$(router_received)" -eq 0 ]
	grep -qE " network-changed $TUNNEL_GATEWAY interface vpn0 source $TUNNEL_CLIENT\$" "$LOOP_OUT"
	stop_lan_loop
	[ "$(router_received)" -eq 0 ]
}

@test "a named gateway behind a router from the start is followed; once reached directly, it is not followed back" {
	tunnel_down
	netns_start_gateway "$TUNNEL_GATEWAY" --external 44.7.7.7
	start_vpn_gateway
	# before the tunnel, 10.2.0.1 is the router's (a PCP server may sit
	# beyond the first hop): asked there, through 10.77.0.1
	start_lan_loop -g "$TUNNEL_GATEWAY" -l 60 renew-loop 0/udp
	wait_until file_has "$LOOP_OUT" " mapped udp 44\\.7\\.7\\.7:[0-9]+ -> 10\\.77\\.0\\.2:0 " 1
	# another router on the way is followed too
	ip -n "$NS_LAN" route replace default via 10.77.0.3
	kill -HUP "$LOOP_PID"
	wait_until file_has "$LOOP_OUT" " renewed udp 44\\.7\\.7\\.7:" 1

	# the tunnel comes up: the gateway is its far end now
	tunnel_up
	wait_until file_has "$LOOP_OUT" " mapped udp $VPN_EXIT:[0-9]+ -> $TUNNEL_CLIENT:0 " 1
	local before
	before=$(router_received)

	# and from now on it is a neighbour or nothing
	tunnel_down
	wait_until file_has "$LOOP_ERR" "was reached directly over vpn0, and its route now goes via 10\\.77\\.0\\.3 on veth-lan" 1
	kill -HUP "$LOOP_PID"
	sleep 1.5
	[ "$(router_received)" -eq "$before" ]
	stop_lan_loop
}

@test "map 51413 through a tunnel: the VPN forwards its port to the same port here, so the note says to listen on it" {
	start_vpn_gateway
	run --separate-stderr lan_natpmp -g "$TUNNEL_GATEWAY" -l 60 map 51413
	[ "$status" -eq 0 ]
	[[ $output =~ ^tcp\ $VPN_EXIT:([0-9]+)\ -\>\ $TUNNEL_CLIENT:51413\ lifetime\ 60s$ ]]
	local port=${BASH_REMATCH[1]}
	[ "$stderr" = "natpmp: note: map 51413/tcp: the gateway granted external port $port instead of 51413; through the tunnel vpn0 it forwards port $port to port $port here, not 51413: make the application listen on $port, or keep it told with renew-loop 0/both --on-change HOOK" ]
	# the gateway left to choose, the same holds, and -q keeps the note
	run --separate-stderr lan_natpmp -q -g "$TUNNEL_GATEWAY" -l 60 map 51414:0/udp
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[[ $stderr =~ ^natpmp:\ note:\ map\ 51414/udp:\ the\ gateway\ granted\ external\ port\ ([0-9]+)\;\ through\ the\ tunnel\ vpn0\ it\ forwards\ port\ ([0-9]+)\ to\ port\ ([0-9]+)\ here,\ not\ 51414: ]]
	# internal port 0 is the way to ask on a VPN: no note
	run --separate-stderr lan_natpmp -g "$TUNNEL_GATEWAY" -l 60 map 0/both
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}
