/* os.h - the seam between natpmp and the operating system: everything
 * one kernel does differently from another is behind the functions below,
 * and no other file tests which system it is built for. On Linux they
 * are provided by route_linux.c (routes and the network watch, over
 * rtnetlink) and os_linux.c (the rest); elsewhere by os_other.c, which
 * asks for --gateway and falls back to what POSIX offers.
 *
 * Discovery: where requests go when the user names no gateway: the next
 * hop of the route the host's internet traffic takes, policy routing rules
 * honoured; the interface and source address toward a gateway; and a watch
 * on the network so a long-running client notices when any of that
 * changes. */
#ifndef NATPMP_OS_H
#define NATPMP_OS_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
	/* the way to the gateway is a point-to-point link without a next
	 * hop, such as a VPN tunnel (interface and interface_name say
	 * which): a gateway is reached directly over it, or discovery failed
	 * because the default route goes through it */
	bool tunnel;
	/* a named gateway (gateway_route_to): the router the kernel sends its
	 * datagrams through; unset when the gateway is on a link of this
	 * host, a neighbour or the far end of a tunnel */
	struct ip_address next_hop;
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
 * kernel uses to reach it (route->gateway is set to gateway), the router
 * in between if any (next_hop), and whether it is the far end of a tunnel.
 * Returns 0, or -1 with one line in error (no route to it). */
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

/* Readies an announcement listener of family: it hears only the groups
 * it joined, on the interfaces it joined them (not every group another
 * program of the host joined), and learns the interface each datagram
 * came in on. Returns 0, or -1 with errno. */
int os_listener_options(int fd, int family);
/* Reads one datagram into buffer (a longer one is cut, and its whole
 * length returned), with its source and the index of the interface it
 * came in on (0 when that cannot be told). Returns its length, or -1 with
 * errno (EAGAIN: none queued). */
ssize_t os_receive(int fd, void *buffer, size_t size, struct ip_endpoint *from,
		   unsigned *interface);

/* Whether the interface is up and running (has its carrier); true when
 * that cannot be told. */
bool os_interface_running(const char *name);
/* Whether the interface is a point-to-point link (a tunnel: WireGuard,
 * OpenVPN's tun); false when that cannot be told. */
bool os_interface_point_to_point(const char *name);

/* Whether address is one of this host's (os_local.c, on every system);
 * true when that cannot be told. */
bool os_address_is_local(const struct ip_address *address);

/* Fills buffer with size bytes from the kernel's random source. Returns
 * 0, or -1 with errno. */
int os_random(void *buffer, size_t size);
/* A random number from the same source, for the random factors of the
 * RFCs' timers (RFC 6887 section 8.1.1's RAND, renewals spread over
 * 1/2-5/8 of a lifetime, restarts' 0-5 s): never the same sequence on two
 * hosts or in two runs. os_random.c, on every system. */
uint32_t os_random_number(void);

/* The event loop's clock: a descriptor that becomes readable at an
 * absolute time on clock_now_ms() (CLOCK_BOOTTIME), so that a sleep that
 * outlived a deadline wakes the loop at once on resume. Returns the
 * descriptor, or -1 where there is none (the loop then sleeps in poll's
 * timeout). */
int os_wake_timer_open(void);
/* Arms it for at_ms (INT64_MAX: disarms). Returns 0, or -1 with errno. */
int os_wake_timer_set(int fd, int64_t at_ms);
/* Takes the expiry it reports, once readable. */
void os_wake_timer_clear(int fd);

#endif
