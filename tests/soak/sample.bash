#!/usr/bin/env bash
# sample.bash - what a gateway really holds, about ten times a second, one
# line per look: "TIME S GATEWAY COUNT PROTO/INTERNAL-ADDR/INTERNAL-PORT/
# EXTERNAL-PORT...". Runs inside the gateway's network namespace until it is
# killed.
#   sample.bash fake GATEWAY FAKEGW CONTROL-PORT LOG WALL-LOG
#       asks the fake gateway for its mappings, which it writes to LOG, and
#       copies every new line of LOG to WALL-LOG with the wall-clock time
#   sample.bash miniupnpd GATEWAY
#       reads miniupnpd's forwarding rules from nftables
set -uo pipefail

kind=$1 gateway=$2

# one mapping of the fake's log line "mapping proto=tcp client=A
# internal=N external=N expires_in=N by=..."
fake_mapping() {
	local word proto='' client='' internal='' external=''
	for word in "$@"; do
		case $word in
		proto=*) proto=${word#proto=} ;;
		client=*) client=${word#client=} ;;
		internal=*) internal=${word#internal=} ;;
		external=*) external=${word#external=} ;;
		esac
	done
	REPLY=$proto/$client/$internal/$external
}

sample_fake() {
	local fakegw=$1 control=$2 log=$3 wall=$4 now line list
	local -a words
	exec 3<"$log"
	while :; do
		now=$EPOCHREALTIME
		"$fakegw" --bind "$gateway" --ctl "$control" mappings >/dev/null 2>&1
		list=()
		while IFS= read -r line <&3; do
			printf '%s %s\n' "$now" "$line" >>"$wall"
			case $line in
			*" mapping proto="*)
				read -r -a words <<<"$line"
				fake_mapping "${words[@]}"
				list+=("$REPLY")
				;;
			esac
		done
		printf '%s S %s %d %s\n' "$now" "$gateway" "${#list[@]}" "${list[*]}"
		sleep 0.1
	done
}

# miniupnpd's DNAT rules: iif "wan0" @nh,72,8 0x6 th dport 8080 dnat ip to
# 192.168.77.2:8080 (0x6 tcp, 0x11 udp)
sample_miniupnpd() {
	local now line list proto
	local rule='@nh,72,8 0x(6|11) th dport ([0-9]+) dnat ip to ([0-9.]+):([0-9]+)'
	while :; do
		now=$EPOCHREALTIME
		list=()
		while IFS= read -r line; do
			[[ $line =~ $rule ]] || continue
			proto=tcp
			[ "${BASH_REMATCH[1]}" = 11 ] && proto=udp
			list+=("$proto/${BASH_REMATCH[3]}/${BASH_REMATCH[4]}/${BASH_REMATCH[2]}")
		done < <(nft list chain inet filter prerouting_miniupnpd 2>/dev/null)
		printf '%s S %s %d %s\n' "$now" "$gateway" "${#list[@]}" "${list[*]}"
		sleep 0.1
	done
}

case $kind in
fake) sample_fake "$3" "$4" "$5" "$6" ;;
miniupnpd) sample_miniupnpd ;;
*)
	echo "sample.bash: unknown kind '$kind'" >&2
	exit 64
	;;
esac
