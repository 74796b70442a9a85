/* cmd_address.c - `natpmp address`: print the gateway's external IPv4
 * address (RFC 6886 section 3.2). */
#include "command.h"
#include "session.h"

static int run_address(const struct invocation *invocation)
{
	struct request request = { .kind = REQUEST_ADDRESS };
	struct session session;
	struct result result;

	if (session_open(&session, invocation) != 0)
		return session.exit_status;
	session_run(&session, &request, &result);
	session_report(&session, &result);
	if (result.failure == FAILURE_NONE)
		output_address_warning(&result);
	session_close(&session);
	return session.exit_status;
}

const struct command command_address = {
	.name = "address",
	.run = run_address,
	.summary = "print the gateway's external IPv4 address",
	.usage =
		"usage: natpmp [options] address\n"
		"\n"
		"Asks the gateway for its external IPv4 address and prints it alone on a line.\n",
	.options = 0,
	.operands = CLI_OPERANDS_NONE,
};
