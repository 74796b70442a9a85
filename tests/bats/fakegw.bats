#!/usr/bin/env bats
# fakegw.bats - the fake gateway's own PCP (RFC 6887) and IPv6 behaviour,
# checked with hand-built requests, so that the suites can trust what it plays.

load helpers
load netns

teardown() {
	common_teardown
	if [ -n "${NETNS_USED:-}" ]; then netns_destroy; fi
}

NONCE_A=0102030405060708090a0b0c
NONCE_B=a1a2a3a4a5a6a7a8a9aaabac
PREFER_FAILURE=02000000
IPV6_LOOPBACK=00000000000000000000000000000001

# PCP's 16-byte form of an IPv4 address, in hex: IPv4-mapped IPv6.
ipv4_hex() {
	local IFS=.
	# shellcheck disable=SC2086 # the address splits into its four numbers
	printf '00000000000000000000ffff%02x%02x%02x%02x' $1
}

LOOPBACK=$(ipv4_hex 127.0.0.1)
ANY_IPV4=$(ipv4_hex 0.0.0.0)

# map_request LIFETIME NONCE INTERNAL SUGGESTED [OPTIONS [CLIENT [PROTOCOL]]]:
# a MAP request in hex (sections 7.1 and 11.1), from 127.0.0.1 unless
# CLIENT (hex) says otherwise, for TCP unless PROTOCOL says.
map_request() {
	printf '02010000%08x%s%s%02x000000%04x%04x%s%s' "$1" "${6:-$LOOPBACK}" \
		"$2" "${7:-6}" "$3" "$4" "$ANY_IPV4" "${5:-}"
}

# announce_request CLIENT: an ANNOUNCE request in hex (section 14.1)
announce_request() {
	printf '0200000000000000%s' "$1"
}

# filter_option ADDRESS/LENGTH PORT: a FILTER option (section 13.3), IPv4
filter_option() {
	printf '0300001400%02x%04x%s' $((96 + ${1#*/})) "$2" "$(ipv4_hex "${1%/*}")"
}

# The datagrams a socat -x dump shows going one way (< or >), one line of
# hex each; only those written out in full, so that it can be read while
# socat still runs.
dumped_datagrams() {
	awk -v way="$2" '
		function flush() { if (ours && length(hex) == 2 * size) print hex; hex = "" }
		/^[<>] / { flush(); ours = ($1 == way); size = $0
			sub(/.*length=/, "", size); sub(/ .*/, "", size); next }
		/^ / { gsub(/ /, ""); hex = hex $0 }
		END { flush() }' "$1"
}

dump_has() {
	[ "$(dumped_datagrams "$1" '<' | wc -l)" -ge "$2" ]
}

log_has_lines() {
	[ "$(wc -l <"$GW_LOG")" -ge "$1" ]
}

# exchange HOST:PORT HEX [COUNT]: sends one datagram from a fresh port and
# waits for COUNT (default 1) datagrams back; REPLIES holds them, in hex.
# With COUNT 0 it waits for the gateway to log the datagram and what it
# did with it (two lines).
exchange() {
	local dump=$BATS_TEST_TMPDIR/exchange.dump
	local request=$BATS_TEST_TMPDIR/exchange.request
	local want=${3:-1} lines
	lines=$(wc -l <"$GW_LOG")
	# shellcheck disable=SC2001 # a \x before each byte: ${//} has no &
	printf '%b' "$(sed 's/../\\x&/g' <<<"$2")" >"$request"
	: >"$dump"
	socat -t 10 -x - "UDP:$1" <"$request" 2>"$dump" >/dev/null 3>&- &
	EXCHANGE_PID=$!
	track_background "$EXCHANGE_PID"
	if [ "$want" -eq 0 ]; then
		wait_until log_has_lines $((lines + 2))
	else
		wait_until dump_has "$dump" "$want"
	fi
	kill -KILL "$EXCHANGE_PID" 2>/dev/null || true # no goodbye needed
	wait "$EXCHANGE_PID" 2>/dev/null || true
	EXCHANGE_PID=
	mapfile -t REPLIES < <(dumped_datagrams "$dump" '<')
}

# bytes HEX OFFSET COUNT: COUNT bytes of a datagram from OFFSET, in hex
bytes() {
	echo "${1:$(($2 * 2)):$(($3 * 2))}"
}

# The first reply, which must be there; its length in bytes is ${#REPLY}/2.
first_reply() {
	[ "${#REPLIES[@]}" -ge 1 ]
	REPLY=${REPLIES[0]}
}

# The epoch the log gave for the last PCP reply, as the 8 hex digits the
# reply must carry.
logged_epoch_hex() {
	printf '%08x' "$(gw_log 'format=pcp' | tail -n 1 | sed -E 's/.* epoch=([0-9]+).*/\1/')"
}

@test "a MAP gets the suggested port at the external address, and both ends are logged" {
	start_gateway --external 44.1.2.3
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080)"
	first_reply
	[ "${#REPLY}" -eq 120 ]
	[ "$(bytes "$REPLY" 0 4)" = 02810000 ] # version 2, R + MAP, result 0
	[ "$(bytes "$REPLY" 4 4)" = 00000078 ]
	[ "$(bytes "$REPLY" 8 4)" = "$(logged_epoch_hex)" ]
	[ "$(bytes "$REPLY" 12 12)" = 000000000000000000000000 ]
	[ "$(bytes "$REPLY" 24 12)" = "$NONCE_A" ]
	[ "$(bytes "$REPLY" 36 4)" = 06000000 ]
	[ "$(bytes "$REPLY" 40 4)" = 1f901f90 ]
	[ "$(bytes "$REPLY" 44 16)" = "$(ipv4_hex 44.1.2.3)" ]
	[ "$(gw_count 'recv from=127\.0\.0\.1:[0-9]+ len=60 version=2 op=map proto=tcp internal=8080 suggested=8080 suggested-address=0\.0\.0\.0 lifetime=120 nonce=0102030405060708090a0b0c client=127\.0\.0\.1 options=none$')" -eq 1 ]
	[ "$(gw_count 'reply to=127\.0\.0\.1:[0-9]+ format=pcp op=map proto=tcp result=0 epoch=1[0-9]{3} internal=8080 external=8080 address=44\.1\.2\.3 lifetime=120$')" -eq 1 ]
	gw_holds 1
	[ "$(gw_count 'mapping proto=tcp client=127\.0\.0\.1 internal=8080 external=8080 expires_in=1[01][0-9] by=pcp nonce=0102030405060708090a0b0c$')" -eq 1 ]
}

@test "a deletion with another nonce is refused NOT_AUTHORIZED, for the error lifetime, and the mapping kept" {
	start_gateway --pcp-error-lifetime 45
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080)"
	first_reply
	[ "$(bytes "$REPLY" 0 4)" = 02810000 ]
	exchange "$GW" "$(map_request 0 "$NONCE_B" 8080 0)"
	first_reply
	[ "${#REPLY}" -eq 120 ]
	[ "$(bytes "$REPLY" 0 4)" = 02810002 ]
	[ "$(bytes "$REPLY" 4 4)" = 0000002d ]
	[ "$(bytes "$REPLY" 24 12)" = "$NONCE_B" ] # the request's fields come back
	[ "$(bytes "$REPLY" 40 2)" = 1f90 ]
	[ "$(gw_count 'refused proto=tcp client=127\.0\.0\.1 internal=8080 reason=nonce$')" -eq 1 ]
	gw_holds 1
	# the nonce that made it deletes it; deleting it again still succeeds
	exchange "$GW" "$(map_request 0 "$NONCE_A" 8080 0)"
	first_reply
	[ "$(bytes "$REPLY" 0 8)" = 0281000000000000 ]
	[ "$(gw_count 'deleted proto=tcp client=127\.0\.0\.1 internal=8080$')" -eq 1 ]
	gw_holds 0
	exchange "$GW" "$(map_request 0 "$NONCE_A" 8080 0)"
	first_reply
	[ "$(bytes "$REPLY" 0 4)" = 02810000 ]
}

@test "random-port gives UDP and TCP of one internal port the same random port, as a VPN gateway does" {
	start_gateway --random-port --speaks nat-pmp
	run --separate-stderr natpmp -g "$GW" -j map 0/both 56789/both
	[ "$status" -eq 0 ]
	local ports
	ports=$(jq -r .external_port <<<"$output" | paste -sd ' ')
	echo "granted: $ports"
	local udp0 tcp0 udp1 tcp1
	read -r udp0 tcp0 udp1 tcp1 <<<"$ports"
	[ "$udp0" = "$tcp0" ]
	[ "$udp1" = "$tcp1" ]
	[ "$udp0" != "$udp1" ]
	[ "$udp1" != 56789 ]
}

@test "a renewal with another nonce keeps the port, and the new nonce then owns the mapping" {
	start_gateway --random-port
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 0)"
	first_reply
	local port
	port=$(bytes "$REPLY" 42 2)
	exchange "$GW" "$(map_request 300 "$NONCE_B" 8080 0)"
	first_reply
	[ "$(bytes "$REPLY" 0 8)" = 028100000000012c ]
	[ "$(bytes "$REPLY" 24 12)" = "$NONCE_B" ]
	[ "$(bytes "$REPLY" 42 2)" = "$port" ]
	[ "$(gw_count 'nonce-changed proto=tcp client=127\.0\.0\.1 internal=8080$')" -eq 1 ]
	exchange "$GW" "$(map_request 0 "$NONCE_A" 8080 0)"
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 02810002 ]
	exchange "$GW" "$(map_request 0 "$NONCE_B" 8080 0)"
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 02810000 ]
	gw_holds 0
}

@test "a client address other than the source is ADDRESS_MISMATCH, with the MAP fields back" {
	start_gateway
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8081 '' "$(ipv4_hex 10.0.0.9)")"
	first_reply
	[ "${#REPLY}" -eq 120 ]
	[ "$(bytes "$REPLY" 0 8)" = 0281000c0000001e ] # result 12, 30 s
	[ "$(bytes "$REPLY" 24 12)" = "$NONCE_A" ]
	[ "$(bytes "$REPLY" 36 8)" = 060000001f901f91 ]
	[ "$(gw_count 'recv .* client=10\.0\.0\.9 options=none$')" -eq 1 ]
	[ "$(gw_count 'reply .*format=pcp op=map proto=tcp result=12 .*lifetime=30$')" -eq 1 ]
	gw_holds 0
}

@test "PREFER_FAILURE turns a taken port into CANNOT_PROVIDE_EXTERNAL instead of another port" {
	start_gateway
	exchange "$GW" "$(map_request 120 "$NONCE_A" 9000 8080)"
	[ "$(bytes "${REPLIES[0]}" 40 4)" = 23281f90 ] # 9000 -> 8080
	exchange "$GW" "$(map_request 120 "$NONCE_B" 8080 8080 "$PREFER_FAILURE")"
	first_reply
	[ "${#REPLY}" -eq 120 ]
	[ "$(bytes "$REPLY" 0 4)" = 0281000b ]
	[ "$(gw_count 'recv .*internal=8080 .*options=prefer-failure$')" -eq 1 ]
	gw_holds 1
	# without it the gateway picks another port, and says which
	exchange "$GW" "$(map_request 120 "$NONCE_B" 8080 8080)"
	first_reply
	[ "$(bytes "$REPLY" 0 4)" = 02810000 ]
	[ "$(bytes "$REPLY" 42 2)" != 1f90 ]
	gw_holds 2
}

@test "a free suggested port with PREFER_FAILURE is granted, and the option comes back" {
	start_gateway
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080 "$PREFER_FAILURE")"
	first_reply
	[ "${#REPLY}" -eq 128 ]
	[ "$(bytes "$REPLY" 0 4)" = 02810000 ]
	[ "$(bytes "$REPLY" 42 2)" = 1f90 ]
	[ "$(bytes "$REPLY" 60 4)" = "$PREFER_FAILURE" ]
}

@test "speaks nat-pmp answers PCP with NAT-PMP's 8-byte unsupported version, as a NAT-PMP-only router" {
	start_gateway --speaks nat-pmp
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080)"
	first_reply
	[ "${#REPLY}" -eq 16 ]
	[ "$(bytes "$REPLY" 0 4)" = 00800001 ]
	[ "$(gw_count 'reply to=127\.0\.0\.1:[0-9]+ op=address result=1 form=short$')" -eq 1 ]
	gw_holds 0
	# and back to both at run time
	gw_ctl speaks both
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080)"
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 02810000 ]
}

@test "speaks pcp answers NAT-PMP with a 24-byte PCP UNSUPP_VERSION; pcp-only stays its alias" {
	start_gateway --pcp-only
	exchange "$GW" 0000
	first_reply
	[ "${#REPLY}" -eq 48 ]
	[ "$(bytes "$REPLY" 0 8)" = 0280000100000000 ]
	gw_ctl pcp-only off
	exchange "$GW" 0000
	[ "${#REPLIES[0]}" -eq 24 ] # NAT-PMP's 12-byte address reply
	gw_ctl speaks pcp
	exchange "$GW" 0000
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 02800001 ]
	# a PCP request is still served
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080)"
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 02810000 ]
}

@test "pcp-version 1 answers version 2 with a 24-byte UNSUPP_VERSION whose version is 1" {
	start_gateway
	gw_ctl pcp-version 1
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080)"
	first_reply
	[ "${#REPLY}" -eq 48 ]
	[ "$(bytes "$REPLY" 0 4)" = 01810001 ]
	[ "$(bytes "$REPLY" 8 4)" = "$(logged_epoch_hex)" ]
	[ "$(gw_count 'reply .*format=pcp op=map result=1 epoch=[0-9]+ lifetime=0 version=1$')" -eq 1 ]
	gw_holds 0
}

@test "pcp-junk sends its junk first: another nonce, another opcode, 20 bytes, not a multiple of 4" {
	start_gateway --pcp-junk 4
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080)" 5
	[ "${#REPLIES[@]}" -eq 5 ]
	local real=${REPLIES[4]}
	[ "${#real}" -eq 120 ]
	[ "$(bytes "$real" 0 4)" = 02810000 ]
	[ "$(bytes "$real" 24 12)" = "$NONCE_A" ]
	[ "${#REPLIES[0]}" -eq 120 ]
	[ "$(bytes "${REPLIES[0]}" 24 12)" != "$NONCE_A" ]
	[ "$(bytes "${REPLIES[1]}" 0 4)" = 02820000 ]
	[ "${#REPLIES[2]}" -eq 40 ]
	[ "${#REPLIES[3]}" -eq 124 ]
	[ "$(gw_count 'junk n=4$')" -eq 1 ]
	gw_holds 1
}

@test "bound on ::1 the gateway is a firewall: a pinhole at the client's own address and port" {
	start_gateway --bind ::1
	exchange "[::1]:$GW_PORT" "$(map_request 120 "$NONCE_A" 8080 9999 '' "$IPV6_LOOPBACK" 17)"
	first_reply
	[ "$(bytes "$REPLY" 0 4)" = 02810000 ]
	[ "$(bytes "$REPLY" 36 8)" = 110000001f901f90 ]
	[ "$(bytes "$REPLY" 44 16)" = "$IPV6_LOOPBACK" ]
	[ "$(gw_count 'recv from=\[::1\]:[0-9]+ len=60 version=2 op=map proto=udp internal=8080 suggested=9999 .* client=::1 ')" -eq 1 ]
	[ "$(gw_count 'reply to=\[::1\]:[0-9]+ format=pcp op=map proto=udp result=0 .*external=8080 address=::1 lifetime=120$')" -eq 1 ]
	# the control socket shares the family and address
	run "$FAKEGW" --bind ::1 --ctl "$GW_CTL" mappings
	[ "$output" = "ok 1" ]
}

@test "ANNOUNCE gets a header-only response with the epoch, 0 again after restart" {
	start_gateway --epoch 5000
	exchange "$GW" "$(announce_request "$LOOPBACK")"
	first_reply
	[ "${#REPLY}" -eq 48 ]
	[ "$(bytes "$REPLY" 0 8)" = 0280000000000000 ]
	[ $((16#$(bytes "$REPLY" 8 4))) -ge 5000 ]
	[ "$(gw_count 'recv from=127\.0\.0\.1:[0-9]+ len=24 version=2 op=announce lifetime=0 client=127\.0\.0\.1 options=none$')" -eq 1 ]
	gw_ctl restart
	exchange "$GW" "$(announce_request "$LOOPBACK")"
	[ "$(bytes "${REPLIES[0]}" 8 4)" = 00000000 ]
	[ "$(gw_count 'reply .*format=pcp op=announce result=0 epoch=0 lifetime=0$')" -eq 1 ]
	# the client address is checked here too
	exchange "$GW" "$(announce_request "$(ipv4_hex 10.0.0.9)")"
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 0280000c ]
}

@test "THIRD_PARTY is NOT_AUTHORIZED unless allowed, then the mapping is the named host's" {
	start_gateway
	local third_party
	third_party=01000010$(ipv4_hex 10.0.0.9)
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080 "$third_party")"
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 02810002 ]
	gw_holds 0
	gw_ctl allow-third-party on
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080 "$third_party")"
	first_reply
	[ "${#REPLY}" -eq 160 ]
	[ "$(bytes "$REPLY" 0 4)" = 02810000 ]
	[ "$(bytes "$REPLY" 60 20)" = "$third_party" ]
	[ "$(gw_count 'options=third-party=10\.0\.0\.9$')" -eq 2 ]
	gw_holds 1
	[ "$(gw_count 'mapping proto=tcp client=10\.0\.0\.9 internal=8080 ')" -eq 1 ]
}

@test "FILTERs are logged and come back; more than --max-filters is EXCESSIVE_REMOTE_PEERS" {
	start_gateway --max-filters 1
	local one two
	one=$(filter_option 198.51.100.0/24 443)
	two=$(filter_option 203.0.113.7/32 0)
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080 "$one")"
	first_reply
	[ "${#REPLY}" -eq 168 ]
	[ "$(bytes "$REPLY" 0 4)" = 02810000 ]
	[ "$(bytes "$REPLY" 60 24)" = "$one" ]
	[ "$(gw_count 'options=filter=198\.51\.100\.0/24:443$')" -eq 1 ]
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8081 8081 "$one$two")"
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 0281000d ]
	[ "$(gw_count 'options=filter=198\.51\.100\.0/24:443,filter=203\.0\.113\.7/32:0$')" -eq 1 ]
	gw_holds 1
}

@test "options: unknown mandatory is UNSUPP_OPTION, unknown optional ignored, overrun or repeated MALFORMED_OPTION" {
	start_gateway
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080 7f000000)"
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 02810005 ]
	[ "$(gw_count 'options=option-127 bad=unsupported-option$')" -eq 1 ]
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080 "$PREFER_FAILURE$PREFER_FAILURE")"
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 02810006 ]
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080 0300001400780000)"
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 02810006 ]
	[ "$(gw_count ' bad=option$')" -eq 2 ]
	gw_holds 0
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080 80000003aabbcc00)"
	first_reply
	[ "${#REPLY}" -eq 120 ] # granted, the ignored option not echoed
	[ "$(bytes "$REPLY" 0 4)" = 02810000 ]
	gw_holds 1
}

@test "malformed requests: bad lengths are MALFORMED_REQUEST, unknown opcodes UNSUPP_OPCODE, responses dropped" {
	start_gateway
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080 | cut -c1-48)"
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 02810003 ]
	[ "${#REPLIES[0]}" -eq 48 ]
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080 0000)"
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 02810003 ]
	[ "$(bytes "${REPLIES[0]}" 24 12)" = "$NONCE_A" ]
	[ "$(gw_count 'recv .*len=62 .* bad=length$')" -eq 1 ]
	exchange "$GW" 0202000000000000"$LOOPBACK"aabbccdd
	first_reply
	[ "${#REPLY}" -eq 56 ] # the unknown opcode's data comes back
	[ "$(bytes "$REPLY" 0 4)" = 02820004 ]
	[ "$(bytes "$REPLY" 24 4)" = aabbccdd ]
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080 | sed 's/^0201/0281/')" 0
	[ "${#REPLIES[@]}" -eq 0 ]
	[ "$(gw_count 'recv .* bad=response$')" -eq 1 ]
	[ "$(gw_count 'drop from=127\.0\.0\.1:[0-9]+ reason=response$')" -eq 1 ]
	gw_holds 0
}

@test "pcp-silent drops PCP while NAT-PMP is still answered" {
	start_gateway --pcp-silent
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080)" 0
	[ "${#REPLIES[@]}" -eq 0 ]
	[ "$(gw_count 'drop from=127\.0\.0\.1:[0-9]+ reason=pcp-silent$')" -eq 1 ]
	exchange "$GW" 0000
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 00800000 ]
	gw_ctl pcp-silent off
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080)"
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 02810000 ]
}

@test "natpmp-silent drops NAT-PMP while PCP is still answered" {
	start_gateway --natpmp-silent
	exchange "$GW" 0000 0
	[ "${#REPLIES[@]}" -eq 0 ]
	[ "$(gw_count 'drop from=127\.0\.0\.1:[0-9]+ reason=natpmp-silent$')" -eq 1 ]
	exchange "$GW" "$(announce_request "$LOOPBACK")"
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 02800000 ]
	gw_ctl natpmp-silent off
	exchange "$GW" 0000
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 00800000 ]
}

@test "natpmp-junk-reply answers NAT-PMP as libpcp's test server does: 2 bytes 00 80, or 12 starting 02 81" {
	start_gateway --natpmp-junk-reply 12
	exchange "$GW" 0000
	[ "${REPLIES[0]}" = 028100000000000000000000 ]
	[ "$(gw_count 'reply to=127\.0\.0\.1:[0-9]+ junk len=12$')" -eq 1 ]
	gw_ctl natpmp-junk-reply 2
	exchange "$GW" 000200002328232800000e10
	[ "${REPLIES[0]}" = 0080 ]
	# PCP is answered as ever
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080)"
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 02810000 ]
	gw_ctl natpmp-junk-reply 0
	exchange "$GW" 0000
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 00800000 ]
	run gw_ctl natpmp-junk-reply 5
	[ "$status" -eq 1 ]
	[ "$output" = "error: natpmp-junk-reply 0|2|12" ]
}

@test "pcp-renew-result refuses renewals of a live mapping, grants new ones and deletions" {
	start_gateway --pcp-renew-result 8 --pcp-error-lifetime 5
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080)"
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 02810000 ]
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080)"
	[ "$(bytes "${REPLIES[0]}" 0 8)" = 0281000800000005 ]
	gw_holds 1
	exchange "$GW" "$(map_request 0 "$NONCE_A" 8080 0)"
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 02810000 ]
	gw_holds 0
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080)"
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 02810000 ]
	gw_ctl pcp-renew-result -1
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080)"
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 02810000 ]
}

@test "pcp-result answers every MAP with that code and the error lifetime; -1 ends it" {
	start_gateway --pcp-result 2 --pcp-error-lifetime 7
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080)"
	[ "$(bytes "${REPLIES[0]}" 0 8)" = 0281000200000007 ]
	gw_holds 0
	gw_ctl pcp-result -1
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080)"
	[ "$(bytes "${REPLIES[0]}" 0 8)" = 0281000000000078 ]
}

@test "MAP lifetimes are clamped to --pcp-min-lifetime and --max-lifetime" {
	start_gateway --pcp-min-lifetime 120 --max-lifetime 600
	exchange "$GW" "$(map_request 30 "$NONCE_A" 8080 8080)"
	[ "$(bytes "${REPLIES[0]}" 4 4)" = 00000078 ]
	exchange "$GW" "$(map_request 7200 "$NONCE_A" 8080 8080)"
	[ "$(bytes "${REPLIES[0]}" 4 4)" = 00000258 ]
}

@test "mappings counts both kinds and says which protocol made each" {
	start_gateway
	exchange "$GW" "$(map_request 120 "$NONCE_A" 8080 8080)"
	exchange "$GW" 000200002328232800000e10 # NAT-PMP: TCP 9000, 3600 s
	[ "$(bytes "${REPLIES[0]}" 0 4)" = 00820000 ]
	gw_holds 2
	[ "$(gw_ctl mappings pcp)" = "ok 1" ]
	[ "$(gw_ctl mappings nat-pmp)" = "ok 1" ]
	[ "$(gw_count 'mapping proto=tcp client=127\.0\.0\.1 internal=8080 .* by=pcp nonce=')" -ge 1 ]
	[ "$(gw_count 'mapping proto=tcp client=127\.0\.0\.1 internal=9000 .* by=nat-pmp$')" -ge 1 ]
}

@test "bad personalities are refused with one line" {
	run "$FAKEGW" --speaks pmp
	[ "$status" -eq 64 ]
	[ "$output" = "fakegw: bad --speaks: pmp" ]
	run "$FAKEGW" --pcp-version 0
	[ "$status" -eq 64 ]
	run "$FAKEGW" --natpmp-junk-reply 3
	[ "$status" -eq 64 ]
	[ "$output" = "fakegw: bad --natpmp-junk-reply: 3" ]
	start_gateway
	run gw_ctl pcp-junk lots
	[ "$status" -eq 1 ]
	[ "$output" = "error: needs a number in range" ]
}

# A gateway on a namespaced LAN; the announcement is caught in the LAN.
# listen_lan SOCAT-ADDRESS PORT: a listener in the LAN namespace, dumping
# into $LISTEN_DUMP, ready once the kernel shows its socket.
listen_lan() {
	LISTEN_DUMP=$BATS_TEST_TMPDIR/listen.dump
	ip netns exec "$NS_LAN" socat -x -u "$1" /dev/null 2>"$LISTEN_DUMP" 3>&- &
	track_background "$!"
	wait_until ip netns exec "$NS_LAN" sh -c "ss -Huln 'sport = :$2' | grep -q ."
}

announcements() {
	dumped_datagrams "$LISTEN_DUMP" '>'
}

has_announcements() {
	[ "$(announcements | wc -l)" -ge "$1" ]
}

# netns_start_gateway6 ADDRESS [FAKEGW-OPTION...]: as netns_start_gateway,
# for an IPv6 address: a fake gateway on [ADDRESS]:5351 in the gateway
# namespace, logging to gw6.log (GW_LOG), its control port in CTL6.
netns_start_gateway6() {
	local address=$1
	shift
	GW_LOG=$BATS_TEST_TMPDIR/gw6.log
	ip netns exec "$NS_GW" "$FAKEGW" --bind "$address" --port 5351 \
		--ready-file "$BATS_TEST_TMPDIR/gw6.ready" --log "$GW_LOG" "$@" 3>&- &
	NETNS_GW_PIDS="$! ${NETNS_GW_PIDS:-}"
	wait_until test -s "$BATS_TEST_TMPDIR/gw6.ready"
	read -r _ CTL6 <"$BATS_TEST_TMPDIR/gw6.ready"
}

@test "announce-pcp after restart multicasts epoch 0 to 224.0.0.1:5350" {
	netns_create
	NETNS_USED=1
	netns_wire_lan
	netns_start_gateway 10.77.0.1 --epoch 5000
	listen_lan UDP4-RECV:5350 5350
	netns_ctl 10.77.0.1 announce-pcp
	wait_until has_announcements 1
	[ $((16#$(bytes "$(announcements | head -n 1)" 8 4))) -ge 5000 ]
	netns_ctl 10.77.0.1 restart
	netns_ctl 10.77.0.1 announce-pcp
	wait_until has_announcements 2
	[ "$(announcements | tail -n 1)" = 028000000000000000000000000000000000000000000000 ]
	[ "$(gw_count 'announce to=224\.0\.0\.1:5350 format=pcp epoch=0 ')" -eq 1 ]
}

@test "lie-epoch and lie-address announce what they are told, while the gateway goes on as it was" {
	netns_create
	NETNS_USED=1
	netns_wire_lan
	netns_start_gateway 10.77.0.1 --epoch 5000 --external 44.1.2.3
	listen_lan UDP4-RECV:5350 5350
	netns_ctl 10.77.0.1 lie-epoch 0
	wait_until has_announcements 1
	[ "$(announcements | head -n 1)" = 028000000000000000000000000000000000000000000000 ]
	netns_ctl 10.77.0.1 lie-address 6.6.6.6
	wait_until has_announcements 2
	[ "$(bytes "$(announcements | tail -n 1)" 8 4)" = 06060606 ]
	[ $((16#$(bytes "$(announcements | tail -n 1)" 4 4))) -ge 5000 ]
	[ "$(gw_count 'announce .* lie$')" -eq 2 ]
	# the gateway's own word is unchanged
	run ip netns exec "$NS_LAN" "$NATPMP" -g 10.77.0.1 address
	[ "$status" -eq 0 ]
	[ "$output" = 44.1.2.3 ]
}

@test "bound on IPv6, announcements go to [ff02::1]:5350 on the bind's link" {
	netns_create
	NETNS_USED=1
	netns_wire_lan
	ip -n "$NS_GW" addr add 2001:db8::1/64 dev veth-gw nodad
	netns_start_gateway6 2001:db8::1
	listen_lan UDP6-RECV:5350 5350
	ip netns exec "$NS_GW" "$FAKEGW" --bind 2001:db8::1 --ctl "$CTL6" restart
	ip netns exec "$NS_GW" "$FAKEGW" --bind 2001:db8::1 --ctl "$CTL6" announce-pcp
	wait_until has_announcements 1
	[ "$(announcements)" = 028000000000000000000000000000000000000000000000 ]
	[ "$(gw_count 'announce to=\[ff02::1\]:5350 format=pcp epoch=0 ')" -eq 1 ]
	[ "$(gw_count 'announce-failed')" -eq 0 ]
}

@test "a link-local bind with its %scope serves control and announces to a bracketed --announce-to" {
	netns_create
	NETNS_USED=1
	netns_wire_lan
	ip -n "$NS_GW" addr add fe80::1/64 dev veth-gw nodad
	netns_start_gateway6 fe80::1%veth-gw --announce-to '[ff02::1%veth-gw]:5350'
	listen_lan UDP6-RECV:5350 5350
	run ip netns exec "$NS_GW" "$FAKEGW" --bind fe80::1%veth-gw --ctl "$CTL6" announce
	[ "$output" = ok ]
	wait_until has_announcements 1
	# NAT-PMP's format: version 0, opcode 128, result 0, epoch, 44.1.2.3
	[ "$(bytes "$(announcements)" 0 4)" = 00800000 ]
	[ "$(bytes "$(announcements)" 8 4)" = 2c010203 ]
	[ "$(gw_count 'announce to=\[ff02::1\]:5350 format=nat-pmp ')" -eq 1 ]
}
