/* route_probe.h - choose the destination whose route lookup can only land
 * on the route the host's internet traffic takes. Pure and portable. */
#ifndef NATPMP_ROUTE_PROBE_H
#define NATPMP_ROUTE_PROBE_H

#include <stddef.h>
#include <stdint.h>

#define ROUTE_PROBE_MAX_BYTES 16

/* A destination prefix of a route or a policy rule. */
struct route_prefix {
	uint8_t bytes[ROUTE_PROBE_MAX_BYTES]; /* network order; 4 for IPv4 */
	uint8_t length;			      /* in bits */
};

/* Among internet addresses (IPv4 1.0.0.0-223.255.255.255 without 127/8;
 * IPv6 2000::/3), the lowest one whose most specific covering prefix is
 * the shortest: in practice an address no prefix covers at all, which only
 * a default route can match. Prefixes of length 0 or longer than the
 * family's addresses are ignored; host bits are cleared. Sorts prefixes in
 * place. Writes the address (4 or 16 bytes) to destination and returns the
 * length of its most specific covering prefix (0: none covers it), or -1
 * for a family other than AF_INET and AF_INET6. */
int route_probe_pick(int family, struct route_prefix *prefixes, size_t count,
		     uint8_t destination[ROUTE_PROBE_MAX_BYTES]);

#endif
