/* cmd_unmap.c - `natpmp unmap`: delete mappings, one request at a time
 * (RFC 6886 section 3.4: lifetime 0, suggested external port 0). */
#include "command.h"
#include "session.h"

static void unmap(struct session *session, unsigned protocols,
		  uint16_t internal_port)
{
	unsigned protocol;

	for (protocol = PROTOCOL_UDP; protocol <= PROTOCOL_TCP;
	     protocol <<= 1) {
		struct request request = {
			.kind = REQUEST_DELETE,
			.protocol = protocol,
			.internal_port = internal_port,
		};
		struct result result;
		if (!(protocols & protocol))
			continue;
		session_run(session, &request, &result);
		session_report(session, &result);
	}
}

static int run_unmap(const struct invocation *invocation)
{
	struct session session;
	size_t i;

	if (session_open(&session, invocation) != 0)
		return session.exit_status;
	if (invocation->all) {
		/* internal port 0 deletes all of this host's mappings */
		unmap(&session, invocation->all_protocols, 0);
	}
	for (i = 0; i < invocation->spec_count; i++)
		unmap(&session, invocation->specs[i].protocols,
		      invocation->specs[i].internal_port);
	session_close(&session);
	return session.exit_status;
}

const struct command command_unmap = {
	.name = "unmap",
	.run = run_unmap,
	.summary = "delete port mappings",
	.usage =
		"usage: natpmp [options] unmap SPEC...\n"
		"       natpmp [options] unmap --all [--proto tcp|udp|both]\n"
		"\n"
		"Deletes this host's mapping of each SPEC's internal port (an EXTERNAL part\n"
		"is ignored), or with --all every mapping of this host. Deleting a mapping\n"
		"that does not exist succeeds.\n"
		"\n"
		"  -a, --all                 delete all of this host's mappings\n"
		"  -p, --proto PROTO         with --all: tcp, udp or both (default both)\n",
	.options = CLI_OPTION_ALL | CLI_OPTION_PROTO,
	.operands = CLI_OPERANDS_SPECS,
};
