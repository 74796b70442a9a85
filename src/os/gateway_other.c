/* gateway_other.c - gateway discovery on systems without an implementation
 * yet: say so, and ask for --gateway. */
#include "os/gateway.h"

#include <stdio.h>
#include <string.h>

int gateway_discover(int family, struct gateway_route *route, char *error,
		     size_t size)
{
	(void)family;
	memset(route, 0, sizeof(*route));
	snprintf(
		error, size,
		"cannot find the default gateway on this system: name it with --gateway ADDR or NATPMP_GATEWAY");
	return -1;
}

int gateway_route_to(const struct ip_address *gateway,
		     struct gateway_route *route, char *error, size_t size)
{
	(void)error;
	(void)size;
	memset(route, 0, sizeof(*route));
	route->gateway = *gateway;
	return 0;
}

int gateway_watch_open(void)
{
	return -1;
}

void gateway_watch_read(int fd, unsigned interface, struct network_news *news)
{
	(void)fd;
	(void)interface;
	memset(news, 0, sizeof(*news));
}
