/* cmd_doctor.c - `natpmp doctor`: probe the gateway the way a careful
 * engineer would by hand, then say whether port forwarding works from
 * here and, if not, the most likely fix. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/command.h"
#include "core/diag.h"
#include "core/exit_status.h"
#include "doctor/doctor.h"

/* Colour on a terminal only, never with NO_COLOR (no-color.org) or a dumb
 * terminal. */
static bool use_colour(void)
{
	const char *no_colour = getenv("NO_COLOR");
	const char *term = getenv("TERM");

	if (no_colour && *no_colour)
		return false;
	if (!term || strcmp(term, "dumb") == 0)
		return false;
	return isatty(STDOUT_FILENO) == 1;
}

static int run_doctor(const struct options *options)
{
	struct doctor_facts *facts = calloc(1, sizeof(*facts));
	struct doctor_report *report = calloc(1, sizeof(*report));
	int status;

	if (!facts || !report) {
		free(facts);
		free(report);
		diag_error("out of memory");
		return EXIT_SYSTEM;
	}
	status = doctor_probe(options, facts);
	if (status == EXIT_OK) {
		doctor_judge(facts, report);
		if (options->json)
			print_json_doctor(stdout, facts, report,
					  options->quiet);
		else
			print_text_doctor(stdout, report, use_colour(),
					  options->quiet);
		status = report->exit_status;
	}
	free(facts);
	free(report);
	return status;
}

const struct command command_doctor = {
	.name = "doctor",
	.run = run_doctor,
	.summary = "say why port forwarding works or not",
	.examples =
		"  natpmp doctor                    check the router, IPv4 and IPv6\n"
		"  natpmp -g 10.2.0.1 doctor        check a VPN's port-forwarding gateway\n"
		"  natpmp -j doctor | jq -r .advice the verdict's advice alone\n",
	.usage =
		"usage: natpmp [options] doctor [--port PORT]\n"
		"\n"
		"Probes the gateway and prints a line per check, each ok, warn, fail or\n"
		"skip: route, nat-pmp, pcp, external-address, mapping-tcp, mapping-udp,\n"
		"port-zero, ipv6; then a verdict with the most likely fix. Test mappings\n"
		"live 120 s and are deleted at once. Each probe waits 1.5 s (-t sets\n"
		"another limit); a later answer, within 4.5 s, still counts, as slow.\n"
		"Exit 0 when a test mapping was granted on a public address.\n"
		"\n"
		"  --port PORT               the test mappings' internal port, not one a\n"
		"                            mapping natpmp made holds (default: a random one\n"
		"                            in 49152-65535)\n",
	.options = CLI_OPTION_PORT,
	.operands = CLI_OPERANDS_NONE,
};
