/* policy.c - what every command decides the same way: the gateway (the
 * one named, else the one discovery finds, with a global source address
 * for IPv6 pinholes), the protocol to start in (forced, needed by the
 * options, or what the ledger remembers), and what a mapping request
 * carries from the options. */
#include "engine/policy.h"

#include <stdio.h>
#include <string.h>

#include "core/diag.h"

/* For IPv6 the source must be a global address even toward a link-local
 * gateway: the pinhole is for the address the request comes from. */
static int global_source(struct gateway_route *route, struct result *failure)
{
	struct gateway_route internet;
	char error[RESULT_MESSAGE_SIZE];

	if (ip_address_is_set(&route->source) &&
	    !ip_address_is_link_local(&route->source))
		return 0;
	if (gateway_discover(AF_INET6, &internet, error, sizeof(error)) == 0 &&
	    ip_address_is_set(&internet.source) &&
	    !ip_address_is_link_local(&internet.source)) {
		route->source = internet.source;
		return 0;
	}
	failure->failure = FAILURE_NO_GATEWAY;
	snprintf(
		failure->message, sizeof(failure->message),
		"this host has no global IPv6 address toward the gateway to open a pinhole for");
	return -1;
}

int policy_gateway(const struct options *options, int family,
		   struct ip_endpoint *gateway, struct gateway_route *route,
		   struct result *failure)
{
	char text[IP_ADDRESS_TEXT_SIZE];

	memset(failure, 0, sizeof(*failure));
	failure->kind = RESULT_SETUP;
	if (options->gateway_given) {
		*gateway = options->gateway;
		if (gateway_route_to(&gateway->address, route, failure->message,
				     sizeof(failure->message)) < 0)
			diag_verbose("no route to gateway %s: %s",
				     ip_address_format(&gateway->address, text,
						       sizeof(text)),
				     failure->message);
		else
			diag_verbose("using the %s", route->origin);
	} else {
		if (gateway_discover(family, route, failure->message,
				     sizeof(failure->message)) < 0) {
			failure->failure = FAILURE_NO_GATEWAY;
			return -1;
		}
		gateway->address = route->gateway;
		gateway->port = GATEWAY_PORT;
		diag_verbose(
			"gateway %s, from the %s",
			ip_address_format(&route->gateway, text, sizeof(text)),
			route->origin);
	}
	memset(failure->message, 0, sizeof(failure->message));
	if (family == AF_INET6)
		return global_source(route, failure);
	return 0;
}

bool policy_route_needed(const struct options *options, int family)
{
	return !options->gateway_given || family != AF_INET ||
	       diag_verbose_enabled();
}

const struct protocol *policy_protocol(const struct options *options,
				       int family, const struct ledger *ledger,
				       const struct ip_endpoint *gateway,
				       bool *follow_gateway)
{
	*follow_gateway = false;
	if (options->protocol_choice == CHOOSE_PCP)
		return &protocol_pcp;
	if (options->protocol_choice == CHOOSE_NATPMP)
		return &protocol_natpmp;
	/* NAT-PMP has no IPv6 and none of these options */
	if (family == AF_INET6 || options->exact || options->third_party ||
	    options->filter_count)
		return &protocol_pcp;
	*follow_gateway = true;
	/* what answered last time, else NAT-PMP, which costs a NAT-PMP
	 * gateway no extra round trip */
	return protocol_backend(ledger ? ledger_protocol(ledger, gateway)
				       : PROTOCOL_NATPMP);
}

void policy_request(const struct options *options, enum request_kind kind,
		    unsigned transport, uint16_t internal_port,
		    uint16_t suggested_port, struct request *request)
{
	memset(request, 0, sizeof(*request));
	request->kind = kind;
	request->transport = transport;
	request->internal_port = internal_port;
	request->suggested_port = suggested_port;
	request->lifetime = options->lifetime;
	request->exact = options->exact;
	request->third_party = options->third_party;
	request->third_party_address = options->third_party_address;
	memcpy(request->filters, options->filters, sizeof(request->filters));
	request->filter_count = options->filter_count;
}
