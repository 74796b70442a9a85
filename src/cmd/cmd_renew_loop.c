/* cmd_renew_loop.c - `natpmp renew-loop SPEC...`: its arguments and its
 * help; the loop itself is renew/renew_loop.c. */
#include "cmd/command.h"
#include "renew/renew_loop.h"

const struct command command_renew_loop = {
	.name = "renew-loop",
	.run = renew_loop_run,
	.summary = "keep port mappings alive until stopped",
	.examples =
		"  natpmp renew-loop 8080                     keep TCP 8080 mapped\n"
		"  natpmp -g 10.2.0.1 -l 60 renew-loop 0/both \\\n"
		"      --port-file /run/natpmp/vpn/port       a VPN's port, in the directory\n"
		"                                             the unit natpmp-renew@vpn gives\n",
	.usage =
		"usage: natpmp [options] renew-loop [--on-change CMD [--hook-renewals]]\n"
		"                                   [--hook-timeout DURATION] [--port-file PATH]\n"
		"                                   [--keep | --unmap-all-on-exit] SPEC...\n"
		"\n"
		"Creates each mapping, then renews it at half the granted lifetime (PCP: at\n"
		"a random point up to 5/8), recreates it after a gateway restart, and follows\n"
		"address, route and link changes. Prints one timestamped line (or JSON\n"
		"object) per event. SIGINT or SIGTERM deletes the mappings and exits 0;\n"
		"SIGHUP renews now; SIGUSR1 prints the state. A SPEC's range (6881-6889)\n"
		"is a mapping per port.\n"
		"\n"
		"  -l, --lifetime DURATION   requested lifetime (default 7200s)\n"
		"  --on-change CMD           run /bin/sh -c CMD when a mapping is made, changes\n"
		"                            port or address, or is lost; facts in NATPMP_*\n"
		"  --hook-renewals           run the hook at each renewal too (NATPMP_EVENT\n"
		"                            renewed), to set again a port changed behind its back\n"
		"  --hook-timeout DURATION   end a hook still running after this (default 60s)\n"
		"  --port-file PATH          keep the external ports of the active mappings in\n"
		"                            PATH, one per line (empty while none is active)\n"
		"  --keep                    on exit, leave the mappings to expire\n"
		"  --unmap-all-on-exit       on exit, delete internal-port-0 mappings too, with\n"
		"                            a request that deletes all of this host's mappings\n"
		"                            of that protocol\n"
		"  --exact, --for ADDR, --allow-from ADDR[/LEN][:PORT]   as for map (PCP)\n",
	.options = CLI_OPTION_ON_CHANGE | CLI_OPTION_KEEP |
		   CLI_OPTION_HOOK_TIMEOUT | CLI_OPTION_UNMAP_ALL_ON_EXIT |
		   CLI_OPTION_PORT_FILE | CLI_OPTION_HOOK_RENEWALS |
		   CLI_OPTION_EXACT | CLI_OPTION_FOR | CLI_OPTION_ALLOW_FROM,
	.operands = CLI_OPERANDS_SPECS,
};
