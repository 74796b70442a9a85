/* announce.h - hear the gateway say it restarted or changed address: a
 * NAT-PMP address announcement (RFC 6886 section 3.2.1) or a PCP ANNOUNCE
 * (RFC 6887 section 14.1), multicast to port 5350 of 224.0.0.1 or ff02::1.
 * Heard in either format whatever protocol natpmp speaks: miniupnpd, for
 * one, announces its restarts in PCP format only. */
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

enum announce_status {
	ANNOUNCE_NONE,	  /* nothing more queued */
	ANNOUNCE_IGNORED, /* not from our gateway, or not an announcement */
	ANNOUNCE_HEARD,
};

/* Binds the all-hosts group of family on port 5350, shared with other
 * listeners on the host, and joins it on the interface (index) requests go
 * out on. Returns the descriptor (non-blocking), or -1 with errno. */
int announce_open(int family, unsigned interface);

/* Reads one queued datagram; HEARD fills *announcement when it is one,
 * from gateway. */
enum announce_status announce_receive(int fd, const struct ip_address *gateway,
				      struct announcement *announcement);

/* Decodes a datagram in either format; false (why says why) if it is
 * neither. Pure. */
bool announce_decode(const uint8_t *datagram, size_t length,
		     struct announcement *announcement, const char **why);

#endif
