/* policy.h - the decisions every command makes the same way, one-shots,
 * renew-loop and the doctor alike: which gateway, which protocol to start
 * in, and what a mapping request carries. */
#ifndef NATPMP_POLICY_H
#define NATPMP_POLICY_H

#include <stdbool.h>

#include "core/result.h"
#include "engine/options.h"
#include "os/os.h"
#include "proto/protocol.h"
#include "state/ledger.h"

/* The gateway named by the user, or else found from the routing table,
 * with the way to it and the source address to send from (for IPv6 a
 * global one, even toward a link-local gateway). Returns 0, or -1 with
 * *failure filled. */
int policy_gateway(const struct options *options, int family,
		   struct ip_endpoint *gateway, struct gateway_route *route,
		   struct result *failure);
/* Whether a one-shot must ask the route before its first request: to
 * find the gateway, to pick an IPv6 source, or to trace the route under
 * -v. Toward a named IPv4 gateway the socket finds its own way, and the
 * route would only tell whether the gateway is a tunnel's far end, which
 * the client asks when that matters (client_tunnel). */
bool policy_route_needed(const struct options *options, int family);

/* The protocol to start with toward gateway, and whether to follow the
 * gateway's answers to the other: --pcp or --nat-pmp, else PCP for IPv6
 * and the PCP-only options, else what the ledger remembers (ledger may be
 * NULL), else NAT-PMP. */
const struct protocol *policy_protocol(const struct options *options,
				       int family, const struct ledger *ledger,
				       const struct ip_endpoint *gateway,
				       bool *follow_gateway);

/* A mapping request (map or delete) with what the options say it
 * carries: lifetime, --exact, --for, --allow-from. */
void policy_request(const struct options *options, enum request_kind kind,
		    unsigned transport, uint16_t internal_port,
		    uint16_t suggested_port, struct request *request);

#endif
