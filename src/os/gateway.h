/* gateway.h - where requests go when the user names no gateway: the next
 * hop of the route the host's internet traffic takes, policy routing rules
 * honoured; the interface and source address toward a gateway; and a watch
 * on the network so a long-running client notices when any of that
 * changes. One implementation per OS family (gateway_linux.c,
 * gateway_other.c). */
#ifndef NATPMP_GATEWAY_H
#define NATPMP_GATEWAY_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/ip_address.h"

#define GATEWAY_ORIGIN_SIZE 160

struct gateway_route {
	struct ip_address gateway; /* the next hop */
	struct ip_address source;  /* this host's address toward it */
	unsigned interface;	   /* its index, 0 if unknown */
	char interface_name[IF_NAMESIZE];
	/* how the route was chosen, one line for -v, e.g. "default route
	 * 0.0.0.0/0 in table main via 192.0.2.1 dev eth0 metric 100" */
	char origin[GATEWAY_ORIGIN_SIZE];
	/* discovery: the route came from a table other than main, so a
	 * policy rule chose it */
	bool policy;
	/* discovery failed because the default route is a point-to-point
	 * link without a next hop, such as a VPN tunnel (interface and
	 * interface_name say which) */
	bool tunnel;
};

/* The route of family (AF_INET or AF_INET6) that the host's traffic to the
 * internet takes, as the kernel chooses it for this process, and the source
 * address toward its next hop. Returns 0, or -1 with one line in error:
 * no such route, or a route without a next hop (a point-to-point link such
 * as a VPN tunnel, named in the message with the advice to pass
 * --gateway). */
int gateway_discover(int family, struct gateway_route *route, char *error,
		     size_t size);

/* For a gateway the user named: the interface and source address the
 * kernel uses to reach it (route->gateway is set to gateway). Returns 0,
 * or -1 with one line in error (no route to it). */
int gateway_route_to(const struct ip_address *gateway,
		     struct gateway_route *route, char *error, size_t size);

/* What the network watch read since the last call. */
struct network_news {
	bool changed;	     /* routes, rules, addresses or links changed */
	bool interface_down; /* the watched interface lost its carrier, was
				set down or was removed */
};

/* A descriptor that becomes readable when routes, policy rules, addresses
 * or links change (both families); -1 where not supported. */
int gateway_watch_open(void);
/* Reads every queued notification into *news (which it clears first);
 * interface is the index of the interface in use, or 0. */
void gateway_watch_read(int fd, unsigned interface, struct network_news *news);

#endif
