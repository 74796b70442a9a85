#!/usr/bin/env bats
# cli.bats - the command line: help, version, and one clear line on stderr,
# exit 64 and not a single packet for every malformed argument.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr and $stderr_lines

load helpers

setup() {
	start_gateway
}

teardown() {
	common_teardown
}

# Runs natpmp against the fake gateway expecting a usage error that names
# the offending value, with nothing on stdout and nothing sent.
usage_error() {
	local expected=$1
	shift
	run --separate-stderr natpmp -g "$GW" -t 2 "$@"
	[ "$status" -eq 64 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "natpmp: "*"$expected"* ]]
	assert_nothing_sent
}

@test "--help lists every command and exits 0" {
	run --separate-stderr natpmp --help
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	for command in address map unmap help; do
		[[ "$output" == *"  $command "* ]]
	done
}

@test "help COMMAND and COMMAND --help print that command's usage" {
	run natpmp help map
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: natpmp [options] map SPEC..."* ]]
	run natpmp unmap --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"unmap --all [--proto tcp|udp|both]"* ]]
}

@test "--version prints the version" {
	run natpmp --version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^natpmp\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "natpmp alone lists the commands, one line each, on stderr, and exits 64" {
	run --separate-stderr natpmp
	[ "$status" -eq 64 ]
	[ -z "$output" ]
	[ "${stderr_lines[0]}" = "usage: natpmp [options] COMMAND [ARGS]" ]
	for command in address map unmap renew-loop status doctor help; do
		printf '%s\n' "${stderr_lines[@]}" | grep -qE "^  $command +[a-z]"
	done
	[ "${stderr_lines[-1]}" = "More: natpmp help, natpmp help COMMAND, man natpmp." ]
	[ "${#stderr_lines[@]}" -eq 9 ]
}

@test "options without a command are a usage error" {
	run --separate-stderr natpmp -q
	[ "$status" -eq 64 ]
	[ "$stderr" = "natpmp: no command given (try 'natpmp help')" ]
}

@test "help and help COMMAND end with examples" {
	run natpmp help
	[[ "$output" == *$'examples:\n  natpmp address '* ]]
	for command in address map unmap renew-loop; do
		run natpmp help "$command"
		[ "$status" -eq 0 ]
		[[ "$output" == *$'\nexamples:\n  natpmp '*"$command"* ]]
	done
}

@test "a misspelt command gets the closest one suggested" {
	usage_error "unknown command 'adress' (did you mean 'address'? try 'natpmp help')" adress
}

@test "two letters swapped in a command still get it suggested" {
	usage_error "unknown command 'mpa' (did you mean 'map'? try 'natpmp help')" mpa 8080
}

@test "a misspelt option gets the closest one suggested" {
	usage_error "unknown option '--gatway' (did you mean '--gateway'?)" --gatway 10.0.0.1 address
}

@test "a protocol apart from its port is answered with the SPEC meant" {
	usage_error "invalid SPEC 'tcp': the protocol goes after the port, did you mean 8080/tcp?" map 8080 tcp
}

@test "unmap all suggests --all" {
	usage_error "invalid SPEC 'all': did you mean --all?" unmap all
}

@test "natpmpc's -a PUBLIC PRIVATE PROTO LIFETIME is answered with the natpmp command and the renew-loop that keeps it" {
	usage_error "'-a PUBLIC PRIVATE PROTO [LIFETIME]' is natpmpc's; natpmp says it as: natpmp -g $GW -t 2 -l 60 map 8080/tcp; to keep it mapped, as a natpmpc loop does: natpmp -g $GW -t 2 -l 60 renew-loop 8080/tcp" \
		-a 8080 8080 tcp 60
}

@test "natpmpc's -a without a lifetime is natpmpc's 3600 s; PUBLIC differing becomes :EXTERNAL" {
	usage_error "natpmp says it as: natpmp -g $GW -t 2 -l 3600 map 8080:80/udp;" -a 80 8080 udp
}

@test "natpmpc's -a with lifetime 0 is answered with unmap" {
	usage_error "natpmp says it as: natpmp -g $GW -t 2 unmap 8080/tcp" -a 8080 8080 tcp 0
}

@test "ProtonVPN's natpmpc loop keeps its -g wherever it was, and is told of renew-loop 0/both" {
	local said="natpmp says it as: natpmp -g 10.2.0.1 -l 60 map 0:1/udp; to keep it mapped, as a natpmpc loop does: natpmp -g 10.2.0.1 -l 60 renew-loop 0/both"
	run --separate-stderr natpmp -a 1 0 udp 60 -g 10.2.0.1
	[ "$status" -eq 64 ]
	[[ $stderr == "natpmp: '-a PUBLIC PRIVATE PROTO [LIFETIME]' is natpmpc's; $said" ]]
	run --separate-stderr natpmp -g 10.2.0.1 -a 1 0 udp 60
	[ "$status" -eq 64 ]
	[[ $stderr == *"$said" ]]
	# what it says works, at a gateway of our own
	run natpmp -g "$GW" -l 60 map 0:1/udp
	[ "$status" -eq 0 ]
	[[ $output =~ ^udp\ 44\.1\.2\.3:[0-9]+\ -\>\ 127\.0\.0\.1:0\ lifetime\ 60s$ ]]
}

@test "-l is accepted by every command, so one alias serves them all" {
	run --separate-stderr natpmp -g "$GW" -l 60 address
	[ "$status" -eq 0 ]
	[ "$output" = "44.1.2.3" ]
	run --separate-stderr natpmp -g "$GW" -l 60 unmap 8080
	[ "$status" -eq 0 ]
	gw_has 'recv .*op=map-tcp internal=8080 suggested=0 lifetime=0$' 1
	run --separate-stderr natpmp -g "$GW" -l 60 help map
	[ "$status" -eq 0 ]
}

@test "help for an unknown command is a usage error" {
	run --separate-stderr natpmp help frob
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"unknown command 'frob'"* ]]
}

@test "port 65536 is rejected" {
	usage_error "invalid SPEC '65536': port 65536 is out of range (0-65535)" map 65536
}

@test "a negative port is rejected as a port, not taken for an option" {
	usage_error "invalid SPEC '-1': '-1' is not a port number" map -1
}

@test "an unknown protocol is rejected" {
	usage_error "invalid SPEC '80/sctp': unknown protocol 'sctp' (use tcp, udp or both)" map 80/sctp
}

@test "a colon without an external port is rejected" {
	usage_error "invalid SPEC '8080:': missing external port after ':'" map 8080:
}

@test "one bad SPEC among good ones sends nothing at all" {
	usage_error "invalid SPEC 'x'" map 8080 8081 x
}

@test "lifetime 0 is rejected" {
	usage_error "invalid lifetime '0': must be at least 1 second" map -l 0 8080
}

@test "a lifetime with an unknown unit is rejected" {
	usage_error "invalid lifetime '5x': unknown unit 'x' (use s, m, h or d)" map --lifetime 5x 8080
}

@test "a lifetime beyond 32 bits is rejected" {
	usage_error "invalid lifetime '4294967296': too long" map -l 4294967296 8080
}

@test "a gateway that is not an IPv4 address is rejected" {
	run --separate-stderr natpmp -g foo address
	[ "$status" -eq 64 ]
	[ "$stderr" = "natpmp: invalid gateway 'foo': not an address (use a.b.c.d, a.b.c.d:port, an IPv6 address, or [ipv6]:port)" ]
	assert_nothing_sent
}

@test "a malformed NATPMP_GATEWAY is rejected by name" {
	NATPMP_GATEWAY=10.0.0.1:99999 run --separate-stderr natpmp address
	[ "$status" -eq 64 ]
	[ "$stderr" = "natpmp: invalid NATPMP_GATEWAY '10.0.0.1:99999': port must be 1-65535" ]
}

@test "a bad timeout is rejected" {
	usage_error "invalid timeout 'soon'" -t soon address
}

@test "an unknown command is rejected" {
	usage_error "unknown command 'frob' (try 'natpmp help')" frob
}

@test "an unknown option is rejected" {
	usage_error "unknown option '--frob'" address --frob
}

@test "an option missing its value is rejected" {
	run --separate-stderr natpmp map 8080 --lifetime
	[ "$status" -eq 64 ]
	[ "$stderr" = "natpmp: option --lifetime needs a value" ]
}

@test "map without a SPEC is rejected" {
	usage_error "map needs at least one SPEC" map
}

@test "unmap without a SPEC or --all is rejected" {
	usage_error "unmap needs at least one SPEC" unmap
}

@test "unmap --all with a SPEC is rejected" {
	usage_error "unmap --all takes no SPEC (got '8080')" unmap --all 8080
}

@test "--proto without --all is rejected" {
	usage_error "option --proto needs --all" unmap 8080 --proto udp
}

@test "an option of another command is rejected" {
	usage_error "option --keep does not apply to address" address --keep
}

@test "a hook given to a one-shot is rejected: it would never run" {
	usage_error "option --on-change does not apply to map" map 8080 --on-change true
}

@test "address takes no arguments" {
	usage_error "address takes no arguments (got '8080')" address 8080
}

@test "options are accepted before and after the command" {
	run natpmp -g "$GW" map 8080 -l 60 -q
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$(gw_count 'recv .*op=map-tcp internal=8080 suggested=8080 lifetime=60$')" -eq 1 ]
}

@test "short options bundle and take attached values" {
	run natpmp -jqg"$GW" -l90m map 8080
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$(gw_count 'recv .*lifetime=5400$')" -eq 1 ]
}

@test "-- ends the options" {
	run natpmp -g "$GW" map -- 8080
	[ "$status" -eq 0 ]
	[[ "$output" == "tcp 44.1.2.3:8080 -> 127.0.0.1:8080 lifetime 7200s" ]]
}
