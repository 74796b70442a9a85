/* announce.c - the announcement listener. Bound to 224.0.0.1 rather than
 * 0.0.0.0, with SO_REUSEADDR and SO_REUSEPORT, as section 3.2.1 advises so
 * other NAT-PMP clients on the host can listen too. */
#include "announce.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "diag.h"

#define ALL_HOSTS_GROUP 0xe0000001u /* 224.0.0.1 */

int announce_open(struct in_addr local)
{
	struct sockaddr_in group = {
		.sin_family = AF_INET,
		.sin_port = htons(NATPMP_ANNOUNCE_PORT),
		.sin_addr.s_addr = htonl(ALL_HOSTS_GROUP),
	};
	struct ip_mreq membership;
	int one = 1, fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	membership.imr_multiaddr = group.sin_addr;
	membership.imr_interface = local;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
#ifdef SO_REUSEPORT
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
#endif
	    bind(fd, (struct sockaddr *)&group, sizeof(group)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &membership,
		       sizeof(membership)) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

enum announce_status announce_receive(int fd, struct in_addr gateway,
				      struct natpmp_reply *reply)
{
	uint8_t datagram[64];
	struct sockaddr_in from;
	socklen_t from_length = sizeof(from);
	enum natpmp_verdict verdict;
	char source[INET_ADDRSTRLEN];
	ssize_t n;

	n = recvfrom(fd, datagram, sizeof(datagram), MSG_TRUNC,
		     (struct sockaddr *)&from, &from_length);
	if (n < 0)
		return ANNOUNCE_NONE;
	inet_ntop(AF_INET, &from.sin_addr, source, sizeof(source));
	/* section 3.2.1: MUST discard announcements from any other address */
	if (from_length < sizeof(from) ||
	    from.sin_addr.s_addr != gateway.s_addr) {
		diag_verbose("ignored announcement from %s: not our gateway",
			     source);
		return ANNOUNCE_IGNORED;
	}
	verdict = (size_t)n > sizeof(datagram)
			  ? NATPMP_REPLY_BAD_LENGTH
			  : natpmp_announcement_decode(datagram, (size_t)n,
						       reply);
	if (verdict != NATPMP_REPLY_ACCEPTED) {
		diag_verbose("ignored %zd bytes from %s on port %d: %s", n,
			     source, NATPMP_ANNOUNCE_PORT,
			     natpmp_verdict_text(verdict));
		return ANNOUNCE_IGNORED;
	}
	return ANNOUNCE_HEARD;
}
