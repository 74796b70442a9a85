#!/usr/bin/env bats
# install.bats - `cmake --install` into a DESTDIR: every file where the FHS
# and the tool that reads it expect it, the installed man page renders, the
# installed binary runs, and the systemd unit passes systemd's own checks
# with an exposure of 2.0 or lower.

load helpers

setup_file() {
	export STAGE=$BATS_FILE_TMPDIR/root
	DESTDIR=$STAGE cmake --install "$BUILD" >/dev/null
	export PREFIX
	PREFIX=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD/CMakeCache.txt")
}

@test "every file lands where its reader looks, and nothing else is installed" {
	local expected
	expected=$(printf '%s\n' \
		"$PREFIX/bin/natpmp" \
		"$PREFIX/lib/systemd/system/natpmp-renew@.service" \
		"$PREFIX/share/bash-completion/completions/natpmp" \
		"$PREFIX/share/doc/natpmp/examples/vpn.conf" \
		"$PREFIX/share/fish/vendor_completions.d/natpmp.fish" \
		"$PREFIX/share/man/man1/natpmp.1" \
		"$PREFIX/share/natpmp/hooks/qbittorrent" \
		"$PREFIX/share/natpmp/hooks/transmission" \
		"$PREFIX/share/zsh/site-functions/_natpmp" | sort)
	[ "$(cd "$STAGE" && find . -type f | sed 's/^\.//' | sort)" = "$expected" ]
	[ -x "$STAGE$PREFIX/bin/natpmp" ]
	[ -x "$STAGE$PREFIX/share/natpmp/hooks/transmission" ]
	[ -x "$STAGE$PREFIX/share/natpmp/hooks/qbittorrent" ]
}

@test "the installed binary runs and says its version" {
	run "$STAGE$PREFIX/bin/natpmp" --version
	[ "$status" -eq 0 ]
	[ "$output" = "natpmp 0.2.0" ]
	run "$STAGE$PREFIX/bin/natpmp" help doctor
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "usage: natpmp [options] doctor [--port PORT]" ]
}

@test "the installed man page renders, found by man through MANPATH" {
	run env MANPATH="$STAGE$PREFIX/share/man" MANPAGER=cat MANWIDTH=80 man natpmp
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == NATPMP\(1\)* ]]
	grep -q 'natpmp doctor' <<<"$output"
}

@test "the unit runs the installed binary, passes systemd-analyze verify, and its exposure is 2.0 or lower" {
	local unit=$STAGE$PREFIX/lib/systemd/system/natpmp-renew@.service
	grep -qx "ExecStart=$PREFIX/bin/natpmp renew-loop \$NATPMP_ARGS" "$unit"
	grep -qx 'EnvironmentFile=/etc/natpmp/%i.conf' "$unit"
	grep -qx 'DynamicUser=yes' "$unit"
	# verified as installed, its binary and man page taken from the stage
	local checked=$BATS_TEST_TMPDIR/natpmp-renew@.service
	sed "s|^ExecStart=$PREFIX/|ExecStart=$STAGE$PREFIX/|" "$unit" >"$checked"
	run env MANPATH="$STAGE$PREFIX/share/man" systemd-analyze verify "$checked"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run systemd-analyze security --offline=yes --threshold=20 "$checked"
	echo "${lines[-1]}"
	[ "$status" -eq 0 ]
	[[ "${lines[-1]}" =~ exposure\ level\ for\ natpmp-renew@.*:\ ([0-9.]+) ]]
	awk -v e="${BASH_REMATCH[1]}" 'BEGIN { exit !(e <= 2.0) }'
}

@test "the example instance file names the installed hook, and its options parse" {
	local conf=$STAGE$PREFIX/share/doc/natpmp/examples/vpn.conf args
	grep -qx "NATPMP_ARGS=-g 10.2.0.1 -l 60 --on-change $PREFIX/share/natpmp/hooks/transmission 0/both" "$conf"
	args=$(sed -n 's/^NATPMP_ARGS=//p' "$conf")
	# split on spaces, as systemd splits $NATPMP_ARGS; --help sends nothing
	# shellcheck disable=SC2086
	run "$STAGE$PREFIX/bin/natpmp" renew-loop $args --help
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: natpmp [options] renew-loop "* ]]
}
