/* os_other.c - the OS seam where natpmp has no implementation of its own
 * yet: discovery asks for --gateway, the rest is plain POSIX. */
#include "os/os.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

bool os_interface_running(const char *name)
{
	(void)name;
	return true; /* when unsure, try */
}

bool os_interface_point_to_point(const char *name)
{
	(void)name;
	return false;
}

int os_random(void *buffer, size_t size)
{
	unsigned char *bytes = buffer;
	size_t done = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	while (fd >= 0 && done < size) {
		ssize_t n = read(fd, bytes + done, size - done);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	return done == size ? 0 : -1;
}

int os_wake_timer_open(void)
{
	errno = ENOSYS;
	return -1;
}

int os_wake_timer_set(int fd, int64_t at_ms)
{
	(void)fd;
	(void)at_ms;
	errno = ENOSYS;
	return -1;
}

void os_wake_timer_clear(int fd)
{
	(void)fd;
}

int os_listener_options(int fd, int family)
{
	(void)fd;
	(void)family;
	return 0;
}

ssize_t os_receive(int fd, void *buffer, size_t size, struct ip_endpoint *from,
		   unsigned *interface)
{
	struct sockaddr_storage source;
	socklen_t length = sizeof(source);
	ssize_t n = recvfrom(fd, buffer, size, MSG_DONTWAIT | MSG_TRUNC,
			     (struct sockaddr *)&source, &length);

	*interface = 0;
	memset(from, 0, sizeof(*from));
	if (n >= 0 && ip_endpoint_from_sockaddr((struct sockaddr *)&source,
						length, from) < 0)
		from->address.family = AF_UNSPEC;
	return n;
}
