#!/usr/bin/env bats
# install.bats - `cmake --install` into a DESTDIR, under /usr/local (the
# default) and under /usr (`--prefix /usr`, as packagers do): every file
# where the FHS and the tool that reads it expect it, asked of the tools
# themselves; the installed man page renders, the installed binary runs,
# and the systemd unit names the binary of its prefix, passes systemd's own
# checks, has an exposure of 2.0 or lower, and its system-call filter lets
# through every call renew-loop and the hooks make (strace says which).

load helpers
load netns
load deluge

teardown() {
	stop_deluged
	common_teardown
	netns_destroy
}

setup_file() {
	export LOCAL=$BATS_FILE_TMPDIR/local USR=$BATS_FILE_TMPDIR/usr
	DESTDIR=$LOCAL cmake --install "$BUILD" --prefix /usr/local >/dev/null
	DESTDIR=$USR cmake --install "$BUILD" --prefix /usr >/dev/null
}

# installed_files ROOT: every file under ROOT, as its path once installed
installed_files() {
	(cd "$1" && find . -type f | sed 's/^\.//' | sort)
}

# expected_files PREFIX ZSH-DIR: what cmake --install puts under PREFIX
expected_files() {
	printf '%s\n' \
		"$1/bin/natpmp" \
		"$1/lib/systemd/system/natpmp-renew@.service" \
		"$1/share/bash-completion/completions/natpmp" \
		"$1/share/doc/natpmp/examples/vpn.conf" \
		"$1/share/fish/vendor_completions.d/natpmp.fish" \
		"$1/share/man/man1/natpmp.1" \
		"$1/share/natpmp/hooks/deluge" \
		"$1/share/natpmp/hooks/qbittorrent" \
		"$1/share/natpmp/hooks/transmission" \
		"$1/share/zsh/site-functions/_natpmp" | sort
}

# bash_completion_loads DATADIR: bash-completion's loader, looking in
# DATADIR as in each of $XDG_DATA_DIRS, finds natpmp's completion by name
bash_completion_loads() {
	XDG_DATA_DIRS=$1 bash -c '. /usr/share/bash-completion/bash_completion
		__load_completion natpmp && complete -p natpmp'
}

# fish_completion_loads PREFIX-ROOT: fish, with its share in $XDG_DATA_DIRS
# and its bin in $PATH, loads natpmp's completion by itself and completes a
# command with it
fish_completion_loads() {
	XDG_DATA_DIRS=$1/share PATH=$1/bin:$PATH fish -c 'complete -C "natpmp ma"'
}

# unit_checks ROOT PREFIX: the unit installed under ROOT runs PREFIX's
# binary, passes systemd-analyze verify, and its exposure is 2.0 or lower
unit_checks() {
	local root=$1 prefix=$2 unit
	unit=$root$prefix/lib/systemd/system/natpmp-renew@.service
	grep -qx "ExecStart=$prefix/bin/natpmp renew-loop \$NATPMP_ARGS" "$unit"
	grep -qx 'EnvironmentFile=/etc/natpmp/%i.conf' "$unit"
	grep -qx 'DynamicUser=yes' "$unit"
	# verified as installed, its binary and man page taken from the stage
	local checked=$BATS_TEST_TMPDIR/natpmp-renew@.service
	sed "s|^ExecStart=$prefix/|ExecStart=$root$prefix/|" "$unit" >"$checked"
	run env MANPATH="$root$prefix/share/man" systemd-analyze verify "$checked"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run systemd-analyze security --offline=yes --threshold=20 "$checked"
	echo "${lines[-1]}"
	[ "$status" -eq 0 ]
	[[ "${lines[-1]}" =~ exposure\ level\ for\ natpmp-renew@.*:\ ([0-9.]+) ]]
	awk -v e="${BASH_REMATCH[1]}" 'BEGIN { exit !(e <= 2.0) }'
}

@test "every file lands where the FHS puts it, and nothing else is installed" {
	[ "$(installed_files "$LOCAL")" = "$(expected_files /usr/local)" ]
	[ "$(installed_files "$USR")" = "$(expected_files /usr)" ]
	local root
	for root in "$LOCAL/usr/local" "$USR/usr"; do
		[ -x "$root/bin/natpmp" ]
		[ -x "$root/share/natpmp/hooks/transmission" ]
		[ -x "$root/share/natpmp/hooks/qbittorrent" ]
		[ -x "$root/share/natpmp/hooks/deluge" ]
	done
}

@test "under /usr/local, man, systemd, bash, zsh and fish each look where their file is" {
	manpath -g | tr : '\n' | grep -qx /usr/local/share/man
	systemd-analyze unit-paths | grep -qx /usr/local/lib/systemd/system
	zsh -fc 'print -l $fpath' | grep -qx /usr/local/share/zsh/site-functions
	# bash-completion and fish read $XDG_DATA_DIRS, whose default is
	# /usr/local/share:/usr/share (fish 3.6 assumes only /usr/share)
	# shellcheck disable=SC2016 # the text of bash-completion's loader
	grep -qF '${XDG_DATA_DIRS:-/usr/local/share:/usr/share}' \
		/usr/share/bash-completion/bash_completion
	[ "$(bash_completion_loads "$LOCAL/usr/local/share")" = "complete -F _natpmp natpmp" ]
	[ "$(fish_completion_loads "$LOCAL/usr/local")" = $'map\tcreate or renew port mappings' ]
}

@test "under /usr, man, systemd, bash and fish each look where their file is" {
	manpath -g | tr : '\n' | grep -qx /usr/share/man
	systemd-analyze unit-paths | grep -qx /usr/lib/systemd/system
	# shellcheck disable=SC2016 # fish expands it
	fish -c 'printf "%s\n" $__fish_vendor_completionsdirs' |
		grep -qx /usr/share/fish/vendor_completions.d
	[ "$(bash_completion_loads "$USR/usr/share")" = "complete -F _natpmp natpmp" ]
	[ "$(fish_completion_loads "$USR/usr")" = $'map\tcreate or renew port mappings' ]
}

@test "the installed binary runs and says its version" {
	run "$LOCAL/usr/local/bin/natpmp" --version
	[ "$status" -eq 0 ]
	[ "$output" = "natpmp 0.2.0" ]
	run "$USR/usr/bin/natpmp" help doctor
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "usage: natpmp [options] doctor [--port PORT]" ]
}

@test "the installed man page renders, with man -l and found by man through MANPATH" {
	run env MANPAGER=cat MANWIDTH=80 man -l "$USR/usr/share/man/man1/natpmp.1"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == NATPMP\(1\)* ]]
	run env MANPATH="$LOCAL/usr/local/share/man" MANPAGER=cat MANWIDTH=80 man natpmp
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == NATPMP\(1\)* ]]
	grep -q 'natpmp doctor' <<<"$output"
}

@test "the unit runs its prefix's binary, passes systemd-analyze verify, and its exposure is 2.0 or lower" {
	unit_checks "$LOCAL" /usr/local
	unit_checks "$USR" /usr
}

@test "the example instance file names its prefix's hook, and its options parse" {
	local conf args
	conf=$LOCAL/usr/local/share/doc/natpmp/examples/vpn.conf
	grep -qx "NATPMP_ARGS=-g 10.2.0.1 -l 60 --on-change /usr/local/share/natpmp/hooks/transmission --hook-renewals --port-file /run/natpmp/vpn/port 0/both" "$conf"
	conf=$USR/usr/share/doc/natpmp/examples/vpn.conf
	grep -qx "NATPMP_ARGS=-g 10.2.0.1 -l 60 --on-change /usr/share/natpmp/hooks/transmission --hook-renewals --port-file /run/natpmp/vpn/port 0/both" "$conf"
	grep -qx "#NATPMP_ARGS=-g 10.2.0.1 -l 60 --on-change /usr/share/natpmp/hooks/deluge 0/both" "$conf"
	args=$(sed -n 's/^NATPMP_ARGS=//p' "$conf")
	# split on spaces, as systemd splits $NATPMP_ARGS; --help sends nothing
	# shellcheck disable=SC2086
	run "$USR/usr/bin/natpmp" renew-loop $args --help
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: natpmp [options] renew-loop "* ]]
}

# Under the unit only its RuntimeDirectory= is writable in /run: the files
# renew-loop's help and the example instance file write there are in it.
@test "what the help and the example write to /run is in the unit's RuntimeDirectory" {
	local unit=$USR/usr/lib/systemd/system/natpmp-renew@.service runtime path
	runtime=$(sed -n 's/^RuntimeDirectory=//p' "$unit")
	[ "$runtime" = "natpmp/%i" ]
	run "$USR/usr/bin/natpmp" renew-loop --help
	[ "$status" -eq 0 ]
	# every path under /run that the help names, as instance "vpn"
	mapfile -t paths < <(grep -o '/run/[^ ]*' <<<"$output")
	[ "${#paths[@]}" -ge 1 ]
	mapfile -t -O "${#paths[@]}" paths < <(grep -o '/run/[^ ]*' \
		"$USR/usr/share/doc/natpmp/examples/vpn.conf")
	for path in "${paths[@]}"; do
		echo "$path"
		[[ "$path" == "/run/${runtime/\%i/vpn}/"* ]]
	done
}

# syscalls_of NAME...: the system calls a SystemCallFilter= word names, one
# per line, groups expanded by systemd-analyze itself
syscalls_of() {
	local word
	for word in "$@"; do
		case $word in
		@*)
			systemd-analyze syscall-filter "$word" | tail -n +2 |
				sed 's/^ *//; /^#/d; /^$/d' | while read -r member; do
				syscalls_of "$member"
			done
			;;
		*) echo "$word" ;;
		esac
	done
}

# filter_allows UNIT: what the unit's SystemCallFilter= lines let through,
# in their order: a list allows, a list after ~ takes away
filter_allows() {
	local allowed=$BATS_TEST_TMPDIR/allowed line words
	: >"$allowed"
	while IFS= read -r line; do
		words=${line#SystemCallFilter=}
		case $words in
		'~'*)
			# shellcheck disable=SC2086 # one word per group
			syscalls_of ${words#'~'} | sort -u |
				comm -23 <(sort -u "$allowed") - >"$allowed.new"
			;;
		*)
			# shellcheck disable=SC2086
			syscalls_of $words | sort -u - "$allowed" >"$allowed.new"
			;;
		esac
		mv "$allowed.new" "$allowed"
	done < <(grep '^SystemCallFilter=' "$1")
	cat "$allowed"
}

@test "the unit's system-call filter lets through every call renew-loop and the hooks make" {
	local unit=$USR/usr/lib/systemd/system/natpmp-renew@.service
	local trace=$BATS_TEST_TMPDIR/trace hook=$BATS_TEST_TMPDIR/hook
	local natpmp_pid
	# shellcheck disable=SC2016 # the hook expands them
	printf '#!/bin/sh\necho "$NATPMP_EVENT $NATPMP_EXTERNAL_PORT" >>"%s"\n' \
		"$BATS_TEST_TMPDIR/events" >"$hook"
	chmod +x "$hook"
	start_notify_listener
	# PCP: its nonces go to the state file
	start_gateway --speaks pcp
	mkdir -m 700 "$BATS_TEST_TMPDIR/unit-state" # systemd makes them
	mkdir -m 755 "$BATS_TEST_TMPDIR/unit-run"
	# as the unit runs it: its own state directory, systemd's notify
	# socket, a hook, a port file; mappings renewed every second, a signal
	# of each kind
	NOTIFY_SOCKET=$NOTIFY_SOCKET_PATH STATE_DIRECTORY=$BATS_TEST_TMPDIR/unit-state \
		env -u NATPMP_STATE_DIR strace -f -qq -o "$trace" "$USR/usr/bin/natpmp" -g "$GW" -l 2 \
		--on-change "$hook" --hook-renewals --port-file "$BATS_TEST_TMPDIR/unit-run/port" \
		renew-loop 7000/both \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	local strace_pid=$!
	# strace, ended, would let natpmp go on untraced: teardown ends
	# natpmp first, then strace
	track_background "$strace_pid"
	wait_until file_has "$BATS_TEST_TMPDIR/out" ' renewed ' 2
	[ "$(cat "$BATS_TEST_TMPDIR/unit-run/port")" = 7000 ]
	natpmp_pid=$(pgrep -P "$strace_pid" -x natpmp)
	kill -HUP "$natpmp_pid"
	kill -USR1 "$natpmp_pid"
	wait_until file_has "$BATS_TEST_TMPDIR/err" 'state: tcp 7000:' 1
	kill -TERM "$natpmp_pid"
	wait "$strace_pid"
	kill "$LISTENER"
	grep -q '^READY=1$' "$NOTES"
	[ "$(grep -c '^mapped ' "$BATS_TEST_TMPDIR/events")" -eq 2 ]
	grep -q '^renewed 7000$' "$BATS_TEST_TMPDIR/events"
	# the port file was written, and emptied at exit; the live state gone
	[ -f "$BATS_TEST_TMPDIR/unit-run/port" ] && [ ! -s "$BATS_TEST_TMPDIR/unit-run/port" ]
	[ -z "$(find "$BATS_TEST_TMPDIR/unit-state" -name 'renew-loop.*')" ]
	grep -q "^gateway 127.0.0.1 $GW_PORT pcp " "$BATS_TEST_TMPDIR/unit-state/state"
	# the shipped hooks too, and the programs they run, up to the point
	# where the application (none listens on port 1) does not answer
	local name
	for name in transmission qbittorrent; do
		run env NATPMP_EVENT=mapped NATPMP_EXTERNAL_PORT=40001 \
			NATPMP_TRANSMISSION_RPC=127.0.0.1:1 \
			NATPMP_QBITTORRENT_URL=http://127.0.0.1:1 \
			strace -f -qq -o "$trace.$name" "$USR/usr/share/natpmp/hooks/$name"
		[ "$status" -eq 69 ]
	done
	# every call made, by natpmp and the hooks, against the filter
	local made denied
	made=$(cat "$trace" "$trace".* | sed -E 's/^[0-9]+ +//;
		s/^<\.\.\. ([a-z0-9_]+) resumed>.*/\1/; /^(\+\+\+|---)/d; s/\(.*//' |
		sort -u)
	denied=$(comm -23 <(echo "$made") <(filter_allows "$unit"))
	echo "made: $(echo "$made" | wc -l) calls; not allowed: ${denied:-none}"
	[ "$(echo "$made" | wc -l)" -gt 30 ]
	[ -z "$denied" ]
}

@test "the deluge hook, with deluge-console setting a real deluged's port, stays within the unit's sandbox" {
	local unit=$USR/usr/lib/systemd/system/natpmp-renew@.service
	local trace=$BATS_TEST_TMPDIR/trace made denied
	# deluged in a namespace with nothing but loopback: it reaches no one
	netns_create
	start_deluged
	run ip netns exec "$NS_LAN" env NATPMP_EVENT=mapped \
		NATPMP_EXTERNAL_PORT=40001 NATPMP_DELUGE_HOST=127.0.0.1:58846 \
		NATPMP_DELUGE_USER=natpmp "NATPMP_DELUGE_PASSWORD=$DELUGE_PASSWORD" \
		strace -f -qq -o "$trace" "$USR/usr/share/natpmp/hooks/deluge"
	[ "$status" -eq 0 ]
	[ "$output" = "deluge hook: listen port random -> 40001" ]
	made=$(sed -E 's/^[0-9]+ +//; s/^<\.\.\. ([a-z0-9_]+) resumed>.*/\1/;
		/^(\+\+\+|---)/d; s/\(.*//' "$trace" | sort -u)
	denied=$(comm -23 <(echo "$made") <(filter_allows "$unit"))
	echo "made: $(echo "$made" | wc -l) calls; not allowed: ${denied:-none}"
	[ "$(echo "$made" | wc -l)" -gt 30 ]
	[ -z "$denied" ]
	# RestrictAddressFamilies=: the families of the sockets it opened
	local families
	families=$(grep -oE '^[0-9]+ +socket\(AF_[A-Z0-9]+' "$trace" | sed 's/.*(//' | sort -u)
	echo "socket families: $families"
	[[ "$families" == *AF_INET* ]]
	run ! grep -vxE 'AF_INET|AF_INET6|AF_NETLINK|AF_UNIX' <<<"$families"
	# MemoryDenyWriteExecute=: code is mapped (read and execute), but no
	# memory is both writable and executable, nor made executable later
	grep -qE ' mmap\(.*PROT_READ\|PROT_EXEC' "$trace"
	run ! grep -E 'PROT_WRITE\|PROT_EXEC|mprotect\(.*PROT_EXEC' "$trace"
}
