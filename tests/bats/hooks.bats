#!/usr/bin/env bats
# hooks.bats - the hooks shipped in hooks/, against the real Transmission,
# qBittorrent and Deluge daemons from Debian: renew-loop, found the LAN's router
# from the default route as users run it, maps a port through the fake
# gateway, and the application listens on that port; again when the gateway
# hands out another one, and a socket listens there. Credentials reach the
# tools they are for without a command line; a refusal is one line. The
# daemons, the fake gateway and natpmp run in network namespaces this file
# creates: nothing reaches another network, and the daemons' own port
# forwarding, DHT and peer discovery are off.
# shellcheck disable=SC2154 # bats' run sets $output and $stderr

load helpers
load netns
load deluge

setup() {
	netns_lan_behind_router
	netns_start_gateway 10.77.0.1 --grant-port 40001
}

teardown() {
	local pid
	if [ -n "${LOOP_PID:-}" ]; then
		kill -TERM "$LOOP_PID" 2>/dev/null || true
		wait "$LOOP_PID" 2>/dev/null || true
	fi
	for pid in $DAEMON_PIDS; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	stop_deluged
	common_teardown
	netns_destroy
}

in_lan() {
	ip netns exec "$NS_LAN" "$@"
}

# Starts renew-loop on the LAN host with HOOK and the environment given as
# NAME=VALUE words before it: a VPN-style request, internal port 0 for
# both protocols, the gateway choosing the port; LOOP_OPTIONS are more of
# renew-loop's options.
start_loop_with_hook() {
	LOOP_OUT=$BATS_TEST_TMPDIR/loop.out
	LOOP_ERR=$BATS_TEST_TMPDIR/loop.err
	empty_logs "$LOOP_OUT" "$LOOP_ERR"
	# shellcheck disable=SC2086 # options, a word each
	ip netns exec "$NS_LAN" env -u NATPMP_GATEWAY "$@" "$NATPMP" -l 4 \
		renew-loop 0/both --on-change "$HOOK" ${LOOP_OPTIONS:-} \
		>"$LOOP_OUT" 2>"$LOOP_ERR" 3>&- &
	LOOP_PID=$!
	track_background "$LOOP_PID"
}

# run_hook_by_hand NAME=VALUE...: $HOOK on the LAN host with the facts of a
# mapping of external port 40001, as renew-loop gives them, and these
# settings; its status, stdout and stderr in bats' variables.
run_hook_by_hand() {
	run --separate-stderr ip netns exec "$NS_LAN" env NATPMP_EVENT=mapped \
		NATPMP_PROTOCOL=tcp NATPMP_INTERNAL_PORT=0 NATPMP_EXTERNAL_PORT=40001 \
		"$@" "$HOOK"
}

# record_arguments PROGRAM: a PROGRAM in $BATS_TEST_TMPDIR/bin that appends
# its command line to argv.log, then runs the real one: what ps would show.
record_arguments() {
	local real
	real=$(command -v "$1")
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	cat >"$BATS_TEST_TMPDIR/bin/$1" <<EOF
#!/bin/sh
printf '%s\\n' "\$*" >>"$BATS_TEST_TMPDIR/argv.log"
exec "$real" "\$@"
EOF
	chmod +x "$BATS_TEST_TMPDIR/bin/$1"
}

# True when a program on the LAN host has a TCP connection to port PORT.
hook_connected_to() {
	[ -n "$(in_lan ss -Htn state established "dport = :$1")" ]
}

# True when a program on the LAN host listens on TCP port PORT.
lan_listens_on() {
	[ -n "$(in_lan ss -Hltn "sport = :$1")" ]
}

# The gateway forgets its mappings and grants PORT next: renew-loop then
# reports the mapping changed and runs the hook again.
gateway_moves_to() {
	netns_ctl 10.77.0.1 grant-port "$1" >/dev/null
	netns_ctl 10.77.0.1 forget >/dev/null
}

# --- Transmission ---

start_transmission() {
	local config=$BATS_TEST_TMPDIR/transmission
	mkdir -p "$config" "$BATS_TEST_TMPDIR/downloads"
	cat >"$config/settings.json" <<EOF
{
	"rpc-bind-address": "127.0.0.1", "rpc-port": 9091,
	"rpc-authentication-required": ${TR_AUTH_REQUIRED:-false},
	"rpc-username": "natpmp", "rpc-password": "s3cret \"quoted\"",
	"rpc-whitelist-enabled": false, "rpc-host-whitelist-enabled": false,
	"port-forwarding-enabled": false, "dht-enabled": false,
	"lpd-enabled": false, "pex-enabled": false, "utp-enabled": false,
	"peer-port": 51413, "download-dir": "$BATS_TEST_TMPDIR/downloads"
}
EOF
	ip netns exec "$NS_LAN" transmission-daemon --foreground \
		--config-dir "$config" >"$BATS_TEST_TMPDIR/transmission.log" 2>&1 3>&- &
	track_background "$!"
	# a daemon starting on a busy machine: ample time, it is no measure
	WAIT_LIMIT=30 wait_until transmission_port >/dev/null
}

# Transmission's peer port, with the user and password in TEST_AUTH if set
transmission_port() {
	in_lan env ${TEST_AUTH:+"TR_AUTH=$TEST_AUTH"} transmission-remote \
		127.0.0.1:9091 ${TEST_AUTH:+--authenv} --session-info 2>/dev/null |
		sed -n 's/^ *Listenport: *//p' | grep .
}

transmission_listens_on() {
	[ "$(transmission_port)" = "$1" ]
}

@test "transmission hook: Transmission listens on the mapped port, and on the next one after a change" {
	HOOK=$TOP/hooks/transmission
	start_transmission
	[ "$(transmission_port)" = 51413 ]
	start_loop_with_hook NATPMP_TRANSMISSION_RPC=127.0.0.1:9091
	WAIT_LIMIT=10 wait_until transmission_listens_on 40001
	gateway_moves_to 40002
	WAIT_LIMIT=10 wait_until transmission_listens_on 40002
	wait_until lan_listens_on 40002
	grep -q ' changed udp 44\.1\.2\.3:40002 ' "$LOOP_OUT"
	grep -q '^transmission hook: peer port 51413 -> 40001$' "$LOOP_ERR"
	grep -q '^transmission hook: peer port 40001 -> 40002$' "$LOOP_ERR"
}

@test "transmission hook with --hook-renewals: a peer port changed behind natpmp's back is set again at the next renewal, and a right one left alone" {
	HOOK=$TOP/hooks/transmission
	start_transmission
	LOOP_OPTIONS=--hook-renewals start_loop_with_hook NATPMP_TRANSMISSION_RPC=127.0.0.1:9091
	WAIT_LIMIT=10 wait_until transmission_listens_on 40001
	# the daemon restarted with its old settings, say
	in_lan transmission-remote 127.0.0.1:9091 --port 51413 >/dev/null
	[ "$(transmission_port)" = 51413 ]
	# renewals come every 2 s
	WAIT_LIMIT=10 wait_until transmission_listens_on 40001
	# (the UDP and the TCP mapping's hooks may both have set it)
	local renewals set
	renewals=$(grep -c ' renewed ' "$LOOP_OUT")
	# while the port is right, renewals set nothing: two more rounds
	wait_until file_has "$LOOP_OUT" ' renewed ' $((renewals + 2))
	set=$(grep -c '^transmission hook: peer port' "$LOOP_ERR")
	wait_until file_has "$LOOP_OUT" ' renewed ' $((renewals + 6))
	[ "$(grep -c '^transmission hook: peer port' "$LOOP_ERR")" -eq "$set" ]
	[ "$(transmission_port)" = 40001 ]
}

@test "transmission hook: an RPC that asks for a password gets NATPMP_TRANSMISSION_AUTH, never on a command line or printed" {
	HOOK=$TOP/hooks/transmission
	TR_AUTH_REQUIRED=true
	TEST_AUTH='natpmp:s3cret "quoted"'
	start_transmission
	run_hook_by_hand NATPMP_TRANSMISSION_RPC=127.0.0.1:9091
	[ "$status" -eq 77 ]
	[ "$stderr" = "transmission hook: Transmission at 127.0.0.1:9091 asks for a user and password: set NATPMP_TRANSMISSION_AUTH" ]
	run_hook_by_hand NATPMP_TRANSMISSION_RPC=127.0.0.1:9091 \
		NATPMP_TRANSMISSION_AUTH=natpmp:wrong
	[ "$status" -eq 77 ]
	[ "$stderr" = "transmission hook: Transmission at 127.0.0.1:9091 refused the user and password in NATPMP_TRANSMISSION_AUTH" ]
	[ "$(transmission_port)" = 51413 ]
	record_arguments transmission-remote
	start_loop_with_hook "PATH=$BATS_TEST_TMPDIR/bin:$PATH" \
		NATPMP_TRANSMISSION_RPC=127.0.0.1:9091 \
		"NATPMP_TRANSMISSION_AUTH=$TEST_AUTH"
	WAIT_LIMIT=10 wait_until transmission_listens_on 40001
	grep -q -- '--authenv --port 40001$' "$BATS_TEST_TMPDIR/argv.log"
	run ! grep -q 's3cret' "$BATS_TEST_TMPDIR/argv.log" "$LOOP_ERR"
}

@test "transmission hook: a daemon not running yet fails the hook, and the next renewal sets the port" {
	HOOK=$TOP/hooks/transmission
	start_loop_with_hook NATPMP_TRANSMISSION_RPC=127.0.0.1:9091
	wait_until file_has "$LOOP_ERR" '^transmission hook: cannot reach Transmission at 127\.0\.0\.1:9091' 1
	start_transmission
	WAIT_LIMIT=10 wait_until transmission_listens_on 40001
}

@test "every hook, run by hand, says what it is for and exits 64; on lost it does nothing" {
	local name
	for name in transmission qbittorrent deluge; do
		run --separate-stderr env -u NATPMP_EVENT "$TOP/hooks/$name"
		[ "$status" -eq 64 ]
		[ "$stderr" = "$name hook: run me from natpmp renew-loop --on-change (NATPMP_EVENT is '')" ]
		# no daemon runs: reaching for one would fail
		HOOK=$TOP/hooks/$name
		run_hook_by_hand NATPMP_EVENT=lost
		[ "$status" -eq 0 ]
		[ "$stderr" = "" ]
	done
}

# --- qBittorrent ---

# start_qbittorrent [LOCALHOST-AUTH]: the Web UI on 127.0.0.1:8080, asking
# localhost for a password only when LOCALHOST-AUTH is true
start_qbittorrent() {
	local profile=$BATS_TEST_TMPDIR/qbittorrent
	mkdir -p "$profile/qBittorrent/config"
	# the password is "adminadmin": PBKDF2-HMAC-SHA512, 100000 rounds, our own
	# salt, as qBittorrent 4.5 keeps it. Peers' countries are not resolved:
	# that looks up download.db-ip.com at start (a DNS query toward the
	# gateway namespace, which drops it) and waits ~9 s for it on exit.
	cat >"$profile/qBittorrent/config/qBittorrent.conf" <<EOF
[LegalNotice]
Accepted=true

[BitTorrent]
Session\\DHTEnabled=false
Session\\LSDEnabled=false
Session\\PeXEnabled=false
Session\\Port=51413

[Preferences]
Connection\\UPnP=false
Connection\\ResolvePeerCountries=false
WebUI\\Address=127.0.0.1
WebUI\\Port=8080
WebUI\\LocalHostAuth=${1:-false}
WebUI\\Username=natpmp
WebUI\\Password_PBKDF2="@ByteArray(bmF0cG1wLXRlc3Qtc2FsdA==:uBDUZKgPMGutcy5C0Lg5L3ChZJmX+PbW8F3biP7mC6tC6it7+eWQNgB2YczJOE9ISvWZz0mNsnVRxZnuDyqWJA==)"
EOF
	ip netns exec "$NS_LAN" qbittorrent-nox --profile="$profile" \
		>"$BATS_TEST_TMPDIR/qbittorrent.log" 2>&1 3>&- &
	track_background "$!"
	# a daemon starting on a busy machine: ample time, it is no measure
	WAIT_LIMIT=30 wait_until in_lan curl -s -o /dev/null http://127.0.0.1:8080/
}

# qBittorrent's listen_port, logging in first when USER is set
qbittorrent_port() {
	local jar=$BATS_TEST_TMPDIR/test-cookies
	if [ -n "${QB_USER:-}" ]; then
		in_lan curl -s -c "$jar" --referer http://127.0.0.1:8080 \
			--data "username=$QB_USER&password=$QB_PASSWORD" \
			http://127.0.0.1:8080/api/v2/auth/login >/dev/null
	fi
	in_lan curl -s -b "$jar" http://127.0.0.1:8080/api/v2/app/preferences |
		sed -n 's/.*"listen_port":\([0-9]*\).*/\1/p'
}

qbittorrent_listens_on() {
	[ "$(qbittorrent_port)" = "$1" ]
}

@test "qbittorrent hook: qBittorrent listens on the mapped port, and on the next one after a change" {
	HOOK=$TOP/hooks/qbittorrent
	start_qbittorrent
	[ "$(qbittorrent_port)" = 51413 ]
	start_loop_with_hook NATPMP_QBITTORRENT_URL=http://127.0.0.1:8080
	WAIT_LIMIT=10 wait_until qbittorrent_listens_on 40001
	gateway_moves_to 40002
	WAIT_LIMIT=10 wait_until qbittorrent_listens_on 40002
	wait_until lan_listens_on 40002
	grep -q '^qbittorrent hook: listen port 51413 -> 40001$' "$LOOP_ERR"
	grep -q '^qbittorrent hook: listen port 40001 -> 40002$' "$LOOP_ERR"
}

@test "qbittorrent hook: logs in with NATPMP_QBITTORRENT_USER and _PASSWORD when localhost must, never on a command line" {
	HOOK=$TOP/hooks/qbittorrent
	start_qbittorrent true
	run_hook_by_hand NATPMP_QBITTORRENT_URL=http://127.0.0.1:8080
	[ "$status" -eq 77 ]
	[ "$stderr" = "qbittorrent hook: qBittorrent at http://127.0.0.1:8080 asks for a login: set NATPMP_QBITTORRENT_USER and NATPMP_QBITTORRENT_PASSWORD" ]
	QB_USER=natpmp QB_PASSWORD=adminadmin
	[ "$(qbittorrent_port)" = 51413 ]
	record_arguments curl
	start_loop_with_hook "PATH=$BATS_TEST_TMPDIR/bin:$PATH" \
		NATPMP_QBITTORRENT_URL=http://127.0.0.1:8080 \
		NATPMP_QBITTORRENT_USER=natpmp NATPMP_QBITTORRENT_PASSWORD=adminadmin
	WAIT_LIMIT=10 wait_until qbittorrent_listens_on 40001
	grep -q -- '--config - .*/api/v2/auth/login$' "$BATS_TEST_TMPDIR/argv.log"
	run ! grep -q adminadmin "$BATS_TEST_TMPDIR/argv.log" "$LOOP_ERR"
}

@test "qbittorrent hook: a wrong password is one clear line, and nothing changes" {
	HOOK=$TOP/hooks/qbittorrent
	start_qbittorrent true
	start_loop_with_hook NATPMP_QBITTORRENT_URL=http://127.0.0.1:8080 \
		NATPMP_QBITTORRENT_USER=natpmp NATPMP_QBITTORRENT_PASSWORD=wrong
	wait_until file_has "$LOOP_ERR" '^qbittorrent hook: qBittorrent at http://127\.0\.0\.1:8080 refused the login as natpmp$' 1
	QB_USER=natpmp QB_PASSWORD=adminadmin
	[ "$(qbittorrent_port)" = 51413 ]
}

@test "qbittorrent hook: a password with a line break is one clear line, and curl is never run" {
	HOOK=$TOP/hooks/qbittorrent
	record_arguments curl
	run_hook_by_hand "PATH=$BATS_TEST_TMPDIR/bin:$PATH" \
		NATPMP_QBITTORRENT_URL=http://127.0.0.1:8080 \
		NATPMP_QBITTORRENT_USER=natpmp "NATPMP_QBITTORRENT_PASSWORD=admin
admin"
	[ "$status" -eq 77 ]
	[ "$stderr" = "qbittorrent hook: NATPMP_QBITTORRENT_USER or NATPMP_QBITTORRENT_PASSWORD holds a line break, which qBittorrent's login cannot take" ]
	[ ! -e "$BATS_TEST_TMPDIR/argv.log" ]
}

@test "qbittorrent hook: the login's cookie file is gone after natpmp stops the hook mid-login" {
	HOOK=$TOP/hooks/qbittorrent
	# a Web UI that accepts the connection and never answers: the hook
	# waits in its login when renew-loop is told to stop
	in_lan socat TCP-LISTEN:8080,bind=127.0.0.1,reuseaddr SYSTEM:'sleep 60' 3>&- &
	DAEMON_PIDS="$DAEMON_PIDS $!"
	wait_until lan_listens_on 8080
	mkdir "$BATS_TEST_TMPDIR/hook-tmp"
	start_loop_with_hook "TMPDIR=$BATS_TEST_TMPDIR/hook-tmp" \
		NATPMP_QBITTORRENT_URL=http://127.0.0.1:8080 \
		NATPMP_QBITTORRENT_USER=natpmp NATPMP_QBITTORRENT_PASSWORD=adminadmin
	wait_until hook_connected_to 8080
	[ -n "$(ls -A "$BATS_TEST_TMPDIR/hook-tmp")" ]
	kill -TERM "$LOOP_PID"
	wait "$LOOP_PID" || true
	LOOP_PID=
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/hook-tmp")" ]
}

# --- Deluge ---

# trace_deluge_hook: HOOK becomes the deluge hook under strace, which
# appends every command line that it and its children run to commands.log
# (as ps would show them; the environment only counted)
trace_deluge_hook() {
	HOOK=$BATS_TEST_TMPDIR/traced-deluge-hook
	cat >"$HOOK" <<EOF
#!/bin/sh
exec strace --seccomp-bpf -f -qq -e trace=execve -e signal=none -s 4096 \\
	-A -o "$BATS_TEST_TMPDIR/commands.log" "$TOP/hooks/deluge"
EOF
	chmod +x "$HOOK"
}

# the runs of deluge-console's program in commands.log, one line each:
# the commands it was given
deluge_console_runs() {
	grep '^[0-9]* *execve("/usr/bin/python3", ' "$BATS_TEST_TMPDIR/commands.log" |
		grep -o '"/usr/bin/deluge-console", "127.0.0.1", "58846", [^]]*' |
		sed 's/.*, "//; s/"$//'
}

@test "deluge hook: Deluge listens on the mapped port, and on the next one after a change; the password is on no command line" {
	trace_deluge_hook
	start_deluged
	local secret=${DELUGE_PASSWORD:1:16}
	run ! deluged_listens_on 40001
	export NATPMP_DELUGE_HOST=127.0.0.1:58846 NATPMP_DELUGE_USER=natpmp
	export NATPMP_DELUGE_PASSWORD=$DELUGE_PASSWORD
	start_loop_with_hook
	WAIT_LIMIT=30 wait_until deluged_listens_on 40001
	gateway_moves_to 40002
	WAIT_LIMIT=30 wait_until deluged_listens_on 40002
	WAIT_LIMIT=30 wait_until file_has "$LOOP_ERR" '^deluge hook: listen port 40001 -> 40002$' 1
	run ! deluged_listens_on 40001
	grep -q '^deluge hook: listen port random -> 40001$' "$LOOP_ERR"
	run deluge_ports
	[ "$output" = $'listen_ports: (40002, 40002)\nrandom_port: False' ]
	# deluge-console read, then set and read back, with no password in sight
	deluge_console_runs | grep -qx 'config listen_ports random_port'
	deluge_console_runs | grep -qx 'config --set listen_ports (40002, 40002); config --set random_port false; config listen_ports random_port'
	run ! grep -qF -- "$secret" "$BATS_TEST_TMPDIR/commands.log" "$LOOP_OUT" "$LOOP_ERR"
	# deluged asked the gateway for nothing: every request came from
	# renew-loop, for internal port 0
	gw_has ' recv .*op=map-tcp internal=0 ' 1
	[ "$(gw_count ' recv .*internal=[1-9]')" -eq 0 ]
}

@test "deluge hook: no user, an unknown one or a wrong password is exit 77 naming the variable; the right one sets the port, and a second run only reads it" {
	trace_deluge_hook
	start_deluged
	run_hook_by_hand NATPMP_DELUGE_HOST=127.0.0.1:58846 NATPMP_DELUGE_USER=
	[ "$status" -eq 77 ]
	[ "$stderr" = "deluge hook: deluged asks every client for a user and password: set NATPMP_DELUGE_USER and NATPMP_DELUGE_PASSWORD (a line of deluged's auth file)" ]
	run_hook_by_hand NATPMP_DELUGE_HOST=127.0.0.1:58846 NATPMP_DELUGE_USER=nobody \
		"NATPMP_DELUGE_PASSWORD=$DELUGE_PASSWORD"
	[ "$status" -eq 77 ]
	[ "$stderr" = "deluge hook: Deluge at 127.0.0.1:58846 has no user 'nobody' (NATPMP_DELUGE_USER)" ]
	run_hook_by_hand NATPMP_DELUGE_HOST=127.0.0.1:58846 NATPMP_DELUGE_USER=natpmp \
		NATPMP_DELUGE_PASSWORD=wrong
	[ "$status" -eq 77 ]
	[ "$stderr" = "deluge hook: Deluge at 127.0.0.1:58846 refused the password in NATPMP_DELUGE_PASSWORD for user natpmp" ]
	run ! deluged_listens_on 40001
	run_hook_by_hand NATPMP_DELUGE_HOST=127.0.0.1:58846 NATPMP_DELUGE_USER=natpmp \
		"NATPMP_DELUGE_PASSWORD=$DELUGE_PASSWORD"
	[ "$status" -eq 0 ]
	[ "$stderr" = "deluge hook: listen port random -> 40001" ]
	deluged_listens_on 40001
	rm "$BATS_TEST_TMPDIR/commands.log"
	run_hook_by_hand NATPMP_DELUGE_HOST=127.0.0.1:58846 NATPMP_DELUGE_USER=natpmp \
		"NATPMP_DELUGE_PASSWORD=$DELUGE_PASSWORD"
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	[ "$(deluge_console_runs)" = "config listen_ports random_port" ]
	deluged_listens_on 40001
}

@test "deluge hook: no deluged, no deluge-console or a wrong address is one line and exit 69 or 64" {
	HOOK=$TOP/hooks/deluge
	run_hook_by_hand NATPMP_DELUGE_HOST= NATPMP_DELUGE_USER=natpmp NATPMP_DELUGE_PASSWORD=x
	[ "$status" -eq 69 ]
	[ "$stderr" = "deluge hook: cannot reach Deluge at localhost:58846: Connection refused" ]
	run_hook_by_hand NATPMP_DELUGE_HOST=127.0.0.1:58846 NATPMP_DELUGE_USER=natpmp
	[ "$status" -eq 69 ]
	[ "$stderr" = "deluge hook: cannot reach Deluge at 127.0.0.1:58846: Connection refused" ]
	run_hook_by_hand PATH=/nonexistent NATPMP_DELUGE_USER=natpmp
	[ "$status" -eq 69 ]
	[ "$stderr" = "deluge hook: deluge-console is not installed (Debian: deluge-console)" ]
	run_hook_by_hand NATPMP_DELUGE_HOST=localhost:rpc NATPMP_DELUGE_USER=natpmp
	[ "$status" -eq 64 ]
	[ "$stderr" = "deluge hook: NATPMP_DELUGE_HOST is 'localhost:rpc', not HOST:PORT" ]
}
