# deluge.bash - a deluged of the test's own on the LAN host of netns.bash,
# for the suites that run the shipped deluge hook against the real daemon.
# shellcheck shell=bash

# start_deluged: deluged on the LAN host, its RPC on 127.0.0.1:58846, its
# configuration in the test's directory: Deluge's defaults (a random peer
# port) less the DHT, UPnP, NAT-PMP, LSD, peer exchange and the release
# check, and a user natpmp whose password, made for this test, is in
# DELUGE_PASSWORD (a leading dash, a space, quotes and a ";": it must reach
# deluged as it is). Sets DELUGED_PID and DELUGE_CONFIG.
start_deluged() {
	DELUGE_CONFIG=$BATS_TEST_TMPDIR/deluge
	DELUGE_PASSWORD="-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n') \"q\";x"
	mkdir -p "$DELUGE_CONFIG" "$BATS_TEST_TMPDIR/downloads"
	cat >"$DELUGE_CONFIG/core.conf" <<EOF
{"file": 1, "format": 1}{
	"dht": false, "upnp": false, "natpmp": false, "lsd": false,
	"utpex": false, "new_release_check": false, "send_info": false,
	"download_location": "$BATS_TEST_TMPDIR/downloads",
	"torrentfiles_location": "$BATS_TEST_TMPDIR/downloads",
	"move_completed_path": "$BATS_TEST_TMPDIR/downloads"
}
EOF
	printf 'natpmp:%s:10\n' "$DELUGE_PASSWORD" >"$DELUGE_CONFIG/auth"
	chmod 600 "$DELUGE_CONFIG/auth"
	# libtorrent starts with UPnP, NAT-PMP, LSD and the DHT on, and
	# deluged turns them off from core.conf only a moment later: long
	# enough to ask the LAN's gateway (the fake one) for a mapping and the
	# resolver for DHT routers. So deluged starts with the LAN's link
	# down, and the link comes up once it has applied core.conf (it writes
	# its pid file then) and its RPC listens.
	local link=
	if ip -n "$NS_LAN" link show veth-lan >/dev/null 2>&1; then
		link=veth-lan
		ip -n "$NS_LAN" link set "$link" down
	fi
	ip netns exec "$NS_LAN" deluged --do-not-daemonize --config "$DELUGE_CONFIG" \
		--loglevel error --logfile "$BATS_TEST_TMPDIR/deluged.log" \
		>"$BATS_TEST_TMPDIR/deluged.out" 2>&1 3>&- &
	DELUGED_PID=$!
	WAIT_LIMIT=30 wait_until deluged_ready
	if [ -n "$link" ]; then
		ip -n "$NS_LAN" link set "$link" up
		ip -n "$NS_LAN" route replace default via 10.77.0.1
	fi
}

deluged_ready() {
	test -s "$DELUGE_CONFIG/deluged.pid" &&
		[ -n "$(ip netns exec "$NS_LAN" ss -Hltn 'sport = :58846')" ]
}

# For teardown(): SIGKILL, since its orderly exit takes 2 s to save a
# state no one reads.
stop_deluged() {
	if [ -n "${DELUGED_PID:-}" ]; then
		kill -KILL "$DELUGED_PID" 2>/dev/null || true
		wait "$DELUGED_PID" 2>/dev/null || true
		DELUGED_PID=
	fi
}

# True when deluged listens on TCP port PORT of the LAN host.
deluged_listens_on() {
	ip netns exec "$NS_LAN" ss -Hltnp "sport = :$1" | grep -q '"deluged"'
}

# Deluge's listen_ports and random_port, as deluge-console prints them,
# logged in as the local client: deluge-console finds that user's password
# in the auth file of its configuration directory, here deluged's own.
deluge_ports() {
	ip netns exec "$NS_LAN" deluge-console --loglevel=none \
		--config="$DELUGE_CONFIG" "config listen_ports random_port" 2>/dev/null
}
