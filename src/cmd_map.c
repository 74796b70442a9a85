/* cmd_map.c - `natpmp map SPEC...`: create or renew port mappings, one
 * request at a time (RFC 6886 sections 3.1 and 3.3), and report what the
 * gateway granted. */
#include "command.h"
#include "diag.h"
#include "session.h"

/* One address request per command, so each mapping can be shown whole;
 * a protocol whose grants carry the address (PCP) needs none. */
static bool learn_external_address(struct session *session)
{
	struct request request = { .kind = REQUEST_ADDRESS,
				   .address_optional = true };
	struct result address;

	session_run(session, &request, &address);
	if (address.failure == FAILURE_NONE) {
		output_address_warning(&address);
		return ip_address_is_set(&address.external_address);
	}
	/* a silent gateway fails every mapping below with this same error;
	 * a refusal of the address alone does not stop the mappings */
	if (!session->silenced)
		diag_warning("cannot learn the external address: %s",
			     address.message);
	return false;
}

static void map_body(struct session *session)
{
	const struct invocation *invocation = session->inv;
	/* warned about the address already, or else at the first grant */
	bool warned = learn_external_address(session);
	unsigned protocol;
	size_t i;

	for (i = 0; i < invocation->spec_count; i++) {
		const struct port_spec *spec = &invocation->specs[i];
		/* both: UDP first, then TCP (the bit order) */
		for (protocol = PROTOCOL_UDP; protocol <= PROTOCOL_TCP;
		     protocol <<= 1) {
			struct request request;
			struct result result;
			if (!(spec->protocols & protocol))
				continue;
			session_request(session->inv, REQUEST_MAP, protocol,
					spec->internal_port,
					spec->external_port, &request);
			session_run(session, &request, &result);
			session_report(session, &result);
			if (result.failure == FAILURE_NONE && !warned) {
				output_address_warning(&result);
				warned = true;
			}
		}
	}
}

static int run_map(const struct invocation *invocation)
{
	return session_run_families(invocation, map_body);
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
		"  -l, --lifetime DURATION   requested lifetime: seconds, or 90m, 2h, 1d\n"
		"  --exact                   PCP: fail rather than take another external port\n"
		"  --for ADDR                PCP: map for another host of the LAN\n"
		"  --allow-from ADDR[/LEN][:PORT]  PCP: only that peer may come in\n"
		"                            (repeatable)\n",
	.options = CLI_OPTION_LIFETIME | CLI_OPTION_EXACT | CLI_OPTION_FOR |
		   CLI_OPTION_ALLOW_FROM,
	.operands = CLI_OPERANDS_SPECS,
};
