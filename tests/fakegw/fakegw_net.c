/* fakegw_net.c - the fake gateway's addresses of either family: parsing
 * --bind and --announce-to, log text, and PCP's 16-byte address form. */
#include "fakegw.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>

#define TEXT_SLOTS 8 /* one log line names a few addresses at most */
#define TEXT_SIZE (INET6_ADDRSTRLEN + 8)

/* texts handed out in turn, so that one log line can hold several */
static char text_slots[TEXT_SLOTS][TEXT_SIZE];
static unsigned text_slot;

socklen_t endpoint_length(const union endpoint *e)
{
	return e->any.sa_family == AF_INET6 ? sizeof(e->v6) : sizeof(e->v4);
}

uint16_t endpoint_port(const union endpoint *e)
{
	return ntohs(e->any.sa_family == AF_INET6 ? e->v6.sin6_port
						  : e->v4.sin_port);
}

void endpoint_set_port(union endpoint *e, uint16_t port)
{
	if (e->any.sa_family == AF_INET6)
		e->v6.sin6_port = htons(port);
	else
		e->v4.sin_port = htons(port);
}

/* PCP carries every address in 16 bytes, IPv4 as ::ffff:a.b.c.d
 * (RFC 6887 section 5) */
void address_from_ipv4(uint32_t host_order, uint8_t address[16])
{
	memset(address, 0, 10);
	address[10] = 0xff;
	address[11] = 0xff;
	put32(address + 12, host_order);
}

bool address_is_ipv4(const uint8_t address[16])
{
	static const uint8_t mapped_prefix[12] = { 0, 0, 0, 0, 0,    0,
						   0, 0, 0, 0, 0xff, 0xff };

	return memcmp(address, mapped_prefix, sizeof(mapped_prefix)) == 0;
}

/* :: or ::ffff:0.0.0.0, a PCP client's "no preference" */
bool address_is_unspecified(const uint8_t address[16])
{
	static const uint8_t zeros[16];

	return memcmp(address, zeros, 16) == 0 ||
	       (address_is_ipv4(address) && get32(address + 12) == 0);
}

void endpoint_address(const union endpoint *e, uint8_t address[16])
{
	if (e->any.sa_family == AF_INET6)
		memcpy(address, e->v6.sin6_addr.s6_addr, 16);
	else
		address_from_ipv4(ntohl(e->v4.sin_addr.s_addr), address);
}

static char *next_slot(void)
{
	text_slot = (text_slot + 1) % TEXT_SLOTS;
	return text_slots[text_slot];
}

const char *ipv4_text(uint32_t host_order)
{
	struct in_addr a = { .s_addr = htonl(host_order) };
	char *text = next_slot();

	inet_ntop(AF_INET, &a, text, INET6_ADDRSTRLEN);
	return text;
}

/* IPv4-mapped addresses read as IPv4, as the log has always shown them */
const char *address_text(const uint8_t address[16])
{
	struct in6_addr a;
	char *text;

	if (address_is_ipv4(address))
		return ipv4_text(get32(address + 12));
	text = next_slot();
	memcpy(a.s6_addr, address, 16);
	inet_ntop(AF_INET6, &a, text, INET6_ADDRSTRLEN);
	return text;
}

/* "192.0.2.1:5351" or "[2001:db8::1]:5351"; no scope, to keep log
 * patterns simple */
const char *endpoint_text(const union endpoint *e)
{
	uint8_t address[16];
	char *text = next_slot();
	const char *host;

	endpoint_address(e, address);
	host = address_text(address);
	if (e->any.sa_family == AF_INET6)
		snprintf(text, TEXT_SIZE, "[%s]:%u", host,
			 (unsigned)endpoint_port(e));
	else
		snprintf(text, TEXT_SIZE, "%s:%u", host,
			 (unsigned)endpoint_port(e));
	return text;
}

static bool parse_scope(const char *scope, uint32_t *index)
{
	long number;

	*index = if_nametoindex(scope);
	if (*index == 0 && parse_number(scope, 1, 0x7fffffff, &number))
		*index = (uint32_t)number;
	return *index != 0;
}

/* "192.0.2.1", "2001:db8::1" or "fe80::1%veth0" (a scope by name or
 * index); the port is left as it was. */
bool parse_address(const char *text, union endpoint *out)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];
	uint16_t port = endpoint_port(out);
	union endpoint parsed;
	char *scope;

	memset(&parsed, 0, sizeof(parsed));
	if (strlen(text) >= sizeof(host))
		return false;
	memcpy(host, text, strlen(text) + 1);
	scope = strchr(host, '%');
	if (scope)
		*scope++ = '\0';
	if (!scope && inet_pton(AF_INET, host, &parsed.v4.sin_addr) == 1) {
		parsed.v4.sin_family = AF_INET;
	} else if (inet_pton(AF_INET6, host, &parsed.v6.sin6_addr) == 1) {
		parsed.v6.sin6_family = AF_INET6;
		if (scope && !parse_scope(scope, &parsed.v6.sin6_scope_id))
			return false;
	} else {
		return false;
	}
	*out = parsed;
	endpoint_set_port(out, port);
	return true;
}

/* "192.0.2.1:5350" or "[ff02::1]:5350" (brackets for IPv6, as in URLs) */
bool parse_endpoint(const char *text, union endpoint *out)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];
	const char *end =
		text[0] == '[' ? strchr(text, ']') : strchr(text, ':');
	const char *start = text[0] == '[' ? text + 1 : text;
	const char *port_text = end && *end == ']' ? end + 1 : end;
	union endpoint parsed;
	long port;

	memset(&parsed, 0, sizeof(parsed));
	if (!end || (size_t)(end - start) >= sizeof(host) ||
	    *port_text != ':' || !parse_number(port_text + 1, 1, 65535, &port))
		return false;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	if (!parse_address(host, &parsed) ||
	    (parsed.any.sa_family == AF_INET6) != (text[0] == '['))
		return false;
	*out = parsed;
	endpoint_set_port(out, (uint16_t)port);
	return true;
}

/* The interface of an IPv6 address, for multicast: its scope, else the
 * interface that holds it, else 0 (the kernel's routing decides). */
unsigned endpoint_interface(const union endpoint *e)
{
	struct ifaddrs *list, *i;
	unsigned index = 0;

	if (e->any.sa_family != AF_INET6)
		return 0;
	if (e->v6.sin6_scope_id)
		return e->v6.sin6_scope_id;
	if (getifaddrs(&list) < 0)
		return 0;
	for (i = list; i && index == 0; i = i->ifa_next) {
		union endpoint held;
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6)
			continue;
		memcpy(&held.v6, i->ifa_addr, sizeof(held.v6));
		if (memcmp(&held.v6.sin6_addr, &e->v6.sin6_addr, 16) == 0)
			index = if_nametoindex(i->ifa_name);
	}
	freeifaddrs(list);
	return index;
}
