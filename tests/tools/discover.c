/* discover.c - gateway discovery laid bare for tests: prints what
 * gateway_discover or gateway_route_to found, or what the network watch
 * reports, one fact a line. Built for the test suite, never installed. */
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/ip_address.h"
#include "os/os.h"

/* the watch gives up after this long, so a forgotten one ends by itself */
#define WATCH_LIMIT_MS 30000

static int usage(void)
{
	fprintf(stderr, "usage: discover -4 | -6 | --to ADDRESS | "
			"--watch INTERFACE\n");
	return 64;
}

static void print_route(const struct gateway_route *route)
{
	char text[IP_ADDRESS_TEXT_SIZE];

	printf("gateway %s\n",
	       ip_address_format(&route->gateway, text, sizeof(text)));
	printf("interface %s\n", route->interface_name);
	printf("source %s\n",
	       ip_address_format(&route->source, text, sizeof(text)));
	printf("origin %s\n", route->origin);
	printf("next-hop %s\n",
	       ip_address_is_set(&route->next_hop)
		       ? ip_address_format(&route->next_hop, text, sizeof(text))
		       : "none");
	printf("tunnel %s\n", route->tunnel ? "yes" : "no");
}

static int discover(int family)
{
	struct gateway_route route;
	char error[256];

	if (gateway_discover(family, &route, error, sizeof(error)) < 0) {
		fprintf(stderr, "discover: %s\n", error);
		return 1;
	}
	print_route(&route);
	return 0;
}

static int route_to(const char *text)
{
	struct gateway_route route;
	struct ip_address gateway;
	char error[256];

	if (ip_address_parse(text, &gateway) < 0) {
		fprintf(stderr, "discover: not an IP address: %s\n", text);
		return 64;
	}
	if (gateway_route_to(&gateway, &route, error, sizeof(error)) < 0) {
		fprintf(stderr, "discover: %s\n", error);
		return 1;
	}
	print_route(&route);
	return 0;
}

/* Prints "watching", then a line per batch of notifications: "changed",
 * with " interface-down" when the named interface went down. */
static int watch(const char *name)
{
	unsigned interface = if_nametoindex(name);
	struct pollfd fd = { .fd = gateway_watch_open(), .events = POLLIN };

	if (!interface || fd.fd < 0) {
		fprintf(stderr, "discover: cannot watch %s\n", name);
		return 1;
	}
	printf("watching\n");
	fflush(stdout);
	while (poll(&fd, 1, WATCH_LIMIT_MS) > 0) {
		struct network_news news;

		gateway_watch_read(fd.fd, interface, &news);
		if (news.changed || news.interface_down)
			printf("%s%s\n", news.changed ? "changed" : "",
			       news.interface_down ? " interface-down" : "");
		fflush(stdout);
	}
	close(fd.fd);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "-4") == 0)
		return discover(AF_INET);
	if (argc == 2 && strcmp(argv[1], "-6") == 0)
		return discover(AF_INET6);
	if (argc == 3 && strcmp(argv[1], "--to") == 0)
		return route_to(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--watch") == 0)
		return watch(argv[2]);
	return usage();
}
