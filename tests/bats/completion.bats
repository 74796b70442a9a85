#!/usr/bin/env bats
# completion.bats - the shell completions in completions/: bash driven as
# readline would drive it, fish asked what it would offer, zsh typed into
# on a pseudo-terminal.

load helpers

# complete_bash LINE: what bash's completion offers with the cursor at the
# end of LINE, one per line, as readline inserts it. The line is split as
# readline splits it (bash 5.2, the default COMP_WORDBREAKS): at blanks,
# and at runs of ':' and '=', which become words of their own.
complete_bash() {
	bash -c 'source "$1"
		COMP_LINE=$2 COMP_POINT=${#2} COMP_WORDS=()
		rest=$2
		while [[ $rest =~ ^[[:blank:]]*([:=]+|[^[:blank:]:=]+) ]]; do
			COMP_WORDS+=("${BASH_REMATCH[1]}")
			rest=${rest:${#BASH_REMATCH[0]}}
		done
		if [[ $2 == *[[:blank:]] ]]; then COMP_WORDS+=(""); fi
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_natpmp
		printf "%s\n" "${COMPREPLY[@]}"' _ "$TOP/completions/natpmp.bash" "$1"
}

# offered LINE: the same, on one line, comma-separated
offered() {
	complete_bash "$1" | paste -sd,
}

@test "bash: the command, its options and their values complete" {
	[ "$(offered 'natpmp ma')" = map ]
	[ "$(offered 'natpmp map 80/')" = "80/tcp,80/udp,80/both" ]
	[ "$(offered 'natpmp -g 10.2.0.1 renew-loop 6881-6889/b')" = "6881-6889/both" ]
	[ "$(offered 'natpmp unmap --all -p ')" = "tcp,udp,both" ]
	[ "$(offered 'natpmp unmap -ap u')" = "udp" ]
	[ "$(offered 'natpmp help ')" = "address,map,unmap,renew-loop,status,doctor,help" ]
	[ "$(offered 'natpmp st')" = "status" ]
	[ "$(offered 'natpmp renew-loop --hook-r')" = "--hook-renewals" ]
	# a port file is a path
	[ "$(offered "natpmp renew-loop --port-file $TOP/hooks/qbit")" = "$TOP/hooks/qbittorrent" ]
	[ "$(offered "natpmp renew-loop --port-file=$TOP/hooks/qbit")" = "$TOP/hooks/qbittorrent" ]
	[ "$(offered 'natpmp doctor --p')" = "--pcp,--port" ]
	[ "$(offered 'natpmp --nat')" = "--nat-pmp" ]
	# the command is found past options and their values
	[ "$(offered 'natpmp -t 3 -l 60 map --ex')" = "--exact" ]
	[ "$(offered 'natpmp -qg 10.2.0.1 doctor --po')" = "--port" ]
	# a hook is a command or the path of a script
	[ "$(offered "natpmp renew-loop --on-change $TOP/hooks/trans")" = "$TOP/hooks/transmission" ]
	# a value of the user's own gets no suggestion, nor do help's topics
	# after the first, nor options after "--"
	[ -z "$(offered 'natpmp -g ')" ]
	[ -z "$(offered 'natpmp help map ')" ]
	[ -z "$(offered 'natpmp map -- -')" ]
}

@test "bash: words that readline splits at ':' and '=' complete as natpmp reads them" {
	# a gateway with a port, and an IPv6 one: still the value of -g
	[ "$(offered 'natpmp -g 10.2.0.1:5351 map 80/')" = "80/tcp,80/udp,80/both" ]
	[ "$(offered 'natpmp -g fe80::1 map 80/u')" = "80/udp" ]
	[ "$(offered 'natpmp --gateway=10.2.0.1 ma')" = "map" ]
	# readline keeps what precedes the last ':' or '=' and inserts the rest
	[ "$(offered 'natpmp map 80:8080/')" = "8080/tcp,8080/udp,8080/both" ]
	[ "$(offered 'natpmp unmap --all --proto=')" = "tcp,udp,both" ]
	[ "$(offered 'natpmp unmap --all --proto=b')" = "both" ]
}

@test "bash: every option natpmp's help lists is offered" {
	local command missing
	for command in "" address map unmap renew-loop status doctor; do
		# "": the common options, before any command; the words of the
		# option column of the help's option lines, less those offered
		missing=$(comm -23 <(natpmp help ${command:+"$command"} |
			grep -E '^ +-' | sed -E 's/^ +//; s/   .*//' |
			grep -oE -- '--?[a-z0-9][a-z0-9-]*' | sort -u) \
			<(complete_bash "natpmp ${command:+$command }-" | sort -u))
		if [ -n "$missing" ]; then
			echo "${command:-natpmp}: not offered: $missing"
			return 1
		fi
	done
}

# complete_zsh LINE...: what zsh lists (list-choices, ^D) after each LINE,
# typed into an interactive zsh on a pseudo-terminal with the completion
# in its $fpath; each listing follows a line "== LINE". The shell sets
# itself up from a .zshrc, so nothing is typed before its first prompt,
# and its prompt, "zsh N% ", counts the prompts: a text only the shell
# prints, never in the echo of what is typed. Each step waits for the
# prompt it needs: a line is typed at a fresh prompt N (the line editor
# reads it, not the terminal's line discipline), its listing ends where
# the shell draws prompt N again on a line of its own, and the line is
# cleared and an empty line run, which brings prompt N+1.
complete_zsh() {
	local home=$BATS_TEST_TMPDIR/zsh
	mkdir -p "$home"
	cat >"$home/.zshrc" <<EOF
fpath=(${TOP@Q}/completions \${(M)fpath:#*/Completion(|/Base|/Zsh)})
autoload -U compinit && compinit -u -D
integer prompts
precmd() { (( ++prompts )) }
setopt prompt_subst
PS1='zsh \$prompts%% '
unset zle_bracketed_paste
EOF
	# only the global zshenv, then this .zshrc; a minute for what takes
	# a fraction of a second, so that a busy machine does not fail it
	timeout 60 zsh -f -s "$home" "$@" <<'EOF'
zmodload zsh/zpty
zpty shell "TERM=dumb ZDOTDIR=${(q)1} zsh -d -i"
integer shown=1
zpty -r shell out "*zsh $shown% "
for line in ${@:2}; do
	zpty -w -n shell "$line"$'\C-d'
	zpty -r shell out "*"$'\n'"zsh $shown% "
	print -r -- "== $line"
	print -r -- ${out//$'\r'}
	zpty -w -n shell $'\C-u\n'
	zpty -r shell out "*zsh $((++shown))% "
done
zpty -d shell
EOF
}

@test "zsh parses its completion, which offers commands, options and protocols" {
	zsh -n "$TOP/completions/_natpmp"
	local listing
	listing=$(complete_zsh 'natpmp ma' 'natpmp -g 10.2.0.1:5351 map 80/' \
		'natpmp doctor --p' 'natpmp unmap --all --proto=' 'natpmp st' \
		'natpmp renew-loop --port-' 'natpmp renew-loop --hook-r')
	echo "$listing"
	grep -q '^map  -- create or renew port mappings' <<<"$listing"
	grep -q '^status  -- show the mappings renew-loop keeps' <<<"$listing"
	grep -q '^--port-file  -- keep the active ports in this file' <<<"$listing"
	grep -q '^--hook-renewals  -- run the hook at every renewal too' <<<"$listing"
	[ "$(grep -cE '^both +tcp +udp' <<<"$listing")" -eq 2 ]
	grep -q "^--port  -- the test mappings' internal port" <<<"$listing"
}

@test "fish parses its completion and offers commands and protocols" {
	fish --no-execute "$TOP/completions/natpmp.fish"
	run fish -c "source '$TOP/completions/natpmp.fish'; complete -C 'natpmp ma'"
	[ "${lines[0]}" = $'map\tcreate or renew port mappings' ]
	run fish -c "source '$TOP/completions/natpmp.fish'; complete -C 'natpmp -g 10.2.0.1:5351 map 80/'"
	[ "$(printf '%s\n' "${lines[@]}" | sort | paste -sd,)" = "80/both,80/tcp,80/udp" ]
	run fish -c "source '$TOP/completions/natpmp.fish'; complete -C 'natpmp unmap -a --proto=b'"
	[ "${lines[*]}" = $'--proto=both\tprotocol for --all' ]
	run fish -c "source '$TOP/completions/natpmp.fish'; complete -C 'natpmp st'"
	[ "${lines[0]}" = $'status\tshow the mappings renew-loop keeps' ]
	run fish -c "source '$TOP/completions/natpmp.fish'; complete -C 'natpmp renew-loop --port-f'"
	[ "${lines[0]}" = $'--port-file\tkeep the active ports in this file' ]
	run fish -c "source '$TOP/completions/natpmp.fish'; complete -C 'natpmp renew-loop --hook-r'"
	[ "${lines[0]}" = $'--hook-renewals\trun the hook at every renewal too' ]
}
