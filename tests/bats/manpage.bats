#!/usr/bin/env bats
# manpage.bats - the man page is the contract: it must render as written.

load helpers

# Every -word and --word on the rendered page, one per line.
dash_words() {
	MANWIDTH=120 MANPAGER=cat man -l man/natpmp.1 2>/dev/null | col -b |
		grep -oE "(^|[ (\[\"'])-{1,2}[A-Za-z0-9][A-Za-z0-9-]*" |
		sed -E "s/^[ (\[\"']//" | sort -u
}

@test "the man page renders through man -l with no option word mangled" {
	local known words word
	# what natpmp itself offers, from its help
	known=$({
		natpmp help
		for command in address map unmap renew-loop status doctor; do natpmp help "$command"; done
	} | grep -oE -- "-{1,2}[A-Za-z0-9][A-Za-z0-9-]*" | sort -u)
	# other programs' flags the page quotes: sh -c, jq -r, natpmpc -a,
	# cmake --install, systemctl --now and -s, journalctl -u, and the examples "map -1" (a
	# bad port) and "-46jqv" and "-jq" (bundled options)
	known+=$'\n-c\n-r\n-a\n--install\n--now\n-s\n-u\n-1\n-46jqv\n-jq'
	words=$(dash_words)
	[ -n "$words" ]
	for word in $words; do
		if ! grep -qxF -- "$word" <<<"$known"; then
			echo "mangled or unknown on the page: '$word'"
			return 1
		fi
	done
}
