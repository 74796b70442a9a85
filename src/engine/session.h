/* session.h - what the one-shot commands share: finding the gateway of
 * each address family asked for, choosing the protocol (remembered per
 * gateway in the state directory), running each request on the event loop
 * to completion within the command's timeout, printing each result, and
 * keeping the first failure's exit status. */
#ifndef NATPMP_SESSION_H
#define NATPMP_SESSION_H

#include "engine/client.h"
#include "engine/eloop.h"
#include "engine/options.h"
#include "os/gateway.h"
#include "out/output.h"
#include "state/ledger.h"

struct session {
	const struct options *options;
	int family;
	struct eloop loop;
	struct client client;
	struct output *output;
	int64_t deadline_ms; /* --timeout, or the protocol's patience */
	int exit_status;     /* the first failure's, or EXIT_OK */
	/* once the gateway went silent, later requests fail at once */
	bool silenced;
	struct result silence;
	bool done;
	struct ledger *ledger; /* what is kept between runs */
};

/* The body of a command, run once per address family asked for. */
typedef void (*session_body)(struct session *session);

/* Runs body in a session per family (IPv4 first); returns the exit
 * status of the first failure, or EXIT_OK. */
int session_run_families(const struct options *options, session_body body);

/* Runs request to completion and fills *result; for a map or delete over
 * PCP, brings the mapping's nonce from the state and records what the
 * gateway did. */
void session_run(struct session *session, const struct request *request,
		 struct result *result);
/* Prints a result and records its exit status if it is the first failure. */
void session_report(struct session *session, const struct result *result);

/* A request for a mapping from the command line's options. */
void session_request(const struct options *options, enum request_kind kind,
		     unsigned transport, uint16_t internal_port,
		     uint16_t suggested_port, struct request *request);

/* The gateway named by the user, or else found from the routing table,
 * with the way to it and the source address to send from (for IPv6 a
 * global one, even toward a link-local gateway). Returns 0, or -1 with
 * *failure filled. */
int session_find_gateway(const struct options *options, int family,
			 struct ip_endpoint *gateway,
			 struct gateway_route *route, struct result *failure);

/* The protocol to start with toward gateway, and whether to follow the
 * gateway's answers to the other: --pcp or --nat-pmp, else PCP for IPv6
 * and the PCP-only options, else what the state remembers, else NAT-PMP. */
const struct protocol *session_protocol(const struct options *options,
					int family, const struct ledger *ledger,
					const struct ip_endpoint *gateway,
					bool *follow_gateway);

#endif
