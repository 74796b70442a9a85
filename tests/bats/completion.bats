#!/usr/bin/env bats
# completion.bats - the shell completions in completions/: bash driven as
# readline would drive it, fish asked what it would offer, zsh parsed.

load helpers

# complete_bash WORD...: what bash offers for the last word, one per line
complete_bash() {
	bash -c 'source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _natpmp
		printf "%s\n" "${COMPREPLY[@]}"' _ "$TOP/completions/natpmp.bash" "$@"
}

@test "bash: the command, its options and their values complete" {
	[ "$(complete_bash natpmp ma)" = map ]
	[ "$(complete_bash natpmp map 80/ | paste -sd,)" = "80/tcp,80/udp,80/both" ]
	[ "$(complete_bash natpmp -g 10.2.0.1 renew-loop 6881-6889/b)" = "6881-6889/both" ]
	[ "$(complete_bash natpmp unmap --all -p '' | paste -sd,)" = "tcp,udp,both" ]
	[ "$(complete_bash natpmp help '' | paste -sd,)" = "address,map,unmap,renew-loop,doctor,help" ]
	[ "$(complete_bash natpmp doctor --p | paste -sd,)" = "--pcp,--port" ]
	[ "$(complete_bash natpmp --nat | paste -sd,)" = "--nat-pmp" ]
	# a value of the user's own gets no suggestion
	[ -z "$(complete_bash natpmp -g '')" ]
	# and the command is found past options and their values
	[ "$(complete_bash natpmp -t 3 -l 60 map --ex)" = "--exact" ]
}

@test "bash: every option natpmp's help lists is offered" {
	local word command offered
	for command in "" address map unmap renew-loop doctor; do
		# "": the common options, before any command
		offered=$(complete_bash natpmp ${command:+"$command"} -)
		# the option column of the help's option lines
		for word in $(natpmp help ${command:+"$command"} | grep -E '^ +-' |
			sed -E 's/^ +//; s/   .*//' | grep -oE -- '--?[a-z0-9][a-z0-9-]*'); do
			grep -qxF -- "$word" <<<"$offered" || {
				echo "$command: $word is not offered"
				return 1
			}
		done
	done
}

@test "zsh parses its completion" {
	zsh -n "$TOP/completions/_natpmp"
}

@test "fish parses its completion and offers commands and protocols" {
	fish --no-execute "$TOP/completions/natpmp.fish"
	run fish -c "source '$TOP/completions/natpmp.fish'; complete -C 'natpmp ma'"
	[ "${lines[0]}" = $'map\tcreate or renew port mappings' ]
	run fish -c "source '$TOP/completions/natpmp.fish'; complete -C 'natpmp map 80/'"
	[ "$(printf '%s\n' "${lines[@]}" | sort | paste -sd,)" = "80/both,80/tcp,80/udp" ]
}
