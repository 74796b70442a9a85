/* address_class.h - is an external IPv4 address reachable from the
 * internet? Uses the IANA special-purpose address registry. */
#ifndef NATPMP_ADDRESS_CLASS_H
#define NATPMP_ADDRESS_CLASS_H

#include <stdbool.h>
#include <stdint.h>

struct address_class {
	const char *name; /* "private", "shared", ...; NULL: public */
	bool behind_nat;  /* private or shared: the gateway is double-NATed */
};

/* address in host byte order */
struct address_class address_classify(uint32_t address);

#endif
