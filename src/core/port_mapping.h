/* port_mapping.h - the words every floor shares, each defined once: the
 * transports a mapping is for, the two port-mapping protocols, the ports
 * they use (RFC 6886 section 3.1 and 3.2.1, RFC 6887 section 19.1), the
 * size of a PCP mapping nonce, and a remote-peer filter. */
#ifndef NATPMP_PORT_MAPPING_H
#define NATPMP_PORT_MAPPING_H

#include <stdint.h>

#include "core/ip_address.h"

/* the gateway listens here, for NAT-PMP and PCP alike */
#define GATEWAY_PORT 5351
/* and announces restarts and new addresses to this port of its clients */
#define ANNOUNCE_PORT 5350

/* A mapping's transport protocol; a port may name both. */
enum transport {
	TRANSPORT_UDP = 1,
	TRANSPORT_TCP = 2,
	TRANSPORT_BOTH = TRANSPORT_UDP | TRANSPORT_TCP,
};

/* "udp", "tcp" or "both", as the command line, the output and the state
 * file spell them. */
const char *transport_name(unsigned transport);

/* The port-mapping protocol spoken, or none yet. */
enum protocol_id {
	PROTOCOL_NONE,
	PROTOCOL_NATPMP, /* RFC 6886 */
	PROTOCOL_PCP,	 /* RFC 6887 */
};

/* "NAT-PMP", "PCP": for people. */
const char *protocol_name(enum protocol_id protocol);
/* "nat-pmp", "pcp": for JSON, hooks and the state file; NULL for none. */
const char *protocol_key(enum protocol_id protocol);

/* PCP's mapping nonce (RFC 6887 section 11.1): a mapping keeps it for
 * life, across runs */
#define NONCE_SIZE 12

/* --allow-from, sent as PCP FILTER options (RFC 6887 section 13.3) */
#define FILTER_MAX 8

/* A remote peer, or a network of them, allowed to come in. */
struct port_filter {
	struct ip_address address;
	unsigned prefix_length; /* of address's own family: 0-32 or 0-128 */
	uint16_t port;		/* 0: any */
};

#endif
