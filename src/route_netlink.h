/* route_netlink.h - decode the kernel's answer to an rtnetlink route
 * lookup (RTM_GETROUTE). Pure: bytes in, facts out, so recorded answers
 * can be tested and fuzzed. Linux only. */
#ifndef NATPMP_ROUTE_NETLINK_H
#define NATPMP_ROUTE_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where the lookup's destination is routed for the route discovery uses. */
#define ROUTE_PROBE_ADDRESS                                                    \
	0xc0000201u /* 192.0.2.1, TEST-NET-1: never
					  * routed specially, so the lookup
					  * lands on the default route */

enum route_answer_status {
	ROUTE_ANSWER_INCOMPLETE, /* no message for our sequence number yet */
	ROUTE_ANSWER_ROUTE,	 /* a route: see has_gateway, interface */
	ROUTE_ANSWER_ERROR,	 /* the kernel answered an error: see error */
	ROUTE_ANSWER_MALFORMED,
};

struct route_answer {
	bool has_gateway;
	uint32_t gateway;      /* host byte order */
	bool gateway_not_ipv4; /* next hop given as an IPv6 address (RTA_VIA) */
	int interface;	       /* output interface index, 0 if none */
	int error;	       /* positive errno for ROUTE_ANSWER_ERROR */
};

/* Encodes the lookup request for destination (host byte order). Returns
 * its length, or 0 if size is too small. */
size_t route_request_encode(uint32_t destination, uint32_t sequence,
			    uint8_t *buffer, size_t size);

enum route_answer_status route_answer_parse(const uint8_t *buffer,
					    size_t length, uint32_t sequence,
					    struct route_answer *answer);

#endif
