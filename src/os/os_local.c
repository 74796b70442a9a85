/* os_local.c - whether an address is one of this host's, asked of the
 * kernel the same way on every system: bind(2) takes only a local one. */
#include "os/os.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

bool os_address_is_local(const struct ip_address *address)
{
	struct ip_endpoint endpoint = { .address = *address, .port = 0 };
	struct sockaddr_storage storage;
	socklen_t length = ip_endpoint_to_sockaddr(&endpoint, &storage);
	int fd, status, error;

	if (length == 0)
		return false;
	fd = socket(address->family, SOCK_DGRAM, 0);
	if (fd < 0)
		return true; /* cannot tell: the careful answer */
	status = bind(fd, (const struct sockaddr *)&storage, length);
	error = errno;
	close(fd);
	/* only a missing address says no; a refusal for any other reason
	 * cannot tell */
	return status == 0 || error != EADDRNOTAVAIL;
}
