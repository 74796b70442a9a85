/* address_class.c - special-purpose IPv4 ranges that the internet does not
 * route (IANA IPv4 Special-Purpose Address Registry, RFC 6890). */
#include "core/address_class.h"

#include <stddef.h>

struct range {
	uint32_t network;
	unsigned prefix;
	const char *name;
	bool behind_nat;
};

#define A(a, b, c, d)                                                          \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 |      \
	 (uint32_t)(d))

static const struct range ranges[] = {
	{ A(0, 0, 0, 0), 8, "this-network", false },
	{ A(10, 0, 0, 0), 8, "private", true },
	{ A(100, 64, 0, 0), 10, "shared (carrier-grade NAT)", true },
	{ A(127, 0, 0, 0), 8, "loopback", false },
	{ A(169, 254, 0, 0), 16, "link-local", false },
	{ A(172, 16, 0, 0), 12, "private", true },
	{ A(192, 0, 0, 0), 24, "IETF protocol assignments", false },
	{ A(192, 0, 2, 0), 24, "documentation", false },
	{ A(192, 168, 0, 0), 16, "private", true },
	{ A(198, 18, 0, 0), 15, "benchmarking", false },
	{ A(198, 51, 100, 0), 24, "documentation", false },
	{ A(203, 0, 113, 0), 24, "documentation", false },
	{ A(224, 0, 0, 0), 4, "multicast", false },
	{ A(240, 0, 0, 0), 4, "reserved", false },
};

struct address_class address_classify(uint32_t address)
{
	struct address_class class = { 0, false };
	size_t i;

	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		uint32_t mask = ~UINT32_C(0) << (32 - ranges[i].prefix);
		if ((address & mask) == ranges[i].network) {
			class.name = ranges[i].name;
			class.behind_nat = ranges[i].behind_nat;
			break;
		}
	}
	return class;
}
