#!/usr/bin/env bats
# install.bats - `cmake --install` into a DESTDIR, under /usr/local (the
# default) and under /usr (`--prefix /usr`, as packagers do): every file
# where the FHS and the tool that reads it expect it, asked of the tools
# themselves; the installed man page renders, the installed binary runs,
# and the systemd unit names the binary of its prefix, passes systemd's own
# checks and has an exposure of 2.0 or lower.

load helpers

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
	grep -qx "NATPMP_ARGS=-g 10.2.0.1 -l 60 --on-change /usr/local/share/natpmp/hooks/transmission 0/both" "$conf"
	conf=$USR/usr/share/doc/natpmp/examples/vpn.conf
	grep -qx "NATPMP_ARGS=-g 10.2.0.1 -l 60 --on-change /usr/share/natpmp/hooks/transmission 0/both" "$conf"
	args=$(sed -n 's/^NATPMP_ARGS=//p' "$conf")
	# split on spaces, as systemd splits $NATPMP_ARGS; --help sends nothing
	# shellcheck disable=SC2086
	run "$USR/usr/bin/natpmp" renew-loop $args --help
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: natpmp [options] renew-loop "* ]]
}
