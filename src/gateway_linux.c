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

#define NETLINK_ANSWER_SIZE 8192

static int ask_kernel(uint32_t destination, struct route_answer *answer,
		      char *error, size_t size)
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
	length = route_request_encode(destination, sequence, request,
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

static void fill_interface(struct gateway_route *route, int interface)
{
	route->interface = interface > 0 ? (unsigned)interface : 0;
	if (!route->interface ||
	    !if_indextoname(route->interface, route->interface_name))
		snprintf(route->interface_name, sizeof(route->interface_name),
			 "?");
}

int gateway_discover(int family, struct gateway_route *route, char *error,
		     size_t size)
{
	struct route_answer answer;

	memset(route, 0, sizeof(*route));
	if (family != AF_INET) {
		snprintf(error, size, "IPv6 discovery is not available yet");
		return -1;
	}
	if (ask_kernel(ROUTE_PROBE_ADDRESS, &answer, error, size) < 0)
		return -1;
	fill_interface(route, answer.interface);
	if (!answer.has_gateway && answer.gateway_not_ipv4) {
		snprintf(
			error, size,
			"the default route through %s has an IPv6 next hop, and NAT-PMP needs an IPv4 gateway: name it with --gateway ADDR",
			route->interface_name);
		return -1;
	}
	if (!answer.has_gateway) {
		snprintf(
			error, size,
			"the default route goes through %s, which has no gateway address (a point-to-point link such as a VPN tunnel): name the gateway with --gateway ADDR",
			route->interface_name);
		return -1;
	}
	ip_address_set_v4(&route->gateway, answer.gateway);
	snprintf(route->origin, sizeof(route->origin), "default route dev %s",
		 route->interface_name);
	return 0;
}

int gateway_route_to(const struct ip_address *gateway,
		     struct gateway_route *route, char *error, size_t size)
{
	struct route_answer answer;

	memset(route, 0, sizeof(*route));
	route->gateway = *gateway;
	if (gateway->family != AF_INET ||
	    ask_kernel(ip_address_v4(gateway), &answer, error, size) < 0)
		return -1;
	fill_interface(route, answer.interface);
	{
		char text[IP_ADDRESS_TEXT_SIZE];
		snprintf(route->origin, sizeof(route->origin),
			 "named gateway %s dev %s",
			 ip_address_format(gateway, text, sizeof(text)),
			 route->interface_name);
	}
	return 0;
}

int gateway_watch_open(void)
{
	struct sockaddr_nl groups = {
		.nl_family = AF_NETLINK,
		.nl_groups =
			RTMGRP_IPV4_ROUTE | RTMGRP_IPV4_IFADDR | RTMGRP_LINK,
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

void gateway_watch_read(int fd, unsigned interface, struct network_news *news)
{
	uint8_t buffer[NETLINK_ANSWER_SIZE];

	(void)interface;
	memset(news, 0, sizeof(*news));
	while (recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT) > 0)
		news->changed = true;
}
