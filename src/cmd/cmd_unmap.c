/* cmd_unmap.c - `natpmp unmap`: delete mappings, one request at a time
 * (RFC 6886 section 3.4: lifetime 0, suggested external port 0). */
#include <stdint.h>

#include "cmd/command.h"
#include "core/diag.h"
#include "engine/oneshot.h"

/* NAT-PMP deletes every mapping of the host with one request; PCP has no
 * such request. */
static bool deletes_all(const struct oneshot *oneshot)
{
	return client_protocol(&oneshot->client)->deletes_all;
}

/* Deletes one mapping and reports it; true if the gateway did. */
static bool unmap_one(struct oneshot *oneshot, unsigned transport,
		      uint16_t internal_port)
{
	struct request request;
	struct result result;

	if (oneshot_interrupted(oneshot))
		return false;
	policy_request(oneshot->options, REQUEST_DELETE, transport,
		       internal_port, 0, &request);
	oneshot_request(oneshot, &request, &result);
	oneshot_report(oneshot, &result);
	return result.failure == FAILURE_NONE;
}

static void unmap(struct oneshot *oneshot, unsigned transports,
		  uint16_t internal_port)
{
	unsigned transport;

	for (transport = TRANSPORT_UDP; transport <= TRANSPORT_TCP;
	     transport <<= 1)
		if (transports & transport)
			unmap_one(oneshot, transport, internal_port);
}

/* With -j, a script hears of every protocol --all covered, also when
 * there was nothing to delete: one object with "all" and the count. */
static void report_all_deleted(struct oneshot *oneshot, unsigned transport,
			       size_t deleted)
{
	struct request request;
	struct result result;

	if (!oneshot->options->json)
		return; /* for people the warning says it */
	policy_request(oneshot->options, REQUEST_DELETE, transport, 0, 0,
		       &request);
	client_result_for(&oneshot->client, &request, &result);
	result.via = client_protocol(&oneshot->client)->id;
	result.deleted = deleted > INT32_MAX ? INT32_MAX : (int)deleted;
	oneshot_report(oneshot, &result);
}

/* PCP has no request that deletes every mapping of a host: delete, one
 * by one, those the state says natpmp made at this gateway. */
static void unmap_known(struct oneshot *oneshot, unsigned transport)
{
	const struct options *options = oneshot->options;
	struct ip_address host = options->third_party
					 ? options->third_party_address
					 : *client_source(&oneshot->client);
	uint16_t ports[STATE_ENTRIES_MAX];
	size_t i, n, deleted = 0;

	/* collect first: each deletion changes what the ledger holds */
	n = ledger_ports(oneshot->ledger, client_gateway(&oneshot->client),
			 transport, &host, ports, STATE_ENTRIES_MAX);
	for (i = 0; i < n; i++)
		if (unmap_one(oneshot, transport, ports[i]))
			deleted++;
	if (oneshot_interrupted(oneshot))
		return;
	diag_warning(
		"over PCP, unmap --all deletes the %s mappings natpmp made here (%zu); others need the program that made them",
		transport_name(transport), n);
	report_all_deleted(oneshot, transport, deleted);
}

/* NAT-PMP: internal port 0 deletes all of the host's mappings of the
 * transport (RFC 6886 section 3.4). */
static void unmap_all(struct oneshot *oneshot, unsigned transports)
{
	unsigned transport;

	for (transport = TRANSPORT_UDP; transport <= TRANSPORT_TCP;
	     transport <<= 1) {
		struct request request;
		struct result result;
		if (oneshot_interrupted(oneshot))
			return;
		if (!(transports & transport))
			continue;
		if (!deletes_all(oneshot)) {
			unmap_known(oneshot, transport);
			continue;
		}
		policy_request(oneshot->options, REQUEST_DELETE, transport, 0,
			       0, &request);
		oneshot_request(oneshot, &request, &result);
		/* the gateway turned out to speak PCP */
		if (!deletes_all(oneshot))
			unmap_known(oneshot, transport);
		else
			oneshot_report(oneshot, &result);
	}
}

static void unmap_body(struct oneshot *oneshot)
{
	const struct options *options = oneshot->options;
	size_t i;

	if (options->all)
		unmap_all(oneshot, options->all_transports);
	for (i = 0; i < options->spec_count; i++)
		unmap(oneshot, options->specs[i].transports,
		      options->specs[i].internal_port);
}

static int run_unmap(const struct options *options)
{
	return oneshot_run_families(options, unmap_body);
}

const struct command command_unmap = {
	.name = "unmap",
	.run = run_unmap,
	.summary = "delete port mappings",
	.examples =
		"  natpmp unmap 8080                delete the TCP mapping of 8080\n"
		"  natpmp unmap 51413/both          TCP and UDP\n"
		"  natpmp unmap --all               every mapping of this host\n",
	.usage =
		"usage: natpmp [options] unmap SPEC...\n"
		"       natpmp [options] unmap --all [--proto tcp|udp|both]\n"
		"\n"
		"Deletes this host's mapping of each SPEC's internal port (an EXTERNAL part\n"
		"is ignored; a range, 6881-6889, is each of its ports), or with --all every\n"
		"mapping of this host. Deleting a mapping that does not exist succeeds.\n"
		"\n"
		"  -a, --all                 delete all of this host's mappings (over PCP, those\n"
		"                            natpmp made)\n"
		"  -p, --proto PROTO         with --all: tcp, udp or both (default both)\n"
		"  --for ADDR                PCP: a mapping made for another host\n",
	.options = CLI_OPTION_ALL | CLI_OPTION_PROTO | CLI_OPTION_FOR,
	.operands = CLI_OPERANDS_SPECS,
};
