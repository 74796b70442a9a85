# netns.bash - a LAN host and a gateway as two network namespaces joined by
# a veth pair (10.77.0.0/24), for the suites that need real routes.
# shellcheck shell=bash

NS_LAN=natpmp-lan-$$
NS_GW=natpmp-gw-$$

# For setup(): both namespaces with loopback up, or a visible skip.
netns_create() {
	[ "$(id -u)" -eq 0 ] || skip "creating network namespaces needs root"
	ip netns add "$NS_LAN"
	ip netns add "$NS_GW"
	ip -n "$NS_LAN" link set lo up
	ip -n "$NS_GW" link set lo up
}

# For setup(): the LAN host behind its router at 10.77.0.1, its default
# route, as on most home networks.
netns_lan_behind_router() {
	netns_create
	netns_wire_lan
	ip -n "$NS_LAN" route add default via 10.77.0.1
}

# For teardown(), after common_teardown: every fake gateway, anything else
# still running in either namespace (a hook natpmp started, say; the names
# are this run's own, so whatever is in them is this test's), then both
# namespaces. A namespace outlives its name while a process is in it.
netns_destroy() {
	local pid ns
	for pid in ${NETNS_GW_PIDS:-}; do
		end_process "$pid"
	done
	NETNS_GW_PIDS=
	for ns in "$NS_LAN" "$NS_GW"; do
		netns_end_processes "$ns"
		ip netns del "$ns" 2>/dev/null || true
	done
}

# netns_end_processes NAME: ends every process in namespace NAME
netns_end_processes() {
	local pid
	for pid in $(ip netns pids "$1" 2>/dev/null); do
		end_process "$pid"
	done
}

# The LAN host at 10.77.0.2; the gateway answers at 10.77.0.1 and 10.77.0.3.
netns_wire_lan() {
	ip link add veth-lan netns "$NS_LAN" type veth peer name veth-gw netns "$NS_GW"
	ip -n "$NS_LAN" addr add 10.77.0.2/24 dev veth-lan
	ip -n "$NS_GW" addr add 10.77.0.1/24 dev veth-gw
	ip -n "$NS_GW" addr add 10.77.0.3/24 dev veth-gw
	ip -n "$NS_LAN" link set veth-lan up
	ip -n "$NS_GW" link set veth-gw up
}

# netns_start_gateway ADDR [FAKEGW-OPTION...]: a fake gateway on ADDR:5351
# in the gateway namespace, logging to gw<last octet>.log (also GW_LOG, so
# gw_count and gw_log read it), its control port in CTL_<last octet>.
netns_start_gateway() {
	local address=$1 octet=${1##*.}
	shift
	GW_LOG=$BATS_TEST_TMPDIR/gw$octet.log
	ip netns exec "$NS_GW" "$FAKEGW" --bind "$address" --port 5351 \
		--ready-file "$BATS_TEST_TMPDIR/gw$octet.ready" --log "$GW_LOG" "$@" 3>&- &
	NETNS_GW_PIDS="$! ${NETNS_GW_PIDS:-}"
	wait_until test -s "$BATS_TEST_TMPDIR/gw$octet.ready"
	read -r _ "CTL_$octet" <"$BATS_TEST_TMPDIR/gw$octet.ready"
}

# netns_ctl ADDR COMMAND...: a control command to the fake gateway at ADDR.
netns_ctl() {
	local address=$1 port_variable=CTL_${1##*.}
	shift
	ip netns exec "$NS_GW" "$FAKEGW" --bind "$address" --ctl "${!port_variable}" "$@"
}

# natpmp on the LAN host, with no gateway named anywhere.
lan_natpmp() {
	# shellcheck disable=SC2086 # a wrapper is a command with arguments
	ip netns exec "$NS_LAN" env -u NATPMP_GATEWAY ${NATPMP_WRAPPER:-} "$NATPMP" "$@"
}

# netns_wire_net HOST/LENGTH ROUTER...: netns_wire_lan on another network:
# the LAN host at HOST, the gateway namespace answering at each ROUTER
# address (same prefix length) behind veth-gw.
netns_wire_net() {
	local host=$1 length=${1##*/} router
	shift
	ip link add veth-lan netns "$NS_LAN" type veth peer name veth-gw netns "$NS_GW"
	ip -n "$NS_LAN" addr add "$host" dev veth-lan
	for router in "$@"; do
		ip -n "$NS_GW" addr add "$router/$length" dev veth-gw
	done
	ip -n "$NS_LAN" link set veth-lan up
	ip -n "$NS_GW" link set veth-gw up
}

# For tests that must see every network event they cause and no other:
# no IPv6 on interfaces created from now on in the LAN namespace, so no
# address configuration runs in the background.
netns_quiet_lan() {
	ip netns exec "$NS_LAN" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
}
