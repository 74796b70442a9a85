/* gateway_linux.c - default gateway discovery through rtnetlink: ask the
 * kernel which route it would take to the internet, as `ip route get`
 * does, so policy routing rules (VPNs, multiple tables) are honoured. */
#include "gateway.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "route_netlink.h"
#include "wire.h"

#define NETLINK_ANSWER_SIZE 8192

static int ask_kernel(struct route_answer *answer, char *error, size_t size)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct timeval patience = { .tv_sec = 2 };
	uint8_t request[128], reply[NETLINK_ANSWER_SIZE];
	uint32_t sequence = (uint32_t)getpid();
	enum route_answer_status status = ROUTE_ANSWER_INCOMPLETE;
	size_t length;
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		snprintf(error, size, "cannot ask the kernel for routes: %s",
			 strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof(patience));
	length = route_request_encode(ROUTE_PROBE_ADDRESS, sequence, request,
				      sizeof(request));
	if (sendto(fd, request, length, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0) {
		snprintf(error, size, "cannot ask the kernel for routes: %s",
			 strerror(errno));
		close(fd);
		return -1;
	}
	while (status == ROUTE_ANSWER_INCOMPLETE) {
		ssize_t n = recv(fd, reply, sizeof(reply), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(error, size,
				 "no route answer from the kernel: %s",
				 strerror(errno));
			close(fd);
			return -1;
		}
		status = route_answer_parse(reply, (size_t)n, sequence, answer);
	}
	close(fd);
	if (status == ROUTE_ANSWER_MALFORMED) {
		snprintf(error, size, "cannot read the kernel's route answer");
		return -1;
	}
	if (status == ROUTE_ANSWER_ERROR) {
		if (answer->error == ENETUNREACH ||
		    answer->error == EHOSTUNREACH)
			snprintf(
				error, size,
				"no default route: connect to a network, or name the gateway with --gateway ADDR");
		else
			snprintf(error, size,
				 "cannot find the default route: %s",
				 strerror(answer->error));
		return -1;
	}
	return 0;
}

int gateway_discover(struct sockaddr_in *gateway, char *error, size_t size)
{
	struct route_answer answer;
	char name[IF_NAMESIZE] = "?";

	if (ask_kernel(&answer, error, size) < 0)
		return -1;
	if (answer.interface > 0)
		if_indextoname((unsigned)answer.interface, name);
	if (!answer.has_gateway && answer.gateway_not_ipv4) {
		snprintf(
			error, size,
			"the default route through %s has an IPv6 next hop, and NAT-PMP needs an IPv4 gateway: name it with --gateway ADDR",
			name);
		return -1;
	}
	if (!answer.has_gateway) {
		snprintf(
			error, size,
			"the default route goes through %s, which has no gateway address (a point-to-point link such as a VPN tunnel): name the gateway with --gateway ADDR",
			name);
		return -1;
	}
	memset(gateway, 0, sizeof(*gateway));
	gateway->sin_family = AF_INET;
	gateway->sin_addr.s_addr = htonl(answer.gateway);
	gateway->sin_port = htons(NATPMP_SERVER_PORT);
	return 0;
}

int gateway_watch_open(void)
{
	struct sockaddr_nl groups = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_IPV4_ROUTE,
	};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
			NETLINK_ROUTE);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&groups, sizeof(groups)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void gateway_watch_drain(int fd)
{
	uint8_t buffer[NETLINK_ANSWER_SIZE];

	/* what changed does not matter: discovery asks the kernel afresh */
	while (recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT) > 0)
		;
}
