/* route_netlink.c - build an RTM_GETROUTE lookup and read its answer.
 * Every header is copied out with memcpy: the bytes may be unaligned. */
#include "route_netlink.h"

#include <limits.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#define ALIGN4(n) (((n) + 3u) & ~(size_t)3u)

size_t route_request_encode(uint32_t destination, uint32_t sequence,
			    uint8_t *buffer, size_t size)
{
	struct nlmsghdr header;
	struct rtmsg route;
	struct rtattr attribute;
	uint8_t address[4] = {
		(uint8_t)(destination >> 24),
		(uint8_t)(destination >> 16),
		(uint8_t)(destination >> 8),
		(uint8_t)destination,
	};
	size_t length = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(route)) +
			RTA_SPACE(sizeof(address));

	if (size < length)
		return 0;
	memset(buffer, 0, length);
	memset(&header, 0, sizeof(header));
	header.nlmsg_len = (uint32_t)length;
	header.nlmsg_type = RTM_GETROUTE;
	header.nlmsg_flags = NLM_F_REQUEST;
	header.nlmsg_seq = sequence;
	memset(&route, 0, sizeof(route));
	route.rtm_family = AF_INET;
	route.rtm_dst_len = 32;
	attribute.rta_len = (unsigned short)RTA_LENGTH(sizeof(address));
	attribute.rta_type = RTA_DST;
	memcpy(buffer, &header, sizeof(header));
	memcpy(buffer + NLMSG_HDRLEN, &route, sizeof(route));
	memcpy(buffer + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(route)), &attribute,
	       sizeof(attribute));
	memcpy(buffer + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(route)) +
		       RTA_LENGTH(0),
	       address, sizeof(address));
	return length;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* RTA_MULTIPATH: a list of struct rtnexthop, each followed by attributes;
 * the first next hop with an IPv4 gateway stands for the route. */
static void parse_multipath(const uint8_t *p, size_t length,
			    struct route_answer *answer)
{
	while (length >= sizeof(struct rtnexthop)) {
		struct rtnexthop hop;
		size_t hop_length, offset;

		memcpy(&hop, p, sizeof(hop));
		hop_length = hop.rtnh_len;
		if (hop_length < sizeof(hop) || hop_length > length)
			return;
		for (offset = ALIGN4(sizeof(hop));
		     offset + sizeof(struct rtattr) <= hop_length;) {
			struct rtattr a;
			memcpy(&a, p + offset, sizeof(a));
			if (a.rta_len < sizeof(a) ||
			    offset + a.rta_len > hop_length)
				break;
			if (a.rta_type == RTA_GATEWAY &&
			    a.rta_len == RTA_LENGTH(4) &&
			    !answer->has_gateway) {
				answer->has_gateway = true;
				answer->gateway =
					be32(p + offset + RTA_LENGTH(0));
				if (!answer->interface)
					answer->interface = hop.rtnh_ifindex;
				return;
			}
			offset += RTA_ALIGN(a.rta_len);
		}
		hop_length = ALIGN4(hop_length);
		if (hop_length >= length)
			return;
		p += hop_length;
		length -= hop_length;
	}
}

static enum route_answer_status parse_route(const uint8_t *p, size_t length,
					    struct route_answer *answer)
{
	size_t offset = NLMSG_ALIGN(sizeof(struct rtmsg));

	if (length < sizeof(struct rtmsg))
		return ROUTE_ANSWER_MALFORMED;
	while (offset + sizeof(struct rtattr) <= length) {
		struct rtattr a;
		const uint8_t *value;
		size_t value_length;

		memcpy(&a, p + offset, sizeof(a));
		if (a.rta_len < sizeof(a) || offset + a.rta_len > length)
			return ROUTE_ANSWER_MALFORMED;
		value = p + offset + RTA_LENGTH(0);
		value_length = a.rta_len - RTA_LENGTH(0);
		if (a.rta_type == RTA_GATEWAY && value_length == 4) {
			answer->has_gateway = true;
			answer->gateway = be32(value);
		} else if (a.rta_type == RTA_OIF && value_length == 4) {
			memcpy(&answer->interface, value, 4);
		} else if (a.rta_type == RTA_VIA) {
			answer->gateway_not_ipv4 = true;
		} else if (a.rta_type == RTA_MULTIPATH) {
			parse_multipath(value, value_length, answer);
		}
		offset += RTA_ALIGN(a.rta_len);
	}
	return ROUTE_ANSWER_ROUTE;
}

enum route_answer_status route_answer_parse(const uint8_t *buffer,
					    size_t length, uint32_t sequence,
					    struct route_answer *answer)
{
	size_t offset = 0;

	memset(answer, 0, sizeof(*answer));
	while (offset + sizeof(struct nlmsghdr) <= length) {
		struct nlmsghdr header;
		const uint8_t *payload = buffer + offset + NLMSG_HDRLEN;
		size_t payload_length;

		memcpy(&header, buffer + offset, sizeof(header));
		if (header.nlmsg_len < NLMSG_HDRLEN ||
		    header.nlmsg_len > length - offset)
			return ROUTE_ANSWER_MALFORMED;
		payload_length = header.nlmsg_len - NLMSG_HDRLEN;
		if (header.nlmsg_seq == sequence) {
			if (header.nlmsg_type == NLMSG_ERROR) {
				int error;
				if (payload_length < sizeof(error))
					return ROUTE_ANSWER_MALFORMED;
				memcpy(&error, payload, sizeof(error));
				if (error == 0 || error == INT_MIN)
					return ROUTE_ANSWER_MALFORMED; /* an ack, no route */
				answer->error = error < 0 ? -error : error;
				return ROUTE_ANSWER_ERROR;
			}
			if (header.nlmsg_type == RTM_NEWROUTE)
				return parse_route(payload, payload_length,
						   answer);
		}
		offset += NLMSG_ALIGN(header.nlmsg_len);
	}
	return ROUTE_ANSWER_INCOMPLETE;
}
