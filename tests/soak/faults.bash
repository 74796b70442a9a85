# faults.bash - the faults the soak injects, one function each. A fault
# records its start (with TOLD: 1 when the gateway or the host's own
# network tells renew-loop about it, 0 when only its next renewal can find
# out), does its harm, records its return (the moment the gateway can be
# reached and is whole again) and leaves the waiting to the caller.
# shellcheck shell=bash

fault_begin() {
	FAULT_ID=$((FAULT_ID + 1))
	record F start "$FAULT_ID" "$1" "$2" "${3:-}"
	note "fault $FAULT_ID: $1 ${3:-}"
}

fault_return() {
	record F return "$FAULT_ID"
}

# sleep_for TENTHS: the fault's own duration (drawn from the seed)
sleep_for() {
	sleep "$(($1 / 10)).$(($1 % 10))"
}

# client-side loss: an nft table in the LAN namespace (never on the
# gateway: miniupnpd's own nft batches fail when another table changes)
loss_rules() {
	local direction=$1 percent=$2 match=''
	[ "$percent" -lt 100 ] && match="numgen random mod 100 < $percent"
	echo "table inet soakloss {"
	case $direction in
	out | both)
		echo "chain out { type filter hook output priority 0; udp dport { 5350, 5351 } $match drop; }"
		;;
	esac
	case $direction in
	in | both)
		echo "chain in { type filter hook input priority 0; udp sport 5351 $match drop; udp dport 5350 $match drop; }"
		;;
	in5350)
		echo "chain in { type filter hook input priority 0; udp dport 5350 drop; }"
		;;
	esac
	echo "}"
}

loss_on() {
	record L on "$1"
	loss_rules "$1" "${2:-100}" | in_lan nft -f -
}

loss_off() {
	in_lan nft delete table inet soakloss
	record L off "$1"
}

fault_loss() {
	local direction percent tenths
	pick out in both
	direction=$REPLY
	pick 100 100 50
	percent=$REPLY
	draw 60
	tenths=$((10 + REPLY))
	fault_begin loss 1 "$direction/$percent%/${tenths}ds"
	loss_on "$direction" "$percent"
	sleep_for "$tenths"
	loss_off "$direction"
	fault_return
}

# The gateway restarts and forgets every mapping. The fake announces in
# NAT-PMP or PCP format or not at all; miniupnpd always announces (PCP), so
# its announcement is lost on the way (inbound 5350 dropped on the client)
# when the draw says none.
fault_restart() {
	local announce
	pick none nat-pmp pcp
	announce=$REPLY
	if [ "$LANE_KIND" = fake ]; then
		fault_begin restart "$([ "$announce" = none ] && echo 0 || echo 1)" "announce=$announce"
		fake_ctl "$CUR_GW" restart
		case $announce in
		nat-pmp) fake_ctl "$CUR_GW" announce ;;
		pcp) fake_ctl "$CUR_GW" announce-pcp ;;
		esac
		fault_return
		return
	fi
	[ "$announce" = none ] || announce=pcp
	fault_begin restart "$([ "$announce" = none ] && echo 0 || echo 1)" "announce=$announce"
	[ "$announce" = none ] && loss_on in5350
	miniupnpd_stop "$CUR_GW"
	miniupnpd_flush "$CUR_GW"
	miniupnpd_start "$CUR_GW"
	fault_return
	if [ "$announce" = none ]; then
		sleep 1
		loss_off in5350
	fi
}

fault_external() {
	local address announce ns told=0
	draw 200
	if [ "$LANE_KIND" = fake ]; then
		local net=${CUR_GW%.*}
		address=44.${net##*.}.9.$((REPLY + 10))
		pick none nat-pmp
		announce=$REPLY
		[ "$announce" = none ] || told=1
		fault_begin external "$told" "$address/announce=$announce"
		fake_ctl "$CUR_GW" external "$address"
		record X "$CUR_GW" "$address"
		[ "$announce" = none ] || fake_ctl "$CUR_GW" announce
		fault_return
		return
	fi
	address=45.77.9.$((REPLY + 10))
	[ "$CUR_GW" = "$GW_B" ] && address=45.78.9.$((REPLY + 10))
	ns_of "$CUR_GW"
	ns=$REPLY
	fault_begin external 0 "$address"
	ip -n "$ns" addr flush dev wan0
	ip -n "$ns" addr add "$address/32" dev wan0
	record X "$CUR_GW" "$address"
	fault_return
}

# The gateway forgets the mappings without restarting and gives the next
# request another external port: the fake with random-port, miniupnpd by
# losing its rules while another mapping of the host takes the ports.
fault_reassign() {
	if [ "$LANE_KIND" = fake ]; then
		fault_begin reassign 0 ""
		fake_ctl "$CUR_GW" random-port on
		fake_ctl "$CUR_GW" forget
		fault_return
		# long enough for the next renewal to meet it
		sleep "$((LIFETIME * 5 / 8 + TIMEOUT))"
		fake_ctl "$CUR_GW" random-port off
		return
	fi
	fault_begin reassign 0 ""
	miniupnpd_flush "$CUR_GW"
	NATPMP_STATE_DIR=$LANE_DIR/squatter in_lan "$NATPMP" -g "$CUR_GW" -t 2 \
		-l "$LIFETIME" --nat-pmp -q map 18080:8080 15353:5353/udp \
		>>"$LANE_DIR/squatter.log" 2>&1 || true
	fault_return
}

fault_silence() {
	local tenths=$((LIFETIME * 10 + 20))
	fault_begin silence 1 "${tenths}ds"
	if [ "$LANE_KIND" = fake ]; then
		fake_ctl "$CUR_GW" silent on
		sleep_for "$tenths"
		fake_ctl "$CUR_GW" silent off
	else
		local variable
		gateway_name "$CUR_GW"
		variable=MINIUPNPD_$REPLY
		kill -STOP "${!variable}"
		sleep_for "$tenths"
		kill -CONT "${!variable}"
	fi
	fault_return
}

# a new address on the current link (a new DHCP lease)
fault_renumber() {
	local net=$NET_A old=$HOST_A new
	if [ "$CUR_IF" = "$IF_B" ]; then
		net=$NET_B old=$HOST_B
	fi
	draw 7
	new=$((REPLY + 2))
	[ "$new" = "$old" ] && new=$((new + 1))
	fault_begin renumber 1 "$net.$old->$net.$new"
	ip -n "$NS_LAN" addr flush dev "$CUR_IF"
	ip -n "$NS_LAN" addr add "$net.$new/24" dev "$CUR_IF"
	ip -n "$NS_LAN" route replace default via "$CUR_GW" dev "$CUR_IF"
	record N addr "$CUR_IF" "$net.$new"
	if [ "$CUR_IF" = "$IF_A" ]; then HOST_A=$new; else HOST_B=$new; fi
	fault_return
}

fault_link() {
	local tenths
	draw 18
	tenths=$((3 + REPLY))
	fault_begin link 1 "$CUR_IF/${tenths}ds"
	ip -n "$NS_LAN" link set "$CUR_IF" down
	sleep_for "$tenths"
	ip -n "$NS_LAN" link set "$CUR_IF" up
	ip -n "$NS_LAN" route replace default via "$CUR_GW" dev "$CUR_IF"
	fault_return
}

fault_route() {
	other_gateway
	local to=$REPLY interface=$IF_A
	[ "$to" = "$GW_B" ] && interface=$IF_B
	fault_begin route 1 "$CUR_GW->$to"
	ip -n "$NS_LAN" route replace default via "$to" dev "$interface"
	CUR_GW=$to CUR_IF=$interface
	record N gw "$to" "$interface"
	fault_return
}

fault_signal() {
	fault_begin "$1" 1 ""
	kill "-${1#sig}" "$LOOP_PID"
	fault_return
}

# NAT-PMP: an address announcement (epoch 1: a restart) of 6.6.6.N;
# PCP: an ANNOUNCE of epoch 0
forged_payload() {
	if [ "$1" = nat-pmp ]; then
		local hex
		printf -v hex %02x "$2"
		printf '\x00\x80\x00\x00\x00\x00\x00\x01\x06\x06\x06'
		printf %b "\\x$hex"
	else
		printf '\x02\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
		printf '\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
	fi
}

# An announcement in the current gateway's name: from its address but
# another source port (sent from the gateway's own namespace), or from its
# address and port 5351 but through the other link (sent by the other
# gateway, which holds that address too, on lo).
fault_forged() {
	local how format port ns
	pick port interface
	how=$REPLY
	pick nat-pmp pcp
	format=$REPLY
	draw 40000
	port=$((20000 + REPLY))
	draw 200
	local octet=$((REPLY + 1))
	fault_begin "forged-$how" 1 "$format"
	if [ "$how" = port ]; then
		ns_of "$CUR_GW"
		ns=$REPLY
		forged_payload "$format" "$octet" | ip netns exec "$ns" socat -u STDIN \
			"UDP4-DATAGRAM:224.0.0.1:5350,bind=$CUR_GW:$port,so-bindtodevice=gwlan0" ||
			note "fault $FAULT_ID: the forged datagram was not sent"
	else
		other_gateway
		local sender=$REPLY
		ns_of "$sender"
		ns=$REPLY
		forged_payload "$format" "$octet" | ip netns exec "$ns" socat -u STDIN \
			"UDP4-DATAGRAM:224.0.0.1:5350,bind=$CUR_GW:5351,so-bindtodevice=gwlan0" ||
			note "fault $FAULT_ID: the forged datagram was not sent"
	fi
	fault_return
}

fault_statedir() {
	local tenths
	draw 50
	tenths=$((20 + REPLY))
	fault_begin statedir 1 "${tenths}ds"
	chmod 500 "$LANE_DIR/nobody/state"
	# something to write meanwhile: a renewal now
	kill -HUP "$LOOP_PID"
	sleep_for "$tenths"
	chmod 700 "$LANE_DIR/nobody/state"
	fault_return
}

# the fake refuses mappings for a while (NAT-PMP: out of resources)
fault_refuse() {
	local tenths
	draw 40
	tenths=$((10 + REPLY))
	fault_begin refuse 1 "${tenths}ds"
	fake_ctl "$CUR_GW" map-result 4
	kill -HUP "$LOOP_PID"
	sleep_for "$tenths"
	fake_ctl "$CUR_GW" map-result -1
	fault_return
}

# What the hook does from now on: succeed mostly, else fail or hang past
# --hook-timeout; counted as a fault of its own when it is not ok.
set_hook_mode() {
	pick ok ok ok fail hang
	echo "$REPLY" >"$LANE_DIR/nobody/hook.mode"
	if [ "$REPLY" != ok ]; then
		record F hook "hook-$REPLY"
		note "hook mode $REPLY"
	fi
}

FAULT_KINDS_FAKE=(loss restart external reassign silence renumber link route
	sighup sigusr1 forged statedir refuse)
FAULT_KINDS_MINIUPNPD=(loss restart external reassign silence renumber link
	route sighup sigusr1 forged statedir)

# lane_fault_kinds: FAULT_KINDS becomes the lane's kinds, only those named
# in SOAK_FAULTS when it is set (the lane has none left: empty)
lane_fault_kinds() {
	local all kind
	if [ "$LANE_KIND" = fake ]; then
		all=("${FAULT_KINDS_FAKE[@]}")
	else
		all=("${FAULT_KINDS_MINIUPNPD[@]}")
	fi
	FAULT_KINDS=()
	for kind in "${all[@]}"; do
		if [ -z "${SOAK_FAULTS:-}" ] || [[ " $SOAK_FAULTS " == *" $kind "* ]]; then
			FAULT_KINDS+=("$kind")
		fi
	done
}

inject_one() {
	local kinds=("${FAULT_KINDS[@]}")
	set_hook_mode
	if [ "${#kinds[@]}" -eq 0 ]; then
		# none of SOAK_FAULTS applies to this lane
		sleep 1
		return
	fi
	pick "${kinds[@]}"
	case $REPLY in
	sighup | sigusr1) fault_signal "$REPLY" ;;
	*) "fault_$REPLY" ;;
	esac
}
