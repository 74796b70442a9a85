/* route_netlink.c - build rtnetlink requests and read the kernel's routes,
 * rules, addresses and links. Every header is copied out with memcpy: the
 * bytes may be unaligned, and nothing is trusted to fit until checked. */
#include "os/route_netlink.h"

#include <errno.h>
#include <limits.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

/* Not in glibc's <net/if.h>, and <linux/if.h> clashes with it. */
#define LINK_LOWER_UP 0x10000u

#define BITS_PER_BYTE 8
/* RTNH_ALIGN without its int arithmetic, which -Wsign-conversion flags */
#define ALIGN4(n) (((size_t)(n) + 3u) & ~(size_t)3u)

/* An attribute inside a message's payload. */
struct attribute {
	uint16_t type; /* without the nested and byte-order flags */
	const uint8_t *value;
	size_t length;
};

/* A request being written into a caller's buffer. */
struct writer {
	uint8_t *buffer;
	size_t size;
	size_t length;
	bool overflow;
};

static size_t address_width(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

int netlink_message_next(const uint8_t *datagram, size_t length, size_t *offset,
			 struct netlink_message *message)
{
	struct nlmsghdr header;

	if (*offset >= length || length - *offset < sizeof(header))
		return 0;
	memcpy(&header, datagram + *offset, sizeof(header));
	if (header.nlmsg_len < NLMSG_HDRLEN ||
	    header.nlmsg_len > length - *offset)
		return -1;
	message->type = header.nlmsg_type;
	message->flags = header.nlmsg_flags;
	message->sequence = header.nlmsg_seq;
	message->payload = datagram + *offset + NLMSG_HDRLEN;
	message->length = header.nlmsg_len - NLMSG_HDRLEN;
	*offset += NLMSG_ALIGN(header.nlmsg_len);
	return 1;
}

int netlink_message_error(const struct netlink_message *message, int *error)
{
	int code;

	*error = 0;
	if (message->length < sizeof(code))
		return message->type == NLMSG_DONE ? 0 : -1;
	memcpy(&code, message->payload, sizeof(code));
	if (code == INT_MIN)
		*error = EPROTO; /* no errno is that large */
	else
		*error = code < 0 ? -code : code;
	return 0;
}

/* The attribute at *offset of a payload; moves *offset past it. Returns
 * 1, 0 at the end, or -1 when it runs past the payload. */
static int attribute_next(const uint8_t *payload, size_t length, size_t *offset,
			  struct attribute *a)
{
	struct rtattr header;

	if (*offset >= length || length - *offset < sizeof(header))
		return 0;
	memcpy(&header, payload + *offset, sizeof(header));
	if (header.rta_len < sizeof(header) ||
	    header.rta_len > length - *offset)
		return -1;
	a->type = (uint16_t)(header.rta_type &
			     ~(unsigned)(NLA_F_NESTED | NLA_F_NET_BYTEORDER));
	a->value = payload + *offset + RTA_LENGTH(0);
	a->length = header.rta_len - RTA_LENGTH(0);
	*offset += RTA_ALIGN(header.rta_len);
	return 1;
}

static int u32_from(const struct attribute *a, uint32_t *value)
{
	if (a->length != sizeof(*value))
		return -1;
	memcpy(value, a->value, sizeof(*value));
	return 0;
}

/* An address of family from length bytes; -1 if the size is wrong. */
static int address_from(int family, const uint8_t *value, size_t length,
			struct ip_address *address)
{
	if (!address_width(family) || length != address_width(family))
		return -1;
	if (family == AF_INET6) {
		ip_address_set_v6(address, value, 0);
		return 0;
	}
	memset(address, 0, sizeof(*address));
	address->family = AF_INET;
	memcpy(address->bytes, value, 4);
	return 0;
}

/* RTA_VIA: a next hop of any family, its family first. */
static int via_from(const struct attribute *a, struct ip_address *gateway)
{
	uint16_t family;

	if (a->length < sizeof(family))
		return -1;
	memcpy(&family, a->value, sizeof(family));
	return address_from(family, a->value + sizeof(family),
			    a->length - sizeof(family), gateway);
}

/* A next hop's gateway among a route's or a hop's attributes: 1 when a
 * is one, 0 when it is another attribute, -1 when malformed. */
static int next_hop_from(int family, const struct attribute *a,
			 struct ip_address *gateway)
{
	if (a->type == RTA_GATEWAY)
		return address_from(family, a->value, a->length, gateway) < 0
			       ? -1
			       : 1;
	if (a->type == RTA_VIA)
		return via_from(a, gateway) < 0 ? -1 : 1;
	return 0;
}

/* A link-local IPv6 next hop is only meaningful with its interface. */
static void scope_gateway(struct ip_address *gateway, unsigned interface)
{
	if (gateway->family == AF_INET6 && ip_address_is_link_local(gateway))
		gateway->scope = interface;
}

/* One next hop of RTA_MULTIPATH: its gateway (unset if none). */
static int parse_hop(int family, const uint8_t *p, size_t length,
		     struct ip_address *gateway)
{
	struct attribute a;
	size_t offset = ALIGN4(sizeof(struct rtnexthop));
	int found;

	memset(gateway, 0, sizeof(*gateway));
	while ((found = attribute_next(p, length, &offset, &a)) > 0)
		if (next_hop_from(family, &a, gateway) < 0)
			return -1;
	return found;
}

/* RTA_MULTIPATH: a list of struct rtnexthop, each followed by its own
 * attributes. The first hop with a gateway stands for the route; all are
 * checked. */
static int parse_multipath(const struct attribute *a, struct route_entry *r)
{
	size_t offset = 0;

	while (offset < a->length) {
		struct rtnexthop hop;
		struct ip_address gateway;
		unsigned interface;

		if (a->length - offset < sizeof(hop))
			return -1;
		memcpy(&hop, a->value + offset, sizeof(hop));
		if (hop.rtnh_len < sizeof(hop) ||
		    hop.rtnh_len > a->length - offset ||
		    parse_hop(r->family, a->value + offset, hop.rtnh_len,
			      &gateway) < 0)
			return -1;
		interface =
			hop.rtnh_ifindex > 0 ? (unsigned)hop.rtnh_ifindex : 0;
		if (!r->interface)
			r->interface = interface;
		if (ip_address_is_set(&gateway) &&
		    !ip_address_is_set(&r->gateway)) {
			scope_gateway(&gateway, interface);
			r->gateway = gateway;
			r->interface = interface;
		}
		offset += ALIGN4(hop.rtnh_len);
	}
	return 0;
}

static int route_attribute(struct route_entry *r, const struct attribute *a)
{
	int hop = next_hop_from(r->family, a, &r->gateway);

	if (hop)
		return hop < 0 ? -1 : 0;
	switch (a->type) {
	case RTA_DST:
		return address_from(r->family, a->value, a->length,
				    &r->destination);
	case RTA_PREFSRC:
		return address_from(r->family, a->value, a->length, &r->source);
	case RTA_OIF: return u32_from(a, &r->interface);
	case RTA_PRIORITY: return u32_from(a, &r->metric);
	case RTA_TABLE: return u32_from(a, &r->table);
	case RTA_MULTIPATH: return parse_multipath(a, r);
	default: return 0;
	}
}

int route_entry_parse(const uint8_t *payload, size_t length,
		      struct route_entry *route)
{
	struct rtmsg header;
	struct attribute a;
	size_t offset = NLMSG_ALIGN(sizeof(header));
	int found;

	memset(route, 0, sizeof(*route));
	if (length < sizeof(header))
		return -1;
	memcpy(&header, payload, sizeof(header));
	if (!address_width(header.rtm_family) ||
	    header.rtm_dst_len >
		    address_width(header.rtm_family) * BITS_PER_BYTE)
		return -1;
	route->family = header.rtm_family;
	route->type = header.rtm_type;
	route->prefix_length = header.rtm_dst_len;
	route->cloned = (header.rtm_flags & RTM_F_CLONED) != 0;
	route->table = header.rtm_table;
	route->destination.family = header.rtm_family;
	while ((found = attribute_next(payload, length, &offset, &a)) > 0)
		if (route_attribute(route, &a) < 0)
			return -1;
	if (found < 0)
		return -1;
	scope_gateway(&route->gateway, route->interface);
	scope_gateway(&route->source, route->interface);
	return 0;
}

int rule_entry_parse(const uint8_t *payload, size_t length,
		     struct rule_entry *rule)
{
	struct fib_rule_hdr header;
	struct attribute a;
	size_t offset = NLMSG_ALIGN(sizeof(header));
	int found;

	memset(rule, 0, sizeof(*rule));
	if (length < sizeof(header))
		return -1;
	memcpy(&header, payload, sizeof(header));
	if (!address_width(header.family) ||
	    header.dst_len > address_width(header.family) * BITS_PER_BYTE)
		return -1;
	rule->family = header.family;
	rule->prefix_length = header.dst_len;
	rule->table = header.table;
	rule->destination.family = header.family;
	while ((found = attribute_next(payload, length, &offset, &a)) > 0) {
		if (a.type == FRA_DST &&
		    address_from(rule->family, a.value, a.length,
				 &rule->destination) < 0)
			return -1;
		if (a.type == FRA_TABLE && u32_from(&a, &rule->table) < 0)
			return -1;
	}
	return found < 0 ? -1 : 0;
}

int address_entry_parse(const uint8_t *payload, size_t length,
			struct address_entry *address)
{
	struct ifaddrmsg header;
	struct attribute a;
	struct ip_address local = { .family = AF_UNSPEC };
	size_t offset = NLMSG_ALIGN(sizeof(header));
	int found;

	memset(address, 0, sizeof(*address));
	if (length < sizeof(header))
		return -1;
	memcpy(&header, payload, sizeof(header));
	if (!address_width(header.ifa_family) ||
	    header.ifa_prefixlen >
		    address_width(header.ifa_family) * BITS_PER_BYTE)
		return -1;
	address->family = header.ifa_family;
	address->prefix_length = header.ifa_prefixlen;
	address->scope = header.ifa_scope;
	address->flags = header.ifa_flags;
	address->interface = header.ifa_index;
	while ((found = attribute_next(payload, length, &offset, &a)) > 0) {
		int bad = 0;
		if (a.type == IFA_ADDRESS)
			bad = address_from(address->family, a.value, a.length,
					   &address->address);
		else if (a.type == IFA_LOCAL)
			bad = address_from(address->family, a.value, a.length,
					   &local);
		else if (a.type == IFA_FLAGS) /* all 32 bits of the flags */
			bad = u32_from(&a, &address->flags);
		if (bad)
			return -1;
	}
	/* on a point-to-point link IFA_ADDRESS is the peer's */
	if (ip_address_is_set(&local))
		address->address = local;
	scope_gateway(&address->address, address->interface);
	return found < 0 || !ip_address_is_set(&address->address) ? -1 : 0;
}

int address_entry_rank(const struct address_entry *address)
{
	int rank = 0;

	if (address->flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED) ||
	    address->scope >= RT_SCOPE_LINK ||
	    (address->address.family == AF_INET6 &&
	     ip_address_is_link_local(&address->address)))
		return -1;
	if (address->flags & IFA_F_DEPRECATED)
		rank += 2;
	/* IPv4 secondary addresses and IPv6 temporary (privacy) ones share
	 * this bit: either way the other address is the host's own */
	if (address->flags & IFA_F_SECONDARY)
		rank += 1;
	return rank;
}

int link_entry_parse(const uint8_t *payload, size_t length,
		     struct link_entry *link)
{
	struct ifinfomsg header;

	memset(link, 0, sizeof(*link));
	if (length < sizeof(header))
		return -1;
	memcpy(&header, payload, sizeof(header));
	link->index = header.ifi_index > 0 ? (unsigned)header.ifi_index : 0;
	link->flags = header.ifi_flags;
	return 0;
}

bool link_entry_usable(const struct link_entry *link)
{
	unsigned needed = IFF_UP | IFF_RUNNING | LINK_LOWER_UP;

	return (link->flags & needed) == needed;
}

static void prefix_from(const struct ip_address *address, uint8_t length,
			struct route_prefix *prefix)
{
	memset(prefix, 0, sizeof(*prefix));
	memcpy(prefix->bytes, address->bytes, address_width(address->family));
	prefix->length = length;
}

int route_dump_prefix(const struct netlink_message *message, int family,
		      struct route_prefix *prefix)
{
	struct route_entry route;
	struct rule_entry rule;

	if (message->type == RTM_NEWROUTE) {
		if (route_entry_parse(message->payload, message->length,
				      &route) < 0)
			return -1;
		if (route.family != family || route.prefix_length == 0)
			return 0;
		prefix_from(&route.destination, route.prefix_length, prefix);
		return 1;
	}
	if (message->type == RTM_NEWRULE) {
		if (rule_entry_parse(message->payload, message->length, &rule) <
		    0)
			return -1;
		if (rule.family != family || rule.prefix_length == 0)
			return 0;
		prefix_from(&rule.destination, rule.prefix_length, prefix);
		return 1;
	}
	return 0;
}

const char *route_type_name(uint8_t type)
{
	static const char *const names[] = {
		[RTN_UNSPEC] = "unspec",
		[RTN_UNICAST] = "unicast",
		[RTN_LOCAL] = "local",
		[RTN_BROADCAST] = "broadcast",
		[RTN_ANYCAST] = "anycast",
		[RTN_MULTICAST] = "multicast",
		[RTN_BLACKHOLE] = "blackhole",
		[RTN_UNREACHABLE] = "unreachable",
		[RTN_PROHIBIT] = "prohibit",
		[RTN_THROW] = "throw",
		[RTN_NAT] = "nat",
		[RTN_XRESOLVE] = "xresolve",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "unknown";
}

enum route_answer_status route_answer_parse(const uint8_t *datagram,
					    size_t length, uint32_t sequence,
					    struct route_answer *answer)
{
	struct netlink_message message;
	size_t offset = 0;
	int found;

	memset(answer, 0, sizeof(*answer));
	while ((found = netlink_message_next(datagram, length, &offset,
					     &message)) > 0) {
		if (message.sequence != sequence)
			continue;
		if (message.type == NLMSG_ERROR) {
			/* an acknowledgement is no answer to a lookup */
			if (netlink_message_error(&message, &answer->error) <
				    0 ||
			    answer->error == 0)
				return ROUTE_ANSWER_MALFORMED;
			return ROUTE_ANSWER_ERROR;
		}
		if (message.type == RTM_NEWROUTE)
			return route_entry_parse(message.payload,
						 message.length,
						 &answer->route) < 0
				       ? ROUTE_ANSWER_MALFORMED
				       : ROUTE_ANSWER_ROUTE;
	}
	return found < 0 ? ROUTE_ANSWER_MALFORMED : ROUTE_ANSWER_INCOMPLETE;
}

static void watch_message(const struct netlink_message *message,
			  unsigned interface, struct network_news *news)
{
	struct link_entry link;

	switch (message->type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		news->changed = true;
		if (!interface || link_entry_parse(message->payload,
						   message->length, &link) < 0)
			return;
		if (link.index == interface &&
		    (message->type == RTM_DELLINK || !link_entry_usable(&link)))
			news->interface_down = true;
		return;
	case RTM_NEWADDR:
	case RTM_DELADDR:
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
	case RTM_NEWRULE:
	case RTM_DELRULE: news->changed = true; return;
	default: return;
	}
}

void route_watch_parse(const uint8_t *datagram, size_t length,
		       unsigned interface, struct network_news *news)
{
	struct netlink_message message;
	size_t offset = 0;
	int found;

	while ((found = netlink_message_next(datagram, length, &offset,
					     &message)) > 0)
		watch_message(&message, interface, news);
	if (found < 0)
		news->changed = true;
}

/* Appends bytes, then zeros up to the next 4-byte boundary. */
static void write_bytes(struct writer *w, const void *bytes, size_t length)
{
	size_t padded = RTA_ALIGN(length);

	if (w->overflow || w->size - w->length < padded) {
		w->overflow = true;
		return;
	}
	memset(w->buffer + w->length, 0, padded);
	memcpy(w->buffer + w->length, bytes, length);
	w->length += padded;
}

static void write_attribute(struct writer *w, uint16_t type, const void *value,
			    size_t length)
{
	struct rtattr header = { .rta_len = (unsigned short)RTA_LENGTH(length),
				 .rta_type = type };

	write_bytes(w, &header, sizeof(header));
	write_bytes(w, value, length);
}

/* Writes the netlink header last, now that the length is known. */
static size_t write_header(struct writer *w, uint16_t type, uint16_t flags,
			   uint32_t sequence)
{
	struct nlmsghdr header = {
		.nlmsg_len = (uint32_t)w->length,
		.nlmsg_type = type,
		.nlmsg_flags = flags,
		.nlmsg_seq = sequence,
	};

	if (w->overflow)
		return 0;
	memcpy(w->buffer, &header, sizeof(header));
	return w->length;
}

size_t route_lookup_encode(const struct route_lookup *lookup, uint32_t sequence,
			   uint8_t *buffer, size_t size)
{
	struct writer w = { .buffer = buffer, .size = size };
	struct rtmsg route;
	size_t width = address_width(lookup->destination.family);
	bool from = lookup->source.family == lookup->destination.family;
	uint32_t interface = lookup->interface;

	if (!width || size < NLMSG_HDRLEN)
		return 0;
	memset(&route, 0, sizeof(route));
	route.rtm_family = (uint8_t)lookup->destination.family;
	route.rtm_dst_len = (uint8_t)(width * BITS_PER_BYTE);
	route.rtm_src_len = from ? route.rtm_dst_len : 0;
	/* without RTM_F_LOOKUP_TABLE the answer says "main" whatever table
	 * the route is in */
	route.rtm_flags =
		RTM_F_LOOKUP_TABLE | (lookup->fib_match ? RTM_F_FIB_MATCH : 0u);
	w.length = NLMSG_HDRLEN;
	write_bytes(&w, &route, sizeof(route));
	write_attribute(&w, RTA_DST, lookup->destination.bytes, width);
	if (from)
		write_attribute(&w, RTA_SRC, lookup->source.bytes, width);
	if (interface)
		write_attribute(&w, RTA_OIF, &interface, sizeof(interface));
	return write_header(&w, RTM_GETROUTE, NLM_F_REQUEST, sequence);
}

size_t route_dump_encode(uint16_t type, int family, uint32_t sequence,
			 uint8_t *buffer, size_t size)
{
	struct writer w = { .buffer = buffer, .size = size };
	struct rtmsg route = { .rtm_family = (uint8_t)family };
	struct fib_rule_hdr rule = { .family = (uint8_t)family };
	struct ifaddrmsg address = { .ifa_family = (uint8_t)family };

	if (size < NLMSG_HDRLEN)
		return 0;
	w.length = NLMSG_HDRLEN;
	if (type == RTM_GETROUTE)
		write_bytes(&w, &route, sizeof(route));
	else if (type == RTM_GETRULE)
		write_bytes(&w, &rule, sizeof(rule));
	else if (type == RTM_GETADDR)
		write_bytes(&w, &address, sizeof(address));
	else
		return 0;
	return write_header(&w, type, NLM_F_REQUEST | NLM_F_DUMP, sequence);
}
