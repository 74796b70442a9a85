/* route_linux.c - gateway discovery through rtnetlink: the kernel itself
 * names the route it gives internet traffic, asked for a destination that
 * no narrower route or rule can catch; and a watch on the network. */
#include "os/os.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "os/route_netlink.h"
#include "os/route_probe.h"

/* The kernel fills a dump datagram up to the reader's buffer, 32 KiB at
 * most. */
#define NETLINK_DATAGRAM_SIZE 32768
#define REQUEST_SIZE 128
/* notification datagrams read per wake-up at most */
#define WATCH_READS_PER_TURN 16
/* How often a dump that changed while it was read is read again. */
#define DUMP_ATTEMPTS 3
/* netlink_talk's "the answer goes on in the next datagram" */
#define STILL_TALKING (-2)

struct netlink {
	int fd;
	uint32_t sequence;
	bool interrupted; /* NLM_F_DUMP_INTR: the tables changed mid-dump */
	char *error;	  /* where a failure is described */
	size_t error_size;
	uint8_t datagram[NETLINK_DATAGRAM_SIZE];
};

/* Takes one message of an answer; returns 0, or an errno value that ends
 * the conversation as a failure. */
typedef int (*netlink_handler)(void *context,
			       const struct netlink_message *message);

static int fail(struct netlink *nl, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/* Describes a failure in nl->error; returns -1. */
static int fail(struct netlink *nl, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	vsnprintf(nl->error, nl->error_size, format, ap);
	va_end(ap);
	return -1;
}

static int netlink_open(struct netlink *nl, char *error, size_t size)
{
	nl->sequence = 0;
	nl->interrupted = false;
	nl->error = error;
	nl->error_size = size;
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl->fd < 0)
		return fail(nl, "cannot ask the kernel for routes: %s",
			    strerror(errno));
	return 0;
}

/* Reads one datagram of the answer numbered sequence and hands its
 * messages to handle. Returns 0 when the answer is complete (NLMSG_DONE
 * of a dump, the one message of a lookup), STILL_TALKING, the errno the
 * kernel answered (> 0), or -1 with a line in nl->error. */
static int receive_answer(struct netlink *nl, uint32_t sequence, bool dump,
			  netlink_handler handle, void *context)
{
	struct sockaddr_nl from;
	socklen_t from_length = sizeof(from);
	struct netlink_message message;
	size_t offset = 0;
	int found, error;
	/* rtnetlink answers in the asker's own system calls: a lookup is
	 * queued before sendto returns, and each part of a dump is made as
	 * the one before it is read. So a receive never has to wait, and one
	 * that would is a kernel that did not answer: nothing here blocks
	 * the event loop. */
	ssize_t n = recvfrom(nl->fd, nl->datagram, sizeof(nl->datagram),
			     MSG_TRUNC | MSG_DONTWAIT, (struct sockaddr *)&from,
			     &from_length);

	if (n < 0 && errno == EINTR)
		return STILL_TALKING;
	if (n < 0)
		return fail(nl, "no answer from the kernel: %s",
			    strerror(errno));
	if ((size_t)n > sizeof(nl->datagram))
		return fail(nl, "the kernel's answer is too large to read");
	if (from.nl_pid != 0)
		return STILL_TALKING; /* not from the kernel */
	while ((found = netlink_message_next(nl->datagram, (size_t)n, &offset,
					     &message)) > 0) {
		if (message.sequence != sequence)
			continue;
		if (message.flags & NLM_F_DUMP_INTR)
			nl->interrupted = true;
		if (message.type == NLMSG_ERROR || message.type == NLMSG_DONE) {
			if (netlink_message_error(&message, &error) < 0 ||
			    (message.type == NLMSG_ERROR && error == 0))
				break; /* an acknowledgement answers nothing */
			return error;
		}
		error = handle(context, &message);
		if (error)
			return fail(nl, "cannot read the kernel's routes: %s",
				    strerror(error));
		if (!dump)
			return 0;
	}
	if (found == 0)
		return STILL_TALKING;
	return fail(nl, "cannot read the kernel's routes: %s",
		    strerror(EBADMSG));
}

/* Sends request (length 0: it did not fit) and hands each message of the
 * answer to handle. Returns 0, the errno the kernel answered (> 0), or -1
 * with a line in nl->error. */
static int netlink_talk(struct netlink *nl, const uint8_t *request,
			size_t length, netlink_handler handle, void *context)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct nlmsghdr header;
	int status = STILL_TALKING;

	if (length < sizeof(header))
		return fail(nl, "cannot ask the kernel for routes: %s",
			    strerror(EMSGSIZE));
	memcpy(&header, request, sizeof(header));
	if (sendto(nl->fd, request, length, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return fail(nl, "cannot ask the kernel for routes: %s",
			    strerror(errno));
	while (status == STILL_TALKING)
		status = receive_answer(nl, header.nlmsg_seq,
					header.nlmsg_flags & NLM_F_DUMP, handle,
					context);
	return status;
}

static uint32_t next_sequence(struct netlink *nl)
{
	return ++nl->sequence;
}

/* The prefixes the probe destination must stay out of. */
struct prefix_list {
	int family;
	struct route_prefix *items;
	size_t count, capacity;
};

static int collect_prefix(void *context, const struct netlink_message *m)
{
	struct prefix_list *list = context;
	struct route_prefix prefix;
	int found = route_dump_prefix(m, list->family, &prefix);

	if (found <= 0)
		return found < 0 ? EBADMSG : 0;
	if (list->count == list->capacity) {
		size_t capacity = list->capacity ? 2 * list->capacity : 64;
		struct route_prefix *items;
		if (capacity > SIZE_MAX / sizeof(*items))
			return ENOMEM;
		items = realloc(list->items, capacity * sizeof(*items));
		if (!items)
			return ENOMEM;
		list->items = items;
		list->capacity = capacity;
	}
	list->items[list->count++] = prefix;
	return 0;
}

/* Adds the destination prefixes of one dump (type RTM_GETROUTE or
 * RTM_GETRULE) to list. */
static int dump_prefixes(struct netlink *nl, uint16_t type,
			 struct prefix_list *list)
{
	uint8_t request[REQUEST_SIZE];
	size_t length = route_dump_encode(type, list->family, next_sequence(nl),
					  request, sizeof(request));
	int status = netlink_talk(nl, request, length, collect_prefix, list);

	if (status > 0)
		return fail(nl, "cannot list the kernel's routes: %s",
			    strerror(status));
	return status;
}

/* The destination prefixes of every route (all tables, all types) and
 * every policy rule of the family. */
static int collect_prefixes(struct netlink *nl, struct prefix_list *list)
{
	int attempt;

	for (attempt = 0; attempt < DUMP_ATTEMPTS; attempt++) {
		list->count = 0;
		nl->interrupted = false;
		if (dump_prefixes(nl, RTM_GETROUTE, list) < 0 ||
		    dump_prefixes(nl, RTM_GETRULE, list) < 0)
			return -1;
		/* still changing after the last attempt: the lookup itself
		 * is consistent, only the choice of destination may be less
		 * good */
		if (!nl->interrupted)
			break;
	}
	return 0;
}

/* The lookup destination only the internet route can match. */
static int pick_destination(struct netlink *nl, int family,
			    struct ip_address *destination)
{
	struct prefix_list list = { .family = family };
	uint8_t bytes[ROUTE_PROBE_MAX_BYTES];
	int status = collect_prefixes(nl, &list);

	if (status < 0)
		goto out;
	route_probe_pick(family, list.items, list.count, bytes);
	memset(destination, 0, sizeof(*destination));
	destination->family = family;
	memcpy(destination->bytes, bytes, sizeof(destination->bytes));
out:
	free(list.items);
	return status;
}

static int take_route(void *context, const struct netlink_message *m)
{
	if (m->type != RTM_NEWROUTE ||
	    route_entry_parse(m->payload, m->length, context) < 0)
		return EBADMSG;
	return 0;
}

/* One route lookup. Returns 0 with *route, the errno the kernel answered
 * (> 0), or -1 with a line in nl->error. */
static int look_up(struct netlink *nl, const struct route_lookup *lookup,
		   struct route_entry *route)
{
	uint8_t request[REQUEST_SIZE];
	size_t length = route_lookup_encode(lookup, next_sequence(nl), request,
					    sizeof(request));

	memset(route, 0, sizeof(*route));
	return netlink_talk(nl, request, length, take_route, route);
}

/* The lookup connect() makes: for IPv4 the kernel looks up an unbound
 * socket's route a second time from the source the first lookup chose, so
 * rules on the source ("from") count; IPv6 keeps its first answer. Sets
 * lookup->source to that source. */
static int look_up_as_connect(struct netlink *nl, struct route_lookup *lookup,
			      struct route_entry *route)
{
	int status = look_up(nl, lookup, route);

	if (status == 0 && lookup->destination.family == AF_INET &&
	    !ip_address_is_set(&lookup->source) &&
	    ip_address_is_set(&route->source)) {
		lookup->source = route->source;
		status = look_up(nl, lookup, route);
		/* the answer names no preferred source: it is the one given */
		if (status == 0)
			route->source = lookup->source;
	}
	return status;
}

/* The matched table entry itself, for -v: RTM_F_FIB_MATCH (Linux 4.13)
 * names its prefix, table and metric. Older kernels refuse the flag, or
 * ignore it and answer a plain lookup, recognisable by its host-length
 * prefix (the probe is never a host route's). */
static bool look_up_match(struct netlink *nl, struct route_lookup *lookup,
			  struct route_entry *matched)
{
	size_t host_length = lookup->destination.family == AF_INET ? 32 : 128;

	lookup->fib_match = true;
	return look_up(nl, lookup, matched) == 0 && !matched->cloned &&
	       matched->prefix_length < host_length;
}

static void interface_name(unsigned index, char name[IF_NAMESIZE])
{
	if (!index)
		snprintf(name, IF_NAMESIZE, "?");
	else if (!if_indextoname(index, name))
		snprintf(name, IF_NAMESIZE, "%u", index);
}

/* An address as -v shows it next to "dev": without its scope. */
static const char *plain_address(const struct ip_address *address, char *text,
				 size_t size)
{
	struct ip_address unscoped = *address;

	unscoped.scope = 0;
	return ip_address_format(&unscoped, text, size);
}

/* The kernel answers a lookup that meets a reject route (or rule) with
 * that route type's errno. */
static void explain_refusal(int family, int refusal, char *error, size_t size)
{
	const char *type = refusal == EHOSTUNREACH ? "unreachable"
			   : refusal == EACCES	   ? "prohibit"
			   : refusal == EINVAL	   ? "blackhole"
						   : NULL;

	if (refusal == ENETUNREACH)
		snprintf(
			error, size,
			"no %sdefault route: connect to a network, or name the gateway with --gateway ADDR",
			family == AF_INET ? "" : "IPv6 ");
	else if (type)
		snprintf(
			error, size,
			"the default route is of type %s, which leads nowhere beyond this host: name the gateway with --gateway ADDR",
			type);
	else
		snprintf(error, size, "cannot find the default route: %s",
			 strerror(refusal));
}

/* A route natpmp can use: unicast, through a gateway of its family. */
static int check_route(const struct route_entry *used, char *error, size_t size)
{
	char name[IF_NAMESIZE], hop[IP_ADDRESS_TEXT_SIZE];

	interface_name(used->interface, name);
	plain_address(&used->gateway, hop, sizeof(hop));
	if (used->type != RTN_UNICAST)
		snprintf(
			error, size,
			"the default route is of type %s, which leads nowhere beyond this host: name the gateway with --gateway ADDR",
			route_type_name(used->type));
	else if (!ip_address_is_set(&used->gateway))
		snprintf(
			error, size,
			"the default route goes through %s, which has no gateway address (a point-to-point link such as a VPN tunnel): name the gateway with --gateway ADDR",
			name);
	else if (used->family == AF_INET && used->gateway.family != AF_INET)
		snprintf(
			error, size,
			"the default route through %s has an IPv6 next hop, %s, and NAT-PMP needs an IPv4 gateway: name it with --gateway ADDR",
			name, hop);
	else if (used->gateway.family != used->family)
		snprintf(
			error, size,
			"the default route through %s has an IPv4 next hop, %s: name an IPv6 gateway with --gateway ADDR",
			name, hop);
	else
		return 0;
	return -1;
}

/* Which address a mapping can be made for; an IPv6 link-local one never
 * leaves its link. */
static bool source_usable(const struct ip_address *source)
{
	if (source->family == AF_INET6 && ip_address_is_link_local(source))
		return false;
	return ip_address_is_set(source);
}

struct address_choice {
	int family;
	unsigned interface;
	int rank; /* of address; -1 while there is none */
	struct ip_address address;
};

static int consider_address(void *context, const struct netlink_message *m)
{
	struct address_choice *choice = context;
	struct address_entry entry;
	int rank;

	if (m->type != RTM_NEWADDR)
		return 0;
	if (address_entry_parse(m->payload, m->length, &entry) < 0)
		return EBADMSG;
	rank = address_entry_rank(&entry);
	if (entry.family != choice->family ||
	    entry.interface != choice->interface || rank < 0 ||
	    (choice->rank >= 0 && rank >= choice->rank))
		return 0;
	choice->rank = rank;
	choice->address = entry.address;
	return 0;
}

/* The interface's best address for mappings from the kernel's address
 * list (the first of the best rank); unset if it has none. */
static void best_interface_address(struct netlink *nl, int family,
				   unsigned interface,
				   struct ip_address *address)
{
	struct address_choice choice = { .family = family,
					 .interface = interface,
					 .rank = -1 };
	uint8_t request[REQUEST_SIZE];
	size_t length =
		route_dump_encode(RTM_GETADDR, family, next_sequence(nl),
				  request, sizeof(request));

	if (netlink_talk(nl, request, length, consider_address, &choice) == 0 &&
	    choice.rank >= 0)
		*address = choice.address;
}

/* Fills route's interface and source toward route->gateway as a socket
 * connected to it would have them. The source is the kernel's choice for
 * that socket unless it has none or it is IPv6 link-local (no mapping or
 * pinhole can be made for one); then fallback (the source of the internet
 * route, when discovering); then the interface's best address from the
 * address list; else it stays unset. Returns the lookup's status. */
static int route_toward(struct netlink *nl, struct gateway_route *route,
			const struct ip_address *fallback)
{
	struct route_lookup lookup = { .destination = route->gateway };
	struct route_entry toward;
	int status;

	/* a link-local gateway is reached on the interface of its scope */
	if (route->gateway.family == AF_INET6)
		lookup.interface = route->gateway.scope;
	status = look_up_as_connect(nl, &lookup, &toward);
	if (status == 0) {
		if (toward.interface)
			route->interface = toward.interface;
		if (source_usable(&toward.source))
			route->source = toward.source;
		if (!ip_address_equal(&toward.gateway, &route->gateway))
			route->next_hop = toward.gateway;
	}
	if (!ip_address_is_set(&route->source) && fallback &&
	    source_usable(fallback))
		route->source = *fallback;
	if (!ip_address_is_set(&route->source) && route->interface)
		best_interface_address(nl, route->gateway.family,
				       route->interface, &route->source);
	interface_name(route->interface, route->interface_name);
	/* reached directly over a tunnel: its far end, the VPN's server */
	route->tunnel = status == 0 && !ip_address_is_set(&route->next_hop) &&
			route->interface &&
			os_interface_point_to_point(route->interface_name);
	return status;
}

static const char *table_name(uint32_t table, char *text, size_t size)
{
	if (table == RT_TABLE_MAIN)
		return "main";
	if (table == RT_TABLE_LOCAL)
		return "local";
	if (table == RT_TABLE_DEFAULT)
		return "default";
	snprintf(text, size, "%lu", (unsigned long)table);
	return text;
}

static void append_source(struct gateway_route *route)
{
	size_t length = strlen(route->origin);

	if (ip_address_is_set(&route->source)) {
		char text[IP_ADDRESS_TEXT_SIZE];
		snprintf(route->origin + length, sizeof(route->origin) - length,
			 ", source %s",
			 plain_address(&route->source, text, sizeof(text)));
	}
}

/* origin: "default route 0.0.0.0/0 in table main via 192.0.2.1 dev eth0
 * metric 100, source 192.0.2.20"; without the matched entry, "route to
 * 1.0.0.0 in table main via ..." and no metric. */
static void describe_discovery(struct gateway_route *route,
			       const struct route_entry *used,
			       const struct route_entry *matched,
			       const struct ip_address *destination)
{
	char prefix[IP_ADDRESS_TEXT_SIZE], hop[IP_ADDRESS_TEXT_SIZE];
	char table[16], name[IF_NAMESIZE];

	interface_name(used->interface, name);
	plain_address(&used->gateway, hop, sizeof(hop));
	if (matched)
		snprintf(route->origin, sizeof(route->origin),
			 "%s %s/%u in table %s via %s dev %s metric %lu",
			 matched->prefix_length ? "route" : "default route",
			 plain_address(&matched->destination, prefix,
				       sizeof(prefix)),
			 (unsigned)matched->prefix_length,
			 table_name(matched->table, table, sizeof(table)), hop,
			 name, (unsigned long)matched->metric);
	else
		snprintf(route->origin, sizeof(route->origin),
			 "route to %s in table %s via %s dev %s",
			 plain_address(destination, prefix, sizeof(prefix)),
			 table_name(used->table, table, sizeof(table)), hop,
			 name);
	append_source(route);
}

int gateway_discover(int family, struct gateway_route *route, char *error,
		     size_t size)
{
	struct netlink nl;
	struct route_lookup lookup;
	struct route_entry used, matched;
	bool have_match;
	int status;

	memset(route, 0, sizeof(*route));
	memset(&lookup, 0, sizeof(lookup));
	if (family != AF_INET && family != AF_INET6) {
		snprintf(error, size,
			 "gateway discovery needs IPv4 or IPv6, not family %d",
			 family);
		return -1;
	}
	if (netlink_open(&nl, error, size) < 0)
		return -1;
	status = pick_destination(&nl, family, &lookup.destination);
	if (status == 0)
		status = look_up_as_connect(&nl, &lookup, &used);
	if (status > 0)
		explain_refusal(family, status, error, size);
	if (status != 0 || check_route(&used, error, size) < 0) {
		if (status == 0 && used.type == RTN_UNICAST &&
		    !ip_address_is_set(&used.gateway)) {
			route->tunnel = true;
			route->interface = used.interface;
			interface_name(used.interface, route->interface_name);
		}
		status = -1;
		goto out;
	}
	route->policy = used.table != RT_TABLE_MAIN;
	have_match = look_up_match(&nl, &lookup, &matched);
	route->gateway = used.gateway;
	route->interface = used.interface;
	route_toward(&nl, route, &used.source);
	describe_discovery(route, &used, have_match ? &matched : NULL,
			   &lookup.destination);
out:
	close(nl.fd);
	return status == 0 ? 0 : -1;
}

int gateway_route_to(const struct ip_address *gateway,
		     struct gateway_route *route, char *error, size_t size)
{
	struct netlink nl;
	char text[IP_ADDRESS_TEXT_SIZE];
	int status;

	memset(route, 0, sizeof(*route));
	route->gateway = *gateway;
	ip_address_format(gateway, text, sizeof(text));
	if (gateway->family != AF_INET && gateway->family != AF_INET6) {
		snprintf(error, size, "the gateway %s is not an IP address",
			 text);
		return -1;
	}
	if (netlink_open(&nl, error, size) < 0)
		return -1;
	status = route_toward(&nl, route, NULL);
	if (status > 0)
		snprintf(error, size, "no route to the gateway %s: %s", text,
			 strerror(status));
	if (status != 0)
		goto out;
	plain_address(gateway, text, sizeof(text));
	if (ip_address_is_set(&route->next_hop)) {
		char hop[IP_ADDRESS_TEXT_SIZE];
		snprintf(route->origin, sizeof(route->origin),
			 "named gateway %s via %s dev %s", text,
			 plain_address(&route->next_hop, hop, sizeof(hop)),
			 route->interface_name);
	} else {
		snprintf(route->origin, sizeof(route->origin),
			 "named gateway %s dev %s%s", text,
			 route->interface_name,
			 route->tunnel ? " (a tunnel)" : "");
	}
	append_source(route);
out:
	close(nl.fd);
	return status == 0 ? 0 : -1;
}

int gateway_watch_open(void)
{
	struct sockaddr_nl groups = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR |
			     RTMGRP_IPV4_ROUTE | RTMGRP_IPV4_RULE |
			     RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE,
	};
	/* IPv6 rules have a group number but no RTMGRP_ bit */
	int ipv6_rules = RTNLGRP_IPV6_RULE;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
			NETLINK_ROUTE);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&groups, sizeof(groups)) < 0 ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &ipv6_rules,
		       sizeof(ipv6_rules)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

void gateway_watch_read(int fd, unsigned interface, struct network_news *news)
{
	uint8_t datagram[NETLINK_DATAGRAM_SIZE];

	int reads;

	memset(news, 0, sizeof(*news));
	/* a burst is read over several turns of the loop, so that its timers
	 * and signals keep their time: what is left stays readable */
	for (reads = 0; reads < WATCH_READS_PER_TURN; reads++) {
		struct sockaddr_nl from;
		socklen_t from_length = sizeof(from);
		ssize_t n = recvfrom(fd, datagram, sizeof(datagram),
				     MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&from, &from_length);

		if (n < 0 && errno == EINTR)
			continue;
		/* ENOBUFS: notifications were dropped for want of room, so
		 * what they said is unknown: anything may have changed */
		if (n < 0 && errno == ENOBUFS) {
			news->changed = true;
			continue;
		}
		if (n < 0)
			return; /* EAGAIN: all read */
		if (from.nl_pid != 0)
			continue;
		/* a datagram cut short ends in a malformed message, which
		 * counts as a change */
		route_watch_parse(datagram,
				  min_size((size_t)n, sizeof(datagram)),
				  interface, news);
	}
}
