/* gateway_other.c - gateway discovery on systems without an implementation
 * yet: say so, and ask for --gateway. */
#include "gateway.h"

#include <stdio.h>

int gateway_discover(struct sockaddr_in *gateway, char *error, size_t size)
{
	(void)gateway;
	snprintf(
		error, size,
		"cannot find the default gateway on this system: name it with --gateway ADDR or NATPMP_GATEWAY");
	return -1;
}

int gateway_watch_open(void)
{
	return -1;
}

void gateway_watch_drain(int fd)
{
	(void)fd;
}
