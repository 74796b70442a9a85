# natpmp.fish - fish completion for natpmp: commands, options and their values.

set -l commands address map unmap renew-loop status doctor help
complete -c natpmp -f
complete -c natpmp -n "not __fish_seen_subcommand_from $commands" -a address -d "print the gateway's external address"
complete -c natpmp -n "not __fish_seen_subcommand_from $commands" -a map -d 'create or renew port mappings'
complete -c natpmp -n "not __fish_seen_subcommand_from $commands" -a unmap -d 'delete port mappings'
complete -c natpmp -n "not __fish_seen_subcommand_from $commands" -a renew-loop -d 'keep port mappings alive until stopped'
complete -c natpmp -n "not __fish_seen_subcommand_from $commands" -a status -d 'show the mappings renew-loop keeps'
complete -c natpmp -n "not __fish_seen_subcommand_from $commands" -a doctor -d 'say why port forwarding works or not'
complete -c natpmp -n "not __fish_seen_subcommand_from $commands" -a help -d 'show help for natpmp or one command'
complete -c natpmp -n "__fish_seen_subcommand_from help" -a "$commands"

complete -c natpmp -s g -l gateway -x -d 'the gateway, ADDR[:PORT]'
complete -c natpmp -s l -l lifetime -x -d 'mapping lifetime'
complete -c natpmp -s t -l timeout -x -d 'longest wait for the gateway'
complete -c natpmp -s 4 -l ipv4 -d 'IPv4'
complete -c natpmp -s 6 -l ipv6 -d 'IPv6 pinholes over PCP'
complete -c natpmp -l pcp -d 'speak PCP only'
complete -c natpmp -l nat-pmp -d 'speak NAT-PMP only'
complete -c natpmp -s j -l json -d 'JSON Lines on stdout'
complete -c natpmp -s q -l quiet -d 'nothing on stdout on success'
complete -c natpmp -s v -l verbose -d 'trace every datagram'
complete -c natpmp -s h -l help -d 'show help'
complete -c natpmp -s V -l version -d 'print the version'

complete -c natpmp -n "__fish_seen_subcommand_from map renew-loop" -l exact -d 'PCP: that external port or nothing'
complete -c natpmp -n "__fish_seen_subcommand_from map unmap renew-loop" -l for -x -d 'PCP: for another host'
complete -c natpmp -n "__fish_seen_subcommand_from map renew-loop" -l allow-from -x -d 'PCP: only this peer may come in'
complete -c natpmp -n "__fish_seen_subcommand_from unmap" -s a -l all -d 'every mapping of this host'
complete -c natpmp -n "__fish_seen_subcommand_from unmap" -s p -l proto -x -a 'tcp udp both' -d 'protocol for --all'
complete -c natpmp -n "__fish_seen_subcommand_from renew-loop" -l on-change -r -F -a '(__fish_complete_command)' -d 'run a command on each change'
complete -c natpmp -n "__fish_seen_subcommand_from renew-loop" -l hook-renewals -d 'run the hook at every renewal too'
complete -c natpmp -n "__fish_seen_subcommand_from renew-loop" -l hook-timeout -x -d 'longest a hook may run'
complete -c natpmp -n "__fish_seen_subcommand_from renew-loop" -l port-file -r -F -d 'keep the active ports in this file'
complete -c natpmp -n "__fish_seen_subcommand_from renew-loop" -l keep -d 'leave the mappings on exit'
complete -c natpmp -n "__fish_seen_subcommand_from renew-loop" -l unmap-all-on-exit -d 'delete every mapping on exit'
complete -c natpmp -n "__fish_seen_subcommand_from doctor" -l port -x -d "the test mappings' internal port"
# the protocol after a SPEC's '/': 80/<TAB>
complete -c natpmp -n "__fish_seen_subcommand_from map unmap renew-loop; and string match -q -- '*/*' (commandline -ct)" -a '(string replace -r "/.*" "" -- (commandline -ct))/tcp (string replace -r "/.*" "" -- (commandline -ct))/udp (string replace -r "/.*" "" -- (commandline -ct))/both'
