/* ip_address.h - an IPv4 or IPv6 address, and an address with a port: the
 * one address type that passes between natpmp's modules. Sockets' own
 * structs stay inside the files that make system calls. */
#ifndef NATPMP_IP_ADDRESS_H
#define NATPMP_IP_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%" + an interface name */
#define IP_ADDRESS_TEXT_SIZE 64
/* "[" address "]:65535" */
#define IP_ENDPOINT_TEXT_SIZE (IP_ADDRESS_TEXT_SIZE + 8)

struct ip_address {
	int family;	   /* AF_INET, AF_INET6, or AF_UNSPEC for none */
	uint8_t bytes[16]; /* network byte order; the first 4 for AF_INET */
	uint32_t scope;	   /* interface index of an IPv6 link-local address */
};

struct ip_endpoint {
	struct ip_address address;
	uint16_t port;
};

void ip_address_set_v4(struct ip_address *address, uint32_t host_order);
/* The IPv4 address in host byte order (0 for another family). */
uint32_t ip_address_v4(const struct ip_address *address);
void ip_address_set_v6(struct ip_address *address, const uint8_t bytes[16],
		       uint32_t scope);

bool ip_address_is_set(const struct ip_address *address);
/* 0.0.0.0 or :: */
bool ip_address_is_unspecified(const struct ip_address *address);
bool ip_address_is_link_local(const struct ip_address *address);
/* Same family, bytes and (for link-local) scope. */
bool ip_address_equal(const struct ip_address *a, const struct ip_address *b);
bool ip_endpoint_equal(const struct ip_endpoint *a,
		       const struct ip_endpoint *b);

/* "192.0.2.1", "2001:db8::1", "fe80::1%eth0"; "?" when unset. */
const char *ip_address_format(const struct ip_address *address, char *text,
			      size_t size);
/* The address alone when port is default_port, else "192.0.2.1:5352" or
 * "[2001:db8::1]:5352". */
const char *ip_endpoint_format(const struct ip_endpoint *endpoint,
			       uint16_t default_port, char *text, size_t size);

/* Parses an IPv4 or IPv6 address (with "%scope" for link-local). Returns
 * 0, or -1 if text is neither. */
int ip_address_parse(const char *text, struct ip_address *address);

/* Conversions for the files that make socket calls. */
socklen_t ip_endpoint_to_sockaddr(const struct ip_endpoint *endpoint,
				  struct sockaddr_storage *storage);
/* Returns 0, or -1 when the family is neither IPv4 nor IPv6. */
int ip_endpoint_from_sockaddr(const struct sockaddr *sa, socklen_t length,
			      struct ip_endpoint *endpoint);

#endif
