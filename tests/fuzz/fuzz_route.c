/* fuzz_route.c - libFuzzer target for everything natpmp reads from the
 * kernel's routing socket: lookup answers, dumps of routes, rules and
 * addresses, link and address notifications, and the probe picked from a
 * dump. Input: a 4-byte little-endian sequence number, then a datagram. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "os/route_netlink.h"
#include "os/route_probe.h"

#define MAX_PREFIXES 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_route(const struct route_entry *route)
{
	unsigned bits = route->family == AF_INET ? 32 : 128;

	if ((route->family != AF_INET && route->family != AF_INET6) ||
	    route->prefix_length > bits)
		abort();
	if (ip_address_is_set(&route->gateway) &&
	    route->gateway.family != AF_INET &&
	    route->gateway.family != AF_INET6)
		abort();
}

/* The prefixes of a dump of one family, for the picker. */
struct prefix_list {
	int family;
	struct route_prefix items[MAX_PREFIXES];
	size_t count;
};

static void collect(const struct netlink_message *message,
		    struct prefix_list *list)
{
	if (list->count < MAX_PREFIXES &&
	    route_dump_prefix(message, list->family,
			      &list->items[list->count]) > 0)
		list->count++;
}

/* Every parser on every message: none may read outside it. */
static void parse_message(const struct netlink_message *message)
{
	struct route_entry route;
	struct rule_entry rule;
	struct address_entry address;
	struct link_entry link;
	int error;

	if (route_entry_parse(message->payload, message->length, &route) == 0)
		check_route(&route);
	rule_entry_parse(message->payload, message->length, &rule);
	if (address_entry_parse(message->payload, message->length, &address) ==
	    0)
		address_entry_rank(&address);
	if (link_entry_parse(message->payload, message->length, &link) == 0)
		link_entry_usable(&link);
	netlink_message_error(message, &error);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct route_answer answer;
	struct network_news news = { false, false };
	struct netlink_message message;
	static struct prefix_list v4 = { .family = AF_INET };
	static struct prefix_list v6 = { .family = AF_INET6 };
	uint8_t destination[ROUTE_PROBE_MAX_BYTES];
	uint32_t sequence = 1;
	size_t offset = 0;

	if (size >= 4) {
		sequence = (uint32_t)data[0] | (uint32_t)data[1] << 8 |
			   (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
		data += 4;
		size -= 4;
	}
	if (route_answer_parse(data, size, sequence, &answer) ==
	    ROUTE_ANSWER_ROUTE)
		check_route(&answer.route);
	route_watch_parse(data, size, 2, &news);
	v4.count = v6.count = 0;
	while (netlink_message_next(data, size, &offset, &message) > 0) {
		parse_message(&message);
		collect(&message, &v4);
		collect(&message, &v6);
	}
	if (route_probe_pick(AF_INET, v4.items, v4.count, destination) > 32 ||
	    route_probe_pick(AF_INET6, v6.items, v6.count, destination) > 128)
		abort();
	return 0;
}
