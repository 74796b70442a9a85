/* ip_address.c - family-neutral addresses: set, compare, format, parse,
 * and convert to and from socket addresses. */
#include "core/ip_address.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ip_address_set_v4(struct ip_address *a, uint32_t host_order)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->bytes[0] = (uint8_t)(host_order >> 24);
	a->bytes[1] = (uint8_t)(host_order >> 16);
	a->bytes[2] = (uint8_t)(host_order >> 8);
	a->bytes[3] = (uint8_t)host_order;
}

uint32_t ip_address_v4(const struct ip_address *a)
{
	if (a->family != AF_INET)
		return 0;
	return (uint32_t)a->bytes[0] << 24 | (uint32_t)a->bytes[1] << 16 |
	       (uint32_t)a->bytes[2] << 8 | a->bytes[3];
}

void ip_address_set_v6(struct ip_address *a, const uint8_t bytes[16],
		       uint32_t scope)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET6;
	memcpy(a->bytes, bytes, 16);
	if (ip_address_is_link_local(a))
		a->scope = scope;
}

static size_t byte_count(const struct ip_address *a)
{
	return a->family == AF_INET ? 4 : a->family == AF_INET6 ? 16 : 0;
}

bool ip_address_is_set(const struct ip_address *a)
{
	return a->family == AF_INET || a->family == AF_INET6;
}

bool ip_address_is_unspecified(const struct ip_address *a)
{
	size_t i, n = byte_count(a);

	for (i = 0; i < n; i++)
		if (a->bytes[i])
			return false;
	return n > 0;
}

bool ip_address_is_link_local(const struct ip_address *a)
{
	if (a->family == AF_INET)
		return a->bytes[0] == 169 && a->bytes[1] == 254;
	return a->family == AF_INET6 && a->bytes[0] == 0xfe &&
	       (a->bytes[1] & 0xc0) == 0x80;
}

bool ip_address_equal(const struct ip_address *a, const struct ip_address *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET6 && ip_address_is_link_local(a) &&
	    a->scope != b->scope)
		return false;
	return memcmp(a->bytes, b->bytes, byte_count(a)) == 0;
}

bool ip_endpoint_equal(const struct ip_endpoint *a, const struct ip_endpoint *b)
{
	return a->port == b->port && ip_address_equal(&a->address, &b->address);
}

const char *ip_address_format(const struct ip_address *a, char *text,
			      size_t size)
{
	if (!ip_address_is_set(a) ||
	    !inet_ntop(a->family, a->bytes, text, (socklen_t)size)) {
		snprintf(text, size, "?");
		return text;
	}
	if (a->family == AF_INET6 && a->scope) {
		char name[IF_NAMESIZE];
		size_t length = strlen(text);
		if (!if_indextoname(a->scope, name))
			snprintf(name, sizeof(name), "%lu",
				 (unsigned long)a->scope);
		snprintf(text + length, size - length, "%%%s", name);
	}
	return text;
}

const char *ip_endpoint_format(const struct ip_endpoint *e,
			       uint16_t default_port, char *text, size_t size)
{
	char address[IP_ADDRESS_TEXT_SIZE];

	ip_address_format(&e->address, address, sizeof(address));
	if (e->port == default_port)
		snprintf(text, size, "%s", address);
	else if (e->address.family == AF_INET6)
		snprintf(text, size, "[%s]:%u", address, (unsigned)e->port);
	else
		snprintf(text, size, "%s:%u", address, (unsigned)e->port);
	return text;
}

/* "%eth0" or "%2" after a link-local IPv6 address */
static int parse_scope(const char *text, uint32_t *scope)
{
	char *end;
	unsigned long number;

	if (*text == '\0')
		return -1;
	*scope = if_nametoindex(text);
	if (*scope)
		return 0;
	number = strtoul(text, &end, 10);
	if (*end != '\0' || number == 0 || number > UINT32_MAX)
		return -1;
	*scope = (uint32_t)number;
	return 0;
}

int ip_address_parse(const char *text, struct ip_address *a)
{
	char copy[IP_ADDRESS_TEXT_SIZE];
	const char *percent = strchr(text, '%');
	size_t length = percent ? (size_t)(percent - text) : strlen(text);
	uint8_t bytes[16];
	uint32_t scope = 0;

	memset(a, 0, sizeof(*a));
	if (length == 0 || length >= sizeof(copy))
		return -1;
	memcpy(copy, text, length);
	copy[length] = '\0';
	if (!percent && inet_pton(AF_INET, copy, bytes) == 1) {
		a->family = AF_INET;
		memcpy(a->bytes, bytes, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, copy, bytes) != 1)
		return -1;
	ip_address_set_v6(a, bytes, 0);
	if (percent) {
		if (!ip_address_is_link_local(a) ||
		    parse_scope(percent + 1, &scope) < 0) {
			memset(a, 0, sizeof(*a));
			return -1;
		}
		a->scope = scope;
	}
	return 0;
}

socklen_t ip_endpoint_to_sockaddr(const struct ip_endpoint *e,
				  struct sockaddr_storage *storage)
{
	memset(storage, 0, sizeof(*storage));
	if (e->address.family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)storage;
		in->sin_family = AF_INET;
		in->sin_port = htons(e->port);
		memcpy(&in->sin_addr, e->address.bytes, 4);
		return sizeof(*in);
	}
	if (e->address.family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)storage;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(e->port);
		memcpy(&in6->sin6_addr, e->address.bytes, 16);
		in6->sin6_scope_id = e->address.scope;
		return sizeof(*in6);
	}
	return 0;
}

int ip_endpoint_from_sockaddr(const struct sockaddr *sa, socklen_t length,
			      struct ip_endpoint *e)
{
	memset(e, 0, sizeof(*e));
	if (sa->sa_family == AF_INET && length >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in in;
		memcpy(&in, sa, sizeof(in));
		e->address.family = AF_INET;
		memcpy(e->address.bytes, &in.sin_addr, 4);
		e->port = ntohs(in.sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 &&
	    length >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 in6;
		memcpy(&in6, sa, sizeof(in6));
		ip_address_set_v6(&e->address, in6.sin6_addr.s6_addr,
				  in6.sin6_scope_id);
		e->port = ntohs(in6.sin6_port);
		return 0;
	}
	return -1;
}
