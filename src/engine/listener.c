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
#include "os/os.h"
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

	if (family == AF_INET6) {
		ip_address_set_v6(&group.address, all_nodes_v6, 0);
		/* a link-local group: bound on the interface, or not at
		 * all (the kernel refuses ff02::1 without a scope) */
		group.address.scope = interface;
	} else {
		ip_address_set_v4(&group.address, ALL_HOSTS_V4);
	}
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
	    os_listener_options(fd, family) < 0 ||
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

/* Whether a datagram may speak for the gateway: from its address and
 * port, on the interface that leads to it (RFC 6886 section 3.2.1: MUST
 * discard announcements from any other address). Over IPv6 a gateway
 * known by a global address announces from its link-local one (miniupnpd
 * does), so any link-local address on that interface will do: what it
 * says is only ever a reason to ask the gateway itself. */
static const char *refusal(const struct ip_endpoint *source,
			   unsigned arrived_on,
			   const struct ip_endpoint *gateway,
			   unsigned interface)
{
	bool neighbour = source->address.family == AF_INET6 &&
			 ip_address_is_link_local(&source->address);

	if (!ip_address_equal(&source->address, &gateway->address) &&
	    !neighbour)
		return "not our gateway";
	if (source->port != gateway->port)
		return "not from the gateway's port";
	if (interface && arrived_on && arrived_on != interface)
		return "not on the interface toward the gateway";
	if (neighbour && (!interface || arrived_on != interface))
		return "a link-local address not on the gateway's link";
	return NULL;
}

enum announce_status announce_receive(int fd, const struct ip_endpoint *gateway,
				      unsigned interface,
				      struct announcement *a)
{
	uint8_t datagram[PCP_DATAGRAM_MAX + 1];
	struct ip_endpoint source;
	const char *why;
	unsigned arrived_on;
	ssize_t n = os_receive(fd, datagram, sizeof(datagram), &source,
			       &arrived_on);

	if (n < 0)
		return ANNOUNCE_NONE;
	why = refusal(&source, arrived_on, gateway, interface);
	if (!why && (size_t)n > PCP_DATAGRAM_MAX)
		why = "too long";
	if (!why && announce_decode(datagram, (size_t)n, a, &why))
		return ANNOUNCE_HEARD;
	/* formatted only for -v: a flood must cost little */
	if (diag_verbose_enabled()) {
		char text[IP_ENDPOINT_TEXT_SIZE];
		diag_verbose("ignored announcement from %s: %s",
			     ip_endpoint_format(&source, gateway->port, text,
						sizeof(text)),
			     why);
	}
	return ANNOUNCE_IGNORED;
}
