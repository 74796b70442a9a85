/* route_netlink.h - the rtnetlink messages gateway discovery sends and
 * reads: route lookups, dumps of routes, rules and addresses, and the
 * notifications of the network watch. Pure: bytes in, facts out, so
 * recorded kernel answers can be tested and fuzzed. Linux only. */
#ifndef NATPMP_ROUTE_NETLINK_H
#define NATPMP_ROUTE_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ip_address.h"
#include "os/os.h"
#include "os/route_probe.h"

/* One message of a datagram; payload points into the datagram. */
struct netlink_message {
	uint16_t type;
	uint16_t flags;
	uint32_t sequence;
	const uint8_t *payload;
	size_t length;
};

/* The message at *offset in a datagram; moves *offset past it. Returns 1,
 * 0 at the end of the datagram, or -1 when the message is malformed. */
int netlink_message_next(const uint8_t *datagram, size_t length, size_t *offset,
			 struct netlink_message *message);

/* The error carried by an NLMSG_ERROR or NLMSG_DONE message: sets *error
 * to a positive errno, or 0 for an acknowledgement or a clean end.
 * Returns 0, or -1 if the message is too short. */
int netlink_message_error(const struct netlink_message *message, int *error);

struct route_lookup {
	struct ip_address destination; /* AF_INET or AF_INET6 */
	struct ip_address source;      /* unset: the kernel chooses */
	unsigned interface;	       /* output interface, 0 for any */
	bool fib_match;		       /* answer with the matched route */
};

/* An RTM_GETROUTE request for one destination. Returns its length, or 0
 * when size is too small or the destination is not IPv4 or IPv6. */
size_t route_lookup_encode(const struct route_lookup *lookup, uint32_t sequence,
			   uint8_t *buffer, size_t size);

/* A dump request: type is RTM_GETROUTE, RTM_GETRULE or RTM_GETADDR.
 * Returns its length, or 0 when size is too small. */
size_t route_dump_encode(uint16_t type, int family, uint32_t sequence,
			 uint8_t *buffer, size_t size);

/* A route: an entry of the routing tables, or a lookup's answer. */
struct route_entry {
	int family;
	uint8_t type;	       /* RTN_UNICAST, RTN_UNREACHABLE, ... */
	uint8_t prefix_length; /* of destination */
	bool cloned;	       /* a lookup's result, not a table entry */
	struct ip_address destination; /* 0.0.0.0 or :: for a default */
	uint32_t table;
	uint32_t metric;
	unsigned interface; /* output interface, 0 if none */
	/* the next hop (the first of a multipath route), unset if none; an
	 * IPv4 route can have an IPv6 next hop; a link-local one carries
	 * its interface as scope */
	struct ip_address gateway;
	struct ip_address source; /* preferred source, unset if none */
};

/* The payload of an RTM_NEWROUTE or RTM_DELROUTE message. Returns 0, or
 * -1 when it is malformed or neither IPv4 nor IPv6. */
int route_entry_parse(const uint8_t *payload, size_t length,
		      struct route_entry *route);

/* The payload of an RTM_NEWRULE or RTM_DELRULE message, reduced to what
 * discovery needs: the destination prefix a rule applies to ("to"). */
struct rule_entry {
	int family;
	uint8_t prefix_length; /* 0: the rule applies to every destination */
	struct ip_address destination;
	uint32_t table;
};

int rule_entry_parse(const uint8_t *payload, size_t length,
		     struct rule_entry *rule);

/* The payload of an RTM_NEWADDR or RTM_DELADDR message. */
struct address_entry {
	int family;
	uint8_t prefix_length;
	uint8_t scope;	/* RT_SCOPE_UNIVERSE, RT_SCOPE_LINK, ... */
	uint32_t flags; /* IFA_F_* */
	unsigned interface;
	struct ip_address address; /* this host's own (IFA_LOCAL first) */
};

int address_entry_parse(const uint8_t *payload, size_t length,
			struct address_entry *address);

/* How good an address is as the one this host asks for mappings with:
 * 0 is best, higher is worse, -1 never (link or host scope, tentative,
 * failed duplicate detection). */
int address_entry_rank(const struct address_entry *address);

/* The payload of an RTM_NEWLINK or RTM_DELLINK message. */
struct link_entry {
	unsigned index;
	unsigned flags; /* IFF_* */
};

int link_entry_parse(const uint8_t *payload, size_t length,
		     struct link_entry *link);

/* Up, with a carrier, and operational. */
bool link_entry_usable(const struct link_entry *link);

/* The destination prefix a dump message adds to the set the probe must
 * avoid: a route's or a rule's. Returns 1 with *prefix, 0 when the
 * message adds none (another type or family, a prefix of length 0), or
 * -1 when it is malformed. */
int route_dump_prefix(const struct netlink_message *message, int family,
		      struct route_prefix *prefix);

/* "unreachable", "blackhole", ... for an RTN_* route type. */
const char *route_type_name(uint8_t type);

enum route_answer_status {
	ROUTE_ANSWER_INCOMPLETE, /* no message for our sequence number yet */
	ROUTE_ANSWER_ROUTE,	 /* a route: see route */
	ROUTE_ANSWER_ERROR,	 /* the kernel answered an error: see error */
	ROUTE_ANSWER_MALFORMED,
};

struct route_answer {
	struct route_entry route;
	int error; /* positive errno for ROUTE_ANSWER_ERROR */
};

/* Reads a datagram for the answer to the lookup numbered sequence. */
enum route_answer_status route_answer_parse(const uint8_t *datagram,
					    size_t length, uint32_t sequence,
					    struct route_answer *answer);

/* Adds what a datagram of notifications says to *news: any route, rule,
 * address or link message is a change; a link message saying interface
 * (an index, 0 for none) is down, has lost its carrier or is gone sets
 * interface_down. A malformed datagram counts as a change. */
void route_watch_parse(const uint8_t *datagram, size_t length,
		       unsigned interface, struct network_news *news);

#endif
