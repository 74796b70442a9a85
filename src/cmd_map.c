/* cmd_map.c - `natpmp map SPEC...`: create or renew port mappings, one
 * request at a time (RFC 6886 sections 3.1 and 3.3), and report what the
 * gateway granted. */
#include "command.h"
#include "diag.h"
#include "session.h"

/* One address request per command, so each mapping can be shown whole. */
static void learn_external_address(struct session *session)
{
	struct request request = { .kind = REQUEST_ADDRESS };
	struct result address;

	session_run(session, &request, &address);
	if (address.failure == FAILURE_NONE) {
		output_address_warning(&address);
		return;
	}
	/* a silent gateway fails every mapping below with this same error;
	 * a refusal of the address alone does not stop the mappings */
	if (!session->silenced)
		diag_warning("cannot learn the external address: %s",
			     address.message);
}

static int run_map(const struct invocation *invocation)
{
	struct session session;
	unsigned protocol;
	size_t i;

	if (session_open(&session, invocation) != 0)
		return session.exit_status;
	learn_external_address(&session);
	for (i = 0; i < invocation->spec_count; i++) {
		const struct port_spec *spec = &invocation->specs[i];
		/* both: UDP first, then TCP (the bit order) */
		for (protocol = PROTOCOL_UDP; protocol <= PROTOCOL_TCP;
		     protocol <<= 1) {
			struct request request = {
				.kind = REQUEST_MAP,
				.protocol = protocol,
				.internal_port = spec->internal_port,
				.suggested_port = spec->external_port,
				.lifetime = invocation->lifetime,
			};
			struct result result;
			if (!(spec->protocols & protocol))
				continue;
			session_run(&session, &request, &result);
			session_report(&session, &result);
		}
	}
	session_close(&session);
	return session.exit_status;
}

const struct command command_map = {
	.name = "map",
	.run = run_map,
	.summary = "create or renew port mappings",
	.usage =
		"usage: natpmp [options] map SPEC...\n"
		"\n"
		"Asks the gateway to forward each SPEC, INTERNAL[:EXTERNAL][/PROTO], for\n"
		"--lifetime seconds (default 7200), and prints what it granted:\n"
		"  tcp EXTERNAL-ADDRESS:PORT -> INTERNAL-ADDRESS:PORT lifetime SECONDSs\n"
		"PROTO is tcp (default), udp or both; EXTERNAL 0 lets the gateway choose.\n"
		"\n"
		"  -l, --lifetime DURATION   requested lifetime: seconds, or 90m, 2h, 1d\n",
	.options = CLI_OPTION_LIFETIME,
	.operands = CLI_OPERANDS_SPECS,
};
