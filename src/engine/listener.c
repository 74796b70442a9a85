/* listener.c - the announcement listener. Bound to the group address
 * rather than the wildcard, with SO_REUSEADDR and SO_REUSEPORT, as RFC
 * 6886 section 3.2.1 advises so other clients on the host can listen too. */
#include "engine/listener.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/diag.h"
#include "wire/wire_pcp.h"

#define ALL_HOSTS_V4 0xe0000001u /* 224.0.0.1 */
static const uint8_t all_nodes_v6[16] = { 0xff, 0x02, [15] = 1 }; /* ff02::1 */

static int join_v4(int fd, unsigned interface)
{
	struct ip_mreqn membership;

	memset(&membership, 0, sizeof(membership));
	membership.imr_multiaddr.s_addr = htonl(ALL_HOSTS_V4);
	membership.imr_ifindex = (int)interface;
	return setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &membership,
			  sizeof(membership));
}

static int join_v6(int fd, unsigned interface)
{
	struct ipv6_mreq membership;

	memset(&membership, 0, sizeof(membership));
	memcpy(&membership.ipv6mr_multiaddr, all_nodes_v6, 16);
	membership.ipv6mr_interface = interface;
	return setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &membership,
			  sizeof(membership));
}

int announce_open(int family, unsigned interface)
{
	struct ip_endpoint group = { .port = ANNOUNCE_PORT };
	struct sockaddr_storage address;
	socklen_t length;
	int one = 1, fd, saved;

	if (family == AF_INET6)
		ip_address_set_v6(&group.address, all_nodes_v6, 0);
	else
		ip_address_set_v4(&group.address, ALL_HOSTS_V4);
	length = ip_endpoint_to_sockaddr(&group, &address);
	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
#ifdef SO_REUSEPORT
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
#endif
	    bind(fd, (struct sockaddr *)&address, length) < 0 ||
	    (family == AF_INET6 ? join_v6(fd, interface)
				: join_v4(fd, interface)) < 0)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

enum announce_status announce_receive(int fd, const struct ip_address *gateway,
				      struct announcement *a)
{
	uint8_t datagram[PCP_DATAGRAM_MAX + 1];
	struct sockaddr_storage from;
	socklen_t from_length = sizeof(from);
	struct ip_endpoint source;
	char text[IP_ADDRESS_TEXT_SIZE];
	const char *why = "";
	ssize_t n;

	n = recvfrom(fd, datagram, sizeof(datagram), MSG_TRUNC,
		     (struct sockaddr *)&from, &from_length);
	if (n < 0)
		return ANNOUNCE_NONE;
	if (ip_endpoint_from_sockaddr((struct sockaddr *)&from, from_length,
				      &source) < 0)
		return ANNOUNCE_IGNORED;
	ip_address_format(&source.address, text, sizeof(text));
	/* RFC 6886 section 3.2.1: MUST discard announcements from any
	 * other address than the gateway's */
	if (!ip_address_equal(&source.address, gateway)) {
		diag_verbose("ignored announcement from %s: not our gateway",
			     text);
		return ANNOUNCE_IGNORED;
	}
	if ((size_t)n > PCP_DATAGRAM_MAX) {
		why = "too long";
	} else if (announce_decode(datagram, (size_t)n, a, &why)) {
		return ANNOUNCE_HEARD;
	}
	diag_verbose("ignored %zd bytes from %s on port %d: %s", n, text,
		     ANNOUNCE_PORT, why);
	return ANNOUNCE_IGNORED;
}
