/* cmd_address.c - `natpmp address`: print the gateway's external address
 * (RFC 6886 section 3.2; over PCP read from a short-lived mapping). */
#include "cmd/command.h"
#include "engine/oneshot.h"

static void address_body(struct oneshot *oneshot)
{
	struct request request = { .kind = REQUEST_ADDRESS };
	struct result result;

	oneshot_request(oneshot, &request, &result);
	oneshot_report(oneshot, &result);
	if (result.failure == FAILURE_NONE)
		output_address_warning(&result);
}

static int run_address(const struct options *options)
{
	return oneshot_run_families(options, address_body);
}

const struct command command_address = {
	.name = "address",
	.run = run_address,
	.summary = "print the gateway's external address",
	.examples =
		"  natpmp address                   the address, for people\n"
		"  ip=$(natpmp address)             the address, for scripts\n"
		"  natpmp -j address | jq -r .external_address\n",
	.usage =
		"usage: natpmp [options] address\n"
		"\n"
		"Asks the gateway for its external address and prints it alone on a line\n"
		"(with -4 -6, one line per family). Over PCP, which has no such request,\n"
		"natpmp maps the UDP port of its own socket for a moment and deletes it.\n",
	.options = 0,
	.operands = CLI_OPERANDS_NONE,
};
