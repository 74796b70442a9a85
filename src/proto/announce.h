/* announce.h - what the gateway says when it restarted or changed
 * address: a NAT-PMP address announcement (RFC 6886 section 3.2.1) or a
 * PCP ANNOUNCE (RFC 6887 section 14.1), multicast to port 5350 of
 * 224.0.0.1 or ff02::1. Decoded in either format whatever protocol natpmp
 * speaks: miniupnpd, for one, announces its restarts in PCP format only.
 * The socket that hears them is engine/listener.c's. */
#ifndef NATPMP_ANNOUNCE_H
#define NATPMP_ANNOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ip_address.h"
#include "core/port_mapping.h"

struct announcement {
	enum protocol_id format; /* the protocol whose format it came in */
	uint32_t epoch;
	/* NAT-PMP only: the external address, unset if 0.0.0.0 */
	struct ip_address external_address;
};

/* Decodes a datagram in either format; false (why says why) if it is
 * neither. Pure. */
bool announce_decode(const uint8_t *datagram, size_t length,
		     struct announcement *announcement, const char **why);

#endif
