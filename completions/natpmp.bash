# natpmp.bash - bash completion for natpmp: commands, options, the values
# of --proto, --on-change and --port-file, the protocol after a SPEC's '/',
# and help topics.
# shellcheck shell=bash

# _natpmp_words: the words up to the cursor as natpmp will see them, in the
# caller's words, cword and cur, and in piece the text readline replaces.
# Readline splits a word at ':' and '=' ("-g 10.2.0.1:5351", "-g fe80::1"
# and "--proto=udp" become three words each), so pieces with no blank
# between them are joined again; COMP_LINE says where the blanks are.
_natpmp_words() {
	local line=${COMP_LINE:0:COMP_POINT} blank i
	words=()
	piece=${COMP_WORDS[COMP_CWORD]}
	if [ -z "${COMP_LINE-}" ]; then # called with COMP_WORDS alone
		words=("${COMP_WORDS[@]:0:COMP_CWORD+1}")
	else
		for ((i = 0; i <= COMP_CWORD; i++)); do
			blank=${line%%[![:blank:]]*}
			line=${line#"$blank"}
			piece=${COMP_WORDS[i]}
			if ((i == COMP_CWORD)); then
				piece=$line # the current word, up to the cursor
			fi
			line=${line#"$piece"}
			if ((i > 0)) && [[ -z $blank ]] &&
				[[ $piece == [:=]* || ${words[-1]} == *[:=] ]]; then
				words[-1]+=$piece
			else
				words+=("$piece")
			fi
		done
	fi
	cword=$((${#words[@]} - 1))
	cur=${words[cword]}
	# after a piece of only ':' or '=', readline inserts rather than replaces
	if [[ $piece =~ ^[:=]+$ ]]; then piece=; fi
}

# _natpmp_value_of WORD: the long name of the option whose value is the
# word after WORD ("--gateway", "-g" and "-qg" give gateway), else nothing
_natpmp_value_of() {
	case $1 in
	--gateway | --lifetime | --timeout | --proto | --on-change | \
		--hook-timeout | --for | --allow-from | --port | --port-file)
		echo "${1#--}"
		;;
	--*) ;;
	-[!-]*)
		# the first letter that takes a value takes the rest of the word,
		# or the next word when it is the last letter
		local letters=${1#-} before
		before=${letters%%[gltp]*}
		if ((${#before} == ${#letters} - 1)); then
			case ${letters: -1} in
			g) echo gateway ;;
			l) echo lifetime ;;
			t) echo timeout ;;
			p) echo proto ;;
			esac
		fi
		;;
	esac
}

# _natpmp_values NAME TEXT: the values of option NAME that start with TEXT;
# the other options' values are the user's own (addresses, durations, ports)
_natpmp_values() {
	case $1 in
	proto) compgen -W "tcp udp both" -- "$2" ;;
	port-file) compgen -f -- "$2" ;;
	on-change)
		# a command, or the path of a hook
		if [[ $2 == */* ]]; then
			compgen -f -- "$2"
		else
			compgen -c -- "$2"
		fi
		;;
	esac
	return 0
}

# _natpmp_options COMMAND: the options that apply to COMMAND
_natpmp_options() {
	echo "-g --gateway -l --lifetime -t --timeout -4 --ipv4 -6 --ipv6
		--pcp --nat-pmp -j --json -q --quiet -v --verbose -h --help
		-V --version"
	case $1 in
	map) echo "--exact --for --allow-from" ;;
	unmap) echo "-a --all -p --proto --for" ;;
	renew-loop)
		echo "--on-change --hook-renewals --hook-timeout --port-file --keep
			--unmap-all-on-exit --exact --for --allow-from"
		;;
	doctor) echo "--port" ;;
	esac
}

_natpmp() {
	local words cword cur piece
	_natpmp_words
	local commands="address map unmap renew-loop status doctor help"
	local command="" at=0 options=1 value="" i
	COMPREPLY=()

	# the command: the first word that is neither an option nor an
	# option's value, as natpmp reads them; after "--" nothing is an option
	for ((i = 1; i < cword; i++)); do
		if ((options)); then
			case ${words[i]} in
			--)
				options=0
				continue
				;;
			-[0-9]*)
				# -4, -6 and -46; any other number is an operand
				if [[ ${words[i]} =~ ^-[46]+$ ]]; then continue; fi
				;;
			-?*)
				if [ -n "$(_natpmp_value_of "${words[i]}")" ]; then
					i=$((i + 1))
				fi
				continue
				;;
			esac
		fi
		if [ -z "$command" ]; then
			command=${words[i]}
			at=$i
		fi
	done

	if ((options)); then value=$(_natpmp_value_of "${words[cword - 1]}"); fi
	if [ -n "$value" ]; then
		mapfile -t COMPREPLY < <(_natpmp_values "$value" "$cur")
		if [[ $value == port-file || ($value == on-change && $cur == */*) ]]; then
			compopt -o filenames 2>/dev/null
		fi
	elif ((options)) && [[ $cur == --*=* ]]; then
		value=${cur%%=*}
		mapfile -t COMPREPLY < <(_natpmp_values "${value#--}" "${cur#*=}" |
			sed "s|^|$value=|")
	elif ((options)) && [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_natpmp_options "$command")" -- "$cur")
	elif [ -z "$command" ] || [[ $command == help && $((at + 1)) -eq cword ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
	elif [[ $cur == */* && $command =~ ^(map|unmap|renew-loop)$ ]]; then
		# the protocol of a SPEC: 80/<TAB>
		mapfile -t COMPREPLY < <(compgen -P "${cur%%/*}/" \
			-W "tcp udp both" -- "${cur#*/}")
	fi

	# readline replaces only the piece after the last ':' or '='
	local joined=${cur%"$piece"}
	if [ -n "$joined" ]; then
		for i in "${!COMPREPLY[@]}"; do
			COMPREPLY[i]=${COMPREPLY[i]#"$joined"}
		done
	fi
}

complete -F _natpmp natpmp
