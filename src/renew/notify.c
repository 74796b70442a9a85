/* notify.c - the sd_notify datagram, written by hand: a path in
 * $NOTIFY_SOCKET, or an abstract socket name when it starts with '@'. */
#include "renew/notify.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/diag.h"

void notify_send(const char *message)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un address;
	size_t length;
	socklen_t address_length;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@'))
		return;
	length = strlen(path);
	if (length >= sizeof(address.sun_path))
		return;
	memset(&address, 0, sizeof(address));
	address.sun_family = AF_UNIX;
	memcpy(address.sun_path, path, length);
	if (path[0] == '@')
		address.sun_path[0] = '\0'; /* abstract namespace */
	address_length =
		(socklen_t)(offsetof(struct sockaddr_un, sun_path) + length);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, message, strlen(message), 0,
		   (const struct sockaddr *)&address, address_length) < 0)
		diag_verbose("cannot notify systemd");
	close(fd);
}
