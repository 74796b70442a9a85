# natpmp.bash - bash completion for natpmp: commands, options, the values
# of --proto, the protocol after a SPEC's '/', and help topics.
# shellcheck shell=bash

_natpmp() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local commands="address map unmap renew-loop doctor help"
	local common="-g --gateway -l --lifetime -t --timeout -4 --ipv4 -6 --ipv6
		--pcp --nat-pmp -j --json -q --quiet -v --verbose -h --help -V --version"
	local command="" extra="" i

	# the command: the first word that is neither an option nor its value
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-g | --gateway | -l | --lifetime | -t | --timeout | -p | --proto | \
			--on-change | --hook-timeout | --for | --allow-from | --port)
			i=$((i + 1))
			;;
		-*) ;;
		*)
			command=${COMP_WORDS[i]}
			break
			;;
		esac
	done
	COMPREPLY=()
	case $prev in
	-p | --proto)
		mapfile -t COMPREPLY < <(compgen -W "tcp udp both" -- "$cur")
		return
		;;
	--on-change)
		mapfile -t COMPREPLY < <(compgen -c -- "$cur")
		return
		;;
	-g | --gateway | -l | --lifetime | -t | --timeout | --hook-timeout | \
		--for | --allow-from | --port)
		return # a value of the user's own
		;;
	esac
	case $command in
	"")
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$common" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
		fi
		return
		;;
	help)
		mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
		return
		;;
	map) extra="--exact --for --allow-from" ;;
	unmap) extra="-a --all -p --proto --for" ;;
	renew-loop)
		extra="--on-change --hook-timeout --keep --unmap-all-on-exit
			--exact --for --allow-from"
		;;
	doctor) extra="--port" ;;
	esac
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$common $extra" -- "$cur")
	elif [[ $cur == */* && $command =~ ^(map|unmap|renew-loop)$ ]]; then
		# the protocol of a SPEC: 80/<TAB>
		mapfile -t COMPREPLY < <(compgen -P "${cur%%/*}/" \
			-W "tcp udp both" -- "${cur#*/}")
	fi
}

complete -F _natpmp natpmp
