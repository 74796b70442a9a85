#!/usr/bin/env bats
# doctor.bats - `natpmp doctor` against the fake gateway in each of its
# personalities: every line's status, the verdict and its advice, the exit
# status, the JSON objects, and no test mapping left behind.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helpers
load netns

teardown() {
	common_teardown
	if [ -n "${NETNS_USED:-}" ]; then
		netns_destroy
	fi
}

# doctor_against FAKEGW-OPTION...: a fresh fake gateway, then
# `natpmp doctor` on it with -4 (the fake gateway on 127.0.0.1 is IPv4)
doctor_against() {
	start_gateway "$@"
	run --separate-stderr natpmp -g "$GW" doctor
}

# line NAME: the text line of one check, as printed
line() {
	printf '%s\n' "${lines[@]}" | grep -E "^$1 "
}

# status_of NAME: ok, warn, fail or skip
status_of() {
	line "$1" | awk '{ print $2 }'
}

# interrupt_doctor_at PATTERN: doctor against a gateway that answers after
# 0.6 s, sent SIGINT once the gateway logged PATTERN; sets status, and the
# output is in $BATS_TEST_TMPDIR/out
interrupt_doctor_at() {
	start_gateway --delay 600
	# natpmp itself, not a shell function's subshell, gets the signal
	"$NATPMP" -t 5 -g "$GW" doctor >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	local pid=$!
	track_background "$pid"
	gw_wait_for "$1"
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	cat "$BATS_TEST_TMPDIR/out"
}

# doctor_refuses_port PORT: doctor --port PORT exits 64 with one line on
# stderr and sends nothing: a sentinel address request, one datagram, is
# all the gateway receives from here on, and it deletes nothing
doctor_refuses_port() {
	local before
	before=$(gw_count ' recv ')
	run --separate-stderr natpmp -g "$GW" doctor --port "$1"
	[ "$status" -eq 64 ]
	[ "$output" = "" ]
	[ "$stderr" = "natpmp: doctor --port $1: port $1 is held by a mapping natpmp made (map or renew-loop); choose another port" ]
	run natpmp -q -g "$GW" -t 2 --nat-pmp address
	[ "$(gw_count ' recv ')" -eq $((before + 1)) ]
	[ "$(gw_count ' deleted ')" -eq 0 ]
}

# doctor_takes_port_after UNMAP-ARGUMENT...: map 8080 over NAT-PMP, doctor
# --port 8080 refuses; natpmp unmap with the arguments; doctor --port 8080
# then makes and deletes its test mappings there
doctor_takes_port_after() {
	start_gateway
	run natpmp -g "$GW" map 8080
	[ "$status" -eq 0 ]
	doctor_refuses_port 8080
	run natpmp -g "$GW" unmap "$@"
	[ "$status" -eq 0 ]
	gw_holds 0
	run --separate-stderr natpmp -g "$GW" doctor --port 8080
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	[ "$(gw_count 'recv .*op=map-(tcp|udp) internal=8080 suggested=8080 lifetime=120')" -eq 2 ]
	gw_holds 0
}

@test "a gateway speaking both protocols: every check ok, exit 0, nothing left mapped" {
	doctor_against
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	[ "${#lines[@]}" -eq 9 ]
	for check in route nat-pmp pcp external-address mapping-tcp mapping-udp port-zero; do
		[ "$(status_of "$check")" = ok ]
	done
	[ "$(status_of ipv6)" = skip ]
	[[ "$(line route)" == *"gateway $GW from --gateway, interface lo, source 127.0.0.1" ]]
	[[ "$(line nat-pmp)" == *"answers (version 0); the gateway has been up 16 min 40 s" ]]
	[[ "$(line external-address)" == *"44.1.2.3, public" ]]
	[[ "$(line mapping-tcp)" =~ granted\ over\ NAT-PMP:\ external\ port\ [0-9]+\ as\ asked,\ 120\ s\;\ deleted$ ]]
	[[ "$(line port-zero)" == *"the gateway chose external port"* ]]
	[ "${lines[8]}" = "verdict           ok    port forwarding works: natpmp map PORT forwards a port here, natpmp renew-loop keeps it" ]
	gw_holds 0
	[ "$(gw_count ' deleted ')" -eq 3 ]
}

@test "--port chooses the test mappings' internal port; the default is one of 49152-65535" {
	doctor_against
	port=$(gw_log 'recv .*op=map-tcp' | head -1 | sed -E 's/.* internal=([0-9]+) .*/\1/')
	[ "$port" -ge 49152 ] && [ "$port" -le 65535 ]
	run natpmp -g "$GW" doctor --port 40123
	[ "$status" -eq 0 ]
	[ "$(gw_count 'recv .*op=map-(tcp|udp) internal=40123 suggested=40123 lifetime=120')" -eq 2 ]
	[ "$(gw_count 'recv .*op=map-tcp internal=40123 suggested=0 lifetime=120')" -eq 1 ]
	gw_holds 0
}

@test "NAT-PMP only: pcp warns, the verdict is ok" {
	doctor_against --speaks nat-pmp
	[ "$status" -eq 0 ]
	[ "$(line pcp)" = "pcp               warn  not spoken: the gateway answers in NAT-PMP format only" ]
	[ "$(status_of mapping-tcp)" = ok ]
	[ "$(status_of nat-pmp)" = ok ]
	[[ "${lines[8]}" == "verdict           ok    "* ]]
}

@test "PCP only: test mappings go over PCP, the verdict warns about NAT-PMP-only programs" {
	doctor_against --speaks pcp
	[ "$status" -eq 0 ]
	[ "$(line nat-pmp)" = "nat-pmp           warn  not spoken: the gateway answers in PCP format only" ]
	[[ "$(line pcp)" == "pcp               ok    answers (version 2)"* ]]
	[[ "$(line mapping-udp)" == *"granted over PCP: "* ]]
	[[ "${lines[8]}" == *"warn  port forwarding works over PCP, which natpmp uses by itself; programs that speak only NAT-PMP (natpmpc, many torrent clients) cannot map ports here" ]]
	gw_holds 0
}

# bats test_tags=timing
@test "a silent gateway: fail, exit 75, advice to enable NAT-PMP or PCP, after the 4.5 s a late answer could take" {
	start_gateway --silent
	local start elapsed
	start=$(now_ms)
	run --separate-stderr natpmp -g "$GW" doctor
	elapsed=$(($(now_ms) - start))
	echo "doctor took $elapsed ms"
	[ "$status" -eq 75 ]
	[ "$elapsed" -ge 4500 ] && [ "$elapsed" -lt 6000 ]
	[[ "$(line nat-pmp)" == *"fail  no answer from $GW in 1.5 s (3 attempts)" ]]
	[[ "$(line pcp)" == *"fail  no answer from $GW in 1.5 s (1 attempt)" ]]
	[ "$(status_of mapping-tcp)" = skip ]
	[[ "${lines[8]}" == *"fail  the router does not answer NAT-PMP or PCP on port $GW_PORT: enable NAT-PMP or PCP in its settings"* ]]
	[ "$(gw_count 'op=map')" -eq 0 ]
}

# miniupnpd holding hundreds of mappings answers in about 2 s: slower
# than a probe's 1.5 s, yet it works for natpmp map
# bats test_tags=timing
@test "a slow gateway is slow, not silent: each answer counts with its time, and the verdict is ok" {
	start_gateway --delay 1700
	run --separate-stderr natpmp -j -g "$GW" doctor
	printf '%s\n' "${lines[@]}"
	[ "$status" -eq 0 ]
	text_of() {
		jq -r --arg check "$1" 'select(.check == $check) | "\(.status) \(.text)"' <<<"$output"
	}
	[[ "$(text_of nat-pmp)" =~ ^warn\ answers\ \(version\ 0\),\ after\ (1\.[7-9]|2\.[0-9])\ s\ \(slow\)\;\ the\ gateway\ has\ been\ up ]]
	[[ "$(text_of pcp)" =~ ^warn\ answers\ \(version\ 2\),\ after\ (1\.[7-9]|2\.[0-9])\ s\ \(slow\)\; ]]
	for check in mapping-tcp mapping-udp port-zero; do
		[[ "$(text_of "$check")" =~ ^ok\ granted\ over\ NAT-PMP,\ after\ (1\.[7-9]|2\.[0-9])\ s\ \(slow\):\ .*\;\ deleted$ ]]
	done
	jq -e 'select(.check == "nat-pmp") | .slow and .answer_ms >= 1700 and .outcome == "answered"' <<<"${lines[1]}"
	jq -e '.verdict == "ok" and (.advice | startswith("port forwarding works:"))' <<<"${lines[8]}"
	wait_until gw_holds 0
}

# bats test_tags=timing
@test "-6 against a slow gateway: the pinhole is judged with the time PCP took" {
	start_gateway6 --delay 1700
	run --separate-stderr natpmp -6 -g "$GW" doctor
	[ "$status" -eq 0 ]
	[[ "$(line ipv6)" =~ ^ipv6\ +ok\ +router\ \[::1\]:[0-9]+,\ global\ address\ ::1\;\ PCP\ answers,\ after\ (1\.[7-9]|2\.[0-9])\ s\ \(slow\)\;\ a\ TCP\ pinhole\ for\ port\ [0-9]+\ was\ granted\ and\ deleted$ ]]
	wait_until gw_holds 0
}

# bats test_tags=timing
@test "an answer later than the 4.5 s budget does not count" {
	start_gateway --delay 4800
	run --separate-stderr natpmp -g "$GW" doctor
	[ "$status" -eq 75 ]
	[[ "$(line nat-pmp)" == *"fail  no answer from $GW in 1.5 s (3 attempts)" ]]
}

@test "a closed port: fail, exit 69, the port named closed" {
	run --separate-stderr natpmp -g 127.0.0.1:9 doctor
	[ "$status" -eq 69 ]
	[[ "$(line nat-pmp)" == *"fail  port 9 of 127.0.0.1 is closed (ICMP port unreachable)" ]]
	[[ "${lines[8]}" == *"fail  the router does not speak NAT-PMP or PCP (port 9 closed): enable NAT-PMP or PCP in its settings (often next to UPnP)" ]]
}

@test "a gateway refusing this device (result 2): fail, exit 77, advice to allow it" {
	doctor_against --result 2 --pcp-result 2
	[ "$status" -eq 77 ]
	[[ "$(line mapping-tcp)" == *"fail  gateway $GW refused (not authorized): allow this device to open ports by itself in the router's settings (a permission many routers give per device), or turn NAT-PMP on there" ]]
	[[ "${lines[8]}" == *"fail  the router refused this device: allow it to open ports by itself in the router's settings (a permission many routers give per device, often next to UPnP), or turn NAT-PMP or PCP on there" ]]
	gw_holds 0
}

@test "a carrier-grade NAT address: fail, exit 69, the ISP named" {
	doctor_against --external 100.64.7.8
	[ "$status" -eq 69 ]
	[[ "$(line external-address)" == *"fail  100.64.7.8, in 100.64.0.0/10: carrier-grade NAT at the ISP" ]]
	[[ "${lines[8]}" == *"your ISP shares your address (100.64.7.8 is in 100.64.0.0/10, carrier-grade NAT): mappings here are not reachable from the internet; ask the ISP for a public address or use a VPN with port forwarding" ]]
	gw_holds 0
}

@test "a private external address: fail, exit 69, double NAT named" {
	doctor_against --external 192.168.9.9
	[ "$status" -eq 69 ]
	[[ "$(line external-address)" == *"fail  192.168.9.9, private: the gateway is itself behind another NAT" ]]
	[[ "${lines[8]}" == *"your router is behind another router (its external address 192.168.9.9 is private)"* ]]
}

@test "no external address yet (0.0.0.0): fail, exit 75" {
	doctor_against --external 0.0.0.0
	[ "$status" -eq 75 ]
	[[ "$(line external-address)" == *"fail  0.0.0.0: the gateway has no external address yet" ]]
	[[ "${lines[8]}" == *"the router has no external address yet (0.0.0.0)"* ]]
	gw_holds 0
}

@test "a gateway refusing external port 0: port-zero warns, the verdict warns, exit 0" {
	doctor_against --port-zero-result 2
	[ "$status" -eq 0 ]
	[[ "$(line port-zero)" =~ warn\ \ gateway\ $GW\ refused\ \(not\ authorized\)\;\ external\ port\ 0\ asks\ the\ gateway\ to\ choose\ one,\ which\ some\ refuse:\ suggest\ a\ port\ \(([0-9]+):([0-9]+)\)$ ]]
	[ "$(status_of mapping-tcp)" = ok ]
	[[ "${lines[8]}" == *"warn  port forwarding works, but the router refuses external port 0 (any port): name the external port you want" ]]
}

@test "a lifetime cap: the granted lifetime against the asked, advice to use renew-loop" {
	doctor_against --max-lifetime 60
	[ "$status" -eq 0 ]
	[[ "$(line mapping-tcp)" == *"warn  granted over NAT-PMP: external port "*" as asked, 60 s of 120 s asked; deleted" ]]
	[[ "${lines[8]}" == *"warn  port forwarding works, but the router grants at most 60 s: keep mappings with natpmp renew-loop, or renew every 30 s" ]]
}

@test "--json: one object per check and a verdict object, for jq" {
	start_gateway --speaks pcp
	run --separate-stderr natpmp -j -g "$GW" doctor
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 9 ]
	[ "$(printf '%s\n' "${lines[@]}" | jq -r 'select(.check) | .check' | paste -sd,)" = "route,nat-pmp,pcp,external-address,mapping-tcp,mapping-udp,port-zero,ipv6" ]
	[ "$(jq -r 'select(.check == "nat-pmp") | "\(.status) \(.outcome) \(.via) \(.error)"' <<<"${lines[1]}")" = "warn other-protocol null unsupported" ]
	[ "$(jq -r 'select(.check == "pcp") | "\(.status) \(.outcome) \(.epoch)"' <<<"${lines[2]}")" = "ok answered 1000" ]
	[ "$(jq -r '"\(.address) \(.class)"' <<<"${lines[3]}")" = "44.1.2.3 public" ]
	[ "$(jq -r '"\(.via) \(.protocol) \(.internal_port == .requested_port) \(.external_port == .requested_port) \(.lifetime) \(.requested_lifetime) \(.deleted)"' <<<"${lines[5]}")" = "pcp udp true true 120 120 true" ]
	[ "$(jq -r '"\(.verdict) \(.exit_status)"' <<<"${lines[8]}")" = "warn 0" ]
	[[ "$(jq -r .advice <<<"${lines[8]}")" == "port forwarding works over PCP"* ]]
}

@test "-q prints the verdict alone" {
	doctor_against --external 100.64.7.8
	run natpmp -q -g "$GW" doctor
	[ "$status" -eq 69 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == "verdict           fail  your ISP shares your address"* ]]
}

@test "colour only on a terminal, and never with NO_COLOR" {
	start_gateway
	run natpmp -g "$GW" doctor
	[[ "$output" != *$'\033'* ]]
	run script -qec "TERM=xterm $NATPMP -g $GW doctor" /dev/null
	[[ "$output" == *$'\033[32mok\033[0m'* ]]
	run script -qec "NO_COLOR=1 TERM=xterm $NATPMP -g $GW doctor" /dev/null
	[[ "$output" != *$'\033[32m'* ]]
	[[ "$output" == *"verdict           ok    port forwarding works"* ]]
}

@test "SIGINT while a test mapping waits for its answer: it is deleted, exit 130" {
	interrupt_doctor_at 'recv .*op=map-tcp .*lifetime=120'
	[ "$status" -eq 130 ]
	grep -q '^mapping-tcp       skip  interrupted before the answer; deleted$' "$BATS_TEST_TMPDIR/out"
	grep -q '^verdict           fail  interrupted' "$BATS_TEST_TMPDIR/out"
	gw_holds 0
	[ "$(gw_count 'recv .*op=map-udp')" -eq 0 ]
}

@test "-6 checks an IPv6 gateway's PCP pinhole and skips the IPv4 checks" {
	start_gateway6
	run --separate-stderr natpmp -6 -g "$GW" doctor
	[ "$status" -eq 0 ]
	[ "$(line route)" = "route             skip  IPv4 not checked (-6 given)" ]
	[[ "$(line ipv6)" =~ ^ipv6\ +ok\ +router\ \[::1\]:[0-9]+,\ global\ address\ ::1\;\ a\ TCP\ pinhole\ for\ port\ [0-9]+\ was\ granted\ and\ deleted$ ]]
	[[ "${lines[8]}" == *"ok    IPv6 pinholes work: natpmp -6 map PORT opens one" ]]
	gw_holds 0
}

@test "-6 against a NAT-PMP-only gateway: fail, PCP is what opens pinholes" {
	start_gateway6 --speaks nat-pmp
	run --separate-stderr natpmp -6 -g "$GW" doctor
	[ "$status" -eq 69 ]
	[[ "${lines[8]}" == *"fail  the router speaks NAT-PMP but not PCP, and only PCP opens IPv6 pinholes: enable PCP in its settings" ]]
}

@test "--port is doctor's alone, and takes a port" {
	run --separate-stderr natpmp -g 127.0.0.1:9 doctor --port 0
	[ "$status" -eq 64 ]
	[ "$stderr" = "natpmp: invalid --port '0': not a port (1-65535)" ]
	run --separate-stderr natpmp -g 127.0.0.1:9 map 8080 --port 80
	[ "$status" -eq 64 ]
	[ "$stderr" = "natpmp: option --port does not apply to map" ]
	run --separate-stderr natpmp -g 127.0.0.1:9 doctor extra
	[ "$status" -eq 64 ]
	[ "$stderr" = "natpmp: doctor takes no arguments (got 'extra')" ]
}

# --- in network namespaces: the default configuration, no -g ---

@test "with no options on a LAN: the default route's gateway, both families, every check ok" {
	NETNS_USED=1
	netns_create
	ip netns exec "$NS_LAN" sysctl -qw net.ipv6.conf.default.accept_dad=0
	ip netns exec "$NS_GW" sysctl -qw net.ipv6.conf.default.accept_dad=0
	netns_wire_lan
	ip -n "$NS_LAN" route add default via 10.77.0.1
	ip -n "$NS_LAN" addr add 2001:db8:77::2/64 dev veth-lan nodad
	ip -n "$NS_GW" addr add fe80::1/64 dev veth-gw nodad
	ip -n "$NS_GW" addr add 2001:db8:77::1/64 dev veth-gw nodad
	ip -n "$NS_LAN" -6 route add default via fe80::1 dev veth-lan
	netns_start_gateway 10.77.0.1 --external 44.5.6.7
	ip netns exec "$NS_GW" "$FAKEGW" --bind fe80::1%veth-gw --port 5351 \
		--ready-file "$BATS_TEST_TMPDIR/gw6.ready" --log "$BATS_TEST_TMPDIR/gw6.log" 3>&- &
	NETNS_GW_PIDS="$! $NETNS_GW_PIDS"
	wait_until test -s "$BATS_TEST_TMPDIR/gw6.ready"
	run --separate-stderr lan_natpmp doctor
	printf '%s\n' "${lines[@]}"
	[ "$status" -eq 0 ]
	[[ "$(line route)" == "route             ok    gateway 10.77.0.1 from the default route, interface veth-lan, source 10.77.0.2" ]]
	for check in nat-pmp pcp external-address mapping-tcp mapping-udp port-zero ipv6; do
		[ "$(status_of "$check")" = ok ]
	done
	[[ "$(line ipv6)" == "ipv6              ok    router fe80::1%veth-lan, global address 2001:db8:77::2; a TCP pinhole for port "* ]]
	[ "$(grep -c 'recv from=\[2001:db8:77::2\]' "$BATS_TEST_TMPDIR/gw6.log")" -ge 3 ]
	[ "$(netns_ctl 10.77.0.1 mappings)" = "ok 0" ]
}

@test "on a point-to-point default route (a VPN tunnel): fail, exit 68, advice to name the gateway" {
	NETNS_USED=1
	netns_create
	ip link add wg-test0 netns "$NS_LAN" type veth peer name wg-peer0 netns "$NS_GW"
	ip -n "$NS_LAN" addr add 10.2.0.2/32 dev wg-test0
	ip -n "$NS_LAN" link set wg-test0 up
	ip -n "$NS_LAN" route add default dev wg-test0
	run --separate-stderr lan_natpmp doctor
	[ "$status" -eq 68 ]
	[ "$(line route)" = "route             fail  the default route goes through wg-test0, a point-to-point link such as a VPN tunnel, with no gateway address: name the gateway with -g" ]
	[ "$(status_of nat-pmp)" = skip ]
	[ "$(status_of ipv6)" = skip ]
	[[ "${lines[8]}" == "verdict           fail  the default route goes through the tunnel wg-test0, which has no gateway address: name your VPN's port-forwarding gateway with -g"* ]]
}

@test "SIGINT while a test mapping's deletion waits: the deletion is let finish, exit 130" {
	interrupt_doctor_at 'recv .*op=map-tcp .*suggested=0 lifetime=0$'
	[ "$status" -eq 130 ]
	grep -q '^mapping-tcp       ok    granted over NAT-PMP: .*; deleted$' "$BATS_TEST_TMPDIR/out"
	gw_holds 0
	[ "$(gw_count 'recv .*op=map-udp')" -eq 0 ]
}

@test "doctor --port refuses a port natpmp map holds over NAT-PMP, and the mapping stays" {
	start_gateway
	run natpmp -g "$GW" map 8080
	[ "$status" -eq 0 ]
	[ "$(gw_count 'recv .*op=map-tcp internal=8080 ')" -eq 1 ]
	doctor_refuses_port 8080
	gw_holds 1
}

@test "doctor --port refuses a port natpmp map holds over PCP, and the mapping stays" {
	start_gateway --speaks pcp
	run natpmp -g "$GW" map 8080/udp
	[ "$status" -eq 0 ]
	[ "$(gw_count 'recv .*op=map proto=udp internal=8080 ')" -eq 1 ]
	doctor_refuses_port 8080
	gw_holds 1
}

@test "doctor --port refuses a port a running renew-loop holds, and the loop's mapping stays" {
	start_gateway
	local out=$BATS_TEST_TMPDIR/loop.out
	"$NATPMP" -g "$GW" renew-loop 8080 >"$out" 2>&1 3>&- &
	track_background "$!"
	wait_until file_has "$out" ' mapped tcp .*:8080 ' 1
	# the loop writes its state in a burst just after the grant
	wait_until file_has "$NATPMP_STATE_DIR/state" '^mapping .* tcp 127\.0\.0\.1 8080 ' 1
	doctor_refuses_port 8080
	gw_holds 1
}

@test "after natpmp unmap of the port, doctor --port takes it again" {
	doctor_takes_port_after 8080
}

@test "after natpmp unmap --all over NAT-PMP, doctor --port takes the port again" {
	doctor_takes_port_after --all
}
