# wg_helpers.bash - a VPN user's network made of namespaces: a client behind
# its home router, a VPN server on the "internet", a real WireGuard tunnel
# between them (wireguard-go at both ends, wg-quick's policy routing on the
# client), and the fake gateway on the tunnel address 10.2.0.1 with a VPN
# provider's personality: NAT-PMP only, short leases, random ports.
# shellcheck shell=bash

# wait_until, file_has, end_process, kill_namespace_processes, natpmp and
# start_loop/stop_loop come from there; its setup and teardown hooks, which
# are miniupnpd's, are replaced at the end of this file
load e2e_helpers

# the three namespaces, under e2e_helpers' names so that its functions
# (natpmp runs in NS_LAN) work on them: the client is the LAN host, the
# home router the gateway, the VPN server the host on the internet
NS_CLIENT=$NS_PREFIX-wg-client
NS_ROUTER=$NS_PREFIX-wg-router
NS_VPN=$NS_PREFIX-wg-vpn
# shellcheck disable=SC2034 # read by e2e_helpers' functions
NS_LAN=$NS_CLIENT NS_GW=$NS_ROUTER NS_WAN=$NS_VPN

# the underlay: client eth0 --- lan0 home router wan0 --- eth0 VPN server
CLIENT_ADDRESS=192.168.71.2
ROUTER_LAN=192.168.71.1
ROUTER_WAN=198.18.71.1
VPN_ENDPOINT=198.18.71.2
WG_PORT=51820
# the tunnel, as ProtonVPN numbers it
TUNNEL_CLIENT=10.2.0.2
TUNNEL_GATEWAY=10.2.0.1
# the address the VPN's users are seen from on the internet
VPN_EXIT=45.77.71.2
# wg-quick's table and mark: 51820 when that table is free
WG_TABLE=51820

FAKEGW=${FAKEGW_BIN:-$(dirname "$NATPMP")/tests/fakegw}
# a VPN provider's port forwarding, as ProtonVPN's behaves: NAT-PMP only,
# leases of 60 s at most, a random external port (options given after
# these override them)
VPN_PERSONALITY=(--speaks nat-pmp --max-lifetime 60 --random-port)

in_client() { ip netns exec "$NS_CLIENT" "$@"; }
in_router() { ip netns exec "$NS_ROUTER" "$@"; }
in_vpn() { ip netns exec "$NS_VPN" "$@"; }

# Milliseconds on the wall clock, for durations.
now_ms() {
	local us=${EPOCHREALTIME/[.,]/}
	echo $((us / 1000))
}

# Keys and both ends' configurations in wg(8)'s format, made at test time
# and readable by root only; bats deletes them with its temporary files.
make_keys() {
	local dir=$BATS_FILE_TMPDIR/wg
	mkdir -m 700 "$dir"
	(
		umask 077
		wg genkey >"$dir/client.key"
		wg genkey >"$dir/vpn.key"
		cat >"$dir/client.conf" <<-EOF
			[Interface]
			PrivateKey = $(cat "$dir/client.key")

			[Peer]
			PublicKey = $(wg pubkey <"$dir/vpn.key")
			AllowedIPs = 0.0.0.0/0
			Endpoint = $VPN_ENDPOINT:$WG_PORT
		EOF
		cat >"$dir/vpn.conf" <<-EOF
			[Interface]
			PrivateKey = $(cat "$dir/vpn.key")
			ListenPort = $WG_PORT

			[Peer]
			PublicKey = $(wg pubkey <"$dir/client.key")
			AllowedIPs = $TUNNEL_CLIENT/32
		EOF
	)
	CLIENT_CONF=$dir/client.conf
	VPN_CONF=$dir/vpn.conf
	export CLIENT_CONF VPN_CONF
}

# The three namespaces (the client's exists already) and the underlay.
# The home router masquerades its LAN, as home routers do, and drops what
# is addressed to private networks beyond it, as providers do: what the
# client sends to 10.2.0.1 outside the tunnel is lost without a word.
build_underlay() {
	ip netns add "$NS_ROUTER"
	ip netns add "$NS_VPN"
	ip link add eth0 netns "$NS_CLIENT" type veth peer name lan0 netns "$NS_ROUTER"
	ip link add wan0 netns "$NS_ROUTER" type veth peer name eth0 netns "$NS_VPN"
	ip -n "$NS_CLIENT" addr add "$CLIENT_ADDRESS/24" dev eth0
	ip -n "$NS_ROUTER" addr add "$ROUTER_LAN/24" dev lan0
	ip -n "$NS_ROUTER" addr add "$ROUTER_WAN/24" dev wan0
	ip -n "$NS_VPN" addr add "$VPN_ENDPOINT/24" dev eth0
	local ns
	for ns in "$NS_CLIENT" "$NS_ROUTER" "$NS_VPN"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$NS_CLIENT" link set eth0 up
	ip -n "$NS_ROUTER" link set lan0 up
	ip -n "$NS_ROUTER" link set wan0 up
	ip -n "$NS_VPN" link set eth0 up
	ip -n "$NS_CLIENT" route add default via "$ROUTER_LAN"
	ip -n "$NS_ROUTER" route add blackhole 10.0.0.0/8
	in_router sysctl -q -w net.ipv4.ip_forward=1
	in_router nft -f - <<-EOF
		table ip nat {
			chain postrouting {
				type nat hook postrouting priority 100; policy accept;
				oifname "wan0" masquerade;
			}
		}
		table ip watch {
			counter leaked {
			}
			chain prerouting {
				type filter hook prerouting priority raw; policy accept;
				iifname "lan0" ip daddr 10.0.0.0/8 counter name "leaked";
			}
		}
	EOF
}

# Datagrams for the tunnel's addresses that reached the home router
# instead: what left the client outside the tunnel.
leaked_to_router() {
	in_router nft -j list counter ip watch leaked |
		jq '.nftables[] | select(.counter) | .counter.packets'
}

# start_wireguard_go NS LOG: wireguard-go for wg0 in NS, in the foreground,
# logging to LOG; sets WG_PID once its control socket is open. It runs in
# a mount namespace of its own with a private /run, so that each end has
# its own /var/run/wireguard/wg0.sock and none is left on the host; `wg`
# reaches it there through nsenter (wg_at).
start_wireguard_go() {
	local ns=$1 log=$2
	echo "--- wireguard-go started" >>"$log"
	ip netns exec "$ns" unshare --mount --propagation private sh -c \
		'mount -t tmpfs wireguard-run /run && mkdir /run/wireguard &&
		exec wireguard-go --foreground wg0' >>"$log" 2>&1 3>&- &
	WG_PID=$!
	if ! wait_until wireguard_go_listening "$WG_PID"; then
		echo "wireguard-go did not start in $ns:" >&2
		cat "$log" >&2
		return 1
	fi
}

# True once PID is wireguard-go itself (past ip, unshare and sh, which
# exec one another, so in its namespaces) and its control socket is open.
# Until then nsenter would look in the host's /var/run/wireguard.
wireguard_go_listening() {
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = wireguard-go ] &&
		nsenter --target "$1" --mount test -S /run/wireguard/wg0.sock
}

# wg_at PID ARGS...: wg(8) talking to the wireguard-go PID.
wg_at() {
	local pid=$1
	shift
	nsenter --target "$pid" --mount --net wg "$@"
}

# The VPN server's end: its key, its one peer, 10.2.0.1 on wg0.
vpn_up() {
	start_wireguard_go "$NS_VPN" "$BATS_TEST_TMPDIR/wireguard-vpn.log"
	VPN_WG_PID=$WG_PID
	wg_at "$VPN_WG_PID" setconf wg0 "$VPN_CONF"
	ip -n "$NS_VPN" addr add "$TUNNEL_GATEWAY/24" dev wg0
	ip -n "$NS_VPN" link set wg0 up
}

# The client's end as `wg-quick up` makes it from a configuration with
# AllowedIPs = 0.0.0.0/0 when the kernel has no WireGuard: wireguard-go
# (which wg-quick lets go to the background), the configuration, the
# address, the link up with wg-quick's MTU, then its policy routing:
# the tunnel's own datagrams carry mark 51820 and keep to the main table;
# everything else takes table 51820, whose default route is wg0, unless
# the main table has a more specific route than its default one.
tunnel_up() {
	start_wireguard_go "$NS_CLIENT" "$BATS_TEST_TMPDIR/wireguard-client.log"
	CLIENT_WG_PID=$WG_PID
	wg_at "$CLIENT_WG_PID" setconf wg0 "$CLIENT_CONF"
	ip -n "$NS_CLIENT" -4 address add "$TUNNEL_CLIENT/32" dev wg0
	ip -n "$NS_CLIENT" link set mtu 1420 up dev wg0
	wg_at "$CLIENT_WG_PID" set wg0 fwmark "$WG_TABLE"
	ip -n "$NS_CLIENT" -4 route add 0.0.0.0/0 dev wg0 table "$WG_TABLE"
	ip -n "$NS_CLIENT" -4 rule add not fwmark "$WG_TABLE" table "$WG_TABLE"
	ip -n "$NS_CLIENT" -4 rule add table main suppress_prefixlength 0
	in_client sysctl -q -w net.ipv4.conf.all.src_valid_mark=1
}

# The client's end as `wg-quick down` takes it away: both rules, then the
# link, which ends wireguard-go (and takes table 51820's route with it).
tunnel_down() {
	ip -n "$NS_CLIENT" -4 rule delete table "$WG_TABLE"
	ip -n "$NS_CLIENT" -4 rule delete table main suppress_prefixlength 0
	ip -n "$NS_CLIENT" link delete dev wg0
	if ! WAIT_LIMIT=5 wait_until stopped "$CLIENT_WG_PID"; then
		echo "wireguard-go did not exit when wg0 was deleted" >&2
		return 1
	fi
	wait "$CLIENT_WG_PID" 2>/dev/null || true
	CLIENT_WG_PID=
}

# Ends both wireguard-go and removes what wg-quick's policy routing left:
# each test starts without a tunnel.
tunnel_destroy() {
	local pid
	for pid in ${CLIENT_WG_PID:-} ${VPN_WG_PID:-}; do
		end_process "$pid"
	done
	CLIENT_WG_PID=
	VPN_WG_PID=
	while ip -n "$NS_CLIENT" -4 rule delete table "$WG_TABLE" 2>/dev/null; do :; done
	while ip -n "$NS_CLIENT" -4 rule delete table main suppress_prefixlength 0 2>/dev/null; do :; done
}

# start_fakegw NS ADDR NAME [OPTION...]: the fake gateway on ADDR:5351 in
# NS, logging to NAME.log; its control port goes in CTL_NAME.
start_fakegw() {
	local ns=$1 address=$2 name=$3
	shift 3
	local ready=$BATS_TEST_TMPDIR/$name.ready
	ip netns exec "$ns" "$FAKEGW" --bind "$address" --port 5351 \
		--ready-file "$ready" --log "$BATS_TEST_TMPDIR/$name.log" "$@" 3>&- &
	BACKGROUND_PIDS+=("$!")
	wait_until test -s "$ready"
	read -r _ "CTL_$name" <"$ready"
}

# start_vpn_gateway [OPTION...]: the VPN's port forwarding on 10.2.0.1,
# inside the tunnel; sets VPN_GW_LOG.
start_vpn_gateway() {
	start_fakegw "$NS_VPN" "$TUNNEL_GATEWAY" vpngw --external "$VPN_EXIT" \
		"${VPN_PERSONALITY[@]}" "$@"
	# shellcheck disable=SC2034 # the tests read it
	VPN_GW_LOG=$BATS_TEST_TMPDIR/vpngw.log
}

# vpn_gateway_ctl COMMAND...: a control command to it.
vpn_gateway_ctl() {
	# shellcheck disable=SC2154 # start_fakegw set it
	in_vpn "$FAKEGW" --bind "$TUNNEL_GATEWAY" --ctl "$CTL_vpngw" "$@"
}

# Datagrams a fake gateway has received, from its log.
received_count() {
	grep -c ' recv ' "$1" || true
}

# CPU time (user and system) a process has used, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# On failure, the logs that say what happened.
show_wireguard_logs_on_failure() {
	[ -z "${BATS_TEST_COMPLETED:-}" ] || return 0
	local file
	for file in "$BATS_TEST_TMPDIR"/*.log "${LOOP_OUT:-}" "${LOOP_ERR:-}"; do
		if [ -z "$file" ] || [ ! -s "$file" ]; then
			continue
		fi
		echo "--- last lines of $file"
		tail -n 40 "$file"
	done
	echo "--- client rules and routes"
	ip -n "$NS_CLIENT" -4 rule show
	ip -n "$NS_CLIENT" -4 route show table all | grep -v 'table local'
}

# --- the hooks of wireguard.bats, in place of e2e_helpers' ---

setup_file() {
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
	if make_first_namespace; then
		build_underlay
		make_keys
	fi
}

teardown_file() {
	destroy_network
}

# Every test starts with the tunnel up and no fake gateway.
setup() {
	if [ -n "${NO_NAMESPACES:-}" ]; then
		skip "$NO_NAMESPACES"
	fi
	forget_background
	CLIENT_WG_PID=
	VPN_WG_PID=
	vpn_up
	tunnel_up
}

# wireguard-go first, with SIGTERM, so that it ends as it would on a
# user's machine; then the rest, and whatever is left in the namespaces
teardown() {
	show_wireguard_logs_on_failure
	tunnel_destroy
	stop_background
}
