#!/usr/bin/env bats
# soak_oracle.bats - the soak's oracle (tests/soak/oracle.awk) on records
# written by hand: each kind of lie is counted, what renew-loop could not
# know is not, and recoveries are timed against their deadline, so that a
# clean soak means something.
# shellcheck disable=SC2154 # bats' run sets $output

load helpers

setup() {
	RECORDS=$BATS_TEST_TMPDIR/records
	# one TCP mapping through gateway A, granted for 10 s at 1000.1
	cat >"$RECORDS" <<'EOF'
1000.0 N addr lan0 192.168.77.2
1000.0 N addr lan1 192.168.78.2
1000.0 N gw 192.168.77.1 lan0
1000.0 X 192.168.77.1 44.0.0.1
1000.0 X 192.168.78.1 44.0.0.2
1000.2 F begin
1000.1 P in lan0 192.168.77.1 5351 192.168.77.2 40000 16 natpmp op=130 result=0 epoch=500 proto=tcp int=8080 ext=8080 life=10
1000.1 E mapped 192.168.77.1 tcp 192.168.77.2 8080 44.0.0.1 8080 10
1000.1 S 192.168.77.1 1 tcp/192.168.77.2/8080/8080
EOF
}

record() {
	echo "$*" >>"$RECORDS"
}

# the oracle's verdict on the records, ending at END
judge() {
	record "$1 F end"
	# shellcheck disable=SC2016 # expanded by the inner bash
	run --separate-stderr bash -c 'sort -s -n -k1,1 "$1" | awk -v mode=final \
		-v keys=tcp:8080 -v lifetime=10 -v timeout=2 \
		-v gw_a=192.168.77.1 -v if_a=lan0 -v gw_b=192.168.78.1 -v if_b=lan1 \
		-f "$2"' _ "$RECORDS" "$TOP/tests/soak/oracle.awk"
	[ "$status" -eq 0 ]
	echo "$output"
}

# figure KEY: the number after KEY in the verdict
figure() {
	awk -v key="$1" '$1 == key { print $2 }' <<<"$output"
}

# between LOW HIGH VALUE
between() {
	awk -v low="$1" -v high="$2" -v value="$3" 'BEGIN { exit !(value >= low && value <= high) }'
}

renewals() {
	record "1005.1 P in lan0 192.168.77.1 5351 192.168.77.2 40000 16 natpmp op=130 result=0 epoch=505 proto=tcp int=8080 ext=8080 life=10"
	record "1005.1 E renewed 192.168.77.1 tcp 192.168.77.2 8080 44.0.0.1 8080 10"
	record "1010.1 P in lan0 192.168.77.1 5351 192.168.77.2 40000 16 natpmp op=130 result=0 epoch=510 proto=tcp int=8080 ext=8080 life=10"
	record "1010.1 E renewed 192.168.77.1 tcp 192.168.77.2 8080 44.0.0.1 8080 10"
}

@test "a mapping renewed in time is no lie and no outage" {
	renewals
	judge 1014
	[ "$(figure lie_seconds)" = 0.0 ]
	[ "$(figure outage_seconds)" = 0.0 ]
}

@test "a mapping claimed past its lifetime and the 1 s grace is a lie" {
	judge 1014
	# expired at 1010.1, a lie from 1011.1 to the end
	between 2.8 3.0 "$(figure lie_seconds)"
	[[ $output == *"lie_rule expired "* ]]
	[[ $output == *"lie tcp:8080 expired from +1"* ]]
}

@test "a restart told by a genuine epoch is a lie until the mapping is reported again" {
	record "1003.0 P in lan0 192.168.77.1 5351 192.168.77.2 40000 12 natpmp op=128 result=0 epoch=0 addr=44.0.0.1"
	record "1006.0 E mapped 192.168.77.1 tcp 192.168.77.2 8080 44.0.0.1 8080 10"
	judge 1014
	between 1.9 2.0 "$(figure lie_seconds)"
	[[ $output == *"lie_rule restart "* ]]
}

@test "a restart told by a forged or lost datagram is not held against renew-loop" {
	renewals
	# another source port; the right one through the other link; one that
	# injected loss may have dropped
	record "1002.0 P in lan0 192.168.77.1 40001 224.0.0.1 5350 12 natpmp op=128 result=0 epoch=0 addr=6.6.6.6"
	record "1003.0 P in lan1 192.168.77.1 5351 224.0.0.1 5350 12 natpmp op=128 result=0 epoch=0 addr=6.6.6.6"
	record "1003.9 L on in"
	record "1004.0 P in lan0 192.168.77.1 5351 192.168.77.2 40000 12 natpmp op=128 result=0 epoch=0 addr=6.6.6.6"
	record "1004.1 L off in"
	judge 1014
	[ "$(figure lie_seconds)" = 0.0 ]
}

@test "an external address told by the gateway and not reported is a lie" {
	renewals
	record "1003.0 X 192.168.77.1 44.0.0.9"
	record "1003.0 P in lan0 192.168.77.1 5351 192.168.77.2 40000 12 natpmp op=128 result=0 epoch=503 addr=44.0.0.9"
	judge 1014
	# from 1004.0 on, 10 s
	between 9.9 10.0 "$(figure lie_seconds)"
	[[ $output == *"lie_rule address "* ]]
}

@test "an external port granted and not reported is a lie" {
	renewals
	record "1007.0 P in lan0 192.168.77.1 5351 192.168.77.2 40000 16 natpmp op=130 result=0 epoch=507 proto=tcp int=8080 ext=9999 life=10"
	record "1009.0 E changed 192.168.77.1 tcp 192.168.77.2 8080 44.0.0.1 9999 10"
	record "1010.1 P in lan0 192.168.77.1 5351 192.168.77.2 40000 16 natpmp op=130 result=0 epoch=510 proto=tcp int=8080 ext=9999 life=10"
	record "1010.1 E renewed 192.168.77.1 tcp 192.168.77.2 8080 44.0.0.1 9999 10"
	judge 1014
	between 0.9 1.0 "$(figure lie_seconds)"
	[[ $output == *"lie_rule port "* ]]
}

@test "a mapping claimed from an address the host no longer has is a lie" {
	record "1003.0 N addr lan0 192.168.77.5"
	record "1004.5 E lost 192.168.77.1 tcp 192.168.77.2 8080 44.0.0.1 8080 0"
	judge 1014
	between 0.4 0.5 "$(figure lie_seconds)"
	[[ $output == *"lie_rule internal "* ]]
}

@test "a fault is back when the mapping is held and claimed again, within its deadline" {
	record "1002.0 F start 1 silence 1 -"
	record "1002.5 S 192.168.77.1 0"
	record "1002.6 S 192.168.77.1 0"
	record "1004.0 F return 1"
	record "1004.95 P in lan0 192.168.77.1 5351 192.168.77.2 40000 16 natpmp op=130 result=0 epoch=505 proto=tcp int=8080 ext=8080 life=10"
	record "1004.95 E mapped 192.168.77.1 tcp 192.168.77.2 8080 44.0.0.1 8080 10"
	record "1004.95 S 192.168.77.1 1 tcp/192.168.77.2/8080/8080"
	judge 1010
	[[ $output == *"fault 1 silence at +1.8s -: back 1.0 s after its return at +3.8s (deadline 6.0 s)"* ]]
	[ "$(figure missed)" = 0 ]
}

@test "a fault not back by its deadline is a missed recovery" {
	record "1002.0 F start 1 silence 1 -"
	record "1002.5 S 192.168.77.1 0"
	record "1002.6 S 192.168.77.1 0"
	record "1004.0 F return 1"
	judge 1014
	[[ $output == *"fault 1 silence at +1.8s -: MISSED"* ]]
	[ "$(figure missed)" = 1 ]
}

@test "a gateway-reset or new address that only a forged datagram told is unfounded" {
	renewals
	record "1002.0 P in lan0 192.168.77.1 40001 224.0.0.1 5350 12 natpmp op=128 result=0 epoch=1 addr=6.6.6.6"
	record "1002.0 E gateway-reset 192.168.77.1 - - - - - -"
	record "1002.0 E address-changed 192.168.77.1 - - - 6.6.6.6 - -"
	# a genuine restart and address change are founded
	record "1007.0 P in lan0 192.168.77.1 5351 224.0.0.1 5350 12 natpmp op=128 result=0 epoch=0 addr=44.0.0.7"
	record "1007.0 E gateway-reset 192.168.77.1 - - - - - -"
	record "1007.0 E address-changed 192.168.77.1 - - - 44.0.0.7 - -"
	judge 1008
	[ "$(figure unfounded_events)" = 2 ]
	[[ $output == *"unfounded gateway-reset 192.168.77.1 at +1.8s"* ]]
	[[ $output == *"unfounded address-changed 192.168.77.1 6.6.6.6 at +1.8s"* ]]
}

@test "one sample without the mapping is not an outage: miniupnpd re-adds its rule at each renewal" {
	renewals
	record "1005.2 S 192.168.77.1 0"
	record "1005.3 S 192.168.77.1 1 tcp/192.168.77.2/8080/8080"
	# two in a row are
	record "1008.0 S 192.168.77.1 0"
	record "1008.1 S 192.168.77.1 0"
	record "1008.5 S 192.168.77.1 1 tcp/192.168.77.2/8080/8080"
	judge 1010
	[[ $output == *"outage from +8.0s to +8.4s (0.4 s)"* ]]
	[ "$(figure outage_seconds)" = 0.4 ]
}
