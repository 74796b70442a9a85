/* cmd_map.c - `natpmp map SPEC...`: create or renew port mappings, one
 * request at a time (RFC 6886 sections 3.1 and 3.3), and report what the
 * gateway granted. */
#include <stdio.h>

#include "cmd/command.h"
#include "core/diag.h"
#include "engine/oneshot.h"

/* One address request per command, so each mapping can be shown whole;
 * a protocol whose grants carry the address (PCP) needs none. */
static bool learn_external_address(struct oneshot *oneshot)
{
	struct request request = { .kind = REQUEST_ADDRESS,
				   .address_optional = true };
	struct result address;

	oneshot_request(oneshot, &request, &address);
	if (address.failure == FAILURE_NONE) {
		output_address_warning(&address);
		return ip_address_is_set(&address.external_address);
	}
	/* a silent gateway fails every mapping below with this same error;
	 * a refusal of the address alone does not stop the mappings */
	if (!oneshot->silenced)
		diag_warning("cannot learn the external address: %s",
			     address.message);
	return false;
}

/* A VPN server forwards the port it grants to the same port of this host,
 * whatever internal port was asked: an application listening on that one
 * stays unreachable. */
static void note_tunnel(const struct request *asked, const struct result *got,
			struct client *client, char *text, size_t size)
{
	unsigned external = got->external_port;
	const char *tunnel;

	if (asked->internal_port == 0 || external == asked->internal_port)
		return;
	/* asked last: it may cost a look at the routing table */
	tunnel = client_tunnel(client);
	if (!tunnel)
		return;
	snprintf(
		text, size,
		"; through the tunnel %s it forwards port %u to port %u here, not %u: make the application listen on %u, or keep it told with renew-loop 0/both --on-change HOOK",
		tunnel, external, external, (unsigned)asked->internal_port,
		external);
}

/* The gateway may grant another port or a shorter lifetime than asked; a
 * cron job renewing at the asked half-life would then lose the mapping,
 * so say so, even under -q (which silences results, not notes). */
static void note_grant(const struct request *asked, const struct result *got,
		       struct client *client)
{
	char port[48] = "", lifetime[64] = "", renew[48] = "", vpn[256] = "";

	if (got->failure != FAILURE_NONE || got->lifetime == 0)
		return;
	note_tunnel(asked, got, client, vpn, sizeof(vpn));
	if (asked->suggested_port != 0 &&
	    got->external_port != asked->suggested_port)
		snprintf(port, sizeof(port), "external port %u instead of %u",
			 (unsigned)got->external_port,
			 (unsigned)asked->suggested_port);
	else if (vpn[0])
		snprintf(port, sizeof(port), "external port %u",
			 (unsigned)got->external_port);
	if (got->lifetime != asked->lifetime) {
		snprintf(lifetime, sizeof(lifetime), "%s%lu s instead of %lu s",
			 port[0] ? " and " : "", (unsigned long)got->lifetime,
			 (unsigned long)asked->lifetime);
		snprintf(renew, sizeof(renew), "; renew within %lu s",
			 (unsigned long)(got->lifetime / 2 ? got->lifetime / 2
							   : 1));
	}
	if (port[0] || lifetime[0])
		diag_note("map %u/%s: the gateway granted %s%s%s%s",
			  (unsigned)asked->internal_port,
			  transport_name(asked->transport), port, lifetime,
			  renew, vpn);
}

static void map_body(struct oneshot *oneshot)
{
	const struct options *options = oneshot->options;
	/* warned about the address already, or else at the first grant */
	bool warned = learn_external_address(oneshot);
	unsigned transport;
	size_t i;

	for (i = 0; i < options->spec_count; i++) {
		const struct port_spec *spec = &options->specs[i];
		/* both: UDP first, then TCP (the bit order) */
		for (transport = TRANSPORT_UDP; transport <= TRANSPORT_TCP;
		     transport <<= 1) {
			struct request request;
			struct result result;
			if (oneshot_interrupted(oneshot))
				return;
			if (!(spec->transports & transport))
				continue;
			policy_request(oneshot->options, REQUEST_MAP, transport,
				       spec->internal_port, spec->external_port,
				       &request);
			oneshot_request(oneshot, &request, &result);
			oneshot_report(oneshot, &result);
			note_grant(&request, &result, &oneshot->client);
			if (result.failure == FAILURE_NONE && !warned) {
				output_address_warning(&result);
				warned = true;
			}
		}
	}
}

static int run_map(const struct options *options)
{
	return oneshot_run_families(options, map_body);
}

const struct command command_map = {
	.name = "map",
	.run = run_map,
	.summary = "create or renew port mappings",
	.examples =
		"  natpmp map 8080                  TCP 8080 for 2 hours\n"
		"  natpmp -l 1h map 51413/both      a torrent port, TCP and UDP\n"
		"  natpmp -6 map 22                 an IPv6 pinhole for SSH\n"
		"  natpmp map 27015-27030/both      a game server's port range\n",
	.usage =
		"usage: natpmp [options] map SPEC...\n"
		"\n"
		"Asks the gateway to forward each SPEC for --lifetime seconds (default\n"
		"7200), and prints what it granted, a line per mapping:\n"
		"  tcp EXTERNAL-ADDRESS:PORT -> INTERNAL-ADDRESS:PORT lifetime SECONDSs\n"
		"SPEC is INTERNAL[-LAST][:EXTERNAL[-LAST]][/PROTO]; PROTO is tcp (default),\n"
		"udp or both; EXTERNAL 0 lets the gateway choose. A range (6881-6889,\n"
		"27015-27030:37015-37030) is a mapping per port, at most 1024 ports.\n"
		"\n"
		"  -l, --lifetime DURATION   requested lifetime: seconds, or 90m, 2h, 1d\n"
		"  --exact                   PCP: fail rather than take another external port\n"
		"  --for ADDR                PCP: map for another host of the LAN\n"
		"  --allow-from ADDR[/LEN][:PORT]  PCP: only that peer may come in\n"
		"                            (repeatable)\n",
	.options = CLI_OPTION_EXACT | CLI_OPTION_FOR | CLI_OPTION_ALLOW_FROM,
	.operands = CLI_OPERANDS_SPECS,
};
